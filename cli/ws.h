/*
 * A WebSocket client (RFC 6455) for the CLI's live commands: guts-node's
 * GET /api/ws, whose messages are JSON objects in text messages
 * (docs/websocket.md).
 *
 * libcurl opens the connection (CURLOPT_CONNECT_ONLY), so http and https,
 * TLS verification and proxies behave as for every other request; the
 * upgrade request and the check of its answer are done here, and wslay
 * does the framing in client mode.  One struct guts_ws is one connection
 * and is not thread-safe.  Pings are answered with pongs whenever the
 * connection is read.
 *
 * Errors follow guts/error.h: 0 or a negative enum guts_err, the reason in
 * guts_error_message().
 */
#ifndef GUTS_CLI_WS_H
#define GUTS_CLI_WS_H

#include <jansson.h>

struct guts_ws;

/* The most one message from the node may hold, reassembled. */
#define GUTS_WS_MAX_MESSAGE (16u << 20)

/**
 * Open a WebSocket to @base_url's "/api/ws" (a path in @base_url is kept in
 * front of it) within @timeout_ms, with "Authorization: Bearer @token" when
 * @token is set.  0 with *out set; GUTS_ENOTFOUND when the node answered
 * the upgrade with another status than 101 (a node without the endpoint);
 * GUTS_EIO when it could not be reached or its answer was not a valid
 * upgrade (a wrong Sec-WebSocket-Accept).
 */
int guts_ws_connect(struct guts_ws **out, const char *base_url,
		    const char *token, long timeout_ms);

/**
 * Send @msg as one text message (compact JSON), waiting at most 10 s for
 * the socket to take it.  GUTS_EIO once the connection is closed or broken.
 */
int guts_ws_send_json(struct guts_ws *ws, const json_t *msg);

/**
 * The next message from the node, waiting up to @timeout_ms (negative:
 * without limit).  1 with *msg set (the caller's reference), 0 when the
 * time ran out, GUTS_EIO when the connection is closed (by either side) or
 * broken: the message says how.  Messages that are not JSON objects are
 * skipped.
 */
int guts_ws_next(struct guts_ws *ws, json_t **msg, long timeout_ms);

/** The status code of the node's close frame; 0 while none came. */
int guts_ws_close_code(const struct guts_ws *ws);

/**
 * The close handshake: send a close (1000) unless one was sent, and wait
 * up to @timeout_ms for the node's.  0 when it came, else GUTS_EIO.  The
 * connection can only be freed afterwards.
 */
int guts_ws_close(struct guts_ws *ws, long timeout_ms);

/** Drop the connection (no close handshake) and free @ws; NULL is fine. */
void guts_ws_free(struct guts_ws *ws);

#endif
