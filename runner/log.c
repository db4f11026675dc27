/*
 * The job's log stream: executor events formatted as raw-log lines, kept in
 * memory from the node's acknowledged end to the stream's end, with the step
 * updates queued between them in stream order.
 *
 * One job thread appends (and waits when too much is unacknowledged); one
 * sender thread asks runner_log_next_work() what to send and reports the
 * node's answers.  The sender waits on a condition variable with a deadline
 * for the batching delay: no polling.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "runner.h"
#include "banned.h"

/* ---- lines ------------------------------------------------------------- */

void runner_format_time(char *out, size_t size, int64_t ts_ns)
{
	time_t sec;
	long usec;
	struct tm tm;
	char date[24];

	if (ts_ns < 0)
		ts_ns = 0;
	sec = (time_t)(ts_ns / 1000000000);
	usec = (long)(ts_ns % 1000000000 / 1000);
	gmtime_r(&sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%06ldZ", date, usec);
}

static const char *marker(enum guts_log_kind k)
{
	switch (k) {
	case GUTS_LOG_GROUP:
		return "##[group]";
	case GUTS_LOG_ENDGROUP:
		return "##[endgroup]";
	case GUTS_LOG_ERROR:
		return "##[error]";
	case GUTS_LOG_WARNING:
		return "##[warning]";
	case GUTS_LOG_NOTICE:
		return "##[notice]";
	case GUTS_LOG_DEBUG:
		return "##[debug]";
	case GUTS_LOG_OUTPUT:
	case GUTS_LOG_INFO:
	case GUTS_LOG_STEP_START:
	case GUTS_LOG_STEP_END:
		break;
	}
	return "";
}

/* Where to cut @s at most @max bytes in without splitting a character. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/*
 * One line of text: @plen bytes of @prefix (timestamp, marker, ...) then
 * the text, then LF.  Text that would make the line longer than
 * RUNNER_LOG_LINE_MAX goes on in more lines (nothing is lost), which start
 * with the first @cont bytes of @prefix.  Line feeds in @text become
 * spaces (callers split first where lines matter).
 */
static void add_line(struct guts_buf *b, const char *prefix, size_t plen,
		     size_t cont, const char *text, size_t len)
{
	const size_t pmax = RUNNER_LOG_LINE_MAX / 2;

	for (;;) {
		size_t start = b->len, n, p = plen;

		if (p > pmax)
			p = utf8_cut(prefix, p, pmax);
		guts_buf_add(b, prefix, p);
		n = utf8_cut(text, len, RUNNER_LOG_LINE_MAX - p);
		if (!n && len)
			n = len < RUNNER_LOG_LINE_MAX - p
				? len
				: RUNNER_LOG_LINE_MAX - p;
		guts_buf_add(b, text, n);
		for (size_t i = start + p; i < b->len; i++)
			if (b->data[i] == '\n')
				b->data[i] = ' ';
		guts_buf_addch(b, '\n');
		text += n;
		len -= n;
		if (!len)
			break;
		plen = cont;
	}
}

void runner_format_event(struct guts_buf *b, const struct guts_log_event *ev)
{
	struct guts_buf pre;
	char ts[40];
	size_t first_len, ts_len;
	const char *text = ev->text ? ev->text : "";
	size_t len = ev->text ? ev->len : 0;

	if (ev->kind == GUTS_LOG_STEP_END)
		return;
	runner_format_time(ts, sizeof(ts), ev->ts_ns);
	guts_buf_init(&pre, 0);
	guts_buf_addf(&pre, "%s ", ts);
	ts_len = pre.len;
	guts_buf_adds(&pre, marker(ev->kind));
	if (ev->kind == GUTS_LOG_ENDGROUP) {
		add_line(b, pre.data, pre.len, pre.len, "", 0);
		guts_buf_release(&pre);
		return;
	}
	if (ev->kind == GUTS_LOG_STEP_START)
		guts_buf_addf(&pre, "##[step %d] ", ev->step);
	if (ev->kind == GUTS_LOG_GROUP || ev->kind == GUTS_LOG_STEP_START) {
		/* A title is one line (a huge one goes on unmarked). */
		add_line(b, pre.data, pre.len, ts_len, text, len);
		guts_buf_release(&pre);
		return;
	}
	first_len = pre.len;
	if (ev->ann && ev->ann->file) {
		guts_buf_adds(&pre, ev->ann->file);
		if (ev->ann->line)
			guts_buf_addf(&pre, ":%u", ev->ann->line);
		if (ev->ann->col)
			guts_buf_addf(&pre, ":%u", ev->ann->col);
		guts_buf_adds(&pre, ": ");
	}
	if (ev->ann && ev->ann->title)
		guts_buf_addf(&pre, "%s: ", ev->ann->title);
	/* Each line of the text is a line of the log, marker repeated. */
	if (len && text[len - 1] == '\n')
		len--;
	for (size_t i = 0, line = 0;; line++) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;

		add_line(b, pre.data, line ? first_len : pre.len, first_len,
			 text + i, n);
		if (!nl)
			break;
		i += n + 1;
	}
	guts_buf_release(&pre);
}

/* ---- the stream -------------------------------------------------------- */

static int64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static struct timespec abs_time(int64_t ns)
{
	struct timespec t;

	t.tv_sec = (time_t)(ns / 1000000000);
	t.tv_nsec = (long)(ns % 1000000000);
	return t;
}

static void update_free(struct runner_update *u)
{
	if (!u)
		return;
	json_decref(u->body);
	free(u);
}

void runner_log_init(struct runner_log *l, size_t limit)
{
	pthread_condattr_t ca;

	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->wake, &ca);
	pthread_cond_init(&l->space, &ca);
	pthread_condattr_destroy(&ca);
	l->limit = limit ? limit : RUNNER_LOG_LIMIT;
	l->updates_tail = &l->updates;
}

void runner_log_release(struct runner_log *l)
{
	while (l->updates) {
		struct runner_update *u = l->updates;

		l->updates = u->next;
		update_free(u);
	}
	free(l->data);
	pthread_cond_destroy(&l->wake);
	pthread_cond_destroy(&l->space);
	pthread_mutex_destroy(&l->lock);
	memset(l, 0, sizeof(*l));
}

/* Room for @add more bytes at the end (lock held). */
static void make_room(struct runner_log *l, size_t add)
{
	size_t want;

	if (l->head + l->len + add <= l->alloc)
		return;
	if (l->head) {
		memmove(l->data, l->data + l->head, l->len);
		l->head = 0;
	}
	if (l->len + add <= l->alloc)
		return;
	/*
	 * Doubling, but not much past the limit: bytes move through the
	 * whole allocation as they are acknowledged, so all of it is used.
	 */
	want = l->alloc ? 2 * l->alloc : 64 * 1024;
	if (want > l->limit + RUNNER_LOG_CHUNK_MAX)
		want = l->limit + RUNNER_LOG_CHUNK_MAX;
	if (want < l->len + add)
		want = l->len + add;
	l->data = guts_xrealloc(l->data, want);
	l->alloc = want;
}

int runner_log_append(struct runner_log *l, const char *data, size_t len,
		      struct runner_update *u, uint64_t *start)
{
	uint64_t unsent, at;

	pthread_mutex_lock(&l->lock);
	while (!l->stopped && !l->closed && l->end - l->base > l->limit)
		pthread_cond_wait(&l->space, &l->lock);
	if (l->stopped || l->closed) {
		pthread_mutex_unlock(&l->lock);
		update_free(u);
		return guts_error(GUTS_ECONFLICT, "the log is %s",
				  l->stopped ? "stopped" : "closed");
	}
	at = l->end;
	if (start)
		*start = at;
	unsent = l->end - l->sent;
	if (l->refused) {
		/* Counted, so that offsets stay right, and dropped. */
		l->end += len;
		l->base = l->sent = l->end;
		len = 0;
		unsent = 0;
	} else if (len) {
		make_room(l, len);
		memcpy(l->data + l->head + l->len, data, len);
		l->len += len;
		if (!unsent)
			l->first_unsent_ns = mono_ns();
		l->end += len;
	}
	if (u) {
		if (!json_object_get(u->body, "log_offset"))
			json_object_set_new(u->body, "log_offset",
					    json_integer((json_int_t)at));
		u->next = NULL;
		*l->updates_tail = u;
		l->updates_tail = &u->next;
	}
	/*
	 * Wake the sender for an update, for the first unsent byte (it
	 * starts the batching delay) and when a batch is full; not for
	 * every line.
	 */
	if (u || (len && !unsent) ||
	    (unsent < RUNNER_LOG_BATCH && unsent + len >= RUNNER_LOG_BATCH))
		pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	return 0;
}

uint64_t runner_log_end(struct runner_log *l)
{
	uint64_t e;

	pthread_mutex_lock(&l->lock);
	e = l->end;
	pthread_mutex_unlock(&l->lock);
	return e;
}

size_t runner_log_unacked(struct runner_log *l)
{
	size_t n;

	pthread_mutex_lock(&l->lock);
	n = (size_t)(l->end - l->base);
	pthread_mutex_unlock(&l->lock);
	return n;
}

void runner_log_next_work(struct runner_log *l, struct runner_log_work *w,
			  int wait)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_lock(&l->lock);
	for (;;) {
		uint64_t unsent = l->end - l->sent;
		int64_t due =
		    l->first_unsent_ns + (int64_t)RUNNER_LOG_DELAY_MS * 1000000;

		if (l->stopped) {
			w->what = RUNNER_LOG_DONE;
			break;
		}
		if (l->updates) {
			w->what = RUNNER_LOG_UPDATE;
			w->update = l->updates;
			l->updates = w->update->next;
			if (!l->updates)
				l->updates_tail = &l->updates;
			w->update->next = NULL;
			break;
		}
		if (l->sent > l->base || unsent >= RUNNER_LOG_BATCH ||
		    (unsent && (l->closed || mono_ns() >= due))) {
			size_t n = (size_t)(l->end - l->base);

			if (n > RUNNER_LOG_CHUNK_MAX)
				n = RUNNER_LOG_CHUNK_MAX;
			w->what = RUNNER_LOG_CHUNK;
			w->offset = l->base;
			w->len = n;
			w->data = guts_xmalloc(n ? n : 1);
			memcpy(w->data, l->data + l->head, n);
			if (l->sent < l->base + n)
				l->sent = l->base + n;
			if (l->sent == l->end)
				l->first_unsent_ns = 0;
			break;
		}
		if ((l->closed && l->base == l->end) || !wait) {
			w->what = RUNNER_LOG_DONE;
			break;
		}
		if (unsent) {
			struct timespec t = abs_time(due);

			pthread_cond_timedwait(&l->wake, &l->lock, &t);
		} else {
			pthread_cond_wait(&l->wake, &l->lock);
		}
	}
	pthread_mutex_unlock(&l->lock);
}

int runner_log_ack(struct runner_log *l, uint64_t offset)
{
	size_t drop;

	pthread_mutex_lock(&l->lock);
	if (l->refused) {
		pthread_mutex_unlock(&l->lock);
		return guts_error(GUTS_ECONFLICT, "the log was refused");
	}
	if (offset < l->base || offset > l->end) {
		int rc = offset < l->base
			     ? guts_error(GUTS_ECONFLICT,
					  "the node asks for log bytes from "
					  "%llu, which it had acknowledged "
					  "(up to %llu)",
					  (unsigned long long)offset,
					  (unsigned long long)l->base)
			     : guts_error(GUTS_EINVAL,
					  "the node acknowledges log bytes "
					  "up to %llu, past the end (%llu)",
					  (unsigned long long)offset,
					  (unsigned long long)l->end);

		pthread_mutex_unlock(&l->lock);
		return rc;
	}
	drop = (size_t)(offset - l->base);
	l->head += drop;
	l->len -= drop;
	l->base = offset;
	if (l->sent < offset)
		l->sent = offset;
	if (!l->len) {
		l->head = 0;
		if (l->alloc > 4 * RUNNER_LOG_CHUNK_MAX) {
			free(l->data);
			l->data = NULL;
			l->alloc = 0;
		}
	}
	pthread_cond_broadcast(&l->space);
	pthread_mutex_unlock(&l->lock);
	return 0;
}

void runner_log_rewind(struct runner_log *l)
{
	pthread_mutex_lock(&l->lock);
	l->sent = l->base;
	/* What was sent is old: due as soon as the sender looks. */
	if (l->end > l->base)
		l->first_unsent_ns = 1;
	pthread_mutex_unlock(&l->lock);
}

void runner_log_close(struct runner_log *l)
{
	pthread_mutex_lock(&l->lock);
	l->closed = 1;
	pthread_cond_broadcast(&l->wake);
	pthread_cond_broadcast(&l->space);
	pthread_mutex_unlock(&l->lock);
}

void runner_log_refuse(struct runner_log *l)
{
	pthread_mutex_lock(&l->lock);
	l->refused = 1;
	free(l->data);
	l->data = NULL;
	l->head = l->len = l->alloc = 0;
	l->base = l->sent = l->end;
	l->first_unsent_ns = 0;
	pthread_cond_broadcast(&l->wake);
	pthread_cond_broadcast(&l->space);
	pthread_mutex_unlock(&l->lock);
}

void runner_log_stop(struct runner_log *l)
{
	pthread_mutex_lock(&l->lock);
	l->stopped = 1;
	pthread_cond_broadcast(&l->wake);
	pthread_cond_broadcast(&l->space);
	pthread_mutex_unlock(&l->lock);
}

int runner_log_is_stopped(struct runner_log *l)
{
	int s;

	pthread_mutex_lock(&l->lock);
	s = l->stopped;
	pthread_mutex_unlock(&l->lock);
	return s;
}

int runner_log_sleep(struct runner_log *l, long ms)
{
	int64_t until = mono_ns() + (int64_t)ms * 1000000;
	struct timespec t = abs_time(until);
	int stopped;

	pthread_mutex_lock(&l->lock);
	while (!l->stopped && mono_ns() < until)
		if (pthread_cond_timedwait(&l->wake, &l->lock, &t) == ETIMEDOUT)
			break;
	stopped = l->stopped;
	pthread_mutex_unlock(&l->lock);
	return stopped;
}
