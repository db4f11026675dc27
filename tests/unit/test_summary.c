/*
 * Unit tests for job summaries and annotations (node/summary.c): the safe
 * GFM rendering, the checks of the completion's fields, and storing them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "store.h"
#include "guts/buf.h"
#include "summary.h"

static char *render(const char *md)
{
	return summary_html(md, strlen(md));
}

static void test_summary__renders_a_table_as_a_table(void **state)
{
	char *html = render("| job | time |\n|---|--:|\n| build | 3s |\n");

	(void)state;
	assert_non_null(strstr(html, "<table>"));
	assert_non_null(strstr(html, "<th>job</th>"));
	assert_non_null(strstr(html, "<td>build</td>"));
	assert_non_null(strstr(html, "align=\"right\""));
	free(html);
}

/*
 * A table's rows are padded to its header's width: 2,000 header columns
 * over 2,000 one-cell rows would make 4 million cells.  Too wide a table
 * renders as text instead, and the output stays the size of the input.
 */
static void test_summary__a_too_wide_table_is_not_a_table(void **state)
{
	struct guts_buf md;
	char *html;

	(void)state;
	guts_buf_init(&md, 0);
	for (int i = 0; i < 2000; i++)
		guts_buf_adds(&md, "|h");
	guts_buf_adds(&md, "|\n");
	for (int i = 0; i < 2000; i++)
		guts_buf_adds(&md, "|-");
	guts_buf_adds(&md, "|\n");
	for (int i = 0; i < 2000; i++)
		guts_buf_adds(&md, "|x|\n");
	html = summary_html(md.data, md.len);
	assert_null(strstr(html, "<table"));
	assert_true(strlen(html) < 4 * md.len);
	free(html);
	guts_buf_release(&md);
	/* Up to SUMMARY_TABLE_COLS columns is a table. */
	html = summary_html("|a|b|c|\n|-|-|-|\n|1|2|3|\n", 24);
	assert_non_null(strstr(html, "<table>"));
	free(html);
}

static void test_summary__leaves_raw_html_out(void **state)
{
	char *html = render("before\n\n<script>alert(1)</script>\n\n"
			    "inline <img src=x onerror=alert(2)> text\n");

	(void)state;
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<img"));
	assert_null(strstr(html, "onerror"));
	assert_non_null(strstr(html, "raw HTML omitted"));
	assert_non_null(strstr(html, "<p>before</p>"));
	free(html);
}

static void test_summary__drops_the_target_of_unsafe_links(void **state)
{
	char *html =
	    render("[x](javascript:alert(1)) [y](vbscript:z) "
		   "[z](JAVASCRIPT:alert(3)) [ok](https://a.example/)");

	(void)state;
	assert_null(strstr(html, "javascript:"));
	assert_null(strstr(html, "JAVASCRIPT:"));
	assert_null(strstr(html, "vbscript:"));
	assert_non_null(strstr(html, "<a href=\"\">x</a>"));
	assert_non_null(strstr(html, "<a href=\"https://a.example/\">ok</a>"));
	free(html);
}

static void test_summary__renders_task_lists_as_checkboxes(void **state)
{
	char *html = render("- [x] build\n- [ ] deploy\n");
	const char *checked, *unchecked;

	(void)state;
	checked = strstr(html, "<input type=\"checkbox\" checked=\"\"");
	unchecked = strstr(html, "<input type=\"checkbox\" disabled=\"\"");
	assert_non_null(checked);
	assert_non_null(unchecked);
	assert_true(checked < unchecked);
	assert_non_null(strstr(html, "deploy"));
	free(html);
}

static void test_summary__strikes_through_and_links_bare_urls(void **state)
{
	char *html = render("~~old~~ see https://guts.example/x\n");

	(void)state;
	assert_non_null(strstr(html, "<del>old</del>"));
	assert_non_null(strstr(html, "<a href=\"https://guts.example/x\">"));
	free(html);
}

static void test_summary__empty_and_invalid_utf8_render(void **state)
{
	char *html = summary_html(NULL, 0);

	(void)state;
	assert_string_equal(html, "");
	free(html);
	html = summary_html("a\xff\xfe b", 5);
	assert_non_null(strstr(html, "<p>"));
	assert_null(strstr(html, "\xff"));
	free(html);
}

/* ---- checks ------------------------------------------------------------- */

static int check(const char *text)
{
	json_t *b = json_loads(text, 0, NULL);
	int ret;

	assert_non_null(b);
	ret = summary_check(b);
	json_decref(b);
	return ret;
}

static void test_summary__accepts_what_the_runner_sends(void **state)
{
	(void)state;
	assert_int_equal(check("{}"), 0);
	assert_int_equal(check("{\"annotations\":null,\"summary\":null}"), 0);
	assert_int_equal(
	    check("{\"summary\":\"# hi\",\"annotations\":[{\"level\":"
		  "\"error\",\"message\":\"it broke\",\"file\":\"src/a.c\","
		  "\"line\":3,\"end_line\":3,\"col\":1,\"end_col\":5,"
		  "\"title\":\"Bad\",\"step\":2},{\"level\":\"notice\","
		  "\"message\":\"\",\"file\":null,\"line\":null,\"step\":null,"
		  "\"future\":1}]}"),
	    0);
}

static void test_summary__refusals_name_the_field(void **state)
{
	(void)state;
	assert_int_equal(check("{\"annotations\":[{\"level\":\"fatal\","
			       "\"message\":\"x\"}]}"),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "annotations[0].level"));
	assert_int_equal(
	    check("{\"annotations\":[{\"level\":\"error\",\"message\":\"x\"},"
		  "{\"level\":\"error\"}]}"),
	    GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "annotations[1].message"));
	assert_int_equal(check("{\"annotations\":[{\"level\":\"error\","
			       "\"message\":\"x\",\"line\":0}]}"),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "annotations[0].line"));
	assert_int_equal(check("{\"annotations\":[{\"level\":\"error\","
			       "\"message\":\"x\",\"step\":\"2\"}]}"),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "annotations[0].step"));
	assert_int_equal(check("{\"annotations\":{}}"), GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "annotations:"));
	assert_int_equal(check("{\"summary\":3}"), GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "summary:"));
}

static void test_summary__caps_count_and_sizes(void **state)
{
	json_t *b = json_object(), *anns = json_array();
	char *big = guts_xmalloc(SUMMARY_MAX_BYTES + 2);

	(void)state;
	for (int i = 0; i <= SUMMARY_MAX_ANNOTATIONS; i++)
		json_array_append_new(anns,
				      json_pack("{s:s, s:s}", "level",
						"warning", "message", "m"));
	json_object_set_new(b, "annotations", anns);
	assert_int_equal(summary_check(b), GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "annotations:"));
	assert_int_equal(json_array_remove(anns, 0), 0);
	assert_int_equal(summary_check(b), 0);

	memset(big, 'a', SUMMARY_MAX_MESSAGE + 1);
	big[SUMMARY_MAX_MESSAGE + 1] = '\0';
	json_object_set_new(json_array_get(anns, 5), "message",
			    json_string(big));
	assert_int_equal(summary_check(b), GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "annotations[5].message"));
	big[SUMMARY_MAX_MESSAGE] = '\0';
	json_object_set_new(json_array_get(anns, 5), "message",
			    json_string(big));
	assert_int_equal(summary_check(b), 0);

	memset(big, 'b', SUMMARY_MAX_BYTES + 1);
	big[SUMMARY_MAX_BYTES + 1] = '\0';
	json_object_set_new(b, "summary", json_string(big));
	assert_int_equal(summary_check(b), GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "summary:"));
	big[SUMMARY_MAX_BYTES] = '\0';
	json_object_set_new(b, "summary", json_string(big));
	assert_int_equal(summary_check(b), 0);
	free(big);
	json_decref(b);
}

/* ---- storing ------------------------------------------------------------ */

static void test_summary__stored_replacing_what_the_job_had(void **state)
{
	char dir[] = "/tmp/guts-summary-XXXXXX", *url, *db;
	struct store *st = NULL;
	json_t *anns, *rows = NULL, *row = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	url = guts_xasprintf("sqlite:%s/guts.db", dir);
	assert_int_equal(store_open(&st, url), 0);
	assert_int_equal(
	    store_exec(st,
		       "INSERT INTO repos (id, owner, name, visibility, "
		       "default_branch, created_at, updated_at) VALUES (1, "
		       "'o', 'r', 'public', 'main', 0, 0)",
		       NULL, 0, NULL),
	    0);
	assert_int_equal(
	    store_exec(st,
		       "INSERT INTO runs (id, repo_id, workflow_name, "
		       "workflow_path, source, run_number, event, status, "
		       "created_at, updated_at) VALUES (1, 1, 'CI', "
		       "'.guts/workflows/ci.yml', '', 1, 'push', 'completed', "
		       "0, 0)",
		       NULL, 0, NULL),
	    0);
	assert_int_equal(store_exec(st,
				    "INSERT INTO jobs (id, run_id, "
				    "run_attempt, job_key, leg, name, status, "
				    "created_at) VALUES (7, 1, 1, 't', -1, "
				    "'t', 'completed', 0)",
				    NULL, 0, NULL),
			 0);

	anns = json_loads("[{\"level\":\"error\",\"message\":\"it broke\","
			  "\"file\":\"src/a.c\",\"line\":3,\"title\":\"Bad\","
			  "\"step\":2},{\"level\":\"warning\",\"message\":"
			  "\"careful\"}]",
			  0, NULL);
	assert_non_null(anns);
	assert_int_equal(summary_store(st, 7, anns, "# first"), 0);
	assert_int_equal(summary_store(st, 7, anns, "# again"), 0);
	assert_int_equal(store_query(st,
				     "SELECT * FROM annotations WHERE job_id "
				     "= 7 ORDER BY id",
				     NULL, 0, &rows),
			 0);
	assert_int_equal(json_array_size(rows), 2);
	row = json_array_get(rows, 0);
	assert_string_equal(json_string_value(json_object_get(row, "file")),
			    "src/a.c");
	assert_int_equal(json_integer_value(json_object_get(row, "line")), 3);
	assert_int_equal(json_integer_value(json_object_get(row, "step")), 2);
	assert_true(
	    json_is_null(json_object_get(json_array_get(rows, 1), "step")));
	json_decref(rows);
	assert_int_equal(store_query_one(st,
					 "SELECT markdown FROM job_summaries "
					 "WHERE job_id = 7",
					 NULL, 0, &row),
			 0);
	assert_string_equal(json_string_value(json_object_get(row, "markdown")),
			    "# again");
	json_decref(row);

	/* No summary this time: none is kept. */
	assert_int_equal(summary_store(st, 7, NULL, NULL), 0);
	assert_int_equal(store_query_one(st,
					 "SELECT markdown FROM job_summaries "
					 "WHERE job_id = 7",
					 NULL, 0, &row),
			 GUTS_ENOTFOUND);
	json_decref(anns);
	store_close(st);
	db = guts_xasprintf("%s/guts.db", dir);
	unlink(db);
	free(db);
	db = guts_xasprintf("%s/guts.db-wal", dir);
	unlink(db);
	free(db);
	db = guts_xasprintf("%s/guts.db-shm", dir);
	unlink(db);
	free(db);
	rmdir(dir);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_summary__renders_a_table_as_a_table),
	    cmocka_unit_test(test_summary__a_too_wide_table_is_not_a_table),
	    cmocka_unit_test(test_summary__leaves_raw_html_out),
	    cmocka_unit_test(test_summary__drops_the_target_of_unsafe_links),
	    cmocka_unit_test(test_summary__renders_task_lists_as_checkboxes),
	    cmocka_unit_test(test_summary__strikes_through_and_links_bare_urls),
	    cmocka_unit_test(test_summary__empty_and_invalid_utf8_render),
	    cmocka_unit_test(test_summary__accepts_what_the_runner_sends),
	    cmocka_unit_test(test_summary__refusals_name_the_field),
	    cmocka_unit_test(test_summary__caps_count_and_sizes),
	    cmocka_unit_test(test_summary__stored_replacing_what_the_job_had),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
