/*
 * Fuzz target: the action.yml loader.  Oracles on what it returns: the kind
 * it reports has its fields (a node action its main, a docker action its
 * image), every step has an id, and input ids are unique ignoring case, so
 * each input is what guts_action_input() finds by its name.
 *
 *   make fuzz
 *   build-fuzz/fuzz/fuzz_action -max_len=65536 CORPUS_DIR
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "guts/action.h"
#include "guts/diag.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct guts_action *a)
{
	if (!a->path || !a->using_raw)
		abort();
	if (a->using == GUTS_ACTION_NODE && !a->main)
		abort();
	if (a->using == GUTS_ACTION_DOCKER && !a->image)
		abort();
	if (a->using != GUTS_ACTION_COMPOSITE && a->nr_steps)
		abort();
	for (size_t i = 0; i < a->nr_steps; i++)
		if (!a->steps[i].id || (!a->steps[i].run && !a->steps[i].uses))
			abort();
	for (size_t i = 0; i < a->nr_inputs; i++)
		if (guts_action_input(a, a->inputs[i].name) != &a->inputs[i])
			abort();
	for (size_t i = 0; i < a->nr_outputs; i++)
		if (a->using == GUTS_ACTION_COMPOSITE && !a->outputs[i].value)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guts_action *a = NULL;
	struct guts_diags d;

	guts_diags_init(&d, "action.yml");
	if (guts_action_parse(&a, "action.yml", (const char *)data, size, &d) ==
	    0)
		check(a);
	else if (a || !d.errors)
		abort(); /* failure leaves *out alone and says why */
	guts_action_free(a);
	guts_diags_release(&d);
	return 0;
}
