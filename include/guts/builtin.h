/*
 * Built-in actions: checkout, upload-artifact, download-artifact and cache
 * (also reached through their GitHub names, actions/checkout@v4 and so on).
 * They run in the executor, outside the job's sandbox, so they treat the
 * workspace as untrusted: they never follow a symbolic link out of it, and
 * never write outside it (or outside the job's home for cache paths that
 * start with `~`).
 *
 * Artifacts and caches go through struct guts_artifact_store, a table of
 * functions.  guts_local_store_open() is the implementation `guts exec`
 * uses: a content-addressed store under the user's cache directory.  The
 * node-backed implementation comes with the artifacts issue.
 */
#ifndef GUTS_BUILTIN_H
#define GUTS_BUILTIN_H

#include <jansson.h>
#include <stddef.h>

struct guts_artifact_store;

/* Where the log of a built-in goes: one line at a time, no newline. */
typedef void (*guts_builtin_log_fn)(void *ud, const char *line);

struct guts_builtin_ctx {
	const char *workspace; /* GITHUB_WORKSPACE on the host */
	const char *home;      /* the job's $HOME on the host, for `~` */
	/* What checkout checks out. */
	const char *repo_source; /* a local path or a URL; NULL: none */
	int repo_is_git;	 /* 0: repo_source is a plain directory */
	const char *sha;	 /* the commit being built; may be NULL */
	const char *ref;	 /* refs/heads/main, ... */
	/* Artifacts belong to a run; caches to a scope (repo and branch). */
	const char *run_id;
	const char *cache_scope;
	const char *cache_fallback_scope; /* default branch; may be NULL */
	struct guts_artifact_store *store;
	guts_builtin_log_fn log;
	void *log_ud;
};

/**
 * Run built-in @name ("checkout", "upload-artifact", "download-artifact",
 * "cache") with its evaluated `with:` inputs (@with: object of strings, or
 * NULL).  Outputs go into @outputs (an object; cache sets "cache-hit").
 * *state (may be set to a new reference) is kept by the executor and handed
 * to guts_builtin_post() at the end of the job.  Returns 0 on success;
 * otherwise a guts_err with a message that names the input or path.
 * GUTS_ENOTFOUND when @name is not a built-in.
 */
int guts_builtin_run(const char *name, const json_t *with,
		     const struct guts_builtin_ctx *ctx, json_t *outputs,
		     json_t **state);

/**
 * The post step of @name, if it has one (cache saves here, only when
 * @job_succeeded and the key missed).  @state is what run() left.  0 when
 * there is nothing to do.
 */
int guts_builtin_post(const char *name, const json_t *with,
		      const struct guts_builtin_ctx *ctx, json_t *state,
		      int job_succeeded);

/** Whether @name has a post step. */
int guts_builtin_has_post(const char *name);

/**
 * Open the local store in @dir (created when missing), e.g.
 * ~/.cache/guts/store.  Thread-safe: jobs of one run share it.
 */
int guts_local_store_open(struct guts_artifact_store **out, const char *dir);
void guts_artifact_store_free(struct guts_artifact_store *store);

#endif
