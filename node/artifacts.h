/*
 * Artifacts and caches on the node (docs/artifacts.md): manifests in the
 * store, content in a blob store under <data>/blobs shared by every
 * repository, so identical files are stored once.
 *
 * Every blob an artifact, a cache entry or a pending upload needs has a
 * row in blob_refs; the collector (a background thread, never a request
 * handler) removes the blobs that have none.  The check "no row" and the
 * removal happen under arts->blob_lock, and so do the insertion of an
 * upload's rows and the answer "these blobs are present", so a blob the
 * node says it has is never removed before its upload is finalized.
 *
 * artifacts.c: configuration, uploads, artifacts, caches, the collector.
 * blobs.c:     blob PUT (streamed to disk while hashed) and GET, and the
 *              downloads (zip or tar.gz built on the fly, one file).
 */
#ifndef GUTS_NODE_ARTIFACTS_H
#define GUTS_NODE_ARTIFACTS_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "guts/blobstore.h"
#include "http.h"

struct artifacts {
	struct guts_blobstore *bs;
	char *dir; /* <data> (blobs live in <data>/blobs) */
	/* Caps, from the environment at start (see docs/node.md). */
	unsigned long long max_file;   /* GUTS_ARTIFACT_MAX_FILE */
	unsigned long long max_bytes;  /* GUTS_ARTIFACT_MAX_BYTES */
	unsigned long long repo_quota; /* GUTS_REPO_QUOTA_BYTES */
	unsigned long long cache_max;  /* GUTS_CACHE_REPO_MAX_BYTES */
	int retention_days;	       /* GUTS_ARTIFACT_RETENTION_DAYS */
	int64_t upload_ttl_ms;	       /* GUTS_UPLOAD_TTL_SECONDS */
	int64_t gc_ms;		       /* GUTS_GC_SECONDS */
	pthread_mutex_t blob_lock;
	/* The collector thread. */
	pthread_t gc_thread;
	int gc_running;
	pthread_mutex_t gc_lock;
	pthread_cond_t gc_cond;
	int gc_stop;
};

struct artifacts_gc_stats {
	unsigned long long artifacts; /* expired artifacts purged */
	unsigned long long uploads;   /* abandoned uploads dropped */
	unsigned long long blobs;     /* blobs removed */
	unsigned long long bytes;     /* their bytes */
};

/** Read the caps from the environment and open <data>/blobs. */
int artifacts_init(struct node *n);
/** Start the collector: one pass now, then one every gc_ms. */
void artifacts_start(struct node *n);
/** Stop the collector and free (before the store closes). */
void artifacts_stop(struct node *n);
/** One collection pass (the collector's thread calls it). */
int artifacts_gc(struct node *n, struct artifacts_gc_stats *st);

/*
 * For blobs.c: whether blob @hex is referenced by repository @repo_id
 * (@kind NULL: by anything of it; "upload": by a pending upload).
 */
int artifacts_blob_referenced(struct node *n, int64_t repo_id, const char *hex,
			      const char *kind);
/*
 * The repository of a REPO/... route when the caller may read it (@write:
 * change it; @job_ok: a job token of the repository counts as write).
 * Job tokens of other repositories are refused.  Answers and returns 0
 * when denied.
 */
int artifacts_repo(struct http_req *r, int write, int job_ok, json_t **repo);
/** The artifact {id} of the route's repository (answers 404 itself). */
int artifacts_find(struct http_req *r, const json_t *repo, const char *id,
		   json_t **row);

/* The routes (api.c's table). */
void api_artifacts_create(struct http_req *r);
void api_artifacts_run_list(struct http_req *r);
void api_artifacts_list(struct http_req *r);
void api_artifacts_get(struct http_req *r);
void api_artifacts_delete(struct http_req *r);
void api_artifacts_download(struct http_req *r);
void api_uploads_finalize(struct http_req *r);
void api_caches_create(struct http_req *r);
void api_caches_lookup(struct http_req *r);
void api_caches_list(struct http_req *r);
void api_caches_delete(struct http_req *r);
void api_blobs_put_open(struct http_req *r);
int api_blobs_put_write(struct http_req *r, const char *data, size_t len);
void api_blobs_put(struct http_req *r);
void api_blobs_get(struct http_req *r);

#endif
