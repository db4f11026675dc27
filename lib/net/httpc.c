/* The libcurl client behind include/guts/httpc.h. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/httpc.h"

#define RESP_CAP (256u << 20)
#define HEADERS_CAP (256u << 10)

void guts_http_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int guts_http_init(struct guts_http *h, const char *base_url, const char *token)
{
	size_t n = strlen(base_url);

	memset(h, 0, sizeof(*h));
	while (n && base_url[n - 1] == '/')
		n--;
	h->curl = curl_easy_init();
	if (!h->curl)
		return guts_error(GUTS_EIO, "cannot start libcurl");
	h->base = guts_xstrndup(base_url, n);
	h->token = token && *token ? guts_xstrdup(token) : NULL;
	return 0;
}

void guts_http_release(struct guts_http *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->base);
	free(h->token);
	memset(h, 0, sizeof(*h));
}

void guts_http_resp_init(struct guts_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	guts_buf_init(&r->body, RESP_CAP);
	guts_buf_init(&r->headers, HEADERS_CAP);
}

void guts_http_resp_release(struct guts_http_resp *r)
{
	guts_buf_release(&r->body);
	guts_buf_release(&r->headers);
	free(r->content_type);
	free(r->link);
	memset(r, 0, sizeof(*r));
}

struct sink {
	struct guts_http_resp *r;
	const struct guts_http_opts *o;
};

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n;

	if (s->o && s->o->on_data)
		return s->o->on_data(s->o->ud, p, len) ? 0 : len;
	return guts_buf_add(&s->r->body, p, len) ? 0 : len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
	const struct guts_http_opts *o = ud;
	size_t got = o->on_read(o->read_ud, buf, size * n);

	return got == GUTS_READ_ABORT ? CURL_READFUNC_ABORT : got;
}

static char *header_value(const char *line, size_t len, const char *name)
{
	size_t nl = strlen(name);

	if (len <= nl + 1 || strncasecmp(line, name, nl) || line[nl] != ':')
		return NULL;
	line += nl + 1;
	len -= nl + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
		       line[len - 1] == ' '))
		len--;
	return guts_xstrndup(line, len);
}

char *guts_http_resp_header(const struct guts_http_resp *r, const char *name)
{
	const char *p = r->headers.data, *end = p + r->headers.len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);
		char *v = header_value(p, len, name);

		if (v)
			return v;
		p += len;
	}
	return NULL;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct guts_http_resp *r = ud;
	size_t len = size * n;
	char *v;

	/* A new status line (after a redirect or 100) starts over. */
	if (len > 5 && !strncmp(p, "HTTP/", 5)) {
		free(r->content_type);
		free(r->link);
		r->content_type = r->link = NULL;
		guts_buf_reset(&r->headers);
		return len;
	}
	/* Past the cap the rest is dropped: a header too many is no error. */
	guts_buf_add(&r->headers, p, len);
	if ((v = header_value(p, len, "Content-Type"))) {
		free(r->content_type);
		r->content_type = v;
	} else if ((v = header_value(p, len, "Link"))) {
		free(r->link);
		r->link = v;
	}
	return len;
}

int guts_http_request(struct guts_http *h, const char *method, const char *path,
		      const struct guts_http_opts *opts,
		      struct guts_http_resp *r)
{
	CURL *c = h->curl;
	struct curl_slist *hdrs = NULL;
	struct sink sink = {r, opts};
	char *url = guts_xasprintf("%s%s", h->base, path);
	char *auth = NULL, *ctype = NULL;
	CURLcode rc;

	curl_easy_reset(c);
	h->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
			 opts && opts->timeout_ms ? opts->timeout_ms : 60000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (h->token) {
		auth = guts_xasprintf("Authorization: Bearer %s", h->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (opts && opts->headers)
		for (const char *const *p = opts->headers; *p; p++)
			hdrs = curl_slist_append(hdrs, *p);
	if (opts && opts->on_read) {
		ctype = guts_xasprintf("Content-Type: %s",
				       opts->content_type
					   ? opts->content_type
					   : "application/octet-stream");
		hdrs = curl_slist_append(hdrs, ctype);
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, (void *)opts);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)opts->upload_len);
	} else if (opts && opts->body) {
		ctype = guts_xasprintf("Content-Type: %s",
				       opts->content_type ? opts->content_type
							  : "application/json");
		hdrs = curl_slist_append(hdrs, ctype);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)opts->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, opts->body);
	}
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") ||
		 (opts && (opts->body || opts->on_read)))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	guts_buf_reset(&r->body);
	guts_buf_reset(&r->headers);
	r->status = 0;
	h->os_errno = 0;
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	} else {
		long e = 0;

		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &e);
		h->os_errno = (int)e;
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	free(auth);
	free(ctype);
	if (rc != CURLE_OK) {
		int ret = guts_error(GUTS_EIO, "%s %s: %s", method, url,
				     h->errbuf[0] ? h->errbuf
						  : curl_easy_strerror(rc));

		free(url);
		return ret;
	}
	free(url);
	return 0;
}

int guts_http_json(struct guts_http *h, const char *method, const char *path,
		   const json_t *body, long timeout_ms, long *status,
		   json_t **out)
{
	struct guts_http_opts o = {0};
	struct guts_http_resp r;
	char *text = NULL;
	int ret;

	*out = NULL;
	if (body) {
		text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
		o.body = text;
		o.body_len = strlen(text);
	}
	o.timeout_ms = timeout_ms;
	guts_http_resp_init(&r);
	ret = guts_http_request(h, method, path, &o, &r);
	free(text);
	if (ret == 0) {
		*status = r.status;
		if (r.body.len && r.content_type &&
		    !strncasecmp(r.content_type, "application/json", 16)) {
			json_error_t e;

			*out = json_loadb(r.body.data, r.body.len,
					  JSON_DECODE_ANY, &e);
			if (!*out && r.status / 100 == 2)
				ret = guts_error(GUTS_EIO,
						 "%s %s: bad JSON answer: %s",
						 method, path, e.text);
		}
	}
	guts_http_resp_release(&r);
	return ret;
}

const char *guts_http_error_text(struct guts_http *h, long status,
				 const json_t *answer)
{
	const char *m = json_string_value(
	    json_object_get(json_object_get(answer, "error"), "message"));

	if (m)
		snprintf(h->errbuf, sizeof(h->errbuf), "%s", m);
	else
		snprintf(h->errbuf, sizeof(h->errbuf), "HTTP %ld", status);
	return h->errbuf;
}

char *guts_http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = guts_xmalloc(3 * n + 1), *p = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return out;
}
