#!/usr/bin/env bash
# CPU used by an idle pollux_tgt: start it, let it settle, then read its user+system time
# over SECONDS seconds from /proc. Usage: bench/idle_cpu.sh [BUILD] [SECONDS] [extra tgt args]
set -euo pipefail
BUILD=${1:-build}
SECS=${2:-10}
shift 2 2>/dev/null || shift $#
dir=$(mktemp -d)
sock=$dir/rpc.sock
"$BUILD/app/pollux_tgt/pollux_tgt" -m 0x3 -r "$sock" "$@" >"$dir/out" 2>"$dir/err" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q ready "$dir/out" && break; sleep 0.1; done
sleep 1
hz=$(getconf CLK_TCK)
t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
sleep "$SECS"
t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$SECS" \
	'BEGIN { printf "idle_cpu: %.3f%% of one core over %d s (2 reactors)\n", (b - a) / hz / s * 100, s }'
