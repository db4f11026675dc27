/* Lifecycle, lookups and JSON output of struct guts_workflow. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "guts/workflow.h"
#include "wf_internal.h"
#include "banned.h"

static void filter_release(struct guts_wf_filter *f)
{
	guts_strvec_release(&f->patterns);
}

static void trigger_release(struct guts_wf_trigger *t)
{
	free(t->event);
	filter_release(&t->branches);
	filter_release(&t->branches_ignore);
	filter_release(&t->tags);
	filter_release(&t->tags_ignore);
	filter_release(&t->paths);
	filter_release(&t->paths_ignore);
	filter_release(&t->types);
	guts_strvec_release(&t->crons);
	free(t->cron_pos);
	for (size_t i = 0; i < t->nr_inputs; i++) {
		free(t->inputs[i].name);
		free(t->inputs[i].description);
		json_decref(t->inputs[i].default_value);
		guts_strvec_release(&t->inputs[i].options);
	}
	free(t->inputs);
	for (size_t i = 0; i < t->nr_outputs; i++) {
		free(t->outputs[i].name);
		free(t->outputs[i].description);
		free(t->outputs[i].value);
	}
	free(t->outputs);
	for (size_t i = 0; i < t->nr_secrets; i++) {
		free(t->secrets[i].name);
		free(t->secrets[i].description);
	}
	free(t->secrets);
	json_decref(t->config);
}

static void step_release(struct guts_wf_step *s)
{
	free(s->id);
	free(s->name);
	free(s->if_cond);
	json_decref(s->env);
	json_decref(s->continue_on_error);
	json_decref(s->timeout_minutes);
	free(s->run);
	free(s->shell);
	free(s->working_directory);
	free(s->uses);
	free(s->builtin);
	json_decref(s->with);
}

void wf_steps_free(struct guts_wf_step *steps, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		step_release(&steps[i]);
	free(steps);
}

static void job_release(struct guts_wf_job *j)
{
	free(j->id);
	free(j->name);
	json_decref(j->runs_on);
	guts_strvec_release(&j->needs);
	free(j->needs_pos);
	free(j->if_cond);
	json_decref(j->env);
	json_decref(j->outputs);
	json_decref(j->strategy);
	json_decref(j->matrix);
	json_decref(j->fail_fast);
	json_decref(j->max_parallel);
	json_decref(j->timeout_minutes);
	json_decref(j->continue_on_error);
	free(j->defaults_shell);
	free(j->defaults_working_directory);
	free(j->concurrency_group);
	json_decref(j->cancel_in_progress);
	json_decref(j->permissions);
	json_decref(j->environment);
	json_decref(j->container);
	json_decref(j->services);
	wf_steps_free(j->steps, j->nr_steps);
	free(j->uses);
	json_decref(j->with);
	json_decref(j->secrets);
}

void guts_workflow_free(struct guts_workflow *wf)
{
	if (!wf)
		return;
	free(wf->path);
	free(wf->name);
	free(wf->run_name);
	for (size_t i = 0; i < wf->nr_triggers; i++)
		trigger_release(&wf->triggers[i]);
	free(wf->triggers);
	json_decref(wf->env);
	free(wf->defaults_shell);
	free(wf->defaults_working_directory);
	free(wf->concurrency_group);
	json_decref(wf->cancel_in_progress);
	json_decref(wf->permissions);
	for (size_t i = 0; i < wf->nr_jobs; i++)
		job_release(&wf->jobs[i]);
	free(wf->jobs);
	free(wf);
}

const struct guts_wf_job *guts_workflow_job(const struct guts_workflow *wf,
					    const char *id)
{
	for (size_t i = 0; i < wf->nr_jobs; i++)
		if (!strcasecmp(wf->jobs[i].id, id))
			return &wf->jobs[i];
	return NULL;
}

const struct guts_wf_trigger *
guts_workflow_trigger(const struct guts_workflow *wf, const char *event)
{
	for (size_t i = 0; i < wf->nr_triggers; i++)
		if (!strcmp(wf->triggers[i].event, event))
			return &wf->triggers[i];
	return NULL;
}

const char *guts_wf_input_type_name(enum guts_wf_input_type t)
{
	switch (t) {
	case GUTS_WF_INPUT_STRING:
		return "string";
	case GUTS_WF_INPUT_BOOLEAN:
		return "boolean";
	case GUTS_WF_INPUT_CHOICE:
		return "choice";
	case GUTS_WF_INPUT_NUMBER:
		return "number";
	case GUTS_WF_INPUT_ENVIRONMENT:
		return "environment";
	}
	return "string";
}

/* ---- JSON ---- */

static json_t *strvec_json(const struct guts_strvec *sv)
{
	json_t *a = json_array();

	for (size_t i = 0; i < sv->nr; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

static void set_str(json_t *o, const char *key, const char *s)
{
	if (s)
		json_object_set_new(o, key, json_string(s));
}

static void set_json(json_t *o, const char *key, json_t *v)
{
	if (v)
		json_object_set(o, key, v);
}

static void set_filter(json_t *o, const char *key,
		       const struct guts_wf_filter *f)
{
	if (f->set)
		json_object_set_new(o, key, strvec_json(&f->patterns));
}

static json_t *trigger_json(const struct guts_wf_trigger *t)
{
	json_t *o = json_object();

	set_filter(o, "branches", &t->branches);
	set_filter(o, "branches-ignore", &t->branches_ignore);
	set_filter(o, "tags", &t->tags);
	set_filter(o, "tags-ignore", &t->tags_ignore);
	set_filter(o, "paths", &t->paths);
	set_filter(o, "paths-ignore", &t->paths_ignore);
	set_filter(o, "types", &t->types);
	if (t->crons.nr)
		json_object_set_new(o, "cron", strvec_json(&t->crons));
	if (t->nr_inputs) {
		json_t *in = json_object();

		for (size_t i = 0; i < t->nr_inputs; i++) {
			const struct guts_wf_input *x = &t->inputs[i];
			json_t *d = json_object();

			json_object_set_new(
			    d, "type",
			    json_string(guts_wf_input_type_name(x->type)));
			json_object_set_new(d, "required",
					    json_boolean(x->required));
			set_str(d, "description", x->description);
			set_json(d, "default", x->default_value);
			if (x->options.nr)
				json_object_set_new(d, "options",
						    strvec_json(&x->options));
			json_object_set_new(in, x->name, d);
		}
		json_object_set_new(o, "inputs", in);
	}
	if (t->nr_outputs) {
		json_t *out = json_object();

		for (size_t i = 0; i < t->nr_outputs; i++)
			json_object_set_new(
			    out, t->outputs[i].name,
			    json_string(t->outputs[i].value
					    ? t->outputs[i].value
					    : ""));
		json_object_set_new(o, "outputs", out);
	}
	if (t->nr_secrets) {
		json_t *sec = json_object();

		for (size_t i = 0; i < t->nr_secrets; i++)
			json_object_set_new(sec, t->secrets[i].name,
					    json_pack("{s:b}", "required",
						      t->secrets[i].required));
		json_object_set_new(o, "secrets", sec);
	}
	return o;
}

static json_t *step_json(const struct guts_wf_step *s)
{
	json_t *o = json_object();

	set_str(o, "id", s->id);
	set_str(o, "name", s->name);
	set_str(o, "if", s->if_cond);
	set_str(o, "run", s->run);
	set_str(o, "shell", s->shell);
	set_str(o, "working-directory", s->working_directory);
	set_str(o, "uses", s->uses);
	set_str(o, "builtin", s->builtin);
	set_json(o, "with", s->with);
	set_json(o, "env", s->env);
	set_json(o, "continue-on-error", s->continue_on_error);
	set_json(o, "timeout-minutes", s->timeout_minutes);
	json_object_set_new(o, "line", json_integer(s->pos.line));
	return o;
}

static json_t *job_json(const struct guts_wf_job *j)
{
	json_t *o = json_object(), *steps = json_array();

	json_object_set_new(o, "id", json_string(j->id));
	set_str(o, "name", j->name);
	set_json(o, "runs-on", j->runs_on);
	json_object_set_new(o, "needs", strvec_json(&j->needs));
	set_str(o, "if", j->if_cond);
	set_json(o, "env", j->env);
	set_json(o, "outputs", j->outputs);
	set_json(o, "strategy", j->strategy);
	set_json(o, "matrix", j->matrix);
	set_json(o, "fail-fast", j->fail_fast);
	set_json(o, "max-parallel", j->max_parallel);
	if (j->timeout_minutes)
		set_json(o, "timeout-minutes", j->timeout_minutes);
	else
		json_object_set_new(
		    o, "timeout-minutes",
		    json_real(GUTS_WORKFLOW_DEFAULT_TIMEOUT_MINUTES));
	set_json(o, "continue-on-error", j->continue_on_error);
	set_json(o, "permissions", j->permissions);
	set_json(o, "environment", j->environment);
	set_str(o, "uses", j->uses);
	set_json(o, "with", j->with);
	set_json(o, "secrets", j->secrets);
	if (j->sandbox.set) {
		json_t *sb = json_object();

		json_object_set_new(
		    sb, "network",
		    json_string(j->sandbox.network_none ? "none" : "host"));
		if (j->sandbox.memory)
			json_object_set_new(
			    sb, "memory",
			    json_integer((json_int_t)j->sandbox.memory));
		if (j->sandbox.cpus > 0)
			json_object_set_new(sb, "cpus",
					    json_real(j->sandbox.cpus));
		if (j->sandbox.pids)
			json_object_set_new(sb, "pids",
					    json_integer(j->sandbox.pids));
		json_object_set_new(o, "sandbox", sb);
	}
	for (size_t i = 0; i < j->nr_steps; i++)
		json_array_append_new(steps, step_json(&j->steps[i]));
	json_object_set_new(o, "steps", steps);
	return o;
}

json_t *guts_workflow_to_json(const struct guts_workflow *wf)
{
	json_t *o = json_object(), *on = json_object(), *jobs = json_array();

	set_str(o, "name", wf->name);
	set_str(o, "run-name", wf->run_name);
	for (size_t i = 0; i < wf->nr_triggers; i++)
		json_object_set_new(on, wf->triggers[i].event,
				    trigger_json(&wf->triggers[i]));
	json_object_set_new(o, "on", on);
	set_json(o, "env", wf->env);
	set_json(o, "permissions", wf->permissions);
	set_str(o, "concurrency", wf->concurrency_group);
	for (size_t i = 0; i < wf->nr_jobs; i++)
		json_array_append_new(jobs, job_json(&wf->jobs[i]));
	json_object_set_new(o, "jobs", jobs);
	return o;
}
