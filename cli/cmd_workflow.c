/*
 * guts workflow: offline commands on workflow files, and (in
 * cmd_workflow_api.c) list and run, which ask a node.
 *
 *   guts workflow validate [--json] [--syntax-only] [--reusable-dir DIR]
 * FILE... guts workflow plan ...   (see cmd_plan.c)
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/diag.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/workflow.h"
#include "commands.h"
#include "banned.h"

static const char validate_usage[] =
    "usage: guts workflow validate [--json] [--syntax-only] "
    "[--no-warnings] [--reusable-dir DIR] FILE...\n"
    "\n"
    "Check workflow files and print every problem as FILE:LINE:COL.\n"
    "Exits 0 when every file is valid, 1 otherwise.\n"
    "\n"
    "  --json             one JSON object per file: {file, valid, errors,\n"
    "                     warnings}, each problem as {message, line, col}\n"
    "  --syntax-only      check GitHub Actions syntax only: what Guts cannot\n"
    "                     run (remote actions, containers) becomes a warning\n"
    "  --reusable-dir DIR where remote reusable workflows owner/repo/path@ref\n"
    "                     are found as files, so calls to them are checked\n"
    "  --no-warnings      do not print warnings\n";

static const char workflow_usage[] =
    "usage: guts workflow <command> [<args>]\n"
    "\n"
    "Commands:\n"
    "  validate   check workflow files and report every problem\n"
    "  plan       show whether a workflow runs for an event, and its jobs\n"
    "  list       list a repository's workflows on a node\n"
    "  run        start a run of a workflow on a node\n"
    "\n"
    "Run 'guts workflow <command> --help' for its options.\n";

struct reader {
	char *root;	    /* repository root for ./ references */
	int root_known;	    /* root comes from a .github or .guts path */
	const char *remote; /* --reusable-dir */
};

/*
 * The repository root of a workflow file: the folder above .github/workflows
 * or .guts/workflows, or "." (not known) when the file is elsewhere.
 */
static char *repo_root_of(const char *file, int *known)
{
	static const char *const dirs[] = {".github/workflows",
					   ".guts/workflows", NULL};
	char *copy = guts_xstrdup(file), *dir, *p, *root = NULL;

	dir = dirname(copy);
	for (size_t i = 0; dirs[i] && !root; i++) {
		size_t n = strlen(dirs[i]);

		if (!strcmp(dir, dirs[i])) {
			root = guts_xstrdup(".");
			break;
		}
		for (p = strstr(dir, dirs[i]); p; p = strstr(p + 1, dirs[i]))
			if (p > dir && p[-1] == '/' && p[n] == '\0') {
				root = p == dir + 1
					   ? guts_xstrdup("/")
					   : guts_xstrndup(
						 dir, (size_t)(p - 1 - dir));
				break;
			}
	}
	free(copy);
	*known = root != NULL;
	return root ? root : guts_xstrdup(".");
}

/* Whether the resolved path @real lies inside the resolved folder @dir. */
static int path_inside(const char *real, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return 1;
	return !strncmp(real, dir, n) && real[n] == '/';
}

/*
 * Read a called workflow: ./path from the repository, owner/repo/path@ref
 * from --reusable-dir.  Symbolic links are followed only as long as they
 * stay inside that folder.
 */
static int read_reusable(void *ud, const char *ref, char **text, size_t *len)
{
	struct reader *r = ud;
	int local = !strncmp(ref, "./", 2);
	const char *dir = local ? r->root : r->remote;
	char *path, *real, *real_dir;
	int missing, rc;

	if (!dir || strstr(ref, ".."))
		return GUTS_ENOTFOUND;
	path = guts_xasprintf("%s/%s", dir, local ? ref + 2 : ref);
	real = realpath(path, NULL);
	missing = !real && errno == ENOENT;
	real_dir = realpath(dir, NULL);
	if (!real || !real_dir) {
		/* A file missing from the repository is a broken call. */
		if (local && r->root_known && missing)
			rc = guts_error(GUTS_EINVAL, "%s: no such file", path);
		else
			rc = GUTS_ENOTFOUND;
	} else if (!path_inside(real, real_dir)) {
		rc = guts_error(GUTS_EPERM, "%s leads outside %s", path,
				local ? "the repository" : "--reusable-dir");
	} else {
		rc = guts_fs_read_all(text, len, real, GUTS_WORKFLOW_MAX_BYTES);
	}
	free(real_dir);
	free(real);
	free(path);
	return rc;
}

static json_t *diags_json(const struct guts_diags *d,
			  enum guts_diag_severity sev)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->nr; i++) {
		const struct guts_diag *g = &d->v[i];

		if (g->severity != sev)
			continue;
		json_array_append_new(
		    a, json_pack(
			   "{s:s, s:o, s:o}", "message", g->message, "line",
			   g->line ? json_integer(g->line) : json_null(), "col",
			   g->col ? json_integer(g->col) : json_null()));
	}
	return a;
}

static int validate(int argc, char **argv)
{
	struct guts_workflow_opts opts = {0};
	struct reader rd = {NULL, 0, NULL};
	int json = 0, warnings = 1, bad = 0, i;

	opts.warn_injection = 1;
	opts.read_reusable = read_reusable;
	opts.read_ud = &rd;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "--syntax-only")) {
			opts.syntax_only = 1;
		} else if (!strcmp(argv[i], "--no-warnings")) {
			warnings = 0;
		} else if (!strcmp(argv[i], "--reusable-dir")) {
			if (i + 1 >= argc) {
				fputs(validate_usage, stderr);
				return cli_fail(2, "workflow validate: "
						   "--reusable-dir needs a "
						   "directory");
			}
			rd.remote = argv[++i];
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
			fputs(validate_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			fputs(validate_usage, stderr);
			return cli_fail(2,
					"workflow validate: unknown option "
					"'%s'",
					argv[i]);
		}
	}
	if (i >= argc) {
		fputs(validate_usage, stderr);
		return 2;
	}
	for (; i < argc; i++) {
		struct guts_workflow *wf = NULL;
		struct guts_diags d;
		int rc;

		rd.root = repo_root_of(argv[i], &rd.root_known);
		guts_diags_init(&d, argv[i]);
		rc = guts_workflow_load(&wf, argv[i], &opts, &d);
		if (rc < 0 && !d.errors)
			guts_diag_error(&d, 0, 0, "%s", guts_error_message());
		if (rc < 0)
			bad = 1;
		if (json) {
			/* d.file is argv[i] made valid UTF-8 for JSON. */
			json_t *o = json_pack(
			    "{s:s, s:b, s:o, s:o}", "file", d.file, "valid",
			    rc == 0, "errors", diags_json(&d, GUTS_DIAG_ERROR),
			    "warnings", diags_json(&d, GUTS_DIAG_WARNING));
			char *s = json_dumps(o, JSON_COMPACT);

			puts(s);
			free(s);
			json_decref(o);
		} else {
			struct guts_buf out;

			guts_buf_init(&out, 0);
			for (size_t k = 0; k < d.nr; k++) {
				const struct guts_diag *g = &d.v[k];

				if (g->severity == GUTS_DIAG_WARNING &&
				    !warnings)
					continue;
				if (g->line)
					guts_buf_addf(
					    &out, "%s:%u:%u: %s: %s\n", argv[i],
					    g->line, g->col,
					    g->severity == GUTS_DIAG_ERROR
						? "error"
						: "warning",
					    g->message);
				else
					guts_buf_addf(
					    &out, "%s: %s: %s\n", argv[i],
					    g->severity == GUTS_DIAG_ERROR
						? "error"
						: "warning",
					    g->message);
			}
			fputs(out.data, rc == 0 ? stdout : stderr);
			if (rc == 0)
				printf("%s: valid (%zu job%s)\n", argv[i],
				       wf->nr_jobs,
				       wf->nr_jobs == 1 ? "" : "s");
			else
				fprintf(stderr, "%s: %zu error%s\n", argv[i],
					d.errors, d.errors == 1 ? "" : "s");
			if (d.errors + d.warnings > d.nr)
				fprintf(stderr, "%s: %zu more not shown\n",
					argv[i], d.errors + d.warnings - d.nr);
			guts_buf_release(&out);
		}
		guts_workflow_free(wf);
		guts_diags_release(&d);
		free(rd.root);
	}
	return bad ? 1 : 0;
}

int cmd_workflow_plan(int argc, char **argv);

int cmd_workflow(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(workflow_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "validate"))
		return validate(argc - 1, argv + 1);
	if (!strcmp(argv[1], "plan"))
		return cmd_workflow_plan(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return cmd_workflow_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_workflow_run(argc - 1, argv + 1);
	fputs(workflow_usage, stderr);
	return cli_fail(2, "workflow: unknown command '%s'", argv[1]);
}
