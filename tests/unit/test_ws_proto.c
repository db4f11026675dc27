/*
 * node/ws_proto.c: topics, the permessage-deflate offer, deflated client
 * messages, and log bytes made valid UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "guts/buf.h"
#include "ws_proto.h"

static void test_topics(void **state)
{
	struct ws_topic_ref t;
	char why[160];

	(void)state;
	assert_int_equal(
	    ws_topic_parse("repo:alice/web-app", &t, why, sizeof(why)), 0);
	assert_int_equal(t.kind, WS_TOPIC_REPO);
	assert_string_equal(t.owner, "alice");
	assert_string_equal(t.name, "web-app");
	assert_int_equal(ws_topic_parse("run:42", &t, why, sizeof(why)), 0);
	assert_int_equal(t.kind, WS_TOPIC_RUN);
	assert_int_equal(t.id, 42);
	assert_int_equal(ws_topic_parse("job:7:logs", &t, why, sizeof(why)), 0);
	assert_int_equal(t.kind, WS_TOPIC_LOG);
	assert_int_equal(t.id, 7);
	assert_int_equal(t.offset, 0);
	assert_int_equal(ws_topic_parse("job:7:logs@0", &t, why, sizeof(why)),
			 0);
	assert_int_equal(
	    ws_topic_parse("job:7:logs@1234", &t, why, sizeof(why)), 0);
	assert_int_equal(t.offset, 1234);

	/* What is refused, and why. */
	assert_int_equal(ws_topic_parse("repo:a/..", &t, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a valid repository name"));
	assert_int_equal(ws_topic_parse("repo:noslash", &t, why, sizeof(why)),
			 -1);
	assert_int_equal(ws_topic_parse("run:0", &t, why, sizeof(why)), -1);
	assert_int_equal(ws_topic_parse("run:12x", &t, why, sizeof(why)), -1);
	assert_int_equal(ws_topic_parse("run:-3", &t, why, sizeof(why)), -1);
	assert_int_equal(ws_topic_parse("job:7:logs@-1", &t, why, sizeof(why)),
			 -1);
	assert_int_equal(ws_topic_parse("job:7:logs@1x", &t, why, sizeof(why)),
			 -1);
	assert_int_equal(ws_topic_parse("job:7:log", &t, why, sizeof(why)), -1);
	assert_int_equal(
	    ws_topic_parse("run:99999999999999999999", &t, why, sizeof(why)),
	    -1);
	assert_int_equal(ws_topic_parse("nope", &t, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "unknown topic"));
}

static void test_deflate_offer(void **state)
{
	(void)state;
	assert_true(ws_deflate_offered("permessage-deflate"));
	assert_true(
	    ws_deflate_offered("permessage-deflate; client_max_window_bits"));
	assert_true(
	    ws_deflate_offered("x-webkit-deflate-frame, permessage-deflate"));
	assert_true(ws_deflate_offered(
	    "permessage-deflate; server_max_window_bits=15"));
	assert_false(ws_deflate_offered(
	    "permessage-deflate; server_max_window_bits=10"));
	assert_false(ws_deflate_offered("permessage-deflatex"));
	assert_false(ws_deflate_offered(""));
	assert_false(ws_deflate_offered(NULL));
}

static size_t deflated(const char *in, uint8_t *out, size_t cap)
{
	z_stream z = {0};
	size_t n;

	assert_int_equal(
	    deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)strlen(in);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_SYNC_FLUSH), Z_OK);
	n = cap - z.avail_out - 4; /* RFC 7692 drops 00 00 ff ff */
	deflateEnd(&z);
	return n;
}

static void test_inflate(void **state)
{
	char big[20000];
	uint8_t z[4096];
	struct guts_buf out;
	size_t n;

	(void)state;
	n = deflated("{\"subscribe\":[\"run:1\"]}", z, sizeof(z));
	guts_buf_init(&out, 0);
	assert_int_equal(ws_inflate_msg(z, n, 65536, &out), 0);
	assert_int_equal(out.len, strlen("{\"subscribe\":[\"run:1\"]}"));
	assert_memory_equal(out.data, "{\"subscribe\":[\"run:1\"]}", out.len);
	guts_buf_release(&out);

	/* A bomb: 20000 bytes from a few dozen, over a 1000-byte cap. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	n = deflated(big, z, sizeof(z));
	assert_true(n < 200);
	guts_buf_init(&out, 0);
	assert_int_equal(ws_inflate_msg(z, n, 1000, &out), 1);
	guts_buf_release(&out);

	guts_buf_init(&out, 0);
	assert_int_equal(
	    ws_inflate_msg((const uint8_t *)"\xff\xff\xff", 3, 1000, &out), -1);
	guts_buf_release(&out);
}

static void test_utf8(void **state)
{
	struct guts_buf out;

	(void)state;
	/* "é" is c3 a9: a chunk ending after c3 keeps it for the next. */
	assert_int_equal(ws_utf8_cut("ab\xc3", 3, 0), 2);
	assert_int_equal(ws_utf8_cut("ab\xc3\xa9", 4, 0), 4);
	assert_int_equal(ws_utf8_cut("ab\xe2\x82", 4, 0), 2);
	assert_int_equal(ws_utf8_cut("ab\xc3", 3, 1), 3);
	assert_int_equal(ws_utf8_cut("abc", 3, 0), 3);

	guts_buf_init(&out, 0);
	ws_utf8_clean("ok \xc3\xa9 \xff x\xc3", 10, &out);
	assert_int_equal(out.len,
			 strlen("ok \xc3\xa9 \xef\xbf\xbd x\xef\xbf\xbd"));
	assert_memory_equal(out.data, "ok \xc3\xa9 \xef\xbf\xbd x\xef\xbf\xbd",
			    out.len);
	guts_buf_release(&out);
	/* A surrogate (ed a0 80) and an overlong (e0 80 80) are not UTF-8. */
	guts_buf_init(&out, 0);
	ws_utf8_clean("\xed\xa0\x80", 3, &out);
	assert_int_equal(out.len, 9);
	guts_buf_release(&out);
	guts_buf_init(&out, 0);
	ws_utf8_clean("\xe0\x80\x80", 3, &out);
	assert_int_equal(out.len, 9);
	guts_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_topics),
	    cmocka_unit_test(test_deflate_offer),
	    cmocka_unit_test(test_inflate),
	    cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
