/*
 * Fuzz target: the node's checks of names and numbers that come from URLs,
 * headers and JSON bodies (node/util.c).  The router's own path matcher is
 * static in node/http.c and is not reached from here.
 *
 * Oracles: node_name_ok() agrees with a POSIX regex of its documented
 * pattern, ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$ with no ".." and no ".git"
 * suffix in any case, and a name it takes is safe as one path component (no
 * '/', not "." or "..", no leading '-' or '.').  node_int() takes a string
 * only when it starts with a digit or '-' and strtoll() reads all of it
 * without overflow, and then gives the
 * same value; NULL gives the default.
 *
 *   make fuzz
 *   build-fuzz/fuzz/fuzz_names -max_len=256 CORPUS_DIR
 */
#include <errno.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static regex_t name_re;

static int name_spec(const char *s)
{
	size_t n = strlen(s);

	if (regexec(&name_re, s, 0, NULL, 0) != 0)
		return 0;
	if (strstr(s, ".."))
		return 0;
	return !(n >= 4 && !strcasecmp(s + n - 4, ".git"));
}

static void check_name(const char *s)
{
	int ok = node_name_ok(s);

	if (ok != name_spec(s))
		__builtin_trap();
	if (ok && (strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..") ||
		   s[0] == '-' || s[0] == '.'))
		__builtin_trap();
}

static void check_int(const char *s)
{
	int64_t v = -7;
	char *end;
	long long want;

	int digit_first = (*s >= '0' && *s <= '9') || *s == '-';

	errno = 0;
	want = strtoll(s, &end, 10);
	if (node_int(s, 5, &v) == 0) {
		if (!digit_first || *end || errno || v != want)
			__builtin_trap();
	} else if (digit_first && !*end && !errno) {
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char *s = malloc(size + 1);
	int64_t v = 0;

	if (!ready) {
		if (regcomp(&name_re, "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
			    REG_EXTENDED | REG_NOSUB) != 0)
			abort();
		ready = 1;
	}
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_name(s);
	check_int(s);
	if (node_name_ok(NULL) || node_int(NULL, 5, &v) != 0 || v != 5)
		__builtin_trap();
	free(s);
	return 0;
}
