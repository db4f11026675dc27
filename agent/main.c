/*
 * guts-sandbox-agent: the per-job sandbox's agent as a program of its own.
 * It links libc and the few parts of libguts the agent uses, so starting
 * it (once per job, inside bubblewrap) costs less than starting the whole
 * `guts` binary with its libraries.  guts_sandbox_open() uses it when it
 * sits beside the running program; `guts __sandbox-agent` does the same.
 */
#include <stdio.h>
#include <string.h>

#include "guts/sandbox.h"
#include "banned.h"

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], GUTS_SANDBOX_AGENT_ARG))
		return guts_sandbox_agent_main(argc, argv);
	fprintf(stderr, "guts-sandbox-agent: started by guts for each job's "
			"sandbox; not a command of its own\n");
	return 2;
}
