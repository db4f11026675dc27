/*
 * YAML tree to struct guts_workflow, validating as it goes.  Each converter
 * reports what is wrong with its node at the node's position and carries on,
 * so one run shows every problem.  Messages name the key and, for unknown
 * keys, suggest the nearest known one.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/filter.h"
#include "guts/fs.h"
#include "guts/workflow.h"
#include "wf_internal.h"
#include "banned.h"

#define ERR(p, n, ...) guts_diag_error((p)->d, (n)->line, (n)->col, __VA_ARGS__)
#define WARN(p, n, ...) \
	guts_diag_warning((p)->d, (n)->line, (n)->col, __VA_ARGS__)

/* String or sequence of strings into @sv (filters, needs, types). */
static int get_str_list(struct wf_parser *p, const struct guts_yaml_node *n,
			const char *what, struct guts_strvec *sv,
			struct guts_wf_pos **pos)
{
	if (!n || wf_is_null(n))
		return 0;
	if (wf_is_scalar(n)) {
		if (wf_has_expr(n->str, n->len))
			ERR(p, n, "expressions are not allowed in %s", what);
		guts_strvec_push_nodup(sv, wf_scalar_string(n));
		if (pos) {
			*pos = guts_xreallocarray(*pos, 1, sizeof(**pos));
			(*pos)[0] = wf_pos_of(n);
		}
		return 0;
	}
	if (!wf_want_seq(p, n, what))
		return -1;
	if (pos)
		*pos =
		    guts_xreallocarray(*pos, n->nr ? n->nr : 1, sizeof(**pos));
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *it = n->items[i];

		if (!wf_is_scalar(it) || it->scalar == GUTS_YAML_NULL) {
			ERR(p, it,
			    "each entry of %s must be a string, not a %s", what,
			    guts_yaml_kind_name(it));
			continue;
		}
		if (wf_has_expr(it->str, it->len))
			ERR(p, it, "expressions are not allowed in %s", what);
		if (pos)
			(*pos)[sv->nr] = wf_pos_of(it);
		guts_strvec_push_nodup(sv, wf_scalar_string(it));
	}
	return 0;
}

/* ---- on: triggers ---- */

struct event_def {
	const char *name;
	const char *const *keys;  /* allowed config keys; NULL: types only */
	const char *const *types; /* allowed activity types; NULL: any */
};

static const char *const push_keys[] = {
    "branches", "branches-ignore", "tags", "tags-ignore",
    "paths",	"paths-ignore",	   NULL};
static const char *const pr_keys[] = {
    "branches", "branches-ignore", "paths", "paths-ignore", "types", NULL};
static const char *const pr_types[] = {"assigned",
				       "unassigned",
				       "labeled",
				       "unlabeled",
				       "opened",
				       "edited",
				       "closed",
				       "reopened",
				       "synchronize",
				       "converted_to_draft",
				       "ready_for_review",
				       "locked",
				       "unlocked",
				       "review_requested",
				       "review_request_removed",
				       "auto_merge_enabled",
				       "auto_merge_disabled",
				       "milestoned",
				       "demilestoned",
				       "enqueued",
				       "dequeued",
				       "stacked",
				       NULL};
/* Activity types, from GitHub's workflow schema. */
static const char *const ced_types[] = {"created", "edited", "deleted", NULL};
static const char *const check_run_types[] = {
    "completed", "created", "rerequested", "requested_action", NULL};
static const char *const check_suite_types[] = {"completed", NULL};
static const char *const discussion_types[] = {
    "created",		"edited",   "deleted",	  "transferred", "pinned",
    "unpinned",		"labeled",  "unlabeled",  "locked",	 "unlocked",
    "category_changed", "answered", "unanswered", NULL};
static const char *const image_version_types[] = {"created", "ready", "deleted",
						  NULL};
static const char *const issues_types[] = {
    "opened",	   "edited",	    "deleted",	  "transferred",
    "pinned",	   "unpinned",	    "closed",	  "reopened",
    "assigned",	   "unassigned",    "labeled",	  "unlabeled",
    "locked",	   "unlocked",	    "milestoned", "demilestoned",
    "field_added", "field_removed", "typed",	  "untyped",
    NULL};
static const char *const merge_group_types[] = {"checks_requested", NULL};
static const char *const milestone_types[] = {"created", "closed",  "opened",
					      "edited",	 "deleted", NULL};
static const char *const project_types[] = {"created", "closed",  "reopened",
					    "edited",  "deleted", NULL};
static const char *const project_card_types[] = {
    "created", "moved", "converted", "edited", "deleted", NULL};
static const char *const project_column_types[] = {"created", "updated",
						   "moved", "deleted", NULL};
static const char *const pull_request_review_types[] = {"submitted", "edited",
							"dismissed", NULL};
static const char *const registry_package_types[] = {"published", "updated",
						     NULL};
static const char *const release_types[] = {
    "published", "unpublished", "created",  "edited",
    "deleted",	 "prereleased", "released", NULL};
static const char *const watch_types[] = {"started", NULL};
static const char *const workflow_run_types[] = {"requested", "completed",
						 "in_progress", NULL};
static const char *const types_keys[] = {"types", NULL};
static const char *const merge_group_keys[] = {"branches", "branches-ignore",
					       "types", NULL};
static const char *const workflow_run_keys[] = {
    "workflows", "types", "branches", "branches-ignore", NULL};
static const char *const dispatch_keys[] = {"inputs", NULL};
static const char *const call_keys[] = {"inputs", "outputs", "secrets", NULL};
static const char *const image_version_keys[] = {"names", "versions", "types",
						 NULL};
static const char *const no_keys[] = {NULL};

static const struct event_def events[] = {
    {"branch_protection_rule", types_keys, ced_types},
    {"check_run", types_keys, check_run_types},
    {"check_suite", types_keys, check_suite_types},
    {"create", no_keys, NULL},
    {"delete", no_keys, NULL},
    {"deployment", no_keys, NULL},
    {"deployment_status", no_keys, NULL},
    {"discussion", types_keys, discussion_types},
    {"discussion_comment", types_keys, ced_types},
    {"fork", no_keys, NULL},
    {"gollum", no_keys, NULL},
    {"image_version", image_version_keys, image_version_types},
    {"issue_comment", types_keys, ced_types},
    {"issues", types_keys, issues_types},
    {"label", types_keys, ced_types},
    {"merge_group", merge_group_keys, merge_group_types},
    {"milestone", types_keys, milestone_types},
    {"page_build", no_keys, NULL},
    {"project", types_keys, project_types},
    {"project_card", types_keys, project_card_types},
    {"project_column", types_keys, project_column_types},
    {"public", no_keys, NULL},
    {"pull_request", pr_keys, pr_types},
    {"pull_request_comment", types_keys, ced_types},
    {"pull_request_review", types_keys, pull_request_review_types},
    {"pull_request_review_comment", types_keys, ced_types},
    {"pull_request_target", pr_keys, pr_types},
    {"push", push_keys, NULL},
    {"registry_package", types_keys, registry_package_types},
    {"release", types_keys, release_types},
    {"repository_dispatch", types_keys, NULL},
    {"schedule", NULL, NULL},
    {"status", no_keys, NULL},
    {"watch", types_keys, watch_types},
    {"workflow_call", call_keys, NULL},
    {"workflow_dispatch", dispatch_keys, NULL},
    {"workflow_run", workflow_run_keys, workflow_run_types},
};

static const struct event_def *find_event(const char *name)
{
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (!strcmp(events[i].name, name))
			return &events[i];
	return NULL;
}

static void unknown_event(struct wf_parser *p, const struct guts_yaml_node *n)
{
	const char *best = NULL;
	size_t bestd = 4;

	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		size_t dist = wf_edit_distance(n->str, events[i].name);

		if (dist < bestd) {
			bestd = dist;
			best = events[i].name;
		}
	}
	if (best)
		ERR(p, n, "unknown event '%s'; did you mean '%s'?", n->str,
		    best);
	else
		ERR(p, n, "unknown event '%s'", n->str);
}

static struct guts_wf_trigger *add_trigger(struct guts_workflow *wf,
					   const struct guts_yaml_node *n)
{
	struct guts_wf_trigger *t;

	wf->triggers = guts_xreallocarray(wf->triggers, wf->nr_triggers + 1,
					  sizeof(*wf->triggers));
	t = &wf->triggers[wf->nr_triggers++];
	memset(t, 0, sizeof(*t));
	t->event = guts_xstrndup(n->str, n->len);
	t->pos = wf_pos_of(n);
	return t;
}

/* A filter list; patterns are compiled here so mistakes show at load time. */
static void get_filter(struct wf_parser *p, const struct guts_yaml_node *n,
		       const char *what, struct guts_wf_filter *f,
		       int is_pattern)
{
	struct guts_filter_list *l = NULL;
	struct guts_wf_pos *pos = NULL;
	size_t bad = 0;
	int positive = strcmp(what, "branches") == 0 ||
		       strcmp(what, "tags") == 0 || strcmp(what, "paths") == 0;

	if (!n)
		return;
	f->set = 1;
	f->pos = wf_pos_of(n);
	get_str_list(p, n, what, &f->patterns, &pos);
	if (is_pattern &&
	    guts_filter_list_compile(
		&l, (const char *const *)f->patterns.v, f->patterns.nr,
		positive ? GUTS_FILTER_NEED_POSITIVE : 0, &bad) < 0) {
		if (bad < f->patterns.nr)
			guts_diag_error(p->d, pos[bad].line, pos[bad].col,
					"%s: %s", what, guts_error_message());
		else
			ERR(p, n, "%s: %s", what, guts_error_message());
	}
	guts_filter_list_free(l);
	free(pos);
}

static const char *const input_types[] = {"string", "boolean",	   "choice",
					  "number", "environment", NULL};

static void parse_inputs(struct wf_parser *p, const struct guts_yaml_node *n,
			 struct guts_wf_trigger *t, int is_call)
{
	static const char *const dispatch_input_keys[] = {
	    "description", "required", "default", "type", "options", NULL};
	static const char *const call_input_keys[] = {"description", "required",
						      "default", "type", NULL};
	static const char *const nullable[] = {"description", "default", "type",
					       NULL};
	const char *where =
	    is_call ? "a workflow_call input" : "a workflow_dispatch input";

	if (wf_is_null(n) || !wf_want_map(p, n, "inputs"))
		return;
	t->inputs = guts_xcalloc(n->nr ? n->nr : 1, sizeof(*t->inputs));
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;
		const struct guts_yaml_node *type = NULL, *def = NULL;
		struct guts_wf_input *in = &t->inputs[t->nr_inputs++];

		in->name = guts_xstrndup(k->str, k->len);
		in->pos = wf_pos_of(k);
		guts_strvec_init(&in->options);
		if (!k->len || wf_has_expr(k->str, k->len))
			ERR(p, k, "invalid input name '%s'", k->str);
		if (wf_is_null(v)) {
			if (is_call)
				ERR(p, k,
				    "workflow_call input '%s' needs a "
				    "'type'",
				    k->str);
			continue;
		}
		if (!wf_want_map(p, v, "an input"))
			continue;
		for (size_t j = 0; j < v->nr; j++) {
			const struct guts_yaml_node *kk = v->pairs[j].key;
			const struct guts_yaml_node *vv = v->pairs[j].value;

			if (!wf_in_list(kk->str, is_call
						     ? call_input_keys
						     : dispatch_input_keys)) {
				wf_unexpected_key(p, kk, where,
						  is_call
						      ? call_input_keys
						      : dispatch_input_keys);
				continue;
			}
			if (wf_null_value(p, kk, vv, nullable))
				continue;
			if (!strcmp(kk->str, "description")) {
				in->description = wf_get_str(
				    p, vv, "description", WF_NO_EXPR);
			} else if (!strcmp(kk->str, "required")) {
				if (wf_is_scalar(vv) &&
				    vv->scalar == GUTS_YAML_BOOL)
					in->required = vv->boolean;
				else if (!wf_is_null(vv))
					ERR(p, vv,
					    "'required' must be true or false");
			} else if (!strcmp(kk->str, "type")) {
				type = vv;
			} else if (!strcmp(kk->str, "default")) {
				def = vv;
			} else if (!strcmp(kk->str, "options")) {
				if (wf_want_seq(p, vv, "options"))
					get_str_list(p, vv, "options",
						     &in->options, NULL);
			}
		}
		if (type) {
			size_t ti;
			const char *const *allowed =
			    is_call ? (const char *const[]){"string", "boolean",
							    "number", NULL}
				    : input_types;

			if (!wf_is_string(type) ||
			    !wf_in_list(type->str, allowed)) {
				ERR(p, type, "input type '%s' is not one of %s",
				    wf_is_scalar(type) ? type->str : "?",
				    is_call ? "string, boolean, number"
					    : "string, boolean, choice, "
					      "number, environment");
			} else {
				for (ti = 0; input_types[ti]; ti++)
					if (!strcmp(input_types[ti], type->str))
						in->type =
						    (enum guts_wf_input_type)ti;
			}
		} else if (is_call) {
			ERR(p, v,
			    "workflow_call input '%s' needs a 'type' "
			    "(string, boolean or number)",
			    k->str);
		}
		if (in->type == GUTS_WF_INPUT_CHOICE && !in->options.nr)
			ERR(p, type ? type : v,
			    "choice input '%s' needs a non-empty 'options' "
			    "list",
			    in->name);
		if (def && !wf_is_null(def)) {
			if (!wf_is_scalar(def)) {
				ERR(p, def,
				    "the default of input '%s' must be "
				    "a scalar, not a %s",
				    in->name, guts_yaml_kind_name(def));
			} else if (wf_is_whole_expr(def) ||
				   wf_has_expr(def->str, def->len)) {
				if (is_call)
					wf_check_expr(p, def,
						      WF_CTX_CALL_INPUT_DEFAULT,
						      0);
				else
					ERR(p, def,
					    "expressions are not allowed in "
					    "workflow_dispatch defaults");
				in->default_value =
				    json_stringn(def->str, def->len);
			} else if (in->type == GUTS_WF_INPUT_BOOLEAN &&
				   def->scalar != GUTS_YAML_BOOL) {
				ERR(p, def,
				    "the default of boolean input '%s' "
				    "must be true or false",
				    in->name);
			} else if (in->type == GUTS_WF_INPUT_NUMBER &&
				   def->scalar != GUTS_YAML_NUMBER) {
				ERR(p, def,
				    "the default of number input '%s' "
				    "must be a number",
				    in->name);
			} else {
				in->default_value = wf_to_json(def);
				if (in->type == GUTS_WF_INPUT_CHOICE &&
				    in->options.nr) {
					char *s = wf_scalar_string(def);

					if (guts_strvec_find(&in->options, s) <
					    0)
						ERR(p, def,
						    "the default '%s' of "
						    "choice "
						    "input '%s' is not one of "
						    "its options",
						    s, in->name);
					free(s);
				}
			}
		}
	}
}

static void parse_call_outputs(struct wf_parser *p,
			       const struct guts_yaml_node *n,
			       struct guts_wf_trigger *t)
{
	static const char *const keys[] = {"description", "value", NULL};

	if (wf_is_null(n) || !wf_want_map(p, n, "workflow_call outputs"))
		return;
	t->outputs = guts_xcalloc(n->nr ? n->nr : 1, sizeof(*t->outputs));
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;
		struct guts_wf_output *o = &t->outputs[t->nr_outputs++];

		o->name = guts_xstrndup(k->str, k->len);
		o->pos = wf_pos_of(k);
		if (wf_is_null(v)) {
			ERR(p, k, "output '%s' needs a 'value'", k->str);
			continue;
		}
		if (!wf_want_map(p, v, "an output"))
			continue;
		for (size_t j = 0; j < v->nr; j++) {
			const struct guts_yaml_node *kk = v->pairs[j].key;

			if (!wf_in_list(kk->str, keys))
				wf_unexpected_key(
				    p, kk, "a workflow_call output", keys);
		}
		o->description = wf_get_str(p, guts_yaml_get(v, "description"),
					    "description", WF_NO_EXPR);
		o->value = wf_get_str(p, guts_yaml_get(v, "value"), "value",
				      WF_CTX_CALL_OUTPUT);
		if (!guts_yaml_get(v, "value"))
			ERR(p, v,
			    "required key 'value' is missing in output "
			    "'%s'",
			    o->name);
	}
}

static void parse_call_secrets(struct wf_parser *p,
			       const struct guts_yaml_node *n,
			       struct guts_wf_trigger *t)
{
	static const char *const keys[] = {"description", "required", NULL};

	if (wf_is_null(n) || !wf_want_map(p, n, "workflow_call secrets"))
		return;
	t->secrets = guts_xcalloc(n->nr ? n->nr : 1, sizeof(*t->secrets));
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;
		struct guts_wf_secret *s = &t->secrets[t->nr_secrets++];
		const struct guts_yaml_node *req;

		s->name = guts_xstrndup(k->str, k->len);
		s->pos = wf_pos_of(k);
		if (wf_is_null(v) || !wf_want_map(p, v, "a secret"))
			continue;
		for (size_t j = 0; j < v->nr; j++)
			if (!wf_in_list(v->pairs[j].key->str, keys))
				wf_unexpected_key(p, v->pairs[j].key,
						  "a workflow_call secret",
						  keys);
			else
				wf_null_value(
				    p, v->pairs[j].key, v->pairs[j].value,
				    (const char *const[]){"description", NULL});
		s->description = wf_get_str(p, guts_yaml_get(v, "description"),
					    "description", WF_NO_EXPR);
		req = guts_yaml_get(v, "required");
		if (req && wf_is_scalar(req) && req->scalar == GUTS_YAML_BOOL)
			s->required = req->boolean;
		else if (req && !wf_is_null(req))
			ERR(p, req, "'required' must be true or false");
	}
}

static void parse_schedule(struct wf_parser *p, const struct guts_yaml_node *n,
			   struct guts_wf_trigger *t);

static void both_filters(struct wf_parser *p, const struct guts_yaml_node *k,
			 const char *event, const struct guts_wf_filter *a,
			 const struct guts_wf_filter *b, const char *what)
{
	if (!a->set || !b->set)
		return;
	guts_diags_add(
	    p->d, p->opts->syntax_only ? GUTS_DIAG_WARNING : GUTS_DIAG_ERROR,
	    k->line, k->col,
	    "'%s' cannot have both '%s' and '%s-ignore'; use '!' "
	    "patterns in '%s' instead",
	    event, what, what, what);
}

/* Each activity type listed under @ev's 'types' must be one it has. */
static void check_types(struct wf_parser *p, const struct guts_yaml_node *n,
			const struct event_def *ev)
{
	const struct guts_yaml_node *const *items = &n;
	size_t nr = 1;

	if (!ev->types)
		return;
	if (n->type == GUTS_YAML_SEQ) {
		items = (const struct guts_yaml_node *const *)n->items;
		nr = n->nr;
	}
	for (size_t i = 0; i < nr; i++) {
		const struct guts_yaml_node *it = items[i];
		const char *best = NULL;
		size_t bestd = 3;

		if (!wf_is_scalar(it) || wf_is_null(it) ||
		    wf_in_list(it->str, ev->types))
			continue;
		for (size_t j = 0; ev->types[j]; j++) {
			size_t dist = wf_edit_distance(it->str, ev->types[j]);

			if (dist < bestd) {
				bestd = dist;
				best = ev->types[j];
			}
		}
		if (best)
			ERR(p, it,
			    "'%s' is not an activity type of %s; did you mean "
			    "'%s'?",
			    it->str, ev->name, best);
		else
			ERR(p, it, "'%s' is not an activity type of %s",
			    it->str, ev->name);
	}
}

/* Workflow names of workflow_run, image names and versions of image_version. */
static void check_names(struct wf_parser *p, const struct guts_yaml_node *n,
			const char *what)
{
	struct guts_strvec sv = {0};

	get_str_list(p, n, what, &sv, NULL);
	guts_strvec_release(&sv);
}

static void parse_event(struct wf_parser *p, struct guts_workflow *wf,
			const struct guts_yaml_node *k,
			const struct guts_yaml_node *v)
{
	const struct event_def *ev;
	struct guts_wf_trigger *t;

	if (wf_has_expr(k->str, k->len)) {
		ERR(p, k, "expressions are not allowed in 'on'");
		return;
	}
	ev = find_event(k->str);
	if (!ev) {
		unknown_event(p, k);
		return;
	}
	for (size_t i = 0; i < wf->nr_triggers; i++)
		if (!strcmp(wf->triggers[i].event, k->str)) {
			ERR(p, k, "the event '%s' is listed twice", k->str);
			return;
		}
	t = add_trigger(wf, k);
	if (!strcmp(ev->name, "schedule")) {
		if (wf_is_null(v))
			ERR(p, k,
			    "schedule needs a list of '- cron: ...' "
			    "entries");
		else
			parse_schedule(p, v, t);
		return;
	}
	if (!v || wf_is_null(v)) /* v is NULL for the items of 'on: [...]' */
		return;
	if (!wf_want_map(p, v, k->str))
		return;
	t->config = wf_to_json(v);
	for (size_t i = 0; i < v->nr; i++) {
		const struct guts_yaml_node *kk = v->pairs[i].key;
		const struct guts_yaml_node *vv = v->pairs[i].value;
		char where[128];

		snprintf(where, sizeof(where), "'on.%s'", ev->name);
		if (!wf_in_list(kk->str, ev->keys)) {
			wf_unexpected_key(p, kk, where, ev->keys);
			continue;
		}
		/*
		 * GitHub's parsers take 'inputs:' with no value (the official
		 * case on-workflow_dispatch-inputs-null.yml); the rest needs
		 * one.
		 */
		if (wf_null_value(p, kk, vv,
				  (const char *const[]){"inputs", "outputs",
							"secrets", NULL}))
			continue;
		if (!strcmp(kk->str, "branches"))
			get_filter(p, vv, "branches", &t->branches, 1);
		else if (!strcmp(kk->str, "branches-ignore"))
			get_filter(p, vv, "branches-ignore",
				   &t->branches_ignore, 1);
		else if (!strcmp(kk->str, "tags"))
			get_filter(p, vv, "tags", &t->tags, 1);
		else if (!strcmp(kk->str, "tags-ignore"))
			get_filter(p, vv, "tags-ignore", &t->tags_ignore, 1);
		else if (!strcmp(kk->str, "paths"))
			get_filter(p, vv, "paths", &t->paths, 1);
		else if (!strcmp(kk->str, "paths-ignore"))
			get_filter(p, vv, "paths-ignore", &t->paths_ignore, 1);
		else if (!strcmp(kk->str, "types")) {
			get_filter(p, vv, "types", &t->types, 0);
			check_types(p, vv, ev);
		} else if (!strcmp(kk->str, "inputs"))
			parse_inputs(p, vv, t,
				     !strcmp(ev->name, "workflow_call"));
		else if (!strcmp(kk->str, "outputs"))
			parse_call_outputs(p, vv, t);
		else if (!strcmp(kk->str, "secrets"))
			parse_call_secrets(p, vv, t);
		else
			check_names(p, vv, kk->str);
	}
	/*
	 * GitHub refuses such a workflow when it runs, though its parser lets
	 * it through; so it is an error here, and a warning in syntax-only
	 * mode, which follows the parser.
	 */
	both_filters(p, k, ev->name, &t->branches, &t->branches_ignore,
		     "branches");
	both_filters(p, k, ev->name, &t->tags, &t->tags_ignore, "tags");
	both_filters(p, k, ev->name, &t->paths, &t->paths_ignore, "paths");
}

static void parse_on(struct wf_parser *p, struct guts_workflow *wf,
		     const struct guts_yaml_node *n)
{
	if (wf_is_null(n)) {
		ERR(p, n, "'on' must name at least one event");
		return;
	}
	if (wf_is_scalar(n)) {
		if (!find_event(n->str)) {
			if (wf_has_expr(n->str, n->len))
				ERR(p, n,
				    "expressions are not allowed in 'on'");
			else
				unknown_event(p, n);
			return;
		}
		add_trigger(wf, n);
		return;
	}
	if (n->type == GUTS_YAML_SEQ) {
		for (size_t i = 0; i < n->nr; i++) {
			const struct guts_yaml_node *it = n->items[i];

			if (!wf_is_string(it)) {
				ERR(p, it,
				    "each event in 'on' must be a "
				    "string, not a %s",
				    guts_yaml_kind_name(it));
				continue;
			}
			parse_event(p, wf, it, NULL);
		}
		return;
	}
	for (size_t i = 0; i < n->nr; i++)
		parse_event(p, wf, n->pairs[i].key, n->pairs[i].value);
}

/* ---- permissions, concurrency, defaults ---- */

json_t *wf_parse_permissions(struct wf_parser *p,
			     const struct guts_yaml_node *n)
{
	static const char *const scopes[] = {"actions",
					     "attestations",
					     "checks",
					     "contents",
					     "deployments",
					     "discussions",
					     "id-token",
					     "issues",
					     "models",
					     "packages",
					     "pages",
					     "pull-requests",
					     "repository-projects",
					     "security-events",
					     "statuses",
					     NULL};
	static const char *const levels[] = {"read", "write", "none", NULL};

	if (!n || wf_is_null(n))
		return NULL;
	if (wf_is_scalar(n)) {
		if (!wf_is_string(n) || (strcmp(n->str, "read-all") &&
					 strcmp(n->str, "write-all"))) {
			ERR(p, n,
			    "permissions must be 'read-all', 'write-all' "
			    "or a mapping of scopes, not '%s'",
			    n->str);
			return NULL;
		}
		return json_stringn(n->str, n->len);
	}
	if (!wf_want_map(p, n, "permissions"))
		return NULL;
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;

		if (!wf_in_list(k->str, scopes)) {
			wf_unexpected_key(p, k, "permissions", scopes);
			continue;
		}
		if (!wf_is_string(v) || !wf_in_list(v->str, levels) ||
		    (!strcmp(k->str, "id-token") && !strcmp(v->str, "read")) ||
		    (!strcmp(k->str, "models") && !strcmp(v->str, "write")))
			ERR(p, v, "permission '%s' must be %s, not '%s'",
			    k->str,
			    !strcmp(k->str, "id-token") ? "write or none"
			    : !strcmp(k->str, "models") ? "read or none"
							: "read, write or none",
			    wf_is_scalar(v) ? v->str : guts_yaml_kind_name(v));
	}
	return wf_to_json(n);
}

void wf_parse_concurrency(struct wf_parser *p, const struct guts_yaml_node *n,
			  unsigned ctx, char **group, json_t **cancel)
{
	static const char *const keys[] = {"group", "cancel-in-progress",
					   "queue", NULL};

	if (!n || wf_is_null(n))
		return;
	if (wf_is_scalar(n)) {
		*group = wf_get_str(p, n, "concurrency", ctx);
		return;
	}
	if (!wf_want_map(p, n, "concurrency"))
		return;
	for (size_t i = 0; i < n->nr; i++)
		if (!wf_in_list(n->pairs[i].key->str, keys))
			wf_unexpected_key(p, n->pairs[i].key, "concurrency",
					  keys);
		else
			wf_null_value(p, n->pairs[i].key, n->pairs[i].value,
				      NULL);
	if (!guts_yaml_get(n, "group"))
		ERR(p, n, "required key 'group' is missing in concurrency");
	*group =
	    wf_get_str(p, guts_yaml_get(n, "group"), "concurrency.group", ctx);
	*cancel = wf_bool_or_expr(p, guts_yaml_get(n, "cancel-in-progress"),
				  "cancel-in-progress", ctx);
}

void wf_parse_defaults(struct wf_parser *p, const struct guts_yaml_node *n,
		       unsigned ctx, char **shell, char **wd)
{
	static const char *const keys[] = {"run", NULL};
	static const char *const run_keys[] = {"shell", "working-directory",
					       NULL};
	const struct guts_yaml_node *run;

	if (!n || wf_is_null(n) || !wf_want_map(p, n, "defaults"))
		return;
	for (size_t i = 0; i < n->nr; i++)
		if (!wf_in_list(n->pairs[i].key->str, keys))
			wf_unexpected_key(p, n->pairs[i].key, "defaults", keys);
		else
			wf_null_value(p, n->pairs[i].key, n->pairs[i].value,
				      NULL);
	run = guts_yaml_get(n, "run");
	if (!run || wf_is_null(run) || !wf_want_map(p, run, "defaults.run"))
		return;
	for (size_t i = 0; i < run->nr; i++)
		if (!wf_in_list(run->pairs[i].key->str, run_keys))
			wf_unexpected_key(p, run->pairs[i].key, "defaults.run",
					  run_keys);
		else
			wf_null_value(p, run->pairs[i].key, run->pairs[i].value,
				      NULL);
	*shell = wf_get_str(p, guts_yaml_get(run, "shell"), "shell", ctx);
	*wd = wf_get_str(p, guts_yaml_get(run, "working-directory"),
			 "working-directory", ctx);
}

static void parse_schedule(struct wf_parser *p, const struct guts_yaml_node *n,
			   struct guts_wf_trigger *t)
{
	wf_parse_schedule(p, n, t);
}

static const char *const top_keys[] = {
    "name",	   "run-name",	  "on",	  "env",	 "defaults",
    "concurrency", "permissions", "jobs", "description", NULL};
/* Keys that may be empty ('on' and 'jobs' have their own messages). */
static const char *const top_nullable[] = {
    "name", "run-name", "description", "concurrency", "on", "jobs", NULL};

static void parse_root(struct wf_parser *p, struct guts_workflow *wf,
		       const struct guts_yaml_node *root)
{
	const struct guts_yaml_node *on = NULL, *jobs = NULL;

	if (!root) {
		guts_diag_error(p->d, 1, 1, "the workflow file is empty");
		return;
	}
	if (!wf_want_map(p, root, "a workflow"))
		return;
	wf->permissions =
	    wf_parse_permissions(p, guts_yaml_get(root, "permissions"));
	for (size_t i = 0; i < root->nr; i++) {
		const struct guts_yaml_node *k = root->pairs[i].key;
		const struct guts_yaml_node *v = root->pairs[i].value;

		if (!wf_in_list(k->str, top_keys)) {
			wf_unexpected_key(p, k, "the workflow", top_keys);
			continue;
		}
		if (wf_null_value(p, k, v, top_nullable))
			continue;
		if (!strcmp(k->str, "name")) {
			wf->name = wf_get_str(p, v, "name", WF_NO_EXPR);
		} else if (!strcmp(k->str, "description")) {
			free(wf_get_str(p, v, "description", WF_NO_EXPR));
		} else if (!strcmp(k->str, "run-name")) {
			wf->run_name =
			    wf_get_str(p, v, "run-name", WF_CTX_RUN_NAME);
		} else if (!strcmp(k->str, "on")) {
			on = v;
		} else if (!strcmp(k->str, "env")) {
			wf->env = wf_string_map(p, v, "env", WF_CTX_WF_ENV, 1);
		} else if (!strcmp(k->str, "defaults")) {
			wf_parse_defaults(p, v, WF_CTX_WF_ENV,
					  &wf->defaults_shell,
					  &wf->defaults_working_directory);
		} else if (!strcmp(k->str, "concurrency")) {
			wf_parse_concurrency(p, v, WF_CTX_WF_CONCURRENCY,
					     &wf->concurrency_group,
					     &wf->cancel_in_progress);
		} else if (!strcmp(k->str, "permissions")) {
			/* Parsed first: calls in jobs need it. */
		} else if (!strcmp(k->str, "jobs")) {
			jobs = v;
		}
	}
	if (!on)
		guts_diag_error(p->d, root->line, root->col,
				"required key 'on' is missing: say which "
				"events start this workflow");
	else
		parse_on(p, wf, on);
	if (!jobs) {
		guts_diag_error(p->d, root->line, root->col,
				"required key 'jobs' is missing");
		return;
	}
	if (wf_is_null(jobs)) {
		ERR(p, jobs, "'jobs' must hold at least one job");
		return;
	}
	if (!wf_want_map(p, jobs, "jobs"))
		return;
	wf_parse_jobs(p, wf, jobs);
	wf_check_graph(p, wf, jobs);
}

int wf_parse_internal(struct guts_workflow **out, const char *path,
		      const char *text, size_t len,
		      const struct guts_workflow_opts *opts,
		      struct guts_diags *diags, int nesting,
		      const signed char *allowed, size_t *tree_jobs)
{
	static const struct guts_workflow_opts no_opts = {0};
	size_t own_jobs = 0;
	struct wf_parser p = {
	    diags,   opts ? opts : &no_opts,	       text, len, nesting, NULL,
	    allowed, tree_jobs ? tree_jobs : &own_jobs};
	struct guts_yaml_doc *doc = NULL;
	struct guts_workflow *wf;
	size_t errors = diags->errors;
	int rc;

	/* Without the BOM guts_yaml_load() skips, so that columns agree. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		p.text += 3;
		p.len -= 3;
	}
	rc = guts_yaml_load(&doc, text, len, diags);
	if (rc < 0)
		return GUTS_EINVAL;
	wf = guts_xcalloc(1, sizeof(*wf));
	wf->path = guts_xstrdup(path ? path : "<input>");
	p.wf = wf;
	parse_root(&p, wf, doc->root);
	guts_yaml_free(doc);
	guts_diags_sort(diags);
	if (diags->errors > errors) {
		guts_workflow_free(wf);
		return guts_error(GUTS_EINVAL, "%s: %zu error(s)",
				  path ? path : "<input>",
				  diags->errors - errors);
	}
	*out = wf;
	return 0;
}

int guts_workflow_parse(struct guts_workflow **out, const char *path,
			const char *text, size_t len,
			const struct guts_workflow_opts *opts,
			struct guts_diags *diags)
{
	return wf_parse_internal(out, path, text, len, opts, diags, 0, NULL,
				 NULL);
}

int guts_workflow_load(struct guts_workflow **out, const char *path,
		       const struct guts_workflow_opts *opts,
		       struct guts_diags *diags)
{
	char *text = NULL;
	size_t len;
	int rc;

	rc = guts_fs_read_all(&text, &len, path, GUTS_WORKFLOW_MAX_BYTES);
	if (rc < 0) {
		guts_diag_error(diags, 0, 0, "%s", guts_error_message());
		return rc;
	}
	rc = guts_workflow_parse(out, path, text, len, opts, diags);
	free(text);
	return rc;
}
