/*
 * The smart HTTP side of git.h: receive-pack command lists (pkt-lines) and
 * `git http-backend` run as a CGI program.  Nothing here uses libgit2.
 */
#include "git.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/runcmd.h"
#include "guts/strvec.h"
#include "banned.h"

/* The largest pkt-line git writes or accepts (LARGE_PACKET_MAX). */
#define PKT_MAX 65520
/* How much of http-backend's stderr is kept for the log. */
#define CGI_ERR_MAX (64 * 1024)

/* ---- pkt-lines ---- */

static int hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hex_digit((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

/* @n bytes of untrusted input, quoted for a message (at most 40 shown). */
static char *quote(const char *s, size_t n)
{
	struct guts_buf b;

	guts_buf_init(&b, 0);
	guts_buf_addch(&b, '\'');
	for (size_t i = 0; i < n && i < 40; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
			guts_buf_addch(&b, (char)c);
		else
			guts_buf_addf(&b, "\\x%02x", c);
	}
	guts_buf_adds(&b, n > 40 ? "'..." : "'");
	return guts_buf_detach(&b, NULL);
}

static int __attribute__((format(printf, 3, 4)))
bad_pkt(const char *s, size_t n, const char *fmt, ...)
{
	char *q = quote(s, n), *what;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	what = guts_xvasprintf(fmt, ap);
	va_end(ap);
	rc =
	    guts_error(GUTS_EINVAL, "bad push command list: %s in %s", what, q);
	free(what);
	free(q);
	return rc;
}

static void lower_sha(char *dst, const char *src)
{
	for (int i = 0; i < GITX_SHA_HEX; i++) {
		char c = src[i];

		dst[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
	}
	dst[GITX_SHA_HEX] = '\0';
}

static int ref_ok(const char *ref, size_t n)
{
	if (n < 6 || strncmp(ref, "refs/", 5))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ref[i];

		if (c <= 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

/* One command, "<old> <new> <ref>", @n bytes without caps or line end. */
static int parse_command(const char *p, size_t n, struct gitx_ref_update *u)
{
	const size_t ref_at = 2 * GITX_SHA_HEX + 2;
	size_t ref_len;

	if (n <= ref_at || p[GITX_SHA_HEX] != ' ' ||
	    p[2 * GITX_SHA_HEX + 1] != ' ' || !all_hex(p, GITX_SHA_HEX) ||
	    !all_hex(p + GITX_SHA_HEX + 1, GITX_SHA_HEX)) {
		if (n > 64 && all_hex(p, 64))
			return bad_pkt(p, n,
				       "SHA-256 object names are not "
				       "supported");
		return bad_pkt(p, n, "not '<old-sha> <new-sha> <ref>'");
	}
	ref_len = n - ref_at;
	if (ref_len > GITX_MAX_REF_LEN)
		return bad_pkt(p, n, "a ref name longer than %d bytes",
			       GITX_MAX_REF_LEN);
	if (!ref_ok(p + ref_at, ref_len))
		return bad_pkt(p, n, "a bad ref name");
	lower_sha(u->old_sha, p);
	lower_sha(u->new_sha, p + GITX_SHA_HEX + 1);
	u->ref = guts_xstrndup(p + ref_at, ref_len);
	return 0;
}

/*
 * The command list proper: the updates, the first command's capabilities
 * (when @caps is not NULL) and where the list's flush-pkt ends (@end).
 */
static int parse_commands(const char *body, size_t len,
			  struct gitx_ref_update **out, size_t *nr, char **caps,
			  size_t *end)
{
	struct gitx_ref_update *u = NULL;
	size_t pos = 0, n = 0, alloc = 0;
	char *first_caps = NULL;
	int rc = 0;

	if (!body && len)
		return guts_error(GUTS_EINVAL, "no push body");
	for (;;) {
		const char *p;
		size_t pkt_len, plen;
		const char *nul;

		if (len - pos < 4) {
			rc = guts_error(GUTS_EINVAL,
					"bad push command list: it ends "
					"before its flush-pkt");
			break;
		}
		if (!all_hex(body + pos, 4)) {
			rc = bad_pkt(body + pos, 4, "a bad pkt-line length");
			break;
		}
		pkt_len = 0;
		for (int i = 0; i < 4; i++)
			pkt_len =
			    pkt_len * 16 +
			    (size_t)hex_digit((unsigned char)body[pos + i]);
		if (pkt_len == 0) /* flush: the end of the list */
			break;
		if (pkt_len < 4) {
			rc = bad_pkt(body + pos, 4, "an unexpected pkt-line");
			break;
		}
		if (pkt_len > PKT_MAX) {
			rc =
			    bad_pkt(body + pos, 4,
				    "a pkt-line longer than %d bytes", PKT_MAX);
			break;
		}
		if (pkt_len > len - pos) {
			rc = bad_pkt(body + pos, len - pos,
				     "a pkt-line of %zu bytes cut short",
				     pkt_len);
			break;
		}
		p = body + pos + 4;
		plen = pkt_len - 4;
		pos += pkt_len;

		if (!n && plen >= 9 && !memcmp(p, "push-cert", 9) &&
		    (plen == 9 || p[9] == '\0' || p[9] == '\n')) {
			rc = guts_error(GUTS_EINVAL,
					"signed pushes (push certificates) "
					"are not supported");
			break;
		}
		if (!n && plen >= 8 && !memcmp(p, "shallow ", 8)) {
			size_t m = plen - 8;

			if (m && p[plen - 1] == '\n')
				m--;
			if (m != GITX_SHA_HEX || !all_hex(p + 8, m)) {
				rc = bad_pkt(p, plen, "a bad shallow line");
				break;
			}
			continue;
		}
		nul = memchr(p, '\0', plen);
		if (nul) {
			size_t clen = plen - (size_t)(nul - p) - 1;

			if (n) {
				rc = bad_pkt(p, plen,
					     "capabilities after the first "
					     "command");
				break;
			}
			if (clen && nul[clen] == '\n')
				clen--;
			if (caps && !first_caps)
				first_caps = guts_xstrndup(nul + 1, clen);
			plen = (size_t)(nul - p);
		} else if (plen && p[plen - 1] == '\n') {
			plen--;
		}
		if (n == GITX_MAX_COMMANDS) {
			rc = guts_error(GUTS_ETOOBIG,
					"a push of more than %d ref updates",
					GITX_MAX_COMMANDS);
			break;
		}
		GUTS_ALLOC_GROW(u, n + 1, alloc);
		rc = parse_command(p, plen, &u[n]);
		if (rc < 0)
			break;
		n++;
	}
	if (rc < 0) {
		gitx_ref_updates_free(u, n);
		free(first_caps);
		return rc;
	}
	if (!n) {
		free(u);
		u = NULL;
	}
	*out = u;
	*nr = n;
	if (caps)
		*caps = first_caps ? first_caps : guts_xstrdup("");
	if (end)
		*end = pos + 4;
	return 0;
}

int gitx_parse_push_commands(const char *body, size_t len,
			     struct gitx_ref_update **out, size_t *nr)
{
	return parse_commands(body, len, out, nr, NULL, NULL);
}

int gitx_push_has_cap(const char *caps, const char *name)
{
	size_t n = strlen(name);

	while (caps && *caps) {
		size_t w = strcspn(caps, " ");

		if (w == n && !memcmp(caps, name, n))
			return 1;
		caps += w;
		caps += strspn(caps, " ");
	}
	return 0;
}

/* The push options after the command list: pkt-lines up to a flush. */
static int parse_options(const char *body, size_t len, size_t *pos,
			 struct guts_strvec *opts)
{
	for (;;) {
		size_t pkt_len = 0;
		const char *p;
		size_t plen;

		if (len - *pos < 4)
			return guts_error(GUTS_EINVAL,
					  "bad push options: they end before "
					  "their flush-pkt");
		if (!all_hex(body + *pos, 4))
			return bad_pkt(body + *pos, 4, "a bad pkt-line length");
		for (int i = 0; i < 4; i++)
			pkt_len =
			    pkt_len * 16 +
			    (size_t)hex_digit((unsigned char)body[*pos + i]);
		if (pkt_len == 0) {
			*pos += 4;
			return 0;
		}
		if (pkt_len < 4 || pkt_len > PKT_MAX || pkt_len > len - *pos)
			return bad_pkt(body + *pos, 4,
				       "a bad push option pkt-line");
		p = body + *pos + 4;
		plen = pkt_len - 4;
		*pos += pkt_len;
		if (plen && p[plen - 1] == '\n')
			plen--;
		if (memchr(p, '\0', plen))
			return bad_pkt(p, plen, "a NUL in a push option");
		if (opts->nr == GITX_MAX_PUSH_OPTIONS)
			return guts_error(GUTS_ETOOBIG,
					  "a push of more than %d push "
					  "options",
					  GITX_MAX_PUSH_OPTIONS);
		guts_strvec_push_nodup(opts, guts_xstrndup(p, plen));
	}
}

int gitx_parse_push(const char *body, size_t len, struct gitx_push *out)
{
	struct gitx_push p = {0};
	struct guts_strvec opts = GUTS_STRVEC_INIT;
	size_t pos = 0;
	int rc;

	rc = parse_commands(body, len, &p.updates, &p.nr, &p.caps, &pos);
	if (rc < 0)
		return rc;
	/* Options come only when the client said it sends them. */
	if (p.nr && gitx_push_has_cap(p.caps, "push-options")) {
		rc = parse_options(body, len, &pos, &opts);
		if (rc < 0) {
			guts_strvec_release(&opts);
			gitx_push_release(&p);
			return rc;
		}
	}
	p.nr_options = opts.nr;
	p.options = guts_strvec_detach(&opts);
	p.pack_at = pos;
	*out = p;
	return 0;
}

void gitx_push_release(struct gitx_push *p)
{
	gitx_ref_updates_free(p->updates, p->nr);
	guts_strvec_free_array(p->options);
	free(p->caps);
	memset(p, 0, sizeof(*p));
}

/* Append @len bytes as one pkt-line (the caller keeps it under PKT_MAX). */
static void pkt_add(struct guts_buf *b, const char *data, size_t len)
{
	guts_buf_addf(b, "%04zx", len + 4);
	guts_buf_add(b, data, len);
}

/* @data on side-band @band, in packets of at most @max payload bytes. */
static void band_add(struct guts_buf *b, int band, const char *data, size_t len,
		     size_t max)
{
	while (len) {
		size_t n = len > max ? max : len;

		guts_buf_addf(b, "%04zx", n + 5);
		guts_buf_addch(b, (char)band);
		guts_buf_add(b, data, n);
		data += n;
		len -= n;
	}
}

int gitx_push_refusal(struct guts_buf *out, const struct gitx_push *push,
		      char *const *why, const char *other, const char *message)
{
	struct guts_buf report;
	size_t max = 0;

	if (!gitx_push_has_cap(push->caps, "report-status") &&
	    !gitx_push_has_cap(push->caps, "report-status-v2"))
		return guts_error(GUTS_EINVAL,
				  "the client did not ask for a push report");
	if (gitx_push_has_cap(push->caps, "side-band-64k"))
		max = PKT_MAX - 5;
	else if (gitx_push_has_cap(push->caps, "side-band"))
		max = 1000 - 5;
	guts_buf_init(&report, 0);
	pkt_add(&report, "unpack ok\n", 10);
	for (size_t i = 0; i < push->nr; i++) {
		char *line = guts_xasprintf("ng %s %s\n", push->updates[i].ref,
					    why[i] ? why[i] : other);
		size_t n = strlen(line);

		/* A reason is one line; a pkt-line has a size limit. */
		for (size_t k = 0; k + 1 < n; k++)
			if (line[k] == '\n' || line[k] == '\r')
				line[k] = ' ';
		if (n > PKT_MAX - 4) {
			n = PKT_MAX - 4;
			line[n - 1] = '\n';
		}
		pkt_add(&report, line, n);
		free(line);
	}
	guts_buf_adds(&report, "0000");
	if (!max) {
		guts_buf_add(out, report.data, report.len);
		guts_buf_release(&report);
		return 0;
	}
	/* Progress first, as receive-pack sends its hooks' output. */
	if (message && *message) {
		struct guts_buf m;

		guts_buf_init(&m, 0);
		guts_buf_adds(&m, message);
		if (m.data[m.len - 1] != '\n')
			guts_buf_addch(&m, '\n');
		band_add(out, 2, m.data, m.len, max);
		guts_buf_release(&m);
	}
	band_add(out, 1, report.data, report.len, max);
	guts_buf_adds(out, "0000");
	guts_buf_release(&report);
	return 0;
}

void gitx_ref_updates_free(struct gitx_ref_update *u, size_t nr)
{
	if (!u)
		return;
	for (size_t i = 0; i < nr; i++)
		free(u[i].ref);
	free(u);
}

/* ---- git http-backend ---- */

/* "/o/r.git/info/refs": absolute, no empty, "." or ".." component. */
static int path_info_ok(const char *p)
{
	if (*p != '/')
		return 0;
	while (*p == '/') {
		const char *end = strchr(p + 1, '/');
		size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);

		if (!n || (n == 1 && p[1] == '.') ||
		    (n == 2 && p[1] == '.' && p[2] == '.'))
			return 0;
		for (size_t i = 1; i <= n; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == '\\')
				return 0;
		p += n + 1;
	}
	return 1;
}

static void env_add(struct guts_strvec *env, const char *name,
		    const char *value)
{
	if (value)
		guts_strvec_pushf(env, "%s=%s", name, value);
}

static void build_env(struct guts_strvec *env, const struct gitx_cgi_req *req,
		      long long content_length)
{
	const char *path = getenv("PATH");

	env_add(env, "PATH",
		path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	env_add(env, "HOME", "/nonexistent");
	env_add(env, "LC_ALL", "C");
	env_add(env, "GIT_CONFIG_NOSYSTEM", "1");
	env_add(env, "GIT_CONFIG_GLOBAL", "/dev/null");
	env_add(env, "GIT_PROJECT_ROOT", req->project_root);
	env_add(env, "GIT_HTTP_EXPORT_ALL", "1");
	env_add(env, "GATEWAY_INTERFACE", "CGI/1.1");
	env_add(env, "SERVER_PROTOCOL", "HTTP/1.1");
	env_add(env, "REQUEST_METHOD", req->method);
	env_add(env, "PATH_INFO", req->path_info);
	env_add(env, "QUERY_STRING", req->query ? req->query : "");
	env_add(env, "CONTENT_TYPE", req->content_type);
	if (content_length >= 0)
		guts_strvec_pushf(env, "CONTENT_LENGTH=%lld", content_length);
	env_add(env, "HTTP_CONTENT_ENCODING", req->content_encoding);
	env_add(env, "GIT_PROTOCOL", req->git_protocol);
	env_add(env, "REMOTE_USER", req->remote_user);
	env_add(env, "REMOTE_ADDR", req->remote_addr);
	/* receive-pack offers push options (`git push -o bypass`); the
	 * node reads them before git does (gitx_parse_push). */
	env_add(env, "GIT_CONFIG_COUNT", "2");
	env_add(env, "GIT_CONFIG_KEY_0", "receive.advertisePushOptions");
	env_add(env, "GIT_CONFIG_VALUE_0", "true");
	/* refs/pull/N/{head,merge} are the node's: a push cannot move them
	 * (receive-pack refuses updates to hidden refs); fetches still see
	 * them. */
	env_add(env, "GIT_CONFIG_KEY_1", "receive.hideRefs");
	env_add(env, "GIT_CONFIG_VALUE_1", "refs/pull");
}

/* The body's length when the caller did not say: what is left of the file. */
static long long body_length(const struct gitx_cgi_req *req)
{
	struct stat st;
	off_t at;

	if (req->content_length >= 0 || req->body_fd < 0)
		return req->content_length;
	if (fstat(req->body_fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	at = lseek(req->body_fd, 0, SEEK_CUR);
	if (at < 0 || at > st.st_size)
		return -1;
	return (long long)(st.st_size - at);
}

/* A file for the program's stderr: read back at the end, never blocks it. */
static int stderr_file(void)
{
	int fd = memfd_create("git-http-backend-stderr", MFD_CLOEXEC);

	if (fd < 0)
		fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return guts_error_errno("cannot make a file for git's stderr");
	return fd;
}

/* Up to CGI_ERR_MAX bytes of @fd from its start, trimmed; NULL if none. */
static char *read_stderr(int fd)
{
	char *buf = guts_xmalloc(CGI_ERR_MAX + 1);
	size_t len = 0;
	ssize_t n;

	while (len < CGI_ERR_MAX) {
		n = pread(fd, buf + len, CGI_ERR_MAX - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
		       buf[len - 1] == ' '))
		len--;
	if (!len) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static int wait_child(pid_t pid)
{
	int ws;

	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return guts_error_errno("cannot wait for git "
						"http-backend");
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return 255;
}

/*
 * git-http-backend itself, from `git --exec-path`, when it is there: two
 * process starts fewer per request than going through the `git` wrapper.
 */
static char *backend_path;

void gitx_find_backend(void)
{
	static const char *const argv[] = {"git", "--exec-path", NULL};
	struct guts_runcmd cmd = {argv, NULL, NULL, 0, 10000};
	struct guts_runcmd_result res;
	char *p;

	if (backend_path || guts_runcmd_run(&cmd, &res) < 0)
		return;
	if (res.status == 0) {
		res.out[strcspn(res.out, "\r\n")] = '\0';
		p = guts_xasprintf("%s/git-http-backend", res.out);
		if (access(p, X_OK) == 0)
			backend_path = p;
		else
			free(p);
	}
	guts_runcmd_result_release(&res);
}

static int spawn_backend(pid_t *pid, const struct gitx_cgi_req *req,
			 char **envp, int out_w, int err_fd)
{
	static char *argv[] = {"git", "http-backend", NULL};
	static char *direct[] = {"git-http-backend", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int err;

	posix_spawn_file_actions_init(&fa);
	guts_spawnattr_fresh(&attr);
	if (req->body_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, req->body_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY,
						 0);
	posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	/* Nothing else of the node's (client sockets...) goes along. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (backend_path)
		err = posix_spawn(pid, backend_path, &fa, &attr, direct, envp);
	else
		err = posix_spawnp(pid, argv[0], &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err == ENOENT)
		return guts_error(GUTS_ENOTFOUND,
				  "cannot run git http-backend: git is not "
				  "in PATH");
	if (err) {
		errno = err;
		return guts_error_errno("cannot run git http-backend");
	}
	return 0;
}

/*
 * Where the header block in @buf ends (just past its blank line), or 0
 * when it is not complete yet.  Lines end in "\n" or "\r\n".
 */
static size_t header_end(const char *buf, size_t len)
{
	size_t line = 0;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i == line || (i == line + 1 && buf[line] == '\r'))
			return i + 1;
		line = i + 1;
	}
	return 0;
}

static int parse_status(const char *v, int *status)
{
	int s = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (int i = 0; i < 3; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		s = s * 10 + (v[i] - '0');
	}
	if (v[3] && v[3] != ' ' && v[3] != '\t')
		return -1;
	if (s < 100 || s > 599)
		return -1;
	*status = s;
	return 0;
}

/* The header block, @len bytes with its blank line, into @c. */
static int parse_headers(const char *buf, size_t len, struct gitx_cgi *c)
{
	struct guts_strvec headers = GUTS_STRVEC_INIT;
	size_t at = 0;

	c->status = 200;
	while (at < len) {
		const char *start = buf + at;
		const char *eol = memchr(start, '\n', len - at);
		size_t n = (size_t)(eol - start);
		char *line, *colon;

		if (n && start[n - 1] == '\r')
			n--;
		if (!n)
			break;
		line = guts_xstrndup(start, n);
		at = (size_t)(eol - buf) + 1;
		colon = strchr(line, ':');
		if (!colon || colon == line || strlen(line) != n) {
			char *q = quote(start, n);

			free(line);
			guts_strvec_release(&headers);
			guts_error(GUTS_EGIT,
				   "git http-backend wrote a bad header "
				   "line %s",
				   q);
			free(q);
			return GUTS_EGIT;
		}
		if (colon - line == 6 && !strncasecmp(line, "Status", 6)) {
			if (parse_status(colon + 1, &c->status) < 0) {
				guts_error(GUTS_EGIT,
					   "git http-backend wrote a bad "
					   "status '%s'",
					   colon + 1);
				free(line);
				guts_strvec_release(&headers);
				return GUTS_EGIT;
			}
			free(line);
			continue;
		}
		guts_strvec_push_nodup(&headers, line);
	}
	c->headers = guts_strvec_detach(&headers);
	return 0;
}

/* Read up to the end of the header block; the rest read goes to pending. */
static int read_headers(struct gitx_cgi *c)
{
	struct guts_buf b;
	size_t end = 0;
	ssize_t n;
	int rc;

	guts_buf_init(&b, 0);
	while (!end) {
		if (guts_buf_grow(&b, 4096) < 0)
			break;
		do
			n = read(c->out_fd, b.data + b.len, 4096);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			rc = guts_error_errno("cannot read from git "
					      "http-backend");
			guts_buf_release(&b);
			return rc;
		}
		if (n == 0) {
			guts_buf_release(&b);
			return guts_error(GUTS_EGIT,
					  "git http-backend ended before its "
					  "headers");
		}
		b.len += (size_t)n;
		b.data[b.len] = '\0';
		end = header_end(b.data, b.len);
		if (!end && b.len >= GITX_MAX_CGI_HEADER) {
			guts_buf_release(&b);
			return guts_error(GUTS_EGIT,
					  "git http-backend wrote more than "
					  "%d bytes of headers",
					  GITX_MAX_CGI_HEADER);
		}
	}
	rc = parse_headers(b.data, end, c);
	if (!rc && b.len > end) {
		c->pending_len = b.len - end;
		c->pending = guts_xmalloc(c->pending_len);
		memcpy(c->pending, b.data + end, c->pending_len);
	}
	guts_buf_release(&b);
	return rc;
}

int gitx_cgi_start(const struct gitx_cgi_req *req, struct gitx_cgi *c)
{
	struct guts_strvec env = GUTS_STRVEC_INIT;
	struct gitx_cgi cgi = {.pid = -1, .out_fd = -1, .err_fd = -1};
	int out_p[2] = {-1, -1};
	int rc;

	if (!req->method || !req->project_root || !req->path_info)
		return guts_error(GUTS_EINVAL,
				  "git http-backend needs a method, a project "
				  "root and a path");
	if (!path_info_ok(req->path_info))
		return guts_error(GUTS_EINVAL, "bad git path '%s'",
				  req->path_info);
	build_env(&env, req, body_length(req));

	rc = stderr_file();
	if (rc < 0)
		goto fail;
	cgi.err_fd = rc;
	if (pipe2(out_p, O_CLOEXEC) < 0) {
		rc = guts_error_errno("cannot create a pipe");
		goto fail;
	}
	rc = spawn_backend(&cgi.pid, req, env.v, out_p[1], cgi.err_fd);
	close(out_p[1]);
	cgi.out_fd = out_p[0];
	if (rc < 0)
		goto fail;
	rc = read_headers(&cgi);
	if (rc < 0) {
		char *err;
		int status;

		/* Whatever it was doing, it is of no use now. */
		kill(-cgi.pid, SIGKILL);
		close(cgi.out_fd);
		cgi.out_fd = -1;
		status = wait_child(cgi.pid);
		cgi.pid = -1;
		err = read_stderr(cgi.err_fd);
		if (err || status > 0) {
			char *why = guts_xstrdup(guts_error_message());

			guts_error(rc, "%s (exit status %d)%s%s", why, status,
				   err ? ": " : "", err ? err : "");
			free(why);
		}
		free(err);
		goto fail;
	}
	guts_strvec_release(&env);
	*c = cgi;
	return 0;
fail:
	guts_strvec_release(&env);
	if (cgi.out_fd >= 0)
		close(cgi.out_fd);
	if (cgi.err_fd >= 0)
		close(cgi.err_fd);
	return rc;
}

void gitx_cgi_abort(struct gitx_cgi *c)
{
	if (c->pid > 0)
		kill(-c->pid, SIGTERM);
}

int gitx_cgi_finish(struct gitx_cgi *c)
{
	int status;

	if (c->pid <= 0)
		return guts_error(GUTS_EINVAL, "git http-backend is not "
					       "running");
	if (c->out_fd >= 0)
		close(c->out_fd);
	c->out_fd = -1;
	status = wait_child(c->pid);
	c->pid = -1;
	if (c->err_fd >= 0) {
		free(c->err);
		c->err = read_stderr(c->err_fd);
		close(c->err_fd);
		c->err_fd = -1;
	}
	return status;
}

void gitx_cgi_release(struct gitx_cgi *c)
{
	if (c->pid > 0) {
		gitx_cgi_abort(c);
		gitx_cgi_finish(c);
	}
	guts_strvec_free_array(c->headers);
	free(c->pending);
	free(c->err);
	c->headers = NULL;
	c->pending = NULL;
	c->pending_len = 0;
	c->err = NULL;
}
