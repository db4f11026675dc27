/*
 * guts-runner: asks a guts-node for jobs (`next`, a long-poll) while it has
 * spare capacity and runs each on a thread of its own
 * (docs/runner-protocol.md).
 *
 * Signals are blocked in every thread and taken by one thread with
 * sigwait(): the first SIGTERM/SIGINT drains (no new `next`; the pending
 * one is let finish and a job it brings still runs, or that job would wait
 * for its lease to run out), the second cancels the running jobs, which
 * then complete as cancelled; a third exits at once.
 *
 * Exit status: 0 after a drain, 2 for a usage error, a refused runner token
 * or another protocol version, 1 when the runner cannot start.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/builtin.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/httpc.h"
#include "guts/sandbox.h"
#include "runner.h"
#include "banned.h"

#define NEXT_WAIT_S 30
#define NEXT_TIMEOUT_MS 40000

/* An embedded runner's node (GUTS_RUNNER_PARENT), or 0. */
static pid_t parent_node;

static void *signal_main(void *arg)
{
	struct runner *r = arg;
	sigset_t set;
	int seen = 0, orphaned = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		int sig, active;

		if (sigwait(&set, &sig))
			continue;
		/*
		 * SIGUSR1 is the parent-death signal of an embedded runner:
		 * the node died.  The kernel sends it each time the runner is
		 * handed from one of the dead node's threads to the next, so
		 * it only ever means "drain", once.
		 */
		if (sig == SIGUSR1) {
			if (orphaned || !parent_node)
				continue;
			orphaned = 1;
			fprintf(stderr, "guts-runner: the node that started "
					"this runner is gone\n");
			if (seen)
				continue;
		}
		seen++;
		if (seen == 1) {
			pthread_mutex_lock(&r->lock);
			r->draining = 1;
			active = r->active;
			pthread_cond_broadcast(&r->changed);
			pthread_mutex_unlock(&r->lock);
			fprintf(stderr,
				"guts-runner: draining: no new jobs; waiting "
				"for %d running job%s (signal again to "
				"cancel them)\n",
				active, active == 1 ? "" : "s");
		} else if (seen == 2) {
			fprintf(stderr, "guts-runner: cancelling the running "
					"jobs\n");
			runner_cancel_all(r);
		} else {
			fprintf(stderr, "guts-runner: exiting now\n");
			_exit(128 + sig);
		}
	}
	return NULL;
}

static char *labels_text(const struct runner *r)
{
	struct guts_buf b;

	guts_buf_init(&b, 0);
	for (size_t i = 0; i < r->labels.nr; i++)
		guts_buf_addf(&b, "%s%s", i ? "," : "", r->labels.v[i]);
	if (!r->labels.nr)
		guts_buf_adds(&b, "(none)");
	return guts_buf_detach(&b, NULL);
}

/* Wait @secs, or less when a signal or a job's end changes things. */
static void pause_for(struct runner *r, double secs)
{
	struct timespec t;
	int64_t until;

	clock_gettime(CLOCK_MONOTONIC, &t);
	until =
	    (int64_t)t.tv_sec * 1000000000 + t.tv_nsec + (int64_t)(secs * 1e9);
	t.tv_sec = (time_t)(until / 1000000000);
	t.tv_nsec = (long)(until % 1000000000);
	pthread_mutex_lock(&r->lock);
	while (!r->draining && !r->fatal)
		if (pthread_cond_timedwait(&r->changed, &r->lock, &t) ==
		    ETIMEDOUT)
			break;
	pthread_mutex_unlock(&r->lock);
}

static int run(struct runner *r)
{
	struct guts_http h;
	struct runner_backoff bo;
	json_t *body = json_pack("{s:i, s:i}", "protocol", RUNNER_PROTOCOL,
				 "wait", NEXT_WAIT_S);
	char *labels = labels_text(r);
	int connected = -1, status = 0;

	if (guts_http_init(&h, r->url, r->token) < 0) {
		fprintf(stderr, "guts-runner: %s\n", guts_error_message());
		json_decref(body);
		free(labels);
		return 1;
	}
	runner_backoff_reset(&bo);
	for (;;) {
		struct runner_answer a;
		int rc, stop;

		pthread_mutex_lock(&r->lock);
		while (!r->draining && !r->fatal && r->active >= r->capacity)
			pthread_cond_wait(&r->changed, &r->lock);
		stop = r->draining || r->fatal;
		pthread_mutex_unlock(&r->lock);
		if (stop)
			break;

		rc = runner_call(&h, "POST", "/api/runners/next", NULL, body,
				 NULL, 0, NEXT_TIMEOUT_MS, &a);
		if (rc == 0 && a.status >= 500) {
			guts_error(GUTS_EIO, "%s", runner_answer_message(&a));
			rc = GUTS_EIO;
		}
		if (rc < 0) {
			double d = runner_backoff_next(&bo);

			fprintf(stderr,
				"guts-runner: %s (%s), retrying in %.1fs\n",
				connected == 1 ? "lost node"
					       : "cannot reach the node",
				runner_transport_error(), d);
			connected = connected == -1 ? -1 : 0;
			runner_answer_release(&a);
			pause_for(r, d);
			continue;
		}
		if (a.status == 200 || a.status == 204) {
			if (connected == -1)
				fprintf(stderr,
					"guts-runner %s: connected to %s, "
					"labels %s, capacity %d\n",
					r->name, r->url, labels, r->capacity);
			else if (connected == 0)
				fprintf(stderr,
					"guts-runner: connected to %s\n",
					r->url);
			connected = 1;
			runner_backoff_reset(&bo);
		}

		if (a.status == 200) {
			json_t *job = json_object_get(a.body, "job");

			if (!json_is_object(job) ||
			    runner_job_start(r, job) < 0)
				fprintf(stderr,
					"guts-runner: cannot run the lease: "
					"%s\n",
					json_is_object(job)
					    ? guts_error_message()
					    : "no job in the answer");
		} else if (a.status == 204) {
			/* Nothing came in time: ask again. */
		} else if (a.status == 426) {
			fprintf(stderr, "guts-runner: %s\n",
				runner_answer_message(&a));
			status = 2;
		} else if (a.status == 401) {
			fprintf(stderr, "guts-runner: runner token refused\n");
			status = 2;
		} else {
			double d = runner_backoff_next(&bo);

			fprintf(stderr,
				"guts-runner: next: %s (HTTP %ld), retrying "
				"in %.1fs\n",
				runner_answer_message(&a), a.status, d);
			pause_for(r, d);
		}
		runner_answer_release(&a);
		if (status)
			break;
	}
	guts_http_release(&h);
	json_decref(body);
	free(labels);

	/* Drain: running jobs finish and complete. */
	pthread_mutex_lock(&r->lock);
	while (r->active > 0)
		pthread_cond_wait(&r->changed, &r->lock);
	if (!status)
		status = r->fatal;
	pthread_mutex_unlock(&r->lock);
	return status;
}

int main(int argc, char **argv)
{
	struct runner r;
	pthread_condattr_t ca;
	pthread_t sig_thread;
	sigset_t set;
	char *dir;
	int status;

	/* The sandbox agent is this binary too (see guts/sandbox.h). */
	if (argc > 1 && !strcmp(argv[1], GUTS_SANDBOX_AGENT_ARG))
		return guts_sandbox_agent_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("guts-runner %s (protocol %d)\n", RUNNER_VERSION,
		       RUNNER_PROTOCOL);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "register")) {
		guts_http_global_init();
		return runner_register_main(argc - 1, argv + 1);
	}

	memset(&r, 0, sizeof(r));
	status = runner_configure(&r, argc, argv);
	if (status)
		return status < 0 ? 0 : status;
	guts_http_global_init();
	signal(SIGPIPE, SIG_IGN);

	pthread_mutex_init(&r.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r.changed, &ca);
	pthread_condattr_destroy(&ca);

	dir = guts_xasprintf("%s/jobs", r.work);
	if (guts_fs_mkdirs(dir, 0700) < 0) {
		fprintf(stderr, "guts-runner: %s\n", guts_error_message());
		free(dir);
		return 1;
	}
	free(dir);
	dir = guts_xasprintf("%s/store", r.work);
	if (guts_local_store_open(&r.store, dir) < 0) {
		fprintf(stderr, "guts-runner: store %s: %s\n", dir,
			guts_error_message());
		free(dir);
		return 1;
	}
	free(dir);
	/* Hidden paths as the sandbox sees them: absolute, links resolved. */
	for (size_t i = 0; i < r.hidden.nr; i++) {
		char *real = realpath(r.hidden.v[i], NULL);

		if (real) {
			free(r.hidden.v[i]);
			r.hidden.v[i] = real;
		}
	}

	/* Before any thread: every thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/*
	 * An embedded runner drains when its node dies (kill -9 included):
	 * it finishes its jobs, reporting them to the node that comes back,
	 * and exits; the new node starts a fresh one with the same token.
	 */
	{
		const char *parent_env = getenv("GUTS_RUNNER_PARENT");

		if (parent_env) {
			char *end;
			long parent = strtol(parent_env, &end, 10);

			parent_node = (pid_t)parent;
			prctl(PR_SET_PDEATHSIG, SIGUSR1);
			if (*end || getppid() != (pid_t)parent)
				kill(getpid(), SIGUSR1);
		}
	}
	if (pthread_create(&sig_thread, NULL, signal_main, &r)) {
		fprintf(stderr, "guts-runner: cannot start a thread\n");
		return 1;
	}
	pthread_detach(sig_thread);
	status = run(&r);

	guts_artifact_store_free(r.store);
	free(r.url);
	free(r.token);
	free(r.name);
	free(r.work);
	guts_strvec_release(&r.labels);
	guts_strvec_release(&r.hidden);
	return status;
}
