/*
 * guts run: a repository's runs on a node.
 *
 *   guts run list [--workflow W] [--branch B] [--status S] [--event E]
 *                 [--limit N]
 *   guts run view ID [--attempt N]
 *   guts run logs ID [--job J] [--step N] [--attempt N] [--follow]
 *   guts run cancel ID
 *   guts run rerun ID [--failed]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/apiutil.h"
#include "guts/buf.h"
#include "api.h"
#include "commands.h"
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
    "  -f, --follow       wait for new lines until the run completes\n"
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

/*
 * Print the log of job @id from its start: what there is, or with
 * l->follow until the job completes and every byte has been printed.
 */
static int job_log(struct logs *l, long long id)
{
	long long off = 0;
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
		if (len && l->tty) {
			struct guts_buf safe;

			guts_buf_init(&safe, 0);
			guts_term_filter(&l->filter, r.body.data, len, &safe);
			fwrite(safe.data, 1, safe.len, stdout);
			guts_buf_release(&safe);
		} else if (len) {
			fwrite(r.body.data, 1, len, stdout);
		}
		if (len) {
			fflush(stdout);
			l->line_start = r.body.data[len - 1] == '\n';
		}
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
	rc = l.follow ? follow_logs(&l, id, attempt)
		      : show_logs(&l, id, attempt);
out:
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
	} subs[] = {{"list", run_list},
		    {"view", run_view},
		    {"logs", run_logs},
		    {"cancel", run_cancel},
		    {"rerun", run_rerun}};

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
