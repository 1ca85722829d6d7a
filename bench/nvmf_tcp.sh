#!/usr/bin/env bash
# The NVMe-oF/TCP benchmark of docs/performance.md: pollux_tgt on one core serving a malloc
# namespace on 127.0.0.1:4420, nvme_perf (Pollux's NVMe/TCP host driver, SPDK perf's options)
# on another core; 4 KiB randread, then randwrite, at queue depth 64, each RUNS times; prints
# every result line, then the median IOPS and p50/p99 latency with the command lines used.
#
# Usage: bench/nvmf_tcp.sh [BUILD]   (builds pollux_tgt and nvme_perf there if needed)
# Environment: RUNS (3), TIME (10 s), QD (64), IO_SIZE (4096), WORKLOADS ("randread randwrite"),
#   MALLOC_MB (256), TGT_MASK (0x1), PERF_MASK (0x2), PERF_ARGS (extra, e.g. "-H -I" or "-P 2"),
#   TGT_ARGS (extra pollux_tgt arguments, e.g. --poll), CONFIG (rpc: configure with
#   scripts/rpc.py; json: start with a --json config), PORT (4420),
#   HOST (nvme_perf, or bdevperf: the same load through the nvme bdev, bdev_nvme_attach_controller,
#   to show what the bdev layer and the module cost on top of the driver).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUNS=${RUNS:-3}
TIME=${TIME:-10}
QD=${QD:-64}
IO_SIZE=${IO_SIZE:-4096}
WORKLOADS=${WORKLOADS:-randread randwrite}
MALLOC_MB=${MALLOC_MB:-256}
TGT_MASK=${TGT_MASK:-0x1}
PERF_MASK=${PERF_MASK:-0x2}
PERF_ARGS=${PERF_ARGS:-}
TGT_ARGS=${TGT_ARGS:-}
CONFIG=${CONFIG:-rpc}
PORT=${PORT:-4420}
HOST=${HOST:-nvme_perf}
NQN=nqn.2016-06.io.pollux:cnode1
TGT=$BUILD/app/pollux_tgt/pollux_tgt
PERF=$BUILD/app/nvme_perf/nvme_perf
BDEVPERF=$BUILD/app/bdevperf/bdevperf

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" >/dev/null
fi
ninja -C "$BUILD" app/pollux_tgt/pollux_tgt app/nvme_perf/nvme_perf app/bdevperf/bdevperf >/dev/null

TMP=$(mktemp -d)
SOCK=$TMP/rpc.sock
tgt_pid=
stop_target() {
	if [ -n "$tgt_pid" ] && kill -0 "$tgt_pid" 2>/dev/null; then
		kill -TERM "$tgt_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$tgt_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$tgt_pid" 2>/dev/null || true
		wait "$tgt_pid" 2>/dev/null || true
	fi
	tgt_pid=
}
trap 'stop_target; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

rpc() { scripts/rpc.py -s "$SOCK" -t 30 "$@" >/dev/null; }

# The same configuration both ways; SPDK's nvmf_tgt defaults for the TCP transport.
cat >"$TMP/nvmf.json" <<JSON
{"subsystems":[
 {"subsystem":"bdev","config":[
  {"method":"bdev_malloc_create","params":{"name":"Malloc0","num_blocks":$((MALLOC_MB * 256)),"block_size":4096}}]},
 {"subsystem":"nvmf","config":[
  {"method":"nvmf_create_transport","params":{"trtype":"TCP","max_queue_depth":128,"in_capsule_data_size":4096,"max_io_size":131072,"c2h_success":true}},
  {"method":"nvmf_create_subsystem","params":{"nqn":"$NQN","allow_any_host":true,"serial_number":"POLLUX0001","model_number":"Pollux bench"}},
  {"method":"nvmf_subsystem_add_ns","params":{"nqn":"$NQN","namespace":{"bdev_name":"Malloc0","nsid":1}}},
  {"method":"nvmf_subsystem_add_listener","params":{"nqn":"$NQN","listen_address":{"trtype":"TCP","adrfam":"IPv4","traddr":"127.0.0.1","trsvcid":"$PORT"}}}]}]}
JSON
cat >"$TMP/host.json" <<JSON
{"subsystems":[{"subsystem":"bdev","config":[
  {"method":"bdev_nvme_attach_controller","params":{"name":"Nvme0","trtype":"TCP","adrfam":"IPv4","traddr":"127.0.0.1","trsvcid":"$PORT","subnqn":"$NQN"}}]}]}
JSON
RPC_CMDS="bdev_malloc_create -b Malloc0 $MALLOC_MB 4096
nvmf_create_transport -t TCP -q 128 -c 4096 -i 131072
nvmf_create_subsystem $NQN -a -s POLLUX0001 -d Pollux_bench
nvmf_subsystem_add_ns $NQN Malloc0 -n 1
nvmf_subsystem_add_listener $NQN -t tcp -a 127.0.0.1 -s $PORT -f ipv4"

start_target() {
	# shellcheck disable=SC2206
	local args=(-m "$TGT_MASK" -r "$SOCK" $TGT_ARGS)
	[ "$CONFIG" = json ] && args+=(--json "$TMP/nvmf.json")
	"$TGT" "${args[@]}" >"$TMP/tgt.out" 2>"$TMP/tgt.err" &
	tgt_pid=$!
	for _ in $(seq 100); do
		grep -q ready "$TMP/tgt.out" 2>/dev/null && break
		kill -0 "$tgt_pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q ready "$TMP/tgt.out" 2>/dev/null; then
		echo "pollux_tgt did not start:" >&2
		cat "$TMP/tgt.out" "$TMP/tgt.err" >&2
		exit 1
	fi
	if [ "$CONFIG" = rpc ]; then
		while read -r line; do
			# shellcheck disable=SC2086
			rpc $line || { echo "rpc.py $line failed" >&2; cat "$TMP/tgt.err" >&2; exit 1; }
		done <<<"$RPC_CMDS"
	fi
}

# Cores used by everything but the target over one second: other work on these two cores
# makes the figures meaningless, so say so next to them.
other_load() {
	local hz t0 t1 p0 p1
	hz=$(getconf CLK_TCK)
	t0=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat)
	p0=$(awk '{ print $14 + $15 }' "/proc/$tgt_pid/stat")
	sleep 1
	t1=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat)
	p1=$(awk '{ print $14 + $15 }' "/proc/$tgt_pid/stat")
	awk -v b=$((t1 - t0 - (p1 - p0))) -v hz="$hz" 'BEGIN { printf "%.2f", b / hz }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

start_target
echo "== target: $TGT -m $TGT_MASK -r SOCK${TGT_ARGS:+ $TGT_ARGS}$([ "$CONFIG" = json ] && echo " --json CONFIG")"
if [ "$CONFIG" = rpc ]; then
	sed 's/^/   scripts\/rpc.py -s SOCK /' <<<"$RPC_CMDS"
else
	sed 's/^/   /' "$TMP/nvmf.json"
fi
echo "   ($(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); kernel $(uname -r))"
echo

summary=()
for w in $WORKLOADS; do
	# shellcheck disable=SC2206
	if [ "$HOST" = bdevperf ]; then
		# shellcheck disable=SC2206
		cmd=("$BDEVPERF" -m "$PERF_MASK" --json HOSTCONF -q "$QD" -o "$IO_SIZE" -w "$w" -t "$TIME" $PERF_ARGS)
		echo "== $w: ${cmd[*]}"
		sed 's/^/   HOSTCONF: /' "$TMP/host.json"
		cmd[4]=$TMP/host.json
	else
		# shellcheck disable=SC2206
		cmd=("$PERF" -r "trtype:tcp adrfam:IPv4 traddr:127.0.0.1 trsvcid:$PORT subnqn:$NQN"
			-q "$QD" -o "$IO_SIZE" -w "$w" -t "$TIME" -L -c "$PERF_MASK" $PERF_ARGS)
		echo "== $w: ${cmd[0]} -r '${cmd[2]}' ${cmd[*]:3}"
	fi
	other=$(other_load)
	if awk -v o="$other" 'BEGIN { exit !(o > 0.1) }'; then
		echo "   WARNING: other processes used $other cores just before: figures from a busy machine"
	fi
	iops=() p50=() p99=()
	for i in $(seq "$RUNS"); do
		if ! "${cmd[@]}" >"$TMP/perf.out" 2>"$TMP/perf.err"; then
			echo "run $i failed:" >&2
			cat "$TMP/perf.out" "$TMP/perf.err" >&2
			echo "target log:" >&2
			tail -20 "$TMP/tgt.err" >&2
			exit 1
		fi
		total=$(grep '^Total' "$TMP/perf.out")
		if [ "$HOST" = bdevperf ]; then
			# Total : IOPS MiB/s Fail/s TO/s Average min max (bdevperf prints no percentiles)
			a=$(echo "$total" | awk '{ print $3 }')
			printf '  run %d: %9.0f IOPS %8.2f MiB/s  avg %8.2f us  fail/s %s\n' "$i" "$a" \
				"$(echo "$total" | awk '{ print $4 }')" "$(echo "$total" | awk '{ print $7 }')" \
				"$(echo "$total" | awk '{ print $5 }')"
			iops+=("$a") p50+=(0) p99+=(0)
			continue
		fi
		a=$(echo "$total" | awk '{ print $3 }')
		b=$(awk '$1 == "50.00000%" { sub("us", "", $3); print $3 }' "$TMP/perf.out")
		c=$(awk '$1 == "99.00000%" { sub("us", "", $3); print $3 }' "$TMP/perf.out")
		busy=$(awk '/initiator busy/ { for (i = 1; i < NF; i++) if ($i == "busy") print $(i + 1) }' "$TMP/perf.out")
		printf '  run %d: %9.0f IOPS %8.2f MiB/s  avg %8.2f us  p50 %8.2f us  p99 %8.2f us  initiator busy %s\n' \
			"$i" "$a" "$(echo "$total" | awk '{ print $4 }')" "$(echo "$total" | awk '{ print $5 }')" "$b" "$c" "$busy"
		iops+=("$a") p50+=("$b") p99+=("$c")
	done
	m_iops=$(printf '%s\n' "${iops[@]}" | median)
	m_p50=$(printf '%s\n' "${p50[@]}" | median)
	m_p99=$(printf '%s\n' "${p99[@]}" | median)
	line=$(printf '| 4 KiB %s QD %s | %.0f | %.1f | %.1f |' "$w" "$QD" "$m_iops" "$m_p50" "$m_p99")
	[ "$IO_SIZE" != 4096 ] && line=${line/4 KiB/$IO_SIZE B}
	printf '%s median of %s: %.0f IOPS, p50 %.1f us, p99 %.1f us\n' "$w" "$RUNS" "$m_iops" "$m_p50" "$m_p99"
	echo
	summary+=("$line")
done

echo "== for docs/performance.md (medians of $RUNS runs of ${TIME} s; target on mask $TGT_MASK, initiator on $PERF_MASK)"
echo "| workload | IOPS | p50 (us) | p99 (us) |"
echo "|---|---|---|---|"
printf '%s\n' "${summary[@]}"
stop_target
