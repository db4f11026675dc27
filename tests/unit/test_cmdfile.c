/* Unit tests for environment files and workflow commands. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "guts/buf.h"
#include "guts/cmdfile.h"
#include "guts/error.h"

/* Collects entries as "name=value|" with newlines shown as \n. */
static int collect(const char *name, const char *value, size_t len, void *ud)
{
	struct guts_buf *b = ud;

	guts_buf_adds(b, name);
	guts_buf_addch(b, '=');
	for (size_t i = 0; i < len; i++) {
		if (value[i] == '\n')
			guts_buf_adds(b, "\\n");
		else
			guts_buf_addch(b, value[i]);
	}
	guts_buf_addch(b, '|');
	return 0;
}

static int parse(const char *text, struct guts_buf *b)
{
	guts_buf_init(b, 0);
	return guts_envfile_parse(text, strlen(text), collect, b);
}

static void test_envfile__reads_plain_and_heredoc_entries(void **state)
{
	struct guts_buf b;

	(void)state;
	assert_int_equal(parse("a=1\n"
			       "\n"
			       "b=x=y\r\n"
			       "json<<EOF\n"
			       "{\n"
			       "  \"k\": 1\n"
			       "}\n"
			       "EOF\n"
			       "empty=\n"
			       "c<<ghadelim_123\n"
			       "a=b\n"
			       "ghadelim_123\n"
			       "last=no newline",
			       &b),
			 0);
	assert_string_equal(b.data, "a=1|b=x=y|json={\\n  \"k\": 1\\n}|empty=|"
				    "c=a=b|last=no newline|");
	guts_buf_release(&b);
}

static void
test_envfile__a_heredoc_without_its_delimiter_names_the_line(void **state)
{
	struct guts_buf b;

	(void)state;
	assert_int_equal(parse("a=1\nx<<END\nline\nEN\n", &b), GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "line 2"));
	assert_non_null(strstr(guts_error_message(), "'END'"));
	/* Entries before the bad one were delivered. */
	assert_string_equal(b.data, "a=1|");
	guts_buf_release(&b);
}

static void test_envfile__refuses_lines_that_are_not_entries(void **state)
{
	struct guts_buf b;

	(void)state;
	assert_int_equal(parse("ok=1\njust text\n", &b), GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "line 2"));
	guts_buf_release(&b);
	assert_int_equal(parse("=value\n", &b), GUTS_EINVAL);
	guts_buf_release(&b);
	assert_int_equal(parse("<<EOF\nx\nEOF\n", &b), GUTS_EINVAL);
	guts_buf_release(&b);
	guts_buf_init(&b, 0);
	assert_int_equal(guts_envfile_parse("a\0b=1\n", 6, collect, &b),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "NUL"));
	guts_buf_release(&b);
}

static void test_wfcmd__parses_name_properties_and_message(void **state)
{
	struct guts_wfcmd c;
	const char *l = "::error file=src/a.c,line=12,col=3,title=Bad%3A "
			"thing%2C really::it broke%0Ahere 100%25";

	(void)state;
	assert_int_equal(guts_wfcmd_parse(&c, l, strlen(l)), 1);
	assert_string_equal(c.name, "error");
	assert_int_equal(c.nr_props, 4);
	assert_string_equal(guts_wfcmd_prop(&c, "file"), "src/a.c");
	assert_string_equal(guts_wfcmd_prop(&c, "line"), "12");
	assert_string_equal(guts_wfcmd_prop(&c, "title"), "Bad: thing, really");
	assert_string_equal(c.message, "it broke\nhere 100%");
	assert_int_equal(c.message_len, strlen("it broke\nhere 100%"));
	guts_wfcmd_release(&c);
}

static void test_wfcmd__recognises_the_common_commands(void **state)
{
	static const char *const lines[][2] = {
	    {"::group::Build", "group"},
	    {"::endgroup::", "endgroup"},
	    {"::add-mask::hunter2", "add-mask"},
	    {"::set-output name=x::1", "set-output"},
	    {"  ::debug::indented", "debug"},
	    {"::stop-commands::tok-123", "stop-commands"},
	    {"::tok-123::", "tok-123"},
	};
	struct guts_wfcmd c;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(
		    guts_wfcmd_parse(&c, lines[i][0], strlen(lines[i][0])), 1);
		assert_string_equal(c.name, lines[i][1]);
		guts_wfcmd_release(&c);
	}
}

static void test_wfcmd__ordinary_output_is_not_a_command(void **state)
{
	static const char *const lines[] = {
	    "hello",	     "::", ":: ::x", "::no end", "a::error::x",
	    "::bad$name::x", "",
	};
	struct guts_wfcmd c;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(
		    guts_wfcmd_parse(&c, lines[i], strlen(lines[i])), 0);
		assert_null(c.name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_envfile__reads_plain_and_heredoc_entries),
	    cmocka_unit_test(
		test_envfile__a_heredoc_without_its_delimiter_names_the_line),
	    cmocka_unit_test(test_envfile__refuses_lines_that_are_not_entries),
	    cmocka_unit_test(test_wfcmd__parses_name_properties_and_message),
	    cmocka_unit_test(test_wfcmd__recognises_the_common_commands),
	    cmocka_unit_test(test_wfcmd__ordinary_output_is_not_a_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
