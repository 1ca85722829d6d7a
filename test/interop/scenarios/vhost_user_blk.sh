# SPDX-License-Identifier: BSD-3-Clause
# Scenario 4: the guest's virtio-blk driver over a vhost-user-blk socket served from the host.
# The peer is qemu-storage-daemon's vhost-user-blk export of a raw file; Pollux's vhost-user
# target takes its place later. Proof: write a pattern, read it back and compare in the guest,
# fio verify, multi-queue negotiated, and find the same bytes in the host's backing file.
DESCRIPTION="guest virtio-blk -> host vhost-user-blk socket (peer: qemu-storage-daemon)"
QUICK=1
TIMEOUT=150
REQUIRES="qemu-storage-daemon cmp"
VHOST_USER_BLK_QUEUES=2
PATTERN_OFFSET_MB=1
PATTERN_MB=4
GUEST_ENV="PATTERN_OFFSET_MB=$PATTERN_OFFSET_MB PATTERN_MB=$PATTERN_MB"

host_setup() {
	VHOST_USER_BLK=$RUN/vub.sock
	truncate -s 64M "$RUN/vub.img"
	start_daemon qsd qemu-storage-daemon \
		--blockdev "driver=file,node-name=file0,filename=$RUN/vub.img" \
		--export "type=vhost-user-blk,id=vub0,node-name=file0,writable=on,num-queues=$VHOST_USER_BLK_QUEUES,addr.type=unix,addr.path=$VHOST_USER_BLK"
	wait_until 20 test -S "$VHOST_USER_BLK"
}

guest_main() {
	check virtio_blk_present test -b /dev/vda || return 1
	# The back end offered several queues (VIRTIO_BLK_F_MQ, feature bit 12). With one vCPU the
	# driver uses one of them, so /sys/block/vda/mq shows a single queue.
	check virtio_blk_mq_negotiated sh -c "cut -c13 /sys/block/vda/device/features | grep -qx 1"
	dd if=/dev/urandom of=/xfer/pattern bs=1M count="$PATTERN_MB" status=none
	check vhost_blk_write dd if=/xfer/pattern of=/dev/vda bs=1M seek="$PATTERN_OFFSET_MB" \
		oflag=direct conv=fsync status=none
	echo 3 >/proc/sys/vm/drop_caches
	check vhost_blk_read_verify sh -c "dd if=/dev/vda bs=1M skip=$PATTERN_OFFSET_MB \
		count=$PATTERN_MB iflag=direct status=none | cmp - /xfer/pattern"
	# Beyond the pattern: random 4k writes, each block checked on read.
	check vhost_blk_fio_verify fio --name=verify --filename=/dev/vda --ioengine=libaio \
		--direct=1 --rw=randwrite --bs=4k --iodepth=16 --offset=16M --size=16M \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --output-format=terse
}

host_finish() {
	check vhost_blk_host_sees_data sh -c "tail -c +$((PATTERN_OFFSET_MB * 1048576 + 1)) \
		'$RUN/vub.img' | head -c $((PATTERN_MB * 1048576)) | cmp - '$XFER/pattern'"
}
