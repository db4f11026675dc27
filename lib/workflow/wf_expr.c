/*
 * Expression checks for the workflow validator: every `${{ }}` in a value is
 * parsed with the contexts GitHub makes available at that place, `if:`
 * conditions are parsed whole, and untrusted input interpolated into run:
 * scripts draws a warning.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "guts/expr.h"
#include "wf_internal.h"
#include "banned.h"

int wf_has_expr(const char *s, size_t len)
{
	return guts_expr_template_has_expr(s, len);
}

static const struct {
	unsigned bit;
	const char *name;
} context_names[] = {
    {WF_GITHUB, "github"}, {WF_GITHUB, "guts"},	      {WF_INPUTS, "inputs"},
    {WF_VARS, "vars"},	   {WF_SECRETS, "secrets"},   {WF_ENV, "env"},
    {WF_NEEDS, "needs"},   {WF_STRATEGY, "strategy"}, {WF_MATRIX, "matrix"},
    {WF_JOB, "job"},	   {WF_RUNNER, "runner"},     {WF_STEPS, "steps"},
    {WF_JOBS, "jobs"},
};

#define NR_CONTEXTS (sizeof(context_names) / sizeof(context_names[0]))

static void parse_opts(unsigned ctx, const char **names,
		       struct guts_expr_parse_opts *o)
{
	size_t n = 0;

	for (size_t i = 0; i < NR_CONTEXTS; i++)
		if (ctx & context_names[i].bit)
			names[n++] = context_names[i].name;
	o->names = names;
	o->nr_names = n;
	o->flags = 0;
	if (ctx & WF_FN_STATUS)
		o->flags |= GUTS_EXPR_STATUS_FUNCTIONS;
	if (ctx & WF_FN_HASHFILES)
		o->flags |= GUTS_EXPR_HASHFILES;
	if (ctx & WF_FN_JOB_STATUS)
		o->flags |= GUTS_EXPR_STATUS_JOB_ARGS;
}

/* The first non-blank line after @line, for a block scalar's indentation. */
static unsigned block_indent(const struct wf_parser *p, unsigned line)
{
	const char *s = p->text, *end = p->text + p->len;
	unsigned l = 1;

	while (s < end && l <= line) {
		if (*s++ == '\n')
			l++;
	}
	while (s < end) {
		const char *q = s;
		unsigned indent = 0;

		while (q < end && *q == ' ') {
			q++;
			indent++;
		}
		if (q < end && *q != '\n' && *q != '\r')
			return indent;
		s = memchr(q, '\n', (size_t)(end - q));
		if (!s)
			break;
		s++;
	}
	return 0;
}

/* Characters (not bytes) in the first @n bytes of UTF-8 text @s. */
static unsigned nchars(const char *s, size_t n)
{
	unsigned c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

/*
 * Where in p->text the value of one-line scalar @n starts, or NULL when the
 * first @off bytes of its value are not written there as they are (escapes,
 * folded lines): only then is a column inside it exact.
 */
static const char *source_of(const struct wf_parser *p,
			     const struct guts_yaml_node *n, size_t off)
{
	const char *s = p->text, *end = p->text + p->len;
	unsigned l = 1, c = 1;

	while (s < end && l < n->line)
		if (*s++ == '\n')
			l++;
	while (s < end && c < n->col) {
		s++;
		if (s == end || ((unsigned char)*s & 0xc0) != 0x80)
			c++;
	}
	if (n->style != GUTS_YAML_PLAIN)
		s++; /* the opening quote */
	if (off > (size_t)(end - s) || memcmp(s, n->str, off) ||
	    memchr(s, '\n', off))
		return NULL;
	return s;
}

/*
 * The file position of byte @off of scalar @n's value.  Exact for one-line
 * scalars whose text up to @off is written as it is, and for literal blocks;
 * the scalar's own position otherwise, which is also where GitHub points.
 */
static void position_in(const struct wf_parser *p,
			const struct guts_yaml_node *n, size_t off,
			unsigned *line, unsigned *col)
{
	size_t nl = 0, bol = 0;

	*line = n->line;
	*col = n->col;
	if (off > n->len || !p->text)
		return;
	for (size_t i = 0; i < off; i++)
		if (n->str[i] == '\n') {
			nl++;
			bol = i + 1;
		}
	switch (n->style) {
	case GUTS_YAML_PLAIN:
	case GUTS_YAML_SINGLE_QUOTED:
	case GUTS_YAML_DOUBLE_QUOTED:
		if (source_of(p, n, off))
			*col = n->col + (n->style != GUTS_YAML_PLAIN) +
			       nchars(n->str, off);
		break;
	case GUTS_YAML_LITERAL:
		*line = n->line + 1 + (unsigned)nl;
		*col = block_indent(p, n->line) + 1 +
		       nchars(n->str + bol, off - bol);
		break;
	case GUTS_YAML_FOLDED:
		break;
	}
}

static void report(struct wf_parser *p, const struct guts_yaml_node *n,
		   size_t off, const struct guts_expr_error *err,
		   const char *fallback)
{
	unsigned line, col;

	position_in(p, n, off, &line, &col);
	guts_diag_error(p->d, line, col, "%s",
			err && err->message ? err->message : fallback);
}

/*
 * The byte length of the whitespace character (as JavaScript's \s knows it)
 * at the start of @s, or 0.
 */
static size_t space_at(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned cp;
	size_t n;

	if (!len)
		return 0;
	if (u[0] < 0x80)
		return isspace(u[0]) ? 1 : 0;
	if ((u[0] & 0xe0) == 0xc0 && len >= 2) {
		cp = (u[0] & 0x1fu) << 6 | (u[1] & 0x3fu);
		n = 2;
	} else if ((u[0] & 0xf0) == 0xe0 && len >= 3) {
		cp =
		    (u[0] & 0x0fu) << 12 | (u[1] & 0x3fu) << 6 | (u[2] & 0x3fu);
		n = 3;
	} else {
		return 0;
	}
	if (cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	    cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
	    cp == 0x3000 || cp == 0xfeff)
		return n;
	return 0;
}

/* Like space_at(), for the character that ends @s. */
static size_t space_before(const char *s, size_t len)
{
	size_t start = len;

	/* Step back over continuation bytes to the character's start. */
	while (start > 0 && len - start < 3 &&
	       ((unsigned char)s[start - 1] & 0xc0) == 0x80)
		start--;
	if (start > 0)
		start--;
	if (start < len && space_at(s + start, len - start) == len - start)
		return len - start;
	return 0;
}

/* Parse one expression; @base is its byte offset within the scalar. */
static void check_injection(struct wf_parser *p, const struct guts_yaml_node *n,
			    const struct guts_expr *e, size_t base);

static void check_one(struct wf_parser *p, const struct guts_yaml_node *n,
		      const char *src, size_t len, size_t base,
		      const struct guts_expr_parse_opts *o, unsigned ctx)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr *e = NULL;
	int rc;

	/*
	 * GitHub trims the text between ${{ and }} as JavaScript's trim()
	 * does, Unicode spaces included; messages quote it trimmed.
	 */
	for (size_t k; (k = space_at(src, len)) > 0;) {
		src += k;
		len -= k;
		base += k;
	}
	for (size_t k; (k = space_before(src, len)) > 0;)
		len -= k;
	rc = guts_expr_parse(&e, src, len, o, &err);
	if (rc < 0)
		report(p, n, base + err.offset, &err, "invalid expression");
	else if (ctx & WF_CHECK_INJECTION)
		check_injection(p, n, e, base);
	guts_expr_free(e);
	guts_expr_error_release(&err);
}

void wf_check_expr(struct wf_parser *p, const struct guts_yaml_node *n,
		   unsigned ctx, int condition)
{
	struct guts_expr_error err = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_segment *seg = NULL;
	const char *names[NR_CONTEXTS];
	struct guts_expr_parse_opts o;
	size_t nr = 0, off, len;

	if (!n || n->type != GUTS_YAML_SCALAR || n->scalar != GUTS_YAML_STR)
		return;
	if (ctx & WF_NO_EXPR) {
		const char *at = memmem(n->str, n->len, "${{", 3);

		if (at)
			report(p, n, (size_t)(at - n->str), NULL,
			       "expressions are not allowed here");
		return;
	}
	parse_opts(ctx, names, &o);
	if (condition) {
		/*
		 * An if: is an expression with or without ${{ }}.  Text around
		 * a ${{ }} makes it a non-empty string, which is always true.
		 */
		if (guts_expr_template_is_single(n->str, n->len, &off, &len)) {
			check_one(p, n, n->str + off, len, off, &o, ctx);
			return;
		}
		if (!guts_expr_template_has_expr(n->str, n->len)) {
			check_one(p, n, n->str, n->len, 0, &o, ctx);
			return;
		}
		guts_diag_warning(p->d, n->line, n->col,
				  "this condition mixes text with ${{ }}, so "
				  "it is a non-empty string and always true; "
				  "write the whole condition inside one "
				  "${{ }} or without it");
	}
	if (!guts_expr_template_has_expr(n->str, n->len))
		return;
	if (n->len > GUTS_EXPR_MAX_LENGTH) {
		/* GitHub turns the whole value into one format() call. */
		guts_diag_error(p->d, n->line, n->col,
				"this value is %zu bytes long and holds "
				"${{ }}; a value with expressions may be at "
				"most %d bytes",
				n->len, GUTS_EXPR_MAX_LENGTH);
		return;
	}
	if (guts_expr_template_scan(&seg, &nr, n->str, n->len, &err) < 0) {
		report(p, n, err.offset, &err, "invalid expression");
		guts_expr_error_release(&err);
		return;
	}
	for (size_t i = 0; i < nr; i++) {
		if (seg[i].kind != GUTS_EXPR_SEGMENT_EXPR)
			continue;
		if (wf_is_insert_text(n->str + seg[i].offset, seg[i].len)) {
			/* Only a whole mapping key may be ${{ insert }}. */
			report(p, n, seg[i].outer_offset, NULL,
			       "the directive 'insert' is only allowed as a "
			       "whole mapping key, not inside a string");
			continue;
		}
		check_one(p, n, n->str + seg[i].offset, seg[i].len,
			  seg[i].offset, &o, ctx);
	}
	free(seg);
}

/* ---- script injection ---- */

/* Whether a context path carries text anyone can choose. */
static int untrusted(const char *path)
{
	static const char *const tails[] = {
	    ".title",	  ".body",	  ".message", ".label",
	    ".page_name", ".head_branch", ".email",   ".default_branch",
	    ".head.ref",  ".head.label",  NULL};
	size_t len = strlen(path);

	if (!strcmp(path, "github.head_ref") || !strcmp(path, "guts.head_ref"))
		return 1;
	if (strncmp(path, "github.event.", 13) &&
	    strncmp(path, "guts.event.", 11))
		return 0;
	for (size_t i = 0; tails[i]; i++) {
		size_t t = strlen(tails[i]);

		if (len >= t && !strcmp(path + len - t, tails[i]))
			return 1;
	}
	/* Author and committer names of commits are free text too. */
	if (len > 5 && !strcmp(path + len - 5, ".name") &&
	    (strstr(path, ".author.") || strstr(path, ".committer.")))
		return 1;
	return 0;
}

struct inject_ctx {
	struct wf_parser *p;
	const struct guts_yaml_node *n;
	size_t base;
};

static int on_ref(const char *path, size_t offset, void *data)
{
	struct inject_ctx *c = data;
	unsigned line, col;

	if (!untrusted(path))
		return 0;
	position_in(c->p, c->n, c->base + offset, &line, &col);
	guts_diag_warning(c->p->d, line, col,
			  "'%s' can be set by anyone who opens a pull request "
			  "or an issue, and it is pasted into this script as "
			  "code; pass it through env: (FOO: ${{ %s }}) and "
			  "use \"$FOO\" instead",
			  path, path);
	return 0;
}

/* Warn about untrusted input in a parsed expression of a run: script. */
static void check_injection(struct wf_parser *p, const struct guts_yaml_node *n,
			    const struct guts_expr *e, size_t base)
{
	struct inject_ctx c = {p, n, base};

	guts_expr_walk(e, on_ref, NULL, &c);
}
