/* guts expr: placeholder until lib/workflow/expr lands (issue 2, in progress).
 */
#include "commands.h"

int cmd_expr(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail(1, "expr: not built yet");
}
