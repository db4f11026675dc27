/*
 * Unit tests for the node's git module: real bare repositories made by
 * gitx_repo_init(), filled by pushes from work trees with the git command
 * line, and the real `git http-backend`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "git.h"
#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/runcmd.h"
#include "guts/strvec.h"

struct fixture {
	char *dir;  /* the temporary directory */
	char *root; /* dir/repos: the project root */
	char *bare; /* dir/repos/o/r.git */
	char *work; /* dir/work: a work tree that pushes to bare */
	char *env[8];
};

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Run git in @cwd with the NULL-terminated arguments; its trimmed stdout. */
static char *git_v(struct fixture *fx, const char *cwd, va_list ap)
{
	struct guts_strvec argv = GUTS_STRVEC_INIT;
	struct guts_runcmd cmd = {0};
	struct guts_runcmd_result res;
	const char *arg;
	char *out;

	guts_strvec_push(&argv, "git");
	guts_strvec_push(&argv, "-c");
	guts_strvec_push(&argv, "user.name=Ada Lovelace");
	guts_strvec_push(&argv, "-c");
	guts_strvec_push(&argv, "user.email=ada@example.com");
	while ((arg = va_arg(ap, const char *)))
		guts_strvec_push(&argv, arg);
	cmd.argv = (const char *const *)argv.v;
	cmd.envp = (const char *const *)fx->env;
	cmd.cwd = cwd;
	assert_int_equal(guts_runcmd_run(&cmd, &res), 0);
	if (res.status)
		fail_msg("git %s failed: %s", argv.v[5], res.err);
	out = res.out;
	res.out = NULL;
	while (res.out_len && out[res.out_len - 1] == '\n')
		out[--res.out_len] = '\0';
	guts_runcmd_result_release(&res);
	guts_strvec_release(&argv);
	return out;
}

static char *git_out(struct fixture *fx, ...)
{
	va_list ap;
	char *out;

	va_start(ap, fx);
	out = git_v(fx, fx->work, ap);
	va_end(ap);
	return out;
}

#define git(fx, ...) free(git_out(fx, __VA_ARGS__, (const char *)NULL))
#define git_str(fx, ...) git_out(fx, __VA_ARGS__, (const char *)NULL)

static void write_at(struct fixture *fx, const char *rel, const char *text,
		     size_t len)
{
	char *path = guts_xasprintf("%s/%s", fx->work, rel);
	char *slash = strrchr(path, '/');

	*slash = '\0';
	assert_int_equal(guts_fs_mkdirs(path, 0755), 0);
	*slash = '/';
	assert_int_equal(guts_fs_write_atomic(path, text, len, 0644), 0);
	free(path);
}

static void write_text(struct fixture *fx, const char *rel, const char *text)
{
	write_at(fx, rel, text, strlen(text));
}

/* Commit everything in the work tree; the new commit's sha. */
static char *commit_all(struct fixture *fx, const char *msg)
{
	git(fx, "add", "-A");
	git(fx, "commit", "-q", "--allow-empty", "-m", msg);
	return git_str(fx, "rev-parse", "HEAD");
}

static void push(struct fixture *fx, const char *refspec)
{
	git(fx, "push", "-q", "-f", fx->bare, refspec);
}

static int setup(void **state)
{
	struct fixture *fx = guts_xcalloc(1, sizeof(*fx));
	const char *path = getenv("PATH");

	fx->dir = guts_xstrdup("/tmp/guts-git-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->root = guts_xasprintf("%s/repos", fx->dir);
	fx->bare = guts_xasprintf("%s/o/r.git", fx->root);
	fx->work = guts_xasprintf("%s/work", fx->dir);
	fx->env[0] = guts_xasprintf("PATH=%s", path ? path : "/usr/bin:/bin");
	fx->env[1] = guts_xasprintf("HOME=%s", fx->dir);
	fx->env[2] = guts_xstrdup("GIT_CONFIG_NOSYSTEM=1");
	fx->env[3] = guts_xstrdup("GIT_CONFIG_GLOBAL=/dev/null");
	fx->env[4] = guts_xstrdup("LC_ALL=C");
	fx->env[5] = NULL;
	assert_int_equal(gitx_repo_init(fx->bare, "main"), 0);
	assert_int_equal(mkdir(fx->work, 0755), 0);
	git(fx, "init", "-q", "-b", "main");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx->dir);
	free(fx->root);
	free(fx->bare);
	free(fx->work);
	for (int i = 0; fx->env[i]; i++)
		free(fx->env[i]);
	free(fx);
	return 0;
}

/* ---- repositories ---- */

static void test_git__repo_init_and_remove(void **state)
{
	struct fixture *fx = *state;
	char *path, *text, *other;
	size_t len;

	path = guts_xasprintf("%s/HEAD", fx->bare);
	assert_int_equal(guts_fs_read_all(&text, &len, path, 4096), 0);
	assert_string_equal(text, "ref: refs/heads/main\n");
	free(text);
	free(path);

	/* Bare, and http.receivepack is on. */
	path = guts_xasprintf("%s/config", fx->bare);
	text = git_str(fx, "config", "--file", path, "--bool", "--get",
		       "core.bare");
	assert_string_equal(text, "true");
	free(text);
	text = git_str(fx, "config", "--file", path, "--bool", "--get",
		       "http.receivepack");
	assert_string_equal(text, "true");
	free(text);
	free(path);

	/* An existing repository; bad branch names. */
	assert_int_equal(gitx_repo_init(fx->bare, "main"), GUTS_ECONFLICT);
	other = guts_xasprintf("%s/o/bad.git", fx->root);
	assert_int_equal(gitx_repo_init(other, "a..b"), GUTS_EINVAL);
	assert_int_equal(gitx_repo_init(other, ""), GUTS_EINVAL);
	free(other);

	/* Another default branch; removal; what removal refuses. */
	other = guts_xasprintf("%s/p/q/deep.git", fx->root);
	assert_int_equal(gitx_repo_init(other, "trunk"), 0);
	path = guts_xasprintf("%s/HEAD", other);
	assert_int_equal(guts_fs_read_all(&text, &len, path, 4096), 0);
	assert_string_equal(text, "ref: refs/heads/trunk\n");
	free(text);
	free(path);
	assert_int_equal(gitx_repo_remove(other), 0);
	assert_int_equal(access(other, F_OK), -1);
	assert_int_equal(gitx_repo_remove(other), GUTS_ENOTFOUND);
	free(other);
	assert_int_equal(gitx_repo_remove(fx->work), GUTS_EINVAL);
	assert_int_equal(gitx_repo_remove(fx->dir), GUTS_EINVAL);
	assert_int_equal(access(fx->work, F_OK), 0);
}

static void test_git__repo_remove_does_not_follow_links(void **state)
{
	struct fixture *fx = *state;
	char *link, *victim;

	/* A pushed repository has packs and loose objects to remove. */
	write_text(fx, "a.txt", "a\n");
	free(commit_all(fx, "one"));
	push(fx, "HEAD:refs/heads/main");
	victim = guts_xasprintf("%s/victim.txt", fx->dir);
	assert_int_equal(guts_fs_write_atomic(victim, "x", 1, 0644), 0);
	link = guts_xasprintf("%s/refs/link", fx->bare);
	assert_int_equal(symlink(fx->dir, link), 0);
	assert_int_equal(gitx_repo_remove(fx->bare), 0);
	assert_int_equal(access(fx->bare, F_OK), -1);
	assert_int_equal(access(victim, F_OK), 0);
	free(link);
	free(victim);
}

/* ---- refs, revisions, commits ---- */

static void test_git__refs_resolve_and_commit_info(void **state)
{
	struct fixture *fx = *state;
	char sha[41], *c1, *c2, *tag, *subject, *author, shortsha[8];

	assert_int_equal(gitx_ref_sha(fx->bare, "refs/heads/main", sha),
			 GUTS_ENOTFOUND);
	assert_int_equal(gitx_ref_sha(fx->bare, "HEAD", sha), GUTS_ENOTFOUND);
	write_text(fx, "a.txt", "a\n");
	c1 = commit_all(fx, "First one\r\n\nThe body.\n");
	write_text(fx, "a.txt", "b\n");
	c2 = commit_all(fx, "Second");
	git(fx, "tag", "-a", "-m", "release", "v1", c1);
	git(fx, "tag", "light", c2);
	git(fx, "push", "-q", fx->bare, "HEAD:refs/heads/main",
	    "refs/tags/*:refs/tags/*");
	tag = git_str(fx, "rev-parse", "refs/tags/v1");
	assert_string_not_equal(tag, c1);

	assert_int_equal(gitx_ref_sha(fx->bare, "refs/heads/main", sha), 0);
	assert_string_equal(sha, c2);
	assert_int_equal(gitx_ref_sha(fx->bare, "HEAD", sha), 0);
	assert_string_equal(sha, c2);
	assert_int_equal(gitx_ref_sha(fx->bare, "refs/tags/v1", sha), 0);
	assert_string_equal(sha, c1);
	assert_int_equal(gitx_ref_target(fx->bare, "refs/tags/v1", sha), 0);
	assert_string_equal(sha, tag);
	assert_int_equal(gitx_ref_target(fx->bare, "refs/heads/main", sha), 0);
	assert_string_equal(sha, c2);
	assert_int_equal(gitx_ref_sha(fx->bare, "refs/heads/nope", sha),
			 GUTS_ENOTFOUND);
	assert_int_equal(gitx_ref_sha(fx->bare, "refs/heads/a..b", sha),
			 GUTS_ENOTFOUND);
	assert_int_equal(gitx_ref_sha(fx->root, "refs/heads/main", sha),
			 GUTS_ENOTFOUND);

	assert_int_equal(gitx_resolve(fx->bare, "main", sha), 0);
	assert_string_equal(sha, c2);
	assert_int_equal(gitx_resolve(fx->bare, "refs/heads/main", sha), 0);
	assert_string_equal(sha, c2);
	assert_int_equal(gitx_resolve(fx->bare, "v1", sha), 0);
	assert_string_equal(sha, c1);
	assert_int_equal(gitx_resolve(fx->bare, "light", sha), 0);
	assert_string_equal(sha, c2);
	assert_int_equal(gitx_resolve(fx->bare, c1, sha), 0);
	assert_string_equal(sha, c1);
	assert_int_equal(gitx_resolve(fx->bare, tag, sha), 0);
	assert_string_equal(sha, c1);
	memcpy(shortsha, c1, 7);
	shortsha[7] = '\0';
	assert_int_equal(gitx_resolve(fx->bare, shortsha, sha), 0);
	assert_string_equal(sha, c1);
	shortsha[6] = '\0';
	assert_int_equal(gitx_resolve(fx->bare, shortsha, sha), GUTS_ENOTFOUND);
	assert_int_equal(gitx_resolve(fx->bare, "nope", sha), GUTS_ENOTFOUND);
	assert_int_equal(gitx_resolve(fx->bare, "main~1", sha), GUTS_ENOTFOUND);
	assert_int_equal(gitx_resolve(fx->bare, ":/First", sha),
			 GUTS_ENOTFOUND);
	assert_int_equal(
	    gitx_resolve(fx->bare, "0123456789012345678901234567890123456789",
			 sha),
	    GUTS_ENOTFOUND);
	assert_int_equal(gitx_resolve(fx->bare, "", sha), GUTS_EINVAL);

	assert_int_equal(gitx_commit_info(fx->bare, c1, &subject, &author), 0);
	assert_string_equal(subject, "First one");
	assert_string_equal(author, "Ada Lovelace");
	free(subject);
	free(author);
	assert_int_equal(gitx_commit_info(fx->bare, tag, &subject, &author), 0);
	assert_string_equal(subject, "First one");
	free(subject);
	free(author);
	assert_int_equal(gitx_commit_info(fx->bare, "abc", &subject, &author),
			 GUTS_EINVAL);
	free(c1);
	free(c2);
	free(tag);
}

/* ---- files at a commit ---- */

static void test_git__read_workflows_and_files(void **state)
{
	struct fixture *fx = *state;
	struct gitx_file *f;
	size_t nr, big_len = GITX_MAX_FILE + 1, len;
	char *c1, *c2, *big, *text, *link;

	write_text(fx, "README", "hi\n");
	c1 = commit_all(fx, "no workflows");
	write_text(fx, ".guts/workflows/b.yml", "name: b\n");
	write_text(fx, ".guts/workflows/a.yaml", "name: a\n");
	write_text(fx, ".guts/workflows/notes.txt", "not a workflow\n");
	write_text(fx, ".guts/workflows/sub/d.yml", "name: nested\n");
	write_text(fx, ".guts/workflows/empty.yml", "");
	big = guts_xmalloc(big_len);
	memset(big, '#', big_len);
	write_at(fx, ".guts/workflows/big.yml", big, big_len);
	free(big);
	link = guts_xasprintf("%s/.guts/workflows/link.yml", fx->work);
	assert_int_equal(symlink("b.yml", link), 0);
	free(link);
	c2 = commit_all(fx, "workflows");
	push(fx, "HEAD:refs/heads/main");

	assert_int_equal(gitx_read_workflows(fx->bare, c1, &f, &nr), 0);
	assert_int_equal(nr, 0);
	assert_null(f);

	assert_int_equal(gitx_read_workflows(fx->bare, c2, &f, &nr), 0);
	assert_int_equal(nr, 4);
	assert_string_equal(f[0].path, ".guts/workflows/a.yaml");
	assert_string_equal(f[0].text, "name: a\n");
	assert_int_equal(f[0].len, 8);
	assert_null(f[0].error);
	assert_string_equal(f[1].path, ".guts/workflows/b.yml");
	assert_string_equal(f[1].text, "name: b\n");
	assert_string_equal(f[2].path, ".guts/workflows/big.yml");
	assert_null(f[2].text);
	assert_non_null(f[2].error);
	assert_non_null(strstr(f[2].error, "big.yml"));
	assert_string_equal(f[3].path, ".guts/workflows/empty.yml");
	assert_string_equal(f[3].text, "");
	assert_int_equal(f[3].len, 0);
	gitx_files_free(f, nr);

	assert_int_equal(gitx_read_workflows(fx->bare, "nope", &f, &nr),
			 GUTS_EINVAL);
	assert_int_equal(
	    gitx_read_workflows(
		fx->bare, "0123456789012345678901234567890123456789", &f, &nr),
	    GUTS_ENOTFOUND);

	assert_int_equal(
	    gitx_read_file(fx->bare, c2, ".guts/workflows/b.yml", &text, &len),
	    0);
	assert_string_equal(text, "name: b\n");
	assert_int_equal(len, 8);
	free(text);
	assert_int_equal(gitx_read_file(fx->bare, c2,
					"./.guts/workflows/sub/d.yml", &text,
					&len),
			 0);
	assert_string_equal(text, "name: nested\n");
	free(text);
	assert_int_equal(
	    gitx_read_file(fx->bare, c2, ".guts/workflows/x.yml", &text, &len),
	    GUTS_ENOTFOUND);
	assert_int_equal(
	    gitx_read_file(fx->bare, c2, ".guts/workflows", &text, &len),
	    GUTS_ENOTFOUND);
	assert_int_equal(gitx_read_file(fx->bare, c2,
					".guts/workflows/link.yml", &text,
					&len),
			 GUTS_ENOTFOUND);
	assert_int_equal(gitx_read_file(fx->bare, c2, ".guts/workflows/big.yml",
					&text, &len),
			 GUTS_ETOOBIG);
	assert_int_equal(
	    gitx_read_file(fx->bare, c1, ".guts/workflows/b.yml", &text, &len),
	    GUTS_ENOTFOUND);
	free(c1);
	free(c2);
}

/* ---- changed paths ---- */

static void assert_paths(struct guts_strvec *sv, const char *const *want)
{
	size_t n = 0;

	while (want[n])
		n++;
	if (sv->nr != n) {
		for (size_t i = 0; i < sv->nr; i++)
			print_message("got %s\n", sv->v[i]);
	}
	assert_int_equal(sv->nr, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(sv->v[i], want[i]);
}

static void changed(struct fixture *fx, const char *old, const char *new,
		    const char *def, int want_have, const char *const *want)
{
	struct guts_strvec sv = GUTS_STRVEC_INIT;
	int have = -1;

	assert_int_equal(
	    gitx_changed_paths(fx->bare, old, new, def, &sv, &have), 0);
	assert_int_equal(have, want_have);
	if (want)
		assert_paths(&sv, want);
	else
		assert_int_equal(sv.nr, 0);
	guts_strvec_release(&sv);
}

static void test_git__changed_paths(void **state)
{
	struct fixture *fx = *state;
	char *c1, *c2, *c3, *f1, *o1, *unknown;
	char *link;
	struct guts_strvec sv = GUTS_STRVEC_INIT;
	int have = 7;

	write_text(fx, "a.txt", "a\n");
	write_text(fx, "b.txt", "b\n");
	write_text(fx, "dir/c.txt", "c\n");
	write_text(fx, "old.txt", "a file that moves\n");
	c1 = commit_all(fx, "one");
	write_text(fx, "a.txt", "a2\n");	 /* modified */
	write_text(fx, "dir/new.txt", "n\n");	 /* added */
	git(fx, "rm", "-q", "b.txt");		 /* deleted */
	git(fx, "mv", "old.txt", "renamed.txt"); /* renamed */
	c2 = commit_all(fx, "two");
	git(fx, "rm", "-q", "dir/c.txt");
	link = guts_xasprintf("%s/dir/c.txt", fx->work);
	assert_int_equal(symlink("new.txt", link), 0); /* type change */
	free(link);
	c3 = commit_all(fx, "three");
	/* A feature branch off c2. */
	git(fx, "checkout", "-q", "-b", "feature", c2);
	write_text(fx, "feat/x.txt", "x\n");
	write_text(fx, "a.txt", "a3\n");
	f1 = commit_all(fx, "feature");
	/* Unrelated history. */
	git(fx, "checkout", "-q", "--orphan", "other");
	write_text(fx, "o.txt", "o\n");
	o1 = commit_all(fx, "orphan");
	push(fx, "refs/heads/*:refs/heads/*");

	changed(fx, c1, c2, "main", 1,
		(const char *const[]){"a.txt", "b.txt", "dir/new.txt",
				      "old.txt", "renamed.txt", NULL});
	changed(fx, c2, c3, "main", 1,
		(const char *const[]){"dir/c.txt", NULL});
	changed(fx, c1, c3, "main", 1,
		(const char *const[]){"a.txt", "b.txt", "dir/c.txt",
				      "dir/new.txt", "old.txt", "renamed.txt",
				      NULL});
	changed(fx, c3, c3, "main", 1, (const char *const[]){NULL});
	/* Backwards (a force push) works the same. */
	changed(fx, c2, c1, "main", 1,
		(const char *const[]){"a.txt", "b.txt", "dir/new.txt",
				      "old.txt", "renamed.txt", NULL});

	/* A new branch: against its merge base with the default branch. */
	changed(fx, GITX_ZERO_SHA, f1, "main", 1,
		(const char *const[]){"a.txt", "feat/x.txt", NULL});
	changed(fx, GITX_ZERO_SHA, f1, NULL, 0, NULL);
	changed(fx, GITX_ZERO_SHA, f1, "develop", 0, NULL);
	/* A new branch at the default branch's tip: nothing changed. */
	changed(fx, GITX_ZERO_SHA, c3, "main", 1, (const char *const[]){NULL});
	/* No merge base. */
	changed(fx, GITX_ZERO_SHA, o1, "main", 0, NULL);

	/* A deletion; an old sha the repository never had. */
	changed(fx, c3, GITX_ZERO_SHA, "main", 0, NULL);
	unknown = guts_xstrdup("0123456789abcdef0123456789abcdef01234567");
	changed(fx, unknown, c3, "main", 0, NULL);

	/* Errors leave the list alone. */
	guts_strvec_push(&sv, "kept");
	assert_int_equal(
	    gitx_changed_paths(fx->bare, "xyz", c3, "main", &sv, &have),
	    GUTS_EINVAL);
	assert_int_equal(
	    gitx_changed_paths(fx->bare, c1, unknown, "main", &sv, &have),
	    GUTS_ENOTFOUND);
	assert_int_equal(have, 7);
	/* It appends. */
	assert_int_equal(
	    gitx_changed_paths(fx->bare, c2, c3, "main", &sv, &have), 0);
	assert_paths(&sv, (const char *const[]){"kept", "dir/c.txt", NULL});
	guts_strvec_release(&sv);
	free(unknown);
	free(c1);
	free(c2);
	free(c3);
	free(f1);
	free(o1);
}

/* ---- push command lists ---- */

#define OLD "0000000000000000000000000000000000000000"
#define NEW "1111111111111111111111111111111111111111"
#define NEW2 "abcdefABCDEF0123456789abcdef0123456789ab"

/* Append @payload (@len bytes) as one pkt-line. */
static void pkt(struct guts_buf *b, const char *payload, size_t len)
{
	guts_buf_addf(b, "%04zx", len + 4);
	guts_buf_add(b, payload, len);
}

static void pkts(struct guts_buf *b, const char *payload)
{
	pkt(b, payload, strlen(payload));
}

static int parse(struct guts_buf *b, struct gitx_ref_update **u, size_t *nr)
{
	return gitx_parse_push_commands(b->data, b->len, u, nr);
}

static void test_git__parse_push_commands(void **state)
{
	static const char caps[] =
	    OLD " " NEW " refs/heads/main\0report-status "
		"side-band-64k agent=git/2.39\n";
	struct gitx_ref_update *u = NULL;
	struct guts_buf b;
	size_t nr = 99;
	char *ref;

	(void)state;
	guts_buf_init(&b, 0);

	/* Capabilities on the first, a second command, flush, a pack. */
	pkt(&b, caps, sizeof(caps) - 1);
	pkts(&b, NEW " " NEW2 " refs/tags/v1\n");
	pkts(&b, NEW " " OLD " refs/heads/gone");
	guts_buf_adds(&b, "0000PACK\0\0\0\2 binary follows");
	assert_int_equal(parse(&b, &u, &nr), 0);
	assert_int_equal(nr, 3);
	assert_string_equal(u[0].old_sha, OLD);
	assert_string_equal(u[0].new_sha, NEW);
	assert_string_equal(u[0].ref, "refs/heads/main");
	assert_string_equal(u[1].new_sha,
			    "abcdefabcdef0123456789abcdef0123456789ab");
	assert_string_equal(u[1].ref, "refs/tags/v1");
	assert_string_equal(u[2].ref, "refs/heads/gone");
	gitx_ref_updates_free(u, nr);

	/* Shallow lines first; no capabilities at all. */
	guts_buf_reset(&b);
	pkts(&b, "shallow " NEW "\n");
	pkts(&b, OLD " " NEW " refs/heads/x\n");
	guts_buf_adds(&b, "0000");
	assert_int_equal(parse(&b, &u, &nr), 0);
	assert_int_equal(nr, 1);
	assert_string_equal(u[0].ref, "refs/heads/x");
	gitx_ref_updates_free(u, nr);

	/* A lone flush: nothing to do. */
	assert_int_equal(gitx_parse_push_commands("0000", 4, &u, &nr), 0);
	assert_int_equal(nr, 0);
	assert_null(u);

	/* Malformed: each is GUTS_EINVAL and leaves the outputs alone. */
	u = (void *)&b;
	nr = 42;
	assert_int_equal(gitx_parse_push_commands("", 0, &u, &nr), GUTS_EINVAL);
	assert_int_equal(gitx_parse_push_commands("00", 2, &u, &nr),
			 GUTS_EINVAL);
	assert_int_equal(gitx_parse_push_commands("zz120000", 8, &u, &nr),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "length"));
	assert_int_equal(gitx_parse_push_commands("00030000", 8, &u, &nr),
			 GUTS_EINVAL);
	assert_int_equal(gitx_parse_push_commands("00010000", 8, &u, &nr),
			 GUTS_EINVAL);
	/* Longer than git's pkt-line maximum. */
	assert_int_equal(gitx_parse_push_commands("fff5", 4, &u, &nr),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "longer"));

	/* Truncated: mid-packet, and no flush. */
	guts_buf_reset(&b);
	pkt(&b, caps, sizeof(caps) - 1);
	assert_int_equal(gitx_parse_push_commands(b.data, b.len - 5, &u, &nr),
			 GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "cut short"));
	assert_int_equal(parse(&b, &u, &nr), GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "flush"));

	/* Bad commands. */
	{
		static const char *const bad[] = {
		    OLD " " NEW " main\n",	      /* not under refs/ */
		    OLD " " NEW " refs/heads/a b\n",  /* a space */
		    OLD " " NEW " refs/heads/a\tb\n", /* a control char */
		    OLD " " NEW " \n",		      /* no ref */
		    OLD " " NEW "\n",		      /* no ref */
		    OLD NEW " refs/heads/main\n",     /* no space */
		    "0000000000000000000000000000000000000g " NEW
		    " refs/heads/main\n", /* bad hex */
		    OLD " " NEW "00000000000000000000000000000000000000000000"
			"00000000000000000000 refs/heads/main", /* SHA-256 */
		    "garbage",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			guts_buf_reset(&b);
			pkts(&b, bad[i]);
			guts_buf_adds(&b, "0000");
			if (parse(&b, &u, &nr) != GUTS_EINVAL)
				fail_msg("accepted '%s'", bad[i]);
		}
	}
	/* Capabilities on a later command. */
	guts_buf_reset(&b);
	pkts(&b, OLD " " NEW " refs/heads/a\n");
	pkt(&b, caps, sizeof(caps) - 1);
	guts_buf_adds(&b, "0000");
	assert_int_equal(parse(&b, &u, &nr), GUTS_EINVAL);
	/* Signed pushes are refused. */
	guts_buf_reset(&b);
	pkt(&b, "push-cert\0report-status\n", 24);
	pkts(&b, "certificate version 0.1\n");
	guts_buf_adds(&b, "0000");
	assert_int_equal(parse(&b, &u, &nr), GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "signed"));
	assert_ptr_equal(u, (void *)&b);
	assert_int_equal(nr, 42);

	/* Ref names: 4096 bytes is fine, 4097 is not. */
	ref = guts_xmalloc(GITX_MAX_REF_LEN + 2);
	memcpy(ref, "refs/heads/", 11);
	memset(ref + 11, 'r', GITX_MAX_REF_LEN + 1 - 11);
	ref[GITX_MAX_REF_LEN] = '\0';
	guts_buf_reset(&b);
	guts_buf_addf(&b, "%04zx%s %s %s\n", (size_t)(4 + 82 + 4096 + 1), OLD,
		      NEW, ref);
	guts_buf_adds(&b, "0000");
	assert_int_equal(parse(&b, &u, &nr), 0);
	assert_int_equal(strlen(u[0].ref), GITX_MAX_REF_LEN);
	gitx_ref_updates_free(u, nr);
	ref[GITX_MAX_REF_LEN] = 'r';
	ref[GITX_MAX_REF_LEN + 1] = '\0';
	guts_buf_reset(&b);
	guts_buf_addf(&b, "%04zx%s %s %s\n", (size_t)(4 + 82 + 4097 + 1), OLD,
		      NEW, ref);
	guts_buf_adds(&b, "0000");
	assert_int_equal(parse(&b, &u, &nr), GUTS_EINVAL);
	assert_non_null(strstr(guts_error_message(), "longer than 4096"));
	free(ref);

	/* At most 10000 commands. */
	guts_buf_reset(&b);
	for (int i = 0; i < GITX_MAX_COMMANDS; i++) {
		char line[128];

		snprintf(line, sizeof(line), OLD " " NEW " refs/heads/b%d\n",
			 i);
		pkts(&b, line);
	}
	guts_buf_adds(&b, "0000");
	assert_int_equal(parse(&b, &u, &nr), 0);
	assert_int_equal(nr, GITX_MAX_COMMANDS);
	assert_string_equal(u[GITX_MAX_COMMANDS - 1].ref, "refs/heads/b9999");
	gitx_ref_updates_free(u, nr);
	guts_buf_truncate(&b, b.len - 4);
	pkts(&b, OLD " " NEW " refs/heads/one-too-many\n");
	guts_buf_adds(&b, "0000");
	assert_int_equal(parse(&b, &u, &nr), GUTS_ETOOBIG);
	guts_buf_release(&b);
}

/* ---- git http-backend ---- */

/* Run the CGI for @req to its end: status, one header, the whole body. */
static int cgi_run(const struct gitx_cgi_req *req, int *status,
		   char **content_type, struct guts_buf *body)
{
	struct gitx_cgi c;
	char chunk[4096];
	ssize_t n;
	int rc = gitx_cgi_start(req, &c);

	if (rc < 0)
		return rc;
	*status = c.status;
	*content_type = NULL;
	for (char **h = c.headers; *h; h++)
		if (!strncasecmp(*h, "Content-Type: ", 14))
			*content_type = guts_xstrdup(*h + 14);
	guts_buf_add(body, c.pending, c.pending_len);
	while ((n = read(c.out_fd, chunk, sizeof(chunk))) > 0)
		guts_buf_add(body, chunk, (size_t)n);
	assert_int_equal(n, 0);
	rc = gitx_cgi_finish(&c);
	gitx_cgi_release(&c);
	return rc;
}

static void test_git__http_backend_info_refs(void **state)
{
	struct fixture *fx = *state;
	struct gitx_cgi_req req = {
	    .method = "GET",
	    .project_root = fx->root,
	    .path_info = "/o/r.git/info/refs",
	    .query = "service=git-upload-pack",
	    .remote_addr = "127.0.0.1",
	    .body_fd = -1,
	    .content_length = -1,
	};
	struct guts_buf body;
	char *ct = NULL, *c1;
	struct gitx_cgi c;
	int status = 0;

	write_text(fx, "a.txt", "a\n");
	c1 = commit_all(fx, "one");
	push(fx, "HEAD:refs/heads/main");

	guts_buf_init(&body, 0);
	assert_int_equal(cgi_run(&req, &status, &ct, &body), 0);
	assert_int_equal(status, 200);
	assert_string_equal(ct, "application/x-git-upload-pack-advertisement");
	assert_memory_equal(body.data, "001e# service=git-upload-pack\n0000",
			    34);
	assert_non_null(memmem(body.data, body.len, c1, 40));
	assert_non_null(memmem(body.data, body.len, "refs/heads/main", 15));
	free(ct);

	/* A missing repository: 404 and a log line. */
	guts_buf_reset(&body);
	req.path_info = "/o/missing.git/info/refs";
	assert_int_equal(gitx_cgi_start(&req, &c), 0);
	assert_int_equal(c.status, 404);
	assert_int_equal(gitx_cgi_finish(&c), 0);
	assert_non_null(c.err);
	assert_int_equal(gitx_cgi_finish(&c), GUTS_EINVAL);
	gitx_cgi_release(&c);

	/* Paths that try to leave the project root never reach git. */
	req.path_info = "/o/../../etc/info/refs";
	assert_int_equal(gitx_cgi_start(&req, &c), GUTS_EINVAL);
	req.path_info = "o/r.git/info/refs";
	assert_int_equal(gitx_cgi_start(&req, &c), GUTS_EINVAL);
	req.path_info = "/o//r.git/info/refs";
	assert_int_equal(gitx_cgi_start(&req, &c), GUTS_EINVAL);
	req.path_info = "/o/./r.git/info/refs";
	assert_int_equal(gitx_cgi_start(&req, &c), GUTS_EINVAL);

	/* Release without reading the body: nothing hangs or leaks. */
	req.path_info = "/o/r.git/info/refs";
	assert_int_equal(gitx_cgi_start(&req, &c), 0);
	gitx_cgi_release(&c);
	guts_buf_release(&body);
	free(c1);
}

/*
 * A push through http-backend, the body built by hand as git would send
 * it: the command list, then a pack.  The node's own parser reads the
 * command list, and afterwards the ref has moved.
 */
static void test_git__http_backend_push(void **state)
{
	struct fixture *fx = *state;
	struct gitx_cgi_req req = {
	    .method = "POST",
	    .project_root = fx->root,
	    .path_info = "/o/r.git/git-receive-pack",
	    .query = "",
	    .content_type = "application/x-git-receive-pack-request",
	    .remote_user = "ada",
	    .remote_addr = "127.0.0.1",
	    .content_length = -1, /* taken from the file */
	};
	const char *pack_argv[] = {
	    "git", "pack-objects", "--all", "--revs", "--stdout", "-q", NULL};
	struct guts_runcmd cmd = {.argv = pack_argv};
	struct guts_runcmd_result res;
	struct gitx_ref_update *u;
	struct guts_buf b, body;
	char *c1, *path, *ct = NULL, sha[41], line[256];
	size_t nr;
	int fd, status = 0, len;

	write_text(fx, ".guts/workflows/ci.yml", "on: push\n");
	c1 = commit_all(fx, "via http");
	cmd.envp = (const char *const *)fx->env;
	cmd.cwd = fx->work;
	assert_int_equal(guts_runcmd_run(&cmd, &res), 0);
	assert_int_equal(res.status, 0);

	guts_buf_init(&b, 0);
	len = snprintf(line, sizeof(line), "%s %s refs/heads/main", OLD, c1);
	guts_buf_addf(&b, "%04x%s", len + 4 + 1 + 14, line);
	guts_buf_add(&b, "\0report-status", 14);
	guts_buf_addch(&b, '\n');
	guts_buf_adds(&b, "0000");
	guts_buf_add(&b, res.out, res.out_len);
	guts_runcmd_result_release(&res);

	assert_int_equal(gitx_parse_push_commands(b.data, b.len, &u, &nr), 0);
	assert_int_equal(nr, 1);
	assert_string_equal(u[0].new_sha, c1);

	path = guts_xasprintf("%s/body", fx->dir);
	assert_int_equal(guts_fs_write_atomic(path, b.data, b.len, 0600), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	req.body_fd = fd;
	guts_buf_init(&body, 0);
	assert_int_equal(cgi_run(&req, &status, &ct, &body), 0);
	close(fd);
	assert_int_equal(status, 200);
	assert_string_equal(ct, "application/x-git-receive-pack-result");
	assert_non_null(memmem(body.data, body.len, "unpack ok", 9));
	assert_non_null(memmem(body.data, body.len, "ok refs/heads/main", 18));

	assert_int_equal(gitx_ref_target(fx->bare, u[0].ref, sha), 0);
	assert_string_equal(sha, u[0].new_sha);
	gitx_ref_updates_free(u, nr);
	free(ct);
	guts_buf_release(&body);
	guts_buf_release(&b);
	free(path);
	free(c1);
}

/* ---- merges and refs ---- */

static void test_git__merge_and_refs(void **state)
{
	struct fixture *fx = *state;
	struct guts_strvec conflicts = GUTS_STRVEC_INIT;
	char *base, *head, *other, *parents, *tree, *merged_tree;
	char out[41], sq[41], sha[41];

	write_text(fx, "a.txt", "a\n");
	write_text(fx, "clash.txt", "base\n");
	base = commit_all(fx, "base");
	git(fx, "checkout", "-q", "-b", "feature");
	write_text(fx, "b.txt", "b\n");
	head = commit_all(fx, "feature");
	git(fx, "checkout", "-q", "-b", "other", base);
	write_text(fx, "clash.txt", "other\n");
	other = commit_all(fx, "other");
	git(fx, "checkout", "-q", "main");
	write_text(fx, "clash.txt", "main\n");
	free(commit_all(fx, "main moves"));
	push(fx, "refs/heads/*:refs/heads/*");

	/* A clean merge: parents (base, head), the union of both trees. */
	assert_int_equal(gitx_merge(fx->bare, base, head, 0, "Merge it\n",
				    "Ann", "ann@example.org", out, &conflicts),
			 0);
	assert_int_equal(conflicts.nr, 0);
	git(fx, "fetch", "-q", fx->bare, out);
	parents = git_str(fx, "log", "-1", "--format=%P", out);
	tree = guts_xasprintf("%s %s", base, head);
	assert_string_equal(parents, tree);
	free(parents);
	free(tree);
	parents = git_str(fx, "log", "-1", "--format=%an <%ae>|%s", out);
	assert_string_equal(parents, "Ann <ann@example.org>|Merge it");
	free(parents);
	/* Squash: one parent, the same tree. */
	assert_int_equal(gitx_merge(fx->bare, base, head, 1, "Squashed\n", NULL,
				    NULL, sq, NULL),
			 0);
	git(fx, "fetch", "-q", fx->bare, sq);
	parents = git_str(fx, "log", "-1", "--format=%P", sq);
	assert_string_equal(parents, base);
	free(parents);
	{
		char *t1 = guts_xasprintf("%s^{tree}", sq),
		     *t2 = guts_xasprintf("%s^{tree}", out);

		tree = git_str(fx, "rev-parse", t1);
		merged_tree = git_str(fx, "rev-parse", t2);
		assert_string_equal(tree, merged_tree);
		free(tree);
		free(merged_tree);
		free(t1);
		free(t2);
	}

	/* A conflict: GUTS_ECONFLICT with the path, nothing written. */
	{
		char main_sha[41];

		assert_int_equal(
		    gitx_ref_sha(fx->bare, "refs/heads/main", main_sha), 0);
		assert_int_equal(gitx_merge(fx->bare, main_sha, other, 0, "x",
					    NULL, NULL, out, &conflicts),
				 GUTS_ECONFLICT);
		assert_int_equal(conflicts.nr, 1);
		assert_string_equal(conflicts.v[0], "clash.txt");
	}

	/* Refs: set, compare-and-swap, create-only, delete. */
	assert_int_equal(
	    gitx_set_ref(fx->bare, "refs/pull/1/head", head, NULL, "test"), 0);
	assert_int_equal(gitx_ref_sha(fx->bare, "refs/pull/1/head", sha), 0);
	assert_string_equal(sha, head);
	assert_int_equal(
	    gitx_set_ref(fx->bare, "refs/pull/1/head", base, other, "test"),
	    GUTS_ECONFLICT);
	assert_int_equal(gitx_set_ref(fx->bare, "refs/pull/1/head", base,
				      GITX_ZERO_SHA, "test"),
			 GUTS_ECONFLICT);
	assert_int_equal(
	    gitx_set_ref(fx->bare, "refs/pull/1/head", base, head, "test"), 0);
	assert_int_equal(gitx_ref_sha(fx->bare, "refs/pull/1/head", sha), 0);
	assert_string_equal(sha, base);
	assert_int_equal(gitx_set_ref(fx->bare, "heads/x", base, NULL, "t"),
			 GUTS_EINVAL);
	assert_int_equal(
	    gitx_set_ref(fx->bare, "refs/heads/a..b", base, NULL, "t"),
	    GUTS_EINVAL);
	assert_int_equal(gitx_delete_ref(fx->bare, "refs/pull/1/head"), 0);
	assert_int_equal(gitx_delete_ref(fx->bare, "refs/pull/1/head"), 0);
	assert_int_equal(gitx_ref_sha(fx->bare, "refs/pull/1/head", sha),
			 GUTS_ENOTFOUND);

	/* Ancestry. */
	assert_int_equal(gitx_is_ancestor(fx->bare, base, head), 1);
	assert_int_equal(gitx_is_ancestor(fx->bare, head, base), 0);
	assert_int_equal(gitx_is_ancestor(fx->bare, head, head), 1);
	assert_int_equal(gitx_is_ancestor(fx->bare, head, other), 0);

	guts_strvec_release(&conflicts);
	free(base);
	free(head);
	free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_git__repo_init_and_remove,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_git__repo_remove_does_not_follow_links, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_git__refs_resolve_and_commit_info, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_git__read_workflows_and_files,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_git__changed_paths, setup,
					    teardown),
	    cmocka_unit_test(test_git__parse_push_commands),
	    cmocka_unit_test_setup_teardown(test_git__merge_and_refs, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_git__http_backend_info_refs,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_git__http_backend_push, setup,
					    teardown),
	};

	assert_int_equal(gitx_global_init(), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
