/*
 * Checks that need every job: `needs` names real jobs, the graph has no
 * cycle, and at least one job can start.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "wf_internal.h"
#include "banned.h"

struct graph {
	struct wf_parser *p;
	struct guts_workflow *wf;
	long **edges; /* edges[j][k]: index of the k-th need of job j, or -1 */
	char *color;  /* 0 white, 1 on the stack, 2 done */
	size_t *stack;
	size_t *via; /* via[d]: which need of stack[d] led to stack[d+1] */
	size_t depth;
};

static long job_index(const struct guts_workflow *wf, const char *id)
{
	for (size_t i = 0; i < wf->nr_jobs; i++)
		if (!strcasecmp(wf->jobs[i].id, id))
			return (long)i;
	return -1;
}

static void report_cycle(struct graph *g, size_t from_depth, size_t u, size_t k)
{
	/* Every edge from stack[from_depth] round to the back edge u->k. */
	for (size_t d = from_depth; d < g->depth; d++) {
		const struct guts_wf_job *a = &g->wf->jobs[g->stack[d]];
		size_t e = d + 1 < g->depth ? g->via[d] : k;
		const struct guts_wf_job *b =
		    &g->wf->jobs[d + 1 < g->depth ? g->stack[d + 1]
						  : (size_t)g->edges[u][k]];

		guts_diag_error(
		    g->p->d, a->needs_pos[e].line, a->needs_pos[e].col,
		    "job '%s' needs job '%s', which creates a cycle "
		    "in the dependency graph",
		    a->id, b->id);
	}
}

static void visit(struct graph *g, size_t u)
{
	const struct guts_wf_job *job = &g->wf->jobs[u];

	g->color[u] = 1;
	g->stack[g->depth++] = u;
	for (size_t k = 0; k < job->needs.nr; k++) {
		long v = g->edges[u][k];

		if (v < 0)
			continue;
		if (g->color[v] == 1) {
			size_t d = 0;

			while (g->stack[d] != (size_t)v)
				d++;
			report_cycle(g, d, u, k);
		} else if (g->color[v] == 0) {
			g->via[g->depth - 1] = k;
			visit(g, (size_t)v);
		}
	}
	g->depth--;
	g->color[u] = 2;
}

void wf_check_graph(struct wf_parser *p, struct guts_workflow *wf,
		    const struct guts_yaml_node *jobs)
{
	struct graph g = {p, wf, NULL, NULL, NULL, NULL, 0};
	size_t roots = 0;

	if (!wf->nr_jobs) {
		if (jobs && !jobs->nr)
			guts_diag_error(p->d, jobs->line, jobs->col,
					"the workflow must have at least one "
					"job");
		return;
	}
	g.edges = guts_xcalloc(wf->nr_jobs, sizeof(*g.edges));
	for (size_t i = 0; i < wf->nr_jobs; i++) {
		const struct guts_wf_job *job = &wf->jobs[i];

		g.edges[i] = guts_xcalloc(job->needs.nr ? job->needs.nr : 1,
					  sizeof(**g.edges));
		if (!job->needs.nr)
			roots++;
		for (size_t k = 0; k < job->needs.nr; k++) {
			long v = job_index(wf, job->needs.v[k]);

			g.edges[i][k] = v;
			if (v < 0)
				guts_diag_error(
				    p->d, job->needs_pos[k].line,
				    job->needs_pos[k].col,
				    "job '%s' needs job '%s', which does "
				    "not exist",
				    job->id, job->needs.v[k]);
			else if ((size_t)v == i) {
				guts_diag_error(p->d, job->needs_pos[k].line,
						job->needs_pos[k].col,
						"job '%s' needs itself",
						job->id);
				/* Said once; not again as a cycle. */
				g.edges[i][k] = -1;
			}
		}
	}
	if (!roots)
		guts_diag_error(p->d, wf->jobs[0].pos.line, wf->jobs[0].pos.col,
				"the workflow must have at least one job "
				"with no 'needs', or nothing can start");
	g.color = guts_xcalloc(wf->nr_jobs, 1);
	g.stack = guts_xcalloc(wf->nr_jobs, sizeof(*g.stack));
	g.via = guts_xcalloc(wf->nr_jobs, sizeof(*g.via));
	for (size_t i = 0; i < wf->nr_jobs; i++)
		if (!g.color[i])
			visit(&g, i);
	for (size_t i = 0; i < wf->nr_jobs; i++)
		free(g.edges[i]);
	free(g.edges);
	free(g.color);
	free(g.stack);
	free(g.via);
}
