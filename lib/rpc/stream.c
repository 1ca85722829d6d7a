/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A byte stream of requests: framing into top-level JSON values, and the way back out.
 *
 * Framing does not parse: a small scanner follows nesting depth, strings and escapes to find
 * where a top-level object or array ends, then jansson parses exactly that slice. The scanner
 * keeps its state between feeds, so a large request arriving in pieces is scanned once.
 * Input is taken in bounded chunks so a huge feed never grows the buffer far beyond the
 * request size limit.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/log.h"
#include "pollux/rpc.h"
#include "pollux/util.h"
#include "rpc_internal.h"

#define FEED_CHUNK (64u * 1024)

struct plx_rpc_stream {
	plx_rpc_stream_out_fn out;
	void *out_arg;
	/* One for the owner (until destroy), one per unanswered request, one per feed running. */
	uint32_t refs;
	uint32_t pending;
	bool destroyed;
	bool failed; /* a framing error was answered; nothing more is read */

	char *buf;
	size_t len;
	size_t cap;
	/* Scanner: buf[start..pos) is the part of the current value already scanned. */
	size_t start;
	size_t pos;
	size_t depth; /* 0: between values */
	bool in_string;
	bool escape;
};

static size_t g_max_request_size = PLX_RPC_MAX_REQUEST_SIZE;

void plx_rpc_set_max_request_size(size_t size)
{
	g_max_request_size = size != 0 ? size : PLX_RPC_MAX_REQUEST_SIZE;
}

size_t plx_rpc_get_max_request_size(void)
{
	return g_max_request_size;
}

struct plx_rpc_stream *plx_rpc_stream_create(plx_rpc_stream_out_fn out, void *out_arg)
{
	struct plx_rpc_stream *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		return NULL;
	}
	s->out = out;
	s->out_arg = out_arg;
	s->refs = 1;
	return s;
}

static void stream_get(struct plx_rpc_stream *stream)
{
	stream->refs++;
}

static void stream_put(struct plx_rpc_stream *stream)
{
	if (--stream->refs > 0) {
		return;
	}
	free(stream->buf);
	free(stream);
}

void plx_rpc_stream_hold(struct plx_rpc_stream *stream)
{
	stream->pending++;
	stream_get(stream);
}

void plx_rpc_stream_release(struct plx_rpc_stream *stream)
{
	stream->pending--;
	stream_put(stream);
}

uint32_t plx_rpc_stream_pending(const struct plx_rpc_stream *stream)
{
	return stream->pending;
}

void plx_rpc_stream_destroy(struct plx_rpc_stream *stream)
{
	if (stream == NULL) {
		return;
	}
	stream->destroyed = true;
	stream_put(stream);
}

void plx_rpc_stream_deliver(struct plx_rpc_stream *stream, const json_t *response)
{
	char small[2048], *text = small;
	size_t n;

	if (stream->destroyed) {
		return;
	}
	n = json_dumpb(response, small, sizeof(small) - 1, PLX_RPC_DUMP_FLAGS);
	if (n == 0) {
		PLX_ERRLOG("cannot serialise an RPC response");
		return;
	}
	if (n >= sizeof(small)) {
		text = malloc(n + 1);
		if (text == NULL) {
			PLX_ERRLOG("out of memory for an RPC response of %zu bytes", n);
			return;
		}
		json_dumpb(response, text, n, PLX_RPC_DUMP_FLAGS);
	}
	text[n] = '\n';
	stream->out(stream->out_arg, text, n + 1);
	if (text != small) {
		free(text);
	}
}

void plx_rpc_stream_send_error(struct plx_rpc_stream *stream, int code, const char *fmt, ...)
{
	json_t *response;
	char *msg;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		PLX_ERRLOG("out of memory for an RPC error");
		return;
	}
	response = json_pack("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", "error", "code",
			     code, "message", msg);
	free(msg);
	if (response == NULL) {
		PLX_ERRLOG("out of memory for an RPC error");
		return;
	}
	plx_rpc_stream_deliver(stream, response);
	json_decref(response);
}

static int stream_fail(struct plx_rpc_stream *s)
{
	s->failed = true;
	return -EPROTO;
}

static int stream_too_big(struct plx_rpc_stream *s)
{
	plx_rpc_stream_send_error(s, PLX_JSONRPC_ERROR_INVALID_REQUEST, "request exceeds %zu bytes",
				  g_max_request_size);
	return stream_fail(s);
}

/* Parse buf[start..end) and run it. */
static int stream_dispatch(struct plx_rpc_stream *s, size_t end)
{
	json_error_t jerr;
	json_t *msg;

	msg = json_loadb(s->buf + s->start, end - s->start, 0, &jerr);
	if (msg == NULL) {
		plx_rpc_stream_send_error(s, PLX_JSONRPC_ERROR_PARSE_ERROR, "Parse error: %s",
					  jerr.text);
		return stream_fail(s);
	}
	plx_rpc_process_msg(msg, s, NULL, NULL);
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Scan what is buffered; dispatch each complete value. Returns 0 or -EPROTO. Stops early
 * when a handler destroyed the stream.
 */
static int stream_scan(struct plx_rpc_stream *s)
{
	int rc;

	for (; s->pos < s->len && !s->destroyed; s->pos++) {
		char c = s->buf[s->pos];

		if (s->depth == 0) {
			if (is_space(c)) {
				s->start = s->pos + 1;
				continue;
			}
			if (c != '{' && c != '[') {
				/*
				 * A scalar (string, number, literal) is JSON but not a request:
				 * -32600 as JSON-RPC says. Either way the stream cannot resync.
				 */
				bool scalar = strchr("\"-0123456789tfn", c) != NULL;

				plx_rpc_stream_send_error(
				    s,
				    scalar ? PLX_JSONRPC_ERROR_INVALID_REQUEST
					   : PLX_JSONRPC_ERROR_PARSE_ERROR,
				    scalar ? "Invalid request: expected a JSON object, got '%c'"
					   : "Parse error: expected '{' or '[', got '%c'",
				    c >= 0x20 && c < 0x7f ? c : '?');
				return stream_fail(s);
			}
			s->start = s->pos;
			s->depth = 1;
			continue;
		}
		if (s->in_string) {
			if (s->escape) {
				s->escape = false;
			} else if (c == '\\') {
				s->escape = true;
			} else if (c == '"') {
				s->in_string = false;
			}
		} else if (c == '"') {
			s->in_string = true;
		} else if (c == '{' || c == '[') {
			s->depth++;
		} else if ((c == '}' || c == ']') && --s->depth == 0) {
			if (s->pos + 1 - s->start > g_max_request_size) {
				return stream_too_big(s);
			}
			rc = stream_dispatch(s, s->pos + 1);
			if (rc != 0) {
				return rc;
			}
			s->start = s->pos + 1;
		}
	}
	if (s->depth > 0 && s->pos - s->start > g_max_request_size) {
		return stream_too_big(s);
	}
	return 0;
}

/* Drop what was consumed and append data. */
static int stream_append(struct plx_rpc_stream *s, const char *data, size_t len)
{
	if (s->start > 0) {
		memmove(s->buf, s->buf + s->start, s->len - s->start);
		s->len -= s->start;
		s->pos -= s->start;
		s->start = 0;
	}
	if (s->len + len > s->cap) {
		size_t cap = PLX_MAX(s->cap * 2, s->len + len);
		char *buf = realloc(s->buf, cap);

		if (buf == NULL) {
			return -ENOMEM;
		}
		s->buf = buf;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

int plx_rpc_stream_feed(struct plx_rpc_stream *stream, const void *buf, size_t len)
{
	const char *data = buf;
	int rc = 0;

	if (stream->failed) {
		return -EPROTO;
	}
	/* A handler may destroy the stream while we scan. */
	stream_get(stream);
	while (len > 0 && rc == 0 && !stream->destroyed) {
		size_t n = PLX_MIN(len, FEED_CHUNK);

		rc = stream_append(stream, data, n);
		if (rc == 0) {
			rc = stream_scan(stream);
		} else {
			PLX_ERRLOG("out of memory buffering an RPC request");
			plx_rpc_stream_send_error(stream, PLX_JSONRPC_ERROR_INTERNAL_ERROR,
						  "out of memory");
			rc = stream_fail(stream);
		}
		data += n;
		len -= n;
	}
	stream_put(stream);
	return rc;
}
