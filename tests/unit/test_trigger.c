/*
 * Unit tests for lib/workflow/trigger.c: does a workflow run for an event,
 * and why (not).  Cases follow GitHub's docs on filters for push and
 * pull_request and on workflow_dispatch inputs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/error.h"
#include "guts/trigger.h"
#include "guts/workflow.h"

#define JOBS "jobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n"

static struct guts_workflow *load(const char *on_yaml)
{
	struct guts_workflow *wf = NULL;
	struct guts_diags d;
	char *text;
	size_t len = strlen(on_yaml) + sizeof(JOBS) + 1;

	text = malloc(len);
	snprintf(text, len, "%s%s", on_yaml, JOBS);
	guts_diags_init(&d, "t.yml");
	if (guts_workflow_parse(&wf, "t.yml", text, strlen(text), NULL, &d) < 0)
		fail_msg("workflow did not load: %s: %s",
			 d.nr ? d.v[0].message : guts_error_message(), text);
	guts_diags_release(&d);
	free(text);
	return wf;
}

/* Match @ev against the workflow whose `on:` is @on_yaml. */
static int match(const char *on_yaml, const struct guts_event *ev,
		 char **reason)
{
	struct guts_workflow *wf = load(on_yaml);
	struct guts_trigger_result r = GUTS_TRIGGER_RESULT_INIT;
	int matched;

	if (guts_trigger_match(&r, wf, ev) < 0)
		fail_msg("match failed: %s", guts_error_message());
	assert_non_null(r.reason);
	assert_true(json_is_object(r.inputs));
	matched = r.matched;
	if (reason)
		*reason = strdup(r.reason);
	guts_trigger_result_release(&r);
	guts_workflow_free(wf);
	return matched;
}

static int push(const char *on_yaml, const char *ref, const char *const *paths,
		size_t nr)
{
	struct guts_event ev = {0};

	ev.name = "push";
	ev.ref = ref;
	ev.paths = paths;
	ev.nr_paths = nr;
	ev.have_paths = paths != NULL;
	return match(on_yaml, &ev, NULL);
}

static void expect_reason(const char *on_yaml, const struct guts_event *ev,
			  int want, const char *needle)
{
	char *reason = NULL;
	int got = match(on_yaml, ev, &reason);

	if (got != want)
		fail_msg("expected %s, got %s (%s)", want ? "a run" : "no run",
			 got ? "a run" : "no run", reason);
	if (!strstr(reason, needle))
		fail_msg("reason '%s' does not contain '%s'", reason, needle);
	free(reason);
}

static void
test_trigger__push_branches_filter_decides_branch_pushes(void **state)
{
	const char *on = "on:\n  push:\n    branches: [main, 'releases/**']\n";
	struct guts_event ev = {.name = "push", .ref = "refs/heads/dev"};

	(void)state;
	assert_true(push(on, "refs/heads/main", NULL, 0));
	assert_true(push(on, "refs/heads/releases/v1/rc", NULL, 0));
	assert_false(push(on, "refs/heads/dev", NULL, 0));
	expect_reason(on, &ev, 0,
		      "branch 'dev' does not match branches filter");
}

static void test_trigger__push_branches_ignore_skips_matching(void **state)
{
	const char *on = "on:\n  push:\n    branches-ignore: ['wip/*']\n";
	struct guts_event ev = {.name = "push", .ref = "refs/heads/wip/x"};

	(void)state;
	assert_true(push(on, "refs/heads/main", NULL, 0));
	expect_reason(on, &ev, 0,
		      "branch 'wip/x' matches branches-ignore filter");
}

static void
test_trigger__push_with_only_branch_filters_ignores_tags(void **state)
{
	const char *on = "on:\n  push:\n    branches: ['**']\n";
	struct guts_event ev = {.name = "push", .ref = "refs/tags/v1.0"};

	(void)state;
	assert_true(push(on, "refs/heads/any/thing", NULL, 0));
	expect_reason(on, &ev, 0, "only branch filters are set");
	/* branches-ignore counts as a branch filter too. */
	assert_false(push("on:\n  push:\n    branches-ignore: [x]\n",
			  "refs/tags/v1", NULL, 0));
}

static void
test_trigger__push_with_only_tag_filters_ignores_branches(void **state)
{
	const char *on = "on:\n  push:\n    tags: ['v*']\n";
	struct guts_event ev = {.name = "push", .ref = "refs/heads/main"};

	(void)state;
	assert_true(push(on, "refs/tags/v2", NULL, 0));
	assert_false(push(on, "refs/tags/release", NULL, 0));
	expect_reason(on, &ev, 0, "only tag filters are set");
	assert_false(push("on:\n  push:\n    tags-ignore: [x]\n",
			  "refs/heads/main", NULL, 0));
	assert_false(push("on:\n  push:\n    tags-ignore: ['v*']\n",
			  "refs/tags/v1", NULL, 0));
	assert_true(push("on:\n  push:\n    tags-ignore: ['v*']\n",
			 "refs/tags/nightly", NULL, 0));
}

static void
test_trigger__push_with_both_kinds_judges_each_by_its_own(void **state)
{
	const char *on = "on:\n  push:\n    branches: [main]\n    tags: [v*]\n";

	(void)state;
	assert_true(push(on, "refs/heads/main", NULL, 0));
	assert_true(push(on, "refs/tags/v1", NULL, 0));
	assert_false(push(on, "refs/heads/dev", NULL, 0));
	assert_false(push(on, "refs/tags/x", NULL, 0));
}

static void test_trigger__push_without_filters_runs_for_every_ref(void **state)
{
	(void)state;
	assert_true(push("on: push\n", "refs/heads/x", NULL, 0));
	assert_true(push("on: push\n", "refs/tags/x", NULL, 0));
	assert_true(push("on: [push]\n", "refs/notes/commits", NULL, 0));
	/* A ref that is neither kind does not pass ref filters. */
	assert_false(push("on:\n  push:\n    branches: ['**']\n",
			  "refs/notes/commits", NULL, 0));
}

static void test_trigger__paths_run_when_any_changed_path_matches(void **state)
{
	const char *on = "on:\n  push:\n    paths: ['src/**', '!src/**.md']\n";
	const char *hit[] = {"README.md", "src/a/b.c"};
	const char *miss[] = {"README.md", "src/doc.md"};
	struct guts_event ev = {.name = "push",
				.ref = "refs/heads/main",
				.paths = miss,
				.nr_paths = 2,
				.have_paths = 1};

	(void)state;
	assert_true(push(on, "refs/heads/main", hit, 2));
	expect_reason(on, &ev, 0, "no changed path matches paths");
}

static void
test_trigger__paths_ignore_skips_only_when_all_are_ignored(void **state)
{
	const char *on = "on:\n  push:\n    paths-ignore: ['docs/**']\n";
	const char *some[] = {"docs/a.md", "src/a.c"};
	const char *all[] = {"docs/a.md", "docs/b/c.md"};
	struct guts_event ev = {.name = "push",
				.ref = "refs/heads/main",
				.paths = all,
				.nr_paths = 2,
				.have_paths = 1};

	(void)state;
	assert_true(push(on, "refs/heads/main", some, 2));
	expect_reason(on, &ev, 0, "every changed path matches paths-ignore");
}

static void test_trigger__branch_and_path_filters_must_both_pass(void **state)
{
	const char *on = "on:\n  push:\n    branches: [main]\n"
			 "    paths: ['src/**']\n";
	const char *src[] = {"src/x"};
	const char *doc[] = {"doc/x"};

	(void)state;
	assert_true(push(on, "refs/heads/main", src, 1));
	assert_false(push(on, "refs/heads/main", doc, 1));
	assert_false(push(on, "refs/heads/dev", src, 1));
}

static void
test_trigger__path_filters_are_not_evaluated_for_tag_pushes(void **state)
{
	const char *on = "on:\n  push:\n    paths: ['src/**']\n";
	const char *doc[] = {"doc/x"};
	struct guts_event ev = {.name = "push",
				.ref = "refs/tags/v1",
				.paths = doc,
				.nr_paths = 1,
				.have_paths = 1};

	(void)state;
	assert_false(push(on, "refs/heads/main", doc, 1));
	expect_reason(on, &ev, 1, "not evaluated for tags");
}

static void
test_trigger__path_filters_skipped_for_deletion_or_unknown_diff(void **state)
{
	const char *on = "on:\n  push:\n    paths: ['src/**']\n";
	struct guts_event del = {
	    .name = "push",
	    .ref = "refs/heads/gone",
	    .after = "0000000000000000000000000000000000000000",
	    .have_paths = 1,
	};
	struct guts_event unknown = {.name = "push", .ref = "refs/heads/main"};

	(void)state;
	expect_reason(on, &del, 1, "not evaluated for deletions");
	expect_reason(on, &unknown, 1, "changed paths unknown");
	/* A known but empty diff has nothing that matches. */
	{
		struct guts_event none = {
		    .name = "push", .ref = "refs/heads/main", .have_paths = 1};

		expect_reason(on, &none, 0, "no path changed");
	}
}

static void test_trigger__pull_request_default_types(void **state)
{
	struct guts_event ev = {.name = "pull_request", .base_ref = "main"};

	(void)state;
	ev.action = "opened";
	expect_reason("on: pull_request\n", &ev, 1, "pull_request opened");
	ev.action = "synchronize";
	assert_true(match("on: pull_request\n", &ev, NULL));
	ev.action = "reopened";
	assert_true(match("on: pull_request\n", &ev, NULL));
	ev.action = "closed";
	expect_reason("on: pull_request\n", &ev, 0,
		      "activity type 'closed' is not in types (opened, "
		      "synchronize, reopened, the default)");
	ev.action = "labeled";
	assert_false(
	    match("on:\n  pull_request:\n    branches: [main]\n", &ev, NULL));
}

static void test_trigger__pull_request_types_replace_the_default(void **state)
{
	const char *on = "on:\n  pull_request:\n    types: [closed, labeled]\n";
	struct guts_event ev = {.name = "pull_request", .base_ref = "main"};

	(void)state;
	ev.action = "closed";
	assert_true(match(on, &ev, NULL));
	ev.action = "opened";
	expect_reason(on, &ev, 0, "not in types (closed, labeled)");
}

static void test_trigger__pull_request_branches_match_the_base(void **state)
{
	const char *on = "on:\n  pull_request:\n    branches: [main]\n";
	struct guts_event ev = {.name = "pull_request",
				.action = "opened",
				.base_ref = "refs/heads/main",
				.head_ref = "feature"};

	(void)state;
	assert_true(match(on, &ev, NULL));
	ev.base_ref = "feature";
	ev.head_ref = "main";
	expect_reason(on, &ev, 0,
		      "base branch 'feature' does not match branches filter");
	/* pull_request_target has the same rules. */
	ev.name = "pull_request_target";
	assert_false(match("on:\n  pull_request_target:\n    branches: "
			   "[main]\n",
			   &ev, NULL));
	ev.base_ref = "main";
	assert_true(match("on:\n  pull_request_target:\n    branches: "
			  "[main]\n",
			  &ev, NULL));
}

static void test_trigger__pull_request_paths(void **state)
{
	const char *on = "on:\n  pull_request:\n    paths-ignore: ['**.md']\n";
	const char *md[] = {"a.md", "b/c.md"};
	const char *code[] = {"a.md", "b.c"};
	struct guts_event ev = {.name = "pull_request",
				.action = "synchronize",
				.base_ref = "main",
				.paths = md,
				.nr_paths = 2,
				.have_paths = 1};

	(void)state;
	assert_false(match(on, &ev, NULL));
	ev.paths = code;
	assert_true(match(on, &ev, NULL));
}

static void test_trigger__schedule_matches_its_own_crons(void **state)
{
	const char *on = "on:\n  schedule:\n    - cron: '30 5 * * 1,3'\n"
			 "    - cron: '0 0 * * *'\n";
	struct guts_event ev = {.name = "schedule"};

	(void)state;
	ev.cron = "0 0 * * *";
	assert_true(match(on, &ev, NULL));
	ev.cron = "30  5 * * 1,3";
	assert_true(match(on, &ev, NULL));
	ev.cron = "0 1 * * *";
	expect_reason(on, &ev, 0,
		      "schedule '0 1 * * *' is not one of the workflow's");
	ev.cron = NULL;
	assert_true(match(on, &ev, NULL));
}

static void test_trigger__unlistened_event_does_not_run(void **state)
{
	struct guts_event ev = {.name = "pull_request", .action = "opened"};

	(void)state;
	expect_reason("on: push\n", &ev, 0,
		      "the workflow does not run on 'pull_request'");
}

static void test_trigger__other_events_check_types(void **state)
{
	const char *on = "on:\n  release:\n    types: [published]\n"
			 "  issues:\n";
	struct guts_event ev = {.name = "release", .action = "published"};

	(void)state;
	assert_true(match(on, &ev, NULL));
	ev.action = "created";
	expect_reason(on, &ev, 0, "'created' is not in types (published)");
	ev.name = "issues";
	assert_true(match(on, &ev, NULL));
}

static void test_trigger__workflow_run_checks_workflows_and_branch(void **state)
{
	const char *on = "on:\n  workflow_run:\n    workflows: [Build]\n"
			 "    types: [completed]\n    branches: [main]\n";
	struct guts_event ev = {.name = "workflow_run",
				.action = "completed",
				.workflow = "Build",
				.head_ref = "main"};

	(void)state;
	assert_true(match(on, &ev, NULL));
	ev.workflow = "Test";
	expect_reason(on, &ev, 0, "workflow 'Test' is not in workflows");
	ev.workflow = "Build";
	ev.head_ref = "dev";
	assert_false(match(on, &ev, NULL));
}

/* ---- workflow_dispatch inputs ---- */

static const char dispatch[] = "on:\n"
			       "  workflow_dispatch:\n"
			       "    inputs:\n"
			       "      level:\n"
			       "        type: choice\n"
			       "        options: [low, high]\n"
			       "        default: low\n"
			       "      dry:\n"
			       "        type: boolean\n"
			       "        default: false\n"
			       "      count:\n"
			       "        type: number\n"
			       "      name:\n"
			       "        required: true\n"
			       "      note:\n"
			       "        description: optional, no default\n";

/* Resolve @inputs_json for the dispatch workflow; returns rc. */
static int dispatch_with(const char *inputs_json, char **resolved)
{
	struct guts_workflow *wf = load(dispatch);
	struct guts_trigger_result r = GUTS_TRIGGER_RESULT_INIT;
	struct guts_event ev = {.name = "workflow_dispatch"};
	json_t *in = json_loads(inputs_json, 0, NULL);
	int rc;

	assert_non_null(in);
	ev.inputs = in;
	rc = guts_trigger_match(&r, wf, &ev);
	if (rc == 0) {
		assert_true(r.matched);
		if (resolved)
			*resolved = json_dumps(r.inputs, JSON_COMPACT);
	}
	guts_trigger_result_release(&r);
	json_decref(in);
	guts_workflow_free(wf);
	return rc;
}

static void expect_inputs(const char *given, const char *want)
{
	char *got = NULL;

	if (dispatch_with(given, &got) < 0)
		fail_msg("inputs %s refused: %s", given, guts_error_message());
	if (strcmp(got, want))
		fail_msg("inputs %s\n  got  %s\n  want %s", given, got, want);
	free(got);
}

static void expect_bad_input(const char *given, const char *needle)
{
	if (dispatch_with(given, NULL) != GUTS_EINVAL)
		fail_msg("inputs %s were accepted", given);
	if (!strstr(guts_error_message(), needle))
		fail_msg("message '%s' does not contain '%s'",
			 guts_error_message(), needle);
}

static void test_trigger__dispatch_fills_defaults_and_types_values(void **state)
{
	(void)state;
	expect_inputs("{\"name\":\"x\"}",
		      "{\"level\":\"low\",\"dry\":false,\"name\":\"x\"}");
	expect_inputs("{\"name\":\"x\",\"dry\":\"true\",\"count\":\"42\","
		      "\"level\":\"high\",\"note\":\"n\"}",
		      "{\"level\":\"high\",\"dry\":true,\"count\":42,"
		      "\"name\":\"x\",\"note\":\"n\"}");
	/* Typed JSON values are taken as they are. */
	expect_inputs("{\"name\":7,\"dry\":true,\"count\":-1.5}",
		      "{\"level\":\"low\",\"dry\":true,\"count\":-1.5,"
		      "\"name\":\"7\"}");
	expect_inputs("{\"name\":\"x\",\"dry\":\"FALSE\",\"count\":\" 1e3 \"}",
		      "{\"level\":\"low\",\"dry\":false,\"count\":1000,"
		      "\"name\":\"x\"}");
}

static void test_trigger__dispatch_refuses_bad_inputs_naming_them(void **state)
{
	(void)state;
	expect_bad_input("{}", "input 'name' is required");
	expect_bad_input("{\"name\":\"x\",\"dry\":\"yes\"}",
			 "input 'dry' must be true or false, not 'yes'");
	expect_bad_input("{\"name\":\"x\",\"count\":\"12abc\"}",
			 "input 'count' must be a number, not '12abc'");
	expect_bad_input("{\"name\":\"x\",\"count\":\"0x10\"}",
			 "input 'count' must be a number");
	expect_bad_input("{\"name\":\"x\",\"count\":\"nan\"}",
			 "input 'count' must be a number");
	expect_bad_input("{\"name\":\"x\",\"level\":\"mid\"}",
			 "input 'level' must be one of: low, high (not 'mid')");
	expect_bad_input("{\"name\":\"x\",\"colour\":\"red\"}",
			 "unexpected input 'colour'");
	expect_bad_input("{\"name\":[1]}", "input 'name' must be a string");
}

static void test_trigger__dispatch_without_inputs_refuses_any(void **state)
{
	struct guts_workflow *wf = load("on: workflow_dispatch\n");
	struct guts_trigger_result r = GUTS_TRIGGER_RESULT_INIT;
	struct guts_event ev = {.name = "workflow_dispatch"};
	json_t *in = json_pack("{s:s}", "x", "1");

	(void)state;
	assert_int_equal(guts_trigger_match(&r, wf, &ev), 0);
	assert_true(r.matched);
	assert_int_equal(json_object_size(r.inputs), 0);
	guts_trigger_result_release(&r);
	ev.inputs = in;
	assert_int_equal(guts_trigger_match(&r, wf, &ev), GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "unexpected input 'x'"));
	json_decref(in);
	guts_workflow_free(wf);
}

static void test_trigger__inputs_are_ignored_for_other_events(void **state)
{
	struct guts_workflow *wf = load("on: push\n");
	struct guts_trigger_result r = GUTS_TRIGGER_RESULT_INIT;
	struct guts_event ev = {.name = "push", .ref = "refs/heads/main"};
	json_t *in = json_pack("{s:s}", "x", "1");

	(void)state;
	ev.inputs = in;
	assert_int_equal(guts_trigger_match(&r, wf, &ev), 0);
	assert_true(r.matched);
	assert_int_equal(json_object_size(r.inputs), 0);
	guts_trigger_result_release(&r);
	json_decref(in);
	guts_workflow_free(wf);
}

static void test_trigger__event_without_name_is_refused(void **state)
{
	struct guts_workflow *wf = load("on: push\n");
	struct guts_trigger_result r = GUTS_TRIGGER_RESULT_INIT;
	struct guts_event ev = {0};

	(void)state;
	assert_int_equal(guts_trigger_match(&r, wf, &ev), GUTS_EINVAL);
	assert_null(r.reason);
	guts_workflow_free(wf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_trigger__push_branches_filter_decides_branch_pushes),
	    cmocka_unit_test(test_trigger__push_branches_ignore_skips_matching),
	    cmocka_unit_test(
		test_trigger__push_with_only_branch_filters_ignores_tags),
	    cmocka_unit_test(
		test_trigger__push_with_only_tag_filters_ignores_branches),
	    cmocka_unit_test(
		test_trigger__push_with_both_kinds_judges_each_by_its_own),
	    cmocka_unit_test(
		test_trigger__push_without_filters_runs_for_every_ref),
	    cmocka_unit_test(
		test_trigger__paths_run_when_any_changed_path_matches),
	    cmocka_unit_test(
		test_trigger__paths_ignore_skips_only_when_all_are_ignored),
	    cmocka_unit_test(
		test_trigger__branch_and_path_filters_must_both_pass),
	    cmocka_unit_test(
		test_trigger__path_filters_are_not_evaluated_for_tag_pushes),
	    cmocka_unit_test(
		test_trigger__path_filters_skipped_for_deletion_or_unknown_diff),
	    cmocka_unit_test(test_trigger__pull_request_default_types),
	    cmocka_unit_test(
		test_trigger__pull_request_types_replace_the_default),
	    cmocka_unit_test(
		test_trigger__pull_request_branches_match_the_base),
	    cmocka_unit_test(test_trigger__pull_request_paths),
	    cmocka_unit_test(test_trigger__schedule_matches_its_own_crons),
	    cmocka_unit_test(test_trigger__unlistened_event_does_not_run),
	    cmocka_unit_test(test_trigger__other_events_check_types),
	    cmocka_unit_test(
		test_trigger__workflow_run_checks_workflows_and_branch),
	    cmocka_unit_test(
		test_trigger__dispatch_fills_defaults_and_types_values),
	    cmocka_unit_test(
		test_trigger__dispatch_refuses_bad_inputs_naming_them),
	    cmocka_unit_test(test_trigger__dispatch_without_inputs_refuses_any),
	    cmocka_unit_test(test_trigger__inputs_are_ignored_for_other_events),
	    cmocka_unit_test(test_trigger__event_without_name_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
