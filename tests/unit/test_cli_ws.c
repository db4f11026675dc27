/*
 * Unit tests for the CLI's WebSocket client (cli/ws.c) against a tiny
 * WebSocket server in a thread: a loopback socket, the upgrade answered by
 * hand, frames written and read with wslay's frame API.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "guts/error.h"
#include "ws.h"

enum mode {
	WRONG_ACCEPT,  /* 101 with a Sec-WebSocket-Accept for another key */
	NOT_FOUND,     /* 404: a node without /api/ws */
	CONVERSATION,  /* fragments, a ping, a message in, a close from us */
	CLIENT_CLOSES, /* the client closes; we answer */
	DROP,	       /* the TCP connection ends without a close frame */
};

struct srv {
	enum mode mode;
	int lfd, port;
	pthread_t th;
	char req[4096]; /* the upgrade request as received */
	/* What the server saw, checked by the test's thread. */
	char err[256];
	int pong_ok;
	char text[512]; /* the client's text message */
	int text_masked;
	int close_code; /* of the client's close frame */
};

/* ---- the server's side --------------------------------------------------- */

static ssize_t srv_send(const uint8_t *data, size_t len, int flags, void *ud)
{
	ssize_t n = send(*(int *)ud, data, len, MSG_NOSIGNAL);

	(void)flags;
	return n > 0 ? n : -1;
}

static ssize_t srv_recv(uint8_t *buf, size_t len, int flags, void *ud)
{
	ssize_t n = recv(*(int *)ud, buf, len, 0);

	(void)flags;
	return n > 0 ? n : -1;
}

static int srv_genmask(uint8_t *buf, size_t len, void *ud)
{
	(void)ud;
	memset(buf, 0, len);
	return 0;
}

static int send_frame(wslay_frame_context_ptr f, int fin, int opcode,
		      const void *data, size_t len)
{
	struct wslay_frame_iocb io = {0};
	size_t off = 0;

	io.fin = (uint8_t)fin;
	io.opcode = (uint8_t)opcode;
	io.payload_length = len;
	do {
		ssize_t n;

		io.data = (const uint8_t *)data + off;
		io.data_length = len - off;
		n = wslay_frame_send(f, &io);
		if (n < 0)
			return -1;
		off += (size_t)n;
	} while (off < len);
	return 0;
}

/* One whole frame: its opcode, mask bit and payload (NUL-ended). */
static int read_frame(wslay_frame_context_ptr f, int *opcode, int *masked,
		      char *buf, size_t size, size_t *len)
{
	uint64_t want = 0;
	size_t got = 0;
	int first = 1;

	do {
		struct wslay_frame_iocb io = {0};
		ssize_t n = wslay_frame_recv(f, &io);

		if (n < 0)
			return -1;
		if (first) {
			*opcode = io.opcode;
			*masked = io.mask;
			want = io.payload_length;
			first = 0;
		}
		if (got + io.data_length >= size)
			return -1;
		memcpy(buf + got, io.data, io.data_length);
		got += io.data_length;
	} while (got < want);
	buf[got] = '\0';
	*len = got;
	return 0;
}

static char *accept_for(const char *key)
{
	static char out[64];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char both[128];

	snprintf(both, sizeof(both), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
		 key);
	EVP_Digest(both, strlen(both), md, &n, EVP_sha1(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, (int)n);
	return out;
}

static int read_request(struct srv *s, int fd)
{
	size_t len = 0;

	while (!strstr(s->req, "\r\n\r\n")) {
		ssize_t n = recv(fd, s->req + len, sizeof(s->req) - 1 - len, 0);

		if (n <= 0)
			return -1;
		len += (size_t)n;
		s->req[len] = '\0';
	}
	return 0;
}

#define FAIL(...)                                              \
	do {                                                   \
		snprintf(s->err, sizeof(s->err), __VA_ARGS__); \
		goto out;                                      \
	} while (0)

static void *serve(void *arg)
{
	struct wslay_frame_callbacks cb = {srv_send, srv_recv, srv_genmask};
	struct srv *s = arg;
	wslay_frame_context_ptr f = NULL;
	char head[1024], key[64] = "", buf[512];
	const char *k;
	size_t len;
	int fd, op = -1, masked = 0;

	fd = accept(s->lfd, NULL, NULL);
	if (fd < 0) {
		snprintf(s->err, sizeof(s->err), "accept failed");
		return NULL;
	}
	if (read_request(s, fd) < 0)
		FAIL("no request");
	k = strstr(s->req, "Sec-WebSocket-Key: ");
	if (k)
		sscanf(k + 19, "%63[^\r]", key);
	if (s->mode == NOT_FOUND) {
		const char *a = "HTTP/1.1 404 Not Found\r\nContent-Length: "
				"0\r\n\r\n";

		send(fd, a, strlen(a), MSG_NOSIGNAL);
		goto out;
	}
	len = (size_t)snprintf(
	    head, sizeof(head),
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
	    s->mode == WRONG_ACCEPT ? accept_for("another key")
				    : accept_for(key));
	if (s->mode == CONVERSATION) {
		/* A first frame in the same packet as the answer's headers. */
		static const char hello[] = "{\"event\":\"hello\"}";

		head[len++] = (char)0x81;
		head[len++] = (char)(sizeof(hello) - 1);
		memcpy(head + len, hello, sizeof(hello) - 1);
		len += sizeof(hello) - 1;
	}
	if (send(fd, head, len, MSG_NOSIGNAL) != (ssize_t)len)
		FAIL("cannot send the answer");
	if (s->mode == WRONG_ACCEPT) {
		/* Wait for the client to go. */
		recv(fd, buf, sizeof(buf), 0);
		goto out;
	}
	if (s->mode == DROP) {
		usleep(1000 * 1000);
		goto out;
	}
	if (wslay_frame_context_init(&f, &cb, &fd) != 0)
		FAIL("wslay_frame_context_init");
	if (s->mode == CONVERSATION) {
		/* One message in three fragments, a ping between them. */
		if (send_frame(f, 0, WSLAY_TEXT_FRAME, "{\"event\":\"lo", 12) ||
		    send_frame(f, 1, WSLAY_PING, "p1", 2) ||
		    send_frame(f, 0, WSLAY_CONTINUATION_FRAME,
			       "g\",\"data\":\"ab", 13) ||
		    send_frame(f, 1, WSLAY_CONTINUATION_FRAME, "c\"}", 3))
			FAIL("cannot send the fragments");
		if (read_frame(f, &op, &masked, buf, sizeof(buf), &len))
			FAIL("no pong");
		s->pong_ok = op == WSLAY_PONG && masked && len == 2 &&
			     !memcmp(buf, "p1", 2);
		if (read_frame(f, &op, &masked, buf, sizeof(buf), &len) ||
		    op != WSLAY_TEXT_FRAME)
			FAIL("no text message (opcode %d)", op);
		snprintf(s->text, sizeof(s->text), "%s", buf);
		s->text_masked = masked;
		/* Going away: 1001 and a reason. */
		if (send_frame(f, 1, WSLAY_CONNECTION_CLOSE,
			       "\x03\xe9"
			       "bye",
			       5))
			FAIL("cannot send the close");
	} else {
		/* CLIENT_CLOSES: a message still on its way, then the close. */
		if (send_frame(f, 1, WSLAY_TEXT_FRAME, "{\"late\":1}", 10))
			FAIL("cannot send");
	}
	if (read_frame(f, &op, &masked, buf, sizeof(buf), &len) ||
	    op != WSLAY_CONNECTION_CLOSE || len < 2)
		FAIL("no close frame from the client (opcode %d)", op);
	s->close_code = ((unsigned char)buf[0] << 8) | (unsigned char)buf[1];
	if (s->mode == CLIENT_CLOSES &&
	    send_frame(f, 1, WSLAY_CONNECTION_CLOSE, "\x03\xe8", 2))
		FAIL("cannot answer the close");
out:
	if (f)
		wslay_frame_context_free(f);
	close(fd);
	return NULL;
}

static struct srv *srv_start(enum mode mode)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);

	assert_non_null(s);
	s->mode = mode;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
	return s;
}

/* Wait for the server's thread; fail the test with its complaint. */
static void srv_finish(struct srv *s)
{
	assert_int_equal(pthread_join(s->th, NULL), 0);
	close(s->lfd);
	if (*s->err)
		fail_msg("server: %s", s->err);
}

static struct guts_ws *connect_to(struct srv *s, const char *path,
				  const char *token, int *rc)
{
	struct guts_ws *ws = NULL;
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
	*rc = guts_ws_connect(&ws, url, token, 5000);
	return ws;
}

/* ---- the tests ----------------------------------------------------------- */

static void test_cli_ws__rejects_a_wrong_accept(void **state)
{
	struct srv *s;
	struct guts_ws *ws;
	const char *rfc = accept_for("dGhlIHNhbXBsZSBub25jZQ==");
	int rc;

	(void)state;
	/* The test server's accept is RFC 6455's own example (section 1.3),
	 * so a client that passes against it speaks to real servers. */
	assert_string_equal(rfc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	s = srv_start(WRONG_ACCEPT);
	ws = connect_to(s, "", NULL, &rc);
	assert_int_equal(rc, GUTS_EIO);
	assert_null(ws);
	assert_non_null(strstr(guts_error_message(), "Sec-WebSocket-Accept"));
	srv_finish(s);
	free(s);
}

static void test_cli_ws__a_node_without_the_endpoint_is_not_found(void **state)
{
	struct srv *s = srv_start(NOT_FOUND);
	struct guts_ws *ws;
	int rc;

	(void)state;
	ws = connect_to(s, "", NULL, &rc);
	assert_int_equal(rc, GUTS_ENOTFOUND);
	assert_null(ws);
	assert_non_null(strstr(guts_error_message(), "404"));
	srv_finish(s);
	free(s);
}

static void test_cli_ws__reassembles_fragments_and_answers_pings(void **state)
{
	struct srv *s = srv_start(CONVERSATION);
	struct guts_ws *ws;
	json_t *m = NULL, *sub;
	char host[64];
	int rc;

	(void)state;
	ws = connect_to(s, "/prefix/", "gut_secret", &rc);
	assert_int_equal(rc, 0);
	/* The upgrade: the base URL's path kept, the token sent. */
	assert_non_null(strstr(s->req, "GET /prefix/api/ws HTTP/1.1\r\n"));
	snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%d\r\n", s->port);
	assert_non_null(strstr(s->req, host));
	assert_non_null(strstr(s->req, "\r\nAuthorization: Bearer "
				       "gut_secret\r\n"));
	assert_non_null(strstr(s->req, "\r\nSec-WebSocket-Version: 13\r\n"));

	/* The frame that came with the answer's headers. */
	assert_int_equal(guts_ws_next(ws, &m, 5000), 1);
	assert_string_equal(json_string_value(json_object_get(m, "event")),
			    "hello");
	json_decref(m);
	/* Three fragments, one message. */
	assert_int_equal(guts_ws_next(ws, &m, 5000), 1);
	assert_string_equal(json_string_value(json_object_get(m, "event")),
			    "log");
	assert_string_equal(json_string_value(json_object_get(m, "data")),
			    "abc");
	json_decref(m);

	sub = json_pack("{s:[s]}", "subscribe", "run:7");
	assert_int_equal(guts_ws_send_json(ws, sub), 0);
	json_decref(sub);
	/* The server's close: an error naming its code, answered in kind. */
	m = NULL;
	assert_int_equal(guts_ws_next(ws, &m, 5000), GUTS_EIO);
	assert_null(m);
	assert_int_equal(guts_ws_close_code(ws), 1001);
	assert_non_null(strstr(guts_error_message(), "1001"));
	srv_finish(s);
	assert_true(s->pong_ok);
	assert_string_equal(s->text, "{\"subscribe\":[\"run:7\"]}");
	assert_true(s->text_masked);
	assert_int_equal(s->close_code, 1001);
	/* Nothing can be sent any more. */
	sub = json_object();
	assert_int_equal(guts_ws_send_json(ws, sub), GUTS_EIO);
	json_decref(sub);
	guts_ws_free(ws);
	free(s);
}

static void test_cli_ws__close_is_clean(void **state)
{
	struct srv *s = srv_start(CLIENT_CLOSES);
	struct guts_ws *ws;
	int rc;

	(void)state;
	ws = connect_to(s, "", NULL, &rc);
	assert_int_equal(rc, 0);
	assert_null(strstr(s->req, "Authorization"));
	assert_int_equal(guts_ws_close(ws, 5000), 0);
	assert_int_equal(guts_ws_close_code(ws), 1000);
	srv_finish(s);
	assert_int_equal(s->close_code, 1000);
	guts_ws_free(ws);
	free(s);
}

static void test_cli_ws__a_dropped_connection_is_an_error(void **state)
{
	struct srv *s = srv_start(DROP);
	struct guts_ws *ws;
	json_t *m = NULL;
	int rc;

	(void)state;
	ws = connect_to(s, "", NULL, &rc);
	assert_int_equal(rc, 0);
	/* Nothing yet: a time out, not an error. */
	assert_int_equal(guts_ws_next(ws, &m, 50), 0);
	assert_null(m);
	/* Then the server goes without a close frame. */
	assert_int_equal(guts_ws_next(ws, &m, 5000), GUTS_EIO);
	assert_null(m);
	assert_int_equal(guts_ws_close_code(ws), 0);
	assert_non_null(strstr(guts_error_message(), "closed"));
	srv_finish(s);
	guts_ws_free(ws);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cli_ws__rejects_a_wrong_accept),
	    cmocka_unit_test(
		test_cli_ws__a_node_without_the_endpoint_is_not_found),
	    cmocka_unit_test(
		test_cli_ws__reassembles_fragments_and_answers_pings),
	    cmocka_unit_test(test_cli_ws__close_is_clean),
	    cmocka_unit_test(test_cli_ws__a_dropped_connection_is_an_error),
	};

	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
