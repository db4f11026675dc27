/*
 * action.yml to struct guts_action, validating as it goes (see
 * include/guts/action.h).  Like the workflow converters, each part reports
 * what is wrong with its node at the node's position and carries on.
 *
 * Where GitHub's runner is loose (unknown keys of an input, a `required:`
 * written as a string), problems are warnings: actions that run on GitHub
 * must load here.  Where it is strict (the keys of `runs:` and of steps, the
 * contexts of expressions), they are errors.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/action.h"
#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/fs.h"
#include "wf_internal.h"
#include "banned.h"

#define ERR(p, n, ...) guts_diag_error((p)->d, (n)->line, (n)->col, __VA_ARGS__)
#define WARN(p, n, ...) \
	guts_diag_warning((p)->d, (n)->line, (n)->col, __VA_ARGS__)

static const char *const top_keys[] = {"name",	   "description", "author",
				       "inputs",   "outputs",	  "runs",
				       "branding", NULL};
static const char *const input_keys[] = {"description", "required", "default",
					 "deprecationMessage", NULL};
static const char *const output_keys[] = {"description", "value", NULL};
static const char *const composite_keys[] = {"using", "steps", NULL};
static const char *const node_keys[] = {"using", "main",    "pre", "pre-if",
					"post",	 "post-if", NULL};
static const char *const docker_keys[] = {
    "using",	      "image",	"entrypoint",	   "args",    "env",
    "pre-entrypoint", "pre-if", "post-entrypoint", "post-if", NULL};
/* A composite step: a job's step keys without timeout-minutes. */
static const char *const composite_step_keys[] = {"id",
						  "if",
						  "name",
						  "uses",
						  "run",
						  "shell",
						  "working-directory",
						  "with",
						  "env",
						  "continue-on-error",
						  NULL};
static const char *const node_versions[] = {"node12", "node16", "node20",
					    "node24", NULL};

/*
 * Text written as-is (names, descriptions, file paths): any scalar, with
 * no expression check, since descriptions often quote `${{ github.token }}`.
 */
static char *plain_str(struct wf_parser *p, const struct guts_yaml_node *n,
		       const char *what)
{
	if (!n || wf_is_null(n))
		return NULL;
	if (!wf_is_scalar(n)) {
		ERR(p, n, "%s must be a string, not a %s", what,
		    guts_yaml_kind_name(n));
		return NULL;
	}
	return wf_scalar_string(n);
}

/* A non-empty string without expressions (main, image, entrypoint). */
static char *path_str(struct wf_parser *p, const struct guts_yaml_node *n,
		      const char *what)
{
	if (!wf_is_scalar(n) || !n->len || n->scalar != GUTS_YAML_STR) {
		ERR(p, n, "'%s' must be a non-empty string", what);
		return NULL;
	}
	wf_check_expr(p, n, WF_NO_EXPR, 0);
	return guts_xstrndup(n->str, n->len);
}

/* The unexpected-key message as a warning, for keys GitHub ignores. */
static void ignored_key(struct wf_parser *p, const struct guts_yaml_node *k,
			const char *where, const char *const *allowed)
{
	const char *best = NULL;
	size_t bestd = 3;

	for (size_t i = 0; allowed[i]; i++) {
		size_t dist = wf_edit_distance(k->str, allowed[i]);

		if (dist < bestd) {
			bestd = dist;
			best = allowed[i];
		}
	}
	if (best)
		WARN(p, k,
		     "unexpected key '%s' in %s, which GitHub ignores; did "
		     "you mean '%s'?",
		     k->str, where, best);
	else
		WARN(p, k, "unexpected key '%s' in %s, which GitHub ignores",
		     k->str, where);
}

/* ---- inputs and outputs ---- */

/* GitHub passes inputs as strings: `default: false` is "false". */
static void parse_default(struct wf_parser *p, const struct guts_yaml_node *v,
			  struct guts_action_input *in)
{
	char *s;

	if (wf_is_null(v))
		return;
	if (!wf_is_scalar(v)) {
		ERR(p, v,
		    "the default of input '%s' must be a string, not a %s",
		    in->name, guts_yaml_kind_name(v));
		return;
	}
	if (v->scalar == GUTS_YAML_STR)
		wf_check_expr(p, v, WF_CTX_ACTION_INPUT_DEFAULT, 0);
	s = wf_scalar_string(v);
	in->default_value = json_string(s);
	free(s);
}

static void parse_input(struct wf_parser *p, const struct guts_yaml_node *v,
			struct guts_action_input *in)
{
	for (size_t j = 0; j < v->nr; j++) {
		const struct guts_yaml_node *kk = v->pairs[j].key;
		const struct guts_yaml_node *vv = v->pairs[j].value;

		if (!wf_in_list(kk->str, input_keys)) {
			ignored_key(p, kk, "an input", input_keys);
		} else if (!strcmp(kk->str, "description")) {
			in->description = plain_str(p, vv, "description");
		} else if (!strcmp(kk->str, "deprecationMessage")) {
			in->deprecation_message =
			    plain_str(p, vv, "deprecationMessage");
		} else if (!strcmp(kk->str, "required")) {
			/* GitHub does not read it; 'true' in quotes is common.
			 */
			if (wf_is_scalar(vv) && vv->scalar == GUTS_YAML_BOOL)
				in->required = vv->boolean;
			else if (wf_is_string(vv) &&
				 (!strcasecmp(vv->str, "true") ||
				  !strcasecmp(vv->str, "false")))
				in->required = !strcasecmp(vv->str, "true");
			else if (!wf_is_null(vv))
				WARN(p, vv,
				     "'required' should be true or false");
		} else if (!strcmp(kk->str, "default")) {
			parse_default(p, vv, in);
		}
	}
}

static void parse_inputs(struct wf_parser *p, const struct guts_yaml_node *n,
			 struct guts_action *a)
{
	if (wf_is_null(n) || !wf_want_map(p, n, "inputs"))
		return;
	a->inputs = guts_xcalloc(n->nr ? n->nr : 1, sizeof(*a->inputs));
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;
		struct guts_action_input *in;
		const struct guts_action_input *dup;

		if (!k->len || wf_has_expr(k->str, k->len)) {
			ERR(p, k, "invalid input id '%s'", k->str);
			continue;
		}
		dup = guts_action_input(a, k->str);
		if (dup) {
			ERR(p, k,
			    "the input id '%s' is already used by input '%s' "
			    "(input ids are case-insensitive)",
			    k->str, dup->name);
			continue;
		}
		in = &a->inputs[a->nr_inputs++];
		in->name = guts_xstrndup(k->str, k->len);
		in->pos = wf_pos_of(k);
		if (wf_is_null(v) || !wf_want_map(p, v, "an input"))
			continue;
		parse_input(p, v, in);
	}
}

static void parse_outputs(struct wf_parser *p, const struct guts_yaml_node *n,
			  struct guts_action *a)
{
	int composite = a->using == GUTS_ACTION_COMPOSITE && a->using_raw;

	if (wf_is_null(n) || !wf_want_map(p, n, "outputs"))
		return;
	a->outputs = guts_xcalloc(n->nr ? n->nr : 1, sizeof(*a->outputs));
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;
		struct guts_action_output *o;
		const struct guts_yaml_node *value;

		if (!k->len || wf_has_expr(k->str, k->len)) {
			ERR(p, k, "invalid output id '%s'", k->str);
			continue;
		}
		o = &a->outputs[a->nr_outputs++];
		o->name = guts_xstrndup(k->str, k->len);
		o->pos = wf_pos_of(k);
		if (wf_is_null(v)) {
			if (composite)
				ERR(p, k,
				    "output '%s' of a composite action needs "
				    "a 'value'",
				    k->str);
			continue;
		}
		if (!wf_want_map(p, v, "an output"))
			continue;
		for (size_t j = 0; j < v->nr; j++)
			if (!wf_in_list(v->pairs[j].key->str, output_keys))
				wf_unexpected_key(p, v->pairs[j].key,
						  "an output", output_keys);
		o->description = plain_str(p, guts_yaml_get(v, "description"),
					   "description");
		value = guts_yaml_get(v, "value");
		o->value = wf_get_str(p, value, "value", WF_CTX_ACTION_OUTPUT);
		if (composite && wf_is_null(value))
			ERR(p, value ? value : v,
			    "output '%s' of a composite action needs a "
			    "'value' (an expression such as ${{ "
			    "steps.ID.outputs.NAME }})",
			    o->name);
	}
}

/* ---- runs ---- */

static void parse_composite(struct wf_parser *p,
			    const struct guts_yaml_node *runs,
			    struct guts_action *a)
{
	static const struct wf_step_rules rules = {
	    composite_step_keys,   "a composite action step",
	    "a composite action",  WF_CTX_ACTION_STEP,
	    WF_CTX_ACTION_STEP_IF, 1};
	const struct guts_yaml_node *steps = guts_yaml_get(runs, "steps");

	if (!steps) {
		ERR(p, runs,
		    "required key 'steps' is missing: a composite action "
		    "lists its steps under 'runs.steps'");
		return;
	}
	if (wf_is_null(steps)) {
		ERR(p, steps, "'steps' must list the action's steps");
		return;
	}
	if (steps->type != GUTS_YAML_SEQ) {
		ERR(p, steps, "'steps' must be a sequence of steps, not a %s",
		    guts_yaml_kind_name(steps));
		return;
	}
	wf_parse_step_list(p, steps, &rules, &a->steps, &a->nr_steps);
}

static char *parse_condition(struct wf_parser *p,
			     const struct guts_yaml_node *n, const char *what)
{
	if (!wf_is_scalar(n)) {
		ERR(p, n, "'%s' must be a string, not a %s", what,
		    guts_yaml_kind_name(n));
		return NULL;
	}
	if (n->scalar == GUTS_YAML_STR)
		wf_check_expr(p, n, WF_CTX_ACTION_STEP_IF, 1);
	return wf_scalar_string(n);
}

static void parse_runs_key(struct wf_parser *p, const struct guts_yaml_node *k,
			   const struct guts_yaml_node *v,
			   struct guts_action *a)
{
	if (!strcmp(k->str, "main"))
		a->main = path_str(p, v, "main");
	else if (!strcmp(k->str, "pre"))
		a->pre = path_str(p, v, "pre");
	else if (!strcmp(k->str, "post"))
		a->post = path_str(p, v, "post");
	else if (!strcmp(k->str, "pre-if"))
		a->pre_if = parse_condition(p, v, "pre-if");
	else if (!strcmp(k->str, "post-if"))
		a->post_if = parse_condition(p, v, "post-if");
	else if (!strcmp(k->str, "image"))
		a->image = path_str(p, v, "image");
	else if (!strcmp(k->str, "entrypoint"))
		a->entrypoint = path_str(p, v, "entrypoint");
	else if (!strcmp(k->str, "pre-entrypoint"))
		a->pre_entrypoint = path_str(p, v, "pre-entrypoint");
	else if (!strcmp(k->str, "post-entrypoint"))
		a->post_entrypoint = path_str(p, v, "post-entrypoint");
	else if (!strcmp(k->str, "env"))
		a->env = wf_string_map(p, v, "env", WF_CTX_ACTION_DOCKER, 1);
	else if (!strcmp(k->str, "args") && wf_want_seq(p, v, "args")) {
		for (size_t i = 0; i < v->nr; i++) {
			if (!wf_is_scalar(v->items[i]) ||
			    wf_is_null(v->items[i]))
				ERR(p, v->items[i],
				    "each entry of args must be a string, not "
				    "a %s",
				    guts_yaml_kind_name(v->items[i]));
			else
				wf_check_expr(p, v->items[i],
					      WF_CTX_ACTION_DOCKER, 0);
		}
		a->args = wf_to_json(v);
	}
}

/* Which kind `using:` names; 0, or -1 (reported) when it names none. */
static int parse_using(struct wf_parser *p, const struct guts_yaml_node *u,
		       struct guts_action *a)
{
	if (!wf_is_string(u) || !u->len) {
		ERR(p, u,
		    "'using' must be a string such as 'composite' or "
		    "'node20'");
		return -1;
	}
	/* GitHub's runner compares these case-insensitively. */
	if (!strcasecmp(u->str, "composite")) {
		a->using = GUTS_ACTION_COMPOSITE;
	} else if (!strcasecmp(u->str, "docker")) {
		a->using = GUTS_ACTION_DOCKER;
	} else {
		size_t i;

		for (i = 0; node_versions[i]; i++)
			if (!strcasecmp(u->str, node_versions[i]))
				break;
		if (!node_versions[i]) {
			ERR(p, u,
			    "'using: %s' is not a kind of action: use "
			    "composite, node12, node16, node20, node24 or "
			    "docker",
			    u->str);
			return -1;
		}
		a->using = GUTS_ACTION_NODE;
	}
	a->using_raw = guts_xstrndup(u->str, u->len);
	return 0;
}

static void parse_runs(struct wf_parser *p, const struct guts_yaml_node *runs,
		       struct guts_action *a)
{
	static const char *const nullable[] = {NULL};
	const struct guts_yaml_node *using = guts_yaml_get(runs, "using");
	const char *const *keys;
	const char *where;

	if (!using) {
		ERR(p, runs,
		    "required key 'using' is missing in 'runs': say how the "
		    "action runs (composite, node20, docker, ...)");
		return;
	}
	if (parse_using(p, using, a) < 0)
		return;
	switch (a->using) {
	case GUTS_ACTION_COMPOSITE:
		keys = composite_keys;
		where = "'runs' of a composite action";
		break;
	case GUTS_ACTION_NODE:
		keys = node_keys;
		where = "'runs' of a node action";
		break;
	case GUTS_ACTION_DOCKER:
	default:
		keys = docker_keys;
		where = "'runs' of a docker action";
		break;
	}
	for (size_t i = 0; i < runs->nr; i++) {
		const struct guts_yaml_node *k = runs->pairs[i].key;
		const struct guts_yaml_node *v = runs->pairs[i].value;

		if (!wf_in_list(k->str, keys)) {
			wf_unexpected_key(p, k, where, keys);
			continue;
		}
		if (!strcmp(k->str, "using") || !strcmp(k->str, "steps"))
			continue;
		if (wf_null_value(p, k, v, nullable))
			continue;
		parse_runs_key(p, k, v, a);
	}
	if (a->using == GUTS_ACTION_COMPOSITE)
		parse_composite(p, runs, a);
	else if (a->using == GUTS_ACTION_NODE && !guts_yaml_get(runs, "main"))
		ERR(p, runs,
		    "required key 'main' is missing in 'runs': a %s action "
		    "names the script it runs",
		    a->using_raw);
	else if (a->using == GUTS_ACTION_DOCKER &&
		 !guts_yaml_get(runs, "image"))
		ERR(p, runs,
		    "required key 'image' is missing in 'runs': a docker "
		    "action names a Dockerfile or a docker:// image");
}

/* ---- the file ---- */

static void parse_branding(struct wf_parser *p, const struct guts_yaml_node *n,
			   struct guts_action *a)
{
	static const char *const keys[] = {"color", "icon", NULL};

	if (!wf_want_map(p, n, "branding"))
		return;
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;

		if (!wf_in_list(k->str, keys))
			ignored_key(p, k, "branding", keys);
		else if (!wf_is_string(n->pairs[i].value))
			ERR(p, n->pairs[i].value,
			    "branding %s must be a string", k->str);
	}
	a->branding = wf_to_json(n);
}

static void parse_root(struct wf_parser *p, struct guts_action *a,
		       const struct guts_yaml_node *root)
{
	const struct guts_yaml_node *runs;

	if (!root) {
		guts_diag_error(p->d, 1, 1, "the action file is empty");
		return;
	}
	if (!wf_want_map(p, root, "an action"))
		return;
	for (size_t i = 0; i < root->nr; i++) {
		const struct guts_yaml_node *k = root->pairs[i].key;
		const struct guts_yaml_node *v = root->pairs[i].value;

		if (!wf_in_list(k->str, top_keys)) {
			wf_unexpected_key(p, k, "the action", top_keys);
			continue;
		}
		if (!strcmp(k->str, "name"))
			a->name = plain_str(p, v, "name");
		else if (!strcmp(k->str, "description"))
			a->description = plain_str(p, v, "description");
		else if (!strcmp(k->str, "author"))
			a->author = plain_str(p, v, "author");
		else if (!strcmp(k->str, "branding") && !wf_is_null(v))
			parse_branding(p, v, a);
	}
	parse_inputs(p, guts_yaml_get(root, "inputs"), a);
	runs = guts_yaml_get(root, "runs");
	if (!runs)
		guts_diag_error(p->d, root->line, root->col,
				"required key 'runs' is missing: say how the "
				"action runs (runs.using)");
	else if (wf_is_null(runs))
		ERR(p, runs, "'runs' has no value");
	else if (wf_want_map(p, runs, "runs"))
		parse_runs(p, runs, a);
	parse_outputs(p, guts_yaml_get(root, "outputs"), a);
}

int guts_action_parse(struct guts_action **out, const char *path,
		      const char *text, size_t len, struct guts_diags *diags)
{
	/*
	 * GitHub's syntax, not what Guts can run: the executor decides about
	 * remote and docker steps.  Untrusted input pasted into run: scripts
	 * is as dangerous in an action as in a workflow.
	 */
	static const struct guts_workflow_opts opts = {.warn_injection = 1,
						       .syntax_only = 1};
	size_t tree_jobs = 0, errors = diags->errors;
	struct wf_parser p = {diags, &opts, text, len,
			      0,     NULL,  NULL, &tree_jobs};
	struct guts_yaml_doc *doc = NULL;
	struct guts_action *a;

	/* Without the BOM guts_yaml_load() skips, so that columns agree. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		p.text += 3;
		p.len -= 3;
	}
	if (guts_yaml_load(&doc, text, len, diags) < 0)
		return GUTS_EINVAL;
	a = guts_xcalloc(1, sizeof(*a));
	a->path = guts_xstrdup(path ? path : "<input>");
	parse_root(&p, a, doc->root);
	guts_yaml_free(doc);
	guts_diags_sort(diags);
	if (diags->errors > errors) {
		guts_action_free(a);
		return guts_error(GUTS_EINVAL, "%s: %zu error(s)",
				  path ? path : "<input>",
				  diags->errors - errors);
	}
	*out = a;
	return 0;
}

int guts_action_load(struct guts_action **out, const char *dir,
		     struct guts_diags *diags)
{
	static const char *const names[] = {"action.yml", "action.yaml"};
	size_t dlen = strlen(dir), len = 0;
	char *text = NULL, *path = NULL;
	int rc = GUTS_ENOTFOUND;

	/* "./dir/" names the same directory as "./dir". */
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	for (size_t i = 0; i < 2 && rc == GUTS_ENOTFOUND; i++) {
		free(path);
		path = guts_xasprintf("%.*s/%s", (int)dlen, dir, names[i]);
		rc = guts_fs_read_all(&text, &len, path, GUTS_ACTION_MAX_BYTES);
	}
	if (rc == GUTS_ENOTFOUND)
		rc = guts_error(GUTS_ENOTFOUND,
				"can't find 'action.yml' or 'action.yaml' "
				"under '%.*s'",
				(int)dlen, dir);
	if (rc < 0) {
		guts_diag_error(diags, 0, 0, "%s", guts_error_message());
		goto out;
	}
	rc = guts_action_parse(out, path, text, len, diags);
out:
	free(text);
	free(path);
	return rc;
}

void guts_action_free(struct guts_action *a)
{
	if (!a)
		return;
	free(a->path);
	free(a->name);
	free(a->description);
	free(a->author);
	for (size_t i = 0; i < a->nr_inputs; i++) {
		free(a->inputs[i].name);
		free(a->inputs[i].description);
		json_decref(a->inputs[i].default_value);
		free(a->inputs[i].deprecation_message);
	}
	free(a->inputs);
	for (size_t i = 0; i < a->nr_outputs; i++) {
		free(a->outputs[i].name);
		free(a->outputs[i].description);
		free(a->outputs[i].value);
	}
	free(a->outputs);
	free(a->using_raw);
	free(a->main);
	free(a->pre);
	free(a->post);
	free(a->pre_if);
	free(a->post_if);
	wf_steps_free(a->steps, a->nr_steps);
	free(a->image);
	free(a->entrypoint);
	free(a->pre_entrypoint);
	free(a->post_entrypoint);
	json_decref(a->args);
	json_decref(a->env);
	json_decref(a->branding);
	free(a);
}

const struct guts_action_input *guts_action_input(const struct guts_action *a,
						  const char *name)
{
	for (size_t i = 0; i < a->nr_inputs; i++)
		if (!strcasecmp(a->inputs[i].name, name))
			return &a->inputs[i];
	return NULL;
}

const char *guts_action_using_name(enum guts_action_using u)
{
	switch (u) {
	case GUTS_ACTION_COMPOSITE:
		return "composite";
	case GUTS_ACTION_NODE:
		return "node";
	case GUTS_ACTION_DOCKER:
		return "docker";
	}
	return "composite";
}
