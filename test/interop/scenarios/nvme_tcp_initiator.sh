# SPDX-License-Identifier: BSD-3-Clause
# Scenario 1: the guest kernel's NVMe/TCP initiator against a target on the host side.
# The peer here is the guest's own kernel nvmet-tcp target, reached only through the host:
# the initiator connects to 10.0.2.2:PORT_NVMF (the host's 127.0.0.1:PORT_NVMF), which QEMU
# forwards back to the target's port 4420. A Pollux target later listens on
# 127.0.0.1:$PORT_NVMF itself and drops the in-guest target.
DESCRIPTION="guest nvme-tcp initiator -> target behind host 127.0.0.1 port (peer: kernel nvmet)"
QUICK=1
TIMEOUT=150
HOST_PORTS="NVMF"
HOSTFWD="NVMF:4420"
GUEST_TO_HOST=1

# The Pollux build tree is shared with the guest: its target runs there and answers RPC.
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

guest_main() {
	local nqn=nqn.2024-01.io.pollux:interop-tcp ctrl dev
	if [ -x /pollux/build/app/pollux_tgt/pollux_tgt ]; then
		check pollux_tgt_runs_in_guest guest_pollux_tgt
	else
		skip pollux_tgt_runs_in_guest "no pollux_tgt in the build tree (POLLUX_BUILD)"
	fi
	check nvme_tcp_modules modprobe -a nvme-tcp nvme-fabrics nvmet nvmet-tcp || return 1
	truncate -s 64M /tmp/ns1.img
	check nvmet_tcp_target nvmet_tcp_target "$nqn" 4420 /tmp/ns1.img || return 1
	check nvme_tcp_discover sh -c "nvme discover -t tcp -a 10.0.2.2 -s $PORT_NVMF | grep -F 'subnqn:  $nqn'"
	check nvme_tcp_connect nvme connect -t tcp -a 10.0.2.2 -s "$PORT_NVMF" -n "$nqn" || return 1
	if ! wait_until 20 nvme_ctrl_by_nqn "$nqn"; then
		not_ok nvme_tcp_controller "no controller for $nqn in /sys/class/nvme"
		return 1
	fi
	ctrl=$(nvme_ctrl_by_nqn "$nqn")
	check nvme_tcp_transport sh -c "grep -qx tcp /sys/class/nvme/$ctrl/transport &&
		grep -q 'traddr=10.0.2.2,trsvcid=$PORT_NVMF' /sys/class/nvme/$ctrl/address"
	if ! wait_until 20 nvme_ns_dev "$ctrl"; then
		not_ok nvme_tcp_namespace "no block device for namespace 1 of $ctrl"
		return 1
	fi
	dev=$(nvme_ns_dev "$ctrl")
	ok nvme_tcp_namespace
	check nvme_tcp_fio_verify fio --name=verify --filename="$dev" --ioengine=libaio --direct=1 \
		--rw=randwrite --bs=4k --iodepth=8 --size=8M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --output-format=terse
	check nvme_tcp_disconnect sh -c "nvme disconnect -n $nqn | grep -q 'disconnected 1'"
}
