/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reads an NVMe controller's CAP and VS registers (BAR0) from user space, the way a polled-mode
 * driver first touches a device, either through vfio-pci or through uio_pci_generic.
 *
 *   nvme_regs vfio|uio DDDD:BB:DD.F
 *
 * Prints "CAP=0x... VS=0x..." and exits 0 when the values look like an NVMe controller.
 * Built on the host by the interop harness and run inside the guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define NVME_REG_CAP  0x00
#define NVME_REG_VS   0x08
#define NVME_REGS_LEN 0x1000

struct nvme_regs {
	uint64_t cap;
	uint32_t vs;
};

static int fail(const char *what, const char *bdf)
{
	fprintf(stderr, "nvme_regs: %s (%s): %s\n", what, bdf, strerror(errno));
	return -errno;
}

/* uio_pci_generic only gives interrupts; BAR0 is mapped through the sysfs resource file. */
static int read_uio(const char *bdf, struct nvme_regs *r)
{
	char path[256];
	volatile uint32_t *bar;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", bdf);
	fd = open(path, O_RDONLY | O_SYNC);
	if (fd < 0)
		return fail("open resource0", bdf);
	bar = mmap(NULL, NVME_REGS_LEN, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (bar == MAP_FAILED)
		return fail("mmap resource0", bdf);
	/* Two 32-bit reads: the device model need not accept 64-bit MMIO. */
	r->cap = bar[NVME_REG_CAP / 4] | (uint64_t)bar[NVME_REG_CAP / 4 + 1] << 32;
	r->vs = bar[NVME_REG_VS / 4];
	munmap((void *)bar, NVME_REGS_LEN);
	return 0;
}

static int vfio_group_of(const char *bdf)
{
	char link[256], target[256];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return fail("no iommu_group", bdf);
	target[n] = '\0';
	return atoi(basename(target));
}

static int read_vfio_regs(int dev, const char *bdf, struct nvme_regs *r)
{
	struct vfio_region_info reg = {.argsz = sizeof(reg), .index = VFIO_PCI_BAR0_REGION_INDEX};
	uint32_t lo, hi;

	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &reg) < 0)
		return fail("VFIO_DEVICE_GET_REGION_INFO", bdf);
	if (!(reg.flags & VFIO_REGION_INFO_FLAG_READ) || reg.size < NVME_REGS_LEN) {
		errno = EINVAL;
		return fail("BAR0 not readable", bdf);
	}
	if (pread(dev, &lo, 4, (off_t)reg.offset + NVME_REG_CAP) != 4 ||
	    pread(dev, &hi, 4, (off_t)reg.offset + NVME_REG_CAP + 4) != 4 ||
	    pread(dev, &r->vs, 4, (off_t)reg.offset + NVME_REG_VS) != 4)
		return fail("pread BAR0", bdf);
	r->cap = lo | (uint64_t)hi << 32;
	return 0;
}

static int read_vfio(const char *bdf, struct nvme_regs *r)
{
	struct vfio_group_status status = {.argsz = sizeof(status)};
	char path[64];
	int container, group, dev, gnum, rc;

	gnum = vfio_group_of(bdf);
	if (gnum < 0)
		return gnum;
	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		return fail("open /dev/vfio/vfio", bdf);
	rc = -EINVAL;
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    !ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)) {
		fprintf(stderr, "nvme_regs: container lacks VFIO type1v2 IOMMU support\n");
		goto out_container;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", gnum);
	group = open(path, O_RDWR);
	if (group < 0) {
		rc = fail("open vfio group", bdf);
		goto out_container;
	}
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) < 0 ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "nvme_regs: group %d not viable (all its devices need vfio-pci)\n",
			gnum);
		goto out_group;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0 ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		rc = fail("attach group to a type1v2 container", bdf);
		goto out_group;
	}
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev < 0) {
		rc = fail("VFIO_GROUP_GET_DEVICE_FD", bdf);
		goto out_group;
	}
	rc = read_vfio_regs(dev, bdf, r);
	close(dev);
out_group:
	close(group);
out_container:
	close(container);
	return rc;
}

/* Plausible for any NVMe controller: not all-ones (no device), a queue size, the NVM set. */
static int regs_valid(const struct nvme_regs *r)
{
	unsigned mqes = r->cap & 0xffff;
	unsigned css_nvm = (r->cap >> 37) & 1;
	unsigned major = r->vs >> 16;

	return r->cap != UINT64_MAX && mqes > 0 && css_nvm && major >= 1 && r->vs != UINT32_MAX;
}

int main(int argc, char **argv)
{
	struct nvme_regs r = {0};
	int rc;

	if (argc != 3 || (strcmp(argv[1], "vfio") && strcmp(argv[1], "uio"))) {
		fprintf(stderr, "usage: nvme_regs vfio|uio DDDD:BB:DD.F\n");
		return 2;
	}
	rc = strcmp(argv[1], "vfio") ? read_uio(argv[2], &r) : read_vfio(argv[2], &r);
	if (rc < 0)
		return 1;
	printf("CAP=0x%016" PRIx64 " VS=0x%08" PRIx32 " (NVMe %u.%u, MQES=%u)\n", r.cap, r.vs,
	       r.vs >> 16, (r.vs >> 8) & 0xff, (unsigned)(r.cap & 0xffff) + 1);
	if (!regs_valid(&r)) {
		fprintf(stderr, "nvme_regs: these are not an NVMe controller's registers\n");
		return 1;
	}
	return 0;
}
