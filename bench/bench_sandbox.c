/*
 * Sandbox costs, against baselines measured in the same run:
 *
 *  - per job: open() + start(`true`) + reap + close() of a bubblewrap
 *    sandbox, against posix_spawn() of a bare `bwrap --ro-bind / /
 *    --unshare-pid true` and waitpid().  Target: at most 1.3x.  A job
 *    runs at least one process more than that baseline (the command);
 *    bwrap running `sh -c '/bin/true; :'` is printed as the floor.
 *  - per command in an open sandbox (without and with bubblewrap):
 *    start(`sh -c true`) + reap, against posix_spawn() of `sh -c true`
 *    and waitpid().  Target: at most 2x; this is the floor of the
 *    executor's overhead per step.
 *
 * The agent is this binary (main() dispatches it).
 */
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guts/error.h"
#include "guts/alloc.h"
#include "guts/sandbox.h"
#include "banned.h"

#define JOBS 40
#define COMMANDS 200

extern char **environ;

static const char *const env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", NULL};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int spawn_wait(char *const argv[])
{
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ))
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		;
	return st == 0 ? 0 : -1;
}

static int run(struct guts_sandbox *sb, const char *const *argv)
{
	struct guts_sandbox_cmd cmd = {argv, env, "/", "bench", -1};
	struct guts_sandbox_exit ex;
	struct pollfd p = {guts_sandbox_event_fd(sb), POLLIN, 0};
	int rc;

	if (guts_sandbox_start(sb, &cmd) < 0)
		return -1;
	do {
		poll(&p, 1, -1);
		rc = guts_sandbox_reap(sb, &ex);
	} while (rc == 0);
	return rc == 1 && ex.wstatus == 0 ? 0 : -1;
}

static void fail(const char *what)
{
	fprintf(stderr, "bench_sandbox: %s: %s\n", what, guts_error_message());
	exit(1);
}

/*
 * The agent `guts exec` uses: build/bin/guts-sandbox-agent beside the
 * built guts, else this program.
 */
static const char *agent_path(void)
{
	static char *path;
	static int done;

	if (!done) {
		char *self = realpath("/proc/self/exe", NULL);
		char *slash = self ? strrchr(self, '/') : NULL;

		done = 1;
		if (slash) {
			*slash = 0;
			path = guts_xasprintf("%s/../bin/guts-sandbox-agent",
					      self);
			if (access(path, X_OK) < 0) {
				free(path);
				path = NULL;
			}
		}
		free(self);
		printf("agent: %s\n", path ? path : "this program");
	}
	return path;
}

static struct guts_sandbox *open_sb(int isolate)
{
	struct guts_sandbox_opts o;
	struct guts_sandbox *sb;

	memset(&o, 0, sizeof(o));
	o.agent_path = agent_path();
	o.isolate = isolate;
	o.require_isolation = isolate;
	o.workspace = "/tmp";
	o.name = "bench";
	if (guts_sandbox_open(&sb, &o) < 0)
		fail("open");
	return sb;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/*
 * The machine is shared: baseline and sandbox runs alternate, and the
 * medians are compared, so that load hits both alike.
 */
static void per_job(void)
{
	char *bwrap[] = {"bwrap",	  "--ro-bind", "/", "/",
			 "--unshare-pid", "true",      NULL};
	/* The same with one more process, as a job has: sh forks true. */
	char *one_more[] = {"bwrap", "--ro-bind",     "/",
			    "/",     "--unshare-pid", "sh",
			    "-c",    "/bin/true; :",  NULL};
	const char *true_argv[] = {"true", NULL};
	double base[JOBS], least[JOBS], total[JOBS], t_open[JOBS], t_cmd[JOBS],
	    t_close[JOBS];

	if (spawn_wait(bwrap) < 0) {
		printf("sandbox per job: skipped, `bwrap --ro-bind / / "
		       "--unshare-pid true` does not work here\n");
		return;
	}
	guts_sandbox_close(open_sb(1), NULL);
	for (int i = 0; i < JOBS; i++) {
		struct guts_sandbox *sb;
		double t0 = now(), t1, t2, t3;

		spawn_wait(bwrap);
		t1 = now();
		base[i] = t1 - t0;
		spawn_wait(one_more);
		least[i] = now() - t1;
		t1 = now();
		sb = open_sb(1);
		t2 = now();
		if (run(sb, true_argv) < 0)
			fail("run");
		t3 = now();
		guts_sandbox_close(sb, NULL);
		t_open[i] = t2 - t1;
		t_cmd[i] = t3 - t2;
		t_close[i] = now() - t3;
		total[i] = now() - t1;
	}
	printf("sandbox per job (%d jobs, medians): open + start(true) + "
	       "reap + close\n",
	       JOBS);
	printf("  baseline bwrap --ro-bind / / --unshare-pid true: %6.2f "
	       "ms\n",
	       median(base, JOBS) * 1e3);
	printf("  sandbox:                                         %6.2f ms "
	       "(open %.2f, command %.2f, close %.2f)\n",
	       median(total, JOBS) * 1e3, median(t_open, JOBS) * 1e3,
	       median(t_cmd, JOBS) * 1e3, median(t_close, JOBS) * 1e3);
	printf("  ratio: %.2fx (target <= 1.3x)\n",
	       median(total, JOBS) / median(base, JOBS));
	printf("  floor, the same bwrap running one more process (sh -c "
	       "'/bin/true; :'): %.2f ms, %.2fx\n",
	       median(least, JOBS) * 1e3,
	       median(least, JOBS) / median(base, JOBS));
}

static void per_command(int isolate)
{
	char *sh[] = {"sh", "-c", "true", NULL};
	const char *sh_argv[] = {"sh", "-c", "true", NULL};
	struct guts_sandbox *sb = open_sb(isolate);
	static double base[COMMANDS], sbx[COMMANDS];

	run(sb, sh_argv);
	spawn_wait(sh);
	for (int i = 0; i < COMMANDS; i++) {
		double t0 = now(), t1;

		spawn_wait(sh);
		t1 = now();
		if (run(sb, sh_argv) < 0)
			fail("run");
		base[i] = t1 - t0;
		sbx[i] = now() - t1;
	}
	printf("per command, %s (%d x sh -c true, medians)\n",
	       isolate ? "bubblewrap" : "no sandbox", COMMANDS);
	printf("  baseline posix_spawn + waitpid: %6.3f ms\n",
	       median(base, COMMANDS) * 1e3);
	printf("  sandbox start + reap:           %6.3f ms\n",
	       median(sbx, COMMANDS) * 1e3);
	printf("  ratio: %.2fx (target <= 2x)\n",
	       median(sbx, COMMANDS) / median(base, COMMANDS));
	guts_sandbox_close(sb, NULL);
}

int main(int argc, char **argv)
{
	struct guts_sandbox *sb;
	int have_bwrap;

	if (argc > 1 && !strcmp(argv[1], GUTS_SANDBOX_AGENT_ARG))
		return guts_sandbox_agent_main(argc, argv);
	sb = open_sb(0);
	printf("%s\n", guts_sandbox_describe(sb));
	guts_sandbox_close(sb, NULL);
	{
		char *probe[] = {"bwrap", "--ro-bind", "/", "/", "true", NULL};

		have_bwrap = spawn_wait(probe) == 0;
	}
	per_job();
	per_command(0);
	if (have_bwrap)
		per_command(1);
	else
		printf("per command, bubblewrap: skipped (bwrap does not "
		       "work here)\n");
	return 0;
}
