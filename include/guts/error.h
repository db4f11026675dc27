/*
 * Errors: every fallible function in libguts returns 0 (GUTS_OK) or a negative
 * enum guts_err, and writes its out-parameters only on success.  The
 * human-readable reason is recorded per thread by guts_error() and read back
 * with guts_error_message(); callers pass the code up unchanged.
 *
 * lib/ never prints and never exits.  Programs decide what to do with an error:
 * the CLI prints "guts: <message>", the node maps the code to an HTTP status.
 */
#ifndef GUTS_ERROR_H
#define GUTS_ERROR_H

enum guts_err {
	GUTS_OK = 0,
	GUTS_EINVAL = -1, /* bad input from a user or caller */
	GUTS_ENOTFOUND = -2,
	GUTS_ECONFLICT = -3, /* state changed underneath us */
	GUTS_ETOOBIG = -4,   /* a capped buffer or body hit its limit */
	GUTS_EIO = -5,	     /* an OS error; the message carries strerror */
	GUTS_EDB = -6,
	GUTS_EGIT = -7,
	GUTS_EPERM = -8,
};

/** Record a formatted reason for the calling thread; returns @code. */
int guts_error(enum guts_err code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Like guts_error(), with ": strerror(errno)" appended; returns GUTS_EIO. */
int guts_error_errno(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/**
 * Put context in front of the calling thread's reason: "<fmt>: <reason>".
 * Returns @code.
 */
int guts_error_wrap(enum guts_err code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** The calling thread's last recorded reason; never NULL. */
const char *guts_error_message(void);

/** A short stable name for a code ("invalid", "not_found", ...). */
const char *guts_error_code_name(int code);

#endif
