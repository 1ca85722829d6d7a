#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Pollux interop harness: boots a QEMU (TCG) guest running Debian's kernel and userspace, with
# the devices a scenario asks for, runs the scenario inside, and counts its checks.
#
#   test/interop/run.sh [--quick] [--list] [NAME...]
#
# --quick runs the scenarios marked QUICK=1 (what `make check` runs); NAMEs pick scenarios
# (test/interop/scenarios/NAME.sh); no argument runs all. The last line is
# "N passed, N failed[, N skipped]"; the exit code is 1 when a check failed.
#
# Environment: POLLUX_INTEROP_CACHE (default /var/cache/pollux-interop) holds the guest kernel,
# initramfs and root file system, rebuilt only when lib/packages.txt or the build scripts
# change; POLLUX_BUILD (default build/) is the Pollux build tree the guest sees at
# /pollux/build; POLLUX_INTEROP_KEEP=1 keeps every work folder (failed runs keep theirs).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE_ROOT=${POLLUX_INTEROP_CACHE:-/var/cache/pollux-interop}
POLLUX_BUILD=${POLLUX_BUILD:-$REPO/build}
QEMU=${QEMU:-qemu-system-x86_64}
# Ports the host side may listen on (127.0.0.1 only); no other Pollux test uses this range.
RANGE_FIRST=44200
RANGE_LAST=44299
# Port reservations are shared by every run on the machine, whatever cache it uses.
RANGE_LOCKS=${POLLUX_INTEROP_PORT_LOCKS:-/tmp/pollux-interop-ports}
CACHE_LOCK_WAIT=1200
DEFAULT_TIMEOUT=180

PASSED=0
FAILED=0
SKIPPED=0
FAILURES=()
CHILD=
WORK=
MAIN_PID=$$
BUILDING=0

say() { printf '%s\n' "$*"; }

usage() {
	sed -n '4,15p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

# -- process hygiene ----------------------------------------------------------------------------
descendants() {
	local pid=$1 kids k
	kids=$(ps -o pid= --ppid "$pid" 2>/dev/null) || return 0
	for k in $kids; do
		echo "$k"
		descendants "$k"
	done
}

# Stop PID and everything below it: TERM, a grace period, then KILL. The tree is listed
# before signalling because a dead parent's children are re-parented out of reach.
kill_tree() {
	local pid=$1 pids p i
	pids="$pid $(descendants "$pid")"
	kill -TERM $pids 2>/dev/null
	for i in $(seq 1 50); do
		for p in $pids; do kill -0 "$p" 2>/dev/null && break; done
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.1
	done
	pids="$pids $(descendants "$pid")"
	kill -KILL $pids 2>/dev/null
	return 0
}

on_signal() {
	trap - INT TERM
	say "interop: interrupted, stopping"
	[ -n "$CHILD" ] && kill_tree "$CHILD"
	wait 2>/dev/null
	# A killed cache build may not have finished removing its partial tree; we still hold
	# the cache lock, so nobody else is building.
	[ "$BUILDING" = 1 ] && prune_builds
	[ -n "$WORK" ] && rm -rf --one-file-system "$WORK"
	exit 130
}
trap on_signal INT TERM

# -- scenarios ----------------------------------------------------------------------------------
all_scenarios() {
	local f
	for f in "$HERE"/scenarios/*.sh; do basename "$f" .sh; done
}

is_quick() { grep -q '^QUICK=1' "$HERE/scenarios/$1.sh"; }

# -- guest cache --------------------------------------------------------------------------------
cache_keys() {
	KEY_BASE=$(cat "$HERE/lib/build-cache.sh" "$HERE/lib/packages.txt" | sha256sum | cut -c1-16)
	KEY_INITRD=$( (echo "$KEY_BASE"; cat "$HERE/lib/build-cache.sh" "$HERE/lib/initramfs-init") |
		sha256sum | cut -c1-16)
	BASE=$CACHE_ROOT/base-$KEY_BASE
	INITRD=$CACHE_ROOT/initrd-$KEY_INITRD.img
}

cache_tools_missing() {
	local t missing=
	for t in mmdebstrap apt-get dpkg depmod modprobe cpio xz; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx switch_root ||
		missing="$missing busybox(-static)"
	[ "$(id -u)" -eq 0 ] || missing="$missing root(for mmdebstrap)"
	echo "${missing# }"
}

# Runs a command in the background and waits, so that a signal reaches our trap at once.
run_bg() {
	"$@" &
	CHILD=$!
	wait "$CHILD"
	local rc=$?
	CHILD=
	return $rc
}

# Remove partial builds (left by a killed run). Called with the cache lock held, so no build
# is in progress.
prune_builds() {
	local d m
	for d in "$CACHE_ROOT"/.build-*; do
		[ -e "$d" ] || continue
		for m in $(awk -v p="$d/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r); do
			umount -l "$m" 2>/dev/null
		done
		rm -rf --one-file-system "$d"
	done
}

# Also drop all but the two most recently used bases (lock held).
prune_cache() {
	local d old
	prune_builds
	old=$(ls -1dt "$CACHE_ROOT"/base-* 2>/dev/null | tail -n +3)
	for d in $old; do rm -rf --one-file-system "$d"; done
	old=$(ls -1t "$CACHE_ROOT"/initrd-*.img 2>/dev/null | tail -n +3)
	for d in $old; do rm -f "$d"; done
}

ensure_cache() {
	local lockfd t0
	cache_keys
	if [ ! -f "$BASE/vmlinux" ] || [ ! -f "$INITRD" ]; then
		mkdir -p "$CACHE_ROOT" || return 1
		exec {lockfd}>"$CACHE_ROOT/.lock"
		if ! flock -n "$lockfd"; then
			say "interop: waiting for another run that is building the guest cache"
			flock -w "$CACHE_LOCK_WAIT" "$lockfd" || { say "interop: cache lock timeout"; return 1; }
		fi
		if [ ! -f "$BASE/vmlinux" ]; then
			prune_cache
			say "interop: building the guest kernel and root file system in $BASE"
			t0=$SECONDS
			BUILDING=1
			run_bg "$HERE/lib/build-cache.sh" base "$BASE" || { exec {lockfd}>&-; return 1; }
			BUILDING=0
			say "interop: guest base built in $((SECONDS - t0))s"
		fi
		if [ ! -f "$INITRD" ]; then
			run_bg "$HERE/lib/build-cache.sh" initrd "$BASE" "$INITRD" || { exec {lockfd}>&-; return 1; }
		fi
		exec {lockfd}>&-
	fi
	touch "$BASE" "$INITRD" 2>/dev/null # most recently used, for prune_cache
	return 0
}

# -- ports --------------------------------------------------------------------------------------
# alloc_port VAR: a free port in our range, reserved (flock) until this subshell and every
# child that inherited the descriptor are gone, so concurrent runs never share one.
alloc_port() {
	local p fd
	mkdir -p "$RANGE_LOCKS"
	for p in $(seq "$RANGE_FIRST" "$RANGE_LAST"); do
		exec {fd}>"$RANGE_LOCKS/$p"
		if flock -n "$fd"; then
			if [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ]; then
				printf -v "$1" '%s' "$p"
				return 0
			fi
		fi
		exec {fd}>&-
	done
	return 1
}

# -- one scenario (runs in a subshell) ------------------------------------------------------------
host_fail() {
	echo "not ok - $1${2:+: $2}" >>"$RUN/host-results"
	say "[$NAME host] not ok - $1${2:+: $2}"
}

scenario_cleanup() {
	local pid label p
	if [ -f "$RUN/daemons" ]; then
		while read -r pid label; do
			kill_tree "$pid"
		done <"$RUN/daemons"
	fi
	[ -n "${GPID:-}" ] && kill_tree "$GPID"
	[ -n "${QPID:-}" ] && kill_tree "$QPID"
	[ -n "${HPID:-}" ] && kill_tree "$HPID"
	if [ -f "$RUN/cleanup-paths" ]; then
		while read -r p; do
			if [ -d "$p" ]; then rmdir "$p" 2>/dev/null; else rm -f "$p"; fi
		done <"$RUN/cleanup-paths"
	fi
	wait 2>/dev/null
}

qemu_args() {
	local machine=${MACHINE:-pc} mem=${MEM:-512} append i img fwd name gport netopt
	append="console=ttyS0 quiet loglevel=1 panic=-1 ${CMDLINE:-}"
	if [ "${VIOMMU:-0}" = 1 ]; then
		machine=q35
		append="$append intel_iommu=on"
	fi
	QARGS=(-nodefaults -no-user-config -display none -no-reboot -machine "$machine" -cpu max
		-smp "${SMP:-1}" -m "$mem" -kernel "$BASE/vmlinux" -initrd "$INITRD" -append "$append"
		-serial "file:$RUN/console.log")
	# A vIOMMU has to exist before the devices it translates for.
	if [ "${VIOMMU:-0}" = 1 ]; then
		QARGS+=(-device intel-iommu)
	fi
	# vhost-user back ends map guest memory: it has to be a shared memfd.
	if [ -n "${VHOST_USER_BLK:-}" ]; then
		QARGS+=(-object "memory-backend-memfd,id=mem,size=${mem}M,share=on" -numa node,memdev=mem
			-chardev "socket,id=vub0,path=$VHOST_USER_BLK"
			-device "vhost-user-blk-pci,chardev=vub0,num-queues=${VHOST_USER_BLK_QUEUES:-2}")
	fi
	QARGS+=(-virtfs "local,path=$BASE/rootfs,mount_tag=root,security_model=none,readonly=on"
		-virtfs "local,path=$XFER,mount_tag=xfer,security_model=none"
		-virtfs "local,path=$REPO,mount_tag=psrc,security_model=none,readonly=on")
	[ -d "$POLLUX_BUILD" ] &&
		QARGS+=(-virtfs "local,path=$POLLUX_BUILD,mount_tag=pbuild,security_model=none,readonly=on")
	# restrict=on cuts the guest off from everything but the forwards, unless the scenario
	# needs to reach host services on 127.0.0.1 (the guest's 10.0.2.2).
	netopt="user,id=n0,restrict=$([ "${GUEST_TO_HOST:-0}" = 1 ] && echo off || echo on)"
	for fwd in ${HOSTFWD:-}; do
		name=${fwd%%:*}
		gport=${fwd#*:}
		eval "netopt=\"\$netopt,hostfwd=tcp:127.0.0.1:\${PORT_$name}-:$gport\""
	done
	QARGS+=(-netdev "$netopt" -device virtio-net-pci,netdev=n0)
	for i in $(seq 1 "${NVME:-0}"); do
		img=$RUN/nvme$i.img
		truncate -s "${NVME_SIZE:-64M}" "$img"
		QARGS+=(-drive "file=$img,if=none,id=nv$i,format=raw"
			-device "nvme,serial=pollux-nvme$i,drive=nv$i")
	done
	QARGS+=("${QEMU_EXTRA[@]}")
}

run_one() {
	NAME=$1
	RUN=$WORK/$NAME
	XFER=$RUN/xfer
	QPID='' HPID='' GPID=''
	SUBSHELL_PID=$BASHPID
	mkdir -p "$XFER"
	: >"$RUN/host-results"
	: >"$XFER/results"
	trap scenario_cleanup EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT

	TIMEOUT=$DEFAULT_TIMEOUT QEMU_EXTRA=()
	# shellcheck source=lib/host-lib.sh
	. "$HERE/lib/host-lib.sh"
	# shellcheck source=/dev/null
	. "$HERE/scenarios/$NAME.sh"

	local t missing='' rc v
	for t in ${REQUIRES:-}; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		skip "$NAME" "host tool missing:$missing (scripts/pkgdep.sh installs it)"
		return 0
	fi
	for v in ${HOST_PORTS:-}; do
		alloc_port "PORT_$v" || { host_fail "${NAME}_ports" "no free port in $RANGE_FIRST-$RANGE_LAST"; return 0; }
		export "PORT_$v"
		v=PORT_$v
		say "[$NAME host] $v=${!v} on 127.0.0.1"
	done

	if declare -F host_setup >/dev/null && ! host_setup; then
		host_fail "${NAME}_host_setup" "host_setup failed, see $RUN"
		return 0
	fi

	cp "$HERE/lib/stage2.sh" "$HERE/lib/guest-lib.sh" "$HERE/lib/checks.sh" "$XFER/"
	{
		for v in ${!PORT_*}; do declare -p "$v"; done
		echo "NAME=$NAME"
		[ -n "${GUEST_ENV:-}" ] && printf '%s\n' "$GUEST_ENV"
	} >"$XFER/scenario.env"
	declare -f $(compgen -A function guest_) >"$XFER/scenario-guest.sh"

	qemu_args
	: >"$RUN/console.log"
	timeout --foreground -k 5 "$TIMEOUT" "$QEMU" "${QARGS[@]}" </dev/null >"$RUN/qemu.log" 2>&1 &
	QPID=$!
	# If run.sh itself dies without its trap (SIGKILL), stop the guest now, not at the timeout;
	# our TERM trap then removes the daemons.
	(
		while kill -0 "$MAIN_PID" 2>/dev/null; do sleep 1; done
		kill -TERM "$QPID" "$SUBSHELL_PID" 2>/dev/null
	) &
	GPID=$!
	if declare -F host_run >/dev/null; then
		host_run &
		HPID=$!
	fi
	tail -n +1 -f --pid="$QPID" "$RUN/console.log" 2>/dev/null | sed -u "s/\r$//; s/^/[$NAME] /"
	wait "$QPID"
	rc=$?
	QPID=
	kill_tree "$GPID"
	wait "$GPID" 2>/dev/null
	GPID=
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		host_fail "${NAME}_finished" "timed out after ${TIMEOUT}s (QEMU killed)"
	elif [ "$rc" -ne 0 ]; then
		host_fail "${NAME}_qemu" "QEMU exited $rc: $(tail -n 3 "$RUN/qemu.log" | tr '\n' ' ')"
	fi
	if [ -n "$HPID" ]; then
		# host_run waits on the guest; with the guest gone it has a few seconds left.
		for t in $(seq 1 50); do kill -0 "$HPID" 2>/dev/null || break; sleep 0.1; done
		kill_tree "$HPID"
		wait "$HPID" 2>/dev/null
		HPID=
	fi
	if [ -f "$XFER/guest-exit" ]; then
		rc=$(cat "$XFER/guest-exit")
		[ "$rc" = 0 ] || grep -q '^not ok - ' "$XFER/results" ||
			host_fail "${NAME}_guest_main" "guest_main exited $rc without a failed check"
	else
		grep -q "^not ok - ${NAME}_finished" "$RUN/host-results" ||
			host_fail "${NAME}_finished" "the guest did not finish guest_main"
	fi
	if declare -F host_finish >/dev/null && ! host_finish; then
		host_fail "${NAME}_host_finish" "host_finish failed"
	fi
	return 0
}

count_results() {
	local name=$1 run=$WORK/$1 p f s line
	p=$(cat "$run/xfer/results" "$run/host-results" 2>/dev/null | grep -c '^ok - ')
	f=$(cat "$run/xfer/results" "$run/host-results" 2>/dev/null | grep -c '^not ok - ')
	s=$(cat "$run/xfer/results" "$run/host-results" 2>/dev/null | grep -c '^skip - ')
	if [ $((p + f + s)) -eq 0 ]; then
		f=1
		echo "not ok - ${name}_reported: the scenario reported no check" >>"$run/host-results"
	fi
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	SKIPPED=$((SKIPPED + s))
	while read -r line; do FAILURES+=("$name: $line"); done < <(cat "$run/xfer/results" \
		"$run/host-results" 2>/dev/null | grep -e '^not ok - ' -e '^skip - ')
	return $((f > 0))
}

summary() {
	local line s="$PASSED passed, $FAILED failed"
	[ "$SKIPPED" -gt 0 ] && s="$s, $SKIPPED skipped"
	if [ ${#FAILURES[@]} -gt 0 ]; then
		say "interop: not passed (failed or skipped):"
		for line in "${FAILURES[@]}"; do say "  $line"; done
	fi
	say "$s"
}

skip_all() {
	local n
	for n in "${SELECTED[@]}"; do
		say "skip - $n: $1"
		SKIPPED=$((SKIPPED + 1))
	done
	summary
	exit 0
}

main() {
	local quick=0 names=() n t0 missing
	while [ $# -gt 0 ]; do
		case $1 in
		--quick) quick=1 ;;
		--list)
			for n in $(all_scenarios); do
				printf '%-24s %s%s\n' "$n" "$(is_quick "$n" && echo '[quick] ')" \
					"$(sed -n 's/^DESCRIPTION="\(.*\)"$/\1/p' "$HERE/scenarios/$n.sh")"
			done
			exit 0
			;;
		-h | --help) usage ;;
		-*) usage ;;
		*) names+=("$1") ;;
		esac
		shift
	done
	SELECTED=()
	if [ ${#names[@]} -gt 0 ]; then
		for n in "${names[@]}"; do
			n=$(basename "$n" .sh)
			[ -f "$HERE/scenarios/$n.sh" ] || { say "interop: no scenario $n (see --list)"; exit 2; }
			SELECTED+=("$n")
		done
	else
		for n in $(all_scenarios); do
			[ $quick = 1 ] && ! is_quick "$n" && continue
			SELECTED+=("$n")
		done
	fi

	command -v "$QEMU" >/dev/null 2>&1 ||
		skip_all "$QEMU not installed (scripts/pkgdep.sh installs qemu-system-x86)"
	command -v timeout >/dev/null && command -v ss >/dev/null && command -v flock >/dev/null ||
		skip_all "coreutils timeout, iproute2 ss or util-linux flock missing"
	cache_keys
	if [ ! -f "$BASE/vmlinux" ] || [ ! -f "$INITRD" ]; then
		missing=$(cache_tools_missing)
		[ -z "$missing" ] || skip_all "cannot build the guest, missing: $missing (scripts/pkgdep.sh)"
	fi
	t0=$SECONDS
	if ! ensure_cache; then
		say "not ok - guest_cache: building the guest failed"
		FAILED=$((FAILED + 1))
		FAILURES+=("guest_cache: not ok - building the guest failed")
		summary
		exit 1
	fi

	WORK=$(mktemp -d "${TMPDIR:-/tmp}/pollux-interop.XXXXXX")
	local failed_any=0 st
	for n in "${SELECTED[@]}"; do
		say "== $n"
		st=$SECONDS
		run_one "$n" &
		CHILD=$!
		watchdog "$n" "$CHILD"
		CHILD=
		if count_results "$n"; then
			say "== $n: done in $((SECONDS - st))s"
			[ "${POLLUX_INTEROP_KEEP:-0}" = 1 ] || rm -rf --one-file-system "${WORK:?}/$n"
		else
			failed_any=1
			rm -f "$WORK/$n"/*.img
			say "== $n: FAILED in $((SECONDS - st))s; logs in $WORK/$n"
		fi
	done
	[ $failed_any = 1 ] || [ "${POLLUX_INTEROP_KEEP:-0}" = 1 ] || rm -rf --one-file-system "$WORK"
	say "interop: $((SECONDS - t0))s in all"
	summary
	[ "$FAILED" -eq 0 ]
}

# The subshell enforces the scenario's own timeout on QEMU; this is the backstop for the
# host-side parts (a host_run or host_finish that hangs).
watchdog() {
	local name=$1 pid=$2 limit timeout
	timeout=$(sed -n 's/^TIMEOUT=\([0-9]*\).*/\1/p' "$HERE/scenarios/$name.sh")
	limit=$((SECONDS + ${timeout:-$DEFAULT_TIMEOUT} + 60))
	while kill -0 "$pid" 2>/dev/null; do
		if [ $SECONDS -ge $limit ]; then
			say "interop: $name overran its timeout, killing it"
			kill_tree "$pid"
			echo "not ok - ${name}_finished: killed by the harness watchdog" >>"$WORK/$name/host-results"
			break
		fi
		sleep 0.5
	done
	wait "$pid" 2>/dev/null
}

main "$@"
