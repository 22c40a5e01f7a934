# The Debian packages Slipway builds against (scripts/setup installs them).

find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(ZMQ REQUIRED IMPORTED_TARGET libzmq>=4.3)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium>=1.0.18)
pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3>=3.35)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_path(CPPZMQ_INCLUDE_DIR zmq.hpp REQUIRED)
find_path(MSGPACK_INCLUDE_DIR msgpack.hpp REQUIRED)

# msgpack-c without Boost, so the static agent stays small.
add_library(slipway_msgpack INTERFACE)
target_include_directories(slipway_msgpack SYSTEM INTERFACE ${MSGPACK_INCLUDE_DIR} ${CPPZMQ_INCLUDE_DIR})
target_compile_definitions(slipway_msgpack INTERFACE MSGPACK_NO_BOOST MSGPACK_DEFAULT_API_VERSION=3)

if(SLIPWAY_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
  include(Catch)
endif()
