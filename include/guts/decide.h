/*
 * Deciding a job whose needs are done: its job-level if: (with GitHub's
 * status functions over the needed jobs) and, when it runs, its legs (the
 * matrix, expanded with the needs context) and strategy.  Shared by
 * `guts exec` (localrun.c) and guts-node's scheduler, so both decide the
 * same way.
 */
#ifndef GUTS_DECIDE_H
#define GUTS_DECIDE_H

#include <jansson.h>
#include <stddef.h>

#include "guts/exec.h"
#include "guts/plan.h"
#include "guts/workflow.h"

struct guts_decide_in {
	const struct guts_workflow *wf;
	size_t job; /* index in wf->jobs */
	/* github, inputs, vars, needs (borrowed). */
	const json_t *contexts;
	int cancelled; /* the run was cancelled */
	/*
	 * The state of a job this one needs, by id: its result, and whether
	 * it or any job it needs, transitively, failed or was cancelled
	 * ("failure() is true if any ancestor job fails").
	 */
	void (*need)(void *ud, const char *id, enum guts_conclusion *result,
		     int *ancestry_failed);
	void *ud;
};

struct guts_decision {
	int run;     /* 0: skipped (if: false), or failed (error set) */
	char *error; /* why the job fails without running, or NULL */
	struct guts_plan *plan;
	const struct guts_plan_job *pj; /* the job's legs, in plan */
	int fail_fast;
	size_t max_parallel; /* 0: no limit */
};

/**
 * Decide the job into @d (released with guts_decision_release()).  Always
 * 0; a bad if: or matrix sets d->error ("job 'x': if: ...").
 */
int guts_job_decide(const struct guts_decide_in *in, struct guts_decision *d);

void guts_decision_release(struct guts_decision *d);

/** The strategy context of leg @l of a decided job. */
json_t *guts_decision_strategy(const struct guts_decision *d, size_t l);

#endif
