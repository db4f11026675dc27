/*
 * guts artifact and guts cache: a node's artifacts and dependency caches
 * (docs/artifacts.md).
 *
 *   guts artifact list [RUN] [--name N] [--limit N]
 *   guts artifact download RUN [NAME] [-D DIR]
 *   guts artifact rm ID
 *   guts cache list [--ref REF] [--key KEY] [--limit N]
 *   guts cache rm ID
 *
 * A download streams the artifact as a tar.gz into a temporary file, then
 * extracts it with libarchive's secure flags (no "..", no absolute paths,
 * no writing through symbolic links), accepting regular files and
 * directories only, and checks every file's SHA-256 against the artifact's
 * manifest as it writes it.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/apiutil.h"
#include "guts/artifact_store.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "guts/hash.h"
#include "api.h"
#include "commands.h"
#include "banned.h"

static const char artifact_usage[] =
    "usage: guts artifact <command> [<args>]\n"
    "\n"
    "Commands:\n"
    "  list       the artifacts of a run, or of the repository\n"
    "  download   a run's artifacts (or one), checked file by file\n"
    "  rm         remove an artifact\n"
    "\n"
    "Run 'guts artifact <command> --help' for its options.\n";

static const char list_usage[] =
    "usage: guts artifact list [RUN] [--name N] [--limit N] "
    "[<client options>]\n"
    "\n"
    "List the artifacts of run RUN, or every live artifact of the\n"
    "repository, newest first.\n"
    "\n"
    "  --name N           only artifacts called N\n"
    "  --limit N          show at most N (default 30)\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char download_usage[] =
    "usage: guts artifact download RUN [NAME] [-D DIR] [<client options>]\n"
    "\n"
    "Download artifact NAME of run RUN into DIR (default: the current\n"
    "directory), or every artifact of the run, each into DIR/<name>.  Every\n"
    "file is checked against the artifact's SHA-256 manifest; paths that\n"
    "would leave DIR are refused.\n"
    "\n"
    "  -D, --dir DIR      where to put the files\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char rm_usage[] =
    "usage: guts artifact rm ID [<client options>]\n"
    "\n"
    "Remove artifact ID (needs a write token).  Its files are collected\n"
    "once nothing else uses them.\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char cache_usage[] =
    "usage: guts cache <command> [<args>]\n"
    "\n"
    "Commands:\n"
    "  list   the repository's caches, most recently used first\n"
    "  rm     remove a cache entry\n"
    "\n"
    "Run 'guts cache <command> --help' for its options.\n";

static const char cache_list_usage[] =
    "usage: guts cache list [--ref REF] [--key KEY] [--limit N] "
    "[<client options>]\n"
    "\n"
    "List the repository's cache entries.\n"
    "\n"
    "  --ref REF          only the caches of branch REF (refs/heads/x or x)\n"
    "  --key KEY          only entries whose key starts with KEY\n"
    "  --limit N          show at most N (default 30)\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char cache_rm_usage[] =
    "usage: guts cache rm ID [<client options>]\n"
    "\n"
    "Remove cache entry ID (needs a write token).\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

/* "12.3 MB" */
static const char *size_text(const json_t *o, const char *key, char *buf,
			     size_t size)
{
	const json_t *v = json_object_get(o, key);
	double n = json_is_integer(v) ? (double)json_integer_value(v) : -1;
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	size_t u = 0;

	if (n < 0)
		return "-";
	while (n >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		n /= 1000;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", n, units[u]);
	return buf;
}

static int artifact_list(int argc, char **argv)
{
	enum { NAME, LIMIT };
	static const struct cli_opt opts[] = {
	    {"--name", NULL, 0}, {"--limit", NULL, 0}, {0}};
	const char *vals[2] = {NULL, NULL};
	struct api a;
	long long run = 0, limit = 30;
	json_t *list = NULL, *x;
	char *path = NULL, *ename = NULL;
	size_t i;
	int rc;

	api_init(&a);
	/* Like api_args_id(), but RUN is optional. */
	rc = 0;
	for (int k = 1; k < argc && !rc; k++) {
		const char *v;
		int r;

		if (cli_is_help(argv[k])) {
			fputs(list_usage, stdout);
			rc = -1;
			break;
		}
		if ((r = api_opt(&a, argc, argv, &k)) != 0) {
			rc = r < 0 ? 2 : 0;
			continue;
		}
		for (int o = NAME; o <= LIMIT && !r; o++) {
			r = cli_opt_value(argc, argv, &k, opts[o].name, NULL,
					  &v);
			if (r > 0)
				vals[o] = v;
		}
		if (!r && (argv[k][0] == '-' || run))
			rc = cli_unknown("artifact list", argv[k]);
		else if (r < 0 || (!r && (run = cli_positive("the run ID",
							     argv[k])) < 0))
			rc = 2;
	}
	if (!rc)
		rc = api_repo(&a);
	if (rc)
		goto out;
	if (vals[LIMIT] && (limit = cli_positive("--limit", vals[LIMIT])) < 0) {
		rc = 2;
		goto out;
	}
	ename = vals[NAME] ? guts_http_escape(vals[NAME]) : NULL;
	if (run)
		path = api_repo_path(&a, "/runs/%lld/artifacts%s%s", run,
				     ename ? "?name=" : "", ename ? ename : "");
	else
		path = api_repo_path(&a, "/artifacts%s%s",
				     ename ? "?name=" : "", ename ? ename : "");
	rc = api_list(&a, path, limit, &list);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(list);
	} else if (!json_array_size(list)) {
		fprintf(stderr, "No artifacts.\n");
	} else {
		struct guts_table t;
		char b[64];

		guts_table_init(&t, 6);
		guts_table_add(&t, "ID");
		guts_table_add(&t, "NAME");
		guts_table_add(&t, "RUN");
		guts_table_add(&t, "SIZE");
		guts_table_add(&t, "FILES");
		guts_table_add(&t, "EXPIRES");
		json_array_foreach(list, i, x) {
			const json_t *files = json_object_get(x, "files");

			guts_table_add(&t, jtext(x, "id", b, sizeof(b)));
			guts_table_add(&t, jtext(x, "name", b, sizeof(b)));
			guts_table_add(&t, jtext(x, "run_id", b, sizeof(b)));
			guts_table_add(
			    &t, size_text(x, "size_bytes", b, sizeof(b)));
			if (json_is_array(files))
				guts_table_addf(&t, "%zu",
						json_array_size(files));
			else
				guts_table_add(&t,
					       jtext(x, "files", b, sizeof(b)));
			guts_table_add(&t,
				       jtext(x, "expires_at", b, sizeof(b)));
		}
		api_print_table(&t, "");
	}
out:
	free(ename);
	free(path);
	json_decref(list);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

/* ---- download ------------------------------------------------------------ */

static int to_fd(void *ud, const char *data, size_t len)
{
	int fd = *(int *)ud;

	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* GET @path into a new temporary file in @dir; its fd, positioned at 0. */
static int fetch_to_temp(struct api *a, const char *path, const char *dir,
			 int *out)
{
	char *tmp = guts_xasprintf("%s/.guts-download-XXXXXX", dir);
	struct guts_http_opts o = {0};
	struct guts_http_resp r;
	int fd = mkstemp(tmp), rc;

	if (fd < 0) {
		rc = cli_fail(1, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	unlink(tmp);
	free(tmp);
	rc = api_connect(a);
	if (rc) {
		close(fd);
		return rc;
	}
	o.on_data = to_fd;
	o.ud = &fd;
	o.timeout_ms = 3600 * 1000;
	guts_http_resp_init(&r);
	rc = guts_http_request(&a->http, "GET", path, &o, &r);
	if (rc < 0 || r.status != 200) {
		json_t *err = NULL;

		if (rc >= 0) {
			struct guts_buf b;
			char buf[4096];
			ssize_t n;

			guts_buf_init(&b, 1 << 20);
			lseek(fd, 0, SEEK_SET);
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				guts_buf_add(&b, buf, (size_t)n);
			err = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
			guts_buf_release(&b);
		}
		rc = rc < 0 ? cli_fail(1, "cannot download %s: %s", path,
				       a->http.errbuf[0] ? a->http.errbuf
							 : guts_error_message())
			    : cli_fail(1, "%s",
				       guts_http_error_text(&a->http, r.status,
							    err));
		json_decref(err);
		guts_http_resp_release(&r);
		close(fd);
		return rc;
	}
	guts_http_resp_release(&r);
	lseek(fd, 0, SEEK_SET);
	*out = fd;
	return 0;
}

/* The manifest entry for @path in @files, or NULL. */
static const json_t *manifest_entry(const json_t *files, const char *path)
{
	const json_t *f;
	size_t i;

	json_array_foreach(files, i, f)
		if (!strcmp(json_string_value(json_object_get(f, "path"))
				? json_string_value(json_object_get(f, "path"))
				: "",
			    path))
			return f;
	return NULL;
}

/*
 * Extract the tar.gz on @fd into @dir: regular files and directories only,
 * each file's content hashed as it is written and compared with @files.
 * Returns the number of files written, or an exit status (< 0 never).
 */
static int extract_here(int fd, const char *name, const json_t *files,
			size_t *written)
{
	struct archive *in = archive_read_new(),
		       *out = archive_write_disk_new();
	struct archive_entry *e;
	int rc = 0, r;

	*written = 0;
	archive_read_support_filter_gzip(in);
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(
	    out, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		     ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		     ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
		     ARCHIVE_EXTRACT_UNLINK);
	if (archive_read_open_fd(in, fd, 65536) != ARCHIVE_OK) {
		rc = cli_fail(1, "%s: not an archive: %s", name,
			      archive_error_string(in));
		goto out;
	}
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(e);
		const json_t *m;
		char hex[GUTS_SHA256_HEX_LEN + 1];
		struct guts_sha256 h;
		uint8_t digest[GUTS_SHA256_LEN];
		const void *buf;
		size_t len;
		la_int64_t off;

		if (archive_entry_filetype(e) == AE_IFDIR)
			continue; /* made as files need them */
		if (archive_entry_filetype(e) != AE_IFREG || !path ||
		    !guts_artifact_path_ok(path)) {
			rc = cli_fail(1,
				      "%s: refusing '%s': not a regular "
				      "file with a safe relative path",
				      name, path ? path : "(none)");
			goto out;
		}
		m = manifest_entry(files, path);
		if (!m) {
			rc = cli_fail(1,
				      "%s: '%s' is not in the artifact's "
				      "manifest",
				      name, path);
			goto out;
		}
		if (archive_write_header(out, e) != ARCHIVE_OK) {
			rc = cli_fail(1, "%s: %s: %s", name, path,
				      archive_error_string(out));
			goto out;
		}
		guts_sha256_init(&h);
		while ((r = archive_read_data_block(in, &buf, &len, &off)) ==
		       ARCHIVE_OK) {
			guts_sha256_update(&h, buf, len);
			if (archive_write_data_block(out, buf, len, off) !=
			    ARCHIVE_OK) {
				guts_sha256_release(&h);
				rc = cli_fail(1, "%s: %s: %s", name, path,
					      archive_error_string(out));
				goto out;
			}
		}
		guts_sha256_final(&h, digest);
		guts_sha256_hex(hex, digest);
		if (r != ARCHIVE_EOF ||
		    archive_write_finish_entry(out) != ARCHIVE_OK) {
			rc = cli_fail(
			    1, "%s: %s: %s; removed", name, path,
			    archive_error_string(r != ARCHIVE_EOF ? in : out));
			/* Never leave half a file behind. */
			unlink(path);
			goto out;
		}
		if (strcmp(hex,
			   json_string_value(json_object_get(m, "sha256"))
			       ? json_string_value(json_object_get(m, "sha256"))
			       : "")) {
			rc = cli_fail(1,
				      "%s: %s: content does not match the "
				      "manifest (sha256 %s); removed",
				      name, path, hex);
			unlink(path);
			goto out;
		}
		(*written)++;
	}
	if (r != ARCHIVE_EOF)
		rc = cli_fail(1, "%s: %s", name, archive_error_string(in));
	else if (*written != json_array_size(files))
		rc = cli_fail(1, "%s: %zu of the manifest's %zu files arrived",
			      name, *written, json_array_size(files));
out:
	archive_read_free(in);
	archive_write_free(out);
	return rc;
}

/*
 * Extract in @dir: libarchive's secure flags judge paths relative to the
 * working directory (an absolute one is refused), so work from there.
 */
static int extract(int fd, const char *dir, const char *name,
		   const json_t *files, size_t *written)
{
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (here < 0 || chdir(dir) < 0) {
		rc = cli_fail(1, "%s: %s", dir, strerror(errno));
		if (here >= 0)
			close(here);
		return rc;
	}
	rc = extract_here(fd, name, files, written);
	if (fchdir(here) < 0 && !rc)
		rc = cli_fail(1, "cannot go back to the directory: %s",
			      strerror(errno));
	close(here);
	return rc;
}

/* Download artifact @x (an object of the list) into @dir. */
static int download_one(struct api *a, const json_t *x, const char *dir)
{
	const char *name = json_string_value(json_object_get(x, "name"));
	json_t *full = NULL;
	char *path, *safe;
	size_t written = 0;
	int fd = -1, rc;

	/* The manifest, to check what arrives against. */
	path = api_repo_path(
	    a, "/artifacts/%lld",
	    (long long)json_integer_value(json_object_get(x, "id")));
	rc = api_call(a, "GET", path, NULL, &full);
	free(path);
	if (rc)
		return rc;
	if (guts_artifact_manifest_check(json_object_get(full, "files"), 0) <
	    0) {
		rc = cli_fail(1, "%s: the node's manifest is not valid: %s",
			      name, guts_error_message());
		goto out;
	}
	if (guts_fs_mkdirs(dir, 0755) < 0) {
		rc = cli_fail(1, "%s", guts_error_message());
		goto out;
	}
	path = api_repo_path(
	    a, "/artifacts/%lld/zip?format=tar.gz",
	    (long long)json_integer_value(json_object_get(x, "id")));
	rc = fetch_to_temp(a, path, dir, &fd);
	free(path);
	if (rc)
		goto out;
	rc = extract(fd, dir, name, json_object_get(full, "files"), &written);
	if (!rc && !a->json) {
		safe = guts_api_printable(name);
		printf("Downloaded %s: %zu file%s into %s\n", safe, written,
		       written == 1 ? "" : "s", dir);
		free(safe);
	}
out:
	if (fd >= 0)
		close(fd);
	json_decref(full);
	return rc;
}

static int artifact_download(int argc, char **argv)
{
	struct api a;
	const char *run_arg = NULL, *name = NULL, *dir = ".";
	long long run;
	json_t *list = NULL, *x;
	char *path = NULL;
	size_t i, got = 0;
	int rc = 0;

	api_init(&a);
	for (int k = 1; k < argc && !rc; k++) {
		const char *v;
		int r;

		if (cli_is_help(argv[k])) {
			fputs(download_usage, stdout);
			api_release(&a);
			return 0;
		}
		if ((r = api_opt(&a, argc, argv, &k)) != 0) {
			rc = r < 0 ? 2 : 0;
			continue;
		}
		r = cli_opt_value(argc, argv, &k, "--dir", "-D", &v);
		if (r < 0)
			rc = 2;
		else if (r > 0)
			dir = v;
		else if (argv[k][0] == '-' || (run_arg && name))
			rc = cli_unknown("artifact download", argv[k]);
		else if (!run_arg)
			run_arg = argv[k];
		else
			name = argv[k];
	}
	if (!rc && !run_arg)
		rc = cli_fail(2, "artifact download: which run? (see 'guts "
				 "artifact download --help')");
	if (!rc && (run = cli_positive("the run ID", run_arg)) < 0)
		rc = 2;
	if (!rc)
		rc = api_repo(&a);
	if (rc)
		goto out;
	path = api_repo_path(&a, "/runs/%lld/artifacts", run);
	rc = api_list(&a, path, 0, &list);
	if (rc)
		goto out;
	json_array_foreach(list, i, x) {
		const char *n = json_string_value(json_object_get(x, "name"));
		char *sub;

		if (!n || (name && strcmp(n, name)))
			continue;
		if (json_is_true(json_object_get(x, "expired")))
			continue;
		if (guts_artifact_name_check("artifact", n) < 0) {
			rc = cli_fail(1, "%s", guts_error_message());
			goto out;
		}
		got++;
		/* One artifact asked for: into DIR; all: DIR/<name> each. */
		sub =
		    name ? guts_xstrdup(dir) : guts_xasprintf("%s/%s", dir, n);
		rc = download_one(&a, x, sub);
		free(sub);
		if (rc)
			goto out;
	}
	if (!got)
		rc = name ? cli_fail(1, "run %lld has no artifact '%s'", run,
				     name)
			  : cli_fail(1, "run %lld has no artifacts", run);
out:
	free(path);
	json_decref(list);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

/* DELETE @what/ID, printing @done. */
static int remove_by_id(int argc, char **argv, const char *cmd,
			const char *usage, const char *what, const char *noun)
{
	struct api a;
	long long id;
	char *path = NULL;
	int rc;

	api_init(&a);
	rc = api_args_id(&a, argc, argv, cmd, usage, NULL, NULL, noun, "the ID",
			 &id);
	if (rc)
		goto out;
	path = api_repo_path(&a, "/%s/%lld", what, id);
	rc = api_call(&a, "DELETE", path, NULL, NULL);
	if (!rc && !a.json)
		printf("Removed %s %lld\n", noun, id);
out:
	free(path);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

int cmd_artifact(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(artifact_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "list"))
		return artifact_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "download"))
		return artifact_download(argc - 1, argv + 1);
	if (!strcmp(argv[1], "rm"))
		return remove_by_id(argc - 1, argv + 1, "artifact rm", rm_usage,
				    "artifacts", "artifact");
	return cli_fail(2,
			"artifact: unknown command '%s' (see 'guts artifact "
			"--help')",
			argv[1]);
}

/* ---- caches ------------------------------------------------------------- */

static int cache_list(int argc, char **argv)
{
	enum { REF, KEY, LIMIT };
	static const struct cli_opt opts[] = {
	    {"--ref", NULL, 0}, {"--key", NULL, 0}, {"--limit", NULL, 0}, {0}};
	const char *vals[3] = {NULL, NULL, NULL};
	struct api a;
	long long limit = 30;
	json_t *list = NULL, *x;
	struct guts_buf q;
	char *path = NULL;
	size_t i;
	int rc;

	api_init(&a);
	guts_buf_init(&q, 0);
	rc = api_args_id(&a, argc, argv, "cache list", cache_list_usage, opts,
			 vals, "cache", "the ID", NULL);
	if (!rc && vals[LIMIT] &&
	    (limit = cli_positive("--limit", vals[LIMIT])) < 0)
		rc = 2;
	if (rc)
		goto out;
	for (int k = REF; k <= KEY; k++) {
		char *e;

		if (!vals[k])
			continue;
		e = guts_http_escape(vals[k]);
		guts_buf_addf(&q, "%c%s=%s", q.len ? '&' : '?',
			      k == REF ? "ref" : "key", e);
		free(e);
	}
	path = api_repo_path(&a, "/caches%s", q.len ? q.data : "");
	rc = api_list(&a, path, limit, &list);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(list);
	} else if (!json_array_size(list)) {
		fprintf(stderr, "No caches.\n");
	} else {
		struct guts_table t;
		char b[64];

		guts_table_init(&t, 6);
		guts_table_add(&t, "ID");
		guts_table_add(&t, "KEY");
		guts_table_add(&t, "REF");
		guts_table_add(&t, "SIZE");
		guts_table_add(&t, "CREATED");
		guts_table_add(&t, "LAST USED");
		json_array_foreach(list, i, x) {
			guts_table_add(&t, jtext(x, "id", b, sizeof(b)));
			guts_table_add(&t, jtext(x, "key", b, sizeof(b)));
			guts_table_add(&t, jtext(x, "ref", b, sizeof(b)));
			guts_table_add(
			    &t, size_text(x, "size_bytes", b, sizeof(b)));
			guts_table_add(&t, jago(x, "created_at", b, sizeof(b)));
			guts_table_add(&t,
				       jago(x, "last_used_at", b, sizeof(b)));
		}
		api_print_table(&t, "");
	}
out:
	guts_buf_release(&q);
	free(path);
	json_decref(list);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

int cmd_cache(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(cache_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "list"))
		return cache_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "rm"))
		return remove_by_id(argc - 1, argv + 1, "cache rm",
				    cache_rm_usage, "caches", "cache entry");
	return cli_fail(2,
			"cache: unknown command '%s' (see 'guts cache "
			"--help')",
			argv[1]);
}
