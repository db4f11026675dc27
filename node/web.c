/*
 * Serving the embedded web UI (web.h).
 */
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "guts/alloc.h"
#include "http.h"
#include "web.h"
#include "banned.h"

static const char csp[] =
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'";

const struct web_asset *web_asset_find(const char *path)
{
	for (const struct web_asset *a = web_assets; a->path; a++)
		if (!strcmp(a->path, path))
			return a;
	return NULL;
}

/* Does If-None-Match name @etag (or say "*")? */
static int etag_matches(const char *inm, const char *etag)
{
	size_t len = strlen(etag);
	const char *p = inm;

	if (!inm)
		return 0;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		/* A weak validator compares equal too (RFC 9110 13.1.2). */
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (!strncmp(p, etag, len) &&
		    (p[len] == '\0' || p[len] == ',' || p[len] == ' '))
			return 1;
		p = strchr(p, ',');
		if (!p)
			break;
	}
	return 0;
}

static void serve(struct http_req *r, const struct web_asset *a)
{
	struct MHD_Response *resp;
	int status = 200;

	if (etag_matches(http_header(r, "If-None-Match"), a->etag)) {
		status = 304;
		resp = MHD_create_response_from_buffer(0, NULL,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_buffer(a->len, (void *)a->data,
						       MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, "Content-Type", a->type);
	}
	MHD_add_response_header(resp, "ETag", a->etag);
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	http_respond(r, status, resp);
}

void web_static(struct http_req *r)
{
	const struct web_asset *a;
	const char *rel = r->params[r->nparams - 1];
	char *path;

	path = guts_xasprintf("/%s", rel);
	a = web_asset_find(path);
	free(path);
	if (!a) {
		http_error(r, "not_found", "no file %s", r->path);
		return;
	}
	serve(r, a);
}

void web_page(struct http_req *r)
{
	const struct web_asset *a;

	/* The page patterns start with {}: keep /api/ answering JSON. */
	if (!strncmp(r->path, "/api/", 5) || !strcmp(r->path, "/api")) {
		http_error(r, "not_found", "no route for %s %s", r->method,
			   r->path);
		return;
	}
	a = web_asset_find("/index.html");
	if (!a) {
		http_error(r, "not_found", "this guts-node has no web UI");
		return;
	}
	serve(r, a);
}
