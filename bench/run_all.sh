#!/usr/bin/env bash
# Run every benchmark RUNS times (default 5) and print each result line plus the median.
# Usage: bench/run_all.sh [BUILD]. Figures go into docs/performance.md by hand, with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUNS=${RUNS:-5}
TB=$BUILD/bench/thread_bench

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run() { # name, awk field extracting the figure, command...
	local name=$1 field=$2
	shift 2
	local vals=()
	for _ in $(seq "$RUNS"); do
		line=$("$@" 2>/dev/null | tail -1)
		echo "  $line"
		vals+=("$(echo "$line" | awk "{ print $field }")")
	done
	printf '%s median: %s\n\n' "$name" "$(printf '%s\n' "${vals[@]}" | median)"
}

echo "== messages between two reactors (M messages/s): $TB msg -t 3"
run msg '$(NF-2)' "$TB" msg -t 3
echo "== poller call cost (ns per poller call): $TB poller"
run poller '$7' "$TB" poller
echo "== wake-up latency from sleep (median us): $TB wakeup -t 3"
run wakeup '$5' "$TB" wakeup -t 3
echo "== the OS floor for that: bare eventfd + epoll_wait ping (median us): $TB oswake -t 3"
run oswake '$5' "$TB" oswake -t 3
echo "== idle pollux_tgt CPU (% of one core over 10 s): bench/idle_cpu.sh $BUILD 10"
RUNS=3 run idle_cpu '$2 + 0' bench/idle_cpu.sh "$BUILD" 10
echo "== NVMe-oF/TCP: pollux_tgt on core 0, nvme_perf on core 1, 4 KiB QD64 randread and randwrite: bench/nvmf_tcp.sh $BUILD"
RUNS=${NVMF_RUNS:-3} bench/nvmf_tcp.sh "$BUILD"
