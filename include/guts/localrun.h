/*
 * A whole workflow run on this machine, as `guts exec` does it: jobs in
 * dependency order, parallel where they can be, matrices expanded when
 * their job is ready (so a matrix may come from a needed job's outputs),
 * job if: with the status functions, fail-fast and max-parallel, needs
 * outputs and results, and cancellation.  Each job (leg) runs through
 * guts_job_run() on a thread of its own.
 */
#ifndef GUTS_LOCALRUN_H
#define GUTS_LOCALRUN_H

#include <jansson.h>
#include <stddef.h>

#include "guts/exec.h"
#include "guts/workflow.h"

struct guts_local_job {
	char *id;	/* the job's id */
	char *name;	/* display name, matrix values included */
	json_t *matrix; /* the leg's combination, or NULL */
	enum guts_conclusion conclusion;
	struct guts_job_result result; /* empty for a job that did not run */
	char *reason; /* why it was skipped or failed before running */
};

struct guts_local_run_spec {
	const struct guts_workflow *wf;
	/* Jobs to run (with the jobs they need); none: all. */
	const char *const *only;
	size_t nr_only;
	/* Contexts: github (with event), inputs, vars, secrets; env file. */
	const json_t *github, *inputs, *vars, *secrets, *base_env;
	/* Jobs get directories under here; it must exist. */
	const char *run_dir;
	size_t parallel; /* jobs at once; 0: the number of CPUs */
	int isolate;
	const char *agent_path;
	/* What checkout checks out; also where `uses: ./x.yml` is read. */
	const char *repo_source;
	int repo_is_git;
	const char *run_id;
	const char *cache_scope, *cache_fallback_scope;
	struct guts_artifact_store *store;
	const char *const *host_env;
	/* Put in front of every job name ("caller / "); may be NULL. */
	const char *name_prefix;
	/*
	 * The `parallel` budget, shared with the runs of called reusable
	 * workflows.  Callers leave it NULL.
	 */
	struct guts_run_slots *slots;
	/* act's --matrix filter: {key: [values]}; NULL: every leg. */
	const json_t *matrix_filter;
	struct guts_log_sink sink;
	struct guts_cancel *cancel; /* the whole run; may be NULL */
	int kill_grace_ms;
	/* Told when a leg starts (ended 0) and ends (ended 1); may be NULL. */
	void (*on_job)(void *ud, const struct guts_local_job *job, int ended);
	void *on_job_ud;
};

struct guts_local_run {
	enum guts_conclusion conclusion;
	struct guts_local_job *jobs; /* in the order they were decided */
	size_t nr_jobs;
};

/**
 * Run the workflow.  0 when it ran (the conclusion is in @out);
 * GUTS_ENOTFOUND when an `only` job does not exist, GUTS_EINVAL for other
 * caller mistakes.
 */
int guts_local_run(const struct guts_local_run_spec *spec,
		   struct guts_local_run *out);

void guts_local_run_release(struct guts_local_run *r);

/**
 * A guts_workflow_read_fn for local reusable workflows: @ud is the
 * repository's root, @ref a `./path` under it (capped at the workflow
 * size).  GUTS_ENOTFOUND for anything else.
 */
int guts_local_read_reusable(void *ud, const char *ref, char **text,
			     size_t *len);

#endif
