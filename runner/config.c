/*
 * guts-runner's arguments, its config file and `guts-runner register`.
 *
 * Each setting comes from its option, else its environment variable, else
 * the config file (run mode without --token), else a default.  The config
 * file is {"url", "id", "name", "labels", "token"}, mode 0600.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/httpc.h"
#include "guts/json.h"
#include "runner.h"
#include "banned.h"

static const char run_usage[] =
    "usage: guts-runner [--url URL] [--token T | --config F] [--name N]\n"
    "                   [--labels a,b] [--capacity N] [--work DIR]\n"
    "       guts-runner register --url URL --token REGTOKEN [--name N]\n"
    "                   [--labels a,b] [--config F]\n"
    "\n"
    "Run the jobs a guts-node leases to this machine, each in its own\n"
    "sandbox.  SIGTERM or SIGINT drains (no new jobs; running ones finish);\n"
    "a second one cancels the running jobs.\n"
    "\n"
    "  --url URL       the node (GUTS_URL)\n"
    "  --token T       a runner token (GUTS_RUNNER_TOKEN)\n"
    "  --config F      the file `register` wrote (GUTS_RUNNER_CONFIG;\n"
    "                  default $XDG_CONFIG_HOME/guts/runner.json)\n"
    "  --name N        this runner's name (GUTS_RUNNER_NAME; default: the\n"
    "                  config's, or the host name)\n"
    "  --labels a,b    its labels, shown at start (GUTS_RUNNER_LABELS)\n"
    "  --capacity N    jobs at once (GUTS_RUNNER_CAPACITY; default 1)\n"
    "  --work DIR      job directories, mirrors and the artifact store\n"
    "                  (GUTS_RUNNER_WORK; default $XDG_CACHE_HOME/guts/"
    "runner)\n";

static int fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("guts-runner: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

static char *xdg_dir(const char *var, const char *fallback, const char *tail)
{
	const char *x = getenv(var);
	const char *home = getenv("HOME");

	if (x && *x == '/')
		return guts_xasprintf("%s/guts/%s", x, tail);
	if (home && *home == '/')
		return guts_xasprintf("%s/%s/guts/%s", home, fallback, tail);
	return guts_xasprintf("/tmp/guts-%d/%s", (int)getuid(), tail);
}

char *runner_default_config(void)
{
	return xdg_dir("XDG_CONFIG_HOME", ".config", "runner.json");
}

char *runner_default_work(void)
{
	return xdg_dir("XDG_CACHE_HOME", ".cache", "runner");
}

void runner_split_labels(struct guts_strvec *out, const char *text)
{
	const char *p = text ? text : "";

	while (*p) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *s = p;

		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end > s) {
			char *l = guts_xstrndup(s, (size_t)(end - s));

			if (guts_strvec_find(out, l) < 0)
				guts_strvec_push(out, l);
			free(l);
		}
		if (!comma)
			break;
		p = comma + 1;
	}
}

static char *host_name(void)
{
	char h[256];

	if (gethostname(h, sizeof(h)) < 0 || !*h)
		return guts_xstrdup("runner");
	h[sizeof(h) - 1] = '\0';
	return guts_xstrdup(h);
}

/* The option's value, else the variable's, else NULL. */
static const char *pick(const char *opt, const char *var)
{
	const char *e;

	if (opt)
		return opt;
	e = getenv(var);
	return e && *e ? e : NULL;
}

static int parse_capacity(const char *s, int *out)
{
	char *end;
	long n;

	if (!s) {
		*out = 1;
		return 0;
	}
	n = strtol(s, &end, 10);
	if (*end || end == s || n < 1 || n > 256)
		return fail(2,
			    "--capacity wants a number from 1 to 256, got "
			    "'%s'",
			    s);
	*out = (int)n;
	return 0;
}

/*
 * Options: every one takes a value.  Unknown ones are a usage error (2);
 * --help prints the usage (1, which callers turn into 0).
 */
static int parse_opts(struct runner_opts *o, int argc, char **argv,
		      const char **capacity, int allow_register_only)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(run_usage, stdout);
			return 1;
		}
		if (!v)
			return fail(2,
				    "%s: unknown option or missing value\n%s",
				    a, run_usage);
		i++;
		if (!strcmp(a, "--url"))
			o->url = v;
		else if (!strcmp(a, "--token"))
			o->token = v;
		else if (!strcmp(a, "--config"))
			o->config = v;
		else if (!strcmp(a, "--name"))
			o->name = v;
		else if (!strcmp(a, "--labels"))
			o->labels = v;
		else if (!strcmp(a, "--capacity"))
			*capacity = v;
		else if (!strcmp(a, "--work") && !allow_register_only)
			o->work = v;
		else
			return fail(2, "unknown option '%s'\n%s", a, run_usage);
	}
	return 0;
}

static int load_config(json_t **out, const char *path)
{
	char *text;
	size_t len;
	int rc = guts_fs_read_all(&text, &len, path, 1024 * 1024);

	if (rc == GUTS_ENOTFOUND)
		return fail(2,
			    "no runner token: %s does not exist; run "
			    "'guts-runner register' or pass --token",
			    path);
	if (rc < 0)
		return fail(2, "%s: %s", path, guts_error_message());
	rc = guts_json_parse(out, text, len);
	free(text);
	if (rc < 0 || !json_is_object(*out)) {
		if (rc == 0)
			json_decref(*out);
		return fail(2, "%s: %s", path,
			    rc < 0 ? guts_error_message() : "not an object");
	}
	return 0;
}

int runner_configure(struct runner *r, int argc, char **argv)
{
	struct runner_opts o = {0};
	const char *capacity = NULL, *url, *token, *name, *labels, *work;
	json_t *cfg = NULL;
	int rc, token_from_env;

	rc = parse_opts(&o, argc, argv, &capacity, 0);
	if (rc)
		return rc == 1 ? -1 : rc;
	if (o.token && o.config)
		return fail(2, "--token and --config exclude each other");
	token = o.config ? NULL : pick(o.token, "GUTS_RUNNER_TOKEN");
	token_from_env = token && !o.token;
	if (!token) {
		const char *p =
		    o.config ? o.config : pick(NULL, "GUTS_RUNNER_CONFIG");
		char *path = p ? guts_xstrdup(p) : runner_default_config();

		rc = load_config(&cfg, path);
		free(path);
		if (rc)
			return rc;
		token = json_string_value(json_object_get(cfg, "token"));
		if (!token) {
			json_decref(cfg);
			return fail(2, "the config file has no token");
		}
	}
	url = pick(o.url, "GUTS_URL");
	/* A saved token goes only to its node, unless --url says otherwise. */
	if (cfg && !o.url && url &&
	    json_is_string(json_object_get(cfg, "url")) &&
	    strcmp(url, json_string_value(json_object_get(cfg, "url")))) {
		rc =
		    fail(2,
			 "GUTS_URL (%s) is not the node this runner registered "
			 "with (%s); pass --url to use the saved token there",
			 url, json_string_value(json_object_get(cfg, "url")));
		json_decref(cfg);
		return rc;
	}
	if (!url)
		url = json_string_value(json_object_get(cfg, "url"));
	if (!url) {
		json_decref(cfg);
		return fail(2, "no node URL: pass --url or set GUTS_URL\n%s",
			    run_usage);
	}
	name = pick(o.name, "GUTS_RUNNER_NAME");
	if (!name)
		name = json_string_value(json_object_get(cfg, "name"));
	labels = pick(o.labels, "GUTS_RUNNER_LABELS");
	rc = parse_capacity(pick(capacity, "GUTS_RUNNER_CAPACITY"),
			    &r->capacity);
	if (rc) {
		json_decref(cfg);
		return rc;
	}
	work = pick(o.work, "GUTS_RUNNER_WORK");

	r->url = guts_xstrdup(url);
	r->token = guts_xstrdup(token);
	r->name = name ? guts_xstrdup(name) : host_name();
	guts_strvec_init(&r->labels);
	if (labels) {
		runner_split_labels(&r->labels, labels);
	} else {
		size_t i;
		json_t *l;

		json_array_foreach(json_object_get(cfg, "labels"), i, l) {
			if (json_is_string(l))
				guts_strvec_push(&r->labels,
						 json_string_value(l));
		}
	}
	r->work = work ? guts_xstrdup(work) : runner_default_work();
	/* Jobs see neither the runner's files nor its node's. */
	guts_strvec_init(&r->hidden);
	guts_strvec_push(&r->hidden, r->work);
	{
		char *c = runner_default_config(), *slash = strrchr(c, '/');

		if (slash)
			*slash = '\0';
		guts_strvec_push(&r->hidden, c);
		free(c);
	}
	if (getenv("GUTS_RUNNER_HIDE")) {
		char *h = guts_xstrdup(getenv("GUTS_RUNNER_HIDE")),
		     *save = NULL;

		for (char *p = strtok_r(h, ":", &save); p;
		     p = strtok_r(NULL, ":", &save))
			guts_strvec_push(&r->hidden, p);
		free(h);
	}
	/*
	 * The token is ours now: wipe it where other processes can read it
	 * (/proc/PID/environ, /proc/PID/cmdline), which jobs might.
	 */
	if (token_from_env) {
		char *e = getenv("GUTS_RUNNER_TOKEN");

		if (e)
			memset(e, 'x', strlen(e));
		unsetenv("GUTS_RUNNER_TOKEN");
	} else if (o.token) {
		memset((char *)o.token, 'x', strlen(o.token));
	}
	json_decref(cfg);
	return 0;
}

/* ---- register ---------------------------------------------------------- */

int runner_register_main(int argc, char **argv)
{
	struct runner_opts o = {0};
	const char *capacity_s = NULL;
	struct guts_strvec labels = GUTS_STRVEC_INIT;
	struct guts_http h;
	struct runner_answer a;
	json_t *body, *jl, *cfg;
	const char *url, *token;
	char *name, *path, *text;
	int capacity = 1, rc, status = 1;

	rc = parse_opts(&o, argc, argv, &capacity_s, 1);
	if (rc)
		return rc == 1 ? 0 : rc;
	url = pick(o.url, "GUTS_URL");
	token = o.token;
	if (!url || !token)
		return fail(2,
			    "register wants --url and --token "
			    "(a registration token)\n%s",
			    run_usage);
	rc = parse_capacity(capacity_s, &capacity);
	if (rc)
		return rc;
	name = pick(o.name, "GUTS_RUNNER_NAME")
		   ? guts_xstrdup(pick(o.name, "GUTS_RUNNER_NAME"))
		   : host_name();
	runner_split_labels(&labels, pick(o.labels, "GUTS_RUNNER_LABELS"));
	jl = json_array();
	for (size_t i = 0; i < labels.nr; i++)
		json_array_append_new(jl, json_string(labels.v[i]));
	body =
	    json_pack("{s:i, s:s, s:s, s:O, s:i, s:s}", "protocol",
		      RUNNER_PROTOCOL, "token", token, "name", name, "labels",
		      jl, "capacity", capacity, "version", RUNNER_VERSION);
	if (!body) {
		json_decref(jl);
		guts_strvec_release(&labels);
		free(name);
		return fail(2, "the name and labels must be UTF-8");
	}
	path = pick(o.config, "GUTS_RUNNER_CONFIG")
		   ? guts_xstrdup(pick(o.config, "GUTS_RUNNER_CONFIG"))
		   : runner_default_config();

	if (guts_http_init(&h, url, NULL) < 0) {
		fail(1, "%s", guts_error_message());
		goto out;
	}
	rc = runner_call(&h, "POST", "/api/runners/register", NULL, body, NULL,
			 0, 30000, &a);
	if (rc < 0) {
		fail(1, "cannot reach %s: %s", url, runner_transport_error());
		goto out_http;
	}
	if (a.status / 100 != 2 ||
	    !json_is_string(json_object_get(a.body, "token"))) {
		status = a.status == 426 || a.status / 100 == 4 ? 2 : 1;
		fail(status, "register: %s", runner_answer_message(&a));
		runner_answer_release(&a);
		goto out_http;
	}
	cfg = json_object();
	json_object_set_new(cfg, "url", json_string(url));
	json_object_set(cfg, "id",
			json_object_get(a.body, "id")
			    ? json_object_get(a.body, "id")
			    : json_null());
	if (json_is_string(json_object_get(a.body, "name")))
		json_object_set(cfg, "name", json_object_get(a.body, "name"));
	else
		json_object_set_new(cfg, "name", json_string(name));
	json_object_set(cfg, "labels",
			json_is_array(json_object_get(a.body, "labels"))
			    ? json_object_get(a.body, "labels")
			    : jl);
	json_object_set(cfg, "token", json_object_get(a.body, "token"));
	text = json_dumps(cfg, JSON_INDENT(2));
	{
		char *dir = guts_xstrdup(path), *slash = strrchr(dir, '/');

		if (slash && slash != dir) {
			*slash = '\0';
			guts_fs_mkdirs(dir, 0700);
		}
		free(dir);
	}
	rc = guts_fs_write_atomic(path, text, strlen(text), 0600);
	memset(text, 0, strlen(text));
	free(text);
	if (rc < 0) {
		fail(1, "%s: %s", path, guts_error_message());
	} else {
		fprintf(stderr,
			"guts-runner: registered '%s' (id %lld) with %s; "
			"config in %s\n",
			json_string_value(json_object_get(cfg, "name")),
			(long long)json_integer_value(
			    json_object_get(a.body, "id")),
			url, path);
		status = 0;
	}
	json_decref(cfg);
	runner_answer_release(&a);
out_http:
	guts_http_release(&h);
out:
	json_decref(body);
	json_decref(jl);
	guts_strvec_release(&labels);
	free(name);
	free(path);
	return status;
}
