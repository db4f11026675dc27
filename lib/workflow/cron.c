/*
 * Cron schedules (see include/guts/cron.h for the syntax).
 *
 * A parsed schedule is five bit sets.  guts_cron_next() first decides
 * whether any date can ever match (a dozen bit tests), then walks forward
 * only to days that could match, skipping whole months outside the month
 * set, and within a matching day picks the first hour and minute with two bit
 * scans; so it never steps minute by minute.  Calendar arithmetic is done on
 * day numbers (days since 1970-01-01), never through gmtime() or the TZ
 * environment.
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "guts/buf.h"
#include "guts/cron.h"
#include "guts/error.h"

#include "banned.h"

enum field {
	F_MINUTE,
	F_HOUR,
	F_MDAY,
	F_MONTH,
	F_WDAY,
	F_COUNT,
};

static const char *const month_names[] = {
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
    "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
};

static const char *const wday_names[] = {
    "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT",
};

static const struct field_spec {
	const char *name;
	int lo, hi;
	const char *const *names; /* names[i] is the value lo + i */
	int nr_names;
} specs[F_COUNT] = {
    [F_MINUTE] = {"minute", 0, 59, NULL, 0},
    [F_HOUR] = {"hour", 0, 23, NULL, 0},
    [F_MDAY] = {"day-of-month", 1, 31, NULL, 0},
    [F_MONTH] = {"month", 1, 12, month_names, 12},
    [F_WDAY] = {"day-of-week", 0, 6, wday_names, 7},
};

/* The 400-year Gregorian cycle, in days: the calendar repeats after it. */
#define CYCLE_DAYS 146097

/* Years 0 to 9999, as seconds since the epoch. */
#define MIN_TIME (-INT64_C(62167219200))
#define MAX_TIME INT64_C(253402300799)

/*
 * Record "cron '<expr>': <reason>".  The expression is cut at 80 bytes and
 * control bytes shown as '?', since the message ends up on a terminal.
 */
__attribute__((format(printf, 2, 3))) static int bad_cron(const char *expr,
							  const char *fmt, ...)
{
	struct guts_buf b;
	va_list ap;
	size_t i;

	guts_buf_init(&b, 0);
	guts_buf_adds(&b, "cron '");
	for (i = 0; expr[i] && i < 80; i++) {
		unsigned char c = (unsigned char)expr[i];

		if (c < 0x20 || c == 0x7f)
			guts_buf_addch(&b, '?');
		else
			guts_buf_addch(&b, expr[i]);
	}
	if (expr[i])
		guts_buf_adds(&b, "...");
	guts_buf_adds(&b, "': ");
	va_start(ap, fmt);
	guts_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	guts_error(GUTS_EINVAL, "%s", b.data);
	guts_buf_release(&b);
	return GUTS_EINVAL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_field_end(char c)
{
	return !c || is_blank(c);
}

static int upper(char c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Where in the expression the parser is, for error messages. */
struct parser {
	const char *expr;
	const char *s; /* the next byte to read */
	const struct field_spec *spec;
};

/* How much of @s to quote: up to 16 bytes of the item that starts there. */
static int token_len(const char *s)
{
	int n = 0;

	while (n < 16 && !is_field_end(s[n]) && s[n] != ',')
		n++;
	return n;
}

/*
 * Read one value: a number or, for months and weekdays, a name.  Range
 * checks happen here so that the message can quote the value as written.
 */
static int parse_value(struct parser *p, int *out)
{
	const struct field_spec *spec = p->spec;
	const char *start = p->s;
	int v = 0, n;

	if (is_digit(*p->s)) {
		while (is_digit(*p->s)) {
			if (v < 100000)
				v = v * 10 + (*p->s - '0');
			p->s++;
		}
		n = (int)(p->s - start);
		if (v < spec->lo || v > spec->hi)
			return bad_cron(
			    p->expr, "%s %.*s is out of range %d-%d%s",
			    spec->name, n, start, spec->lo, spec->hi,
			    spec == &specs[F_WDAY] && v == 7
				? " (use 0 or SUN for Sunday)"
				: "");
		*out = v;
		return 0;
	}
	if (is_alpha(*p->s)) {
		int i;

		while (is_alpha(*p->s))
			p->s++;
		n = (int)(p->s - start);
		for (i = 0; i < spec->nr_names; i++) {
			const char *name = spec->names[i];

			if (n == 3 && upper(start[0]) == name[0] &&
			    upper(start[1]) == name[1] &&
			    upper(start[2]) == name[2]) {
				*out = spec->lo + i;
				return 0;
			}
		}
		if (n > 16)
			n = 16;
		if (spec->names)
			return bad_cron(p->expr,
					"%s '%.*s' is not a name (%s-%s)",
					spec->name, n, start, spec->names[0],
					spec->names[spec->nr_names - 1]);
		return bad_cron(p->expr, "%s '%.*s' is not a number",
				spec->name, n, start);
	}
	if (is_field_end(*p->s) || *p->s == ',' || *p->s == '-' || *p->s == '/')
		return bad_cron(p->expr, "a value is missing in the %s field",
				spec->name);
	return bad_cron(p->expr,
			"unexpected '%.*s' in the %s field (only digits, "
			"names, '*', ',', '-' and '/' are allowed)",
			token_len(p->s), p->s, spec->name);
}

static int parse_step(struct parser *p, int *out)
{
	const struct field_spec *spec = p->spec;
	const char *start = p->s;
	int span = spec->hi - spec->lo + 1;
	int v = 0, n;

	if (!is_digit(*p->s)) {
		n = token_len(p->s);
		if (!n)
			return bad_cron(p->expr,
					"a step is missing after '/' in the "
					"%s field",
					spec->name);
		return bad_cron(p->expr, "%s step '%.*s' is not a number",
				spec->name, n, p->s);
	}
	while (is_digit(*p->s)) {
		if (v < 100000)
			v = v * 10 + (*p->s - '0');
		p->s++;
	}
	n = (int)(p->s - start);
	if (v < 1 || v > span)
		return bad_cron(p->expr, "%s step %.*s is out of range 1-%d",
				spec->name, n, start, span);
	*out = v;
	return 0;
}

/* Parse one field into a bit set; p->s is left at the end of the field. */
static int parse_field(struct parser *p, uint64_t *bits)
{
	const struct field_spec *spec = p->spec;
	uint64_t set = 0;
	int rc;

	for (;;) {
		const char *item = p->s;
		int lo = 0, hi, step = 1, v;
		bool single = false;

		if (*p->s == '*') {
			lo = spec->lo;
			hi = spec->hi;
			p->s++;
		} else {
			rc = parse_value(p, &lo);
			if (rc < 0)
				return rc;
			hi = lo;
			single = true;
			if (*p->s == '-') {
				p->s++;
				rc = parse_value(p, &hi);
				if (rc < 0)
					return rc;
				single = false;
				if (lo > hi)
					return bad_cron(
					    p->expr,
					    "%s range '%.*s' runs "
					    "backwards; write the low "
					    "end first",
					    spec->name, (int)(p->s - item),
					    item);
			}
		}
		if (*p->s == '/') {
			p->s++;
			rc = parse_step(p, &step);
			if (rc < 0)
				return rc;
			/* 'a/n' means 'a-max/n', as GitHub's '20/15'. */
			if (single)
				hi = spec->hi;
		}
		for (v = lo; v <= hi; v += step)
			set |= UINT64_C(1) << v;
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (is_field_end(*p->s))
			break;
		return bad_cron(p->expr,
				"unexpected '%.*s' in the %s field (only "
				"digits, names, '*', ',', '-' and '/' are "
				"allowed)",
				token_len(p->s), p->s, spec->name);
	}
	*bits = set;
	return 0;
}

static int count_fields(const char *s)
{
	int n = 0;

	for (;;) {
		while (is_blank(*s))
			s++;
		if (!*s)
			return n;
		n++;
		while (*s && !is_blank(*s))
			s++;
	}
}

int guts_cron_parse(struct guts_cron *out, const char *expr)
{
	struct guts_cron c;
	struct parser p;
	uint64_t bits[F_COUNT];
	int nr, i, rc;

	if (!expr)
		expr = "";
	if (strlen(expr) > GUTS_CRON_MAX_LEN)
		return bad_cron(expr, "longer than %d bytes",
				GUTS_CRON_MAX_LEN);
	p.expr = expr;
	p.s = expr;
	while (is_blank(*p.s))
		p.s++;
	if (*p.s == '@')
		return bad_cron(expr,
				"shortcuts like '@daily' are not supported; "
				"write the five fields, e.g. '0 0 * * *'");
	nr = count_fields(expr);
	if (nr != F_COUNT)
		return bad_cron(expr,
				"expected 5 fields (minute hour day-of-month "
				"month day-of-week), found %d%s",
				nr,
				nr > F_COUNT
				    ? "; seconds and years are not supported"
				    : "");

	memset(&c, 0, sizeof(c));
	for (i = 0; i < F_COUNT; i++) {
		while (is_blank(*p.s))
			p.s++;
		p.spec = &specs[i];
		if (i == F_MDAY && *p.s == '*')
			c.flags |= GUTS_CRON_DOM_STAR;
		if (i == F_WDAY && *p.s == '*')
			c.flags |= GUTS_CRON_DOW_STAR;
		rc = parse_field(&p, &bits[i]);
		if (rc < 0)
			return rc;
	}
	c.minutes = bits[F_MINUTE];
	c.hours = (uint32_t)bits[F_HOUR];
	c.mdays = (uint32_t)bits[F_MDAY];
	c.months = (uint16_t)bits[F_MONTH];
	c.wdays = (uint8_t)bits[F_WDAY];
	*out = c;
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[13] = {0,	31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : dim[m];
}

/*
 * Civil date of a day number, counting years from March so that the leap
 * day falls at the end of the year; eras are the 400-year cycles.
 */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468; /* days from 0000-03-01 to 1970-01-01 */
	era = floor_div(z, CYCLE_DAYS);
	doe = z - era * CYCLE_DAYS;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t day)
{
	return (int)((day % 7 + 7 + 4) % 7);
}

static bool day_matches(const struct guts_cron *c, int mday, int wday)
{
	bool dom = (c->mdays >> mday) & 1;
	bool dow = (c->wdays >> wday) & 1;

	if (c->flags & (GUTS_CRON_DOM_STAR | GUTS_CRON_DOW_STAR))
		return dom && dow;
	return dom || dow;
}

bool guts_cron_match(const struct guts_cron *c, time_t t)
{
	int64_t day = (int64_t)t / 86400;
	int64_t sod = (int64_t)t % 86400;
	int64_t y;
	int m, d;

	/* Not floor_div(): day * 86400 would overflow near INT64_MIN. */
	if (sod < 0) {
		sod += 86400;
		day--;
	}

	civil_from_days(day, &y, &m, &d);
	return ((c->minutes >> ((sod % 3600) / 60)) & 1) &&
	       ((c->hours >> (sod / 3600)) & 1) && ((c->months >> m) & 1) &&
	       day_matches(c, d, weekday(day));
}

/* The lowest set bit of @set at or above @from, or -1. */
static int next_bit(uint64_t set, int from)
{
	if (from > 63)
		return -1;
	set &= ~UINT64_C(0) << from;
	return set ? __builtin_ctzll(set) : -1;
}

/*
 * Whether some date satisfies the day and month fields.  With the either-day
 * rule any month will do, since every month has every weekday.  When both
 * day fields must match, it is enough that one allowed month has one allowed
 * day of the month: over the 400-year cycle (a whole number of weeks) every
 * date, 29 February included, falls on every weekday.
 */
static bool some_date_fires(const struct guts_cron *c, uint32_t mdays)
{
	static const int longest[13] = {0,  31, 29, 31, 30, 31, 30,
					31, 31, 30, 31, 30, 31};
	bool both = c->flags & (GUTS_CRON_DOM_STAR | GUTS_CRON_DOW_STAR);
	uint8_t wdays = c->wdays & 0x7f;
	int m;

	if (!both && wdays)
		return true;
	if (both && !wdays)
		return false;
	for (m = 1; m <= 12; m++) {
		if (((c->months >> m) & 1) &&
		    (mdays & ((UINT64_C(2) << longest[m]) - 2)))
			return true;
	}
	return false;
}

int guts_cron_next(const struct guts_cron *c, time_t after, time_t *next)
{
	uint64_t minutes = c->minutes & ((UINT64_C(1) << 60) - 1);
	uint64_t hours = c->hours & ((UINT64_C(1) << 24) - 1);
	uint32_t mdays = c->mdays & ~UINT32_C(1);
	bool both = c->flags & (GUTS_CRON_DOM_STAR | GUTS_CRON_DOW_STAR);
	int64_t t, day, sod, limit, y;
	int m, d, hour, minute;

	if ((int64_t)after < MIN_TIME || (int64_t)after > MAX_TIME)
		return guts_error(GUTS_EINVAL,
				  "cron: time %lld is outside the years "
				  "0-9999",
				  (long long)after);
	if (!minutes || !hours || !some_date_fires(c, mdays))
		goto never;
	t = floor_div((int64_t)after, 60) * 60 + 60;
	day = floor_div(t, 86400);
	sod = t - day * 86400;
	hour = (int)(sod / 3600);
	minute = (int)(sod % 3600 / 60);
	civil_from_days(day, &y, &m, &d);

	/*
	 * The loop only ever moves forward to a day that could match: it
	 * skips months outside the month set and, when both day fields must
	 * match, jumps straight to the next allowed day of the month.  The
	 * limit is a safety net; some_date_fires() already said a date exists
	 * and the calendar repeats after one cycle.
	 */
	for (limit = day + CYCLE_DAYS; day <= limit;) {
		int dim = days_in_month(y, m);
		int nd = d;

		if ((c->months >> m) & 1) {
			if (both)
				nd = next_bit(mdays, d);
			if (nd < 0 || nd > dim)
				nd = dim + 1;
		} else {
			nd = dim + 1;
		}
		if (nd > dim) {
			day += dim - d + 1;
			d = 1;
			hour = minute = 0;
			if (++m > 12) {
				m = 1;
				y++;
			}
			continue;
		}
		if (nd != d) {
			day += nd - d;
			d = nd;
			hour = minute = 0;
		}
		if (day_matches(c, d, weekday(day))) {
			int h = next_bit(hours, hour);
			int mi = -1;

			if (h == hour)
				mi = next_bit(minutes, minute);
			if (h >= 0 && mi < 0) {
				h = next_bit(hours, h == hour ? hour + 1 : h);
				mi = next_bit(minutes, 0);
			}
			if (h >= 0 && mi >= 0) {
				*next =
				    (time_t)(day * 86400 + (int64_t)h * 3600 +
					     (int64_t)mi * 60);
				return 0;
			}
		}
		day++;
		hour = minute = 0;
		if (++d > dim) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
never:
	return guts_error(GUTS_ENOTFOUND,
			  "cron schedule never fires: no date has a matching "
			  "day-of-month, month and day-of-week");
}
