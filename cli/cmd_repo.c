/*
 * guts repo: repositories on a node.
 *
 *   guts repo create NAME|OWNER/NAME [--private]
 *   guts repo list [--limit N]
 *   guts repo view [OWNER/NAME]
 *   guts repo delete OWNER/NAME
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/apiutil.h"
#include "guts/error.h"
#include "api.h"
#include "commands.h"
#include "banned.h"

static const char repo_usage[] =
    "usage: guts repo <command> [<args>]\n"
    "\n"
    "Commands:\n"
    "  create   make a repository on the node\n"
    "  list     the repositories you can read\n"
    "  view     one repository\n"
    "  delete   remove a repository with its runs and logs (admin)\n"
    "\n"
    "Run 'guts repo <command> --help' for its options.\n";

static const char create_usage[] =
    "usage: guts repo create NAME|OWNER/NAME [--private] [<client options>]\n"
    "\n"
    "Make a repository, public unless --private.  OWNER defaults to you;\n"
    "only admins create repositories for others.\n"
    "\n" API_CLIENT_HELP;

static const char list_usage[] =
    "usage: guts repo list [--limit N] [<client options>]\n"
    "\n"
    "List the repositories you can read, newest first.\n"
    "\n"
    "  --limit N          show at most N (default 30)\n"
    "\n" API_CLIENT_HELP;

static const char view_usage[] =
    "usage: guts repo view [OWNER/NAME] [<client options>]\n"
    "\n"
    "Show a repository (default: the one of -R, GUTS_REPO or origin).\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char delete_usage[] =
    "usage: guts repo delete OWNER/NAME [<client options>]\n"
    "\n"
    "Remove a repository, its runs and its logs.  Needs an admin token.\n"
    "\n" API_CLIENT_HELP;

static int repo_create(int argc, char **argv)
{
	struct api a;
	const char *spec = NULL, *slash;
	int private = 0, rc = 0;
	json_t *body, *out = NULL;

	api_init(&a);
	for (int i = 1; i < argc; i++) {
		int r;

		if (cli_is_help(argv[i])) {
			fputs(create_usage, stdout);
			return 0;
		}
		if ((r = api_opt(&a, argc, argv, &i)) != 0) {
			if (r < 0)
				return 2;
			continue;
		}
		if (!strcmp(argv[i], "--private"))
		private = 1;
		else if (!strcmp(argv[i], "--public")) private = 0;
		else if (argv[i][0] == '-' ||
			 spec) return cli_unknown("repo create", argv[i]);
		else spec = argv[i];
	}
	if (!spec)
		return cli_fail(2, "repo create: which repository? (see 'guts "
				   "repo create --help')");
	slash = strchr(spec, '/');
	if (slash) {
		char *owner, *name;

		if (guts_api_split_repo(spec, &owner, &name) < 0)
			return cli_fail(2, "%s", guts_error_message());
		body = json_pack("{s:s, s:s}", "owner", owner, "name", name);
		free(owner);
		free(name);
	} else {
		if (!guts_api_valid_name(spec))
			return cli_fail(
			    2, "'%s' is not a valid repository name", spec);
		body = json_pack("{s:s}", "name", spec);
	}
	json_object_set_new(body, "visibility",
			    json_string(private ? "private" : "public"));
	if (!api_call(&a, "POST", "/api/repos", body, &out)) {
		char b1[32];

		if (a.json) {
			api_print_json(out);
		} else {
			char *name = guts_api_printable(
			    jtext(out, "full_name", b1, sizeof(b1)));
			char *url = guts_api_printable(
			    jtext(out, "clone_url", b1, sizeof(b1)));

			printf("Created repository %s (%s)\n", name,
			       private ? "private" : "public");
			if (*url)
				printf("Clone it with: git clone %s\n", url);
			free(name);
			free(url);
		}
	} else {
		rc = 1;
	}
	json_decref(out);
	json_decref(body);
	api_release(&a);
	return rc;
}

static int repo_list(int argc, char **argv)
{
	struct api a;
	long long limit = 30;
	json_t *list = NULL, *r;
	size_t i;
	int rc;

	api_init(&a);
	rc = api_args(&a, argc, argv, "repo list", list_usage, &limit, NULL);
	if (rc)
		goto out;
	rc = api_list(&a, "/api/repos", limit, &list);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(list);
	} else if (!json_array_size(list)) {
		fprintf(stderr, "No repositories.\n");
	} else {
		struct guts_table t;
		char b[64];

		guts_table_init(&t, 4);
		guts_table_add(&t, "NAME");
		guts_table_add(&t, "VISIBILITY");
		guts_table_add(&t, "BRANCH");
		guts_table_add(&t, "UPDATED");
		json_array_foreach(list, i, r) {
			guts_table_add(&t, jtext(r, "full_name", b, sizeof(b)));
			guts_table_add(&t,
				       jtext(r, "visibility", b, sizeof(b)));
			guts_table_add(
			    &t, jtext(r, "default_branch", b, sizeof(b)));
			guts_table_add(&t, jago(r, "updated_at", b, sizeof(b)));
		}
		api_print_table(&t, "");
	}
out:
	json_decref(list);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

static int repo_view(int argc, char **argv)
{
	struct api a;
	const char *spec = NULL;
	json_t *out = NULL;
	char *path = NULL;
	int rc;

	api_init(&a);
	rc = api_args(&a, argc, argv, "repo view", view_usage, NULL, &spec);
	if (rc)
		goto out;
	if (spec)
		a.repo_opt = spec;
	rc = api_repo(&a);
	if (rc)
		goto out;
	path = api_repo_path(&a, "%s", "");
	rc = api_call(&a, "GET", path, NULL, &out);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(out);
	} else {
		static const char *const keys[][2] = {
		    {"visibility:", "visibility"},
		    {"default branch:", "default_branch"},
		    {"clone:", "clone_url"},
		    {"id:", "id"},
		};
		struct guts_table t;
		char b[64];

		guts_table_init(&t, 2);
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			guts_table_add(&t, keys[k][0]);
			guts_table_add(&t,
				       jtext(out, keys[k][1], b, sizeof(b)));
		}
		guts_table_add(&t, "created:");
		guts_table_add(&t, jago(out, "created_at", b, sizeof(b)));
		guts_table_add(&t, "updated:");
		guts_table_add(&t, jago(out, "updated_at", b, sizeof(b)));
		{
			char *name = guts_api_printable(
			    jtext(out, "full_name", b, sizeof(b)));

			printf("%s\n", *name ? name : a.repo);
			free(name);
		}
		api_print_table(&t, "  ");
	}
out:
	free(path);
	json_decref(out);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

static int repo_delete(int argc, char **argv)
{
	struct api a;
	const char *spec = NULL;
	char *path = NULL;
	int rc;

	api_init(&a);
	rc = api_args(&a, argc, argv, "repo delete", delete_usage, NULL, &spec);
	if (rc)
		goto out;
	/* Never the repository of GUTS_REPO or origin by default. */
	if (!spec && !a.repo_opt) {
		rc = cli_fail(2, "repo delete: which repository? Name it, "
				 "OWNER/NAME");
		goto out;
	}
	if (spec)
		a.repo_opt = spec;
	rc = api_repo(&a);
	if (rc)
		goto out;
	path = api_repo_path(&a, "%s", "");
	rc = api_call(&a, "DELETE", path, NULL, NULL);
	if (!rc && !a.json)
		printf("Deleted repository %s\n", a.repo);
out:
	free(path);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

int cmd_repo(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(repo_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "create"))
		return repo_create(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return repo_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "view"))
		return repo_view(argc - 1, argv + 1);
	if (!strcmp(argv[1], "delete"))
		return repo_delete(argc - 1, argv + 1);
	return cli_fail(
	    2, "repo: unknown command '%s' (see 'guts repo --help')", argv[1]);
}
