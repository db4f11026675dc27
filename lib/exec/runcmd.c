/* Running a helper program and capturing its output (see guts/runcmd.h). */
#include "guts/runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "banned.h"

extern char **environ;

struct stream {
	int fd;
	struct guts_buf buf;
	size_t cap;
	int truncated;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read what is there; keep it up to the cap.  1 at end of file. */
static int drain(struct stream *s)
{
	char chunk[16384];
	ssize_t n;

	do
		n = read(s->fd, chunk, sizeof(chunk));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		return 1;
	if (s->buf.len < s->cap) {
		size_t keep = s->cap - s->buf.len;

		if (keep > (size_t)n)
			keep = (size_t)n;
		guts_buf_add(&s->buf, chunk, keep);
		if (keep < (size_t)n)
			s->truncated = 1;
	} else {
		s->truncated = 1;
	}
	return 0;
}

static int spawn(pid_t *pid, const struct guts_runcmd *cmd, int out_w,
		 int err_w)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char *const *envp = cmd->envp ? (char *const *)cmd->envp : environ;
	int err;

	posix_spawn_file_actions_init(&fa);
	guts_spawnattr_fresh(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	posix_spawn_file_actions_adddup2(&fa, err_w, 2);
	if (cmd->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cmd->cwd);
	err = posix_spawnp(pid, cmd->argv[0], &fa, &attr,
			   (char *const *)cmd->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err == ENOENT)
		return guts_error(GUTS_ENOTFOUND, "cannot run '%s': not found",
				  cmd->argv[0]);
	if (err) {
		errno = err;
		return guts_error_errno("cannot run '%s'", cmd->argv[0]);
	}
	return 0;
}

int guts_runcmd_run(const struct guts_runcmd *cmd,
		    struct guts_runcmd_result *res)
{
	struct stream st[2];
	int out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
	size_t cap = cmd->cap ? cmd->cap : GUTS_RUNCMD_DEFAULT_CAP;
	long long deadline = 0;
	int rc, open_streams = 2, timed_out = 0, wstatus = 0;
	pid_t pid = -1;
	struct stat sb;

	memset(res, 0, sizeof(*res));
	if (!cmd->argv || !cmd->argv[0])
		return guts_error(GUTS_EINVAL, "no program to run");
	if (cmd->cwd && (stat(cmd->cwd, &sb) < 0 || !S_ISDIR(sb.st_mode)))
		return guts_error(GUTS_EINVAL,
				  "cannot run '%s': '%s' is not a directory",
				  cmd->argv[0], cmd->cwd);
	for (int i = 0; i < 2; i++) {
		st[i].fd = -1;
		st[i].cap = cap;
		st[i].truncated = 0;
		guts_buf_init(&st[i].buf, 0);
	}
	if (pipe2(out_p, O_CLOEXEC) < 0) {
		rc = guts_error_errno("cannot create a pipe");
		goto out;
	}
	st[0].fd = out_p[0];
	if (pipe2(err_p, O_CLOEXEC) < 0) {
		rc = guts_error_errno("cannot create a pipe");
		goto out;
	}
	st[1].fd = err_p[0];
	rc = spawn(&pid, cmd, out_p[1], err_p[1]);
	close(out_p[1]);
	close(err_p[1]);
	out_p[1] = err_p[1] = -1;
	if (rc < 0)
		goto out;
	fcntl(st[0].fd, F_SETFL, O_NONBLOCK);
	fcntl(st[1].fd, F_SETFL, O_NONBLOCK);
	if (cmd->timeout_ms > 0)
		deadline = now_ms() + cmd->timeout_ms;

	while (open_streams) {
		struct pollfd pfd[2];
		int wait_ms = -1, n;

		for (int i = 0; i < 2; i++) {
			pfd[i].fd = st[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (deadline) {
			long long left = deadline - now_ms();

			if (left <= 0) {
				/* The group: git starts helpers of its own. */
				kill(-pid, SIGKILL);
				timed_out = 1;
				break;
			}
			wait_ms = left > 60000 ? 60000 : (int)left;
		}
		n = poll(pfd, 2, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = guts_error_errno("poll failed");
			kill(-pid, SIGKILL);
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (st[i].fd < 0 || !pfd[i].revents)
				continue;
			if (drain(&st[i])) {
				close(st[i].fd);
				st[i].fd = -1;
				open_streams--;
			}
		}
	}
	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR) {
			if (!rc)
				rc = guts_error_errno("cannot wait for '%s'",
						      cmd->argv[0]);
			goto out;
		}
	}
	if (rc < 0)
		goto out;
	if (timed_out) {
		rc = guts_error(GUTS_EIO, "'%s' did not finish within %d ms",
				cmd->argv[0], cmd->timeout_ms);
		goto out;
	}
	if (WIFEXITED(wstatus))
		res->status = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		res->status = 128 + WTERMSIG(wstatus);
	else
		res->status = 255;
	res->truncated = st[0].truncated || st[1].truncated;
	res->out = guts_buf_detach(&st[0].buf, &res->out_len);
	res->err = guts_buf_detach(&st[1].buf, &res->err_len);
out:
	for (int i = 0; i < 2; i++) {
		if (st[i].fd >= 0)
			close(st[i].fd);
		guts_buf_release(&st[i].buf);
	}
	if (out_p[1] >= 0)
		close(out_p[1]);
	if (err_p[1] >= 0)
		close(err_p[1]);
	return rc;
}

void guts_runcmd_result_release(struct guts_runcmd_result *res)
{
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof(*res));
}

void guts_spawnattr_fresh(posix_spawnattr_t *attr)
{
	sigset_t none, all;

	posix_spawnattr_init(attr);
	sigemptyset(&none);
	sigfillset(&all);
	/* SIGKILL and SIGSTOP cannot be touched; asking is an error. */
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &all);
	posix_spawnattr_setpgroup(attr, 0);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK |
					   POSIX_SPAWN_SETSIGDEF |
					   POSIX_SPAWN_SETPGROUP);
}

char *guts_runcmd_line(const char *const *argv, const char *cwd)
{
	struct guts_runcmd c = {0};
	struct guts_runcmd_result r = {0};
	char *out = NULL;

	c.argv = argv;
	c.cwd = cwd;
	c.timeout_ms = 30000;
	if (guts_runcmd_run(&c, &r) < 0)
		return NULL;
	if (r.status == 0) {
		size_t len = r.out_len;

		while (len &&
		       (r.out[len - 1] == '\n' || r.out[len - 1] == '\r'))
			len--;
		out = guts_xstrndup(r.out, len);
	}
	guts_runcmd_result_release(&r);
	return out;
}

char *guts_last_line(const char *text)
{
	const char *end = text + strlen(text), *start;

	while (end > text &&
	       (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	if (start == end)
		return guts_xstrdup("(no message)");
	return guts_xstrndup(start, (size_t)(end - start));
}
