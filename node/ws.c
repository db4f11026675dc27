/*
 * The WebSocket API (docs/websocket.md): see ws.h for the threads.
 *
 * Flow of a log byte: a runner's append lands in the job's log file
 * (sched_log_append), http_wake(WAIT_LOG) calls ws_log_notify(), which
 * marks the job dirty and wakes this module's thread; the thread reads
 * from each follower's offset (joblog_read) and queues a `log` message,
 * as long as that connection's queue is below the low watermark.  Since
 * bytes are read from the file at send time, nothing is buffered per
 * follower beyond that watermark, and a follower that falls behind loses
 * nothing: it is read from where it is once its socket drains.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <wslay/wslay.h>
#include <zlib.h>

#include "api.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/alloc.h"
#include "http.h"
#include "hub.h"
#include "joblog.h"
#include "node.h"
#include "store.h"
#include "ws.h"
#include "ws_proto.h"

#include "banned.h"

#define WS_PROTOCOL 1
/* A client message, fragments reassembled. */
#define WS_MSG_MAX ((size_t)64 * 1024)
#define WS_TOPICS_MAX 256
#define WS_PING_MS 30000
#define WS_IDLE_MS 75000
#define WS_RECHECK_MS 60000
/* How long a connection that was told to go may take to say goodbye. */
#define WS_CLOSE_GRACE_MS 3000
/* The kernel's share of a connection's queue: fixed, not autotuned to
 * megabytes, so a thousand idle followers cost little. */
#define WS_SNDBUF (256 * 1024)
#define WS_QUEUE_MAX_DEFAULT ((size_t)1 << 20)
#define WS_STALL_MS_DEFAULT 10000
#define WS_CHUNK_CACHE 64
/* Chunks read at once from a finished job's (compressed) log. */
#define WS_ARCHIVE_READ 16
/* Messages shorter than this go uncompressed. */
#define WS_DEFLATE_MIN 256
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum topic_kind { T_REPO, T_RUN, T_LOG };

struct topic {
	enum topic_kind kind;
	char *name;	 /* canonical: "repo:o/r", "run:7", "job:42:logs" */
	int64_t id;	 /* repository, run or job id */
	int64_t log_id;	 /* T_LOG: whose log file (a kept job's source) */
	int64_t offset;	 /* T_LOG: the next byte to send */
	int complete;	 /* T_LOG: the job is over: end at the log's end */
	int behind;	 /* T_LOG: stopped at the watermark with more to send */
	int64_t repo_id; /* whose: dropped when it is deleted */
};

struct conn {
	struct ws *ws;
	int fd;
	struct MHD_UpgradeResponseHandle *urh;
	wslay_event_context_ptr ctx;
	char *extra; /* bytes MHD read past the request */
	size_t extra_len, extra_off;
	struct auth who;
	char token_hash[65]; /* "" without a token */
	int64_t checked_at;  /* when the token was last found valid */
	unsigned long msgs;  /* messages received */
	struct topic *topics;
	size_t nr_topics;
	int64_t last_rx, last_ping, full_since, close_by;
	uint16_t close_code;   /* a close waiting for the queue to drain */
	const char *close_why; /* static */
	uint64_t missed;       /* events dropped since the last resync */
	unsigned long pumped;  /* log messages queued, ever */
	uint32_t mask;	       /* epoll events registered */
	int dead;
	int deflate; /* permessage-deflate was agreed */
	struct conn *next;
};

struct pending {
	char *text; /* the hub's frame text */
	char *name;
	int64_t repo_id;
	json_t *data;
	uint64_t missed; /* the hub dropped this many before it */
	struct pending *next;
};

struct ws {
	struct node *n;
	pthread_t thread;
	int epfd, evfd;
	size_t queue_max, soft;
	int64_t stall_ms;
	struct hub_sub *sub;

	pthread_mutex_t mu; /* guards the inbox */
	struct pending *ev_head, **ev_tail;
	int64_t *dirty;
	size_t nr_dirty, alloc_dirty;
	struct conn *incoming;
	int stop;

	/* the thread's own */
	struct conn *conns;
	int64_t last_timer;
	/* The last log messages built, shared by followers at the same
	 * offset: followers at different places of one log each hit. */
	struct chunk {
		int64_t job, log_id, offset, next;
		char *text;
		size_t len;
		char *z; /* deflated, made the first time a follower wants it */
		size_t zlen;
	} chunks[WS_CHUNK_CACHE];
	z_stream def; /* raw deflate, reset for every message */
	int def_ok;
	unsigned chunk_next; /* the slot to reuse next */
};

static int64_t now_ms(void)
{
	return store_now_ms();
}

static void wake(struct ws *ws)
{
	uint64_t one = 1;

	if (write(ws->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		nlog(LOG_ERROR, "ws: eventfd: %s", strerror(errno));
}

/* ---- sending ------------------------------------------------------------ */

static size_t queued(struct conn *c)
{
	return wslay_event_get_queued_msg_length(c->ctx);
}

/*
 * Deflate @len bytes of @in as one permessage-deflate message (RFC 7692:
 * raw deflate, no context kept between messages, the final empty block's
 * 00 00 ff ff cut off).  Every connection can send the same bytes, since
 * none keeps a context.  NULL when it does not pay or fails.
 */
static char *deflate_msg(struct ws *ws, const char *in, size_t len,
			 size_t *zlen)
{
	z_stream *z = &ws->def;
	uLong cap;
	char *out;

	if (!ws->def_ok || len < WS_DEFLATE_MIN || deflateReset(z) != Z_OK)
		return NULL;
	cap = deflateBound(z, (uLong)len) + 16;
	out = guts_xmalloc(cap);
	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = (uInt)len;
	z->next_out = (Bytef *)out;
	z->avail_out = (uInt)cap;
	if (deflate(z, Z_SYNC_FLUSH) != Z_OK || z->avail_in ||
	    cap - z->avail_out < 4 || cap - z->avail_out >= len) {
		free(out);
		return NULL;
	}
	*zlen = cap - z->avail_out - 4;
	return out;
}

/* Queue @text, or its deflated form @z when the connection agreed. */
static void queue_msg(struct conn *c, const char *text, size_t len,
		      const char *z, size_t zlen)
{
	struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text,
				    len};
	uint8_t rsv = WSLAY_RSV_NONE;

	if (c->dead)
		return;
	if (c->deflate && z) {
		m.msg = (const uint8_t *)z;
		m.msg_length = zlen;
		rsv = WSLAY_RSV1_BIT;
	}
	if (wslay_event_queue_msg_ex(c->ctx, &m, rsv) != 0 &&
	    wslay_event_get_write_enabled(c->ctx))
		c->dead = 1;
}

static void queue_text(struct conn *c, const char *text, size_t len)
{
	queue_msg(c, text, len, NULL, 0);
}

/* Takes @msg. */
static void queue_json(struct conn *c, json_t *msg)
{
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;

	if (text)
		queue_text(c, text, strlen(text));
	free(text);
	json_decref(msg);
}

static void send_error(struct conn *c, const char *code, const char *topic,
		       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void send_error(struct conn *c, const char *code, const char *topic,
		       const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *d;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d = json_pack("{s:s, s:s}", "code", code, "message", msg);
	if (d && topic)
		json_object_set_new(d, "topic", json_string(topic));
	queue_json(c, json_pack("{s:s, s:o}", "event", "error", "data", d));
}

/*
 * Close with @code once what is queued has gone: wslay sends control
 * frames ahead of queued messages, and nothing after a close, so an error
 * message queued just before would be lost.
 */
static void send_close(struct conn *c, uint16_t code, const char *why)
{
	if (c->dead || c->close_by)
		return;
	c->close_code = code;
	c->close_why = why;
	c->close_by = now_ms() + WS_CLOSE_GRACE_MS;
}

static void close_if_drained(struct conn *c)
{
	if (!c->close_code || wslay_event_get_queued_msg_count(c->ctx))
		return;
	wslay_event_queue_close(c->ctx, c->close_code,
				(const uint8_t *)c->close_why,
				strlen(c->close_why));
	c->close_code = 0;
	if (wslay_event_send(c->ctx) != 0)
		c->dead = 1;
}

static void set_mask(struct conn *c)
{
	uint32_t m = 0;
	struct epoll_event ev = {0};

	if (c->dead)
		return;
	/* A client that does not read its answers is not read either: what
	 * it asks for cannot pile up here. */
	if (wslay_event_want_read(c->ctx) && queued(c) < c->ws->queue_max)
		m |= EPOLLIN;
	if (wslay_event_want_write(c->ctx))
		m |= EPOLLOUT;
	if (!m && !wslay_event_want_read(c->ctx)) {
		/* Both ways closed: the close handshake is over. */
		c->dead = 1;
		return;
	}
	if (m == c->mask)
		return;
	ev.events = m;
	ev.data.ptr = c;
	if (epoll_ctl(c->ws->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		c->dead = 1;
	c->mask = m;
}

static void pump_conn(struct conn *c);

/* Send what the socket takes; then read more logs when the queue drained. */
static void flush(struct conn *c)
{
	if (c->dead)
		return;
	/* Until the socket takes no more, or there is nothing to read. */
	for (;;) {
		unsigned long before = c->pumped;

		if (wslay_event_send(c->ctx) != 0) {
			c->dead = 1;
			return;
		}
		if (queued(c) >= c->ws->soft) {
			if (!c->full_since)
				c->full_since = now_ms();
			break;
		}
		c->full_since = 0;
		if (c->missed) {
			queue_json(c, json_pack("{s:s, s:I, s:s}", "event",
						"resync", "missed",
						(json_int_t)c->missed, "reason",
						"slow consumer"));
			c->missed = 0;
		}
		pump_conn(c);
		if (c->dead || c->pumped == before) {
			if (!c->dead && wslay_event_send(c->ctx) != 0)
				c->dead = 1;
			break;
		}
	}
	if (!c->dead)
		close_if_drained(c);
	set_mask(c);
}

/* ---- wslay's callbacks -------------------------------------------------- */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
		       int flags, void *user)
{
	struct conn *c = user;
	ssize_t r;

	(void)flags;
	if (c->extra_off < c->extra_len) {
		size_t k = c->extra_len - c->extra_off;

		if (k > len)
			k = len;
		memcpy(buf, c->extra + c->extra_off, k);
		c->extra_off += k;
		c->last_rx = now_ms();
		return (ssize_t)k;
	}
	do
		r = recv(c->fd, buf, len, 0);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		c->last_rx = now_ms();
		return r;
	}
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data,
		       size_t len, int flags, void *user)
{
	struct conn *c = user;
	ssize_t r;

	do
		r = send(c->fd, data, len,
			 MSG_NOSIGNAL |
			     ((flags & WSLAY_MSG_MORE) ? MSG_MORE : 0));
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static void on_message(struct conn *c, const char *data, size_t len);

static void on_msg(wslay_event_context_ptr ctx,
		   const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	struct conn *c = user;

	(void)ctx;
	if (arg->opcode == WSLAY_TEXT_FRAME && (arg->rsv & WSLAY_RSV1_BIT)) {
		struct guts_buf b;
		int r;

		guts_buf_init(&b, 0);
		r = ws_inflate_msg(arg->msg, arg->msg_length, WS_MSG_MAX, &b);
		c->msgs++;
		if (r == 0)
			on_message(c, b.data, b.len);
		else
			send_close(
			    c,
			    r > 0 ? WSLAY_CODE_MESSAGE_TOO_BIG
				  : WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA,
			    r > 0 ? "message too big" : "bad deflate data");
		guts_buf_release(&b);
	} else if (arg->opcode == WSLAY_TEXT_FRAME) {
		c->msgs++;
		on_message(c, (const char *)arg->msg, arg->msg_length);
	} else if (arg->opcode == WSLAY_BINARY_FRAME) {
		c->msgs++;
		send_error(c, "bad_request", NULL,
			   "binary messages are not understood; send JSON "
			   "text");
	}
	/* Pings are answered by wslay, closes too. */
}

/* ---- access ------------------------------------------------------------- */

static int can_read(const struct auth *who, const json_t *repo)
{
	const char *owner = api_str(repo, "owner");

	if (!strcmp(api_str(repo, "visibility"), "public") || who->is_admin)
		return 1;
	if (who->user && owner && !strcmp(who->user, owner))
		return 1;
	return who->job_id && who->job_repo_id == api_int(repo, "id");
}

/* The token this connection came with is still valid (not revoked). */
static int token_valid(struct conn *c)
{
	json_t *row = NULL;
	int ret;

	if (!c->token_hash[0])
		return 1;
	/* A job token lives as long as its job runs, as on the REST API. */
	ret = store_query_one(
	    c->ws->n->st,
	    c->who.job_id ? "SELECT id FROM jobs WHERE job_token_hash = "
			    "$1 AND status = 'in_progress'"
			  : "SELECT id FROM tokens WHERE hash = $1",
	    STORE_ARGS(SS(c->token_hash)), &row);
	json_decref(row);
	return ret != GUTS_ENOTFOUND;
}

/* ---- logs --------------------------------------------------------------- */

static void drop_topic(struct conn *c, size_t i)
{
	free(c->topics[i].name);
	memmove(&c->topics[i], &c->topics[i + 1],
		(c->nr_topics - i - 1) * sizeof(*c->topics));
	c->nr_topics--;
}

/*
 * The `log` message for bytes from @t->offset: built once and shared by
 * every follower at the same place.  0 with *text NULL when there is
 * nothing to send yet; negative on a read error.
 */
/* Cache the `log` message for @len bytes at @offset of the log. */
static struct chunk *chunk_add(struct ws *ws, const struct topic *t,
			       int64_t offset, const char *data, size_t len)
{
	struct guts_buf clean;
	json_t *msg;
	struct chunk *c;

	guts_buf_init(&clean, 0);
	ws_utf8_clean(data, len, &clean);
	msg = json_pack("{s:s, s:I, s:I, s:I, s:s%}", "event", "log", "job",
			(json_int_t)t->id, "offset", (json_int_t)offset, "next",
			(json_int_t)offset + (json_int_t)len, "data",
			clean.data, clean.len);
	guts_buf_release(&clean);
	c = &ws->chunks[ws->chunk_next++ % WS_CHUNK_CACHE];
	free(c->text);
	free(c->z);
	c->z = NULL;
	c->text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	if (!c->text)
		return NULL;
	c->job = t->id;
	c->log_id = t->log_id;
	c->offset = offset;
	c->next = offset + (int64_t)len;
	c->len = strlen(c->text);
	return c;
}

/*
 * The `log` message for bytes from @t->offset, built once and shared by
 * every follower at the same place.  0 with *out NULL when there is
 * nothing to send yet; negative on a read error.  A finished job's log
 * is read WS_ARCHIVE_READ chunks at a time: its archive is decompressed
 * from the start on every read.
 */
static int log_chunk(struct ws *ws, const struct topic *t, struct chunk **out)
{
	size_t want = t->complete ? WS_ARCHIVE_READ : 1, at = 0;
	struct guts_buf raw;
	int64_t total = 0;
	int ret;

	*out = NULL;
	for (unsigned i = 0; i < WS_CHUNK_CACHE; i++) {
		struct chunk *k = &ws->chunks[i];

		if (k->text && k->job == t->id && k->log_id == t->log_id &&
		    k->offset == t->offset) {
			*out = k;
			return 0;
		}
	}
	guts_buf_init(&raw, want * JOBLOG_CHUNK + 16);
	ret = joblog_read(ws->n->logs_dir, t->log_id, t->offset,
			  t->offset + (int64_t)(want * JOBLOG_CHUNK), &raw,
			  &total);
	if (ret < 0) {
		guts_buf_release(&raw);
		return ret;
	}
	while (at < raw.len) {
		size_t n =
		    raw.len - at > JOBLOG_CHUNK ? JOBLOG_CHUNK : raw.len - at;
		int64_t off = t->offset + (int64_t)at;
		size_t keep = ws_utf8_cut(
		    raw.data + at, n, t->complete && off + (int64_t)n >= total);
		struct chunk *c;

		if (!keep)
			break;
		c = chunk_add(ws, t, off, raw.data + at, keep);
		if (!c) {
			guts_buf_release(&raw);
			return guts_error(GUTS_EIO, "out of memory");
		}
		if (!*out)
			*out = c;
		at += keep;
	}
	guts_buf_release(&raw);
	return 0;
}

/*
 * Queue log bytes of topic @i while the queue is below the watermark.
 * Returns 1 when the topic ended (log_end sent, topic removed).
 */
static int pump(struct conn *c, size_t i)
{
	struct topic *t = &c->topics[i];

	t->behind = 0;
	while (!c->dead) {
		struct chunk *k;

		if (queued(c) >= c->ws->soft) {
			t->behind = 1;
			return 0;
		}
		if (log_chunk(c->ws, t, &k) < 0) {
			send_error(c, "internal", t->name,
				   "cannot read the log of job %lld: %s",
				   (long long)t->id, guts_error_message());
			drop_topic(c, i);
			return 1;
		}
		if (!k)
			break;
		if (c->deflate && !k->z)
			k->z = deflate_msg(c->ws, k->text, k->len, &k->zlen);
		queue_msg(c, k->text, k->len, k->z, k->zlen);
		c->pumped++;
		t->offset = k->next;
	}
	if (t->complete && !c->dead) {
		queue_json(c, json_pack("{s:s, s:I, s:I}", "event", "log_end",
					"job", (json_int_t)t->id, "offset",
					(json_int_t)t->offset));
		drop_topic(c, i);
		return 1;
	}
	return 0;
}

static void pump_conn(struct conn *c)
{
	for (size_t i = 0; i < c->nr_topics;)
		if (c->topics[i].kind != T_LOG || !pump(c, i))
			i++;
}

static void pump_log(struct ws *ws, int64_t log_id, int completed_job)
{
	for (struct conn *c = ws->conns; c; c = c->next) {
		int touched = 0;

		for (size_t i = 0; i < c->nr_topics;) {
			struct topic *t = &c->topics[i];

			if (t->kind != T_LOG ||
			    (t->log_id != log_id && t->id != completed_job)) {
				i++;
				continue;
			}
			if (t->id == completed_job)
				t->complete = 1;
			touched = 1;
			if (!pump(c, i))
				i++;
		}
		if (touched)
			flush(c);
	}
}

/* ---- subscriptions ------------------------------------------------------ */

static ssize_t find_topic(struct conn *c, const char *name)
{
	for (size_t i = 0; i < c->nr_topics; i++)
		if (!strcmp(c->topics[i].name, name))
			return (ssize_t)i;
	return -1;
}

/*
 * Resolve topic @name for this connection into @t (t->name allocated).
 * 0, or -1 after sending the error for it.
 */
static int resolve(struct conn *c, const char *name, struct topic *t)
{
	struct store *st = c->ws->n->st;
	json_t *row = NULL;
	int ret;
	struct ws_topic_ref ref;
	char why[160];

	memset(t, 0, sizeof(*t));
	if (ws_topic_parse(name, &ref, why, sizeof(why)) < 0) {
		send_error(c, "bad_request", name, "%s", why);
		return -1;
	}
	t->id = ref.id;
	t->offset = ref.offset;
	if (ref.kind == WS_TOPIC_REPO) {
		ret = store_query_one(
		    st, "SELECT * FROM repos WHERE owner = $1 AND name = $2",
		    STORE_ARGS(SS(ref.owner), SS(ref.name)), &row);
		t->kind = T_REPO;
		if (ret == 0)
			t->id = api_int(row, "id");
	} else if (ref.kind == WS_TOPIC_RUN) {
		ret = store_query_one(st,
				      "SELECT p.* FROM runs r JOIN repos p ON "
				      "p.id = r.repo_id WHERE r.id = $1",
				      STORE_ARGS(SI(t->id)), &row);
		t->kind = T_RUN;
	} else {
		ret = store_query_one(
		    st,
		    "SELECT p.*, j.status AS job_status, j.copied_from FROM "
		    "jobs j JOIN runs r ON r.id = j.run_id JOIN repos p ON "
		    "p.id = r.repo_id WHERE j.id = $1",
		    STORE_ARGS(SI(t->id)), &row);
		t->kind = T_LOG;
		if (ret == 0) {
			t->log_id = api_int(row, "copied_from")
					? api_int(row, "copied_from")
					: t->id;
			t->complete =
			    !strcmp(api_str(row, "job_status"), "completed");
		}
	}
	if (ret == 0 && !can_read(&c->who, row))
		ret = GUTS_ENOTFOUND;
	if (ret == 0)
		t->repo_id = api_int(row, "id");
	json_decref(row);
	if (ret == GUTS_ENOTFOUND) {
		send_error(c, "not_found", name, "%s not found%s", name,
			   c->who.user_id ? ""
					  : " (private repositories need a "
					    "token)");
		return -1;
	}
	if (ret < 0) {
		send_error(c, "internal", name, "%s", guts_error_message());
		return -1;
	}
	if (t->kind == T_LOG)
		t->name = guts_xasprintf("job:%lld:logs", (long long)t->id);
	else
		t->name = guts_xstrdup(name);
	return 0;
}

/* A topic list fit to act on; else one error for all of it. */
static int list_ok(struct conn *c, const char *what, json_t *list)
{
	json_t *v;
	size_t i;

	if (json_array_size(list) > WS_TOPICS_MAX) {
		send_error(c, "too_large", NULL,
			   "%s: at most %d topics at once", what,
			   WS_TOPICS_MAX);
		return 0;
	}
	json_array_foreach(list, i, v) {
		if (!json_is_string(v)) {
			send_error(c, "bad_request", NULL,
				   "%s: topics are strings", what);
			return 0;
		}
	}
	return 1;
}

static void subscribe(struct conn *c, json_t *list)
{
	json_t *ok, *v;
	size_t i;

	if (!list_ok(c, "subscribe", list))
		return;
	if (!token_valid(c)) {
		send_error(c, "unauthorized", NULL,
			   "the token is no longer valid");
		send_close(c, WSLAY_CODE_POLICY_VIOLATION, "token revoked");
		return;
	}
	c->checked_at = now_ms();
	ok = json_array();
	json_array_foreach(list, i, v) {
		struct topic t;
		ssize_t at;

		if (resolve(c, json_string_value(v), &t) < 0)
			continue;
		at = find_topic(c, t.name);
		if (at >= 0) {
			/* Again: replaces it (a new offset restarts). */
			free(c->topics[at].name);
			c->topics[at] = t;
		} else if (c->nr_topics >= WS_TOPICS_MAX) {
			send_error(c, "too_large", t.name,
				   "at most %d topics per connection",
				   WS_TOPICS_MAX);
			free(t.name);
			continue;
		} else {
			c->topics = guts_xrealloc(
			    c->topics, (c->nr_topics + 1) * sizeof(*c->topics));
			c->topics[c->nr_topics++] = t;
		}
		json_array_append_new(ok, json_string(json_string_value(v)));
	}
	queue_json(c, json_pack("{s:s, s:{s:o}}", "event", "subscribed", "data",
				"topics", ok));
	pump_conn(c);
}

static void unsubscribe(struct conn *c, json_t *list)
{
	json_t *ok, *v;
	size_t i;

	if (!list_ok(c, "unsubscribe", list))
		return;
	ok = json_array();
	json_array_foreach(list, i, v) {
		const char *s = json_string_value(v);
		char *name;
		ssize_t at;

		if (!s)
			continue;
		/* "job:42:logs@100" names the same subscription. */
		name = guts_xstrdup(s);
		if (!strncmp(name, "job:", 4) && strchr(name, '@'))
			*strchr(name, '@') = 0;
		at = find_topic(c, name);
		if (at >= 0) {
			drop_topic(c, (size_t)at);
			json_array_append_new(ok, json_string(s));
		}
		free(name);
	}
	queue_json(c, json_pack("{s:s, s:{s:o}}", "event", "unsubscribed",
				"data", "topics", ok));
}

static void hello(struct conn *c)
{
	queue_json(
	    c, json_pack("{s:s, s:{s:i, s:o}}", "event", "hello", "data",
			 "protocol", WS_PROTOCOL, "user",
			 c->who.user ? json_string(c->who.user) : json_null()));
}

static void sign_in(struct conn *c, const char *token)
{
	struct auth who = {0};

	if (c->msgs > 1 || c->token_hash[0]) {
		send_error(c, "bad_request", NULL,
			   "a token goes in the first message only");
		return;
	}
	if (strlen(token) > 255 || http_auth_token(c->ws->n, token, &who) < 0 ||
	    who.runner_id) {
		free(who.user);
		send_error(c, "unauthorized", NULL, "the token is not valid");
		send_close(c, WSLAY_CODE_POLICY_VIOLATION, "bad token");
		return;
	}
	free(c->who.user);
	c->who = who;
	node_token_hash(token, c->token_hash);
	c->checked_at = now_ms();
	hello(c);
}

static void on_message(struct conn *c, const char *data, size_t len)
{
	json_error_t err;
	json_t *msg = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err), *v;
	const char *key;
	int known = 1;

	if (!json_is_object(msg)) {
		send_error(c, "bad_request", NULL, "expected a JSON object: %s",
			   msg ? "not an object" : err.text);
		json_decref(msg);
		return;
	}
	json_object_foreach(msg, key, v) {
		if (strcmp(key, "token") && strcmp(key, "subscribe") &&
		    strcmp(key, "unsubscribe")) {
			send_error(c, "bad_request", NULL,
				   "unknown field '%.64s'; expected token, "
				   "subscribe or unsubscribe",
				   key);
			known = 0;
		} else if (strcmp(key, "token") ? !json_is_array(v)
						: !json_is_string(v)) {
			send_error(c, "bad_request", NULL, "'%s' takes %s", key,
				   strcmp(key, "token") ? "an array of topics"
							: "a string");
			known = 0;
		}
	}
	if (known) {
		if ((v = json_object_get(msg, "token")))
			sign_in(c, json_string_value(v));
		if ((v = json_object_get(msg, "unsubscribe")))
			unsubscribe(c, v);
		if ((v = json_object_get(msg, "subscribe")))
			subscribe(c, v);
	}
	json_decref(msg);
}

/* ---- events ------------------------------------------------------------- */

static int64_t event_run_id(const json_t *data)
{
	json_t *o;

	if ((o = json_object_get(data, "workflow_run")))
		return api_int(o, "id");
	if ((o = json_object_get(data, "workflow_job")))
		return api_int(o, "run_id");
	if ((o = json_object_get(data, "check_run")))
		return api_int(o, "run_id");
	return 0;
}

/*
 * A repository was deleted: its topics go (ids may be handed out again to
 * a repository someone else may not read), and so do the log messages
 * built so far.
 */
static void forget_repo(struct ws *ws, int64_t repo_id)
{
	for (struct conn *c = ws->conns; c; c = c->next) {
		for (size_t i = 0; i < c->nr_topics;) {
			if (c->topics[i].repo_id != repo_id) {
				i++;
				continue;
			}
			send_error(c, "not_found", c->topics[i].name,
				   "the repository was deleted");
			drop_topic(c, i);
		}
		flush(c);
	}
	for (unsigned i = 0; i < WS_CHUNK_CACHE; i++) {
		free(ws->chunks[i].text);
		free(ws->chunks[i].z);
		ws->chunks[i].text = ws->chunks[i].z = NULL;
	}
}

static void deliver(struct ws *ws, struct pending *p)
{
	int64_t run_id = p->data ? event_run_id(p->data) : 0;
	size_t len = p->text ? strlen(p->text) : 0, zlen = 0;
	char *z = NULL;
	int tried = 0;

	if (p->name && !strcmp(p->name, "repository.deleted")) {
		forget_repo(ws, p->repo_id);
		return;
	}
	for (struct conn *c = ws->conns; c; c = c->next) {
		int hit = 0;

		if (p->missed) {
			/* The hub itself dropped events for us. */
			c->missed += p->missed;
			flush(c);
		}
		if (!p->text)
			continue;
		for (size_t i = 0; i < c->nr_topics && !hit; i++)
			hit = (c->topics[i].kind == T_REPO &&
			       c->topics[i].id == p->repo_id) ||
			      (c->topics[i].kind == T_RUN && run_id &&
			       c->topics[i].id == run_id);
		if (!hit)
			continue;
		if (queued(c) + len > ws->queue_max) {
			c->missed++;
			if (!c->full_since)
				c->full_since = now_ms();
			continue;
		}
		if (c->deflate && !tried) {
			z = deflate_msg(ws, p->text, len, &zlen);
			tried = 1;
		}
		queue_msg(c, p->text, len, z, zlen);
		flush(c);
	}
	free(z);
	/* A finished job: its followers get the rest and log_end. */
	if (p->name && !strcmp(p->name, "workflow_job.completed"))
		pump_log(
		    ws, -1,
		    api_int(json_object_get(p->data, "workflow_job"), "id"));
}

static void on_hub(const struct hub_event *ev, uint64_t missed, void *user)
{
	struct ws *ws = user;
	struct pending *p = guts_xcalloc(1, sizeof(*p));

	p->text = guts_xstrdup(ev->text);
	p->name = guts_xstrdup(ev->name);
	p->repo_id = ev->repo_id;
	p->data = json_incref(ev->data);
	p->missed = missed;
	pthread_mutex_lock(&ws->mu);
	*ws->ev_tail = p;
	ws->ev_tail = &p->next;
	pthread_mutex_unlock(&ws->mu);
	wake(ws);
}

/* ---- connections -------------------------------------------------------- */

static void conn_free(struct conn *c)
{
	if (c->ctx)
		wslay_event_context_free(c->ctx);
	for (size_t i = 0; i < c->nr_topics; i++)
		free(c->topics[i].name);
	free(c->topics);
	free(c->extra);
	free(c->who.user);
	free(c);
}

static void conn_close(struct conn *c)
{
	epoll_ctl(c->ws->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE) != MHD_YES)
		nlog(LOG_WARN, "ws: closing an upgraded connection failed");
	conn_free(c);
}

static void conn_add(struct ws *ws, struct conn *c)
{
	static const struct wslay_event_callbacks cb = {
	    on_recv, on_send, NULL, NULL, NULL, NULL, on_msg};
	struct epoll_event ev = {0};
	int fl = fcntl(c->fd, F_GETFL), one = 1, buf = WS_SNDBUF;

	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    wslay_event_context_server_init(&c->ctx, &cb, c) != 0) {
		conn_close(c);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	wslay_event_config_set_max_recv_msg_length(c->ctx, WS_MSG_MAX);
	if (c->deflate)
		wslay_event_config_set_allowed_rsv_bits(c->ctx, WSLAY_RSV1_BIT);
	c->last_rx = c->last_ping = now_ms();
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(ws->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		conn_close(c);
		return;
	}
	c->mask = EPOLLIN;
	c->next = ws->conns;
	ws->conns = c;
	hello(c);
	/* Frames the client sent along with the upgrade request. */
	if (c->extra_len && wslay_event_recv(c->ctx) != 0)
		c->dead = 1;
	flush(c);
}

static void reap(struct ws *ws)
{
	struct conn **pp = &ws->conns, *c;

	while ((c = *pp)) {
		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		conn_close(c);
	}
}

static void timers(struct ws *ws)
{
	int64_t now = now_ms();

	if (now - ws->last_timer < 500)
		return;
	ws->last_timer = now;
	for (struct conn *c = ws->conns; c; c = c->next) {
		if (c->close_by && now > c->close_by) {
			c->dead = 1;
			continue;
		}
		/* A revoked token, or a job token whose job ended, stops
		 * here within a minute, not at the next subscribe. */
		if (c->token_hash[0] && now - c->checked_at >= WS_RECHECK_MS &&
		    !c->close_by) {
			c->checked_at = now;
			if (!token_valid(c)) {
				send_error(c, "unauthorized", NULL,
					   "the token is no longer valid");
				send_close(c, WSLAY_CODE_POLICY_VIOLATION,
					   "token revoked");
				flush(c);
				continue;
			}
		}
		if (now - c->last_rx > WS_IDLE_MS) {
			send_close(c, WSLAY_CODE_GOING_AWAY, "idle");
			flush(c);
			continue;
		}
		if (now - c->last_rx >= WS_PING_MS &&
		    now - c->last_ping >= WS_PING_MS) {
			struct wslay_event_msg m = {WSLAY_PING, NULL, 0};

			c->last_ping = now;
			wslay_event_queue_msg(c->ctx, &m);
			flush(c);
		}
		/* A follower that cannot keep up: its log subscriptions go,
		 * each with the offset to come back at. */
		if (c->full_since && now - c->full_since >= ws->stall_ms) {
			for (size_t i = 0; i < c->nr_topics;) {
				struct topic *t = &c->topics[i];

				if (t->kind != T_LOG || !t->behind) {
					i++;
					continue;
				}
				queue_json(
				    c, json_pack("{s:s, s:I, s:I, s:s}",
						 "event", "resync", "job",
						 (json_int_t)t->id, "offset",
						 (json_int_t)t->offset,
						 "reason", "slow consumer"));
				drop_topic(c, i);
			}
			c->full_since = now;
		}
	}
}

static void inbox(struct ws *ws)
{
	struct pending *evs, *p, *next;
	struct conn *inc, *c, *cn;
	int64_t *dirty;
	size_t nr_dirty;
	uint64_t v;

	if (read(ws->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		nlog(LOG_ERROR, "ws: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&ws->mu);
	evs = ws->ev_head;
	ws->ev_head = NULL;
	ws->ev_tail = &ws->ev_head;
	inc = ws->incoming;
	ws->incoming = NULL;
	dirty = ws->dirty;
	nr_dirty = ws->nr_dirty;
	ws->dirty = NULL;
	ws->nr_dirty = ws->alloc_dirty = 0;
	pthread_mutex_unlock(&ws->mu);

	for (c = inc; c; c = cn) {
		cn = c->next;
		c->next = NULL;
		conn_add(ws, c);
	}
	for (size_t i = 0; i < nr_dirty; i++)
		pump_log(ws, dirty[i], -1);
	free(dirty);
	for (p = evs; p; p = next) {
		next = p->next;
		deliver(ws, p);
		free(p->text);
		free(p->name);
		json_decref(p->data);
		free(p);
	}
}

static void *ws_main(void *arg)
{
	struct ws *ws = arg;
	struct epoll_event evs[64];

	for (;;) {
		int k = epoll_wait(ws->epfd, evs, 64, 500);
		int stop;

		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;

			if (!c) {
				inbox(ws);
				continue;
			}
			if (c->dead)
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				if (wslay_event_recv(c->ctx) != 0)
					c->dead = 1;
			}
			flush(c);
		}
		timers(ws);
		reap(ws);
		pthread_mutex_lock(&ws->mu);
		stop = ws->stop;
		pthread_mutex_unlock(&ws->mu);
		if (stop)
			break;
	}
	/* Going away: say so to everyone, best effort, and close. */
	inbox(ws);
	for (struct conn *c = ws->conns; c; c = c->next) {
		if (!c->dead) {
			wslay_event_queue_close(
			    c->ctx, WSLAY_CODE_GOING_AWAY,
			    (const uint8_t *)"node shutting down", 18);
			wslay_event_send(c->ctx);
		}
		c->dead = 1;
	}
	reap(ws);
	return NULL;
}

/* ---- public ------------------------------------------------------------- */

static size_t env_size(const char *name, size_t def)
{
	int64_t v;

	if (node_int(getenv(name), (int64_t)def, &v) < 0 || v <= 0)
		return def;
	return (size_t)v;
}

int ws_start(struct node *n)
{
	struct ws *ws = guts_xcalloc(1, sizeof(*ws));
	struct epoll_event ev = {0};

	ws->n = n;
	ws->queue_max = env_size("GUTS_WS_QUEUE_MAX", WS_QUEUE_MAX_DEFAULT);
	ws->soft = ws->queue_max / 4;
	ws->stall_ms =
	    (int64_t)env_size("GUTS_WS_STALL_MS", WS_STALL_MS_DEFAULT);
	ws->ev_tail = &ws->ev_head;
	/* Window 2^15, raw (no zlib header), as RFC 7692 has it. */
	ws->def_ok = deflateInit2(&ws->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
				  -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
	pthread_mutex_init(&ws->mu, NULL);
	ws->epfd = epoll_create1(EPOLL_CLOEXEC);
	ws->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (ws->epfd < 0 || ws->evfd < 0 ||
	    epoll_ctl(ws->epfd, EPOLL_CTL_ADD, ws->evfd, &ev) < 0 ||
	    pthread_create(&ws->thread, NULL, ws_main, ws) != 0) {
		int ret = guts_error_errno("cannot start the WebSocket thread");

		if (ws->epfd >= 0)
			close(ws->epfd);
		if (ws->evfd >= 0)
			close(ws->evfd);
		pthread_mutex_destroy(&ws->mu);
		free(ws);
		return ret;
	}
	if (n->hub)
		hub_subscribe(n->hub, HUB_LIVE, on_hub, ws, &ws->sub);
	n->ws = ws;
	return 0;
}

void ws_stop(struct node *n)
{
	struct ws *ws = n->ws;
	int stopped;

	if (!ws)
		return;
	pthread_mutex_lock(&ws->mu);
	stopped = ws->stop;
	ws->stop = 1;
	pthread_mutex_unlock(&ws->mu);
	if (stopped)
		return;
	if (n->hub)
		hub_unsubscribe(n->hub, ws->sub);
	wake(ws);
	pthread_join(ws->thread, NULL);
}

void ws_free(struct node *n)
{
	struct ws *ws = n->ws;
	struct pending *p, *next;

	if (!ws)
		return;
	ws_stop(n);
	n->ws = NULL;
	/* What came in after the thread's last look. */
	for (p = ws->ev_head; p; p = next) {
		next = p->next;
		free(p->text);
		free(p->name);
		json_decref(p->data);
		free(p);
	}
	for (struct conn *c = ws->incoming, *cn; c; c = cn) {
		cn = c->next;
		MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
		conn_free(c);
	}
	free(ws->dirty);
	for (unsigned i = 0; i < WS_CHUNK_CACHE; i++) {
		free(ws->chunks[i].text);
		free(ws->chunks[i].z);
	}
	if (ws->def_ok)
		deflateEnd(&ws->def);
	close(ws->epfd);
	close(ws->evfd);
	pthread_mutex_destroy(&ws->mu);
	free(ws);
}

void ws_log_notify(struct node *n, int64_t log_id)
{
	struct ws *ws = n->ws;
	size_t i;

	if (!ws)
		return;
	pthread_mutex_lock(&ws->mu);
	for (i = 0; i < ws->nr_dirty && ws->dirty[i] != log_id; i++)
		;
	if (i == ws->nr_dirty) {
		if (ws->nr_dirty == ws->alloc_dirty) {
			ws->alloc_dirty =
			    ws->alloc_dirty ? ws->alloc_dirty * 2 : 16;
			ws->dirty = guts_xrealloc(
			    ws->dirty, ws->alloc_dirty * sizeof(*ws->dirty));
		}
		ws->dirty[ws->nr_dirty++] = log_id;
	}
	pthread_mutex_unlock(&ws->mu);
	wake(ws);
}

static void on_upgrade(void *cls, struct MHD_Connection *connection,
		       void *con_cls, const char *extra_in,
		       size_t extra_in_size, MHD_socket sock,
		       struct MHD_UpgradeResponseHandle *urh)
{
	struct conn *c = cls;
	struct ws *ws = c->ws;
	int stop;

	(void)connection;
	(void)con_cls;
	c->fd = sock;
	c->urh = urh;
	if (extra_in_size) {
		c->extra = guts_xmalloc(extra_in_size);
		memcpy(c->extra, extra_in, extra_in_size);
		c->extra_len = extra_in_size;
	}
	pthread_mutex_lock(&ws->mu);
	stop = ws->stop;
	if (!stop) {
		c->next = ws->incoming;
		ws->incoming = c;
	}
	pthread_mutex_unlock(&ws->mu);
	if (stop) {
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		conn_free(c);
		return;
	}
	wake(ws);
}

/* A header holds @token in its comma-separated list (case-insensitive). */
static int has_token(const char *h, const char *token)
{
	size_t n = strlen(token);

	while (h && *h) {
		while (*h == ' ' || *h == '\t' || *h == ',')
			h++;
		if (!strncasecmp(h, token, n) &&
		    (!h[n] || h[n] == ',' || h[n] == ' ' || h[n] == '\t'))
			return 1;
		h = strchr(h, ',');
	}
	return 0;
}

void ws_upgrade(struct http_req *r)
{
	const char *up = http_header(r, "Upgrade");
	const char *conn_h = http_header(r, "Connection");
	const char *ver = http_header(r, "Sec-WebSocket-Version");
	const char *key = http_header(r, "Sec-WebSocket-Key");
	const char *auth = http_header(r, "Authorization");
	unsigned char raw[32], sha[EVP_MAX_MD_SIZE];
	char accept[64], *cat;
	unsigned int shalen = 0;
	struct MHD_Response *resp;
	struct conn *c;

	if (!up || !has_token(up, "websocket") || !conn_h ||
	    !has_token(conn_h, "upgrade")) {
		http_error(r, "bad_request",
			   "GET /api/ws is a WebSocket endpoint: send "
			   "'Upgrade: websocket' and 'Connection: Upgrade'");
		return;
	}
	if (!ver || strcmp(ver, "13")) {
		const char *h[] = {"Sec-WebSocket-Version", "13", NULL};
		const char *body = "{\"error\":{\"code\":\"upgrade_required\","
				   "\"message\":\"only WebSocket version 13 "
				   "is spoken here\"}}";

		http_text(r, 426, "application/json", body, strlen(body), h);
		return;
	}
	if (!key || strlen(key) != 24 ||
	    EVP_DecodeBlock(raw, (const unsigned char *)key, 24) != 18) {
		http_error(r, "bad_request",
			   "Sec-WebSocket-Key must be 16 bytes in base64");
		return;
	}
	if (!r->node->ws || r->node->stopping) {
		http_error(r, "unavailable", "the node is shutting down");
		return;
	}
	cat = guts_xasprintf("%s" WS_GUID, key);
	if (!EVP_Digest(cat, strlen(cat), sha, &shalen, EVP_sha1(), NULL)) {
		free(cat);
		http_error(r, "internal", "SHA-1 failed");
		return;
	}
	free(cat);
	EVP_EncodeBlock((unsigned char *)accept, sha, (int)shalen);

	c = guts_xcalloc(1, sizeof(*c));
	c->ws = r->node->ws;
	c->fd = -1;
	c->who = r->who;
	c->who.user = r->who.user ? guts_xstrdup(r->who.user) : NULL;
	if (auth && (r->who.user_id || r->who.job_id)) {
		char token[256];

		if (!http_bearer(auth, token, sizeof(token)))
			node_token_hash(token, c->token_hash);
		c->checked_at = now_ms();
	}
	c->deflate =
	    ws_deflate_offered(http_header(r, "Sec-WebSocket-Extensions"));
	resp = MHD_create_response_for_upgrade(on_upgrade, c);
	if (!resp) {
		conn_free(c);
		http_error(r, "internal", "cannot upgrade");
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	if (c->deflate)
		MHD_add_response_header(resp, "Sec-WebSocket-Extensions",
					"permessage-deflate; "
					"server_no_context_takeover; "
					"client_no_context_takeover");
	http_respond(r, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
}
