/*
 * libFuzzer target for what steps write back: the input is parsed as an
 * environment file, and each of its lines as a workflow command.  Oracles:
 * entry names are never empty, values never longer than the input, a parsed
 * command's message is never longer than the line it came from.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guts/cmdfile.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(const char *name, const char *value, size_t len, void *ud)
{
	(void)value;
	if (!name[0] || len > *(size_t *)ud)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size;
	size_t cap = size;

	guts_envfile_parse(s, size, check, &cap);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = (size_t)((nl ? nl : end) - s);
		struct guts_wfcmd c;

		if (guts_wfcmd_parse(&c, s, len)) {
			if (!c.name || !c.name[0] || c.message_len > len)
				abort();
			guts_wfcmd_release(&c);
		}
		s = nl ? nl + 1 : end;
	}
	return 0;
}
