# SPDX-License-Identifier: BSD-3-Clause
# Scenario 2: a host program against the guest kernel's nvmet-tcp target, through the
# forwarded 127.0.0.1:PORT_NVMF. The proof is tools/nvme_tcp_probe.py: a raw ICReq/ICResp,
# a Fabrics Connect on the admin queue and a Property Get of VS. Pollux's NVMe/TCP initiator
# takes the probe's place later.
DESCRIPTION="host raw NVMe/TCP (ICReq, Connect, Property Get) -> guest kernel nvmet-tcp"
TIMEOUT=150
REQUIRES="python3"
HOST_PORTS="NVMF"
HOSTFWD="NVMF:4420"
NQN=nqn.2024-01.io.pollux:interop-host
GUEST_ENV="NQN=$NQN"

guest_main() {
	truncate -s 64M /tmp/ns1.img
	check nvmet_tcp_target nvmet_tcp_target "$NQN" 4420 /tmp/ns1.img || return 1
	tell_host target-ready
	if ! wait_host probe-done 90; then
		not_ok nvmet_host_probe "the host side never finished"
		return 1
	fi
	# The target saw the host's Connect: the kernel logs the controller it created for it.
	check nvmet_saw_host_connect sh -c \
		"dmesg | grep -q 'creating .*controller .* for subsystem $NQN for NQN nqn.2024-01.io.pollux:host-probe'"
}

host_run() {
	if ! wait_guest target-ready 120; then
		not_ok nvmet_target_ready "the guest's target never came up"
		return 1
	fi
	run_checks nvme_tcp_probe python3 "$HERE/tools/nvme_tcp_probe.py" 127.0.0.1 "$PORT_NVMF" "$NQN"
	tell_guest probe-done
}
