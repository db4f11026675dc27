/*
 * The job's cgroups (see sandbox_internal.h).
 *
 * The job's cgroup is made under the cgroup this process is in, never at
 * the root of the tree, so that a runner given a delegated subtree (or a
 * container's own cgroup) works the same as root on a bare machine.
 *
 * cgroup v1 has one hierarchy per controller (or a few co-mounted): the
 * job gets a directory in each, found from /proc/self/mountinfo (where the
 * hierarchy is mounted) and /proc/self/cgroup (where we are in it).  v2
 * has one tree: the job gets one directory, and its controllers must be
 * enabled in our cgroup's cgroup.subtree_control, which only works when
 * they were delegated to us and our cgroup has no processes of its own
 * when it is not the root; otherwise there are no limits, and describe()
 * says why.  A host with v1 controllers mounted (hybrid included) is v1.
 */
#include "sandbox_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "banned.h"

enum { CG_MEMORY, CG_PIDS, CG_CPU, CG_NR };

static const char *const cg_name[CG_NR] = {"memory", "pids", "cpu"};

#define CFS_PERIOD_US 100000
/* Rounds of SIGKILL and re-reading cgroup.procs before giving up. */
#define KILL_ROUNDS 500

struct guts__cgroup {
	int version; /* 1 or 2; 0 when no cgroup could be used */
	/* The job's cgroup for each controller (into made[]), or NULL. */
	const char *dir[CG_NR];
	/* The directories we made, to attach to, kill in and remove. */
	char *made[CG_NR];
	size_t nr_made;
	int applied[CG_NR]; /* the limit is in force */
	int asked;	    /* any cgroup limit was asked for */
	struct guts_sandbox_limits lim;
	struct guts_buf desc;
	struct guts_buf why; /* what could not be applied, and why */
};

struct hier {
	char *mount; /* where the hierarchy is mounted */
	char *root;  /* the cgroup mounted there */
	char *path;  /* our cgroup in it */
};

struct layout {
	struct hier v1[CG_NR];
	struct hier v2;
};

static atomic_uint counter;

static void hier_release(struct hier *h)
{
	free(h->mount);
	free(h->root);
	free(h->path);
}

/* mountinfo escapes blanks and backslashes as \ooo. */
static char *unescape(const char *s, size_t len)
{
	char *out = guts_xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' &&
		    s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') * 64 +
				      (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* Whether @list (words separated by any of @seps) holds @word. */
static int has_word(const char *list, size_t len, const char *word,
		    const char *seps)
{
	size_t wl = strlen(word);
	const char *p = list, *end = list + len;

	while (p < end) {
		size_t n = 0;

		while (p + n < end && !strchr(seps, p[n]))
			n++;
		if (n == wl && !memcmp(p, word, wl))
			return 1;
		p += n + 1;
	}
	return 0;
}

/*
 * "36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup
 * cgroup rw,memory": root is field 4, the mount point field 5, and after
 * the "-" come the type, the source and the super options.
 */
static void parse_mountinfo_line(struct layout *l, const char *line, size_t len)
{
	const char *f[32], *end = line + len, *p = line;
	size_t fl[32], nf = 0, d;

	while (p < end && nf < 32) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t n = sp ? (size_t)(sp - p) : (size_t)(end - p);

		f[nf] = p;
		fl[nf++] = n;
		p += n + 1;
	}
	for (d = 6; d < nf; d++)
		if (fl[d] == 1 && f[d][0] == '-')
			break;
	if (d + 3 >= nf)
		return;
	if (fl[d + 1] == 7 && !memcmp(f[d + 1], "cgroup2", 7)) {
		if (!l->v2.mount) {
			l->v2.mount = unescape(f[4], fl[4]);
			l->v2.root = unescape(f[3], fl[3]);
		}
		return;
	}
	if (fl[d + 1] != 6 || memcmp(f[d + 1], "cgroup", 6))
		return;
	for (int c = 0; c < CG_NR; c++) {
		if (l->v1[c].mount ||
		    !has_word(f[d + 3], fl[d + 3], cg_name[c], ","))
			continue;
		l->v1[c].mount = unescape(f[4], fl[4]);
		l->v1[c].root = unescape(f[3], fl[3]);
	}
}

static void parse_cgroup_line(struct layout *l, const char *line, size_t len)
{
	const char *c1 = memchr(line, ':', len), *c2;

	if (!c1)
		return;
	c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line));
	if (!c2)
		return;
	if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1) {
		if (!l->v2.path)
			l->v2.path = guts_xstrndup(
			    c2 + 1, len - (size_t)(c2 + 1 - line));
		return;
	}
	for (int c = 0; c < CG_NR; c++)
		if (!l->v1[c].path &&
		    has_word(c1 + 1, (size_t)(c2 - c1 - 1), cg_name[c], ","))
			l->v1[c].path = guts_xstrndup(
			    c2 + 1, len - (size_t)(c2 + 1 - line));
}

static void for_lines(struct layout *l, const char *path,
		      void (*fn)(struct layout *, const char *, size_t))
{
	char *text = NULL;
	size_t len = 0;
	const char *p, *end;

	if (guts_fs_read_all(&text, &len, path, 4u << 20) < 0)
		return;
	for (p = text, end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		fn(l, p, n);
		p += n + 1;
	}
	free(text);
}

/* Our cgroup's directory in hierarchy @h, or NULL. */
static char *hier_dir(const struct hier *h)
{
	size_t rl;

	if (!h->mount || !h->root || !h->path || h->path[0] != '/' ||
	    strstr(h->path, "/.."))
		return NULL; /* outside our cgroup namespace's view */
	if (!strcmp(h->root, "/"))
		return guts_xasprintf("%s%s", h->mount,
				      strcmp(h->path, "/") ? h->path : "");
	rl = strlen(h->root);
	if (strncmp(h->path, h->root, rl) ||
	    (h->path[rl] != '/' && h->path[rl] != '\0'))
		return NULL; /* our cgroup is not below what is mounted */
	return guts_xasprintf("%s%s", h->mount, h->path + rl);
}

static int write_file(const char *dir, const char *file, const char *val)
{
	char *path = guts_xasprintf("%s/%s", dir, file);
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -errno;
	do
		n = write(fd, val, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

static int file_exists(const char *dir, const char *file)
{
	char *path = guts_xasprintf("%s/%s", dir, file);
	int ok = access(path, F_OK) == 0;

	free(path);
	return ok;
}

static char *read_file(const char *dir, const char *file)
{
	char *path = guts_xasprintf("%s/%s", dir, file), *text = NULL;
	size_t len;

	if (guts_fs_read_all(&text, &len, path, 1u << 20) < 0)
		text = NULL;
	free(path);
	return text;
}

/*
 * The number after "@key " in a flat keyed file such as memory.events;
 * *found (when not NULL) says whether the key is there.
 */
static unsigned long long keyed_value(const char *dir, const char *file,
				      const char *key, int *found)
{
	char *text = read_file(dir, file);
	size_t kl = strlen(key);
	unsigned long long v = 0;

	if (found)
		*found = 0;
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');

		if (!strncmp(p, key, kl) && p[kl] == ' ') {
			v = strtoull(p + kl + 1, NULL, 10);
			if (found)
				*found = 1;
			break;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	free(text);
	return v;
}

static void sanitise(char *out, size_t size, const char *name)
{
	size_t o = 0;

	for (const char *p = name ? name : "job"; *p && o + 1 < size; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '-' || c == '_';

		out[o++] = ok ? c : '_';
	}
	if (!o)
		out[o++] = 'x';
	out[o] = '\0';
}

/*
 * Remove the cgroups of executors that died without close() (the agent
 * kills the job then, but cannot remove the cgroup it is in): empty
 * "guts-NAME-PID-N" directories whose PID is gone.
 */
static void sweep_stale(const char *parent)
{
	struct dirent *de;
	DIR *d = opendir(parent);

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *last, *prev;
		char *end, *path;
		long pid;

		if (strncmp(de->d_name, "guts-", 5))
			continue;
		last = strrchr(de->d_name, '-');
		prev = last;
		while (prev > de->d_name && prev[-1] != '-')
			prev--;
		if (prev <= de->d_name + 5)
			continue;
		pid = strtol(prev, &end, 10);
		if (end != last || pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		path = guts_xasprintf("%s/%s", parent, de->d_name);
		rmdir(path); /* fails, harmlessly, while it is in use */
		free(path);
	}
	closedir(d);
}

/* mkdir @parent/@leaf; the new path, or NULL with errno set. */
static char *make_dir(const char *parent, const char *leaf)
{
	char *path = guts_xasprintf("%s/%s", parent, leaf);

	sweep_stale(parent);
	if (mkdir(path, 0755) == 0)
		return path;
	free(path);
	return NULL;
}

static void add_why(struct guts__cgroup *cg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_why(struct guts__cgroup *cg, const char *fmt, ...)
{
	va_list ap;

	if (cg->why.len)
		guts_buf_adds(&cg->why, "; ");
	va_start(ap, fmt);
	guts_buf_vaddf(&cg->why, fmt, ap);
	va_end(ap);
}

static int wanted(const struct guts_sandbox_limits *lim, int c)
{
	switch (c) {
	case CG_MEMORY:
		return lim->memory > 0;
	case CG_PIDS:
		return lim->pids > 0;
	default:
		return lim->cpus > 0;
	}
}

/* Write the limit for controller @c in @dir; 0 or -errno. */
static int apply_limit(int version, const char *dir, int c,
		       const struct guts_sandbox_limits *lim)
{
	char val[64];
	int err;

	switch (c) {
	case CG_MEMORY:
		snprintf(val, sizeof(val), "%llu", lim->memory);
		if (version == 2) {
			err = write_file(dir, "memory.max", val);
			/* No swap: the limit is the limit. */
			if (!err && file_exists(dir, "memory.swap.max"))
				write_file(dir, "memory.swap.max", "0");
			return err;
		}
		err = write_file(dir, "memory.limit_in_bytes", val);
		if (!err && file_exists(dir, "memory.memsw.limit_in_bytes"))
			err =
			    write_file(dir, "memory.memsw.limit_in_bytes", val);
		return err;
	case CG_PIDS:
		snprintf(val, sizeof(val), "%ld", lim->pids);
		return write_file(dir, "pids.max", val);
	default: {
		double want = lim->cpus * CFS_PERIOD_US;
		/* The kernel's bounds: 1 ms a period, at most ~1000 CPUs. */
		long quota = want > 1e11 ? 100000000000L : (long)want;

		if (quota < 1000)
			quota = 1000;
		if (version == 2) {
			snprintf(val, sizeof(val), "%ld %d", quota,
				 CFS_PERIOD_US);
			return write_file(dir, "cpu.max", val);
		}
		snprintf(val, sizeof(val), "%d", CFS_PERIOD_US);
		err = write_file(dir, "cpu.cfs_period_us", val);
		snprintf(val, sizeof(val), "%ld", quota);
		return err ? err : write_file(dir, "cpu.cfs_quota_us", val);
	}
	}
}

static void remove_dir(const char *path)
{
	/* A killed process may take a moment to leave its cgroup. */
	for (int i = 0; i < 200; i++) {
		struct timespec ts = {0, 1000000};

		if (rmdir(path) == 0 || errno != EBUSY)
			return;
		nanosleep(&ts, NULL);
	}
}

static void setup_v1(struct guts__cgroup *cg, struct layout *l,
		     const char *leaf, const struct guts_sandbox_limits *lim,
		     int track)
{
	char *parent[CG_NR] = {NULL};

	for (int c = 0; c < CG_NR; c++) {
		/* Tracking needs one cgroup; pids is the cheapest. */
		int want = wanted(lim, c) || (track && c == CG_PIDS);
		int err;

		if (!want)
			continue;
		parent[c] = hier_dir(&l->v1[c]);
		if (!parent[c]) {
			if (wanted(lim, c))
				add_why(cg, "no %s cgroup", cg_name[c]);
			continue;
		}
		/* Co-mounted controllers share one directory. */
		for (int d = 0; d < c; d++)
			if (cg->dir[d] && parent[d] &&
			    !strcmp(parent[d], parent[c]))
				cg->dir[c] = cg->dir[d];
		if (!cg->dir[c]) {
			char *dir = make_dir(parent[c], leaf);

			if (!dir) {
				if (wanted(lim, c))
					add_why(cg,
						"cannot create a cgroup in "
						"%s: %s",
						parent[c], strerror(errno));
				continue;
			}
			cg->made[cg->nr_made++] = dir;
			cg->dir[c] = dir;
		}
		if (!wanted(lim, c))
			continue;
		err = apply_limit(1, cg->dir[c], c, lim);
		if (err) {
			add_why(cg, "cannot set the %s limit: %s", cg_name[c],
				strerror(-err));
			continue;
		}
		cg->applied[c] = 1;
	}
	for (int c = 0; c < CG_NR; c++)
		free(parent[c]);
}

static void setup_v2(struct guts__cgroup *cg, struct layout *l,
		     const char *leaf, const struct guts_sandbox_limits *lim,
		     int track)
{
	char *parent = hier_dir(&l->v2), *enabled = NULL, *dir;
	int any = track;

	for (int c = 0; c < CG_NR; c++)
		any |= wanted(lim, c);
	if (!parent || !any) {
		if (cg->asked)
			add_why(cg, "cannot find our cgroup v2 directory");
		free(parent);
		return;
	}
	for (int c = 0; c < CG_NR; c++) {
		char val[32];

		if (!wanted(lim, c))
			continue;
		snprintf(val, sizeof(val), "+%s", cg_name[c]);
		/* Fails when not delegated or our cgroup has processes. */
		write_file(parent, "cgroup.subtree_control", val);
	}
	enabled = read_file(parent, "cgroup.subtree_control");
	dir = make_dir(parent, leaf);
	if (!dir) {
		if (cg->asked)
			add_why(cg, "cannot create a cgroup in %s: %s", parent,
				strerror(errno));
		goto out;
	}
	cg->made[cg->nr_made++] = dir;
	for (int c = 0; c < CG_NR; c++) {
		int err;

		if (!wanted(lim, c))
			continue;
		if (!enabled ||
		    !has_word(enabled, strlen(enabled), cg_name[c], " \n")) {
			add_why(cg, "the %s controller is not delegated to %s",
				cg_name[c], parent);
			continue;
		}
		err = apply_limit(2, dir, c, lim);
		if (err) {
			add_why(cg, "cannot set the %s limit: %s", cg_name[c],
				strerror(-err));
			continue;
		}
		cg->dir[c] = dir;
		cg->applied[c] = 1;
	}
out:
	free(enabled);
	free(parent);
}

static void build_description(struct guts__cgroup *cg)
{
	const char *sep = " ";

	guts_buf_reset(&cg->desc);
	if (cg->applied[CG_MEMORY] || cg->applied[CG_PIDS] ||
	    cg->applied[CG_CPU]) {
		guts_buf_addf(&cg->desc, "cgroup v%d:", cg->version);
		if (cg->applied[CG_MEMORY]) {
			char b[32];

			guts__fmt_bytes(b, sizeof(b), cg->lim.memory);
			guts_buf_addf(&cg->desc, " memory %s", b);
			sep = ", ";
		}
		if (cg->applied[CG_PIDS]) {
			guts_buf_addf(&cg->desc, "%spids %ld", sep,
				      cg->lim.pids);
			sep = ", ";
		}
		if (cg->applied[CG_CPU])
			guts_buf_addf(&cg->desc, "%scpu %.2f", sep,
				      cg->lim.cpus);
		if (cg->why.len)
			guts_buf_adds(&cg->desc, "; ");
	}
	if (cg->why.len)
		guts_buf_addf(&cg->desc, "cgroup limits not applied: %s",
			      cg->why.data);
}

struct guts__cgroup *guts__cgroup_new(const char *name,
				      const struct guts_sandbox_limits *lim,
				      int track)
{
	struct guts__cgroup *cg = guts_xcalloc(1, sizeof(*cg));
	struct layout l;
	char leaf[96], clean[40];
	int v1 = 0;

	memset(&l, 0, sizeof(l));
	guts_buf_init(&cg->desc, 0);
	guts_buf_init(&cg->why, 0);
	cg->lim = *lim;
	for (int c = 0; c < CG_NR; c++)
		cg->asked |= wanted(lim, c);
	if (!cg->asked && !track)
		return cg;

	for_lines(&l, "/proc/self/mountinfo", parse_mountinfo_line);
	for_lines(&l, "/proc/self/cgroup", parse_cgroup_line);
	sanitise(clean, sizeof(clean), name);
	snprintf(leaf, sizeof(leaf), "guts-%s-%d-%u", clean, (int)getpid(),
		 atomic_fetch_add(&counter, 1));
	for (int c = 0; c < CG_NR; c++)
		v1 |= l.v1[c].mount != NULL;
	if (v1) {
		cg->version = 1;
		setup_v1(cg, &l, leaf, lim, track);
	} else if (l.v2.mount) {
		cg->version = 2;
		setup_v2(cg, &l, leaf, lim, track);
	} else if (cg->asked) {
		add_why(cg, "no cgroup file system mounted");
	}
	if (!cg->nr_made)
		cg->version = 0;
	build_description(cg);
	for (int c = 0; c < CG_NR; c++)
		hier_release(&l.v1[c]);
	hier_release(&l.v2);
	return cg;
}

void guts__cgroup_attach(struct guts__cgroup *cg, pid_t pid)
{
	char val[32];

	snprintf(val, sizeof(val), "%d", (int)pid);
	for (size_t i = 0; i < cg->nr_made; i++) {
		int err = write_file(cg->made[i], "cgroup.procs", val);

		if (!err)
			continue;
		/* Not in it: its limits are not in force. */
		for (int c = 0; c < CG_NR; c++)
			if (cg->dir[c] == cg->made[i]) {
				cg->dir[c] = NULL;
				cg->applied[c] = 0;
			}
		add_why(cg, "cannot move the sandbox into %s: %s", cg->made[i],
			strerror(-err));
		build_description(cg);
	}
}

int guts__cgroup_has_memory(const struct guts__cgroup *cg)
{
	return cg && cg->applied[CG_MEMORY];
}

int guts__cgroup_has_pids(const struct guts__cgroup *cg)
{
	return cg && cg->applied[CG_PIDS];
}

int guts__cgroup_tracks(const struct guts__cgroup *cg)
{
	return cg && cg->nr_made;
}

void guts__cgroup_events(const struct guts__cgroup *cg,
			 struct guts__cg_events *ev)
{
	const char *mem = cg ? cg->dir[CG_MEMORY] : NULL;
	const char *pids = cg ? cg->dir[CG_PIDS] : NULL;
	int found;

	memset(ev, 0, sizeof(*ev));
	if (mem && cg->version == 2) {
		ev->oom_kills =
		    keyed_value(mem, "memory.events", "oom_kill", NULL);
	} else if (mem) {
		ev->oom_kills =
		    keyed_value(mem, "memory.oom_control", "oom_kill", &found);
		/* No oom_kill before Linux 4.13: count hits of the limit. */
		if (!found) {
			char *s = read_file(mem, "memory.failcnt");

			ev->oom_kills = s ? strtoull(s, NULL, 10) : 0;
			free(s);
		}
	}
	if (pids)
		ev->pids_max = keyed_value(pids, "pids.events", "max", NULL);
}

size_t guts__cgroup_kill(struct guts__cgroup *cg)
{
	pid_t *seen = NULL;
	size_t nr = 0, alloc = 0;

	if (!cg)
		return 0;
	for (size_t i = 0; i < cg->nr_made; i++)
		if (cg->version == 2 && file_exists(cg->made[i], "cgroup.kill"))
			write_file(cg->made[i], "cgroup.kill", "1");
	for (int round = 0; round < KILL_ROUNDS; round++) {
		int found = 0;

		for (size_t i = 0; i < cg->nr_made; i++) {
			char *procs = read_file(cg->made[i], "cgroup.procs");

			for (char *p = procs; p && *p;) {
				char *end;
				long pid = strtol(p, &end, 10);
				size_t k;

				if (end == p)
					break;
				p = end + (*end == '\n');
				if (pid <= 0)
					continue;
				found = 1;
				kill((pid_t)pid, SIGKILL);
				for (k = 0; k < nr && seen[k] != pid; k++)
					;
				if (k == nr) {
					GUTS_ALLOC_GROW(seen, nr + 1, alloc);
					seen[nr++] = (pid_t)pid;
				}
			}
			free(procs);
		}
		if (!found)
			break;
		{
			struct timespec ts = {0, 1000000};

			nanosleep(&ts, NULL);
		}
	}
	free(seen);
	return nr;
}

const char *guts__cgroup_describe(const struct guts__cgroup *cg)
{
	return cg ? cg->desc.data : "";
}

void guts__cgroup_free(struct guts__cgroup *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->nr_made; i++) {
		remove_dir(cg->made[i]);
		free(cg->made[i]);
	}
	guts_buf_release(&cg->desc);
	guts_buf_release(&cg->why);
	free(cg);
}
