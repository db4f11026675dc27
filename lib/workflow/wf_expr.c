/*
 * Expression checks for the workflow validator.  Temporary: until the
 * expression engine lands, only the ${{ }} delimiters are checked.
 */
#include <string.h>

#include "wf_internal.h"
#include "banned.h"

int wf_has_expr(const char *s, size_t len)
{
	return memmem(s, len, "${{", 3) != NULL;
}

void wf_check_expr(struct wf_parser *p, const struct guts_yaml_node *n,
		   unsigned ctx, int condition)
{
	(void)condition;
	if (!n || n->type != GUTS_YAML_SCALAR)
		return;
	if ((ctx & WF_NO_EXPR) && wf_has_expr(n->str, n->len))
		guts_diag_error(p->d, n->line, n->col,
				"expressions are not allowed here");
}

void wf_check_injection(struct wf_parser *p, const struct guts_yaml_node *n)
{
	(void)p;
	(void)n;
}
