/*
 * Dotenv files (see guts/dotenv.h).  One pass over the text: each entry's
 * value is built in one buffer, with escapes and $VAR expansion applied as
 * it is read, then handed to the callback and remembered for later
 * expansions.  The values of a file are capped together, so a chain of
 * entries that each double the one before cannot exhaust memory.
 */
#include "guts/dotenv.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "banned.h"

struct dotenv {
	const char *s, *end;
	size_t line;  /* of s, 1-based */
	json_t *vars; /* the keys so far: name -> value */
	size_t total; /* bytes of values so far */
	struct guts_buf val;
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_key_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-';
}

/* The names $NAME expands, as in godotenv: upper case, digits, '_'. */
static int is_var_char(char c)
{
	return (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
}

static int at_line_end(const struct dotenv *d)
{
	return d->s == d->end || *d->s == '\n' || *d->s == '\r';
}

static void skip_to_line_end(struct dotenv *d)
{
	while (!at_line_end(d))
		d->s++;
}

static int add(struct dotenv *d, const char *p, size_t n)
{
	if (n > GUTS_DOTENV_MAX_VALUE_BYTES - d->total - d->val.len)
		return guts_error(GUTS_ETOOBIG,
				  "line %zu: the values of this file are "
				  "longer than %d bytes after expansion",
				  d->line, GUTS_DOTENV_MAX_VALUE_BYTES);
	guts_buf_add(&d->val, p, n);
	return 0;
}

/*
 * At a '$': append what it expands to and step past it.  $NAME and ${NAME}
 * are the value of an earlier key ("" when there is none); any other '$' is
 * itself.  @stop bounds the reference (the end of an unquoted value).
 */
static int expand(struct dotenv *d, const char *stop)
{
	const char *p = d->s + 1, *name;
	int brace = p < stop && *p == '{';
	json_t *v;
	char *key;

	p += brace;
	name = p;
	while (p < stop && is_var_char(*p))
		p++;
	if (p == name || (brace && (p == stop || *p != '}'))) {
		d->s++;
		return add(d, "$", 1);
	}
	d->s = p + brace;
	key = guts_xstrndup(name, (size_t)(p - name));
	v = json_object_get(d->vars, key);
	free(key);
	return v ? add(d, json_string_value(v), json_string_length(v)) : 0;
}

/* A printable rendering of byte @c for messages. */
static const char *show(char c, char buf[8])
{
	if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
		snprintf(buf, 8, "%c", c);
	else
		snprintf(buf, 8, "\\x%02x", (unsigned char)c);
	return buf;
}

static int read_double_quoted(struct dotenv *d, size_t start_line)
{
	int rc = 0;

	for (d->s++; d->s < d->end && rc == 0;) {
		const char *p = d->s;
		char e;

		/* A run of plain characters at once. */
		while (p < d->end && *p != '"' && *p != '$' && *p != '\\' &&
		       *p != '\r' && *p != '\n')
			p++;
		if (p > d->s) {
			rc = add(d, d->s, (size_t)(p - d->s));
			d->s = p;
			continue;
		}
		switch (*p) {
		case '"':
			d->s++;
			return 0;
		case '$':
			rc = expand(d, d->end);
			break;
		case '\r':
			/* CRLF inside the quotes is a newline. */
			d->s++;
			if (d->s == d->end || *d->s != '\n')
				rc = add(d, "\r", 1);
			break;
		case '\n':
			d->line++;
			d->s++;
			rc = add(d, "\n", 1);
			break;
		default: /* a backslash */
			if (p + 1 == d->end) {
				d->s++;
				break;
			}
			e = p[1];
			d->s += 2;
			d->line += e == '\n';
			if (e == 'n')
				e = '\n';
			else if (e == 'r')
				e = '\r';
			else if (e == 't')
				e = '\t';
			rc = add(d, &e, 1);
			break;
		}
	}
	if (rc < 0)
		return rc;
	return guts_error(GUTS_EINVAL,
			  "line %zu: the double-quoted value has no closing "
			  "quote",
			  start_line);
}

static int read_single_quoted(struct dotenv *d, size_t start_line)
{
	int rc = 0;

	for (d->s++; d->s < d->end && rc == 0;) {
		const char *p = d->s;

		while (p < d->end && *p != '\'' && *p != '\r' && *p != '\n')
			p++;
		if (p > d->s) {
			rc = add(d, d->s, (size_t)(p - d->s));
			d->s = p;
			continue;
		}
		d->s++;
		if (*p == '\'')
			return 0;
		if (*p == '\n') {
			d->line++;
			rc = add(d, "\n", 1);
		} else if (d->s == d->end || *d->s != '\n') {
			rc = add(d, "\r", 1); /* but CRLF is a newline */
		}
	}
	if (rc < 0)
		return rc;
	return guts_error(GUTS_EINVAL,
			  "line %zu: the single-quoted value has no closing "
			  "quote",
			  start_line);
}

static int read_unquoted(struct dotenv *d)
{
	const char *eol = d->s, *stop;
	int rc = 0;

	while (eol < d->end && *eol != '\n' && *eol != '\r')
		eol++;
	/* The comment starts at the first '#' after a blank. */
	for (stop = d->s; stop < eol; stop++)
		if (*stop == '#' && stop > d->s && is_blank(stop[-1]))
			break;
	while (stop > d->s && is_blank(stop[-1]))
		stop--;
	while (d->s < stop && rc == 0) {
		const char *p = d->s;

		while (p < stop && *p != '$' && *p != '\\')
			p++;
		if (p > d->s) {
			rc = add(d, d->s, (size_t)(p - d->s));
			d->s = p;
		} else if (*p == '$') {
			rc = expand(d, stop);
		} else if (p + 1 < stop && p[1] == '$') {
			d->s += 2; /* \$ is a literal $ */
			rc = add(d, "$", 1);
		} else {
			d->s++;
			rc = add(d, "\\", 1);
		}
	}
	d->s = eol;
	return rc;
}

/* After a closing quote: blanks, then maybe a comment, then the line end. */
static int after_quote(struct dotenv *d)
{
	char buf[8];

	while (d->s < d->end && is_blank(*d->s))
		d->s++;
	if (d->s < d->end && *d->s == '#')
		skip_to_line_end(d);
	if (at_line_end(d))
		return 0;
	return guts_error(GUTS_EINVAL,
			  "line %zu: unexpected '%s' after the closing quote; "
			  "only a # comment may follow",
			  d->line, show(*d->s, buf));
}

static int read_key(struct dotenv *d, char **key)
{
	const char *k;
	char buf[8];

	/* "export KEY=..." as in a shell script. */
	if (d->end - d->s > 6 && !memcmp(d->s, "export", 6) &&
	    is_blank(d->s[6])) {
		const char *p = d->s + 6;

		while (p < d->end && is_blank(*p))
			p++;
		if (p < d->end && is_key_char(*p))
			d->s = p;
	}
	k = d->s;
	while (d->s < d->end && is_key_char(*d->s))
		d->s++;
	if (d->s == k && !at_line_end(d) && (*d->s == '=' || *d->s == ':'))
		return guts_error(GUTS_EINVAL,
				  "line %zu: empty key before '%c'", d->line,
				  *d->s);
	if (d->s == k)
		return guts_error(GUTS_EINVAL,
				  "line %zu: a key cannot start with '%s'; "
				  "keys match [A-Za-z_][A-Za-z0-9_.-]*",
				  d->line, show(*d->s, buf));
	if (!is_alpha(*k) && *k != '_')
		return guts_error(GUTS_EINVAL,
				  "line %zu: invalid key '%.*s': keys start "
				  "with a letter or '_'",
				  d->line, (int)(d->s - k > 60 ? 60 : d->s - k),
				  k);
	*key = guts_xstrndup(k, (size_t)(d->s - k));
	while (d->s < d->end && is_blank(*d->s))
		d->s++;
	if (!at_line_end(d) && (*d->s == '=' || *d->s == ':')) {
		d->s++;
		return 0;
	}
	if (at_line_end(d))
		guts_error(GUTS_EINVAL,
			   "line %zu: expected '=' after the key '%s'", d->line,
			   *key);
	else
		guts_error(GUTS_EINVAL,
			   "line %zu: unexpected '%s' in the key '%s'; keys "
			   "match [A-Za-z_][A-Za-z0-9_.-]*",
			   d->line, show(*d->s, buf), *key);
	free(*key);
	*key = NULL;
	return GUTS_EINVAL;
}

/* A YAML document marker line, which godotenv skips. */
static int at_marker(const struct dotenv *d)
{
	return d->end - d->s >= 3 && !memcmp(d->s, "---", 3) &&
	       (d->end - d->s == 3 || d->s[3] == '\n' || d->s[3] == '\r');
}

/* Skip blank lines, comments and markers; 0 at the end of the text. */
static int next_entry(struct dotenv *d)
{
	while (d->s < d->end) {
		if (*d->s == '\n') {
			d->line++;
			d->s++;
		} else if (is_blank(*d->s) || *d->s == '\r') {
			d->s++;
		} else if (*d->s == '#') {
			skip_to_line_end(d);
		} else if (at_marker(d)) {
			d->s += 3;
		} else {
			return 1;
		}
	}
	return 0;
}

int guts_dotenv_parse(const char *text, size_t len, guts_dotenv_fn fn, void *ud)
{
	struct dotenv d = {text,	  text + len, 1,
			   json_object(), 0,	      GUTS_BUF_INIT};
	char *key = NULL;
	int rc = 0;

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		d.s += 3;
	guts_buf_init(&d.val, 0);
	while (next_entry(&d)) {
		rc = read_key(&d, &key);
		if (rc < 0)
			break;
		while (d.s < d.end && is_blank(*d.s))
			d.s++;
		guts_buf_reset(&d.val);
		if (d.s < d.end && (*d.s == '"' || *d.s == '\'')) {
			rc = *d.s == '"' ? read_double_quoted(&d, d.line)
					 : read_single_quoted(&d, d.line);
			if (rc == 0)
				rc = after_quote(&d);
		} else {
			rc = read_unquoted(&d);
		}
		if (rc < 0)
			break;
		d.total += d.val.len;
		json_object_set_new(
		    d.vars, key, json_stringn_nocheck(d.val.data, d.val.len));
		rc = fn(key, d.val.data, d.val.len, ud);
		free(key);
		key = NULL;
		if (rc)
			break;
	}
	free(key);
	guts_buf_release(&d.val);
	json_decref(d.vars);
	return rc;
}
