/*
 * Unit tests for node/schedule.c: which crons a workflow schedules, and the
 * durable claim of a fire (once per workflow, cron and minute, undone by a
 * rollback) against a real SQLite store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/strvec.h"
#include "schedule.h"
#include "store.h"

#define JOBS "jobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n"

static int crons_of(const char *yaml, struct guts_strvec *out)
{
	guts_strvec_init(out);
	return schedule_crons("w.yml", yaml, strlen(yaml), out);
}

static void test_schedule__crons_are_kept_as_written_without_repeats(void **s)
{
	struct guts_strvec v;

	(void)s;
	assert_int_equal(crons_of("on:\n  schedule:\n"
				  "    - cron: '*/5 * * * *'\n"
				  "    - cron: '0  3 * * MON'\n"
				  "    - cron: '*/5 * * * *'\n"
				  "  push:\n" JOBS,
				  &v),
			 0);
	assert_int_equal(v.nr, 2);
	assert_string_equal(v.v[0], "*/5 * * * *");
	assert_string_equal(v.v[1], "0  3 * * MON");
	guts_strvec_release(&v);
}

static void test_schedule__a_workflow_without_schedule_has_none(void **s)
{
	struct guts_strvec v;

	(void)s;
	assert_int_equal(crons_of("on: [push, workflow_dispatch]\n" JOBS, &v),
			 0);
	assert_int_equal(v.nr, 0);
	guts_strvec_release(&v);
}

static void test_schedule__an_invalid_workflow_schedules_nothing(void **s)
{
	struct guts_strvec v;

	(void)s;
	/* A bad cron, and a job without runs-on. */
	assert_int_equal(crons_of("on:\n  schedule:\n"
				  "    - cron: '61 * * * *'\n" JOBS,
				  &v),
			 GUTS_EINVAL);
	assert_int_equal(v.nr, 0);
	assert_non_null(strstr(guts_error_message(), "w.yml"));
	assert_non_null(strstr(guts_error_message(), "61"));
	guts_strvec_release(&v);
	assert_int_equal(
	    crons_of("on:\n  schedule:\n"
		     "    - cron: '* * * * *'\n"
		     "jobs:\n  a:\n    steps:\n      - run: echo\n",
		     &v),
	    GUTS_EINVAL);
	assert_int_equal(v.nr, 0);
	guts_strvec_release(&v);
}

/* A store in a fresh directory with one repository and workflow (id 1). */
struct fixture {
	char dir[64];
	char *db;
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = guts_xcalloc(1, sizeof(*f));
	char *url;

	snprintf(f->dir, sizeof(f->dir), "/tmp/guts-schedule-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->db = guts_xasprintf("%s/guts.db", f->dir);
	url = guts_xasprintf("sqlite:%s", f->db);
	assert_int_equal(store_open(&f->st, url), 0);
	free(url);
	assert_int_equal(
	    store_exec(f->st,
		       "INSERT INTO repos (id, owner, name, visibility, "
		       "default_branch, created_at, updated_at) VALUES (1, "
		       "'o', 'r', 'public', 'main', 0, 0)",
		       NULL, 0, NULL),
	    0);
	assert_int_equal(
	    store_exec(f->st,
		       "INSERT INTO workflows (id, repo_id, path, name, "
		       "source, valid, created_at, updated_at) VALUES (1, 1, "
		       "'.guts/workflows/t.yml', 'T', '', 1, 0, 0)",
		       NULL, 0, NULL),
	    0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	const char *const ext[] = {"", "-wal", "-shm"};

	store_close(f->st);
	for (size_t i = 0; i < 3; i++) {
		char *p = guts_xasprintf("%s%s", f->db, ext[i]);

		unlink(p);
		free(p);
	}
	rmdir(f->dir);
	free(f->db);
	free(f);
	return 0;
}

#define MIN(m) ((int64_t)(m)*60000)

static void test_schedule__a_minute_is_claimed_once(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;

	assert_int_equal(schedule_claim(st, 1, "* * * * *", MIN(100)), 1);
	/* The same minute again (a restart within it): not again. */
	assert_int_equal(schedule_claim(st, 1, "* * * * *", MIN(100)), 0);
	/* An earlier minute (a clock set back): not either. */
	assert_int_equal(schedule_claim(st, 1, "* * * * *", MIN(99)), 0);
	/* The next minute, and another cron of the same minute, do fire. */
	assert_int_equal(schedule_claim(st, 1, "* * * * *", MIN(101)), 1);
	assert_int_equal(schedule_claim(st, 1, "*/2 * * * *", MIN(101)), 1);
	assert_int_equal(schedule_claim(st, 1, "* * * * *", MIN(101)), 0);
}

static void test_schedule__the_claim_survives_reopening(void **state)
{
	struct fixture *f = *state;
	char *url = guts_xasprintf("sqlite:%s", f->db);

	assert_int_equal(schedule_claim(f->st, 1, "0 * * * *", MIN(60)), 1);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(&f->st, url), 0);
	free(url);
	assert_int_equal(schedule_claim(f->st, 1, "0 * * * *", MIN(60)), 0);
	assert_int_equal(schedule_claim(f->st, 1, "0 * * * *", MIN(120)), 1);
}

static void test_schedule__a_rolled_back_claim_is_not_kept(void **state)
{
	struct fixture *f = *state;

	/* The run's transaction failed after the claim: the minute is not
	 * spent, so the next try creates the run. */
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(schedule_claim(f->st, 1, "* * * * *", MIN(7)), 1);
	store_rollback(f->st);
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(schedule_claim(f->st, 1, "* * * * *", MIN(7)), 1);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(schedule_claim(f->st, 1, "* * * * *", MIN(7)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_schedule__crons_are_kept_as_written_without_repeats),
	    cmocka_unit_test(
		test_schedule__a_workflow_without_schedule_has_none),
	    cmocka_unit_test(
		test_schedule__an_invalid_workflow_schedules_nothing),
	    cmocka_unit_test_setup_teardown(
		test_schedule__a_minute_is_claimed_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_schedule__the_claim_survives_reopening, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_schedule__a_rolled_back_claim_is_not_kept, setup,
		teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
