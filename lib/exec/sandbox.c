/*
 * The executor's side of the sandbox (see guts/sandbox.h): spawning the
 * agent, the cgroups, the bubblewrap command line, and the requests.
 */
#include "guts/exec.h"
#include "guts/sandbox.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/runcmd.h"
#include "guts/strvec.h"
#include "sandbox_internal.h"
#include "banned.h"

extern char **environ;

/* How long the agent may take to come up, answer and go away. */
#define HELLO_TIMEOUT_MS 20000
#define REPLY_TIMEOUT_MS 30000
#define BYE_TIMEOUT_MS 10000
#define EXIT_TIMEOUT_MS 2000

struct guts_sandbox {
	int sock;
	int err_fd; /* the agent's stderr, for messages when it fails */
	int pidfd;  /* the agent, or -1 */
	pid_t agent;
	int agent_reaped;
	int agent_status;
	int isolated;
	int running; /* a command started and was not reaped yet */
	int dead;    /* the agent is gone */
	struct guts__cgroup *cg;
	struct guts__cg_events ev0;
	char *desc;
};

/* Why the sandbox is not bubblewrap, for describe(). */
struct plan {
	char *bwrap; /* its path, or NULL */
	const char *why_not;
	char *bwrap_error;
};

static char *find_in_path(const char *name)
{
	const char *path = getenv("PATH"), *p;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p++) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);

		if (len && p[0] == '/') {
			char *cand =
			    guts_xasprintf("%.*s/%s", (int)len, p, name);
			struct stat st;

			if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(cand, X_OK) == 0)
				return cand;
			free(cand);
		}
		if (!colon)
			return NULL;
		p = colon;
	}
}

static int check_abs(const char *what, const char *path)
{
	if (path && path[0] != '/')
		return guts_error(GUTS_EINVAL,
				  "sandbox: %s must be an absolute path: %s",
				  what, path);
	return 0;
}

static void build_bwrap_argv(struct guts_strvec *v, const char *bwrap,
			     const struct guts_sandbox_opts *opts)
{
	/*
	 * No --die-with-parent: it ties the sandbox to the *thread* that
	 * opened it.  When the executor dies the agent reads end of file,
	 * kills the job and exits, and bwrap with it.
	 */
	/* clang-format off */
	static const char *const fixed[] = {
		"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
		"--tmpfs", "/tmp",
		"--unshare-pid", "--unshare-ipc", "--unshare-uts",
		"--new-session", "--cap-drop", "ALL",
	};
	/* clang-format on */
	const char *home_path =
	    opts->home_path ? opts->home_path : getenv("HOME");

	guts_strvec_push(v, bwrap);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		guts_strvec_push(v, fixed[i]);
	if (opts->network_none)
		guts_strvec_push(v, "--unshare-net");
	/* Hidden directories first: the binds below may sit inside them. */
	for (size_t i = 0; i < opts->nr_hidden; i++) {
		struct stat st;

		if (!opts->hidden[i] || opts->hidden[i][0] != '/' ||
		    stat(opts->hidden[i], &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		guts_strvec_push(v, "--tmpfs");
		guts_strvec_push(v, opts->hidden[i]);
	}
	/*
	 * After the tmpfs on /tmp, so that paths below /tmp are seen; the
	 * home first, so that a workspace below it is bound over it.
	 */
	if (home_path && home_path[0] == '/' && strcmp(home_path, "/")) {
		guts_strvec_push(v, opts->home ? "--bind" : "--tmpfs");
		if (opts->home)
			guts_strvec_push(v, opts->home);
		guts_strvec_push(v, home_path);
	}
	if (opts->workspace) {
		guts_strvec_push(v, "--bind");
		guts_strvec_push(v, opts->workspace);
		guts_strvec_push(v, opts->workspace);
	}
	for (size_t i = 0; i < opts->nr_rw_paths; i++) {
		guts_strvec_push(v, "--bind");
		guts_strvec_push(v, opts->rw_paths[i]);
		guts_strvec_push(v, opts->rw_paths[i]);
	}
	guts_strvec_push(v, "--chdir");
	guts_strvec_push(v, opts->workspace ? opts->workspace : "/");
	/* The agent, from the descriptor open_once() passes on. */
	guts_strvec_pushf(v, "/proc/self/fd/%d", SBX_EXE_FD);
	guts_strvec_push(v, GUTS_SANDBOX_AGENT_ARG);
	guts_strvec_push(v, "--inner");
	guts_strvec_push(v, "--fd");
	guts_strvec_pushf(v, "%d", SBX_AGENT_FD);
}

/* What the agent wrote to stderr, first line only, or "". */
static char *agent_stderr(struct guts_sandbox *sb)
{
	char buf[1024];
	ssize_t n;
	char *nl;

	if (sb->err_fd < 0)
		return guts_xstrdup("");
	n = read(sb->err_fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return guts_xstrdup("");
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return guts_xstrdup(buf);
}

static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	int64_t end = guts__sbx_now_ms() + timeout_ms;
	int n;

	for (;;) {
		int64_t left = end - guts__sbx_now_ms();

		n = poll(&p, 1, left > 0 ? (int)left : 0);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

/* Wait up to @timeout_ms for the agent to exit; 1 when it has. */
static int wait_agent(struct guts_sandbox *sb, int timeout_ms)
{
	int64_t end = guts__sbx_now_ms() + timeout_ms;

	while (!sb->agent_reaped) {
		pid_t pid = waitpid(sb->agent, &sb->agent_status, WNOHANG);
		int64_t left = end - guts__sbx_now_ms();

		if (pid == sb->agent || (pid < 0 && errno == ECHILD)) {
			sb->agent_reaped = 1;
			break;
		}
		if (left <= 0)
			return 0;
		if (sb->pidfd >= 0) {
			wait_readable(sb->pidfd, (int)left);
		} else {
			struct timespec ts = {0, 1000000};

			nanosleep(&ts, NULL);
		}
	}
	return 1;
}

static void kill_agent(struct guts_sandbox *sb)
{
	if (sb->agent_reaped)
		return;
	/* Its group holds bubblewrap; the namespace dies with it. */
	kill(-sb->agent, SIGKILL);
	kill(sb->agent, SIGKILL);
	while (waitpid(sb->agent, &sb->agent_status, 0) < 0 && errno == EINTR)
		;
	sb->agent_reaped = 1;
}

static void sandbox_free(struct guts_sandbox *sb)
{
	if (!sb)
		return;
	if (sb->agent > 0)
		kill_agent(sb);
	if (sb->sock >= 0)
		close(sb->sock);
	if (sb->err_fd >= 0)
		close(sb->err_fd);
	if (sb->pidfd >= 0)
		close(sb->pidfd);
	guts__cgroup_kill(sb->cg);
	guts__cgroup_free(sb->cg);
	free(sb->desc);
	free(sb);
}

/* Move @fd to a number above the ones the agent's are dup2()ed to. */
static int lift_fd(int fd)
{
	int nfd;

	if (fd > SBX_EXE_FD)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, SBX_EXE_FD + 1);
	close(fd);
	return nfd;
}

/*
 * Spawn the agent (@argv): the socket's other end as SBX_AGENT_FD, @exe_fd
 * (when >= 0) as SBX_EXE_FD, stderr into our pipe, nothing else.
 */
static int spawn_agent(struct guts_sandbox *sb, char *const *argv,
		       int child_sock, int exe_fd, int err_w)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int err;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, err_w, 2);
	posix_spawn_file_actions_adddup2(&fa, child_sock, SBX_AGENT_FD);
	if (exe_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, exe_fd, SBX_EXE_FD);
	posix_spawn_file_actions_addclosefrom_np(
	    &fa, (exe_fd >= 0 ? SBX_EXE_FD : SBX_AGENT_FD) + 1);
	/* Its own group: kill_agent() ends it (and bwrap) at once. */
	guts_spawnattr_fresh(&attr);
	/*
	 * Only the host variables a job may inherit: the caller's own
	 * secrets (a runner's token) stay out of the sandbox, where the
	 * agent's /proc/PID/environ is readable.
	 */
	{
		struct guts_strvec env = GUTS_STRVEC_INIT;

		for (char **e = environ; *e; e++)
			for (const char *const *n = guts_host_env; *n; n++) {
				size_t l = strlen(*n);

				if (!strncmp(*e, *n, l) && (*e)[l] == '=')
					guts_strvec_push(&env, *e);
			}
		if (!env.v)
			guts_strvec_push(&env, "PATH=/usr/bin:/bin");
		err = posix_spawn(&sb->agent, argv[0], &fa, &attr, argv, env.v);
		guts_strvec_release(&env);
	}
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		errno = err;
		sb->agent = 0;
		return guts_error_errno("cannot start %s", argv[0]);
	}
	sb->pidfd = (int)syscall(SYS_pidfd_open, sb->agent, 0);
	return 0;
}

static int send_config(struct guts_sandbox *sb,
		       const struct guts_sandbox_opts *opts)
{
	struct sbx_config c = {0};

	c.type = SBX_CONFIG;
	c.file_size = opts->limits.file_size;
	c.nofile = opts->limits.nofile;
	/* The rlimit fallbacks only where the cgroup does not do it. */
	if (!guts__cgroup_has_pids(sb->cg))
		c.nproc = opts->limits.nproc;
	if (!guts__cgroup_has_memory(sb->cg))
		c.address_space = opts->limits.address_space;
	if (guts__sbx_send(sb->sock, &c, sizeof(c), -1) < 0)
		return guts_error(GUTS_EIO, "sandbox agent is gone");
	return 0;
}

/* The agent went away: a message with what it said and how it ended. */
static int agent_died(struct guts_sandbox *sb, const char *what)
{
	char *said;
	int rc;

	sb->dead = 1;
	sb->running = 0;
	wait_agent(sb, EXIT_TIMEOUT_MS);
	said = agent_stderr(sb);
	if (!sb->agent_reaped)
		rc = guts_error(GUTS_EIO, "%s%s%s", what, *said ? ": " : "",
				said);
	else if (WIFSIGNALED(sb->agent_status))
		rc = guts_error(GUTS_EIO, "%s (signal %d)%s%s", what,
				WTERMSIG(sb->agent_status), *said ? ": " : "",
				said);
	else
		rc = guts_error(GUTS_EIO, "%s (exit %d)%s%s", what,
				WEXITSTATUS(sb->agent_status),
				*said ? ": " : "", said);
	free(said);
	return rc;
}

/* Wait for HELLO; *pid is the agent's pid as we see it. */
static int wait_hello(struct guts_sandbox *sb, pid_t *pid)
{
	struct sbx_hello h;
	ssize_t n;

	if (wait_readable(sb->sock, HELLO_TIMEOUT_MS) <= 0)
		return guts_error(GUTS_EIO,
				  "the sandbox agent did not come up in %d s",
				  HELLO_TIMEOUT_MS / 1000);
	n = guts__sbx_recv(sb->sock, &h, sizeof(h), NULL, pid, 0);
	if (n == (ssize_t)sizeof(h) && h.type == SBX_HELLO && *pid > 0)
		return 0;
	return agent_died(sb, "the sandbox agent failed to start");
}

static void describe(struct guts_sandbox *sb,
		     const struct guts_sandbox_opts *opts,
		     const struct plan *plan)
{
	struct guts_buf d = GUTS_BUF_INIT;
	const char *cg = guts__cgroup_describe(sb->cg);
	const struct guts_sandbox_limits *l = &opts->limits;
	const char *sep = "; rlimits: ";
	char b[32];

	guts_buf_init(&d, 0);
	if (sb->isolated)
		guts_buf_addf(&d,
			      "sandbox: bubblewrap (pid, ipc, uts, mount "
			      "namespaces; %s)",
			      opts->network_none ? "no network"
						 : "host network");
	else if (plan->bwrap_error)
		guts_buf_addf(&d,
			      "no sandbox (bubblewrap failed: %s): process "
			      "group and limits only",
			      plan->bwrap_error);
	else
		guts_buf_addf(&d,
			      "no sandbox (%s): process group and limits only",
			      plan->why_not);
	if (*cg)
		guts_buf_addf(&d, "; %s", cg);
	if (l->file_size) {
		guts__fmt_bytes(b, sizeof(b), l->file_size);
		guts_buf_addf(&d, "%sfile size %s", sep, b);
		sep = ", ";
	}
	if (l->nofile) {
		guts_buf_addf(&d, "%sopen files %lu", sep, l->nofile);
		sep = ", ";
	}
	if (l->nproc && !guts__cgroup_has_pids(sb->cg)) {
		guts_buf_addf(&d, "%sprocesses %lu", sep, l->nproc);
		sep = ", ";
	}
	if (l->address_space && !guts__cgroup_has_memory(sb->cg)) {
		guts__fmt_bytes(b, sizeof(b), l->address_space);
		guts_buf_addf(&d, "%saddress space %s", sep, b);
	}
	sb->desc = guts_buf_detach(&d, NULL);
}

/*
 * The agent program when the caller names none: guts-sandbox-agent beside
 * the running program (it starts faster than a program that links
 * OpenSSL and the rest), else the running program itself.
 */
static char *default_agent_path; /* set once, kept for the process */
static pthread_once_t default_agent_once = PTHREAD_ONCE_INIT;

static void find_default_agent(void)
{
	char *self = realpath("/proc/self/exe", NULL);
	char *slash = self ? strrchr(self, '/') : NULL;

	if (slash) {
		*slash = '\0';
		default_agent_path =
		    guts_xasprintf("%s/guts-sandbox-agent", self);
		if (access(default_agent_path, X_OK) < 0) {
			free(default_agent_path);
			default_agent_path = NULL;
		}
	}
	free(self);
}

static const char *default_agent(void)
{
	pthread_once(&default_agent_once, find_default_agent);
	return default_agent_path ? default_agent_path : "/proc/self/exe";
}

static int open_once(struct guts_sandbox **out,
		     const struct guts_sandbox_opts *opts, struct plan *plan)
{
	struct guts_sandbox *sb = guts_xcalloc(1, sizeof(*sb));
	const char *path =
	    opts->agent_path ? opts->agent_path : default_agent();
	struct guts_strvec argv = GUTS_STRVEC_INIT;
	int sv[2] = {-1, -1}, ep[2] = {-1, -1}, exe_fd = -1, on = 1, off = 0;
	pid_t agent_pid = 0;
	int rc;

	sb->sock = sb->err_fd = sb->pidfd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(ep, O_CLOEXEC) < 0) {
		rc = guts_error_errno("sandbox: cannot make a socket");
		goto fail;
	}
	sb->sock = sv[0];
	sb->err_fd = ep[0];
	sv[1] = lift_fd(sv[1]);
	ep[1] = lift_fd(ep[1]);
	if (sv[1] < 0 || ep[1] < 0) {
		rc = guts_error_errno("sandbox: cannot make a socket");
		goto fail;
	}
	fcntl(sb->err_fd, F_SETFL, O_NONBLOCK);
	/* HELLO tells us the agent's pid, even from inside bwrap. */
	setsockopt(sb->sock, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));

	if (plan->bwrap) {
		/*
		 * bwrap runs the agent from this descriptor: the binary may
		 * be hidden inside (under /tmp, or the home), or replaced.
		 */
		exe_fd = open(path, O_PATH | O_CLOEXEC);
		if (exe_fd < 0) {
			rc = guts_error_errno("cannot open %s", path);
			goto fail;
		}
		exe_fd = lift_fd(exe_fd);
		if (exe_fd < 0) {
			rc = guts_error_errno(
			    "sandbox: cannot move a descriptor");
			goto fail;
		}
		build_bwrap_argv(&argv, plan->bwrap, opts);
	} else {
		guts_strvec_push(&argv, path);
		guts_strvec_push(&argv, GUTS_SANDBOX_AGENT_ARG);
		guts_strvec_push(&argv, "--fd");
		guts_strvec_pushf(&argv, "%d", SBX_AGENT_FD);
	}
	rc = spawn_agent(sb, argv.v, sv[1], exe_fd, ep[1]);
	if (rc < 0)
		goto fail;

	/*
	 * The agent loads while we make its cgroups.  It is moved into
	 * them before open() returns, so before it starts any command;
	 * everything a command starts is born inside.
	 */
	sb->cg = guts__cgroup_new(opts->name, &opts->limits, !plan->bwrap);
	if (!plan->bwrap)
		guts__cgroup_attach(sb->cg, sb->agent);
	rc = send_config(sb, opts);
	if (rc < 0)
		goto fail;
	rc = wait_hello(sb, &agent_pid);
	if (rc < 0)
		goto fail;
	setsockopt(sb->sock, SOL_SOCKET, SO_PASSCRED, &off, sizeof(off));
	if (plan->bwrap)
		guts__cgroup_attach(sb->cg, agent_pid);
	sb->isolated = plan->bwrap != NULL;
	describe(sb, opts, plan);
	*out = sb;
	sb = NULL;
fail:
	if (sv[1] >= 0)
		close(sv[1]);
	if (ep[1] >= 0)
		close(ep[1]);
	if (exe_fd >= 0)
		close(exe_fd);
	guts_strvec_release(&argv);
	sandbox_free(sb);
	return rc;
}

int guts_sandbox_open(struct guts_sandbox **out,
		      const struct guts_sandbox_opts *opts)
{
	struct plan plan = {NULL, NULL, NULL};
	int rc;

	rc = check_abs("workspace", opts->workspace);
	if (!rc)
		rc = check_abs("home", opts->home);
	if (!rc)
		rc = check_abs("home_path", opts->home_path);
	for (size_t i = 0; !rc && i < opts->nr_rw_paths; i++)
		rc = check_abs("a read-write path", opts->rw_paths[i]);
	if (rc < 0)
		return rc;

	if (!opts->isolate) {
		plan.why_not = "isolation off";
	} else if (!(plan.bwrap = find_in_path("bwrap"))) {
		if (opts->require_isolation)
			return guts_error(GUTS_ENOTFOUND,
					  "the job requires a sandbox but "
					  "bubblewrap (bwrap) is not in PATH");
		plan.why_not = "bubblewrap not found";
	}
	rc = open_once(out, opts, &plan);
	if (rc < 0 && plan.bwrap && !opts->require_isolation) {
		/* bwrap is there but fails (no user namespaces...). */
		plan.bwrap_error = guts_xstrdup(guts_error_message());
		free(plan.bwrap);
		plan.bwrap = NULL;
		rc = open_once(out, opts, &plan);
	} else if (rc < 0 && plan.bwrap) {
		char *msg = guts_xstrdup(guts_error_message());

		rc = guts_error(rc, "bubblewrap does not work here: %s", msg);
		free(msg);
	}
	free(plan.bwrap);
	free(plan.bwrap_error);
	return rc;
}

const char *guts_sandbox_describe(const struct guts_sandbox *sb)
{
	return sb->desc;
}

int guts_sandbox_isolated(const struct guts_sandbox *sb)
{
	return sb->isolated;
}

int guts_sandbox_event_fd(const struct guts_sandbox *sb)
{
	return sb->sock;
}

static void put_u32(struct guts_buf *b, uint32_t v)
{
	guts_buf_add(b, &v, sizeof(v));
}

static int encode_start(struct guts_buf *b, const struct guts_sandbox_cmd *cmd)
{
	size_t argc = 0, envc = 0;
	int rc = 0;

	while (cmd->argv[argc])
		argc++;
	while (cmd->envp[envc])
		envc++;
	put_u32(b, (uint32_t)argc);
	put_u32(b, (uint32_t)envc);
	rc |= guts_buf_add(b, cmd->cwd, strlen(cmd->cwd) + 1);
	rc |= guts_buf_add(b, cmd->tracking_id, strlen(cmd->tracking_id) + 1);
	for (size_t i = 0; i < argc && !rc; i++)
		rc = guts_buf_add(b, cmd->argv[i], strlen(cmd->argv[i]) + 1);
	for (size_t i = 0; i < envc && !rc; i++)
		rc = guts_buf_add(b, cmd->envp[i], strlen(cmd->envp[i]) + 1);
	if (rc)
		return guts_error(GUTS_ETOOBIG,
				  "the command line and environment are "
				  "larger than %u MiB",
				  SBX_START_MAX >> 20);
	return 0;
}

static int send_start(struct guts_sandbox *sb, const struct guts_buf *req,
		      int out_fd)
{
	char *msg = guts_xmalloc(SBX_CHUNK + sizeof(uint32_t));
	size_t off = 0;
	int err = 0;

	for (;;) {
		size_t n = req->len - off;
		uint32_t type = SBX_START;

		if (n > SBX_CHUNK) {
			n = SBX_CHUNK;
			type = SBX_START_DATA;
		}
		memcpy(msg, &type, sizeof(type));
		memcpy(msg + sizeof(type), req->data + off, n);
		err = guts__sbx_send(sb->sock, msg, sizeof(type) + n,
				     type == SBX_START ? out_fd : -1);
		off += n;
		if (err || type == SBX_START)
			break;
	}
	free(msg);
	return err;
}

int guts_sandbox_start(struct guts_sandbox *sb,
		       const struct guts_sandbox_cmd *cmd)
{
	struct guts_buf req;
	struct sbx_started r;
	ssize_t n;
	int rc;

	if (sb->dead)
		return guts_error(GUTS_EIO, "the sandbox agent is gone");
	if (sb->running)
		return guts_error(GUTS_EINVAL,
				  "a command is already running in this "
				  "sandbox");
	if (!cmd->argv || !cmd->argv[0] || !cmd->envp || !cmd->cwd ||
	    !cmd->tracking_id || !*cmd->tracking_id)
		return guts_error(GUTS_EINVAL,
				  "sandbox: a command needs argv, envp, cwd "
				  "and a tracking id");
	if (cmd->out_fd >= 0 && fcntl(cmd->out_fd, F_GETFD) < 0)
		return guts_error(GUTS_EINVAL,
				  "sandbox: the output descriptor %d is not "
				  "open",
				  cmd->out_fd);
	guts_buf_init(&req, SBX_START_MAX);
	rc = encode_start(&req, cmd);
	if (rc < 0)
		goto out;
	guts__cgroup_events(sb->cg, &sb->ev0);
	if (send_start(sb, &req, cmd->out_fd) < 0) {
		rc = agent_died(sb, "the sandbox agent is gone");
		goto out;
	}
	if (wait_readable(sb->sock, REPLY_TIMEOUT_MS) <= 0) {
		/* Its answer could come any time now: give up on it. */
		sb->dead = 1;
		rc = guts_error(GUTS_EIO, "the sandbox agent does not answer");
		goto out;
	}
	n = guts__sbx_recv(sb->sock, &r, sizeof(r), NULL, NULL, 0);
	if (n <= 0) {
		rc = agent_died(sb, "the sandbox agent died");
		goto out;
	}
	if (n <= (ssize_t)offsetof(struct sbx_started, msg) ||
	    r.type != SBX_STARTED) {
		rc = guts_error(GUTS_EIO, "sandbox agent: unexpected answer");
		goto out;
	}
	r.msg[sizeof(r.msg) - 1] = '\0';
	if (r.code < 0) {
		rc = guts_error(r.code, "%s", r.msg);
		goto out;
	}
	sb->running = 1;
	rc = 0;
out:
	guts_buf_release(&req);
	return rc;
}

int guts_sandbox_reap(struct guts_sandbox *sb, struct guts_sandbox_exit *ex)
{
	struct guts__cg_events ev;
	struct sbx_exit m;
	ssize_t n;

	if (sb->dead)
		return guts_error(GUTS_EIO, "the sandbox agent is gone");
	if (!sb->running)
		return guts_error(GUTS_EINVAL, "no command is running");
	for (;;) {
		n = guts__sbx_recv(sb->sock, &m, sizeof(m), NULL, NULL,
				   MSG_DONTWAIT);
		if (n == -EAGAIN)
			return 0;
		if (n == 0 || (n < 0 && n != -EMSGSIZE))
			return agent_died(sb, "the sandbox agent died");
		if (n == (ssize_t)sizeof(m) && m.type == SBX_EXIT)
			break;
	}
	sb->running = 0;
	guts__cgroup_events(sb->cg, &ev);
	memset(ex, 0, sizeof(*ex));
	ex->wstatus = m.wstatus;
	ex->terminated = m.terminated;
	ex->oom_killed = ev.oom_kills > sb->ev0.oom_kills;
	ex->pids_limited = ev.pids_max > sb->ev0.pids_max;
	return 1;
}

int guts_sandbox_terminate(struct guts_sandbox *sb, int grace_ms)
{
	struct sbx_term t = {SBX_TERM, grace_ms < 0 ? 0 : grace_ms};

	if (sb->dead)
		return guts_error(GUTS_EIO, "the sandbox agent is gone");
	if (!sb->running)
		return 0;
	if (guts__sbx_send(sb->sock, &t, sizeof(t), -1) < 0)
		return agent_died(sb, "the sandbox agent is gone");
	return 0;
}

int guts_sandbox_close(struct guts_sandbox *sb, size_t *leftover)
{
	uint32_t close_msg = SBX_CLOSE;
	size_t killed = 0;
	int rc = 0;

	if (!sb)
		return 0;
	if (!sb->dead &&
	    guts__sbx_send(sb->sock, &close_msg, sizeof(close_msg), -1) == 0) {
		struct sbx_bye bye;
		ssize_t n;

		/*
		 * The agent kills, says BYE and exits, and bwrap with it:
		 * waiting for the exit is enough, BYE is read afterwards.
		 */
		if (!wait_agent(sb, BYE_TIMEOUT_MS))
			rc = guts_error(GUTS_EIO,
					"the sandbox agent did not finish in "
					"%d s",
					BYE_TIMEOUT_MS / 1000);
		do
			n = guts__sbx_recv(sb->sock, &bye, sizeof(bye), NULL,
					   NULL, MSG_DONTWAIT);
		while (n > 0 &&
		       (n != (ssize_t)sizeof(bye) || bye.type != SBX_BYE));
		if (n == (ssize_t)sizeof(bye))
			killed = bye.killed;
	}
	close(sb->sock);
	sb->sock = -1;
	if (!wait_agent(sb, EXIT_TIMEOUT_MS))
		kill_agent(sb);
	/* Whatever escaped the agent's view is still in the cgroups. */
	killed += guts__cgroup_kill(sb->cg);
	guts__cgroup_free(sb->cg);
	sb->cg = NULL;
	sandbox_free(sb);
	if (leftover)
		*leftover = killed;
	return rc;
}
