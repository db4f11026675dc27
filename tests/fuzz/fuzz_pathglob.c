/*
 * Fuzz path globs: the input is a pattern text, a NUL, then NUL-separated
 * names.
 *
 *  - guts_pathglob_fnmatch() of the text against each name is compared
 *    with a naive backtracking matcher written here from the grammar in
 *    guts/pathglob.h (only when the pattern is small enough for it);
 *  - the text is compiled as a list under /b (home /h), and for every name
 *    that makes a clean path /b/<name>: a match must lie under a search
 *    path, and the walk must be allowed into every directory above it
 *    (guts_pathglob_descend()), or upload would miss files.
 *
 * Any disagreement aborts, so the fuzzer finds wrong answers as well as
 * crashes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guts/error.h"
#include "guts/pathglob.h"

#include "banned.h"

#define REF_MAX_SEGS 16

/* One segment, by the grammar, with plain recursion. */
static bool ref_seg(const char *p, const char *s)
{
	if (!*p)
		return !*s;
	if (*p == '*') {
		for (const char *t = s;; t++) {
			if (ref_seg(p + 1, t))
				return true;
			if (!*t)
				return false;
		}
	}
	if (!*s)
		return false;
	if (*p == '?')
		return ref_seg(p + 1, s + 1);
	if (*p == '[') {
		const char *q = p + 1;
		bool neg = false, hit = false, first = true;

		if (*q == '!' || *q == '^') {
			neg = true;
			q++;
		}
		for (;; first = false) {
			unsigned char lo, hi;

			if (!*q)
				goto literal; /* unclosed: an ordinary '[' */
			if (*q == ']' && !first)
				break;
			if (*q == '\\' && q[1])
				q++;
			lo = hi = (unsigned char)*q++;
			if (*q == '-' && q[1] && q[1] != ']') {
				q++;
				if (*q == '\\' && q[1])
					q++;
				hi = (unsigned char)*q++;
			}
			if ((unsigned char)*s >= lo && (unsigned char)*s <= hi)
				hit = true;
		}
		return hit != neg && ref_seg(q + 1, s + 1);
	}
	if (*p == '\\' && p[1])
		return p[1] == *s && ref_seg(p + 2, s + 1);
literal:
	return *p == *s && ref_seg(p + 1, s + 1);
}

static bool ref_segs(char **p, int np, char **s, int ns)
{
	if (np == 0)
		return ns == 0;
	if (!strcmp(p[0], "**")) {
		for (int k = 0; k <= ns; k++) {
			if (ref_segs(p + 1, np - 1, s + k, ns - k))
				return true;
		}
		return false;
	}
	return ns > 0 && ref_seg(p[0], s[0]) &&
	       ref_segs(p + 1, np - 1, s + 1, ns - 1);
}

/* Split at '/', dropping empty segments; -1 when there are too many. */
static int split(char *s, char **segs)
{
	int n = 0;

	for (char *t = strtok_r(s, "/", &s); t; t = strtok_r(NULL, "/", &s)) {
		if (n == REF_MAX_SEGS)
			return -1;
		segs[n++] = t;
	}
	return n;
}

static bool small_enough(const char *p)
{
	int stars = 0, len = 0;

	for (; *p; p++, len++)
		stars += *p == '*';
	return stars <= 6 && len <= 64;
}

static void check_fnmatch(const char *pattern, const char *name)
{
	char *p = strdup(pattern), *s = strdup(name);
	char *ps[REF_MAX_SEGS], *ss[REF_MAX_SEGS];
	int np = split(p, ps), ns = split(s, ss);
	bool got = guts_pathglob_fnmatch(pattern, name);

	if (np >= 0 && ns >= 0 && strlen(name) <= 64 &&
	    ref_segs(ps, np, ss, ns) != got)
		abort();
	free(p);
	free(s);
}

/* Whether /b/<name> is already a normalised path. */
static bool clean(const char *name)
{
	const char *s = name;

	if (!*name || strlen(name) > 200)
		return false;
	for (;;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n == 0 || (n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		if (!e)
			return true;
		s = e + 1;
	}
}

static bool under(const char *p, const char *q)
{
	size_t n = strlen(q);

	if (!strcmp(q, "/"))
		return true;
	return !strncmp(p, q, n) && (p[n] == '\0' || p[n] == '/');
}

static void check_list(const struct guts_pathglob *g, const char *name)
{
	const struct guts_strvec *sp = guts_pathglob_search_paths(g);
	size_t len = strlen(name) + 4;
	char *path, *dir;
	const char *root = NULL;

	if (!clean(name))
		return;
	path = malloc(len);
	memcpy(path, "/b/", 3);
	memcpy(path + 3, name, len - 3);
	if (!guts_pathglob_match(g, path)) {
		free(path);
		return;
	}
	for (size_t i = 0; i < sp->nr; i++) {
		if (under(path, sp->v[i]))
			root = sp->v[i];
	}
	if (!root)
		abort();
	/* Every directory from the search path down leads to the match. */
	dir = strdup(path);
	for (char *slash = strrchr(dir, '/'); slash;
	     slash = strrchr(dir, '/')) {
		*slash = '\0';
		if (strlen(dir) < strlen(root) || !*dir)
			break;
		if (!guts_pathglob_descend(g, dir))
			abort();
	}
	free(dir);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guts_pathglob *g = NULL;
	char *buf = malloc(size + 2);
	bool ref_ok;
	size_t off;

	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	ref_ok = small_enough(buf);
	if (guts_pathglob_compile(&g, buf, "/b", "/h") < 0) {
		if (strncmp(guts_error_message(), "path pattern '", 14) &&
		    strncmp(guts_error_message(), "more than ", 10))
			abort();
		g = NULL;
	}
	off = strlen(buf) + 1;
	while (off <= size) {
		const char *name = buf + off;

		if (ref_ok)
			check_fnmatch(buf, name);
		if (g)
			check_list(g, name);
		off += strlen(name) + 1;
	}
	guts_pathglob_free(g);
	free(buf);
	return 0;
}
