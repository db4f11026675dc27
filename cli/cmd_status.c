/*
 * guts status: the combined commit status of a commit or branch, with
 * every context's state, description and URL.
 *
 *   guts status [SHA|REF]
 *
 * Without a ref: the work tree's HEAD commit when the repository comes from
 * its origin remote, else the repository's default branch.
 *
 * Exit status: 0 when the combined state is success, 1 for failure or
 * error, 8 while pending (no status yet counts as pending), 2 for a usage
 * error; 1 too when the node cannot be asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/apiutil.h"
#include "guts/runcmd.h"
#include "api.h"
#include "commands.h"
#include "banned.h"

#define EXIT_PENDING 8

static const char status_usage[] =
    "usage: guts status [SHA|REF] [<client options>]\n"
    "\n"
    "Show the combined status of a commit (a sha, or a branch or tag for\n"
    "its head): the latest state, description and URL of each context,\n"
    "such as \"CI / build\".  Without a ref: the work tree's HEAD when the\n"
    "repository comes from its origin remote, else the default branch.\n"
    "\n"
    "Exit status: 0 success, 1 failure or error, 8 pending (or no status\n"
    "yet), 2 usage error.  1 also when the node cannot be asked.\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static int exit_for(const char *state)
{
	if (state && !strcmp(state, "success"))
		return 0;
	if (state && !strcmp(state, "pending"))
		return EXIT_PENDING;
	return 1;
}

int cmd_status(int argc, char **argv)
{
	struct api a;
	const char *ref = NULL, *state;
	json_t *st = NULL, *s;
	char *path = NULL, *eref = NULL, *local = NULL;
	size_t i;
	int rc;

	api_init(&a);
	rc = api_args(&a, argc, argv, "status", status_usage, NULL, &ref);
	if (!rc)
		rc = api_repo(&a);
	if (rc)
		goto out;
	if (!ref) {
		static const char *const head[] = {"git", "rev-parse", "HEAD",
						   NULL};

		/* The commit checked out here, when "here" is the repository;
		 * else the node's HEAD: the default branch. */
		if (!a.repo_opt && !getenv("GUTS_REPO"))
			local = guts_runcmd_line(head, NULL);
		ref = local && strlen(local) == 40 ? local : "HEAD";
	}
	eref = guts_http_escape(ref);
	path = api_repo_path(&a, "/commits/%s/status", eref);
	rc = api_call(&a, "GET", path, NULL, &st);
	if (rc)
		goto out;
	state = json_string_value(json_object_get(st, "state"));
	if (a.json) {
		api_print_json(st);
	} else {
		const json_t *list = json_object_get(st, "statuses");
		struct guts_table t;
		char b[64];
		char *sha = guts_api_printable(jtext(st, "sha", b, sizeof(b)));
		char *sstate = guts_api_printable(state);

		printf("%.12s: %s (%zu context%s)\n", *sha ? sha : ref,
		       *sstate ? sstate : "unknown", json_array_size(list),
		       json_array_size(list) == 1 ? "" : "s");
		free(sha);
		free(sstate);
		if (json_array_size(list)) {
			guts_table_init(&t, 5);
			guts_table_add(&t, "STATE");
			guts_table_add(&t, "CONTEXT");
			guts_table_add(&t, "UPDATED");
			guts_table_add(&t, "DESCRIPTION");
			guts_table_add(&t, "URL");
			json_array_foreach(list, i, s) {
				guts_table_add(&t,
					       jtext(s, "state", b, sizeof(b)));
				guts_table_add(
				    &t, jtext(s, "context", b, sizeof(b)));
				guts_table_add(
				    &t, jago(s, "updated_at", b, sizeof(b)));
				guts_table_add(
				    &t, jtext(s, "description", b, sizeof(b)));
				guts_table_add(
				    &t, jtext(s, "target_url", b, sizeof(b)));
			}
			api_print_table(&t, "  ");
		}
	}
	rc = exit_for(state);
out:
	free(local);
	free(eref);
	free(path);
	json_decref(st);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}
