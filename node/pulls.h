/*
 * Pull requests: the part of collaboration that CI needs (docs/pulls.md).
 *
 * A pull request asks to merge branch `head` into branch `base` of the same
 * repository.  The node keeps refs/pull/N/head at the head's tip and, while
 * the two merge cleanly, refs/pull/N/merge at a test-merge commit (parents:
 * base, head) that pull_request runs build.  Every change to a pull request
 * (creation, pushes to either branch, closing, merging) happens under
 * node->push_lock, the lock push events are processed under, so the refs and
 * the row move together.
 */
#ifndef GUTS_NODE_PULLS_H
#define GUTS_NODE_PULLS_H

#include <jansson.h>

#include "http.h"

/* The REST API: /api/repos/{o}/{r}/pulls... */
void api_pulls_create(struct http_req *r);
void api_pulls_list(struct http_req *r);
void api_pulls_get(struct http_req *r);
void api_pulls_patch(struct http_req *r);
void api_pulls_merge(struct http_req *r);

/*
 * A push event @ev (a push_events row with owner, repo_name) landed on a
 * branch: the open pull requests whose head or base it is get their refs
 * refreshed, and those whose head it is a `synchronize` event.  Called by
 * the push-event processing, under n->push_lock.
 */
void pulls_on_push(struct node *n, const json_t *ev);

/*
 * At start-up: what a crash interrupted.  A merge whose base branch moved
 * is recorded as merged, one whose base did not is forgotten; a pending
 * event (opened, reopened, closed) gets its runs, at most once each.
 */
void pulls_recover(struct node *n);

#endif
