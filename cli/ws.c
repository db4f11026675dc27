/*
 * The CLI's WebSocket client (see ws.h): libcurl connects, we upgrade,
 * wslay frames.
 */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <wslay/wslay.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "ws.h"
#include "banned.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* The upgrade answer's status line and headers. */
#define HANDSHAKE_MAX (16 * 1024)
#define SEND_TIMEOUT_MS 10000L

struct guts_ws {
	CURL *curl;
	curl_socket_t fd;
	wslay_event_context_ptr ctx;
	/* Bytes that came right behind the upgrade answer: wslay's first. */
	char *early;
	size_t early_len, early_off;
	json_t *inbox; /* messages received, not yet returned */
	int eof;       /* the node ended the TCP connection */
	int broken;    /* a transport or protocol failure: nothing more */
	char why[256]; /* what broke it */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until @deadline (negative: none), for poll(). */
static int left_ms(long long deadline)
{
	long long d;

	if (deadline < 0)
		return -1;
	d = deadline - now_ms();
	if (d <= 0)
		return 0;
	return d > 60000 ? 60000 : (int)d;
}

/* Wait for @events on the socket; 1 ready, 0 time out, <0 an error. */
static int wait_socket(struct guts_ws *ws, short events, long long deadline)
{
	struct pollfd p = {.fd = ws->fd, .events = events};
	int r;

	do {
		r = poll(&p, 1, left_ms(deadline));
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return guts_error_errno("poll");
	return r > 0;
}

/* Send all of @data (the upgrade request) by @deadline. */
static int send_all(struct guts_ws *ws, const char *data, size_t len,
		    long long deadline)
{
	while (len) {
		size_t n = 0;
		CURLcode cc = curl_easy_send(ws->curl, data, len, &n);
		int r;

		if (cc == CURLE_OK && n) {
			data += n;
			len -= n;
			continue;
		}
		if (cc != CURLE_OK && cc != CURLE_AGAIN)
			return guts_error(GUTS_EIO, "sending: %s",
					  curl_easy_strerror(cc));
		r = wait_socket(ws, POLLOUT, deadline);
		if (r < 0)
			return r;
		if (!r)
			return guts_error(GUTS_EIO, "timed out sending the "
						    "WebSocket upgrade");
	}
	return 0;
}

static char *base64(const unsigned char *in, int len)
{
	char *out = guts_xmalloc(4 * (((size_t)len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, in, len);
	return out;
}

/* base64(SHA-1(key GUID)): what the answer's Sec-WebSocket-Accept says. */
static char *accept_for(const char *key)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *both = guts_xasprintf("%s" WS_GUID, key), *out = NULL;

	if (EVP_Digest(both, strlen(both), md, &mdlen, EVP_sha1(), NULL) == 1)
		out = base64(md, (int)mdlen);
	free(both);
	return out;
}

/* The value of header @name in the header block @h (NUL-ended), trimmed. */
static char *header_value(const char *h, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = strstr(h, "\r\n"); l; l = strstr(l, "\r\n")) {
		const char *v, *end;

		l += 2;
		if (strncasecmp(l, name, n) || l[n] != ':')
			continue;
		v = l + n + 1;
		end = strstr(v, "\r\n");
		if (!end)
			end = v + strlen(v);
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		return guts_xstrndup(v, (size_t)(end - v));
	}
	return NULL;
}

/* Whether the comma-separated @list holds @token (case-insensitive). */
static int list_has(const char *list, const char *token)
{
	size_t n = strlen(token);

	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!strncasecmp(p, token, n) &&
		    (!p[n] || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
			return 1;
		p = strchr(p, ',');
	}
	return 0;
}

/*
 * Read the answer to the upgrade up to its blank line and check it; what
 * follows the blank line is kept for wslay.
 */
static int read_answer(struct guts_ws *ws, const char *key, long long deadline)
{
	struct guts_buf b;
	char *want = NULL, *upgrade = NULL, *conn = NULL, *got = NULL, *end;
	size_t head;
	int status, rc;

	guts_buf_init(&b, HANDSHAKE_MAX);
	for (;;) {
		char chunk[4096];
		size_t n = 0;
		CURLcode cc =
		    curl_easy_recv(ws->curl, chunk, sizeof(chunk), &n);

		if (cc == CURLE_AGAIN) {
			rc = wait_socket(ws, POLLIN, deadline);
			if (rc < 0)
				goto out;
			if (!rc) {
				rc = guts_error(GUTS_EIO,
						"timed out waiting for the "
						"answer to the WebSocket "
						"upgrade");
				goto out;
			}
			continue;
		}
		if (cc != CURLE_OK) {
			rc = guts_error(GUTS_EIO, "reading: %s",
					curl_easy_strerror(cc));
			goto out;
		}
		if (!n) {
			rc = guts_error(GUTS_EIO, "the node closed the "
						  "connection during the "
						  "WebSocket upgrade");
			goto out;
		}
		if (guts_buf_add(&b, chunk, n) < 0) {
			rc = guts_error(GUTS_EIO, "the answer to the WebSocket "
						  "upgrade is too long");
			goto out;
		}
		end = memmem(b.data, b.len, "\r\n\r\n", 4);
		if (end)
			break;
	}
	head = (size_t)(end - b.data) + 4;
	if (head < b.len) {
		ws->early_len = b.len - head;
		ws->early = guts_xmalloc(ws->early_len);
		memcpy(ws->early, b.data + head, ws->early_len);
	}
	b.data[head - 2] = '\0'; /* the headers, each line ending in CRLF */
	if (strncmp(b.data, "HTTP/1.", 7) || b.len < 12 || b.data[8] != ' ' ||
	    sscanf(b.data + 9, "%3d", &status) != 1) {
		rc = guts_error(GUTS_EIO, "the answer to the WebSocket "
					  "upgrade is not HTTP");
		goto out;
	}
	if (status != 101) {
		rc = guts_error(GUTS_ENOTFOUND,
				"the node answered the WebSocket upgrade with "
				"HTTP %d",
				status);
		goto out;
	}
	upgrade = header_value(b.data, "Upgrade");
	conn = header_value(b.data, "Connection");
	if (!upgrade || strcasecmp(upgrade, "websocket") ||
	    !list_has(conn, "upgrade")) {
		rc = guts_error(GUTS_EIO, "the node's 101 answer does not "
					  "upgrade to websocket");
		goto out;
	}
	want = accept_for(key);
	got = header_value(b.data, "Sec-WebSocket-Accept");
	if (!want || !got || strcmp(want, got)) {
		rc = guts_error(GUTS_EIO, "the node's Sec-WebSocket-Accept "
					  "does not match the key");
		goto out;
	}
	rc = 0;
out:
	free(want);
	free(got);
	free(upgrade);
	free(conn);
	guts_buf_release(&b);
	return rc;
}

/* The upgrade request for @url (its path kept), with @key and @token. */
static int upgrade_request(struct guts_buf *req, const char *url,
			   const char *key, const char *token)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *path = NULL;
	size_t plen;
	int rc = 0;

	if (!u)
		return guts_error(GUTS_EIO, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		rc = guts_error(GUTS_EINVAL, "not a URL: %s", url);
		goto out;
	}
	/* Host: names the port only when the URL does. */
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	plen = strlen(path);
	while (plen && path[plen - 1] == '/')
		plen--;
	guts_buf_addf(req, "GET %.*s/api/ws HTTP/1.1\r\n", (int)plen, path);
	guts_buf_addf(req, "Host: %s%s%s\r\n", host, port ? ":" : "",
		      port ? port : "");
	guts_buf_adds(req, "Upgrade: websocket\r\n"
			   "Connection: Upgrade\r\n"
			   "Sec-WebSocket-Version: 13\r\n");
	guts_buf_addf(req, "Sec-WebSocket-Key: %s\r\n", key);
	if (token)
		guts_buf_addf(req, "Authorization: Bearer %s\r\n", token);
	guts_buf_adds(req, "User-Agent: guts\r\n\r\n");
out:
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

/* ---- wslay's callbacks --------------------------------------------------- */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
		       int flags, void *ud)
{
	struct guts_ws *ws = ud;
	size_t n = 0;
	CURLcode cc;

	(void)flags;
	if (ws->early_off < ws->early_len) {
		n = ws->early_len - ws->early_off;
		if (n > len)
			n = len;
		memcpy(buf, ws->early + ws->early_off, n);
		ws->early_off += n;
		return (ssize_t)n;
	}
	cc = curl_easy_recv(ws->curl, buf, len, &n);
	if (cc == CURLE_AGAIN) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (cc != CURLE_OK || !n) {
		if (cc != CURLE_OK)
			snprintf(ws->why, sizeof(ws->why), "reading: %s",
				 curl_easy_strerror(cc));
		else
			ws->eof = 1;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)n;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data,
		       size_t len, int flags, void *ud)
{
	struct guts_ws *ws = ud;
	size_t n = 0;
	CURLcode cc;

	(void)flags;
	cc = curl_easy_send(ws->curl, data, len, &n);
	if (cc == CURLE_AGAIN || (cc == CURLE_OK && !n)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (cc != CURLE_OK) {
		snprintf(ws->why, sizeof(ws->why), "sending: %s",
			 curl_easy_strerror(cc));
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)n;
}

static int on_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
		      void *ud)
{
	(void)ud;
	if (RAND_bytes(buf, (int)len) != 1) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return 0;
}

static void on_msg(wslay_event_context_ptr ctx,
		   const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
	struct guts_ws *ws = ud;
	json_t *v;

	(void)ctx;
	if (arg->opcode != WSLAY_TEXT_FRAME)
		return; /* pings are answered by wslay; close is looked at */
	v = json_loadb((const char *)arg->msg, arg->msg_length, 0, NULL);
	if (json_is_object(v))
		json_array_append(ws->inbox, v);
	json_decref(v);
}

/* ---- the connection ------------------------------------------------------ */

int guts_ws_connect(struct guts_ws **out, const char *base_url,
		    const char *token, long timeout_ms)
{
	static const struct wslay_event_callbacks cb = {
	    .recv_callback = on_recv,
	    .send_callback = on_send,
	    .genmask_callback = on_genmask,
	    .on_msg_recv_callback = on_msg,
	};
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
	struct guts_ws *ws = guts_xcalloc(1, sizeof(*ws));
	unsigned char raw[16];
	char *key = NULL, errbuf[CURL_ERROR_SIZE] = "";
	struct guts_buf req;
	CURLcode cc;
	int rc;

	guts_buf_init(&req, 0);
	ws->fd = CURL_SOCKET_BAD;
	ws->inbox = json_array();
	ws->curl = curl_easy_init();
	if (!ws->curl || !ws->inbox) {
		rc = guts_error(GUTS_EIO, "cannot set up a connection");
		goto out;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		rc = guts_error(GUTS_EIO, "no random bytes for the key");
		goto out;
	}
	key = base64(raw, sizeof(raw));
	rc = upgrade_request(&req, base_url, key, token);
	if (rc < 0)
		goto out;
	curl_easy_setopt(ws->curl, CURLOPT_URL, base_url);
	curl_easy_setopt(ws->curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(ws->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(ws->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ws->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(ws->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(deadline - now_ms()));
	cc = curl_easy_perform(ws->curl);
	/* The buffer goes out of scope: curl must not write to it later. */
	curl_easy_setopt(ws->curl, CURLOPT_ERRORBUFFER, NULL);
	if (cc != CURLE_OK) {
		rc = guts_error(GUTS_EIO, "%s",
				*errbuf ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	cc = curl_easy_getinfo(ws->curl, CURLINFO_ACTIVESOCKET, &ws->fd);
	if (cc != CURLE_OK || ws->fd == CURL_SOCKET_BAD) {
		rc = guts_error(GUTS_EIO, "no socket to the node");
		goto out;
	}
	rc = send_all(ws, req.data, req.len, deadline);
	if (!rc)
		rc = read_answer(ws, key, deadline);
	if (rc < 0)
		goto out;
	if (wslay_event_context_client_init(&ws->ctx, &cb, ws) != 0) {
		rc = guts_error(GUTS_EIO, "out of memory");
		goto out;
	}
	wslay_event_config_set_max_recv_msg_length(ws->ctx,
						   GUTS_WS_MAX_MESSAGE);
	*out = ws;
	ws = NULL;
out:
	guts_ws_free(ws);
	guts_buf_release(&req);
	free(key);
	return rc;
}

/* Why the connection is over, as an error. */
static int closed_error(struct guts_ws *ws)
{
	int code = guts_ws_close_code(ws);

	ws->broken = 1;
	if (code)
		return guts_error(
		    GUTS_EIO, "the node closed the WebSocket (code %d)", code);
	if (*ws->why)
		return guts_error(GUTS_EIO, "WebSocket: %s", ws->why);
	if (ws->eof)
		return guts_error(GUTS_EIO, "the node closed the connection");
	return guts_error(GUTS_EIO, "the WebSocket is closed");
}

/* Read and write what can be without blocking; <0 once it is over. */
static int pump(struct guts_ws *ws)
{
	if (ws->broken)
		return closed_error(ws);
	if (wslay_event_want_read(ws->ctx) && wslay_event_recv(ws->ctx) != 0)
		ws->broken = 1;
	/* Pongs and the answer to a close go out at once. */
	if (wslay_event_want_write(ws->ctx) && wslay_event_send(ws->ctx) != 0)
		ws->broken = 1;
	if (ws->broken || ws->eof)
		return closed_error(ws);
	return 0;
}

/*
 * Whether nothing more can come: read shut (a close came or went) and
 * nothing left to write.
 */
static int finished(struct guts_ws *ws)
{
	return !wslay_event_want_read(ws->ctx) &&
	       !wslay_event_want_write(ws->ctx);
}

static int flush(struct guts_ws *ws, long long deadline)
{
	while (wslay_event_want_write(ws->ctx)) {
		int r;

		if (wslay_event_send(ws->ctx) != 0) {
			ws->broken = 1;
			return closed_error(ws);
		}
		if (!wslay_event_want_write(ws->ctx))
			break;
		r = wait_socket(ws, POLLOUT, deadline);
		if (r < 0)
			return r;
		if (!r)
			return guts_error(GUTS_EIO, "timed out sending to the "
						    "node");
	}
	return 0;
}

int guts_ws_send_json(struct guts_ws *ws, const json_t *msg)
{
	struct wslay_event_msg m = {.opcode = WSLAY_TEXT_FRAME};
	char *text;
	int rc;

	if (ws->broken || !wslay_event_get_write_enabled(ws->ctx) ||
	    wslay_event_get_close_sent(ws->ctx))
		return closed_error(ws);
	text = json_dumps(msg, JSON_COMPACT);
	if (!text)
		return guts_error(GUTS_EINVAL, "cannot encode the message");
	m.msg = (const uint8_t *)text;
	m.msg_length = strlen(text);
	rc = wslay_event_queue_msg(ws->ctx, &m);
	free(text);
	if (rc != 0)
		return closed_error(ws);
	return flush(ws, now_ms() + SEND_TIMEOUT_MS);
}

int guts_ws_next(struct guts_ws *ws, json_t **msg, long timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	for (;;) {
		short events = POLLIN;
		int r;

		if (json_array_size(ws->inbox)) {
			*msg = json_incref(json_array_get(ws->inbox, 0));
			json_array_remove(ws->inbox, 0);
			return 1;
		}
		r = pump(ws);
		if (json_array_size(ws->inbox))
			continue;
		if (r < 0)
			return r;
		if (finished(ws) || wslay_event_get_close_received(ws->ctx))
			return closed_error(ws);
		if (wslay_event_want_write(ws->ctx))
			events |= POLLOUT;
		r = wait_socket(ws, events, deadline);
		if (r < 0)
			return r;
		if (!r)
			return 0;
	}
}

int guts_ws_close_code(const struct guts_ws *ws)
{
	if (!ws->ctx || !wslay_event_get_close_received(ws->ctx))
		return 0;
	return wslay_event_get_status_code_received(ws->ctx);
}

int guts_ws_close(struct guts_ws *ws, long timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int rc;

	if (ws->broken)
		return closed_error(ws);
	if (!wslay_event_get_close_sent(ws->ctx) &&
	    wslay_event_queue_close(ws->ctx, WSLAY_CODE_NORMAL_CLOSURE, NULL,
				    0) != 0)
		return closed_error(ws);
	rc = flush(ws, deadline);
	if (rc < 0)
		return rc;
	/* Messages still on their way are read and dropped. */
	while (!wslay_event_get_close_received(ws->ctx)) {
		json_t *m = NULL;

		rc = guts_ws_next(ws, &m, left_ms(deadline));
		json_decref(m);
		if (rc == 0)
			return guts_error(GUTS_EIO, "the node did not answer "
						    "the close");
		if (rc < 0)
			return wslay_event_get_close_received(ws->ctx) ? 0 : rc;
	}
	return 0;
}

void guts_ws_free(struct guts_ws *ws)
{
	if (!ws)
		return;
	if (ws->ctx)
		wslay_event_context_free(ws->ctx);
	if (ws->curl)
		curl_easy_cleanup(ws->curl);
	json_decref(ws->inbox);
	free(ws->early);
	free(ws);
}
