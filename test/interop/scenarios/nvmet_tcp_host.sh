# SPDX-License-Identifier: BSD-3-Clause
# Scenario 2: host programs against the guest kernel's nvmet-tcp target, through the
# forwarded 127.0.0.1:PORT_NVMF. First tools/nvme_tcp_probe.py: a raw ICReq/ICResp, a
# Fabrics Connect on the admin queue and a Property Get of VS. Then Pollux's own NVMe/TCP
# initiator (lib/nvme) from $POLLUX_BUILD: hello_nvme, nvme_identify and nvme_perf with
# verification, with and without header/data digests (nvmet-tcp turns them on for a queue
# whenever the host's ICReq asks), and bdevperf verify on the nvme bdev (module/bdev/nvme)
# attached to the same subsystem, digests off and on (and 128 KiB I/O with digests).
DESCRIPTION="host NVMe/TCP (raw probe, Pollux hello_nvme/nvme_identify/nvme_perf/bdevperf) -> guest kernel nvmet-tcp"
TIMEOUT=480
REQUIRES="python3"
HOST_PORTS="NVMF"
HOSTFWD="NVMF:4420"
NQN=nqn.2024-01.io.pollux:interop-host
# The namespace: a tmpfs file, 4 KiB blocks (nvmet takes the file's block size).
NS_BYTES=67108864
GUEST_ENV="NQN=$NQN NS_BYTES=$NS_BYTES"
# Per Pollux tool: a TCG guest's target is slow, nvme_perf and bdevperf run 3 s. The guest
# waits 330 s for all eight (8 x 40 s at worst), within TIMEOUT with boot and the probe.
TOOL_TIMEOUT=40

guest_main() {
	truncate -s "$NS_BYTES" /tmp/ns1.img
	check nvmet_tcp_target nvmet_tcp_target "$NQN" 4420 /tmp/ns1.img || return 1
	tell_host target-ready
	if ! wait_host probe-done 90; then
		not_ok nvmet_host_probe "the host side never finished"
		return 1
	fi
	# The target saw the host's Connect: the kernel logs the controller it created for it.
	check nvmet_saw_host_connect sh -c \
		"dmesg | grep -q 'creating .*controller .* for subsystem $NQN for NQN nqn.2024-01.io.pollux:host-probe'"
	if ! wait_host pollux-done 330; then
		not_ok nvmet_pollux_tools_finished "the host's Pollux tools did not finish in 330 s"
		guest_nvmet_dmesg
		return 1
	fi
	guest_nvmet_dmesg
	if [ ! -e /xfer/host-pollux-ran ]; then
		skip nvmet_saw_pollux_connect "no Pollux tool built in POLLUX_BUILD"
		return 0
	fi
	check nvmet_saw_pollux_connect sh -c "dmesg | grep 'creating .*controller .* for subsystem $NQN' |
		grep -v 'for NQN nqn.2024-01.io.pollux:host-probe' | grep -q ."
	check nvmet_no_digest_errors sh -c "! dmesg | grep -i 'digest error'"
}

# The target's side of the story, for the log and for $RUN/xfer after a failure.
guest_nvmet_dmesg() {
	dmesg | grep -i 'nvme' >/xfer/guest-nvmet-dmesg.txt
	echo "nvmet kernel log (last 15 of $(wc -l </xfer/guest-nvmet-dmesg.txt) lines):"
	tail -n 15 /xfer/guest-nvmet-dmesg.txt | sed 's/^/    /'
}

# host_tool NAME VALIDATOR BIN ARGS...: run one Pollux tool against the guest's target with a
# bounded time, show its output (kept in $RUN/NAME.log), pass when it exits 0 and VALIDATOR
# LOG prints nothing and succeeds. Skipped while $POLLUX_BUILD does not have the tool.
host_tool() {
	local name=$1 validate=$2 bin=$3 log=$RUN/$1.log rc why
	shift 3
	if [ ! -x "$bin" ]; then
		skip "$name" "$bin not built (POLLUX_BUILD)"
		return 0
	fi
	tell_guest pollux-ran
	timeout -k 5 "$TOOL_TIMEOUT" "$bin" "$@" </dev/null >"$log" 2>&1
	rc=$?
	sed "s/^/$LOG_PREFIX    /" "$log"
	if [ $rc -ne 0 ]; then
		not_ok "$name" "'${bin##*/} $*' exited $rc"
		return 1
	fi
	if ! why=$("$validate" "$log"); then
		not_ok "$name" "$why"
		return 1
	fi
	ok "$name"
}

host_hello_ok() {
	grep -q 'Hello world!' "$1" && return 0
	echo "no 'Hello world!' read back"
	return 1
}

host_identify_ok() {
	local why=
	grep -Eq "^Subsystem NQN: +$NQN\$" "$1" || why="no 'Subsystem NQN: $NQN'"
	grep -q '^Namespace ID:1$' "$1" || why="$why${why:+; }no 'Namespace ID:1'"
	grep -Eq "^Size \(NSZE\): .* $NS_BYTES bytes" "$1" ||
		why="$why${why:+; }namespace 1 is not $NS_BYTES bytes"
	[ -z "$why" ] || { echo "$why"; return 1; }
}

# nvme_perf -V: a Total row with non-zero IOPS and "Verify: N blocks checked, 0 errors";
# with MIN_CHECKED=1 (reads after the randwrite) N must be non-zero too.
host_perf_ok() {
	awk -v min="${MIN_CHECKED:-0}" '
		/^Total +:/ { total = 1; iops = $3 + 0 }
		/^Verify: / { verify = 1; checked = $2 + 0; errors = $5 + 0 }
		END {
			if (!total) { print "no Total row"; exit 1 }
			if (iops <= 0) { print "Total IOPS is " iops; exit 1 }
			if (!verify) { print "no Verify line"; exit 1 }
			if (errors != 0) { print errors " verify errors"; exit 1 }
			if (checked < min) { print "no block verified"; exit 1 }
		}' "$1"
}

# host_bdevperf_conf FILE DIGESTS: a config attaching the guest's subsystem as Nvme0 (bdev
# Nvme0n1), with header and data digests both DIGESTS (true/false).
host_bdevperf_conf() {
	printf '%s' '{"subsystems": [{"subsystem": "bdev", "config": [' \
		'{"method": "bdev_nvme_attach_controller", "params": {"name": "Nvme0", ' \
		'"trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", ' \
		"\"trsvcid\": \"$PORT_NVMF\", \"subnqn\": \"$NQN\", " \
		"\"hdgst\": $2, \"ddgst\": $2}}]}]}" >"$1"
}

host_pollux_tools() {
	local b=$POLLUX_BUILD perf=$POLLUX_BUILD/app/nvme_perf/nvme_perf
	local bdevperf=$POLLUX_BUILD/app/bdevperf/bdevperf
	local trid="trtype:tcp adrfam:IPv4 traddr:127.0.0.1 trsvcid:$PORT_NVMF subnqn:$NQN"
	local io=(-q 16 -o 4096 -t 3 -V)

	host_tool pollux_nvmet_hello_nvme host_hello_ok "$b/examples/hello_nvme/hello_nvme" -r "$trid"
	host_tool pollux_nvmet_identify host_identify_ok "$b/app/nvme_identify/nvme_identify" -r "$trid"
	host_tool pollux_nvmet_perf_randwrite_verify host_perf_ok "$perf" -r "$trid" "${io[@]}" \
		-w randwrite
	MIN_CHECKED=1 host_tool pollux_nvmet_perf_randread_verify host_perf_ok "$perf" -r "$trid" \
		"${io[@]}" -w randread
	# nvmet-tcp enables header and data digests on a queue when the host's ICReq asks.
	MIN_CHECKED=1 host_tool pollux_nvmet_perf_randread_digests host_perf_ok "$perf" -r "$trid" \
		"${io[@]}" -w randread -H -I

	# The nvme bdev on the same subsystem: bdevperf writes, reads back and compares.
	host_bdevperf_conf "$RUN/bdev_nvmet.json" false
	host_bdevperf_conf "$RUN/bdev_nvmet_digests.json" true
	host_tool pollux_nvmet_bdevperf_verify bdevperf_ok "$bdevperf" --json "$RUN/bdev_nvmet.json" \
		-T Nvme0n1 -q 32 -o 4096 -w verify -t 3
	host_tool pollux_nvmet_bdevperf_verify_digests bdevperf_ok "$bdevperf" \
		--json "$RUN/bdev_nvmet_digests.json" -T Nvme0n1 -q 32 -o 4096 -w verify -t 3
	# Writes larger than the in-capsule data size: R2T and H2CData, each with a data digest.
	host_tool pollux_nvmet_bdevperf_verify_128k_digests bdevperf_ok "$bdevperf" \
		--json "$RUN/bdev_nvmet_digests.json" -T Nvme0n1 -q 8 -o 131072 -w verify -t 3
}

host_run() {
	if ! wait_guest target-ready 120; then
		not_ok nvmet_target_ready "the guest's target never came up"
		return 1
	fi
	run_checks nvme_tcp_probe python3 "$HERE/tools/nvme_tcp_probe.py" 127.0.0.1 "$PORT_NVMF" "$NQN"
	tell_guest probe-done
	host_pollux_tools
	tell_guest pollux-done
}
