/*
 * The scheduler: runs and their jobs, from creation to conclusion.
 *
 * A run is created with one `waiting` row per workflow job.  When a job's
 * needs are all completed the scheduler decides it (guts_job_decide(): its
 * if: with the needs context, its matrix): it becomes `completed`
 * (skipped, or failed with a reason) or one `queued` row per matrix leg.
 * Runners lease queued jobs (sched_claim()); a lease that is not renewed
 * re-queues the job as its next attempt (runner_lost, at most twice).  When
 * every job is completed the run concludes.  Each job has a commit status
 * "<workflow> / <job>" from creation (pending) to its end.
 *
 * Every transition runs under node->sched_lock, in a store transaction.
 */
#ifndef GUTS_NODE_SCHEDULER_H
#define GUTS_NODE_SCHEDULER_H

#include <jansson.h>
#include <stdint.h>

#include "guts/workflow.h"
#include "node.h"

struct run_request {
	int64_t repo_id;
	int64_t workflow_id;
	const char *event; /* push, workflow_dispatch, manual, ... */
	const char *ref;   /* refs/heads/main */
	const char *sha;
	/* The sha its commit statuses go to when not @sha: a pull request's
	 * head, while the run builds the test merge.  NULL: @sha. */
	const char *head_sha;
	const char *actor;
	const json_t *inputs;  /* resolved, or NULL */
	const json_t *payload; /* github.event, or NULL */
	const char *title;     /* display title, or NULL */
	/* Makes creation idempotent: a second request with the same key
	 * returns the first run (push events processed again). */
	const char *event_key;
	/* The workflow's text for this run when it is not the entry's (a
	 * push to another branch), or NULL. */
	const char *source;
	/* Called in the run's store transaction, before the run is inserted
	 * (a schedule records its last fire there, so both commit or neither
	 * does).  A negative return creates no run and is returned.  NULL:
	 * nothing to do. */
	int (*claim)(struct node *n, void *ud);
	void *claim_ud;
};

/** Create a run of the workflow (as stored) and schedule it. */
int sched_create_run(struct node *n, const struct run_request *rq,
		     int64_t *run_id);

/** Decide what can be decided in the run; conclude it when done. */
void sched_advance(struct node *n, int64_t run_id);

/*
 * Lease a queued job to the runner: *lease is the `job` object of the
 * protocol, or NULL when none fits (with *waiting set when a queued job
 * exists that no runner can take).
 */
int sched_claim(struct node *n, int64_t runner_id, json_t **lease);

/**
 * The fence: 0 when @attempt and @lease match the job's current lease;
 * *job (may be NULL) then holds id, status, attempt, runner_id, log_acked.
 */
int sched_check_lease(struct node *n, int64_t job_id, int64_t attempt,
		      const char *lease, json_t **job);

/*
 * The runner's job calls.  Each re-checks the fence (@attempt and @lease)
 * under the lock a lost lease takes, so a stale runner's call can never
 * land on the next attempt: GUTS_EPERM when the lease is gone.
 */
int sched_heartbeat(struct node *n, int64_t job_id, int64_t attempt,
		    const char *lease, int *cancel, int64_t *expires_ms);
int sched_step(struct node *n, int64_t job_id, int64_t attempt,
	       const char *lease, int64_t number, const json_t *body);
int sched_complete(struct node *n, int64_t job_id, int64_t attempt,
		   const char *lease, const char *conclusion,
		   const json_t *outputs, const char *reason,
		   const json_t *annotations, const char *summary);

int sched_cancel_run(struct node *n, int64_t run_id, const char *actor);
int sched_rerun(struct node *n, int64_t run_id, int failed_only,
		const char *actor);

/* Housekeeping: leases that ran out; waiting reasons. */
void sched_tick(struct node *n);

/* After a restart: recover live logs, re-advance unfinished runs. */
void sched_recover(struct node *n);

/* The status context of a job: "<workflow> / <job>" (the job's name when
 * it has a plain one, else its id).  Freed by the caller. */
char *sched_job_context(const char *workflow_name, const struct guts_wf_job *j);

/* Post a commit status (the API's and the scheduler's). */
int sched_post_status(struct node *n, int64_t repo_id, const char *sha,
		      const char *context, const char *state,
		      const char *description, const char *target_url,
		      const char *creator);

/* Job log appends (the runner's /logs call); see joblog.h. */
int sched_log_append(struct node *n, int64_t job_id, int64_t attempt,
		     const char *lease, int64_t offset, const char *data,
		     size_t len, int64_t *acked);
/* A line the node writes into a job's log. */
void sched_log_note(struct node *n, int64_t job_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
