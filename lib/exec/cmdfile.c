/* Environment files and workflow commands (see guts/cmdfile.h). */
#include "guts/cmdfile.h"

#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "banned.h"

/* The next line of [*pos, end), without "\n" or "\r\n"; 0 at the end. */
static int next_line(const char *text, size_t len, size_t *pos,
		     const char **line, size_t *llen)
{
	const char *s, *nl;
	size_t n;

	if (*pos >= len)
		return 0;
	s = text + *pos;
	nl = memchr(s, '\n', len - *pos);
	n = nl ? (size_t)(nl - s) : len - *pos;
	*pos += n + (nl ? 1 : 0);
	if (n && s[n - 1] == '\r')
		n--;
	*line = s;
	*llen = n;
	return 1;
}

int guts_envfile_parse(const char *text, size_t len, guts_envfile_fn fn,
		       void *ud)
{
	struct guts_buf value;
	size_t pos = 0, lineno = 0, llen;
	const char *line;
	int rc = 0;

	guts_buf_init(&value, 0);
	while (next_line(text, len, &pos, &line, &llen)) {
		const char *eq = memchr(line, '=', llen);
		const char *hd = llen >= 2 ? memmem(line, llen, "<<", 2) : NULL;
		char *name;

		lineno++;
		if (!llen)
			continue;
		if (memchr(line, '\0',
			   (size_t)((eq && (!hd || eq < hd) ? eq
				     : hd		    ? hd
							    : line + llen) -
				    line))) {
			rc = guts_error(GUTS_EINVAL,
					"line %zu: a NUL byte in a name",
					lineno);
			break;
		}
		/* Whichever comes first decides: a=b<<c is a plain value. */
		if (eq && (!hd || eq < hd)) {
			if (eq == line) {
				rc = guts_error(
				    GUTS_EINVAL,
				    "line %zu: empty name before '='", lineno);
				break;
			}
			name = guts_xstrndup(line, (size_t)(eq - line));
			rc = fn(name, eq + 1, llen - (size_t)(eq + 1 - line),
				ud);
			free(name);
			if (rc)
				break;
			continue;
		}
		if (!hd) {
			rc = guts_error(GUTS_EINVAL,
					"line %zu: expected NAME=value or "
					"NAME<<DELIMITER, got '%.*s'",
					lineno, (int)(llen > 60 ? 60 : llen),
					line);
			break;
		}
		{
			const char *delim = hd + 2;
			size_t dlen = llen - (size_t)(delim - line);
			size_t start = lineno, vl;
			const char *v;
			int found = 0, first = 1;

			if (hd == line || !dlen) {
				rc = guts_error(GUTS_EINVAL,
						"line %zu: a heredoc needs "
						"NAME<<DELIMITER",
						lineno);
				break;
			}
			guts_buf_reset(&value);
			while (next_line(text, len, &pos, &v, &vl)) {
				lineno++;
				if (vl == dlen && !memcmp(v, delim, dlen)) {
					found = 1;
					break;
				}
				if (!first)
					guts_buf_addch(&value, '\n');
				guts_buf_add(&value, v, vl);
				first = 0;
			}
			if (!found) {
				rc = guts_error(
				    GUTS_EINVAL,
				    "line %zu: the delimiter "
				    "'%.*s' that ends this "
				    "heredoc never comes",
				    start, (int)(dlen > 60 ? 60 : dlen), delim);
				break;
			}
			name = guts_xstrndup(line, (size_t)(hd - line));
			rc = fn(name, value.data, value.len, ud);
			free(name);
			if (rc)
				break;
		}
	}
	guts_buf_release(&value);
	return rc;
}

/* Undo GitHub's escapes; @prop also undoes %3A and %2C. */
static char *unescape(const char *s, size_t len, int prop, size_t *out_len)
{
	struct guts_buf b;

	guts_buf_init(&b, 0);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 3 <= len) {
			char c = 0;

			if (!memcmp(s + i, "%25", 3))
				c = '%';
			else if (!memcmp(s + i, "%0D", 3))
				c = '\r';
			else if (!memcmp(s + i, "%0A", 3))
				c = '\n';
			else if (prop && !memcmp(s + i, "%3A", 3))
				c = ':';
			else if (prop && !memcmp(s + i, "%2C", 3))
				c = ',';
			if (c) {
				guts_buf_addch(&b, c);
				i += 2;
				continue;
			}
		}
		guts_buf_addch(&b, s[i]);
	}
	return guts_buf_detach(&b, out_len);
}

int guts_wfcmd_parse(struct guts_wfcmd *cmd, const char *line, size_t len)
{
	const char *end = line + len, *name, *p, *sep;
	size_t nlen;

	memset(cmd, 0, sizeof(*cmd));
	/* Leading blanks are allowed, as the runner trims them. */
	while (line < end && (*line == ' ' || *line == '\t'))
		line++;
	if (end - line < 4 || line[0] != ':' || line[1] != ':')
		return 0;
	name = line + 2;
	sep = memmem(name, (size_t)(end - name), "::", 2);
	if (!sep)
		return 0;
	for (p = name; p < sep && *p != ' '; p++)
		;
	nlen = (size_t)(p - name);
	if (!nlen)
		return 0;
	for (size_t i = 0; i < nlen; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	cmd->name = guts_xstrndup(name, nlen);
	/* Properties: key=value pairs separated by commas. */
	for (p++; p < sep;) {
		const char *comma = memchr(p, ',', (size_t)(sep - p));
		const char *pe = comma ? comma : sep;
		const char *eq = memchr(p, '=', (size_t)(pe - p));

		if (eq && eq > p) {
			struct guts_wfcmd_prop *pr;
			const char *k = p;
			size_t klen = (size_t)(eq - p);

			while (klen && (*k == ' ')) {
				k++;
				klen--;
			}
			cmd->props = guts_xreallocarray(
			    cmd->props, cmd->nr_props + 1, sizeof(*cmd->props));
			pr = &cmd->props[cmd->nr_props++];
			pr->key = guts_xstrndup(k, klen);
			pr->value =
			    unescape(eq + 1, (size_t)(pe - eq - 1), 1, NULL);
		}
		p = comma ? comma + 1 : sep;
	}
	cmd->message =
	    unescape(sep + 2, (size_t)(end - sep - 2), 0, &cmd->message_len);
	return 1;
}

void guts_wfcmd_release(struct guts_wfcmd *cmd)
{
	free(cmd->name);
	for (size_t i = 0; i < cmd->nr_props; i++) {
		free(cmd->props[i].key);
		free(cmd->props[i].value);
	}
	free(cmd->props);
	free(cmd->message);
	memset(cmd, 0, sizeof(*cmd));
}

const char *guts_wfcmd_prop(const struct guts_wfcmd *cmd, const char *key)
{
	for (size_t i = 0; i < cmd->nr_props; i++)
		if (!strcmp(cmd->props[i].key, key))
			return cmd->props[i].value;
	return NULL;
}
