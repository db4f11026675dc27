/*
 * Where the built-in actions keep artifacts and caches: struct
 * guts_artifact_store, a table of functions and the data they work on, so
 * that the local store below and the runner's node-backed store
 * (runner/store_node.c) are interchangeable for the callers in builtin.c.
 *
 * Both kinds of entry are a manifest plus blobs, and both are uploaded
 * manifest first (struct guts_artifact_upload below): the caller hashes
 * its files and builds the manifest, upload_begin answers which blobs the
 * store lacks, the caller puts only those (blob_put_as), and
 * upload_finalize records the entry.  Identical content is never sent
 * twice.  docs/artifacts.md maps these steps onto a node's HTTP calls.
 *
 * A manifest is a JSON array of files sorted by path (byte order):
 *
 *   {"path": "dir/file.txt", "mode": 420, "size": 12, "sha256": "<hex>"}
 *
 * "path" is relative and '/'-separated, with no empty, '.' or '..' segment
 * and no NUL; "mode" holds permission bits only (0 to 0777); "sha256" names
 * the blob holding the content.  Cache manifests may add "root": "home" to
 * a file that lives under the job's home rather than its workspace.  An
 * entry's digest is the SHA-256 of its manifest's canonical JSON (sorted
 * keys, compact; see guts_json_canonical()).
 *
 * Manifests come back from storage, so they are untrusted:
 * guts_artifact_manifest_check() is the one place that says what a valid
 * one is, and the built-ins call it before writing anything.
 *
 * The local store (guts_local_store_open() in builtin.h) lays its
 * directory out as:
 *
 *   blobs/sha256/ab/cdef...               content (guts/blobstore.h)
 *   artifacts/<run-id>/<name>.json        {name, run_id, created_at,
 *                                          expires_at, size, files,
 *                                          manifest: <blob of the manifest>}
 *   caches/<sha256(scope)>/<sha256(version "\n" key)>.json
 *                                         {scope, key, version, paths,
 *                                          created_at, last_used_at, size,
 *                                          files, manifest}
 *
 * Records are written to a temporary file and renamed (or linked, when an
 * existing one must not be replaced), so readers never see half of one.
 * Times are microseconds since the epoch.
 *
 * Threads: every function may be called from any number of threads (and
 * processes sharing the directory) at once.
 */
#ifndef GUTS_ARTIFACT_STORE_H
#define GUTS_ARTIFACT_STORE_H

#include <jansson.h>
#include <stddef.h>

#include "guts/hash.h"

/* Longest artifact name, in bytes (GitHub's limit too). */
#define GUTS_ARTIFACT_NAME_MAX 256
/* Most files in one manifest. */
#define GUTS_ARTIFACT_MAX_FILES 200000
/* Default cap on the total size of the local store's caches: 10 GiB. */
#define GUTS_CACHE_DEFAULT_MAX_BYTES (10ULL << 30)

struct guts_artifact_store;
struct guts_blobstore;

enum guts_upload_kind {
	GUTS_UPLOAD_ARTIFACT,
	GUTS_UPLOAD_CACHE,
};

/*
 * One entry being uploaded manifest first.  The caller fills the request
 * (GUTS_UPLOAD_ARTIFACT: run_id, name, retention_days, overwrite;
 * GUTS_UPLOAD_CACHE: scope, version, key, paths) and the manifest, which
 * it keeps alive until the upload is released; upload_begin fills @id and
 * @missing.  guts_artifact_upload_release() frees what begin filled.
 */
struct guts_artifact_upload {
	enum guts_upload_kind kind;
	const json_t *files; /* the manifest */
	const char *run_id, *name;
	int retention_days, overwrite;
	const char *scope, *version, *key;
	const json_t *paths;
	/* Filled by upload_begin. */
	char *id;	 /* the store's upload id, or NULL (the local store) */
	json_t *missing; /* an array of the sha256 hexes the store lacks */
};

struct guts_artifact_store_ops {
	/* Store the content read from @fd to its end. */
	int (*blob_put)(struct guts_artifact_store *s, int fd,
			char hex[GUTS_SHA256_HEX_LEN + 1],
			unsigned long long *size);
	/* Write blob @hex to @fd, verified (GUTS_EIO when corrupted). */
	int (*blob_get)(struct guts_artifact_store *s, const char *hex, int fd);
	/*
	 * Record artifact @name of run @run_id with manifest @files.
	 * GUTS_ECONFLICT when it exists and !@overwrite.  @digest receives
	 * the manifest's digest.
	 */
	int (*artifact_put)(struct guts_artifact_store *s, const char *run_id,
			    const char *name, const json_t *files,
			    int retention_days, int overwrite,
			    char digest[GUTS_SHA256_HEX_LEN + 1]);
	/* The manifest of an artifact; GUTS_ENOTFOUND when there is none. */
	int (*artifact_get)(struct guts_artifact_store *s, const char *run_id,
			    const char *name, json_t **files);
	/* The names of the run's artifacts, sorted (an array of strings). */
	int (*artifact_list)(struct guts_artifact_store *s, const char *run_id,
			     json_t **names);
	/*
	 * Find a cache entry of @version in @scope: @key exactly, else the
	 * newest entry whose key starts with @prefixes[0], else with
	 * @prefixes[1], and so on.  *@matched gets the entry's key (caller
	 * frees), *@files its manifest.  GUTS_ENOTFOUND when nothing matches.
	 * A hit counts as a use (for least-recently-used eviction).
	 */
	int (*cache_get)(struct guts_artifact_store *s, const char *scope,
			 const char *version, const char *key,
			 const char *const *prefixes, size_t nr, char **matched,
			 json_t **files);
	/* 1 when entry @key of @version exists in @scope, else 0. */
	int (*cache_has)(struct guts_artifact_store *s, const char *scope,
			 const char *version, const char *key);
	/*
	 * Save an entry; GUTS_ECONFLICT when @key (of @version) exists in
	 * @scope already: entries are never replaced.  @paths is the `path`
	 * input as an array of strings, kept for people reading the store.
	 */
	int (*cache_put)(struct guts_artifact_store *s, const char *scope,
			 const char *version, const char *key,
			 const json_t *paths, const json_t *files);
	/*
	 * Manifest first, step 1: check the request and the manifest and
	 * answer, in @up->missing, the blobs the store lacks (each hex once,
	 * in the manifest's order).  GUTS_ECONFLICT as artifact_put and
	 * cache_put would say it; nothing is recorded yet.
	 */
	int (*upload_begin)(struct guts_artifact_store *s,
			    struct guts_artifact_upload *up);
	/*
	 * Step 2, for each missing blob: store the content of @fd (read to
	 * its end), which the caller hashed as @hex (@size bytes).  Content
	 * that does not hash to @hex is refused (GUTS_ECONFLICT: the file
	 * changed since it was hashed) and not recorded under @hex.
	 */
	int (*blob_put_as)(struct guts_artifact_store *s, int fd,
			   const char *hex, unsigned long long size);
	/*
	 * Step 3: record the entry.  GUTS_ECONFLICT when a blob is still
	 * missing or the entry exists meanwhile.  @digest (may be NULL)
	 * receives the manifest's digest.
	 */
	int (*upload_finalize)(struct guts_artifact_store *s,
			       struct guts_artifact_upload *up,
			       char digest[GUTS_SHA256_HEX_LEN + 1]);
	void (*free)(struct guts_artifact_store *s);
};

struct guts_artifact_store {
	const struct guts_artifact_store_ops *ops;
	void *data;
};

/* Callers go through these; each forwards to the table. */
int guts_artifact_store_blob_put(struct guts_artifact_store *s, int fd,
				 char hex[GUTS_SHA256_HEX_LEN + 1],
				 unsigned long long *size);
int guts_artifact_store_blob_get(struct guts_artifact_store *s, const char *hex,
				 int fd);
int guts_artifact_store_artifact_put(struct guts_artifact_store *s,
				     const char *run_id, const char *name,
				     const json_t *files, int retention_days,
				     int overwrite,
				     char digest[GUTS_SHA256_HEX_LEN + 1]);
int guts_artifact_store_artifact_get(struct guts_artifact_store *s,
				     const char *run_id, const char *name,
				     json_t **files);
int guts_artifact_store_artifact_list(struct guts_artifact_store *s,
				      const char *run_id, json_t **names);
int guts_artifact_store_cache_get(struct guts_artifact_store *s,
				  const char *scope, const char *version,
				  const char *key, const char *const *prefixes,
				  size_t nr, char **matched, json_t **files);
int guts_artifact_store_cache_has(struct guts_artifact_store *s,
				  const char *scope, const char *version,
				  const char *key);
int guts_artifact_store_cache_put(struct guts_artifact_store *s,
				  const char *scope, const char *version,
				  const char *key, const json_t *paths,
				  const json_t *files);

int guts_artifact_store_upload_begin(struct guts_artifact_store *s,
				     struct guts_artifact_upload *up);
int guts_artifact_store_blob_put_as(struct guts_artifact_store *s, int fd,
				    const char *hex, unsigned long long size);
int guts_artifact_store_upload_finalize(struct guts_artifact_store *s,
					struct guts_artifact_upload *up,
					char digest[GUTS_SHA256_HEX_LEN + 1]);
/** Free what upload_begin filled in @up (the request is the caller's). */
void guts_artifact_upload_release(struct guts_artifact_upload *up);

/**
 * The sha256 hexes of @files (a manifest) not in @bs, each once, in the
 * manifest's order (an array of strings): the local store's answer to
 * upload_begin.  GUTS_EINVAL for an entry without a valid "sha256".
 */
int guts_artifact_blobs_missing(struct guts_blobstore *bs, const json_t *files,
				json_t **missing);

/**
 * Check an artifact name: 1 to GUTS_ARTIFACT_NAME_MAX bytes, no '/', '\\',
 * '..', control characters or any of ":<>|*?\"" (GitHub refuses those
 * too).  GUTS_EINVAL says which character; @what prefixes the message
 * (e.g. "upload-artifact: input 'name'").
 */
int guts_artifact_name_check(const char *what, const char *name);

/**
 * Check a manifest read from storage: the shape above, paths safe to join
 * under a directory, sorted and unique, at most GUTS_ARTIFACT_MAX_FILES
 * files.  @allow_roots: "root": "home" may appear (caches).  GUTS_EINVAL
 * names the offending entry's path.
 */
int guts_artifact_manifest_check(const json_t *files, int allow_roots);

/** The digest of a manifest: SHA-256 of its canonical JSON, in hex. */
void guts_artifact_manifest_digest(const json_t *files,
				   char hex[GUTS_SHA256_HEX_LEN + 1]);

/** Whether @path is a safe relative manifest path (see above). */
int guts_artifact_path_ok(const char *path);

/*
 * The local store only (these fail with GUTS_EINVAL on any other store).
 */

/**
 * Cap the total size of the caches (the sum of their files' sizes); when a
 * save goes over it, the least recently used entries are removed (never
 * the one just saved) and unreferenced blobs collected.  The default is
 * GUTS_CACHE_DEFAULT_MAX_BYTES, or the environment variable
 * GUTS_CACHE_MAX_BYTES (a whole number of bytes) when set at open.
 */
int guts_local_store_set_cache_limit(struct guts_artifact_store *s,
				     unsigned long long max_bytes);

/**
 * How old (by modification time) an unreferenced blob must be before the
 * collector removes it, in seconds (default: an hour).  Blobs are written
 * before the record that references them, so a young blob may belong to an
 * upload still in progress.
 */
int guts_local_store_set_gc_grace(struct guts_artifact_store *s, long seconds);

/**
 * Collect: remove expired artifacts and the blobs no record references
 * (older than the grace).  *@removed (when not NULL) is the number of
 * blobs removed.  One collection runs at a time per store.
 */
int guts_local_store_gc(struct guts_artifact_store *s,
			unsigned long long *removed);

/** The local store's blob store, or NULL for any other kind of store. */
struct guts_blobstore *guts_local_store_blobs(struct guts_artifact_store *s);

#endif
