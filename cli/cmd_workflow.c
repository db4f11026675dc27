/* guts workflow: placeholder until the workflow model lands (issue 2, in
 * progress). */
#include "commands.h"

int cmd_workflow(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail(1, "workflow: not built yet");
}
