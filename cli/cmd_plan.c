/* guts workflow plan: placeholder until lib/workflow/plan lands (issue 2). */
#include "commands.h"

int cmd_workflow_plan(int argc, char **argv);

int cmd_workflow_plan(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail(1, "workflow plan: not built yet");
}
