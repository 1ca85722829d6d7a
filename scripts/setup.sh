#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Hand NVMe controllers to Pollux's user-space driver and back (SPDK's setup.sh style).
#
#   scripts/setup.sh [config]   bind every NVMe function (class 0x010802) to vfio-pci, or to
#                               uio_pci_generic when the machine has no IOMMU
#   scripts/setup.sh reset      bind them back to the kernel's nvme driver
#   scripts/setup.sh status     list NVMe functions, their drivers and the hugepages
#   scripts/setup.sh help
#
# Environment:
#   DRIVER_OVERRIDE=vfio-pci|uio_pci_generic   the user-space driver to use
#   PCI_ALLOWED="0000:00:04.0 ..."             only these functions (default: all)
#   PCI_BLOCKED="0000:00:05.0 ..."             never these functions
#   HUGEMEM=N                                  reserve N MiB of 2 MiB hugepages (config)
#   CLEAR_HUGE=yes                             release the hugepages (reset)
#
# A controller whose namespaces are mounted or otherwise held open is left alone.
# Needs root.
set -uo pipefail

SYSFS_PCI=/sys/bus/pci/devices
NVME_CLASS=0x010802
HUGEPAGES_2M=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

die() {
	echo "setup.sh: $*" >&2
	exit 1
}

usage() {
	sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'
}

normalize_bdf() {
	local b=${1,,}
	case $b in
	????:??:??.?) echo "$b" ;;
	??:??.?) echo "0000:$b" ;;
	*) echo "$b" ;;
	esac
}

in_list() {
	local want=$1 item
	shift
	for item in "$@"; do
		[ "$(normalize_bdf "$item")" = "$want" ] && return 0
	done
	return 1
}

selected() {
	local bdf=$1
	# shellcheck disable=SC2086
	if [ -n "${PCI_ALLOWED:-}" ] && ! in_list "$bdf" ${PCI_ALLOWED}; then
		return 1
	fi
	# shellcheck disable=SC2086
	if [ -n "${PCI_BLOCKED:-}" ] && in_list "$bdf" ${PCI_BLOCKED}; then
		return 1
	fi
	return 0
}

nvme_functions() {
	local d
	for d in "$SYSFS_PCI"/*; do
		[ "$(cat "$d/class" 2>/dev/null)" = "$NVME_CLASS" ] && basename "$d"
	done
}

driver_of() {
	local link=$SYSFS_PCI/$1/driver
	if [ -e "$link" ]; then basename "$(readlink "$link")"; else echo "-"; fi
}

# Block devices of a controller bound to the kernel driver (nvme0n1 ...).
block_devices() {
	local d
	for d in "$SYSFS_PCI/$1"/nvme/nvme*/nvme*n*; do
		[ -e "$d" ] && basename "$d"
	done
}

# True when a namespace (or one of its partitions) is mounted, swapped on or held open.
in_use() {
	local dev holder
	for dev in $(block_devices "$1"); do
		if grep -q "^/dev/$dev" /proc/mounts /proc/swaps 2>/dev/null; then
			echo "/dev/$dev is mounted"
			return 0
		fi
		for holder in /sys/class/block/"$dev"/holders/* /sys/class/block/"$dev"/"$dev"p*/holders/*; do
			[ -e "$holder" ] && { echo "/dev/$dev is held by $(basename "$holder")"; return 0; }
		done
	done
	return 1
}

bind_to() {
	local bdf=$1 drv=$2 dev=$SYSFS_PCI/$1
	[ "$(driver_of "$bdf")" = "$drv" ] && return 0
	if [ -e "$dev/driver" ]; then
		echo "$bdf" >"$dev/driver/unbind" || return 1
	fi
	echo "$drv" >"$dev/driver_override" || return 1
	echo "$bdf" >/sys/bus/pci/drivers_probe 2>/dev/null
	[ "$(driver_of "$bdf")" = "$drv" ]
}

have_iommu() {
	[ -n "$(ls -A /sys/kernel/iommu_groups 2>/dev/null)" ]
}

pick_driver() {
	if [ -n "${DRIVER_OVERRIDE:-}" ]; then
		case $DRIVER_OVERRIDE in
		vfio-pci | vfio_pci) echo vfio-pci ;;
		uio_pci_generic) echo uio_pci_generic ;;
		*) die "DRIVER_OVERRIDE=$DRIVER_OVERRIDE: use vfio-pci or uio_pci_generic" ;;
		esac
	elif have_iommu; then
		echo vfio-pci
	else
		echo uio_pci_generic
	fi
}

load_module() {
	local mod=${1//-/_}
	[ -d "/sys/bus/pci/drivers/$1" ] && return 0
	modprobe "$mod" 2>/dev/null || modprobe "$1" 2>/dev/null
	[ -d "/sys/bus/pci/drivers/$1" ] || die "cannot load the $1 driver (modprobe $mod)"
}

reserve_hugepages() {
	local mb=$1 want have
	[[ $mb =~ ^[0-9]+$ ]] || die "HUGEMEM=$mb: a number of MiB"
	[ -w "$HUGEPAGES_2M" ] || die "no 2 MiB hugepage support ($HUGEPAGES_2M)"
	want=$(((mb + 1) / 2))
	echo "$want" >"$HUGEPAGES_2M" || die "cannot reserve $want hugepages"
	have=$(cat "$HUGEPAGES_2M")
	[ "$have" -ge "$want" ] || echo "setup.sh: only $have of $want hugepages reserved" >&2
	echo "hugepages: $have x 2 MiB"
}

cmd_config() {
	local drv bdf reason n=0 failed=0
	drv=$(pick_driver)
	load_module "$drv"
	if [ "$drv" = vfio-pci ] && ! have_iommu; then
		die "vfio-pci needs an IOMMU (intel_iommu=on); use DRIVER_OVERRIDE=uio_pci_generic"
	fi
	for bdf in $(nvme_functions); do
		selected "$bdf" || { echo "$bdf: skipped (PCI_ALLOWED/PCI_BLOCKED)"; continue; }
		if reason=$(in_use "$bdf"); then
			echo "$bdf: left on $(driver_of "$bdf"): $reason"
			continue
		fi
		if bind_to "$bdf" "$drv"; then
			echo "$bdf: $(driver_of "$bdf")"
			n=$((n + 1))
		else
			echo "$bdf: binding to $drv failed (now: $(driver_of "$bdf"))" >&2
			failed=1
		fi
	done
	[ -n "${HUGEMEM:-}" ] && reserve_hugepages "$HUGEMEM"
	[ $n -gt 0 ] || [ $failed = 1 ] || echo "setup.sh: no NVMe function to bind"
	return $failed
}

cmd_reset() {
	local bdf failed=0
	load_module nvme
	for bdf in $(nvme_functions); do
		selected "$bdf" || continue
		case $(driver_of "$bdf") in
		nvme) continue ;;
		esac
		# An empty override lets the device's own match (nvme) claim it again.
		if bind_to "$bdf" nvme; then
			echo "" >"$SYSFS_PCI/$bdf/driver_override"
			echo "$bdf: nvme"
		else
			echo "$bdf: binding back to nvme failed (now: $(driver_of "$bdf"))" >&2
			failed=1
		fi
	done
	if [ "${CLEAR_HUGE:-no}" = yes ] && [ -w "$HUGEPAGES_2M" ]; then
		echo 0 >"$HUGEPAGES_2M"
		echo "hugepages: released"
	fi
	return $failed
}

cmd_status() {
	local bdf n=0
	printf '%-14s %-10s %-18s %s\n' BDF VEN:DEV DRIVER "BLOCK DEVICES"
	for bdf in $(nvme_functions); do
		printf '%-14s %-10s %-18s %s\n' "$bdf" \
			"$(sed 's/^0x//' "$SYSFS_PCI/$bdf/vendor"):$(sed 's/^0x//' "$SYSFS_PCI/$bdf/device")" \
			"$(driver_of "$bdf")" "$(block_devices "$bdf" | tr '\n' ' ')"
		n=$((n + 1))
	done
	[ $n -gt 0 ] || echo "(no NVMe function)"
	if [ -r "$HUGEPAGES_2M" ]; then
		echo "hugepages: $(cat "$HUGEPAGES_2M") x 2 MiB, $(awk '/HugePages_Free/ { print $2 }' /proc/meminfo) free"
	fi
	echo "IOMMU: $(have_iommu && echo present || echo none)"
}

main() {
	local cmd=${1:-config}
	case $cmd in
	help | -h | --help)
		usage
		return 0
		;;
	config | reset | status) ;;
	*)
		usage >&2
		return 2
		;;
	esac
	[ "$(id -u)" -eq 0 ] || die "run as root"
	[ -d "$SYSFS_PCI" ] || die "no PCI bus in sysfs"
	"cmd_$cmd"
}

main "$@"
