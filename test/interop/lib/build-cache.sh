#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the cached guest: Debian's kernel (as an uncompressed vmlinux for a direct PVH boot),
# a busybox initramfs that mounts the root over 9p, and a minbase root file system
# (mmdebstrap) with lib/packages.txt.
#
#   build-cache.sh base OUTDIR          kernel (OUTDIR/vmlinux) and root (OUTDIR/rootfs)
#   build-cache.sh initrd BASEDIR OUTFILE   initramfs for that kernel
#
# Everything is built inside a temporary sibling of the output and renamed into place only
# when complete, so an interrupted build leaves nothing that looks usable. The caller (run.sh)
# holds the cache lock. Only Debian packages from the mirror apt already uses are fetched.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# Modules the initramfs needs to reach the 9p root and stack a writable overlay on it.
INITRD_MODULES=(virtio_pci 9pnet_virtio 9p overlay)
MODE=${1:-}
case $MODE in
base) OUT=${2:?usage: build-cache.sh base OUTDIR} ;;
initrd) BASE=${2:?usage: build-cache.sh initrd BASEDIR OUTFILE} OUT=${3:?missing OUTFILE} ;;
*) echo "usage: build-cache.sh base OUTDIR | initrd BASEDIR OUTFILE" >&2; exit 2 ;;
esac

TMP=$(mktemp -d "$(dirname "$OUT")/.build-$(basename "$OUT").XXXXXX")
cleanup() {
	local jobs
	jobs=$(jobs -p)
	[ -z "$jobs" ] || { kill $jobs 2>/dev/null; wait 2>/dev/null; }
	# mmdebstrap mounts proc/sys/dev inside the target; never rm -rf across a mount.
	local m
	for m in $(awk -v p="$TMP/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf 'interop cache: %s\n' "$*" >&2; }

# The initramfs: busybox, the modules (uncompressed, numbered in load order) and /init.
build_initrd() {
	local kver ird=$TMP/initrd seen=" " kind path name
	kver=$(cat "$BASE/kernel-version")
	mkdir -p "$ird"/{bin,dev,proc,sys,lower,upper,newroot,lib/modules}
	cp /bin/busybox "$ird/bin/busybox"
	cp "$HERE/initramfs-init" "$ird/init"
	chmod 755 "$ird/init"
	for mod in "${INITRD_MODULES[@]}"; do
		while read -r kind path _; do
			[ "$kind" = insmod ] || continue
			case $seen in *" $path "*) continue ;; esac
			seen="$seen$path "
			name=$(basename "$path")
			name=$(printf '%s/lib/modules/%02d-%s' "$ird" "$(ls "$ird/lib/modules" | wc -l)" "${name%.xz}")
			case $path in
			*.xz) xz -dc "$path" >"$name" ;;
			*) cp "$path" "$name" ;;
			esac
		done < <(modprobe -d "$BASE/rootfs" -S "$kver" --show-depends "$mod")
	done
	[ -n "$(ls "$ird/lib/modules")" ] || { log "no modules resolved for the initramfs"; exit 1; }
	(cd "$ird" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$TMP/initrd.img"
	mv -f "$TMP/initrd.img" "$OUT"
}

if [ "$MODE" = initrd ]; then
	build_initrd
	exit 0
fi

# The mirror apt is configured with, for the host's own Debian release (not -security/-updates).
debian_mirror() {
	local codename=$1 f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v want="$codename" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ") && uris != "")
					{ split(uris, u, " "); print u[1]; found = 1; exit }
				types = suites = uris = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
			/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
			/^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
			END { if (!found) flush() }' "$f"
	done
	{ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
		awk -v want="$codename" '$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
			if ($(i + 1) == want) print $i }'
}

. /etc/os-release
CODENAME=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
MIRROR=$(debian_mirror "$CODENAME" | awk 'NR == 1')
[ -n "$MIRROR" ] || { log "no apt source for $CODENAME found under /etc/apt"; exit 1; }

# -- kernel ---------------------------------------------------------------------------------
# The metapackage names the current image package (read whole: no SIGPIPE under pipefail).
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ && !k { k = $2 } END { print k }'
}
KPKG=$(kernel_package)
if [ -z "$KPKG" ]; then
	apt-get update -q >&2
	KPKG=$(kernel_package)
fi
[ -n "$KPKG" ] || { log "apt-cache names no linux-image package"; exit 1; }
KVER=${KPKG#linux-image-}
mkdir -p "$TMP/dl" "$TMP/kernel" "$TMP/out"

# Download and unpack the kernel (never installed on the host) while mmdebstrap works.
build_kernel() {
	local vmlinuz off
	(cd "$TMP/dl" && { apt-get -o APT::Sandbox::User=root download -q "$KPKG" ||
		{ apt-get update -q && apt-get -o APT::Sandbox::User=root download -q "$KPKG"; }; })
	dpkg -x "$TMP"/dl/"$KPKG"_*.deb "$TMP/kernel"
	rm -f "$TMP"/dl/*.deb
	depmod -b "$TMP/kernel" "$KVER"
	# vmlinuz is a compressed bzImage; the ELF vmlinux inside boots directly through PVH.
	vmlinuz=$TMP/kernel/boot/vmlinuz-$KVER
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | awk -F: 'NR == 1 { print $1 }')
	[ -n "$off" ] || { log "no xz stream in $vmlinuz"; return 1; }
	# xz stops reading at the end of its stream: feed it without a pipe that would SIGPIPE.
	xz -dc --single-stream <(tail -c +$((off + 1)) "$vmlinuz") >"$TMP/out/vmlinux"
	[ "$(head -c 4 "$TMP/out/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] ||
		{ log "extracted vmlinux is not an ELF file"; return 1; }
	echo "$KVER" >"$TMP/out/kernel-version"
}

PKGS=$(grep -v '^[[:space:]]*\(#\|$\)' "$HERE/packages.txt" | tr -s ' \n' ',' | sed 's/,$//')
log "kernel $KPKG; root: mmdebstrap minbase $CODENAME + $PKGS from $MIRROR"
build_kernel >"$TMP/kernel.log" 2>&1 &
KPID=$!

# -- root file system -------------------------------------------------------------------------
# mmdebstrap, not debootstrap: it unpacks each package once, through apt, and takes half the
# CPU time; unsafe-io skips dpkg's fsync storm (the whole tree is renamed in only when done).
ROOT=$TMP/out/rootfs
mmdebstrap --mode=root --variant=minbase --include="$PKGS" --dpkgopt=force-unsafe-io \
	--aptopt='APT::Install-Recommends "false"' "$CODENAME" "$ROOT" "$MIRROR" >"$TMP/mmdebstrap.log" 2>&1 ||
	{ tail -n 30 "$TMP/mmdebstrap.log" >&2; log "mmdebstrap failed"; exit 1; }
wait "$KPID" || { tail -n 30 "$TMP/kernel.log" >&2; log "kernel build failed"; exit 1; }
mkdir -p "$ROOT/usr/lib/modules"
mv "$TMP/kernel/lib/modules/$KVER" "$ROOT/usr/lib/modules/"
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*_* "$ROOT"/usr/share/doc \
	"$ROOT"/usr/share/man "$ROOT"/usr/share/locale
mkdir -p "$ROOT/xfer" "$ROOT/pollux/src" "$ROOT/pollux/build"
echo pollux-guest >"$ROOT/etc/hostname"
printf '127.0.0.1 localhost pollux-guest\n' >"$ROOT/etc/hosts"
# The guest is never a mirror client: it needs no resolver and must not look for one.
: >"$ROOT/etc/resolv.conf"

echo "built $(date -u +%FT%TZ) kernel=$KPKG mirror=$MIRROR" >"$TMP/out/BUILD-INFO"
mv -T "$TMP/out" "$OUT"
log "ready in $OUT"
