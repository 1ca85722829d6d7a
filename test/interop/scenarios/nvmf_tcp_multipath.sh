# SPDX-License-Identifier: BSD-3-Clause
# Scenario 1, the long part: the guest kernel's NVMe/TCP initiator against Pollux's pollux_tgt
# on the host (127.0.0.1:PORT_NVMF and :PORT_NVMF2, the guest's 10.0.2.2), one subsystem with
# ANA reporting on and two listeners. Identify Namespace, SMART and ANA logs, fio verify at
# 128 KiB, a namespace added and removed while connected, reservations between two host NQNs,
# multipath with one listener made inaccessible under I/O, and the target's keep-alive timeout
# for a host that stopped answering. The guest asks the host for RPCs through /xfer
# (guest_host_do). nvme_tcp_initiator.sh has the quick essentials.
DESCRIPTION="guest kernel nvme-tcp -> Pollux pollux_tgt: logs, ns hot plug, reservations, ANA multipath, keep-alive"
TIMEOUT=360
REQUIRES="python3"
HOST_PORTS="NVMF NVMF2"
GUEST_TO_HOST=1
NVMF_TAG=nvmfmp
# shellcheck source=../lib/nvmf-target.sh
. "$HERE/lib/nvmf-target.sh"
NQN=nqn.2024-01.io.pollux:interop-mp
NVMF_SN=PLXINTEROPMP01
NVMF_MN="Pollux Interop MP"
NVMF_MIB=64
GUEST_ENV="NQN=$NQN NVMF_SN=$NVMF_SN NVMF_MN='$NVMF_MN' NVMF_MIB=$NVMF_MIB"

host_setup() {
	nvmf_tgt_start || return 1
	check mp_tgt_subsystem nvmf_tgt_subsystem "$NQN" Malloc0 "$NVMF_MIB" -s "$NVMF_SN" \
		-d "$NVMF_MN" -r &&
		check mp_tgt_listener1 nvmf_tgt_listen "$NQN" "$PORT_NVMF" &&
		check mp_tgt_listener2 nvmf_tgt_listen "$NQN" "$PORT_NVMF2"
}

host_run() { nvmf_serve_guest; }

host_finish() {
	check mp_host_no_controller_left nvmf_wait_ctrlrs "$NQN" "" 0 10
	nvmf_tgt_stop
}

# ---- guest ----------------------------------------------------------------------------------

# The Pollux build tree is shared with the guest: its binaries run there too.
guest_pollux_tgt() {
	local tgt=/pollux/build/app/pollux_tgt/pollux_tgt pid rc
	"$tgt" -r /tmp/pollux.sock >/tmp/pollux_tgt.log 2>&1 &
	pid=$!
	wait_until 20 test -S /tmp/pollux.sock &&
		python3 /pollux/src/scripts/rpc.py -s /tmp/pollux.sock spdk_get_version | grep -q Pollux
	rc=$?
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ $rc -eq 0 ] || cat /tmp/pollux_tgt.log
	return $rc
}

guest_rpc() { guest_host_do nvmf_rpc "$@"; }

guest_id_ns() {
	local out bad=0 nsze
	out=$(nvme id-ns "$1") || return 1
	nsze=$(printf '%#x' $((NVMF_MIB * 2048)))
	printf '%s\n' "$out" | grep -Eq "^nsze *: $nsze\$" || { echo "nsze is not $nsze"; bad=1; }
	printf '%s\n' "$out" | grep -Eq "lbads:9 .*in use" || { echo "the LBA format in use is not 512 bytes"; bad=1; }
	printf '%s\n' "$out" | grep -Eq "^anagrpid *: [1-9]" || { echo "no ANA group"; bad=1; }
	[ $bad = 0 ] || printf '%s\n' "$out" | head -n 40
	return $bad
}

guest_smart_log() {
	local out
	out=$(nvme smart-log "$1") || return 1
	printf '%s\n' "$out" | grep -Eq '^critical_warning[[:space:]]*: 0$' && return 0
	printf '%s\n' "$out"
	return 1
}

# ana-log through controller $1: namespace 1 is in a group whose state is $2.
guest_ana_log() {
	local out
	out=$(nvme ana-log "/dev/$1" -o json) || return 1
	printf '%s\n' "$out" | tr -d ' \n\t' | grep -Eq "\"state\":\"$2\"[^]]*\"nsid\":1[,}]|\"nsids\":\\[\\{\"nsid\":1\\}\\][^]]*\"state\":\"$2\"" &&
		return 0
	printf '%s\n' "$out"
	return 1
}

# The namespace shows in `nvme list`.
guest_ns_listed() {
	nvme list -o json | tr -d ' \n\t' | grep -q "\"NameSpace\":$1[,}]"
}

guest_ns_unlisted() { ! guest_ns_listed "$@"; }

guest_ns_hotplug() {
	check mp_ns_add guest_rpc bdev_malloc_create -b Malloc1 16 512 &&
		check mp_ns_add_rpc guest_rpc nvmf_subsystem_add_ns -n 2 "$NQN" Malloc1 || return 1
	if wait_until 30 guest_ns_listed 2; then ok mp_ns_added_listed; else
		not_ok mp_ns_added_listed "namespace 2 not in 'nvme list' 30 s after nvmf_subsystem_add_ns"
		nvme list
	fi
	check mp_ns_remove_rpc guest_rpc nvmf_subsystem_remove_ns "$NQN" 2
	if wait_until 30 guest_ns_unlisted 2; then ok mp_ns_removed_unlisted; else
		not_ok mp_ns_removed_unlisted "namespace 2 still in 'nvme list' 30 s after nvmf_subsystem_remove_ns"
		nvme list
	fi
	guest_rpc bdev_malloc_delete Malloc1 >/dev/null
}

guest_resv_report() {
	local out bad=0 rtype=$2 regctl=$3 holders=$4
	out=$(nvme resv-report "$1" -n 1 --eds) || return 1
	printf '%s\n' "$out" | grep -Eq "^rtype *: $rtype\$" || { echo "rtype is not $rtype"; bad=1; }
	printf '%s\n' "$out" | grep -Eq "^regctl *: $regctl\$" || { echo "regctl is not $regctl"; bad=1; }
	[ "$(printf '%s\n' "$out" | grep -Ec '^ *rcsts *: (0x)?1$')" = "$holders" ] ||
		{ echo "not $holders holder(s)"; bad=1; }
	[ $bad = 0 ] || printf '%s\n' "$out"
	return $bad
}

# A write through controller $1 fails with Reservation Conflict (status 0x83).
guest_write_conflicts() {
	local out
	out=$(guest_nvme_io "$1" write 8 /tmp/blk 2>&1) && { echo "the write succeeded"; return 1; }
	printf '%s\n' "$out" | grep -Eqi 'reservation.?conflict|0x83' && return 0
	printf '%s\n' "$out"
	return 1
}

guest_resv_steps() {
	local h1 h2 u1 u2 c1 c2 g1 g2 k1=0xa1a1 k2=0xb2b2
	u1=$(cat /proc/sys/kernel/random/uuid)
	u2=$(cat /proc/sys/kernel/random/uuid)
	h1=nqn.2014-08.org.nvmexpress:uuid:$u1
	h2=nqn.2014-08.org.nvmexpress:uuid:$u2
	# One host per listener: nvme-cli 2.3 calls any second connect to the same address
	# "already connected", whatever the host NQN (even with --duplicate-connect).
	check mp_resv_connect_host1 guest_nvme_connect "$NQN" "$PORT_NVMF" --hostnqn="$h1" --hostid="$u1" &&
		check mp_resv_connect_host2 guest_nvme_connect "$NQN" "$PORT_NVMF2" --hostnqn="$h2" --hostid="$u2" ||
		return 1
	c1=$(guest_nvme_ctrl "$NQN" "$PORT_NVMF" "$h1")
	c2=$(guest_nvme_ctrl "$NQN" "$PORT_NVMF2" "$h2")
	# Reservation commands go through each controller's char device, so each host acts alone.
	g1=/dev/$c1
	g2=/dev/$c2
	echo "reservations: host 1 on $c1, host 2 on $c2"
	head -c 512 /dev/urandom >/tmp/blk
	check mp_resv_register_host1 nvme resv-register "$g1" -n 1 --nrkey=$k1 --rrega=0
	check mp_resv_register_host2 nvme resv-register "$g2" -n 1 --nrkey=$k2 --rrega=0
	check mp_resv_acquire_we nvme resv-acquire "$g1" -n 1 --crkey=$k1 --rtype=1 --racqa=0
	check mp_resv_report_eds guest_resv_report "$g2" 1 2 1
	check mp_resv_holder_writes guest_nvme_io "$c1" write 8 /tmp/blk
	check mp_resv_other_write_conflict guest_write_conflicts "$c2"
	check mp_resv_other_reads guest_nvme_io "$c2" read 8 /tmp/blk.read
	check mp_resv_read_back cmp /tmp/blk /tmp/blk.read
	check mp_resv_release nvme resv-release "$g1" -n 1 --crkey=$k1 --rtype=1 --rrela=0
	check mp_resv_report_released guest_resv_report "$g1" 0 2 0
	check mp_resv_other_writes_after_release guest_nvme_io "$c2" write 8 /tmp/blk
	check mp_resv_unregister nvme resv-register "$g1" -n 1 --crkey=$k1 --rrega=1
	check mp_resv_unregister_host2 nvme resv-register "$g2" -n 1 --crkey=$k2 --rrega=1
	check mp_resv_report_empty guest_resv_report "$g2" 0 0 0
}

guest_reservations() {
	guest_resv_steps
	check mp_resv_disconnect guest_disconnect_all
}

# Disconnect every controller of the subsystem; they are gone within a bounded time.
guest_disconnect_all() {
	timeout 60 nvme disconnect -n "$NQN" >/dev/null
	wait_until 30 sh -c "! ls /sys/class/nvme/nvme* >/dev/null 2>&1"
}

# The path's ANA state as the kernel sees it.
guest_path_state() {
	local p
	for p in /sys/class/nvme/"$1"/nvme*c*n*; do
		[ "$(cat "$p/nsid" 2>/dev/null)" = 1 ] && { grep -qx "$2" "$p/ana_state"; return; }
	done
	return 1
}

# `nvme list-subsys DEV` shows both listeners as live, optimized paths.
guest_list_subsys_paths() {
	local out
	out=$(nvme list-subsys "$1") || return 1
	printf '%s\n' "$out" | sed 's/^/    /' >/dev/console
	printf '%s\n' "$out" | grep -q "trsvcid=${PORT_NVMF}[, ].* live optimized" &&
		printf '%s\n' "$out" | grep -q "trsvcid=${PORT_NVMF2}[, ].* live optimized"
}

guest_paths_optimized() {
	guest_path_state "$1" optimized && guest_path_state "$2" optimized && return 0
	grep . /sys/class/nvme/"$1"/nvme*c*n*/ana_state /sys/class/nvme/"$2"/nvme*c*n*/ana_state
	return 1
}

guest_multipath() {
	guest_mp_steps
	check mp_disconnect_paths guest_disconnect_all
}

guest_mp_steps() {
	local a b dev fio_pid rc
	check mp_connect_path1 guest_nvme_connect "$NQN" "$PORT_NVMF" &&
		check mp_connect_path2 guest_nvme_connect "$NQN" "$PORT_NVMF2" || return 1
	a=$(guest_nvme_ctrl "$NQN" "$PORT_NVMF")
	b=$(guest_nvme_ctrl "$NQN" "$PORT_NVMF2")
	dev=$(nvme_ns_dev "$a")
	echo "multipath: $a (port $PORT_NVMF) and $b (port $PORT_NVMF2) behind $dev"
	check mp_list_subsys_two_paths guest_list_subsys_paths "$dev"
	check mp_path_states_optimized guest_paths_optimized "$a" "$b"
	# I/O runs on the subsystem's head device while path 1 becomes inaccessible.
	fio --name=failover --filename="$dev" --ioengine=libaio --direct=1 --rw=randwrite --bs=4k \
		--iodepth=32 --size=16M --time_based --runtime=10 --verify=crc32c --verify_backlog=256 \
		--verify_fatal=1 --output-format=terse >/tmp/fio-failover.txt 2>&1 &
	fio_pid=$!
	sleep 3
	check mp_ana_set_inaccessible guest_rpc nvmf_subsystem_listener_set_ana_state "$NQN" \
		-n inaccessible -t tcp -a 127.0.0.1 -s "$PORT_NVMF" -f ipv4
	if wait_until 20 guest_path_state "$a" inaccessible; then ok mp_ana_path1_inaccessible; else
		not_ok mp_ana_path1_inaccessible "the kernel still sees $a as $(cat /sys/class/nvme/"$a"/nvme*c*n*/ana_state)"
	fi
	check mp_ana_log_inaccessible guest_ana_log "$a" inaccessible
	check mp_ana_log_other_optimized guest_ana_log "$b" optimized
	wait "$fio_pid"
	rc=$?
	if [ $rc -eq 0 ]; then ok mp_failover_fio_no_errors; else
		not_ok mp_failover_fio_no_errors "fio exited $rc"
		tail -n 20 /tmp/fio-failover.txt
	fi
	check mp_io_on_path2_only fio --name=path2 --filename="$dev" --ioengine=libaio --direct=1 \
		--rw=randwrite --bs=4k --iodepth=32 --size=4M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --output-format=terse
	check mp_ana_set_optimized guest_rpc nvmf_subsystem_listener_set_ana_state "$NQN" \
		-n optimized -t tcp -a 127.0.0.1 -s "$PORT_NVMF" -f ipv4
	if wait_until 20 guest_path_state "$a" optimized; then ok mp_ana_path1_optimized_again; else
		not_ok mp_ana_path1_optimized_again "the kernel still sees $a as $(cat /sys/class/nvme/"$a"/nvme*c*n*/ana_state)"
	fi
}

# A host that stops answering: its packets to the target's port are dropped (a routing rule
# in the guest; ipproto by number, the minbase guest has no /etc/protocols), so only the target's keep-alive timer can end the controller.
guest_keep_alive() {
	local u h how rule=(pref 100 ipproto 6 dport "$PORT_NVMF2" prohibit)
	u=$(cat /proc/sys/kernel/random/uuid)
	h=nqn.2014-08.org.nvmexpress:uuid:$u
	check mp_kato_connect guest_nvme_connect "$NQN" "$PORT_NVMF2" --hostnqn="$h" --hostid="$u" \
		--keep-alive-tmo=5 --reconnect-delay=2 --ctrl-loss-tmo=10 || return 1
	if ! check mp_kato_target_has_ctrlr guest_host_do nvmf_wait_ctrlrs "$NQN" "$h" 1 10; then
		guest_disconnect_all
		return 1
	fi
	if ip rule add "${rule[@]}" 2>/dev/null; then
		how="ip rule ${rule[*]}"
	else
		ip link set eth0 down
		how="eth0 down"
	fi
	echo "keep-alive: host silenced with $how"
	# KATO 5 s; the target may round its timer up, but must end the controller well within 40 s.
	check mp_kato_target_drops_ctrlr guest_host_do nvmf_wait_ctrlrs "$NQN" "$h" 0 40
	if [ "$how" = "eth0 down" ]; then
		ip link set eth0 up
		ip route add default via 10.0.2.2
	else
		ip rule del "${rule[@]}"
	fi
	check mp_kato_disconnect guest_disconnect_all
}

# CMIC: several ports (bit 0), several controllers (bit 1) and ANA reporting (bit 3).
guest_cmic() {
	local v
	v=$(nvme id-ctrl "/dev/$1" | sed -n 's/^cmic *: //p')
	[ -n "$v" ] && [ $((v & 0xb)) = 11 ] && return 0
	echo "cmic '$v', expected bits 0, 1 and 3 set"
	return 1
}

guest_mp_main() {
	local ctrl dev
	check pollux_tgt_runs_in_guest guest_pollux_tgt
	check mp_modules modprobe -a nvme-tcp nvme-fabrics || return 1
	check mp_connect guest_nvme_connect "$NQN" "$PORT_NVMF" || return 1
	ctrl=$(guest_nvme_ctrl "$NQN" "$PORT_NVMF")
	dev=$(nvme_ns_dev "$ctrl")
	check mp_id_ctrl_cmic guest_cmic "$ctrl"
	check mp_id_ns guest_id_ns "$dev"
	check mp_smart_log guest_smart_log "/dev/$ctrl"
	check mp_ana_log guest_ana_log "$ctrl" optimized
	check mp_fio_verify_128k fio --name=verify128k --filename="$dev" --ioengine=libaio --direct=1 \
		--rw=randwrite --bs=128k --iodepth=32 --size=32M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --output-format=terse
	guest_ns_hotplug
	check mp_disconnect sh -c "nvme disconnect -n $NQN | grep -q 'disconnected 1'"
	guest_reservations
	guest_multipath
	guest_keep_alive
	check mp_no_controller_left sh -c "! ls /sys/class/nvme/nvme* >/dev/null 2>&1"
}

guest_main() { guest_nvmf_run guest_mp_main; }
