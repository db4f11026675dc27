/*
 * guts-node's shared context: configuration, the store, the HTTP daemon,
 * data directories, and the waiters that long-polls park on.
 */
#ifndef GUTS_NODE_NODE_H
#define GUTS_NODE_NODE_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define GUTS_NODE_VERSION "0.1.0"
#define GUTS_PROTOCOL 1

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

struct node_config {
	char *listen; /* ADDR:PORT */
	char *data;
	char *db;
	int runners;
	enum log_level log_level;
	int64_t log_cap;       /* bytes per job log */
	int lease_seconds;     /* 60 */
	int heartbeat_seconds; /* 15 */
	int max_runner_lost;   /* 2 */
	int threads;	       /* HTTP thread pool */
};

struct waiter;
struct hub;
struct ws;
struct artifacts;

struct node {
	struct node_config cfg;
	struct store *st;
	void *mhd; /* struct MHD_Daemon * */
	int port;
	int listen_fd;
	char *base_url;
	char *repos_dir, *logs_dir, *tmp_dir;
	char *runner_path; /* guts-runner for --runners */
	volatile int stopping;
	volatile int draining; /* SIGTERM: no new leases */
	/* Long-polls parked until something changes (see http_suspend_since()).
	 */
	pthread_mutex_t wait_lock;
	struct waiter *waiters;
	uint64_t wake_gen; /* bumped by every http_wake() */
	/* Serialises the work on one job (log appends, completion). */
	pthread_mutex_t job_locks[64];
	/* A push to a repository, from git's start to the check of what
	 * landed, excludes other pushes to it (so a later push cannot move a
	 * ref before this one's update is seen). */
	pthread_mutex_t repo_locks[16];
	/* One push is processed at a time per node (run numbers, events). */
	pthread_mutex_t push_lock;
	/* Run and job state transitions happen one at a time. */
	pthread_mutex_t sched_lock;
	/* Events for subscribers: check runs now, later runs and jobs. */
	struct hub *hub;
	struct ws *ws; /* the WebSocket layer (ws.c) */
	/* Artifacts, caches and their blobs (artifacts.h). */
	struct artifacts *arts;
};

extern enum log_level node_log_level;
void nlog(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline pthread_mutex_t *node_job_lock(struct node *n, int64_t job)
{
	return &n->job_locks[(uint64_t)job % 64];
}

/* The lock a change to a repository's refs holds (pushes, merges). */
static inline pthread_mutex_t *node_repo_lock(struct node *n, int64_t repo)
{
	return &n->repo_locks[(uint64_t)repo % 16];
}

/* Audit: who did what to which object (takes @detail). */
void node_audit(struct node *n, const char *actor, const char *action,
		const char *object, json_t *detail);

/* Random token "PREFIX_<40 hex>" and its SHA-256 hex (for storing). */
char *node_token_new(const char *prefix);
void node_token_hash(const char *token, char hex[65]);

/* The bare repository of OWNER/NAME: <data>/repos/OWNER/NAME.git. */
char *node_repo_dir(const struct node *n, const char *owner, const char *name);

/* A whole decimal integer (no junk); @def when @s is NULL. */
int node_int(const char *s, int64_t def, int64_t *out);

/* ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$, no "..", no ".git" suffix. */
int node_name_ok(const char *s);

#endif
