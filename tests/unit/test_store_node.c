/*
 * Manifest-first uploads: the built-ins against the local store (through a
 * wrapper that counts what is put) and against the runner's node-backed
 * store (runner/store_node.c), which talks to a small fake node served by
 * libmicrohttpd in this process.  The fake follows docs/artifacts.md: it
 * answers the blobs it lacks, takes blobs whose content hashes to their
 * name, and refuses to finalize while one is missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/artifact_store.h"
#include "guts/buf.h"
#include "guts/builtin.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/hash.h"
#include "guts/httpc.h"
#include "runner.h"

/* ---- helpers --------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		chmod(path, 0700);
	return remove(path);
}

static void write_at(const char *dir, const char *rel, const char *text,
		     mode_t mode)
{
	char *path = guts_xasprintf("%s/%s", dir, rel);
	char *parent = guts_xstrdup(path);

	*strrchr(parent, '/') = '\0';
	assert_int_equal(guts_fs_mkdirs(parent, 0755), 0);
	assert_int_equal(guts_fs_write_atomic(path, text, strlen(text), mode),
			 0);
	assert_int_equal(chmod(path, mode), 0);
	free(parent);
	free(path);
}

static char *read_at(const char *dir, const char *rel, mode_t *mode)
{
	char *path = guts_xasprintf("%s/%s", dir, rel), *text = NULL;
	struct stat st;
	size_t len;

	if (guts_fs_read_all(&text, &len, path, 1 << 26) < 0)
		fail_msg("%s: %s", path, guts_error_message());
	assert_int_equal(stat(path, &st), 0);
	if (mode)
		*mode = st.st_mode & 0777;
	free(path);
	return text;
}

static void hex_of(const void *data, size_t len,
		   char hex[GUTS_SHA256_HEX_LEN + 1])
{
	uint8_t d[GUTS_SHA256_LEN];

	guts_sha256_buf(d, data, len);
	guts_sha256_hex(hex, d);
}

/* ---- a store that counts what is put into another ------------------- */

struct counting {
	struct guts_artifact_store *inner;
	size_t puts;
	unsigned long long bytes;
	size_t begins;
};

static struct counting *counting_of(struct guts_artifact_store *s)
{
	return s->data;
}

static int c_blob_put(struct guts_artifact_store *s, int fd,
		      char hex[GUTS_SHA256_HEX_LEN + 1],
		      unsigned long long *size)
{
	counting_of(s)->puts++;
	return guts_artifact_store_blob_put(counting_of(s)->inner, fd, hex,
					    size);
}

static int c_blob_get(struct guts_artifact_store *s, const char *hex, int fd)
{
	return guts_artifact_store_blob_get(counting_of(s)->inner, hex, fd);
}

static int c_artifact_put(struct guts_artifact_store *s, const char *run_id,
			  const char *name, const json_t *files, int days,
			  int overwrite, char digest[GUTS_SHA256_HEX_LEN + 1])
{
	return guts_artifact_store_artifact_put(counting_of(s)->inner, run_id,
						name, files, days, overwrite,
						digest);
}

static int c_artifact_get(struct guts_artifact_store *s, const char *run_id,
			  const char *name, json_t **files)
{
	return guts_artifact_store_artifact_get(counting_of(s)->inner, run_id,
						name, files);
}

static int c_artifact_list(struct guts_artifact_store *s, const char *run_id,
			   json_t **names)
{
	return guts_artifact_store_artifact_list(counting_of(s)->inner, run_id,
						 names);
}

static int c_cache_get(struct guts_artifact_store *s, const char *scope,
		       const char *version, const char *key,
		       const char *const *prefixes, size_t nr, char **matched,
		       json_t **files)
{
	return guts_artifact_store_cache_get(counting_of(s)->inner, scope,
					     version, key, prefixes, nr,
					     matched, files);
}

static int c_cache_has(struct guts_artifact_store *s, const char *scope,
		       const char *version, const char *key)
{
	return guts_artifact_store_cache_has(counting_of(s)->inner, scope,
					     version, key);
}

static int c_cache_put(struct guts_artifact_store *s, const char *scope,
		       const char *version, const char *key,
		       const json_t *paths, const json_t *files)
{
	return guts_artifact_store_cache_put(counting_of(s)->inner, scope,
					     version, key, paths, files);
}

static int c_upload_begin(struct guts_artifact_store *s,
			  struct guts_artifact_upload *up)
{
	counting_of(s)->begins++;
	return guts_artifact_store_upload_begin(counting_of(s)->inner, up);
}

static int c_blob_put_as(struct guts_artifact_store *s, int fd, const char *hex,
			 unsigned long long size)
{
	counting_of(s)->puts++;
	counting_of(s)->bytes += size;
	return guts_artifact_store_blob_put_as(counting_of(s)->inner, fd, hex,
					       size);
}

static int c_upload_finalize(struct guts_artifact_store *s,
			     struct guts_artifact_upload *up,
			     char digest[GUTS_SHA256_HEX_LEN + 1])
{
	return guts_artifact_store_upload_finalize(counting_of(s)->inner, up,
						   digest);
}

static void c_free(struct guts_artifact_store *s)
{
	guts_artifact_store_free(counting_of(s)->inner);
	free(s->data);
	free(s);
}

static const struct guts_artifact_store_ops counting_ops = {
    .blob_put = c_blob_put,
    .blob_get = c_blob_get,
    .artifact_put = c_artifact_put,
    .artifact_get = c_artifact_get,
    .artifact_list = c_artifact_list,
    .cache_get = c_cache_get,
    .cache_has = c_cache_has,
    .cache_put = c_cache_put,
    .upload_begin = c_upload_begin,
    .blob_put_as = c_blob_put_as,
    .upload_finalize = c_upload_finalize,
    .free = c_free,
};

/* ---- the environment of a built-in ---------------------------------- */

struct env {
	char *root, *ws, *home, *store_dir;
	struct guts_artifact_store *store;
	struct guts_builtin_ctx ctx;
	struct guts_buf log;
};

static void record_log(void *ud, const char *line)
{
	guts_buf_adds(ud, line);
	guts_buf_addch(ud, '\n');
}

static struct env *env_new(void)
{
	struct env *e = guts_xcalloc(1, sizeof(*e));

	e->root = guts_xstrdup("/tmp/guts-store-node-XXXXXX");
	assert_non_null(mkdtemp(e->root));
	e->ws = guts_xasprintf("%s/ws", e->root);
	e->home = guts_xasprintf("%s/home", e->root);
	e->store_dir = guts_xasprintf("%s/store", e->root);
	assert_int_equal(guts_fs_mkdirs(e->ws, 0755), 0);
	assert_int_equal(guts_fs_mkdirs(e->home, 0755), 0);
	guts_buf_init(&e->log, 0);
	e->ctx.workspace = e->ws;
	e->ctx.home = e->home;
	e->ctx.run_id = "7";
	e->ctx.cache_scope = "o/r@refs/heads/main";
	e->ctx.log = record_log;
	e->ctx.log_ud = &e->log;
	return e;
}

static void env_counting_local(struct env *e, struct counting **c)
{
	struct guts_artifact_store *s = guts_xcalloc(1, sizeof(*s));

	*c = guts_xcalloc(1, sizeof(**c));
	assert_int_equal(guts_local_store_open(&(*c)->inner, e->store_dir), 0);
	s->ops = &counting_ops;
	s->data = *c;
	e->store = s;
	e->ctx.store = s;
}

static void env_free(struct env *e)
{
	guts_artifact_store_free(e->store);
	nftw(e->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(e->root);
	free(e->ws);
	free(e->home);
	free(e->store_dir);
	guts_buf_release(&e->log);
	free(e);
}

static int run_builtin(struct env *e, const char *name, const char *with_json,
		       json_t *outputs)
{
	json_t *with = json_loads(with_json, 0, NULL);
	int rc;

	assert_non_null(with);
	rc = guts_builtin_run(name, with, &e->ctx, outputs, NULL);
	json_decref(with);
	return rc;
}

/* ---- manifest first with the local store ----------------------------- */

static void test_upload__puts_only_the_blobs_the_store_lacks(void **state)
{
	struct env *e = env_new();
	struct counting *c;
	char *text;
	mode_t mode;

	(void)state;
	env_counting_local(e, &c);
	write_at(e->ws, "out/a.txt", "same", 0644);
	write_at(e->ws, "out/b.txt", "same", 0755); /* identical content */
	write_at(e->ws, "out/sub/c.txt", "other", 0600);
	assert_int_equal(run_builtin(e, "upload-artifact",
				     "{\"name\":\"one\",\"path\":\"out\"}",
				     NULL),
			 0);
	assert_int_equal(c->begins, 1);
	assert_int_equal(c->puts, 2); /* "same" once, "other" once */
	assert_int_equal(c->bytes, 4 + 5);

	/* Another artifact of the same files: nothing is put. */
	c->puts = 0;
	c->bytes = 0;
	assert_int_equal(run_builtin(e, "upload-artifact",
				     "{\"name\":\"two\",\"path\":\"out\"}",
				     NULL),
			 0);
	assert_int_equal(c->puts, 0);
	assert_int_equal(c->bytes, 0);
	assert_non_null(strstr(e->log.data, "0 blobs (0 bytes) sent"));

	/* Both download, byte-identical and with their modes. */
	assert_int_equal(
	    run_builtin(e, "download-artifact", "{\"path\":\"dl\"}", NULL), 0);
	text = read_at(e->ws, "dl/two/b.txt", &mode);
	assert_string_equal(text, "same");
	assert_int_equal(mode, 0755);
	free(text);
	text = read_at(e->ws, "dl/one/sub/c.txt", &mode);
	assert_string_equal(text, "other");
	assert_int_equal(mode, 0600);
	free(text);
	env_free(e);
}

static void test_upload__local_begin_answers_missing_once_each(void **state)
{
	struct env *e = env_new();
	struct guts_artifact_upload up = {0};
	char ha[GUTS_SHA256_HEX_LEN + 1], hb[GUTS_SHA256_HEX_LEN + 1];
	char digest[GUTS_SHA256_HEX_LEN + 1];
	json_t *files;

	(void)state;
	assert_int_equal(guts_local_store_open(&e->store, e->store_dir), 0);
	hex_of("a", 1, ha);
	hex_of("b", 1, hb);
	files = json_pack("[{s:s,s:i,s:i,s:s},{s:s,s:i,s:i,s:s},"
			  "{s:s,s:i,s:i,s:s}]",
			  "path", "1", "mode", 0644, "size", 1, "sha256", ha,
			  "path", "2", "mode", 0644, "size", 1, "sha256", hb,
			  "path", "3", "mode", 0644, "size", 1, "sha256", ha);
	up.kind = GUTS_UPLOAD_ARTIFACT;
	up.files = files;
	up.run_id = "7";
	up.name = "x";
	assert_int_equal(guts_artifact_store_upload_begin(e->store, &up), 0);
	assert_int_equal(json_array_size(up.missing), 2);
	assert_string_equal(json_string_value(json_array_get(up.missing, 0)),
			    ha);
	/* Finalizing with a blob missing is refused. */
	assert_int_equal(
	    guts_artifact_store_upload_finalize(e->store, &up, digest),
	    GUTS_ECONFLICT);
	/* Content that is not what was hashed is refused. */
	write_at(e->ws, "a", "a", 0644);
	write_at(e->ws, "b", "b", 0644);
	{
		char *pa = guts_xasprintf("%s/a", e->ws);
		char *pb = guts_xasprintf("%s/b", e->ws);
		int fa = open(pa, O_RDONLY | O_CLOEXEC);
		int fb = open(pb, O_RDONLY | O_CLOEXEC);

		assert_int_equal(
		    guts_artifact_store_blob_put_as(e->store, fb, ha, 1),
		    GUTS_ECONFLICT);
		assert_int_equal(lseek(fb, 0, SEEK_SET), 0);
		assert_int_equal(
		    guts_artifact_store_blob_put_as(e->store, fa, ha, 1), 0);
		assert_int_equal(
		    guts_artifact_store_blob_put_as(e->store, fb, hb, 1), 0);
		close(fa);
		close(fb);
		free(pa);
		free(pb);
	}
	assert_int_equal(
	    guts_artifact_store_upload_finalize(e->store, &up, digest), 0);
	guts_artifact_upload_release(&up);
	/* Now nothing is missing. */
	assert_int_equal(
	    guts_artifact_blobs_missing(guts_local_store_blobs(e->store), files,
					&up.missing),
	    0);
	assert_int_equal(json_array_size(up.missing), 0);
	guts_artifact_upload_release(&up);
	json_decref(files);
	env_free(e);
}

/* ---- a fake node ------------------------------------------------------ */

struct fake {
	struct MHD_Daemon *d;
	char url[64];
	json_t *blobs;	 /* hex -> content (string; tests use text) */
	json_t *uploads; /* id -> {kind, name, run, files, key, version} */
	json_t *arts;	 /* array of {id, name, run_id, files, content_hash} */
	json_t *caches;	 /* array of {key, version, files} */
	int next_id;
	int fail_503;	  /* answer this many requests with 503 first */
	int refuse_posts; /* answer POST .../artifacts with 422 */
	int corrupt;	  /* GET blobs answers other bytes */
	size_t requests, puts;
	unsigned long long put_bytes;
	char auth[128];
	char last_create[4096];
};

struct conn {
	struct guts_buf body;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
			     const char *type, const void *data, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    len, (void *)data, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status,
				  json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT);
	enum MHD_Result ret =
	    reply(c, status, "application/json", text, strlen(text));

	free(text);
	json_decref(v);
	return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status,
				   const char *code, const char *msg)
{
	return reply_json(
	    c, status,
	    json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

static json_t *missing_of(struct fake *f, const json_t *files)
{
	json_t *out = json_array(), *seen = json_object(), *x;
	size_t i;

	json_array_foreach(files, i, x) {
		const char *h = json_string_value(json_object_get(x, "sha256"));

		if (!h || json_object_get(seen, h) ||
		    json_object_get(f->blobs, h))
			continue;
		json_object_set_new(seen, h, json_true());
		json_array_append_new(out, json_string(h));
	}
	json_decref(seen);
	return out;
}

static enum MHD_Result route(struct fake *f, struct MHD_Connection *c,
			     const char *method, const char *path,
			     struct guts_buf *body, const json_t *in)
{
	const char *prefix = "/api/repos/o/r";
	json_t *v;
	char id[32];
	unsigned run;
	size_t i;

	if (strncmp(path, prefix, strlen(prefix)))
		return reply_error(c, 404, "not_found", "no such repository");
	path += strlen(prefix);

	if (!strcmp(method, "POST") &&
	    sscanf(path, "/runs/%u/artifacts", &run) == 1) {
		json_t *files = json_object_get(in, "files");

		snprintf(f->last_create, sizeof(f->last_create), "%.*s",
			 (int)body->len, body->data);
		if (f->refuse_posts)
			return reply_error(c, 422, "invalid",
					   "artifact too big for the cap");
		snprintf(id, sizeof(id), "%d", ++f->next_id);
		json_object_set_new(f->uploads, id,
				    json_pack("{s:s, s:O, s:i, s:O}", "kind",
					      "artifact", "name",
					      json_object_get(in, "name"),
					      "run", (int)run, "files", files));
		return reply_json(c, 201,
				  json_pack("{s:{s:i,s:o}}", "upload", "id",
					    f->next_id, "missing",
					    missing_of(f, files)));
	}
	if (!strcmp(method, "POST") && !strcmp(path, "/caches")) {
		json_t *files = json_object_get(in, "files");

		json_array_foreach(f->caches, i, v) {
			if (json_equal(json_object_get(v, "key"),
				       json_object_get(in, "key")))
				return reply_error(c, 409, "conflict",
						   "the key exists");
		}
		snprintf(id, sizeof(id), "%d", ++f->next_id);
		json_object_set_new(
		    f->uploads, id,
		    json_pack("{s:s, s:O, s:O, s:O}", "kind", "cache", "key",
			      json_object_get(in, "key"), "version",
			      json_object_get(in, "version"), "files", files));
		return reply_json(c, 201,
				  json_pack("{s:{s:s,s:o}}", "upload", "id", id,
					    "missing", missing_of(f, files)));
	}
	if (!strcmp(method, "PUT") && !strncmp(path, "/blobs/", 7)) {
		char hex[GUTS_SHA256_HEX_LEN + 1];

		hex_of(body->data ? body->data : "", body->len, hex);
		if (strcmp(hex, path + 7))
			return reply_error(c, 422, "invalid",
					   "the content does not hash to the "
					   "name");
		f->puts++;
		f->put_bytes += body->len;
		json_object_set_new(
		    f->blobs, hex,
		    json_stringn(body->data ? body->data : "", body->len));
		return reply_json(c, 201,
				  json_pack("{s:s,s:I}", "sha256", hex, "size",
					    (json_int_t)body->len));
	}
	if (!strcmp(method, "GET") && !strncmp(path, "/blobs/", 7)) {
		json_t *b = json_object_get(f->blobs, path + 7);

		if (!b)
			return reply_error(c, 404, "not_found", "no blob");
		if (f->corrupt)
			return reply(c, 200, "application/octet-stream", "X",
				     1);
		return reply(c, 200, "application/octet-stream",
			     json_string_value(b), json_string_length(b));
	}
	if (!strcmp(method, "POST") && !strncmp(path, "/uploads/", 9)) {
		json_t *up, *missing;

		snprintf(id, sizeof(id), "%.*s", (int)(strcspn(path + 9, "/")),
			 path + 9);
		up = json_object_get(f->uploads, id);
		if (!up)
			return reply_error(c, 404, "not_found", "no upload");
		missing = missing_of(f, json_object_get(up, "files"));
		if (json_array_size(missing)) {
			json_decref(missing);
			return reply_error(c, 409, "conflict",
					   "blobs are missing");
		}
		json_decref(missing);
		if (!strcmp(json_string_value(json_object_get(up, "kind")),
			    "cache")) {
			json_array_append(f->caches, up);
			return reply_json(c, 201, json_incref(up));
		}
		v = json_pack("{s:i, s:O, s:O, s:O, s:s, s:b}", "id",
			      ++f->next_id, "name", json_object_get(up, "name"),
			      "run_id", json_object_get(up, "run"), "files",
			      json_object_get(up, "files"), "content_hash",
			      "0000000000000000000000000000000000000000000000"
			      "000000000000000000",
			      "expired", 0);
		json_array_append(f->arts, v);
		return reply_json(c, 201, v);
	}
	if (!strcmp(method, "GET") &&
	    sscanf(path, "/runs/%u/artifacts", &run) == 1) {
		json_t *list = json_array();

		json_array_foreach(f->arts, i, v) {
			if (json_integer_value(json_object_get(v, "run_id")) ==
			    run)
				json_array_append_new(
				    list,
				    json_pack("{s:O,s:O}", "id",
					      json_object_get(v, "id"), "name",
					      json_object_get(v, "name")));
		}
		return reply_json(c, 200,
				  json_pack("{s:o}", "artifacts", list));
	}
	if (!strcmp(method, "GET") && !strncmp(path, "/artifacts/", 11)) {
		json_array_foreach(f->arts, i, v) {
			if (json_integer_value(json_object_get(v, "id")) ==
			    atoi(path + 11))
				return reply_json(c, 200, json_incref(v));
		}
		return reply_error(c, 404, "not_found", "no artifact");
	}
	if (!strcmp(method, "POST") && !strcmp(path, "/caches/lookup")) {
		const char *key = json_string_value(json_object_get(in, "key"));
		json_t *rk = json_object_get(in, "restore_keys"), *p;
		size_t j;

		json_array_foreach(f->caches, i, v) {
			if (!strcmp(
				json_string_value(json_object_get(v, "key")),
				key))
				return reply_json(c, 200, json_incref(v));
		}
		json_array_foreach(rk, j, p) {
			/* Newest first: the array is oldest first. */
			for (i = json_array_size(f->caches); i-- > 0;) {
				v = json_array_get(f->caches, i);
				if (!strncmp(json_string_value(
						 json_object_get(v, "key")),
					     json_string_value(p),
					     json_string_length(p)))
					return reply_json(c, 200,
							  json_incref(v));
			}
		}
		return reply_error(c, 404, "not_found", "no cache");
	}
	return reply_error(c, 404, "not_found", "no route");
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c,
				 const char *url, const char *method,
				 const char *version, const char *data,
				 size_t *size, void **con_cls)
{
	struct fake *f = cls;
	struct conn *cn = *con_cls;
	const char *auth;
	enum MHD_Result ret;
	json_t *in;

	(void)version;
	if (!cn) {
		cn = guts_xcalloc(1, sizeof(*cn));
		guts_buf_init(&cn->body, 0);
		*con_cls = cn;
		return MHD_YES;
	}
	if (*size) {
		guts_buf_add(&cn->body, data, *size);
		*size = 0;
		return MHD_YES;
	}
	f->requests++;
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	snprintf(f->auth, sizeof(f->auth), "%s", auth ? auth : "");
	if (f->fail_503 > 0) {
		f->fail_503--;
		return reply_error(c, 503, "unavailable", "try again");
	}
	in = cn->body.len ? json_loadb(cn->body.data, cn->body.len, 0, NULL)
			  : NULL;
	ret = route(f, c, method, url, &cn->body, in);
	json_decref(in);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cn) {
		guts_buf_release(&cn->body);
		free(cn);
	}
	*con_cls = NULL;
}

static struct fake *fake_start(void)
{
	struct fake *f = guts_xcalloc(1, sizeof(*f));
	const union MHD_DaemonInfo *info;

	f->blobs = json_object();
	f->uploads = json_object();
	f->arts = json_array();
	f->caches = json_array();
	f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
				on_access, f, MHD_OPTION_NOTIFY_COMPLETED,
				on_done, f, MHD_OPTION_END);
	assert_non_null(f->d);
	info = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u",
		 (unsigned)info->port);
	return f;
}

static void fake_stop(struct fake *f)
{
	MHD_stop_daemon(f->d);
	json_decref(f->blobs);
	json_decref(f->uploads);
	json_decref(f->arts);
	json_decref(f->caches);
	free(f);
}

static void env_node(struct env *e, struct fake *f)
{
	assert_int_equal(runner_store_node_open(&e->store, f->url, "gjt_test",
						"o/r", "7", e->ctx.cache_scope),
			 0);
	runner_store_node_set_retry(e->store, 3, 1);
	e->ctx.store = e->store;
}

/* ---- the node-backed store ------------------------------------------- */

static void test_node__upload_then_download_meet_on_the_node(void **state)
{
	struct fake *f = fake_start();
	struct env *a = env_new(), *b = env_new();
	json_t *create;
	char *text;
	mode_t mode;

	(void)state;
	env_node(a, f);
	env_node(b, f);
	write_at(a->ws, "dist/app.bin", "binary", 0755);
	write_at(a->ws, "dist/copy.bin", "binary", 0644);
	write_at(a->ws, "dist/docs/readme", "hello", 0600);
	write_at(a->ws, "dist/skip.log", "no", 0644);
	assert_int_equal(run_builtin(a, "upload-artifact",
				     "{\"name\":\"dist\",\"path\":\"dist\\n"
				     "!dist/*.log\",\"retention-days\":\"3\"}",
				     NULL),
			 0);
	assert_string_equal(f->auth, "Bearer gjt_test");
	/* The manifest went first, with the inputs, and two blobs after. */
	create = json_loads(f->last_create, 0, NULL);
	assert_non_null(create);
	assert_string_equal(json_string_value(json_object_get(create, "name")),
			    "dist");
	assert_int_equal(
	    json_integer_value(json_object_get(create, "retention_days")), 3);
	assert_int_equal(json_array_size(json_object_get(create, "files")), 3);
	json_decref(create);
	assert_int_equal(f->puts, 2);
	assert_int_equal(f->put_bytes, 6 + 5);

	/* Another job, another store: downloads it byte for byte. */
	assert_int_equal(
	    run_builtin(b, "download-artifact", "{\"name\":\"dist\"}", NULL),
	    0);
	text = read_at(b->ws, "app.bin", &mode);
	assert_string_equal(text, "binary");
	assert_int_equal(mode, 0755);
	free(text);
	text = read_at(b->ws, "docs/readme", &mode);
	assert_string_equal(text, "hello");
	assert_int_equal(mode, 0600);
	free(text);

	/* A re-run sends no blob. */
	f->puts = 0;
	f->put_bytes = 0;
	assert_int_equal(run_builtin(a, "upload-artifact",
				     "{\"name\":\"again\",\"path\":\"dist\"}",
				     NULL),
			 0);
	assert_int_equal(f->puts, 1); /* only skip.log is new */
	f->puts = 0;
	assert_int_equal(run_builtin(a, "upload-artifact",
				     "{\"name\":\"third\",\"path\":\"dist\"}",
				     NULL),
			 0);
	assert_int_equal(f->puts, 0);
	assert_int_equal(f->put_bytes, 2);

	/* No name: every artifact of the run, one directory each. */
	assert_int_equal(run_builtin(b, "download-artifact",
				     "{\"path\":\"all\",\"pattern\":\"th*\"}",
				     NULL),
			 0);
	text = read_at(b->ws, "all/third/skip.log", NULL);
	assert_string_equal(text, "no");
	free(text);
	env_free(a);
	env_free(b);
	fake_stop(f);
}

static void test_node__a_corrupted_blob_is_an_error(void **state)
{
	struct fake *f = fake_start();
	struct env *e = env_new();

	(void)state;
	env_node(e, f);
	write_at(e->ws, "f.txt", "content", 0644);
	assert_int_equal(run_builtin(e, "upload-artifact",
				     "{\"name\":\"x\",\"path\":\"f.txt\"}",
				     NULL),
			 0);
	f->corrupt = 1;
	assert_int_equal(run_builtin(e, "download-artifact",
				     "{\"name\":\"x\",\"path\":\"dl\"}", NULL),
			 GUTS_EIO);
	assert_non_null(strstr(guts_error_message(), "corrupted"));
	env_free(e);
	fake_stop(f);
}

static void test_node__retries_5xx_and_reports_4xx_messages(void **state)
{
	struct fake *f = fake_start();
	struct env *e = env_new();
	json_t *names = NULL;
	char hex[GUTS_SHA256_HEX_LEN + 1];
	unsigned long long size;
	char *path;
	int fd;

	(void)state;
	env_node(e, f);
	/* Two 503s, then the answer: the third try is heard. */
	f->fail_503 = 2;
	assert_int_equal(
	    guts_artifact_store_artifact_list(e->store, "7", &names), 0);
	assert_int_equal(json_array_size(names), 0);
	assert_int_equal(f->requests, 3);
	json_decref(names);
	/* More 503s than tries: an I/O error. */
	f->fail_503 = 5;
	assert_int_equal(
	    guts_artifact_store_artifact_list(e->store, "7", &names), GUTS_EIO);
	f->fail_503 = 0;
	/* A 4xx is not retried and carries the node's words. */
	f->refuse_posts = 1;
	f->requests = 0;
	write_at(e->ws, "f.txt", "x", 0644);
	assert_int_equal(run_builtin(e, "upload-artifact",
				     "{\"name\":\"x\",\"path\":\"f.txt\"}",
				     NULL),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "too big for the cap"));
	assert_int_equal(f->requests, 2); /* the existence check, the POST */
	/* blob_put names the blob itself (hash, then stream). */
	path = guts_xasprintf("%s/f.txt", e->ws);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(guts_artifact_store_blob_put(e->store, fd, hex, &size),
			 0);
	close(fd);
	free(path);
	assert_int_equal(size, 1);
	assert_non_null(json_object_get(f->blobs, hex));
	env_free(e);
	fake_stop(f);
}

static void test_node__streams_a_large_blob_both_ways(void **state)
{
	struct fake *f = fake_start();
	struct env *e = env_new();
	size_t n = 8u << 20;
	char *big = guts_xmalloc(n + 1), hex[GUTS_SHA256_HEX_LEN + 1];
	char *path = guts_xasprintf("%s/big", e->root), *back = NULL;
	size_t len;
	int fd;

	(void)state;
	env_node(e, f);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	hex_of(big, n, hex);
	assert_int_equal(guts_fs_write_atomic(path, big, n, 0644), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(guts_artifact_store_blob_put_as(e->store, fd, hex, n),
			 0);
	close(fd);
	assert_int_equal(f->put_bytes, n);
	/* A size that is not the file's: refused, nothing stored. */
	json_object_clear(f->blobs);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(
	    guts_artifact_store_blob_put_as(e->store, fd, hex, n - 1),
	    GUTS_ECONFLICT);
	assert_int_equal(
	    guts_artifact_store_blob_put_as(e->store, fd, hex, n + 1),
	    GUTS_ECONFLICT);
	assert_int_equal(guts_artifact_store_blob_put_as(e->store, fd, hex, n),
			 0);
	close(fd);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_int_equal(guts_artifact_store_blob_get(e->store, hex, fd), 0);
	close(fd);
	assert_int_equal(guts_fs_read_all(&back, &len, path, n + 1), 0);
	assert_int_equal(len, n);
	assert_memory_equal(back, big, n);
	free(back);
	free(big);
	free(path);
	env_free(e);
	fake_stop(f);
}

static void test_node__cache_misses_saves_then_hits(void **state)
{
	struct fake *f = fake_start();
	struct env *e = env_new();
	const char *with = "{\"key\":\"deps-2\",\"path\":\"deps\","
			   "\"restore-keys\":\"deps-\"}";
	json_t *w = json_loads(with, 0, NULL), *st = NULL, *out = json_object();
	char *text;

	(void)state;
	env_node(e, f);
	write_at(e->ws, "deps/lib.a", "lib", 0644);
	assert_int_equal(guts_builtin_run("cache", w, &e->ctx, out, &st), 0);
	assert_string_equal(
	    json_string_value(json_object_get(out, "cache-hit")), "false");
	assert_int_equal(guts_builtin_post("cache", w, &e->ctx, st, 1), 0);
	assert_int_equal(json_array_size(f->caches), 1);
	assert_int_equal(f->puts, 1);
	/* The next run restores it. */
	assert_int_equal(guts_remove_tree(e->ws), 0);
	assert_int_equal(guts_fs_mkdirs(e->ws, 0755), 0);
	json_decref(st);
	st = NULL;
	json_object_clear(out);
	assert_int_equal(guts_builtin_run("cache", w, &e->ctx, out, &st), 0);
	assert_string_equal(
	    json_string_value(json_object_get(out, "cache-hit")), "true");
	text = read_at(e->ws, "deps/lib.a", NULL);
	assert_string_equal(text, "lib");
	free(text);
	json_decref(st);
	json_decref(out);
	json_decref(w);
	env_free(e);
	fake_stop(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_upload__puts_only_the_blobs_the_store_lacks),
	    cmocka_unit_test(
		test_upload__local_begin_answers_missing_once_each),
	    cmocka_unit_test(test_node__upload_then_download_meet_on_the_node),
	    cmocka_unit_test(test_node__a_corrupted_blob_is_an_error),
	    cmocka_unit_test(test_node__retries_5xx_and_reports_4xx_messages),
	    cmocka_unit_test(test_node__streams_a_large_blob_both_ways),
	    cmocka_unit_test(test_node__cache_misses_saves_then_hits),
	};

	guts_http_global_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
