/*
 * The WebSocket API, GET /api/ws (docs/websocket.md): live events from the
 * hub and live job logs, for the web UI and the CLI.
 *
 * libmicrohttpd does the HTTP upgrade and hands over the socket; from then
 * on one thread of this module owns every WebSocket connection (epoll,
 * non-blocking sockets, wslay for the framing).  Other threads only ever
 * hand it work through a locked inbox and an eventfd: hub events, "this
 * job's log grew", and freshly upgraded connections.
 *
 * Memory per connection is bounded: log bytes are read from the job's log
 * only while the connection's send queue is below a low watermark, events
 * past GUTS_WS_QUEUE_MAX are dropped (and counted for a `resync`), and a
 * log subscription that cannot send for GUTS_WS_STALL_MS is dropped with a
 * `resync` carrying its offset.
 */
#ifndef GUTS_NODE_WS_H
#define GUTS_NODE_WS_H

#include <stdint.h>

struct node;
struct http_req;

/** Start the WebSocket thread and its hub subscription (n->ws). */
int ws_start(struct node *n);
/** Close every WebSocket connection (1001) and stop the thread, before
 *  the HTTP daemon stops; idempotent.  An upgrade or a log notice that
 *  comes later is turned away. */
void ws_stop(struct node *n);
/** Free n->ws (stopping it first), once the HTTP daemon has stopped. */
void ws_free(struct node *n);

/** The GET /api/ws route: check the upgrade request, answer 101. */
void ws_upgrade(struct http_req *r);

/** The log of job @log_id grew (or was archived): any thread. */
void ws_log_notify(struct node *n, int64_t log_id);

#endif
