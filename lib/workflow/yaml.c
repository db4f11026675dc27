/*
 * YAML to a positioned tree, on libyaml's event parser.  See guts/yaml.h for
 * the schema rules.  Everything is allocated from one arena so that freeing
 * a document is one walk over a block list, and so that the copies made for
 * aliases cost nothing to clean up.
 */
#include "guts/yaml.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "banned.h"

/* ---- arena ---- */

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	max_align_t data[];
};

struct arena {
	struct arena_block *head;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t align = sizeof(max_align_t);

	n = (n + align - 1) / align * align;
	if (!b || b->size - b->used < n) {
		size_t size = n > 32768 ? n : 32768;

		b = guts_xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		if (a->head && n > 32768) {
			/* Keep filling the current block after a big one. */
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	void *p = (char *)b->data + b->used;

	b->used += n;
	memset(p, 0, n);
	return p;
}

static void arena_free(struct arena *a)
{
	struct arena_block *b, *next;

	if (!a)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ---- loader state ---- */

struct anchor {
	char *name;
	struct guts_yaml_node *node;
	size_t weight; /* nodes in the anchored subtree */
	size_t bytes;  /* and the bytes of its scalars */
	int levels;    /* nested collections in it, itself included */
};

struct loader {
	yaml_parser_t parser;
	struct arena *arena;
	struct guts_diags *diags;
	const char *text;
	size_t len;
	size_t nodes; /* counted after alias expansion */
	size_t bytes; /* of scalars, counted after alias expansion */
	struct anchor *anchors;
	size_t nr_anchors, alloc_anchors;
	int failed;
};

/* At most @max bytes of @s (for "%.*s"), not cutting a UTF-8 character. */
static int clip(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return (int)len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return (int)max;
}

static void pos_of_offset(const char *text, size_t len, size_t off,
			  unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static void parser_error(struct loader *ld)
{
	yaml_parser_t *p = &ld->parser;
	unsigned line, col;

	ld->failed = 1;
	if (p->error == YAML_READER_ERROR) {
		pos_of_offset(ld->text, ld->len, p->problem_offset, &line,
			      &col);
		guts_diag_error(ld->diags, line, col, "invalid input: %s",
				p->problem ? p->problem : "unreadable text");
		return;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		guts_diag_error(ld->diags, 0, 0, "out of memory parsing YAML");
		return;
	}
	line = (unsigned)p->problem_mark.line + 1;
	col = (unsigned)p->problem_mark.column + 1;
	if (p->context)
		guts_diag_error(ld->diags, line, col,
				"YAML syntax error: %s %s",
				p->problem ? p->problem : "error", p->context);
	else
		guts_diag_error(ld->diags, line, col, "YAML syntax error: %s",
				p->problem ? p->problem : "error");
}

static int next_event(struct loader *ld, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&ld->parser, ev)) {
		parser_error(ld);
		return -1;
	}
	return 0;
}

static struct guts_yaml_node *
new_node(struct loader *ld, enum guts_yaml_type type, const yaml_mark_t *mark)
{
	struct guts_yaml_node *n;

	if (++ld->nodes > GUTS_YAML_MAX_NODES) {
		if (!ld->failed)
			guts_diag_error(ld->diags, (unsigned)mark->line + 1,
					(unsigned)mark->column + 1,
					"the document has more than %d nodes",
					GUTS_YAML_MAX_NODES);
		ld->failed = 1;
		return NULL;
	}
	n = arena_alloc(ld->arena, sizeof(*n));
	n->type = type;
	n->line = (unsigned)mark->line + 1;
	n->col = (unsigned)mark->column + 1;
	return n;
}

/* ---- scalar resolution (YAML 1.2 core schema) ---- */

static int all_digits(const char *s, size_t n, int (*ok)(int))
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!ok((unsigned char)s[i]))
			return 0;
	return 1;
}

static int is_octal(int c)
{
	return c >= '0' && c <= '7';
}

static int is_dec(int c)
{
	return c >= '0' && c <= '9';
}

static int resolve_null(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '~') ||
	       (n == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) ||
			   !memcmp(s, "NULL", 4)));
}

static int resolve_bool(const char *s, size_t n, int *out)
{
	if (n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "True", 4) ||
		       !memcmp(s, "TRUE", 4))) {
		*out = 1;
		return 1;
	}
	if (n == 5 && (!memcmp(s, "false", 5) || !memcmp(s, "False", 5) ||
		       !memcmp(s, "FALSE", 5))) {
		*out = 0;
		return 1;
	}
	return 0;
}

static int resolve_int(const char *s, size_t n, double *out)
{
	double v = 0;
	size_t i = 0;
	int neg = 0;

	if (n > 2 && s[0] == '0' && s[1] == 'o' &&
	    all_digits(s + 2, n - 2, is_octal)) {
		for (i = 2; i < n; i++)
			v = v * 8 + (s[i] - '0');
		*out = v;
		return 1;
	}
	if (n > 2 && s[0] == '0' && s[1] == 'x' &&
	    all_digits(s + 2, n - 2, isxdigit)) {
		for (i = 2; i < n; i++) {
			int c = (unsigned char)s[i];
			int d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

			v = v * 16 + d;
		}
		*out = v;
		return 1;
	}
	if (n && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (!all_digits(s + i, n - i, is_dec))
		return 0;
	for (; i < n; i++)
		v = v * 10 + (s[i] - '0');
	*out = neg ? -v : v;
	return 1;
}

static int resolve_float(const char *s, size_t n, double *out)
{
	size_t i = 0, digits = 0;
	char *tmp, *end;
	int ok;

	if (n == 4 && (!memcmp(s, ".nan", 4) || !memcmp(s, ".NaN", 4) ||
		       !memcmp(s, ".NAN", 4))) {
		*out = NAN;
		return 1;
	}
	if (n && (s[0] == '-' || s[0] == '+'))
		i = 1;
	if (n - i == 4 &&
	    (!memcmp(s + i, ".inf", 4) || !memcmp(s + i, ".Inf", 4) ||
	     !memcmp(s + i, ".INF", 4))) {
		*out = s[0] == '-' ? -INFINITY : INFINITY;
		return 1;
	}
	/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
	while (i < n && is_dec((unsigned char)s[i])) {
		i++;
		digits++;
	}
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && is_dec((unsigned char)s[i])) {
			i++;
			digits++;
		}
	}
	if (!digits)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		if (i >= n || !all_digits(s + i, n - i, is_dec))
			return 0;
		i = n;
	}
	if (i != n)
		return 0;
	/* Overlong numbers round to infinity, as in JavaScript. */
	tmp = guts_xstrndup(s, n);
	*out = strtod(tmp, &end);
	ok = *end == '\0';
	free(tmp);
	return ok;
}

static void resolve_plain(struct guts_yaml_node *n)
{
	if (resolve_null(n->str, n->len))
		n->scalar = GUTS_YAML_NULL;
	else if (resolve_bool(n->str, n->len, &n->boolean))
		n->scalar = GUTS_YAML_BOOL;
	else if (resolve_int(n->str, n->len, &n->number) ||
		 resolve_float(n->str, n->len, &n->number))
		n->scalar = GUTS_YAML_NUMBER;
	else
		n->scalar = GUTS_YAML_STR;
}

static const char *style_name(enum guts_yaml_style s)
{
	switch (s) {
	case GUTS_YAML_PLAIN:
		return "Plain";
	case GUTS_YAML_SINGLE_QUOTED:
		return "SingleQuoted";
	case GUTS_YAML_DOUBLE_QUOTED:
		return "DoubleQuoted";
	case GUTS_YAML_LITERAL:
		return "Literal";
	case GUTS_YAML_FOLDED:
		return "Folded";
	}
	return "Plain";
}

#define TAG_PREFIX "tag:yaml.org,2002:"

/* Apply an explicit tag to a scalar; 0 on success, -1 after a diagnostic. */
static int apply_tag(struct loader *ld, struct guts_yaml_node *n,
		     const char *tag)
{
	const char *t;
	int ok;

	if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX))) {
		guts_diag_error(ld->diags, n->line, n->col,
				"unsupported YAML tag '%s'", tag);
		return -1;
	}
	t = tag + strlen(TAG_PREFIX);
	if (!strcmp(t, "str")) {
		n->scalar = GUTS_YAML_STR;
		return 0;
	}
	if (strcmp(t, "bool") && strcmp(t, "int") && strcmp(t, "float") &&
	    strcmp(t, "null")) {
		guts_diag_error(ld->diags, n->line, n->col,
				"unsupported YAML tag '%s'", tag);
		return -1;
	}
	if (n->style != GUTS_YAML_PLAIN) {
		guts_diag_error(ld->diags, n->line, n->col,
				"the scalar style '%s' is not valid with the "
				"tag '%s'",
				style_name(n->style), tag);
		return -1;
	}
	if (!strcmp(t, "bool")) {
		ok = resolve_bool(n->str, n->len, &n->boolean);
		n->scalar = GUTS_YAML_BOOL;
	} else if (!strcmp(t, "int")) {
		ok = resolve_int(n->str, n->len, &n->number);
		n->scalar = GUTS_YAML_NUMBER;
	} else if (!strcmp(t, "float")) {
		ok = resolve_float(n->str, n->len, &n->number) ||
		     resolve_int(n->str, n->len, &n->number);
		n->scalar = GUTS_YAML_NUMBER;
	} else {
		ok = resolve_null(n->str, n->len);
		n->scalar = GUTS_YAML_NULL;
	}
	if (!ok) {
		guts_diag_error(ld->diags, n->line, n->col,
				"the value '%.*s' is invalid for the type '%s'",
				clip(n->str, n->len, 80), n->str, tag);
		return -1;
	}
	return 0;
}

static int check_collection_tag(struct loader *ld, const yaml_char_t *tag,
				const char *want, const yaml_mark_t *m)
{
	if (!tag)
		return 0;
	if (!strncmp((const char *)tag, TAG_PREFIX, strlen(TAG_PREFIX)) &&
	    !strcmp((const char *)tag + strlen(TAG_PREFIX), want))
		return 0;
	guts_diag_error(ld->diags, (unsigned)m->line + 1,
			(unsigned)m->column + 1, "unsupported YAML tag '%s'",
			(const char *)tag);
	return -1;
}

/* ---- anchors ---- */

/*
 * Add the nodes of @n's subtree to *nodes and its scalars' bytes to *bytes;
 * return how many collections deep it is (0 for a scalar).
 */
static int subtree_size(const struct guts_yaml_node *n, size_t *nodes,
			size_t *bytes)
{
	int levels = 0, l;

	*nodes += 1;
	if (n->type == GUTS_YAML_SCALAR) {
		*bytes += n->len;
		return 0;
	}
	for (size_t i = 0; i < n->nr; i++) {
		if (n->type == GUTS_YAML_SEQ) {
			l = subtree_size(n->items[i], nodes, bytes);
		} else {
			subtree_size(n->pairs[i].key, nodes, bytes);
			l = subtree_size(n->pairs[i].value, nodes, bytes);
		}
		if (l > levels)
			levels = l;
	}
	return 1 + levels;
}

static void add_anchor(struct loader *ld, const yaml_char_t *name,
		       struct guts_yaml_node *node)
{
	struct anchor *a;

	/* A redefined anchor shadows the old one for later aliases. */
	GUTS_ALLOC_GROW(ld->anchors, ld->nr_anchors + 1, ld->alloc_anchors);
	a = &ld->anchors[ld->nr_anchors++];
	a->name = guts_xstrdup((const char *)name);
	a->node = node;
	a->weight = 0;
	a->bytes = 0;
	a->levels = subtree_size(node, &a->weight, &a->bytes);
}

static const struct anchor *find_anchor(struct loader *ld,
					const yaml_char_t *name)
{
	for (size_t i = ld->nr_anchors; i-- > 0;)
		if (!strcmp(ld->anchors[i].name, (const char *)name))
			return &ld->anchors[i];
	return NULL;
}

static struct guts_yaml_node *copy_node(struct loader *ld,
					const struct guts_yaml_node *src)
{
	struct guts_yaml_node *n = arena_alloc(ld->arena, sizeof(*n));

	*n = *src;
	if (src->type == GUTS_YAML_SEQ && src->nr) {
		n->items = arena_alloc(ld->arena, src->nr * sizeof(*n->items));
		for (size_t i = 0; i < src->nr; i++)
			n->items[i] = copy_node(ld, src->items[i]);
	} else if (src->type == GUTS_YAML_MAP && src->nr) {
		n->pairs = arena_alloc(ld->arena, src->nr * sizeof(*n->pairs));
		for (size_t i = 0; i < src->nr; i++) {
			n->pairs[i].key = copy_node(ld, src->pairs[i].key);
			n->pairs[i].value = copy_node(ld, src->pairs[i].value);
		}
	}
	return n;
}

/* ---- tree building ---- */

static struct guts_yaml_node *parse_node(struct loader *ld, yaml_event_t *ev,
					 int depth);

/* Collected children before they move into the arena. */
struct kids {
	struct guts_yaml_node **v;
	size_t nr, alloc;
};

static void kids_push(struct kids *k, struct guts_yaml_node *n)
{
	GUTS_ALLOC_GROW(k->v, k->nr + 1, k->alloc);
	k->v[k->nr++] = n;
}

static int cmp_key_idx(const void *a, const void *b, void *arg)
{
	const struct guts_yaml_pair *pairs = arg;
	const struct guts_yaml_node *ka = pairs[*(const size_t *)a].key;
	const struct guts_yaml_node *kb = pairs[*(const size_t *)b].key;
	size_t n = ka->len < kb->len ? ka->len : kb->len;
	int c = memcmp(ka->str, kb->str, n);

	if (c)
		return c;
	if (ka->len != kb->len)
		return ka->len < kb->len ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/*
 * Report later duplicates of a key and drop them, so the first wins.  Sorting
 * indices keeps this O(n log n) for huge mappings.
 */
static void drop_duplicate_keys(struct loader *ld, struct guts_yaml_node *map)
{
	size_t *idx, keep = 0;
	char *dup;

	if (map->nr < 2)
		return;
	idx = guts_xreallocarray(NULL, map->nr, sizeof(*idx));
	dup = guts_xcalloc(map->nr, 1);
	for (size_t i = 0; i < map->nr; i++)
		idx[i] = i;
	qsort_r(idx, map->nr, sizeof(*idx), cmp_key_idx, map->pairs);
	for (size_t i = 1; i < map->nr; i++) {
		const struct guts_yaml_node *a = map->pairs[idx[i - 1]].key;
		const struct guts_yaml_node *b = map->pairs[idx[i]].key;

		if (a->len == b->len && !memcmp(a->str, b->str, a->len)) {
			dup[idx[i]] = 1;
			guts_diag_error(ld->diags, b->line, b->col,
					"'%.*s' is already defined",
					clip(b->str, b->len, 80), b->str);
		}
	}
	for (size_t i = 0; i < map->nr; i++)
		if (!dup[i])
			map->pairs[keep++] = map->pairs[i];
	map->nr = keep;
	free(dup);
	free(idx);
}

static struct guts_yaml_node *parse_collection(struct loader *ld,
					       yaml_event_t *start, int depth)
{
	int is_map = start->type == YAML_MAPPING_START_EVENT;
	yaml_event_t ev;
	struct kids k = {0};
	struct guts_yaml_node *n, *child;
	yaml_char_t *anchor = NULL;

	if (depth > GUTS_YAML_MAX_DEPTH) {
		guts_diag_error(ld->diags, (unsigned)start->start_mark.line + 1,
				(unsigned)start->start_mark.column + 1,
				"the document is nested deeper than %d levels",
				GUTS_YAML_MAX_DEPTH);
		ld->failed = 1;
		return NULL;
	}
	n = new_node(ld, is_map ? GUTS_YAML_MAP : GUTS_YAML_SEQ,
		     &start->start_mark);
	if (!n)
		return NULL;
	if (is_map) {
		check_collection_tag(ld, start->data.mapping_start.tag, "map",
				     &start->start_mark);
		anchor = start->data.mapping_start.anchor;
	} else {
		check_collection_tag(ld, start->data.sequence_start.tag, "seq",
				     &start->start_mark);
		anchor = start->data.sequence_start.anchor;
	}
	if (anchor)
		anchor = (yaml_char_t *)guts_xstrdup((const char *)anchor);

	for (;;) {
		if (next_event(ld, &ev) < 0)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT ||
		    ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		child = parse_node(ld, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (!child)
			goto fail;
		kids_push(&k, child);
	}

	if (is_map) {
		size_t np = k.nr / 2;

		n->pairs =
		    arena_alloc(ld->arena, (np ? np : 1) * sizeof(*n->pairs));
		for (size_t i = 0; i + 1 < k.nr; i += 2) {
			struct guts_yaml_node *key = k.v[i];

			if (key->type != GUTS_YAML_SCALAR) {
				guts_diag_error(ld->diags, key->line, key->col,
						"a mapping key must be a "
						"string, not a %s",
						guts_yaml_kind_name(key));
				continue;
			}
			if (memchr(key->str, '\0', key->len)) {
				/*
				 * Keys are compared as C strings further on, so
				 * "name\0x" would pass for a second 'name'.
				 */
				guts_diag_error(
				    ld->diags, key->line, key->col,
				    "a mapping key must not contain "
				    "a NUL character");
				continue;
			}
			n->pairs[n->nr].key = key;
			n->pairs[n->nr].value = k.v[i + 1];
			n->nr++;
		}
		drop_duplicate_keys(ld, n);
	} else {
		n->items = arena_alloc(ld->arena,
				       (k.nr ? k.nr : 1) * sizeof(*n->items));
		if (k.nr)
			memcpy(n->items, k.v, k.nr * sizeof(*n->items));
		n->nr = k.nr;
	}
	free(k.v);
	if (anchor) {
		add_anchor(ld, anchor, n);
		free(anchor);
	}
	return n;
fail:
	free(k.v);
	free(anchor);
	return NULL;
}

static struct guts_yaml_node *parse_scalar(struct loader *ld, yaml_event_t *ev)
{
	struct guts_yaml_node *n =
	    new_node(ld, GUTS_YAML_SCALAR, &ev->start_mark);

	if (!n)
		return NULL;
	n->str = arena_strndup(ld->arena, (const char *)ev->data.scalar.value,
			       ev->data.scalar.length);
	n->len = ev->data.scalar.length;
	ld->bytes += n->len;
	switch (ev->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		n->style = GUTS_YAML_SINGLE_QUOTED;
		break;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		n->style = GUTS_YAML_DOUBLE_QUOTED;
		break;
	case YAML_LITERAL_SCALAR_STYLE:
		n->style = GUTS_YAML_LITERAL;
		break;
	case YAML_FOLDED_SCALAR_STYLE:
		n->style = GUTS_YAML_FOLDED;
		break;
	default:
		n->style = GUTS_YAML_PLAIN;
		break;
	}
	if (ev->data.scalar.tag &&
	    strcmp((const char *)ev->data.scalar.tag, "!")) {
		apply_tag(ld, n, (const char *)ev->data.scalar.tag);
	} else if (n->style == GUTS_YAML_PLAIN && !ev->data.scalar.tag) {
		resolve_plain(n);
	} else {
		n->scalar = GUTS_YAML_STR;
	}
	if (ev->data.scalar.anchor)
		add_anchor(ld, ev->data.scalar.anchor, n);
	return n;
}

static struct guts_yaml_node *parse_node(struct loader *ld, yaml_event_t *ev,
					 int depth)
{
	const struct anchor *a;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return parse_scalar(ld, ev);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return parse_collection(ld, ev, depth);
	case YAML_ALIAS_EVENT:
		a = find_anchor(ld, ev->data.alias.anchor);
		if (!a) {
			guts_diag_error(ld->diags,
					(unsigned)ev->start_mark.line + 1,
					(unsigned)ev->start_mark.column + 1,
					"unknown anchor '%s'",
					(const char *)ev->data.alias.anchor);
			ld->failed = 1;
			return NULL;
		}
		/* The depth cap holds for copies too. */
		if (depth - 1 + a->levels > GUTS_YAML_MAX_DEPTH) {
			guts_diag_error(ld->diags,
					(unsigned)ev->start_mark.line + 1,
					(unsigned)ev->start_mark.column + 1,
					"the document is nested deeper than %d "
					"levels",
					GUTS_YAML_MAX_DEPTH);
			ld->failed = 1;
			return NULL;
		}
		/* Count the copy before making it: this is the bomb guard. */
		if (a->weight > GUTS_YAML_MAX_NODES - ld->nodes) {
			guts_diag_error(ld->diags,
					(unsigned)ev->start_mark.line + 1,
					(unsigned)ev->start_mark.column + 1,
					"aliases expand to more than %d nodes",
					GUTS_YAML_MAX_NODES);
			ld->failed = 1;
			return NULL;
		}
		/* Nodes alone miss a long string aliased many times. */
		if (a->bytes > GUTS_YAML_MAX_EXPANDED_BYTES - ld->bytes) {
			guts_diag_error(
			    ld->diags, (unsigned)ev->start_mark.line + 1,
			    (unsigned)ev->start_mark.column + 1,
			    "aliases expand to more than %d bytes of "
			    "text",
			    GUTS_YAML_MAX_EXPANDED_BYTES);
			ld->failed = 1;
			return NULL;
		}
		ld->nodes += a->weight;
		ld->bytes += a->bytes;
		return copy_node(ld, a->node);
	default:
		guts_diag_error(ld->diags, (unsigned)ev->start_mark.line + 1,
				(unsigned)ev->start_mark.column + 1,
				"unexpected YAML event");
		ld->failed = 1;
		return NULL;
	}
}

static int load_stream(struct loader *ld, struct guts_yaml_node **root)
{
	yaml_event_t ev;
	int docs = 0, rc = 0;

	*root = NULL;
	for (;;) {
		if (next_event(ld, &ev) < 0)
			return -1;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT) {
			if (++docs > 1) {
				guts_diag_error(
				    ld->diags, (unsigned)ev.start_mark.line + 1,
				    (unsigned)ev.start_mark.column + 1,
				    "a workflow file holds one YAML "
				    "document, not several");
				yaml_event_delete(&ev);
				return -1;
			}
		} else if (ev.type != YAML_STREAM_START_EVENT &&
			   ev.type != YAML_DOCUMENT_END_EVENT) {
			*root = parse_node(ld, &ev, 1);
			if (!*root)
				rc = -1;
		}
		yaml_event_delete(&ev);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int guts_yaml_load(struct guts_yaml_doc **out, const char *text, size_t len,
		   struct guts_diags *diags)
{
	struct loader ld = {0};
	struct guts_yaml_node *root = NULL;
	struct guts_yaml_doc *doc;
	int rc;

	if (len > GUTS_YAML_MAX_BYTES) {
		guts_diag_error(diags, 0, 0,
				"the file is %zu bytes; the limit is %d bytes",
				len, GUTS_YAML_MAX_BYTES);
		return guts_error(GUTS_ETOOBIG, "file larger than %d bytes",
				  GUTS_YAML_MAX_BYTES);
	}
	/* libyaml with a set encoding reads a UTF-8 BOM as text. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		text += 3;
		len -= 3;
	}
	ld.arena = guts_xcalloc(1, sizeof(*ld.arena));
	ld.diags = diags;
	ld.text = text;
	ld.len = len;
	if (!yaml_parser_initialize(&ld.parser)) {
		arena_free(ld.arena);
		return guts_error(GUTS_EIO, "cannot initialise libyaml");
	}
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text,
				     len);
	yaml_parser_set_encoding(&ld.parser, YAML_UTF8_ENCODING);
	rc = load_stream(&ld, &root);
	yaml_parser_delete(&ld.parser);
	for (size_t i = 0; i < ld.nr_anchors; i++)
		free(ld.anchors[i].name);
	free(ld.anchors);
	if (rc < 0 || ld.failed) {
		arena_free(ld.arena);
		return guts_error(GUTS_EINVAL, "invalid YAML");
	}
	doc = guts_xcalloc(1, sizeof(*doc));
	doc->root = root;
	doc->arena = ld.arena;
	*out = doc;
	return 0;
}

void guts_yaml_free(struct guts_yaml_doc *doc)
{
	if (!doc)
		return;
	arena_free(doc->arena);
	free(doc);
}

struct guts_yaml_node *guts_yaml_get(const struct guts_yaml_node *map,
				     const char *key)
{
	size_t klen = strlen(key);

	if (!map || map->type != GUTS_YAML_MAP)
		return NULL;
	for (size_t i = 0; i < map->nr; i++) {
		const struct guts_yaml_node *k = map->pairs[i].key;

		if (k->len == klen && !memcmp(k->str, key, klen))
			return map->pairs[i].value;
	}
	return NULL;
}

int guts_yaml_is(const struct guts_yaml_node *n, const char *s)
{
	return n && n->type == GUTS_YAML_SCALAR && strlen(s) == n->len &&
	       !memcmp(n->str, s, n->len);
}

const char *guts_yaml_kind_name(const struct guts_yaml_node *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case GUTS_YAML_SEQ:
		return "sequence";
	case GUTS_YAML_MAP:
		return "mapping";
	case GUTS_YAML_SCALAR:
		break;
	}
	switch (n->scalar) {
	case GUTS_YAML_NULL:
		return "null";
	case GUTS_YAML_BOOL:
		return "boolean";
	case GUTS_YAML_NUMBER:
		return "number";
	case GUTS_YAML_STR:
		break;
	}
	return "string";
}
