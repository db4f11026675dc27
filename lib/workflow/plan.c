/*
 * The plan: stages by Kahn's algorithm over `needs`, legs by matrix
 * expansion (see include/guts/plan.h).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/expr.h"
#include "guts/json.h"
#include "guts/matrix.h"
#include "guts/plan.h"
#include "wf_internal.h"
#include "banned.h"

/* How deep guts_plan_eval() walks a value (the YAML loader nests less). */
#define PLAN_EVAL_MAX_DEPTH 256

/* ---- the evaluation hook ---- */

static int has_expr(const json_t *s)
{
	return json_is_string(s) &&
	       memmem(json_string_value(s), json_string_length(s), "${{", 3);
}

struct unknown_ref {
	const json_t *contexts;
	const char *missing; /* the first context (or job) not known */
	char name[64];
};

/* Stop the walk at a context, or a needed job, that is not given. */
static int check_ref(const char *path, size_t offset, void *data)
{
	struct unknown_ref *u = data;
	size_t n = strcspn(path, ".");
	const json_t *c;

	(void)offset;
	snprintf(u->name, sizeof(u->name), "%.*s", (int)n, path);
	c = guts_json_object_iget(u->contexts, u->name);
	if (!c) {
		u->missing = u->name;
		return 1;
	}
	if (!strcasecmp(u->name, "needs") && path[n] == '.') {
		const char *job = path + n + 1;
		size_t m = strcspn(job, ".");

		if (m == 1 && job[0] == '*')
			return 0;
		snprintf(u->name, sizeof(u->name), "needs.%.*s", (int)m, job);
		if (!guts_json_object_iget(c, u->name + 6)) {
			u->missing = u->name;
			return 1;
		}
	}
	return 0;
}

static int check_call(const char *name, size_t nr_args, size_t offset,
		      void *data)
{
	struct unknown_ref *u = data;

	(void)nr_args;
	(void)offset;
	if (strcmp(name, "hashfiles") != 0)
		return 0;
	snprintf(u->name, sizeof(u->name), "hashFiles()");
	u->missing = u->name;
	return 1;
}

/*
 * What template @src needs that @contexts does not hold: a context, a
 * needed job's results, or the workspace (hashFiles).  NULL when the
 * template can be evaluated now; syntax errors are left to evaluation.
 */
static const char *unknown_in(struct unknown_ref *u, const char *src,
			      size_t len)
{
	struct guts_expr_segment *segs = NULL;
	size_t nr = 0;

	u->missing = NULL;
	if (guts_expr_template_scan(&segs, &nr, src, len, NULL) < 0)
		return NULL;
	for (size_t i = 0; i < nr && !u->missing; i++) {
		struct guts_expr *e = NULL;

		if (segs[i].kind != GUTS_EXPR_SEGMENT_EXPR)
			continue;
		if (guts_expr_parse(&e, src + segs[i].offset, segs[i].len, NULL,
				    NULL) == 0)
			guts_expr_walk(e, check_ref, check_call, u);
		guts_expr_free(e);
	}
	free(segs);
	return u->missing;
}

/*
 * The expression language's numbers are doubles, so 18 comes back as 18.0;
 * give whole numbers back as JSON integers, as the YAML loader makes them,
 * so `fromJSON('[18]')` and `[18]` plan alike.  Consumes @v; returns a new
 * reference.
 */
static json_t *whole_numbers(json_t *v)
{
	const char *k;
	json_t *item, *copy;
	size_t i;

	/* The value may share containers with the contexts: never mutate. */
	if (json_is_real(v)) {
		double d = json_real_value(v);

		if (d == floor(d) && fabs(d) < 9007199254740992.0) {
			json_decref(v);
			return json_integer((json_int_t)d);
		}
	} else if (json_is_object(v)) {
		copy = json_object();
		json_object_foreach(v, k, item)
			json_object_set_new(copy, k,
					    whole_numbers(json_incref(item)));
		json_decref(v);
		return copy;
	} else if (json_is_array(v)) {
		copy = json_array();
		json_array_foreach(v, i, item)
			json_array_append_new(copy,
					      whole_numbers(json_incref(item)));
		json_decref(v);
		return copy;
	}
	return v;
}

/*
 * Evaluate one template string: the one place planning evaluates `${{ }}`.
 * A template that needs what is not known yet is deferred to run time.
 */
static int eval_template(json_t **out, const json_t *s, const json_t *contexts,
			 char **deferred)
{
	const char *src = json_string_value(s);
	size_t len = json_string_length(s);
	struct guts_expr_env env;
	struct guts_expr_value v;
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct unknown_ref u;
	const char *missing;
	int rc;

	*out = NULL;
	memset(&u, 0, sizeof(u));
	u.contexts = contexts;
	missing = contexts ? unknown_in(&u, src, len) : "contexts";
	if (missing) {
		if (deferred && !*deferred)
			*deferred = guts_xasprintf("'%s' uses %s, which is "
						   "known only at run time",
						   src, missing);
		return 0;
	}
	memset(&env, 0, sizeof(env));
	memset(&v, 0, sizeof(v));
	env.contexts = contexts;
	rc = guts_expr_template_eval_value(&v, src, len, NULL, &env, &err);
	if (rc < 0) {
		char *why = guts_xstrdup(err.message ? err.message
						     : guts_error_message());

		rc = guts_error(rc, "'%s': %s", src, why);
		free(why);
		guts_expr_error_release(&err);
		return rc;
	}
	*out = whole_numbers(guts_expr_value_to_json(&v));
	guts_expr_value_release(&v);
	return 0;
}

/* A value as the text a `${{ }}` in a name would make of it. */
static char *text_of(const json_t *v)
{
	return json_is_null(v) ? guts_xstrdup("") : wf_json_scalar_text(v);
}

/* Whether mapping key @k is GitHub's `${{ insert }}` directive. */
static int is_insert(const char *k)
{
	size_t len = strlen(k);

	while (len && isspace((unsigned char)k[len - 1]))
		len--;
	while (len && isspace((unsigned char)*k)) {
		k++;
		len--;
	}
	if (len < 5 || strncmp(k, "${{", 3) || strncmp(k + len - 2, "}}", 2))
		return 0;
	k += 3;
	len -= 5;
	while (len && isspace((unsigned char)*k)) {
		k++;
		len--;
	}
	while (len && isspace((unsigned char)k[len - 1]))
		len--;
	return len == 6 && !strncasecmp(k, "insert", 6);
}

static int eval_value(json_t **out, const json_t *v, const json_t *contexts,
		      char **deferred, int depth);

/*
 * One pair of a mapping into @copy.  As GitHub's templates do, a key may
 * be an expression (its value as a string becomes the key) or the
 * `${{ insert }}` directive (the value, a mapping, is merged in).
 */
static int eval_pair(json_t *copy, const char *k, const json_t *item,
		     const json_t *contexts, char **deferred, int depth)
{
	json_t *r = NULL, *kv = NULL, *ks;
	char *key = NULL;
	int rc;

	rc = eval_value(&r, item, contexts, deferred, depth + 1);
	if (rc < 0 || !r)
		return rc;
	if (!strstr(k, "${{")) {
		json_object_set_new(copy, k, r);
		return 0;
	}
	if (is_insert(k)) {
		const char *ik;
		json_t *iv;

		if (!json_is_object(r)) {
			json_decref(r);
			return guts_error(GUTS_EINVAL, "'%s' needs a mapping",
					  k);
		}
		json_object_foreach(r, ik, iv)
			json_object_set(copy, ik, iv);
		json_decref(r);
		return 0;
	}
	ks = json_string(k);
	rc = ks ? eval_template(&kv, ks, contexts, deferred) : 0;
	json_decref(ks);
	if (rc == 0 && kv)
		key = text_of(kv);
	if (rc == 0 && key && json_object_set_new(copy, key, r) == 0)
		r = NULL;
	json_decref(r);
	json_decref(kv);
	free(key);
	return rc;
}

static int eval_value(json_t **out, const json_t *v, const json_t *contexts,
		      char **deferred, int depth)
{
	json_t *copy = NULL, *item;
	int rc = 0;

	*out = NULL;
	if (depth > PLAN_EVAL_MAX_DEPTH)
		return guts_error(GUTS_EINVAL,
				  "a value nests deeper than %d levels",
				  PLAN_EVAL_MAX_DEPTH);
	if (has_expr(v))
		return eval_template(out, v, contexts, deferred);
	if (json_is_object(v)) {
		const char *k;

		copy = json_object();
		json_object_foreach((json_t *)v, k, item) {
			rc =
			    eval_pair(copy, k, item, contexts, deferred, depth);
			if (rc < 0 || (deferred && *deferred))
				goto fail;
		}
	} else if (json_is_array(v)) {
		size_t i;

		copy = json_array();
		json_array_foreach(v, i, item) {
			json_t *r;

			rc =
			    eval_value(&r, item, contexts, deferred, depth + 1);
			if (rc < 0 || !r)
				goto fail;
			/*
			 * An item that is one `${{ }}` giving a sequence is
			 * spliced in, as GitHub's templates do.
			 */
			if (json_is_array(r) && has_expr(item) &&
			    guts_expr_template_is_single(
				json_string_value(item),
				json_string_length(item), NULL, NULL))
				json_array_extend(copy, r);
			else
				json_array_append(copy, r);
			json_decref(r);
		}
	} else {
		copy = json_incref((json_t *)v);
	}
	*out = copy;
	return 0;
fail:
	json_decref(copy);
	return rc;
}

int guts_plan_eval(json_t **out, const json_t *v, const json_t *contexts,
		   char **deferred)
{
	json_t *r = NULL;
	char *why = NULL;
	int rc;

	rc = eval_value(&r, v, contexts, &why, 0);
	if (rc < 0) {
		free(why);
		return rc;
	}
	*out = r;
	if (deferred && !r)
		*deferred = why;
	else
		free(why);
	return 0;
}

/* ---- legs ---- */

void guts_plan_free(struct guts_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->nr_jobs; i++) {
		struct guts_plan_job *j = &plan->jobs[i];

		for (size_t l = 0; l < j->nr_legs; l++) {
			json_decref(j->legs[l].matrix);
			json_decref(j->legs[l].runs_on);
			free(j->legs[l].name);
		}
		free(j->legs);
		guts_strvec_release(&j->needs);
		free(j->matrix_deferred);
		json_decref(j->fail_fast);
		json_decref(j->max_parallel);
	}
	free(plan->jobs);
	free(plan->stage_start);
	free(plan);
}

/* The contexts of one leg: the plan's plus matrix and strategy. */
static json_t *leg_contexts(const json_t *contexts, const json_t *matrix,
			    const struct guts_plan_job *pj, size_t index,
			    size_t total)
{
	json_t *c = contexts ? json_copy((json_t *)contexts) : json_object();
	json_t *maxp = json_is_null(pj->max_parallel)
			   ? json_integer((json_int_t)total)
			   : json_incref(pj->max_parallel);

	json_object_set_new(
	    c, "matrix", matrix ? json_copy((json_t *)matrix) : json_object());
	json_object_set_new(c, "strategy",
			    json_pack("{s:O, s:I, s:I, s:o}", "fail-fast",
				      pj->fail_fast, "job-index",
				      (json_int_t)index, "job-total",
				      (json_int_t)total, "max-parallel", maxp));
	return c;
}

static void make_leg(struct guts_plan_leg *leg, const struct guts_plan_job *pj,
		     const json_t *contexts, json_t *matrix, size_t name_keys,
		     size_t index, size_t total)
{
	const struct guts_wf_job *job = pj->job;
	json_t *ctx = leg_contexts(contexts, matrix, pj, index, total);
	json_t *v = NULL;

	leg->matrix = matrix ? json_incref(matrix) : NULL;
	leg->runs_on = NULL;
	if (job->runs_on && guts_plan_eval(&v, job->runs_on, ctx, NULL) == 0)
		leg->runs_on = v;
	if (!leg->runs_on)
		leg->runs_on =
		    job->runs_on ? json_incref(job->runs_on) : json_null();
	leg->name = NULL;
	if (job->name && strstr(job->name, "${{")) {
		/* A name with expressions is the whole name: no suffix. */
		json_t *s = json_string(job->name);

		v = NULL;
		if (s && guts_plan_eval(&v, s, ctx, NULL) == 0 && v)
			leg->name = text_of(v);
		json_decref(v);
		json_decref(s);
		if (!leg->name)
			leg->name = guts_xstrdup(job->name);
	} else {
		leg->name =
		    guts_matrix_leg_name(job->name ? job->name : job->id,
					 matrix, matrix ? name_keys : 0);
	}
	json_decref(ctx);
}

static int expand_matrix(struct guts_plan_job *pj, const json_t *matrix,
			 const json_t *contexts);

static int expand_job(struct guts_plan_job *pj, const json_t *contexts)
{
	const struct guts_wf_job *job = pj->job;
	int rc;

	const json_t *matrix = job->matrix;
	json_t *strategy = NULL;
	char *deferred = NULL;

	pj->fail_fast =
	    job->fail_fast ? json_incref(job->fail_fast) : json_true();
	pj->max_parallel =
	    job->max_parallel ? json_incref(job->max_parallel) : json_null();
	if (job->strategy) {
		/* strategy: ${{ ... }} gives matrix, fail-fast, max-parallel.
		 */
		rc = guts_plan_eval(&strategy, job->strategy, contexts,
				    &deferred);
		if (rc < 0)
			return guts_error(rc, "job '%s': strategy: %s", job->id,
					  guts_error_message());
		if (!strategy) {
			pj->matrix_deferred = deferred;
			return 0;
		}
		if (!json_is_object(strategy)) {
			json_decref(strategy);
			return guts_error(GUTS_EINVAL,
					  "job '%s': strategy must evaluate to "
					  "an object",
					  job->id);
		}
		if (json_object_get(strategy, "fail-fast")) {
			json_decref(pj->fail_fast);
			pj->fail_fast =
			    json_incref(json_object_get(strategy, "fail-fast"));
		}
		if (json_object_get(strategy, "max-parallel")) {
			json_decref(pj->max_parallel);
			pj->max_parallel = json_incref(
			    json_object_get(strategy, "max-parallel"));
		}
		matrix = json_object_get(strategy, "matrix");
	}
	rc = expand_matrix(pj, matrix, contexts);
	json_decref(strategy);
	return rc;
}

static int expand_matrix(struct guts_plan_job *pj, const json_t *matrix,
			 const json_t *contexts)
{
	const struct guts_wf_job *job = pj->job;
	struct guts_matrix m = GUTS_MATRIX_INIT;
	size_t n;
	int rc;

	if (!matrix) {
		pj->legs = guts_xcalloc(1, sizeof(*pj->legs));
		pj->nr_legs = 1;
		make_leg(&pj->legs[0], pj, contexts, NULL, 0, 0, 1);
		return 0;
	}
	rc = guts_matrix_expand(&m, matrix, contexts);
	if (rc < 0) {
		/* The message lives in the buffer guts_error() writes. */
		char *why = guts_xstrdup(guts_error_message());

		rc = guts_error(rc, "job '%s': %s", job->id, why);
		free(why);
		return rc;
	}
	if (!m.legs) {
		pj->matrix_deferred = m.deferred;
		m.deferred = NULL;
		guts_matrix_release(&m);
		return 0;
	}
	n = json_array_size(m.legs);
	pj->legs = guts_xcalloc(n ? n : 1, sizeof(*pj->legs));
	for (size_t i = 0; i < n; i++)
		make_leg(&pj->legs[i], pj, contexts, json_array_get(m.legs, i),
			 m.name_keys[i], i, n);
	pj->nr_legs = n;
	guts_matrix_release(&m);
	return 0;
}

/* ---- stages ---- */

static long find_job(const struct guts_workflow *wf, const char *id)
{
	for (size_t i = 0; i < wf->nr_jobs; i++)
		if (wf->jobs[i].id && !strcasecmp(wf->jobs[i].id, id))
			return (long)i;
	return -1;
}

/*
 * stage[j] for every job by Kahn's algorithm: a job's stage is one more
 * than the latest stage among its needs.  Fails on an unknown need or a
 * cycle.
 */
static int compute_stages(const struct guts_workflow *wf, size_t *stage,
			  size_t *nr_stages)
{
	size_t n = wf->nr_jobs, head = 0, tail = 0, done = 0, edges = 0;
	size_t *indeg = guts_xcalloc(n + 1, sizeof(*indeg));
	size_t *queue = guts_xcalloc(n + 1, sizeof(*queue));
	size_t *first = guts_xcalloc(n + 2, sizeof(*first));
	size_t *dependents = NULL, *fill = NULL;
	int rc = 0;

	*nr_stages = 0;
	/* dependents[first[u] .. first[u+1]): the jobs that need u. */
	for (size_t j = 0; j < n; j++) {
		const struct guts_wf_job *job = &wf->jobs[j];

		for (size_t k = 0; k < job->needs.nr; k++) {
			long v = find_job(wf, job->needs.v[k]);

			if (v < 0) {
				rc =
				    guts_error(GUTS_EINVAL,
					       "job '%s' needs job '%s', which "
					       "does not exist",
					       job->id, job->needs.v[k]);
				goto out;
			}
			first[v + 1]++;
			edges++;
		}
		indeg[j] = job->needs.nr;
		stage[j] = 0;
		if (!indeg[j])
			queue[tail++] = j;
	}
	for (size_t u = 0; u < n; u++)
		first[u + 1] += first[u];
	dependents = guts_xcalloc(edges + 1, sizeof(*dependents));
	fill = guts_xcalloc(n + 1, sizeof(*fill));
	for (size_t j = 0; j < n; j++) {
		const struct guts_wf_job *job = &wf->jobs[j];

		for (size_t k = 0; k < job->needs.nr; k++) {
			size_t u = (size_t)find_job(wf, job->needs.v[k]);

			dependents[first[u] + fill[u]++] = j;
		}
	}
	while (head < tail) {
		size_t u = queue[head++];

		done++;
		if (stage[u] + 1 > *nr_stages)
			*nr_stages = stage[u] + 1;
		for (size_t e = first[u]; e < first[u + 1]; e++) {
			size_t j = dependents[e];

			if (stage[j] < stage[u] + 1)
				stage[j] = stage[u] + 1;
			if (--indeg[j] == 0)
				queue[tail++] = j;
		}
	}
	if (done < n) {
		for (size_t j = 0; j < n; j++)
			if (indeg[j]) {
				rc =
				    guts_error(GUTS_EINVAL,
					       "job '%s' is part of a cycle of "
					       "needs, or needs a job that is",
					       wf->jobs[j].id);
				break;
			}
	}
out:
	free(dependents);
	free(fill);
	free(first);
	free(indeg);
	free(queue);
	return rc;
}

int guts_plan_build(struct guts_plan **out, const struct guts_workflow *wf,
		    const json_t *contexts)
{
	struct guts_plan *plan = guts_xcalloc(1, sizeof(*plan));
	size_t *stage = guts_xcalloc(wf->nr_jobs + 1, sizeof(*stage));
	size_t nr_stages = 0, k = 0;
	int rc;

	rc = compute_stages(wf, stage, &nr_stages);
	if (rc < 0)
		goto out;
	plan->jobs = guts_xcalloc(wf->nr_jobs + 1, sizeof(*plan->jobs));
	plan->stage_start =
	    guts_xcalloc(nr_stages + 1, sizeof(*plan->stage_start));
	plan->nr_stages = nr_stages;
	for (size_t s = 0; s < nr_stages; s++) {
		plan->stage_start[s] = k;
		for (size_t j = 0; j < wf->nr_jobs; j++) {
			struct guts_plan_job *pj;
			const struct guts_wf_job *job = &wf->jobs[j];

			if (stage[j] != s)
				continue;
			pj = &plan->jobs[k++];
			plan->nr_jobs = k;
			pj->job = job;
			pj->index = j;
			pj->stage = s;
			guts_strvec_init(&pj->needs);
			for (size_t i = 0; i < job->needs.nr; i++)
				guts_strvec_push(
				    &pj->needs,
				    wf->jobs[find_job(wf, job->needs.v[i])].id);
			rc = expand_job(pj, contexts);
			if (rc < 0)
				goto out;
		}
	}
	plan->stage_start[nr_stages] = k;
	*out = plan;
	plan = NULL;
out:
	guts_plan_free(plan);
	free(stage);
	return rc;
}

/* ---- JSON ---- */

static json_t *needs_json(const struct guts_plan_job *pj)
{
	json_t *a = json_array();

	for (size_t i = 0; i < pj->needs.nr; i++)
		json_array_append_new(a, json_string(pj->needs.v[i]));
	return a;
}

json_t *guts_plan_to_json(const struct guts_plan *plan)
{
	json_t *stages = json_array();

	for (size_t s = 0; s < plan->nr_stages; s++) {
		json_t *legs = json_array();

		for (size_t i = plan->stage_start[s];
		     i < plan->stage_start[s + 1]; i++) {
			const struct guts_plan_job *pj = &plan->jobs[i];

			if (pj->matrix_deferred) {
				json_array_append_new(
				    legs,
				    json_pack("{s:s, s:s, s:o, s:n, s:O, "
					      "s:O, s:O, s:s}",
					      "id", pj->job->id, "name",
					      pj->job->name ? pj->job->name
							    : pj->job->id,
					      "needs", needs_json(pj), "matrix",
					      "runs_on",
					      pj->job->runs_on
						  ? pj->job->runs_on
						  : json_null(),
					      "fail_fast", pj->fail_fast,
					      "max_parallel", pj->max_parallel,
					      "matrix_deferred",
					      pj->matrix_deferred));
				continue;
			}
			for (size_t l = 0; l < pj->nr_legs; l++) {
				const struct guts_plan_leg *leg = &pj->legs[l];

				json_array_append_new(
				    legs,
				    json_pack(
					"{s:s, s:s, s:o, s:O, s:O, "
					"s:O, s:O}",
					"id", pj->job->id, "name", leg->name,
					"needs", needs_json(pj), "matrix",
					leg->matrix ? leg->matrix : json_null(),
					"runs_on", leg->runs_on, "fail_fast",
					pj->fail_fast, "max_parallel",
					pj->max_parallel));
			}
		}
		json_array_append_new(stages, legs);
	}
	return stages;
}
