/* Pull requests: see pulls.h and docs/pulls.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/json.h"
#include "guts/strvec.h"
#include "protect.h"
#include "pulls.h"
#include "trigger.h"
#include "banned.h"

#define TITLE_MAX 256
#define BODY_MAX (64 * 1024)

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static char *repo_gitdir(struct node *n, const json_t *repo)
{
	return node_repo_dir(n, api_str(repo, "owner"), api_str(repo, "name"));
}

/* The API's (and github.event's) shape of a pulls row. */
static json_t *pull_json(struct node *n, const json_t *repo, const json_t *p)
{
	char *full = api_repo_key(repo);
	char *url = guts_xasprintf("%s/%s/pulls/%lld", n->base_url, full,
				   (long long)api_int(p, "number"));
	char *label =
	    guts_xasprintf("%s:%s", api_str(repo, "owner"), api_str(p, "head"));
	json_t *m = json_object_get(p, "mergeable");
	json_t *conf = NULL;
	int merged = api_int(p, "merged") != 0;
	const char *author = api_str(p, "author");
	json_t *j;

	if (api_str(p, "conflicts"))
		conf = json_loads(api_str(p, "conflicts"), 0, NULL);
	j = json_pack(
	    "{s:I, s:I, s:s, s:s, s:o, s:o, s:{s:s, s:o, s:s}, s:{s:s, s:o}, "
	    "s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
	    "id", (json_int_t)api_int(p, "id"), "number",
	    (json_int_t)api_int(p, "number"), "state", api_str(p, "state"),
	    "title", api_str(p, "title"), "body",
	    str_or_null(api_str(p, "body")), "user",
	    author ? json_pack("{s:s}", "login", author) : json_null(), "head",
	    "ref", api_str(p, "head"), "sha",
	    str_or_null(api_str(p, "head_sha")), "label", label, "base", "ref",
	    api_str(p, "base"), "sha", str_or_null(api_str(p, "base_sha")),
	    "merged", merged, "merge_commit_sha",
	    str_or_null(merged ? api_str(p, "merged_sha")
			       : api_str(p, "merge_sha")),
	    "mergeable",
	    json_is_integer(m) ? json_boolean(json_integer_value(m))
			       : json_null(),
	    "conflicts", conf ? conf : json_array(), "merged_by",
	    api_str(p, "merged_by")
		? json_pack("{s:s}", "login", api_str(p, "merged_by"))
		: json_null(),
	    "merged_at", api_time(p, "merged_at"), "created_at",
	    api_time(p, "created_at"), "updated_at", api_time(p, "updated_at"),
	    "closed_at", api_time(p, "closed_at"), "html_url", url);
	free(full);
	free(url);
	free(label);
	return j ? j : json_object();
}

/* github.event of a pull_request event. */
static json_t *event_payload(struct node *n, const json_t *repo,
			     const json_t *p, const char *action,
			     const char *actor)
{
	char *full = api_repo_key(repo);
	json_t *j = json_pack(
	    "{s:s, s:I, s:o, s:{s:s, s:s, s:{s:s}, s:s}, s:{s:s}}", "action",
	    action, "number", (json_int_t)api_int(p, "number"), "pull_request",
	    pull_json(n, repo, p), "repository", "full_name", full, "name",
	    api_str(repo, "name"), "owner", "login", api_str(repo, "owner"),
	    "default_branch", api_str(repo, "default_branch"), "sender",
	    "login", actor ? actor : "guts");

	free(full);
	return j ? j : json_object();
}

static int load_pull(struct node *n, int64_t repo_id, int64_t number,
		     json_t **pull)
{
	return store_query_one(
	    n->st, "SELECT * FROM pulls WHERE repo_id = $1 AND number = $2",
	    STORE_ARGS(SI(repo_id), SI(number)), pull);
}

/*
 * Bring the pull request's refs and row up to date with its branches:
 * refs/pull/N/head at the head, refs/pull/N/merge at a test merge (or gone
 * when they conflict).  *pull is replaced by the new row.  Nothing is done
 * when neither branch moved.  GUTS_ENOTFOUND when a branch is gone.
 */
static int refresh(struct node *n, const char *gitdir, json_t **pull)
{
	json_t *p = *pull, *row = NULL, *conf = NULL;
	char head[41], base[41], merge[41] = "", *ref, *msg;
	char *head_ref = guts_xasprintf("refs/heads/%s", api_str(p, "head"));
	char *base_ref = guts_xasprintf("refs/heads/%s", api_str(p, "base"));
	struct guts_strvec conflicts = GUTS_STRVEC_INIT;
	int64_t number = api_int(p, "number");
	int ret, mergeable;

	ret = gitx_ref_sha(gitdir, head_ref, head);
	if (ret == 0)
		ret = gitx_ref_sha(gitdir, base_ref, base);
	if (ret < 0)
		goto out;
	if (api_str(p, "head_sha") && !strcmp(api_str(p, "head_sha"), head) &&
	    api_str(p, "base_sha") && !strcmp(api_str(p, "base_sha"), base) &&
	    json_is_integer(json_object_get(p, "mergeable")))
		goto out;
	ref = guts_xasprintf("refs/pull/%lld/head", (long long)number);
	ret = gitx_set_ref(gitdir, ref, head, NULL, "guts: pull request head");
	free(ref);
	if (ret < 0)
		goto out;
	msg = guts_xasprintf("Merge %s into %s", head, base);
	ret = gitx_merge(gitdir, base, head, 0, msg, "Guts", "guts@localhost",
			 merge, &conflicts);
	free(msg);
	if (ret < 0 && ret != GUTS_ECONFLICT)
		goto out;
	mergeable = ret == 0;
	ref = guts_xasprintf("refs/pull/%lld/merge", (long long)number);
	ret = mergeable
		  ? gitx_set_ref(gitdir, ref, merge, NULL, "guts: test merge")
		  : gitx_delete_ref(gitdir, ref);
	free(ref);
	if (ret < 0)
		goto out;
	conf = json_array();
	for (size_t i = 0; i < conflicts.nr; i++)
		json_array_append_new(conf, json_string(conflicts.v[i]));
	msg = json_dumps(conf, JSON_COMPACT);
	ret = store_query_one(
	    n->st,
	    "UPDATE pulls SET head_sha = $2, base_sha = $3, merge_sha = $4, "
	    "mergeable = $5, conflicts = $6, updated_at = $7 WHERE id = $1 "
	    "RETURNING *",
	    STORE_ARGS(SI(api_int(p, "id")), SS(head), SS(base),
		       SS(mergeable ? merge : NULL), SI(mergeable), SS(msg),
		       SI(store_now_ms())),
	    &row);
	free(msg);
	if (ret == 0) {
		json_decref(*pull);
		*pull = row;
	}
out:
	json_decref(conf);
	guts_strvec_release(&conflicts);
	free(head_ref);
	free(base_ref);
	return ret;
}

/* Start the runs of a pull_request event; @what keys it. */
static void fire(struct node *n, const json_t *repo, const json_t *pull,
		 const char *action, const char *what, const char *actor)
{
	json_t *payload = event_payload(n, repo, pull, action, actor);
	char *key = guts_xasprintf(
	    "pr:%lld:%s:%s", (long long)api_int(pull, "id"), action, what);

	trigger_pull_request(n, repo, pull, action, key, actor, payload);
	free(key);
	json_decref(payload);
}

/*
 * The pull request's pending event (pending_action, set in the same
 * statement as the change it reports): its runs, then the mark cleared.
 * Keyed by event_seq, so firing it again after a crash starts nothing
 * twice.  *pull is refreshed first when it is open.
 */
static void settle(struct node *n, const json_t *repo, const char *gitdir,
		   json_t **pull, const char *actor)
{
	const char *pending = api_str(*pull, "pending_action");
	char *what, *action;

	if (!pending || !strcmp(pending, "merging"))
		return;
	/* refresh() replaces *pull. */
	action = guts_xstrdup(pending);
	if (!strcmp(api_str(*pull, "state"), "open") &&
	    refresh(n, gitdir, pull) < 0)
		nlog(LOG_WARN, "pull request #%lld: %s",
		     (long long)api_int(*pull, "number"), guts_error_message());
	what = guts_xasprintf("%lld", (long long)api_int(*pull, "event_seq"));
	fire(n, repo, *pull, action, what, actor);
	free(what);
	free(action);
	store_exec(n->st,
		   "UPDATE pulls SET pending_action = NULL WHERE id = $1 AND "
		   "event_seq = $2",
		   STORE_ARGS(SI(api_int(*pull, "id")),
			      SI(api_int(*pull, "event_seq"))),
		   NULL);
}

void pulls_on_push(struct node *n, const json_t *ev)
{
	const char *branch = api_str(ev, "ref") + 11;
	json_t *rows = NULL, *row, *repo = NULL;
	char *gitdir = NULL;
	size_t i;

	if (!strcmp(api_str(ev, "after_sha"), GITX_ZERO_SHA))
		return; /* a deleted branch: its pull requests stay as they are
			 */
	if (store_query(n->st,
			"SELECT * FROM pulls WHERE repo_id = $1 AND state = "
			"'open' AND (head = $2 OR base = $2) ORDER BY id",
			STORE_ARGS(SI(api_int(ev, "repo_id")), SS(branch)),
			&rows) < 0 ||
	    !json_array_size(rows) ||
	    store_query_one(n->st, "SELECT * FROM repos WHERE id = $1",
			    STORE_ARGS(SI(api_int(ev, "repo_id"))), &repo) < 0)
		goto out;
	gitdir = repo_gitdir(n, repo);
	json_array_foreach(rows, i, row) {
		json_t *p = json_incref(row);

		/* Only the base moved: the test merge is made again when
		 * someone looks (GET, merge), as GitHub does, so a push to
		 * a busy base costs no merge per open pull request. */
		if (strcmp(api_str(p, "head"), branch)) {
			store_exec(n->st,
				   "UPDATE pulls SET mergeable = NULL WHERE "
				   "id = $1",
				   STORE_ARGS(SI(api_int(p, "id"))), NULL);
			json_decref(p);
			continue;
		}
		/* Keyed by the head it builds: pushes processed together
		 * (or again, after a crash) start one set of runs. */
		if (refresh(n, gitdir, &p) < 0)
			nlog(LOG_WARN, "pull request #%lld: %s",
			     (long long)api_int(p, "number"),
			     guts_error_message());
		else if (!strcmp(api_str(p, "head"), branch))
			fire(n, repo, p, "synchronize", api_str(p, "head_sha"),
			     api_str(ev, "actor"));
		json_decref(p);
	}
out:
	free(gitdir);
	json_decref(repo);
	json_decref(rows);
}

/* ---- the API ------------------------------------------------------------ */

static int route_pull(struct http_req *r, enum scope need, json_t **repo,
		      json_t **pull)
{
	int64_t number;
	int ret;

	*pull = NULL;
	if (!api_repo(r, r->params[0], r->params[1], need, repo))
		return 0;
	if (node_int(r->params[2], 0, &number) < 0 || number <= 0) {
		http_error(r, "bad_request",
			   "'%s' is not a pull request number", r->params[2]);
	} else if ((ret = load_pull(r->node, api_int(*repo, "id"), number,
				    pull)) < 0) {
		if (ret == GUTS_ENOTFOUND)
			http_error(r, "not_found",
				   "pull request #%lld not found",
				   (long long)number);
		else
			http_fail(r, ret);
	} else {
		return 1;
	}
	json_decref(*repo);
	*repo = NULL;
	return 0;
}

/* A string field of @b: NULL when absent; 0 (answered) when not a string
 * or longer than @max. */
static int opt_string(struct http_req *r, const json_t *b, const char *k,
		      size_t max, const char **out)
{
	const json_t *v = json_object_get(b, k);

	*out = NULL;
	if (!v || json_is_null(v))
		return 1;
	if (!json_is_string(v)) {
		http_error(r, "unprocessable", "%s: expected a string", k);
		return 0;
	}
	if (json_string_length(v) > max) {
		http_error(r, "unprocessable", "%s: longer than %zu bytes", k,
			   max);
		return 0;
	}
	*out = json_string_value(v);
	return 1;
}

/* @name must be an existing branch of the repository. */
static int branch_exists(struct http_req *r, const char *gitdir,
			 const char *field, const char *name)
{
	char *ref, sha[41];
	int ret;

	if (!*name || strchr(name, ' ') || !strncmp(name, "refs/", 5)) {
		http_error(r, "unprocessable", "%s: '%s' is not a branch name",
			   field, name);
		return 0;
	}
	ref = guts_xasprintf("refs/heads/%s", name);
	ret = gitx_ref_sha(gitdir, ref, sha);
	free(ref);
	if (ret == GUTS_ENOTFOUND || ret == GUTS_EINVAL) {
		http_error(r, "unprocessable", "%s: no branch '%s'", field,
			   name);
		return 0;
	}
	if (ret < 0) {
		http_fail(r, ret);
		return 0;
	}
	return 1;
}

void api_pulls_create(struct http_req *r)
{
	struct node *n = r->node;
	json_t *repo = NULL, *b = NULL, *row = NULL, *num = NULL;
	const char *title, *body, *head, *base;
	char *gitdir = NULL, *full = NULL;
	int64_t now = store_now_ms();
	int ret;

	if (!api_repo(r, r->params[0], r->params[1], SCOPE_WRITE, &repo) ||
	    !(b = http_body_json(r)))
		goto out;
	if (!opt_string(r, b, "title", TITLE_MAX, &title) ||
	    !opt_string(r, b, "body", BODY_MAX, &body) ||
	    !opt_string(r, b, "head", 255, &head) ||
	    !opt_string(r, b, "base", 255, &base))
		goto out;
	if (!title || !*title || !head || !base) {
		http_error(r, "unprocessable", "%s: required",
			   !title || !*title ? "title"
			   : !head	     ? "head"
					     : "base");
		goto out;
	}
	if (!strcmp(head, base)) {
		http_error(r, "unprocessable",
			   "head and base are both '%s': nothing to merge",
			   head);
		goto out;
	}
	gitdir = repo_gitdir(n, repo);
	if (!branch_exists(r, gitdir, "head", head) ||
	    !branch_exists(r, gitdir, "base", base))
		goto out;
	pthread_mutex_lock(&n->push_lock);
	ret = store_query_one(
	    n->st,
	    "SELECT number FROM pulls WHERE repo_id = $1 AND "
	    "head = $2 AND base = $3 AND state = 'open'",
	    STORE_ARGS(SI(api_int(repo, "id")), SS(head), SS(base)), &num);
	if (ret == 0) {
		pthread_mutex_unlock(&n->push_lock);
		http_error(
		    r, "unprocessable",
		    "a pull request from %s to %s is already open (#%lld)",
		    head, base, (long long)api_int(num, "number"));
		goto out;
	}
	json_decref(num);
	num = NULL;
	ret = store_query_one(
	    n->st,
	    "INSERT INTO pulls (repo_id, number, title, body, head, base, "
	    "state, author, pending_action, event_seq, created_at, "
	    "updated_at) VALUES ($1, (SELECT COALESCE(MAX(number), 0) + 1 "
	    "FROM pulls WHERE repo_id = $1), $2, $3, $4, $5, 'open', $6, "
	    "'opened', 1, $7, $7) RETURNING *",
	    STORE_ARGS(SI(api_int(repo, "id")), SS(title), SS(body), SS(head),
		       SS(base), SS(r->who.user), SI(now)),
	    &row);
	if (ret == 0)
		settle(n, repo, gitdir, &row, r->who.user);
	pthread_mutex_unlock(&n->push_lock);
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	full = guts_xasprintf("%s/%s#%lld", api_str(repo, "owner"),
			      api_str(repo, "name"),
			      (long long)api_int(row, "number"));
	node_audit(n, r->who.user, "pull.create", full,
		   json_pack("{s:s, s:s}", "head", head, "base", base));
	http_json(r, 201, pull_json(n, repo, row));
out:
	free(full);
	free(gitdir);
	json_decref(row);
	json_decref(num);
	json_decref(b);
	json_decref(repo);
}

void api_pulls_list(struct http_req *r)
{
	json_t *repo, *rows = NULL, *row, *out, *cnt = NULL;
	const char *state = http_query(r, "state");
	int64_t limit, offset;
	size_t i;
	char *link;
	int ret;
	static const char where[] =
	    "FROM pulls WHERE repo_id = $1 AND ($2 = 'all' OR state = $2) "
	    "AND ($3 IS NULL OR base = $3) AND ($4 IS NULL OR head = $4)";
	char *q1, *q2;

	if (!state)
		state = "open";
	if (strcmp(state, "open") && strcmp(state, "closed") &&
	    strcmp(state, "all")) {
		http_error(r, "bad_request",
			   "state: expected open, closed or all");
		return;
	}
	if (!api_repo(r, r->params[0], r->params[1], SCOPE_READ, &repo))
		return;
	http_page(r, &limit, &offset);
	q1 = guts_xasprintf(
	    "SELECT * %s ORDER BY number DESC LIMIT $5 OFFSET $6", where);
	q2 = guts_xasprintf("SELECT COUNT(*) AS c %s", where);
	ret = store_query(r->node->st, q1,
			  STORE_ARGS(SI(api_int(repo, "id")), SS(state),
				     SS(http_query(r, "base")),
				     SS(http_query(r, "head")), SI(limit),
				     SI(offset)),
			  &rows);
	if (ret == 0)
		ret = store_query_one(r->node->st, q2,
				      STORE_ARGS(SI(api_int(repo, "id")),
						 SS(state),
						 SS(http_query(r, "base")),
						 SS(http_query(r, "head"))),
				      &cnt);
	free(q1);
	free(q2);
	if (ret < 0) {
		http_fail(r, ret);
		json_decref(repo);
		json_decref(rows);
		return;
	}
	out = json_array();
	json_array_foreach(rows, i, row)
		json_array_append_new(out, pull_json(r->node, repo, row));
	link = http_link(r, api_int(cnt, "c"));
	http_json_link(r, 200, out, link);
	free(link);
	json_decref(rows);
	json_decref(cnt);
	json_decref(repo);
}

/*
 * Why @pull cannot merge now, as a list of reasons (empty: it can): closed,
 * conflicts, and whatever branch protection refuses.  @bypass skips the
 * protection (an admin's ?bypass=1).
 */
static json_t *blockers(struct node *n, const json_t *repo, const json_t *pull,
			const char *gitdir, int bypass)
{
	json_t *out = json_array();
	char *why = NULL;
	int ret;
	if (strcmp(api_str(pull, "state"), "open")) {
		json_array_append_new(
		    out, json_string(api_int(pull, "merged")
					 ? "the pull request is already merged"
					 : "the pull request is closed"));
		return out;
	}
	if (!api_str(pull, "head_sha")) {
		json_array_append_new(
		    out,
		    json_sprintf("the head branch '%s' or the base branch "
				 "'%s' no longer exists",
				 api_str(pull, "head"), api_str(pull, "base")));
		return out;
	}
	if (json_is_integer(json_object_get(pull, "mergeable")) &&
	    !api_int(pull, "mergeable"))
		json_array_append_new(
		    out,
		    json_sprintf("%s and %s have conflicts: %s",
				 api_str(pull, "head"), api_str(pull, "base"),
				 api_str(pull, "conflicts")));
	if (bypass)
		return out;
	ret = protect_check_merge(
	    n, api_int(repo, "id"), gitdir, api_str(pull, "base"),
	    api_str(pull, "base_sha"), api_str(pull, "head_sha"), &why);
	if (ret == GUTS_ECONFLICT && why) {
		/* One reason per check rule ("…; the head is behind"). */
		char *save = NULL;

		for (char *p = strtok_r(why, ";", &save); p;
		     p = strtok_r(NULL, ";", &save)) {
			while (*p == ' ')
				p++;
			if (*p)
				json_array_append_new(out, json_string(p));
		}
	} else if (ret < 0) {
		json_array_append_new(
		    out,
		    json_sprintf("cannot check the branch protection of "
				 "%s: %s",
				 api_str(pull, "base"), guts_error_message()));
	}
	free(why);
	return out;
}

void api_pulls_get(struct http_req *r)
{
	json_t *repo, *pull, *j, *why;
	char *gitdir;

	if (!route_pull(r, SCOPE_READ, &repo, &pull))
		return;
	gitdir = repo_gitdir(r->node, repo);
	if (!strcmp(api_str(pull, "state"), "open")) {
		/* Up to date with both branches (the base may have moved). */
		pthread_mutex_lock(&r->node->push_lock);
		if (refresh(r->node, gitdir, &pull) == GUTS_ENOTFOUND)
			json_object_set_new(pull, "head_sha", json_null());
		pthread_mutex_unlock(&r->node->push_lock);
	}
	why = blockers(r->node, repo, pull, gitdir, 0);
	j = pull_json(r->node, repo, pull);
	json_object_set_new(j, "can_merge",
			    json_boolean(!json_array_size(why)));
	json_object_set_new(j, "merge_blockers", why);
	http_json(r, 200, j);
	free(gitdir);
	json_decref(pull);
	json_decref(repo);
}

void api_pulls_patch(struct http_req *r)
{
	struct node *n = r->node;
	json_t *repo = NULL, *pull = NULL, *b = NULL, *row = NULL;
	const char *title, *body, *state, *action = NULL;
	char *gitdir = NULL, *full = NULL;
	int64_t now = store_now_ms();
	int ret;

	if (!route_pull(r, SCOPE_WRITE, &repo, &pull) ||
	    !(b = http_body_json(r)))
		goto out;
	if (!opt_string(r, b, "title", TITLE_MAX, &title) ||
	    !opt_string(r, b, "body", BODY_MAX, &body) ||
	    !opt_string(r, b, "state", 16, &state))
		goto out;
	if (title && !*title) {
		http_error(r, "unprocessable", "title: must not be empty");
		goto out;
	}
	if (state && strcmp(state, "open") && strcmp(state, "closed")) {
		http_error(r, "unprocessable",
			   "state: expected open or closed");
		goto out;
	}
	gitdir = repo_gitdir(n, repo);
	pthread_mutex_lock(&n->push_lock);
	/* Again under the lock: a merge may have closed it meanwhile. */
	{
		int64_t id = api_int(pull, "id");

		json_decref(pull);
		pull = NULL;
		ret =
		    store_query_one(n->st, "SELECT * FROM pulls WHERE id = $1",
				    STORE_ARGS(SI(id)), &pull);
	}
	if (ret == 0 && state && strcmp(state, api_str(pull, "state"))) {
		if (api_int(pull, "merged")) {
			pthread_mutex_unlock(&n->push_lock);
			http_error(r, "unprocessable",
				   "pull request #%lld is merged: it cannot "
				   "be reopened",
				   (long long)api_int(pull, "number"));
			goto out;
		}
		action = !strcmp(state, "open") ? "reopened" : "closed";
	}
	if (ret == 0 && !strcmp(state ? state : "", "open") && action) {
		ret = store_query_one(
		    n->st,
		    "SELECT number FROM pulls WHERE repo_id = $1 AND head = $2 "
		    "AND base = $3 AND state = 'open'",
		    STORE_ARGS(SI(api_int(repo, "id")),
			       SS(api_str(pull, "head")),
			       SS(api_str(pull, "base"))),
		    &row);
		if (ret == 0) {
			pthread_mutex_unlock(&n->push_lock);
			http_error(r, "unprocessable",
				   "a pull request from %s to %s is already "
				   "open (#%lld)",
				   api_str(pull, "head"), api_str(pull, "base"),
				   (long long)api_int(row, "number"));
			goto out;
		}
		json_decref(row);
		row = NULL;
		ret = 0;
	}
	if (ret == 0)
		ret = store_query_one(
		    n->st,
		    "UPDATE pulls SET title = COALESCE($2, title), body = "
		    "COALESCE($3, body), state = COALESCE($4, state), "
		    "closed_at = CASE WHEN $4 = 'closed' THEN COALESCE("
		    "closed_at, $5) WHEN $4 = 'open' THEN NULL ELSE closed_at "
		    "END, updated_at = $5, pending_action = COALESCE($6, "
		    "pending_action), event_seq = event_seq + CASE WHEN $6 IS "
		    "NULL THEN 0 ELSE 1 END WHERE id = $1 RETURNING *",
		    STORE_ARGS(SI(api_int(pull, "id")), SS(title), SS(body),
			       SS(state), SI(now), SS(action)),
		    &row);
	if (ret == 0 && action)
		settle(n, repo, gitdir, &row, r->who.user);
	pthread_mutex_unlock(&n->push_lock);
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	full = guts_xasprintf("%s/%s#%lld", api_str(repo, "owner"),
			      api_str(repo, "name"),
			      (long long)api_int(row, "number"));
	node_audit(n, r->who.user, action ? "pull.state" : "pull.edit", full,
		   action ? json_pack("{s:s}", "state", state) : NULL);
	http_json(r, 200, pull_json(n, repo, row));
out:
	free(full);
	free(gitdir);
	json_decref(row);
	json_decref(b);
	json_decref(pull);
	json_decref(repo);
}

/* The commit message of a merge (or squash) of @pull. */
static char *merge_message(const json_t *repo, const json_t *pull,
			   const char *method, const char *title,
			   const char *message)
{
	long long num = (long long)api_int(pull, "number");

	if (!title && !strcmp(method, "squash"))
		return guts_xasprintf(
		    "%s (#%lld)\n\n%s\n", api_str(pull, "title"), num,
		    message		    ? message
		    : api_str(pull, "body") ? api_str(pull, "body")
					    : "");
	if (!title)
		return guts_xasprintf(
		    "Merge pull request #%lld from %s/%s\n\n%s\n", num,
		    api_str(repo, "owner"), api_str(pull, "head"),
		    message ? message : api_str(pull, "title"));
	return guts_xasprintf("%s\n\n%s\n", title, message ? message : "");
}

/* Answer 409 with the reasons (and the conflicting paths, when that is
 * what they are). */
static void refuse(struct http_req *r, json_t *why, const json_t *pull)
{
	struct guts_buf b;
	json_t *v, *conf = NULL;
	size_t i;

	guts_buf_init(&b, 0);
	guts_buf_addf(&b, "pull request #%lld cannot merge: ",
		      (long long)api_int(pull, "number"));
	json_array_foreach(why, i, v) {
		if (i)
			guts_buf_adds(&b, "; ");
		guts_buf_adds(&b, json_string_value(v));
	}
	if (api_str(pull, "conflicts"))
		conf = json_loads(api_str(pull, "conflicts"), 0, NULL);
	http_json(r, 409,
		  json_pack("{s:{s:s, s:s, s:O, s:o}}", "error", "code",
			    "conflict", "message", b.data, "reasons", why,
			    "conflicts", conf ? conf : json_array()));
	guts_buf_release(&b);
}

/*
 * Move the base branch from @old to @new as a push would: recorded as a
 * push event first (so its runs start, after a crash too), then the ref,
 * under the repository's lock.  GUTS_ECONFLICT when it moved meanwhile.
 */
static int move_base(struct node *n, const json_t *repo, const char *gitdir,
		     const char *branch, const char *old, const char *new,
		     const char *actor)
{
	struct gitx_ref_update u;
	int64_t id;
	int ret;

	memset(&u, 0, sizeof(u));
	u.ref = guts_xasprintf("refs/heads/%s", branch);
	memcpy(u.old_sha, old, 41);
	memcpy(u.new_sha, new, 41);
	ret = trigger_push_begin(n, api_int(repo, "id"), actor, &u, 1, &id);
	if (ret == 0) {
		ret = gitx_set_ref(gitdir, u.ref, new, old, "guts: merge");
		store_exec(
		    n->st, "UPDATE push_events SET state = $2 WHERE id = $1",
		    STORE_ARGS(SI(id), SS(ret ? "dropped" : "applied")), NULL);
	}
	free(u.ref);
	return ret;
}

/* The merge of @pull_id as @sha landed: closed, merged, `closed` pending. */
static int finish_merge(struct node *n, int64_t pull_id, json_t **row)
{
	return store_query_one(
	    n->st,
	    "UPDATE pulls SET state = 'closed', merged = 1, merged_at = $2, "
	    "closed_at = $2, updated_at = $2, pending_action = 'closed', "
	    "event_seq = event_seq + 1 WHERE id = $1 RETURNING *",
	    STORE_ARGS(SI(pull_id), SI(store_now_ms())), row);
}

void api_pulls_merge(struct http_req *r)
{
	struct node *n = r->node;
	json_t *repo = NULL, *pull = NULL, *b = NULL, *why = NULL, *row = NULL;
	const char *method = "merge", *title, *message, *expect;
	const char *bp = http_query(r, "bypass");
	int bypass = bp && !strcmp(bp, "1");
	char *gitdir = NULL, *msg = NULL, *full = NULL, *who = NULL;
	char head[41], base[41], new[41];
	pthread_mutex_t *rlock = NULL;
	int ret, locked = 0;

	if (!route_pull(r, SCOPE_WRITE, &repo, &pull))
		goto out;
	b = r->body.len ? http_body_json(r) : json_object();
	if (!b)
		goto out;
	if (!opt_string(r, b, "merge_method", 16, &method) ||
	    !opt_string(r, b, "commit_title", TITLE_MAX, &title) ||
	    !opt_string(r, b, "commit_message", BODY_MAX, &message) ||
	    !opt_string(r, b, "sha", 40, &expect))
		goto out;
	if (!method && !opt_string(r, b, "method", 16, &method))
		goto out;
	if (!method)
		method = "merge";
	if (strcmp(method, "merge") && strcmp(method, "squash") &&
	    strcmp(method, "fast-forward")) {
		http_error(r, "unprocessable",
			   "method: expected merge, squash or fast-forward");
		goto out;
	}
	if (bypass && !r->who.is_admin) {
		http_error(r, "forbidden",
			   "only admins may bypass branch protection");
		goto out;
	}
	gitdir = repo_gitdir(n, repo);
	/* The repository's lock first, as pushes take it: a push in flight
	 * makes this merge wait, not every push's processing. */
	rlock = node_repo_lock(n, api_int(repo, "id"));
	pthread_mutex_lock(rlock);
	pthread_mutex_lock(&n->push_lock);
	locked = 1;
	json_decref(pull);
	pull = NULL;
	ret = load_pull(n, api_int(repo, "id"), strtoll(r->params[2], NULL, 10),
			&pull);
	if (ret == 0 && !strcmp(api_str(pull, "state"), "open") &&
	    refresh(n, gitdir, &pull) == GUTS_ENOTFOUND)
		json_object_set_new(pull, "head_sha", json_null());
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	why = blockers(n, repo, pull, gitdir, bypass);
	if (json_array_size(why)) {
		refuse(r, why, pull);
		goto out;
	}
	memcpy(head, api_str(pull, "head_sha"), 41);
	memcpy(base, api_str(pull, "base_sha"), 41);
	if (expect && strcmp(expect, head)) {
		http_error(
		    r, "conflict",
		    "the head of pull request #%lld is %.12s, not %.12s: "
		    "it moved",
		    (long long)api_int(pull, "number"), head, expect);
		goto out;
	}
	if (gitx_is_ancestor(gitdir, head, base) > 0) {
		http_error(r, "conflict",
			   "nothing to merge: %s already contains %s",
			   api_str(pull, "base"), api_str(pull, "head"));
		goto out;
	}
	who = guts_xasprintf("%s@guts", r->who.user);
	if (!strcmp(method, "fast-forward")) {
		ret = gitx_is_ancestor(gitdir, base, head);
		if (ret == 0) {
			http_error(r, "conflict",
				   "%s cannot fast-forward to %s: it has "
				   "commits the head does not",
				   api_str(pull, "base"),
				   api_str(pull, "head"));
			goto out;
		}
		if (ret > 0) {
			memcpy(new, head, 41);
			ret = 0;
		}
	} else {
		msg = merge_message(repo, pull, method, title, message);
		ret = gitx_merge(gitdir, base, head, !strcmp(method, "squash"),
				 msg, r->who.user, who, new, NULL);
	}
	/* The intent first: a crash once the base moved finishes the merge
	 * at start-up (pulls_recover()). */
	if (ret == 0)
		ret =
		    store_exec(n->st,
			       "UPDATE pulls SET pending_action = 'merging', "
			       "merged_sha = $2, merged_by = $3 WHERE id = $1",
			       STORE_ARGS(SI(api_int(pull, "id")), SS(new),
					  SS(r->who.user)),
			       NULL);
	if (ret == 0) {
		ret = move_base(n, repo, gitdir, api_str(pull, "base"), base,
				new, r->who.user);
		if (ret < 0)
			store_exec(n->st,
				   "UPDATE pulls SET pending_action = NULL, "
				   "merged_sha = NULL, merged_by = NULL WHERE "
				   "id = $1",
				   STORE_ARGS(SI(api_int(pull, "id"))), NULL);
	}
	if (ret == GUTS_ECONFLICT) {
		http_error(r, "conflict", "%s: %s", api_str(pull, "base"),
			   guts_error_message());
		goto out;
	}
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	if (finish_merge(n, api_int(pull, "id"), &row) < 0)
		nlog(LOG_ERROR,
		     "pull request #%lld merged as %.12s, but not recorded: "
		     "%s (the next start records it)",
		     (long long)api_int(pull, "number"), new,
		     guts_error_message());
	pthread_mutex_unlock(&n->push_lock);
	pthread_mutex_unlock(rlock);
	locked = 0;
	/* The base branch's push runs (and the other pull requests). */
	trigger_process_pending(n);
	if (row) {
		pthread_mutex_lock(&n->push_lock);
		settle(n, repo, gitdir, &row, r->who.user);
		pthread_mutex_unlock(&n->push_lock);
	}
	full = guts_xasprintf("%s/%s#%lld", api_str(repo, "owner"),
			      api_str(repo, "name"),
			      (long long)api_int(pull, "number"));
	node_audit(n, r->who.user, bypass ? "pull.merge.bypass" : "pull.merge",
		   full,
		   json_pack("{s:s, s:s, s:b}", "method", method, "sha", new,
			     "bypass", bypass));
	http_json(r, 200,
		  json_pack("{s:b, s:s, s:s, s:s}", "merged", 1, "sha", new,
			    "method", method, "message",
			    "pull request merged"));
out:
	if (locked) {
		pthread_mutex_unlock(&n->push_lock);
		pthread_mutex_unlock(rlock);
	}
	free(who);
	free(full);
	free(msg);
	free(gitdir);
	json_decref(row);
	json_decref(why);
	json_decref(b);
	json_decref(pull);
	json_decref(repo);
}

void pulls_recover(struct node *n)
{
	json_t *rows = NULL, *row;
	size_t i;

	pthread_mutex_lock(&n->push_lock);
	if (store_query(n->st,
			"SELECT * FROM pulls WHERE pending_action IS NOT NULL "
			"ORDER BY id",
			NULL, 0, &rows) < 0) {
		pthread_mutex_unlock(&n->push_lock);
		return;
	}
	json_array_foreach(rows, i, row) {
		json_t *repo = NULL, *p = json_incref(row), *done = NULL;
		char *gitdir, *ref, tip[41];

		if (store_query_one(n->st, "SELECT * FROM repos WHERE id = $1",
				    STORE_ARGS(SI(api_int(p, "repo_id"))),
				    &repo) < 0) {
			json_decref(p);
			continue;
		}
		gitdir = repo_gitdir(n, repo);
		if (!strcmp(api_str(p, "pending_action"), "merging")) {
			/* Did the base move to the merge before the crash? */
			ref =
			    guts_xasprintf("refs/heads/%s", api_str(p, "base"));
			if (gitx_ref_sha(gitdir, ref, tip) == 0 &&
			    gitx_is_ancestor(gitdir, api_str(p, "merged_sha"),
					     tip) > 0 &&
			    finish_merge(n, api_int(p, "id"), &done) == 0) {
				nlog(LOG_INFO,
				     "pull request #%lld: its merge landed "
				     "before a restart; recorded",
				     (long long)api_int(p, "number"));
				json_decref(p);
				p = done;
			} else {
				store_exec(n->st,
					   "UPDATE pulls SET pending_action = "
					   "NULL, merged_sha = NULL, merged_by "
					   "= NULL WHERE id = $1",
					   STORE_ARGS(SI(api_int(p, "id"))),
					   NULL);
				json_object_set_new(p, "pending_action",
						    json_null());
			}
			free(ref);
		}
		{
			char *actor = guts_xstrdup(
			    api_str(p, "merged_by") ? api_str(p, "merged_by")
			    : api_str(p, "author")  ? api_str(p, "author")
						    : "guts");

			settle(n, repo, gitdir, &p, actor);
			free(actor);
		}
		free(gitdir);
		json_decref(repo);
		json_decref(p);
	}
	json_decref(rows);
	pthread_mutex_unlock(&n->push_lock);
}
