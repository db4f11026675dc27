/*
 * The per-job sandbox: one per job, not one per step.  Every step of a job
 * runs inside the same sandbox, one command at a time.
 *
 * How it works.  guts_sandbox_open() posix_spawn()s an agent process (the
 * program's own binary, argv[1] == GUTS_SANDBOX_AGENT_ARG) connected by a
 * socketpair; when bubblewrap is used, it spawns bwrap, which runs the
 * agent inside the namespaces (one exec fewer than an agent that execs
 * bwrap: process creation is most of a job's sandbox cost).  The
 * agent is moved into the job's cgroups (when the cgroup tree is
 * writable) before open() returns, so before it starts anything, and
 * nothing the job ever starts is outside the cgroup.  The agent sets the
 * rlimits, makes itself a child subreaper, and posix_spawn()s each step's
 * command on request.  When the executor goes away the agent reads end of
 * file on the socket and kills what the job left (no PR_SET_PDEATHSIG nor
 * bwrap --die-with-parent: they fire when the thread that opened the
 * sandbox ends).  See docs/sandbox.md.
 *
 * Bubblewrap (when present and isolation is asked for): pid, ipc and uts
 * namespaces, a new session, all capabilities dropped, `/` read-only, a
 * private /tmp and /dev, /proc of the namespace, the workspace and the
 * extra paths read-write, a writable home, and a network namespace with only
 * loopback for `sandbox.network: none`.
 *
 * Without bubblewrap, or with isolation off, commands still run in their
 * own process group with the rlimits and cgroup limits; describe() says
 * plainly that there is no sandbox.
 *
 * Killing.  Every command gets GUTS_TRACKING_ID=<id> in its environment.
 * terminate() ends the command's whole tree: its process group, every
 * descendant (found through /proc; orphans come back to the agent, a child
 * subreaper) and every process whose environment carries the tracking id,
 * which catches a `setsid` grandchild.  SIGTERM first, SIGKILL after the
 * grace period.  close() kills everything still running in the sandbox.
 *
 * A struct guts_sandbox belongs to one thread at a time; it may move
 * between threads, and outlives the one that opened it.
 */
#ifndef GUTS_SANDBOX_H
#define GUTS_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

/* argv[1] that makes a program run guts_sandbox_agent_main(). */
#define GUTS_SANDBOX_AGENT_ARG "__sandbox-agent"

struct guts_sandbox_limits {
	unsigned long long memory;    /* bytes (cgroup); 0 = no limit */
	double cpus;		      /* CPUs (cgroup quota); 0 = no limit */
	long pids;		      /* tasks (cgroup); 0 = no limit */
	unsigned long long file_size; /* RLIMIT_FSIZE bytes; 0 = no limit */
	unsigned long nofile;	      /* RLIMIT_NOFILE; 0 = inherit */
	/* RLIMIT_NPROC fallback when there is no pids cgroup; 0 = none */
	unsigned long nproc;
	/* RLIMIT_AS fallback when there is no memory cgroup; 0 = none */
	unsigned long long address_space;
};

struct guts_sandbox_opts {
	/* The executable to run as the agent; NULL: /proc/self/exe. */
	const char *agent_path;
	/* 1: isolate with bubblewrap when it is present; 0: no sandbox. */
	int isolate;
	/* With isolate: fail instead of running unsandboxed without bwrap. */
	int require_isolation;
	const char *workspace; /* read-write inside */
	/* More directories bound read-write at the same path (job temp, ...).
	 */
	const char *const *rw_paths;
	size_t nr_rw_paths;
	/*
	 * The directory mounted read-write as $HOME inside the sandbox, or
	 * NULL for a tmpfs there.  @home_path is where ($HOME); NULL: the
	 * HOME of the calling process.
	 */
	const char *home;
	const char *home_path;
	/*
	 * Directories the job must not see (a runner's work and config
	 * directories, a node's data): each becomes an empty tmpfs, under
	 * the read-write binds above, so a job directory inside one still
	 * shows.  Paths that are not directories are skipped.
	 */
	const char *const *hidden;
	size_t nr_hidden;
	int network_none; /* sandbox.network: none */
	struct guts_sandbox_limits limits;
	/* Label used in the cgroup directory name and messages. */
	const char *name;
};

struct guts_sandbox;

/**
 * Start the sandbox (the agent, bwrap and the cgroups).  GUTS_ENOTFOUND
 * when isolation is required and bubblewrap is missing; the message says
 * so.  Limits that cannot be applied (no writable cgroup tree) are not an
 * error: describe() lists what is in force.
 */
int guts_sandbox_open(struct guts_sandbox **out,
		      const struct guts_sandbox_opts *opts);

/**
 * One line for the job log, e.g. "sandbox: bubblewrap (pid, ipc, mount
 * namespaces; no network); cgroup v1: memory 2.0 GiB, pids 512" or "no
 * sandbox (bubblewrap not found): process group and rlimits only".
 */
const char *guts_sandbox_describe(const struct guts_sandbox *sb);

/** Whether commands run inside bubblewrap. */
int guts_sandbox_isolated(const struct guts_sandbox *sb);

struct guts_sandbox_cmd {
	const char *const *argv; /* argv[0] is searched in PATH from envp */
	const char *const *envp; /* NULL-terminated */
	const char *cwd;	 /* must exist */
	const char *tracking_id; /* added as GUTS_TRACKING_ID */
	/* stdout and stderr (the write end of the caller's pipe). */
	int out_fd;
};

/**
 * Start @cmd.  Only one command runs at a time.  GUTS_ENOTFOUND when
 * argv[0] cannot be found (the message names it), GUTS_EINVAL when cwd is
 * not a directory (the message names it); the command did not start then.
 * Returns once the command has started (or failed to).
 */
int guts_sandbox_start(struct guts_sandbox *sb,
		       const struct guts_sandbox_cmd *cmd);

/** A descriptor that becomes readable when the command may have ended. */
int guts_sandbox_event_fd(const struct guts_sandbox *sb);

struct guts_sandbox_exit {
	int wstatus;	  /* as from waitpid() */
	int oom_killed;	  /* the memory limit was hit */
	int pids_limited; /* the pids limit refused a fork */
	int terminated;	  /* terminate() ended it */
};

/**
 * After event_fd() is readable: 1 and *ex filled when the command has
 * ended, 0 when not yet, or a negative guts_err (e.g. the agent died:
 * GUTS_EIO with a message).
 */
int guts_sandbox_reap(struct guts_sandbox *sb, struct guts_sandbox_exit *ex);

/**
 * End the running command's whole tree (see above): SIGTERM now, SIGKILL
 * after @grace_ms.  Asynchronous; the end is reported by reap() as usual.
 */
int guts_sandbox_terminate(struct guts_sandbox *sb, int grace_ms);

/**
 * Kill everything still running in the sandbox, background processes left
 * by earlier commands included, remove the cgroups and free @sb.
 * *leftover (when not NULL) is how many processes had to be killed.
 */
int guts_sandbox_close(struct guts_sandbox *sb, size_t *leftover);

/** The agent's entry point, for main() when argv[1] is the agent arg. */
int guts_sandbox_agent_main(int argc, char **argv);

#endif
