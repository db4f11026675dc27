/*
 * What the commands that speak guts-node's REST API (docs/api.md) share:
 * the client options (--url, --token, --json, -R), the saved login, the
 * repository of the current directory, requests whose failures become one
 * "guts: <message>" line, pagination, and output helpers.
 *
 * Exit statuses: 0 done, 1 the node said no or could not be reached, 2 a
 * usage error.  Functions returning int here return 0 or the exit status,
 * having printed the error.
 */
#ifndef GUTS_CLI_API_H
#define GUTS_CLI_API_H

#include <jansson.h>
#include <stddef.h>

#include "guts/apiutil.h"
#include "guts/httpc.h"

#define API_DEFAULT_URL "http://127.0.0.1:8080"

#define API_CLIENT_HELP                                                       \
	"Client options:\n"                                                   \
	"  --url URL          the node (GUTS_URL; default: the saved "        \
	"login's,\n"                                                          \
	"                     else " API_DEFAULT_URL ")\n"                    \
	"  --token TOKEN      an API token (GUTS_TOKEN; default: the saved\n" \
	"                     login's, when --url is the saved one)\n"        \
	"  --json             print the node's JSON answer\n"
#define API_REPO_HELP                                                   \
	"  -R, --repo O/N     the repository (GUTS_REPO; default: the " \
	"origin\n"                                                      \
	"                     remote of the git repository around you)\n"

struct api {
	const char *url_opt, *token_opt, *repo_opt; /* from flags */
	int json;
	int lenient_config; /* an unreadable saved login counts as none */
	char *url, *token;  /* resolved by api_connect() */
	char *owner, *name, *repo; /* resolved by api_repo() */
	struct guts_http http;
	int connected;
};

void api_init(struct api *a);
void api_release(struct api *a);

/** Whether @arg asks for help (--help, -h). */
int cli_is_help(const char *arg);

/**
 * Whether argv[*i] is the option @name (or @alias, may be NULL), as
 * "--name VALUE" or "--name=VALUE".  1: *val is set and *i is on the last
 * argument used; 0: another argument; -1: its value is missing (printed).
 */
int cli_opt_value(int argc, char **argv, int *i, const char *name,
		  const char *alias, const char **val);

/** A positive integer argument (an id, --limit); -1 (printed) if not. */
long long cli_positive(const char *what, const char *s);

/**
 * Take argv[*i] when it is a client option (--url, --token, --json, -R).
 * 1 taken, 0 not one, -1 a usage error (printed).
 */
int api_opt(struct api *a, int argc, char **argv, int *i);

/**
 * The arguments of a simple subcommand: client options, --limit N when
 * @limit is set, and at most one positional argument, into *arg when @arg
 * is set.  0 to go on; -1 when --help was printed (exit 0); else the exit
 * status, the error printed.  @cmd names it in errors ("repo list").
 */
int api_args(struct api *a, int argc, char **argv, const char *cmd,
	     const char *usage, long long *limit, const char **arg);

/* An option of a command: "--name" (and "-a"), with a value or a flag. */
struct cli_opt {
	const char *name, *alias;
	int flag; /* takes no value; its value is "1" when given */
};

/**
 * The arguments of a command about one object: client options, the
 * options in @opts (ended by a zeroed entry; their values go to @vals) and,
 * when @id is not NULL, the object's number ("N" or "#N"), then required:
 * @noun names it in errors ("run", "pull request"), @what in a bad
 * number's ("the run ID").  With @id NULL no positional argument is taken.
 * Resolves the repository.  0 to go on; -1 when --help was printed (exit
 * 0); else the exit status, the error printed.
 */
int api_args_id(struct api *a, int argc, char **argv, const char *cmd,
		const char *usage, const struct cli_opt *opts,
		const char **vals, const char *noun, const char *what,
		long long *id);

/** One usage error line for an argument nobody took; returns 2. */
int cli_unknown(const char *cmd, const char *arg);

/** The saved login's file: $XDG_CONFIG_HOME/guts/config.json or ~/.config. */
char *api_config_path(void);

/** Resolve the URL and token (flag > env > saved login > default). */
int api_connect(struct api *a);

/** Resolve the repository (-R > GUTS_REPO > the origin remote); 2 if none. */
int api_repo(struct api *a);

/** "/api/repos/OWNER/NAME" followed by @fmt (api_repo() first). */
char *api_repo_path(const struct api *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * One request.  On a 2xx answer 0, with the parsed JSON in *out (NULL when
 * there was none; @out may be NULL) and the answer in @r (may be NULL).
 * Otherwise 1, having printed the node's error message.
 */
int api_do(struct api *a, const char *method, const char *path,
	   const json_t *body, long timeout_ms, struct guts_http_resp *r,
	   json_t **out);

/** A JSON call: api_do() without the raw answer. */
int api_call(struct api *a, const char *method, const char *path,
	     const json_t *body, json_t **out);

/**
 * GET a list, following Link rel="next" until @limit items (0: all).  The
 * items of every page go into one array, *out.
 */
int api_list(struct api *a, const char *path, long long limit, json_t **out);

/** Print @v as indented JSON on stdout. */
void api_print_json(const json_t *v);

/** Print @t on stdout and release it. */
void api_print_table(struct guts_table *t, const char *indent);

/**
 * The text of the scalar @key of @o: a string as is, a number or boolean
 * formatted into @buf; NULL when missing or null.
 */
const char *jtext(const json_t *o, const char *key, char *buf, size_t size);

/** "5m ago" for the time in @key of @o; "-" when there is none. */
const char *jago(const json_t *o, const char *key, char *buf, size_t size);

/**
 * The duration from @o's @start to @end (or to now while @end is null);
 * "-" when it has not started.
 */
const char *jduration(const json_t *o, const char *start, const char *end,
		      char *buf, size_t size);

#endif
