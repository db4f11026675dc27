/*
 * One leased job: a thread that runs it with the executor (guts_job_run),
 * a sender thread that ships its log and step updates, and a heartbeat
 * thread that keeps the lease and hears about cancellation.  When the job
 * ends its log is flushed and the job completed; a stale lease abandons it
 * (the job is cancelled and nothing more is sent).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guts/alloc.h"
#include "guts/builtin.h"
#include "guts/diag.h"
#include "guts/error.h"
#include "guts/exec.h"
#include "guts/runcmd.h"
#include "guts/workflow.h"
#include "runner.h"
#include "banned.h"

#define CALL_TIMEOUT_MS 30000
#define LOG_TIMEOUT_MS 60000

/*
 * Annotations sent with the completion: GitHub's 10 per step and level
 * (the rest stay in the log only), at most the node's 200 per job, each
 * message cut at 4 KiB and its file and title at 1 KiB.  The summary is
 * cut at the node's 1 MiB.  These match node/summary.h.
 */
#define ANN_PER_STEP_LEVEL 10
#define ANN_PER_JOB 200
#define ANN_MAX_MESSAGE 4096
#define ANN_MAX_FIELD 1024
#define ANN_MAX_STEP 10000
#define SUMMARY_MAX (1024 * 1024)

struct runner_job {
	struct runner *r;
	struct runner_job *next;
	json_t *lease; /* the "job" object */
	long long id, attempt;
	const char *name, *job_token;
	int heartbeat_s;
	char *headers_text[3];
	const char *headers[4];
	struct guts_cancel *cancel;
	struct runner_log log;
	pthread_t sender, heart;
	int sender_started, heart_started;
	int cancel_seen; /* the heartbeat thread only */
	int64_t t0;

	pthread_mutex_t lock; /* what follows, until the sink's part */
	pthread_cond_t cond;  /* monotonic; heartbeat and back-off sleeps */
	int hb_stop;
	int abandoned;
	int net_down; /* a call failed to reach the node */

	/* The sink's state: the job thread only. */
	struct guts_buf line;
	int cur_step, depth;
	char *cur_name;
	uint64_t cur_offset;
	json_t *annotations;	   /* for the completion */
	unsigned (*ann_counts)[3]; /* per step: error, warning, notice */
	size_t nr_ann_counts;
};

static int64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t wall_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static const char *lease_str(const struct runner_job *j, const char *key)
{
	return json_string_value(json_object_get(j->lease, key));
}

/* A context from the lease: an object, or NULL (null or missing). */
static const json_t *lease_obj(const struct runner_job *j, const char *key)
{
	const json_t *v = json_object_get(j->lease, key);

	return json_is_object(v) ? v : NULL;
}

static void job_say(const struct runner_job *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One line on stderr about the job. */
static void job_say(const struct runner_job *j, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "job %lld (%s) attempt %lld: %s\n", j->id, j->name,
		j->attempt, msg);
}

/* ---- abandoning, sleeping ---------------------------------------------- */

static int is_abandoned(struct runner_job *j)
{
	int a;

	pthread_mutex_lock(&j->lock);
	a = j->abandoned;
	pthread_mutex_unlock(&j->lock);
	return a;
}

/* The lease is gone: cancel the job and send nothing more. */
static void abandon(struct runner_job *j, const char *why)
{
	pthread_mutex_lock(&j->lock);
	if (j->abandoned) {
		pthread_mutex_unlock(&j->lock);
		return;
	}
	j->abandoned = 1;
	j->hb_stop = 1;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
	job_say(j, "abandoned: %s", why);
	guts_cancel_trigger(j->cancel);
	runner_log_stop(&j->log);
}

/* Sleep @secs, or until the job is abandoned (then 1). */
static int job_sleep(struct runner_job *j, double secs)
{
	int64_t until = mono_ns() + (int64_t)(secs * 1e9);
	struct timespec t = {(time_t)(until / 1000000000),
			     (long)(until % 1000000000)};
	int a;

	pthread_mutex_lock(&j->lock);
	while (!j->abandoned && mono_ns() < until)
		if (pthread_cond_timedwait(&j->cond, &j->lock, &t) == ETIMEDOUT)
			break;
	a = j->abandoned;
	pthread_mutex_unlock(&j->lock);
	return a;
}

/* Say once when the node cannot be reached, and once when it can again. */
static void net_state(struct runner_job *j, int down, const char *what)
{
	int changed;

	pthread_mutex_lock(&j->lock);
	changed = j->net_down != down;
	j->net_down = down;
	pthread_mutex_unlock(&j->lock);
	if (changed && down)
		job_say(j, "%s: cannot reach the node (%s); retrying", what,
			runner_transport_error());
	else if (changed)
		job_say(j, "reached the node again");
}

/* ---- calls --------------------------------------------------------------- */

enum verdict {
	V_OK,	   /* 2xx */
	V_RETRY,   /* transport failure, 5xx: back off and retry */
	V_GAP,	   /* 409 offset_gap */
	V_ABANDON, /* stale lease or the job is not ours: given up */
	V_FAIL,	   /* refused: no use retrying */
};

static enum verdict job_call(struct runner_job *j, struct guts_http *h,
			     const char *what, const char *path,
			     const json_t *body, const void *raw,
			     size_t raw_len, struct runner_answer *a)
{
	long timeout = raw ? LOG_TIMEOUT_MS : CALL_TIMEOUT_MS;
	int rc = runner_call(h, "POST", path, j->headers, body, raw, raw_len,
			     timeout, a);

	if (rc < 0) {
		net_state(j, 1, what);
		return V_RETRY;
	}
	net_state(j, 0, what);
	if (a->status / 100 == 2)
		return V_OK;
	if (a->status == 409 && !strcmp(a->code, "offset_gap"))
		return V_GAP;
	if ((a->status == 409 &&
	     (!strcmp(a->code, "stale_lease") || !*a->code)) ||
	    a->status == 401 || a->status == 403 || a->status == 404) {
		char *why =
		    guts_xasprintf("%s: %s", what, runner_answer_message(a));

		abandon(j, why);
		free(why);
		return V_ABANDON;
	}
	if (a->status == 426) {
		fprintf(stderr, "guts-runner: %s\n", runner_answer_message(a));
		pthread_mutex_lock(&j->r->lock);
		j->r->fatal = 2;
		pthread_cond_broadcast(&j->r->changed);
		pthread_mutex_unlock(&j->r->lock);
		abandon(j, "the node speaks another protocol");
		return V_ABANDON;
	}
	if (a->status >= 500 || a->status == 429 || a->status == 408) {
		guts_error(GUTS_EIO, "%s", runner_answer_message(a));
		net_state(j, 1, what);
		return V_RETRY;
	}
	return V_FAIL;
}

/* The "offset" of an offset_gap answer (top level, or in "error"). */
static int gap_offset(const struct runner_answer *a, uint64_t *off)
{
	json_t *v = json_object_get(a->body, "offset");

	if (!json_is_integer(v))
		v = json_object_get(json_object_get(a->body, "error"),
				    "offset");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*off = (uint64_t)json_integer_value(v);
	return 0;
}

/* The node will not take (more of) the log: stop sending it. */
static void log_refused(struct runner_job *j, const char *why)
{
	job_say(j, "the log stops here: %s", why);
	runner_log_refuse(&j->log);
}

static void send_chunk(struct runner_job *j, struct guts_http *h,
		       const struct runner_log_work *w,
		       struct runner_backoff *bo)
{
	char path[128];
	struct runner_answer a;
	uint64_t off;
	enum verdict v;

	snprintf(path, sizeof(path), "/api/runners/jobs/%lld/logs?offset=%llu",
		 j->id, (unsigned long long)w->offset);
	v = job_call(j, h, "log append", path, NULL, w->data, w->len, &a);
	switch (v) {
	case V_OK:
		if (!json_is_integer(json_object_get(a.body, "offset"))) {
			guts_error(GUTS_EIO, "log append: no offset in the "
					     "answer");
			net_state(j, 1, "log append");
			runner_log_rewind(&j->log);
			runner_log_sleep(&j->log,
					 (long)(runner_backoff_next(bo) * 1e3));
			break;
		}
		runner_backoff_reset(bo);
		off = (uint64_t)json_integer_value(
		    json_object_get(a.body, "offset"));
		if (runner_log_ack(&j->log, off) < 0)
			log_refused(j, guts_error_message());
		break;
	case V_GAP:
		/* Resend from where the node is. */
		if (gap_offset(&a, &off) < 0)
			log_refused(j, "offset_gap without an offset");
		else if (runner_log_ack(&j->log, off) < 0)
			log_refused(j, guts_error_message());
		break;
	case V_RETRY:
		runner_log_rewind(&j->log);
		runner_log_sleep(&j->log,
				 (long)(runner_backoff_next(bo) * 1e3));
		break;
	case V_ABANDON:
		break;
	case V_FAIL:
		log_refused(j, runner_answer_message(&a));
		break;
	}
	runner_answer_release(&a);
}

static void send_update(struct runner_job *j, struct guts_http *h,
			const struct runner_update *u,
			struct runner_backoff *bo)
{
	char path[96];

	snprintf(path, sizeof(path), "/api/runners/jobs/%lld/steps/%d", j->id,
		 u->step);
	for (;;) {
		struct runner_answer a;
		enum verdict v =
		    job_call(j, h, "step update", path, u->body, NULL, 0, &a);

		if (v == V_FAIL || v == V_GAP)
			job_say(j, "step %d update refused: %s", u->step,
				runner_answer_message(&a));
		runner_answer_release(&a);
		if (v != V_RETRY)
			break;
		if (runner_log_sleep(&j->log,
				     (long)(runner_backoff_next(bo) * 1e3)))
			break;
	}
	runner_backoff_reset(bo);
}

/*
 * Send what the log holds, in order.  With @wait, until the log is closed
 * and acknowledged or stopped (the sender thread); without, what is due
 * now (the job thread, when completion found a gap).
 */
static void send_loop(struct runner_job *j, struct guts_http *h, int wait)
{
	struct runner_backoff bo;

	runner_backoff_reset(&bo);
	for (;;) {
		struct runner_log_work w;

		runner_log_next_work(&j->log, &w, wait);
		if (w.what == RUNNER_LOG_DONE)
			break;
		if (w.what == RUNNER_LOG_UPDATE) {
			send_update(j, h, w.update, &bo);
			json_decref(w.update->body);
			free(w.update);
		} else {
			send_chunk(j, h, &w, &bo);
			free(w.data);
		}
	}
}

static void *sender_main(void *arg)
{
	struct runner_job *j = arg;
	struct guts_http h;

	if (guts_http_init(&h, j->r->url, j->r->token) < 0) {
		log_refused(j, guts_error_message());
		return NULL;
	}
	send_loop(j, &h, 1);
	guts_http_release(&h);
	return NULL;
}

/* ---- heartbeat --------------------------------------------------------- */

/*
 * Heartbeats are long-polls: each asks the node to hold it for up to
 * heartbeat_s seconds ("wait") and to answer at once when the job is
 * cancelled, so a cancel arrives in milliseconds.  A node that answers
 * straight away gets the next beat heartbeat_s after the previous one.
 */
static void *heart_main(void *arg)
{
	struct runner_job *j = arg;
	struct guts_http h;
	struct runner_backoff bo;
	int beat = j->heartbeat_s > 25 ? 25 : j->heartbeat_s;
	json_t *body =
	    json_pack("{s:i, s:i}", "protocol", RUNNER_PROTOCOL, "wait", beat);
	char path[96];
	double wait = 0;
	int ok = guts_http_init(&h, j->r->url, j->r->token) == 0;

	snprintf(path, sizeof(path), "/api/runners/jobs/%lld/heartbeat", j->id);
	runner_backoff_reset(&bo);
	while (ok) {
		int64_t until = mono_ns() + (int64_t)(wait * 1e9), t0;
		struct timespec t = {(time_t)(until / 1000000000),
				     (long)(until % 1000000000)};
		struct runner_answer a;
		enum verdict v;
		int stop;

		pthread_mutex_lock(&j->lock);
		while (!j->hb_stop && mono_ns() < until)
			if (pthread_cond_timedwait(&j->cond, &j->lock, &t) ==
			    ETIMEDOUT)
				break;
		stop = j->hb_stop;
		pthread_mutex_unlock(&j->lock);
		if (stop)
			break;
		t0 = mono_ns();
		v = job_call(j, &h, "heartbeat", path, body, NULL, 0, &a);
		/* What is left of the beat the node did not hold. */
		wait = j->heartbeat_s - (double)(mono_ns() - t0) / 1e9;
		if (wait < 0)
			wait = 0;
		if (v == V_OK) {
			runner_backoff_reset(&bo);
			if (json_is_true(json_object_get(a.body, "cancel")) &&
			    !j->cancel_seen) {
				j->cancel_seen = 1;
				job_say(j, "cancelled by the node");
				guts_cancel_trigger(j->cancel);
			}
			if (json_is_true(json_object_get(a.body, "completed")))
				ok = 0;
		} else if (v == V_RETRY) {
			double d = runner_backoff_next(&bo);

			wait = d < j->heartbeat_s ? d : j->heartbeat_s;
		} else if (v == V_ABANDON) {
			ok = 0;
		} else {
			job_say(j, "heartbeat refused: %s",
				runner_answer_message(&a));
			wait = j->heartbeat_s;
		}
		runner_answer_release(&a);
	}
	json_decref(body);
	guts_http_release(&h);
	return NULL;
}

/* ---- the sink ---------------------------------------------------------- */

static struct runner_update *update_new(int step, const char *name,
					const char *status,
					const char *conclusion)
{
	struct runner_update *u = guts_xcalloc(1, sizeof(*u));

	u->step = step;
	u->body = json_object();
	json_object_set_new(u->body, "protocol", json_integer(RUNNER_PROTOCOL));
	json_object_set_new(u->body, "name",
			    runner_json_text(name ? name : ""));
	json_object_set_new(u->body, "status", json_string(status));
	json_object_set_new(u->body, "conclusion",
			    runner_json_text(conclusion));
	return u;
}

/* @len bytes of @s, cut to @cap bytes between UTF-8 sequences. */
static json_t *capped_text(const char *s, size_t len, size_t cap)
{
	json_t *v;
	char *c;

	if (len > cap) {
		len = cap;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	c = guts_xstrndup(s, len);
	v = runner_json_text(c);
	free(c);
	return v;
}

/* A line or column: 0 (not given) and what JSON cannot hold are null. */
static json_t *ann_num(unsigned v)
{
	return v > 0 && v <= INT_MAX ? json_integer(v) : json_null();
}

/*
 * An error, warning or notice is an annotation: a workflow command's
 * (with its file, line and title) or the executor's own ("Process
 * completed with exit code 1."), as GitHub shows both.  The text is
 * masked already.
 */
static void collect_annotation(struct runner_job *j,
			       const struct guts_log_event *ev)
{
	static const char *const names[] = {"error", "warning", "notice"};
	const struct guts_annotation *ann = ev->ann;
	int level = ev->kind == GUTS_LOG_ERROR	   ? 0
		    : ev->kind == GUTS_LOG_WARNING ? 1
						   : 2;
	size_t step = ev->step > 0 ? (size_t)ev->step : 0;
	json_t *a;

	if (json_array_size(j->annotations) >= ANN_PER_JOB ||
	    step > ANN_MAX_STEP)
		return;
	if (step >= j->nr_ann_counts) {
		size_t n = step + 16;

		j->ann_counts = guts_xreallocarray(j->ann_counts, n,
						   sizeof(*j->ann_counts));
		memset(j->ann_counts + j->nr_ann_counts, 0,
		       (n - j->nr_ann_counts) * sizeof(*j->ann_counts));
		j->nr_ann_counts = n;
	}
	if (j->ann_counts[step][level] >= ANN_PER_STEP_LEVEL)
		return;
	j->ann_counts[step][level]++;
	a = json_object();
	json_object_set_new(a, "level", json_string(names[level]));
	json_object_set_new(a, "message",
			    capped_text(ev->text, ev->len, ANN_MAX_MESSAGE));
	json_object_set_new(
	    a, "file",
	    ann && ann->file
		? capped_text(ann->file, strlen(ann->file), ANN_MAX_FIELD)
		: json_null());
	json_object_set_new(a, "line", ann_num(ann ? ann->line : 0));
	json_object_set_new(a, "end_line", ann_num(ann ? ann->end_line : 0));
	json_object_set_new(a, "col", ann_num(ann ? ann->col : 0));
	json_object_set_new(a, "end_col", ann_num(ann ? ann->end_col : 0));
	json_object_set_new(
	    a, "title",
	    ann && ann->title
		? capped_text(ann->title, strlen(ann->title), ANN_MAX_FIELD)
		: json_null());
	json_object_set_new(
	    a, "step", step ? json_integer((json_int_t)step) : json_null());
	json_array_append_new(j->annotations, a);
}

/*
 * Executor events, on the job thread.  A step of a composite action
 * starts inside its top-level step (same number): it is a plain line, and
 * only the top-level step is a step for the node.
 */
static void job_sink(void *ud, const struct guts_log_event *ev)
{
	struct runner_job *j = ud;
	struct guts_log_event e = *ev;
	struct runner_update *u = NULL;
	uint64_t start;
	int top = 0;

	if ((ev->kind == GUTS_LOG_ERROR || ev->kind == GUTS_LOG_WARNING ||
	     ev->kind == GUTS_LOG_NOTICE) &&
	    !ev->partial)
		collect_annotation(j, ev);
	if (ev->kind == GUTS_LOG_STEP_END) {
		char *c = guts_xstrndup(ev->text, ev->len);

		if (j->depth > 1 && ev->step == j->cur_step) {
			j->depth--;
			free(c);
			return;
		}
		if (j->depth && ev->step == j->cur_step) {
			u = update_new(ev->step, j->cur_name, "completed", c);
			json_object_set_new(
			    u->body, "log_offset",
			    json_integer((json_int_t)j->cur_offset));
		} else {
			/* Skipped: it never started. */
			u = update_new(ev->step, ev->step_name, "completed", c);
		}
		j->depth = 0;
		free(c);
		runner_log_append(&j->log, NULL, 0, u, NULL);
		return;
	}
	if (ev->kind == GUTS_LOG_STEP_START) {
		if (j->depth && ev->step == j->cur_step) {
			j->depth++;
			e.kind = GUTS_LOG_INFO;
		} else {
			top = 1;
			j->cur_step = ev->step;
			j->depth = 1;
			free(j->cur_name);
			j->cur_name = guts_xstrndup(ev->text, ev->len);
			u = update_new(ev->step, j->cur_name, "in_progress",
				       NULL);
		}
	}
	guts_buf_reset(&j->line);
	runner_format_event(&j->line, &e);
	if (runner_log_append(&j->log, j->line.data, j->line.len, u, &start) ==
		0 &&
	    top)
		j->cur_offset = start;
}

static void job_log(struct runner_job *j, enum guts_log_kind kind,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A line of the runner's own, before or after the executor. */
static void job_log(struct runner_job *j, enum guts_log_kind kind,
		    const char *fmt, ...)
{
	struct guts_log_event ev = {0};
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = guts_xvasprintf(fmt, ap);
	va_end(ap);
	ev.job_key = j->name;
	ev.kind = kind;
	ev.ts_ns = wall_ns();
	ev.text = text;
	ev.len = strlen(text);
	job_sink(j, &ev);
	free(text);
}

/* ---- running it -------------------------------------------------------- */

static void remove_tree(const char *path)
{
	if (guts_remove_tree(path) < 0)
		fprintf(stderr, "guts-runner: %s\n", guts_error_message());
}

static int uses_checkout(const struct guts_wf_job *job)
{
	for (size_t i = 0; i < job->nr_steps; i++)
		if (job->steps[i].builtin &&
		    !strcmp(job->steps[i].builtin, "checkout"))
			return 1;
	return 0;
}

static void fail_setup(struct guts_job_result *res, const char *why)
{
	memset(res, 0, sizeof(*res));
	res->conclusion = res->outcome = GUTS_FAILURE;
	res->outputs = json_object();
	res->reason = guts_xstrdup(why);
}

/* Log the workflow's diagnostics, one error or warning line each. */
static void log_diags(struct runner_job *j, struct guts_diags *d)
{
	struct guts_buf b;

	guts_buf_init(&b, 0);
	guts_diags_sort(d);
	guts_diags_format(d, &b);
	if (b.len)
		job_log(j, GUTS_LOG_ERROR, "%s", b.data);
	guts_buf_release(&b);
}

/* Fetch the commit into the mirror; NULL or why it failed (malloc'd). */
static char *fetch_mirror(struct runner_job *j, char **mirror)
{
	const char *repo = lease_str(j, "repo");
	const char *url = lease_str(j, "clone_url");
	const char *sha = lease_str(j, "sha");
	const char *slash = repo ? strchr(repo, '/') : NULL;
	char *owner, *why = NULL;

	if (!slash || !url || !sha)
		return guts_xstrdup("checkout: the lease has no repository, "
				    "clone URL or commit");
	owner = guts_xstrndup(repo, (size_t)(slash - repo));
	if (!runner_name_ok(owner) || !runner_name_ok(slash + 1)) {
		free(owner);
		return guts_xasprintf("checkout: bad repository name '%s'",
				      repo);
	}
	*mirror = guts_xasprintf("%s/mirrors/%s/%s.git", j->r->work, owner,
				 slash + 1);
	free(owner);
	job_log(j, GUTS_LOG_INFO, "Fetching %s at %.12s", repo, sha);
	if (runner_mirror_fetch(*mirror, url, sha, j->job_token) < 0)
		why = guts_xasprintf("checkout: %s", guts_error_message());
	return why;
}

static void run_job(struct runner_job *j, struct guts_job_result *res)
{
	const json_t *wfj = json_object_get(j->lease, "workflow");
	const char *src = json_string_value(json_object_get(wfj, "source"));
	const char *wfpath = json_string_value(json_object_get(wfj, "path"));
	const char *key = lease_str(j, "job_key");
	const char *repo = lease_str(j, "repo");
	const char *ref = lease_str(j, "ref");
	const json_t *github = lease_obj(j, "github");
	struct guts_workflow *wf = NULL;
	struct guts_workflow_opts wo = {0};
	struct guts_diags diags;
	const struct guts_wf_job *job;
	struct guts_job_spec spec = {0};
	char *dir = NULL, *mirror = NULL, *why = NULL, *run_id = NULL;
	char *scope = NULL, *fallback = NULL;
	struct guts_artifact_store *store = NULL;
	const char *def;

	if (!src || !key) {
		why = guts_xstrdup("the lease has no workflow source or job");
		goto fail;
	}
	if (!wfpath)
		wfpath = "workflow.yml";
	guts_diags_init(&diags, wfpath);
	if (guts_workflow_parse(&wf, wfpath, src, strlen(src), &wo, &diags) <
	    0) {
		log_diags(j, &diags);
		why = guts_xasprintf("%s: the workflow is not valid%s%s",
				     wfpath, diags.errors ? "" : ": ",
				     diags.errors ? "" : guts_error_message());
		guts_diags_release(&diags);
		goto fail;
	}
	guts_diags_release(&diags);
	job = guts_workflow_job(wf, key);
	if (!job) {
		why = guts_xasprintf("%s has no job '%s'", wfpath, key);
		goto fail;
	}
	if (job->uses) {
		why = guts_xasprintf("job '%s' calls a reusable workflow (%s), "
				     "which runners do not run",
				     key, job->uses);
		goto fail;
	}

	dir = guts_xasprintf("%s/jobs/%lld-%lld-XXXXXX", j->r->work, j->id,
			     j->attempt);
	if (!mkdtemp(dir)) {
		why = guts_xasprintf("cannot make the job's directory %s: %s",
				     dir, strerror(errno));
		free(dir);
		dir = NULL;
		goto fail;
	}
	if (uses_checkout(job) && (why = fetch_mirror(j, &mirror)))
		goto fail;

	run_id = guts_xasprintf(
	    "%lld",
	    (long long)json_integer_value(json_object_get(j->lease, "run_id")));
	scope = guts_xasprintf("%s@%s", repo ? repo : "", ref ? ref : "");
	def = json_string_value(json_object_get(
	    json_object_get(json_object_get(github, "event"), "repository"),
	    "default_branch"));
	if (def)
		fallback =
		    guts_xasprintf("%s@refs/heads/%s", repo ? repo : "", def);

	spec.wf = wf;
	spec.job = job;
	spec.job_key = j->name;
	spec.github = github;
	spec.inputs = lease_obj(j, "inputs");
	spec.vars = lease_obj(j, "vars");
	spec.secrets = lease_obj(j, "secrets");
	spec.matrix = lease_obj(j, "matrix");
	spec.strategy = lease_obj(j, "strategy");
	spec.needs = lease_obj(j, "needs");
	spec.job_dir = dir;
	spec.isolate = 1;
	spec.agent_path = NULL; /* this very program: /proc/self/exe */
	spec.repo_source = mirror;
	spec.repo_is_git = mirror != NULL;
	spec.run_id = run_id;
	spec.cache_scope = scope;
	spec.cache_fallback_scope =
	    fallback && strcmp(fallback, scope) ? fallback : NULL;
	/*
	 * Artifacts and caches live on the node, so that jobs of a run meet
	 * there whichever runner runs them; the runner's local store is the
	 * fallback when the lease lacks what the node's calls need.
	 */
	if (runner_store_node_open(&store, j->r->url, j->job_token, repo,
				   strcmp(run_id, "0") ? run_id : NULL,
				   scope) == 0) {
		spec.store = store;
	} else {
		job_log(j, GUTS_LOG_WARNING,
			"Artifacts and caches stay on this runner (%s)",
			guts_error_message());
		spec.store = j->r->store;
	}
	spec.host_env = guts_host_env;
	spec.hidden = (const char *const *)j->r->hidden.v;
	spec.nr_hidden = j->r->hidden.nr;
	spec.sink.event = job_sink;
	spec.sink.ud = j;
	spec.cancel = j->cancel;
	if (guts_job_run(&spec, res) < 0) {
		why = guts_xstrdup(guts_error_message());
		goto fail;
	}
	goto out;
fail:
	job_log(j, GUTS_LOG_ERROR, "%s", why);
	fail_setup(res, why);
out:
	if (dir && !getenv("GUTS_RUNNER_KEEP"))
		remove_tree(dir);
	guts_workflow_free(wf);
	free(why);
	free(dir);
	free(mirror);
	guts_artifact_store_free(store);
	free(run_id);
	free(scope);
	free(fallback);
}

/* The job's summary, cut at the node's cap with a note; or null. */
static json_t *summary_json(const char *summary)
{
	static const char note[] = "\n\n*The summary was cut at 1 MiB.*\n";
	size_t len = summary ? strlen(summary) : 0;
	char *cut;
	json_t *v;

	if (!len)
		return json_null();
	if (len <= SUMMARY_MAX)
		return runner_json_text(summary);
	/* Room for the note, and not in the middle of a UTF-8 sequence. */
	len = SUMMARY_MAX - (sizeof(note) - 1);
	while (len > 0 && ((unsigned char)summary[len] & 0xc0) == 0x80)
		len--;
	cut = guts_xasprintf("%.*s%s", (int)len, summary, note);
	v = runner_json_text(cut);
	free(cut);
	return v;
}

/* Tell the node how the job ended; retried until it is heard. */
static void complete(struct runner_job *j, struct guts_http *h,
		     const struct guts_job_result *res)
{
	char path[96];
	json_t *body;
	struct runner_backoff bo;
	int gaps = 0, forced = 0, give_up = 0, refused = 0, stripped = 0;
	uint64_t forced_off = 0;

	snprintf(path, sizeof(path), "/api/runners/jobs/%lld/complete", j->id);
	body = json_object();
	json_object_set_new(body, "protocol", json_integer(RUNNER_PROTOCOL));
	json_object_set_new(body, "conclusion",
			    json_string(guts_conclusion_name(res->conclusion)));
	json_object_set_new(body, "outputs",
			    json_is_object(res->outputs)
				? json_incref(res->outputs)
				: json_object());
	json_object_set_new(body, "reason", runner_json_text(res->reason));
	if (json_array_size(j->annotations))
		json_object_set(body, "annotations", j->annotations);
	if (res->summary && *res->summary)
		json_object_set_new(body, "summary",
				    summary_json(res->summary));
	runner_backoff_reset(&bo);
	while (!is_abandoned(j)) {
		struct runner_answer a;
		enum verdict v;
		uint64_t off;

		json_object_set_new(
		    body, "log_offset",
		    json_integer((json_int_t)(forced
						  ? forced_off
						  : runner_log_end(&j->log))));
		v = job_call(j, h, "complete", path, body, NULL, 0, &a);
		if (v == V_GAP) {
			/* Flush from where the node is, then try again. */
			if (gap_offset(&a, &off) < 0 || ++gaps > 5) {
				job_say(j, "complete: %s; giving up",
					runner_answer_message(&a));
				give_up = 1;
			} else if (runner_log_ack(&j->log, off) == 0) {
				send_loop(j, h, 0);
			} else if (off < runner_log_end(&j->log) && !forced) {
				/* The node lost bytes it had acknowledged. */
				job_say(j,
					"complete: the node has the log "
					"up to %llu only",
					(unsigned long long)off);
				forced = 1;
				forced_off = off;
			} else {
				job_say(j, "complete: %s; giving up",
					runner_answer_message(&a));
				give_up = 1;
			}
		} else if (v == V_RETRY) {
			job_sleep(j, runner_backoff_next(&bo));
		} else if (v == V_FAIL && !stripped &&
			   (json_object_get(body, "annotations") ||
			    json_object_get(body, "summary"))) {
			/*
			 * Refused: first try without the annotations and the
			 * summary (a node older than them may find the body
			 * too big), keeping the job's conclusion.
			 */
			job_say(j,
				"the node refused the job's completion: %s; "
				"sending it without annotations and summary",
				runner_answer_message(&a));
			json_object_del(body, "annotations");
			json_object_del(body, "summary");
			stripped = 1;
			runner_answer_release(&a);
			continue;
		} else if (v == V_FAIL && !refused) {
			/*
			 * Refused (outputs too big for the node, say): the job
			 * still has to end, or its lease runs out and it runs
			 * again.  Complete it as failed, without outputs.
			 */
			char *why = guts_xasprintf(
			    "the node refused the job's completion: %s",
			    runner_answer_message(&a));

			job_say(j, "%s; completing it as failed", why);
			json_object_set_new(body, "conclusion",
					    json_string("failure"));
			json_object_set_new(body, "outputs", json_object());
			json_object_set_new(body, "reason",
					    runner_json_text(why));
			free(why);
			refused = 1;
			runner_answer_release(&a);
			continue;
		} else if (v == V_FAIL) {
			job_say(j, "complete refused: %s",
				runner_answer_message(&a));
		}
		runner_answer_release(&a);
		if (v == V_OK || v == V_FAIL || v == V_ABANDON || give_up)
			break;
	}
	json_decref(body);
}

static void job_free(struct runner_job *j)
{
	runner_log_release(&j->log);
	guts_cancel_free(j->cancel);
	json_decref(j->lease);
	for (size_t i = 0; i < 3; i++) {
		if (j->headers_text[i])
			memset(j->headers_text[i], 0,
			       strlen(j->headers_text[i]));
		free(j->headers_text[i]);
	}
	guts_buf_release(&j->line);
	free(j->cur_name);
	json_decref(j->annotations);
	free(j->ann_counts);
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static void *job_main(void *arg)
{
	struct runner_job *j = arg;
	struct runner *r = j->r;
	struct guts_job_result res = {0};
	struct guts_http h;
	int http_ok;

	job_say(j, "started");
	job_log(j, GUTS_LOG_INFO, "guts-runner %s (%s), job %lld attempt %lld",
		r->name, RUNNER_VERSION, j->id, j->attempt);
	if (!pthread_create(&j->sender, NULL, sender_main, j))
		j->sender_started = 1;
	else
		runner_log_refuse(&j->log);
	if (!pthread_create(&j->heart, NULL, heart_main, j))
		j->heart_started = 1;

	run_job(j, &res);

	runner_log_close(&j->log);
	if (j->sender_started)
		pthread_join(j->sender, NULL);
	http_ok = guts_http_init(&h, r->url, r->token) == 0;
	if (http_ok && !is_abandoned(j)) {
		send_loop(j, &h, 0); /* what a sender that failed left */
		complete(j, &h, &res);
	}
	if (http_ok)
		guts_http_release(&h);

	pthread_mutex_lock(&j->lock);
	j->hb_stop = 1;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
	if (j->heart_started)
		pthread_join(j->heart, NULL);

	if (!is_abandoned(j))
		job_say(j, "%s in %.1fs%s%s",
			guts_conclusion_name(res.conclusion),
			(double)(mono_ns() - j->t0) / 1e9,
			res.reason ? ": " : "", res.reason ? res.reason : "");
	guts_job_result_release(&res);

	pthread_mutex_lock(&r->lock);
	for (struct runner_job **p = &r->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	r->active--;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	job_free(j);
	return NULL;
}

/* A header value must be one line of visible ASCII. */
static int header_ok(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return 0;
	return 1;
}

int runner_job_start(struct runner *r, json_t *lease)
{
	struct runner_job *j;
	pthread_condattr_t ca;
	pthread_attr_t attr;
	json_t *id = json_object_get(lease, "id");
	json_t *attempt = json_object_get(lease, "attempt");
	const char *token =
	    json_string_value(json_object_get(lease, "lease_token"));
	json_t *hb = json_object_get(lease, "heartbeat_seconds");
	pthread_t t;

	if (!json_is_integer(id) || !json_is_integer(attempt) ||
	    !header_ok(token))
		return guts_error(GUTS_EINVAL, "a lease without an id, attempt "
					       "or lease token");
	j = guts_xcalloc(1, sizeof(*j));
	j->r = r;
	j->lease = json_incref(lease);
	j->id = (long long)json_integer_value(id);
	j->attempt = (long long)json_integer_value(attempt);
	j->name = json_string_value(json_object_get(lease, "name"));
	if (!j->name)
		j->name = json_string_value(json_object_get(lease, "job_key"));
	if (!j->name)
		j->name = "?";
	j->job_token = json_string_value(json_object_get(lease, "job_token"));
	j->heartbeat_s = json_is_integer(hb) && json_integer_value(hb) > 0 &&
				 json_integer_value(hb) < 3600
			     ? (int)json_integer_value(hb)
			     : 15;
	j->headers_text[0] =
	    guts_xasprintf("X-Guts-Protocol: %d", RUNNER_PROTOCOL);
	j->headers_text[1] = guts_xasprintf("X-Guts-Attempt: %lld", j->attempt);
	j->headers_text[2] = guts_xasprintf("X-Guts-Lease: %s", token);
	for (size_t i = 0; i < 3; i++)
		j->headers[i] = j->headers_text[i];
	j->headers[3] = NULL;
	j->cancel = guts_cancel_new();
	runner_log_init(&j->log, RUNNER_LOG_LIMIT);
	guts_buf_init(&j->line, 0);
	j->annotations = json_array();
	pthread_mutex_init(&j->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cond, &ca);
	pthread_condattr_destroy(&ca);
	j->t0 = mono_ns();

	pthread_mutex_lock(&r->lock);
	j->next = r->jobs;
	r->jobs = j;
	r->active++;
	if (r->cancelling)
		guts_cancel_trigger(j->cancel);
	pthread_mutex_unlock(&r->lock);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, job_main, j)) {
		pthread_attr_destroy(&attr);
		pthread_mutex_lock(&r->lock);
		for (struct runner_job **p = &r->jobs; *p; p = &(*p)->next)
			if (*p == j) {
				*p = j->next;
				break;
			}
		r->active--;
		pthread_mutex_unlock(&r->lock);
		job_free(j);
		return guts_error(GUTS_EIO, "cannot start a thread");
	}
	pthread_attr_destroy(&attr);
	return 0;
}

void runner_cancel_all(struct runner *r)
{
	pthread_mutex_lock(&r->lock);
	r->cancelling = 1;
	for (struct runner_job *j = r->jobs; j; j = j->next)
		guts_cancel_trigger(j->cancel);
	pthread_mutex_unlock(&r->lock);
}
