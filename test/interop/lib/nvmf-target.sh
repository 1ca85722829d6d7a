# SPDX-License-Identifier: BSD-3-Clause
# Pollux's NVMe-oF/TCP target (pollux_tgt) on the host, for the scenarios whose guest runs the
# kernel's NVMe/TCP initiator against it. A scenario sources this file at its top; the host
# side runs in run.sh's scenario subshell, the guest_* functions are copied into the guest.
#
# Host side:
#   nvmf_tgt_start               start pollux_tgt (RPC socket $RUN/tgt.sock) with a TCP transport
#   nvmf_rpc ARGS...             scripts/rpc.py against it (bounded)
#   nvmf_tgt_subsystem NQN BDEV MIB [RPC create_subsystem flags...]
#                                a malloc bdev (512-byte blocks) as namespace 1 of a new subsystem
#   nvmf_tgt_listen NQN PORT     a listener on 127.0.0.1:PORT (the guest's 10.0.2.2:PORT)
#   nvmf_serve_guest             (in host_run) run what guest_host_do asks, until the guest ends
#   nvmf_ctrlr_count NQN HOSTNQN print how many controllers of NQN belong to HOSTNQN ("": any)
#   nvmf_wait_ctrlrs NQN HOSTNQN N SECONDS   wait until HOSTNQN ("": any) has N controllers
#   nvmf_tgt_stop                (in host_finish) checks the target survived and exits on SIGTERM
# Guest side:
#   guest_host_do CMD ARGS...    run a host-side command above (nvmf_rpc, nvmf_wait_ctrlrs, ...)
#                                through /xfer; prints its output, returns its exit code
#   guest_nvme_ctrl NQN PORT [HOSTNQN]   the nvmeN controller connected to NQN at 10.0.2.2:PORT
#   guest_nvme_connect NQN PORT [nvme connect args...]   connect (--hostnqn=X form if any),
#                                wait for the controller and its namespace 1
#   guest_nvmf_run FUNC          run the scenario's FUNC; if a check failed, show the kernel's
#                                nvme messages (what the initiator thought of the target)
#   guest_nvme_has_ns CTRL [NSID]   the controller shows the namespace (default 1)
#   guest_nvme_io CTRL read|write SLBA FILE   one 512-byte block through that controller only
#                                (with native multipath only the controller's char device
#                                reaches one path; the kernel allows it with one namespace)

# The host-side checks are named ${NVMF_TAG}_tgt_*: set NVMF_TAG before sourcing.
NVMF_TAG=${NVMF_TAG:-nvmf}
NVMF_TGT_BIN=$POLLUX_BUILD/app/pollux_tgt/pollux_tgt
NVMF_SOCK=$RUN/tgt.sock
# Commands the guest may ask the host to run (guest_host_do).
NVMF_GUEST_CMDS="nvmf_rpc nvmf_ctrlr_count nvmf_wait_ctrlrs"

nvmf_rpc() { timeout 30 python3 "$REPO/scripts/rpc.py" -s "$NVMF_SOCK" -t 20 "$@"; }

nvmf_tgt_pid() { awk '$2 == "pollux_tgt" { print $1 }' "$RUN/daemons" 2>/dev/null; }

nvmf_tgt_start() {
	if [ ! -x "$NVMF_TGT_BIN" ]; then
		not_ok "${NVMF_TAG}_tgt_start" "no $NVMF_TGT_BIN (build Pollux or set POLLUX_BUILD)"
		return 1
	fi
	mkdir -p "$XFER/rpc"
	# One reactor: it sleeps when idle, so the guest's TCG vCPU keeps the other core.
	start_daemon pollux_tgt "$NVMF_TGT_BIN" -r "$NVMF_SOCK" -m 0x1
	if ! wait_until 30 nvmf_rpc spdk_get_version; then
		not_ok "${NVMF_TAG}_tgt_start" "pollux_tgt did not answer RPC within 30 s: $(tail -n 5 "$RUN/pollux_tgt.log" | tr '\n' ' ')"
		return 1
	fi
	check "${NVMF_TAG}_tgt_transport" nvmf_rpc nvmf_create_transport -t TCP
}

nvmf_tgt_subsystem() {
	local nqn=$1 bdev=$2 mib=$3
	shift 3
	nvmf_rpc bdev_malloc_create -b "$bdev" "$mib" 512 >/dev/null &&
		nvmf_rpc nvmf_create_subsystem "$nqn" -a "$@" &&
		nvmf_rpc nvmf_subsystem_add_ns "$nqn" "$bdev" >/dev/null
}

nvmf_tgt_listen() {
	nvmf_rpc nvmf_subsystem_add_listener "$1" -t tcp -a 127.0.0.1 -s "$2" -f ipv4
}

nvmf_ctrlr_count() {
	nvmf_rpc nvmf_subsystem_get_controllers "$1" | python3 -c '
import json, sys
print(sum(1 for c in json.load(sys.stdin) if sys.argv[1] in ("", c.get("hostnqn"))))' "${2:-}"
}

nvmf_wait_ctrlrs() {
	local nqn=$1 host=$2 want=$3 end=$((SECONDS + $4)) n
	until n=$(nvmf_ctrlr_count "$nqn" "$host") && [ "$n" = "$want" ]; do
		if [ $SECONDS -ge $end ]; then
			echo "${host:-all hosts} still have ${n:-?} controller(s) on $nqn after $4 s, not $want:"
			nvmf_rpc nvmf_subsystem_get_controllers "$nqn"
			return 1
		fi
		sleep 0.5
	done
	echo "${host:-all hosts}: $n controller(s) on $nqn"
}

# Requests are files in $XFER/rpc: ID.req (one argument per line), answered by ID.out and
# ID.rc (written last). Runs until the guest has finished.
nvmf_serve_guest() {
	local req id args
	while [ ! -e "$XFER/guest-exit" ]; do
		for req in "$XFER"/rpc/*.req; do
			[ -e "$req" ] || continue
			id=${req%.req}
			mapfile -t args <"$req"
			rm -f "$req"
			case " $NVMF_GUEST_CMDS " in
			*" ${args[0]} "*)
				echo "[$NAME host] guest asks: ${args[*]}"
				"${args[@]}" >"$id.out" 2>&1
				echo $? >"$id.tmp"
				;;
			*)
				echo "not a host command the guest may run: ${args[0]}" >"$id.out"
				echo 127 >"$id.tmp"
				;;
			esac
			mv "$id.tmp" "$id.rc"
		done
		sleep 0.2
	done
}

nvmf_tgt_stop() {
	local pid i rc
	pid=$(nvmf_tgt_pid)
	[ -n "$pid" ] || return 0
	if ! kill -0 "$pid" 2>/dev/null || grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
		not_ok "${NVMF_TAG}_tgt_survived" "pollux_tgt died during the run: $(tail -n 5 "$RUN/pollux_tgt.log" | tr '\n' ' ')"
		return 0
	fi
	ok "${NVMF_TAG}_tgt_survived"
	kill -TERM "$pid"
	for i in $(seq 1 100); do
		grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null || [ ! -e "/proc/$pid" ] && break
		sleep 0.1
	done
	if [ -e "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
		not_ok "${NVMF_TAG}_tgt_sigterm" "pollux_tgt still running 10 s after SIGTERM"
		return 0 # scenario_cleanup kills it
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	if [ $rc -eq 0 ]; then ok "${NVMF_TAG}_tgt_sigterm"; else not_ok "${NVMF_TAG}_tgt_sigterm" "pollux_tgt exited $rc after SIGTERM"; fi
}

# ---- guest side ---------------------------------------------------------------------------

guest_host_do() {
	local id d=/xfer/rpc
	id=$(date +%s%N)$RANDOM
	printf '%s\n' "$@" >"$d/$id.new" && mv "$d/$id.new" "$d/$id.req"
	if ! wait_until "${HOST_DO_TIMEOUT:-60}" test -e "$d/$id.rc"; then
		echo "the host did not answer '$*'"
		return 124
	fi
	cat "$d/$id.out"
	return "$(cat "$d/$id.rc")"
}

guest_nvme_ctrl() {
	local nqn=$1 port=$2 host=${3:-$(cat /etc/nvme/hostnqn)} c
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$nqn" ] || continue
		[ "$(cat "$c/hostnqn" 2>/dev/null)" = "$host" ] || continue
		grep -q "traddr=10.0.2.2,trsvcid=$port\b" "$c/address" 2>/dev/null || continue
		basename "$c"
		return 0
	done
	return 1
}

guest_nvme_connect() {
	local nqn=$1 port=$2 host ctrl
	shift 2
	host=$(cat /etc/nvme/hostnqn)
	case " $* " in *" --hostnqn="*) host=$(echo " $* " | sed 's/.* --hostnqn=\([^ ]*\) .*/\1/') ;; esac
	nvme connect -t tcp -a 10.0.2.2 -s "$port" -n "$nqn" "$@" || return 1
	if ! wait_until 20 guest_nvme_ctrl "$nqn" "$port" "$host"; then
		echo "no controller for $nqn at port $port (host $host) in /sys/class/nvme"
		return 1
	fi
	ctrl=$(guest_nvme_ctrl "$nqn" "$port" "$host")
	if ! wait_until 20 guest_nvme_has_ns "$ctrl"; then
		echo "no namespace 1 on $ctrl"
		return 1
	fi
}

guest_nvmf_run() {
	local rc
	"$1"
	rc=$?
	if grep -q '^not ok - ' /xfer/results; then
		echo "guest: kernel messages about nvme:"
		dmesg | grep -Ei 'nvme|nvmf' | tail -n 40 | sed 's/^/    /'
	fi
	return $rc
}

guest_nvme_has_ns() {
	local p
	for p in /sys/class/nvme/"$1"/nvme*n*; do
		[ "$(cat "$p/nsid" 2>/dev/null)" = "${2:-1}" ] && return 0
	done
	return 1
}

guest_nvme_io() {
	local ctrl=$1 dir=$2 slba=$3 file=$4 opc=0x01
	[ "$dir" = read ] && opc=0x02
	if [ "$dir" = read ]; then
		nvme io-passthru "/dev/$ctrl" --opcode=$opc --namespace-id=1 --cdw10="$slba" \
			--data-len=512 --read --raw-binary >"$file"
	else
		nvme io-passthru "/dev/$ctrl" --opcode=$opc --namespace-id=1 --cdw10="$slba" \
			--data-len=512 --write --input-file="$file"
	fi
}
