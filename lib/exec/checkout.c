/*
 * checkout, with the inputs of actions/checkout@v4 that make sense for a
 * local source: path, ref and fetch-depth.
 *
 * A git source is checked out with the git CLI (through runcmd: spawned,
 * never forked) into a fresh repository: the target directory is emptied
 * first whatever it held.  Reusing a repository the job could have written
 * to would mean running git on configuration the job controls (core.fsmonitor,
 * filters and hooks run commands), outside the sandbox; a fresh `git init
 * --template=` has no hooks and only the configuration we give it.
 *
 * A plain directory is copied instead: regular files, directories and
 * symbolic links (as links), never writing through a link in the target.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/runcmd.h"
#include "guts/strvec.h"
#include "builtin_internal.h"
#include "banned.h"

#define CHECKOUT "checkout"
#define MAX_DEPTH 256
/* A local fetch is quick; a network one should not hang the job for ever. */
#define GIT_TIMEOUT_MS (30 * 60 * 1000)

extern char **environ;

struct git {
	const struct guts_builtin_ctx *ctx;
	const char *cwd;
	struct guts_strvec env;
};

/*
 * The executor's environment without the GIT_* variables that would point
 * git somewhere else (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, ... when the
 * executor itself runs from a hook), and never prompting.
 */
static void git_env(struct guts_strvec *env)
{
	static const char *const keep[] = {
	    "GIT_SSH=",		  "GIT_SSH_COMMAND=",	"GIT_SSH_VARIANT=",
	    "GIT_EXEC_PATH=",	  "GIT_CONFIG_GLOBAL=", "GIT_CONFIG_NOSYSTEM=",
	    "GIT_CONFIG_SYSTEM=", "GIT_TRACE=",		NULL};

	guts_strvec_init(env);
	for (char **e = environ; e && *e; e++) {
		int ok = strncmp(*e, "GIT_", 4) != 0;

		for (const char *const *k = keep; !ok && *k; k++)
			ok = !strncmp(*e, *k, strlen(*k));
		if (ok)
			guts_strvec_push(env, *e);
	}
	guts_strvec_push(env, "GIT_TERMINAL_PROMPT=0");
	guts_strvec_push(env, "GCM_INTERACTIVE=never");
}

/*
 * Run git with @args (NULL-terminated).  *@out gets stdout when not NULL.
 * GUTS_EGIT with git's last words when it fails.
 */
static int git_run(struct git *g, const char *const *args, char **out)
{
	static const char *const pre[] = {"git",
					  "-c",
					  "protocol.file.allow=always",
					  "-c",
					  "core.hooksPath=/dev/null",
					  "-c",
					  "advice.detachedHead=false",
					  "-c",
					  "init.defaultBranch=main",
					  NULL};
	struct guts_strvec argv = GUTS_STRVEC_INIT;
	struct guts_runcmd cmd;
	struct guts_runcmd_result res;
	int rc;

	for (const char *const *a = pre; *a; a++)
		guts_strvec_push(&argv, *a);
	for (const char *const *a = args; *a; a++)
		guts_strvec_push(&argv, *a);
	memset(&cmd, 0, sizeof(cmd));
	cmd.argv = (const char *const *)argv.v;
	cmd.envp = (const char *const *)g->env.v;
	cmd.cwd = g->cwd;
	cmd.timeout_ms = GIT_TIMEOUT_MS;
	rc = guts_runcmd_run(&cmd, &res);
	if (rc == GUTS_ENOTFOUND) {
		rc = guts_error(GUTS_ENOTFOUND,
				CHECKOUT ": git is not installed (not found "
					 "in PATH)");
		goto out;
	}
	if (rc < 0) {
		rc = guts_error_wrap(rc, CHECKOUT ": git %s", args[0]);
		goto out;
	}
	if (res.status != 0) {
		char *why = guts_last_line(res.err);

		rc = guts_error(GUTS_EGIT,
				CHECKOUT ": git %s failed (exit %d): %s",
				args[0], res.status, why);
		free(why);
	} else if (out) {
		*out = res.out;
		res.out = NULL;
	}
	guts_runcmd_result_release(&res);
out:
	guts_strvec_release(&argv);
	return rc;
}

static int is_full_sha(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		if (!((s[n] >= '0' && s[n] <= '9') ||
		      (s[n] >= 'a' && s[n] <= 'f') ||
		      (s[n] >= 'A' && s[n] <= 'F')))
			return 0;
	}
	return n == 40 || n == 64;
}

/* The sha `git ls-remote` lists for @ref, or NULL. */
static char *find_ref(const char *listing, const char *ref)
{
	const char *s = listing;

	while (s && *s) {
		const char *e = strchr(s, '\n'), *tab = strchr(s, '\t');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (tab && tab < s + len &&
		    (size_t)(s + len - tab - 1) == strlen(ref) &&
		    !strncmp(tab + 1, ref, strlen(ref)))
			return guts_xstrndup(s, (size_t)(tab - s));
		s = e ? e + 1 : NULL;
	}
	return NULL;
}

/* What to fetch and how to check it out. */
struct plan {
	char *fetch;	  /* the refspec */
	char *branch;	  /* check out this local branch ... */
	char *tracking;	  /* ... at this remote-tracking ref */
	char *detach;	  /* or detach here */
	char *ref_output; /* the `ref` output */
};

static void plan_release(struct plan *p)
{
	free(p->fetch);
	free(p->branch);
	free(p->tracking);
	free(p->detach);
	free(p->ref_output);
}

static void plan_branch(struct plan *p, const char *name, const char *what)
{
	p->fetch = guts_xasprintf("+%s:refs/remotes/origin/%s", what, name);
	p->branch = guts_xstrdup(name);
	p->tracking = guts_xasprintf("refs/remotes/origin/%s", name);
	p->ref_output = guts_xasprintf("refs/heads/%s", name);
}

/*
 * Decide, as actions/checkout does: a branch is checked out as a local
 * branch tracking origin; a tag or a commit is checked out detached.
 */
static int make_plan(struct git *g, const char *ref, struct plan *p)
{
	const struct guts_builtin_ctx *ctx = g->ctx;
	char *listing = NULL, *sha = NULL;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	if (ref && is_full_sha(ref)) {
		p->fetch = guts_xstrdup(ref);
		p->detach = guts_xstrdup(ref);
		p->ref_output = guts_xstrdup(ref);
		return 0;
	}
	if (!ref && ctx->sha) {
		if (ctx->ref && !strncmp(ctx->ref, "refs/heads/", 11)) {
			plan_branch(p, ctx->ref + 11, ctx->sha);
		} else {
			p->fetch = guts_xstrdup(ctx->sha);
			p->detach = guts_xstrdup(ctx->sha);
			p->ref_output =
			    guts_xstrdup(ctx->ref ? ctx->ref : ctx->sha);
		}
		return 0;
	}
	if (!ref) {
		const char *args[] = {"ls-remote", "--symref", "origin", "HEAD",
				      NULL};
		const char *sym;

		rc = git_run(g, args, &listing);
		if (rc < 0)
			goto out;
		sym = strstr(listing, "ref: refs/heads/");
		if (sym && (sym == listing || sym[-1] == '\n')) {
			const char *name = sym + 16, *tab = strchr(name, '\t');

			if (tab) {
				char *b =
				    guts_xstrndup(name, (size_t)(tab - name));
				char *what = guts_xasprintf("refs/heads/%s", b);

				plan_branch(p, b, what);
				free(what);
				free(b);
				goto out;
			}
		}
		p->fetch = guts_xstrdup("HEAD");
		p->detach = guts_xstrdup("FETCH_HEAD");
		p->ref_output = guts_xstrdup("HEAD");
		goto out;
	}
	{
		const char *args[] = {"ls-remote", "origin", NULL};

		rc = git_run(g, args, &listing);
		if (rc < 0)
			goto out;
	}
	if (!strncmp(ref, "refs/heads/", 11) && find_ref(listing, ref)) {
		char *what = guts_xstrdup(ref);

		plan_branch(p, ref + 11, what);
		free(what);
	} else if (!strncmp(ref, "refs/", 5) &&
		   (sha = find_ref(listing, ref))) {
		p->fetch = guts_xasprintf("+%s:%s", ref, ref);
		p->detach = guts_xstrdup(ref);
		p->ref_output = guts_xstrdup(ref);
	} else {
		char *head = guts_xasprintf("refs/heads/%s", ref);
		char *tag = guts_xasprintf("refs/tags/%s", ref);

		if ((sha = find_ref(listing, head))) {
			plan_branch(p, ref, head);
		} else if ((sha = find_ref(listing, tag))) {
			p->fetch = guts_xasprintf("+%s:%s", tag, tag);
			p->detach = guts_xstrdup(tag);
			p->ref_output = guts_xstrdup(tag);
		} else {
			rc = guts_error(GUTS_ENOTFOUND,
					CHECKOUT ": input 'ref': '%s' is not a "
						 "branch, tag or full commit "
						 "SHA of %s",
					ref, ctx->repo_source);
		}
		free(head);
		free(tag);
	}
out:
	free(sha);
	free(listing);
	if (rc < 0) {
		plan_release(p);
		memset(p, 0, sizeof(*p));
	}
	return rc;
}

static void log_head(struct git *g, json_t *outputs, const char *ref)
{
	const char *show[] = {"log", "-1", "--format=%h %s", NULL};
	const char *parse[] = {"rev-parse", "HEAD", NULL};
	char *line = NULL, *sha = NULL;

	if (git_run(g, show, &line) == 0) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		guts__log(g->ctx, CHECKOUT ": HEAD is now at %s", line);
	}
	if (outputs && git_run(g, parse, &sha) == 0) {
		char *nl = strchr(sha, '\n');

		if (nl)
			*nl = '\0';
		json_object_set_new(outputs, "commit", json_string(sha));
		json_object_set_new(outputs, "ref", json_string(ref));
	}
	free(line);
	free(sha);
}

static int checkout_git(const struct guts_builtin_ctx *ctx, const char *target,
			const char *source, const char *ref, long depth,
			json_t *outputs)
{
	struct git g;
	struct plan p;
	char depth_arg[32];
	int rc;

	memset(&p, 0, sizeof(p));
	g.ctx = ctx;
	g.cwd = target;
	git_env(&g.env);
	snprintf(depth_arg, sizeof(depth_arg), "--depth=%ld", depth);
	{
		const char *init[] = {"init", "-q", "--template=", ".", NULL};
		const char *remote[] = {"remote", "add", "origin", source,
					NULL};

		rc = git_run(&g, init, NULL);
		if (!rc)
			rc = git_run(&g, remote, NULL);
		if (rc < 0)
			goto out;
	}
	rc = make_plan(&g, ref, &p);
	if (rc < 0)
		goto out;
	if (depth == 0) {
		/* All of history: every branch and tag, as actions/checkout. */
		const char *all[] = {"fetch",
				     "-q",
				     "--prune",
				     "--no-recurse-submodules",
				     "origin",
				     "+refs/heads/*:refs/remotes/origin/*",
				     "+refs/tags/*:refs/tags/*",
				     NULL};

		guts__log(ctx, CHECKOUT ": fetching all history of %s", source);
		rc = git_run(&g, all, NULL);
		if (rc < 0)
			goto out;
	}
	{
		struct guts_strvec fetch = GUTS_STRVEC_INIT;

		guts_strvec_push(&fetch, "fetch");
		guts_strvec_push(&fetch, "-q");
		guts_strvec_push(&fetch, "--no-tags");
		guts_strvec_push(&fetch, "--no-recurse-submodules");
		if (depth)
			guts_strvec_push(&fetch, depth_arg);
		guts_strvec_push(&fetch, "origin");
		guts_strvec_push(&fetch, p.fetch);
		guts__log(ctx, CHECKOUT ": fetching %s from %s%s%s", p.fetch,
			  source, depth ? " with " : "",
			  depth ? depth_arg : "");
		rc = git_run(&g, (const char *const *)fetch.v, NULL);
		guts_strvec_release(&fetch);
		if (rc < 0)
			goto out;
	}
	if (p.branch) {
		const char *co[] = {"checkout", "-q",	    "--force", "-B",
				    p.branch,	p.tracking, NULL};

		rc = git_run(&g, co, NULL);
	} else {
		const char *co[] = {"checkout", "-q", "--force", p.detach,
				    NULL};

		rc = git_run(&g, co, NULL);
	}
	if (rc < 0)
		goto out;
	log_head(&g, outputs, p.ref_output);
out:
	plan_release(&p);
	guts_strvec_release(&g.env);
	return rc;
}

/* ---- copying a plain directory ------------------------------------ */

struct copy {
	const struct guts_builtin_ctx *ctx;
	struct stat skip[2]; /* the target and the workspace */
	unsigned long long files;
};

static int skipped(const struct copy *c, const struct stat *st)
{
	for (int i = 0; i < 2; i++) {
		if (c->skip[i].st_dev == st->st_dev &&
		    c->skip[i].st_ino == st->st_ino)
			return 1;
	}
	return 0;
}

/* Make room for @name in @dst when something of another type is there. */
static void make_room(int dst, const char *name, const char *what)
{
	struct stat st;

	if (fstatat(dst, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(
		    dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd >= 0) {
			guts__clear_dir(fd, what);
			close(fd);
		}
		unlinkat(dst, name, AT_REMOVEDIR);
	} else {
		unlinkat(dst, name, 0);
	}
}

static int tmp_name(char *buf, size_t size, unsigned long long n)
{
	snprintf(buf, size, ".guts-copy-%ld-%llu", (long)getpid(), n);
	return 0;
}

static int copy_file(struct copy *c, int src, int dst, const char *name,
		     const struct stat *st, const char *shown)
{
	char tmp[64], *buf;
	int in, out, rc = 0;

	in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return guts_error_errno(CHECKOUT ": cannot read '%s'", shown);
	tmp_name(tmp, sizeof(tmp), c->files);
	unlinkat(dst, tmp, 0);
	out =
	    openat(dst, tmp,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return guts_error_errno(CHECKOUT ": cannot create a copy of "
						 "'%s'",
					shown);
	}
	buf = guts_xmalloc(65536);
	for (;;) {
		ssize_t n = read(in, buf, 65536), off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = guts_error_errno(CHECKOUT ": cannot read '%s'",
					      shown);
			break;
		}
		if (!n)
			break;
		while (off < n) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = guts_error_errno(
				    CHECKOUT ": cannot copy '%s'", shown);
				break;
			}
			off += w;
		}
		if (rc)
			break;
	}
	free(buf);
	close(in);
	if (!rc && fchmod(out, st->st_mode & 0777) < 0)
		rc = guts_error_errno(CHECKOUT ": cannot chmod '%s'", shown);
	if (close(out) < 0 && !rc)
		rc = guts_error_errno(CHECKOUT ": cannot copy '%s'", shown);
	if (!rc && renameat(dst, tmp, dst, name) < 0) {
		make_room(dst, name, shown);
		if (renameat(dst, tmp, dst, name) < 0)
			rc = guts_error_errno(CHECKOUT ": cannot copy '%s'",
					      shown);
	}
	if (rc)
		unlinkat(dst, tmp, 0);
	return rc;
}

static int copy_link(struct copy *c, int src, int dst, const char *name,
		     const char *shown)
{
	char target[PATH_MAX], tmp[64];
	ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);

	if (n < 0)
		return guts_error_errno(CHECKOUT ": cannot read link '%s'",
					shown);
	target[n] = '\0';
	tmp_name(tmp, sizeof(tmp), c->files);
	unlinkat(dst, tmp, 0);
	if (symlinkat(target, dst, tmp) < 0)
		return guts_error_errno(CHECKOUT ": cannot copy link '%s'",
					shown);
	if (renameat(dst, tmp, dst, name) < 0) {
		make_room(dst, name, shown);
		if (renameat(dst, tmp, dst, name) < 0) {
			unlinkat(dst, tmp, 0);
			return guts_error_errno(
			    CHECKOUT ": cannot copy link '%s'", shown);
		}
	}
	return 0;
}

static int copy_dir(struct copy *c, int src, int dst, const char *shown,
		    int depth)
{
	struct guts_strvec names = GUTS_STRVEC_INIT;
	struct dirent *de;
	int dup_fd, rc = 0;
	DIR *d;

	if (depth > MAX_DEPTH)
		return guts_error(GUTS_ETOOBIG,
				  CHECKOUT ": '%s' is nested more than %d "
					   "directories deep",
				  shown, MAX_DEPTH);
	dup_fd = fcntl(src, F_DUPFD_CLOEXEC, 0);
	d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return guts_error_errno(CHECKOUT ": cannot read '%s'", shown);
	}
	rewinddir(d); /* the duplicate shares @src's offset */
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			guts_strvec_push(&names, de->d_name);
	}
	closedir(d);
	for (size_t i = 0; !rc && i < names.nr; i++) {
		char *sub_shown = guts_xasprintf("%s/%s", shown, names.v[i]);
		struct stat st;

		if (fstatat(src, names.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			free(sub_shown);
			continue;
		}
		if (S_ISDIR(st.st_mode) && !skipped(c, &st)) {
			int s2 = openat(src, names.v[i],
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					    O_CLOEXEC);
			int d2 = -1;

			if (s2 < 0) {
				rc = guts_error_errno(
				    CHECKOUT ": cannot read '%s'", sub_shown);
			} else {
				rc =
				    guts__open_subdir(dst, names.v[i], 1,
						      CHECKOUT, sub_shown, &d2);
				if (rc == GUTS_EPERM || rc == GUTS_EINVAL) {
					/* A link or file where a directory
					 * goes. */
					make_room(dst, names.v[i], sub_shown);
					rc = guts__open_subdir(dst, names.v[i],
							       1, CHECKOUT,
							       sub_shown, &d2);
				}
				if (!rc)
					rc = copy_dir(c, s2, d2, sub_shown,
						      depth + 1);
			}
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
		} else if (S_ISREG(st.st_mode)) {
			rc = copy_file(c, src, dst, names.v[i], &st, sub_shown);
			c->files++;
		} else if (S_ISLNK(st.st_mode)) {
			rc = copy_link(c, src, dst, names.v[i], sub_shown);
			c->files++;
		}
		free(sub_shown);
	}
	guts_strvec_release(&names);
	return rc;
}

/* ---- the action --------------------------------------------------- */

static int parse_depth(const char *s, long *out)
{
	long v = 0;

	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9' || v > (INT_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*c - '0');
	}
	*out = v;
	return 0;
}

int guts__checkout_run(const json_t *with, const struct guts_builtin_ctx *ctx,
		       json_t *outputs)
{
	static const char *const known[] = {"path", "ref", "fetch-depth", NULL};
	static const char *const ignored[] = {"repository",
					      "token",
					      "ssh-key",
					      "ssh-known-hosts",
					      "ssh-strict",
					      "ssh-user",
					      "persist-credentials",
					      "clean",
					      "filter",
					      "sparse-checkout",
					      "sparse-checkout-cone-mode",
					      "fetch-tags",
					      "show-progress",
					      "lfs",
					      "submodules",
					      "set-safe-directory",
					      "github-server-url",
					      NULL};
	struct guts__inputs in;
	struct guts__dest d = {-1, NULL};
	const char *path, *ref, *s;
	char *ws = NULL, *target = NULL, *full = NULL, *src_real = NULL;
	char *target_real = NULL;
	struct stat src_st, dst_st;
	long depth = 1;
	int rc;

	rc = guts__inputs_init(&in, CHECKOUT, with, ctx, known, ignored);
	if (rc < 0)
		return rc;
	if (!ctx->repo_source) {
		rc = guts_error(GUTS_EINVAL,
				CHECKOUT ": no repository to check out");
		goto out;
	}
	path = guts__input(&in, "path");
	ref = guts__input(&in, "ref");
	s = guts__input(&in, "fetch-depth");
	if (s && parse_depth(s, &depth) < 0) {
		rc =
		    guts_error(GUTS_EINVAL,
			       CHECKOUT ": input 'fetch-depth' must be a whole "
					"number (0 for all history), got "
					"'%.100s'",
			       s);
		goto out;
	}
	ws = guts__path_normalize(ctx->workspace);
	if (path && path[0] == '/')
		full = guts_xstrdup(path);
	else
		full = guts_xasprintf("%s/%s", ws, path ? path : "");
	target = guts__path_normalize(full);
	if (!guts__path_under(target, ws)) {
		rc =
		    guts_error(GUTS_EINVAL,
			       CHECKOUT ": input 'path': '%s' is not under the "
					"workspace '%s'",
			       path, ws);
		goto out;
	}

	if (!ctx->repo_is_git) {
		struct copy c;
		int src;

		if (stat(ctx->repo_source, &src_st) < 0 ||
		    !S_ISDIR(src_st.st_mode)) {
			rc = guts_error(GUTS_EINVAL,
					CHECKOUT ": '%s' is not a directory",
					ctx->repo_source);
			goto out;
		}
		rc = guts__dest_open(ctx, CHECKOUT, target, &d);
		if (rc < 0)
			goto out;
		if (fstat(d.fd, &dst_st) == 0 &&
		    dst_st.st_dev == src_st.st_dev &&
		    dst_st.st_ino == src_st.st_ino) {
			guts__log(ctx,
				  CHECKOUT ": %s is the source directory "
					   "itself; nothing to copy",
				  target);
			goto out;
		}
		memset(&c, 0, sizeof(c));
		c.ctx = ctx;
		c.skip[0] = dst_st;
		if (stat(ws, &c.skip[1]) < 0)
			c.skip[1] = dst_st;
		src =
		    open(ctx->repo_source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (src < 0) {
			rc = guts_error_errno(CHECKOUT ": cannot open '%s'",
					      ctx->repo_source);
			goto out;
		}
		rc = copy_dir(&c, src, d.fd, ctx->repo_source, 0);
		close(src);
		if (rc < 0)
			goto out;
		guts__log(ctx,
			  CHECKOUT ": %s is not a git repository; copied the "
				   "directory (%llu entr%s) into %s",
			  ctx->repo_source, c.files, c.files == 1 ? "y" : "ies",
			  target);
		goto out;
	}

	rc = guts__dest_open(ctx, CHECKOUT, target, &d);
	if (rc < 0)
		goto out;
	target_real = realpath(target, NULL);
	src_real = realpath(ctx->repo_source, NULL);
	if (src_real && stat(src_real, &src_st) == 0 &&
	    fstat(d.fd, &dst_st) == 0 && src_st.st_dev == dst_st.st_dev &&
	    src_st.st_ino == dst_st.st_ino) {
		/* `guts exec` in the repository itself: it is checked out. */
		guts__log(ctx,
			  CHECKOUT ": %s is the repository itself; leaving it "
				   "as it is",
			  target);
		goto out;
	}
	if (src_real && target_real &&
	    guts__path_under(src_real, target_real)) {
		rc = guts_error(GUTS_EINVAL,
				CHECKOUT ": the repository %s is inside the "
					 "checkout path %s, which checkout "
					 "would empty",
				src_real, target);
		goto out;
	}
	{
		DIR *dir;
		int dup_fd = fcntl(d.fd, F_DUPFD_CLOEXEC, 0), busy = 0;
		struct dirent *de;

		dir = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
		if (dir)
			rewinddir(dir);
		while (dir && (de = readdir(dir)))
			busy |=
			    strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
		if (dir)
			closedir(dir);
		else if (dup_fd >= 0)
			close(dup_fd);
		if (busy) {
			guts__log(ctx, CHECKOUT ": emptying %s", target);
			rc = guts__clear_dir(d.fd, target);
			if (rc < 0)
				goto out;
		}
	}
	rc = checkout_git(ctx, target, src_real ? src_real : ctx->repo_source,
			  ref, depth, outputs);
out:
	guts__dest_close(&d);
	free(src_real);
	free(target_real);
	free(full);
	free(target);
	free(ws);
	guts__inputs_release(&in);
	return rc;
}
