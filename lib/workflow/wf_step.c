/*
 * Steps: the conversion and validation of a list of steps, shared by a job's
 * `steps:` and a composite action's `runs.steps:`.  The two differ in the
 * keys a step may have, the contexts its expressions may use and whether a
 * run: step must name its shell; struct wf_step_rules carries that.  Steps
 * without an id get one generated as GitHub does.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/workflow.h"
#include "wf_internal.h"
#include "banned.h"

#define ERR(p, n, ...) guts_diag_error((p)->d, (n)->line, (n)->col, __VA_ARGS__)

/* Every key a workflow step may have; composite steps have fewer. */
const char *const wf_step_keys[] = {"id",
				    "if",
				    "name",
				    "uses",
				    "run",
				    "shell",
				    "working-directory",
				    "with",
				    "env",
				    "continue-on-error",
				    "timeout-minutes",
				    NULL};

static const char *const builtins[] = {"checkout", "cache", "upload-artifact",
				       "download-artifact", NULL};

/* Remote actions with a built-in equivalent. */
static const char *builtin_for(const char *uses)
{
	static const char *const map[][2] = {
	    {"actions/checkout", "checkout"},
	    {"actions/cache", "cache"},
	    {"actions/cache/restore", "cache"},
	    {"actions/cache/save", "cache"},
	    {"actions/upload-artifact", "upload-artifact"},
	    {"actions/download-artifact", "download-artifact"},
	};
	size_t n = strcspn(uses, "@");

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i][0]) == n && !strncasecmp(uses, map[i][0], n))
			return map[i][1];
	return NULL;
}

/*
 * Third-party actions whose work a built-in does, for the error message.
 * Only the owner/repo part is compared.
 */
static const char *similar_builtin(const char *uses)
{
	static const char *const map[][2] = {
	    {"swatinem/rust-cache", "cache"},
	    {"pat-s/always-upload-cache", "cache"},
	    {"martijnhols/actions-cache", "cache"},
	    {"dawidd6/action-download-artifact", "download-artifact"},
	    {"actions/upload-pages-artifact", "upload-artifact"},
	};
	size_t n = strcspn(uses, "@");

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i][0]) == n && !strncasecmp(uses, map[i][0], n))
			return map[i][1];
	return NULL;
}

/* A built-in whose name is one typo away from @u ("chekout"). */
static const char *near_builtin(const char *u)
{
	for (size_t i = 0; builtins[i]; i++)
		if (wf_edit_distance(u, builtins[i]) <= 2)
			return builtins[i];
	return NULL;
}

static void classify_uses(struct wf_parser *p, const struct guts_yaml_node *n,
			  struct guts_wf_step *st)
{
	const char *u = st->uses;
	const char *at = strrchr(u, '@');
	const char *b;

	if (!*u) {
		ERR(p, n, "'uses' must not be empty");
		return;
	}
	if (wf_has_expr(u, strlen(u))) {
		ERR(p, n, "expressions are not allowed in 'uses'");
		return;
	}
	if (!strncmp(u, "./", 2) || !strcmp(u, ".")) {
		st->uses_kind = GUTS_WF_USES_LOCAL;
		return;
	}
	if (!strncmp(u, "docker://", 9)) {
		st->uses_kind = GUTS_WF_USES_DOCKER;
		if (!p->opts->syntax_only)
			ERR(p, n,
			    "docker actions ('%s') need Docker, which Guts "
			    "does "
			    "not use; run the tool in a run: step instead",
			    u);
		return;
	}
	if (wf_in_list(u, builtins)) {
		st->uses_kind = GUTS_WF_USES_BUILTIN;
		st->builtin = guts_xstrdup(u);
		return;
	}
	/* owner/repo[/path]@ref */
	if (!at || at == u || !at[1] || !strchr(u, '/') ||
	    strchr(u, '/') > at || u[0] == '/' || strchr(u, '/')[1] == '@' ||
	    !isalnum((unsigned char)u[0])) {
		b = near_builtin(u);
		if (b) {
			ERR(p, n,
			    "unknown action '%s'; did you mean the "
			    "built-in '%s'?",
			    u, b);
			return;
		}
		ERR(p, n,
		    "'uses: %s' is not an action reference: use a built-in "
		    "(checkout, cache, upload-artifact, download-artifact), "
		    "a local action (./path), or owner/repo[/path]@ref",
		    u);
		return;
	}
	b = builtin_for(u);
	if (b) {
		st->uses_kind = GUTS_WF_USES_BUILTIN;
		st->builtin = guts_xstrdup(b);
		return;
	}
	st->uses_kind = GUTS_WF_USES_REMOTE;
	if (p->opts->syntax_only)
		return;
	b = similar_builtin(u);
	if (b)
		ERR(p, n,
		    "remote actions are not supported: '%s' would be fetched "
		    "from another repository. The built-in '%s' does this "
		    "job: write 'uses: %s'",
		    u, b, b);
	else
		ERR(p, n,
		    "remote actions are not supported: '%s' would be fetched "
		    "from another repository. Guts runs the built-in actions "
		    "checkout, cache, upload-artifact and download-artifact, "
		    "and local composite actions (uses: ./path); do this "
		    "step's work in a run: step",
		    u);
}

/* @s lower-cased into @b, for case-insensitive lookups in a json_t set. */
static const char *lower(struct guts_buf *b, const char *s)
{
	guts_buf_reset(b);
	for (; *s; s++)
		guts_buf_addch(b, (char)tolower((unsigned char)*s));
	return b->data;
}

/*
 * Generated ids follow GitHub: __run, __owner_repo, with _2, _3 suffixes.
 * @taken holds every id so far, lower-cased; @next remembers per base the
 * suffix to try next, so a job of thousands of run: steps stays linear.
 */
static char *generate_step_id(const struct guts_wf_step *st, json_t *taken,
			      json_t *next)
{
	struct guts_buf lb;
	char base[256];
	json_int_t k;
	char *id;

	if (st->run) {
		snprintf(base, sizeof(base), "__run");
	} else if (st->uses && st->uses_kind != GUTS_WF_USES_LOCAL &&
		   st->uses_kind != GUTS_WF_USES_DOCKER) {
		size_t n = strcspn(st->uses, "@"), j = 2;

		base[0] = base[1] = '_';
		for (size_t i = 0; i < n && j < sizeof(base) - 1; i++) {
			char c = st->uses[i];

			base[j++] =
			    isalnum((unsigned char)c) || c == '-' || c == '_'
				? c
				: '_';
		}
		base[j] = '\0';
	} else {
		snprintf(base, sizeof(base), "__self");
	}
	guts_buf_init(&lb, 0);
	/* Ids only get taken, so suffixes tried before stay taken. */
	k = json_integer_value(json_object_get(next, lower(&lb, base)));
	id = k ? guts_xasprintf("%s_%lld", base, (long long)k)
	       : guts_xstrdup(base);
	while (json_object_get(taken, lower(&lb, id))) {
		free(id);
		k = k ? k + 1 : 2;
		id = guts_xasprintf("%s_%lld", base, (long long)k);
	}
	json_object_set_new(next, lower(&lb, base),
			    json_integer(k ? k + 1 : 2));
	guts_buf_release(&lb);
	return id;
}

/* How a step is called in messages: by name, id or place. */
static char *step_label(const struct guts_wf_step *st,
			const struct guts_yaml_node *id, size_t index)
{
	if (st->name)
		return guts_xasprintf("step '%s'", st->name);
	if (id && wf_is_string(id))
		return guts_xasprintf("step '%s'", id->str);
	return guts_xasprintf("step %zu", index + 1);
}

/* @ids: the step ids of the list so far, lower-cased (a set). */
static void parse_step(struct wf_parser *p, const struct guts_yaml_node *n,
		       const struct wf_step_rules *r, size_t index,
		       struct guts_wf_step *st, json_t *ids)
{
	static const char *const nullable[] = {
	    "name", "if", "run", "working-directory", "uses", NULL};
	const struct guts_yaml_node *run = NULL, *uses = NULL, *with = NULL,
				    *shell = NULL, *wd = NULL, *id = NULL;

	st->pos = wf_pos_of(n);
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;

		if (!wf_in_list(k->str, r->keys)) {
			if (wf_in_list(k->str, wf_step_keys))
				ERR(p, k, "'%s' is not allowed in %s", k->str,
				    r->where);
			else
				wf_unexpected_key(p, k, r->where, r->keys);
			continue;
		}
		if (wf_null_value(p, k, v, nullable))
			continue;
		if (!strcmp(k->str, "id")) {
			id = v;
		} else if (!strcmp(k->str, "if")) {
			if (wf_is_scalar(v) && v->scalar != GUTS_YAML_NULL) {
				if (v->scalar == GUTS_YAML_STR)
					wf_check_expr(p, v, r->if_ctx, 1);
				st->if_cond = wf_scalar_string(v);
			} else if (!wf_is_null(v)) {
				ERR(p, v, "'if' must be a string, not a %s",
				    guts_yaml_kind_name(v));
			}
		} else if (!strcmp(k->str, "name")) {
			st->name = wf_get_str(p, v, "name", r->ctx);
		} else if (!strcmp(k->str, "uses")) {
			uses = v;
		} else if (!strcmp(k->str, "run")) {
			run = v;
		} else if (!strcmp(k->str, "shell")) {
			shell = v;
		} else if (!strcmp(k->str, "working-directory")) {
			wd = v;
		} else if (!strcmp(k->str, "with")) {
			with = v;
		} else if (!strcmp(k->str, "env")) {
			st->env = wf_string_map(p, v, "env", r->ctx, 1);
		} else if (!strcmp(k->str, "continue-on-error")) {
			st->continue_on_error =
			    wf_bool_or_expr(p, v, "continue-on-error", r->ctx);
		} else if (!strcmp(k->str, "timeout-minutes")) {
			st->timeout_minutes = wf_number_or_expr(
			    p, v, "timeout-minutes", r->ctx, 0);
		}
	}
	if (run && uses) {
		/* At the second of the two, as GitHub does. */
		const struct guts_yaml_node *second =
		    run->line > uses->line ||
			    (run->line == uses->line && run->col > uses->col)
			? run
			: uses;

		ERR(p, second, "a step has either 'run' or 'uses', not both");
	} else if (!run && !uses) {
		ERR(p, n,
		    "a step needs 'run' (a script) or 'uses' (an "
		    "action)");
	}
	if (run) {
		if (!wf_is_scalar(run)) {
			ERR(p, run,
			    "'run' must be a script (a string), not a "
			    "%s",
			    guts_yaml_kind_name(run));
		} else {
			/* An empty run: is an empty script on GitHub too. */
			st->run =
			    wf_is_null(run)
				? guts_xstrdup("")
				: wf_get_str(p, run, "run",
					     r->ctx | (p->opts->warn_injection
							   ? WF_CHECK_INJECTION
							   : 0));
			st->run_pos = wf_pos_of(run);
		}
		st->shell = wf_get_str(p, shell, "shell", WF_NO_EXPR);
		st->working_directory =
		    wf_get_str(p, wd, "working-directory", r->ctx);
		if (with)
			ERR(p, with, "'with' goes with 'uses', not 'run'");
		if (r->need_shell && !shell) {
			char *label = step_label(st, id, index);

			ERR(p, n,
			    "%s runs a script but has no 'shell': steps of "
			    "%s must say which shell runs them (bash, sh, "
			    "pwsh, python, ...)",
			    label, r->owner);
			free(label);
		}
	}
	if (uses) {
		if (!wf_is_string(uses)) {
			ERR(p, uses, "'uses' must be a string, not a %s",
			    guts_yaml_kind_name(uses));
		} else {
			st->uses = guts_xstrndup(uses->str, uses->len);
			classify_uses(p, uses, st);
		}
		st->with = wf_string_map(p, with, "with", r->ctx, 1);
		if (shell)
			ERR(p, shell, "'shell' goes with 'run', not 'uses'");
		if (wd)
			ERR(p, wd,
			    "'working-directory' goes with 'run', not 'uses'");
	}
	if (id && !wf_is_null(id)) {
		if (!wf_is_scalar(id)) {
			ERR(p, id, "step id must be a string");
		} else if (wf_check_id(p, id, "step")) {
			struct guts_buf lb;

			guts_buf_init(&lb, 0);
			if (json_object_get(ids, lower(&lb, id->str)))
				ERR(p, id,
				    "the step id '%s' is used more than once "
				    "in %s",
				    id->str, r->owner);
			else
				json_object_set_new(ids, lb.data, json_true());
			guts_buf_release(&lb);
			st->id = guts_xstrndup(id->str, id->len);
		}
	}
}

static void assign_step_ids(struct guts_wf_step *steps, size_t nr)
{
	json_t *taken = json_object(), *next = json_object();
	struct guts_buf lb;

	guts_buf_init(&lb, 0);
	for (size_t i = 0; i < nr; i++)
		if (steps[i].id)
			json_object_set_new(taken, lower(&lb, steps[i].id),
					    json_true());
	for (size_t i = 0; i < nr; i++) {
		struct guts_wf_step *st = &steps[i];

		if (st->id)
			continue;
		st->id = generate_step_id(st, taken, next);
		st->id_generated = 1;
		json_object_set_new(taken, lower(&lb, st->id), json_true());
	}
	guts_buf_release(&lb);
	json_decref(taken);
	json_decref(next);
}

void wf_parse_step_list(struct wf_parser *p, const struct guts_yaml_node *seq,
			const struct wf_step_rules *r,
			struct guts_wf_step **steps, size_t *nr)
{
	struct guts_wf_step *v;
	size_t n = 0;
	json_t *ids;

	v = guts_xcalloc(seq->nr ? seq->nr : 1, sizeof(*v));
	ids = json_object();
	for (size_t i = 0; i < seq->nr; i++) {
		const struct guts_yaml_node *it = seq->items[i];

		if (!wf_want_map(p, it, "a step"))
			continue;
		parse_step(p, it, r, i, &v[n], ids);
		n++;
	}
	json_decref(ids);
	assign_step_ids(v, n);
	*steps = v;
	*nr = n;
}
