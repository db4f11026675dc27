/*
 * Fuzz target: what the WebSocket API parses from clients and makes of log
 * bytes (node/ws_proto.c).
 *
 * The first byte picks the parser:
 * - topics: ws_topic_parse() never reads past the string; a topic it takes
 *   prints back (repo:%s/%s, run:%lld, job:%lld:logs@%lld) to a string it
 *   parses again to the same thing, names pass node_name_ok(), ids are > 0;
 * - the extension header: ws_deflate_offered() on any text, no crash;
 * - deflated messages: ws_inflate_msg() never gives more than its cap, and
 *   what deflate made of the input inflates back to it;
 * - log bytes: ws_utf8_clean() of any bytes is valid UTF-8 (jansson takes
 *   it as a string), keeps valid input as it is, and ws_utf8_cut() cuts
 *   only an unfinished sequence at the end (at most 3 bytes).
 *
 *   make fuzz
 *   build-fuzz/fuzz/fuzz_ws -max_len=4096 CORPUS_DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "guts/buf.h"
#include "node.h"
#include "ws_proto.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void topics(const char *s)
{
	struct ws_topic_ref t, u;
	char why[160], again[300];

	if (ws_topic_parse(s, &t, why, sizeof(why)) < 0) {
		if (!why[0])
			abort();
		return;
	}
	switch (t.kind) {
	case WS_TOPIC_REPO:
		if (!node_name_ok(t.owner) || !node_name_ok(t.name))
			abort();
		snprintf(again, sizeof(again), "repo:%s/%s", t.owner, t.name);
		break;
	case WS_TOPIC_RUN:
		if (t.id <= 0)
			abort();
		snprintf(again, sizeof(again), "run:%lld", (long long)t.id);
		break;
	case WS_TOPIC_LOG:
		if (t.id <= 0 || t.offset < 0)
			abort();
		snprintf(again, sizeof(again), "job:%lld:logs@%lld",
			 (long long)t.id, (long long)t.offset);
		break;
	}
	if (ws_topic_parse(again, &u, why, sizeof(why)) < 0 ||
	    u.kind != t.kind || u.id != t.id || u.offset != t.offset ||
	    strcmp(u.owner, t.owner) || strcmp(u.name, t.name))
		abort();
}

static void inflating(const uint8_t *data, size_t size)
{
	struct guts_buf out;
	uint8_t z[8192];
	z_stream d = {0};
	size_t cap = 1024;

	guts_buf_init(&out, 0);
	if (ws_inflate_msg(data, size, cap, &out) == 0 && out.len > cap)
		abort();
	guts_buf_release(&out);
	/* Round trip: deflate the input as a client would. */
	if (size > 2048 ||
	    deflateInit2(&d, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return;
	d.next_in = (Bytef *)(uintptr_t)data;
	d.avail_in = (uInt)size;
	d.next_out = z;
	d.avail_out = sizeof(z);
	if (deflate(&d, Z_SYNC_FLUSH) == Z_OK && !d.avail_in) {
		size_t zl = sizeof(z) - d.avail_out - 4;

		guts_buf_init(&out, 0);
		if (ws_inflate_msg(z, zl, 4096, &out) != 0 || out.len != size ||
		    memcmp(out.data, data, size))
			abort();
		guts_buf_release(&out);
	}
	deflateEnd(&d);
}

static void utf8(const uint8_t *data, size_t size)
{
	struct guts_buf out;
	size_t keep = ws_utf8_cut((const char *)data, size, 0);
	json_t *j;

	if (keep > size || size - keep > 3 ||
	    ws_utf8_cut((const char *)data, size, 1) != size)
		abort();
	guts_buf_init(&out, 0);
	ws_utf8_clean((const char *)data, size, &out);
	j = json_stringn(out.data, out.len);
	if (!j)
		abort(); /* not valid UTF-8 */
	json_decref(j);
	/* Valid input comes out unchanged. */
	j = json_stringn((const char *)data, size);
	if (j && (out.len != size || memcmp(out.data, data, size)))
		abort();
	json_decref(j);
	guts_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (!size)
		return 0;
	switch (data[0] % 4) {
	case 0:
	case 1:
		s = malloc(size);
		if (!s)
			return 0;
		memcpy(s, data + 1, size - 1);
		s[size - 1] = 0;
		if (data[0] % 4 == 0)
			topics(s);
		else
			ws_deflate_offered(s);
		free(s);
		break;
	case 2:
		inflating(data + 1, size - 1);
		break;
	default:
		utf8(data + 1, size - 1);
	}
	return 0;
}
