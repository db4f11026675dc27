/*
 * The node's git side: bare repositories on disk, read through libgit2, and
 * served over smart HTTP by `git http-backend` (a CGI program).
 *
 * Every function opens the repository it works on and closes it before
 * returning, so they can be called from any number of threads at once (each
 * call has its own git_repository; libgit2 is built thread-safe).  Errors
 * follow guts/error.h: 0 or a negative enum guts_err with the reason in
 * guts_error_message(); out-parameters are written only on success.
 *
 * Object names are 40 hex digits (SHA-1 repositories only); every sha this
 * module hands out is lower case, in a 41-byte NUL-terminated buffer.
 *
 * libgit2 is kept away from the node user's own git configuration:
 * gitx_global_init() empties its system, global and XDG config search paths,
 * and http-backend runs with GIT_CONFIG_NOSYSTEM=1 and a HOME without
 * a .gitconfig, so only each repository's own config counts.
 */
#ifndef GUTS_NODE_GIT_H
#define GUTS_NODE_GIT_H

#include <stddef.h>
#include <sys/types.h>

struct guts_buf;
struct guts_strvec;

#define GITX_SHA_HEX 40
#define GITX_ZERO_SHA "0000000000000000000000000000000000000000"

/* Limits. */
#define GITX_MAX_COMMANDS 10000		/* ref updates in one push */
#define GITX_MAX_REF_LEN 4096		/* bytes in one ref name */
#define GITX_MAX_FILE (1024 * 1024)	/* a workflow or reusable file */
#define GITX_MAX_WORKFLOWS 200		/* files read from .guts/workflows */
#define GITX_MAX_CHANGED_PATHS 100000	/* above: no path list at all */
#define GITX_MAX_CGI_HEADER (64 * 1024) /* the CGI's header block */

/** Once per process, before any other call here (git_libgit2_init). */
int gitx_global_init(void);
/* Look up git-http-backend once (gitx_global_init() does). */
void gitx_find_backend(void);

/**
 * Create a bare repository at @path (missing parents are made) whose HEAD
 * is refs/heads/@default_branch (NULL: "main"), with http.receivepack=true
 * in its config so that http-backend accepts pushes whoever the user is:
 * the caller authorises before it hands a push to gitx_cgi_start().
 * GUTS_ECONFLICT when a repository is already there, GUTS_EINVAL for a bad
 * branch name.
 */
int gitx_repo_init(const char *path, const char *default_branch);

/**
 * Remove the bare repository at @path and everything in it.  Refuses
 * (GUTS_EINVAL) a directory that does not look like a bare repository (no
 * HEAD, objects/ and refs/), so a wrong path cannot wipe something else;
 * GUTS_ENOTFOUND when @path does not exist.  Symbolic links inside are
 * removed, never followed.
 */
int gitx_repo_remove(const char *path);

/* ---- receive-pack command lists ---- */

/* One ref update requested by a push; all-zero old: create, new: delete. */
struct gitx_ref_update {
	char old_sha[GITX_SHA_HEX + 1]; /* lower case */
	char new_sha[GITX_SHA_HEX + 1];
	char *ref; /* "refs/heads/main" */
};

/**
 * Parse the command list at the start of a git-receive-pack request body:
 * pkt-lines "<old> <new> <ref>\0<caps>\n" (capabilities on the first only),
 * "<old> <new> <ref>\n" ..., then a flush "0000"; whatever follows (push
 * options, the pack) is not looked at.  "shallow <sha>" lines before the
 * commands (a push from a shallow clone) are skipped.  An empty list (a
 * lone flush) gives *nr 0 and *out NULL.
 *
 * Safe on any bytes.  GUTS_EINVAL, with the reason, for a malformed pkt-line
 * (bad hex length, a length past the end or over 65520, a missing flush),
 * a bad sha or ref name (which must start with "refs/", be at most 4096
 * bytes and hold no control characters or spaces), a signed push (a
 * push-cert: refused) or a body of a protocol we do not speak;
 * GUTS_ETOOBIG for more than 10000 commands.
 */
int gitx_parse_push_commands(const char *body, size_t len,
			     struct gitx_ref_update **out, size_t *nr);
void gitx_ref_updates_free(struct gitx_ref_update *u, size_t nr);

#define GITX_MAX_PUSH_OPTIONS 100 /* `git push -o` options in one push */

/* The parts of a receive-pack request body before its pack. */
struct gitx_push {
	struct gitx_ref_update *updates;
	size_t nr;
	char *caps;	/* the first command's capabilities; "" when none */
	char **options; /* push options, NULL-terminated (never NULL) */
	size_t nr_options;
	size_t pack_at; /* where the pack (if any) starts in the body */
};

/**
 * gitx_parse_push_commands(), plus the capabilities, the push options
 * (when the capabilities include "push-options": pkt-lines up to a flush,
 * at most 100) and the offset of the pack.  Same errors; a malformed
 * option list is GUTS_EINVAL.  Release with gitx_push_release().
 */
int gitx_parse_push(const char *body, size_t len, struct gitx_push *out);
void gitx_push_release(struct gitx_push *p);

/** Whether the space-separated @caps has the capability @name. */
int gitx_push_has_cap(const char *caps, const char *name);

/**
 * Append to @out the body of a receive-pack answer that refuses the whole
 * push without running git: report-status ("unpack ok", then "ng REF
 * REASON" for every update: @why[i], or @other when that is NULL), wrapped
 * in side-band(-64k) when the client asked for it, after @message (may be
 * NULL) on band 2, which git prints as "remote: ..." lines.  Serve it as
 * application/x-git-receive-pack-result.  GUTS_EINVAL (nothing appended)
 * when the client did not ask for report-status: it would then take any
 * answer for success, so refuse it at the HTTP level instead.
 */
int gitx_push_refusal(struct guts_buf *out, const struct gitx_push *push,
		      char *const *why, const char *other, const char *message);

/*
 * A repository together with the objects a push brings, before git has
 * them: the pack of the request body is indexed (libgit2) into a temporary
 * directory that the repository's object database reads as an alternate,
 * as receive-pack's quarantine does.  Nothing is written to the repository.
 */
struct gitx_quarantine;

/**
 * Open @repo_path with the pack at byte @pack_at of the regular file
 * @pack_fd (-1: no pack); the pack is only indexed (under @tmp_dir) when a
 * commit the repository lacks is asked about.  Free with
 * gitx_quarantine_free(), which removes the temporary files.
 */
int gitx_quarantine_open(struct gitx_quarantine **out, const char *repo_path,
			 const char *tmp_dir, int pack_fd, long long pack_at);
void gitx_quarantine_free(struct gitx_quarantine *q);

/**
 * gitx_is_ancestor() over the repository and the pushed pack: 1 yes, 0 no;
 * GUTS_ENOTFOUND when either commit is in neither, GUTS_EGIT when the pack
 * cannot be indexed.
 */
int gitx_quarantine_is_ancestor(struct gitx_quarantine *q, const char *ancestor,
				const char *descendant);

/* ---- reading repositories ---- */

/**
 * The commit @ref ("refs/heads/main", "refs/tags/v1", "HEAD") points to
 * now, annotated tags peeled, into @out (41 bytes).  GUTS_ENOTFOUND when
 * there is no such ref (or no repository), GUTS_EINVAL when it names
 * something that is not a commit (a tag of a tree).
 */
int gitx_ref_sha(const char *repo_path, const char *ref, char *out);

/**
 * Whether commit @ancestor is @descendant or one of its ancestors (a push
 * from @ancestor to @descendant fast-forwards): 1 yes, 0 no, < 0 error.
 */
int gitx_is_ancestor(const char *repo_path, const char *ancestor,
		     const char *descendant);

/**
 * The object @ref points to now, not peeled: for an annotated tag, the tag
 * object.  This is what a push's new_sha is, so use this one (not
 * gitx_ref_sha) to tell whether a pushed update landed.  GUTS_ENOTFOUND
 * when there is no such ref.
 */
int gitx_ref_target(const char *repo_path, const char *ref, char *out);

/**
 * Resolve @rev to a full commit sha in @out (41 bytes): a full ref name
 * ("refs/..."), "HEAD", a 40-digit sha, a branch name, a tag name (branches
 * first, as GitHub does for a ref input), or an abbreviated sha of 7 or more
 * digits.  No revision syntax ("main~1", "@{...}", ":/text") is taken.
 * GUTS_ENOTFOUND when nothing matches, GUTS_EINVAL when an abbreviated sha
 * is ambiguous or the match is not a commit.
 */
int gitx_resolve(const char *repo_path, const char *rev, char *out);

/* A file read at a commit. */
struct gitx_file {
	char *path; /* ".guts/workflows/ci.yml" */
	char *text; /* NUL-terminated; NULL when error is set */
	size_t len;
	char *error; /* why there is no text (too big), or NULL */
};

/**
 * The workflow files at commit @sha: every regular file (blob, executable
 * or not; symbolic links and submodules are skipped) directly in
 * .guts/workflows/ whose name ends in .yml or .yaml, sorted by path.  A file
 * over 1 MiB comes back with text NULL and error set.  At most 200 files:
 * past that, the rest (in path order) are left out.  No such directory:
 * 0 with *nr 0.  GUTS_EINVAL when @sha is not 40 hex digits or names
 * something other than a commit (or a tag of one), GUTS_ENOTFOUND when the
 * repository does not have it.
 */
int gitx_read_workflows(const char *repo_path, const char *sha,
			struct gitx_file **out, size_t *nr);
void gitx_files_free(struct gitx_file *f, size_t nr);

/**
 * The file at @path ("dir/x.yml"; a leading "./" is dropped) in commit
 * @sha, NUL-terminated in *text (caller frees), its size in *len.
 * GUTS_ENOTFOUND when there is no regular file there, GUTS_ETOOBIG when it
 * is over 1 MiB.
 */
int gitx_read_file(const char *repo_path, const char *sha, const char *path,
		   char **text, size_t *len);

/**
 * The paths a push changed, into @paths (sorted, unique), with
 * *have_paths 1; or *have_paths 0 and @paths left empty when there is no
 * path list to give, and the caller skips path filters:
 *
 *  - @old_sha..@new_sha, both full shas: the difference of their trees,
 *    old and new path of every added, deleted, modified, renamed or
 *    type-changed file (a submodule counts as a file);
 *  - @old_sha all zeros (a new branch): against the merge base of @new_sha
 *    and refs/heads/@default_branch; *have_paths 0 when @default_branch is
 *    NULL or has no ref, or when there is no merge base.  A first push of
 *    the default branch itself finds its own tip as the merge base and so
 *    no changes: for that push pass @default_branch NULL;
 *  - @new_sha all zeros (a deletion), or an @old_sha that is not in the
 *    repository (any more): *have_paths 0;
 *  - more than 100000 paths: *have_paths 0.
 *
 * Annotated tags are peeled to their commits.  @paths must be initialised;
 * it is appended to.  GUTS_EINVAL for a malformed sha, GUTS_ENOTFOUND when
 * @new_sha is not in the repository.
 */
int gitx_changed_paths(const char *repo_path, const char *old_sha,
		       const char *new_sha, const char *default_branch,
		       struct guts_strvec *paths, int *have_paths);

/**
 * For a run's title: the first line of @sha's message (without the line
 * end; "" for an empty message) and its author's name, both fresh strings.
 * They are the commit's bytes: not necessarily UTF-8.
 */
int gitx_commit_info(const char *repo_path, const char *sha, char **subject,
		     char **author);

/* ---- smart HTTP through `git http-backend` (CGI) ---- */

struct gitx_cgi_req {
	const char *method;	  /* GET / POST */
	const char *project_root; /* data/repos  */
	const char *path_info;	  /* "/owner/name.git/info/refs" */
	const char *query;	  /* "service=git-upload-pack" or "" / NULL */
	const char *content_type; /* may be NULL */
	/* gzip for some upload-pack requests; passed as HTTP_CONTENT_ENCODING
	 */
	const char *content_encoding;
	const char *git_protocol; /* Git-Protocol header (v2), may be NULL */
	const char *remote_user;  /* REMOTE_USER when authenticated, or NULL */
	const char *remote_addr;  /* may be NULL */
	/* The request body, a regular file positioned at its start, or -1. */
	int body_fd;
	/* -1: unknown; then taken from @body_fd's size when there is one. */
	long long content_length;
};

struct gitx_cgi {
	pid_t pid;
	int out_fd;	/* the rest of the response body; blocking */
	int status;	/* from the "Status:" header; 200 without one */
	char **headers; /* NULL-terminated "Name: value" lines but Status */
	char *pending;	/* body bytes read along with the headers */
	size_t pending_len;
	/* After gitx_cgi_finish: what the program wrote to stderr (up to
	 * 64 KiB, NUL-terminated, for the log), or NULL when nothing. */
	char *err;
	int err_fd; /* private: where stderr goes */
};

/**
 * Start `git http-backend` for @req with posix_spawnp (git is looked for in
 * the node's PATH), in a process group of its own, with a clean environment
 * (GIT_PROJECT_ROOT, GIT_HTTP_EXPORT_ALL, the CGI variables, PATH, a HOME
 * without config, GIT_CONFIG_NOSYSTEM), stdin the body (or /dev/null) and
 * stderr kept aside; then read its header block (at most 64 KiB).
 *
 * 0 with @c filled: send c->status and c->headers, then c->pending, then
 * read c->out_fd to end of file and send that; then gitx_cgi_finish() and
 * gitx_cgi_release().  On error (GUTS_EINVAL for a path_info with "..",
 * "." or empty components, GUTS_ENOTFOUND when git cannot be run,
 * GUTS_EGIT when it exited or wrote garbage before finishing its headers,
 * with its stderr in the message) nothing is left to release.
 *
 * http-backend serves pushes (receive-pack) to anyone who gets here: check
 * the user may push before calling it for a git-receive-pack request.
 */
int gitx_cgi_start(const struct gitx_cgi_req *req, struct gitx_cgi *c);

/**
 * Stop early (the client went away): SIGTERM to the program's group, so it
 * cannot keep gitx_cgi_finish() waiting.  Call gitx_cgi_finish() after.
 * Do not use it on a push whose body was read in full: let receive-pack
 * finish the update instead (read out_fd to the end and drop the bytes).
 */
void gitx_cgi_abort(struct gitx_cgi *c);

/**
 * Close out_fd, wait for the program and collect its stderr into c->err.
 * Returns its exit status (0..255; 128 + signal when a signal ended it) or a
 * negative error; calling it again returns GUTS_EINVAL.
 */
int gitx_cgi_finish(struct gitx_cgi *c);

/** Free what @c holds (finishing first, if that was not done). */
void gitx_cgi_release(struct gitx_cgi *c);

/* ---- pull requests ---- */

/**
 * Merge commit @head_sha into @base_sha in memory and write the result as a
 * new commit (referenced by nothing yet), its sha in @out: with parents
 * base and head, or with @squash base only.  @message is the commit
 * message; @name and @email sign it as author and committer (NULL: Guts).
 * GUTS_ECONFLICT when the two do not merge cleanly, with the conflicting
 * paths (sorted, each once) pushed onto @conflicts when not NULL.
 */
int gitx_merge(const char *repo_path, const char *base_sha,
	       const char *head_sha, int squash, const char *message,
	       const char *name, const char *email, char *out,
	       struct guts_strvec *conflicts);

/**
 * Point @ref (a full "refs/..." name) at @new_sha.  @old_sha NULL: whatever
 * it pointed at; all zeros: only when it does not exist yet; a sha: only
 * when it still points there.  GUTS_ECONFLICT when the ref is not what
 * @old_sha says (a push or merge moved it first).
 */
int gitx_set_ref(const char *repo_path, const char *ref, const char *new_sha,
		 const char *old_sha, const char *log_message);

/** Delete @ref; a ref that is already gone is not an error. */
int gitx_delete_ref(const char *repo_path, const char *ref);

#endif
