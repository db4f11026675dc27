/* Status badges: GET /{owner}/{repo}/actions/{workflow}/badge.svg. */
#ifndef GUTS_NODE_BADGE_H
#define GUTS_NODE_BADGE_H

#include "http.h"

void api_badge(struct http_req *r);

/* The SVG of a badge "LABEL | STATUS" (caller frees). */
char *badge_svg(const char *label, const char *status);

/* "passing", "failing", "cancelled" or "no status" for a run conclusion. */
const char *badge_status(const char *conclusion);

#endif
