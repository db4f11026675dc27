/*
 * Fuzz cron schedules: the input is an expression, then optionally a NUL and
 * eight bytes that move the start time within about 200 years of 2024.  For
 * every expression that parses, guts_cron_next() must return a whole minute
 * strictly after the start at which guts_cron_match() holds, and no earlier
 * minute may match; guts_cron_match() itself is checked against gmtime_r().
 * Any violation aborts, so the fuzzer finds wrong answers, not just crashes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guts/cron.h"
#include "guts/error.h"

#include "banned.h"

/* 2024-02-28T23:59:30Z: a minute and a half before a leap day. */
#define BASE_TIME INT64_C(1709164770)
#define SPAN (INT64_C(200) * 365 * 86400)
/* How many days between start and next are checked one by one. */
#define MAX_DAYS_CHECKED 3000
/* For "never": one whole 400-year Gregorian cycle, after which it repeats. */
#define NEVER_DAYS_CHECKED 146097

/* The match rule computed from libc's calendar, independently of cron.c. */
static bool libc_match(const struct guts_cron *c, time_t t)
{
	struct tm tm;
	bool dom, dow;

	if (!gmtime_r(&t, &tm))
		abort();
	dom = (c->mdays >> tm.tm_mday) & 1;
	dow = (c->wdays >> tm.tm_wday) & 1;
	if (!((c->minutes >> tm.tm_min) & 1) ||
	    !((c->hours >> tm.tm_hour) & 1) ||
	    !((c->months >> (tm.tm_mon + 1)) & 1))
		return false;
	if (c->flags & (GUTS_CRON_DOM_STAR | GUTS_CRON_DOW_STAR))
		return dom && dow;
	return dom || dow;
}

static void check_match(const struct guts_cron *c, time_t t)
{
	if (guts_cron_match(c, t) != libc_match(c, t))
		abort();
}

/* No minute in [from, to) may match; @from is a whole minute. */
static void check_no_minute(const struct guts_cron *c, int64_t from, int64_t to)
{
	int64_t t;

	for (t = from; t < to; t += 60) {
		if (guts_cron_match(c, (time_t)t))
			abort();
	}
}

static int64_t day_of(int64_t t)
{
	return t / 86400 - (t % 86400 < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guts_cron c;
	char *expr = malloc(size + 1);
	int64_t start = BASE_TIME, first, day, next_day, t0;
	time_t next = 0;
	size_t len;
	int rc, h0, m0;

	memcpy(expr, data, size);
	expr[size] = '\0';
	len = strlen(expr);
	if (size >= len + 1 + 8) {
		uint64_t v;

		memcpy(&v, data + len + 1, sizeof(v));
		start += (int64_t)(v % (uint64_t)(2 * SPAN)) - SPAN;
	}

	rc = guts_cron_parse(&c, expr);
	free(expr);
	if (rc < 0) {
		if (rc != GUTS_EINVAL ||
		    strncmp(guts_error_message(), "cron '", 6) != 0)
			abort();
		return 0;
	}
	if (!c.minutes || !c.hours || !c.mdays || !c.months || !c.wdays)
		abort();
	h0 = __builtin_ctz(c.hours);
	m0 = __builtin_ctzll(c.minutes);

	check_match(&c, (time_t)start);
	rc = guts_cron_next(&c, (time_t)start, &next);
	first = start - (start % 60 + 60) % 60 + 60;
	if (rc == GUTS_ENOTFOUND) {
		/* "Never" is decided by reasoning; check it by brute force. */
		day = day_of(first);
		for (next_day = day; next_day < day + NEVER_DAYS_CHECKED;
		     next_day++) {
			t0 = next_day * 86400 + h0 * 3600 + m0 * 60;
			if (guts_cron_match(&c, (time_t)t0))
				abort();
		}
		return 0;
	}
	if (rc < 0)
		abort();
	if ((int64_t)next < first || next % 60 != 0)
		abort();
	check_match(&c, next);
	if (!guts_cron_match(&c, next))
		abort();

	/*
	 * Nothing earlier may match: minute by minute through the rest of the
	 * start's day and the start of next's day, and at each whole day in
	 * between its first possible minute, which is the only one that could
	 * come first.
	 */
	day = day_of(first);
	next_day = day_of((int64_t)next);
	if (next_day == day) {
		check_no_minute(&c, first, next);
	} else {
		int64_t d;

		check_no_minute(&c, first, (day + 1) * 86400);
		check_no_minute(&c, next_day * 86400, next);
		for (d = day + 1; d < next_day && d <= day + MAX_DAYS_CHECKED;
		     d++) {
			t0 = d * 86400 + h0 * 3600 + m0 * 60;
			if (guts_cron_match(&c, (time_t)t0))
				abort();
		}
	}
	return 0;
}
