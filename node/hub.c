/* The in-process event hub: see hub.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "hub.h"
#include "node.h"
#include "store.h"
#include "banned.h"

/* An event in the ring; counted, since a delivery outlives its slot. */
struct hub_ev {
	struct hub_event pub;
	char *name, *text;
	int refs; /* under the hub's lock */
};

struct hub_sub {
	hub_fn fn;
	void *user;
	uint64_t next;	 /* the next sequence number it gets */
	uint64_t missed; /* dropped by the ring before `next` */
	int busy;	 /* its callback is running */
	int dead;	 /* unsubscribed; freed once not busy */
	int waited;	 /* hub_unsubscribe() waits to free it itself */
	struct hub_sub *link;
};

struct hub {
	pthread_mutex_t lock;
	pthread_cond_t work; /* something to deliver, or stop */
	pthread_cond_t idle; /* a delivery ended */
	struct hub_ev **ring;
	size_t cap;
	uint64_t seq; /* the last published */
	struct hub_sub *subs;
	pthread_t thread;
	int stopping;
};

static void ev_unref(struct hub_ev *e)
{
	if (e && --e->refs == 0) {
		json_decref(e->pub.data);
		free(e->name);
		free(e->text);
		free(e);
	}
}

static uint64_t first_locked(const struct hub *h)
{
	return h->seq >= h->cap ? h->seq - h->cap + 1 : 1;
}

static struct hub_ev *slot(struct hub *h, uint64_t seq)
{
	return h->ring[(seq - 1) % h->cap];
}

static void unlink_sub(struct hub *h, struct hub_sub *s)
{
	for (struct hub_sub **p = &h->subs; *p; p = &(*p)->link) {
		if (*p == s) {
			*p = s->link;
			break;
		}
	}
	free(s);
}

/*
 * The lowest sequence number some live subscriber waits for, once every
 * subscriber that fell out of the ring has been moved to its start; 0 when
 * nobody waits for anything.
 */
static uint64_t due_locked(struct hub *h)
{
	uint64_t first = first_locked(h), min = 0;

	for (struct hub_sub *s = h->subs; s; s = s->link) {
		if (s->dead || s->next > h->seq)
			continue;
		if (s->next < first) {
			s->missed += first - s->next;
			s->next = first;
		}
		if (!min || s->next < min)
			min = s->next;
	}
	return min;
}

/*
 * Deliver event by event: each to every subscriber waiting for it.  The
 * lock is dropped around each callback; the subscriber stays in the list
 * while busy, so its link is still good afterwards (unlinking others
 * rewrites it, never frees it).
 */
static void *deliver(void *arg)
{
	struct hub *h = arg;

	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		uint64_t seq = due_locked(h);
		struct hub_ev *e;
		struct hub_sub *s, *next;

		if (!seq) {
			pthread_cond_broadcast(&h->idle);
			pthread_cond_wait(&h->work, &h->lock);
			continue;
		}
		e = slot(h, seq);
		e->refs++;
		for (s = h->subs; s && !h->stopping; s = next) {
			uint64_t missed = s->missed;

			if (s->dead || s->next != seq) {
				next = s->link;
				continue;
			}
			s->busy = 1;
			s->missed = 0;
			pthread_mutex_unlock(&h->lock);
			s->fn(&e->pub, missed, s->user);
			pthread_mutex_lock(&h->lock);
			s->busy = 0;
			s->next = seq + 1;
			next = s->link;
			if (s->dead && !s->waited)
				unlink_sub(h, s);
			pthread_cond_broadcast(&h->idle);
		}
		ev_unref(e);
	}
	pthread_cond_broadcast(&h->idle);
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

struct hub *hub_new(size_t ring)
{
	struct hub *h = guts_xcalloc(1, sizeof(*h));

	h->cap = ring ? ring : HUB_RING_DEFAULT;
	h->ring = guts_xcalloc(h->cap, sizeof(*h->ring));
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->work, NULL);
	pthread_cond_init(&h->idle, NULL);
	if (pthread_create(&h->thread, NULL, deliver, h))
		abort(); /* like running out of memory */
	return h;
}

void hub_free(struct hub *h)
{
	struct hub_sub *s, *next;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopping = 1;
	pthread_cond_broadcast(&h->work);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	for (s = h->subs; s; s = next) {
		next = s->link;
		free(s);
	}
	for (size_t i = 0; i < h->cap; i++)
		ev_unref(h->ring[i]);
	free(h->ring);
	pthread_cond_destroy(&h->idle);
	pthread_cond_destroy(&h->work);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

uint64_t hub_post(struct hub *h, const char *event, int64_t repo_id,
		  json_t *data)
{
	struct hub_ev *e = guts_xcalloc(1, sizeof(*e));
	json_t *name = json_string(event ? event : "");
	char *name_text, *data_text;
	uint64_t seq;

	if (!data)
		data = json_object();
	/* The expensive part (serialising) happens before the lock. */
	name_text = json_dumps(name, JSON_ENCODE_ANY);
	data_text = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(name);
	e->name = guts_xstrdup(event ? event : "");
	e->refs = 1; /* the ring's */
	e->pub.name = e->name;
	e->pub.repo_id = repo_id;
	e->pub.time_ms = store_now_ms();
	e->pub.data = data;
	pthread_mutex_lock(&h->lock);
	seq = ++h->seq;
	e->pub.seq = seq;
	e->text = guts_xasprintf(
	    "{\"seq\":%llu,\"event\":%s,\"repo_id\":%lld,\"data\":%s}",
	    (unsigned long long)seq, name_text ? name_text : "\"\"",
	    (long long)repo_id, data_text ? data_text : "{}");
	e->pub.text = e->text;
	ev_unref(h->ring[(seq - 1) % h->cap]);
	h->ring[(seq - 1) % h->cap] = e;
	pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->lock);
	free(name_text);
	free(data_text);
	return seq;
}

uint64_t hub_publish(struct node *n, const char *event, int64_t repo_id,
		     json_t *data)
{
	if (!n || !n->hub) {
		json_decref(data);
		return 0;
	}
	return hub_post(n->hub, event, repo_id, data);
}

void hub_subscribe(struct hub *h, uint64_t since, hub_fn fn, void *user,
		   struct hub_sub **out)
{
	struct hub_sub *s = guts_xcalloc(1, sizeof(*s)), **p;

	s->fn = fn;
	s->user = user;
	pthread_mutex_lock(&h->lock);
	s->next = since == HUB_LIVE || since > h->seq ? h->seq + 1 : since + 1;
	/* At the tail, so that subscribers are served in subscription order. */
	for (p = &h->subs; *p; p = &(*p)->link)
		;
	*p = s;
	pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->lock);
	*out = s;
}

void hub_unsubscribe(struct hub *h, struct hub_sub *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&h->lock);
	s->dead = 1;
	if (pthread_equal(pthread_self(), h->thread)) {
		/* From a callback: the delivery loop frees it (busy) or it
		 * is some other, idle, subscription. */
		if (!s->busy)
			unlink_sub(h, s);
		pthread_mutex_unlock(&h->lock);
		return;
	}
	/* The delivery thread always ends a callback it started, even when
	 * stopping, and says so on `idle`; then this thread frees it. */
	s->waited = 1;
	while (s->busy)
		pthread_cond_wait(&h->idle, &h->lock);
	unlink_sub(h, s);
	pthread_mutex_unlock(&h->lock);
}

size_t hub_replay(struct hub *h, uint64_t since, hub_fn fn, void *user)
{
	struct hub_ev **evs = NULL;
	uint64_t first, missed = 0;
	size_t nr = 0;

	pthread_mutex_lock(&h->lock);
	first = first_locked(h);
	if (since < h->seq) {
		if (since + 1 < first) {
			missed = first - since - 1;
			since = first - 1;
		}
		nr = (size_t)(h->seq - since);
		evs = guts_xcalloc(nr, sizeof(*evs));
		for (size_t i = 0; i < nr; i++) {
			evs[i] = slot(h, since + 1 + i);
			evs[i]->refs++;
		}
	}
	pthread_mutex_unlock(&h->lock);
	for (size_t i = 0; i < nr; i++)
		fn(&evs[i]->pub, i ? 0 : missed, user);
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < nr; i++)
		ev_unref(evs[i]);
	pthread_mutex_unlock(&h->lock);
	free(evs);
	return nr;
}

uint64_t hub_last_seq(struct hub *h)
{
	uint64_t seq;

	pthread_mutex_lock(&h->lock);
	seq = h->seq;
	pthread_mutex_unlock(&h->lock);
	return seq;
}

uint64_t hub_first_seq(struct hub *h)
{
	uint64_t seq;

	pthread_mutex_lock(&h->lock);
	seq = h->seq ? first_locked(h) : 1;
	pthread_mutex_unlock(&h->lock);
	return seq;
}

void hub_sync(struct hub *h)
{
	uint64_t target;

	pthread_mutex_lock(&h->lock);
	target = h->seq;
	for (;;) {
		int behind = 0;

		for (struct hub_sub *s = h->subs; s; s = s->link)
			behind |= !s->dead && s->next <= target;
		if (!behind || h->stopping)
			break;
		pthread_cond_wait(&h->idle, &h->lock);
	}
	pthread_mutex_unlock(&h->lock);
}
