/* Push events to workflow entries and runs: see trigger.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/diag.h"
#include "guts/error.h"
#include "guts/json.h"
#include "guts/strvec.h"
#include "guts/trigger.h"
#include "guts/workflow.h"
#include "hub.h"
#include "pulls.h"
#include "scheduler.h"
#include "trigger.h"
#include "banned.h"

static const char zeros[] = "0000000000000000000000000000000000000000";

/* "CI Build" -> ".guts/workflows/ci-build.yml" */
static char *path_for(const struct guts_workflow *wf)
{
	const char *name = wf && wf->name ? wf->name : "workflow";
	struct guts_buf b;

	guts_buf_init(&b, 0);
	guts_buf_adds(&b, ".guts/workflows/");
	for (const char *p = name; *p && b.len < 80; p++) {
		if (isalnum((unsigned char)*p))
			guts_buf_addch(&b, (char)tolower((unsigned char)*p));
		else if (b.len && b.data[b.len - 1] != '-')
			guts_buf_addch(&b, '-');
	}
	while (b.len && b.data[b.len - 1] == '-')
		guts_buf_truncate(&b, b.len - 1);
	guts_buf_adds(&b, ".yml");
	return guts_buf_detach(&b, NULL);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

struct reader {
	const char *gitdir, *sha;
};

/* Reusable workflows `uses: ./.guts/workflows/x.yml` at the pushed sha. */
static int read_reusable(void *ud, const char *ref, char **text, size_t *len)
{
	struct reader *rd = ud;

	if (!rd || strncmp(ref, "./", 2))
		return GUTS_ENOTFOUND;
	return gitx_read_file(rd->gitdir, rd->sha, ref + 2, text, len);
}

static int record(struct node *n, int64_t repo_id, const char *path,
		  const char *text, size_t len, const char *sha,
		  struct reader *rd, int strict, json_t **row, int *created)
{
	struct guts_workflow_opts opts = {0};
	struct guts_workflow *wf = NULL;
	struct guts_diags d;
	struct guts_buf msgs;
	json_t *errors = json_array(), *triggers = json_array(),
	       *jobs = json_array(), *old = NULL;
	char *p = NULL, *errs = NULL, *trig = NULL, *env = NULL, *jb = NULL;
	const char *name;
	int valid, ret;

	*row = NULL;
	*created = 0;
	opts.read_reusable = rd ? read_reusable : NULL;
	opts.read_ud = rd;
	if (path) {
		p = guts_xstrdup(path);
	} else {
		/* Posted text: its path comes from its name, when it has one
		 * that parses, and the messages then name that path. */
		struct guts_workflow *w0 = NULL;

		guts_diags_init(&d, "workflow.yml");
		guts_workflow_parse(&w0, "workflow.yml", text, len, &opts, &d);
		guts_diags_release(&d);
		p = path_for(w0);
		guts_workflow_free(w0);
	}
	guts_diags_init(&d, p);
	valid = guts_workflow_parse(&wf, p, text, len, &opts, &d) == 0;
	if (!valid) {
		char *line, *save = NULL;

		guts_buf_init(&msgs, 0);
		guts_diags_sort(&d);
		guts_diags_format(&d, &msgs);
		for (line = strtok_r(msgs.data, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			json_array_append_new(errors, json_string(line));
		guts_buf_release(&msgs);
	} else {
		for (size_t i = 0; i < wf->nr_triggers; i++)
			json_array_append_new(
			    triggers, json_string(wf->triggers[i].event));
		for (size_t i = 0; i < wf->nr_jobs; i++)
			json_array_append_new(jobs,
					      json_string(wf->jobs[i].id));
		env = wf->env ? json_dumps(wf->env, JSON_COMPACT)
			      : guts_xstrdup("{}");
	}
	guts_diags_release(&d);
	if (!valid && strict) {
		/* Refused: nothing is written; the errors go back. */
		*row = json_pack("{s:s, s:O}", "path", p, "errors", errors);
		ret =
		    guts_error(GUTS_EINVAL, "%s is not a valid workflow: %s", p,
			       json_string_value(json_array_get(errors, 0)));
		goto out;
	}
	name = valid && wf->name ? wf->name : base_name(p);
	errs = json_dumps(errors, JSON_COMPACT);
	trig = json_dumps(triggers, JSON_COMPACT);
	jb = json_dumps(jobs, JSON_COMPACT);
	*created = store_query_one(
		       n->st,
		       "SELECT id FROM workflows WHERE repo_id = $1 "
		       "AND path = $2",
		       STORE_ARGS(SI(repo_id), SS(p)), &old) == GUTS_ENOTFOUND;
	ret = store_query_one(
	    n->st,
	    "INSERT INTO workflows (repo_id, path, name, source, sha, valid, "
	    "errors, triggers, env, jobs, created_at, updated_at) VALUES ($1, "
	    "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT "
	    "(repo_id, path) DO UPDATE SET name = excluded.name, source = "
	    "excluded.source, sha = excluded.sha, valid = excluded.valid, "
	    "errors = excluded.errors, triggers = excluded.triggers, env = "
	    "excluded.env, jobs = excluded.jobs, updated_at = "
	    "excluded.updated_at RETURNING *",
	    STORE_ARGS(SI(repo_id), SS(p), SS(name), SS(text), SS(sha),
		       SI(valid), SS(errs), SS(trig), SS(env), SS(jb),
		       SI(store_now_ms())),
	    row);
out:
	guts_workflow_free(wf);
	json_decref(errors);
	json_decref(triggers);
	json_decref(jobs);
	json_decref(old);
	free(p);
	free(errs);
	free(trig);
	free(env);
	free(jb);
	return ret;
}

int trigger_record_workflow(struct node *n, int64_t repo_id, const char *path,
			    const char *text, size_t len, const char *sha,
			    int strict, json_t **row, int *created)
{
	return record(n, repo_id, path, text, len, sha, NULL, strict, row,
		      created);
}

int trigger_push_begin(struct node *n, int64_t repo_id, const char *actor,
		       const void *updates, size_t nr, int64_t *ids)
{
	const struct gitx_ref_update *u = updates;
	int64_t now = store_now_ms();

	for (size_t i = 0; i < nr; i++) {
		json_t *row = NULL;
		int ret = store_query_one(
		    n->st,
		    "INSERT INTO push_events (repo_id, ref, before_sha, "
		    "after_sha, actor, state, created_at) VALUES ($1, $2, $3, "
		    "$4, $5, 'pending', $6) RETURNING id",
		    STORE_ARGS(SI(repo_id), SS(u[i].ref), SS(u[i].old_sha),
			       SS(u[i].new_sha), SS(actor), SI(now)),
		    &row);

		if (ret < 0)
			return ret;
		ids[i] = api_int(row, "id");
		json_decref(row);
	}
	return 0;
}

static json_t *push_payload(const json_t *ev, const char *gitdir)
{
	const char *before = api_str(ev, "before_sha"),
		   *after = api_str(ev, "after_sha");
	char *full = guts_xasprintf("%s/%s", api_str(ev, "owner"),
				    api_str(ev, "repo_name"));
	char *subject = NULL, *author = NULL;
	json_t *p;

	if (strcmp(after, zeros) &&
	    gitx_commit_info(gitdir, after, &subject, &author) == 0) {
		char *a = guts_utf8_lossy(subject),
		     *b = guts_utf8_lossy(author);

		free(subject);
		free(author);
		subject = a;
		author = b;
	}
	p = json_pack(
	    "{s:s, s:s, s:s, s:b, s:b, s:b, s:{s:s, s:s, s:{s:s}, s:s}, "
	    "s:{s:s}, s:{s:s}}",
	    "ref", api_str(ev, "ref"), "before", before, "after", after,
	    "created", !strcmp(before, zeros), "deleted", !strcmp(after, zeros),
	    "forced", 0, "repository", "full_name", full, "name",
	    api_str(ev, "repo_name"), "owner", "login", api_str(ev, "owner"),
	    "default_branch", api_str(ev, "default_branch"), "pusher", "name",
	    api_str(ev, "actor") ? api_str(ev, "actor") : "anonymous", "sender",
	    "login", api_str(ev, "actor") ? api_str(ev, "actor") : "anonymous");
	if (subject)
		json_object_set_new(
		    p, "head_commit",
		    json_pack("{s:s, s:s, s:{s:s}}", "id", after, "message",
			      subject, "author", "name", author ? author : ""));
	free(full);
	free(subject);
	free(author);
	return p;
}

/*
 * What starts runs: an event in a repository, with where its workflows are
 * read and what its runs carry.
 */
struct start {
	int64_t repo_id;
	const char *gitdir;
	const char *sha;	/* workflows read here; the runs build it */
	const char *status_sha; /* statuses go here (NULL: sha) */
	const char *ref;
	const char *actor, *title;
	const json_t *payload;
	const char *key;    /* event_key = "<key>:<workflow id>" */
	int update_entries; /* a push to the default branch */
	struct guts_event e;
};

/*
 * A workflow its path filters kept from running for a pull request: each of
 * its job contexts is a success that says so, so that required checks never
 * hang.  Only for pull requests, whose paths are the whole change (merge
 * base to head): a push's paths are only what that push added, and a
 * docs-only push on top of untested code must not pass a check.  A context
 * that already has a status on the sha (a push run of the same workflow)
 * keeps it.
 */
static void post_path_skipped(struct node *n, const struct start *st,
			      const struct guts_workflow *wf,
			      const char *wf_name)
{
	const char *sha = st->status_sha ? st->status_sha : st->sha;

	for (size_t k = 0; k < wf->nr_jobs; k++) {
		char *ctx = sched_job_context(wf_name, &wf->jobs[k]);
		json_t *row = NULL;

		if (store_query_one(
			n->st,
			"SELECT id FROM statuses WHERE repo_id = "
			"$1 AND sha = $2 AND context = $3 LIMIT 1",
			STORE_ARGS(SI(st->repo_id), SS(sha), SS(ctx)),
			&row) == GUTS_ENOTFOUND &&
		    sched_post_status(n, st->repo_id, sha, ctx, "success",
				      "skipped: no matching paths", NULL,
				      "guts") == 0)
			hub_publish(n, "check_run.completed", st->repo_id,
				    json_pack("{s:{s:s, s:s, s:s, s:s, s:s}}",
					      "check_run", "name", ctx,
					      "head_sha", sha, "status",
					      "completed", "conclusion",
					      "skipped", "output",
					      "skipped: no matching paths"));
		json_decref(row);
		free(ctx);
	}
}

/* Read the workflows at st->sha and start a run of each that matches. */
static void start_runs(struct node *n, struct start *st)
{
	struct gitx_file *files = NULL;
	size_t nr = 0;
	struct reader rd = {st->gitdir, st->sha};
	const char *what = st->e.name;

	if (gitx_read_workflows(st->gitdir, st->sha, &files, &nr) < 0) {
		nlog(LOG_ERROR, "%s %s: reading workflows: %s", what, st->sha,
		     guts_error_message());
		return;
	}
	for (size_t i = 0; i < nr; i++) {
		json_t *row = NULL, *old = NULL;
		struct guts_workflow *wf = NULL;
		struct guts_diags d;
		int created, valid, record_it = st->update_entries;
		char *key;
		int64_t run_id;
		struct run_request rq = {0};

		if (!files[i].text) {
			nlog(LOG_WARN, "%s %s: %s: %s", what, st->ref,
			     files[i].path,
			     files[i].error ? files[i].error : "unreadable");
			continue;
		}
		/* Other branches only add entries. */
		if (!record_it)
			record_it =
			    store_query_one(
				n->st,
				"SELECT * FROM workflows WHERE "
				"repo_id = $1 AND path = $2",
				STORE_ARGS(SI(st->repo_id), SS(files[i].path)),
				&old) == GUTS_ENOTFOUND;
		if (record_it) {
			if (record(n, st->repo_id, files[i].path, files[i].text,
				   files[i].len, st->sha, &rd, 0, &row,
				   &created) < 0) {
				nlog(LOG_ERROR, "%s %s: %s: %s", what, st->ref,
				     files[i].path, guts_error_message());
				json_decref(old);
				continue;
			}
		} else {
			row = json_incref(old);
		}
		json_decref(old);
		guts_diags_init(&d, files[i].path);
		valid = guts_workflow_parse(&wf, files[i].path, files[i].text,
					    files[i].len, NULL, &d) == 0;
		guts_diags_release(&d);
		if (valid) {
			struct guts_trigger_result tr =
			    GUTS_TRIGGER_RESULT_INIT;

			guts_trigger_match(&tr, wf, &st->e);
			if (!tr.matched) {
				struct guts_trigger_result all =
				    GUTS_TRIGGER_RESULT_INIT;
				struct guts_event e = st->e;

				nlog(LOG_DEBUG, "%s %s: %s: %s", what, st->ref,
				     files[i].path, tr.reason);
				/* Would it run with every path? Then only
				 * its path filters kept it. */
				e.have_paths = 0;
				if (st->e.have_paths &&
				    !strcmp(st->e.name, "pull_request") &&
				    guts_trigger_match(&all, wf, &e) == 0 &&
				    all.matched)
					post_path_skipped(n, st, wf,
							  api_str(row, "name"));
				guts_trigger_result_release(&all);
				guts_trigger_result_release(&tr);
				guts_workflow_free(wf);
				json_decref(row);
				continue;
			}
			guts_trigger_result_release(&tr);
		}
		key = guts_xasprintf("%s:%lld", st->key,
				     (long long)api_int(row, "id"));
		rq.repo_id = st->repo_id;
		rq.workflow_id = api_int(row, "id");
		rq.event = st->e.name;
		rq.ref = st->ref;
		rq.sha = st->sha;
		rq.head_sha = st->status_sha;
		rq.actor = st->actor;
		rq.payload = st->payload;
		rq.title = st->title;
		rq.event_key = key;
		/* The run uses the text at its sha (a branch's own). */
		rq.source = files[i].text;
		if (sched_create_run(n, &rq, &run_id) < 0)
			nlog(LOG_ERROR, "%s %s: %s: creating the run: %s", what,
			     st->ref, files[i].path, guts_error_message());
		free(key);
		guts_workflow_free(wf);
		json_decref(row);
	}
	gitx_files_free(files, nr);
}

/* Runs for one push event that landed. */
static void process_event(struct node *n, const json_t *ev)
{
	const char *ref = api_str(ev, "ref"), *after = api_str(ev, "after_sha");
	const char *before = api_str(ev, "before_sha");
	const char *defb = api_str(ev, "default_branch");
	char *gitdir =
	    node_repo_dir(n, api_str(ev, "owner"), api_str(ev, "repo_name"));
	char *defref = guts_xasprintf("refs/heads/%s", defb);
	struct guts_strvec paths;
	int have_paths = 0, on_default = !strcmp(ref, defref);
	char *subject = NULL, *author = NULL, *key;
	struct start st = {0};

	guts_strvec_init(&paths);
	if (!strcmp(after, zeros) ||
	    (strncmp(ref, "refs/heads/", 11) && strncmp(ref, "refs/tags/", 10)))
		goto out; /* deletions and other refs start nothing */
	/* The default branch's own first push has nothing to diff against. */
	if (gitx_changed_paths(gitdir, before, after,
			       on_default && !strcmp(before, zeros) ? NULL
								    : defb,
			       &paths, &have_paths) < 0)
		have_paths = 0;
	if (gitx_commit_info(gitdir, after, &subject, &author) == 0) {
		char *a = guts_utf8_lossy(subject);

		free(subject);
		subject = a;
	}
	key = guts_xasprintf("push:%lld", (long long)api_int(ev, "id"));
	st.repo_id = api_int(ev, "repo_id");
	st.gitdir = gitdir;
	st.sha = after;
	st.ref = ref;
	st.actor = api_str(ev, "actor");
	st.title = subject;
	st.payload = push_payload(ev, gitdir);
	st.key = key;
	st.update_entries = on_default;
	st.e.name = "push";
	st.e.ref = ref;
	st.e.before = before;
	st.e.after = after;
	st.e.paths = (const char *const *)paths.v;
	st.e.nr_paths = paths.nr;
	st.e.have_paths = have_paths;
	start_runs(n, &st);
	json_decref((json_t *)st.payload);
	free(key);
out:
	if (!strncmp(ref, "refs/heads/", 11))
		pulls_on_push(n, ev);
	guts_strvec_release(&paths);
	free(subject);
	free(author);
	free(gitdir);
	free(defref);
}

int trigger_pull_request(struct node *n, const json_t *repo, const json_t *pull,
			 const char *action, const char *key, const char *actor,
			 const json_t *payload)
{
	char *gitdir =
	    node_repo_dir(n, api_str(repo, "owner"), api_str(repo, "name"));
	const char *head = api_str(pull, "head_sha"),
		   *sha = api_str(pull, "merge_sha");
	char *ref = guts_xasprintf("refs/pull/%lld/merge",
				   (long long)api_int(pull, "number"));
	char *basefull = guts_xasprintf("refs/heads/%s", api_str(pull, "base"));
	struct guts_strvec paths;
	int have_paths = 0;
	struct start st = {0};

	guts_strvec_init(&paths);
	if (!strcmp(action, "closed") && api_int(pull, "merged"))
		sha = api_str(pull, "merged_sha");
	else if (!strcmp(action, "closed") && (!sha || !*sha))
		sha = head;
	if (!sha || !*sha || !head) {
		/* As GitHub: a pull request that does not merge cleanly has
		 * no test merge to build, and no runs. */
		nlog(LOG_INFO, "pull request #%lld %s: no test merge (%s)",
		     (long long)api_int(pull, "number"), action,
		     head ? "conflicts" : "no head");
		goto out;
	}
	/* The pull request's diff: from the merge base to the head. */
	if (gitx_changed_paths(gitdir, zeros, head, api_str(pull, "base"),
			       &paths, &have_paths) < 0)
		have_paths = 0;
	st.repo_id = api_int(repo, "id");
	st.gitdir = gitdir;
	st.sha = sha;
	st.status_sha = head;
	st.ref = ref;
	st.actor = actor;
	st.title = api_str(pull, "title");
	st.payload = payload;
	st.key = key;
	st.e.name = "pull_request";
	st.e.action = action;
	st.e.base_ref = basefull;
	st.e.head_ref = api_str(pull, "head");
	st.e.paths = (const char *const *)paths.v;
	st.e.nr_paths = paths.nr;
	st.e.have_paths = have_paths;
	start_runs(n, &st);
out:
	guts_strvec_release(&paths);
	free(gitdir);
	free(ref);
	free(basefull);
	return 0;
}

void trigger_process_pending(struct node *n)
{
	json_t *rows = NULL, *row;
	size_t i;

	pthread_mutex_lock(&n->push_lock);
	if (store_query(n->st,
			"SELECT e.*, p.owner, p.name AS repo_name, "
			"p.default_branch FROM push_events e JOIN repos p ON "
			"p.id = e.repo_id WHERE e.state IN ('applied', "
			"'interrupted') ORDER BY e.id",
			NULL, 0, &rows) < 0) {
		pthread_mutex_unlock(&n->push_lock);
		return;
	}
	json_array_foreach(rows, i, row) {
		char *gitdir = node_repo_dir(n, api_str(row, "owner"),
					     api_str(row, "repo_name"));
		char now[41];
		int ret = gitx_ref_target(gitdir, api_str(row, "ref"), now);
		const char *after = api_str(row, "after_sha");
		int landed = !strcmp(after, zeros)
				 ? ret == GUTS_ENOTFOUND
				 : ret == 0 && !strcmp(now, after);

		/* A later push may have moved the ref on: what counts is
		 * that this update was applied, which 'applied' says. */
		if (landed || !strcmp(api_str(row, "state"), "applied"))
			process_event(n, row);
		store_exec(
		    n->st, "UPDATE push_events SET state = $2 WHERE id = $1",
		    STORE_ARGS(
			SI(api_int(row, "id")),
			SS(landed || !strcmp(api_str(row, "state"), "applied")
			       ? "done"
			       : "dropped")),
		    NULL);
		free(gitdir);
	}
	json_decref(rows);
	pthread_mutex_unlock(&n->push_lock);
}
