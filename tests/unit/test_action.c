/* Unit tests for action metadata (action.yml). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guts/action.h"
#include "guts/error.h"
#include "guts/fs.h"

struct result {
	struct guts_action *a;
	struct guts_diags d;
	int rc;
};

static void parse(struct result *r, const char *text)
{
	r->a = NULL;
	guts_diags_init(&r->d, "action.yml");
	r->rc =
	    guts_action_parse(&r->a, "action.yml", text, strlen(text), &r->d);
}

static void release(struct result *r)
{
	guts_action_free(r->a);
	guts_diags_release(&r->d);
}

static int has_diag(const struct result *r, enum guts_diag_severity sev,
		    unsigned line, unsigned col, const char *needle)
{
	for (size_t i = 0; i < r->d.nr; i++) {
		const struct guts_diag *g = &r->d.v[i];

		if (g->severity == sev && g->line == line && g->col == col &&
		    strstr(g->message, needle))
			return 1;
	}
	return 0;
}

static void dump(const struct guts_diags *d)
{
	for (size_t i = 0; i < d->nr; i++)
		fprintf(stderr, "  %u:%u: %s%s\n", d->v[i].line, d->v[i].col,
			d->v[i].severity == GUTS_DIAG_WARNING ? "warning: "
							      : "",
			d->v[i].message);
}

#define assert_diag_at(r, sev, line, col, needle)                          \
	do {                                                               \
		if (!has_diag((r), (sev), (line), (col), (needle))) {      \
			dump(&(r)->d);                                     \
			fail_msg("no diagnostic at %d:%d containing '%s'", \
				 line, col, needle);                       \
		}                                                          \
	} while (0)
#define assert_error_at(r, line, col, needle) \
	assert_diag_at(r, GUTS_DIAG_ERROR, line, col, needle)

/* The file is invalid, and the error at line:col is its only one. */
#define assert_only_error_at(r, line, col, needle)       \
	do {                                             \
		assert_int_equal((r)->rc, GUTS_EINVAL);  \
		assert_null((r)->a);                     \
		assert_error_at(r, line, col, needle);   \
		if ((r)->d.errors != 1) {                \
			dump(&(r)->d);                   \
			fail_msg("more than one error"); \
		}                                        \
	} while (0)

static void assert_valid(const struct result *r)
{
	if (r->rc != 0 || r->d.errors) {
		dump(&r->d);
		fail_msg("the action is not valid");
	}
	assert_non_null(r->a);
}

static const char composite[] =
    "name: Build\n"
    "description: Builds things\n"
    "author: Someone\n"
    "inputs:\n"
    "  target:\n"
    "    description: 'What to build; defaults to ${{ github.token }}'\n"
    "    required: true\n"
    "  Verbose:\n"
    "    default: false\n"
    "  token:\n"
    "    default: ${{ github.token }}\n"
    "    deprecationMessage: use 'auth'\n"
    "outputs:\n"
    "  artifact:\n"
    "    description: Where it went\n"
    "    value: ${{ steps.make.outputs.path }}\n"
    "runs:\n"
    "  using: composite\n"
    "  steps:\n"
    "    - run: echo ${{ inputs.target }}\n"
    "      shell: bash\n"
    "    - id: make\n"
    "      if: success() && inputs.target != ''\n"
    "      run: make \"$T\"\n"
    "      shell: bash\n"
    "      working-directory: ${{ github.workspace }}/src\n"
    "      env:\n"
    "        T: ${{ inputs.target }}\n"
    "      continue-on-error: true\n"
    "    - run: make check\n"
    "      shell: sh\n"
    "    - uses: ./other/action\n"
    "      with:\n"
    "        level: ${{ steps.make.outputs.level }}\n"
    "    - uses: actions/checkout@v4\n"
    "branding:\n"
    "  color: blue\n"
    "  icon: box\n";

static void test_action__loads_a_composite_action(void **state)
{
	struct result r;
	const struct guts_action *a;
	const struct guts_action_input *in;

	(void)state;
	parse(&r, composite);
	assert_valid(&r);
	a = r.a;
	assert_string_equal(a->path, "action.yml");
	assert_string_equal(a->name, "Build");
	assert_string_equal(a->description, "Builds things");
	assert_string_equal(a->author, "Someone");
	assert_int_equal(a->using, GUTS_ACTION_COMPOSITE);
	assert_string_equal(a->using_raw, "composite");

	/* Inputs in file order; defaults are strings, as GitHub passes them. */
	assert_int_equal(a->nr_inputs, 3);
	assert_string_equal(a->inputs[0].name, "target");
	assert_true(a->inputs[0].required);
	assert_null(a->inputs[0].default_value);
	assert_int_equal(a->inputs[0].pos.line, 5);
	assert_int_equal(a->inputs[0].pos.col, 3);
	assert_string_equal(a->inputs[1].name, "Verbose");
	assert_false(a->inputs[1].required);
	assert_string_equal(json_string_value(a->inputs[1].default_value),
			    "false");
	assert_string_equal(json_string_value(a->inputs[2].default_value),
			    "${{ github.token }}");
	assert_string_equal(a->inputs[2].deprecation_message, "use 'auth'");
	in = guts_action_input(a, "VERBOSE");
	assert_ptr_equal(in, &a->inputs[1]);
	assert_null(guts_action_input(a, "missing"));

	assert_int_equal(a->nr_outputs, 1);
	assert_string_equal(a->outputs[0].name, "artifact");
	assert_string_equal(a->outputs[0].value,
			    "${{ steps.make.outputs.path }}");

	/* Steps as in a job, with the same generated ids. */
	assert_int_equal(a->nr_steps, 5);
	assert_string_equal(a->steps[0].id, "__run");
	assert_true(a->steps[0].id_generated);
	assert_string_equal(a->steps[0].shell, "bash");
	assert_int_equal(a->steps[0].pos.line, 20);
	assert_string_equal(a->steps[1].id, "make");
	assert_false(a->steps[1].id_generated);
	assert_string_equal(a->steps[1].if_cond,
			    "success() && inputs.target != ''");
	assert_string_equal(a->steps[1].working_directory,
			    "${{ github.workspace }}/src");
	assert_true(json_is_true(a->steps[1].continue_on_error));
	assert_string_equal(
	    json_string_value(json_object_get(a->steps[1].env, "T")),
	    "${{ inputs.target }}");
	assert_string_equal(a->steps[2].id, "__run_2");
	assert_int_equal(a->steps[3].uses_kind, GUTS_WF_USES_LOCAL);
	assert_string_equal(a->steps[3].id, "__self");
	assert_int_equal(a->steps[4].uses_kind, GUTS_WF_USES_BUILTIN);
	assert_string_equal(a->steps[4].builtin, "checkout");
	assert_string_equal(a->steps[4].id, "__actions_checkout");

	assert_string_equal(
	    json_string_value(json_object_get(a->branding, "icon")), "box");
	release(&r);
}

static void test_action__loads_a_node_action_with_pre_and_post(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "name: Hello\n"
		  "description: Greets\n"
		  "inputs:\n"
		  "  who-to-greet:\n"
		  "    description: Who\n"
		  "    required: true\n"
		  "    default: World\n"
		  "outputs:\n"
		  "  time:\n"
		  "    description: When\n"
		  "runs:\n"
		  "  using: 'node20'\n"
		  "  main: dist/index.js\n"
		  "  pre: dist/setup.js\n"
		  "  pre-if: runner.os == 'Linux'\n"
		  "  post: dist/cleanup.js\n"
		  "  post-if: ${{ failure() || steps.x.outcome == 'x' }}\n");
	assert_valid(&r);
	assert_int_equal(r.a->using, GUTS_ACTION_NODE);
	assert_string_equal(r.a->using_raw, "node20");
	assert_string_equal(r.a->main, "dist/index.js");
	assert_string_equal(r.a->pre, "dist/setup.js");
	assert_string_equal(r.a->pre_if, "runner.os == 'Linux'");
	assert_string_equal(r.a->post, "dist/cleanup.js");
	assert_string_equal(r.a->post_if,
			    "${{ failure() || steps.x.outcome == 'x' }}");
	assert_int_equal(r.a->nr_steps, 0);
	assert_null(r.a->outputs[0].value);
	assert_string_equal(json_string_value(r.a->inputs[0].default_value),
			    "World");
	release(&r);
}

static void test_action__loads_a_docker_action(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "name: Lint\n"
		  "runs:\n"
		  "  using: Docker\n"
		  "  image: Dockerfile\n"
		  "  entrypoint: /lint.sh\n"
		  "  args:\n"
		  "    - --level\n"
		  "    - ${{ inputs.level }}\n"
		  "  env:\n"
		  "    LEVEL: ${{ inputs.level }}\n");
	assert_valid(&r);
	assert_int_equal(r.a->using, GUTS_ACTION_DOCKER);
	assert_string_equal(r.a->using_raw, "Docker");
	assert_string_equal(r.a->image, "Dockerfile");
	assert_string_equal(r.a->entrypoint, "/lint.sh");
	assert_int_equal(json_array_size(r.a->args), 2);
	assert_string_equal(
	    json_string_value(json_object_get(r.a->env, "LEVEL")),
	    "${{ inputs.level }}");
	release(&r);

	/* Docker args see only inputs (action_yaml.json). */
	parse(&r, "runs:\n"
		  "  using: docker\n"
		  "  image: docker://alpine:3\n"
		  "  args: ['${{ github.sha }}']\n");
	assert_only_error_at(&r, 4, 15, "github");
	release(&r);
}

static void test_action__missing_runs_is_an_error_at_the_top(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "name: x\n"
		  "description: y\n");
	assert_only_error_at(&r, 1, 1, "required key 'runs' is missing");
	release(&r);

	parse(&r, "name: x\n"
		  "runs:\n"
		  "  main: index.js\n");
	assert_only_error_at(&r, 3, 3, "required key 'using' is missing");
	release(&r);

	parse(&r, "");
	assert_only_error_at(&r, 1, 1, "the action file is empty");
	release(&r);
}

static void test_action__an_unknown_using_is_named(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "name: old\n"
		  "runs:\n"
		  "  using: node8\n"
		  "  main: index.js\n");
	assert_only_error_at(&r, 3, 10, "'using: node8' is not a kind of");
	release(&r);
}

static void test_action__a_composite_run_step_needs_a_shell(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "runs:\n"
		  "  using: composite\n"
		  "  steps:\n"
		  "    - run: echo one\n"
		  "      shell: bash\n"
		  "    - name: Two\n"
		  "      run: echo two\n"
		  "    - run: echo three\n");
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_error_at(&r, 6, 7,
			"step 'Two' runs a script but has no 'shell'");
	assert_error_at(&r, 8, 7, "step 3 runs a script but has no 'shell'");
	assert_int_equal(r.d.errors, 2);
	release(&r);
}

static void test_action__a_node_action_needs_main(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "name: x\n"
		  "runs:\n"
		  "  using: node16\n"
		  "  post: cleanup.js\n");
	assert_only_error_at(&r, 3, 3, "required key 'main' is missing");
	release(&r);

	parse(&r, "runs:\n"
		  "  using: composite\n");
	assert_only_error_at(&r, 2, 3, "required key 'steps' is missing");
	release(&r);

	parse(&r, "runs:\n"
		  "  using: composite\n"
		  "  steps:\n"
		  "    run: echo\n");
	assert_only_error_at(&r, 4, 5, "'steps' must be a sequence");
	release(&r);

	parse(&r, "runs:\n"
		  "  using: docker\n");
	assert_only_error_at(&r, 2, 3, "required key 'image' is missing");
	release(&r);
}

static void test_action__unknown_keys_suggest_the_nearest(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "name: x\n"
		  "descripton: y\n"
		  "runs:\n"
		  "  using: node20\n"
		  "  mian: index.js\n"
		  "  main: index.js\n"
		  "  steps: []\n");
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_error_at(&r, 2, 1,
			"unexpected key 'descripton' in the action; did you "
			"mean 'description'?");
	assert_error_at(&r, 5, 3, "unexpected key 'mian'");
	assert_error_at(&r, 5, 3, "did you mean 'main'?");
	assert_error_at(&r, 7, 3, "unexpected key 'steps' in 'runs' of a node");
	assert_int_equal(r.d.errors, 3);
	release(&r);

	/* GitHub ignores unknown keys of an input: a warning. */
	parse(&r, "inputs:\n"
		  "  a:\n"
		  "    type: string\n"
		  "    required: 'false'\n"
		  "runs:\n"
		  "  using: node20\n"
		  "  main: index.js\n");
	assert_valid(&r);
	assert_diag_at(&r, GUTS_DIAG_WARNING, 3, 5, "unexpected key 'type'");
	assert_false(r.a->inputs[0].required);
	release(&r);
}

static void test_action__composite_steps_have_no_timeout_minutes(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "runs:\n"
		  "  using: composite\n"
		  "  steps:\n"
		  "    - run: make\n"
		  "      shell: bash\n"
		  "      timeout-minutes: 5\n"
		  "    - run: make\n"
		  "      shel: bash\n");
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_error_at(&r, 6, 7,
			"'timeout-minutes' is not allowed in a composite "
			"action step");
	assert_error_at(&r, 8, 7, "did you mean 'shell'?");
	release(&r);
}

static void test_action__composite_outputs_need_a_value(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "outputs:\n"
		  "  a:\n"
		  "    description: no value\n"
		  "  b:\n"
		  "runs:\n"
		  "  using: composite\n"
		  "  steps: []\n");
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_error_at(&r, 3, 5, "output 'a' of a composite action needs");
	assert_error_at(&r, 4, 3, "output 'b' of a composite action needs");
	assert_int_equal(r.d.errors, 2);
	release(&r);
}

static void test_action__composite_steps_see_no_secrets(void **state)
{
	struct result r;

	(void)state;
	parse(&r,
	      "runs:\n"
	      "  using: composite\n"
	      "  steps:\n"
	      "    - run: echo ${{ secrets.TOKEN }}\n"
	      "      shell: bash\n"
	      "    - uses: ./x\n"
	      "      if: needs.a.result == 'success'\n"
	      "      with:\n"
	      "        v: ${{ vars.V }}-${{ matrix.os }}-${{ hashFiles('a') "
	      "}}\n");
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_error_at(&r, 4, 21, "secrets");
	assert_error_at(&r, 7, 11, "needs");
	assert_int_equal(r.d.errors, 2);
	release(&r);
}

static void test_action__input_ids_are_unique_ignoring_case(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "inputs:\n"
		  "  token: {}\n"
		  "  Token: {}\n"
		  "runs:\n"
		  "  using: node20\n"
		  "  main: index.js\n");
	assert_only_error_at(&r, 3, 3,
			     "the input id 'Token' is already used by input "
			     "'token'");
	release(&r);
}

static void test_action__duplicate_step_ids_are_errors(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "runs:\n"
		  "  using: composite\n"
		  "  steps:\n"
		  "    - id: a\n"
		  "      run: x\n"
		  "      shell: bash\n"
		  "    - id: A\n"
		  "      uses: ./y\n"
		  "      shell: bash\n");
	assert_int_equal(r.rc, GUTS_EINVAL);
	assert_error_at(&r, 7, 11,
			"the step id 'A' is used more than once in a "
			"composite action");
	assert_error_at(&r, 9, 14, "'shell' goes with 'run', not 'uses'");
	release(&r);
}

static void write_file(const char *path, const char *text)
{
	assert_int_equal(guts_fs_write_atomic(path, text, strlen(text), 0600),
			 0);
}

static void test_action__load_reads_action_yml_then_action_yaml(void **state)
{
	char dir[] = "/tmp/guts-test-action-XXXXXX";
	char yml[256], yaml[256], slash[256];
	struct guts_action *a = NULL;
	struct guts_diags d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(yml, sizeof(yml), "%s/action.yml", dir);
	snprintf(yaml, sizeof(yaml), "%s/action.yaml", dir);
	snprintf(slash, sizeof(slash), "%s/", dir);

	guts_diags_init(&d, dir);
	assert_int_equal(guts_action_load(&a, dir, &d), GUTS_ENOTFOUND);
	assert_null(a);
	{
		char want[512];

		snprintf(want, sizeof(want),
			 "can't find 'action.yml' or 'action.yaml' under "
			 "'%s'",
			 dir);
		assert_string_equal(guts_error_message(), want);
		/* A trailing slash names the same directory. */
		assert_int_equal(guts_action_load(&a, slash, &d),
				 GUTS_ENOTFOUND);
		assert_string_equal(guts_error_message(), want);
	}
	guts_diags_release(&d);

	write_file(yaml, "name: from yaml\n"
			 "runs:\n"
			 "  using: node20\n"
			 "  main: a.js\n");
	guts_diags_init(&d, dir);
	assert_int_equal(guts_action_load(&a, slash, &d), 0);
	assert_string_equal(a->name, "from yaml");
	assert_string_equal(a->path, yaml);
	guts_action_free(a);
	a = NULL;

	write_file(yml, "name: from yml\n"
			"runs:\n"
			"  using: node20\n");
	assert_int_equal(guts_action_load(&a, dir, &d), GUTS_EINVAL);
	assert_null(a);
	/* action.yml wins even when it is the broken one. */
	assert_int_equal(d.errors, 1);
	assert_int_equal(d.v[0].line, 3);
	guts_diags_release(&d);

	unlink(yml);
	unlink(yaml);
	rmdir(dir);
}

/* ---- the act suite's actions ---- */

static char *found[256];
static size_t nr_found;

static int collect(const char *path, const struct stat *st, int type,
		   struct FTW *ftw)
{
	const char *base = path + ftw->base;

	(void)st;
	if (type == FTW_F && nr_found < 256 &&
	    (!strcmp(base, "action.yml") || !strcmp(base, "action.yaml")))
		found[nr_found++] = strndup(path, (size_t)ftw->base);
	return 0;
}

/*
 * Every action.yml under the conformance kit's runs/act must load.  None is
 * broken on purpose: uses-composite-with-error and composite-fail-with-output
 * fail when they run, and non-existent-action has no action file at all.
 */
static void test_action__the_act_suite_actions_load(void **state)
{
	const char *src = getenv("GUTS_SOURCE_DIR");
	char root[4096];
	size_t composites = 0, nodes = 0;

	(void)state;
	snprintf(root, sizeof(root), "%s/../shared/conformance/runs/act",
		 src ? src : ".");
	if (access(root, R_OK) != 0) {
		printf("skipped: %s does not exist\n", root);
		skip();
	}
	assert_int_equal(nftw(root, collect, 16, FTW_PHYS), 0);
	assert_true(nr_found >= 10);
	for (size_t i = 0; i < nr_found; i++) {
		struct guts_action *a = NULL;
		struct guts_diags d;

		guts_diags_init(&d, found[i]);
		if (guts_action_load(&a, found[i], &d) < 0 || d.errors) {
			dump(&d);
			fail_msg("%s: %s", found[i], guts_error_message());
		}
		composites += a->using == GUTS_ACTION_COMPOSITE;
		nodes += a->using == GUTS_ACTION_NODE;
		guts_action_free(a);
		guts_diags_release(&d);
		free(found[i]);
	}
	assert_true(composites >= 5);
	assert_true(nodes >= 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_action__loads_a_composite_action),
	    cmocka_unit_test(
		test_action__loads_a_node_action_with_pre_and_post),
	    cmocka_unit_test(test_action__loads_a_docker_action),
	    cmocka_unit_test(test_action__missing_runs_is_an_error_at_the_top),
	    cmocka_unit_test(test_action__an_unknown_using_is_named),
	    cmocka_unit_test(test_action__a_composite_run_step_needs_a_shell),
	    cmocka_unit_test(test_action__a_node_action_needs_main),
	    cmocka_unit_test(test_action__unknown_keys_suggest_the_nearest),
	    cmocka_unit_test(
		test_action__composite_steps_have_no_timeout_minutes),
	    cmocka_unit_test(test_action__composite_outputs_need_a_value),
	    cmocka_unit_test(test_action__composite_steps_see_no_secrets),
	    cmocka_unit_test(test_action__input_ids_are_unique_ignoring_case),
	    cmocka_unit_test(test_action__duplicate_step_ids_are_errors),
	    cmocka_unit_test(
		test_action__load_reads_action_yml_then_action_yaml),
	    cmocka_unit_test(test_action__the_act_suite_actions_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
