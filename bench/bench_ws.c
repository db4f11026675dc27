/*
 * bench_ws: N WebSocket clients follow one job's log on a guts-node and
 * measure delivery latency (docs/websocket.md).
 *
 *   bench_ws HOST PORT JOB_ID CLIENTS NODE_PID [TOKEN]
 *
 * Each client connects to /api/ws (the handshake by hand, the framing with
 * wslay in client mode), subscribes to job:JOB_ID:logs@0 and reads until
 * log_end.  Latency of a line is the client's clock when the chunk holding
 * it arrived minus the runner's timestamp at the start of the line (same
 * machine, same clock), for lines stamped after every client subscribed.
 * Each chunk's oldest line is taken (the worst line of that chunk), so the
 * figures are conservative.  Prints p50/p99/max, lines, bytes, resyncs,
 * and the node's RSS (VmRSS of NODE_PID) before and at its peak.
 *
 * The clients offer permessage-deflate, as browsers do.  Every tenth
 * client inflates and times every message (and checks that chunks are
 * contiguous); the others take every frame off the wire but inflate
 * nothing, so that one process can play a thousand browsers on a machine
 * it shares with the node: they only read log_end and resync, which are
 * small enough to come uncompressed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <wslay/wslay.h>
#include <zlib.h>

struct client {
	int fd;
	wslay_event_context_ptr ctx;
	char extra[4096];
	size_t extra_len, extra_off;
	int done;
	int measure; /* inflate and time every message */
	long long next;
	unsigned long resyncs;
};

static int64_t t_start_us; /* lines stamped before this are backlog */
static int64_t *lat;	   /* µs, one per chunk */
static size_t nlat, alat;
static unsigned long long lines, bytes, resyncs, gaps;
static int done_count;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "2026-11-28T14:21:10.503510Z" to µs since the epoch; -1 if not one. */
static int64_t stamp_us(const char *s, size_t len)
{
	struct tm tm = {0};
	int us;

	if (len < 27 || s[4] != '-' || s[10] != 'T' || s[19] != '.' ||
	    s[26] != 'Z')
		return -1;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%6d", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) != 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000000 + us;
}

static long long field(const char *msg, size_t len, const char *key)
{
	const char *p = memmem(msg, len, key, strlen(key));

	return p ? atoll(p + strlen(key)) : -1;
}

static unsigned long long wire;

static void on_text(struct client *c, const char *msg, size_t len)
{
	int64_t now = now_us();
	const char *d, *end = msg + len;

	if (memmem(msg, len < 40 ? len : 40, "\"event\":\"log_end\"", 17)) {
		c->done = 1;
		done_count++;
		return;
	}
	if (memmem(msg, len < 40 ? len : 40, "\"event\":\"resync\"", 16)) {
		c->resyncs++;
		resyncs++;
		return;
	}
	if (!memmem(msg, len < 40 ? len : 40, "\"event\":\"log\"", 13))
		return;
	{
		long long off = field(msg, len, "\"offset\":");
		long long next = field(msg, len, "\"next\":");

		/* Only measuring clients see every chunk. */
		if (c->measure && off != c->next)
			gaps++;
		c->next = next;
		bytes += (unsigned long long)(next - off);
	}
	d = memmem(msg, len, "\"data\":\"", 8);
	if (!d)
		return;
	d += 8;
	{
		int64_t ts = stamp_us(d, (size_t)(end - d));

		if (ts >= t_start_us) {
			if (nlat == alat) {
				alat = alat ? alat * 2 : 65536;
				lat = realloc(lat, alat * sizeof(*lat));
				if (!lat)
					abort();
			}
			lat[nlat++] = now - ts;
		}
	}
	/* Lines: each ends with an escaped LF. */
	for (const char *p = d; (p = memmem(p, (size_t)(end - p), "\\n", 2));
	     p += 2)
		lines++;
}

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
		       int flags, void *user)
{
	struct client *c = user;
	ssize_t r;

	(void)flags;
	if (c->extra_off < c->extra_len) {
		size_t k = c->extra_len - c->extra_off;

		if (k > len)
			k = len;
		memcpy(buf, c->extra + c->extra_off, k);
		c->extra_off += k;
		return (ssize_t)k;
	}
	r = recv(c->fd, buf, len, 0);
	if (r > 0)
		return r;
	wslay_event_set_error(ctx, r < 0 && errno == EAGAIN
				       ? WSLAY_ERR_WOULDBLOCK
				       : WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data,
		       size_t len, int flags, void *user)
{
	struct client *c = user;
	ssize_t r = send(c->fd, data, len, MSG_NOSIGNAL);

	(void)flags;
	if (r >= 0)
		return r;
	wslay_event_set_error(ctx, errno == EAGAIN
				       ? WSLAY_ERR_WOULDBLOCK
				       : WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static int on_mask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
		   void *user)
{
	(void)ctx;
	(void)user;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static void on_msg(wslay_event_context_ptr ctx,
		   const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	static char *buf;
	static size_t cap;
	struct client *c = user;
	z_stream z = {0};
	static const uint8_t tail[4] = {0, 0, 0xff, 0xff};

	(void)ctx;
	if (arg->opcode != WSLAY_TEXT_FRAME)
		return;
	wire += arg->msg_length;
	if (!(arg->rsv & WSLAY_RSV1_BIT)) {
		on_text(c, (const char *)arg->msg, arg->msg_length);
		return;
	}
	if (!c->measure)
		return;
	if (!buf) {
		cap = 1 << 22;
		buf = malloc(cap);
	}
	if (!buf || inflateInit2(&z, -15) != Z_OK)
		abort();
	z.next_out = (Bytef *)buf;
	z.avail_out = (uInt)cap;
	z.next_in = (Bytef *)(uintptr_t)arg->msg;
	z.avail_in = (uInt)arg->msg_length;
	inflate(&z, Z_SYNC_FLUSH);
	z.next_in = (Bytef *)(uintptr_t)tail;
	z.avail_in = 4;
	inflate(&z, Z_SYNC_FLUSH);
	on_text(c, buf, cap - z.avail_out);
	inflateEnd(&z);
}

static long rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

static int open_client(struct client *c, const struct sockaddr_in *sa,
		       const char *host, long long job, const char *token)
{
	static const struct wslay_event_callbacks cb = {
	    on_recv, on_send, on_mask, NULL, NULL, NULL, on_msg};
	char req[1024], sub[128];
	struct wslay_event_msg m;
	size_t got = 0;
	char *eoh;
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 ||
	    connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A fixed key: the bench does not test the handshake. */
	snprintf(req, sizeof(req),
		 "GET /api/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: "
		 "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
		 "Sec-WebSocket-Extensions: permessage-deflate\r\n"
		 "%s%s%s\r\n",
		 host, token ? "Authorization: Bearer " : "",
		 token ? token : "", token ? "\r\n" : "");
	if (send(c->fd, req, strlen(req), 0) < 0)
		return -1;
	while (!(eoh = memmem(c->extra, got, "\r\n\r\n", 4))) {
		ssize_t r =
		    recv(c->fd, c->extra + got, sizeof(c->extra) - got - 1, 0);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	if (strncmp(c->extra, "HTTP/1.1 101", 12))
		return -1;
	c->extra_off = (size_t)(eoh + 4 - c->extra);
	c->extra_len = got;
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	if (wslay_event_context_client_init(&c->ctx, &cb, c) != 0)
		return -1;
	if (memmem(c->extra, (size_t)(eoh - c->extra), "permessage-deflate",
		   18))
		wslay_event_config_set_allowed_rsv_bits(c->ctx, WSLAY_RSV1_BIT);
	snprintf(sub, sizeof(sub), "{\"subscribe\":[\"job:%lld:logs@0\"]}",
		 job);
	m.opcode = WSLAY_TEXT_FRAME;
	m.msg = (const uint8_t *)sub;
	m.msg_length = strlen(sub);
	wslay_event_queue_msg(c->ctx, &m);
	return 0;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {0};
	struct client *cl;
	struct epoll_event ev, evs[256];
	int ep, n, pid;
	long long job;
	long rss0, rss_peak = 0;
	int64_t t_last_rss = 0, deadline;
	const char *token;

	if (argc < 6) {
		fprintf(stderr, "usage: bench_ws HOST PORT JOB CLIENTS "
				"NODE_PID [TOKEN]\n");
		return 2;
	}
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	job = atoll(argv[3]);
	n = atoi(argv[4]);
	pid = atoi(argv[5]);
	token = argc > 6 ? argv[6] : NULL;
	cl = calloc((size_t)n, sizeof(*cl));
	ep = epoll_create1(0);
	if (!cl || ep < 0)
		return 1;
	rss0 = rss_kb(pid);
	for (int i = 0; i < n; i++) {
		cl[i].measure = i % 10 == 0;
		if (open_client(&cl[i], &sa, argv[1], job, token) < 0) {
			fprintf(stderr,
				"bench_ws: client %d: cannot connect: %s\n", i,
				strerror(errno));
			return 1;
		}
		ev.events = EPOLLIN | EPOLLOUT;
		ev.data.ptr = &cl[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev);
	}
	t_start_us = now_us();
	fprintf(stderr, "bench_ws: %d clients subscribed\n", n);
	deadline = now_us() + 300 * 1000000LL;
	while (done_count < n && now_us() < deadline) {
		int k = epoll_wait(ep, evs, 256, 100);

		for (int i = 0; i < k; i++) {
			struct client *c = evs[i].data.ptr;

			if (c->done)
				continue;
			if (wslay_event_recv(c->ctx) != 0 ||
			    wslay_event_send(c->ctx) != 0) {
				fprintf(stderr, "bench_ws: a client failed\n");
				c->done = 1;
				done_count++;
				continue;
			}
			if (!wslay_event_want_write(c->ctx)) {
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			}
		}
		if (now_us() - t_last_rss > 100000) {
			long r = rss_kb(pid);

			if (r > rss_peak)
				rss_peak = r;
			t_last_rss = now_us();
		}
	}
	qsort(lat, nlat, sizeof(*lat), cmp64);
	printf("clients %d, finished %d, log bytes per client %lld, lines "
	       "delivered %llu, chunks timed %zu, resyncs %llu, gaps %llu\n",
	       n, done_count, cl[0].next, lines, nlat, resyncs, gaps);
	(void)bytes;
	if (nlat)
		printf("latency ms: p50 %.1f  p99 %.1f  max %.1f\n",
		       (double)lat[nlat / 2] / 1000,
		       (double)lat[nlat * 99 / 100] / 1000,
		       (double)lat[nlat - 1] / 1000);
	printf("node RSS kB: before %ld, peak during %ld\n", rss0, rss_peak);
	printf("on the wire: %.1f MB to all clients (%.1f MB of log each)\n",
	       (double)wire / 1e6, (double)cl[0].next / 1e6);
	for (int i = 0; i < n; i++) {
		if (cl[i].ctx)
			wslay_event_context_free(cl[i].ctx);
		close(cl[i].fd);
	}
	free(cl);
	free(lat);
	return done_count == n && !gaps ? 0 : 1;
}
