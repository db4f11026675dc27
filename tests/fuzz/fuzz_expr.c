/*
 * libFuzzer target for the expression language: parses and evaluates the
 * input as an expression against a small fixed set of contexts, walks the
 * tree, and runs it through the template scanner and interpolation.  Any
 * crash, leak, sanitizer report or hang is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guts/expr.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *contexts;

static const char contexts_json[] =
    "{\"github\": {\"event_name\": \"push\", \"ref\": \"refs/heads/main\","
    " \"event\": {\"commits\": [{\"message\": \"fix\", \"id\": 1},"
    " {\"message\": \"Add\", \"id\": 2.5}], \"pull_request\": {\"title\":"
    " \"T\\u00cftle \\u03a3\", \"labels\": [\"a\", \"B\"], \"n\": null}},"
    " \"deep\": [[1, [2, [3]]], {\"a\": {\"b\": {\"c\": true}}}]},"
    " \"matrix\": {\"os\": \"linux\", \"node\": [18, 20], \"1\": \"one\"},"
    " \"needs\": {\"build\": {\"result\": \"success\", \"outputs\":"
    " {\"x\": \"{\\\"k\\\": [1, 2]}\"}}},"
    " \"env\": {\"A\": \"1\", \"a\": \"2\", \"EMPTY\": \"\"}}";

static enum guts_expr_status status_of(void *data)
{
	return (enum guts_expr_status)(uintptr_t)data;
}

static int hash_files(char **out, const char *const *patterns, size_t nr,
		      void *data)
{
	(void)data;
	*out = strdup(nr && patterns[0][0] ? "abc" : "");
	return *out ? 0 : -1;
}

static int on_ref(const char *path, size_t offset, void *data)
{
	(void)offset;
	*(size_t *)data += strlen(path);
	return 0;
}

static int on_call(const char *name, size_t nr_args, size_t offset, void *data)
{
	(void)offset;
	*(size_t *)data += strlen(name) + nr_args;
	return 0;
}

static void use_value(const struct guts_expr_value *v)
{
	char *s;
	json_t *j;

	s = guts_expr_value_to_string(v, NULL);
	free(s);
	s = guts_expr_value_encode(v, 1, NULL);
	free(s);
	j = guts_expr_value_to_json(v);
	json_decref(j);
	(void)guts_expr_value_truthy(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_parse_opts opts = {
	    NULL, 0, GUTS_EXPR_STATUS_FUNCTIONS | GUTS_EXPR_HASHFILES};
	static const char *const names[] = {"github", "matrix", "needs", "env",
					    "steps"};
	struct guts_expr_env env;
	struct guts_expr_value v;
	struct guts_expr_segment *segs = NULL;
	struct guts_expr *e = NULL;
	const char *src = (const char *)data;
	size_t nr = 0, sink = 0;
	char *out = NULL;

	if (!contexts) {
		contexts = json_loads(contexts_json, 0, NULL);
		if (!contexts)
			abort();
	}
	memset(&env, 0, sizeof(env));
	env.contexts = contexts;
	env.status = status_of;
	env.status_data = (void *)(uintptr_t)(size % 3);
	env.hash_files = hash_files;
	/* A small memory cap reaches the limit paths quickly. */
	env.max_memory = size & 1 ? 4096 : 0;
	opts.names = names;
	opts.nr_names = sizeof(names) / sizeof(names[0]);

	if (guts_expr_parse(&e, src, size, &opts, &err) == 0) {
		guts_expr_walk(e, on_ref, on_call, &sink);
		if (guts_expr_eval(&v, e, &env, &err) == 0) {
			use_value(&v);
			guts_expr_value_release(&v);
		}
		guts_expr_free(e);
	}
	guts_expr_error_release(&err);

	if (guts_expr_template_scan(&segs, &nr, src, size, &err) == 0)
		free(segs);
	guts_expr_error_release(&err);
	if (guts_expr_template_eval(&out, NULL, src, size, &opts, &env, &err) ==
	    0)
		free(out);
	guts_expr_error_release(&err);
	if (guts_expr_template_eval_value(&v, src, size, NULL, &env, &err) ==
	    0) {
		use_value(&v);
		guts_expr_value_release(&v);
	}
	guts_expr_error_release(&err);
	return 0;
}
