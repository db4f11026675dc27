/*
 * Filesystem helpers.  Reads take a size cap so a hostile or huge file cannot
 * exhaust memory; every descriptor is opened O_CLOEXEC.
 */
#ifndef GUTS_FS_H
#define GUTS_FS_H

#include <stddef.h>

/**
 * Read all of @path into a fresh NUL-terminated buffer (*out, caller frees).
 * GUTS_ETOOBIG when the file is larger than @cap bytes, GUTS_ENOTFOUND when
 * it does not exist, GUTS_EIO for other errors.
 */
int guts_fs_read_all(char **out, size_t *len, const char *path, size_t cap);

/** Read all of a descriptor (e.g. stdin), with the same cap semantics. */
int guts_fs_read_fd(char **out, size_t *len, int fd, size_t cap);

/**
 * mkdir -p: create @path and its missing parents with @mode.  Existing
 * directories are fine; GUTS_EIO names the one that could not be made.
 */
int guts_fs_mkdirs(const char *path, unsigned mode);

/** Write @len bytes to @path atomically (temp file, fsync, rename). */
int guts_fs_write_atomic(const char *path, const void *data, size_t len,
			 int mode);

#endif
