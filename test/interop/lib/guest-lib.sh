# SPDX-License-Identifier: BSD-3-Clause
# Helpers for a scenario's guest_main (bash, inside the guest). Sourced by stage2.sh.
#
#   ok NAME / not_ok NAME [DETAIL] / skip NAME REASON   report one check
#   check NAME CMD...          run CMD; ok if it exits 0, else not_ok with the tail of its output
#   wait_until SECONDS CMD...  poll CMD until it succeeds (returns 1 on timeout)
#   tell_host EVENT / wait_host EVENT [SECONDS]   meet the scenario's host_run through /xfer
#   nvmet_tcp_target NQN PORT FILE   export FILE as namespace 1 of NQN on a kernel nvmet-tcp port
#   nvme_ctrl_by_nqn NQN       print the nvmeN controller connected to NQN
#   nvme_ns_dev CTRL [NSID]    print the block device of a controller's namespace
#   pci_bind BDF DRIVER        rebind a PCI device (driver_override + drivers_probe)
#   run_shown CMD...           run CMD showing its output (use inside check)
#
# Results go to the console and to /xfer/results, which run.sh counts (checks.sh).

RESULTS=/xfer/results
LOG_PREFIX=
# shellcheck source=checks.sh
. /xfer/checks.sh

tell_host() { : >"/xfer/guest-$1"; }

wait_host() { wait_until "${2:-60}" test -e "/xfer/host-$1"; }

nvmet_tcp_target() {
	local nqn=$1 port=$2 file=$3 cfg=/sys/kernel/config/nvmet
	modprobe -a nvmet nvmet-tcp || return 1
	mkdir "$cfg/subsystems/$nqn" || return 1
	echo 1 >"$cfg/subsystems/$nqn/attr_allow_any_host"
	mkdir "$cfg/subsystems/$nqn/namespaces/1"
	echo "$file" >"$cfg/subsystems/$nqn/namespaces/1/device_path"
	# A tmpfs file cannot be opened O_DIRECT.
	echo 1 >"$cfg/subsystems/$nqn/namespaces/1/buffered_io"
	echo 1 >"$cfg/subsystems/$nqn/namespaces/1/enable" || return 1
	mkdir "$cfg/ports/1"
	echo tcp >"$cfg/ports/1/addr_trtype"
	echo ipv4 >"$cfg/ports/1/addr_adrfam"
	echo 0.0.0.0 >"$cfg/ports/1/addr_traddr"
	echo "$port" >"$cfg/ports/1/addr_trsvcid"
	ln -s "$cfg/subsystems/$nqn" "$cfg/ports/1/subsystems/$nqn"
}

# nvme_ns_dev CTRL [NSID]: the block device of a controller's namespace. With native
# multipath the controller holds a hidden path nvmeXcYnZ whose device is the head nvmeXnZ.
nvme_ns_dev() {
	local ctrl=$1 nsid=${2:-1} e
	for e in /sys/class/nvme/"$ctrl"/nvme*n"$nsid"; do
		e=$(basename "$e")
		case $e in
		nvme*c*n*) e=$(echo "$e" | sed 's/^\(nvme[0-9]*\)c[0-9]*\(n[0-9]*\)$/\1\2/') ;;
		esac
		[ -b "/dev/$e" ] && { echo "/dev/$e"; return 0; }
	done
	return 1
}

nvme_ctrl_by_nqn() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$1" ] && { basename "$c"; return 0; }
	done
	return 1
}

# pci_bind BDF DRIVER: move a PCI device to DRIVER (driver_override + drivers_probe).
pci_bind() {
	local bdf=$1 drv=$2 dev=/sys/bus/pci/devices/$1
	[ -e "$dev/driver" ] && echo "$bdf" >"$dev/driver/unbind"
	echo "$drv" >"$dev/driver_override"
	echo "$bdf" >/sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "$dev/driver")")" = "$drv" ]
}

# run_shown CMD...: run CMD and show its output on the console even inside check, which
# otherwise shows output only on failure (for values worth seeing in the log).
run_shown() {
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/    /' >/dev/console
	return $rc
}
