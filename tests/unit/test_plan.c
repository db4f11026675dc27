/*
 * Unit tests for lib/workflow/plan.c (stages, legs, evaluation at plan time)
 * and end-to-end tests of `guts workflow plan`, which run the real binary
 * from GUTS_BIN_DIR on the files in tests/data/plan/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guts/error.h"
#include "guts/plan.h"
#include "guts/workflow.h"

extern char **environ;

static struct guts_workflow *load(const char *text)
{
	struct guts_workflow *wf = NULL;
	struct guts_diags d;

	guts_diags_init(&d, "t.yml");
	if (guts_workflow_parse(&wf, "t.yml", text, strlen(text), NULL, &d) < 0)
		fail_msg("workflow did not load: %s",
			 d.nr ? d.v[0].message : guts_error_message());
	guts_diags_release(&d);
	return wf;
}

static struct guts_plan *plan_of(const struct guts_workflow *wf,
				 const char *ctx_json)
{
	struct guts_plan *plan = NULL;
	json_t *ctx = ctx_json ? json_loads(ctx_json, 0, NULL) : NULL;

	if (guts_plan_build(&plan, wf, ctx) < 0)
		fail_msg("plan failed: %s", guts_error_message());
	json_decref(ctx);
	return plan;
}

/* The stages as "a b | c | d": job ids, stage by stage. */
static char *stages_text(const struct guts_plan *plan)
{
	char buf[1024];
	size_t at = 0;

	buf[0] = '\0';
	for (size_t s = 0; s < plan->nr_stages; s++) {
		if (s)
			at +=
			    (size_t)snprintf(buf + at, sizeof(buf) - at, " |");
		for (size_t i = plan->stage_start[s];
		     i < plan->stage_start[s + 1]; i++) {
			assert_int_equal(plan->jobs[i].stage, s);
			at += (size_t)snprintf(buf + at, sizeof(buf) - at,
					       "%s%s", at ? " " : "",
					       plan->jobs[i].job->id);
		}
	}
	return strdup(buf);
}

static void expect_stages(const char *yaml, const char *want)
{
	struct guts_workflow *wf = load(yaml);
	struct guts_plan *plan = plan_of(wf, NULL);
	char *got = stages_text(plan);

	if (strcmp(got, want))
		fail_msg("stages\n  got  %s\n  want %s", got, want);
	free(got);
	guts_plan_free(plan);
	guts_workflow_free(wf);
}

#define JOB(id, needs) \
	"  " id ":\n" needs "    runs-on: x\n    steps:\n      - run: echo\n"

static void test_plan__stages_follow_needs(void **state)
{
	(void)state;
	/* A diamond: b and c need a, d needs both. */
	expect_stages("on: push\njobs:\n" JOB("a", "")
			  JOB("b", "    needs: a\n") JOB("c", "    needs: a\n")
			      JOB("d", "    needs: [b, c]\n"),
		      "a | b c | d");
}

static void test_plan__stage_is_one_after_the_latest_need(void **state)
{
	(void)state;
	/* d needs a (stage 0) and c (stage 2): it goes to stage 3.  The jobs
	 * are listed in an order that a single pass would get wrong. */
	expect_stages("on: push\njobs:\n" JOB("d", "    needs: [a, c]\n")
			  JOB("c", "    needs: b\n") JOB("b", "    needs: a\n")
			      JOB("a", "") JOB("e", ""),
		      "a e | b | c | d");
}

static void test_plan__jobs_keep_file_order_within_a_stage(void **state)
{
	(void)state;
	expect_stages("on: push\njobs:\n" JOB("zeta", "") JOB("alpha", "")
			  JOB("mid", "    needs: zeta\n") JOB("beta", ""),
		      "zeta alpha beta | mid");
}

static void test_plan__needs_are_recorded_with_their_defined_ids(void **state)
{
	struct guts_workflow *wf = load("on: push\njobs:\n" JOB("Build", "")
					    JOB("t", "    needs: build\n"));
	struct guts_plan *plan = plan_of(wf, NULL);

	(void)state;
	assert_int_equal(plan->nr_jobs, 2);
	assert_int_equal(plan->jobs[1].needs.nr, 1);
	assert_string_equal(plan->jobs[1].needs.v[0], "Build");
	guts_plan_free(plan);
	guts_workflow_free(wf);
}

/* A workflow built by hand, as a caller that skipped validation might. */
struct fake {
	struct guts_workflow wf;
	struct guts_wf_job jobs[3];
};

static void fake_init(struct fake *f, const char *a_needs, const char *b_needs,
		      const char *c_needs)
{
	const char *needs[3] = {a_needs, b_needs, c_needs};
	static char *ids[3] = {"a", "b", "c"};

	memset(f, 0, sizeof(*f));
	f->wf.jobs = f->jobs;
	f->wf.nr_jobs = 3;
	for (int i = 0; i < 3; i++) {
		f->jobs[i].id = ids[i];
		guts_strvec_init(&f->jobs[i].needs);
		if (needs[i])
			guts_strvec_push(&f->jobs[i].needs, needs[i]);
	}
}

static void fake_release(struct fake *f)
{
	for (int i = 0; i < 3; i++)
		guts_strvec_release(&f->jobs[i].needs);
}

static void test_plan__bad_graphs_fail_cleanly(void **state)
{
	struct guts_plan *plan = NULL;
	struct fake f;

	(void)state;
	/* b and c need each other. */
	fake_init(&f, NULL, "c", "b");
	assert_int_equal(guts_plan_build(&plan, &f.wf, NULL), GUTS_EINVAL);
	assert_null(plan);
	assert_non_null(strstr(guts_error_message(), "cycle"));
	assert_non_null(strstr(guts_error_message(), "job 'b'"));
	fake_release(&f);
	/* A job that needs itself. */
	fake_init(&f, "a", NULL, NULL);
	assert_int_equal(guts_plan_build(&plan, &f.wf, NULL), GUTS_EINVAL);
	fake_release(&f);
	/* A job that needs a job that does not exist. */
	fake_init(&f, NULL, "nope", NULL);
	assert_int_equal(guts_plan_build(&plan, &f.wf, NULL), GUTS_EINVAL);
	assert_string_equal(guts_error_message(),
			    "job 'b' needs job 'nope', which does not exist");
	fake_release(&f);
	/* And a good one builds, with no matrix and no runs-on. */
	fake_init(&f, NULL, "a", "b");
	assert_int_equal(guts_plan_build(&plan, &f.wf, NULL), 0);
	assert_int_equal(plan->nr_stages, 3);
	guts_plan_free(plan);
	fake_release(&f);
}

static const char matrix_yaml[] =
    "on: push\n"
    "jobs:\n"
    "  test:\n"
    "    runs-on: ${{ matrix.os }}\n"
    "    strategy:\n"
    "      max-parallel: 3\n"
    "      matrix:\n"
    "        os: [ubuntu-latest, macos-latest]\n"
    "        node: [18, 20]\n"
    "        exclude:\n"
    "          - os: macos-latest\n"
    "            node: 18\n"
    "        include:\n"
    "          - os: ubuntu-latest\n"
    "            coverage: true\n"
    "    steps:\n"
    "      - run: echo\n"
    "  named:\n"
    "    name: Check ${{ matrix.v }} on ${{ github.ref_name }}\n"
    "    runs-on: [self-hosted, '${{ matrix.v }}']\n"
    "    strategy:\n"
    "      fail-fast: false\n"
    "      matrix:\n"
    "        v: [a, b]\n"
    "    steps:\n"
    "      - run: echo\n"
    "  later:\n"
    "    needs: test\n"
    "    name: Later\n"
    "    runs-on: x\n"
    "    strategy:\n"
    "      matrix: ${{ fromJSON(needs.test.outputs.m) }}\n"
    "    steps:\n"
    "      - run: echo\n";

static void test_plan__matrix_jobs_expand_into_named_legs(void **state)
{
	struct guts_workflow *wf = load(matrix_yaml);
	struct guts_plan *plan =
	    plan_of(wf, "{\"github\":{\"ref_name\":\"main\"}}");
	const struct guts_plan_job *t = &plan->jobs[0];
	char *s;

	(void)state;
	assert_string_equal(t->job->id, "test");
	assert_int_equal(t->nr_legs, 3);
	assert_string_equal(t->legs[0].name, "test (ubuntu-latest, 18)");
	assert_string_equal(t->legs[1].name, "test (ubuntu-latest, 20)");
	assert_string_equal(t->legs[2].name, "test (macos-latest, 20)");
	s = json_dumps(t->legs[0].matrix, JSON_COMPACT);
	assert_string_equal(s, "{\"os\":\"ubuntu-latest\",\"node\":18,"
			       "\"coverage\":true}");
	free(s);
	/* runs-on is evaluated per leg with the matrix. */
	assert_string_equal(json_string_value(t->legs[2].runs_on),
			    "macos-latest");
	assert_true(json_is_true(t->fail_fast));
	assert_int_equal(json_integer_value(t->max_parallel), 3);
	guts_plan_free(plan);
	guts_workflow_free(wf);
}

static void
test_plan__name_with_expressions_is_evaluated_without_suffix(void **state)
{
	struct guts_workflow *wf = load(matrix_yaml);
	struct guts_plan *plan =
	    plan_of(wf, "{\"github\":{\"ref_name\":\"main\"}}");
	const struct guts_plan_job *n = &plan->jobs[1];
	char *s;

	(void)state;
	assert_string_equal(n->job->id, "named");
	assert_int_equal(n->nr_legs, 2);
	assert_string_equal(n->legs[1].name, "Check b on main");
	s = json_dumps(n->legs[1].runs_on, JSON_COMPACT);
	assert_string_equal(s, "[\"self-hosted\",\"b\"]");
	free(s);
	assert_true(json_is_false(n->fail_fast));
	assert_true(json_is_null(n->max_parallel));
	guts_plan_free(plan);
	/* Without the github context, the name stays as written. */
	plan = plan_of(wf, "{}");
	assert_string_equal(plan->jobs[1].legs[0].name,
			    "Check ${{ matrix.v }} on ${{ github.ref_name }}");
	guts_plan_free(plan);
	guts_workflow_free(wf);
}

static void test_plan__matrix_from_needs_is_determined_at_run_time(void **state)
{
	struct guts_workflow *wf = load(matrix_yaml);
	struct guts_plan *plan = plan_of(wf, "{\"github\":{}}");
	const struct guts_plan_job *l = &plan->jobs[2];
	json_t *j;
	char *s;

	(void)state;
	assert_string_equal(l->job->id, "later");
	assert_int_equal(l->stage, 1);
	assert_int_equal(l->nr_legs, 0);
	assert_non_null(l->matrix_deferred);
	assert_non_null(strstr(l->matrix_deferred, "needs"));
	j = guts_plan_to_json(plan);
	s = json_dumps(json_array_get(j, 1), JSON_COMPACT);
	assert_non_null(strstr(s, "\"id\":\"later\",\"name\":\"Later\","
				  "\"needs\":[\"test\"],\"matrix\":null"));
	assert_non_null(strstr(s, "\"matrix_deferred\":"));
	free(s);
	json_decref(j);
	guts_plan_free(plan);
	guts_workflow_free(wf);
}

static void test_plan__json_lists_every_leg_by_stage(void **state)
{
	struct guts_workflow *wf = load(matrix_yaml);
	struct guts_plan *plan = plan_of(wf, NULL);
	json_t *j = guts_plan_to_json(plan), *leg;

	(void)state;
	assert_int_equal(json_array_size(j), 2);
	/* 3 legs of test and 2 of named. */
	assert_int_equal(json_array_size(json_array_get(j, 0)), 5);
	leg = json_array_get(json_array_get(j, 0), 4);
	assert_string_equal(json_string_value(json_object_get(leg, "id")),
			    "named");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(leg, "matrix"), "v")),
			    "b");
	assert_true(json_is_array(json_object_get(leg, "needs")));
	/* No contexts: runs-on keeps its expression. */
	assert_non_null(json_object_get(leg, "runs_on"));
	json_decref(j);
	guts_plan_free(plan);
	guts_workflow_free(wf);
}

static void test_plan__bad_matrix_fails_naming_the_job(void **state)
{
	struct guts_workflow *wf =
	    load("on: push\njobs:\n  m:\n    runs-on: x\n    strategy:\n"
		 "      matrix:\n        a: [1]\n        exclude:\n"
		 "          - b: 1\n    steps:\n      - run: echo\n");
	struct guts_plan *plan = NULL;

	(void)state;
	assert_int_equal(guts_plan_build(&plan, wf, NULL), GUTS_EINVAL);
	assert_null(plan);
	assert_string_equal(guts_error_message(),
			    "job 'm': matrix exclude key 'b' does not match "
			    "any key within the matrix");
	guts_workflow_free(wf);
}

/* ---- the CLI, end to end ---- */

struct run {
	int status;
	char *out, *err;
};

static char *slurp_fd(int fd)
{
	char *buf = NULL;
	size_t len = 0;
	char chunk[4096];
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		buf = realloc(buf, len + (size_t)n + 1);
		memcpy(buf + len, chunk, (size_t)n);
		len += (size_t)n;
	}
	if (!buf)
		buf = calloc(1, 1);
	buf[len] = '\0';
	return buf;
}

static int temp_fd(void)
{
	char path[] = "/tmp/guts-test-plan-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

/* Run `guts workflow plan ARGS...` (a NULL-terminated list). */
static struct run run_plan(const char *first, ...)
{
	const char *bin_dir = getenv("GUTS_BIN_DIR");
	const char *argv[32];
	char bin[4096];
	struct run r = {0, NULL, NULL};
	posix_spawn_file_actions_t fa;
	int out = temp_fd(), err = temp_fd(), argc = 0, wstatus;
	pid_t pid;
	va_list ap;

	if (!bin_dir)
		bin_dir = "build/bin";
	snprintf(bin, sizeof(bin), "%s/guts", bin_dir);
	argv[argc++] = bin;
	argv[argc++] = "workflow";
	argv[argc++] = "plan";
	va_start(ap, first);
	for (const char *a = first; a && argc < 31;
	     a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	if (posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, environ))
		fail_msg("cannot run %s", bin);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFEXITED(wstatus));
	r.status = WEXITSTATUS(wstatus);
	r.out = slurp_fd(out);
	r.err = slurp_fd(err);
	close(out);
	close(err);
	return r;
}

static void run_release(struct run *r)
{
	free(r->out);
	free(r->err);
}

static char *data_file(const char *name)
{
	const char *src = getenv("GUTS_SOURCE_DIR");
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s/tests/data/plan/%s", src ? src : ".",
		 name);
	return strdup(buf);
}

static void test_plan__cli_json_has_the_documented_shape(void **state)
{
	char *file = data_file("ci.yml");
	struct run r = run_plan("--json", file, NULL);
	json_t *o, *stages, *leg;
	json_error_t e;

	(void)state;
	assert_int_equal(r.status, 0);
	o = json_loads(r.out, 0, &e);
	if (!o)
		fail_msg("not JSON (%s): %s", e.text, r.out);
	assert_string_equal(json_string_value(json_object_get(o, "file")),
			    file);
	assert_string_equal(json_string_value(json_object_get(o, "event")),
			    "push");
	assert_string_equal(json_string_value(json_object_get(o, "ref")),
			    "refs/heads/main");
	assert_true(json_is_true(json_object_get(o, "triggered")));
	assert_true(json_is_string(json_object_get(o, "reason")));
	assert_true(json_is_object(json_object_get(o, "inputs")));
	stages = json_object_get(o, "stages");
	assert_int_equal(json_array_size(stages), 3);
	/* Stage 1: 4 legs of test, then lint, then dynamic. */
	assert_int_equal(json_array_size(json_array_get(stages, 1)), 6);
	leg = json_array_get(json_array_get(stages, 1), 1);
	assert_string_equal(json_string_value(json_object_get(leg, "name")),
			    "test (ubuntu-latest, 20)");
	assert_true(json_is_true(
	    json_object_get(json_object_get(leg, "matrix"), "experimental")));
	assert_string_equal(json_string_value(json_object_get(leg, "runs_on")),
			    "ubuntu-latest");
	leg = json_array_get(json_array_get(stages, 1), 5);
	assert_string_equal(json_string_value(json_object_get(leg, "id")),
			    "dynamic");
	assert_true(json_is_null(json_object_get(leg, "matrix")));
	assert_true(json_is_string(json_object_get(leg, "matrix_deferred")));
	json_decref(o);
	run_release(&r);
	free(file);
}

static void test_plan__cli_reports_why_a_workflow_does_not_run(void **state)
{
	char *file = data_file("ci.yml");
	struct run r;

	(void)state;
	r = run_plan("--ref", "refs/heads/dev", file, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "does not run for push to "
				      "refs/heads/dev: branch 'dev' does not "
				      "match branches filter"));
	/* The jobs are still listed. */
	assert_non_null(strstr(r.out, "stage 2:"));
	run_release(&r);
	r = run_plan("--path", "docs/a.md", "--path", "docs/b.md", file, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(
	    strstr(r.out, "every changed path matches paths-ignore"));
	run_release(&r);
	r = run_plan("--event", "pull_request", "--action", "closed", "--json",
		     file, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"triggered\":false"));
	run_release(&r);
	free(file);
}

static void test_plan__cli_resolves_dispatch_inputs(void **state)
{
	char *file = data_file("ci.yml");
	struct run r;

	(void)state;
	r = run_plan("--event", "workflow_dispatch", "--input", "level=high",
		     "--input", "oses=[\"a\",\"b\",\"c\"]", "--json", file,
		     NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out,
			       "\"inputs\":{\"level\":\"high\","
			       "\"oses\":\"[\\\"a\\\",\\\"b\\\",\\\"c\\\""
			       "]\"}"));
	/* The matrix used the input: 3 oses x 2 nodes. */
	assert_non_null(strstr(r.out, "\"name\":\"test (c, 20)\""));
	assert_non_null(strstr(r.out, "\"name\":\"Deploy (high)\""));
	run_release(&r);
	r = run_plan("--event", "workflow_dispatch", "--input", "level=mid",
		     file, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "input 'level' must be one of"));
	run_release(&r);
	r = run_plan("--event", "workflow_dispatch", "--input", "nope=1", file,
		     NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "unexpected input 'nope'"));
	run_release(&r);
	free(file);
}

static void test_plan__cli_fails_on_bad_files_and_usage(void **state)
{
	char *bad = data_file("bad.yml");
	char *big = data_file("matrix-too-big.yml");
	struct run r;
	char want[4200];

	(void)state;
	r = run_plan(bad, NULL);
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof(want), "%s:7:9: error: unexpected key 'shel'",
		 bad);
	assert_non_null(strstr(r.err, want));
	assert_string_equal(r.out, "");
	run_release(&r);
	r = run_plan(big, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "job 'big': the matrix produces 272 "
				      "combinations; the limit is 256"));
	run_release(&r);
	r = run_plan("/nonexistent/x.yml", NULL);
	assert_int_equal(r.status, 1);
	run_release(&r);
	r = run_plan(NULL, NULL);
	assert_int_equal(r.status, 2);
	run_release(&r);
	r = run_plan("--input", "novalue", bad, NULL);
	assert_int_equal(r.status, 2);
	run_release(&r);
	r = run_plan("--help", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: guts workflow plan"));
	run_release(&r);
	free(bad);
	free(big);
}

static void
test_plan__whole_strategy_expression_sets_matrix_and_limits(void **state)
{
	struct guts_workflow *wf =
	    load("on: workflow_dispatch\n"
		 "jobs:\n"
		 "  t:\n"
		 "    runs-on: x\n"
		 "    strategy: ${{ fromJSON(inputs.s) }}\n"
		 "    steps: [{run: a}]\n");
	struct guts_plan *plan;

	(void)state;
	assert_non_null(wf->jobs[0].strategy);
	assert_null(wf->jobs[0].matrix);
	plan = plan_of(wf, "{\"inputs\":{\"s\":\"{\\\"fail-fast\\\":false,"
			   "\\\"max-parallel\\\":2,\\\"matrix\\\":"
			   "{\\\"os\\\":[\\\"a\\\",\\\"b\\\"]}}\"}}");
	assert_int_equal(plan->jobs[0].nr_legs, 2);
	assert_true(json_is_false(plan->jobs[0].fail_fast));
	assert_int_equal(json_integer_value(plan->jobs[0].max_parallel), 2);
	guts_plan_free(plan);
	/* Without the input the whole strategy waits for run time. */
	plan = plan_of(wf, "{\"github\":{}}");
	assert_int_equal(plan->jobs[0].nr_legs, 0);
	assert_non_null(plan->jobs[0].matrix_deferred);
	guts_plan_free(plan);
	guts_workflow_free(wf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_plan__whole_strategy_expression_sets_matrix_and_limits),
	    cmocka_unit_test(test_plan__stages_follow_needs),
	    cmocka_unit_test(test_plan__stage_is_one_after_the_latest_need),
	    cmocka_unit_test(test_plan__jobs_keep_file_order_within_a_stage),
	    cmocka_unit_test(
		test_plan__needs_are_recorded_with_their_defined_ids),
	    cmocka_unit_test(test_plan__bad_graphs_fail_cleanly),
	    cmocka_unit_test(test_plan__matrix_jobs_expand_into_named_legs),
	    cmocka_unit_test(
		test_plan__name_with_expressions_is_evaluated_without_suffix),
	    cmocka_unit_test(
		test_plan__matrix_from_needs_is_determined_at_run_time),
	    cmocka_unit_test(test_plan__json_lists_every_leg_by_stage),
	    cmocka_unit_test(test_plan__bad_matrix_fails_naming_the_job),
	    cmocka_unit_test(test_plan__cli_json_has_the_documented_shape),
	    cmocka_unit_test(
		test_plan__cli_reports_why_a_workflow_does_not_run),
	    cmocka_unit_test(test_plan__cli_resolves_dispatch_inputs),
	    cmocka_unit_test(test_plan__cli_fails_on_bad_files_and_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
