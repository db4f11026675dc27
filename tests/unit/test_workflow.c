/* Unit tests for the workflow model and validator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guts/buf.h"
#include "guts/error.h"
#include "guts/workflow.h"

struct result {
	struct guts_workflow *wf;
	struct guts_diags d;
	int rc;
};

static void parse(struct result *r, const char *text, int syntax_only)
{
	struct guts_workflow_opts o = {0};

	o.syntax_only = syntax_only;
	o.warn_injection = 1;
	r->wf = NULL;
	guts_diags_init(&r->d, "ci.yml");
	r->rc = guts_workflow_parse(&r->wf, "ci.yml", text, strlen(text), &o,
				    &r->d);
}

static void release(struct result *r)
{
	guts_workflow_free(r->wf);
	guts_diags_release(&r->d);
}

/* Whether an error (or warning) at line:col contains @needle. */
static int has_diag(const struct result *r, enum guts_diag_severity sev,
		    unsigned line, unsigned col, const char *needle)
{
	for (size_t i = 0; i < r->d.nr; i++) {
		const struct guts_diag *g = &r->d.v[i];

		if (g->severity == sev && g->line == line &&
		    (!col || g->col == col) && strstr(g->message, needle))
			return 1;
	}
	return 0;
}

static void dump(const struct result *r)
{
	for (size_t i = 0; i < r->d.nr; i++)
		fprintf(stderr, "  %u:%u: %s\n", r->d.v[i].line, r->d.v[i].col,
			r->d.v[i].message);
}

#define assert_error_at(r, line, col, needle)                               \
	do {                                                                \
		if (!has_diag((r), GUTS_DIAG_ERROR, (line), (col),          \
			      (needle))) {                                  \
			dump(r);                                            \
			fail_msg("no error at %d:%d containing '%s'", line, \
				 col, needle);                              \
		}                                                           \
	} while (0)

static const char simple[] = "name: CI\n"
			     "on:\n"
			     "  push:\n"
			     "    branches: [main, 'release/**']\n"
			     "    paths-ignore: ['docs/**']\n"
			     "  pull_request:\n"
			     "  workflow_dispatch:\n"
			     "    inputs:\n"
			     "      level:\n"
			     "        type: choice\n"
			     "        options: [low, high]\n"
			     "        default: low\n"
			     "  schedule:\n"
			     "    - cron: '30 5 * * 1-5'\n"
			     "env:\n"
			     "  GLOBAL: 1\n"
			     "jobs:\n"
			     "  build:\n"
			     "    runs-on: [self-hosted, linux]\n"
			     "    timeout-minutes: 7.5\n"
			     "    strategy:\n"
			     "      fail-fast: false\n"
			     "      matrix:\n"
			     "        os: [linux, mac]\n"
			     "    sandbox:\n"
			     "      network: none\n"
			     "      memory: 2G\n"
			     "      cpus: 1.5\n"
			     "      pids: 256\n"
			     "    steps:\n"
			     "      - uses: actions/checkout@v4\n"
			     "      - id: compile\n"
			     "        run: make\n"
			     "        shell: bash\n"
			     "      - run: make test\n"
			     "        if: success() && matrix.os == 'linux'\n"
			     "  deploy:\n"
			     "    needs: build\n"
			     "    runs-on: default\n"
			     "    if: github.ref == 'refs/heads/main'\n"
			     "    steps:\n"
			     "      - run: ./deploy\n";

static void test_workflow__loads_the_model(void **state)
{
	struct result r;
	const struct guts_wf_trigger *t;
	const struct guts_wf_job *b, *d;

	(void)state;
	parse(&r, simple, 0);
	if (r.rc)
		dump(&r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.wf->name, "CI");
	assert_int_equal(r.wf->nr_triggers, 4);
	t = guts_workflow_trigger(r.wf, "push");
	assert_non_null(t);
	assert_int_equal(t->branches.patterns.nr, 2);
	assert_string_equal(t->branches.patterns.v[1], "release/**");
	assert_true(t->paths_ignore.set);
	t = guts_workflow_trigger(r.wf, "workflow_dispatch");
	assert_int_equal(t->nr_inputs, 1);
	assert_int_equal(t->inputs[0].type, GUTS_WF_INPUT_CHOICE);
	assert_int_equal(t->inputs[0].options.nr, 2);
	t = guts_workflow_trigger(r.wf, "schedule");
	assert_string_equal(t->crons.v[0], "30 5 * * 1-5");
	/* Numbers in env become strings as GitHub converts them. */
	assert_string_equal(
	    json_string_value(json_object_get(r.wf->env, "GLOBAL")), "1");
	b = guts_workflow_job(r.wf, "BUILD");
	assert_non_null(b);
	assert_int_equal(json_array_size(b->runs_on), 2);
	assert_true(json_real_value(b->timeout_minutes) == 7.5);
	assert_true(json_is_false(b->fail_fast));
	assert_true(b->sandbox.network_none);
	assert_int_equal(b->sandbox.memory, 2ULL << 30);
	assert_true(b->sandbox.cpus == 1.5);
	assert_int_equal(b->sandbox.pids, 256);
	assert_int_equal(b->nr_steps, 3);
	assert_int_equal(b->steps[0].uses_kind, GUTS_WF_USES_BUILTIN);
	assert_string_equal(b->steps[0].builtin, "checkout");
	assert_string_equal(b->steps[0].id, "__actions_checkout");
	assert_string_equal(b->steps[1].id, "compile");
	assert_string_equal(b->steps[2].id, "__run");
	assert_string_equal(b->steps[2].if_cond,
			    "success() && matrix.os == 'linux'");
	d = guts_workflow_job(r.wf, "deploy");
	assert_int_equal(d->needs.nr, 1);
	assert_string_equal(d->needs.v[0], "build");
	release(&r);
}

static void test_workflow__reports_every_error_at_its_position(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on: pushh\n"
	      "jobs:\n"
	      "  build:\n"
	      "    runs-on: linux\n"
	      "    timeout-minutes: soon\n"
	      "    steps:\n"
	      "      - runn: echo hi\n"
	      "      - run: echo ${{ nosuch.thing }}\n"
	      "      - id: a.b\n"
	      "        run: x\n"
	      "  test:\n"
	      "    needs: [build, lint]\n"
	      "    steps:\n"
	      "      - run: x\n",
	      0);
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_null(r.wf);
	assert_error_at(&r, 1, 5, "unknown event 'pushh'; did you mean 'push'");
	assert_error_at(&r, 5, 22, "timeout-minutes");
	release(&r);
	/* Two expressions with text between them are a string, not a number. */
	parse(&r,
	      "on: push\njobs:\n  a:\n    runs-on: x\n"
	      "    timeout-minutes: ${{ 1 }}-${{ 2 }}\n    steps: [{run: a}]\n",
	      0);
	assert_error_at(&r, 5, 22, "must be a number or an expression");
	release(&r);
	parse(&r,
	      "on: pushh\n"
	      "jobs:\n"
	      "  build:\n"
	      "    runs-on: linux\n"
	      "    timeout-minutes: soon\n"
	      "    steps:\n"
	      "      - runn: echo hi\n"
	      "      - run: echo ${{ nosuch.thing }}\n"
	      "      - id: a.b\n"
	      "        run: x\n"
	      "  test:\n"
	      "    needs: [build, lint]\n"
	      "    steps:\n"
	      "      - run: x\n",
	      0);
	assert_error_at(&r, 7, 9, "did you mean 'run'?");
	assert_error_at(&r, 7, 9, "needs 'run'");
	assert_error_at(&r, 8, 23, "Unrecognized named-value: 'nosuch'");
	assert_error_at(&r, 9, 13, "the step id 'a.b' is invalid");
	assert_error_at(&r, 12, 5, "required key 'runs-on' is missing");
	assert_error_at(&r, 12, 20, "needs job 'lint', which does not exist");
	/* Sorted by position. */
	for (size_t i = 1; i < r.d.nr; i++)
		assert_true(r.d.v[i - 1].line <= r.d.v[i].line);
	release(&r);
}

static void test_workflow__contexts_follow_github_availability(void **state)
{
	struct result r;

	(void)state;
	parse(
	    &r,
	    "on: push\n"
	    "run-name: ${{ secrets.X }}\n"
	    "jobs:\n"
	    "  a:\n"
	    "    runs-on: linux\n"
	    "    if: steps.x.outputs.y == 1\n"
	    "    concurrency: ${{ secrets.foo }}\n"
	    "    steps:\n"
	    "      - run: echo ${{ steps.x.outputs.y }} ${{ hashFiles('a') }}\n"
	    "        if: always() && env.X\n",
	    0);
	assert_error_at(&r, 2, 15, "Unrecognized named-value: 'secrets'");
	assert_error_at(&r, 6, 9, "Unrecognized named-value: 'steps'");
	assert_error_at(&r, 7, 22, "Unrecognized named-value: 'secrets'");
	assert_int_equal(r.d.errors, 3);
	release(&r);
	/* A job's if: may name jobs in success() and failure(), not a step's.
	 */
	parse(&r,
	      "on: push\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: linux\n"
	      "    if: success('b') || failure('b', 'c')\n"
	      "    steps:\n"
	      "      - run: x\n"
	      "        if: success('b')\n",
	      0);
	assert_error_at(&r, 8, 13, "Too many parameters");
	assert_int_equal(r.d.errors, 1);
	release(&r);
}

static void test_workflow__needs_cycles_name_every_edge(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on: push\n"
	      "jobs:\n"
	      "  one:\n"
	      "    runs-on: x\n"
	      "    steps: [{run: a}]\n"
	      "  two:\n"
	      "    needs: [one, three]\n"
	      "    runs-on: x\n"
	      "    steps: [{run: a}]\n"
	      "  three:\n"
	      "    needs: two\n"
	      "    runs-on: x\n"
	      "    steps: [{run: a}]\n",
	      0);
	assert_error_at(&r, 7, 18, "creates a cycle");
	assert_error_at(&r, 11, 12, "creates a cycle");
	release(&r);
}

static void
test_workflow__remote_actions_are_errors_unless_syntax_only(void **state)
{
	static const char text[] = "on: push\n"
				   "jobs:\n"
				   "  a:\n"
				   "    runs-on: x\n"
				   "    steps:\n"
				   "      - uses: actions/setup-node@v4\n"
				   "      - uses: actions/upload-artifact@v4\n"
				   "      - uses: Swatinem/rust-cache@v2\n"
				   "      - uses: upload-artifakt\n";
	struct result r;

	(void)state;
	parse(&r, text, 0);
	assert_error_at(&r, 6, 15, "remote actions are not supported");
	assert_error_at(&r, 8, 15, "The built-in 'cache' does this job");
	assert_error_at(&r, 9, 15,
			"did you mean the built-in "
			"'upload-artifact'?");
	assert_int_equal(r.d.errors, 3);
	release(&r);
	parse(&r, text, 1);
	assert_int_equal(r.d.errors, 1); /* the typo stays an error */
	release(&r);
	parse(&r,
	      "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
	      "      - uses: actions/setup-node@v4\n"
	      "      - uses: actions/upload-artifact@v4\n",
	      1);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.wf->jobs[0].steps[0].uses_kind, GUTS_WF_USES_REMOTE);
	assert_string_equal(r.wf->jobs[0].steps[1].builtin, "upload-artifact");
	release(&r);
}

static void test_workflow__warns_about_script_injection(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on: pull_request\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: x\n"
	      "    steps:\n"
	      "      - run: |\n"
	      "          echo ok\n"
	      "          echo \"${{ github.event.pull_request.title }}\"\n",
	      0);
	assert_int_equal(r.rc, 0);
	/* Inside a literal block the warning points at the context name. */
	if (!has_diag(&r, GUTS_DIAG_WARNING, 8, 21, "pull_request.title"))
		dump(&r);
	assert_true(has_diag(&r, GUTS_DIAG_WARNING, 8, 21,
			     "github.event.pull_request.title"));
	release(&r);
}

static void test_workflow__bad_cron_and_filters_are_errors(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on:\n"
	      "  push:\n"
	      "    branches: ['feat/[a-']\n"
	      "  schedule:\n"
	      "    - cron: '61 * * * *'\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: x\n"
	      "    steps: [{run: a}]\n",
	      0);
	assert_error_at(&r, 3, 16, "feat/[a-");
	assert_error_at(&r, 5, 13, "61");
	release(&r);
}

static void test_workflow__dispatch_inputs_are_typed(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on:\n"
	      "  workflow_dispatch:\n"
	      "    inputs:\n"
	      "      a: {type: boolean, default: maybe}\n"
	      "      b: {type: choice}\n"
	      "      c: {type: date}\n"
	      "      d: {type: choice, options: [x, y], default: z}\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: x\n"
	      "    steps: [{run: a}]\n",
	      0);
	assert_error_at(&r, 4, 35, "must be true or false");
	assert_error_at(&r, 5, 17, "needs a non-empty 'options'");
	assert_error_at(&r, 6, 17, "input type 'date'");
	assert_error_at(&r, 7, 51, "is not one of its options");
	release(&r);
}

static void test_workflow__on_forms_and_empty_events(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on: [push, pull_request]\njobs: {a: {runs-on: x, steps: "
	      "[{run: a}]}}\n",
	      0);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.wf->nr_triggers, 2);
	release(&r);
	parse(&r,
	      "on:\n  push:\n  workflow_dispatch:\njobs: {a: {runs-on: "
	      "x, steps: [{run: a}]}}\n",
	      0);
	assert_int_equal(r.rc, 0);
	assert_non_null(guts_workflow_trigger(r.wf, "workflow_dispatch"));
	release(&r);
}

static void test_workflow__missing_jobs_and_on_are_reported(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "name: x\n", 0);
	assert_error_at(&r, 1, 1, "required key 'on'");
	assert_error_at(&r, 1, 1, "required key 'jobs'");
	release(&r);
}

static void test_workflow__to_json_round_trips_key_fields(void **state)
{
	struct result r;
	json_t *j;

	(void)state;
	parse(&r, simple, 0);
	j = guts_workflow_to_json(r.wf);
	assert_string_equal(json_string_value(json_object_get(j, "name")),
			    "CI");
	assert_int_equal(json_array_size(json_object_get(j, "jobs")), 2);
	assert_non_null(json_object_get(json_object_get(j, "on"), "schedule"));
	json_decref(j);
	release(&r);
}

static void
test_workflow__matrix_accepts_insert_and_expression_keys(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on: push\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: x\n"
	      "    steps: [{run: a}]\n"
	      "  b:\n"
	      "    needs: a\n"
	      "    runs-on: x\n"
	      "    strategy:\n"
	      "      matrix:\n"
	      "        ${{ needs.a.outputs.key }}: ${{ fromJSON('[1]') }}\n"
	      "        v:\n"
	      "          - env:\n"
	      "              ${{ insert }}: ${{ fromJSON('{}') }}\n"
	      "    steps: [{run: a}]\n",
	      0);
	if (r.rc)
		dump(&r);
	assert_int_equal(r.rc, 0);
	release(&r);
	/* An expression key is still checked. */
	parse(&r,
	      "on: push\n"
	      "jobs:\n"
	      "  b:\n"
	      "    runs-on: x\n"
	      "    strategy:\n"
	      "      matrix:\n"
	      "        ${{ steps.x }}: [1]\n"
	      "    steps: [{run: a}]\n",
	      0);
	assert_error_at(&r, 7, 13, "Unrecognized named-value: 'steps'");
	release(&r);
}

static const char called_yml[] = "on:\n"
				 "  workflow_call:\n"
				 "    inputs:\n"
				 "      env: {type: string, required: true}\n"
				 "      dry: {type: boolean}\n"
				 "    secrets:\n"
				 "      token: {required: true}\n"
				 "jobs:\n"
				 "  deploy:\n"
				 "    runs-on: x\n"
				 "    permissions: {contents: write}\n"
				 "    steps: [{run: a}]\n";

static int read_called(void *ud, const char *ref, char **text, size_t *len)
{
	(void)ud;
	if (strcmp(ref, "./.guts/workflows/deploy.yml"))
		return GUTS_ENOTFOUND;
	*text = strdup(called_yml);
	*len = strlen(called_yml);
	return 0;
}

static void
test_workflow__reusable_calls_are_checked_against_the_callee(void **state)
{
	struct guts_workflow_opts o = {0};
	struct result r;
	static const char caller[] =
	    "on: push\n"
	    "jobs:\n"
	    "  ok:\n"
	    "    uses: ./.guts/workflows/deploy.yml\n"
	    "    permissions: {contents: write}\n"
	    "    with: {env: prod, dry: true}\n"
	    "    secrets: inherit\n"
	    "  bad:\n"
	    "    uses: ./.guts/workflows/deploy.yml\n"
	    "    with: {dry: maybe, colour: red}\n"
	    "    secrets: {tok: x}\n"
	    "  far:\n"
	    "    uses: octo/repo/.github/workflows/x.yml@v1\n";

	(void)state;
	o.read_reusable = read_called;
	r.wf = NULL;
	guts_diags_init(&r.d, "ci.yml");
	r.rc = guts_workflow_parse(&r.wf, "ci.yml", caller, strlen(caller), &o,
				   &r.d);
	assert_int_equal(r.rc, GUTS_EINVAL);
	/* The 'ok' job grants contents: write, so only 'bad' is reported. */
	assert_error_at(&r, 8, 3, "requests 'contents: write'");
	assert_error_at(&r, 9, 11, "input 'env' is required");
	assert_error_at(&r, 9, 11, "secret 'token' is required");
	assert_error_at(&r, 10, 17, "is a boolean, not 'maybe'");
	assert_error_at(&r, 10, 24, "'colour' is not an input");
	assert_error_at(&r, 11, 15, "'tok' is not a secret");
	assert_error_at(&r, 13, 11,
			"remote reusable workflows are not "
			"supported");
	for (size_t i = 0; i < r.d.nr; i++)
		assert_true(r.d.v[i].line >= 8);
	release(&r);
}

/* Two keys that strcmp() cannot tell apart used to leak the first value. */
static void test_workflow__nul_in_a_key_is_an_error_not_a_leak(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "name: a\n"
	      "\"name\\0\": b\n"
	      "on: push\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: x\n"
	      "    env: {A: 1}\n"
	      "    \"env\\0\": {B: 2}\n"
	      "    steps:\n"
	      "      - run: a\n",
	      0);
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_error_at(&r, 2, 1, "NUL");
	assert_error_at(&r, 8, 5, "NUL");
	release(&r);
}

static void test_workflow__generated_step_ids_follow_github(void **state)
{
	struct result r;
	const struct guts_wf_job *job;

	(void)state;
	parse(&r,
	      "on: push\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: x\n"
	      "    steps:\n"
	      "      - run: a\n"
	      "      - uses: x/y@v1\n"
	      "      - run: b\n"
	      "      - uses: X/Y@v2\n"
	      "      - uses: x/y_2@v1\n"
	      "      - {id: mine, run: c}\n",
	      1);
	assert_int_equal(r.rc, 0);
	job = &r.wf->jobs[0];
	assert_string_equal(job->steps[0].id, "__run");
	assert_string_equal(job->steps[1].id, "__x_y");
	assert_string_equal(job->steps[2].id, "__run_2");
	assert_string_equal(job->steps[3].id, "__X_Y_2");
	/* Its own base is taken (case-insensitively) by the step above. */
	assert_string_equal(job->steps[4].id, "__x_y_2_2");
	assert_string_equal(job->steps[5].id, "mine");
	assert_false(job->steps[5].id_generated);
	release(&r);
}

/* Each generated id used to rescan every step per suffix: cubic time. */
static void test_workflow__thousands_of_steps_load_quickly(void **state)
{
	struct guts_buf b;
	struct result r;
	clock_t t0;
	double secs;

	(void)state;
	guts_buf_init(&b, 0);
	guts_buf_adds(&b, "on: push\njobs:\n  a:\n    runs-on: x\n"
			  "    steps:\n");
	for (int i = 0; i < 20000; i++)
		guts_buf_adds(&b, "      - run: a\n");
	t0 = clock();
	parse(&r, b.data, 0);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.wf->jobs[0].steps[19999].id, "__run_20000");
	/* Milliseconds when linear; hours when it was cubic. */
	assert_true(secs < 10);
	release(&r);
	guts_buf_release(&b);
}

static void test_workflow__more_than_256_jobs_is_an_error(void **state)
{
	struct guts_buf b;
	struct result r;

	(void)state;
	guts_buf_init(&b, 0);
	guts_buf_adds(&b, "on: push\njobs:\n");
	for (int i = 0; i < 256; i++)
		guts_buf_addf(&b, "  j%d: {runs-on: x, steps: [run: a]}\n", i);
	parse(&r, b.data, 0);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.wf->nr_jobs, 256);
	release(&r);
	/* One more, each needing the one before: a chain as deep as allowed. */
	guts_buf_adds(&b,
		      "  j256: {runs-on: x, needs: j255, steps: [run: a]}\n");
	parse(&r, b.data, 0);
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_error_at(&r, 259, 3, "may not contain more than 256 jobs");
	assert_int_equal(r.d.errors, 1);
	release(&r);
	guts_buf_release(&b);
}

static void test_workflow__a_job_needing_itself_is_one_error(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on: push\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: x\n"
	      "    steps: [run: a]\n"
	      "  b:\n"
	      "    needs: [a, b]\n"
	      "    runs-on: x\n"
	      "    steps: [run: a]\n",
	      0);
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_error_at(&r, 7, 16, "job 'b' needs itself");
	assert_int_equal(r.d.errors, 1);
	release(&r);
}

static void test_workflow__messages_are_one_line_of_valid_utf8(void **state)
{
	struct guts_diags d;
	struct result r;

	(void)state;
	guts_diags_init(&d, "a\nb\xff.yml");
	guts_diags_add(&d, GUTS_DIAG_ERROR, 1, 1, "key '%s'",
		       "x\n\x1b[31m\t\r\x7f\xc3 \xed\xa0\x80 \xe2\x82\xac");
	assert_string_equal(
	    d.v[0].message,
	    "key 'x\\n\\x1b[31m\\t\\r\\x7f\xef\xbf\xbd "
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xe2\x82\xac'");
	assert_string_equal(d.file, "a\\nb\xef\xbf\xbd.yml");
	guts_diags_release(&d);

	/* A key with a newline and an escape sequence, as a user wrote it. */
	parse(&r,
	      "on: push\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: x\n"
	      "    steps:\n"
	      "      - run: a\n"
	      "        \"x\\e[2J\\ny\": 1\n",
	      0);
	assert_error_at(&r, 7, 9, "unexpected key 'x\\x1b[2J\\ny' in a step");
	release(&r);
}

/* Columns count characters, and only text written as it is gets one. */
static void
test_workflow__expression_columns_are_exact_or_the_scalar(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on: push\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: x\n"
	      "    steps:\n"
	      "      - run: echo \xc3\xa9\xc3\xa9 ${{ matrx.os }}\n"
	      "      - run: '\xc3\xa9 ${{ matrx.os }}'\n"
	      "      - run: |\n"
	      "          echo \xc3\xa9\xc3\xa9 ${{ matrx.os }}\n"
	      "      - run: \"a\\tb ${{ matrx.os }}\"\n"
	      "      - run: echo a\n"
	      "          ${{ matrx.os }}\n",
	      0);
	assert_error_at(&r, 6, 26, "'matrx'");
	assert_error_at(&r, 7, 21, "'matrx'");
	assert_error_at(&r, 9, 23, "'matrx'");
	/* An escape or a folded line: the scalar itself, as on GitHub. */
	assert_error_at(&r, 10, 14, "'matrx'");
	assert_error_at(&r, 11, 14, "'matrx'");
	assert_int_equal(r.d.errors, 5);
	release(&r);
}

/* GitHub refuses 'key:' with no value for most keys, as Guts now does. */
static void test_workflow__keys_without_a_value_are_errors(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on:\n"
	      "  push:\n"
	      "    branches:\n"
	      "env:\n"
	      "concurrency:\n"
	      "  group:\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: x\n"
	      "    timeout-minutes:\n"
	      "    services:\n"
	      "      db:\n"
	      "    steps:\n"
	      "      - run: a\n"
	      "        id:\n"
	      "      - uses: checkout\n"
	      "        with:\n",
	      1);
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_error_at(&r, 3, 14, "'branches' has no value");
	assert_error_at(&r, 4, 5, "'env' has no value");
	assert_error_at(&r, 6, 9, "'group' has no value");
	assert_error_at(&r, 10, 21, "'timeout-minutes' has no value");
	assert_error_at(&r, 12, 10, "'db' has no value");
	assert_error_at(&r, 15, 12, "'id' has no value");
	assert_error_at(&r, 17, 14, "'with' has no value");
	assert_int_equal(r.d.errors, 7);
	release(&r);

	/* The keys GitHub lets go empty; an empty run: is an empty script. */
	parse(&r,
	      "name:\n"
	      "run-name:\n"
	      "concurrency:\n"
	      "on:\n"
	      "  push:\n"
	      "  workflow_dispatch:\n"
	      "    inputs:\n"
	      "jobs:\n"
	      "  a:\n"
	      "    name:\n"
	      "    if:\n"
	      "    runs-on: x\n"
	      "    container:\n"
	      "    environment:\n"
	      "    steps:\n"
	      "      - run:\n"
	      "        name:\n"
	      "        if:\n"
	      "        working-directory:\n",
	      1);
	if (r.rc)
		dump(&r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.wf->jobs[0].steps[0].run, "");
	assert_string_equal(r.wf->jobs[0].steps[0].id, "__run");
	release(&r);
}

static void
test_workflow__activity_types_are_checked_for_every_event(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on:\n"
	      "  issues:\n"
	      "    types: [opened, opend]\n"
	      "  workflow_run:\n"
	      "    workflows: {a: b}\n"
	      "    types: complete\n"
	      "  workflow_dispatch: manual\n"
	      "  release:\n"
	      "    types: [published]\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: x\n"
	      "    steps:\n"
	      "      - run: a\n",
	      0);
	assert_error_at(&r, 3, 21,
			"'opend' is not an activity type of issues; did you "
			"mean 'opened'?");
	assert_error_at(&r, 5, 16, "workflows must be a sequence");
	assert_error_at(&r, 6, 12,
			"'complete' is not an activity type of workflow_run");
	assert_error_at(&r, 7, 22, "workflow_dispatch must be a mapping");
	assert_int_equal(r.d.errors, 4);
	release(&r);
}

static void test_workflow__shapes_github_checks_are_checked(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on:\n"
	      "  workflow_dispatch:\n"
	      "    inputs:\n"
	      "      b:\n"
	      "        type: choice\n"
	      "        options: xyz\n"
	      "jobs:\n"
	      "  call:\n"
	      "    uses: ./.github/workflows/c.yml\n"
	      "    concurrency: [a]\n"
	      "  j:\n"
	      "    runs-on:\n"
	      "      group: 12\n"
	      "    snapshot: {version: 1}\n"
	      "    container:\n"
	      "      image: a\n"
	      "      options: [a]\n"
	      "      ports: [{a: 1}]\n"
	      "    steps:\n"
	      "      - run: a\n"
	      "  k:\n"
	      "    runs-on: x\n"
	      "    snapshot: [a]\n"
	      "    steps:\n"
	      "      - run: a\n",
	      1);
	assert_error_at(&r, 6, 18, "options must be a sequence, not a string");
	assert_error_at(&r, 10, 18,
			"concurrency must be a mapping, not a sequence");
	assert_error_at(&r, 14, 15, "required key 'image-name' is missing");
	assert_error_at(&r, 17, 16, "options must be a string");
	assert_error_at(&r, 18, 15, "each port must be a string");
	assert_error_at(&r, 23, 15, "snapshot must be an image name or a");
	/* Also 'choice input b needs options'; 'group: 12' is a name. */
	assert_int_equal(r.d.errors, 7);
	release(&r);
}

static void test_workflow__uses_beside_runs_on_is_one_error(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on: push\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: x\n"
	      "    uses: ./.github/workflows/c.yml\n"
	      "    steps:\n"
	      "      - run: a\n",
	      0);
	assert_error_at(&r, 5, 5, "cannot also call a workflow with 'uses'");
	assert_int_equal(r.d.errors, 1);
	release(&r);
}

/* Serves @ud (a struct fan) as every called workflow, counting reads. */
struct fan {
	const char *text;
	int reads;
};

static int read_fan(void *ud, const char *ref, char **text, size_t *len)
{
	struct fan *f = ud;

	(void)ref;
	f->reads++;
	*text = strdup(f->text);
	*len = strlen(f->text);
	return 0;
}

/*
 * Every level calling the same workflow again used to parse it 12^4 times
 * (256^4 with 256 jobs); the call tree now stops at 256 jobs in all.
 */
static void test_workflow__call_trees_hold_at_most_256_jobs(void **state)
{
	struct guts_workflow_opts o = {0};
	struct guts_buf b, c;
	struct fan f = {NULL, 0};
	struct result r;

	(void)state;
	guts_buf_init(&b, 0);
	guts_buf_adds(&b, "on: [push, workflow_call]\njobs:\n");
	for (int i = 0; i < 12; i++)
		guts_buf_addf(&b, "  j%d:\n    uses: ./.guts/workflows/a.yml\n",
			      i);
	f.text = b.data;
	o.read_reusable = read_fan;
	o.read_ud = &f;
	guts_diags_init(&r.d, "a.yml");
	r.wf = NULL;
	r.rc = guts_workflow_parse(&r.wf, "a.yml", b.data, b.len, &o, &r.d);
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_true(f.reads <= 256);
	release(&r);

	/* Three calls of a 100-job workflow: the third one is too many. */
	guts_buf_init(&c, 0);
	guts_buf_adds(&c, "on: workflow_call\njobs:\n");
	for (int i = 0; i < 100; i++)
		guts_buf_addf(&c, "  j%d: {runs-on: x, steps: [run: a]}\n", i);
	f.text = c.data;
	f.reads = 0;
	guts_buf_reset(&b);
	guts_buf_adds(&b, "on: push\njobs:\n");
	for (int i = 0; i < 3; i++)
		guts_buf_addf(&b, "  c%d:\n    uses: ./.guts/workflows/c.yml\n",
			      i);
	guts_diags_init(&r.d, "ci.yml");
	r.wf = NULL;
	r.rc = guts_workflow_parse(&r.wf, "ci.yml", b.data, b.len, &o, &r.d);
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_error_at(&r, 8, 11,
			"./.guts/workflows/c.yml:3:3: the workflow may not "
			"contain more than 256 jobs");
	assert_int_equal(r.d.errors, 1);
	release(&r);
	guts_buf_release(&b);
	guts_buf_release(&c);
}

/* Past the first 1000 diagnostics an error still makes the file invalid. */
static void test_workflow__errors_past_the_cap_still_count(void **state)
{
	struct guts_buf b;
	struct result r;

	(void)state;
	guts_buf_init(&b, 0);
	guts_buf_adds(&b, "on: push\njobs:\n  a:\n    runs-on: x\n"
			  "    steps:\n");
	for (int i = 0; i < 1000; i++)
		guts_buf_adds(&b,
			      "      - run: echo ${{ github.event.issue.title "
			      "}}\n");
	guts_buf_adds(&b, "      - runn: x\n");
	parse(&r, b.data, 0);
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_int_equal(r.d.warnings, 1000);
	assert_int_equal(r.d.errors, 2);
	/* and shown, however many warnings came first */
	assert_error_at(&r, 1006, 9, "unexpected key 'runn'");
	release(&r);
	guts_buf_release(&b);
}

/* Editors on Windows start files with a BOM; GitHub reads them. */
static void test_workflow__a_utf8_bom_is_skipped(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "\xef\xbb\xbfrun-name: ${{ githb.actor }}\r\n"
	      "on: push\r\n"
	      "jobs:\r\n"
	      "  a:\r\n"
	      "    runs-on: x\r\n"
	      "    steps:\r\n"
	      "      - run: a\r\n",
	      0);
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_error_at(&r, 1, 15, "'githb'");
	assert_int_equal(r.d.errors, 1);
	release(&r);
}

static void test_workflow__strings_where_github_wants_strings(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on: push\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on:\n"
	      "      labels: [{a: b}]\n"
	      "    environment:\n"
	      "      name: [prod]\n"
	      "      url: {a: b}\n"
	      "    steps:\n"
	      "      - uses: checkout\n"
	      "        run: make\n",
	      0);
	assert_error_at(&r, 5, 16, "each runs-on label must be a string");
	assert_error_at(&r, 7, 13, "environment.name must be a string");
	assert_error_at(&r, 8, 12, "environment.url must be a string");
	/* At the second of the two keys, where GitHub points. */
	assert_error_at(&r, 11, 14, "either 'run' or 'uses'");
	assert_int_equal(r.d.errors, 4);
	release(&r);
}

static void test_workflow__step_ids_are_unique_case_insensitively(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "on: push\n"
	      "jobs:\n"
	      "  a:\n"
	      "    runs-on: x\n"
	      "    steps:\n"
	      "      - {id: Build, run: a}\n"
	      "      - {id: test, run: a}\n"
	      "      - {id: build, run: a}\n",
	      0);
	assert_error_at(&r, 8, 14,
			"the step id 'build' is used more than once in job "
			"'a'");
	assert_int_equal(r.d.errors, 1);
	release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_workflow__loads_the_model),
	    cmocka_unit_test(
		test_workflow__reports_every_error_at_its_position),
	    cmocka_unit_test(
		test_workflow__contexts_follow_github_availability),
	    cmocka_unit_test(test_workflow__needs_cycles_name_every_edge),
	    cmocka_unit_test(
		test_workflow__remote_actions_are_errors_unless_syntax_only),
	    cmocka_unit_test(test_workflow__warns_about_script_injection),
	    cmocka_unit_test(test_workflow__bad_cron_and_filters_are_errors),
	    cmocka_unit_test(test_workflow__dispatch_inputs_are_typed),
	    cmocka_unit_test(test_workflow__on_forms_and_empty_events),
	    cmocka_unit_test(test_workflow__missing_jobs_and_on_are_reported),
	    cmocka_unit_test(test_workflow__to_json_round_trips_key_fields),
	    cmocka_unit_test(
		test_workflow__matrix_accepts_insert_and_expression_keys),
	    cmocka_unit_test(
		test_workflow__reusable_calls_are_checked_against_the_callee),
	    cmocka_unit_test(
		test_workflow__nul_in_a_key_is_an_error_not_a_leak),
	    cmocka_unit_test(test_workflow__generated_step_ids_follow_github),
	    cmocka_unit_test(test_workflow__thousands_of_steps_load_quickly),
	    cmocka_unit_test(test_workflow__more_than_256_jobs_is_an_error),
	    cmocka_unit_test(test_workflow__a_job_needing_itself_is_one_error),
	    cmocka_unit_test(
		test_workflow__messages_are_one_line_of_valid_utf8),
	    cmocka_unit_test(
		test_workflow__expression_columns_are_exact_or_the_scalar),
	    cmocka_unit_test(test_workflow__keys_without_a_value_are_errors),
	    cmocka_unit_test(
		test_workflow__activity_types_are_checked_for_every_event),
	    cmocka_unit_test(test_workflow__shapes_github_checks_are_checked),
	    cmocka_unit_test(test_workflow__uses_beside_runs_on_is_one_error),
	    cmocka_unit_test(test_workflow__call_trees_hold_at_most_256_jobs),
	    cmocka_unit_test(test_workflow__errors_past_the_cap_still_count),
	    cmocka_unit_test(test_workflow__a_utf8_bom_is_skipped),
	    cmocka_unit_test(test_workflow__strings_where_github_wants_strings),
	    cmocka_unit_test(
		test_workflow__step_ids_are_unique_case_insensitively),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
