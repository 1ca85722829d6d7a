#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The uring bdev under bdevperf next to fio's io_uring engine, same file, same settings:
# 4 KiB random reads at queue depth 32 on one core, O_DIRECT, on a 1 GiB file in /tmp.
# Prints every run and the median IOPS of each.
#
#   bench/uring_vs_fio.sh [BUILD_DIR] [RUNS] [SECONDS]
#
# Environment: FILE (default /tmp/pollux-uring-bench.img, kept between invocations),
# CORE (default 1: the CPU both tools are pinned to).
set -euo pipefail

BUILD=${1:-build}
RUNS=${2:-5}
SECS=${3:-10}
FILE=${FILE:-/tmp/pollux-uring-bench.img}
CORE=${CORE:-1}
BDEVPERF=$BUILD/app/bdevperf/bdevperf
SIZE_MIB=1024

command -v fio >/dev/null || { echo "fio is not installed (apt-get install fio)" >&2; exit 1; }
[ -x "$BDEVPERF" ] || { echo "$BDEVPERF is not built" >&2; exit 1; }

# Real data blocks, not a sparse file: reading holes would not touch the disk.
if [ ! -f "$FILE" ] || [ "$(stat -c %s "$FILE")" -ne $((SIZE_MIB * 1024 * 1024)) ]; then
	echo "writing $FILE ($SIZE_MIB MiB)..."
	dd if=/dev/urandom of="$FILE" bs=1M count=$SIZE_MIB oflag=direct status=none
fi

CONF=$(mktemp /tmp/pollux-uring-bench.XXXXXX.json)
trap 'rm -f "$CONF"' EXIT
cat >"$CONF" <<EOF
{"subsystems": [{"subsystem": "bdev", "config": [
  {"method": "bdev_uring_create", "params": {"name": "Uring0", "filename": "$FILE"}}
]}]}
EOF

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

BP_CMD=("$BDEVPERF" --json "$CONF" -m "$(printf 0x%x $((1 << CORE)))" -q 32 -o 4096 -w randread -t "$SECS")
FIO_CMD=(taskset -c "$CORE" fio --name=randread --filename="$FILE" --ioengine=io_uring
	--direct=1 --rw=randread --bs=4k --iodepth=32 --numjobs=1 --size=${SIZE_MIB}M
	--time_based --runtime="$SECS" --norandommap --randrepeat=0 --output-format=json)
echo "bdevperf: ${BP_CMD[*]}"
echo "fio:      ${FIO_CMD[*]}"

bp=() fio=()
for i in $(seq "$RUNS"); do
	# Alternate the tools so drift in the host's disk cache hits both alike.
	v=$("${BP_CMD[@]}" 2>/dev/null | awk '$1 == "Total" {print int($3)}')
	bp+=("$v")
	f=$("${FIO_CMD[@]}" 2>/dev/null |
		python3 -c 'import json,sys; print(int(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))')
	fio+=("$f")
	echo "run $i: bdevperf uring $v IOPS, fio io_uring $f IOPS"
done
echo "median over $RUNS runs of ${SECS}s: bdevperf uring $(printf '%s\n' "${bp[@]}" | median) IOPS," \
	"fio io_uring $(printf '%s\n' "${fio[@]}" | median) IOPS"
