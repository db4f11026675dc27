/* Unit tests for the CLI's pure API helpers (lib/net/apiutil.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/apiutil.h"
#include "guts/buf.h"
#include "guts/error.h"

static void check_remote(const char *url, const char *want)
{
	char *got = guts_api_repo_from_remote(url);

	if (!want) {
		if (got)
			fail_msg("%s: want NULL, got %s", url, got);
	} else {
		if (!got)
			fail_msg("%s: want %s, got NULL", url, want);
		assert_string_equal(got, want);
	}
	free(got);
}

static void test_remote__takes_the_last_two_segments(void **state)
{
	(void)state;
	check_remote("https://git.example.com/alice/app.git", "alice/app");
	check_remote("https://git.example.com/alice/app", "alice/app");
	check_remote("https://git.example.com/alice/app/", "alice/app");
	check_remote("http://127.0.0.1:8080/alice/app.git", "alice/app");
	check_remote("https://user:pw@host/x/alice/app.git", "alice/app");
	check_remote("git@github.com:alice/app.git", "alice/app");
	check_remote("host:alice/app", "alice/app");
	check_remote("ssh://git@host:2222/alice/my-app.git", "alice/my-app");
	check_remote("/srv/git/alice/app.git", "alice/app");
	check_remote("file:///srv/git/alice/app.git/", "alice/app");
	check_remote("../alice/app", "alice/app");
}

static void test_remote__refuses_what_is_not_owner_and_name(void **state)
{
	(void)state;
	check_remote("https://git.example.com/app.git", NULL);
	check_remote("git@github.com:app.git", NULL);
	check_remote("https://host", NULL);
	check_remote("app", NULL);
	check_remote("", NULL);
	check_remote("https://host/alice/-app", NULL);
	check_remote("https://host/al ice/app", NULL);
	check_remote("https://host/alice/a..b", NULL);
}

static void test_names__follow_the_api_rules(void **state)
{
	char *o = NULL, *n = NULL;

	(void)state;
	assert_true(guts_api_valid_name("app"));
	assert_true(guts_api_valid_name("A.b_c-9"));
	assert_false(guts_api_valid_name(""));
	assert_false(guts_api_valid_name(".hidden"));
	assert_false(guts_api_valid_name("a..b"));
	assert_false(guts_api_valid_name("app.git"));
	assert_false(guts_api_valid_name("a/b"));
	assert_int_equal(guts_api_split_repo("alice/app", &o, &n), 0);
	assert_string_equal(o, "alice");
	assert_string_equal(n, "app");
	free(o);
	free(n);
	assert_int_equal(guts_api_split_repo("alice", &o, &n), GUTS_EINVAL);
	assert_int_equal(guts_api_split_repo("/app", &o, &n), GUTS_EINVAL);
	assert_int_equal(guts_api_split_repo("a/b/c", &o, &n), GUTS_EINVAL);
	assert_int_equal(guts_api_split_repo("alice/", &o, &n), GUTS_EINVAL);
}

static void test_time__parses_rfc3339(void **state)
{
	time_t t = 0;

	(void)state;
	assert_int_equal(guts_api_parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal((long long)t, 0);
	assert_int_equal(guts_api_parse_time("2026-11-28T09:00:00Z", &t), 0);
	assert_int_equal((long long)t, 1795856400LL);
	assert_int_equal(guts_api_parse_time("2026-11-28T09:00:00.123456Z", &t),
			 0);
	assert_int_equal((long long)t, 1795856400LL);
	assert_int_equal(guts_api_parse_time("2026-11-28T10:30:00+01:30", &t),
			 0);
	assert_int_equal((long long)t, 1795856400LL);
	assert_int_equal(guts_api_parse_time("2026-11-28t07:00:00-02:00", &t),
			 0);
	assert_int_equal((long long)t, 1795856400LL);
	assert_int_equal(guts_api_parse_time("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal((long long)t, 1709164800LL);
}

static void test_time__refuses_other_text(void **state)
{
	static const char *const bad[] = {
	    "",
	    "2026-11-28",
	    "2026-11-28T09:00:00",
	    "2026-11-28T09:00Z",
	    "2026-13-01T00:00:00Z",
	    "2026-11-31T00:00:00Z",
	    "2026-11-28T24:00:00Z",
	    "2026-11-28T09:00:00.Z",
	    "2026-11-28T09:00:00Zjunk",
	    "2026-11-28T09:00:00+0100",
	};
	time_t t = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (guts_api_parse_time(bad[i], &t) != GUTS_EINVAL)
			fail_msg("'%s' parsed", bad[i]);
	}
	assert_int_equal(guts_api_parse_time(NULL, &t), GUTS_EINVAL);
	assert_int_equal((long long)t, 42);
}

static void test_ago__is_relative_then_a_date(void **state)
{
	char b[32];
	time_t now = 1795856400; /* 2026-11-28T09:00:00Z */

	(void)state;
	guts_api_format_ago(b, sizeof(b), now, now);
	assert_string_equal(b, "0s ago");
	guts_api_format_ago(b, sizeof(b), now, now + 5);
	assert_string_equal(b, "0s ago");
	guts_api_format_ago(b, sizeof(b), now, now - 3);
	assert_string_equal(b, "3s ago");
	guts_api_format_ago(b, sizeof(b), now, now - 59);
	assert_string_equal(b, "59s ago");
	guts_api_format_ago(b, sizeof(b), now, now - 60);
	assert_string_equal(b, "1m ago");
	guts_api_format_ago(b, sizeof(b), now, now - 5 * 60 - 59);
	assert_string_equal(b, "5m ago");
	guts_api_format_ago(b, sizeof(b), now, now - 3600);
	assert_string_equal(b, "1h ago");
	guts_api_format_ago(b, sizeof(b), now, now - 86399);
	assert_string_equal(b, "23h ago");
	guts_api_format_ago(b, sizeof(b), now, now - 4 * 86400);
	assert_string_equal(b, "4d ago");
	guts_api_format_ago(b, sizeof(b), now, now - 40 * 86400);
	assert_string_equal(b, "2026-10-19");
}

static void test_duration__formats(void **state)
{
	char b[32];

	(void)state;
	guts_api_format_duration(b, sizeof(b), -4);
	assert_string_equal(b, "0s");
	guts_api_format_duration(b, sizeof(b), 45);
	assert_string_equal(b, "45s");
	guts_api_format_duration(b, sizeof(b), 63);
	assert_string_equal(b, "1m 3s");
	guts_api_format_duration(b, sizeof(b), 2 * 3600 + 5 * 60 + 9);
	assert_string_equal(b, "2h 5m");
}

static void check_next(const char *link, const char *want)
{
	char *got = guts_api_link_next(link);

	if (!want) {
		if (got)
			fail_msg("%s: want NULL, got %s", link, got);
	} else {
		if (!got)
			fail_msg("%s: want %s, got NULL", link, want);
		assert_string_equal(got, want);
	}
	free(got);
}

static void test_link__finds_rel_next(void **state)
{
	(void)state;
	check_next("</api/repos?page=2>; rel=\"next\"", "/api/repos?page=2");
	check_next("<http://h/api/runs?page=1&per_page=30>; rel=\"first\", "
		   "<http://h/api/runs?page=3&per_page=30>; rel=\"next\", "
		   "<http://h/api/runs?page=1&per_page=30>; rel=\"prev\"",
		   "http://h/api/runs?page=3&per_page=30");
	check_next("<a>;rel=next", "a");
	check_next("<a>; title=\"x, y\"; rel=\"prev next\"", "a");
	check_next("<a>; REL=\"Next\"", "a");
	check_next("<a>; rel=\"prev\", <b>; rel=\"first\"", NULL);
	check_next("<a>; rel=\"nextish\"", NULL);
	check_next("", NULL);
	check_next("garbage; rel=\"next\"", NULL);
	check_next("<unterminated; rel=\"next\"", NULL);
}

static void check_path(const char *target, const char *base, const char *cur,
		       const char *want)
{
	char *got = guts_api_link_path(target, base, cur);

	if (!want) {
		if (got)
			fail_msg("%s: want NULL, got %s", target, got);
	} else {
		if (!got)
			fail_msg("%s: want %s, got NULL", target, want);
		assert_string_equal(got, want);
	}
	free(got);
}

static void test_link__becomes_a_path_on_the_base(void **state)
{
	(void)state;
	check_path("/api/runs?page=2", "http://h:8080", NULL,
		   "/api/runs?page=2");
	check_path("http://h:8080/api/runs?page=2", "http://h:8080/", NULL,
		   "/api/runs?page=2");
	check_path("https://proxy/guts/api/runs?page=2", "https://proxy/guts",
		   NULL, "/api/runs?page=2");
	check_path("http://elsewhere/api/runs?page=2", "http://h:8080", NULL,
		   "/api/runs?page=2");
	check_path("?page=3", "http://h", "/api/runs?page=2&per_page=30",
		   "/api/runs?page=3");
	check_path("//evil/x", "http://h", NULL, NULL);
	check_path("ftp://h/x", "http://h", NULL, NULL);
	check_path("page=2", "http://h", "/api/runs", NULL);
}

static void test_printable__blanks_control_characters(void **state)
{
	char *s;

	(void)state;
	s = guts_api_printable("a\tb\nc\x1b[31md\x7f");
	assert_string_equal(s, "a b c [31md ");
	free(s);
	s = guts_api_printable("x\xc2\x9b"
			       "1m \xc3\xa9");
	assert_string_equal(s, "x  1m \xc3\xa9");
	free(s);
	s = guts_api_printable(NULL);
	assert_string_equal(s, "");
	free(s);
}

static void test_table__aligns_columns(void **state)
{
	struct guts_table t;
	struct guts_buf out;

	(void)state;
	guts_table_init(&t, 3);
	guts_table_add(&t, "ID");
	guts_table_add(&t, "STATUS");
	guts_table_add(&t, "NAME");
	guts_table_addf(&t, "%d", 1042);
	guts_table_add(&t, NULL);
	guts_table_add(&t, "b\xc3\xa9ta\nx");
	guts_table_add(&t, "7");
	guts_table_add(&t, "\xc3\xa9t\xc3\xa9");
	guts_table_add(&t, "");
	guts_buf_init(&out, 0);
	guts_table_render(&t, &out, "  ");
	assert_string_equal(out.data, "  ID    STATUS  NAME\n"
				      "  1042  -       b\xc3\xa9ta x\n"
				      "  7     \xc3\xa9t\xc3\xa9     -\n");
	guts_buf_release(&out);
	guts_table_release(&t);
}

static void filtered(const char *in, size_t split, const char *want)
{
	struct guts_term_filter f = {0};
	struct guts_buf out;
	size_t len = strlen(in);

	guts_buf_init(&out, 0);
	guts_term_filter(&f, in, split < len ? split : len, &out);
	if (split < len)
		guts_term_filter(&f, in + split, len - split, &out);
	assert_string_equal(out.data, want);
	guts_buf_release(&out);
}

static void test_term_filter__keeps_colours_drops_other_escapes(void **state)
{
	(void)state;
	filtered("\033[1;31mred\033[0m\n", 100, "\033[1;31mred\033[0m\n");
	/* split inside the sequence: the state carries over */
	filtered("\033[1;31mred\033[0m\n", 3, "\033[1;31mred\033[0m\n");
	/* a window title (OSC), a cursor move, a bell, a carriage return */
	filtered("a\033]0;pwned\007b\033[2Jc\rd\x7f\n", 100, "a0;pwnedbcd\n");
	filtered("tab\there\n", 4, "tab\there\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_remote__takes_the_last_two_segments),
	    cmocka_unit_test(test_remote__refuses_what_is_not_owner_and_name),
	    cmocka_unit_test(test_names__follow_the_api_rules),
	    cmocka_unit_test(test_time__parses_rfc3339),
	    cmocka_unit_test(test_time__refuses_other_text),
	    cmocka_unit_test(test_ago__is_relative_then_a_date),
	    cmocka_unit_test(test_duration__formats),
	    cmocka_unit_test(test_link__finds_rel_next),
	    cmocka_unit_test(test_link__becomes_a_path_on_the_base),
	    cmocka_unit_test(test_printable__blanks_control_characters),
	    cmocka_unit_test(test_table__aligns_columns),
	    cmocka_unit_test(
		test_term_filter__keeps_colours_drops_other_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
