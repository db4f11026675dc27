/* Calls to the node with the runner's conventions, and back-off. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "runner.h"
#include "banned.h"

#define BACKOFF_MIN 0.5
#define BACKOFF_MAX 30.0

void runner_backoff_reset(struct runner_backoff *b)
{
	b->next = BACKOFF_MIN;
}

/* xorshift64*, seeded per thread from the clock and the thread. */
static double jitter(void)
{
	static __thread uint64_t s;

	if (!s) {
		struct timespec t;

		clock_gettime(CLOCK_REALTIME, &t);
		s = ((uint64_t)t.tv_nsec << 20) ^ (uint64_t)t.tv_sec ^
		    (uint64_t)(uintptr_t)&s;
		s |= 1;
	}
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return (double)((s * 2685821657736338717ull) >> 11) /
	       9007199254740992.0;
}

double runner_backoff_next(struct runner_backoff *b)
{
	double d;

	if (b->next < BACKOFF_MIN)
		b->next = BACKOFF_MIN;
	/* Up to a fifth either way, so runners that lost one node spread. */
	d = b->next * (0.8 + 0.4 * jitter());
	b->next *= 2;
	if (b->next > BACKOFF_MAX)
		b->next = BACKOFF_MAX;
	return d;
}

json_t *runner_json_text(const char *s)
{
	json_t *v;
	char *copy;
	size_t n;

	if (!s)
		return json_null();
	v = json_string(s);
	if (v)
		return v;
	/* Not UTF-8: keep the ASCII, replace the rest with '?'. */
	n = strlen(s);
	copy = guts_xstrndup(s, n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

void runner_answer_release(struct runner_answer *a)
{
	json_decref(a->body);
	memset(a, 0, sizeof(*a));
	a->code = "";
}

int runner_call(struct guts_http *h, const char *method, const char *path,
		const char *const *headers, const json_t *body, const void *raw,
		size_t raw_len, long timeout_ms, struct runner_answer *a)
{
	struct guts_http_opts o = {0};
	struct guts_http_resp r;
	char *text = NULL;
	const char *code;
	int ret;

	memset(a, 0, sizeof(*a));
	a->code = "";
	o.headers = headers;
	o.timeout_ms = timeout_ms;
	if (raw) {
		o.body = raw_len ? raw : "";
		o.body_len = raw_len;
		o.content_type = "application/octet-stream";
	} else if (body) {
		text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
		o.body = text;
		o.body_len = strlen(text);
	}
	guts_http_resp_init(&r);
	ret = guts_http_request(h, method, path, &o, &r);
	free(text);
	if (ret < 0) {
		guts_http_resp_release(&r);
		return ret;
	}
	a->status = r.status;
	if (r.body.len && r.content_type &&
	    !strncasecmp(r.content_type, "application/json", 16))
		a->body =
		    json_loadb(r.body.data, r.body.len, JSON_DECODE_ANY, NULL);
	guts_http_resp_release(&r);
	code = json_string_value(
	    json_object_get(json_object_get(a->body, "error"), "code"));
	if (code)
		a->code = code;
	return 0;
}

const char *runner_transport_error(void)
{
	const char *m = guts_error_message(), *p;

	/* "POST http://host/path: Failed to connect ...": the reason. */
	if (!strncmp(m, "POST ", 5) && (p = strstr(m + 5, ": ")))
		return p + 2;
	return m;
}

const char *runner_answer_message(const struct runner_answer *a)
{
	static __thread char buf[512];
	const char *m = json_string_value(
	    json_object_get(json_object_get(a->body, "error"), "message"));

	if (m)
		snprintf(buf, sizeof(buf), "%s", m);
	else
		snprintf(buf, sizeof(buf), "HTTP %ld", a->status);
	return buf;
}
