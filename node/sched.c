/* The scheduler: see sched.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/decide.h"
#include "guts/diag.h"
#include "guts/error.h"
#include "guts/plan.h"
#include "guts/workflow.h"
#include "api.h"
#include "http.h"
#include "hub.h"
#include "joblog.h"
#include "scheduler.h"
#include "summary.h"
#include "banned.h"

/* ---- small helpers ------------------------------------------------------ */

/* A JSON text column, parsed (a new reference; NULL when null/bad). */
static json_t *jparse(const json_t *o, const char *k)
{
	const char *s = api_str(o, k);

	return s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
}

static char *jdump(const json_t *v)
{
	return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

static struct guts_workflow *parse_now(const char *path, const char *src)
{
	struct guts_workflow *wf = NULL;
	struct guts_diags d;

	guts_diags_init(&d, path);
	if (guts_workflow_parse(&wf, path, src, strlen(src), NULL, &d) < 0)
		wf = NULL;
	guts_diags_release(&d);
	return wf;
}

/*
 * Parsed workflows by their text: a run's source never changes, and every
 * job that completes advances its run, so without this a run of n jobs
 * would parse its YAML n times.  Entries are counted references; all of
 * this is under sched_lock.
 */
struct wf_entry {
	char *src;
	struct guts_workflow *wf;
	int refs; /* holders, the cache included */
	uint64_t used;
};

#define WF_CACHE 16
static struct wf_entry *wf_cache[WF_CACHE];
static uint64_t wf_clock;

static void wf_unref(struct wf_entry *e)
{
	if (e && --e->refs == 0) {
		guts_workflow_free(e->wf);
		free(e->src);
		free(e);
	}
}

static struct wf_entry *wf_get(const char *path, const char *src)
{
	size_t victim = 0;
	struct wf_entry *e;

	for (size_t i = 0; i < WF_CACHE; i++) {
		e = wf_cache[i];
		if (e && !strcmp(e->src, src)) {
			e->refs++;
			e->used = ++wf_clock;
			return e;
		}
		if (!e ||
		    (wf_cache[victim] && e->used < wf_cache[victim]->used))
			victim = i;
	}
	e = guts_xcalloc(1, sizeof(*e));
	e->src = guts_xstrdup(src);
	e->wf = parse_now(path, src);
	e->refs = 2; /* the cache's and the caller's */
	e->used = ++wf_clock;
	wf_unref(wf_cache[victim]);
	wf_cache[victim] = e;
	return e;
}

/* The validator's messages for an invalid workflow, one per line. */
static json_t *parse_errors(const char *path, const char *src)
{
	struct guts_workflow *wf = NULL;
	struct guts_diags d;
	struct guts_buf b;
	json_t *out = json_array();
	char *line, *save = NULL;

	guts_diags_init(&d, path);
	guts_workflow_parse(&wf, path, src, strlen(src), NULL, &d);
	guts_workflow_free(wf);
	guts_diags_sort(&d);
	guts_buf_init(&b, 0);
	guts_diags_format(&d, &b);
	for (line = strtok_r(b.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		json_array_append_new(out, json_string(line));
	guts_buf_release(&b);
	guts_diags_release(&d);
	return out;
}

static const char *job_display(const struct guts_wf_job *j)
{
	return j->name && !strstr(j->name, "${{") ? j->name : j->id;
}

static char *context_name(const char *wf_name, const char *job_name)
{
	return guts_xasprintf("%s / %s", wf_name, job_name);
}

char *sched_job_context(const char *workflow_name, const struct guts_wf_job *j)
{
	return context_name(workflow_name, job_display(j));
}

/* Where a run's commit statuses go: a pull request's head, else its sha. */
static const char *status_sha(const json_t *run)
{
	const char *h = api_str(run, "head_sha");

	return h && *h ? h : api_str(run, "sha");
}

/* The state a commit status takes for a job conclusion. */
static const char *status_state(const char *conclusion)
{
	if (!conclusion)
		return "pending";
	if (!strcmp(conclusion, "success") || !strcmp(conclusion, "skipped"))
		return "success";
	if (!strcmp(conclusion, "cancelled"))
		return "error";
	return "failure";
}

int sched_post_status(struct node *n, int64_t repo_id, const char *sha,
		      const char *context, const char *state,
		      const char *description, const char *target_url,
		      const char *creator)
{
	return store_exec(n->st,
			  "INSERT INTO statuses (repo_id, sha, context, state, "
			  "description, target_url, creator, created_at) "
			  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			  STORE_ARGS(SI(repo_id), SS(sha), SS(context),
				     SS(state), SS(description), SS(target_url),
				     SS(creator), SI(store_now_ms())),
			  NULL);
}

static char *run_url(struct node *n, const json_t *run)
{
	return guts_xasprintf("%s/%s/%s/actions/runs/%lld", n->base_url,
			      api_str(run, "owner"), api_str(run, "repo_name"),
			      (long long)api_int(run, "id"));
}

/* The run with its repository's names. */
static int load_run(struct node *n, int64_t run_id, json_t **run)
{
	return store_query_one(
	    n->st,
	    "SELECT r.*, p.owner, p.name AS repo_name, p.default_branch "
	    "FROM runs r JOIN repos p ON p.id = r.repo_id WHERE r.id = $1",
	    STORE_ARGS(SI(run_id)), run);
}

/* ---- logs --------------------------------------------------------------- */

static struct joblog_limits log_limits(struct node *n)
{
	struct joblog_limits l = {65536, n->cfg.log_cap};

	return l;
}

static int load_pos(struct node *n, int64_t job_id, struct joblog_pos *pos)
{
	json_t *row;
	int ret = store_query_one(n->st,
				  "SELECT log_acked, log_size, log_line_len, "
				  "log_capped FROM jobs WHERE id = $1",
				  STORE_ARGS(SI(job_id)), &row);

	if (ret < 0)
		return ret;
	pos->acked = api_int(row, "log_acked");
	pos->size = api_int(row, "log_size");
	pos->line_len = api_int(row, "log_line_len");
	pos->capped = (int)api_int(row, "log_capped");
	json_decref(row);
	return 0;
}

static int save_pos(struct node *n, int64_t job_id,
		    const struct joblog_pos *pos)
{
	return store_exec(n->st,
			  "UPDATE jobs SET log_acked = $2, log_size = $3, "
			  "log_line_len = $4, log_capped = $5 WHERE id = $1",
			  STORE_ARGS(SI(job_id), SI(pos->acked), SI(pos->size),
				     SI(pos->line_len), SI(pos->capped)),
			  NULL);
}

/*
 * Lock order: sched_lock, then a job lock, then the store.  Log work asked
 * for while a store transaction is open (a note in advance_locked(), an
 * archive in cancel_locked()) therefore waits, on this thread's list, for
 * the outermost defer_end(), which runs it once the transaction is over.
 */
struct deferred {
	int64_t job;
	char *text; /* a note; NULL: archive the log */
	struct deferred *next;
};

static _Thread_local int defer_depth;
static _Thread_local struct deferred *defer_head, **defer_tail;

static void defer_begin(void)
{
	if (!defer_depth++) {
		defer_head = NULL;
		defer_tail = &defer_head;
	}
}

static void note_now(struct node *n, int64_t job_id, const char *text);
static void archive_now(struct node *n, int64_t job_id);
static void check_events_flush(struct node *n);
static void obj_events_flush(struct node *n);

static void defer_end(struct node *n)
{
	struct deferred *d, *next;

	if (--defer_depth)
		return;
	for (d = defer_head; d; d = next) {
		next = d->next;
		if (d->text)
			note_now(n, d->job, d->text);
		else
			archive_now(n, d->job);
		free(d->text);
		free(d);
	}
	defer_head = NULL;
	defer_tail = &defer_head;
	obj_events_flush(n);
	check_events_flush(n);
}

static void defer(int64_t job, const char *text)
{
	struct deferred *d = guts_xcalloc(1, sizeof(*d));

	d->job = job;
	d->text = text ? guts_xstrdup(text) : NULL;
	*defer_tail = d;
	defer_tail = &d->next;
}

/* What a waiting job's needs column holds until it is decided: its needs'
 * keys (the needs context, without results yet). */
static char *needs_keys(const struct guts_wf_job *j)
{
	json_t *o = json_object();
	char *text;

	for (size_t i = 0; i < j->needs.nr; i++)
		json_object_set_new(o, j->needs.v[i], json_null());
	text = jdump(o);
	json_decref(o);
	return text;
}

/* ---- workflow_run and workflow_job events ------------------------------- */

/*
 * workflow_run.requested|in_progress|completed and
 * workflow_job.queued|in_progress|completed for the hub.  Like check_run
 * events they wait on this thread's list for the outermost defer_end(), and
 * then carry the row as it is after the transaction, in the REST API's
 * shape.  An event whose row is gone, or whose row's status is behind the
 * event (a rolled-back transaction), is not published.  workflow_job
 * in_progress is sent again when one of the job's steps starts or ends.
 */
struct obj_event {
	int is_job;
	int64_t id;
	const char *action; /* static */
	struct obj_event *next;
};

static _Thread_local struct obj_event *obj_head, **obj_tail;

static int status_rank(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "completed"))
		return 2;
	if (!strcmp(s, "in_progress"))
		return 1;
	return 0; /* requested, queued, waiting */
}

static void obj_publish(struct node *n, const struct obj_event *e)
{
	json_t *row = NULL, *run = NULL, *data = NULL;
	char *full = NULL;
	char name[64];
	int64_t run_id = e->id;

	if (e->is_job) {
		if (store_query_one(n->st, "SELECT * FROM jobs WHERE id = $1",
				    STORE_ARGS(SI(e->id)), &row) < 0)
			return;
		run_id = api_int(row, "run_id");
	}
	if (load_run(n, run_id, &run) < 0)
		goto out;
	if (status_rank(api_str(e->is_job ? row : run, "status")) <
	    status_rank(e->action))
		goto out;
	full = guts_xasprintf("%s/%s", api_str(run, "owner"),
			      api_str(run, "repo_name"));
	data = json_pack(
	    "{s:s, s:o, s:{s:I, s:s}}", "action", e->action,
	    e->is_job ? "workflow_job" : "workflow_run",
	    e->is_job ? api_job_json(n, row) : api_run_json(run, full),
	    "repository", "id", (json_int_t)api_int(run, "repo_id"),
	    "full_name", full);
	snprintf(name, sizeof(name), "%s.%s",
		 e->is_job ? "workflow_job" : "workflow_run", e->action);
	if (data)
		hub_publish(n, name, api_int(run, "repo_id"), data);
out:
	free(full);
	json_decref(row);
	json_decref(run);
}

static void obj_events_flush(struct node *n)
{
	struct obj_event *e, *next, *d;

	for (e = obj_head; e; e = next) {
		next = e->next;
		/* Once per object and action in one flush. */
		for (d = obj_head; d != e; d = d->next)
			if (d->is_job == e->is_job && d->id == e->id &&
			    !strcmp(d->action, e->action))
				break;
		if (d == e)
			obj_publish(n, e);
	}
	for (e = obj_head; e; e = next) {
		next = e->next;
		free(e);
	}
	obj_head = NULL;
	obj_tail = &obj_head;
}

static void obj_event(struct node *n, int is_job, int64_t id,
		      const char *action)
{
	struct obj_event *e = guts_xcalloc(1, sizeof(*e));

	e->is_job = is_job;
	e->id = id;
	e->action = action;
	if (!obj_tail)
		obj_tail = &obj_head;
	*obj_tail = e;
	obj_tail = &e->next;
	if (!defer_depth)
		obj_events_flush(n);
}

#define run_event(n, id, action) obj_event(n, 0, id, action)
#define job_event(n, id, action) obj_event(n, 1, id, action)

/* Every job of one job_key of a run's attempt that is now @status. */
static void key_events(struct node *n, const json_t *run, const char *key,
		       const char *status, const char *action)
{
	json_t *rows = NULL, *row;
	size_t i;

	if (store_query(n->st,
			"SELECT id FROM jobs WHERE run_id = $1 AND run_attempt "
			"= $2 AND job_key = $3 AND status = $4 ORDER BY id",
			STORE_ARGS(SI(api_int(run, "id")),
				   SI(api_int(run, "attempt")), SS(key),
				   SS(status)),
			&rows) < 0)
		return;
	json_array_foreach(rows, i, row)
		job_event(n, api_int(row, "id"), action);
	json_decref(rows);
}

/* ---- check_run events --------------------------------------------------- */

/*
 * A job's commit status is also a check run for the hub's subscribers.  Its
 * events wait on this thread's list for the outermost defer_end(), when the
 * transaction that stored the status is over, and are published only if
 * the status row is still there (a rolled-back transaction took it away).
 */
struct check_event {
	int64_t repo_id, status_id;
	const char *name; /* check_run.created or check_run.completed */
	json_t *data;
	struct check_event *next;
};

static _Thread_local struct check_event *check_head, **check_tail;

static void check_events_flush(struct node *n)
{
	struct check_event *e, *next;

	for (e = check_head; e; e = next) {
		json_t *row = NULL;
		const char *ctx = json_string_value(json_object_get(
		    json_object_get(e->data, "check_run"), "name"));

		next = e->next;
		/* An id alone could be reused after a rollback. */
		if (store_query_one(
			n->st,
			"SELECT id FROM statuses WHERE id = $1 AND "
			"repo_id = $2 AND context = $3",
			STORE_ARGS(SI(e->status_id), SI(e->repo_id), SS(ctx)),
			&row) == 0) {
			hub_publish(n, e->name, e->repo_id, e->data);
			e->data = NULL;
		}
		json_decref(row);
		json_decref(e->data);
		free(e);
	}
	check_head = NULL;
	check_tail = &check_head;
}

static void check_event(struct node *n, const char *name, int64_t status_id,
			const json_t *run, int64_t job_id, const char *context,
			const char *conclusion, const char *description,
			const char *url)
{
	struct check_event *e = guts_xcalloc(1, sizeof(*e));
	char *full = guts_xasprintf("%s/%s", api_str(run, "owner"),
				    api_str(run, "repo_name"));
	json_t *cr = json_pack(
	    "{s:s, s:s, s:s, s:o, s:s?, s:I, s:I, s:{s:s?}}", "name", context,
	    "head_sha", status_sha(run), "status",
	    conclusion ? "completed" : "queued", "conclusion",
	    conclusion ? json_string(conclusion) : json_null(), "details_url",
	    url, "run_id", (json_int_t)api_int(run, "id"), "run_attempt",
	    (json_int_t)api_int(run, "attempt"), "output", "title",
	    description);

	if (job_id)
		json_object_set_new(cr, "job_id", json_integer(job_id));
	e->repo_id = api_int(run, "repo_id");
	e->status_id = status_id;
	e->name = name;
	e->data =
	    json_pack("{s:s, s:o, s:{s:I, s:s}}", "action",
		      strchr(name, '.') + 1, "check_run", cr, "repository",
		      "id", (json_int_t)e->repo_id, "full_name", full);
	free(full);
	if (!check_tail)
		check_tail = &check_head;
	*check_tail = e;
	check_tail = &e->next;
	/* Outside any transaction (none today): at once. */
	if (!defer_depth)
		check_events_flush(n);
}

/*
 * Post a job's (or a matrix leg's) commit status, its state from
 * @conclusion (NULL: pending), and queue its check_run events: `created`
 * when the check starts (a pending status), or when a final status comes
 * with no pending one before it; `completed` with a final status.
 * @job_id is 0 when no single job row stands for the context.
 */
static void job_status(struct node *n, const json_t *run, int64_t job_id,
		       const char *context, const char *conclusion,
		       const char *description, const char *url)
{
	const char *sha = status_sha(run);
	int64_t repo_id = api_int(run, "repo_id");
	json_t *prev = NULL, *row = NULL;
	int started;

	started = store_query_one(n->st,
				  "SELECT state FROM statuses WHERE repo_id = "
				  "$1 AND sha = $2 AND context = $3 ORDER BY "
				  "id DESC LIMIT 1",
				  STORE_ARGS(SI(repo_id), SS(sha), SS(context)),
				  &prev) == 0 &&
		  !strcmp(api_str(prev, "state"), "pending");
	if (sched_post_status(n, repo_id, sha, context,
			      status_state(conclusion), description, url,
			      "guts") < 0 ||
	    store_query_one(n->st,
			    "SELECT MAX(id) AS id FROM statuses WHERE repo_id "
			    "= $1 AND sha = $2 AND context = $3",
			    STORE_ARGS(SI(repo_id), SS(sha), SS(context)),
			    &row) < 0)
		goto out;
	if (!conclusion || !started)
		check_event(n, "check_run.created", api_int(row, "id"), run,
			    job_id, context, conclusion, description, url);
	if (conclusion)
		check_event(n, "check_run.completed", api_int(row, "id"), run,
			    job_id, context, conclusion, description, url);
out:
	json_decref(prev);
	json_decref(row);
}

/* Whether @attempt/@lease still hold job @job_id's lease (any lock). */
static int lease_ok(struct node *n, int64_t job_id, int64_t attempt,
		    const char *lease)
{
	return sched_check_lease(n, job_id, attempt, lease, NULL) == 0;
}

int sched_log_append(struct node *n, int64_t job_id, int64_t attempt,
		     const char *lease, int64_t offset, const char *data,
		     size_t len, int64_t *acked)
{
	struct joblog_limits lim = log_limits(n);
	struct joblog_pos pos = {0};
	int ret;

	pthread_mutex_lock(node_job_lock(n, job_id));
	/* Fenced under the job lock, which a lost lease's reset takes too. */
	if (!lease_ok(n, job_id, attempt, lease))
		ret = GUTS_EPERM;
	else
		ret = load_pos(n, job_id, &pos);
	if (ret == 0)
		ret = joblog_append(n->logs_dir, job_id, &pos, &lim, offset,
				    data, len);
	if (ret == 0)
		ret = save_pos(n, job_id, &pos);
	*acked = pos.acked;
	pthread_mutex_unlock(node_job_lock(n, job_id));
	if (ret == 0)
		http_wake(n, WAIT_LOG, job_id);
	return ret;
}

static void note_now(struct node *n, int64_t job_id, const char *text)
{
	struct joblog_pos pos;

	pthread_mutex_lock(node_job_lock(n, job_id));
	if (load_pos(n, job_id, &pos) == 0 &&
	    joblog_note(n->logs_dir, job_id, &pos, text) == 0)
		save_pos(n, job_id, &pos);
	else
		nlog(LOG_ERROR, "job %lld: log note: %s", (long long)job_id,
		     guts_error_message());
	pthread_mutex_unlock(node_job_lock(n, job_id));
	http_wake(n, WAIT_LOG, job_id);
}

void sched_log_note(struct node *n, int64_t job_id, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* One line per note: a message with newlines is several notes. */
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (defer_depth)
		defer(job_id, text);
	else
		note_now(n, job_id, text);
}

/* A completed job's log goes to its compressed form. */
static void archive_now(struct node *n, int64_t job_id)
{
	pthread_mutex_lock(node_job_lock(n, job_id));
	if (joblog_archive(n->logs_dir, job_id) == 0)
		store_exec(n->st,
			   "UPDATE jobs SET log_archived = 1 WHERE id = $1",
			   STORE_ARGS(SI(job_id)), NULL);
	else
		nlog(LOG_ERROR, "job %lld: archiving the log: %s",
		     (long long)job_id, guts_error_message());
	pthread_mutex_unlock(node_job_lock(n, job_id));
	http_wake(n, WAIT_LOG, job_id);
}

static void archive_log(struct node *n, int64_t job_id)
{
	if (defer_depth)
		defer(job_id, NULL);
	else
		archive_now(n, job_id);
}

/* ---- contexts ----------------------------------------------------------- */

static json_t *make_github(struct node *n, const json_t *run,
			   const json_t *payload)
{
	const char *ref = api_str(run, "ref") ? api_str(run, "ref") : "";
	char *full = guts_xasprintf("%s/%s", api_str(run, "owner"),
				    api_str(run, "repo_name"));
	char *num =
	    guts_xasprintf("%lld", (long long)api_int(run, "run_number"));
	char *att = guts_xasprintf("%lld", (long long)api_int(run, "attempt"));
	char *id = guts_xasprintf("%lld", (long long)api_int(run, "id"));
	char *api = guts_xasprintf("%s/api", n->base_url);
	char *clone = guts_xasprintf("%s/%s.git", n->base_url, full);
	const char *actor =
	    api_str(run, "actor") ? api_str(run, "actor") : "guts";
	const json_t *pr =
	    payload ? json_object_get(payload, "pull_request") : NULL;
	const char *head_ref = json_string_value(
		       json_object_get(json_object_get(pr, "head"), "ref")),
		   *base_ref = json_string_value(
		       json_object_get(json_object_get(pr, "base"), "ref"));
	json_t *gh = json_pack(
	    "{s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i}",
	    "event_name", api_str(run, "event"), "event",
	    payload ? json_incref((json_t *)payload) : json_object(), "sha",
	    api_str(run, "sha"), "ref", ref, "ref_name",
	    !strncmp(ref, "refs/heads/", 11)  ? ref + 11
	    : !strncmp(ref, "refs/tags/", 10) ? ref + 10
	    : !strncmp(ref, "refs/pull/", 10) ? ref + 10
	    : !strncmp(ref, "refs/", 5)	      ? ref + 5
					      : ref,
	    "ref_type", !strncmp(ref, "refs/tags/", 10) ? "tag" : "branch",
	    "head_ref", head_ref ? head_ref : "", "base_ref",
	    base_ref ? base_ref : "", "repository", full, "repository_owner",
	    api_str(run, "owner"), "actor", actor, "triggering_actor", actor,
	    "workflow", api_str(run, "workflow_name"), "run_id", id,
	    "run_number", num, "run_attempt", att, "server_url", n->base_url,
	    "api_url", api, "repositoryUrl", clone, "token", "",
	    "retention_days", 90);

	free(full);
	free(num);
	free(att);
	free(id);
	free(api);
	free(clone);
	return gh ? gh : json_object();
}

/* ---- deciding jobs ------------------------------------------------------ */

struct keystate {
	int placeholder; /* a waiting row exists */
	int64_t placeholder_id;
	int done; /* every row completed */
	int rows;
	enum guts_conclusion result;
	json_t *outputs;
};

struct runstate {
	const struct guts_workflow *wf;
	struct keystate *ks; /* by wf job index */
};

static int key_index(const struct guts_workflow *wf, const char *id)
{
	for (size_t i = 0; i < wf->nr_jobs; i++)
		if (!strcasecmp(wf->jobs[i].id, id))
			return (int)i;
	return -1;
}

static int ancestry_failed(struct runstate *rs, size_t k, unsigned char *seen)
{
	const struct guts_workflow *wf = rs->wf;

	if (seen[k])
		return 0;
	seen[k] = 1;
	if (rs->ks[k].result == GUTS_FAILURE ||
	    rs->ks[k].result == GUTS_CANCELLED)
		return 1;
	for (size_t i = 0; i < wf->jobs[k].needs.nr; i++) {
		int m = key_index(wf, wf->jobs[k].needs.v[i]);

		if (m >= 0 && ancestry_failed(rs, (size_t)m, seen))
			return 1;
	}
	return 0;
}

static void need_state(void *ud, const char *id, enum guts_conclusion *result,
		       int *anc)
{
	struct runstate *rs = ud;
	int k = key_index(rs->wf, id);
	unsigned char *seen;

	if (k < 0)
		return;
	seen = guts_xcalloc(rs->wf->nr_jobs + 1, 1);
	*anc = ancestry_failed(rs, (size_t)k, seen);
	free(seen);
	*result = rs->ks[k].result;
}

/* Load the run's jobs of its attempt into per-key state. */
/*
 * Load the run's jobs of its attempt into per-key state: counts from the
 * store (so a run of n jobs costs O(keys) per look, not O(n)), then the
 * outputs of the rows that have any.
 */
static int load_keys(struct node *n, const json_t *run, struct runstate *rs)
{
	json_t *rows = NULL, *row;
	size_t i;
	int ret = store_query(
	    n->st,
	    "SELECT job_key, COUNT(*) AS nr, "
	    "SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS done, "
	    "SUM(CASE WHEN conclusion IN ('failure', 'timed_out') THEN 1 "
	    "ELSE 0 END) AS failed, "
	    "SUM(CASE WHEN conclusion = 'cancelled' THEN 1 ELSE 0 END) AS "
	    "cancelled, "
	    "SUM(CASE WHEN status = 'completed' AND conclusion IS NOT NULL AND "
	    "conclusion NOT IN ('success', 'failure', 'timed_out', "
	    "'cancelled') THEN 1 ELSE 0 END) AS skipped, "
	    "MIN(CASE WHEN status = 'waiting' THEN id END) AS placeholder "
	    "FROM jobs WHERE run_id = $1 AND run_attempt = $2 GROUP BY job_key",
	    STORE_ARGS(SI(api_int(run, "id")), SI(api_int(run, "attempt"))),
	    &rows);

	if (ret < 0)
		return ret;
	for (size_t k = 0; k < rs->wf->nr_jobs; k++) {
		json_decref(rs->ks[k].outputs);
		memset(&rs->ks[k], 0, sizeof(rs->ks[k]));
		rs->ks[k].outputs = json_object();
		rs->ks[k].done = 1;
		rs->ks[k].result = GUTS_SKIPPED;
	}
	json_array_foreach(rows, i, row) {
		int k = key_index(rs->wf, api_str(row, "job_key"));
		struct keystate *s;

		if (k < 0)
			continue;
		s = &rs->ks[k];
		s->rows = (int)api_int(row, "nr");
		s->done = api_int(row, "done") == s->rows;
		if (json_is_integer(json_object_get(row, "placeholder"))) {
			s->placeholder = 1;
			s->placeholder_id = api_int(row, "placeholder");
		}
		s->result = api_int(row, "failed")	? GUTS_FAILURE
			    : api_int(row, "cancelled") ? GUTS_CANCELLED
			    : api_int(row, "skipped") == s->rows ? GUTS_SKIPPED
								 : GUTS_SUCCESS;
	}
	json_decref(rows);
	rows = NULL;
	ret = store_query(
	    n->st,
	    "SELECT job_key, outputs FROM jobs WHERE run_id = $1 "
	    "AND run_attempt = $2 AND status = 'completed' AND "
	    "outputs IS NOT NULL AND outputs <> '{}' ORDER BY id",
	    STORE_ARGS(SI(api_int(run, "id")), SI(api_int(run, "attempt"))),
	    &rows);
	if (ret < 0)
		return ret;
	json_array_foreach(rows, i, row) {
		int k = key_index(rs->wf, api_str(row, "job_key"));
		json_t *out = jparse(row, "outputs");

		if (k >= 0 && json_is_object(out))
			json_object_update(rs->ks[k].outputs, out);
		json_decref(out);
	}
	json_decref(rows);
	return 0;
}

static json_t *needs_context(struct runstate *rs, const struct guts_wf_job *j)
{
	json_t *needs = json_object();

	for (size_t i = 0; i < j->needs.nr; i++) {
		int k = key_index(rs->wf, j->needs.v[i]);

		if (k < 0)
			continue;
		json_object_set_new(
		    needs, rs->wf->jobs[k].id,
		    json_pack("{s:s, s:O}", "result",
			      guts_conclusion_name(rs->ks[k].result), "outputs",
			      rs->ks[k].outputs));
	}
	return needs;
}

/* runs-on as a label list: a string, strings, or {group, labels}. */
static json_t *labels_of(const json_t *runs_on)
{
	json_t *out = json_array(), *v;
	size_t i;

	if (json_is_object(runs_on))
		runs_on = json_object_get(runs_on, "labels");
	if (json_is_string(runs_on)) {
		json_array_append(out, (json_t *)runs_on);
	} else if (json_is_array(runs_on)) {
		json_array_foreach(runs_on, i, v) {
			if (json_is_string(v))
				json_array_append(out, v);
		}
	}
	return out;
}

/* Finish a waiting job without running it. */
static void finish_unrun(struct node *n, const json_t *run, int64_t job_id,
			 const char *name, const char *conclusion,
			 const char *reason)
{
	int64_t now = store_now_ms();
	char *ctx = context_name(api_str(run, "workflow_name"), name);
	char *url = run_url(n, run);

	store_exec(n->st,
		   "UPDATE jobs SET status = 'completed', conclusion = $2, "
		   "reason = $3, name = $4, completed_at = $5 WHERE id = $1",
		   STORE_ARGS(SI(job_id), SS(conclusion), SS(reason), SS(name),
			      SI(now)),
		   NULL);
	job_status(n, run, job_id, ctx, conclusion,
		   reason			    ? reason
		   : !strcmp(conclusion, "skipped") ? "skipped"
						    : conclusion,
		   url);
	if (reason)
		sched_log_note(n, job_id, "##[error]%s", reason);
	job_event(n, job_id, "completed");
	free(ctx);
	free(url);
}

/* Decide a job whose needs are done; 1 when something changed. */
static int decide_key(struct node *n, const json_t *run, struct runstate *rs,
		      size_t ji)
{
	const struct guts_wf_job *job = &rs->wf->jobs[ji];
	struct keystate *s = &rs->ks[ji];
	int cancelled = api_int(run, "cancel_requested") != 0;
	struct guts_decide_in in = {rs->wf,    ji,	   NULL,
				    cancelled, need_state, rs};
	struct guts_decision d;
	json_t *ctx = json_object(), *needs = needs_context(rs, job);
	json_t *gh = jparse(run, "github"), *inputs = jparse(run, "inputs");
	int64_t now = store_now_ms();
	char *needs_text = jdump(needs);

	json_object_set_new(ctx, "github", gh ? gh : json_object());
	json_object_set(ctx, "guts", json_object_get(ctx, "github"));
	json_object_set_new(ctx, "inputs", inputs ? inputs : json_object());
	json_object_set_new(ctx, "vars", json_object());
	json_object_set_new(ctx, "needs", needs);
	in.contexts = ctx;
	guts_job_decide(&in, &d);
	if (d.error) {
		finish_unrun(n, run, s->placeholder_id, job_display(job),
			     "failure", d.error);
	} else if (!d.run) {
		finish_unrun(n, run, s->placeholder_id, job_display(job),
			     cancelled ? "cancelled" : "skipped", NULL);
	} else if (job->uses) {
		char *why = guts_xasprintf(
		    "job '%s' calls the reusable workflow %s, which guts-node "
		    "cannot run yet (guts exec can)",
		    job->id, job->uses);

		finish_unrun(n, run, s->placeholder_id, job_display(job),
			     "failure", why);
		free(why);
	} else {
		const struct guts_plan_job *pj = d.pj;
		char *url = run_url(n, run);

		for (size_t l = 0; l < pj->nr_legs; l++) {
			const struct guts_plan_leg *pl = &pj->legs[l];
			json_t *labels = labels_of(pl->runs_on);
			json_t *strat = guts_decision_strategy(&d, l);
			char *m = jdump(pl->matrix), *st = jdump(strat);
			char *lb = jdump(labels);

			if (l == 0)
				store_exec(
				    n->st,
				    "UPDATE jobs SET leg = 0, name = $2, "
				    "matrix = $3, strategy = $4, runs_on = $5, "
				    "needs = $6, status = 'queued', queued_at "
				    "= $7 WHERE id = $1",
				    STORE_ARGS(SI(s->placeholder_id),
					       SS(pl->name), SS(m), SS(st),
					       SS(lb), SS(needs_text), SI(now)),
				    NULL);
			else
				store_exec(
				    n->st,
				    "INSERT INTO jobs (run_id, run_attempt, "
				    "job_key, leg, name, matrix, strategy, "
				    "runs_on, needs, status, created_at, "
				    "queued_at) VALUES ($1, $2, $3, $4, $5, "
				    "$6, $7, $8, $9, 'queued', $10, $10)",
				    STORE_ARGS(SI(api_int(run, "id")),
					       SI(api_int(run, "attempt")),
					       SS(job->id), SI(l), SS(pl->name),
					       SS(m), SS(st), SS(lb),
					       SS(needs_text), SI(now)),
				    NULL);
			if (pl->matrix) {
				char *c = context_name(
				    api_str(run, "workflow_name"), pl->name);

				job_status(n, run, l ? 0 : s->placeholder_id, c,
					   NULL, "queued", url);
				free(c);
			}
			free(m);
			free(st);
			free(lb);
			json_decref(labels);
			json_decref(strat);
		}
		if (!pj->nr_legs)
			finish_unrun(n, run, s->placeholder_id,
				     job_display(job), "skipped", NULL);
		else
			key_events(n, run, job->id, "queued", "queued");
		free(url);
	}
	guts_decision_release(&d);
	json_decref(ctx);
	free(needs_text);
	return 1;
}

/* Whether an older unfinished run of the same concurrency group exists. */
static int concurrency_blocked(struct node *n, const json_t *run)
{
	json_t *row = NULL;
	int ret;

	if (!api_str(run, "concurrency"))
		return 0;
	ret = store_query_one(n->st,
			      "SELECT id FROM runs WHERE repo_id = $1 AND "
			      "concurrency = $2 AND id < $3 AND status <> "
			      "'completed' LIMIT 1",
			      STORE_ARGS(SI(api_int(run, "repo_id")),
					 SS(api_str(run, "concurrency")),
					 SI(api_int(run, "id"))),
			      &row);
	json_decref(row);
	return ret == 0;
}

static void conclude_run(struct node *n, const json_t *run)
{
	json_t *rows, *row;
	size_t i;
	int failed = 0, cancelled = 0, timed_out = 0, all_skipped = 1;
	const char *c;
	int64_t now = store_now_ms();

	if (store_query(
		n->st,
		"SELECT conclusion FROM jobs WHERE run_id = $1 AND "
		"run_attempt = $2",
		STORE_ARGS(SI(api_int(run, "id")), SI(api_int(run, "attempt"))),
		&rows) < 0)
		return;
	json_array_foreach(rows, i, row) {
		const char *jc = api_str(row, "conclusion");

		if (!jc)
			continue;
		failed |= !strcmp(jc, "failure");
		timed_out |= !strcmp(jc, "timed_out");
		cancelled |= !strcmp(jc, "cancelled");
		all_skipped &= !strcmp(jc, "skipped");
	}
	json_decref(rows);
	c = api_int(run, "cancel_requested") ? "cancelled"
	    : failed			     ? "failure"
	    : timed_out			     ? "timed_out"
	    : cancelled			     ? "cancelled"
	    : all_skipped		     ? "skipped"
					     : "success";
	store_exec(n->st,
		   "UPDATE runs SET status = 'completed', conclusion = $2, "
		   "completed_at = $3, updated_at = $3, started_at = "
		   "COALESCE(started_at, $3) WHERE id = $1",
		   STORE_ARGS(SI(api_int(run, "id")), SS(c), SI(now)), NULL);
	run_event(n, api_int(run, "id"), "completed");
	nlog(LOG_INFO, "run %lld (%s #%lld, attempt %lld): %s",
	     (long long)api_int(run, "id"), api_str(run, "workflow_name"),
	     (long long)api_int(run, "run_number"),
	     (long long)api_int(run, "attempt"), c);
}

static void advance_locked(struct node *n, int64_t run_id);

/* The next run of a concurrency group may go once this one ended. */
static void advance_group(struct node *n, const json_t *run)
{
	json_t *rows, *row;
	size_t i;

	if (!api_str(run, "concurrency"))
		return;
	if (store_query(
		n->st,
		"SELECT id FROM runs WHERE repo_id = $1 AND concurrency "
		"= $2 AND status <> 'completed' ORDER BY id LIMIT 1",
		STORE_ARGS(SI(api_int(run, "repo_id")),
			   SS(api_str(run, "concurrency"))),
		&rows) < 0)
		return;
	json_array_foreach(rows, i, row)
		advance_locked(n, api_int(row, "id"));
	json_decref(rows);
}

static void advance_run(struct node *n, int64_t run_id);

static void advance_locked(struct node *n, int64_t run_id)
{
	defer_begin();
	advance_run(n, run_id);
	defer_end(n);
}

static void advance_run(struct node *n, int64_t run_id)
{
	struct wf_entry *we;
	const struct guts_workflow *wf;
	struct runstate rs = {0};
	json_t *run;
	int changed = 1, queued = 0, all_done;

	if (load_run(n, run_id, &run) < 0)
		return;
	if (!strcmp(api_str(run, "status"), "completed")) {
		json_decref(run);
		return;
	}
	/* A cancelled run concludes whatever its group does. */
	if (!api_int(run, "cancel_requested") && concurrency_blocked(n, run)) {
		char *why = guts_xasprintf(
		    "waiting for the other run of concurrency group '%s'",
		    api_str(run, "concurrency"));

		store_exec(n->st, "UPDATE runs SET reason = $2 WHERE id = $1",
			   STORE_ARGS(SI(run_id), SS(why)), NULL);
		free(why);
		json_decref(run);
		return;
	}
	we = wf_get(api_str(run, "workflow_path"), api_str(run, "source"));
	wf = we->wf;
	if (!wf) {
		wf_unref(we);
		json_decref(run);
		return;
	}
	rs.wf = wf;
	rs.ks = guts_xcalloc(wf->nr_jobs + 1, sizeof(*rs.ks));
	if (store_begin(n->st) < 0) {
		nlog(LOG_ERROR, "run %lld: %s", (long long)run_id,
		     guts_error_message());
		free(rs.ks);
		wf_unref(we);
		json_decref(run);
		return;
	}
	while (changed) {
		changed = 0;
		if (load_keys(n, run, &rs) < 0)
			break;
		for (size_t k = 0; k < wf->nr_jobs; k++) {
			int ready = rs.ks[k].placeholder;

			for (size_t i = 0; ready && i < wf->jobs[k].needs.nr;
			     i++) {
				int m = key_index(wf, wf->jobs[k].needs.v[i]);

				if (m >= 0 && !rs.ks[m].done)
					ready = 0;
			}
			if (!ready)
				continue;
			changed |= decide_key(n, run, &rs, k);
			queued = 1;
		}
	}
	all_done = 1;
	for (size_t k = 0; k < wf->nr_jobs; k++)
		all_done &= rs.ks[k].done;
	if (wf->nr_jobs && all_done)
		conclude_run(n, run);
	store_exec(n->st,
		   "UPDATE runs SET reason = NULL, updated_at = $2 WHERE id = "
		   "$1 AND reason LIKE 'waiting for the other run%'",
		   STORE_ARGS(SI(run_id), SI(store_now_ms())), NULL);
	store_commit(n->st);
	if (all_done)
		advance_group(n, run);
	for (size_t k = 0; k < wf->nr_jobs; k++)
		json_decref(rs.ks[k].outputs);
	free(rs.ks);
	wf_unref(we);
	json_decref(run);
	if (queued)
		http_wake(n, WAIT_JOBS, 0);
}

void sched_advance(struct node *n, int64_t run_id)
{
	pthread_mutex_lock(&n->sched_lock);
	advance_locked(n, run_id);
	pthread_mutex_unlock(&n->sched_lock);
}

/* ---- creating runs ------------------------------------------------------ */

static char *eval_string(const char *tmpl, const json_t *ctx)
{
	json_t *in = json_string(tmpl), *out = NULL;
	char *s = NULL;

	if (guts_plan_eval(&out, in, ctx, NULL) == 0 && out)
		s = json_is_string(out) ? guts_xstrdup(json_string_value(out))
					: jdump(out);
	json_decref(in);
	json_decref(out);
	return s;
}

static int eval_bool(const json_t *v, const json_t *ctx)
{
	json_t *out = NULL;
	int b;

	if (!v)
		return 0;
	if (guts_plan_eval(&out, v, ctx, NULL) < 0 || !out)
		return 0;
	b = json_is_true(out) ||
	    (json_is_string(out) && !strcmp(json_string_value(out), "true"));
	json_decref(out);
	return b;
}

static void cancel_locked(struct node *n, int64_t run_id, const char *why);

int sched_create_run(struct node *n, const struct run_request *rq,
		     int64_t *run_id)
{
	json_t *wfrow = NULL, *num = NULL, *ins = NULL, *run = NULL;
	json_t *replaced = json_array(), *gh = NULL;
	struct guts_workflow *wf = NULL;
	char *inputs = jdump(rq->inputs), *group = NULL, *gh_text = NULL;
	int64_t now = store_now_ms(), id = 0;
	int ret, cip = 0;

	pthread_mutex_lock(&n->sched_lock);
	defer_begin();
	if (rq->event_key &&
	    store_query_one(n->st, "SELECT id FROM runs WHERE event_key = $1",
			    STORE_ARGS(SS(rq->event_key)), &ins) == 0) {
		*run_id = api_int(ins, "id");
		ret = 0;
		goto out_unlocked;
	}
	ret = store_begin(n->st);
	if (ret < 0)
		goto out_unlocked;
	if (rq->claim) {
		ret = rq->claim(n, rq->claim_ud);
		if (ret < 0)
			goto out;
	}
	ret = store_query_one(n->st, "SELECT * FROM workflows WHERE id = $1",
			      STORE_ARGS(SI(rq->workflow_id)), &wfrow);
	if (ret < 0)
		goto out;
	ret = store_query_one(n->st,
			      "UPDATE workflows SET next_run_number = "
			      "next_run_number + 1 WHERE id = $1 RETURNING "
			      "next_run_number - 1 AS n",
			      STORE_ARGS(SI(rq->workflow_id)), &num);
	if (ret < 0)
		goto out;
	ret = store_query_one(
	    n->st,
	    "INSERT INTO runs (repo_id, workflow_id, workflow_name, "
	    "workflow_path, source, run_number, event, ref, sha, actor, "
	    "status, display_title, inputs, event_key, created_at, "
	    "updated_at, head_sha) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	    "$9, $10, 'queued', $11, $12, $14, $13, $13, $15) RETURNING id",
	    STORE_ARGS(SI(rq->repo_id), SI(rq->workflow_id),
		       SS(api_str(wfrow, "name")), SS(api_str(wfrow, "path")),
		       SS(rq->source ? rq->source : api_str(wfrow, "source")),
		       SI(api_int(num, "n")), SS(rq->event), SS(rq->ref),
		       SS(rq->sha), SS(rq->actor),
		       SS(rq->title ? rq->title : api_str(wfrow, "name")),
		       SS(inputs), SI(now), SS(rq->event_key),
		       SS(rq->head_sha)),
	    &ins);
	if (ret < 0)
		goto out;
	id = api_int(ins, "id");
	ret = load_run(n, id, &run);
	if (ret < 0)
		goto out;
	run_event(n, id, "requested");
	gh = make_github(n, run, rq->payload);
	gh_text = jdump(gh);
	store_exec(n->st, "UPDATE runs SET github = $2 WHERE id = $1",
		   STORE_ARGS(SI(id), SS(gh_text)), NULL);
	if (rq->source || api_int(wfrow, "valid"))
		wf = parse_now(api_str(wfrow, "path"), api_str(run, "source"));
	if (!wf) {
		/* Never dropped silently: a failed run that says why. */
		json_t *errs = parse_errors(api_str(run, "workflow_path"),
					    api_str(run, "source")),
		       *e, *job;
		char *ctx = context_name(api_str(wfrow, "name"), "workflow");
		char *url = run_url(n, run);
		size_t i;

		ret = store_query_one(
		    n->st,
		    "INSERT INTO jobs (run_id, run_attempt, job_key, leg, "
		    "name, "
		    "status, conclusion, reason, created_at, started_at, "
		    "completed_at) VALUES ($1, 1, 'workflow', 0, $2, "
		    "'completed', 'failure', 'the workflow file is invalid', "
		    "$3, $3, $3) RETURNING id",
		    STORE_ARGS(SI(id), SS("Invalid workflow"), SI(now)), &job);
		if (ret == 0) {
			job_event(n, api_int(job, "id"), "completed");
			sched_log_note(n, api_int(job, "id"),
				       "##[error]%s is not a valid workflow:",
				       api_str(wfrow, "path"));
			json_array_foreach(errs, i, e)
				sched_log_note(n, api_int(job, "id"),
					       "##[error]%s",
					       json_string_value(e));
			json_decref(job);
		}
		store_exec(n->st,
			   "UPDATE runs SET status = 'completed', conclusion = "
			   "'failure', reason = 'the workflow file is "
			   "invalid', started_at = $2, completed_at = $2 "
			   "WHERE id = $1",
			   STORE_ARGS(SI(id), SI(now)), NULL);
		run_event(n, id, "completed");
		job_status(n, run, 0, ctx, "failure",
			   "the workflow file is invalid", url);
		json_decref(errs);
		free(ctx);
		free(url);
		goto out;
	}
	if (wf->concurrency_group) {
		json_t *c =
		    json_pack("{s:O, s:o, s:o}", "github", gh, "inputs",
			      rq->inputs ? json_incref((json_t *)rq->inputs)
					 : json_object(),
			      "vars", json_object());

		json_object_set(c, "guts", json_object_get(c, "github"));
		group = eval_string(wf->concurrency_group, c);
		cip = eval_bool(wf->cancel_in_progress, c);
		json_decref(c);
		store_exec(n->st,
			   "UPDATE runs SET concurrency = $2, "
			   "cancel_in_progress = $3 WHERE id = $1",
			   STORE_ARGS(SI(id), SS(group), SI(cip)), NULL);
	}
	{
		char *url = run_url(n, run);

		for (size_t k = 0; k < wf->nr_jobs; k++) {
			const struct guts_wf_job *j = &wf->jobs[k];
			char *ctx = context_name(api_str(wfrow, "name"),
						 job_display(j));
			char *nk = needs_keys(j);

			store_exec(n->st,
				   "INSERT INTO jobs (run_id, run_attempt, "
				   "job_key, leg, name, status, created_at, "
				   "needs) VALUES ($1, 1, $2, -1, $3, "
				   "'waiting', $4, $5)",
				   STORE_ARGS(SI(id), SS(j->id),
					      SS(job_display(j)), SI(now),
					      SS(nk)),
				   NULL);
			free(nk);
			job_status(n, run, 0, ctx, NULL, "waiting to run", url);
			free(ctx);
		}
		free(url);
	}
	if (group) {
		/* Older runs of the group: cancelled (cancel-in-progress),
		 * or, when only queued, replaced by this one. */
		json_t *rows, *row;
		size_t i;

		if (store_query(
			n->st,
			"SELECT id, status FROM runs WHERE repo_id = $1 "
			"AND concurrency = $2 AND id < $3 AND status "
			"<> 'completed'",
			STORE_ARGS(SI(rq->repo_id), SS(group), SI(id)),
			&rows) == 0) {
			json_array_foreach(rows, i, row) {
				if (!cip &&
				    strcmp(api_str(row, "status"), "queued"))
					continue;
				cancel_locked(n, api_int(row, "id"),
					      "a newer run of the concurrency "
					      "group started");
				json_array_append_new(
				    replaced, json_integer(api_int(row, "id")));
			}
			json_decref(rows);
		}
	}
out:
	if (ret < 0)
		store_rollback(n->st);
	else
		ret = store_commit(n->st);
	if (ret == 0) {
		json_t *v;
		size_t k;

		*run_id = id;
		/* The runs it replaced conclude (cancelled) first. */
		json_array_foreach(replaced, k, v)
			advance_locked(n, json_integer_value(v));
		advance_locked(n, id);
	}
out_unlocked:
	defer_end(n);
	pthread_mutex_unlock(&n->sched_lock);
	json_decref(replaced);
	json_decref(gh);
	if (group)
		http_wake(n, WAIT_CANCEL, 0); /* cancel-in-progress */
	guts_workflow_free(wf);
	json_decref(wfrow);
	json_decref(num);
	json_decref(ins);
	json_decref(run);
	free(inputs);
	free(group);
	free(gh_text);
	return ret;
}

/* ---- leasing ------------------------------------------------------------ */

static int labels_fit(const json_t *want, const json_t *have)
{
	size_t i, k;
	json_t *w, *h;

	json_array_foreach(want, i, w) {
		int found = 0;

		json_array_foreach(have, k, h) {
			if (json_is_string(w) && json_is_string(h) &&
			    !strcasecmp(json_string_value(w),
					json_string_value(h)))
				found = 1;
		}
		if (!found)
			return 0;
	}
	return 1;
}

/* max-parallel: how many legs of this job run now. */
static int leg_slots_full(struct node *n, const json_t *job)
{
	json_t *strat = jparse(job, "strategy"), *row = NULL;
	int64_t maxp = api_int(strat, "max-parallel"),
		total = api_int(strat, "job-total");
	int full = 0;

	json_decref(strat);
	if (!maxp || maxp >= total)
		return 0;
	if (store_query_one(n->st,
			    "SELECT COUNT(*) AS c FROM jobs WHERE run_id = $1 "
			    "AND run_attempt = $2 AND job_key = $3 AND status "
			    "= 'in_progress'",
			    STORE_ARGS(SI(api_int(job, "run_id")),
				       SI(api_int(job, "run_attempt")),
				       SS(api_str(job, "job_key"))),
			    &row) == 0)
		full = api_int(row, "c") >= maxp;
	json_decref(row);
	return full;
}

static json_t *make_lease(struct node *n, const json_t *job, const json_t *run,
			  const char *lease, const char *job_token,
			  int64_t expires)
{
	json_t *gh = jparse(run, "github"), *needs = jparse(job, "needs");
	json_t *matrix = jparse(job, "matrix"),
	       *strategy = jparse(job, "strategy");
	json_t *inputs = jparse(run, "inputs"), *l;
	char *full = guts_xasprintf("%s/%s", api_str(run, "owner"),
				    api_str(run, "repo_name"));
	char *clone = guts_xasprintf("%s/%s.git", n->base_url, full);
	json_t *exp = json_integer(expires);

	l = json_pack(
	    "{s:I, s:I, s:s, s:i, s:i, s:o, s:I, s:I, s:I, s:s, s:s, s:s, "
	    "s:s, s:{s:s, s:s}, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:s}",
	    "id", (json_int_t)api_int(job, "id"), "attempt",
	    (json_int_t)api_int(job, "attempt"), "lease_token", lease,
	    "lease_seconds", n->cfg.lease_seconds, "heartbeat_seconds",
	    n->cfg.heartbeat_seconds, "lease_expires_at", store_time_json(exp),
	    "run_id", (json_int_t)api_int(run, "id"), "run_number",
	    (json_int_t)api_int(run, "run_number"), "run_attempt",
	    (json_int_t)api_int(run, "attempt"), "repo", full, "clone_url",
	    clone, "sha", api_str(run, "sha") ? api_str(run, "sha") : "", "ref",
	    api_str(run, "ref") ? api_str(run, "ref") : "", "workflow", "path",
	    api_str(run, "workflow_path"), "source", api_str(run, "source"),
	    "job_key", api_str(job, "job_key"), "name", api_str(job, "name"),
	    "matrix", matrix ? matrix : json_null(), "strategy",
	    strategy ? strategy : json_object(), "needs",
	    needs ? needs : json_object(), "github", gh ? gh : json_object(),
	    "inputs", inputs ? inputs : json_object(), "vars", json_object(),
	    "secrets", json_object(), "job_token", job_token);
	json_decref(exp);
	free(full);
	free(clone);
	return l;
}

int sched_claim(struct node *n, int64_t runner_id, json_t **lease)
{
	json_t *runner = NULL, *have = NULL, *rows = NULL, *row;
	int64_t now = store_now_ms(), after = 0, run_started = 0;
	size_t i;
	int ret;

	*lease = NULL;
	pthread_mutex_lock(&n->sched_lock);
	ret = store_query_one(n->st, "SELECT * FROM runners WHERE id = $1",
			      STORE_ARGS(SI(runner_id)), &runner);
	if (ret < 0)
		goto out;
	store_exec(n->st, "UPDATE runners SET last_seen_at = $2 WHERE id = $1",
		   STORE_ARGS(SI(runner_id), SI(now)), NULL);
	have = jparse(runner, "labels");
	/* Queued jobs in pages, oldest first, until one fits. */
next_page:
	json_decref(rows);
	rows = NULL;
	ret = store_query(
	    n->st,
	    "SELECT id, run_id, run_attempt, job_key, runs_on, strategy, "
	    "attempt FROM jobs WHERE status = 'queued' AND id > $1 "
	    "ORDER BY id LIMIT 200",
	    STORE_ARGS(SI(after)), &rows);
	if (ret < 0)
		goto out;
	json_array_foreach(rows, i, row) {
		json_t *want = jparse(row, "runs_on"), *run = NULL;
		char *lt, *jt, lh[65], jh[65];
		int64_t exp = now + (int64_t)n->cfg.lease_seconds * 1000;
		int64_t changes = 0;
		int fit = labels_fit(want, have);

		after = api_int(row, "id");
		json_decref(want);
		if (!fit || leg_slots_full(n, row))
			continue;
		lt = node_token_new("gls");
		jt = node_token_new("gjt");
		node_token_hash(lt, lh);
		node_token_hash(jt, jh);
		ret = store_begin(n->st);
		if (ret < 0) {
			free(lt);
			free(jt);
			break;
		}
		ret = store_exec(
		    n->st,
		    "UPDATE jobs SET status = 'in_progress', runner_id = $2, "
		    "runner_name = $3, lease_hash = $4, lease_expires = $5, "
		    "job_token_hash = $6, started_at = COALESCE(started_at, "
		    "$7), reason = NULL WHERE id = $1 AND status = 'queued'",
		    STORE_ARGS(SI(api_int(row, "id")), SI(runner_id),
			       SS(api_str(runner, "name")), SS(lh), SI(exp),
			       SS(jh), SI(now)),
		    &changes);
		if (ret == 0 && changes == 1) {
			int64_t started = 0;

			store_exec(
			    n->st,
			    "UPDATE runs SET status = 'in_progress', "
			    "started_at = COALESCE(started_at, $2), "
			    "updated_at = $2 WHERE id = $1 AND status "
			    "= 'queued'",
			    STORE_ARGS(SI(api_int(row, "run_id")), SI(now)),
			    &started);
			/* Published after the commit (no defer here). */
			if (started)
				run_started = api_int(row, "run_id");
			ret = load_run(n, api_int(row, "run_id"), &run);
		}
		if (ret == 0 && changes == 1)
			ret = store_commit(n->st);
		else
			store_rollback(n->st);
		if (ret == 0 && changes == 1 && run) {
			json_t *full = NULL;

			if (run_started)
				run_event(n, run_started, "in_progress");
			job_event(n, api_int(row, "id"), "in_progress");
			if (store_query_one(
				n->st, "SELECT * FROM jobs WHERE id = $1",
				STORE_ARGS(SI(api_int(row, "id"))), &full) == 0)
				*lease = make_lease(n, full, run, lt, jt, exp);
			json_decref(full);
			sched_log_note(n, api_int(row, "id"),
				       "Job attempt %lld on runner %s",
				       (long long)api_int(row, "attempt"),
				       api_str(runner, "name"));
		}
		json_decref(run);
		free(lt);
		free(jt);
		if (*lease || ret < 0)
			break;
	}
	if (!*lease && ret == 0 && json_array_size(rows) == 200)
		goto next_page;
out:
	pthread_mutex_unlock(&n->sched_lock);
	json_decref(runner);
	json_decref(have);
	json_decref(rows);
	return ret;
}

int sched_check_lease(struct node *n, int64_t job_id, int64_t attempt,
		      const char *lease, json_t **job)
{
	char h[65];
	json_t *row;
	/* Only what the fence and the runner calls need: every log append
	 * comes through here, twice. */
	int ret =
	    store_query_one(n->st,
			    "SELECT id, status, attempt, lease_hash, "
			    "runner_id, log_acked FROM jobs WHERE id = $1",
			    STORE_ARGS(SI(job_id)), &row);

	if (job)
		*job = NULL;
	if (ret < 0)
		return ret;
	node_token_hash(lease ? lease : "", h);
	if (api_int(row, "attempt") != attempt ||
	    strcmp(api_str(row, "status"), "in_progress") ||
	    !api_str(row, "lease_hash") ||
	    strcmp(api_str(row, "lease_hash"), h)) {
		ret = guts_error(GUTS_ECONFLICT,
				 "job %lld: attempt %lld's lease is no longer "
				 "valid (the job is %s, attempt %lld)",
				 (long long)job_id, (long long)attempt,
				 api_str(row, "status"),
				 (long long)api_int(row, "attempt"));
		json_decref(row);
		return ret;
	}
	if (job)
		*job = row;
	else
		json_decref(row);
	return 0;
}

int sched_heartbeat(struct node *n, int64_t job_id, int64_t attempt,
		    const char *lease, int *cancel, int64_t *expires_ms)
{
	json_t *row = NULL;
	int64_t changes = 0;
	char h[65];
	int ret;

	node_token_hash(lease ? lease : "", h);
	*expires_ms = store_now_ms() + (int64_t)n->cfg.lease_seconds * 1000;
	/* Only the current lease extends itself. */
	ret = store_exec(
	    n->st,
	    "UPDATE jobs SET lease_expires = $2 WHERE id = $1 AND "
	    "attempt = $3 AND lease_hash = $4 AND status = "
	    "'in_progress'",
	    STORE_ARGS(SI(job_id), SI(*expires_ms), SI(attempt), SS(h)),
	    &changes);
	if (ret < 0)
		return ret;
	if (changes != 1)
		return guts_error(GUTS_EPERM,
				  "job %lld: the lease of attempt %lld is no "
				  "longer valid",
				  (long long)job_id, (long long)attempt);
	ret = store_query_one(n->st,
			      "SELECT j.cancel_requested + r.cancel_requested "
			      "AS c, j.runner_id FROM jobs j JOIN runs r ON "
			      "r.id = j.run_id WHERE j.id = $1",
			      STORE_ARGS(SI(job_id)), &row);
	if (ret == 0) {
		*cancel = api_int(row, "c") > 0;
		store_exec(n->st,
			   "UPDATE runners SET last_seen_at = $2 WHERE id = $1",
			   STORE_ARGS(SI(api_int(row, "runner_id")),
				      SI(store_now_ms())),
			   NULL);
	}
	json_decref(row);
	return ret;
}

int sched_step(struct node *n, int64_t job_id, int64_t attempt,
	       const char *lease, int64_t number, const json_t *body)
{
	const char *status = api_str(body, "status");
	const char *concl = api_str(body, "conclusion");
	const json_t *off = json_object_get(body, "log_offset");
	int64_t now = store_now_ms(), file_off = -1;
	int done, ret;

	if (!status ||
	    (strcmp(status, "in_progress") && strcmp(status, "completed")))
		return guts_error(GUTS_EINVAL,
				  "status: expected in_progress or completed");
	done = !strcmp(status, "completed");
	pthread_mutex_lock(node_job_lock(n, job_id));
	if (!lease_ok(n, job_id, attempt, lease)) {
		pthread_mutex_unlock(node_job_lock(n, job_id));
		return guts_error(GUTS_EPERM,
				  "job %lld: the lease of attempt %lld is no "
				  "longer valid",
				  (long long)job_id, (long long)attempt);
	}
	if (json_is_integer(off)) {
		struct joblog_pos pos;

		/* The runner's stream offset, mapped onto the file. */
		if (load_pos(n, job_id, &pos) == 0) {
			file_off =
			    pos.size + (json_integer_value(off) - pos.acked);
			if (file_off < 0)
				file_off = 0;
		}
	}
	ret = store_exec(
	    n->st,
	    "INSERT INTO steps (job_id, number, name, status, conclusion, "
	    "log_offset, started_at, completed_at) VALUES ($1, $2, $3, $4, $5, "
	    "$6, $7, $8) ON CONFLICT (job_id, number) DO UPDATE SET name = "
	    "COALESCE(excluded.name, steps.name), status = excluded.status, "
	    "conclusion = excluded.conclusion, log_offset = "
	    "COALESCE(steps.log_offset, excluded.log_offset), completed_at = "
	    "excluded.completed_at",
	    STORE_ARGS(SI(job_id), SI(number), SS(api_str(body, "name")),
		       SS(status), SS(done ? concl : NULL),
		       file_off >= 0 ? SI(file_off) : SN, SI(now),
		       done ? SI(now) : SN),
	    NULL);
	pthread_mutex_unlock(node_job_lock(n, job_id));
	if (ret == 0)
		job_event(n, job_id, "in_progress");
	return ret;
}

/* A leg ended: its status, and the job's when it was the last leg. */
static void post_job_statuses(struct node *n, const json_t *run,
			      const json_t *job, const char *conclusion,
			      const char *reason)
{
	json_t *rows = NULL, *row;
	char *url = run_url(n, run);
	int all = 1, failed = 0, cancelled = 0, skipped = 1;
	size_t i;
	const char *agg;
	char *ctx;

	if (api_str(job, "matrix")) {
		ctx = context_name(api_str(run, "workflow_name"),
				   api_str(job, "name"));
		job_status(n, run, api_int(job, "id"), ctx, conclusion,
			   reason ? reason : conclusion, url);
		free(ctx);
	}
	store_query(n->st,
		    "SELECT status, conclusion FROM jobs WHERE run_id = $1 AND "
		    "run_attempt = $2 AND job_key = $3",
		    STORE_ARGS(SI(api_int(run, "id")),
			       SI(api_int(run, "attempt")),
			       SS(api_str(job, "job_key"))),
		    &rows);
	json_array_foreach(rows, i, row) {
		const char *c = api_str(row, "conclusion");

		all &= !strcmp(api_str(row, "status"), "completed");
		failed |=
		    c && (!strcmp(c, "failure") || !strcmp(c, "timed_out"));
		cancelled |= c && !strcmp(c, "cancelled");
		skipped &= c && !strcmp(c, "skipped");
	}
	json_decref(rows);
	if (all) {
		struct wf_entry *we = wf_get(api_str(run, "workflow_path"),
					     api_str(run, "source"));
		const struct guts_wf_job *j =
		    we->wf ? guts_workflow_job(we->wf, api_str(job, "job_key"))
			   : NULL;

		agg = failed	  ? "failure"
		      : cancelled ? "cancelled"
		      : skipped	  ? "skipped"
				  : "success";
		ctx =
		    context_name(api_str(run, "workflow_name"),
				 j ? job_display(j) : api_str(job, "job_key"));
		job_status(
		    n, run, api_str(job, "matrix") ? 0 : api_int(job, "id"),
		    ctx, agg, !api_str(job, "matrix") && reason ? reason : agg,
		    url);
		free(ctx);
		wf_unref(we);
	}
	free(url);
}

static void finish_job_locked(struct node *n, int64_t job_id,
			      const char *conclusion, const json_t *outputs,
			      const char *reason)
{
	json_t *job = NULL, *run = NULL;
	char *out = jdump(outputs);
	int64_t now = store_now_ms();

	store_exec(n->st,
		   "UPDATE jobs SET status = 'completed', conclusion = $2, "
		   "outputs = $3, reason = $4, completed_at = $5, "
		   "job_token_hash = NULL, lease_hash = NULL, lease_expires = "
		   "NULL, started_at = COALESCE(started_at, $5) WHERE id = $1",
		   STORE_ARGS(SI(job_id), SS(conclusion), SS(out), SS(reason),
			      SI(now)),
		   NULL);
	store_exec(n->st,
		   "UPDATE steps SET status = 'completed', conclusion = "
		   "COALESCE(conclusion, 'cancelled'), completed_at = $2 WHERE "
		   "job_id = $1 AND status <> 'completed'",
		   STORE_ARGS(SI(job_id), SI(now)), NULL);
	free(out);
	job_event(n, job_id, "completed");
	if (store_query_one(n->st, "SELECT * FROM jobs WHERE id = $1",
			    STORE_ARGS(SI(job_id)), &job) == 0 &&
	    load_run(n, api_int(job, "run_id"), &run) == 0) {
		post_job_statuses(n, run, job, conclusion, reason);
		/* fail-fast: a failed leg cancels its siblings. */
		if (!strcmp(conclusion, "failure")) {
			json_t *strat = jparse(job, "strategy");

			if (api_str(job, "matrix") &&
			    json_is_true(json_object_get(strat, "fail-fast"))) {
				store_exec(
				    n->st,
				    "UPDATE jobs SET cancel_requested = 1 "
				    "WHERE run_id = $1 AND run_attempt = "
				    "$2 AND job_key = $3 AND status = "
				    "'in_progress'",
				    STORE_ARGS(SI(api_int(job, "run_id")),
					       SI(api_int(job, "run_attempt")),
					       SS(api_str(job, "job_key"))),
				    NULL);
				/* Queued legs end here, each with its
				 * status (and the job's once the last
				 * leg is done): none stays pending. */
				json_t *rows = NULL, *row;
				size_t i;

				store_query(
				    n->st,
				    "SELECT id FROM jobs WHERE run_id = $1 "
				    "AND run_attempt = $2 AND job_key = $3 "
				    "AND status = 'queued' ORDER BY id",
				    STORE_ARGS(SI(api_int(job, "run_id")),
					       SI(api_int(job, "run_attempt")),
					       SS(api_str(job, "job_key"))),
				    &rows);
				json_array_foreach(rows, i, row)
					finish_job_locked(
					    n, api_int(row, "id"), "cancelled",
					    NULL,
					    "fail-fast: another leg failed");
				json_decref(rows);
			}
			json_decref(strat);
		}
	}
	json_decref(job);
	json_decref(run);
}

int sched_complete(struct node *n, int64_t job_id, int64_t attempt,
		   const char *lease, const char *conclusion,
		   const json_t *outputs, const char *reason,
		   const json_t *annotations, const char *summary)
{
	static const char *const ok[] = {"success", "failure", "cancelled",
					 "skipped", "timed_out"};
	json_t *job = NULL;
	int valid = 0, ret;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		valid |= conclusion && !strcmp(conclusion, ok[i]);
	if (!valid)
		return guts_error(GUTS_EINVAL,
				  "conclusion: expected success, failure, "
				  "cancelled, skipped or timed_out");
	if (outputs && !json_is_object(outputs))
		return guts_error(GUTS_EINVAL, "outputs: expected an object");
	pthread_mutex_lock(&n->sched_lock);
	/* Fenced under sched_lock, which a lost lease takes too. */
	if (!lease_ok(n, job_id, attempt, lease)) {
		ret = guts_error(GUTS_EPERM,
				 "job %lld: the lease of attempt "
				 "%lld is no longer valid",
				 (long long)job_id, (long long)attempt);
		pthread_mutex_unlock(&n->sched_lock);
		return ret;
	}
	defer_begin();
	/* The job, its steps, its statuses and fail-fast: all or nothing. */
	ret = store_begin(n->st);
	if (ret == 0) {
		finish_job_locked(n, job_id, conclusion, outputs, reason);
		ret = store_query_one(n->st,
				      "SELECT run_id FROM jobs WHERE id = $1",
				      STORE_ARGS(SI(job_id)), &job);
		if (ret == 0)
			ret =
			    summary_store(n->st, job_id, annotations, summary);
		if (ret == 0)
			ret = store_commit(n->st);
		else
			store_rollback(n->st);
	}
	if (ret == 0)
		advance_locked(n, api_int(job, "run_id"));
	archive_log(n, job_id);
	defer_end(n);
	pthread_mutex_unlock(&n->sched_lock);
	json_decref(job);
	/* Its own parked heartbeat ends; fail-fast siblings hear "cancel";
	 * a max-parallel slot may have freed. */
	http_wake(n, WAIT_CANCEL, 0);
	http_wake(n, WAIT_JOBS, 0);
	return ret;
}

/* ---- cancel and re-run -------------------------------------------------- */

static void cancel_locked(struct node *n, int64_t run_id, const char *why)
{
	json_t *rows = NULL, *row;
	int64_t now = store_now_ms();
	size_t i;

	store_exec(n->st,
		   "UPDATE runs SET cancel_requested = 1, reason = $2, "
		   "updated_at = $3 WHERE id = $1 AND status <> 'completed'",
		   STORE_ARGS(SI(run_id), SS(why), SI(now)), NULL);
	store_exec(n->st,
		   "UPDATE jobs SET cancel_requested = 1 WHERE run_id = $1 AND "
		   "status = 'in_progress'",
		   STORE_ARGS(SI(run_id)), NULL);
	store_query(
	    n->st,
	    "SELECT id FROM jobs WHERE run_id = $1 AND status = 'queued'",
	    STORE_ARGS(SI(run_id)), &rows);
	json_array_foreach(rows, i, row) {
		finish_job_locked(n, api_int(row, "id"), "cancelled", NULL,
				  why);
		archive_log(n, api_int(row, "id"));
	}
	json_decref(rows);
}

int sched_cancel_run(struct node *n, int64_t run_id, const char *actor)
{
	char *why = guts_xasprintf("cancelled by %s", actor ? actor : "guts");

	pthread_mutex_lock(&n->sched_lock);
	defer_begin();
	cancel_locked(n, run_id, why);
	advance_locked(n, run_id);
	defer_end(n);
	pthread_mutex_unlock(&n->sched_lock);
	free(why);
	/* Heartbeats parked on these jobs answer "cancel" now. */
	http_wake(n, WAIT_CANCEL, 0);
	return 0;
}

int sched_rerun(struct node *n, int64_t run_id, int failed_only,
		const char *actor)
{
	struct guts_workflow *wf = NULL;
	json_t *run = NULL, *rows = NULL, *gh = NULL;
	int64_t now = store_now_ms(), attempt;
	char *gh_text = NULL, *url = NULL;
	int ret;

	pthread_mutex_lock(&n->sched_lock);
	defer_begin();
	ret = load_run(n, run_id, &run);
	if (ret < 0)
		goto out;
	if (strcmp(api_str(run, "status"), "completed")) {
		ret =
		    guts_error(GUTS_ECONFLICT,
			       "run %lld is still %s; cancel it first or wait",
			       (long long)run_id, api_str(run, "status"));
		goto out;
	}
	wf = parse_now(api_str(run, "workflow_path"), api_str(run, "source"));
	if (!wf) {
		ret = guts_error(GUTS_EINVAL,
				 "run %lld's workflow is invalid; push a fix "
				 "instead",
				 (long long)run_id);
		goto out;
	}
	attempt = api_int(run, "attempt") + 1;
	ret =
	    store_query(n->st,
			"SELECT * FROM jobs WHERE run_id = $1 AND run_attempt "
			"= $2 ORDER BY id",
			STORE_ARGS(SI(run_id), SI(attempt - 1)), &rows);
	if (ret < 0)
		goto out;
	gh = jparse(run, "github");
	if (json_is_object(gh)) {
		char *a = guts_xasprintf("%lld", (long long)attempt);

		json_object_set_new(gh, "run_attempt", json_string(a));
		if (actor)
			json_object_set_new(gh, "triggering_actor",
					    json_string(actor));
		free(a);
	}
	gh_text = jdump(gh);
	url = run_url(n, run);
	store_begin(n->st);
	store_exec(
	    n->st,
	    "UPDATE runs SET attempt = $2, status = 'queued', conclusion "
	    "= NULL, reason = NULL, cancel_requested = 0, started_at = "
	    "NULL, completed_at = NULL, updated_at = $3, github = $4 "
	    "WHERE id = $1",
	    STORE_ARGS(SI(run_id), SI(attempt), SI(now), SS(gh_text)), NULL);
	run_event(n, run_id, "requested");
	for (size_t k = 0; k < wf->nr_jobs; k++) {
		const struct guts_wf_job *j = &wf->jobs[k];
		int keep = failed_only, any = 0;
		json_t *row;
		size_t i;

		json_array_foreach(rows, i, row) {
			const char *c = api_str(row, "conclusion");

			if (strcasecmp(api_str(row, "job_key"), j->id))
				continue;
			any = 1;
			if (!c || strcmp(c, "success"))
				keep = 0;
		}
		if (keep && any) {
			json_array_foreach(rows, i, row) {
				if (strcasecmp(api_str(row, "job_key"), j->id))
					continue;
				store_exec(
				    n->st,
				    "INSERT INTO jobs (run_id, run_attempt, "
				    "job_key, leg, name, matrix, strategy, "
				    "status, conclusion, reason, runs_on, "
				    "needs, outputs, runner_name, copied_from, "
				    "created_at, queued_at, started_at, "
				    "completed_at, log_archived) SELECT "
				    "run_id, $2, job_key, leg, name, matrix, "
				    "strategy, status, conclusion, $3, "
				    "runs_on, needs, outputs, runner_name, "
				    "COALESCE(copied_from, id), "
				    "created_at, queued_at, started_at, "
				    "completed_at, 1 FROM jobs WHERE id = $1",
				    STORE_ARGS(SI(api_int(row, "id")),
					       SI(attempt),
					       SS("kept from the previous "
						  "attempt")),
				    NULL);
			}
			continue;
		}
		{
			char *nk = needs_keys(j);

			store_exec(n->st,
				   "INSERT INTO jobs (run_id, run_attempt, "
				   "job_key, leg, name, status, created_at, "
				   "needs) VALUES ($1, $2, $3, -1, $4, "
				   "'waiting', $5, $6)",
				   STORE_ARGS(SI(run_id), SI(attempt),
					      SS(j->id), SS(job_display(j)),
					      SI(now), SS(nk)),
				   NULL);
			free(nk);
		}
		{
			char *ctx = context_name(api_str(run, "workflow_name"),
						 job_display(j));

			job_status(n, run, 0, ctx, NULL, "waiting to run", url);
			free(ctx);
		}
	}
	ret = store_commit(n->st);
	if (ret == 0)
		advance_locked(n, run_id);
out:
	defer_end(n);
	pthread_mutex_unlock(&n->sched_lock);
	guts_workflow_free(wf);
	json_decref(run);
	json_decref(rows);
	json_decref(gh);
	free(gh_text);
	free(url);
	return ret;
}

/* ---- housekeeping ------------------------------------------------------- */

static void lose_lease(struct node *n, const json_t *job)
{
	int64_t id = api_int(job, "id"), lost = api_int(job, "lost") + 1;
	int64_t attempt = api_int(job, "attempt");
	json_t *run = NULL;
	int cancelled = api_int(job, "cancel_requested") != 0;

	if (load_run(n, api_int(job, "run_id"), &run) == 0)
		cancelled |= api_int(run, "cancel_requested") != 0;
	json_decref(run);
	if (cancelled || lost > n->cfg.max_runner_lost) {
		/* A cancelled job is not retried; a third loss ends it. */
		if (cancelled)
			sched_log_note(n, id,
				       "##[warning]The runner of attempt %lld "
				       "stopped answering after the job was "
				       "cancelled",
				       (long long)attempt);
		else
			sched_log_note(n, id,
				       "##[error]The runner of attempt %lld "
				       "stopped answering; giving up after "
				       "%lld attempts (runner_lost)",
				       (long long)attempt, (long long)lost);
		if (store_begin(n->st) == 0) {
			finish_job_locked(n, id,
					  cancelled ? "cancelled" : "failure",
					  NULL, "runner_lost");
			store_commit(n->st);
		}
		advance_locked(n, api_int(job, "run_id"));
		archive_log(n, id);
		return;
	}
	/* Under the job lock: an append of the old attempt cannot undo the
	 * reset of the log's acknowledged offset. */
	pthread_mutex_lock(node_job_lock(n, id));
	store_exec(
	    n->st,
	    "UPDATE jobs SET status = 'queued', attempt = $2, lost = $3, "
	    "runner_id = NULL, runner_name = NULL, lease_hash = NULL, "
	    "lease_expires = NULL, job_token_hash = NULL, reason = "
	    "'runner_lost', log_acked = 0, queued_at = $4 WHERE id = $1",
	    STORE_ARGS(SI(id), SI(attempt + 1), SI(lost), SI(store_now_ms())),
	    NULL);
	store_exec(n->st, "DELETE FROM steps WHERE job_id = $1",
		   STORE_ARGS(SI(id)), NULL);
	pthread_mutex_unlock(node_job_lock(n, id));
	job_event(n, id, "queued");
	sched_log_note(
	    n, id,
	    "##[warning]The runner of attempt %lld stopped answering "
	    "(runner_lost); the job is queued again as attempt %lld",
	    (long long)attempt, (long long)attempt + 1);
	nlog(LOG_WARN, "job %lld: runner lost; re-queued as attempt %lld",
	     (long long)id, (long long)attempt + 1);
}

void sched_tick(struct node *n)
{
	json_t *rows = NULL, *row, *runners = NULL;
	int64_t now = store_now_ms();
	size_t i, k;
	int woke = 0;

	pthread_mutex_lock(&n->sched_lock);
	defer_begin();
	if (store_query(n->st,
			"SELECT * FROM jobs WHERE status = 'in_progress' AND "
			"lease_expires < $1",
			STORE_ARGS(SI(now)), &rows) == 0) {
		json_array_foreach(rows, i, row) {
			lose_lease(n, row);
			woke = 1;
		}
		json_decref(rows);
		rows = NULL;
	}
	/* Queued jobs no live runner can take say so. */
	if (store_query(n->st,
			"SELECT labels FROM runners WHERE last_seen_at > $1",
			STORE_ARGS(SI(now - 90000)), &runners) == 0 &&
	    store_query(n->st,
			"SELECT id, runs_on, reason FROM jobs WHERE status = "
			"'queued'",
			NULL, 0, &rows) == 0) {
		json_array_foreach(rows, i, row) {
			json_t *want = jparse(row, "runs_on"), *r;
			const char *reason = api_str(row, "reason");
			int fits = 0;

			json_array_foreach(runners, k, r) {
				json_t *have = jparse(r, "labels");

				fits |= labels_fit(want, have);
				json_decref(have);
			}
			if (!fits) {
				char *lb = jdump(want);
				char *why = guts_xasprintf(
				    "waiting for a runner with labels %s", lb);

				if (!reason || strcmp(reason, why))
					store_exec(
					    n->st,
					    "UPDATE jobs SET reason = $2 "
					    "WHERE id = $1",
					    STORE_ARGS(SI(api_int(row, "id")),
						       SS(why)),
					    NULL);
				free(why);
				free(lb);
			} else if (reason &&
				   !strncmp(reason, "waiting for a runner",
					    20)) {
				store_exec(
				    n->st,
				    "UPDATE jobs SET reason = NULL WHERE "
				    "id = $1",
				    STORE_ARGS(SI(api_int(row, "id"))), NULL);
			}
			json_decref(want);
		}
	}
	json_decref(rows);
	json_decref(runners);
	defer_end(n);
	pthread_mutex_unlock(&n->sched_lock);
	if (woke)
		http_wake(n, WAIT_JOBS, 0);
}

void sched_recover(struct node *n)
{
	json_t *rows = NULL, *row;
	int64_t now = store_now_ms();
	size_t i;

	/* Live logs: cut what was never acknowledged. */
	if (store_query(n->st,
			"SELECT id, log_acked, log_size, log_line_len, "
			"log_capped, status FROM jobs WHERE log_archived = 0 "
			"AND log_size > 0",
			NULL, 0, &rows) == 0) {
		json_array_foreach(rows, i, row) {
			struct joblog_pos pos = {
			    api_int(row, "log_acked"), api_int(row, "log_size"),
			    api_int(row, "log_line_len"),
			    (int)api_int(row, "log_capped")};
			int64_t id = api_int(row, "id");

			if (joblog_recover(n->logs_dir, id, &pos) == 0)
				save_pos(n, id, &pos);
			if (!strcmp(api_str(row, "status"), "completed"))
				archive_log(n, id);
		}
		json_decref(rows);
		rows = NULL;
	}
	/* Runners get a lease's time to come back after a restart. */
	store_exec(n->st,
		   "UPDATE jobs SET lease_expires = $1 WHERE status = "
		   "'in_progress'",
		   STORE_ARGS(SI(now + (int64_t)n->cfg.lease_seconds * 1000)),
		   NULL);
	if (store_query(n->st,
			"SELECT id FROM runs WHERE status <> 'completed' ORDER "
			"BY id",
			NULL, 0, &rows) == 0) {
		json_array_foreach(rows, i, row)
			sched_advance(n, api_int(row, "id"));
		json_decref(rows);
	}
}
