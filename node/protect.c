/* Branch protection: rules, their API and their checks (see protect.h). */
#include "protect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/filter.h"
#include "guts/httpc.h"
#include "http.h"
#include "banned.h"

void protect_rule_init(struct protect_rule *rule)
{
	memset(rule, 0, sizeof(*rule));
	guts_strvec_init(&rule->contexts);
}

void protect_rule_release(struct protect_rule *rule)
{
	guts_strvec_release(&rule->contexts);
	memset(rule, 0, sizeof(*rule));
}

/* ---- the pure parts ----------------------------------------------------- */

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int protect_pattern_check(const char *pattern)
{
	struct guts_filter_pattern *p = NULL;
	int rc;

	if (!*pattern)
		return guts_error(GUTS_EINVAL, "the pattern is empty");
	if (strlen(pattern) > PROTECT_PATTERN_MAX)
		return guts_error(GUTS_EINVAL,
				  "the pattern is longer than %d bytes",
				  PROTECT_PATTERN_MAX);
	if (!printable(pattern))
		return guts_error(GUTS_EINVAL,
				  "the pattern has a control character");
	/* A lone rule has no list to be excluded from. */
	if (pattern[0] == '!')
		return guts_error(GUTS_EINVAL,
				  "'%s': a protection pattern cannot be "
				  "negated",
				  pattern);
	rc = guts_filter_pattern_compile(&p, pattern);
	guts_filter_pattern_free(p);
	return rc;
}

static int context_check(const char *ctx)
{
	struct guts_filter_pattern *p = NULL;
	int rc;

	if (!*ctx)
		return guts_error(GUTS_EINVAL, "a context cannot be empty");
	if (strlen(ctx) > PROTECT_CONTEXT_MAX)
		return guts_error(GUTS_EINVAL, "longer than %d bytes",
				  PROTECT_CONTEXT_MAX);
	if (!printable(ctx))
		return guts_error(GUTS_EINVAL, "a control character");
	if (ctx[0] == '!')
		return guts_error(GUTS_EINVAL,
				  "'%s': a required context cannot be negated",
				  ctx);
	rc = guts_filter_pattern_compile(&p, ctx);
	guts_filter_pattern_free(p);
	return rc;
}

static int want_bool(const json_t *v, const char *field, int *out)
{
	if (!json_is_boolean(v))
		return guts_error(GUTS_EINVAL, "%s: expected true or false",
				  field);
	*out = json_is_true(v);
	return 0;
}

static int parse_checks(const json_t *v, struct protect_rule *out)
{
	const char *k;
	json_t *f;

	if (json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return guts_error(GUTS_EINVAL,
				  "required_status_checks: expected an "
				  "object (or null)");
	json_object_foreach((json_t *)v, k, f) {
		if (!strcmp(k, "strict")) {
			if (want_bool(f, "required_status_checks.strict",
				      &out->strict) < 0)
				return GUTS_EINVAL;
		} else if (!strcmp(k, "contexts")) {
			size_t i;
			json_t *c;

			if (!json_is_array(f))
				return guts_error(
				    GUTS_EINVAL,
				    "required_status_checks.contexts: "
				    "expected an array of strings");
			if (json_array_size(f) > PROTECT_MAX_CONTEXTS)
				return guts_error(
				    GUTS_EINVAL,
				    "required_status_checks.contexts: at "
				    "most %d contexts",
				    PROTECT_MAX_CONTEXTS);
			json_array_foreach(f, i, c) {
				const char *s = json_string_value(c);

				if (!s)
					return guts_error(
					    GUTS_EINVAL,
					    "required_status_checks.contexts["
					    "%zu]: expected a string",
					    i);
				if (context_check(s) < 0)
					return guts_error_wrap(
					    GUTS_EINVAL,
					    "required_status_checks.contexts["
					    "%zu]",
					    i);
				if (guts_strvec_find(&out->contexts, s) < 0)
					guts_strvec_push(&out->contexts, s);
			}
		} else {
			return guts_error(GUTS_EINVAL,
					  "required_status_checks.%s: unknown "
					  "field (expected contexts, strict)",
					  k);
		}
	}
	return 0;
}

int protect_parse_settings(const json_t *body, struct protect_rule *out)
{
	struct protect_rule rule;
	const char *k;
	json_t *v;
	int rc = 0;

	protect_rule_init(&rule);
	if (!json_is_object(body)) {
		rc = guts_error(GUTS_EINVAL, "the body must be a JSON object");
		goto out;
	}
	json_object_foreach((json_t *)body, k, v) {
		if (!strcmp(k, "required_status_checks"))
			rc = parse_checks(v, &rule);
		else if (!strcmp(k, "require_pull_request"))
			rc = want_bool(v, k, &rule.require_pr);
		else if (!strcmp(k, "allow_force_push"))
			rc = want_bool(v, k, &rule.allow_force_push);
		else
			rc = guts_error(GUTS_EINVAL,
					"%s: unknown field (expected "
					"required_status_checks, "
					"require_pull_request, "
					"allow_force_push)",
					k);
		if (rc < 0)
			goto out;
	}
	*out = rule;
	protect_rule_init(&rule);
out:
	protect_rule_release(&rule);
	return rc;
}

void protect_rule_combine(struct protect_rule *acc,
			  const struct protect_rule *rule, int first)
{
	for (size_t i = 0; i < rule->contexts.nr; i++)
		if (guts_strvec_find(&acc->contexts, rule->contexts.v[i]) < 0)
			guts_strvec_push(&acc->contexts, rule->contexts.v[i]);
	acc->strict |= rule->strict;
	acc->require_pr |= rule->require_pr;
	acc->allow_force_push =
	    first ? rule->allow_force_push
		  : acc->allow_force_push && rule->allow_force_push;
}

static int state_rank(const char *s)
{
	if (!strcmp(s, "success"))
		return 0;
	if (!strcmp(s, "pending"))
		return 1;
	if (!strcmp(s, "error"))
		return 2;
	return 3; /* failure, or anything unknown */
}

int protect_eval_contexts(const struct guts_strvec *required,
			  const json_t *latest, char **summary)
{
	struct guts_buf b;
	int all = 1;

	guts_buf_init(&b, 0);
	for (size_t i = 0; i < required->nr; i++) {
		const char *want = required->v[i];
		struct guts_filter_pattern *p = NULL;
		const char *worst = NULL;
		size_t matched = 0, k;
		json_t *row;

		/* A context is also taken literally, so one whose name has
		 * glob characters ("c++ build") can be required as it is. */
		if (guts_filter_pattern_compile(&p, want) < 0)
			p = NULL;
		json_array_foreach(latest, k, row) {
			const char *ctx =
			    json_string_value(json_object_get(row, "context"));
			const char *st =
			    json_string_value(json_object_get(row, "state"));

			if (!ctx || !st ||
			    (strcmp(ctx, want) &&
			     !(p && guts_filter_pattern_match(p, ctx))))
				continue;
			matched++;
			if (!worst || state_rank(st) > state_rank(worst))
				worst = st;
		}
		guts_filter_pattern_free(p);
		if (!matched)
			worst = "missing";
		if (strcmp(worst, "success"))
			all = 0;
		guts_buf_addf(&b, "%s%s: %s", i ? ", " : "", want, worst);
	}
	*summary = guts_buf_detach(&b, NULL);
	return all;
}

/* ---- the rules in the store --------------------------------------------- */

/* A stored row into @rule. */
static void rule_from_row(const json_t *row, struct protect_rule *rule)
{
	json_t *ctx = json_loads(api_str(row, "contexts"), 0, NULL);
	size_t i;
	json_t *c;

	protect_rule_init(rule);
	json_array_foreach(ctx, i, c)
		if (json_is_string(c))
			guts_strvec_push(&rule->contexts, json_string_value(c));
	json_decref(ctx);
	rule->strict = api_int(row, "strict") != 0;
	rule->require_pr = api_int(row, "require_pr") != 0;
	rule->allow_force_push = api_int(row, "allow_force_push") != 0;
}

/* Whether the stored @pattern applies to @branch. */
static int pattern_matches(const char *pattern, const char *branch)
{
	struct guts_filter_pattern *p = NULL;
	int hit;

	if (!strcmp(pattern, branch))
		return 1;
	if (guts_filter_pattern_compile(&p, pattern) < 0)
		return 0;
	hit = guts_filter_pattern_match(p, branch) &&
	      !guts_filter_pattern_is_negated(p);
	guts_filter_pattern_free(p);
	return hit;
}

int protect_rules_for(struct node *n, int64_t repo_id, const char *branch,
		      struct protect_rule *out)
{
	json_t *rows = NULL, *row;
	int matched = 0, rc;
	size_t i;

	protect_rule_init(out);
	out->allow_force_push = 1;
	if (!strncmp(branch, "refs/heads/", 11))
		branch += 11;
	rc = store_query(n->st,
			 "SELECT * FROM protections WHERE repo_id = $1 "
			 "ORDER BY pattern",
			 STORE_ARGS(SI(repo_id)), &rows);
	if (rc < 0)
		return rc;
	json_array_foreach(rows, i, row) {
		struct protect_rule rule;

		if (!pattern_matches(api_str(row, "pattern"), branch))
			continue;
		rule_from_row(row, &rule);
		protect_rule_combine(out, &rule, !matched);
		protect_rule_release(&rule);
		matched = 1;
	}
	json_decref(rows);
	return matched;
}

/* ---- merges ------------------------------------------------------------- */

int protect_check_merge(struct node *n, int64_t repo_id, const char *gitdir,
			const char *base_branch, const char *base_sha,
			const char *head_sha, char **why)
{
	struct protect_rule rule;
	struct guts_buf b;
	json_t *latest = NULL;
	char *summary = NULL;
	int rc;

	rc = protect_rules_for(n, repo_id, base_branch, &rule);
	if (rc <= 0)
		goto out;
	guts_buf_init(&b, 0);
	if (rule.contexts.nr) {
		rc =
		    store_query(n->st,
				"SELECT s.context, s.state FROM statuses s "
				"WHERE s.repo_id = $1 AND s.sha = $2 AND "
				"s.id = (SELECT MAX(t.id) FROM statuses t "
				"WHERE t.repo_id = s.repo_id AND t.sha = "
				"s.sha AND t.context = s.context)",
				STORE_ARGS(SI(repo_id), SS(head_sha)), &latest);
		if (rc < 0) {
			guts_buf_release(&b);
			goto out;
		}
		if (!protect_eval_contexts(&rule.contexts, latest, &summary))
			guts_buf_addf(&b,
				      "required status checks have not "
				      "passed: %s",
				      summary);
	}
	if (rule.strict && base_sha) {
		rc = gitx_is_ancestor(gitdir, base_sha, head_sha);
		if (rc < 0) {
			guts_buf_release(&b);
			goto out;
		}
		if (!rc)
			guts_buf_addf(&b,
				      "%sthe head branch is behind %s; "
				      "update it first",
				      b.len ? "; " : "", base_branch);
	}
	rc = 0;
	if (b.len) {
		rc = guts_error(GUTS_ECONFLICT, "%s", b.data);
		*why = guts_buf_detach(&b, NULL);
	}
	guts_buf_release(&b);
out:
	free(summary);
	json_decref(latest);
	protect_rule_release(&rule);
	return rc < 0 ? rc : 0;
}

/* ---- pushes ------------------------------------------------------------- */

int protect_check_push(struct node *n, int64_t repo_id, const char *gitdir,
		       const char *tmp_dir, const struct gitx_ref_update *u,
		       size_t nr, int pack_fd, long long pack_at, char **why)
{
	struct gitx_quarantine *q = NULL;
	int refused = 0, rc = 0;

	for (size_t i = 0; i < nr; i++) {
		const char *branch = u[i].ref + 11;
		struct protect_rule rule;
		int created = !strcmp(u[i].old_sha, GITX_ZERO_SHA);
		int deleted = !strcmp(u[i].new_sha, GITX_ZERO_SHA);

		if (strncmp(u[i].ref, "refs/heads/", 11))
			continue;
		rc = protect_rules_for(n, repo_id, branch, &rule);
		if (rc <= 0) {
			protect_rule_release(&rule);
			if (rc < 0)
				goto out;
			continue;
		}
		if (deleted) {
			why[i] = guts_xasprintf("protected branch '%s': it "
						"cannot be deleted",
						branch);
		} else if (rule.require_pr) {
			why[i] = guts_xasprintf(
			    "protected branch '%s': changes must be made "
			    "through a pull request",
			    branch);
		} else if (!created && !rule.allow_force_push) {
			if (!q)
				rc = gitx_quarantine_open(&q, gitdir, tmp_dir,
							  pack_fd, pack_at);
			if (rc >= 0)
				rc = gitx_quarantine_is_ancestor(
				    q, u[i].old_sha, u[i].new_sha);
			if (rc == GUTS_ENOTFOUND || rc == GUTS_EGIT) {
				/* What cannot be checked is not let through
				 * a protected branch. */
				why[i] = guts_xasprintf(
				    "protected branch '%s': the push cannot be "
				    "checked (%s)",
				    branch, guts_error_message());
				rc = 0;
			} else if (rc == 0) {
				why[i] = guts_xasprintf(
				    "protected branch '%s': force pushes are "
				    "not allowed",
				    branch);
			}
		}
		protect_rule_release(&rule);
		if (rc < 0)
			goto out;
		rc = 0;
		refused += why[i] != NULL;
	}
out:
	gitx_quarantine_free(q);
	return rc < 0 ? rc : refused;
}

/* ---- the API ------------------------------------------------------------ */

static json_t *rule_json(struct node *n, const json_t *repo, const json_t *row)
{
	json_t *ctx = json_loads(api_str(row, "contexts"), 0, NULL);
	char *pat = guts_http_escape(api_str(row, "pattern"));
	char *url = guts_xasprintf("%s/api/repos/%s/%s/branches/%s/protection",
				   n->base_url, api_str(repo, "owner"),
				   api_str(repo, "name"), pat);
	json_t *j = json_pack(
	    "{s:I, s:s, s:s, s:{s:o, s:b}, s:b, s:b, s:o, s:o}", "id",
	    (json_int_t)api_int(row, "id"), "pattern", api_str(row, "pattern"),
	    "url", url, "required_status_checks", "contexts",
	    json_is_array(ctx) ? ctx : json_array(), "strict",
	    (int)api_int(row, "strict"), "require_pull_request",
	    (int)api_int(row, "require_pr"), "allow_force_push",
	    (int)api_int(row, "allow_force_push"), "created_at",
	    store_time_json(json_object_get(row, "created_at")), "updated_at",
	    store_time_json(json_object_get(row, "updated_at")));

	if (!json_is_array(ctx))
		json_decref(ctx);
	free(url);
	free(pat);
	return j;
}

/* The repository of the route and its rule for params[2], or answered. */
static int route_rule(struct http_req *r, enum scope need, json_t **repo,
		      json_t **row)
{
	int rc;

	*row = NULL;
	if (!api_repo(r, r->params[0], r->params[1], need, repo))
		return 0;
	rc = store_query_one(
	    r->node->st,
	    "SELECT * FROM protections WHERE repo_id = $1 "
	    "AND pattern = $2",
	    STORE_ARGS(SI(api_int(*repo, "id")), SS(r->params[2])), row);
	if (rc == 0)
		return 1;
	if (rc == GUTS_ENOTFOUND)
		http_error(r, "not_found",
			   "no protection rule for '%s' in %s/%s", r->params[2],
			   r->params[0], r->params[1]);
	else
		http_fail(r, rc);
	json_decref(*repo);
	*repo = NULL;
	return 0;
}

static char *audit_object(const json_t *repo, const char *pattern)
{
	return guts_xasprintf("%s/%s#branches/%s", api_str(repo, "owner"),
			      api_str(repo, "name"), pattern);
}

void protect_api_get(struct http_req *r)
{
	json_t *repo, *row;

	if (!route_rule(r, SCOPE_READ, &repo, &row))
		return;
	http_json(r, 200, rule_json(r->node, repo, row));
	json_decref(row);
	json_decref(repo);
}

void protect_api_put(struct http_req *r)
{
	const char *pattern = r->params[2];
	struct protect_rule rule;
	json_t *repo = NULL, *b = NULL, *row = NULL, *old = NULL, *cnt = NULL;
	json_t *ctx = NULL;
	char *ctx_text = NULL, *obj = NULL;
	int64_t now = store_now_ms(), repo_id;
	int rc;

	protect_rule_init(&rule);
	if (!api_repo(r, r->params[0], r->params[1], SCOPE_ADMIN, &repo))
		return;
	repo_id = api_int(repo, "id");
	if (protect_pattern_check(pattern) < 0) {
		http_error(r, "unprocessable", "pattern: %s",
			   guts_error_message());
		goto out;
	}
	if (!(b = http_body_json(r)))
		goto out;
	if (protect_parse_settings(b, &rule) < 0) {
		http_error(r, "unprocessable", "%s", guts_error_message());
		goto out;
	}
	rc = store_query_one(r->node->st,
			     "SELECT id FROM protections WHERE repo_id = $1 "
			     "AND pattern = $2",
			     STORE_ARGS(SI(repo_id), SS(pattern)), &old);
	if (rc == GUTS_ENOTFOUND) {
		rc = store_query_one(r->node->st,
				     "SELECT COUNT(*) AS c FROM protections "
				     "WHERE repo_id = $1",
				     STORE_ARGS(SI(repo_id)), &cnt);
		if (rc == 0 && api_int(cnt, "c") >= PROTECT_MAX_RULES) {
			http_error(r, "unprocessable",
				   "%s/%s already has %d protection rules, "
				   "the most a repository may have",
				   r->params[0], r->params[1],
				   PROTECT_MAX_RULES);
			goto out;
		}
	}
	if (rc < 0) {
		http_fail(r, rc);
		goto out;
	}
	ctx = json_array();
	for (size_t i = 0; i < rule.contexts.nr; i++)
		json_array_append_new(ctx, json_string(rule.contexts.v[i]));
	ctx_text = json_dumps(ctx, JSON_COMPACT);
	rc = store_query_one(
	    r->node->st,
	    "INSERT INTO protections (repo_id, pattern, contexts, strict, "
	    "require_pr, allow_force_push, created_at, updated_at) VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (repo_id, pattern) "
	    "DO UPDATE SET contexts = excluded.contexts, strict = "
	    "excluded.strict, require_pr = excluded.require_pr, "
	    "allow_force_push = excluded.allow_force_push, updated_at = "
	    "excluded.updated_at RETURNING *",
	    STORE_ARGS(SI(repo_id), SS(pattern), SS(ctx_text), SI(rule.strict),
		       SI(rule.require_pr), SI(rule.allow_force_push), SI(now)),
	    &row);
	if (rc < 0) {
		http_fail(r, rc);
		goto out;
	}
	obj = audit_object(repo, pattern);
	node_audit(r->node, r->who.user, "protection.set", obj,
		   json_pack("{s:O, s:b, s:b, s:b, s:b}", "contexts", ctx,
			     "strict", rule.strict, "require_pull_request",
			     rule.require_pr, "allow_force_push",
			     rule.allow_force_push, "created", old == NULL));
	http_json(r, old ? 200 : 201, rule_json(r->node, repo, row));
out:
	protect_rule_release(&rule);
	free(obj);
	free(ctx_text);
	json_decref(ctx);
	json_decref(cnt);
	json_decref(old);
	json_decref(row);
	json_decref(b);
	json_decref(repo);
}

void protect_api_delete(struct http_req *r)
{
	json_t *repo, *row;
	char *obj;
	int rc;

	if (!route_rule(r, SCOPE_ADMIN, &repo, &row))
		return;
	rc = store_exec(r->node->st, "DELETE FROM protections WHERE id = $1",
			STORE_ARGS(SI(api_int(row, "id"))), NULL);
	if (rc < 0) {
		http_fail(r, rc);
	} else {
		obj = audit_object(repo, r->params[2]);
		node_audit(r->node, r->who.user, "protection.delete", obj,
			   NULL);
		free(obj);
		http_empty(r, 204);
	}
	json_decref(row);
	json_decref(repo);
}

void protect_api_list(struct http_req *r)
{
	const char *branch = http_query(r, "branch");
	json_t *repo, *rows = NULL, *row, *out;
	size_t i;
	int rc;

	if (!api_repo(r, r->params[0], r->params[1], SCOPE_READ, &repo))
		return;
	rc = store_query(r->node->st,
			 "SELECT * FROM protections WHERE repo_id = $1 "
			 "ORDER BY pattern",
			 STORE_ARGS(SI(api_int(repo, "id"))), &rows);
	if (rc < 0) {
		http_fail(r, rc);
		json_decref(repo);
		return;
	}
	out = json_array();
	json_array_foreach(rows, i, row) {
		if (branch &&
		    !pattern_matches(api_str(row, "pattern"),
				     strncmp(branch, "refs/heads/", 11)
					 ? branch
					 : branch + 11))
			continue;
		json_array_append_new(out, rule_json(r->node, repo, row));
	}
	http_json_page(r, out);
	json_decref(rows);
	json_decref(repo);
}
