/*
 * The agent's view of the process tree: a snapshot of /proc (parent,
 * process group, start time and state of each process) and the tracking
 * id a process was started with.  In bubblewrap's pid namespace /proc
 * shows the job's processes only.
 */
#include "sandbox_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "banned.h"

/* An environment bigger than this is read only this far. */
#define ENVIRON_CAP (4u << 20)

static ssize_t read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static int parse_pid(const char *s, pid_t *out)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 1L << 30)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = (pid_t)v;
	return 0;
}

/* Fields 3 (state) to 22 (starttime) of /proc/PID/stat. */
static int read_stat(struct guts__proc *p)
{
	char path[64], buf[1024];
	const char *s;
	unsigned long long start;
	int ppid, pgrp;
	char state;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	/* The command name may hold anything, ")" included. */
	s = strrchr(buf, ')');
	if (!s)
		return -1;
	if (sscanf(s + 1,
		   " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d"
		   " %*d %*d %*d %*d %llu",
		   &state, &ppid, &pgrp, &start) != 4)
		return -1;
	p->state = state;
	p->ppid = ppid;
	p->pgrp = pgrp;
	p->start = start;
	return 0;
}

int guts__proctab_load(struct guts__proctab *t)
{
	struct dirent *de;
	DIR *d;

	t->nr = 0;
	d = opendir("/proc");
	if (!d)
		return guts_error_errno("cannot read /proc");
	while ((de = readdir(d))) {
		struct guts__proc p = {0};

		if (parse_pid(de->d_name, &p.pid) < 0 || p.pid <= 0)
			continue;
		/* Gone since readdir: nothing to do with it. */
		if (read_stat(&p) < 0)
			continue;
		GUTS_ALLOC_GROW(t->p, t->nr + 1, t->alloc);
		t->p[t->nr++] = p;
	}
	closedir(d);
	return 0;
}

void guts__proctab_release(struct guts__proctab *t)
{
	free(t->p);
	t->p = NULL;
	t->nr = t->alloc = 0;
}

unsigned long long guts__proc_now_ticks(void)
{
	struct timespec ts;
	long hz = sysconf(_SC_CLK_TCK);
	unsigned long long ns;

	if (hz <= 0)
		hz = 100;
	/* The kernel computes start times from the boot-time clock. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	ns = (unsigned long long)ts.tv_sec * 1000000000ULL +
	     (unsigned long long)ts.tv_nsec;
	return ns / (1000000000ULL / (unsigned long long)hz);
}

int guts__proc_tracking_id(pid_t pid, struct guts_buf *scratch,
			   const char **value)
{
	static const char var[] = SBX_TRACKING_VAR;
	char path[64];
	const char *p, *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	guts_buf_reset(scratch);
	for (;;) {
		size_t want = 65536;

		if (scratch->len >= ENVIRON_CAP)
			break;
		guts_buf_grow(scratch, want);
		do
			n = read(fd, scratch->data + scratch->len, want);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			break;
		scratch->len += (size_t)n;
	}
	close(fd);
	/* The buffer always has room for the terminating NUL. */
	guts_buf_grow(scratch, 1);
	scratch->data[scratch->len] = '\0';
	p = scratch->data;
	end = p + scratch->len;
	while (p < end) {
		size_t len = strnlen(p, (size_t)(end - p));

		if (len >= sizeof(var) - 1 &&
		    !memcmp(p, var, sizeof(var) - 1)) {
			*value = p + sizeof(var) - 1;
			return 1;
		}
		p += len + 1;
	}
	return 0;
}
