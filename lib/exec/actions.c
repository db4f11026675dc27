/*
 * `uses:` steps: built-in actions, local composite actions and local
 * JavaScript (node) actions, and the post steps they leave for the end of
 * the job.  Remote and docker actions fail with a clear message.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec_internal.h"
#include "guts/action.h"
#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/builtin.h"
#include "guts/diag.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/json.h"
#include "banned.h"

void exec_post_release(struct exec_post *p)
{
	free(p->display);
	free(p->builtin);
	free(p->action_dir);
	free(p->script);
	free(p->post_if);
	json_decref(p->with);
	json_decref(p->state);
	json_decref(p->env);
}

static struct exec_post *add_post(struct exec_job *j)
{
	struct exec_post *p;

	if (j->nr_posts == j->alloc_posts) {
		j->alloc_posts = j->alloc_posts ? 2 * j->alloc_posts : 4;
		j->posts = guts_xreallocarray(j->posts, j->alloc_posts,
					      sizeof(*j->posts));
	}
	p = &j->posts[j->nr_posts++];
	memset(p, 0, sizeof(*p));
	return p;
}

/* Evaluate a step's `with:` in the caller's scope. */
static json_t *eval_with(struct exec_job *j, struct exec_scope *s,
			 const json_t *with, const json_t *env, char **err)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;

	if (!json_is_object(with))
		return out;
	json_object_foreach((json_t *)with, k, v) {
		char *str = NULL;

		if (!json_is_string(v)) {
			char *t = json_dumps(v, JSON_ENCODE_ANY);

			json_object_set_new(out, k, json_string(t ? t : ""));
			free(t);
			continue;
		}
		if (exec_eval_string(j, s, env, json_string_value(v), &str,
				     err) < 0) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, k, json_string(str));
		free(str);
	}
	return out;
}

static void builtin_log(void *ud, const char *line)
{
	exec_log_text(ud, GUTS_LOG_OUTPUT, line, strlen(line), NULL);
}

static void builtin_ctx(struct exec_job *j, struct guts_builtin_ctx *c)
{
	const struct guts_job_spec *sp = j->spec;

	memset(c, 0, sizeof(*c));
	c->workspace = j->workspace;
	c->home = j->home;
	c->repo_source = sp->repo_source;
	c->repo_is_git = sp->repo_is_git;
	c->sha = json_string_value(json_object_get(j->github, "sha"));
	c->ref = json_string_value(json_object_get(j->github, "ref"));
	c->run_id = sp->run_id;
	c->cache_scope = sp->cache_scope;
	c->cache_fallback_scope = sp->cache_fallback_scope;
	c->store = sp->store;
	c->log = builtin_log;
	c->log_ud = j;
}

static enum guts_conclusion run_builtin(struct exec_job *j,
					const struct guts_wf_step *st,
					json_t *with, json_t *env,
					json_t *outputs)
{
	struct guts_builtin_ctx c;
	json_t *state = NULL;
	int ret;

	builtin_ctx(j, &c);
	ret = guts_builtin_run(st->builtin, with, &c, outputs, &state);
	if (ret < 0) {
		exec_log(j, GUTS_LOG_ERROR, "%s", guts_error_message());
		json_decref(state);
		return GUTS_FAILURE;
	}
	if (guts_builtin_has_post(st->builtin)) {
		struct exec_post *p = add_post(j);

		p->display = guts_xasprintf("Post %s", st->uses);
		p->builtin = guts_xstrdup(st->builtin);
		p->post_if = guts_xstrdup("always()");
		p->with = json_incref(with);
		p->state = state ? state : json_object();
		p->env = json_incref(env);
		state = NULL;
	}
	json_decref(state);
	return GUTS_SUCCESS;
}

/* INPUT_<NAME>: upper case, blanks to '_', as the toolkit reads them. */
static char *input_var(const char *name)
{
	char *s = guts_xasprintf("INPUT_%s", name);

	for (char *p = s + 6; *p; p++)
		*p = *p == ' ' ? '_' : (char)toupper((unsigned char)*p);
	return s;
}

/*
 * The inputs of an action: `with:` values, then the declared defaults
 * (evaluated), then "" for the rest.  Warns about required inputs that are
 * missing and about unexpected ones, as GitHub does.
 */
static json_t *action_inputs(struct exec_job *j, struct exec_scope *s,
			     const struct guts_action *a, const json_t *with,
			     const json_t *env)
{
	json_t *in = json_object();
	const char *k;
	json_t *v;

	for (size_t i = 0; i < a->nr_inputs; i++) {
		const struct guts_action_input *ai = &a->inputs[i];
		json_t *given = guts_json_object_iget(with, ai->name);

		if (given) {
			json_object_set(in, ai->name, given);
		} else if (json_is_string(ai->default_value)) {
			char *val = NULL, *err = NULL;

			if (exec_eval_string(
				j, s, env, json_string_value(ai->default_value),
				&val, &err) < 0) {
				exec_log(j, GUTS_LOG_WARNING, "input '%s': %s",
					 ai->name, err);
				free(err);
				val = guts_xstrdup("");
			}
			json_object_set_new(in, ai->name, json_string(val));
			free(val);
		} else {
			if (ai->required)
				exec_log(j, GUTS_LOG_WARNING,
					 "Input required and not supplied: %s",
					 ai->name);
			json_object_set_new(in, ai->name, json_string(""));
		}
	}
	json_object_foreach((json_t *)with, k, v) {
		if (!guts_action_input(a, k)) {
			exec_log(j, GUTS_LOG_WARNING,
				 "Unexpected input '%s', valid inputs are the "
				 "ones %s declares",
				 k, a->path);
			json_object_set(in, k, v);
		}
	}
	return in;
}

static enum guts_conclusion
run_node_script(struct exec_job *j, struct exec_scope *s, const char *dir,
		const char *script, json_t *inputs, json_t *state, json_t *env,
		double timeout, json_t *outputs)
{
	struct exec_step_io io = {0};
	struct exec_scope as = *s;
	char *path = guts_xasprintf("%s/%s", dir, script);
	const char *argv[3] = {"node", path, NULL};
	json_t *penv;
	const char *k;
	json_t *v;
	enum guts_conclusion r;

	as.action_path = dir;
	penv = exec_process_env(j, &as, env);
	json_object_foreach(inputs, k, v) {
		char *name = input_var(k);

		json_object_set(penv, name, v);
		free(name);
	}
	json_object_foreach(state, k, v) {
		char *name = guts_xasprintf("STATE_%s", k);

		json_object_set(penv, name, v);
		free(name);
	}
	io.outputs = outputs;
	io.state = json_incref(state);
	r = exec_run_process(j, argv, penv, j->workspace, timeout, &io);
	json_decref(io.state);
	json_decref(penv);
	free(path);
	return r;
}

static int node_available(struct exec_job *j, struct exec_scope *s, json_t *env)
{
	json_t *penv = exec_process_env(j, s, env);
	int found = exec_in_path("node", penv);

	json_decref(penv);
	return found;
}

static enum guts_conclusion run_node(struct exec_job *j, struct exec_scope *s,
				     const struct guts_action *a,
				     const char *dir, json_t *inputs,
				     json_t *env, double timeout,
				     json_t *outputs)
{
	json_t *state = json_object();
	enum guts_conclusion r = GUTS_SUCCESS;
	char *err = NULL;
	int run = 1;

	if (!node_available(j, s, env)) {
		exec_log(j, GUTS_LOG_ERROR,
			 "%s uses %s, which needs 'node' in PATH; it was not "
			 "found",
			 a->path, a->using_raw);
		json_decref(state);
		return GUTS_FAILURE;
	}
	if (a->pre) {
		if (exec_eval_cond(j, s, env, a->pre_if, "always()", &run,
				   &err) < 0) {
			exec_log(j, GUTS_LOG_ERROR, "pre-if: %s", err);
			free(err);
			json_decref(state);
			return GUTS_FAILURE;
		}
		if (run) {
			json_t *pre_out = json_object();

			r = run_node_script(j, s, dir, a->pre, inputs, state,
					    env, timeout, pre_out);
			json_decref(pre_out);
		}
	}
	if (r == GUTS_SUCCESS)
		r = run_node_script(j, s, dir, a->main, inputs, state, env,
				    timeout, outputs);
	if (a->post) {
		struct exec_post *p = add_post(j);

		p->display = guts_xasprintf("Post %s", a->path);
		p->action_dir = guts_xstrdup(dir);
		p->script = guts_xstrdup(a->post);
		p->post_if = guts_xstrdup(a->post_if ? a->post_if : "always()");
		p->with = json_incref(inputs);
		p->state = json_incref(state);
		p->env = json_incref(env);
	}
	json_decref(state);
	return r;
}

static enum guts_conclusion
run_composite(struct exec_job *j, struct exec_scope *s,
	      const struct guts_wf_step *st, const struct guts_action *a,
	      const char *dir, json_t *inputs, json_t *env, json_t *outputs)
{
	struct exec_scope cs = {0};
	const char *k;
	json_t *v;

	if (s->depth + 1 > EXEC_MAX_ACTION_DEPTH) {
		exec_log(j, GUTS_LOG_ERROR,
			 "%s: composite actions nest more than %d deep",
			 a->path, EXEC_MAX_ACTION_DEPTH);
		return GUTS_FAILURE;
	}
	cs.parent = s;
	cs.steps = json_object();
	cs.inputs = json_incref(inputs);
	cs.action_path = dir;
	cs.action_repo = "";
	cs.depth = s->depth + 1;
	/*
	 * The composite's steps see the calling step's own env over the
	 * job's (and GITHUB_ENV's): its parent's layer plus the step's env.
	 */
	cs.env = s->env ? json_deep_copy(s->env) : json_object();
	if (json_is_object(st->env)) {
		json_object_foreach(st->env, k, v) {
			json_t *val = json_object_get(env, k);

			if (val)
				json_object_set(cs.env, k, val);
		}
	}
	exec_run_steps(j, &cs, a->steps, a->nr_steps, NULL, NULL);
	for (size_t i = 0; i < a->nr_outputs; i++) {
		char *val = NULL, *err = NULL;

		if (!a->outputs[i].value)
			continue;
		if (exec_eval_string(j, &cs, env, a->outputs[i].value, &val,
				     &err) < 0) {
			exec_log(j, GUTS_LOG_WARNING, "output '%s': %s",
				 a->outputs[i].name, err);
			free(err);
			continue;
		}
		json_object_set_new(outputs, a->outputs[i].name,
				    json_string(val));
		free(val);
	}
	json_decref(cs.steps);
	json_decref(cs.inputs);
	json_decref(cs.env);
	if (j->cancelled || guts_cancel_is_set(j->spec->cancel))
		return cs.failed ? GUTS_FAILURE : GUTS_CANCELLED;
	return cs.failed ? GUTS_FAILURE : GUTS_SUCCESS;
}

/*
 * Read @rel/action.yml (or .yaml) of the workspace, which the job can
 * write: resolved beneath the workspace only (a link may not lead out,
 * even one planted after a check), never a FIFO or other non-file, and
 * capped.
 */
static int open_beneath(int dirfd, const char *path)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static int load_action(struct exec_job *j, struct guts_action **out,
		       const char *rel, struct guts_diags *diags)
{
	static const char *const names[] = {"action.yml", "action.yaml"};
	int ws = open(j->workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = GUTS_ENOTFOUND;

	if (ws < 0)
		return guts_error_errno("open %s", j->workspace);
	for (size_t i = 0; i < 2 && ret == GUTS_ENOTFOUND; i++) {
		char *path = *rel ? guts_xasprintf("%s/%s", rel, names[i])
				  : guts_xstrdup(names[i]);
		struct stat st;
		char *text = NULL;
		size_t len = 0;
		int fd = open_beneath(ws, path);

		if (fd < 0 && errno == EXDEV) {
			ret = guts_error(GUTS_EPERM,
					 "./%s resolves outside the workspace",
					 path);
		} else if (fd < 0 && errno != ENOENT && errno != ENOTDIR) {
			ret = guts_error_errno("./%s", path);
		} else if (fd >= 0) {
			if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
				ret = guts_error(GUTS_EINVAL,
						 "./%s is not a regular file",
						 path);
			else if ((ret = guts_fs_read_fd(
				      &text, &len, fd,
				      GUTS_ACTION_MAX_BYTES)) == 0)
				ret = guts_action_parse(out, path, text, len,
							diags);
			close(fd);
		}
		free(text);
		free(path);
	}
	close(ws);
	if (ret == GUTS_ENOTFOUND)
		ret = guts_error(GUTS_ENOTFOUND,
				 "can't find 'action.yml' or 'action.yaml' "
				 "under './%s'",
				 rel);
	return ret;
}

static enum guts_conclusion run_local(struct exec_job *j, struct exec_scope *s,
				      const struct guts_wf_step *st,
				      json_t *with, json_t *env, double timeout,
				      json_t *outputs)
{
	struct guts_diags diags;
	struct guts_action *a = NULL;
	const char *rel = st->uses + 1; /* "./dir" -> "/dir" */
	char *dir;
	json_t *inputs;
	enum guts_conclusion r;
	int ret;

	while (*rel == '/')
		rel++;
	dir = *rel ? guts_xasprintf("%s/%s", j->workspace, rel)
		   : guts_xstrdup(j->workspace);
	guts_diags_init(&diags, NULL);
	ret = load_action(j, &a, rel, &diags);
	if (ret < 0 || !a) {
		if (diags.nr) {
			struct guts_buf b;

			guts_buf_init(&b, 0);
			guts_diags_sort(&diags);
			guts_diags_format(&diags, &b);
			exec_log_text(j, GUTS_LOG_ERROR, b.data, b.len, NULL);
			guts_buf_release(&b);
		} else {
			exec_log(j, GUTS_LOG_ERROR, "%s", guts_error_message());
		}
		guts_diags_release(&diags);
		free(dir);
		return GUTS_FAILURE;
	}
	guts_diags_release(&diags);
	inputs = action_inputs(j, s, a, with, env);
	switch (a->using) {
	case GUTS_ACTION_COMPOSITE:
		r = run_composite(j, s, st, a, dir, inputs, env, outputs);
		break;
	case GUTS_ACTION_NODE:
		r = run_node(j, s, a, dir, inputs, env, timeout, outputs);
		break;
	default:
		exec_log(j, GUTS_LOG_ERROR,
			 "%s is a docker action; Guts does not run docker "
			 "actions",
			 a->path);
		r = GUTS_FAILURE;
		break;
	}
	json_decref(inputs);
	guts_action_free(a);
	free(dir);
	return r;
}

enum guts_conclusion exec_run_uses(struct exec_job *j, struct exec_scope *s,
				   const struct guts_wf_step *st, json_t *env,
				   double timeout, json_t *outputs)
{
	char *err = NULL;
	json_t *with;
	enum guts_conclusion r;

	with = eval_with(j, s, st->with, env, &err);
	if (!with) {
		exec_log(j, GUTS_LOG_ERROR, "with: %s", err);
		free(err);
		return GUTS_FAILURE;
	}
	switch (st->uses_kind) {
	case GUTS_WF_USES_BUILTIN:
		r = run_builtin(j, st, with, env, outputs);
		break;
	case GUTS_WF_USES_LOCAL:
		r = run_local(j, s, st, with, env, timeout, outputs);
		break;
	case GUTS_WF_USES_DOCKER:
		exec_log(j, GUTS_LOG_ERROR,
			 "%s: docker actions need Docker, which Guts does "
			 "not run",
			 st->uses);
		r = GUTS_FAILURE;
		break;
	default:
		exec_log(j, GUTS_LOG_ERROR,
			 "%s: remote actions are not supported; Guts runs "
			 "built-in and local (./path) actions",
			 st->uses);
		r = GUTS_FAILURE;
		break;
	}
	json_decref(with);
	return r;
}

/* Post steps run last, newest first, each under its post-if. */
void exec_run_posts(struct exec_job *j)
{
	for (size_t i = j->nr_posts; i > 0; i--) {
		struct exec_post *p = &j->posts[i - 1];
		enum guts_conclusion r = GUTS_SUCCESS;
		char *err = NULL;
		int run = 0;

		j->step_no++;
		j->step_name = p->display;
		if (exec_eval_cond(j, &j->root, p->env, p->post_if, "always()",
				   &run, &err) < 0) {
			exec_log(j, GUTS_LOG_STEP_START, "%s", p->display);
			exec_log(j, GUTS_LOG_ERROR, "post-if: %s", err);
			free(err);
			r = GUTS_FAILURE;
		} else if (!run) {
			continue;
		} else if (p->builtin) {
			struct guts_builtin_ctx c;

			exec_log(j, GUTS_LOG_STEP_START, "%s", p->display);
			builtin_ctx(j, &c);
			if (guts_builtin_post(p->builtin, p->with, &c, p->state,
					      !j->root.failed &&
						  !j->cancelled) < 0) {
				exec_log(j, GUTS_LOG_ERROR, "%s",
					 guts_error_message());
				r = GUTS_FAILURE;
			}
		} else {
			json_t *out = json_object();

			exec_log(j, GUTS_LOG_STEP_START, "%s", p->display);
			r = run_node_script(j, &j->root, p->action_dir,
					    p->script, p->with, p->state,
					    p->env, 0, out);
			json_decref(out);
		}
		if (r == GUTS_FAILURE)
			j->root.failed = 1;
		exec_log(j, GUTS_LOG_STEP_END, "%s", guts_conclusion_name(r));
		if (j->nr_steps == j->alloc_steps) {
			j->alloc_steps =
			    j->alloc_steps ? 2 * j->alloc_steps : 8;
			j->steps = guts_xreallocarray(j->steps, j->alloc_steps,
						      sizeof(*j->steps));
		}
		j->steps[j->nr_steps].id = guts_xasprintf("post-%zu", i);
		j->steps[j->nr_steps].name = guts_xstrdup(p->display);
		j->steps[j->nr_steps].outcome = r;
		j->steps[j->nr_steps].conclusion = r;
		j->steps[j->nr_steps].seconds = 0;
		j->nr_steps++;
	}
}
