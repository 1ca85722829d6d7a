# SPDX-License-Identifier: BSD-3-Clause
# Scenario 3b: a program in the guest reaches QEMU's emulated NVMe controller bound to
# uio_pci_generic, without a vIOMMU (DMA then uses physical addresses; the Debian kernel has no
# vfio no-IOMMU mode). Proof: bind, map BAR0 through sysfs, read CAP and VS.
DESCRIPTION="emulated NVMe through uio_pci_generic, no vIOMMU: CAP/VS, setup.sh, Pollux PCIe driver tools, bdevperf on the nvme bdev"
TIMEOUT=300
REQUIRES="gcc"
NVME=1

# shellcheck source=../lib/nvme-pcie.sh
. "$HERE/lib/nvme-pcie.sh"

host_setup() {
	pcie_build_io_tool
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o "$XFER/nvme_regs" \
		"$HERE/tools/nvme_regs.c"
}

guest_main() {
	local bdf
	bdf=$(lspci -Dn -d 1b36:0010 | awk 'NR == 1 { print $1 }')
	check nvme_emulated_present test -n "$bdf" || return 1
	check uio_pci_generic_module modprobe uio_pci_generic || return 1
	check uio_pci_generic_bind pci_bind "$bdf" uio_pci_generic || return 1
	check uio_device_node sh -c "ls /sys/bus/pci/devices/$bdf/uio | grep -q '^uio[0-9]'"
	check uio_read_cap_vs run_shown /xfer/nvme_regs uio "$bdf"
	check nvme_rebind_kernel_driver pci_bind "$bdf" nvme

	# Pollux's own driver: bind with scripts/setup.sh, run the tools, hand the device back.
	guest_pcie_setup_sh "$bdf" uio_pci_generic DRIVER_OVERRIDE=uio_pci_generic HUGEMEM=64 || return 1
	guest_pcie_pollux_tools "$bdf"
	guest_pcie_bdevperf "$bdf"
	guest_pcie_reset "$bdf"
}
