/* Deciding a job whose needs are done: see include/guts/decide.h. */
#include <string.h>
#include <strings.h>

#include "exec/exec_internal.h"
#include "guts/alloc.h"
#include "guts/decide.h"
#include "guts/error.h"
#include "guts/expr.h"

struct jstatus {
	const struct guts_decide_in *in;
	const struct guts_wf_job *job;
};

static enum guts_expr_status needs_status(const char *const *names, size_t nr,
					  struct jstatus *js)
{
	int failed = 0, all_ok = 1;

	if (js->in->cancelled)
		return GUTS_EXPR_STATUS_CANCELLED;
	for (size_t i = 0; i < nr; i++) {
		enum guts_conclusion res = GUTS_SKIPPED;
		int anc = 0;

		js->in->need(js->in->ud, names[i], &res, &anc);
		if (anc)
			failed = 1;
		if (res != GUTS_SUCCESS)
			all_ok = 0;
	}
	if (failed)
		return GUTS_EXPR_STATUS_FAILURE;
	/* A skipped need makes success() false without being a failure. */
	return all_ok ? GUTS_EXPR_STATUS_SUCCESS : GUTS_EXPR_STATUS_SKIPPED;
}

static enum guts_expr_status job_status(void *data)
{
	struct jstatus *js = data;

	return needs_status((const char *const *)js->job->needs.v,
			    js->job->needs.nr, js);
}

static enum guts_expr_status job_status_named(const char *const *jobs,
					      size_t nr, void *data)
{
	return needs_status(jobs, nr, data);
}

/*
 * GitHub's success() for jobs is "every need succeeded"; a skipped need
 * makes it false without failure() becoming true (see needs_status()).
 */
static int eval_job_if(struct jstatus *js, int *result, char **err)
{
	static const struct guts_expr_parse_opts opts = {
	    NULL, 0, GUTS_EXPR_STATUS_FUNCTIONS | GUTS_EXPR_STATUS_JOB_ARGS};
	const struct guts_wf_job *job = js->job;
	struct guts_expr_error e = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_env env = {0};
	struct guts_expr_value v;
	struct guts_expr *x = NULL;
	const char *src =
	    job->if_cond && *job->if_cond ? job->if_cond : "success()";
	size_t off, len = strlen(src);
	int ret;

	if (guts_expr_template_is_single(src, len, &off, &len))
		src += off;
	ret = guts_expr_parse(&x, src, len, &opts, &e);
	/* No status function: success() && (...), which stops early. */
	if (ret == 0 && !guts_expr_walk(x, NULL, exec_status_call, NULL) &&
	    job_status(js) != GUTS_EXPR_STATUS_SUCCESS) {
		*result = 0;
		guts_expr_free(x);
		return 0;
	}
	if (ret == 0) {
		env.contexts = js->in->contexts;
		env.status = job_status;
		env.status_data = js;
		env.job_status = job_status_named;
		env.job_status_data = js;
		ret = guts_expr_eval(&v, x, &env, &e);
	}
	if (ret < 0) {
		*err = guts_xasprintf("%s", e.message ? e.message
						      : guts_error_message());
		guts_expr_error_release(&e);
		guts_expr_free(x);
		return ret;
	}
	*result = guts_expr_value_truthy(&v);
	guts_expr_value_release(&v);
	if (*result && !guts_expr_walk(x, NULL, exec_status_call, NULL))
		*result = job_status(js) == GUTS_EXPR_STATUS_SUCCESS;
	guts_expr_free(x);
	return 0;
}

/* Evaluate a strategy value (fail-fast, max-parallel) that may be ${{ }}. */
static json_t *strategy_value(const json_t *v, const json_t *contexts)
{
	json_t *out = NULL;

	if (!v)
		return NULL;
	if (guts_plan_eval(&out, v, contexts, NULL) < 0 || !out)
		return NULL;
	return out;
}

int guts_job_decide(const struct guts_decide_in *in, struct guts_decision *d)
{
	const struct guts_wf_job *job = &in->wf->jobs[in->job];
	struct jstatus js = {in, job};
	char *err = NULL;
	json_t *v;

	memset(d, 0, sizeof(*d));
	if (eval_job_if(&js, &d->run, &err) < 0) {
		d->error = guts_xasprintf("job '%s': if: %s", job->id, err);
		free(err);
		d->run = 0;
		return 0;
	}
	if (!d->run)
		return 0;
	if (guts_plan_build(&d->plan, in->wf, in->contexts) < 0) {
		d->error = guts_xstrdup(guts_error_message());
		d->run = 0;
		return 0;
	}
	for (size_t i = 0; i < d->plan->nr_jobs; i++)
		if (d->plan->jobs[i].index == in->job)
			d->pj = &d->plan->jobs[i];
	if (!d->pj || d->pj->matrix_deferred) {
		d->error = guts_xasprintf(
		    "job '%s': the matrix could not be evaluated: %s", job->id,
		    d->pj ? d->pj->matrix_deferred : "not planned");
		d->run = 0;
		return 0;
	}
	v = strategy_value(d->pj->fail_fast, in->contexts);
	d->fail_fast =
	    !v || json_is_true(v) ||
	    (json_is_string(v) && !strcmp(json_string_value(v), "true"));
	json_decref(v);
	v = strategy_value(d->pj->max_parallel, in->contexts);
	d->max_parallel = json_is_number(v) && json_number_value(v) >= 1
			      ? (size_t)json_number_value(v)
			      : 0;
	json_decref(v);
	return 0;
}

json_t *guts_decision_strategy(const struct guts_decision *d, size_t l)
{
	size_t total = d->pj ? d->pj->nr_legs : 1;

	return json_pack(
	    "{s:b, s:I, s:I, s:I}", "fail-fast", d->fail_fast, "job-index",
	    (json_int_t)l, "job-total", (json_int_t)total, "max-parallel",
	    (json_int_t)(d->max_parallel ? d->max_parallel : total));
}

void guts_decision_release(struct guts_decision *d)
{
	guts_plan_free(d->plan);
	free(d->error);
	memset(d, 0, sizeof(*d));
}
