/*
 * The workflow model: a workflow file under .guts/workflows/ (GitHub Actions
 * syntax) loaded from YAML, validated, and held in plain structs that the
 * executor, the node and the CLI read.
 *
 * guts_workflow_parse() converts and validates in one pass and reports every
 * problem it finds into a struct guts_diags, each at its line and column.
 * Values that may hold `${{ }}` expressions are kept as written (strings); the
 * executor evaluates them when the contexts are known.  Values that can be
 * either a literal or an expression (timeout-minutes, continue-on-error,
 * strategy.matrix, ...) are kept as jansson values: a number or boolean when
 * literal, a string when an expression.
 *
 * The model is immutable once built and safe to share between threads.
 */
#ifndef GUTS_WORKFLOW_H
#define GUTS_WORKFLOW_H

#include <jansson.h>
#include <stddef.h>

#include "guts/diag.h"
#include "guts/strvec.h"

#define GUTS_WORKFLOW_MAX_BYTES (512 * 1024)
/* Jobs a workflow file may define, as on GitHub. */
#define GUTS_WORKFLOW_MAX_JOBS 256
#define GUTS_WORKFLOW_DEFAULT_TIMEOUT_MINUTES 360.0

struct guts_wf_pos {
	unsigned line, col;
};

/* A list of filter patterns (branches, tags, paths, types) as written. */
struct guts_wf_filter {
	int set; /* the key was present (an empty list differs from none) */
	struct guts_strvec patterns;
	struct guts_wf_pos pos;
};

enum guts_wf_input_type {
	GUTS_WF_INPUT_STRING,
	GUTS_WF_INPUT_BOOLEAN,
	GUTS_WF_INPUT_CHOICE,
	GUTS_WF_INPUT_NUMBER,
	GUTS_WF_INPUT_ENVIRONMENT,
};

/* An input of workflow_dispatch or workflow_call. */
struct guts_wf_input {
	char *name;
	char *description;
	enum guts_wf_input_type type;
	int required;
	json_t *default_value;	    /* NULL when none */
	struct guts_strvec options; /* choice */
	struct guts_wf_pos pos;
};

/* An output of workflow_call (value is an expression over jobs). */
struct guts_wf_output {
	char *name;
	char *description;
	char *value;
	struct guts_wf_pos pos;
};

/* A secret a reusable workflow declares. */
struct guts_wf_secret {
	char *name;
	char *description;
	int required;
	struct guts_wf_pos pos;
};

struct guts_wf_trigger {
	char *event; /* "push", "pull_request", "schedule", ... */
	struct guts_wf_pos pos;
	struct guts_wf_filter branches, branches_ignore;
	struct guts_wf_filter tags, tags_ignore;
	struct guts_wf_filter paths, paths_ignore;
	struct guts_wf_filter types;
	struct guts_strvec crons; /* schedule */
	struct guts_wf_pos *cron_pos;
	struct guts_wf_input *inputs; /* workflow_dispatch, workflow_call */
	size_t nr_inputs;
	struct guts_wf_output *outputs; /* workflow_call */
	size_t nr_outputs;
	struct guts_wf_secret *secrets; /* workflow_call */
	size_t nr_secrets;
	json_t *config; /* the event's mapping as written, or NULL */
};

enum guts_wf_uses_kind {
	GUTS_WF_USES_NONE,    /* a run: step */
	GUTS_WF_USES_BUILTIN, /* checkout, cache, upload-artifact, ... */
	GUTS_WF_USES_LOCAL,   /* ./path: a composite action in the repo */
	GUTS_WF_USES_DOCKER,  /* docker://image (accepted; not run yet) */
	GUTS_WF_USES_REMOTE,  /* owner/repo@ref: rejected by validation */
};

struct guts_wf_step {
	char *id; /* as written, or generated ("__run", ...) */
	int id_generated;
	char *name;		   /* NULL when not given */
	char *if_cond;		   /* NULL when not given; without ${{ }} */
	json_t *env;		   /* object of strings, or NULL */
	json_t *continue_on_error; /* boolean or expression string */
	json_t *timeout_minutes;   /* number, expression string, or NULL */
	char *run;
	char *shell;
	char *working_directory;
	char *uses;
	enum guts_wf_uses_kind uses_kind;
	char *builtin; /* for GUTS_WF_USES_BUILTIN: "checkout", ... */
	json_t *with;  /* object of strings, or NULL */
	struct guts_wf_pos pos, run_pos;
};

/* Our extension: per-job sandbox settings. */
struct guts_wf_sandbox {
	int set;
	int network_none;	   /* network: none */
	unsigned long long memory; /* bytes; 0 = no limit */
	double cpus;		   /* 0 = no limit */
	long pids;		   /* 0 = no limit */
};

struct guts_wf_job {
	char *id;
	char *name; /* NULL when not given (may hold ${{ }}) */
	struct guts_wf_pos pos;
	json_t *runs_on; /* string, array of strings, or {group, labels} */
	struct guts_strvec needs;
	struct guts_wf_pos *needs_pos;
	char *if_cond; /* NULL when not given; without ${{ }} */
	json_t *env;
	json_t *outputs;
	/* strategy */
	json_t *strategy;     /* a whole `strategy: ${{ }}`, or NULL */
	json_t *matrix;	      /* object, expression string, or NULL */
	json_t *fail_fast;    /* boolean or expression; NULL = true */
	json_t *max_parallel; /* number or expression; NULL = unlimited */
	struct guts_wf_pos matrix_pos;
	json_t *timeout_minutes;   /* number or expression; NULL = 360 */
	json_t *continue_on_error; /* boolean or expression; NULL = false */
	char *defaults_shell;
	char *defaults_working_directory;
	char *concurrency_group;
	json_t *cancel_in_progress;
	json_t *permissions;
	json_t *environment;
	json_t *container; /* accepted and kept; not run without Docker */
	json_t *services;
	struct guts_wf_sandbox sandbox;
	struct guts_wf_step *steps;
	size_t nr_steps;
	/* A job that calls a reusable workflow instead of having steps. */
	char *uses;
	json_t *with;
	json_t *secrets; /* object, or the string "inherit" */
};

struct guts_workflow {
	char *path;
	char *name; /* NULL when not given */
	char *run_name;
	struct guts_wf_trigger *triggers;
	size_t nr_triggers;
	json_t *env;
	char *defaults_shell;
	char *defaults_working_directory;
	char *concurrency_group;
	json_t *cancel_in_progress;
	json_t *permissions;
	struct guts_wf_job *jobs;
	size_t nr_jobs;
};

/*
 * Reusable workflows a job calls with `uses:` are read through this callback
 * so that validation can check the call's inputs and secrets.  @ref is the
 * uses: value as written.  Return 0 and set *text (malloc'd) and *len, or
 * GUTS_ENOTFOUND when the file is not available (the call is then checked
 * only for syntax).  Any other error is reported at the call, with
 * guts_error_message().
 */
typedef int (*guts_workflow_read_fn)(void *ud, const char *ref, char **text,
				     size_t *len);

struct guts_workflow_opts {
	guts_workflow_read_fn read_reusable;
	void *read_ud;
	/* Warn about untrusted contexts interpolated into run: scripts. */
	int warn_injection;
	/*
	 * Check GitHub Actions syntax only.  What Guts cannot run (remote
	 * actions, docker actions, container jobs, remote reusable workflows)
	 * is then a warning instead of an error.
	 */
	int syntax_only;
	/*
	 * What GITHUB_TOKEN-style job tokens get when a workflow says nothing:
	 * 0 for limited read (contents and packages read, the rest none; the
	 * default, as on new GitHub organisations), 1 for write to every
	 * scope.  Used to check the permissions reusable workflows request.
	 */
	int permissions_policy;
};

/**
 * Load and validate workflow text.  Every problem goes to @diags.  Returns 0
 * and sets *out when there are no errors (warnings are fine); otherwise
 * GUTS_EINVAL and *out is untouched.  @path is used in messages only.
 */
int guts_workflow_parse(struct guts_workflow **out, const char *path,
			const char *text, size_t len,
			const struct guts_workflow_opts *opts,
			struct guts_diags *diags);

/** Read @path (capped at GUTS_WORKFLOW_MAX_BYTES) and parse it. */
int guts_workflow_load(struct guts_workflow **out, const char *path,
		       const struct guts_workflow_opts *opts,
		       struct guts_diags *diags);

void guts_workflow_free(struct guts_workflow *wf);

/** The job with id @id (case-insensitive), or NULL. */
const struct guts_wf_job *guts_workflow_job(const struct guts_workflow *wf,
					    const char *id);

/** The trigger for @event, or NULL when the workflow does not listen to it. */
const struct guts_wf_trigger *
guts_workflow_trigger(const struct guts_workflow *wf, const char *event);

/** The model as JSON (for `guts workflow plan --json` and the API). */
json_t *guts_workflow_to_json(const struct guts_workflow *wf);

/** Name of an input type ("string", "boolean", ...). */
const char *guts_wf_input_type_name(enum guts_wf_input_type t);

#endif
