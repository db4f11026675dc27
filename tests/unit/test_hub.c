/* Unit tests for the node's event hub: order, replay, overflow, threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guts/alloc.h"
#include "hub.h"

/* What a subscriber saw, appended by its callback (the hub's thread). */
struct seen {
	pthread_mutex_t lock;
	uint64_t seqs[20000];
	int64_t vals[20000];
	size_t nr;
	uint64_t missed;
	size_t missed_at; /* index of the event that reported it */
	/* Blocking: the callback waits while `hold` is set. */
	pthread_cond_t cond;
	int hold, holding;
	/* Actions from inside the callback. */
	struct hub *hub;
	struct hub_sub *self;
	int unsubscribe_at; /* after this many events, 0: never */
	int publish_at;	    /* publish one event at this count */
};

static void seen_init(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
}

static void on_event(const struct hub_event *ev, uint64_t missed, void *user)
{
	struct seen *s = user;
	json_t *v = json_object_get(ev->data, "v");
	size_t nr;

	pthread_mutex_lock(&s->lock);
	s->holding = 1;
	pthread_cond_broadcast(&s->cond);
	while (s->hold)
		pthread_cond_wait(&s->cond, &s->lock);
	s->holding = 0;
	if (missed) {
		s->missed += missed;
		s->missed_at = s->nr;
	}
	s->seqs[s->nr] = ev->seq;
	s->vals[s->nr] = json_is_integer(v) ? json_integer_value(v) : -1;
	nr = ++s->nr;
	pthread_mutex_unlock(&s->lock);
	if (s->publish_at && (int)nr == s->publish_at)
		hub_post(s->hub, "from.callback", 0,
			 json_pack("{s:i}", "v", 4242));
	if (s->unsubscribe_at && (int)nr == s->unsubscribe_at)
		hub_unsubscribe(s->hub, s->self);
}

static void post_n(struct hub *h, int from, int count)
{
	for (int i = from; i < from + count; i++)
		hub_post(h, "test.event", 7, json_pack("{s:i}", "v", i));
}

static void
test_hub__delivers_every_event_in_order_with_its_envelope(void **state)
{
	struct hub *h = hub_new(64);
	struct seen *s = guts_xcalloc(1, sizeof(*s));
	struct hub_sub *sub;

	(void)state;
	seen_init(s);
	assert_int_equal(hub_last_seq(h), 0);
	hub_subscribe(h, HUB_LIVE, on_event, s, &sub);
	post_n(h, 0, 50);
	hub_sync(h);
	assert_int_equal(s->nr, 50);
	for (size_t i = 0; i < 50; i++) {
		assert_int_equal(s->seqs[i], i + 1);
		assert_int_equal(s->vals[i], (int64_t)i);
	}
	assert_int_equal(s->missed, 0);
	assert_int_equal(hub_last_seq(h), 50);
	hub_unsubscribe(h, sub);
	hub_free(h);
	free(s);
}

/* The text of event @seq, through a one-shot subscription. */
struct grab {
	uint64_t want;
	char *text;
};

static void on_grab(const struct hub_event *ev, uint64_t missed, void *user)
{
	struct grab *g = user;

	(void)missed;
	if (ev->seq == g->want && !g->text)
		g->text = guts_xstrdup(ev->text);
}

static void test_hub__event_text_is_the_json_envelope(void **state)
{
	struct hub *h = hub_new(8);
	struct grab g = {0};
	struct hub_sub *sub;
	json_t *env;

	(void)state;
	g.want =
	    hub_post(h, "check_run.completed", 3,
		     json_pack("{s:{s:s}}", "check_run", "name", "CI / b"));
	hub_subscribe(h, 0, on_grab, &g, &sub);
	hub_sync(h);
	hub_unsubscribe(h, sub);
	assert_non_null(g.text);
	env = json_loads(g.text, 0, NULL);
	assert_non_null(env);
	assert_int_equal(json_integer_value(json_object_get(env, "seq")), 1);
	assert_string_equal(json_string_value(json_object_get(env, "event")),
			    "check_run.completed");
	assert_int_equal(json_integer_value(json_object_get(env, "repo_id")),
			 3);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(env, "data"), "check_run"),
		"name")),
	    "CI / b");
	json_decref(env);
	free(g.text);
	hub_free(h);
}

static void
test_hub__subscribing_since_a_seq_replays_only_what_followed(void **state)
{
	struct hub *h = hub_new(64);
	struct seen *a = guts_xcalloc(1, sizeof(*a));
	struct seen *live = guts_xcalloc(1, sizeof(*live));
	struct hub_sub *sa, *sl;

	(void)state;
	seen_init(a);
	seen_init(live);
	post_n(h, 0, 10);
	hub_subscribe(h, 5, on_event, a, &sa);
	hub_subscribe(h, HUB_LIVE, on_event, live, &sl);
	hub_sync(h);
	assert_int_equal(a->nr, 5);
	assert_int_equal(a->seqs[0], 6);
	assert_int_equal(a->seqs[4], 10);
	assert_int_equal(live->nr, 0);
	post_n(h, 10, 2);
	hub_sync(h);
	assert_int_equal(a->nr, 7);
	assert_int_equal(a->seqs[6], 12);
	assert_int_equal(live->nr, 2);
	assert_int_equal(live->seqs[0], 11);
	/* A resume point in the future is "from now on". */
	hub_unsubscribe(h, sa);
	a->nr = 0;
	hub_subscribe(h, 1000, on_event, a, &sa);
	post_n(h, 12, 1);
	hub_sync(h);
	assert_int_equal(a->nr, 1);
	assert_int_equal(a->seqs[0], 13);
	hub_unsubscribe(h, sa);
	hub_unsubscribe(h, sl);
	hub_free(h);
	free(a);
	free(live);
}

static void
test_hub__ring_overflow_drops_the_oldest_and_reports_the_gap(void **state)
{
	struct hub *h = hub_new(8);
	struct seen *s = guts_xcalloc(1, sizeof(*s));
	struct hub_sub *sub;

	(void)state;
	seen_init(s);
	post_n(h, 0, 20);
	assert_int_equal(hub_first_seq(h), 13);
	assert_int_equal(hub_last_seq(h), 20);
	hub_subscribe(h, 2, on_event, s, &sub);
	hub_sync(h);
	assert_int_equal(s->nr, 8);
	assert_int_equal(s->seqs[0], 13);
	assert_int_equal(s->seqs[7], 20);
	assert_int_equal(s->missed, 10); /* 3 to 12 */
	assert_int_equal(s->missed_at, 0);
	hub_unsubscribe(h, sub);
	hub_free(h);
	free(s);
}

static void test_hub__replay_hands_over_what_the_ring_holds(void **state)
{
	struct hub *h = hub_new(8);
	struct seen *s = guts_xcalloc(1, sizeof(*s));

	(void)state;
	seen_init(s);
	assert_int_equal(hub_replay(h, 0, on_event, s), 0);
	post_n(h, 0, 5);
	assert_int_equal(hub_replay(h, 3, on_event, s), 2);
	assert_int_equal(s->seqs[0], 4);
	assert_int_equal(s->seqs[1], 5);
	assert_int_equal(s->missed, 0);
	post_n(h, 5, 10); /* 15 published, 8..15 held */
	s->nr = 0;
	assert_int_equal(hub_replay(h, 2, on_event, s), 8);
	assert_int_equal(s->seqs[0], 8);
	assert_int_equal(s->missed, 5); /* 3 to 7 */
	assert_int_equal(hub_replay(h, 15, on_event, s), 0);
	assert_int_equal(hub_replay(h, 99, on_event, s), 0);
	hub_free(h);
	free(s);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_hub__a_stuck_subscriber_never_blocks_publishers(void **state)
{
	struct hub *h = hub_new(8);
	struct seen *slow = guts_xcalloc(1, sizeof(*slow));
	struct hub_sub *sub;
	double t0;

	(void)state;
	seen_init(slow);
	slow->hold = 1;
	hub_subscribe(h, HUB_LIVE, on_event, slow, &sub);
	post_n(h, 0, 1);
	/* Its callback is now stuck on event 1. */
	pthread_mutex_lock(&slow->lock);
	while (!slow->holding)
		pthread_cond_wait(&slow->cond, &slow->lock);
	pthread_mutex_unlock(&slow->lock);
	t0 = now_s();
	post_n(h, 1, 1000);
	assert_true(now_s() - t0 < 2.0);
	assert_int_equal(hub_last_seq(h), 1001);
	pthread_mutex_lock(&slow->lock);
	slow->hold = 0;
	pthread_cond_broadcast(&slow->cond);
	pthread_mutex_unlock(&slow->lock);
	hub_sync(h);
	/* Event 1, then a gap, then the ring's 8. */
	assert_int_equal(slow->nr, 9);
	assert_int_equal(slow->seqs[0], 1);
	assert_int_equal(slow->seqs[1], 994);
	assert_int_equal(slow->missed, 992);
	assert_int_equal(slow->missed_at, 1);
	hub_unsubscribe(h, sub);
	hub_free(h);
	free(slow);
}

static void
test_hub__unsubscribed_callbacks_are_never_called_again(void **state)
{
	struct hub *h = hub_new(64);
	struct seen *a = guts_xcalloc(1, sizeof(*a));
	struct seen *b = guts_xcalloc(1, sizeof(*b));
	struct hub_sub *sa, *sb;

	(void)state;
	seen_init(a);
	seen_init(b);
	hub_subscribe(h, HUB_LIVE, on_event, a, &sa);
	/* b unsubscribes itself from its third callback and publishes
	 * from its second: neither deadlocks. */
	b->hub = h;
	b->unsubscribe_at = 3;
	b->publish_at = 2;
	hub_subscribe(h, HUB_LIVE, on_event, b, &sb);
	b->self = sb;
	post_n(h, 0, 5);
	hub_sync(h);
	hub_sync(h); /* and what b published meanwhile */
	assert_int_equal(b->nr, 3);
	assert_int_equal(a->nr, 6); /* 5, and b's */
	hub_unsubscribe(h, sa);
	post_n(h, 5, 5);
	hub_sync(h);
	assert_int_equal(a->nr, 6);
	assert_int_equal(b->nr, 3);
	{
		int found = 0;

		for (size_t i = 0; i < a->nr; i++)
			found |= a->vals[i] == 4242;
		assert_true(found);
	}
	hub_free(h);
	free(a);
	free(b);
}

/* Unsubscribing from another thread waits for a callback under way. */
struct unsub_arg {
	struct hub *h;
	struct hub_sub *sub;
	int done;
};

static void *unsub_thread(void *p)
{
	struct unsub_arg *u = p;

	hub_unsubscribe(u->h, u->sub);
	__atomic_store_n(&u->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_hub__unsubscribe_waits_for_the_running_callback(void **state)
{
	struct hub *h = hub_new(64);
	struct seen *s = guts_xcalloc(1, sizeof(*s));
	struct unsub_arg u = {h, NULL, 0};
	struct timespec ts = {0, 50 * 1000 * 1000};
	pthread_t t;

	(void)state;
	seen_init(s);
	s->hold = 1;
	hub_subscribe(h, HUB_LIVE, on_event, s, &u.sub);
	post_n(h, 0, 3);
	pthread_mutex_lock(&s->lock);
	while (!s->holding)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	pthread_create(&t, NULL, unsub_thread, &u);
	nanosleep(&ts, NULL);
	assert_int_equal(__atomic_load_n(&u.done, __ATOMIC_SEQ_CST), 0);
	pthread_mutex_lock(&s->lock);
	s->hold = 0;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(t, NULL);
	assert_int_equal(u.done, 1);
	hub_sync(h);
	assert_int_equal(s->nr, 1); /* the one under way, nothing after */
	hub_free(h);
	free(s);
}

#define PUBLISHERS 8
#define PER_PUBLISHER 1000

struct pub_arg {
	struct hub *h;
	int id;
};

static void *publisher(void *p)
{
	struct pub_arg *a = p;

	for (int i = 0; i < PER_PUBLISHER; i++)
		hub_post(a->h, "test.event", a->id,
			 json_pack("{s:i}", "v", a->id * 100000 + i));
	return NULL;
}

static void
test_hub__concurrent_publishers_get_distinct_ordered_seqs(void **state)
{
	struct hub *h = hub_new(PUBLISHERS * PER_PUBLISHER);
	struct seen *s = guts_xcalloc(1, sizeof(*s));
	struct pub_arg args[PUBLISHERS];
	pthread_t t[PUBLISHERS];
	struct hub_sub *sub;
	int last[PUBLISHERS];

	(void)state;
	seen_init(s);
	hub_subscribe(h, HUB_LIVE, on_event, s, &sub);
	for (int i = 0; i < PUBLISHERS; i++) {
		args[i].h = h;
		args[i].id = i;
		pthread_create(&t[i], NULL, publisher, &args[i]);
	}
	for (int i = 0; i < PUBLISHERS; i++)
		pthread_join(t[i], NULL);
	hub_sync(h);
	assert_int_equal(s->nr, PUBLISHERS * PER_PUBLISHER);
	assert_int_equal(s->missed, 0);
	for (int i = 0; i < PUBLISHERS; i++)
		last[i] = -1;
	for (size_t i = 0; i < s->nr; i++) {
		int id = (int)(s->vals[i] / 100000),
		    k = (int)(s->vals[i] % 100000);

		assert_int_equal(s->seqs[i], i + 1);
		assert_true(id >= 0 && id < PUBLISHERS);
		/* Each publisher's events keep its order. */
		assert_int_equal(k, last[id] + 1);
		last[id] = k;
	}
	hub_unsubscribe(h, sub);
	hub_free(h);
	free(s);
}

static void test_hub__free_with_open_subscriptions_and_null(void **state)
{
	struct hub *h = hub_new(4);
	struct seen *s = guts_xcalloc(1, sizeof(*s));
	struct hub_sub *sub;

	(void)state;
	seen_init(s);
	hub_subscribe(h, 0, on_event, s, &sub);
	post_n(h, 0, 10);
	hub_free(h);
	hub_free(NULL);
	assert_int_equal(hub_publish(NULL, "x", 0, json_object()), 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_hub__delivers_every_event_in_order_with_its_envelope),
	    cmocka_unit_test(test_hub__event_text_is_the_json_envelope),
	    cmocka_unit_test(
		test_hub__subscribing_since_a_seq_replays_only_what_followed),
	    cmocka_unit_test(
		test_hub__ring_overflow_drops_the_oldest_and_reports_the_gap),
	    cmocka_unit_test(test_hub__replay_hands_over_what_the_ring_holds),
	    cmocka_unit_test(
		test_hub__a_stuck_subscriber_never_blocks_publishers),
	    cmocka_unit_test(
		test_hub__unsubscribed_callbacks_are_never_called_again),
	    cmocka_unit_test(
		test_hub__unsubscribe_waits_for_the_running_callback),
	    cmocka_unit_test(
		test_hub__concurrent_publishers_get_distinct_ordered_seqs),
	    cmocka_unit_test(test_hub__free_with_open_subscriptions_and_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
