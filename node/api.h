/* Shared pieces of the API handlers (api.c, api_runner.c, api_git.c). */
#ifndef GUTS_NODE_API_H
#define GUTS_NODE_API_H

#include <jansson.h>
#include <stdint.h>

#include "git.h"
#include "http.h"

const char *api_str(const json_t *o, const char *k);
int64_t api_int(const json_t *o, const char *k);

/* The time (integer ms) in @k of a store row as the API's string, or null. */
json_t *api_time(const json_t *o, const char *k);
/* "OWNER/NAME" of a repos row (caller frees). */
char *api_repo_key(const json_t *repo);

json_t *api_repo_json(struct node *n, const json_t *row);
/** A job row as the REST API shows it, steps included. */
json_t *api_job_json(struct node *n, const json_t *row);
json_t *api_run_json(const json_t *row, const char *repo_key);

/*
 * The repository @owner/@name if the caller may use it with @need (read:
 * public, or the owner's, or an admin's; write and up: the owner's or an
 * admin's, with a token of that scope).  Otherwise answers 400/401/403/404
 * and returns 0.
 */
int api_repo(struct http_req *r, const char *owner, const char *name,
	     enum scope need, json_t **repo);

/*
 * The workflow @which of @repo: an id, a file name (ci.yml), a path or a
 * name.  Answers 404 (or the store's error) and returns 0 when there is
 * none.
 */
int api_find_workflow(struct http_req *r, const json_t *repo, const char *which,
		      json_t **wf);

/* Make a user token; *token is the secret (shown once). */
int api_make_token(struct node *n, int64_t user_id, const char *scope,
		   const char *name, char **token, int64_t *id);

/* The runner protocol (api_runner.c). */
void api_runners_list(struct http_req *r);
void api_runners_regtoken(struct http_req *r);
void api_runners_register(struct http_req *r);
void api_runners_next(struct http_req *r);
void api_runners_heartbeat(struct http_req *r);
void api_runners_logs(struct http_req *r);
void api_runners_step(struct http_req *r);
void api_runners_complete(struct http_req *r);

/* An embedded runner's credentials, made directly in the store. */
int api_runner_create(struct node *n, const char *name, const json_t *labels,
		      int embedded, int64_t *id, char **token);

#endif
