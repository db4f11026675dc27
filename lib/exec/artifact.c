/*
 * upload-artifact and download-artifact, with the inputs of
 * actions/upload-artifact@v4 and actions/download-artifact@v4.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "builtin_internal.h"
#include "banned.h"

#define UPLOAD "upload-artifact"
#define DOWNLOAD "download-artifact"

static int need_store(const struct guts_builtin_ctx *ctx, const char *action)
{
	if (!ctx->store)
		return guts_error(GUTS_EINVAL, "%s: no artifact store", action);
	if (!ctx->run_id)
		return guts_error(GUTS_EINVAL, "%s: no run id", action);
	return 0;
}

/* A whole number from @min to @max, nothing else (no sign, no spaces). */
static int parse_range(const char *s, long min, long max, long *out)
{
	long v = 0;

	if (!*s)
		return -1;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		v = v * 10 + (*c - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

/* Least common ancestor of absolute normalised paths. */
static char *common_ancestor(const struct guts_strvec *paths)
{
	const char *a = paths->v[0];
	size_t len = strlen(a);

	for (size_t i = 1; i < paths->nr; i++) {
		const char *b = paths->v[i];
		size_t j = 0;

		while (j < len && b[j] == a[j])
			j++;
		/* Back up to where both end a segment (a[len] always does). */
		while (j > 0 && !((a[j] == '/' || a[j] == '\0' || j == len) &&
				  (b[j] == '/' || b[j] == '\0')))
			j--;
		len = j;
	}
	if (len == 0)
		return guts_xstrdup("/");
	return guts_xstrndup(a, len);
}

static char *parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return guts_xstrdup("/");
	return guts_xstrndup(path, (size_t)(slash - path));
}

/*
 * The directory paths in the artifact are relative to, as
 * actions/upload-artifact decides it: the least common ancestor of the
 * search paths (one per pattern, see guts/pathglob.h), except that a
 * single file named literally goes in at the top.
 */
static char *artifact_root(const struct guts_pathglob *g,
			   const struct guts_strvec *files)
{
	const struct guts_strvec *search = guts_pathglob_search_paths(g);

	if (search->nr > 1)
		return common_ancestor(search);
	if (files->nr == 1 && !strcmp(search->v[0], files->v[0]))
		return parent_dir(files->v[0]);
	return guts_xstrdup(search->v[0]);
}

/* GitHub refuses these in the paths inside an artifact. */
static int check_file_paths(const json_t *manifest)
{
	size_t i;
	json_t *f;

	json_array_foreach(manifest, i, f) {
		const char *p = json_string_value(json_object_get(f, "path"));

		for (const char *c = p; *c; c++) {
			if (strchr("\":<>|*?\r\n", *c))
				return guts_error(GUTS_EINVAL,
						  UPLOAD
						  ": the path '%s' "
						  "contains '%c', which "
						  "artifacts may not hold",
						  p,
						  *c == '\r'   ? 'r'
						  : *c == '\n' ? 'n'
							       : *c);
		}
	}
	return 0;
}

int guts__upload_artifact_run(const json_t *with,
			      const struct guts_builtin_ctx *ctx,
			      json_t *outputs)
{
	static const char *const known[] = {"name",
					    "path",
					    "if-no-files-found",
					    "retention-days",
					    "compression-level",
					    "overwrite",
					    "include-hidden-files",
					    NULL};
	struct guts__inputs in;
	struct guts__collect_opts copts = {UPLOAD, 0};
	struct guts_strvec files = GUTS_STRVEC_INIT;
	struct guts_pathglob *g = NULL;
	char digest[GUTS_SHA256_HEX_LEN + 1];
	const char *name, *path, *nff, *s;
	char *root = NULL, *size = NULL, *ws = NULL;
	unsigned long long total = 0;
	json_t *manifest = NULL, *existing = NULL, *sources = NULL;
	struct guts_artifact_upload up = {0};
	struct guts__upload_stats sent = {0, 0};
	long retention = 0, level;
	int overwrite, rc;

	rc = guts__inputs_init(&in, UPLOAD, with, ctx, known, NULL);
	if (rc < 0)
		return rc;
	rc = need_store(ctx, UPLOAD);
	if (rc < 0)
		goto out;
	name = guts__input(&in, "name");
	if (!name)
		name = "artifact";
	rc = guts_artifact_name_check(UPLOAD ": input 'name'", name);
	if (rc < 0)
		goto out;
	path = guts__input(&in, "path");
	if (!path) {
		rc = guts_error(GUTS_EINVAL,
				UPLOAD ": input 'path' is required");
		goto out;
	}
	nff = guts__input(&in, "if-no-files-found");
	if (!nff)
		nff = "warn";
	if (strcmp(nff, "warn") && strcmp(nff, "error") &&
	    strcmp(nff, "ignore")) {
		rc = guts_error(GUTS_EINVAL,
				UPLOAD ": input 'if-no-files-found' must be "
				       "warn, error or ignore, got '%.100s'",
				nff);
		goto out;
	}
	s = guts__input(&in, "retention-days");
	if (s && parse_range(s, 1, 90, &retention) < 0) {
		rc =
		    guts_error(GUTS_EINVAL,
			       UPLOAD ": input 'retention-days' must be a "
				      "whole number from 1 to 90, got '%.100s'",
			       s);
		goto out;
	}
	s = guts__input(&in, "compression-level");
	if (s && parse_range(s, 0, 9, &level) < 0) {
		rc = guts_error(GUTS_EINVAL,
				UPLOAD ": input 'compression-level' must be a "
				       "whole number from 0 to 9, got '%.100s'",
				s);
		goto out;
	}
	rc = guts__input_bool(&in, "overwrite", 0, &overwrite);
	if (!rc)
		rc = guts__input_bool(&in, "include-hidden-files", 0,
				      &copts.include_hidden);
	if (rc < 0)
		goto out;

	ws = guts__path_normalize(ctx->workspace);
	rc = guts_pathglob_compile(&g, path, ws, ctx->home);
	if (rc < 0) {
		rc = guts_error_wrap(rc, UPLOAD ": input 'path'");
		goto out;
	}
	if (!guts_pathglob_search_paths(g)->nr) {
		rc = guts_error(GUTS_EINVAL,
				UPLOAD ": input 'path' has no pattern that "
				       "includes files");
		goto out;
	}
	rc = guts__collect(ctx, &copts, g, &files);
	if (rc < 0)
		goto out;
	if (files.nr) {
		root = artifact_root(g, &files);
		rc = guts__hash_files(ctx, UPLOAD, &files, root, NULL,
				      &manifest, &total, &sources);
		if (rc < 0)
			goto out;
	}
	if (!manifest || !json_array_size(manifest)) {
		if (!strcmp(nff, "error")) {
			rc = guts_error(GUTS_ENOTFOUND,
					UPLOAD ": no files were found with the "
					       "provided path: %s",
					path);
		} else {
			guts__log(ctx,
				  "%s" UPLOAD ": no files were found with the "
				  "provided path: %s; no artifact will be "
				  "uploaded",
				  strcmp(nff, "warn") ? "" : "warning: ", path);
		}
		goto out;
	}
	rc = check_file_paths(manifest);
	if (rc < 0)
		goto out;
	if (!overwrite && guts_artifact_store_artifact_get(
			      ctx->store, ctx->run_id, name, &existing) == 0) {
		rc =
		    guts_error(GUTS_ECONFLICT,
			       UPLOAD ": an artifact named '%s' exists already "
				      "in this run; set 'overwrite: true' to "
				      "replace it",
			       name);
		goto out;
	}
	up.kind = GUTS_UPLOAD_ARTIFACT;
	up.files = manifest;
	up.run_id = ctx->run_id;
	up.name = name;
	up.retention_days = (int)retention;
	up.overwrite = overwrite;
	rc = guts__upload_entry(ctx, UPLOAD, &up, sources, digest, &sent);
	if (rc < 0)
		goto out; /* the message names the action */
	size = guts__format_size(total);
	guts__log(ctx, UPLOAD ": uploaded %zu file%s, %s, from %s as '%s'",
		  json_array_size(manifest),
		  json_array_size(manifest) == 1 ? "" : "s", size, root, name);
	guts__log(ctx,
		  UPLOAD ": %zu blob%s (%llu bytes) sent; the store had the "
			 "rest",
		  sent.blobs, sent.blobs == 1 ? "" : "s", sent.bytes);
	guts__log(ctx, UPLOAD ": artifact digest sha256:%s", digest);
	if (outputs)
		json_object_set_new(outputs, "artifact-digest",
				    json_string(digest));
out:
	guts_artifact_upload_release(&up);
	json_decref(sources);
	json_decref(existing);
	json_decref(manifest);
	guts_pathglob_free(g);
	guts_strvec_release(&files);
	free(size);
	free(root);
	free(ws);
	guts__inputs_release(&in);
	return rc;
}

struct pending {
	char *name;
	json_t *files;
};

int guts__download_artifact_run(const json_t *with,
				const struct guts_builtin_ctx *ctx,
				json_t *outputs)
{
	static const char *const known[] = {"name", "pattern", "path",
					    "merge-multiple", NULL};
	static const char *const ignored[] = {"github-token", "repository",
					      "run-id", "artifact-ids", NULL};
	struct guts__inputs in;
	struct pending *todo = NULL;
	size_t nr = 0;
	const char *name, *pattern, *path;
	char *dest = NULL;
	json_t *names = NULL;
	int merge, rc;

	rc = guts__inputs_init(&in, DOWNLOAD, with, ctx, known, ignored);
	if (rc < 0)
		return rc;
	rc = need_store(ctx, DOWNLOAD);
	if (rc < 0)
		goto out;
	name = guts__input(&in, "name");
	pattern = guts__input(&in, "pattern");
	path = guts__input(&in, "path");
	rc = guts__input_bool(&in, "merge-multiple", 0, &merge);
	if (rc < 0)
		goto out;
	rc =
	    guts__resolve_path(ctx, DOWNLOAD, "path", path ? path : ".", &dest);
	if (rc < 0)
		goto out;

	if (name) {
		rc = guts_artifact_name_check(DOWNLOAD ": input 'name'", name);
		if (rc < 0)
			goto out;
		if (pattern)
			guts__log(ctx,
				  DOWNLOAD ": input 'pattern' is ignored when "
					   "'name' is given");
		todo = guts_xcalloc(1, sizeof(*todo));
		todo[0].name = guts_xstrdup(name);
		nr = 1;
		rc = guts_artifact_store_artifact_get(ctx->store, ctx->run_id,
						      name, &todo[0].files);
		if (rc < 0) {
			rc = guts_error_wrap(rc, DOWNLOAD);
			goto out;
		}
	} else {
		size_t i;
		json_t *n;

		rc = guts_artifact_store_artifact_list(ctx->store, ctx->run_id,
						       &names);
		if (rc < 0) {
			rc = guts_error_wrap(rc, DOWNLOAD);
			goto out;
		}
		todo = guts_xcalloc(json_array_size(names) + 1, sizeof(*todo));
		json_array_foreach(names, i, n) {
			const char *an = json_string_value(n);

			if (pattern && !guts_pathglob_fnmatch(pattern, an))
				continue;
			todo[nr].name = guts_xstrdup(an);
			rc = guts_artifact_store_artifact_get(
			    ctx->store, ctx->run_id, an, &todo[nr].files);
			nr++;
			if (rc < 0) {
				rc = guts_error_wrap(rc, DOWNLOAD);
				goto out;
			}
		}
		if (!nr)
			guts__log(ctx,
				  DOWNLOAD ": no artifacts found%s%s%s in this "
					   "run",
				  pattern ? " matching '" : "",
				  pattern ? pattern : "", pattern ? "'" : "");
	}
	/*
	 * Every manifest was read and checked above, before anything is
	 * written: a bad one stops the step with nothing downloaded.
	 */
	for (size_t i = 0; i < nr; i++) {
		struct guts__dest d = {-1, NULL};
		char *to = name || merge
			       ? guts_xstrdup(dest)
			       : guts_xasprintf("%s/%s", dest, todo[i].name);
		unsigned long long total = 0;
		size_t j;
		json_t *f;
		char *size;

		rc = guts__dest_open(ctx, DOWNLOAD, to, &d);
		if (!rc)
			rc = guts__write_manifest(ctx, DOWNLOAD, todo[i].files,
						  &d, NULL);
		guts__dest_close(&d);
		if (rc < 0) {
			char *m = guts_xstrdup(guts_error_message());

			rc = guts_error(rc, "%s (artifact '%s')", m,
					todo[i].name);
			free(m);
			free(to);
			goto out;
		}
		json_array_foreach(todo[i].files, j, f) {
			total += (unsigned long long)json_integer_value(
			    json_object_get(f, "size"));
		}
		size = guts__format_size(total);
		guts__log(
		    ctx, DOWNLOAD ": '%s': %zu file%s, %s, verified, into %s",
		    todo[i].name, json_array_size(todo[i].files),
		    json_array_size(todo[i].files) == 1 ? "" : "s", size, to);
		free(size);
		free(to);
	}
	if (outputs)
		json_object_set_new(outputs, "download-path",
				    json_string(dest));
out:
	for (size_t i = 0; i < nr; i++) {
		free(todo[i].name);
		json_decref(todo[i].files);
	}
	free(todo);
	json_decref(names);
	free(dest);
	guts__inputs_release(&in);
	return rc;
}
