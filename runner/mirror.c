/*
 * The bare mirror a job's checkout clones from: <work>/mirrors/OWNER/NAME.git,
 * one per repository, kept between jobs so that a fetch brings only what is
 * new.  The commit is fetched with the job token before the job starts;
 * the token goes to git in the environment (GIT_CONFIG_COUNT, ...), never
 * in argv, where other users could read it.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/runcmd.h"
#include "guts/strvec.h"
#include "runner.h"
#include "banned.h"

#define FETCH_TIMEOUT_MS (30 * 60 * 1000)

extern char **environ;

int runner_name_ok(const char *s)
{
	if (!s || !*s || *s == '.' || *s == '-' || strlen(s) > 100)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return 0;
	return 1;
}

/* Our environment without GIT_* (GIT_DIR, GIT_CONFIG_COUNT, ...). */
static void git_env(struct guts_strvec *env)
{
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, "GIT_", 4))
			guts_strvec_push(env, *e);
	guts_strvec_push(env, "GIT_TERMINAL_PROMPT=0");
	guts_strvec_push(env, "GCM_INTERACTIVE=never");
}

/* Blank out every copy of @secret in @s. */
static void scrub(char *s, const char *secret)
{
	size_t n = strlen(secret);
	char *p;

	if (!n)
		return;
	while ((p = strstr(s, secret)))
		memset(p, '*', n);
}

static int git(const char *const *argv, const char *const *envp,
	       const char *what, const char *secret, const char *secret2)
{
	struct guts_runcmd c = {0};
	struct guts_runcmd_result res = {0};
	int rc;

	c.argv = argv;
	c.envp = envp;
	c.cwd = "/";
	c.timeout_ms = FETCH_TIMEOUT_MS;
	c.cap = 64 * 1024;
	rc = guts_runcmd_run(&c, &res);
	if (rc == GUTS_ENOTFOUND)
		return guts_error(GUTS_EGIT, "%s: git is not installed", what);
	if (rc < 0)
		return guts_error_wrap(GUTS_EGIT, "%s", what);
	if (res.status) {
		char *w;

		scrub(res.err, secret);
		scrub(res.err, secret2);
		w = guts_last_line(res.err);
		rc = guts_error(GUTS_EGIT, "%s: git exited with %d: %s", what,
				res.status, w);
		free(w);
	}
	guts_runcmd_result_release(&res);
	return rc;
}

static int sha_ok(const char *s)
{
	size_t n = strlen(s);

	if (n != 40 && n != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

int runner_mirror_fetch(const char *mirror, const char *clone_url,
			const char *sha, const char *job_token)
{
	struct guts_strvec env = GUTS_STRVEC_INIT;
	char *lock_path = NULL, *head = NULL, *gitdir = NULL, *refspec = NULL;
	char *cred = NULL, *b64 = NULL, *parent = NULL, *slash;
	struct stat st;
	int fd = -1, rc;

	if (strncmp(clone_url, "http://", 7) &&
	    strncmp(clone_url, "https://", 8))
		return guts_error(GUTS_EINVAL, "clone URL '%s' is not http(s)",
				  clone_url);
	if (!sha_ok(sha))
		return guts_error(GUTS_EINVAL, "'%s' is not a commit SHA", sha);

	parent = guts_xstrdup(mirror);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	rc = guts_fs_mkdirs(parent, 0700);
	if (rc < 0)
		goto out;
	/* One fetch into a mirror at a time, across runners too. */
	lock_path = guts_xasprintf("%s.lock", mirror);
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = guts_error_errno("%s", lock_path);
		goto out;
	}
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			rc = guts_error_errno("lock %s", lock_path);
			goto out;
		}

	git_env(&env);
	head = guts_xasprintf("%s/HEAD", mirror);
	if (stat(head, &st) < 0) {
		const char *argv[] = {"git",	 "init", "--bare",
				      "--quiet", mirror, NULL};

		rc = git(argv, (const char *const *)env.v,
			 "git init of the mirror", "", "");
		if (rc < 0)
			goto out;
	}

	{
		unsigned char *raw;
		size_t n;

		cred = guts_xasprintf("x-access-token:%s",
				      job_token ? job_token : "");
		n = strlen(cred);
		raw = guts_xmalloc(4 * ((n + 2) / 3) + 1);
		EVP_EncodeBlock(raw, (const unsigned char *)cred, (int)n);
		b64 = (char *)raw;
	}
	guts_strvec_push(&env, "GIT_CONFIG_COUNT=1");
	guts_strvec_push(&env, "GIT_CONFIG_KEY_0=http.extraHeader");
	guts_strvec_pushf(&env, "GIT_CONFIG_VALUE_0=Authorization: Basic %s",
			  b64);
	gitdir = guts_xasprintf("--git-dir=%s", mirror);
	refspec = guts_xasprintf("+%s:refs/guts/%s", sha, sha);
	{
		const char *argv[] = {"git",
				      "-c",
				      "core.hooksPath=/dev/null",
				      gitdir,
				      "fetch",
				      "--quiet",
				      "--no-tags",
				      "--no-write-fetch-head",
				      clone_url,
				      refspec,
				      NULL};
		char *what =
		    guts_xasprintf("fetching %.12s from %s", sha, clone_url);

		rc = git(argv, (const char *const *)env.v, what,
			 job_token ? job_token : "", b64);
		free(what);
	}
out:
	if (fd >= 0)
		close(fd); /* drops the lock */
	for (size_t i = 0; i < env.nr; i++)
		if (!strncmp(env.v[i], "GIT_CONFIG_VALUE_0=", 19))
			memset(env.v[i], 0, strlen(env.v[i]));
	guts_strvec_release(&env);
	if (b64)
		memset(b64, 0, strlen(b64));
	if (cred)
		memset(cred, 0, strlen(cred));
	free(b64);
	free(cred);
	free(lock_path);
	free(head);
	free(gitdir);
	free(refspec);
	free(parent);
	return rc;
}
