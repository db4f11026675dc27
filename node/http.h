/*
 * guts-node's HTTP layer over libmicrohttpd: one routing table, bodies read
 * under a per-route cap, authentication before any handler runs, JSON
 * answers, errors as {"error":{"code","message"}} with the status taken
 * from one table, an access log, and long-polls that park the connection
 * (MHD suspend/resume) instead of holding a thread.
 *
 * A handler must end in exactly one of: an http_json/http_error/... answer,
 * or http_suspend_since() (it is then called again when woken or timed
 * out).
 */
#ifndef GUTS_NODE_HTTP_H
#define GUTS_NODE_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "guts/buf.h"
#include "node.h"

#define HTTP_BODY_CAP (1u << 20)
#define HTTP_LOG_CAP (8u << 20)
#define HTTP_GIT_CAP (1ull << 30)

enum scope { SCOPE_NONE, SCOPE_READ, SCOPE_WRITE, SCOPE_ADMIN };

/* Who is calling. */
struct auth {
	int64_t user_id; /* 0: anonymous (or a runner / job token) */
	char *user;
	int is_admin;
	enum scope scope;
	int64_t runner_id; /* a runner token */
	int64_t job_id;	   /* a job token: that job, while it runs */
	int64_t job_repo_id;
};

struct http_req;
typedef void (*http_fn)(struct http_req *r);

struct route {
	const char *method;
	/* "/api/repos/{}/{}": {} captures a segment; {*} (last capture
	 * only) one or more, as for branch names with slashes */
	const char *pattern;
	http_fn fn;
	size_t body_cap; /* 0: HTTP_BODY_CAP */
};

/*
 * Routes whose body is streamed (blob uploads), by handler: @open runs
 * once the headers are in and the caller is authenticated; it may answer
 * (the body is then dropped) and may set r->body_cap and r->cap_msg.
 * @write then gets each piece of the body instead of r->body; a negative
 * return stops the pieces (the handler then sees r->sink_err).  The
 * handler runs at the end, as for any route.
 */
struct http_stream {
	http_fn fn;
	void (*open)(struct http_req *r);
	int (*write)(struct http_req *r, const char *data, size_t len);
};

/* What a parked long-poll waits for. */
enum wait_kind { WAIT_JOBS, WAIT_LOG, WAIT_CANCEL };

struct http_req {
	struct node *node;
	void *conn; /* struct MHD_Connection * */
	const char *method;
	char *path;
	const struct route *route;
	char *params[6];
	size_t nparams;
	struct guts_buf body;
	unsigned long long body_cap;
	int too_big;
	/* git pushes are spooled to a file instead of memory */
	int spool_fd;
	char *spool_path;
	unsigned long long spool_len;
	int is_git;
	/* streamed bodies (struct http_stream) */
	const struct http_stream *stream;
	char *cap_msg; /* what a 413 says instead of the bare cap */
	int sink_err;  /* the first negative return of route->write */
	struct auth who;
	int status;
	int64_t t0_ms;
	int answered;
	/* long-poll state */
	int suspended;
	enum wait_kind wait_kind;
	int64_t wait_key;
	int64_t deadline_ms;
	/* a handler's own state across re-entries */
	void *state;
	void (*state_free)(void *);
};

/**
 * Who @token is (runner, job or user token) into *who: 0, or
 * GUTS_ENOTFOUND for a token that is not valid.  The caller frees
 * who->user.
 */
int http_auth_token(struct node *n, const char *token, struct auth *who);
/** The token of an Authorization header value into @token: NULL, or what
 *  is wrong with the header. */
const char *http_bearer(const char *h, char *token, size_t cap);

/* Bind and listen (n->port is then known), before anything is served. */
int http_listen(struct node *n, const char *addr, int port);
/* Serve on that socket. */
int http_start(struct node *n);
/* Stop accepting, wake parked long-polls, stop the daemon. */
void http_stop(struct node *n);

/* The request. */
const char *http_query(struct http_req *r, const char *key);
const char *http_header(struct http_req *r, const char *name);
/** The body as JSON (an object); answers 400 itself and returns NULL. */
json_t *http_body_json(struct http_req *r);

/* Answers. */
void http_json(struct http_req *r, int status, json_t *body);
void http_json_link(struct http_req *r, int status, json_t *body,
		    const char *link);
void http_text(struct http_req *r, int status, const char *ctype,
	       const char *data, size_t len, const char *const *headers);
void http_empty(struct http_req *r, int status);
/* @code is a code of docs/api.md's table, which gives the status. */
void http_error(struct http_req *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Answer a negative guts_err with guts_error_message(). */
void http_fail(struct http_req *r, int err);
/* Answer with a ready MHD response (takes it). */
void http_respond(struct http_req *r, int status, void *response);

/* Pagination: ?page= and ?per_page= (30, at most 100). */
void http_page(struct http_req *r, int64_t *limit, int64_t *offset);
/* The Link header for a list of @total items, or NULL (malloc'd). */
char *http_link(struct http_req *r, int64_t total);
/* Answer 200 with the ?page= of @all (taken), and its Link header. */
void http_json_page(struct http_req *r, json_t *all);

/*
 * Park the request until http_wake(kind, key) (key 0 wakes every waiter of
 * the kind) or @deadline_ms; the handler then runs again.  Unless a wake
 * happened since @gen was read (http_wake_gen()): then it returns 0 without
 * parking and the handler should look again.
 */
int http_suspend_since(struct http_req *r, enum wait_kind kind, int64_t key,
		       int64_t deadline_ms, uint64_t gen);
uint64_t http_wake_gen(struct node *n);
void http_wake(struct node *n, enum wait_kind kind, int64_t key);
/* Wake the waiters whose deadline passed (the housekeeping thread). */
void http_wake_expired(struct node *n);

/* Access checks: answer 401/403/404 themselves and return 0 when denied. */
int http_need_user(struct http_req *r, enum scope s);

/* The routes (api.c) and the git handler (api_git.c). */
extern const struct route node_routes[];
extern const struct http_stream node_streams[]; /* ends with a NULL fn */
void api_git(struct http_req *r);
int api_git_precheck(struct http_req *r);

#endif
