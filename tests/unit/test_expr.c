/*
 * Unit tests for the ${{ }} expression language (include/guts/expr.h):
 * lexing, parsing and its error positions, GitHub's coercions, every
 * function, templates, introspection, limits and thread safety.  The
 * expected values are what GitHub's reference evaluator returns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/error.h"
#include "guts/expr.h"

static const char contexts_json[] =
    "{\"github\": {\"event_name\": \"push\", \"ref\": \"refs/heads/main\","
    "  \"head_ref\": \"feature\", \"run_number\": 42,"
    "  \"event\": {\"commits\": [{\"message\": \"fix\", \"id\": 1},"
    "                          {\"message\": \"Add\", \"id\": 2}],"
    "             \"pull_request\": {\"title\": \"Title\", \"draft\": false,"
    "                                \"labels\": [\"bug\", \"Docs\"]}}},"
    " \"matrix\": {\"os\": \"linux\", \"node\": [18, 20]},"
    " \"needs\": {\"build\": {\"result\": \"success\","
    "             \"outputs\": {\"json\": \"{\\\"k\\\": [1, 2]}\"}},"
    "           \"test\": {\"result\": \"failure\"}},"
    " \"env\": {\"COUNT\": \"12\", \"EMPTY\": \"\", \"HEX\": \"0x1F\"}}";

static json_t *contexts;

static int setup(void **state)
{
	(void)state;
	contexts = json_loads(contexts_json, 0, NULL);
	return contexts ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(contexts);
	return 0;
}

/* Evaluate with the test contexts; returns the value as one-line JSON. */
static char *eval_json(const char *expr)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_env env = {0};
	struct guts_expr_value v;
	char *s;

	env.contexts = contexts;
	if (guts_expr_eval_string(&v, expr, strlen(expr), NULL, &env, &err)) {
		fail_msg("%s: %s", expr, err.message);
		return NULL;
	}
	s = guts_expr_value_encode(&v, 0, NULL);
	guts_expr_value_release(&v);
	return s;
}

/* Evaluate and coerce to the string ${{ }} would interpolate. */
static char *eval_str(const char *expr)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_env env = {0};
	struct guts_expr_value v;
	char *s;

	env.contexts = contexts;
	if (guts_expr_eval_string(&v, expr, strlen(expr), NULL, &env, &err)) {
		fail_msg("%s: %s", expr, err.message);
		return NULL;
	}
	s = guts_expr_value_to_string(&v, NULL);
	guts_expr_value_release(&v);
	return s;
}

#define assert_eval(expr, json)                   \
	do {                                      \
		char *got__ = eval_json(expr);    \
		assert_string_equal(got__, json); \
		free(got__);                      \
	} while (0)

#define assert_eval_str(expr, str)               \
	do {                                     \
		char *got__ = eval_str(expr);    \
		assert_string_equal(got__, str); \
		free(got__);                     \
	} while (0)

/* Expect an error of @kind whose message is exactly @msg. */
static void expect_error(const char *expr, enum guts_expr_error_kind kind,
			 const char *msg)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_parse_opts opts = {NULL, 0, 0};
	static const char *const names[] = {"github", "matrix", "needs", "env"};
	struct guts_expr_env env = {0};
	struct guts_expr_value v;
	int rc;

	opts.names = names;
	opts.nr_names = 4;
	env.contexts = contexts;
	rc = guts_expr_eval_string(&v, expr, strlen(expr), &opts, &env, &err);
	if (rc == 0) {
		guts_expr_value_release(&v);
		fail_msg("%s: evaluated, expected an error", expr);
	}
	assert_true(rc < 0);
	assert_int_equal(err.kind, kind);
	assert_string_equal(err.message, msg);
	/* The per-thread message says the same. */
	assert_string_equal(guts_error_message(), msg);
	guts_expr_error_release(&err);
}

/* ---- lexer ------------------------------------------------------------- */

static void test_expr__lexes_number_literals_like_javascript(void **state)
{
	(void)state;
	assert_eval("0x1F", "31");
	assert_eval("0o17", "15");
	assert_eval("1.5e3", "1500");
	assert_eval(".5", "0.5");
	assert_eval("-2.5", "-2.5");
	assert_eval("+7", "7");
	assert_eval_str("NaN", "NaN");
	assert_eval_str("-Infinity", "-Infinity");
}

static void test_expr__lexes_strings_with_doubled_quotes(void **state)
{
	(void)state;
	assert_eval("'it''s'", "\"it's\"");
	assert_eval("''", "\"\"");
	/* Every '' is a quote, as in GitHub's runner. */
	assert_eval("'a''b''c'", "\"a'b'c\"");
}

static void test_expr__reports_unexpected_symbols_with_position(void **state)
{
	(void)state;
	expect_error("1 == 0xFZ", GUTS_EXPR_ERR_LEXING,
		     "Unexpected symbol: '0xFZ'. Located at position 6 within "
		     "expression: 1 == 0xFZ");
	expect_error("a =b", GUTS_EXPR_ERR_LEXING,
		     "Unexpected symbol: '=b'. Located at position 3 within "
		     "expression: a =b");
	expect_error("'open", GUTS_EXPR_ERR_LEXING,
		     "Unexpected symbol: ''open'. Located at position 1 within "
		     "expression: 'open");
}

static void test_expr__counts_positions_in_characters_not_bytes(void **state)
{
	(void)state;
	/* 'é' is two bytes, one character; the emoji is two UTF-16 units. */
	expect_error("'é😊' == x", GUTS_EXPR_ERR_PARSING,
		     "Unrecognized named-value: 'x'. Located at position 10 "
		     "within expression: 'é😊' == x");
}

/* ---- parser ------------------------------------------------------------ */

static void test_expr__rejects_unknown_named_values_and_functions(void **state)
{
	(void)state;
	expect_error(
	    "nosuch.foo", GUTS_EXPR_ERR_PARSING,
	    "Unrecognized named-value: 'nosuch'. Located at position 1 "
	    "within expression: nosuch.foo");
	expect_error("github.ref == nope(1)", GUTS_EXPR_ERR_PARSING,
		     "Unrecognized function: 'nope'. Located at position 15 "
		     "within expression: github.ref == nope(1)");
	/* Status functions exist only when the caller says so. */
	expect_error("success()", GUTS_EXPR_ERR_PARSING,
		     "Unrecognized function: 'success'. Located at position 1 "
		     "within expression: success()");
}

static void test_expr__checks_argument_counts(void **state)
{
	(void)state;
	expect_error("contains('a')", GUTS_EXPR_ERR_PARSING,
		     "Too few parameters supplied: 'contains'. Located at "
		     "position 1 within expression: contains('a')");
	expect_error("toJSON(1, 2)", GUTS_EXPR_ERR_PARSING,
		     "Too many parameters supplied: 'toJSON'. Located at "
		     "position 1 within expression: toJSON(1, 2)");
	expect_error("case(true, 1, 2, 3)", GUTS_EXPR_ERR_PARSING,
		     "Even number of parameters supplied, requires an odd "
		     "number of parameters: 'case'. Located at position 1 "
		     "within expression: case(true, 1, 2, 3)");
}

static void test_expr__reports_unexpected_end_and_trailing_tokens(void **state)
{
	(void)state;
	expect_error(
	    "1 ==", GUTS_EXPR_ERR_PARSING,
	    "Unexpected end of expression: '=='. Located at position 3 "
	    "within expression: 1 ==");
	expect_error("1 2", GUTS_EXPR_ERR_PARSING,
		     "Unexpected symbol: '2'. Located at position 3 within "
		     "expression: 1 2");
	expect_error("('a'", GUTS_EXPR_ERR_PARSING,
		     "Unexpected end of expression: 'a'. Located at position 2 "
		     "within expression: ('a'");
}

static void test_expr__parses_empty_expression_as_null(void **state)
{
	(void)state;
	assert_eval("", "null");
	assert_eval("   ", "null");
}

static void test_expr__accepts_function_names_in_any_case(void **state)
{
	(void)state;
	assert_eval("TOJSON(1)", "\"1\"");
	assert_eval("StartsWith('abc', 'A')", "true");
	/* A trailing comma in a call is allowed, as upstream. */
	assert_eval("format('{0}', 'x',)", "\"x\"");
}

static void test_expr__applies_operator_precedence(void **state)
{
	(void)state;
	assert_eval("true || false && false", "true");
	assert_eval("!false == true", "true");
	assert_eval("1 < 2 == true", "true");
	assert_eval("(1 == 1) != (2 == 3)", "true");
}

/* ---- coercion and comparison ------------------------------------------- */

static void test_expr__compares_strings_case_insensitively(void **state)
{
	(void)state;
	assert_eval("'ABC' == 'abc'", "true");
	assert_eval("matrix.os == 'LINUX'", "true");
	assert_eval("'b' > 'A'", "true");
	/* JavaScript's full upper-casing: ß is SS, Σ and ς are one letter. */
	assert_eval("'straße' == 'STRASSE'", "true");
	assert_eval("'ς' == 'Σ'", "true");
	/* The dotless i stays as it is. */
	assert_eval("'ı' == 'I'", "false");
}

static void test_expr__coerces_strings_to_numbers_for_comparison(void **state)
{
	(void)state;
	assert_eval("env.COUNT == 12", "true");
	assert_eval("env.HEX == 31", "true");
	assert_eval("env.EMPTY == 0", "true");
	assert_eval("'abc' == 0", "false");
	assert_eval("' 12 ' < 13", "true");
}

static void test_expr__coerces_null_and_booleans_to_numbers(void **state)
{
	(void)state;
	assert_eval("null == 0", "true");
	assert_eval("true == 1", "true");
	assert_eval("false == ''", "true");
	assert_eval("null == ''", "true");
	assert_eval("github.nosuch == null", "true");
}

static void test_expr__never_equates_nan(void **state)
{
	(void)state;
	assert_eval("NaN == NaN", "false");
	assert_eval("NaN != NaN", "true");
	assert_eval("'x' >= 1", "false");
}

static void test_expr__compares_arrays_and_objects_by_reference(void **state)
{
	(void)state;
	assert_eval("github.event == github.event", "true");
	assert_eval("fromJSON('[]') == fromJSON('[]')", "false");
	assert_eval("matrix == 'Object'", "false");
}

static void test_expr__short_circuits_and_returns_the_operand(void **state)
{
	(void)state;
	assert_eval("'' || 'default'", "\"default\"");
	assert_eval("matrix.os && 'yes'", "\"yes\"");
	assert_eval("0 && fromJSON('')", "0");
	assert_eval("github.ref || fromJSON('')", "\"refs/heads/main\"");
	assert_eval("!'' && !0 && !null && !NaN", "true");
}

static void test_expr__formats_numbers_like_github(void **state)
{
	(void)state;
	assert_eval_str("1.0", "1");
	assert_eval_str("1e21", "1e+21");
	assert_eval_str("1e-7", "1e-7");
	assert_eval_str("0.000001", "0.000001");
	assert_eval_str("-0", "0");
	/* Rounded to 15 decimals first... */
	assert_eval_str("0.1234567890123456789", "0.123456789012346");
	/* ...with a tie rounding away from zero, like toFixed. */
	assert_eval_str("0.0000152587890625", "0.000015258789063");
	/* JSON keeps the double's shortest form. */
	assert_eval("0.1234567890123456789", "0.12345678901234568");
}

static void test_expr__coerces_values_to_strings(void **state)
{
	(void)state;
	assert_eval_str("null", "");
	assert_eval_str("true", "true");
	assert_eval_str("github.event", "Object");
	assert_eval_str("matrix.node", "Array");
}

/* ---- property and index access ----------------------------------------- */

static void test_expr__looks_up_contexts_case_insensitively(void **state)
{
	(void)state;
	assert_eval("GITHUB.Event_Name", "\"push\"");
	assert_eval("github['REF']", "\"refs/heads/main\"");
	/* The first key equal after lowercasing wins. */
	assert_eval("fromJSON('{\"A\": 1, \"a\": 2}').a", "1");
}

static void test_expr__indexes_arrays_with_coerced_numbers(void **state)
{
	(void)state;
	assert_eval("matrix.node[1]", "20");
	assert_eval("matrix.node['0']", "18");
	assert_eval("matrix.node[1.9]", "20");
	assert_eval("matrix.node[2]", "null");
	assert_eval("matrix.node[-1]", "null");
	assert_eval("github.event.commits[1].message", "\"Add\"");
	assert_eval("github.ref[0]", "null");
}

static void test_expr__filters_with_star(void **state)
{
	(void)state;
	assert_eval("github.event.commits.*.message", "[\"fix\",\"Add\"]");
	assert_eval("github.event.commits[*].id", "[1,2]");
	assert_eval("needs.*.result", "[\"success\",\"failure\"]");
	assert_eval("contains(needs.*.result, 'FAILURE')", "true");
	assert_eval("github.ref.*", "[]");
	assert_eval("toJSON(fromJSON('[[1,2],{\"a\":3},4]').*.*)",
		    "\"[\\n  1,\\n  2,\\n  3\\n]\"");
}

/* ---- functions --------------------------------------------------------- */

static void test_expr__contains_searches_strings_and_arrays(void **state)
{
	(void)state;
	assert_eval("contains('Hello World', 'WORLD')", "true");
	assert_eval("contains(github.event.pull_request.labels, 'docs')",
		    "true");
	assert_eval("contains(matrix.node, '20')", "true");
	assert_eval("contains(matrix, 'os')", "false");
	assert_eval("contains(123, 2)", "true");
}

static void test_expr__starts_and_ends_with_ignore_case(void **state)
{
	(void)state;
	assert_eval("startsWith(github.ref, 'REFS/heads/')", "true");
	assert_eval("endsWith('asdf_ς', 'Σ')", "true");
	assert_eval("endsWith(matrix, 'x')", "false");
	assert_eval("startsWith('abc', '')", "true");
}

static void test_expr__format_replaces_and_escapes_braces(void **state)
{
	(void)state;
	assert_eval("format('{0} {1} {0}', 'a', 1.5)", "\"a 1.5 a\"");
	assert_eval("format('{{0}} }}{{', 'x')", "\"{0} }{\"");
	assert_eval("format('{0:x}', 'y')", "\"y\"");
	expect_error("format('{0}{1}', 'a')", GUTS_EXPR_ERR_EVALUATION,
		     "The following format string references more arguments "
		     "than were supplied: {0}{1}");
	expect_error("format('{0', 'a')", GUTS_EXPR_ERR_EVALUATION,
		     "The following format string is invalid: {0");
	expect_error("format('}', 'a')", GUTS_EXPR_ERR_EVALUATION,
		     "The following format string is invalid: }");
}

static void test_expr__join_coerces_items(void **state)
{
	(void)state;
	assert_eval("join(matrix.node)", "\"18,20\"");
	assert_eval("join(fromJSON('[1,null,true,[1]]'), ' | ')",
		    "\"1 |  | true | Array\"");
	assert_eval("join('abc', '-')", "\"abc\"");
	assert_eval("join(github.event)", "\"\"");
}

static void test_expr__tojson_pretty_prints_like_json_stringify(void **state)
{
	char *s;

	(void)state;
	s = eval_str("toJSON(fromJSON('{\"b\":[1,{\"c\":null}],\"2\":\"x\","
		     "\"1\":true,\"e\":{},\"f\":[]}'))");
	/* Array-index keys come first, as in JavaScript. */
	assert_string_equal(s, "{\n  \"1\": true,\n  \"2\": \"x\",\n"
			       "  \"b\": [\n    1,\n    {\n      \"c\": null\n"
			       "    }\n  ],\n  \"e\": {},\n  \"f\": []\n}");
	free(s);
	assert_eval_str("toJSON('a\"\\\n')", "\"a\\\"\\\\\\n\"");
	assert_eval_str("toJSON(NaN)", "null");
}

static void test_expr__fromjson_parses_and_reports_errors(void **state)
{
	(void)state;
	assert_eval("fromJSON(needs.build.outputs.json).k[1]", "2");
	assert_eval("fromJSON('true')", "true");
	assert_eval("fromJSON(' \"s\" ')", "\"s\"");
	assert_eval_str("fromJSON('1e400')", "Infinity");
	expect_error("fromJSON('  ')", GUTS_EXPR_ERR_EVALUATION, "empty input");
	expect_error("fromJSON('{')", GUTS_EXPR_ERR_EVALUATION,
		     "Error parsing JSON when evaluating fromJson");
	/* An index whose evaluation fails says so. */
	expect_error("github[fromJSON('')]", GUTS_EXPR_ERR_EVALUATION,
		     "could not evaluate index for index access: empty input");
}

static void test_expr__case_picks_first_true_predicate(void **state)
{
	(void)state;
	assert_eval("case(false, 'a', true, 'b', 'c')", "\"b\"");
	assert_eval("case(matrix.os == 'mac', 1, 2)", "2");
	expect_error("case(1, 'a', 'b')", GUTS_EXPR_ERR_EVALUATION,
		     "case predicate must evaluate to a boolean value");
}

static enum guts_expr_status status_cb(void *data)
{
	return *(enum guts_expr_status *)data;
}

static int hash_files_cb(char **out, const char *const *patterns, size_t nr,
			 void *data)
{
	(void)data;
	if (nr == 2 && !strcmp(patterns[1], "fail"))
		return guts_error(GUTS_EIO, "cannot read %s", patterns[0]);
	*out = strdup(patterns[0]);
	return *out ? 0 : GUTS_EIO;
}

static void eval_with_status(const char *expr, enum guts_expr_status st,
			     const char *want_json)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_parse_opts opts = {
	    NULL, 0, GUTS_EXPR_STATUS_FUNCTIONS | GUTS_EXPR_HASHFILES};
	struct guts_expr_env env = {0};
	struct guts_expr_value v;
	char *s;

	env.status = status_cb;
	env.status_data = &st;
	env.hash_files = hash_files_cb;
	assert_int_equal(
	    guts_expr_eval_string(&v, expr, strlen(expr), &opts, &env, &err),
	    0);
	s = guts_expr_value_encode(&v, 0, NULL);
	assert_string_equal(s, want_json);
	free(s);
	guts_expr_value_release(&v);
}

static void test_expr__status_functions_ask_the_callback(void **state)
{
	(void)state;
	eval_with_status("success()", GUTS_EXPR_STATUS_SUCCESS, "true");
	eval_with_status("success()", GUTS_EXPR_STATUS_FAILURE, "false");
	eval_with_status("failure() && !cancelled()", GUTS_EXPR_STATUS_FAILURE,
			 "true");
	eval_with_status("cancelled()", GUTS_EXPR_STATUS_CANCELLED, "true");
	eval_with_status("always()", GUTS_EXPR_STATUS_CANCELLED, "true");
	eval_with_status("hashFiles('**/*.lock')", GUTS_EXPR_STATUS_SUCCESS,
			 "\"**/*.lock\"");
}

static void test_expr__hashfiles_errors_become_evaluation_errors(void **state)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_parse_opts opts = {NULL, 0, GUTS_EXPR_HASHFILES};
	struct guts_expr_env env = {0};
	struct guts_expr_value v;
	const char *expr = "hashFiles('x', 'fail')";

	(void)state;
	env.hash_files = hash_files_cb;
	assert_int_equal(
	    guts_expr_eval_string(&v, expr, strlen(expr), &opts, &env, &err),
	    GUTS_EIO);
	assert_int_equal(err.kind, GUTS_EXPR_ERR_EVALUATION);
	assert_string_equal(err.message, "cannot read x");
	guts_expr_error_release(&err);
}

/* ---- values ------------------------------------------------------------ */

static void test_expr__value_helpers_report_kind_and_truthiness(void **state)
{
	struct guts_expr_value v = {0};
	json_t *j;
	char *s;

	(void)state;
	assert_string_equal(guts_expr_kind_name(v.kind), "Null");
	assert_false(guts_expr_value_truthy(&v));
	guts_expr_value_set_number(&v, NAN);
	assert_false(guts_expr_value_truthy(&v));
	j = guts_expr_value_to_json(&v);
	assert_true(json_is_null(j));
	json_decref(j);
	guts_expr_value_set_string(&v, "x", 1);
	assert_true(guts_expr_value_truthy(&v));
	assert_string_equal(guts_expr_kind_name(v.kind), "String");
	guts_expr_value_release(&v);
	j = json_pack("{s:[i,f]}", "a", 1, 2.5);
	guts_expr_value_set_json(&v, j);
	json_decref(j);
	s = guts_expr_value_encode(&v, 0, NULL);
	assert_string_equal(s, "{\"a\":[1,2.5]}");
	free(s);
	assert_int_equal(v.kind, GUTS_EXPR_OBJECT);
	guts_expr_value_release(&v);
	assert_int_equal(v.kind, GUTS_EXPR_NULL);
}

/* ---- templates --------------------------------------------------------- */

static void test_expr__template_scan_reports_segment_offsets(void **state)
{
	struct guts_expr_segment *segs = NULL;
	const char *t = "a ${{ x }}b${{y}}";
	size_t nr = 0;

	(void)state;
	assert_int_equal(
	    guts_expr_template_scan(&segs, &nr, t, strlen(t), NULL), 0);
	assert_int_equal(nr, 4);
	assert_int_equal(segs[0].kind, GUTS_EXPR_SEGMENT_TEXT);
	assert_int_equal(segs[0].offset, 0);
	assert_int_equal(segs[0].len, 2);
	assert_int_equal(segs[1].kind, GUTS_EXPR_SEGMENT_EXPR);
	assert_int_equal(segs[1].offset, 5);
	assert_int_equal(segs[1].len, 3);
	assert_int_equal(segs[1].outer_offset, 2);
	assert_int_equal(segs[1].outer_len, 8);
	assert_int_equal(segs[2].kind, GUTS_EXPR_SEGMENT_TEXT);
	assert_int_equal(segs[2].offset, 10);
	assert_int_equal(segs[3].offset, 14);
	assert_int_equal(segs[3].len, 1);
	free(segs);
}

static void test_expr__template_ignores_braces_in_string_literals(void **state)
{
	struct guts_expr_env env = {0};
	const char *t = "<${{ format('{{0}}}}', 'x') }}>";
	char *out = NULL;

	(void)state;
	env.contexts = contexts;
	assert_int_equal(
	    guts_expr_template_eval(&out, NULL, t, strlen(t), NULL, &env, NULL),
	    0);
	assert_string_equal(out, "<{0}}>");
	free(out);
}

static void test_expr__template_interpolates_coerced_values(void **state)
{
	struct guts_expr_env env = {0};
	const char *t = "os=${{ matrix.os }} n=${{ github.run_number }} "
			"e=${{ github.event }}${{ null }}!";
	char *out = NULL;
	size_t len;

	(void)state;
	env.contexts = contexts;
	assert_int_equal(
	    guts_expr_template_eval(&out, &len, t, strlen(t), NULL, &env, NULL),
	    0);
	assert_string_equal(out, "os=linux n=42 e=Object!");
	assert_int_equal(len, strlen(out));
	free(out);
}

static void test_expr__template_single_expression_keeps_its_type(void **state)
{
	struct guts_expr_env env = {0};
	struct guts_expr_value v;
	size_t off = 0, len = 0;
	const char *t = "${{ fromJSON('[1, 2]') }}";

	(void)state;
	assert_true(guts_expr_template_is_single(t, strlen(t), &off, &len));
	assert_int_equal(off, 3);
	assert_int_equal(len, strlen(t) - 5);
	assert_false(guts_expr_template_is_single(" ${{ 1 }}", 9, NULL, NULL));
	assert_false(
	    guts_expr_template_is_single("${{ 1 }}${{ 2 }}", 16, NULL, NULL));
	env.contexts = contexts;
	assert_int_equal(
	    guts_expr_template_eval_value(&v, t, strlen(t), NULL, &env, NULL),
	    0);
	assert_int_equal(v.kind, GUTS_EXPR_ARRAY);
	guts_expr_value_release(&v);
	assert_int_equal(guts_expr_template_eval_value(&v, "x ${{ 1 }}", 10,
						       NULL, &env, NULL),
			 0);
	assert_int_equal(v.kind, GUTS_EXPR_STRING);
	assert_string_equal(v.u.string.ptr, "x 1");
	guts_expr_value_release(&v);
}

static void test_expr__template_errors_point_into_the_template(void **state)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_segment *segs = NULL;
	struct guts_expr_parse_opts opts = {NULL, 0, 0};
	static const char *const names[] = {"matrix"};
	const char *t = "run ${{ matrix.os }} ${{  bad.x }}";
	char *out = NULL;
	size_t nr;

	(void)state;
	assert_int_equal(
	    guts_expr_template_scan(&segs, &nr, "a ${{ b", 7, &err),
	    GUTS_EINVAL);
	assert_int_equal(err.offset, 2);
	assert_non_null(strstr(err.message, "The expression is not closed"));
	assert_int_equal(
	    guts_expr_template_scan(&segs, &nr, "${{  }}", 7, &err),
	    GUTS_EINVAL);
	assert_string_equal(err.message, "An expression was expected");
	opts.names = names;
	opts.nr_names = 1;
	assert_int_equal(guts_expr_template_eval(&out, NULL, t, strlen(t),
						 &opts, NULL, &err),
			 GUTS_EINVAL);
	assert_int_equal(err.kind, GUTS_EXPR_ERR_PARSING);
	/* The byte offset of "bad" in the template. */
	assert_int_equal(err.offset, 26);
	assert_string_equal(err.message,
			    "Unrecognized named-value: 'bad'. Located at "
			    "position 1 within expression: bad.x");
	guts_expr_error_release(&err);
}

/* ---- introspection ----------------------------------------------------- */

struct seen {
	char refs[512];
	char calls[256];
};

static int on_ref(const char *path, size_t offset, void *data)
{
	struct seen *s = data;
	size_t n = strlen(s->refs);

	snprintf(s->refs + n, sizeof(s->refs) - n, "%s@%zu;", path, offset);
	return 0;
}

static int on_call(const char *name, size_t nr_args, size_t offset, void *data)
{
	struct seen *s = data;
	size_t n = strlen(s->calls);

	(void)offset;
	snprintf(s->calls + n, sizeof(s->calls) - n, "%s/%zu;", name, nr_args);
	return 0;
}

static void test_expr__walk_reports_context_paths_and_calls(void **state)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr *e = NULL;
	struct seen seen = {"", ""};
	const char *src = "contains(GitHub.Event.Pull_Request.TITLE, 'x') || "
			  "github.event.commits[0].message == "
			  "needs.build.outputs['X'] && "
			  "toJSON(github.event[matrix.key].*.body)";

	(void)state;
	assert_int_equal(guts_expr_parse(&e, src, strlen(src), NULL, &err), 0);
	assert_int_equal(guts_expr_walk(e, on_ref, on_call, &seen), 0);
	assert_string_equal(seen.refs, "github.event.pull_request.title@9;"
				       "github.event.commits.*.message@50;"
				       "needs.build.outputs.x@85;"
				       "github.event.*.*.body@120;"
				       "matrix.key@133;");
	assert_string_equal(seen.calls, "contains/2;tojson/1;");
	guts_expr_free(e);
}

static int stop_at_first(const char *path, size_t offset, void *data)
{
	(void)path;
	(void)offset;
	++*(int *)data;
	return 7;
}

static void test_expr__walk_stops_when_a_callback_says_so(void **state)
{
	struct guts_expr *e = NULL;
	int calls = 0;

	(void)state;
	assert_int_equal(guts_expr_parse(&e, "a.b && c.d", 10, NULL, NULL), 0);
	assert_int_equal(guts_expr_walk(e, stop_at_first, NULL, &calls), 7);
	assert_int_equal(calls, 1);
	guts_expr_free(e);
}

/* ---- limits ------------------------------------------------------------ */

static char *repeat(const char *head, const char *unit, size_t n,
		    const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(hl + ul * n + tl + 1), *p = s;

	assert_non_null(s);
	memcpy(p, head, hl);
	p += hl;
	for (size_t i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	return s;
}

static void test_expr__limits_nesting_depth_to_50(void **state)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr *e = NULL;
	char *ok = repeat("", "!", 48, "true");
	char *deep = repeat("", "!", 60, "true");

	(void)state;
	assert_int_equal(guts_expr_parse(&e, ok, strlen(ok), NULL, &err), 0);
	guts_expr_free(e);
	assert_int_equal(guts_expr_parse(&e, deep, strlen(deep), NULL, &err),
			 GUTS_EINVAL);
	assert_non_null(
	    strstr(err.message, "Exceeded max expression depth 50"));
	guts_expr_error_release(&err);
	free(ok);
	free(deep);
}

static void test_expr__limits_expression_length(void **state)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr *e = NULL;
	char *s = repeat("'", "a", GUTS_EXPR_MAX_LENGTH, "'");

	(void)state;
	assert_int_equal(guts_expr_parse(&e, s, strlen(s), NULL, &err),
			 GUTS_ETOOBIG);
	assert_int_equal(err.kind, GUTS_EXPR_ERR_LEXING);
	guts_expr_error_release(&err);
	free(s);
}

static void test_expr__long_comparison_chains_use_no_stack(void **state)
{
	/* ~7000 operators: as tall a tree as the length limit allows. */
	char *s = repeat("1", "==1", 6900, "");

	(void)state;
	assert_eval(s, "true");
	free(s);
}

static void test_expr__caps_memory_of_built_strings(void **state)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_env env = {0};
	struct guts_expr_value v;
	const char *src = "format('{0}{0}{0}{0}{0}{0}{0}{0}', "
			  "format('{0}{0}{0}{0}{0}{0}{0}{0}', toJSON(github)))";

	(void)state;
	env.contexts = contexts;
	env.max_memory = (size_t)16 * 1024;
	assert_int_equal(
	    guts_expr_eval_string(&v, src, strlen(src), NULL, &env, &err),
	    GUTS_ETOOBIG);
	assert_string_equal(err.message,
			    "The maximum allowed memory size was exceeded");
	env.max_memory = 0; /* the default, 1 MiB, is plenty here */
	assert_int_equal(
	    guts_expr_eval_string(&v, src, strlen(src), NULL, &env, &err), 0);
	guts_expr_value_release(&v);
	guts_expr_error_release(&err);
}

/* ---- threads ----------------------------------------------------------- */

struct thread_arg {
	const struct guts_expr *e;
	json_t *ctx;
	int ok;
};

static void *eval_many(void *p)
{
	struct thread_arg *a = p;
	struct guts_expr_env env = {0};

	env.contexts = a->ctx;
	a->ok = 1;
	for (int i = 0; i < 2000; i++) {
		struct guts_expr_value v;

		if (guts_expr_eval(&v, a->e, &env, NULL) ||
		    v.kind != GUTS_EXPR_STRING ||
		    strcmp(v.u.string.ptr, "linux-x") != 0)
			a->ok = 0;
		guts_expr_value_release(&v);
	}
	return NULL;
}

static void test_expr__evaluates_a_shared_expression_from_threads(void **state)
{
	struct guts_expr *e = NULL;
	const char *src = "format('{0}-{1}', matrix.os, fromJSON('\"x\"'))";
	struct thread_arg args[4];
	pthread_t th[4];

	(void)state;
	assert_int_equal(guts_expr_parse(&e, src, strlen(src), NULL, NULL), 0);
	for (int i = 0; i < 4; i++) {
		args[i].e = e;
		args[i].ctx = json_deep_copy(contexts);
		assert_int_equal(
		    pthread_create(&th[i], NULL, eval_many, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(args[i].ok);
		json_decref(args[i].ctx);
	}
	guts_expr_free(e);
}

static enum guts_expr_status only_build_failed(const char *const *jobs,
					       size_t nr, void *data)
{
	(void)data;
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(jobs[i], "build"))
			return GUTS_EXPR_STATUS_FAILURE;
	return GUTS_EXPR_STATUS_SUCCESS;
}

static void test_expr__job_status_functions_take_job_ids(void **state)
{
	struct guts_expr_parse_opts o = { NULL, 0, GUTS_EXPR_STATUS_FUNCTIONS };
	struct guts_expr_env env = { 0 };
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_value v = { 0 };
	struct guts_expr *e = NULL;

	(void)state;
	/* Without the flag, success() takes no arguments. */
	assert_int_equal(guts_expr_parse(&e, "success('build')", 16, &o, &err),
			 GUTS_EINVAL);
	assert_non_null(strstr(err.message, "Too many parameters"));
	guts_expr_error_release(&err);
	o.flags |= GUTS_EXPR_STATUS_JOB_ARGS;
	env.job_status = only_build_failed;
	assert_int_equal(guts_expr_eval_string(&v, "success('lint', 'test')",
					       23, &o, &env, &err),
			 0);
	assert_true(v.u.boolean);
	assert_int_equal(guts_expr_eval_string(&v, "failure('build')", 16, &o,
					       &env, &err),
			 0);
	assert_true(v.u.boolean);
	assert_int_equal(guts_expr_eval_string(&v, "success('build', 'x')", 21,
					       &o, &env, &err),
			 0);
	assert_false(v.u.boolean);
	/* cancelled() and always() still take none. */
	assert_int_equal(guts_expr_parse(&e, "always('x')", 11, &o, &err),
			 GUTS_EINVAL);
	guts_expr_error_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expr__lexes_number_literals_like_javascript),
	    cmocka_unit_test(test_expr__lexes_strings_with_doubled_quotes),
	    cmocka_unit_test(
		test_expr__reports_unexpected_symbols_with_position),
	    cmocka_unit_test(
		test_expr__counts_positions_in_characters_not_bytes),
	    cmocka_unit_test(
		test_expr__rejects_unknown_named_values_and_functions),
	    cmocka_unit_test(test_expr__checks_argument_counts),
	    cmocka_unit_test(
		test_expr__reports_unexpected_end_and_trailing_tokens),
	    cmocka_unit_test(test_expr__parses_empty_expression_as_null),
	    cmocka_unit_test(test_expr__accepts_function_names_in_any_case),
	    cmocka_unit_test(test_expr__applies_operator_precedence),
	    cmocka_unit_test(test_expr__compares_strings_case_insensitively),
	    cmocka_unit_test(
		test_expr__coerces_strings_to_numbers_for_comparison),
	    cmocka_unit_test(test_expr__coerces_null_and_booleans_to_numbers),
	    cmocka_unit_test(test_expr__never_equates_nan),
	    cmocka_unit_test(
		test_expr__compares_arrays_and_objects_by_reference),
	    cmocka_unit_test(test_expr__short_circuits_and_returns_the_operand),
	    cmocka_unit_test(test_expr__formats_numbers_like_github),
	    cmocka_unit_test(test_expr__coerces_values_to_strings),
	    cmocka_unit_test(test_expr__looks_up_contexts_case_insensitively),
	    cmocka_unit_test(test_expr__indexes_arrays_with_coerced_numbers),
	    cmocka_unit_test(test_expr__filters_with_star),
	    cmocka_unit_test(test_expr__contains_searches_strings_and_arrays),
	    cmocka_unit_test(test_expr__starts_and_ends_with_ignore_case),
	    cmocka_unit_test(test_expr__format_replaces_and_escapes_braces),
	    cmocka_unit_test(test_expr__join_coerces_items),
	    cmocka_unit_test(
		test_expr__tojson_pretty_prints_like_json_stringify),
	    cmocka_unit_test(test_expr__fromjson_parses_and_reports_errors),
	    cmocka_unit_test(test_expr__case_picks_first_true_predicate),
	    cmocka_unit_test(test_expr__status_functions_ask_the_callback),
	    cmocka_unit_test(
		test_expr__hashfiles_errors_become_evaluation_errors),
	    cmocka_unit_test(
		test_expr__value_helpers_report_kind_and_truthiness),
	    cmocka_unit_test(test_expr__template_scan_reports_segment_offsets),
	    cmocka_unit_test(
		test_expr__template_ignores_braces_in_string_literals),
	    cmocka_unit_test(test_expr__template_interpolates_coerced_values),
	    cmocka_unit_test(
		test_expr__template_single_expression_keeps_its_type),
	    cmocka_unit_test(
		test_expr__template_errors_point_into_the_template),
	    cmocka_unit_test(test_expr__walk_reports_context_paths_and_calls),
	    cmocka_unit_test(test_expr__walk_stops_when_a_callback_says_so),
	    cmocka_unit_test(test_expr__limits_nesting_depth_to_50),
	    cmocka_unit_test(test_expr__limits_expression_length),
	    cmocka_unit_test(test_expr__long_comparison_chains_use_no_stack),
	    cmocka_unit_test(test_expr__caps_memory_of_built_strings),
	    cmocka_unit_test(test_expr__job_status_functions_take_job_ids),
	    cmocka_unit_test(
		test_expr__evaluates_a_shared_expression_from_threads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
