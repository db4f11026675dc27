/*
 * The artifact store table's front door, manifest checks, and the local
 * store: records as JSON files beside a blob store (see
 * guts/artifact_store.h for the layout).
 */
#include "guts/artifact_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/blobstore.h"
#include "guts/builtin.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/json.h"
#include "banned.h"

/* Records are small; manifests can list many files. */
#define RECORD_MAX_BYTES (64 * 1024)
#define MANIFEST_MAX_BYTES (256u * 1024 * 1024)
#define RUN_ID_MAX 128
#define DEFAULT_RETENTION_DAYS 90
#define DEFAULT_GC_GRACE_SECONDS 3600L

/* ---- the table ---------------------------------------------------- */

int guts_artifact_store_blob_put(struct guts_artifact_store *s, int fd,
				 char hex[GUTS_SHA256_HEX_LEN + 1],
				 unsigned long long *size)
{
	return s->ops->blob_put(s, fd, hex, size);
}

int guts_artifact_store_blob_get(struct guts_artifact_store *s, const char *hex,
				 int fd)
{
	return s->ops->blob_get(s, hex, fd);
}

int guts_artifact_store_artifact_put(struct guts_artifact_store *s,
				     const char *run_id, const char *name,
				     const json_t *files, int retention_days,
				     int overwrite,
				     char digest[GUTS_SHA256_HEX_LEN + 1])
{
	return s->ops->artifact_put(s, run_id, name, files, retention_days,
				    overwrite, digest);
}

int guts_artifact_store_artifact_get(struct guts_artifact_store *s,
				     const char *run_id, const char *name,
				     json_t **files)
{
	return s->ops->artifact_get(s, run_id, name, files);
}

int guts_artifact_store_artifact_list(struct guts_artifact_store *s,
				      const char *run_id, json_t **names)
{
	return s->ops->artifact_list(s, run_id, names);
}

int guts_artifact_store_cache_get(struct guts_artifact_store *s,
				  const char *scope, const char *version,
				  const char *key, const char *const *prefixes,
				  size_t nr, char **matched, json_t **files)
{
	return s->ops->cache_get(s, scope, version, key, prefixes, nr, matched,
				 files);
}

int guts_artifact_store_cache_has(struct guts_artifact_store *s,
				  const char *scope, const char *version,
				  const char *key)
{
	return s->ops->cache_has(s, scope, version, key);
}

int guts_artifact_store_cache_put(struct guts_artifact_store *s,
				  const char *scope, const char *version,
				  const char *key, const json_t *paths,
				  const json_t *files)
{
	return s->ops->cache_put(s, scope, version, key, paths, files);
}

int guts_artifact_store_upload_begin(struct guts_artifact_store *s,
				     struct guts_artifact_upload *up)
{
	up->id = NULL;
	up->missing = NULL;
	return s->ops->upload_begin(s, up);
}

int guts_artifact_store_blob_put_as(struct guts_artifact_store *s, int fd,
				    const char *hex, unsigned long long size)
{
	if (!guts_blobstore_valid_hex(hex))
		return guts_error(GUTS_EINVAL, "'%.80s' is not a blob name",
				  hex ? hex : "");
	return s->ops->blob_put_as(s, fd, hex, size);
}

int guts_artifact_store_upload_finalize(struct guts_artifact_store *s,
					struct guts_artifact_upload *up,
					char digest[GUTS_SHA256_HEX_LEN + 1])
{
	return s->ops->upload_finalize(s, up, digest);
}

void guts_artifact_upload_release(struct guts_artifact_upload *up)
{
	free(up->id);
	json_decref(up->missing);
	up->id = NULL;
	up->missing = NULL;
}

void guts_artifact_store_free(struct guts_artifact_store *store)
{
	if (store)
		store->ops->free(store);
}

/* ---- names and manifests ----------------------------------------- */

int guts_artifact_name_check(const char *what, const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (!len)
		return guts_error(GUTS_EINVAL, "%s: the name is empty", what);
	if (len > GUTS_ARTIFACT_NAME_MAX)
		return guts_error(GUTS_EINVAL,
				  "%s: the name is longer than %d bytes", what,
				  GUTS_ARTIFACT_NAME_MAX);
	if (strstr(name, ".."))
		return guts_error(GUTS_EINVAL,
				  "%s: the name '%s' must not contain '..'",
				  what, name);
	for (const char *c = name; *c; c++) {
		unsigned char u = (unsigned char)*c;

		if (u < 0x20 || u == 0x7f)
			return guts_error(GUTS_EINVAL,
					  "%s: the name must not contain "
					  "control characters",
					  what);
		if (strchr("/\\:<>|*?\"", *c))
			return guts_error(GUTS_EINVAL,
					  "%s: the name '%s' must not contain "
					  "'%c'",
					  what, name, *c);
	}
	return 0;
}

int guts_artifact_path_ok(const char *path)
{
	const char *s = path;

	if (!s || !*s || *s == '/')
		return 0;
	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n == 0 || (n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (!e)
			break;
		s = e + 1;
		if (!*s)
			return 0; /* a trailing '/' */
	}
	return 1;
}

static int bad_entry(size_t i, const char *path, const char *why)
{
	if (path)
		return guts_error(GUTS_EINVAL, "manifest entry '%.300s': %s",
				  path, why);
	return guts_error(GUTS_EINVAL, "manifest entry %zu: %s", i, why);
}

int guts_artifact_manifest_check(const json_t *files, int allow_roots)
{
	const char *prev = NULL, *prev_root = NULL;
	size_t i;
	json_t *f;

	if (!json_is_array(files))
		return guts_error(GUTS_EINVAL, "a manifest must be an array");
	if (json_array_size(files) > GUTS_ARTIFACT_MAX_FILES)
		return guts_error(GUTS_EINVAL,
				  "a manifest lists more than %d files",
				  GUTS_ARTIFACT_MAX_FILES);
	json_array_foreach(files, i, f) {
		json_t *p = json_object_get(f, "path");
		json_t *m = json_object_get(f, "mode");
		json_t *sz = json_object_get(f, "size");
		json_t *h = json_object_get(f, "sha256");
		json_t *r = json_object_get(f, "root");
		const char *path, *root = "";

		if (!json_is_object(f))
			return bad_entry(i, NULL, "not an object");
		if (!json_is_string(p))
			return bad_entry(i, NULL, "'path' must be a string");
		path = json_string_value(p);
		if (strlen(path) != json_string_length(p))
			return bad_entry(i, NULL, "'path' contains NUL");
		if (!guts_artifact_path_ok(path))
			return bad_entry(i, path,
					 "the path must be relative, without "
					 "empty, '.' or '..' segments");
		if (!json_is_integer(m) || json_integer_value(m) < 0 ||
		    json_integer_value(m) > 0777)
			return bad_entry(i, path, "'mode' must be 0 to 0777");
		if (!json_is_integer(sz) || json_integer_value(sz) < 0)
			return bad_entry(i, path,
					 "'size' must be a whole number");
		if (!json_is_string(h) ||
		    !guts_blobstore_valid_hex(json_string_value(h)))
			return bad_entry(i, path,
					 "'sha256' must be 64 hex digits");
		if (r) {
			if (!allow_roots || !json_is_string(r) ||
			    strcmp(json_string_value(r), "home"))
				return bad_entry(i, path,
						 "'root' may only be \"home\", "
						 "in a cache");
			root = "home";
		}
		if (prev && !strcmp(prev_root, root) && strcmp(prev, path) >= 0)
			return bad_entry(i, path,
					 "paths must be sorted and unique");
		if (prev && strcmp(prev_root, root) > 0)
			return bad_entry(i, path,
					 "workspace files must come before "
					 "home files");
		prev = path;
		prev_root = root;
	}
	return 0;
}

int guts_artifact_blobs_missing(struct guts_blobstore *bs, const json_t *files,
				json_t **missing)
{
	json_t *seen = json_object(), *out = json_array();
	size_t i;
	json_t *f;
	int rc = 0;

	json_array_foreach(files, i, f) {
		const char *hex =
		    json_string_value(json_object_get(f, "sha256"));

		if (!guts_blobstore_valid_hex(hex)) {
			rc = guts_error(GUTS_EINVAL,
					"manifest entry %zu has no valid "
					"sha256",
					i);
			break;
		}
		if (json_object_get(seen, hex))
			continue;
		json_object_set_new(seen, hex, json_true());
		rc = guts_blobstore_has(bs, hex);
		if (rc < 0)
			break;
		if (!rc)
			json_array_append_new(out, json_string(hex));
		rc = 0;
	}
	json_decref(seen);
	if (rc < 0) {
		json_decref(out);
		return rc;
	}
	*missing = out;
	return 0;
}

void guts_artifact_manifest_digest(const json_t *files,
				   char hex[GUTS_SHA256_HEX_LEN + 1])
{
	uint8_t d[GUTS_SHA256_LEN];
	char *text = guts_json_canonical(files);

	if (!text)
		abort(); /* jansson fails only when out of memory */
	guts_sha256_buf(d, text, strlen(text));
	guts_sha256_hex(hex, d);
	free(text);
}

/* ---- the local store ---------------------------------------------- */

struct local {
	char *art_dir;	 /* <dir>/artifacts */
	char *cache_dir; /* <dir>/caches */
	struct guts_blobstore *bs;
	unsigned long long cache_max;
	long grace;
	pthread_mutex_t gc_lock;
};

static const struct guts_artifact_store_ops local_ops;

static struct local *local_of(struct guts_artifact_store *s)
{
	return s && s->ops == &local_ops ? s->data : NULL;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void hash_hex(char hex[GUTS_SHA256_HEX_LEN + 1], const char *a,
		     const char *b)
{
	uint8_t d[GUTS_SHA256_LEN];
	struct guts_sha256 h;

	guts_sha256_init(&h);
	guts_sha256_update(&h, a, strlen(a));
	if (b) {
		guts_sha256_update(&h, "\n", 1);
		guts_sha256_update(&h, b, strlen(b));
	}
	guts_sha256_final(&h, d);
	guts_sha256_hex(hex, d);
}

static int run_id_check(const char *run_id)
{
	size_t len = run_id ? strlen(run_id) : 0;

	if (!len || len > RUN_ID_MAX || run_id[0] == '.')
		goto bad;
	for (const char *c = run_id; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
		      *c == '.'))
			goto bad;
	}
	return 0;
bad:
	return guts_error(GUTS_EINVAL,
			  "run id '%.140s' must be 1 to %d letters, digits, "
			  "'-', '_' or '.' (not first)",
			  run_id ? run_id : "", RUN_ID_MAX);
}

/*
 * Write @rec to @path in @dir: a unique temporary file, fsync, then rename
 * (or, with @exclusive, link, which fails when @path exists:
 * GUTS_ECONFLICT).  Unique names keep concurrent writers apart, which
 * guts_fs_write_atomic()'s per-process name would not.
 */
static int write_record(const char *dir, const char *path, const json_t *rec,
			int exclusive)
{
	char *tmp = guts_xasprintf("%s/.tmp-XXXXXX", dir);
	char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	size_t len = strlen(text), off = 0;
	int fd, rc = 0;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = guts_error_errno("cannot create a file in '%s'", dir);
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = guts_error_errno("cannot write '%s'", tmp);
			break;
		}
		off += (size_t)n;
	}
	if (!rc && fsync(fd) < 0)
		rc = guts_error_errno("cannot fsync '%s'", tmp);
	if (close(fd) < 0 && !rc)
		rc = guts_error_errno("cannot close '%s'", tmp);
	if (!rc && exclusive) {
		if (link(tmp, path) < 0) {
			if (errno == EEXIST)
				rc = guts_error(GUTS_ECONFLICT,
						"'%s' exists already", path);
			else
				rc = guts_error_errno("cannot create '%s'",
						      path);
		}
	} else if (!rc && rename(tmp, path) < 0) {
		rc = guts_error_errno("cannot rename into '%s'", path);
	}
	if (exclusive || rc)
		unlink(tmp);
out:
	free(text);
	free(tmp);
	return rc;
}

static int read_record(json_t **out, const char *path)
{
	char *text = NULL;
	size_t len;
	json_t *v = NULL;
	int rc;

	rc = guts_fs_read_all(&text, &len, path, RECORD_MAX_BYTES);
	if (rc < 0)
		return rc;
	rc = guts_json_parse(&v, text, len);
	free(text);
	if (rc < 0)
		return guts_error_wrap(rc, "%s", path);
	if (!json_is_object(v)) {
		json_decref(v);
		return guts_error(GUTS_EINVAL, "%s: not a JSON object", path);
	}
	*out = v;
	return 0;
}

/* The manifest a record points at, read from its blob and checked. */
static int load_manifest(struct local *l, const json_t *rec, int allow_roots,
			 json_t **out)
{
	const char *hex = json_string_value(json_object_get(rec, "manifest"));
	char *text = NULL;
	size_t len;
	json_t *files = NULL;
	int rc;

	if (!guts_blobstore_valid_hex(hex))
		return guts_error(GUTS_EINVAL,
				  "the record names no manifest blob");
	rc = guts_blobstore_read(l->bs, hex, &text, &len, MANIFEST_MAX_BYTES);
	if (rc < 0)
		return rc;
	rc = guts_json_parse(&files, text, len);
	free(text);
	if (rc < 0)
		return guts_error_wrap(rc, "manifest %s", hex);
	rc = guts_artifact_manifest_check(files, allow_roots);
	if (rc < 0) {
		json_decref(files);
		return guts_error_wrap(rc, "manifest %s", hex);
	}
	*out = files;
	return 0;
}

static unsigned long long manifest_size(const json_t *files)
{
	unsigned long long total = 0;
	size_t i;
	json_t *f;

	json_array_foreach(files, i, f) {
		total += (unsigned long long)json_integer_value(
		    json_object_get(f, "size"));
	}
	return total;
}

/* Store the canonical manifest as a blob; its name is the digest. */
static int put_manifest(struct local *l, const json_t *files,
			char hex[GUTS_SHA256_HEX_LEN + 1])
{
	char *text = guts_json_canonical(files);
	int rc;

	if (!text)
		abort();
	rc = guts_blobstore_put_buf(l->bs, text, strlen(text), hex);
	free(text);
	return rc;
}

static int local_blob_put(struct guts_artifact_store *s, int fd,
			  char hex[GUTS_SHA256_HEX_LEN + 1],
			  unsigned long long *size)
{
	return guts_blobstore_put_fd(local_of(s)->bs, fd, hex, size);
}

static int local_blob_get(struct guts_artifact_store *s, const char *hex,
			  int fd)
{
	return guts_blobstore_get_fd(local_of(s)->bs, hex, fd);
}

static int local_artifact_put(struct guts_artifact_store *s, const char *run_id,
			      const char *name, const json_t *files,
			      int retention_days, int overwrite,
			      char digest[GUTS_SHA256_HEX_LEN + 1])
{
	struct local *l = local_of(s);
	char hex[GUTS_SHA256_HEX_LEN + 1];
	char *dir = NULL, *path = NULL;
	long long now = now_us();
	json_t *rec = NULL;
	int rc;

	rc = run_id_check(run_id);
	if (!rc)
		rc = guts_artifact_name_check("artifact", name);
	if (!rc)
		rc = guts_artifact_manifest_check(files, 0);
	if (rc < 0)
		return rc;
	if (retention_days <= 0)
		retention_days = DEFAULT_RETENTION_DAYS;
	rc = put_manifest(l, files, hex);
	if (rc < 0)
		return rc;
	dir = guts_xasprintf("%s/%s", l->art_dir, run_id);
	path = guts_xasprintf("%s/%s.json", dir, name);
	rc = guts_fs_mkdirs(dir, 0700);
	if (rc < 0)
		goto out;
	rec = json_pack(
	    "{s:s, s:s, s:I, s:I, s:i, s:I, s:I, s:s}", "name", name, "run_id",
	    run_id, "created_at", (json_int_t)now, "expires_at",
	    (json_int_t)(now + (long long)retention_days * 86400 * 1000000),
	    "retention_days", retention_days, "size",
	    (json_int_t)manifest_size(files), "files",
	    (json_int_t)json_array_size(files), "manifest", hex);
	rc = write_record(dir, path, rec, !overwrite);
	if (rc == GUTS_ECONFLICT)
		rc = guts_error(GUTS_ECONFLICT,
				"an artifact named '%s' exists already in run "
				"%s",
				name, run_id);
	if (!rc)
		memcpy(digest, hex, sizeof(hex));
out:
	json_decref(rec);
	free(path);
	free(dir);
	return rc;
}

static int expired(const json_t *rec)
{
	json_t *e = json_object_get(rec, "expires_at");

	return json_is_integer(e) && json_integer_value(e) < now_us();
}

static int local_artifact_get(struct guts_artifact_store *s, const char *run_id,
			      const char *name, json_t **files)
{
	struct local *l = local_of(s);
	json_t *rec = NULL;
	char *path;
	int rc;

	rc = run_id_check(run_id);
	if (!rc)
		rc = guts_artifact_name_check("artifact", name);
	if (rc < 0)
		return rc;
	path = guts_xasprintf("%s/%s/%s.json", l->art_dir, run_id, name);
	rc = read_record(&rec, path);
	if (!rc && expired(rec))
		rc = GUTS_ENOTFOUND;
	if (rc == GUTS_ENOTFOUND)
		rc = guts_error(GUTS_ENOTFOUND,
				"no artifact named '%s' in run %s", name,
				run_id);
	if (!rc)
		rc = load_manifest(l, rec, 0, files);
	if (rc < 0 && rc != GUTS_ENOTFOUND)
		rc = guts_error_wrap(rc, "artifact '%s'", name);
	json_decref(rec);
	free(path);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int local_artifact_list(struct guts_artifact_store *s,
			       const char *run_id, json_t **names)
{
	struct local *l = local_of(s);
	struct dirent *de;
	char **v = NULL;
	size_t nr = 0, alloc = 0;
	char *dir;
	json_t *arr;
	DIR *d;
	int rc;

	rc = run_id_check(run_id);
	if (rc < 0)
		return rc;
	dir = guts_xasprintf("%s/%s", l->art_dir, run_id);
	arr = json_array();
	d = opendir(dir);
	if (!d && errno != ENOENT) {
		rc = guts_error_errno("cannot read '%s'", dir);
		goto out;
	}
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *name, *path;
		json_t *rec = NULL;

		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".json"))
			continue;
		name = guts_xstrndup(de->d_name, len - 5);
		path = guts_xasprintf("%s/%s", dir, de->d_name);
		if (guts_artifact_name_check("artifact", name) == 0 &&
		    read_record(&rec, path) == 0 && !expired(rec)) {
			GUTS_ALLOC_GROW(v, nr + 1, alloc);
			v[nr++] = name;
			name = NULL;
		}
		json_decref(rec);
		free(path);
		free(name);
	}
	if (d)
		closedir(d);
	if (nr)
		qsort(v, nr, sizeof(*v), cmp_str);
	for (size_t i = 0; i < nr; i++)
		json_array_append_new(arr, json_string(v[i]));
	*names = arr;
	arr = NULL;
out:
	for (size_t i = 0; i < nr; i++)
		free(v[i]);
	free(v);
	json_decref(arr);
	free(dir);
	return rc;
}

static char *scope_dir(struct local *l, const char *scope)
{
	char h[GUTS_SHA256_HEX_LEN + 1];

	hash_hex(h, scope, NULL);
	return guts_xasprintf("%s/%s", l->cache_dir, h);
}

static char *entry_path(const char *sdir, const char *version, const char *key)
{
	char h[GUTS_SHA256_HEX_LEN + 1];

	hash_hex(h, version, key);
	return guts_xasprintf("%s/%s.json", sdir, h);
}

static int record_is(const json_t *rec, const char *scope, const char *version,
		     const char *key)
{
	const char *s = json_string_value(json_object_get(rec, "scope"));
	const char *v = json_string_value(json_object_get(rec, "version"));
	const char *k = json_string_value(json_object_get(rec, "key"));

	return s && v && k && !strcmp(s, scope) && !strcmp(v, version) &&
	       (!key || !strcmp(k, key));
}

/* The newest entry of @version in @sdir whose key starts with @prefix. */
static char *find_prefix(const char *sdir, const char *scope,
			 const char *version, const char *prefix)
{
	long long best_time = LLONG_MIN;
	char *best = NULL;
	struct dirent *de;
	DIR *d = opendir(sdir);

	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		json_t *rec = NULL;
		const char *key;
		char *path;

		if (de->d_name[0] == '.')
			continue;
		path = guts_xasprintf("%s/%s", sdir, de->d_name);
		if (read_record(&rec, path) == 0 &&
		    record_is(rec, scope, version, NULL)) {
			long long t = json_integer_value(
			    json_object_get(rec, "created_at"));

			key = json_string_value(json_object_get(rec, "key"));
			if (!strncmp(key, prefix, strlen(prefix)) &&
			    t > best_time) {
				best_time = t;
				free(best);
				best = path;
				path = NULL;
			}
		}
		json_decref(rec);
		free(path);
	}
	closedir(d);
	return best;
}

static int local_cache_get(struct guts_artifact_store *s, const char *scope,
			   const char *version, const char *key,
			   const char *const *prefixes, size_t nr,
			   char **matched, json_t **files)
{
	struct local *l = local_of(s);
	char *sdir = scope_dir(l, scope),
	     *path = entry_path(sdir, version, key);
	json_t *rec = NULL;
	int rc;

	rc = read_record(&rec, path);
	if (rc == 0 && !record_is(rec, scope, version, key)) {
		json_decref(rec);
		rec = NULL;
		rc = GUTS_ENOTFOUND;
	}
	for (size_t i = 0; rc < 0 && i < nr; i++) {
		free(path);
		path = find_prefix(sdir, scope, version, prefixes[i]);
		if (path)
			rc = read_record(&rec, path);
	}
	if (rc < 0) {
		rc = guts_error(GUTS_ENOTFOUND, "no cache entry matches '%s'",
				key);
		goto out;
	}
	rc = load_manifest(l, rec, 1, files);
	if (rc < 0)
		goto out;
	*matched = guts_xstrdup(json_string_value(json_object_get(rec, "key")));
	/* The record's time is its last use, for eviction. */
	utimensat(AT_FDCWD, path, NULL, 0);
out:
	json_decref(rec);
	free(path);
	free(sdir);
	return rc;
}

static int local_cache_has(struct guts_artifact_store *s, const char *scope,
			   const char *version, const char *key)
{
	struct local *l = local_of(s);
	char *sdir = scope_dir(l, scope),
	     *path = entry_path(sdir, version, key);
	json_t *rec = NULL;
	int found;

	found =
	    read_record(&rec, path) == 0 && record_is(rec, scope, version, key);
	json_decref(rec);
	free(path);
	free(sdir);
	return found;
}

struct entry {
	char *path;
	struct timespec used;
	unsigned long long size;
};

static int cmp_used(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	if (x->used.tv_nsec != y->used.tv_nsec)
		return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* Every cache record's path, size and last use. */
static void list_cache_entries(struct local *l, struct entry **out, size_t *n)
{
	struct entry *v = NULL;
	size_t nr = 0, alloc = 0;
	struct dirent *sd;
	DIR *top = opendir(l->cache_dir);

	while (top && (sd = readdir(top))) {
		struct dirent *de;
		char *sdir;
		DIR *d;

		if (sd->d_name[0] == '.')
			continue;
		sdir = guts_xasprintf("%s/%s", l->cache_dir, sd->d_name);
		d = opendir(sdir);
		while (d && (de = readdir(d))) {
			struct stat st;
			json_t *rec = NULL;
			char *path;

			if (de->d_name[0] == '.')
				continue;
			path = guts_xasprintf("%s/%s", sdir, de->d_name);
			if (stat(path, &st) == 0 &&
			    read_record(&rec, path) == 0) {
				GUTS_ALLOC_GROW(v, nr + 1, alloc);
				v[nr].path = path;
				v[nr].used = st.st_mtim;
				v[nr].size =
				    (unsigned long long)json_integer_value(
					json_object_get(rec, "size"));
				nr++;
				path = NULL;
			}
			json_decref(rec);
			free(path);
		}
		if (d)
			closedir(d);
		free(sdir);
	}
	if (top)
		closedir(top);
	*out = v;
	*n = nr;
}

/*
 * Remove least recently used entries until the caches fit the cap; 1 when
 * something was removed (their blobs are then worth collecting).
 */
static int evict(struct local *l, const char *keep)
{
	struct entry *v;
	unsigned long long total = 0;
	size_t nr, removed = 0;

	list_cache_entries(l, &v, &nr);
	for (size_t i = 0; i < nr; i++)
		total += v[i].size;
	if (total > l->cache_max) {
		qsort(v, nr, sizeof(*v), cmp_used);
		for (size_t i = 0; i < nr && total > l->cache_max; i++) {
			if (!strcmp(v[i].path, keep))
				continue;
			if (unlink(v[i].path) == 0 || errno == ENOENT) {
				total -= v[i].size;
				removed++;
			}
		}
	}
	for (size_t i = 0; i < nr; i++)
		free(v[i].path);
	free(v);
	return removed ? 1 : 0;
}

static int local_cache_put(struct guts_artifact_store *s, const char *scope,
			   const char *version, const char *key,
			   const json_t *paths, const json_t *files)
{
	struct local *l = local_of(s);
	char hex[GUTS_SHA256_HEX_LEN + 1];
	char *sdir = scope_dir(l, scope),
	     *path = entry_path(sdir, version, key);
	json_t *rec = NULL;
	int rc;

	rc = guts_artifact_manifest_check(files, 1);
	if (rc < 0)
		goto out;
	rc = put_manifest(l, files, hex);
	if (rc < 0)
		goto out;
	rc = guts_fs_mkdirs(sdir, 0700);
	if (rc < 0)
		goto out;
	rec = json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:s}", "scope",
			scope, "key", key, "version", version, "paths",
			paths ? json_deep_copy(paths) : json_array(),
			"created_at", (json_int_t)now_us(), "size",
			(json_int_t)manifest_size(files), "files",
			(json_int_t)json_array_size(files), "manifest", hex);
	rc = write_record(sdir, path, rec, 1);
	if (rc == GUTS_ECONFLICT) {
		rc = guts_error(GUTS_ECONFLICT,
				"a cache entry with key '%s' exists already",
				key);
		goto out;
	}
	if (rc < 0)
		goto out;
	if (evict(l, path))
		guts_local_store_gc(s, NULL);
out:
	json_decref(rec);
	free(path);
	free(sdir);
	return rc;
}

static int local_upload_begin(struct guts_artifact_store *s,
			      struct guts_artifact_upload *up)
{
	struct local *l = local_of(s);
	int is_cache = up->kind == GUTS_UPLOAD_CACHE;
	int rc;

	if (!is_cache) {
		rc = run_id_check(up->run_id);
		if (!rc)
			rc = guts_artifact_name_check("artifact", up->name);
		if (rc < 0)
			return rc;
	} else if (!up->scope || !up->version || !up->key) {
		return guts_error(GUTS_EINVAL,
				  "a cache upload needs a scope, version and "
				  "key");
	}
	rc = guts_artifact_manifest_check(up->files, is_cache);
	if (rc < 0)
		return rc;
	/*
	 * Say early what the record would refuse, before any blob is
	 * written; finalize still decides, as another writer may come first.
	 */
	if (is_cache && local_cache_has(s, up->scope, up->version, up->key))
		return guts_error(GUTS_ECONFLICT,
				  "a cache entry with key '%s' exists already",
				  up->key);
	if (!is_cache && !up->overwrite) {
		char *path = guts_xasprintf("%s/%s/%s.json", l->art_dir,
					    up->run_id, up->name);
		struct stat st;
		int there = lstat(path, &st) == 0;

		free(path);
		if (there)
			return guts_error(GUTS_ECONFLICT,
					  "an artifact named '%s' exists "
					  "already in run %s",
					  up->name, up->run_id);
	}
	return guts_artifact_blobs_missing(l->bs, up->files, &up->missing);
}

static int local_blob_put_as(struct guts_artifact_store *s, int fd,
			     const char *hex, unsigned long long size)
{
	char got[GUTS_SHA256_HEX_LEN + 1];
	unsigned long long n = 0;
	int rc;

	rc = guts_blobstore_put_fd(local_of(s)->bs, fd, got, &n);
	if (rc < 0)
		return rc;
	/*
	 * Content that hashes otherwise went in under its own name, which
	 * nothing references; the collector takes it after the grace.
	 */
	if (strcmp(got, hex) || n != size)
		return guts_error(GUTS_ECONFLICT,
				  "the content changed since it was hashed "
				  "(sha256 %.12s, %llu bytes; now %.12s, %llu "
				  "bytes)",
				  hex, size, got, n);
	return 0;
}

static int local_upload_finalize(struct guts_artifact_store *s,
				 struct guts_artifact_upload *up,
				 char digest[GUTS_SHA256_HEX_LEN + 1])
{
	struct local *l = local_of(s);
	char hex[GUTS_SHA256_HEX_LEN + 1];
	json_t *missing = NULL;
	int rc;

	/* A record must never name a blob the store does not hold. */
	rc = guts_artifact_blobs_missing(l->bs, up->files, &missing);
	if (rc < 0)
		return rc;
	if (json_array_size(missing)) {
		rc = guts_error(GUTS_ECONFLICT,
				"%zu blob%s of the upload %s still missing "
				"(%.12s...)",
				json_array_size(missing),
				json_array_size(missing) == 1 ? "" : "s",
				json_array_size(missing) == 1 ? "is" : "are",
				json_string_value(json_array_get(missing, 0)));
		json_decref(missing);
		return rc;
	}
	json_decref(missing);
	if (up->kind == GUTS_UPLOAD_CACHE) {
		rc = local_cache_put(s, up->scope, up->version, up->key,
				     up->paths, up->files);
		if (!rc && digest)
			guts_artifact_manifest_digest(up->files, digest);
		return rc;
	}
	rc = local_artifact_put(s, up->run_id, up->name, up->files,
				up->retention_days, up->overwrite, hex);
	if (!rc && digest)
		memcpy(digest, hex, sizeof(hex));
	return rc;
}

static void local_free(struct guts_artifact_store *s)
{
	struct local *l = local_of(s);

	pthread_mutex_destroy(&l->gc_lock);
	guts_blobstore_free(l->bs);
	free(l->art_dir);
	free(l->cache_dir);
	free(l);
	free(s);
}

static const struct guts_artifact_store_ops local_ops = {
    .blob_put = local_blob_put,
    .blob_get = local_blob_get,
    .artifact_put = local_artifact_put,
    .artifact_get = local_artifact_get,
    .artifact_list = local_artifact_list,
    .cache_get = local_cache_get,
    .cache_has = local_cache_has,
    .cache_put = local_cache_put,
    .upload_begin = local_upload_begin,
    .blob_put_as = local_blob_put_as,
    .upload_finalize = local_upload_finalize,
    .free = local_free,
};

static unsigned long long cache_max_from_env(void)
{
	const char *s = getenv("GUTS_CACHE_MAX_BYTES");
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-')
		return GUTS_CACHE_DEFAULT_MAX_BYTES;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || !v)
		return GUTS_CACHE_DEFAULT_MAX_BYTES;
	return v;
}

int guts_local_store_open(struct guts_artifact_store **out, const char *dir)
{
	struct guts_artifact_store *s;
	struct local *l;
	int rc;

	if (!dir || !*dir)
		return guts_error(GUTS_EINVAL, "local store: no directory");
	l = guts_xcalloc(1, sizeof(*l));
	l->art_dir = guts_xasprintf("%s/artifacts", dir);
	l->cache_dir = guts_xasprintf("%s/caches", dir);
	l->cache_max = cache_max_from_env();
	l->grace = DEFAULT_GC_GRACE_SECONDS;
	pthread_mutex_init(&l->gc_lock, NULL);
	rc = guts_blobstore_open(&l->bs, dir);
	if (!rc)
		rc = guts_fs_mkdirs(l->art_dir, 0700);
	if (!rc)
		rc = guts_fs_mkdirs(l->cache_dir, 0700);
	s = guts_xcalloc(1, sizeof(*s));
	s->ops = &local_ops;
	s->data = l;
	if (rc < 0) {
		local_free(s);
		return guts_error_wrap(rc, "local store '%s'", dir);
	}
	*out = s;
	return 0;
}

int guts_local_store_set_cache_limit(struct guts_artifact_store *s,
				     unsigned long long max_bytes)
{
	struct local *l = local_of(s);

	if (!l)
		return guts_error(GUTS_EINVAL, "not a local store");
	l->cache_max = max_bytes;
	return 0;
}

int guts_local_store_set_gc_grace(struct guts_artifact_store *s, long seconds)
{
	struct local *l = local_of(s);

	if (!l)
		return guts_error(GUTS_EINVAL, "not a local store");
	l->grace = seconds < 0 ? 0 : seconds;
	return 0;
}

struct guts_blobstore *guts_local_store_blobs(struct guts_artifact_store *s)
{
	struct local *l = local_of(s);

	return l ? l->bs : NULL;
}

/* Mark the manifest blob of the record at @path and every file in it. */
static void mark_record(struct local *l, const char *path, int allow_roots,
			json_t *marks)
{
	json_t *rec = NULL, *files = NULL, *f;
	size_t i;

	if (read_record(&rec, path) < 0)
		return;
	if (json_is_string(json_object_get(rec, "manifest")))
		json_object_set_new(
		    marks, json_string_value(json_object_get(rec, "manifest")),
		    json_true());
	if (load_manifest(l, rec, allow_roots, &files) == 0) {
		json_array_foreach(files, i, f) {
			json_object_set_new(
			    marks,
			    json_string_value(json_object_get(f, "sha256")),
			    json_true());
		}
	}
	json_decref(files);
	json_decref(rec);
}

/* Drop expired artifacts and mark what the live ones reference. */
static void mark_artifacts(struct local *l, json_t *marks)
{
	struct dirent *rd;
	DIR *top = opendir(l->art_dir);

	while (top && (rd = readdir(top))) {
		struct dirent *de;
		char *rdir;
		DIR *d;

		if (rd->d_name[0] == '.')
			continue;
		rdir = guts_xasprintf("%s/%s", l->art_dir, rd->d_name);
		d = opendir(rdir);
		while (d && (de = readdir(d))) {
			json_t *rec = NULL;
			char *path;

			if (de->d_name[0] == '.')
				continue;
			path = guts_xasprintf("%s/%s", rdir, de->d_name);
			if (read_record(&rec, path) == 0 && expired(rec))
				unlink(path);
			else
				mark_record(l, path, 0, marks);
			json_decref(rec);
			free(path);
		}
		if (d)
			closedir(d);
		rmdir(rdir); /* only when it became empty */
		free(rdir);
	}
	if (top)
		closedir(top);
}

struct sweep {
	struct local *l;
	json_t *marks;
	time_t before;
	unsigned long long removed;
};

static int sweep_blob(const char *hex, unsigned long long size, time_t mtime,
		      void *ud)
{
	struct sweep *sw = ud;

	(void)size;
	if (json_object_get(sw->marks, hex) || mtime > sw->before)
		return 0;
	if (guts_blobstore_remove(sw->l->bs, hex) == 0)
		sw->removed++;
	return 0;
}

int guts_local_store_gc(struct guts_artifact_store *s,
			unsigned long long *removed)
{
	struct local *l = local_of(s);
	struct sweep sw;
	struct entry *v;
	size_t nr;
	int rc;

	if (!l)
		return guts_error(GUTS_EINVAL, "not a local store");
	pthread_mutex_lock(&l->gc_lock);
	sw.l = l;
	sw.marks = json_object();
	sw.before = time(NULL) - l->grace;
	sw.removed = 0;
	mark_artifacts(l, sw.marks);
	list_cache_entries(l, &v, &nr);
	for (size_t i = 0; i < nr; i++) {
		mark_record(l, v[i].path, 1, sw.marks);
		free(v[i].path);
	}
	free(v);
	rc = guts_blobstore_foreach(l->bs, sweep_blob, &sw);
	json_decref(sw.marks);
	pthread_mutex_unlock(&l->gc_lock);
	if (rc < 0)
		return rc;
	if (removed)
		*removed = sw.removed;
	return 0;
}
