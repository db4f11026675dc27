/* Unit tests for the runner's log lines and its stream bookkeeping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guts/buf.h"
#include "guts/error.h"
#include "guts/exec.h"
#include "runner.h"

#define TS 1795856400123456789LL /* 2026-11-28T09:00:00.123456789Z */
#define T "2026-11-28T09:00:00.123456Z "

static char *fmt(enum guts_log_kind kind, int step, const char *text,
		 const struct guts_annotation *ann)
{
	struct guts_log_event ev = {0};
	struct guts_buf b;

	ev.kind = kind;
	ev.step = step;
	ev.ts_ns = TS;
	ev.text = text;
	ev.len = strlen(text);
	ev.ann = ann;
	guts_buf_init(&b, 0);
	runner_format_event(&b, &ev);
	return guts_buf_detach(&b, NULL);
}

static void expect_fmt(enum guts_log_kind kind, int step, const char *text,
		       const struct guts_annotation *ann, const char *want)
{
	char *got = fmt(kind, step, text, ann);

	assert_string_equal(got, want);
	free(got);
}

/* ---- lines ------------------------------------------------------------- */

static void test_runner_log__timestamps_are_rfc3339_utc_micros(void **state)
{
	char ts[40];

	(void)state;
	runner_format_time(ts, sizeof(ts), TS);
	assert_string_equal(ts, "2026-11-28T09:00:00.123456Z");
	runner_format_time(ts, sizeof(ts), 0);
	assert_string_equal(ts, "1970-01-01T00:00:00.000000Z");
	runner_format_time(ts, sizeof(ts), 999);
	assert_string_equal(ts, "1970-01-01T00:00:00.000000Z");
	runner_format_time(ts, sizeof(ts), 1000000001000LL);
	assert_string_equal(ts, "1970-01-01T00:16:40.000001Z");
}

static void test_runner_log__markers(void **state)
{
	(void)state;
	expect_fmt(GUTS_LOG_OUTPUT, 1, "hello", NULL, T "hello\n");
	expect_fmt(GUTS_LOG_INFO, 1, "Run echo hello", NULL,
		   T "Run echo hello\n");
	expect_fmt(GUTS_LOG_GROUP, 1, "Build", NULL, T "##[group]Build\n");
	expect_fmt(GUTS_LOG_ENDGROUP, 1, "ignored", NULL, T "##[endgroup]\n");
	expect_fmt(GUTS_LOG_ERROR, 1, "boom", NULL, T "##[error]boom\n");
	expect_fmt(GUTS_LOG_WARNING, 1, "hmm", NULL, T "##[warning]hmm\n");
	expect_fmt(GUTS_LOG_NOTICE, 1, "fyi", NULL, T "##[notice]fyi\n");
	expect_fmt(GUTS_LOG_DEBUG, 1, "dbg", NULL, T "##[debug]dbg\n");
	expect_fmt(GUTS_LOG_STEP_START, 3, "Run tests", NULL,
		   T "##[step 3] Run tests\n");
	/* A step's end is a step update, not a line. */
	expect_fmt(GUTS_LOG_STEP_END, 3, "success", NULL, "");
	expect_fmt(GUTS_LOG_OUTPUT, 1, "", NULL, T "\n");
}

static void test_runner_log__annotations_name_file_line_col(void **state)
{
	struct guts_annotation full = {"src/a.c", "Careful", 3, 0, 5, 0};
	struct guts_annotation line_only = {"b.py", NULL, 7, 0, 0, 0};
	struct guts_annotation title_only = {NULL, "T", 0, 0, 0, 0};

	(void)state;
	expect_fmt(GUTS_LOG_WARNING, 1, "watch out", &full,
		   T "##[warning]src/a.c:3:5: Careful: watch out\n");
	expect_fmt(GUTS_LOG_ERROR, 1, "bad", &line_only,
		   T "##[error]b.py:7: bad\n");
	expect_fmt(GUTS_LOG_NOTICE, 1, "n", &title_only, T "##[notice]T: n\n");
}

static void test_runner_log__line_feeds_make_lines(void **state)
{
	struct guts_annotation a = {"f", NULL, 1, 0, 0, 0};

	(void)state;
	expect_fmt(GUTS_LOG_OUTPUT, 1, "a\nb\n", NULL, T "a\n" T "b\n");
	expect_fmt(GUTS_LOG_ERROR, 1, "one\ntwo", &a,
		   T "##[error]f:1: one\n" T "##[error]two\n");
	expect_fmt(GUTS_LOG_OUTPUT, 1, "a\n\nb", NULL, T "a\n" T "\n" T "b\n");
	/* A title stays one line. */
	expect_fmt(GUTS_LOG_GROUP, 1, "x\ny", NULL, T "##[group]x y\n");
	expect_fmt(GUTS_LOG_OUTPUT, 1, "cr\r", NULL, T "cr\r\n");
}

static void test_runner_log__long_lines_go_on_without_loss(void **state)
{
	size_t n = 150 * 1024, total = 0, lines = 0;
	char *text = malloc(n + 1);
	struct guts_log_event ev = {0};
	struct guts_buf b;
	const char *p;

	(void)state;
	/* "é" (2 bytes) throughout, so a cut could split a character. */
	for (size_t i = 0; i < n; i += 2)
		memcpy(text + i, "\xc3\xa9", 2);
	text[n] = '\0';
	/* The marker makes the room for text odd: cuts must back off. */
	ev.kind = GUTS_LOG_ERROR;
	ev.ts_ns = TS;
	ev.text = text;
	ev.len = n;
	guts_buf_init(&b, 0);
	runner_format_event(&b, &ev);
	for (p = b.data; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = (size_t)(nl - p);

		assert_non_null(nl);
		assert_true(len <= RUNNER_LOG_LINE_MAX);
		assert_memory_equal(p, T "##[error]", strlen(T "##[error]"));
		/* Every line holds whole characters. */
		assert_int_equal((len - strlen(T "##[error]")) % 2, 0);
		assert_int_equal((unsigned char)p[strlen(T "##[error]")], 0xc3);
		total += len - strlen(T "##[error]");
		lines++;
		p = nl + 1;
	}
	assert_int_equal(total, n);
	assert_int_equal(lines, 3);
	guts_buf_release(&b);
	free(text);
}

/* ---- the stream -------------------------------------------------------- */

static struct runner_update *update(int step)
{
	struct runner_update *u = calloc(1, sizeof(*u));

	u->step = step;
	u->body = json_pack("{s:s}", "status", "in_progress");
	return u;
}

static void take(struct runner_log *l, struct runner_log_work *w,
		 uint64_t offset, const char *data)
{
	runner_log_next_work(l, w, 0);
	assert_int_equal(w->what, RUNNER_LOG_CHUNK);
	assert_int_equal(w->offset, offset);
	assert_int_equal(w->len, strlen(data));
	assert_memory_equal(w->data, data, w->len);
	free(w->data);
}

static void test_runner_log__ack_drops_bytes(void **state)
{
	struct runner_log l;
	struct runner_log_work w;
	uint64_t start;

	(void)state;
	runner_log_init(&l, 0);
	assert_int_equal(runner_log_append(&l, "hello\n", 6, NULL, &start), 0);
	assert_int_equal(start, 0);
	assert_int_equal(runner_log_append(&l, "world\n", 6, NULL, &start), 0);
	assert_int_equal(start, 6);
	/* Closed: due at once, no batching delay. */
	runner_log_close(&l);
	take(&l, &w, 0, "hello\nworld\n");
	assert_int_equal(runner_log_unacked(&l), 12);
	/* The node took part of it: the rest is sent again from there. */
	assert_int_equal(runner_log_ack(&l, 6), 0);
	assert_int_equal(runner_log_unacked(&l), 6);
	take(&l, &w, 6, "world\n");
	assert_int_equal(runner_log_ack(&l, 12), 0);
	assert_int_equal(runner_log_unacked(&l), 0);
	runner_log_next_work(&l, &w, 1);
	assert_int_equal(w.what, RUNNER_LOG_DONE);
	assert_int_equal(runner_log_end(&l), 12);
	/* Appends after the end are refused. */
	assert_int_equal(runner_log_append(&l, "x", 1, update(1), NULL),
			 GUTS_ECONFLICT);
	runner_log_release(&l);
}

static void test_runner_log__gap_resends_from_the_nodes_offset(void **state)
{
	struct runner_log l;
	struct runner_log_work w;

	(void)state;
	runner_log_init(&l, 0);
	runner_log_append(&l, "aaaa", 4, NULL, NULL);
	runner_log_append(&l, "bbbb", 4, NULL, NULL);
	runner_log_close(&l);
	take(&l, &w, 0, "aaaabbbb");
	/* 409 offset_gap {"offset": 4}: it has 4; resend from there. */
	assert_int_equal(runner_log_ack(&l, 4), 0);
	take(&l, &w, 4, "bbbb");
	/* A transport failure: the same bytes again. */
	runner_log_rewind(&l);
	take(&l, &w, 4, "bbbb");
	/* Offsets before what was dropped or past the end are refused. */
	assert_int_equal(runner_log_ack(&l, 2), GUTS_ECONFLICT);
	assert_int_equal(runner_log_ack(&l, 9), GUTS_EINVAL);
	assert_int_equal(runner_log_unacked(&l), 4);
	assert_int_equal(runner_log_ack(&l, 8), 0);
	runner_log_next_work(&l, &w, 1);
	assert_int_equal(w.what, RUNNER_LOG_DONE);
	runner_log_release(&l);
}

static void test_runner_log__batches_wait_for_size_or_delay(void **state)
{
	struct runner_log l;
	struct runner_log_work w;
	struct timespec t0, t1;
	char *big = calloc(1, RUNNER_LOG_BATCH);
	double waited;

	(void)state;
	runner_log_init(&l, 0);
	runner_log_append(&l, "x\n", 2, NULL, NULL);
	/* Not due yet... */
	runner_log_next_work(&l, &w, 0);
	assert_int_equal(w.what, RUNNER_LOG_DONE);
	/* ...but RUNNER_LOG_DELAY_MS after the first unsent byte. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	runner_log_next_work(&l, &w, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(w.what, RUNNER_LOG_CHUNK);
	assert_int_equal(w.len, 2);
	free(w.data);
	waited = (double)(t1.tv_sec - t0.tv_sec) +
		 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(waited >= 0.05 && waited < 2);
	runner_log_ack(&l, 2);
	/* A full batch is due at once. */
	runner_log_append(&l, big, RUNNER_LOG_BATCH, NULL, NULL);
	runner_log_next_work(&l, &w, 0);
	assert_int_equal(w.what, RUNNER_LOG_CHUNK);
	assert_int_equal(w.offset, 2);
	assert_int_equal(w.len, RUNNER_LOG_BATCH);
	free(w.data);
	runner_log_release(&l);
	free(big);
}

static void test_runner_log__chunks_are_capped(void **state)
{
	struct runner_log l;
	struct runner_log_work w;
	size_t n = RUNNER_LOG_CHUNK_MAX + 100;
	char *big = calloc(1, n);

	(void)state;
	runner_log_init(&l, 0);
	runner_log_append(&l, big, n, NULL, NULL);
	runner_log_next_work(&l, &w, 0);
	assert_int_equal(w.what, RUNNER_LOG_CHUNK);
	assert_int_equal(w.len, RUNNER_LOG_CHUNK_MAX);
	free(w.data);
	runner_log_ack(&l, RUNNER_LOG_CHUNK_MAX);
	/* The rest follows, within the batching delay. */
	runner_log_next_work(&l, &w, 1);
	assert_int_equal(w.what, RUNNER_LOG_CHUNK);
	assert_int_equal(w.offset, RUNNER_LOG_CHUNK_MAX);
	assert_int_equal(w.len, 100);
	free(w.data);
	runner_log_release(&l);
	free(big);
}

static void test_runner_log__updates_come_in_stream_order(void **state)
{
	struct runner_log l;
	struct runner_log_work w;
	struct runner_update *u = update(2);
	uint64_t start;

	(void)state;
	runner_log_init(&l, 0);
	runner_log_append(&l, "before\n", 7, update(1), &start);
	assert_int_equal(start, 0);
	json_object_set_new(u->body, "log_offset", json_integer(3));
	runner_log_append(&l, "step\n", 5, u, &start);
	assert_int_equal(start, 7);
	runner_log_append(&l, NULL, 0, update(3), &start);
	assert_int_equal(start, 12);

	runner_log_next_work(&l, &w, 0);
	assert_int_equal(w.what, RUNNER_LOG_UPDATE);
	assert_int_equal(w.update->step, 1);
	assert_int_equal(
	    json_integer_value(json_object_get(w.update->body, "log_offset")),
	    0);
	json_decref(w.update->body);
	free(w.update);
	runner_log_next_work(&l, &w, 0);
	assert_int_equal(w.update->step, 2);
	/* An update that says where its step began keeps that. */
	assert_int_equal(
	    json_integer_value(json_object_get(w.update->body, "log_offset")),
	    3);
	json_decref(w.update->body);
	free(w.update);
	runner_log_next_work(&l, &w, 0);
	assert_int_equal(w.update->step, 3);
	assert_int_equal(
	    json_integer_value(json_object_get(w.update->body, "log_offset")),
	    12);
	json_decref(w.update->body);
	free(w.update);
	/* The updates left in a released log are freed with it. */
	runner_log_append(&l, NULL, 0, update(4), NULL);
	runner_log_release(&l);
}

struct appender {
	struct runner_log *l;
	int rc;
	volatile int done;
};

static void *append_one(void *arg)
{
	struct appender *a = arg;

	a->rc = runner_log_append(a->l, "more\n", 5, NULL, NULL);
	a->done = 1;
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&t, NULL);
}

static void test_runner_log__memory_bound_blocks_never_drops(void **state)
{
	struct runner_log l;
	struct runner_log_work w;
	struct appender a = {&l, -1, 0};
	pthread_t t;
	char chunk[100];

	(void)state;
	memset(chunk, 'z', sizeof(chunk));
	runner_log_init(&l, 150);
	runner_log_append(&l, chunk, 100, NULL, NULL);
	runner_log_append(&l, chunk, 100, NULL, NULL); /* 200 > 150 now */
	assert_int_equal(pthread_create(&t, NULL, append_one, &a), 0);
	sleep_ms(100);
	assert_false(a.done); /* waiting for acknowledgements */
	runner_log_next_work(&l, &w, 0);
	free(w.data);
	/* Acknowledging too little does not free enough room. */
	runner_log_ack(&l, 20);
	sleep_ms(50);
	assert_false(a.done);
	runner_log_ack(&l, 100);
	pthread_join(t, NULL);
	assert_true(a.done);
	assert_int_equal(a.rc, 0);
	assert_int_equal(runner_log_end(&l), 205);
	assert_int_equal(runner_log_unacked(&l), 105);
	runner_log_release(&l);
}

static void test_runner_log__stop_releases_a_blocked_appender(void **state)
{
	struct runner_log l;
	struct runner_log_work w;
	struct appender a = {&l, -1, 0};
	pthread_t t;

	(void)state;
	runner_log_init(&l, 4);
	runner_log_append(&l, "12345", 5, NULL, NULL);
	assert_int_equal(pthread_create(&t, NULL, append_one, &a), 0);
	sleep_ms(50);
	assert_false(a.done);
	runner_log_stop(&l); /* a stale lease: nothing more is sent */
	pthread_join(t, NULL);
	assert_int_equal(a.rc, GUTS_ECONFLICT);
	assert_true(runner_log_is_stopped(&l));
	runner_log_next_work(&l, &w, 1);
	assert_int_equal(w.what, RUNNER_LOG_DONE);
	assert_int_equal(runner_log_sleep(&l, 1000), 1);
	runner_log_release(&l);
}

static void test_runner_log__a_refused_log_still_counts(void **state)
{
	struct runner_log l;
	struct runner_log_work w;
	uint64_t start;

	(void)state;
	runner_log_init(&l, 4);
	runner_log_append(&l, "12345", 5, NULL, NULL);
	/* 413 from the node: bytes go, offsets and updates stay. */
	runner_log_refuse(&l);
	assert_int_equal(runner_log_unacked(&l), 0);
	assert_int_equal(runner_log_append(&l, "678", 3, NULL, &start), 0);
	assert_int_equal(start, 5);
	assert_int_equal(runner_log_append(&l, "9", 1, update(1), &start), 0);
	assert_int_equal(start, 8);
	assert_int_equal(runner_log_end(&l), 9);
	assert_int_equal(runner_log_ack(&l, 9), GUTS_ECONFLICT);
	runner_log_next_work(&l, &w, 0);
	assert_int_equal(w.what, RUNNER_LOG_UPDATE);
	assert_int_equal(
	    json_integer_value(json_object_get(w.update->body, "log_offset")),
	    8);
	json_decref(w.update->body);
	free(w.update);
	runner_log_close(&l);
	runner_log_next_work(&l, &w, 1);
	assert_int_equal(w.what, RUNNER_LOG_DONE);
	runner_log_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_runner_log__timestamps_are_rfc3339_utc_micros),
	    cmocka_unit_test(test_runner_log__markers),
	    cmocka_unit_test(test_runner_log__annotations_name_file_line_col),
	    cmocka_unit_test(test_runner_log__line_feeds_make_lines),
	    cmocka_unit_test(test_runner_log__long_lines_go_on_without_loss),
	    cmocka_unit_test(test_runner_log__ack_drops_bytes),
	    cmocka_unit_test(
		test_runner_log__gap_resends_from_the_nodes_offset),
	    cmocka_unit_test(test_runner_log__batches_wait_for_size_or_delay),
	    cmocka_unit_test(test_runner_log__chunks_are_capped),
	    cmocka_unit_test(test_runner_log__updates_come_in_stream_order),
	    cmocka_unit_test(test_runner_log__memory_bound_blocks_never_drops),
	    cmocka_unit_test(test_runner_log__stop_releases_a_blocked_appender),
	    cmocka_unit_test(test_runner_log__a_refused_log_still_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
