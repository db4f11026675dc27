/*
 * The expression parser: a recursive-descent parser with the reference's
 * grammar and precedence (|| < && < == != < > >= < <= < ! < [] .), its
 * nesting count (GitHub allows GUTS_EXPR_MAX_DEPTH) and its error messages.
 * Also the syntax tree's walk for validators, and its release.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/expr.h"
#include "workflow/expr_internal.h"
#include "banned.h"

const struct guts__expr_func_info guts__expr_funcs[GUTS__F_COUNT] = {
    [GUTS__F_CONTAINS] = {"contains", 2, 2, 0},
    [GUTS__F_STARTSWITH] = {"startswith", 2, 2, 0},
    [GUTS__F_ENDSWITH] = {"endswith", 2, 2, 0},
    [GUTS__F_FORMAT] = {"format", 1, 255, 0},
    [GUTS__F_JOIN] = {"join", 1, 2, 0},
    [GUTS__F_TOJSON] = {"tojson", 1, 1, 0},
    [GUTS__F_FROMJSON] = {"fromjson", 1, 1, 0},
    [GUTS__F_CASE] = {"case", 3, (size_t)-1, 0},
    [GUTS__F_SUCCESS] = {"success", 0, 0, GUTS_EXPR_STATUS_FUNCTIONS},
    [GUTS__F_FAILURE] = {"failure", 0, 0, GUTS_EXPR_STATUS_FUNCTIONS},
    [GUTS__F_CANCELLED] = {"cancelled", 0, 0, GUTS_EXPR_STATUS_FUNCTIONS},
    [GUTS__F_ALWAYS] = {"always", 0, 0, GUTS_EXPR_STATUS_FUNCTIONS},
    [GUTS__F_HASHFILES] = {"hashfiles", 1, 255, GUTS_EXPR_HASHFILES},
};

enum parse_error {
	ERR_UNEXPECTED_SYMBOL,
	ERR_UNRECOGNIZED_NAMED_VALUE,
	ERR_UNEXPECTED_END,
	ERR_MAX_DEPTH,
	ERR_TOO_FEW,
	ERR_TOO_MANY,
	ERR_EVEN,
	ERR_UNRECOGNIZED_FUNCTION,
};

struct parser {
	const char *src;
	size_t len;
	struct guts__expr_token *toks;
	size_t nr;
	size_t pos;
	int depth;
	const struct guts_expr_parse_opts *opts;
	struct guts_expr_error *err;
};

/* Every node knows its height so that no recursion can run away. */
struct node_height {
	struct guts__expr_node node;
	unsigned height;
};

static void node_free(struct guts__expr_node *n)
{
	while (n) {
		struct guts__expr_node *next = NULL;

		/* Chains like a == b == c lean left; follow them in a loop. */
		if (n->kind == GUTS__N_BINARY)
			next = n->left;
		else
			node_free(n->left);
		node_free(n->right);
		for (size_t i = 0; i < n->nr_args; i++)
			node_free(n->args[i]);
		free(n->args);
		free(n->name);
		guts_expr_value_release(&n->lit);
		free(n);
		n = next;
	}
}

static unsigned height(const struct guts__expr_node *n)
{
	return n ? ((const struct node_height *)n)->height : 0;
}

static const char *describe(enum parse_error e)
{
	switch (e) {
	case ERR_UNEXPECTED_SYMBOL:
		return "Unexpected symbol";
	case ERR_UNRECOGNIZED_NAMED_VALUE:
		return "Unrecognized named-value";
	case ERR_UNEXPECTED_END:
		return "Unexpected end of expression";
	case ERR_MAX_DEPTH:
		return "Exceeded max expression depth 50";
	case ERR_TOO_FEW:
		return "Too few parameters supplied";
	case ERR_TOO_MANY:
		return "Too many parameters supplied";
	case ERR_EVEN:
		return "Even number of parameters supplied, requires an odd "
		       "number of parameters";
	case ERR_UNRECOGNIZED_FUNCTION:
		return "Unrecognized function";
	}
	return "Unknown error";
}

static int fail(struct parser *p, enum parse_error e,
		const struct guts__expr_token *t)
{
	size_t position = guts__expr_position(p->src, t->off);
	const char *text = p->src + t->off;
	int text_len = (int)t->len;
	char *msg;
	int rc;

	if (t->type == GUTS__TOK_EOF) {
		text = "EOF";
		text_len = 3;
	} else if (t->type == GUTS__TOK_STRING) {
		text = t->str;
		text_len = (int)t->str_len;
	}
	msg = guts_xasprintf("%s: '%.*s'. Located at position %zu within "
			     "expression: %.*s",
			     describe(e), text_len, text, position, (int)p->len,
			     p->src);
	rc = guts__expr_set_error(p->err, GUTS_EXPR_ERR_PARSING, GUTS_EINVAL,
				  t->off, position, msg);
	free(msg);
	return rc;
}

static const struct guts__expr_token *peek(const struct parser *p)
{
	return &p->toks[p->pos];
}

static const struct guts__expr_token *prev(const struct parser *p)
{
	return &p->toks[p->pos ? p->pos - 1 : 0];
}

static int at_end(const struct parser *p)
{
	return peek(p)->type == GUTS__TOK_EOF;
}

static int check(const struct parser *p, enum guts__expr_tok type)
{
	return !at_end(p) && peek(p)->type == type;
}

static int match(struct parser *p, enum guts__expr_tok type)
{
	if (!check(p, type))
		return 0;
	p->pos++;
	return 1;
}

static int incr_depth(struct parser *p)
{
	if (++p->depth > GUTS_EXPR_MAX_DEPTH)
		return fail(p, ERR_MAX_DEPTH, peek(p));
	return 0;
}

static struct guts__expr_node *new_node(enum guts__expr_node_kind kind,
					const struct guts__expr_token *t)
{
	struct node_height *nh = guts_xcalloc(1, sizeof(*nh));

	nh->node.kind = kind;
	nh->node.offset = t->off;
	nh->height = 1;
	return &nh->node;
}

/*
 * Record @n's height, the depth of recursion evaluating it takes, and fail
 * when it is too tall.  The evaluator, the walk and the release loop over
 * the left-leaning spine of a == / < chain, so that spine adds no height.
 */
static int seal(struct parser *p, struct guts__expr_node *n)
{
	unsigned h = height(n->left) + 1;

	if (n->kind == GUTS__N_BINARY && n->left &&
	    n->left->kind == GUTS__N_BINARY)
		h = height(n->left);
	if (height(n->right) + 1 > h)
		h = height(n->right) + 1;
	for (size_t i = 0; i < n->nr_args; i++)
		if (height(n->args[i]) + 1 > h)
			h = height(n->args[i]) + 1;
	((struct node_height *)n)->height = h;
	if (h > GUTS__EXPR_MAX_HEIGHT)
		return fail(p, ERR_MAX_DEPTH, peek(p));
	return 0;
}

static void add_arg(struct guts__expr_node *n, struct guts__expr_node *a)
{
	n->args = guts_xreallocarray(n->args, n->nr_args + 1,
				     sizeof(*n->args)); /* NOLINT: pointers */
	n->args[n->nr_args++] = a;
}

static int expression(struct parser *p, struct guts__expr_node **out);

static int primary(struct parser *p, struct guts__expr_node **out)
{
	const struct guts__expr_token *t = peek(p);
	struct guts__expr_node *n, *inner = NULL;
	int rc;

	if (at_end(p))
		return fail(p, ERR_UNEXPECTED_END, prev(p));
	switch (t->type) {
	case GUTS__TOK_FALSE:
	case GUTS__TOK_TRUE:
		p->pos++;
		n = new_node(GUTS__N_LITERAL, t);
		guts_expr_value_set_boolean(&n->lit, t->type == GUTS__TOK_TRUE);
		*out = n;
		return 0;
	case GUTS__TOK_NULL:
		p->pos++;
		*out = new_node(GUTS__N_LITERAL, t);
		return 0;
	case GUTS__TOK_NUMBER:
		p->pos++;
		n = new_node(GUTS__N_LITERAL, t);
		guts_expr_value_set_number(&n->lit, t->number);
		*out = n;
		return 0;
	case GUTS__TOK_STRING:
		p->pos++;
		n = new_node(GUTS__N_LITERAL, t);
		/* A copy: error messages may still quote the token. */
		guts_expr_value_set_string(&n->lit, t->str, t->str_len);
		*out = n;
		return 0;
	case GUTS__TOK_LEFT_PAREN:
		p->pos++;
		rc = expression(p, &inner);
		if (rc < 0)
			return rc;
		if (at_end(p)) {
			node_free(inner);
			return fail(p, ERR_UNEXPECTED_END, prev(p));
		}
		if (!match(p, GUTS__TOK_RIGHT_PAREN)) {
			node_free(inner);
			return fail(p, ERR_UNEXPECTED_SYMBOL, peek(p));
		}
		n = new_node(GUTS__N_GROUP, t);
		n->left = inner;
		rc = seal(p, n);
		if (rc < 0) {
			node_free(n);
			return rc;
		}
		*out = n;
		return 0;
	default:
		return fail(p, ERR_UNEXPECTED_SYMBOL, t);
	}
}

static int name_allowed(const struct parser *p, const char *s, size_t len)
{
	const struct guts_expr_parse_opts *o = p->opts;

	if (!o || !o->names)
		return 1;
	for (size_t i = 0; i < o->nr_names; i++)
		if (o->names[i] &&
		    guts__expr_key_eq(o->names[i], strlen(o->names[i]), s, len))
			return 1;
	return 0;
}

static int find_function(const struct parser *p, const char *s, size_t len)
{
	for (int f = 0; f < GUTS__F_COUNT; f++) {
		const struct guts__expr_func_info *fi = &guts__expr_funcs[f];

		if (strlen(fi->name) != len ||
		    strncasecmp(fi->name, s, len) != 0)
			continue;
		if (fi->needs_flag && p->opts &&
		    !(p->opts->flags & fi->needs_flag))
			return -1;
		return f;
	}
	return -1;
}

static int call(struct parser *p, struct guts__expr_node **out)
{
	const struct guts__expr_token *ident;
	struct guts__expr_node *n, *arg;
	int rc, f;

	if (!check(p, GUTS__TOK_IDENTIFIER))
		return primary(p, out);
	ident = peek(p);
	p->pos++;
	if (!match(p, GUTS__TOK_LEFT_PAREN)) {
		if (!name_allowed(p, p->src + ident->off, ident->len))
			return fail(p, ERR_UNRECOGNIZED_NAMED_VALUE, ident);
		n = new_node(GUTS__N_CONTEXT, ident);
		n->name = guts_xstrndup(p->src + ident->off, ident->len);
		n->name_len = ident->len;
		*out = n;
		return 0;
	}
	n = new_node(GUTS__N_CALL, ident);
	n->name = guts_xstrndup(p->src + ident->off, ident->len);
	n->name_len = ident->len;
	while (!match(p, GUTS__TOK_RIGHT_PAREN)) {
		rc = expression(p, &arg);
		if (rc < 0)
			goto fail;
		add_arg(n, arg);
		if (!check(p, GUTS__TOK_RIGHT_PAREN) &&
		    !match(p, GUTS__TOK_COMMA)) {
			rc = fail(p, ERR_UNEXPECTED_SYMBOL, peek(p));
			goto fail;
		}
	}
	f = find_function(p, n->name, n->name_len);
	if (f < 0) {
		rc = fail(p, ERR_UNRECOGNIZED_FUNCTION, ident);
		goto fail;
	}
	if (n->nr_args < guts__expr_funcs[f].min_args) {
		rc = fail(p, ERR_TOO_FEW, ident);
		goto fail;
	}
	if (n->nr_args > guts__expr_funcs[f].max_args &&
	    !((f == GUTS__F_SUCCESS || f == GUTS__F_FAILURE) &&
	      (p->opts->flags & GUTS_EXPR_STATUS_JOB_ARGS))) {
		rc = fail(p, ERR_TOO_MANY, ident);
		goto fail;
	}
	if (f == GUTS__F_CASE && n->nr_args % 2 == 0) {
		rc = fail(p, ERR_EVEN, ident);
		goto fail;
	}
	n->op = f;
	rc = seal(p, n);
	if (rc < 0)
		goto fail;
	*out = n;
	return 0;
fail:
	node_free(n);
	return rc;
}

static int index_access(struct parser *p, struct guts__expr_node **out)
{
	struct guts__expr_node *expr = NULL, *idx, *n;
	const struct guts__expr_token *t;
	int increased = 0, rc;

	rc = call(p, &expr);
	if (rc < 0 || !expr)
		return rc < 0 ? rc : GUTS_EINVAL;
	if (expr->kind != GUTS__N_GROUP && expr->kind != GUTS__N_CALL &&
	    expr->kind != GUTS__N_CONTEXT)
		goto done;
	for (;;) {
		t = peek(p);
		if (match(p, GUTS__TOK_LEFT_BRACKET)) {
			idx = NULL;
			if (!match(p, GUTS__TOK_STAR)) {
				rc = expression(p, &idx);
				if (rc < 0)
					goto fail;
			}
			if (!match(p, GUTS__TOK_RIGHT_BRACKET)) {
				node_free(idx);
				rc = fail(p, ERR_UNEXPECTED_SYMBOL, peek(p));
				goto fail;
			}
			n = new_node(GUTS__N_INDEX, t);
			n->left = expr;
			n->right = idx;
			n->literal_string_index =
			    idx && idx->kind == GUTS__N_LITERAL &&
			    idx->lit.kind == GUTS_EXPR_STRING;
			expr = n;
			rc = seal(p, n);
			if (rc < 0)
				goto fail;
			rc = incr_depth(p);
			increased++;
			if (rc < 0)
				goto fail;
		} else if (match(p, GUTS__TOK_DOT)) {
			rc = incr_depth(p);
			increased++;
			if (rc < 0)
				goto fail;
			t = peek(p);
			if (match(p, GUTS__TOK_IDENTIFIER)) {
				idx = new_node(GUTS__N_LITERAL, t);
				guts_expr_value_set_string(
				    &idx->lit, p->src + t->off, t->len);
			} else if (match(p, GUTS__TOK_STAR)) {
				idx = NULL;
			} else {
				rc = fail(p, ERR_UNEXPECTED_SYMBOL, peek(p));
				goto fail;
			}
			n = new_node(GUTS__N_INDEX, t);
			n->left = expr;
			n->right = idx;
			n->literal_string_index = idx != NULL;
			expr = n;
			rc = seal(p, n);
			if (rc < 0)
				goto fail;
		} else {
			break;
		}
	}
	p->depth -= increased;
done:
	*out = expr;
	return 0;
fail:
	node_free(expr);
	return rc;
}

static int unary(struct parser *p, struct guts__expr_node **out)
{
	const struct guts__expr_token *t = peek(p);
	struct guts__expr_node *operand = NULL, *n;
	int rc;

	if (!match(p, GUTS__TOK_BANG))
		return index_access(p, out);
	rc = incr_depth(p);
	if (rc < 0)
		return rc;
	rc = unary(p, &operand);
	if (rc < 0)
		return rc;
	n = new_node(GUTS__N_NOT, t);
	n->left = operand;
	rc = seal(p, n);
	if (rc < 0) {
		node_free(n);
		return rc;
	}
	p->depth--;
	*out = n;
	return 0;
}

static int is_comparison(enum guts__expr_tok t)
{
	return t == GUTS__TOK_GREATER || t == GUTS__TOK_GREATER_EQUAL ||
	       t == GUTS__TOK_LESS || t == GUTS__TOK_LESS_EQUAL;
}

static int is_equality(enum guts__expr_tok t)
{
	return t == GUTS__TOK_EQUAL_EQUAL || t == GUTS__TOK_BANG_EQUAL;
}

static int binary_chain(struct parser *p, struct guts__expr_node **out,
			int (*operand)(struct parser *,
				       struct guts__expr_node **),
			int (*is_op)(enum guts__expr_tok))
{
	struct guts__expr_node *expr, *right, *n;
	int rc;

	rc = operand(p, &expr);
	if (rc < 0)
		return rc;
	while (!at_end(p) && is_op(peek(p)->type)) {
		const struct guts__expr_token *t = peek(p);

		p->pos++;
		rc = operand(p, &right);
		if (rc < 0)
			goto fail;
		n = new_node(GUTS__N_BINARY, t);
		n->op = (int)t->type;
		n->left = expr;
		n->right = right;
		expr = n;
		rc = seal(p, n);
		if (rc < 0)
			goto fail;
	}
	*out = expr;
	return 0;
fail:
	node_free(expr);
	return rc;
}

static int comparison(struct parser *p, struct guts__expr_node **out)
{
	return binary_chain(p, out, unary, is_comparison);
}

static int equality(struct parser *p, struct guts__expr_node **out)
{
	return binary_chain(p, out, comparison, is_equality);
}

static int logical(struct parser *p, struct guts__expr_node **out,
		   enum guts__expr_tok op,
		   int (*operand)(struct parser *, struct guts__expr_node **))
{
	struct guts__expr_node *expr, *n, *right;
	int rc;

	rc = operand(p, &expr);
	if (rc < 0)
		return rc;
	if (!check(p, op)) {
		*out = expr;
		return 0;
	}
	rc = incr_depth(p);
	if (rc < 0) {
		node_free(expr);
		return rc;
	}
	n = new_node(op == GUTS__TOK_OR ? GUTS__N_OR : GUTS__N_AND, peek(p));
	add_arg(n, expr);
	while (match(p, op)) {
		rc = operand(p, &right);
		if (rc < 0)
			goto fail;
		add_arg(n, right);
	}
	rc = seal(p, n);
	if (rc < 0)
		goto fail;
	p->depth--;
	*out = n;
	return 0;
fail:
	node_free(n);
	return rc;
}

static int logical_and(struct parser *p, struct guts__expr_node **out)
{
	return logical(p, out, GUTS__TOK_AND, equality);
}

static int logical_or(struct parser *p, struct guts__expr_node **out)
{
	return logical(p, out, GUTS__TOK_OR, logical_and);
}

static int expression(struct parser *p, struct guts__expr_node **out)
{
	int rc = incr_depth(p);

	if (rc < 0)
		return rc;
	rc = logical_or(p, out);
	p->depth--;
	return rc;
}

int guts_expr_parse(struct guts_expr **out, const char *src, size_t len,
		    const struct guts_expr_parse_opts *opts,
		    struct guts_expr_error *err)
{
	struct parser p = {src, len, NULL, 0, 0, 0, opts, err};
	struct guts__expr_node *root = NULL;
	struct guts_expr *e;
	int rc;

	rc = guts__expr_lex(&p.toks, &p.nr, src, len, err);
	if (rc < 0)
		return rc;
	if (!at_end(&p)) {
		rc = expression(&p, &root);
		if (rc < 0)
			goto out;
		if (!at_end(&p)) {
			rc = fail(&p, ERR_UNEXPECTED_SYMBOL, peek(&p));
			node_free(root);
			goto out;
		}
	}
	e = guts_xcalloc(1, sizeof(*e));
	e->src = guts_xstrndup(src, len);
	e->len = len;
	e->root = root;
	*out = e;
out:
	guts__expr_tokens_free(p.toks, p.nr);
	return rc;
}

void guts_expr_free(struct guts_expr *e)
{
	if (!e)
		return;
	node_free(e->root);
	free(e->src);
	free(e);
}

const char *guts_expr_source(const struct guts_expr *e, size_t *len)
{
	if (len)
		*len = e->len;
	return e->src;
}

/* ---- walk -------------------------------------------------------------- */

struct walker {
	guts_expr_ref_fn on_ref;
	guts_expr_call_fn on_call;
	void *data;
	struct guts_buf path;
};

static int walk(struct walker *w, const struct guts__expr_node *n);

static const struct guts__expr_node *
skip_groups(const struct guts__expr_node *n)
{
	while (n && n->kind == GUTS__N_GROUP)
		n = n->left;
	return n;
}

/* Append the path of an access chain; 0 when it does not start at a context. */
static int chain_path(struct guts_buf *b, const struct guts__expr_node *n)
{
	n = skip_groups(n);
	if (n->kind == GUTS__N_CONTEXT) {
		guts__expr_case_map(b, n->name, n->name_len, 0);
		return 1;
	}
	if (n->kind != GUTS__N_INDEX || !chain_path(b, n->left))
		return 0;
	guts_buf_addch(b, '.');
	if (n->literal_string_index)
		guts__expr_case_map(b, n->right->lit.u.string.ptr,
				    n->right->lit.u.string.len, 0);
	else
		guts_buf_addch(b, '*');
	return 1;
}

static const struct guts__expr_node *chain_root(const struct guts__expr_node *n)
{
	n = skip_groups(n);
	while (n->kind == GUTS__N_INDEX)
		n = skip_groups(n->left);
	return n;
}

/* Walk the computed indexes of a chain, innermost (leftmost) first. */
static int walk_chain_indexes(struct walker *w, const struct guts__expr_node *n)
{
	int rc;

	n = skip_groups(n);
	if (n->kind != GUTS__N_INDEX)
		return 0;
	rc = walk_chain_indexes(w, n->left);
	if (rc)
		return rc;
	if (n->right && !n->literal_string_index)
		return walk(w, n->right);
	return 0;
}

/* A == / < chain in source order without recursing down its spine. */
static int walk_binary(struct walker *w, const struct guts__expr_node *n)
{
	const struct guts__expr_node **spine = NULL, *base = n;
	size_t nr = 0, alloc = 0;
	int rc;

	while (base->kind == GUTS__N_BINARY) {
		GUTS_ALLOC_GROW(spine, nr + 1, alloc); /* NOLINT: pointers */
		spine[nr++] = base;
		base = base->left;
	}
	rc = walk(w, base);
	while (!rc && nr > 0)
		rc = walk(w, spine[--nr]->right);
	free(spine);
	return rc;
}

static int walk(struct walker *w, const struct guts__expr_node *n)
{
	const struct guts__expr_node *root;
	int rc = 0;

	if (!n)
		return 0;
	switch (n->kind) {
	case GUTS__N_LITERAL:
		return 0;
	case GUTS__N_CONTEXT:
	case GUTS__N_INDEX:
		root = chain_root(n);
		if (root->kind == GUTS__N_CONTEXT) {
			guts_buf_reset(&w->path);
			chain_path(&w->path, n);
			if (w->on_ref) {
				rc = w->on_ref(w->path.data, root->offset,
					       w->data);
				if (rc)
					return rc;
			}
		} else {
			rc = walk(w, root);
			if (rc)
				return rc;
		}
		return walk_chain_indexes(w, n);
	case GUTS__N_CALL:
		if (w->on_call) {
			guts_buf_reset(&w->path);
			guts__expr_case_map(&w->path, n->name, n->name_len, 0);
			rc = w->on_call(w->path.data, n->nr_args, n->offset,
					w->data);
			if (rc)
				return rc;
		}
		break;
	default:
		break;
	}
	if (n->kind == GUTS__N_BINARY)
		return walk_binary(w, n);
	rc = walk(w, n->left);
	if (!rc)
		rc = walk(w, n->right);
	for (size_t i = 0; !rc && i < n->nr_args; i++)
		rc = walk(w, n->args[i]);
	return rc;
}

int guts_expr_walk(const struct guts_expr *e, guts_expr_ref_fn on_ref,
		   guts_expr_call_fn on_call, void *data)
{
	struct walker w = {on_ref, on_call, data, GUTS_BUF_INIT};
	int rc;

	guts_buf_init(&w.path, 0);
	rc = walk(&w, e->root);
	guts_buf_release(&w.path);
	return rc;
}
