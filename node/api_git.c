/*
 * git smart HTTP at /{owner}/{name}.git/...: access control here, the
 * protocol by git's own `git http-backend`.  A push's ref updates are read
 * from the request before git sees it and recorded as push events; once
 * git is done, the ones that landed are processed (trigger.c) before the
 * client hears back, so `git push` returning means the runs exist.
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "protect.h"
#include "trigger.h"
#include "banned.h"

/* The command list of a push is at the start of the body. */
#define PUSH_HEAD_MAX (4u << 20)

struct git_stream {
	struct node *node;
	struct gitx_cgi cgi;
	size_t sent_pending;
	int finished;
	/* push */
	int64_t repo_id;
	char *gitdir;
	struct gitx_ref_update *updates;
	size_t nr;
	int64_t *ids;
	pthread_mutex_t *lock; /* held for a push until push_done() */
};

static void git_text(struct http_req *r, int status, const char *msg)
{
	const char *h[] = {"Cache-Control", "no-cache", NULL};

	http_text(r, status, "text/plain; charset=utf-8", msg, strlen(msg), h);
}

static void auth_challenge(struct http_req *r, const char *msg)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    strlen(msg), (void *)msg, MHD_RESPMEM_MUST_COPY);

	MHD_add_response_header(resp, "WWW-Authenticate",
				"Basic realm=\"guts\", charset=\"UTF-8\"");
	MHD_add_response_header(resp, "Content-Type",
				"text/plain; charset=utf-8");
	http_respond(r, 401, resp);
}

/* After git finished a push: which updates landed; then the runs. */
static void push_done(struct git_stream *s)
{
	struct node *n = s->node;

	for (size_t i = 0; i < s->nr; i++) {
		char now[41];
		int ret = gitx_ref_target(s->gitdir, s->updates[i].ref, now);
		int landed =
		    !strcmp(s->updates[i].new_sha,
			    "0000000000000000000000000000000000000000")
			? ret == GUTS_ENOTFOUND
			: ret == 0 && !strcmp(now, s->updates[i].new_sha);

		store_exec(n->st,
			   "UPDATE push_events SET state = $2 WHERE id = $1",
			   STORE_ARGS(SI(s->ids[i]),
				      SS(landed ? "applied" : "dropped")),
			   NULL);
		if (landed)
			nlog(LOG_INFO, "push %s %s %.12s..%.12s", s->gitdir,
			     s->updates[i].ref, s->updates[i].old_sha,
			     s->updates[i].new_sha);
	}
	if (s->lock) {
		pthread_mutex_unlock(s->lock);
		s->lock = NULL;
	}
	if (s->nr)
		trigger_process_pending(n);
}

static void add_cgi_headers(struct MHD_Response *resp,
			    const struct gitx_cgi *cgi)
{
	for (char **h = cgi->headers; h && *h; h++) {
		char *colon = strchr(*h, ':');
		char *hn;

		if (!colon)
			continue;
		hn = guts_xstrndup(*h, (size_t)(colon - *h));
		colon++;
		while (*colon == ' ')
			colon++;
		MHD_add_response_header(resp, hn, colon);
		free(hn);
	}
}

static ssize_t git_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct git_stream *s = cls;
	ssize_t got;

	(void)pos;
	if (s->sent_pending < s->cgi.pending_len) {
		size_t n = s->cgi.pending_len - s->sent_pending;

		if (n > max)
			n = max;
		memcpy(buf, s->cgi.pending + s->sent_pending, n);
		s->sent_pending += n;
		return (ssize_t)n;
	}
	got = read(s->cgi.out_fd, buf, max);
	if (got > 0)
		return got;
	if (!s->finished) {
		int st = gitx_cgi_finish(&s->cgi);

		s->finished = 1;
		if (st != 0)
			nlog(LOG_WARN, "git http-backend exited %d: %s", st,
			     s->cgi.err ? s->cgi.err : "");
		if (s->lock)
			push_done(s);
	}
	return MHD_CONTENT_READER_END_OF_STREAM;
}

static void git_free(void *cls)
{
	struct git_stream *s = cls;

	if (!s->finished) {
		/* The client went away: let a push finish, stop a fetch. */
		if (!s->lock)
			gitx_cgi_abort(&s->cgi);
		else {
			char buf[65536];

			while (read(s->cgi.out_fd, buf, sizeof(buf)) > 0)
				;
		}
		gitx_cgi_finish(&s->cgi);
		if (s->lock)
			push_done(s);
	}
	gitx_cgi_release(&s->cgi);
	gitx_ref_updates_free(s->updates, s->nr);
	free(s->ids);
	free(s->gitdir);
	free(s);
}

/* Read the start of the spooled push body for its command list. */
static int push_commands(struct http_req *r, struct gitx_push *push)
{
	size_t len =
	    r->spool_len > PUSH_HEAD_MAX ? PUSH_HEAD_MAX : (size_t)r->spool_len;
	char *head = guts_xmalloc(len + 1);
	ssize_t got = len ? pread(r->spool_fd, head, len, 0) : 0;
	int ret;

	if (got < 0 || (size_t)got != len) {
		free(head);
		return guts_error_errno("reading the push");
	}
	ret = gitx_parse_push(head, len, push);
	free(head);
	return ret;
}

static void free_why(char **why, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(why[i]);
	free(why);
}

static void refusal_text(struct http_req *r, int status, const char *msg)
{
	const char *h[] = {"Cache-Control", "no-cache", NULL};

	http_text(r, status, "application/x-git-receive-pack-result", msg,
		  strlen(msg), h);
}

/*
 * Branch protection (protect.h), before git sees the push: a push that
 * updates a protected branch against its rules is refused as a whole,
 * answered here with a report git shows its user; git is not run and no
 * push event is recorded.  An admin may push anyway with `git push -o
 * bypass`, which the audit log records.  Returns 1 when it answered.
 */
static int push_refused(struct http_req *r, struct git_stream *s,
			const struct gitx_push *push, const char *key)
{
	struct node *n = r->node;
	char **why = guts_xcalloc(push->nr + 1, sizeof(*why));
	struct guts_buf msg, out;
	int bypass = 0, refused;

	for (size_t i = 0; i < push->nr_options; i++)
		bypass |= !strcmp(push->options[i], "bypass");
	refused = protect_check_push(n, s->repo_id, s->gitdir, n->tmp_dir,
				     push->updates, push->nr, r->spool_fd,
				     (long long)push->pack_at, why);
	if (refused <= 0) {
		if (refused < 0) {
			nlog(LOG_ERROR, "push %s: branch protection: %s", key,
			     guts_error_message());
			git_text(r, 500,
				 "the node could not check branch "
				 "protection\n");
		}
		free_why(why, push->nr);
		return refused < 0;
	}
	guts_buf_init(&msg, 0);
	for (size_t i = 0; i < push->nr; i++)
		if (why[i])
			guts_buf_addf(&msg, "%s\n", why[i]);
	if (bypass && r->who.is_admin) {
		json_t *refs = json_array();

		for (size_t i = 0; i < push->nr; i++)
			if (why[i])
				json_array_append_new(
				    refs, json_pack("{s:s, s:s}", "ref",
						    push->updates[i].ref,
						    "refused", why[i]));
		node_audit(n, r->who.user, "protection.bypass", key,
			   json_pack("{s:o}", "refs", refs));
		nlog(LOG_WARN, "push %s: %s bypassed branch protection", key,
		     r->who.user);
		guts_buf_release(&msg);
		free_why(why, push->nr);
		return 0;
	}
	if (bypass)
		guts_buf_adds(&msg, "'git push -o bypass' needs an admin "
				    "token\n");
	nlog(LOG_INFO, "push %s by %s refused: %s", key,
	     r->who.user ? r->who.user : "-", msg.data);
	guts_buf_init(&out, 0);
	if (gitx_push_refusal(&out, push, why,
			      "rejected because another ref was refused",
			      msg.data) < 0)
		git_text(r, 403, msg.data);
	else
		refusal_text(r, 200, out.data);
	guts_buf_release(&out);
	guts_buf_release(&msg);
	free_why(why, push->nr);
	return 1;
}

/*
 * Who may do what, decided from the headers alone: the first call for a
 * git request runs this, so a body is never read (or spooled) for a
 * request that will be refused.  Answers and returns 0 when refused.
 */
int api_git_precheck(struct http_req *r)
{
	struct node *n = r->node;
	const char *p = r->path + 1, *slash = strchr(p, '/');
	const char *dotgit, *rest, *service = http_query(r, "service");
	char *owner = NULL, *name = NULL;
	json_t *repo = NULL;
	int push, mine, ok = 0;

	dotgit = slash ? strstr(slash, ".git/") : NULL;
	if (!slash || !dotgit) {
		git_text(r, 404, "not a repository path\n");
		return 0;
	}
	owner = guts_xstrndup(p, (size_t)(slash - p));
	name = guts_xstrndup(slash + 1, (size_t)(dotgit - slash - 1));
	rest = dotgit + 4;
	push = (service && !strcmp(service, "git-receive-pack")) ||
	       !strcmp(rest, "/git-receive-pack");
	if (!node_name_ok(owner) || !node_name_ok(name)) {
		git_text(r, 400, "invalid repository name\n");
		goto out;
	}
	if (store_query_one(
		n->st, "SELECT * FROM repos WHERE owner = $1 AND name = $2",
		STORE_ARGS(SS(owner), SS(name)), &repo) < 0) {
		char msg[300];

		snprintf(msg, sizeof(msg),
			 "repository '%s/%s' not found on this node; create it "
			 "first (guts repo create %s/%s)\n",
			 owner, name, owner, name);
		git_text(r, 404, msg);
		goto out;
	}
	mine = r->who.is_admin ||
	       (r->who.user && !strcmp(r->who.user, owner)) ||
	       (r->who.job_id && r->who.job_repo_id == api_int(repo, "id"));
	if (push || strcmp(api_str(repo, "visibility"), "public")) {
		if (!r->who.user_id && !r->who.job_id) {
			auth_challenge(r, push ? "pushing needs a token with "
						 "the 'write' scope as the "
						 "password\n"
					       : "this repository is private; "
						 "use a token as the "
						 "password\n");
			goto out;
		}
		if (!mine) {
			git_text(r, push ? 403 : 404,
				 push ? "this token cannot push to this "
					"repository\n"
				      : "repository not found\n");
			goto out;
		}
		if (push && (r->who.job_id || r->who.scope < SCOPE_WRITE)) {
			git_text(r, 403,
				 "pushing needs a token with the "
				 "'write' scope\n");
			goto out;
		}
	}
	ok = 1;
out:
	free(owner);
	free(name);
	json_decref(repo);
	return ok;
}

void api_git(struct http_req *r)
{
	struct node *n = r->node;
	const char *p = r->path + 1, *slash = strchr(p, '/');
	const char *dotgit, *rest, *service = http_query(r, "service");
	char *owner = NULL, *name = NULL, *key = NULL;
	struct gitx_cgi_req req = {0};
	struct git_stream *s = NULL;
	struct gitx_push pushed = {0};
	struct MHD_Response *resp;
	json_t *repo = NULL;
	int push, ret;

	if (!api_git_precheck(r))
		return;
	dotgit = strstr(slash, ".git/");
	owner = guts_xstrndup(p, (size_t)(slash - p));
	name = guts_xstrndup(slash + 1, (size_t)(dotgit - slash - 1));
	rest = dotgit + 4;
	push = (service && !strcmp(service, "git-receive-pack")) ||
	       !strcmp(rest, "/git-receive-pack");
	if (store_query_one(
		n->st, "SELECT * FROM repos WHERE owner = $1 AND name = $2",
		STORE_ARGS(SS(owner), SS(name)), &repo) < 0) {
		git_text(r, 404, "repository not found\n");
		goto out;
	}
	s = guts_xcalloc(1, sizeof(*s));
	s->node = n;
	s->repo_id = api_int(repo, "id");
	s->gitdir = node_repo_dir(n, owner, name);
	if (!strcmp(r->method, "POST") && !strcmp(rest, "/git-receive-pack")) {
		const char *enc = http_header(r, "Content-Encoding");

		if (enc && strcmp(enc, "identity")) {
			git_text(r, 415,
				 "compressed push requests are not "
				 "supported\n");
			goto out;
		}
		ret = push_commands(r, &pushed);
		if (ret < 0) {
			char msg[600];

			snprintf(msg, sizeof(msg), "bad push: %s\n",
				 guts_error_message());
			git_text(r, 400, msg);
			goto out;
		}
		key = guts_xasprintf("%s/%s", owner, name);
		s->lock = node_repo_lock(n, s->repo_id);
		pthread_mutex_lock(s->lock);
		if (push_refused(r, s, &pushed, key))
			goto out;
		s->updates = pushed.updates;
		s->nr = pushed.nr;
		pushed.updates = NULL;
		pushed.nr = 0;
		s->ids = guts_xcalloc(s->nr + 1, sizeof(*s->ids));
		ret = trigger_push_begin(n, s->repo_id, r->who.user, s->updates,
					 s->nr, s->ids);
		if (ret < 0) {
			http_fail(r, ret);
			goto out;
		}
		node_audit(n, r->who.user, "git.push", key,
			   json_pack("{s:I}", "refs", (json_int_t)s->nr));
	}
	req.method = r->method;
	req.project_root = n->repos_dir;
	req.path_info = r->path;
	req.query = service ? (push ? "service=git-receive-pack"
				    : "service=git-upload-pack")
			    : "";
	req.content_type = http_header(r, "Content-Type");
	req.content_encoding = http_header(r, "Content-Encoding");
	req.git_protocol = http_header(r, "Git-Protocol");
	req.remote_user = r->who.user;
	req.body_fd = r->spool_fd;
	req.content_length = r->spool_fd >= 0 ? (long long)r->spool_len : 0;
	if (r->spool_fd >= 0)
		lseek(r->spool_fd, 0, SEEK_SET);
	ret = gitx_cgi_start(&req, &s->cgi);
	if (ret < 0) {
		nlog(LOG_ERROR, "git %s: %s", r->path, guts_error_message());
		if (s->ids)
			store_exec(
			    n->st,
			    "UPDATE push_events SET state = 'dropped' "
			    "WHERE id >= $1 AND id <= $2",
			    STORE_ARGS(SI(s->ids[0]),
				       SI(s->ids[s->nr ? s->nr - 1 : 0])),
			    NULL);
		git_text(r, ret == GUTS_EINVAL ? 400 : 500,
			 "git could not serve this request\n");
		goto out;
	}
	if (s->lock) {
		/*
		 * A push runs to its end here, in this call: the repository's
		 * lock is then never held across calls, where another
		 * request on the same MHD thread could wait for it forever.
		 * receive-pack's answer (the report and progress) is small.
		 */
		struct guts_buf out;
		char buf[65536];
		ssize_t got;

		guts_buf_init(&out, 64u << 20);
		guts_buf_add(&out, s->cgi.pending, s->cgi.pending_len);
		while ((got = read(s->cgi.out_fd, buf, sizeof(buf))) > 0)
			if (guts_buf_add(&out, buf, (size_t)got) < 0)
				break;
		while (got > 0)
			got = read(s->cgi.out_fd, buf, sizeof(buf));
		ret = gitx_cgi_finish(&s->cgi);
		s->finished = 1;
		if (ret != 0)
			nlog(LOG_WARN, "git http-backend exited %d: %s", ret,
			     s->cgi.err ? s->cgi.err : "");
		push_done(s);
		resp = MHD_create_response_from_buffer(out.len, out.data,
						       MHD_RESPMEM_MUST_COPY);
		guts_buf_release(&out);
		add_cgi_headers(resp, &s->cgi);
		http_respond(r, s->cgi.status, resp);
		gitx_cgi_release(&s->cgi);
		goto out;
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536,
						 git_read, s, git_free);
	add_cgi_headers(resp, &s->cgi);
	http_respond(r, s->cgi.status, resp);
	s = NULL; /* the response owns it */
out:
	if (s) {
		if (s->lock)
			pthread_mutex_unlock(s->lock);
		gitx_ref_updates_free(s->updates, s->nr);
		free(s->ids);
		free(s->gitdir);
		free(s);
	}
	gitx_push_release(&pushed);
	free(key);
	free(owner);
	free(name);
	json_decref(repo);
}
