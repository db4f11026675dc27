/*
 * Files in and out of the workspace for the built-in actions.
 *
 * The workspace is untrusted (a step may have planted symbolic links, and a
 * background process from an earlier step may still be changing it), and
 * the built-ins run outside the sandbox with the executor's rights.  So:
 *
 *  - reading: a file is opened first and then checked where it really is
 *    (the kernel's name for the open descriptor, /proc/self/fd/N), so a
 *    link swapped in between the walk and the open cannot leak a file from
 *    outside the workspace or the home;
 *  - writing: every directory below the workspace (or home) is opened with
 *    O_NOFOLLOW, one component at a time, and files are created with
 *    O_EXCL | O_NOFOLLOW under a temporary name and renamed into place, so
 *    nothing is ever written through a symbolic link.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/hash.h"
#include "builtin_internal.h"
#include "banned.h"

/* Deepest directory nesting walked, copied or cleared. */
#define MAX_DEPTH 256

/* The real (symlink-free) workspace and home, for checking open files. */
struct roots {
	char *ws, *home;
};

static void roots_init(struct roots *r, const struct guts_builtin_ctx *ctx)
{
	r->ws = realpath(ctx->workspace, NULL);
	r->home = ctx->home ? realpath(ctx->home, NULL) : NULL;
}

static void roots_release(struct roots *r)
{
	free(r->ws);
	free(r->home);
}

static int roots_inside(const struct roots *r, const char *real)
{
	return (r->ws && guts__path_under(real, r->ws)) ||
	       (r->home && guts__path_under(real, r->home));
}

/* ---- collecting --------------------------------------------------- */

struct walk {
	const struct guts_builtin_ctx *ctx;
	const struct guts__collect_opts *opts;
	const struct guts_pathglob *g;
	struct roots roots;
	struct guts_strvec *files;
	struct {
		dev_t dev;
		ino_t ino;
	} stack[MAX_DEPTH];
	size_t depth;
};

static int visit(struct walk *w, const char *path, int is_root)
{
	const char *base = strrchr(path, '/');
	struct stat st;
	int rc = 0;

	base = base ? base + 1 : path;
	if (lstat(path, &st) < 0)
		return 0; /* gone, or never there */
	if (!is_root && base[0] == '.' && !w->opts->include_hidden)
		return 0;
	if (S_ISLNK(st.st_mode)) {
		char *real = realpath(path, NULL);

		if (!real) {
			guts__log(w->ctx,
				  "%s: skipping '%s': a broken symbolic link",
				  w->opts->action, path);
			return 0;
		}
		if (!roots_inside(&w->roots, real)) {
			guts__log(w->ctx,
				  "warning: %s: skipping '%s': it is a "
				  "symbolic link to '%s', outside the "
				  "workspace",
				  w->opts->action, path, real);
			free(real);
			return 0;
		}
		free(real);
		if (stat(path, &st) < 0)
			return 0;
	}
	if (S_ISREG(st.st_mode)) {
		if (!guts_pathglob_match(w->g, path))
			return 0;
		if (w->files->nr >= GUTS_ARTIFACT_MAX_FILES)
			return guts_error(
			    GUTS_ETOOBIG, "%s: more than %d files match",
			    w->opts->action, GUTS_ARTIFACT_MAX_FILES);
		guts_strvec_push(w->files, path);
		return 0;
	}
	if (!S_ISDIR(st.st_mode) || !guts_pathglob_descend(w->g, path))
		return 0;
	for (size_t i = 0; i < w->depth; i++) {
		if (w->stack[i].dev == st.st_dev &&
		    w->stack[i].ino == st.st_ino) {
			guts__log(w->ctx,
				  "warning: %s: skipping '%s': a symbolic "
				  "link loop",
				  w->opts->action, path);
			return 0;
		}
	}
	if (w->depth == MAX_DEPTH)
		return guts_error(GUTS_ETOOBIG,
				  "%s: '%s' is nested more than %d "
				  "directories deep",
				  w->opts->action, path, MAX_DEPTH);
	{
		struct guts_strvec names = GUTS_STRVEC_INIT;
		struct dirent *de;
		DIR *d = opendir(path);

		if (!d) {
			guts__log(w->ctx, "warning: %s: cannot read '%s'",
				  w->opts->action, path);
			return 0;
		}
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				guts_strvec_push(&names, de->d_name);
		}
		closedir(d);
		w->stack[w->depth].dev = st.st_dev;
		w->stack[w->depth].ino = st.st_ino;
		w->depth++;
		for (size_t i = 0; !rc && i < names.nr; i++) {
			char *child = guts_xasprintf("%s/%s", path, names.v[i]);

			rc = visit(w, child, 0);
			free(child);
		}
		w->depth--;
		guts_strvec_release(&names);
	}
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int guts__collect(const struct guts_builtin_ctx *ctx,
		  const struct guts__collect_opts *opts,
		  const struct guts_pathglob *g, struct guts_strvec *files)
{
	const struct guts_strvec *search = guts_pathglob_search_paths(g);
	char *ws = guts__path_normalize(ctx->workspace);
	char *home = ctx->home ? guts__path_normalize(ctx->home) : NULL;
	struct walk w;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.opts = opts;
	w.g = g;
	w.files = files;
	roots_init(&w.roots, ctx);
	for (size_t i = 0; i < search->nr; i++) {
		if (!guts__path_under(search->v[i], ws) &&
		    !(home && guts__path_under(search->v[i], home))) {
			rc = guts_error(GUTS_EINVAL,
					"%s: input 'path': '%s' is outside "
					"the workspace",
					opts->action, search->v[i]);
			goto out;
		}
	}
	for (size_t i = 0; !rc && i < search->nr; i++)
		rc = visit(&w, search->v[i], 1);
	if (!rc && files->nr > 1)
		qsort(files->v, files->nr, sizeof(*files->v), cmp_str);
out:
	roots_release(&w.roots);
	free(ws);
	free(home);
	return rc;
}

int guts__open_inside(const struct guts_builtin_ctx *ctx, const char *action,
		      const char *path, int *fd, struct stat *st)
{
	char proc[64], real[PATH_MAX];
	struct roots r;
	ssize_t n;
	int f, inside;

	f = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (f < 0)
		return guts_error_errno("%s: cannot open '%s'", action, path);
	if (fstat(f, st) < 0 || !S_ISREG(st->st_mode)) {
		close(f);
		guts__log(ctx, "warning: %s: skipping '%s': not a regular file",
			  action, path);
		return 1;
	}
	roots_init(&r, ctx);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f);
	n = readlink(proc, real, sizeof(real) - 1);
	if (n > 0) {
		real[n] = '\0';
		inside = roots_inside(&r, real);
	} else {
		/* No /proc: check the path instead (racy, but the best). */
		char *rp = realpath(path, NULL);

		inside = rp && roots_inside(&r, rp);
		if (rp)
			snprintf(real, sizeof(real), "%s", rp);
		else
			snprintf(real, sizeof(real), "?");
		free(rp);
	}
	roots_release(&r);
	if (!inside) {
		close(f);
		guts__log(ctx,
			  "warning: %s: skipping '%s': it resolves to '%s', "
			  "outside the workspace",
			  action, path, real);
		return 1;
	}
	*fd = f;
	return 0;
}

struct mentry {
	int home;
	char *path;
	json_t *obj;
};

static int cmp_mentry(const void *a, const void *b)
{
	const struct mentry *x = a, *y = b;

	if (x->home != y->home)
		return x->home - y->home;
	return strcmp(x->path, y->path);
}

/* Hash what is left of @fd; *@size gets its length. */
static int hash_fd(int fd, const char *action, const char *path,
		   char hex[GUTS_SHA256_HEX_LEN + 1], unsigned long long *size)
{
	static const size_t bufsize = 256 * 1024;
	char *buf = guts_xmalloc(bufsize);
	uint8_t d[GUTS_SHA256_LEN];
	struct guts_sha256 h;
	unsigned long long n = 0;
	int rc = 0;

	guts_sha256_init(&h);
	for (;;) {
		ssize_t r = read(fd, buf, bufsize);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = guts_error_errno("%s: cannot read '%s'", action,
					      path);
			break;
		}
		if (r == 0)
			break;
		guts_sha256_update(&h, buf, (size_t)r);
		n += (unsigned long long)r;
	}
	guts_sha256_final(&h, d);
	guts_sha256_release(&h);
	free(buf);
	if (rc < 0)
		return rc;
	guts_sha256_hex(hex, d);
	*size = n;
	return 0;
}

int guts__hash_files(const struct guts_builtin_ctx *ctx, const char *action,
		     const struct guts_strvec *files, const char *root,
		     const char *home_root, json_t **manifest,
		     unsigned long long *total, json_t **sources)
{
	struct mentry *v = guts_xcalloc(files->nr ? files->nr : 1, sizeof(*v));
	json_t *src = json_object();
	unsigned long long sum = 0;
	size_t nr = 0;
	json_t *arr;
	int rc = 0;

	for (size_t i = 0; i < files->nr; i++) {
		const char *path = files->v[i], *base = root, *rel;
		char hex[GUTS_SHA256_HEX_LEN + 1];
		unsigned long long size;
		struct stat st = {0};
		int fd = -1, home = 0;

		if (home_root && guts__path_under(path, home_root) &&
		    (!guts__path_under(path, root) ||
		     guts__path_under(home_root, root))) {
			base = home_root;
			home = 1;
		} else if (!guts__path_under(path, root)) {
			rc = guts_error(GUTS_EINVAL,
					"%s: '%s' is not under '%s'", action,
					path, root);
			break;
		}
		rel = path + (strcmp(base, "/") ? strlen(base) : 0);
		while (*rel == '/')
			rel++;
		if (!*rel) {
			rc = guts_error(GUTS_EINVAL,
					"%s: '%s' has no name under '%s'",
					action, path, base);
			break;
		}
		rc = guts__open_inside(ctx, action, path, &fd, &st);
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (rc < 0)
			break;
		rc = hash_fd(fd, action, path, hex, &size);
		close(fd);
		if (rc < 0)
			break;
		if (!json_object_get(src, hex))
			json_object_set_new(src, hex,
					    json_pack("{s:s, s:I}", "path",
						      path, "size",
						      (json_int_t)size));
		v[nr].home = home;
		v[nr].path = guts_xstrdup(rel);
		v[nr].obj = json_pack("{s:s, s:i, s:I, s:s}", "path", rel,
				      "mode", (int)(st.st_mode & 0777), "size",
				      (json_int_t)size, "sha256", hex);
		if (home)
			json_object_set_new(v[nr].obj, "root",
					    json_string("home"));
		nr++;
		sum += size;
	}
	if (!rc) {
		qsort(v, nr, sizeof(*v), cmp_mentry);
		arr = json_array();
		for (size_t i = 0; i < nr; i++) {
			json_array_append(arr, v[i].obj);
		}
		*manifest = arr;
		*total = sum;
		*sources = src;
		src = NULL;
	}
	for (size_t i = 0; i < nr; i++) {
		free(v[i].path);
		json_decref(v[i].obj);
	}
	json_decref(src);
	free(v);
	return rc;
}

int guts__upload_entry(const struct guts_builtin_ctx *ctx, const char *action,
		       struct guts_artifact_upload *up, const json_t *sources,
		       char digest[GUTS_SHA256_HEX_LEN + 1],
		       struct guts__upload_stats *stats)
{
	struct guts__upload_stats st = {0, 0};
	size_t i;
	json_t *m;
	int rc;

	rc = guts_artifact_store_upload_begin(ctx->store, up);
	if (rc < 0) {
		rc = guts_error_wrap(rc, "%s", action);
		goto out;
	}
	json_array_foreach(up->missing, i, m) {
		const char *hex = json_string_value(m);
		const json_t *src = json_object_get(sources, hex ? hex : "");
		const char *path =
		    json_string_value(json_object_get(src, "path"));
		unsigned long long size =
		    (unsigned long long)json_integer_value(
			json_object_get(src, "size"));
		struct stat fst;
		int fd = -1;

		if (!path) {
			rc = guts_error(GUTS_EINVAL,
					"%s: the store asked for blob '%.80s', "
					"which the upload does not hold",
					action, hex ? hex : "?");
			goto out;
		}
		rc = guts__open_inside(ctx, action, path, &fd, &fst);
		if (rc == 1)
			rc = guts_error(GUTS_EIO,
					"%s: '%s' changed while it was being "
					"uploaded",
					action, path);
		if (rc < 0)
			goto out;
		rc = guts_artifact_store_blob_put_as(ctx->store, fd, hex, size);
		close(fd);
		if (rc < 0) {
			/*
			 * A conflict here is the file changing under us, not
			 * the entry existing: callers read GUTS_ECONFLICT as
			 * the latter.
			 */
			rc = guts_error_wrap(rc == GUTS_ECONFLICT ? GUTS_EIO
								  : rc,
					     "%s: '%s'", action, path);
			goto out;
		}
		st.blobs++;
		st.bytes += size;
	}
	rc = guts_artifact_store_upload_finalize(ctx->store, up, digest);
	if (rc < 0)
		rc = guts_error_wrap(rc, "%s", action);
out:
	if (stats)
		*stats = st;
	return rc;
}

/* ---- writing ------------------------------------------------------ */

/*
 * Open directory @name in @dirfd without following a link, creating it
 * when @create.  GUTS_ENOTFOUND when missing and !@create; GUTS_EPERM when
 * it is a symbolic link; GUTS_EINVAL when it is something else.  @shown
 * names it in messages.
 */
int guts__open_subdir(int dirfd, const char *name, int create,
		      const char *action, const char *shown, int *out)
{
	struct stat st;

	for (int tries = 0; tries < 3; tries++) {
		int fd =
		    openat(dirfd, name,
			   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd >= 0) {
			*out = fd;
			return 0;
		}
		if (errno == ENOENT && create) {
			if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
				return guts_error_errno(
				    "%s: cannot create directory '%s'", action,
				    shown);
			continue;
		}
		if (errno == ENOENT)
			return GUTS_ENOTFOUND;
		if (errno == ELOOP || errno == ENOTDIR) {
			if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) ==
				0 &&
			    S_ISLNK(st.st_mode))
				return guts_error(GUTS_EPERM,
						  "%s: refusing to write "
						  "through '%s': it is a "
						  "symbolic link",
						  action, shown);
			return guts_error(GUTS_EINVAL,
					  "%s: '%s' exists and is not a "
					  "directory",
					  action, shown);
		}
		return guts_error_errno("%s: cannot open directory '%s'",
					action, shown);
	}
	return guts_error(GUTS_ECONFLICT, "%s: directory '%s' keeps changing",
			  action, shown);
}

int guts__dest_open(const struct guts_builtin_ctx *ctx, const char *action,
		    const char *abs, struct guts__dest *d)
{
	char *ws = guts__path_normalize(ctx->workspace);
	char *home = ctx->home ? guts__path_normalize(ctx->home) : NULL;
	const char *root = NULL, *rel;
	char *copy = NULL;
	int fd = -1, rc = 0;

	if (guts__path_under(abs, ws))
		root = ws;
	if (home && guts__path_under(abs, home) &&
	    (!root || guts__path_under(home, ws)))
		root = home;
	if (!root) {
		rc =
		    guts_error(GUTS_EINVAL, "%s: '%s' is outside the workspace",
			       action, abs);
		goto out;
	}
	/* The workspace and home themselves are the executor's: trusted. */
	rc = guts_fs_mkdirs(root, 0755);
	if (rc < 0)
		goto out;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = guts_error_errno("%s: cannot open '%s'", action, root);
		goto out;
	}
	rel = abs + strlen(root);
	copy = guts_xstrdup(rel);
	for (char *s = copy; *s;) {
		char *e, *shown;
		int next;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchr(s, '/');
		if (e)
			*e = '\0';
		shown = guts_xasprintf("%s%.*s", root,
				       (int)((s - copy) + strlen(s)), rel);
		rc = guts__open_subdir(fd, s, 1, action, shown, &next);
		free(shown);
		if (rc < 0)
			goto out;
		close(fd);
		fd = next;
		if (!e)
			break;
		s = e + 1;
	}
	d->fd = fd;
	d->path = guts_xstrdup(abs);
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(copy);
	free(ws);
	free(home);
	return rc;
}

void guts__dest_close(struct guts__dest *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	free(d->path);
	d->path = NULL;
}

/*
 * Walk the directories of @rel (a checked manifest path) under @root.
 * With @create, make them and hand back the parent's descriptor in
 * *@parent; without, only check what exists: GUTS_EPERM or GUTS_EINVAL
 * for a link or a non-directory on the way (or a directory at the end).
 */
static int walk_parent(int root, const char *rel, int create,
		       const char *action, const char *root_path, int *parent,
		       const char **leaf)
{
	char *copy = guts_xstrdup(rel), *s = copy;
	int fd = root, rc = 0;

	for (;;) {
		char *e = strchr(s, '/');
		char *shown;
		int next = -1;

		if (!e) {
			*leaf = rel + (s - copy);
			break;
		}
		*e = '\0';
		shown =
		    guts_xasprintf("%s/%.*s", root_path, (int)(e - copy), rel);
		rc = guts__open_subdir(fd, s, create, action, shown, &next);
		free(shown);
		if (fd != root)
			close(fd);
		fd = root;
		if (rc == GUTS_ENOTFOUND && !create) {
			rc = 0; /* the rest will be created: nothing to check */
			*leaf = NULL;
			break;
		}
		if (rc < 0)
			break;
		fd = next;
		s = e + 1;
	}
	if (!rc && !create && *leaf) {
		struct stat st;

		if (fstatat(fd, *leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			rc = guts_error(GUTS_EINVAL,
					"%s: '%s/%s' exists and is a directory",
					action, root_path, rel);
	}
	free(copy);
	if (rc < 0 || !create) {
		if (fd != root)
			close(fd);
		return rc;
	}
	*parent = fd;
	return 0;
}

static void random_name(char *buf, size_t size)
{
	unsigned char r[8];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		static unsigned long counter;
		unsigned long c =
		    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);

		memcpy(r, &c, sizeof(r) < sizeof(c) ? sizeof(r) : sizeof(c));
		r[0] ^= (unsigned char)getpid();
	}
	snprintf(buf, size, ".guts-tmp-%02x%02x%02x%02x%02x%02x%02x%02x", r[0],
		 r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

/* Create a fresh temporary file in @dirfd: *@fd and its name in @name. */
static int create_temp(int dirfd, char *name, size_t size, int *fd,
		       const char *action, const char *where)
{
	for (int tries = 0; tries < 10; tries++) {
		random_name(name, size);
		*fd = openat(
		    dirfd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (*fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	return guts_error_errno("%s: cannot create a file in '%s'", action,
				where);
}

static int write_one(const struct guts_builtin_ctx *ctx, const char *action,
		     struct guts__dest *d, const json_t *f)
{
	const char *rel = json_string_value(json_object_get(f, "path"));
	const char *hex = json_string_value(json_object_get(f, "sha256"));
	long long mode = json_integer_value(json_object_get(f, "mode"));
	long long size = json_integer_value(json_object_get(f, "size"));
	const char *leaf = NULL;
	char tmp[64];
	struct stat st;
	int parent, fd, rc;

	rc = walk_parent(d->fd, rel, 1, action, d->path, &parent, &leaf);
	if (rc < 0)
		return rc;
	rc = create_temp(parent, tmp, sizeof(tmp), &fd, action, d->path);
	if (rc < 0)
		goto out;
	rc = guts_artifact_store_blob_get(ctx->store, hex, fd);
	if (rc < 0)
		rc = guts_error_wrap(rc, "%s: '%s'", action, rel);
	if (!rc && (fstat(fd, &st) < 0 || st.st_size != size))
		rc = guts_error(GUTS_EIO,
				"%s: '%s': the manifest says %lld bytes, the "
				"blob holds %lld",
				action, rel, size, (long long)st.st_size);
	if (!rc && fchmod(fd, (mode_t)mode) < 0)
		rc = guts_error_errno("%s: cannot chmod '%s'", action, rel);
	if (close(fd) < 0 && !rc)
		rc = guts_error_errno("%s: cannot write '%s'", action, rel);
	if (!rc && renameat(parent, tmp, parent, leaf) < 0)
		rc = guts_error_errno("%s: cannot write '%s/%s'", action,
				      d->path, rel);
	if (rc < 0)
		unlinkat(parent, tmp, 0);
out:
	if (parent != d->fd)
		close(parent);
	return rc;
}

int guts__write_manifest(const struct guts_builtin_ctx *ctx, const char *action,
			 const json_t *files, struct guts__dest *d,
			 struct guts__dest *home)
{
	size_t i;
	json_t *f;
	int rc;

	json_array_foreach(files, i, f) {
		struct guts__dest *to = json_object_get(f, "root") ? home : d;
		const char *leaf;

		if (!to)
			return guts_error(
			    GUTS_EINVAL,
			    "%s: '%s' belongs in the home "
			    "directory, and the job has none",
			    action,
			    json_string_value(json_object_get(f, "path")));
		rc = walk_parent(to->fd,
				 json_string_value(json_object_get(f, "path")),
				 0, action, to->path, NULL, &leaf);
		if (rc < 0)
			return rc;
	}
	json_array_foreach(files, i, f) {
		struct guts__dest *to = json_object_get(f, "root") ? home : d;

		rc = write_one(ctx, action, to, f);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int clear_at(int fd, const char *what, int depth)
{
	struct guts_strvec names = GUTS_STRVEC_INIT;
	struct dirent *de;
	int dup_fd, rc = 0;
	DIR *d;

	if (depth > MAX_DEPTH)
		return guts_error(GUTS_ETOOBIG,
				  "cannot clean '%s': nested more than %d "
				  "directories deep",
				  what, MAX_DEPTH);
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0)
		return guts_error_errno("cannot clean '%s'", what);
	d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return guts_error_errno("cannot clean '%s'", what);
	}
	/* A duplicate shares the offset: someone may have read @fd before. */
	rewinddir(d);
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			guts_strvec_push(&names, de->d_name);
	}
	closedir(d);
	for (size_t i = 0; !rc && i < names.nr; i++) {
		struct stat st;
		int sub;

		if (fstatat(fd, names.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			if (unlinkat(fd, names.v[i], 0) < 0 && errno != ENOENT)
				rc = guts_error_errno("cannot remove '%s/%s'",
						      what, names.v[i]);
			continue;
		}
		sub = openat(fd, names.v[i],
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			rc = guts_error_errno("cannot open '%s/%s'", what,
					      names.v[i]);
			break;
		}
		/* Read-only directories (Go's module cache) must go too. */
		fchmod(sub, 0700);
		rc = clear_at(sub, what, depth + 1);
		close(sub);
		if (!rc && unlinkat(fd, names.v[i], AT_REMOVEDIR) < 0)
			rc = guts_error_errno("cannot remove '%s/%s'", what,
					      names.v[i]);
	}
	guts_strvec_release(&names);
	return rc;
}

int guts__clear_dir(int fd, const char *what)
{
	return clear_at(fd, what, 0);
}

int guts_remove_tree(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP)
			return unlink(path) < 0 && errno != ENOENT
				   ? guts_error_errno("cannot remove '%s'",
						      path)
				   : 0;
		return guts_error_errno("cannot remove '%s'", path);
	}
	fchmod(fd, 0700);
	rc = clear_at(fd, path, 0);
	close(fd);
	if (rc == 0 && rmdir(path) < 0 && errno != ENOENT)
		rc = guts_error_errno("cannot remove '%s'", path);
	return rc;
}
