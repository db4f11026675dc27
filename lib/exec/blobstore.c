/* The content-addressed blob store (see guts/blobstore.h). */
#include "guts/blobstore.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "banned.h"

/* Temporary files older than this were left by a crash. */
#define STALE_TMP_SECONDS (24 * 60 * 60)

struct guts_blobstore {
	char *sha_dir; /* <dir>/blobs/sha256 */
	char *tmp_dir; /* <dir>/blobs/tmp */
};

static void remove_stale_tmp(const char *tmp_dir)
{
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d = opendir(tmp_dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			0 &&
		    now - st.st_mtime > STALE_TMP_SECONDS)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

int guts_blobstore_open(struct guts_blobstore **out, const char *dir)
{
	struct guts_blobstore *bs;
	int rc;

	if (!dir || !*dir)
		return guts_error(GUTS_EINVAL, "blob store: no directory");
	bs = guts_xcalloc(1, sizeof(*bs));
	bs->sha_dir = guts_xasprintf("%s/blobs/sha256", dir);
	bs->tmp_dir = guts_xasprintf("%s/blobs/tmp", dir);
	rc = guts_fs_mkdirs(bs->sha_dir, 0700);
	if (!rc)
		rc = guts_fs_mkdirs(bs->tmp_dir, 0700);
	if (rc < 0) {
		guts_blobstore_free(bs);
		return rc;
	}
	remove_stale_tmp(bs->tmp_dir);
	*out = bs;
	return 0;
}

void guts_blobstore_free(struct guts_blobstore *bs)
{
	if (!bs)
		return;
	free(bs->sha_dir);
	free(bs->tmp_dir);
	free(bs);
}

int guts_blobstore_valid_hex(const char *hex)
{
	size_t i;

	if (!hex)
		return 0;
	for (i = 0; i < GUTS_SHA256_HEX_LEN; i++) {
		char c = hex[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return hex[i] == '\0';
}

static char *blob_path(const struct guts_blobstore *bs, const char *hex)
{
	return guts_xasprintf("%s/%.2s/%s", bs->sha_dir, hex, hex + 2);
}

static int check_hex(const char *hex)
{
	if (!guts_blobstore_valid_hex(hex))
		return guts_error(GUTS_EINVAL,
				  "'%.80s' is not a SHA-256 blob name",
				  hex ? hex : "(null)");
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Move the finished temporary file @tmp into place as blob @hex. */
static int commit_blob(struct guts_blobstore *bs, const char *tmp,
		       const char *hex, unsigned long long size)
{
	char *path = blob_path(bs, hex);
	char *fan = guts_xasprintf("%s/%.2s", bs->sha_dir, hex);
	struct stat st;
	int rc = 0;

	if (mkdir(fan, 0700) < 0 && errno != EEXIST) {
		rc = guts_error_errno("cannot create directory '%s'", fan);
		goto out;
	}
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (unsigned long long)st.st_size == size) {
		/*
		 * Stored already.  Refresh its time so that a collector
		 * running now sees it as young and spares it.
		 */
		unlink(tmp);
		utimensat(AT_FDCWD, path, NULL, 0);
		goto out;
	}
	/* Missing, or damaged (wrong size): the new copy takes its place. */
	if (rename(tmp, path) < 0) {
		rc = guts_error_errno("cannot rename into '%s'", path);
		unlink(tmp);
	} else {
		/* The rename itself must survive a power loss before anyone
		 * records the blob as stored. */
		int dfd = open(fan, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd < 0 || fsync(dfd) < 0)
			rc =
			    guts_error_errno("cannot sync directory '%s'", fan);
		if (dfd >= 0)
			close(dfd);
	}
out:
	free(fan);
	free(path);
	return rc;
}

int guts_blobstore_put_fd(struct guts_blobstore *bs, int fd,
			  char hex[GUTS_SHA256_HEX_LEN + 1],
			  unsigned long long *size)
{
	char *tmp = guts_xasprintf("%s/put-XXXXXX", bs->tmp_dir);
	unsigned long long total = 0;
	uint8_t digest[GUTS_SHA256_LEN];
	char name[GUTS_SHA256_HEX_LEN + 1];
	struct guts_sha256 h;
	char *buf = guts_xmalloc(65536);
	int tfd, rc = 0;

	tfd = mkostemp(tmp, O_CLOEXEC);
	if (tfd < 0) {
		rc = guts_error_errno("cannot create a file in '%s'",
				      bs->tmp_dir);
		goto out;
	}
	guts_sha256_init(&h);
	for (;;) {
		ssize_t n = read(fd, buf, 65536);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = guts_error_errno("read failed");
			break;
		}
		if (!n)
			break;
		guts_sha256_update(&h, buf, (size_t)n);
		if (write_all(tfd, buf, (size_t)n) < 0) {
			rc = guts_error_errno("cannot write '%s'", tmp);
			break;
		}
		total += (unsigned long long)n;
	}
	if (rc < 0) {
		guts_sha256_release(&h);
		close(tfd);
		unlink(tmp);
		goto out;
	}
	guts_sha256_final(&h, digest);
	guts_sha256_hex(name, digest);
	if (fsync(tfd) < 0) {
		rc = guts_error_errno("cannot fsync '%s'", tmp);
		close(tfd);
		unlink(tmp);
		goto out;
	}
	if (close(tfd) < 0) {
		rc = guts_error_errno("cannot close '%s'", tmp);
		unlink(tmp);
		goto out;
	}
	rc = commit_blob(bs, tmp, name, total);
	if (rc < 0)
		goto out;
	memcpy(hex, name, sizeof(name));
	if (size)
		*size = total;
out:
	free(buf);
	free(tmp);
	return rc;
}

/* ---- piece by piece ------------------------------------------------ */

#define WRITER_BUF (1u << 20)

/* Start the kernel's writeback every WRITEBACK_STEP bytes, and wait for
 * the window before the last, so that dirty pages stay bounded and the
 * final fsync has little left to do: the disk works while the body is
 * still arriving. */
#define WRITEBACK_STEP (8ull << 20)

/*
 * The caller's thread copies and hashes; a second thread writes.  Full
 * buffers go to it one at a time (two buffers: one filling, one being
 * written), so receiving and hashing overlap with the disk.  The thread
 * starts with the first full buffer; a small blob never starts one.
 */
struct guts_blob_writer {
	struct guts_blobstore *bs;
	char *tmp;
	int fd;
	struct guts_sha256 h;
	char *buf[2];
	int cur;    /* the buffer being filled */
	size_t len; /* bytes in it */
	unsigned long long total;
	/* Bytes written to the file, and how far writeback was started
	 * (the writer thread's). */
	unsigned long long written, flushed;
	pthread_t thread;
	int started, stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const char *pending; /* a full buffer for the thread, or NULL */
	size_t pending_len;
	int err; /* errno of a failed write */
};

static int write_out(struct guts_blob_writer *w, const char *data, size_t len)
{
	if (write_all(w->fd, data, len) < 0)
		return errno ? errno : EIO;
	w->written += len;
#ifdef SYNC_FILE_RANGE_WRITE
	if (w->written - w->flushed >= WRITEBACK_STEP) {
		/* Advisory: errors show up at the final fsync anyway. */
		(void)sync_file_range(w->fd, (off_t)w->flushed,
				      (off_t)(w->written - w->flushed),
				      SYNC_FILE_RANGE_WRITE);
		if (w->flushed >= WRITEBACK_STEP)
			(void)sync_file_range(
			    w->fd, (off_t)(w->flushed - WRITEBACK_STEP),
			    (off_t)WRITEBACK_STEP,
			    SYNC_FILE_RANGE_WAIT_BEFORE |
				SYNC_FILE_RANGE_WRITE |
				SYNC_FILE_RANGE_WAIT_AFTER);
		w->flushed = w->written;
	}
#endif
	return 0;
}

static void *writer_main(void *arg)
{
	struct guts_blob_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		const char *data;
		size_t len;
		int err;

		while (!w->pending && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->pending)
			break;
		data = w->pending;
		len = w->pending_len;
		pthread_mutex_unlock(&w->lock);
		err = w->err ? 0 : write_out(w, data, len);
		pthread_mutex_lock(&w->lock);
		if (err && !w->err)
			w->err = err;
		w->pending = NULL;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Wait until the thread has no buffer of ours; its error, as a guts_err. */
static int writer_wait(struct guts_blob_writer *w)
{
	int err;

	if (!w->started)
		return 0;
	pthread_mutex_lock(&w->lock);
	while (w->pending)
		pthread_cond_wait(&w->cond, &w->lock);
	err = w->err;
	pthread_mutex_unlock(&w->lock);
	if (err) {
		errno = err;
		return guts_error_errno("cannot write '%s'", w->tmp);
	}
	return 0;
}

static void writer_stop(struct guts_blob_writer *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->started = 0;
}

int guts_blob_writer_new(struct guts_blobstore *bs,
			 struct guts_blob_writer **out)
{
	struct guts_blob_writer *w = guts_xcalloc(1, sizeof(*w));

	w->bs = bs;
	w->tmp = guts_xasprintf("%s/put-XXXXXX", bs->tmp_dir);
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		int rc = guts_error_errno("cannot create a file in '%s'",
					  bs->tmp_dir);

		free(w->tmp);
		free(w);
		return rc;
	}
	w->buf[0] = guts_xmalloc(WRITER_BUF);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	guts_sha256_init(&w->h);
	*out = w;
	return 0;
}

/* Hash the filled buffer and hand it to the writer thread (@last: the
 * final, possibly short one, written here when no thread runs). */
static int writer_flush(struct guts_blob_writer *w, int last)
{
	int rc;

	if (!w->len)
		return writer_wait(w);
	guts_sha256_update(&w->h, w->buf[w->cur], w->len);
	if (last && !w->started) {
		int err = write_out(w, w->buf[w->cur], w->len);

		w->len = 0;
		if (err) {
			errno = err;
			return guts_error_errno("cannot write '%s'", w->tmp);
		}
		return 0;
	}
	rc = writer_wait(w);
	if (rc < 0)
		return rc;
	if (!w->started) {
		w->buf[1] = guts_xmalloc(WRITER_BUF);
		if (pthread_create(&w->thread, NULL, writer_main, w)) {
			int err = write_out(w, w->buf[w->cur], w->len);

			w->len = 0;
			if (err) {
				errno = err;
				return guts_error_errno("cannot write '%s'",
							w->tmp);
			}
			return 0;
		}
		w->started = 1;
	}
	pthread_mutex_lock(&w->lock);
	w->pending = w->buf[w->cur];
	w->pending_len = w->len;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	w->cur ^= 1;
	w->len = 0;
	return last ? writer_wait(w) : 0;
}

int guts_blob_writer_write(struct guts_blob_writer *w, const void *data,
			   size_t len)
{
	const char *p = data;

	while (len) {
		size_t n = WRITER_BUF - w->len;
		int rc;

		if (n > len)
			n = len;
		memcpy(w->buf[w->cur] + w->len, p, n);
		w->len += n;
		w->total += n;
		p += n;
		len -= n;
		if (w->len == WRITER_BUF) {
			rc = writer_flush(w, 0);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

unsigned long long guts_blob_writer_size(const struct guts_blob_writer *w)
{
	return w->total;
}

void guts_blob_writer_free(struct guts_blob_writer *w)
{
	if (!w)
		return;
	writer_stop(w);
	if (w->fd >= 0) {
		close(w->fd);
		unlink(w->tmp);
	}
	if (w->h.ctx)
		guts_sha256_release(&w->h);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->buf[0]);
	free(w->buf[1]);
	free(w->tmp);
	free(w);
}

int guts_blob_writer_commit(struct guts_blob_writer *w, const char *expect,
			    char hex[GUTS_SHA256_HEX_LEN + 1], int *existed)
{
	uint8_t digest[GUTS_SHA256_LEN];
	char name[GUTS_SHA256_HEX_LEN + 1];
	int rc, had;

	rc = writer_flush(w, 1);
	writer_stop(w);
	if (rc < 0)
		goto out;
	guts_sha256_final(&w->h, digest);
	guts_sha256_hex(name, digest);
	if (expect && strcmp(expect, name)) {
		rc = guts_error(GUTS_EINVAL,
				"the content hashes to %s, not %s: refused",
				name, expect);
		goto out;
	}
	if (fsync(w->fd) < 0) {
		rc = guts_error_errno("cannot fsync '%s'", w->tmp);
		goto out;
	}
	rc = close(w->fd);
	w->fd = -1;
	if (rc < 0) {
		rc = guts_error_errno("cannot close '%s'", w->tmp);
		unlink(w->tmp);
		goto out;
	}
	had = guts_blobstore_has(w->bs, name) == 1;
	rc = commit_blob(w->bs, w->tmp, name, w->total);
	if (rc < 0)
		goto out;
	memcpy(hex, name, sizeof(name));
	if (existed)
		*existed = had;
out:
	guts_blob_writer_free(w);
	return rc;
}

int guts_blobstore_put_file(struct guts_blobstore *bs, const char *path,
			    char hex[GUTS_SHA256_HEX_LEN + 1],
			    unsigned long long *size)
{
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return guts_error(GUTS_ENOTFOUND, "%s: no such file",
					  path);
		return guts_error_errno("cannot open '%s'", path);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return guts_error(GUTS_EINVAL, "%s: not a regular file", path);
	}
	rc = guts_blobstore_put_fd(bs, fd, hex, size);
	close(fd);
	if (rc < 0)
		return guts_error_wrap(rc, "%s", path);
	return 0;
}

int guts_blobstore_put_buf(struct guts_blobstore *bs, const void *data,
			   size_t len, char hex[GUTS_SHA256_HEX_LEN + 1])
{
	char *tmp = guts_xasprintf("%s/put-XXXXXX", bs->tmp_dir);
	uint8_t digest[GUTS_SHA256_LEN];
	char name[GUTS_SHA256_HEX_LEN + 1];
	int tfd, rc = 0;

	guts_sha256_buf(digest, data, len);
	guts_sha256_hex(name, digest);
	tfd = mkostemp(tmp, O_CLOEXEC);
	if (tfd < 0) {
		rc = guts_error_errno("cannot create a file in '%s'",
				      bs->tmp_dir);
		goto out;
	}
	if (write_all(tfd, data, len) < 0 || fsync(tfd) < 0) {
		rc = guts_error_errno("cannot write '%s'", tmp);
		close(tfd);
		unlink(tmp);
		goto out;
	}
	if (close(tfd) < 0) {
		rc = guts_error_errno("cannot close '%s'", tmp);
		unlink(tmp);
		goto out;
	}
	rc = commit_blob(bs, tmp, name, len);
	if (!rc)
		memcpy(hex, name, sizeof(name));
out:
	free(tmp);
	return rc;
}

int guts_blobstore_has(struct guts_blobstore *bs, const char *hex)
{
	struct stat st;
	char *path;
	int rc;

	rc = check_hex(hex);
	if (rc < 0)
		return rc;
	path = blob_path(bs, hex);
	rc = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return rc;
}

/* Open blob @hex for reading into *@fd. */
static int open_blob(struct guts_blobstore *bs, const char *hex, int *fd)
{
	char *path;
	int rc;

	rc = check_hex(hex);
	if (rc < 0)
		return rc;
	path = blob_path(bs, hex);
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0 && errno == ENOENT)
		rc = guts_error(GUTS_ENOTFOUND, "blob %s is not in the store",
				hex);
	else if (*fd < 0)
		rc = guts_error_errno("cannot open blob '%s'", path);
	free(path);
	return rc;
}

static int corrupted(const char *hex, const uint8_t digest[GUTS_SHA256_LEN])
{
	char got[GUTS_SHA256_HEX_LEN + 1];

	guts_sha256_hex(got, digest);
	return guts_error(GUTS_EIO,
			  "blob %s is corrupted: its content hashes to %s", hex,
			  got);
}

int guts_blobstore_get_fd(struct guts_blobstore *bs, const char *hex, int fd)
{
	uint8_t digest[GUTS_SHA256_LEN];
	char name[GUTS_SHA256_HEX_LEN + 1];
	struct guts_sha256 h;
	char *buf;
	int bfd, rc = 0;

	rc = open_blob(bs, hex, &bfd);
	if (rc < 0)
		return rc;
	buf = guts_xmalloc(65536);
	guts_sha256_init(&h);
	for (;;) {
		ssize_t n = read(bfd, buf, 65536);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = guts_error_errno("cannot read blob %s", hex);
			break;
		}
		if (!n)
			break;
		guts_sha256_update(&h, buf, (size_t)n);
		if (write_all(fd, buf, (size_t)n) < 0) {
			rc = guts_error_errno("cannot write blob %s out", hex);
			break;
		}
	}
	close(bfd);
	free(buf);
	if (rc < 0) {
		guts_sha256_release(&h);
		return rc;
	}
	guts_sha256_final(&h, digest);
	guts_sha256_hex(name, digest);
	if (strcmp(name, hex))
		return corrupted(hex, digest);
	return 0;
}

int guts_blobstore_open_blob(struct guts_blobstore *bs, const char *hex,
			     int *fd, unsigned long long *size)
{
	struct stat st;
	int bfd, rc;

	rc = open_blob(bs, hex, &bfd);
	if (rc < 0)
		return rc;
	if (fstat(bfd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(bfd);
		return guts_error(GUTS_EIO, "blob %s is not a regular file",
				  hex);
	}
	*fd = bfd;
	if (size)
		*size = (unsigned long long)st.st_size;
	return 0;
}

int guts_blobstore_verify(struct guts_blobstore *bs, const char *hex)
{
	uint8_t digest[GUTS_SHA256_LEN];
	char name[GUTS_SHA256_HEX_LEN + 1];
	struct guts_sha256 h;
	char *buf;
	int bfd, rc;

	rc = open_blob(bs, hex, &bfd);
	if (rc < 0)
		return rc;
	buf = guts_xmalloc(1u << 20);
	guts_sha256_init(&h);
	for (;;) {
		ssize_t n = read(bfd, buf, 1u << 20);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = guts_error_errno("cannot read blob %s", hex);
			break;
		}
		if (!n)
			break;
		guts_sha256_update(&h, buf, (size_t)n);
	}
	close(bfd);
	free(buf);
	if (rc < 0) {
		guts_sha256_release(&h);
		return rc;
	}
	guts_sha256_final(&h, digest);
	guts_sha256_hex(name, digest);
	if (strcmp(name, hex))
		return corrupted(hex, digest);
	return 0;
}

int guts_blobstore_get_file(struct guts_blobstore *bs, const char *hex,
			    const char *dest, int mode)
{
	const char *slash = strrchr(dest, '/');
	char *tmp;
	int fd, rc;

	rc = check_hex(hex);
	if (rc < 0)
		return rc;
	if (slash)
		tmp = guts_xasprintf("%.*s/.guts-blob-XXXXXX",
				     (int)(slash - dest), dest);
	else
		tmp = guts_xstrdup(".guts-blob-XXXXXX");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = guts_error_errno("cannot create a file beside '%s'", dest);
		goto out;
	}
	rc = guts_blobstore_get_fd(bs, hex, fd);
	if (!rc && fchmod(fd, (mode_t)(mode & 0777)) < 0)
		rc = guts_error_errno("cannot chmod '%s'", tmp);
	if (close(fd) < 0 && !rc)
		rc = guts_error_errno("cannot write '%s'", tmp);
	if (!rc && rename(tmp, dest) < 0)
		rc = guts_error_errno("cannot rename into '%s'", dest);
	if (rc < 0)
		unlink(tmp);
out:
	free(tmp);
	return rc;
}

int guts_blobstore_read(struct guts_blobstore *bs, const char *hex, char **out,
			size_t *len, size_t cap)
{
	uint8_t digest[GUTS_SHA256_LEN];
	char name[GUTS_SHA256_HEX_LEN + 1];
	struct stat st;
	char *data = NULL;
	size_t n = 0;
	int fd, rc;

	rc = open_blob(bs, hex, &fd);
	if (rc < 0)
		return rc;
	if (fstat(fd, &st) == 0 && (unsigned long long)st.st_size > cap) {
		close(fd);
		return guts_error(GUTS_ETOOBIG,
				  "blob %s is larger than %zu bytes", hex, cap);
	}
	rc = guts_fs_read_fd(&data, &n, fd, cap);
	close(fd);
	if (rc < 0)
		return guts_error_wrap(rc, "blob %s", hex);
	guts_sha256_buf(digest, data, n);
	guts_sha256_hex(name, digest);
	if (strcmp(name, hex)) {
		free(data);
		return corrupted(hex, digest);
	}
	*out = data;
	if (len)
		*len = n;
	return 0;
}

int guts_blobstore_remove(struct guts_blobstore *bs, const char *hex)
{
	char *path;
	int rc;

	rc = check_hex(hex);
	if (rc < 0)
		return rc;
	path = blob_path(bs, hex);
	if (unlink(path) < 0 && errno != ENOENT)
		rc = guts_error_errno("cannot remove '%s'", path);
	free(path);
	return rc;
}

int guts_blobstore_foreach(struct guts_blobstore *bs, guts_blob_fn fn, void *ud)
{
	struct dirent *fan;
	DIR *top;
	int rc = 0;

	top = opendir(bs->sha_dir);
	if (!top)
		return guts_error_errno("cannot read '%s'", bs->sha_dir);
	while (!rc && (fan = readdir(top))) {
		struct dirent *de;
		char hex[GUTS_SHA256_HEX_LEN + 1];
		int dfd;
		DIR *d;

		if (strlen(fan->d_name) != 2)
			continue;
		dfd = openat(dirfd(top), fan->d_name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			continue;
		d = fdopendir(dfd);
		if (!d) {
			close(dfd);
			continue;
		}
		while (!rc && (de = readdir(d))) {
			struct stat st;

			if (strlen(de->d_name) != GUTS_SHA256_HEX_LEN - 2)
				continue;
			memcpy(hex, fan->d_name, 2);
			memcpy(hex + 2, de->d_name, GUTS_SHA256_HEX_LEN - 2);
			hex[GUTS_SHA256_HEX_LEN] = '\0';
			if (!guts_blobstore_valid_hex(hex))
				continue;
			if (fstatat(dirfd(d), de->d_name, &st,
				    AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			rc = fn(hex, (unsigned long long)st.st_size,
				st.st_mtime, ud);
		}
		closedir(d);
	}
	closedir(top);
	return rc;
}

static int count_blob(const char *hex, unsigned long long size, time_t mtime,
		      void *ud)
{
	struct guts_blobstore_stats *st = ud;

	(void)hex;
	(void)mtime;
	st->blobs++;
	st->bytes += size;
	return 0;
}

int guts_blobstore_stats(struct guts_blobstore *bs,
			 struct guts_blobstore_stats *st)
{
	struct guts_blobstore_stats s = {0, 0};
	int rc = guts_blobstore_foreach(bs, count_blob, &s);

	if (rc < 0)
		return rc;
	*st = s;
	return 0;
}
