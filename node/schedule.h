/*
 * Schedules: the `on.schedule` crons of the workflows on each repository's
 * default branch become runs, in UTC (docs/schedules.md).
 *
 * The node's main loop calls schedule_tick() about once a second; it works
 * only when the UTC minute has changed since its last call (and at the
 * first call), and then only on the current minute: minutes the node was
 * down or busy for are not fired late.  The workflows are read at the
 * default branch's head, as GitHub does, and kept parsed per repository
 * and head sha, so a tick costs a ref lookup per repository.
 *
 * A (workflow, cron) pair fires at most once per minute, across restarts
 * too: its run is created in the same store transaction as the conditional
 * update of the pair's last fire (table `schedules`), and the run's
 * event_key "schedule:<workflow id>:<cron>:<minute>" is unique as well.
 *
 * schedule_tick() keeps its cache in this module and must only be called
 * from one thread (the main loop's).
 */
#ifndef GUTS_NODE_SCHEDULE_H
#define GUTS_NODE_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

struct guts_strvec;

/** Fire what is due in the current UTC minute (see above). */
void schedule_tick(struct node *n);

/**
 * The crons of @text's `on.schedule`, as written, in order and without
 * repeats, appended to @crons (initialised by the caller); none when the
 * workflow does not listen to schedule.  GUTS_EINVAL, with the validator's
 * first message, when @text is not a valid workflow.
 */
int schedule_crons(const char *path, const char *text, size_t len,
		   struct guts_strvec *crons);

/**
 * Record that @cron of workflow @workflow_id fires in the minute @minute_ms
 * (ms since the epoch, a whole minute): 1 when recorded, 0 when it already
 * fired in that minute or a later one, < 0 on a store error.  Call it in
 * the transaction that creates the run.
 */
int schedule_claim(struct store *st, int64_t workflow_id, const char *cron,
		   int64_t minute_ms);

#endif
