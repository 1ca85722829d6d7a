#!/usr/bin/env bash
# The bdev benchmarks of docs/performance.md: each run RUNS times (default 5), every result
# printed, then the median IOPS. One core (-m 0x1), 4 KiB I/O.
#   null randread QD128; malloc randread QD32; malloc randwrite QD32
# Usage: bench/bdevperf.sh [BUILD]; RUNS=N, SECS=N override the repeat count and run time,
# MALLOC_MB=N the malloc bdev's size (default 128: its memcpy then runs from DRAM, not cache,
# and that size decides the malloc figures more than anything in Pollux does).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUNS=${RUNS:-5}
SECS=${SECS:-5}
MALLOC_MB=${MALLOC_MB:-128}
BP=$BUILD/app/bdevperf/bdevperf
[ -x "$BP" ] || { echo "bdevperf is not built: $BP" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cat >"$TMP/null.json" <<'JSON'
{"subsystems":[{"subsystem":"bdev","config":[
 {"method":"bdev_null_create","params":{"name":"Null0","num_blocks":262144,"block_size":4096}}]}]}
JSON
cat >"$TMP/malloc.json" <<JSON
{"subsystems":[{"subsystem":"bdev","config":[
 {"method":"bdev_malloc_create","params":{"name":"Malloc0","num_blocks":$((MALLOC_MB * 256)),"block_size":4096}}]}]}
JSON

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run() { # name, config, bdevperf arguments...
	local name=$1 conf=$2
	shift 2
	local vals=() total
	echo "== $name: $BP --json $conf $*"
	echo "   ($conf: $(tr -d '\n' <"$TMP/$conf" | grep -o '"method":"bdev_[a-z]*_create","params":{[^}]*}'))"
	for _ in $(seq "$RUNS"); do
		total=$("$BP" --json "$TMP/$conf" "$@" 2>/dev/null | grep '^Total')
		echo "  $total"
		vals+=("$(echo "$total" | awk '{ print $3 }')")
	done
	local m
	m=$(printf '%s\n' "${vals[@]}" | median)
	printf '%s median: %.0f IOPS (%.1f ns per I/O)\n\n' "$name" "$m" "$(echo "$m" | awk '{ print 1e9 / $1 }')"
}

run "null randread QD128 4k" null.json -m 0x1 -q 128 -o 4k -w randread -t "$SECS"
run "malloc ${MALLOC_MB} MiB randread QD32 4k" malloc.json -m 0x1 -q 32 -o 4k -w randread -t "$SECS"
run "malloc ${MALLOC_MB} MiB randwrite QD32 4k" malloc.json -m 0x1 -q 32 -o 4k -w randwrite -t "$SECS"
