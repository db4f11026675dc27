/*
 * Matrix expansion: `jobs.<id>.strategy.matrix` turned into the list of
 * combinations (legs) a job runs as, with GitHub's rules and in GitHub's
 * order (the reference is GitHub's MatrixBuilder; docs/workflow-plan.md
 * walks through the docs' examples).
 *
 *  1. The vectors (every key but include and exclude) are multiplied in key
 *     order, the first key varying slowest: {a: [1, 2], b: [x, y]} gives
 *     (1, x) (1, y) (2, x) (2, y).
 *  2. A combination is dropped when it matches an `exclude` entry.  Every key
 *     of an exclude entry must be a vector.
 *  3. Each `include` entry is split into its vector keys (the filter) and the
 *     other keys (the extras).  It applies to every combination of step 2
 *     that its filter matches (no filter matches all of them): the extras are
 *     added to it, a later entry overwriting what an earlier one added.  The
 *     original values are never changed.  An entry that applied to no
 *     combination becomes a combination of its own, appended after all
 *     others, filter keys first; entries never apply to such appended ones.
 *     A matrix with include only therefore gives exactly its entries.
 *
 * "Matches" is GitHub's: each leaf (scalar) of the entry, at its path, must
 * equal the combination's value at that path by the expression language's
 * `==`, so it is a partial, deep match; strings compare case-insensitively
 * (ASCII) and values of different types compare as numbers ('16' == 16,
 * true == 1, null == 0).  Keys are looked up case-insensitively.
 *
 * At most GUTS_MATRIX_MAX_COMBINATIONS combinations, like GitHub.  A vector
 * must be a non-empty sequence.
 *
 * Strings holding `${{ }}` (the whole matrix, a vector, include or exclude,
 * an entry, or any value) are evaluated against the contexts given (github,
 * needs, inputs, vars; strategy.matrix may use no others).  When one refers
 * to a context that is not given, or no contexts are given, the matrix
 * cannot be known yet: expansion succeeds with legs == NULL and a reason in
 * `deferred`, and the caller reports "determined at run time".
 *
 * Nothing here keeps global state; different matrices may be expanded from
 * different threads at once.
 */
#ifndef GUTS_MATRIX_H
#define GUTS_MATRIX_H

#include <jansson.h>
#include <stddef.h>

/** GitHub's limit on the jobs one matrix may produce. */
#define GUTS_MATRIX_MAX_COMBINATIONS 256
/** Limit on the product of the vector sizes before exclude is applied. */
#define GUTS_MATRIX_MAX_PRODUCT 65536
/** GitHub's limit on a job's display name, in characters. */
#define GUTS_MATRIX_MAX_NAME 100

struct guts_matrix {
	json_t *legs; /* array of combination objects; NULL when deferred */
	/*
	 * name_keys[i]: how many leading keys of legs[i] name it (the vector
	 * keys of a cross-product combination; every key of a combination an
	 * include entry appended).  See guts_matrix_leg_name().
	 */
	size_t *name_keys;
	char *deferred; /* why the matrix is known only at run time, or NULL */
};

#define GUTS_MATRIX_INIT         \
	{                        \
		NULL, NULL, NULL \
	}

void guts_matrix_init(struct guts_matrix *m);
void guts_matrix_release(struct guts_matrix *m);

/**
 * Expand @matrix (the model's job->matrix: an object, or a string holding
 * an expression) into @m, which must be freshly initialised.  @contexts is
 * an object of contexts for expressions, or NULL.  GUTS_EINVAL for a matrix
 * GitHub refuses, with a message such as "matrix exclude key 'arch' does
 * not match any key within the matrix" or "matrix produces 300
 * combinations; the limit is 256".  GUTS_ETOOBIG when the work would be out
 * of proportion: a product of the vector sizes over GUTS_MATRIX_MAX_PRODUCT,
 * or more than about 16 million value comparisons for exclude and include
 * (which keeps any expansion under a second).  On error @m is
 * left empty.
 */
int guts_matrix_expand(struct guts_matrix *m, const json_t *matrix,
		       const json_t *contexts);

/**
 * GitHub's default display name of a leg: "@job (v1, v2, ...)", with the
 * scalar values of the first @name_keys keys of @leg in order (nested
 * mappings and sequences contribute their scalars, depth first; null and
 * empty strings are skipped; numbers and booleans are written as
 * expressions write them).  Just "@job" when there are no such values.
 * Cut to GUTS_MATRIX_MAX_NAME characters, the last three being "...".
 * Returns a new string (caller frees).
 */
char *guts_matrix_leg_name(const char *job, const json_t *leg,
			   size_t name_keys);

/**
 * Whether @a equals @b by the expression language's `==` (see above);
 * arrays and objects equal nothing, as in GitHub's filters.
 */
int guts_matrix_loose_equal(const json_t *a, const json_t *b);

#endif
