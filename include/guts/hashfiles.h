/*
 * hashFiles() for the executor: the SHA-256 of the SHA-256 of every
 * regular file under a workspace that the patterns match, in path order,
 * as GitHub computes it.  Patterns are relative to the workspace (an
 * absolute pattern inside it is made relative); `!` excludes, and the last
 * pattern that matches a path decides.  Symbolic links are not followed
 * out of the workspace.  No file matched: the empty string.
 */
#ifndef GUTS_HASHFILES_H
#define GUTS_HASHFILES_H

#include <stddef.h>

/** Set *out to a new hex string (or ""); GUTS_EINVAL for a bad pattern. */
int guts_hash_files(char **out, const char *workspace,
		    const char *const *patterns, size_t nr);

#endif
