/*
 * What a step writes back to the runner: the environment files
 * (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE and their GUTS_ aliases) and the
 * `::command::` lines of its output.  Both are untrusted input from the
 * step; the parsers allocate only what they return and report bad input
 * with the line it is on.
 *
 * Environment files hold `NAME=value` lines and heredocs:
 *
 *	NAME<<DELIMITER
 *	line one
 *	line two
 *	DELIMITER
 *
 * Workflow commands are lines `::name key=value,key=value::message`, with
 * `%25`, `%0D` and `%0A` escapes in the message and also `%3A` and `%2C`
 * in property values, as GitHub writes them.
 */
#ifndef GUTS_CMDFILE_H
#define GUTS_CMDFILE_H

#include <stddef.h>

/** Called for each entry of an environment file; non-zero stops parsing. */
typedef int (*guts_envfile_fn)(const char *name, const char *value,
			       size_t value_len, void *ud);

/**
 * Parse @len bytes of an environment file, calling @fn per entry in order.
 * GUTS_EINVAL names the line: a line that is neither NAME=value nor
 * NAME<<DELIMITER, an empty name, or a heredoc whose delimiter never comes.
 * Returns what @fn returned when it stopped the parse.
 */
int guts_envfile_parse(const char *text, size_t len, guts_envfile_fn fn,
		       void *ud);

struct guts_wfcmd_prop {
	char *key;
	char *value;
};

struct guts_wfcmd {
	char *name; /* "error", "add-mask", "set-output", ... */
	struct guts_wfcmd_prop *props;
	size_t nr_props;
	char *message; /* unescaped; may be "" */
	size_t message_len;
};

/**
 * Parse one output line (without its newline).  Returns 1 and fills *cmd
 * when the line is a workflow command, 0 when it is ordinary output.
 */
int guts_wfcmd_parse(struct guts_wfcmd *cmd, const char *line, size_t len);
void guts_wfcmd_release(struct guts_wfcmd *cmd);

/** The value of property @key, or NULL. */
const char *guts_wfcmd_prop(const struct guts_wfcmd *cmd, const char *key);

#endif
