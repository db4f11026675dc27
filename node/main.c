/*
 * guts-node: the server.  Parses its options, opens the store, bootstraps
 * the admin, serves HTTP, starts the embedded runners, and runs the
 * housekeeping loop (lease expiry, long-poll deadlines, runner
 * supervision) on the main thread, which also takes the signals.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "artifacts.h"
#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/builtin.h"
#include "guts/runcmd.h"
#include "guts/strvec.h"
#include "http.h"
#include "hub.h"
#include "ws.h"
#include "pulls.h"
#include "schedule.h"
#include "scheduler.h"
#include "trigger.h"
#include "banned.h"

extern char **environ;

struct embedded {
	pid_t pid;
	int64_t id;
	char *name, *token, *work;
	int64_t restart_at; /* ms; 0: running or stopped */
	int failures;
};

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: guts-node [--listen ADDR:PORT] [--data DIR] [--db URL] "
	       "[--runners N]\n"
	       "                 [--log-level error|warn|info|debug] "
	       "[--public-url URL]\n\n"
	       "  --listen      where to listen (GUTS_LISTEN; default "
	       "127.0.0.1:8080; port 0 picks one)\n"
	       "  --data        the data directory (GUTS_DATA; default ./var)\n"
	       "  --db          the database (GUTS_DB; default "
	       "sqlite:<data>/guts.db)\n"
	       "  --runners     embedded runners to start (GUTS_RUNNERS; "
	       "default 1)\n"
	       "  --log-level   GUTS_LOG_LEVEL; default info\n"
	       "  --public-url  the URL runners and clones use "
	       "(GUTS_PUBLIC_URL; default http://ADDR:PORT)\n");
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static int parse_level(const char *s, enum log_level *out)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

/* The admin user and token, made on the first start only. */
static int bootstrap(struct node *n)
{
	json_t *row = NULL;
	char *token = NULL, *path;
	int64_t tid;
	int ret;

	if (store_query_one(n->st, "SELECT id FROM users LIMIT 1", NULL, 0,
			    &row) == 0) {
		json_decref(row);
		return 0;
	}
	ret = store_query_one(n->st,
			      "INSERT INTO users (name, is_admin, created_at) "
			      "VALUES ('admin', 1, $1) RETURNING id",
			      STORE_ARGS(SI(store_now_ms())), &row);
	if (ret == 0)
		ret = api_make_token(n, api_int(row, "id"), "admin",
				     "bootstrap", &token, &tid);
	json_decref(row);
	if (ret < 0)
		return ret;
	path = guts_xasprintf("%s/admin.token", n->cfg.data);
	{
		char *text = guts_xasprintf("%s\n", token);

		ret = guts_fs_write_atomic(path, text, strlen(text), 0600);
		free(text);
	}
	if (ret == 0) {
		printf("admin token: %s (saved to %s)\n", token, path);
		fflush(stdout);
		node_audit(n, "guts-node", "user.bootstrap", "admin", NULL);
	}
	free(path);
	free(token);
	return ret;
}

static char *find_runner(void)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash, *p;

	if (len > 0) {
		self[len] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			p = guts_xasprintf("%s/guts-runner", self);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return guts_xstrdup("guts-runner");
}

static void start_runner(struct node *n, struct embedded *e)
{
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	struct guts_strvec env;
	char *argv[] = {n->runner_path, NULL};
	int rc;

	guts_strvec_init(&env);
	for (char **p = environ; *p; p++)
		if (strncmp(*p, "GUTS_", 5))
			guts_strvec_push(&env, *p);
	guts_strvec_pushf(&env, "GUTS_URL=%s", n->base_url);
	guts_strvec_pushf(&env, "GUTS_RUNNER_TOKEN=%s", e->token);
	guts_strvec_pushf(&env, "GUTS_RUNNER_NAME=%s", e->name);
	guts_strvec_push(&env, "GUTS_RUNNER_LABELS=default");
	guts_strvec_pushf(&env, "GUTS_RUNNER_WORK=%s", e->work);
	guts_strvec_pushf(&env, "GUTS_RUNNER_PARENT=%d", (int)getpid());
	/* The node's data (tokens, the database, repositories) is not for
	 * jobs to read. */
	{
		char *data = realpath(n->cfg.data, NULL);

		guts_strvec_pushf(&env, "GUTS_RUNNER_HIDE=%s",
				  data ? data : n->cfg.data);
		free(data);
	}
	guts_spawnattr_fresh(&attr);
	/*
	 * The runner's stdout is the node's stderr: a runner outlives a node
	 * killed with -9 (it drains), and must not hold on to whatever the
	 * node's stdout is, such as the pipe a supervisor reads "listening on"
	 * from and waits to see closed.
	 */
	rc = posix_spawn_file_actions_init(&fa);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO,
						      STDOUT_FILENO);
	if (!rc)
		rc = posix_spawn(&e->pid, n->runner_path, &fa, &attr, argv,
				 env.v);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	guts_strvec_release(&env);
	if (rc) {
		nlog(LOG_ERROR, "cannot start %s: %s", n->runner_path,
		     strerror(rc));
		e->pid = 0;
		e->restart_at = store_now_ms() + 5000;
		return;
	}
	e->restart_at = 0;
	nlog(LOG_INFO, "embedded runner %s started (pid %d)", e->name,
	     (int)e->pid);
}

/*
 * An embedded runner's record and token.  The token is kept in
 * <data>/runners/N.token (0600), so a runner that outlived a killed node
 * keeps working with the node that replaces it.
 */
static int embedded_token(struct node *n, struct embedded *e,
			  const json_t *labels)
{
	char *path = guts_xasprintf("%s/runners/%s.token", n->cfg.data,
				    e->name + strlen("embedded-"));
	char *text = NULL, hash[65];
	size_t len = 0;
	json_t *row = NULL;
	int ret;

	guts_fs_mkdirs(e->work, 0700);
	if (guts_fs_read_all(&text, &len, path, 256) == 0) {
		while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
			text[--len] = '\0';
		node_token_hash(text, hash);
		if (store_query_one(
			n->st,
			"SELECT id FROM runners WHERE name = $1 AND "
			"embedded = 1 AND token_hash = $2",
			STORE_ARGS(SS(e->name), SS(hash)), &row) == 0) {
			e->id = api_int(row, "id");
			e->token = text;
			json_decref(row);
			free(path);
			return 0;
		}
		free(text);
	}
	if (store_query_one(n->st,
			    "SELECT id FROM runners WHERE name = $1 AND "
			    "embedded = 1",
			    STORE_ARGS(SS(e->name)), &row) == 0) {
		e->id = api_int(row, "id");
		e->token = node_token_new("grn");
		node_token_hash(e->token, hash);
		ret =
		    store_exec(n->st,
			       "UPDATE runners SET token_hash = $2 WHERE id = "
			       "$1",
			       STORE_ARGS(SI(e->id), SS(hash)), NULL);
		json_decref(row);
	} else {
		ret =
		    api_runner_create(n, e->name, labels, 1, &e->id, &e->token);
	}
	if (ret == 0) {
		char *t = guts_xasprintf("%s\n", e->token);

		ret = guts_fs_write_atomic(path, t, strlen(t), 0600);
		free(t);
	}
	free(path);
	return ret;
}

/* The embedded runners: one runner record each. */
static int setup_runners(struct node *n, struct embedded *rs, int count)
{
	json_t *labels = json_pack("[s]", "default");

	for (int i = 0; i < count; i++) {
		struct embedded *e = &rs[i];
		int ret;

		e->name = guts_xasprintf("embedded-%d", i + 1);
		e->work = guts_xasprintf("%s/runners/%d", n->cfg.data, i + 1);
		ret = embedded_token(n, e, labels);
		if (ret < 0) {
			json_decref(labels);
			return ret;
		}
		start_runner(n, e);
	}
	json_decref(labels);
	return 0;
}

static void reap_runners(struct node *n, struct embedded *rs, int count)
{
	int status;

	/* Only our runners: git's children are waited for by their caller. */
	for (int i = 0; i < count; i++) {
		if (rs[i].pid <= 0 || waitpid(rs[i].pid, &status, WNOHANG) <= 0)
			continue;
		{
			rs[i].pid = 0;
			if (n->stopping)
				break;
			rs[i].failures++;
			rs[i].restart_at =
			    store_now_ms() +
			    (rs[i].failures > 5 ? 30000 : 500 * rs[i].failures);
			nlog(LOG_WARN,
			     "embedded runner %s exited (%s %d); restarting",
			     rs[i].name,
			     WIFEXITED(status) ? "status" : "signal",
			     WIFEXITED(status) ? WEXITSTATUS(status)
					       : WTERMSIG(status));
		}
	}
	for (int i = 0; i < count && !n->stopping; i++)
		if (!rs[i].pid && rs[i].restart_at &&
		    store_now_ms() >= rs[i].restart_at)
			start_runner(n, &rs[i]);
}

/* SIGTERM: the runners drain (finish their jobs), then the node stops. */
static void stop_runners(struct node *n, struct embedded *rs, int count)
{
	int64_t t0 = store_now_ms();
	int alive, second = 0;

	n->draining = 1;
	for (int i = 0; i < count; i++)
		if (rs[i].pid > 0)
			kill(rs[i].pid, SIGTERM);
	/* Parked long-polls answer 204 now instead of at their deadline. */
	http_wake(n, WAIT_JOBS, 0);
	for (;;) {
		int status;

		for (int i = 0; i < count; i++)
			if (rs[i].pid > 0 &&
			    waitpid(rs[i].pid, &status, WNOHANG) > 0)
				rs[i].pid = 0;
		alive = 0;
		for (int i = 0; i < count; i++)
			alive += rs[i].pid > 0;
		if (!alive)
			return;
		if (!second && store_now_ms() - t0 > 20000) {
			nlog(LOG_WARN, "runners still draining after 20s; "
				       "cancelling their jobs");
			for (int i = 0; i < count; i++)
				if (rs[i].pid > 0)
					kill(rs[i].pid, SIGTERM);
			second = 1;
		}
		if (store_now_ms() - t0 > 35000) {
			for (int i = 0; i < count; i++)
				if (rs[i].pid > 0)
					kill(rs[i].pid, SIGKILL);
		}
		sched_tick(n);
		http_wake_expired(n);
		usleep(50 * 1000);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"data", required_argument, NULL, 'd'},
	    {"db", required_argument, NULL, 'b'},
	    {"runners", required_argument, NULL, 'r'},
	    {"log-level", required_argument, NULL, 'v'},
	    {"public-url", required_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct node n;
	const char *listen = env_or("GUTS_LISTEN", "127.0.0.1:8080");
	const char *data = env_or("GUTS_DATA", "./var");
	const char *db = getenv("GUTS_DB");
	const char *runners = env_or("GUTS_RUNNERS", "1");
	const char *level = env_or("GUTS_LOG_LEVEL", "info");
	const char *public_url = getenv("GUTS_PUBLIC_URL");
	struct embedded *rs = NULL;
	char *addr, *colon, *end, *dbu = NULL;
	sigset_t sigs;
	long port, nr;
	int c, ret, sig;
	int64_t last_tick = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'd':
			data = optarg;
			break;
		case 'b':
			db = optarg;
			break;
		case 'r':
			runners = optarg;
			break;
		case 'v':
			level = optarg;
			break;
		case 'u':
			public_url = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	memset(&n, 0, sizeof(n));
	if (parse_level(level, &n.cfg.log_level) < 0) {
		fprintf(stderr,
			"guts-node: --log-level %s: expected error, "
			"warn, info or debug\n",
			level);
		return 2;
	}
	node_log_level = n.cfg.log_level;
	addr = guts_xstrdup(listen);
	colon = strrchr(addr, ':');
	port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (!colon || *end || port < 0 || port > 65535) {
		fprintf(stderr, "guts-node: --listen %s: expected ADDR:PORT\n",
			listen);
		return 2;
	}
	*colon = '\0';
	nr = strtol(runners, &end, 10);
	if (*end || nr < 0 || nr > 64) {
		fprintf(stderr, "guts-node: --runners %s: expected 0 to 64\n",
			runners);
		return 2;
	}
	n.cfg.listen = guts_xstrdup(listen);
	n.cfg.data = guts_xstrdup(data);
	n.cfg.runners = (int)nr;
	{
		int64_t cap, lease, hb, th;

		if (node_int(env_or("GUTS_LOG_CAP", "100000000"), 0, &cap) <
			0 ||
		    node_int(env_or("GUTS_LEASE_SECONDS", "60"), 0, &lease) <
			0 ||
		    node_int(env_or("GUTS_HEARTBEAT_SECONDS", "15"), 0, &hb) <
			0 ||
		    node_int(env_or("GUTS_THREADS", "4"), 0, &th) < 0 ||
		    cap < 1000 || th > 64) {
			fprintf(stderr, "guts-node: GUTS_LOG_CAP, "
					"GUTS_LEASE_SECONDS, "
					"GUTS_HEARTBEAT_SECONDS and "
					"GUTS_THREADS take whole numbers\n");
			return 2;
		}
		n.cfg.log_cap = cap;
		n.cfg.lease_seconds = (int)lease;
		n.cfg.heartbeat_seconds = (int)hb;
		n.cfg.threads = (int)th;
	}
	n.cfg.max_runner_lost = 2;
	if (n.cfg.lease_seconds < 2)
		n.cfg.lease_seconds = 60;
	if (n.cfg.heartbeat_seconds < 1 ||
	    n.cfg.heartbeat_seconds >= n.cfg.lease_seconds)
		n.cfg.heartbeat_seconds = n.cfg.lease_seconds / 4;
	if (n.cfg.threads < 1)
		n.cfg.threads = 4;
	pthread_mutex_init(&n.wait_lock, NULL);
	pthread_mutex_init(&n.push_lock, NULL);
	pthread_mutex_init(&n.sched_lock, NULL);
	for (size_t i = 0; i < 64; i++)
		pthread_mutex_init(&n.job_locks[i], NULL);
	for (size_t i = 0; i < 16; i++)
		pthread_mutex_init(&n.repo_locks[i], NULL);
	n.repos_dir = guts_xasprintf("%s/repos", data);
	n.logs_dir = guts_xasprintf("%s/logs", data);
	n.tmp_dir = guts_xasprintf("%s/tmp", data);
	/* Nothing in tmp/ outlives the process that made it (spooled push
	 * bodies, pack quarantines): what a kill -9 left goes now. */
	if (guts_remove_tree(n.tmp_dir) < 0)
		nlog(LOG_WARN, "cannot clear %s: %s", n.tmp_dir,
		     guts_error_message());
	if (guts_fs_mkdirs(data, 0700) < 0 ||
	    guts_fs_mkdirs(n.repos_dir, 0700) < 0 ||
	    guts_fs_mkdirs(n.logs_dir, 0700) < 0 ||
	    guts_fs_mkdirs(n.tmp_dir, 0700) < 0) {
		fprintf(stderr, "guts-node: %s\n", guts_error_message());
		return 1;
	}
	dbu = db && *db ? guts_xstrdup(db)
			: guts_xasprintf("sqlite:%s/guts.db", data);
	n.cfg.db = dbu;
	gitx_global_init();
	n.hub = hub_new(0);
	ret = store_open(&n.st, dbu);
	if (ret < 0) {
		fprintf(stderr, "guts-node: %s\n", guts_error_message());
		return 1;
	}
	if (artifacts_init(&n) < 0) {
		fprintf(stderr, "guts-node: artifacts: %s\n",
			guts_error_message());
		return 1;
	}
	if (bootstrap(&n) < 0) {
		fprintf(stderr, "guts-node: bootstrap: %s\n",
			guts_error_message());
		return 1;
	}
	/* Signals go to the main thread only, through sigtimedwait(). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Bound first, so the port (and the URL runners get) is known, but
	 * nothing is served until what a restart left is recovered. */
	ret = http_listen(&n, addr, (int)port);
	if (ret < 0) {
		fprintf(stderr, "guts-node: %s\n", guts_error_message());
		return 1;
	}
	n.base_url =
	    public_url && *public_url
		? guts_xstrdup(public_url)
		: guts_xasprintf("http://%s:%d",
				 strcmp(addr, "0.0.0.0") ? addr : "127.0.0.1",
				 n.port);
	{
		size_t l = strlen(n.base_url);

		while (l && n.base_url[l - 1] == '/')
			n.base_url[--l] = '\0';
	}
	/* What a restart left: logs, pushes, runs. */
	store_exec(n.st,
		   "UPDATE push_events SET state = 'interrupted' WHERE state "
		   "= 'pending'",
		   NULL, 0, NULL);
	sched_recover(&n);
	trigger_process_pending(&n);
	pulls_recover(&n);
	/* The collector runs beside the requests, never inside one. */
	artifacts_start(&n);
	ret = ws_start(&n);
	if (ret == 0)
		ret = http_start(&n);
	if (ret < 0) {
		fprintf(stderr, "guts-node: %s\n", guts_error_message());
		return 1;
	}
	printf("guts-node listening on http://%s:%d\n", addr, n.port);
	fflush(stdout);
	nlog(LOG_INFO, "guts-node %s: listening on %s:%d, data %s, db %s",
	     GUTS_NODE_VERSION, addr, n.port, data, dbu);
	n.runner_path = find_runner();
	rs = guts_xcalloc((size_t)nr + 1, sizeof(*rs));
	if (setup_runners(&n, rs, (int)nr) < 0)
		nlog(LOG_ERROR, "embedded runners: %s", guts_error_message());
	for (;;) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		int64_t now;

		sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGCHLD || sig < 0)
			reap_runners(&n, rs, (int)nr);
		http_wake_expired(&n);
		now = store_now_ms();
		if (now - last_tick >= 1000) {
			sched_tick(&n);
			schedule_tick(&n);
			last_tick = now;
		}
	}
	nlog(LOG_INFO, "stopping: draining %ld embedded runner%s", nr,
	     nr == 1 ? "" : "s");
	stop_runners(&n, rs, (int)nr);
	http_stop(&n);
	artifacts_stop(&n);
	hub_free(n.hub);
	store_close(n.st);
	nlog(LOG_INFO, "stopped");
	for (long i = 0; i < nr; i++) {
		free(rs[i].name);
		free(rs[i].token);
		free(rs[i].work);
	}
	free(rs);
	free(addr);
	free(dbu);
	free(n.base_url);
	free(n.runner_path);
	free(n.repos_dir);
	free(n.logs_dir);
	free(n.tmp_dir);
	free(n.cfg.listen);
	free(n.cfg.data);
	return 0;
}
