/* guts: the Guts CI command-line client.  main() dispatches on the group name.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "guts/alloc.h"
#include "guts/sandbox.h"
#include "banned.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
    {"workflow", cmd_workflow,
     "validate and plan workflow files (offline); list and run them"},
    {"expr", cmd_expr, "evaluate a ${{ }} expression (offline)"},
    {"exec", cmd_exec, "run a workflow on this machine, sandboxed"},
    {"login", cmd_login, "check a node's token and save it for later"},
    {"repo", cmd_repo, "create, list, view and delete repositories"},
    {"run", cmd_run, "list, view, follow, cancel and rerun runs"},
    {"status", cmd_status, "the combined commit status of a sha or branch"},
    {"pr", cmd_pr, "create, list, view, merge and close pull requests"},
    {"runner", cmd_runner, "list the node's runners"},
    {"token", cmd_token, "make API tokens"},
    {"protect", cmd_protect, "protect branches: required checks, pushes"},
    {"artifact", cmd_artifact, "list, download and remove run artifacts"},
    {"cache", cmd_cache, "list and remove dependency caches"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: guts [--version] [--help] <command> [<args>]\n\n");
	fprintf(f, "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nCommands that ask a node take --url URL (GUTS_URL), "
		   "--token T (GUTS_TOKEN),\n"
		   "--json and -R OWNER/NAME (GUTS_REPO); 'guts login' saves "
		   "the URL and token.\n");
	fprintf(f, "\nRun 'guts <command> --help' for a command's options.\n");
}

int cli_fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("guts: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int main(int argc, char **argv)
{
	char **moved = NULL;
	/* The sandbox agent is this binary too (see guts/sandbox.h). */
	if (argc > 1 && !strcmp(argv[1], GUTS_SANDBOX_AGENT_ARG))
		return guts_sandbox_agent_main(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			char *sub[] = {argv[2], "--help", NULL};

			for (size_t i = 0;
			     i < sizeof(commands) / sizeof(commands[0]); i++)
				if (!strcmp(commands[i].name, argv[2]))
					return commands[i].fn(2, sub);
		}
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("guts 0.1.0\n");
		return 0;
	}
	/*
	 * Client options before the command (`guts --json run list`) move
	 * after it, where the command's own parser takes them.
	 */
	{
		static const char *const with_value[] = {"--url", "--token",
							 "-R", "--repo"};
		int k = 1;

		while (k < argc) {
			int take = 0;

			if (!strcmp(argv[k], "--json") ||
			    !strncmp(argv[k], "--url=", 6) ||
			    !strncmp(argv[k], "--token=", 8) ||
			    !strncmp(argv[k], "--repo=", 7))
				take = 1;
			for (size_t w = 0; w < 4 && !take; w++)
				if (!strcmp(argv[k], with_value[w]) &&
				    k + 1 < argc)
					take = 2;
			if (!take)
				break;
			k += take;
		}
		if (k > 1 && k < argc) {
			char **v = guts_xcalloc((size_t)argc + 1, sizeof(*v));
			int m = 0;

			v[m++] = argv[0];
			for (int i = k; i < argc; i++)
				v[m++] = argv[i];
			for (int i = 1; i < k; i++)
				v[m++] = argv[i];
			v[m] = NULL;
			argv = moved = v;
		}
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, argv[1])) {
			int status = commands[i].fn(argc - 1, argv + 1);

			free(moved);
			return status;
		}
	free(moved);
	cli_fail(2, "'%s' is not a guts command. See 'guts --help'.", argv[1]);
	return 2;
}
