/* Unit tests for dotenv files (--env-file, --secret-file). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/dotenv.h"
#include "guts/error.h"
#include "guts/fs.h"

#define MAX_ENTRIES 32

struct entries {
	size_t nr;
	char *key[MAX_ENTRIES];
	char *value[MAX_ENTRIES];
	size_t len[MAX_ENTRIES];
	size_t stop_after; /* 0: never */
};

static int collect(const char *key, const char *value, size_t vlen, void *ud)
{
	struct entries *e = ud;

	assert_true(e->nr < MAX_ENTRIES);
	assert_int_equal(value[vlen], '\0');
	e->key[e->nr] = strdup(key);
	e->value[e->nr] = malloc(vlen + 1);
	memcpy(e->value[e->nr], value, vlen + 1);
	e->len[e->nr] = vlen;
	e->nr++;
	return e->stop_after && e->nr == e->stop_after ? 7 : 0;
}

static int collect_nothing(const char *key, const char *value, size_t vlen,
			   void *ud)
{
	(void)key;
	(void)value;
	(void)vlen;
	(void)ud;
	return 0;
}

static int parse(struct entries *e, const char *text)
{
	memset(e, 0, sizeof(*e));
	return guts_dotenv_parse(text, strlen(text), collect, e);
}

static void release(struct entries *e)
{
	for (size_t i = 0; i < e->nr; i++) {
		free(e->key[i]);
		free(e->value[i]);
	}
}

static void assert_entry(const struct entries *e, size_t i, const char *key,
			 const char *value)
{
	assert_true(i < e->nr);
	assert_string_equal(e->key[i], key);
	assert_string_equal(e->value[i], value);
	assert_int_equal(e->len[i], strlen(value));
}

static void test_dotenv__reads_plain_entries_comments_and_export(void **state)
{
	struct entries e;

	(void)state;
	assert_int_equal(parse(&e, "# a comment\n"
				   "\n"
				   "A=1\n"
				   "  export B = two words  \n"
				   "C: yaml style\n"
				   "D=value # a comment\n"
				   "E=a#b c #d # e\n"
				   "F=\n"
				   "G.x-y_z=ok\n"
				   "_H=#not a comment\n"
				   "export=plain key\n"
				   "I=http://host:80/a=b\n"
				   "J=last without newline"),
			 0);
	assert_int_equal(e.nr, 11);
	assert_entry(&e, 0, "A", "1");
	assert_entry(&e, 1, "B", "two words");
	assert_entry(&e, 2, "C", "yaml style");
	assert_entry(&e, 3, "D", "value");
	assert_entry(&e, 4, "E", "a#b c");
	assert_entry(&e, 5, "F", "");
	assert_entry(&e, 6, "G.x-y_z", "ok");
	assert_entry(&e, 7, "_H", "#not a comment");
	assert_entry(&e, 8, "export", "plain key");
	assert_entry(&e, 9, "I", "http://host:80/a=b");
	assert_entry(&e, 10, "J", "last without newline");
	release(&e);
}

static void test_dotenv__quotes_escape_and_span_lines(void **state)
{
	struct entries e;

	(void)state;
	assert_int_equal(parse(&e, "S='lit $A \\n \"x\"' # comment\n"
				   "D=\"a\\nb\\tc \\\"q\\\" \\\\ \\$A \\x\"\n"
				   "M=\"line one\n"
				   "line two\"\n"
				   "N='one\r\n"
				   "two'\r\n"
				   "E=\"\"\n"
				   "AFTER=1\n"),
			 0);
	assert_int_equal(e.nr, 6);
	assert_entry(&e, 0, "S", "lit $A \\n \"x\"");
	assert_entry(&e, 1, "D", "a\nb\tc \"q\" \\ $A x");
	assert_entry(&e, 2, "M", "line one\nline two");
	assert_entry(&e, 3, "N", "one\ntwo");
	assert_entry(&e, 4, "E", "");
	assert_entry(&e, 5, "AFTER", "1");
	release(&e);
}

static void test_dotenv__expands_earlier_keys(void **state)
{
	struct entries e;

	(void)state;
	assert_int_equal(parse(&e, "USER=me\n"
				   "HOME=/home/$USER\n"
				   "Q=\"${HOME}/x ${USER}s $NOPE.\"\n"
				   "S='$USER'\n"
				   "P=pa$word \\$USER $ ${ ${USER\n"
				   "USER=you\n"
				   "R=$USER\n"),
			 0);
	assert_entry(&e, 1, "HOME", "/home/me");
	assert_entry(&e, 2, "Q", "/home/me/x mes .");
	assert_entry(&e, 3, "S", "$USER");
	/* Lower-case names do not expand, as in godotenv. */
	assert_entry(&e, 4, "P", "pa$word $USER $ ${ ${USER");
	assert_entry(&e, 6, "R", "you");
	release(&e);
}

static void test_dotenv__reads_the_act_suite_files(void **state)
{
	const char *src = getenv("GUTS_SOURCE_DIR");
	char path[4096], *text;
	size_t len;
	struct entries e;

	(void)state;
	snprintf(path, sizeof(path),
		 "%s/../shared/conformance/runs/act/secrets/.secrets",
		 src ? src : ".");
	if (guts_fs_read_all(&text, &len, path, 1 << 20) < 0) {
		printf("skipped: %s\n", guts_error_message());
		skip();
	}
	memset(&e, 0, sizeof(e));
	assert_int_equal(guts_dotenv_parse(text, len, collect, &e), 0);
	free(text);
	assert_int_equal(e.nr, 3);
	assert_entry(&e, 0, "MY_SECRET", "top-secret");
	assert_entry(&e, 1, "MULTILINE_SECRET", "foo\nbar\nbaz");
	assert_entry(&e, 2, "JSON_SECRET", "{\"foo\": \"bar\"}");
	release(&e);

	snprintf(path, sizeof(path),
		 "%s/../shared/conformance/runs/act/secrets/.env",
		 src ? src : ".");
	assert_int_equal(guts_fs_read_all(&text, &len, path, 1 << 20), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(guts_dotenv_parse(text, len, collect, &e), 0);
	free(text);
	assert_int_equal(e.nr, 2);
	assert_entry(&e, 0, "HELLO", "WORLD");
	assert_entry(&e, 1, "MULTILINE_ENV", "foo\nbar\nbaz");
	release(&e);
}

static void test_dotenv__crlf_bom_and_markers(void **state)
{
	struct entries e;

	(void)state;
	assert_int_equal(parse(&e, "\xef\xbb\xbf"
				   "---\r\n"
				   "A=1\r\n"
				   "B=\"x\"\r\n"
				   "---\n"
				   "C=2"),
			 0);
	assert_int_equal(e.nr, 3);
	assert_entry(&e, 0, "A", "1");
	assert_entry(&e, 1, "B", "x");
	assert_entry(&e, 2, "C", "2");
	release(&e);
}

static void assert_parse_error(const char *text, int code, const char *msg)
{
	struct entries e;

	assert_int_equal(parse(&e, text), code);
	if (!strstr(guts_error_message(), msg))
		fail_msg("'%s' does not contain '%s'", guts_error_message(),
			 msg);
	release(&e);
}

static void test_dotenv__errors_name_the_line(void **state)
{
	(void)state;
	assert_parse_error("A=1\n\n1A=2\n", GUTS_EINVAL,
			   "line 3: invalid key '1A'");
	assert_parse_error("A=1\nFO O=2\n", GUTS_EINVAL,
			   "line 2: unexpected 'O' in the key 'FO'");
	assert_parse_error("A=1\nJUSTAKEY\n", GUTS_EINVAL,
			   "line 2: expected '=' after the key 'JUSTAKEY'");
	assert_parse_error("=1\n", GUTS_EINVAL, "line 1: empty key before '='");
	assert_parse_error("A=1\n$X=1\n", GUTS_EINVAL,
			   "line 2: a key cannot start with '$'");
	assert_parse_error("A=1\nB=\"open\nC=2\n", GUTS_EINVAL,
			   "line 2: the double-quoted value has no closing "
			   "quote");
	assert_parse_error("A='open\n", GUTS_EINVAL,
			   "line 1: the single-quoted value has no closing "
			   "quote");
	assert_parse_error("A=\"x\"\nB=\"a\nb\" trailing\n", GUTS_EINVAL,
			   "line 3: unexpected 't' after the closing quote");
	assert_parse_error("K\xc3\xa9=1\n", GUTS_EINVAL,
			   "line 1: unexpected '\\xc3' in the key 'K'");
}

static void test_dotenv__expansion_is_capped(void **state)
{
	char text[4096];
	size_t n = 0;

	(void)state;
	/* Each line doubles the one before: 2^40 bytes uncapped. */
	n += (size_t)snprintf(text, sizeof(text), "V0=xxxxxxxxxxxxxxxx\n");
	for (int i = 1; i <= 40; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "V%d=$V%d$V%d\n", i, i - 1, i - 1);
	assert_int_equal(guts_dotenv_parse(text, n, collect_nothing, NULL),
			 GUTS_ETOOBIG);
	assert_non_null(strstr(guts_error_message(), "line "));
}

static void test_dotenv__the_callback_stops_the_parse(void **state)
{
	struct entries e;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.stop_after = 2;
	assert_int_equal(guts_dotenv_parse("A=1\nB=2\nC=3\n", 12, collect, &e),
			 7);
	assert_int_equal(e.nr, 2);
	release(&e);
}

static void test_dotenv__values_may_hold_nul_bytes(void **state)
{
	static const char text[] = "A=\"x\0y\"\nB=$A\n";
	struct entries e;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(guts_dotenv_parse(text, sizeof(text) - 1, collect, &e),
			 0);
	assert_int_equal(e.len[0], 3);
	assert_memory_equal(e.value[0], "x\0y", 3);
	assert_int_equal(e.len[1], 3);
	assert_memory_equal(e.value[1], "x\0y", 3);
	release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_dotenv__reads_plain_entries_comments_and_export),
	    cmocka_unit_test(test_dotenv__quotes_escape_and_span_lines),
	    cmocka_unit_test(test_dotenv__expands_earlier_keys),
	    cmocka_unit_test(test_dotenv__reads_the_act_suite_files),
	    cmocka_unit_test(test_dotenv__crlf_bom_and_markers),
	    cmocka_unit_test(test_dotenv__errors_name_the_line),
	    cmocka_unit_test(test_dotenv__expansion_is_capped),
	    cmocka_unit_test(test_dotenv__the_callback_stops_the_parse),
	    cmocka_unit_test(test_dotenv__values_may_hold_nul_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
