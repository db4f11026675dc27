/*
 * Built-in actions: finding one by name, and what they share for reading
 * inputs, logging and paths (see guts/builtin.h and builtin_internal.h).
 */
#include "guts/builtin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "builtin_internal.h"
#include "banned.h"

enum which {
	B_NONE,
	B_CHECKOUT,
	B_UPLOAD,
	B_DOWNLOAD,
	B_CACHE,
	B_CACHE_RESTORE,
	B_CACHE_SAVE,
};

/*
 * "checkout", or GitHub's "actions/checkout@v4" (any ref: the inputs of
 * v2 to v4 are compatible enough).  Owner and repository names are
 * case-insensitive on GitHub, so they are here.
 */
static enum which lookup(const char *name)
{
	static const struct {
		const char *name;
		enum which w;
	} table[] = {
	    {"checkout", B_CHECKOUT},		{"upload-artifact", B_UPLOAD},
	    {"download-artifact", B_DOWNLOAD},	{"cache", B_CACHE},
	    {"cache/restore", B_CACHE_RESTORE}, {"cache/save", B_CACHE_SAVE},
	};
	const char *at;
	size_t len;

	if (!name)
		return B_NONE;
	if (!strncasecmp(name, "actions/", 8))
		name += 8;
	at = strchr(name, '@');
	len = at ? (size_t)(at - name) : strlen(name);
	if (at && !at[1])
		return B_NONE;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strlen(table[i].name) == len &&
		    !strncasecmp(table[i].name, name, len))
			return table[i].w;
	}
	return B_NONE;
}

static int check_ctx(const struct guts_builtin_ctx *ctx, const char *name)
{
	if (!ctx || !ctx->workspace || ctx->workspace[0] != '/')
		return guts_error(GUTS_EINVAL,
				  "%s: the workspace must be an absolute path",
				  name);
	if (ctx->home && ctx->home[0] != '/')
		return guts_error(
		    GUTS_EINVAL, "%s: the home must be an absolute path", name);
	return 0;
}

int guts_builtin_run(const char *name, const json_t *with,
		     const struct guts_builtin_ctx *ctx, json_t *outputs,
		     json_t **state)
{
	enum which w = lookup(name);
	int rc;

	if (w == B_NONE)
		return guts_error(GUTS_ENOTFOUND,
				  "'%s' is not a built-in action",
				  name ? name : "(null)");
	rc = check_ctx(ctx, name);
	if (rc < 0)
		return rc;
	if (with && !json_is_object(with))
		return guts_error(GUTS_EINVAL, "%s: 'with' must be a mapping",
				  name);
	switch (w) {
	case B_CHECKOUT:
		return guts__checkout_run(with, ctx, outputs);
	case B_UPLOAD:
		return guts__upload_artifact_run(with, ctx, outputs);
	case B_DOWNLOAD:
		return guts__download_artifact_run(with, ctx, outputs);
	case B_CACHE:
		return guts__cache_run(GUTS__CACHE_BOTH, with, ctx, outputs,
				       state);
	case B_CACHE_RESTORE:
		return guts__cache_run(GUTS__CACHE_RESTORE, with, ctx, outputs,
				       state);
	case B_CACHE_SAVE:
		return guts__cache_run(GUTS__CACHE_SAVE, with, ctx, outputs,
				       state);
	case B_NONE:
		break;
	}
	return guts_error(GUTS_ENOTFOUND, "'%s' is not a built-in action",
			  name);
}

int guts_builtin_post(const char *name, const json_t *with,
		      const struct guts_builtin_ctx *ctx, json_t *state,
		      int job_succeeded)
{
	enum which w = lookup(name);
	int rc;

	if (w == B_NONE)
		return guts_error(GUTS_ENOTFOUND,
				  "'%s' is not a built-in action",
				  name ? name : "(null)");
	if (w != B_CACHE)
		return 0;
	rc = check_ctx(ctx, name);
	if (rc < 0)
		return rc;
	return guts__cache_post(with, ctx, state, job_succeeded);
}

int guts_builtin_has_post(const char *name)
{
	return lookup(name) == B_CACHE;
}

/* ---- inputs ------------------------------------------------------- */

static int in_list(const char *const *list, const char *name)
{
	for (; list && *list; list++) {
		if (!strcmp(*list, name))
			return 1;
	}
	return 0;
}

int guts__inputs_init(struct guts__inputs *in, const char *action,
		      const json_t *with, const struct guts_builtin_ctx *ctx,
		      const char *const *known, const char *const *ignored)
{
	const char *key;
	json_t *v;

	in->action = action;
	in->values = json_object();
	if (!with)
		return 0;
	json_object_foreach((json_t *)with, key, v) {
		char *lower = guts_xstrdup(key), *text = NULL;
		const char *s, *e;

		/* Input names are case-insensitive, as on GitHub. */
		for (char *c = lower; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		if (json_is_string(v))
			text = guts_xstrdup(json_string_value(v));
		else if (json_is_true(v))
			text = guts_xstrdup("true");
		else if (json_is_false(v))
			text = guts_xstrdup("false");
		else if (json_is_integer(v))
			text = guts_xasprintf("%lld",
					      (long long)json_integer_value(v));
		else if (json_is_real(v))
			text = guts_xasprintf("%.17g", json_real_value(v));
		else if (!json_is_null(v)) {
			free(lower);
			guts__inputs_release(in);
			return guts_error(GUTS_EINVAL,
					  "%s: input '%s' must be a string",
					  action, key);
		}
		if (!in_list(known, lower)) {
			if (in_list(ignored, lower))
				guts__log(ctx, "%s: input '%s' is ignored here",
					  action, lower);
			else
				guts__log(ctx,
					  "warning: %s: unexpected input '%s' "
					  "(ignored)",
					  action, key);
		}
		if (text) {
			/* core.getInput() trims. */
			s = text;
			while (*s == ' ' || *s == '\t' || *s == '\n' ||
			       *s == '\r')
				s++;
			e = s + strlen(s);
			while (e > s && (e[-1] == ' ' || e[-1] == '\t' ||
					 e[-1] == '\n' || e[-1] == '\r'))
				e--;
			json_object_set_new(in->values, lower,
					    json_stringn(s, (size_t)(e - s)));
		}
		free(text);
		free(lower);
	}
	return 0;
}

void guts__inputs_release(struct guts__inputs *in)
{
	json_decref(in->values);
	in->values = NULL;
}

const char *guts__input(const struct guts__inputs *in, const char *name)
{
	const char *s = json_string_value(json_object_get(in->values, name));

	return s && *s ? s : NULL;
}

int guts__input_bool(const struct guts__inputs *in, const char *name, int def,
		     int *out)
{
	const char *s = guts__input(in, name);

	if (!s)
		*out = def;
	else if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		*out = 1;
	else if (!strcmp(s, "false") || !strcmp(s, "False") ||
		 !strcmp(s, "FALSE"))
		*out = 0;
	else
		return guts_error(GUTS_EINVAL,
				  "%s: input '%s' must be true or false, got "
				  "'%.100s'",
				  in->action, name, s);
	return 0;
}

void guts__input_lines(const struct guts__inputs *in, const char *name,
		       struct guts_strvec *out)
{
	const char *s = guts__input(in, name);

	while (s && *s) {
		const char *e = strchr(s, '\n'), *b = s, *end;

		end = e ? e : s + strlen(s);
		s = e ? e + 1 : end;
		while (b < end && (*b == ' ' || *b == '\t' || *b == '\r'))
			b++;
		while (end > b &&
		       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if (end > b)
			guts_strvec_push_nodup(
			    out, guts_xstrndup(b, (size_t)(end - b)));
	}
}

/* ---- errors and logging ------------------------------------------- */

void guts__log(const struct guts_builtin_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *line;

	if (!ctx || !ctx->log)
		return;
	va_start(ap, fmt);
	line = guts_xvasprintf(fmt, ap);
	va_end(ap);
	ctx->log(ctx->log_ud, line);
	free(line);
}

/* ---- paths -------------------------------------------------------- */

char *guts__path_normalize(const char *path)
{
	struct guts_buf b = GUTS_BUF_INIT;
	const char *s = path;

	guts_buf_init(&b, 0);
	while (*s) {
		const char *e;
		size_t n;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchr(s, '/');
		n = e ? (size_t)(e - s) : strlen(s);
		if (n == 1 && s[0] == '.') {
			/* nothing */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			char *slash = strrchr(b.data, '/');

			guts_buf_truncate(&b,
					  slash ? (size_t)(slash - b.data) : 0);
		} else {
			guts_buf_addch(&b, '/');
			guts_buf_add(&b, s, n);
		}
		s += n;
	}
	if (!b.len)
		guts_buf_addch(&b, '/');
	return guts_buf_detach(&b, NULL);
}

int guts__path_under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return path[0] == '/';
	return !strncmp(path, root, n) && (path[n] == '\0' || path[n] == '/');
}

int guts__resolve_path(const struct guts_builtin_ctx *ctx, const char *action,
		       const char *input, const char *rel, char **out)
{
	char *full, *norm, *ws, *home = NULL;
	int rc = 0;

	if (rel[0] == '~' && (rel[1] == '\0' || rel[1] == '/')) {
		if (!ctx->home)
			return guts_error(GUTS_EINVAL,
					  "%s: input '%s': '%s' uses '~' but "
					  "the job has no home directory",
					  action, input, rel);
		full = guts_xasprintf("%s/%s", ctx->home, rel + 1);
	} else if (rel[0] == '/') {
		full = guts_xstrdup(rel);
	} else {
		full = guts_xasprintf("%s/%s", ctx->workspace, rel);
	}
	norm = guts__path_normalize(full);
	ws = guts__path_normalize(ctx->workspace);
	if (ctx->home)
		home = guts__path_normalize(ctx->home);
	if (!guts__path_under(norm, ws) &&
	    !(home && guts__path_under(norm, home)))
		rc = guts_error(GUTS_EINVAL,
				"%s: input '%s': '%s' is outside the workspace",
				action, input, rel);
	free(full);
	free(ws);
	free(home);
	if (rc < 0) {
		free(norm);
		return rc;
	}
	*out = norm;
	return 0;
}

char *guts__format_size(unsigned long long bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes / 1024;
	int u = 0;

	if (bytes < 1024)
		return guts_xasprintf("%llu bytes", bytes);
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	return guts_xasprintf("%.1f %s (%llu bytes)", v, units[u], bytes);
}
