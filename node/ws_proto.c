/*
 * The WebSocket API's parsing and text helpers (ws_proto.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "guts/buf.h"
#include "node.h"
#include "ws_proto.h"

#include "banned.h"

/*
 * A whole number in [@min, 2^53] at @s (2^53: any id or offset, and exact
 * in JavaScript), with *end just past it: 0, or -1.
 */
static int parse_num(const char *s, int64_t min, const char **end, int64_t *out)
{
	char *e;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &e, 10);
	if (errno || v < min || v > (1LL << 53))
		return -1;
	*out = v;
	*end = e;
	return 0;
}

/*
 * A compressed message from the client into @out, at most @cap
 * bytes: 0, 1 when it inflates to more (1009), -1 when it is not deflate
 * (1007).  Each message stands alone (client_no_context_takeover).
 */
int ws_inflate_msg(const uint8_t *in, size_t len, size_t cap,
		   struct guts_buf *out)
{
	static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
	z_stream z = {0};
	char buf[16384];
	int ret = 0, zr = Z_OK;

	if (inflateInit2(&z, -15) != Z_OK)
		return -1;
	for (int part = 0; part < 2 && !ret && zr != Z_STREAM_END; part++) {
		z.next_in = (Bytef *)(uintptr_t)(part ? tail : in);
		z.avail_in = (uInt)(part ? sizeof(tail) : len);
		do {
			z.next_out = (Bytef *)buf;
			z.avail_out = sizeof(buf);
			zr = inflate(&z, Z_SYNC_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END &&
			    zr != Z_BUF_ERROR) {
				ret = -1;
				break;
			}
			guts_buf_add(out, buf, sizeof(buf) - z.avail_out);
			if (out->len > cap)
				ret = 1;
		} while (!ret && z.avail_out == 0);
	}
	inflateEnd(&z);
	return ret;
}

/* Length of the UTF-8 sequence starting with @b (0: not a lead byte). */
static size_t seq_len(unsigned char b)
{
	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		return 2;
	if (b >= 0xe0 && b <= 0xef)
		return 3;
	if (b >= 0xf0 && b <= 0xf4)
		return 4;
	return 0;
}

static int seq_ok(const unsigned char *p, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 &&
	    ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
		return 0; /* overlong, or a surrogate */
	if (n == 4 &&
	    ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))
		return 0;
	return 1;
}

/*
 * How many of @len bytes to send so as not to cut a UTF-8 sequence in
 * two: all of them when @at_end (nothing more will come), else up to the
 * start of an unfinished sequence at the end.
 */
size_t ws_utf8_cut(const char *s, size_t len, int at_end)
{
	const unsigned char *p = (const unsigned char *)s;

	if (at_end)
		return len;
	for (size_t back = 1; back <= 3 && back <= len; back++) {
		size_t n = seq_len(p[len - back]);

		if (p[len - back] >= 0x80 && p[len - back] < 0xc0)
			continue; /* a continuation byte: look further back */
		return n > back ? len - back : len;
	}
	return len;
}

/* @s as valid UTF-8: each byte of a bad sequence becomes U+FFFD. */
void ws_utf8_clean(const char *s, size_t len, struct guts_buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	while (i < len) {
		size_t n = seq_len(p[i]);

		if (n && i + n <= len && seq_ok(p + i, n)) {
			i += n;
			continue;
		}
		guts_buf_add(out, s + run, i - run);
		guts_buf_add(out, "\xef\xbf\xbd", 3);
		run = ++i;
	}
	guts_buf_add(out, s + run, len - run);
}

/*
 * Whether the client offers permessage-deflate in a form we take: an offer
 * whose server_max_window_bits, if given, is 15 (we always deflate with a
 * 2^15 window).  Browsers offer it plainly.
 */
int ws_deflate_offered(const char *h)
{
	while (h && *h) {
		const char *end = strchr(h, ',');
		char offer[256];
		const char *w;
		size_t n;

		while (*h == ' ' || *h == '\t')
			h++;
		n = end ? (size_t)(end - h) : strlen(h);
		if (n < sizeof(offer)) {
			memcpy(offer, h, n);
			offer[n] = 0;
			w = strstr(offer, "server_max_window_bits");
			if (!strncmp(offer, "permessage-deflate", 18) &&
			    (!offer[18] || offer[18] == ';' ||
			     offer[18] == ' ') &&
			    (!w ||
			     !strncmp(w, "server_max_window_bits=15", 25)))
				return 1;
		}
		h = end ? end + 1 : NULL;
	}
	return 0;
}

int ws_topic_parse(const char *name, struct ws_topic_ref *t, char *why,
		   size_t whylen)
{
	const char *end;

	memset(t, 0, sizeof(*t));
	if (!strncmp(name, "repo:", 5)) {
		const char *slash = strchr(name + 5, '/');

		t->kind = WS_TOPIC_REPO;
		if (!slash || (size_t)(slash - name - 5) >= sizeof(t->owner) ||
		    strlen(slash + 1) >= sizeof(t->name)) {
			snprintf(why, whylen, "expected repo:OWNER/NAME");
			return -1;
		}
		snprintf(t->owner, sizeof(t->owner), "%.*s",
			 (int)(slash - name - 5), name + 5);
		snprintf(t->name, sizeof(t->name), "%s", slash + 1);
		if (!node_name_ok(t->owner) || !node_name_ok(t->name)) {
			snprintf(why, whylen,
				 "'%.100s/%.100s' is not a valid repository "
				 "name",
				 t->owner, t->name);
			return -1;
		}
		return 0;
	}
	if (!strncmp(name, "run:", 4)) {
		t->kind = WS_TOPIC_RUN;
		if (parse_num(name + 4, 1, &end, &t->id) < 0 || *end) {
			snprintf(why, whylen, "expected run:ID");
			return -1;
		}
		return 0;
	}
	if (!strncmp(name, "job:", 4)) {
		t->kind = WS_TOPIC_LOG;
		if (parse_num(name + 4, 1, &end, &t->id) < 0 ||
		    strncmp(end, ":logs", 5) ||
		    (end[5] &&
		     (end[5] != '@' ||
		      parse_num(end + 6, 0, &end, &t->offset) < 0 || *end))) {
			snprintf(why, whylen,
				 "expected job:ID:logs or job:ID:logs@OFFSET");
			return -1;
		}
		return 0;
	}
	snprintf(why, whylen,
		 "unknown topic; expected repo:OWNER/NAME, run:ID or "
		 "job:ID:logs@OFFSET");
	return -1;
}
