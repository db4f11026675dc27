/*
 * bench_expr: evaluations per second of a typical job condition,
 *
 *   matrix.os == 'linux' && needs.build.result == 'success'
 *
 * parsed once and evaluated N times, against two baselines measured in the
 * same run: the same lookups written by hand with jansson (json_object_get
 * and strcmp: the floor an interpreter can approach), and parsing the
 * contexts' JSON text (what a node does anyway for each job).  It prints
 * ratios, never asserts a time.
 *
 *   bench_expr [N]     (default 2000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guts/expr.h"
#include "banned.h"

static const char contexts_json[] =
    "{\"matrix\": {\"os\": \"linux\"},"
    " \"needs\": {\"build\": {\"result\": \"success\"}}}";
static const char expression[] =
    "matrix.os == 'linux' && needs.build.result == 'success'";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_hand(const json_t *ctx)
{
	json_t *m = json_object_get(ctx, "matrix");
	json_t *os = json_object_get(m, "os");
	json_t *needs, *build, *result;

	if (!json_is_string(os) || strcmp(json_string_value(os), "linux") != 0)
		return 0;
	needs = json_object_get(ctx, "needs");
	build = json_object_get(needs, "build");
	result = json_object_get(build, "result");
	return json_is_string(result) &&
	       !strcmp(json_string_value(result), "success");
}

int main(int argc, char **argv)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_env env;
	struct guts_expr *e = NULL;
	struct guts_expr_value v;
	volatile long sink = 0;
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 2000000;
	long i, parse_n;
	double t0, t_expr, t_hand, t_parse;
	json_t *ctx;

	if (n <= 0)
		n = 2000000;
	parse_n = n / 10 ? n / 10 : 1;
	ctx = json_loads(contexts_json, 0, NULL);
	if (!ctx ||
	    guts_expr_parse(&e, expression, strlen(expression), NULL, &err)) {
		fprintf(stderr, "bench_expr: setup failed: %s\n",
			err.message ? err.message : "bad contexts");
		return 1;
	}
	memset(&env, 0, sizeof(env));
	env.contexts = ctx;

	/* Warm up, and check that the expression says what we think. */
	if (guts_expr_eval(&v, e, &env, &err) || v.kind != GUTS_EXPR_BOOLEAN ||
	    !v.u.boolean || !by_hand(ctx)) {
		fprintf(stderr, "bench_expr: unexpected result\n");
		return 1;
	}
	guts_expr_value_release(&v);

	t0 = now();
	for (i = 0; i < n; i++) {
		if (guts_expr_eval(&v, e, &env, NULL) == 0)
			sink += guts_expr_value_truthy(&v);
		guts_expr_value_release(&v);
	}
	t_expr = now() - t0;

	t0 = now();
	for (i = 0; i < n; i++)
		sink += by_hand(ctx);
	t_hand = now() - t0;

	t0 = now();
	for (i = 0; i < parse_n; i++) {
		json_t *j = json_loads(contexts_json, 0, NULL);

		sink += j != NULL;
		json_decref(j);
	}
	t_parse = (now() - t0) * (double)n / (double)parse_n;

	printf("bench_expr: %s\n", expression);
	printf("  guts_expr_eval            %12.0f evals/s  (%ld runs)\n",
	       (double)n / t_expr, n);
	printf("  baseline: jansson by hand %12.0f evals/s\n",
	       (double)n / t_hand);
	printf("  baseline: parse contexts  %12.0f parses/s\n",
	       (double)n / t_parse);
	printf("  ratio eval/by-hand time   %12.2f  (lower is better)\n",
	       t_expr / t_hand);
	printf("  ratio eval/parse time     %12.3f  (lower is better)\n",
	       t_expr / t_parse);
	if (sink < 0)
		printf("%ld\n", (long)sink);
	guts_expr_free(e);
	json_decref(ctx);
	return 0;
}
