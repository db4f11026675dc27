/*
 * guts workflow plan: whether a workflow runs for an event, and the jobs it
 * would run, in stages, with matrix legs expanded.  Offline: nothing is run.
 *
 *   guts workflow plan [--json] [--event NAME] [--ref REF] [--input K=V]...
 *                      [--path P]... [--base BRANCH] [--head BRANCH]
 *                      [--action TYPE] [--cron EXPR] [--workflow NAME]
 *                      [--deleted] FILE
 *
 * docs/workflow-plan.md describes the output.  Exit status: 0 when the plan
 * was made, whether or not the workflow runs for the event; 1 when the file
 * is invalid, an input is bad or a matrix cannot be expanded; 2 for a usage
 * error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/diag.h"
#include "guts/error.h"
#include "guts/plan.h"
#include "guts/strvec.h"
#include "guts/trigger.h"
#include "guts/workflow.h"
#include "commands.h"
#include "banned.h"

static const char plan_usage[] =
    "usage: guts workflow plan [--json] [--event NAME] [--ref REF]\n"
    "                          [--input K=V]... [--path P]... FILE\n"
    "\n"
    "Show whether a workflow runs for an event and the jobs it would run,\n"
    "in stages, with matrix legs expanded.  Nothing is run.\n"
    "Exits 0 when the plan was made (whether or not the workflow runs),\n"
    "1 when the file, an input or a matrix is bad, 2 on a usage error.\n"
    "\n"
    "  --json            print one JSON object: {file, event, ref,\n"
    "                    triggered, reason, inputs, stages}\n"
    "  --event NAME      the event (default: push)\n"
    "  --ref REF         the pushed ref (default: refs/heads/main)\n"
    "  --input K=V       a workflow_dispatch/workflow_call input\n"
    "                    (repeatable)\n"
    "  --path P          a changed path (repeatable); without any, path\n"
    "                    filters are not evaluated\n"
    "  --base BRANCH     pull_request base branch (default: the --ref\n"
    "                    branch, or main)\n"
    "  --head BRANCH     pull_request head branch, workflow_run branch\n"
    "  --action TYPE     activity type (pull_request default: opened)\n"
    "  --cron EXPR       schedule: the cron that fired (default: any)\n"
    "  --workflow NAME   workflow_run: the workflow that completed\n"
    "  --deleted         push: the ref was deleted\n";

struct plan_args {
	int json;
	struct guts_event ev;
	struct guts_strvec paths;
	json_t *inputs;
	const char *file;
};

static int parse_args(struct plan_args *a, int argc, char **argv)
{
	int i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			fputs(plan_usage, stdout);
			return 0;
		}
		if (!strcmp(o, "--")) {
			i++;
			break;
		}
		if (!strcmp(o, "--json")) {
			a->json = 1;
			continue;
		}
		if (!strcmp(o, "--deleted")) {
			a->ev.after =
			    "0000000000000000000000000000000000000000";
			continue;
		}
		if (!val) {
			fputs(plan_usage, stderr);
			return cli_fail(2,
					"workflow plan: unknown option or "
					"missing value: '%s'",
					o);
		}
		i++;
		if (!strcmp(o, "--event")) {
			a->ev.name = val;
		} else if (!strcmp(o, "--ref")) {
			a->ev.ref = val;
		} else if (!strcmp(o, "--path")) {
			guts_strvec_push(&a->paths, val);
		} else if (!strcmp(o, "--base")) {
			a->ev.base_ref = val;
		} else if (!strcmp(o, "--head")) {
			a->ev.head_ref = val;
		} else if (!strcmp(o, "--action")) {
			a->ev.action = val;
		} else if (!strcmp(o, "--cron")) {
			a->ev.cron = val;
		} else if (!strcmp(o, "--workflow")) {
			a->ev.workflow = val;
		} else if (!strcmp(o, "--input")) {
			const char *eq = strchr(val, '=');
			char *k;

			if (!eq || eq == val) {
				fputs(plan_usage, stderr);
				return cli_fail(2,
						"workflow plan: --input "
						"wants NAME=VALUE, not '%s'",
						val);
			}
			k = guts_xstrndup(val, (size_t)(eq - val));
			rc = json_object_set_new(a->inputs, k,
						 json_string(eq + 1));
			free(k);
			if (rc < 0)
				return cli_fail(2,
						"workflow plan: --input "
						"'%s' is not valid UTF-8",
						val);
		} else {
			fputs(plan_usage, stderr);
			return cli_fail(2, "workflow plan: unknown option '%s'",
					o);
		}
	}
	if (i != argc - 1) {
		fputs(plan_usage, stderr);
		return cli_fail(2, "workflow plan: give exactly one FILE");
	}
	a->file = argv[i];
	return -1; /* carry on */
}

/* The github context as far as the command line tells it. */
static json_t *github_context(const struct guts_event *ev, const json_t *inputs,
			      const char *wf_name)
{
	json_t *g = json_object(), *ev_inputs, *v;
	const char *ref = ev->ref, *k;
	const char *name = ref;

	json_object_set_new(g, "event_name", json_string(ev->name));
	if (ref) {
		const char *type = NULL;

		if (!strncmp(ref, "refs/heads/", 11)) {
			name = ref + 11;
			type = "branch";
		} else if (!strncmp(ref, "refs/tags/", 10)) {
			name = ref + 10;
			type = "tag";
		}
		json_object_set_new(g, "ref", json_string(ref));
		json_object_set_new(g, "ref_name", json_string(name));
		if (type)
			json_object_set_new(g, "ref_type", json_string(type));
	}
	if (ev->base_ref)
		json_object_set_new(g, "base_ref", json_string(ev->base_ref));
	if (ev->head_ref)
		json_object_set_new(g, "head_ref", json_string(ev->head_ref));
	if (wf_name)
		json_object_set_new(g, "workflow", json_string(wf_name));
	/* github.event.inputs holds strings; the inputs context is typed. */
	ev_inputs = json_object();
	json_object_foreach((json_t *)inputs, k, v) {
		char *s;

		if (json_is_string(v)) {
			json_object_set(ev_inputs, k, v);
			continue;
		}
		s = json_dumps(v, JSON_ENCODE_ANY);
		if (s)
			json_object_set_new(ev_inputs, k, json_string(s));
		free(s);
	}
	json_object_set_new(g, "event",
			    json_pack("{s:o}", "inputs", ev_inputs));
	return g;
}

static void print_diags(const struct guts_diags *d, const char *file)
{
	for (size_t k = 0; k < d->nr; k++) {
		const struct guts_diag *g = &d->v[k];

		if (g->severity != GUTS_DIAG_ERROR)
			continue;
		if (g->line)
			fprintf(stderr, "%s:%u:%u: error: %s\n", file, g->line,
				g->col, g->message);
		else
			fprintf(stderr, "%s: error: %s\n", file, g->message);
	}
}

static char *compact(const json_t *v)
{
	if (json_is_string(v))
		return guts_xstrdup(json_string_value(v));
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* "push to refs/heads/main", "pull_request opened into main", ... */
static char *describe_event(const struct guts_event *ev)
{
	if (!strcmp(ev->name, "push"))
		return guts_xasprintf("push to %s", ev->ref);
	if (!strcmp(ev->name, "pull_request") ||
	    !strcmp(ev->name, "pull_request_target"))
		return guts_xasprintf("%s %s into %s", ev->name,
				      ev->action ? ev->action : "opened",
				      ev->base_ref);
	if (!strcmp(ev->name, "schedule") && ev->cron)
		return guts_xasprintf("schedule '%s'", ev->cron);
	return guts_xasprintf("%s on %s", ev->name, ev->ref);
}

static void print_text(const struct plan_args *a,
		       const struct guts_trigger_result *r,
		       const struct guts_plan *plan)
{
	char *what = describe_event(&a->ev);

	printf("%s: %s for %s: %s\n", a->file,
	       r->matched ? "runs" : "does not run", what, r->reason);
	free(what);
	if (json_object_size(r->inputs)) {
		char *s = json_dumps(r->inputs, JSON_COMPACT);

		printf("inputs: %s\n", s);
		free(s);
	}
	for (size_t s = 0; s < plan->nr_stages; s++) {
		printf("stage %zu:\n", s);
		for (size_t i = plan->stage_start[s];
		     i < plan->stage_start[s + 1]; i++) {
			const struct guts_plan_job *pj = &plan->jobs[i];
			struct guts_buf info;

			guts_buf_init(&info, 0);
			if (pj->needs.nr) {
				guts_buf_adds(&info, "needs: ");
				for (size_t k = 0; k < pj->needs.nr; k++)
					guts_buf_addf(&info, "%s%s",
						      k ? ", " : "",
						      pj->needs.v[k]);
			}
			if (pj->job->matrix && !pj->matrix_deferred) {
				char *ff = compact(pj->fail_fast);
				char *mp = compact(pj->max_parallel);

				guts_buf_addf(&info,
					      "%smatrix: %zu leg%s, fail-fast: "
					      "%s, max-parallel: %s",
					      info.len ? "; " : "", pj->nr_legs,
					      pj->nr_legs == 1 ? "" : "s", ff,
					      json_is_null(pj->max_parallel)
						  ? "unlimited"
						  : mp);
				free(ff);
				free(mp);
			}
			if (!pj->job->matrix) {
				char *ro = compact(pj->legs[0].runs_on);

				printf("  %s  [runs-on: %s]%s%s\n",
				       pj->legs[0].name, ro ? ro : "?",
				       info.len ? "  " : "", info.data);
				free(ro);
				guts_buf_release(&info);
				continue;
			}
			printf("  %s%s%s\n", pj->job->id, info.len ? "  " : "",
			       info.data);
			guts_buf_release(&info);
			if (pj->matrix_deferred) {
				printf("    matrix: determined at run time "
				       "(%s)\n",
				       pj->matrix_deferred);
				continue;
			}
			for (size_t l = 0; l < pj->nr_legs; l++) {
				char *ro = compact(pj->legs[l].runs_on);

				printf("    %s  [runs-on: %s]\n",
				       pj->legs[l].name, ro ? ro : "?");
				free(ro);
			}
		}
	}
}

static int print_json(const struct plan_args *a,
		      const struct guts_trigger_result *r,
		      const struct guts_plan *plan)
{
	json_t *o = json_pack(
	    "{s:s, s:s, s:o, s:b, s:s, s:O, s:o}", "file", a->file, "event",
	    a->ev.name, "ref", a->ev.ref ? json_string(a->ev.ref) : json_null(),
	    "triggered", r->matched, "reason", r->reason, "inputs", r->inputs,
	    "stages", guts_plan_to_json(plan));
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (!s)
		return cli_fail(1,
				"%s: the plan cannot be written as JSON "
				"(an argument is not valid UTF-8)",
				a->file);
	puts(s);
	free(s);
	return 0;
}

int cmd_workflow_plan(int argc, char **argv);

int cmd_workflow_plan(int argc, char **argv)
{
	struct plan_args a;
	struct guts_workflow *wf = NULL;
	struct guts_workflow_opts opts = {0};
	struct guts_trigger_result r = GUTS_TRIGGER_RESULT_INIT;
	struct guts_plan *plan = NULL;
	struct guts_diags d;
	json_t *contexts = NULL;
	const char *ref_branch;
	int status, rc;

	memset(&a, 0, sizeof(a));
	guts_strvec_init(&a.paths);
	a.inputs = json_object();
	a.ev.name = "push";
	a.ev.ref = "refs/heads/main";
	status = parse_args(&a, argc, argv);
	if (status >= 0)
		goto out_args;
	status = 1;
	ref_branch =
	    !strncmp(a.ev.ref, "refs/heads/", 11) ? a.ev.ref + 11 : "main";
	if (!a.ev.base_ref)
		a.ev.base_ref = ref_branch;
	a.ev.paths = (const char *const *)a.paths.v;
	a.ev.nr_paths = a.paths.nr;
	a.ev.have_paths = a.paths.nr > 0;
	a.ev.inputs = a.inputs;

	guts_diags_init(&d, a.file);
	rc = guts_workflow_load(&wf, a.file, &opts, &d);
	if (rc < 0) {
		if (!d.errors)
			fprintf(stderr, "%s: error: %s\n", a.file,
				guts_error_message());
		print_diags(&d, a.file);
		goto out;
	}
	rc = guts_trigger_match(&r, wf, &a.ev);
	if (rc < 0) {
		cli_fail(1, "%s: %s", a.file, guts_error_message());
		goto out;
	}
	contexts = json_pack("{s:o, s:O}", "github",
			     github_context(&a.ev, r.inputs, wf->name),
			     "inputs", r.inputs);
	rc = guts_plan_build(&plan, wf, contexts);
	if (rc < 0) {
		cli_fail(1, "%s: %s", a.file, guts_error_message());
		goto out;
	}
	status = 0;
	if (a.json)
		status = print_json(&a, &r, plan);
	else
		print_text(&a, &r, plan);
out:
	guts_plan_free(plan);
	json_decref(contexts);
	guts_trigger_result_release(&r);
	guts_workflow_free(wf);
	guts_diags_release(&d);
out_args:
	json_decref(a.inputs);
	guts_strvec_release(&a.paths);
	return status;
}
