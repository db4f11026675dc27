/* Unit tests for splitting output into lines with a cap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "guts/buf.h"
#include "guts/lines.h"

/* Records lines as "text|" (complete) or "text~" (a piece). */
static int record(const char *line, size_t len, int complete, void *ud)
{
	struct guts_buf *b = ud;

	for (size_t i = 0; i < len; i++)
		guts_buf_addch(b, line[i] ? line[i] : '0');
	guts_buf_addch(b, complete ? '|' : '~');
	return 0;
}

static char *split(const char *text, size_t len, size_t max, size_t chunk)
{
	struct guts_lines l;
	struct guts_buf b;

	guts_lines_init(&l, max);
	guts_buf_init(&b, 0);
	for (size_t i = 0; i < len; i += chunk)
		guts_lines_feed(&l, text + i, len - i < chunk ? len - i : chunk,
				record, &b);
	guts_lines_flush(&l, record, &b);
	guts_lines_release(&l);
	return guts_buf_detach(&b, NULL);
}

static void test_lines__same_lines_whatever_the_reads(void **state)
{
	const char text[] = "one\ntwo\r\n\nthree\0four\nlast";
	const char *want = "one|two\r||three0four|last~";

	(void)state;
	for (size_t chunk = 1; chunk <= sizeof(text); chunk++) {
		char *s = split(text, sizeof(text) - 1, 100, chunk);

		if (strcmp(s, want))
			fail_msg("chunk %zu gave '%s'", chunk, s);
		free(s);
	}
}

static void test_lines__long_lines_come_in_pieces_of_the_maximum(void **state)
{
	(void)state;
	for (size_t chunk = 1; chunk <= 12; chunk++) {
		char *s = split("abcdefghij\nabcd\nxy", 18, 4, chunk);

		if (strcmp(s, "abcd~efgh~ij|abcd|xy~"))
			fail_msg("chunk %zu gave '%s'", chunk, s);
		free(s);
	}
}

static void test_lines__a_huge_line_needs_no_more_than_the_maximum(void **state)
{
	struct guts_lines l;
	struct guts_buf b;
	char *chunk = malloc(1 << 20);
	size_t pieces = 0;

	(void)state;
	memset(chunk, 'x', 1 << 20);
	guts_lines_init(&l, 64 * 1024);
	guts_buf_init(&b, 0);
	/* 100 MiB without a newline. */
	for (int i = 0; i < 100; i++) {
		guts_lines_feed(&l, chunk, 1 << 20, record, &b);
		assert_true(l.partial.alloc <= 2 * 64 * 1024 + 64);
		pieces += b.len ? 1 : 0;
		guts_buf_reset(&b);
	}
	guts_lines_flush(&l, record, &b);
	assert_true(pieces >= 99);
	guts_lines_release(&l);
	guts_buf_release(&b);
	free(chunk);
}

static int stop_at_two(const char *line, size_t len, int complete, void *ud)
{
	(void)line;
	(void)len;
	(void)complete;
	return ++*(int *)ud == 2 ? 7 : 0;
}

static void test_lines__the_callback_can_stop_the_feed(void **state)
{
	struct guts_lines l;
	int n = 0;

	(void)state;
	guts_lines_init(&l, 0);
	assert_int_equal(guts_lines_feed(&l, "a\nb\nc\n", 6, stop_at_two, &n),
			 7);
	assert_int_equal(n, 2);
	guts_lines_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines__same_lines_whatever_the_reads),
	    cmocka_unit_test(
		test_lines__long_lines_come_in_pieces_of_the_maximum),
	    cmocka_unit_test(
		test_lines__a_huge_line_needs_no_more_than_the_maximum),
	    cmocka_unit_test(test_lines__the_callback_can_stop_the_feed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
