/*
 * The job executor: sets up a job's directories, sandbox, contexts and
 * environment layers, runs its steps (step.c), its post steps
 * (actions.c), computes its outputs, and tears everything down so that no
 * process of the job is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exec/exec_internal.h"
#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/expr.h"
#include "guts/fs.h"
#include "guts/hash.h"
#include "guts/hashfiles.h"
#include "banned.h"

const char *guts_conclusion_name(enum guts_conclusion c)
{
	switch (c) {
	case GUTS_SUCCESS:
		return "success";
	case GUTS_FAILURE:
		return "failure";
	case GUTS_CANCELLED:
		return "cancelled";
	case GUTS_SKIPPED:
		return "skipped";
	}
	return "unknown";
}

int64_t exec_now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t exec_now_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t exec_deadline_after(double minutes)
{
	int64_t now = exec_now_mono();
	double ns = minutes * 60e9;

	if (!(minutes > 0) || !isfinite(ns) || ns >= (double)(INT64_MAX - now))
		return INT64_MAX;
	return now + (int64_t)ns;
}

/* ---- logging ----------------------------------------------------------- */

void exec_log_text(struct exec_job *j, enum guts_log_kind kind,
		   const char *text, size_t len,
		   const struct guts_annotation *ann)
{
	struct guts_log_event ev = {0};
	char *masked = NULL;

	if (!j->spec->sink.event)
		return;
	/* The executor's own lines may quote user values: mask them too. */
	if (guts_mask_count(j->mask))
		masked = guts_mask_string(j->mask, text, len, &len);
	ev.job_key = j->spec->job_key;
	ev.step = j->step_no;
	ev.step_name = j->step_name;
	ev.kind = kind;
	ev.ts_ns = exec_now_wall();
	ev.text = masked ? masked : text;
	ev.len = len;
	ev.ann = ann;
	j->spec->sink.event(j->spec->sink.ud, &ev);
	free(masked);
}

void exec_log(struct exec_job *j, enum guts_log_kind kind, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = guts_xvasprintf(fmt, ap);
	va_end(ap);
	exec_log_text(j, kind, s, strlen(s), NULL);
	free(s);
}

/*
 * The files of the step being run: the same names for every step (each
 * step gets them empty), which keeps a job of many steps from filling a
 * directory with thousands of files.
 */
char *exec_file_path(struct exec_job *j, const char *prefix, const char *ext)
{
	return guts_xasprintf("%s/%s%s", j->files_dir, prefix, ext ? ext : "");
}

/* ---- expressions ------------------------------------------------------- */

struct status_data {
	struct exec_job *j;
	struct exec_scope *s;
};

static enum guts_expr_status step_status(void *data)
{
	struct status_data *sd = data;

	if (sd->j->cancelled || guts_cancel_is_set(sd->j->spec->cancel))
		return GUTS_EXPR_STATUS_CANCELLED;
	return sd->s->failed ? GUTS_EXPR_STATUS_FAILURE
			     : GUTS_EXPR_STATUS_SUCCESS;
}

static int hash_files_cb(char **out, const char *const *patterns, size_t nr,
			 void *data)
{
	struct status_data *sd = data;

	return guts_hash_files(out, sd->j->workspace, patterns, nr);
}

json_t *exec_contexts(struct exec_job *j, struct exec_scope *s,
		      const json_t *env)
{
	const struct guts_job_spec *sp = j->spec;
	json_t *c = json_object();
	json_t *jobctx = json_object();
	const char *status = "success";

	json_object_set(c, "github", j->github);
	json_object_set(c, "guts", j->github);
	json_object_set_new(c, "env",
			    env ? json_deep_copy(env) : json_object());
	json_object_set_new(
	    c, "vars", sp->vars ? json_deep_copy(sp->vars) : json_object());
	json_object_set_new(c, "secrets",
			    sp->secrets ? json_deep_copy(sp->secrets)
					: json_object());
	json_object_set(c, "inputs", s->inputs);
	json_object_set_new(c, "matrix",
			    sp->matrix ? json_deep_copy(sp->matrix)
				       : json_object());
	json_object_set_new(c, "strategy",
			    sp->strategy ? json_deep_copy(sp->strategy)
					 : json_object());
	json_object_set_new(
	    c, "needs", sp->needs ? json_deep_copy(sp->needs) : json_object());
	json_object_set(c, "steps", s->steps);
	if (j->cancelled || guts_cancel_is_set(sp->cancel))
		status = "cancelled";
	else if (j->root.failed)
		status = "failure";
	json_object_set_new(jobctx, "status", json_string(status));
	json_object_set_new(jobctx, "container", json_object());
	json_object_set_new(jobctx, "services", json_object());
	json_object_set_new(c, "job", jobctx);
	json_object_set(c, "runner", j->runner);
	if (s->action_path) {
		json_t *gh = json_deep_copy(j->github);

		json_object_set_new(gh, "action_path",
				    json_string(s->action_path));
		json_object_set_new(
		    gh, "action_repository",
		    json_string(s->action_repo ? s->action_repo : ""));
		json_object_set_new(c, "github", gh);
		json_object_set(c, "guts", gh);
	}
	return c;
}

static void set_env(struct guts_expr_env *e, struct status_data *sd,
		    const json_t *contexts)
{
	memset(e, 0, sizeof(*e));
	e->contexts = contexts;
	e->status = step_status;
	e->status_data = sd;
	e->hash_files = hash_files_cb;
	e->hash_files_data = sd;
}

static const struct guts_expr_parse_opts all_opts = {
    NULL, 0, GUTS_EXPR_STATUS_FUNCTIONS | GUTS_EXPR_HASHFILES};

static char *expr_error(const char *src, struct guts_expr_error *err)
{
	char *s = guts_xasprintf(
	    "%s (in '%s')", err->message ? err->message : guts_error_message(),
	    src);

	guts_expr_error_release(err);
	return s;
}

int exec_eval_string(struct exec_job *j, struct exec_scope *s,
		     const json_t *env, const char *src, char **out, char **err)
{
	struct guts_expr_error e = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_env ee;
	struct status_data sd = {j, s};
	json_t *c;
	int ret;

	if (!guts_expr_template_has_expr(src, strlen(src))) {
		*out = guts_xstrdup(src);
		return 0;
	}
	c = exec_contexts(j, s, env);
	set_env(&ee, &sd, c);
	ret = guts_expr_template_eval(out, NULL, src, strlen(src), &all_opts,
				      &ee, &e);
	json_decref(c);
	if (ret < 0) {
		*err = expr_error(src, &e);
		return ret;
	}
	return 0;
}

int exec_eval_json(struct exec_job *j, struct exec_scope *s, const json_t *env,
		   const json_t *v, json_t **out, char **err)
{
	struct guts_expr_error e = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_value val;
	struct guts_expr_env ee;
	struct status_data sd = {j, s};
	const char *src;
	json_t *c;
	int ret;

	if (!json_is_string(v)) {
		*out = json_deep_copy(v);
		return 0;
	}
	src = json_string_value(v);
	if (!guts_expr_template_has_expr(src, strlen(src))) {
		*out = json_deep_copy(v);
		return 0;
	}
	c = exec_contexts(j, s, env);
	set_env(&ee, &sd, c);
	ret = guts_expr_template_eval_value(&val, src, strlen(src), &all_opts,
					    &ee, &e);
	json_decref(c);
	if (ret < 0) {
		*err = expr_error(src, &e);
		return ret;
	}
	*out = guts_expr_value_to_json(&val);
	guts_expr_value_release(&val);
	return 0;
}

int exec_status_call(const char *name, size_t nr_args, size_t offset,
		     void *data)
{
	(void)nr_args;
	(void)offset;
	(void)data;
	return !strcmp(name, "success") || !strcmp(name, "failure") ||
	       !strcmp(name, "cancelled") || !strcmp(name, "always");
}

/*
 * Evaluate an if: condition.  As on GitHub, a condition that calls none of
 * the status functions is `success() && (cond)`; an empty one is @dflt.
 */
int exec_eval_cond(struct exec_job *j, struct exec_scope *s, const json_t *env,
		   const char *cond, const char *dflt, int *result, char **err)
{
	struct guts_expr_error e = GUTS_EXPR_ERROR_INIT;
	struct guts_expr_value val;
	struct guts_expr_env ee;
	struct status_data sd = {j, s};
	struct guts_expr *x = NULL;
	const char *src = cond && *cond ? cond : dflt;
	size_t off, len = strlen(src);
	json_t *c;
	int ret;

	/* if: may be written with or without ${{ }}. */
	if (guts_expr_template_is_single(src, len, &off, &len))
		src += off;
	ret = guts_expr_parse(&x, src, len, &all_opts, &e);
	if (ret < 0) {
		*err = expr_error(src, &e);
		return ret;
	}
	/*
	 * Without a status function the condition is success() && (...),
	 * and && stops at a false success(): the rest is not evaluated.
	 */
	if (!guts_expr_walk(x, NULL, exec_status_call, NULL) &&
	    step_status(&sd) != GUTS_EXPR_STATUS_SUCCESS) {
		*result = 0;
		guts_expr_free(x);
		return 0;
	}
	c = exec_contexts(j, s, env);
	set_env(&ee, &sd, c);
	ret = guts_expr_eval(&val, x, &ee, &e);
	if (ret == 0) {
		*result = guts_expr_value_truthy(&val);
		guts_expr_value_release(&val);
		if (*result && !guts_expr_walk(x, NULL, exec_status_call, NULL))
			*result = step_status(&sd) == GUTS_EXPR_STATUS_SUCCESS;
	} else {
		*err = expr_error(src, &e);
	}
	json_decref(c);
	guts_expr_free(x);
	return ret;
}

int exec_eval_bool(struct exec_job *j, struct exec_scope *s, const json_t *env,
		   const json_t *v, int *result, char **err)
{
	struct guts_expr_value val;
	json_t *r = NULL;
	int ret;

	*result = 0;
	if (!v || json_is_null(v))
		return 0;
	ret = exec_eval_json(j, s, env, v, &r, err);
	if (ret < 0)
		return ret;
	memset(&val, 0, sizeof(val));
	guts_expr_value_set_json(&val, r);
	*result = guts_expr_value_truthy(&val);
	guts_expr_value_release(&val);
	json_decref(r);
	return 0;
}

int exec_eval_minutes(struct exec_job *j, struct exec_scope *s,
		      const json_t *env, const json_t *v, double *out,
		      char **err)
{
	json_t *r = NULL;
	char *end;
	int ret;

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	ret = exec_eval_json(j, s, env, v, &r, err);
	if (ret < 0)
		return ret;
	if (json_is_number(r)) {
		*out = json_number_value(r);
		if (!isfinite(*out))
			*out = -1;
	} else if (json_is_string(r)) {
		*out = strtod(json_string_value(r), &end);
		if (*end || end == json_string_value(r) || !isfinite(*out))
			*out = -1;
	} else {
		*out = -1;
	}
	json_decref(r);
	if (*out <= 0) {
		*err =
		    guts_xstrdup("timeout-minutes must be a positive number");
		return GUTS_EINVAL;
	}
	return 0;
}

/* ---- setup ------------------------------------------------------------- */

static int make_dir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return guts_error_errno("mkdir %s", path);
	return 0;
}

static json_t *obj_or_empty(const json_t *v)
{
	return json_is_object(v) ? json_deep_copy(v) : json_object();
}

/* Evaluate every value of an env mapping on top of @under. */
static int eval_env_layer(struct exec_job *j, const json_t *layer,
			  json_t *under, char **err)
{
	const char *k;
	json_t *v;

	if (!json_is_object(layer))
		return 0;
	json_object_foreach((json_t *)layer, k, v) {
		json_t *r = NULL;
		char *s;
		int ret = exec_eval_json(j, &j->root, under, v, &r, err);

		if (ret < 0)
			return ret;
		s = json_is_string(r) ? guts_xstrdup(json_string_value(r))
		    : json_is_null(r) ? guts_xstrdup("")
				      : NULL;
		if (!s) {
			struct guts_expr_value val = {0};

			guts_expr_value_set_json(&val, r);
			s = guts_expr_value_to_string(&val, NULL);
			guts_expr_value_release(&val);
		}
		json_decref(r);
		json_object_set_new(under, k, json_string(s));
		free(s);
	}
	return 0;
}

static int setup(struct exec_job *j, char **reason)
{
	const struct guts_job_spec *sp = j->spec;
	struct guts_sandbox_opts so = {0};
	const char *rw[3];
	char *err = NULL;
	const char *k;
	json_t *v;
	int ret;

	{
		static atomic_ulong jobs;

		j->tracking =
		    guts_xasprintf("guts-%d-%lu-%s", (int)getpid(),
				   atomic_fetch_add(&jobs, 1) + 1, sp->job->id);
	}
	j->workspace = guts_xasprintf("%s/workspace", sp->job_dir);
	j->temp = guts_xasprintf("%s/temp", sp->job_dir);
	j->home = guts_xasprintf("%s/home", sp->job_dir);
	j->tool_cache = guts_xasprintf("%s/tool-cache", sp->job_dir);
	j->files_dir = guts_xasprintf("%s/_runner_file_commands", j->temp);
	if (make_dir(j->workspace) < 0 || make_dir(j->temp) < 0 ||
	    make_dir(j->home) < 0 || make_dir(j->tool_cache) < 0 ||
	    make_dir(j->files_dir) < 0) {
		*reason = guts_xstrdup(guts_error_message());
		return GUTS_EIO;
	}

	j->github = obj_or_empty(sp->github);
	json_object_set_new(j->github, "workspace", json_string(j->workspace));
	json_object_set_new(j->github, "job", json_string(sp->job->id));
	json_object_set_new(j->github, "action", json_string(""));
	json_object_set_new(j->github, "action_path", json_string(""));
	/*
	 * The event payload goes into the job's temp directory, which the
	 * sandbox shows (the caller's copy may be anywhere).
	 */
	j->files_fd =
	    open(j->files_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (j->files_fd < 0) {
		*reason = guts_xasprintf("open %s: %s", j->files_dir,
					 strerror(errno));
		return GUTS_EIO;
	}
	j->event_path = guts_xasprintf("%s/event.json", j->files_dir);
	{
		char *ev = json_dumps(json_object_get(j->github, "event"),
				      JSON_INDENT(2) | JSON_ENCODE_ANY);

		if (!ev)
			ev = guts_xstrdup("{}");
		if (guts_fs_write_atomic(j->event_path, ev, strlen(ev), 0644) <
		    0) {
			*reason = guts_xstrdup(guts_error_message());
			free(ev);
			return GUTS_EIO;
		}
		free(ev);
	}
	json_object_set_new(j->github, "event_path",
			    json_string(j->event_path));
	j->runner = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "os",
			      "Linux", "arch", "X64", "name", "guts-exec",
			      "temp", j->temp, "tool_cache", j->tool_cache,
			      "workspace", sp->job_dir, "debug", 0);
	j->root.steps = json_object();
	j->root.inputs = obj_or_empty(sp->inputs);
	j->file_env = json_object();

	/* Secrets are masked from the first line on. */
	if (json_is_object(sp->secrets)) {
		json_object_foreach((json_t *)sp->secrets, k, v) {
			if (json_is_string(v))
				guts_mask_add(j->mask, json_string_value(v),
					      json_string_length(v));
		}
	}

	/* Environment layers: base (--env-file), workflow, job. */
	j->wf_env = obj_or_empty(sp->base_env);
	ret = eval_env_layer(j, sp->wf->env, j->wf_env, &err);
	if (ret == 0) {
		j->job_env = json_deep_copy(j->wf_env);
		ret = eval_env_layer(j, sp->job->env, j->job_env, &err);
	}
	if (ret < 0) {
		*reason = guts_xasprintf("env: %s", err);
		free(err);
		return ret;
	}
	v = json_object_get(j->job_env, "ACTIONS_STEP_DEBUG");
	if (!v && json_is_object(sp->secrets))
		v = json_object_get(sp->secrets, "ACTIONS_STEP_DEBUG");
	if (!v && json_is_object(sp->vars))
		v = json_object_get(sp->vars, "ACTIONS_STEP_DEBUG");
	j->debug = json_is_string(v) && !strcmp(json_string_value(v), "true");
	if (j->debug)
		json_object_set_new(j->runner, "debug", json_string("1"));

	/* The sandbox, with the job's limits. */
	rw[0] = j->temp;
	rw[1] = j->tool_cache;
	so.agent_path = sp->agent_path;
	so.isolate = sp->isolate;
	so.workspace = j->workspace;
	so.rw_paths = rw;
	so.nr_rw_paths = 2;
	so.home = j->home;
	so.home_path = j->home;
	so.network_none = sp->job->sandbox.network_none;
	so.hidden = sp->hidden;
	so.nr_hidden = sp->nr_hidden;
	/*
	 * The job's sandbox: limits, over the executor's defaults: a pids
	 * limit that stops a fork bomb long before the machine notices, and
	 * a file-descriptor limit.  Memory and CPU are unlimited unless the
	 * job asks (a default would break builds on big machines).
	 */
	so.limits.memory = sp->job->sandbox.memory;
	so.limits.cpus = sp->job->sandbox.cpus;
	so.limits.pids =
	    sp->job->sandbox.pids ? sp->job->sandbox.pids : EXEC_DEFAULT_PIDS;
	so.limits.nofile = EXEC_DEFAULT_NOFILE;
	so.name = sp->job->id;
	ret = guts_sandbox_open(&j->sb, &so);
	if (ret < 0) {
		*reason = guts_xasprintf("sandbox: %s", guts_error_message());
		return ret;
	}
	exec_log(j, GUTS_LOG_INFO, "%s", guts_sandbox_describe(j->sb));
	return 0;
}

/* ---- outputs ----------------------------------------------------------- */

static void job_outputs(struct exec_job *j, json_t *outputs)
{
	const char *k;
	json_t *v;
	json_t *env = json_deep_copy(j->job_env);

	json_object_update(env, j->file_env);
	if (!json_is_object(j->spec->job->outputs)) {
		json_decref(env);
		return;
	}
	json_object_foreach(j->spec->job->outputs, k, v) {
		char *s = NULL, *err = NULL, *m;
		size_t len;

		if (!json_is_string(v))
			continue;
		if (exec_eval_string(j, &j->root, env, json_string_value(v), &s,
				     &err) < 0) {
			exec_log(j, GUTS_LOG_WARNING,
				 "output '%s' could not be evaluated: %s", k,
				 err);
			free(err);
			continue;
		}
		/* GitHub drops outputs that hold a secret. */
		len = strlen(s);
		m = guts_mask_string(j->mask, s, len, &len);
		if (strcmp(m, s)) {
			exec_log(
			    j, GUTS_LOG_WARNING,
			    "Skip output '%s' since it may contain secret.", k);
		} else {
			json_object_set_new(outputs, k, json_string(s));
		}
		free(m);
		free(s);
	}
	json_decref(env);
}

/* ---- the job ----------------------------------------------------------- */

static void release(struct exec_job *j)
{
	for (size_t i = 0; i < j->nr_posts; i++)
		exec_post_release(&j->posts[i]);
	free(j->posts);
	json_decref(j->github);
	json_decref(j->runner);
	json_decref(j->wf_env);
	json_decref(j->job_env);
	json_decref(j->file_env);
	json_decref(j->root.steps);
	json_decref(j->root.inputs);
	guts_strvec_release(&j->path_add);
	guts_buf_release(&j->summary);
	guts_lines_release(&j->lines);
	guts_buf_release(&j->line);
	guts_mask_free(j->mask);
	free(j->workspace);
	free(j->temp);
	free(j->home);
	free(j->tool_cache);
	free(j->files_dir);
	free(j->event_path);
	free(j->tracking);
	if (j->files_fd >= 0)
		close(j->files_fd);
}

int guts_job_run(const struct guts_job_spec *spec, struct guts_job_result *res)
{
	struct exec_job j;
	char *reason = NULL, *err = NULL;
	double minutes = GUTS_WORKFLOW_DEFAULT_TIMEOUT_MINUTES;
	int64_t start = exec_now_mono();
	int coe = 0;

	memset(res, 0, sizeof(*res));
	if (!spec || !spec->wf || !spec->job || !spec->job_dir)
		return guts_error(GUTS_EINVAL, "job spec is incomplete");
	memset(&j, 0, sizeof(j));
	j.files_fd = -1;
	j.spec = spec;
	j.mask = guts_mask_new();
	guts_buf_init(&j.summary, 0);
	guts_buf_init(&j.line, 0);
	guts_lines_init(&j.lines, GUTS_LINES_DEFAULT_MAX);
	res->outputs = json_object();

	if (setup(&j, &reason) == 0 &&
	    exec_eval_minutes(&j, &j.root, j.job_env,
			      spec->job->timeout_minutes, &minutes, &err) < 0) {
		reason = guts_xasprintf("timeout-minutes: %s", err);
		free(err);
		err = NULL;
	}
	if (minutes <= 0)
		minutes = GUTS_WORKFLOW_DEFAULT_TIMEOUT_MINUTES;
	j.deadline = exec_deadline_after(minutes);
	j.job_minutes = minutes;
	j.scope_deadline = INT64_MAX;

	if (!reason) {
		exec_run_steps(
		    &j, &j.root, spec->job->steps, spec->job->nr_steps,
		    spec->job->defaults_shell ? spec->job->defaults_shell
					      : spec->wf->defaults_shell,
		    spec->job->defaults_working_directory
			? spec->job->defaults_working_directory
			: spec->wf->defaults_working_directory);
		exec_run_posts(&j);
		j.step_no = 0;
		j.step_name = NULL;
		job_outputs(&j, res->outputs);
	} else {
		j.root.failed = 1;
		exec_log(&j, GUTS_LOG_ERROR, "%s", reason);
	}

	if (j.sb) {
		size_t leftover = 0;

		guts_sandbox_close(j.sb, &leftover);
		j.sb = NULL;
		if (leftover)
			exec_log(&j, GUTS_LOG_INFO,
				 "Cleaning up orphan processes: %zu killed",
				 leftover);
	}

	if (j.timed_out && !reason)
		reason = guts_xasprintf("The job has exceeded the maximum "
					"execution time of %g minutes.",
					minutes);
	/* A time-out is a failure even though it cancels the job. */
	if (!j.timed_out && (j.cancelled || guts_cancel_is_set(spec->cancel)))
		res->outcome = GUTS_CANCELLED;
	else if (j.timed_out || j.root.failed)
		res->outcome = GUTS_FAILURE;
	else
		res->outcome = GUTS_SUCCESS;
	res->conclusion = res->outcome;
	if (res->outcome == GUTS_FAILURE) {
		err = NULL;
		if (exec_eval_bool(&j, &j.root, j.job_env,
				   spec->job->continue_on_error, &coe,
				   &err) == 0 &&
		    coe)
			res->conclusion = GUTS_SUCCESS;
		free(err);
	}
	res->reason = reason;
	res->steps = j.steps;
	res->nr_steps = j.nr_steps;
	j.steps = NULL;
	if (j.summary.len)
		res->summary = guts_buf_detach(&j.summary, NULL);
	res->seconds = (exec_now_mono() - start) / 1e9;
	release(&j);
	return 0;
}

void guts_job_result_release(struct guts_job_result *res)
{
	for (size_t i = 0; i < res->nr_steps; i++) {
		free(res->steps[i].id);
		free(res->steps[i].name);
	}
	free(res->steps);
	json_decref(res->outputs);
	free(res->reason);
	free(res->summary);
	memset(res, 0, sizeof(*res));
}

const char *const guts_host_env[] = {
    "PATH",	    "LANG",	   "LANGUAGE",	  "LC_ALL",
    "LC_CTYPE",	    "TZ",	   "USER",	  "LOGNAME",
    "TERM",	    "http_proxy",  "https_proxy", "no_proxy",
    "HTTP_PROXY",   "HTTPS_PROXY", "NO_PROXY",	  "SSL_CERT_FILE",
    "SSL_CERT_DIR", NULL};
