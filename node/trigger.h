/*
 * Push events: from the ref updates of a push to workflow entries and runs.
 *
 * A push is recorded (push_events, state 'pending') before git applies it,
 * and processed once git has: the workflow files at the new sha are read
 * with libgit2 and recorded, each is matched against the event with the
 * engine's guts_trigger_match() (changed paths from the pushed diff), and
 * the matching ones get runs.  Processing marks the event 'done' in the
 * same transaction as its runs, so a crash in between processes it again
 * at start-up and never twice.
 */
#ifndef GUTS_NODE_TRIGGER_H
#define GUTS_NODE_TRIGGER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "node.h"

/*
 * Record (create or update) a workflow of a repository from its text.
 * @path NULL: .guts/workflows/<name>.yml.  An invalid workflow is recorded
 * too (valid = 0, errors set); with @strict it is then GUTS_EINVAL (the
 * API's 422) and *row still holds the errors.  *created says whether it
 * is new.
 */
int trigger_record_workflow(struct node *n, int64_t repo_id, const char *path,
			    const char *text, size_t len, const char *sha,
			    int strict, json_t **row, int *created);

/* Record the ref updates of a push before git runs (ids into @ids). */
int trigger_push_begin(struct node *n, int64_t repo_id, const char *actor,
		       const void *updates, size_t nr, int64_t *ids);

/* Process the recorded push events that landed (or drop those that did
 * not).  Called after a push, and at start-up for anything left. */
void trigger_process_pending(struct node *n);

/*
 * The pull_request event @action (opened, synchronize, reopened, closed) of
 * @pull (a pulls row, refreshed) in @repo: the workflows at its test merge
 * that match get runs of refs/pull/N/merge whose statuses go to the head
 * sha.  @key makes it idempotent ("pr:<id>:<action>:<what>").  A pull
 * request without a test merge (conflicts) starts nothing, as on GitHub.
 * Called with n->push_lock held.
 */
int trigger_pull_request(struct node *n, const json_t *repo, const json_t *pull,
			 const char *action, const char *key, const char *actor,
			 const json_t *payload);

#endif
