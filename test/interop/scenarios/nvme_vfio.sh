# SPDX-License-Identifier: BSD-3-Clause
# Scenario 3a: a program in the guest drives QEMU's emulated NVMe controller through vfio-pci
# behind an emulated Intel IOMMU (q35 + intel-iommu, intel_iommu=on): the setup Pollux's
# user-space NVMe driver needs for DMA. Proof: bind, open the VFIO group and device, read
# CAP and VS from BAR0 (tools/nvme_regs.c).
DESCRIPTION="emulated NVMe through vfio-pci with a vIOMMU: CAP/VS, setup.sh, Pollux PCIe driver tools, bdevperf on the nvme bdev"
TIMEOUT=300
REQUIRES="gcc"
NVME=1
VIOMMU=1

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
	check vfio_iommu_group test -e "/sys/bus/pci/devices/$bdf/iommu_group" || return 1
	check vfio_pci_module modprobe vfio-pci || return 1
	check vfio_pci_bind pci_bind "$bdf" vfio-pci || return 1
	check vfio_read_cap_vs run_shown /xfer/nvme_regs vfio "$bdf"
	check nvme_rebind_kernel_driver pci_bind "$bdf" nvme

	# Pollux's own driver: bind with scripts/setup.sh, run the tools, hand the device back.
	guest_pcie_setup_sh "$bdf" vfio-pci || return 1
	guest_pcie_pollux_tools "$bdf"
	guest_pcie_bdevperf "$bdf"
	guest_pcie_reset "$bdf"
}
