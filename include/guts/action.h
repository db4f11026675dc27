/*
 * Action metadata: the action.yml (or action.yaml) of a local action, the
 * directory a step names with `uses: ./dir`, in GitHub's metadata syntax.
 *
 * guts_action_parse() converts and validates in one pass, like the workflow
 * loader, and reports every problem into a struct guts_diags at its line and
 * column.  It checks the keys of the file, of each input and output and of
 * `runs:` for the kind of action `runs.using` names, and the `${{ }}`
 * expressions with the contexts GitHub allows at each place (a composite
 * action's steps have no `secrets` and no `needs`).  A composite action's
 * steps are read by the same code as a job's steps, so they get the same
 * struct guts_wf_step, the same checks and the same generated ids; what
 * differs is that a run: step must name its `shell` and that
 * `timeout-minutes` is not allowed.
 *
 * The parser accepts what GitHub accepts.  Whether Guts can run a step (a
 * remote action, docker://, a docker or node action) is the executor's call:
 * each step keeps its uses_kind.  Values that may hold `${{ }}` are kept as
 * written.
 *
 * The model is immutable once built and safe to share between threads.
 */
#ifndef GUTS_ACTION_H
#define GUTS_ACTION_H

#include <jansson.h>
#include <stddef.h>

#include "guts/diag.h"
#include "guts/workflow.h"

#define GUTS_ACTION_MAX_BYTES (512 * 1024)

struct guts_action_input {
	char *name; /* as written; look inputs up case-insensitively */
	char *description;
	int required;
	json_t *default_value; /* string (may hold ${{ }}), or NULL */
	char *deprecation_message;
	struct guts_wf_pos pos;
};

struct guts_action_output {
	char *name;
	char *description;
	char *value; /* composite: an expression template; else may be NULL */
	struct guts_wf_pos pos;
};

enum guts_action_using {
	GUTS_ACTION_COMPOSITE,
	GUTS_ACTION_NODE, /* node12, node16, node20, node24 */
	GUTS_ACTION_DOCKER,
};

struct guts_action {
	char *path; /* the file, as given to the parser */
	char *name; /* NULL when not given (GitHub's docs ask for one) */
	char *description;
	char *author;
	struct guts_action_input *inputs; /* in file order */
	size_t nr_inputs;
	struct guts_action_output *outputs;
	size_t nr_outputs;
	enum guts_action_using using;
	char *using_raw; /* as written: "node20", "composite", "docker" */
	/* node; pre_if and post_if also for docker */
	char *main, *pre, *post, *pre_if, *post_if;
	/* composite: steps as in a job, ids generated the same way */
	struct guts_wf_step *steps;
	size_t nr_steps;
	/* docker */
	char *image; /* "Dockerfile", "docker://...", a path */
	char *entrypoint, *pre_entrypoint, *post_entrypoint;
	json_t *args;	  /* array of strings, or NULL */
	json_t *env;	  /* object of strings, or NULL */
	json_t *branding; /* {color, icon} as written, or NULL */
};

/**
 * Load and validate action metadata.  Every problem goes to @diags.  Returns
 * 0 and sets *out when there are no errors (warnings are fine); otherwise
 * GUTS_EINVAL and *out is untouched.  @path is kept in the model and used in
 * messages.
 */
int guts_action_parse(struct guts_action **out, const char *path,
		      const char *text, size_t len, struct guts_diags *diags);

/**
 * Read @dir/action.yml, or @dir/action.yaml when there is none, and parse
 * it.  GUTS_ENOTFOUND ("can't find 'action.yml' or 'action.yaml' under
 * 'DIR'") when neither exists; read errors are recorded in @diags too.
 */
int guts_action_load(struct guts_action **out, const char *dir,
		     struct guts_diags *diags);

void guts_action_free(struct guts_action *a);

/** The input named @name (case-insensitive, as GitHub does), or NULL. */
const struct guts_action_input *guts_action_input(const struct guts_action *a,
						  const char *name);

/** "composite", "node" or "docker". */
const char *guts_action_using_name(enum guts_action_using u);

#endif
