/*
 * Pure helpers for clients of the node's REST API (docs/api.md): names,
 * times, pagination links and aligned text tables.  The CLI uses them; they
 * live in libguts so that unit tests can reach them.  Nothing here does I/O.
 */
#ifndef GUTS_APIUTIL_H
#define GUTS_APIUTIL_H

#include <stddef.h>
#include <time.h>

#include "guts/buf.h"

/**
 * Whether @s is a valid owner or repository name:
 * ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$, with no ".." and no ".git" suffix.
 */
int guts_api_valid_name(const char *s);

/**
 * Split "OWNER/NAME" into two malloc'd names; GUTS_EINVAL (with a message)
 * when it is not two valid names.
 */
int guts_api_split_repo(const char *s, char **owner, char **name);

/**
 * "OWNER/NAME" from a git remote URL (https://host/o/r.git, git@host:o/r,
 * ssh://host:22/o/r, /srv/git/o/r.git): the last two path segments, ".git"
 * dropped.  Malloc'd; NULL when they are not two valid names.
 */
char *guts_api_repo_from_remote(const char *url);

/**
 * Parse an RFC 3339 time ("2026-11-28T09:00:00Z", fractions and offsets
 * allowed).  0, or GUTS_EINVAL.
 */
int guts_api_parse_time(const char *s, time_t *out);

/**
 * "3s ago", "5m ago", "2h ago", "4d ago"; past 30 days the date
 * ("2026-11-28").  A @then after @now (clock skew) counts as now.
 */
void guts_api_format_ago(char *buf, size_t size, time_t now, time_t then);

/** A duration: "45s", "1m 3s", "2h 5m" ("0s" for negative). */
void guts_api_format_duration(char *buf, size_t size, long long secs);

/**
 * The target of the rel="next" link in a Link header
 * (`<…>; rel="next", <…>; rel="prev"`), malloc'd, or NULL.
 */
char *guts_api_link_next(const char *link);

/**
 * The path (query included) to request for a link @target, relative to the
 * client's @base URL: "/api/…" as is, "http://host/api/…" without its scheme
 * and host (or without @base when it starts with it), "?page=2" on the path
 * of @cur (the request it came from).  Malloc'd; NULL when it is none of
 * those.  The answer is always requested from @base, so a link can never
 * send the client, or its token, elsewhere.
 */
char *guts_api_link_path(const char *target, const char *base, const char *cur);

/**
 * A copy of @s fit for one line of a terminal: control characters (C0, DEL
 * and C1, which can start escape sequences) become spaces.  NULL gives "".
 */
char *guts_api_printable(const char *s);

/*
 * A text table: cells are added row by row (the first row is usually the
 * header); rendering pads every column but the last to its widest cell
 * (counted in UTF-8 characters), two spaces apart.
 */
struct guts_table {
	size_t ncols;
	char **cells;
	size_t nr, alloc;
};

void guts_table_init(struct guts_table *t, size_t ncols);
void guts_table_release(struct guts_table *t);
/** Add the next cell, made printable; NULL or "" shows as "-". */
void guts_table_add(struct guts_table *t, const char *cell);
void guts_table_addf(struct guts_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Append the table to @out, each line after @indent ("" for none). */
void guts_table_render(const struct guts_table *t, struct guts_buf *out,
		       const char *indent);

/*
 * Text from a node (job logs) made safe for a terminal: colours (ESC [ ...
 * m) pass; every other escape sequence (window titles, cursor moves, OSC)
 * and control character but tab and newline is dropped.  The state carries
 * over from one chunk to the next.
 */
struct guts_term_filter {
	int state;
	char pend[64];
	size_t np;
};

void guts_term_filter(struct guts_term_filter *f, const char *in, size_t len,
		      struct guts_buf *out);

#endif
