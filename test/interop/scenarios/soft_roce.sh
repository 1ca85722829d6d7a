# SPDX-License-Identifier: BSD-3-Clause
# Scenario 6: soft-RoCE (rdma_rxe) inside the guest, the RDMA transport's future test bed.
# Proof: the rxe link over eth0 comes up ACTIVE and libibverbs sees the device; then an RC
# ping-pong between two processes over it (ibverbs-utils) moves data through the verbs path.
DESCRIPTION="guest soft-RoCE: rxe link up over eth0, verbs device, RC ping-pong"
TIMEOUT=150

guest_main() {
	local gid srv
	check rdma_rxe_module modprobe rdma_rxe || return 1
	check rxe_link_add rdma link add rxe0 type rxe netdev eth0 || return 1
	check rxe_link_active wait_until 20 sh -c "rdma link show rxe0/1 | grep -q 'state ACTIVE'"
	check ibverbs_device sh -c "ibv_devices | grep -qw rxe0"
	check ibverbs_port_active sh -c "ibv_devinfo -d rxe0 | grep -q PORT_ACTIVE"
	# The GID table entry for eth0's IPv4 address (RoCE v2), e.g. ::ffff:10.0.2.15.
	gid=$(grep -l '0a00:020f' /sys/class/infiniband/rxe0/ports/1/gids/* 2>/dev/null | head -n 1)
	gid=${gid##*/}
	if [ -z "$gid" ]; then
		not_ok rxe_ipv4_gid "no GID for 10.0.2.15 on rxe0"
		return 1
	fi
	ibv_rc_pingpong -d rxe0 -g "$gid" -n 100 >/tmp/srv.log 2>&1 &
	srv=$!
	sleep 1
	check rxe_rc_pingpong run_shown ibv_rc_pingpong -d rxe0 -g "$gid" -n 100 127.0.0.1
	wait_until 10 sh -c "! kill -0 $srv"
	kill "$srv" 2>/dev/null
	wait "$srv"
	check rxe_rc_pingpong_server_done test $? -eq 0
	check rxe_link_delete rdma link delete rxe0
}
