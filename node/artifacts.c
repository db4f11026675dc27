/*
 * Artifacts, caches and their uploads (docs/artifacts.md), and the
 * collector that purges expired artifacts, drops abandoned uploads and
 * removes the blobs nothing references.  See artifacts.h for the locking
 * that keeps a blob the node reported as present from being collected.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "artifacts.h"
#include "guts/alloc.h"
#include "guts/artifact_store.h"
#include "guts/error.h"
#include "banned.h"

#define GIB (1ULL << 30)
#define DEFAULT_MAX_FILE (10 * GIB)
#define DEFAULT_MAX_BYTES (10 * GIB)
#define DEFAULT_REPO_QUOTA (100 * GIB)
#define DEFAULT_CACHE_MAX (10 * GIB)
#define DEFAULT_RETENTION_DAYS 90
#define DEFAULT_UPLOAD_TTL_SECONDS 86400
#define DEFAULT_GC_SECONDS 3600
#define CACHE_KEY_MAX 512
#define DAY_MS (86400LL * 1000)

/* ---- configuration ------------------------------------------------------ */

/* A positive whole number from the environment, or @def. */
static int env_ull(const char *name, unsigned long long def,
		   unsigned long long *out)
{
	const char *s = getenv(name);
	unsigned long long v;
	char *end;

	*out = def;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '-' || errno || *end || !v)
		return guts_error(GUTS_EINVAL,
				  "%s=%s: expected a positive whole number",
				  name, s);
	*out = v;
	return 0;
}

int artifacts_init(struct node *n)
{
	struct artifacts *a = guts_xcalloc(1, sizeof(*a));
	unsigned long long days = 0, ttl = 0, gc = 0;
	int rc;

	rc = env_ull("GUTS_ARTIFACT_MAX_FILE", DEFAULT_MAX_FILE, &a->max_file);
	if (!rc)
		rc = env_ull("GUTS_ARTIFACT_MAX_BYTES", DEFAULT_MAX_BYTES,
			     &a->max_bytes);
	if (!rc)
		rc = env_ull("GUTS_REPO_QUOTA_BYTES", DEFAULT_REPO_QUOTA,
			     &a->repo_quota);
	if (!rc)
		rc = env_ull("GUTS_CACHE_REPO_MAX_BYTES", DEFAULT_CACHE_MAX,
			     &a->cache_max);
	if (!rc)
		rc = env_ull("GUTS_ARTIFACT_RETENTION_DAYS",
			     DEFAULT_RETENTION_DAYS, &days);
	if (!rc)
		rc = env_ull("GUTS_UPLOAD_TTL_SECONDS",
			     DEFAULT_UPLOAD_TTL_SECONDS, &ttl);
	if (!rc)
		rc = env_ull("GUTS_GC_SECONDS", DEFAULT_GC_SECONDS, &gc);
	if (!rc &&
	    (days > 36500 || ttl > 365ULL * 86400 || gc > 365ULL * 86400))
		rc = guts_error(GUTS_EINVAL,
				"GUTS_ARTIFACT_RETENTION_DAYS, "
				"GUTS_UPLOAD_TTL_SECONDS or GUTS_GC_SECONDS "
				"is out of range");
	if (!rc)
		rc = guts_blobstore_open(&a->bs, n->cfg.data);
	if (rc < 0) {
		free(a);
		return rc;
	}
	a->retention_days = (int)days;
	a->upload_ttl_ms = (int64_t)ttl * 1000;
	a->gc_ms = (int64_t)gc * 1000;
	a->dir = guts_xstrdup(n->cfg.data);
	pthread_mutex_init(&a->blob_lock, NULL);
	pthread_mutex_init(&a->gc_lock, NULL);
	pthread_cond_init(&a->gc_cond, NULL);
	n->arts = a;
	return 0;
}

/* ---- shared pieces ------------------------------------------------------ */

static json_t *parsed(const json_t *o, const char *k)
{
	const char *s = api_str(o, k);
	json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;

	return v ? v : json_array();
}

static int parse_id(struct http_req *r, const char *s, int64_t *id)
{
	if (node_int(s, 0, id) < 0 || *id <= 0) {
		http_error(r, "bad_request", "'%s' is not a valid id", s);
		return 0;
	}
	return 1;
}

int artifacts_repo(struct http_req *r, int write, int job_ok, json_t **repo)
{
	json_t *row = NULL;

	*repo = NULL;
	if (r->who.job_id) {
		if (!api_repo(r, r->params[0], r->params[1], SCOPE_READ, &row))
			return 0;
		if (r->who.job_repo_id != api_int(row, "id")) {
			http_error(r, "forbidden",
				   "a job token of another repository is not "
				   "accepted for %s/%s",
				   r->params[0], r->params[1]);
			json_decref(row);
			return 0;
		}
		if (write && !job_ok) {
			http_error(r, "forbidden",
				   "this needs a user token with the 'write' "
				   "scope");
			json_decref(row);
			return 0;
		}
		*repo = row;
		return 1;
	}
	if (!api_repo(r, r->params[0], r->params[1],
		      write ? SCOPE_WRITE : SCOPE_READ, &row))
		return 0;
	*repo = row;
	return 1;
}

/* The run and ref of the caller's job (a job token). */
static int job_run(struct node *n, int64_t job_id, int64_t *run_id, char **ref)
{
	json_t *row = NULL;
	int rc;

	rc = store_query_one(n->st,
			     "SELECT j.run_id, r.ref FROM jobs j JOIN runs r "
			     "ON r.id = j.run_id WHERE j.id = $1",
			     STORE_ARGS(SI(job_id)), &row);
	if (rc < 0)
		return rc;
	*run_id = api_int(row, "run_id");
	if (ref)
		*ref = api_str(row, "ref") ? guts_xstrdup(api_str(row, "ref"))
					   : NULL;
	json_decref(row);
	return 0;
}

int artifacts_blob_referenced(struct node *n, int64_t repo_id, const char *hex,
			      const char *kind)
{
	json_t *row = NULL;
	int rc;

	if (kind)
		rc = store_query_one(n->st,
				     "SELECT 1 AS x FROM blob_refs WHERE "
				     "sha256 = $1 AND repo_id = $2 AND "
				     "owner_kind = $3 LIMIT 1",
				     STORE_ARGS(SS(hex), SI(repo_id), SS(kind)),
				     &row);
	else
		/* Only content the repository proved it has: it sent the
		 * bytes, or a finalized entry of its own holds them. */
		rc = store_query_one(n->st,
				     "SELECT 1 AS x FROM blob_refs WHERE "
				     "sha256 = $1 AND repo_id = $2 AND proven "
				     "= 1 LIMIT 1",
				     STORE_ARGS(SS(hex), SI(repo_id)), &row);
	json_decref(row);
	return rc == 0;
}

/* The distinct blobs of a checked manifest, as a set (an object). */
static json_t *blob_set(const json_t *files)
{
	json_t *set = json_object(), *f;
	size_t i;

	json_array_foreach(files, i, f) {
		json_object_set_new(set, api_str(f, "sha256"), json_true());
	}
	return set;
}

/*
 * Caps common to artifacts and caches: each file under max_file, the total
 * under @max (named @cap_name).  Answers 413 and returns 0 when over.
 */
static int check_caps(struct http_req *r, const json_t *files,
		      unsigned long long max, const char *cap_name,
		      unsigned long long *total)
{
	struct artifacts *a = r->node->arts;
	unsigned long long sum = 0;
	json_t *f;
	size_t i;

	json_array_foreach(files, i, f) {
		unsigned long long sz = (unsigned long long)api_int(f, "size");

		if (sz > a->max_file) {
			http_error(r, "too_large",
				   "file '%s' is %llu bytes, over the "
				   "per-file cap of %llu bytes "
				   "(GUTS_ARTIFACT_MAX_FILE)",
				   api_str(f, "path"), sz, a->max_file);
			return 0;
		}
		sum += sz;
	}
	if (sum > max) {
		http_error(r, "too_large",
			   "the files add up to %llu bytes, over the cap of "
			   "%llu bytes (%s)",
			   sum, max, cap_name);
		return 0;
	}
	*total = sum;
	return 1;
}

/* The upload's fields that differ between artifacts and caches. */
struct upload_spec {
	const char *kind; /* "artifact" or "cache" */
	int64_t run_id;
	const char *name, *ref, *key, *version, *paths;
	int retention_days, overwrite;
};

/*
 * Record a pending upload of @files and reference its blobs, then answer
 * 201 with the blobs the store lacks.  The references are in before the
 * look at the disk, both under blob_lock, so the collector cannot remove a
 * blob between "present" and the finalize.
 */
static void create_upload(struct http_req *r, const json_t *repo,
			  const struct upload_spec *u, const json_t *files,
			  unsigned long long total)
{
	struct node *n = r->node;
	struct artifacts *a = n->arts;
	int64_t now = store_now_ms(), repo_id = api_int(repo, "id"), id = 0;
	char *manifest = json_dumps(files, JSON_COMPACT);
	json_t *set = blob_set(files), *missing = json_array(), *row = NULL, *v;
	const char *hex;
	int rc;

	pthread_mutex_lock(&a->blob_lock);
	rc = store_begin(n->st);
	if (rc == 0)
		rc = store_query_one(
		    n->st,
		    "INSERT INTO uploads (repo_id, kind, run_id, name, ref, "
		    "key, version, paths, retention_days, overwrite, manifest, "
		    "size_bytes, created_by, created_at, expires_at) VALUES "
		    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
		    "$14, $15) RETURNING id",
		    STORE_ARGS(SI(repo_id), SS(u->kind),
			       u->run_id ? SI(u->run_id) : SN, SS(u->name),
			       SS(u->ref), SS(u->key), SS(u->version),
			       SS(u->paths), SI(u->retention_days),
			       SI(u->overwrite), SS(manifest), SI(total),
			       SS(r->who.user), SI(now),
			       SI(now + a->upload_ttl_ms)),
		    &row);
	if (rc == 0) {
		id = api_int(row, "id");
		/*
		 * Proven: a finalized artifact or cache of this repository
		 * holds the blob already.  Anything else must be sent, even
		 * when another repository stored the same bytes: knowing a
		 * hash must never be enough to read content (the bytes are
		 * then not stored twice, only sent).
		 */
		json_object_foreach(set, hex, v) {
			rc = store_exec(
			    n->st,
			    "INSERT INTO blob_refs (sha256, owner_kind, "
			    "owner_id, repo_id, proven) VALUES ($1, 'upload', "
			    "$2, $3, EXISTS (SELECT 1 FROM blob_refs o WHERE "
			    "o.sha256 = $1 AND o.repo_id = $3 AND o.owner_kind "
			    "IN ('artifact', 'cache')))",
			    STORE_ARGS(SS(hex), SI(id), SI(repo_id)), NULL);
			if (rc < 0)
				break;
		}
	}
	if (rc == 0)
		rc = store_commit(n->st);
	else
		store_rollback(n->st);
	if (rc == 0) {
		json_t *unproven = NULL, *row_u;
		size_t i;

		rc =
		    store_query(n->st,
				"SELECT sha256 FROM blob_refs WHERE owner_kind "
				"= 'upload' AND owner_id = $1 AND proven = 0",
				STORE_ARGS(SI(id)), &unproven);
		json_array_foreach(unproven, i, row_u)
			json_object_del(set, api_str(row_u, "sha256"));
		json_array_foreach(unproven, i, row_u)
			json_array_append(missing,
					  json_object_get(row_u, "sha256"));
		json_decref(unproven);
		json_object_foreach(set, hex, v) {
			if (guts_blobstore_has(a->bs, hex) != 1)
				json_array_append_new(missing,
						      json_string(hex));
		}
	}
	pthread_mutex_unlock(&a->blob_lock);
	json_decref(row);
	json_decref(set);
	free(manifest);
	if (rc < 0) {
		json_decref(missing);
		http_fail(r, rc);
		return;
	}
	http_json(r, 201,
		  json_pack("{s:{s:I, s:o, s:I, s:I}}", "upload", "id",
			    (json_int_t)id, "missing", missing, "size_bytes",
			    (json_int_t)total, "expires_at",
			    (json_int_t)now + (json_int_t)a->upload_ttl_ms));
}

/* Remove the blob references of an owner (inside a transaction). */
static int drop_refs(struct node *n, const char *kind, int64_t id)
{
	return store_exec(n->st,
			  "DELETE FROM blob_refs WHERE owner_kind = $1 AND "
			  "owner_id = $2",
			  STORE_ARGS(SS(kind), SI(id)), NULL);
}

/* Delete an artifact, cache entry or upload with its references. */
static int drop_owner(struct node *n, const char *kind, int64_t id)
{
	static const char *const sql[] = {
	    "DELETE FROM artifacts WHERE id = $1",
	    "DELETE FROM caches WHERE id = $1",
	    "DELETE FROM uploads WHERE id = $1",
	};
	int which = !strcmp(kind, "artifact") ? 0
		    : !strcmp(kind, "cache")  ? 1
					      : 2;
	int rc = store_begin(n->st);

	if (rc == 0)
		rc = drop_refs(n, kind, id);
	if (rc == 0)
		rc = store_exec(n->st, sql[which], STORE_ARGS(SI(id)), NULL);
	if (rc == 0)
		return store_commit(n->st);
	store_rollback(n->st);
	return rc;
}

/* ---- artifacts ---------------------------------------------------------- */

static json_t *artifact_json(const json_t *row, int64_t now)
{
	return json_pack("{s:I, s:I, s:s, s:I, s:I, s:o, s:s, s:o, s:o, s:b}",
			 "id", (json_int_t)api_int(row, "id"), "run_id",
			 (json_int_t)api_int(row, "run_id"), "name",
			 api_str(row, "name"), "size_bytes",
			 (json_int_t)api_int(row, "size_bytes"), "files_count",
			 (json_int_t)api_int(row, "files_count"), "files",
			 parsed(row, "manifest"), "content_hash",
			 api_str(row, "content_hash"), "created_at",
			 api_time(row, "created_at"), "expires_at",
			 api_time(row, "expires_at"), "expired",
			 api_int(row, "expires_at") <= now);
}

/* The run {run} of the repository; answers 404 itself. */
static int find_run(struct http_req *r, const json_t *repo, const char *id,
		    int64_t *run_id)
{
	json_t *row = NULL;
	int64_t rid;
	int rc;

	if (!parse_id(r, id, &rid))
		return 0;
	rc =
	    store_query_one(r->node->st,
			    "SELECT id FROM runs WHERE id = $1 AND repo_id = "
			    "$2",
			    STORE_ARGS(SI(rid), SI(api_int(repo, "id"))), &row);
	json_decref(row);
	if (rc == GUTS_ENOTFOUND) {
		http_error(r, "not_found", "run %s not found", id);
		return 0;
	}
	if (rc < 0) {
		http_fail(r, rc);
		return 0;
	}
	*run_id = rid;
	return 1;
}

/* A job token may upload only to its own run. */
static int job_in_run(struct http_req *r, int64_t run_id)
{
	int64_t mine = 0;

	if (!r->who.job_id)
		return 1;
	if (job_run(r->node, r->who.job_id, &mine, NULL) < 0 ||
	    mine != run_id) {
		http_error(r, "forbidden",
			   "the token of job %lld (run %lld) cannot upload "
			   "artifacts of run %lld",
			   (long long)r->who.job_id, (long long)mine,
			   (long long)run_id);
		return 0;
	}
	return 1;
}

void api_artifacts_create(struct http_req *r)
{
	struct artifacts *a = r->node->arts;
	json_t *repo = NULL, *body = NULL, *files, *row = NULL, *j;
	struct upload_spec u = {
	    "artifact", 0, NULL, NULL, NULL, NULL, NULL, a->retention_days, 0};
	unsigned long long total, used = 0;
	int64_t run_id, now = store_now_ms();

	if (!artifacts_repo(r, 1, 1, &repo) ||
	    !find_run(r, repo, r->params[2], &run_id) ||
	    !job_in_run(r, run_id) || !(body = http_body_json(r)))
		goto out;
	u.run_id = run_id;
	u.name = api_str(body, "name");
	if (guts_artifact_name_check("artifact", u.name) < 0) {
		http_error(r, "unprocessable", "%s", guts_error_message());
		goto out;
	}
	files = json_object_get(body, "files");
	if (guts_artifact_manifest_check(files, 0) < 0) {
		http_error(r, "unprocessable", "%s", guts_error_message());
		goto out;
	}
	j = json_object_get(body, "retention_days");
	if (j && !json_is_null(j)) {
		if (!json_is_integer(j) || json_integer_value(j) < 1 ||
		    json_integer_value(j) > a->retention_days) {
			http_error(
			    r, "unprocessable",
			    "retention_days must be a whole number "
			    "from 1 to %d (GUTS_ARTIFACT_RETENTION_DAYS)",
			    a->retention_days);
			goto out;
		}
		u.retention_days = (int)json_integer_value(j);
	}
	j = json_object_get(body, "overwrite");
	if (j && !json_is_null(j) && !json_is_boolean(j)) {
		http_error(r, "unprocessable", "overwrite must be a boolean");
		goto out;
	}
	u.overwrite = json_is_true(j);
	if (!check_caps(r, files, a->max_bytes, "GUTS_ARTIFACT_MAX_BYTES",
			&total))
		goto out;
	if (!u.overwrite &&
	    store_query_one(r->node->st,
			    "SELECT id FROM artifacts WHERE run_id = $1 AND "
			    "name = $2 AND expires_at > $3",
			    STORE_ARGS(SI(run_id), SS(u.name), SI(now)),
			    &row) == 0) {
		http_error(r, "conflict",
			   "run %lld has an artifact named '%s' already (send "
			   "\"overwrite\": true to replace it)",
			   (long long)run_id, u.name);
		goto out;
	}
	json_decref(row);
	row = NULL;
	if (store_query_one(r->node->st,
			    /* Pending uploads count too: they hold blobs,
			     * and many at once must not pass one by one. */
			    "SELECT (SELECT COALESCE(SUM(size_bytes), 0) FROM "
			    "artifacts WHERE repo_id = $1 AND expires_at > $2 "
			    "AND NOT (run_id = $3 AND name = $4)) + (SELECT "
			    "COALESCE(SUM(size_bytes), 0) FROM uploads WHERE "
			    "repo_id = $1 AND kind = 'artifact' AND "
			    "expires_at > $2) AS s",
			    STORE_ARGS(SI(api_int(repo, "id")), SI(now),
				       SI(run_id), SS(u.name)),
			    &row) == 0)
		used = (unsigned long long)api_int(row, "s");
	if (used + total > a->repo_quota) {
		http_error(r, "too_large",
			   "the repository's artifacts would take %llu bytes, "
			   "over its quota of %llu bytes "
			   "(GUTS_REPO_QUOTA_BYTES)",
			   used + total, a->repo_quota);
		goto out;
	}
	create_upload(r, repo, &u, files, total);
out:
	json_decref(row);
	json_decref(body);
	json_decref(repo);
}

/* Answer a list query's result (@rc, @rows) as artifacts, a page. */
static void answer_list(struct http_req *r, int rc, const json_t *rows,
			int64_t now)
{
	json_t *out, *row;
	size_t i;

	if (rc < 0) {
		http_fail(r, rc);
		return;
	}
	out = json_array();
	json_array_foreach(rows, i, row) {
		json_array_append_new(out, artifact_json(row, now));
	}
	http_json_page(r, out);
}

void api_artifacts_run_list(struct http_req *r)
{
	json_t *repo = NULL, *rows = NULL;
	int64_t run_id, now = store_now_ms();
	int rc;

	if (!artifacts_repo(r, 0, 0, &repo) ||
	    !find_run(r, repo, r->params[2], &run_id))
		goto out;
	rc = store_query(
	    r->node->st,
	    "SELECT * FROM artifacts WHERE run_id = $1 AND "
	    "expires_at > $2 AND ($3 IS NULL OR name = $3) "
	    "ORDER BY name",
	    STORE_ARGS(SI(run_id), SI(now), SS(http_query(r, "name"))), &rows);
	answer_list(r, rc, rows, now);
out:
	json_decref(rows);
	json_decref(repo);
}

void api_artifacts_list(struct http_req *r)
{
	const char *name = http_query(r, "name");
	json_t *repo = NULL, *rows = NULL;
	int64_t now = store_now_ms();
	int rc;

	if (!artifacts_repo(r, 0, 0, &repo))
		goto out;
	rc = store_query(r->node->st,
			 "SELECT * FROM artifacts WHERE repo_id = $1 AND "
			 "expires_at > $2 AND ($3 IS NULL OR name = $3) "
			 "ORDER BY id DESC",
			 STORE_ARGS(SI(api_int(repo, "id")), SI(now), SS(name)),
			 &rows);
	answer_list(r, rc, rows, now);
out:
	json_decref(rows);
	json_decref(repo);
}

int artifacts_find(struct http_req *r, const json_t *repo, const char *id,
		   json_t **row)
{
	int64_t aid;
	int rc;

	if (!parse_id(r, id, &aid))
		return 0;
	rc = store_query_one(r->node->st,
			     "SELECT * FROM artifacts WHERE id = $1 AND "
			     "repo_id = $2",
			     STORE_ARGS(SI(aid), SI(api_int(repo, "id"))), row);
	if (rc == GUTS_ENOTFOUND) {
		http_error(r, "not_found", "artifact %s not found", id);
		return 0;
	}
	if (rc < 0) {
		http_fail(r, rc);
		return 0;
	}
	return 1;
}

void api_artifacts_get(struct http_req *r)
{
	json_t *repo = NULL, *row = NULL;

	if (artifacts_repo(r, 0, 0, &repo) &&
	    artifacts_find(r, repo, r->params[2], &row))
		http_json(r, 200, artifact_json(row, store_now_ms()));
	json_decref(row);
	json_decref(repo);
}

void api_artifacts_delete(struct http_req *r)
{
	json_t *repo = NULL, *row = NULL;
	int rc;

	if (!artifacts_repo(r, 1, 0, &repo) ||
	    !artifacts_find(r, repo, r->params[2], &row))
		goto out;
	rc = drop_owner(r->node, "artifact", api_int(row, "id"));
	if (rc < 0) {
		http_fail(r, rc);
		goto out;
	}
	node_audit(r->node, r->who.user, "artifact.delete", r->params[2],
		   json_pack("{s:s, s:I}", "name", api_str(row, "name"),
			     "run_id", (json_int_t)api_int(row, "run_id")));
	http_empty(r, 204);
out:
	json_decref(row);
	json_decref(repo);
}

/* ---- caches ------------------------------------------------------------- */

static json_t *cache_json(const json_t *row, int with_files)
{
	json_t *j = json_pack(
	    "{s:I, s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:o, s:o}", "id",
	    (json_int_t)api_int(row, "id"), "key", api_str(row, "key"),
	    "version", api_str(row, "version"), "ref", api_str(row, "ref"),
	    "size_bytes", (json_int_t)api_int(row, "size_bytes"), "files_count",
	    (json_int_t)api_int(row, "files_count"), "content_hash",
	    api_str(row, "content_hash"), "paths", parsed(row, "paths"),
	    "created_at", api_time(row, "created_at"), "last_used_at",
	    api_time(row, "last_used_at"));

	if (with_files)
		json_object_set_new(j, "files", parsed(row, "manifest"));
	return j;
}

/* "main" → "refs/heads/main"; a full ref stays. */
static char *full_ref(const char *ref)
{
	if (!strncmp(ref, "refs/", 5))
		return guts_xstrdup(ref);
	return guts_xasprintf("refs/heads/%s", ref);
}

/*
 * The cache scope of the caller: a job token's run's ref, whatever the
 * request says; a user's ?ref= or the default branch.  NULL: answered.
 */
static char *cache_scope(struct http_req *r, const json_t *repo)
{
	const char *q = http_query(r, "ref");
	int64_t run_id;
	char *ref = NULL;

	if (r->who.job_id) {
		if (job_run(r->node, r->who.job_id, &run_id, &ref) < 0 ||
		    !ref) {
			free(ref);
			http_error(r, "unprocessable",
				   "the run of job %lld has no ref to scope "
				   "caches to",
				   (long long)r->who.job_id);
			return NULL;
		}
		return ref;
	}
	if (q && *q) {
		if (strlen(q) > 1024 || strstr(q, "..")) {
			http_error(r, "bad_request", "'%.100s' is not a ref",
				   q);
			return NULL;
		}
		return full_ref(q);
	}
	return full_ref(api_str(repo, "default_branch"));
}

/* Caches are not for anonymous readers, even of a public repository. */
static int cache_reader(struct http_req *r, json_t **repo)
{
	if (!r->who.job_id && !http_need_user(r, SCOPE_READ))
		return 0;
	return artifacts_repo(r, 0, 0, repo);
}

static int key_ok(struct http_req *r, const char *what, const char *key)
{
	if (!key || !*key || strlen(key) > CACHE_KEY_MAX || strchr(key, ',')) {
		http_error(r, "unprocessable",
			   "%s must be 1 to %d characters without ','", what,
			   CACHE_KEY_MAX);
		return 0;
	}
	return 1;
}

void api_caches_create(struct http_req *r)
{
	struct artifacts *a = r->node->arts;
	json_t *repo = NULL, *body = NULL, *files, *paths, *row = NULL;
	struct upload_spec u = {"cache", 0, NULL, NULL, NULL, NULL, NULL, 0, 0};
	unsigned long long total;
	char *ref = NULL, *ptext = NULL;
	const char *version;

	if (!artifacts_repo(r, 1, 1, &repo) || !(ref = cache_scope(r, repo)) ||
	    !(body = http_body_json(r)))
		goto out;
	u.ref = ref;
	u.key = api_str(body, "key");
	if (!key_ok(r, "key", u.key))
		goto out;
	version =
	    json_object_get(body, "version") ? api_str(body, "version") : "";
	if (!version || strlen(version) > CACHE_KEY_MAX) {
		http_error(r, "unprocessable",
			   "version must be a string of at most %d characters",
			   CACHE_KEY_MAX);
		goto out;
	}
	u.version = version;
	paths = json_object_get(body, "paths");
	if (paths && !json_is_null(paths)) {
		json_t *p;
		size_t i;

		if (!json_is_array(paths))
			goto bad_paths;
		json_array_foreach(paths, i, p) {
			if (!json_is_string(p))
				goto bad_paths;
		}
		ptext = json_dumps(paths, JSON_COMPACT);
	} else {
		ptext = guts_xstrdup("[]");
	}
	u.paths = ptext;
	files = json_object_get(body, "files");
	if (guts_artifact_manifest_check(files, 1) < 0) {
		http_error(r, "unprocessable", "%s", guts_error_message());
		goto out;
	}
	if (!check_caps(r, files, a->cache_max, "GUTS_CACHE_REPO_MAX_BYTES",
			&total))
		goto out;
	if (store_query_one(r->node->st,
			    "SELECT id FROM caches WHERE repo_id = $1 AND ref "
			    "= $2 AND key = $3 AND version = $4",
			    STORE_ARGS(SI(api_int(repo, "id")), SS(ref),
				       SS(u.key), SS(version)),
			    &row) == 0) {
		http_error(r, "conflict",
			   "a cache entry with key '%s' exists already in %s "
			   "(entries are never replaced)",
			   u.key, ref);
		goto out;
	}
	create_upload(r, repo, &u, files, total);
	goto out;
bad_paths:
	http_error(r, "unprocessable", "paths must be an array of strings");
out:
	json_decref(row);
	free(ptext);
	free(ref);
	json_decref(body);
	json_decref(repo);
}

/* The newest entry of @ref matching @key exactly or, with @prefix, by it. */
static int cache_match(struct node *n, int64_t repo_id, const char *ref,
		       const char *version, const char *key, int prefix,
		       json_t **row)
{
	if (!prefix)
		return store_query_one(
		    n->st,
		    "SELECT * FROM caches WHERE repo_id = "
		    "$1 AND ref = $2 AND version = $3 AND "
		    "key = $4",
		    STORE_ARGS(SI(repo_id), SS(ref), SS(version), SS(key)),
		    row);
	return store_query_one(
	    n->st,
	    "SELECT * FROM caches WHERE repo_id = $1 AND "
	    "ref = $2 AND version = $3 AND substr(key, 1, "
	    "length($4)) = $4 ORDER BY created_at DESC, id "
	    "DESC LIMIT 1",
	    STORE_ARGS(SI(repo_id), SS(ref), SS(version), SS(key)), row);
}

void api_caches_lookup(struct http_req *r)
{
	json_t *repo = NULL, *body = NULL, *rk, *row = NULL, *k;
	char *scopes[2] = {NULL, NULL};
	const char *key, *version;
	int64_t repo_id;
	size_t i;
	int found = 0;

	if (!cache_reader(r, &repo) || !(scopes[0] = cache_scope(r, repo)) ||
	    !(body = http_body_json(r)))
		goto out;
	repo_id = api_int(repo, "id");
	key = api_str(body, "key");
	if (!key_ok(r, "key", key))
		goto out;
	version =
	    json_object_get(body, "version") ? api_str(body, "version") : "";
	rk = json_object_get(body, "restore_keys");
	if (!version || (rk && !json_is_null(rk) && !json_is_array(rk))) {
		http_error(r, "unprocessable",
			   "version must be a string and restore_keys an "
			   "array of strings");
		goto out;
	}
	json_array_foreach(rk, i, k) {
		if (!key_ok(r, "each of restore_keys", json_string_value(k)))
			goto out;
	}
	/* As on GitHub: the branch first (the key exactly, then as a
	 * prefix, then each restore key as one), then the default branch
	 * the same way. */
	scopes[1] = full_ref(api_str(repo, "default_branch"));
	for (int s = 0; s < 2 && !found; s++) {
		if (s == 1 && !strcmp(scopes[0], scopes[1]))
			break;
		found = cache_match(r->node, repo_id, scopes[s], version, key,
				    0, &row) == 0;
		if (!found)
			found = cache_match(r->node, repo_id, scopes[s],
					    version, key, 1, &row) == 0;
		json_array_foreach(rk, i, k) {
			if (found)
				break;
			found =
			    cache_match(r->node, repo_id, scopes[s], version,
					json_string_value(k), 1, &row) == 0;
		}
	}
	if (!found) {
		http_error(r, "not_found", "no cache entry matches '%s'", key);
		goto out;
	}
	store_exec(
	    r->node->st, "UPDATE caches SET last_used_at = $2 WHERE id = $1",
	    STORE_ARGS(SI(api_int(row, "id")), SI(store_now_ms())), NULL);
	http_json(r, 200, cache_json(row, 1));
out:
	json_decref(row);
	free(scopes[0]);
	free(scopes[1]);
	json_decref(body);
	json_decref(repo);
}

void api_caches_list(struct http_req *r)
{
	const char *ref = http_query(r, "ref"), *key = http_query(r, "key");
	json_t *repo = NULL, *rows = NULL, *row, *out;
	char *full = NULL;
	size_t i;
	int rc;

	if (!cache_reader(r, &repo))
		goto out;
	if (ref && *ref)
		full = full_ref(ref);
	rc = store_query(r->node->st,
			 "SELECT * FROM caches WHERE repo_id = $1 AND ($2 IS "
			 "NULL OR ref = $2) AND ($3 IS NULL OR substr(key, 1, "
			 "length($3)) = $3) ORDER BY last_used_at DESC, id "
			 "DESC",
			 STORE_ARGS(SI(api_int(repo, "id")), SS(full),
				    SS(key && *key ? key : NULL)),
			 &rows);
	if (rc < 0) {
		http_fail(r, rc);
		goto out;
	}
	out = json_array();
	json_array_foreach(rows, i, row) {
		json_array_append_new(out, cache_json(row, 0));
	}
	http_json_page(r, out);
out:
	free(full);
	json_decref(rows);
	json_decref(repo);
}

void api_caches_delete(struct http_req *r)
{
	json_t *repo = NULL, *row = NULL;
	int64_t id;
	int rc;

	if (!artifacts_repo(r, 1, 0, &repo) || !parse_id(r, r->params[2], &id))
		goto out;
	rc =
	    store_query_one(r->node->st,
			    "SELECT id, key, ref FROM caches WHERE id = $1 AND "
			    "repo_id = $2",
			    STORE_ARGS(SI(id), SI(api_int(repo, "id"))), &row);
	if (rc == GUTS_ENOTFOUND) {
		http_error(r, "not_found", "cache entry %s not found",
			   r->params[2]);
		goto out;
	}
	if (rc == 0)
		rc = drop_owner(r->node, "cache", id);
	if (rc < 0) {
		http_fail(r, rc);
		goto out;
	}
	node_audit(r->node, r->who.user, "cache.delete", r->params[2],
		   json_pack("{s:s, s:s}", "key", api_str(row, "key"), "ref",
			     api_str(row, "ref")));
	http_empty(r, 204);
out:
	json_decref(row);
	json_decref(repo);
}

/*
 * Least recently used entries go until the repository's caches fit the
 * cap; never @keep (the entry just saved).  Their blobs are the
 * collector's business.
 */
static void evict_caches(struct node *n, int64_t repo_id, int64_t keep)
{
	unsigned long long total = 0, cap = n->arts->cache_max;
	json_t *rows = NULL, *row;
	size_t i;

	if (store_query(n->st,
			"SELECT id, size_bytes FROM caches WHERE repo_id = $1 "
			"ORDER BY last_used_at, id",
			STORE_ARGS(SI(repo_id)), &rows) < 0)
		return;
	json_array_foreach(rows, i, row) {
		total += (unsigned long long)api_int(row, "size_bytes");
	}
	json_array_foreach(rows, i, row) {
		if (total <= cap)
			break;
		if (api_int(row, "id") == keep)
			continue;
		if (drop_owner(n, "cache", api_int(row, "id")) == 0) {
			total -= (unsigned long long)api_int(row, "size_bytes");
			nlog(LOG_INFO, "cache %lld evicted (repository %lld)",
			     (long long)api_int(row, "id"), (long long)repo_id);
		}
	}
	json_decref(rows);
}

/* ---- finalize ----------------------------------------------------------- */

/*
 * Every blob of @files stored, with the size the manifest says: NULL, or
 * answered (409 with the missing blobs, 422 for a size that differs).
 */
static int blobs_complete(struct http_req *r, int64_t upload_id,
			  const json_t *files)
{
	struct artifacts *a = r->node->arts;
	json_t *missing = json_array(), *f, *unproven = NULL;
	size_t i;

	/* Blobs this repository has not sent are missing, whoever else
	 * stored them (and their sizes are not told). */
	if (store_query(r->node->st,
			"SELECT sha256 FROM blob_refs WHERE owner_kind = "
			"'upload' AND owner_id = $1 AND proven = 0",
			STORE_ARGS(SI(upload_id)), &unproven) < 0) {
		json_decref(missing);
		http_error(r, "internal", "cannot read upload %lld",
			   (long long)upload_id);
		return 0;
	}
	json_array_foreach(unproven, i, f)
		json_array_append(missing, json_object_get(f, "sha256"));
	json_decref(unproven);
	if (json_array_size(missing))
		goto answer;
	json_array_foreach(files, i, f) {
		const char *hex = api_str(f, "sha256");
		unsigned long long size;
		int fd;

		if (guts_blobstore_open_blob(a->bs, hex, &fd, &size) < 0) {
			json_array_append_new(missing, json_string(hex));
			continue;
		}
		close(fd);
		if (size != (unsigned long long)api_int(f, "size")) {
			http_error(r, "unprocessable",
				   "file '%s': the manifest says %lld bytes, "
				   "blob %s has %llu",
				   api_str(f, "path"),
				   (long long)api_int(f, "size"), hex, size);
			json_decref(missing);
			return 0;
		}
	}
answer:
	if (json_array_size(missing)) {
		size_t nr = json_array_size(missing);

		http_json(r, 409,
			  json_pack("{s:{s:s, s:s+, s:o}}", "error", "code",
				    "conflict", "message",
				    nr == 1 ? "1 blob is" : "some blobs are",
				    " missing; PUT them, then finalize again",
				    "missing", missing));
		return 0;
	}
	json_decref(missing);
	return 1;
}

/*
 * Take upload @id for this finalize, inside its transaction: exactly one
 * finalize wins (a retried or concurrent one, or the collector dropping
 * it as expired, makes the others GUTS_ENOTFOUND), and the references
 * moved to the new entry are the upload's, all of them.
 */
static int claim_upload(struct node *n, int64_t id)
{
	json_t *row = NULL;
	int rc = store_query_one(n->st,
				 "DELETE FROM uploads WHERE id = $1 AND "
				 "expires_at > $2 RETURNING id",
				 STORE_ARGS(SI(id), SI(store_now_ms())), &row);

	json_decref(row);
	if (rc == GUTS_ENOTFOUND)
		return guts_error(
		    GUTS_ENOTFOUND,
		    "upload %lld not found (finalized, expired or "
		    "never made)",
		    (long long)id);
	return rc;
}

static int finalize_artifact(struct http_req *r, const json_t *up,
			     const json_t *files, const char *digest,
			     json_t **out)
{
	struct node *n = r->node;
	int64_t now = store_now_ms(), up_id = api_int(up, "id");
	json_t *old = NULL, *row = NULL;
	int rc;

	rc = store_begin(n->st);
	if (rc < 0)
		return rc;
	rc = claim_upload(n, up_id);
	if (rc < 0)
		goto out;
	if (store_query_one(
		n->st,
		"SELECT id, expires_at FROM artifacts WHERE run_id "
		"= $1 AND name = $2",
		STORE_ARGS(SI(api_int(up, "run_id")), SS(api_str(up, "name"))),
		&old) == 0) {
		if (!api_int(up, "overwrite") &&
		    api_int(old, "expires_at") > now) {
			rc = guts_error(GUTS_ECONFLICT,
					"run %lld has an artifact named '%s' "
					"already",
					(long long)api_int(up, "run_id"),
					api_str(up, "name"));
			goto out;
		}
		rc = drop_refs(n, "artifact", api_int(old, "id"));
		if (rc == 0)
			rc = store_exec(
			    n->st, "DELETE FROM artifacts WHERE id = $1",
			    STORE_ARGS(SI(api_int(old, "id"))), NULL);
		if (rc < 0)
			goto out;
	}
	rc = store_query_one(
	    n->st,
	    "INSERT INTO artifacts (repo_id, run_id, name, size_bytes, "
	    "files_count, content_hash, manifest, created_by, created_at, "
	    "expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
	    "RETURNING *",
	    STORE_ARGS(SI(api_int(up, "repo_id")), SI(api_int(up, "run_id")),
		       SS(api_str(up, "name")), SI(api_int(up, "size_bytes")),
		       SI(json_array_size(files)), SS(digest),
		       SS(api_str(up, "manifest")), SS(r->who.user), SI(now),
		       SI(now + api_int(up, "retention_days") * DAY_MS)),
	    &row);
	if (rc == 0)
		rc = store_exec(n->st,
				"UPDATE blob_refs SET owner_kind = 'artifact', "
				"owner_id = $2 WHERE owner_kind = 'upload' AND "
				"owner_id = $1",
				STORE_ARGS(SI(up_id), SI(api_int(row, "id"))),
				NULL);
out:
	json_decref(old);
	if (rc < 0) {
		json_decref(row);
		store_rollback(n->st);
		return rc;
	}
	rc = store_commit(n->st);
	if (rc < 0) {
		json_decref(row);
		return rc;
	}
	*out = artifact_json(row, now);
	json_decref(row);
	return 0;
}

static int finalize_cache(struct http_req *r, const json_t *up,
			  const json_t *files, const char *digest, json_t **out)
{
	struct node *n = r->node;
	int64_t now = store_now_ms(), up_id = api_int(up, "id");
	json_t *row = NULL;
	int rc;

	rc = store_begin(n->st);
	if (rc < 0)
		return rc;
	rc = claim_upload(n, up_id);
	if (rc == 0)
		rc = store_query_one(
		    n->st,
		    "INSERT INTO caches (repo_id, ref, key, version, paths, "
		    "size_bytes, files_count, content_hash, manifest, "
		    "created_at, "
		    "last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
		    "$10, "
		    "$10) RETURNING *",
		    STORE_ARGS(
			SI(api_int(up, "repo_id")), SS(api_str(up, "ref")),
			SS(api_str(up, "key")), SS(api_str(up, "version")),
			SS(api_str(up, "paths")), SI(api_int(up, "size_bytes")),
			SI(json_array_size(files)), SS(digest),
			SS(api_str(up, "manifest")), SI(now)),
		    &row);
	if (rc == GUTS_ECONFLICT)
		rc = guts_error(GUTS_ECONFLICT,
				"a cache entry with key '%s' exists already in "
				"%s (entries are never replaced)",
				api_str(up, "key"), api_str(up, "ref"));
	if (rc == 0)
		rc = store_exec(n->st,
				"UPDATE blob_refs SET owner_kind = 'cache', "
				"owner_id = $2 WHERE owner_kind = 'upload' AND "
				"owner_id = $1",
				STORE_ARGS(SI(up_id), SI(api_int(row, "id"))),
				NULL);
	if (rc < 0) {
		json_decref(row);
		store_rollback(n->st);
		return rc;
	}
	rc = store_commit(n->st);
	if (rc < 0) {
		json_decref(row);
		return rc;
	}
	evict_caches(n, api_int(up, "repo_id"), api_int(row, "id"));
	*out = cache_json(row, 0);
	json_decref(row);
	return 0;
}

void api_uploads_finalize(struct http_req *r)
{
	char digest[GUTS_SHA256_HEX_LEN + 1];
	json_t *repo = NULL, *up = NULL, *files = NULL, *out = NULL;
	int64_t id;
	int rc;

	if (!artifacts_repo(r, 1, 1, &repo) || !parse_id(r, r->params[2], &id))
		goto done;
	rc =
	    store_query_one(r->node->st,
			    "SELECT * FROM uploads WHERE id = $1 AND repo_id = "
			    "$2",
			    STORE_ARGS(SI(id), SI(api_int(repo, "id"))), &up);
	if (rc == 0 && api_int(up, "expires_at") <= store_now_ms())
		rc = GUTS_ENOTFOUND;
	if (rc == GUTS_ENOTFOUND) {
		http_error(r, "not_found",
			   "upload %s not found (finalized, expired or never "
			   "made)",
			   r->params[2]);
		goto done;
	}
	if (rc < 0) {
		http_fail(r, rc);
		goto done;
	}
	if (!strcmp(api_str(up, "kind"), "artifact") &&
	    !job_in_run(r, api_int(up, "run_id")))
		goto done;
	files = json_loads(api_str(up, "manifest"), 0, NULL);
	if (!files || guts_artifact_manifest_check(
			  files, !strcmp(api_str(up, "kind"), "cache")) < 0) {
		http_error(r, "internal", "upload %lld has a bad manifest",
			   (long long)id);
		goto done;
	}
	if (!blobs_complete(r, id, files))
		goto done;
	guts_artifact_manifest_digest(files, digest);
	if (!strcmp(api_str(up, "kind"), "artifact"))
		rc = finalize_artifact(r, up, files, digest, &out);
	else
		rc = finalize_cache(r, up, files, digest, &out);
	if (rc < 0) {
		http_fail(r, rc);
		goto done;
	}
	http_json(r, 201, out);
done:
	json_decref(files);
	json_decref(up);
	json_decref(repo);
}

/* ---- the collector ------------------------------------------------------ */

/* Drop the owners @sql selects (ids), each with its references. */
static unsigned long long drop_selected(struct node *n, const char *kind,
					const char *sql, int64_t now)
{
	unsigned long long dropped = 0;
	json_t *rows = NULL, *row;
	size_t i;

	if (store_query(n->st, sql, STORE_ARGS(SI(now)), &rows) < 0)
		return 0;
	json_array_foreach(rows, i, row) {
		if (drop_owner(n, kind, api_int(row, "id")) == 0)
			dropped++;
	}
	json_decref(rows);
	return dropped;
}

struct sweep {
	json_t *marks;
	json_t *candidates; /* [[hex, size]] */
};

static int sweep_blob(const char *hex, unsigned long long size, time_t mtime,
		      void *ud)
{
	struct sweep *sw = ud;

	(void)mtime;
	if (!json_object_get(sw->marks, hex))
		json_array_append_new(
		    sw->candidates, json_pack("[s, I]", hex, (json_int_t)size));
	return 0;
}

int artifacts_gc(struct node *n, struct artifacts_gc_stats *st)
{
	struct artifacts *a = n->arts;
	struct sweep sw = {NULL, NULL};
	int64_t now = store_now_ms();
	json_t *rows = NULL, *row, *c;
	size_t i;
	int rc;

	memset(st, 0, sizeof(*st));
	st->artifacts = drop_selected(
	    n, "artifact",
	    "SELECT id FROM artifacts WHERE expires_at <= $1 LIMIT 10000", now);
	st->uploads = drop_selected(
	    n, "upload",
	    "SELECT id FROM uploads WHERE expires_at <= $1 LIMIT 10000", now);
	/* References whose owner went another way (a run or repository
	 * deleted under it). */
	store_exec(n->st,
		   "DELETE FROM blob_refs WHERE (owner_kind = 'artifact' AND "
		   "NOT EXISTS (SELECT 1 FROM artifacts x WHERE x.id = "
		   "blob_refs.owner_id)) OR (owner_kind = 'cache' AND NOT "
		   "EXISTS (SELECT 1 FROM caches x WHERE x.id = "
		   "blob_refs.owner_id)) OR (owner_kind = 'upload' AND NOT "
		   "EXISTS (SELECT 1 FROM uploads x WHERE x.id = "
		   "blob_refs.owner_id))",
		   NULL, 0, NULL);
	rc = store_query(n->st, "SELECT DISTINCT sha256 FROM blob_refs", NULL,
			 0, &rows);
	if (rc < 0)
		return rc;
	sw.marks = json_object();
	sw.candidates = json_array();
	json_array_foreach(rows, i, row) {
		json_object_set_new(sw.marks, api_str(row, "sha256"),
				    json_true());
	}
	json_decref(rows);
	rc = guts_blobstore_foreach(a->bs, sweep_blob, &sw);
	/*
	 * A blob unmarked a moment ago may have been claimed since: look
	 * again under the lock that uploads take while they claim.
	 */
	json_array_foreach(sw.candidates, i, c) {
		const char *hex = json_string_value(json_array_get(c, 0));

		if (rc < 0 || n->stopping)
			break;
		pthread_mutex_lock(&a->blob_lock);
		if (store_query(n->st,
				"SELECT 1 AS x FROM blob_refs WHERE sha256 = "
				"$1 LIMIT 1",
				STORE_ARGS(SS(hex)), &rows) == 0 &&
		    json_array_size(rows) == 0 &&
		    guts_blobstore_remove(a->bs, hex) == 0) {
			st->blobs++;
			st->bytes += (unsigned long long)json_integer_value(
			    json_array_get(c, 1));
		}
		json_decref(rows);
		rows = NULL;
		pthread_mutex_unlock(&a->blob_lock);
	}
	json_decref(sw.marks);
	json_decref(sw.candidates);
	return rc;
}

static void *gc_main(void *arg)
{
	struct node *n = arg;
	struct artifacts *a = n->arts;

	pthread_mutex_lock(&a->gc_lock);
	while (!a->gc_stop) {
		struct artifacts_gc_stats st;
		struct timespec ts;
		int64_t until;
		int rc;

		pthread_mutex_unlock(&a->gc_lock);
		rc = artifacts_gc(n, &st);
		if (rc < 0)
			nlog(LOG_WARN, "artifact collector: %s",
			     guts_error_message());
		else if (st.artifacts || st.uploads || st.blobs)
			nlog(LOG_INFO,
			     "artifact collector: %llu expired artifacts, "
			     "%llu abandoned uploads, %llu blobs (%llu bytes) "
			     "removed",
			     st.artifacts, st.uploads, st.blobs, st.bytes);
		pthread_mutex_lock(&a->gc_lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		until =
		    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + a->gc_ms;
		ts.tv_sec = until / 1000;
		ts.tv_nsec = (long)(until % 1000) * 1000000;
		while (!a->gc_stop &&
		       pthread_cond_timedwait(&a->gc_cond, &a->gc_lock, &ts) !=
			   ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&a->gc_lock);
	return NULL;
}

void artifacts_start(struct node *n)
{
	struct artifacts *a = n->arts;

	if (pthread_create(&a->gc_thread, NULL, gc_main, n) == 0)
		a->gc_running = 1;
	else
		nlog(LOG_ERROR, "cannot start the artifact collector");
}

void artifacts_stop(struct node *n)
{
	struct artifacts *a = n->arts;

	if (!a)
		return;
	if (a->gc_running) {
		pthread_mutex_lock(&a->gc_lock);
		a->gc_stop = 1;
		pthread_cond_signal(&a->gc_cond);
		pthread_mutex_unlock(&a->gc_lock);
		pthread_join(a->gc_thread, NULL);
	}
	guts_blobstore_free(a->bs);
	pthread_mutex_destroy(&a->blob_lock);
	pthread_mutex_destroy(&a->gc_lock);
	pthread_cond_destroy(&a->gc_cond);
	free(a->dir);
	free(a);
	n->arts = NULL;
}
