#!/bin/sh
# Fetch and unpack Debian's zeromq3 source package: fetch-zeromq-source.sh VERSION DIR
set -eu
version=$1
dir=$2
mkdir -p "$dir"
cd "$dir"
if ls zeromq3-*/CMakeLists.txt >/dev/null 2>&1; then
  exit 0
fi
# dpkg-source will not unpack over a directory that exists, even empty.
rm -rf zeromq3-*/
if ! apt-get source -qq --only-source "zeromq3=$version" >fetch.log 2>&1 ||
   ! ls zeromq3-*/CMakeLists.txt >/dev/null 2>&1; then
  cat fetch.log >&2
  echo "error: could not fetch Debian's zeromq3 $version source; run scripts/setup (it adds the bookworm deb-src entry) or pass -DSLIPWAY_ZMQ_SOURCE_DIR=<unpacked tree>" >&2
  exit 1
fi
