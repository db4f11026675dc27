/*
 * Templates: strings that mix text with `${{ }}`, as workflow YAML scalars
 * do.  The scan follows GitHub's template reader: after `${{` the first
 * `}}` outside a single-quoted string closes the expression (so
 * `${{ format('{{0}}', 'x') }}` is one expression), and an expression that
 * is only blanks is an error.  Text is taken as it is; there is no escape.
 */
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/expr.h"
#include "workflow/expr_internal.h"
#include "banned.h"

static const char *find_open(const char *src, size_t len, size_t from)
{
	while (from + 3 <= len) {
		const char *p = memchr(src + from, '$', len - from - 2);

		if (!p)
			return NULL;
		if (p[1] == '{' && p[2] == '{')
			return p;
		from = (size_t)(p - src) + 1;
	}
	return NULL;
}

int guts_expr_template_has_expr(const char *src, size_t len)
{
	return find_open(src, len, 0) != NULL;
}

static void push(struct guts_expr_segment **segs, size_t *nr, size_t *alloc,
		 const struct guts_expr_segment *s)
{
	GUTS_ALLOC_GROW(*segs, *nr + 1, *alloc);
	(*segs)[(*nr)++] = *s;
}

int guts_expr_template_scan(struct guts_expr_segment **out, size_t *nr,
			    const char *src, size_t len,
			    struct guts_expr_error *err)
{
	struct guts_expr_segment *segs = NULL, s;
	size_t n = 0, alloc = 0, i = 0;
	const char *open = find_open(src, len, 0);

	while (i < len) {
		size_t start = open ? (size_t)(open - src) : len;

		if (start > i) {
			memset(&s, 0, sizeof(s));
			s.kind = GUTS_EXPR_SEGMENT_TEXT;
			s.offset = s.outer_offset = i;
			s.len = s.outer_len = start - i;
			push(&segs, &n, &alloc, &s);
		}
		if (!open)
			break;
		{
			size_t j, end = 0;
			int in_string = 0, closed = 0;

			for (j = start + 3; j < len; j++) {
				if (src[j] == '\'') {
					in_string = !in_string;
				} else if (!in_string && src[j] == '}' &&
					   src[j - 1] == '}') {
					end = j;
					closed = 1;
					break;
				}
			}
			if (!closed) {
				free(segs);
				return guts__expr_set_error(
				    err, GUTS_EXPR_ERR_PARSING, GUTS_EINVAL,
				    start, guts__expr_position(src, start),
				    "The expression is not closed. An "
				    "unescaped ${{ sequence was found, but "
				    "the closing }} sequence was not found.");
			}
			memset(&s, 0, sizeof(s));
			s.kind = GUTS_EXPR_SEGMENT_EXPR;
			s.offset = start + 3;
			s.len = end - 1 - s.offset;
			s.outer_offset = start;
			s.outer_len = end + 1 - start;
			if (!guts__expr_js_trim(src + s.offset, s.len, NULL)) {
				free(segs);
				return guts__expr_set_error(
				    err, GUTS_EXPR_ERR_PARSING, GUTS_EINVAL,
				    start, guts__expr_position(src, start),
				    "An expression was expected");
			}
			push(&segs, &n, &alloc, &s);
			i = end + 1;
			open = find_open(src, len, i);
		}
	}
	*out = segs;
	*nr = n;
	return 0;
}

int guts_expr_template_is_single(const char *src, size_t len,
				 size_t *expr_offset, size_t *expr_len)
{
	struct guts_expr_segment *segs = NULL;
	size_t nr = 0;
	int single;

	if (len < 5 || memcmp(src, "${{", 3) != 0 ||
	    memcmp(src + len - 2, "}}", 2) != 0)
		return 0;
	if (guts_expr_template_scan(&segs, &nr, src, len, NULL) < 0)
		return 0;
	single = nr == 1 && segs[0].kind == GUTS_EXPR_SEGMENT_EXPR;
	if (single && expr_offset)
		*expr_offset = segs[0].offset;
	if (single && expr_len)
		*expr_len = segs[0].len;
	free(segs);
	return single;
}

/* Evaluate one segment's expression; errors point into the template. */
static int eval_segment(struct guts_expr_value *out, const char *src,
			const struct guts_expr_segment *seg,
			const struct guts_expr_parse_opts *opts,
			const struct guts_expr_env *env,
			struct guts_expr_error *err)
{
	size_t lead, n;
	int rc;

	n = guts__expr_js_trim(src + seg->offset, seg->len, &lead);
	rc = guts_expr_eval_string(out, src + seg->offset + lead, n, opts, env,
				   err);
	if (rc < 0 && err && err->kind != GUTS_EXPR_ERR_EVALUATION)
		err->offset += seg->offset + lead;
	else if (rc < 0 && err)
		err->offset = seg->offset + lead;
	return rc;
}

int guts_expr_template_eval(char **out, size_t *out_len, const char *src,
			    size_t len, const struct guts_expr_parse_opts *opts,
			    const struct guts_expr_env *env,
			    struct guts_expr_error *err)
{
	struct guts_expr_segment *segs = NULL;
	struct guts_buf b;
	size_t nr = 0;
	int rc;

	rc = guts_expr_template_scan(&segs, &nr, src, len, err);
	if (rc < 0)
		return rc;
	guts_buf_init(&b, 0);
	for (size_t i = 0; i < nr; i++) {
		struct guts_expr_value v;

		if (segs[i].kind == GUTS_EXPR_SEGMENT_TEXT) {
			guts_buf_add(&b, src + segs[i].offset, segs[i].len);
			continue;
		}
		rc = eval_segment(&v, src, &segs[i], opts, env, err);
		if (rc < 0)
			goto out;
		guts__expr_coerce_string(&b, &v);
		guts_expr_value_release(&v);
	}
	*out = guts_buf_detach(&b, out_len);
out:
	guts_buf_release(&b);
	free(segs);
	return rc;
}

int guts_expr_template_eval_value(struct guts_expr_value *out, const char *src,
				  size_t len,
				  const struct guts_expr_parse_opts *opts,
				  const struct guts_expr_env *env,
				  struct guts_expr_error *err)
{
	struct guts_expr_segment seg;
	char *s;
	size_t n;
	int rc;

	memset(&seg, 0, sizeof(seg));
	if (guts_expr_template_is_single(src, len, &seg.offset, &seg.len))
		return eval_segment(out, src, &seg, opts, env, err);
	rc = guts_expr_template_eval(&s, &n, src, len, opts, env, err);
	if (rc < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	out->kind = GUTS_EXPR_STRING;
	out->flags = GUTS_EXPR_VALUE_OWNED;
	out->u.string.ptr = s;
	out->u.string.len = n;
	return 0;
}
