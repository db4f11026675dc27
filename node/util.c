/* Small node helpers: logging, audit, tokens, names. */
#include <errno.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/hash.h"
#include "node.h"
#include "banned.h"

enum log_level node_log_level = LOG_INFO;

void nlog(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	char ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > node_log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s.%03ldZ %s ", ts, now.tv_nsec / 1000000,
		names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void node_audit(struct node *n, const char *actor, const char *action,
		const char *object, json_t *detail)
{
	char *d = detail ? json_dumps(detail, JSON_COMPACT) : NULL;

	if (store_exec(n->st,
		       "INSERT INTO audit (actor, action, object, detail, "
		       "created_at) VALUES ($1, $2, $3, $4, $5)",
		       STORE_ARGS(SS(actor), SS(action), SS(object), SS(d),
				  SI(store_now_ms())),
		       NULL) < 0)
		nlog(LOG_ERROR, "audit: %s %s: %s", action, object,
		     guts_error_message());
	free(d);
	json_decref((json_t *)detail);
}

char *node_token_new(const char *prefix)
{
	unsigned char raw[20];
	char hex[41];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		abort();
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return guts_xasprintf("%s_%s", prefix, hex);
}

void node_token_hash(const char *token, char hex[65])
{
	uint8_t d[GUTS_SHA256_LEN];

	guts_sha256_buf(d, token, strlen(token));
	guts_sha256_hex(hex, d);
}

int node_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 100)
		return 0;
	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
	      (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	if (strstr(s, ".."))
		return 0;
	if (n >= 4 && !strcasecmp(s + n - 4, ".git"))
		return 0;
	return 1;
}

int node_int(const char *s, int64_t def, int64_t *out)
{
	char *end;
	long long v;

	if (!s) {
		*out = def;
		return 0;
	}
	/* strtoll() would take leading blanks and a '+'; we do not. */
	if (!((*s >= '0' && *s <= '9') || *s == '-'))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno)
		return -1;
	*out = v;
	return 0;
}

char *node_repo_dir(const struct node *n, const char *owner, const char *name)
{
	return guts_xasprintf("%s/%s/%s.git", n->repos_dir, owner, name);
}
