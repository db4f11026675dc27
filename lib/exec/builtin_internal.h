/*
 * What the built-in actions share: reading inputs the way @actions/core
 * does, logging, the path rules (workspace and home are the only places
 * read or written), collecting files for upload or save, and writing files
 * from a manifest without ever following a symbolic link.
 */
#ifndef GUTS_BUILTIN_INTERNAL_H
#define GUTS_BUILTIN_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <sys/stat.h>

#include "guts/artifact_store.h"
#include "guts/builtin.h"
#include "guts/pathglob.h"
#include "guts/strvec.h"

/* ---- inputs ------------------------------------------------------- */

struct guts__inputs {
	const char *action; /* for messages: "upload-artifact" */
	json_t *values;	    /* lower-case name -> trimmed string */
};

/*
 * Read @with (an object of scalars, or NULL).  Inputs named in @known are
 * read later; those in @ignored are accepted with a log note; any other
 * gets a warning in the log, as GitHub's "Unexpected input(s)" does.
 * GUTS_EINVAL when a value is an array or object.
 */
int guts__inputs_init(struct guts__inputs *in, const char *action,
		      const json_t *with, const struct guts_builtin_ctx *ctx,
		      const char *const *known, const char *const *ignored);
void guts__inputs_release(struct guts__inputs *in);

/** The trimmed value of input @name, or NULL when absent or empty. */
const char *guts__input(const struct guts__inputs *in, const char *name);

/**
 * A boolean input as core.getBooleanInput() reads it: true, True, TRUE,
 * false, False or FALSE; @def when absent.  GUTS_EINVAL names the input.
 */
int guts__input_bool(const struct guts__inputs *in, const char *name, int def,
		     int *out);

/** A multi-line input: each line trimmed, empty lines dropped. */
void guts__input_lines(const struct guts__inputs *in, const char *name,
		       struct guts_strvec *out);

/* ---- errors and logging ------------------------------------------- */

void guts__log(const struct guts_builtin_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- paths -------------------------------------------------------- */

/**
 * @rel (may start with '~', may be absolute) made absolute against the
 * workspace and normalised lexically.  GUTS_EINVAL when it lies outside
 * both the workspace and the home, or uses '~' with no home; the message
 * starts "<action>: input '<input>'".
 */
int guts__resolve_path(const struct guts_builtin_ctx *ctx, const char *action,
		       const char *input, const char *rel, char **out);

/** Lexical normalisation of an absolute path ('.', '..', '//'). */
char *guts__path_normalize(const char *path);

/** Whether @path is @root or lies under it (both normalised). */
int guts__path_under(const char *path, const char *root);

/** Human-readable size: "12.3 MiB (12898765 bytes)" (caller frees). */
char *guts__format_size(unsigned long long bytes);

/* ---- collecting files --------------------------------------------- */

struct guts__collect_opts {
	const char *action;
	int include_hidden; /* 0: skip names starting with '.' */
};

/**
 * Walk the search paths of @g and push every regular file it matches (as
 * absolute paths, sorted) onto @files.  Symbolic links are followed only
 * when they resolve inside the workspace or the home; others are skipped
 * with a warning in the log.  Every search path must lie inside the
 * workspace or the home (GUTS_EINVAL names it).
 */
int guts__collect(const struct guts_builtin_ctx *ctx,
		  const struct guts__collect_opts *opts,
		  const struct guts_pathglob *g, struct guts_strvec *files);

/**
 * Open @path for reading: a regular file whose real location (as the
 * kernel reports for the open descriptor) is inside the workspace or the
 * home.  1 and a warning in the log when it is not (the caller skips it).
 */
int guts__open_inside(const struct guts_builtin_ctx *ctx, const char *action,
		      const char *path, int *fd, struct stat *st);

/**
 * Build a manifest from @files (absolute, sorted) stored relative to
 * @root, hashing each file's content; nothing is stored yet.  @home_root,
 * when not NULL, is a second root: files under it (and not under a deeper
 * @root) get "root": "home".  *@total receives the bytes hashed and
 * *@sources an object from each sha256 to {"path", "size"} of a file
 * holding it, for guts__upload_entry().
 */
int guts__hash_files(const struct guts_builtin_ctx *ctx, const char *action,
		     const struct guts_strvec *files, const char *root,
		     const char *home_root, json_t **manifest,
		     unsigned long long *total, json_t **sources);

/* What guts__upload_entry() sent. */
struct guts__upload_stats {
	size_t blobs;		  /* blobs put */
	unsigned long long bytes; /* their bytes */
};

/**
 * Upload @up (request and manifest filled in) manifest first: ask the
 * store which blobs it lacks, put only those, reading each from its file
 * in @sources again (through guts__open_inside()), then record the entry.
 * @digest (may be NULL) receives its digest, @stats (may be NULL) what
 * was sent.  The store's GUTS_ECONFLICT comes back unchanged.
 */
int guts__upload_entry(const struct guts_builtin_ctx *ctx, const char *action,
		       struct guts_artifact_upload *up, const json_t *sources,
		       char digest[GUTS_SHA256_HEX_LEN + 1],
		       struct guts__upload_stats *stats);

/* ---- writing files ------------------------------------------------ */

/** An open directory inside the workspace or the home. */
struct guts__dest {
	int fd;
	char *path;
};

/**
 * Open directory @abs (normalised, inside the workspace or the home),
 * creating what is missing.  No component below the workspace or home may
 * be a symbolic link (GUTS_EPERM names it).
 */
int guts__dest_open(const struct guts_builtin_ctx *ctx, const char *action,
		    const char *abs, struct guts__dest *d);
void guts__dest_close(struct guts__dest *d);

/**
 * Open directory @name in @dirfd without following a link, creating it
 * when @create.  GUTS_ENOTFOUND when missing and !@create, GUTS_EPERM when
 * it is a symbolic link, GUTS_EINVAL when it is something else; @shown
 * names it in messages.
 */
int guts__open_subdir(int dirfd, const char *name, int create,
		      const char *action, const char *shown, int *out);

/**
 * Write every file of @files (checked with guts_artifact_manifest_check()
 * by the caller) under @d (or @home for "root": "home" entries), verifying
 * each blob.  A first pass refuses the whole manifest when any path would
 * go through a symbolic link or a non-directory already there, so that in
 * the usual case nothing is written at all.
 */
int guts__write_manifest(const struct guts_builtin_ctx *ctx, const char *action,
			 const json_t *files, struct guts__dest *d,
			 struct guts__dest *home);

/**
 * Empty directory @fd (not following links), for checkout.  @what names
 * it in messages.
 */
int guts__clear_dir(int fd, const char *what);

/* ---- the actions -------------------------------------------------- */

int guts__checkout_run(const json_t *with, const struct guts_builtin_ctx *ctx,
		       json_t *outputs);
int guts__upload_artifact_run(const json_t *with,
			      const struct guts_builtin_ctx *ctx,
			      json_t *outputs);
int guts__download_artifact_run(const json_t *with,
				const struct guts_builtin_ctx *ctx,
				json_t *outputs);

enum guts__cache_mode {
	GUTS__CACHE_BOTH,    /* actions/cache: restore, save in post */
	GUTS__CACHE_RESTORE, /* actions/cache/restore */
	GUTS__CACHE_SAVE,    /* actions/cache/save */
};

int guts__cache_run(enum guts__cache_mode mode, const json_t *with,
		    const struct guts_builtin_ctx *ctx, json_t *outputs,
		    json_t **state);
int guts__cache_post(const json_t *with, const struct guts_builtin_ctx *ctx,
		     json_t *state, int job_succeeded);

#endif
