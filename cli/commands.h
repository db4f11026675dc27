/*
 * The guts CLI's command groups.  Each cmd_<group> takes the arguments after
 * the group name (argv[0] is the group) and returns the process exit status.
 */
#ifndef GUTS_CLI_COMMANDS_H
#define GUTS_CLI_COMMANDS_H

int cmd_workflow(int argc, char **argv);
int cmd_expr(int argc, char **argv);
int cmd_exec(int argc, char **argv);

/* Commands that speak a node's REST API (docs/api.md; see api.h). */
int cmd_login(int argc, char **argv);
int cmd_repo(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_pr(int argc, char **argv);
int cmd_runner(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_protect(int argc, char **argv);
int cmd_artifact(int argc, char **argv);
int cmd_cache(int argc, char **argv);
/* guts workflow list and guts workflow run (cmd_workflow_api.c) */
int cmd_workflow_list(int argc, char **argv);
int cmd_workflow_run(int argc, char **argv);

/** Print "guts: <message>" to stderr; returns @status for `return die(...)`. */
int cli_fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
