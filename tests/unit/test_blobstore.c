/* Unit tests for the content-addressed blob store. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/blobstore.h"
#include "guts/error.h"
#include "guts/fs.h"

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static char *make_tmpdir(void)
{
	char *dir = guts_xstrdup("/tmp/guts-blob-XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static void rm_rf(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static void write_file(const char *path, const char *text)
{
	assert_int_equal(guts_fs_write_atomic(path, text, strlen(text), 0644),
			 0);
}

static char *read_file(const char *path)
{
	char *text = NULL;
	size_t len;

	assert_int_equal(guts_fs_read_all(&text, &len, path, 1 << 20), 0);
	return text;
}

static size_t count_entries(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_blobstore__same_content_is_stored_once(void **state)
{
	char *dir = make_tmpdir(), *a, *b, *c, *tmp;
	char h1[GUTS_SHA256_HEX_LEN + 1], h2[GUTS_SHA256_HEX_LEN + 1];
	char h3[GUTS_SHA256_HEX_LEN + 1];
	struct guts_blobstore_stats st;
	struct guts_blobstore *bs;
	unsigned long long size = 0;

	(void)state;
	a = guts_xasprintf("%s/a", dir);
	b = guts_xasprintf("%s/b", dir);
	c = guts_xasprintf("%s/c", dir);
	write_file(a, "hello\n");
	write_file(b, "hello\n");
	write_file(c, "other\n");
	assert_int_equal(guts_blobstore_open(&bs, dir), 0);
	assert_int_equal(guts_blobstore_put_file(bs, a, h1, &size), 0);
	assert_int_equal(size, 6);
	/* sha256("hello\n") */
	assert_string_equal(h1, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af"
				"34d08286a2e846f6be03");
	assert_int_equal(guts_blobstore_put_file(bs, b, h2, NULL), 0);
	assert_string_equal(h1, h2);
	assert_int_equal(guts_blobstore_stats(bs, &st), 0);
	assert_int_equal(st.blobs, 1);
	assert_int_equal(st.bytes, 6);
	assert_int_equal(guts_blobstore_put_file(bs, c, h3, NULL), 0);
	assert_string_not_equal(h1, h3);
	assert_int_equal(guts_blobstore_stats(bs, &st), 0);
	assert_int_equal(st.blobs, 2);
	assert_int_equal(st.bytes, 12);
	assert_int_equal(guts_blobstore_has(bs, h1), 1);
	/* Where the layout says it is. */
	tmp = guts_xasprintf("%s/blobs/sha256/58/%s", dir, h1 + 2);
	assert_int_equal(access(tmp, R_OK), 0);
	free(tmp);
	/* No temporary file is left behind. */
	tmp = guts_xasprintf("%s/blobs/tmp", dir);
	assert_int_equal(count_entries(tmp), 0);
	free(tmp);
	guts_blobstore_free(bs);
	free(a);
	free(b);
	free(c);
	rm_rf(dir);
}

static void test_blobstore__get_copies_and_verifies(void **state)
{
	char *dir = make_tmpdir(), *out, *text;
	char h[GUTS_SHA256_HEX_LEN + 1];
	struct guts_blobstore *bs;
	size_t len;

	(void)state;
	assert_int_equal(guts_blobstore_open(&bs, dir), 0);
	assert_int_equal(guts_blobstore_put_buf(bs, "content", 7, h), 0);
	out = guts_xasprintf("%s/out.txt", dir);
	assert_int_equal(guts_blobstore_get_file(bs, h, out, 0640), 0);
	text = read_file(out);
	assert_string_equal(text, "content");
	free(text);
	assert_int_equal(guts_blobstore_read(bs, h, &text, &len, 100), 0);
	assert_int_equal(len, 7);
	assert_string_equal(text, "content");
	free(text);
	assert_int_equal(guts_blobstore_read(bs, h, &text, &len, 3),
			 GUTS_ETOOBIG);
	free(out);
	guts_blobstore_free(bs);
	rm_rf(dir);
}

static void test_blobstore__a_corrupted_blob_is_refused(void **state)
{
	char *dir = make_tmpdir(), *blob, *out, *text = NULL;
	char h[GUTS_SHA256_HEX_LEN + 1];
	struct guts_blobstore *bs;
	size_t len;
	int fd;

	(void)state;
	assert_int_equal(guts_blobstore_open(&bs, dir), 0);
	assert_int_equal(guts_blobstore_put_buf(bs, "good data", 9, h), 0);
	blob = guts_xasprintf("%s/blobs/sha256/%.2s/%s", dir, h, h + 2);
	/* Flip the content on disk, keeping the size. */
	fd = open(blob, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "B", 1, 0), 1);
	close(fd);

	out = guts_xasprintf("%s/out.txt", dir);
	assert_int_equal(guts_blobstore_get_file(bs, h, out, 0644), GUTS_EIO);
	assert_non_null(strstr(guts_error_message(), "corrupted"));
	assert_non_null(strstr(guts_error_message(), h));
	/* Nothing reached the destination. */
	assert_int_equal(access(out, F_OK), -1);
	assert_int_equal(count_entries(dir), 1); /* blobs/ only */
	assert_int_equal(guts_blobstore_read(bs, h, &text, &len, 100),
			 GUTS_EIO);
	assert_null(text);
	free(out);
	free(blob);
	guts_blobstore_free(bs);
	rm_rf(dir);
}

static void test_blobstore__names_are_checked(void **state)
{
	char *dir = make_tmpdir();
	struct guts_blobstore *bs;

	(void)state;
	assert_int_equal(guts_blobstore_open(&bs, dir), 0);
	assert_int_equal(guts_blobstore_has(bs, "../../etc/passwd"),
			 GUTS_EINVAL);
	assert_int_equal(guts_blobstore_has(bs, "ABCD"), GUTS_EINVAL);
	assert_int_equal(
	    guts_blobstore_get_fd(bs,
				  "0000000000000000000000000000000000000000000"
				  "000000000000000000000",
				  1),
	    GUTS_ENOTFOUND);
	assert_int_equal(guts_blobstore_has(bs, "00000000000000000000000000000"
						"00000000000000000000000000000"
						"000000"),
			 0);
	guts_blobstore_free(bs);
	rm_rf(dir);
}

static void test_blobstore__put_fd_streams_from_a_pipe(void **state)
{
	char *dir = make_tmpdir();
	char h[GUTS_SHA256_HEX_LEN + 1], want[GUTS_SHA256_HEX_LEN + 1];
	uint8_t d[GUTS_SHA256_LEN];
	struct guts_blobstore *bs;
	unsigned long long size;
	char chunk[4096];
	int p[2];

	(void)state;
	memset(chunk, 'z', sizeof(chunk));
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], chunk, sizeof(chunk)), sizeof(chunk));
	close(p[1]);
	assert_int_equal(guts_blobstore_open(&bs, dir), 0);
	assert_int_equal(guts_blobstore_put_fd(bs, p[0], h, &size), 0);
	close(p[0]);
	guts_sha256_buf(d, chunk, sizeof(chunk));
	guts_sha256_hex(want, d);
	assert_string_equal(h, want);
	assert_int_equal(size, sizeof(chunk));
	guts_blobstore_free(bs);
	rm_rf(dir);
}

struct racer {
	struct guts_blobstore *bs;
	int failures;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	char h[GUTS_SHA256_HEX_LEN + 1];

	for (int i = 0; i < 40; i++) {
		if (guts_blobstore_put_buf(r->bs, "same bytes", 10, h) < 0)
			r->failures++;
		if (guts_blobstore_put_buf(r->bs, &i, sizeof(i), h) < 0)
			r->failures++;
	}
	return NULL;
}

static void test_blobstore__concurrent_writers_agree(void **state)
{
	char *dir = make_tmpdir(), *tmp;
	struct guts_blobstore_stats st;
	struct guts_blobstore *bs;
	struct racer r[4];
	pthread_t t[4];

	(void)state;
	assert_int_equal(guts_blobstore_open(&bs, dir), 0);
	for (int i = 0; i < 4; i++) {
		r[i].bs = bs;
		r[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].failures, 0);
	}
	assert_int_equal(guts_blobstore_stats(bs, &st), 0);
	assert_int_equal(st.blobs, 41); /* "same bytes" and 40 integers */
	tmp = guts_xasprintf("%s/blobs/tmp", dir);
	assert_int_equal(count_entries(tmp), 0);
	free(tmp);
	guts_blobstore_free(bs);
	rm_rf(dir);
}

static void test_blobstore__writer_stores_pieces_as_one_blob(void **state)
{
	char *dir = make_tmpdir(), *tmp;
	char hex[GUTS_SHA256_HEX_LEN + 1], want[GUTS_SHA256_HEX_LEN + 1];
	uint8_t d[GUTS_SHA256_LEN];
	struct guts_blob_writer *w;
	struct guts_blobstore *bs;
	static char big[3u << 20]; /* crosses the writer's buffer */
	int existed = -1;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	guts_sha256_buf(d, big, sizeof(big));
	guts_sha256_hex(want, d);
	assert_int_equal(guts_blobstore_open(&bs, dir), 0);
	assert_int_equal(guts_blob_writer_new(bs, &w), 0);
	for (size_t off = 0; off < sizeof(big); off += 4093) {
		size_t n = sizeof(big) - off < 4093 ? sizeof(big) - off : 4093;

		assert_int_equal(guts_blob_writer_write(w, big + off, n), 0);
	}
	assert_int_equal(guts_blob_writer_size(w), sizeof(big));
	assert_int_equal(guts_blob_writer_commit(w, want, hex, &existed), 0);
	assert_string_equal(hex, want);
	assert_int_equal(existed, 0);
	assert_int_equal(guts_blobstore_verify(bs, hex), 0);
	/* The same again: stored once, and said so. */
	assert_int_equal(guts_blob_writer_new(bs, &w), 0);
	assert_int_equal(guts_blob_writer_write(w, big, sizeof(big)), 0);
	assert_int_equal(guts_blob_writer_commit(w, NULL, hex, &existed), 0);
	assert_int_equal(existed, 1);
	tmp = guts_xasprintf("%s/blobs/tmp", dir);
	assert_int_equal(count_entries(tmp), 0);
	free(tmp);
	guts_blobstore_free(bs);
	rm_rf(dir);
}

static void test_blobstore__writer_refuses_an_unexpected_hash(void **state)
{
	char *dir = make_tmpdir(), *tmp;
	char hex[GUTS_SHA256_HEX_LEN + 1], claimed[GUTS_SHA256_HEX_LEN + 1];
	struct guts_blob_writer *w;
	struct guts_blobstore_stats st;
	struct guts_blobstore *bs;

	(void)state;
	memset(claimed, 'a', GUTS_SHA256_HEX_LEN);
	claimed[GUTS_SHA256_HEX_LEN] = '\0';
	assert_int_equal(guts_blobstore_open(&bs, dir), 0);
	assert_int_equal(guts_blob_writer_new(bs, &w), 0);
	assert_int_equal(guts_blob_writer_write(w, "hello\n", 6), 0);
	assert_int_equal(guts_blob_writer_commit(w, claimed, hex, NULL),
			 GUTS_EINVAL);
	/* Both hashes named; nothing stored, no temporary file left. */
	assert_non_null(strstr(guts_error_message(), claimed));
	assert_non_null(strstr(guts_error_message(),
			       "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34"
			       "d08286a2e846f6be03"));
	assert_int_equal(guts_blobstore_stats(bs, &st), 0);
	assert_int_equal(st.blobs, 0);
	tmp = guts_xasprintf("%s/blobs/tmp", dir);
	assert_int_equal(count_entries(tmp), 0);
	free(tmp);
	/* An abandoned writer leaves nothing either. */
	assert_int_equal(guts_blob_writer_new(bs, &w), 0);
	assert_int_equal(guts_blob_writer_write(w, "x", 1), 0);
	guts_blob_writer_free(w);
	tmp = guts_xasprintf("%s/blobs/tmp", dir);
	assert_int_equal(count_entries(tmp), 0);
	free(tmp);
	/* And one abandoned while its writer thread has buffers in hand. */
	{
		static char big[5u << 20];

		memset(big, 'b', sizeof(big));
		assert_int_equal(guts_blob_writer_new(bs, &w), 0);
		assert_int_equal(guts_blob_writer_write(w, big, sizeof(big)),
				 0);
		guts_blob_writer_free(w);
		tmp = guts_xasprintf("%s/blobs/tmp", dir);
		assert_int_equal(count_entries(tmp), 0);
		free(tmp);
	}
	guts_blobstore_free(bs);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blobstore__same_content_is_stored_once),
	    cmocka_unit_test(test_blobstore__get_copies_and_verifies),
	    cmocka_unit_test(test_blobstore__a_corrupted_blob_is_refused),
	    cmocka_unit_test(test_blobstore__names_are_checked),
	    cmocka_unit_test(test_blobstore__put_fd_streams_from_a_pipe),
	    cmocka_unit_test(test_blobstore__concurrent_writers_agree),
	    cmocka_unit_test(test_blobstore__writer_stores_pieces_as_one_blob),
	    cmocka_unit_test(test_blobstore__writer_refuses_an_unexpected_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
