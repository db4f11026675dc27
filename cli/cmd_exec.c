/*
 * guts exec: run a repository's workflow on this machine, with no server,
 * each job in its own sandbox.
 *
 *   guts exec [--workflow FILE] [--job ID]... [--event NAME]
 *             [--event-file JSON] [--input K=V]... [--secret K=V]...
 *             [--secret-file F] [--env-file F] [--var K=V]...
 *             [--parallel N] [--no-sandbox] [--json] [--matrix K:V]...
 *
 * Exit status: 0 when the run concludes success, 1 when it fails or is
 * cancelled, 2 for a usage error or an invalid workflow.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/builtin.h"
#include "guts/diag.h"
#include "guts/dotenv.h"
#include "guts/error.h"
#include "guts/exec.h"
#include "guts/fs.h"
#include "guts/json.h"
#include "guts/localrun.h"
#include "guts/runcmd.h"
#include "guts/strvec.h"
#include "guts/trigger.h"
#include "guts/workflow.h"
#include "commands.h"
#include "banned.h"

static const char exec_usage[] =
    "usage: guts exec [--workflow FILE] [--job ID]... [--event NAME]\n"
    "                 [--event-file JSON] [--input K=V]... [--secret K=V]...\n"
    "                 [--secret-file F] [--env-file F] [--var K=V]...\n"
    "                 [--parallel N] [--no-sandbox] [--json]\n"
    "\n"
    "Run a workflow of the repository around the current directory, at\n"
    "HEAD, on this machine.  Each job runs in its own sandbox (bubblewrap)\n"
    "and workspace.  Exits 0 when the run succeeds, 1 when it fails or is\n"
    "cancelled, 2 on a usage error or an invalid workflow.\n"
    "\n"
    "  --workflow FILE   the workflow (default: the only one in\n"
    "                    .guts/workflows or .github/workflows)\n"
    "  --job ID          run this job and the jobs it needs (repeatable)\n"
    "  --event NAME      the triggering event (default: push)\n"
    "  --event-file F    the event payload (github.event), JSON\n"
    "  --input K=V       a workflow_dispatch/workflow_call input\n"
    "  --secret K=V      a secret (repeatable); masked in the output\n"
    "  --secret-file F   secrets from KEY=VALUE lines (dotenv syntax)\n"
    "  --env-file F      variables for the env context (dotenv syntax)\n"
    "  --var K=V         a configuration variable (vars context)\n"
    "  --matrix K:V      run only the matrix legs where K is V\n"
    "  --parallel N      jobs at once (default: the number of CPUs)\n"
    "  --no-sandbox      run jobs without bubblewrap (process groups and\n"
    "                    limits only)\n"
    "  --json            print a JSON summary as the last line of stdout\n";

struct exec_args {
	const char *workflow;
	struct guts_strvec jobs;
	const char *event;
	const char *event_file;
	json_t *inputs, *secrets, *env, *vars, *matrix;
	size_t parallel;
	int no_sandbox;
	int json;
};

/* ---- arguments --------------------------------------------------------- */

static int split_kv(const char *arg, char sep, const char *opt, json_t *obj)
{
	const char *eq = strchr(arg, sep);
	char *k;

	if (!eq || eq == arg)
		return cli_fail(2, "%s wants KEY%cVALUE, got '%s'", opt, sep,
				arg);
	k = guts_xstrndup(arg, (size_t)(eq - arg));
	if (sep == ':') {
		json_t *a = json_object_get(obj, k);

		if (!a) {
			a = json_array();
			json_object_set_new(obj, k, a);
		}
		json_array_append_new(a, json_string(eq + 1));
	} else {
		json_object_set_new(obj, k, json_string(eq + 1));
	}
	free(k);
	return 0;
}

static int dotenv_set(const char *key, const char *value, size_t len, void *ud)
{
	json_object_set_new(ud, key, json_stringn(value, len));
	return 0;
}

static int read_dotenv(const char *path, const char *opt, json_t *obj)
{
	char *text;
	size_t len;

	if (guts_fs_read_all(&text, &len, path, 16 * 1024 * 1024) < 0)
		return cli_fail(2, "%s %s: %s", opt, path,
				guts_error_message());
	if (guts_dotenv_parse(text, len, dotenv_set, obj) < 0) {
		free(text);
		return cli_fail(2, "%s: %s", path, guts_error_message());
	}
	free(text);
	return 0;
}

static int parse_args(struct exec_args *a, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int r = 0;

		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			fputs(exec_usage, stdout);
			return 1;
		} else if (!strcmp(o, "--no-sandbox")) {
			a->no_sandbox = 1;
			continue;
		} else if (!strcmp(o, "--json")) {
			a->json = 1;
			continue;
		}
		if (!v) {
			cli_fail(2, "%s: unknown option or missing value\n%s",
				 o, exec_usage);
			return 2;
		}
		i++;
		if (!strcmp(o, "--workflow"))
			a->workflow = v;
		else if (!strcmp(o, "--job"))
			guts_strvec_push(&a->jobs, v);
		else if (!strcmp(o, "--event"))
			a->event = v;
		else if (!strcmp(o, "--event-file"))
			a->event_file = v;
		else if (!strcmp(o, "--input"))
			r = split_kv(v, '=', o, a->inputs);
		else if (!strcmp(o, "--secret"))
			r = split_kv(v, '=', o, a->secrets);
		else if (!strcmp(o, "--var"))
			r = split_kv(v, '=', o, a->vars);
		else if (!strcmp(o, "--matrix"))
			r = split_kv(v, ':', o, a->matrix);
		else if (!strcmp(o, "--secret-file"))
			r = read_dotenv(v, o, a->secrets);
		else if (!strcmp(o, "--env-file"))
			r = read_dotenv(v, o, a->env);
		else if (!strcmp(o, "--parallel")) {
			char *end;
			long n = strtol(v, &end, 10);

			if (*end || n < 1 || n > 1024)
				return cli_fail(2,
						"--parallel wants a number "
						"from 1 to 1024, got '%s'",
						v);
			a->parallel = (size_t)n;
		} else {
			cli_fail(2, "unknown option '%s'\n%s", o, exec_usage);
			return 2;
		}
		if (r)
			return r;
	}
	return 0;
}

/* ---- the repository ---------------------------------------------------- */

struct repo {
	char *root; /* the work tree, or the current directory */
	int is_git;
	char *sha, *ref, *branch, *name, *owner, *subject;
	int dirty;
};

static char *git(const char *cwd, const char *const *args)
{
	const char *argv[16];
	size_t n = 0;

	argv[n++] = "git";
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	return guts_runcmd_line(argv, cwd);
}

static void make_lossy(char **p)
{
	char *l;

	if (!*p)
		return;
	l = guts_utf8_lossy(*p);
	free(*p);
	*p = l;
}

/* owner/name from a remote URL: .../owner/name(.git) or host:owner/name. */
static void repo_name_from_url(struct repo *r, const char *url)
{
	char *u = guts_xstrdup(url);
	size_t len = strlen(u);
	char *name, *owner;

	if (len > 4 && !strcmp(u + len - 4, ".git"))
		u[len - 4] = 0;
	while ((len = strlen(u)) && u[len - 1] == '/')
		u[len - 1] = 0;
	name = strrchr(u, '/');
	if (name) {
		*name++ = 0;
		owner = strrchr(u, '/');
		owner = owner ? owner + 1 : strrchr(u, ':');
		if (owner && *owner == ':')
			owner++;
		if (owner && *owner && *name) {
			r->owner = guts_xstrdup(owner);
			r->name = guts_xstrdup(name);
		}
	}
	free(u);
}

static void find_repo(struct repo *r)
{
	static const char *const top[] = {"rev-parse", "--show-toplevel", NULL};
	static const char *const head[] = {"rev-parse", "HEAD", NULL};
	static const char *const sym[] = {"symbolic-ref", "-q", "HEAD", NULL};
	static const char *const url[] = {"remote", "get-url", "origin", NULL};
	static const char *const subj[] = {"log", "-1", "--format=%s", NULL};
	static const char *const st[] = {"status", "--porcelain",
					 "--untracked-files=no", NULL};
	char cwd[4096];
	char *s;

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), ".");
	r->root = git(cwd, top);
	r->is_git = r->root != NULL;
	if (!r->root)
		r->root = guts_xstrdup(cwd);
	if (r->is_git) {
		r->sha = git(r->root, head);
		r->ref = git(r->root, sym);
		r->subject = git(r->root, subj);
		s = git(r->root, st);
		r->dirty = s && *s;
		free(s);
		s = git(r->root, url);
		if (s)
			repo_name_from_url(r, s);
		free(s);
	}
	if (!r->sha)
		r->sha =
		    guts_xstrdup("0000000000000000000000000000000000000000");
	if (!r->ref)
		r->ref = guts_xstrdup("refs/heads/main");
	r->branch = guts_xstrdup(
	    strncmp(r->ref, "refs/heads/", 11) ? r->ref : r->ref + 11);
	if (!r->name) {
		const char *base = strrchr(r->root, '/');

		r->owner = guts_xstrdup("local");
		r->name = guts_xstrdup(base && base[1] ? base + 1 : "repo");
	}
	make_lossy(&r->owner);
	make_lossy(&r->name);
	make_lossy(&r->ref);
	make_lossy(&r->branch);
	make_lossy(&r->subject);
}

static void repo_release(struct repo *r)
{
	free(r->root);
	free(r->sha);
	free(r->ref);
	free(r->branch);
	free(r->name);
	free(r->owner);
	free(r->subject);
}

/* ---- the workflow ------------------------------------------------------ */

static int is_yaml(const char *name)
{
	size_t n = strlen(name);

	return (n > 4 && !strcmp(name + n - 4, ".yml")) ||
	       (n > 5 && !strcmp(name + n - 5, ".yaml"));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The only workflow of the repository, or a list and exit status 2. */
static char *find_workflow(const struct repo *r)
{
	static const char *const dirs[] = {".guts/workflows",
					   ".github/workflows"};
	struct guts_strvec found;
	char *only = NULL;

	guts_strvec_init(&found);
	for (size_t d = 0; d < 2 && !found.nr; d++) {
		char *dir = guts_xasprintf("%s/%s", r->root, dirs[d]);
		DIR *dp = opendir(dir);
		struct dirent *e;

		while (dp && (e = readdir(dp)))
			if (e->d_name[0] != '.' && is_yaml(e->d_name))
				guts_strvec_pushf(&found, "%s/%s", dir,
						  e->d_name);
		if (dp)
			closedir(dp);
		free(dir);
	}
	if (found.nr == 1) {
		only = guts_xstrdup(found.v[0]);
	} else if (!found.nr) {
		cli_fail(2,
			 "no workflow in %s/.guts/workflows or "
			 "%s/.github/workflows; name one with --workflow",
			 r->root, r->root);
	} else {
		qsort(found.v, found.nr, sizeof(*found.v), cmp_str);
		cli_fail(
		    2, "%zu workflows; choose one with --workflow:", found.nr);
		for (size_t i = 0; i < found.nr; i++)
			fprintf(stderr, "  %s\n", found.v[i]);
	}
	guts_strvec_release(&found);
	return only;
}

/* ---- contexts ---------------------------------------------------------- */

static json_t *make_github(const struct exec_args *a, const struct repo *r,
			   const struct guts_workflow *wf, json_t *event,
			   const char *run_id)
{
	char *full = guts_xasprintf("%s/%s", r->owner, r->name);
	char *user_l =
	    guts_utf8_lossy(getenv("USER") ? getenv("USER") : "guts");
	const char *user = user_l;
	const char *ref = r->ref;
	json_t *gh, *pr = json_object_get(event, "pull_request");
	const char *head_ref = "", *base_ref = "";
	char *pr_ref = NULL;

	if (json_is_object(pr)) {
		json_int_t num =
		    json_integer_value(json_object_get(pr, "number"));
		const char *h = json_string_value(
		    json_object_get(json_object_get(pr, "head"), "ref"));
		const char *b = json_string_value(
		    json_object_get(json_object_get(pr, "base"), "ref"));

		head_ref = h ? h : "";
		base_ref = b ? b : "";
		pr_ref = guts_xasprintf("refs/pull/%lld/merge", (long long)num);
		ref = pr_ref;
	} else if (json_is_string(json_object_get(event, "ref"))) {
		ref = json_string_value(json_object_get(event, "ref"));
	}
	gh = json_pack(
	    "{s:s, s:O, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i}",
	    "event_name", a->event, "event", event, "sha", r->sha, "ref", ref,
	    "ref_name",
	    !strncmp(ref, "refs/heads/", 11)  ? ref + 11
	    : !strncmp(ref, "refs/tags/", 10) ? ref + 10
	    : !strncmp(ref, "refs/", 5)	      ? ref + 5
					      : ref,
	    "ref_type", !strncmp(ref, "refs/tags/", 10) ? "tag" : "branch",
	    "head_ref", head_ref, "base_ref", base_ref, "repository", full,
	    "repository_owner", r->owner, "actor", user ? user : "guts",
	    "triggering_actor", user ? user : "guts", "workflow",
	    wf->name ? wf->name : wf->path, "run_id", run_id, "run_number", "1",
	    "run_attempt", "1", "server_url", "http://localhost", "api_url",
	    "http://localhost/api", "graphql_url",
	    "http://localhost/api/graphql", "token", "", "retention_days", 90);
	free(user_l);
	if (!gh)
		gh = json_object(); /* only a bad event payload gets here */
	json_object_set_new(gh, "repositoryUrl",
			    json_string(r->is_git ? r->root : ""));
	free(pr_ref);
	free(full);
	return gh;
}

static json_t *default_event(const char *event, const struct repo *r)
{
	char *full = guts_xasprintf("%s/%s", r->owner, r->name);
	json_t *repo = json_pack("{s:s, s:s, s:{s:s}, s:s}", "full_name", full,
				 "name", r->name, "owner", "login", r->owner,
				 "default_branch", r->branch);
	json_t *ev = json_object();

	json_object_set_new(ev, "repository", repo);
	if (!strcmp(event, "push")) {
		json_object_set_new(ev, "ref", json_string(r->ref));
		json_object_set_new(ev, "after", json_string(r->sha));
		json_object_set_new(
		    ev, "before",
		    json_string("0000000000000000000000000000000000000000"));
		json_object_set_new(ev, "head_commit",
				    json_pack("{s:s, s:s}", "id", r->sha,
					      "message",
					      r->subject ? r->subject : ""));
	}
	free(full);
	return ev;
}

/* Inputs: the event's, then --input, resolved against the definitions. */
static json_t *resolve_inputs(const struct guts_workflow *wf, const char *event,
			      json_t *given)
{
	const struct guts_wf_trigger *t = guts_workflow_trigger(wf, event);
	json_t *out = NULL;

	if (!t || !t->nr_inputs)
		return json_deep_copy(given);
	if (guts_trigger_resolve_inputs(&out, t->inputs, t->nr_inputs, given) ==
	    0) {
		/* Inputs that are not declared still reach the event. */
		json_object_update_missing(out, given);
		return out;
	}
	fprintf(stderr, "guts: warning: inputs: %s\n", guts_error_message());
	out = json_deep_copy(given);
	for (size_t i = 0; i < t->nr_inputs; i++) {
		const struct guts_wf_input *in = &t->inputs[i];

		if (json_object_get(out, in->name))
			continue;
		if (in->default_value)
			json_object_set(out, in->name, in->default_value);
		else if (in->type == GUTS_WF_INPUT_BOOLEAN)
			json_object_set_new(out, in->name, json_false());
		else
			json_object_set_new(out, in->name, json_string(""));
	}
	return out;
}

/* ---- live output ------------------------------------------------------- */

struct printer {
	pthread_mutex_t lock;
	int color;
	int json;
	size_t width; /* of the job column */
	struct guts_buf out;
	json_t *groups; /* job key -> depth of open groups */
};

#define C(p, code) ((p)->color ? "\033[" code "m" : "")

static void print_event(void *ud, const struct guts_log_event *ev)
{
	struct printer *p = ud;
	struct guts_buf *b = &p->out;
	json_t *g;
	int depth;
	const char *mark = "", *color = "";

	pthread_mutex_lock(&p->lock);
	g = json_object_get(p->groups, ev->job_key);
	depth = g ? (int)json_integer_value(g) : 0;
	guts_buf_reset(b);
	guts_buf_addf(b, "%s[%s]%s ", C(p, "36"), ev->job_key, C(p, "0"));
	switch (ev->kind) {
	case GUTS_LOG_STEP_START:
		mark = "\xe2\x96\xb6 "; /* ▶ */
		color = C(p, "1");
		depth = 0;
		json_object_set_new(p->groups, ev->job_key, json_integer(0));
		break;
	case GUTS_LOG_STEP_END:
		if (ev->len == 7 && !memcmp(ev->text, "success", 7))
			mark = "\xe2\x9c\x93 ", color = C(p, "32"); /* ✓ */
		else if (ev->len == 7 && !memcmp(ev->text, "skipped", 7))
			mark = "- ", color = C(p, "2");
		else
			mark = "\xe2\x9c\x97 ", color = C(p, "31"); /* ✗ */
		break;
	case GUTS_LOG_GROUP:
		mark = "\xe2\x96\xbc "; /* ▼ */
		color = C(p, "1");
		break;
	case GUTS_LOG_ENDGROUP:
		if (depth > 0)
			json_object_set_new(p->groups, ev->job_key,
					    json_integer(depth - 1));
		pthread_mutex_unlock(&p->lock);
		return;
	case GUTS_LOG_ERROR:
		mark = "Error: ", color = C(p, "31");
		break;
	case GUTS_LOG_WARNING:
		mark = "Warning: ", color = C(p, "33");
		break;
	case GUTS_LOG_NOTICE:
		mark = "Notice: ", color = C(p, "36");
		break;
	case GUTS_LOG_DEBUG:
		mark = "Debug: ", color = C(p, "2");
		break;
	case GUTS_LOG_INFO:
		color = C(p, "2");
		break;
	case GUTS_LOG_OUTPUT:
		break;
	}
	for (int i = 0; i < depth; i++)
		guts_buf_adds(b, "  ");
	guts_buf_adds(b, color);
	guts_buf_adds(b, mark);
	if (ev->ann && ev->ann->file) {
		guts_buf_addf(b, "%s", ev->ann->file);
		if (ev->ann->line)
			guts_buf_addf(b, ":%u", ev->ann->line);
		if (ev->ann->col)
			guts_buf_addf(b, ":%u", ev->ann->col);
		guts_buf_adds(b, ": ");
	}
	if (ev->ann && ev->ann->title)
		guts_buf_addf(b, "%s: ", ev->ann->title);
	if (ev->kind == GUTS_LOG_STEP_END && ev->step_name)
		guts_buf_addf(b, "%s (%.*s)", ev->step_name, (int)ev->len,
			      ev->text);
	else
		guts_buf_add(b, ev->text, ev->len);
	if (*color)
		guts_buf_adds(b, C(p, "0"));
	guts_buf_addch(b, '\n');
	fwrite(b->data, 1, b->len, stdout);
	if (ev->kind == GUTS_LOG_GROUP)
		json_object_set_new(p->groups, ev->job_key,
				    json_integer(depth + 1));
	pthread_mutex_unlock(&p->lock);
}

static void on_job(void *ud, const struct guts_local_job *job, int ended)
{
	struct printer *p = ud;

	pthread_mutex_lock(&p->lock);
	if (!ended)
		printf("%s[%s]%s %sJob started%s\n", C(p, "36"), job->name,
		       C(p, "0"), C(p, "1"), C(p, "0"));
	else if (job->reason)
		printf("%s[%s]%s %s%s%s\n", C(p, "36"), job->name, C(p, "0"),
		       C(p, "31"), job->reason, C(p, "0"));
	else if (job->result.reason)
		printf("%s[%s]%s %s%s%s\n", C(p, "36"), job->name, C(p, "0"),
		       C(p, "31"), job->result.reason, C(p, "0"));
	if (ended)
		printf("%s[%s]%s Job %s\n", C(p, "36"), job->name, C(p, "0"),
		       guts_conclusion_name(job->conclusion));
	fflush(stdout);
	pthread_mutex_unlock(&p->lock);
}

static void print_table(struct printer *p, const struct guts_local_run *run)
{
	size_t w = 3;

	for (size_t i = 0; i < run->nr_jobs; i++)
		if (strlen(run->jobs[i].name) > w)
			w = strlen(run->jobs[i].name);
	printf("\n%-*s  %-10s  %s\n", (int)w, "JOB", "CONCLUSION", "DURATION");
	for (size_t i = 0; i < run->nr_jobs; i++) {
		const struct guts_local_job *j = &run->jobs[i];
		const char *c = j->conclusion == GUTS_SUCCESS	? "32"
				: j->conclusion == GUTS_SKIPPED ? "2"
								: "31";

		printf("%-*s  %s%s%s%-10s%s  %.1fs\n", (int)w, j->name,
		       p->color ? "\033[" : "", p->color ? c : "",
		       p->color ? "m" : "", guts_conclusion_name(j->conclusion),
		       C(p, "0"), j->result.seconds);
	}
	printf("\nRun %s\n", guts_conclusion_name(run->conclusion));
}

static void print_json(const struct guts_local_run *run)
{
	json_t *jobs = json_array();
	json_t *o;
	char *s;

	for (size_t i = 0; i < run->nr_jobs; i++) {
		const struct guts_local_job *j = &run->jobs[i];
		json_t *steps = json_array();

		for (size_t k = 0; k < j->result.nr_steps; k++) {
			const struct guts_step_result *st = &j->result.steps[k];

			json_array_append_new(
			    steps,
			    json_pack("{s:s, s:s, s:s, s:s}", "id", st->id,
				      "name", st->name, "outcome",
				      guts_conclusion_name(st->outcome),
				      "conclusion",
				      guts_conclusion_name(st->conclusion)));
		}
		json_array_append_new(
		    jobs,
		    json_pack("{s:s, s:s, s:O, s:s, s:o, s:o, s:f}", "id",
			      j->id, "name", j->name, "matrix",
			      j->matrix ? j->matrix : json_null(), "conclusion",
			      guts_conclusion_name(j->conclusion), "outputs",
			      j->result.outputs ? json_incref(j->result.outputs)
						: json_object(),
			      "steps", steps, "seconds", j->result.seconds));
	}
	o = json_pack("{s:s, s:o}", "conclusion",
		      guts_conclusion_name(run->conclusion), "jobs", jobs);
	s = json_dumps(o, JSON_COMPACT);
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

/* ---- signals ----------------------------------------------------------- */

static struct guts_cancel *run_cancel;
static volatile sig_atomic_t signals_seen;

/*
 * The first SIGINT/SIGTERM cancels the run (always() steps still run);
 * a second one stops guts exec at once: each job's sandbox agent sees its
 * executor go and kills what the job runs.
 */
static void on_signal(int sig)
{
	if (signals_seen++) {
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(sig, &dfl, NULL);
		raise(sig);
		return;
	}
	if (run_cancel)
		guts_cancel_trigger(run_cancel);
}

static void remove_tree(const char *path)
{
	if (guts_remove_tree(path) < 0)
		cli_fail(1, "%s", guts_error_message());
}

static char *cache_dir(void)
{
	const char *x = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (x && *x == '/')
		return guts_xasprintf("%s/guts", x);
	if (home && *home == '/')
		return guts_xasprintf("%s/.cache/guts", home);
	return guts_xasprintf("/tmp/guts-cache-%d", (int)getuid());
}

int cmd_exec(int argc, char **argv)
{
	struct exec_args a = {0};
	struct repo repo = {0};
	struct guts_workflow *wf = NULL;
	struct guts_workflow_opts wo = {0};
	struct guts_diags diags;
	struct guts_local_run_spec spec = {0};
	struct guts_local_run run = {0};
	struct guts_artifact_store *store = NULL;
	struct printer pr;
	struct sigaction sa;
	json_t *event = NULL, *github = NULL, *inputs = NULL, *given = NULL;
	char *wfpath = NULL, *cache = NULL, *run_dir = NULL, *event_path = NULL;
	char *store_dir = NULL, *run_id = NULL, *scope = NULL;
	int status = 2, ret;

	guts_strvec_init(&a.jobs);
	a.event = "push";
	a.inputs = json_object();
	a.secrets = json_object();
	a.env = json_object();
	a.vars = json_object();
	a.matrix = json_object();
	ret = parse_args(&a, argc, argv);
	if (ret) {
		status = ret == 1 ? 0 : ret;
		goto out;
	}
	find_repo(&repo);
	wfpath = a.workflow ? guts_xstrdup(a.workflow) : find_workflow(&repo);
	if (!wfpath)
		goto out;

	guts_diags_init(&diags, wfpath);
	wo.read_reusable = guts_local_read_reusable;
	wo.read_ud = repo.root;
	ret = guts_workflow_load(&wf, wfpath, &wo, &diags);
	if (diags.nr) {
		struct guts_buf b;

		guts_buf_init(&b, 0);
		guts_diags_sort(&diags);
		guts_diags_format(&diags, &b);
		fputs(b.data, stderr);
		guts_buf_release(&b);
	}
	guts_diags_release(&diags);
	if (ret < 0) {
		if (!diags.errors)
			cli_fail(2, "%s: %s", wfpath, guts_error_message());
		goto out;
	}

	/* The event and its inputs. */
	if (a.event_file) {
		char *text;
		size_t len;

		if (guts_fs_read_all(&text, &len, a.event_file,
				     16 * 1024 * 1024) < 0) {
			cli_fail(2, "--event-file %s: %s", a.event_file,
				 guts_error_message());
			goto out;
		}
		ret = guts_json_parse(&event, text, len);
		free(text);
		if (ret < 0 || !json_is_object(event)) {
			cli_fail(2, "--event-file %s: %s", a.event_file,
				 ret < 0 ? guts_error_message()
					 : "not a JSON object");
			goto out;
		}
	} else {
		event = default_event(a.event, &repo);
	}
	given = json_is_object(json_object_get(event, "inputs"))
		    ? json_deep_copy(json_object_get(event, "inputs"))
		    : json_object();
	json_object_update(given, a.inputs);
	inputs = resolve_inputs(wf, a.event, given);
	if (json_object_size(given) || !strcmp(a.event, "workflow_dispatch"))
		json_object_set(event, "inputs", given);

	/* Where the run lives: the user's cache directory. */
	cache = cache_dir();
	run_id = guts_xasprintf("%lld%05d", (long long)time(NULL) % 100000000,
				(int)getpid() % 100000);
	run_dir = guts_xasprintf("%s/runs/%s", cache, run_id);
	store_dir = guts_xasprintf("%s/store", cache);
	if (guts_fs_mkdirs(run_dir, 0755) < 0) {
		cli_fail(1, "%s", guts_error_message());
		status = 1;
		goto out;
	}
	event_path = guts_xasprintf("%s/event.json", run_dir);
	{
		char *s = json_dumps(event, JSON_INDENT(2));

		ret = guts_fs_write_atomic(event_path, s, strlen(s), 0644);
		free(s);
		if (ret < 0) {
			cli_fail(1, "%s", guts_error_message());
			status = 1;
			goto out;
		}
	}
	if (guts_local_store_open(&store, store_dir) < 0) {
		cli_fail(1, "store %s: %s", store_dir, guts_error_message());
		status = 1;
		goto out;
	}
	github = make_github(&a, &repo, wf, event, run_id);
	scope = guts_xasprintf("%s/%s@%s", repo.owner, repo.name, repo.branch);

	memset(&pr, 0, sizeof(pr));
	pthread_mutex_init(&pr.lock, NULL);
	pr.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	pr.json = a.json;
	pr.groups = json_object();
	guts_buf_init(&pr.out, 0);

	run_cancel = guts_cancel_new();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (repo.is_git && repo.dirty)
		fprintf(stderr,
			"guts: note: the work tree has uncommitted changes; "
			"checkout builds HEAD (%.12s)\n",
			repo.sha);

	spec.wf = wf;
	spec.only = (const char *const *)a.jobs.v;
	spec.nr_only = a.jobs.nr;
	spec.github = github;
	spec.inputs = inputs;
	spec.vars = a.vars;
	spec.secrets = a.secrets;
	spec.base_env = a.env;
	spec.run_dir = run_dir;
	spec.parallel = a.parallel;
	spec.isolate = !a.no_sandbox;
	spec.agent_path = NULL; /* this very program: /proc/self/exe */
	spec.repo_source = repo.root;
	spec.repo_is_git = repo.is_git;
	spec.run_id = run_id;
	spec.cache_scope = scope;
	spec.store = store;
	spec.host_env = guts_host_env;
	spec.matrix_filter = json_object_size(a.matrix) ? a.matrix : NULL;
	spec.sink.event = print_event;
	spec.sink.ud = &pr;
	spec.cancel = run_cancel;
	spec.on_job = on_job;
	spec.on_job_ud = &pr;
	if (a.no_sandbox)
		fprintf(stderr, "guts: --no-sandbox: jobs run without a "
				"sandbox, with process groups and limits "
				"only\n");
	ret = guts_local_run(&spec, &run);
	if (ret < 0) {
		cli_fail(2, "%s", guts_error_message());
		status = 2;
	} else {
		print_table(&pr, &run);
		if (a.json)
			print_json(&run);
		status = run.conclusion == GUTS_SUCCESS ? 0 : 1;
	}
	fflush(stdout);
	guts_local_run_release(&run);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	guts_cancel_free(run_cancel);
	run_cancel = NULL;
	json_decref(pr.groups);
	guts_buf_release(&pr.out);
	pthread_mutex_destroy(&pr.lock);
	if (!getenv("GUTS_EXEC_KEEP"))
		remove_tree(run_dir);
out:
	guts_artifact_store_free(store);
	guts_workflow_free(wf);
	repo_release(&repo);
	guts_strvec_release(&a.jobs);
	json_decref(a.inputs);
	json_decref(a.secrets);
	json_decref(a.env);
	json_decref(a.vars);
	json_decref(a.matrix);
	json_decref(event);
	json_decref(github);
	json_decref(inputs);
	json_decref(given);
	free(wfpath);
	free(cache);
	free(run_dir);
	free(event_path);
	free(store_dir);
	free(run_id);
	free(scope);
	return status;
}
