# SPDX-License-Identifier: BSD-3-Clause
# Shared by the PCIe scenarios (nvme_vfio.sh, nvme_uio.sh): Pollux's user-space NVMe driver on
# QEMU's emulated controller. Sourced on the host by the scenario; the guest_* functions run
# in the guest.
#
#   pcie_build_io_tool    host_setup: build tools/nvme_pcie_io.c against $POLLUX_BUILD's
#                         libraries into $XFER (skipped in the guest when that fails)
#   guest_pcie_setup_sh BDF DRIVER [ENV...]   bind with scripts/setup.sh and check the result
#   guest_pcie_pollux_tools BDF   hello_nvme, nvme_identify, nvme_perf, nvme_pcie_io
#   guest_pcie_bdevperf BDF       bdevperf on the nvme bdev (bdev_nvme_attach_controller
#                                 trtype pcie): verify 4 KiB and 128 KiB, write_zeroes,
#                                 unmap, reset
#   guest_pcie_reset BDF          scripts/setup.sh reset, back on the kernel's nvme driver

pcie_build_io_tool() {
	local libs
	libs=$(ls "$POLLUX_BUILD"/lib/*/libplx_*.a 2>/dev/null)
	[ -n "$libs" ] || { echo "no Pollux libraries in $POLLUX_BUILD"; return 0; }
	# Whole archives: the transports register themselves from constructors.
	# shellcheck disable=SC2086
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$REPO/include" \
		-o "$XFER/nvme_pcie_io" "$HERE/tools/nvme_pcie_io.c" \
		-Wl,--whole-archive $libs -Wl,--no-whole-archive \
		-ljansson -luuid -luring -laio -lpthread -lm >"$RUN/nvme_pcie_io-build.log" 2>&1 ||
		{ echo "nvme_pcie_io did not build, see $RUN/nvme_pcie_io-build.log"; rm -f "$XFER/nvme_pcie_io"; }
	return 0
}

guest_pcie_driver_is() {
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$1/driver")")" = "$2" ]
}

guest_pcie_setup_sh() {
	local bdf=$1 drv=$2
	shift 2
	check "setup_sh_config_$drv" run_shown env PCI_ALLOWED="$bdf" "$@" \
		/pollux/src/scripts/setup.sh config || return 1
	check "setup_sh_bound_$drv" guest_pcie_driver_is "$bdf" "$drv" || return 1
	check setup_sh_status sh -c "/pollux/src/scripts/setup.sh status | tee /dev/console |
		grep -q '^$bdf .* $drv '"
}

# One Pollux tool: skipped while the build tree does not have it yet.
guest_pcie_tool() {
	local name=$1 bin=$2
	shift 2
	if [ ! -x "$bin" ]; then
		skip "$name" "$bin not built"
		return 0
	fi
	check "$name" run_shown timeout 60 "$bin" "$@"
}

guest_pcie_hello() {
	local out
	out=$(timeout 60 /pollux/build/examples/hello_nvme/hello_nvme -r "trtype:pcie traddr:$1" 2>&1)
	local rc=$?
	printf '%s\n' "$out"
	[ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q 'Hello world!'
}

guest_pcie_pollux_tools() {
	local bdf=$1 trid="trtype:pcie traddr:$1" b=/pollux/build
	if [ -x $b/examples/hello_nvme/hello_nvme ]; then
		check pcie_hello_nvme run_shown guest_pcie_hello "$bdf"
	else
		skip pcie_hello_nvme "hello_nvme not built"
	fi
	guest_pcie_tool pcie_nvme_identify $b/app/nvme_identify/nvme_identify -r "$trid"
	guest_pcie_tool pcie_nvme_perf_randread $b/app/nvme_perf/nvme_perf -r "$trid" \
		-q 16 -o 4096 -w randread -t 2
	guest_pcie_tool pcie_nvme_perf_randwrite $b/app/nvme_perf/nvme_perf -r "$trid" \
		-q 16 -o 4096 -w randwrite -t 2
	if [ -x /xfer/nvme_pcie_io ]; then
		check pcie_data_paths run_shown timeout 60 /xfer/nvme_pcie_io "$bdf"
	else
		skip pcie_data_paths "nvme_pcie_io did not build on the host"
	fi
}

# guest_pcie_bdevperf_run NAME BDF ARGS...: bdevperf ARGS on Nvme0n1, from a config that
# attaches BDF as Nvme0; its output is shown and kept in /xfer/NAME.log. Passes when bdevperf
# exits 0 and bdevperf_ok accepts the output.
guest_pcie_bdevperf_run() {
	local name=$1 bdf=$2 conf=/tmp/bdev_nvme_pcie.json log=/xfer/$1.log rc why
	local bin=/pollux/build/app/bdevperf/bdevperf
	shift 2
	if [ ! -x $bin ]; then
		skip "$name" "$bin not built"
		return 0
	fi
	printf '%s' '{"subsystems": [{"subsystem": "bdev", "config": [' \
		'{"method": "bdev_nvme_attach_controller", "params": ' \
		'{"name": "Nvme0", "trtype": "pcie", "traddr": "'"$bdf"'"}}]}]}' >$conf
	timeout -k 5 60 $bin --json $conf -T Nvme0n1 "$@" </dev/null >"$log" 2>&1
	rc=$?
	sed 's/^/    /' "$log"
	if grep -q 'does not support the .* workload' "$log"; then
		skip "$name" "the emulated controller does not support it"
		return 0
	fi
	if [ $rc -ne 0 ]; then
		not_ok "$name" "'bdevperf $*' exited $rc"
		return 1
	fi
	if ! why=$(bdevperf_ok "$log"); then
		not_ok "$name" "$why"
		return 1
	fi
	ok "$name"
}

guest_pcie_bdevperf() {
	local bdf=$1
	guest_pcie_bdevperf_run pcie_bdevperf_verify_4k "$bdf" -q 32 -o 4096 -w verify -t 3
	# 32 pages per command: PRP1 plus a PRP list.
	guest_pcie_bdevperf_run pcie_bdevperf_verify_128k "$bdf" -q 32 -o 131072 -w verify -t 3
	guest_pcie_bdevperf_run pcie_bdevperf_write_zeroes "$bdf" -q 16 -o 65536 -w write_zeroes -t 2
	guest_pcie_bdevperf_run pcie_bdevperf_unmap "$bdf" -q 16 -o 65536 -w unmap -t 2
	# Verify I/O while the bdev is reset (a controller reset of the PCIe device): the bdev
	# layer holds new I/O and drains what is in flight first, and the module retries what a
	# reset aborts, so nothing may fail and nothing read back may differ.
	guest_pcie_bdevperf_run pcie_bdevperf_reset "$bdf" -q 16 -o 4096 -w reset -t 3
}

guest_pcie_reset() {
	check setup_sh_reset run_shown env PCI_ALLOWED="$1" /pollux/src/scripts/setup.sh reset &&
		check setup_sh_back_on_nvme guest_pcie_driver_is "$1" nvme
}
