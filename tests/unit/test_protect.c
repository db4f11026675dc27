/*
 * Unit tests for branch protection (node/protect.c) and the receive-pack
 * pieces it relies on (gitx_parse_push, gitx_push_refusal): the settings'
 * validation, how rules combine, how required contexts are judged, and
 * protect_check_merge against a real SQLite store and git repository.
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

#include "git.h"
#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/runcmd.h"
#include "protect.h"

/* ---- settings ---- */

static int parse(const char *text, struct protect_rule *rule)
{
	json_t *j = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(j);
	rc = protect_parse_settings(j, rule);
	json_decref(j);
	return rc;
}

static void
test_protect__settings_default_and_drop_repeated_contexts(void **state)
{
	struct protect_rule r;

	(void)state;
	assert_int_equal(parse("{}", &r), 0);
	assert_int_equal(r.contexts.nr, 0);
	assert_false(r.strict || r.require_pr || r.allow_force_push);
	protect_rule_release(&r);

	assert_int_equal(
	    parse("{\"required_status_checks\": {\"contexts\": [\"CI / "
		  "Build\", \"lint*\", \"CI / Build\"], \"strict\": true}, "
		  "\"require_pull_request\": true, \"allow_force_push\": "
		  "false}",
		  &r),
	    0);
	assert_int_equal(r.contexts.nr, 2);
	assert_string_equal(r.contexts.v[0], "CI / Build");
	assert_string_equal(r.contexts.v[1], "lint*");
	assert_true(r.strict && r.require_pr && !r.allow_force_push);
	protect_rule_release(&r);

	assert_int_equal(parse("{\"required_status_checks\": null}", &r), 0);
	protect_rule_release(&r);
}

static void expect_bad(const char *text, const char *needle)
{
	struct protect_rule r;

	assert_int_equal(parse(text, &r), GUTS_EINVAL);
	if (!strstr(guts_error_message(), needle))
		fail_msg("'%s' does not say '%s'", guts_error_message(),
			 needle);
}

static void test_protect__bad_settings_name_the_field(void **state)
{
	(void)state;
	expect_bad("{\"colour\": 1}", "colour: unknown field");
	expect_bad("{\"require_pull_request\": 1}", "require_pull_request:");
	expect_bad("{\"allow_force_push\": \"no\"}", "allow_force_push:");
	expect_bad("{\"required_status_checks\": 1}",
		   "required_status_checks: expected an object");
	expect_bad("{\"required_status_checks\": {\"x\": 1}}",
		   "required_status_checks.x: unknown field");
	expect_bad("{\"required_status_checks\": {\"strict\": 0}}",
		   "required_status_checks.strict:");
	expect_bad("{\"required_status_checks\": {\"contexts\": {}}}",
		   "required_status_checks.contexts: expected an array");
	expect_bad("{\"required_status_checks\": {\"contexts\": [\"a\", 1]}}",
		   "contexts[1]: expected a string");
	expect_bad("{\"required_status_checks\": {\"contexts\": [\"a[\"]}}",
		   "contexts[0]: ");
	expect_bad("{\"required_status_checks\": {\"contexts\": [\"!a\"]}}",
		   "cannot be negated");
	expect_bad("{\"required_status_checks\": {\"contexts\": [\"\"]}}",
		   "contexts[0]");
}

static void test_protect__patterns_are_filter_globs(void **state)
{
	char big[PROTECT_PATTERN_MAX + 2];

	(void)state;
	assert_int_equal(protect_pattern_check("main"), 0);
	assert_int_equal(protect_pattern_check("release/**"), 0);
	assert_int_equal(protect_pattern_check("v[0-9]+.*"), 0);
	assert_int_equal(protect_pattern_check(""), GUTS_EINVAL);
	assert_int_equal(protect_pattern_check("!main"), GUTS_EINVAL);
	assert_int_equal(protect_pattern_check("feat/[a-"), GUTS_EINVAL);
	assert_int_equal(protect_pattern_check("a\nb"), GUTS_EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(protect_pattern_check(big), GUTS_EINVAL);
}

/* ---- combining and judging ---- */

static void test_protect__rules_combine(void **state)
{
	struct protect_rule acc, a, b;

	(void)state;
	protect_rule_init(&acc);
	protect_rule_init(&a);
	protect_rule_init(&b);
	guts_strvec_push(&a.contexts, "CI / Build");
	a.allow_force_push = 1;
	guts_strvec_push(&b.contexts, "lint");
	guts_strvec_push(&b.contexts, "CI / Build");
	b.strict = 1;
	b.require_pr = 1;
	b.allow_force_push = 0;
	protect_rule_combine(&acc, &a, 1);
	assert_true(acc.allow_force_push);
	protect_rule_combine(&acc, &b, 0);
	assert_int_equal(acc.contexts.nr, 2);
	assert_string_equal(acc.contexts.v[0], "CI / Build");
	assert_string_equal(acc.contexts.v[1], "lint");
	assert_true(acc.strict && acc.require_pr);
	assert_false(acc.allow_force_push); /* only when every rule allows */
	protect_rule_release(&acc);
	protect_rule_release(&a);
	protect_rule_release(&b);
}

static int eval(const char *const *req, const char *latest, char **summary)
{
	struct guts_strvec r = GUTS_STRVEC_INIT;
	json_t *j = json_loads(latest, 0, NULL);
	int ok;

	for (; *req; req++)
		guts_strvec_push(&r, *req);
	ok = protect_eval_contexts(&r, j, summary);
	json_decref(j);
	guts_strvec_release(&r);
	return ok;
}

static void
test_protect__contexts_are_judged_by_their_latest_state(void **state)
{
	static const char *const req[] = {"CI / Build", "lint*", "Deploy / x",
					  "c++ build", NULL};
	char *s = NULL;

	(void)state;
	assert_false(eval(req,
			  "[{\"context\":\"CI / Build\",\"state\":\"failure\"},"
			  "{\"context\":\"Deploy / x\",\"state\":\"pending\"}]",
			  &s));
	assert_string_equal(s, "CI / Build: failure, lint*: missing, "
			       "Deploy / x: pending, c++ build: missing");
	free(s);
	/* A glob needs every context it matches to pass. */
	assert_false(eval(req,
			  "[{\"context\":\"CI / Build\",\"state\":\"success\"},"
			  "{\"context\":\"lint-a\",\"state\":\"success\"},"
			  "{\"context\":\"lint-b\",\"state\":\"error\"},"
			  "{\"context\":\"Deploy / x\",\"state\":\"success\"},"
			  "{\"context\":\"c++ build\",\"state\":\"success\"}]",
			  &s));
	assert_string_equal(s, "CI / Build: success, lint*: error, "
			       "Deploy / x: success, c++ build: success");
	free(s);
	assert_true(eval(req,
			 "[{\"context\":\"CI / Build\",\"state\":\"success\"},"
			 "{\"context\":\"lint-a\",\"state\":\"success\"},"
			 "{\"context\":\"other\",\"state\":\"failure\"},"
			 "{\"context\":\"Deploy / x\",\"state\":\"success\"},"
			 "{\"context\":\"c++ build\",\"state\":\"success\"}]",
			 &s));
	free(s);
}

/* ---- merges against a real store and repository ---- */

static char *run_git(const char *cwd, const char *a1, const char *a2,
		     const char *a3, const char *a4)
{
	const char *argv[] = {"git",
			      "-c",
			      "user.name=Ada",
			      "-c",
			      "user.email=ada@example.com",
			      a1,
			      a2,
			      a3,
			      a4,
			      NULL};
	struct guts_runcmd cmd = {argv, NULL, cwd, 0, 30000};
	struct guts_runcmd_result res;
	char *out;

	assert_int_equal(guts_runcmd_run(&cmd, &res), 0);
	if (res.status != 0)
		fail_msg("git %s: %s", a1, res.err);
	out = guts_xstrdup(res.out);
	out[strcspn(out, "\n")] = '\0';
	guts_runcmd_result_release(&res);
	return out;
}

static void status(struct node *n, const char *sha, const char *ctx,
		   const char *state)
{
	assert_int_equal(
	    store_exec(n->st,
		       "INSERT INTO statuses (repo_id, sha, context, state, "
		       "created_at) VALUES (1, $1, $2, $3, 0)",
		       STORE_ARGS(SS(sha), SS(ctx), SS(state)), NULL),
	    0);
}

static void
test_protect__merge_needs_passing_checks_and_with_strict_the_base(void **state)
{
	char dir[] = "/tmp/guts-protect-XXXXXX", *url, *gitdir;
	char *base, *head, *side, *why = NULL;
	struct node n;

	(void)state;
	memset(&n, 0, sizeof(n));
	assert_non_null(mkdtemp(dir));
	url = guts_xasprintf("sqlite:%s/guts.db", dir);
	gitdir = guts_xasprintf("%s/.git", dir);
	assert_int_equal(store_open(&n.st, url), 0);
	assert_int_equal(
	    store_exec(n.st,
		       "INSERT INTO repos (id, owner, name, visibility, "
		       "default_branch, created_at, updated_at) VALUES (1, "
		       "'o', 'r', 'public', 'main', 0, 0)",
		       NULL, 0, NULL),
	    0);
	free(run_git(dir, "init", "-q", "-b", "main"));
	free(run_git(dir, "commit", "-q", "--allow-empty", "-mbase"));
	base = run_git(dir, "rev-parse", "HEAD", NULL, NULL);
	free(run_git(dir, "commit", "-q", "--allow-empty", "-mhead"));
	head = run_git(dir, "rev-parse", "HEAD", NULL, NULL);
	free(run_git(dir, "branch", "side", base, NULL));
	free(run_git(dir, "checkout", "-q", "side", NULL));
	free(run_git(dir, "commit", "-q", "--allow-empty", "-mside"));
	side = run_git(dir, "rev-parse", "HEAD", NULL, NULL);

	/* No rule: anything merges. */
	assert_int_equal(
	    protect_check_merge(&n, 1, gitdir, "main", side, head, &why), 0);
	assert_null(why);

	assert_int_equal(
	    store_exec(n.st,
		       "INSERT INTO protections (repo_id, pattern, contexts, "
		       "strict, created_at, updated_at) VALUES (1, 'ma*', "
		       "'[\"CI / Build\"]', 0, 0, 0), (1, 'main', "
		       "'[\"lint\"]', 1, 0, 0), (1, 'dev', '[\"x\"]', 0, 0, "
		       "0)",
		       NULL, 0, NULL),
	    0);
	status(&n, head, "CI / Build", "success");
	status(&n, head, "CI / Build", "failure"); /* the latest counts */
	status(&n, head, "lint", "pending");
	assert_int_equal(
	    protect_check_merge(&n, 1, gitdir, "main", base, head, &why),
	    GUTS_ECONFLICT);
	assert_string_equal(why, "required status checks have not passed: "
				 "CI / Build: failure, lint: pending");
	assert_string_equal(guts_error_message(), why);
	free(why);
	why = NULL;

	status(&n, head, "CI / Build", "success");
	status(&n, head, "lint", "success");
	assert_int_equal(
	    protect_check_merge(&n, 1, gitdir, "main", base, head, &why), 0);
	assert_null(why);

	/* strict (from the 'main' rule): the base must be in the head. */
	assert_int_equal(
	    protect_check_merge(&n, 1, gitdir, "main", side, head, &why),
	    GUTS_ECONFLICT);
	assert_string_equal(why,
			    "the head branch is behind main; update it first");
	free(why);

	free(url);
	free(gitdir);
	free(base);
	free(head);
	free(side);
	store_close(n.st);
	{
		const char *argv[] = {"rm", "-rf", dir, NULL};
		struct guts_runcmd cmd = {argv, NULL, NULL, 0, 30000};
		struct guts_runcmd_result res;

		guts_runcmd_run(&cmd, &res);
		guts_runcmd_result_release(&res);
	}
}

/* ---- the receive-pack request and refusal ---- */

static void pkt(struct guts_buf *b, const char *s, size_t n)
{
	guts_buf_addf(b, "%04zx", n + 4);
	guts_buf_add(b, s, n);
}

#define OLD "1111111111111111111111111111111111111111"
#define NEW "2222222222222222222222222222222222222222"

static void request(struct guts_buf *b, const char *caps, int options)
{
	char first[256];
	int n = snprintf(first, sizeof(first),
			 OLD " " NEW " refs/heads/main%c%s\n", '\0', caps);

	guts_buf_init(b, 0);
	pkt(b, first, (size_t)n);
	pkt(b, GITX_ZERO_SHA " " NEW " refs/heads/side\n",
	    strlen(GITX_ZERO_SHA " " NEW " refs/heads/side\n"));
	guts_buf_adds(b, "0000");
	if (options) {
		pkt(b, "bypass\n", 7);
		pkt(b, "ci.skip", 7);
		guts_buf_adds(b, "0000");
	}
	guts_buf_adds(b, "PACK");
}

static void test_protect__push_request_gives_caps_options_and_pack(void **state)
{
	struct gitx_push p;
	struct guts_buf b;

	(void)state;
	request(&b, "report-status side-band-64k push-options agent=git/2", 1);
	assert_int_equal(gitx_parse_push(b.data, b.len, &p), 0);
	assert_int_equal(p.nr, 2);
	assert_string_equal(p.updates[1].ref, "refs/heads/side");
	assert_true(gitx_push_has_cap(p.caps, "side-band-64k"));
	assert_false(gitx_push_has_cap(p.caps, "side-band"));
	assert_false(gitx_push_has_cap(p.caps, "agent"));
	assert_int_equal(p.nr_options, 2);
	assert_string_equal(p.options[0], "bypass");
	assert_string_equal(p.options[1], "ci.skip");
	assert_memory_equal(b.data + p.pack_at, "PACK", 4);
	gitx_push_release(&p);
	guts_buf_release(&b);

	/* Without the capability what follows the flush is the pack. */
	request(&b, "report-status", 0);
	assert_int_equal(gitx_parse_push(b.data, b.len, &p), 0);
	assert_int_equal(p.nr_options, 0);
	assert_non_null(p.options);
	assert_memory_equal(b.data + p.pack_at, "PACK", 4);
	gitx_push_release(&p);
	guts_buf_release(&b);

	/* Options cut short are refused. */
	request(&b, "push-options", 0);
	assert_int_equal(gitx_parse_push(b.data, b.len, &p), GUTS_EINVAL);
	guts_buf_release(&b);
}

static void test_protect__refusal_is_a_report_in_side_band(void **state)
{
	static const char want[] = "0014\002remote says no\n"
				   "005a\001"
				   "000eunpack ok\n"
				   "0022ng refs/heads/main it is main\n"
				   "0021ng refs/heads/side other one\n"
				   "0000"
				   "0000";
	char *why[] = {"it is main", NULL};
	struct gitx_push p;
	struct guts_buf b, out;

	(void)state;
	request(&b, "report-status side-band-64k", 0);
	assert_int_equal(gitx_parse_push(b.data, b.len, &p), 0);
	guts_buf_init(&out, 0);
	assert_int_equal(
	    gitx_push_refusal(&out, &p, why, "other one", "remote says no"), 0);
	assert_int_equal(out.len, sizeof(want) - 1);
	assert_memory_equal(out.data, want, out.len);
	gitx_push_release(&p);
	guts_buf_release(&b);
	guts_buf_release(&out);

	/* No side-band: the bare report; no report-status: nothing. */
	request(&b, "report-status-v2", 0);
	assert_int_equal(gitx_parse_push(b.data, b.len, &p), 0);
	guts_buf_init(&out, 0);
	assert_int_equal(gitx_push_refusal(&out, &p, why, "x", "msg"), 0);
	assert_memory_equal(out.data, "000eunpack ok\n", 14);
	assert_memory_equal(out.data + out.len - 4, "0000", 4);
	gitx_push_release(&p);
	guts_buf_release(&b);
	guts_buf_release(&out);

	request(&b, "side-band-64k", 0);
	assert_int_equal(gitx_parse_push(b.data, b.len, &p), 0);
	guts_buf_init(&out, 0);
	assert_int_equal(gitx_push_refusal(&out, &p, why, "x", "msg"),
			 GUTS_EINVAL);
	assert_int_equal(out.len, 0);
	gitx_push_release(&p);
	guts_buf_release(&b);
	guts_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_protect__settings_default_and_drop_repeated_contexts),
	    cmocka_unit_test(test_protect__bad_settings_name_the_field),
	    cmocka_unit_test(test_protect__patterns_are_filter_globs),
	    cmocka_unit_test(test_protect__rules_combine),
	    cmocka_unit_test(
		test_protect__contexts_are_judged_by_their_latest_state),
	    cmocka_unit_test(
		test_protect__merge_needs_passing_checks_and_with_strict_the_base),
	    cmocka_unit_test(
		test_protect__push_request_gives_caps_options_and_pack),
	    cmocka_unit_test(test_protect__refusal_is_a_report_in_side_band),
	};

	if (gitx_global_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
