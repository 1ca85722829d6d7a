/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The passthru bdev over a RAM base: I/O reaches the base unchanged, the claim keeps other
 * writers out, base hot-remove unregisters the passthru (and examine re-attaches it when the
 * base comes back), delete with I/O in flight, RPC validation and the save_config round trip.
 */
#include "../../../module/bdev/passthru/vbdev_passthru.h"
#include "fv_ut.h"

static void create_pt(const char *name, const char *base)
{
	char err[128] = "";
	int rc = plx_vbdev_passthru_create(name, base, NULL, err, sizeof(err));

	if (rc != 0) {
		fprintf(stderr, "passthru create: %d %s\n", rc, err);
	}
	CU_ASSERT_EQUAL_FATAL(rc, 0);
}

static void test_io_passes_through(void)
{
	struct ut_ram *ram;
	struct plx_bdev *pt;
	struct plx_bdev_desc *d;
	struct plx_io_channel *ch;
	struct iovec iov = {NULL, 0};
	struct fv_io r = {0};
	char buf[2048];

	ut_bdev_init(2);
	ram = ut_ram_create("ram0", 512, 128);
	create_pt("pt0", "ram0");
	pt = plx_bdev_get_by_name("pt0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(pt);
	CU_ASSERT_STRING_EQUAL(plx_bdev_get_module_name(pt), "passthru");
	CU_ASSERT_EQUAL(plx_bdev_get_block_size(pt), 512);
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(pt), 128);
	CU_ASSERT_STRING_EQUAL(plx_bdev_get_claim_module_name(&ram->bdev), "passthru");
	/* What the base supports, nothing more. */
	CU_ASSERT_TRUE(pt->fn_table->io_type_supported(pt->ctxt, PLX_BDEV_IO_TYPE_UNMAP));
	CU_ASSERT_TRUE(pt->fn_table->io_type_supported(pt->ctxt, PLX_BDEV_IO_TYPE_FLUSH));

	/* On thread 1, so the channels are made there. */
	ut_set_thread(1);
	d = ut_bdev_open("pt0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	ch = plx_bdev_get_io_channel(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	fv_pattern(buf, sizeof(buf), 9);
	CU_ASSERT_EQUAL(fv_write(d, ch, buf, 10, 4), 1);
	CU_ASSERT_EQUAL(memcmp(ram->data + 10 * 512, buf, sizeof(buf)), 0);
	memset(ram->data + 40 * 512, 0x77, 512);
	CU_ASSERT_EQUAL(fv_read(d, ch, buf, 40, 1), 1);
	CU_ASSERT_EQUAL((unsigned char)buf[0], 0x77);
	/* A buffer-less read gets its data. */
	CU_ASSERT_EQUAL(plx_bdev_readv_blocks(d, ch, &iov, 1, 40, 1, fv_io_cb, &r), 0);
	CU_ASSERT_EQUAL(fv_wait(&r.done), 1);
	CU_ASSERT_EQUAL((unsigned char)r.data[511], 0x77);
	r.done = 0;
	CU_ASSERT_EQUAL(plx_bdev_unmap_blocks(d, ch, 40, 1, fv_io_cb, &r), 0);
	CU_ASSERT_EQUAL(fv_wait(&r.done), 1);
	CU_ASSERT_EQUAL(ram->data[40 * 512], 0);
	r.done = 0;
	CU_ASSERT_EQUAL(plx_bdev_flush_blocks(d, ch, 0, 128, fv_io_cb, &r), 0);
	CU_ASSERT_EQUAL(fv_wait(&r.done), 1);
	r.done = 0;
	CU_ASSERT_EQUAL(plx_bdev_reset(d, ch, fv_io_cb, &r), 0);
	CU_ASSERT_EQUAL(fv_wait(&r.done), 1);
	/* Past the end: refused by the layer before it reaches us. */
	CU_ASSERT_EQUAL(plx_bdev_read_blocks(d, ch, buf, 128, 1, fv_io_cb, &r), -EINVAL);
	fv_close(d, ch);
	ut_set_thread(0);
	ut_bdev_fini();
}

static void test_claims(void)
{
	char err[128];
	struct plx_bdev_desc *d = NULL;

	ut_bdev_init(1);
	ut_ram_create("ram0", 512, 64);
	create_pt("pt0", "ram0");
	/* A second passthru on the same base, and a writer behind its back, are refused. */
	CU_ASSERT_EQUAL(plx_vbdev_passthru_create("pt1", "ram0", NULL, err, sizeof(err)), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "claimed"));
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("pt1"));
	CU_ASSERT_EQUAL(plx_bdev_open_ext("ram0", true, NULL, NULL, &d), -EINVAL);
	CU_ASSERT_PTR_NULL(ut_bdev_open("ram0"));
	/* A passthru of a passthru is fine: the first one is not claimed. */
	create_pt("pt2", "pt0");
	CU_ASSERT_EQUAL(plx_vbdev_passthru_create("pt3", "nosuch", NULL, err, sizeof(err)),
			-ENODEV);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "base bdev nosuch not found"));
	CU_ASSERT_EQUAL(plx_vbdev_passthru_create("pt2", "ram0", NULL, err, sizeof(err)), -EEXIST);

	/* Deleting releases the claim. */
	fv_rpc("bdev_passthru_delete", "{\"name\": \"pt2\"}");
	CU_ASSERT_TRUE(json_is_true(fv_rpc_result()));
	fv_rpc("bdev_passthru_delete", "{\"name\": \"pt0\"}");
	CU_ASSERT_TRUE(json_is_true(fv_rpc_result()));
	CU_ASSERT_PTR_NULL(plx_bdev_get_claim_module_name(plx_bdev_get_by_name("ram0")));
	d = ut_bdev_open("ram0");
	CU_ASSERT_PTR_NOT_NULL(d);
	fv_close(d, NULL);
	fv_rpc_free();
	ut_bdev_fini();
}

/* The base goes away under an open passthru: the passthru goes too, and comes back with it. */
static void test_base_hot_remove_and_reattach(void)
{
	struct plx_bdev_desc *d;
	struct plx_io_channel *ch;
	struct plx_bdev *base;
	char buf[512];
	int removed = 0;

	ut_bdev_init(1);
	ut_ram_create("ram0", 512, 64);
	create_pt("pt0", "ram0");
	d = ut_bdev_open("pt0");
	ch = plx_bdev_get_io_channel(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	CU_ASSERT_EQUAL(fv_read(d, ch, buf, 0, 1), 1);

	base = plx_bdev_get_by_name("ram0");
	plx_bdev_unregister(base, fv_unregister_cb, &removed);
	ut_poll_threads();
	CU_ASSERT_EQUAL(ut_bdev_remove_events, 1); /* our descriptor of pt0 heard */
	CU_ASSERT_EQUAL(removed, 0);
	fv_close(d, ch);
	fv_wait(&removed);
	CU_ASSERT_EQUAL(removed, 1);
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("pt0"));
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("ram0"));

	/* A new base of that name: examine_config re-attaches the configured passthru. */
	ut_ram_create("ram0", 512, 32);
	ut_poll_threads();
	CU_ASSERT_PTR_NOT_NULL(plx_bdev_get_by_name("pt0"));
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(plx_bdev_get_by_name("pt0")), 32);
	ut_bdev_fini();
}

/* Delete with I/O held in the base: the I/O completes, then the passthru goes. */
static void test_delete_with_io_in_flight(void)
{
	struct ut_ram *ram;
	struct plx_bdev_desc *d;
	struct plx_io_channel *ch;
	struct fv_io r[4] = {0};
	char buf[4][512];
	int deleted = 0;

	ut_bdev_init(1);
	ram = ut_ram_create("ram0", 512, 64);
	create_pt("pt0", "ram0");
	d = ut_bdev_open("pt0");
	ch = plx_bdev_get_io_channel(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	ram->hold = true;
	for (int i = 0; i < 4; i++) {
		memset(buf[i], i + 1, 512);
		CU_ASSERT_EQUAL(
		    plx_bdev_write_blocks(d, ch, buf[i], (uint64_t)i, 1, fv_io_cb, &r[i]), 0);
	}
	ut_poll_threads();
	CU_ASSERT_EQUAL(ram->held_count, 4);
	CU_ASSERT_EQUAL(plx_vbdev_passthru_delete("pt0", fv_unregister_cb, &deleted), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(ut_bdev_remove_events, 1);
	CU_ASSERT_EQUAL(deleted, 0);
	ut_ram_release(ram);
	ut_poll_threads();
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(r[i].done, 1);
		CU_ASSERT_EQUAL(ram->data[i * 512], i + 1);
	}
	fv_close(d, ch);
	fv_wait(&deleted);
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("pt0"));
	CU_ASSERT_PTR_NULL(plx_bdev_get_claim_module_name(&ram->bdev));
	/* Forgotten: the base appearing again brings nothing back. */
	CU_ASSERT_EQUAL(plx_vbdev_passthru_delete("pt0", fv_unregister_cb, &deleted), -ENODEV);
	ut_bdev_fini();
}

static void test_rpc_and_config(void)
{
	struct plx_bdev *pt;
	json_t *config;
	char uuid[PLX_UUID_STRING_LEN];

	ut_bdev_init(1);
	ut_ram_create("ram0", 4096, 16);
	FV_RPC_FAILS("bdev_passthru_create", "{\"name\": \"pt0\"}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "base_bdev_name");
	FV_RPC_FAILS("bdev_passthru_create", "{\"name\": \"pt0\", \"base_bdev_name\": \"x\"}",
		     -ENODEV, "base bdev x not found");
	FV_RPC_FAILS("bdev_passthru_create",
		     "{\"name\": \"pt0\", \"base_bdev_name\": \"ram0\", \"uuid\": \"zz\"}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "uuid");
	FV_RPC_FAILS("bdev_passthru_create", "{\"name\": \"ram0\", \"base_bdev_name\": \"ram0\"}",
		     -EEXIST, "bdev ram0 already exists");
	FV_RPC_FAILS("bdev_passthru_delete", "{\"name\": \"nosuch\"}", -ENODEV, "nosuch");
	fv_rpc("bdev_passthru_create", "{\"name\": \"pt0\", \"base_bdev_name\": \"ram0\", "
				       "\"uuid\": \"0f1e2d3c-4b5a-4978-8a9b-abcdefabcdef\"}");
	CU_ASSERT_STRING_EQUAL(json_string_value(fv_rpc_result()), "pt0");
	pt = plx_bdev_get_by_name("pt0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(pt);
	CU_ASSERT_EQUAL(plx_bdev_get_block_size(pt), 4096);

	config = fv_config_of(pt);
	CU_ASSERT_EQUAL_FATAL(json_array_size(config), 1);
	fv_rpc("bdev_passthru_delete", "{\"name\": \"pt0\"}");
	CU_ASSERT_TRUE(json_is_true(fv_rpc_result()));
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("pt0"));
	fv_replay(json_array_get(config, 0));
	pt = plx_bdev_get_by_name("pt0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(pt);
	plx_uuid_fmt_lower(uuid, sizeof(uuid), plx_bdev_get_uuid(pt));
	CU_ASSERT_STRING_EQUAL(uuid, "0f1e2d3c-4b5a-4978-8a9b-abcdefabcdef");
	json_decref(config);
	fv_rpc_free();
	ut_bdev_fini();
}

static const struct plx_ut_case cases[] = {
    {"io_passes_through", test_io_passes_through},
    {"claims", test_claims},
    {"base_hot_remove_and_reattach", test_base_hot_remove_and_reattach},
    {"delete_with_io_in_flight", test_delete_with_io_in_flight},
    {"rpc_and_config", test_rpc_and_config},
};
PLX_UT_MAIN("bdev_passthru", cases)
