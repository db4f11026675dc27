/*
 * Inside the sandbox module: the wire protocol between the executor
 * (sandbox.c) and the agent (agent.c), the /proc walker the agent kills
 * with (proctree.c) and the cgroup handling of the executor (cgroup.c).
 *
 * The protocol runs over a SOCK_SEQPACKET socketpair, so every message is
 * one datagram that starts with a uint32_t type.  Both ends are the same
 * binary, so the structs go over the wire as they are.
 *
 *   executor -> agent            agent -> executor
 *   CONFIG rlimits               HELLO    ready (its pid in SCM_CREDENTIALS)
 *   START_DATA* START (+fd)      STARTED  code + message, for each START
 *   TERM   grace_ms              EXIT     wstatus, terminated
 *   CLOSE                        BYE      how many processes close killed
 *
 * A start request is the payload of zero or more START_DATA messages and
 * one START, which also carries the command's output descriptor
 * (SCM_RIGHTS).  The agent reads end of file when the executor is gone,
 * and the executor when the agent (and bubblewrap) are.
 */
#ifndef GUTS_SANDBOX_INTERNAL_H
#define GUTS_SANDBOX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guts/buf.h"
#include "guts/sandbox.h"

/* The agent's socket and the descriptor bwrap runs the inner agent from. */
#define SBX_AGENT_FD 3
#define SBX_EXE_FD 4

/* The largest message payload; bigger start requests are split. */
#define SBX_CHUNK (32 * 1024)
/* The largest start request (argv, environment, cwd, tracking id). */
#define SBX_START_MAX (8u << 20)

#define SBX_TRACKING_VAR "GUTS_TRACKING_ID="

enum sbx_msg_type {
	SBX_CONFIG = 1,
	SBX_START_DATA,
	SBX_START,
	SBX_TERM,
	SBX_CLOSE,
	SBX_HELLO = 100,
	SBX_STARTED,
	SBX_EXIT,
	SBX_BYE,
};

struct sbx_config {
	uint32_t type;
	uint32_t flags;
	uint64_t file_size; /* 0 = leave each rlimit alone */
	uint64_t nofile;
	uint64_t nproc;
	uint64_t address_space;
};

struct sbx_hello {
	uint32_t type;
	int32_t pidns; /* the agent is pid 2 of its own pid namespace */
};

struct sbx_started {
	uint32_t type;
	int32_t code; /* 0 or an enum guts_err; a message follows */
	char msg[512];
};

struct sbx_exit {
	uint32_t type;
	int32_t wstatus;
	int32_t terminated;
};

struct sbx_term {
	uint32_t type;
	int32_t grace_ms;
};

struct sbx_bye {
	uint32_t type;
	uint32_t killed;
};

/*
 * Send one message, with @pass_fd attached when it is >= 0.  0 or
 * -errno.  Never raises SIGPIPE.
 */
int guts__sbx_send(int sock, const void *msg, size_t len, int pass_fd);

/*
 * Receive one message into @buf.  Its length, 0 at end of file, or
 * -errno (-EMSGSIZE when it did not fit).  A descriptor that came with it
 * is stored in *fd_out (close-on-exec) when fd_out is not NULL, and
 * closed otherwise; *fd_out is -1 when there was none.  *pid_out (when
 * not NULL) is the sender's pid in our pid namespace from
 * SCM_CREDENTIALS (SO_PASSCRED must be on), or 0.
 */
ssize_t guts__sbx_recv(int sock, void *buf, size_t cap, int *fd_out,
		       pid_t *pid_out, int flags);

/* Milliseconds on the monotonic clock. */
int64_t guts__sbx_now_ms(void);

/* ---- /proc (the agent) ---- */

struct guts__proc {
	pid_t pid, ppid, pgrp;
	unsigned long long start; /* clock ticks after boot */
	char state;
	unsigned char mark;
};

struct guts__proctab {
	struct guts__proc *p;
	size_t nr, alloc;
};

/* Read every process in /proc (what this pid namespace can see). */
int guts__proctab_load(struct guts__proctab *t);
void guts__proctab_release(struct guts__proctab *t);

/* Now, in the clock ticks of /proc/PID/stat's start time. */
unsigned long long guts__proc_now_ticks(void);

/*
 * The value of GUTS_TRACKING_ID in the environment @pid started with, in
 * @scratch: 1 found (*value points into scratch, NUL-terminated), 0 not
 * there or unreadable.
 */
int guts__proc_tracking_id(pid_t pid, struct guts_buf *scratch,
			   const char **value);

/* ---- cgroups (the executor) ---- */

struct guts__cgroup;

struct guts__cg_events {
	unsigned long long oom_kills;
	unsigned long long pids_max;
};

/*
 * Make the job's cgroups under our own cgroup for the limits in @lim; with
 * @track, a cgroup (pids, no limit) even without limits, so that close()
 * finds every process.  Never fails: what could not be done is left out
 * and said by describe().  Free with guts__cgroup_free().
 */
struct guts__cgroup *guts__cgroup_new(const char *name,
				      const struct guts_sandbox_limits *lim,
				      int track);
/* Move @pid (the agent, before it starts anything) into every cgroup. */
void guts__cgroup_attach(struct guts__cgroup *cg, pid_t pid);
int guts__cgroup_has_memory(const struct guts__cgroup *cg);
int guts__cgroup_has_pids(const struct guts__cgroup *cg);
/* Whether any cgroup holds the job (for killing leftovers). */
int guts__cgroup_tracks(const struct guts__cgroup *cg);
void guts__cgroup_events(const struct guts__cgroup *cg,
			 struct guts__cg_events *ev);
/* SIGKILL everything in the cgroups until they are empty; how many. */
size_t guts__cgroup_kill(struct guts__cgroup *cg);
/*
 * "cgroup v1: memory 2.0 GiB, pids 512", "no cgroup limits (...)" or ""
 * when nothing was asked for.
 */
const char *guts__cgroup_describe(const struct guts__cgroup *cg);
/* Remove the cgroups (they must be empty) and free @cg. */
void guts__cgroup_free(struct guts__cgroup *cg);

/* "2.0 GiB" */
void guts__fmt_bytes(char *out, size_t size, unsigned long long n);

#endif
