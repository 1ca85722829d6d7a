#!/usr/bin/env bash
# Install every Debian package Pollux needs to build, test, fuzz and benchmark.
# Debian 12; run as root (the Makefile runs it when something is missing).
set -euo pipefail

PACKAGES=(
	# build
	gcc make meson ninja-build pkg-config
	libjansson-dev uuid-dev
	# aio and uring bdevs
	libaio-dev liburing-dev
	# tests, sanitizers, fuzzing, formatting
	libcunit1-dev python3 clang libclang-rt-14-dev clang-format
	# benchmarks
	procps fio
)
# Interop tests (test/interop): a QEMU guest with Debian's kernel, and Debian's peers. Without
# Recommends, which for QEMU would pull in a whole graphical stack.
INTEROP_PACKAGES=(
	qemu-system-x86 qemu-system-common qemu-utils mmdebstrap busybox-static kmod cpio xz-utils
	tgt iproute2 util-linux debian-archive-keyring gpgv
)

if [ "$(id -u)" -ne 0 ]; then
	echo "pkgdep.sh: run as root (apt-get install needs it)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when an install fails with the current ones.
apt_install() {
	if ! apt-get install -y -q "$@"; then
		apt-get update -q
		apt-get install -y -q "$@"
	fi
}
apt_install "${PACKAGES[@]}"
apt_install --no-install-recommends "${INTEROP_PACKAGES[@]}"
