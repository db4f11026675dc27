/*
 * Trigger matching (see include/guts/trigger.h for the rules).
 *
 * Filters are compiled on every call: a workflow has a handful of short
 * patterns, compiling them costs microseconds, and it keeps the model plain
 * data that any thread may read.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/filter.h"
#include "guts/trigger.h"
#include "wf_internal.h"
#include "banned.h"

#define ZERO_SHA "0000000000000000000000000000000000000000"

static const char *const default_pr_types[] = {"opened", "synchronize",
					       "reopened", NULL};

void guts_trigger_result_init(struct guts_trigger_result *r)
{
	r->matched = 0;
	r->reason = NULL;
	r->inputs = NULL;
}

void guts_trigger_result_release(struct guts_trigger_result *r)
{
	if (!r)
		return;
	free(r->reason);
	json_decref(r->inputs);
	guts_trigger_result_init(r);
}

/* ---- small helpers ---- */

/* The list of @f compiled, or NULL when the key was not given. */
static int compile(struct guts_filter_list **out,
		   const struct guts_wf_filter *f, const char *what)
{
	size_t bad = 0;
	int rc;

	*out = NULL;
	if (!f->set)
		return 0;
	rc = guts_filter_list_compile(out, (const char *const *)f->patterns.v,
				      f->patterns.nr, 0, &bad);
	if (rc < 0) {
		/* The message lives in the buffer guts_error() writes. */
		char *why = guts_xstrdup(guts_error_message());

		rc = guts_error(rc, "%s: %s", what, why);
		free(why);
	}
	return rc;
}

static const char *strip_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? NULL : s + n;
}

/* "main" from "refs/heads/main" or "main". */
static const char *branch_name(const char *ref)
{
	const char *b = ref ? strip_prefix(ref, "refs/heads/") : NULL;

	return b ? b : ref;
}

static int in_list(const char *s, const char *const *list, size_t nr)
{
	for (size_t i = 0; i < nr && list[i]; i++)
		if (!strcmp(s, list[i]))
			return 1;
	return 0;
}

static void join(struct guts_buf *b, const char *const *list, size_t nr)
{
	for (size_t i = 0; i < nr && list[i]; i++)
		guts_buf_addf(b, "%s%s", i ? ", " : "", list[i]);
}

/* Collapse runs of blanks so "0  0 * * *" names the same schedule. */
static char *normalize_cron(const char *s)
{
	struct guts_buf b;
	int blank = 0;

	guts_buf_init(&b, 0);
	while (*s && isspace((unsigned char)*s))
		s++;
	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			blank = 1;
			continue;
		}
		if (blank)
			guts_buf_addch(&b, ' ');
		blank = 0;
		guts_buf_addch(&b, *s);
	}
	return guts_buf_detach(&b, NULL);
}

/* ---- ref and path filters ---- */

/*
 * Branch or tag filters for @name.  Sets *ok and, when it fails, *why.
 * @kind is "branch" or "tag"; @inc/@ign the filters of that kind.
 */
static int ref_filters(int *ok, char **why, const char *kind, const char *name,
		       const struct guts_wf_filter *inc,
		       const struct guts_wf_filter *ign, const char *inc_name,
		       const char *ign_name)
{
	struct guts_filter_list *li = NULL, *lg = NULL;
	int rc;

	*ok = 1;
	rc = compile(&li, inc, inc_name);
	if (rc == 0)
		rc = compile(&lg, ign, ign_name);
	if (rc < 0)
		goto out;
	if (li && !guts_filter_list_match(li, name)) {
		*ok = 0;
		*why = guts_xasprintf("%s '%s' does not match %s filter", kind,
				      name, inc_name);
	} else if (lg && guts_filter_list_match(lg, name)) {
		*ok = 0;
		*why = guts_xasprintf("%s '%s' matches %s filter", kind, name,
				      ign_name);
	}
out:
	guts_filter_list_free(li);
	guts_filter_list_free(lg);
	return rc;
}

/* paths / paths-ignore; *ok and *why as above, *note when skipped. */
static int path_filters(int *ok, char **why, const struct guts_wf_trigger *t,
			const struct guts_event *ev)
{
	struct guts_filter_list *li = NULL, *lg = NULL;
	int rc;

	*ok = 1;
	rc = compile(&li, &t->paths, "paths");
	if (rc == 0)
		rc = compile(&lg, &t->paths_ignore, "paths-ignore");
	if (rc < 0)
		goto out;
	if (!li && !lg)
		goto out;
	if (guts_filter_paths(li, lg, ev->paths, ev->nr_paths))
		goto out;
	*ok = 0;
	if (!ev->nr_paths)
		*why =
		    guts_xstrdup("no path changed, and path filters are set");
	else if (li && lg)
		*why = guts_xstrdup("no changed path matches paths without "
				    "matching paths-ignore");
	else if (li)
		*why = guts_xstrdup("no changed path matches paths");
	else
		*why = guts_xstrdup("every changed path matches paths-ignore");
out:
	guts_filter_list_free(li);
	guts_filter_list_free(lg);
	return rc;
}

static int has_path_filters(const struct guts_wf_trigger *t)
{
	return t->paths.set || t->paths_ignore.set;
}

/* ---- events ---- */

static int match_push(struct guts_trigger_result *r,
		      const struct guts_wf_trigger *t,
		      const struct guts_event *ev)
{
	const char *ref = ev->ref ? ev->ref : "";
	const char *branch = strip_prefix(ref, "refs/heads/");
	const char *tag = strip_prefix(ref, "refs/tags/");
	int branch_set = t->branches.set || t->branches_ignore.set;
	int tag_set = t->tags.set || t->tags_ignore.set;
	int deleted = ev->after && !strcmp(ev->after, ZERO_SHA);
	char *why = NULL;
	const char *skip = NULL;
	int ok = 1, rc = 0;

	if (branch) {
		if (!branch_set && tag_set)
			why = guts_xasprintf("branch '%s' was pushed, but "
					     "only tag filters are set",
					     branch);
		else
			rc = ref_filters(&ok, &why, "branch", branch,
					 &t->branches, &t->branches_ignore,
					 "branches", "branches-ignore");
	} else if (tag) {
		if (!tag_set && branch_set)
			why = guts_xasprintf("tag '%s' was pushed, but only "
					     "branch filters are set",
					     tag);
		else
			rc =
			    ref_filters(&ok, &why, "tag", tag, &t->tags,
					&t->tags_ignore, "tags", "tags-ignore");
	} else if (branch_set || tag_set) {
		why = guts_xasprintf("ref '%s' is neither a branch nor a tag, "
				     "and ref filters are set",
				     ref);
	}
	if (rc < 0 || why)
		goto done;
	if (has_path_filters(t)) {
		if (tag)
			skip = "path filters are not evaluated for tags";
		else if (deleted)
			skip = "path filters are not evaluated for deletions";
		else if (!ev->have_paths)
			skip = "path filters not evaluated: changed paths "
			       "unknown";
		else
			rc = path_filters(&ok, &why, t, ev);
	}
done:
	if (rc < 0) {
		free(why);
		return rc;
	}
	r->matched = !why;
	if (why) {
		r->reason = why;
	} else {
		struct guts_buf b;

		guts_buf_init(&b, 0);
		if (branch)
			guts_buf_addf(&b, "push to branch '%s'", branch);
		else if (tag)
			guts_buf_addf(&b, "push of tag '%s'", tag);
		else
			guts_buf_addf(&b, "push to '%s'", ref);
		if (branch && t->branches.set)
			guts_buf_adds(&b, " matches branches filter");
		else if (tag && t->tags.set)
			guts_buf_adds(&b, " matches tags filter");
		if (skip)
			guts_buf_addf(&b, " (%s)", skip);
		else if (has_path_filters(t))
			guts_buf_adds(&b, t->paths.set
					      ? "; a changed path matches "
						"paths"
					      : "; a changed path is not "
						"in paths-ignore");
		r->reason = guts_buf_detach(&b, NULL);
	}
	return 0;
}

static int match_pull_request(struct guts_trigger_result *r,
			      const struct guts_wf_trigger *t,
			      const struct guts_event *ev)
{
	const char *action = ev->action ? ev->action : "opened";
	const char *base = branch_name(ev->base_ref);
	const char *skip = NULL;
	char *why = NULL;
	int ok = 1, rc = 0;

	if (t->types.set
		? !in_list(action, (const char *const *)t->types.patterns.v,
			   t->types.patterns.nr)
		: !in_list(action, default_pr_types, 3)) {
		struct guts_buf b;

		guts_buf_init(&b, 0);
		guts_buf_addf(&b, "activity type '%s' is not in types (",
			      action);
		if (t->types.set)
			join(&b, (const char *const *)t->types.patterns.v,
			     t->types.patterns.nr);
		else
			join(&b, default_pr_types, 3);
		guts_buf_adds(&b, t->types.set ? ")" : ", the default)");
		why = guts_buf_detach(&b, NULL);
		goto done;
	}
	if (t->branches.set || t->branches_ignore.set) {
		if (!base)
			return guts_error(GUTS_EINVAL,
					  "%s event without a base branch",
					  ev->name);
		rc = ref_filters(&ok, &why, "base branch", base, &t->branches,
				 &t->branches_ignore, "branches",
				 "branches-ignore");
		if (rc < 0 || why)
			goto done;
	}
	if (has_path_filters(t)) {
		if (!ev->have_paths)
			skip = "path filters not evaluated: changed paths "
			       "unknown";
		else
			rc = path_filters(&ok, &why, t, ev);
	}
done:
	if (rc < 0) {
		free(why);
		return rc;
	}
	r->matched = !why;
	if (why)
		r->reason = why;
	else
		r->reason = guts_xasprintf(
		    "%s %s%s%s%s%s", ev->name, action, base ? " into '" : "",
		    base ? base : "", base ? "'" : "",
		    skip ? " (path filters not evaluated: changed paths "
			   "unknown)"
			 : "");
	return 0;
}

static int match_schedule(struct guts_trigger_result *r,
			  const struct guts_wf_trigger *t,
			  const struct guts_event *ev)
{
	char *want;

	if (!ev->cron) {
		r->matched = t->crons.nr > 0;
		r->reason = guts_xstrdup(r->matched ? "schedule"
						    : "the workflow has no "
						      "schedule");
		return 0;
	}
	want = normalize_cron(ev->cron);
	for (size_t i = 0; i < t->crons.nr && !r->matched; i++) {
		char *have = normalize_cron(t->crons.v[i]);

		r->matched = !strcmp(have, want);
		free(have);
	}
	r->reason = r->matched ? guts_xasprintf("schedule '%s'", want)
			       : guts_xasprintf("schedule '%s' is not one of "
						"the workflow's schedules",
						want);
	free(want);
	return 0;
}

static int match_other(struct guts_trigger_result *r,
		       const struct guts_wf_trigger *t,
		       const struct guts_event *ev)
{
	char *why = NULL;
	int ok = 1, rc = 0;

	if (t->types.set &&
	    (!ev->action ||
	     !in_list(ev->action, (const char *const *)t->types.patterns.v,
		      t->types.patterns.nr))) {
		struct guts_buf b;

		guts_buf_init(&b, 0);
		guts_buf_addf(&b, "activity type '%s' is not in types (",
			      ev->action ? ev->action : "");
		join(&b, (const char *const *)t->types.patterns.v,
		     t->types.patterns.nr);
		guts_buf_adds(&b, ")");
		why = guts_buf_detach(&b, NULL);
		goto done;
	}
	if (!strcmp(ev->name, "workflow_run") && t->config) {
		json_t *wfs = json_object_get(t->config, "workflows");
		size_t i;
		json_t *w;
		int found = 0;

		if (json_is_string(wfs))
			found = ev->workflow &&
				!strcmp(json_string_value(wfs), ev->workflow);
		json_array_foreach(wfs, i, w) {
			if (json_is_string(w) && ev->workflow &&
			    !strcmp(json_string_value(w), ev->workflow))
				found = 1;
		}
		if (wfs && !found) {
			why =
			    guts_xasprintf("workflow '%s' is not in workflows",
					   ev->workflow ? ev->workflow : "");
			goto done;
		}
	}
	if (t->branches.set || t->branches_ignore.set) {
		const char *ref = !strcmp(ev->name, "workflow_run")
				      ? ev->head_ref
				      : ev->base_ref;
		const char *b = branch_name(ref ? ref : ev->ref);

		if (!b) {
			why = guts_xasprintf("%s event without a branch, and "
					     "branch filters are set",
					     ev->name);
			goto done;
		}
		rc = ref_filters(&ok, &why, "branch", b, &t->branches,
				 &t->branches_ignore, "branches",
				 "branches-ignore");
	}
done:
	if (rc < 0) {
		free(why);
		return rc;
	}
	r->matched = !why;
	r->reason =
	    why ? why
		: (ev->action ? guts_xasprintf("%s %s", ev->name, ev->action)
			      : guts_xstrdup(ev->name));
	return 0;
}

/* ---- inputs ---- */

static json_t *number_json(double d)
{
	if (d == floor(d) && fabs(d) < 9007199254740992.0)
		return json_integer((json_int_t)d);
	return json_real(d);
}

/* A number input's value from a string: a whole, finite decimal number. */
static int parse_number(double *out, const char *s)
{
	char *end;
	double d;

	while (isspace((unsigned char)*s))
		s++;
	if (!(isdigit((unsigned char)*s) || *s == '-' || *s == '+' ||
	      *s == '.'))
		return -1;
	/* Refuse hex, inf and nan: strtod reads them, people never mean them.
	 */
	for (const char *p = s; *p; p++)
		if (isalpha((unsigned char)*p) && *p != 'e' && *p != 'E')
			return -1;
	d = strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	if (end == s || *end || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

static int convert_input(json_t **out, const struct guts_wf_input *in,
			 const json_t *v)
{
	char *s = NULL;
	int rc = 0;

	/* A workflow_call default may be an expression: it stays one. */
	if (json_is_string(v) && strstr(json_string_value(v), "${{")) {
		*out = json_incref((json_t *)v);
		return 0;
	}
	switch (in->type) {
	case GUTS_WF_INPUT_BOOLEAN:
		if (json_is_boolean(v)) {
			*out = json_incref((json_t *)v);
		} else if (json_is_string(v) &&
			   !strcasecmp(json_string_value(v), "true")) {
			*out = json_true();
		} else if (json_is_string(v) &&
			   !strcasecmp(json_string_value(v), "false")) {
			*out = json_false();
		} else {
			s = wf_json_scalar_text(v);
			rc = guts_error(GUTS_EINVAL,
					"input '%s' must be true or false, "
					"not '%s'",
					in->name, s ? s : "(not a scalar)");
		}
		break;
	case GUTS_WF_INPUT_NUMBER: {
		double d;

		if (json_is_number(v)) {
			*out = json_incref((json_t *)v);
		} else if (json_is_string(v) &&
			   parse_number(&d, json_string_value(v)) == 0 &&
			   strlen(json_string_value(v)) ==
			       json_string_length(v)) {
			*out = number_json(d);
		} else {
			s = wf_json_scalar_text(v);
			rc = guts_error(GUTS_EINVAL,
					"input '%s' must be a number, not '%s'",
					in->name, s ? s : "(not a scalar)");
		}
		break;
	}
	case GUTS_WF_INPUT_CHOICE:
		s = wf_json_scalar_text(v);
		if (s && guts_strvec_find(&in->options, s) >= 0) {
			*out = json_string(s);
		} else {
			struct guts_buf b;

			guts_buf_init(&b, 0);
			join(&b, (const char *const *)in->options.v,
			     in->options.nr);
			rc = guts_error(GUTS_EINVAL,
					"input '%s' must be one of: %s (not "
					"'%s')",
					in->name, b.data,
					s ? s : "(not a scalar)");
			guts_buf_release(&b);
		}
		break;
	case GUTS_WF_INPUT_STRING:
	case GUTS_WF_INPUT_ENVIRONMENT:
		s = wf_json_scalar_text(v);
		if (s)
			*out = json_stringn(s, strlen(s));
		else
			rc = guts_error(GUTS_EINVAL,
					"input '%s' must be a string, not a "
					"%s",
					in->name,
					json_is_array(v) ? "sequence"
							 : "mapping");
		break;
	}
	free(s);
	if (rc == 0 && !*out) /* a string with a NUL byte */
		rc = guts_error(GUTS_EINVAL, "input '%s' is not valid text",
				in->name);
	return rc;
}

int guts_trigger_resolve_inputs(json_t **out, const struct guts_wf_input *defs,
				size_t nr, const json_t *given)
{
	json_t *res = json_object(), *v;
	const char *k;
	int rc = 0;

	if (given && !json_is_object(given)) {
		rc = guts_error(GUTS_EINVAL, "inputs must be an object");
		goto out;
	}
	json_object_foreach((json_t *)given, k, v) {
		size_t i;

		for (i = 0; i < nr; i++)
			if (!strcmp(defs[i].name, k))
				break;
		if (i == nr) {
			rc =
			    guts_error(GUTS_EINVAL, "unexpected input '%s'", k);
			goto out;
		}
	}
	for (size_t i = 0; i < nr; i++) {
		const struct guts_wf_input *in = &defs[i];
		json_t *conv = NULL;

		v = given ? json_object_get(given, in->name) : NULL;
		if (!v || json_is_null(v)) {
			v = in->default_value;
			if (!v && in->required) {
				rc = guts_error(GUTS_EINVAL,
						"input '%s' is required",
						in->name);
				goto out;
			}
			if (!v)
				continue;
		}
		rc = convert_input(&conv, in, v);
		if (rc < 0)
			goto out;
		json_object_set_new(res, in->name, conv);
	}
	*out = res;
	res = NULL;
out:
	json_decref(res);
	return rc;
}

int guts_trigger_match(struct guts_trigger_result *r,
		       const struct guts_workflow *wf,
		       const struct guts_event *ev)
{
	struct guts_trigger_result res = GUTS_TRIGGER_RESULT_INIT;
	const struct guts_wf_trigger *t;
	int rc = 0;

	if (!ev || !ev->name || !*ev->name)
		return guts_error(GUTS_EINVAL, "the event has no name");
	t = guts_workflow_trigger(wf, ev->name);
	if (!t) {
		res.reason = guts_xasprintf("the workflow does not run on '%s'",
					    ev->name);
		goto done;
	}
	if (!strcmp(ev->name, "push"))
		rc = match_push(&res, t, ev);
	else if (!strcmp(ev->name, "pull_request") ||
		 !strcmp(ev->name, "pull_request_target"))
		rc = match_pull_request(&res, t, ev);
	else if (!strcmp(ev->name, "schedule"))
		rc = match_schedule(&res, t, ev);
	else if (!strcmp(ev->name, "workflow_dispatch") ||
		 !strcmp(ev->name, "workflow_call")) {
		rc = guts_trigger_resolve_inputs(&res.inputs, t->inputs,
						 t->nr_inputs, ev->inputs);
		res.matched = rc == 0;
		if (rc == 0)
			res.reason = guts_xstrdup(ev->name);
	} else {
		rc = match_other(&res, t, ev);
	}
done:
	if (rc < 0) {
		guts_trigger_result_release(&res);
		return rc;
	}
	if (!res.inputs)
		res.inputs = json_object();
	*r = res;
	return 0;
}
