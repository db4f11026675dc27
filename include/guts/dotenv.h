/*
 * Dotenv files: the KEY=VALUE files `guts exec --env-file` and
 * `--secret-file` read, in the syntax of github.com/joho/godotenv, which act
 * uses, so the same files work with both:
 *
 *	# a comment line; blank lines are skipped
 *	export KEY=value          an optional "export " prefix
 *	KEY: value                YAML-ish, as godotenv accepts
 *	KEY = plain value # note  unquoted: trimmed, " #..." stripped
 *	KEY='lit $X \n'           single quotes: literal, may span lines
 *	KEY="a\nb \"$X\" ${Y}"    double quotes: escapes and $VAR, may span
 *lines
 *
 * Keys match [A-Za-z_][A-Za-z0-9_.-]*.  In double-quoted values \n, \r, \t,
 * \", \\ and \$ are escapes, and any other \X is X.  Double-quoted and
 * unquoted values expand $NAME and ${NAME} (NAME of [A-Z0-9_], as in
 * godotenv, so "pa$word" keeps its "$word") from the keys earlier in the same
 * file, or to "" for a name not defined yet; the process environment is not
 * consulted.  In unquoted values \$ is a literal $ and other backslashes are
 * kept.  After a closing quote only blanks and a # comment may follow.  CRLF
 * line ends and a UTF-8 byte order mark are accepted; a line that is just
 * "---" (a YAML document marker) is skipped.
 *
 * Where godotenv has quirks this parser does not copy them: an unquoted
 * value's comment starts at the first " #" (godotenv: the last), \t is a
 * tab, and a backslash does not escape a single quote.
 */
#ifndef GUTS_DOTENV_H
#define GUTS_DOTENV_H

#include <stddef.h>

/* All values of one file together, after expansion. */
#define GUTS_DOTENV_MAX_VALUE_BYTES (16 * 1024 * 1024)

/**
 * Called for each entry in file order; @value is NUL-terminated and
 * @vlen long (it may hold NUL bytes).  Non-zero stops the parse.
 */
typedef int (*guts_dotenv_fn)(const char *key, const char *value, size_t vlen,
			      void *ud);

/**
 * Parse @len bytes of dotenv text, calling @fn per entry.  A key given twice
 * is reported twice; the later value is the one later expansions see.
 * GUTS_EINVAL with "line N: ..." for a bad key, a missing '=', an
 * unterminated quote or text after a closing quote; GUTS_ETOOBIG when the
 * expanded values pass GUTS_DOTENV_MAX_VALUE_BYTES.  Returns what @fn
 * returned when it stopped the parse.
 */
int guts_dotenv_parse(const char *text, size_t len, guts_dotenv_fn fn,
		      void *ud);

#endif
