/*
 * The local scheduler behind `guts exec`: decides jobs as their needs
 * finish, expands their matrices with the needs' outputs known, and runs
 * the legs on threads, at most `parallel` at once and at most
 * max-parallel per job.  fail-fast cancels a failed leg's siblings.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec_internal.h"
#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/buf.h"
#include "guts/decide.h"
#include "guts/diag.h"
#include "guts/expr.h"
#include "guts/fs.h"
#include "guts/localrun.h"
#include "guts/plan.h"
#include "guts/trigger.h"
#include "banned.h"

enum job_state { JOB_UNSELECTED, JOB_PENDING, JOB_RUNNING, JOB_DONE };

/*
 * How many legs may run at once (--parallel), over a run and the runs of
 * the reusable workflows it calls.  A leg that calls a workflow holds no
 * slot itself: its called jobs take them.
 */
struct guts_run_slots {
	pthread_mutex_t lock;
	size_t used, cap;
};

static int slot_take(struct guts_run_slots *s)
{
	int ok;

	pthread_mutex_lock(&s->lock);
	ok = s->used < s->cap;
	if (ok)
		s->used++;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static void slot_give(struct guts_run_slots *s)
{
	pthread_mutex_lock(&s->lock);
	s->used--;
	pthread_mutex_unlock(&s->lock);
}

struct leg {
	struct run *run;
	size_t job;   /* index in wf->jobs */
	size_t entry; /* index in out->jobs */
	json_t *matrix, *strategy;
	char *name;
	char *dir;
	struct guts_cancel *cancel;
	int started, finished;
	int slot; /* holds a slot of run->slots */
	pthread_t thread;
	/* A reusable-workflow call: the called workflow's run. */
	struct guts_local_run nested;
};

struct wjob {
	enum job_state state;
	enum guts_conclusion result;
	json_t *outputs;
	struct leg *legs;
	size_t nr_legs, running, done;
	int fail_fast;
	size_t max_parallel; /* 0: no limit */
	int cancelled_legs;
};

struct run {
	const struct guts_local_run_spec *spec;
	struct guts_local_run *out;
	struct wjob *jobs;
	size_t alloc_entries;
	size_t running;
	int done_fd; /* eventfd: a leg finished */
	struct guts_run_slots *slots;
	pthread_mutex_t lock;
	size_t seq;
};

static size_t add_entry(struct run *r, const char *id, const char *name,
			const json_t *matrix)
{
	struct guts_local_run *o = r->out;
	struct guts_local_job *e;

	if (o->nr_jobs == r->alloc_entries) {
		r->alloc_entries = r->alloc_entries ? 2 * r->alloc_entries : 8;
		o->jobs = guts_xreallocarray(o->jobs, r->alloc_entries,
					     sizeof(*o->jobs));
	}
	e = &o->jobs[o->nr_jobs];
	memset(e, 0, sizeof(*e));
	e->id = guts_xstrdup(id);
	e->name = guts_xstrdup(name);
	e->matrix = matrix ? json_deep_copy(matrix) : NULL;
	e->conclusion = GUTS_SKIPPED;
	return o->nr_jobs++;
}

/* ---- job if: ----------------------------------------------------------- */

/*
 * Whether job @k or any job it needs, transitively, failed: "in a chain
 * of dependent jobs, failure() is true if any ancestor job fails".
 * @seen guards against revisiting (the graph has no cycles).
 */
static int ancestry_failed(struct run *r, size_t k, unsigned char *seen)
{
	const struct guts_workflow *wf = r->spec->wf;

	if (seen[k])
		return 0;
	seen[k] = 1;
	if (r->jobs[k].result == GUTS_FAILURE ||
	    r->jobs[k].result == GUTS_CANCELLED)
		return 1;
	for (size_t i = 0; i < wf->jobs[k].needs.nr; i++)
		for (size_t m = 0; m < wf->nr_jobs; m++)
			if (!strcasecmp(wf->jobs[m].id,
					wf->jobs[k].needs.v[i]) &&
			    ancestry_failed(r, m, seen))
				return 1;
	return 0;
}

/* guts_decide_in.need: a needed job's result from this run's state. */
static void need_state(void *ud, const char *id, enum guts_conclusion *result,
		       int *anc)
{
	struct run *r = ud;
	const struct guts_workflow *wf = r->spec->wf;

	for (size_t k = 0; k < wf->nr_jobs; k++) {
		unsigned char *seen;

		if (strcasecmp(wf->jobs[k].id, id))
			continue;
		seen = guts_xcalloc(wf->nr_jobs + 1, 1);
		*anc = ancestry_failed(r, k, seen);
		free(seen);
		*result = r->jobs[k].result;
		return;
	}
}

/* ---- legs -------------------------------------------------------------- */

static json_t *needs_context(struct run *r, const struct guts_wf_job *job)
{
	const struct guts_workflow *wf = r->spec->wf;
	json_t *needs = json_object();

	for (size_t i = 0; i < job->needs.nr; i++) {
		for (size_t k = 0; k < wf->nr_jobs; k++) {
			if (strcasecmp(wf->jobs[k].id, job->needs.v[i]))
				continue;
			json_object_set_new(
			    needs, wf->jobs[k].id,
			    json_pack("{s:s, s:O}", "result",
				      guts_conclusion_name(r->jobs[k].result),
				      "outputs", r->jobs[k].outputs));
		}
	}
	return needs;
}

static json_t *base_contexts(struct run *r, const struct guts_wf_job *job)
{
	const struct guts_local_run_spec *sp = r->spec;
	json_t *c = json_object();

	json_object_set_new(c, "github",
			    sp->github ? json_deep_copy(sp->github)
				       : json_object());
	json_object_set(c, "guts", json_object_get(c, "github"));
	json_object_set_new(c, "inputs",
			    sp->inputs ? json_deep_copy(sp->inputs)
				       : json_object());
	json_object_set_new(
	    c, "vars", sp->vars ? json_deep_copy(sp->vars) : json_object());
	json_object_set_new(c, "needs", needs_context(r, job));
	return c;
}

static int leg_matches_filter(const json_t *filter, const json_t *matrix)
{
	const char *k;
	json_t *vals;

	if (!filter)
		return 1;
	json_object_foreach((json_t *)filter, k, vals) {
		json_t *v = json_object_get(matrix, k);
		char *s;
		int ok = 0;
		size_t i;
		json_t *want;

		if (!v)
			continue;
		s = json_is_string(v) ? guts_xstrdup(json_string_value(v))
				      : json_dumps(v, JSON_ENCODE_ANY);
		json_array_foreach(vals, i, want) {
			if (s && !strcmp(s, json_string_value(want)))
				ok = 1;
		}
		free(s);
		if (!ok)
			return 0;
	}
	return 1;
}

static void *leg_thread(void *arg);

static void finish_skipped(struct run *r, size_t ji, enum guts_conclusion c,
			   const char *reason)
{
	const struct guts_wf_job *job = &r->spec->wf->jobs[ji];
	char *name = guts_xasprintf(
	    "%s%s", r->spec->name_prefix ? r->spec->name_prefix : "",
	    job->name ? job->name : job->id);
	size_t e = add_entry(r, job->id, name, NULL);

	free(name);

	r->out->jobs[e].conclusion = c;
	r->out->jobs[e].reason = reason ? guts_xstrdup(reason) : NULL;
	r->jobs[ji].state = JOB_DONE;
	r->jobs[ji].result = c;
	if (r->spec->on_job) {
		r->spec->on_job(r->spec->on_job_ud, &r->out->jobs[e], 1);
	}
}

/* A job's needs are done: decide it (if:, matrix) and queue its legs. */
static void decide(struct run *r, size_t ji)
{
	const struct guts_local_run_spec *sp = r->spec;
	const struct guts_wf_job *job = &sp->wf->jobs[ji];
	struct wjob *wj = &r->jobs[ji];
	struct guts_decide_in in = {
	    sp->wf, ji, NULL, guts_cancel_is_set(sp->cancel), need_state, r};
	struct guts_decision d;
	const struct guts_plan_job *pj;
	json_t *ctx = base_contexts(r, job);

	in.contexts = ctx;
	guts_job_decide(&in, &d);
	json_decref(ctx);
	if (d.error) {
		finish_skipped(r, ji, GUTS_FAILURE, d.error);
		guts_decision_release(&d);
		return;
	}
	if (!d.run) {
		finish_skipped(r, ji, GUTS_SKIPPED, NULL);
		guts_decision_release(&d);
		return;
	}
	pj = d.pj;
	wj->fail_fast = d.fail_fast;
	wj->max_parallel = d.max_parallel;
	wj->legs =
	    guts_xcalloc(pj->nr_legs ? pj->nr_legs : 1, sizeof(*wj->legs));
	for (size_t l = 0; l < pj->nr_legs; l++) {
		const struct guts_plan_leg *pl = &pj->legs[l];
		struct leg *lg;

		if (pl->matrix &&
		    !leg_matches_filter(sp->matrix_filter, pl->matrix))
			continue;
		lg = &wj->legs[wj->nr_legs++];
		lg->run = r;
		lg->job = ji;
		lg->matrix = pl->matrix ? json_incref(pl->matrix) : NULL;
		lg->name = guts_xasprintf(
		    "%s%s", sp->name_prefix ? sp->name_prefix : "", pl->name);
		lg->strategy = guts_decision_strategy(&d, l);
		lg->cancel = guts_cancel_new();
		lg->entry = add_entry(r, job->id, lg->name, lg->matrix);
	}
	guts_decision_release(&d);
	wj->state = JOB_RUNNING;
	if (!wj->nr_legs) {
		wj->state = JOB_DONE;
		wj->result = GUTS_SKIPPED;
	}
}

static int start_leg(struct run *r, struct leg *lg)
{
	char *dir = guts_xasprintf("%s/%zu-%s", r->spec->run_dir, ++r->seq,
				   r->spec->wf->jobs[lg->job].id);

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		free(dir);
		return guts_error_errno("mkdir");
	}
	lg->dir = dir;
	lg->started = 1;
	r->jobs[lg->job].running++;
	r->running++;
	if (r->spec->on_job)
		r->spec->on_job(r->spec->on_job_ud, &r->out->jobs[lg->entry],
				0);
	if (pthread_create(&lg->thread, NULL, leg_thread, lg)) {
		lg->started = 0;
		r->jobs[lg->job].running--;
		r->running--;
		return guts_error(GUTS_EIO, "cannot start a thread");
	}
	return 0;
}

/* ---- reusable workflows ------------------------------------------------ */

static json_t *leg_contexts(struct run *r, struct leg *lg, const json_t *needs)
{
	const struct guts_local_run_spec *sp = r->spec;
	json_t *c = json_object();

	json_object_set_new(c, "github",
			    sp->github ? json_deep_copy(sp->github)
				       : json_object());
	json_object_set_new(c, "inputs",
			    sp->inputs ? json_deep_copy(sp->inputs)
				       : json_object());
	json_object_set_new(
	    c, "vars", sp->vars ? json_deep_copy(sp->vars) : json_object());
	json_object_set_new(c, "secrets",
			    sp->secrets ? json_deep_copy(sp->secrets)
					: json_object());
	json_object_set_new(c, "needs", json_deep_copy(needs));
	json_object_set_new(c, "matrix",
			    lg->matrix ? json_deep_copy(lg->matrix)
				       : json_object());
	json_object_set_new(c, "strategy", json_deep_copy(lg->strategy));
	return c;
}

/* Every value of @obj evaluated against @ctx; NULL with *err on error. */
static json_t *eval_object(const json_t *obj, const json_t *ctx, char **err)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		json_t *r = NULL;
		char *deferred = NULL;

		if (guts_plan_eval(&r, v, ctx, &deferred) < 0 || !r) {
			*err = guts_xasprintf("'%s': %s", k,
					      deferred ? deferred
						       : guts_error_message());
			free(deferred);
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, k, r);
	}
	return out;
}

int guts_local_read_reusable(void *ud, const char *ref, char **text,
			     size_t *len)
{
	const char *root = ud;
	char *path;
	int ret;

	if (strncmp(ref, "./", 2))
		return GUTS_ENOTFOUND;
	path = guts_xasprintf("%s/%s", root, ref + 2);
	ret = guts_fs_read_all(text, len, path, GUTS_WORKFLOW_MAX_BYTES);
	free(path);
	return ret;
}

/* The called run's jobs context: {id: {result, outputs}} for outputs. */
static json_t *jobs_context(const struct guts_local_run *nr)
{
	json_t *jobs = json_object();

	for (size_t i = 0; i < nr->nr_jobs; i++) {
		const struct guts_local_job *e = &nr->jobs[i];
		json_t *j = json_object_get(jobs, e->id);
		const char *res = guts_conclusion_name(e->conclusion);

		if (!j) {
			j = json_pack("{s:s, s:{}}", "result", res, "outputs");
			json_object_set_new(jobs, e->id, j);
		} else if (e->conclusion == GUTS_FAILURE ||
			   e->conclusion == GUTS_CANCELLED) {
			json_object_set_new(j, "result", json_string(res));
		}
		if (e->result.outputs)
			json_object_update(json_object_get(j, "outputs"),
					   e->result.outputs);
	}
	return jobs;
}

/*
 * A job that calls a local reusable workflow (`uses: ./path.yml`): its
 * jobs run as a nested run named "caller / job", with the call's inputs
 * and secrets; the workflow_call outputs become the job's outputs.
 */
static void run_called(struct leg *lg, const json_t *needs,
		       struct guts_job_result *res)
{
	struct run *r = lg->run;
	const struct guts_local_run_spec *sp = r->spec;
	const struct guts_wf_job *job = &sp->wf->jobs[lg->job];
	struct guts_workflow_opts wo = {0};
	struct guts_workflow *cwf = NULL;
	struct guts_local_run_spec ns;
	const struct guts_wf_trigger *t;
	struct guts_diags d;
	json_t *ctx, *with = NULL, *inputs = NULL, *secrets = NULL, *jobs;
	char *err = NULL, *path, *prefix;
	int64_t t0 = exec_now_mono();

	memset(res, 0, sizeof(*res));
	res->outputs = json_object();
	res->conclusion = res->outcome = GUTS_FAILURE;
	if (strncmp(job->uses, "./", 2) || !sp->repo_source) {
		res->reason = guts_xasprintf(
		    "%s: only local reusable workflows (./path) run in guts "
		    "exec",
		    job->uses);
		return;
	}
	path = guts_xasprintf("%s/%s", sp->repo_source, job->uses + 2);
	guts_diags_init(&d, path);
	wo.read_reusable = guts_local_read_reusable;
	wo.read_ud = (void *)sp->repo_source;
	if (guts_workflow_load(&cwf, path, &wo, &d) < 0) {
		struct guts_buf b;

		guts_buf_init(&b, 0);
		guts_diags_sort(&d);
		guts_diags_format(&d, &b);
		res->reason = b.len ? guts_buf_detach(&b, NULL)
				    : guts_xstrdup(guts_error_message());
		guts_buf_release(&b);
		guts_diags_release(&d);
		free(path);
		return;
	}
	guts_diags_release(&d);
	free(path);
	t = guts_workflow_trigger(cwf, "workflow_call");
	ctx = leg_contexts(r, lg, needs);
	with = json_is_object(job->with) ? eval_object(job->with, ctx, &err)
					 : json_object();
	if (with && t &&
	    guts_trigger_resolve_inputs(&inputs, t->inputs, t->nr_inputs,
					with) < 0)
		err = guts_xstrdup(guts_error_message());
	else if (with && !t)
		err = guts_xasprintf("%s does not declare on.workflow_call",
				     job->uses);
	if (!err) {
		if (json_is_string(job->secrets) &&
		    !strcmp(json_string_value(job->secrets), "inherit"))
			secrets = sp->secrets ? json_deep_copy(sp->secrets)
					      : json_object();
		else if (json_is_object(job->secrets))
			secrets = eval_object(job->secrets, ctx, &err);
		else
			secrets = json_object();
	}
	if (err) {
		res->reason = guts_xasprintf("%s: %s", job->uses, err);
		free(err);
		goto out;
	}
	ns = *sp;
	ns.wf = cwf;
	ns.only = NULL;
	ns.nr_only = 0;
	ns.inputs = inputs;
	ns.secrets = secrets;
	ns.run_dir = lg->dir;
	ns.matrix_filter = NULL;
	ns.cancel = lg->cancel;
	ns.slots = r->slots;
	prefix = guts_xasprintf("%s / ", lg->name);
	ns.name_prefix = prefix;
	guts_local_run(&ns, &lg->nested);
	free(prefix);
	res->conclusion = res->outcome = lg->nested.conclusion;

	/* Outputs: on.workflow_call.outputs over the called jobs. */
	jobs = jobs_context(&lg->nested);
	json_object_set_new(ctx, "jobs", jobs);
	json_object_set(ctx, "inputs", inputs);
	for (size_t i = 0; t && i < t->nr_outputs; i++) {
		json_t *s =
		    json_string(t->outputs[i].value ? t->outputs[i].value : "");
		json_t *v = NULL;

		if (guts_plan_eval(&v, s, ctx, NULL) == 0 && v) {
			if (json_is_string(v))
				json_object_set(res->outputs,
						t->outputs[i].name, v);
			else {
				char *txt = json_dumps(v, JSON_ENCODE_ANY);

				json_object_set_new(
				    res->outputs, t->outputs[i].name,
				    json_string(txt ? txt : ""));
				free(txt);
			}
		}
		json_decref(v);
		json_decref(s);
	}
out:
	res->seconds = (exec_now_mono() - t0) / 1e9;
	json_decref(ctx);
	json_decref(with);
	json_decref(inputs);
	json_decref(secrets);
	guts_workflow_free(cwf);
}

static void *leg_thread(void *arg)
{
	struct leg *lg = arg;
	struct run *r = lg->run;
	const struct guts_local_run_spec *sp = r->spec;
	const struct guts_wf_job *job = &sp->wf->jobs[lg->job];
	struct guts_job_spec js = {0};
	struct guts_job_result res;
	json_t *needs;
	uint64_t one = 1;
	ssize_t n;

	pthread_mutex_lock(&r->lock);
	needs = needs_context(r, job);
	pthread_mutex_unlock(&r->lock);
	js.wf = sp->wf;
	js.job = job;
	js.job_key = lg->name;
	js.github = sp->github;
	js.inputs = sp->inputs;
	js.vars = sp->vars;
	js.secrets = sp->secrets;
	js.matrix = lg->matrix;
	js.strategy = lg->strategy;
	js.needs = needs;
	js.base_env = sp->base_env;
	js.job_dir = lg->dir;
	js.isolate = sp->isolate;
	js.agent_path = sp->agent_path;
	js.repo_source = sp->repo_source;
	js.repo_is_git = sp->repo_is_git;
	js.run_id = sp->run_id;
	js.cache_scope = sp->cache_scope;
	js.cache_fallback_scope = sp->cache_fallback_scope;
	js.store = sp->store;
	js.host_env = sp->host_env;
	js.sink = sp->sink;
	js.cancel = lg->cancel;
	js.kill_grace_ms = sp->kill_grace_ms;
	if (job->uses)
		run_called(lg, needs, &res);
	else
		guts_job_run(&js, &res);
	json_decref(needs);

	pthread_mutex_lock(&r->lock);
	r->out->jobs[lg->entry].result = res;
	r->out->jobs[lg->entry].conclusion = res.conclusion;
	lg->finished = 1;
	pthread_mutex_unlock(&r->lock);
	do
		n = write(r->done_fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
	return NULL;
}

/* A leg has finished: account for it, fail-fast, finish the job. */
static void reap_leg(struct run *r, struct leg *lg)
{
	struct wjob *wj = &r->jobs[lg->job];
	struct guts_local_job *e = &r->out->jobs[lg->entry];

	pthread_join(lg->thread, NULL);
	lg->started = 0;
	if (lg->slot) {
		slot_give(r->slots);
		lg->slot = 0;
	}
	wj->running--;
	wj->done++;
	r->running--;
	if (r->spec->on_job)
		r->spec->on_job(r->spec->on_job_ud, e, 1);
	/*
	 * Outputs: the last leg to set an output wins, as on GitHub; an
	 * empty value does not overwrite another leg's (a leg that does not
	 * set an output evaluates it to "").
	 */
	{
		const char *k;
		json_t *v;

		json_object_foreach(e->result.outputs, k, v) {
			if (!json_object_get(wj->outputs, k) ||
			    !json_is_string(v) || json_string_length(v))
				json_object_set(wj->outputs, k, v);
		}
	}
	/* A called workflow's jobs are listed after the caller. */
	for (size_t i = 0; i < lg->nested.nr_jobs; i++) {
		struct guts_local_job *nj = &lg->nested.jobs[i];
		size_t k = add_entry(r, nj->id, nj->name, nj->matrix);

		free(r->out->jobs[k].id);
		r->out->jobs[k].id = guts_xasprintf(
		    "%s/%s", r->spec->wf->jobs[lg->job].id, nj->id);
		r->out->jobs[k].conclusion = nj->conclusion;
		r->out->jobs[k].result = nj->result;
		r->out->jobs[k].reason = nj->reason;
		memset(&nj->result, 0, sizeof(nj->result));
		nj->reason = NULL;
		e = &r->out->jobs[lg->entry];
	}
	guts_local_run_release(&lg->nested);
	if (e->conclusion == GUTS_FAILURE && wj->fail_fast &&
	    !wj->cancelled_legs) {
		wj->cancelled_legs = 1;
		for (size_t i = 0; i < wj->nr_legs; i++)
			guts_cancel_trigger(wj->legs[i].cancel);
	}
}

static void conclude_job(struct run *r, size_t ji)
{
	struct wjob *wj = &r->jobs[ji];
	int failed = 0, cancelled = 0;

	for (size_t i = 0; i < wj->nr_legs; i++) {
		enum guts_conclusion c =
		    r->out->jobs[wj->legs[i].entry].conclusion;

		if (c == GUTS_FAILURE)
			failed = 1;
		else if (c == GUTS_CANCELLED)
			cancelled = 1;
	}
	wj->result = failed	 ? GUTS_FAILURE
		     : cancelled ? GUTS_CANCELLED
				 : GUTS_SUCCESS;
	wj->state = JOB_DONE;
}

static void select_jobs(struct run *r, size_t ji)
{
	const struct guts_workflow *wf = r->spec->wf;

	if (r->jobs[ji].state != JOB_UNSELECTED)
		return;
	r->jobs[ji].state = JOB_PENDING;
	for (size_t i = 0; i < wf->jobs[ji].needs.nr; i++)
		for (size_t k = 0; k < wf->nr_jobs; k++)
			if (!strcasecmp(wf->jobs[k].id,
					wf->jobs[ji].needs.v[i]))
				select_jobs(r, k);
}

static int needs_done(struct run *r, size_t ji)
{
	const struct guts_workflow *wf = r->spec->wf;

	for (size_t i = 0; i < wf->jobs[ji].needs.nr; i++)
		for (size_t k = 0; k < wf->nr_jobs; k++)
			if (!strcasecmp(wf->jobs[k].id,
					wf->jobs[ji].needs.v[i]) &&
			    r->jobs[k].state != JOB_DONE)
				return 0;
	return 1;
}

int guts_local_run(const struct guts_local_run_spec *spec,
		   struct guts_local_run *out)
{
	const struct guts_workflow *wf = spec->wf;
	struct run r;
	size_t parallel = spec->parallel;
	int cancel_seen = 0, ret = 0;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.spec = spec;
	r.out = out;
	r.jobs = guts_xcalloc(wf->nr_jobs + 1, sizeof(*r.jobs));
	for (size_t i = 0; i < wf->nr_jobs; i++)
		r.jobs[i].outputs = json_object();
	if (!parallel) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		parallel = n > 0 ? (size_t)n : 1;
	}
	if (spec->slots) {
		r.slots = spec->slots;
	} else {
		r.slots = guts_xcalloc(1, sizeof(*r.slots));
		pthread_mutex_init(&r.slots->lock, NULL);
		r.slots->cap = parallel;
	}
	for (size_t i = 0; i < spec->nr_only; i++) {
		const struct guts_wf_job *j =
		    guts_workflow_job(wf, spec->only[i]);

		if (!j) {
			ret = guts_error(GUTS_ENOTFOUND,
					 "the workflow has no job '%s'",
					 spec->only[i]);
			goto out;
		}
		select_jobs(&r, (size_t)(j - wf->jobs));
	}
	if (!spec->nr_only)
		for (size_t i = 0; i < wf->nr_jobs; i++)
			r.jobs[i].state = JOB_PENDING;
	r.done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r.done_fd < 0) {
		ret = guts_error_errno("eventfd");
		goto out;
	}
	pthread_mutex_init(&r.lock, NULL);

	for (;;) {
		int progress = 1, waiting = 0, starved = 0;

		while (progress) {
			progress = 0;
			pthread_mutex_lock(&r.lock);
			/* Collect finished legs. */
			for (size_t ji = 0; ji < wf->nr_jobs; ji++) {
				struct wjob *wj = &r.jobs[ji];

				for (size_t l = 0; l < wj->nr_legs; l++)
					if (wj->legs[l].started &&
					    wj->legs[l].finished) {
						reap_leg(&r, &wj->legs[l]);
						progress = 1;
					}
				if (wj->state == JOB_RUNNING &&
				    wj->done == wj->nr_legs) {
					conclude_job(&r, ji);
					progress = 1;
				}
			}
			/* Decide jobs whose needs are done. */
			for (size_t ji = 0; ji < wf->nr_jobs; ji++)
				if (r.jobs[ji].state == JOB_PENDING &&
				    needs_done(&r, ji)) {
					decide(&r, ji);
					progress = 1;
				}
			/* Start legs while there is room. */
			for (size_t ji = 0; ji < wf->nr_jobs; ji++) {
				struct wjob *wj = &r.jobs[ji];

				for (size_t l = 0; l < wj->nr_legs; l++) {
					struct leg *lg = &wj->legs[l];

					if (lg->started || lg->finished ||
					    (wj->max_parallel &&
					     wj->running >= wj->max_parallel))
						continue;
					if (!wj->cancelled_legs &&
					    !wf->jobs[ji].uses) {
						if (!slot_take(r.slots)) {
							starved = 1;
							continue;
						}
						lg->slot = 1;
					}
					if (wj->cancelled_legs) {
						/* fail-fast: never started */
						lg->finished = 1;
						wj->done++;
						out->jobs[lg->entry]
						    .conclusion =
						    GUTS_CANCELLED;
						progress = 1;
						continue;
					}
					if (start_leg(&r, lg) < 0) {
						if (lg->slot) {
							slot_give(r.slots);
							lg->slot = 0;
						}
						lg->finished = 1;
						wj->done++;
						out->jobs[lg->entry]
						    .conclusion = GUTS_FAILURE;
						out->jobs[lg->entry].reason =
						    guts_xstrdup(
							guts_error_message());
					}
					progress = 1;
				}
			}
			pthread_mutex_unlock(&r.lock);
		}
		for (size_t ji = 0; ji < wf->nr_jobs; ji++)
			if (r.jobs[ji].state == JOB_PENDING ||
			    r.jobs[ji].state == JOB_RUNNING)
				waiting = 1;
		if (!waiting)
			break;
		{
			struct pollfd p[2];
			int n = 0;
			uint64_t v;

			p[n].fd = r.done_fd;
			p[n++].events = POLLIN;
			if (spec->cancel && !cancel_seen) {
				p[n].fd = guts_cancel_fd(spec->cancel);
				p[n++].events = POLLIN;
			}
			/*
			 * Never leave while legs run: their threads use
			 * what the end of this function frees.
			 */
			/*
			 * A leg waiting for a slot another run holds is
			 * woken by no event of ours: look again soon.
			 */
			if (poll(p, (nfds_t)n, starved ? 50 : -1) < 0 &&
			    errno != EINTR)
				usleep(10000);
			if (read(r.done_fd, &v, sizeof(v)) < 0) {
				/* nothing finished yet */
			}
			if (!cancel_seen && guts_cancel_is_set(spec->cancel)) {
				cancel_seen = 1;
				pthread_mutex_lock(&r.lock);
				for (size_t ji = 0; ji < wf->nr_jobs; ji++)
					for (size_t l = 0;
					     l < r.jobs[ji].nr_legs; l++)
						guts_cancel_trigger(
						    r.jobs[ji].legs[l].cancel);
				pthread_mutex_unlock(&r.lock);
			}
		}
	}

	/* The run: failure wins, then cancelled, then success. */
	out->conclusion = GUTS_SUCCESS;
	for (size_t i = 0; i < out->nr_jobs; i++) {
		if (out->jobs[i].conclusion == GUTS_FAILURE)
			out->conclusion = GUTS_FAILURE;
		else if (out->jobs[i].conclusion == GUTS_CANCELLED &&
			 out->conclusion == GUTS_SUCCESS)
			out->conclusion = GUTS_CANCELLED;
	}
	if (cancel_seen && out->conclusion == GUTS_SUCCESS)
		out->conclusion = GUTS_CANCELLED;
	close(r.done_fd);
	pthread_mutex_destroy(&r.lock);
out:
	for (size_t i = 0; i < wf->nr_jobs; i++) {
		for (size_t l = 0; l < r.jobs[i].nr_legs; l++) {
			struct leg *lg = &r.jobs[i].legs[l];

			json_decref(lg->matrix);
			json_decref(lg->strategy);
			free(lg->name);
			free(lg->dir);
			guts_cancel_free(lg->cancel);
		}
		free(r.jobs[i].legs);
		json_decref(r.jobs[i].outputs);
	}
	free(r.jobs);
	if (r.slots && !spec->slots) {
		pthread_mutex_destroy(&r.slots->lock);
		free(r.slots);
	}
	return ret;
}

void guts_local_run_release(struct guts_local_run *r)
{
	for (size_t i = 0; i < r->nr_jobs; i++) {
		free(r->jobs[i].id);
		free(r->jobs[i].name);
		json_decref(r->jobs[i].matrix);
		free(r->jobs[i].reason);
		guts_job_result_release(&r->jobs[i].result);
	}
	free(r->jobs);
	memset(r, 0, sizeof(*r));
}
