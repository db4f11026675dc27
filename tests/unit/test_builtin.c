/*
 * Unit tests for the built-in actions (checkout, upload-artifact,
 * download-artifact, cache), the local artifact store, path globs and
 * runcmd.  Every test works in its own mkdtemp() directory holding a
 * workspace, a home and a store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/artifact_store.h"
#include "guts/blobstore.h"
#include "guts/buf.h"
#include "guts/builtin.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/json.h"
#include "guts/pathglob.h"
#include "guts/runcmd.h"
#include "guts/strvec.h"

/* ---- helpers ------------------------------------------------------ */

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		chmod(path, 0700);
	return remove(path);
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkdir_p(const char *path)
{
	char *p = guts_xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
	free(p);
}

static void write_file(const char *path, const char *text)
{
	char *dir = guts_xstrdup(path);

	*strrchr(dir, '/') = '\0';
	mkdir_p(dir);
	free(dir);
	assert_int_equal(guts_fs_write_atomic(path, text, strlen(text), 0644),
			 0);
}

__attribute__((format(printf, 2, 3))) static void
write_filef(const char *text, const char *fmt, ...)
{
	va_list ap;
	char *path;

	va_start(ap, fmt);
	path = guts_xvasprintf(fmt, ap);
	va_end(ap);
	write_file(path, text);
	free(path);
}

__attribute__((format(printf, 1, 2))) static int exists(const char *fmt, ...)
{
	struct stat st;
	char *path;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	path = guts_xvasprintf(fmt, ap);
	va_end(ap);
	rc = lstat(path, &st) == 0;
	free(path);
	return rc;
}

__attribute__((format(printf, 2, 3))) static void
assert_file(const char *want, const char *fmt, ...)
{
	char *path, *text = NULL;
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	path = guts_xvasprintf(fmt, ap);
	va_end(ap);
	if (guts_fs_read_all(&text, &len, path, 1 << 20) < 0)
		fail_msg("%s: %s", path, guts_error_message());
	if (strcmp(text, want))
		fail_msg("%s holds '%s', want '%s'", path, text, want);
	free(text);
	free(path);
}

__attribute__((format(printf, 1, 2))) static size_t
count_entries(const char *fmt, ...)
{
	struct dirent *de;
	char *path;
	size_t n = 0;
	va_list ap;
	DIR *d;

	va_start(ap, fmt);
	path = guts_xvasprintf(fmt, ap);
	va_end(ap);
	d = opendir(path);
	free(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

struct env {
	char *root, *ws, *home, *store_dir, *outside;
	struct guts_artifact_store *store;
	struct guts_builtin_ctx ctx;
	struct guts_buf log;
	json_t *outputs;
};

static void record_log(void *ud, const char *line)
{
	struct guts_buf *b = ud;

	guts_buf_adds(b, line);
	guts_buf_addch(b, '\n');
}

static struct env *env_new(void)
{
	struct env *e = guts_xcalloc(1, sizeof(*e));

	e->root = guts_xstrdup("/tmp/guts-builtin-XXXXXX");
	assert_non_null(mkdtemp(e->root));
	e->ws = guts_xasprintf("%s/ws", e->root);
	e->home = guts_xasprintf("%s/home", e->root);
	e->store_dir = guts_xasprintf("%s/store", e->root);
	e->outside = guts_xasprintf("%s/outside", e->root);
	mkdir_p(e->ws);
	mkdir_p(e->home);
	mkdir_p(e->outside);
	assert_int_equal(guts_local_store_open(&e->store, e->store_dir), 0);
	guts_buf_init(&e->log, 0);
	e->ctx.workspace = e->ws;
	e->ctx.home = e->home;
	e->ctx.run_id = "42";
	e->ctx.cache_scope = "repo:main";
	e->ctx.store = e->store;
	e->ctx.log = record_log;
	e->ctx.log_ud = &e->log;
	e->outputs = json_object();
	return e;
}

static void env_free(struct env *e)
{
	guts_artifact_store_free(e->store);
	rm_rf(e->root);
	free(e->root);
	free(e->ws);
	free(e->home);
	free(e->store_dir);
	free(e->outside);
	guts_buf_release(&e->log);
	json_decref(e->outputs);
	free(e);
}

static json_t *parse(const char *text)
{
	json_t *v = NULL;

	assert_int_equal(guts_json_parse(&v, text, strlen(text)), 0);
	return v;
}

/* Run @name with @with (JSON text or NULL); outputs replace e->outputs. */
static int run_state(struct env *e, const char *name, const char *with,
		     json_t **state)
{
	json_t *w = with ? parse(with) : NULL;
	int rc;

	json_decref(e->outputs);
	e->outputs = json_object();
	rc = guts_builtin_run(name, w, &e->ctx, e->outputs, state);
	json_decref(w);
	return rc;
}

static int run(struct env *e, const char *name, const char *with)
{
	json_t *state = NULL;
	int rc = run_state(e, name, with, &state);

	json_decref(state);
	return rc;
}

static int post(struct env *e, const char *name, const char *with,
		json_t *state, int ok)
{
	json_t *w = with ? parse(with) : NULL;
	int rc = guts_builtin_post(name, w, &e->ctx, state, ok);

	json_decref(w);
	return rc;
}

static const char *output(struct env *e, const char *key)
{
	return json_string_value(json_object_get(e->outputs, key));
}

static void assert_log_has(struct env *e, const char *needle)
{
	if (!strstr(e->log.data, needle))
		fail_msg("log lacks '%s':\n%s", needle, e->log.data);
}

/* Run git in @dir; its stdout, trimmed (caller frees). */
static char *git(const char *dir, ...)
{
	struct guts_strvec argv = GUTS_STRVEC_INIT;
	struct guts_runcmd cmd;
	struct guts_runcmd_result res;
	const char *a;
	char *out;
	va_list ap;
	size_t n;

	guts_strvec_push(&argv, "git");
	guts_strvec_push(&argv, "-c");
	guts_strvec_push(&argv, "user.name=Test");
	guts_strvec_push(&argv, "-c");
	guts_strvec_push(&argv, "user.email=test@example.com");
	guts_strvec_push(&argv, "-c");
	guts_strvec_push(&argv, "init.defaultBranch=main");
	va_start(ap, dir);
	while ((a = va_arg(ap, const char *)))
		guts_strvec_push(&argv, a);
	va_end(ap);
	memset(&cmd, 0, sizeof(cmd));
	cmd.argv = (const char *const *)argv.v;
	cmd.cwd = dir;
	assert_int_equal(guts_runcmd_run(&cmd, &res), 0);
	if (res.status != 0)
		fail_msg("git %s failed: %s", argv.v[7], res.err);
	out = res.out;
	res.out = NULL;
	n = strlen(out);
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	guts_runcmd_result_release(&res);
	guts_strvec_release(&argv);
	return out;
}

static void git_ok(const char *dir, const char *a, const char *b, const char *c,
		   const char *d)
{
	free(git(dir, a, b, c, d, (const char *)NULL));
}

static int have_git(void)
{
	const char *argv[] = {"git", "--version", NULL};
	struct guts_runcmd cmd = {argv, NULL, NULL, 0, 0};
	struct guts_runcmd_result res;
	int ok;

	if (guts_runcmd_run(&cmd, &res) < 0)
		return 0;
	ok = res.status == 0;
	guts_runcmd_result_release(&res);
	return ok;
}

/* ---- runcmd ------------------------------------------------------- */

static void test_runcmd__captures_output_and_exit_status(void **state)
{
	const char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 3",
			      NULL};
	struct guts_runcmd cmd = {argv, NULL, NULL, 0, 0};
	struct guts_runcmd_result res;

	(void)state;
	assert_int_equal(guts_runcmd_run(&cmd, &res), 0);
	assert_int_equal(res.status, 3);
	assert_string_equal(res.out, "out\n");
	assert_string_equal(res.err, "err\n");
	assert_int_equal(res.truncated, 0);
	guts_runcmd_result_release(&res);
}

static void test_runcmd__runs_in_cwd_with_the_given_env(void **state)
{
	const char *argv[] = {"/bin/sh", "-c", "pwd; echo \"$FOO\"", NULL};
	const char *envp[] = {"FOO=bar baz", NULL};
	struct guts_runcmd cmd = {argv, envp, "/tmp", 0, 0};
	struct guts_runcmd_result res;

	(void)state;
	assert_int_equal(guts_runcmd_run(&cmd, &res), 0);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "/tmp\nbar baz\n");
	guts_runcmd_result_release(&res);
	cmd.cwd = "/nonexistent/dir";
	assert_int_equal(guts_runcmd_run(&cmd, &res), GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "/nonexistent/dir"));
}

static void test_runcmd__a_missing_program_is_not_found(void **state)
{
	const char *argv[] = {"guts-no-such-program-xyz", NULL};
	struct guts_runcmd cmd = {argv, NULL, NULL, 0, 0};
	struct guts_runcmd_result res;

	(void)state;
	assert_int_equal(guts_runcmd_run(&cmd, &res), GUTS_ENOTFOUND);
	assert_non_null(strstr(guts_error_message(), "guts-no-such-program"));
}

static void test_runcmd__caps_output_and_keeps_reading(void **state)
{
	const char *argv[] = {"sh", "-c",
			      "head -c 300000 /dev/zero; echo done >&2", NULL};
	struct guts_runcmd cmd = {argv, NULL, NULL, 1000, 0};
	struct guts_runcmd_result res;

	(void)state;
	assert_int_equal(guts_runcmd_run(&cmd, &res), 0);
	assert_int_equal(res.status, 0);
	assert_int_equal(res.out_len, 1000);
	assert_int_equal(res.truncated, 1);
	assert_string_equal(res.err, "done\n");
	guts_runcmd_result_release(&res);
}

static void test_runcmd__a_time_out_kills_the_program(void **state)
{
	const char *argv[] = {"sh", "-c", "sleep 30", NULL};
	struct guts_runcmd cmd = {argv, NULL, NULL, 0, 200};
	struct guts_runcmd_result res;
	time_t start = time(NULL);

	(void)state;
	assert_int_equal(guts_runcmd_run(&cmd, &res), GUTS_EIO);
	assert_non_null(strstr(guts_error_message(), "200 ms"));
	assert_true(time(NULL) - start < 10);
}

/* ---- path globs --------------------------------------------------- */

static void test_pathglob__matches_like_actions_glob(void **state)
{
	struct guts_pathglob *g;

	(void)state;
	assert_int_equal(guts_pathglob_compile(&g,
					       "  dist/*.js \n"
					       "# a comment\n"
					       "\n"
					       "!dist/skip.js\n"
					       "**/*.txt\n"
					       "lib/?.c\n"
					       "src/[a-c]x.h\n"
					       "src/[!a-c]y.h\n"
					       "esc/\\*.md\n",
					       "/ws", "/home/u"),
			 0);
	assert_int_equal(guts_pathglob_count(g), 7);
	assert_true(guts_pathglob_match(g, "/ws/dist/app.js"));
	assert_true(guts_pathglob_match(g, "/ws/dist/.hidden.js"));
	assert_false(guts_pathglob_match(g, "/ws/dist/skip.js"));
	assert_false(guts_pathglob_match(g, "/ws/dist/app.css"));
	assert_true(guts_pathglob_match(g, "/ws/notes.txt"));
	assert_true(guts_pathglob_match(g, "/ws/a/b/c/notes.txt"));
	assert_false(guts_pathglob_match(g, "/other/notes.txt"));
	assert_true(guts_pathglob_match(g, "/ws/lib/a.c"));
	assert_false(guts_pathglob_match(g, "/ws/lib/ab.c"));
	assert_false(guts_pathglob_match(g, "/ws/lib/.c"));
	assert_true(guts_pathglob_match(g, "/ws/src/bx.h"));
	assert_false(guts_pathglob_match(g, "/ws/src/dx.h"));
	assert_true(guts_pathglob_match(g, "/ws/src/dy.h"));
	assert_false(guts_pathglob_match(g, "/ws/src/ay.h"));
	assert_true(guts_pathglob_match(g, "/ws/esc/*.md"));
	assert_false(guts_pathglob_match(g, "/ws/esc/x.md"));
	guts_pathglob_free(g);
}

static void test_pathglob__a_directory_match_takes_its_contents(void **state)
{
	struct guts_pathglob *g;

	(void)state;
	assert_int_equal(
	    guts_pathglob_compile(&g, "build\n!build/tmp\n", "/ws", NULL), 0);
	assert_true(guts_pathglob_match(g, "/ws/build/a/b/c.o"));
	assert_false(guts_pathglob_match(g, "/ws/build/tmp/x"));
	assert_true(guts_pathglob_descend(g, "/ws/build"));
	/* Wholly excluded: a walk need not enter it. */
	assert_false(guts_pathglob_descend(g, "/ws/build/tmp"));
	assert_false(guts_pathglob_descend(g, "/ws/other"));
	guts_pathglob_free(g);

	/* A later include reaches back into an excluded directory. */
	assert_int_equal(guts_pathglob_compile(&g,
					       "**\n!node_modules\n"
					       "node_modules/keep/*.js\n",
					       "/ws", NULL),
			 0);
	assert_true(guts_pathglob_descend(g, "/ws/node_modules"));
	assert_false(guts_pathglob_descend(g, "/ws/node_modules/other"));
	assert_true(guts_pathglob_match(g, "/ws/node_modules/keep/a.js"));
	assert_false(guts_pathglob_match(g, "/ws/node_modules/x/a.js"));
	guts_pathglob_free(g);
}

static void test_pathglob__search_paths_and_normalisation(void **state)
{
	const struct guts_strvec *sp;
	struct guts_pathglob *g;

	(void)state;
	assert_int_equal(guts_pathglob_compile(&g,
					       "a/b/*.c\n"
					       "a/b/c/d\n"
					       "~/.npm\n"
					       "!a/x\n"
					       "./q/../r//s/\n"
					       "../../up/*\n",
					       "/ws", "/home/u"),
			 0);
	sp = guts_pathglob_search_paths(g);
	assert_int_equal(sp->nr, 4);
	assert_string_equal(sp->v[0], "/ws/a/b");
	assert_string_equal(sp->v[1], "/home/u/.npm");
	assert_string_equal(sp->v[2], "/ws/r/s");
	assert_string_equal(sp->v[3], "/up");
	assert_string_equal(guts_pathglob_pattern(g, 5), "/up/*");
	assert_true(guts_pathglob_negated(g, 3));
	guts_pathglob_free(g);

	assert_int_equal(guts_pathglob_compile(&g, "~/x", "/ws", NULL),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "no home directory"));
	assert_int_equal(guts_pathglob_compile(&g, "!", "/ws", NULL),
			 GUTS_EINVAL);
}

static void test_pathglob__fnmatch_names(void **state)
{
	(void)state;
	assert_true(guts_pathglob_fnmatch("build-*", "build-linux"));
	assert_false(guts_pathglob_fnmatch("build-*", "test-linux"));
	assert_true(guts_pathglob_fnmatch("*", "anything"));
	assert_true(guts_pathglob_fnmatch("a?c", "abc"));
	assert_false(guts_pathglob_fnmatch("a?c", "ac"));
	/* Stars cannot blow up: a long run of them is still quick. */
	assert_false(guts_pathglob_fnmatch(
	    "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

/* ---- upload and download ------------------------------------------ */

static void test_builtin__unknown_names_are_not_found(void **state)
{
	struct env *e = env_new();

	(void)state;
	assert_int_equal(run(e, "frobnicate", NULL), GUTS_ENOTFOUND);
	assert_int_equal(run(e, "actions/setup-node@v4", NULL), GUTS_ENOTFOUND);
	assert_true(guts_builtin_has_post("cache"));
	assert_true(guts_builtin_has_post("actions/cache@v4"));
	assert_false(guts_builtin_has_post("actions/cache/restore@v4"));
	assert_false(guts_builtin_has_post("checkout"));
	assert_int_equal(post(e, "checkout", NULL, NULL, 1), 0);
	env_free(e);
}

static void
test_artifact__round_trip_with_globs_exclusions_and_lca(void **state)
{
	struct env *e = env_new();

	(void)state;
	write_filef("a", "%s/build/out/a.txt", e->ws);
	write_filef("b", "%s/build/out/sub/b.txt", e->ws);
	write_filef("c", "%s/build/out/sub/c.txt", e->ws);
	write_filef("log", "%s/build/out/skip.log", e->ws);
	write_filef("o", "%s/build/other/o.txt", e->ws);
	write_filef("x", "%s/unrelated.txt", e->ws);
	chmod(e->ws, 0755);
	{
		char *p = guts_xasprintf("%s/build/out/a.txt", e->ws);

		chmod(p, 0755);
		free(p);
	}
	assert_int_equal(run(e, "actions/upload-artifact@v4",
			     "{\"name\": \"bin\", \"path\": "
			     "\"build/out/**/*.txt\\n!build/out/sub/b.txt\\n"
			     "build/other/o.txt\"}"),
			 0);
	assert_log_has(e, "uploaded 3 files");
	assert_non_null(output(e, "artifact-digest"));

	assert_int_equal(run(e, "download-artifact",
			     "{\"name\": \"bin\", \"path\": \"dl\"}"),
			 0);
	/* Relative to build/, the common ancestor of the search paths. */
	assert_file("a", "%s/dl/out/a.txt", e->ws);
	assert_file("c", "%s/dl/out/sub/c.txt", e->ws);
	assert_file("o", "%s/dl/other/o.txt", e->ws);
	assert_false(exists("%s/dl/out/sub/b.txt", e->ws));
	assert_false(exists("%s/dl/out/skip.log", e->ws));
	assert_false(exists("%s/dl/unrelated.txt", e->ws));
	{
		char *p = guts_xasprintf("%s/dl/out/a.txt", e->ws);
		struct stat st;

		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0755);
		free(p);
		p = guts_xasprintf("%s/dl", e->ws);
		assert_string_equal(output(e, "download-path"), p);
		free(p);
	}
	env_free(e);
}

static void test_artifact__one_directory_or_one_file_is_the_root(void **state)
{
	struct env *e = env_new();

	(void)state;
	write_filef("a", "%s/dist/a.txt", e->ws);
	write_filef("b", "%s/dist/deep/b.txt", e->ws);
	write_filef("h", "%s/dist/.hidden", e->ws);
	assert_int_equal(run(e, "upload-artifact",
			     "{\"name\": \"dir\", \"path\": \"dist\"}"),
			 0);
	assert_int_equal(run(e, "upload-artifact",
			     "{\"name\": \"file\", \"path\": "
			     "\"dist/deep/b.txt\"}"),
			 0);
	assert_int_equal(run(e, "upload-artifact",
			     "{\"name\": \"hidden\", \"path\": \"dist\", "
			     "\"include-hidden-files\": true}"),
			 0);
	assert_int_equal(run(e, "download-artifact",
			     "{\"name\": \"dir\", \"path\": \"d1\"}"),
			 0);
	assert_file("a", "%s/d1/a.txt", e->ws);
	assert_file("b", "%s/d1/deep/b.txt", e->ws);
	assert_false(exists("%s/d1/.hidden", e->ws));
	assert_int_equal(run(e, "download-artifact",
			     "{\"name\": \"file\", \"path\": \"d2\"}"),
			 0);
	assert_file("b", "%s/d2/b.txt", e->ws);
	assert_int_equal(count_entries("%s/d2", e->ws), 1);
	assert_int_equal(run(e, "download-artifact",
			     "{\"name\": \"hidden\", \"path\": \"d3\"}"),
			 0);
	assert_file("h", "%s/d3/.hidden", e->ws);
	env_free(e);
}

static void
test_artifact__download_all_each_in_its_directory_or_merged(void **state)
{
	struct env *e = env_new();

	(void)state;
	write_filef("1", "%s/one/x.txt", e->ws);
	write_filef("2", "%s/two/y.txt", e->ws);
	write_filef("3", "%s/three/z.txt", e->ws);
	assert_int_equal(
	    run(e, "upload-artifact", "{\"name\": \"one\", \"path\": \"one\"}"),
	    0);
	assert_int_equal(
	    run(e, "upload-artifact", "{\"name\": \"two\", \"path\": \"two\"}"),
	    0);
	assert_int_equal(run(e, "upload-artifact",
			     "{\"name\": \"three\", \"path\": \"three\"}"),
			 0);
	assert_int_equal(run(e, "download-artifact", "{\"path\": \"all\"}"), 0);
	assert_file("1", "%s/all/one/x.txt", e->ws);
	assert_file("2", "%s/all/two/y.txt", e->ws);
	assert_file("3", "%s/all/three/z.txt", e->ws);
	assert_int_equal(run(e, "download-artifact",
			     "{\"path\": \"merged\", \"pattern\": \"t*\", "
			     "\"merge-multiple\": \"true\"}"),
			 0);
	assert_file("2", "%s/merged/y.txt", e->ws);
	assert_file("3", "%s/merged/z.txt", e->ws);
	assert_false(exists("%s/merged/x.txt", e->ws));
	assert_int_equal(count_entries("%s/merged", e->ws), 2);
	/* Default path: the workspace. */
	assert_int_equal(run(e, "download-artifact", "{\"name\": \"one\"}"), 0);
	assert_file("1", "%s/x.txt", e->ws);
	assert_string_equal(output(e, "download-path"), e->ws);
	/* Another run sees none of them. */
	e->ctx.run_id = "43";
	assert_int_equal(run(e, "download-artifact", "{\"name\": \"one\"}"),
			 GUTS_ENOTFOUND);
	assert_non_null(strstr(guts_error_message(), "'one'"));
	env_free(e);
}

static void test_artifact__inputs_are_checked_and_named(void **state)
{
	struct env *e = env_new();

	(void)state;
	write_filef("a", "%s/f.txt", e->ws);
	assert_int_equal(run(e, "upload-artifact",
			     "{\"path\": \"f.txt\", \"retention-days\": "
			     "\"abc\"}"),
			 GUTS_EINVAL);
	assert_string_equal(guts_error_message(),
			    "upload-artifact: input 'retention-days' must be "
			    "a whole number from 1 to 90, got 'abc'");
	assert_int_equal(run(e, "upload-artifact",
			     "{\"path\": \"f.txt\", \"retention-days\": 91}"),
			 GUTS_EINVAL);
	assert_int_equal(run(e, "upload-artifact",
			     "{\"path\": \"f.txt\", \"retention-days\": "
			     "\"0\"}"),
			 GUTS_EINVAL);
	assert_int_equal(run(e, "upload-artifact",
			     "{\"name\": \"a/b\", \"path\": \"f.txt\"}"),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "input 'name'"));
	assert_int_equal(run(e, "upload-artifact",
			     "{\"name\": \"a:b\", \"path\": \"f.txt\"}"),
			 GUTS_EINVAL);
	assert_int_equal(run(e, "upload-artifact",
			     "{\"name\": \"..\", \"path\": \"f.txt\"}"),
			 GUTS_EINVAL);
	assert_int_equal(run(e, "upload-artifact", "{}"), GUTS_EINVAL);
	assert_string_equal(guts_error_message(),
			    "upload-artifact: input 'path' is required");
	assert_int_equal(run(e, "upload-artifact",
			     "{\"path\": \"f.txt\", \"overwrite\": \"yes\"}"),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "input 'overwrite'"));
	assert_int_equal(run(e, "upload-artifact",
			     "{\"path\": \"f.txt\", \"if-no-files-found\": "
			     "\"explode\"}"),
			 GUTS_EINVAL);
	assert_int_equal(run(e, "upload-artifact", "{\"path\": \"../x\"}"),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "outside the workspace"));
	assert_int_equal(run(e, "upload-artifact", "{\"path\": \"/etc\"}"),
			 GUTS_EINVAL);
	assert_int_equal(run(e, "download-artifact",
			     "{\"name\": \"x\", \"path\": \"../../etc\"}"),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "input 'path'"));
	/* Unknown inputs are only a warning. */
	assert_int_equal(run(e, "upload-artifact",
			     "{\"path\": \"f.txt\", \"retention-days\": 7, "
			     "\"frobnicate\": 1}"),
			 0);
	assert_log_has(e, "unexpected input 'frobnicate'");
	env_free(e);
}

static void test_artifact__no_files_warns_or_fails_as_asked(void **state)
{
	struct env *e = env_new();

	(void)state;
	assert_int_equal(run(e, "upload-artifact", "{\"path\": \"nope/*\"}"),
			 0);
	assert_log_has(e, "warning: upload-artifact: no files were found");
	assert_int_equal(run(e, "upload-artifact",
			     "{\"path\": \"nope/*\", \"if-no-files-found\": "
			     "\"error\"}"),
			 GUTS_ENOTFOUND);
	assert_non_null(strstr(guts_error_message(), "nope/*"));
	assert_int_equal(run(e, "upload-artifact",
			     "{\"path\": \"nope/*\", \"if-no-files-found\": "
			     "\"ignore\"}"),
			 0);
	assert_int_equal(
	    run(e, "download-artifact", "{\"name\": \"artifact\"}"),
	    GUTS_ENOTFOUND);
	env_free(e);
}

static void test_artifact__overwrite_is_refused_unless_asked(void **state)
{
	struct env *e = env_new();

	(void)state;
	write_filef("v1", "%s/f.txt", e->ws);
	assert_int_equal(run(e, "upload-artifact", "{\"path\": \"f.txt\"}"), 0);
	write_filef("v2", "%s/f.txt", e->ws);
	assert_int_equal(run(e, "upload-artifact", "{\"path\": \"f.txt\"}"),
			 GUTS_ECONFLICT);
	assert_non_null(strstr(guts_error_message(), "'artifact' exists"));
	assert_int_equal(run(e, "upload-artifact",
			     "{\"path\": \"f.txt\", \"overwrite\": true}"),
			 0);
	assert_int_equal(run(e, "download-artifact",
			     "{\"name\": \"artifact\", \"path\": \"o\"}"),
			 0);
	assert_file("v2", "%s/o/f.txt", e->ws);
	env_free(e);
}

static void test_artifact__upload_does_not_follow_links_out(void **state)
{
	struct env *e = env_new();
	char *p, *q;

	(void)state;
	write_filef("ok", "%s/data/ok.txt", e->ws);
	write_filef("secret", "%s/secret.txt", e->outside);
	write_filef("real", "%s/real.txt", e->ws);
	p = guts_xasprintf("%s/data/passwd", e->ws);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	free(p);
	p = guts_xasprintf("%s/data/etc", e->ws);
	assert_int_equal(symlink("/etc", p), 0);
	free(p);
	p = guts_xasprintf("%s/data/secret.txt", e->ws);
	q = guts_xasprintf("%s/secret.txt", e->outside);
	assert_int_equal(symlink(q, p), 0);
	free(p);
	free(q);
	/* A link that stays inside the workspace is followed. */
	p = guts_xasprintf("%s/data/inner.txt", e->ws);
	assert_int_equal(symlink("../real.txt", p), 0);
	free(p);

	assert_int_equal(run(e, "upload-artifact", "{\"path\": \"data\"}"), 0);
	assert_log_has(e, "skipping");
	assert_log_has(e, "/etc/passwd");
	assert_int_equal(run(e, "download-artifact",
			     "{\"name\": \"artifact\", \"path\": \"dl\"}"),
			 0);
	assert_file("ok", "%s/dl/ok.txt", e->ws);
	assert_file("real", "%s/dl/inner.txt", e->ws);
	assert_false(exists("%s/dl/passwd", e->ws));
	assert_false(exists("%s/dl/etc", e->ws));
	assert_false(exists("%s/dl/secret.txt", e->ws));
	assert_int_equal(count_entries("%s/dl", e->ws), 2);

	/* Named directly, the link is still refused. */
	assert_int_equal(run(e, "upload-artifact",
			     "{\"name\": \"pw\", \"path\": \"data/passwd\", "
			     "\"if-no-files-found\": \"error\"}"),
			 GUTS_ENOTFOUND);
	env_free(e);
}

/* Plant artifact @name in run 42 with the manifest text @manifest. */
static void plant_artifact(struct env *e, const char *name,
			   const char *manifest)
{
	struct guts_blobstore *bs = guts_local_store_blobs(e->store);
	char hex[GUTS_SHA256_HEX_LEN + 1];
	char *rec, *path;

	assert_non_null(bs);
	assert_int_equal(
	    guts_blobstore_put_buf(bs, manifest, strlen(manifest), hex), 0);
	rec = guts_xasprintf("{\"name\": \"%s\", \"manifest\": \"%s\"}", name,
			     hex);
	path = guts_xasprintf("%s/artifacts/42/%s.json", e->store_dir, name);
	write_file(path, rec);
	free(path);
	free(rec);
}

static void test_artifact__crafted_manifests_write_nothing_outside(void **state)
{
	struct env *e = env_new();
	char hex[GUTS_SHA256_HEX_LEN + 1];
	char *manifest, *link;

	(void)state;
	assert_int_equal(guts_blobstore_put_buf(
			     guts_local_store_blobs(e->store), "pwned", 5, hex),
			 0);
	manifest = guts_xasprintf("[{\"path\": \"../../outside/x\", \"mode\": "
				  "420, \"size\": 5, \"sha256\": \"%s\"}]",
				  hex);
	plant_artifact(e, "dotdot", manifest);
	free(manifest);
	manifest = guts_xasprintf("[{\"path\": \"%s/abs\", \"mode\": 420, "
				  "\"size\": 5, \"sha256\": \"%s\"}]",
				  e->outside, hex);
	plant_artifact(e, "absolute", manifest);
	free(manifest);
	manifest = guts_xasprintf("[{\"path\": \"a.txt\", \"mode\": 420, "
				  "\"size\": 5, \"sha256\": \"%s\"}, "
				  "{\"path\": \"link/x\", \"mode\": 420, "
				  "\"size\": 5, \"sha256\": \"%s\"}]",
				  hex, hex);
	plant_artifact(e, "vialink", manifest);
	free(manifest);

	assert_int_equal(run(e, "download-artifact",
			     "{\"name\": \"dotdot\", \"path\": \"dl/a/b\"}"),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "../../outside/x"));
	assert_int_equal(run(e, "download-artifact",
			     "{\"name\": \"absolute\", \"path\": \"dl\"}"),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "relative"));
	/* A link planted in the destination leads out of the workspace. */
	mkdir_p(e->ws);
	link = guts_xasprintf("%s/dl2/link", e->ws);
	mkdir_p(link);
	rmdir(link);
	assert_int_equal(symlink(e->outside, link), 0);
	free(link);
	assert_int_equal(run(e, "download-artifact",
			     "{\"name\": \"vialink\", \"path\": \"dl2\"}"),
			 GUTS_EPERM);
	assert_non_null(strstr(guts_error_message(), "symbolic link"));
	/* All or nothing: not even the harmless file went in. */
	assert_false(exists("%s/dl2/a.txt", e->ws));
	/* Downloading everything stops at the first bad one, too. */
	assert_int_equal(run(e, "download-artifact", "{\"path\": \"all\"}"),
			 GUTS_EINVAL);
	assert_int_equal(count_entries("%s", e->outside), 0);
	assert_false(exists("%s/x", e->root));
	env_free(e);
}

static void test_artifact__download_verifies_each_file(void **state)
{
	struct env *e = env_new();
	char hex[GUTS_SHA256_HEX_LEN + 1];
	char *blob;
	int fd;

	(void)state;
	write_filef("precious", "%s/f.txt", e->ws);
	assert_int_equal(run(e, "upload-artifact", "{\"path\": \"f.txt\"}"), 0);
	assert_int_equal(
	    guts_blobstore_put_buf(guts_local_store_blobs(e->store), "precious",
				   8, hex),
	    0);
	blob = guts_xasprintf("%s/blobs/sha256/%.2s/%s", e->store_dir, hex,
			      hex + 2);
	fd = open(blob, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "P", 1, 0), 1);
	close(fd);
	free(blob);
	assert_int_equal(run(e, "download-artifact",
			     "{\"name\": \"artifact\", \"path\": \"dl\"}"),
			 GUTS_EIO);
	assert_non_null(strstr(guts_error_message(), "corrupted"));
	assert_non_null(strstr(guts_error_message(), "f.txt"));
	assert_false(exists("%s/dl/f.txt", e->ws));
	env_free(e);
}

/* ---- cache -------------------------------------------------------- */

static const char cache_with[] =
    "{\"key\": \"deps-v1\", \"path\": \"deps\\n~/.tool\"}";

static void test_cache__miss_then_post_saves_then_exact_hit(void **state)
{
	struct env *e = env_new();
	json_t *st = NULL;

	(void)state;
	write_filef("lib", "%s/deps/lib.a", e->ws);
	write_filef("cfg", "%s/.tool/cfg", e->home);
	assert_int_equal(run_state(e, "actions/cache@v4", cache_with, &st), 0);
	assert_string_equal(output(e, "cache-hit"), "false");
	assert_string_equal(output(e, "cache-primary-key"), "deps-v1");
	assert_log_has(e, "cache not found for input keys: deps-v1");
	assert_non_null(st);
	assert_int_equal(post(e, "actions/cache@v4", cache_with, st, 1), 0);
	assert_log_has(e, "cache saved with key: deps-v1 (2 files");
	json_decref(st);
	st = NULL;

	rm_rf(e->ws);
	rm_rf(e->home);
	mkdir_p(e->ws);
	assert_int_equal(run_state(e, "cache", cache_with, &st), 0);
	assert_string_equal(output(e, "cache-hit"), "true");
	assert_string_equal(output(e, "cache-matched-key"), "deps-v1");
	assert_file("lib", "%s/deps/lib.a", e->ws);
	assert_file("cfg", "%s/.tool/cfg", e->home);
	/* An exact hit is not saved again. */
	guts_buf_reset(&e->log);
	assert_int_equal(post(e, "cache", cache_with, st, 1), 0);
	assert_log_has(e, "not saving");
	json_decref(st);
	env_free(e);
}

/* Save @key with deps/f.txt holding @content, through cache/save. */
static void save_cache(struct env *e, const char *key, const char *content)
{
	char *with =
	    guts_xasprintf("{\"key\": \"%s\", \"path\": \"deps\"}", key);

	write_filef(content, "%s/deps/f.txt", e->ws);
	assert_int_equal(run(e, "actions/cache/save@v4", with), 0);
	free(with);
}

static void test_cache__restore_keys_take_the_newest_prefix_match(void **state)
{
	struct env *e = env_new();

	(void)state;
	save_cache(e, "npm-linux-aaa", "first");
	save_cache(e, "npm-linux-bbb", "second");
	save_cache(e, "npm-mac-ccc", "mac");
	save_cache(e, "other", "other");
	rm_rf(e->ws);
	mkdir_p(e->ws);
	assert_int_equal(run(e, "cache",
			     "{\"key\": \"npm-linux-zzz\", \"path\": \"deps\", "
			     "\"restore-keys\": \"npm-linux-\\nnpm-\"}"),
			 0);
	assert_string_equal(output(e, "cache-hit"), "false");
	assert_string_equal(output(e, "cache-matched-key"), "npm-linux-bbb");
	assert_file("second", "%s/deps/f.txt", e->ws);
	/* The first restore key that matches at all wins. */
	assert_int_equal(
	    run(e, "cache",
		"{\"key\": \"x\", \"path\": \"deps\", "
		"\"restore-keys\": \"nothing-\\nnpm-mac\\nnpm-\"}"),
	    0);
	assert_string_equal(output(e, "cache-matched-key"), "npm-mac-ccc");
	/* Other paths are another cache, whatever the key. */
	assert_int_equal(run(e, "cache",
			     "{\"key\": \"npm-linux-bbb\", \"path\": "
			     "\"elsewhere\"}"),
			 0);
	assert_string_equal(output(e, "cache-hit"), "false");
	env_free(e);
}

static void test_cache__falls_back_to_the_default_branch_scope(void **state)
{
	struct env *e = env_new();
	json_t *st = NULL;

	(void)state;
	e->ctx.cache_scope = "repo:main";
	save_cache(e, "k-1", "from main");
	rm_rf(e->ws);
	mkdir_p(e->ws);
	e->ctx.cache_scope = "repo:feature";
	e->ctx.cache_fallback_scope = "repo:main";
	assert_int_equal(run_state(e, "cache",
				   "{\"key\": \"k-2\", \"path\": \"deps\", "
				   "\"restore-keys\": \"k-\"}",
				   &st),
			 0);
	assert_string_equal(output(e, "cache-matched-key"), "k-1");
	assert_file("from main", "%s/deps/f.txt", e->ws);
	/* The post step saves into the branch's own scope. */
	assert_int_equal(post(e, "cache",
			      "{\"key\": \"k-2\", \"path\": \"deps\", "
			      "\"restore-keys\": \"k-\"}",
			      st, 1),
			 0);
	json_decref(st);
	e->ctx.cache_fallback_scope = NULL;
	assert_int_equal(
	    run(e, "cache", "{\"key\": \"k-2\", \"path\": \"deps\"}"), 0);
	assert_string_equal(output(e, "cache-hit"), "true");
	/* A branch's caches are not visible from main. */
	e->ctx.cache_scope = "repo:main";
	assert_int_equal(
	    run(e, "cache", "{\"key\": \"k-2\", \"path\": \"deps\"}"), 0);
	assert_string_equal(output(e, "cache-hit"), "false");
	env_free(e);
}

static void test_cache__post_skips_saving_after_a_failed_job(void **state)
{
	struct env *e = env_new();
	json_t *st = NULL;
	const char *with = "{\"key\": \"k\", \"path\": \"deps\"}";

	(void)state;
	write_filef("x", "%s/deps/f", e->ws);
	assert_int_equal(run_state(e, "cache", with, &st), 0);
	assert_int_equal(post(e, "cache", with, st, 0), 0);
	assert_log_has(e, "the job failed; not saving");
	json_decref(st);
	st = NULL;
	assert_int_equal(run_state(e, "cache", with, &st), 0);
	assert_string_equal(output(e, "cache-hit"), "false");
	/* No state (the step never ran): nothing to do. */
	assert_int_equal(post(e, "cache", with, NULL, 1), 0);
	json_decref(st);
	env_free(e);
}

static void test_cache__lookup_only_and_fail_on_miss(void **state)
{
	struct env *e = env_new();

	(void)state;
	save_cache(e, "k", "v");
	rm_rf(e->ws);
	mkdir_p(e->ws);
	assert_int_equal(run(e, "cache",
			     "{\"key\": \"k\", \"path\": \"deps\", "
			     "\"lookup-only\": true}"),
			 0);
	assert_string_equal(output(e, "cache-hit"), "true");
	assert_false(exists("%s/deps", e->ws));
	assert_int_equal(run(e, "cache",
			     "{\"key\": \"nope\", \"path\": \"deps\", "
			     "\"fail-on-cache-miss\": true}"),
			 GUTS_ENOTFOUND);
	assert_non_null(strstr(guts_error_message(), "nope"));
	assert_int_equal(run(e, "cache", "{\"key\": \"a,b\", \"path\": \"d\"}"),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "commas"));
	assert_int_equal(run(e, "cache", "{\"path\": \"d\"}"), GUTS_EINVAL);
	assert_string_equal(guts_error_message(),
			    "cache: input 'key' is required");
	env_free(e);
}

static void test_cache__least_recently_used_entries_are_evicted(void **state)
{
	struct env *e = env_new();
	struct guts_blobstore_stats bst;
	unsigned long long removed = 0;

	(void)state;
	assert_int_equal(guts_local_store_set_cache_limit(e->store, 20), 0);
	assert_int_equal(guts_local_store_set_gc_grace(e->store, 0), 0);
	save_cache(e, "old", "0123456789");
	save_cache(e, "mid", "abcdefghij");
	/* Use "old": "mid" is now the least recently used. */
	assert_int_equal(run(e, "cache",
			     "{\"key\": \"old\", \"path\": "
			     "\"deps\", \"lookup-only\": true}"),
			 0);
	assert_string_equal(output(e, "cache-hit"), "true");
	save_cache(e, "new", "ABCDEFGHIJ");
	assert_int_equal(
	    run(e, "cache", "{\"key\": \"mid\", \"path\": \"deps\"}"), 0);
	assert_string_equal(output(e, "cache-hit"), "false");
	assert_int_equal(
	    run(e, "cache", "{\"key\": \"old\", \"path\": \"deps\"}"), 0);
	assert_string_equal(output(e, "cache-hit"), "true");
	assert_int_equal(
	    run(e, "cache", "{\"key\": \"new\", \"path\": \"deps\"}"), 0);
	assert_string_equal(output(e, "cache-hit"), "true");
	/* mid's content and manifest blobs were collected. */
	assert_int_equal(guts_local_store_gc(e->store, &removed), 0);
	assert_int_equal(
	    guts_blobstore_stats(guts_local_store_blobs(e->store), &bst), 0);
	assert_int_equal(bst.blobs, 4); /* two files, two manifests */
	env_free(e);
}

/* ---- checkout ----------------------------------------------------- */

struct repo {
	char *dir;
	char *first, *second, *third, *feature;
};

static void make_repo(struct env *e, struct repo *r)
{
	r->dir = guts_xasprintf("%s/src", e->root);
	mkdir_p(r->dir);
	git_ok(r->dir, "init", "-q", NULL, NULL);
	write_filef("one\n", "%s/README", r->dir);
	git_ok(r->dir, "add", "README", NULL, NULL);
	git_ok(r->dir, "commit", "-qm", "first commit", NULL);
	r->first = git(r->dir, "rev-parse", "HEAD", NULL);
	git_ok(r->dir, "tag", "-a", "v1", "-mv1");
	write_filef("two\n", "%s/README", r->dir);
	git_ok(r->dir, "commit", "-qam", "second commit", NULL);
	r->second = git(r->dir, "rev-parse", "HEAD", NULL);
	git_ok(r->dir, "checkout", "-qb", "feature", NULL);
	write_filef("feat\n", "%s/FEATURE", r->dir);
	git_ok(r->dir, "add", "FEATURE", NULL, NULL);
	git_ok(r->dir, "commit", "-qm", "feature work", NULL);
	r->feature = git(r->dir, "rev-parse", "HEAD", NULL);
	git_ok(r->dir, "checkout", "-q", "main", NULL);
	write_filef("three\n", "%s/README", r->dir);
	git_ok(r->dir, "commit", "-qam", "third commit", NULL);
	r->third = git(r->dir, "rev-parse", "HEAD", NULL);
	e->ctx.repo_source = r->dir;
	e->ctx.repo_is_git = 1;
}

static void free_repo(struct repo *r)
{
	free(r->dir);
	free(r->first);
	free(r->second);
	free(r->third);
	free(r->feature);
}

static char *history_length(const char *dir)
{
	return git(dir, "rev-list", "--count", "HEAD", NULL);
}

static void test_checkout__clones_head_with_depth_one(void **state)
{
	struct env *e;
	struct repo r;
	char *n, *branch;

	(void)state;
	if (!have_git())
		skip();
	e = env_new();
	make_repo(e, &r);
	assert_int_equal(run(e, "actions/checkout@v4", "{\"token\": \"x\"}"),
			 0);
	assert_log_has(e, "input 'token' is ignored");
	assert_log_has(e, "HEAD is now at ");
	assert_log_has(e, "third commit");
	assert_file("three\n", "%s/README", e->ws);
	assert_false(exists("%s/FEATURE", e->ws));
	assert_string_equal(output(e, "commit"), r.third);
	n = history_length(e->ws);
	assert_string_equal(n, "1");
	free(n);
	branch = git(e->ws, "branch", "--show-current", NULL);
	assert_string_equal(branch, "main");
	free(branch);
	n = git(e->ws, "remote", "get-url", "origin", NULL);
	assert_string_equal(n, r.dir);
	free(n);
	free_repo(&r);
	env_free(e);
}

static void test_checkout__full_history_and_refs(void **state)
{
	struct env *e;
	struct repo r;
	char *n;

	(void)state;
	if (!have_git())
		skip();
	e = env_new();
	make_repo(e, &r);
	assert_int_equal(run(e, "checkout", "{\"fetch-depth\": 0}"), 0);
	n = history_length(e->ws);
	assert_string_equal(n, "3");
	free(n);
	n = git(e->ws, "tag", NULL);
	assert_string_equal(n, "v1");
	free(n);

	/* A tag, detached, into a non-empty directory that gets emptied. */
	write_filef("stray", "%s/stray.txt", e->ws);
	if (run(e, "checkout", "{\"ref\": \"v1\"}"))
		fail_msg("%s\n%s", guts_error_message(), e->log.data);
	assert_file("one\n", "%s/README", e->ws);
	assert_false(exists("%s/stray.txt", e->ws));
	assert_string_equal(output(e, "commit"), r.first);
	assert_string_equal(output(e, "ref"), "refs/tags/v1");
	assert_log_has(e, "emptying");

	/* A branch by name. */
	assert_int_equal(run(e, "checkout", "{\"ref\": \"feature\"}"), 0);
	assert_file("feat\n", "%s/FEATURE", e->ws);
	assert_string_equal(output(e, "commit"), r.feature);
	n = git(e->ws, "branch", "--show-current", NULL);
	assert_string_equal(n, "feature");
	free(n);

	/* A full SHA. */
	assert_int_equal(run_state(e, "checkout", NULL, NULL), 0);
	{
		char *with = guts_xasprintf("{\"ref\": \"%s\"}", r.second);

		assert_int_equal(run(e, "checkout", with), 0);
		free(with);
	}
	assert_file("two\n", "%s/README", e->ws);
	assert_string_equal(output(e, "commit"), r.second);

	assert_int_equal(run(e, "checkout", "{\"ref\": \"no-such-branch\"}"),
			 GUTS_ENOTFOUND);
	assert_non_null(strstr(guts_error_message(), "input 'ref'"));
	assert_non_null(strstr(guts_error_message(), "no-such-branch"));
	free_repo(&r);
	env_free(e);
}

static void test_checkout__the_event_sha_on_its_branch(void **state)
{
	struct env *e;
	struct repo r;
	char *n;

	(void)state;
	if (!have_git())
		skip();
	e = env_new();
	make_repo(e, &r);
	e->ctx.sha = r.second;
	e->ctx.ref = "refs/heads/main";
	assert_int_equal(run(e, "checkout", NULL), 0);
	assert_file("two\n", "%s/README", e->ws);
	assert_string_equal(output(e, "commit"), r.second);
	n = git(e->ws, "branch", "--show-current", NULL);
	assert_string_equal(n, "main");
	free(n);
	free_repo(&r);
	env_free(e);
}

static void test_checkout__into_a_path_and_never_outside(void **state)
{
	struct env *e;
	struct repo r;

	(void)state;
	if (!have_git())
		skip();
	e = env_new();
	make_repo(e, &r);
	write_filef("keep", "%s/keep.txt", e->ws);
	assert_int_equal(run(e, "checkout", "{\"path\": \"sub/dir\"}"), 0);
	assert_file("three\n", "%s/sub/dir/README", e->ws);
	assert_true(exists("%s/sub/dir/.git", e->ws));
	assert_file("keep", "%s/keep.txt", e->ws);

	assert_int_equal(run(e, "checkout", "{\"path\": \"../x\"}"),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "input 'path'"));
	assert_false(exists("%s/x", e->root));
	assert_int_equal(run(e, "checkout", "{\"path\": \"/tmp\"}"),
			 GUTS_EINVAL);
	/* A link in the workspace cannot redirect the checkout. */
	{
		char *link = guts_xasprintf("%s/out", e->ws);

		assert_int_equal(symlink(e->outside, link), 0);
		free(link);
	}
	assert_int_equal(run(e, "checkout", "{\"path\": \"out/repo\"}"),
			 GUTS_EPERM);
	assert_int_equal(count_entries("%s", e->outside), 0);
	free_repo(&r);
	env_free(e);
}

static void test_checkout__copies_a_plain_directory(void **state)
{
	struct env *e = env_new();
	char *src = guts_xasprintf("%s/plain", e->root), *p;
	char target[256];
	ssize_t n;

	(void)state;
	write_filef("top", "%s/top.txt", src);
	write_filef("deep", "%s/a/b/deep.txt", src);
	p = guts_xasprintf("%s/link", src);
	assert_int_equal(symlink("a/b/deep.txt", p), 0);
	free(p);
	e->ctx.repo_source = src;
	e->ctx.repo_is_git = 0;
	assert_int_equal(run(e, "checkout", NULL), 0);
	assert_log_has(e, "is not a git repository; copied the directory");
	assert_file("top", "%s/top.txt", e->ws);
	assert_file("deep", "%s/a/b/deep.txt", e->ws);
	p = guts_xasprintf("%s/link", e->ws);
	n = readlink(p, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "a/b/deep.txt");
	free(p);

	/* Into a path; the source holding the workspace is not recursed. */
	e->ctx.repo_source = e->root;
	assert_int_equal(run(e, "checkout", "{\"path\": \"copy\"}"), 0);
	assert_file("top", "%s/copy/plain/top.txt", e->ws);
	assert_false(exists("%s/copy/ws", e->ws));

	/* The workspace itself: nothing to do. */
	e->ctx.repo_source = e->ws;
	guts_buf_reset(&e->log);
	assert_int_equal(run(e, "checkout", NULL), 0);
	assert_log_has(e, "nothing to copy");

	e->ctx.repo_source = NULL;
	assert_int_equal(run(e, "checkout", NULL), GUTS_EINVAL);
	assert_string_equal(guts_error_message(),
			    "checkout: no repository to check out");
	free(src);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runcmd__captures_output_and_exit_status),
	    cmocka_unit_test(test_runcmd__runs_in_cwd_with_the_given_env),
	    cmocka_unit_test(test_runcmd__a_missing_program_is_not_found),
	    cmocka_unit_test(test_runcmd__caps_output_and_keeps_reading),
	    cmocka_unit_test(test_runcmd__a_time_out_kills_the_program),
	    cmocka_unit_test(test_pathglob__matches_like_actions_glob),
	    cmocka_unit_test(
		test_pathglob__a_directory_match_takes_its_contents),
	    cmocka_unit_test(test_pathglob__search_paths_and_normalisation),
	    cmocka_unit_test(test_pathglob__fnmatch_names),
	    cmocka_unit_test(test_builtin__unknown_names_are_not_found),
	    cmocka_unit_test(
		test_artifact__round_trip_with_globs_exclusions_and_lca),
	    cmocka_unit_test(
		test_artifact__one_directory_or_one_file_is_the_root),
	    cmocka_unit_test(
		test_artifact__download_all_each_in_its_directory_or_merged),
	    cmocka_unit_test(test_artifact__inputs_are_checked_and_named),
	    cmocka_unit_test(test_artifact__no_files_warns_or_fails_as_asked),
	    cmocka_unit_test(test_artifact__overwrite_is_refused_unless_asked),
	    cmocka_unit_test(test_artifact__upload_does_not_follow_links_out),
	    cmocka_unit_test(
		test_artifact__crafted_manifests_write_nothing_outside),
	    cmocka_unit_test(test_artifact__download_verifies_each_file),
	    cmocka_unit_test(test_cache__miss_then_post_saves_then_exact_hit),
	    cmocka_unit_test(
		test_cache__restore_keys_take_the_newest_prefix_match),
	    cmocka_unit_test(
		test_cache__falls_back_to_the_default_branch_scope),
	    cmocka_unit_test(test_cache__post_skips_saving_after_a_failed_job),
	    cmocka_unit_test(test_cache__lookup_only_and_fail_on_miss),
	    cmocka_unit_test(
		test_cache__least_recently_used_entries_are_evicted),
	    cmocka_unit_test(test_checkout__clones_head_with_depth_one),
	    cmocka_unit_test(test_checkout__full_history_and_refs),
	    cmocka_unit_test(test_checkout__the_event_sha_on_its_branch),
	    cmocka_unit_test(test_checkout__into_a_path_and_never_outside),
	    cmocka_unit_test(test_checkout__copies_a_plain_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
