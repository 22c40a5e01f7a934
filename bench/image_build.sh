#!/bin/sh
# Time to Ready of examples/lamp's database node with and without a built
# image (docs/images.md), interleaved in one run on the local cloud.
#
#   bench/image_build.sh [BUILD_DIR] [ROUNDS]
#
# The image is built once (`slipway image build examples/lamp/db`); each
# round then deploys a copy of the module that has no build (so it runs
# pre-install, apt-get update and the MariaDB install) and the module
# itself (which boots the build and runs only its deployment script),
# alternating which goes first. Target (issue 16): at least 5x faster to
# Ready with the built image. Needs root and Debian's archive.
set -eu
build=$(realpath "${1:-build}")
rounds=${2:-3}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/slipway-bench-XXXXXX)
bridge=slwbenchimg0
. "$src/bench/controller.sh"

start_controller 'tcp://127.0.0.1:*' <<CONFIG
clouds:
  local: {bridge: $bridge, subnet: 10.213.251.0/24}
CONFIG

slipway module push "$src/examples/lamp" >/dev/null
sed 's|^name: examples/lamp/db$|name: bench/lamp-db-unbuilt|' "$src/examples/lamp/db.yaml" \
  >"$work/unbuilt.yaml"
slipway module push "$work/unbuilt.yaml" >/dev/null

t0=$(now_ms)
slipway image build examples/lamp/db --wait 2>"$work/build.log" >/dev/null ||
  { cat "$work/build.log" >&2; exit 1; }
build_ms=$(($(now_ms) - t0))
size=$(slipway --json image list examples/lamp/db | sed -n 's/.*"size_bytes": *\([0-9]*\).*/\1/p')

# Deploys MODULE, waits for Ready, terminates; prints milliseconds to Ready.
deploy_ms() {
  start=$(now_ms)
  id=$(slipway deploy "$1" --wait 2>"$work/deploy.log") || { cat "$work/deploy.log" >&2; exit 1; }
  ms=$(($(now_ms) - start))
  slipway terminate "$id" >/dev/null
  slipway wait "$id" --state Done >/dev/null 2>&1 || true
  echo "$ms"
}

echo "image build examples/lamp/db: ${build_ms} ms, ${size} bytes"
without=""
with=""
for round in $(seq "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then
    a=$(deploy_ms bench/lamp-db-unbuilt); b=$(deploy_ms examples/lamp/db)
  else
    b=$(deploy_ms examples/lamp/db); a=$(deploy_ms bench/lamp-db-unbuilt)
  fi
  echo "round $round: to Ready without a build ${a} ms, with the built image ${b} ms"
  without="$without $a"
  with="$with $b"
done
mw=$(median $without)
mb=$(median $with)
awk -v a="$mw" -v b="$mb" 'BEGIN {
  printf "median to Ready: without %d ms, with %d ms: %.1fx faster with the built image (target >= 5x)\n", a, b, a / b
  exit !(a >= 5 * b) }'
