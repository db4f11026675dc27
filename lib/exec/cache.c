/*
 * cache (actions/cache@v4: restore now, save in the post step) and its two
 * halves, cache/restore and cache/save.
 *
 * As on GitHub, only restore problems with the inputs fail the step; a
 * cache that cannot be read or saved is a warning, and the job goes on as
 * after a miss.
 */
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/hash.h"
#include "builtin_internal.h"
#include "banned.h"

#define CACHE "cache"
#define KEY_MAX 512
#define KEYS_MAX 10

static const char *const known[] = {"key",
				    "path",
				    "restore-keys",
				    "fail-on-cache-miss",
				    "lookup-only",
				    "upload-chunk-size",
				    "enablecrossosarchive",
				    "save-always",
				    NULL};

/*
 * The cache version: which paths the entry holds.  GitHub's includes the
 * paths and the compression; an entry saved with other paths is another
 * cache, even with the same key.
 */
static void cache_version(const struct guts_strvec *paths,
			  char hex[GUTS_SHA256_HEX_LEN + 1])
{
	uint8_t d[GUTS_SHA256_LEN];
	struct guts_sha256 h;

	guts_sha256_init(&h);
	guts_sha256_update(&h, "guts-cache-1", 12);
	for (size_t i = 0; i < paths->nr; i++) {
		guts_sha256_update(&h, "|", 1);
		guts_sha256_update(&h, paths->v[i], strlen(paths->v[i]));
	}
	guts_sha256_final(&h, d);
	guts_sha256_hex(hex, d);
}

static int check_key(const char *input, const char *key)
{
	if (strlen(key) > KEY_MAX)
		return guts_error(GUTS_EINVAL,
				  CACHE ": input '%s': the key '%.60s...' is "
					"longer than %d characters",
				  input, key, KEY_MAX);
	if (strchr(key, ','))
		return guts_error(GUTS_EINVAL,
				  CACHE ": input '%s': the key '%.200s' must "
					"not contain commas",
				  input, key);
	return 0;
}

/* What run, post and save all need. */
struct req {
	struct guts__inputs in;
	const char *key;
	struct guts_strvec paths;
	struct guts_strvec restore_keys;
	char version[GUTS_SHA256_HEX_LEN + 1];
};

static int req_init(struct req *r, const json_t *with,
		    const struct guts_builtin_ctx *ctx, int quiet)
{
	static const char *const ignored[] = {
	    "upload-chunk-size", "enablecrossosarchive", "save-always", NULL};
	int rc;

	guts_strvec_init(&r->paths);
	guts_strvec_init(&r->restore_keys);
	/* The post step reads the same inputs: say things once. */
	rc = guts__inputs_init(&r->in, CACHE, with, quiet ? NULL : ctx, known,
			       ignored);
	if (rc < 0)
		return rc;
	if (!ctx->store)
		return guts_error(GUTS_EINVAL, CACHE ": no artifact store");
	if (!ctx->cache_scope)
		return guts_error(GUTS_EINVAL,
				  CACHE ": no cache scope (repository and "
					"branch) is known");
	r->key = guts__input(&r->in, "key");
	if (!r->key)
		return guts_error(GUTS_EINVAL,
				  CACHE ": input 'key' is required");
	rc = check_key("key", r->key);
	if (rc < 0)
		return rc;
	guts__input_lines(&r->in, "path", &r->paths);
	if (!r->paths.nr)
		return guts_error(GUTS_EINVAL,
				  CACHE ": input 'path' is required");
	guts__input_lines(&r->in, "restore-keys", &r->restore_keys);
	if (1 + r->restore_keys.nr > KEYS_MAX)
		return guts_error(GUTS_EINVAL,
				  CACHE ": at most %d keys (key and "
					"restore-keys) are allowed, got %zu",
				  KEYS_MAX, 1 + r->restore_keys.nr);
	for (size_t i = 0; i < r->restore_keys.nr; i++) {
		rc = check_key("restore-keys", r->restore_keys.v[i]);
		if (rc < 0)
			return rc;
	}
	cache_version(&r->paths, r->version);
	return 0;
}

static void req_release(struct req *r)
{
	guts__inputs_release(&r->in);
	guts_strvec_release(&r->paths);
	guts_strvec_release(&r->restore_keys);
}

/*
 * Save the files matching the `path` input under @key.  Problems are
 * warnings (returns 0), as in actions/cache.
 */
static int save(const struct guts_builtin_ctx *ctx, struct req *r,
		const char *key)
{
	struct guts__collect_opts copts = {CACHE, 1};
	struct guts_strvec files = GUTS_STRVEC_INIT;
	struct guts_pathglob *g = NULL;
	char *ws = guts__path_normalize(ctx->workspace);
	char *home = ctx->home ? guts__path_normalize(ctx->home) : NULL;
	char *text = NULL, *size = NULL;
	unsigned long long total = 0;
	json_t *manifest = NULL, *paths = NULL, *sources = NULL;
	struct guts_artifact_upload up = {0};
	struct guts__upload_stats sent = {0, 0};
	struct guts_buf joined = GUTS_BUF_INIT;
	int rc;

	if (guts_artifact_store_cache_has(ctx->store, ctx->cache_scope,
					  r->version, key) == 1) {
		guts__log(ctx,
			  CACHE ": a cache entry with key '%s' exists "
				"already; not saving",
			  key);
		rc = 0;
		goto out;
	}
	guts_buf_init(&joined, 0);
	for (size_t i = 0; i < r->paths.nr; i++) {
		guts_buf_adds(&joined, r->paths.v[i]);
		guts_buf_addch(&joined, '\n');
	}
	rc = guts_pathglob_compile(&g, joined.data, ws, ctx->home);
	if (rc < 0) {
		guts_error_wrap(rc, CACHE ": input 'path'");
		goto warn;
	}
	rc = guts__collect(ctx, &copts, g, &files);
	if (rc < 0)
		goto warn;
	if (files.nr) {
		rc = guts__hash_files(ctx, CACHE, &files, ws, home, &manifest,
				      &total, &sources);
		if (rc < 0)
			goto warn;
	}
	if (!manifest || !json_array_size(manifest)) {
		guts__log(ctx,
			  "warning: " CACHE ": no files match input 'path'; "
			  "no cache is saved");
		rc = 0;
		goto out;
	}
	paths = json_array();
	for (size_t i = 0; i < r->paths.nr; i++)
		json_array_append_new(paths, json_string(r->paths.v[i]));
	up.kind = GUTS_UPLOAD_CACHE;
	up.files = manifest;
	up.scope = ctx->cache_scope;
	up.version = r->version;
	up.key = key;
	up.paths = paths;
	rc = guts__upload_entry(ctx, CACHE, &up, sources, NULL, &sent);
	if (rc == GUTS_ECONFLICT) {
		/* Another job of the run saved it meanwhile. */
		guts__log(ctx,
			  CACHE ": a cache entry with key '%s' exists "
				"already; not saving",
			  key);
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto warn;
	size = guts__format_size(total);
	guts__log(ctx,
		  CACHE ": cache saved with key: %s (%zu file%s, %s; %zu "
			"blob%s, %llu bytes sent)",
		  key, json_array_size(manifest),
		  json_array_size(manifest) == 1 ? "" : "s", size, sent.blobs,
		  sent.blobs == 1 ? "" : "s", sent.bytes);
	goto out;
warn:
	guts__log(ctx, "warning: " CACHE ": failed to save: %s",
		  guts_error_message());
	rc = 0;
out:
	guts_artifact_upload_release(&up);
	json_decref(sources);
	guts_buf_release(&joined);
	json_decref(paths);
	json_decref(manifest);
	guts_pathglob_free(g);
	guts_strvec_release(&files);
	free(text);
	free(size);
	free(home);
	free(ws);
	return rc;
}

/*
 * Look up @r in the job's scope, then the fallback scope.  1 with the
 * matched key and manifest, 0 on a miss.
 */
static int lookup(const struct guts_builtin_ctx *ctx, struct req *r,
		  char **matched, json_t **files)
{
	const char *scopes[2] = {ctx->cache_scope, ctx->cache_fallback_scope};
	/* As on GitHub: the key exactly, then the key as a prefix, then
	 * each restore key as one. */
	const char **prefixes =
	    guts_xcalloc(r->restore_keys.nr + 1, sizeof(*prefixes));
	int found = 0;

	prefixes[0] = r->key;
	for (size_t k = 0; k < r->restore_keys.nr; k++)
		prefixes[k + 1] = r->restore_keys.v[k];
	for (int i = 0; i < 2 && !found; i++) {
		int rc;

		if (!scopes[i] ||
		    (i == 1 && scopes[0] && !strcmp(scopes[1], scopes[0])))
			continue;
		rc = guts_artifact_store_cache_get(
		    ctx->store, scopes[i], r->version, r->key, prefixes,
		    r->restore_keys.nr + 1, matched, files);
		if (rc == 0)
			found = 1;
		else if (rc != GUTS_ENOTFOUND)
			guts__log(ctx, "warning: " CACHE ": %s",
				  guts_error_message());
	}
	free(prefixes);
	return found;
}

/* Write the entry's files back; 0, or a warning logged and -1. */
static int restore(const struct guts_builtin_ctx *ctx, const json_t *files)
{
	struct guts__dest ws = {-1, NULL}, home = {-1, NULL};
	char *ws_path = guts__path_normalize(ctx->workspace);
	char *home_path = ctx->home ? guts__path_normalize(ctx->home) : NULL;
	int rc;

	rc = guts__dest_open(ctx, CACHE, ws_path, &ws);
	if (!rc && home_path)
		rc = guts__dest_open(ctx, CACHE, home_path, &home);
	if (!rc)
		rc = guts__write_manifest(ctx, CACHE, files, &ws,
					  home_path ? &home : NULL);
	guts__dest_close(&ws);
	guts__dest_close(&home);
	free(ws_path);
	free(home_path);
	if (rc < 0) {
		guts__log(ctx, "warning: " CACHE ": failed to restore: %s",
			  guts_error_message());
		return -1;
	}
	return 0;
}

int guts__cache_run(enum guts__cache_mode mode, const json_t *with,
		    const struct guts_builtin_ctx *ctx, json_t *outputs,
		    json_t **state)
{
	struct req r;
	char *matched = NULL;
	json_t *files = NULL;
	int lookup_only = 0, fail_on_miss = 0, exact = 0, hit, rc;

	rc = req_init(&r, with, ctx, 0);
	if (rc < 0)
		goto out;
	if (mode == GUTS__CACHE_SAVE) {
		rc = save(ctx, &r, r.key);
		goto out;
	}
	rc = guts__input_bool(&r.in, "lookup-only", 0, &lookup_only);
	if (!rc)
		rc = guts__input_bool(&r.in, "fail-on-cache-miss", 0,
				      &fail_on_miss);
	if (rc < 0)
		goto out;
	hit = lookup(ctx, &r, &matched, &files);
	if (hit && !lookup_only && restore(ctx, files) < 0)
		hit = 0;
	if (!hit) {
		struct guts_buf keys = GUTS_BUF_INIT;

		guts_buf_init(&keys, 0);
		guts_buf_adds(&keys, r.key);
		for (size_t i = 0; i < r.restore_keys.nr; i++)
			guts_buf_addf(&keys, ", %s", r.restore_keys.v[i]);
		if (fail_on_miss)
			rc = guts_error(GUTS_ENOTFOUND,
					CACHE ": no cache entry matched the "
					      "input keys (%s) and "
					      "'fail-on-cache-miss' is set",
					keys.data);
		else
			guts__log(ctx,
				  CACHE ": cache not found for input keys: %s",
				  keys.data);
		guts_buf_release(&keys);
	} else {
		exact = !strcmp(matched, r.key);
		if (lookup_only)
			guts__log(ctx,
				  CACHE ": cache found and can be restored "
					"from key: %s",
				  matched);
		else
			guts__log(ctx,
				  CACHE ": cache restored from key: %s "
					"(%zu file%s)",
				  matched, json_array_size(files),
				  json_array_size(files) == 1 ? "" : "s");
	}
	if (outputs) {
		json_object_set_new(outputs, "cache-hit",
				    json_string(exact ? "true" : "false"));
		json_object_set_new(outputs, "cache-primary-key",
				    json_string(r.key));
		if (hit)
			json_object_set_new(outputs, "cache-matched-key",
					    json_string(matched));
	}
	if (rc == 0 && mode == GUTS__CACHE_BOTH && state) {
		json_decref(*state);
		*state = json_pack("{s:s, s:b, s:s?}", "key", r.key, "hit",
				   exact, "matched", hit ? matched : NULL);
	}
out:
	free(matched);
	json_decref(files);
	req_release(&r);
	return rc;
}

int guts__cache_post(const json_t *with, const struct guts_builtin_ctx *ctx,
		     json_t *state, int job_succeeded)
{
	const char *key = json_string_value(json_object_get(state, "key"));
	struct req r;
	int rc;

	if (!key)
		return 0; /* the restore did not get as far as a lookup */
	if (!job_succeeded) {
		guts__log(ctx, CACHE ": the job failed; not saving the cache");
		return 0;
	}
	if (json_is_true(json_object_get(state, "hit"))) {
		guts__log(ctx,
			  CACHE ": cache hit occurred on the primary key %s, "
				"not saving cache",
			  key);
		return 0;
	}
	rc = req_init(&r, with, ctx, 1);
	if (rc == 0)
		rc = save(ctx, &r, key);
	req_release(&r);
	return rc;
}
