/*
 * guts token: API tokens.
 *
 *   guts token create --scope read|write|admin [--name N] [--user U]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/apiutil.h"
#include "api.h"
#include "commands.h"
#include "banned.h"

static const char token_usage[] =
    "usage: guts token <command> [<args>]\n"
    "\n"
    "Commands:\n"
    "  create   make an API token\n"
    "\n"
    "Run 'guts token <command> --help' for its options.\n";

static const char create_usage[] =
    "usage: guts token create --scope read|write|admin [--name N] [--user U]\n"
    "                         [<client options>]\n"
    "\n"
    "Make an API token and print it on stdout, alone (the node shows it\n"
    "only this once).  Tokens for other users need an admin token.\n"
    "\n"
    "  --scope S          read, write or admin\n"
    "  --name N           a name to recognise it by\n"
    "  --user U           for another user, made when missing (admin)\n"
    "\n" API_CLIENT_HELP;

static int token_create(int argc, char **argv)
{
	static const char *const names[] = {"--scope", "--name", "--user"};
	const char *vals[3] = {NULL, NULL, NULL};
	struct api a;
	json_t *body = NULL, *out = NULL;
	int rc = 0;

	api_init(&a);
	for (int i = 1; i < argc && !rc; i++) {
		const char *v;
		int r, taken = 0;

		if (cli_is_help(argv[i])) {
			fputs(create_usage, stdout);
			rc = -1;
			break;
		}
		if ((r = api_opt(&a, argc, argv, &i)) != 0) {
			rc = r < 0 ? 2 : 0;
			continue;
		}
		for (size_t k = 0; k < 3 && !taken; k++) {
			r = cli_opt_value(argc, argv, &i, names[k], NULL, &v);
			if (r < 0)
				rc = 2;
			if (r > 0)
				vals[k] = v;
			taken = r != 0;
		}
		if (!taken)
			rc = cli_unknown("token create", argv[i]);
	}
	if (!rc && !vals[0])
		rc = cli_fail(2, "token create: --scope read|write|admin is "
				 "required");
	if (!rc && strcmp(vals[0], "read") && strcmp(vals[0], "write") &&
	    strcmp(vals[0], "admin"))
		rc = cli_fail(2, "--scope wants read, write or admin, got '%s'",
			      vals[0]);
	if (rc)
		goto out;
	body = json_pack("{s:s}", "scope", vals[0]);
	if (vals[1])
		json_object_set_new(body, "name", json_string(vals[1]));
	if (vals[2])
		json_object_set_new(body, "user", json_string(vals[2]));
	rc = api_call(&a, "POST", "/api/tokens", body, &out);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(out);
	} else {
		char b[32];
		const char *tok =
		    json_string_value(json_object_get(out, "token"));
		char *id = guts_api_printable(jtext(out, "id", b, sizeof(b)));
		char *user =
		    guts_api_printable(jtext(out, "user", b, sizeof(b)));
		char *scope =
		    guts_api_printable(jtext(out, "scope", b, sizeof(b)));

		if (!tok) {
			rc = cli_fail(1, "the node's answer has no token");
		} else {
			puts(tok);
			fprintf(stderr,
				"Token %s for %s, scope %s; it is not shown "
				"again.\n",
				id, *user ? user : "you", scope);
		}
		free(id);
		free(user);
		free(scope);
	}
out:
	json_decref(body);
	json_decref(out);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

int cmd_token(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(token_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "create"))
		return token_create(argc - 1, argv + 1);
	return cli_fail(2,
			"token: unknown command '%s' (see 'guts token "
			"--help')",
			argv[1]);
}
