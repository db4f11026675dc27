/*
 * The REST API of docs/api.md: node, tokens, repositories, workflows, runs,
 * jobs, logs, commit statuses, runners (the user side) and the audit log.
 * The runner protocol is in api_runner.c, git in api_git.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "ws.h"
#include "artifacts.h"
#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/trigger.h"
#include "guts/workflow.h"
#include "hub.h"
#include "badge.h"
#include "joblog.h"
#include "pulls.h"
#include "protect.h"
#include "scheduler.h"
#include "summary.h"
#include "trigger.h"
#include "web.h"
#include "banned.h"

/* ---- shapes ------------------------------------------------------------- */

const char *api_str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int64_t api_int(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static json_t *parsed(const json_t *o, const char *k)
{
	const char *s = api_str(o, k);
	json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;

	return v ? v : json_null();
}

json_t *api_time(const json_t *o, const char *k)
{
	return store_time_json(json_object_get(o, k));
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *api_repo_json(struct node *n, const json_t *row)
{
	char *full = guts_xasprintf("%s/%s", api_str(row, "owner"),
				    api_str(row, "name"));
	char *clone = guts_xasprintf("%s/%s.git", n->base_url, full);
	json_t *j = json_pack(
	    "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id",
	    (json_int_t)api_int(row, "id"), "owner", api_str(row, "owner"),
	    "name", api_str(row, "name"), "full_name", full, "visibility",
	    api_str(row, "visibility"), "default_branch",
	    api_str(row, "default_branch"), "clone_url", clone, "created_at",
	    api_time(row, "created_at"), "updated_at",
	    api_time(row, "updated_at"));

	free(full);
	free(clone);
	return j;
}

/*
 * The workflow_dispatch inputs of a stored workflow, for a form that starts
 * it: [{"name","description","type","required","default","options"}] in
 * the order written, or null when it has no workflow_dispatch trigger.
 */
static json_t *dispatch_inputs(const json_t *row)
{
	const char *src = api_str(row, "source"), *path = api_str(row, "path");
	struct guts_workflow *wf = NULL;
	struct guts_diags d;
	json_t *out = json_null();

	if (!src || !path || !api_int(row, "valid"))
		return out;
	guts_diags_init(&d, path);
	guts_workflow_parse(&wf, path, src, strlen(src), NULL, &d);
	guts_diags_release(&d);
	for (size_t i = 0; wf && i < wf->nr_triggers; i++) {
		const struct guts_wf_trigger *t = &wf->triggers[i];

		if (strcmp(t->event, "workflow_dispatch"))
			continue;
		json_decref(out);
		out = json_array();
		for (size_t k = 0; k < t->nr_inputs; k++) {
			const struct guts_wf_input *in = &t->inputs[k];
			json_t *opts = json_array();

			for (size_t o = 0; o < in->options.nr; o++)
				json_array_append_new(
				    opts, json_string(in->options.v[o]));
			json_array_append_new(
			    out, json_pack("{s:s, s:o, s:s, s:b, s:O, s:o}",
					   "name", in->name, "description",
					   str_or_null(in->description), "type",
					   guts_wf_input_type_name(in->type),
					   "required", in->required, "default",
					   in->default_value ? in->default_value
							     : json_null(),
					   "options", opts));
		}
		break;
	}
	guts_workflow_free(wf);
	return out;
}

static json_t *workflow_json(const json_t *row, const char *repo_key,
			     int with_source)
{
	json_t *errs = parsed(row, "errors");
	json_t *j = json_pack(
	    "{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:o, s:o, s:o}", "id",
	    (json_int_t)api_int(row, "id"), "name", api_str(row, "name"),
	    "repo_key", repo_key, "path", api_str(row, "path"), "triggers",
	    parsed(row, "triggers"), "env", parsed(row, "env"), "jobs",
	    parsed(row, "jobs"), "valid", (int)api_int(row, "valid"), "errors",
	    json_is_array(errs) ? errs : json_array(), "created_at",
	    api_time(row, "created_at"), "updated_at",
	    api_time(row, "updated_at"));

	if (!json_is_array(errs))
		json_decref(errs);
	json_object_set_new(j, "sha", str_or_null(api_str(row, "sha")));
	json_object_set_new(j, "dispatch_inputs", dispatch_inputs(row));
	if (with_source)
		json_object_set_new(j, "source",
				    json_string(api_str(row, "source")));
	return j;
}

json_t *api_run_json(const json_t *row, const char *repo_key)
{
	const char *ref = api_str(row, "ref");
	json_t *j = json_pack(
	    "{s:I, s:s, s:o, s:s, s:s, s:I, s:I, s:s, s:o, s:o, s:o, s:o, "
	    "s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "id", (json_int_t)api_int(row, "id"), "repo", repo_key,
	    "workflow_id",
	    json_is_integer(json_object_get(row, "workflow_id"))
		? json_integer(api_int(row, "workflow_id"))
		: json_null(),
	    "workflow_name", api_str(row, "workflow_name"), "workflow_path",
	    api_str(row, "workflow_path"), "run_number",
	    (json_int_t)api_int(row, "run_number"), "run_attempt",
	    (json_int_t)api_int(row, "attempt"), "event", api_str(row, "event"),
	    "ref", str_or_null(ref), "head_branch",
	    ref && !strncmp(ref, "refs/heads/", 11) ? json_string(ref + 11)
						    : json_null(),
	    "head_sha",
	    str_or_null(api_str(row, "head_sha") ? api_str(row, "head_sha")
						 : api_str(row, "sha")),
	    "actor", str_or_null(api_str(row, "actor")), "status",
	    api_str(row, "status"), "conclusion",
	    str_or_null(api_str(row, "conclusion")), "display_title",
	    str_or_null(api_str(row, "display_title")), "inputs",
	    parsed(row, "inputs"), "reason",
	    str_or_null(api_str(row, "reason")), "created_at",
	    api_time(row, "created_at"), "started_at",
	    api_time(row, "started_at"), "completed_at",
	    api_time(row, "completed_at"), "updated_at",
	    api_time(row, "updated_at"));

	if (json_is_null(json_object_get(j, "inputs")))
		json_object_set_new(j, "inputs", json_object());
	/* The commit the run builds: a pull request's test merge. */
	json_object_set_new(j, "sha", str_or_null(api_str(row, "sha")));
	return j;
}

static json_t *step_json(const json_t *row)
{
	return json_pack("{s:I, s:o, s:s, s:o, s:o, s:o}", "number",
			 (json_int_t)api_int(row, "number"), "name",
			 str_or_null(api_str(row, "name")), "status",
			 api_str(row, "status"), "conclusion",
			 str_or_null(api_str(row, "conclusion")), "started_at",
			 api_time(row, "started_at"), "completed_at",
			 api_time(row, "completed_at"));
}

json_t *api_job_json(struct node *n, const json_t *row)
{
	json_t *steps = json_array(), *rows = NULL, *s;
	int64_t src = api_int(row, "copied_from") ? api_int(row, "copied_from")
						  : api_int(row, "id");
	size_t i;
	json_t *j = json_pack(
	    "{s:I, s:I, s:I, s:I, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, "
	    "s:o, s:o, s:o, s:o, s:o}",
	    "id", (json_int_t)api_int(row, "id"), "run_id",
	    (json_int_t)api_int(row, "run_id"), "run_attempt",
	    (json_int_t)api_int(row, "run_attempt"), "attempt",
	    (json_int_t)api_int(row, "attempt"), "job_key",
	    api_str(row, "job_key"), "name", api_str(row, "name"), "matrix",
	    parsed(row, "matrix"), "status", api_str(row, "status"),
	    "conclusion", str_or_null(api_str(row, "conclusion")), "reason",
	    str_or_null(api_str(row, "reason")), "runs_on",
	    parsed(row, "runs_on"), "runner_name",
	    str_or_null(api_str(row, "runner_name")), "outputs",
	    parsed(row, "outputs"), "created_at", api_time(row, "created_at"),
	    "started_at", api_time(row, "started_at"), "completed_at",
	    api_time(row, "completed_at"), "steps", steps);

	/* Whether GET …/summary has one: the UI asks only then. */
	{
		json_t *sum = NULL;

		json_object_set_new(
		    j, "has_summary",
		    json_boolean(store_query_one(
				     n->st,
				     "SELECT job_id FROM job_summaries WHERE "
				     "job_id = $1",
				     STORE_ARGS(SI(src)), &sum) == 0));
		json_decref(sum);
	}
	if (store_query(n->st,
			"SELECT * FROM steps WHERE job_id = $1 ORDER BY number",
			STORE_ARGS(SI(src)), &rows) == 0) {
		json_array_foreach(rows, i, s)
			json_array_append_new(steps, step_json(s));
		json_decref(rows);
	}
	if (json_is_null(json_object_get(j, "outputs")))
		json_object_set_new(j, "outputs", json_object());
	if (json_is_null(json_object_get(j, "runs_on")))
		json_object_set_new(j, "runs_on", json_array());
	/*
	 * The job_keys it waits for: the UI draws the graph from them.  The
	 * column holds the needs context ({"build": {"result", "outputs"}})
	 * once the needs are done: its keys are the job_keys.
	 */
	{
		json_t *needs = parsed(row, "needs"), *keys = json_array(), *v;
		const char *k;
		size_t x;

		if (json_is_array(needs)) {
			json_array_foreach(needs, x, v)
				if (json_is_string(v))
					json_array_append(keys, v);
		} else if (json_is_object(needs)) {
			json_object_foreach(needs, k, v)
				json_array_append_new(keys, json_string(k));
		}
		json_decref(needs);
		json_object_set_new(j, "needs", keys);
	}
	return j;
}

/* ---- access ------------------------------------------------------------- */

int api_repo(struct http_req *r, const char *owner, const char *name,
	     enum scope need, json_t **repo)
{
	json_t *row = NULL;
	int mine, ret;

	*repo = NULL;
	if (!node_name_ok(owner) || !node_name_ok(name)) {
		http_error(r, "bad_request",
			   "'%s/%s' is not a valid repository name (names "
			   "match ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$, without "
			   "'..' or a '.git' suffix)",
			   owner, name);
		return 0;
	}
	ret = store_query_one(
	    r->node->st, "SELECT * FROM repos WHERE owner = $1 AND name = $2",
	    STORE_ARGS(SS(owner), SS(name)), &row);
	if (ret == GUTS_ENOTFOUND) {
		http_error(r, "not_found", "repository %s/%s not found", owner,
			   name);
		return 0;
	}
	if (ret < 0) {
		http_fail(r, ret);
		return 0;
	}
	mine = r->who.is_admin || (r->who.user && !strcmp(r->who.user, owner));
	if (r->who.job_id && r->who.job_repo_id == api_int(row, "id"))
		mine = 1;
	if (!mine && strcmp(api_str(row, "visibility"), "public")) {
		json_decref(row);
		if (!r->who.user_id && !r->who.job_id)
			http_error(r, "not_found",
				   "repository %s/%s not found (private "
				   "repositories need a token)",
				   owner, name);
		else
			http_error(r, "not_found", "repository %s/%s not found",
				   owner, name);
		return 0;
	}
	if (need >= SCOPE_WRITE) {
		if (!http_need_user(r, need)) {
			json_decref(row);
			return 0;
		}
		if (!mine) {
			http_error(r, "forbidden",
				   "%s cannot change %s/%s: it belongs to %s",
				   r->who.user, owner, name, owner);
			json_decref(row);
			return 0;
		}
	}
	*repo = row;
	return 1;
}

/* The repository of a /api/repos/{o}/{r}/... route. */
static int route_repo(struct http_req *r, enum scope need, json_t **repo)
{
	return api_repo(r, r->params[0], r->params[1], need, repo);
}

char *api_repo_key(const json_t *repo)
{
	return guts_xasprintf("%s/%s", api_str(repo, "owner"),
			      api_str(repo, "name"));
}

static int parse_id(struct http_req *r, const char *s, int64_t *id)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*end || v <= 0) {
		http_error(r, "bad_request", "'%s' is not an id", s);
		return 0;
	}
	*id = v;
	return 1;
}

/* ---- node, tokens ------------------------------------------------------- */

static void get_health(struct http_req *r)
{
	http_json(
	    r, 200,
	    json_pack("{s:b, s:s}", "ok", 1, "version", GUTS_NODE_VERSION));
}

static void get_user(struct http_req *r)
{
	static const char *const names[] = {"none", "read", "write", "admin"};

	if (!http_need_user(r, SCOPE_READ))
		return;
	http_json(r, 200,
		  json_pack("{s:s, s:b, s:s}", "name", r->who.user, "is_admin",
			    r->who.is_admin, "scope", names[r->who.scope]));
}

int api_make_token(struct node *n, int64_t user_id, const char *scope,
		   const char *name, char **token, int64_t *id)
{
	char hash[65];
	json_t *row = NULL;
	int ret;

	*token = node_token_new("gut");
	node_token_hash(*token, hash);
	ret = store_query_one(n->st,
			      "INSERT INTO tokens (user_id, hash, scope, name, "
			      "created_at) VALUES ($1, $2, $3, $4, $5) "
			      "RETURNING id",
			      STORE_ARGS(SI(user_id), SS(hash), SS(scope),
					 SS(name), SI(store_now_ms())),
			      &row);
	if (ret == 0 && id)
		*id = api_int(row, "id");
	json_decref(row);
	if (ret < 0) {
		free(*token);
		*token = NULL;
	}
	return ret;
}

static void post_tokens(struct http_req *r)
{
	json_t *b, *u = NULL;
	const char *scope, *user, *name;
	int64_t uid, id = 0;
	char *token = NULL;
	enum scope want;
	int ret;

	if (!http_need_user(r, SCOPE_READ) || !(b = http_body_json(r)))
		return;
	scope = api_str(b, "scope");
	user = api_str(b, "user");
	name = api_str(b, "name");
	want = !scope			 ? SCOPE_NONE
	       : !strcmp(scope, "read")	 ? SCOPE_READ
	       : !strcmp(scope, "write") ? SCOPE_WRITE
	       : !strcmp(scope, "admin") ? SCOPE_ADMIN
					 : SCOPE_NONE;
	if (want == SCOPE_NONE) {
		http_error(r, "bad_request",
			   "scope: expected read, write or admin");
		goto out;
	}
	if (want > r->who.scope) {
		http_error(
		    r, "forbidden", "a '%s' token cannot make a '%s' token",
		    r->who.scope == SCOPE_READ ? "read" : "write", scope);
		goto out;
	}
	uid = r->who.user_id;
	if (user && strcmp(user, r->who.user)) {
		if (!r->who.is_admin) {
			http_error(r, "forbidden",
				   "only admins make tokens for other users");
			goto out;
		}
		if (!node_name_ok(user)) {
			http_error(r, "bad_request",
				   "user: '%s' is not a valid name", user);
			goto out;
		}
		store_exec(r->node->st,
			   "INSERT INTO users (name, created_at) VALUES ($1, "
			   "$2) ON CONFLICT (name) DO NOTHING",
			   STORE_ARGS(SS(user), SI(store_now_ms())), NULL);
		ret = store_query_one(r->node->st,
				      "SELECT id FROM users WHERE name = $1",
				      STORE_ARGS(SS(user)), &u);
		if (ret < 0) {
			http_fail(r, ret);
			goto out;
		}
		uid = api_int(u, "id");
		if (want == SCOPE_ADMIN) {
			http_error(r, "bad_request",
				   "admin tokens are only made for admins");
			goto out;
		}
	} else {
		user = r->who.user;
	}
	ret = api_make_token(r->node, uid, scope, name, &token, &id);
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	node_audit(
	    r->node, r->who.user, "token.create", user,
	    json_pack("{s:s, s:I}", "scope", scope, "id", (json_int_t)id));
	http_json(r, 201,
		  json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id,
			    "token", token, "scope", scope, "user", user));
out:
	free(token);
	json_decref(u);
	json_decref(b);
}

/* ---- repositories ------------------------------------------------------- */

static void post_repos(struct http_req *r)
{
	json_t *b, *row = NULL;
	const char *name, *owner, *vis;
	char *path;
	int ret;

	if (!http_need_user(r, SCOPE_WRITE) || !(b = http_body_json(r)))
		return;
	name = api_str(b, "name");
	owner = api_str(b, "owner") ? api_str(b, "owner") : r->who.user;
	vis = api_str(b, "visibility") ? api_str(b, "visibility") : "public";
	if (!name || !node_name_ok(name) || !node_name_ok(owner)) {
		http_error(r, "bad_request",
			   "'%s/%s' is not a valid repository name (names "
			   "match ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$, without "
			   "'..' or a '.git' suffix)",
			   owner ? owner : "", name ? name : "");
		goto out;
	}
	if (strcmp(vis, "public") && strcmp(vis, "private")) {
		http_error(r, "bad_request",
			   "visibility: expected public or private");
		goto out;
	}
	if (strcmp(owner, r->who.user) && !r->who.is_admin) {
		http_error(r, "forbidden",
			   "only admins create repositories for other owners");
		goto out;
	}
	path = node_repo_dir(r->node, owner, name);
	ret = store_query_one(
	    r->node->st,
	    "INSERT INTO repos (owner, name, visibility, default_branch, "
	    "created_at, updated_at) VALUES ($1, $2, $3, 'main', $4, $4) "
	    "RETURNING *",
	    STORE_ARGS(SS(owner), SS(name), SS(vis), SI(store_now_ms())), &row);
	if (ret == GUTS_ECONFLICT) {
		http_error(r, "conflict", "repository %s/%s already exists",
			   owner, name);
	} else if (ret < 0) {
		http_fail(r, ret);
	} else if ((ret = gitx_repo_init(path, "main")) < 0) {
		store_exec(r->node->st, "DELETE FROM repos WHERE id = $1",
			   STORE_ARGS(SI(api_int(row, "id"))), NULL);
		http_fail(r, ret);
	} else {
		char *key = api_repo_key(row);

		node_audit(r->node, r->who.user, "repo.create", key,
			   json_pack("{s:s}", "visibility", vis));
		free(key);
		http_json(r, 201, api_repo_json(r->node, row));
	}
	free(path);
out:
	json_decref(row);
	json_decref(b);
}

static void get_repos(struct http_req *r)
{
	json_t *rows = NULL, *row, *out = json_array(), *cnt = NULL;
	int64_t limit, offset;
	size_t i;
	char *link;
	const char *user = r->who.user ? r->who.user : "";
	int ret;

	http_page(r, &limit, &offset);
	ret = store_query(
	    r->node->st,
	    "SELECT * FROM repos WHERE visibility = 'public' OR "
	    "owner = $1 OR $2 = 1 ORDER BY owner, name LIMIT $3 "
	    "OFFSET $4",
	    STORE_ARGS(SS(user), SI(r->who.is_admin), SI(limit), SI(offset)),
	    &rows);
	if (ret == 0)
		ret = store_query_one(r->node->st,
				      "SELECT COUNT(*) AS c FROM repos WHERE "
				      "visibility = 'public' OR owner = $1 OR "
				      "$2 = 1",
				      STORE_ARGS(SS(user), SI(r->who.is_admin)),
				      &cnt);
	if (ret < 0) {
		json_decref(out);
		http_fail(r, ret);
		return;
	}
	json_array_foreach(rows, i, row)
		json_array_append_new(out, api_repo_json(r->node, row));
	link = http_link(r, api_int(cnt, "c"));
	http_json_link(r, 200, out, link);
	free(link);
	json_decref(rows);
	json_decref(cnt);
}

static void get_repo(struct http_req *r)
{
	json_t *repo, *j;
	int mine, push, admin;

	if (!route_repo(r, SCOPE_READ, &repo))
		return;
	/* What the caller may do, in GitHub's shape, by api_repo()'s rules:
	 * changes need a user's write token of the owner (or an admin's). */
	mine = r->who.user_id && (r->who.is_admin ||
				  !strcmp(r->who.user, api_str(repo, "owner")));
	push = mine && r->who.scope >= SCOPE_WRITE;
	admin = mine && r->who.scope >= SCOPE_ADMIN;
	j = api_repo_json(r->node, repo);
	json_object_set_new(j, "permissions",
			    json_pack("{s:b, s:b, s:b}", "admin", admin, "push",
				      push, "pull", 1));
	http_json(r, 200, j);
	json_decref(repo);
}

static void delete_repo(struct http_req *r)
{
	json_t *repo, *jobs = NULL, *row;
	char *path, *key;
	size_t i;

	if (!route_repo(r, SCOPE_READ, &repo))
		return;
	if (!http_need_user(r, SCOPE_ADMIN)) {
		json_decref(repo);
		return;
	}
	store_query(r->node->st,
		    "SELECT j.id FROM jobs j JOIN runs u ON u.id = j.run_id "
		    "WHERE u.repo_id = $1",
		    STORE_ARGS(SI(api_int(repo, "id"))), &jobs);
	json_array_foreach(jobs, i, row)
		joblog_remove(r->node->logs_dir, api_int(row, "id"));
	json_decref(jobs);
	store_exec(r->node->st, "DELETE FROM repos WHERE id = $1",
		   STORE_ARGS(SI(api_int(repo, "id"))), NULL);
	path = node_repo_dir(r->node, api_str(repo, "owner"),
			     api_str(repo, "name"));
	gitx_repo_remove(path);
	key = api_repo_key(repo);
	/* Its ids may be handed out again: followers of it must go first. */
	hub_publish(r->node, "repository.deleted", api_int(repo, "id"),
		    json_pack("{s:{s:I, s:s}}", "repository", "id",
			      (json_int_t)api_int(repo, "id"), "full_name",
			      key));
	node_audit(r->node, r->who.user, "repo.delete", key, NULL);
	free(key);
	free(path);
	json_decref(repo);
	http_empty(r, 204);
}

/* ---- workflows ---------------------------------------------------------- */

/* A workflow by id, file name, path or name. */
int api_find_workflow(struct http_req *r, const json_t *repo, const char *which,
		      json_t **wf)
{
	char *end;
	long long id = strtoll(which, &end, 10);
	char *path = guts_xasprintf(".guts/workflows/%s", which);
	int ret;

	if (!*end && id > 0)
		ret = store_query_one(
		    r->node->st,
		    "SELECT * FROM workflows WHERE repo_id = "
		    "$1 AND id = $2",
		    STORE_ARGS(SI(api_int(repo, "id")), SI(id)), wf);
	else
		ret = store_query_one(
		    r->node->st,
		    "SELECT * FROM workflows WHERE repo_id = $1 AND (path = $2 "
		    "OR path = $3 OR name = $2) ORDER BY id LIMIT 1",
		    STORE_ARGS(SI(api_int(repo, "id")), SS(which), SS(path)),
		    wf);
	free(path);
	if (ret == GUTS_ENOTFOUND)
		http_error(r, "not_found", "no workflow '%s' in %s/%s", which,
			   api_str(repo, "owner"), api_str(repo, "name"));
	else if (ret < 0)
		http_fail(r, ret);
	return ret == 0;
}

static void get_workflows(struct http_req *r)
{
	json_t *repo, *rows = NULL, *row, *out = json_array();
	char *key;
	size_t i;

	if (!route_repo(r, SCOPE_READ, &repo)) {
		json_decref(out);
		return;
	}
	key = api_repo_key(repo);
	store_query(r->node->st,
		    "SELECT * FROM workflows WHERE repo_id = $1 ORDER BY path",
		    STORE_ARGS(SI(api_int(repo, "id"))), &rows);
	json_array_foreach(rows, i, row)
		json_array_append_new(out, workflow_json(row, key, 0));
	http_json_page(r, out);
	json_decref(rows);
	json_decref(repo);
	free(key);
}

static void get_workflow(struct http_req *r)
{
	json_t *repo, *wf;
	char *key;

	if (!route_repo(r, SCOPE_READ, &repo))
		return;
	if (api_find_workflow(r, repo, r->params[2], &wf)) {
		key = api_repo_key(repo);
		http_json(
		    r, 200,
		    workflow_json(wf, key, http_query(r, "source") != NULL));
		free(key);
		json_decref(wf);
	}
	json_decref(repo);
}

static void post_workflows(struct http_req *r)
{
	json_t *repo, *b = NULL, *row = NULL;
	const char *yaml, *path;
	char *key = NULL, *p = NULL;
	int created = 0, ret;

	if (!route_repo(r, SCOPE_WRITE, &repo))
		return;
	if (!(b = http_body_json(r)))
		goto out;
	yaml = api_str(b, "yaml");
	path = api_str(b, "path");
	if (!yaml) {
		http_error(r, "bad_request",
			   "yaml: the workflow's text is "
			   "required");
		goto out;
	}
	if (path &&
	    (strncmp(path, ".guts/workflows/", 16) || strchr(path + 16, '/') ||
	     !path[16] || strstr(path, ".."))) {
		http_error(r, "bad_request",
			   "path: expected .guts/workflows/NAME.yml");
		goto out;
	}
	ret = trigger_record_workflow(r->node, api_int(repo, "id"), path, yaml,
				      strlen(yaml), NULL, 1, &row, &created);
	if (ret == GUTS_EINVAL) {
		json_t *errs = json_object_get(row, "errors");

		json_incref(errs);
		http_json(r, 422,
			  json_pack("{s:{s:s, s:s, s:o}}", "error", "code",
				    "unprocessable", "message",
				    guts_error_message(), "errors",
				    errs ? errs : json_array()));
		goto out;
	}
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	key = api_repo_key(repo);
	p = guts_xasprintf("%s:%s", key, api_str(row, "path"));
	node_audit(r->node, r->who.user,
		   created ? "workflow.create" : "workflow.update", p, NULL);
	http_json(r, created ? 201 : 200, workflow_json(row, key, 0));
out:
	free(key);
	free(p);
	json_decref(row);
	json_decref(b);
	json_decref(repo);
}

/* ---- runs --------------------------------------------------------------- */

static void get_runs(struct http_req *r)
{
	json_t *repo, *rows = NULL, *row, *out, *cnt = NULL, *wf = NULL;
	const char *w = http_query(r, "workflow"),
		   *br = http_query(r, "branch");
	const char *st = http_query(r, "status"), *ev = http_query(r, "event");
	char *ref = br ? guts_xasprintf("refs/heads/%s", br) : NULL;
	int64_t limit, offset, wid = 0;
	char *key, *link;
	size_t i;
	int ret;
	static const char where[] =
	    "FROM runs WHERE repo_id = $1 AND ($2 = 0 OR workflow_id = $2) "
	    "AND ($3 IS NULL OR ref = $3) AND ($4 IS NULL OR status = $4 OR "
	    "conclusion = $4) AND ($5 IS NULL OR event = $5)";
	char *q1, *q2;

	if (!route_repo(r, SCOPE_READ, &repo)) {
		free(ref);
		return;
	}
	if (w && *w) {
		if (!api_find_workflow(r, repo, w, &wf)) {
			json_decref(repo);
			free(ref);
			return;
		}
		wid = api_int(wf, "id");
		json_decref(wf);
	}
	http_page(r, &limit, &offset);
	q1 = guts_xasprintf("SELECT * %s ORDER BY id DESC LIMIT $6 OFFSET $7",
			    where);
	q2 = guts_xasprintf("SELECT COUNT(*) AS c %s", where);
	ret = store_query(r->node->st, q1,
			  STORE_ARGS(SI(api_int(repo, "id")), SI(wid), SS(ref),
				     SS(st), SS(ev), SI(limit), SI(offset)),
			  &rows);
	if (ret == 0)
		ret =
		    store_query_one(r->node->st, q2,
				    STORE_ARGS(SI(api_int(repo, "id")), SI(wid),
					       SS(ref), SS(st), SS(ev)),
				    &cnt);
	free(q1);
	free(q2);
	free(ref);
	if (ret < 0) {
		http_fail(r, ret);
		json_decref(repo);
		return;
	}
	key = api_repo_key(repo);
	out = json_array();
	json_array_foreach(rows, i, row)
		json_array_append_new(out, api_run_json(row, key));
	link = http_link(r, api_int(cnt, "c"));
	http_json_link(r, 200, out, link);
	free(link);
	free(key);
	json_decref(rows);
	json_decref(cnt);
	json_decref(repo);
}

/*
 * The object of a /{kind}/{id} route in the route's repository: @sql
 * selects it by id ($1) and repository ($2).  Answers and returns 0 when
 * the repository or the object is not there.
 */
static int route_object(struct http_req *r, enum scope need, const char *sql,
			const char *kind, json_t **repo, json_t **obj)
{
	int64_t id;
	int ret;

	*obj = NULL;
	if (!route_repo(r, need, repo))
		return 0;
	if (!parse_id(r, r->params[2], &id)) {
		json_decref(*repo);
		return 0;
	}
	ret =
	    store_query_one(r->node->st, sql,
			    STORE_ARGS(SI(id), SI(api_int(*repo, "id"))), obj);
	if (ret < 0) {
		if (ret == GUTS_ENOTFOUND)
			http_error(r, "not_found", "%s %lld not found", kind,
				   (long long)id);
		else
			http_fail(r, ret);
		json_decref(*repo);
		return 0;
	}
	return 1;
}

static int route_run(struct http_req *r, enum scope need, json_t **repo,
		     json_t **run)
{
	return route_object(r, need,
			    "SELECT * FROM runs WHERE id = $1 AND repo_id = $2",
			    "run", repo, run);
}

static void get_run(struct http_req *r)
{
	json_t *repo, *run;
	char *key;

	if (!route_run(r, SCOPE_READ, &repo, &run))
		return;
	key = api_repo_key(repo);
	http_json(r, 200, api_run_json(run, key));
	free(key);
	json_decref(run);
	json_decref(repo);
}

static void post_runs(struct http_req *r)
{
	json_t *repo, *b = NULL, *wfrow = NULL, *run = NULL;
	const char *which, *ref;
	char *full_ref = NULL, *key = NULL, sha[41];
	struct guts_workflow *wf = NULL;
	struct guts_trigger_result tr = GUTS_TRIGGER_RESULT_INIT;
	struct run_request rq = {0};
	const json_t *given;
	int64_t id = 0;
	int ret, dispatch = 0;

	if (!route_repo(r, SCOPE_WRITE, &repo))
		return;
	if (!(b = http_body_json(r)))
		goto out;
	which = api_str(b, "workflow");
	ref = api_str(b, "ref") ? api_str(b, "ref")
				: api_str(repo, "default_branch");
	given = json_object_get(b, "inputs");
	if (!which) {
		http_error(r, "bad_request", "workflow: required");
		goto out;
	}
	if (given && !json_is_object(given)) {
		http_error(r, "bad_request", "inputs: expected an object");
		goto out;
	}
	if (!api_find_workflow(r, repo, which, &wfrow))
		goto out;
	{
		/* A branch (first, as GitHub does) or a tag, by its name or
		 * its full ref; the run records which it was. */
		char *gitdir = node_repo_dir(r->node, api_str(repo, "owner"),
					     api_str(repo, "name"));

		if (!strncmp(ref, "refs/heads/", 11) ||
		    !strncmp(ref, "refs/tags/", 10)) {
			full_ref = guts_xstrdup(ref);
			ret = gitx_ref_sha(gitdir, full_ref, sha);
		} else {
			full_ref = guts_xasprintf("refs/heads/%s", ref);
			ret = gitx_ref_sha(gitdir, full_ref, sha);
			if (ret < 0) {
				free(full_ref);
				full_ref = guts_xasprintf("refs/tags/%s", ref);
				ret = gitx_ref_sha(gitdir, full_ref, sha);
			}
		}
		free(gitdir);
	}
	if (ret < 0) {
		http_error(r, "unprocessable",
			   "ref '%s' is not a branch or tag of %s/%s", ref,
			   api_str(repo, "owner"), api_str(repo, "name"));
		goto out;
	}
	if (api_int(wfrow, "valid")) {
		struct guts_diags d;
		const char *src = api_str(wfrow, "source");

		guts_diags_init(&d, api_str(wfrow, "path"));
		guts_workflow_parse(&wf, api_str(wfrow, "path"), src,
				    strlen(src), NULL, &d);
		guts_diags_release(&d);
	}
	if (wf) {
		for (size_t i = 0; i < wf->nr_triggers; i++)
			dispatch |=
			    !strcmp(wf->triggers[i].event, "workflow_dispatch");
	}
	if (dispatch) {
		struct guts_event ev = {0};

		ev.name = "workflow_dispatch";
		ev.ref = full_ref;
		ev.inputs = given;
		ret = guts_trigger_match(&tr, wf, &ev);
		if (ret < 0) {
			http_error(r, "unprocessable", "%s",
				   guts_error_message());
			goto out;
		}
	}
	rq.repo_id = api_int(repo, "id");
	rq.workflow_id = api_int(wfrow, "id");
	rq.event = dispatch ? "workflow_dispatch" : "manual";
	rq.ref = full_ref;
	rq.sha = sha;
	rq.actor = r->who.user;
	rq.inputs = dispatch ? tr.inputs : NULL;
	{
		json_t *payload = json_pack(
		    "{s:s, s:o, s:s, s:{s:s}}", "ref", full_ref, "inputs",
		    rq.inputs ? json_incref((json_t *)rq.inputs)
			      : json_object(),
		    "workflow", api_str(wfrow, "path"), "sender", "login",
		    r->who.user);

		rq.payload = payload;
		ret = sched_create_run(r->node, &rq, &id);
		json_decref(payload);
	}
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	store_query_one(r->node->st, "SELECT * FROM runs WHERE id = $1",
			STORE_ARGS(SI(id)), &run);
	key = api_repo_key(repo);
	{
		char *obj = guts_xasprintf("%s#run/%lld", key, (long long)id);

		node_audit(r->node, r->who.user, "run.dispatch", obj,
			   json_pack("{s:s, s:s}", "workflow",
				     api_str(wfrow, "path"), "ref", full_ref));
		free(obj);
	}
	http_json(r, 201, api_run_json(run, key));
out:
	guts_trigger_result_release(&tr);
	guts_workflow_free(wf);
	free(full_ref);
	free(key);
	json_decref(run);
	json_decref(wfrow);
	json_decref(b);
	json_decref(repo);
}

static void post_run_cancel(struct http_req *r)
{
	json_t *repo, *run;
	char *key, *obj;

	if (!route_run(r, SCOPE_WRITE, &repo, &run))
		return;
	if (!strcmp(api_str(run, "status"), "completed")) {
		http_error(r, "conflict", "run %lld is already completed",
			   (long long)api_int(run, "id"));
	} else {
		sched_cancel_run(r->node, api_int(run, "id"), r->who.user);
		key = api_repo_key(repo);
		obj = guts_xasprintf("%s#run/%lld", key,
				     (long long)api_int(run, "id"));
		node_audit(r->node, r->who.user, "run.cancel", obj, NULL);
		free(obj);
		free(key);
		http_json(r, 202, json_object());
	}
	json_decref(run);
	json_decref(repo);
}

static void post_run_rerun(struct http_req *r)
{
	json_t *repo, *run, *b = NULL, *again = NULL;
	int failed = 0, ret;
	char *key, *obj;

	if (!route_run(r, SCOPE_WRITE, &repo, &run))
		return;
	if (r->body.len) {
		if (!(b = http_body_json(r)))
			goto out;
		failed = json_is_true(json_object_get(b, "failed_only"));
	}
	ret = sched_rerun(r->node, api_int(run, "id"), failed, r->who.user);
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	store_query_one(r->node->st, "SELECT * FROM runs WHERE id = $1",
			STORE_ARGS(SI(api_int(run, "id"))), &again);
	key = api_repo_key(repo);
	obj = guts_xasprintf("%s#run/%lld", key, (long long)api_int(run, "id"));
	node_audit(r->node, r->who.user, "run.rerun", obj,
		   json_pack("{s:b}", "failed_only", failed));
	http_json(r, 201, api_run_json(again, key));
	free(obj);
	free(key);
out:
	json_decref(again);
	json_decref(b);
	json_decref(run);
	json_decref(repo);
}

static void get_run_jobs(struct http_req *r)
{
	json_t *repo, *run, *rows = NULL, *row, *out = json_array();
	const char *a = http_query(r, "attempt");
	int64_t attempt;
	size_t i;

	if (!route_run(r, SCOPE_READ, &repo, &run)) {
		json_decref(out);
		return;
	}
	if (node_int(a, api_int(run, "attempt"), &attempt) < 0) {
		http_error(r, "bad_request", "attempt: '%s' is not a number",
			   a);
		json_decref(out);
		json_decref(run);
		json_decref(repo);
		return;
	}
	store_query(r->node->st,
		    "SELECT * FROM jobs WHERE run_id = $1 AND run_attempt = $2 "
		    "ORDER BY id",
		    STORE_ARGS(SI(api_int(run, "id")), SI(attempt)), &rows);
	json_array_foreach(rows, i, row)
		json_array_append_new(out, api_job_json(r->node, row));
	http_json_page(r, out);
	json_decref(rows);
	json_decref(run);
	json_decref(repo);
}

/* ---- jobs and logs ------------------------------------------------------ */

static int route_job(struct http_req *r, json_t **repo, json_t **job)
{
	return route_object(r, SCOPE_READ,
			    "SELECT j.* FROM jobs j JOIN runs u ON u.id = "
			    "j.run_id WHERE j.id = $1 AND u.repo_id = $2",
			    "job", repo, job);
}

static void get_job(struct http_req *r)
{
	json_t *repo, *job;

	if (!route_job(r, &repo, &job))
		return;
	http_json(r, 200, api_job_json(r->node, job));
	json_decref(job);
	json_decref(repo);
}

#define LOG_READ_CAP (64u << 20)

static void get_job_logs(struct http_req *r)
{
	json_t *repo, *job, *st = NULL;
	const char *qs = http_query(r, "step"), *qo = http_query(r, "offset");
	const char *qw = http_query(r, "wait");
	int64_t from = 0, to = -1, total = 0, log_id, wait = 0, step = 0;
	struct guts_buf b;
	uint64_t gen;
	int complete, ret;
	char size[32];

	if (node_int(qo, 0, &from) < 0 || node_int(qw, 0, &wait) < 0 ||
	    node_int(qs, 0, &step) < 0) {
		http_error(r, "bad_request",
			   "offset, wait and step take whole numbers");
		return;
	}
	if (!route_job(r, &repo, &job))
		return;
	gen = http_wake_gen(r->node);
	complete = !strcmp(api_str(job, "status"), "completed");
	log_id = api_int(job, "copied_from") ? api_int(job, "copied_from")
					     : api_int(job, "id");
	if (from < 0)
		from = 0;
	if (qs) {
		int64_t n = step;

		if (store_query_one(r->node->st,
				    "SELECT a.log_offset AS s, (SELECT "
				    "MIN(b.log_offset) FROM steps b WHERE "
				    "b.job_id = a.job_id AND b.number > "
				    "a.number) AS e FROM steps a WHERE "
				    "a.job_id = $1 AND a.number = $2",
				    STORE_ARGS(SI(log_id), SI(n)), &st) < 0) {
			http_error(r, "not_found", "job %lld has no step %lld",
				   (long long)api_int(job, "id"), (long long)n);
			goto out;
		}
		from += api_int(st, "s");
		if (json_is_integer(json_object_get(st, "e")))
			to = api_int(st, "e");
	}
again:
	/* At most LOG_READ_CAP per answer; the client goes on from there.
	 * No job lock: joblog reads are safe next to appends. */
	if (to < 0 || to - from > (int64_t)LOG_READ_CAP)
		to = from + (int64_t)LOG_READ_CAP;
	guts_buf_init(&b, LOG_READ_CAP);
	ret = joblog_read(r->node->logs_dir, log_id, from, to, &b, &total);
	if (ret < 0) {
		guts_buf_release(&b);
		http_fail(r, ret);
		goto out;
	}
	if (!b.len && !complete && wait > 0 && !r->node->stopping) {
		int64_t deadline = r->state ? *(int64_t *)r->state : 0;

		if (!deadline) {
			r->state = guts_xmalloc(sizeof(int64_t));
			r->state_free = free;
			deadline =
			    store_now_ms() + (wait > 30 ? 30 : wait) * 1000;
			*(int64_t *)r->state = deadline;
		}
		if (store_now_ms() < deadline) {
			if (http_suspend_since(r, WAIT_LOG, log_id, deadline,
					       gen)) {
				guts_buf_release(&b);
				goto out;
			}
			/* Woken between the read and parking: read again. */
			guts_buf_release(&b);
			gen = http_wake_gen(r->node);
			goto again;
		}
	}
	snprintf(size, sizeof(size), "%lld", (long long)total);
	{
		const char *h[] = {"X-Guts-Log-Size", size,
				   "X-Guts-Log-Complete",
				   complete ? "true" : "false", NULL};

		http_text(r, 200, "text/plain; charset=utf-8", b.data, b.len,
			  h);
	}
	guts_buf_release(&b);
out:
	json_decref(st);
	json_decref(job);
	json_decref(repo);
}

/* ---- commit statuses ---------------------------------------------------- */

/* GitHub's caps: a description of 140 characters, 1000 statuses per sha
 * and context.  Ours: contexts and URLs. */
#define STATUS_DESCRIPTION_MAX 140
#define STATUS_CONTEXT_MAX 255
#define STATUS_URL_MAX 2048
#define STATUS_PER_CONTEXT_MAX 1000

/* Rows of statuses with their creator's user id, when a user. */
#define STATUS_SELECT                                                       \
	"SELECT s.*, u.id AS creator_id FROM statuses s LEFT JOIN users u " \
	"ON u.name = s.creator "

/*
 * A status as GitHub shapes it (url, id, state, description, target_url,
 * context, created_at, updated_at, creator {login, id, type}), plus its
 * sha.  The scheduler's statuses have the creator "guts", a Bot.
 */
static json_t *status_json(struct http_req *r, const json_t *repo,
			   const json_t *row)
{
	const char *who = api_str(row, "creator");
	json_t *creator = json_null();
	char *url = guts_xasprintf("%s/api/repos/%s/%s/statuses/%s",
				   r->node->base_url, api_str(repo, "owner"),
				   api_str(repo, "name"), api_str(row, "sha"));
	json_t *j;

	if (who) {
		creator = json_pack(
		    "{s:s, s:s}", "login", who, "type",
		    json_is_integer(json_object_get(row, "creator_id"))
			? "User"
			: "Bot");
		if (json_is_integer(json_object_get(row, "creator_id")))
			json_object_set_new(
			    creator, "id",
			    json_integer(api_int(row, "creator_id")));
	}
	j = json_pack("{s:s, s:o, s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
		      "url", url, "avatar_url", json_null(), "id",
		      (json_int_t)api_int(row, "id"), "sha",
		      api_str(row, "sha"), "context", api_str(row, "context"),
		      "state", api_str(row, "state"), "description",
		      str_or_null(api_str(row, "description")), "target_url",
		      str_or_null(api_str(row, "target_url")), "creator",
		      creator, "created_at", api_time(row, "created_at"),
		      "updated_at", api_time(row, "created_at"));
	free(url);
	return j;
}

/*
 * A ref (sha, short sha, branch, tag) to a commit of the repository.  With
 * @any_sha, a full sha the repository does not have is taken as it is (a
 * commit's statuses can be read before, or without, its push).
 */
static int resolve_ref(struct http_req *r, const json_t *repo, const char *ref,
		       int any_sha, char *sha)
{
	char *gitdir = node_repo_dir(r->node, api_str(repo, "owner"),
				     api_str(repo, "name"));
	int ret = gitx_resolve(gitdir, ref, sha);

	free(gitdir);
	if (ret < 0 && any_sha && strlen(ref) == 40 &&
	    strspn(ref, "0123456789abcdef") == 40) {
		memcpy(sha, ref, 41);
		return 0;
	}
	return ret;
}

/* The repository and commit of a /commits/{ref}/... route, or answered. */
static int route_commit(struct http_req *r, enum scope need, int any_sha,
			json_t **repo, char *sha)
{
	if (!route_repo(r, need, repo))
		return 0;
	if (resolve_ref(r, *repo, r->params[2], any_sha, sha) == 0)
		return 1;
	http_error(r, any_sha ? "not_found" : "unprocessable",
		   "no commit '%s' in %s/%s", r->params[2],
		   api_str(*repo, "owner"), api_str(*repo, "name"));
	json_decref(*repo);
	return 0;
}

/*
 * GitHub's combined status: the latest status of each context (contexts
 * compare case-insensitively, as GitHub's do), and a state: failure when
 * any is failure or error, else pending when any is pending or there is
 * none, else success.
 */
static void get_combined_status(struct http_req *r)
{
	json_t *repo, *rows = NULL, *row, *list, *rj;
	char sha[41], *url, *commit_url;
	int failure = 0, pending = 0;
	size_t i;

	if (!route_commit(r, SCOPE_READ, 1, &repo, sha))
		return;
	list = json_array();
	store_query(r->node->st,
		    STATUS_SELECT
		    "WHERE s.repo_id = $1 AND s.sha = $2 AND s.id = (SELECT "
		    "MAX(t.id) FROM statuses t WHERE t.repo_id = s.repo_id AND "
		    "t.sha = s.sha AND lower(t.context) = lower(s.context)) "
		    "ORDER BY s.context",
		    STORE_ARGS(SI(api_int(repo, "id")), SS(sha)), &rows);
	json_array_foreach(rows, i, row) {
		const char *s = api_str(row, "state");

		failure |= !strcmp(s, "failure") || !strcmp(s, "error");
		pending |= !strcmp(s, "pending");
		json_array_append_new(list, status_json(r, repo, row));
	}
	rj = api_repo_json(r->node, repo);
	json_object_set_new(
	    rj, "private",
	    json_boolean(strcmp(api_str(repo, "visibility"), "public")));
	commit_url =
	    guts_xasprintf("%s/api/repos/%s/%s/commits/%s", r->node->base_url,
			   api_str(repo, "owner"), api_str(repo, "name"), sha);
	url = guts_xasprintf("%s/status", commit_url);
	http_json(r, 200,
		  json_pack("{s:s, s:s, s:I, s:o, s:o, s:s, s:s}", "state",
			    failure				? "failure"
			    : pending || !json_array_size(rows) ? "pending"
								: "success",
			    "sha", sha, "total_count",
			    (json_int_t)json_array_size(rows), "statuses", list,
			    "repository", rj, "commit_url", commit_url, "url",
			    url));
	free(commit_url);
	free(url);
	json_decref(rows);
	json_decref(repo);
}

static void get_statuses(struct http_req *r)
{
	json_t *repo, *rows = NULL, *row, *list;
	char sha[41];
	size_t i;

	if (!route_commit(r, SCOPE_READ, 1, &repo, sha))
		return;
	list = json_array();
	store_query(r->node->st,
		    STATUS_SELECT "WHERE s.repo_id = $1 AND s.sha = $2 "
				  "ORDER BY s.id DESC LIMIT 10000",
		    STORE_ARGS(SI(api_int(repo, "id")), SS(sha)), &rows);
	json_array_foreach(rows, i, row)
		json_array_append_new(list, status_json(r, repo, row));
	http_json_page(r, list);
	json_decref(rows);
	json_decref(repo);
}

/* Characters (UTF-8 code points) of @s. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/*
 * A string field of a status body: absent or null gives @def; anything
 * else but a string is refused.  0 when refused (answered).
 */
static int status_field(struct http_req *r, const json_t *b, const char *k,
			const char *def, const char **out)
{
	const json_t *v = json_object_get(b, k);

	if (!v || json_is_null(v)) {
		*out = def;
		return 1;
	}
	if (!json_is_string(v)) {
		http_error(r, "unprocessable", "%s: expected a string", k);
		return 0;
	}
	*out = json_string_value(v);
	return 1;
}

/*
 * Check a status body as GitHub does ({state, target_url?, description?,
 * context? = "default"}); 0 when refused, with a 422 naming the field.
 */
static int status_body(struct http_req *r, const json_t *b, const char **state,
		       const char **ctx, const char **desc, const char **url)
{
	if (!status_field(r, b, "state", NULL, state) ||
	    !status_field(r, b, "context", "default", ctx) ||
	    !status_field(r, b, "description", NULL, desc) ||
	    !status_field(r, b, "target_url", NULL, url))
		return 0;
	if (!*state ||
	    (strcmp(*state, "error") && strcmp(*state, "failure") &&
	     strcmp(*state, "pending") && strcmp(*state, "success"))) {
		http_error(
		    r, "unprocessable",
		    "state: expected error, failure, pending or success");
		return 0;
	}
	if (!**ctx || strlen(*ctx) > STATUS_CONTEXT_MAX || has_control(*ctx)) {
		http_error(r, "unprocessable",
			   "context: expected 1 to %d bytes without control "
			   "characters",
			   STATUS_CONTEXT_MAX);
		return 0;
	}
	if (*desc && (utf8_chars(*desc) > STATUS_DESCRIPTION_MAX ||
		      has_control(*desc))) {
		http_error(r, "unprocessable",
			   "description: at most %d characters, without "
			   "control characters",
			   STATUS_DESCRIPTION_MAX);
		return 0;
	}
	if (*desc && !**desc)
		*desc = NULL;
	if (*url && !**url)
		*url = NULL; /* some tools send "" for none */
	if (*url &&
	    (strlen(*url) > STATUS_URL_MAX ||
	     (strncmp(*url, "http://", 7) && strncmp(*url, "https://", 8)) ||
	     strpbrk(*url, " \"<>\\^`{|}") || has_control(*url))) {
		http_error(r, "unprocessable",
			   "target_url: expected an http:// or https:// URL of "
			   "at most %d bytes",
			   STATUS_URL_MAX);
		return 0;
	}
	return 1;
}

/*
 * The repository a status may be posted to: a `write` token of its owner
 * (or an admin).  Job tokens cannot post (yet): jobs do not see theirs.
 */
static int status_repo(struct http_req *r, json_t **repo)
{
	if (r->who.job_id && !r->who.user_id) {
		if (!route_repo(r, SCOPE_READ, repo))
			return 0;
		json_decref(*repo);
		*repo = NULL;
		http_error(r, "forbidden",
			   "a job token cannot post commit statuses; use a "
			   "token with the 'write' scope");
		return 0;
	}
	return route_repo(r, SCOPE_WRITE, repo);
}

/*
 * POST …/commits/{ref}/statuses (any ref: a sha, a branch, a tag) and
 * GitHub's POST …/statuses/{sha} (@sha_only: a full 40-hex sha, as GitHub
 * requires).  Either way the commit must be in the repository.
 */
static void create_status(struct http_req *r, int sha_only)
{
	json_t *repo = NULL, *b = NULL, *row = NULL, *cnt = NULL;
	const char *state, *ctx, *desc, *url, *ref = r->params[2];
	char sha[41], *obj = NULL;
	int ret;

	if (!status_repo(r, &repo))
		return;
	if (!(b = http_body_json(r)))
		goto out;
	if (!status_body(r, b, &state, &ctx, &desc, &url))
		goto out;
	if (sha_only && (strlen(ref) != 40 ||
			 strspn(ref, "0123456789abcdefABCDEF") != 40)) {
		http_error(r, "unprocessable",
			   "sha: expected a full 40-character commit sha, not "
			   "'%.64s' (POST …/commits/{ref}/statuses takes refs)",
			   ref);
		goto out;
	}
	if (resolve_ref(r, repo, ref, 0, sha) < 0) {
		http_error(r, "unprocessable", "%s: no commit '%.64s' in %s/%s",
			   sha_only ? "sha" : "ref", ref,
			   api_str(repo, "owner"), api_str(repo, "name"));
		goto out;
	}
	ret = store_query_one(
	    r->node->st,
	    "SELECT COUNT(*) AS c FROM statuses WHERE "
	    "repo_id = $1 AND sha = $2 AND context = $3",
	    STORE_ARGS(SI(api_int(repo, "id")), SS(sha), SS(ctx)), &cnt);
	if (ret == 0 && api_int(cnt, "c") >= STATUS_PER_CONTEXT_MAX) {
		http_error(r, "unprocessable",
			   "context: %s already has %d statuses for %s", ctx,
			   STATUS_PER_CONTEXT_MAX, sha);
		goto out;
	}
	ret = sched_post_status(r->node, api_int(repo, "id"), sha, ctx, state,
				desc, url, r->who.user);
	if (ret == 0)
		ret = store_query_one(
		    r->node->st,
		    STATUS_SELECT "WHERE s.repo_id = $1 AND s.sha = $2 AND "
				  "s.context = $3 ORDER BY s.id DESC LIMIT 1",
		    STORE_ARGS(SI(api_int(repo, "id")), SS(sha), SS(ctx)),
		    &row);
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	obj = guts_xasprintf("%s/%s@%s", api_str(repo, "owner"),
			     api_str(repo, "name"), sha);
	node_audit(r->node, r->who.user, "status.create", obj,
		   json_pack("{s:s, s:s}", "context", ctx, "state", state));
	http_json(r, 201, status_json(r, repo, row));
out:
	free(obj);
	json_decref(cnt);
	json_decref(row);
	json_decref(b);
	json_decref(repo);
}

static void post_status(struct http_req *r)
{
	create_status(r, 0);
}

static void post_status_sha(struct http_req *r)
{
	create_status(r, 1);
}

/* ---- events ------------------------------------------------------------- */

struct events_out {
	json_t *list;
	int64_t repo_id; /* 0: all */
	uint64_t missed;
};

static void collect_event(const struct hub_event *ev, uint64_t missed,
			  void *user)
{
	struct events_out *o = user;

	o->missed += missed;
	if (o->repo_id && ev->repo_id != o->repo_id)
		return;
	json_array_append_new(o->list,
			      json_pack("{s:I, s:s, s:I, s:O}", "seq",
					(json_int_t)ev->seq, "event", ev->name,
					"repo_id", (json_int_t)ev->repo_id,
					"data", ev->data));
}

/*
 * GET /api/events?since=SEQ[&repo=O/R] (admin): what the hub's ring holds
 * after SEQ, oldest first, at most 1000: a view of the events the
 * WebSocket API will stream, for tools and tests.
 */
static void get_events(struct http_req *r)
{
	struct events_out o = {NULL, 0, 0};
	const char *repo = http_query(r, "repo");
	int64_t since;

	if (!http_need_user(r, SCOPE_ADMIN))
		return;
	if (node_int(http_query(r, "since"), 0, &since) < 0 || since < 0) {
		http_error(r, "bad_request",
			   "since: expected a sequence number");
		return;
	}
	if (repo) {
		const char *slash = strchr(repo, '/');
		char *owner =
		    slash ? guts_xstrndup(repo, (size_t)(slash - repo)) : NULL;
		json_t *row = NULL;
		int ok =
		    slash && api_repo(r, owner, slash + 1, SCOPE_READ, &row);

		free(owner);
		if (!slash)
			http_error(r, "bad_request",
				   "repo: expected OWNER/NAME");
		if (!ok)
			return;
		o.repo_id = api_int(row, "id");
		json_decref(row);
	}
	o.list = json_array();
	if (r->node->hub)
		hub_replay(r->node->hub, (uint64_t)since, collect_event, &o);
	while (json_array_size(o.list) > 1000)
		json_array_remove(o.list, json_array_size(o.list) - 1);
	http_json(
	    r, 200,
	    json_pack(
		"{s:I, s:I, s:o}", "last_seq",
		(json_int_t)(r->node->hub ? hub_last_seq(r->node->hub) : 0),
		"missed", (json_int_t)o.missed, "events", o.list));
}

/* ---- audit -------------------------------------------------------------- */

static void get_audit(struct http_req *r)
{
	json_t *rows = NULL, *row, *out = json_array();
	int64_t limit, offset;
	size_t i;

	if (!http_need_user(r, SCOPE_ADMIN)) {
		json_decref(out);
		return;
	}
	http_page(r, &limit, &offset);
	store_query(r->node->st,
		    "SELECT * FROM audit ORDER BY id DESC LIMIT $1 OFFSET $2",
		    STORE_ARGS(SI(limit), SI(offset)), &rows);
	json_array_foreach(rows, i, row) {
		json_t *d = parsed(row, "detail");

		json_array_append_new(
		    out,
		    json_pack("{s:I, s:o, s:s, s:o, s:o, s:o}", "id",
			      (json_int_t)api_int(row, "id"), "actor",
			      str_or_null(api_str(row, "actor")), "action",
			      api_str(row, "action"), "object",
			      str_or_null(api_str(row, "object")), "detail", d,
			      "created_at", api_time(row, "created_at")));
	}
	{
		json_t *cnt = NULL;
		char *link = NULL;

		if (store_query_one(r->node->st,
				    "SELECT COUNT(*) AS c FROM audit", NULL, 0,
				    &cnt) == 0)
			link = http_link(r, api_int(cnt, "c"));
		json_decref(cnt);
		http_json_link(r, 200, out, link);
		free(link);
	}
	json_decref(rows);
}

/* ---- the table ---------------------------------------------------------- */

#define REPO "/api/repos/{}/{}"
/* A manifest of GUTS_ARTIFACT_MAX_FILES entries fits. */
#define ARTS_MANIFEST_CAP (64u << 20)

const struct route node_routes[] = {
    {"GET", "/api/health", get_health, 0},
    {"GET", "/api/user", get_user, 0},
    {"POST", "/api/tokens", post_tokens, 0},
    {"GET", "/api/audit", get_audit, 0},
    {"GET", "/api/events", get_events, 0},
    {"GET", "/api/ws", ws_upgrade, 0},
    {"POST", "/api/repos", post_repos, 0},
    {"GET", "/api/repos", get_repos, 0},
    {"GET", REPO, get_repo, 0},
    {"DELETE", REPO, delete_repo, 0},
    {"GET", REPO "/workflows", get_workflows, 0},
    {"POST", REPO "/workflows", post_workflows, 0},
    {"GET", REPO "/workflows/{}", get_workflow, 0},
    {"GET", REPO "/runs", get_runs, 0},
    {"POST", REPO "/runs", post_runs, 0},
    {"GET", REPO "/runs/{}", get_run, 0},
    {"POST", REPO "/runs/{}/cancel", post_run_cancel, 0},
    {"POST", REPO "/runs/{}/rerun", post_run_rerun, 0},
    {"GET", REPO "/runs/{}/jobs", get_run_jobs, 0},
    {"GET", REPO "/jobs/{}", get_job, 0},
    {"GET", REPO "/jobs/{}/logs", get_job_logs, 0},
    {"GET", REPO "/jobs/{}/summary", summary_api_get, 0},
    {"GET", REPO "/runs/{}/annotations", summary_api_annotations, 0},
    {"GET", REPO "/commits/{*}/status", get_combined_status, 0},
    {"GET", REPO "/commits/{*}/statuses", get_statuses, 0},
    {"POST", REPO "/commits/{*}/statuses", post_status, 0},
    {"POST", REPO "/statuses/{}", post_status_sha, 0},
    {"GET", REPO "/statuses/{*}", get_statuses, 0},
    {"GET", REPO "/pulls", api_pulls_list, 0},
    {"POST", REPO "/pulls", api_pulls_create, 0},
    {"GET", REPO "/pulls/{}", api_pulls_get, 0},
    {"PATCH", REPO "/pulls/{}", api_pulls_patch, 0},
    {"PUT", REPO "/pulls/{}/merge", api_pulls_merge, 0},
    {"GET", REPO "/protections", protect_api_list, 0},
    {"GET", REPO "/branches/{*}/protection", protect_api_get, 0},
    {"PUT", REPO "/branches/{*}/protection", protect_api_put, 0},
    {"DELETE", REPO "/branches/{*}/protection", protect_api_delete, 0},
    {"POST", REPO "/runs/{}/artifacts", api_artifacts_create,
     ARTS_MANIFEST_CAP},
    {"GET", REPO "/runs/{}/artifacts", api_artifacts_run_list, 0},
    {"GET", REPO "/artifacts", api_artifacts_list, 0},
    {"GET", REPO "/artifacts/{}", api_artifacts_get, 0},
    {"DELETE", REPO "/artifacts/{}", api_artifacts_delete, 0},
    {"GET", REPO "/artifacts/{}/zip", api_artifacts_download, 0},
    {"POST", REPO "/uploads/{}/finalize", api_uploads_finalize, 0},
    {"PUT", REPO "/blobs/{}", api_blobs_put, 0},
    {"GET", REPO "/blobs/{}", api_blobs_get, 0},
    {"POST", REPO "/caches", api_caches_create, ARTS_MANIFEST_CAP},
    {"POST", REPO "/caches/lookup", api_caches_lookup, 0},
    {"GET", REPO "/caches", api_caches_list, 0},
    {"DELETE", REPO "/caches/{}", api_caches_delete, 0},
    {"GET", "/api/runners", api_runners_list, 0},
    {"POST", "/api/runners/registration-token", api_runners_regtoken, 0},
    {"POST", "/api/runners/register", api_runners_register, 0},
    {"POST", "/api/runners/next", api_runners_next, 0},
    {"POST", "/api/runners/jobs/{}/heartbeat", api_runners_heartbeat, 0},
    {"POST", "/api/runners/jobs/{}/logs", api_runners_logs, HTTP_LOG_CAP},
    {"POST", "/api/runners/jobs/{}/steps/{}", api_runners_step, 0},
    {"POST", "/api/runners/jobs/{}/complete", api_runners_complete,
     SUMMARY_COMPLETE_CAP},
    /* Last: its first segments match anything. */
    {"GET", "/{}/{}/actions/{}/badge.svg", api_badge, 0},
    /* The web UI, after the badge: its pages match the same shapes. */
    {"GET", "/", web_page, 0},
    {"GET", WEB_STATIC_PREFIX "/{*}", web_static, 0},
    {"GET", "/{}/{}/actions", web_page, 0},
    {"GET", "/{}/{}/actions/{}", web_page, 0},
    {"GET", "/{}/{}/actions/runs/{}", web_page, 0},
    {"GET", "/{}/{}/pulls/{}", web_page, 0},
    {NULL, NULL, NULL, 0},
};

const struct http_stream node_streams[] = {
    {api_blobs_put, api_blobs_put_open, api_blobs_put_write},
    {NULL, NULL, NULL},
};
