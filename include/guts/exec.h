/*
 * The job executor: runs one job (one matrix leg) of a workflow, step by
 * step, inside the job's sandbox, with GitHub Actions step semantics:
 * environment layers, expression contexts, shells, environment files,
 * workflow commands, if/status functions, continue-on-error, time-outs,
 * cancellation, masking and log capture.  guts_job_run() is what
 * `guts exec` (through guts_local_run(), include/guts/localrun.h) and the
 * runner call.
 *
 * Output goes to a struct guts_log_sink one line at a time, masked, with a
 * timestamp and the step it belongs to.  The sink is called from the job's
 * thread only; jobs running in parallel call it from their own threads.
 */
#ifndef GUTS_EXEC_H
#define GUTS_EXEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "guts/sandbox.h"
#include "guts/workflow.h"

struct guts_artifact_store;

enum guts_conclusion {
	GUTS_SUCCESS,
	GUTS_FAILURE,
	GUTS_CANCELLED,
	GUTS_SKIPPED,
};

/** "success", "failure", "cancelled", "skipped". */
const char *guts_conclusion_name(enum guts_conclusion c);

/* ---- cancellation ------------------------------------------------------ */

/*
 * A cancel token: set once from any thread (or a signal handler through
 * guts_cancel_trigger(), which is async-signal-safe), seen by every job
 * that holds it.
 */
struct guts_cancel;

struct guts_cancel *guts_cancel_new(void);
void guts_cancel_free(struct guts_cancel *c);
void guts_cancel_trigger(struct guts_cancel *c);
int guts_cancel_is_set(const struct guts_cancel *c);
/** Readable once the token is set (for poll()). */
int guts_cancel_fd(const struct guts_cancel *c);

/* ---- log sink ---------------------------------------------------------- */

enum guts_log_kind {
	GUTS_LOG_OUTPUT,   /* a line the step printed (masked) */
	GUTS_LOG_INFO,	   /* the executor's own line ("Run ...", sandbox) */
	GUTS_LOG_GROUP,	   /* ::group::TITLE (text is the title) */
	GUTS_LOG_ENDGROUP, /* ::endgroup:: */
	GUTS_LOG_ERROR,	   /* ::error (an annotation) or an executor error */
	GUTS_LOG_WARNING,
	GUTS_LOG_NOTICE,
	GUTS_LOG_DEBUG,	     /* ::debug:: */
	GUTS_LOG_STEP_START, /* text is the step's display name */
	/* text is the step's conclusion; step_name says which step */
	GUTS_LOG_STEP_END,
};

struct guts_annotation {
	const char *file, *title;
	unsigned line, end_line, col, end_col;
};

struct guts_log_event {
	const char *job_key;   /* the job's display name, matrix included */
	int step;	       /* step number from 1; 0 for the job itself */
	const char *step_name; /* the step's display name, or NULL */
	enum guts_log_kind kind;
	int64_t ts_ns; /* wall clock, ns since the epoch */
	const char *text;
	size_t len;
	int partial; /* a piece of a line longer than the line cap */
	const struct guts_annotation *ann; /* ERROR/WARNING/NOTICE */
};

struct guts_log_sink {
	void (*event)(void *ud, const struct guts_log_event *ev);
	void *ud;
};

/* ---- one job ----------------------------------------------------------- */

struct guts_job_spec {
	const struct guts_workflow *wf;
	const struct guts_wf_job *job;
	const char *job_key; /* display name, e.g. "build (ubuntu, 18)" */
	/*
	 * Contexts known before the job starts (borrowed): github (with
	 * event), inputs, vars, secrets, matrix, strategy, needs.  Any may be
	 * NULL (an empty object is used).  @base_env is the lowest layer of
	 * the env context, under the workflow's env (`guts exec --env-file`).
	 */
	const json_t *github, *inputs, *vars, *secrets;
	const json_t *matrix, *strategy, *needs;
	const json_t *base_env;
	/*
	 * The job's directory on the host: workspace/, temp/, home/ and
	 * tool-cache/ are made in it.  It must exist.
	 */
	const char *job_dir;
	/* Sandbox: isolation on/off and the agent program. */
	int isolate;
	const char *agent_path;
	/* What checkout checks out, and where artifacts and caches go. */
	const char *repo_source;
	int repo_is_git;
	const char *run_id;
	const char *cache_scope, *cache_fallback_scope;
	struct guts_artifact_store *store;
	/* Environment variables passed through from the host (PATH, ...). */
	const char *const *host_env;
	/* Directories the sandbox hides from the job (guts/sandbox.h). */
	const char *const *hidden;
	size_t nr_hidden;
	struct guts_log_sink sink;
	struct guts_cancel *cancel; /* may be NULL */
	/* Grace between SIGTERM and SIGKILL (ms); 0: 5000. */
	int kill_grace_ms;
};

struct guts_step_result {
	char *id, *name;
	enum guts_conclusion outcome, conclusion;
	double seconds;
};

struct guts_job_result {
	enum guts_conclusion conclusion; /* after continue-on-error */
	enum guts_conclusion outcome;	 /* before it */
	json_t *outputs;		 /* object of strings */
	struct guts_step_result *steps;
	size_t nr_steps;
	/* Why the job failed or was cancelled outside a step, or NULL. */
	char *reason;
	char *summary; /* GITHUB_STEP_SUMMARY text of every step, or NULL */
	double seconds;
};

/**
 * Run the job.  Returns 0 when it ran (whatever its conclusion, which is in
 * @res); a negative guts_err only for a caller mistake.  Failures to set
 * the job up (no sandbox, a bad expression) make the job fail with a
 * reason, logged to the sink.
 */
int guts_job_run(const struct guts_job_spec *spec, struct guts_job_result *res);

void guts_job_result_release(struct guts_job_result *res);

/*
 * The host variables a job inherits by default (PATH, the locale, TZ,
 * proxies, CA files): what guts exec and the runner pass as host_env.
 */
extern const char *const guts_host_env[];

#endif
