/*
 * A content-addressed blob store: each blob is a file named by the SHA-256
 * of its content, <dir>/blobs/sha256/ab/cdef... (the first two hex digits
 * name a fan-out directory).  Artifacts, caches and (later) archived logs
 * keep their bytes here; identical content is stored once.
 *
 * Writing: a blob streams into a uniquely named temporary file under
 * <dir>/blobs/tmp, hashed (OpenSSL EVP) as it streams, fsynced, then
 * renamed into place.  A reader never sees half a blob, and two writers of
 * the same content at the same time both succeed, leaving one copy.
 *
 * Reading verifies: the content is hashed as it is copied out and compared
 * with the name, so a blob corrupted on disk is refused (GUTS_EIO, "blob
 * ... is corrupted") instead of being handed on.
 *
 * Threads: a store is immutable after open; any number of threads (and
 * processes) may use one store at once.
 */
#ifndef GUTS_BLOBSTORE_H
#define GUTS_BLOBSTORE_H

#include <stddef.h>
#include <time.h>

#include "guts/hash.h"

struct guts_blobstore;

/**
 * Open the store under @dir, creating <dir>/blobs/sha256 and
 * <dir>/blobs/tmp (mode 0700) when missing.  Temporary files a crash left
 * behind more than a day ago are removed.  Free with guts_blobstore_free().
 */
int guts_blobstore_open(struct guts_blobstore **out, const char *dir);
void guts_blobstore_free(struct guts_blobstore *bs);

/** Whether @hex is a well-formed blob name: 64 lower-case hex digits. */
int guts_blobstore_valid_hex(const char *hex);

/**
 * Store everything read from @fd (to its end) as a blob.  @hex receives its
 * name and *@size (when not NULL) its length.  When the blob already
 * exists the copy is dropped and the existing one's time is refreshed (a
 * collector uses it to spare blobs being written).
 */
int guts_blobstore_put_fd(struct guts_blobstore *bs, int fd,
			  char hex[GUTS_SHA256_HEX_LEN + 1],
			  unsigned long long *size);
/** The same from the file at @path (which must be a regular file). */
int guts_blobstore_put_file(struct guts_blobstore *bs, const char *path,
			    char hex[GUTS_SHA256_HEX_LEN + 1],
			    unsigned long long *size);
/** The same from memory. */
int guts_blobstore_put_buf(struct guts_blobstore *bs, const void *data,
			   size_t len, char hex[GUTS_SHA256_HEX_LEN + 1]);

/** 1 when blob @hex is stored, 0 when not; GUTS_EINVAL for a bad name. */
int guts_blobstore_has(struct guts_blobstore *bs, const char *hex);

/**
 * Copy blob @hex to @fd, verifying it.  GUTS_ENOTFOUND when it is not
 * stored; GUTS_EIO when it is corrupted (its content does not hash to its
 * name) or a read or write fails.  On an error @fd may have received part
 * of the content: write to a temporary file and rename it on success, as
 * guts_blobstore_get_file() does.
 */
int guts_blobstore_get_fd(struct guts_blobstore *bs, const char *hex, int fd);

/**
 * Copy blob @hex to the file @dest (mode @mode), verifying it first: the
 * content goes to a temporary file beside @dest that is renamed over it
 * only when the hash matched.  Nothing is left at @dest on error.  @dest
 * itself is never followed when it is a symbolic link (it is replaced).
 */
int guts_blobstore_get_file(struct guts_blobstore *bs, const char *hex,
			    const char *dest, int mode);

/**
 * Read blob @hex into memory (NUL-terminated; caller frees), verified.
 * GUTS_ETOOBIG when it is longer than @cap.
 */
int guts_blobstore_read(struct guts_blobstore *bs, const char *hex, char **out,
			size_t *len, size_t cap);

/*
 * A blob written piece by piece, for content that arrives in pieces (an
 * HTTP body): the same temporary file, hash and rename as
 * guts_blobstore_put_fd().  Writes are buffered, so small pieces cost no
 * system call each.  A writer belongs to one thread at a time.
 */
struct guts_blob_writer;

/** Start a blob; free with guts_blob_writer_commit() or _free(). */
int guts_blob_writer_new(struct guts_blobstore *bs,
			 struct guts_blob_writer **out);
/** Append @len bytes; GUTS_EIO when the disk refuses them. */
int guts_blob_writer_write(struct guts_blob_writer *w, const void *data,
			   size_t len);
/** The bytes written so far. */
unsigned long long guts_blob_writer_size(const struct guts_blob_writer *w);
/**
 * Finish: hash, fsync, rename into place, and free @w (whatever happens).
 * With @expect (a blob name) content hashing to anything else is refused
 * with GUTS_EINVAL naming both hashes, and nothing is stored.  @hex
 * receives the name, *@existed (when not NULL) whether the blob was stored
 * already.
 */
int guts_blob_writer_commit(struct guts_blob_writer *w, const char *expect,
			    char hex[GUTS_SHA256_HEX_LEN + 1], int *existed);
/** Drop an unfinished blob (its temporary file goes); NULL does nothing. */
void guts_blob_writer_free(struct guts_blob_writer *w);

/**
 * Open blob @hex for reading (O_CLOEXEC, not following links): *@fd and
 * *@size (when not NULL).  GUTS_ENOTFOUND when it is not stored.  The
 * content is not verified: hash it as it is read, or call
 * guts_blobstore_verify() first.
 */
int guts_blobstore_open_blob(struct guts_blobstore *bs, const char *hex,
			     int *fd, unsigned long long *size);

/** Hash blob @hex's content: GUTS_EIO "blob ... is corrupted" on mismatch. */
int guts_blobstore_verify(struct guts_blobstore *bs, const char *hex);

/** Remove blob @hex; 0 when it was not there either. */
int guts_blobstore_remove(struct guts_blobstore *bs, const char *hex);

struct guts_blobstore_stats {
	unsigned long long blobs; /* how many */
	unsigned long long bytes; /* their total size */
};

/** Count the stored blobs and their bytes (walks the store). */
int guts_blobstore_stats(struct guts_blobstore *bs,
			 struct guts_blobstore_stats *st);

/*
 * Called once per stored blob by guts_blobstore_foreach(); a non-zero
 * return stops the walk and is passed back.
 */
typedef int (*guts_blob_fn)(const char *hex, unsigned long long size,
			    time_t mtime, void *ud);

/** Call @fn for every stored blob, in no particular order. */
int guts_blobstore_foreach(struct guts_blobstore *bs, guts_blob_fn fn,
			   void *ud);

#endif
