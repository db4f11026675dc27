/*
 * The web UI: the files under web/, embedded into guts-node at build time
 * (tools/embed.c writes them into web_assets.c), served under /-/static/,
 * and index.html for the page URLs, which the single-page app routes on
 * the client (see docs/web.md).
 *
 * Every answer has a Content-Security-Policy that allows only the node's
 * own scripts, styles and connections; assets have a strong ETag (their
 * SHA-256) and Cache-Control: no-cache, so a browser revalidates each
 * with a cheap 304.
 */
#ifndef GUTS_NODE_WEB_H
#define GUTS_NODE_WEB_H

#include <stddef.h>

struct http_req;

/* One embedded file. */
struct web_asset {
	const char *path; /* "/index.html", "/js/app.js" */
	const unsigned char *data;
	size_t len;
	const char *type; /* the Content-Type */
	const char *etag; /* quoted: "\"<32 hex>\"" */
};

/* The generated table, ending with a NULL path. */
extern const struct web_asset web_assets[];

/* The URL prefix of the assets: no owner name starts with '-'. */
#define WEB_STATIC_PREFIX "/-/static"

/** The asset at @path ("/js/app.js"), or NULL. */
const struct web_asset *web_asset_find(const char *path);

/** GET /-/static/{*}: an embedded file, or 404. */
void web_static(struct http_req *r);
/** GET of a page URL: index.html (the client routes it). */
void web_page(struct http_req *r);

#endif
