/*
 * Trigger matching: does a workflow run for an event?  A pure function of
 * the workflow model and a description of the event, shared by guts-node
 * (pushes, pull requests, schedules, dispatch) and `guts workflow plan`.
 *
 * The rules are GitHub's (docs/workflow-plan.md has the details):
 *
 *  - The workflow must listen to the event (`on:`).
 *  - push: a push to a branch is judged by branches / branches-ignore, a
 *    push of a tag by tags / tags-ignore.  When only the filters of the
 *    other kind are set, the push does not run (a workflow with only `tags`
 *    ignores branch pushes, and the other way round).  With neither kind,
 *    every ref passes.  Then paths / paths-ignore against the changed paths,
 *    except that path filters are not evaluated for tag pushes, for branch
 *    deletions, and when the changed paths are unknown (as GitHub does when
 *    it has no diff).
 *  - pull_request, pull_request_target: the activity type must be in `types`
 *    (default opened, synchronize, reopened); branches / branches-ignore
 *    match the BASE branch; then the path filters as for push.
 *  - schedule: the cron that fired must be one of the workflow's.
 *  - workflow_dispatch, workflow_call: the inputs are checked against their
 *    definitions and resolved (see guts_trigger_match()).
 *  - Any other event: its `types`, when set, must hold the action; for
 *    merge_group and workflow_run, branches / branches-ignore match the
 *    base (merge_group) or head (workflow_run) branch, and workflow_run's
 *    `workflows` must name the workflow that completed.
 *
 * Every answer comes with a short reason for people, such as "branch 'dev'
 * does not match branches filter" or "no changed path matches paths".
 */
#ifndef GUTS_TRIGGER_H
#define GUTS_TRIGGER_H

#include <jansson.h>
#include <stddef.h>

#include "guts/workflow.h"

/*
 * An event.  Only `name` is required; fields that do not apply to an event
 * are ignored.  Refs may be given in full (refs/heads/main) or, for base and
 * head, as a bare branch name.
 */
struct guts_event {
	const char *name; /* "push", "pull_request", "schedule", ... */
	const char *ref;  /* push: refs/heads/x or refs/tags/v1 */
	const char *before, *after; /* push: shas; an all-zero after deletes */
	const char *action;	    /* pull_request: opened, closed, ... */
	const char *base_ref;	    /* pull_request, merge_group */
	const char *head_ref;	    /* pull_request, workflow_run */
	const char *workflow;	    /* workflow_run: the workflow's name */
	/* Changed paths (push, pull_request); ignored unless have_paths. */
	const char *const *paths;
	size_t nr_paths;
	int have_paths;
	const char *cron;     /* schedule: the cron that fired; NULL: any */
	const json_t *inputs; /* workflow_dispatch / workflow_call, or NULL */
};

struct guts_trigger_result {
	int matched;
	char *reason;	/* never NULL after a successful match */
	json_t *inputs; /* resolved inputs: always an object */
};

#define GUTS_TRIGGER_RESULT_INIT \
	{                        \
		0, NULL, NULL    \
	}

void guts_trigger_result_init(struct guts_trigger_result *r);
void guts_trigger_result_release(struct guts_trigger_result *r);

/**
 * Decide whether @wf runs for @ev into @r (freshly initialised).  Returns 0
 * whether or not it matched.  For workflow_dispatch and workflow_call the
 * given inputs are checked and resolved into r->inputs: a boolean input
 * takes true/false (or the strings "true"/"false"), a number input a number
 * or a string that parses as one, a choice input one of its options, string
 * and environment inputs any scalar (kept as a string); missing inputs get
 * their defaults.  A bad input is GUTS_EINVAL with a message naming it
 * ("input 'level' must be one of: low, high"), and so are an unknown input
 * and a missing required input without a default; the node answers 422.
 * Inputs given for other events are ignored.  Thread-safe.
 */
int guts_trigger_match(struct guts_trigger_result *r,
		       const struct guts_workflow *wf,
		       const struct guts_event *ev);

/**
 * Resolve @given (an object of name to value, or NULL) against the @nr
 * input definitions @defs, as guts_trigger_match() does, into *out (a new
 * object in definition order).  GUTS_EINVAL names the offending input.
 */
int guts_trigger_resolve_inputs(json_t **out, const struct guts_wf_input *defs,
				size_t nr, const json_t *given);

#endif
