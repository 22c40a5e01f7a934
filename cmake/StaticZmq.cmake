# libzmq for the fully static agent.
#
# Debian's libzmq.a pulls in GSSAPI, PGM and NORM, which cannot be linked
# statically, so the agent gets its own libzmq built from Debian's zeromq3
# source package with CURVE (through libsodium) and nothing else. It is built
# once and cached in the build tree (_deps/zeromq).

if(NOT SLIPWAY_STATIC_AGENT)
  return()
endif()

include(ExternalProject)
string(REGEX REPLACE "-[^-]+$" "" _zmq_upstream "${SLIPWAY_ZMQ_SOURCE_VERSION}")
set(_zmq_root ${CMAKE_BINARY_DIR}/_deps/zeromq)
set(SLIPWAY_ZMQ_SOURCE_DIR "" CACHE PATH
    "An unpacked zeromq3 source tree to use instead of 'apt-get source'")

if(SLIPWAY_ZMQ_SOURCE_DIR)
  set(_zmq_download DOWNLOAD_COMMAND "")
  set(_zmq_src ${SLIPWAY_ZMQ_SOURCE_DIR})
else()
  set(_zmq_download
      DOWNLOAD_COMMAND ${CMAKE_CURRENT_LIST_DIR}/fetch-zeromq-source.sh
                       ${SLIPWAY_ZMQ_SOURCE_VERSION} <DOWNLOAD_DIR>)
  set(_zmq_src ${_zmq_root}/download/zeromq3-${_zmq_upstream})
endif()

set(_zmq_flags "-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables")
ExternalProject_Add(zeromq_static
  PREFIX ${_zmq_root}
  DOWNLOAD_DIR ${_zmq_root}/download
  ${_zmq_download}
  SOURCE_DIR ${_zmq_src}
  INSTALL_DIR ${_zmq_root}/install
  CMAKE_ARGS
    -DCMAKE_INSTALL_PREFIX=<INSTALL_DIR>
    -DCMAKE_INSTALL_LIBDIR=lib
    -DCMAKE_BUILD_TYPE=MinSizeRel
    -DCMAKE_C_FLAGS=${_zmq_flags}
    -DCMAKE_CXX_FLAGS=${_zmq_flags}
    -DBUILD_SHARED=OFF -DBUILD_STATIC=ON -DBUILD_TESTS=OFF
    -DWITH_LIBSODIUM=ON -DWITH_LIBSODIUM_STATIC=ON -DENABLE_CURVE=ON
    -DWITH_LIBBSD=OFF -DWITH_OPENPGM=OFF -DWITH_NORM=OFF -DWITH_VMCI=OFF
    -DENABLE_DRAFTS=OFF -DENABLE_WS=OFF -DWITH_DOCS=OFF -DWITH_PERF_TOOL=OFF
    -DENABLE_CPACK=OFF -DPOLLER=epoll
  BUILD_BYPRODUCTS ${_zmq_root}/install/lib/libzmq.a
  UPDATE_COMMAND ""
  LOG_DOWNLOAD ON LOG_CONFIGURE ON LOG_BUILD ON LOG_INSTALL ON
  LOG_OUTPUT_ON_FAILURE ON)

file(MAKE_DIRECTORY ${_zmq_root}/install/include)
add_library(slipway_zmq_static STATIC IMPORTED GLOBAL)
set_target_properties(slipway_zmq_static PROPERTIES
  IMPORTED_LOCATION ${_zmq_root}/install/lib/libzmq.a
  INTERFACE_INCLUDE_DIRECTORIES ${_zmq_root}/install/include)
add_dependencies(slipway_zmq_static zeromq_static)
