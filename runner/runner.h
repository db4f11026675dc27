/*
 * guts-runner: runs the jobs a guts-node leases to it, over the runner
 * protocol (docs/runner-protocol.md).
 *
 *   log.c     the job's log stream: one line per executor event, with
 *             GitHub's raw-log markers, kept in memory until the node
 *             acknowledges it, with the step updates queued in order
 *   client.c  job calls (the fence headers, JSON answers) and back-off
 *   mirror.c  the bare mirror checkout clones from, fetched with the job
 *             token
 *   store_node.c  the artifact store of a job, on the node (docs/artifacts.md)
 *   job.c     one leased job: its thread, log sender and heartbeat
 *   config.c  arguments, the config file and `register`
 *   main.c    the `next` loop, capacity and signals
 */
#ifndef GUTS_RUNNER_H
#define GUTS_RUNNER_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "guts/buf.h"
#include "guts/exec.h"
#include "guts/httpc.h"
#include "guts/strvec.h"

#define RUNNER_PROTOCOL 1
#define RUNNER_VERSION "0.1.0"

/* ---- the log stream (log.c) -------------------------------------------- */

/*
 * The longest line (timestamp and text, without the LF); longer text goes
 * on in the next line, with the same timestamp and marker.
 */
#define RUNNER_LOG_LINE_MAX (64 * 1024)
/* Unacknowledged bytes past which the job thread waits for acks. */
#define RUNNER_LOG_LIMIT (64u << 20)
/* Send when this much is pending, or RUNNER_LOG_DELAY_MS after a byte. */
#define RUNNER_LOG_BATCH (64 * 1024)
#define RUNNER_LOG_DELAY_MS 100
/* The most one append carries. */
#define RUNNER_LOG_CHUNK_MAX (1024 * 1024)

/** "2026-11-28T09:00:00.123456Z" into @out (at least 32 bytes). */
void runner_format_time(char *out, size_t size, int64_t ts_ns);

/**
 * Append the log lines of @ev to @b: "TIMESTAMP SP TEXT LF" each, with
 * GitHub's raw-log markers (##[group], ##[endgroup], ##[error], ##[warning],
 * ##[notice], ##[debug], ##[step N] NAME).  Text with line feeds becomes
 * several lines, and so does text too long for RUNNER_LOG_LINE_MAX.
 * STEP_END writes nothing (it is a step update, not a line).
 */
void runner_format_event(struct guts_buf *b, const struct guts_log_event *ev);

/* A step update waiting to be posted, in stream order. */
struct runner_update {
	struct runner_update *next;
	int step;
	json_t *body; /* {"protocol", "name", "status", "conclusion", ...} */
};

/*
 * One job attempt's log: a byte stream from offset 0.  Bytes from @base
 * (what the node acknowledged) to @end are kept; @sent is where the bytes
 * handed to the sender end.  The job thread appends, one sender thread
 * takes chunks and reports answers; everything is under @lock.
 */
struct runner_log {
	pthread_mutex_t lock;
	pthread_cond_t wake;  /* the sender: bytes, updates, close, stop */
	pthread_cond_t space; /* appenders waiting for acknowledgements */
	char *data;	      /* bytes [base, end) at data[head .. head+len) */
	size_t head, len, alloc;
	uint64_t base, sent, end;
	int64_t first_unsent_ns; /* monotonic; 0 when nothing is unsent */
	size_t limit;
	struct runner_update *updates, **updates_tail;
	int closed;  /* the job ended: no more appends, flush now */
	int stopped; /* nothing more is sent: the job was abandoned */
	int refused; /* the node takes no more bytes; updates still go */
};

void runner_log_init(struct runner_log *l, size_t limit);
void runner_log_release(struct runner_log *l);

/**
 * Append @len bytes, waiting while more than the limit is unacknowledged.
 * @u (may be NULL; taken over) is queued after the bytes, with "log_offset"
 * set to the offset where they start, which also goes to *@start (may be
 * NULL); an update that has a "log_offset" keeps it.  GUTS_ECONFLICT when the
 * log is stopped or closed: the bytes and
 * @u are dropped.
 */
int runner_log_append(struct runner_log *l, const char *data, size_t len,
		      struct runner_update *u, uint64_t *start);

/** The stream's length so far. */
uint64_t runner_log_end(struct runner_log *l);
/** Unacknowledged bytes. */
size_t runner_log_unacked(struct runner_log *l);

/* What the sender is to do next. */
struct runner_log_work {
	enum { RUNNER_LOG_DONE, RUNNER_LOG_UPDATE, RUNNER_LOG_CHUNK } what;
	struct runner_update *update; /* UPDATE: the caller frees it */
	uint64_t offset;	      /* CHUNK: where @data starts */
	char *data;		      /* CHUNK: a copy; the caller frees it */
	size_t len;
};

/**
 * Wait for work: a step update; a chunk (from the acknowledged end) when
 * RUNNER_LOG_BATCH bytes are unsent, the oldest unsent byte is
 * RUNNER_LOG_DELAY_MS old, the log is closed, or bytes were sent but not
 * acknowledged (a resend); or DONE when the log is stopped, or closed with
 * every byte acknowledged and no update left.  @wait 0 never waits: it
 * returns DONE when nothing is due yet.
 */
void runner_log_next_work(struct runner_log *l, struct runner_log_work *w,
			  int wait);

/**
 * The node has every byte before @offset: drop them; what follows is sent
 * (again) from there.  GUTS_ECONFLICT when @offset is before bytes already
 * dropped (the node lost acknowledged bytes) or the log was refused,
 * GUTS_EINVAL when it is past the end; the log is unchanged then.
 */
int runner_log_ack(struct runner_log *l, uint64_t offset);

/** A send failed: resend from the acknowledged end. */
void runner_log_rewind(struct runner_log *l);

/** The job ended: appends are refused and the sender flushes at once. */
void runner_log_close(struct runner_log *l);

/**
 * The node takes no more of the log: bytes are dropped (those appended
 * later too, though they still count for offsets); step updates still go.
 */
void runner_log_refuse(struct runner_log *l);

/** Send nothing more; wake everyone (appenders drop their bytes). */
void runner_log_stop(struct runner_log *l);

int runner_log_is_stopped(struct runner_log *l);

/**
 * Sleep up to @ms on the log's condition variable; returns early (1) when
 * the log is stopped.
 */
int runner_log_sleep(struct runner_log *l, long ms);

/* ---- calls and back-off (client.c) ------------------------------------- */

/* Exponential back-off: 0.5 s doubling to 30 s, with jitter. */
struct runner_backoff {
	double next; /* seconds before jitter */
};

void runner_backoff_reset(struct runner_backoff *b);
/** The delay to wait now (jittered), in seconds; doubles the next one. */
double runner_backoff_next(struct runner_backoff *b);

/* The answer to a call, with the error code of an error body. */
struct runner_answer {
	long status;
	json_t *body;	  /* parsed JSON, or NULL */
	const char *code; /* error.code, or "" (points into @body) */
};

void runner_answer_release(struct runner_answer *a);

/**
 * A JSON (or raw, when @raw is set) call with the extra header lines
 * @headers (NULL-terminated, may be NULL).  0 with @a filled when the node
 * answered; GUTS_EIO for a transport failure.
 */
int runner_call(struct guts_http *h, const char *method, const char *path,
		const char *const *headers, const json_t *body, const void *raw,
		size_t raw_len, long timeout_ms, struct runner_answer *a);

/** A JSON string of @s (NULL: null); bytes that are not UTF-8 become '?'. */
json_t *runner_json_text(const char *s);

/** The calling thread's transport error, without "POST URL: ". */
const char *runner_transport_error(void);

/** The message of an error answer, or "HTTP N" (static per thread). */
const char *runner_answer_message(const struct runner_answer *a);

/* ---- the repository mirror (mirror.c) ---------------------------------- */

/**
 * Fetch @sha of @clone_url into the bare mirror @mirror (created when
 * missing; locked against other fetches into it), authenticating with
 * @job_token as the Basic password of user x-access-token, passed in the
 * environment, not argv.  GUTS_EGIT with git's last words.
 */
int runner_mirror_fetch(const char *mirror, const char *clone_url,
			const char *sha, const char *job_token);

/** Whether @s is one safe path segment of a repository name. */
int runner_name_ok(const char *s);

/* ---- the node-backed artifact store (store_node.c) ---------------------- */

struct guts_artifact_store;

/*
 * A job's artifacts and caches on the node, over the HTTP calls of
 * docs/artifacts.md, authorised by the job token.  One per job: it knows
 * the repository (@repo, "owner/name"), the run (@run_id, digits) and the
 * job's cache scope (@scope, the string the built-ins pass; the node
 * decides the real scope from the token, and falls back to the default
 * branch itself, so lookups in any other scope miss).  A transport error
 * or a 5xx answer is retried a few times with back-off; any other error
 * answer is an error carrying the node's message.  Thread-safe (calls are
 * serialised).
 */
int runner_store_node_open(struct guts_artifact_store **out, const char *url,
			   const char *job_token, const char *repo,
			   const char *run_id, const char *scope);

/** Tries per call (at least 1) and the first back-off delay; for tests. */
void runner_store_node_set_retry(struct guts_artifact_store *s, int tries,
				 long first_delay_ms);

/* ---- the runner and its jobs (job.c, main.c) --------------------------- */

struct runner_job;
struct guts_artifact_store;

struct runner {
	char *url, *token, *name;
	struct guts_strvec labels;
	int capacity;
	char *work; /* jobs/, mirrors/ and store/ are under it */
	/* What jobs must not see: the work and config directories, and what
	 * GUTS_RUNNER_HIDE names (an embedded runner's node data). */
	struct guts_strvec hidden;
	struct guts_artifact_store *store;

	pthread_mutex_t lock;
	pthread_cond_t changed; /* a job ended, or a signal came */
	int active;
	struct runner_job *jobs; /* running */
	int draining, cancelling;
	int fatal; /* exit status a job call asked for (426), or 0 */
};

/**
 * Start a job thread for the lease @job (a "job" object; a reference is
 * taken).  The thread counts itself in r->active until it has completed.
 */
int runner_job_start(struct runner *r, json_t *job);

/** Cancel every running job (the second signal). */
void runner_cancel_all(struct runner *r);

/* ---- arguments and configuration (config.c) ---------------------------- */

struct runner_opts {
	const char *url, *token, *config, *name, *labels, *work;
	int capacity;
};

/** The default config file: $XDG_CONFIG_HOME/guts/runner.json. */
char *runner_default_config(void);
/** The default work directory: $XDG_CACHE_HOME/guts/runner. */
char *runner_default_work(void);

/** Split "a,b" into @out (trimmed, empty parts dropped). */
void runner_split_labels(struct guts_strvec *out, const char *text);

/** `guts-runner register ...`; returns the exit status. */
int runner_register_main(int argc, char **argv);

/**
 * Fill @r from the arguments, the environment and the config file.
 * Returns 0, or an exit status (2: usage) after printing why.
 */
int runner_configure(struct runner *r, int argc, char **argv);

#endif
