/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening a file or block device for the aio and uring bdevs, which share these rules:
 * O_DIRECT whenever the filesystem accepts it (tmpfs does not: then buffered I/O, with a
 * notice), the size from fstat or BLKGETSIZE64, and the default block size from BLKSSZGET (block
 * devices) or 512 (files). Header-only so each module library stays self-contained.
 */
#ifndef POLLUX_BDEV_FILE_H
#define POLLUX_BDEV_FILE_H

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <inttypes.h>

#include "pollux/bdev_module.h"
#include "pollux/log.h"

#define BDEV_FILE_DEFAULT_BLOCK_SIZE 512u

struct bdev_file_info {
	bool direct;	  /* opened with O_DIRECT */
	bool is_blockdev; /* a block device, not a regular file */
	uint32_t lbs;	  /* detected logical block size (512 for files) */
	uint64_t size;	  /* bytes */
};

/* The size and logical block size of an open file or block device; -errno on failure. */
static inline int bdev_file_stat(int fd, const char *filename, struct bdev_file_info *info)
{
	struct stat st;
	int lbs;

	if (fstat(fd, &st) != 0) {
		PLX_ERRLOG("%s: fstat: %s\n", filename, strerror(errno));
		return -errno;
	}
	info->is_blockdev = S_ISBLK(st.st_mode);
	if (!info->is_blockdev) {
		if (!S_ISREG(st.st_mode)) {
			PLX_ERRLOG("%s: not a regular file or block device\n", filename);
			return -EINVAL;
		}
		info->size = (uint64_t)st.st_size;
		info->lbs = BDEV_FILE_DEFAULT_BLOCK_SIZE;
		return 0;
	}
	if (ioctl(fd, BLKGETSIZE64, &info->size) != 0 || ioctl(fd, BLKSSZGET, &lbs) != 0) {
		PLX_ERRLOG("%s: reading the device geometry: %s\n", filename, strerror(errno));
		return -errno;
	}
	info->lbs = lbs > 0 ? (uint32_t)lbs : BDEV_FILE_DEFAULT_BLOCK_SIZE;
	return 0;
}

/*
 * Open filename for I/O, with O_DIRECT when the filesystem allows it. Returns the fd, or -errno
 * with a message naming the file in err (for the RPC answer) and in the log.
 */
static inline int bdev_file_open(const char *filename, bool readonly, struct bdev_file_info *info,
				 char *err, size_t err_len)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	int fd, rc;

	fd = open(filename, flags | O_DIRECT);
	info->direct = fd >= 0;
	if (fd < 0 && errno == EINVAL) {
		/* tmpfs and some FUSE filesystems refuse O_DIRECT; the page cache is still correct.
		 */
		fd = open(filename, flags);
		if (fd >= 0) {
			PLX_NOTICELOG("%s: O_DIRECT is not supported here, using buffered I/O\n",
				      filename);
		}
	}
	if (fd < 0) {
		rc = -errno;
		snprintf(err, err_len, "filename: cannot open %s: %s", filename, strerror(errno));
		PLX_ERRLOG("%s\n", err);
		return rc;
	}
	rc = bdev_file_stat(fd, filename, info);
	if (rc != 0) {
		snprintf(err, err_len, "filename: %s: %s", filename, strerror(-rc));
		close(fd);
		return rc;
	}
	return fd;
}

/*
 * Check a requested block size (0: use the detected one) and return the one to use in *out;
 * -EINVAL with the reason in err.
 */
static inline int bdev_file_block_size(const struct bdev_file_info *info, uint32_t requested,
				       uint32_t *out, char *err, size_t err_len)
{
	uint32_t bs = requested != 0 ? requested : info->lbs;

	if (bs % 512 != 0) {
		snprintf(err, err_len, "block_size: %u is not a multiple of 512", bs);
		return -EINVAL;
	}
	if (bs > 65536) {
		snprintf(err, err_len, "block_size: %u is larger than 65536", bs);
		return -EINVAL;
	}
	if (info->is_blockdev && bs < info->lbs) {
		snprintf(err, err_len,
			 "block_size: %u is smaller than the device's logical block size %u", bs,
			 info->lbs);
		return -EINVAL;
	}
	if (info->size / bs == 0) {
		snprintf(err, err_len, "filename: %llu bytes is less than one %u-byte block",
			 (unsigned long long)info->size, bs);
		return -EINVAL;
	}
	*out = bs;
	return 0;
}

/*
 * log2 of the buffer alignment the bdev asks for: with O_DIRECT the block size when it is a
 * power of two (else 512, enough for any O_DIRECT file), none for buffered I/O.
 */
static inline uint8_t bdev_file_align_shift(const struct bdev_file_info *info, uint32_t bs)
{
	uint8_t shift = 9;

	if (!info->direct) {
		return 0;
	}
	if ((bs & (bs - 1)) == 0) {
		while ((1u << shift) < bs) {
			shift++;
		}
	}
	return shift;
}

/*
 * Re-read the size of the file or device under bdev (opened as fd) and tell the bdev layer when
 * the number of blocks changed. kind names the module in the log ("aio", "uring").
 */
static inline int bdev_file_rescan(struct plx_bdev *bdev, int fd, const char *filename,
				   const char *kind)
{
	struct bdev_file_info info;
	uint64_t blockcnt;
	int rc = bdev_file_stat(fd, filename, &info);

	if (rc != 0) {
		return rc;
	}
	blockcnt = info.size / bdev->blocklen;
	if (blockcnt == bdev->blockcnt) {
		return 0;
	}
	PLX_NOTICELOG("%s bdev %s: %" PRIu64 " -> %" PRIu64 " blocks\n", kind, bdev->name,
		      bdev->blockcnt, blockcnt);
	return plx_bdev_notify_blockcnt_change(bdev, blockcnt);
}

#endif
