/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI functions from user space: find NVMe controllers in sysfs, open them through vfio-pci
 * (container, group, device; BAR0 and config space are regions of the device fd) or
 * uio_pci_generic (BAR0 is sysfs resource0, config space is sysfs config; uio itself only
 * gives interrupts, which a polled driver does not use).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pollux/log.h"
#include "nvme_pcie_internal.h"

#define SYSFS_PCI	     "/sys/bus/pci/devices"
#define NVME_CLASS	     0x010802u
#define PCI_COMMAND	     0x04
#define PCI_CMD_MEMORY	     0x2
#define PCI_CMD_MASTER	     0x4
#define PCI_CMD_INTX_DISABLE 0x400

int pcie_bdf_normalize(const char *in, char *out, size_t len)
{
	unsigned dom = 0, bus, dev, fn;
	char tail;

	if (sscanf(in, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) != 4) {
		dom = 0;
		if (sscanf(in, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3) {
			return -EINVAL;
		}
	}
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7) {
		return -EINVAL;
	}
	snprintf(out, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

static int read_sysfs_u32(const char *bdf, const char *attr, uint32_t *value)
{
	char path[256], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SYSFS_PCI "/%.32s/%.32s", bdf, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return -EIO;
	}
	buf[n] = '\0';
	*value = (uint32_t)strtoul(buf, NULL, 0);
	return 0;
}

int pcie_dev_driver_name(const char *bdf, char *name, size_t len)
{
	char path[256], target[256];
	ssize_t n;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		name[0] = '\0';
		return errno == ENOENT ? 0 : -errno;
	}
	target[n] = '\0';
	snprintf(name, len, "%s", basename(target));
	return 0;
}

static bool user_space_driver(const char *name)
{
	return strcmp(name, "vfio-pci") == 0 || strcmp(name, "uio_pci_generic") == 0;
}

int pcie_scan(const struct plx_nvme_trid *filter,
	      int (*cb)(void *ctx, const struct plx_nvme_trid *trid), void *ctx)
{
	char want[16] = "", drv[64];
	struct plx_nvme_trid trid;
	struct dirent *de;
	uint32_t class = 0;
	DIR *dir;
	int rc = 0;

	if (filter != NULL && filter->traddr[0] != '\0' &&
	    pcie_bdf_normalize(filter->traddr, want, sizeof(want)) != 0) {
		PLX_ERRLOG("bad PCI address '%s'\n", filter->traddr);
		return -EINVAL;
	}
	dir = opendir(SYSFS_PCI);
	if (dir == NULL) {
		return 0; /* no PCI bus: nothing to find */
	}
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' || (want[0] != '\0' && strcmp(de->d_name, want) != 0)) {
			continue;
		}
		if (read_sysfs_u32(de->d_name, "class", &class) != 0 || class != NVME_CLASS) {
			continue;
		}
		if (pcie_dev_driver_name(de->d_name, drv, sizeof(drv)) != 0 ||
		    !user_space_driver(drv)) {
			continue;
		}
		memset(&trid, 0, sizeof(trid));
		trid.trtype = PLX_NVME_TRTYPE_PCIE;
		snprintf(trid.trstring, sizeof(trid.trstring), "PCIE");
		snprintf(trid.traddr, sizeof(trid.traddr), "%s", de->d_name);
		rc = cb(ctx, &trid);
	}
	closedir(dir);
	return rc;
}

/* ---- vfio-pci ---- */

static int vfio_group_number(const char *bdf)
{
	char path[256], target[256];
	ssize_t n;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/iommu_group", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		return -errno;
	}
	target[n] = '\0';
	return atoi(basename(target));
}

/* The mmap-able area of a region that starts at its offset 0 (MSI-X may punch holes). */
static int vfio_bar0_area(struct pcie_dev *dev, struct vfio_region_info *info, uint64_t *len)
{
	struct vfio_region_info *full;
	struct vfio_info_cap_header *hdr;
	struct vfio_region_info_cap_sparse_mmap *sparse;
	uint32_t off, i;
	int rc = 0;

	*len = info->size;
	if (!(info->flags & VFIO_REGION_INFO_FLAG_CAPS) || info->argsz <= sizeof(*info)) {
		return 0;
	}
	full = calloc(1, info->argsz);
	if (full == NULL) {
		return -ENOMEM;
	}
	full->argsz = info->argsz;
	full->index = info->index;
	if (ioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, full) < 0) {
		rc = -errno;
		goto out;
	}
	for (off = full->cap_offset; off != 0 && off < full->argsz; off = hdr->next) {
		hdr = (struct vfio_info_cap_header *)((char *)full + off);
		if (hdr->id != VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			continue;
		}
		sparse = (struct vfio_region_info_cap_sparse_mmap *)hdr;
		*len = 0;
		for (i = 0; i < sparse->nr_areas; i++) {
			if (sparse->areas[i].offset == 0) {
				*len = sparse->areas[i].size;
			}
		}
	}
out:
	free(full);
	return rc;
}

static int vfio_map_bar0(struct pcie_dev *dev, char *err)
{
	struct vfio_region_info reg = {.argsz = sizeof(reg), .index = VFIO_PCI_BAR0_REGION_INDEX};
	struct vfio_region_info cfg = {.argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX};
	uint64_t len;
	void *bar;
	int rc;

	if (ioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, &reg) < 0 ||
	    ioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, &cfg) < 0) {
		snprintf(err, PLX_NVME_ERR_LEN, "%s: VFIO_DEVICE_GET_REGION_INFO: %s", dev->bdf,
			 strerror(errno));
		return -errno;
	}
	dev->config_fd = dev->device_fd;
	dev->config_offset = cfg.offset;
	rc = vfio_bar0_area(dev, &reg, &len);
	if (rc != 0 || !(reg.flags & VFIO_REGION_INFO_FLAG_MMAP) || len < PCIE_BAR0_MIN_LEN) {
		snprintf(err, PLX_NVME_ERR_LEN, "%s: BAR0 registers cannot be mmap'ed (%llu bytes)",
			 dev->bdf, (unsigned long long)len);
		return rc != 0 ? rc : -ENOTSUP;
	}
	bar =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dev->device_fd, (off_t)reg.offset);
	if (bar == MAP_FAILED) {
		snprintf(err, PLX_NVME_ERR_LEN, "%s: mmap BAR0: %s", dev->bdf, strerror(errno));
		return -errno;
	}
	dev->bar = bar;
	dev->bar_len = len;
	return 0;
}

static int vfio_open(struct pcie_dev *dev, char *err)
{
	struct vfio_group_status status = {.argsz = sizeof(status)};
	char path[64];
	int gnum, type;

	gnum = vfio_group_number(dev->bdf);
	if (gnum < 0) {
		snprintf(err, PLX_NVME_ERR_LEN, "%s: no IOMMU group (vfio-pci needs an IOMMU)",
			 dev->bdf);
		return gnum;
	}
	dev->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (dev->container_fd < 0) {
		snprintf(err, PLX_NVME_ERR_LEN, "open /dev/vfio/vfio: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(dev->container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		snprintf(err, PLX_NVME_ERR_LEN, "unknown VFIO API version");
		return -ENOTSUP;
	}
	type = ioctl(dev->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0
		   ? VFIO_TYPE1v2_IOMMU
		   : VFIO_TYPE1_IOMMU;
	snprintf(path, sizeof(path), "/dev/vfio/%d", gnum);
	dev->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->group_fd < 0) {
		snprintf(err, PLX_NVME_ERR_LEN, "open %.200s: %s", path, strerror(errno));
		return -errno;
	}
	if (ioctl(dev->group_fd, VFIO_GROUP_GET_STATUS, &status) < 0 ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		snprintf(err, PLX_NVME_ERR_LEN,
			 "VFIO group %d not viable: bind all its devices to vfio-pci", gnum);
		return -EPERM;
	}
	if (ioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER, &dev->container_fd) < 0 ||
	    ioctl(dev->container_fd, VFIO_SET_IOMMU, type) < 0) {
		snprintf(err, PLX_NVME_ERR_LEN, "VFIO group %d: set container/IOMMU: %s", gnum,
			 strerror(errno));
		return -errno;
	}
	dev->device_fd = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, dev->bdf);
	if (dev->device_fd < 0) {
		snprintf(err, PLX_NVME_ERR_LEN, "%s: VFIO_GROUP_GET_DEVICE_FD: %s", dev->bdf,
			 strerror(errno));
		return -errno;
	}
	return vfio_map_bar0(dev, err);
}

/* ---- uio_pci_generic ---- */

static int uio_open(struct pcie_dev *dev, char *err)
{
	char path[256];
	struct stat st;
	void *bar;
	int fd;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/config", dev->bdf);
	dev->config_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->config_fd < 0) {
		snprintf(err, PLX_NVME_ERR_LEN, "open %.200s: %s", path, strerror(errno));
		return -errno;
	}
	dev->config_offset = 0;
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/resource0", dev->bdf);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, PLX_NVME_ERR_LEN, "open %.200s: %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return -errno;
	}
	bar = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (bar == MAP_FAILED) {
		snprintf(err, PLX_NVME_ERR_LEN, "mmap %.200s: %s", path, strerror(errno));
		return -errno;
	}
	dev->bar = bar;
	dev->bar_len = (size_t)st.st_size;
	if (dev->bar_len < PCIE_BAR0_MIN_LEN) {
		snprintf(err, PLX_NVME_ERR_LEN, "%s: BAR0 is only %zu bytes", dev->bdf,
			 dev->bar_len);
		return -ENODEV;
	}
	return 0;
}

/* Memory decoding and bus mastering on: the device must reach host memory (DMA). */
static int enable_bus_master(struct pcie_dev *dev, char *err)
{
	uint16_t cmd;
	off_t off = (off_t)(dev->config_offset + PCI_COMMAND);

	if (pread(dev->config_fd, &cmd, sizeof(cmd), off) != sizeof(cmd)) {
		snprintf(err, PLX_NVME_ERR_LEN, "%s: read PCI command register failed", dev->bdf);
		return -EIO;
	}
	cmd |= PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE;
	if (pwrite(dev->config_fd, &cmd, sizeof(cmd), off) != sizeof(cmd)) {
		snprintf(err, PLX_NVME_ERR_LEN, "%s: write PCI command register failed", dev->bdf);
		return -EIO;
	}
	return 0;
}

int pcie_dev_open(struct pcie_dev *dev, const char *bdf, char *err)
{
	char drv[64];
	int rc;

	memset(dev, 0, sizeof(*dev));
	dev->container_fd = dev->group_fd = dev->device_fd = dev->config_fd = -1;
	dev->pagemap_fd = -1;
	if (pcie_bdf_normalize(bdf, dev->bdf, sizeof(dev->bdf)) != 0) {
		snprintf(err, PLX_NVME_ERR_LEN, "bad PCI address '%s'", bdf);
		return -EINVAL;
	}
	rc = pcie_dev_driver_name(dev->bdf, drv, sizeof(drv));
	if (rc != 0 || !user_space_driver(drv)) {
		snprintf(err, PLX_NVME_ERR_LEN,
			 "%s is bound to '%s', not vfio-pci or uio_pci_generic (scripts/setup.sh)",
			 dev->bdf, rc == 0 && drv[0] ? drv : "no driver");
		return -ENODEV;
	}
	dev->driver = strcmp(drv, "vfio-pci") == 0 ? PCIE_DRIVER_VFIO : PCIE_DRIVER_UIO;
	rc = dev->driver == PCIE_DRIVER_VFIO ? vfio_open(dev, err) : uio_open(dev, err);
	if (rc == 0) {
		rc = enable_bus_master(dev, err);
	}
	if (rc == 0) {
		rc = pcie_mem_init(dev);
		if (rc != 0) {
			snprintf(err, PLX_NVME_ERR_LEN, "%s: DMA translation setup: %s", dev->bdf,
				 strerror(-rc));
		}
	}
	if (rc != 0) {
		pcie_dev_close(dev);
	}
	return rc;
}

void pcie_dev_close(struct pcie_dev *dev)
{
	uint16_t cmd;
	off_t off = (off_t)(dev->config_offset + PCI_COMMAND);

	/* Stop DMA before the memory it targets goes away. */
	if (dev->config_fd >= 0 && pread(dev->config_fd, &cmd, sizeof(cmd), off) == sizeof(cmd)) {
		cmd &= (uint16_t)~PCI_CMD_MASTER;
		if (pwrite(dev->config_fd, &cmd, sizeof(cmd), off) != sizeof(cmd)) {
			PLX_WARNLOG("%s: could not clear bus mastering\n", dev->bdf);
		}
	}
	if (dev->bar != NULL) {
		munmap((void *)dev->bar, dev->bar_len);
		dev->bar = NULL;
	}
	pcie_mem_fini(dev);
	if (dev->config_fd >= 0 && dev->config_fd != dev->device_fd) {
		close(dev->config_fd);
	}
	dev->config_fd = -1;
	/* Closing the container drops every IOMMU mapping and unpins the pages. */
	if (dev->device_fd >= 0) {
		close(dev->device_fd);
	}
	if (dev->group_fd >= 0) {
		close(dev->group_fd);
	}
	if (dev->container_fd >= 0) {
		close(dev->container_fd);
	}
	dev->device_fd = dev->group_fd = dev->container_fd = -1;
}
