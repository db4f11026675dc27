#include "guts/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"

/* Long enough for a file:line:col prefix and a quoted value. */
static _Thread_local char guts__errmsg[1024];

__attribute__((format(printf, 1, 0))) static void set_message(const char *fmt,
							      va_list ap)
{
	/*
	 * Format aside first: callers often pass guts_error_message() itself
	 * to add context to the previous reason.
	 */
	char tmp[sizeof(guts__errmsg)];

	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	memcpy(guts__errmsg, tmp, sizeof(tmp));
}

int guts_error(enum guts_err code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_message(fmt, ap);
	va_end(ap);
	return code;
}

int guts_error_errno(const char *fmt, ...)
{
	int saved = errno;
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	set_message(fmt, ap);
	va_end(ap);
	len = strlen(guts__errmsg);
	snprintf(guts__errmsg + len, sizeof(guts__errmsg) - len, ": %s",
		 strerror(saved));
	errno = saved;
	return GUTS_EIO;
}

const char *guts_error_message(void)
{
	return guts__errmsg[0] ? guts__errmsg : "unknown error";
}

const char *guts_error_code_name(int code)
{
	switch (code) {
	case GUTS_OK:
		return "ok";
	case GUTS_EINVAL:
		return "invalid";
	case GUTS_ENOTFOUND:
		return "not_found";
	case GUTS_ECONFLICT:
		return "conflict";
	case GUTS_ETOOBIG:
		return "too_big";
	case GUTS_EIO:
		return "io";
	case GUTS_EDB:
		return "db";
	case GUTS_EGIT:
		return "git";
	case GUTS_EPERM:
		return "forbidden";
	}
	return "unknown";
}

int guts_error_wrap(enum guts_err code, const char *fmt, ...)
{
	char head[sizeof(guts__errmsg)], old[sizeof(guts__errmsg)];
	va_list ap;

	memcpy(old, guts__errmsg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	return guts_error(code, "%s: %s", head, old);
}
