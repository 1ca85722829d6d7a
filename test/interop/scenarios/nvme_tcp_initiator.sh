# SPDX-License-Identifier: BSD-3-Clause
# Scenario 1: the guest kernel's NVMe/TCP initiator against Pollux's NVMe-oF target. pollux_tgt
# runs on the host with a malloc namespace and listens on 127.0.0.1:PORT_NVMF, which the guest
# reaches as 10.0.2.2. The essentials, for every `make check`: discovery, connect with and
# without header and data digests, Identify Controller, fio verify at 4 KiB, disconnect.
# nvmf_tcp_multipath.sh has the rest (namespaces, logs, reservations, ANA, keep-alive).
DESCRIPTION="guest kernel nvme-tcp initiator -> Pollux pollux_tgt on host 127.0.0.1"
QUICK=1
TIMEOUT=120
REQUIRES="python3"
HOST_PORTS="NVMF"
GUEST_TO_HOST=1
NVMF_TAG=nvmf
# shellcheck source=../lib/nvmf-target.sh
. "$HERE/lib/nvmf-target.sh"
NQN=nqn.2024-01.io.pollux:interop-tcp
NVMF_SN=PLXINTEROP0001
NVMF_MN="Pollux Interop Ctrl"
GUEST_ENV="NQN=$NQN NVMF_SN=$NVMF_SN NVMF_MN='$NVMF_MN'"

host_setup() {
	nvmf_tgt_start || return 1
	check nvmf_tgt_subsystem nvmf_tgt_subsystem "$NQN" Malloc0 64 -s "$NVMF_SN" -d "$NVMF_MN" &&
		check nvmf_tgt_listener nvmf_tgt_listen "$NQN" "$PORT_NVMF"
}

# What the controller tells about itself matches the subsystem the host configured.
guest_check_id_ctrl() {
	local out v bad=0
	out=$(nvme id-ctrl "/dev/$1") || return 1
	field() { printf '%s\n' "$out" | sed -n "s/^$1 *: //p" | sed 's/ *$//'; }
	[ "$(field sn)" = "$NVMF_SN" ] || { echo "sn '$(field sn)', expected '$NVMF_SN'"; bad=1; }
	[ "$(field mn)" = "$NVMF_MN" ] || { echo "mn '$(field mn)', expected '$NVMF_MN'"; bad=1; }
	[ "$(field subnqn)" = "$NQN" ] || { echo "subnqn '$(field subnqn)', expected '$NQN'"; bad=1; }
	v=$(field nn)
	if [ -z "$v" ] || [ "$((v))" -lt 1 ]; then echo "nn '$v', expected >= 1"; bad=1; fi
	[ "$(field cntrltype)" = 1 ] || { echo "cntrltype '$(field cntrltype)', expected 1 (I/O)"; bad=1; }
	[ $bad = 0 ] || printf '%s\n' "$out" | grep -E '^(sn|mn|fr|nn|subnqn|cntrltype|cmic|ioccsz|iorcsz) '
	return $bad
}

guest_quick_main() {
	local ctrl dev
	check nvmf_modules modprobe -a nvme-tcp nvme-fabrics || return 1
	check nvmf_discover sh -c "nvme discover -t tcp -a 10.0.2.2 -s $PORT_NVMF | grep -F 'subnqn:  $NQN'"

	check nvmf_connect guest_nvme_connect "$NQN" "$PORT_NVMF" || return 1
	ctrl=$(guest_nvme_ctrl "$NQN" "$PORT_NVMF")
	check nvmf_transport grep -qx tcp "/sys/class/nvme/$ctrl/transport"
	check nvmf_id_ctrl guest_check_id_ctrl "$ctrl"
	check nvmf_disconnect sh -c "nvme disconnect -n $NQN | grep -q 'disconnected 1'"

	# The kernel fails the connect when the ICResp does not grant the digests it asked for.
	check nvmf_connect_digests guest_nvme_connect "$NQN" "$PORT_NVMF" \
		--hdr-digest --data-digest || return 1
	ctrl=$(guest_nvme_ctrl "$NQN" "$PORT_NVMF")
	dev=$(nvme_ns_dev "$ctrl")
	check nvmf_fio_verify_4k_digests fio --name=verify4k --filename="$dev" --ioengine=libaio \
		--direct=1 --rw=randwrite --bs=4k --iodepth=32 --size=8M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --output-format=terse
	check nvmf_disconnect_digests sh -c "nvme disconnect -n $NQN | grep -q 'disconnected 1'"
	check nvmf_no_controller_left sh -c "! ls /sys/class/nvme/nvme* >/dev/null 2>&1"
}

host_finish() {
	check nvmf_host_no_controller_left nvmf_wait_ctrlrs "$NQN" "" 0 10
	nvmf_tgt_stop
}

guest_main() { guest_nvmf_run guest_quick_main; }
