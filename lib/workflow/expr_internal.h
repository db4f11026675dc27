/*
 * Private to lib/workflow/expr_*.c: tokens, the syntax tree, the evaluation
 * context and the helpers the pieces share.  Names are guts__expr_*.
 *
 * Ownership inside an evaluation: a struct guts_expr_value produced while
 * evaluating may borrow (no OWNED flag) from the syntax tree or from the
 * env's contexts, both of which outlive the evaluation; everything it owns
 * is released by guts_expr_value_release().  The public result is always
 * made owning before it is handed out.
 */
#ifndef GUTS_WORKFLOW_EXPR_INTERNAL_H
#define GUTS_WORKFLOW_EXPR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "guts/buf.h"
#include "guts/expr.h"

/* Stands for a byte that is not valid UTF-8; copied through unchanged. */
#define GUTS__EXPR_INVALID_CP 0xffffffffu

/*
 * The reference counts nesting only for some constructs, so `a == b == c
 * ...` chains could build a tree as tall as the expression is long.  This
 * caps the height of the tree we build, which bounds every recursion.
 */
#define GUTS__EXPR_MAX_HEIGHT 500

/* ---- lexer ------------------------------------------------------------- */

enum guts__expr_tok {
	GUTS__TOK_LEFT_PAREN,
	GUTS__TOK_RIGHT_PAREN,
	GUTS__TOK_LEFT_BRACKET,
	GUTS__TOK_RIGHT_BRACKET,
	GUTS__TOK_COMMA,
	GUTS__TOK_DOT,
	GUTS__TOK_BANG,
	GUTS__TOK_BANG_EQUAL,
	GUTS__TOK_EQUAL_EQUAL,
	GUTS__TOK_GREATER,
	GUTS__TOK_GREATER_EQUAL,
	GUTS__TOK_LESS,
	GUTS__TOK_LESS_EQUAL,
	GUTS__TOK_AND,
	GUTS__TOK_OR,
	GUTS__TOK_STAR,
	GUTS__TOK_NUMBER,
	GUTS__TOK_STRING,
	GUTS__TOK_IDENTIFIER,
	GUTS__TOK_TRUE,
	GUTS__TOK_FALSE,
	GUTS__TOK_NULL,
	GUTS__TOK_EOF,
};

struct guts__expr_token {
	enum guts__expr_tok type;
	size_t off; /* the lexeme's bytes in the source */
	size_t len;
	double number; /* GUTS__TOK_NUMBER */
	char *str;     /* GUTS__TOK_STRING: the unquoted value (heap) */
	size_t str_len;
};

/**
 * Split @src into tokens ending with one GUTS__TOK_EOF (whose off is where
 * the reference puts it: the start of the last lexeme or blank).
 */
int guts__expr_lex(struct guts__expr_token **out, size_t *nr, const char *src,
		   size_t len, struct guts_expr_error *err);
void guts__expr_tokens_free(struct guts__expr_token *toks, size_t nr);

/* ---- syntax tree ------------------------------------------------------- */

enum guts__expr_node_kind {
	GUTS__N_LITERAL,
	GUTS__N_CONTEXT,
	GUTS__N_INDEX, /* left[right]; right NULL for `*` */
	GUTS__N_NOT,
	GUTS__N_BINARY, /* op is the operator's token type */
	GUTS__N_AND,
	GUTS__N_OR,
	GUTS__N_CALL, /* op is an enum guts__expr_func */
	GUTS__N_GROUP,
};

enum guts__expr_func {
	GUTS__F_CONTAINS,
	GUTS__F_STARTSWITH,
	GUTS__F_ENDSWITH,
	GUTS__F_FORMAT,
	GUTS__F_JOIN,
	GUTS__F_TOJSON,
	GUTS__F_FROMJSON,
	GUTS__F_CASE,
	GUTS__F_SUCCESS,
	GUTS__F_FAILURE,
	GUTS__F_CANCELLED,
	GUTS__F_ALWAYS,
	GUTS__F_HASHFILES,
	GUTS__F_COUNT,
};

struct guts__expr_func_info {
	const char *name; /* lowercase */
	size_t min_args;
	size_t max_args;
	unsigned needs_flag; /* enum guts_expr_parse_flags, 0 for built-ins */
};

extern const struct guts__expr_func_info guts__expr_funcs[GUTS__F_COUNT];

struct guts__expr_node {
	enum guts__expr_node_kind kind;
	int op;
	size_t offset; /* byte offset of the token that names the node */
	struct guts__expr_node *left;
	struct guts__expr_node *right;
	struct guts__expr_node **args; /* calls, && and || */
	size_t nr_args;
	struct guts_expr_value lit; /* literals; strings owned by the node */
	char *name;		    /* context name or property, as written */
	size_t name_len;
	int literal_string_index; /* index is a string literal (for walk) */
};

struct guts_expr {
	char *src;
	size_t len;
	struct guts__expr_node *root; /* NULL: empty expression */
};

/* ---- evaluation -------------------------------------------------------- */

struct guts__expr_eval {
	const struct guts_expr *e;
	const struct guts_expr_env *env;
	size_t mem;
	size_t mem_max;
	int code;  /* the failure's enum guts_err */
	char *msg; /* the failure's message (heap) */
};

/** Record an evaluation failure; returns @code. */
int guts__expr_fail(struct guts__expr_eval *cx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Account @bytes of built strings; fails past the memory cap. */
int guts__expr_charge(struct guts__expr_eval *cx, size_t bytes);

/** Call a function with evaluated arguments. */
int guts__expr_call(struct guts__expr_eval *cx, const struct guts__expr_node *n,
		    struct guts_expr_value *args, size_t nr_args,
		    struct guts_expr_value *out);

int guts__expr_equals(const struct guts_expr_value *a,
		      const struct guts_expr_value *b);
int guts__expr_greater(const struct guts_expr_value *a,
		       const struct guts_expr_value *b);
int guts__expr_less(const struct guts_expr_value *a,
		    const struct guts_expr_value *b);

/* ---- values ------------------------------------------------------------ */

/** JavaScript's Number(string): trims blanks, "" is 0, hex/octal/binary. */
double guts__expr_str_to_number(const char *s, size_t len);
/**
 * JavaScript's trim(): returns the trimmed length and, in *start if
 * non-NULL, the offset of the first byte kept.
 */
size_t guts__expr_js_trim(const char *s, size_t len, size_t *start);
/** The reference's number(): null 0, booleans 0/1, strings Number(). */
double guts__expr_value_number(const struct guts_expr_value *v);
int guts__expr_is_primitive(const struct guts_expr_value *v);
/** Append coerceString(@v) to @b. */
void guts__expr_coerce_string(struct guts_buf *b,
			      const struct guts_expr_value *v);
/** Append JSON.stringify(@v) (2-space indent when @pretty) to @b. */
void guts__expr_encode(struct guts_buf *b, const struct guts_expr_value *v,
		       int pretty);

/**
 * Read a jansson value as an expression value.  With @own the result owns
 * copies (for values taken out of a container that is about to go away);
 * otherwise it borrows from @j.
 */
void guts__expr_from_json(struct guts_expr_value *out, json_t *j, int own);

/** Case-insensitive key lookup with the reference's rules; borrowed. */
json_t *guts__expr_object_get(const json_t *obj, const char *key, size_t len);

struct guts__expr_entry {
	const char *key;
	size_t key_len;
	json_t *value;
};

/**
 * An object's entries in JavaScript's order (array-index keys ascending
 * first, then insertion order), keeping only the first of keys that differ
 * only in case.  *out is a fresh array (caller frees); returns the count.
 */
size_t guts__expr_object_entries(const json_t *obj,
				 struct guts__expr_entry **out);

/* ---- unicode ----------------------------------------------------------- */

/** Decode one code point; invalid bytes give GUTS__EXPR_INVALID_CP. */
size_t guts__expr_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
int guts__expr_is_ascii(const char *s, size_t len);
/** Append @s upper-cased (GitHub's toUpperSpecial) or lower-cased. */
void guts__expr_case_map(struct guts_buf *out, const char *s, size_t len,
			 int upper);
/** Compare as toUpperSpecial(a) vs toUpperSpecial(b) in UTF-16 order. */
int guts__expr_str_icmp(const char *a, size_t alen, const char *b, size_t blen);
int guts__expr_str_ieq(const char *a, size_t alen, const char *b, size_t blen);
/** Whether a.toLowerCase() === b.toLowerCase() (object keys). */
int guts__expr_key_eq(const char *a, size_t alen, const char *b, size_t blen);

/* ---- messages ---------------------------------------------------------- */

/** The 1-based position (UTF-16 units) of byte @off in @src. */
size_t guts__expr_position(const char *src, size_t off);
/** Fill @err (if non-NULL) and the per-thread message; returns @code. */
int guts__expr_set_error(struct guts_expr_error *err,
			 enum guts_expr_error_kind kind, int code,
			 size_t offset, size_t position, const char *msg);

#endif
