/* Bare repositories read through libgit2 (see git.h). */
#include "git.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/strvec.h"
#include "banned.h"

/* Deepest directory nesting gitx_repo_remove() goes into. */
#define RM_MAX_DEPTH 64

/* Record @code with libgit2's last message after "@fmt: ". */
static int __attribute__((format(printf, 2, 3)))
git_fail(enum guts_err code, const char *fmt, ...)
{
	const git_error *e = git_error_last();
	va_list ap;
	char *what;
	int rc;

	va_start(ap, fmt);
	what = guts_xvasprintf(fmt, ap);
	va_end(ap);
	rc = guts_error(code, "%s: %s", what,
			e && e->message ? e->message : "unknown libgit2 error");
	free(what);
	return rc;
}

int gitx_global_init(void)
{
	static const int levels[] = {
	    GIT_CONFIG_LEVEL_PROGRAMDATA,
	    GIT_CONFIG_LEVEL_SYSTEM,
	    GIT_CONFIG_LEVEL_XDG,
	    GIT_CONFIG_LEVEL_GLOBAL,
	};

	if (git_libgit2_init() < 0)
		return git_fail(GUTS_EGIT, "cannot initialise libgit2");
	gitx_find_backend();
	/* The node calls in from many threads at once. */
	if (!(git_libgit2_features() & GIT_FEATURE_THREADS))
		return guts_error(GUTS_EGIT,
				  "libgit2 was built without thread support");
	/* Only a repository's own config: none of the node user's. */
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "") <
		    0)
			return git_fail(GUTS_EGIT,
					"cannot set libgit2's config path");
	return 0;
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static int is_sha(const char *s)
{
	return s && strlen(s) == GITX_SHA_HEX && is_hex(s, GITX_SHA_HEX);
}

static int is_zero_sha(const char *s)
{
	return !strcmp(s, GITX_ZERO_SHA);
}

static int parse_sha(git_oid *oid, const char *s)
{
	if (!is_sha(s))
		return guts_error(GUTS_EINVAL, "'%s' is not a 40-digit sha",
				  s ? s : "(null)");
	if (git_oid_fromstrn(oid, s, GITX_SHA_HEX) < 0)
		return git_fail(GUTS_EINVAL, "bad sha '%s'", s);
	return 0;
}

static void oid_hex(char *out, const git_oid *oid)
{
	git_oid_tostr(out, GITX_SHA_HEX + 1, oid);
}

static int repo_open(git_repository **repo, const char *path)
{
	int err;

	if (!path || !*path)
		return guts_error(GUTS_EINVAL, "no repository path");
	err = git_repository_open_ext(repo, path,
				      GIT_REPOSITORY_OPEN_NO_SEARCH |
					  GIT_REPOSITORY_OPEN_BARE |
					  GIT_REPOSITORY_OPEN_NO_DOTGIT,
				      NULL);
	if (err == GIT_ENOTFOUND)
		return guts_error(GUTS_ENOTFOUND, "no repository at '%s'",
				  path);
	if (err < 0)
		return git_fail(GUTS_EGIT, "cannot open repository '%s'", path);
	return 0;
}

/* The commit @oid names, tags peeled. */
static int commit_at(git_commit **out, git_repository *repo, const git_oid *oid)
{
	git_object *obj = NULL, *peeled = NULL;
	char hex[GITX_SHA_HEX + 1];
	int err;

	oid_hex(hex, oid);
	err = git_object_lookup(&obj, repo, oid, GIT_OBJECT_ANY);
	if (err == GIT_ENOTFOUND)
		return guts_error(GUTS_ENOTFOUND, "no object %s", hex);
	if (err < 0)
		return git_fail(GUTS_EGIT, "cannot read object %s", hex);
	err = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (err == GIT_EINVALIDSPEC || err == GIT_EPEEL || err == GIT_ENOTFOUND)
		return guts_error(GUTS_EINVAL, "%s is not a commit", hex);
	if (err < 0)
		return git_fail(GUTS_EGIT, "cannot peel %s", hex);
	*out = (git_commit *)peeled;
	return 0;
}

static int commit_of(git_commit **out, git_repository *repo, const char *sha)
{
	git_oid oid;
	int rc = parse_sha(&oid, sha);

	return rc < 0 ? rc : commit_at(out, repo, &oid);
}

/* The object @name ("refs/heads/x", "HEAD") points to, symrefs followed. */
static int ref_oid(git_oid *oid, git_repository *repo, const char *name)
{
	int valid = 0, err;

	if (git_reference_name_is_valid(&valid, name) < 0 || !valid)
		return guts_error(GUTS_ENOTFOUND, "no ref '%s'", name);
	err = git_reference_name_to_id(oid, repo, name);
	if (err == GIT_ENOTFOUND || err == GIT_EINVALIDSPEC)
		return guts_error(GUTS_ENOTFOUND, "no ref '%s'", name);
	if (err < 0)
		return git_fail(GUTS_EGIT, "cannot read ref '%s'", name);
	return 0;
}

int gitx_repo_init(const char *path, const char *default_branch)
{
	git_repository_init_options opts;
	git_repository *repo = NULL;
	git_config *cfg = NULL, *local = NULL;
	char *head;
	struct stat st;
	int valid = 0, err, rc = 0;

	if (!path || !*path)
		return guts_error(GUTS_EINVAL, "no repository path");
	if (!default_branch)
		default_branch = "main";
	head = guts_xasprintf("refs/heads/%s", default_branch);
	if (!*default_branch || git_reference_name_is_valid(&valid, head) < 0 ||
	    !valid) {
		free(head);
		return guts_error(GUTS_EINVAL, "bad branch name '%s'",
				  default_branch);
	}
	if (lstat(path, &st) == 0) {
		DIR *d = S_ISDIR(st.st_mode) ? opendir(path) : NULL;
		struct dirent *de;
		int empty = !!d;

		while (d && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				empty = 0;
		if (d)
			closedir(d);
		if (!empty) {
			free(head);
			return guts_error(GUTS_ECONFLICT, "'%s' already exists",
					  path);
		}
	}

	git_repository_init_options_init(&opts,
					 GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH |
		     GIT_REPOSITORY_INIT_NO_REINIT;
	opts.initial_head = head;
	err = git_repository_init_ext(&repo, path, &opts);
	free(head);
	if (err == GIT_EEXISTS)
		return guts_error(GUTS_ECONFLICT,
				  "a repository already exists at '%s'", path);
	if (err < 0)
		return git_fail(GUTS_EGIT, "cannot create repository '%s'",
				path);
	if (git_repository_config(&cfg, repo) < 0 ||
	    git_config_open_level(&local, cfg, GIT_CONFIG_LEVEL_LOCAL) < 0 ||
	    git_config_set_bool(local, "http.receivepack", 1) < 0 ||
	    /* No `git gc --auto` after every push: a process per push. */
	    git_config_set_bool(local, "receive.autogc", 0) < 0)
		rc = git_fail(GUTS_EGIT, "cannot configure repository '%s'",
			      path);
	git_config_free(local);
	git_config_free(cfg);
	git_repository_free(repo);
	if (rc < 0)
		gitx_repo_remove(path);
	return rc;
}

/* Remove @name in directory @dfd, recursively, following no link. */
static int rm_at(int dfd, const char *name, const char *top, int depth)
{
	struct guts_strvec names = GUTS_STRVEC_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, rc = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT
			   ? 0
			   : guts_error_errno("cannot remove '%s'", top);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
			return guts_error_errno("cannot remove a file in '%s'",
						top);
		return 0;
	}
	if (depth > RM_MAX_DEPTH)
		return guts_error(GUTS_EIO, "'%s' is nested too deeply", top);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return guts_error_errno("cannot open a directory in '%s'", top);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return guts_error_errno("cannot read a directory in '%s'", top);
	}
	/* Names first, removals after: readdir and unlink do not mix. */
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			guts_strvec_push(&names, de->d_name);
	for (size_t i = 0; i < names.nr && !rc; i++)
		rc = rm_at(dirfd(d), names.v[i], top, depth + 1);
	closedir(d);
	guts_strvec_release(&names);
	if (!rc && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = guts_error_errno("cannot remove a directory in '%s'", top);
	return rc;
}

int gitx_repo_remove(const char *path)
{
	static const char *const must[] = {"HEAD", "objects", "refs"};
	struct stat st;
	int fd;

	if (!path || !*path)
		return guts_error(GUTS_EINVAL, "no repository path");
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return guts_error(GUTS_ENOTFOUND,
					  "no repository at '%s'", path);
		return guts_error_errno("cannot look at '%s'", path);
	}
	if (!S_ISDIR(st.st_mode))
		return guts_error(GUTS_EINVAL, "'%s' is not a repository",
				  path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return guts_error_errno("cannot open '%s'", path);
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		if (fstatat(fd, must[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			close(fd);
			return guts_error(GUTS_EINVAL,
					  "'%s' is not a bare repository (no "
					  "%s)",
					  path, must[i]);
		}
	}
	close(fd);
	return rm_at(AT_FDCWD, path, path, 0);
}

int gitx_ref_target(const char *repo_path, const char *ref, char *out)
{
	git_repository *repo = NULL;
	git_oid oid;
	int rc;

	if (!ref || !*ref)
		return guts_error(GUTS_EINVAL, "no ref name");
	rc = repo_open(&repo, repo_path);
	if (rc < 0)
		return rc;
	rc = ref_oid(&oid, repo, ref);
	if (!rc)
		oid_hex(out, &oid);
	git_repository_free(repo);
	return rc;
}

int gitx_ref_sha(const char *repo_path, const char *ref, char *out)
{
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	git_oid oid;
	int rc;

	if (!ref || !*ref)
		return guts_error(GUTS_EINVAL, "no ref name");
	rc = repo_open(&repo, repo_path);
	if (rc < 0)
		return rc;
	rc = ref_oid(&oid, repo, ref);
	if (!rc)
		rc = commit_at(&commit, repo, &oid);
	if (!rc)
		oid_hex(out, git_commit_id(commit));
	git_commit_free(commit);
	git_repository_free(repo);
	return rc;
}

int gitx_is_ancestor(const char *repo_path, const char *ancestor,
		     const char *descendant)
{
	git_repository *repo = NULL;
	git_oid a, d;
	int rc;

	if (parse_sha(&a, ancestor) < 0 || parse_sha(&d, descendant) < 0)
		return guts_error(GUTS_EINVAL, "not a sha");
	if (git_oid_equal(&a, &d))
		return 1;
	rc = repo_open(&repo, repo_path);
	if (rc < 0)
		return rc;
	rc = git_graph_descendant_of(repo, &d, &a);
	if (rc < 0)
		rc = git_fail(GUTS_EGIT, "%s: ancestry of %.12s", repo_path,
			      descendant);
	git_repository_free(repo);
	return rc;
}

/* ---- a push's objects before git has them ---- */

struct gitx_quarantine {
	git_repository *repo;
	git_odb *odb;
	char *tmp_dir;
	char *dir; /* the temporary objects directory, once made */
	int pack_fd;
	long long pack_at;
	int indexed;
};

int gitx_quarantine_open(struct gitx_quarantine **out, const char *repo_path,
			 const char *tmp_dir, int pack_fd, long long pack_at)
{
	struct gitx_quarantine *q = guts_xcalloc(1, sizeof(*q));
	int rc = repo_open(&q->repo, repo_path);

	if (rc == 0 && git_repository_odb(&q->odb, q->repo) < 0)
		rc = git_fail(GUTS_EGIT, "%s: object database", repo_path);
	if (rc < 0) {
		gitx_quarantine_free(q);
		return rc;
	}
	q->tmp_dir = guts_xstrdup(tmp_dir);
	q->pack_fd = pack_fd;
	q->pack_at = pack_at;
	*out = q;
	return 0;
}

/* Index the pushed pack into q->dir/pack and read it as an alternate. */
static int quarantine_index(struct gitx_quarantine *q)
{
	git_indexer_options opts;
	git_indexer_progress stats;
	git_indexer *idx = NULL;
	char *pack_dir = NULL, buf[65536];
	long long at = q->pack_at;
	ssize_t got;
	int rc = 0;

	q->indexed = 1;
	git_indexer_options_init(&opts, GIT_INDEXER_OPTIONS_VERSION);
	if (q->pack_fd < 0)
		return 0;
	q->dir = guts_xasprintf("%s/quarantine-XXXXXX", q->tmp_dir);
	if (!mkdtemp(q->dir)) {
		rc = guts_error_errno("cannot make %s", q->dir);
		free(q->dir);
		q->dir = NULL;
		return rc;
	}
	pack_dir = guts_xasprintf("%s/pack", q->dir);
	if (mkdir(pack_dir, 0700) < 0) {
		rc = guts_error_errno("cannot make %s", pack_dir);
		goto out;
	}
	/* The odb resolves the bases of a thin pack. */
	if (git_indexer_new(&idx, pack_dir, 0, q->odb, &opts) < 0) {
		rc = git_fail(GUTS_EGIT, "indexing the pushed pack");
		goto out;
	}
	while ((got = pread(q->pack_fd, buf, sizeof(buf), (off_t)at)) > 0) {
		if (git_indexer_append(idx, buf, (size_t)got, &stats) < 0) {
			rc = git_fail(GUTS_EGIT, "indexing the pushed pack");
			goto out;
		}
		at += got;
	}
	if (got < 0) {
		rc = guts_error_errno("reading the pushed pack");
		goto out;
	}
	if (at == q->pack_at) /* no pack: a push of known commits */
		goto out;
	if (git_indexer_commit(idx, &stats) < 0 ||
	    git_odb_add_disk_alternate(q->odb, q->dir) < 0)
		rc = git_fail(GUTS_EGIT, "indexing the pushed pack");
out:
	git_indexer_free(idx);
	free(pack_dir);
	return rc;
}

int gitx_quarantine_is_ancestor(struct gitx_quarantine *q, const char *ancestor,
				const char *descendant)
{
	git_oid a, d;
	int rc;

	if (parse_sha(&a, ancestor) < 0 || parse_sha(&d, descendant) < 0)
		return guts_error(GUTS_EINVAL, "not a sha");
	if (git_oid_equal(&a, &d))
		return 1;
	if ((!git_odb_exists(q->odb, &a) || !git_odb_exists(q->odb, &d)) &&
	    !q->indexed) {
		rc = quarantine_index(q);
		if (rc < 0)
			return rc;
	}
	if (!git_odb_exists(q->odb, &a) || !git_odb_exists(q->odb, &d))
		return guts_error(GUTS_ENOTFOUND,
				  "commit %.12s is not in the repository or "
				  "the push",
				  git_odb_exists(q->odb, &a) ? descendant
							     : ancestor);
	rc = git_graph_descendant_of(q->repo, &d, &a);
	if (rc < 0)
		return git_fail(GUTS_EGIT, "ancestry of %.12s", descendant);
	return rc;
}

void gitx_quarantine_free(struct gitx_quarantine *q)
{
	if (!q)
		return;
	git_odb_free(q->odb);
	git_repository_free(q->repo);
	if (q->dir) {
		char *pack_dir = guts_xasprintf("%s/pack", q->dir);
		DIR *d = opendir(pack_dir);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		}
		if (d)
			closedir(d);
		rmdir(pack_dir);
		rmdir(q->dir);
		free(pack_dir);
		free(q->dir);
	}
	free(q->tmp_dir);
	free(q);
}

static int resolve_in(git_repository *repo, const char *rev, git_oid *out)
{
	static const char *const prefixes[] = {"refs/heads/", "refs/tags/"};
	size_t len = strlen(rev);
	git_object *obj;
	git_oid oid;
	int rc, err;

	if (len == GITX_SHA_HEX && is_hex(rev, len))
		return parse_sha(out, rev);
	if (!strncmp(rev, "refs/", 5) || !strcmp(rev, "HEAD"))
		return ref_oid(out, repo, rev);
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		char *name = guts_xasprintf("%s%s", prefixes[i], rev);

		rc = ref_oid(out, repo, name);
		free(name);
		if (rc != GUTS_ENOTFOUND)
			return rc;
	}
	if (len < 7 || len > GITX_SHA_HEX || !is_hex(rev, len))
		return guts_error(GUTS_ENOTFOUND,
				  "no branch, tag or commit '%s'", rev);
	if (git_oid_fromstrn(&oid, rev, len) < 0)
		return git_fail(GUTS_EINVAL, "bad sha '%s'", rev);
	err = git_object_lookup_prefix(&obj, repo, &oid, len, GIT_OBJECT_ANY);
	if (err == GIT_EAMBIGUOUS)
		return guts_error(GUTS_EINVAL, "sha '%s' is ambiguous", rev);
	if (err == GIT_ENOTFOUND)
		return guts_error(GUTS_ENOTFOUND,
				  "no branch, tag or commit '%s'", rev);
	if (err < 0)
		return git_fail(GUTS_EGIT, "cannot look up '%s'", rev);
	git_oid_cpy(out, git_object_id(obj));
	git_object_free(obj);
	return 0;
}

int gitx_resolve(const char *repo_path, const char *rev, char *out)
{
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	git_oid oid;
	int rc;

	if (!rev || !*rev)
		return guts_error(GUTS_EINVAL, "no revision");
	rc = repo_open(&repo, repo_path);
	if (rc < 0)
		return rc;
	rc = resolve_in(repo, rev, &oid);
	if (!rc)
		rc = commit_at(&commit, repo, &oid);
	if (!rc)
		oid_hex(out, git_commit_id(commit));
	git_commit_free(commit);
	git_repository_free(repo);
	return rc;
}

/*
 * The blob @oid, NUL-terminated, if it is at most GITX_MAX_FILE bytes; the
 * size is read from the object header first, so a huge blob is never
 * inflated.
 */
static int read_blob(git_repository *repo, const git_oid *oid, const char *path,
		     char **text, size_t *len)
{
	git_odb *odb = NULL;
	git_blob *blob = NULL;
	git_object_t type;
	size_t size = 0;
	char *buf;
	int err;

	if (git_repository_odb(&odb, repo) < 0)
		return git_fail(GUTS_EGIT, "cannot open the object database");
	err = git_odb_read_header(&size, &type, odb, oid);
	git_odb_free(odb);
	if (err < 0)
		return git_fail(GUTS_EGIT, "cannot read '%s'", path);
	if (size > GITX_MAX_FILE)
		return guts_error(GUTS_ETOOBIG,
				  "'%s' is %zu bytes; the limit is %d", path,
				  size, GITX_MAX_FILE);
	if (git_blob_lookup(&blob, repo, oid) < 0)
		return git_fail(GUTS_EGIT, "cannot read '%s'", path);
	size = (size_t)git_blob_rawsize(blob);
	if (size > GITX_MAX_FILE) {
		git_blob_free(blob);
		return guts_error(GUTS_ETOOBIG,
				  "'%s' is %zu bytes; the limit is %d", path,
				  size, GITX_MAX_FILE);
	}
	buf = guts_xmalloc(size + 1);
	if (size)
		memcpy(buf, git_blob_rawcontent(blob), size);
	buf[size] = '\0';
	git_blob_free(blob);
	*text = buf;
	*len = size;
	return 0;
}

static int is_regular(const git_tree_entry *e)
{
	git_filemode_t mode = git_tree_entry_filemode(e);

	return mode == GIT_FILEMODE_BLOB ||
	       mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !memcmp(s + n - m, suffix, m);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_entry_name(const void *a, const void *b)
{
	return strcmp(git_tree_entry_name(*(const git_tree_entry *const *)a),
		      git_tree_entry_name(*(const git_tree_entry *const *)b));
}

#define WORKFLOW_DIR ".guts/workflows"

static int read_workflows_in(git_repository *repo, git_tree *root,
			     struct gitx_file **out, size_t *nr)
{
	git_tree_entry *dirent = NULL;
	git_tree *dir = NULL;
	const git_tree_entry **picks = NULL;
	struct gitx_file *files;
	size_t n, nr_picks = 0;
	int err;

	*out = NULL;
	*nr = 0;
	err = git_tree_entry_bypath(&dirent, root, WORKFLOW_DIR);
	if (err == GIT_ENOTFOUND)
		return 0;
	if (err < 0)
		return git_fail(GUTS_EGIT, "cannot read " WORKFLOW_DIR);
	if (git_tree_entry_type(dirent) != GIT_OBJECT_TREE) {
		git_tree_entry_free(dirent);
		return 0;
	}
	err = git_tree_lookup(&dir, repo, git_tree_entry_id(dirent));
	git_tree_entry_free(dirent);
	if (err < 0)
		return git_fail(GUTS_EGIT, "cannot read " WORKFLOW_DIR);

	n = git_tree_entrycount(dir);
	picks = guts_xcalloc(n ? n : 1, sizeof(*picks));
	for (size_t i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(dir, i);
		const char *name = git_tree_entry_name(e);

		if (is_regular(e) &&
		    (ends_with(name, ".yml") || ends_with(name, ".yaml")))
			picks[nr_picks++] = e;
	}
	qsort(picks, nr_picks, sizeof(*picks), cmp_entry_name);
	if (nr_picks > GITX_MAX_WORKFLOWS)
		nr_picks = GITX_MAX_WORKFLOWS;

	files = guts_xcalloc(nr_picks ? nr_picks : 1, sizeof(*files));
	for (size_t i = 0; i < nr_picks; i++) {
		struct gitx_file *f = &files[i];
		int rc;

		f->path = guts_xasprintf(WORKFLOW_DIR "/%s",
					 git_tree_entry_name(picks[i]));
		rc = read_blob(repo, git_tree_entry_id(picks[i]), f->path,
			       &f->text, &f->len);
		if (rc == GUTS_ETOOBIG) {
			f->error = guts_xstrdup(guts_error_message());
		} else if (rc < 0) {
			gitx_files_free(files, i + 1);
			free(picks);
			git_tree_free(dir);
			return rc;
		}
	}
	free(picks);
	git_tree_free(dir);
	if (nr_picks) {
		*out = files;
		*nr = nr_picks;
	} else {
		free(files);
	}
	return 0;
}

int gitx_read_workflows(const char *repo_path, const char *sha,
			struct gitx_file **out, size_t *nr)
{
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	int rc;

	rc = repo_open(&repo, repo_path);
	if (rc < 0)
		return rc;
	rc = commit_of(&commit, repo, sha);
	if (!rc && git_commit_tree(&tree, commit) < 0)
		rc = git_fail(GUTS_EGIT, "cannot read the tree of %s", sha);
	if (!rc)
		rc = read_workflows_in(repo, tree, out, nr);
	git_tree_free(tree);
	git_commit_free(commit);
	git_repository_free(repo);
	return rc;
}

void gitx_files_free(struct gitx_file *f, size_t nr)
{
	if (!f)
		return;
	for (size_t i = 0; i < nr; i++) {
		free(f[i].path);
		free(f[i].text);
		free(f[i].error);
	}
	free(f);
}

int gitx_read_file(const char *repo_path, const char *sha, const char *path,
		   char **text, size_t *len)
{
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	int rc, err;

	if (!path)
		return guts_error(GUTS_EINVAL, "no file path");
	while (!strncmp(path, "./", 2))
		path += 2;
	if (!*path || *path == '/')
		return guts_error(GUTS_EINVAL, "bad file path '%s'", path);
	rc = repo_open(&repo, repo_path);
	if (rc < 0)
		return rc;
	rc = commit_of(&commit, repo, sha);
	if (!rc && git_commit_tree(&tree, commit) < 0)
		rc = git_fail(GUTS_EGIT, "cannot read the tree of %s", sha);
	if (!rc) {
		err = git_tree_entry_bypath(&e, tree, path);
		if (err == GIT_ENOTFOUND || (!err && !is_regular(e)))
			rc = guts_error(GUTS_ENOTFOUND, "no file '%s' in %s",
					path, sha);
		else if (err < 0)
			rc = git_fail(GUTS_EGIT, "cannot look up '%s'", path);
	}
	if (!rc)
		rc = read_blob(repo, git_tree_entry_id(e), path, text, len);
	git_tree_entry_free(e);
	git_tree_free(tree);
	git_commit_free(commit);
	git_repository_free(repo);
	return rc;
}

/*
 * Where a new branch's changes start: the merge base of @new and the
 * default branch.  0 with *found 0 when there is none to be had.
 */
static int new_branch_base(git_repository *repo, const git_commit *new,
			   const char *default_branch, git_commit **base,
			   int *found)
{
	git_commit *def = NULL;
	git_oid def_oid, base_oid;
	char *name;
	int rc, err;

	*found = 0;
	if (!default_branch || !*default_branch)
		return 0;
	name = guts_xasprintf("refs/heads/%s", default_branch);
	rc = ref_oid(&def_oid, repo, name);
	free(name);
	if (rc == GUTS_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	rc = commit_at(&def, repo, &def_oid);
	if (rc == GUTS_ENOTFOUND || rc == GUTS_EINVAL)
		return 0;
	if (rc < 0)
		return rc;
	err = git_merge_base(&base_oid, repo, git_commit_id(new),
			     git_commit_id(def));
	git_commit_free(def);
	if (err == GIT_ENOTFOUND)
		return 0;
	if (err < 0)
		return git_fail(GUTS_EGIT, "cannot find a merge base");
	rc = commit_at(base, repo, &base_oid);
	if (!rc)
		*found = 1;
	return rc;
}

/* Both paths of every delta of old..new, sorted and unique, into @paths. */
static int diff_paths(git_repository *repo, git_commit *old, git_commit *new,
		      struct guts_strvec *paths, int *have_paths)
{
	git_tree *old_tree = NULL, *new_tree = NULL;
	git_diff *diff = NULL;
	struct guts_strvec all = GUTS_STRVEC_INIT;
	size_t n;
	int rc = 0;

	if (git_commit_tree(&old_tree, old) < 0 ||
	    git_commit_tree(&new_tree, new) < 0) {
		rc = git_fail(GUTS_EGIT, "cannot read a commit's tree");
		goto out;
	}
	if (git_diff_tree_to_tree(&diff, repo, old_tree, new_tree, NULL) < 0) {
		rc = git_fail(GUTS_EGIT, "cannot diff the push");
		goto out;
	}
	n = git_diff_num_deltas(diff);
	/* Each delta has at least one path of its own. */
	if (n > GITX_MAX_CHANGED_PATHS) {
		*have_paths = 0;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);

		if (d->old_file.path)
			guts_strvec_push(&all, d->old_file.path);
		if (d->new_file.path &&
		    (!d->old_file.path ||
		     strcmp(d->old_file.path, d->new_file.path)))
			guts_strvec_push(&all, d->new_file.path);
	}
	if (all.nr)
		qsort(all.v, all.nr, sizeof(*all.v), cmp_str);
	n = 0;
	for (size_t i = 0; i < all.nr; i++)
		n += !i || strcmp(all.v[i - 1], all.v[i]);
	if (n > GITX_MAX_CHANGED_PATHS) {
		*have_paths = 0;
		goto out;
	}
	for (size_t i = 0; i < all.nr; i++) {
		if (i && !strcmp(all.v[i - 1], all.v[i]))
			continue;
		guts_strvec_push(paths, all.v[i]);
	}
	*have_paths = 1;
out:
	guts_strvec_release(&all);
	git_diff_free(diff);
	git_tree_free(old_tree);
	git_tree_free(new_tree);
	return rc;
}

int gitx_changed_paths(const char *repo_path, const char *old_sha,
		       const char *new_sha, const char *default_branch,
		       struct guts_strvec *paths, int *have_paths)
{
	git_repository *repo = NULL;
	git_commit *old = NULL, *new = NULL;
	git_oid oid;
	int rc, found = 0, have = 0;

	if (!is_sha(old_sha) || !is_sha(new_sha))
		return guts_error(GUTS_EINVAL,
				  "'%s..%s' is not a range of "
				  "40-digit shas",
				  old_sha ? old_sha : "(null)",
				  new_sha ? new_sha : "(null)");
	if (is_zero_sha(new_sha)) {
		*have_paths = 0;
		return 0;
	}
	rc = repo_open(&repo, repo_path);
	if (rc < 0)
		return rc;
	rc = commit_of(&new, repo, new_sha);
	if (rc < 0)
		goto out;
	if (is_zero_sha(old_sha)) {
		rc = new_branch_base(repo, new, default_branch, &old, &found);
	} else {
		rc = parse_sha(&oid, old_sha);
		if (!rc)
			rc = commit_at(&old, repo, &oid);
		found = !rc;
		/* Gone (or never a commit): no list, not an error. */
		if (rc == GUTS_ENOTFOUND || rc == GUTS_EINVAL)
			rc = 0;
	}
	if (rc < 0)
		goto out;
	if (found)
		rc = diff_paths(repo, old, new, paths, &have);
	if (!rc)
		*have_paths = have;
out:
	git_commit_free(old);
	git_commit_free(new);
	git_repository_free(repo);
	return rc;
}

int gitx_commit_info(const char *repo_path, const char *sha, char **subject,
		     char **author)
{
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	const git_signature *sig;
	const char *msg, *eol;
	size_t n;
	int rc;

	rc = repo_open(&repo, repo_path);
	if (rc < 0)
		return rc;
	rc = commit_of(&commit, repo, sha);
	if (!rc) {
		msg = git_commit_message(commit);
		if (!msg)
			msg = "";
		eol = strchr(msg, '\n');
		n = eol ? (size_t)(eol - msg) : strlen(msg);
		while (n && (msg[n - 1] == '\r' || msg[n - 1] == ' ' ||
			     msg[n - 1] == '\t'))
			n--;
		sig = git_commit_author(commit);
		*subject = guts_xstrndup(msg, n);
		*author = guts_xstrdup(sig && sig->name ? sig->name : "");
	}
	git_commit_free(commit);
	git_repository_free(repo);
	return rc;
}

/* ---- pull requests: merges and refs ------------------------------------ */

/* The paths of the conflicts in @index, sorted, into @out. */
static void conflict_paths(git_index *index, struct guts_strvec *out)
{
	git_index_conflict_iterator *it = NULL;
	const git_index_entry *anc, *ours, *theirs;
	struct guts_strvec all = GUTS_STRVEC_INIT;

	if (git_index_conflict_iterator_new(&it, index) < 0)
		return;
	while (git_index_conflict_next(&anc, &ours, &theirs, it) == 0) {
		const git_index_entry *e = ours ? ours : theirs ? theirs : anc;

		if (e)
			guts_strvec_push(&all, e->path);
	}
	git_index_conflict_iterator_free(it);
	if (all.nr)
		qsort(all.v, all.nr, sizeof(*all.v), cmp_str);
	for (size_t i = 0; i < all.nr; i++)
		if (!i || strcmp(all.v[i - 1], all.v[i]))
			guts_strvec_push(out, all.v[i]);
	guts_strvec_release(&all);
}

int gitx_merge(const char *repo_path, const char *base_sha,
	       const char *head_sha, int squash, const char *message,
	       const char *name, const char *email, char *out,
	       struct guts_strvec *conflicts)
{
	git_repository *repo = NULL;
	git_commit *base = NULL, *head = NULL;
	git_index *index = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_merge_options opts;
	git_oid tree_oid, oid;
	int rc;

	git_merge_options_init(&opts, GIT_MERGE_OPTIONS_VERSION);
	rc = repo_open(&repo, repo_path);
	if (rc < 0)
		return rc;
	rc = commit_of(&base, repo, base_sha);
	if (!rc)
		rc = commit_of(&head, repo, head_sha);
	if (rc < 0)
		goto out;
	if (git_merge_commits(&index, repo, base, head, &opts) < 0) {
		rc = git_fail(GUTS_EGIT, "cannot merge %.12s into %.12s",
			      head_sha, base_sha);
		goto out;
	}
	if (git_index_has_conflicts(index)) {
		if (conflicts)
			conflict_paths(index, conflicts);
		rc = guts_error(GUTS_ECONFLICT,
				"%.12s and %.12s do not merge cleanly",
				head_sha, base_sha);
		goto out;
	}
	if (git_index_write_tree_to(&tree_oid, index, repo) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_oid) < 0) {
		rc = git_fail(GUTS_EGIT, "cannot write the merged tree");
		goto out;
	}
	if (git_signature_now(&sig, name && *name ? name : "Guts",
			      email && *email ? email : "guts@localhost") < 0) {
		rc = git_fail(GUTS_EINVAL, "bad signature '%s'", name);
		goto out;
	}
	{
		const git_commit *parents[2] = {base, head};

		if (git_commit_create(&oid, repo, NULL, sig, sig, "UTF-8",
				      message, tree, squash ? 1 : 2,
				      parents) < 0) {
			rc = git_fail(GUTS_EGIT,
				      "cannot write the merge commit");
			goto out;
		}
	}
	oid_hex(out, &oid);
out:
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(index);
	git_commit_free(head);
	git_commit_free(base);
	git_repository_free(repo);
	return rc;
}

int gitx_set_ref(const char *repo_path, const char *ref, const char *new_sha,
		 const char *old_sha, const char *log_message)
{
	git_repository *repo = NULL;
	git_reference *r = NULL;
	git_oid new_oid, old_oid;
	int rc, err, valid = 0;

	if (ref)
		git_reference_name_is_valid(&valid, ref);
	if (!ref || strncmp(ref, "refs/", 5) || !valid)
		return guts_error(GUTS_EINVAL, "bad ref name '%s'",
				  ref ? ref : "(null)");
	if (parse_sha(&new_oid, new_sha) < 0 ||
	    (old_sha && parse_sha(&old_oid, old_sha) < 0))
		return guts_error(GUTS_EINVAL, "not a sha");
	rc = repo_open(&repo, repo_path);
	if (rc < 0)
		return rc;
	if (!old_sha)
		err = git_reference_create(&r, repo, ref, &new_oid, 1,
					   log_message);
	else if (is_zero_sha(old_sha))
		err = git_reference_create(&r, repo, ref, &new_oid, 0,
					   log_message);
	else
		err = git_reference_create_matching(&r, repo, ref, &new_oid, 1,
						    &old_oid, log_message);
	if (err == GIT_EMODIFIED || err == GIT_EEXISTS)
		rc = guts_error(GUTS_ECONFLICT, "%s moved underneath us", ref);
	else if (err < 0)
		rc = git_fail(GUTS_EGIT, "cannot update %s", ref);
	git_reference_free(r);
	git_repository_free(repo);
	return rc;
}

int gitx_delete_ref(const char *repo_path, const char *ref)
{
	git_repository *repo = NULL;
	int rc, err;

	rc = repo_open(&repo, repo_path);
	if (rc < 0)
		return rc;
	err = git_reference_remove(repo, ref);
	if (err < 0 && err != GIT_ENOTFOUND)
		rc = git_fail(GUTS_EGIT, "cannot delete %s", ref);
	git_repository_free(repo);
	return rc;
}
