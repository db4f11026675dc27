/* Unit tests for hashFiles(): which files it hashes and how. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/hash.h"
#include "guts/hashfiles.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char *p = guts_xasprintf("%s/%s", root, rel);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

/* GitHub's value: sha256 over the sha256 of each file, in path order. */
static char *expected(const char *const *texts, size_t n)
{
	struct guts_sha256 h;
	uint8_t d[GUTS_SHA256_LEN];
	char hex[GUTS_SHA256_HEX_LEN + 1];

	guts_sha256_init(&h);
	for (size_t i = 0; i < n; i++) {
		guts_sha256_buf(d, texts[i], strlen(texts[i]));
		guts_sha256_update(&h, d, sizeof(d));
	}
	guts_sha256_final(&h, d);
	guts_sha256_hex(hex, d);
	return guts_xstrdup(hex);
}

static int setup(void **state)
{
	char *p;

	(void)state;
	snprintf(root, sizeof(root), "/tmp/guts-hashfiles-XXXXXX");
	assert_non_null(mkdtemp(root));
	p = guts_xasprintf("%s/sub", root);
	mkdir(p, 0755);
	free(p);
	put("a.lock", "alpha\n");
	put("sub/b.lock", "beta\n");
	put("sub/c.txt", "gamma\n");
	p = guts_xasprintf("%s/link.lock", root);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	free(p);
	return 0;
}

static int teardown(void **state)
{
	char *cmd = guts_xasprintf("rm -rf %s", root);

	(void)state;
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

static void test_hashfiles__matches_in_path_order(void **state)
{
	const char *pats[] = {"**/*.lock"};
	const char *texts[] = {"alpha\n", "beta\n"};
	char *got = NULL, *want = expected(texts, 2);

	(void)state;
	assert_int_equal(guts_hash_files(&got, root, pats, 1), 0);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void test_hashfiles__negation_and_absolute_patterns(void **state)
{
	char *abs = guts_xasprintf("%s/**", root);
	const char *pats[] = {abs, "!**/*.lock"};
	const char *texts[] = {"gamma\n"};
	char *got = NULL, *want = expected(texts, 1);

	(void)state;
	assert_int_equal(guts_hash_files(&got, root, pats, 2), 0);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(abs);
}

static void test_hashfiles__a_directory_takes_what_is_under_it(void **state)
{
	const char *pats[] = {"sub", "!**/*.txt"};
	const char *texts[] = {"beta\n"};
	char *got = NULL, *want = expected(texts, 1);

	(void)state;
	assert_int_equal(guts_hash_files(&got, root, pats, 2), 0);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void test_hashfiles__nothing_matched_is_empty(void **state)
{
	const char *pats[] = {"*.nothing"};
	char *got = NULL;

	(void)state;
	assert_int_equal(guts_hash_files(&got, root, pats, 1), 0);
	assert_string_equal(got, "");
	free(got);
}

static void test_hashfiles__a_bad_pattern_is_an_error(void **state)
{
	const char *pats[] = {"[unclosed"};
	char *got = NULL;

	(void)state;
	assert_int_equal(guts_hash_files(&got, root, pats, 1), -1);
	assert_null(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hashfiles__matches_in_path_order),
	    cmocka_unit_test(test_hashfiles__negation_and_absolute_patterns),
	    cmocka_unit_test(
		test_hashfiles__a_directory_takes_what_is_under_it),
	    cmocka_unit_test(test_hashfiles__nothing_matched_is_empty),
	    cmocka_unit_test(test_hashfiles__a_bad_pattern_is_an_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
