/*
 * Permissions across reusable workflow calls: a called workflow's jobs may
 * not request more than the calling job allows, at any nesting depth.
 */
#include <string.h>

#include "guts/buf.h"
#include "wf_internal.h"
#include "banned.h"

/* In the order GitHub lists them in messages. */
static const char *const scopes[WF_NR_SCOPES] = {
    "actions",	     "checks",
    "contents",	     "deployments",
    "discussions",   "issues",
    "packages",	     "pages",
    "pull-requests", "repository-projects",
    "statuses",	     "security-events",
    "id-token",	     "attestations",
    "models",
};

static const char *const level_names[] = {"none", "read", "write"};

static int scope_index(const char *s)
{
	for (int i = 0; i < WF_NR_SCOPES; i++)
		if (!strcmp(scopes[i], s))
			return i;
	return -1;
}

void wf_perm_levels(const json_t *perm, signed char out[WF_NR_SCOPES])
{
	const char *k;
	json_t *v;

	memset(out, perm ? 0 : -1, WF_NR_SCOPES);
	if (!perm)
		return;
	if (json_is_string(perm)) {
		int lvl = !strcmp(json_string_value(perm), "write-all")	 ? 2
			  : !strcmp(json_string_value(perm), "read-all") ? 1
									 : 0;

		memset(out, lvl, WF_NR_SCOPES);
		/* id-token has no read level. */
		if (lvl == 1)
			out[scope_index("id-token")] = 0;
		return;
	}
	json_object_foreach((json_t *)perm, k, v) {
		int i = scope_index(k);
		const char *s = json_string_value(v);

		if (i < 0 || !s)
			continue;
		out[i] = !strcmp(s, "write") ? 2 : !strcmp(s, "read") ? 1 : 0;
	}
}

void wf_perm_default(const struct guts_workflow_opts *opts,
		     signed char out[WF_NR_SCOPES])
{
	if (opts->permissions_policy == 1) {
		memset(out, 2, WF_NR_SCOPES);
		return;
	}
	memset(out, 0, WF_NR_SCOPES);
	out[scope_index("contents")] = 1;
	out[scope_index("packages")] = 1;
}

static void list_levels(struct guts_buf *b, const signed char *lv,
			const signed char *only)
{
	int first = 1;

	for (int i = 0; i < WF_NR_SCOPES; i++) {
		if (!only[i])
			continue;
		guts_buf_addf(b, "%s%s: %s", first ? "" : ", ", scopes[i],
			      level_names[lv[i] < 0 ? 0 : lv[i]]);
		first = 0;
	}
}

void wf_perm_check_call(struct wf_parser *p, struct guts_wf_pos at,
			const char *ref, const struct guts_workflow *called,
			const signed char allowed[WF_NR_SCOPES])
{
	for (size_t j = 0; j < called->nr_jobs; j++) {
		const struct guts_wf_job *job = &called->jobs[j];
		const json_t *perm =
		    job->permissions ? job->permissions : called->permissions;
		signed char want[WF_NR_SCOPES], over[WF_NR_SCOPES];
		struct guts_buf a, b;
		int bad = 0;

		if (!perm)
			continue; /* inherits what it is allowed */
		wf_perm_levels(perm, want);
		for (int i = 0; i < WF_NR_SCOPES; i++) {
			over[i] = want[i] > allowed[i];
			bad |= over[i];
		}
		if (!bad)
			continue;
		guts_buf_init(&a, 0);
		guts_buf_init(&b, 0);
		list_levels(&a, want, over);
		list_levels(&b, allowed, over);
		guts_diag_error(p->d, at.line, at.col,
				"calling '%s': its job '%s' requests '%s', but "
				"this call only allows '%s'; grant more with "
				"'permissions:' on the calling job",
				ref, job->name ? job->name : job->id, a.data,
				b.data);
		guts_buf_release(&a);
		guts_buf_release(&b);
	}
}
