/*
 * Path globs: the `path:` inputs of upload-artifact and cache, read the way
 * @actions/glob reads them (upload-artifact's and cache's own library),
 * and the `pattern:` of download-artifact.
 *
 * The input is a list of patterns, one a line.  Lines are trimmed; empty
 * lines and lines starting with '#' are skipped.  A leading '!' excludes
 * (an even number of them includes again).  A pattern starting with '~'
 * ('~' alone or '~/...') is under the home directory; a relative pattern is
 * under the base directory.  Patterns are normalised lexically ('.', '..'
 * and repeated '/' collapse) before anything is matched, so a caller checks
 * where a pattern can reach by looking at its search path.
 *
 * A pattern matches whole paths, one '/'-separated segment at a time:
 *
 *   *      zero or more characters of one segment (dot files included)
 *   ?      exactly one character (byte) of one segment
 *   [...]  one character of a set: [abc], [a-z], negated with [!...] or
 *          [^...]; ']' first in the set is literal; an unclosed '[' is
 *          literal
 *   **     a whole segment: zero or more segments (dot directories
 *          included); inside a longer segment it is just '*'
 *   \c     the character c itself
 *
 * Like @actions/glob, a pattern that matches a directory matches everything
 * below it ("implicit descendants").  The patterns are read in order and the
 * last one that matches a path decides, so a later '!' pattern excludes what
 * earlier patterns included.  Matching costs O(segments of the pattern x
 * segments of the path) per pattern, plus the usual linear-time '*' matching
 * inside a segment: never exponential.
 *
 * A compiled list is immutable; any number of threads may match against it.
 */
#ifndef GUTS_PATHGLOB_H
#define GUTS_PATHGLOB_H

#include <stddef.h>

#include "guts/strvec.h"

/* Longest pattern line accepted, in bytes, after '~' and base expansion. */
#define GUTS_PATHGLOB_PATTERN_MAX 4096
/* Most pattern lines in one list. */
#define GUTS_PATHGLOB_MAX_PATTERNS 1024

struct guts_pathglob;

/**
 * Compile the patterns in @text (one a line) into a new list (free with
 * guts_pathglob_free()).  @base is the absolute directory relative patterns
 * start from; @home the one '~' stands for (NULL: '~' is an error).
 * GUTS_EINVAL names the bad line, e.g. "path pattern '~/x': no home
 * directory is known".  A text with no patterns compiles to an empty list.
 */
int guts_pathglob_compile(struct guts_pathglob **out, const char *text,
			  const char *base, const char *home);
void guts_pathglob_free(struct guts_pathglob *g);

/** Number of patterns (lines kept) in @g. */
size_t guts_pathglob_count(const struct guts_pathglob *g);
/** The @i-th pattern as an absolute, normalised path; owned by @g. */
const char *guts_pathglob_pattern(const struct guts_pathglob *g, size_t i);
/** Whether the @i-th pattern excludes. */
int guts_pathglob_negated(const struct guts_pathglob *g, size_t i);

/**
 * Where a search must start: for each including pattern, its leading
 * segments without wildcards ('/a/b' for '/a/b/c*'; the whole path for a
 * literal pattern), without duplicates and without paths under another one
 * in the list, in the order of the patterns.  Every path the list can
 * match is one of these or lies under one.  Owned by @g.
 */
const struct guts_strvec *
guts_pathglob_search_paths(const struct guts_pathglob *g);

/**
 * Whether absolute normalised @path is matched by @g (the last matching
 * pattern decides; a pattern matching an ancestor matches @path).
 */
int guts_pathglob_match(const struct guts_pathglob *g, const char *path);

/**
 * Whether anything below directory @dir may match, so a walk can skip
 * directories that cannot contain a match (or are wholly excluded).
 */
int guts_pathglob_descend(const struct guts_pathglob *g, const char *dir);

/**
 * Match one pattern against one string with the rules above (segments
 * split at '/', '**' a whole segment), without '!', '~' or base directories:
 * download-artifact's `pattern:` against artifact names.  No implicit
 * descendants: the whole string must match.
 */
int guts_pathglob_fnmatch(const char *pattern, const char *string);

#endif
