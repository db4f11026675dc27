/*
 * guts expr: evaluate a ${{ }} expression offline.
 *
 *   guts expr [--context NAME=JSON]... [--status S] EXPRESSION
 *   guts expr --jsonl < requests.jsonl
 *
 * The first form prints the value as one line of JSON.  The second speaks
 * the conformance kit's "Protocol 1" (tools/eval-expr.mjs): one request
 * object per input line, one response object per output line, in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/expr.h"
#include "guts/strvec.h"
#include "banned.h"

/* A request line is a JSON object with the contexts; cap it. */
#define EXPR_JSONL_MAX_LINE ((size_t)64 * 1024 * 1024)

/* Context names the single-expression form always knows (null if unset). */
static const char *const standard_contexts[] = {
    "github", "env",	 "vars",     "job",    "jobs",	"steps",
    "runner", "secrets", "strategy", "matrix", "needs", "inputs",
};

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: guts expr [--context NAME=JSON]... [--status STATUS] "
	       "EXPRESSION\n"
	       "   or: guts expr --jsonl < requests.jsonl\n"
	       "\n"
	       "Evaluate a GitHub Actions ${{ }} expression and print its "
	       "value as JSON.\n"
	       "\n"
	       "  --context NAME=JSON  define a context (repeatable), e.g. "
	       "--context matrix='{\"os\":\"linux\"}'\n"
	       "  --status STATUS      job status for success()/failure()/"
	       "cancelled():\n"
	       "                       success (default), failure or "
	       "cancelled\n"
	       "  --jsonl              batch mode: one request object per "
	       "line on stdin,\n"
	       "                       one response per line on stdout "
	       "(see docs/expressions.md)\n"
	       "\n"
	       "EXPRESSION is written without ${{ }}; if it contains ${{ it is "
	       "a template:\n"
	       "the text is interpolated and printed as a JSON string (a "
	       "template that is\n"
	       "exactly one ${{ }} keeps the value's type).  The standard "
	       "context names\n"
	       "(github, env, matrix, ...) are always known and are null "
	       "unless given.\n"
	       "NaN and Infinity print as null, as in JSON.\n");
}

static int parse_status(const char *s, enum guts_expr_status *st)
{
	if (!strcmp(s, "success"))
		*st = GUTS_EXPR_STATUS_SUCCESS;
	else if (!strcmp(s, "failure"))
		*st = GUTS_EXPR_STATUS_FAILURE;
	else if (!strcmp(s, "cancelled"))
		*st = GUTS_EXPR_STATUS_CANCELLED;
	else
		return -1;
	return 0;
}

static enum guts_expr_status status_of(void *data)
{
	return *(enum guts_expr_status *)data;
}

static json_t *load_json(const char *text, size_t len, json_error_t *jerr)
{
	return json_loadb(
	    text, len,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, jerr);
}

/* ---- batch mode -------------------------------------------------------- */

static int hash_files_fixed(char **out, const char *const *patterns, size_t nr,
			    void *data)
{
	(void)patterns;
	(void)nr;
	*out = guts_xstrdup(data ? (const char *)data : "");
	return 0;
}

static void add_json_string(struct guts_buf *b, const char *s, size_t len)
{
	struct guts_expr_value v;
	char *enc;
	size_t n;

	memset(&v, 0, sizeof(v));
	v.kind = GUTS_EXPR_STRING;
	v.u.string.ptr = s;
	v.u.string.len = len;
	enc = guts_expr_value_encode(&v, 0, &n);
	guts_buf_add(b, enc, n);
	free(enc);
}

static void respond_error(struct guts_buf *b, const char *kind, const char *msg)
{
	guts_buf_adds(b,
		      "{\"result\":null,\"kind\":null,\"error\":{\"kind\":\"");
	guts_buf_adds(b, kind);
	guts_buf_adds(b, "\",\"message\":");
	add_json_string(b, msg, strlen(msg));
	guts_buf_adds(b, "}}\n");
}

static void respond_value(struct guts_buf *b, const struct guts_expr_value *v)
{
	char *s;
	size_t n;

	guts_buf_adds(b, "{\"result\":");
	s = guts_expr_value_encode(v, 0, &n);
	guts_buf_add(b, s, n);
	free(s);
	guts_buf_adds(b, ",\"kind\":\"");
	guts_buf_adds(b, guts_expr_kind_name(v->kind));
	guts_buf_adds(b, "\",\"string\":");
	s = guts_expr_value_to_string(v, &n);
	add_json_string(b, s, n);
	free(s);
	guts_buf_adds(b, ",\"truthy\":");
	guts_buf_adds(b, guts_expr_value_truthy(v) ? "true" : "false");
	guts_buf_adds(b, ",\"error\":null}\n");
}

static void run_request(struct guts_buf *b, const char *line, size_t len)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_parse_opts opts = {NULL, 0, 0};
	struct guts_expr_env env;
	struct guts_expr_value v;
	struct guts_strvec names = GUTS_STRVEC_INIT;
	enum guts_expr_status st = GUTS_EXPR_STATUS_SUCCESS;
	json_t *req, *expr, *contexts, *j;
	json_error_t jerr;
	const char *k;
	size_t i;

	req = load_json(line, len, &jerr);
	if (!req) {
		respond_error(b, "input", jerr.text);
		return;
	}
	expr = json_object_get(req, "expr");
	if (!json_is_string(expr)) {
		respond_error(b, "input", "missing string field 'expr'");
		goto out;
	}
	contexts = json_object_get(req, "contexts");
	if (!contexts || json_is_null(contexts)) {
		contexts = json_object();
		json_object_set_new(req, "contexts", contexts);
	}
	if (!json_is_object(contexts)) {
		respond_error(b, "input", "'contexts' must be an object");
		goto out;
	}
	/* Names that exist but have no data are empty objects, as in the
	 * reference. */
	json_array_foreach(json_object_get(req, "contextNames"), i, j) {
		if (json_is_string(j) &&
		    !json_object_get(contexts, json_string_value(j)))
			json_object_set_new(contexts, json_string_value(j),
					    json_object());
	}
	json_object_foreach(contexts, k, j)
		guts_strvec_push(&names, k);
	/* Exactly the names of the contexts exist (none for {}). */
	opts.names = names.v ? (const char *const *)names.v : standard_contexts;
	opts.nr_names = names.nr;
	memset(&env, 0, sizeof(env));
	env.contexts = contexts;
	if (!json_is_false(json_object_get(req, "statusFunctions"))) {
		opts.flags = GUTS_EXPR_STATUS_FUNCTIONS | GUTS_EXPR_HASHFILES;
		j = json_object_get(req, "status");
		if (json_is_string(j) &&
		    parse_status(json_string_value(j), &st)) {
			respond_error(b, "input", "unknown 'status'");
			goto out;
		}
		env.status = status_of;
		env.status_data = &st;
		env.hash_files = hash_files_fixed;
		j = json_object_get(req, "hashFiles");
		env.hash_files_data =
		    json_is_string(j) ? (void *)json_string_value(j) : NULL;
	}
	if (guts_expr_eval_string(&v, json_string_value(expr),
				  json_string_length(expr), &opts, &env,
				  &err) < 0) {
		respond_error(b, guts_expr_error_kind_name(err.kind),
			      err.message ? err.message : guts_error_message());
		goto out;
	}
	respond_value(b, &v);
	guts_expr_value_release(&v);
out:
	guts_expr_error_release(&err);
	guts_strvec_release(&names);
	json_decref(req);
}

/*
 * Read one line into @line (without the newline), never holding more than
 * EXPR_JSONL_MAX_LINE bytes: the rest of a longer line is skipped and
 * *too_long set.  Returns 0 at end of input with nothing read.
 */
static int read_line(struct guts_buf *line, int *too_long)
{
	char chunk[65536];
	int any = 0;

	guts_buf_reset(line);
	*too_long = 0;
	while (fgets(chunk, sizeof(chunk), stdin)) {
		size_t n = strlen(chunk);
		int eol = n && chunk[n - 1] == '\n';

		any = 1;
		if (eol)
			n--;
		if (!*too_long && guts_buf_add(line, chunk, n) < 0) {
			*too_long = 1;
			guts_buf_reset(line);
		}
		if (eol)
			break;
	}
	return any;
}

static int run_jsonl(void)
{
	struct guts_buf out, line;
	int too_long;

	guts_buf_init(&out, 0);
	guts_buf_init(&line, EXPR_JSONL_MAX_LINE);
	while (read_line(&line, &too_long)) {
		size_t len = line.len, start = 0;
		const char *l = line.data;

		while (len && (l[len - 1] == '\r' || l[len - 1] == ' ' ||
			       l[len - 1] == '\t'))
			len--;
		while (start < len && (l[start] == ' ' || l[start] == '\t'))
			start++;
		if (too_long)
			respond_error(&out, "input", "request line too long");
		else if (start == len || l[start] == '#')
			continue;
		else
			run_request(&out, l + start, len - start);
		if (out.len >= 1 << 16) {
			fwrite(out.data, 1, out.len, stdout);
			guts_buf_reset(&out);
		}
	}
	fwrite(out.data, 1, out.len, stdout);
	guts_buf_release(&out);
	guts_buf_release(&line);
	if (fflush(stdout) != 0)
		return cli_fail(1, "expr: cannot write output");
	return 0;
}

/* ---- one expression ---------------------------------------------------- */

int cmd_expr(int argc, char **argv)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_parse_opts opts = {NULL, 0, 0};
	struct guts_strvec names = GUTS_STRVEC_INIT;
	enum guts_expr_status st = GUTS_EXPR_STATUS_SUCCESS;
	struct guts_expr_env env;
	struct guts_expr_value v;
	const char *expression = NULL;
	json_t *contexts = json_object();
	char *text;
	int i, rc = 1;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			rc = 0;
			goto out;
		} else if (!strcmp(a, "--jsonl")) {
			json_decref(contexts);
			return run_jsonl();
		} else if (!strcmp(a, "--context") ||
			   !strncmp(a, "--context=", 10)) {
			const char *def = a[9] == '=' ? a + 10 : argv[++i];
			const char *eq;
			json_error_t jerr;
			json_t *val;
			char *name;

			if (!def) {
				rc = cli_fail(2, "expr: --context needs "
						 "NAME=JSON");
				goto out;
			}
			eq = strchr(def, '=');
			if (!eq || eq == def) {
				rc = cli_fail(2,
					      "expr: --context needs "
					      "NAME=JSON, got '%s'",
					      def);
				goto out;
			}
			val = load_json(eq + 1, strlen(eq + 1), &jerr);
			if (!val) {
				rc = cli_fail(1,
					      "expr: --context %.*s: invalid "
					      "JSON at %d:%d: %s",
					      (int)(eq - def), def, jerr.line,
					      jerr.column, jerr.text);
				goto out;
			}
			name = guts_xstrndup(def, (size_t)(eq - def));
			json_object_set_new(contexts, name, val);
			free(name);
		} else if (!strcmp(a, "--status") ||
			   !strncmp(a, "--status=", 9)) {
			const char *s = a[8] == '=' ? a + 9 : argv[++i];

			if (!s || parse_status(s, &st)) {
				rc = cli_fail(2, "expr: --status must be "
						 "success, failure or "
						 "cancelled");
				goto out;
			}
		} else if (!strcmp(a, "--")) {
			if (i + 1 < argc)
				expression = argv[++i];
			if (i + 1 < argc) {
				rc = cli_fail(2, "expr: one expression only");
				goto out;
			}
		} else if (a[0] == '-' && a[1] == '-') {
			rc = cli_fail(2, "expr: unknown option '%s'", a);
			goto out;
		} else if (expression) {
			rc = cli_fail(2, "expr: one expression only (quote "
					 "it)");
			goto out;
		} else {
			expression = a;
		}
	}
	if (!expression) {
		usage(stderr);
		rc = 2;
		goto out;
	}
	for (size_t k = 0;
	     k < sizeof(standard_contexts) / sizeof(standard_contexts[0]); k++)
		guts_strvec_push(&names, standard_contexts[k]);
	{
		const char *k;
		json_t *j;

		json_object_foreach(contexts, k, j)
			guts_strvec_push(&names, k);
	}
	opts.names = (const char *const *)names.v;
	opts.nr_names = names.nr;
	opts.flags = GUTS_EXPR_STATUS_FUNCTIONS;
	memset(&env, 0, sizeof(env));
	env.contexts = contexts;
	env.status = status_of;
	env.status_data = &st;
	if (guts_expr_template_has_expr(expression, strlen(expression)))
		rc = guts_expr_template_eval_value(
		    &v, expression, strlen(expression), &opts, &env, &err);
	else
		rc = guts_expr_eval_string(&v, expression, strlen(expression),
					   &opts, &env, &err);
	if (rc < 0) {
		rc = cli_fail(1, "%s",
			      err.message ? err.message : guts_error_message());
		goto out;
	}
	text = guts_expr_value_encode(&v, 0, NULL);
	puts(text);
	free(text);
	guts_expr_value_release(&v);
	rc = fflush(stdout) ? cli_fail(1, "expr: cannot write output") : 0;
out:
	guts_expr_error_release(&err);
	guts_strvec_release(&names);
	json_decref(contexts);
	return rc;
}
