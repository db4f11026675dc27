/* Pure helpers for REST API clients (include/guts/apiutil.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "guts/apiutil.h"
#include "guts/error.h"
#include "banned.h"

static int is_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9');
}

static int name_ok(const char *s, size_t n)
{
	if (n < 1 || n > 100 || !is_alnum(s[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' &&
		    s[i] != '-')
			return 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '.' && s[i + 1] == '.')
			return 0;
	return !(n >= 4 && !strncasecmp(s + n - 4, ".git", 4));
}

int guts_api_valid_name(const char *s)
{
	return name_ok(s, strlen(s));
}

int guts_api_split_repo(const char *s, char **owner, char **name)
{
	const char *slash = strchr(s, '/');

	if (!slash || !name_ok(s, (size_t)(slash - s)) ||
	    !guts_api_valid_name(slash + 1))
		return guts_error(GUTS_EINVAL,
				  "'%s' is not a repository: want OWNER/NAME",
				  s);
	*owner = guts_xstrndup(s, (size_t)(slash - s));
	*name = guts_xstrdup(slash + 1);
	return 0;
}

char *guts_api_repo_from_remote(const char *url)
{
	const char *path = url, *scheme = strstr(url, "://");
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
	const char *end, *name, *owner;
	size_t nlen, olen;

	if (scheme) {
		/* scheme://[user@]host[:port]/path */
		path = strchr(scheme + 3, '/');
		if (!path)
			return NULL;
	} else if (colon && (!slash || colon < slash)) {
		/* scp syntax, [user@]host:path */
		path = colon + 1;
	}
	end = path + strlen(path);
	while (end > path && end[-1] == '/')
		end--;
	if (end - path > 4 && !strncmp(end - 4, ".git", 4))
		end -= 4;
	for (name = end; name > path && name[-1] != '/'; name--)
		;
	nlen = (size_t)(end - name);
	if (name == path)
		return NULL;
	owner = name - 1;
	while (owner > path && owner[-1] == '/')
		owner--;
	end = owner;
	for (owner = end; owner > path && owner[-1] != '/'; owner--)
		;
	olen = (size_t)(end - owner);
	if (!name_ok(owner, olen) || !name_ok(name, nlen))
		return NULL;
	return guts_xasprintf("%.*s/%.*s", (int)olen, owner, (int)nlen, name);
}

/* ---- times --------------------------------------------------------------- */

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int guts_api_parse_time(const char *s, time_t *out)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	const char *p = s;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	long long t;

	if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d) ||
	    (*p != 'T' && *p != 't' && *p != ' '))
		goto bad;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &sec))
		goto bad;
	if (*p == '.' || *p == ',') {
		p++;
		if (*p < '0' || *p > '9')
			goto bad;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			goto bad;
	} else {
		goto bad;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 60)
		goto bad;
	t = days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + sec;
	t -= sign * (oh * 3600LL + om * 60LL);
	*out = (time_t)t;
	return 0;
bad:
	return guts_error(GUTS_EINVAL, "'%s' is not an RFC 3339 time",
			  s ? s : "(null)");
}

void guts_api_format_ago(char *buf, size_t size, time_t now, time_t then)
{
	long long d = (long long)now - (long long)then;
	struct tm tm;

	if (d < 0)
		d = 0;
	if (d < 60)
		snprintf(buf, size, "%llds ago", d);
	else if (d < 3600)
		snprintf(buf, size, "%lldm ago", d / 60);
	else if (d < 86400)
		snprintf(buf, size, "%lldh ago", d / 3600);
	else if (d < 30 * 86400)
		snprintf(buf, size, "%lldd ago", d / 86400);
	else if (gmtime_r(&then, &tm))
		snprintf(buf, size, "%04d-%02d-%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday);
	else
		snprintf(buf, size, "long ago");
}

void guts_api_format_duration(char *buf, size_t size, long long secs)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(buf, size, "%llds", secs);
	else if (secs < 3600)
		snprintf(buf, size, "%lldm %llds", secs / 60, secs % 60);
	else
		snprintf(buf, size, "%lldh %lldm", secs / 3600, secs / 60 % 60);
}

/* ---- pagination links ---------------------------------------------------- */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Whether the rel value @v (@n bytes, a space-separated list) has "next". */
static int rel_has_next(const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && v[j] != ' ')
			j++;
		if (j - i == 4 && !strncasecmp(v + i, "next", 4))
			return 1;
		i = j + 1;
	}
	return 0;
}

char *guts_api_link_next(const char *link)
{
	const char *p = link;

	while (p && *p) {
		const char *uri, *uri_end;
		int next = 0;

		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '<')
			return NULL;
		uri = p + 1;
		uri_end = strchr(uri, '>');
		if (!uri_end)
			return NULL;
		p = uri_end + 1;
		/* Parameters: ; name=value or ; name="value" */
		for (;;) {
			const char *name, *v;
			size_t nlen, vlen;

			p = skip_ws(p);
			if (*p != ';')
				break;
			name = p = skip_ws(p + 1);
			while (*p && *p != '=' && *p != ';' && *p != ',' &&
			       *p != ' ')
				p++;
			nlen = (size_t)(p - name);
			p = skip_ws(p);
			if (*p != '=')
				continue;
			p = skip_ws(p + 1);
			if (*p == '"') {
				v = ++p;
				while (*p && *p != '"')
					p++;
				vlen = (size_t)(p - v);
				if (*p)
					p++;
			} else {
				v = p;
				while (*p && *p != ';' && *p != ',' &&
				       *p != ' ')
					p++;
				vlen = (size_t)(p - v);
			}
			if (nlen == 3 && !strncasecmp(name, "rel", 3) &&
			    rel_has_next(v, vlen))
				next = 1;
		}
		if (next)
			return guts_xstrndup(uri, (size_t)(uri_end - uri));
		p = skip_ws(p);
		if (*p && *p != ',')
			return NULL;
	}
	return NULL;
}

char *guts_api_link_path(const char *target, const char *base, const char *cur)
{
	size_t blen = strlen(base);
	const char *scheme;

	while (blen && base[blen - 1] == '/')
		blen--;
	if (target[0] == '/' && target[1] != '/')
		return guts_xstrdup(target);
	if (target[0] == '?' && cur) {
		size_t n = strcspn(cur, "?#");

		return guts_xasprintf("%.*s%s", (int)n, cur, target);
	}
	if (blen && !strncmp(target, base, blen) && target[blen] == '/')
		return guts_xstrdup(target + blen);
	scheme = strstr(target, "://");
	if (scheme && (!strncasecmp(target, "http://", 7) ||
		       !strncasecmp(target, "https://", 8))) {
		const char *path = strchr(scheme + 3, '/');

		return path ? guts_xstrdup(path) : NULL;
	}
	return NULL;
}

/* ---- tables -------------------------------------------------------------- */

char *guts_api_printable(const char *s)
{
	char *out;
	unsigned char *p;

	out = guts_xstrdup(s ? s : "");
	for (p = (unsigned char *)out; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			*p = ' ';
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* U+0080..U+009F: two spaces keep the length. */
			p[0] = p[1] = ' ';
			p++;
		}
	}
	return out;
}

/* Width in UTF-8 characters: every byte that does not continue one. */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

void guts_table_init(struct guts_table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols ? ncols : 1;
}

void guts_table_release(struct guts_table *t)
{
	for (size_t i = 0; i < t->nr; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void guts_table_add(struct guts_table *t, const char *cell)
{
	GUTS_ALLOC_GROW(t->cells, t->nr + 1, t->alloc);
	t->cells[t->nr++] = guts_api_printable(cell && *cell ? cell : "-");
}

void guts_table_addf(struct guts_table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = guts_xvasprintf(fmt, ap);
	va_end(ap);
	guts_table_add(t, s);
	free(s);
}

void guts_table_render(const struct guts_table *t, struct guts_buf *out,
		       const char *indent)
{
	size_t *width = guts_xcalloc(t->ncols, sizeof(*width));

	for (size_t i = 0; i < t->nr; i++) {
		size_t w = text_width(t->cells[i]);

		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	for (size_t i = 0; i < t->nr; i++) {
		size_t col = i % t->ncols;
		int last = col + 1 == t->ncols || i + 1 == t->nr;

		if (col == 0)
			guts_buf_adds(out, indent ? indent : "");
		guts_buf_adds(out, t->cells[i]);
		if (last) {
			guts_buf_addch(out, '\n');
			continue;
		}
		for (size_t w = text_width(t->cells[i]); w < width[col] + 2;
		     w++)
			guts_buf_addch(out, ' ');
	}
	free(width);
}

void guts_term_filter(struct guts_term_filter *f, const char *in, size_t len,
		      struct guts_buf *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (f->state == 1) {
			/* ESC [ starts what may be a colour; any other
			 * escape (titles, cursor moves, OSC) is dropped. */
			f->state = c == '[' ? 2 : 0;
			f->np = 0;
			continue;
		}
		if (f->state == 2) {
			if (((c >= '0' && c <= '9') || c == ';' || c == ':') &&
			    f->np < sizeof(f->pend)) {
				f->pend[f->np++] = (char)c;
				continue;
			}
			if (c == 'm') {
				guts_buf_add(out, "\033[", 2);
				guts_buf_add(out, f->pend, f->np);
				guts_buf_addch(out, 'm');
			}
			f->state = 0;
			continue;
		}
		if (c == 0x1b) {
			f->state = 1;
			continue;
		}
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			continue;
		guts_buf_addch(out, (char)c);
	}
}
