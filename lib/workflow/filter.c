/*
 * Filter patterns (see include/guts/filter.h for the language).
 *
 * A pattern compiles to a flat array of tokens.  Every token but one kind is
 * a set of bytes with a quantifier: a literal is a one-byte set, '*' is
 * "every byte but '/'" repeated zero or more times, '**' is "every byte"
 * likewise, and '?'/'+' adjust the quantifier of the token before them.  The
 * odd one out is '**' followed by '/', which matches the empty string or
 * anything that ends in '/' (see enum tok_kind).
 *
 * Matching simulates the NFA whose states are "about to match token i" with
 * one bit per state, so it costs O(tokens x name length) and cannot blow up
 * on patterns like '**a**a**a**b' the way a backtracking matcher does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/filter.h"

#include "banned.h"

/*
 * '**' followed by '/' takes two tokens: TOK_DIRS, which may be skipped as a
 * whole, and TOK_DIRS_IN, the state of having read part of it, which may be
 * left only through a '/'.  A single state for both would let 'a/' + '**' +
 * '/b' match "a/xb" by reading 'x' and then skipping.
 */
enum tok_kind {
	TOK_SET,     /* one byte from set, repeated per opt/rep */
	TOK_DIRS,    /* '**' then '/': empty, or anything ending in '/' */
	TOK_DIRS_IN, /* inside a TOK_DIRS: any bytes, then a '/' */
};

struct tok {
	uint64_t set[4]; /* TOK_SET: bit b is byte b */
	unsigned char kind;
	bool opt; /* may match zero times */
	bool rep; /* may match more than once */
};

struct guts_filter_pattern {
	char *source;
	bool negated;
	size_t nr;
	struct tok *toks;
};

struct guts_filter_list {
	struct guts_filter_pattern *items; /* owned by value, not pointers */
	size_t nr;
};

static void set_add(uint64_t set[4], unsigned char c)
{
	set[c >> 6] |= UINT64_C(1) << (c & 63);
}

static bool set_has(const uint64_t set[4], unsigned char c)
{
	return (set[c >> 6] >> (c & 63)) & 1;
}

/*
 * Quote @s for an error message: cut at 80 bytes and show control bytes as
 * '?', since the message ends up on a terminal.
 */
static void quote_into(struct guts_buf *b, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < 80; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			guts_buf_addch(b, '?');
		else
			guts_buf_addch(b, s[i]);
	}
	if (s[i])
		guts_buf_adds(b, "...");
}

static int bad_pattern(const char *pattern, const char *why)
{
	struct guts_buf b;

	guts_buf_init(&b, 0);
	quote_into(&b, pattern);
	guts_error(GUTS_EINVAL, "invalid filter pattern '%s': %s", b.data, why);
	guts_buf_release(&b);
	return GUTS_EINVAL;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool same_range_kind(unsigned char a, unsigned char b)
{
	return (is_digit(a) && is_digit(b)) || (is_lower(a) && is_lower(b)) ||
	       (is_upper(a) && is_upper(b));
}

/*
 * Parse the bracket expression that starts at body[*pos] == '[' into @set and
 * leave *pos after its ']'.  The reason for a failure goes into *why.
 */
static int parse_class(const char *body, size_t *pos, uint64_t set[4],
		       const char **why)
{
	size_t i = *pos + 1;

	if (body[i] == ']') {
		*why = "empty '[]' matches nothing";
		return GUTS_EINVAL;
	}
	if (body[i] == '!' || body[i] == '^') {
		*why = "negated brackets like '[!...]' are not supported";
		return GUTS_EINVAL;
	}
	while (body[i] && body[i] != ']') {
		unsigned char lo = (unsigned char)body[i];

		if (lo == '\\') {
			if (!body[i + 1])
				break;
			set_add(set, (unsigned char)body[i + 1]);
			i += 2;
			continue;
		}
		if (lo == '[') {
			*why = "'[' inside '[...]' must be escaped as '\\['";
			return GUTS_EINVAL;
		}
		if (body[i + 1] == '-' && body[i + 2] && body[i + 2] != ']') {
			unsigned char hi = (unsigned char)body[i + 2];
			unsigned int c;

			if (!same_range_kind(lo, hi) || lo > hi) {
				*why = "a range in '[...]' must be within a-z, "
				       "A-Z or 0-9, low end first";
				return GUTS_EINVAL;
			}
			for (c = lo; c <= hi; c++)
				set_add(set, (unsigned char)c);
			i += 3;
			continue;
		}
		set_add(set, lo);
		i++;
	}
	if (body[i] != ']') {
		*why = "unclosed '['";
		return GUTS_EINVAL;
	}
	*pos = i + 1;
	return 0;
}

static struct tok *push_tok(struct guts_filter_pattern *p, size_t *alloc,
			    enum tok_kind kind)
{
	struct tok *t;

	GUTS_ALLOC_GROW(p->toks, p->nr + 1, *alloc);
	t = &p->toks[p->nr++];
	memset(t, 0, sizeof(*t));
	t->kind = (unsigned char)kind;
	return t;
}

static int parse_body(struct guts_filter_pattern *p, const char *body,
		      const char **why)
{
	size_t alloc = 0, i = 0;
	struct tok *t;

	while (body[i]) {
		unsigned char c = (unsigned char)body[i];

		if (c == '*') {
			if (body[i + 1] == '*' && body[i + 2] == '/') {
				push_tok(p, &alloc, TOK_DIRS);
				push_tok(p, &alloc, TOK_DIRS_IN);
				i += 3;
				continue;
			}
			t = push_tok(p, &alloc, TOK_SET);
			memset(t->set, 0xff, sizeof(t->set));
			if (body[i + 1] == '*') {
				i += 2;
			} else {
				t->set['/' >> 6] &=
				    ~(UINT64_C(1) << ('/' & 63));
				i++;
			}
			t->opt = t->rep = true;
			continue;
		}
		if ((c == '?' || c == '+') && p->nr > 0) {
			/*
			 * A quantifier on a quantified token composes the way
			 * regex sets do: (a+)? and (a?)+ are both a*.  On a
			 * star or on '**' followed by '/' it changes nothing.
			 */
			t = &p->toks[p->nr - 1];
			if (t->kind == TOK_SET) {
				if (c == '?')
					t->opt = true;
				else
					t->rep = true;
			}
			i++;
			continue;
		}
		if (c == '[') {
			t = push_tok(p, &alloc, TOK_SET);
			if (parse_class(body, &i, t->set, why) < 0)
				return GUTS_EINVAL;
			continue;
		}
		if (c == '\\') {
			if (!body[i + 1]) {
				*why = "a trailing '\\' escapes nothing";
				return GUTS_EINVAL;
			}
			c = (unsigned char)body[++i];
		}
		t = push_tok(p, &alloc, TOK_SET);
		set_add(t->set, c);
		i++;
	}
	return 0;
}

int guts_filter_pattern_compile(struct guts_filter_pattern **out,
				const char *pattern)
{
	struct guts_filter_pattern *p;
	const char *why = NULL;
	const char *body;
	size_t len;

	if (!pattern || !*pattern)
		return bad_pattern("", "the pattern is empty");
	len = strlen(pattern);
	if (len > GUTS_FILTER_PATTERN_MAX)
		return bad_pattern(pattern, "longer than 4096 bytes");
	body = pattern;
	if (*body == '!')
		body++;
	if (!*body)
		return bad_pattern(pattern, "nothing follows '!'");

	p = guts_xcalloc(1, sizeof(*p));
	p->negated = body != pattern;
	if (parse_body(p, body, &why) < 0) {
		guts_filter_pattern_free(p);
		return bad_pattern(pattern, why);
	}
	p->source = guts_xstrndup(pattern, len);
	*out = p;
	return 0;
}

static void pattern_release(struct guts_filter_pattern *p)
{
	free(p->source);
	free(p->toks);
}

void guts_filter_pattern_free(struct guts_filter_pattern *p)
{
	if (!p)
		return;
	pattern_release(p);
	free(p);
}

bool guts_filter_pattern_is_negated(const struct guts_filter_pattern *p)
{
	return p->negated;
}

const char *guts_filter_pattern_source(const struct guts_filter_pattern *p)
{
	return p->source;
}

/* Add state @i and every state reachable from it without reading a byte. */
static void add_state(const struct guts_filter_pattern *p, uint64_t *states,
		      size_t i)
{
	for (;;) {
		uint64_t bit = UINT64_C(1) << (i & 63);

		if (states[i >> 6] & bit)
			return;
		states[i >> 6] |= bit;
		if (i == p->nr)
			return;
		if (p->toks[i].kind == TOK_DIRS)
			i += 2;
		else if (p->toks[i].kind == TOK_SET && p->toks[i].opt)
			i++;
		else
			return;
	}
}

/* Patterns up to this many tokens match without touching the heap. */
#define STACK_WORDS 8

bool guts_filter_pattern_match(const struct guts_filter_pattern *p,
			       const char *name)
{
	uint64_t stack[2 * STACK_WORDS];
	uint64_t *cur, *next, *heap = NULL;
	size_t words = p->nr / 64 + 1;
	const unsigned char *s;
	bool matched;

	if (words <= STACK_WORDS) {
		cur = stack;
	} else {
		heap = guts_xcalloc(2 * words, sizeof(*heap));
		cur = heap;
	}
	next = cur + words;
	memset(cur, 0, words * sizeof(*cur));
	add_state(p, cur, 0);

	for (s = (const unsigned char *)name; *s; s++) {
		bool any = false;
		uint64_t *swap;
		size_t w;

		memset(next, 0, words * sizeof(*next));
		for (w = 0; w < words; w++) {
			uint64_t bits = cur[w];

			while (bits) {
				size_t i =
				    w * 64 + (size_t)__builtin_ctzll(bits);
				const struct tok *t;

				bits &= bits - 1;
				if (i == p->nr)
					continue; /* the accepting state */
				t = &p->toks[i];
				any = true;
				if (t->kind == TOK_DIRS) {
					/* Reading from it is entering it. */
					add_state(p, next, i + 1);
					if (*s == '/')
						add_state(p, next, i + 2);
				} else if (t->kind == TOK_DIRS_IN) {
					add_state(p, next, i);
					if (*s == '/')
						add_state(p, next, i + 1);
				} else if (set_has(t->set, *s)) {
					add_state(p, next, i + 1);
					if (t->rep)
						add_state(p, next, i);
				}
			}
		}
		if (!any) {
			cur = next; /* all zero: nothing can match any more */
			break;
		}
		swap = cur;
		cur = next;
		next = swap;
	}
	matched = (cur[p->nr >> 6] >> (p->nr & 63)) & 1;
	free(heap);
	return matched;
}

int guts_filter_list_compile(struct guts_filter_list **out,
			     const char *const *patterns, size_t nr,
			     unsigned flags, size_t *bad_index)
{
	struct guts_filter_list *l;
	bool positive = false, negative = false;
	size_t i;
	int rc;

	l = guts_xcalloc(1, sizeof(*l));
	l->items = guts_xcalloc(nr ? nr : 1, sizeof(l->items[0]));
	for (i = 0; i < nr; i++) {
		struct guts_filter_pattern *p;

		rc = guts_filter_pattern_compile(&p, patterns[i]);
		if (rc < 0)
			goto fail;
		l->items[l->nr++] = *p; /* move the contents, drop the shell */
		free(p);
		if (l->items[i].negated)
			negative = true;
		else
			positive = true;
	}
	if ((flags & GUTS_FILTER_NEED_POSITIVE) && negative && !positive) {
		rc = guts_error(GUTS_EINVAL,
				"every filter pattern is negated with '!', so "
				"nothing can match; add a pattern without '!' "
				"(such as '**') or use the -ignore form");
		goto fail;
	}
	*out = l;
	return 0;
fail:
	if (bad_index)
		*bad_index = i;
	guts_filter_list_free(l);
	return rc;
}

void guts_filter_list_free(struct guts_filter_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nr; i++)
		pattern_release(&l->items[i]);
	free(l->items);
	free(l);
}

size_t guts_filter_list_count(const struct guts_filter_list *l)
{
	return l->nr;
}

const struct guts_filter_pattern *
guts_filter_list_get(const struct guts_filter_list *l, size_t i)
{
	return i < l->nr ? &l->items[i] : NULL;
}

bool guts_filter_list_match(const struct guts_filter_list *l, const char *name)
{
	size_t i;

	/*
	 * Reading the list in order and letting each match overwrite the
	 * verdict is the same as asking the last matching pattern, which
	 * lets us stop early.
	 */
	for (i = l->nr; i-- > 0;) {
		if (guts_filter_pattern_match(&l->items[i], name))
			return !l->items[i].negated;
	}
	return false;
}

bool guts_filter_refs(const struct guts_filter_list *include,
		      const struct guts_filter_list *ignore, const char *name)
{
	if (include && !guts_filter_list_match(include, name))
		return false;
	if (ignore && guts_filter_list_match(ignore, name))
		return false;
	return true;
}

bool guts_filter_paths(const struct guts_filter_list *include,
		       const struct guts_filter_list *ignore,
		       const char *const *paths, size_t nr)
{
	size_t i;

	if (!include && !ignore)
		return true;
	for (i = 0; i < nr; i++) {
		if (include && !guts_filter_list_match(include, paths[i]))
			continue;
		if (ignore && guts_filter_list_match(ignore, paths[i]))
			continue;
		return true;
	}
	return false;
}
