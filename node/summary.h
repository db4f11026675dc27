/*
 * A job's annotations and summary: the ::error, ::warning and ::notice
 * commands of its steps (and the executor's own errors) and what its steps
 * wrote to $GITHUB_STEP_SUMMARY.  The runner sends both with the job's
 * completion (docs/runner-protocol.md#completion); they are stored in the
 * completion's transaction and served to the run page:
 *
 *   GET /api/repos/{o}/{r}/runs/{id}/annotations
 *   GET /api/repos/{o}/{r}/jobs/{id}/summary
 *
 * A job a re-run kept from an earlier attempt (jobs.copied_from) shows the
 * annotations and summary of the job it was copied from.  Summaries are
 * Markdown; the node renders them to HTML with cmark-gfm in its safe mode
 * (no raw HTML, no javascript: or similar links), so the UI can insert
 * the HTML as is.
 */
#ifndef GUTS_NODE_SUMMARY_H
#define GUTS_NODE_SUMMARY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "store.h"

/* A summary's cap: the executor's per-step cap (EXEC_MAX_SUMMARY). */
#define SUMMARY_MAX_BYTES (1024 * 1024)
/* Annotations kept per job; the runner stops collecting there too. */
#define SUMMARY_MAX_ANNOTATIONS 200
/* An annotation's message, and its file and title. */
#define SUMMARY_MAX_MESSAGE 4096
#define SUMMARY_MAX_FIELD 1024
/*
 * The body cap of a completion: a full summary, full annotations and the
 * job's outputs fit, JSON-escaped.
 */
#define SUMMARY_COMPLETE_CAP (8u << 20)

/* Summaries with a wider table than this are rendered without tables. */
#define SUMMARY_TABLE_COLS 64

/**
 * @md (@len bytes of Markdown) as an HTML fragment: GitHub-flavoured
 * (tables, strikethrough, autolinks, task lists, the tag filter), safe
 * (raw HTML and unsafe link schemes are left out).  Never NULL; the caller
 * frees it.  Thread-safe.
 */
char *summary_html(const char *md, size_t len);

/**
 * Check the "annotations" and "summary" of a completion body (either may
 * be missing or null).  0, or GUTS_EINVAL with a message that names the
 * field ("annotations[3].level: ...").
 */
int summary_check(const json_t *body);

/**
 * Store what summary_check() accepted for @job_id, replacing what the job
 * had.  Meant to run inside the completion's transaction; returns 0 or the
 * store's error.
 */
int summary_store(struct store *st, int64_t job_id, const json_t *annotations,
		  const char *summary);

/* The REST handlers. */
void summary_api_annotations(struct http_req *r);
void summary_api_get(struct http_req *r);

#endif
