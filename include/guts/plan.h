/*
 * The plan of a workflow run: its jobs in stages, each job expanded into
 * its matrix legs.  This is what the scheduler queues and what
 * `guts workflow plan` prints.
 *
 * Stage 0 holds the jobs with no `needs`; stage k the jobs whose needs are
 * all in earlier stages and at least one in stage k-1.  Within a stage,
 * jobs keep their order in the file, and legs keep GitHub's matrix order
 * (include/guts/matrix.h), so a plan is deterministic.
 *
 * A plan is built against the contexts known at plan time (github, inputs;
 * needs and vars are usually not known yet).  What depends on unknown
 * values stays as written: a matrix that needs a job's outputs is marked
 * "determined at run time" with the reason, and runs-on and names keep
 * their `${{ }}`.
 *
 * A plan borrows from its workflow (plan->jobs[i].job): free the plan
 * first.  Once built it is immutable and may be read from any thread.
 */
#ifndef GUTS_PLAN_H
#define GUTS_PLAN_H

#include <jansson.h>
#include <stddef.h>

#include "guts/strvec.h"
#include "guts/workflow.h"

/* One run of a job: a matrix combination, or the job itself. */
struct guts_plan_leg {
	json_t *matrix;	 /* the combination object; NULL without a matrix */
	char *name;	 /* display name: "build (ubuntu, 18)" */
	json_t *runs_on; /* runs-on, evaluated where possible */
};

struct guts_plan_job {
	const struct guts_wf_job *job; /* borrowed from the workflow */
	size_t index;		       /* position in wf->jobs */
	size_t stage;
	struct guts_strvec needs; /* the needed jobs' ids as they are defined */
	/* Legs: one without a matrix, one per combination with one. */
	struct guts_plan_leg *legs;
	size_t nr_legs;
	/* Set when the matrix is known only at run time (legs is empty). */
	char *matrix_deferred;
	json_t *fail_fast;    /* true, false, or an expression string */
	json_t *max_parallel; /* a number, null (no limit), or an expression */
};

struct guts_plan {
	struct guts_plan_job *jobs; /* by stage, then file order */
	size_t nr_jobs;
	size_t nr_stages;
	/* The jobs of stage s are jobs[stage_start[s] .. stage_start[s+1]). */
	size_t *stage_start;
};

/**
 * Build the plan of @wf into *out.  @contexts (an object: github, inputs,
 * ...) is what expressions may use at plan time; NULL for none.
 * GUTS_EINVAL when a job needs an unknown job or the needs form a cycle
 * (the validator refuses both; a plan of a bad graph still fails cleanly),
 * or when a matrix is wrong; the message names the job.
 */
int guts_plan_build(struct guts_plan **out, const struct guts_workflow *wf,
		    const json_t *contexts);

void guts_plan_free(struct guts_plan *plan);

/**
 * The plan as JSON: an array of stages, each an array of legs
 * {"id", "name", "needs", "matrix", "runs_on", "fail_fast",
 * "max_parallel"}, with "matrix_deferred": reason for a job whose matrix is
 * known only at run time.  A new reference.
 */
json_t *guts_plan_to_json(const struct guts_plan *plan);

/**
 * The evaluation hook of planning: a copy of @v (any JSON value from the
 * model) with every string that holds `${{ }}` evaluated against
 * @contexts; a string that is a single `${{ }}` takes the value's type.
 * When an expression needs a context that @contexts lacks (or @contexts is
 * NULL), *out is set to NULL and *deferred (when not NULL) to a new string
 * saying which expression; that is not an error.  GUTS_EINVAL for an
 * expression that fails to evaluate.
 */
int guts_plan_eval(json_t **out, const json_t *v, const json_t *contexts,
		   char **deferred);

#endif
