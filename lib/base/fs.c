#include "guts/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "banned.h"

int guts_fs_read_fd(char **out, size_t *len, int fd, size_t cap)
{
	struct guts_buf b;
	size_t want;
	ssize_t n;
	int rc;

	guts_buf_init(&b, cap);
	for (;;) {
		if (cap && b.len == cap) {
			/* Full: one more byte means the input is too big. */
			char probe;

			do
				n = read(fd, &probe, 1);
			while (n < 0 && errno == EINTR);
			if (n == 0)
				break;
			guts_buf_release(&b);
			return guts_error(GUTS_ETOOBIG,
					  "input is larger than %zu bytes",
					  cap);
		}
		want = 65536;
		if (cap && cap - b.len < want)
			want = cap - b.len;
		rc = guts_buf_grow(&b, want);
		if (rc < 0)
			goto fail;
		n = read(fd, b.data + b.len, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = guts_error_errno("read failed");
			goto fail;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		b.data[b.len] = '\0';
	}
	*out = guts_buf_detach(&b, len);
	return 0;
fail:
	guts_buf_release(&b);
	return rc;
}

int guts_fs_read_all(char **out, size_t *len, const char *path, size_t cap)
{
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return guts_error(GUTS_ENOTFOUND, "%s: no such file",
					  path);
		return guts_error_errno("cannot open '%s'", path);
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return guts_error(GUTS_EINVAL, "%s: is a directory", path);
	}
	if (cap && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (unsigned long long)st.st_size > cap) {
		close(fd);
		return guts_error(GUTS_ETOOBIG,
				  "%s: file is larger than %zu bytes", path,
				  cap);
	}
	rc = guts_fs_read_fd(out, len, fd, cap);
	close(fd);
	if (rc == GUTS_ETOOBIG)
		return guts_error(GUTS_ETOOBIG,
				  "%s: file is larger than %zu bytes", path,
				  cap);
	if (rc < 0)
		return guts_error(rc, "%s: %s", path, guts_error_message());
	return 0;
}

int guts_fs_write_atomic(const char *path, const void *data, size_t len,
			 int mode)
{
	char *tmp = guts_xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	int fd, rc = 0;

	/*
	 * The name is predictable: never write through a link or a file
	 * someone else left there (one of ours after a crash is removed).
	 */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0) {
		rc = guts_error_errno("cannot create '%s'", tmp);
		goto out;
	}
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = guts_error_errno("cannot write '%s'", tmp);
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!rc && fsync(fd) < 0)
		rc = guts_error_errno("cannot fsync '%s'", tmp);
	if (close(fd) < 0 && !rc)
		rc = guts_error_errno("cannot close '%s'", tmp);
	if (!rc && rename(tmp, path) < 0)
		rc = guts_error_errno("cannot rename into '%s'", path);
	if (rc)
		unlink(tmp);
out:
	free(tmp);
	return rc;
}

int guts_fs_mkdirs(const char *path, unsigned mode)
{
	char *p = guts_xstrdup(path);
	int rc = 0;

	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (*p && mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			rc =
			    guts_error_errno("cannot create directory '%s'", p);
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}
