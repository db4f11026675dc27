/*
 * The node's in-process event hub: the scheduler publishes what happens
 * (check_run.created, check_run.completed, later workflow_run.* and
 * workflow_job.*), and subscribers (the WebSocket layer, tests) receive it.
 *
 * Invariants:
 * - Every event gets the next sequence number (1, 2, 3, ...), in the order
 *   hub_post() calls took the hub's lock.  Each subscriber sees events in
 *   that order, each at most once.
 * - The hub keeps the last `ring` events.  A subscriber can start from any
 *   sequence number still in the ring (resume after a reconnect); one that
 *   falls further behind than the ring skips what was dropped and is told
 *   how many it missed.
 * - Publishing never waits for a subscriber: hub_post() appends to the ring
 *   and wakes the hub's delivery thread.  Callbacks run on that thread,
 *   one at a time, without the hub's lock held; a callback may publish,
 *   subscribe and unsubscribe (itself included).  A slow callback delays
 *   the other subscribers' deliveries, never a publisher: callbacks should
 *   hand the event to their own queue and return.
 * - An event's data is read-only once published; a callback that keeps it
 *   takes a reference (jansson's counts are atomic here) or copies `text`.
 */
#ifndef GUTS_NODE_HUB_H
#define GUTS_NODE_HUB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct node;
struct hub;
struct hub_sub;

struct hub_event {
	uint64_t seq;
	const char *name; /* "check_run.completed" */
	int64_t repo_id;  /* 0: not about one repository */
	int64_t time_ms;  /* when it was published */
	json_t *data;	  /* read-only */
	/* {"seq":N,"event":NAME,"repo_id":ID,"data":DATA}, compact, ready
	 * for a WebSocket frame */
	const char *text;
};

/*
 * Called on the hub's thread for each event; @missed is how many events
 * this subscriber lost to the ring's overflow just before @ev (0 almost
 * always: a WebSocket client then gets a resync).
 */
typedef void (*hub_fn)(const struct hub_event *ev, uint64_t missed, void *user);

#define HUB_RING_DEFAULT 4096
/* hub_subscribe()'s @since for "only what is published from now on". */
#define HUB_LIVE UINT64_MAX

/** A hub keeping the last @ring events (0: HUB_RING_DEFAULT), with its
 *  delivery thread running. */
struct hub *hub_new(size_t ring);
/** Stop the delivery thread (a callback under way finishes first) and free
 *  everything; subscriptions still open are dropped.  NULL does nothing. */
void hub_free(struct hub *h);

/**
 * Publish @event (a static or caller-owned name, copied) about @repo_id;
 * takes @data (NULL: {}).  Returns its sequence number.  Never blocks on
 * a subscriber; any thread.
 */
uint64_t hub_post(struct hub *h, const char *event, int64_t repo_id,
		  json_t *data);
/** hub_post() on the node's hub; frees @data when the node has none. */
uint64_t hub_publish(struct node *n, const char *event, int64_t repo_id,
		     json_t *data);

/**
 * Call @fn(ev, missed, @user) for every event after sequence number @since
 * (0: everything the ring still holds; HUB_LIVE: from now on), in order,
 * until hub_unsubscribe().  *out is the handle.
 */
void hub_subscribe(struct hub *h, uint64_t since, hub_fn fn, void *user,
		   struct hub_sub **out);
/**
 * End a subscription.  When it returns, @fn is not running for @s and
 * will not be called again (from the delivery thread itself, i.e. inside
 * a callback, the subscription ends when that callback returns), so @user
 * may be freed.  NULL does nothing.
 */
void hub_unsubscribe(struct hub *h, struct hub_sub *s);

/**
 * Call @fn for each event after @since the ring still holds, in order, on
 * this thread and without the lock (the ring may move on meanwhile; what
 * was taken stays valid until @fn returns).  @missed on the first call
 * counts the events after @since already dropped.  Returns how many.
 */
size_t hub_replay(struct hub *h, uint64_t since, hub_fn fn, void *user);

/** The last sequence number published (0: none yet). */
uint64_t hub_last_seq(struct hub *h);
/** The oldest sequence number the ring still holds (last + 1 when empty). */
uint64_t hub_first_seq(struct hub *h);

/**
 * Wait until every subscriber has been handed every event published before
 * the call (tests, and an orderly shutdown).  Not from a callback.
 */
void hub_sync(struct hub *h);

#endif
