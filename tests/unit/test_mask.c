/* Unit tests for secret masking: exact and base64 forms, streaming splits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "guts/buf.h"
#include "guts/error.h"
#include "guts/mask.h"

static char *mask_once(struct guts_mask *m, const char *s)
{
	return guts_mask_string(m, s, strlen(s), NULL);
}

static void to_buf(const char *data, size_t len, void *ud)
{
	guts_buf_add(ud, data, len);
}

/* Feed @s in pieces cut at @cuts (ascending offsets) and return the output. */
static char *mask_split(struct guts_mask *m, const char *s, const size_t *cuts,
			size_t nr)
{
	struct guts_buf out;
	size_t prev = 0, len = strlen(s);

	guts_buf_init(&out, 0);
	for (size_t i = 0; i <= nr; i++) {
		size_t at = i < nr ? cuts[i] : len;

		guts_mask_write(m, s + prev, at - prev, to_buf, &out);
		prev = at;
	}
	guts_mask_flush(m, to_buf, &out);
	return guts_buf_detach(&out, NULL);
}

static void test_mask__replaces_exact_values(void **state)
{
	struct guts_mask *m = guts_mask_new();
	char *s;

	(void)state;
	assert_int_equal(guts_mask_add(m, "s3cr3t-value", 12), 0);
	s = mask_once(m, "token=s3cr3t-value; again s3cr3t-value.");
	assert_string_equal(s, "token=***; again ***.");
	free(s);
	s = mask_once(m, "nothing secret here");
	assert_string_equal(s, "nothing secret here");
	free(s);
	guts_mask_free(m);
}

static void
test_mask__hides_values_split_across_every_chunk_boundary(void **state)
{
	const char *text = "a s3cr3t-value b p4ss c s3cr3t-values3cr3t-value";
	const char *want = "a *** b *** c ******";
	struct guts_mask *m = guts_mask_new();
	size_t len = strlen(text);
	char *s;

	(void)state;
	guts_mask_add(m, "s3cr3t-value", 12);
	guts_mask_add(m, "p4ss", 4);
	for (size_t a = 0; a <= len; a++) {
		for (size_t b = a; b <= len; b += 3) {
			size_t cuts[2] = {a, b};

			s = mask_split(m, text, cuts, 2);
			if (strcmp(s, want))
				fail_msg("cuts at %zu,%zu gave '%s'", a, b, s);
			free(s);
		}
	}
	/* One byte at a time. */
	{
		size_t *cuts = malloc(len * sizeof(*cuts));

		for (size_t i = 0; i < len; i++)
			cuts[i] = i;
		s = mask_split(m, text, cuts, len);
		assert_string_equal(s, want);
		free(s);
		free(cuts);
	}
	guts_mask_free(m);
}

static void test_mask__hides_base64_forms_at_every_alignment(void **state)
{
	struct guts_mask *m = guts_mask_new();
	char *s;

	(void)state;
	guts_mask_add(m, "hunter2-secret", 14);
	/* base64("hunter2-secret") */
	s = mask_once(m, "auth aHVudGVyMi1zZWNyZXQ= ok");
	assert_string_equal(s, "auth *** ok");
	free(s);
	/* base64("x:hunter2-secret") and base64("ab:hunter2-secret..."). */
	s = mask_once(m, "Basic eDpodW50ZXIyLXNlY3JldA==");
	assert_null(strstr(s, "odW50ZXIyLXNlY3Jld"));
	free(s);
	s = mask_once(m, "Basic YWI6aHVudGVyMi1zZWNyZXQuLi4=");
	assert_null(strstr(s, "aHVudGVyMi1zZWNyZXQ"));
	free(s);
	guts_mask_free(m);
}

static void test_mask__longest_value_wins(void **state)
{
	struct guts_mask *m = guts_mask_new();
	char *s;

	(void)state;
	guts_mask_add(m, "abc", 3);
	guts_mask_add(m, "abcdef", 6);
	s = mask_once(m, "xabcdefx abcx");
	assert_string_equal(s, "x***x ***x");
	free(s);
	guts_mask_free(m);
}

static void test_mask__multi_line_values_are_hidden_line_by_line(void **state)
{
	struct guts_mask *m = guts_mask_new();
	char *s;

	(void)state;
	guts_mask_add(m, "line-one\r\nline-two\n", 19);
	s = mask_once(m, "got line-two and line-one");
	assert_string_equal(s, "got *** and ***");
	free(s);
	guts_mask_free(m);
}

static void test_mask__ignores_blank_values_and_refuses_huge_ones(void **state)
{
	struct guts_mask *m = guts_mask_new();
	char *big = calloc(1, GUTS_MASK_MAX_VALUE + 2);
	char *s;

	(void)state;
	assert_int_equal(guts_mask_add(m, "", 0), 0);
	assert_int_equal(guts_mask_add(m, " \t\n", 3), 0);
	assert_int_equal(guts_mask_count(m), 0);
	memset(big, 'x', GUTS_MASK_MAX_VALUE + 1);
	assert_int_equal(guts_mask_add(m, big, GUTS_MASK_MAX_VALUE + 1),
			 GUTS_ETOOBIG);
	s = mask_once(m, "a b c");
	assert_string_equal(s, "a b c");
	free(s);
	free(big);
	guts_mask_free(m);
}

static void test_mask__passes_nul_bytes_through(void **state)
{
	struct guts_mask *m = guts_mask_new();
	const char in[] = "a\0b s3cr3t \0c";
	size_t len;
	char *s;

	(void)state;
	guts_mask_add(m, "s3cr3t", 6);
	s = guts_mask_string(m, in, sizeof(in) - 1, &len);
	assert_int_equal(len, 10);
	assert_memory_equal(s, "a\0b *** \0c", 10);
	free(s);
	guts_mask_free(m);
}

static void test_mask__a_prefix_at_the_end_is_emitted_on_flush(void **state)
{
	struct guts_mask *m = guts_mask_new();
	struct guts_buf out;

	(void)state;
	guts_mask_add(m, "s3cr3t", 6);
	guts_buf_init(&out, 0);
	guts_mask_write(m, "value s3c", 9, to_buf, &out);
	/* "s3c" may still become the secret: held back. */
	assert_string_equal(out.data, "value ");
	guts_mask_flush(m, to_buf, &out);
	assert_string_equal(out.data, "value s3c");
	guts_buf_release(&out);
	guts_mask_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mask__replaces_exact_values),
	    cmocka_unit_test(
		test_mask__hides_values_split_across_every_chunk_boundary),
	    cmocka_unit_test(test_mask__hides_base64_forms_at_every_alignment),
	    cmocka_unit_test(test_mask__longest_value_wins),
	    cmocka_unit_test(
		test_mask__multi_line_values_are_hidden_line_by_line),
	    cmocka_unit_test(
		test_mask__ignores_blank_values_and_refuses_huge_ones),
	    cmocka_unit_test(test_mask__passes_nul_bytes_through),
	    cmocka_unit_test(
		test_mask__a_prefix_at_the_end_is_emitted_on_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
