#include "joblog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "banned.h"

#define JL_TS_SIZE 32	 /* "2026-11-28T09:00:00.123456Z" and a NUL */
#define JL_NOTE_SIZE 128 /* a formatted cut or cap note */
#define JL_ZSTD_LEVEL 3

static char *jl_path(const char *dir, int64_t job_id, const char *suffix)
{
	return guts_xasprintf("%s/%" PRId64 ".log%s", dir, job_id, suffix);
}

static int jl_check(const char *dir, int64_t job_id)
{
	if (!dir || !*dir)
		return guts_error(GUTS_EINVAL, "job log: no directory");
	if (job_id < 0)
		return guts_error(GUTS_EINVAL, "job log: bad job id %" PRId64,
				  job_id);
	return 0;
}

static int jl_check_pos(int64_t job_id, const struct joblog_pos *pos)
{
	if (pos->acked < 0 || pos->size < 0 || pos->line_len < 0 ||
	    pos->line_len > pos->size)
		return guts_error(GUTS_EINVAL,
				  "log of job %" PRId64
				  ": bad position (acked %" PRId64
				  ", size %" PRId64 ", line %" PRId64 ")",
				  job_id, pos->acked, pos->size, pos->line_len);
	return 0;
}

/* RFC 3339 UTC with microseconds, as runners stamp their lines. */
static void jl_timestamp(char out[JL_TS_SIZE])
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, JL_TS_SIZE, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, JL_TS_SIZE - n, ".%06ldZ", ts.tv_nsec / 1000);
}

/* The job cap for people: "100 MB", "1.5 MB", "4 kB", "100 bytes". */
static void jl_cap_figure(char *out, size_t size, int64_t cap)
{
	int64_t unit = cap >= 1000000 ? 1000000 : cap >= 1000 ? 1000 : 1;
	const char *name = unit == 1000000 ? "MB"
			   : unit == 1000  ? "kB"
					   : "bytes";

	if (cap % unit == 0)
		snprintf(out, size, "%" PRId64 " %s", cap / unit, name);
	else
		snprintf(out, size, "%.1f %s", (double)cap / (double)unit,
			 name);
}

static int jl_pwrite_all(int fd, const char *p, size_t len, int64_t off,
			 const char *path)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return guts_error_errno("cannot write '%s'", path);
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Read up to @len bytes at @off; *got < len only at the end of the file. */
static int jl_pread_full(int fd, char *p, size_t len, int64_t off, size_t *got,
			 const char *path)
{
	size_t done = 0;

	*got = 0;
	while (done < len) {
		ssize_t n =
		    pread(fd, p + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return guts_error_errno("cannot read '%s'", path);
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	return 0;
}

static int jl_write_all(int fd, const char *p, size_t len, const char *path)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return guts_error_errno("cannot write '%s'", path);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Open the live file for writing at pos->size.  Bytes past it were never
 * acknowledged (a write that failed, or a position the caller did not
 * store) and are cut, so they cannot outlive a shorter write.  A file
 * shorter than pos->size needs joblog_recover() first.
 */
static int jl_open_live(const char *path, const struct joblog_pos *pos,
			int *fdp)
{
	int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW;
	struct stat st;
	int fd;

	if (pos->size == 0)
		flags |= O_CREAT;
	fd = open(path, flags, 0640);
	if (fd < 0 && errno == ENOENT)
		return guts_error(GUTS_EIO,
				  "'%s' is missing but should hold %" PRId64
				  " bytes",
				  path, pos->size);
	if (fd < 0)
		return guts_error_errno("cannot open '%s'", path);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return guts_error_errno("cannot stat '%s'", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return guts_error(GUTS_EIO, "'%s' is not a regular file", path);
	}
	if (st.st_size < pos->size) {
		close(fd);
		return guts_error(GUTS_EIO,
				  "'%s' has %" PRId64
				  " bytes but should hold %" PRId64
				  "; recover it first",
				  path, (int64_t)st.st_size, pos->size);
	}
	if (st.st_size > pos->size && ftruncate(fd, (off_t)pos->size) < 0) {
		close(fd);
		return guts_error_errno("cannot truncate '%s'", path);
	}
	*fdp = fd;
	return 0;
}

/* Write @out at pos->size of the live file; on failure the file is cut back. */
static int jl_write_at_end(const char *path, const struct joblog_pos *pos,
			   const struct guts_buf *out)
{
	int fd = -1, rc;

	rc = jl_open_live(path, pos, &fd);
	if (rc < 0)
		return rc;
	rc = jl_pwrite_all(fd, out->data, out->len, pos->size, path);
	if (rc < 0) {
		/* Best effort: should this fail too, the next open cuts it. */
		int e = ftruncate(fd, (off_t)pos->size);

		(void)e;
	}
	if (close(fd) < 0 && !rc)
		rc = guts_error_errno("cannot close '%s'", path);
	return rc;
}

/*
 * What one append adds to the file.  Everything goes through jl_emit(),
 * which enforces the job cap on the file's size.
 */
struct jl_out {
	struct guts_buf buf;
	int64_t base; /* the file's size before this call */
	int64_t job_cap;
	int at_bol; /* the file (with buf) ends with an LF, or is empty */
	int capped;
};

static int jl_add(struct jl_out *o, const char *p, size_t n)
{
	int rc;

	if (!n)
		return 0;
	rc = guts_buf_add(&o->buf, p, n);
	if (rc < 0)
		return rc;
	o->at_bol = p[n - 1] == '\n';
	return 0;
}

static int jl_emit(struct jl_out *o, const char *p, size_t n)
{
	char ts[JL_TS_SIZE], fig[32];
	int64_t room;
	int rc;

	if (o->capped)
		return 0;
	room = o->job_cap - o->base - (int64_t)o->buf.len;
	if (room < 0)
		room = 0;
	if ((uint64_t)n <= (uint64_t)room)
		return jl_add(o, p, n);

	/* Past the cap: keep what fits, end the line, say so, stop. */
	rc = jl_add(o, p, (size_t)room);
	if (!rc && !o->at_bol)
		rc = jl_add(o, "\n", 1);
	if (rc < 0)
		return rc;
	jl_timestamp(ts);
	jl_cap_figure(fig, sizeof(fig), o->job_cap);
	rc = guts_buf_addf(&o->buf, "%s " JOBLOG_JOB_CAP_NOTE "\n", ts, fig);
	if (rc < 0)
		return rc;
	o->at_bol = 1;
	o->capped = 1;
	return 0;
}

int joblog_append(const char *dir, int64_t job_id, struct joblog_pos *pos,
		  const struct joblog_limits *lim, int64_t offset,
		  const char *data, size_t len)
{
	size_t line_cap = JOBLOG_LINE_CAP_DEFAULT;
	char note[JL_NOTE_SIZE];
	struct jl_out o;
	int64_t line_len, skip;
	const char *p;
	size_t n, i, note_len;
	char *path;
	int rc;

	rc = jl_check(dir, job_id);
	if (!rc)
		rc = jl_check_pos(job_id, pos);
	if (rc < 0)
		return rc;
	if (offset < 0 || len > (uint64_t)(INT64_MAX - offset) ||
	    (len && !data))
		return guts_error(GUTS_EINVAL,
				  "log of job %" PRId64
				  ": bad chunk at offset %" PRId64,
				  job_id, offset);
	if (offset > pos->acked)
		return guts_error(GUTS_ECONFLICT,
				  "log of job %" PRId64
				  ": chunk at offset %" PRId64
				  " leaves a gap after %" PRId64,
				  job_id, offset, pos->acked);
	skip = pos->acked - offset;
	if ((uint64_t)skip >= len)
		return 0; /* all seen before: a resend */

	guts_buf_init(&o.buf, 0);
	o.base = pos->size;
	o.job_cap = JOBLOG_JOB_CAP_DEFAULT;
	if (lim && lim->line_cap)
		line_cap = lim->line_cap;
	if (lim && lim->job_cap)
		o.job_cap = lim->job_cap;
	if (o.job_cap < 0 || line_cap > INT64_MAX / 2)
		return guts_error(GUTS_EINVAL, "job log: bad limits");
	o.at_bol = pos->line_len == 0;
	o.capped = pos->capped;

	snprintf(note, sizeof(note), JOBLOG_LINE_CUT_NOTE, line_cap);
	note_len = strlen(note);
	line_len = pos->line_len;
	p = data + skip;
	n = len - (size_t)skip;
	i = 0;
	while (i < n && !o.capped) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - p) : n;
		size_t seg = end - i, room;

		if (line_len > (int64_t)line_cap) {
			/* The rest of a cut line: drop up to its LF. */
			if (!nl)
				break;
			rc = jl_emit(&o, "\n", 1);
			if (rc < 0)
				goto out;
			line_len = 0;
			i = end + 1;
			continue;
		}
		room = line_cap - (size_t)line_len;
		if (seg <= room) {
			rc = jl_emit(&o, p + i, seg + (nl != NULL));
			line_len = nl ? 0 : line_len + (int64_t)seg;
			i = end + (nl != NULL);
		} else {
			/* Too long: keep line_cap bytes, then drop. */
			rc = jl_emit(&o, p + i, room);
			if (!rc)
				rc = jl_emit(&o, note, note_len);
			line_len = (int64_t)(line_cap + note_len);
			i += room;
		}
		if (rc < 0)
			goto out;
	}
	if (o.capped)
		line_len = 0;

	if (o.buf.len) {
		path = jl_path(dir, job_id, "");
		rc = jl_write_at_end(path, pos, &o.buf);
		free(path);
		if (rc < 0)
			goto out;
	}
	pos->acked = offset + (int64_t)len;
	pos->size += (int64_t)o.buf.len;
	pos->line_len = line_len;
	pos->capped = o.capped;
out:
	guts_buf_release(&o.buf);
	return rc;
}

int joblog_note(const char *dir, int64_t job_id, struct joblog_pos *pos,
		const char *text)
{
	struct guts_buf b;
	char ts[JL_TS_SIZE];
	char *path;
	int rc;

	rc = jl_check(dir, job_id);
	if (!rc)
		rc = jl_check_pos(job_id, pos);
	if (rc < 0)
		return rc;
	if (!text || strchr(text, '\n'))
		return guts_error(GUTS_EINVAL,
				  "log of job %" PRId64 ": a note is one line",
				  job_id);
	jl_timestamp(ts);
	guts_buf_init(&b, 0);
	rc =
	    guts_buf_addf(&b, "%s%s %s\n", pos->line_len ? "\n" : "", ts, text);
	if (!rc) {
		path = jl_path(dir, job_id, "");
		rc = jl_write_at_end(path, pos, &b);
		free(path);
	}
	if (!rc) {
		pos->size += (int64_t)b.len;
		pos->line_len = 0;
	}
	guts_buf_release(&b);
	return rc;
}

/* The length of the last, unterminated line of the first @size bytes. */
static int jl_tail_len(int fd, int64_t size, int64_t *out, const char *path)
{
	char buf[8192];
	int64_t end = size;
	const char *nl;
	size_t n, got;
	int rc;

	while (end > 0) {
		n = end < (int64_t)sizeof(buf) ? (size_t)end : sizeof(buf);
		rc = jl_pread_full(fd, buf, n, end - (int64_t)n, &got, path);
		if (rc < 0)
			return rc;
		if (got != n)
			return guts_error(GUTS_EIO, "'%s' shrank while read",
					  path);
		nl = memrchr(buf, '\n', n);
		if (nl) {
			*out = size - (end - (int64_t)n + (nl - buf) + 1);
			return 0;
		}
		end -= (int64_t)n;
	}
	*out = size;
	return 0;
}

int joblog_recover(const char *dir, int64_t job_id, struct joblog_pos *pos)
{
	struct joblog_pos np = *pos;
	char *path, *zst = NULL;
	struct stat st;
	int64_t lost = 0;
	int fd = -1, rc;

	rc = jl_check(dir, job_id);
	if (!rc)
		rc = jl_check_pos(job_id, pos);
	if (rc < 0)
		return rc;
	path = jl_path(dir, job_id, "");
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno != ENOENT) {
		rc = guts_error_errno("cannot open '%s'", path);
		goto out;
	}
	if (fd < 0) {
		zst = jl_path(dir, job_id, ".zst");
		if (np.size == 0 || access(zst, F_OK) == 0) {
			/* Nothing written yet, or archived: nothing to do. */
			goto out;
		}
		lost = np.size;
		np.size = np.line_len = 0;
		goto note;
	}
	if (fstat(fd, &st) < 0) {
		rc = guts_error_errno("cannot stat '%s'", path);
		goto out;
	}
	if (st.st_size > np.size && ftruncate(fd, (off_t)np.size) < 0) {
		rc = guts_error_errno("cannot truncate '%s'", path);
		goto out;
	}
	if (st.st_size < np.size) {
		lost = np.size - st.st_size;
		np.size = st.st_size;
	}
	np.line_len = 0;
	rc = jl_tail_len(fd, np.size, &np.line_len, path);
	if (rc < 0)
		goto out;
note:
	if (lost) {
		char text[160];

		snprintf(text, sizeof(text),
			 "##[warning]the node lost the last %" PRId64
			 " bytes of this log when it stopped",
			 lost);
		rc = joblog_note(dir, job_id, &np, text);
		if (rc < 0)
			goto out;
	}
	*pos = np;
out:
	if (fd >= 0)
		close(fd);
	free(zst);
	free(path);
	return rc;
}

static int jl_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return guts_error_errno("cannot open directory '%s'", dir);
	if (fsync(fd) < 0)
		rc = guts_error_errno("cannot fsync directory '%s'", dir);
	close(fd);
	return rc;
}

/* Compress @size bytes of @in into @out as one zstd frame. */
static int jl_compress(int in, int out, int64_t size, const char *src,
		       const char *dst)
{
	size_t insz = ZSTD_CStreamInSize(), outsz = ZSTD_CStreamOutSize();
	char *ibuf = guts_xmalloc(insz), *obuf = guts_xmalloc(outsz);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	int64_t done = 0;
	size_t r;
	int rc = 0;

	if (!cctx)
		abort(); /* out of memory, as guts_xmalloc */
	r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel,
				   JL_ZSTD_LEVEL);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setPledgedSrcSize(cctx, (unsigned long long)size);
	if (ZSTD_isError(r)) {
		rc = guts_error(GUTS_EIO, "zstd: %s", ZSTD_getErrorName(r));
		goto out;
	}
	for (;;) {
		size_t want = insz, got = 0;
		ZSTD_EndDirective mode;
		ZSTD_inBuffer zin;
		int finished;

		if (size - done < (int64_t)want)
			want = (size_t)(size - done);
		rc = jl_pread_full(in, ibuf, want, done, &got, src);
		if (rc < 0)
			goto out;
		if (got != want) {
			rc = guts_error(GUTS_EIO, "'%s' shrank while archived",
					src);
			goto out;
		}
		done += (int64_t)got;
		mode = done == size ? ZSTD_e_end : ZSTD_e_continue;
		zin = (ZSTD_inBuffer){ibuf, got, 0};
		do {
			ZSTD_outBuffer zout = {obuf, outsz, 0};

			r = ZSTD_compressStream2(cctx, &zout, &zin, mode);
			if (ZSTD_isError(r)) {
				rc = guts_error(GUTS_EIO, "zstd: %s",
						ZSTD_getErrorName(r));
				goto out;
			}
			rc = jl_write_all(out, obuf, zout.pos, dst);
			if (rc < 0)
				goto out;
			finished =
			    mode == ZSTD_e_end ? r == 0 : zin.pos == zin.size;
		} while (!finished);
		if (mode == ZSTD_e_end)
			break;
	}
out:
	ZSTD_freeCCtx(cctx);
	free(ibuf);
	free(obuf);
	return rc;
}

int joblog_archive(const char *dir, int64_t job_id)
{
	char *live, *zst, *tmp;
	int in, out, rc;
	struct stat st;

	rc = jl_check(dir, job_id);
	if (rc < 0)
		return rc;
	live = jl_path(dir, job_id, "");
	zst = jl_path(dir, job_id, ".zst");
	tmp = jl_path(dir, job_id, ".zst.tmp");
	in = open(live, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0) {
		if (errno != ENOENT)
			rc = guts_error_errno("cannot open '%s'", live);
		goto out; /* archived already, or never written */
	}
	if (fstat(in, &st) < 0) {
		rc = guts_error_errno("cannot stat '%s'", live);
		goto out;
	}
	/* A crashed archive's temporary file is ours to replace. */
	unlink(tmp);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		   0640);
	if (out < 0) {
		rc = guts_error_errno("cannot create '%s'", tmp);
		goto out;
	}
	rc = jl_compress(in, out, (int64_t)st.st_size, live, tmp);
	if (!rc && fsync(out) < 0)
		rc = guts_error_errno("cannot fsync '%s'", tmp);
	if (close(out) < 0 && !rc)
		rc = guts_error_errno("cannot close '%s'", tmp);
	if (!rc && rename(tmp, zst) < 0)
		rc = guts_error_errno("cannot rename into '%s'", zst);
	if (rc < 0) {
		unlink(tmp);
		goto out;
	}
	/* The archive must be durable before the live file goes. */
	rc = jl_fsync_dir(dir);
	if (!rc && unlink(live) < 0 && errno != ENOENT)
		rc = guts_error_errno("cannot remove '%s'", live);
out:
	if (in >= 0)
		close(in);
	free(live);
	free(zst);
	free(tmp);
	return rc;
}

typedef int (*jl_sink)(void *ud, const char *data, size_t len);

/* Hand [from, to) of @data, which sits at @at in the log, to @fn. */
static int jl_deliver(const char *data, size_t len, int64_t at, int64_t from,
		      int64_t to, jl_sink fn, void *ud)
{
	int64_t lo = at > from ? at : from;
	int64_t hi = at + (int64_t)len < to ? at + (int64_t)len : to;
	int rc;

	while (lo < hi) {
		size_t n = (size_t)(hi - lo);

		if (n > JOBLOG_CHUNK)
			n = JOBLOG_CHUNK;
		rc = fn(ud, data + (lo - at), n);
		if (rc)
			return rc;
		lo += (int64_t)n;
	}
	return 0;
}

static int jl_stream_live(int fd, const char *path, int64_t from, int64_t to,
			  jl_sink fn, void *ud, int64_t *total)
{
	char *buf = guts_xmalloc(JOBLOG_CHUNK);
	struct stat st;
	int64_t at;
	size_t got;
	int rc = 0;

	if (fstat(fd, &st) < 0) {
		rc = guts_error_errno("cannot stat '%s'", path);
		goto out;
	}
	if (to < 0 || to > st.st_size)
		to = st.st_size;
	for (at = from; at < to; at += (int64_t)got) {
		size_t want = JOBLOG_CHUNK;

		if (to - at < (int64_t)want)
			want = (size_t)(to - at);
		rc = jl_pread_full(fd, buf, want, at, &got, path);
		if (rc < 0 || got == 0)
			break;
		rc = fn(ud, buf, got);
		if (rc)
			break;
	}
	if (!rc && total)
		*total = st.st_size;
out:
	free(buf);
	return rc;
}

/*
 * Decompress the archive, dropping what comes before @from, and stop once
 * @to is reached and the total is known (the frame header records it).
 */
static int jl_stream_zst(int fd, const char *path, int64_t from, int64_t to,
			 jl_sink fn, void *ud, int64_t *total)
{
	size_t insz = ZSTD_DStreamInSize(), outsz = ZSTD_DStreamOutSize();
	char *ibuf = guts_xmalloc(insz), *obuf = guts_xmalloc(outsz);
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	int64_t at = 0, known = -1, stop = to < 0 ? INT64_MAX : to;
	int first = 1, rc = 0;
	size_t r = 1;

	if (!dctx)
		abort(); /* out of memory, as guts_xmalloc */
	for (;;) {
		ssize_t n = read(fd, ibuf, insz);
		ZSTD_inBuffer zin;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = guts_error_errno("cannot read '%s'", path);
			goto out;
		}
		if (n == 0)
			break;
		if (first) {
			unsigned long long cs =
			    ZSTD_getFrameContentSize(ibuf, (size_t)n);

			if (cs != ZSTD_CONTENTSIZE_UNKNOWN &&
			    cs != ZSTD_CONTENTSIZE_ERROR && cs <= INT64_MAX) {
				known = (int64_t)cs;
				if (stop > known)
					stop = known;
			}
			first = 0;
		}
		zin = (ZSTD_inBuffer){ibuf, (size_t)n, 0};
		while (zin.pos < zin.size) {
			ZSTD_outBuffer zout = {obuf, outsz, 0};

			if ((at > from ? at : from) >= stop &&
			    (known >= 0 || !total))
				goto done;
			r = ZSTD_decompressStream(dctx, &zout, &zin);
			if (ZSTD_isError(r)) {
				rc = guts_error(GUTS_EIO, "'%s': zstd: %s",
						path, ZSTD_getErrorName(r));
				goto out;
			}
			rc = jl_deliver(obuf, zout.pos, at, from, stop, fn, ud);
			if (rc)
				goto out;
			at += (int64_t)zout.pos;
		}
	}
	if (r != 0) {
		rc = guts_error(GUTS_EIO, "'%s' is truncated", path);
		goto out;
	}
	known = at;
done:
	if (total)
		*total = known;
out:
	ZSTD_freeDCtx(dctx);
	free(ibuf);
	free(obuf);
	return rc;
}

static int jl_stream(const char *dir, int64_t job_id, int64_t from, int64_t to,
		     jl_sink fn, void *ud, int64_t *total)
{
	int64_t t = 0, *tp = total ? &t : NULL;
	char *path;
	int fd, rc;

	rc = jl_check(dir, job_id);
	if (rc < 0)
		return rc;
	if (from < 0 || to < -1 || (to >= 0 && to < from))
		return guts_error(GUTS_EINVAL,
				  "log of job %" PRId64 ": bad range %" PRId64
				  "..%" PRId64,
				  job_id, from, to);
	/*
	 * Live first: the archive is complete before the live file is
	 * unlinked, so a log being archived is always found one way.
	 */
	path = jl_path(dir, job_id, "");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		rc = jl_stream_live(fd, path, from, to, fn, ud, tp);
		goto out;
	}
	if (errno != ENOENT) {
		rc = guts_error_errno("cannot open '%s'", path);
		goto out;
	}
	free(path);
	path = jl_path(dir, job_id, ".zst");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0)
		rc = jl_stream_zst(fd, path, from, to, fn, ud, tp);
	else if (errno != ENOENT)
		rc = guts_error_errno("cannot open '%s'", path);
out:
	if (fd >= 0)
		close(fd);
	free(path);
	if (!rc && total)
		*total = t;
	return rc;
}

int joblog_stream(const char *dir, int64_t job_id, int64_t from, int64_t to,
		  int (*fn)(void *ud, const char *data, size_t len), void *ud)
{
	return jl_stream(dir, job_id, from, to, fn, ud, NULL);
}

static int jl_to_buf(void *ud, const char *data, size_t len)
{
	return guts_buf_add(ud, data, len);
}

int joblog_read(const char *dir, int64_t job_id, int64_t from, int64_t to,
		struct guts_buf *out, int64_t *total)
{
	size_t old = out->len;
	int rc;

	rc = jl_stream(dir, job_id, from, to, jl_to_buf, out, total);
	if (rc < 0)
		guts_buf_truncate(out, old);
	return rc;
}

int joblog_remove(const char *dir, int64_t job_id)
{
	static const char *const suffixes[] = {"", ".zst", ".zst.tmp"};
	int rc;

	rc = jl_check(dir, job_id);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *path = jl_path(dir, job_id, suffixes[i]);

		if (unlink(path) < 0 && errno != ENOENT && !rc)
			rc = guts_error_errno("cannot remove '%s'", path);
		free(path);
	}
	return rc;
}
