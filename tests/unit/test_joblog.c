/* Unit tests for the node's job logs: appends, caps, recovery, archives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "joblog.h"

#define TS_LEN 27 /* "2026-11-28T09:00:00.123456Z" */

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static char *make_tmpdir(void)
{
	char *dir = guts_xstrdup("/tmp/guts-joblog-XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static void rm_rf(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static char *live_path(const char *dir, int64_t id)
{
	return guts_xasprintf("%s/%lld.log", dir, (long long)id);
}

static char *zst_path(const char *dir, int64_t id)
{
	return guts_xasprintf("%s/%lld.log.zst", dir, (long long)id);
}

static int exists(const char *dir, int64_t id, int archived)
{
	char *path = archived ? zst_path(dir, id) : live_path(dir, id);
	int ok = access(path, F_OK) == 0;

	free(path);
	return ok;
}

/* The live file's bytes (caller frees); *len gets its length. */
static char *read_live(const char *dir, int64_t id, size_t *len)
{
	char *path = live_path(dir, id), *text = NULL;

	assert_int_equal(guts_fs_read_all(&text, len, path, 64 << 20), 0);
	free(path);
	return text;
}

static void assert_bytes(const char *got, size_t got_len, const char *want,
			 size_t want_len)
{
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
}

static void assert_timestamp(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";

	for (size_t i = 0; i < TS_LEN; i++) {
		if (shape[i] == 'd')
			assert_true(isdigit((unsigned char)s[i]));
		else
			assert_int_equal(s[i], shape[i]);
	}
}

static size_t count(const char *hay, size_t len, const char *needle)
{
	size_t n = 0, nl = strlen(needle);

	for (const char *p = hay;
	     (p = memmem(p, len - (size_t)(p - hay), needle, nl)); p += nl)
		n++;
	return n;
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Varied log text of about @size bytes: timestamped lines of random words,
 * group markers, and now and then a line of @long_line bytes.
 */
static char *make_text(size_t size, uint64_t seed, size_t long_line,
		       size_t *len)
{
	static const char *const words[] = {"compiling", "src/main.c",
					    "warning:",	 "unused",
					    "variable",	 "ok",
					    "PASS",	 "FAIL",
					    "test_",	 "\xc3\xa9t\xc3\xa9",
					    "=>",	 "42",
					    "{}",	 "\t",
					    "make[2]:"};
	struct guts_buf b;
	uint64_t s = seed | 1;
	unsigned n = 0;

	guts_buf_init(&b, 0);
	while (b.len < size) {
		uint64_t r = rng_next(&s);

		assert_int_equal(
		    guts_buf_addf(&b, "2026-11-28T09:%02u:%02u.%06uZ ",
				  (n / 60) % 60, n % 60, n % 1000000),
		    0);
		if (r % 97 == 0 && long_line) {
			for (size_t i = 0; i < long_line; i++)
				guts_buf_addch(&b, (char)('a' + i % 26));
		} else if (r % 13 == 0) {
			guts_buf_adds(&b, r % 2 ? "##[group]Run step"
						: "##[endgroup]");
		} else {
			for (unsigned w = 0; w < 3 + r % 17; w++) {
				guts_buf_adds(&b, words[rng_next(&s) % 15]);
				guts_buf_addch(&b, ' ');
			}
			guts_buf_addf(&b, "#%u", n);
		}
		guts_buf_addch(&b, '\n');
		n++;
	}
	return guts_buf_detach(&b, len);
}

/* Append @text in chunks of 1..@max bytes, each starting a bit early. */
static void append_chunked(const char *dir, int64_t id, struct joblog_pos *pos,
			   const struct joblog_limits *lim, const char *text,
			   size_t len, size_t max, uint64_t seed)
{
	uint64_t s = seed | 1;

	while ((size_t)pos->acked < len) {
		size_t back = rng_next(&s) % 50, start, n;

		start =
		    (size_t)pos->acked > back ? (size_t)pos->acked - back : 0;
		n = 1 + rng_next(&s) % max;
		if (n > len - start)
			n = len - start;
		assert_int_equal(joblog_append(dir, id, pos, lim,
					       (int64_t)start, text + start, n),
				 0);
	}
	assert_int_equal(pos->acked, (int64_t)len);
}

static void test_joblog__appends_skip_resends_and_refuse_gaps(void **state)
{
	const char *s = "one\ntwo\nthree\nfour\nfive, unterminated";
	size_t len = strlen(s), flen;
	char *dir = make_tmpdir(), *text;
	struct joblog_pos pos = {0}, before;

	(void)state;
	assert_false(exists(dir, 1, 0));
	assert_int_equal(joblog_append(dir, 1, &pos, NULL, 0, s, 10), 0);
	assert_int_equal(pos.acked, 10);
	assert_int_equal(pos.size, 10);
	assert_int_equal(pos.line_len, 2); /* "th" */
	/* Overlap: only the new part is written. */
	assert_int_equal(joblog_append(dir, 1, &pos, NULL, 4, s + 4, 16), 0);
	assert_int_equal(pos.acked, 20);
	/* A full resend changes nothing. */
	before = pos;
	assert_int_equal(joblog_append(dir, 1, &pos, NULL, 0, s, 20), 0);
	assert_int_equal(joblog_append(dir, 1, &pos, NULL, 20, s + 20, 0), 0);
	assert_memory_equal(&pos, &before, sizeof(pos));
	/* A gap is refused and leaves everything as it was. */
	assert_int_equal(joblog_append(dir, 1, &pos, NULL, 21, s + 21, 5),
			 GUTS_ECONFLICT);
	assert_memory_equal(&pos, &before, sizeof(pos));
	assert_int_equal(joblog_append(dir, 1, &pos, NULL, -1, s, 5),
			 GUTS_EINVAL);
	assert_int_equal(
	    joblog_append(dir, 1, &pos, NULL, 15, s + 15, len - 15), 0);
	assert_int_equal(pos.acked, (int64_t)len);
	assert_int_equal(pos.size, (int64_t)len);
	assert_int_equal(pos.line_len, (int64_t)strlen("five, unterminated"));
	assert_int_equal(pos.capped, 0);
	text = read_live(dir, 1, &flen);
	assert_bytes(text, flen, s, len);
	free(text);
	rm_rf(dir);
}

static void test_joblog__live_file_is_0640(void **state)
{
	char *dir = make_tmpdir(), *path = live_path(dir, 2);
	struct joblog_pos pos = {0};
	mode_t old = umask(022);
	struct stat st;

	(void)state;
	assert_int_equal(joblog_append(dir, 2, &pos, NULL, 0, "x\n", 2), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	free(path);
	rm_rf(dir);
}

static void test_joblog__a_long_line_is_cut_once(void **state)
{
	size_t long_len = 200 * 1024, len, flen, want_len, off;
	char *dir = make_tmpdir(), *s, *text, *want;
	struct joblog_pos pos = {0};
	char note[128];
	struct guts_buf b;

	(void)state;
	guts_buf_init(&b, 0);
	guts_buf_adds(&b, "before\n");
	for (size_t i = 0; i < long_len; i++)
		guts_buf_addch(&b, (char)('a' + i % 26));
	guts_buf_adds(&b, "\nthe line after\n");
	s = guts_buf_detach(&b, &len);

	for (off = 0; off < len; off += 7 * 1024) {
		size_t n = len - off < 7 * 1024 ? len - off : 7 * 1024;

		assert_int_equal(
		    joblog_append(dir, 3, &pos, NULL, (int64_t)off, s + off, n),
		    0);
	}
	snprintf(note, sizeof(note), JOBLOG_LINE_CUT_NOTE, (size_t)65536);
	assert_string_equal(note,
			    " \xe2\x80\xa6 [line truncated at 65536 bytes]");
	guts_buf_adds(&b, "before\n");
	guts_buf_add(&b, s + 7, 65536);
	guts_buf_adds(&b, note);
	guts_buf_adds(&b, "\nthe line after\n");
	want = guts_buf_detach(&b, &want_len);

	text = read_live(dir, 3, &flen);
	assert_bytes(text, flen, want, want_len);
	assert_int_equal(count(text, flen, "line truncated"), 1);
	assert_int_equal(pos.acked, (int64_t)len);
	assert_int_equal(pos.size, (int64_t)want_len);
	assert_int_equal(pos.line_len, 0);
	free(text);
	free(want);
	free(s);
	rm_rf(dir);
}

static void test_joblog__a_line_at_the_cap_is_kept(void **state)
{
	struct joblog_limits lim = {.line_cap = 16};
	char *dir = make_tmpdir(), *text;
	struct joblog_pos pos = {0};
	const char *s = "0123456789abcdef\n"  /* 16: kept */
			"0123456789abcdefg\n" /* 17: cut */
			"0123456789abcdef";   /* 16, open */
	const char *want = "0123456789abcdef\n"
			   "0123456789abcdef \xe2\x80\xa6 [line truncated at "
			   "16 bytes]\n"
			   "0123456789abcdef";
	size_t flen;

	(void)state;
	assert_int_equal(joblog_append(dir, 4, &pos, &lim, 0, s, strlen(s)), 0);
	assert_int_equal(pos.line_len, 16);
	/* The open line goes past the cap in the next chunk. */
	assert_int_equal(joblog_append(dir, 4, &pos, &lim, pos.acked, "XYZ", 3),
			 0);
	assert_true(pos.line_len > 16);
	assert_int_equal(
	    joblog_append(dir, 4, &pos, &lim, pos.acked, "more\nok\n", 8), 0);
	text = read_live(dir, 4, &flen);
	assert_int_equal(flen, (size_t)pos.size);
	assert_int_equal(memcmp(text, want, strlen(want)), 0);
	assert_string_equal(text + strlen(want),
			    " \xe2\x80\xa6 [line truncated at 16 bytes]\nok\n");
	free(text);
	rm_rf(dir);
}

/* However the stream is cut into chunks, and resent, the file is the same. */
static void test_joblog__chunking_does_not_matter(void **state)
{
	struct joblog_limits lim = {.line_cap = 300};
	char *dir = make_tmpdir(), *s, *one, *many;
	struct joblog_pos a = {0}, b = {0};
	size_t len, l1, l2;

	(void)state;
	s = make_text(300 * 1000, 7, 1000, &len);
	assert_int_equal(joblog_append(dir, 5, &a, &lim, 0, s, len), 0);
	for (uint64_t seed = 1; seed < 4; seed++) {
		memset(&b, 0, sizeof(b));
		assert_int_equal(joblog_remove(dir, 6), 0);
		append_chunked(dir, 6, &b, &lim, s, len, 700 * seed, seed);
		assert_memory_equal(&a, &b, sizeof(a));
		one = read_live(dir, 5, &l1);
		many = read_live(dir, 6, &l2);
		assert_bytes(many, l2, one, l1);
		free(one);
		free(many);
	}
	assert_true(a.size < a.acked); /* lines were cut */
	free(s);
	rm_rf(dir);
}

static void test_joblog__the_job_cap_stops_the_log(void **state)
{
	struct joblog_limits lim = {.job_cap = 1000};
	const char *note = " ##[warning]log truncated: the job's log passed "
			   "1 kB\n";
	char *dir = make_tmpdir(), *s, *text;
	struct joblog_pos pos = {0};
	size_t len, flen, keep;

	(void)state;
	s = make_text(3000, 11, 0, &len);
	append_chunked(dir, 7, &pos, &lim, s, len, 64, 3);
	assert_int_equal(pos.capped, 1);
	assert_int_equal(pos.acked, (int64_t)len);
	assert_int_equal(pos.line_len, 0);
	text = read_live(dir, 7, &flen);
	assert_int_equal(flen, (size_t)pos.size);
	assert_memory_equal(text, s, 1000);
	keep = 1000;
	if (s[999] != '\n')
		assert_int_equal(text[keep++], '\n');
	assert_timestamp(text + keep);
	assert_string_equal(text + keep + TS_LEN, note);
	free(text);

	/* Everything after is acknowledged and dropped. */
	assert_int_equal(
	    joblog_append(dir, 7, &pos, &lim, pos.acked, "more\n", 5), 0);
	assert_int_equal(pos.acked, (int64_t)len + 5);
	assert_int_equal(pos.size, (int64_t)flen);
	text = read_live(dir, 7, &len);
	assert_int_equal(len, flen);
	free(text);
	free(s);
	rm_rf(dir);
}

/* The note names the cap in MB; a sparse file stands in for the log. */
static void test_joblog__the_cap_note_names_megabytes(void **state)
{
	static const struct {
		int64_t cap;
		const char *figure;
	} cases[] = {{JOBLOG_JOB_CAP_DEFAULT, "100 MB"},
		     {2500000, "2.5 MB"},
		     {150, "150 bytes"}};
	char *dir = make_tmpdir(), *path = live_path(dir, 8), *want;
	struct guts_buf out;

	(void)state;
	guts_buf_init(&out, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct joblog_limits lim = {.job_cap = cases[i].cap};
		struct joblog_pos pos = {.acked = 10, .size = cases[i].cap - 3};
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		assert_int_equal(ftruncate(fileno(f), pos.size - 1), 0);
		assert_int_equal(fseek(f, 0, SEEK_END), 0);
		fputc('\n', f);
		assert_int_equal(fclose(f), 0);
		assert_int_equal(
		    joblog_append(dir, 8, &pos, &lim, 10, "abcdef\n", 7), 0);
		assert_int_equal(pos.capped, 1);
		guts_buf_reset(&out);
		assert_int_equal(
		    joblog_read(dir, 8, cases[i].cap - 3, -1, &out, NULL), 0);
		want = guts_xasprintf(
		    "abc\n%.*s ##[warning]log truncated: the job's log "
		    "passed %s\n",
		    TS_LEN, out.data + 4, cases[i].figure);
		assert_string_equal(out.data, want);
		free(want);
	}
	guts_buf_release(&out);
	free(path);
	rm_rf(dir);
}

static void test_joblog__recover_cuts_unacknowledged_bytes(void **state)
{
	struct joblog_limits lim = {.line_cap = 100};
	char *dir = make_tmpdir(), *text, *path = live_path(dir, 9);
	struct joblog_pos pos = {0}, lost, saved;
	const char *s = "first\nsecond\npart";
	char long_line[150];
	size_t flen;

	(void)state;
	/* Nothing there yet: fine. */
	assert_int_equal(joblog_recover(dir, 9, &pos), 0);
	assert_int_equal(pos.size, 0);
	assert_false(exists(dir, 9, 0));

	assert_int_equal(joblog_append(dir, 9, &pos, &lim, 0, s, strlen(s)), 0);
	saved = pos;
	/* A write whose new position the node never stored. */
	lost = pos;
	assert_int_equal(joblog_append(dir, 9, &lost, &lim, lost.acked,
				       "ial\nunacked\n", 12),
			 0);
	pos.line_len = 0; /* recover must work it out */
	assert_int_equal(joblog_recover(dir, 9, &pos), 0);
	assert_memory_equal(&pos, &saved, sizeof(pos));
	assert_int_equal(pos.line_len, 4);
	text = read_live(dir, 9, &flen);
	assert_bytes(text, flen, s, strlen(s));
	free(text);

	/* The runner resends; the log goes on from the stored position. */
	assert_int_equal(
	    joblog_append(dir, 9, &pos, &lim, pos.acked, "ial!\n", 5), 0);
	text = read_live(dir, 9, &flen);
	assert_string_equal(text, "first\nsecond\npartial!\n");
	free(text);

	/* In the middle of a cut line: recovery keeps dropping its rest. */
	memset(long_line, 'x', sizeof(long_line));
	assert_int_equal(joblog_append(dir, 9, &pos, &lim, pos.acked, long_line,
				       sizeof(long_line)),
			 0);
	saved = pos;
	assert_true(pos.line_len > 100);
	pos.line_len = 0;
	assert_int_equal(joblog_recover(dir, 9, &pos), 0);
	assert_memory_equal(&pos, &saved, sizeof(pos));
	assert_int_equal(
	    joblog_append(dir, 9, &pos, &lim, pos.acked, "xxx\nnext\n", 9), 0);
	text = read_live(dir, 9, &flen);
	assert_true(flen > 5);
	assert_string_equal(text + flen - 5, "next\n");
	assert_int_equal(count(text, flen, "line truncated"), 1);
	assert_int_equal(count(text, flen, "xxx\n"), 0);
	free(text);
	free(path);
	rm_rf(dir);
}

static void test_joblog__recover_notes_bytes_a_crash_lost(void **state)
{
	char *dir = make_tmpdir(), *text, *want, *path = live_path(dir, 10);
	const char *s = "one\ntwo\nthree\n";
	struct joblog_pos pos = {0};
	size_t flen;

	(void)state;
	assert_int_equal(joblog_append(dir, 10, &pos, NULL, 0, s, strlen(s)),
			 0);
	/* A power loss took the last 4 bytes, which were acknowledged. */
	assert_int_equal(truncate(path, (off_t)strlen(s) - 4), 0);
	assert_int_equal(joblog_recover(dir, 10, &pos), 0);
	assert_int_equal(pos.acked, (int64_t)strlen(s));
	assert_int_equal(pos.line_len, 0);
	text = read_live(dir, 10, &flen);
	assert_int_equal(flen, (size_t)pos.size);
	assert_memory_equal(text, "one\ntwo\nth\n", 11);
	assert_timestamp(text + 11);
	assert_string_equal(text + 11 + TS_LEN,
			    " ##[warning]the node lost the last 4 bytes of "
			    "this log when it stopped\n");
	free(text);

	/* All of it gone: the log starts again with the note. */
	assert_int_equal(unlink(path), 0);
	want = guts_xasprintf(" ##[warning]the node lost the last %lld bytes "
			      "of this log when it stopped\n",
			      (long long)pos.size);
	assert_int_equal(joblog_recover(dir, 10, &pos), 0);
	text = read_live(dir, 10, &flen);
	assert_int_equal(flen, (size_t)pos.size);
	assert_timestamp(text);
	assert_string_equal(text + TS_LEN, want);
	free(text);
	free(want);

	/* An archived log needs no recovery. */
	assert_int_equal(joblog_archive(dir, 10), 0);
	assert_int_equal(joblog_recover(dir, 10, &pos), 0);
	assert_false(exists(dir, 10, 0));
	free(path);
	rm_rf(dir);
}

static void test_joblog__notes_are_timestamped_lines(void **state)
{
	const char *msg = "##[warning]runner lost; retrying as attempt 2";
	char *dir = make_tmpdir(), *text;
	struct joblog_pos pos = {0};
	size_t flen;

	(void)state;
	assert_int_equal(joblog_note(dir, 11, &pos, "##[group]Set up job"), 0);
	assert_int_equal(pos.acked, 0);
	assert_int_equal(
	    joblog_append(dir, 11, &pos, NULL, 0, "half a line", 11), 0);
	assert_int_equal(joblog_note(dir, 11, &pos, msg), 0);
	assert_int_equal(pos.acked, 11);
	assert_int_equal(pos.line_len, 0);
	assert_int_equal(joblog_note(dir, 11, &pos, "two\nlines"), GUTS_EINVAL);
	text = read_live(dir, 11, &flen);
	assert_int_equal(flen, (size_t)pos.size);
	assert_timestamp(text);
	assert_memory_equal(text + TS_LEN,
			    " ##[group]Set up job\nhalf a line\n", 33);
	assert_timestamp(text + TS_LEN + 33);
	assert_int_equal(flen, 2 * TS_LEN + 33 + 1 + strlen(msg) + 1);
	assert_memory_equal(text + 2 * TS_LEN + 33 + 1, msg, strlen(msg));
	assert_int_equal(text[flen - 1], '\n');
	free(text);
	rm_rf(dir);
}

struct ranges {
	int64_t from, to;
};

static const struct ranges some_ranges[] = {
    {0, -1},
    {0, 1},
    {12345, 67890},
    {1 << 20, (1 << 20) + 200000},
    {2999990, -1},
    {100, 100},
    {0, INT64_MAX},
    {5000000, -1},
    {4100000, 9000000},
};

static void check_ranges(const char *dir, int64_t id, const char *s, size_t len)
{
	struct guts_buf out;
	int64_t total;

	guts_buf_init(&out, 0);
	for (size_t i = 0; i < sizeof(some_ranges) / sizeof(some_ranges[0]);
	     i++) {
		int64_t from = some_ranges[i].from, to = some_ranges[i].to;

		if (to < 0 || to > (int64_t)len)
			to = (int64_t)len;
		if (from > to)
			from = to;
		guts_buf_reset(&out);
		total = -5;
		assert_int_equal(joblog_read(dir, id, some_ranges[i].from,
					     some_ranges[i].to, &out, &total),
				 0);
		assert_int_equal(total, (int64_t)len);
		assert_bytes(out.data, out.len, s + from, (size_t)(to - from));
	}
	/* Reads append, and total is optional. */
	guts_buf_reset(&out);
	guts_buf_adds(&out, "head:");
	assert_int_equal(joblog_read(dir, id, 10, 20, &out, NULL), 0);
	assert_int_equal(out.len, 15);
	assert_memory_equal(out.data + 5, s + 10, 10);
	/* A capped buffer: GUTS_ETOOBIG, and the buffer as it was. */
	guts_buf_release(&out);
	guts_buf_init(&out, 1000);
	guts_buf_adds(&out, "kept");
	assert_int_equal(joblog_read(dir, id, 0, 2000, &out, &total),
			 GUTS_ETOOBIG);
	assert_string_equal(out.data, "kept");
	assert_int_equal(joblog_read(dir, id, 0, 996, &out, &total), 0);
	assert_int_equal(out.len, 1000);
	guts_buf_release(&out);
	assert_int_equal(joblog_read(dir, id, 10, 5, &out, NULL), GUTS_EINVAL);
	assert_int_equal(joblog_read(dir, id, -1, 5, &out, NULL), GUTS_EINVAL);
}

struct collect {
	struct guts_buf b;
	size_t calls, stop_after;
	int stop_rc;
};

static int collect_fn(void *ud, const char *data, size_t len)
{
	struct collect *c = ud;

	assert_true(len > 0 && len <= 65536);
	c->calls++;
	assert_int_equal(guts_buf_add(&c->b, data, len), 0);
	return c->stop_after && c->calls == c->stop_after ? c->stop_rc : 0;
}

static void check_stream(const char *dir, int64_t id, const char *s, size_t len)
{
	struct collect c = {.stop_after = 0};

	guts_buf_init(&c.b, 0);
	assert_int_equal(joblog_stream(dir, id, 0, -1, collect_fn, &c), 0);
	assert_bytes(c.b.data, c.b.len, s, len);
	assert_true(c.calls >= len / 65536);

	guts_buf_reset(&c.b);
	c.calls = 0;
	assert_int_equal(joblog_stream(dir, id, 70000, 400000, collect_fn, &c),
			 0);
	assert_bytes(c.b.data, c.b.len, s + 70000, 330000);

	/* fn stops the stream, and its value comes back. */
	guts_buf_reset(&c.b);
	c.calls = 0;
	c.stop_after = 3;
	c.stop_rc = 7;
	assert_int_equal(joblog_stream(dir, id, 0, -1, collect_fn, &c), 7);
	assert_int_equal(c.calls, 3);
	assert_memory_equal(c.b.data, s, c.b.len);
	guts_buf_release(&c.b);
}

static void test_joblog__archive_reads_like_the_live_file(void **state)
{
	char *dir = make_tmpdir(), *s, *zst = zst_path(dir, 12);
	struct joblog_pos pos = {0};
	struct stat st, st2;
	size_t len;

	(void)state;
	s = make_text(4 * 1000 * 1000, 12, 5000, &len);
	append_chunked(dir, 12, &pos, NULL, s, len, 64 * 1024, 12);
	assert_int_equal(pos.size, (int64_t)len);

	check_ranges(dir, 12, s, len);
	check_stream(dir, 12, s, len);

	assert_int_equal(joblog_archive(dir, 12), 0);
	assert_false(exists(dir, 12, 0));
	assert_int_equal(stat(zst, &st), 0);
	assert_true(st.st_size > 0 && (size_t)st.st_size < len / 2);
	check_ranges(dir, 12, s, len);
	check_stream(dir, 12, s, len);

	/* Again: nothing to do, the archive stays. */
	assert_int_equal(joblog_archive(dir, 12), 0);
	assert_int_equal(stat(zst, &st2), 0);
	assert_int_equal(st2.st_ino, st.st_ino);

	/* A damaged archive is an error, not a short log. */
	assert_int_equal(truncate(zst, st.st_size - 100), 0);
	{
		struct guts_buf out;

		guts_buf_init(&out, 0);
		assert_int_equal(joblog_read(dir, 12, 0, -1, &out, NULL),
				 GUTS_EIO);
		assert_int_equal(out.len, 0);
		guts_buf_release(&out);
	}

	assert_int_equal(joblog_remove(dir, 12), 0);
	assert_false(exists(dir, 12, 1));
	assert_int_equal(joblog_remove(dir, 12), 0);
	free(zst);
	free(s);
	rm_rf(dir);
}

static void test_joblog__small_and_empty_archives(void **state)
{
	char *dir = make_tmpdir();
	struct joblog_pos pos = {0};
	struct guts_buf out;
	int64_t total = -1;

	(void)state;
	guts_buf_init(&out, 0);
	/* An empty live file archives to an empty log. */
	assert_int_equal(joblog_note(dir, 13, &pos, "x"), 0);
	{
		char *path = live_path(dir, 13);

		assert_int_equal(truncate(path, 0), 0);
		free(path);
	}
	assert_int_equal(joblog_archive(dir, 13), 0);
	assert_int_equal(joblog_read(dir, 13, 0, -1, &out, &total), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(total, 0);

	pos = (struct joblog_pos){0};
	assert_int_equal(joblog_append(dir, 14, &pos, NULL, 0, "hi\n", 3), 0);
	assert_int_equal(joblog_archive(dir, 14), 0);
	assert_int_equal(joblog_read(dir, 14, 1, -1, &out, &total), 0);
	assert_string_equal(out.data, "i\n");
	assert_int_equal(total, 3);
	guts_buf_release(&out);
	rm_rf(dir);
}

static void test_joblog__missing_logs_read_empty(void **state)
{
	char *dir = make_tmpdir();
	struct collect c = {.stop_after = 0};
	struct guts_buf out;
	int64_t total = -1;

	(void)state;
	guts_buf_init(&out, 0);
	assert_int_equal(joblog_read(dir, 99, 0, -1, &out, &total), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(total, 0);
	assert_int_equal(joblog_read(dir, 99, 50, 100, &out, &total), 0);
	assert_int_equal(out.len, 0);
	guts_buf_init(&c.b, 0);
	assert_int_equal(joblog_stream(dir, 99, 0, -1, collect_fn, &c), 0);
	assert_int_equal(c.calls, 0);
	assert_int_equal(joblog_archive(dir, 99), 0);
	assert_int_equal(joblog_remove(dir, 99), 0);
	assert_int_equal(joblog_read(dir, -1, 0, -1, &out, NULL), GUTS_EINVAL);
	guts_buf_release(&out);
	guts_buf_release(&c.b);
	rm_rf(dir);
}

struct worker {
	const char *dir;
	int64_t id;
	const char *text;
	size_t len;
	struct joblog_pos pos;
	size_t mid_line_notes;
};

/* No cmocka asserts off the main thread: the result says what failed. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t s = (uint64_t)w->id;

	while ((size_t)w->pos.acked < w->len) {
		size_t start = (size_t)w->pos.acked,
		       n = 1 + rng_next(&s) % 4096;

		if (n > w->len - start)
			n = w->len - start;
		if (joblog_append(w->dir, w->id, &w->pos, NULL, (int64_t)start,
				  w->text + start, n) < 0)
			return (void *)"append";
		if (rng_next(&s) % 8)
			continue;
		w->mid_line_notes += w->pos.line_len > 0;
		if (joblog_note(w->dir, w->id, &w->pos, "a note") < 0)
			return (void *)"note";
	}
	if (joblog_archive(w->dir, w->id) < 0)
		return (void *)"archive";
	return NULL;
}

static void test_joblog__jobs_run_in_parallel(void **state)
{
	char *dir = make_tmpdir();
	struct worker w[4];
	pthread_t t[4];
	struct guts_buf out;

	(void)state;
	guts_buf_init(&out, 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.dir = dir, .id = 20 + i};
		w[i].text =
		    make_text(200 * 1000, (uint64_t)i + 1, 0, &w[i].len);
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]),
				 0);
	}
	for (int i = 0; i < 4; i++) {
		void *failed = NULL;
		size_t notes, lines;

		assert_int_equal(pthread_join(t[i], &failed), 0);
		assert_null(failed);
		guts_buf_reset(&out);
		assert_int_equal(joblog_read(dir, w[i].id, 0, -1, &out, NULL),
				 0);
		assert_int_equal(out.len, (size_t)w[i].pos.size);
		/* The runner's lines, the notes, and an LF before each note
		 * that came in the middle of a line. */
		notes = count(out.data, out.len, " a note\n");
		lines = count(out.data, out.len, "\n");
		assert_true(notes > 0);
		assert_int_equal(lines, count(w[i].text, w[i].len, "\n") +
					    notes + w[i].mid_line_notes);
		free((char *)w[i].text);
	}
	guts_buf_release(&out);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_joblog__appends_skip_resends_and_refuse_gaps),
	    cmocka_unit_test(test_joblog__live_file_is_0640),
	    cmocka_unit_test(test_joblog__a_long_line_is_cut_once),
	    cmocka_unit_test(test_joblog__a_line_at_the_cap_is_kept),
	    cmocka_unit_test(test_joblog__chunking_does_not_matter),
	    cmocka_unit_test(test_joblog__the_job_cap_stops_the_log),
	    cmocka_unit_test(test_joblog__the_cap_note_names_megabytes),
	    cmocka_unit_test(test_joblog__recover_cuts_unacknowledged_bytes),
	    cmocka_unit_test(test_joblog__recover_notes_bytes_a_crash_lost),
	    cmocka_unit_test(test_joblog__notes_are_timestamped_lines),
	    cmocka_unit_test(test_joblog__archive_reads_like_the_live_file),
	    cmocka_unit_test(test_joblog__small_and_empty_archives),
	    cmocka_unit_test(test_joblog__missing_logs_read_empty),
	    cmocka_unit_test(test_joblog__jobs_run_in_parallel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
