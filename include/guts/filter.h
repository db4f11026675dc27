/*
 * Filter patterns: the glob language of GitHub Actions' `branches`,
 * `branches-ignore`, `tags`, `tags-ignore`, `paths` and `paths-ignore`.
 *
 * A pattern always matches the whole name, case-sensitively:
 *
 *   *      zero or more characters other than '/'
 *   **     zero or more of any character, '/' included; when '/' follows
 *          it, the two match zero or more whole directories (the empty
 *          string, or any string ending in '/'), so '**', '/', 'README.md'
 *          written together also match the top-level 'README.md'
 *   ?      zero or one of the preceding character (or bracket expression)
 *   +      one or more of the preceding character (or bracket expression)
 *   [...]  one character listed, or in a range a-z, A-Z or 0-9
 *   \c     the character c itself (escapes any special character)
 *   !      first character only: the pattern is negated (see lists below);
 *          anywhere else it is an ordinary character
 *
 * A '?' or '+' with nothing before it is an ordinary character; after a '*'
 * or '**' it changes nothing.  Bracket expressions cannot be negated ('[!' and
 * '[^' are errors, not shell globs).  docs/filters-and-cron.md has the full
 * grammar and the reasons behind each decision.
 *
 * A list of patterns is read in order: the last pattern that matches a name
 * decides, so a later '!pattern' excludes what an earlier pattern included,
 * and a later positive pattern includes it again.  A name no pattern matches
 * is not matched; so is every name, for a list of negated patterns only.
 *
 * Matching runs a bit-parallel NFA over the compiled pattern: time is
 * O(pattern length x name length) whatever the input, never exponential.
 * Compiled patterns and lists are immutable, so any number of threads may
 * match against one at the same time.
 */
#ifndef GUTS_FILTER_H
#define GUTS_FILTER_H

#include <stdbool.h>
#include <stddef.h>

/** Longest pattern accepted, in bytes, '!' included. */
#define GUTS_FILTER_PATTERN_MAX 4096

struct guts_filter_pattern;
struct guts_filter_list;

/**
 * Compile @pattern into a new heap object (free with
 * guts_filter_pattern_free()).  GUTS_EINVAL for a bad pattern, with a message
 * such as "invalid filter pattern 'feat/[a-': unclosed '['"; callers prefix
 * the file:line:col of the pattern.
 */
int guts_filter_pattern_compile(struct guts_filter_pattern **out,
				const char *pattern);
void guts_filter_pattern_free(struct guts_filter_pattern *p);

/**
 * Whether @name matches the body of @p (the part after a leading '!'): the
 * negation is applied by lists, not here.
 */
bool guts_filter_pattern_match(const struct guts_filter_pattern *p,
			       const char *name);
/** Whether @p began with '!'. */
bool guts_filter_pattern_is_negated(const struct guts_filter_pattern *p);
/** The pattern as written, '!' included; owned by @p. */
const char *guts_filter_pattern_source(const struct guts_filter_pattern *p);

enum guts_filter_list_flags {
	/*
	 * Refuse a list whose patterns are all negated, as GitHub asks for
	 * `branches`, `tags` and `paths` ("if you define a pattern with '!',
	 * you must also define at least one without").  Not for *-ignore lists.
	 */
	GUTS_FILTER_NEED_POSITIVE = 1 << 0,
};

/**
 * Compile @nr patterns into a new list (free with guts_filter_list_free()).
 * On GUTS_EINVAL, *@bad_index (when not NULL) is the index of the bad
 * pattern, or @nr when the list as a whole is wrong (GUTS_FILTER_NEED_POSITIVE
 * and no positive pattern).  An empty list is valid and matches nothing.
 */
int guts_filter_list_compile(struct guts_filter_list **out,
			     const char *const *patterns, size_t nr,
			     unsigned flags, size_t *bad_index);
void guts_filter_list_free(struct guts_filter_list *l);
size_t guts_filter_list_count(const struct guts_filter_list *l);
/** The @i-th pattern of @l (i < count); owned by @l. */
const struct guts_filter_pattern *
guts_filter_list_get(const struct guts_filter_list *l, size_t i);

/** Whether @name matches @l: the last pattern that matches decides. */
bool guts_filter_list_match(const struct guts_filter_list *l, const char *name);

/**
 * The branch or tag decision for one ref name (without refs/heads/ or
 * refs/tags/).  @include is `branches` or `tags`, @ignore is
 * `branches-ignore` or `tags-ignore`; either may be NULL when absent.  With
 * neither, every name passes; with @include, a name passes when it matches
 * it; with @ignore, when it does not match it.  GitHub forbids giving both;
 * should a caller pass both anyway, a name must pass both.
 */
bool guts_filter_refs(const struct guts_filter_list *include,
		      const struct guts_filter_list *ignore, const char *name);

/**
 * The `paths` / `paths-ignore` decision for the @nr changed @paths of a push
 * or pull request.  With neither list, true.  Otherwise false when no path
 * changed; with @include, true when at least one path matches it; with
 * @ignore, true when at least one path does not match it (the event is
 * skipped only when every path is ignored).  Given both, true when one path
 * matches @include and not @ignore.
 */
bool guts_filter_paths(const struct guts_filter_list *include,
		       const struct guts_filter_list *ignore,
		       const char *const *paths, size_t nr);

#endif
