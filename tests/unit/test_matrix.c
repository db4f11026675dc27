/*
 * Unit tests for lib/workflow/matrix.c: GitHub's matrix expansion.  The
 * expected outputs of the docs examples are the ones GitHub's documentation
 * ("Running variations of jobs in a workflow") lists, key order included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/error.h"
#include "guts/matrix.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		fail_msg("bad JSON in the test: %s: %s", e.text, text);
	return v;
}

/* Expand @matrix_json (with contexts @ctx_json, may be NULL). */
static int expand(struct guts_matrix *m, const char *matrix_json,
		  const char *ctx_json)
{
	json_t *mx = parse(matrix_json);
	json_t *ctx = ctx_json ? parse(ctx_json) : NULL;
	int rc;

	guts_matrix_init(m);
	rc = guts_matrix_expand(m, mx, ctx);
	json_decref(mx);
	json_decref(ctx);
	return rc;
}

/* The legs as compact JSON, in order, keys in their order. */
static char *legs_text(const struct guts_matrix *m)
{
	return json_dumps(m->legs, JSON_COMPACT);
}

static void expect_legs(const char *matrix_json, const char *ctx_json,
			const char *want)
{
	struct guts_matrix m;
	char *got;

	if (expand(&m, matrix_json, ctx_json) < 0)
		fail_msg("expansion failed: %s", guts_error_message());
	if (!m.legs)
		fail_msg("expansion was deferred: %s", m.deferred);
	got = legs_text(&m);
	if (strcmp(got, want))
		fail_msg("matrix %s\n  got  %s\n  want %s", matrix_json, got,
			 want);
	free(got);
	guts_matrix_release(&m);
}

/* Expansion must fail with @code and a message containing @needle. */
static void expect_error(const char *matrix_json, int code, const char *needle)
{
	struct guts_matrix m;
	int rc = expand(&m, matrix_json, NULL);

	if (rc != code)
		fail_msg("matrix %s: expected error %d, got %d", matrix_json,
			 code, rc);
	if (!strstr(guts_error_message(), needle))
		fail_msg("message '%s' does not contain '%s'",
			 guts_error_message(), needle);
	assert_null(m.legs);
	guts_matrix_release(&m);
}

static void test_matrix__cross_product_first_key_varies_slowest(void **state)
{
	(void)state;
	/* The docs: version [10, 12, 14] x os [ubuntu, windows]. */
	expect_legs("{\"version\":[10,12,14],\"os\":[\"ubuntu-latest\","
		    "\"windows-latest\"]}",
		    NULL,
		    "[{\"version\":10,\"os\":\"ubuntu-latest\"},"
		    "{\"version\":10,\"os\":\"windows-latest\"},"
		    "{\"version\":12,\"os\":\"ubuntu-latest\"},"
		    "{\"version\":12,\"os\":\"windows-latest\"},"
		    "{\"version\":14,\"os\":\"ubuntu-latest\"},"
		    "{\"version\":14,\"os\":\"windows-latest\"}]");
}

static void
test_matrix__include_adds_keys_without_overwriting_originals(void **state)
{
	(void)state;
	/* The docs' fruit/animal example, with its six results. */
	expect_legs("{\"fruit\":[\"apple\",\"pear\"],"
		    "\"animal\":[\"cat\",\"dog\"],"
		    "\"include\":["
		    "{\"color\":\"green\"},"
		    "{\"color\":\"pink\",\"animal\":\"cat\"},"
		    "{\"fruit\":\"apple\",\"shape\":\"circle\"},"
		    "{\"fruit\":\"banana\"},"
		    "{\"fruit\":\"banana\",\"animal\":\"cat\"}]}",
		    NULL,
		    "[{\"fruit\":\"apple\",\"animal\":\"cat\",\"color\":"
		    "\"pink\",\"shape\":\"circle\"},"
		    "{\"fruit\":\"apple\",\"animal\":\"dog\",\"color\":"
		    "\"green\",\"shape\":\"circle\"},"
		    "{\"fruit\":\"pear\",\"animal\":\"cat\",\"color\":"
		    "\"pink\"},"
		    "{\"fruit\":\"pear\",\"animal\":\"dog\",\"color\":"
		    "\"green\"},"
		    "{\"fruit\":\"banana\"},"
		    "{\"fruit\":\"banana\",\"animal\":\"cat\"}]");
}

static void
test_matrix__include_extends_only_the_matching_combination(void **state)
{
	(void)state;
	/* The docs: npm 6 only for windows-latest with node 16. */
	expect_legs("{\"os\":[\"windows-latest\",\"ubuntu-latest\"],"
		    "\"node\":[14,16],"
		    "\"include\":[{\"os\":\"windows-latest\",\"node\":16,"
		    "\"npm\":6}]}",
		    NULL,
		    "[{\"os\":\"windows-latest\",\"node\":14},"
		    "{\"os\":\"windows-latest\",\"node\":16,\"npm\":6},"
		    "{\"os\":\"ubuntu-latest\",\"node\":14},"
		    "{\"os\":\"ubuntu-latest\",\"node\":16}]");
}

static void test_matrix__exclude_removes_partial_matches(void **state)
{
	(void)state;
	/* The docs: 12 combinations, one and then two excluded. */
	expect_legs("{\"os\":[\"macos-latest\",\"windows-latest\"],"
		    "\"version\":[12,14,16],"
		    "\"environment\":[\"staging\",\"production\"],"
		    "\"exclude\":[{\"os\":\"macos-latest\",\"version\":12,"
		    "\"environment\":\"production\"},"
		    "{\"os\":\"windows-latest\",\"version\":16}]}",
		    NULL,
		    "[{\"os\":\"macos-latest\",\"version\":12,\"environment\":"
		    "\"staging\"},"
		    "{\"os\":\"macos-latest\",\"version\":14,\"environment\":"
		    "\"staging\"},"
		    "{\"os\":\"macos-latest\",\"version\":14,\"environment\":"
		    "\"production\"},"
		    "{\"os\":\"macos-latest\",\"version\":16,\"environment\":"
		    "\"staging\"},"
		    "{\"os\":\"macos-latest\",\"version\":16,\"environment\":"
		    "\"production\"},"
		    "{\"os\":\"windows-latest\",\"version\":12,\"environment\":"
		    "\"staging\"},"
		    "{\"os\":\"windows-latest\",\"version\":12,\"environment\":"
		    "\"production\"},"
		    "{\"os\":\"windows-latest\",\"version\":14,\"environment\":"
		    "\"staging\"},"
		    "{\"os\":\"windows-latest\",\"version\":14,\"environment\":"
		    "\"production\"}]");
}

static void test_matrix__exclude_matches_nested_values_partially(void **state)
{
	(void)state;
	/* Only the leaves the entry names must match. */
	expect_legs("{\"cfg\":[{\"node\":12,\"npm\":6},{\"node\":14,\"npm\":6},"
		    "{\"node\":12,\"npm\":7}],"
		    "\"exclude\":[{\"cfg\":{\"node\":12}}]}",
		    NULL, "[{\"cfg\":{\"node\":14,\"npm\":6}}]");
	/* A nested value that differs keeps the combination. */
	expect_legs("{\"cfg\":[{\"a\":{\"b\":1}},{\"a\":{\"b\":2}}],"
		    "\"exclude\":[{\"cfg\":{\"a\":{\"b\":2}}}]}",
		    NULL, "[{\"cfg\":{\"a\":{\"b\":1}}}]");
}

static void test_matrix__include_is_applied_after_exclude(void **state)
{
	(void)state;
	/* An excluded combination comes back as an include of its own. */
	expect_legs("{\"os\":[\"linux\",\"windows\"],\"arch\":[\"x64\","
		    "\"arm\"],"
		    "\"exclude\":[{\"os\":\"windows\",\"arch\":\"arm\"}],"
		    "\"include\":[{\"os\":\"windows\",\"arch\":\"arm\","
		    "\"experimental\":true}]}",
		    NULL,
		    "[{\"os\":\"linux\",\"arch\":\"x64\"},"
		    "{\"os\":\"linux\",\"arch\":\"arm\"},"
		    "{\"os\":\"windows\",\"arch\":\"x64\"},"
		    "{\"os\":\"windows\",\"arch\":\"arm\",\"experimental\":"
		    "true}]");
}

static void test_matrix__include_only_gives_exactly_its_entries(void **state)
{
	(void)state;
	expect_legs("{\"include\":[{\"a\":42},{\"a\":\"foo\"},"
		    "{\"os\":\"linux\",\"node\":20}]}",
		    NULL,
		    "[{\"a\":42},{\"a\":\"foo\"},"
		    "{\"os\":\"linux\",\"node\":20}]");
}

static void test_matrix__unmatched_include_puts_vector_keys_first(void **state)
{
	(void)state;
	expect_legs("{\"os\":[\"linux\"],"
		    "\"include\":[{\"extra\":1,\"os\":\"macos\"}]}",
		    NULL,
		    "[{\"os\":\"linux\"},{\"os\":\"macos\",\"extra\":1}]");
}

static void test_matrix__later_include_overwrites_added_values(void **state)
{
	(void)state;
	expect_legs("{\"os\":[\"linux\",\"macos\"],"
		    "\"include\":[{\"cc\":\"gcc\"},{\"os\":\"macos\","
		    "\"cc\":\"clang\"}]}",
		    NULL,
		    "[{\"os\":\"linux\",\"cc\":\"gcc\"},"
		    "{\"os\":\"macos\",\"cc\":\"clang\"}]");
}

static void test_matrix__values_compare_like_the_expression_equals(void **state)
{
	(void)state;
	/* '16' == 16 and strings compare case-insensitively, as on GitHub. */
	expect_legs(
	    "{\"node\":[14,16],\"os\":[\"Linux\"],"
	    "\"include\":[{\"node\":\"16\",\"npm\":8},"
	    "{\"os\":\"linux\",\"cc\":\"gcc\"}],"
	    "\"exclude\":[{\"node\":\"0x0e\"}]}",
	    NULL, "[{\"node\":16,\"os\":\"Linux\",\"npm\":8,\"cc\":\"gcc\"}]");
	{
		json_t *one = json_integer(1), *s = json_string("1.0x");
		json_t *r = json_real(1.0), *e = json_string("");

		assert_true(guts_matrix_loose_equal(one, json_true()));
		assert_true(guts_matrix_loose_equal(r, one));
		assert_false(guts_matrix_loose_equal(s, r));
		assert_true(guts_matrix_loose_equal(e, json_null()));
		json_decref(one);
		json_decref(s);
		json_decref(r);
		json_decref(e);
	}
}

static void test_matrix__limits_combinations_to_256(void **state)
{
	char text[512];

	(void)state;
	/* 16 x 16 = 256 is fine; 16 x 17 = 272 is refused, naming 272. */
	snprintf(text, sizeof(text),
		 "{\"a\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],"
		 "\"b\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}");
	{
		struct guts_matrix m;

		assert_int_equal(expand(&m, text, NULL), 0);
		assert_int_equal(json_array_size(m.legs), 256);
		guts_matrix_release(&m);
	}
	expect_error("{\"a\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],"
		     "\"b\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}",
		     GUTS_EINVAL, "272 combinations; the limit is 256");
	/* Appended include entries count too. */
	expect_error("{\"a\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],"
		     "\"b\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],"
		     "\"include\":[{\"a\":99}]}",
		     GUTS_EINVAL, "257 combinations");
}

static void test_matrix__huge_product_is_refused_before_work(void **state)
{
	(void)state;
	expect_error("{\"a\":[1,2,3,4,5,6,7,8,9,10],\"b\":[1,2,3,4,5,6,7,8,9,"
		     "10],\"c\":[1,2,3,4,5,6,7,8,9,10],\"d\":[1,2,3,4,5,6,7,8,"
		     "9,10],\"e\":[1,2,3,4,5,6,7,8,9,10],\"exclude\":[{\"a\":"
		     "1}]}",
		     GUTS_ETOOBIG, "more than 65536");
}

static void test_matrix__work_is_bounded_for_hostile_excludes(void **state)
{
	json_t *mx = json_object(), *a = json_array(), *ex = json_array();
	struct guts_matrix m = GUTS_MATRIX_INIT;

	(void)state;
	/* 256 x 256 combinations, each tested against 300 excludes. */
	for (int i = 0; i < 256; i++)
		json_array_append_new(a, json_integer(i));
	json_object_set(mx, "a", a);
	json_object_set(mx, "b", a);
	for (int i = 0; i < 300; i++)
		json_array_append_new(ex,
				      json_pack("{s:i, s:i}", "a", -1, "b", i));
	json_object_set_new(mx, "exclude", ex);
	assert_int_equal(guts_matrix_expand(&m, mx, NULL), GUTS_ETOOBIG);
	assert_non_null(strstr(guts_error_message(), "too large to expand"));
	assert_null(m.legs);
	json_decref(a);
	json_decref(mx);
}

static void test_matrix__refuses_what_github_refuses(void **state)
{
	(void)state;
	expect_error("{\"os\":[]}", GUTS_EINVAL,
		     "matrix vector 'os' has no values");
	expect_error("{\"os\":\"linux\"}", GUTS_EINVAL,
		     "matrix vector 'os' must be a sequence");
	expect_error("{\"os\":[\"linux\"],\"exclude\":[{\"arch\":\"x64\"}]}",
		     GUTS_EINVAL,
		     "matrix exclude key 'arch' does not match any key");
	expect_error("{\"os\":[\"linux\"],\"exclude\":[{}]}", GUTS_EINVAL,
		     "exclude entry 1 is empty");
	expect_error("{\"os\":[\"linux\"],\"include\":[{\"a\":1},{}]}",
		     GUTS_EINVAL, "include entry 2 is empty");
	expect_error("{\"os\":[\"linux\"],\"include\":[\"x\"]}", GUTS_EINVAL,
		     "include entry 1 must be a mapping");
	expect_error("{\"os\":[\"linux\"],\"include\":{\"a\":1}}", GUTS_EINVAL,
		     "include must be a sequence");
	expect_error("{}", GUTS_EINVAL, "no vectors and no include entries");
	expect_error("{\"exclude\":[]}", GUTS_EINVAL, "no vectors");
	expect_error("[1]", GUTS_EINVAL, "must be a mapping, not a sequence");
}

static void
test_matrix__expression_matrix_is_evaluated_from_contexts(void **state)
{
	(void)state;
	expect_legs("\"${{ fromJSON(needs.setup.outputs.m) }}\"",
		    "{\"needs\":{\"setup\":{\"outputs\":{\"m\":"
		    "\"{\\\"os\\\":[\\\"a\\\",\\\"b\\\"]}\"}}}}",
		    "[{\"os\":\"a\"},{\"os\":\"b\"}]");
	/* A vector, and a value, may be expressions too. */
	expect_legs("{\"os\":\"${{ fromJSON(inputs.oses) }}\","
		    "\"v\":[\"${{ inputs.v }}\", \"x-${{ inputs.v }}\"]}",
		    "{\"inputs\":{\"oses\":\"[\\\"l\\\"]\",\"v\":3}}",
		    "[{\"os\":\"l\",\"v\":3},{\"os\":\"l\",\"v\":\"x-3\"}]");
}

static void test_matrix__evaluates_like_github_templates(void **state)
{
	(void)state;
	/* A sequence item that is one `${{ }}` giving a sequence is spliced
	 * (act's evalmatrix-merge-array). */
	expect_legs("{\"a\":[\"x\",\"${{ fromJSON('[\\\"y\\\",\\\"z\\\"]') "
		    "}}\"]}",
		    "{}", "[{\"a\":\"x\"},{\"a\":\"y\"},{\"a\":\"z\"}]");
	/* `${{ insert }}` merges a mapping (act's evalmatrix-merge-map). */
	expect_legs("{\"a\":[{\"k1\":1,\"${{ insert }}\":{\"k2\":2},"
		    "\"${{insert}}\":\"${{ fromJSON('{\\\"k3\\\":3}') }}\"}]}",
		    "{}", "[{\"a\":{\"k1\":1,\"k2\":2,\"k3\":3}}]");
	/* A key may be an expression (act's evalmatrixneeds2). */
	expect_legs("{\"${{ inputs.k }}\":[1]}",
		    "{\"inputs\":{\"k\":\"helix\"}}", "[{\"helix\":1}]");
}

static void
test_matrix__unknown_inputs_defer_the_matrix_to_run_time(void **state)
{
	struct guts_matrix m;

	(void)state;
	/* No contexts at all. */
	assert_int_equal(
	    expand(&m, "\"${{ fromJSON(needs.a.outputs.m) }}\"", NULL), 0);
	assert_null(m.legs);
	assert_non_null(m.deferred);
	guts_matrix_release(&m);
	/* Contexts, but not the needed job's results. */
	assert_int_equal(expand(&m,
				"{\"os\":\"${{ fromJSON(needs.a.outputs.m) "
				"}}\"}",
				"{\"needs\":{},\"github\":{}}"),
			 0);
	assert_null(m.legs);
	assert_non_null(strstr(m.deferred, "needs.a"));
	guts_matrix_release(&m);
	/* vars are not known at plan time either. */
	assert_int_equal(expand(&m, "{\"os\":\"${{ fromJSON(vars.OSES) }}\"}",
				"{\"github\":{}}"),
			 0);
	assert_null(m.legs);
	assert_non_null(strstr(m.deferred, "vars"));
	guts_matrix_release(&m);
}

static void test_matrix__failing_expression_is_an_error(void **state)
{
	struct guts_matrix m;

	(void)state;
	assert_int_equal(expand(&m, "\"${{ fromJSON(inputs.m) }}\"",
				"{\"inputs\":{\"m\":\"[1\"}}"),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "fromJSON(inputs.m)"));
	guts_matrix_release(&m);
	/* An expression that gives the wrong shape. */
	assert_int_equal(
	    expand(&m, "\"${{ inputs.m }}\"", "{\"inputs\":{\"m\":\"x\"}}"),
	    GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "must be a mapping"));
	guts_matrix_release(&m);
}

static char *name_of(const char *job, const char *leg_json, size_t keys)
{
	json_t *leg = parse(leg_json);
	char *n = guts_matrix_leg_name(job, leg, keys);

	json_decref(leg);
	return n;
}

static void expect_name(const char *job, const char *leg_json, size_t keys,
			const char *want)
{
	char *got = name_of(job, leg_json, keys);

	if (strcmp(got, want))
		fail_msg("name of %s\n  got  '%s'\n  want '%s'", leg_json, got,
			 want);
	free(got);
}

static void test_matrix__leg_name_lists_values_in_key_order(void **state)
{
	(void)state;
	expect_name("test", "{\"os\":\"ubuntu-latest\",\"node\":18}", 2,
		    "test (ubuntu-latest, 18)");
	/* Keys an include added are not part of the name. */
	expect_name("test", "{\"os\":\"linux\",\"npm\":6}", 1, "test (linux)");
	/* Nested values give their scalars, depth first; null and "" none. */
	expect_name("b",
		    "{\"cfg\":{\"cc\":\"gcc\",\"v\":[1.5,true]},\"x\":null,"
		    "\"y\":\"\",\"z\":false}",
		    4, "b (gcc, 1.5, true, false)");
	expect_name("b", "{\"x\":null}", 1, "b");
	expect_name("b", "{}", 0, "b");
}

static void test_matrix__leg_names_match_expansion_order(void **state)
{
	struct guts_matrix m;
	char *n;

	(void)state;
	assert_int_equal(expand(&m,
				"{\"os\":[\"linux\"],\"include\":[{\"npm\":6},"
				"{\"os\":\"mac\",\"npm\":7}]}",
				NULL),
			 0);
	assert_int_equal(json_array_size(m.legs), 2);
	n = guts_matrix_leg_name("t", json_array_get(m.legs, 0),
				 m.name_keys[0]);
	assert_string_equal(n, "t (linux)");
	free(n);
	/* An appended include entry is named by all of its values. */
	n = guts_matrix_leg_name("t", json_array_get(m.legs, 1),
				 m.name_keys[1]);
	assert_string_equal(n, "t (mac, 7)");
	free(n);
	guts_matrix_release(&m);
}

static void test_matrix__leg_name_is_cut_at_100_characters(void **state)
{
	char leg[400], *n;

	(void)state;
	snprintf(leg, sizeof(leg), "{\"a\":\"%0200d\"}", 0);
	n = name_of("job", leg, 1);
	assert_int_equal(strlen(n), 100);
	assert_string_equal(n + 97, "...");
	assert_memory_equal(n, "job (000", 8);
	free(n);
	/* Characters, not bytes: a multi-byte character is never split. */
	{
		char text[400];
		size_t at;

		at = (size_t)snprintf(text, sizeof(text), "{\"a\":\"");
		for (int i = 0; i < 120; i++)
			at += (size_t)snprintf(text + at, sizeof(text) - at,
					       "\xc3\xa9");
		snprintf(text + at, sizeof(text) - at, "\"}");
		n = name_of("job", text, 1);
	}
	/* "job (" is 5 characters, then 92 of the 2-byte ones, then "...". */
	assert_int_equal(strlen(n), 5 + 92 * 2 + 3);
	free(n);
	/* Exactly 100 characters is left alone. */
	snprintf(leg, sizeof(leg), "{\"a\":\"%094d\"}", 0);
	n = name_of("job", leg, 1);
	assert_int_equal(strlen(n), 100);
	assert_int_equal(n[99], ')');
	free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_matrix__cross_product_first_key_varies_slowest),
	    cmocka_unit_test(
		test_matrix__include_adds_keys_without_overwriting_originals),
	    cmocka_unit_test(
		test_matrix__include_extends_only_the_matching_combination),
	    cmocka_unit_test(test_matrix__exclude_removes_partial_matches),
	    cmocka_unit_test(
		test_matrix__exclude_matches_nested_values_partially),
	    cmocka_unit_test(test_matrix__include_is_applied_after_exclude),
	    cmocka_unit_test(
		test_matrix__include_only_gives_exactly_its_entries),
	    cmocka_unit_test(
		test_matrix__unmatched_include_puts_vector_keys_first),
	    cmocka_unit_test(
		test_matrix__later_include_overwrites_added_values),
	    cmocka_unit_test(
		test_matrix__values_compare_like_the_expression_equals),
	    cmocka_unit_test(test_matrix__limits_combinations_to_256),
	    cmocka_unit_test(test_matrix__huge_product_is_refused_before_work),
	    cmocka_unit_test(test_matrix__work_is_bounded_for_hostile_excludes),
	    cmocka_unit_test(test_matrix__refuses_what_github_refuses),
	    cmocka_unit_test(
		test_matrix__expression_matrix_is_evaluated_from_contexts),
	    cmocka_unit_test(test_matrix__evaluates_like_github_templates),
	    cmocka_unit_test(
		test_matrix__unknown_inputs_defer_the_matrix_to_run_time),
	    cmocka_unit_test(test_matrix__failing_expression_is_an_error),
	    cmocka_unit_test(test_matrix__leg_name_lists_values_in_key_order),
	    cmocka_unit_test(test_matrix__leg_names_match_expansion_order),
	    cmocka_unit_test(test_matrix__leg_name_is_cut_at_100_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
