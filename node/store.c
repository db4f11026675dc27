/* The store's front: backend choice by URL, locking, helpers. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "store.h"
#include "banned.h"

static const struct store_ops *const backends[] = {
    &store_sqlite_ops,
};

int store_open(struct store **out, const char *url)
{
	const char *colon = strchr(url, ':');
	pthread_mutexattr_t a;
	struct store *st;
	int ret;

	*out = NULL;
	if (!colon)
		return guts_error(GUTS_EINVAL,
				  "--db %s: expected sqlite:PATH or "
				  "postgres://...",
				  url);
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		size_t n = strlen(backends[i]->scheme);

		if ((size_t)(colon - url) != n ||
		    strncmp(url, backends[i]->scheme, n))
			continue;
		st = guts_xcalloc(1, sizeof(*st));
		st->ops = backends[i];
		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&st->lock, &a);
		pthread_mutexattr_destroy(&a);
		ret = st->ops->open(st, colon + 1);
		if (ret == 0)
			ret = st->ops->migrate(st);
		if (ret < 0) {
			store_close(st);
			return ret;
		}
		*out = st;
		return 0;
	}
	if (!strncmp(url, "postgres", 8))
		return guts_error(GUTS_EINVAL,
				  "--db %s: this build has no PostgreSQL "
				  "backend yet; use sqlite:PATH",
				  url);
	return guts_error(GUTS_EINVAL, "--db %s: unknown database scheme", url);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->impl)
		st->ops->close(st);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

int store_exec(struct store *st, const char *sql, const struct store_val *v,
	       size_t n, int64_t *changes)
{
	int ret;

	pthread_mutex_lock(&st->lock);
	ret = st->ops->exec(st, sql, v, n, changes);
	pthread_mutex_unlock(&st->lock);
	return ret;
}

int store_query(struct store *st, const char *sql, const struct store_val *v,
		size_t n, json_t **rows)
{
	int ret;

	pthread_mutex_lock(&st->lock);
	ret = st->ops->query(st, sql, v, n, rows);
	pthread_mutex_unlock(&st->lock);
	return ret;
}

int store_query_one(struct store *st, const char *sql,
		    const struct store_val *v, size_t n, json_t **row)
{
	json_t *rows = NULL;
	int ret = store_query(st, sql, v, n, &rows);

	*row = NULL;
	if (ret < 0)
		return ret;
	if (!json_array_size(rows)) {
		json_decref(rows);
		return GUTS_ENOTFOUND;
	}
	*row = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return 0;
}

int store_begin(struct store *st)
{
	int ret;

	pthread_mutex_lock(&st->lock);
	/* Nested: one transaction, the outermost commit decides. */
	if (st->in_tx) {
		st->in_tx++;
		return 0;
	}
	ret = st->ops->begin(st);
	if (ret < 0) {
		pthread_mutex_unlock(&st->lock);
		return ret;
	}
	st->in_tx = 1;
	st->tx_failed = 0;
	st->owner = pthread_self();
	return 0;
}

int store_commit(struct store *st)
{
	int ret = 0;

	/* Not ours: a store_begin() that failed took no lock. */
	if (st->in_tx <= 0 || !pthread_equal(st->owner, pthread_self()))
		return guts_error(GUTS_EDB, "commit without a transaction");
	if (--st->in_tx == 0) {
		if (st->tx_failed) {
			st->ops->rollback(st);
			ret = guts_error(GUTS_ECONFLICT,
					 "transaction rolled back");
		} else if ((ret = st->ops->commit(st)) < 0) {
			st->ops->rollback(st);
		}
	}
	pthread_mutex_unlock(&st->lock);
	return ret;
}

void store_rollback(struct store *st)
{
	if (st->in_tx <= 0 || !pthread_equal(st->owner, pthread_self()))
		return;
	if (--st->in_tx == 0)
		st->ops->rollback(st);
	else
		st->tx_failed = 1;
	pthread_mutex_unlock(&st->lock);
}

int64_t store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_t *store_time_json(const json_t *ms)
{
	char buf[40];
	struct tm tm;
	time_t t;

	if (!json_is_integer(ms))
		return json_null();
	t = (time_t)(json_integer_value(ms) / 1000);
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}
