/*
 * The artifact store of a job on the node: struct guts_artifact_store over
 * the HTTP calls of docs/artifacts.md, with the job token.
 *
 * Blobs stream both ways: a PUT reads the file through libcurl's read
 * callback, a GET writes to the caller's descriptor as the bytes arrive,
 * hashing them, so a blob of any size costs a fixed buffer.  Downloads are
 * verified here (a blob whose bytes do not hash to its name is GUTS_EIO),
 * as the local store verifies its own.
 *
 * A call that fails in transport, or gets a 5xx (or 429), is tried again
 * after a growing delay; a PUT starts over from the file's beginning and a
 * GET truncates what it wrote.  Other error answers map to a guts_err with
 * the node's message.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/artifact_store.h"
#include "guts/blobstore.h"
#include "guts/error.h"
#include "guts/hash.h"
#include "guts/httpc.h"
#include "runner.h"
#include "banned.h"

#define CALL_TIMEOUT_MS 60000L
/* A blob may be large; the node's caps bound it, not a clock. */
#define BLOB_TIMEOUT_MS (6L * 3600 * 1000)
#define DEFAULT_TRIES 4
#define DEFAULT_DELAY_MS 250L
#define PAGE_SIZE 100
#define MAX_PAGES 1000
/* Error bodies read back from a download's descriptor. */
#define ERROR_BODY_MAX (64 * 1024)

struct node_store {
	pthread_mutex_t lock; /* serialises calls: one connection */
	struct guts_http http;
	char *prefix; /* /api/repos/OWNER/NAME */
	char *run_id;
	char *scope;
	int tries;
	long delay_ms;
};

static const struct guts_artifact_store_ops node_ops;

static struct node_store *node_of(struct guts_artifact_store *s)
{
	return s->data;
}

/* One call: a JSON body, or a file streamed up, or a body streamed down. */
struct call {
	const char *method;
	const char *path; /* under the repository's prefix */
	const json_t *body;
	int in_fd; /* >= 0: PUT @in_len bytes of it */
	unsigned long long in_len;
	int out_fd; /* >= 0: a 200 body goes here, hashed */
	long timeout_ms;
	/* Results. */
	long status;
	json_t *answer; /* a JSON answer, or NULL */
	uint8_t digest[GUTS_SHA256_LEN];
	unsigned long long got; /* bytes written to out_fd */
};

struct reader {
	int fd;
	unsigned long long left;
	int err;
};

static size_t read_fd(void *ud, char *buf, size_t len)
{
	struct reader *r = ud;
	ssize_t n;

	if (!r->left)
		return 0;
	if (len > r->left)
		len = (size_t)r->left;
	do
		n = read(r->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		/* Shorter than hashed: the file changed; stop, do not pad. */
		r->err = n < 0 ? errno : EPIPE;
		return GUTS_READ_ABORT;
	}
	r->left -= (unsigned long long)n;
	return (size_t)n;
}

struct writer {
	int fd;
	struct guts_sha256 h;
	unsigned long long n;
	int err;
};

static int write_fd(void *ud, const char *data, size_t len)
{
	struct writer *w = ud;

	guts_sha256_update(&w->h, data, len);
	w->n += len;
	while (len) {
		ssize_t n = write(w->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			w->err = errno;
			return 1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* An error body a download wrote to its descriptor, read back. */
static json_t *error_from_fd(int fd)
{
	char buf[ERROR_BODY_MAX];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);

	if (n <= 0)
		return NULL;
	return json_loadb(buf, (size_t)n, 0, NULL);
}

/* Once: GUTS_EIO for a transport failure, else 0 with c->status. */
static int call_once(struct node_store *n, struct call *c)
{
	struct guts_http_opts o = {0};
	struct guts_http_resp r;
	struct reader rd = {c->in_fd, c->in_len, 0};
	struct writer wr;
	char *text = NULL, *url = guts_xasprintf("%s%s", n->prefix, c->path);
	int rc;

	o.timeout_ms = c->timeout_ms ? c->timeout_ms : CALL_TIMEOUT_MS;
	if (c->body) {
		text = json_dumps(c->body, JSON_COMPACT);
		o.body = text;
		o.body_len = strlen(text);
	} else if (c->in_fd >= 0) {
		if (lseek(c->in_fd, 0, SEEK_SET) < 0) {
			free(url);
			return guts_error_errno("cannot rewind the upload");
		}
		o.on_read = read_fd;
		o.read_ud = &rd;
		o.upload_len = c->in_len;
	}
	if (c->out_fd >= 0) {
		if (ftruncate(c->out_fd, 0) < 0 ||
		    lseek(c->out_fd, 0, SEEK_SET) < 0) {
			free(url);
			return guts_error_errno("cannot rewind the download");
		}
		memset(&wr, 0, sizeof(wr));
		wr.fd = c->out_fd;
		guts_sha256_init(&wr.h);
		o.on_data = write_fd;
		o.ud = &wr;
	}
	guts_http_resp_init(&r);
	rc = guts_http_request(&n->http, c->method, url, &o, &r);
	if (c->out_fd >= 0) {
		guts_sha256_final(&wr.h, c->digest);
		guts_sha256_release(&wr.h);
		c->got = wr.n;
		if (rc < 0 && wr.err)
			rc = guts_error(GUTS_EIO, "cannot write the blob: %s",
					strerror(wr.err));
	}
	if (rc < 0 && rd.err == EPIPE)
		rc = guts_error(GUTS_ECONFLICT,
				"the file is shorter than when it was hashed");
	json_decref(c->answer);
	c->answer = NULL;
	c->status = r.status;
	if (!rc && c->out_fd >= 0 && r.status != 200)
		c->answer = error_from_fd(c->out_fd);
	else if (!rc && r.body.len && r.content_type &&
		 !strncasecmp(r.content_type, "application/json", 16))
		c->answer = json_loadb(r.body.data, r.body.len, 0, NULL);
	guts_http_resp_release(&r);
	free(text);
	free(url);
	return rc;
}

static int status_code(long status)
{
	switch (status) {
	case 401:
	case 403:
		return GUTS_EPERM;
	case 404:
		return GUTS_ENOTFOUND;
	case 409:
		return GUTS_ECONFLICT;
	case 413:
		return GUTS_ETOOBIG;
	default:
		return status >= 500 ? GUTS_EIO : GUTS_EINVAL;
	}
}

/*
 * Make call @c, retrying transport failures and 5xx answers.  0 with
 * c->status and c->answer for any other answer (2xx or not): the caller
 * decides; see answer_error().
 */
static int call(struct node_store *n, struct call *c)
{
	long delay = n->delay_ms;
	int rc = 0;

	for (int i = 0; i < n->tries; i++) {
		if (i) {
			sleep_ms(delay);
			delay *= 2;
		}
		rc = call_once(n, c);
		if (rc == GUTS_EIO)
			continue;
		if (rc < 0)
			return rc;
		if (c->status >= 500 || c->status == 429)
			continue;
		return 0;
	}
	if (rc < 0)
		return guts_error_wrap(rc, "node: %s %s (after %d tries)",
				       c->method, c->path, n->tries);
	return 0; /* the last 5xx: the caller maps it */
}

/* The error of a non-2xx answer: the node's message and the status. */
static int answer_error(struct node_store *n, const struct call *c)
{
	return guts_error(status_code(c->status), "node: %s %s: %s (HTTP %ld)",
			  c->method, c->path,
			  guts_http_error_text(&n->http, c->status, c->answer),
			  c->status);
}

static void call_release(struct call *c)
{
	json_decref(c->answer);
	c->answer = NULL;
}

#define CALL_INIT(m, p)                                               \
	{                                                             \
		.method = (m), .path = (p), .in_fd = -1, .out_fd = -1 \
	}

static int run_id_ok(const char *run_id)
{
	if (!run_id || !*run_id || strlen(run_id) > 20)
		return 0;
	for (const char *c = run_id; *c; c++)
		if (*c < '0' || *c > '9')
			return 0;
	return 1;
}

static int need_run(const char *run_id)
{
	if (!run_id_ok(run_id))
		return guts_error(GUTS_EINVAL,
				  "node store: run id '%.40s' is not a number",
				  run_id ? run_id : "");
	return 0;
}

/* ---- blobs ---------------------------------------------------------- */

static int node_blob_put_as(struct guts_artifact_store *s, int fd,
			    const char *hex, unsigned long long size)
{
	struct node_store *n = node_of(s);
	char *path = guts_xasprintf("/blobs/%s", hex);
	struct call c = CALL_INIT("PUT", path);
	int rc;

	c.in_fd = fd;
	c.in_len = size;
	c.timeout_ms = BLOB_TIMEOUT_MS;
	pthread_mutex_lock(&n->lock);
	rc = call(n, &c);
	pthread_mutex_unlock(&n->lock);
	if (!rc && c.status == 422)
		rc = guts_error(
		    GUTS_ECONFLICT,
		    "node: blob %.12s: %s (the content changed "
		    "since it was hashed?)",
		    hex, guts_http_error_text(&n->http, c.status, c.answer));
	else if (!rc && c.status != 200 && c.status != 201)
		rc = answer_error(n, &c);
	call_release(&c);
	free(path);
	return rc;
}

/* Hash @fd from its start: what blob_put must name before it sends. */
static int hash_from_start(int fd, char hex[GUTS_SHA256_HEX_LEN + 1],
			   unsigned long long *size)
{
	char *buf = guts_xmalloc(256 * 1024);
	uint8_t d[GUTS_SHA256_LEN];
	struct guts_sha256 h;
	unsigned long long total = 0;
	int rc = 0;

	if (lseek(fd, 0, SEEK_SET) < 0) {
		free(buf);
		return guts_error_errno("cannot rewind the blob");
	}
	guts_sha256_init(&h);
	for (;;) {
		ssize_t r = read(fd, buf, 256 * 1024);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = guts_error_errno("cannot read the blob");
			break;
		}
		if (!r)
			break;
		guts_sha256_update(&h, buf, (size_t)r);
		total += (unsigned long long)r;
	}
	guts_sha256_final(&h, d);
	guts_sha256_release(&h);
	free(buf);
	if (rc < 0)
		return rc;
	guts_sha256_hex(hex, d);
	*size = total;
	return 0;
}

static int node_blob_put(struct guts_artifact_store *s, int fd,
			 char hex[GUTS_SHA256_HEX_LEN + 1],
			 unsigned long long *size)
{
	char h[GUTS_SHA256_HEX_LEN + 1];
	unsigned long long n = 0;
	int rc;

	/* The node wants the name first: hash, then stream. */
	rc = hash_from_start(fd, h, &n);
	if (!rc)
		rc = node_blob_put_as(s, fd, h, n);
	if (rc < 0)
		return rc;
	memcpy(hex, h, sizeof(h));
	*size = n;
	return 0;
}

static int node_blob_get(struct guts_artifact_store *s, const char *hex, int fd)
{
	struct node_store *n = node_of(s);
	char *path, got[GUTS_SHA256_HEX_LEN + 1];
	struct call c;
	int rc;

	if (!guts_blobstore_valid_hex(hex))
		return guts_error(GUTS_EINVAL, "'%.80s' is not a blob name",
				  hex ? hex : "");
	path = guts_xasprintf("/blobs/%s", hex);
	c = (struct call)CALL_INIT("GET", path);
	c.out_fd = fd;
	c.timeout_ms = BLOB_TIMEOUT_MS;
	pthread_mutex_lock(&n->lock);
	rc = call(n, &c);
	pthread_mutex_unlock(&n->lock);
	if (!rc && c.status != 200)
		rc = answer_error(n, &c);
	if (!rc) {
		guts_sha256_hex(got, c.digest);
		if (strcmp(got, hex)) {
			if (ftruncate(fd, 0) < 0) {
				/* The caller removes the file anyway. */
			}
			rc = guts_error(GUTS_EIO,
					"node: blob %s is corrupted: its %llu "
					"bytes hash to %s",
					hex, c.got, got);
		}
	}
	call_release(&c);
	free(path);
	return rc;
}

/* ---- uploads -------------------------------------------------------- */

static int node_upload_begin(struct guts_artifact_store *s,
			     struct guts_artifact_upload *up)
{
	struct node_store *n = node_of(s);
	int is_cache = up->kind == GUTS_UPLOAD_CACHE;
	char *path = NULL;
	json_t *body, *u, *missing, *id, *m;
	struct call c;
	size_t i;
	int rc;

	rc = guts_artifact_manifest_check(up->files, is_cache);
	if (rc < 0)
		return rc;
	if (is_cache) {
		if (!up->key || !up->version)
			return guts_error(GUTS_EINVAL,
					  "a cache upload needs a key and "
					  "version");
		path = guts_xstrdup("/caches");
		body = json_pack("{s:s, s:s, s:O, s:O}", "key", up->key,
				 "version", up->version, "paths",
				 up->paths ? up->paths : json_array(), "files",
				 up->files);
	} else {
		rc = need_run(up->run_id);
		if (!rc)
			rc = guts_artifact_name_check("artifact", up->name);
		if (rc < 0)
			return rc;
		path = guts_xasprintf("/runs/%s/artifacts", up->run_id);
		body = json_pack("{s:s, s:O, s:b}", "name", up->name, "files",
				 up->files, "overwrite", up->overwrite);
		if (up->retention_days > 0)
			json_object_set_new(body, "retention_days",
					    json_integer(up->retention_days));
	}
	c = (struct call)CALL_INIT("POST", path);
	c.body = body;
	pthread_mutex_lock(&n->lock);
	rc = call(n, &c);
	pthread_mutex_unlock(&n->lock);
	if (rc < 0)
		goto out;
	if (c.status != 201 && c.status != 200) {
		rc = answer_error(n, &c);
		goto out;
	}
	u = json_object_get(c.answer, "upload");
	id = json_object_get(u, "id");
	missing = json_object_get(u, "missing");
	if (!(json_is_integer(id) || json_is_string(id)) ||
	    !json_is_array(missing)) {
		rc = guts_error(GUTS_EIO,
				"node: POST %s: the answer has no upload id "
				"and missing list",
				path);
		goto out;
	}
	json_array_foreach(missing, i, m) {
		if (!guts_blobstore_valid_hex(json_string_value(m))) {
			rc = guts_error(GUTS_EIO,
					"node: POST %s: a missing blob is not "
					"a sha256",
					path);
			goto out;
		}
	}
	up->id = json_is_integer(id)
		     ? guts_xasprintf("%lld", (long long)json_integer_value(id))
		     : guts_http_escape(json_string_value(id));
	up->missing = json_incref(missing);
out:
	call_release(&c);
	json_decref(body);
	free(path);
	return rc;
}

static int node_upload_finalize(struct guts_artifact_store *s,
				struct guts_artifact_upload *up,
				char digest[GUTS_SHA256_HEX_LEN + 1])
{
	struct node_store *n = node_of(s);
	char *path;
	const char *hash;
	struct call c;
	int rc;

	if (!up->id)
		return guts_error(GUTS_EINVAL, "finalize before begin");
	path = guts_xasprintf("/uploads/%s/finalize", up->id);
	c = (struct call)CALL_INIT("POST", path);
	c.body = json_object();
	pthread_mutex_lock(&n->lock);
	rc = call(n, &c);
	pthread_mutex_unlock(&n->lock);
	json_decref((json_t *)c.body);
	if (!rc && c.status != 201 && c.status != 200)
		rc = answer_error(n, &c);
	if (!rc && digest) {
		hash = json_string_value(
		    json_object_get(c.answer, "content_hash"));
		if (guts_blobstore_valid_hex(hash))
			memcpy(digest, hash, GUTS_SHA256_HEX_LEN + 1);
		else
			guts_artifact_manifest_digest(up->files, digest);
	}
	call_release(&c);
	free(path);
	return rc;
}

/* begin, and finalize when the node has every blob already. */
static int put_entry(struct guts_artifact_store *s,
		     struct guts_artifact_upload *up,
		     char digest[GUTS_SHA256_HEX_LEN + 1])
{
	int rc = guts_artifact_store_upload_begin(s, up);

	if (!rc && json_array_size(up->missing))
		rc = guts_error(GUTS_ECONFLICT,
				"node: %zu blob%s of the entry %s missing; "
				"put them first",
				json_array_size(up->missing),
				json_array_size(up->missing) == 1 ? "" : "s",
				json_array_size(up->missing) == 1 ? "is"
								  : "are");
	if (!rc)
		rc = node_upload_finalize(s, up, digest);
	guts_artifact_upload_release(up);
	return rc;
}

static int node_artifact_put(struct guts_artifact_store *s, const char *run_id,
			     const char *name, const json_t *files,
			     int retention_days, int overwrite,
			     char digest[GUTS_SHA256_HEX_LEN + 1])
{
	struct guts_artifact_upload up = {0};

	up.kind = GUTS_UPLOAD_ARTIFACT;
	up.files = files;
	up.run_id = run_id;
	up.name = name;
	up.retention_days = retention_days;
	up.overwrite = overwrite;
	return put_entry(s, &up, digest);
}

static int node_cache_put(struct guts_artifact_store *s, const char *scope,
			  const char *version, const char *key,
			  const json_t *paths, const json_t *files)
{
	struct guts_artifact_upload up = {0};

	up.kind = GUTS_UPLOAD_CACHE;
	up.files = files;
	up.scope = scope;
	up.version = version;
	up.key = key;
	up.paths = paths;
	return put_entry(s, &up, NULL);
}

/* ---- reading -------------------------------------------------------- */

/* The items of a list answer: an array, or {"artifacts": [...]}. */
static json_t *list_items(json_t *answer)
{
	if (json_is_array(answer))
		return answer;
	return json_object_get(answer, "artifacts");
}

/*
 * The run's live artifacts, newest last: an object from name to id (a
 * name uploaded again with overwrite maps to the newest id).
 */
static int list_run(struct node_store *n, const char *run_id, json_t **out)
{
	json_t *byname = json_object();
	int rc = 0;

	for (int page = 1; page <= MAX_PAGES; page++) {
		char *path = guts_xasprintf("/runs/%s/artifacts?per_page=%d&"
					    "page=%d",
					    run_id, PAGE_SIZE, page);
		struct call c = CALL_INIT("GET", path);
		json_t *items, *a;
		size_t i, nr;

		rc = call(n, &c);
		if (!rc && c.status != 200)
			rc = answer_error(n, &c);
		items = rc ? NULL : list_items(c.answer);
		if (!rc && !json_is_array(items))
			rc = guts_error(GUTS_EIO,
					"node: GET %s: not a list of "
					"artifacts",
					path);
		nr = json_array_size(items);
		json_array_foreach(items, i, a) {
			const char *name =
			    json_string_value(json_object_get(a, "name"));
			json_t *id = json_object_get(a, "id");
			json_t *had = name ? json_object_get(byname, name) : 0;

			if (!name || !json_is_integer(id) ||
			    json_is_true(json_object_get(a, "expired")))
				continue;
			if (!had ||
			    json_integer_value(had) < json_integer_value(id))
				json_object_set(byname, name, id);
		}
		call_release(&c);
		free(path);
		if (rc < 0 || nr < PAGE_SIZE)
			break;
	}
	if (rc < 0) {
		json_decref(byname);
		return rc;
	}
	*out = byname;
	return 0;
}

static int node_artifact_get(struct guts_artifact_store *s, const char *run_id,
			     const char *name, json_t **files)
{
	struct node_store *n = node_of(s);
	json_t *byname = NULL, *id, *f;
	char *path = NULL;
	struct call c = CALL_INIT("GET", NULL);
	int rc;

	rc = need_run(run_id);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&n->lock);
	rc = list_run(n, run_id, &byname);
	if (rc < 0)
		goto out;
	id = json_object_get(byname, name);
	if (!id) {
		rc = guts_error(GUTS_ENOTFOUND,
				"no artifact named '%s' in run %s", name,
				run_id);
		goto out;
	}
	path = guts_xasprintf("/artifacts/%lld",
			      (long long)json_integer_value(id));
	c.path = path;
	rc = call(n, &c);
	if (!rc && c.status != 200)
		rc = answer_error(n, &c);
	if (rc < 0)
		goto out;
	f = json_object_get(c.answer, "files");
	/* What comes back is untrusted, as from any store. */
	rc = guts_artifact_manifest_check(f, 0);
	if (rc < 0) {
		rc = guts_error_wrap(rc, "node: artifact '%s'", name);
		goto out;
	}
	*files = json_incref(f);
out:
	pthread_mutex_unlock(&n->lock);
	call_release(&c);
	json_decref(byname);
	free(path);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int node_artifact_list(struct guts_artifact_store *s, const char *run_id,
			      json_t **names)
{
	struct node_store *n = node_of(s);
	json_t *byname = NULL, *v, *out;
	const char **sorted;
	const char *k;
	size_t nr = 0;
	int rc;

	rc = need_run(run_id);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&n->lock);
	rc = list_run(n, run_id, &byname);
	pthread_mutex_unlock(&n->lock);
	if (rc < 0)
		return rc;
	sorted = guts_xcalloc(json_object_size(byname) + 1, sizeof(*sorted));
	json_object_foreach(byname, k, v) {
		sorted[nr++] = k;
	}
	qsort(sorted, nr, sizeof(*sorted), cmp_str);
	out = json_array();
	for (size_t i = 0; i < nr; i++)
		json_array_append_new(out, json_string(sorted[i]));
	free(sorted);
	json_decref(byname);
	*names = out;
	return 0;
}

/* POST caches/lookup; 0 with the answer, GUTS_ENOTFOUND on a miss. */
static int lookup(struct node_store *n, const char *version, const char *key,
		  const char *const *prefixes, size_t nr, json_t **answer)
{
	json_t *body = json_pack("{s:s, s:s}", "key", key, "version", version);
	struct call c = CALL_INIT("POST", "/caches/lookup");
	int rc;

	if (nr) {
		json_t *rk = json_array();

		for (size_t i = 0; i < nr; i++)
			json_array_append_new(rk, json_string(prefixes[i]));
		json_object_set_new(body, "restore_keys", rk);
	}
	c.body = body;
	pthread_mutex_lock(&n->lock);
	rc = call(n, &c);
	pthread_mutex_unlock(&n->lock);
	json_decref(body);
	if (!rc && c.status == 404)
		rc = guts_error(GUTS_ENOTFOUND, "no cache entry matches '%s'",
				key);
	else if (!rc && c.status != 200)
		rc = answer_error(n, &c);
	if (!rc) {
		*answer = c.answer;
		c.answer = NULL;
	}
	call_release(&c);
	return rc;
}

static int node_cache_get(struct guts_artifact_store *s, const char *scope,
			  const char *version, const char *key,
			  const char *const *prefixes, size_t nr,
			  char **matched, json_t **files)
{
	struct node_store *n = node_of(s);
	json_t *a = NULL, *f;
	const char *k;
	int rc;

	/* The node falls back to the default branch itself. */
	if (!scope || !n->scope || strcmp(scope, n->scope))
		return guts_error(GUTS_ENOTFOUND,
				  "the node looks up the job's scope only");
	rc = lookup(n, version, key, prefixes, nr, &a);
	if (rc < 0)
		return rc;
	k = json_string_value(json_object_get(a, "key"));
	f = json_object_get(a, "files");
	if (!k) {
		rc = guts_error(GUTS_EIO, "node: a cache answer without a key");
		goto out;
	}
	rc = guts_artifact_manifest_check(f, 1);
	if (rc < 0) {
		rc = guts_error_wrap(rc, "node: cache '%s'", k);
		goto out;
	}
	*matched = guts_xstrdup(k);
	*files = json_incref(f);
out:
	json_decref(a);
	return rc;
}

static int node_cache_has(struct guts_artifact_store *s, const char *scope,
			  const char *version, const char *key)
{
	struct node_store *n = node_of(s);
	json_t *a = NULL;
	int has;

	(void)scope;
	if (lookup(n, version, key, NULL, 0, &a) < 0)
		return 0; /* a miss, or a save that will say what is wrong */
	has = !strcmp(json_string_value(json_object_get(a, "key"))
			  ? json_string_value(json_object_get(a, "key"))
			  : "",
		      key);
	json_decref(a);
	return has;
}

static void node_free(struct guts_artifact_store *s)
{
	struct node_store *n = node_of(s);

	guts_http_release(&n->http);
	pthread_mutex_destroy(&n->lock);
	free(n->prefix);
	free(n->run_id);
	free(n->scope);
	free(n);
	free(s);
}

static const struct guts_artifact_store_ops node_ops = {
    .blob_put = node_blob_put,
    .blob_get = node_blob_get,
    .artifact_put = node_artifact_put,
    .artifact_get = node_artifact_get,
    .artifact_list = node_artifact_list,
    .cache_get = node_cache_get,
    .cache_has = node_cache_has,
    .cache_put = node_cache_put,
    .upload_begin = node_upload_begin,
    .blob_put_as = node_blob_put_as,
    .upload_finalize = node_upload_finalize,
    .free = node_free,
};

int runner_store_node_open(struct guts_artifact_store **out, const char *url,
			   const char *job_token, const char *repo,
			   const char *run_id, const char *scope)
{
	const char *slash = repo ? strchr(repo, '/') : NULL;
	struct guts_artifact_store *s;
	struct node_store *n;
	char *owner;
	int ok, rc;

	if (!url || !job_token || !*job_token)
		return guts_error(GUTS_EINVAL, "node store: no URL or job "
					       "token");
	if (!slash)
		return guts_error(GUTS_EINVAL,
				  "node store: no repository in the lease");
	owner = guts_xstrndup(repo, (size_t)(slash - repo));
	ok = runner_name_ok(owner) && runner_name_ok(slash + 1);
	free(owner);
	if (!ok)
		return guts_error(GUTS_EINVAL,
				  "node store: bad repository name '%.200s'",
				  repo);
	rc = need_run(run_id);
	if (rc < 0)
		return rc;
	n = guts_xcalloc(1, sizeof(*n));
	rc = guts_http_init(&n->http, url, job_token);
	if (rc < 0) {
		free(n);
		return rc;
	}
	pthread_mutex_init(&n->lock, NULL);
	n->prefix = guts_xasprintf("/api/repos/%s", repo);
	n->run_id = guts_xstrdup(run_id);
	n->scope = scope ? guts_xstrdup(scope) : NULL;
	n->tries = DEFAULT_TRIES;
	n->delay_ms = DEFAULT_DELAY_MS;
	s = guts_xcalloc(1, sizeof(*s));
	s->ops = &node_ops;
	s->data = n;
	*out = s;
	return 0;
}

void runner_store_node_set_retry(struct guts_artifact_store *s, int tries,
				 long first_delay_ms)
{
	struct node_store *n;

	if (!s || s->ops != &node_ops)
		return;
	n = node_of(s);
	n->tries = tries < 1 ? 1 : tries;
	n->delay_ms = first_delay_ms < 0 ? 0 : first_delay_ms;
}
