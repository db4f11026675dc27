/* Unit tests for lib/workflow/filter.c: GitHub Actions filter patterns. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guts/error.h"
#include "guts/filter.h"

struct example {
	const char *pattern;
	const char *name;
	bool match;
};

/* Compile @pattern (which must be valid) and match @name against it. */
static bool pmatch(const char *pattern, const char *name)
{
	struct guts_filter_pattern *p = NULL;
	bool got;

	if (guts_filter_pattern_compile(&p, pattern) < 0)
		fail_msg("'%s' did not compile: %s", pattern,
			 guts_error_message());
	got = guts_filter_pattern_match(p, name);
	guts_filter_pattern_free(p);
	return got;
}

static void check_examples(const struct example *ex, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		if (pmatch(ex[i].pattern, ex[i].name) != ex[i].match)
			fail_msg("'%s' against '%s': expected %s",
				 ex[i].pattern, ex[i].name,
				 ex[i].match ? "a match" : "no match");
	}
}

#define CHECK_EXAMPLES(ex) check_examples(ex, sizeof(ex) / sizeof(ex[0]))

static struct guts_filter_list *list_of(const char *const *patterns, size_t nr)
{
	struct guts_filter_list *l = NULL;

	if (guts_filter_list_compile(&l, patterns, nr, 0, NULL) < 0)
		fail_msg("list did not compile: %s", guts_error_message());
	return l;
}

#define LIST(...)                                            \
	list_of((const char *const[]){__VA_ARGS__},          \
		sizeof((const char *const[]){__VA_ARGS__}) / \
		    sizeof(const char *))

/* Expect @pattern to be refused with exactly @message. */
static void check_error(const char *pattern, const char *message)
{
	struct guts_filter_pattern *p = NULL;
	int rc = guts_filter_pattern_compile(&p, pattern);

	if (rc != GUTS_EINVAL)
		fail_msg("'%s' compiled (rc %d), expected an error", pattern,
			 rc);
	assert_null(p);
	assert_string_equal(guts_error_message(), message);
}

/* The "Patterns to match branches and tags" table of GitHub's cheat sheet. */
static void test_filter__cheat_sheet_branch_and_tag_examples(void **state)
{
	static const struct example ex[] = {
	    {"feature/*", "feature/my-branch", true},
	    {"feature/*", "feature/your-branch", true},
	    {"feature/*", "feature/beta-a/my-branch", false},
	    {"feature/**", "feature/beta-a/my-branch", true},
	    {"feature/**", "feature/your-branch", true},
	    {"feature/**", "feature/mona/the/octocat", true},
	    {"feature/**", "features/x", false},
	    {"main", "main", true},
	    {"main", "main2", false},
	    {"main", "xmain", false},
	    {"releases/mona-the-octocat", "releases/mona-the-octocat", true},
	    {"*", "main", true},
	    {"*", "releases", true},
	    {"*", "releases/10", false},
	    {"**", "all/the/branches", true},
	    {"**", "every/tag", true},
	    {"*feature", "mona-feature", true},
	    {"*feature", "feature", true},
	    {"*feature", "ver-10-feature", true},
	    {"*feature", "mona/feature", false},
	    {"v2*", "v2", true},
	    {"v2*", "v2.0", true},
	    {"v2*", "v2.9", true},
	    {"v2*", "v3", false},
	    {"v[12].[0-9]+.[0-9]+", "v1.10.1", true},
	    {"v[12].[0-9]+.[0-9]+", "v2.0.0", true},
	    {"v[12].[0-9]+.[0-9]+", "v3.0.0", false},
	    {"v[12].[0-9]+.[0-9]+", "v1..1", false},
	    {"v[12].[0-9]+.[0-9]+", "v1.2.3-rc1", false},
	    {"releases/**-alpha", "releases/beta/3-alpha", true},
	    {"v1.*", "v1.9.1", true},
	};

	(void)state;
	CHECK_EXAMPLES(ex);
}

/* The "Patterns to match file paths" table of GitHub's cheat sheet. */
static void test_filter__cheat_sheet_path_examples(void **state)
{
	static const struct example ex[] = {
	    {"*", "README.md", true},
	    {"*", "server.rb", true},
	    {"*", "docs/README.md", false},
	    {"*.jsx?", "page.js", true},
	    {"*.jsx?", "page.jsx", true},
	    {"*.jsx?", "page.jsxx", false},
	    {"**", "all/the/files.md", true},
	    {"*.js", "app.js", true},
	    {"*.js", "index.js", true},
	    {"*.js", "js/index.js", false},
	    {"**.js", "index.js", true},
	    {"**.js", "js/index.js", true},
	    {"**.js", "src/js/app.js", true},
	    {"**.js", "src/js/app.jsx", false},
	    {"docs/*", "docs/README.md", true},
	    {"docs/*", "docs/file.txt", true},
	    {"docs/*", "docs/mona/octocat.txt", false},
	    {"docs/**", "docs/README.md", true},
	    {"docs/**", "docs/mona/octocat.txt", true},
	    {"docs/**", "src/docs/a.md", false},
	    {"docs/**/*.md", "docs/README.md", true},
	    {"docs/**/*.md", "docs/mona/hello-world.md", true},
	    {"docs/**/*.md", "docs/a/markdown/file.md", true},
	    {"docs/**/*.md", "docs/a/markdown/file.txt", false},
	    {"**/docs/**", "docs/hello.md", true},
	    {"**/docs/**", "dir/docs/my-file.txt", true},
	    {"**/docs/**", "space/docs/plan/space.doc", true},
	    {"**/docs/**", "mydocs/a.txt", false},
	    {"**/README.md", "README.md", true},
	    {"**/README.md", "js/README.md", true},
	    {"**/README.md", "js/NOT-README.md", false},
	    {"**/*src/**", "a/src/app.js", true},
	    {"**/*src/**", "my-src/code/js/app.js", true},
	    {"**/*src/**", "source/app.js", false},
	    {"**/*-post.md", "my-post.md", true},
	    {"**/*-post.md", "path/their-post.md", true},
	    {"**/migrate-*.sql", "migrate-10909.sql", true},
	    {"**/migrate-*.sql", "db/migrate-v1.0.sql", true},
	    {"**/migrate-*.sql", "db/sept/migrate-v1.sql", true},
	    {"**/migrate-*.sql", "db/migrate/v1.sql", false},
	};

	(void)state;
	CHECK_EXAMPLES(ex);
}

static void test_filter__star_matches_empty_but_never_a_slash(void **state)
{
	/* clang-format off */
	static const struct example ex[] = {
		{"feature/*", "feature/", true},
		{"a*b", "ab", true},
		{"a*b", "a/b", false},
		{"a*b*c", "a-b-c", true},
		{"a*b*c", "a-b/c", false},
		{"*", "", true},
		/* Unlike shell globs, no special case for dot files. */
		{"*", ".gitignore", true},
		{"**.yml", ".github/workflows/ci.yml", true},
	};
	/* clang-format on */

	(void)state;
	CHECK_EXAMPLES(ex);
}

static void test_filter__double_star_crosses_slashes(void **state)
{
	static const struct example ex[] = {
	    {"a**b", "ab", true},
	    {"a**b", "a/x/y/b", true},
	    {"**", "", true},
	    {"**x", "a/b/x", true},
	    {"***", "a/b", true},
	    /* '**' then '/' matches zero or more whole directories. */
	    {"a/**/b", "a/b", true},
	    {"a/**/b", "a/x/b", true},
	    {"a/**/b", "a/x/y/b", true},
	    {"a/**/b", "a/xb", false},
	    {"**/b", "b", true},
	    {"**/b", "xb", false},
	};

	(void)state;
	CHECK_EXAMPLES(ex);
}

static void test_filter__question_and_plus_apply_to_preceding_item(void **state)
{
	static const struct example ex[] = {
	    {"colou?r", "color", true},
	    {"colou?r", "colour", true},
	    {"colou?r", "colouur", false},
	    {"go+gle", "gogle", true},
	    {"go+gle", "gooogle", true},
	    {"go+gle", "ggle", false},
	    {"[0-9]+", "2024", true},
	    {"[0-9]+", "", false},
	    {"v[0-9]?", "v", true},
	    {"v[0-9]?", "v12", false},
	    /* Stacked quantifiers compose as sets: (a+)? is a*. */
	    {"xa+?y", "xy", true},
	    {"xa+?y", "xaaay", true},
	    {"xa?+y", "xaay", true},
	    /* With nothing before them they are ordinary characters. */
	    {"+1", "+1", true},
	    {"?", "?", true},
	    {"?", "", false},
	    /* After a wildcard they change nothing. */
	    {"a*?", "abc", true},
	    {"a**+", "a", true},
	};

	(void)state;
	CHECK_EXAMPLES(ex);
}

static void test_filter__brackets_match_one_listed_character(void **state)
{
	/* clang-format off */
	static const struct example ex[] = {
		{"[CB]at", "Cat", true},
		{"[CB]at", "Bat", true},
		{"[CB]at", "Hat", false},
		{"[1-2]00", "100", true},
		{"[1-2]00", "200", true},
		{"[1-2]00", "300", false},
		{"[0-9a-z]", "q", true},
		{"[0-9a-z]", "Q", false},
		{"[A-Za-z]x", "Zx", true},
		{"[-a]", "-", true},
		{"[a-]", "-", true},
		{"[._]", "_", true},
		{"[\\]]", "]", true},
		{"[ab]", "ab", false},
		{"[ab]", "/", false},
	};
	/* clang-format on */

	(void)state;
	CHECK_EXAMPLES(ex);
}

static void test_filter__backslash_escapes_special_characters(void **state)
{
	static const struct example ex[] = {
	    {"feat\\+1", "feat+1", true},
	    {"feat\\+1", "feattt1", false},
	    {"a\\*b", "a*b", true},
	    {"a\\*b", "axb", false},
	    {"c\\?", "c?", true},
	    {"c\\?", "c", false},
	    {"\\[x\\]", "[x]", true},
	    {"a\\\\b", "a\\b", true},
	    {"\\**", "*abc", true},
	    {"\\**", "abc", false},
	    /* Anywhere but the start, '!' is an ordinary character. */
	    {"a!b", "a!b", true},
	};
	struct guts_filter_pattern *p = NULL;

	(void)state;
	CHECK_EXAMPLES(ex);
	/* An escaped leading '!' is a literal, not a negation. */
	assert_int_equal(guts_filter_pattern_compile(&p, "\\!main"), 0);
	assert_false(guts_filter_pattern_is_negated(p));
	assert_true(guts_filter_pattern_match(p, "!main"));
	assert_false(guts_filter_pattern_match(p, "main"));
	guts_filter_pattern_free(p);
}

static void test_filter__matching_is_case_sensitive(void **state)
{
	static const struct example ex[] = {
	    {"main", "Main", false},
	    {"*.MD", "README.md", false},
	    {"[a-z]", "A", false},
	};

	(void)state;
	CHECK_EXAMPLES(ex);
}

static void test_filter__negated_pattern_matches_its_body(void **state)
{
	struct guts_filter_pattern *p = NULL;

	(void)state;
	assert_int_equal(guts_filter_pattern_compile(&p, "!releases/**"), 0);
	assert_true(guts_filter_pattern_is_negated(p));
	assert_string_equal(guts_filter_pattern_source(p), "!releases/**");
	assert_true(guts_filter_pattern_match(p, "releases/1"));
	assert_false(guts_filter_pattern_match(p, "main"));
	guts_filter_pattern_free(p);

	/* Only the first '!' negates: '!!x' is the negation of "!x". */
	assert_int_equal(guts_filter_pattern_compile(&p, "!!x"), 0);
	assert_true(guts_filter_pattern_is_negated(p));
	assert_true(guts_filter_pattern_match(p, "!x"));
	guts_filter_pattern_free(p);
}

static void
test_filter__list_later_negation_excludes_earlier_match(void **state)
{
	struct guts_filter_list *l;

	(void)state;
	/* GitHub's example: '*.md' then '!README.md'. */
	l = LIST("*.md", "!README.md");
	assert_true(guts_filter_list_match(l, "hello.md"));
	assert_false(guts_filter_list_match(l, "README.md"));
	assert_false(guts_filter_list_match(l, "docs/hello.md"));
	guts_filter_list_free(l);

	l = LIST("releases/**", "!releases/**-alpha");
	assert_true(guts_filter_list_match(l, "releases/10"));
	assert_true(guts_filter_list_match(l, "releases/beta/mona"));
	assert_false(guts_filter_list_match(l, "releases/10-alpha"));
	assert_false(guts_filter_list_match(l, "releases/beta/3-alpha"));
	assert_false(guts_filter_list_match(l, "main"));
	guts_filter_list_free(l);
}

static void test_filter__list_later_positive_reincludes(void **state)
{
	struct guts_filter_list *l;

	(void)state;
	/* GitHub's example: '*.md', '!README.md', 'README*'. */
	l = LIST("*.md", "!README.md", "README*");
	assert_true(guts_filter_list_match(l, "hello.md"));
	assert_true(guts_filter_list_match(l, "README.md"));
	assert_true(guts_filter_list_match(l, "README.doc"));
	assert_false(guts_filter_list_match(l, "docs/hello.md"));
	guts_filter_list_free(l);

	/* A negation before any positive pattern excludes nothing. */
	l = LIST("!main", "**");
	assert_true(guts_filter_list_match(l, "main"));
	guts_filter_list_free(l);
}

static void test_filter__list_of_only_negations_matches_nothing(void **state)
{
	const char *const pats[] = {"!main", "!dev"};
	struct guts_filter_list *l = NULL;
	size_t bad = 99;

	(void)state;
	assert_int_equal(guts_filter_list_compile(&l, pats, 2, 0, NULL), 0);
	assert_false(guts_filter_list_match(l, "feature"));
	assert_false(guts_filter_list_match(l, "main"));
	guts_filter_list_free(l);

	l = NULL;
	assert_int_equal(guts_filter_list_compile(
			     &l, pats, 2, GUTS_FILTER_NEED_POSITIVE, &bad),
			 GUTS_EINVAL);
	assert_null(l);
	assert_int_equal(bad, 2);
	assert_non_null(strstr(guts_error_message(), "without '!'"));

	/* An empty list is valid, even with NEED_POSITIVE, and matches nothing.
	 */
	assert_int_equal(guts_filter_list_compile(
			     &l, NULL, 0, GUTS_FILTER_NEED_POSITIVE, NULL),
			 0);
	assert_int_equal(guts_filter_list_count(l), 0);
	assert_false(guts_filter_list_match(l, "main"));
	guts_filter_list_free(l);
}

static void test_filter__list_reports_index_of_bad_pattern(void **state)
{
	const char *const pats[] = {"main", "feat/[a-", "x"};
	struct guts_filter_list *l = NULL;
	size_t bad = 99;

	(void)state;
	assert_int_equal(guts_filter_list_compile(&l, pats, 3, 0, &bad),
			 GUTS_EINVAL);
	assert_null(l);
	assert_int_equal(bad, 1);
	assert_string_equal(guts_error_message(),
			    "invalid filter pattern 'feat/[a-': unclosed '['");

	assert_int_equal(guts_filter_list_compile(&l, pats, 1, 0, &bad), 0);
	assert_int_equal(guts_filter_list_count(l), 1);
	assert_string_equal(
	    guts_filter_pattern_source(guts_filter_list_get(l, 0)), "main");
	assert_null(guts_filter_list_get(l, 1));
	guts_filter_list_free(l);
}

static void test_filter__bad_patterns_are_refused_with_reason(void **state)
{
	(void)state;
	check_error("feat/[a-", "invalid filter pattern 'feat/[a-': "
				"unclosed '['");
	check_error("[abc", "invalid filter pattern '[abc': unclosed '['");
	check_error("", "invalid filter pattern '': the pattern is empty");
	check_error("!", "invalid filter pattern '!': nothing follows '!'");
	check_error("a\\", "invalid filter pattern 'a\\': a trailing '\\' "
			   "escapes nothing");
	check_error("x[]", "invalid filter pattern 'x[]': empty '[]' matches "
			   "nothing");
	check_error("[!a]", "invalid filter pattern '[!a]': negated brackets "
			    "like '[!...]' are not supported");
	check_error("[^a]", "invalid filter pattern '[^a]': negated brackets "
			    "like '[!...]' are not supported");
	check_error("[z-a]", "invalid filter pattern '[z-a]': a range in "
			     "'[...]' must be within a-z, A-Z or 0-9, low end "
			     "first");
	check_error("[a-9]", "invalid filter pattern '[a-9]': a range in "
			     "'[...]' must be within a-z, A-Z or 0-9, low end "
			     "first");
	check_error("[[:alpha:]]", "invalid filter pattern '[[:alpha:]]': "
				   "'[' inside '[...]' must be escaped as "
				   "'\\['");
	check_error("[a\\", "invalid filter pattern '[a\\': unclosed '['");
}

static void test_filter__error_message_quotes_safely(void **state)
{
	char longpat[200];

	(void)state;
	check_error("a\n[", "invalid filter pattern 'a?[': unclosed '['");
	memset(longpat, 'x', sizeof(longpat));
	longpat[0] = '[';
	longpat[sizeof(longpat) - 1] = '\0';
	check_error(longpat, "invalid filter pattern '[xxxxxxxxxxxxxxxxxxxxxxx"
			     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			     "xxxxxxxxx...': unclosed '['");
}

static void test_filter__overlong_pattern_is_refused(void **state)
{
	struct guts_filter_pattern *p = NULL;
	char *big = malloc(GUTS_FILTER_PATTERN_MAX + 2);

	(void)state;
	memset(big, 'a', GUTS_FILTER_PATTERN_MAX + 1);
	big[GUTS_FILTER_PATTERN_MAX + 1] = '\0';
	assert_int_equal(guts_filter_pattern_compile(&p, big), GUTS_EINVAL);
	big[GUTS_FILTER_PATTERN_MAX] = '\0';
	assert_int_equal(guts_filter_pattern_compile(&p, big), 0);
	assert_true(guts_filter_pattern_match(p, big));
	big[0] = 'b';
	assert_false(guts_filter_pattern_match(p, big));
	guts_filter_pattern_free(p);
	free(big);
}

static void
test_filter__pathological_pattern_matches_in_linear_time(void **state)
{
	/*
	 * A backtracking matcher needs time exponential in the number of
	 * stars for this pattern against a long run of 'a's with no 'b'.
	 */
	const char *pattern = "**a**a**a**a**a**a**a**a**a**a**a**a**b";
	size_t n = 200000;
	char *name = malloc(n + 1);
	clock_t start;
	double secs;

	(void)state;
	memset(name, 'a', n);
	name[n] = '\0';
	start = clock();
	assert_false(pmatch(pattern, name));
	assert_false(pmatch("*a*a*a*a*a*a*a*a*a*a*a*a*a*b", name));
	name[n - 1] = 'b';
	assert_true(pmatch(pattern, name));
	secs = (double)(clock() - start) / CLOCKS_PER_SEC;
	if (secs > 2.0)
		fail_msg("took %.2f s", secs);
	free(name);
}

static void test_filter__long_pattern_matches_beyond_stack_states(void **state)
{
	/* More than 512 tokens, so the matcher's state sets live on the heap.
	 */
	char pattern[1400], name[1400];
	size_t i;

	(void)state;
	for (i = 0; i < 600; i++) {
		pattern[2 * i] = 'x';
		pattern[2 * i + 1] = '?';
		name[i] = 'x';
	}
	pattern[1200] = '*';
	pattern[1201] = 'z';
	pattern[1202] = '\0';
	name[600] = 'z';
	name[601] = '\0';
	assert_true(pmatch(pattern, name));
	assert_true(pmatch(pattern, "z"));
	assert_true(pmatch(pattern, "yyz"));
	assert_false(pmatch(pattern, "x/z"));
}

static void test_filter__refs_include_ignore_and_neither(void **state)
{
	struct guts_filter_list *inc = LIST("main", "releases/**");
	struct guts_filter_list *ign =
	    LIST("mona/octocat", "releases/**-alpha");

	(void)state;
	assert_true(guts_filter_refs(NULL, NULL, "anything/at/all"));
	assert_true(guts_filter_refs(inc, NULL, "main"));
	assert_true(guts_filter_refs(inc, NULL, "releases/10"));
	assert_false(guts_filter_refs(inc, NULL, "feature/x"));
	assert_true(guts_filter_refs(NULL, ign, "main"));
	assert_false(guts_filter_refs(NULL, ign, "mona/octocat"));
	assert_false(guts_filter_refs(NULL, ign, "releases/beta/3-alpha"));
	/* Both given: a name must be included and not ignored. */
	assert_true(guts_filter_refs(inc, ign, "releases/10"));
	assert_false(guts_filter_refs(inc, ign, "releases/10-alpha"));
	assert_false(guts_filter_refs(inc, ign, "dev"));
	guts_filter_list_free(inc);
	guts_filter_list_free(ign);
}

static void test_filter__paths_runs_when_any_changed_path_matches(void **state)
{
	struct guts_filter_list *js = LIST("**.js");
	struct guts_filter_list *sub =
	    LIST("sub-project/**", "!sub-project/docs/**");
	const char *const mixed[] = {"README.md", "src/app.js"};
	const char *const docs[] = {"README.md", "docs/a.md"};
	const char *const sub_code[] = {"sub-project/docs/readme.md",
					"sub-project/src/index.js"};
	const char *const sub_docs[] = {"sub-project/docs/readme.md"};

	(void)state;
	assert_true(guts_filter_paths(js, NULL, mixed, 2));
	assert_false(guts_filter_paths(js, NULL, docs, 2));
	assert_true(guts_filter_paths(sub, NULL, sub_code, 2));
	assert_false(guts_filter_paths(sub, NULL, sub_docs, 1));
	guts_filter_list_free(js);
	guts_filter_list_free(sub);
}

static void
test_filter__paths_ignore_skips_only_when_all_paths_ignored(void **state)
{
	struct guts_filter_list *ign = LIST("docs/**");
	const char *const only_docs[] = {"docs/a.md", "docs/b/c.md"};
	const char *const some_code[] = {"docs/a.md", "src/main.c"};

	(void)state;
	assert_false(guts_filter_paths(NULL, ign, only_docs, 2));
	assert_true(guts_filter_paths(NULL, ign, some_code, 2));
	guts_filter_list_free(ign);
}

static void test_filter__paths_with_no_changed_files_never_run(void **state)
{
	struct guts_filter_list *all = LIST("**");

	(void)state;
	assert_false(guts_filter_paths(all, NULL, NULL, 0));
	assert_false(guts_filter_paths(NULL, all, NULL, 0));
	/* Without any path filter, paths do not decide anything. */
	assert_true(guts_filter_paths(NULL, NULL, NULL, 0));
	guts_filter_list_free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter__cheat_sheet_branch_and_tag_examples),
	    cmocka_unit_test(test_filter__cheat_sheet_path_examples),
	    cmocka_unit_test(test_filter__star_matches_empty_but_never_a_slash),
	    cmocka_unit_test(test_filter__double_star_crosses_slashes),
	    cmocka_unit_test(
		test_filter__question_and_plus_apply_to_preceding_item),
	    cmocka_unit_test(test_filter__brackets_match_one_listed_character),
	    cmocka_unit_test(test_filter__backslash_escapes_special_characters),
	    cmocka_unit_test(test_filter__matching_is_case_sensitive),
	    cmocka_unit_test(test_filter__negated_pattern_matches_its_body),
	    cmocka_unit_test(
		test_filter__list_later_negation_excludes_earlier_match),
	    cmocka_unit_test(test_filter__list_later_positive_reincludes),
	    cmocka_unit_test(
		test_filter__list_of_only_negations_matches_nothing),
	    cmocka_unit_test(test_filter__list_reports_index_of_bad_pattern),
	    cmocka_unit_test(test_filter__bad_patterns_are_refused_with_reason),
	    cmocka_unit_test(test_filter__error_message_quotes_safely),
	    cmocka_unit_test(test_filter__overlong_pattern_is_refused),
	    cmocka_unit_test(
		test_filter__pathological_pattern_matches_in_linear_time),
	    cmocka_unit_test(
		test_filter__long_pattern_matches_beyond_stack_states),
	    cmocka_unit_test(test_filter__refs_include_ignore_and_neither),
	    cmocka_unit_test(
		test_filter__paths_runs_when_any_changed_path_matches),
	    cmocka_unit_test(
		test_filter__paths_ignore_skips_only_when_all_paths_ignored),
	    cmocka_unit_test(
		test_filter__paths_with_no_changed_files_never_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
