/*
 * Cron schedules: the five-field POSIX cron syntax of GitHub Actions'
 * `on.schedule[].cron`, always in UTC.
 *
 *   minute (0-59)  hour (0-23)  day-of-month (1-31)  month (1-12 or JAN-DEC)
 *   day-of-week (0-6 or SUN-SAT, 0 is Sunday)
 *
 * Each field is '*' or a comma-separated list of items; an item is a value
 * 'a', a range 'a-b' (a <= b), or either of '*', 'a-b' and 'a' followed by a
 * step '/n' ('a/n' means 'a-max/n', as GitHub documents '20/15').  Names are
 * case-insensitive and allowed only in their own field, ranges included
 * ('MON-FRI').  Not accepted, because GitHub refuses them: '@daily' and the
 * other shortcuts, a sixth (seconds or year) field, 7 for Sunday, and the
 * Quartz extensions '?', 'L', 'W' and '#'.
 *
 * Days follow Vixie cron: when the day-of-month and day-of-week fields are
 * both restricted, a day matches when EITHER matches ('0 0 1 * MON' fires on
 * the 1st and on every Monday); when either field starts with '*' (including
 * '*' followed by a step), a day must match both.
 *
 * A struct guts_cron is plain data: no _release is needed, and it may be
 * copied and shared between threads freely.
 */
#ifndef GUTS_CRON_H
#define GUTS_CRON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/** Longest expression accepted, in bytes. */
#define GUTS_CRON_MAX_LEN 1024

enum guts_cron_flags {
	GUTS_CRON_DOM_STAR = 1
			     << 0, /* the day-of-month field starts with '*' */
	GUTS_CRON_DOW_STAR = 1 << 1, /* the day-of-week field starts with '*' */
};

struct guts_cron {
	uint64_t minutes; /* bit m: minute m, 0-59 */
	uint32_t hours;	  /* bit h: hour h, 0-23 */
	uint32_t mdays;	  /* bit d: day of month d, 1-31 */
	uint16_t months;  /* bit m: month m, 1-12 */
	uint8_t wdays;	  /* bit d: day of week d, 0-6, 0 = Sunday */
	uint8_t flags;	  /* enum guts_cron_flags */
};

/**
 * Parse @expr into *@out.  GUTS_EINVAL with a message that names the field
 * and the value, e.g. "cron '61 * * * *': minute 61 is out of range 0-59".
 */
int guts_cron_parse(struct guts_cron *out, const char *expr);

/** Whether the schedule fires in the UTC minute that contains @t. */
bool guts_cron_match(const struct guts_cron *c, time_t t);

/**
 * The first minute strictly after @after (so at least the next whole
 * minute) at which @c fires, into *@next.  GUTS_ENOTFOUND when @c can never
 * fire ('0 0 30 2 *'), which is decided up front, not by searching; the walk
 * forward skips months and days that cannot match, so a match decades away
 * costs a few hundred steps.  GUTS_EINVAL when @after lies outside the years
 * 0 to 9999.
 */
int guts_cron_next(const struct guts_cron *c, time_t after, time_t *next);

#endif
