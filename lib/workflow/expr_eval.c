/*
 * The evaluator: walks a parsed expression against an env.  It keeps all
 * its state in a struct guts__expr_eval on the caller's stack, so a parsed
 * expression can be evaluated from many threads at once.
 *
 * Comparisons follow the reference (JavaScript's abstract equality, except
 * that strings compare case-insensitively and arrays and objects only equal
 * themselves): null and booleans become numbers, a string compared with a
 * number becomes a number, and anything else of different kinds is unequal.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/expr.h"
#include "workflow/expr_internal.h"
#include "banned.h"

int guts__expr_fail(struct guts__expr_eval *cx, int code, const char *fmt, ...)
{
	struct guts_buf b;
	va_list ap;

	guts_buf_init(&b, 0);
	va_start(ap, fmt);
	guts_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(cx->msg);
	cx->msg = guts_buf_detach(&b, NULL);
	cx->code = code;
	return code;
}

int guts__expr_charge(struct guts__expr_eval *cx, size_t bytes)
{
	/* GitHub counts strings as UTF-16, two bytes a character. */
	if (bytes > cx->mem_max || cx->mem + 2 * bytes > cx->mem_max)
		return guts__expr_fail(
		    cx, GUTS_ETOOBIG,
		    "The maximum allowed memory size was exceeded");
	cx->mem += 2 * bytes;
	return 0;
}

/* ---- comparisons ------------------------------------------------------- */

static void to_number(struct guts_expr_value *v)
{
	double d = guts__expr_value_number(v);

	v->kind = GUTS_EXPR_NUMBER;
	v->flags = 0;
	v->u.number = d;
}

/*
 * Bring two values to a common kind where the rules allow it.  The copies
 * are shallow and borrow from the originals; only scalars are converted.
 */
static void coerce_types(struct guts_expr_value *l, struct guts_expr_value *r)
{
	for (;;) {
		if (l->kind == r->kind)
			return;
		if (l->kind == GUTS_EXPR_NUMBER &&
		    r->kind == GUTS_EXPR_STRING) {
			to_number(r);
			return;
		}
		if (l->kind == GUTS_EXPR_STRING &&
		    r->kind == GUTS_EXPR_NUMBER) {
			to_number(l);
			return;
		}
		if (l->kind == GUTS_EXPR_NULL || l->kind == GUTS_EXPR_BOOLEAN) {
			to_number(l);
			continue;
		}
		if (r->kind == GUTS_EXPR_NULL || r->kind == GUTS_EXPR_BOOLEAN) {
			to_number(r);
			continue;
		}
		return;
	}
}

int guts__expr_equals(const struct guts_expr_value *a,
		      const struct guts_expr_value *b)
{
	struct guts_expr_value l = *a, r = *b;

	coerce_types(&l, &r);
	if (l.kind != r.kind)
		return 0;
	switch (l.kind) {
	case GUTS_EXPR_NULL:
		return 1;
	case GUTS_EXPR_NUMBER:
		return l.u.number == r.u.number; /* false for NaN */
	case GUTS_EXPR_STRING:
		return guts__expr_str_ieq(l.u.string.ptr, l.u.string.len,
					  r.u.string.ptr, r.u.string.len);
	case GUTS_EXPR_BOOLEAN:
		return l.u.boolean == r.u.boolean;
	default:
		return l.u.json == r.u.json;
	}
}

int guts__expr_greater(const struct guts_expr_value *a,
		       const struct guts_expr_value *b)
{
	struct guts_expr_value l = *a, r = *b;

	coerce_types(&l, &r);
	if (l.kind != r.kind)
		return 0;
	switch (l.kind) {
	case GUTS_EXPR_NUMBER:
		return l.u.number > r.u.number;
	case GUTS_EXPR_STRING:
		return guts__expr_str_icmp(l.u.string.ptr, l.u.string.len,
					   r.u.string.ptr, r.u.string.len) > 0;
	case GUTS_EXPR_BOOLEAN:
		return l.u.boolean && !r.u.boolean;
	default:
		return 0;
	}
}

int guts__expr_less(const struct guts_expr_value *a,
		    const struct guts_expr_value *b)
{
	return guts__expr_greater(b, a);
}

/* ---- index access ------------------------------------------------------ */

struct index {
	int star;
	int has_str;
	const char *str;
	size_t str_len;
	struct guts_buf buf;
	const struct guts_expr_value *v;
	int int_done; /* has_int and i are computed on first use */
	int has_int;
	size_t i;
};

static void index_init(struct index *ix, const struct guts_expr_value *v)
{
	memset(ix, 0, sizeof(*ix));
	guts_buf_init(&ix->buf, 0);
	ix->v = v;
	if (!v) {
		ix->star = 1;
		return;
	}
	if (guts__expr_is_primitive(v)) {
		ix->has_str = 1;
		if (v->kind == GUTS_EXPR_STRING) {
			ix->str = v->u.string.ptr;
			ix->str_len = v->u.string.len;
		} else {
			guts__expr_coerce_string(&ix->buf, v);
			ix->str = ix->buf.data;
			ix->str_len = ix->buf.len;
		}
	}
}

/* The index as an array position: a finite number >= 0, floored. */
static int index_int(struct index *ix, size_t *out)
{
	if (!ix->int_done && ix->v) {
		double f = guts__expr_value_number(ix->v);

		ix->int_done = 1;
		if (isfinite(f) && f >= 0) {
			ix->has_int = 1;
			f = floor(f);
			ix->i =
			    f >= 18446744073709549568.0 ? SIZE_MAX : (size_t)f;
		}
	}
	*out = ix->i;
	return ix->has_int;
}

static void append_values(json_t *dst, json_t *container)
{
	if (json_is_array(container)) {
		size_t i;
		json_t *v;

		json_array_foreach(container, i, v)
			json_array_append(dst, v);
	} else {
		struct guts__expr_entry *ents;
		size_t n = guts__expr_object_entries(container, &ents);

		for (size_t i = 0; i < n; i++)
			json_array_append(dst, ents[i].value);
		free(ents);
	}
}

static void set_filtered(struct guts_expr_value *out, json_t *arr)
{
	memset(out, 0, sizeof(*out));
	out->kind = GUTS_EXPR_ARRAY;
	out->flags = GUTS_EXPR_VALUE_OWNED | GUTS_EXPR_VALUE_FILTERED;
	out->u.json = arr;
}

static void access(struct guts_expr_value *out,
		   const struct guts_expr_value *obj, struct index *ix)
{
	size_t pos;
	int own = !!(obj->flags & GUTS_EXPR_VALUE_OWNED);
	json_t *j, *res;

	memset(out, 0, sizeof(*out));
	switch (obj->kind) {
	case GUTS_EXPR_ARRAY:
		if (obj->flags & GUTS_EXPR_VALUE_FILTERED) {
			/* Map the access over the filtered items. */
			size_t i;
			json_t *item;

			res = json_array();
			json_array_foreach(obj->u.json, i, item) {
				if (ix->star && (json_is_object(item) ||
						 json_is_array(item))) {
					append_values(res, item);
				} else if (json_is_object(item) &&
					   ix->has_str) {
					j = guts__expr_object_get(item, ix->str,
								  ix->str_len);
					if (j)
						json_array_append(res, j);
				} else if (json_is_array(item) &&
					   index_int(ix, &pos) &&
					   pos < json_array_size(item)) {
					json_array_append(
					    res, json_array_get(item, pos));
				}
			}
			set_filtered(out, res);
			return;
		}
		if (ix->star) {
			res = json_array();
			append_values(res, obj->u.json);
			set_filtered(out, res);
			return;
		}
		if (index_int(ix, &pos) && pos < json_array_size(obj->u.json))
			guts__expr_from_json(
			    out, json_array_get(obj->u.json, pos), own);
		return;
	case GUTS_EXPR_OBJECT:
		if (ix->star) {
			res = json_array();
			append_values(res, obj->u.json);
			set_filtered(out, res);
			return;
		}
		if (ix->has_str) {
			j = guts__expr_object_get(obj->u.json, ix->str,
						  ix->str_len);
			if (j)
				guts__expr_from_json(out, j, own);
		}
		return;
	default:
		if (ix->star)
			set_filtered(out, json_array());
		return;
	}
}

/* ---- evaluation -------------------------------------------------------- */

static int eval(struct guts__expr_eval *cx, const struct guts__expr_node *n,
		struct guts_expr_value *out);

static int eval_index(struct guts__expr_eval *cx,
		      const struct guts__expr_node *n,
		      struct guts_expr_value *out)
{
	struct guts_expr_value idx = {0}, obj = {0};
	struct index ix;
	int rc;

	/*
	 * The common case, a property name (github.ref, x['y']) of an object:
	 * look it up without building an index.
	 */
	if (n->literal_string_index) {
		const struct guts_expr_value *key = &n->right->lit;

		rc = eval(cx, n->left, &obj);
		if (rc < 0)
			return rc;
		if (obj.kind == GUTS_EXPR_OBJECT) {
			json_t *j = guts__expr_object_get(
			    obj.u.json, key->u.string.ptr, key->u.string.len);

			if (j)
				guts__expr_from_json(
				    out, j,
				    !!(obj.flags & GUTS_EXPR_VALUE_OWNED));
			else
				guts_expr_value_set_null(out);
			guts_expr_value_release(&obj);
			return 0;
		}
		index_init(&ix, key);
		access(out, &obj, &ix);
		guts_buf_release(&ix.buf);
		guts_expr_value_release(&obj);
		return 0;
	}
	/* The reference evaluates the index before the object. */
	if (n->right) {
		rc = eval(cx, n->right, &idx);
		if (rc < 0) {
			char *inner = cx->msg;

			cx->msg = NULL;
			guts__expr_fail(
			    cx, rc,
			    "could not evaluate index for index access: %s",
			    inner ? inner : "");
			free(inner);
			return rc;
		}
	}
	rc = eval(cx, n->left, &obj);
	if (rc < 0) {
		guts_expr_value_release(&idx);
		return rc;
	}
	index_init(&ix, n->right ? &idx : NULL);
	access(out, &obj, &ix);
	guts_buf_release(&ix.buf);
	guts_expr_value_release(&idx);
	guts_expr_value_release(&obj);
	return 0;
}

static int compare(int op, const struct guts_expr_value *l,
		   const struct guts_expr_value *r)
{
	switch (op) {
	case GUTS__TOK_EQUAL_EQUAL:
		return guts__expr_equals(l, r);
	case GUTS__TOK_BANG_EQUAL:
		return !guts__expr_equals(l, r);
	case GUTS__TOK_GREATER:
		return guts__expr_greater(l, r);
	case GUTS__TOK_GREATER_EQUAL:
		return guts__expr_equals(l, r) || guts__expr_greater(l, r);
	case GUTS__TOK_LESS:
		return guts__expr_less(l, r);
	default: /* GUTS__TOK_LESS_EQUAL */
		return guts__expr_equals(l, r) || guts__expr_less(l, r);
	}
}

/*
 * a == b != c parses as ((a == b) != c): a chain leaning left, as long as
 * the source.  Evaluate it bottom-up in a loop so that its length costs no
 * stack.
 */
static int eval_binary(struct guts__expr_eval *cx,
		       const struct guts__expr_node *n,
		       struct guts_expr_value *out)
{
	const struct guts__expr_node *small[16], **spine = small, *base = n;
	struct guts_expr_value l = {0}, r = {0};
	size_t nr = 0, alloc = 16;
	int rc, b;

	while (base->kind == GUTS__N_BINARY) {
		if (nr == alloc) {
			alloc *= 2;
			if (spine == small) {
				spine = guts_xreallocarray(
				    NULL, alloc,
				    sizeof(*spine)); /* NOLINT: pointers */
				memcpy(spine, small, sizeof(small));
			} else {
				spine = guts_xreallocarray(
				    spine, alloc,
				    sizeof(*spine)); /* NOLINT: pointers */
			}
		}
		spine[nr++] = base;
		base = base->left;
	}
	rc = eval(cx, base, &l);
	while (rc == 0 && nr > 0) {
		const struct guts__expr_node *op = spine[--nr];

		rc = eval(cx, op->right, &r);
		if (rc < 0)
			break;
		b = compare(op->op, &l, &r);
		guts_expr_value_release(&l);
		guts_expr_value_release(&r);
		guts_expr_value_set_boolean(&l, b);
	}
	if (spine != small)
		free(spine);
	if (rc < 0) {
		guts_expr_value_release(&l);
		return rc;
	}
	*out = l;
	return 0;
}

static int eval_call(struct guts__expr_eval *cx,
		     const struct guts__expr_node *n,
		     struct guts_expr_value *out)
{
	struct guts_expr_value small[8], *args = small;
	size_t i, done = 0;
	int rc = 0;

	if (n->nr_args > 8)
		args = guts_xcalloc(n->nr_args, sizeof(*args));
	/* Every argument is evaluated, even where the function will not look.
	 */
	for (i = 0; i < n->nr_args; i++) {
		rc = eval(cx, n->args[i], &args[i]);
		if (rc < 0)
			goto out;
		done++;
	}
	rc = guts__expr_call(cx, n, args, n->nr_args, out);
out:
	for (i = 0; i < done; i++)
		guts_expr_value_release(&args[i]);
	if (args != small)
		free(args);
	return rc;
}

static int eval(struct guts__expr_eval *cx, const struct guts__expr_node *n,
		struct guts_expr_value *out)
{
	const json_t *j;
	int rc;

	switch (n->kind) {
	case GUTS__N_LITERAL:
		*out = n->lit;
		out->flags = 0; /* borrowed from the tree */
		return 0;
	case GUTS__N_CONTEXT:
		j = guts__expr_object_get(cx->env->contexts, n->name,
					  n->name_len);
		if (j)
			guts__expr_from_json(out, (json_t *)j, 0);
		else
			guts_expr_value_set_null(out);
		return 0;
	case GUTS__N_GROUP:
		return eval(cx, n->left, out);
	case GUTS__N_INDEX:
		return eval_index(cx, n, out);
	case GUTS__N_NOT:
		rc = eval(cx, n->left, out);
		if (rc < 0)
			return rc;
		rc = guts_expr_value_truthy(out);
		guts_expr_value_release(out);
		guts_expr_value_set_boolean(out, !rc);
		return 0;
	case GUTS__N_BINARY:
		return eval_binary(cx, n, out);
	case GUTS__N_AND:
	case GUTS__N_OR:
		/* The result is the operand that decided, not a boolean. */
		for (size_t i = 0; i < n->nr_args; i++) {
			if (i)
				guts_expr_value_release(out);
			rc = eval(cx, n->args[i], out);
			if (rc < 0)
				return rc;
			if (guts_expr_value_truthy(out) ==
			    (n->kind == GUTS__N_OR))
				break;
		}
		return 0;
	case GUTS__N_CALL:
		return eval_call(cx, n, out);
	}
	return guts__expr_fail(cx, GUTS_EINVAL, "unknown expression node");
}

int guts_expr_eval(struct guts_expr_value *out, const struct guts_expr *e,
		   const struct guts_expr_env *env, struct guts_expr_error *err)
{
	static const struct guts_expr_env no_env;
	struct guts__expr_eval cx;
	struct guts_expr_value v = {0};
	int rc;

	memset(&cx, 0, sizeof(cx));
	cx.e = e;
	cx.env = env ? env : &no_env;
	cx.mem_max =
	    cx.env->max_memory ? cx.env->max_memory : GUTS_EXPR_MAX_MEMORY;
	if (!e->root) {
		guts_expr_value_set_null(out);
		return 0;
	}
	rc = eval(&cx, e->root, &v);
	if (rc < 0) {
		rc = guts__expr_set_error(err, GUTS_EXPR_ERR_EVALUATION, rc, 0,
					  0, cx.msg ? cx.msg : "error");
		free(cx.msg);
		return rc;
	}
	free(cx.msg);
	/* Hand out a value that owns everything it points to. */
	if (!(v.flags & GUTS_EXPR_VALUE_OWNED) &&
	    (v.kind == GUTS_EXPR_STRING || v.kind == GUTS_EXPR_ARRAY ||
	     v.kind == GUTS_EXPR_OBJECT))
		guts_expr_value_copy(out, &v);
	else
		*out = v;
	return 0;
}

int guts_expr_eval_string(struct guts_expr_value *out, const char *src,
			  size_t len, const struct guts_expr_parse_opts *opts,
			  const struct guts_expr_env *env,
			  struct guts_expr_error *err)
{
	struct guts_expr *e = NULL;
	int rc;

	rc = guts_expr_parse(&e, src, len, opts, err);
	if (rc < 0)
		return rc;
	rc = guts_expr_eval(out, e, env, err);
	guts_expr_free(e);
	return rc;
}
