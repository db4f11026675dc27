/*
 * A job's annotations and summary (summary.h): checking and storing what
 * the runner sends with the completion, rendering summaries with
 * cmark-gfm, and the two REST handlers.
 */
#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "guts/alloc.h"
#include "guts/error.h"
#include "summary.h"
#include "banned.h"

/* ---- rendering ---------------------------------------------------------- */

static pthread_once_t extensions_once = PTHREAD_ONCE_INIT;

/* The registry of extensions is global and its registration unlocked. */
static void register_extensions(void)
{
	cmark_gfm_core_extensions_ensure_registered();
}

/* A line with more than SUMMARY_TABLE_COLS '|': too wide for a table. */
static int too_wide(const char *md, size_t len)
{
	size_t pipes = 0;

	for (size_t i = 0; i < len; i++) {
		if (md[i] == '\n')
			pipes = 0;
		else if (md[i] == '|' && ++pipes > SUMMARY_TABLE_COLS)
			return 1;
	}
	return 0;
}

char *summary_html(const char *md, size_t len)
{
	static const char *const extensions[] = {
	    "table", "strikethrough", "autolink", "tagfilter", "tasklist",
	};
	/*
	 * CMARK_OPT_DEFAULT is the safe mode: raw HTML becomes a comment and
	 * javascript:, vbscript:, file: and data: (but images) links lose
	 * their target.  Never add CMARK_OPT_UNSAFE: the UI inserts this.
	 */
	int opts = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8;
	cmark_mem *mem = cmark_get_default_mem_allocator();
	cmark_parser *p;
	cmark_node *doc;
	char *html, *out;

	int tables = !too_wide(md ? md : "", md ? len : 0);

	pthread_once(&extensions_once, register_extensions);
	p = cmark_parser_new(opts);
	if (!p)
		return guts_xstrdup("");
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]);
	     i++) {
		cmark_syntax_extension *e =
		    cmark_find_syntax_extension(extensions[i]);

		/* A table's rows are padded to its header's width: a wide
		 * header over many rows would render quadratically. */
		if (!tables && !strcmp(extensions[i], "table"))
			continue;
		if (e)
			cmark_parser_attach_syntax_extension(p, e);
	}
	cmark_parser_feed(p, md ? md : "", md ? len : 0);
	doc = cmark_parser_finish(p);
	/* The extensions render their nodes (tables, task lists) too. */
	html = doc ? cmark_render_html(doc, opts,
				       cmark_parser_get_syntax_extensions(p))
		   : NULL;
	out = guts_xstrdup(html ? html : "");
	if (html)
		mem->free(html);
	if (doc)
		cmark_node_free(doc);
	cmark_parser_free(p);
	return out;
}

/* ---- checking and storing ----------------------------------------------- */

static const char *const levels[] = {"error", "warning", "notice"};

/* An optional string of at most @cap bytes; @required: not optional. */
static int check_str(const json_t *a, size_t i, const char *k, size_t cap,
		     int required)
{
	const json_t *v = json_object_get(a, k);

	if (!v || json_is_null(v)) {
		if (required)
			return guts_error(
			    GUTS_EINVAL, "annotations[%zu].%s: required", i, k);
		return 0;
	}
	if (!json_is_string(v))
		return guts_error(GUTS_EINVAL,
				  "annotations[%zu].%s: expected a string", i,
				  k);
	if (json_string_length(v) > cap)
		return guts_error(GUTS_EINVAL,
				  "annotations[%zu].%s: %zu bytes, over the "
				  "cap of %zu",
				  i, k, json_string_length(v), cap);
	return 0;
}

/* An optional whole number in [1, @max]. */
static int check_num(const json_t *a, size_t i, const char *k, long long max)
{
	const json_t *v = json_object_get(a, k);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > max)
		return guts_error(GUTS_EINVAL,
				  "annotations[%zu].%s: expected a whole "
				  "number from 1 to %lld, or null",
				  i, k, max);
	return 0;
}

static int check_one(const json_t *a, size_t i)
{
	static const char *const nums[] = {"line", "end_line", "col",
					   "end_col"};
	const char *level = json_string_value(json_object_get(a, "level"));
	int ok = 0, ret;

	if (!json_is_object(a))
		return guts_error(GUTS_EINVAL,
				  "annotations[%zu]: expected an object", i);
	for (size_t l = 0; level && l < sizeof(levels) / sizeof(levels[0]); l++)
		ok |= !strcmp(level, levels[l]);
	if (!ok)
		return guts_error(GUTS_EINVAL,
				  "annotations[%zu].level: expected error, "
				  "warning or notice",
				  i);
	if ((ret = check_str(a, i, "message", SUMMARY_MAX_MESSAGE, 1)) < 0 ||
	    (ret = check_str(a, i, "file", SUMMARY_MAX_FIELD, 0)) < 0 ||
	    (ret = check_str(a, i, "title", SUMMARY_MAX_FIELD, 0)) < 0 ||
	    (ret = check_num(a, i, "step", 10000)) < 0)
		return ret;
	for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
		if ((ret = check_num(a, i, nums[k], INT_MAX)) < 0)
			return ret;
	return 0;
}

int summary_check(const json_t *body)
{
	const json_t *anns = json_object_get(body, "annotations");
	const json_t *sum = json_object_get(body, "summary");
	const json_t *a;
	size_t i;
	int ret;

	if (sum && !json_is_null(sum)) {
		if (!json_is_string(sum))
			return guts_error(GUTS_EINVAL,
					  "summary: expected a string or null");
		if (json_string_length(sum) > SUMMARY_MAX_BYTES)
			return guts_error(GUTS_EINVAL,
					  "summary: %zu bytes, over the cap of "
					  "%d",
					  json_string_length(sum),
					  SUMMARY_MAX_BYTES);
	}
	if (!anns || json_is_null(anns))
		return 0;
	if (!json_is_array(anns))
		return guts_error(GUTS_EINVAL,
				  "annotations: expected an array or null");
	if (json_array_size(anns) > SUMMARY_MAX_ANNOTATIONS)
		return guts_error(GUTS_EINVAL,
				  "annotations: %zu of them, over the cap of "
				  "%d",
				  json_array_size(anns),
				  SUMMARY_MAX_ANNOTATIONS);
	json_array_foreach(anns, i, a) {
		if ((ret = check_one(a, i)) < 0)
			return ret;
	}
	return 0;
}

static struct store_val opt_int(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? SI(json_integer_value(v)) : SN;
}

int summary_store(struct store *st, int64_t job_id, const json_t *annotations,
		  const char *summary)
{
	const json_t *a;
	size_t i;
	int ret;

	ret = store_exec(st, "DELETE FROM annotations WHERE job_id = $1",
			 STORE_ARGS(SI(job_id)), NULL);
	if (ret == 0)
		ret = store_exec(st,
				 "DELETE FROM job_summaries WHERE job_id = $1",
				 STORE_ARGS(SI(job_id)), NULL);
	if (ret == 0 && summary && *summary) {
		/* Rendered once, here: reading it costs nothing. */
		char *html = summary_html(summary, strlen(summary));

		ret = store_exec(st,
				 "INSERT INTO job_summaries (job_id, markdown, "
				 "html) VALUES ($1, $2, $3)",
				 STORE_ARGS(SI(job_id), SS(summary), SS(html)),
				 NULL);
		free(html);
	}
	if (ret < 0 || !json_is_array(annotations))
		return ret;
	json_array_foreach(annotations, i, a) {
		ret = store_exec(
		    st,
		    "INSERT INTO annotations (job_id, step, level, message, "
		    "file, line, end_line, col, end_col, title) VALUES ($1, "
		    "$2, $3, $4, $5, $6, $7, $8, $9, $10)",
		    STORE_ARGS(SI(job_id), opt_int(a, "step"),
			       SS(api_str(a, "level")),
			       SS(api_str(a, "message")),
			       SS(api_str(a, "file")), opt_int(a, "line"),
			       opt_int(a, "end_line"), opt_int(a, "col"),
			       opt_int(a, "end_col"), SS(api_str(a, "title"))),
		    NULL);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- the REST handlers -------------------------------------------------- */

/*
 * The job whose annotations and summary @id shows: the one it was copied
 * from by a re-run, following copies of copies.
 */
static int64_t source_job(struct store *st, int64_t id, int64_t from)
{
	for (int hops = 0; from > 0 && hops < 64; hops++) {
		json_t *row = NULL;

		id = from;
		if (store_query_one(st,
				    "SELECT copied_from FROM jobs WHERE id = "
				    "$1",
				    STORE_ARGS(SI(id)), &row) < 0)
			break;
		from = api_int(row, "copied_from");
		json_decref(row);
	}
	return id;
}

/* The id in r->params[2]; answers 400 and returns 0 when it is none. */
static int route_id(struct http_req *r, int64_t *id)
{
	if (node_int(r->params[2], 0, id) < 0 || *id <= 0) {
		http_error(r, "bad_request", "'%s' is not an id", r->params[2]);
		return 0;
	}
	return 1;
}

static json_t *opt_str_json(const json_t *o, const char *k)
{
	const char *s = api_str(o, k);

	return s ? json_string(s) : json_null();
}

static json_t *opt_int_json(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer(json_integer_value(v))
				  : json_null();
}

static json_t *annotation_json(const json_t *job, const json_t *row)
{
	json_t *a = json_object();

	json_object_set_new(a, "job_id", json_integer(api_int(job, "id")));
	json_object_set_new(a, "job_name", opt_str_json(job, "name"));
	json_object_set_new(a, "level", opt_str_json(row, "level"));
	json_object_set_new(a, "message", opt_str_json(row, "message"));
	json_object_set_new(a, "file", opt_str_json(row, "file"));
	json_object_set_new(a, "line", opt_int_json(row, "line"));
	json_object_set_new(a, "end_line", opt_int_json(row, "end_line"));
	json_object_set_new(a, "col", opt_int_json(row, "col"));
	json_object_set_new(a, "end_col", opt_int_json(row, "end_col"));
	json_object_set_new(a, "title", opt_str_json(row, "title"));
	json_object_set_new(a, "step", opt_int_json(row, "step"));
	return a;
}

void summary_api_annotations(struct http_req *r)
{
	struct store *st = r->node->st;
	json_t *repo = NULL, *run = NULL, *jobs = NULL, *out = NULL, *job;
	const char *qa = http_query(r, "attempt");
	int64_t id, attempt;
	size_t i;
	int ret;

	if (!api_repo(r, r->params[0], r->params[1], SCOPE_READ, &repo))
		return;
	if (!route_id(r, &id))
		goto out;
	ret =
	    store_query_one(st,
			    "SELECT id, attempt FROM runs WHERE id = $1 AND "
			    "repo_id = $2",
			    STORE_ARGS(SI(id), SI(api_int(repo, "id"))), &run);
	if (ret == GUTS_ENOTFOUND) {
		http_error(r, "not_found", "run %lld not found", (long long)id);
		goto out;
	}
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	/* The latest attempt's jobs, as GET …/runs/{id}/jobs. */
	if (node_int(qa, api_int(run, "attempt"), &attempt) < 0) {
		http_error(r, "bad_request", "attempt: '%s' is not a number",
			   qa);
		goto out;
	}
	ret = store_query(st,
			  "SELECT id, name, copied_from FROM jobs WHERE "
			  "run_id = $1 AND run_attempt = $2 ORDER BY id",
			  STORE_ARGS(SI(id), SI(attempt)), &jobs);
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	out = json_array();
	json_array_foreach(jobs, i, job) {
		int64_t src = source_job(st, api_int(job, "id"),
					 api_int(job, "copied_from"));
		json_t *rows = NULL, *row;
		size_t k;

		ret = store_query(st,
				  "SELECT * FROM annotations WHERE job_id = $1 "
				  "ORDER BY id",
				  STORE_ARGS(SI(src)), &rows);
		if (ret < 0) {
			http_fail(r, ret);
			goto out;
		}
		json_array_foreach(rows, k, row)
			json_array_append_new(out, annotation_json(job, row));
		json_decref(rows);
	}
	http_json_page(r, out);
	out = NULL;
out:
	json_decref(out);
	json_decref(jobs);
	json_decref(run);
	json_decref(repo);
}

void summary_api_get(struct http_req *r)
{
	struct store *st = r->node->st;
	json_t *repo = NULL, *job = NULL, *row = NULL, *body;
	const char *md;
	int64_t id, src;
	char *html;
	int ret;

	if (!api_repo(r, r->params[0], r->params[1], SCOPE_READ, &repo))
		return;
	if (!route_id(r, &id))
		goto out;
	ret =
	    store_query_one(st,
			    "SELECT j.id, j.copied_from FROM jobs j JOIN "
			    "runs u ON u.id = j.run_id WHERE j.id = $1 AND "
			    "u.repo_id = $2",
			    STORE_ARGS(SI(id), SI(api_int(repo, "id"))), &job);
	if (ret == GUTS_ENOTFOUND) {
		http_error(r, "not_found", "job %lld not found", (long long)id);
		goto out;
	}
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	src = source_job(st, id, api_int(job, "copied_from"));
	ret = store_query_one(
	    st, "SELECT markdown, html FROM job_summaries WHERE job_id = $1",
	    STORE_ARGS(SI(src)), &row);
	if (ret == GUTS_ENOTFOUND) {
		http_error(r, "not_found", "job %lld has no summary",
			   (long long)id);
		goto out;
	}
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	md = api_str(row, "markdown");
	html = api_str(row, "html") ? guts_xstrdup(api_str(row, "html"))
				    : summary_html(md, md ? strlen(md) : 0);
	body = json_object();
	json_object_set_new(body, "markdown", json_string(md ? md : ""));
	json_object_set_new(body, "html", json_string(html));
	free(html);
	http_json(r, 200, body);
out:
	json_decref(row);
	json_decref(job);
	json_decref(repo);
}
