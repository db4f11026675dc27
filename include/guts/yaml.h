/*
 * YAML loading for workflow files: libyaml's event parser builds a small tree
 * in which every node keeps the line and column it came from, so validation
 * can point at the exact place of a problem.
 *
 * Scalars are resolved with the YAML 1.2 core schema, as GitHub does: `on`,
 * `yes` and `off` are strings; `true`/`false` (any of three casings) are
 * booleans; `null`, `~` and the empty plain scalar are null; decimal, 0o and
 * 0x integers and floats (with .inf and .nan) are numbers.  Explicit tags
 * !!str, !!bool, !!int, !!float and !!null are honoured; any other tag is an
 * error.  Anchors and aliases work: an alias is a copy of its anchor's node,
 * and the total number of nodes and of scalar bytes after expansion are
 * capped so an alias bomb fails cleanly.  Depth, file size and node count are
 * capped too.  Duplicate mapping keys and invalid UTF-8 are errors with their
 * position.
 *
 * The whole tree lives in one arena owned by struct guts_yaml_doc.
 */
#ifndef GUTS_YAML_H
#define GUTS_YAML_H

#include <stddef.h>

#include "guts/diag.h"

#define GUTS_YAML_MAX_BYTES (512 * 1024)
#define GUTS_YAML_MAX_DEPTH 64
#define GUTS_YAML_MAX_NODES 200000
#define GUTS_YAML_MAX_EXPANDED_BYTES (8 * GUTS_YAML_MAX_BYTES)

enum guts_yaml_type {
	GUTS_YAML_SCALAR,
	GUTS_YAML_SEQ,
	GUTS_YAML_MAP,
};

/* What a scalar resolved to. */
enum guts_yaml_scalar {
	GUTS_YAML_STR,
	GUTS_YAML_NULL,
	GUTS_YAML_BOOL,
	GUTS_YAML_NUMBER,
};

enum guts_yaml_style {
	GUTS_YAML_PLAIN,
	GUTS_YAML_SINGLE_QUOTED,
	GUTS_YAML_DOUBLE_QUOTED,
	GUTS_YAML_LITERAL,
	GUTS_YAML_FOLDED,
};

struct guts_yaml_pair;

struct guts_yaml_node {
	enum guts_yaml_type type;
	unsigned line, col; /* 1-based, of the node's first character */
	/* Scalars: the text as written (after YAML unescaping) and what it is.
	 */
	enum guts_yaml_scalar scalar;
	enum guts_yaml_style style;
	const char *str;
	size_t len;
	int boolean;
	double number;
	/* Sequences: items; mappings: pairs, in file order. */
	size_t nr;
	struct guts_yaml_node **items;
	struct guts_yaml_pair *pairs;
};

struct guts_yaml_pair {
	struct guts_yaml_node *key; /* always a scalar */
	struct guts_yaml_node *value;
};

struct guts_yaml_doc {
	struct guts_yaml_node *root; /* NULL for an empty document */
	void *arena;
};

/**
 * Parse @len bytes of YAML into *out.  Problems go to @diags (with
 * positions); the return is GUTS_EINVAL when the text could not be loaded at
 * all (a syntax error, a cap), in which case *out is untouched.  Non-fatal
 * problems such as duplicate keys are recorded as errors but the document is
 * still returned (the first value of a duplicated key wins).
 */
int guts_yaml_load(struct guts_yaml_doc **out, const char *text, size_t len,
		   struct guts_diags *diags);
void guts_yaml_free(struct guts_yaml_doc *doc);

/** Value of @key in mapping @map (exact, case-sensitive), or NULL. */
struct guts_yaml_node *guts_yaml_get(const struct guts_yaml_node *map,
				     const char *key);

/** True when @n is a scalar whose text equals @s. */
int guts_yaml_is(const struct guts_yaml_node *n, const char *s);

/** A short name of the node's kind for messages: "string", "mapping", ... */
const char *guts_yaml_kind_name(const struct guts_yaml_node *n);

#endif
