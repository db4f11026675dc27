/*
 * guts login: check a token against a node and save the node's URL and the
 * token for later commands.
 *
 *   guts login [--url URL] --token TOKEN|-
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/apiutil.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/json.h"
#include "api.h"
#include "commands.h"
#include "banned.h"

#define TOKEN_MAX_BYTES 4096

static const char login_usage[] =
    "usage: guts login [--url URL] --token TOKEN|-\n"
    "\n"
    "Check TOKEN with the node (GET /api/user), then save the node's URL\n"
    "and the token in $XDG_CONFIG_HOME/guts/config.json (default\n"
    "~/.config/guts/config.json, mode 0600).  Later commands use them when\n"
    "they get no --url/GUTS_URL and no --token/GUTS_TOKEN; the saved token\n"
    "is only ever sent to the saved URL.\n"
    "\n"
    "  --url URL          the node (GUTS_URL; default: the saved one, else\n"
    "                     " API_DEFAULT_URL ")\n"
    "  --token TOKEN      the token (GUTS_TOKEN); '-' reads it from stdin\n"
    "  --json             print the node's answer about you\n";

/* The first line of stdin, trimmed, into *out; 0 or the exit status. */
static int read_token(char **out)
{
	char *text, *end;
	size_t len;

	if (guts_fs_read_fd(&text, &len, STDIN_FILENO, TOKEN_MAX_BYTES) < 0)
		return cli_fail(1, "reading the token from stdin: %s",
				guts_error_message());
	end = text + strcspn(text, "\r\n");
	*end = '\0';
	while (end > text && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (!*text) {
		free(text);
		return cli_fail(2, "login: no token on stdin");
	}
	*out = text;
	return 0;
}

/* Merge url and token into the saved login; 0 or 1 (printed). */
static int save_login(const char *url, const char *token, char **where)
{
	char *path = api_config_path(), *dir, *copy, *text;
	json_t *cfg = NULL;
	size_t len;
	int rc;

	*where = NULL;
	if (!path)
		return cli_fail(1, "nowhere to save the login: set HOME or "
				   "XDG_CONFIG_HOME");
	/* Keep what else the file says; a broken one is replaced. */
	if (guts_fs_read_all(&text, &len, path, 64 * 1024) == 0) {
		if (guts_json_parse(&cfg, text, len) < 0 ||
		    !json_is_object(cfg)) {
			json_decref(cfg);
			cfg = NULL;
		}
		free(text);
	}
	if (!cfg)
		cfg = json_object();
	json_object_set_new(cfg, "url", json_string(url));
	json_object_set_new(cfg, "token", json_string(token));
	text = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(cfg);
	copy = guts_xstrdup(path);
	dir = dirname(copy);
	rc = guts_fs_mkdirs(dir, 0700);
	free(copy);
	if (!rc) {
		size_t n = strlen(text);

		text[n] = '\n';
		rc = guts_fs_write_atomic(path, text, n + 1, 0600);
		text[n] = '\0';
	}
	free(text);
	if (rc < 0) {
		cli_fail(1, "%s", guts_error_message());
		free(path);
		return 1;
	}
	*where = path;
	return 0;
}

int cmd_login(int argc, char **argv)
{
	struct api a;
	const char *token;
	char *stdin_token = NULL, *where = NULL;
	json_t *user = NULL;
	int rc = 0;

	api_init(&a);
	for (int i = 1; i < argc && !rc; i++) {
		int r;

		if (cli_is_help(argv[i])) {
			fputs(login_usage, stdout);
			rc = -1;
		} else if ((r = api_opt(&a, argc, argv, &i)) != 0) {
			rc = r < 0 ? 2 : 0;
		} else {
			rc = cli_unknown("login", argv[i]);
		}
	}
	if (!rc && a.repo_opt)
		rc = cli_fail(2, "login: -R does not apply");
	if (rc)
		goto out;
	token = a.token_opt ? a.token_opt : getenv("GUTS_TOKEN");
	if (token && !strcmp(token, "-")) {
		rc = read_token(&stdin_token);
		if (rc)
			goto out;
		token = stdin_token;
	}
	if (!token || !*token) {
		rc = cli_fail(2, "login: --token TOKEN is required (see 'guts "
				 "login --help')");
		goto out;
	}
	/* A broken saved login is replaced, not in the way. */
	a.lenient_config = 1;
	a.token_opt = token;
	rc = api_call(&a, "GET", "/api/user", NULL, &user);
	if (rc)
		goto out;
	rc = save_login(a.url, a.token, &where);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(user);
	} else {
		char b[32];
		char *name =
		    guts_api_printable(jtext(user, "name", b, sizeof(b)));
		char *scope =
		    guts_api_printable(jtext(user, "scope", b, sizeof(b)));

		printf("Logged in to %s as %s (scope %s%s)\n", a.url,
		       *name ? name : "?", *scope ? scope : "?",
		       json_is_true(json_object_get(user, "is_admin"))
			   ? ", admin"
			   : "");
		printf("Saved in %s\n", where);
		free(name);
		free(scope);
	}
out:
	free(where);
	free(stdin_token);
	json_decref(user);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}
