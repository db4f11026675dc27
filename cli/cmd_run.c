/*
 * guts run: a repository's runs on a node.
 *
 *   guts run list [--workflow W] [--branch B] [--status S] [--event E]
 *                 [--limit N]
 *   guts run view ID [--attempt N]
 *   guts run logs ID [--job J] [--step N] [--attempt N] [--follow]
 *   guts run watch ID
 *   guts run cancel ID
 *   guts run rerun ID [--failed]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/apiutil.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "api.h"
#include "commands.h"
#include "ws.h"
#include "banned.h"

/*
 * How long a log request may take: a job's log can be 100 MB, and with
 * --follow the node first waits up to 30 s.
 */
#define LOG_TIMEOUT_MS 300000L
/* Between two looks at a run whose jobs have all ended but it has not. */
#define FOLLOW_POLL_S 2

static const char run_usage[] =
    "usage: guts run <command> [<args>]\n"
    "\n"
    "Commands:\n"
    "  list     the repository's runs, newest first\n"
    "  view     a run, its jobs and their steps\n"
    "  logs     the logs of a run's jobs, or follow them live\n"
    "  watch    watch a run's jobs live until it completes\n"
    "  cancel   cancel a run\n"
    "  rerun    run a completed run again, or only its failed jobs\n"
    "\n"
    "Run 'guts run <command> --help' for its options.\n";

static const char list_usage[] =
    "usage: guts run list [--workflow W] [--branch B] [--status S] "
    "[--event E]\n"
    "                     [--limit N] [<client options>]\n"
    "\n"
    "List the repository's runs, newest first.\n"
    "\n"
    "  --workflow W       only this workflow (id, file name or name)\n"
    "  --branch B         only runs on this branch\n"
    "  --status S         only this status (queued, in_progress, completed)\n"
    "                     or conclusion (success, failure, cancelled, ...)\n"
    "  --event E          only runs for this event (push, ...)\n"
    "  --limit N          show at most N (default 30)\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char view_usage[] =
    "usage: guts run view ID [--attempt N] [<client options>]\n"
    "\n"
    "Show a run, its jobs (status, conclusion, duration, reason) and their\n"
    "steps.  With --json: {\"run\": RUN, \"jobs\": [JOB...]}.\n"
    "\n"
    "  --attempt N        the jobs of this attempt (default: the latest)\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char logs_usage[] =
    "usage: guts run logs ID [--job J] [--step N] [--attempt N] [--follow]\n"
    "                     [<client options>]\n"
    "\n"
    "Print the logs of a run's jobs, in order, each after a line\n"
    "\"== JOB NAME ==\".  With --follow, print them as they are written,\n"
    "job after job, until the run completes.\n"
    "\n"
    "  --job J            only job J: its id, name or job key (no header\n"
    "                     line unless J names several matrix legs)\n"
    "  --step N           only step N of each job\n"
    "  --attempt N        the jobs of this attempt (default: the latest)\n"
    "  -f, --follow       wait for new lines until the run completes (live\n"
    "                     over the node's WebSocket; by polling with\n"
    "                     --step or a node without one)\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char watch_usage[] =
    "usage: guts run watch ID [<client options>]\n"
    "\n"
    "Watch a run until it completes: its jobs by their needs, each with its\n"
    "state (\u2713 success, \u2717 failed, - skipped or cancelled, \u25cf "
    "running,\n"
    "\u25cb waiting), time and current step.  On a terminal the view is "
    "redrawn\n"
    "in place; otherwise each change is one line.  Exits 0 when the run\n"
    "succeeds, else 1.\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char cancel_usage[] =
    "usage: guts run cancel ID [<client options>]\n"
    "\n"
    "Cancel a run: queued jobs at once, running ones at their next\n"
    "heartbeat.\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char rerun_usage[] =
    "usage: guts run rerun ID [--failed] [<client options>]\n"
    "\n"
    "Run a completed run again, as its next attempt.\n"
    "\n"
    "  --failed           only the jobs that did not succeed; the others\n"
    "                     keep their results and outputs\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

/* Add "?k=v" or "&k=v", the value escaped, when @v is set. */
static void add_query(struct guts_buf *b, const char *k, const char *v)
{
	char *e;

	if (!v)
		return;
	e = guts_http_escape(v);
	guts_buf_addf(b, "%c%s=%s", strchr(b->data, '?') ? '&' : '?', k, e);
	free(e);
}

static long long id_of(const json_t *o)
{
	const json_t *v = json_object_get(o, "id");

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return 0;
}

static int cmp_id(const void *x, const void *y)
{
	long long a = id_of(*(json_t *const *)x),
		  b = id_of(*(json_t *const *)y);

	return (a > b) - (a < b);
}

/* The jobs in the order they were made (by id), borrowed from @jobs. */
static json_t **jobs_in_order(const json_t *jobs, size_t *n)
{
	json_t **v, *j;
	size_t i;

	*n = json_array_size(jobs);
	v = guts_xcalloc(*n ? *n : 1, sizeof(*v));
	json_array_foreach(jobs, i, j) {
		v[i] = j;
	}
	qsort(v, *n, sizeof(*v), cmp_id);
	return v;
}

/* "completed (failure)", "in_progress", "-" */
static void status_text(const json_t *o, char *buf, size_t size)
{
	char b1[32], b2[32];
	const char *s = jtext(o, "status", b1, sizeof(b1));
	const char *c = jtext(o, "conclusion", b2, sizeof(b2));

	if (s && c)
		snprintf(buf, size, "%s (%s)", s, c);
	else
		snprintf(buf, size, "%s", s ? s : "-");
}

/* ---- list ---------------------------------------------------------------- */

static int run_list(int argc, char **argv)
{
	static const char *const filters[][2] = {{"--workflow", "workflow"},
						 {"--branch", "branch"},
						 {"--status", "status"},
						 {"--event", "event"}};
	const char *val[4] = {NULL, NULL, NULL, NULL};
	struct api a;
	struct guts_buf path;
	long long limit = 30;
	json_t *list = NULL, *run;
	size_t i;
	int rc = 0;

	api_init(&a);
	guts_buf_init(&path, 0);
	for (int k = 1; k < argc && !rc; k++) {
		const char *v;
		int r, taken = 0;

		if (cli_is_help(argv[k])) {
			fputs(list_usage, stdout);
			rc = -1;
			break;
		}
		if ((r = api_opt(&a, argc, argv, &k)) != 0) {
			rc = r < 0 ? 2 : 0;
			continue;
		}
		if ((r = cli_opt_value(argc, argv, &k, "--limit", NULL, &v))) {
			if (r < 0 || (limit = cli_positive("--limit", v)) < 0)
				rc = 2;
			continue;
		}
		for (size_t f = 0; f < 4 && !taken; f++) {
			r = cli_opt_value(argc, argv, &k, filters[f][0], NULL,
					  &v);
			if (r < 0)
				rc = 2;
			if (r > 0)
				val[f] = v;
			taken = r != 0;
		}
		if (!taken)
			rc = cli_unknown("run list", argv[k]);
	}
	if (!rc)
		rc = api_repo(&a);
	if (rc)
		goto out;
	{
		char *base = api_repo_path(&a, "/runs");

		guts_buf_adds(&path, base);
		free(base);
	}
	for (size_t f = 0; f < 4; f++)
		add_query(&path, filters[f][1], val[f]);
	rc = api_list(&a, path.data, limit, &list);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(list);
	} else if (!json_array_size(list)) {
		fprintf(stderr, "No runs.\n");
	} else {
		static const char *const head[] = {
		    "ID",     "STATUS", "CONCLUSION", "WORKFLOW",
		    "BRANCH", "EVENT",	"AGE"};
		struct guts_table t;
		char b[64];

		guts_table_init(&t, 7);
		for (size_t h = 0; h < 7; h++)
			guts_table_add(&t, head[h]);
		json_array_foreach(list, i, run) {
			guts_table_add(&t, jtext(run, "id", b, sizeof(b)));
			guts_table_add(&t, jtext(run, "status", b, sizeof(b)));
			guts_table_add(&t,
				       jtext(run, "conclusion", b, sizeof(b)));
			guts_table_add(
			    &t, jtext(run, "workflow_name", b, sizeof(b)));
			guts_table_add(&t,
				       jtext(run, "head_branch", b, sizeof(b)));
			guts_table_add(&t, jtext(run, "event", b, sizeof(b)));
			guts_table_add(&t,
				       jago(run, "created_at", b, sizeof(b)));
		}
		api_print_table(&t, "");
	}
out:
	guts_buf_release(&path);
	json_decref(list);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

/* The jobs of run @id (attempt @attempt, 0: the latest) into *jobs. */
static int get_jobs(struct api *a, long long id, long long attempt,
		    json_t **jobs)
{
	char *path = attempt ? api_repo_path(a, "/runs/%lld/jobs?attempt=%lld",
					     id, attempt)
			     : api_repo_path(a, "/runs/%lld/jobs", id);
	int rc = api_list(a, path, 0, jobs);

	free(path);
	return rc;
}

/* ---- view ---------------------------------------------------------------- */

static void print_run(const json_t *run, const json_t *jobs)
{
	struct guts_table t;
	char b[64], st[128];
	char *wf =
	    guts_api_printable(jtext(run, "workflow_name", b, sizeof(b)));
	char *num = guts_api_printable(jtext(run, "run_number", b, sizeof(b)));
	char *id = guts_api_printable(jtext(run, "id", b, sizeof(b)));
	char *att = guts_api_printable(jtext(run, "run_attempt", b, sizeof(b)));
	const char *sha = json_string_value(json_object_get(run, "head_sha"));
	json_t **order;
	size_t n;

	printf("%s #%s (run %s, attempt %s)\n", wf, num, id, att);
	free(wf);
	free(num);
	free(id);
	free(att);
	guts_table_init(&t, 2);
	guts_table_add(&t, "title:");
	guts_table_add(&t, jtext(run, "display_title", b, sizeof(b)));
	status_text(run, st, sizeof(st));
	guts_table_add(&t, "status:");
	guts_table_add(&t, st);
	guts_table_add(&t, "event:");
	guts_table_add(&t, jtext(run, "event", b, sizeof(b)));
	guts_table_add(&t, "branch:");
	guts_table_add(&t, jtext(run, "head_branch", b, sizeof(b)));
	guts_table_add(&t, "commit:");
	guts_table_addf(&t, "%.12s", sha ? sha : "-");
	guts_table_add(&t, "actor:");
	guts_table_add(&t, jtext(run, "actor", b, sizeof(b)));
	guts_table_add(&t, "created:");
	guts_table_add(&t, jago(run, "created_at", b, sizeof(b)));
	guts_table_add(&t, "duration:");
	guts_table_add(
	    &t, jduration(run, "started_at", "completed_at", b, sizeof(b)));
	if (jtext(run, "reason", b, sizeof(b))) {
		guts_table_add(&t, "reason:");
		guts_table_add(&t, jtext(run, "reason", b, sizeof(b)));
	}
	api_print_table(&t, "  ");

	order = jobs_in_order(jobs, &n);
	if (!n) {
		printf("\nNo jobs.\n");
		free(order);
		return;
	}
	printf("\nJobs:\n");
	guts_table_init(&t, 7);
	guts_table_add(&t, "ID");
	guts_table_add(&t, "JOB");
	guts_table_add(&t, "STATUS");
	guts_table_add(&t, "CONCLUSION");
	guts_table_add(&t, "DURATION");
	guts_table_add(&t, "RUNNER");
	guts_table_add(&t, "REASON");
	for (size_t i = 0; i < n; i++) {
		const json_t *j = order[i];

		guts_table_add(&t, jtext(j, "id", b, sizeof(b)));
		guts_table_add(&t, jtext(j, "name", b, sizeof(b)));
		guts_table_add(&t, jtext(j, "status", b, sizeof(b)));
		guts_table_add(&t, jtext(j, "conclusion", b, sizeof(b)));
		guts_table_add(&t, jduration(j, "started_at", "completed_at", b,
					     sizeof(b)));
		guts_table_add(&t, jtext(j, "runner_name", b, sizeof(b)));
		guts_table_add(&t, jtext(j, "reason", b, sizeof(b)));
	}
	api_print_table(&t, "  ");

	for (size_t i = 0; i < n; i++) {
		const json_t *j = order[i], *s;
		const json_t *steps = json_object_get(j, "steps");
		char *name;
		size_t k;

		if (!json_array_size(steps))
			continue;
		name = guts_api_printable(jtext(j, "name", b, sizeof(b)));
		printf("\n%s (job %lld):\n", name, id_of(j));
		free(name);
		guts_table_init(&t, 5);
		guts_table_add(&t, "#");
		guts_table_add(&t, "STEP");
		guts_table_add(&t, "STATUS");
		guts_table_add(&t, "CONCLUSION");
		guts_table_add(&t, "DURATION");
		json_array_foreach(steps, k, s) {
			guts_table_add(&t, jtext(s, "number", b, sizeof(b)));
			guts_table_add(&t, jtext(s, "name", b, sizeof(b)));
			guts_table_add(&t, jtext(s, "status", b, sizeof(b)));
			guts_table_add(&t,
				       jtext(s, "conclusion", b, sizeof(b)));
			guts_table_add(&t,
				       jduration(s, "started_at",
						 "completed_at", b, sizeof(b)));
		}
		api_print_table(&t, "  ");
	}
	free(order);
}

static int run_view(int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"--attempt", NULL, 0}, {0}};
	const char *vals[1] = {NULL};
	struct api a;
	long long id, attempt = 0;
	json_t *run = NULL, *jobs = NULL;
	char *path = NULL;
	int rc;

	api_init(&a);
	rc = api_args_id(&a, argc, argv, "run view", view_usage, opts, vals,
			 "run", "the run ID", &id);
	if (!rc && vals[0] &&
	    (attempt = cli_positive("--attempt", vals[0])) < 0)
		rc = 2;
	if (rc)
		goto out;
	path = api_repo_path(&a, "/runs/%lld", id);
	rc = api_call(&a, "GET", path, NULL, &run);
	if (!rc)
		rc = get_jobs(&a, id, attempt, &jobs);
	if (rc)
		goto out;
	if (a.json) {
		json_t *both =
		    json_pack("{s:O, s:O}", "run", run, "jobs", jobs);

		api_print_json(both);
		json_decref(both);
	} else {
		print_run(run, jobs);
	}
out:
	free(path);
	json_decref(run);
	json_decref(jobs);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

/* ---- logs ---------------------------------------------------------------- */

struct logs {
	struct api *a;
	const char *job; /* --job, or NULL for every job */
	long long step;	 /* --step, or 0 */
	int follow;
	int headers;	/* print "== NAME ==" before each job */
	int line_start; /* what was printed last ends a line */
	/* On a terminal, only colours of the log's escapes pass through. */
	int tty;
	struct guts_term_filter filter;
};

static int job_matches(const json_t *job, const char *sel)
{
	char b[32];
	const char *s;

	if (!sel)
		return 1;
	if ((s = jtext(job, "id", b, sizeof(b))) && !strcmp(s, sel))
		return 1;
	if ((s = jtext(job, "name", b, sizeof(b))) && !strcmp(s, sel))
		return 1;
	return (s = jtext(job, "job_key", b, sizeof(b))) && !strcmp(s, sel);
}

static size_t count_matches(const json_t *jobs, const char *sel)
{
	const json_t *j;
	size_t i, n = 0;

	json_array_foreach(jobs, i, j) {
		n += (size_t)job_matches(j, sel);
	}
	return n;
}

static void print_header(struct logs *l, const json_t *job)
{
	char b[32];
	char *name;

	if (!l->headers)
		return;
	name = guts_api_printable(jtext(job, "name", b, sizeof(b)));
	printf("%s== %s ==\n", l->line_start ? "" : "\n",
	       *name ? name : "(unnamed job)");
	free(name);
	l->line_start = 1;
	fflush(stdout);
}

static int header_is_true(const struct guts_http_resp *r, const char *name)
{
	char *v = guts_http_resp_header(r, name);
	int yes = v && !strcasecmp(v, "true");

	free(v);
	return yes;
}

/* X-Guts-Log-Size, or -1 when it was not sent. */
static long long header_size(const struct guts_http_resp *r)
{
	char *v = guts_http_resp_header(r, "X-Guts-Log-Size"), *end;
	long long n = -1;

	if (v) {
		n = strtoll(v, &end, 10);
		if (end == v || *end || n < 0)
			n = -1;
	}
	free(v);
	return n;
}

/* Print log bytes, on a terminal through the escape filter. */
static void write_log(struct logs *l, const char *data, size_t len)
{
	if (!len)
		return;
	if (l->tty) {
		struct guts_buf safe;

		guts_buf_init(&safe, 0);
		guts_term_filter(&l->filter, data, len, &safe);
		fwrite(safe.data, 1, safe.len, stdout);
		guts_buf_release(&safe);
	} else {
		fwrite(data, 1, len, stdout);
	}
	fflush(stdout);
	l->line_start = data[len - 1] == '\n';
}

/*
 * Print the log of job @id from byte @off: what there is, or with
 * l->follow until the job completes and every byte has been printed.
 */
static int job_log_from(struct logs *l, long long id, long long off)
{
	char step[32] = "";
	int rc = 0;

	if (l->step)
		snprintf(step, sizeof(step), "&step=%lld", l->step);
	for (;;) {
		struct guts_http_resp r;
		time_t t0 = time(NULL);
		char *path =
		    api_repo_path(l->a, "/jobs/%lld/logs?offset=%lld%s%s", id,
				  off, step, l->follow ? "&wait=30" : "");
		long long size;
		size_t len;
		int complete;

		guts_http_resp_init(&r);
		rc = api_do(l->a, "GET", path, NULL, LOG_TIMEOUT_MS, &r, NULL);
		free(path);
		if (rc) {
			guts_http_resp_release(&r);
			break;
		}
		len = r.body.len;
		write_log(l, r.body.data, len);
		off += (long long)len;
		complete = header_is_true(&r, "X-Guts-Log-Complete");
		size = header_size(&r);
		guts_http_resp_release(&r);
		if (!len || (size >= 0 && off >= size)) {
			if (!l->follow || complete)
				break;
		}
		/* A node that answers at once with nothing: do not spin. */
		if (!len && time(NULL) - t0 < 1)
			sleep(1);
	}
	return rc;
}

static int job_log(struct logs *l, long long id)
{
	return job_log_from(l, id, 0);
}

/* Whether run @id has completed (its attempt @attempt, at least). */
static int run_completed(struct api *a, long long id, long long attempt,
			 int *done)
{
	char *path = api_repo_path(a, "/runs/%lld", id);
	json_t *run = NULL;
	const json_t *att;
	int rc = api_call(a, "GET", path, NULL, &run);

	free(path);
	if (rc)
		return rc;
	att = json_object_get(run, "run_attempt");
	*done = json_is_integer(att) && json_integer_value(att) > attempt;
	if (!*done) {
		const char *s =
		    json_string_value(json_object_get(run, "status"));

		*done = s && !strcmp(s, "completed");
	}
	json_decref(run);
	return 0;
}

static int follow_logs(struct logs *l, long long id, long long attempt)
{
	long long *done = NULL;
	size_t nr_done = 0, alloc = 0;
	int finished = 0, seen = 0, rc = 0;

	if (!attempt) {
		char *path = api_repo_path(l->a, "/runs/%lld", id);
		json_t *run = NULL;

		rc = api_call(l->a, "GET", path, NULL, &run);
		free(path);
		if (rc)
			return rc;
		attempt =
		    json_integer_value(json_object_get(run, "run_attempt"));
		json_decref(run);
		if (attempt < 1)
			attempt = 1;
	}
	for (;;) {
		json_t *jobs = NULL, **order;
		const json_t *next = NULL;
		size_t n;

		rc = get_jobs(l->a, id, attempt, &jobs);
		if (rc)
			break;
		if (!seen)
			l->headers = !l->job || count_matches(jobs, l->job) > 1;
		order = jobs_in_order(jobs, &n);
		for (size_t i = 0; i < n && !next; i++) {
			long long jid = id_of(order[i]);
			size_t k;

			if (!job_matches(order[i], l->job))
				continue;
			seen = 1;
			for (k = 0; k < nr_done && done[k] != jid; k++)
				;
			if (k == nr_done)
				next = order[i];
		}
		if (next) {
			print_header(l, next);
			rc = job_log(l, id_of(next));
			GUTS_ALLOC_GROW(done, nr_done + 1, alloc);
			done[nr_done++] = id_of(next);
			finished = 0;
		}
		free(order);
		json_decref(jobs);
		if (rc)
			break;
		if (next)
			continue;
		/*
		 * Every job so far has ended.  Once the run has completed,
		 * look at its jobs once more (one may have been added just
		 * before), then stop.
		 */
		if (finished)
			break;
		rc = run_completed(l->a, id, attempt, &finished);
		if (rc)
			break;
		if (!finished)
			sleep(FOLLOW_POLL_S);
	}
	free(done);
	if (!rc && !seen && l->job)
		rc = cli_fail(1, "run %lld has no job '%s'", id, l->job);
	return rc;
}

/* ---- live: the node's WebSocket (docs/websocket.md) ---------------------- */

/* Opening a connection, and its upgrade. */
#define WS_CONNECT_MS 10000L
/* Without a message for this long, look through the REST API. */
#define WS_IDLE_MS 30000L
/* A dropped connection is opened again for this long before giving up. */
#define WS_RECONNECT_MS 60000LL

/* A WebSocket subscribed to run:ID, opened again when it drops. */
struct live {
	struct api *a;
	struct guts_ws *ws;
	long long run_id;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const char *event_of(const json_t *m)
{
	const char *ev = json_string_value(json_object_get(m, "event"));

	return ev ? ev : "";
}

static long long jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static int live_subscribe(struct live *lv, const char *topic)
{
	json_t *m = json_pack("{s:[s]}", "subscribe", topic);
	int rc = guts_ws_send_json(lv->ws, m);

	json_decref(m);
	return rc;
}

/* Whether a "subscribed" answer lists @topic. */
static int names(const json_t *m, const char *topic)
{
	const json_t *t;
	size_t i;

	json_array_foreach(
	    json_object_get(json_object_get(m, "data"), "topics"), i, t) {
		const char *s = json_string_value(t);

		if (s && !strcmp(s, topic))
			return 1;
	}
	return 0;
}

/*
 * Open the WebSocket and subscribe to the run, waiting until the node says
 * it is subscribed: a look through the REST API afterwards then misses no
 * event.  0; a negative enum guts_err (not printed) when no connection
 * could be made; 1 (printed) when the node refused the subscription.
 */
static int live_open(struct live *lv)
{
	char topic[64];
	int rc = api_connect(lv->a);

	if (rc)
		return rc;
	rc = guts_ws_connect(&lv->ws, lv->a->url, lv->a->token, WS_CONNECT_MS);
	if (rc < 0)
		return rc;
	snprintf(topic, sizeof(topic), "run:%lld", lv->run_id);
	rc = live_subscribe(lv, topic);
	while (!rc) {
		json_t *m = NULL;
		const char *ev;
		int r = guts_ws_next(lv->ws, &m, WS_CONNECT_MS);

		if (r <= 0) {
			rc = r ? r
			       : guts_error(GUTS_EIO, "the node did not answer "
						      "the subscription");
			break;
		}
		ev = event_of(m);
		if (!strcmp(ev, "subscribed") && names(m, topic)) {
			json_decref(m);
			break;
		}
		if (!strcmp(ev, "error")) {
			const char *msg = json_string_value(json_object_get(
			    json_object_get(m, "data"), "message"));
			char *safe = guts_api_printable(msg ? msg : "refused");

			rc = cli_fail(1, "%s: %s", topic, safe);
			free(safe);
		}
		json_decref(m);
	}
	if (rc) {
		guts_ws_free(lv->ws);
		lv->ws = NULL;
	}
	return rc;
}

/* After the connection dropped: open it again, retrying for a while. */
static int live_reopen(struct live *lv)
{
	long long t0 = now_ms();
	long delay = 250;

	guts_ws_free(lv->ws);
	lv->ws = NULL;
	for (;;) {
		int rc = live_open(lv);

		if (rc >= 0)
			return rc;
		if (now_ms() - t0 > WS_RECONNECT_MS)
			return cli_fail(1, "lost the connection to %s: %s",
					lv->a->url, guts_error_message());
		sleep_ms(delay);
		delay = delay < 2000 ? delay * 2 : 2000;
	}
}

/*
 * The first connection to run @run_id's node: a node that answers the
 * upgrade with another status has no WebSocket, but a connection that
 * broke is tried again a few times before the caller gives up on it and
 * @what ("following", "watching") by polling, which is said once.
 */
static int live_first_open(struct live *lv, struct api *a, long long run_id,
			   const char *what)
{
	int rc = 0;

	lv->a = a;
	lv->run_id = run_id;
	for (int tries = 1; tries <= 3; tries++) {
		rc = live_open(lv);
		if (rc >= 0 || rc == GUTS_ENOTFOUND)
			break;
		sleep_ms(250L * tries);
	}
	if (rc < 0) {
		char *why = guts_api_printable(guts_error_message());

		fprintf(stderr,
			"guts: no WebSocket to the node (%s); %s by polling\n",
			why, what);
		free(why);
	}
	return rc;
}

static void live_close(struct live *lv)
{
	if (lv->ws)
		(void)guts_ws_close(lv->ws, 1000); /* we are done either way */
	guts_ws_free(lv->ws);
	lv->ws = NULL;
}

/* ---- logs --follow over the WebSocket ------------------------------------ */

struct follow {
	struct logs *l;
	struct live lv;
	long long id, attempt;
	json_t *jobs; /* the attempt's jobs as last heard of */
	long long *done;
	size_t nr_done, alloc_done;
	long long cur, off; /* the job being printed and its next byte */
	int resubscribed;   /* chunks past off are the old subscription's */
	int run_done, last_look, seen;
};

static int is_done(const struct follow *f, long long jid)
{
	for (size_t i = 0; i < f->nr_done; i++)
		if (f->done[i] == jid)
			return 1;
	return 0;
}

static void job_finished(struct follow *f)
{
	GUTS_ALLOC_GROW(f->done, f->nr_done + 1, f->alloc_done);
	f->done[f->nr_done++] = f->cur;
	f->cur = 0;
}

static int status_rank(const json_t *o)
{
	const char *s = json_string_value(json_object_get(o, "status"));

	if (s && !strcmp(s, "completed"))
		return 2;
	return s && !strcmp(s, "in_progress");
}

/*
 * Whether @now is no older than @was, the same job or run: an event sent
 * before a look through the REST API can arrive after it.  A job's or
 * run's next attempt is newer; within one, the status only moves forward.
 */
static int not_older(const json_t *was, const json_t *now)
{
	static const char *const keys[] = {"run_attempt", "attempt"};

	for (size_t k = 0; k < 2; k++) {
		long long a = jint(was, keys[k]), b = jint(now, keys[k]);

		if (a != b)
			return b > a;
	}
	return status_rank(now) >= status_rank(was);
}

/* Put @job into @jobs, in place of what it was unless that is newer. */
static void merge_job(json_t *jobs, json_t *job)
{
	long long id = id_of(job);
	json_t *j;
	size_t i;

	json_array_foreach(jobs, i, j) {
		if (id_of(j) == id) {
			if (not_older(j, job))
				json_array_set(jobs, i, job);
			return;
		}
	}
	json_array_append(jobs, job);
}

/* A look through the REST API: whether the run is over, then its jobs. */
static int follow_reload(struct follow *f)
{
	json_t *jobs = NULL, *j;
	size_t i;
	int done = 0;
	int rc = run_completed(f->l->a, f->id, f->attempt, &done);

	if (!rc)
		rc = get_jobs(f->l->a, f->id, f->attempt, &jobs);
	if (rc)
		return rc;
	if (done)
		f->run_done = 1;
	json_array_foreach(jobs, i, j) {
		merge_job(f->jobs, j);
	}
	json_decref(jobs);
	return 0;
}

/* The job to print next: the first by id not printed yet. */
static const json_t *follow_next_job(struct follow *f)
{
	const struct logs *l = f->l;
	const json_t *next = NULL;
	json_t **order;
	size_t n;

	if (!f->seen)
		f->l->headers = !l->job || count_matches(f->jobs, l->job) > 1;
	order = jobs_in_order(f->jobs, &n);
	for (size_t i = 0; i < n && !next; i++) {
		if (!job_matches(order[i], l->job))
			continue;
		f->seen = 1;
		if (!is_done(f, id_of(order[i])))
			next = order[i];
	}
	free(order);
	return next;
}

/* (Again) subscribe to the current job's log from the next byte. */
static int follow_subscribe_log(struct follow *f)
{
	char topic[80];

	snprintf(topic, sizeof(topic), "job:%lld:logs@%lld", f->cur, f->off);
	f->resubscribed = 1;
	return live_subscribe(&f->lv, topic);
}

/* The connection dropped: open it again and pick up where we were. */
static int follow_reopen(struct follow *f)
{
	for (int tries = 0;; tries++) {
		int rc = live_reopen(&f->lv);

		if (!rc)
			rc = follow_reload(f);
		if (rc)
			return rc;
		if (!f->cur || !follow_subscribe_log(f))
			return 0;
		if (tries == 5)
			return cli_fail(1, "%s", guts_error_message());
	}
}

static void follow_chunk(struct follow *f, const json_t *m)
{
	const json_t *d = json_object_get(m, "data");
	const char *data = json_string_value(d);
	size_t len = json_string_length(d);
	long long off = jint(m, "offset"), next = jint(m, "next");

	if (!data || off < 0 || next < off)
		return;
	if (off == f->off) {
		write_log(f->l, data, len);
		f->off = next;
		f->resubscribed = 0;
	} else if (off < f->off) {
		/* Seen already, or partly: print only the rest. */
		if (next > f->off && len == (size_t)(next - off))
			write_log(f->l, data + (f->off - off),
				  (size_t)(next - f->off));
		if (next > f->off)
			f->off = next;
	} else if (!f->resubscribed) {
		/* A gap: again from where we are (a failed send shows in
		 * the next read). */
		(void)follow_subscribe_log(f);
	}
}

/* One message from the node; 0 to go on, else the exit status (printed). */
static int follow_message(struct follow *f, const json_t *m)
{
	const char *ev = event_of(m);
	const json_t *data = json_object_get(m, "data");
	long long job = jint(m, "job");

	if (!strcmp(ev, "log") && f->cur && job == f->cur) {
		follow_chunk(f, m);
	} else if (!strcmp(ev, "log_end") && f->cur && job == f->cur) {
		if (jint(m, "offset") <= f->off)
			job_finished(f);
		else if (!f->resubscribed)
			(void)follow_subscribe_log(f);
	} else if (!strcmp(ev, "resync")) {
		if (f->cur && job == f->cur)
			(void)follow_subscribe_log(f);
		else if (json_object_get(m, "missed"))
			return follow_reload(f);
	} else if (!strncmp(ev, "workflow_job.", 13)) {
		json_t *j = json_object_get(data, "workflow_job");
		long long att = jint(j, "run_attempt");

		if (jint(j, "run_id") != f->id)
			return 0;
		if (att > f->attempt)
			f->run_done = 1;
		else if (att == f->attempt || att < 0)
			merge_job(f->jobs, j);
	} else if (!strncmp(ev, "workflow_run.", 13)) {
		const json_t *r = json_object_get(data, "workflow_run");
		const char *st =
		    json_string_value(json_object_get(r, "status"));

		if (id_of(r) != f->id)
			return 0;
		if (jint(r, "run_attempt") > f->attempt ||
		    (st && !strcmp(st, "completed")))
			f->run_done = 1;
	} else if (!strcmp(ev, "error") && f->cur) {
		const char *t =
		    json_string_value(json_object_get(data, "topic"));
		char prefix[48];
		int rc;

		snprintf(prefix, sizeof(prefix), "job:%lld:", f->cur);
		if (!t || strncmp(t, prefix, strlen(prefix)))
			return 0;
		/* The node will not stream this log: ask for it instead. */
		rc = job_log_from(f->l, f->cur, f->off);
		if (!rc)
			job_finished(f);
		return rc;
	}
	return 0;
}

/*
 * logs --follow over the WebSocket: one job after the other as before, the
 * bytes as they are written.  Falls back to polling when the node has no
 * WebSocket.
 */
static int follow_live(struct logs *l, long long id, long long attempt)
{
	struct follow f = {.l = l, .id = id};
	int rc;

	if (!attempt) {
		char *path = api_repo_path(l->a, "/runs/%lld", id);
		json_t *run = NULL;

		rc = api_call(l->a, "GET", path, NULL, &run);
		free(path);
		if (rc)
			return rc;
		attempt = jint(run, "run_attempt");
		json_decref(run);
		if (attempt < 1)
			attempt = 1;
	}
	f.attempt = attempt;
	rc = live_first_open(&f.lv, l->a, id, "following");
	if (rc < 0)
		return follow_logs(l, id, attempt);
	if (rc)
		return rc;
	f.jobs = json_array();
	rc = follow_reload(&f);
	while (!rc) {
		json_t *m = NULL;
		int r;

		if (!f.cur) {
			const json_t *next = follow_next_job(&f);

			if (next) {
				print_header(l, next);
				f.cur = id_of(next);
				f.off = 0;
				f.last_look = 0;
				if (follow_subscribe_log(&f))
					rc = follow_reopen(&f);
				continue;
			}
			/*
			 * Every job so far has ended.  Once the run has
			 * completed, look at its jobs once more (one may have
			 * been added just before), then stop.
			 */
			if (f.run_done && f.last_look)
				break;
			if (f.run_done) {
				f.last_look = 1;
				rc = follow_reload(&f);
				continue;
			}
		}
		r = guts_ws_next(f.lv.ws, &m, WS_IDLE_MS);
		if (r < 0) {
			rc = follow_reopen(&f);
		} else if (!r) {
			/* Quiet for long: make sure nothing was missed. */
			rc = follow_reload(&f);
			if (!rc && f.cur && follow_subscribe_log(&f))
				rc = follow_reopen(&f);
		} else {
			rc = follow_message(&f, m);
		}
		json_decref(m);
	}
	live_close(&f.lv);
	if (!rc && !f.seen && l->job)
		rc = cli_fail(1, "run %lld has no job '%s'", id, l->job);
	json_decref(f.jobs);
	free(f.done);
	return rc;
}

static int show_logs(struct logs *l, long long id, long long attempt)
{
	json_t *jobs = NULL, **order;
	size_t n, shown = 0;
	int rc = get_jobs(l->a, id, attempt, &jobs);

	if (rc)
		return rc;
	l->headers = !l->job || count_matches(jobs, l->job) > 1;
	order = jobs_in_order(jobs, &n);
	for (size_t i = 0; i < n && !rc; i++) {
		if (!job_matches(order[i], l->job))
			continue;
		print_header(l, order[i]);
		rc = job_log(l, id_of(order[i]));
		shown++;
	}
	free(order);
	json_decref(jobs);
	if (!rc && !shown && l->job)
		rc = cli_fail(1, "run %lld has no job '%s'", id, l->job);
	else if (!rc && !shown)
		fprintf(stderr, "Run %lld has no jobs yet.\n", id);
	return rc;
}

static int run_logs(int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"--job", "-j", 0},
					      {"--step", NULL, 0},
					      {"--attempt", NULL, 0},
					      {"--follow", "-f", 1},
					      {0}};
	const char *vals[4] = {NULL, NULL, NULL, NULL};
	struct api a;
	struct logs l = {0};
	long long id, attempt = 0;
	int rc;

	l.tty = isatty(STDOUT_FILENO);
	api_init(&a);
	rc = api_args_id(&a, argc, argv, "run logs", logs_usage, opts, vals,
			 "run", "the run ID", &id);
	if (!rc && vals[1] && (l.step = cli_positive("--step", vals[1])) < 0)
		rc = 2;
	if (!rc && vals[2] &&
	    (attempt = cli_positive("--attempt", vals[2])) < 0)
		rc = 2;
	if (rc)
		goto out;
	if (a.json) {
		rc = cli_fail(2, "run logs: logs are text; --json does not "
				 "apply");
		goto out;
	}
	l.a = &a;
	l.job = vals[0];
	l.follow = vals[3] != NULL;
	l.line_start = 1;
	/* The WebSocket has no --step: only the REST API cuts a step out. */
	if (l.follow && !l.step)
		rc = follow_live(&l, id, attempt);
	else if (l.follow)
		rc = follow_logs(&l, id, attempt);
	else
		rc = show_logs(&l, id, attempt);
out:
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

/* ---- watch --------------------------------------------------------------- */

struct watch {
	struct api *a;
	struct live lv;
	int polling; /* no WebSocket: look every FOLLOW_POLL_S */
	long long id, attempt;
	json_t *run, *jobs;
	int tty, cols;
	int drawn;	 /* on a terminal: lines drawn last time */
	int header_done; /* elsewhere: the run's line was printed */
	json_t *said;	 /* elsewhere: what was said of each, by id */
};

static int is_completed(const json_t *o)
{
	const char *s = json_string_value(json_object_get(o, "status"));

	return s && !strcmp(s, "completed");
}

/* ✓ success, ✗ failed, - skipped or cancelled, ● running, ○ waiting */
static const char *state_symbol(const json_t *o)
{
	const char *s = json_string_value(json_object_get(o, "status"));
	const char *c = json_string_value(json_object_get(o, "conclusion"));

	if (s && !strcmp(s, "completed")) {
		if (c && !strcmp(c, "success"))
			return "\u2713";
		if (c && (!strcmp(c, "skipped") || !strcmp(c, "cancelled") ||
			  !strcmp(c, "neutral")))
			return "-";
		return "\u2717";
	}
	if (s && !strcmp(s, "in_progress"))
		return "\u25cf";
	return "\u25cb";
}

/* The conclusion once completed, else the status. */
static const char *state_word(const json_t *o)
{
	const char *s = json_string_value(json_object_get(o, "status"));
	const char *c = json_string_value(json_object_get(o, "conclusion"));

	if (s && !strcmp(s, "completed") && c)
		return c;
	return s ? s : "-";
}

/* "step 2: Run tests" for the step in progress; "" when none. */
static void current_step(const json_t *job, char *buf, size_t size)
{
	const json_t *st;
	size_t i;

	*buf = '\0';
	if (is_completed(job))
		return;
	json_array_foreach(json_object_get(job, "steps"), i, st) {
		const char *s =
		    json_string_value(json_object_get(st, "status"));
		char *name;

		if (!s || strcmp(s, "in_progress"))
			continue;
		name = guts_api_printable(
		    json_string_value(json_object_get(st, "name")));
		snprintf(buf, size, "step %lld: %s", jint(st, "number"), name);
		free(name);
		return;
	}
}

struct wjob {
	json_t *job; /* borrowed */
	int depth;   /* 0 without needs, else 1 + its deepest need's */
};

static int cmp_wjob(const void *x, const void *y)
{
	const struct wjob *a = x, *b = y;

	if (a->depth != b->depth)
		return (a->depth > b->depth) - (a->depth < b->depth);
	return cmp_id(&a->job, &b->job);
}

/* The depth of a job after @key's (job_key): a need of @w deeper than it. */
static int deepen(struct wjob *v, size_t n, size_t w, const char *key)
{
	int changed = 0;

	for (size_t o = 0; key && o < n; o++) {
		const char *k =
		    json_string_value(json_object_get(v[o].job, "job_key"));

		if (k && !strcmp(k, key) && v[o].depth + 1 > v[w].depth) {
			v[w].depth = v[o].depth + 1;
			changed = 1;
		}
	}
	return changed;
}

/* The jobs by needs depth, then in the order they were made. */
static struct wjob *jobs_by_depth(const json_t *jobs, size_t *n)
{
	struct wjob *v;
	json_t *j;
	size_t i;
	int changed = 1;

	*n = json_array_size(jobs);
	v = guts_xcalloc(*n ? *n : 1, sizeof(*v));
	json_array_foreach(jobs, i, j) {
		v[i].job = j;
	}
	/* Relax until stable; a cycle (none should be) ends after n passes. */
	for (size_t pass = 0; changed && pass <= *n; pass++) {
		changed = 0;
		for (i = 0; i < *n; i++) {
			const json_t *needs =
			    json_object_get(v[i].job, "needs");
			const json_t *need;
			const char *key;
			size_t k;

			/* job_keys, or the needs context keyed by them */
			json_array_foreach(needs, k, need) {
				changed |=
				    deepen(v, *n, i, json_string_value(need));
			}
			json_object_foreach((json_t *)needs, key, need) {
				changed |= deepen(v, *n, i, key);
			}
		}
	}
	qsort(v, *n, sizeof(*v), cmp_wjob);
	return v;
}

/* The run's first line: "CI #3 (run 7): push on main". */
static char *run_title(const struct watch *w)
{
	char b1[32], b2[32], b3[32];
	char *wf =
	    guts_api_printable(jtext(w->run, "workflow_name", b1, sizeof(b1)));
	char *ev = guts_api_printable(jtext(w->run, "event", b2, sizeof(b2)));
	char *br =
	    guts_api_printable(jtext(w->run, "head_branch", b3, sizeof(b3)));
	char *num =
	    guts_api_printable(jtext(w->run, "run_number", b1, sizeof(b1)));
	char *t = guts_xasprintf("%s #%s (run %lld): %s on %s", wf, num, w->id,
				 ev, br);

	free(wf);
	free(ev);
	free(br);
	free(num);
	return t;
}

/* How many bytes of @s fit in @cols columns (UTF-8; 0: no limit). */
static int fit(const char *s, int cols)
{
	int n = 0, c = 0;

	if (cols <= 0)
		return (int)strlen(s);
	for (; s[n]; n++) {
		if (((unsigned char)s[n] & 0xc0) == 0x80)
			continue;
		if (++c > cols)
			break;
	}
	return n;
}

/*
 * One line of the view over what was there, cut to the terminal's width
 * (a line that wrapped would throw the count of lines off).  Frees @line;
 * returns 1, the lines drawn.
 */
static int draw_line(struct guts_buf *out, int cols, char *line)
{
	int n = fit(line, cols - 1);

	while (n > 0 && line[n - 1] == ' ')
		n--;
	guts_buf_addf(out, "\r\033[2K%.*s\n", n, line);
	free(line);
	return 1;
}

/* On a terminal: the whole view, drawn over the last one. */
static void watch_draw(struct watch *w)
{
	struct guts_buf out;
	struct wjob *v;
	size_t n, width = 0;
	char *title = run_title(w);
	char b[64], step[160];
	int lines = 0, depth = -1;

	guts_buf_init(&out, 0);
	if (w->drawn)
		guts_buf_addf(&out, "\033[%dA", w->drawn);
	lines +=
	    draw_line(&out, w->cols,
		      guts_xasprintf("%s  %s %s  %s", title,
				     state_symbol(w->run), state_word(w->run),
				     jduration(w->run, "started_at",
					       "completed_at", b, sizeof(b))));
	v = jobs_by_depth(w->jobs, &n);
	for (size_t i = 0; i < n; i++) {
		char *name = guts_api_printable(
		    json_string_value(json_object_get(v[i].job, "name")));

		if (strlen(name) > width)
			width = strlen(name) > 40 ? 40 : strlen(name);
		free(name);
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *j = v[i].job;
		char *name = guts_api_printable(
		    json_string_value(json_object_get(j, "name")));
		const char *d =
		    jduration(j, "started_at", "completed_at", b, sizeof(b));

		if (v[i].depth != depth) {
			lines += draw_line(&out, w->cols, guts_xstrdup(""));
			depth = v[i].depth;
		}
		current_step(j, step, sizeof(step));
		lines += draw_line(
		    &out, w->cols,
		    guts_xasprintf("  %s %-*s  %-11s %6s  %s", state_symbol(j),
				   (int)width, name, state_word(j),
				   strcmp(d, "-") ? d : "", step));
		free(name);
	}
	/* A shorter view than the last: clear what is left of that. */
	for (int i = lines; i < w->drawn; i++)
		guts_buf_adds(&out, "\r\033[2K\n");
	if (w->drawn > lines)
		guts_buf_addf(&out, "\033[%dA", w->drawn - lines);
	w->drawn = lines;
	fwrite(out.data, 1, out.len, stdout);
	fflush(stdout);
	guts_buf_release(&out);
	free(v);
	free(title);
}

/* Print "12:00:01 WHAT TEXT" when TEXT is not what was said of @key. */
static void say(struct watch *w, const char *key, const char *what,
		const char *text)
{
	const char *was = json_string_value(json_object_get(w->said, key));
	char when[16];
	struct tm tm;
	time_t now = time(NULL);

	if (was && !strcmp(was, text))
		return;
	json_object_set_new(w->said, key, json_string(text));
	if (!localtime_r(&now, &tm) ||
	    !strftime(when, sizeof(when), "%H:%M:%S", &tm))
		snprintf(when, sizeof(when), "-");
	printf("%s %s %s\n", when, what, text);
}

/* Elsewhere: a line for each job whose state changed. */
static void watch_lines(struct watch *w)
{
	struct wjob *v;
	size_t n;
	char b[64], step[160], text[320], key[32];

	if (!w->header_done) {
		char *title = run_title(w);

		printf("%s\n", title);
		free(title);
		w->header_done = 1;
	}
	if (!is_completed(w->run)) {
		snprintf(text, sizeof(text), "%s %s", state_symbol(w->run),
			 state_word(w->run));
		say(w, "run", "run", text);
	}
	v = jobs_by_depth(w->jobs, &n);
	for (size_t i = 0; i < n; i++) {
		const json_t *j = v[i].job;
		char *name = guts_api_printable(
		    json_string_value(json_object_get(j, "name")));

		current_step(j, step, sizeof(step));
		if (is_completed(j))
			snprintf(text, sizeof(text), "%s %s (%s)",
				 state_symbol(j), state_word(j),
				 jduration(j, "started_at", "completed_at", b,
					   sizeof(b)));
		else if (*step)
			snprintf(text, sizeof(text), "%s %s (%s)",
				 state_symbol(j), state_word(j), step);
		else
			snprintf(text, sizeof(text), "%s %s", state_symbol(j),
				 state_word(j));
		snprintf(key, sizeof(key), "%lld", id_of(j));
		say(w, key, name, text);
		free(name);
	}
	fflush(stdout);
	free(v);
}

static void watch_show(struct watch *w)
{
	if (w->tty)
		watch_draw(w);
	else
		watch_lines(w);
}

/* The run and the jobs of its latest attempt, through the REST API. */
static int watch_reload(struct watch *w)
{
	char *path = api_repo_path(w->a, "/runs/%lld", w->id);
	json_t *run = NULL, *jobs = NULL;
	int rc = api_call(w->a, "GET", path, NULL, &run);

	free(path);
	if (!rc)
		rc = get_jobs(
		    w->a, w->id,
		    jint(run, "run_attempt") > 0 ? jint(run, "run_attempt") : 0,
		    &jobs);
	if (rc) {
		json_decref(run);
		return rc;
	}
	json_decref(w->run);
	json_decref(w->jobs);
	w->run = run;
	w->jobs = jobs;
	w->attempt = jint(run, "run_attempt");
	return 0;
}

static int watch_message(struct watch *w, const json_t *m)
{
	const char *ev = event_of(m);
	const json_t *data = json_object_get(m, "data");

	if (!strncmp(ev, "workflow_run.", 13)) {
		json_t *r = json_object_get(data, "workflow_run");

		if (id_of(r) != w->id)
			return 0;
		if (jint(r, "run_attempt") > w->attempt)
			return watch_reload(w); /* a new attempt */
		if (!not_older(w->run, r))
			return 0;
		json_decref(w->run);
		w->run = json_incref(r);
	} else if (!strncmp(ev, "workflow_job.", 13)) {
		json_t *j = json_object_get(data, "workflow_job");
		long long att = jint(j, "run_attempt");

		if (jint(j, "run_id") != w->id)
			return 0;
		if (att > w->attempt)
			return watch_reload(w);
		if (att == w->attempt || att < 0)
			merge_job(w->jobs, j);
	} else if (!strcmp(ev, "resync") && json_object_get(m, "missed")) {
		return watch_reload(w);
	}
	return 0;
}

static int run_watch(int argc, char **argv)
{
	struct api a;
	struct watch w = {0};
	long long id;
	int rc;

	api_init(&a);
	rc = api_args_id(&a, argc, argv, "run watch", watch_usage, NULL, NULL,
			 "run", "the run ID", &id);
	if (!rc && a.json)
		rc = cli_fail(2, "run watch: --json does not apply");
	if (rc)
		goto out;
	w.a = &a;
	w.id = id;
	w.tty = isatty(STDOUT_FILENO);
	w.said = json_object();
	if (w.tty) {
		struct winsize ws;

		if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col > 1)
			w.cols = ws.ws_col;
	}
	rc = live_first_open(&w.lv, &a, id, "watching");
	if (rc < 0) {
		w.polling = 1;
		rc = 0;
	}
	if (!rc)
		rc = watch_reload(&w);
	if (!rc)
		watch_show(&w);
	while (!rc && !is_completed(w.run)) {
		json_t *m = NULL;
		int r;

		if (w.polling) {
			sleep(FOLLOW_POLL_S);
			rc = watch_reload(&w);
		} else if ((r = guts_ws_next(w.lv.ws, &m,
					     w.tty ? 1000 : WS_IDLE_MS)) < 0) {
			rc = live_reopen(&w.lv);
			if (!rc)
				rc = watch_reload(&w);
		} else if (!r) {
			/* On a terminal the clock ticks; else look again. */
			if (!w.tty)
				rc = watch_reload(&w);
		} else {
			rc = watch_message(&w, m);
		}
		json_decref(m);
		/* The last look is the REST API's, with every job's end. */
		if (!rc && is_completed(w.run))
			rc = watch_reload(&w);
		if (!rc)
			watch_show(&w);
	}
	live_close(&w.lv);
	if (!rc) {
		const char *c =
		    json_string_value(json_object_get(w.run, "conclusion"));
		char *safe = guts_api_printable(c ? c : "unknown");

		printf("Run %lld completed: %s\n", id, safe);
		free(safe);
		rc = c && !strcmp(c, "success") ? 0 : 1;
	}
out:
	json_decref(w.run);
	json_decref(w.jobs);
	json_decref(w.said);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

/* ---- cancel and rerun ---------------------------------------------------- */

static int run_cancel(int argc, char **argv)
{
	struct api a;
	long long id;
	json_t *body = json_object(), *out = NULL;
	char *path = NULL;
	int rc;

	api_init(&a);
	rc = api_args_id(&a, argc, argv, "run cancel", cancel_usage, NULL, NULL,
			 "run", "the run ID", &id);
	if (rc)
		goto out;
	path = api_repo_path(&a, "/runs/%lld/cancel", id);
	rc = api_call(&a, "POST", path, body, &out);
	if (rc)
		goto out;
	if (!a.json)
		printf("Cancelling run %lld\n", id);
	else if (out)
		api_print_json(out);
out:
	free(path);
	json_decref(body);
	json_decref(out);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

static int run_rerun(int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"--failed", NULL, 1}, {0}};
	const char *vals[1] = {NULL};
	struct api a;
	long long id;
	json_t *body = NULL, *run = NULL;
	char *path = NULL;
	int rc;

	api_init(&a);
	rc = api_args_id(&a, argc, argv, "run rerun", rerun_usage, opts, vals,
			 "run", "the run ID", &id);
	if (rc)
		goto out;
	body = json_pack("{s:b}", "failed_only", vals[0] != NULL);
	path = api_repo_path(&a, "/runs/%lld/rerun", id);
	rc = api_call(&a, "POST", path, body, &run);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(run);
	} else {
		char b[32];
		char *att =
		    guts_api_printable(jtext(run, "run_attempt", b, sizeof(b)));

		printf("Rerunning run %lld as attempt %s%s\n", id,
		       *att ? att : "?", vals[0] ? " (failed jobs only)" : "");
		printf("  guts run logs %lld -R %s --follow\n", id, a.repo);
		free(att);
	}
out:
	free(path);
	json_decref(body);
	json_decref(run);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

int cmd_run(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} subs[] = {{"list", run_list},	    {"view", run_view},
		    {"logs", run_logs},	    {"watch", run_watch},
		    {"cancel", run_cancel}, {"rerun", run_rerun}};

	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(run_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	return cli_fail(2, "run: unknown command '%s' (see 'guts run --help')",
			argv[1]);
}
