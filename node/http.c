/* The HTTP layer over libmicrohttpd: see http.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "http.h"
#include "ws.h"
#include "banned.h"

struct waiter {
	struct http_req *r;
	struct waiter *next;
};

static const struct {
	const char *code;
	int status;
} error_codes[] = {
    {"bad_request", 400},   {"unauthorized", 401},	 {"forbidden", 403},
    {"not_found", 404},	    {"method_not_allowed", 405}, {"conflict", 409},
    {"stale_lease", 409},   {"offset_gap", 409},	 {"too_large", 413},
    {"unprocessable", 422}, {"protocol_version", 426},	 {"internal", 500},
    {"unavailable", 503},
};

static int code_status(const char *code)
{
	for (size_t i = 0; i < sizeof(error_codes) / sizeof(error_codes[0]);
	     i++)
		if (!strcmp(error_codes[i].code, code))
			return error_codes[i].status;
	return 500;
}

/* ---- answers ------------------------------------------------------------ */

static void add_common(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Server", "guts-node/" GUTS_NODE_VERSION);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
}

void http_respond(struct http_req *r, int status, void *response)
{
	struct MHD_Response *resp = response;

	if (r->answered) {
		MHD_destroy_response(resp);
		return;
	}
	add_common(resp);
	r->answered = 1;
	r->status = status;
	MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
}

void http_text(struct http_req *r, int status, const char *ctype,
	       const char *data, size_t len, const char *const *headers)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    len, (void *)data, MHD_RESPMEM_MUST_COPY);

	if (ctype)
		MHD_add_response_header(resp, "Content-Type", ctype);
	for (const char *const *h = headers; h && *h; h += 2)
		MHD_add_response_header(resp, h[0], h[1]);
	http_respond(r, status, resp);
}

void http_json_link(struct http_req *r, int status, json_t *body,
		    const char *link)
{
	char *text;
	size_t len;
	struct MHD_Response *resp;

	if (!body) {
		/* A json_pack() that failed: a bug, said as one. */
		nlog(LOG_ERROR, "%s %s: no JSON to answer with", r->method,
		     r->path);
		status = 500;
		body = json_pack("{s:{s:s, s:s}}", "error", "code", "internal",
				 "message", "the answer could not be built");
	}
	text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(body);
	len = strlen(text);
	/* A newline at the end, as curl users expect. */
	text = guts_xrealloc(text, len + 2);
	text[len++] = '\n';
	text[len] = '\0';
	resp =
	    MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	if (link)
		MHD_add_response_header(resp, "Link", link);
	http_respond(r, status, resp);
}

void http_json(struct http_req *r, int status, json_t *body)
{
	http_json_link(r, status, body, NULL);
}

void http_empty(struct http_req *r, int status)
{
	http_respond(
	    r, status,
	    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT));
}

void http_error(struct http_req *r, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_json(
	    r, code_status(code),
	    json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
}

void http_fail(struct http_req *r, int err)
{
	const char *m = guts_error_message();

	switch (err) {
	case GUTS_EINVAL:
		http_error(r, "bad_request", "%s", m);
		break;
	case GUTS_ENOTFOUND:
		http_error(r, "not_found", "%s", m);
		break;
	case GUTS_ECONFLICT:
		http_error(r, "conflict", "%s", m);
		break;
	case GUTS_ETOOBIG:
		http_error(r, "too_large", "%s", m);
		break;
	case GUTS_EPERM:
		http_error(r, "forbidden", "%s", m);
		break;
	default:
		nlog(LOG_ERROR, "%s %s: %s", r->method, r->path, m);
		http_error(r, "internal", "%s", m);
	}
}

/* ---- the request -------------------------------------------------------- */

const char *http_query(struct http_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

json_t *http_body_json(struct http_req *r)
{
	json_error_t e;
	json_t *v;

	if (!r->body.len) {
		http_error(r, "bad_request", "a JSON body is required");
		return NULL;
	}
	v = json_loadb(r->body.data, r->body.len, 0, &e);
	if (!v) {
		http_error(r, "bad_request", "malformed JSON at line %d: %s",
			   e.line, e.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		http_error(r, "bad_request", "the body must be a JSON object");
		return NULL;
	}
	return v;
}

void http_page(struct http_req *r, int64_t *limit, int64_t *offset)
{
	const char *p = http_query(r, "page"), *pp = http_query(r, "per_page");
	int64_t page = 1, per = 30;

	if (node_int(p, 1, &page) < 0)
		page = 1;
	if (node_int(pp, 30, &per) < 0)
		per = 30;

	if (page < 1)
		page = 1;
	if (per < 1)
		per = 30;
	if (per > 100)
		per = 100;
	*limit = per;
	*offset = (page - 1) * per;
}

char *http_link(struct http_req *r, int64_t total)
{
	int64_t limit, offset, page, last;
	struct guts_buf b;
	const char *host = http_header(r, "Host");

	http_page(r, &limit, &offset);
	page = offset / limit + 1;
	last = total ? (total + limit - 1) / limit : 1;
	if (last <= 1)
		return NULL;
	guts_buf_init(&b, 0);
#define LINK(pg, rel)                                                        \
	guts_buf_addf(&b,                                                    \
		      "%s<http://%s%s?page=%lld&per_page=%lld>; rel=\"%s\"", \
		      b.len ? ", " : "", host ? host : "localhost", r->path, \
		      (long long)(pg), (long long)limit, rel)
	if (page < last)
		LINK(page + 1, "next");
	if (page > 1)
		LINK(page - 1, "prev");
	LINK(1, "first");
	LINK(last, "last");
#undef LINK
	return guts_buf_detach(&b, NULL);
}

void http_json_page(struct http_req *r, json_t *all)
{
	int64_t limit, offset, total = (int64_t)json_array_size(all);
	json_t *page = json_array();
	char *link;

	http_page(r, &limit, &offset);
	for (int64_t i = offset; i < total && i < offset + limit; i++)
		json_array_append(page, json_array_get(all, (size_t)i));
	link = http_link(r, total);
	json_decref(all);
	http_json_link(r, 200, page, link);
	free(link);
}

/* ---- authentication ----------------------------------------------------- */

static int b64_decode(const char *in, char *out, size_t cap)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789+/";
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *in && *in != '='; in++) {
		const char *p = strchr(tbl, *in);

		if (!p || !*in)
			return -1;
		acc = (acc << 6) | (unsigned)(p - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= cap)
				return -1;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	return (int)n;
}

static enum scope scope_of(const char *s)
{
	if (!s)
		return SCOPE_NONE;
	if (!strcmp(s, "admin"))
		return SCOPE_ADMIN;
	if (!strcmp(s, "write"))
		return SCOPE_WRITE;
	if (!strcmp(s, "read"))
		return SCOPE_READ;
	return SCOPE_NONE;
}

int http_auth_token(struct node *n, const char *token, struct auth *who)
{
	char hash[65];
	json_t *row = NULL;

	node_token_hash(token, hash);
	if (!strncmp(token, "grn_", 4)) {
		if (store_query_one(
			n->st, "SELECT id FROM runners WHERE token_hash = $1",
			STORE_ARGS(SS(hash)), &row) == 0) {
			who->runner_id =
			    json_integer_value(json_object_get(row, "id"));
			json_decref(row);
			return 0;
		}
	} else if (!strncmp(token, "gjt_", 4)) {
		if (store_query_one(n->st,
				    "SELECT j.id, r.repo_id FROM jobs j JOIN "
				    "runs r ON r.id = j.run_id WHERE "
				    "j.job_token_hash = $1 AND j.status = "
				    "'in_progress'",
				    STORE_ARGS(SS(hash)), &row) == 0) {
			who->job_id =
			    json_integer_value(json_object_get(row, "id"));
			who->job_repo_id =
			    json_integer_value(json_object_get(row, "repo_id"));
			who->scope = SCOPE_READ;
			json_decref(row);
			return 0;
		}
	} else if (store_query_one(n->st,
				   "SELECT t.id, t.scope, u.id AS uid, u.name, "
				   "u.is_admin FROM tokens t JOIN users u ON "
				   "u.id = t.user_id WHERE t.hash = $1",
				   STORE_ARGS(SS(hash)), &row) == 0) {
		who->user_id = json_integer_value(json_object_get(row, "uid"));
		who->user = guts_xstrdup(
		    json_string_value(json_object_get(row, "name")));
		who->scope =
		    scope_of(json_string_value(json_object_get(row, "scope")));
		who->is_admin =
		    json_integer_value(json_object_get(row, "is_admin")) &&
		    who->scope == SCOPE_ADMIN;
		json_decref(row);
		return 0;
	}
	return GUTS_ENOTFOUND;
}

const char *http_bearer(const char *h, char *token, size_t cap)
{
	if (!strncasecmp(h, "Bearer ", 7))
		snprintf(token, cap, "%s", h + 7);
	else if (!strncasecmp(h, "token ", 6))
		snprintf(token, cap, "%s", h + 6);
	else if (!strncasecmp(h, "Basic ", 6)) {
		char dec[512], *colon;

		if (b64_decode(h + 6, dec, sizeof(dec)) < 0 ||
		    !(colon = strchr(dec, ':')))
			return "malformed Basic authorization";
		snprintf(token, cap, "%s", colon + 1);
	} else {
		return "unsupported Authorization scheme; use Bearer";
	}
	return NULL;
}

/*
 * Resolve the token, if any: 1 when the caller is known or anonymous,
 * 0 when a token was given and refused (answered 401).
 */
static int authenticate(struct http_req *r)
{
	const char *h = http_header(r, "Authorization"), *bad;
	char token[256];

	if (!h)
		return 1;
	bad = http_bearer(h, token, sizeof(token));
	if (bad) {
		http_error(r, "unauthorized", "%s", bad);
		return 0;
	}
	if (http_auth_token(r->node, token, &r->who) == 0)
		return 1;
	http_error(r, "unauthorized", "the token is not valid");
	return 0;
}

int http_need_user(struct http_req *r, enum scope s)
{
	if (!r->who.user_id) {
		http_error(r, "unauthorized",
			   "this needs a token (Authorization: Bearer TOKEN)");
		return 0;
	}
	if (r->who.scope < s) {
		static const char *const names[] = {"none", "read", "write",
						    "admin"};

		http_error(r, "forbidden",
			   "this needs a token with the '%s' scope; this one "
			   "has '%s'",
			   names[s], names[r->who.scope]);
		return 0;
	}
	return 1;
}

/* ---- routing ------------------------------------------------------------ */

/* Match @path against @pattern, capturing {} segments (decoded). */
static int match(const char *pattern, const char *path, struct http_req *r)
{
	size_t np = 0;

	while (*pattern && *path) {
		/* {*}: one or more segments, up to a literal tail. */
		if (!strncmp(pattern, "{*}", 3)) {
			size_t tail = strlen(pattern + 3), len = strlen(path);

			if (len <= tail ||
			    strcmp(path + len - tail, pattern + 3) ||
			    np >= sizeof(r->params) / sizeof(*r->params))
				goto fail;
			r->params[np++] = guts_xstrndup(path, len - tail);
			r->nparams = np;
			return 1;
		}
		if (pattern[0] == '{' && pattern[1] == '}') {
			const char *end = strchr(path, '/');
			size_t len = end ? (size_t)(end - path) : strlen(path);

			if (!len ||
			    np >= sizeof(r->params) / sizeof(*r->params))
				goto fail;
			r->params[np++] = guts_xstrndup(path, len);
			path += len;
			pattern += 2;
			continue;
		}
		if (*pattern != *path)
			goto fail;
		pattern++;
		path++;
	}
	if (*pattern || *path)
		goto fail;
	r->nparams = np;
	return 1;
fail:
	for (size_t i = 0; i < np; i++) {
		free(r->params[i]);
		r->params[i] = NULL;
	}
	return 0;
}

/* The route for the request, or NULL with *allowed set when only the method
 * differs. */
static const struct route *route_find(struct http_req *r, int *allowed)
{
	*allowed = 0;
	for (const struct route *rt = node_routes; rt->pattern; rt++) {
		if (!match(rt->pattern, r->path, r))
			continue;
		if (!strcmp(rt->method, r->method))
			return rt;
		*allowed = 1;
		for (size_t i = 0; i < r->nparams; i++) {
			free(r->params[i]);
			r->params[i] = NULL;
		}
		r->nparams = 0;
	}
	return NULL;
}

static int is_git_path(const char *path)
{
	const char *p;

	if (!strncmp(path, "/api/", 5))
		return 0;
	p = strstr(path, ".git/");
	return p && p > path + 1;
}

/* ---- long-polls --------------------------------------------------------- */

uint64_t http_wake_gen(struct node *n)
{
	uint64_t g;

	pthread_mutex_lock(&n->wait_lock);
	g = n->wake_gen;
	pthread_mutex_unlock(&n->wait_lock);
	return g;
}

int http_suspend_since(struct http_req *r, enum wait_kind kind, int64_t key,
		       int64_t deadline_ms, uint64_t gen)
{
	struct node *n = r->node;
	struct waiter *w;

	pthread_mutex_lock(&n->wait_lock);
	if (n->wake_gen != gen || n->stopping) {
		pthread_mutex_unlock(&n->wait_lock);
		return 0;
	}
	w = guts_xcalloc(1, sizeof(*w));
	w->r = r;
	r->wait_kind = kind;
	r->wait_key = key;
	r->deadline_ms = deadline_ms;
	MHD_suspend_connection(r->conn);
	r->suspended = 1;
	w->next = n->waiters;
	n->waiters = w;
	pthread_mutex_unlock(&n->wait_lock);
	return 1;
}

static void wake_where(struct node *n, int all, enum wait_kind kind,
		       int64_t key, int64_t now)
{
	struct waiter **pp, *w;

	pthread_mutex_lock(&n->wait_lock);
	if (!now)
		n->wake_gen++;
	pp = &n->waiters;
	while ((w = *pp)) {
		int hit = all || (now ? w->r->deadline_ms <= now
				      : w->r->wait_kind == kind &&
					    (!key || !w->r->wait_key ||
					     w->r->wait_key == key));

		if (!hit) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		MHD_resume_connection(w->r->conn);
		free(w);
	}
	pthread_mutex_unlock(&n->wait_lock);
}

void http_wake(struct node *n, enum wait_kind kind, int64_t key)
{
	wake_where(n, 0, kind, key, 0);
	/* A log grew or was archived: its WebSocket followers too. */
	if (kind == WAIT_LOG && key)
		ws_log_notify(n, key);
}

void http_wake_expired(struct node *n)
{
	wake_where(n, 0, WAIT_JOBS, 0, store_now_ms());
}

/* ---- the daemon's callbacks --------------------------------------------- */

static void dispatch(struct http_req *r)
{
	if (r->too_big) {
		if (r->cap_msg)
			http_error(r, "too_large", "%s", r->cap_msg);
		else
			http_error(r, "too_large",
				   "the request body is over %llu bytes",
				   r->body_cap);
		return;
	}
	if (r->is_git) {
		api_git(r);
		return;
	}
	if (!r->route) {
		int allowed;

		r->route = route_find(r, &allowed);
		if (!r->route) {
			if (allowed)
				http_error(r, "method_not_allowed",
					   "%s is not allowed on %s", r->method,
					   r->path);
			else
				http_error(r, "not_found", "no route for %s %s",
					   r->method, r->path);
			return;
		}
	}
	r->route->fn(r);
	if (!r->answered && !r->suspended) {
		nlog(LOG_ERROR, "%s %s: the handler gave no answer", r->method,
		     r->path);
		http_error(r, "internal", "no answer");
	}
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
				 const char *url, const char *method,
				 const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct node *n = cls;
	struct http_req *r = *con_cls;

	if (!r) {
		const char *cl;
		int allowed;

		r = guts_xcalloc(1, sizeof(*r));
		r->node = n;
		r->conn = conn;
		r->method = method;
		r->path = guts_xstrdup(url);
		r->t0_ms = store_now_ms();
		r->spool_fd = -1;
		*con_cls = r;
		r->is_git = is_git_path(r->path);
		if (!r->is_git)
			r->route = route_find(r, &allowed);
		r->body_cap = r->is_git ? HTTP_GIT_CAP
			      : r->route && r->route->body_cap
				  ? r->route->body_cap
				  : HTTP_BODY_CAP;
		guts_buf_init(&r->body, 0);
		if (n->stopping) {
			http_error(r, "unavailable",
				   "the node is shutting down");
			return MHD_YES;
		}
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 "Content-Length");
		if (!authenticate(r))
			return MHD_YES;
		for (const struct http_stream *s = node_streams;
		     r->route && s->fn; s++)
			if (s->fn == r->route->fn)
				r->stream = s;
		if (r->stream) {
			r->stream->open(r);
			if (r->answered)
				return MHD_YES;
		}
		/* Refused before any body is read: too big, or (git) not
		 * allowed. */
		if (cl && strtoull(cl, NULL, 10) > r->body_cap) {
			r->too_big = 1;
			/*
			 * Far over the cap: answer now and let MHD close the
			 * connection.  Otherwise the body is read and dropped
			 * first, so a client that writes its whole body before
			 * reading sees the 413 instead of a broken pipe.
			 */
			if (strtoull(cl, NULL, 10) >
			    r->body_cap + (64u << 20)) {
				if (r->cap_msg)
					http_error(r, "too_large", "%s",
						   r->cap_msg);
				else
					http_error(r, "too_large",
						   "the request body is over "
						   "%llu bytes",
						   r->body_cap);
			}
			return MHD_YES;
		}
		if (r->is_git)
			api_git_precheck(r);
		return MHD_YES;
	}
	if (r->answered) {
		/* Answered early (401, 503): drop whatever body comes. */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t len = *upload_size;

		*upload_size = 0;
		if (r->too_big)
			return MHD_YES;
		if ((unsigned long long)r->body.len + r->spool_len + len >
		    r->body_cap) {
			r->too_big = 1;
			return MHD_YES;
		}
		if (r->stream) {
			int rc =
			    r->sink_err ? 0 : r->stream->write(r, upload, len);

			if (rc < 0)
				r->sink_err = rc;
			r->spool_len += len;
		} else if (r->is_git) {
			if (r->spool_fd < 0) {
				r->spool_path = guts_xasprintf("%s/push-XXXXXX",
							       n->tmp_dir);
				r->spool_fd =
				    mkostemp(r->spool_path, O_CLOEXEC);
				if (r->spool_fd < 0) {
					nlog(LOG_ERROR, "spool %s: %s",
					     r->spool_path, strerror(errno));
					r->too_big = 1;
					return MHD_YES;
				}
			}
			if (write(r->spool_fd, upload, len) != (ssize_t)len) {
				nlog(LOG_ERROR, "spool: %s", strerror(errno));
				return MHD_NO;
			}
			r->spool_len += len;
		} else if (guts_buf_add(&r->body, upload, len) < 0) {
			r->too_big = 1;
		}
		return MHD_YES;
	}
	if (r->suspended) {
		r->suspended = 0;
		if (n->stopping) {
			http_error(r, "unavailable",
				   "the node is shutting down");
			return MHD_YES;
		}
	}
	dispatch(r);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *con_cls;

	(void)cls;
	(void)conn;
	if (!r)
		return;
	if (!r->is_git || r->status != 200 || node_log_level >= LOG_DEBUG)
		nlog(r->status >= 500 ? LOG_WARN : LOG_INFO,
		     "%s %s %d %lldms%s%s%s", r->method, r->path, r->status,
		     (long long)(store_now_ms() - r->t0_ms),
		     r->who.user ? " user=" : "",
		     r->who.user ? r->who.user : "",
		     toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
								: " (aborted)");
	if (r->state_free)
		r->state_free(r->state);
	for (size_t i = 0; i < r->nparams; i++)
		free(r->params[i]);
	if (r->spool_fd >= 0)
		close(r->spool_fd);
	if (r->spool_path) {
		unlink(r->spool_path);
		free(r->spool_path);
	}
	guts_buf_release(&r->body);
	free(r->cap_msg);
	free(r->who.user);
	free(r->path);
	free(r);
	*con_cls = NULL;
}

int http_listen(struct node *n, const char *addr, int port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return guts_error(
		    GUTS_EINVAL, "--listen %s: expected an IPv4 address", addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return guts_error_errno("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		int ret =
		    guts_error_errno("cannot listen on %s:%d", addr, port);

		close(fd);
		return ret;
	}
	n->listen_fd = fd;
	n->port = ntohs(sa.sin_port);
	return 0;
}

int http_start(struct node *n)
{
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
		MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, on_access, n, MHD_OPTION_LISTEN_SOCKET, n->listen_fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)n->cfg.threads,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, n,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)2048, MHD_OPTION_END);

	if (!d)
		return guts_error(GUTS_EIO,
				  "cannot start the HTTP server on "
				  "port %d",
				  n->port);
	n->mhd = d;
	return 0;
}

void http_stop(struct node *n)
{
	if (!n->mhd)
		return;
	n->stopping = 1;
	MHD_quiesce_daemon(n->mhd);
	/* Parked long-polls must be resumed before the daemon stops. */
	wake_where(n, 1, WAIT_JOBS, 0, 0);
	usleep(100 * 1000);
	wake_where(n, 1, WAIT_JOBS, 0, 0);
	/* Upgraded connections are the WebSocket layer's to close first. */
	ws_stop(n);
	MHD_stop_daemon(n->mhd);
	/* No HTTP thread can reach it now. */
	ws_free(n);
	n->mhd = NULL;
}
