/*
 * Internal to the job executor (job.c, step.c, capture.c, actions.c).
 */
#ifndef GUTS_EXEC_INTERNAL_H
#define GUTS_EXEC_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "guts/buf.h"
#include "guts/exec.h"
#include "guts/lines.h"
#include "guts/mask.h"
#include "guts/sandbox.h"
#include "guts/strvec.h"

/* GitHub nests composite actions at most this deep. */
#define EXEC_MAX_ACTION_DEPTH 10
/* What GITHUB_STEP_SUMMARY may hold per step, as on GitHub. */
#define EXEC_MAX_SUMMARY (1024 * 1024)
/* Environment files a step writes are read up to this size. */
#define EXEC_MAX_ENV_FILE (16 * 1024 * 1024)
/*
 * What steps may hand back, so that a step cannot grow the executor (which
 * runs outside the job's cgroup) without bound: outputs and state per step
 * and per job (GitHub allows 1 MB of outputs per job and 50 MB per run),
 * what GITHUB_ENV may hold, and how many values may be masked.
 */
#define EXEC_MAX_STEP_OUTPUTS (1024 * 1024)
#define EXEC_MAX_JOB_OUTPUTS (50 * 1024 * 1024)
#define EXEC_MAX_ENV_BYTES (16 * 1024 * 1024)
#define EXEC_MAX_MASKS 10000
/* After a job time-out, a cleanup step gets at most this long. */
#define EXEC_CLEANUP_MINUTES 5.0

/* The executor's default limits (a job's sandbox: key overrides pids). */
#define EXEC_DEFAULT_PIDS 8192
#define EXEC_DEFAULT_NOFILE 65536
#define EXEC_READ_SIZE (1024 * 1024)
#define EXEC_PIPE_SIZE (1024 * 1024)

/*
 * Where steps run: the job itself, or a composite action's steps.  Each
 * scope has its own steps context, inputs and failure state.
 */
struct exec_scope {
	struct exec_scope *parent;
	json_t *steps;	/* the steps context of this scope */
	json_t *inputs; /* inputs context (job: workflow inputs) */
	json_t *env;	/* composite: the calling step's env; else NULL */
	const char *action_path; /* composite: the action's directory */
	const char *action_repo; /* composite: "" for local actions */
	int failed;		 /* a step of this scope failed */
	int depth;
};

/* A post step to run when the job ends (node `post:`, cache save). */
struct exec_post {
	char *display;
	char *builtin; /* built-in name, or NULL for a node action */
	char *action_dir;
	char *script; /* node: the post script path */
	char *post_if;
	json_t *with; /* evaluated inputs */
	json_t *state;
	json_t *env; /* env context at the time of the main step */
};

struct exec_job {
	const struct guts_job_spec *spec;
	char *workspace, *temp, *home, *tool_cache, *files_dir;
	char *event_path;      /* the payload, in the job's temp directory */
	char *tracking;	       /* GUTS_TRACKING_ID prefix, unique on the host */
	int files_fd;	       /* files_dir, opened before any step ran */
	const char *step_name; /* the step being logged, for the sink */
	struct guts_sandbox *sb;
	struct guts_mask *mask;
	json_t *github;	  /* the job's github context */
	json_t *runner;	  /* the runner context */
	json_t *wf_env;	  /* evaluated workflow env (base env under it) */
	json_t *job_env;  /* evaluated job env */
	json_t *file_env; /* what GITHUB_ENV set so far */
	struct guts_strvec path_add; /* GITHUB_PATH entries, oldest first */
	struct exec_scope root;
	struct exec_post *posts;
	size_t nr_posts, alloc_posts;
	struct guts_buf summary;
	struct guts_step_result *steps;
	size_t nr_steps, alloc_steps;
	int step_no;	    /* number of the step being logged */
	int cancelled;	    /* the job was cancelled (token or time-out) */
	int timed_out;	    /* the job's timeout-minutes passed */
	int64_t deadline;   /* job deadline, CLOCK_MONOTONIC ns */
	double job_minutes; /* the job's timeout-minutes, for messages */
	/* A `uses:` step's timeout-minutes, for the steps inside it. */
	int64_t scope_deadline;
	double scope_minutes;
	size_t output_bytes; /* outputs and state of every step so far */
	size_t env_bytes;    /* what GITHUB_ENV holds */
	int debug;	     /* ACTIONS_STEP_DEBUG / RUNNER_DEBUG */
	unsigned long seq;   /* unique file names */
	struct guts_lines lines;
	struct guts_buf line; /* the masked line being assembled */
};

/* What a step process produced. */
struct exec_step_io {
	json_t *outputs;    /* steps.<id>.outputs */
	json_t *state;	    /* save-state / GITHUB_STATE */
	int command_failed; /* a workflow command failed the step */
	size_t bytes;	    /* outputs and state set so far */
	char *stop_token;   /* ::stop-commands:: in force */
	int unsecure;	    /* ACTIONS_ALLOW_UNSECURE_COMMANDS */
	json_t *env;	    /* the step's env context */
};

/* ---- job.c ---- */
int64_t exec_now_mono(void);
/* @minutes from now (CLOCK_MONOTONIC ns), INT64_MAX when unbounded. */
int64_t exec_deadline_after(double minutes);
int64_t exec_now_wall(void);
void exec_log(struct exec_job *j, enum guts_log_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void exec_log_text(struct exec_job *j, enum guts_log_kind kind,
		   const char *text, size_t len,
		   const struct guts_annotation *ann);
json_t *exec_contexts(struct exec_job *j, struct exec_scope *s,
		      const json_t *env);
int exec_eval_string(struct exec_job *j, struct exec_scope *s,
		     const json_t *env, const char *src, char **out,
		     char **err);
int exec_eval_json(struct exec_job *j, struct exec_scope *s, const json_t *env,
		   const json_t *v, json_t **out, char **err);
int exec_eval_cond(struct exec_job *j, struct exec_scope *s, const json_t *env,
		   const char *cond, const char *dflt, int *result, char **err);
/* For guts_expr_walk(): whether an if: calls a status function. */
int exec_status_call(const char *name, size_t nr_args, size_t offset,
		     void *data);
int exec_eval_bool(struct exec_job *j, struct exec_scope *s, const json_t *env,
		   const json_t *v, int *result, char **err);
int exec_eval_minutes(struct exec_job *j, struct exec_scope *s,
		      const json_t *env, const json_t *v, double *out,
		      char **err);
char *exec_file_path(struct exec_job *j, const char *prefix, const char *ext);
int exec_write_file(struct exec_job *j, const char *path, const char *data,
		    size_t len);
int exec_files_dir_intact(struct exec_job *j);

/* ---- step.c ---- */
int exec_run_steps(struct exec_job *j, struct exec_scope *s,
		   const struct guts_wf_step *steps, size_t nr,
		   const char *defaults_shell, const char *defaults_wd);
/*
 * Run @argv as a step process with @env (an object) in @cwd, capturing
 * its output.  Returns the conclusion of the process (success, failure,
 * cancelled); @io collects outputs, state and env-file effects.
 */
enum guts_conclusion exec_run_process(struct exec_job *j,
				      const char *const *argv,
				      const json_t *env, const char *cwd,
				      double timeout_minutes,
				      struct exec_step_io *io);
json_t *exec_process_env(struct exec_job *j, struct exec_scope *s,
			 const json_t *env_ctx);
int exec_in_path(const char *name, const json_t *env);

/* ---- actions.c ---- */
enum guts_conclusion exec_run_uses(struct exec_job *j, struct exec_scope *s,
				   const struct guts_wf_step *st, json_t *env,
				   double timeout, json_t *outputs);
void exec_run_posts(struct exec_job *j);
void exec_post_release(struct exec_post *p);

#endif
