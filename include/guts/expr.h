/*
 * The ${{ }} expression language of GitHub Actions workflows, with the
 * semantics of GitHub's own evaluator (@actions/expressions is the
 * reference): literals, the ! < <= > >= == != && || operators with
 * short-circuit evaluation, property and index access with the `.*` filter,
 * loose comparisons (strings compare case-insensitively, strings coerce to
 * numbers), the built-in functions contains, startsWith, endsWith, format,
 * join, toJSON, fromJSON and case, and the runner-provided functions
 * success, failure, cancelled, always and hashFiles.
 *
 * The life of an expression:
 *   guts_expr_parse()  text -> struct guts_expr (immutable once built)
 *   guts_expr_eval()   struct guts_expr + struct guts_expr_env -> value
 *   guts_expr_free()
 *
 * A parsed expression is never modified by evaluation, and evaluation keeps
 * no global mutable state, so one struct guts_expr may be evaluated from many
 * threads at once (each with its own env and result).
 *
 * Templates are strings that mix text with `${{ }}` (YAML scalars in
 * workflows); guts_expr_template_*() split them and interpolate.
 *
 * Limits: an expression is at most GUTS_EXPR_MAX_LENGTH bytes, nests at
 * most GUTS_EXPR_MAX_DEPTH deep (GitHub's rule), and an evaluation may build
 * at most about 1 MiB of strings (GitHub's "maximum allowed memory size"),
 * so hostile input can exhaust neither the stack nor memory.
 *
 * Errors: every fallible function returns 0 or a negative enum guts_err,
 * records the reason per thread (guts_error_message()), and, when given a
 * struct guts_expr_error, fills it with the kind, the position and the
 * message worded as GitHub words it.
 */
#ifndef GUTS_EXPR_H
#define GUTS_EXPR_H

#include <jansson.h>
#include <stddef.h>

/* GitHub's limits (MAX_EXPRESSION_LENGTH, MAX_PARSER_DEPTH). */
#define GUTS_EXPR_MAX_LENGTH 21000
#define GUTS_EXPR_MAX_DEPTH 50
/* Default cap on the bytes of strings one evaluation may build. */
#define GUTS_EXPR_MAX_MEMORY ((size_t)1024 * 1024)

/* ---- values ------------------------------------------------------------ */

enum guts_expr_kind {
	GUTS_EXPR_NULL,
	GUTS_EXPR_BOOLEAN,
	GUTS_EXPR_NUMBER,
	GUTS_EXPR_STRING,
	GUTS_EXPR_ARRAY,
	GUTS_EXPR_OBJECT,
};

enum guts_expr_value_flags {
	/* The value owns its string bytes or its json_t reference. */
	GUTS_EXPR_VALUE_OWNED = 1 << 0,
	/* An array made by a `.*` filter: indexing it maps over its items. */
	GUTS_EXPR_VALUE_FILTERED = 1 << 1,
};

/*
 * A value of the language.  Numbers are doubles and may be NaN or
 * +-Infinity.  Strings carry a length and may contain NUL bytes; they are
 * NUL-terminated too.  Arrays and objects are jansson containers whose
 * scalars are read as values on demand.
 *
 * Values returned by this API own what they point to (the OWNED flag) and
 * are released with guts_expr_value_release().  Zero-initialised memory is a
 * valid Null value.
 */
struct guts_expr_value {
	enum guts_expr_kind kind;
	unsigned flags; /* enum guts_expr_value_flags */
	union {
		int boolean;
		double number;
		struct {
			const char *ptr;
			size_t len;
		} string;
		json_t *json; /* GUTS_EXPR_ARRAY or GUTS_EXPR_OBJECT */
	} u;
};

/** Free what @v owns and reset it to Null; NULL does nothing. */
void guts_expr_value_release(struct guts_expr_value *v);

/** Constructors; the string and json variants take copies/references. */
void guts_expr_value_set_null(struct guts_expr_value *v);
void guts_expr_value_set_boolean(struct guts_expr_value *v, int b);
void guts_expr_value_set_number(struct guts_expr_value *v, double d);
void guts_expr_value_set_string(struct guts_expr_value *v, const char *s,
				size_t len);
/** Any JSON value; arrays and objects are shared (json_incref). */
void guts_expr_value_set_json(struct guts_expr_value *v, json_t *j);

/** Make @dst an owning copy of @src (strings copied, json referenced). */
void guts_expr_value_copy(struct guts_expr_value *dst,
			  const struct guts_expr_value *src);

/** "Null", "Boolean", "Number", "String", "Array" or "Object". */
const char *guts_expr_kind_name(enum guts_expr_kind kind);

/** GitHub's truthiness: false, 0, NaN, "" and null are falsy. */
int guts_expr_value_truthy(const struct guts_expr_value *v);

/**
 * The value as `${{ }}` interpolates it (GitHub's coerceString): numbers like
 * JavaScript after rounding to 15 decimals (1, 1.5, 1e+21, NaN), true/false,
 * null as "", arrays and objects as "Array" and "Object".  Returns a fresh
 * NUL-terminated string (caller frees); *len gets its length if non-NULL.
 */
char *guts_expr_value_to_string(const struct guts_expr_value *v, size_t *len);

/**
 * The value as a new jansson reference.  Numbers that JSON cannot hold (NaN,
 * +-Infinity) become null, as JSON.stringify makes them.
 */
json_t *guts_expr_value_to_json(const struct guts_expr_value *v);

/**
 * The value as JSON text the way JavaScript's JSON.stringify writes it
 * (numbers in shortest form, keys in JavaScript order): one line, or with
 * @pretty the 2-space indented form that toJSON() returns.  Caller frees.
 */
char *guts_expr_value_encode(const struct guts_expr_value *v, int pretty,
			     size_t *len);

/**
 * Format a number as JavaScript's Number.prototype.toString does (shortest
 * round-trip digits: 1, 0.1, 1e+21, -Infinity).  @buf needs 32 bytes.
 */
void guts_expr_number_format(double d, char buf[32]);

/* ---- errors ------------------------------------------------------------ */

enum guts_expr_error_kind {
	GUTS_EXPR_ERR_NONE,
	GUTS_EXPR_ERR_LEXING,
	GUTS_EXPR_ERR_PARSING,
	GUTS_EXPR_ERR_EVALUATION,
};

struct guts_expr_error {
	enum guts_expr_error_kind kind;
	/*
	 * Where the offending token starts: @offset in bytes from the start of
	 * the expression text, @position 1-based in characters (UTF-16 units,
	 * as the message says "Located at position N").  Both are 0 when the
	 * error has no position (most evaluation errors).
	 */
	size_t offset;
	size_t position;
	char *message; /* heap; guts_expr_error_release() frees it */
};

#define GUTS_EXPR_ERROR_INIT                   \
	{                                      \
		GUTS_EXPR_ERR_NONE, 0, 0, NULL \
	}

void guts_expr_error_release(struct guts_expr_error *err);
/** "lexing", "parsing", "evaluation" (or "none"). */
const char *guts_expr_error_kind_name(enum guts_expr_error_kind kind);

/* ---- parsing ----------------------------------------------------------- */

struct guts_expr;

enum guts_expr_parse_flags {
	/* success(), failure(), cancelled() and always() exist. */
	GUTS_EXPR_STATUS_FUNCTIONS = 1 << 0,
	/* hashFiles(pattern, ...) exists. */
	GUTS_EXPR_HASHFILES = 1 << 1,
	/*
	 * success() and failure() may name jobs, as in a job's if:
	 * `success('build', 'test')` asks about those needed jobs only.
	 */
	GUTS_EXPR_STATUS_JOB_ARGS = 1 << 2,
};

struct guts_expr_parse_opts {
	/*
	 * The named-values (contexts) an expression may use, matched
	 * case-insensitively.  names == NULL allows any name; otherwise exactly
	 * the first nr_names entries are allowed (none when nr_names is 0).
	 */
	const char *const *names;
	size_t nr_names;
	unsigned flags; /* enum guts_expr_parse_flags */
};

/**
 * Parse @len bytes of expression text (without the `${{ }}`).  opts NULL
 * allows any named-value and every function.  An empty expression parses
 * and evaluates to null.  Errors: GUTS_EINVAL for lexing and parsing errors
 * ("Unrecognized named-value: 'x'. Located at position N within
 * expression: ..."), GUTS_ETOOBIG past GUTS_EXPR_MAX_LENGTH.
 */
int guts_expr_parse(struct guts_expr **out, const char *src, size_t len,
		    const struct guts_expr_parse_opts *opts,
		    struct guts_expr_error *err);

void guts_expr_free(struct guts_expr *e);

/** The source text the expression was parsed from (NUL-terminated). */
const char *guts_expr_source(const struct guts_expr *e, size_t *len);

/* ---- evaluation -------------------------------------------------------- */

enum guts_expr_status {
	GUTS_EXPR_STATUS_SUCCESS,
	GUTS_EXPR_STATUS_FAILURE,
	GUTS_EXPR_STATUS_CANCELLED,
	/*
	 * For a job's if: a needed job was skipped.  success(), failure()
	 * and cancelled() are all false then; always() stays true.
	 */
	GUTS_EXPR_STATUS_SKIPPED,
};

/** Which job status holds now; success() etc. ask it each time. */
typedef enum guts_expr_status (*guts_expr_status_fn)(void *data);

/**
 * The combined status of the named jobs, for success('a', 'b') and
 * failure('a', 'b') in a job's if: (GUTS_EXPR_STATUS_JOB_ARGS).
 */
typedef enum guts_expr_status (*guts_expr_job_status_fn)(
    const char *const *jobs, size_t nr_jobs, void *data);

/**
 * Compute hashFiles(@patterns...): set *out to a fresh string (caller of the
 * callback frees it) and return 0, or return a negative enum guts_err with
 * guts_error() recording why; the message becomes the evaluation error.
 */
typedef int (*guts_expr_hashfiles_fn)(char **out, const char *const *patterns,
				      size_t nr_patterns, void *data);

struct guts_expr_env {
	/*
	 * The contexts: a JSON object whose keys are context names (github,
	 * env, matrix, ...), looked up case-insensitively.  NULL: none.  A
	 * name that parses but is missing here evaluates to null.
	 */
	const json_t *contexts;
	guts_expr_status_fn status; /* NULL: the status is success */
	void *status_data;
	/* NULL: success('a') and failure('a') use @status. */
	guts_expr_job_status_fn job_status;
	void *job_status_data;
	guts_expr_hashfiles_fn hash_files; /* NULL: hashFiles() fails */
	void *hash_files_data;
	size_t max_memory; /* 0: GUTS_EXPR_MAX_MEMORY */
};

/**
 * Evaluate @e against @env into *out (an owning value; release it).
 * Errors: GUTS_EINVAL with an evaluation error (a bad format string,
 * invalid JSON for fromJSON, ...), GUTS_ETOOBIG past the memory cap.
 * Thread-safe for a shared @e.
 */
int guts_expr_eval(struct guts_expr_value *out, const struct guts_expr *e,
		   const struct guts_expr_env *env,
		   struct guts_expr_error *err);

/** Parse and evaluate in one step. */
int guts_expr_eval_string(struct guts_expr_value *out, const char *src,
			  size_t len, const struct guts_expr_parse_opts *opts,
			  const struct guts_expr_env *env,
			  struct guts_expr_error *err);

/* ---- introspection ----------------------------------------------------- */

/**
 * Called for every named-value reference with its lowercased dotted path:
 * property names as written, `*` for `.*`, `[*]` and any index that is not
 * a string literal (`github.event.commits.*.message`).  @offset is the byte
 * offset of the context name in the source.  Return non-zero to stop.
 */
typedef int (*guts_expr_ref_fn)(const char *path, size_t offset, void *data);
/** Called for every function call with its lowercased name. */
typedef int (*guts_expr_call_fn)(const char *name, size_t nr_args,
				 size_t offset, void *data);

/**
 * Walk @e in source order, calling @on_ref and @on_call (either may be
 * NULL).  Offsets are relative to the parsed text (add the segment's offset
 * for a template).  Returns 0, or the first non-zero value a callback
 * returned.
 */
int guts_expr_walk(const struct guts_expr *e, guts_expr_ref_fn on_ref,
		   guts_expr_call_fn on_call, void *data);

/* ---- templates --------------------------------------------------------- */

enum guts_expr_segment_kind {
	GUTS_EXPR_SEGMENT_TEXT,
	GUTS_EXPR_SEGMENT_EXPR,
};

/*
 * One piece of a template.  For text, [offset, offset+len) is the text.
 * For an expression, [offset, offset+len) is everything between `${{` and
 * `}}` (untrimmed), and [outer_offset, outer_offset+outer_len) covers the
 * `${{ ... }}` itself.  Offsets are bytes from the start of the template.
 */
struct guts_expr_segment {
	enum guts_expr_segment_kind kind;
	size_t offset;
	size_t len;
	size_t outer_offset;
	size_t outer_len;
};

/**
 * Split @len bytes of template text into segments (*out, caller frees;
 * *nr gets the count, 0 for an empty string).  A `}}` inside a quoted
 * string of an expression does not close it.  GUTS_EINVAL when a `${{` is
 * not closed or an expression is empty; err->offset points at the `${{`.
 */
int guts_expr_template_scan(struct guts_expr_segment **out, size_t *nr,
			    const char *src, size_t len,
			    struct guts_expr_error *err);

/**
 * Whether @src is exactly one `${{ }}` and nothing else (such a value
 * keeps its type: `${{ fromJSON('[1]') }}` is an array).  When it is and
 * @expr_offset/@expr_len are non-NULL they get the inner text's span.
 */
int guts_expr_template_is_single(const char *src, size_t len,
				 size_t *expr_offset, size_t *expr_len);

/** Whether @src contains a `${{` at all. */
int guts_expr_template_has_expr(const char *src, size_t len);

/**
 * Interpolate a template: text is copied, each `${{ }}` is evaluated and
 * coerced to a string.  *out is a fresh NUL-terminated string (caller
 * frees); *out_len gets its length if non-NULL.  Errors from parsing and
 * evaluation carry err->offset relative to the template.
 */
int guts_expr_template_eval(char **out, size_t *out_len, const char *src,
			    size_t len, const struct guts_expr_parse_opts *opts,
			    const struct guts_expr_env *env,
			    struct guts_expr_error *err);

/**
 * Like guts_expr_template_eval(), but a template that is exactly one
 * `${{ }}` keeps its value's type; anything else becomes a string value.
 * A string without `${{` is returned as a string.
 */
int guts_expr_template_eval_value(struct guts_expr_value *out, const char *src,
				  size_t len,
				  const struct guts_expr_parse_opts *opts,
				  const struct guts_expr_env *env,
				  struct guts_expr_error *err);

#endif
