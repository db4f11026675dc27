/*
 * Fuzz target: the receive-pack command list parser of the node's git
 * module.  Oracles: a success gives exactly *nr updates, each with two
 * 40-digit lower-case shas and a ref under refs/ of at most 4096 bytes
 * without control characters or spaces, within the command cap; a failure
 * says why.  gitx_parse_push agrees with it on the updates, keeps its push
 * options within their cap and its pack offset within the body.
 *
 *   make fuzz
 *   build-fuzz/fuzz/fuzz_pktline -max_len=131072 CORPUS_DIR
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "git.h"
#include "guts/error.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sha(const char *s)
{
	for (int i = 0; i < GITX_SHA_HEX; i++)
		if (!strchr("0123456789abcdef", s[i]) || !s[i])
			abort();
	if (s[GITX_SHA_HEX])
		abort();
}

static void check(const struct gitx_ref_update *u, size_t nr)
{
	if (nr > GITX_MAX_COMMANDS || (!nr) != (!u))
		abort();
	for (size_t i = 0; i < nr; i++) {
		size_t n = strlen(u[i].ref);

		check_sha(u[i].old_sha);
		check_sha(u[i].new_sha);
		if (n > GITX_MAX_REF_LEN || strncmp(u[i].ref, "refs/", 5))
			abort();
		for (size_t j = 0; j < n; j++)
			if ((unsigned char)u[i].ref[j] <= 0x20 ||
			    u[i].ref[j] == 0x7f)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gitx_ref_update *u = NULL;
	size_t nr = 0;
	int rc;

	/* A copy of exactly @size bytes, so ASan sees any overread. */
	char *body = malloc(size ? size : 1);

	if (!body)
		return 0;
	if (size)
		memcpy(body, data, size);
	rc = gitx_parse_push_commands(body, size, &u, &nr);
	if (rc == 0)
		check(u, nr);
	else if (rc != GUTS_EINVAL && rc != GUTS_ETOOBIG)
		abort();
	else if (!*guts_error_message())
		abort();
	{
		struct gitx_push p;
		int prc = gitx_parse_push(body, size, &p);

		if (prc == 0) {
			if (rc != 0 || p.nr != nr || p.pack_at > size ||
			    p.nr_options > GITX_MAX_PUSH_OPTIONS || !p.caps ||
			    !p.options || p.options[p.nr_options])
				abort();
			for (size_t i = 0; i < nr; i++)
				if (strcmp(p.updates[i].ref, u[i].ref))
					abort();
			gitx_push_release(&p);
		} else if (rc == 0 &&
			   (prc != GUTS_EINVAL && prc != GUTS_ETOOBIG)) {
			abort();
		}
	}
	gitx_ref_updates_free(u, nr);
	free(body);
	return 0;
}
