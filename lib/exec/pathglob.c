/* Path globs as @actions/glob reads them (see guts/pathglob.h). */
#include "guts/pathglob.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "banned.h"

enum seg_kind {
	SEG_LITERAL,  /* text is the unescaped name */
	SEG_GLOB,     /* text is the pattern, escapes kept */
	SEG_GLOBSTAR, /* '**' */
};

struct seg {
	enum seg_kind kind;
	char *text;
};

struct pat {
	struct seg *segs;
	size_t nr;
	int negated;
	char *path; /* normalised, absolute */
};

struct guts_pathglob {
	struct pat *pats;
	size_t nr, alloc;
	struct guts_strvec search;
};

/*
 * Match character class @p (just after '[') against @c.  Returns 1 or 0 and
 * sets *@len to the class's length after '['; -1 when there is no closing
 * ']' (the '[' is then an ordinary character).
 */
static int class_match(const char *p, unsigned char c, size_t *len)
{
	size_t i = 0;
	int neg = 0, hit = 0, first = 1;

	if (p[i] == '!' || p[i] == '^') {
		neg = 1;
		i++;
	}
	for (;; first = 0) {
		unsigned char lo, hi;

		if (!p[i])
			return -1;
		if (p[i] == ']' && !first)
			break;
		if (p[i] == '\\' && p[i + 1])
			i++;
		lo = (unsigned char)p[i++];
		hi = lo;
		if (p[i] == '-' && p[i + 1] && p[i + 1] != ']') {
			i++;
			if (p[i] == '\\' && p[i + 1])
				i++;
			hi = (unsigned char)p[i++];
		}
		if (c >= lo && c <= hi)
			hit = 1;
	}
	*len = i + 1;
	return hit != neg;
}

/*
 * One segment against one pattern segment: '*', '?', '[...]' and '\c'.
 * The classic single-backtrack loop: every item other than '*' takes one
 * byte, so going back to the last '*' is enough and the cost is linear in
 * practice, O(len(p) x len(s)) at worst.
 */
static int seg_match(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;

	while (*s) {
		size_t len;
		int m;

		if (*p == '*') {
			while (*p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		if (*p == '?') {
			p++;
			s++;
			continue;
		}
		if (*p == '[') {
			m = class_match(p + 1, (unsigned char)*s, &len);
			if (m == 1) {
				p += 1 + len;
				s++;
				continue;
			}
			if (m == -1 && *s == '[') {
				p++;
				s++;
				continue;
			}
		} else if (*p == '\\' && p[1]) {
			if (p[1] == *s) {
				p += 2;
				s++;
				continue;
			}
		} else if (*p && *p == *s) {
			p++;
			s++;
			continue;
		}
		if (!star_p)
			return 0;
		p = star_p;
		s = ++star_s;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static int seg_is_glob(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == '*' || *s == '?' || *s == '[')
			return 1;
	}
	return 0;
}

static char *unescape(const char *s)
{
	char *out = guts_xmalloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* Split @path at '/' into segments (empty ones dropped), in place. */
static size_t split_path(char *path, char ***segs)
{
	size_t nr = 0, alloc = 0;
	char *s = path;

	*segs = NULL;
	while (*s) {
		char *e;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchr(s, '/');
		GUTS_ALLOC_GROW(*segs, nr + 1, alloc);
		(*segs)[nr++] = s;
		if (!e)
			break;
		*e = '\0';
		s = e + 1;
	}
	return nr;
}

struct dp_result {
	int full_any;	/* the pattern matches the path or an ancestor */
	int full_exact; /* the pattern matches the path itself */
	int partial;	/* something below the path may match */
};

/*
 * reach[i][j]: the first i pattern segments match the first j path
 * segments.  '**' takes zero or more segments.
 */
static void dp(const struct seg *p, size_t np, char **s, size_t ns,
	       struct dp_result *r)
{
	unsigned char small[1024], *reach;
	size_t w = ns + 1, cells;

	if (np + 1 > SIZE_MAX / w)
		abort();
	cells = (np + 1) * w;
	reach = cells <= sizeof(small) ? small : guts_xmalloc(cells);
	memset(reach, 0, cells);
	reach[0] = 1;
	for (size_t i = 0; i <= np; i++) {
		for (size_t j = 0; j <= ns; j++) {
			if (!reach[i * w + j] || i == np)
				continue;
			if (p[i].kind == SEG_GLOBSTAR) {
				reach[(i + 1) * w + j] = 1;
				if (j < ns)
					reach[i * w + j + 1] = 1;
			} else if (j < ns &&
				   (p[i].kind == SEG_LITERAL
					? !strcmp(p[i].text, s[j])
					: seg_match(p[i].text, s[j]))) {
				reach[(i + 1) * w + j + 1] = 1;
			}
		}
	}
	r->full_exact = reach[np * w + ns];
	r->full_any = 0;
	for (size_t j = 0; j <= ns; j++)
		r->full_any |= reach[np * w + j];
	r->partial = 0;
	for (size_t i = 0; i <= np; i++)
		r->partial |= reach[i * w + ns];
	if (reach != small)
		free(reach);
}

/*
 * Normalise @path (absolute) lexically into segments: '.' and empty
 * segments go, '..' takes the previous one away (never above '/').
 */
static void add_pattern(struct guts_pathglob *g, char *path, int negated)
{
	struct pat *pt;
	char **raw;
	size_t nr = split_path(path, &raw), n = 0;
	struct guts_buf norm = GUTS_BUF_INIT;

	GUTS_ALLOC_GROW(g->pats, g->nr + 1, g->alloc);
	pt = &g->pats[g->nr++];
	memset(pt, 0, sizeof(*pt));
	pt->negated = negated;
	pt->segs = guts_xcalloc(nr ? nr : 1, sizeof(*pt->segs));
	for (size_t i = 0; i < nr; i++) {
		if (!strcmp(raw[i], "."))
			continue;
		if (!strcmp(raw[i], "..")) {
			if (n) {
				n--;
				free(pt->segs[n].text);
			}
			continue;
		}
		if (!strcmp(raw[i], "**")) {
			pt->segs[n].kind = SEG_GLOBSTAR;
			pt->segs[n].text = guts_xstrdup("**");
		} else if (seg_is_glob(raw[i])) {
			pt->segs[n].kind = SEG_GLOB;
			pt->segs[n].text = guts_xstrdup(raw[i]);
		} else {
			pt->segs[n].kind = SEG_LITERAL;
			pt->segs[n].text = unescape(raw[i]);
		}
		n++;
	}
	pt->nr = n;
	guts_buf_init(&norm, 0);
	for (size_t i = 0; i < n; i++) {
		guts_buf_addch(&norm, '/');
		/* The escaped form, so the path reads back as a pattern. */
		if (pt->segs[i].kind == SEG_LITERAL) {
			for (const char *c = pt->segs[i].text; *c; c++) {
				if (strchr("*?[\\", *c))
					guts_buf_addch(&norm, '\\');
				guts_buf_addch(&norm, *c);
			}
		} else {
			guts_buf_adds(&norm, pt->segs[i].text);
		}
	}
	if (!n)
		guts_buf_addch(&norm, '/');
	pt->path = guts_buf_detach(&norm, NULL);
	free(raw);
}

/* The literal leading segments of @pt as a path. */
static char *search_path(const struct pat *pt)
{
	struct guts_buf b = GUTS_BUF_INIT;

	guts_buf_init(&b, 0);
	for (size_t i = 0; i < pt->nr && pt->segs[i].kind == SEG_LITERAL; i++) {
		guts_buf_addch(&b, '/');
		guts_buf_adds(&b, pt->segs[i].text);
	}
	if (!b.len)
		guts_buf_addch(&b, '/');
	return guts_buf_detach(&b, NULL);
}

/* Whether @p is @q or lies under it. */
static int under(const char *p, const char *q)
{
	size_t n = strlen(q);

	if (!strcmp(q, "/"))
		return 1;
	return !strncmp(p, q, n) && (p[n] == '\0' || p[n] == '/');
}

static void build_search_paths(struct guts_pathglob *g)
{
	struct guts_strvec all = GUTS_STRVEC_INIT;

	for (size_t i = 0; i < g->nr; i++) {
		if (!g->pats[i].negated)
			guts_strvec_push_nodup(&all, search_path(&g->pats[i]));
	}
	for (size_t i = 0; i < all.nr; i++) {
		int keep = 1;

		for (size_t j = 0; j < all.nr && keep; j++) {
			if (i == j)
				continue;
			if (!strcmp(all.v[i], all.v[j]))
				keep = j > i; /* the first of equal ones */
			else if (under(all.v[i], all.v[j]))
				keep = 0;
		}
		if (keep)
			guts_strvec_push(&g->search, all.v[i]);
	}
	guts_strvec_release(&all);
}

static int bad_line(const char *line, const char *why)
{
	return guts_error(GUTS_EINVAL, "path pattern '%.200s': %s", line, why);
}

int guts_pathglob_compile(struct guts_pathglob **out, const char *text,
			  const char *base, const char *home)
{
	struct guts_pathglob *g = guts_xcalloc(1, sizeof(*g));
	const char *s = text ? text : "";
	int rc = 0;

	guts_strvec_init(&g->search);
	while (*s) {
		const char *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		char *line = guts_xstrndup(s, len), *p = line, *end;
		char *full = NULL;
		int negated = 0;

		s += len + (e ? 1 : 0);
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		end = p + strlen(p);
		while (end > p &&
		       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (!*p || *p == '#') {
			free(line);
			continue;
		}
		if (g->nr == GUTS_PATHGLOB_MAX_PATTERNS) {
			rc = guts_error(GUTS_EINVAL,
					"more than %d path patterns",
					GUTS_PATHGLOB_MAX_PATTERNS);
			free(line);
			break;
		}
		while (*p == '!') {
			negated = !negated;
			p++;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p) {
			rc = bad_line(line, "nothing after '!'");
		} else if (p[0] == '~' && (p[1] == '\0' || p[1] == '/')) {
			if (!home)
				rc = bad_line(line,
					      "no home directory is known");
			else
				full = guts_xasprintf("%s/%s", home, p + 1);
		} else if (p[0] == '/') {
			full = guts_xstrdup(p);
		} else if (!base || base[0] != '/') {
			rc = bad_line(line, "no base directory is known");
		} else {
			full = guts_xasprintf("%s/%s", base, p);
		}
		if (full && strlen(full) > GUTS_PATHGLOB_PATTERN_MAX) {
			rc = bad_line(line, "too long");
			free(full);
			full = NULL;
		}
		if (rc || !full) {
			free(line);
			break;
		}
		add_pattern(g, full, negated);
		free(full);
		free(line);
	}
	if (rc) {
		guts_pathglob_free(g);
		return rc;
	}
	build_search_paths(g);
	*out = g;
	return 0;
}

void guts_pathglob_free(struct guts_pathglob *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nr; i++) {
		for (size_t j = 0; j < g->pats[i].nr; j++)
			free(g->pats[i].segs[j].text);
		free(g->pats[i].segs);
		free(g->pats[i].path);
	}
	free(g->pats);
	guts_strvec_release(&g->search);
	free(g);
}

size_t guts_pathglob_count(const struct guts_pathglob *g)
{
	return g->nr;
}

const char *guts_pathglob_pattern(const struct guts_pathglob *g, size_t i)
{
	return g->pats[i].path;
}

int guts_pathglob_negated(const struct guts_pathglob *g, size_t i)
{
	return g->pats[i].negated;
}

const struct guts_strvec *
guts_pathglob_search_paths(const struct guts_pathglob *g)
{
	return &g->search;
}

int guts_pathglob_match(const struct guts_pathglob *g, const char *path)
{
	char *copy = guts_xstrdup(path), **segs;
	size_t ns = split_path(copy, &segs);
	int result = 0;

	for (size_t i = 0; i < g->nr; i++) {
		struct dp_result r;

		dp(g->pats[i].segs, g->pats[i].nr, segs, ns, &r);
		if (r.full_any)
			result = !g->pats[i].negated;
	}
	free(segs);
	free(copy);
	return result;
}

int guts_pathglob_descend(const struct guts_pathglob *g, const char *dir)
{
	char *copy = guts_xstrdup(dir), **segs;
	size_t ns = split_path(copy, &segs);
	unsigned char *partial = guts_xcalloc(g->nr ? g->nr : 1, 1);
	size_t last = g->nr; /* the last pattern covering all of @dir */
	int result = 0;

	for (size_t i = 0; i < g->nr; i++) {
		struct dp_result r;

		dp(g->pats[i].segs, g->pats[i].nr, segs, ns, &r);
		partial[i] = (unsigned char)r.partial;
		if (r.full_any)
			last = i;
	}
	if (last < g->nr && !g->pats[last].negated) {
		result = 1;
	} else {
		/* Only a later including pattern can reach below @dir. */
		for (size_t i = last < g->nr ? last + 1 : 0; i < g->nr; i++)
			if (!g->pats[i].negated && partial[i])
				result = 1;
	}
	free(partial);
	free(segs);
	free(copy);
	return result;
}

static void compile_segs(char *text, struct seg **out, size_t *nr)
{
	char **raw;
	size_t n = split_path(text, &raw);
	struct seg *segs = guts_xcalloc(n ? n : 1, sizeof(*segs));

	for (size_t i = 0; i < n; i++) {
		segs[i].kind = !strcmp(raw[i], "**") ? SEG_GLOBSTAR : SEG_GLOB;
		segs[i].text = raw[i];
	}
	free(raw);
	*out = segs;
	*nr = n;
}

int guts_pathglob_fnmatch(const char *pattern, const char *string)
{
	char *p = guts_xstrdup(pattern), *s = guts_xstrdup(string), **ss;
	struct seg *ps;
	size_t np, ns;
	struct dp_result r;

	compile_segs(p, &ps, &np);
	ns = split_path(s, &ss);
	dp(ps, np, ss, ns, &r);
	free(ps);
	free(ss);
	free(p);
	free(s);
	return r.full_exact;
}
