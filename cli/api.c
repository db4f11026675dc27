/*
 * The client side shared by the commands that speak guts-node's REST API
 * (see api.h and docs/api.md).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/apiutil.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/json.h"
#include "guts/runcmd.h"
#include "api.h"
#include "commands.h"
#include "banned.h"

#define CONFIG_MAX_BYTES (64 * 1024)
#define MAX_PAGES 10000

void api_init(struct api *a)
{
	memset(a, 0, sizeof(*a));
}

void api_release(struct api *a)
{
	if (a->connected)
		guts_http_release(&a->http);
	free(a->url);
	free(a->token);
	free(a->owner);
	free(a->name);
	free(a->repo);
	memset(a, 0, sizeof(*a));
}

/* ---- arguments ----------------------------------------------------------- */

int cli_is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

static int opt_is(const char *arg, const char *name, const char **inline_val)
{
	size_t n;

	if (!name)
		return 0;
	n = strlen(name);
	if (strncmp(arg, name, n))
		return 0;
	if (arg[n] == '\0') {
		*inline_val = NULL;
		return 1;
	}
	if (arg[n] == '=' && name[1] == '-') {
		*inline_val = arg + n + 1;
		return 1;
	}
	return 0;
}

int cli_opt_value(int argc, char **argv, int *i, const char *name,
		  const char *alias, const char **val)
{
	const char *iv = NULL;

	if (!opt_is(argv[*i], name, &iv) && !opt_is(argv[*i], alias, &iv))
		return 0;
	if (iv) {
		*val = iv;
		return 1;
	}
	if (*i + 1 >= argc) {
		cli_fail(2, "%s needs a value", argv[*i]);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

int api_args_id(struct api *a, int argc, char **argv, const char *cmd,
		const char *usage, const struct cli_opt *opts,
		const char **vals, const char *noun, const char *what,
		long long *id)
{
	if (id)
		*id = 0;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r, taken = 0;

		if (cli_is_help(argv[i])) {
			fputs(usage, stdout);
			return -1;
		}
		if ((r = api_opt(a, argc, argv, &i)) != 0) {
			if (r < 0)
				return 2;
			continue;
		}
		for (size_t k = 0; opts && opts[k].name && !taken; k++) {
			if (opts[k].flag) {
				taken = !strcmp(argv[i], opts[k].name) ||
					(opts[k].alias &&
					 !strcmp(argv[i], opts[k].alias));
				if (taken)
					vals[k] = "1";
				continue;
			}
			r = cli_opt_value(argc, argv, &i, opts[k].name,
					  opts[k].alias, &v);
			if (r < 0)
				return 2;
			if (r > 0)
				vals[k] = v;
			taken = r != 0;
		}
		if (taken)
			continue;
		if (!id || (argv[i][0] == '-' && argv[i][1]) || *id)
			return cli_unknown(cmd, argv[i]);
		v = argv[i][0] == '#' ? argv[i] + 1 : argv[i];
		if ((*id = cli_positive(what, v)) < 0)
			return 2;
	}
	if (id && !*id)
		return cli_fail(2, "%s: which %s? (see 'guts %s --help')", cmd,
				noun, cmd);
	return api_repo(a);
}

long long cli_positive(const char *what, const char *s)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end == s || *end || n < 1) {
		cli_fail(2, "%s wants a positive number, got '%s'", what, s);
		return -1;
	}
	return n;
}

int api_opt(struct api *a, int argc, char **argv, int *i)
{
	const char *v;
	int r;

	if (!strcmp(argv[*i], "--json")) {
		a->json = 1;
		return 1;
	}
	if ((r = cli_opt_value(argc, argv, i, "--url", NULL, &v)) != 0) {
		a->url_opt = v;
		return r;
	}
	if ((r = cli_opt_value(argc, argv, i, "--token", NULL, &v)) != 0) {
		a->token_opt = v;
		return r;
	}
	if ((r = cli_opt_value(argc, argv, i, "--repo", "-R", &v)) != 0) {
		a->repo_opt = v;
		return r;
	}
	return 0;
}

int cli_unknown(const char *cmd, const char *arg)
{
	if (arg[0] == '-' && arg[1])
		return cli_fail(2,
				"%s: unknown option '%s' (see 'guts %s "
				"--help')",
				cmd, arg, cmd);
	return cli_fail(2,
			"%s: unexpected argument '%s' (see 'guts %s --help')",
			cmd, arg, cmd);
}

/*
 * The arguments of a simple subcommand (see api.h).
 */
int api_args(struct api *a, int argc, char **argv, const char *cmd,
	     const char *usage, long long *limit, const char **arg)
{
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;

		if (cli_is_help(argv[i])) {
			fputs(usage, stdout);
			return -1;
		}
		if ((r = api_opt(a, argc, argv, &i)) != 0) {
			if (r < 0)
				return 2;
			continue;
		}
		if (limit &&
		    (r = cli_opt_value(argc, argv, &i, "--limit", NULL, &v))) {
			if (r < 0 || (*limit = cli_positive("--limit", v)) < 0)
				return 2;
			continue;
		}
		if (argv[i][0] == '-' || !arg || *arg)
			return cli_unknown(cmd, argv[i]);
		*arg = argv[i];
	}
	return 0;
}

/* ---- the saved login and the repository ---------------------------------- */

char *api_config_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (x && x[0] == '/')
		return guts_xasprintf("%s/guts/config.json", x);
	if (home && home[0] == '/')
		return guts_xasprintf("%s/.config/guts/config.json", home);
	return NULL;
}

/*
 * The saved login, or NULL (none); 1 (printed) when it is unreadable,
 * unless @lenient.
 */
static int load_config(json_t **out, int lenient)
{
	char *path = api_config_path(), *text;
	size_t len;
	int rc;

	*out = NULL;
	if (!path)
		return 0;
	rc = guts_fs_read_all(&text, &len, path, CONFIG_MAX_BYTES);
	if (rc == GUTS_ENOTFOUND) {
		free(path);
		return 0;
	}
	if (rc == 0) {
		rc = guts_json_parse(out, text, len);
		free(text);
		if (rc == 0 && !json_is_object(*out)) {
			json_decref(*out);
			*out = NULL;
			rc = guts_error(GUTS_EINVAL, "not a JSON object");
		}
	}
	if (rc < 0 && !lenient)
		cli_fail(1, "%s: %s", path, guts_error_message());
	free(path);
	return rc < 0 && !lenient ? 1 : 0;
}

/* A URL without its trailing slashes, to compare two. */
static int same_url(const char *x, const char *y)
{
	size_t nx = strlen(x), ny = strlen(y);

	while (nx && x[nx - 1] == '/')
		nx--;
	while (ny && y[ny - 1] == '/')
		ny--;
	return nx == ny && !strncasecmp(x, y, nx);
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int api_connect(struct api *a)
{
	static int curl_ready;
	const char *url = a->url_opt ? a->url_opt : env("GUTS_URL");
	const char *token = a->token_opt ? a->token_opt : env("GUTS_TOKEN");
	const char *curl, *ctoken;
	json_t *cfg = NULL;

	if (a->connected)
		return 0;
	if ((!url || !token) && load_config(&cfg, a->lenient_config))
		return 1;
	curl = json_string_value(json_object_get(cfg, "url"));
	ctoken = json_string_value(json_object_get(cfg, "token"));
	if (!url)
		url = curl && *curl ? curl : API_DEFAULT_URL;
	/* The saved token goes only to the node it was saved for. */
	if (!token && ctoken && *ctoken &&
	    same_url(url, curl && *curl ? curl : API_DEFAULT_URL))
		token = ctoken;
	if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
		json_decref(cfg);
		return cli_fail(2, "--url wants http://HOST[:PORT], got '%s'",
				url);
	}
	a->url = guts_xstrdup(url);
	for (size_t n = strlen(a->url); n > 8 && a->url[n - 1] == '/'; n--)
		a->url[n - 1] = '\0';
	a->token = token ? guts_xstrdup(token) : NULL;
	/* A --token given on the command line no longer shows in ps. */
	if (a->token_opt && a->token_opt == token)
		memset((char *)a->token_opt, 'x', strlen(a->token_opt));
	json_decref(cfg);
	if (!curl_ready) {
		guts_http_global_init();
		curl_ready = 1;
	}
	if (guts_http_init(&a->http, a->url, a->token) < 0)
		return cli_fail(1, "%s", guts_error_message());
	a->connected = 1;
	return 0;
}

/* `git remote get-url origin` in the current directory, or NULL. */
static char *origin_url(void)
{
	static const char *const argv[] = {"git", "remote", "get-url", "origin",
					   NULL};
	return guts_runcmd_line(argv, NULL);
}

int api_repo(struct api *a)
{
	const char *spec = a->repo_opt ? a->repo_opt : env("GUTS_REPO");
	char *found = NULL;
	int rc = 0;

	if (a->repo)
		return 0;
	if (!spec) {
		char *url = origin_url();

		if (url)
			found = guts_api_repo_from_remote(url);
		if (!found && url)
			rc = cli_fail(2,
				      "cannot tell the repository from the "
				      "origin remote '%s'; use -R OWNER/NAME",
				      url);
		else if (!found)
			rc = cli_fail(2, "no repository: use -R OWNER/NAME or "
					 "GUTS_REPO, or run in a clone with "
					 "an origin remote");
		if (!found) {
			free(url);
			return rc;
		}
		free(url);
		spec = found;
	}
	rc = guts_api_split_repo(spec, &a->owner, &a->name);
	free(found);
	if (rc < 0)
		return cli_fail(2, "%s", guts_error_message());
	a->repo = guts_xasprintf("%s/%s", a->owner, a->name);
	return 0;
}

char *api_repo_path(const struct api *a, const char *fmt, ...)
{
	va_list ap;
	char *rest, *path;

	va_start(ap, fmt);
	rest = guts_xvasprintf(fmt, ap);
	va_end(ap);
	path = guts_xasprintf("/api/repos/%s/%s%s", a->owner, a->name, rest);
	free(rest);
	return path;
}

/* ---- requests ------------------------------------------------------------ */

static int is_json(const struct guts_http_resp *r)
{
	const char *ct = r->content_type;

	/* application/json, or none at all for a body that looks like it */
	if (ct)
		return !strncasecmp(ct, "application/json", 16);
	return r->body.len &&
	       (r->body.data[0] == '{' || r->body.data[0] == '[');
}

int api_do(struct api *a, const char *method, const char *path,
	   const json_t *body, long timeout_ms, struct guts_http_resp *out_r,
	   json_t **out)
{
	struct guts_http_opts o = {0};
	struct guts_http_resp local, *r = out_r ? out_r : &local;
	json_t *answer = NULL;
	char *text = NULL;
	int rc;

	if (out)
		*out = NULL;
	rc = api_connect(a);
	if (rc)
		return rc;
	if (body) {
		text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
		o.body = text;
		o.body_len = strlen(text);
	}
	o.timeout_ms = timeout_ms;
	if (!out_r)
		guts_http_resp_init(r);
	rc = guts_http_request(&a->http, method, path, &o, r);
	free(text);
	if (rc < 0) {
		const char *why = a->http.os_errno ? strerror(a->http.os_errno)
				  : a->http.errbuf[0] ? a->http.errbuf
						      : guts_error_message();

		cli_fail(1, "cannot reach %s: %s", a->url, why);
		rc = 1;
		goto out;
	}
	if (r->body.len && is_json(r) && (out || r->status / 100 != 2)) {
		json_error_t e;

		answer =
		    json_loadb(r->body.data, r->body.len, JSON_DECODE_ANY, &e);
		if (!answer && r->status / 100 == 2) {
			cli_fail(1, "%s %s: the node's answer is not JSON: %s",
				 method, path, e.text);
			rc = 1;
			goto out;
		}
	}
	if (r->status / 100 != 2) {
		/* The whole message (a merge refusal names every check), made
		 * safe for a terminal. */
		const char *m = json_string_value(json_object_get(
		    json_object_get(answer, "error"), "message"));
		char *safe = guts_api_printable(
		    m ? m : guts_http_error_text(&a->http, r->status, answer));

		cli_fail(1, "%s", safe);
		free(safe);
		json_decref(answer);
		rc = 1;
		goto out;
	}
	if (out)
		*out = answer;
	else
		json_decref(answer);
out:
	if (!out_r)
		guts_http_resp_release(r);
	return rc;
}

int api_call(struct api *a, const char *method, const char *path,
	     const json_t *body, json_t **out)
{
	return api_do(a, method, path, body, 0, NULL, out);
}

/* The items of one page: the array, or the first array in an object. */
static json_t *page_items(json_t *page)
{
	const char *k;
	json_t *v;

	if (json_is_array(page))
		return page;
	json_object_foreach(page, k, v) {
		if (json_is_array(v))
			return v;
	}
	return NULL;
}

int api_list(struct api *a, const char *path, long long limit, json_t **out)
{
	json_t *all = json_array();
	long long per = limit > 0 && limit < 100 ? limit : 100;
	char *cur = guts_xasprintf("%s%cper_page=%lld", path,
				   strchr(path, '?') ? '&' : '?', per);
	int rc = 0;

	for (int pages = 0; cur && pages < MAX_PAGES; pages++) {
		struct guts_http_resp r;
		json_t *page = NULL, *items, *v;
		char *next = NULL, *np = NULL;
		size_t i;

		guts_http_resp_init(&r);
		rc = api_do(a, "GET", cur, NULL, 0, &r, &page);
		items = page_items(page);
		if (!rc && !items) {
			rc = cli_fail(1,
				      "GET %s: the node's answer is not a "
				      "list",
				      cur);
		}
		if (rc) {
			json_decref(page);
			guts_http_resp_release(&r);
			break;
		}
		json_array_foreach(items, i, v) {
			if (limit > 0 &&
			    (long long)json_array_size(all) >= limit)
				break;
			json_array_append(all, v);
		}
		if (r.link &&
		    (limit <= 0 || (long long)json_array_size(all) < limit) &&
		    json_array_size(items))
			next = guts_api_link_next(r.link);
		if (next)
			np = guts_api_link_path(next, a->url, cur);
		/* A link back to the same page would never end. */
		if (np && !strcmp(np, cur)) {
			free(np);
			np = NULL;
		}
		free(next);
		free(cur);
		cur = np;
		json_decref(page);
		guts_http_resp_release(&r);
	}
	free(cur);
	if (rc) {
		json_decref(all);
		return rc;
	}
	*out = all;
	return 0;
}

/* ---- output -------------------------------------------------------------- */

void api_print_json(const json_t *v)
{
	char *s;

	if (!v) {
		puts("null");
		return;
	}
	s = json_dumps(v,
		       JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (s)
		puts(s);
	free(s);
}

void api_print_table(struct guts_table *t, const char *indent)
{
	struct guts_buf out;

	guts_buf_init(&out, 0);
	guts_table_render(t, &out, indent);
	fwrite(out.data, 1, out.len, stdout);
	guts_buf_release(&out);
	guts_table_release(t);
}

const char *jtext(const json_t *o, const char *key, char *buf, size_t size)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, size, "%g", json_real_value(v));
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return NULL;
}

const char *jago(const json_t *o, const char *key, char *buf, size_t size)
{
	time_t t;

	if (guts_api_parse_time(json_string_value(json_object_get(o, key)),
				&t) < 0)
		return "-";
	guts_api_format_ago(buf, size, time(NULL), t);
	return buf;
}

const char *jduration(const json_t *o, const char *start, const char *end,
		      char *buf, size_t size)
{
	const char *e = json_string_value(json_object_get(o, end));
	time_t t0, t1;

	if (guts_api_parse_time(json_string_value(json_object_get(o, start)),
				&t0) < 0)
		return "-";
	if (!e)
		t1 = time(NULL);
	else if (guts_api_parse_time(e, &t1) < 0)
		return "-";
	guts_api_format_duration(buf, size, (long long)t1 - (long long)t0);
	return buf;
}
