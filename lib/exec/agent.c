/*
 * The sandbox agent (see guts/sandbox.h for the design and
 * sandbox_internal.h for the protocol).
 *
 * The executor spawns the agent directly, or bubblewrap, which runs it
 * ("--inner") as pid 2 of the new pid namespace.  The agent reads its
 * CONFIG, sets the rlimits, becomes a child subreaper, says HELLO and then
 * serves one command at a time until CLOSE or the end of the socket.
 *
 * The agent is single-threaded and never calls fork(); every command is
 * posix_spawn()ed.  It finds the processes to kill by walking /proc (see
 * select_procs()), so it needs no help from the commands themselves.
 */
#include "sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/runcmd.h"
#include "guts/fs.h"
#include "guts/strvec.h"
#include "banned.h"

/* How often the agent looks whether a terminated tree is gone yet. */
#define TERM_POLL_MS 10
/* SIGKILL rounds before the agent gives up on a process (D state...). */
#define KILL_ROUNDS 200

enum sel {
	SEL_COMMAND, /* the running command's tree */
	SEL_ALL,     /* everything the sandbox started */
};

struct agent {
	int sock;
	int sigfd;
	int pidns;
	pid_t self;

	/* The command; cmd is 0 when none is running. */
	pid_t cmd;
	int cmd_reaped;
	int cmd_status;
	unsigned long long cmd_start;
	/* Our children when it started: leftovers of earlier commands. */
	pid_t *before;
	size_t nr_before, alloc_before;
	const char *cmd_id; /* points into ids */
	int terminating;
	int quiet_ticks; /* looks in a row that found the tree gone */
	int64_t deadline;

	struct guts_strvec ids; /* every tracking id seen */
	struct guts_buf req;	/* the start request being received */
	int req_too_big;

	struct guts__proctab tab;
	struct guts_buf scratch;
	pid_t *killed;
	size_t nr_killed, alloc_killed;
};

struct start_req {
	const char *cwd;
	const char *id;
	const char **argv;
	const char **envp;
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Reap what has ended; 1 when we have no children left at all. */
static int reap_children(struct agent *a)
{
	pid_t pid;
	int st;

	/* Orphans that came back to us are reaped and forgotten. */
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (pid == a->cmd && !a->cmd_reaped) {
			a->cmd_reaped = 1;
			a->cmd_status = st;
		}
	return pid < 0 && errno == ECHILD;
}

static int has_id(const struct agent *a, const char *id)
{
	for (size_t i = 0; i < a->ids.nr; i++)
		if (!strcmp(a->ids.v[i], id))
			return 1;
	return 0;
}

static int cmp_proc(const void *x, const void *y)
{
	const struct guts__proc *p = x, *q = y;

	return (p->pid > q->pid) - (p->pid < q->pid);
}

static struct guts__proc *find_proc(struct guts__proctab *t, pid_t pid)
{
	struct guts__proc key = {0};

	key.pid = pid;
	return bsearch(&key, t->p, t->nr, sizeof(*t->p), cmp_proc);
}

static int was_child_before(const struct agent *a, pid_t pid)
{
	for (size_t i = 0; i < a->nr_before; i++)
		if (a->before[i] == pid)
			return 1;
	return 0;
}

static void add_before(struct agent *a, pid_t pid)
{
	GUTS_ALLOC_GROW(a->before, a->nr_before + 1, a->alloc_before);
	a->before[a->nr_before++] = pid;
}

/*
 * Note our children before a command starts.  Start times are in clock
 * ticks (10 ms), too coarse to tell a leftover of the previous command
 * from an orphan of this one on their own.
 */
static void note_children(struct agent *a)
{
	char path[64], *text = NULL;
	size_t len;

	a->nr_before = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
		 (int)a->self);
	if (guts_fs_read_all(&text, &len, path, 1u << 20) == 0) {
		for (char *p = text, *end;; p = end) {
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			add_before(a, (pid_t)pid);
		}
		free(text);
		return;
	}
	/* Without CONFIG_PROC_CHILDREN: the slow way. */
	if (guts__proctab_load(&a->tab) < 0)
		return;
	for (size_t i = 0; i < a->tab.nr; i++)
		if (a->tab.p[i].ppid == a->self)
			add_before(a, a->tab.p[i].pid);
}

/* Whether @p belongs to the running command (before looking at parents). */
static int in_command(struct agent *a, const struct guts__proc *p)
{
	const char *id;
	int has;

	if (!a->cmd_reaped && p->pid == a->cmd)
		return 1;
	/* The group outlives its leader, and its id cannot be reused. */
	if (p->pgrp == a->cmd)
		return 1;
	has = guts__proc_tracking_id(p->pid, &a->scratch, &id);
	if (has && !strcmp(id, a->cmd_id))
		return 1;
	/*
	 * An orphan that came back to us (we are its subreaper) since the
	 * command started is the command's, unless it carries the id of an
	 * earlier command (whose leftover forked and orphaned it).
	 */
	return p->ppid == a->self && p->start >= a->cmd_start && !has &&
	       !was_child_before(a, p->pid);
}

/*
 * Snapshot /proc and mark what @sel covers: the processes picked out
 * directly and everything below them.  Zombies, the agent and the
 * namespace's init are never marked.  Returns how many are marked.
 */
static size_t select_procs(struct agent *a, enum sel sel)
{
	struct guts__proctab *t = &a->tab;
	size_t n = 0;
	int changed;

	if (guts__proctab_load(t) < 0)
		return 0;
	qsort(t->p, t->nr, sizeof(*t->p), cmp_proc);
	for (size_t i = 0; i < t->nr; i++) {
		struct guts__proc *p = &t->p[i];
		const char *id;

		p->mark = 0;
		if (p->pid == a->self || p->state == 'Z' || p->state == 'X' ||
		    (a->pidns && p->pid == 1)) {
			p->mark = 2; /* never */
			continue;
		}
		if (sel == SEL_COMMAND)
			p->mark = a->cmd && in_command(a, p);
		else if (a->pidns || p->ppid == a->self)
			p->mark = 1;
		else if (a->ids.nr &&
			 guts__proc_tracking_id(p->pid, &a->scratch, &id))
			p->mark = has_id(a, id);
	}
	do {
		changed = 0;
		for (size_t i = 0; i < t->nr; i++) {
			struct guts__proc *p = &t->p[i], *pp;

			if (p->mark)
				continue;
			pp = find_proc(t, p->ppid);
			if (pp && pp->mark == 1) {
				p->mark = 1;
				changed = 1;
			}
		}
	} while (changed);
	for (size_t i = 0; i < t->nr; i++)
		n += t->p[i].mark == 1;
	return n;
}

static void remember_killed(struct agent *a, pid_t pid)
{
	for (size_t i = 0; i < a->nr_killed; i++)
		if (a->killed[i] == pid)
			return;
	GUTS_ALLOC_GROW(a->killed, a->nr_killed + 1, a->alloc_killed);
	a->killed[a->nr_killed++] = pid;
}

static void signal_marked(struct agent *a, int sig)
{
	for (size_t i = 0; i < a->tab.nr; i++) {
		if (a->tab.p[i].mark != 1)
			continue;
		if (kill(a->tab.p[i].pid, sig) == 0 && sig == SIGKILL)
			remember_killed(a, a->tab.p[i].pid);
	}
}

/*
 * SIGKILL what @sel covers until two fresh looks in a row find nothing
 * alive: a process may fork between our snapshot and the kill, a killed
 * one takes a moment to become a zombie, and one in the middle of
 * execve() shows no environment (so no tracking id) for a moment.
 */
static void kill_until_quiet(struct agent *a, enum sel sel)
{
	int quiet = 0;

	for (int round = 0; round < KILL_ROUNDS && quiet < 2; round++) {
		if (a->cmd && !a->cmd_reaped)
			kill(-a->cmd, SIGKILL);
		if (select_procs(a, sel)) {
			signal_marked(a, SIGKILL);
			quiet = 0;
		} else {
			quiet++;
		}
		reap_children(a);
		if (quiet < 2)
			sleep_ms(1);
	}
	reap_children(a);
}

/*
 * Kill everything in bwrap's pid namespace but init.  The kernel would do
 * it when init exits, but bwrap's monitor does not wait for that, so
 * close() could return with the job still dying.  Every process but init
 * descends from us, and comes back to us (we are its subreaper) when its
 * parent dies: once we have no children left, the namespace is empty.
 */
static void kill_namespace(struct agent *a)
{
	for (int round = 0; round < KILL_ROUNDS; round++) {
		struct pollfd p = {a->sigfd, POLLIN, 0};
		struct signalfd_siginfo si;

		if (select_procs(a, SEL_ALL))
			signal_marked(a, SIGKILL);
		if (reap_children(a))
			return;
		/* Wait for the next one to die (or something to fork). */
		poll(&p, 1, 5);
		while (read(a->sigfd, &si, sizeof(si)) > 0)
			;
	}
}

static int send_msg(struct agent *a, const void *msg, size_t len)
{
	return guts__sbx_send(a->sock, msg, len, -1);
}

__attribute__((format(printf, 3, 4))) static void
reply_started(struct agent *a, int code, const char *fmt, ...)
{
	struct sbx_started m = {SBX_STARTED, code, ""};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m.msg, sizeof(m.msg), fmt, ap);
	va_end(ap);
	send_msg(a, &m, offsetof(struct sbx_started, msg) + strlen(m.msg) + 1);
}

/* Report the command's end and forget it. */
static void finish_command(struct agent *a)
{
	struct sbx_exit m = {SBX_EXIT, 0, 0};

	while (!a->cmd_reaped) {
		int st;
		pid_t pid = waitpid(a->cmd, &st, 0);

		if (pid == a->cmd) {
			a->cmd_reaped = 1;
			a->cmd_status = st;
		} else if (pid < 0 && errno != EINTR) {
			/* Cannot happen for our own child; do not hang. */
			a->cmd_reaped = 1;
			a->cmd_status = 127 << 8; /* exit 127 */
		}
	}
	reap_children(a);
	m.wstatus = a->cmd_status;
	m.terminated = a->terminating;
	a->cmd = 0;
	a->cmd_reaped = 0;
	a->cmd_id = NULL;
	a->terminating = 0;
	send_msg(a, &m, sizeof(m));
}

static void term_begin(struct agent *a, int grace_ms)
{
	if (!a->cmd || a->terminating)
		return;
	a->terminating = 1;
	a->quiet_ticks = 0;
	a->deadline = guts__sbx_now_ms() + (grace_ms > 0 ? grace_ms : 0);
	if (select_procs(a, SEL_COMMAND)) {
		signal_marked(a, SIGTERM);
		/* A stopped process would never see the SIGTERM. */
		signal_marked(a, SIGCONT);
	}
}

static void term_tick(struct agent *a)
{
	if (guts__sbx_now_ms() >= a->deadline) {
		kill_until_quiet(a, SEL_COMMAND);
		finish_command(a);
		return;
	}
	/*
	 * Everything went on SIGTERM alone: no need to wait for the grace.
	 * Twice, for the same reason as in kill_until_quiet().
	 */
	if (!a->cmd_reaped)
		return;
	if (select_procs(a, SEL_COMMAND))
		a->quiet_ticks = 0;
	else if (++a->quiet_ticks >= 2)
		finish_command(a);
}

/* ---- starting a command ---- */

static int get_u32(const char **p, const char *end, uint32_t *v)
{
	if ((size_t)(end - *p) < sizeof(*v))
		return -1;
	memcpy(v, *p, sizeof(*v));
	*p += sizeof(*v);
	return 0;
}

static const char *get_str(const char **p, const char *end)
{
	const char *s = *p, *nul;

	nul = memchr(s, '\0', (size_t)(end - s));
	if (!nul)
		return NULL;
	*p = nul + 1;
	return s;
}

static int decode_start(struct start_req *r, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	uint32_t argc, envc;

	if (get_u32(&p, end, &argc) < 0 || get_u32(&p, end, &envc) < 0 ||
	    argc == 0 || argc > len || envc > len)
		return -1;
	r->cwd = get_str(&p, end);
	r->id = r->cwd ? get_str(&p, end) : NULL;
	if (!r->id)
		return -1;
	r->argv = guts_xcalloc((size_t)argc + 1, sizeof(*r->argv));
	r->envp = guts_xcalloc((size_t)envc + 1, sizeof(*r->envp));
	for (uint32_t i = 0; i < argc; i++)
		if (!(r->argv[i] = get_str(&p, end)))
			return -1;
	for (uint32_t i = 0; i < envc; i++)
		if (!(r->envp[i] = get_str(&p, end)))
			return -1;
	return p == end ? 0 : -1;
}

static int is_exec_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/*
 * argv[0] the way execvp() would find it, but in the PATH of the
 * command's own environment, so that a bad PATH gives a clear error.
 */
static char *find_program(const char *name, const char *cwd,
			  const char *const *envp)
{
	const char *path = NULL, *p;

	if (strchr(name, '/'))
		return guts_xstrdup(name);
	for (size_t i = 0; envp[i]; i++)
		if (!strncmp(envp[i], "PATH=", 5))
			path = envp[i] + 5;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p++) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		char *cand;

		/* An empty entry means the working directory. */
		if (len == 0)
			cand = guts_xasprintf("%s/%s", cwd, name);
		else if (p[0] != '/')
			cand = guts_xasprintf("%s/%.*s/%s", cwd, (int)len, p,
					      name);
		else
			cand = guts_xasprintf("%.*s/%s", (int)len, p, name);
		if (is_exec_file(cand))
			return cand;
		free(cand);
		if (!colon)
			break;
		p = colon;
	}
	return NULL;
}

static void start_command(struct agent *a, int out_fd)
{
	struct start_req r = {0};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct guts_strvec env = GUTS_STRVEC_INIT;
	char *prog = NULL;
	struct stat st;
	pid_t pid;
	int err;

	reap_children(a);
	if (a->req_too_big || decode_start(&r, a->req.data, a->req.len) < 0) {
		reply_started(a, GUTS_EINVAL, "malformed start request");
		goto out;
	}
	if (a->cmd) {
		reply_started(a, GUTS_EINVAL,
			      "a command is already running in this sandbox");
		goto out;
	}
	if (stat(r.cwd, &st) < 0) {
		reply_started(a, GUTS_EINVAL, "working-directory %s: %s", r.cwd,
			      strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		reply_started(a, GUTS_EINVAL, "working-directory %s: %s", r.cwd,
			      strerror(ENOTDIR));
		goto out;
	}
	prog = find_program(r.argv[0], r.cwd, r.envp);
	if (!prog) {
		reply_started(a, GUTS_ENOTFOUND, "%s: not found in PATH",
			      r.argv[0]);
		goto out;
	}

	/* The id first: the kill scan reads it from /proc/PID/environ. */
	guts_strvec_pushf(&env, "%s%s", SBX_TRACKING_VAR, r.id);
	for (size_t i = 0; r.envp[i]; i++)
		if (strncmp(r.envp[i], SBX_TRACKING_VAR,
			    sizeof(SBX_TRACKING_VAR) - 1))
			guts_strvec_push(&env, r.envp[i]);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out_fd >= 0) {
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
		posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	} else {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY,
						 0);
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
	}
	posix_spawn_file_actions_addchdir_np(&fa, r.cwd);
	guts_spawnattr_fresh(&attr);
	/* Anything the command starts from now on is on its side. */
	note_children(a);
	a->cmd_start = guts__proc_now_ticks();
	err = posix_spawn(&pid, prog, &fa, &attr, (char *const *)r.argv, env.v);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		reply_started(a, err == ENOENT ? GUTS_ENOTFOUND : GUTS_EIO,
			      "%s: %s", r.argv[0], strerror(err));
		goto out;
	}
	if (!has_id(a, r.id))
		guts_strvec_push(&a->ids, r.id);
	for (size_t i = 0; i < a->ids.nr; i++)
		if (!strcmp(a->ids.v[i], r.id))
			a->cmd_id = a->ids.v[i];
	a->cmd = pid;
	a->cmd_reaped = 0;
	a->terminating = 0;
	reply_started(a, 0, "started");
out:
	guts_strvec_release(&env);
	free(prog);
	free((void *)r.argv);
	free((void *)r.envp);
	guts_buf_reset(&a->req);
	a->req_too_big = 0;
}

/* ---- the request loop ---- */

static void close_all(struct agent *a, int say_bye)
{
	struct sbx_bye m = {SBX_BYE, 0};

	a->nr_killed = 0;
	if (a->pidns)
		kill_namespace(a);
	else
		kill_until_quiet(a, SEL_ALL);
	m.killed = (uint32_t)a->nr_killed;
	if (say_bye)
		send_msg(a, &m, sizeof(m));
}

/* One message from the executor; 1 when the agent is to exit. */
static int handle_message(struct agent *a)
{
	static char buf[SBX_CHUNK + 64];
	uint32_t type;
	ssize_t n;
	int fd;

	n = guts__sbx_recv(a->sock, buf, sizeof(buf), &fd, NULL, MSG_DONTWAIT);
	if (n == -EAGAIN)
		return 0;
	if (n <= 0) {
		/* The executor is gone: leave nothing behind. */
		close_all(a, 0);
		return 1;
	}
	if ((size_t)n < sizeof(type)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	memcpy(&type, buf, sizeof(type));
	switch (type) {
	case SBX_START_DATA:
	case SBX_START:
		if (!a->req_too_big &&
		    guts_buf_add(&a->req, buf + sizeof(type),
				 (size_t)n - sizeof(type)) < 0)
			a->req_too_big = 1;
		if (type == SBX_START)
			start_command(a, fd);
		break;
	case SBX_TERM:
		if ((size_t)n >= sizeof(struct sbx_term)) {
			struct sbx_term t;

			memcpy(&t, buf, sizeof(t));
			term_begin(a, t.grace_ms);
		}
		break;
	case SBX_CLOSE:
		close_all(a, 1);
		return 1;
	default:
		break;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

static int serve(struct agent *a)
{
	for (;;) {
		struct pollfd pfd[2] = {{a->sock, POLLIN, 0},
					{a->sigfd, POLLIN, 0}};
		int timeout = -1;

		if (a->terminating) {
			int64_t left = a->deadline - guts__sbx_now_ms();

			timeout = left > 0 ? (int)left : 0;
			if (a->cmd_reaped && timeout > TERM_POLL_MS)
				timeout = TERM_POLL_MS;
		}
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			return 1;
		if (pfd[1].revents) {
			struct signalfd_siginfo si;

			while (read(a->sigfd, &si, sizeof(si)) > 0)
				;
			reap_children(a);
		}
		if (pfd[0].revents && handle_message(a))
			return 0;
		if (a->cmd && a->terminating)
			term_tick(a);
		else if (a->cmd && a->cmd_reaped)
			finish_command(a);
	}
}

static void set_limit(int resource, uint64_t v)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) < 0)
		return;
	/* Without privilege the hard limit cannot go up: stay under it. */
	if (rl.rlim_max != RLIM_INFINITY && v > rl.rlim_max)
		v = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = (rlim_t)v;
	setrlimit(resource, &rl);
}

static void apply_config(const struct sbx_config *c)
{
	struct rlimit none = {0, 0};

	setrlimit(RLIMIT_CORE, &none);
	if (c->file_size)
		set_limit(RLIMIT_FSIZE, c->file_size);
	if (c->nofile)
		set_limit(RLIMIT_NOFILE, c->nofile);
	if (c->nproc)
		set_limit(RLIMIT_NPROC, c->nproc);
	if (c->address_space)
		set_limit(RLIMIT_AS, c->address_space);
}

static int wait_message(int sock, void *buf, size_t cap, uint32_t want)
{
	ssize_t n = guts__sbx_recv(sock, buf, cap, NULL, NULL, 0);
	uint32_t type;

	if (n < (ssize_t)sizeof(type))
		return -1;
	memcpy(&type, buf, sizeof(type));
	return type == want ? (int)n : -1;
}

static int parse_int(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int guts_sandbox_agent_main(int argc, char **argv)
{
	struct agent a = {0};
	struct sbx_config cfg;
	struct sbx_hello hello = {SBX_HELLO, 0};
	long sock = -1;
	int inner = 0, rc = 1;
	sigset_t chld;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--inner"))
			inner = 1;
		else if (!strcmp(argv[i], "--fd") && i + 1 < argc)
			parse_int(argv[++i], 1 << 20, &sock);
	}
	if (sock < 3) {
		fprintf(stderr, "%s: run by guts only\n",
			GUTS_SANDBOX_AGENT_ARG);
		return 2;
	}
	/*
	 * No PR_SET_PDEATHSIG: it fires when the executor *thread* that
	 * spawned us ends, and SIGKILL leaves the commands behind.  When the
	 * executor goes, the socket reads end of file, and we clean up.
	 */
	if (inner)
		close(SBX_EXE_FD);
	/* Nothing the executor or bwrap leaked reaches a command. */
	close_range((unsigned)sock + 1, ~0U, CLOSE_RANGE_CLOEXEC);
	if (sock > 3)
		close_range(3, (unsigned)sock - 1, CLOSE_RANGE_CLOEXEC);
	fcntl((int)sock, F_SETFD, FD_CLOEXEC);
	/* A write to a closed stderr must not kill us before we clean up. */
	signal(SIGPIPE, SIG_IGN);

	if (wait_message((int)sock, &cfg, sizeof(cfg), SBX_CONFIG) !=
	    (int)sizeof(cfg))
		return 1;
	apply_config(&cfg);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);

	a.sock = (int)sock;
	a.self = getpid();
	/*
	 * "Kill everything but init and us" is only for bwrap's pid
	 * namespace: make sure that is where we are.
	 */
	a.pidns = inner && a.self == 2 && getppid() == 1;
	a.sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	guts_buf_init(&a.req, SBX_START_MAX);
	guts_buf_init(&a.scratch, 0);
	if (a.sigfd < 0) {
		fprintf(stderr, "sandbox agent: signalfd: %s\n",
			strerror(errno));
		goto out;
	}
	/* The executor learns our pid (as it sees it) from the message. */
	hello.pidns = a.pidns;
	if (send_msg(&a, &hello, sizeof(hello)) < 0)
		goto out;
	rc = serve(&a);
out:
	if (a.sigfd >= 0)
		close(a.sigfd);
	close(a.sock);
	guts_strvec_release(&a.ids);
	guts_buf_release(&a.req);
	guts_buf_release(&a.scratch);
	guts__proctab_release(&a.tab);
	free(a.killed);
	free(a.before);
	return rc;
}
