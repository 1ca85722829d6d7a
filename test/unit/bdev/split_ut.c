/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The split bdev over a RAM base: parts and their offsets, sizes from split_size_mb, the claim,
 * base hot-remove, examine attaching a split configured before its base, delete with I/O in
 * flight, RPC validation and the module's save_config entries.
 */
#include "../../../module/bdev/split/vbdev_split.h"
#include "fv_ut.h"

static void split(const char *base, uint32_t count, uint64_t size_mb, size_t expect_names)
{
	char err[192] = "";
	json_t *names = NULL;
	int rc = plx_vbdev_split_create(base, count, size_mb, &names, err, sizeof(err));

	if (rc != 0) {
		fprintf(stderr, "split create: %d %s\n", rc, err);
	}
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(json_array_size(names), expect_names);
	json_decref(names);
}

static void del(const char *base)
{
	int done = 0;

	CU_ASSERT_EQUAL(plx_vbdev_split_delete(base, fv_unregister_cb, &done), 0);
	fv_wait(&done);
	CU_ASSERT_EQUAL(done, 1);
}

static void test_offsets(void)
{
	struct ut_ram *ram;
	struct plx_bdev_desc *d;
	struct plx_io_channel *ch;
	struct plx_bdev *p2;
	char buf[1024], name[16];
	struct fv_io r = {0};

	ut_bdev_init(2);
	ram = ut_ram_create("ram0", 512, 66); /* 66 / 4: 16 each, 2 blocks left over */
	split("ram0", 4, 0, 4);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "ram0p%d", i);
		CU_ASSERT_PTR_NOT_NULL(plx_bdev_get_by_name(name));
		CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(plx_bdev_get_by_name(name)), 16);
	}
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("ram0p4"));
	CU_ASSERT_STRING_EQUAL(plx_bdev_get_claim_module_name(&ram->bdev), "split");
	p2 = plx_bdev_get_by_name("ram0p2");
	CU_ASSERT_STRING_EQUAL(plx_bdev_get_module_name(p2), "split");
	/* Distinct, stable UUIDs per part. */
	CU_ASSERT_NOT_EQUAL(plx_uuid_compare(plx_bdev_get_uuid(p2),
					     plx_bdev_get_uuid(plx_bdev_get_by_name("ram0p1"))),
			    0);

	ut_set_thread(1);
	d = ut_bdev_open("ram0p2");
	ch = plx_bdev_get_io_channel(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	fv_pattern(buf, sizeof(buf), 5);
	CU_ASSERT_EQUAL(fv_write(d, ch, buf, 14, 2), 1); /* the part's last two blocks */
	CU_ASSERT_EQUAL(memcmp(ram->data + (32 + 14) * 512, buf, sizeof(buf)), 0);
	memset(ram->data + 32 * 512, 0x42, 512);
	CU_ASSERT_EQUAL(fv_read(d, ch, buf, 0, 1), 1);
	CU_ASSERT_EQUAL((unsigned char)buf[0], 0x42);
	CU_ASSERT_EQUAL(plx_bdev_write_zeroes_blocks(d, ch, 0, 1, fv_io_cb, &r), 0);
	CU_ASSERT_EQUAL(fv_wait(&r.done), 1);
	CU_ASSERT_EQUAL(ram->data[32 * 512], 0);
	CU_ASSERT_EQUAL(ram->data[31 * 512 + 511], 0);
	/* Crossing the part's end never reaches the base. */
	CU_ASSERT_EQUAL(plx_bdev_read_blocks(d, ch, buf, 15, 2, fv_io_cb, &r), -EINVAL);
	fv_close(d, ch);
	ut_set_thread(0);
	del("ram0");
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("ram0p0"));
	CU_ASSERT_PTR_NULL(plx_bdev_get_claim_module_name(&ram->bdev));
	ut_bdev_fini();
}

static void test_size_mb_and_claims(void)
{
	char err[192];
	json_t *names = NULL;
	struct plx_bdev_desc *d;

	ut_bdev_init(1);
	ut_ram_create("ram0", 4096, 1024); /* 4 MiB */
	CU_ASSERT_EQUAL(plx_vbdev_split_create("ram0", 5, 1, &names, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "split_size_mb"));
	CU_ASSERT_PTR_NULL(plx_bdev_get_claim_module_name(plx_bdev_get_by_name("ram0")));
	CU_ASSERT_EQUAL(plx_vbdev_split_create("ram0", 0, 0, &names, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "split_count"));
	CU_ASSERT_EQUAL(plx_vbdev_split_create("ram0", 2000, 0, &names, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "too small"));
	/* A rejected configuration is not kept: the base is free for the next try. */
	split("ram0", 3, 1, 3);
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(plx_bdev_get_by_name("ram0p1")), 256);
	CU_ASSERT_EQUAL(plx_vbdev_split_create("ram0", 2, 0, &names, err, sizeof(err)), -EEXIST);
	/* Claimed: no writer, no second split of a part's base, no passthru on it. */
	CU_ASSERT_PTR_NULL(ut_bdev_open("ram0"));
	/* Parts themselves can be split again. */
	split("ram0p0", 2, 0, 2);
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(plx_bdev_get_by_name("ram0p0p1")), 128);
	CU_ASSERT_PTR_NULL(ut_bdev_open("ram0p0"));
	d = ut_bdev_open("ram0p1");
	CU_ASSERT_PTR_NOT_NULL(d);
	fv_close(d, NULL);
	del("ram0p0");
	del("ram0");
	ut_bdev_fini();
}

/* Configured before the base exists (a saved config replays split entries first). */
static void test_examine_attaches_later(void)
{
	json_t *config = json_array();

	ut_bdev_init(1);
	fv_rpc("bdev_split_create", "{\"base_bdev\": \"late\", \"split_count\": 2}");
	CU_ASSERT_EQUAL(fv_rpc_code(), 0);
	CU_ASSERT_EQUAL(json_array_size(fv_rpc_result()), 0);
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("latep0"));

	/* The module saves the configuration itself. */
	plx_split_module.config_json(config);
	CU_ASSERT_EQUAL(json_array_size(config), 1);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(json_array_get(config, 0), "method")),
	    "bdev_split_create");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(
			    json_object_get(json_array_get(config, 0), "params"), "split_count")),
			2);

	ut_ram_create("late", 512, 20);
	ut_poll_threads();
	CU_ASSERT_PTR_NOT_NULL(plx_bdev_get_by_name("latep0"));
	CU_ASSERT_PTR_NOT_NULL(plx_bdev_get_by_name("latep1"));
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(plx_bdev_get_by_name("latep1")), 10);

	/* Replaying the saved entry after a delete brings the parts back at once. */
	fv_rpc("bdev_split_delete", "{\"base_bdev\": \"late\"}");
	CU_ASSERT_TRUE(json_is_true(fv_rpc_result()));
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("latep0"));
	fv_replay(json_array_get(config, 0));
	CU_ASSERT_EQUAL(json_array_size(fv_rpc_result()), 2);
	CU_ASSERT_PTR_NOT_NULL(plx_bdev_get_by_name("latep0"));
	json_decref(config);
	fv_rpc_free();
	ut_bdev_fini();
}

static void test_base_hot_remove(void)
{
	struct plx_bdev_desc *d;
	struct plx_io_channel *ch;
	char buf[512];

	ut_bdev_init(1);
	ut_ram_create("ram0", 512, 64);
	split("ram0", 4, 0, 4);
	d = ut_bdev_open("ram0p3");
	ch = plx_bdev_get_io_channel(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	CU_ASSERT_EQUAL(fv_read(d, ch, buf, 0, 1), 1);
	plx_bdev_unregister(plx_bdev_get_by_name("ram0"), NULL, NULL);
	ut_poll_threads();
	CU_ASSERT_EQUAL(ut_bdev_remove_events, 1);
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("ram0p0"));
	fv_close(d, ch);
	ut_poll_threads();
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("ram0p3"));
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("ram0"));
	/* The configuration remains; the parts return with a base of that name. */
	ut_ram_create("ram0", 512, 64);
	ut_poll_threads();
	CU_ASSERT_PTR_NOT_NULL(plx_bdev_get_by_name("ram0p3"));
	ut_bdev_fini();
}

static void test_delete_with_io_in_flight(void)
{
	struct ut_ram *ram;
	struct plx_bdev_desc *d;
	struct plx_io_channel *ch;
	struct fv_io r = {0};
	char buf[512];
	int deleted = 0;

	ut_bdev_init(1);
	ram = ut_ram_create("ram0", 512, 64);
	split("ram0", 2, 0, 2);
	d = ut_bdev_open("ram0p1");
	ch = plx_bdev_get_io_channel(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	ram->hold = true;
	memset(buf, 0x33, sizeof(buf));
	CU_ASSERT_EQUAL(plx_bdev_write_blocks(d, ch, buf, 5, 1, fv_io_cb, &r), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(ram->held_count, 1);
	CU_ASSERT_EQUAL(plx_vbdev_split_delete("ram0", fv_unregister_cb, &deleted), 0);
	ut_poll_threads();
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("ram0p0"));
	CU_ASSERT_EQUAL(deleted, 0);
	ut_ram_release(ram);
	fv_wait(&r.done);
	CU_ASSERT_EQUAL(r.done, 1);
	CU_ASSERT_EQUAL(ram->data[(32 + 5) * 512], 0x33);
	fv_close(d, ch);
	fv_wait(&deleted);
	CU_ASSERT_EQUAL(deleted, 1);
	CU_ASSERT_PTR_NULL(plx_bdev_get_claim_module_name(&ram->bdev));
	ut_bdev_fini();
}

static void test_rpc(void)
{
	ut_bdev_init(1);
	ut_ram_create("ram0", 512, 64);
	FV_RPC_FAILS("bdev_split_create", "{\"base_bdev\": \"ram0\"}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "split_count");
	FV_RPC_FAILS("bdev_split_create", "{\"base_bdev\": \"ram0\", \"split_count\": 0}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "split_count: must be greater than 0");
	FV_RPC_FAILS("bdev_split_create",
		     "{\"base_bdev\": \"ram0\", \"split_count\": 2, \"split_size_mb\": 1}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "split_size_mb");
	FV_RPC_FAILS("bdev_split_delete", "{\"base_bdev\": \"nosuch\"}", -ENODEV, "nosuch");
	fv_rpc("bdev_split_create", "{\"base_bdev\": \"ram0\", \"split_count\": 2}");
	CU_ASSERT_EQUAL(json_array_size(fv_rpc_result()), 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(fv_rpc_result(), 1)), "ram0p1");
	FV_RPC_FAILS("bdev_split_create", "{\"base_bdev\": \"ram0\", \"split_count\": 2}", -EEXIST,
		     "already");
	fv_rpc_free();
	ut_bdev_fini();
}

static const struct plx_ut_case cases[] = {
    {"offsets", test_offsets},
    {"size_mb_and_claims", test_size_mb_and_claims},
    {"examine_attaches_later", test_examine_attaches_later},
    {"base_hot_remove", test_base_hot_remove},
    {"delete_with_io_in_flight", test_delete_with_io_in_flight},
    {"rpc", test_rpc},
};
PLX_UT_MAIN("bdev_split", cases)
