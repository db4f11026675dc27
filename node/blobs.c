/*
 * Blobs over HTTP and artifact downloads (docs/artifacts.md).
 *
 * PUT streams the body into the blob store as it arrives (route->open
 * and route->write in http.h): hashed with OpenSSL EVP and written in one
 * pass, so a large upload costs one write and one hash, never a copy in
 * memory.  Content whose hash is not the name in the path is refused.
 *
 * Downloads are verified before the first byte goes out: a corrupted blob
 * is a 500 naming it.  A zip or tar.gz is then built on the fly by
 * libarchive, pulled by MHD piece by piece (each file is hashed again as
 * it streams; a blob that changed since is a broken connection, never
 * bytes passed on as good ones).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "artifacts.h"
#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/hash.h"
#include "banned.h"

#define DL_READ (256u * 1024)

/* ---- PUT ------------------------------------------------------------ */

struct put_state {
	int ok; /* the caller may write this blob */
	int64_t repo_id;
	struct guts_blob_writer *w;
	char *err; /* why a write failed */
};

static void put_state_free(void *p)
{
	struct put_state *ps = p;

	if (!ps)
		return;
	guts_blob_writer_free(ps->w);
	free(ps->err);
	free(ps);
}

void api_blobs_put_open(struct http_req *r)
{
	struct artifacts *a = r->node->arts;
	struct put_state *ps = guts_xcalloc(1, sizeof(*ps));
	const char *hex = r->params[2];
	json_t *repo = NULL;

	r->state = ps;
	r->state_free = put_state_free;
	if (!artifacts_repo(r, 1, 1, &repo))
		return;
	if (!guts_blobstore_valid_hex(hex)) {
		http_error(r, "bad_request",
			   "'%.80s' is not a SHA-256 blob name (64 lower-case "
			   "hex digits)",
			   hex);
	} else if (!artifacts_blob_referenced(r->node, api_int(repo, "id"), hex,
					      "upload")) {
		http_error(r, "unprocessable",
			   "blob %s is not part of a pending upload of %s/%s; "
			   "send the manifest first",
			   hex, r->params[0], r->params[1]);
	} else {
		ps->ok = 1;
		ps->repo_id = api_int(repo, "id");
		r->body_cap = a->max_file;
		r->cap_msg = guts_xasprintf("the blob is over the per-file cap "
					    "of %llu bytes "
					    "(GUTS_ARTIFACT_MAX_FILE)",
					    a->max_file);
	}
	json_decref(repo);
}

int api_blobs_put_write(struct http_req *r, const char *data, size_t len)
{
	struct put_state *ps = r->state;
	int rc = 0;

	if (!ps || !ps->ok)
		return 0;
	if (!ps->w)
		rc = guts_blob_writer_new(r->node->arts->bs, &ps->w);
	if (!rc)
		rc = guts_blob_writer_write(ps->w, data, len);
	if (rc < 0 && !ps->err)
		ps->err = guts_xstrdup(guts_error_message());
	return rc;
}

void api_blobs_put(struct http_req *r)
{
	struct put_state *ps = r->state;
	char hex[GUTS_SHA256_HEX_LEN + 1];
	unsigned long long size;
	int existed = 0, rc;

	if (!ps || !ps->ok) {
		http_error(r, "internal", "the upload was not prepared");
		return;
	}
	if (r->sink_err) {
		nlog(LOG_ERROR, "PUT %s: %s", r->path, ps->err ? ps->err : "?");
		http_error(r, "internal", "cannot store blob %s: %s",
			   r->params[2], ps->err ? ps->err : "write failed");
		return;
	}
	if (!ps->w) { /* an empty body */
		rc = guts_blob_writer_new(r->node->arts->bs, &ps->w);
		if (rc < 0) {
			http_fail(r, rc);
			return;
		}
	}
	size = guts_blob_writer_size(ps->w);
	rc = guts_blob_writer_commit(ps->w, r->params[2], hex, &existed);
	ps->w = NULL;
	if (rc == GUTS_EINVAL) {
		http_error(r, "unprocessable", "blob %s: %s", r->params[2],
			   guts_error_message());
		return;
	}
	/* The repository sent these bytes: it has proved it holds them. */
	if (rc == 0)
		rc =
		    store_exec(r->node->st,
			       "UPDATE blob_refs SET proven = 1 WHERE sha256 = "
			       "$1 AND repo_id = $2 AND owner_kind = 'upload'",
			       STORE_ARGS(SS(hex), SI(ps->repo_id)), NULL);
	if (rc < 0) {
		http_fail(r, rc);
		return;
	}
	http_json(
	    r, existed ? 200 : 201,
	    json_pack("{s:s, s:I}", "sha256", hex, "size", (json_int_t)size));
}

/* ---- GET ------------------------------------------------------------ */

/* Answer with blob @hex's content, verified first. */
static void send_blob(struct http_req *r, const char *hex, const char *what,
		      const char *filename)
{
	struct artifacts *a = r->node->arts;
	struct MHD_Response *resp;
	unsigned long long size = 0;
	int fd = -1, rc;

	rc = guts_blobstore_verify(a->bs, hex);
	if (rc == 0)
		rc = guts_blobstore_open_blob(a->bs, hex, &fd, &size);
	if (rc == GUTS_ENOTFOUND) {
		nlog(LOG_ERROR, "%s: blob %s is missing from the store", what,
		     hex);
		http_error(r, "internal",
			   "%s: blob %s is missing from the store", what, hex);
		return;
	}
	if (rc < 0) {
		nlog(LOG_ERROR, "%s: %s", what, guts_error_message());
		http_error(r, "internal", "%s: %s", what, guts_error_message());
		return;
	}
	resp = MHD_create_response_from_fd64(size, fd);
	if (!resp) {
		close(fd);
		http_error(r, "internal", "cannot answer with blob %s", hex);
		return;
	}
	MHD_add_response_header(resp, "Content-Type",
				"application/octet-stream");
	MHD_add_response_header(resp, "X-Guts-Sha256", hex);
	if (filename) {
		char *cd =
		    guts_xasprintf("attachment; filename=\"%s\"", filename);

		MHD_add_response_header(resp, "Content-Disposition", cd);
		free(cd);
	}
	http_respond(r, 200, resp);
}

void api_blobs_get(struct http_req *r)
{
	const char *hex = r->params[2];
	json_t *repo = NULL;

	if (!artifacts_repo(r, 0, 0, &repo))
		return;
	if (!guts_blobstore_valid_hex(hex))
		http_error(r, "bad_request",
			   "'%.80s' is not a SHA-256 blob name", hex);
	/* Caches are not for anonymous readers (see cache_reader()):
	 * without a token only artifacts' blobs are readable. */
	else if (!artifacts_blob_referenced(
		     r->node, api_int(repo, "id"), hex,
		     !r->who.user_id && !r->who.job_id ? "artifact" : NULL))
		/* The same answer whether or not another repository has it. */
		http_error(r, "not_found", "blob %s not found in %s/%s", hex,
			   r->params[0], r->params[1]);
	else
		send_blob(r, hex, "blob", NULL);
	json_decref(repo);
}

/* ---- archives built on the fly ---------------------------------------- */

struct dl {
	struct artifacts *a;
	json_t *files;
	size_t idx;
	int fd;
	struct guts_sha256 h;
	struct archive *ar;
	struct guts_buf out; /* what libarchive wrote, not yet sent */
	size_t off;
	int finished;
	char *rbuf;
	time_t mtime;
	char *what;
};

static la_ssize_t dl_write(struct archive *ar, void *ud, const void *buf,
			   size_t len)
{
	struct dl *d = ud;

	(void)ar;
	if (guts_buf_add(&d->out, buf, len) < 0)
		return -1;
	return (la_ssize_t)len;
}

static void dl_free(void *cls)
{
	struct dl *d = cls;

	if (d->fd >= 0) {
		close(d->fd);
		guts_sha256_release(&d->h);
	}
	archive_write_free(d->ar);
	guts_buf_release(&d->out);
	json_decref(d->files);
	free(d->rbuf);
	free(d->what);
	free(d);
}

/* One step of the archive: a header, a piece of a file, or the end. */
static int dl_step(struct dl *d)
{
	json_t *f;

	if (d->fd < 0) {
		struct archive_entry *e;
		int rc;

		if (d->idx == json_array_size(d->files)) {
			if (archive_write_close(d->ar) != ARCHIVE_OK)
				goto fail_ar;
			d->finished = 1;
			return 0;
		}
		f = json_array_get(d->files, d->idx);
		if (guts_blobstore_open_blob(d->a->bs, api_str(f, "sha256"),
					     &d->fd, NULL) < 0) {
			nlog(LOG_ERROR, "%s: %s", d->what,
			     guts_error_message());
			d->fd = -1;
			return -1;
		}
		guts_sha256_init(&d->h);
		e = archive_entry_new();
		archive_entry_set_pathname(e, api_str(f, "path"));
		archive_entry_set_size(e, api_int(f, "size"));
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, (mode_t)api_int(f, "mode"));
		archive_entry_set_mtime(e, d->mtime, 0);
		rc = archive_write_header(d->ar, e);
		archive_entry_free(e);
		if (rc != ARCHIVE_OK)
			goto fail_ar;
		return 0;
	}
	f = json_array_get(d->files, d->idx);
	for (;;) {
		ssize_t n = read(d->fd, d->rbuf, DL_READ);
		uint8_t digest[GUTS_SHA256_LEN];
		char hex[GUTS_SHA256_HEX_LEN + 1];

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			nlog(LOG_ERROR, "%s: cannot read blob %s: %s", d->what,
			     api_str(f, "sha256"), strerror(errno));
			return -1;
		}
		if (n > 0) {
			guts_sha256_update(&d->h, d->rbuf, (size_t)n);
			if (archive_write_data(d->ar, d->rbuf, (size_t)n) != n)
				goto fail_ar;
			return 0;
		}
		guts_sha256_final(&d->h, digest);
		close(d->fd);
		d->fd = -1;
		guts_sha256_hex(hex, digest);
		if (strcmp(hex, api_str(f, "sha256"))) {
			nlog(LOG_ERROR,
			     "%s: blob %s (file '%s') changed while it was "
			     "sent: it hashes to %s; the download is cut",
			     d->what, api_str(f, "sha256"), api_str(f, "path"),
			     hex);
			return -1;
		}
		if (archive_write_finish_entry(d->ar) != ARCHIVE_OK)
			goto fail_ar;
		d->idx++;
		return 0;
	}
fail_ar:
	nlog(LOG_ERROR, "%s: libarchive: %s", d->what,
	     archive_error_string(d->ar));
	return -1;
}

static ssize_t dl_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct dl *d = cls;
	size_t n;

	(void)pos;
	while (d->off == d->out.len) {
		if (d->finished)
			return MHD_CONTENT_READER_END_OF_STREAM;
		guts_buf_reset(&d->out);
		d->off = 0;
		if (dl_step(d) < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	n = d->out.len - d->off;
	if (n > max)
		n = max;
	memcpy(buf, d->out.data + d->off, n);
	d->off += n;
	return (ssize_t)n;
}

/*
 * Verify every distinct blob of @files; answers 500 naming the first
 * corrupted or missing one and returns 0.
 */
static int verify_all(struct http_req *r, const json_t *files, const char *what)
{
	struct artifacts *a = r->node->arts;
	json_t *seen = json_object(), *f;
	size_t i;
	int ok = 1;

	json_array_foreach(files, i, f) {
		const char *hex = api_str(f, "sha256");
		int rc;

		if (json_object_get(seen, hex))
			continue;
		json_object_set_new(seen, hex, json_true());
		rc = guts_blobstore_verify(a->bs, hex);
		if (rc < 0) {
			nlog(LOG_ERROR, "%s: file '%s': %s", what,
			     api_str(f, "path"), guts_error_message());
			http_error(r, "internal", "%s: file '%s': %s", what,
				   api_str(f, "path"), guts_error_message());
			ok = 0;
			break;
		}
	}
	json_decref(seen);
	return ok;
}

static void send_archive(struct http_req *r, const json_t *row, json_t *files,
			 int targz)
{
	struct dl *d = guts_xcalloc(1, sizeof(*d));
	struct MHD_Response *resp;
	char *cd;
	int rc;

	d->a = r->node->arts;
	d->files = json_incref(files);
	d->fd = -1;
	d->rbuf = guts_xmalloc(DL_READ);
	d->mtime = (time_t)(api_int(row, "created_at") / 1000);
	d->what =
	    guts_xasprintf("artifact %lld", (long long)api_int(row, "id"));
	guts_buf_init(&d->out, 0);
	d->ar = archive_write_new();
	if (targz) {
		rc = archive_write_set_format_pax_restricted(d->ar);
		if (rc == ARCHIVE_OK)
			rc = archive_write_add_filter_gzip(d->ar);
		/* Fast, as for zip: most of the cost is elsewhere. */
		if (rc == ARCHIVE_OK)
			archive_write_set_filter_option(
			    d->ar, "gzip", "compression-level", "1");
	} else {
		rc = archive_write_set_format_zip(d->ar);
		/* Fast deflate: an artifact download is usually on a LAN. */
		if (rc == ARCHIVE_OK)
			archive_write_set_format_option(
			    d->ar, "zip", "compression-level", "1");
	}
	if (rc == ARCHIVE_OK)
		rc = archive_write_set_bytes_per_block(d->ar, 0);
	if (rc == ARCHIVE_OK)
		rc = archive_write_open2(d->ar, d, NULL, dl_write, NULL, NULL);
	if (rc != ARCHIVE_OK) {
		http_error(r, "internal", "libarchive: %s",
			   archive_error_string(d->ar));
		dl_free(d);
		return;
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, DL_READ,
						 dl_read, d, dl_free);
	if (!resp) {
		dl_free(d);
		http_error(r, "internal", "cannot start the archive");
		return;
	}
	MHD_add_response_header(resp, "Content-Type",
				targz ? "application/gzip" : "application/zip");
	cd = guts_xasprintf("attachment; filename=\"%s.%s\"",
			    api_str(row, "name"), targz ? "tar.gz" : "zip");
	MHD_add_response_header(resp, "Content-Disposition", cd);
	free(cd);
	MHD_add_response_header(resp, "X-Guts-Content-Hash",
				api_str(row, "content_hash"));
	http_respond(r, 200, resp);
}

void api_artifacts_download(struct http_req *r)
{
	const char *path = http_query(r, "path"),
		   *format = http_query(r, "format");
	json_t *repo = NULL, *row = NULL, *files = NULL, *f;
	char *what = NULL;
	size_t i;

	if (!artifacts_repo(r, 0, 0, &repo) ||
	    !artifacts_find(r, repo, r->params[2], &row))
		goto out;
	if (api_int(row, "expires_at") <= store_now_ms()) {
		http_error(r, "not_found", "artifact %s has expired",
			   r->params[2]);
		goto out;
	}
	if (format && strcmp(format, "zip") && strcmp(format, "tar.gz")) {
		http_error(r, "bad_request",
			   "format '%.40s': expected zip or tar.gz", format);
		goto out;
	}
	files = json_loads(api_str(row, "manifest"), 0, NULL);
	if (!files) {
		http_error(r, "internal", "artifact %s has a bad manifest",
			   r->params[2]);
		goto out;
	}
	what = guts_xasprintf("artifact %s ('%s')", r->params[2],
			      api_str(row, "name"));
	if (path) {
		json_array_foreach(files, i, f) {
			if (!strcmp(api_str(f, "path"), path)) {
				const char *slash = strrchr(path, '/');

				send_blob(r, api_str(f, "sha256"), what,
					  slash ? slash + 1 : path);
				goto out;
			}
		}
		http_error(r, "not_found", "artifact %s has no file '%.300s'",
			   r->params[2], path);
		goto out;
	}
	if (verify_all(r, files, what))
		send_archive(r, row, files,
			     format && !strcmp(format, "tar.gz"));
out:
	free(what);
	json_decref(files);
	json_decref(row);
	json_decref(repo);
}
