/* The runner protocol (docs/runner-protocol.md), the node's side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "guts/alloc.h"
#include "guts/error.h"
#include "scheduler.h"
#include "summary.h"
#include "banned.h"

#define REGISTRATION_TTL_MS (3600 * 1000)
#define OFFLINE_AFTER_MS (90 * 1000)

/* The protocol version of a JSON body or header; answers 426 when wrong. */
static int protocol_ok(struct http_req *r, const json_t *body)
{
	long long v;

	if (body) {
		const json_t *p = json_object_get(body, "protocol");

		v = json_is_integer(p) ? json_integer_value(p) : 0;
	} else {
		const char *h = http_header(r, "X-Guts-Protocol");

		int64_t x = 0;

		v = node_int(h, 0, &x) == 0 ? x : -1;
	}
	if (v == GUTS_PROTOCOL)
		return 1;
	http_error(r, "protocol_version",
		   "runner protocol %lld is not supported: this node speaks "
		   "protocol %d; upgrade guts-runner",
		   v, GUTS_PROTOCOL);
	return 0;
}

static int need_runner(struct http_req *r)
{
	if (r->who.runner_id)
		return 1;
	http_error(r, "unauthorized", "this needs a runner token");
	return 0;
}

static int labels_ok(const json_t *labels)
{
	size_t i;
	json_t *l;

	if (!json_is_array(labels) || json_array_size(labels) > 64)
		return 0;
	json_array_foreach(labels, i, l) {
		if (!json_is_string(l) || !node_name_ok(json_string_value(l)))
			return 0;
	}
	return 1;
}

int api_runner_create(struct node *n, const char *name, const json_t *labels,
		      int embedded, int64_t *id, char **token)
{
	char hash[65], *lb = json_dumps(labels, JSON_COMPACT);
	json_t *row = NULL;
	int ret;

	*token = node_token_new("grn");
	node_token_hash(*token, hash);
	ret = store_query_one(n->st,
			      "INSERT INTO runners (name, labels, token_hash, "
			      "embedded, version, created_at) VALUES ($1, $2, "
			      "$3, $4, $5, $6) RETURNING id",
			      STORE_ARGS(SS(name), SS(lb), SS(hash),
					 SI(embedded), SS(GUTS_NODE_VERSION),
					 SI(store_now_ms())),
			      &row);
	if (ret == 0)
		*id = api_int(row, "id");
	json_decref(row);
	free(lb);
	if (ret < 0) {
		free(*token);
		*token = NULL;
	}
	return ret;
}

void api_runners_list(struct http_req *r)
{
	json_t *rows = NULL, *row, *out = json_array();
	int64_t now = store_now_ms();
	size_t i;

	if (!http_need_user(r, SCOPE_READ)) {
		json_decref(out);
		return;
	}
	store_query(
	    r->node->st,
	    "SELECT r.*, (SELECT COUNT(*) FROM jobs j WHERE j.runner_id "
	    "= r.id AND j.status = 'in_progress') AS busy FROM runners "
	    "r ORDER BY r.id",
	    NULL, 0, &rows);
	json_array_foreach(rows, i, row) {
		const json_t *seen = json_object_get(row, "last_seen_at");
		const char *labels = api_str(row, "labels");
		int64_t busy = api_int(row, "busy");
		const char *status =
		    !json_is_integer(seen) ||
			    now - json_integer_value(seen) > OFFLINE_AFTER_MS
			? "offline"
		    : busy ? "busy"
			   : "idle";

		json_array_append_new(
		    out,
		    json_pack(
			"{s:I, s:s, s:o, s:s, s:o, s:I, s:b, s:o}", "id",
			(json_int_t)api_int(row, "id"), "name",
			api_str(row, "name"), "labels",
			json_loads(labels ? labels : "[]", 0, NULL), "status",
			status, "last_seen_at", store_time_json(seen), "jobs",
			(json_int_t)busy, "embedded",
			(int)api_int(row, "embedded"), "created_at",
			store_time_json(json_object_get(row, "created_at"))));
	}
	json_decref(rows);
	http_json_page(r, out);
}

void api_runners_regtoken(struct http_req *r)
{
	char *token, hash[65];
	int64_t exp = store_now_ms() + REGISTRATION_TTL_MS;
	json_t *e;
	int ret;

	if (!http_need_user(r, SCOPE_ADMIN))
		return;
	if (!r->who.is_admin) {
		http_error(r, "forbidden", "only admins register runners");
		return;
	}
	token = node_token_new("grt");
	node_token_hash(token, hash);
	ret = store_exec(r->node->st,
			 "INSERT INTO registration_tokens (hash, expires_at) "
			 "VALUES ($1, $2)",
			 STORE_ARGS(SS(hash), SI(exp)), NULL);
	if (ret < 0) {
		free(token);
		http_fail(r, ret);
		return;
	}
	node_audit(r->node, r->who.user, "runner.registration_token", NULL,
		   NULL);
	e = json_integer(exp);
	http_json(r, 201,
		  json_pack("{s:s, s:o}", "token", token, "expires_at",
			    store_time_json(e)));
	json_decref(e);
	free(token);
}

void api_runners_register(struct http_req *r)
{
	json_t *b, *labels;
	const char *reg, *name;
	char hash[65], *token = NULL;
	int64_t changes = 0, id = 0;
	int ret;

	if (!(b = http_body_json(r)))
		return;
	if (!protocol_ok(r, b))
		goto out;
	reg = api_str(b, "token");
	name = api_str(b, "name");
	labels = json_object_get(b, "labels");
	if (!reg) {
		http_error(r, "unauthorized",
			   "token: a registration token is "
			   "required");
		goto out;
	}
	if (!name || !node_name_ok(name)) {
		http_error(r, "bad_request", "name: '%s' is not a valid name",
			   name ? name : "");
		goto out;
	}
	if (!labels)
		labels = json_pack("[s]", "default");
	else
		json_incref(labels);
	if (!labels_ok(labels)) {
		json_decref(labels);
		http_error(r, "bad_request",
			   "labels: expected up to 64 names like 'default'");
		goto out;
	}
	node_token_hash(reg, hash);
	ret = store_exec(r->node->st,
			 "UPDATE registration_tokens SET used = 1 WHERE hash = "
			 "$1 AND used = 0 AND expires_at > $2",
			 STORE_ARGS(SS(hash), SI(store_now_ms())), &changes);
	if (ret == 0 && changes != 1) {
		json_decref(labels);
		http_error(
		    r, "unauthorized",
		    "the registration token is unknown, used or expired");
		goto out;
	}
	if (ret == 0)
		ret = api_runner_create(r->node, name, labels, 0, &id, &token);
	if (ret < 0) {
		json_decref(labels);
		http_fail(r, ret);
		goto out;
	}
	node_audit(r->node, name, "runner.register", name,
		   json_pack("{s:O}", "labels", labels));
	http_json(r, 201,
		  json_pack("{s:I, s:s, s:o, s:s}", "id", (json_int_t)id,
			    "name", name, "labels", labels, "token", token));
	free(token);
out:
	json_decref(b);
}

struct next_state {
	int64_t deadline;
};

void api_runners_next(struct http_req *r)
{
	struct next_state *s = r->state;
	json_t *lease = NULL;
	uint64_t gen;
	int ret;

	if (!need_runner(r))
		return;
	if (!s) {
		json_t *b = http_body_json(r);
		long long wait;

		if (!b)
			return;
		if (!protocol_ok(r, b)) {
			json_decref(b);
			return;
		}
		wait = json_is_integer(json_object_get(b, "wait"))
			   ? json_integer_value(json_object_get(b, "wait"))
			   : 30;
		json_decref(b);
		if (wait < 0)
			wait = 0;
		if (wait > 30)
			wait = 30;
		s = guts_xcalloc(1, sizeof(*s));
		s->deadline = store_now_ms() + wait * 1000;
		r->state = s;
		r->state_free = free;
	}
	for (;;) {
		if (r->node->draining) {
			/* Shutting down: runners get nothing new, at once. */
			http_empty(r, 204);
			return;
		}
		gen = http_wake_gen(r->node);
		ret = sched_claim(r->node, r->who.runner_id, &lease);
		if (ret < 0) {
			http_fail(r, ret);
			return;
		}
		if (lease) {
			http_json(r, 200, json_pack("{s:o}", "job", lease));
			return;
		}
		if (store_now_ms() >= s->deadline || r->node->stopping) {
			http_empty(r, 204);
			return;
		}
		if (http_suspend_since(r, WAIT_JOBS, 0, s->deadline, gen))
			return;
	}
}

/* The job of a /api/runners/jobs/{id}/... call, fenced. */
static int fenced(struct http_req *r, int64_t *job_id, json_t **job)
{
	const char *a = http_header(r, "X-Guts-Attempt");
	const char *l = http_header(r, "X-Guts-Lease");
	char *end;
	long long id = strtoll(r->params[0], &end, 10);
	int64_t attempt;
	int ret;

	if (!need_runner(r))
		return 0;
	if (*end || id <= 0) {
		http_error(r, "bad_request", "'%s' is not a job id",
			   r->params[0]);
		return 0;
	}
	if (!a || !l) {
		http_error(r, "bad_request",
			   "X-Guts-Attempt and X-Guts-Lease are required");
		return 0;
	}
	if (node_int(a, 0, &attempt) < 0) {
		http_error(r, "bad_request", "X-Guts-Attempt: not a number");
		return 0;
	}
	ret = sched_check_lease(r->node, id, attempt, l, job);
	if (ret == GUTS_ENOTFOUND) {
		http_error(r, "not_found", "job %lld not found", id);
		return 0;
	}
	if (ret < 0) {
		http_error(r, "stale_lease", "%s", guts_error_message());
		return 0;
	}
	if (api_int(*job, "runner_id") != r->who.runner_id) {
		json_decref(*job);
		*job = NULL;
		http_error(r, "stale_lease",
			   "job %lld is leased to another "
			   "runner",
			   id);
		return 0;
	}
	*job_id = id;
	return 1;
}

struct beat_state {
	int64_t job, attempt, deadline;
};

/*
 * A heartbeat extends the lease and says whether to cancel.  With "wait"
 * it is also a long-poll: it answers at once when the job is cancelled
 * (or completes), else after "wait" seconds, so a cancel reaches the job
 * in milliseconds instead of at the next beat.
 */
void api_runners_heartbeat(struct http_req *r)
{
	struct beat_state *s = r->state;
	json_t *b = NULL, *job = NULL, *e;
	int64_t id, exp;
	int cancel = 0, ret;
	uint64_t gen;

	if (!s) {
		if (!(b = http_body_json(r)))
			return;
		if (!protocol_ok(r, b))
			goto out;
	}
	{
		/* A job that completed (its own runner said so) is not a
		 * stale lease for its heartbeat, just the end of the beats. */
		int64_t jid = 0, att = 0;

		if (node_int(r->params[0], 0, &jid) == 0 &&
		    node_int(http_header(r, "X-Guts-Attempt"), 0, &att) == 0 &&
		    store_query_one(r->node->st,
				    "SELECT status, attempt, runner_id FROM "
				    "jobs WHERE id = $1",
				    STORE_ARGS(SI(jid)), &job) == 0 &&
		    !strcmp(api_str(job, "status"), "completed") &&
		    api_int(job, "attempt") == att &&
		    api_int(job, "runner_id") == r->who.runner_id &&
		    r->who.runner_id) {
			http_json(r, 200,
				  json_pack("{s:b, s:b}", "cancel", 0,
					    "completed", 1));
			goto out;
		}
		json_decref(job);
		job = NULL;
	}
	if (!fenced(r, &id, &job))
		goto out;
	gen = http_wake_gen(r->node);
	ret = sched_heartbeat(r->node, id, api_int(job, "attempt"),
			      http_header(r, "X-Guts-Lease"), &cancel, &exp);
	if (ret == GUTS_EPERM) {
		http_error(r, "stale_lease", "%s", guts_error_message());
		goto out;
	}
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	if (!s) {
		const json_t *w = json_object_get(b, "wait");
		int64_t wait = json_is_integer(w) ? json_integer_value(w) : 0;

		s = guts_xcalloc(1, sizeof(*s));
		s->job = id;
		s->attempt = api_int(job, "attempt");
		if (wait > 30)
			wait = 30;
		s->deadline = store_now_ms() + (wait > 0 ? wait * 1000 : 0);
		r->state = s;
		r->state_free = free;
	}
	if (!cancel && !r->node->draining && store_now_ms() < s->deadline &&
	    http_suspend_since(r, WAIT_CANCEL, id, s->deadline, gen))
		goto out;
	e = json_integer(exp);
	http_json(r, 200,
		  json_pack("{s:b, s:o}", "cancel", cancel, "lease_expires_at",
			    store_time_json(e)));
	json_decref(e);
out:
	json_decref(job);
	json_decref(b);
}

void api_runners_logs(struct http_req *r)
{
	const char *o = http_query(r, "offset");
	json_t *job = NULL;
	int64_t id, acked = 0;
	char *end = NULL;
	long long off = o ? strtoll(o, &end, 10) : -1;
	int ret;

	if (!protocol_ok(r, NULL) || !fenced(r, &id, &job))
		return;
	if (!o || *end || off < 0) {
		http_error(r, "bad_request",
			   "offset: a byte offset is required");
		goto out;
	}
	ret = sched_log_append(r->node, id, api_int(job, "attempt"),
			       http_header(r, "X-Guts-Lease"), off,
			       r->body.data, r->body.len, &acked);
	if (ret == GUTS_ECONFLICT) {
		http_json(r, 409,
			  json_pack("{s:{s:s, s:s}, s:I}", "error", "code",
				    "offset_gap", "message",
				    "the chunk starts past the acknowledged "
				    "end; resend from 'offset'",
				    "offset", (json_int_t)acked));
		goto out;
	}
	if (ret == GUTS_EPERM) {
		http_error(r, "stale_lease", "%s", guts_error_message());
		goto out;
	}
	if (ret < 0) {
		http_fail(r, ret);
		goto out;
	}
	http_json(r, 200, json_pack("{s:I}", "offset", (json_int_t)acked));
out:
	json_decref(job);
}

void api_runners_step(struct http_req *r)
{
	json_t *b = NULL, *job = NULL;
	int64_t id;
	char *end;
	long long n = strtoll(r->params[1], &end, 10);
	int ret;

	if (!(b = http_body_json(r)))
		return;
	if (!protocol_ok(r, b) || !fenced(r, &id, &job))
		goto out;
	if (*end || n < 1 || n > 10000) {
		http_error(r, "bad_request", "'%s' is not a step number",
			   r->params[1]);
		goto out;
	}
	ret = sched_step(r->node, id, api_int(job, "attempt"),
			 http_header(r, "X-Guts-Lease"), n, b);
	if (ret == GUTS_EPERM)
		http_error(r, "stale_lease", "%s", guts_error_message());
	else if (ret < 0)
		http_fail(r, ret);
	else
		http_json(r, 200, json_object());
out:
	json_decref(job);
	json_decref(b);
}

static int outputs_fit(const json_t *outputs)
{
	char *s;
	size_t len;

	if (!outputs)
		return 1;
	s = json_dumps(outputs, JSON_COMPACT | JSON_ENCODE_ANY);
	len = s ? strlen(s) : 0;
	free(s);
	return len <= HTTP_BODY_CAP;
}

void api_runners_complete(struct http_req *r)
{
	json_t *b = NULL, *job = NULL;
	const json_t *off;
	int64_t id;
	int ret;

	if (!(b = http_body_json(r)))
		return;
	if (!protocol_ok(r, b) || !fenced(r, &id, &job))
		goto out;
	off = json_object_get(b, "log_offset");
	if (json_is_integer(off) &&
	    json_integer_value(off) > api_int(job, "log_acked")) {
		http_json(r, 409,
			  json_pack("{s:{s:s, s:s}, s:I}", "error", "code",
				    "offset_gap", "message",
				    "the log is not fully acknowledged yet; "
				    "send the rest first",
				    "offset",
				    (json_int_t)api_int(job, "log_acked")));
		goto out;
	}
	/*
	 * The body may be bigger than other bodies for the summary and the
	 * annotations; the outputs keep the cap they had.
	 */
	if (!outputs_fit(json_object_get(b, "outputs"))) {
		http_error(r, "unprocessable", "outputs: over %u bytes as JSON",
			   HTTP_BODY_CAP);
		goto out;
	}
	/* Optional: a runner that predates them sends neither. */
	if (summary_check(b) < 0) {
		http_error(r, "unprocessable", "%s", guts_error_message());
		goto out;
	}
	ret = sched_complete(
	    r->node, id, api_int(job, "attempt"),
	    http_header(r, "X-Guts-Lease"), api_str(b, "conclusion"),
	    json_object_get(b, "outputs"), api_str(b, "reason"),
	    json_object_get(b, "annotations"), api_str(b, "summary"));
	if (ret == GUTS_EPERM)
		http_error(r, "stale_lease", "%s", guts_error_message());
	else if (ret < 0)
		http_fail(r, ret);
	else
		http_json(r, 200, json_object());
out:
	json_decref(job);
	json_decref(b);
}
