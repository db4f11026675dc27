/*
 * The node's store: a table of function pointers with one backend per
 * database, chosen by URL (sqlite:PATH today; postgres://... is shaped
 * for: $1-style parameters, RETURNING, ON CONFLICT, integers for times and
 * booleans, JSON kept as text).  Callers write SQL in that common subset
 * and never see the backend.
 *
 * Rows come back as JSON objects keyed by column name (integers, strings,
 * null), which is what the API layer serves anyway.
 *
 * Locking: the store serialises its callers (one connection, a recursive
 * lock).  store_begin() takes the lock until store_commit() or
 * store_rollback(), so a transaction's statements cannot interleave with
 * another thread's.
 */
#ifndef GUTS_NODE_STORE_H
#define GUTS_NODE_STORE_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum store_type { SV_NULL, SV_INT, SV_TEXT };

struct store_val {
	enum store_type type;
	int64_t i;
	const char *s;
};

#define SI(x) ((struct store_val){SV_INT, (int64_t)(x), NULL})
static inline struct store_val SS(const char *s) {
	struct store_val v = {s ? SV_TEXT : SV_NULL, 0, s};

	return v;
}
#define SN ((struct store_val){SV_NULL, 0, NULL})

struct store;

struct store_ops {
	const char *scheme; /* "sqlite" */
	int (*open)(struct store *st, const char *where);
	void (*close)(struct store *st);
	/* Apply the numbered migrations not applied yet. */
	int (*migrate)(struct store *st);
	/* One statement; *changes gets the rows changed (may be NULL). */
	int (*exec)(struct store *st, const char *sql,
		    const struct store_val *v, size_t n, int64_t *changes);
	/* One statement; *rows gets an array of objects. */
	int (*query)(struct store *st, const char *sql,
		     const struct store_val *v, size_t n, json_t **rows);
	int (*begin)(struct store *st);
	int (*commit)(struct store *st);
	int (*rollback)(struct store *st);
};

struct store {
	const struct store_ops *ops;
	void *impl;
	pthread_mutex_t lock; /* recursive */
	int in_tx, tx_failed;
	pthread_t owner; /* of the open transaction */
};

/** Open the store at @url ("sqlite:PATH") and migrate it. */
int store_open(struct store **out, const char *url);
void store_close(struct store *st);

int store_exec(struct store *st, const char *sql, const struct store_val *v,
	       size_t n, int64_t *changes);
/** Rows as a new JSON array (never NULL on success). */
int store_query(struct store *st, const char *sql, const struct store_val *v,
		size_t n, json_t **rows);
/** The first row, or GUTS_ENOTFOUND. */
int store_query_one(struct store *st, const char *sql,
		    const struct store_val *v, size_t n, json_t **row);

/* A transaction: the store is this thread's until commit or rollback. */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

#define STORE_ARGS(...)                                       \
	(const struct store_val[]){__VA_ARGS__},              \
	    sizeof((const struct store_val[]){__VA_ARGS__}) / \
		sizeof(struct store_val)

/* The backends. */
extern const struct store_ops store_sqlite_ops;

/* Time in ms since the epoch, and as RFC 3339 ("...Z") for the API. */
int64_t store_now_ms(void);
json_t *store_time_json(const json_t *ms);

#endif
