# SPDX-License-Identifier: BSD-3-Clause
# Scenario 5: the guest's open-iscsi initiator against an iSCSI target on the host. The peer
# is tgt (Debian's tgtd) on 127.0.0.1:PORT_ISCSI, which the guest reaches as 10.0.2.2;
# Pollux's iSCSI target takes its place later. Proof: discovery, login, write and read back,
# logout, and the same bytes in the host's backing file.
DESCRIPTION="guest open-iscsi -> host iSCSI target on 127.0.0.1 (peer: tgt)"
TIMEOUT=180
REQUIRES="tgtd tgtadm cmp"
HOST_PORTS="ISCSI"
GUEST_TO_HOST=1
IQN=iqn.2024-01.io.pollux:interop
GUEST_ENV="IQN=$IQN"

host_setup() {
	# tgtd's management socket is /var/run/tgtd/socket.N, N <= 32767: derive N from our port.
	TGT_CTL=$((PORT_ISCSI - 44000))
	cleanup_path "/var/run/tgtd/socket.$TGT_CTL"
	cleanup_path "/var/run/tgtd/socket.$TGT_CTL.lock"
	cleanup_path /var/run/tgtd
	truncate -s 64M "$RUN/lun1.img"
	start_daemon tgtd tgtd -f -t 1 -C "$TGT_CTL" --iscsi "portal=127.0.0.1:$PORT_ISCSI"
	wait_until 20 tgtadm -C "$TGT_CTL" --lld iscsi --mode target --op show || return 1
	tgtadm -C "$TGT_CTL" --lld iscsi --mode target --op new --tid 1 --targetname "$IQN" &&
		tgtadm -C "$TGT_CTL" --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 \
			--backing-store "$RUN/lun1.img" &&
		tgtadm -C "$TGT_CTL" --lld iscsi --mode target --op bind --tid 1 --initiator-address ALL
}

guest_iscsi_disk() {
	local d
	for d in /sys/class/iscsi_session/session*/device/target*/*/block/*; do
		[ -e "$d" ] && { basename "$d"; return 0; }
	done
	return 1
}

guest_main() {
	local portal=10.0.2.2:$PORT_ISCSI disk
	check iscsi_modules modprobe -a iscsi_tcp sd_mod || return 1
	iscsid || { not_ok iscsid_start "iscsid did not start"; return 1; }
	check iscsi_discovery sh -c "iscsiadm -m discovery -t sendtargets -p $portal | grep -F '$IQN'" ||
		return 1
	# The target advertises its own 127.0.0.1 portal; the guest reaches it as 10.0.2.2.
	iscsiadm -m node -o new -T "$IQN" -p "$portal" >/dev/null
	check iscsi_login iscsiadm -m node -T "$IQN" -p "$portal" --login || return 1
	if ! wait_until 30 guest_iscsi_disk; then
		not_ok iscsi_disk "no SCSI disk appeared for the session"
		return 1
	fi
	disk=/dev/$(guest_iscsi_disk)
	wait_until 10 test -b "$disk"
	dd if=/dev/urandom of=/xfer/pattern bs=1M count=4 status=none
	check iscsi_write dd if=/xfer/pattern of="$disk" bs=1M seek=1 oflag=direct conv=fsync status=none
	check iscsi_read_verify sh -c "dd if=$disk bs=1M skip=1 count=4 iflag=direct status=none |
		cmp - /xfer/pattern"
	check iscsi_logout iscsiadm -m node -T "$IQN" -p "$portal" --logout
	check iscsi_session_gone sh -c "! iscsiadm -m session >/dev/null 2>&1"
}

host_finish() {
	check iscsi_host_sees_data sh -c "tail -c +1048577 '$RUN/lun1.img' | head -c 4194304 |
		cmp - '$XFER/pattern'"
	# tgtd ignores SIGTERM; ask it to exit (it refuses while a target exists) so that nothing
	# waits for the KILL fallback.
	tgtadm -C "$TGT_CTL" --lld iscsi --mode target --op delete --force --tid 1 >/dev/null 2>&1
	tgtadm -C "$TGT_CTL" --mode system --op delete >/dev/null 2>&1
	wait_until 5 sh -c "! tgtadm -C $TGT_CTL --lld iscsi --mode target --op show"
	return 0
}
