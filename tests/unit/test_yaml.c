/* Unit tests for the YAML loader: positions, schema, anchors, caps, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/buf.h"
#include "guts/yaml.h"

static struct guts_yaml_doc *load_ok(const char *text)
{
	struct guts_yaml_doc *doc = NULL;
	struct guts_diags d;

	guts_diags_init(&d, "t.yml");
	assert_int_equal(guts_yaml_load(&doc, text, strlen(text), &d), 0);
	assert_int_equal(d.errors, 0);
	guts_diags_release(&d);
	return doc;
}

/* Loads @text expecting failure or errors; returns the first error's message.
 */
static char *load_err(const char *text, unsigned *line, unsigned *col)
{
	struct guts_yaml_doc *doc = NULL;
	struct guts_diags d;
	char *msg;

	guts_diags_init(&d, "t.yml");
	guts_yaml_load(&doc, text, strlen(text), &d);
	assert_true(d.errors > 0);
	msg = strdup(d.v[0].message);
	*line = d.v[0].line;
	*col = d.v[0].col;
	guts_diags_release(&d);
	guts_yaml_free(doc);
	return msg;
}

static void test_yaml__nodes_carry_line_and_column(void **state)
{
	struct guts_yaml_doc *doc =
	    load_ok("on: push\njobs:\n  build:\n    runs-on: [a, b]\n");
	struct guts_yaml_node *jobs, *build, *ro;

	(void)state;
	assert_int_equal(doc->root->type, GUTS_YAML_MAP);
	jobs = guts_yaml_get(doc->root, "jobs");
	assert_int_equal(jobs->line, 3);
	assert_int_equal(jobs->col, 3);
	build = guts_yaml_get(jobs, "build");
	ro = guts_yaml_get(build, "runs-on");
	assert_int_equal(ro->type, GUTS_YAML_SEQ);
	assert_int_equal(ro->nr, 2);
	assert_int_equal(ro->items[1]->line, 4);
	assert_int_equal(ro->items[1]->col, 18);
	assert_int_equal(doc->root->pairs[1].key->line, 2);
	guts_yaml_free(doc);
}

static void test_yaml__on_is_a_string_key_not_a_boolean(void **state)
{
	struct guts_yaml_doc *doc = load_ok("on: yes\noff: on\n");

	(void)state;
	assert_non_null(guts_yaml_get(doc->root, "on"));
	assert_int_equal(guts_yaml_get(doc->root, "on")->scalar, GUTS_YAML_STR);
	assert_int_equal(guts_yaml_get(doc->root, "off")->scalar,
			 GUTS_YAML_STR);
	guts_yaml_free(doc);
}

static void test_yaml__resolves_core_schema_scalars(void **state)
{
	struct guts_yaml_doc *doc =
	    load_ok("[true, FALSE, True, null, ~, !!null , 0x1F, 0o17, 0755, "
		    "-12, 1.5e3,"
		    " .inf, -.INF, .nan, 12_345, '1', !!str 2, !!int 7, yes]");
	struct guts_yaml_node **v;

	(void)state;
	v = doc->root->items;
	assert_int_equal(v[0]->scalar, GUTS_YAML_BOOL);
	assert_true(v[0]->boolean);
	assert_false(v[1]->boolean);
	assert_true(v[2]->boolean);
	assert_int_equal(v[3]->scalar, GUTS_YAML_NULL);
	assert_int_equal(v[4]->scalar, GUTS_YAML_NULL);
	assert_int_equal(v[5]->scalar, GUTS_YAML_NULL);
	assert_true(v[6]->number == 31);
	assert_true(v[7]->number == 15);
	assert_true(v[8]->number == 755);
	assert_true(v[9]->number == -12);
	assert_true(v[10]->number == 1500);
	assert_true(isinf(v[11]->number) && v[11]->number > 0);
	assert_true(isinf(v[12]->number) && v[12]->number < 0);
	assert_true(isnan(v[13]->number));
	assert_int_equal(v[14]->scalar, GUTS_YAML_STR);
	assert_int_equal(v[15]->scalar, GUTS_YAML_STR);
	assert_int_equal(v[16]->scalar, GUTS_YAML_STR);
	assert_int_equal(v[17]->scalar, GUTS_YAML_NUMBER);
	assert_int_equal(v[18]->scalar, GUTS_YAML_STR);
	guts_yaml_free(doc);
}

static void test_yaml__bad_explicit_tags_are_errors(void **state)
{
	unsigned line, col;
	char *m;

	(void)state;
	m = load_err("a: !!int test\n", &line, &col);
	assert_non_null(strstr(m, "invalid for the type"));
	assert_int_equal(line, 1);
	assert_int_equal(col, 4);
	free(m);
	m = load_err("a: !!int \"300\"\n", &line, &col);
	assert_non_null(strstr(m, "DoubleQuoted"));
	free(m);
	m = load_err("a: !!timestamp 2001-12-14\n", &line, &col);
	assert_non_null(strstr(m, "unsupported YAML tag"));
	free(m);
}

static void test_yaml__anchors_and_aliases_copy_nodes(void **state)
{
	struct guts_yaml_doc *doc =
	    load_ok("base: &b {x: 1, y: [a]}\nuse: *b\n");
	struct guts_yaml_node *use;

	(void)state;
	use = guts_yaml_get(doc->root, "use");
	assert_int_equal(use->type, GUTS_YAML_MAP);
	assert_true(guts_yaml_get(use, "x")->number == 1);
	assert_true(guts_yaml_is(guts_yaml_get(use, "y")->items[0], "a"));
	guts_yaml_free(doc);
}

static void test_yaml__alias_bomb_is_refused(void **state)
{
	const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
			   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
			   "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
	unsigned line, col;
	char *m;

	(void)state;
	m = load_err(bomb, &line, &col);
	assert_non_null(strstr(m, "aliases expand to more than"));
	free(m);
}

/* Few nodes, many bytes: a 100 KB string aliased 50 times. */
static void test_yaml__long_string_alias_bomb_is_refused(void **state)
{
	struct guts_buf t;
	unsigned line, col;
	char *m;

	(void)state;
	guts_buf_init(&t, 0);
	guts_buf_adds(&t, "big: &a ");
	for (int i = 0; i < 100000; i++)
		guts_buf_addch(&t, 'x');
	guts_buf_adds(&t, "\nuse:\n");
	for (int i = 0; i < 50; i++)
		guts_buf_adds(&t, "  - *a\n");
	m = load_err(t.data, &line, &col);
	assert_non_null(strstr(m, "aliases expand to more than"));
	/* 100 KB of text, then 40 copies fit in 4 MiB; the 41st does not. */
	assert_int_equal(line, 43);
	free(m);
	guts_buf_release(&t);
}

static void test_yaml__duplicate_keys_are_errors_at_the_second(void **state)
{
	struct guts_yaml_doc *doc = NULL;
	struct guts_diags d;
	const char *t = "a: 1\nb: 2\na: 3\n";

	(void)state;
	guts_diags_init(&d, "t.yml");
	assert_int_equal(guts_yaml_load(&doc, t, strlen(t), &d), 0);
	assert_int_equal(d.errors, 1);
	assert_int_equal(d.v[0].line, 3);
	assert_int_equal(d.v[0].col, 1);
	assert_string_equal(d.v[0].message, "'a' is already defined");
	/* The first value wins. */
	assert_true(guts_yaml_get(doc->root, "a")->number == 1);
	guts_diags_release(&d);
	guts_yaml_free(doc);
}

static void test_yaml__nul_in_a_key_is_an_error(void **state)
{
	struct guts_yaml_doc *doc = NULL;
	struct guts_diags d;
	/* "name\0" would otherwise be a second 'name' to strcmp(). */
	const char t[] = "name: a\n\"name\\0\": b\n";

	(void)state;
	guts_diags_init(&d, "t.yml");
	assert_int_equal(guts_yaml_load(&doc, t, strlen(t), &d), 0);
	assert_int_equal(d.errors, 1);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 1);
	assert_non_null(strstr(d.v[0].message, "NUL"));
	assert_int_equal(doc->root->nr, 1);
	guts_diags_release(&d);
	guts_yaml_free(doc);
}

static void test_yaml__quoted_keys_are_clipped_between_characters(void **state)
{
	struct guts_yaml_doc *doc = NULL;
	struct guts_diags d;
	struct guts_buf t, want;

	(void)state;
	/* 'x' then two-byte characters: byte 80 is inside one. */
	guts_buf_init(&t, 0);
	guts_buf_init(&want, 0);
	for (int i = 0; i < 2; i++) {
		guts_buf_addch(&t, 'x');
		for (int j = 0; j < 60; j++)
			guts_buf_adds(&t, "\xc3\xa9");
		guts_buf_adds(&t, ": 1\n");
	}
	guts_buf_adds(&want, "'x");
	for (int j = 0; j < 39; j++)
		guts_buf_adds(&want, "\xc3\xa9");
	guts_buf_adds(&want, "' is already defined");
	guts_diags_init(&d, "t.yml");
	assert_int_equal(guts_yaml_load(&doc, t.data, t.len, &d), 0);
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.v[0].message, want.data);
	guts_diags_release(&d);
	guts_yaml_free(doc);
	guts_buf_release(&t);
	guts_buf_release(&want);
}

static void test_yaml__invalid_utf8_is_an_error_with_position(void **state)
{
	unsigned line, col;
	char *m;

	(void)state;
	m = load_err("a: b\nc: \xff\xfe\n", &line, &col);
	assert_int_equal(line, 2);
	assert_int_equal(col, 4);
	assert_non_null(strstr(m, "UTF-8"));
	free(m);
}

static void test_yaml__syntax_errors_have_positions(void **state)
{
	unsigned line, col;
	char *m;

	(void)state;
	m = load_err("jobs:\n  a: [1, 2\n", &line, &col);
	assert_non_null(strstr(m, "YAML syntax error"));
	assert_true(line >= 2);
	free(m);
}

static void test_yaml__depth_is_capped(void **state)
{
	char text[1024];
	unsigned line, col;
	size_t n = 0;
	char *m;

	(void)state;
	for (int i = 0; i < 100; i++)
		text[n++] = '[';
	for (int i = 0; i < 100; i++)
		text[n++] = ']';
	text[n] = '\0';
	m = load_err(text, &line, &col);
	assert_non_null(strstr(m, "nested deeper"));
	free(m);
}

/* An alias copies its anchor's depth: the cap counts it. */
static void test_yaml__depth_is_capped_through_aliases(void **state)
{
	struct guts_buf t;
	struct guts_yaml_doc *doc;
	unsigned line, col;
	char *m;

	(void)state;
	for (int outer = 33; outer <= 34; outer++) {
		guts_buf_init(&t, 0);
		/* 30 levels at depth 2..31, then copied under 'outer' more. */
		guts_buf_adds(&t, "a: &a ");
		for (int i = 0; i < 30; i++)
			guts_buf_addch(&t, '[');
		for (int i = 0; i < 30; i++)
			guts_buf_addch(&t, ']');
		guts_buf_adds(&t, "\nb: ");
		for (int i = 0; i < outer; i++)
			guts_buf_addch(&t, '[');
		guts_buf_adds(&t, "*a");
		for (int i = 0; i < outer; i++)
			guts_buf_addch(&t, ']');
		guts_buf_addch(&t, '\n');
		if (outer == 33) {
			/* The deepest copy is at depth 2 + 33 + 30 - 1 = 64. */
			doc = load_ok(t.data);
			guts_yaml_free(doc);
		} else {
			m = load_err(t.data, &line, &col);
			assert_non_null(strstr(m, "nested deeper than 64"));
			assert_int_equal(line, 2);
			assert_int_equal(col, 38);
			free(m);
		}
		guts_buf_release(&t);
	}
}

static void test_yaml__file_size_is_capped(void **state)
{
	size_t len = GUTS_YAML_MAX_BYTES + 1;
	char *text = malloc(len + 1);
	struct guts_yaml_doc *doc = NULL;
	struct guts_diags d;

	(void)state;
	memset(text, '#', len);
	text[len] = '\0';
	guts_diags_init(&d, "t.yml");
	assert_int_not_equal(guts_yaml_load(&doc, text, len, &d), 0);
	assert_null(doc);
	assert_int_equal(d.errors, 1);
	guts_diags_release(&d);
	free(text);
}

static void test_yaml__empty_collections_load(void **state)
{
	struct guts_yaml_doc *doc = load_ok("a: []\nb: {}\n");

	(void)state;
	assert_int_equal(guts_yaml_get(doc->root, "a")->type, GUTS_YAML_SEQ);
	assert_int_equal(guts_yaml_get(doc->root, "a")->nr, 0);
	assert_int_equal(guts_yaml_get(doc->root, "b")->nr, 0);
	guts_yaml_free(doc);
}

static void test_yaml__empty_document_has_no_root(void **state)
{
	struct guts_yaml_doc *doc = load_ok("# nothing\n");

	(void)state;
	assert_null(doc->root);
	guts_yaml_free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_yaml__nodes_carry_line_and_column),
	    cmocka_unit_test(test_yaml__on_is_a_string_key_not_a_boolean),
	    cmocka_unit_test(test_yaml__resolves_core_schema_scalars),
	    cmocka_unit_test(test_yaml__bad_explicit_tags_are_errors),
	    cmocka_unit_test(test_yaml__anchors_and_aliases_copy_nodes),
	    cmocka_unit_test(test_yaml__alias_bomb_is_refused),
	    cmocka_unit_test(
		test_yaml__duplicate_keys_are_errors_at_the_second),
	    cmocka_unit_test(test_yaml__nul_in_a_key_is_an_error),
	    cmocka_unit_test(test_yaml__invalid_utf8_is_an_error_with_position),
	    cmocka_unit_test(test_yaml__syntax_errors_have_positions),
	    cmocka_unit_test(test_yaml__depth_is_capped),
	    cmocka_unit_test(test_yaml__file_size_is_capped),
	    cmocka_unit_test(test_yaml__empty_collections_load),
	    cmocka_unit_test(test_yaml__empty_document_has_no_root),
	    cmocka_unit_test(
		test_yaml__quoted_keys_are_clipped_between_characters),
	    cmocka_unit_test(test_yaml__long_string_alias_bomb_is_refused),
	    cmocka_unit_test(test_yaml__depth_is_capped_through_aliases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
