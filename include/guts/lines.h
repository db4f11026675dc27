/*
 * Splitting a byte stream (a step's output) into lines, whatever the reads
 * look like.  Lines are handed out without their "\n"; NUL bytes and "\r"
 * pass through untouched.  A line longer than the maximum is handed out in
 * pieces of the maximum, so a 100 MB line with no newline never needs more
 * than that much memory.  Lines that lie wholly inside one read are handed
 * out without copying.
 */
#ifndef GUTS_LINES_H
#define GUTS_LINES_H

#include <stddef.h>

#include "guts/buf.h"

#define GUTS_LINES_DEFAULT_MAX (64 * 1024)

/*
 * Called per line or piece.  @complete is 1 when a "\n" ended it, 0 for a
 * piece of an over-long line or the unterminated end of the stream.
 * Returning non-zero stops the feed and is passed back.
 */
typedef int (*guts_line_fn)(const char *line, size_t len, int complete,
			    void *ud);

struct guts_lines {
	struct guts_buf partial;
	size_t max;
};

void guts_lines_init(struct guts_lines *l, size_t max_line);
void guts_lines_release(struct guts_lines *l);

/** Feed @len bytes; calls @fn for every line they complete. */
int guts_lines_feed(struct guts_lines *l, const char *data, size_t len,
		    guts_line_fn fn, void *ud);

/** Hand out an unterminated last line, if any (complete = 0). */
int guts_lines_flush(struct guts_lines *l, guts_line_fn fn, void *ud);

#endif
