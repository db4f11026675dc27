/*
 * Loading and validating workflow files, against libyaml merely scanning the
 * same bytes, in the same run.  The target is a ratio of at most 3.
 *
 *   bench_workflow [DIR] [ROUNDS]
 *
 * DIR holds the files (default ../shared/conformance/workflows/corpus).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "guts/diag.h"
#include "guts/fs.h"
#include "guts/workflow.h"
#include "banned.h"

struct file {
	char *name;
	char *text;
	size_t len;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t scan_only(const struct file *f)
{
	yaml_parser_t p;
	yaml_token_t tok;
	size_t n = 0;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)f->text,
				     f->len);
	for (;;) {
		if (!yaml_parser_scan(&p, &tok))
			break;
		n++;
		if (tok.type == YAML_STREAM_END_TOKEN) {
			yaml_token_delete(&tok);
			break;
		}
		yaml_token_delete(&tok);
	}
	yaml_parser_delete(&p);
	return n;
}

static size_t load(const struct file *f)
{
	struct guts_workflow_opts o = {0};
	struct guts_workflow *wf = NULL;
	struct guts_diags d;
	size_t jobs = 0;

	o.syntax_only = 1;
	o.warn_injection = 1;
	guts_diags_init(&d, f->name);
	if (guts_workflow_parse(&wf, f->name, f->text, f->len, &o, &d) == 0)
		jobs = wf->nr_jobs;
	else
		fprintf(stderr, "bench_workflow: %s is invalid\n", f->name);
	guts_workflow_free(wf);
	guts_diags_release(&d);
	return jobs;
}

int main(int argc, char **argv)
{
	const char *dir =
	    argc > 1 ? argv[1] : "../shared/conformance/workflows/corpus";
	long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 50;
	struct file files[256];
	size_t nr = 0, bytes = 0, sink = 0;
	struct dirent *de;
	double t0, scan, full;
	DIR *dp = opendir(dir);

	if (!dp) {
		fprintf(stderr, "bench_workflow: cannot open %s\n", dir);
		return 2;
	}
	while ((de = readdir(dp)) && nr < 256) {
		size_t l = strlen(de->d_name);
		char path[4096];

		if (!(l > 4 && !strcmp(de->d_name + l - 4, ".yml")) &&
		    !(l > 5 && !strcmp(de->d_name + l - 5, ".yaml")))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		files[nr].name = strdup(de->d_name);
		if (guts_fs_read_all(&files[nr].text, &files[nr].len, path,
				     GUTS_WORKFLOW_MAX_BYTES) < 0)
			continue;
		bytes += files[nr].len;
		nr++;
	}
	closedir(dp);
	if (!nr || rounds < 1) {
		fprintf(stderr, "bench_workflow: no workflow files in %s\n",
			dir);
		return 2;
	}

	/* Warm up both, then alternate so drift affects both alike. */
	for (size_t i = 0; i < nr; i++)
		sink += scan_only(&files[i]) + load(&files[i]);
	scan = full = 0;
	for (long r = 0; r < rounds; r++) {
		t0 = now();
		for (size_t i = 0; i < nr; i++)
			sink += scan_only(&files[i]);
		scan += now() - t0;
		t0 = now();
		for (size_t i = 0; i < nr; i++)
			sink += load(&files[i]);
		full += now() - t0;
	}
	printf("workflow load+validate: %zu files, %zu bytes, %ld rounds\n", nr,
	       bytes, rounds);
	printf("  baseline libyaml scan only: %8.3f ms/round (%.1f MB/s)\n",
	       scan * 1e3 / rounds, bytes * rounds / scan / 1e6);
	printf("  guts load+validate:         %8.3f ms/round (%.1f MB/s)\n",
	       full * 1e3 / rounds, bytes * rounds / full / 1e6);
	printf("  ratio: %.2fx the scan (target <= 3x)%s\n", full / scan,
	       sink ? "" : " ");
	for (size_t i = 0; i < nr; i++) {
		free(files[i].name);
		free(files[i].text);
	}
	return 0;
}
