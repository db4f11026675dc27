/*
 * guts runner: the node's runners.
 *
 *   guts runner list
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

static const char runner_usage[] =
    "usage: guts runner <command> [<args>]\n"
    "\n"
    "Commands:\n"
    "  list     the node's runners: labels, status, last seen\n"
    "\n"
    "Run 'guts runner <command> --help' for its options.\n";

static const char list_usage[] =
    "usage: guts runner list [<client options>]\n"
    "\n"
    "List the runners registered with the node.  A runner is idle, busy, or\n"
    "offline when the node has not heard from it for 90 seconds.\n"
    "\n" API_CLIENT_HELP;

/* The "jobs" field: a count, or a list of jobs (counted). */
static const char *jobs_text(const json_t *r, char *buf, size_t size)
{
	const json_t *v = json_object_get(r, "jobs");

	if (json_is_array(v)) {
		snprintf(buf, size, "%zu", json_array_size(v));
		return buf;
	}
	return jtext(r, "jobs", buf, size);
}

static char *labels_text(const json_t *r)
{
	struct guts_buf b;
	const json_t *v;
	size_t i;

	guts_buf_init(&b, 0);
	json_array_foreach(json_object_get(r, "labels"), i, v) {
		if (!json_is_string(v))
			continue;
		if (b.len)
			guts_buf_addch(&b, ',');
		guts_buf_adds(&b, json_string_value(v));
	}
	return guts_buf_detach(&b, NULL);
}

static int runner_list(int argc, char **argv)
{
	struct api a;
	json_t *list = NULL, *r;
	size_t i;
	int rc;

	api_init(&a);
	rc = api_args(&a, argc, argv, "runner list", list_usage, NULL, NULL);
	if (!rc)
		rc = api_list(&a, "/api/runners", 0, &list);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(list);
	} else if (!json_array_size(list)) {
		fprintf(stderr, "No runners.\n");
	} else {
		struct guts_table t;
		char b[64];

		guts_table_init(&t, 6);
		guts_table_add(&t, "ID");
		guts_table_add(&t, "NAME");
		guts_table_add(&t, "STATUS");
		guts_table_add(&t, "JOBS");
		guts_table_add(&t, "LAST SEEN");
		guts_table_add(&t, "LABELS");
		json_array_foreach(list, i, r) {
			char *labels = labels_text(r);

			guts_table_add(&t, jtext(r, "id", b, sizeof(b)));
			guts_table_add(&t, jtext(r, "name", b, sizeof(b)));
			guts_table_add(&t, jtext(r, "status", b, sizeof(b)));
			guts_table_add(&t, jobs_text(r, b, sizeof(b)));
			guts_table_add(&t,
				       jago(r, "last_seen_at", b, sizeof(b)));
			guts_table_add(&t, labels);
			free(labels);
		}
		api_print_table(&t, "");
	}
out:
	json_decref(list);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

int cmd_runner(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(runner_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "list"))
		return runner_list(argc - 1, argv + 1);
	return cli_fail(2,
			"runner: unknown command '%s' (see 'guts runner "
			"--help')",
			argv[1]);
}
