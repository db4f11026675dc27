/*
 * Running a helper program (git, for checkout) to completion and capturing
 * what it prints.
 *
 * The program is started with posix_spawnp(), never fork(): the executor is
 * a large threaded process.  Its stdin is /dev/null; its stdout and stderr
 * come back through two pipes, each kept up to a cap (the rest is read and
 * dropped, so a chatty program never blocks).  It runs in its own process
 * group with default signal dispositions and an empty signal mask, so an
 * executor that ignores SIGPIPE does not pass that on, and a time-out can
 * kill whatever the program started too.
 *
 * Any number of threads may run commands at the same time: nothing here
 * touches global state beyond the descriptors it opens (all O_CLOEXEC).
 */
#ifndef GUTS_RUNCMD_H
#define GUTS_RUNCMD_H

#include <spawn.h>
#include <stddef.h>

/* Bytes kept of each of stdout and stderr when the caller says 0. */
#define GUTS_RUNCMD_DEFAULT_CAP (1024 * 1024)

struct guts_runcmd {
	/* argv[0] is searched in the caller's PATH; NULL-terminated. */
	const char *const *argv;
	/* The whole environment, NULL-terminated; NULL: the caller's. */
	const char *const *envp;
	const char *cwd; /* NULL: the caller's; must be a directory */
	size_t cap;	 /* bytes kept per stream; 0: the default */
	int timeout_ms;	 /* 0: wait for ever; else SIGKILL the group */
};

struct guts_runcmd_result {
	/* The exit code, or 128 + the signal that ended the program. */
	int status;
	char *out; /* stdout, NUL-terminated (never NULL after a run) */
	size_t out_len;
	char *err; /* stderr, likewise */
	size_t err_len;
	int truncated; /* a stream went past the cap */
};

/**
 * Run @cmd and wait for it.  0 when it ran, whatever its exit status (look
 * at res->status); the caller releases @res then.  GUTS_ENOTFOUND when
 * argv[0] cannot be found, GUTS_EINVAL when cwd is not a directory,
 * GUTS_EIO when it ran past the time-out (it was killed) or the OS failed;
 * @res is left empty on error.
 */
int guts_runcmd_run(const struct guts_runcmd *cmd,
		    struct guts_runcmd_result *res);

/**
 * Initialise @attr for a child that starts clean: every signal at its
 * default disposition, an empty signal mask, and a process group of its
 * own (so that a kill can reach whatever it starts).  Every posix_spawn()
 * of ours uses it; destroy @attr with posix_spawnattr_destroy().
 */
void guts_spawnattr_fresh(posix_spawnattr_t *attr);

/** Free what a run left in @res; safe on a zeroed or released result. */
void guts_runcmd_result_release(struct guts_runcmd_result *res);

/**
 * Run @argv (in @cwd, NULL: here; 30 s at most) and return its standard
 * output without the trailing newline when it exits 0, else NULL: for
 * one-line answers (`git rev-parse HEAD`).
 */
char *guts_runcmd_line(const char *const *argv, const char *cwd);

/** The last line of @text that says something ("(no message)" if none). */
char *guts_last_line(const char *text);

#endif
