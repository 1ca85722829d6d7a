/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the UNIX socket server, run on the deterministic thread harness: the clients
 * are sockets of this process, and the server's poller runs when the fake clock moves.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pollux/rpc.h"
#include "ut.h"
#include "ut_thread.h"

static char g_dir[48];
static char g_path[96];
static struct plx_jsonrpc_request *g_async[8];
static int g_num_async;

static void srv_async(struct plx_jsonrpc_request *req, const json_t *params)
{
	CU_ASSERT_FATAL(g_num_async < 8);
	g_async[g_num_async++] = req;
}
PLX_RPC_REGISTER("srv_async", srv_async, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void srv_echo(struct plx_jsonrpc_request *req, const json_t *params)
{
	plx_jsonrpc_send_result(req, params != NULL ? json_deep_copy(params) : NULL);
}
PLX_RPC_REGISTER("srv_echo", srv_echo, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

/* Answers every parked srv_async request, then itself. */
static void srv_release(struct plx_jsonrpc_request *req, const json_t *params)
{
	for (int i = 0; i < g_num_async; i++) {
		plx_jsonrpc_send_result(g_async[i], json_string("released"));
	}
	g_num_async = 0;
	plx_jsonrpc_send_bool(req, true);
}
PLX_RPC_REGISTER("srv_release", srv_release, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

/* Answers, then stops the server from inside its own poller. */
static void srv_stop(struct plx_jsonrpc_request *req, const json_t *params)
{
	plx_jsonrpc_send_bool(req, true);
	plx_rpc_close();
}
PLX_RPC_REGISTER("srv_stop", srv_stop, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

/* Let the server poller run a few times. */
static void serve(void)
{
	for (int i = 0; i < 3; i++) {
		ut_advance_time_us(1000);
		ut_poll_threads();
	}
}

static void setup(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/plx_rpc_ut.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(g_dir));
	snprintf(g_path, sizeof(g_path), "%s/rpc.sock", g_dir);
	ut_threads_init(1);
	g_num_async = 0;
}

static void teardown(void)
{
	char lock[160];

	plx_rpc_close();
	ut_threads_fini();
	snprintf(lock, sizeof(lock), "%s.lock", g_path);
	unlink(g_path);
	unlink(lock);
	CU_ASSERT_EQUAL(rmdir(g_dir), 0);
}

static int client_connect(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	CU_ASSERT_FATAL(fd >= 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", g_path);
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

static void client_send(int fd, const char *text)
{
	CU_ASSERT_EQUAL((size_t)send(fd, text, strlen(text), MSG_NOSIGNAL), strlen(text));
}

/* Everything readable now (no waiting); the string is malloc'ed. *eof tells of a close. */
static char *client_read(int fd, bool *eof)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1);
	ssize_t n;

	*eof = false;
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		n = recv(fd, buf + len, cap - len, MSG_DONTWAIT);
		if (n <= 0) {
			*eof = n == 0;
			break;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

static void expect_read(int fd, const char *want, bool want_eof)
{
	bool eof;
	char *got = client_read(fd, &eof);

	if (strcmp(got, want) != 0) {
		fprintf(stderr, "\n  got  '%s'\n  want '%s'\n", got, want);
		CU_FAIL("response text");
	}
	CU_ASSERT_EQUAL(eof, want_eof);
	free(got);
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void poller_cb(const struct plx_poller_info *info, void *arg)
{
	if (strcmp(info->name, "rpc_server") == 0) {
		(*(int *)arg)++;
	}
}

static void test_basic_request(void)
{
	char lock[160];
	int fd, pollers = 0;

	setup();
	CU_ASSERT_EQUAL_FATAL(plx_rpc_listen(g_path), 0);
	snprintf(lock, sizeof(lock), "%s.lock", g_path);
	CU_ASSERT(file_exists(g_path));
	CU_ASSERT(file_exists(lock));
	plx_thread_foreach_poller(poller_cb, &pollers);
	CU_ASSERT_EQUAL(pollers, 1);

	fd = client_connect();
	serve();
	CU_ASSERT_EQUAL(plx_rpc_connection_count(), 1);
	client_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_echo\",\"id\":1,\"params\":[1]}\n");
	serve();
	expect_read(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[1]}\n", false);
	/* Two requests in one write. */
	client_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_echo\",\"id\":2}"
			"{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":3}");
	serve();
	expect_read(fd,
		    "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":null}\n"
		    "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32601,\"message\":"
		    "\"Method not found: nope\"}}\n",
		    false);
	close(fd);
	serve();
	CU_ASSERT_EQUAL(plx_rpc_connection_count(), 0);

	plx_rpc_close();
	CU_ASSERT(!file_exists(g_path));
	CU_ASSERT(!file_exists(lock));
	pollers = 0;
	plx_thread_foreach_poller(poller_cb, &pollers);
	CU_ASSERT_EQUAL(pollers, 0);
	plx_rpc_close();
	teardown();
}

static void test_half_request_does_not_block_others(void)
{
	int slow, fast;

	setup();
	CU_ASSERT_EQUAL_FATAL(plx_rpc_listen(g_path), 0);
	slow = client_connect();
	fast = client_connect();
	client_send(slow, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_e");
	serve();
	client_send(fast, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_echo\",\"id\":\"f\"}");
	serve();
	expect_read(fast, "{\"jsonrpc\":\"2.0\",\"id\":\"f\",\"result\":null}\n", false);
	expect_read(slow, "", false);
	CU_ASSERT_EQUAL(plx_rpc_connection_count(), 2);
	client_send(slow, "cho\",\"id\":\"s\"}");
	serve();
	expect_read(slow, "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":null}\n", false);
	close(slow);
	close(fast);
	teardown();
}

/* A request and a response bigger than socket buffers, moved with the client non-blocking. */
static void test_large_request_and_response(void)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"method\":\"srv_echo\",\"id\":9,"
				   "\"params\":[\"";
	size_t n = 4 * 1024 * 1024, len, off = 0, got_len = 0;
	char *req = malloc(n + 128), *got = NULL;
	bool eof = false;
	json_t *r;
	int fd, rounds = 0;

	setup();
	CU_ASSERT_EQUAL_FATAL(plx_rpc_listen(g_path), 0);
	fd = client_connect();
	CU_ASSERT_EQUAL(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	memcpy(req, head, sizeof(head) - 1);
	len = sizeof(head) - 1;
	memset(req + len, 'z', n);
	len += n;
	memcpy(req + len, "\"]}", 3);
	len += 3;
	while ((off < len || got_len < len) && rounds++ < 100000) {
		ssize_t w = off < len ? send(fd, req + off, len - off, MSG_NOSIGNAL) : 0;
		char *part;

		if (w > 0) {
			off += (size_t)w;
		}
		serve();
		part = client_read(fd, &eof);
		got = realloc(got, got_len + strlen(part) + 1);
		memcpy(got + got_len, part, strlen(part) + 1);
		got_len += strlen(part);
		free(part);
		if (got_len > 0 && got[got_len - 1] == '\n') {
			break;
		}
	}
	CU_ASSERT(!eof);
	CU_ASSERT_FATAL(got_len > 0);
	r = json_loads(got, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(strlen(json_string_value(json_array_get(json_object_get(r, "result"), 0))),
			n);
	json_decref(r);
	free(got);
	free(req);
	close(fd);
	teardown();
}

static void test_eof_after_request(void)
{
	int fd;

	setup();
	CU_ASSERT_EQUAL_FATAL(plx_rpc_listen(g_path), 0);
	fd = client_connect();
	client_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_echo\",\"id\":1}");
	CU_ASSERT_EQUAL(shutdown(fd, SHUT_WR), 0);
	serve();
	/* Answered, then closed. */
	expect_read(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}\n", true);
	CU_ASSERT_EQUAL(plx_rpc_connection_count(), 0);
	close(fd);
	teardown();
}

static void test_parse_error_closes(void)
{
	int fd, other;

	setup();
	CU_ASSERT_EQUAL_FATAL(plx_rpc_listen(g_path), 0);
	fd = client_connect();
	other = client_connect();
	client_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_echo\",\"id\":1} garbage");
	serve();
	expect_read(fd,
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}\n"
		    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":"
		    "\"Parse error: expected '{' or '[', got 'g'\"}}\n",
		    true);
	CU_ASSERT_EQUAL(plx_rpc_connection_count(), 1);
	client_send(other, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_echo\",\"id\":2}");
	serve();
	expect_read(other, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":null}\n", false);
	close(fd);
	close(other);
	teardown();
}

static void test_async_answers(void)
{
	int fd, gone;

	setup();
	CU_ASSERT_EQUAL_FATAL(plx_rpc_listen(g_path), 0);
	fd = client_connect();
	gone = client_connect();
	client_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_async\",\"id\":1}");
	client_send(gone, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_async\",\"id\":2}");
	serve();
	CU_ASSERT_EQUAL_FATAL(g_num_async, 2);
	expect_read(fd, "", false);
	/* The client of request 2 leaves before its answer. */
	close(gone);
	serve();
	CU_ASSERT_EQUAL(plx_rpc_connection_count(), 1);
	plx_jsonrpc_send_bool(g_async[1], true);
	/* An answer given outside the poller goes out at once. */
	plx_jsonrpc_send_bool(g_async[0], false);
	expect_read(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":false}\n", false);
	close(fd);
	teardown();
}

/* A handler on one connection answers a request of another: that answer must go out too. */
static void test_answer_other_connection(void)
{
	int a, b;

	setup();
	CU_ASSERT_EQUAL_FATAL(plx_rpc_listen(g_path), 0);
	a = client_connect();
	b = client_connect();
	client_send(a, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_async\",\"id\":1}");
	serve();
	CU_ASSERT_EQUAL_FATAL(g_num_async, 1);
	client_send(b, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_release\",\"id\":2}");
	serve();
	expect_read(b, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":true}\n", false);
	expect_read(a, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"released\"}\n", false);
	close(a);
	close(b);
	teardown();
}

static void test_eof_with_pending_async(void)
{
	int fd;

	setup();
	CU_ASSERT_EQUAL_FATAL(plx_rpc_listen(g_path), 0);
	fd = client_connect();
	client_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_async\",\"id\":1}");
	CU_ASSERT_EQUAL(shutdown(fd, SHUT_WR), 0);
	serve();
	/* Half-closed: the connection waits for its answer. */
	CU_ASSERT_EQUAL(plx_rpc_connection_count(), 1);
	CU_ASSERT_EQUAL_FATAL(g_num_async, 1);
	expect_read(fd, "", false);
	plx_jsonrpc_send_result(g_async[0], json_integer(5));
	serve();
	expect_read(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":5}\n", true);
	CU_ASSERT_EQUAL(plx_rpc_connection_count(), 0);
	close(fd);
	teardown();
}

static void test_close_with_clients(void)
{
	int fd;

	setup();
	CU_ASSERT_EQUAL_FATAL(plx_rpc_listen(g_path), 0);
	fd = client_connect();
	client_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_async\",\"id\":1}");
	serve();
	CU_ASSERT_EQUAL_FATAL(g_num_async, 1);
	plx_rpc_close();
	CU_ASSERT_EQUAL(plx_rpc_connection_count(), 0);
	expect_read(fd, "", true);
	/* The request outlived its connection; its answer is dropped. */
	plx_jsonrpc_send_bool(g_async[0], true);
	close(fd);
	/* Listening again on the same path works. */
	CU_ASSERT_EQUAL(plx_rpc_listen(g_path), 0);
	fd = client_connect();
	client_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_echo\",\"id\":1}");
	serve();
	expect_read(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}\n", false);
	close(fd);
	teardown();
}

static void test_close_from_handler(void)
{
	int fd, other;

	setup();
	CU_ASSERT_EQUAL_FATAL(plx_rpc_listen(g_path), 0);
	fd = client_connect();
	other = client_connect();
	serve();
	client_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_stop\",\"id\":1}");
	serve();
	expect_read(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":true}\n", true);
	expect_read(other, "", true);
	CU_ASSERT(!file_exists(g_path));
	CU_ASSERT_EQUAL(plx_rpc_connection_count(), 0);
	close(fd);
	close(other);
	teardown();
}

static void test_in_use(void)
{
	char lock[160];
	int lfd;

	setup();
	snprintf(lock, sizeof(lock), "%s.lock", g_path);
	/* Another process's lock: a separate open file description conflicts just the same. */
	lfd = open(lock, O_RDWR | O_CREAT, 0600);
	CU_ASSERT_FATAL(lfd >= 0);
	CU_ASSERT_EQUAL_FATAL(flock(lfd, LOCK_EX | LOCK_NB), 0);
	CU_ASSERT_EQUAL(plx_rpc_listen(g_path), -EADDRINUSE);
	/* The files of the live owner are left alone. */
	CU_ASSERT(file_exists(lock));
	close(lfd);
	CU_ASSERT_EQUAL(plx_rpc_listen(g_path), 0);
	CU_ASSERT_EQUAL(plx_rpc_listen(g_path), -EBUSY);
	teardown();
}

static void test_stale_socket_replaced(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	setup();
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", g_path);
	CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	CU_ASSERT(file_exists(g_path));
	CU_ASSERT_EQUAL(plx_rpc_listen(g_path), 0);
	fd = client_connect();
	client_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"srv_echo\",\"id\":1}");
	serve();
	expect_read(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}\n", false);
	close(fd);
	teardown();
}

static void test_bad_paths(void)
{
	char longpath[200];

	setup();
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	CU_ASSERT_EQUAL(plx_rpc_listen(longpath), -EINVAL);
	CU_ASSERT_EQUAL(plx_rpc_listen(""), -EINVAL);
	CU_ASSERT(plx_rpc_listen("/nonexistent-dir-plx/rpc.sock") < 0);
	/* Without a current thread there is nothing to serve on. */
	plx_set_thread(NULL);
	CU_ASSERT_EQUAL(plx_rpc_listen(g_path), -EINVAL);
	CU_ASSERT(!file_exists(g_path));
	ut_set_thread(0);
	teardown();
}

static const struct plx_ut_case cases[] = {
    {"basic_request", test_basic_request},
    {"half_request_does_not_block_others", test_half_request_does_not_block_others},
    {"large_request_and_response", test_large_request_and_response},
    {"eof_after_request", test_eof_after_request},
    {"parse_error_closes", test_parse_error_closes},
    {"async_answers", test_async_answers},
    {"answer_other_connection", test_answer_other_connection},
    {"eof_with_pending_async", test_eof_with_pending_async},
    {"close_with_clients", test_close_with_clients},
    {"close_from_handler", test_close_from_handler},
    {"in_use", test_in_use},
    {"stale_socket_replaced", test_stale_socket_replaced},
    {"bad_paths", test_bad_paths},
};

PLX_UT_MAIN("rpc_server", cases)
