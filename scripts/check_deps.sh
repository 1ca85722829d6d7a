#!/usr/bin/env bash
# Exit 0 when everything scripts/pkgdep.sh installs is present; used by the Makefile.
for cmd in gcc meson ninja pkg-config python3 clang clang-format; do
	command -v "$cmd" >/dev/null 2>&1 || exit 1
done
pkg-config --exists jansson uuid cunit || exit 1
# The uring bdev links liburing (pkg-config); libaio ships no .pc file, so look for its header.
pkg-config --exists liburing || exit 1
[ -f /usr/include/libaio.h ] || exit 1
# libFuzzer's runtime comes with libclang-rt-14-dev.
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || exit 1
# Interop harness (test/interop): QEMU, the guest cache build and the host-side peers.
for cmd in qemu-system-x86_64 qemu-storage-daemon mmdebstrap depmod cpio xz tgtd ss flock; do
	command -v "$cmd" >/dev/null 2>&1 || exit 1
done
[ -x /bin/busybox ] || exit 1
exit 0
