/*
 * Built-in actions: checkout, upload-artifact, download-artifact and cache
 * (with its halves cache/restore and cache/save).  A step reaches them by
 * the short name or by the GitHub name with any ref, actions/checkout@v4
 * and so on (owner and repository case-insensitive).  Their inputs are
 * those of the v4 releases of GitHub's own actions; docs/builtin-actions.md
 * lists them.
 *
 * They run in the executor, outside the job's sandbox, so they treat the
 * workspace as untrusted: they never read through a symbolic link that
 * leads out of the workspace or the home (such links are skipped with a
 * warning), never write through a symbolic link at all, check every
 * manifest read back from a store before writing anything, and verify
 * every file's content against its SHA-256.  They write only under the
 * workspace and, for cache paths that start with `~`, the job's home.
 * Git runs through guts/runcmd.h (posix_spawnp), in a fresh repository,
 * with no hooks and no prompts.
 *
 * Artifacts and caches go through struct guts_artifact_store, a table of
 * functions (guts/artifact_store.h).  guts_local_store_open() is the
 * implementation `guts exec` uses: a content-addressed store under the
 * user's cache directory.  The node-backed implementation comes with the
 * artifacts issue.
 *
 * Threads: any number of jobs may run built-ins at once, sharing one store,
 * as long as each has its own context and workspace.
 */
#ifndef GUTS_BUILTIN_H
#define GUTS_BUILTIN_H

#include <jansson.h>
#include <stddef.h>

struct guts_artifact_store;

/* Where the log of a built-in goes: one line at a time, no newline. */
typedef void (*guts_builtin_log_fn)(void *ud, const char *line);

struct guts_builtin_ctx {
	const char *workspace; /* GITHUB_WORKSPACE on the host; absolute */
	const char *home; /* the job's $HOME on the host, for `~`; or NULL */
	/* What checkout checks out. */
	const char *repo_source; /* a local path or a URL; NULL: none */
	int repo_is_git;	 /* 0: repo_source is a plain directory */
	const char *sha;	 /* the commit being built; may be NULL */
	const char *ref;	 /* refs/heads/main, ... */
	/* Artifacts belong to a run; caches to a scope (repo and branch). */
	const char *run_id; /* letters, digits, "-", "_", "." (local store) */
	const char *cache_scope;
	const char *cache_fallback_scope;  /* default branch; may be NULL */
	struct guts_artifact_store *store; /* NULL: no artifacts or caches */
	guts_builtin_log_fn log;	   /* may be NULL */
	void *log_ud;
};

/**
 * Run built-in @name with its evaluated `with:` inputs (@with: an object of
 * scalars, or NULL; numbers and booleans are read as their text).  Outputs
 * go into @outputs when it is not NULL (checkout: ref, commit;
 * upload-artifact: artifact-digest; download-artifact: download-path;
 * cache: cache-hit, cache-primary-key, cache-matched-key).  *@state (when
 * @state is not NULL; it may be set to a new reference, replacing the old)
 * is kept by the executor and handed to guts_builtin_post() at the end of
 * the job.  Returns 0 on success; otherwise a guts_err with a message that
 * names the input or path.  GUTS_ENOTFOUND when @name is not a built-in.
 */
int guts_builtin_run(const char *name, const json_t *with,
		     const struct guts_builtin_ctx *ctx, json_t *outputs,
		     json_t **state);

/**
 * The post step of @name, if it has one: cache saves here, only when
 * @job_succeeded, the primary key did not hit exactly and no entry with
 * that key exists yet.  @state is what run() left (NULL: the step did not
 * get that far; nothing is done).  As in actions/cache, a save that fails
 * is a warning in the log, not an error.  0 when there is nothing to do.
 */
int guts_builtin_post(const char *name, const json_t *with,
		      const struct guts_builtin_ctx *ctx, json_t *state,
		      int job_succeeded);

/** Whether @name has a post step. */
int guts_builtin_has_post(const char *name);

/**
 * Open the local store in @dir (created when missing, mode 0700), e.g.
 * ~/.cache/guts/store; its layout is in guts/artifact_store.h.
 * Thread-safe: jobs of one run share it.  guts_artifact_store_free() frees
 * any store, of whichever kind (NULL does nothing).
 */
int guts_local_store_open(struct guts_artifact_store **out, const char *dir);
void guts_artifact_store_free(struct guts_artifact_store *store);

/**
 * Remove @path and everything under it, in-process (no `rm -rf`): links
 * are removed, never followed, and read-only directories a job left are
 * made writable first.  0 when @path is gone (or was never there).
 */
int guts_remove_tree(const char *path);

#endif
