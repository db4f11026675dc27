/*
 * Fuzz filter patterns: the input is a pattern, a NUL, then NUL-separated
 * names.  Every name is matched against the compiled pattern and, when the
 * sizes are small, against a second, deliberately naive matcher written
 * here from the same grammar (memoised recursion on the pattern text); any
 * disagreement aborts, so the fuzzer finds wrong answers as well as crashes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guts/error.h"
#include "guts/filter.h"

#include "banned.h"

#define REF_MAX_ITEMS 64
#define REF_MAX_NAME 256

struct ref_item {
	bool dirs; /* '**' then '/' */
	bool opt, rep;
	bool set[256];
};

struct ref {
	struct ref_item items[REF_MAX_ITEMS];
	int nr;
	const char *name;
	int len;
	int stride;
	/* memo[i * stride + j]: -1 unknown, else whether item i on matches */
	signed char memo[(REF_MAX_ITEMS + 1) * (REF_MAX_NAME + 1)];
};

/* Parse @body the simple way; false when it is too big to compare. */
static bool ref_parse(struct ref *r, const char *body)
{
	size_t i = 0;

	r->nr = 0;
	while (body[i]) {
		struct ref_item *it;
		unsigned char c = (unsigned char)body[i];

		if ((c == '?' || c == '+') && r->nr > 0) {
			it = &r->items[r->nr - 1];
			if (!it->dirs) {
				if (c == '?')
					it->opt = true;
				else
					it->rep = true;
			}
			i++;
			continue;
		}
		if (r->nr == REF_MAX_ITEMS)
			return false;
		it = &r->items[r->nr++];
		memset(it, 0, sizeof(*it));
		if (c == '*' && body[i + 1] == '*' && body[i + 2] == '/') {
			it->dirs = true;
			i += 3;
		} else if (c == '*') {
			bool slash = body[i + 1] == '*';
			int b;

			for (b = 1; b < 256; b++)
				it->set[b] = slash || b != '/';
			it->opt = it->rep = true;
			i += slash ? 2 : 1;
		} else if (c == '[') {
			i++;
			while (body[i] != ']') {
				unsigned char lo = (unsigned char)body[i];

				if (lo == '\\') {
					it->set[(unsigned char)body[i + 1]] =
					    true;
					i += 2;
				} else if (body[i + 1] == '-' &&
					   body[i + 2] != ']') {
					int b;

					for (b = lo;
					     b <= (unsigned char)body[i + 2];
					     b++)
						it->set[b] = true;
					i += 3;
				} else {
					it->set[lo] = true;
					i++;
				}
			}
			i++;
		} else {
			if (c == '\\')
				c = (unsigned char)body[++i];
			it->set[c] = true;
			i++;
		}
	}
	return true;
}

static bool ref_match(struct ref *r, int i, int j)
{
	const struct ref_item *it;
	bool ok = false;
	int k;

	if (i == r->nr)
		return j == r->len;
	if (r->memo[i * r->stride + j] >= 0)
		return r->memo[i * r->stride + j];
	it = &r->items[i];
	if (it->dirs) {
		ok = ref_match(r, i + 1, j);
		for (k = j; !ok && k < r->len; k++) {
			if (r->name[k] == '/')
				ok = ref_match(r, i + 1, k + 1);
		}
	} else {
		for (k = 0;; k++) {
			if ((k >= 1 || it->opt) && ref_match(r, i + 1, j + k)) {
				ok = true;
				break;
			}
			if ((k >= 1 && !it->rep) || j + k >= r->len ||
			    !it->set[(unsigned char)r->name[j + k]])
				break;
		}
	}
	r->memo[i * r->stride + j] = (signed char)ok;
	return ok;
}

static struct ref ref;

static void check_name(const struct guts_filter_pattern *p,
		       const struct guts_filter_list *l, bool ref_ok,
		       const char *name)
{
	bool got = guts_filter_pattern_match(p, name);
	size_t len = strlen(name);

	if (ref_ok && len <= REF_MAX_NAME) {
		ref.name = name;
		ref.len = (int)len;
		ref.stride = (int)len + 1;
		memset(ref.memo, -1, (size_t)(ref.nr + 1) * (len + 1));
		if (ref_match(&ref, 0, 0) != got)
			abort();
	}
	/* A one-pattern list agrees with the pattern and its negation. */
	got = got && !guts_filter_pattern_is_negated(p);
	if (guts_filter_list_match(l, name) != got)
		abort();
	if (guts_filter_refs(NULL, l, name) == got)
		abort();
	if (guts_filter_paths(l, NULL, &name, 1) != got)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guts_filter_pattern *p = NULL;
	struct guts_filter_list *l = NULL;
	char *buf = malloc(size + 2);
	const char *name, *src;
	size_t off;
	bool ref_ok;

	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	if (guts_filter_pattern_compile(&p, buf) < 0) {
		/* A refusal always explains itself. */
		if (strncmp(guts_error_message(), "invalid filter pattern '",
			    24) != 0)
			abort();
		free(buf);
		return 0;
	}
	if (strcmp(guts_filter_pattern_source(p), buf) != 0)
		abort();
	ref_ok = ref_parse(&ref, buf + guts_filter_pattern_is_negated(p));
	src = buf;
	if (guts_filter_list_compile(&l, &src, 1, 0, NULL) < 0)
		abort();

	off = strlen(buf) + 1;
	if (off > size) {
		/* No names: match the pattern against its own text. */
		check_name(p, l, ref_ok, buf);
	}
	while (off <= size) {
		name = buf + off;
		check_name(p, l, ref_ok, name);
		off += strlen(name) + 1;
	}
	guts_filter_list_free(l);
	guts_filter_pattern_free(p);
	free(buf);
	return 0;
}
