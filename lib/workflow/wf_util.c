/* Helpers shared by the workflow parser's converters (see wf_internal.h). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/expr.h"
#include "wf_internal.h"
#include "banned.h"

#define ERR(p, n, ...) guts_diag_error((p)->d, (n)->line, (n)->col, __VA_ARGS__)
#define WARN(p, n, ...) \
	guts_diag_warning((p)->d, (n)->line, (n)->col, __VA_ARGS__)

struct guts_wf_pos wf_pos_of(const struct guts_yaml_node *n)
{
	struct guts_wf_pos pos = {n->line, n->col};

	return pos;
}

int wf_is_scalar(const struct guts_yaml_node *n)
{
	return n && n->type == GUTS_YAML_SCALAR;
}

int wf_is_null(const struct guts_yaml_node *n)
{
	return !n ||
	       (n->type == GUTS_YAML_SCALAR && n->scalar == GUTS_YAML_NULL);
}

int wf_is_string(const struct guts_yaml_node *n)
{
	return wf_is_scalar(n) && n->scalar == GUTS_YAML_STR;
}

int wf_is_whole_expr(const struct guts_yaml_node *n)
{
	const char *s, *e;

	if (!wf_is_string(n))
		return 0;
	s = n->str;
	e = n->str + n->len;
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	/* "${{ a }}-${{ b }}" is a string, not one expression. */
	return e - s >= 5 &&
	       guts_expr_template_is_single(s, (size_t)(e - s), NULL, NULL);
}

int wf_is_insert_text(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return len == 6 && !strncmp(s, "insert", 6);
}

int wf_is_insert(const struct guts_yaml_node *n)
{
	size_t off, len;

	return wf_is_string(n) &&
	       guts_expr_template_is_single(n->str, n->len, &off, &len) &&
	       wf_is_insert_text(n->str + off, len);
}

/* A JSON scalar as GitHub turns it into text; NULL for null and containers. */
char *wf_json_scalar_text(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return guts_xstrndup(json_string_value(v),
				     json_string_length(v));
	case JSON_INTEGER:
	case JSON_REAL:
		return wf_number_string(json_number_value(v));
	case JSON_TRUE:
		return guts_xstrdup("true");
	case JSON_FALSE:
		return guts_xstrdup("false");
	default:
		return NULL;
	}
}

int wf_in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(s, list[i]))
			return 1;
	return 0;
}

size_t wf_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub =
			    prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
					   tolower((unsigned char)b[j - 1]));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins)
					   : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

void wf_unexpected_key(struct wf_parser *p, const struct guts_yaml_node *k,
		       const char *where, const char *const *allowed)
{
	const char *best = NULL;
	size_t bestd = 3;

	for (size_t i = 0; allowed && allowed[i]; i++) {
		size_t dist = wf_edit_distance(k->str, allowed[i]);

		if (dist < bestd) {
			bestd = dist;
			best = allowed[i];
		}
	}
	if (best)
		ERR(p, k, "unexpected key '%s' in %s; did you mean '%s'?",
		    k->str, where, best);
	else
		ERR(p, k, "unexpected key '%s' in %s", k->str, where);
}

int wf_null_value(struct wf_parser *p, const struct guts_yaml_node *k,
		  const struct guts_yaml_node *v, const char *const *nullable)
{
	if (!wf_is_null(v) || (nullable && wf_in_list(k->str, nullable)))
		return 0;
	ERR(p, v, "'%s' has no value", k->str);
	return 1;
}

int wf_want_map(struct wf_parser *p, const struct guts_yaml_node *n,
		const char *what)
{
	if (n && n->type == GUTS_YAML_MAP)
		return 1;
	if (!n)
		return 0;
	ERR(p, n, "%s must be a mapping, not a %s", what,
	    guts_yaml_kind_name(n));
	return 0;
}

int wf_want_seq(struct wf_parser *p, const struct guts_yaml_node *n,
		const char *what)
{
	if (n && n->type == GUTS_YAML_SEQ)
		return 1;
	if (!n)
		return 0;
	ERR(p, n, "%s must be a sequence, not a %s", what,
	    guts_yaml_kind_name(n));
	return 0;
}

char *wf_scalar_string(const struct guts_yaml_node *n)
{
	switch (n->scalar) {
	case GUTS_YAML_NULL:
		return guts_xstrdup("");
	case GUTS_YAML_BOOL:
		return guts_xstrdup(n->boolean ? "true" : "false");
	case GUTS_YAML_NUMBER:
		return wf_number_string(n->number);
	case GUTS_YAML_STR:
		break;
	}
	return guts_xstrndup(n->str, n->len);
}

char *wf_get_str(struct wf_parser *p, const struct guts_yaml_node *n,
		 const char *what, unsigned ctx)
{
	if (!n)
		return NULL;
	if (!wf_is_scalar(n)) {
		ERR(p, n, "%s must be a string, not a %s", what,
		    guts_yaml_kind_name(n));
		return NULL;
	}
	if (n->scalar == GUTS_YAML_NULL)
		return NULL;
	if (n->scalar == GUTS_YAML_STR)
		wf_check_expr(p, n, ctx, 0);
	return wf_scalar_string(n);
}

void wf_check_tree_exprs(struct wf_parser *p, const struct guts_yaml_node *n,
			 unsigned ctx)
{
	if (!n)
		return;
	if (n->type == GUTS_YAML_SCALAR) {
		if (n->scalar == GUTS_YAML_STR)
			wf_check_expr(p, n, ctx, 0);
		return;
	}
	if (n->type == GUTS_YAML_SEQ) {
		for (size_t i = 0; i < n->nr; i++)
			wf_check_tree_exprs(p, n->items[i], ctx);
		return;
	}
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;

		/* Keys may be expressions too (`${{ insert }}` merges). */
		if (!wf_is_insert(k))
			wf_check_expr(p, k, ctx, 0);
		wf_check_tree_exprs(p, n->pairs[i].value, ctx);
	}
}

json_t *wf_number_or_expr(struct wf_parser *p, const struct guts_yaml_node *n,
			  const char *what, unsigned ctx, double min)
{
	if (!n || wf_is_null(n))
		return NULL;
	if (wf_is_scalar(n) && n->scalar == GUTS_YAML_NUMBER) {
		if (isnan(n->number) || n->number < min) {
			/* GitHub's parser lets these through; runs fail. */
			guts_diags_add(p->d,
				       p->opts->syntax_only ? GUTS_DIAG_WARNING
							    : GUTS_DIAG_ERROR,
				       n->line, n->col,
				       "%s must be a number of at least %g",
				       what, min);
			return NULL;
		}
		if (n->number == floor(n->number) && n->number < 1e15)
			return json_integer((json_int_t)n->number);
		return json_real(isinf(n->number) ? 1e308 : n->number);
	}
	if (wf_is_whole_expr(n)) {
		wf_check_expr(p, n, ctx, 0);
		return json_stringn(n->str, n->len);
	}
	if (wf_is_scalar(n))
		ERR(p, n, "%s must be a number or an expression, not '%s'",
		    what, n->str);
	else
		ERR(p, n, "%s must be a number, not a %s", what,
		    guts_yaml_kind_name(n));
	return NULL;
}

json_t *wf_bool_or_expr(struct wf_parser *p, const struct guts_yaml_node *n,
			const char *what, unsigned ctx)
{
	if (!n || wf_is_null(n))
		return NULL;
	if (wf_is_scalar(n) && n->scalar == GUTS_YAML_BOOL)
		return json_boolean(n->boolean);
	if (wf_is_whole_expr(n)) {
		wf_check_expr(p, n, ctx, 0);
		return json_stringn(n->str, n->len);
	}
	if (wf_is_scalar(n))
		ERR(p, n, "%s must be true, false or an expression, not '%s'",
		    what, n->str);
	else
		ERR(p, n, "%s must be a boolean, not a %s", what,
		    guts_yaml_kind_name(n));
	return NULL;
}

json_t *wf_string_map(struct wf_parser *p, const struct guts_yaml_node *n,
		      const char *what, unsigned ctx, int warn_numbers)
{
	json_t *obj;

	if (!n || wf_is_null(n))
		return NULL;
	if (wf_is_whole_expr(n)) {
		wf_check_expr(p, n, ctx, 0);
		return json_stringn(n->str, n->len);
	}
	if (!wf_want_map(p, n, what))
		return NULL;
	obj = json_object();
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;
		char *s;

		if (wf_is_insert(k) && wf_is_whole_expr(v)) {
			/* ${{ insert }}: the value's object is merged in. */
			wf_check_expr(p, v, ctx, 0);
			json_object_set_new(obj, "${{ insert }}",
					    json_stringn(v->str, v->len));
			continue;
		}
		if (wf_has_expr(k->str, k->len)) {
			ERR(p, k, "expressions are not allowed in %s names",
			    what);
			continue;
		}
		if (!k->len) {
			ERR(p, k, "empty name in %s", what);
			continue;
		}
		if (!wf_is_scalar(v)) {
			ERR(p, v, "%s.%s must be a string, not a %s", what,
			    k->str, guts_yaml_kind_name(v));
			continue;
		}
		s = wf_get_str(p, v, what, ctx);
		if (warn_numbers && v->scalar == GUTS_YAML_NUMBER && s &&
		    (strlen(s) != v->len || memcmp(s, v->str, v->len)))
			WARN(p, v,
			     "%s.%s: the number %.*s becomes '%s'; quote it "
			     "to keep '%.*s'",
			     what, k->str, (int)v->len, v->str, s, (int)v->len,
			     v->str);
		json_object_setn_new(obj, k->str, k->len,
				     json_string(s ? s : ""));
		free(s);
	}
	return obj;
}

int wf_valid_id(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

int wf_check_id(struct wf_parser *p, const struct guts_yaml_node *n,
		const char *what)
{
	if (!wf_is_scalar(n) || !n->len) {
		ERR(p, n, "%s id must not be empty", what);
		return 0;
	}
	if (!wf_valid_id(n->str)) {
		ERR(p, n,
		    "the %s id '%s' is invalid: ids start with a letter or "
		    "'_' and contain only letters, digits, '-' and '_'",
		    what, n->str);
		return 0;
	}
	if (!strncmp(n->str, "__", 2)) {
		ERR(p, n,
		    "the %s id '%s' is invalid: ids starting with '__' are "
		    "reserved",
		    what, n->str);
		return 0;
	}
	return 1;
}

static json_t *number_json(double v)
{
	if (!isfinite(v)) {
		char *s = wf_number_string(v);
		json_t *j = json_string(s);

		free(s);
		return j;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return json_integer((json_int_t)v);
	return json_real(v);
}

json_t *wf_to_json(const struct guts_yaml_node *n)
{
	json_t *j;

	if (!n)
		return json_null();
	switch (n->type) {
	case GUTS_YAML_SEQ:
		j = json_array();
		for (size_t i = 0; i < n->nr; i++)
			json_array_append_new(j, wf_to_json(n->items[i]));
		return j;
	case GUTS_YAML_MAP:
		j = json_object();
		for (size_t i = 0; i < n->nr; i++)
			json_object_setn_new(j, n->pairs[i].key->str,
					     n->pairs[i].key->len,
					     wf_to_json(n->pairs[i].value));
		return j;
	case GUTS_YAML_SCALAR:
		break;
	}
	switch (n->scalar) {
	case GUTS_YAML_NULL:
		return json_null();
	case GUTS_YAML_BOOL:
		return json_boolean(n->boolean);
	case GUTS_YAML_NUMBER:
		return number_json(n->number);
	case GUTS_YAML_STR:
		break;
	}
	return json_stringn(n->str, n->len);
}

/* Shortest text that reads back as @v, in JavaScript's style. */
char *wf_number_string(double v)
{
	char buf[64];

	if (isnan(v))
		return guts_xstrdup("NaN");
	if (isinf(v))
		return guts_xstrdup(v > 0 ? "Infinity" : "-Infinity");
	if (v == 0)
		return guts_xstrdup("0");
	if (v == floor(v) && fabs(v) < 1e21) {
		snprintf(buf, sizeof(buf), "%.0f", v);
		return guts_xstrdup(buf);
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return guts_xstrdup(buf);
}
