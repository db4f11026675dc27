/*
 * The SQLite backend of the store: one connection in WAL mode with a busy
 * time-out, prepared statements cached by their text, and the numbered
 * migrations below.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "store.h"
#include "banned.h"

#define STMT_CACHE 128

struct cached {
	char *sql;
	sqlite3_stmt *stmt;
};

struct lite {
	sqlite3 *db;
	struct cached cache[STMT_CACHE];
};

/*
 * Migrations: each runs once, in order, in its own transaction.  Never edit
 * one that has shipped; add the next number.
 */
static const char *const migrations[] = {
    /* 1: users, tokens, repositories, workflows, runs, jobs, statuses. */
    "CREATE TABLE users ("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " is_admin INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
    "CREATE TABLE tokens ("
    " id INTEGER PRIMARY KEY,"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " hash TEXT NOT NULL UNIQUE, scope TEXT NOT NULL, name TEXT,"
    " created_at INTEGER NOT NULL, last_used_at INTEGER);"
    "CREATE TABLE repos ("
    " id INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,"
    " visibility TEXT NOT NULL, default_branch TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " UNIQUE (owner, name));"
    "CREATE TABLE push_events ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " ref TEXT NOT NULL, before_sha TEXT NOT NULL, after_sha TEXT NOT NULL,"
    " actor TEXT, state TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE INDEX push_events_state ON push_events (state);"
    "CREATE TABLE workflows ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " path TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL,"
    " sha TEXT, valid INTEGER NOT NULL, errors TEXT, triggers TEXT,"
    " env TEXT, jobs TEXT, next_run_number INTEGER NOT NULL DEFAULT 1,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " UNIQUE (repo_id, path));"
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " workflow_id INTEGER REFERENCES workflows(id) ON DELETE SET NULL,"
    " workflow_name TEXT NOT NULL, workflow_path TEXT NOT NULL,"
    " source TEXT NOT NULL, run_number INTEGER NOT NULL,"
    " attempt INTEGER NOT NULL DEFAULT 1, event TEXT NOT NULL,"
    " ref TEXT, sha TEXT, actor TEXT, status TEXT NOT NULL,"
    " conclusion TEXT, reason TEXT, display_title TEXT, inputs TEXT,"
    " github TEXT, concurrency TEXT, cancel_in_progress INTEGER,"
    " cancel_requested INTEGER NOT NULL DEFAULT 0, event_key TEXT UNIQUE,"
    " created_at INTEGER NOT NULL, started_at INTEGER,"
    " completed_at INTEGER, updated_at INTEGER NOT NULL);"
    "CREATE INDEX runs_repo ON runs (repo_id, id);"
    "CREATE INDEX runs_status ON runs (status);"
    "CREATE TABLE jobs ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " run_attempt INTEGER NOT NULL, job_key TEXT NOT NULL,"
    " leg INTEGER NOT NULL, name TEXT NOT NULL, matrix TEXT,"
    " strategy TEXT, status TEXT NOT NULL, conclusion TEXT, reason TEXT,"
    " runs_on TEXT, needs TEXT, outputs TEXT,"
    " attempt INTEGER NOT NULL DEFAULT 1, runner_id INTEGER,"
    " runner_name TEXT, lease_hash TEXT, lease_expires INTEGER,"
    " job_token_hash TEXT, cancel_requested INTEGER NOT NULL DEFAULT 0,"
    " lost INTEGER NOT NULL DEFAULT 0, copied_from INTEGER,"
    " log_acked INTEGER NOT NULL DEFAULT 0,"
    " log_size INTEGER NOT NULL DEFAULT 0,"
    " log_line_len INTEGER NOT NULL DEFAULT 0,"
    " log_capped INTEGER NOT NULL DEFAULT 0,"
    " log_archived INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL, queued_at INTEGER,"
    " started_at INTEGER, completed_at INTEGER);"
    "CREATE INDEX jobs_run ON jobs (run_id, run_attempt);"
    "CREATE INDEX jobs_status ON jobs (status);"
    "CREATE UNIQUE INDEX jobs_token ON jobs (job_token_hash);"
    "CREATE TABLE steps ("
    " job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " number INTEGER NOT NULL, name TEXT, status TEXT NOT NULL,"
    " conclusion TEXT, log_offset INTEGER, started_at INTEGER,"
    " completed_at INTEGER, PRIMARY KEY (job_id, number));"
    "CREATE TABLE statuses ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " sha TEXT NOT NULL, context TEXT NOT NULL, state TEXT NOT NULL,"
    " description TEXT, target_url TEXT, creator TEXT,"
    " created_at INTEGER NOT NULL);"
    "CREATE INDEX statuses_sha ON statuses (repo_id, sha, context, id);"
    "CREATE TABLE runners ("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL, labels TEXT NOT NULL,"
    " token_hash TEXT NOT NULL UNIQUE, capacity INTEGER NOT NULL DEFAULT 1,"
    " version TEXT, embedded INTEGER NOT NULL DEFAULT 0,"
    " last_seen_at INTEGER, created_at INTEGER NOT NULL);"
    "CREATE TABLE registration_tokens ("
    " hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL,"
    " used INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY, actor TEXT, action TEXT NOT NULL,"
    " object TEXT, detail TEXT, created_at INTEGER NOT NULL);",
    /* 2: pull requests, branch protection, schedules; a run's status sha
     * (a pull request's head, while the run builds its test merge). */
    "CREATE TABLE pulls ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " number INTEGER NOT NULL, title TEXT NOT NULL, body TEXT,"
    " head TEXT NOT NULL, base TEXT NOT NULL, state TEXT NOT NULL,"
    " author TEXT, head_sha TEXT, base_sha TEXT, merge_sha TEXT,"
    " mergeable INTEGER, conflicts TEXT, merged INTEGER NOT NULL DEFAULT 0,"
    " pending_action TEXT, event_seq INTEGER NOT NULL DEFAULT 0,"
    " merged_sha TEXT, merged_by TEXT, merged_at INTEGER,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " closed_at INTEGER, UNIQUE (repo_id, number));"
    "CREATE INDEX pulls_head ON pulls (repo_id, head, state);"
    "CREATE INDEX pulls_base ON pulls (repo_id, base, state);"
    "CREATE TABLE protections ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " pattern TEXT NOT NULL, contexts TEXT NOT NULL,"
    " strict INTEGER NOT NULL DEFAULT 0,"
    " require_pr INTEGER NOT NULL DEFAULT 0,"
    " allow_force_push INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " UNIQUE (repo_id, pattern));"
    "CREATE TABLE schedules ("
    " workflow_id INTEGER NOT NULL REFERENCES workflows(id)"
    " ON DELETE CASCADE,"
    " cron TEXT NOT NULL, last_fire INTEGER NOT NULL,"
    " PRIMARY KEY (workflow_id, cron));"
    "ALTER TABLE runs ADD COLUMN head_sha TEXT;",
    /* 3: artifacts, caches, pending uploads, and which blobs each of them
     * references (the collector keeps every blob with a row here). */
    "CREATE TABLE artifacts ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, size_bytes INTEGER NOT NULL,"
    " files_count INTEGER NOT NULL, content_hash TEXT NOT NULL,"
    " manifest TEXT NOT NULL, created_by TEXT,"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " UNIQUE (run_id, name));"
    "CREATE INDEX artifacts_repo ON artifacts (repo_id, id);"
    "CREATE INDEX artifacts_expires ON artifacts (expires_at);"
    "CREATE TABLE caches ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " ref TEXT NOT NULL, key TEXT NOT NULL, version TEXT NOT NULL,"
    " paths TEXT NOT NULL, size_bytes INTEGER NOT NULL,"
    " files_count INTEGER NOT NULL, content_hash TEXT NOT NULL,"
    " manifest TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " last_used_at INTEGER NOT NULL,"
    " UNIQUE (repo_id, ref, key, version));"
    "CREATE INDEX caches_used ON caches (repo_id, last_used_at);"
    "CREATE TABLE uploads ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL, run_id INTEGER, name TEXT, ref TEXT, key TEXT,"
    " version TEXT, paths TEXT, retention_days INTEGER,"
    " overwrite INTEGER NOT NULL DEFAULT 0, manifest TEXT NOT NULL,"
    " size_bytes INTEGER NOT NULL, created_by TEXT,"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);"
    "CREATE INDEX uploads_expires ON uploads (expires_at);"
    "CREATE TABLE blob_refs ("
    " sha256 TEXT NOT NULL, owner_kind TEXT NOT NULL,"
    " owner_id INTEGER NOT NULL,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " proven INTEGER NOT NULL DEFAULT 1,"
    " PRIMARY KEY (owner_kind, owner_id, sha256));"
    "CREATE INDEX blob_refs_sha ON blob_refs (sha256, repo_id);",
    /* 4: a job's annotations (::error, ::warning, ::notice) and its
     * GITHUB_STEP_SUMMARY, from the runner's completion.  Summaries have
     * a table of their own so that the jobs rows every SELECT * reads
     * stay small. */
    "CREATE TABLE annotations ("
    " id INTEGER PRIMARY KEY,"
    " job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " step INTEGER, level TEXT NOT NULL, message TEXT NOT NULL,"
    " file TEXT, line INTEGER, end_line INTEGER, col INTEGER,"
    " end_col INTEGER, title TEXT);"
    "CREATE INDEX annotations_job ON annotations (job_id, id);"
    "CREATE TABLE job_summaries ("
    " job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
    " markdown TEXT NOT NULL, html TEXT);",
};

static int lite_err(struct lite *l, const char *what)
{
	return guts_error(GUTS_EDB, "%s: %s", what, sqlite3_errmsg(l->db));
}

static int raw_exec(struct lite *l, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(l->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int ret = guts_error(GUTS_EDB, "%s", msg ? msg : "sqlite");

		sqlite3_free(msg);
		return ret;
	}
	return 0;
}

static int lite_open(struct store *st, const char *path)
{
	struct lite *l = guts_xcalloc(1, sizeof(*l));
	int rc;

	st->impl = l;
	rc = sqlite3_open_v2(path, &l->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK)
		return guts_error(GUTS_EDB, "cannot open %s: %s", path,
				  l->db ? sqlite3_errmsg(l->db)
					: sqlite3_errstr(rc));
	sqlite3_busy_timeout(l->db, 5000);
	return raw_exec(l, "PRAGMA journal_mode=WAL;"
			   "PRAGMA synchronous=NORMAL;"
			   "PRAGMA foreign_keys=ON;");
}

static void lite_close(struct store *st)
{
	struct lite *l = st->impl;

	for (size_t i = 0; i < STMT_CACHE; i++) {
		sqlite3_finalize(l->cache[i].stmt);
		free(l->cache[i].sql);
	}
	sqlite3_close(l->db);
	free(l);
	st->impl = NULL;
}

static int lite_migrate(struct store *st)
{
	struct lite *l = st->impl;
	sqlite3_stmt *q = NULL;
	int have = 0, ret;

	ret = raw_exec(l, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			  " version INTEGER PRIMARY KEY,"
			  " applied_at INTEGER NOT NULL)");
	if (ret < 0)
		return ret;
	if (sqlite3_prepare_v2(l->db,
			       "SELECT COALESCE(MAX(version), 0) FROM "
			       "schema_migrations",
			       -1, &q, NULL) != SQLITE_OK)
		return lite_err(l, "migrations");
	if (sqlite3_step(q) == SQLITE_ROW)
		have = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if ((size_t)have > sizeof(migrations) / sizeof(migrations[0]))
		return guts_error(GUTS_EDB,
				  "the database is at schema version %d, "
				  "newer than this guts-node (%zu)",
				  have,
				  sizeof(migrations) / sizeof(migrations[0]));
	for (size_t v = (size_t)have;
	     v < sizeof(migrations) / sizeof(migrations[0]); v++) {
		char *ins = guts_xasprintf(
		    "INSERT INTO schema_migrations VALUES (%zu, %lld)", v + 1,
		    (long long)store_now_ms());

		ret = raw_exec(l, "BEGIN IMMEDIATE");
		if (ret == 0)
			ret = raw_exec(l, migrations[v]);
		if (ret == 0)
			ret = raw_exec(l, ins);
		free(ins);
		if (ret < 0) {
			raw_exec(l, "ROLLBACK");
			return guts_error_wrap(GUTS_EDB, "migration %zu",
					       v + 1);
		}
		ret = raw_exec(l, "COMMIT");
		if (ret < 0)
			return ret;
	}
	return 0;
}

static unsigned long sql_hash(const char *s)
{
	unsigned long h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* A prepared statement for @sql, from the cache, reset and unbound. */
static int prepare(struct lite *l, const char *sql, sqlite3_stmt **out)
{
	struct cached *c = &l->cache[sql_hash(sql) % STMT_CACHE];

	if (c->sql && !strcmp(c->sql, sql)) {
		sqlite3_reset(c->stmt);
		sqlite3_clear_bindings(c->stmt);
		*out = c->stmt;
		return 0;
	}
	if (sqlite3_prepare_v2(l->db, sql, -1, out, NULL) != SQLITE_OK)
		return guts_error(GUTS_EDB, "%s: in: %s", sqlite3_errmsg(l->db),
				  sql);
	sqlite3_finalize(c->stmt);
	free(c->sql);
	c->sql = guts_xstrdup(sql);
	c->stmt = *out;
	return 0;
}

/* Bind $N parameters by their number, whatever order they appear in. */
static int bind(struct lite *l, sqlite3_stmt *s, const struct store_val *v,
		size_t n)
{
	int count = sqlite3_bind_parameter_count(s);

	for (int i = 1; i <= count; i++) {
		const char *name = sqlite3_bind_parameter_name(s, i);
		long k =
		    name && name[0] == '$' ? strtol(name + 1, NULL, 10) : i;
		int rc;

		if (k < 1 || (size_t)k > n)
			return guts_error(GUTS_EDB,
					  "parameter %s has no value (%zu "
					  "given)",
					  name ? name : "?", n);
		switch (v[k - 1].type) {
		case SV_INT:
			rc = sqlite3_bind_int64(s, i, v[k - 1].i);
			break;
		case SV_TEXT:
			rc = sqlite3_bind_text(s, i, v[k - 1].s, -1,
					       SQLITE_TRANSIENT);
			break;
		default:
			rc = sqlite3_bind_null(s, i);
		}
		if (rc != SQLITE_OK)
			return lite_err(l, "bind");
	}
	return 0;
}

static json_t *column(sqlite3_stmt *s, int i)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(s, i));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(s, i));
	case SQLITE_NULL:
		return json_null();
	default: {
		const char *t = (const char *)sqlite3_column_text(s, i);
		json_t *j = json_stringn(t ? t : "",
					 (size_t)sqlite3_column_bytes(s, i));

		return j ? j : json_string("");
	}
	}
}

static int run(struct lite *l, const char *sql, const struct store_val *v,
	       size_t n, json_t *rows)
{
	sqlite3_stmt *s;
	int rc, ret = prepare(l, sql, &s);

	if (ret < 0)
		return ret;
	ret = bind(l, s, v, n);
	if (ret < 0)
		return ret;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *row;
		int cols;

		if (!rows)
			continue;
		row = json_object();
		cols = sqlite3_column_count(s);
		for (int i = 0; i < cols; i++)
			json_object_set_new(row, sqlite3_column_name(s, i),
					    column(s, i));
		json_array_append_new(rows, row);
	}
	if (rc != SQLITE_DONE) {
		ret = rc == SQLITE_CONSTRAINT
			  ? guts_error(GUTS_ECONFLICT, "%s",
				       sqlite3_errmsg(l->db))
			  : lite_err(l, "query");
	}
	sqlite3_reset(s);
	return ret;
}

static int lite_exec(struct store *st, const char *sql,
		     const struct store_val *v, size_t n, int64_t *changes)
{
	struct lite *l = st->impl;
	int ret = run(l, sql, v, n, NULL);

	if (ret == 0 && changes)
		*changes = sqlite3_changes64(l->db);
	return ret;
}

static int lite_query(struct store *st, const char *sql,
		      const struct store_val *v, size_t n, json_t **rows)
{
	int ret;

	*rows = json_array();
	ret = run(st->impl, sql, v, n, *rows);
	if (ret < 0) {
		json_decref(*rows);
		*rows = NULL;
	}
	return ret;
}

static int lite_begin(struct store *st)
{
	return raw_exec(st->impl, "BEGIN IMMEDIATE");
}

static int lite_commit(struct store *st)
{
	return raw_exec(st->impl, "COMMIT");
}

static int lite_rollback(struct store *st)
{
	return raw_exec(st->impl, "ROLLBACK");
}

const struct store_ops store_sqlite_ops = {
    "sqlite",	lite_open,  lite_close,	 lite_migrate,	lite_exec,
    lite_query, lite_begin, lite_commit, lite_rollback,
};
