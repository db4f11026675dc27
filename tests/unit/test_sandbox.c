/*
 * Unit tests for the per-job sandbox, against real processes: every test
 * runs without isolation and, where `bwrap --ro-bind / / true` works,
 * inside bubblewrap.  The agent is this test binary itself (main()
 * dispatches GUTS_SANDBOX_AGENT_ARG), found through /proc/self/exe.
 *
 * Processes are looked for from the outside by the tracking id in their
 * environment, so that a test sees what really is left running.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guts/buf.h"
#include "guts/error.h"
#include "guts/sandbox.h"

extern char **environ;

struct mode {
	int isolate;
	const char *name;
};

static const struct mode plain = {0, "no isolation"};
static const struct mode isolated = {1, "bubblewrap"};

static int bwrap_works;
static unsigned id_counter;
static char workdir[256];

static const char *const base_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin",
				       "LC_ALL=C", NULL};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void new_id(char *buf, size_t size)
{
	snprintf(buf, size, "sbtest-%d-%u", (int)getpid(), ++id_counter);
}

/* Skips (returns 1) when @m needs bubblewrap and it does not work here. */
static int skip_mode(const struct mode *m)
{
	if (m->isolate && !bwrap_works) {
		print_message("skipped: `bwrap --ro-bind / / true` fails on "
			      "this machine\n");
		return 1;
	}
	return 0;
}

static struct guts_sandbox_opts default_opts(const struct mode *m)
{
	struct guts_sandbox_opts o;

	memset(&o, 0, sizeof(o));
	o.isolate = m->isolate;
	o.require_isolation = m->isolate;
	o.workspace = workdir;
	o.name = "unit";
	return o;
}

/* Sandboxes a failed test left open, for teardown() to close. */
static struct guts_sandbox *open_sbs[8];

static void track(struct guts_sandbox *sb, struct guts_sandbox *untrack)
{
	for (size_t i = 0; i < sizeof(open_sbs) / sizeof(open_sbs[0]); i++)
		if (open_sbs[i] == untrack) {
			open_sbs[i] = sb;
			return;
		}
}

static struct guts_sandbox *open_with(const struct guts_sandbox_opts *o)
{
	struct guts_sandbox *sb = NULL;
	int rc = guts_sandbox_open(&sb, o);

	if (rc < 0)
		print_error("guts_sandbox_open: %s\n", guts_error_message());
	assert_int_equal(rc, 0);
	assert_non_null(sb);
	track(sb, NULL);
	assert_int_equal(guts_sandbox_isolated(sb), o->isolate);
	return sb;
}

static int close_sb(struct guts_sandbox *sb, size_t *leftover)
{
	track(NULL, sb);
	return guts_sandbox_close(sb, leftover);
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(open_sbs) / sizeof(open_sbs[0]); i++)
		if (open_sbs[i]) {
			guts_sandbox_close(open_sbs[i], NULL);
			open_sbs[i] = NULL;
		}
	return 0;
}

static struct guts_sandbox *open_mode(const struct mode *m)
{
	struct guts_sandbox_opts o = default_opts(m);

	return open_with(&o);
}

/* Start `sh -c @script`; the read end of its output pipe in *out_r. */
static int start_sh(struct guts_sandbox *sb, const char *script, const char *id,
		    int *out_r)
{
	const char *argv[] = {"sh", "-c", script, NULL};
	struct guts_sandbox_cmd cmd = {argv, base_env, workdir, id, -1};
	int p[2], rc;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	cmd.out_fd = p[1];
	rc = guts_sandbox_start(sb, &cmd);
	close(p[1]);
	if (rc < 0) {
		print_error("start: %s\n", guts_error_message());
		close(p[0]);
		return rc;
	}
	*out_r = p[0];
	return 0;
}

/*
 * Wait for the command's end, collecting its output; fails the test after
 * @timeout_ms.  The pipe is only drained, not read to its end: background
 * processes may hold it open.
 */
static void wait_exit(struct guts_sandbox *sb, int out_r,
		      struct guts_sandbox_exit *ex, struct guts_buf *out,
		      int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	int rc = 0, open_r = out_r >= 0;

	while (rc == 0) {
		struct pollfd p[2] = {{guts_sandbox_event_fd(sb), POLLIN, 0},
				      {open_r ? out_r : -1, POLLIN, 0}};
		int64_t left = end - now_ms();

		assert_true(left > 0);
		poll(p, 2, (int)left);
		if (p[1].revents) {
			char buf[4096];
			ssize_t n = read(out_r, buf, sizeof(buf));

			if (n > 0 && out)
				guts_buf_add(out, buf, (size_t)n);
			if (n <= 0)
				open_r = 0;
		}
		if (p[0].revents)
			rc = guts_sandbox_reap(sb, ex);
	}
	if (rc < 0)
		print_error("reap: %s\n", guts_error_message());
	assert_int_equal(rc, 1);
	if (out_r >= 0) {
		fcntl(out_r, F_SETFL, O_NONBLOCK);
		for (;;) {
			char buf[4096];
			ssize_t n = read(out_r, buf, sizeof(buf));

			if (n <= 0)
				break;
			if (out)
				guts_buf_add(out, buf, (size_t)n);
		}
		close(out_r);
	}
}

/* Run `sh -c @script` to its end; its output in @out (when not NULL). */
static struct guts_sandbox_exit run_sh(struct guts_sandbox *sb,
				       const char *script, struct guts_buf *out)
{
	struct guts_sandbox_exit ex;
	char id[64];
	int r = -1;

	new_id(id, sizeof(id));
	assert_int_equal(start_sh(sb, script, id, &r), 0);
	wait_exit(sb, r, &ex, out, 10000);
	return ex;
}

static int exited_with(const struct guts_sandbox_exit *ex, int code)
{
	return WIFEXITED(ex->wstatus) && WEXITSTATUS(ex->wstatus) == code;
}

/* Live (not zombie) processes started with GUTS_TRACKING_ID=@id. */
static int count_with_id(const char *id)
{
	char want[128], path[300], buf[1 << 16];
	struct dirent *de;
	int count = 0;
	DIR *d = opendir("/proc");

	snprintf(want, sizeof(want), "GUTS_TRACKING_ID=%s", id);
	assert_non_null(d);
	while ((de = readdir(d))) {
		const char *close_paren;
		ssize_t n;
		int fd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		close_paren = strrchr(buf, ')');
		if (!close_paren || close_paren[2] == 'Z')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/environ", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
			if (!strcmp(buf + i, want)) {
				count++;
			}
	}
	closedir(d);
	return count;
}

/*
 * count_with_id() once it is @want, or after a second: a process in the
 * middle of execve() shows an empty environment for a moment.
 */
static int settled_count(const char *id, int want)
{
	int64_t until = now_ms() + 1000;
	int n;

	while ((n = count_with_id(id)) != want && now_ms() < until)
		sleep_ms(2);
	return n;
}

/*
 * count_with_id() once it is at least @least and the same twice in a row,
 * 20 ms apart (a process between fork() and execve() counts, and then not,
 * for a moment), or after three seconds.
 */
static int stable_count(const char *id, int least)
{
	int64_t until = now_ms() + 3000;
	int n = count_with_id(id), prev = -1;

	while ((n < least || n != prev) && now_ms() < until) {
		prev = n;
		sleep_ms(20);
		n = count_with_id(id);
	}
	return n;
}

static char *read_text(const char *path)
{
	static char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* ---- tests ---- */

static void test_sandbox__reports_exit_status_and_captures_output(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_exit ex;
	struct guts_buf out;
	struct guts_sandbox *sb;
	size_t left = 99;

	if (skip_mode(m))
		return;
	sb = open_mode(m);
	guts_buf_init(&out, 0);
	ex = run_sh(sb, "echo hello; echo oops >&2; exit 3", &out);
	assert_true(exited_with(&ex, 3));
	assert_false(ex.terminated);
	assert_string_equal(out.data, "hello\noops\n");

	/* The next command of the job runs in the same sandbox. */
	guts_buf_reset(&out);
	ex = run_sh(sb, "echo \"$GUTS_TRACKING_ID\" | cut -c1-7; pwd", &out);
	assert_true(exited_with(&ex, 0));
	assert_non_null(strstr(out.data, "sbtest-\n"));
	assert_non_null(strstr(out.data, workdir));
	assert_int_equal(close_sb(sb, &left), 0);
	assert_int_equal(left, 0);
	guts_buf_release(&out);
}

static void test_sandbox__passes_a_large_environment_whole(void **state)
{
	const struct mode *m = *state;
	const char *argv[] = {
	    "sh", "-c", "printf %s \"$BIG\" | wc -c; echo \"$LAST\"", NULL};
	const char *envp[] = {base_env[0], NULL, "LAST=end", NULL};
	struct guts_sandbox_cmd cmd = {argv, envp, workdir, NULL, -1};
	struct guts_sandbox_exit ex;
	struct guts_sandbox *sb;
	struct guts_buf big, out;
	char id[64];
	int p[2];

	if (skip_mode(m))
		return;
	new_id(id, sizeof(id));
	cmd.tracking_id = id;
	/* Several times the 32 KiB of one message. */
	guts_buf_init(&big, 0);
	guts_buf_adds(&big, "BIG=");
	for (int i = 0; i < 100000; i++)
		guts_buf_addch(&big, (char)('a' + i % 26));
	envp[1] = big.data;
	guts_buf_init(&out, 0);
	sb = open_mode(m);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	cmd.out_fd = p[1];
	assert_int_equal(guts_sandbox_start(sb, &cmd), 0);
	close(p[1]);
	wait_exit(sb, p[0], &ex, &out, 10000);
	assert_true(exited_with(&ex, 0));
	assert_string_equal(out.data, "100000\nend\n");

	/* A closed output descriptor is the caller's mistake, not fatal. */
	cmd.out_fd = p[1];
	assert_int_equal(guts_sandbox_start(sb, &cmd), GUTS_EINVAL);
	ex = run_sh(sb, "exit 0", NULL);
	assert_true(exited_with(&ex, 0));
	assert_int_equal(close_sb(sb, NULL), 0);
	guts_buf_release(&big);
	guts_buf_release(&out);
}

static void test_sandbox__start_names_a_missing_program_or_cwd(void **state)
{
	const struct mode *m = *state;
	const char *missing[] = {"no-such-program-guts", NULL};
	const char *sh[] = {"sh", "-c", "exit 0", NULL};
	const char *no_path_env[] = {"PATH=/nonexistent", NULL};
	struct guts_sandbox_cmd cmd = {missing, base_env, workdir, "sbtest-x",
				       -1};
	struct guts_sandbox_exit ex;
	struct guts_sandbox *sb;

	if (skip_mode(m))
		return;
	sb = open_mode(m);
	assert_int_equal(guts_sandbox_start(sb, &cmd), GUTS_ENOTFOUND);
	assert_string_equal(guts_error_message(),
			    "no-such-program-guts: not found in PATH");

	/* The PATH searched is the command's own. */
	cmd.argv = sh;
	cmd.envp = no_path_env;
	assert_int_equal(guts_sandbox_start(sb, &cmd), GUTS_ENOTFOUND);
	assert_string_equal(guts_error_message(), "sh: not found in PATH");

	cmd.envp = base_env;
	cmd.cwd = "/nonexistent-guts-dir";
	assert_int_equal(guts_sandbox_start(sb, &cmd), GUTS_EINVAL);
	assert_string_equal(guts_error_message(),
			    "working-directory /nonexistent-guts-dir: No such "
			    "file or directory");

	/* Nothing started, and the sandbox still works. */
	ex = run_sh(sb, "exit 7", NULL);
	assert_true(exited_with(&ex, 7));
	assert_int_equal(close_sb(sb, NULL), 0);
}

static void
test_sandbox__terminate_kills_the_tree_with_setsid_grandchildren(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_exit ex;
	struct guts_buf out, script;
	struct guts_sandbox *sb;
	char id[64], pidfile[512], *pid = NULL;
	int64_t until;
	int r = -1;

	if (skip_mode(m))
		return;
	sb = open_mode(m);
	guts_buf_init(&out, 0);
	guts_buf_init(&script, 0);
	snprintf(pidfile, sizeof(pidfile), "%s/grandchild.pid", workdir);
	unlink(pidfile);
	guts_buf_addf(&script,
		      "setsid sh -c 'echo $$ > %s.tmp; mv %s.tmp %s; "
		      "sleep 1000' & sleep 1000",
		      pidfile, pidfile, pidfile);
	new_id(id, sizeof(id));
	assert_int_equal(start_sh(sb, script.data, id, &r), 0);
	for (until = now_ms() + 5000; now_ms() < until; sleep_ms(5))
		if ((pid = read_text(pidfile)))
			break;
	assert_non_null(pid);
	if (pid)
		pid[strcspn(pid, "\n")] = '\0';
	/* sh, sleep, the setsid'd sh and its sleep. */
	assert_int_equal(settled_count(id, 4), 4);

	assert_int_equal(guts_sandbox_terminate(sb, 200), 0);
	wait_exit(sb, r, &ex, NULL, 5000);
	assert_true(ex.terminated);
	assert_true(WIFSIGNALED(ex.wstatus));
	assert_int_equal(count_with_id(id), 0);

	/* The grandchild, by its pid, as the sandbox sees it. */
	guts_buf_reset(&script);
	guts_buf_addf(&script,
		      "kill -0 %s 2>/dev/null && echo alive || "
		      "echo gone",
		      pid);
	ex = run_sh(sb, script.data, &out);
	assert_string_equal(out.data, "gone\n");
	assert_int_equal(close_sb(sb, NULL), 0);
	unlink(pidfile);
	guts_buf_release(&out);
	guts_buf_release(&script);
}

static void
test_sandbox__sigterm_ignored_means_sigkill_after_grace(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_exit ex;
	struct guts_sandbox *sb;
	struct guts_buf out;
	char id[64];
	int64_t t0, took;
	int r = -1;

	if (skip_mode(m))
		return;
	sb = open_mode(m);
	guts_buf_init(&out, 0);
	new_id(id, sizeof(id));
	assert_int_equal(start_sh(sb,
				  "trap '' TERM; echo ready; "
				  "while :; do sleep 0.05; done",
				  id, &r),
			 0);
	/* Wait for the trap to be set. */
	{
		char c;

		assert_int_equal(read(r, &c, 1), 1);
	}
	t0 = now_ms();
	assert_int_equal(guts_sandbox_terminate(sb, 200), 0);
	wait_exit(sb, r, &ex, &out, 5000);
	took = now_ms() - t0;
	assert_true(ex.terminated);
	assert_true(WIFSIGNALED(ex.wstatus));
	assert_int_equal(WTERMSIG(ex.wstatus), SIGKILL);
	assert_true(took >= 190);
	assert_true(took < 3000);
	assert_int_equal(count_with_id(id), 0);
	assert_int_equal(close_sb(sb, NULL), 0);
	guts_buf_release(&out);
}

static void
test_sandbox__terminate_spares_what_earlier_commands_left(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_exit ex;
	struct guts_sandbox *sb;
	char first[64], second[64];
	size_t left = 0;
	int r = -1;

	if (skip_mode(m))
		return;
	sb = open_mode(m);
	new_id(first, sizeof(first));
	assert_int_equal(start_sh(sb, "sleep 1000 & exit 0", first, &r), 0);
	wait_exit(sb, r, &ex, NULL, 5000);
	assert_true(exited_with(&ex, 0));
	assert_int_equal(settled_count(first, 1), 1);

	new_id(second, sizeof(second));
	assert_int_equal(start_sh(sb, "sleep 1000 & sleep 1000", second, &r),
			 0);
	assert_int_equal(guts_sandbox_terminate(sb, 200), 0);
	wait_exit(sb, r, &ex, NULL, 5000);
	assert_true(ex.terminated);
	assert_int_equal(count_with_id(second), 0);
	assert_int_equal(count_with_id(first), 1);

	/* close() is what ends the job's background processes. */
	assert_int_equal(close_sb(sb, &left), 0);
	assert_true(left >= 1);
	assert_int_equal(count_with_id(first), 0);
}

static void test_sandbox__close_kills_background_processes(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_exit ex;
	struct guts_sandbox *sb;
	struct guts_buf out;
	char id[64];
	size_t left = 0;
	long bg;
	int r = -1;

	if (skip_mode(m))
		return;
	sb = open_mode(m);
	guts_buf_init(&out, 0);
	new_id(id, sizeof(id));
	/* One plain, one that left the session: both must go. */
	assert_int_equal(start_sh(sb,
				  "sleep 1000 & echo $!; "
				  "setsid sleep 1000 & exit 0",
				  id, &r),
			 0);
	wait_exit(sb, r, &ex, &out, 5000);
	assert_true(exited_with(&ex, 0));
	bg = strtol(out.data, NULL, 10);
	assert_true(bg > 0);
	assert_int_equal(settled_count(id, 2), 2);
	ex = run_sh(sb, "true", NULL);

	assert_int_equal(close_sb(sb, &left), 0);
	assert_true(left >= 2);
	assert_int_equal(count_with_id(id), 0);
	if (!m->isolate) {
		/* Without a pid namespace the pid is ours to check. */
		char path[64], *st;

		snprintf(path, sizeof(path), "/proc/%ld/stat", bg);
		st = read_text(path);
		assert_true(!st || strstr(st, ") Z "));
	}
	guts_buf_release(&out);
}

static void test_sandbox__exit_is_reported_after_stdout_closes(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_exit ex;
	struct guts_sandbox *sb;
	char id[64], c;
	int64_t t0;
	int r = -1;

	if (skip_mode(m))
		return;
	sb = open_mode(m);
	new_id(id, sizeof(id));
	t0 = now_ms();
	assert_int_equal(
	    start_sh(sb, "exec >&- 2>&-; sleep 0.3; exit 5", id, &r), 0);
	/* End of file on the output long before the command ends... */
	assert_int_equal(read(r, &c, 1), 0);
	assert_true(now_ms() - t0 < 250);
	/* ...and its exit is still reported. */
	wait_exit(sb, r, &ex, NULL, 5000);
	assert_true(exited_with(&ex, 5));
	assert_true(now_ms() - t0 >= 290);
	assert_int_equal(close_sb(sb, NULL), 0);
}

static void test_sandbox__pids_limit_stops_a_fork_bomb(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_opts o = default_opts(m);
	struct guts_sandbox_exit ex;
	struct guts_sandbox *sb;
	struct guts_buf out;
	char id[64];
	size_t left = 0;
	int r = -1;

	if (skip_mode(m))
		return;
	o.limits.pids = 64;
	sb = open_with(&o);
	if (!strstr(guts_sandbox_describe(sb), "pids 64")) {
		print_message("skipped: no pids cgroup here (%s)\n",
			      guts_sandbox_describe(sb));
		close_sb(sb, NULL);
		return;
	}
	guts_buf_init(&out, 0);
	new_id(id, sizeof(id));
	/* dash gives up on the first fork that fails. */
	assert_int_equal(start_sh(sb,
				  "i=0; while [ $i -lt 300 ]; do "
				  "sleep 1000 & i=$((i+1)); done; wait",
				  id, &r),
			 0);
	wait_exit(sb, r, &ex, &out, 10000);
	assert_false(exited_with(&ex, 0));
	assert_true(ex.pids_limited);
	assert_false(ex.oom_killed);
	/* At most the limit, less the agent (and bwrap), ever ran. */
	assert_true(count_with_id(id) < 64);
	assert_int_equal(close_sb(sb, &left), 0);
	assert_true(left > 10);
	assert_int_equal(count_with_id(id), 0);

	/* The machine is fine: a fresh sandbox runs commands. */
	sb = open_mode(m);
	ex = run_sh(sb, "true", NULL);
	assert_true(exited_with(&ex, 0));
	assert_false(ex.pids_limited);
	assert_int_equal(close_sb(sb, NULL), 0);
	guts_buf_release(&out);
}

static void test_sandbox__memory_limit_stops_a_memory_hog(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_opts o = default_opts(m);
	struct guts_sandbox_exit ex;
	struct guts_sandbox *sb;

	if (skip_mode(m))
		return;
	o.limits.memory = 64ULL << 20;
	sb = open_with(&o);
	if (!strstr(guts_sandbox_describe(sb), "memory 64.0 MiB")) {
		print_message("skipped: no memory cgroup here (%s)\n",
			      guts_sandbox_describe(sb));
		close_sb(sb, NULL);
		return;
	}
	/* tail keeps the one endless line in memory. */
	ex = run_sh(sb, "head -c 200M /dev/zero | tail > /dev/null", NULL);
	assert_false(exited_with(&ex, 0));
	assert_true(ex.oom_killed);

	/* A small command in the same sandbox is fine. */
	ex = run_sh(sb, "head -c 8M /dev/zero | tail > /dev/null", NULL);
	assert_true(exited_with(&ex, 0));
	assert_false(ex.oom_killed);
	assert_int_equal(close_sb(sb, NULL), 0);
}

static void test_sandbox__network_none_cuts_off_the_network(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_opts o = default_opts(m);
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct guts_sandbox_exit ex;
	struct guts_sandbox *sb;
	char script[128];
	int lfd;

	if (skip_mode(m))
		return;
	if (!m->isolate) {
		print_message("skipped: only bubblewrap has a network "
			      "namespace\n");
		return;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	snprintf(script, sizeof(script),
		 "exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d' 2>/dev/null",
		 ntohs(sa.sin_port));

	o.network_none = 1;
	sb = open_with(&o);
	assert_non_null(strstr(guts_sandbox_describe(sb), "no network"));
	ex = run_sh(sb, script, NULL);
	assert_false(exited_with(&ex, 0));
	assert_int_equal(close_sb(sb, NULL), 0);

	o.network_none = 0;
	sb = open_with(&o);
	ex = run_sh(sb, script, NULL);
	assert_true(exited_with(&ex, 0));
	assert_int_equal(close_sb(sb, NULL), 0);
	close(lfd);
}

static void test_sandbox__isolation_protects_the_host_files(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_exit ex;
	struct guts_sandbox *sb;
	struct guts_buf script;
	char tmpfile[128], wsfile[512];
	struct stat st;

	if (skip_mode(m))
		return;
	if (!m->isolate) {
		print_message("skipped: nothing is isolated without "
			      "bubblewrap\n");
		return;
	}
	sb = open_mode(m);
	guts_buf_init(&script, 0);
	snprintf(tmpfile, sizeof(tmpfile), "/tmp/guts-sbtest-%d",
		 (int)getpid());
	snprintf(wsfile, sizeof(wsfile), "%s/from-the-sandbox", workdir);
	unlink(tmpfile);
	unlink(wsfile);

	/* / is read-only, root or not. */
	ex = run_sh(sb, "touch /usr/guts-sbtest 2>/dev/null", NULL);
	assert_false(exited_with(&ex, 0));
	assert_int_equal(stat("/usr/guts-sbtest", &st), -1);

	/* /tmp is the sandbox's own; the workspace is shared. */
	guts_buf_addf(&script, "echo private > %s && cat %s && echo ws > %s",
		      tmpfile, tmpfile, wsfile);
	ex = run_sh(sb, script.data, NULL);
	assert_true(exited_with(&ex, 0));
	assert_int_equal(stat(tmpfile, &st), -1);
	assert_int_equal(stat(wsfile, &st), 0);
	assert_string_equal(read_text(wsfile), "ws\n");
	unlink(wsfile);
	assert_int_equal(close_sb(sb, NULL), 0);
	guts_buf_release(&script);
}

static void test_sandbox__isolation_has_its_own_pid_namespace(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_exit ex;
	struct guts_sandbox *sb;
	struct guts_buf out;
	char script[128];

	if (skip_mode(m))
		return;
	if (!m->isolate) {
		print_message("skipped: no pid namespace without bubblewrap\n");
		return;
	}
	sb = open_mode(m);
	guts_buf_init(&out, 0);
	snprintf(script, sizeof(script),
		 "echo $$; test -e /proc/%d && echo sees-host || "
		 "echo alone",
		 (int)getpid());
	ex = run_sh(sb, script, &out);
	assert_true(exited_with(&ex, 0));
	/* bwrap's init is 1, the agent 2. */
	assert_true(strtol(out.data, NULL, 10) < 10);
	if ((int)getpid() > 20)
		assert_non_null(strstr(out.data, "alone"));
	assert_int_equal(close_sb(sb, NULL), 0);
	guts_buf_release(&out);
}

static void test_sandbox__rlimits_apply_to_commands(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_opts o = default_opts(m);
	struct guts_sandbox_exit ex;
	struct guts_sandbox *sb;
	struct guts_buf out, script;
	char big[512];
	struct stat st;

	if (skip_mode(m))
		return;
	o.limits.file_size = 1 << 20;
	o.limits.nofile = 64;
	sb = open_with(&o);
	guts_buf_init(&out, 0);
	guts_buf_init(&script, 0);
	snprintf(big, sizeof(big), "%s/big", workdir);
	ex = run_sh(sb, "ulimit -n; ulimit -c", &out);
	assert_true(exited_with(&ex, 0));
	assert_string_equal(out.data, "64\n0\n");

	guts_buf_addf(&script, "head -c 2M /dev/zero > %s", big);
	ex = run_sh(sb, script.data, NULL);
	assert_false(exited_with(&ex, 0));
	assert_int_equal(stat(big, &st), 0);
	assert_int_equal(st.st_size, 1 << 20);
	unlink(big);
	assert_int_equal(close_sb(sb, NULL), 0);
	guts_buf_release(&out);
	guts_buf_release(&script);
}

static void test_sandbox__says_what_is_in_force(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_opts o = default_opts(m);
	struct guts_sandbox *sb;
	const char *d;

	if (skip_mode(m))
		return;
	o.limits.memory = 512ULL << 20;
	o.limits.pids = 256;
	o.limits.cpus = 1.5;
	o.limits.nofile = 512;
	sb = open_with(&o);
	d = guts_sandbox_describe(sb);
	print_message("%s: %s\n", m->name, d);
	if (m->isolate)
		assert_true(!strncmp(d, "sandbox: bubblewrap (", 21));
	else
		assert_true(!strncmp(d, "no sandbox (isolation off)", 26));
	assert_non_null(strstr(d, "open files 512"));
	/* Either in force or said not to be. */
	assert_true(strstr(d, "memory 512.0 MiB, pids 256, cpu 1.50") ||
		    strstr(d, "cgroup limits not applied"));
	assert_int_equal(close_sb(sb, NULL), 0);
}

static void test_sandbox__missing_bubblewrap_is_said_or_refused(void **state)
{
	struct guts_sandbox_opts o = default_opts(&isolated);
	const char *old_path = getenv("PATH");
	char *path = old_path ? strdup(old_path) : NULL;
	struct guts_sandbox *sb = NULL;
	struct guts_sandbox_exit ex;
	char msg[256];
	int rc, rc2;

	(void)state;
	setenv("PATH", "/nonexistent", 1);
	rc = guts_sandbox_open(&sb, &o);
	snprintf(msg, sizeof(msg), "%s", guts_error_message());
	o.require_isolation = 0;
	rc2 = guts_sandbox_open(&sb, &o);
	if (path)
		setenv("PATH", path, 1);
	else
		unsetenv("PATH");
	free(path);
	assert_int_equal(rc, GUTS_ENOTFOUND);
	assert_non_null(strstr(msg, "bubblewrap"));
	assert_int_equal(rc2, 0);
	track(sb, NULL);
	assert_false(guts_sandbox_isolated(sb));
	assert_true(!strncmp(guts_sandbox_describe(sb),
			     "no sandbox (bubblewrap not found)", 33));
	ex = run_sh(sb, "exit 0", NULL);
	assert_true(exited_with(&ex, 0));
	assert_int_equal(close_sb(sb, NULL), 0);
}

static void test_sandbox__the_guts_binary_is_an_agent(void **state)
{
	const struct mode *m = *state;
	struct guts_sandbox_opts o = default_opts(m);
	const char *bin = getenv("GUTS_BIN_DIR");
	struct guts_sandbox_exit ex;
	struct guts_sandbox *sb;
	struct guts_buf out;
	char path[512];

	if (skip_mode(m))
		return;
	if (!bin) {
		print_message("skipped: GUTS_BIN_DIR is not set\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/guts", bin);
	o.agent_path = path;
	sb = open_with(&o);
	guts_buf_init(&out, 0);
	ex = run_sh(sb, "echo ok", &out);
	assert_true(exited_with(&ex, 0));
	assert_string_equal(out.data, "ok\n");
	assert_int_equal(close_sb(sb, NULL), 0);
	guts_buf_release(&out);
}

static const char *find_prefix;
static int found;

static int find_fn(const char *path, const struct stat *st, int type,
		   struct FTW *ftw)
{
	(void)st;
	if (type == FTW_D &&
	    !strncmp(path + ftw->base, find_prefix, strlen(find_prefix)))
		found++;
	return 0;
}

/* How many directories under /sys/fs/cgroup start with @prefix. */
static int find_cgroup(const char *prefix)
{
	find_prefix = prefix;
	found = 0;
	nftw("/sys/fs/cgroup", find_fn, 16, FTW_PHYS);
	find_prefix = NULL;
	return found;
}

#define HELPER_ARG "--sandbox-test-executor"

/*
 * An executor that opens a sandbox, starts a command leaving a background
 * process, says "ready" and waits to be killed: argv[2] is 1 for
 * bubblewrap, argv[3] the tracking id.
 */
static int helper_main(char **argv)
{
	const struct mode *m = !strcmp(argv[2], "1") ? &isolated : &plain;
	const char *sh[] = {"sh", "-c", "sleep 1000 & sleep 1000", NULL};
	struct guts_sandbox_opts o = default_opts(m);
	struct guts_sandbox_cmd cmd = {sh, base_env, "/", argv[3], -1};
	struct guts_sandbox *sb;

	o.workspace = NULL;
	if (guts_sandbox_open(&sb, &o) < 0 ||
	    guts_sandbox_start(sb, &cmd) < 0) {
		printf("%s\n", guts_error_message());
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	pause();
	return 0;
}

static void test_sandbox__everything_dies_with_the_executor(void **state)
{
	const struct mode *m = *state;
	char *argv[] = {"/proc/self/exe", HELPER_ARG, m->isolate ? "1" : "0",
			NULL, NULL};
	posix_spawn_file_actions_t fa;
	char id[64], buf[256] = "", leaf[64];
	int p[2], st, n;
	pid_t pid;

	if (skip_mode(m))
		return;
	new_id(id, sizeof(id));
	argv[3] = id;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (read(p[0], buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	close(p[0]);
	/* sh and two sleeps (or two, with a shell that execs the last). */
	n = stable_count(id, 2);

	/* No close(): the agent sees the socket end and cleans up. */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_string_equal(buf, "ready\n");
	assert_true(n >= 2);
	assert_int_equal(settled_count(id, 0), 0);

	/*
	 * A later sandbox removes the cgroup it left, once its agent (the
	 * last process in it) is gone too.
	 */
	snprintf(leaf, sizeof(leaf), "guts-unit-%d-", (int)pid);
	for (int64_t until = now_ms() + 2000; now_ms() < until;) {
		close_sb(open_mode(&plain), NULL);
		if (!find_cgroup(leaf))
			break;
		sleep_ms(20);
	}
	assert_int_equal(find_cgroup(leaf), 0);
}

struct opener {
	const struct mode *mode;
	struct guts_sandbox *sb;
	int rc;
};

static void *open_in_thread(void *arg)
{
	struct opener *op = arg;
	struct guts_sandbox_opts o = default_opts(op->mode);

	op->rc = guts_sandbox_open(&op->sb, &o);
	return NULL;
}

static void test_sandbox__outlives_the_thread_that_opened_it(void **state)
{
	const struct mode *m = *state;
	struct opener op = {m, NULL, -1};
	struct guts_sandbox_exit ex;
	pthread_t t;

	if (skip_mode(m))
		return;
	assert_int_equal(pthread_create(&t, NULL, open_in_thread, &op), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(op.rc, 0);
	track(op.sb, NULL);
	/* PR_SET_PDEATHSIG would have struck when the thread ended. */
	sleep_ms(100);
	ex = run_sh(op.sb, "exit 4", NULL);
	assert_true(exited_with(&ex, 4));
	assert_int_equal(close_sb(op.sb, NULL), 0);
}

static int probe_bwrap(void)
{
	char *argv[] = {"bwrap", "--ro-bind", "/", "/", "true", NULL};
	posix_spawn_file_actions_t fa;
	int st = -1;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "bwrap", &fa, NULL, argv, environ) == 0)
		waitpid(pid, &st, 0);
	posix_spawn_file_actions_destroy(&fa);
	return st == 0;
}

#define BOTH(fn)                                                         \
	cmocka_unit_test_prestate_setup_teardown(fn, NULL, teardown,     \
						 (void *)&plain),        \
	    cmocka_unit_test_prestate_setup_teardown(fn, NULL, teardown, \
						     (void *)&isolated)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_sandbox__reports_exit_status_and_captures_output),
	    BOTH(test_sandbox__passes_a_large_environment_whole),
	    BOTH(test_sandbox__start_names_a_missing_program_or_cwd),
	    BOTH(
		test_sandbox__terminate_kills_the_tree_with_setsid_grandchildren),
	    BOTH(test_sandbox__sigterm_ignored_means_sigkill_after_grace),
	    BOTH(test_sandbox__terminate_spares_what_earlier_commands_left),
	    BOTH(test_sandbox__close_kills_background_processes),
	    BOTH(test_sandbox__exit_is_reported_after_stdout_closes),
	    BOTH(test_sandbox__pids_limit_stops_a_fork_bomb),
	    BOTH(test_sandbox__memory_limit_stops_a_memory_hog),
	    BOTH(test_sandbox__network_none_cuts_off_the_network),
	    BOTH(test_sandbox__isolation_protects_the_host_files),
	    BOTH(test_sandbox__isolation_has_its_own_pid_namespace),
	    BOTH(test_sandbox__rlimits_apply_to_commands),
	    BOTH(test_sandbox__says_what_is_in_force),
	    BOTH(test_sandbox__the_guts_binary_is_an_agent),
	    BOTH(test_sandbox__everything_dies_with_the_executor),
	    BOTH(test_sandbox__outlives_the_thread_that_opened_it),
	    cmocka_unit_test_teardown(
		test_sandbox__missing_bubblewrap_is_said_or_refused, teardown),
	};
	int rc;

	if (argc > 1 && !strcmp(argv[1], GUTS_SANDBOX_AGENT_ARG))
		return guts_sandbox_agent_main(argc, argv);
	if (argc > 3 && !strcmp(argv[1], HELPER_ARG))
		return helper_main(argv);
	bwrap_works = probe_bwrap();
	if (!bwrap_works)
		print_message("bubblewrap does not work here: the isolated "
			      "variants are skipped\n");
	snprintf(workdir, sizeof(workdir), "/tmp/guts-sbtest-ws-XXXXXX");
	if (!mkdtemp(workdir)) {
		perror("mkdtemp");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(workdir);
	return rc;
}
