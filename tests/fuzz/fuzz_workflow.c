/*
 * Fuzz target: the workflow loader with validation, then everything that
 * reads its model: the plan (stages, matrix expansion, evaluation at plan
 * time), trigger matching for a few fixed events, and the model as JSON.
 * Each input is loaded twice, with the default options and syntax-only.
 * Every reusable workflow it calls is the input itself, so calls nest and
 * fan out as far as the validator's budgets let them.
 *
 *   make fuzz
 *   build-fuzz/fuzz/fuzz_workflow -max_len=65536 CORPUS_DIR
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guts/diag.h"
#include "guts/plan.h"
#include "guts/trigger.h"
#include "guts/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void match(const struct guts_workflow *wf, const struct guts_event *ev)
{
	struct guts_trigger_result r = GUTS_TRIGGER_RESULT_INIT;

	if (guts_trigger_match(&r, wf, ev) == 0 &&
	    (!r.reason || !json_is_object(r.inputs)))
		abort(); /* the contract: a reason and an inputs object */
	guts_trigger_result_release(&r);
}

static void exercise(const struct guts_workflow *wf)
{
	static const char *const paths[] = {"src/main.c", "README.md",
					    "docs/a/b.md"};
	struct guts_event push = {0}, pr = {0}, dispatch = {0};
	struct guts_plan *plan = NULL;
	json_t *ctx, *j;

	push.name = "push";
	push.ref = "refs/heads/main";
	push.before = "1111111111111111111111111111111111111111";
	push.after = "2222222222222222222222222222222222222222";
	push.paths = paths;
	push.nr_paths = 3;
	push.have_paths = 1;
	match(wf, &push);
	push.ref = "refs/tags/v1.0";
	match(wf, &push);

	pr.name = "pull_request";
	pr.action = "synchronize";
	pr.base_ref = "main";
	pr.head_ref = "feature/x";
	pr.paths = paths;
	pr.nr_paths = 3;
	pr.have_paths = 1;
	match(wf, &pr);

	dispatch.name = "workflow_dispatch";
	match(wf, &dispatch);

	ctx = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{}}", "github",
			"event_name", "push", "ref", "refs/heads/main",
			"ref_name", "main", "ref_type", "branch", "inputs");
	if (guts_plan_build(&plan, wf, ctx) == 0) {
		j = guts_plan_to_json(plan);
		json_decref(j);
		guts_plan_free(plan);
	}
	json_decref(ctx);
	plan = NULL;
	if (guts_plan_build(&plan, wf, NULL) == 0)
		guts_plan_free(plan);

	j = guts_workflow_to_json(wf);
	json_decref(j);
}

struct input {
	const uint8_t *data;
	size_t size;
};

static int read_self(void *ud, const char *ref, char **text, size_t *len)
{
	const struct input *in = ud;

	(void)ref;
	*text = malloc(in->size + 1);
	if (!*text)
		abort();
	memcpy(*text, in->data, in->size);
	(*text)[in->size] = '\0';
	*len = in->size;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};

	for (int syntax_only = 0; syntax_only < 2; syntax_only++) {
		struct guts_workflow_opts opts = {0};
		struct guts_workflow *wf = NULL;
		struct guts_diags d;

		opts.syntax_only = syntax_only;
		opts.warn_injection = 1;
		opts.read_reusable = read_self;
		opts.read_ud = &in;
		guts_diags_init(&d, "fuzz.yml");
		if (guts_workflow_parse(&wf, "fuzz.yml", (const char *)data,
					size, &opts, &d) == 0)
			exercise(wf);
		guts_workflow_free(wf);
		guts_diags_release(&d);
	}
	return 0;
}
