/*
 * guts workflow list and guts workflow run: a repository's workflows on a
 * node (the offline validate and plan are in cmd_workflow.c, cmd_plan.c).
 *
 *   guts workflow list [--limit N]
 *   guts workflow run NAME [--ref REF] [--input K=V]...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/apiutil.h"
#include "guts/buf.h"
#include "api.h"
#include "commands.h"
#include "banned.h"

static const char list_usage[] =
    "usage: guts workflow list [--limit N] [<client options>]\n"
    "\n"
    "List the workflows of the repository's default branch, as last pushed.\n"
    "\n"
    "  --limit N          show at most N (default: all)\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char run_usage[] =
    "usage: guts workflow run NAME [--ref REF] [--input K=V]... "
    "[<client options>]\n"
    "\n"
    "Start a run of the workflow NAME (its id, file name such as ci.yml, or\n"
    "name): a workflow_dispatch run, or a manual one when the workflow has\n"
    "no workflow_dispatch trigger.  Prints the new run's id.\n"
    "\n"
    "  --ref REF          the branch, tag or commit (default: the default\n"
    "                     branch)\n"
    "  --input K=V        a workflow_dispatch input (repeatable); the node\n"
    "                     converts it to the input's type (also -f and\n"
    "                     --field, as in gh workflow run)\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

/* "push, workflow_dispatch" from the triggers array. */
static char *join(const json_t *arr)
{
	struct guts_buf b;
	const json_t *v;
	size_t i;

	guts_buf_init(&b, 0);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			continue;
		if (b.len)
			guts_buf_adds(&b, ", ");
		guts_buf_adds(&b, json_string_value(v));
	}
	return guts_buf_detach(&b, NULL);
}

int cmd_workflow_list(int argc, char **argv)
{
	struct api a;
	long long limit = 0;
	json_t *list = NULL, *w;
	char *path = NULL;
	size_t i;
	int rc;

	api_init(&a);
	rc =
	    api_args(&a, argc, argv, "workflow list", list_usage, &limit, NULL);
	if (!rc)
		rc = api_repo(&a);
	if (rc)
		goto out;
	path = api_repo_path(&a, "/workflows");
	rc = api_list(&a, path, limit, &list);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(list);
	} else if (!json_array_size(list)) {
		fprintf(stderr, "No workflows in %s.\n", a.repo);
	} else {
		struct guts_table t;
		char b[64];

		guts_table_init(&t, 5);
		guts_table_add(&t, "ID");
		guts_table_add(&t, "NAME");
		guts_table_add(&t, "PATH");
		guts_table_add(&t, "STATE");
		guts_table_add(&t, "TRIGGERS");
		json_array_foreach(list, i, w) {
			json_t *errs = json_object_get(w, "errors");
			char *trig = join(json_object_get(w, "triggers"));

			guts_table_add(&t, jtext(w, "id", b, sizeof(b)));
			guts_table_add(&t, jtext(w, "name", b, sizeof(b)));
			guts_table_add(&t, jtext(w, "path", b, sizeof(b)));
			if (json_is_false(json_object_get(w, "valid")))
				guts_table_addf(
				    &t, "invalid (%zu error%s)",
				    json_array_size(errs),
				    json_array_size(errs) == 1 ? "" : "s");
			else
				guts_table_add(&t, "valid");
			guts_table_add(&t, trig);
			free(trig);
		}
		api_print_table(&t, "");
	}
out:
	free(path);
	json_decref(list);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

int cmd_workflow_run(int argc, char **argv)
{
	struct api a;
	const char *name = NULL, *ref = NULL;
	json_t *inputs = json_object(), *body = NULL, *run = NULL;
	char *path = NULL;
	int rc = 0;

	api_init(&a);
	for (int i = 1; i < argc && !rc; i++) {
		const char *v;
		int r;

		if (cli_is_help(argv[i])) {
			fputs(run_usage, stdout);
			rc = -1;
		} else if ((r = api_opt(&a, argc, argv, &i)) != 0) {
			rc = r < 0 ? 2 : 0;
		} else if ((r = cli_opt_value(argc, argv, &i, "--ref", NULL,
					      &v)) != 0) {
			rc = r < 0 ? 2 : 0;
			ref = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--input", "-f",
					      &v)) != 0 ||
			   (r = cli_opt_value(argc, argv, &i, "--field", NULL,
					      &v)) != 0) {
			const char *eq = r > 0 ? strchr(v, '=') : NULL;
			char *k;

			if (r < 0)
				rc = 2;
			else if (!eq || eq == v)
				rc = cli_fail(2,
					      "--input wants KEY=VALUE, got "
					      "'%s'",
					      v);
			if (rc)
				break;
			k = guts_xstrndup(v, (size_t)(eq - v));
			json_object_set_new(inputs, k, json_string(eq + 1));
			free(k);
		} else if (argv[i][0] == '-' || name) {
			rc = cli_unknown("workflow run", argv[i]);
		} else {
			name = argv[i];
		}
	}
	if (!rc && !name)
		rc = cli_fail(2, "workflow run: which workflow? (see 'guts "
				 "workflow run --help')");
	if (!rc)
		rc = api_repo(&a);
	if (rc)
		goto out;
	body = json_pack("{s:s}", "workflow", name);
	if (ref)
		json_object_set_new(body, "ref", json_string(ref));
	if (json_object_size(inputs))
		json_object_set(body, "inputs", inputs);
	path = api_repo_path(&a, "/runs");
	rc = api_call(&a, "POST", path, body, &run);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(run);
	} else {
		char b[32];
		char *id = guts_api_printable(jtext(run, "id", b, sizeof(b)));
		char *wf = guts_api_printable(
		    jtext(run, "workflow_name", b, sizeof(b)));
		char *num =
		    guts_api_printable(jtext(run, "run_number", b, sizeof(b)));
		char *br =
		    guts_api_printable(jtext(run, "head_branch", b, sizeof(b)));
		char *ev =
		    guts_api_printable(jtext(run, "event", b, sizeof(b)));

		printf("Started run %s: %s #%s on %s (%s)\n", id,
		       *wf ? wf : name, num,
		       *br ? br : (ref ? ref : "the default branch"), ev);
		printf("  guts run view %s -R %s\n", id, a.repo);
		printf("  %s/api/repos/%s/runs/%s\n", a.url, a.repo, id);
		free(id);
		free(num);
		free(wf);
		free(br);
		free(ev);
	}
out:
	free(path);
	json_decref(inputs);
	json_decref(body);
	json_decref(run);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}
