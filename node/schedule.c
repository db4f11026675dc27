/* Scheduled runs: see schedule.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "git.h"
#include "guts/alloc.h"
#include "guts/cron.h"
#include "guts/diag.h"
#include "guts/error.h"
#include "guts/strvec.h"
#include "guts/workflow.h"
#include "schedule.h"
#include "scheduler.h"
#include "trigger.h"
#include "banned.h"

/* A workflow with a schedule at a repository's default head. */
struct sched_wf {
	char *path;
	char *text;
	size_t len;
	struct guts_strvec crons; /* as written */
	struct guts_cron *parsed; /* one per cron */
};

/* What a repository's default head schedules; an empty list is cached as
 * well, so a repository without schedules costs a ref lookup a minute. */
struct sched_repo {
	int64_t id;
	char sha[GITX_SHA_HEX + 1];
	struct sched_wf *wfs;
	size_t nr;
	int seen; /* in the current tick's repository list */
};

/*
 * The module's state, the main loop's only (schedule.h): the cache and the
 * minute last looked at (-1: none yet, so the first tick works).
 */
static struct {
	struct sched_repo *repos;
	size_t nr, alloc;
	int64_t last_minute;
} state = {NULL, 0, 0, -1};

int schedule_crons(const char *path, const char *text, size_t len,
		   struct guts_strvec *crons)
{
	struct guts_workflow *wf = NULL;
	const struct guts_wf_trigger *t;
	struct guts_diags d;
	int ret;

	guts_diags_init(&d, path);
	ret = guts_workflow_parse(&wf, path, text, len, NULL, &d);
	if (ret < 0) {
		const char *msg = guts_error_message();

		guts_diags_sort(&d);
		for (size_t i = 0; i < d.nr; i++)
			if (d.v[i].severity == GUTS_DIAG_ERROR) {
				msg = d.v[i].message;
				break;
			}
		ret = guts_error(GUTS_EINVAL, "%s is not a valid workflow: %s",
				 path, msg);
		goto out;
	}
	t = guts_workflow_trigger(wf, "schedule");
	for (size_t i = 0; t && i < t->crons.nr; i++)
		if (guts_strvec_find(crons, t->crons.v[i]) < 0)
			guts_strvec_push(crons, t->crons.v[i]);
out:
	guts_workflow_free(wf);
	guts_diags_release(&d);
	return ret;
}

int schedule_claim(struct store *st, int64_t workflow_id, const char *cron,
		   int64_t minute_ms)
{
	int64_t changes = 0;
	/* The update happens only when the stored fire is older, so a second
	 * claim of the same minute (a restart within it) changes nothing. */
	int ret = store_exec(
	    st,
	    "INSERT INTO schedules (workflow_id, cron, last_fire) VALUES ($1, "
	    "$2, $3) ON CONFLICT (workflow_id, cron) DO UPDATE SET last_fire "
	    "= excluded.last_fire WHERE schedules.last_fire < "
	    "excluded.last_fire",
	    STORE_ARGS(SI(workflow_id), SS(cron), SI(minute_ms)), &changes);

	if (ret < 0)
		return ret;
	return changes > 0;
}

static void wfs_free(struct sched_wf *wfs, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(wfs[i].path);
		free(wfs[i].text);
		guts_strvec_release(&wfs[i].crons);
		free(wfs[i].parsed);
	}
	free(wfs);
}

/* Read and parse the scheduled workflows of @r at @sha into @r. */
static void repo_load(struct sched_repo *r, const char *gitdir,
		      const char *full, const char *sha)
{
	struct gitx_file *files = NULL;
	size_t nr = 0;

	wfs_free(r->wfs, r->nr);
	r->wfs = NULL;
	r->nr = 0;
	memcpy(r->sha, sha, sizeof(r->sha));
	/* Whatever happens below, this sha is done with: its problems are
	 * said once, not every minute. */
	if (gitx_read_workflows(gitdir, sha, &files, &nr) < 0) {
		nlog(LOG_WARN, "schedule %s@%.12s: reading workflows: %s", full,
		     sha, guts_error_message());
		return;
	}
	r->wfs = guts_xcalloc(nr ? nr : 1, sizeof(*r->wfs));
	for (size_t i = 0; i < nr; i++) {
		struct sched_wf *w = &r->wfs[r->nr];

		if (!files[i].text) {
			nlog(LOG_WARN, "schedule %s@%.12s: %s: %s", full, sha,
			     files[i].path,
			     files[i].error ? files[i].error : "unreadable");
			continue;
		}
		guts_strvec_init(&w->crons);
		if (schedule_crons(files[i].path, files[i].text, files[i].len,
				   &w->crons) < 0) {
			nlog(LOG_WARN, "schedule %s@%.12s: does not fire: %s",
			     full, sha, guts_error_message());
			guts_strvec_release(&w->crons);
			continue;
		}
		if (!w->crons.nr) {
			guts_strvec_release(&w->crons);
			continue;
		}
		w->parsed = guts_xcalloc(w->crons.nr, sizeof(*w->parsed));
		for (size_t k = 0; k < w->crons.nr; k++)
			/* The validator accepted it: this cannot fail. */
			guts_cron_parse(&w->parsed[k], w->crons.v[k]);
		w->path = files[i].path;
		w->text = files[i].text;
		w->len = files[i].len;
		files[i].path = NULL;
		files[i].text = NULL;
		nlog(LOG_DEBUG, "schedule %s@%.12s: %s has %zu cron%s", full,
		     sha, w->path, w->crons.nr, w->crons.nr == 1 ? "" : "s");
		r->nr++;
	}
	gitx_files_free(files, nr);
}

static struct sched_repo *repo_get(int64_t id)
{
	for (size_t i = 0; i < state.nr; i++)
		if (state.repos[i].id == id)
			return &state.repos[i];
	if (state.nr == state.alloc) {
		state.alloc = state.alloc ? 2 * state.alloc : 16;
		state.repos = guts_xrealloc(state.repos,
					    state.alloc * sizeof(*state.repos));
	}
	memset(&state.repos[state.nr], 0, sizeof(state.repos[0]));
	state.repos[state.nr].id = id;
	return &state.repos[state.nr++];
}

/* Drop the cache of repositories that are gone. */
static void repos_sweep(void)
{
	size_t k = 0;

	for (size_t i = 0; i < state.nr; i++) {
		if (!state.repos[i].seen) {
			wfs_free(state.repos[i].wfs, state.repos[i].nr);
			continue;
		}
		state.repos[i].seen = 0;
		state.repos[k++] = state.repos[i];
	}
	state.nr = k;
}

struct claim {
	int64_t workflow_id;
	const char *cron;
	int64_t minute_ms;
	int fired_before; /* the claim found it fired */
	int claimed;	  /* the claim recorded this fire */
};

static int claim_fire(struct node *n, void *ud)
{
	struct claim *c = ud;
	int ret = schedule_claim(n->st, c->workflow_id, c->cron, c->minute_ms);

	if (ret == 0) {
		c->fired_before = 1;
		return guts_error(GUTS_ECONFLICT, "already fired");
	}
	c->claimed = ret > 0;
	return ret < 0 ? ret : 0;
}

/* The workflow entry of @w, recorded from the default head when missing. */
static int workflow_id(struct node *n, int64_t repo_id,
		       const struct sched_wf *w, const char *sha, int64_t *id)
{
	json_t *row = NULL;
	int created, ret;

	ret = store_query_one(
	    n->st, "SELECT id FROM workflows WHERE repo_id = $1 AND path = $2",
	    STORE_ARGS(SI(repo_id), SS(w->path)), &row);
	if (ret == GUTS_ENOTFOUND)
		ret = trigger_record_workflow(n, repo_id, w->path, w->text,
					      w->len, sha, 0, &row, &created);
	if (ret == 0)
		*id = api_int(row, "id");
	json_decref(row);
	return ret;
}

static void fire(struct node *n, const json_t *repo, const struct sched_wf *w,
		 const char *cron, const char *sha, int64_t minute)
{
	const char *owner = api_str(repo, "owner"),
		   *name = api_str(repo, "name"),
		   *defb = api_str(repo, "default_branch");
	char *full = guts_xasprintf("%s/%s", owner, name);
	char *ref = guts_xasprintf("refs/heads/%s", defb);
	struct claim c = {0, cron, minute * 1000, 0, 0};
	struct run_request rq = {0};
	json_t *payload = NULL;
	char *key = NULL;
	int64_t run_id = 0;

	if (workflow_id(n, api_int(repo, "id"), w, sha, &c.workflow_id) < 0) {
		nlog(LOG_ERROR, "schedule %s: %s: recording the workflow: %s",
		     full, w->path, guts_error_message());
		goto out;
	}
	payload = json_pack("{s:s, s:{s:s, s:s, s:{s:s}, s:s}}", "schedule",
			    cron, "repository", "full_name", full, "name", name,
			    "owner", "login", owner, "default_branch", defb);
	key = guts_xasprintf("schedule:%lld:%s:%lld", (long long)c.workflow_id,
			     cron, (long long)minute);
	rq.repo_id = api_int(repo, "id");
	rq.workflow_id = c.workflow_id;
	rq.event = "schedule";
	rq.ref = ref;
	rq.sha = sha;
	rq.payload = payload;
	rq.event_key = key;
	rq.source = w->text;
	rq.claim = claim_fire;
	rq.claim_ud = &c;
	if (sched_create_run(n, &rq, &run_id) < 0) {
		if (c.fired_before)
			nlog(LOG_DEBUG, "schedule %s: %s '%s': already fired",
			     full, w->path, cron);
		else
			nlog(LOG_ERROR,
			     "schedule %s: %s '%s': creating the "
			     "run: %s",
			     full, w->path, cron, guts_error_message());
		goto out;
	}
	/* Without a claim, the run of this minute's event key was there. */
	if (c.claimed)
		nlog(LOG_INFO, "schedule %s: %s '%s': run %lld", full, w->path,
		     cron, (long long)run_id);
	else
		nlog(LOG_DEBUG,
		     "schedule %s: %s '%s': already fired (run %lld)", full,
		     w->path, cron, (long long)run_id);
out:
	json_decref(payload);
	free(key);
	free(full);
	free(ref);
}

/* Fire what @repo's default head schedules for @minute. */
static void repo_tick(struct node *n, const json_t *repo, int64_t minute)
{
	const char *owner = api_str(repo, "owner"),
		   *name = api_str(repo, "name");
	char *gitdir = node_repo_dir(n, owner, name);
	char *ref =
	    guts_xasprintf("refs/heads/%s", api_str(repo, "default_branch"));
	char *full = guts_xasprintf("%s/%s", owner, name);
	char sha[GITX_SHA_HEX + 1];
	struct sched_repo *r;

	/* An empty repository (no default branch yet) schedules nothing. */
	if (gitx_ref_sha(gitdir, ref, sha) < 0)
		goto out;
	r = repo_get(api_int(repo, "id"));
	r->seen = 1;
	if (strcmp(r->sha, sha))
		repo_load(r, gitdir, full, sha);
	for (size_t i = 0; i < r->nr && !n->draining && !n->stopping; i++)
		for (size_t k = 0; k < r->wfs[i].crons.nr; k++)
			if (guts_cron_match(&r->wfs[i].parsed[k],
					    (time_t)minute))
				fire(n, repo, &r->wfs[i], r->wfs[i].crons.v[k],
				     sha, minute);
out:
	free(gitdir);
	free(ref);
	free(full);
}

void schedule_tick(struct node *n)
{
	time_t now = time(NULL);
	int64_t minute = (int64_t)now - (int64_t)now % 60;
	json_t *repos = NULL, *repo;
	size_t i;

	if (n->draining || n->stopping || minute == state.last_minute)
		return;
	state.last_minute = minute;
	if (store_query(n->st,
			"SELECT id, owner, name, default_branch FROM repos "
			"ORDER BY id",
			NULL, 0, &repos) < 0) {
		nlog(LOG_ERROR, "schedule: listing repositories: %s",
		     guts_error_message());
		return;
	}
	json_array_foreach(repos, i, repo)
		repo_tick(n, repo, minute);
	repos_sweep();
	json_decref(repos);
}
