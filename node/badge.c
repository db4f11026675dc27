/*
 * Status badges for READMEs:
 *
 *   GET /{owner}/{repo}/actions/{workflow}/badge.svg?branch=B&event=E
 *
 * An SVG in the usual two-part shape: the workflow's name, then the
 * conclusion of its latest completed run on the branch (default: the
 * repository's default branch), optionally of one event: "passing",
 * "failing", "cancelled" or "no status".  {workflow} is what the API takes
 * (an id, a file name such as ci.yml, or the name).  Private repositories
 * answer 404 without a token that may read them, as the API does.
 *
 * Badges are fetched by image proxies and browsers again and again: the
 * answer carries an ETag (a hash of the SVG; If-None-Match gets 304) and
 * a short max-age, so a new conclusion shows within a minute.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "badge.h"
#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/hash.h"
#include "banned.h"

/* Roughly Verdana 11px: the width of @s in pixels (ASCII; others wide). */
static int text_width(const char *s)
{
	int w = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xc0) == 0x80)
			continue; /* UTF-8 continuation: counted once */
		if (strchr("il.,:;|!'", *p))
			w += 3;
		else if (strchr("fjrtI ()[]-", *p))
			w += 4;
		else if (strchr("mwMW", *p))
			w += 10;
		else if (*p >= 'A' && *p <= 'Z')
			w += 8;
		else
			w += 7;
	}
	return w;
}

static void add_escaped(struct guts_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			guts_buf_adds(b, "&amp;");
			break;
		case '<':
			guts_buf_adds(b, "&lt;");
			break;
		case '>':
			guts_buf_adds(b, "&gt;");
			break;
		case '"':
			guts_buf_adds(b, "&quot;");
			break;
		default:
			if ((unsigned char)*s >= 0x20)
				guts_buf_addch(b, *s);
		}
	}
}

char *badge_svg(const char *label, const char *status)
{
	const char *color = !strcmp(status, "passing")	 ? "#2da44e"
			    : !strcmp(status, "failing") ? "#cf222e"
							 : "#6e7781";
	int lw = text_width(label) + 12, rw = text_width(status) + 12;
	struct guts_buf b;

	guts_buf_init(&b, 0);
	guts_buf_addf(&b,
		      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		      "height=\"20\" role=\"img\" aria-label=\"",
		      lw + rw);
	add_escaped(&b, label);
	guts_buf_adds(&b, ": ");
	add_escaped(&b, status);
	guts_buf_adds(&b, "\"><title>");
	add_escaped(&b, label);
	guts_buf_adds(&b, ": ");
	add_escaped(&b, status);
	guts_buf_addf(
	    &b,
	    "</title><rect width=\"%d\" height=\"20\" rx=\"3\" "
	    "fill=\"#555\"/><rect x=\"%d\" width=\"%d\" height=\"20\" "
	    "rx=\"3\" fill=\"%s\"/><rect x=\"%d\" width=\"4\" "
	    "height=\"20\" fill=\"%s\"/><g fill=\"#fff\" "
	    "text-anchor=\"middle\" font-family=\"Verdana,Geneva,"
	    "DejaVu Sans,sans-serif\" font-size=\"11\"><text x=\"%d\" "
	    "y=\"14\">",
	    lw + rw, lw, rw, color, lw, color, lw / 2);
	add_escaped(&b, label);
	guts_buf_addf(&b, "</text><text x=\"%d\" y=\"14\">", lw + rw / 2);
	add_escaped(&b, status);
	guts_buf_adds(&b, "</text></g></svg>\n");
	return guts_buf_detach(&b, NULL);
}

const char *badge_status(const char *conclusion)
{
	if (!conclusion)
		return "no status";
	if (!strcmp(conclusion, "success"))
		return "passing";
	if (!strcmp(conclusion, "cancelled"))
		return "cancelled";
	if (!strcmp(conclusion, "skipped"))
		return "no status";
	return "failing";
}

void api_badge(struct http_req *r)
{
	const char *which = r->params[2], *branch = http_query(r, "branch"),
		   *event = http_query(r, "event"), *inm;
	json_t *repo = NULL, *wf = NULL, *run = NULL;
	char *ref, *svg, *etag, hex[GUTS_SHA256_HEX_LEN + 1];
	uint8_t digest[GUTS_SHA256_LEN];
	int ret;

	if (!api_repo(r, r->params[0], r->params[1], SCOPE_READ, &repo))
		return;
	if (!api_find_workflow(r, repo, which, &wf)) {
		json_decref(repo);
		return;
	}
	ref = guts_xasprintf(
	    "refs/heads/%s",
	    branch && *branch ? branch : api_str(repo, "default_branch"));
	ret = store_query_one(
	    r->node->st,
	    "SELECT conclusion FROM runs WHERE workflow_id = $1 AND ref = $2 "
	    "AND status = 'completed' AND ($3 IS NULL OR event = $3) ORDER BY "
	    "id DESC LIMIT 1",
	    STORE_ARGS(SI(api_int(wf, "id")), SS(ref), SS(event)), &run);
	free(ref);
	if (ret < 0 && ret != GUTS_ENOTFOUND) {
		http_fail(r, ret);
		goto out;
	}
	svg = badge_svg(api_str(wf, "name"),
			badge_status(run ? api_str(run, "conclusion") : NULL));
	guts_sha256_buf(digest, svg, strlen(svg));
	guts_sha256_hex(hex, digest);
	etag = guts_xasprintf("\"%.32s\"", hex);
	inm = http_header(r, "If-None-Match");
	{
		/* Private badges only in private caches. */
		const char *headers[] = {
		    "ETag", etag, "Cache-Control",
		    strcmp(api_str(repo, "visibility"), "public")
			? "private, max-age=60, must-revalidate"
			: "public, max-age=60, must-revalidate",
		    /* Defence in depth: an SVG opened on its own runs
		     * nothing. */
		    "Content-Security-Policy",
		    "default-src 'none'; style-src 'unsafe-inline'", NULL};

		if (inm && strstr(inm, etag))
			http_text(r, 304, NULL, "", 0, headers);
		else
			http_text(r, 200, "image/svg+xml", svg, strlen(svg),
				  headers);
	}
	free(etag);
	free(svg);
out:
	json_decref(run);
	json_decref(wf);
	json_decref(repo);
}
