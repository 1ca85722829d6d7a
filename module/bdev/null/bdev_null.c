/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The null bdev. Its submit path is one switch and an inline completion (the bdev layer
 * defers the caller's callback), so bdevperf on it measures the framework alone. There is
 * no poller: nothing is ever outstanding in the module, so the reactor can always sleep.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_null.h"
#include "pollux/log.h"

struct null_bdev {
	struct plx_bdev bdev;
	uint32_t physical_block_size;
};

static int null_module_init(void)
{
	return 0;
}

struct plx_bdev_module plx_null_bdev_module = {
    .name = "null",
    .module_init = null_module_init,
};
PLX_BDEV_MODULE_REGISTER(null, &plx_null_bdev_module)

static void null_free(struct null_bdev *nb)
{
	free(nb->bdev.name);
	free(nb);
}

static void null_io_device_gone(void *io_device)
{
	struct null_bdev *nb = io_device;

	plx_bdev_destruct_done(&nb->bdev, 0);
	null_free(nb);
}

static int null_destruct(void *ctx)
{
	plx_io_device_unregister(ctx, null_io_device_gone);
	return 1;
}

static void null_read_buf_cb(struct plx_io_channel *ch, struct plx_bdev_io *bdev_io, bool success)
{
	plx_bdev_io_complete(bdev_io,
			     success ? PLX_BDEV_IO_STATUS_SUCCESS : PLX_BDEV_IO_STATUS_FAILED);
}

static void null_submit_request(struct plx_io_channel *ch, struct plx_bdev_io *bdev_io)
{
	switch (bdev_io->type) {
	case PLX_BDEV_IO_TYPE_READ:
		/* A caller that gave no buffer still expects one to look at afterwards. */
		if (plx_unlikely(bdev_io->u.bdev.iovs[0].iov_base == NULL)) {
			plx_bdev_io_get_buf(bdev_io, null_read_buf_cb,
					    bdev_io->u.bdev.num_blocks * bdev_io->bdev->blocklen);
			return;
		}
		/* fall through */
	case PLX_BDEV_IO_TYPE_WRITE:
	case PLX_BDEV_IO_TYPE_WRITE_ZEROES:
	case PLX_BDEV_IO_TYPE_UNMAP:
	case PLX_BDEV_IO_TYPE_FLUSH:
	case PLX_BDEV_IO_TYPE_RESET:
		plx_bdev_io_complete(bdev_io, PLX_BDEV_IO_STATUS_SUCCESS);
		return;
	default:
		plx_bdev_io_complete(bdev_io, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
}

static bool null_io_type_supported(void *ctx, enum plx_bdev_io_type type)
{
	switch (type) {
	case PLX_BDEV_IO_TYPE_READ:
	case PLX_BDEV_IO_TYPE_WRITE:
	case PLX_BDEV_IO_TYPE_WRITE_ZEROES:
	case PLX_BDEV_IO_TYPE_UNMAP:
	case PLX_BDEV_IO_TYPE_FLUSH:
	case PLX_BDEV_IO_TYPE_RESET:
		return true;
	default:
		return false;
	}
}

static struct plx_io_channel *null_get_io_channel(void *ctx)
{
	return plx_get_io_channel(ctx);
}

static void null_write_config_json(struct plx_bdev *bdev, json_t *config)
{
	struct null_bdev *nb = bdev->ctxt;
	char uuid[PLX_UUID_STRING_LEN];
	json_t *params;

	plx_uuid_fmt_lower(uuid, sizeof(uuid), &bdev->uuid);
	params =
	    json_pack("{s:s, s:I, s:i, s:s}", "name", bdev->name, "num_blocks",
		      (json_int_t)bdev->blockcnt, "block_size", (int)bdev->blocklen, "uuid", uuid);
	if (params != NULL && nb->physical_block_size != 0) {
		json_object_set_new(params, "physical_block_size",
				    json_integer(nb->physical_block_size));
	}
	json_array_append_new(
	    config, json_pack("{s:s, s:o}", "method", "bdev_null_create", "params", params));
}

static const struct plx_bdev_fn_table g_null_fn_table = {
    .destruct = null_destruct,
    .submit_request = null_submit_request,
    .io_type_supported = null_io_type_supported,
    .get_io_channel = null_get_io_channel,
    .write_config_json = null_write_config_json,
};

static int null_channel_create(void *io_device, void *ctx_buf)
{
	return 0;
}

static void null_channel_destroy(void *io_device, void *ctx_buf)
{
}

int plx_bdev_null_create(const struct plx_bdev_null_opts *opts, struct plx_bdev **bdev)
{
	struct null_bdev *nb;
	int rc;

	if (opts->name == NULL || opts->name[0] == '\0') {
		PLX_ERRLOG("null bdev: a name is required\n");
		return -EINVAL;
	}
	nb = calloc(1, sizeof(*nb));
	if (nb == NULL || (nb->bdev.name = strdup(opts->name)) == NULL) {
		free(nb);
		return -ENOMEM;
	}
	nb->physical_block_size = opts->physical_block_size;
	nb->bdev.product_name = "Null disk";
	nb->bdev.blocklen = opts->block_size;
	nb->bdev.blockcnt = opts->num_blocks;
	nb->bdev.uuid = opts->uuid;
	nb->bdev.ctxt = nb;
	nb->bdev.fn_table = &g_null_fn_table;
	nb->bdev.module = &plx_null_bdev_module;

	plx_io_device_register(nb, null_channel_create, null_channel_destroy, 0, opts->name);
	rc = plx_bdev_register(&nb->bdev);
	if (rc != 0) {
		plx_io_device_unregister(nb, NULL);
		null_free(nb);
		return rc;
	}
	if (bdev != NULL) {
		*bdev = &nb->bdev;
	}
	return 0;
}

int plx_bdev_null_delete(const char *name, plx_bdev_unregister_cb cb, void *cb_arg)
{
	return plx_bdev_unregister_by_name(name, &plx_null_bdev_module, cb, cb_arg);
}

int plx_bdev_null_resize(const char *name, uint64_t new_size_mib)
{
	struct plx_bdev *bdev = plx_bdev_get_by_name(name);
	uint64_t bytes, blocks;

	if (bdev == NULL || bdev->module != &plx_null_bdev_module) {
		return -ENODEV;
	}
	if (new_size_mib > UINT64_MAX / (1024 * 1024)) {
		return -EINVAL;
	}
	bytes = new_size_mib * 1024 * 1024;
	blocks = bytes / bdev->blocklen;
	if (bytes % bdev->blocklen != 0 || blocks < bdev->blockcnt) {
		return -EINVAL;
	}
	return plx_bdev_notify_blockcnt_change(bdev, blocks);
}
