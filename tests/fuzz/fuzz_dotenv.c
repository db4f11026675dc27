/*
 * Fuzz target: dotenv files.  Oracles: every key matches
 * [A-Za-z_][A-Za-z0-9_.-]*, every value is NUL-terminated, the values
 * together stay within the cap, and a failed parse names its line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guts/dotenv.h"
#include "guts/error.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(const char *key, const char *value, size_t vlen, void *ud)
{
	size_t *total = ud;

	if (!((key[0] >= 'A' && key[0] <= 'Z') ||
	      (key[0] >= 'a' && key[0] <= 'z') || key[0] == '_'))
		abort();
	for (const char *k = key; *k; k++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    *k))
			abort();
	if (value[vlen] != '\0')
		abort();
	*total += vlen;
	if (*total > GUTS_DOTENV_MAX_VALUE_BYTES)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t total = 0;
	int rc = guts_dotenv_parse((const char *)data, size, check, &total);

	if (rc < 0 && strncmp(guts_error_message(), "line ", 5))
		abort();
	return 0;
}
