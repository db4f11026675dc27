/*
 * Job logs: one live file per running job, <dir>/<job_id>.log, that runners
 * append to by stream offset (docs/runner-protocol.md, "Log appends"), and
 * once the job is over a zstd archive, <dir>/<job_id>.log.zst.
 *
 * The module keeps no state of its own: where a log stands (struct
 * joblog_pos) belongs to the caller, which stores it in the node's database
 * next to the job and hands it back on every call.  Every function writes
 * *pos only on success.
 *
 * Durability: appends and notes are not fsynced.  A killed node process
 * loses nothing, since the bytes are in the page cache once pwrite returns;
 * only a power loss or kernel crash can lose the tail of a live log.
 * joblog_recover() then finds the file shorter than pos->size, keeps what is
 * there and says in the log how many bytes were lost.  Archives are fsynced
 * (file and directory) before the live file is unlinked.
 *
 * Threads: calls for different jobs may run at once from any threads; the
 * caller serializes the calls that change one job's log.  Readers may run
 * alongside an append or the archive of the same job: they see the live
 * file or, once it is gone, the complete archive.
 */
#ifndef GUTS_NODE_JOBLOG_H
#define GUTS_NODE_JOBLOG_H

#include <stddef.h>
#include <stdint.h>

struct guts_buf;

/* Defaults for struct joblog_limits (the protocol's 64 KiB and 100 MB). */
#define JOBLOG_LINE_CAP_DEFAULT ((size_t)65536)
#define JOBLOG_JOB_CAP_DEFAULT ((int64_t)100 * 1000 * 1000)

/*
 * What a cut line ends with, before its LF; %zu is the line cap.  The
 * ellipsis is U+2026 in UTF-8.
 */
#define JOBLOG_LINE_CUT_NOTE " \xe2\x80\xa6 [line truncated at %zu bytes]"
/* The line written once the job cap is hit; %s is the cap, e.g. "100 MB". */
#define JOBLOG_JOB_CAP_NOTE "##[warning]log truncated: the job's log passed %s"

/* Read and stream chunks are at most this long. */
#define JOBLOG_CHUNK ((size_t)65536)

/*
 * Where a job's log stands.  @acked: bytes of the runner's stream
 * acknowledged so far; @size: bytes in the live file (differs from acked
 * when lines were cut, the job cap was hit or the node added notes);
 * @line_len: length of the file's current unterminated line, more than the
 * line cap while the rest of a cut line is being dropped; @capped: 1 once
 * the job cap note was written.  All zero for a new job.  A new attempt of
 * the job starts a new runner stream: set acked to 0 and keep the rest.
 */
struct joblog_pos {
	int64_t acked, size;
	int64_t line_len;
	int capped;
};

struct joblog_limits {
	size_t line_cap; /* JOBLOG_LINE_CAP_DEFAULT; 0: the default */
	int64_t job_cap; /* JOBLOG_JOB_CAP_DEFAULT; 0: the default */
};

/**
 * Append a chunk of the runner's stream that starts at stream offset
 * @offset.  Bytes before pos->acked were seen already and are skipped (a
 * resend is harmless); @offset past pos->acked is GUTS_ECONFLICT, and the
 * caller answers offset_gap with pos->acked.
 *
 * Lines longer than the line cap keep their first line_cap bytes and end
 * with JOBLOG_LINE_CUT_NOTE; the rest up to the LF is dropped, also across
 * chunks.  When the file would grow past the job cap it is cut there: an LF
 * ends the unterminated line, a timestamped JOBLOG_JOB_CAP_NOTE line
 * follows, and everything after is dropped but still acknowledged.  The
 * result does not depend on how the stream was cut into chunks.
 *
 * The live file is created (0640) on the first append; @dir must exist.
 * @lim NULL means the defaults.  Updates *pos.
 */
int joblog_append(const char *dir, int64_t job_id, struct joblog_pos *pos,
		  const struct joblog_limits *lim, int64_t offset,
		  const char *data, size_t len);

/**
 * After a restart: cut the live file back to pos->size (bytes past it were
 * never acknowledged) and recompute pos->line_len from the file's tail.  A
 * missing file with size 0, or an archived log, is fine.  A file shorter
 * than pos->size (a power loss ate unsynced bytes) is kept as it is, and
 * gets a note saying how many bytes were lost.
 */
int joblog_recover(const char *dir, int64_t job_id, struct joblog_pos *pos);

/**
 * Write a line of the node's own, e.g. "##[warning]runner lost; retrying
 * as attempt 2": "<timestamp> <text>\n", the timestamp in RFC 3339 UTC
 * with microseconds as runners write them (2026-11-28T09:00:00.123456Z).
 * An unterminated current line gets its LF first.  @text is one line
 * (GUTS_EINVAL if it holds an LF).  Not subject to the caps; does not
 * change pos->acked.
 */
int joblog_note(const char *dir, int64_t job_id, struct joblog_pos *pos,
		const char *text);

/**
 * The job finished: compress the live file to <id>.log.zst (zstd level 3,
 * streaming, into a temporary file that is fsynced and renamed, then the
 * directory fsynced), then unlink the live file.  Idempotent: with no live
 * file there is nothing to do and it returns 0.
 */
int joblog_archive(const char *dir, int64_t job_id);

/**
 * Append bytes [@from, @to) of the job's log to @out (@to -1: to the end;
 * both are clamped to the log's size), from the live file or by streaming
 * decompression of the archive.  GUTS_ETOOBIG when @out's cap would be
 * passed, and then @out is left as it was.  A missing log reads as empty.
 * Sets *total to the log's full size when @total is not NULL.
 */
int joblog_read(const char *dir, int64_t job_id, int64_t from, int64_t to,
		struct guts_buf *out, int64_t *total);

/**
 * The same, handing bytes [@from, @to) to @fn in chunks of at most
 * JOBLOG_CHUNK bytes.  When @fn returns non-zero the stream stops and
 * joblog_stream() returns that value.
 */
int joblog_stream(const char *dir, int64_t job_id, int64_t from, int64_t to,
		  int (*fn)(void *ud, const char *data, size_t len), void *ud);

/** Remove the job's log, live and archived; a missing one is fine. */
int joblog_remove(const char *dir, int64_t job_id);

#endif
