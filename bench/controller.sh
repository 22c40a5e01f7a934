# Sourced by the benchmarks that run a slipwayd of their own: set `build`,
# `work` and `bridge` first, source this, then call start_controller with
# the configuration on standard input and the agent endpoint as $1. On exit
# the controller stops, and its bridge, NAT table and `work` are removed.
slipway() { "$build/cli/slipway" --socket "$work/control.sock" "$@"; }
now_ms() { date +%s%3N; }
# The median of its arguments (numbers).
median() { echo "$@" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

cleanup() {
  kill "${controller_pid:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  # slipwayd keeps its local cloud's bridge when it exits (machines outlive
  # it); this one is the benchmark's own.
  nft delete table ip "slipway-$bridge" 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
  rm -rf "$work"
}

trap cleanup EXIT INT TERM

start_controller() {
  cat >"$work/slipway.yaml"
  "$build/controller/slipwayd" --config "$work/slipway.yaml" --data-dir "$work/data" \
    --control-socket "$work/control.sock" --agent-endpoint "$1" --log-level warn \
    2>"$work/slipwayd.log" &
  controller_pid=$!
  for _ in $(seq 100); do slipway status >/dev/null 2>&1 && break; sleep 0.1; done
}
