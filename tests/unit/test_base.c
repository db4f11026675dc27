/* Unit tests for lib/base: errors, buffers, string vectors, JSON, SHA-256,
 * files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guts/buf.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/hash.h"
#include "guts/json.h"
#include "guts/strvec.h"

static void test_error__records_message_per_code(void **state)
{
	(void)state;
	assert_int_equal(guts_error(GUTS_ENOTFOUND, "no job %d", 7),
			 GUTS_ENOTFOUND);
	assert_string_equal(guts_error_message(), "no job 7");
	assert_string_equal(guts_error_code_name(GUTS_ENOTFOUND), "not_found");
	assert_string_equal(guts_error_code_name(GUTS_ETOOBIG), "too_big");
}

static void test_buf__appends_and_stays_nul_terminated(void **state)
{
	struct guts_buf b;

	(void)state;
	guts_buf_init(&b, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(guts_buf_adds(&b, "hello"), 0);
	assert_int_equal(guts_buf_addf(&b, " %d+%s", 42, "x"), 0);
	assert_int_equal(guts_buf_addch(&b, '!'), 0);
	assert_string_equal(b.data, "hello 42+x!");
	assert_int_equal(b.len, 11);
	guts_buf_truncate(&b, 5);
	assert_string_equal(b.data, "hello");
	guts_buf_release(&b);
	assert_int_equal(b.len, 0);
}

static void test_buf__refuses_growth_past_cap_and_keeps_content(void **state)
{
	struct guts_buf b;

	(void)state;
	guts_buf_init(&b, 8);
	assert_int_equal(guts_buf_adds(&b, "12345678"), 0);
	assert_int_equal(guts_buf_adds(&b, "9"), GUTS_ETOOBIG);
	assert_int_equal(guts_buf_addf(&b, "%s", "abc"), GUTS_ETOOBIG);
	assert_string_equal(b.data, "12345678");
	guts_buf_release(&b);
}

static void test_buf__detach_hands_out_string(void **state)
{
	struct guts_buf b;
	size_t len;
	char *s;

	(void)state;
	guts_buf_init(&b, 0);
	guts_buf_adds(&b, "abc");
	s = guts_buf_detach(&b, &len);
	assert_string_equal(s, "abc");
	assert_int_equal(len, 3);
	assert_int_equal(b.len, 0);
	free(s);
	s = guts_buf_detach(&b, &len);
	assert_string_equal(s, "");
	free(s);
}

static void test_strvec__pushes_finds_and_detaches(void **state)
{
	struct guts_strvec sv = GUTS_STRVEC_INIT;
	char **v;

	(void)state;
	guts_strvec_push(&sv, "a");
	guts_strvec_pushf(&sv, "%s=%d", "b", 2);
	assert_int_equal(sv.nr, 2);
	assert_null(sv.v[2]);
	assert_int_equal(guts_strvec_find(&sv, "b=2"), 1);
	assert_int_equal(guts_strvec_find(&sv, "c"), -1);
	guts_strvec_pop(&sv);
	assert_int_equal(sv.nr, 1);
	v = guts_strvec_detach(&sv);
	assert_string_equal(v[0], "a");
	assert_null(v[1]);
	guts_strvec_free_array(v);
	v = guts_strvec_detach(&sv);
	assert_null(v[0]);
	guts_strvec_free_array(v);
}

static void test_json__parse_reports_position_of_bad_input(void **state)
{
	json_t *v = NULL;

	(void)state;
	assert_int_equal(guts_json_parse(&v, "{\"a\": }", 7), GUTS_EINVAL);
	assert_null(v);
	assert_non_null(strstr(guts_error_message(), "1:"));
	assert_int_equal(guts_json_parse(&v, "[1,2]", 5), 0);
	assert_int_equal(json_array_size(v), 2);
	json_decref(v);
}

static void test_json__canonical_sorts_keys(void **state)
{
	json_t *v = json_pack("{s:i, s:s, s:[i]}", "b", 1, "a", "x", "c", 3);
	char *s = guts_json_canonical(v);

	(void)state;
	assert_string_equal(s, "{\"a\":\"x\",\"b\":1,\"c\":[3]}");
	free(s);
	json_decref(v);
}

static void test_json__getters_name_the_bad_field(void **state)
{
	json_t *v = json_pack("{s:s, s:i, s:b}", "name", "x", "n", 5, "ok", 1);
	const char *s;
	long long n;
	int b;

	(void)state;
	assert_int_equal(guts_json_get_string(&s, v, "name"), 0);
	assert_string_equal(s, "x");
	assert_int_equal(guts_json_get_string(&s, v, "n"), GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "'n'"));
	assert_int_equal(guts_json_get_int(&n, v, "n", 0, 10), 0);
	assert_int_equal(n, 5);
	assert_int_equal(guts_json_get_int(&n, v, "n", 6, 10), GUTS_EINVAL);
	assert_int_equal(guts_json_get_bool(&b, v, "ok"), 0);
	assert_true(b);
	assert_int_equal(guts_json_get_bool(&b, v, "missing"), GUTS_EINVAL);
	json_decref(v);
}

static void test_json__iget_is_case_insensitive(void **state)
{
	json_t *v = json_pack("{s:i}", "RunNer", 3);

	(void)state;
	assert_non_null(guts_json_object_iget(v, "runner"));
	assert_int_equal(json_integer_value(guts_json_object_iget(v, "RUNNER")),
			 3);
	assert_null(guts_json_object_iget(v, "runners"));
	json_decref(v);
}

static void test_hash__sha256_matches_known_vectors(void **state)
{
	uint8_t d[GUTS_SHA256_LEN];
	char hex[GUTS_SHA256_HEX_LEN + 1];
	struct guts_sha256 h;

	(void)state;
	guts_sha256_buf(d, "", 0);
	guts_sha256_hex(hex, d);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
				 "27ae41e4649b934ca495991b7852b855");
	/* Streaming in pieces gives the same digest as one shot. */
	guts_sha256_init(&h);
	guts_sha256_update(&h, "a", 1);
	guts_sha256_update(&h, "bc", 2);
	guts_sha256_final(&h, d);
	guts_sha256_hex(hex, d);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
}

static void test_fs__reads_with_cap_and_writes_atomically(void **state)
{
	char dir[] = "/tmp/guts-test-fs-XXXXXX";
	uint8_t d[GUTS_SHA256_LEN];
	char path[256], *text;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(guts_fs_write_atomic(path, "abc", 3, 0600), 0);
	assert_int_equal(guts_fs_read_all(&text, &len, path, 3), 0);
	assert_string_equal(text, "abc");
	assert_int_equal(len, 3);
	free(text);
	assert_int_equal(guts_fs_read_all(&text, &len, path, 2), GUTS_ETOOBIG);
	assert_int_equal(guts_sha256_file(d, path), 0);
	unlink(path);
	assert_int_equal(guts_fs_read_all(&text, &len, path, 0),
			 GUTS_ENOTFOUND);
	assert_int_equal(guts_fs_read_all(&text, &len, dir, 0), GUTS_EINVAL);
	rmdir(dir);
}

/* The temporary name is predictable; a link planted there is not followed. */
static void test_fs__write_atomic_does_not_follow_a_planted_link(void **state)
{
	char dir[] = "/tmp/guts-test-fs-XXXXXX";
	char path[256], tmp[300], victim[256], *text;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(guts_fs_write_atomic(victim, "keep", 4, 0600), 0);
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(guts_fs_write_atomic(path, "abc", 3, 0600), 0);
	assert_int_equal(guts_fs_read_all(&text, &len, victim, 0), 0);
	assert_string_equal(text, "keep");
	free(text);
	assert_int_equal(guts_fs_read_all(&text, &len, path, 0), 0);
	assert_string_equal(text, "abc");
	free(text);
	unlink(path);
	unlink(victim);
	rmdir(dir);
}

static void test_fs__read_fd_caps_streams(void **state)
{
	int p[2];
	char *text;
	size_t len;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "12345", 5), 5);
	close(p[1]);
	assert_int_equal(guts_fs_read_fd(&text, &len, p[0], 4), GUTS_ETOOBIG);
	close(p[0]);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "1234", 4), 4);
	close(p[1]);
	assert_int_equal(guts_fs_read_fd(&text, &len, p[0], 4), 0);
	assert_string_equal(text, "1234");
	free(text);
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error__records_message_per_code),
	    cmocka_unit_test(test_buf__appends_and_stays_nul_terminated),
	    cmocka_unit_test(
		test_buf__refuses_growth_past_cap_and_keeps_content),
	    cmocka_unit_test(test_buf__detach_hands_out_string),
	    cmocka_unit_test(test_strvec__pushes_finds_and_detaches),
	    cmocka_unit_test(test_json__parse_reports_position_of_bad_input),
	    cmocka_unit_test(test_json__canonical_sorts_keys),
	    cmocka_unit_test(test_json__getters_name_the_bad_field),
	    cmocka_unit_test(test_json__iget_is_case_insensitive),
	    cmocka_unit_test(test_hash__sha256_matches_known_vectors),
	    cmocka_unit_test(test_fs__reads_with_cap_and_writes_atomically),
	    cmocka_unit_test(test_fs__read_fd_caps_streams),
	    cmocka_unit_test(
		test_fs__write_atomic_does_not_follow_a_planted_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
