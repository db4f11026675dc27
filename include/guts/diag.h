/*
 * Diagnostics: the errors and warnings a workflow file produces, each with the
 * line and column it is about.  Loading and validation collect every problem
 * they find into one struct guts_diags instead of stopping at the first, so a
 * user sees all of them in one run, printed as
 *
 *	FILE:LINE:COL: error: MESSAGE
 *
 * Line and column are 1-based; 0 means unknown (the position is then left out).
 */
#ifndef GUTS_DIAG_H
#define GUTS_DIAG_H

#include <stddef.h>

#include "guts/buf.h"

enum guts_diag_severity {
	GUTS_DIAG_ERROR,
	GUTS_DIAG_WARNING,
};

struct guts_diag {
	enum guts_diag_severity severity;
	unsigned line, col;
	char *message;
};

struct guts_diags {
	char *file; /* owned copy, cleaned like messages; may be NULL */
	struct guts_diag *v;
	size_t nr, alloc;
	size_t errors, warnings; /* all of them, recorded or not */
	/*
	 * Record warnings until there are this many diagnostics, errors until
	 * twice as many (0: 1000); count them all.
	 */
	size_t max;
};

void guts_diags_init(struct guts_diags *d, const char *file);
void guts_diags_release(struct guts_diags *d);

/**
 * Record one diagnostic; duplicates of the same line, col and text are
 * dropped.  The message is kept as one line of valid UTF-8: control
 * characters become \n, \t, \r or \xNN and malformed UTF-8 becomes U+FFFD.
 */
void guts_diags_add(struct guts_diags *d, enum guts_diag_severity sev,
		    unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define guts_diag_error(d, line, col, ...) \
	guts_diags_add((d), GUTS_DIAG_ERROR, (line), (col), __VA_ARGS__)
#define guts_diag_warning(d, line, col, ...) \
	guts_diags_add((d), GUTS_DIAG_WARNING, (line), (col), __VA_ARGS__)

/** Sort by position (stable), so output follows the file. */
void guts_diags_sort(struct guts_diags *d);

/** Append "FILE:LINE:COL: error: MESSAGE\n" lines to @out. */
void guts_diags_format(const struct guts_diags *d, struct guts_buf *out);

#endif
