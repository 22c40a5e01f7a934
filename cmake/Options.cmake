# All of Slipway's build options and compiler flags, in one place.

option(SLIPWAY_BUILD_TESTS "Build the Catch2 test suites" ON)
option(SLIPWAY_BUILD_BENCH "Build the benchmarks under bench/" ON)
option(SLIPWAY_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(SLIPWAY_FUZZ "Build fuzz targets with libFuzzer (needs clang)" OFF)
option(SLIPWAY_THREAD_SAFETY "Clang only: -Wthread-safety as errors (scripts/test --clang)" OFF)
option(SLIPWAY_STATIC_AGENT "Link slipway-agent fully static (libsodium and the C library only)" ON)

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

# Warnings on and clean; hardening on by default (as Mosh does).
add_compile_options(-Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
add_compile_options(-fstack-protector-strong)
if(NOT SLIPWAY_SANITIZE)
  add_compile_definitions($<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
endif()
add_link_options(-Wl,-z,relro -Wl,-z,now)

if(SLIPWAY_SANITIZE)
  set(_slipway_san -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_compile_options(${_slipway_san})
  # GCC 12 reports false maybe-uninitialized warnings inside libstdc++
  # (std::regex, std::variant) when instrumenting; only in this build.
  add_compile_options(-Wno-maybe-uninitialized)
  add_link_options(${_slipway_san})
  # A static binary cannot carry ASan; the agent is built dynamic in this mode.
  set(SLIPWAY_STATIC_AGENT OFF CACHE BOOL "" FORCE)
endif()

if(SLIPWAY_THREAD_SAFETY)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SLIPWAY_THREAD_SAFETY needs clang: cmake -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
  endif()
  # Every lock is a slipway::Mutex (common/mutex.h), which the analysis knows;
  # beta: guarded members read through a lambda and scoped locks in loops.
  add_compile_options(-Wthread-safety -Wthread-safety-beta -Werror=thread-safety
                      -Werror=thread-safety-beta)
endif()

if(SLIPWAY_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "SLIPWAY_FUZZ needs clang: cmake -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
endif()

# Where programs look for their siblings once installed. These paths are
# compiled in, and the Debian packages (packaging/) are made from the install
# rules, so the prefix defaults to Debian's /usr rather than /usr/local.
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix" FORCE)
endif()
include(GNUInstallDirs)
set(SLIPWAY_LIBEXEC_DIR "${CMAKE_INSTALL_FULL_LIBEXECDIR}/slipway")
set(SLIPWAY_DATA_DIR "${CMAKE_INSTALL_FULL_DATADIR}/slipway")
