/*
 * hashFiles(): walk the workspace, match the patterns, hash the matches.
 */
#include <dirent.h>
#include <stdint.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/filter.h"
#include "guts/hash.h"
#include "guts/hashfiles.h"
#include "guts/strvec.h"
#include "banned.h"

/* Directory depth and file count caps keep a hostile tree bounded. */
#define MAX_DEPTH 64
#define MAX_FILES 1000000

/*
 * SHA-256 of a file the job may be changing under us: never follow a
 * link, never block on a FIFO, only regular files.
 */
static int hash_file(uint8_t out[GUTS_SHA256_LEN], const char *path)
{
	struct guts_sha256 h;
	struct stat st;
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return guts_error_errno("open");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return guts_error(GUTS_EINVAL, "not a regular file");
	}
	guts_sha256_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		guts_sha256_update(&h, buf, (size_t)n);
	close(fd);
	if (n < 0) {
		guts_sha256_release(&h);
		return guts_error_errno("read");
	}
	guts_sha256_final(&h, out);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether a '!' pattern of @l matches @name. */
static int excluded(const struct guts_filter_list *l, const char *name)
{
	for (size_t i = 0; i < guts_filter_list_count(l); i++) {
		const struct guts_filter_pattern *p =
		    guts_filter_list_get(l, i);

		if (guts_filter_pattern_is_negated(p) &&
		    guts_filter_pattern_match(p, name))
			return 1;
	}
	return 0;
}

/*
 * Collect the regular files under @rel that the patterns take.  As with
 * @actions/glob, a pattern that matches a directory takes everything
 * under it (@all), except what a '!' pattern excludes.
 */
static void walk(const char *root, const char *rel, int depth, int all,
		 const struct guts_filter_list *l, struct guts_strvec *out)
{
	char *dir =
	    *rel ? guts_xasprintf("%s/%s", root, rel) : guts_xstrdup(root);
	DIR *d = opendir(dir);
	struct dirent *e;

	free(dir);
	if (!d || depth > MAX_DEPTH) {
		if (d)
			closedir(d);
		return;
	}
	while ((e = readdir(d)) && out->nr < MAX_FILES) {
		char *r, *full;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		r = *rel ? guts_xasprintf("%s/%s", rel, e->d_name)
			 : guts_xstrdup(e->d_name);
		full = guts_xasprintf("%s/%s", root, r);
		/* lstat: a link is neither followed nor hashed. */
		if (lstat(full, &st) == 0) {
			int take = guts_filter_list_match(l, r) ||
				   (all && !excluded(l, r));

			if (S_ISDIR(st.st_mode))
				walk(root, r, depth + 1, take, l, out);
			else if (S_ISREG(st.st_mode) && take)
				guts_strvec_push(out, r);
		}
		free(full);
		free(r);
	}
	closedir(d);
}

int guts_hash_files(char **out, const char *workspace,
		    const char *const *patterns, size_t nr)
{
	struct guts_filter_list *l = NULL;
	struct guts_strvec pats, files;
	size_t wl = strlen(workspace), bad = 0;
	struct guts_sha256 all;
	uint8_t digest[GUTS_SHA256_LEN];
	char hex[GUTS_SHA256_HEX_LEN + 1];
	int ret;

	guts_strvec_init(&pats);
	for (size_t i = 0; i < nr; i++) {
		const char *p = patterns[i];
		int neg = *p == '!';

		if (neg)
			p++;
		if (!strncmp(p, workspace, wl) && p[wl] == '/')
			p += wl + 1;
		else if (p[0] == '.' && p[1] == '/')
			p += 2;
		guts_strvec_pushf(&pats, "%s%s", neg ? "!" : "", p);
	}
	ret = guts_filter_list_compile(&l, (const char *const *)pats.v, pats.nr,
				       0, &bad);
	guts_strvec_release(&pats);
	if (ret < 0)
		return guts_error(GUTS_EINVAL, "hashFiles: %s",
				  guts_error_message());
	guts_strvec_init(&files);
	walk(workspace, "", 0, 0, l, &files);
	guts_filter_list_free(l);
	if (!files.nr) {
		*out = guts_xstrdup("");
		return 0;
	}
	qsort(files.v, files.nr, sizeof(*files.v), cmp);
	guts_sha256_init(&all);
	for (size_t i = 0; i < files.nr; i++) {
		char *full = guts_xasprintf("%s/%s", workspace, files.v[i]);

		ret = hash_file(digest, full);
		free(full);
		if (ret < 0) {
			ret = guts_error(GUTS_EIO, "hashFiles: %s: %s",
					 files.v[i], guts_error_message());
			guts_sha256_release(&all);
			guts_strvec_release(&files);
			return ret;
		}
		guts_sha256_update(&all, digest, sizeof(digest));
	}
	guts_sha256_final(&all, digest);
	guts_strvec_release(&files);
	guts_sha256_hex(hex, digest);
	*out = guts_xstrdup(hex);
	return 0;
}
