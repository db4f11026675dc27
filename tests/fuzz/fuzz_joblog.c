/*
 * Fuzz target: the node's job logs (node/joblog.c), which runners feed by
 * stream offset.  Each input is a script of operations on one job's log in
 * a temporary directory: appends at, behind, past or far from the acked
 * end, large runs of generated text that hit the job cap, the node's own
 * notes, a new attempt (acked back to 0), restarts (joblog_recover) with
 * unacknowledged bytes past the end or a lost tail, and ranged reads; then
 * the archive and reads of it.
 *
 * Oracles, after every operation:
 *  - every call returns exactly the expected code; a failure leaves *pos
 *    as it was and says why; an append at offset past pos.acked is
 *    GUTS_ECONFLICT; otherwise pos.acked never decreases and ends at the
 *    chunk's end when that is further;
 *  - the live file holds pos.size bytes, and they equal a byte-at-a-time
 *    model of the documented rules (line cap with its cut note, the rest
 *    of a cut line dropped, the job cap with its note, notes), timestamps
 *    aside, which must have the RFC 3339 form; so the file cannot depend
 *    on how the stream was cut into chunks;
 *  - no runner line is longer than the line cap and the cut note; the file
 *    is at most the job cap, a cap note and what notes added;
 *  - the archive reads back as the live file did, whole, by range, capped
 *    and streamed; archiving twice is fine.
 *
 *   make fuzz
 *   build-fuzz/fuzz/fuzz_joblog -max_len=4096 CORPUS_DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "joblog.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define JOB_ID 42
#define TS_LEN 27 /* 2026-11-28T09:00:00.123456Z */

static char dir[64];
static char live[128];

/* Say which oracle failed, then crash so libFuzzer keeps the input. */
static void fail(const char *why)
{
	fprintf(stderr, "fuzz_joblog: %s (last error: %s)\n", why,
		guts_error_message());
	__builtin_trap();
}

#define CHECK(cond, why)           \
	do {                       \
		if (!(cond))       \
			fail(why); \
	} while (0)

static void cleanup(void)
{
	if (dir[0]) {
		joblog_remove(dir, JOB_ID);
		rmdir(dir);
	}
}

static void setup(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	if (dir[0])
		return;
	snprintf(dir, sizeof(dir), "%s/fuzz_joblog.XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
	snprintf(live, sizeof(live), "%s/%d.log", dir, JOB_ID);
	atexit(cleanup);
}

/* ---- the model ---------------------------------------------------------- */

/*
 * What the file should hold: the bytes, with the timestamps' places marked
 * (their digits are the clock's).  ts_start marks where a node line (a note
 * or the cap note) starts; those lines are not subject to the line cap.  It
 * is 2 for a timestamp that a lost tail cut short.
 */
struct model {
	char *out;
	uint8_t *ts, *ts_start;
	size_t len, alloc;
	int64_t acked, line_len;
	int capped;
	size_t line_cap;
	int64_t job_cap;
	char cut[128], cap_note[160];
	size_t cut_len, cap_note_len;
	int64_t node_bytes; /* what notes added, outside the caps */
};

static void m_grow(struct model *m, size_t n)
{
	if (m->len + n <= m->alloc)
		return;
	while (m->len + n > m->alloc)
		m->alloc = m->alloc ? 2 * m->alloc : 4096;
	m->out = realloc(m->out, m->alloc);
	m->ts = realloc(m->ts, m->alloc);
	m->ts_start = realloc(m->ts_start, m->alloc);
	if (!m->out || !m->ts || !m->ts_start)
		abort();
}

static void m_put(struct model *m, const char *p, size_t n, int ts)
{
	m_grow(m, n);
	memcpy(m->out + m->len, p, n);
	memset(m->ts + m->len, ts, n);
	memset(m->ts_start + m->len, 0, n);
	if (ts && n)
		m->ts_start[m->len] = 1;
	m->len += n;
}

static void m_timestamp(struct model *m)
{
	static const char ph[TS_LEN] = {0};

	m_put(m, ph, TS_LEN, 1);
}

static int m_at_bol(const struct model *m)
{
	return m->len == 0 || m->out[m->len - 1] == '\n';
}

/* One byte of runner output into the file, under the job cap. */
static void m_emit(struct model *m, char c)
{
	if (m->capped)
		return;
	if ((int64_t)m->len + 1 <= m->job_cap) {
		m_put(m, &c, 1, 0);
		return;
	}
	if (!m_at_bol(m))
		m_put(m, "\n", 1, 0);
	m_timestamp(m);
	m_put(m, m->cap_note, m->cap_note_len, 0);
	m->capped = 1;
}

/* New bytes of the runner's stream. */
static void m_stream(struct model *m, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !m->capped; i++) {
		char c = p[i];

		if (m->line_len > (int64_t)m->line_cap) {
			if (c == '\n') {
				m_emit(m, '\n');
				m->line_len = 0;
			}
		} else if (c == '\n') {
			m_emit(m, '\n');
			m->line_len = 0;
		} else if (m->line_len < (int64_t)m->line_cap) {
			m_emit(m, c);
			m->line_len++;
		} else {
			for (size_t j = 0; j < m->cut_len; j++)
				m_emit(m, m->cut[j]);
			m->line_len = (int64_t)(m->line_cap + m->cut_len);
		}
	}
	if (m->capped)
		m->line_len = 0;
}

static void m_note(struct model *m, const char *text)
{
	size_t before = m->len;

	if (m->line_len)
		m_put(m, "\n", 1, 0);
	m_timestamp(m);
	m_put(m, " ", 1, 0);
	m_put(m, text, strlen(text), 0);
	m_put(m, "\n", 1, 0);
	m->line_len = 0;
	m->node_bytes += (int64_t)(m->len - before);
}

static int64_t m_tail(const struct model *m)
{
	size_t i = m->len;

	while (i > 0 && m->out[i - 1] != '\n')
		i--;
	return (int64_t)(m->len - i);
}

/* ---- checks ------------------------------------------------------------- */

static int ts_ok(const char *p)
{
	static const char form[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";

	for (int i = 0; i < TS_LEN; i++) {
		if (form[i] == 'd' ? (p[i] < '0' || p[i] > '9')
				   : p[i] != form[i])
			return 0;
	}
	return 1;
}

/* @got (@n bytes) is the model's [from, from + n). */
static void check_bytes(const struct model *m, const char *got, size_t n,
			size_t from)
{
	CHECK(from + n <= m->len, "read past the model");
	for (size_t i = 0; i < n; i++) {
		size_t at = from + i;

		if (m->ts_start[at] == 1 && at + TS_LEN <= from + n)
			CHECK(ts_ok(got + i), "timestamp malformed");
		if (m->ts[at])
			continue;
		CHECK(got[i] == m->out[at], "file differs from the model");
	}
}

static void check_pos(const struct model *m, const struct joblog_pos *pos)
{
	CHECK(pos->acked == m->acked, "pos.acked differs from the model");
	CHECK(pos->size == (int64_t)m->len, "pos.size differs from the model");
	CHECK(pos->line_len == m->line_len, "pos.line_len differs");
	CHECK(pos->capped == m->capped, "pos.capped differs");
}

/* The live file: its size, content, lines and total against the model. */
static void check_live(const struct model *m, const struct joblog_pos *pos)
{
	struct guts_buf b;
	struct stat st;
	int64_t total = -1;
	size_t start = 0;

	check_pos(m, pos);
	if (stat(live, &st) < 0) {
		CHECK(errno == ENOENT && pos->size == 0, "live file missing");
	} else {
		CHECK(st.st_size == pos->size,
		      "live file size is not pos.size");
	}
	guts_buf_init(&b, 0);
	CHECK(joblog_read(dir, JOB_ID, 0, -1, &b, &total) == 0, "read failed");
	CHECK((int64_t)b.len == pos->size && total == pos->size,
	      "read length or total is not pos.size");
	check_bytes(m, b.data, b.len, 0);
	/* Runner lines are capped; node lines start with a timestamp. */
	for (size_t i = 0; i <= b.len; i++) {
		if (i < b.len && b.data[i] != '\n')
			continue;
		if (start >= b.len || !m->ts_start[start])
			CHECK(i - start <= m->line_cap + m->cut_len,
			      "a runner line is over the line cap");
		start = i + 1;
	}
	CHECK(pos->size <= m->job_cap + 1 + TS_LEN + (int64_t)m->cap_note_len +
			       m->node_bytes,
	      "the file is over the job cap");
	guts_buf_release(&b);
}

/* joblog_read(from, to) against the model, including bad ranges. */
static void check_range(const struct model *m, int64_t from, int64_t to)
{
	struct guts_buf b;
	int64_t total = -1, lo, hi, size = (int64_t)m->len;
	int rc;

	guts_buf_init(&b, 0);
	guts_buf_adds(&b, "pre");
	rc = joblog_read(dir, JOB_ID, from, to, &b, &total);
	if (from < 0 || to < -1 || (to >= 0 && to < from)) {
		CHECK(rc == GUTS_EINVAL, "a bad range was not EINVAL");
		CHECK(b.len == 3 && !memcmp(b.data, "pre", 3),
		      "a failed read changed the buffer");
		guts_buf_release(&b);
		return;
	}
	CHECK(rc == 0, "a ranged read failed");
	CHECK(total == size, "a ranged read's total is wrong");
	lo = from < size ? from : size;
	hi = to < 0 || to > size ? size : to;
	if (hi < lo)
		hi = lo;
	CHECK((int64_t)b.len == 3 + hi - lo && !memcmp(b.data, "pre", 3),
	      "a ranged read has the wrong length");
	check_bytes(m, b.data + 3, b.len - 3, (size_t)lo);
	guts_buf_release(&b);
}

struct stop_after {
	size_t n, seen;
};

static int stop_cb(void *ud, const char *p, size_t len)
{
	struct stop_after *s = ud;

	(void)p;
	CHECK(len > 0 && len <= JOBLOG_CHUNK, "a stream chunk is out of size");
	s->seen += len;
	return s->seen >= s->n ? 7 : 0;
}

/* ---- the script --------------------------------------------------------- */

struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned next(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static int same_pos(const struct joblog_pos *a, const struct joblog_pos *b)
{
	return a->acked == b->acked && a->size == b->size &&
	       a->line_len == b->line_len && a->capped == b->capped;
}

static void append(struct model *m, struct joblog_pos *pos,
		   const struct joblog_limits *lim, int64_t offset,
		   const char *data, size_t len)
{
	struct joblog_pos before = *pos;
	int want = 0, rc;

	if (offset < 0 || len > (uint64_t)(INT64_MAX - offset))
		want = GUTS_EINVAL;
	else if (offset > pos->acked)
		want = GUTS_ECONFLICT;
	rc = joblog_append(dir, JOB_ID, pos, lim, offset, data, len);
	CHECK(rc == want, "append returned an unexpected code");
	if (rc) {
		CHECK(same_pos(pos, &before), "a failed append moved pos");
		CHECK(*guts_error_message(), "a failed append says nothing");
		return;
	}
	CHECK(pos->acked >= before.acked, "pos.acked went back");
	if (offset + (int64_t)len > m->acked) {
		int64_t skip = m->acked - offset;

		m_stream(m, data + skip, len - (size_t)skip);
		m->acked = offset + (int64_t)len;
	}
}

static void note(struct model *m, struct joblog_pos *pos, const char *text)
{
	struct joblog_pos before = *pos;
	int rc = joblog_note(dir, JOB_ID, pos, text);

	if (strchr(text, '\n')) {
		CHECK(rc == GUTS_EINVAL && same_pos(pos, &before),
		      "a note with an LF was taken");
		return;
	}
	CHECK(rc == 0, "a note failed");
	m_note(m, text);
}

/* Bytes past pos.size, as a write that failed half-way leaves them. */
static void garbage(unsigned n)
{
	int fd = open(live, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	char junk[256];

	if (fd < 0)
		abort();
	memset(junk, 'G', sizeof(junk));
	if (write(fd, junk, n) != (ssize_t)n)
		abort();
	close(fd);
}

static void recover(struct model *m, struct joblog_pos *pos, unsigned lose)
{
	struct stat st;

	if (lose && stat(live, &st) == 0 && st.st_size > 0) {
		char text[160];
		int gone = lose == 255; /* the whole file */

		if (gone || lose > st.st_size)
			lose = (unsigned)st.st_size;
		if ((gone ? unlink(live) : truncate(live, st.st_size - lose)) <
		    0)
			abort();
		CHECK(joblog_recover(dir, JOB_ID, pos) == 0, "recover failed");
		m->len -= lose;
		/* A timestamp cut short still starts a node line. */
		for (size_t i = m->len > TS_LEN ? m->len - TS_LEN : 0;
		     i < m->len; i++)
			if (m->ts_start[i] && i + TS_LEN > m->len)
				m->ts_start[i] = 2;
		m->line_len = m_tail(m);
		snprintf(text, sizeof(text),
			 "##[warning]the node lost the last %u bytes of this "
			 "log when it stopped",
			 lose);
		m_note(m, text);
		return;
	}
	CHECK(joblog_recover(dir, JOB_ID, pos) == 0, "recover failed");
	CHECK(m_tail(m) == m->line_len || m->line_len > (int64_t)m->line_cap,
	      "the model's line length is off");
}

static void step(struct model *m, struct joblog_pos *pos,
		 const struct joblog_limits *lim, struct input *in,
		 unsigned chunk_max)
{
	unsigned c = next(in), arg = c >> 3, b;
	char buf[4096];
	size_t len;
	int64_t off;

	switch (c & 7) {
	case 0:
	case 1:
	case 2: /* an append of input bytes */
		len = next(in) % (chunk_max + 1);
		off = pos->acked;
		switch (arg & 7) {
		case 4: /* an overlapping resend */
			b = next(in);
			off -= b < off ? b : off;
			break;
		case 5: /* a gap */
			off += 1 + next(in);
			break;
		case 6: /* all seen before */
			off -= (int64_t)len < off ? (int64_t)len : off;
			break;
		case 7: /* nonsense */
			off = arg & 8 ? -1 - (int64_t)next(in)
				      : INT64_MAX - (int64_t)next(in);
			break;
		}
		if (len > in->n)
			len = in->n;
		append(m, pos, lim, off, (const char *)in->p, len);
		in->p += len;
		in->n -= len;
		break;
	case 3: /* a long generated run, to reach the job cap */
		len = (next(in) + 1) * 16;
		b = next(in);
		if (b == 255) {
			/*
			 * Up to the cap exactly: lines short enough to keep,
			 * the last one of 1 byte and unterminated.
			 */
			size_t k =
			    (lim->line_cap < 15 ? lim->line_cap : 15) + 1;

			off = lim->job_cap - pos->size;
			len = off < 0 ? 0 : off > 4096 ? 4096 : (size_t)off;
			for (size_t i = 0; i < len; i++)
				buf[i] = (len - 1 - i) % k == 1
					     ? '\n'
					     : (char)('a' + arg);
		} else {
			for (size_t i = 0; i < len; i++)
				buf[i] = b && i % b == b - 1
					     ? '\n'
					     : (char)('a' + arg);
		}
		append(m, pos, lim, pos->acked, buf, len);
		break;
	case 4: /* a note; one with an LF is refused */
		len = arg;
		if (len > in->n)
			len = in->n;
		memcpy(buf, in->p, len);
		buf[len] = '\0';
		in->p += len;
		in->n -= len;
		note(m, pos, buf);
		break;
	case 5: /* a new attempt: a new runner stream */
		pos->acked = 0;
		m->acked = 0;
		break;
	case 6: /* a restart, maybe after a failed write or a power loss */
		switch (arg & 3) {
		case 0:
			recover(m, pos, 0);
			break;
		case 1:
			garbage(1 + (arg >> 2));
			recover(m, pos, 0);
			break;
		case 2: /* 255: the file is gone */
			recover(m, pos, next(in));
			break;
		case 3: /* the next write cuts what is past pos.size */
			garbage(1 + (arg >> 2));
			note(m, pos, "cut");
			break;
		}
		break;
	case 7: /* a ranged read */
		off = (int64_t)next(in) * 16 - 32;
		check_range(m, off,
			    arg == 31 ? -1 : off + (int64_t)arg * 8 - 8);
		break;
	}
	check_live(m, pos);
}

static void finish(struct model *m, struct input *in)
{
	struct guts_buf before, after;
	struct stop_after s = {1 + next(in) * 32, 0};
	int64_t total = -1;
	unsigned cap = next(in) * 32;
	int rc;

	guts_buf_init(&before, 0);
	guts_buf_init(&after, 0);
	CHECK(joblog_read(dir, JOB_ID, 0, -1, &before, NULL) == 0,
	      "the live read failed");
	CHECK(joblog_archive(dir, JOB_ID) == 0, "archive failed");
	CHECK(access(live, F_OK) < 0, "the live file outlived its archive");
	CHECK(joblog_archive(dir, JOB_ID) == 0, "a second archive failed");
	CHECK(joblog_read(dir, JOB_ID, 0, -1, &after, &total) == 0,
	      "the archive read failed");
	CHECK(after.len == before.len &&
		  !memcmp(after.data, before.data, before.len),
	      "the archive differs from the live file");
	CHECK(total == (int64_t)before.len, "the archive's total is wrong");
	check_range(m, (int64_t)next(in) * 16, -1);
	check_range(m, (int64_t)next(in) * 8, (int64_t)next(in) * 24);

	/* A capped buffer: all or nothing. */
	guts_buf_release(&after);
	guts_buf_init(&after, cap + 2);
	guts_buf_adds(&after, "ab");
	rc = joblog_read(dir, JOB_ID, 0, -1, &after, NULL);
	if (before.len > cap)
		CHECK(rc == GUTS_ETOOBIG && after.len == 2,
		      "a capped read did not fail cleanly");
	else
		CHECK(rc == 0 && after.len == 2 + before.len,
		      "a read within the cap failed");

	/* A stream stopped by its callback returns the callback's value. */
	rc = joblog_stream(dir, JOB_ID, 0, -1, stop_cb, &s);
	CHECK(rc == (before.len >= s.n ? 7 : 0), "a stopped stream is off");
	CHECK(s.seen == (before.len < s.n ? before.len : s.seen),
	      "a stream missed bytes");

	guts_buf_release(&before);
	guts_buf_release(&after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t line_caps[] = {64, 64, 8, 1};
	static const int64_t job_caps[] = {4096, 4096, 1000, 150};
	static const unsigned chunk_maxes[] = {4, 16, 64, 255};
	struct input in = {data, size};
	struct joblog_limits lim;
	struct joblog_pos pos = {0};
	struct model m = {0};
	char fig[32];
	unsigned h = next(&in);
	int64_t cap;

	setup();
	lim.line_cap = line_caps[h & 3];
	lim.job_cap = job_caps[(h >> 2) & 3];
	m.line_cap = lim.line_cap;
	m.job_cap = lim.job_cap;
	snprintf(m.cut, sizeof(m.cut), JOBLOG_LINE_CUT_NOTE, m.line_cap);
	m.cut_len = strlen(m.cut);
	cap = m.job_cap;
	if (cap % 1000 == 0)
		snprintf(fig, sizeof(fig), "%" PRId64 " kB", cap / 1000);
	else if (cap >= 1000)
		snprintf(fig, sizeof(fig), "%.1f kB", (double)cap / 1000);
	else
		snprintf(fig, sizeof(fig), "%" PRId64 " bytes", cap);
	snprintf(m.cap_note, sizeof(m.cap_note), " " JOBLOG_JOB_CAP_NOTE "\n",
		 fig);
	m.cap_note_len = strlen(m.cap_note);

	while (in.n > 4)
		step(&m, &pos, &lim, &in, chunk_maxes[(h >> 4) & 3]);
	finish(&m, &in);
	CHECK(joblog_remove(dir, JOB_ID) == 0, "remove failed");
	free(m.out);
	free(m.ts);
	free(m.ts_start);
	return 0;
}
