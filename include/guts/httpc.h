/*
 * A small HTTP client over libcurl for the programs that speak the node's
 * REST API: the runner and the CLI.  One struct guts_http is one keep-alive
 * connection to one node; it is not thread-safe (use one per thread).
 *
 * Errors: a transport failure (refused, timed out, reset) is GUTS_EIO with
 * curl's message; any HTTP answer, 4xx and 5xx included, is 0 with the
 * status in the response, so callers decide what a status means.
 */
#ifndef GUTS_HTTPC_H
#define GUTS_HTTPC_H

#include <jansson.h>
#include <stddef.h>

#include "guts/buf.h"

struct guts_http {
	void *curl; /* CURL * */
	char *base; /* "http://127.0.0.1:8080", no trailing slash */
	char *token;
	char errbuf[256];
	int os_errno; /* of the last transport failure (ECONNREFUSED), or 0 */
};

struct guts_http_resp {
	long status;
	struct guts_buf body;	 /* capped at 256 MiB */
	char *content_type;	 /* or NULL */
	char *link;		 /* the Link header (pagination), or NULL */
	struct guts_buf headers; /* the answer's header lines, as sent */
};

/** Once per process, before any thread uses the client. */
void guts_http_global_init(void);

/**
 * Set up @h for @base_url (trailing slashes dropped).  @token may be NULL;
 * when set it is sent as "Authorization: Bearer TOKEN".
 */
int guts_http_init(struct guts_http *h, const char *base_url,
		   const char *token);
void guts_http_release(struct guts_http *h);

void guts_http_resp_init(struct guts_http_resp *r);
void guts_http_resp_release(struct guts_http_resp *r);

/**
 * The value of the answer's header @name (case-insensitive, the first one
 * when repeated), trimmed, malloc'd; NULL when it was not sent.
 */
char *guts_http_resp_header(const struct guts_http_resp *r, const char *name);

/*
 * A request's optional parts.  @headers is a NULL-terminated list of
 * "Name: value" lines.  @timeout_ms 0 means 60 s.  @on_data, when set,
 * receives the body as it arrives instead of r->body (return 0 to go on,
 * non-zero to stop the transfer, which then fails with GUTS_EIO).
 */
struct guts_http_opts {
	const char *const *headers;
	const void *body;
	size_t body_len;
	const char *content_type; /* default application/json with a body */
	long timeout_ms;
	int (*on_data)(void *ud, const char *data, size_t len);
	void *ud;
	/*
	 * A streamed body instead of @body: @on_read fills up to @len bytes
	 * of @buf and returns how many (0 at the end; GUTS_READ_ABORT stops
	 * the transfer, which then fails with GUTS_EIO).  @upload_len is the
	 * body's length (Content-Length).  Nothing is held in memory.
	 */
	size_t (*on_read)(void *ud, char *buf, size_t len);
	void *read_ud;
	unsigned long long upload_len;
};

/* What on_read returns to stop a streamed upload. */
#define GUTS_READ_ABORT ((size_t)-1)

/**
 * @method @path (starting with '/', query included) against the base URL.
 * @opts may be NULL.
 */
int guts_http_request(struct guts_http *h, const char *method, const char *path,
		      const struct guts_http_opts *opts,
		      struct guts_http_resp *r);

/**
 * A JSON call: @body (may be NULL) is sent as JSON, and the answer is
 * parsed into *out when it is JSON (NULL otherwise, e.g. for 204).
 * Returns what guts_http_request() returns; a 2xx answer that is not valid
 * JSON is GUTS_EIO.
 */
int guts_http_json(struct guts_http *h, const char *method, const char *path,
		   const json_t *body, long timeout_ms, long *status,
		   json_t **out);

/**
 * The message of an {"error":{"code","message"}} answer, or a generic one
 * naming the status ("HTTP 502").  The result lives in @h until its next
 * call.
 */
const char *guts_http_error_text(struct guts_http *h, long status,
				 const json_t *answer);

/** Percent-encode @s for a path segment or query value (malloc'd). */
char *guts_http_escape(const char *s);

#endif
