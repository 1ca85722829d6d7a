#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Guest stage 2, PID 1 after switch_root: finish the mounts, load the drivers for the devices
# QEMU gave us (there is no udev), bring up the network, run the scenario's guest_main and
# power off. Whatever happens it ends the guest: run.sh's timeout is only the last resort.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8
cd /

power_off() {
	sync
	echo o >/proc/sysrq-trigger
	# Wait with a builtin: once power-off has begun, the 9p root may be gone. Still here after
	# that: exiting PID 1 panics, panic=-1 reboots and QEMU (-no-reboot) exits.
	read -r -t 20 <>/run/idle
	exit 1
}

mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /dev/pts /dev/shm /run/lock
mkfifo /run/idle
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
modprobe -q configfs && mount -t configfs configfs /sys/kernel/config
hostname pollux-guest
ln -sf /proc/self/fd /dev/fd

# shellcheck source=/dev/null
. /xfer/scenario.env
# shellcheck source=guest-lib.sh
. /xfer/guest-lib.sh

# Coldplug only what scenarios use (virtio_net, virtio_blk, nvme): probing every legacy PC
# device (floppy, ATA, PS/2 mouse) costs seconds under TCG.
mods=$(cat /sys/bus/virtio/devices/*/modalias 2>/dev/null | sort -u)
grep -qx 0x010802 /sys/bus/pci/devices/*/class 2>/dev/null && mods="$mods nvme"
[ -n "$mods" ] && modprobe -a -q -b $mods

# Pollux's source and build trees, read-only, when the host shared them.
for tagfile in /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; do
	tag=$(tr -d '\0' <"$tagfile" 2>/dev/null)
	case $tag in
	psrc) mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro psrc /pollux/src ;;
	pbuild) mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro pbuild /pollux/build ;;
	esac
done

ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
	# QEMU user networking: fixed addresses, the host's loopback is 10.0.2.2.
	ip addr add 10.0.2.15/24 dev eth0
	ip link set eth0 up
	ip route add default via 10.0.2.2
fi

# Every run is a fresh identity for the storage initiators.
mkdir -p /etc/nvme /etc/iscsi
uuid=$(cat /proc/sys/kernel/random/uuid)
echo "nqn.2014-08.org.nvmexpress:uuid:$uuid" >/etc/nvme/hostnqn
echo "$uuid" >/etc/nvme/hostid
command -v iscsi-iname >/dev/null && echo "InitiatorName=$(iscsi-iname)" >/etc/iscsi/initiatorname.iscsi

echo "guest: up after $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r)"
# shellcheck source=/dev/null
. /xfer/scenario-guest.sh
(cd /tmp && guest_main)
rc=$?
echo "$rc" >/xfer/guest-exit.tmp && mv /xfer/guest-exit.tmp /xfer/guest-exit
echo "guest: guest_main exited $rc after $(cut -d' ' -f1 /proc/uptime)s"
power_off
