/*
 * Jobs: conversion and validation of everything under `jobs:` (the steps
 * themselves are read by wf_step.c), then the checks that need all jobs at
 * once (needs, cycles, reusable workflow calls).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "guts/cron.h"
#include "guts/error.h"
#include "guts/workflow.h"
#include "wf_internal.h"
#include "banned.h"

#define ERR(p, n, ...) guts_diag_error((p)->d, (n)->line, (n)->col, __VA_ARGS__)
#define WARN(p, n, ...) \
	guts_diag_warning((p)->d, (n)->line, (n)->col, __VA_ARGS__)

/* ---- schedule ---- */

void wf_parse_schedule(struct wf_parser *p, const struct guts_yaml_node *n,
		       struct guts_wf_trigger *t)
{
	if (n->type != GUTS_YAML_SEQ) {
		ERR(p, n,
		    "schedule must be a sequence of '- cron: ...' "
		    "entries, not a %s",
		    guts_yaml_kind_name(n));
		return;
	}
	t->cron_pos = guts_xcalloc(n->nr ? n->nr : 1, sizeof(*t->cron_pos));
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *it = n->items[i];
		const struct guts_yaml_node *c;
		struct guts_cron cron;

		if (!wf_want_map(p, it, "a schedule entry"))
			continue;
		for (size_t j = 0; j < it->nr; j++)
			if (strcmp(it->pairs[j].key->str, "cron"))
				wf_unexpected_key(
				    p, it->pairs[j].key, "a schedule entry",
				    (const char *const[]){"cron", NULL});
		c = guts_yaml_get(it, "cron");
		if (!c) {
			ERR(p, it,
			    "required key 'cron' is missing in a "
			    "schedule entry");
			continue;
		}
		if (!wf_is_string(c)) {
			ERR(p, c, "cron must be a string, not a %s",
			    guts_yaml_kind_name(c));
			continue;
		}
		if (guts_cron_parse(&cron, c->str) < 0) {
			ERR(p, c, "%s", guts_error_message());
			continue;
		}
		t->cron_pos[t->crons.nr] = wf_pos_of(c);
		guts_strvec_push(&t->crons, c->str);
	}
}

/* ---- steps ---- */

static void parse_steps(struct wf_parser *p, const struct guts_yaml_node *n,
			struct guts_wf_job *job)
{
	struct wf_step_rules r = {wf_step_keys, "a step",	NULL,
				  WF_CTX_STEP,	WF_CTX_STEP_IF, 0};
	char *owner;

	if (wf_is_null(n)) {
		ERR(p, n, "'steps' must list at least one step");
		return;
	}
	if (n->type != GUTS_YAML_SEQ) {
		ERR(p, n, "'steps' must be a sequence of steps, not a %s",
		    guts_yaml_kind_name(n));
		return;
	}
	owner = guts_xasprintf("job '%s'", job->id);
	r.owner = owner;
	wf_parse_step_list(p, n, &r, &job->steps, &job->nr_steps);
	free(owner);
}

/* ---- strategy ---- */

static void parse_matrix(struct wf_parser *p, const struct guts_yaml_node *n,
			 struct guts_wf_job *job)
{
	if (wf_is_whole_expr(n)) {
		wf_check_expr(p, n, WF_CTX_JOB_STRATEGY, 0);
		job->matrix = json_stringn(n->str, n->len);
		return;
	}
	if (!wf_want_map(p, n, "strategy.matrix"))
		return;
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;

		if (wf_is_insert(k)) {
			/* ${{ insert }}: the value's mapping is merged in. */
			if (wf_is_whole_expr(v))
				wf_check_expr(p, v, WF_CTX_JOB_STRATEGY, 0);
			else if (wf_want_map(p, v, "a ${{ insert }} value"))
				wf_check_tree_exprs(p, v, WF_CTX_JOB_STRATEGY);
			continue;
		}
		if (wf_has_expr(k->str, k->len)) {
			/* A key computed from needs or inputs, as in act. */
			wf_check_expr(p, k, WF_CTX_JOB_STRATEGY, 0);
		}
		if (!strcmp(k->str, "include") || !strcmp(k->str, "exclude")) {
			if (wf_is_whole_expr(v)) {
				wf_check_expr(p, v, WF_CTX_JOB_STRATEGY, 0);
				continue;
			}
			if (v->type != GUTS_YAML_SEQ) {
				ERR(p, v,
				    "matrix %s must be a sequence of "
				    "mappings, not a %s",
				    k->str, guts_yaml_kind_name(v));
				continue;
			}
			for (size_t j = 0; j < v->nr; j++) {
				if (wf_is_whole_expr(v->items[j])) {
					wf_check_expr(p, v->items[j],
						      WF_CTX_JOB_STRATEGY, 0);
					continue;
				}
				if (wf_want_map(p, v->items[j],
						"a matrix entry"))
					wf_check_tree_exprs(
					    p, v->items[j],
					    WF_CTX_JOB_STRATEGY);
			}
			continue;
		}
		if (wf_is_whole_expr(v)) {
			wf_check_expr(p, v, WF_CTX_JOB_STRATEGY, 0);
			continue;
		}
		if (v->type != GUTS_YAML_SEQ) {
			ERR(p, v,
			    "matrix vector '%s' must be a sequence of "
			    "values, not a %s",
			    k->str, guts_yaml_kind_name(v));
			continue;
		}
		if (!v->nr) {
			ERR(p, v, "matrix vector '%s' has no values", k->str);
			continue;
		}
		wf_check_tree_exprs(p, v, WF_CTX_JOB_STRATEGY);
	}
	job->matrix = wf_to_json(n);
	job->matrix_pos = wf_pos_of(n);
}

static void parse_strategy(struct wf_parser *p, const struct guts_yaml_node *n,
			   struct guts_wf_job *job)
{
	static const char *const keys[] = {"matrix", "fail-fast",
					   "max-parallel", NULL};

	if (wf_is_null(n))
		return;
	if (wf_is_whole_expr(n)) {
		wf_check_expr(p, n, WF_CTX_JOB_STRATEGY, 0);
		job->strategy = json_stringn(n->str, n->len);
		job->matrix_pos = wf_pos_of(n);
		return;
	}
	if (!wf_want_map(p, n, "strategy"))
		return;
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;

		if (!wf_in_list(k->str, keys))
			wf_unexpected_key(p, k, "strategy", keys);
		else if (wf_null_value(p, k, v,
				       (const char *const[]){"matrix", NULL}))
			continue;
		else if (!strcmp(k->str, "matrix"))
			parse_matrix(p, v, job);
		else if (!strcmp(k->str, "fail-fast"))
			job->fail_fast = wf_bool_or_expr(p, v, "fail-fast",
							 WF_CTX_JOB_STRATEGY);
		else
			job->max_parallel = wf_number_or_expr(
			    p, v, "max-parallel", WF_CTX_JOB_STRATEGY, 1);
	}
}

/* ---- runs-on, container, environment, sandbox ---- */

/* A runner group, optionally prefixed org/, organization/, ent/, enterprise/.
 */
static void check_group_name(struct wf_parser *p,
			     const struct guts_yaml_node *v)
{
	static const char *const prefixes[] = {"org/", "organization/", "ent/",
					       "enterprise/", NULL};
	const char *name = v->str;

	for (size_t i = 0; prefixes[i]; i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i]))) {
			name += strlen(prefixes[i]);
			break;
		}
	if (!*name)
		ERR(p, v, "invalid runs-on group name '%s': the name is empty",
		    v->str);
	else if (strchr(name, '/'))
		ERR(p, v,
		    "invalid runs-on group name '%s': use 'org/NAME', "
		    "'organization/NAME', 'ent/NAME', 'enterprise/NAME' or "
		    "just 'NAME'",
		    v->str);
}

static json_t *parse_runs_on(struct wf_parser *p,
			     const struct guts_yaml_node *n)
{
	static const char *const keys[] = {"group", "labels", NULL};

	if (wf_is_null(n)) {
		ERR(p, n, "'runs-on' must name a runner label");
		return NULL;
	}
	if (wf_is_scalar(n)) {
		if (wf_is_string(n))
			wf_check_expr(p, n, WF_CTX_JOB_BASIC, 0);
		return wf_to_json(n);
	}
	if (n->type == GUTS_YAML_SEQ) {
		for (size_t i = 0; i < n->nr; i++) {
			if (!wf_is_scalar(n->items[i]) ||
			    wf_is_null(n->items[i]))
				ERR(p, n->items[i],
				    "runs-on labels must be "
				    "strings");
			else if (wf_is_string(n->items[i]))
				wf_check_expr(p, n->items[i], WF_CTX_JOB_BASIC,
					      0);
		}
		return wf_to_json(n);
	}
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;

		if (!wf_in_list(k->str, keys)) {
			wf_unexpected_key(p, k, "runs-on", keys);
			continue;
		}
		if (wf_null_value(p, k, v, NULL))
			continue;
		if (!strcmp(k->str, "group")) {
			if (!wf_is_scalar(v))
				ERR(p, v, "runs-on.group must be a string");
			else if (wf_has_expr(v->str, v->len))
				wf_check_expr(p, v, WF_CTX_JOB_BASIC, 0);
			else
				check_group_name(p, v);
			continue;
		}
		if (wf_is_scalar(v)) {
			if (wf_is_string(v))
				wf_check_expr(p, v, WF_CTX_JOB_BASIC, 0);
			continue;
		}
		if (v->type != GUTS_YAML_SEQ) {
			ERR(p, v,
			    "runs-on.labels must be a string or a "
			    "sequence");
			continue;
		}
		for (size_t j = 0; j < v->nr; j++)
			free(wf_get_str(p, v->items[j], "each runs-on label",
					WF_CTX_JOB_BASIC));
	}
	return wf_to_json(n);
}

static void check_container(struct wf_parser *p, const struct guts_yaml_node *n,
			    const char *what, int is_service)
{
	static const char *const keys[] = {"image",   "credentials", "env",
					   "ports",   "volumes",     "options",
					   "command", "entrypoint",  NULL};
	static const char *const cred_keys[] = {"username", "password", NULL};
	static const char *const nullable[] = {"image", "options", "command",
					       "entrypoint", NULL};
	const struct guts_yaml_node *image;

	if (wf_is_null(n))
		return;
	if (wf_is_scalar(n)) {
		if (!n->len)
			ERR(p, n, "container image cannot be empty");
		else if (wf_is_string(n))
			wf_check_expr(p, n, WF_CTX_JOB_BASIC, 0);
		return;
	}
	if (!wf_want_map(p, n, what))
		return;
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;

		if (!wf_in_list(k->str, keys)) {
			wf_unexpected_key(p, k, what, keys);
			continue;
		}
		if (wf_null_value(p, k, v, nullable))
			continue;
		if (!strcmp(k->str, "credentials")) {
			if (wf_is_whole_expr(v)) {
				wf_check_expr(p, v, WF_CTX_CONTAINER_CRED, 0);
			} else if (wf_want_map(p, v, "credentials")) {
				for (size_t j = 0; j < v->nr; j++)
					if (!wf_in_list(v->pairs[j].key->str,
							cred_keys))
						wf_unexpected_key(
						    p, v->pairs[j].key,
						    "credentials", cred_keys);
					else
						wf_null_value(
						    p, v->pairs[j].key,
						    v->pairs[j].value, NULL);
				wf_check_tree_exprs(p, v,
						    WF_CTX_CONTAINER_CRED);
			}
		} else if (!strcmp(k->str, "env")) {
			json_decref(wf_string_map(p, v, "env",
						  WF_CTX_CONTAINER_ENV, 0));
		} else if (!strcmp(k->str, "ports") ||
			   !strcmp(k->str, "volumes")) {
			if (!wf_want_seq(p, v, k->str))
				continue;
			for (size_t j = 0; j < v->nr; j++)
				free(wf_get_str(p, v->items[j],
						!strcmp(k->str, "ports")
						    ? "each port"
						    : "each volume",
						WF_CTX_JOB_BASIC));
		} else {
			/* image, options, command, entrypoint */
			free(wf_get_str(p, v, k->str, WF_CTX_JOB_BASIC));
		}
	}
	image = guts_yaml_get(n, "image");
	if (!image || (wf_is_scalar(image) && !image->len) ||
	    wf_is_null(image)) {
		if (!is_service || image)
			ERR(p, n, "container image cannot be empty");
		else
			ERR(p, n, "required key 'image' is missing in service");
	}
}

static void parse_environment(struct wf_parser *p,
			      const struct guts_yaml_node *n,
			      struct guts_wf_job *job)
{
	static const char *const keys[] = {"name", "url", "deployment", NULL};

	if (wf_is_null(n))
		return;
	if (wf_is_scalar(n)) {
		if (wf_is_string(n))
			wf_check_expr(p, n, WF_CTX_JOB_BASIC, 0);
		job->environment = wf_to_json(n);
		return;
	}
	if (!wf_want_map(p, n, "environment"))
		return;
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;

		if (!wf_in_list(k->str, keys))
			wf_unexpected_key(p, k, "environment", keys);
		else if (wf_null_value(
			     p, k, v,
			     (const char *const[]){"name", "url", NULL}))
			continue;
		else if (!strcmp(k->str, "url"))
			free(wf_get_str(p, v, "environment.url",
					WF_CTX_ENV_URL));
		else if (!strcmp(k->str, "deployment")) {
			if (!wf_is_scalar(v) || (v->scalar != GUTS_YAML_BOOL &&
						 !wf_is_whole_expr(v)))
				ERR(p, v,
				    "environment.deployment must be true "
				    "or false");
			else if (wf_is_whole_expr(v))
				wf_check_expr(p, v, WF_CTX_JOB_BASIC, 0);
		} else
			free(wf_get_str(p, v, "environment.name",
					WF_CTX_JOB_BASIC));
	}
	if (!guts_yaml_get(n, "name"))
		ERR(p, n, "required key 'name' is missing in environment");
	job->environment = wf_to_json(n);
}

/* "2G", "512M", "1073741824", "1.5G" to bytes. */
static int parse_size(const char *s, unsigned long long *out)
{
	char *end;
	double v = strtod(s, &end);
	double mul = 1;

	if (end == s || !(v > 0) || !isfinite(v))
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		mul = 1024.0;
		break;
	case 'M':
		mul = 1024.0 * 1024;
		break;
	case 'G':
		mul = 1024.0 * 1024 * 1024;
		break;
	case 'T':
		mul = 1024.0 * 1024 * 1024 * 1024;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (*end) {
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
	}
	if (*end || v * mul > 1.8e19 || v * mul < 1)
		return -1;
	*out = (unsigned long long)(v * mul);
	return 0;
}

static void parse_sandbox(struct wf_parser *p, const struct guts_yaml_node *n,
			  struct guts_wf_sandbox *sb)
{
	static const char *const keys[] = {"network", "memory", "cpus", "pids",
					   NULL};

	if (wf_is_null(n) || !wf_want_map(p, n, "sandbox"))
		return;
	sb->set = 1;
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;

		if (!wf_in_list(k->str, keys)) {
			wf_unexpected_key(p, k, "sandbox", keys);
		} else if (!strcmp(k->str, "network")) {
			if (guts_yaml_is(v, "none"))
				sb->network_none = 1;
			else if (!guts_yaml_is(v, "host"))
				ERR(p, v,
				    "sandbox.network must be 'host' or "
				    "'none'");
		} else if (!strcmp(k->str, "memory")) {
			if (!wf_is_scalar(v) || wf_is_null(v) ||
			    parse_size(v->str, &sb->memory) < 0 ||
			    sb->memory < 1024 * 1024)
				ERR(p, v,
				    "sandbox.memory must be a size such "
				    "as 512M or 2G (at least 1M), not "
				    "'%s'",
				    wf_is_scalar(v) ? v->str : "?");
		} else if (!strcmp(k->str, "cpus")) {
			if (!wf_is_scalar(v) || v->scalar != GUTS_YAML_NUMBER ||
			    !(v->number > 0) || v->number > 4096)
				ERR(p, v,
				    "sandbox.cpus must be a number "
				    "greater than 0, such as 1.5");
			else
				sb->cpus = v->number;
		} else {
			if (!wf_is_scalar(v) || v->scalar != GUTS_YAML_NUMBER ||
			    v->number < 1 || v->number != floor(v->number) ||
			    v->number > 4194304)
				ERR(p, v,
				    "sandbox.pids must be a whole number "
				    "of at least 1");
			else
				sb->pids = (long)v->number;
		}
	}
}

/* snapshot: an image name, or {image-name, version, if}. */
static void check_snapshot(struct wf_parser *p, const struct guts_yaml_node *n)
{
	static const char *const keys[] = {"image-name", "version", "if", NULL};

	if (wf_is_scalar(n)) {
		free(wf_get_str(p, n, "snapshot", WF_CTX_JOB_BASIC));
		return;
	}
	if (n->type != GUTS_YAML_MAP) {
		ERR(p, n,
		    "snapshot must be an image name or a mapping, not a %s",
		    guts_yaml_kind_name(n));
		return;
	}
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;

		if (!wf_in_list(k->str, keys))
			wf_unexpected_key(p, k, "snapshot", keys);
		else if (wf_null_value(p, k, v, NULL))
			continue;
		else if (!strcmp(k->str, "if") && !wf_is_scalar(v))
			ERR(p, v, "'if' must be a string, not a %s",
			    guts_yaml_kind_name(v));
		else if (!strcmp(k->str, "if"))
			wf_check_expr(p, v, WF_CTX_JOB_STRATEGY, 1);
		else
			free(wf_get_str(p, v, k->str, WF_CTX_JOB_BASIC));
	}
	if (!guts_yaml_get(n, "image-name"))
		ERR(p, n, "required key 'image-name' is missing in snapshot");
}

/* ---- jobs ---- */

static const char *const job_keys[] = {"name",	      "needs",
				       "permissions", "runs-on",
				       "environment", "concurrency",
				       "outputs",     "env",
				       "defaults",    "if",
				       "steps",	      "timeout-minutes",
				       "strategy",    "continue-on-error",
				       "container",   "services",
				       "sandbox",     "cancel-timeout-minutes",
				       "snapshot",    NULL};

static const char *const call_job_keys[] = {
    "name", "uses",	   "with",	  "secrets",  "needs",
    "if",   "permissions", "concurrency", "strategy", NULL};

static void parse_needs(struct wf_parser *p, const struct guts_yaml_node *n,
			struct guts_wf_job *job)
{
	const struct guts_yaml_node *const *items = &n;
	size_t nr = 1;

	if (wf_is_null(n))
		return;
	if (n->type == GUTS_YAML_SEQ) {
		items = (const struct guts_yaml_node *const *)n->items;
		nr = n->nr;
	} else if (n->type != GUTS_YAML_SCALAR) {
		ERR(p, n,
		    "'needs' must be a job id or a sequence of job ids, "
		    "not a %s",
		    guts_yaml_kind_name(n));
		return;
	}
	job->needs_pos = guts_xcalloc(nr ? nr : 1, sizeof(*job->needs_pos));
	for (size_t i = 0; i < nr; i++) {
		const struct guts_yaml_node *it = items[i];

		if (!wf_is_string(it)) {
			ERR(p, it, "'needs' entries must be job ids, not a %s",
			    guts_yaml_kind_name(it));
			continue;
		}
		if (wf_has_expr(it->str, it->len)) {
			ERR(p, it, "expressions are not allowed in 'needs'");
			continue;
		}
		job->needs_pos[job->needs.nr] = wf_pos_of(it);
		guts_strvec_push(&job->needs, it->str);
	}
}

static void parse_job_if(struct wf_parser *p, const struct guts_yaml_node *v,
			 struct guts_wf_job *job)
{
	if (wf_is_scalar(v) && v->scalar != GUTS_YAML_NULL) {
		if (v->scalar == GUTS_YAML_STR)
			wf_check_expr(p, v, WF_CTX_JOB_IF, 1);
		job->if_cond = wf_scalar_string(v);
	} else if (!wf_is_null(v)) {
		ERR(p, v, "'if' must be a string, not a %s",
		    guts_yaml_kind_name(v));
	}
}

static int valid_workflow_ref(const char *u, int *remote)
{
	const char *at = strrchr(u, '@');
	size_t n = at ? (size_t)(at - u) : strlen(u);
	int slashes = 0;

	*remote = strncmp(u, "./", 2) != 0;
	if (n < 5 || !(!strncmp(u + n - 4, ".yml", 4) ||
		       (n > 5 && !strncmp(u + n - 5, ".yaml", 5))))
		return 0;
	if (!*remote)
		return at == NULL && !strstr(u, "..");
	if (!at || !at[1] || strstr(u, ".."))
		return 0;
	for (const char *c = u; c < at; c++)
		slashes += *c == '/';
	return slashes >= 2 && u[0] != '/';
}

/* Check a call's with: and secrets: against the called workflow's inputs. */
static void check_call(struct wf_parser *p, const struct guts_yaml_node *uses,
		       const struct guts_yaml_node *with,
		       const struct guts_yaml_node *secrets,
		       const struct guts_workflow *called)
{
	const struct guts_wf_trigger *t =
	    guts_workflow_trigger(called, "workflow_call");
	const char *ref = uses->str;

	if (!t) {
		ERR(p, uses,
		    "'%s' cannot be called: it has no 'on: "
		    "workflow_call' trigger",
		    ref);
		return;
	}
	for (size_t i = 0; with && with->type == GUTS_YAML_MAP && i < with->nr;
	     i++) {
		const struct guts_yaml_node *k = with->pairs[i].key;
		const struct guts_yaml_node *v = with->pairs[i].value;
		const struct guts_wf_input *in = NULL;

		for (size_t j = 0; j < t->nr_inputs; j++)
			if (!strcmp(t->inputs[j].name, k->str))
				in = &t->inputs[j];
		if (!in) {
			ERR(p, k,
			    "'%s' is not an input of the called workflow "
			    "'%s'",
			    k->str, ref);
			continue;
		}
		if (!wf_is_scalar(v) || wf_is_whole_expr(v) ||
		    (wf_is_string(v) && wf_has_expr(v->str, v->len)))
			continue;
		if (in->type == GUTS_WF_INPUT_BOOLEAN &&
		    v->scalar != GUTS_YAML_BOOL)
			ERR(p, v, "input '%s' of '%s' is a boolean, not '%s'",
			    k->str, ref, v->str);
		else if (in->type == GUTS_WF_INPUT_NUMBER &&
			 v->scalar != GUTS_YAML_NUMBER)
			ERR(p, v, "input '%s' of '%s' is a number, not '%s'",
			    k->str, ref, v->str);
	}
	for (size_t j = 0; j < t->nr_inputs; j++) {
		const struct guts_wf_input *in = &t->inputs[j];

		if (in->required && !in->default_value &&
		    !guts_yaml_get(with, in->name))
			ERR(p, uses,
			    "input '%s' is required by '%s' but not "
			    "given in 'with'",
			    in->name, ref);
	}
	if (wf_is_string(secrets))
		return; /* inherit */
	for (size_t i = 0;
	     secrets && secrets->type == GUTS_YAML_MAP && i < secrets->nr;
	     i++) {
		const struct guts_yaml_node *k = secrets->pairs[i].key;
		size_t j;

		for (j = 0; j < t->nr_secrets; j++)
			if (!strcmp(t->secrets[j].name, k->str))
				break;
		if (j == t->nr_secrets)
			ERR(p, k,
			    "'%s' is not a secret of the called workflow "
			    "'%s'",
			    k->str, ref);
	}
	for (size_t j = 0; j < t->nr_secrets; j++)
		if (t->secrets[j].required &&
		    !guts_yaml_get(secrets, t->secrets[j].name))
			ERR(p, uses,
			    "secret '%s' is required by '%s' but not "
			    "given in 'secrets'",
			    t->secrets[j].name, ref);
}

/* GitHub allows ten levels of called workflows. */
#define WF_MAX_CALL_DEPTH 10

static void check_reusable(struct wf_parser *p, const struct guts_wf_job *job,
			   const struct guts_yaml_node *uses,
			   const struct guts_yaml_node *with,
			   const struct guts_yaml_node *secrets)
{
	signed char allowed[WF_NR_SCOPES];
	struct guts_workflow *called = NULL;
	struct guts_diags d;
	char *text = NULL;
	size_t len = 0;
	int remote, rc;

	if (!valid_workflow_ref(uses->str, &remote)) {
		ERR(p, uses,
		    "'%s' is not a workflow reference: use ./path/to/file.yml "
		    "or owner/repo/path/to/file.yml@ref",
		    uses->str);
		return;
	}
	if (remote && !p->opts->syntax_only) {
		ERR(p, uses,
		    "remote reusable workflows are not supported: '%s' lives "
		    "in another repository; copy it into this repository and "
		    "call it as ./path",
		    uses->str);
		return;
	}
	/*
	 * Past the job limit, reported once, calls are checked for syntax
	 * only.  This also bounds the work when every level of calls calls
	 * the same workflows again.
	 */
	if (!p->opts->read_reusable || *p->tree_jobs > GUTS_WORKFLOW_MAX_JOBS)
		return;
	rc = p->opts->read_reusable(p->opts->read_ud, uses->str, &text, &len);
	if (rc == GUTS_ENOTFOUND)
		return;
	if (rc < 0) {
		ERR(p, uses, "cannot read the called workflow: %s",
		    guts_error_message());
		return;
	}
	if (p->nesting + 1 > WF_MAX_CALL_DEPTH) {
		ERR(p, uses, "reusable workflows nest deeper than %d levels",
		    WF_MAX_CALL_DEPTH);
		free(text);
		return;
	}
	/* What the called jobs may have: the caller's grant, or the default. */
	if (job->permissions)
		wf_perm_levels(job->permissions, allowed);
	else if (p->wf->permissions)
		wf_perm_levels(p->wf->permissions, allowed);
	else if (p->allowed)
		memcpy(allowed, p->allowed, sizeof(allowed));
	else
		wf_perm_default(p->opts, allowed);
	guts_diags_init(&d, uses->str);
	if (wf_parse_internal(&called, uses->str, text, len, p->opts, &d,
			      p->nesting + 1, allowed, p->tree_jobs) < 0) {
		for (size_t i = 0; i < d.nr; i++)
			if (d.v[i].severity == GUTS_DIAG_ERROR) {
				ERR(p, uses,
				    "the called workflow is invalid: "
				    "%s:%u:%u: %s",
				    uses->str, d.v[i].line, d.v[i].col,
				    d.v[i].message);
				break;
			}
	} else {
		check_call(p, uses, with, secrets, called);
		wf_perm_check_call(p, job->pos, uses->str, called, allowed);
	}
	guts_workflow_free(called);
	guts_diags_release(&d);
	free(text);
}

static void parse_call_job(struct wf_parser *p, const struct guts_yaml_node *n,
			   struct guts_wf_job *job)
{
	static const char *const nullable[] = {"name", "if", "uses", NULL};

	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;

		if (!wf_in_list(k->str, call_job_keys)) {
			wf_unexpected_key(p, k,
					  "a job that calls a reusable "
					  "workflow",
					  call_job_keys);
			continue;
		}
		if (wf_null_value(p, k, v, nullable))
			continue;
		if (!strcmp(k->str, "name")) {
			job->name = wf_get_str(p, v, "name", WF_CTX_JOB_BASIC);
		} else if (!strcmp(k->str, "uses")) {
			if (!wf_is_string(v) || !v->len)
				ERR(p, v, "'uses' must name a workflow file");
			else if (wf_has_expr(v->str, v->len))
				ERR(p, v,
				    "expressions are not allowed in "
				    "'uses'");
			else
				job->uses = guts_xstrndup(v->str, v->len);
		} else if (!strcmp(k->str, "with")) {
			if (wf_is_null(v))
				continue;
			if (wf_want_map(p, v, "with")) {
				wf_check_tree_exprs(p, v, WF_CTX_JOB_BASIC);
				job->with = wf_to_json(v);
			}
		} else if (!strcmp(k->str, "secrets")) {
			if (wf_is_string(v)) {
				if (strcmp(v->str, "inherit"))
					ERR(p, v,
					    "secrets must be 'inherit' or "
					    "a mapping, not '%s'",
					    v->str);
				else
					job->secrets = json_string("inherit");
			} else if (!wf_is_null(v) &&
				   wf_want_map(p, v, "secrets")) {
				wf_check_tree_exprs(p, v, WF_CTX_JOB_SECRETS);
				job->secrets = wf_to_json(v);
			}
		} else if (!strcmp(k->str, "needs")) {
			parse_needs(p, v, job);
		} else if (!strcmp(k->str, "if")) {
			parse_job_if(p, v, job);
		} else if (!strcmp(k->str, "permissions")) {
			job->permissions = wf_parse_permissions(p, v);
		} else if (!strcmp(k->str, "concurrency")) {
			wf_parse_concurrency(p, v, WF_CTX_JOB_BASIC,
					     &job->concurrency_group,
					     &job->cancel_in_progress);
		} else if (!strcmp(k->str, "strategy")) {
			parse_strategy(p, v, job);
		}
	}
	if (job->uses)
		check_reusable(p, job, guts_yaml_get(n, "uses"),
			       guts_yaml_get(n, "with"),
			       guts_yaml_get(n, "secrets"));
}

static void parse_job(struct wf_parser *p, const struct guts_yaml_node *k,
		      const struct guts_yaml_node *n, struct guts_wf_job *job)
{
	/* 'runs-on' and 'steps' have their own messages. */
	static const char *const nullable[] = {
	    "name",    "if",	"container", "environment",
	    "runs-on", "steps", "sandbox",   NULL};
	const struct guts_yaml_node *uses = guts_yaml_get(n, "uses");
	const struct guts_yaml_node *runs_on = guts_yaml_get(n, "runs-on");

	job->id = guts_xstrndup(k->str, k->len);
	job->pos = wf_pos_of(k);
	guts_strvec_init(&job->needs);
	if (uses && !runs_on && !guts_yaml_get(n, "steps")) {
		parse_call_job(p, n, job);
		return;
	}
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *kk = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;

		/* 'uses' is reported below, with what to do about it. */
		if (!strcmp(kk->str, "uses"))
			continue;
		if (!wf_in_list(kk->str, job_keys)) {
			wf_unexpected_key(p, kk, "a job", job_keys);
			continue;
		}
		if (wf_null_value(p, kk, v, nullable))
			continue;
		if (!strcmp(kk->str, "name")) {
			job->name = wf_get_str(p, v, "name", WF_CTX_JOB_BASIC);
		} else if (!strcmp(kk->str, "needs")) {
			parse_needs(p, v, job);
		} else if (!strcmp(kk->str, "permissions")) {
			job->permissions = wf_parse_permissions(p, v);
		} else if (!strcmp(kk->str, "runs-on")) {
			job->runs_on = parse_runs_on(p, v);
		} else if (!strcmp(kk->str, "environment")) {
			parse_environment(p, v, job);
		} else if (!strcmp(kk->str, "concurrency")) {
			wf_parse_concurrency(p, v, WF_CTX_JOB_BASIC,
					     &job->concurrency_group,
					     &job->cancel_in_progress);
		} else if (!strcmp(kk->str, "outputs")) {
			job->outputs = wf_string_map(p, v, "outputs",
						     WF_CTX_JOB_OUTPUTS, 0);
		} else if (!strcmp(kk->str, "env")) {
			job->env =
			    wf_string_map(p, v, "env", WF_CTX_JOB_ENV, 1);
		} else if (!strcmp(kk->str, "defaults")) {
			wf_parse_defaults(p, v, WF_CTX_JOB_DEFAULTS,
					  &job->defaults_shell,
					  &job->defaults_working_directory);
		} else if (!strcmp(kk->str, "if")) {
			parse_job_if(p, v, job);
		} else if (!strcmp(kk->str, "steps")) {
			parse_steps(p, v, job);
		} else if (!strcmp(kk->str, "timeout-minutes")) {
			job->timeout_minutes = wf_number_or_expr(
			    p, v, "timeout-minutes", WF_CTX_JOB_BASIC, 0);
		} else if (!strcmp(kk->str, "cancel-timeout-minutes")) {
			json_decref(wf_number_or_expr(p, v,
						      "cancel-timeout-minutes",
						      WF_CTX_JOB_BASIC, 0));
		} else if (!strcmp(kk->str, "strategy")) {
			parse_strategy(p, v, job);
		} else if (!strcmp(kk->str, "continue-on-error")) {
			job->continue_on_error = wf_bool_or_expr(
			    p, v, "continue-on-error", WF_CTX_JOB_BASIC);
		} else if (!strcmp(kk->str, "container")) {
			check_container(p, v, "container", 0);
			job->container = wf_to_json(v);
			if (!p->opts->syntax_only && !wf_is_null(v))
				ERR(p, kk,
				    "container jobs need Docker, which "
				    "Guts does not use; jobs run in "
				    "Guts' own sandbox on the runner");
		} else if (!strcmp(kk->str, "services")) {
			if (!wf_is_null(v) && wf_want_map(p, v, "services"))
				for (size_t j = 0; j < v->nr; j++)
					if (!wf_null_value(p, v->pairs[j].key,
							   v->pairs[j].value,
							   NULL))
						check_container(
						    p, v->pairs[j].value,
						    "a service", 1);
			job->services = wf_to_json(v);
			if (!p->opts->syntax_only && !wf_is_null(v))
				ERR(p, kk,
				    "service containers need Docker, "
				    "which Guts does not use");
		} else if (!strcmp(kk->str, "sandbox")) {
			parse_sandbox(p, v, &job->sandbox);
		} else if (!strcmp(kk->str, "snapshot")) {
			check_snapshot(p, v);
		}
	}
	if (uses)
		for (size_t i = 0; i < n->nr; i++)
			if (!strcmp(n->pairs[i].key->str, "uses"))
				ERR(p, n->pairs[i].key,
				    "a job with 'runs-on' or 'steps' runs its "
				    "own steps and cannot also call a workflow "
				    "with 'uses'");
	if (!runs_on)
		ERR(p, n, "required key 'runs-on' is missing in job '%s'",
		    job->id);
}

void wf_parse_jobs(struct wf_parser *p, struct guts_workflow *wf,
		   const struct guts_yaml_node *n)
{
	wf->jobs = guts_xcalloc(n->nr ? n->nr : 1, sizeof(*wf->jobs));
	/* The first called workflow past the limit says so. */
	if (p->nesting && *p->tree_jobs <= GUTS_WORKFLOW_MAX_JOBS &&
	    *p->tree_jobs + n->nr > GUTS_WORKFLOW_MAX_JOBS)
		ERR(p, n,
		    "the workflow may not contain more than %d jobs, counting "
		    "those of every workflow in the call tree",
		    GUTS_WORKFLOW_MAX_JOBS);
	*p->tree_jobs += n->nr;
	for (size_t i = 0; i < n->nr; i++) {
		const struct guts_yaml_node *k = n->pairs[i].key;
		const struct guts_yaml_node *v = n->pairs[i].value;
		int dup = 0;

		if (i == GUTS_WORKFLOW_MAX_JOBS) {
			/* Also keeps the checks over all jobs cheap. */
			ERR(p, k,
			    "the workflow may not contain more than %d jobs",
			    GUTS_WORKFLOW_MAX_JOBS);
			break;
		}
		if (wf_has_expr(k->str, k->len)) {
			ERR(p, k, "expressions are not allowed in job ids");
			continue;
		}
		if (!wf_check_id(p, k, "job"))
			continue;
		for (size_t j = 0; j < wf->nr_jobs; j++)
			if (!strcasecmp(wf->jobs[j].id, k->str)) {
				ERR(p, k,
				    "the job id '%s' is already used by job "
				    "'%s' (ids are case-insensitive)",
				    k->str, wf->jobs[j].id);
				dup = 1;
			}
		if (dup)
			continue;
		if (!wf_want_map(p, v, "a job"))
			continue;
		parse_job(p, k, v, &wf->jobs[wf->nr_jobs++]);
	}
}
