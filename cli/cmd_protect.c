/*
 * guts protect: branch protection rules (docs/protection.md).
 *
 *   guts protect set BRANCH [--require CONTEXT]... [--strict] [--require-pr]
 *                           [--allow-force-push]
 *   guts protect show [BRANCH]
 *   guts protect rm BRANCH
 *
 * BRANCH is a branch name or a glob of them (guts/filter.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/apiutil.h"
#include "guts/strvec.h"
#include "api.h"
#include "commands.h"
#include "banned.h"

static const char protect_usage[] =
    "usage: guts protect <command> [<args>]\n"
    "\n"
    "Commands:\n"
    "  set      protect the branches matching a pattern (admin)\n"
    "  show     the rules, or those that apply to one branch\n"
    "  rm       remove the rule of a pattern (admin)\n"
    "\n"
    "Run 'guts protect <command> --help' for its options.\n";

static const char set_usage[] =
    "usage: guts protect set BRANCH [--require CONTEXT]... [--strict]\n"
    "                        [--require-pr] [--allow-force-push]\n"
    "                        [<client options>]\n"
    "\n"
    "Protect the branches matching BRANCH, a name or a glob (\"release/*\"),\n"
    "replacing the pattern's rule if it has one.  Needs an admin token.\n"
    "\n"
    "  --require CONTEXT   a status context that must be success before a\n"
    "                      pull request merges (\"CI / Build\"; globs such\n"
    "                      as \"lint*\" too); repeat for more\n"
    "  --strict            the head branch must contain the base to merge\n"
    "  --require-pr        refuse direct pushes: changes come through pull\n"
    "                      requests\n"
    "  --allow-force-push  accept pushes that are not fast-forwards\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char show_usage[] =
    "usage: guts protect show [BRANCH] [<client options>]\n"
    "\n"
    "Show every protection rule of the repository, or with BRANCH the rules\n"
    "that apply to that branch.\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char rm_usage[] =
    "usage: guts protect rm BRANCH [<client options>]\n"
    "\n"
    "Remove the rule of the pattern BRANCH (as given to 'guts protect\n"
    "set').  Needs an admin token.\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

/* "CI / Build, lint*" or "none". */
static char *contexts_text(const json_t *rule)
{
	const json_t *list = json_object_get(
	    json_object_get(rule, "required_status_checks"), "contexts");
	struct guts_buf b;
	size_t i;
	json_t *c;

	guts_buf_init(&b, 0);
	json_array_foreach(list, i, c)
		guts_buf_addf(&b, "%s%s", i ? ", " : "", json_string_value(c));
	if (!b.len)
		guts_buf_adds(&b, "none");
	return guts_buf_detach(&b, NULL);
}

static int flag(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static void print_rule(const json_t *rule)
{
	struct guts_table t;
	char *ctx = contexts_text(rule);
	char *pat = guts_api_printable(
	    json_string_value(json_object_get(rule, "pattern")));
	const json_t *checks = json_object_get(rule, "required_status_checks");

	printf("%s\n", pat);
	guts_table_init(&t, 2);
	guts_table_add(&t, "required checks:");
	guts_table_add(&t, ctx);
	guts_table_add(&t, "strict:");
	guts_table_add(&t, flag(checks, "strict") ? "yes: the head must "
						    "contain the base"
						  : "no");
	guts_table_add(&t, "direct pushes:");
	guts_table_add(&t, flag(rule, "require_pull_request")
			       ? "refused: pull requests only"
			       : "allowed");
	guts_table_add(&t, "force pushes:");
	guts_table_add(&t,
		       flag(rule, "allow_force_push") ? "allowed" : "refused");
	api_print_table(&t, "  ");
	free(pat);
	free(ctx);
}

static char *rule_path(struct api *a, const char *pattern)
{
	char *e = guts_http_escape(pattern);
	char *path = api_repo_path(a, "/branches/%s/protection", e);

	free(e);
	return path;
}

static int protect_set(int argc, char **argv)
{
	struct guts_strvec ctx = GUTS_STRVEC_INIT;
	const char *branch = NULL;
	int strict = 0, require_pr = 0, force = 0, rc = 0;
	json_t *body = NULL, *list, *out = NULL;
	char *path = NULL;
	struct api a;

	api_init(&a);
	for (int i = 1; i < argc && !rc; i++) {
		const char *v;
		int r;

		if (cli_is_help(argv[i])) {
			fputs(set_usage, stdout);
			rc = -1;
			break;
		}
		if ((r = api_opt(&a, argc, argv, &i)) != 0) {
			rc = r < 0 ? 2 : 0;
			continue;
		}
		if ((r = cli_opt_value(argc, argv, &i, "--require", NULL,
				       &v))) {
			if (r < 0)
				rc = 2;
			else
				guts_strvec_push(&ctx, v);
			continue;
		}
		if (!strcmp(argv[i], "--strict"))
			strict = 1;
		else if (!strcmp(argv[i], "--require-pr"))
			require_pr = 1;
		else if (!strcmp(argv[i], "--allow-force-push"))
			force = 1;
		else if (argv[i][0] == '-' || branch)
			rc = cli_unknown("protect set", argv[i]);
		else
			branch = argv[i];
	}
	if (!rc && !branch)
		rc = cli_fail(2, "protect set: which branch? (see 'guts "
				 "protect set --help')");
	if (!rc)
		rc = api_repo(&a);
	if (rc)
		goto out;
	list = json_array();
	for (size_t i = 0; i < ctx.nr; i++)
		json_array_append_new(list, json_string(ctx.v[i]));
	body = json_pack("{s:{s:o, s:b}, s:b, s:b}", "required_status_checks",
			 "contexts", list, "strict", strict,
			 "require_pull_request", require_pr, "allow_force_push",
			 force);
	path = rule_path(&a, branch);
	rc = api_call(&a, "PUT", path, body, &out);
	if (rc)
		goto out;
	if (a.json)
		api_print_json(out);
	else
		print_rule(out);
out:
	free(path);
	json_decref(out);
	json_decref(body);
	guts_strvec_release(&ctx);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

static int protect_show(int argc, char **argv)
{
	const char *branch = NULL;
	json_t *list = NULL, *rule;
	char *path = NULL;
	struct api a;
	size_t i;
	int rc;

	api_init(&a);
	rc =
	    api_args(&a, argc, argv, "protect show", show_usage, NULL, &branch);
	if (!rc)
		rc = api_repo(&a);
	if (rc)
		goto out;
	if (branch) {
		char *e = guts_http_escape(branch);

		path = api_repo_path(&a, "/protections?branch=%s", e);
		free(e);
	} else {
		path = api_repo_path(&a, "/protections");
	}
	rc = api_list(&a, path, 0, &list);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(list);
	} else if (!json_array_size(list)) {
		if (branch)
			fprintf(stderr, "No rule protects '%s'.\n", branch);
		else
			fprintf(stderr, "No protected branches.\n");
	} else {
		json_array_foreach(list, i, rule) {
			if (i)
				putchar('\n');
			print_rule(rule);
		}
	}
out:
	free(path);
	json_decref(list);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

static int protect_rm(int argc, char **argv)
{
	const char *branch = NULL;
	char *path = NULL;
	struct api a;
	int rc;

	api_init(&a);
	rc = api_args(&a, argc, argv, "protect rm", rm_usage, NULL, &branch);
	if (!rc && !branch)
		rc = cli_fail(2, "protect rm: which branch pattern? (see "
				 "'guts protect rm --help')");
	if (!rc)
		rc = api_repo(&a);
	if (rc)
		goto out;
	path = rule_path(&a, branch);
	rc = api_call(&a, "DELETE", path, NULL, NULL);
	if (!rc && !a.json) {
		char *p = guts_api_printable(branch);

		printf("Removed the protection of '%s'\n", p);
		free(p);
	}
out:
	free(path);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

int cmd_protect(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(protect_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "set"))
		return protect_set(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return protect_show(argc - 1, argv + 1);
	if (!strcmp(argv[1], "rm"))
		return protect_rm(argc - 1, argv + 1);
	return cli_fail(2,
			"protect: unknown command '%s' (see 'guts protect "
			"--help')",
			argv[1]);
}
