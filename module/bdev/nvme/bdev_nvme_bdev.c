/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Namespaces as bdevs: one bdev per namespace id of a bdev controller, with one path per
 * controller that exposes it (multipath merges namespaces that carry the same NGUID/EUI64
 * and geometry). Each thread's bdev channel holds its own list of paths; the app thread
 * adds and removes paths with plx_for_each_channel, so the I/O path never locks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_nvme_internal.h"
#include "pollux/log.h"

/* Every bdev channel, for get_io_paths (channel create/destroy only: a control path). */
static TAILQ_HEAD(, nvme_bdev_channel)
    g_nvme_bdev_channels = TAILQ_HEAD_INITIALIZER(g_nvme_bdev_channels);
static pthread_mutex_t g_channels_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- per-thread paths ---- */

static struct nvme_io_path *nvme_io_path_find(struct nvme_bdev_channel *ch,
					      const struct nvme_ns *ns)
{
	struct nvme_io_path *path;

	TAILQ_FOREACH(path, &ch->io_paths, link)
	{
		if (path->nvme_ns == ns) {
			return path;
		}
	}
	return NULL;
}

static int nvme_io_path_add(struct nvme_bdev_channel *ch, struct nvme_ns *ns)
{
	struct nvme_io_path *path;

	if (nvme_io_path_find(ch, ns) != NULL) {
		return 0;
	}
	path = calloc(1, sizeof(*path));
	if (path == NULL) {
		return -ENOMEM;
	}
	path->nvme_ns = ns;
	path->ana_override = -1;
	path->ctrlr_io_ch = plx_get_io_channel(ns->ctrlr);
	if (path->ctrlr_io_ch == NULL) {
		free(path);
		return -ENOMEM;
	}
	path->ctrlr_ch = plx_io_channel_get_ctx(path->ctrlr_io_ch);
	TAILQ_INSERT_TAIL(&ch->io_paths, path, link);
	ch->current = NULL;
	return 0;
}

/* Unlink; commands still in flight on it keep it allocated until they complete. */
static void nvme_io_path_remove(struct nvme_bdev_channel *ch, struct nvme_io_path *path)
{
	struct plx_io_channel *ctrlr_io_ch = path->ctrlr_io_ch;

	TAILQ_REMOVE(&ch->io_paths, path, link);
	if (ch->current == path) {
		ch->current = NULL;
	}

	/* Decided before the put: dropping the last reference may destroy the channel at once,
	 * whose aborted commands then free a path that still had them. */
	path->removed = true;
	if (path->outstanding == 0) {
		free(path);
	}
	plx_put_io_channel(ctrlr_io_ch);
}

static int nvme_bdev_channel_create(void *io_device, void *ctx_buf)
{
	struct nvme_bdev *nbdev = io_device;
	struct nvme_bdev_channel *ch = ctx_buf;
	struct nvme_ns *ns;
	int rc = 0;

	ch->nbdev = nbdev;
	ch->thread = plx_get_thread();
	ch->mp_policy = nbdev->mp_policy;
	ch->mp_selector = nbdev->mp_selector;
	ch->rr_min_io = nbdev->rr_min_io;
	TAILQ_INIT(&ch->io_paths);
	TAILQ_INIT(&ch->waiting);
	ch->retry_poller =
	    plx_poller_register_named(nvme_bdev_channel_retry_poll, ch, 1000, "bdev_nvme_retry");
	if (ch->retry_poller == NULL) {
		return -ENOMEM;
	}
	plx_poller_pause(ch->retry_poller);
	pthread_mutex_lock(&nbdev->ns_lock);
	TAILQ_FOREACH(ns, &nbdev->nvme_ns_list, link)
	{
		if ((rc = nvme_io_path_add(ch, ns)) != 0) {
			break;
		}
	}
	pthread_mutex_unlock(&nbdev->ns_lock);
	if (rc != 0) {
		struct nvme_io_path *path;

		while ((path = TAILQ_FIRST(&ch->io_paths)) != NULL) {
			nvme_io_path_remove(ch, path);
		}
		plx_poller_unregister(&ch->retry_poller);
		return rc;
	}
	pthread_mutex_lock(&g_channels_lock);
	TAILQ_INSERT_TAIL(&g_nvme_bdev_channels, ch, link);
	pthread_mutex_unlock(&g_channels_lock);
	return 0;
}

static void nvme_bdev_channel_destroy(void *io_device, void *ctx_buf)
{
	struct nvme_bdev_channel *ch = ctx_buf;
	struct nvme_io_path *path;

	(void)io_device;
	pthread_mutex_lock(&g_channels_lock);
	TAILQ_REMOVE(&g_nvme_bdev_channels, ch, link);
	pthread_mutex_unlock(&g_channels_lock);
	nvme_bdev_channel_fail_waiting(ch);
	while ((path = TAILQ_FIRST(&ch->io_paths)) != NULL) {
		nvme_io_path_remove(ch, path);
	}
	plx_poller_unregister(&ch->retry_poller);
}

/* ---- the bdev ---- */

static void nvme_bdev_free(void *io_device)
{
	struct nvme_bdev *nbdev = io_device;

	plx_bdev_destruct_done(&nbdev->disk, 0);
	pthread_mutex_destroy(&nbdev->ns_lock);
	free(nbdev->disk.name);
	free(nbdev);
}

static int nvme_bdev_destruct(void *ctx)
{
	struct nvme_bdev *nbdev = ctx;
	struct nvme_bdev_ctrlr *nbc = nbdev->nbdev_ctrlr;
	struct nvme_ns *ns;

	pthread_mutex_lock(&nbdev->ns_lock);
	while ((ns = TAILQ_FIRST(&nbdev->nvme_ns_list)) != NULL) {
		TAILQ_REMOVE(&nbdev->nvme_ns_list, ns, link);
		ns->bdev = NULL;
	}
	pthread_mutex_unlock(&nbdev->ns_lock);
	TAILQ_REMOVE(&nbc->bdevs, nbdev, link);
	nvme_bdev_ctrlr_maybe_free(nbc);
	plx_io_device_unregister(nbdev, nvme_bdev_free);
	return 1;
}

static bool nvme_bdev_io_type_supported(void *ctx, enum plx_bdev_io_type type)
{
	struct nvme_bdev *nbdev = ctx;

	switch (type) {
	case PLX_BDEV_IO_TYPE_READ:
	case PLX_BDEV_IO_TYPE_WRITE:
	case PLX_BDEV_IO_TYPE_FLUSH:
	case PLX_BDEV_IO_TYPE_RESET:
		return true;
	case PLX_BDEV_IO_TYPE_UNMAP:
		return (nbdev->oncs & PLX_NVME_ONCS_DSM) != 0;
	case PLX_BDEV_IO_TYPE_WRITE_ZEROES:
		return (nbdev->oncs & PLX_NVME_ONCS_WRITE_ZEROES) != 0;
	default:
		return false;
	}
}

static struct plx_io_channel *nvme_bdev_get_io_channel(void *ctx)
{
	return plx_get_io_channel(ctx);
}

static void nvme_bdev_dump_info_json(void *ctx, json_t *driver_specific)
{
	struct nvme_bdev *nbdev = ctx;
	json_t *paths = json_array();
	struct nvme_ns *ns;

	TAILQ_FOREACH(ns, &nbdev->nvme_ns_list, link)
	{
		const struct nvme_ctrlr *c = ns->ctrlr;

		json_array_append_new(
		    paths,
		    json_pack("{s:o, s:i, s:i, s:s}", "trid",
			      bdev_nvme_trid_json(&TAILQ_FIRST(&c->trids)->trid), "cntlid",
			      (int)c->cntlid, "nsid", (int)ns->id, "ana_state",
			      plx_nvme_ana_state_str((enum plx_nvme_ana_state)ns->ana_state)));
	}
	json_object_set_new(driver_specific, "nvme", paths);
	json_object_set_new(driver_specific, "mp_policy",
			    json_string(bdev_nvme_mp_policy_str(nbdev->mp_policy)));
	json_object_set_new(driver_specific, "mp_selector",
			    json_string(bdev_nvme_mp_selector_str(nbdev->mp_selector)));
}

static const struct plx_bdev_fn_table g_nvme_bdev_fn_table = {
    .destruct = nvme_bdev_destruct,
    .submit_request = nvme_bdev_submit_request,
    .io_type_supported = nvme_bdev_io_type_supported,
    .get_io_channel = nvme_bdev_get_io_channel,
    .dump_info_json = nvme_bdev_dump_info_json,
};

static struct nvme_bdev *nvme_bdev_find(struct nvme_bdev_ctrlr *nbc, uint32_t nsid)
{
	struct nvme_bdev *nbdev;

	TAILQ_FOREACH(nbdev, &nbc->bdevs, link)
	{
		if (nbdev->nsid == nsid && !nbdev->unregistering) {
			return nbdev;
		}
	}
	return NULL;
}

static bool nvme_bytes_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] != 0) {
			return false;
		}
	}
	return true;
}

/* Two controllers show the same namespace: same geometry and the same global ids. */
static bool nvme_ns_same(const struct nvme_ns *a, const struct plx_nvme_ns *b)
{
	const struct plx_nvme_ns_data *da = plx_nvme_ns_get_data(a->ns);
	const struct plx_nvme_ns_data *db = plx_nvme_ns_get_data(b);

	return plx_nvme_ns_get_sector_size(a->ns) == plx_nvme_ns_get_sector_size(b) &&
	       plx_nvme_ns_get_num_sectors(a->ns) == plx_nvme_ns_get_num_sectors(b) &&
	       memcmp(da->nguid, db->nguid, sizeof(da->nguid)) == 0 &&
	       memcmp(da->eui64, db->eui64, sizeof(da->eui64)) == 0;
}

/*
 * generate_uuids: the same UUID for the same serial number and NSID on every host and every
 * run (two FNV-1a passes with different seeds; version 4 and variant bits set), so a
 * namespace without ids keeps its bdev UUID across restarts.
 */
static void nvme_uuid_from_serial(struct plx_uuid *uuid, const struct plx_nvme_ctrlr_data *cd,
				  uint32_t nsid)
{
	uint64_t h[2] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};

	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < sizeof(cd->sn); i++) {
			h[k] = (h[k] ^ (uint8_t)cd->sn[i]) * 0x100000001b3ull;
		}
		for (int i = 0; i < 4; i++) {
			h[k] = (h[k] ^ (uint8_t)(nsid >> (8 * i))) * 0x100000001b3ull;
		}
	}
	memcpy(uuid->u, h, sizeof(uuid->u));
	uuid->u[6] = (uint8_t)((uuid->u[6] & 0x0f) | 0x40);
	uuid->u[8] = (uint8_t)((uuid->u[8] & 0x3f) | 0x80);
}

static int nvme_bdev_create(struct nvme_ns *ns, const struct nvme_ctrlr *ctrlr, char *err,
			    size_t errlen)
{
	const struct plx_nvme_ctrlr_data *cd = plx_nvme_ctrlr_get_data(ctrlr->ctrlr);
	const struct plx_nvme_ns_data *nd = plx_nvme_ns_get_data(ns->ns);
	struct nvme_bdev *nbdev = calloc(1, sizeof(*nbdev));
	uint32_t blocklen = plx_nvme_ns_get_sector_size(ns->ns);
	uint32_t max_blocks;
	int rc;

	if (nbdev == NULL ||
	    asprintf(&nbdev->disk.name, "%sn%u", ctrlr->nbdev_ctrlr->name, ns->id) < 0) {
		free(nbdev);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nbdev->nbdev_ctrlr = ctrlr->nbdev_ctrlr;
	nbdev->nsid = ns->id;
	TAILQ_INIT(&nbdev->nvme_ns_list);
	pthread_mutex_init(&nbdev->ns_lock, NULL);
	nbdev->mp_policy = ctrlr->opts.mp_policy;
	nbdev->mp_selector = ctrlr->opts.mp_selector;
	nbdev->rr_min_io = ctrlr->opts.mp_rr_min_io ? ctrlr->opts.mp_rr_min_io : 1;
	nbdev->oncs = cd->oncs;
	nbdev->vwc = (cd->vwc & 1) != 0;
	nbdev->anatt_sec = cd->anatt;
	nbdev->disk.product_name = "NVMe disk";
	nbdev->disk.blocklen = blocklen;
	nbdev->disk.blockcnt = plx_nvme_ns_get_num_sectors(ns->ns);
	nbdev->disk.write_cache = nbdev->vwc;
	max_blocks = plx_nvme_ctrlr_get_max_xfer_size(ctrlr->ctrlr) / blocklen;
	nbdev->disk.max_rw_size = PLX_MAX(PLX_MIN(max_blocks, 65536u), 1u);
	if (!nvme_bytes_zero(nd->nguid, sizeof(nd->nguid))) {
		memcpy(nbdev->disk.uuid.u, nd->nguid, sizeof(nbdev->disk.uuid.u));
	} else if (bdev_nvme_get_opts()->generate_uuids) {
		nvme_uuid_from_serial(&nbdev->disk.uuid, cd, ns->id);
	}
	nbdev->disk.ctxt = nbdev;
	nbdev->disk.fn_table = &g_nvme_bdev_fn_table;
	nbdev->disk.module = &g_bdev_nvme_module;
	TAILQ_INSERT_TAIL(&nbdev->nvme_ns_list, ns, link);
	ns->bdev = nbdev;
	plx_io_device_register(nbdev, nvme_bdev_channel_create, nvme_bdev_channel_destroy,
			       sizeof(struct nvme_bdev_channel), nbdev->disk.name);
	TAILQ_INSERT_TAIL(&ctrlr->nbdev_ctrlr->bdevs, nbdev, link);
	rc = plx_bdev_register(&nbdev->disk);
	if (rc != 0) {
		snprintf(err, errlen, "could not register bdev %s: %s", nbdev->disk.name,
			 rc == -EEXIST
			     ? "a bdev with this name or UUID (the namespace's NGUID) exists"
			     : strerror(-rc));
		TAILQ_REMOVE(&ctrlr->nbdev_ctrlr->bdevs, nbdev, link);
		ns->bdev = NULL;
		plx_io_device_unregister(nbdev, NULL);
		pthread_mutex_destroy(&nbdev->ns_lock);
		free(nbdev->disk.name);
		free(nbdev);
		return rc;
	}
	return 0;
}

/* ---- adding paths ---- */

static void nvme_ch_add_path(struct plx_io_channel_iter *i)
{
	struct nvme_bdev_channel *ch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));

	nvme_io_path_add(ch, plx_io_channel_iter_get_ctx(i));
	plx_for_each_channel_continue(i, 0);
}

static void nvme_ch_walk_done(struct plx_io_channel_iter *i, int status)
{
	(void)i;
	(void)status;
}

static int nvme_bdev_add_path(struct nvme_bdev *nbdev, struct nvme_ns *ns, char *err, size_t errlen)
{
	struct nvme_ns *first = TAILQ_FIRST(&nbdev->nvme_ns_list);

	if (first != NULL && first->ns != NULL && !nvme_ns_same(first, ns->ns)) {
		snprintf(err, errlen,
			 "%s: namespace %u differs on the new path (ids or geometry): not merged",
			 nbdev->disk.name, ns->id);
		return -EINVAL;
	}
	pthread_mutex_lock(&nbdev->ns_lock);
	TAILQ_INSERT_TAIL(&nbdev->nvme_ns_list, ns, link);
	pthread_mutex_unlock(&nbdev->ns_lock);
	ns->bdev = nbdev;
	plx_for_each_channel(nbdev, nvme_ch_add_path, ns, nvme_ch_walk_done);
	return 0;
}

static int nvme_ctrlr_grow_ns(struct nvme_ctrlr *ctrlr, uint32_t nsid)
{
	struct nvme_ns **ns;

	if (nsid <= ctrlr->num_ns) {
		return 0;
	}
	ns = realloc(ctrlr->ns, nsid * sizeof(*ns));
	if (ns == NULL) {
		return -ENOMEM;
	}
	memset(ns + ctrlr->num_ns, 0, (nsid - ctrlr->num_ns) * sizeof(*ns));
	ctrlr->ns = ns;
	ctrlr->num_ns = nsid;
	return 0;
}

int nvme_bdev_ctrlr_add_namespaces(struct nvme_ctrlr *ctrlr, json_t *names, char *err,
				   size_t errlen)
{
	char local_err[256];
	struct plx_nvme_ctrlr *c = ctrlr->ctrlr;
	int first_rc = 0;

	if (err == NULL) {
		err = local_err;
		errlen = sizeof(local_err);
	}
	for (uint32_t id = plx_nvme_ctrlr_get_first_active_ns(c); id != 0;
	     id = plx_nvme_ctrlr_get_next_active_ns(c, id)) {
		struct nvme_bdev *nbdev;
		struct nvme_ns *ns;
		int rc;

		if (nvme_ctrlr_grow_ns(ctrlr, id) != 0) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if (ctrlr->ns[id - 1] != NULL) {
			continue;
		}
		ns = calloc(1, sizeof(*ns));
		if (ns == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		ns->id = id;
		ns->ctrlr = ctrlr;
		ns->ns = plx_nvme_ctrlr_get_ns(c, id);
		ns->ana_state = (int)plx_nvme_ns_get_ana_state(ns->ns);
		nbdev = nvme_bdev_find(ctrlr->nbdev_ctrlr, id);
		rc = nbdev != NULL ? nvme_bdev_add_path(nbdev, ns, err, errlen)
				   : nvme_bdev_create(ns, ctrlr, err, errlen);
		if (rc != 0) {
			PLX_ERRLOG("%s\n", err);
			free(ns);
			first_rc = first_rc != 0 ? first_rc : rc;
			continue;
		}
		ctrlr->ns[id - 1] = ns;
		if (names != NULL) {
			json_array_append_new(names, json_string(ns->bdev->disk.name));
		}
	}
	return first_rc;
}

/* ---- removing paths ---- */

static void nvme_ch_remove_path(struct plx_io_channel_iter *i)
{
	struct nvme_bdev_channel *ch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));
	void **pctx = plx_io_channel_iter_get_ctx(i);
	struct nvme_io_path *path = nvme_io_path_find(ch, pctx[1]);

	if (path != NULL) {
		nvme_io_path_remove(ch, path);
	}
	plx_for_each_channel_continue(i, 0);
}

static void nvme_ch_remove_path_done(struct plx_io_channel_iter *i, int status)
{
	void **pctx = plx_io_channel_iter_get_ctx(i);
	struct nvme_fanout *f = pctx[0];

	free(pctx);
	nvme_fanout_done(f, status);
}

/* Take ns off its bdev: the bdev goes when it was its last path. */
static void nvme_ns_detach_from_bdev(struct nvme_ns *ns, struct nvme_fanout *f)
{
	struct nvme_bdev *nbdev = ns->bdev;
	void **pctx;

	if (nbdev == NULL) {
		return;
	}
	pthread_mutex_lock(&nbdev->ns_lock);
	TAILQ_REMOVE(&nbdev->nvme_ns_list, ns, link);
	pthread_mutex_unlock(&nbdev->ns_lock);
	ns->bdev = NULL;
	nvme_fanout_add(f);
	if (TAILQ_EMPTY(&nbdev->nvme_ns_list)) {
		PLX_NOTICELOG("%s: last path gone: removing the bdev\n", nbdev->disk.name);
		nbdev->unregistering = true;
		plx_bdev_unregister(&nbdev->disk, nvme_fanout_done, f);
		return;
	}
	pctx = calloc(2, sizeof(void *));
	if (pctx == NULL) {
		PLX_ERRLOG("%s: out of memory removing a path\n", nbdev->disk.name);
		nvme_fanout_done(f, -ENOMEM);
		return;
	}
	pctx[0] = f;
	pctx[1] = ns;
	plx_for_each_channel(nbdev, nvme_ch_remove_path, pctx, nvme_ch_remove_path_done);
}

void nvme_ctrlr_remove_paths(struct nvme_ctrlr *ctrlr, bdev_nvme_done_cb cb, void *cb_arg)
{
	struct nvme_fanout *f = nvme_fanout_new(cb, cb_arg);

	if (f == NULL) {
		PLX_ERRLOG("out of memory removing paths\n");
		cb(cb_arg, -ENOMEM);
		return;
	}
	for (uint32_t i = 0; i < ctrlr->num_ns; i++) {
		if (ctrlr->ns[i] != NULL) {
			nvme_ns_detach_from_bdev(ctrlr->ns[i], f);
		}
	}
	nvme_fanout_done(f, 0);
}

static void nvme_ns_gone_done(void *arg, int rc)
{
	(void)rc;
	free(arg);
}

void nvme_ctrlr_refresh_namespaces(struct nvme_ctrlr *ctrlr)
{
	struct plx_nvme_ctrlr *c = ctrlr->ctrlr;

	for (uint32_t i = 0; i < ctrlr->num_ns; i++) {
		struct nvme_ns *ns = ctrlr->ns[i];
		bool active = false;

		if (ns == NULL) {
			continue;
		}
		for (uint32_t id = plx_nvme_ctrlr_get_first_active_ns(c); id != 0 && !active;
		     id = plx_nvme_ctrlr_get_next_active_ns(c, id)) {
			active = id == ns->id;
		}
		if (!active) {
			struct nvme_fanout *f = nvme_fanout_new(nvme_ns_gone_done, ns);

			PLX_NOTICELOG("%s: namespace %u is gone\n", ctrlr->nbdev_ctrlr->name,
				      ns->id);
			ctrlr->ns[i] = NULL;
			if (f == NULL) {
				continue; /* leaks the path record rather than freeing it in use */
			}
			nvme_ns_detach_from_bdev(ns, f);
			nvme_fanout_done(f, 0);
			continue;
		}
		ns->ns = plx_nvme_ctrlr_get_ns(c, ns->id);
		__atomic_store_n(&ns->ana_state, (int)plx_nvme_ns_get_ana_state(ns->ns),
				 __ATOMIC_RELAXED);
		if (ns->bdev != NULL && TAILQ_FIRST(&ns->bdev->nvme_ns_list) == ns &&
		    plx_nvme_ns_get_num_sectors(ns->ns) != ns->bdev->disk.blockcnt) {
			plx_bdev_notify_blockcnt_change(&ns->bdev->disk,
							plx_nvme_ns_get_num_sectors(ns->ns));
		}
	}
}

/* ---- telling channels ---- */

static void nvme_ch_paths_changed(struct plx_io_channel_iter *i)
{
	struct nvme_bdev_channel *ch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));
	struct nvme_ctrlr *ctrlr = plx_io_channel_iter_get_ctx(i);
	struct nvme_io_path *path;

	TAILQ_FOREACH(path, &ch->io_paths, link)
	{
		if (path->nvme_ns->ctrlr == ctrlr) {
			path->ana_override = -1;
		}
	}
	/* Choosing again fails back to the preferred path, unless told not to. */
	if (ch->current != NULL && (!bdev_nvme_get_opts()->disable_auto_failback ||
				    !nvme_io_path_is_usable(ch->current))) {
		ch->current = NULL;
	}
	if (!TAILQ_EMPTY(&ch->waiting)) {
		plx_poller_resume(ch->retry_poller);
	}
	plx_for_each_channel_continue(i, 0);
}

void nvme_ctrlr_paths_changed(struct nvme_ctrlr *ctrlr)
{
	struct nvme_bdev_ctrlr *nbc = ctrlr->nbdev_ctrlr;
	struct nvme_bdev *nbdev;

	TAILQ_FOREACH(nbdev, &nbc->bdevs, link)
	{
		if (!nbdev->unregistering) {
			plx_for_each_channel(nbdev, nvme_ch_paths_changed, ctrlr,
					     nvme_ch_walk_done);
		}
	}
}

void nvme_ctrlr_ana_changed(struct nvme_ctrlr *ctrlr)
{
	for (uint32_t i = 0; i < ctrlr->num_ns; i++) {
		struct nvme_ns *ns = ctrlr->ns[i];

		if (ns != NULL) {
			__atomic_store_n(&ns->ana_state, (int)plx_nvme_ns_get_ana_state(ns->ns),
					 __ATOMIC_RELAXED);
		}
	}
	nvme_ctrlr_paths_changed(ctrlr);
}

/* ---- multipath policy ---- */

struct nvme_policy_ctx {
	enum bdev_nvme_mp_policy policy;
	enum bdev_nvme_mp_selector selector;
	uint32_t rr_min_io;
	bdev_nvme_done_cb cb;
	void *cb_arg;
};

static void nvme_ch_set_policy(struct plx_io_channel_iter *i)
{
	struct nvme_bdev_channel *ch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));
	struct nvme_policy_ctx *ctx = plx_io_channel_iter_get_ctx(i);

	ch->mp_policy = ctx->policy;
	ch->mp_selector = ctx->selector;
	ch->rr_min_io = ctx->rr_min_io;
	ch->current = NULL;
	ch->rr_count = 0;
	plx_for_each_channel_continue(i, 0);
}

static void nvme_ch_set_policy_done(struct plx_io_channel_iter *i, int status)
{
	struct nvme_policy_ctx *ctx = plx_io_channel_iter_get_ctx(i);

	ctx->cb(ctx->cb_arg, status);
	free(ctx);
}

static struct nvme_bdev *nvme_bdev_get_by_name(const char *name)
{
	struct plx_bdev *bdev = plx_bdev_get_by_name(name);

	return bdev != NULL && bdev->module == &g_bdev_nvme_module ? bdev->ctxt : NULL;
}

int bdev_nvme_set_multipath_policy(const char *name, enum bdev_nvme_mp_policy policy,
				   enum bdev_nvme_mp_selector selector, uint32_t rr_min_io,
				   bdev_nvme_done_cb cb, void *cb_arg, char *err, size_t errlen)
{
	struct nvme_bdev *nbdev = nvme_bdev_get_by_name(name);
	struct nvme_policy_ctx *ctx;

	if (nbdev == NULL) {
		snprintf(err, errlen, "bdev %s is not an NVMe bdev", name);
		return -ENODEV;
	}
	if (rr_min_io == 0) {
		snprintf(err, errlen, "rr_min_io: must be at least 1");
		return -EINVAL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nbdev->mp_policy = policy;
	nbdev->mp_selector = selector;
	nbdev->rr_min_io = rr_min_io;
	*ctx = (struct nvme_policy_ctx){policy, selector, rr_min_io, cb, cb_arg};
	plx_for_each_channel(nbdev, nvme_ch_set_policy, ctx, nvme_ch_set_policy_done);
	return 0;
}

/* ---- get_io_paths ---- */

struct nvme_io_paths_ctx {
	struct nvme_bdev *nbdev; /* NULL: all */
	json_t *groups;
	bdev_nvme_json_cb cb;
	void *cb_arg;
};

static json_t *nvme_io_path_json(const struct nvme_bdev_channel *ch,
				 const struct nvme_io_path *path)
{
	const struct nvme_ctrlr *c = path->nvme_ns->ctrlr;

	return json_pack(
	    "{s:s, s:i, s:b, s:b, s:b, s:s, s:o, s:{s:I, s:I, s:I, s:I}}", "bdev_name",
	    ch->nbdev->disk.name, "cntlid", (int)c->cntlid, "current", path == ch->current,
	    "connected", path->ctrlr_ch->qpair != NULL && !path->ctrlr_ch->failure_reported,
	    "accessible", nvme_io_path_is_usable(path), "ana_state",
	    plx_nvme_ana_state_str(nvme_io_path_ana_state(path)), "transport",
	    bdev_nvme_trid_json(&TAILQ_FIRST(&c->trids)->trid), "stat", "num_read_ops",
	    (json_int_t)path->num_read_ops, "num_write_ops", (json_int_t)path->num_write_ops,
	    "bytes_read", (json_int_t)path->bytes_read, "bytes_written",
	    (json_int_t)path->bytes_written);
}

static void nvme_io_paths_on_thread(void *arg)
{
	struct nvme_io_paths_ctx *ctx = arg;
	struct plx_thread *me = plx_get_thread();
	json_t *paths = json_array();
	struct nvme_bdev_channel *ch;
	struct nvme_io_path *path;

	pthread_mutex_lock(&g_channels_lock);
	TAILQ_FOREACH(ch, &g_nvme_bdev_channels, link)
	{
		if (ch->thread != me || (ctx->nbdev != NULL && ch->nbdev != ctx->nbdev)) {
			continue;
		}
		TAILQ_FOREACH(path, &ch->io_paths, link)
		{
			json_array_append_new(paths, nvme_io_path_json(ch, path));
		}
	}
	pthread_mutex_unlock(&g_channels_lock);
	if (json_array_size(paths) == 0) {
		json_decref(paths);
		return;
	}
	json_array_append_new(ctx->groups, json_pack("{s:o}", "io_paths", paths));
}

static void nvme_io_paths_done(void *arg)
{
	struct nvme_io_paths_ctx *ctx = arg;

	ctx->cb(ctx->cb_arg, json_pack("{s:o}", "poll_groups", ctx->groups));
	free(ctx);
}

int bdev_nvme_io_paths_json(const char *bdev_name, bdev_nvme_json_cb cb, void *cb_arg)
{
	struct nvme_io_paths_ctx *ctx;
	struct nvme_bdev *nbdev = NULL;

	if (bdev_name != NULL && (nbdev = nvme_bdev_get_by_name(bdev_name)) == NULL) {
		return -ENODEV;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return -ENOMEM;
	}
	ctx->nbdev = nbdev;
	ctx->groups = json_array();
	ctx->cb = cb;
	ctx->cb_arg = cb_arg;
	plx_for_each_thread(nvme_io_paths_on_thread, ctx, nvme_io_paths_done);
	return 0;
}
