/*
 * Internal to the workflow parser and the action.yml parser (action.c): the
 * conversion context, the converter helpers, the step reader and the
 * expression checks they share.
 */
#ifndef GUTS_WF_INTERNAL_H
#define GUTS_WF_INTERNAL_H

#include "guts/diag.h"
#include "guts/workflow.h"
#include "guts/yaml.h"

/* Which contexts and functions an expression may use at a given place. */
enum wf_ctx {
	WF_GITHUB = 1 << 0,
	WF_INPUTS = 1 << 1,
	WF_VARS = 1 << 2,
	WF_SECRETS = 1 << 3,
	WF_ENV = 1 << 4,
	WF_NEEDS = 1 << 5,
	WF_STRATEGY = 1 << 6,
	WF_MATRIX = 1 << 7,
	WF_JOB = 1 << 8,
	WF_RUNNER = 1 << 9,
	WF_STEPS = 1 << 10,
	WF_JOBS = 1 << 11,
	WF_FN_STATUS = 1 << 12, /* success() failure() always() cancelled() */
	WF_FN_HASHFILES = 1 << 13,  /* hashFiles() */
	WF_NO_EXPR = 1 << 14,	    /* expressions are not allowed at all */
	WF_FN_JOB_STATUS = 1 << 15, /* success('job') in a job's if: */
	/* A run: script: warn when untrusted input is pasted into it. */
	WF_CHECK_INJECTION = 1 << 16,
};

/* GitHub's context-availability table, by place. */
#define WF_CTX_RUN_NAME (WF_GITHUB | WF_INPUTS | WF_VARS)
#define WF_CTX_WF_ENV (WF_GITHUB | WF_SECRETS | WF_INPUTS | WF_VARS)
#define WF_CTX_WF_CONCURRENCY (WF_GITHUB | WF_INPUTS | WF_VARS)
#define WF_CTX_JOB_IF                                                \
	(WF_GITHUB | WF_NEEDS | WF_VARS | WF_INPUTS | WF_FN_STATUS | \
	 WF_FN_JOB_STATUS)
#define WF_CTX_JOB_STRATEGY (WF_GITHUB | WF_NEEDS | WF_VARS | WF_INPUTS)
#define WF_CTX_JOB_BASIC \
	(WF_GITHUB | WF_NEEDS | WF_STRATEGY | WF_MATRIX | WF_VARS | WF_INPUTS)
#define WF_CTX_JOB_ENV (WF_CTX_JOB_BASIC | WF_SECRETS)
#define WF_CTX_JOB_DEFAULTS (WF_CTX_JOB_BASIC | WF_ENV)
#define WF_CTX_JOB_OUTPUTS \
	(WF_CTX_JOB_BASIC | WF_JOB | WF_RUNNER | WF_ENV | WF_SECRETS | WF_STEPS)
#define WF_CTX_CONTAINER_CRED (WF_CTX_JOB_BASIC | WF_ENV | WF_SECRETS)
#define WF_CTX_CONTAINER_ENV \
	(WF_CTX_JOB_BASIC | WF_JOB | WF_RUNNER | WF_ENV | WF_SECRETS)
#define WF_CTX_ENV_URL \
	(WF_CTX_JOB_BASIC | WF_JOB | WF_RUNNER | WF_ENV | WF_STEPS)
#define WF_CTX_JOB_SECRETS (WF_CTX_JOB_BASIC | WF_SECRETS)
#define WF_CTX_STEP                                                    \
	(WF_CTX_JOB_BASIC | WF_JOB | WF_RUNNER | WF_ENV | WF_SECRETS | \
	 WF_STEPS | WF_FN_HASHFILES)
#define WF_CTX_STEP_IF                                               \
	(WF_CTX_JOB_BASIC | WF_JOB | WF_RUNNER | WF_ENV | WF_STEPS | \
	 WF_FN_HASHFILES | WF_FN_STATUS)
#define WF_CTX_CALL_INPUT_DEFAULT (WF_GITHUB | WF_INPUTS | WF_VARS)
#define WF_CTX_CALL_OUTPUT (WF_GITHUB | WF_JOBS | WF_VARS | WF_INPUTS)

/*
 * In action metadata, after actions/runner's action_yaml.json: a composite
 * action's steps see no secrets and no needs; docker args and env see only
 * inputs.  pre-if and post-if are conditions like a step's if:.  Input
 * defaults also get env and vars, which real actions use.
 */
#define WF_CTX_ACTION_STEP                                           \
	(WF_GITHUB | WF_INPUTS | WF_VARS | WF_STRATEGY | WF_MATRIX | \
	 WF_STEPS | WF_JOB | WF_RUNNER | WF_ENV | WF_FN_HASHFILES)
#define WF_CTX_ACTION_STEP_IF (WF_CTX_ACTION_STEP | WF_FN_STATUS)
#define WF_CTX_ACTION_OUTPUT                                         \
	(WF_GITHUB | WF_INPUTS | WF_VARS | WF_STRATEGY | WF_MATRIX | \
	 WF_STEPS | WF_JOB | WF_RUNNER | WF_ENV)
#define WF_CTX_ACTION_INPUT_DEFAULT                                           \
	(WF_GITHUB | WF_VARS | WF_STRATEGY | WF_MATRIX | WF_JOB | WF_RUNNER | \
	 WF_ENV | WF_FN_HASHFILES)
#define WF_CTX_ACTION_DOCKER WF_INPUTS

struct wf_parser {
	struct guts_diags *d;
	const struct guts_workflow_opts *opts;
	const char *text;
	size_t len;
	int nesting; /* depth of reusable workflow calls being checked */
	struct guts_workflow *wf; /* the workflow being built */
	/*
	 * In a called workflow: the permissions its caller allows, as levels
	 * per scope (see wf_perm.c); NULL at the top level.
	 */
	const signed char *allowed;
	/*
	 * Jobs of the whole call tree so far, shared by the called workflows'
	 * parsers: a run holds at most GUTS_WORKFLOW_MAX_JOBS.
	 */
	size_t *tree_jobs;
};

/* ---- permissions of reusable workflow calls (wf_perm.c) ---- */

#define WF_NR_SCOPES 15
/* Levels of a permissions value (none 0, read 1, write 2), or -1 per scope
 * when @perm is NULL. */
void wf_perm_levels(const json_t *perm, signed char out[WF_NR_SCOPES]);
/* The levels the default policy gives (opts->permissions_policy). */
void wf_perm_default(const struct guts_workflow_opts *opts,
		     signed char out[WF_NR_SCOPES]);
/* Report jobs of @called that request more than @allowed. */
void wf_perm_check_call(struct wf_parser *p, struct guts_wf_pos at,
			const char *ref, const struct guts_workflow *called,
			const signed char allowed[WF_NR_SCOPES]);

/*
 * Check the `${{ }}` expressions in scalar @n (a template string), or the
 * whole scalar as one condition when @condition is set (an `if:` written with
 * or without `${{ }}`).  Problems go to p->d at the scalar's position.
 */
void wf_check_expr(struct wf_parser *p, const struct guts_yaml_node *n,
		   unsigned ctx, int condition);

/* True when @s contains "${{". */
int wf_has_expr(const char *s, size_t len);

/* Format a number the way GitHub turns YAML numbers into strings. */
char *wf_number_string(double v);

/* ---- converter helpers (wf_util.c) ---- */

struct guts_wf_pos wf_pos_of(const struct guts_yaml_node *n);
int wf_is_scalar(const struct guts_yaml_node *n);
int wf_is_null(const struct guts_yaml_node *n);
int wf_is_string(const struct guts_yaml_node *n);
/* A string that is exactly one ${{ }} (surrounding blanks allowed). */
int wf_is_whole_expr(const struct guts_yaml_node *n);
int wf_in_list(const char *s, const char *const *list);
/* A key that is the `${{ insert }}` directive. */
int wf_is_insert(const struct guts_yaml_node *n);
/* The text between ${{ and }} is the word insert. */
int wf_is_insert_text(const char *s, size_t len);
/* A JSON scalar as GitHub turns it into text; NULL for null and containers. */
char *wf_json_scalar_text(const json_t *v);
size_t wf_edit_distance(const char *a, const char *b);
/* "unexpected key 'runn' in a step; did you mean 'run'?" */
void wf_unexpected_key(struct wf_parser *p, const struct guts_yaml_node *k,
		       const char *where, const char *const *allowed);
/*
 * GitHub refuses an empty value for most keys ("Unexpected value ''").
 * When @v is null and key @k is not in @nullable (may be NULL), report it
 * and return 1, so that the caller skips the key.
 */
int wf_null_value(struct wf_parser *p, const struct guts_yaml_node *k,
		  const struct guts_yaml_node *v, const char *const *nullable);
int wf_want_map(struct wf_parser *p, const struct guts_yaml_node *n,
		const char *what);
int wf_want_seq(struct wf_parser *p, const struct guts_yaml_node *n,
		const char *what);
/* Scalar as GitHub converts it to a string (numbers, booleans too). */
char *wf_scalar_string(const struct guts_yaml_node *n);
/* A string field with its expressions checked against @ctx. */
char *wf_get_str(struct wf_parser *p, const struct guts_yaml_node *n,
		 const char *what, unsigned ctx);
void wf_check_tree_exprs(struct wf_parser *p, const struct guts_yaml_node *n,
			 unsigned ctx);
json_t *wf_number_or_expr(struct wf_parser *p, const struct guts_yaml_node *n,
			  const char *what, unsigned ctx, double min);
json_t *wf_bool_or_expr(struct wf_parser *p, const struct guts_yaml_node *n,
			const char *what, unsigned ctx);
/* A mapping of names to strings (env, with, outputs), or a whole ${{ }}. */
json_t *wf_string_map(struct wf_parser *p, const struct guts_yaml_node *n,
		      const char *what, unsigned ctx, int warn_numbers);
int wf_valid_id(const char *s);
int wf_check_id(struct wf_parser *p, const struct guts_yaml_node *n,
		const char *what);
json_t *wf_to_json(const struct guts_yaml_node *n);

/* ---- steps (wf_step.c) ---- */

/* What a list of steps may hold: a job's steps or a composite action's. */
struct wf_step_rules {
	const char *const *keys; /* the keys a step may have */
	const char *where;	 /* "a step", for unknown keys */
	const char *owner;	 /* "job 'build'", for duplicate ids */
	unsigned ctx;		 /* contexts of name, run, env, with, ... */
	unsigned if_ctx;	 /* contexts of if: */
	int need_shell;		 /* a run: step must name its shell */
};

/* Every key a workflow step may have. */
extern const char *const wf_step_keys[];

/*
 * Convert and check the steps of sequence @seq into a fresh array
 * (*steps, *nr; never NULL), then generate the ids of steps without one.
 */
void wf_parse_step_list(struct wf_parser *p, const struct guts_yaml_node *seq,
			const struct wf_step_rules *r,
			struct guts_wf_step **steps, size_t *nr);

/* Free @nr steps and the array (wf_model.c). */
void wf_steps_free(struct guts_wf_step *steps, size_t nr);

/* Cross-file entry points of the parser. */
json_t *wf_parse_permissions(struct wf_parser *p,
			     const struct guts_yaml_node *n);
void wf_parse_concurrency(struct wf_parser *p, const struct guts_yaml_node *n,
			  unsigned ctx, char **group, json_t **cancel);
void wf_parse_defaults(struct wf_parser *p, const struct guts_yaml_node *n,
		       unsigned ctx, char **shell, char **wd);
void wf_parse_jobs(struct wf_parser *p, struct guts_workflow *wf,
		   const struct guts_yaml_node *n);
void wf_check_graph(struct wf_parser *p, struct guts_workflow *wf,
		    const struct guts_yaml_node *jobs);
void wf_parse_schedule(struct wf_parser *p, const struct guts_yaml_node *n,
		       struct guts_wf_trigger *t);
int wf_parse_internal(struct guts_workflow **out, const char *path,
		      const char *text, size_t len,
		      const struct guts_workflow_opts *opts,
		      struct guts_diags *diags, int nesting,
		      const signed char *allowed, size_t *tree_jobs);

#endif
