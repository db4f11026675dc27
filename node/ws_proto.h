/*
 * The WebSocket API's parsing of what clients send and the text it sends
 * back, without sockets or a store, so it can be fuzzed and unit-tested:
 * topic names, the permessage-deflate offer, deflated client messages,
 * and log bytes made into valid UTF-8 for JSON.
 */
#ifndef GUTS_NODE_WS_PROTO_H
#define GUTS_NODE_WS_PROTO_H

#include <stddef.h>
#include <stdint.h>

struct guts_buf;

enum ws_topic_kind { WS_TOPIC_REPO, WS_TOPIC_RUN, WS_TOPIC_LOG };

struct ws_topic_ref {
	enum ws_topic_kind kind;
	char owner[101], name[101]; /* WS_TOPIC_REPO, valid names */
	int64_t id;		    /* run or job id, > 0 */
	int64_t offset;		    /* WS_TOPIC_LOG: @OFFSET, else 0 */
};

/**
 * Parse "repo:OWNER/NAME", "run:ID", "job:ID:logs" or "job:ID:logs@OFFSET".
 * 0, or -1 with what is wrong in @why.
 */
int ws_topic_parse(const char *topic, struct ws_topic_ref *out, char *why,
		   size_t whylen);

/** Whether a Sec-WebSocket-Extensions header offers permessage-deflate in
 *  a form the node takes (a 2^15 server window). */
int ws_deflate_offered(const char *header);

/**
 * Inflate one permessage-deflate message (raw deflate, the 00 00 ff ff
 * tail added) into @out: 0; 1 when it would pass @cap bytes (1009); -1
 * when it is not deflate data (1007).
 */
int ws_inflate_msg(const uint8_t *in, size_t len, size_t cap,
		   struct guts_buf *out);

/** How many of @len bytes to send without cutting a UTF-8 sequence: all
 *  when @at_end, else up to an unfinished sequence at the end. */
size_t ws_utf8_cut(const char *s, size_t len, int at_end);
/** Append @s to @out as valid UTF-8: each byte of a bad sequence becomes
 *  U+FFFD. */
void ws_utf8_clean(const char *s, size_t len, struct guts_buf *out);

#endif
