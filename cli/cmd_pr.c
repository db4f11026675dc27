/*
 * guts pr: a repository's pull requests on a node.
 *
 *   guts pr create --head BRANCH [--base BRANCH] --title T
 *                  [--body B | --body-file F]
 *   guts pr list [--state open|closed|all] [--limit N]
 *   guts pr view N
 *   guts pr merge N [--merge|--squash|--fast-forward] [--sha SHA]
 *                 [--title T] [--message M] [--bypass]
 *   guts pr close N
 *   guts pr reopen N
 *
 * Exit statuses as everywhere (api.h): 0 done, 1 the node said no (a merge
 * it refused included) or could not be reached, 2 a usage error.  `view`
 * exits 0 whether or not the pull request can merge; it says which, and why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guts/alloc.h"
#include "guts/apiutil.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "api.h"
#include "commands.h"
#include "banned.h"

/* The node refuses a longer body (node/pulls.c); say so before sending. */
#define PR_BODY_MAX (64 * 1024)

static const char pr_usage[] =
    "usage: guts pr <command> [<args>]\n"
    "\n"
    "Commands:\n"
    "  create   open a pull request from one branch into another\n"
    "  list     the repository's pull requests, newest first\n"
    "  view     a pull request, its checks and whether it can merge\n"
    "  merge    merge a pull request into its base branch\n"
    "  close    close a pull request without merging it\n"
    "  reopen   open a closed pull request again\n"
    "\n"
    "Run 'guts pr <command> --help' for its options.\n";

static const char create_usage[] =
    "usage: guts pr create --head BRANCH [--base BRANCH] --title T\n"
    "                      [--body B | --body-file F] [<client options>]\n"
    "\n"
    "Open a pull request to merge branch --head into branch --base, both\n"
    "branches of the repository.  Prints its number and its address.\n"
    "\n"
    "  --head BRANCH      the branch with the changes\n"
    "  --base BRANCH      the branch to merge into (default: the\n"
    "                     repository's default branch)\n"
    "  --title T          the title\n"
    "  --body B           the description\n"
    "  --body-file F      the description from file F ('-': stdin)\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char list_usage[] =
    "usage: guts pr list [--state open|closed|all] [--limit N]\n"
    "                    [<client options>]\n"
    "\n"
    "List the repository's pull requests, newest first.  A merged pull\n"
    "request is closed; its STATE shows as merged.\n"
    "\n"
    "  --state S          open (default), closed or all\n"
    "  --limit N          show at most N (default 30)\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char view_usage[] =
    "usage: guts pr view N [<client options>]\n"
    "\n"
    "Show pull request N: its state, branches and their shas, whether it\n"
    "merges cleanly, the checks on its head sha (each context and the\n"
    "combined state), then \"Can merge: yes\" or \"Can merge: no\" and each\n"
    "reason.  With --json: {\"pull\": PULL, \"status\": COMBINED_STATUS}.\n"
    "\n"
    "Exit status: 0 whether or not it can merge, 1 when the node cannot\n"
    "be asked or has no such pull request, 2 usage error.\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char merge_usage[] =
    "usage: guts pr merge N [--merge|--squash|--fast-forward] [--sha SHA]\n"
    "                     [--title T] [--message M] [--bypass]\n"
    "                     [<client options>]\n"
    "\n"
    "Merge pull request N into its base branch on the node and print the\n"
    "base's new sha.  When the node refuses (failing or missing required\n"
    "checks, conflicts, a closed pull request), print its reasons and the\n"
    "conflicting paths, one per line, and exit 1; with --json, the node's\n"
    "refusal goes to stdout as well.\n"
    "\n"
    "  --merge            a merge commit (the default)\n"
    "  --squash           one commit with the changes of the head\n"
    "  --fast-forward     move the base to the head; refused when the base\n"
    "                     has commits the head does not\n"
    "  --sha SHA          merge only if the head is still this commit\n"
    "  --title T          the commit's title\n"
    "  --message M        the commit's message\n"
    "  --bypass           past branch protection (admins; audited)\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

static const char close_usage[] = "usage: guts pr close N [<client options>]\n"
				  "\n"
				  "Close pull request N without merging it.\n"
				  "\n" API_CLIENT_HELP API_REPO_HELP;

static const char reopen_usage[] =
    "usage: guts pr reopen N [<client options>]\n"
    "\n"
    "Open closed pull request N again (not a merged one).\n"
    "\n" API_CLIENT_HELP API_REPO_HELP;

/* ---- helpers ------------------------------------------------------------- */

/* The string @key of the object @sub of @o ("head" "ref"), or NULL. */
static const char *sub_str(const json_t *o, const char *sub, const char *key)
{
	return json_string_value(json_object_get(json_object_get(o, sub), key));
}

/* open, closed or merged (a merged pull request is closed). */
static const char *state_of(const json_t *p)
{
	const char *s = json_string_value(json_object_get(p, "state"));

	if (json_is_true(json_object_get(p, "merged")))
		return "merged";
	return s ? s : "-";
}

/* Print one line of text from the node on stdout, made printable. */
static void put_line(const char *prefix, const char *text, const char *suffix)
{
	char *safe = guts_api_printable(text);

	printf("%s%s%s\n", prefix, safe, suffix);
	free(safe);
}

/*
 * Print a refusal: "guts: MESSAGE" and, when the node sent them, the
 * conflicting paths, one per line (stderr; everything made printable).
 */
static void print_refusal(long status, const json_t *answer)
{
	const json_t *err = json_object_get(answer, "error");
	const char *m = json_string_value(json_object_get(err, "message"));
	const json_t *conflicts = json_object_get(err, "conflicts"), *c;
	size_t i;

	if (m) {
		char *safe = guts_api_printable(m);

		cli_fail(1, "%s", safe);
		free(safe);
	} else {
		cli_fail(1, "the node answered HTTP %ld", status);
	}
	if (!json_array_size(conflicts))
		return;
	fprintf(stderr, "Conflicting paths:\n");
	json_array_foreach(conflicts, i, c) {
		char *safe = guts_api_printable(json_string_value(c));

		fprintf(stderr, "  %s\n", safe);
		free(safe);
	}
}

/*
 * One JSON request like api_call(), except that a refusal's answer is kept
 * for the caller: on a non-2xx answer 1, with its message and conflicting
 * paths printed and the parsed answer (or NULL) in *refusal.  api_call()
 * prints only the message, and at most 255 bytes of it, while a merge
 * refusal names every failing check and conflicting path.
 */
static int call_keep_refusal(struct api *a, const char *method,
			     const char *path, const json_t *body, json_t **out,
			     json_t **refusal)
{
	struct guts_http_opts o = {0};
	struct guts_http_resp r;
	json_t *answer = NULL;
	char *text = NULL;
	int rc;

	*out = NULL;
	*refusal = NULL;
	rc = api_connect(a);
	if (rc)
		return rc;
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		o.body = text;
		o.body_len = strlen(text);
	}
	guts_http_resp_init(&r);
	if (guts_http_request(&a->http, method, path, &o, &r) < 0) {
		const char *why = a->http.os_errno ? strerror(a->http.os_errno)
				  : a->http.errbuf[0] ? a->http.errbuf
						      : guts_error_message();

		rc = cli_fail(1, "cannot reach %s: %s", a->url, why);
		goto out;
	}
	if (r.body.len)
		answer =
		    json_loadb(r.body.data, r.body.len, JSON_DECODE_ANY, NULL);
	if (r.status / 100 == 2) {
		if (!answer)
			rc = cli_fail(1, "%s %s: the node's answer is not JSON",
				      method, path);
		*out = answer;
		answer = NULL;
		goto out;
	}
	print_refusal(r.status, answer);
	*refusal = answer;
	answer = NULL;
	rc = 1;
out:
	json_decref(answer);
	guts_http_resp_release(&r);
	free(text);
	return rc;
}

/* ---- create -------------------------------------------------------------- */

/* The text of --body-file @file ("-": stdin), into *out; else exit 2. */
static int read_body_file(const char *file, char **out)
{
	size_t len;
	int rc;

	if (!strcmp(file, "-"))
		rc = guts_fs_read_fd(out, &len, STDIN_FILENO, PR_BODY_MAX);
	else
		rc = guts_fs_read_all(out, &len, file, PR_BODY_MAX);
	if (rc == GUTS_ETOOBIG)
		return cli_fail(2, "--body-file %s: longer than %d bytes", file,
				PR_BODY_MAX);
	if (rc < 0)
		return cli_fail(2, "--body-file %s: %s", file,
				guts_error_message());
	if (strlen(*out) != len) {
		free(*out);
		*out = NULL;
		return cli_fail(2, "--body-file %s: not text (a NUL byte)",
				file);
	}
	return 0;
}

static int pr_create(int argc, char **argv)
{
	enum { HEAD, BASE, TITLE, BODY, BODY_FILE };
	static const struct cli_opt opts[] = {
	    {"--head", NULL, 0}, {"--base", NULL, 0},	   {"--title", NULL, 0},
	    {"--body", NULL, 0}, {"--body-file", NULL, 0}, {0}};
	const char *vals[5] = {NULL, NULL, NULL, NULL, NULL};
	struct api a;
	json_t *body = NULL, *repo = NULL, *out = NULL;
	char *text = NULL, *path = NULL;
	const char *base;
	int rc;

	api_init(&a);
	rc = api_args_id(&a, argc, argv, "pr create", create_usage, opts, vals,
			 "pull request", "the pull request number", NULL);
	if (!rc && (!vals[HEAD] || !*vals[HEAD]))
		rc = cli_fail(2, "pr create: --head BRANCH is required");
	if (!rc && (!vals[TITLE] || !*vals[TITLE]))
		rc = cli_fail(2, "pr create: --title T is required");
	if (!rc && vals[BODY] && vals[BODY_FILE])
		rc = cli_fail(2, "pr create: --body and --body-file do not "
				 "go together");
	if (!rc && vals[BODY_FILE])
		rc = read_body_file(vals[BODY_FILE], &text);
	if (rc)
		goto out;
	base = vals[BASE];
	if (!base) {
		path = api_repo_path(&a, "%s", "");
		rc = api_call(&a, "GET", path, NULL, &repo);
		if (rc)
			goto out;
		base =
		    json_string_value(json_object_get(repo, "default_branch"));
		if (!base || !*base) {
			rc = cli_fail(1,
				      "%s has no default branch; name one "
				      "with --base",
				      a.repo);
			goto out;
		}
		free(path);
		path = NULL;
	}
	body = json_pack("{s:s, s:s, s:s}", "title", vals[TITLE], "head",
			 vals[HEAD], "base", base);
	if (vals[BODY] || text)
		json_object_set_new(body, "body",
				    json_string(text ? text : vals[BODY]));
	if (!body || ((vals[BODY] || text) && !json_object_get(body, "body"))) {
		rc = cli_fail(2, "pr create: the title and body must be UTF-8");
		goto out;
	}
	path = api_repo_path(&a, "/pulls");
	rc = api_call(&a, "POST", path, body, &out);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(out);
	} else {
		char b[32];
		char *title =
		    guts_api_printable(jtext(out, "title", b, sizeof(b)));

		printf("Created pull request #%s: %s\n",
		       jtext(out, "number", b, sizeof(b)), title);
		free(title);
		if (jtext(out, "html_url", b, sizeof(b)))
			put_line("", jtext(out, "html_url", b, sizeof(b)), "");
	}
out:
	free(path);
	free(text);
	json_decref(body);
	json_decref(repo);
	json_decref(out);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

/* ---- list ---------------------------------------------------------------- */

static int pr_list(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"--state", NULL, 0}, {"--limit", NULL, 0}, {0}};
	const char *vals[2] = {NULL, NULL};
	const char *state;
	struct api a;
	long long limit = 30;
	json_t *list = NULL, *p;
	char *path = NULL;
	size_t i;
	int rc;

	api_init(&a);
	rc = api_args_id(&a, argc, argv, "pr list", list_usage, opts, vals,
			 "pull request", "the pull request number", NULL);
	state = vals[0] ? vals[0] : "open";
	if (!rc && strcmp(state, "open") && strcmp(state, "closed") &&
	    strcmp(state, "all"))
		rc = cli_fail(2, "--state wants open, closed or all, got '%s'",
			      state);
	if (!rc && vals[1] && (limit = cli_positive("--limit", vals[1])) < 0)
		rc = 2;
	if (rc)
		goto out;
	path = api_repo_path(&a, "/pulls?state=%s", state);
	rc = api_list(&a, path, limit, &list);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(list);
	} else if (!json_array_size(list)) {
		fprintf(stderr, "No %s%spull requests.\n",
			strcmp(state, "all") ? state : "",
			strcmp(state, "all") ? " " : "");
	} else {
		struct guts_table t;
		char b[64];

		guts_table_init(&t, 5);
		guts_table_add(&t, "NUMBER");
		guts_table_add(&t, "TITLE");
		guts_table_add(&t, "HEAD→BASE");
		guts_table_add(&t, "STATE");
		guts_table_add(&t, "UPDATED");
		json_array_foreach(list, i, p) {
			const char *head = sub_str(p, "head", "ref");
			const char *base = sub_str(p, "base", "ref");

			guts_table_addf(&t, "#%s",
					jtext(p, "number", b, sizeof(b)));
			guts_table_add(&t, jtext(p, "title", b, sizeof(b)));
			guts_table_addf(&t, "%s→%s", head ? head : "?",
					base ? base : "?");
			guts_table_add(&t, state_of(p));
			guts_table_add(&t, jago(p, "updated_at", b, sizeof(b)));
		}
		api_print_table(&t, "");
	}
out:
	free(path);
	json_decref(list);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

/* ---- view ---------------------------------------------------------------- */

/* "yes", "no (conflicts: a, b)" or "unknown" (not computed yet). */
static void mergeable_text(const json_t *p, struct guts_buf *out)
{
	const json_t *m = json_object_get(p, "mergeable"), *c;
	const json_t *conflicts = json_object_get(p, "conflicts");
	size_t i;

	if (json_is_true(m)) {
		guts_buf_adds(out, "yes");
		return;
	}
	if (!json_is_false(m)) {
		guts_buf_adds(out, "unknown");
		return;
	}
	guts_buf_adds(out, "no");
	json_array_foreach(conflicts, i, c) {
		guts_buf_adds(out, i ? ", " : " (conflicts: ");
		guts_buf_adds(out, json_string_value(c) ? json_string_value(c)
							: "?");
	}
	if (json_array_size(conflicts))
		guts_buf_adds(out, ")");
}

/* "feature-a (0123456789ab)", the head or base of @p, into @t. */
static void add_branch(struct guts_table *t, const json_t *p, const char *which)
{
	const char *ref = sub_str(p, which, "ref");
	const char *sha = sub_str(p, which, "sha");

	if (sha)
		guts_table_addf(t, "%s (%.12s)", ref ? ref : "?", sha);
	else
		guts_table_addf(t, "%s (gone)", ref ? ref : "?");
}

static void print_body(const char *body)
{
	if (!body || !*body)
		return;
	putchar('\n');
	while (*body) {
		size_t n = strcspn(body, "\n");
		char *line = guts_xstrndup(body, n);

		put_line("  ", line, "");
		free(line);
		body += n;
		if (*body == '\n')
			body++;
	}
}

static void print_checks(const json_t *p, const json_t *st)
{
	const json_t *list = json_object_get(st, "statuses"), *s;
	const char *sha = sub_str(p, "head", "sha");
	struct guts_table t;
	char b[64];
	size_t i, n = json_array_size(list);

	if (!sha) {
		printf("\nChecks: none (the head branch is gone)\n");
		return;
	}
	{
		char *state = guts_api_printable(
		    json_string_value(json_object_get(st, "state")));

		printf("\nChecks on %.12s: %s (%zu context%s)\n", sha,
		       *state ? state : "unknown", n, n == 1 ? "" : "s");
		free(state);
	}
	if (!n)
		return;
	guts_table_init(&t, 3);
	guts_table_add(&t, "STATE");
	guts_table_add(&t, "CONTEXT");
	guts_table_add(&t, "DESCRIPTION");
	json_array_foreach(list, i, s) {
		guts_table_add(&t, jtext(s, "state", b, sizeof(b)));
		guts_table_add(&t, jtext(s, "context", b, sizeof(b)));
		guts_table_add(&t, jtext(s, "description", b, sizeof(b)));
	}
	api_print_table(&t, "  ");
}

static void print_pull(const json_t *p, const json_t *st)
{
	const json_t *why = json_object_get(p, "merge_blockers"), *w;
	struct guts_table t;
	struct guts_buf m;
	char b[64];
	char *title = guts_api_printable(jtext(p, "title", b, sizeof(b)));
	size_t i;

	printf("#%s %s\n", jtext(p, "number", b, sizeof(b)), title);
	free(title);
	guts_table_init(&t, 2);
	guts_table_add(&t, "state:");
	guts_table_add(&t, state_of(p));
	guts_table_add(&t, "author:");
	guts_table_add(&t, sub_str(p, "user", "login"));
	guts_table_add(&t, "head:");
	add_branch(&t, p, "head");
	guts_table_add(&t, "base:");
	add_branch(&t, p, "base");
	if (json_is_true(json_object_get(p, "merged"))) {
		guts_table_add(&t, "merged as:");
		guts_table_add(&t, jtext(p, "merge_commit_sha", b, sizeof(b)));
		guts_table_add(&t, "merged by:");
		guts_table_add(&t, sub_str(p, "merged_by", "login"));
	} else {
		guts_buf_init(&m, 0);
		mergeable_text(p, &m);
		guts_table_add(&t, "mergeable:");
		guts_table_add(&t, m.data);
		guts_buf_release(&m);
	}
	guts_table_add(&t, "created:");
	guts_table_add(&t, jago(p, "created_at", b, sizeof(b)));
	guts_table_add(&t, "updated:");
	guts_table_add(&t, jago(p, "updated_at", b, sizeof(b)));
	guts_table_add(&t, "url:");
	guts_table_add(&t, jtext(p, "html_url", b, sizeof(b)));
	api_print_table(&t, "  ");
	print_body(json_string_value(json_object_get(p, "body")));
	print_checks(p, st);
	if (json_is_true(json_object_get(p, "can_merge"))) {
		printf("\nCan merge: yes\n");
		return;
	}
	printf("\nCan merge: no\n");
	json_array_foreach(why, i, w) {
		put_line("  - ", json_string_value(w), "");
	}
}

static int pr_view(int argc, char **argv)
{
	struct api a;
	long long number;
	json_t *pull = NULL, *st = NULL;
	char *path = NULL, *spath = NULL;
	const char *sha;
	int rc;

	api_init(&a);
	rc = api_args_id(&a, argc, argv, "pr view", view_usage, NULL, NULL,
			 "pull request", "the pull request number", &number);
	if (rc)
		goto out;
	path = api_repo_path(&a, "/pulls/%lld", number);
	rc = api_call(&a, "GET", path, NULL, &pull);
	if (rc)
		goto out;
	/* The checks are the statuses of the head sha, as for a merge. */
	sha = sub_str(pull, "head", "sha");
	if (sha) {
		char *e = guts_http_escape(sha);

		spath = api_repo_path(&a, "/commits/%s/status", e);
		free(e);
		rc = api_call(&a, "GET", spath, NULL, &st);
		if (rc)
			goto out;
	}
	if (a.json) {
		json_t *both = json_pack("{s:O, s:O}", "pull", pull, "status",
					 st ? st : json_null());

		api_print_json(both);
		json_decref(both);
	} else {
		print_pull(pull, st);
	}
out:
	free(path);
	free(spath);
	json_decref(pull);
	json_decref(st);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

/* ---- merge --------------------------------------------------------------- */

static int is_sha(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == 40 && !s[n];
}

static int pr_merge(int argc, char **argv)
{
	enum { MERGE, SQUASH, FF, SHA, TITLE, MESSAGE, BYPASS };
	static const struct cli_opt opts[] = {
	    {"--merge", NULL, 1},	 {"--squash", NULL, 1},
	    {"--fast-forward", NULL, 1}, {"--sha", NULL, 0},
	    {"--title", NULL, 0},	 {"--message", NULL, 0},
	    {"--bypass", NULL, 1},	 {0}};
	static const char *const methods[] = {"merge", "squash",
					      "fast-forward"};
	const char *vals[7] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
	const char *method = "merge";
	struct api a;
	long long number;
	json_t *body = NULL, *out = NULL, *refusal = NULL;
	char *path = NULL;
	int rc, chosen = 0;

	api_init(&a);
	rc = api_args_id(&a, argc, argv, "pr merge", merge_usage, opts, vals,
			 "pull request", "the pull request number", &number);
	for (int k = MERGE; k <= FF; k++) {
		if (vals[k]) {
			method = methods[k];
			chosen++;
		}
	}
	if (!rc && chosen > 1)
		rc = cli_fail(2, "pr merge: choose one of --merge, --squash "
				 "and --fast-forward");
	if (!rc && vals[SHA] && !is_sha(vals[SHA]))
		rc = cli_fail(2,
			      "--sha wants the head's full sha (40 lowercase "
			      "hex digits), got '%s'",
			      vals[SHA]);
	if (rc)
		goto out;
	body = json_pack("{s:s}", "merge_method", method);
	if (vals[SHA])
		json_object_set_new(body, "sha", json_string(vals[SHA]));
	if (vals[TITLE] && json_object_set_new(body, "commit_title",
					       json_string(vals[TITLE])) < 0)
		rc = cli_fail(2, "--title: not UTF-8");
	if (!rc && vals[MESSAGE] &&
	    json_object_set_new(body, "commit_message",
				json_string(vals[MESSAGE])) < 0)
		rc = cli_fail(2, "--message: not UTF-8");
	if (rc)
		goto out;
	path = api_repo_path(&a, "/pulls/%lld/merge%s", number,
			     vals[BYPASS] ? "?bypass=1" : "");
	rc = call_keep_refusal(&a, "PUT", path, body, &out, &refusal);
	if (a.json && (out || refusal)) {
		api_print_json(out ? out : refusal);
	} else if (!rc) {
		char b[64];
		char *sha = guts_api_printable(jtext(out, "sha", b, sizeof(b)));

		printf("Merged pull request #%lld (%s): %s\n", number, method,
		       sha);
		free(sha);
	}
out:
	free(path);
	json_decref(body);
	json_decref(out);
	json_decref(refusal);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

/* ---- close and reopen ---------------------------------------------------- */

static int set_state(int argc, char **argv, const char *cmd, const char *usage,
		     const char *state, const char *done)
{
	struct api a;
	long long number;
	json_t *body = NULL, *out = NULL;
	char *path = NULL;
	int rc;

	api_init(&a);
	rc = api_args_id(&a, argc, argv, cmd, usage, NULL, NULL, "pull request",
			 "the pull request number", &number);
	if (rc)
		goto out;
	body = json_pack("{s:s}", "state", state);
	path = api_repo_path(&a, "/pulls/%lld", number);
	rc = api_call(&a, "PATCH", path, body, &out);
	if (rc)
		goto out;
	if (a.json) {
		api_print_json(out);
	} else {
		char b[32];
		char *title =
		    guts_api_printable(jtext(out, "title", b, sizeof(b)));

		printf("%s pull request #%lld: %s\n", done, number, title);
		free(title);
	}
out:
	free(path);
	json_decref(body);
	json_decref(out);
	api_release(&a);
	return rc < 0 ? 0 : rc;
}

static int pr_close(int argc, char **argv)
{
	return set_state(argc, argv, "pr close", close_usage, "closed",
			 "Closed");
}

static int pr_reopen(int argc, char **argv)
{
	return set_state(argc, argv, "pr reopen", reopen_usage, "open",
			 "Reopened");
}

int cmd_pr(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} subs[] = {{"create", pr_create}, {"list", pr_list},
		    {"view", pr_view},	   {"merge", pr_merge},
		    {"close", pr_close},   {"reopen", pr_reopen}};

	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(pr_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	return cli_fail(2, "pr: unknown command '%s' (see 'guts pr --help')",
			argv[1]);
}
