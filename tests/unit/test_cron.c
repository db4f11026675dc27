/* Unit tests for lib/workflow/cron.c: GitHub Actions schedules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "guts/cron.h"
#include "guts/error.h"

/* A UTC time through libc, independent of the library's own calendar code. */
static time_t utc(int y, int mon, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

static struct guts_cron parse_ok(const char *expr)
{
	struct guts_cron c;

	if (guts_cron_parse(&c, expr) < 0)
		fail_msg("'%s' did not parse: %s", expr, guts_error_message());
	return c;
}

static void check_error(const char *expr, const char *message)
{
	struct guts_cron c;

	memset(&c, 0xab, sizeof(c));
	if (guts_cron_parse(&c, expr) != GUTS_EINVAL)
		fail_msg("'%s' parsed, expected an error", expr);
	assert_int_equal(c.minutes, 0xabababababababab);
	assert_string_equal(guts_error_message(), message);
}

static time_t next_ok(const struct guts_cron *c, time_t after)
{
	time_t t = 0;

	if (guts_cron_next(c, after, &t) < 0)
		fail_msg("next failed: %s", guts_error_message());
	return t;
}

static uint64_t bits(const int *v, size_t nr)
{
	uint64_t set = 0;
	size_t i;

	for (i = 0; i < nr; i++)
		set |= UINT64_C(1) << v[i];
	return set;
}

#define BITS(...)                        \
	bits((const int[]){__VA_ARGS__}, \
	     sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

static void test_cron__parses_lists_ranges_steps_and_names(void **state)
{
	struct guts_cron c;

	(void)state;
	c = parse_ok("*/15 0-6/2 1,15 JAN-MAR mon-fri");
	assert_int_equal(c.minutes, BITS(0, 15, 30, 45));
	assert_int_equal(c.hours, BITS(0, 2, 4, 6));
	assert_int_equal(c.mdays, BITS(1, 15));
	assert_int_equal(c.months, BITS(1, 2, 3));
	assert_int_equal(c.wdays, BITS(1, 2, 3, 4, 5));
	assert_int_equal(c.flags, 0);

	c = parse_ok("2,10 4,5 * * *");
	assert_int_equal(c.minutes, BITS(2, 10));
	assert_int_equal(c.hours, BITS(4, 5));
	assert_int_equal(c.mdays, 0xfffffffe);
	assert_int_equal(c.months, 0x1ffe);
	assert_int_equal(c.wdays, 0x7f);
	assert_int_equal(c.flags, GUTS_CRON_DOM_STAR | GUTS_CRON_DOW_STAR);
}

static void test_cron__step_from_single_value_runs_to_field_max(void **state)
{
	struct guts_cron c;

	(void)state;
	/* GitHub's own example: '20/15' is minutes 20, 35 and 50. */
	c = parse_ok("20/15 * * * *");
	assert_int_equal(c.minutes, BITS(20, 35, 50));
	c = parse_ok("0 22/1 * * *");
	assert_int_equal(c.hours, BITS(22, 23));
	c = parse_ok("0 0 * 11/3 *");
	assert_int_equal(c.months, BITS(11));
}

static void
test_cron__names_are_case_insensitive_and_mix_with_numbers(void **state)
{
	struct guts_cron c;

	(void)state;
	c = parse_ok("0 0 * jan,Feb,MAR,12 sun,Sat");
	assert_int_equal(c.months, BITS(1, 2, 3, 12));
	assert_int_equal(c.wdays, BITS(0, 6));
	/* From github/docs#29634: ranges of names in a list. */
	c = parse_ok("0 0 * * SUN-TUE,THU-SAT");
	assert_int_equal(c.wdays, BITS(0, 1, 2, 4, 5, 6));
	c = parse_ok("0 0 * * MON-FRI/2");
	assert_int_equal(c.wdays, BITS(1, 3, 5));
}

static void test_cron__accepts_extra_blanks_between_fields(void **state)
{
	struct guts_cron c;

	(void)state;
	c = parse_ok("  30 \t5,17  * *  *  ");
	assert_int_equal(c.minutes, BITS(30));
	assert_int_equal(c.hours, BITS(5, 17));
}

static void test_cron__rejects_out_of_range_naming_field_and_value(void **state)
{
	(void)state;
	check_error("61 * * * *",
		    "cron '61 * * * *': minute 61 is out of range 0-59");
	check_error("0 24 * * *",
		    "cron '0 24 * * *': hour 24 is out of range 0-23");
	check_error("0 0 0 * *",
		    "cron '0 0 0 * *': day-of-month 0 is out of range 1-31");
	check_error("0 0 32 * *",
		    "cron '0 0 32 * *': day-of-month 32 is out of range 1-31");
	check_error("0 0 * 13 *",
		    "cron '0 0 * 13 *': month 13 is out of range 1-12");
	check_error("0 0 1-99999999999 * *",
		    "cron '0 0 1-99999999999 * *': day-of-month 99999999999 "
		    "is out of range 1-31");
}

static void test_cron__rejects_seven_for_sunday_as_github_does(void **state)
{
	(void)state;
	check_error("0 6 * * 7", "cron '0 6 * * 7': day-of-week 7 is out of "
				 "range 0-6 (use 0 or SUN for Sunday)");
	check_error("0 6 * * 5-7", "cron '0 6 * * 5-7': day-of-week 7 is out "
				   "of range 0-6 (use 0 or SUN for Sunday)");
}

static void test_cron__rejects_shortcuts_and_wrong_field_counts(void **state)
{
	(void)state;
	check_error("@daily", "cron '@daily': shortcuts like '@daily' are not "
			      "supported; write the five fields, e.g. "
			      "'0 0 * * *'");
	check_error("* * * *", "cron '* * * *': expected 5 fields (minute "
			       "hour day-of-month month day-of-week), found 4");
	check_error("0 * * * * *",
		    "cron '0 * * * * *': expected 5 fields (minute hour "
		    "day-of-month month day-of-week), found 6; seconds and "
		    "years are not supported");
	check_error("", "cron '': expected 5 fields (minute hour day-of-month "
			"month day-of-week), found 0");
	check_error(NULL, "cron '': expected 5 fields (minute hour "
			  "day-of-month month day-of-week), found 0");
}

static void test_cron__rejects_malformed_items(void **state)
{
	(void)state;
	check_error("*/0 * * * *",
		    "cron '*/0 * * * *': minute step 0 is out of range 1-60");
	check_error("0 */25 * * *",
		    "cron '0 */25 * * *': hour step 25 is out of range 1-24");
	check_error("*/ * * * *", "cron '*/ * * * *': a step is missing after "
				  "'/' in the minute field");
	check_error("*/x * * * *",
		    "cron '*/x * * * *': minute step 'x' is not a number");
	check_error("5-1 * * * *", "cron '5-1 * * * *': minute range '5-1' "
				   "runs backwards; write the low end first");
	check_error("1,,2 * * * *", "cron '1,,2 * * * *': a value is missing "
				    "in the minute field");
	check_error("1, * * * *", "cron '1, * * * *': a value is missing in "
				  "the minute field");
	check_error("1- * * * *", "cron '1- * * * *': a value is missing in "
				  "the minute field");
	check_error("MON * * * *",
		    "cron 'MON * * * *': minute 'MON' is not a number");
	check_error("0 0 * FOO *", "cron '0 0 * FOO *': month 'FOO' is not a "
				   "name (JAN-DEC)");
	check_error("0 0 * * MONDAY", "cron '0 0 * * MONDAY': day-of-week "
				      "'MONDAY' is not a name (SUN-SAT)");
	check_error("0 0 ? * MON",
		    "cron '0 0 ? * MON': unexpected '?' in the day-of-month "
		    "field (only digits, names, '*', ',', '-' and '/' are "
		    "allowed)");
	check_error("0 0 L * *",
		    "cron '0 0 L * *': day-of-month 'L' is not a number");
	check_error("0 0 * * 1#2",
		    "cron '0 0 * * 1#2': unexpected '#2' in the day-of-week "
		    "field (only digits, names, '*', ',', '-' and '/' are "
		    "allowed)");
	check_error("*5 * * * *",
		    "cron '*5 * * * *': unexpected '5' in the minute field "
		    "(only digits, names, '*', ',', '-' and '/' are "
		    "allowed)");
}

static void test_cron__match_checks_every_field_in_utc(void **state)
{
	struct guts_cron c = parse_ok("30 5,17 * * *");

	(void)state;
	assert_true(guts_cron_match(&c, utc(2024, 3, 10, 5, 30, 0)));
	/* Seconds do not matter: the whole minute matches. */
	assert_true(guts_cron_match(&c, utc(2024, 3, 10, 17, 30, 59)));
	assert_false(guts_cron_match(&c, utc(2024, 3, 10, 5, 31, 0)));
	assert_false(guts_cron_match(&c, utc(2024, 3, 10, 6, 30, 0)));

	c = parse_ok("0 0 * FEB *");
	assert_true(guts_cron_match(&c, utc(2024, 2, 29, 0, 0, 0)));
	assert_false(guts_cron_match(&c, utc(2024, 3, 1, 0, 0, 0)));
	/* Before the epoch too. */
	assert_true(guts_cron_match(&c, utc(1969, 2, 3, 0, 0, 0)));
	assert_false(guts_cron_match(&c, utc(1969, 1, 31, 0, 0, 0)));
}

static void
test_cron__days_match_either_field_when_both_restricted(void **state)
{
	/* 2024-01-01 is a Monday, 2024-02-01 a Thursday. */
	struct guts_cron c = parse_ok("0 0 1 * MON");

	(void)state;
	assert_true(guts_cron_match(&c, utc(2024, 1, 1, 0, 0, 0)));
	assert_true(guts_cron_match(&c, utc(2024, 1, 8, 0, 0, 0)));
	assert_true(guts_cron_match(&c, utc(2024, 2, 1, 0, 0, 0)));
	assert_false(guts_cron_match(&c, utc(2024, 1, 2, 0, 0, 0)));
}

static void
test_cron__days_match_both_fields_when_one_starts_with_star(void **state)
{
	struct guts_cron c = parse_ok("0 0 */2 * MON");

	(void)state;
	assert_int_equal(c.flags, GUTS_CRON_DOM_STAR);
	/* Odd days that are Mondays: the 1st and 15th of January 2024. */
	assert_true(guts_cron_match(&c, utc(2024, 1, 1, 0, 0, 0)));
	assert_true(guts_cron_match(&c, utc(2024, 1, 15, 0, 0, 0)));
	assert_false(guts_cron_match(&c, utc(2024, 1, 8, 0, 0, 0)));
	assert_false(guts_cron_match(&c, utc(2024, 1, 3, 0, 0, 0)));

	c = parse_ok("0 0 1 * *");
	assert_true(guts_cron_match(&c, utc(2024, 2, 1, 0, 0, 0)));
	assert_false(guts_cron_match(&c, utc(2024, 2, 5, 0, 0, 0)));
}

static void test_cron__next_is_strictly_after_the_given_time(void **state)
{
	struct guts_cron c = parse_ok("* * * * *");

	(void)state;
	assert_int_equal(next_ok(&c, utc(2024, 5, 1, 10, 0, 0)),
			 utc(2024, 5, 1, 10, 1, 0));
	assert_int_equal(next_ok(&c, utc(2024, 5, 1, 10, 0, 30)),
			 utc(2024, 5, 1, 10, 1, 0));
	c = parse_ok("30 5 * * *");
	assert_int_equal(next_ok(&c, utc(2024, 5, 1, 5, 30, 0)),
			 utc(2024, 5, 2, 5, 30, 0));
	assert_int_equal(next_ok(&c, utc(2024, 5, 1, 5, 29, 59)),
			 utc(2024, 5, 1, 5, 30, 0));
}

static void test_cron__next_rolls_over_hours_days_months_and_years(void **state)
{
	struct guts_cron c;

	(void)state;
	c = parse_ok("15 * * * *");
	assert_int_equal(next_ok(&c, utc(2024, 5, 1, 10, 20, 0)),
			 utc(2024, 5, 1, 11, 15, 0));
	c = parse_ok("0 8-23 * * 1,2,3,4,5");
	/* Friday 23:00 -> Monday 08:00. */
	assert_int_equal(next_ok(&c, utc(2024, 5, 3, 23, 0, 0)),
			 utc(2024, 5, 6, 8, 0, 0));
	c = parse_ok("0 0 1 1 *");
	assert_int_equal(next_ok(&c, utc(2023, 12, 31, 23, 59, 0)),
			 utc(2024, 1, 1, 0, 0, 0));
	c = parse_ok("0 0 31 * *");
	assert_int_equal(next_ok(&c, utc(2024, 1, 31, 0, 0, 0)),
			 utc(2024, 3, 31, 0, 0, 0));
	c = parse_ok("45 23 * * *");
	assert_int_equal(next_ok(&c, utc(2024, 12, 31, 23, 50, 0)),
			 utc(2025, 1, 1, 23, 45, 0));
}

static void test_cron__next_skips_to_feb_29_in_leap_year(void **state)
{
	struct guts_cron c = parse_ok("0 12 29 2 *");

	(void)state;
	assert_int_equal(next_ok(&c, utc(2023, 3, 1, 0, 0, 0)),
			 utc(2024, 2, 29, 12, 0, 0));
	/* 2100 is not a leap year: eight years to wait. */
	assert_int_equal(next_ok(&c, utc(2096, 3, 1, 0, 0, 0)),
			 utc(2104, 2, 29, 12, 0, 0));
}

static void test_cron__next_finds_dates_decades_away(void **state)
{
	/*
	 * Feb 29 that is also a Sunday (the day-of-week field starts with
	 * '*', so both must match): 2088, then 2128.  A five-year horizon
	 * would wrongly call this schedule impossible.
	 */
	struct guts_cron c = parse_ok("0 0 29 2 */7");

	(void)state;
	assert_int_equal(next_ok(&c, utc(2004, 3, 1, 0, 0, 0)),
			 utc(2032, 2, 29, 0, 0, 0));
	assert_int_equal(next_ok(&c, utc(2088, 3, 1, 0, 0, 0)),
			 utc(2128, 2, 29, 0, 0, 0));
	/* Days {1, 31} of February that are Sundays: only ever the 1st. */
	c = parse_ok("0 0 */30 2 SUN");
	assert_int_equal(next_ok(&c, utc(2021, 2, 8, 0, 0, 0)),
			 utc(2026, 2, 1, 0, 0, 0));
}

static void
test_cron__next_reports_never_for_impossible_dates_quickly(void **state)
{
	/* clang-format off */
	static const char *const never[] = {
		"0 0 31 2 *",
		"0 0 30 2 *",
		"0 0 31 4,6,9,11 *",
		"* * 31 2,4 */1",
		"0 0 30,31 2 */7",
	};
	/* clang-format on */
	struct guts_cron c;
	clock_t start = clock();
	double secs;
	time_t t = 12345;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		c = parse_ok(never[i]);
		assert_int_equal(
		    guts_cron_next(&c, utc(2024, 1, 1, 0, 0, 0), &t),
		    GUTS_ENOTFOUND);
		assert_int_equal(t, 12345);
		assert_non_null(strstr(guts_error_message(), "never fires"));
	}
	/* A hand-made schedule with no minutes never fires either. */
	memset(&c, 0, sizeof(c));
	c.hours = c.mdays = c.months = c.wdays = 0xfe;
	assert_int_equal(guts_cron_next(&c, 0, &t), GUTS_ENOTFOUND);
	secs = (double)(clock() - start) / CLOCKS_PER_SEC;
	if (secs > 0.1)
		fail_msg("impossible schedules took %.3f s", secs);
}

static void test_cron__next_rejects_times_outside_years_0_to_9999(void **state)
{
	struct guts_cron c = parse_ok("* * * * *");
	time_t t;

	(void)state;
	assert_int_equal(guts_cron_next(&c, (time_t)INT64_C(253402300800), &t),
			 GUTS_EINVAL);
	assert_int_equal(guts_cron_next(&c, (time_t)-INT64_C(62167219201), &t),
			 GUTS_EINVAL);
	/* The last minute of 9999 is fine; the next minute is year 10000. */
	assert_int_equal(next_ok(&c, (time_t)INT64_C(253402300740)),
			 (time_t)INT64_C(253402300800));
	/* guts_cron_match() takes any time at all. */
	assert_true(guts_cron_match(&c, (time_t)INT64_MIN));
	assert_true(guts_cron_match(&c, (time_t)INT64_MAX));
	/* The year 0 is fine too, and a leap year. */
	c = parse_ok("0 0 29 2 *");
	assert_int_equal(next_ok(&c, (time_t)-INT64_C(62167219200)),
			 (time_t)-INT64_C(62162121600));
}

/* The first match after @after found one minute at a time, or -1. */
static time_t brute_next(const struct guts_cron *c, time_t after,
			 time_t horizon)
{
	time_t t = after - ((after % 60) + 60) % 60 + 60;

	for (; t <= after + horizon; t += 60) {
		if (guts_cron_match(c, t))
			return t;
	}
	return -1;
}

static void test_cron__next_agrees_with_minute_by_minute_search(void **state)
{
	/* clang-format off */
	static const char *const exprs[] = {
		"* * * * *",
		"*/7 */5 * * *",
		"59 23 * * *",
		"0 0 1 * MON",
		"0 0 */2 * MON",
		"0 12 13 * FRI",
		"5,55 1-3 * 2 *",
		"0 0 * * SUN",
		"30 4 31 * *",
		"0 0 1-7 * 1",
		"0 0 29 2 *",
		"17 3 * JAN,JUL *",
		"0 9-17/2 * * 1-5",
	};
	/* clang-format on */
	const time_t starts[] = {
	    utc(2024, 2, 27, 23, 59, 30),  utc(2023, 12, 31, 23, 0, 0),
	    utc(1999, 12, 31, 23, 59, 59), utc(2100, 2, 27, 12, 0, 0),
	    utc(1969, 12, 31, 23, 58, 0),
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		struct guts_cron c;

		c = parse_ok(exprs[i]);
		for (j = 0; j < sizeof(starts) / sizeof(starts[0]); j++) {
			time_t want =
			    brute_next(&c, starts[j], (time_t)4 * 366 * 86400);
			time_t got = 0;

			assert_int_equal(guts_cron_next(&c, starts[j], &got),
					 0);
			if (want != got)
				fail_msg("'%s' after %lld: got %lld, want "
					 "%lld",
					 exprs[i], (long long)starts[j],
					 (long long)got, (long long)want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cron__parses_lists_ranges_steps_and_names),
	    cmocka_unit_test(
		test_cron__step_from_single_value_runs_to_field_max),
	    cmocka_unit_test(
		test_cron__names_are_case_insensitive_and_mix_with_numbers),
	    cmocka_unit_test(test_cron__accepts_extra_blanks_between_fields),
	    cmocka_unit_test(
		test_cron__rejects_out_of_range_naming_field_and_value),
	    cmocka_unit_test(
		test_cron__rejects_seven_for_sunday_as_github_does),
	    cmocka_unit_test(
		test_cron__rejects_shortcuts_and_wrong_field_counts),
	    cmocka_unit_test(test_cron__rejects_malformed_items),
	    cmocka_unit_test(test_cron__match_checks_every_field_in_utc),
	    cmocka_unit_test(
		test_cron__days_match_either_field_when_both_restricted),
	    cmocka_unit_test(
		test_cron__days_match_both_fields_when_one_starts_with_star),
	    cmocka_unit_test(test_cron__next_is_strictly_after_the_given_time),
	    cmocka_unit_test(
		test_cron__next_rolls_over_hours_days_months_and_years),
	    cmocka_unit_test(test_cron__next_skips_to_feb_29_in_leap_year),
	    cmocka_unit_test(test_cron__next_finds_dates_decades_away),
	    cmocka_unit_test(
		test_cron__next_reports_never_for_impossible_dates_quickly),
	    cmocka_unit_test(
		test_cron__next_rejects_times_outside_years_0_to_9999),
	    cmocka_unit_test(
		test_cron__next_agrees_with_minute_by_minute_search),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
