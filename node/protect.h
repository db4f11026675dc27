/*
 * Branch protection: rules kept per repository under a branch pattern (the
 * glob language of guts/filter.h, so "v*" protects "v1" and "v2"),
 * the API that edits them (docs/protection.md), and the checks that pushes
 * and merges make against them.
 *
 * A branch is protected by every rule whose pattern matches it; their
 * settings combine (protect_rules_for): the union of the required
 * contexts, strict and require_pr when any rule says so, allow_force_push
 * only when every rule allows it.
 *
 * A required context is a status context ("CI / Build") or a glob of them
 * ("lint*"); a glob is satisfied when at least one context matches it and
 * every context that matches it is success.  The state of a context on a
 * commit is its latest status there.
 *
 * The functions here read the store and the repository and hold no lock of
 * their own; any thread may call them.
 */
#ifndef GUTS_NODE_PROTECT_H
#define GUTS_NODE_PROTECT_H

#include <jansson.h>
#include <stdint.h>

#include "git.h"
#include "guts/strvec.h"
#include "node.h"

#define PROTECT_PATTERN_MAX 255	 /* bytes in a branch pattern */
#define PROTECT_CONTEXT_MAX 255	 /* bytes in a required context */
#define PROTECT_MAX_CONTEXTS 100 /* required contexts in one rule */
#define PROTECT_MAX_RULES 100	 /* rules in one repository */

/* The settings of one rule, or of every rule matching a branch combined. */
struct protect_rule {
	struct guts_strvec contexts; /* required, in rule order, no repeats */
	int strict;		     /* the head must contain the base */
	int require_pr;		     /* no direct pushes */
	int allow_force_push;
};

void protect_rule_init(struct protect_rule *rule);
void protect_rule_release(struct protect_rule *rule);

/**
 * Combine every rule of @repo_id whose pattern matches @branch (a branch
 * name; a leading "refs/heads/" is dropped) into @out, which this
 * initialises (release it whatever the result).  1 when a rule matched,
 * 0 when none did (@out then allows everything: no contexts,
 * allow_force_push 1), < 0 on a store error.
 */
int protect_rules_for(struct node *n, int64_t repo_id, const char *branch,
		      struct protect_rule *out);

/**
 * Whether a pull request may merge @head_sha into @base_branch (whose tip is
 * @base_sha) of the repository @repo_id at @gitdir.  0 when it may (or no
 * rule protects the branch); GUTS_ECONFLICT (HTTP 409) when it may not,
 * with *why (malloc'd; also the thread's error message) naming each
 * required context and its state ("required status checks have not
 * passed: CI / Build: failure, lint*: missing") and, with strict, "the head
 * branch is behind main; update it first" when @base_sha is not an
 * ancestor of @head_sha.  Other errors (store, git) as they come; *why is
 * set only for GUTS_ECONFLICT.
 */
int protect_check_merge(struct node *n, int64_t repo_id, const char *gitdir,
			const char *base_branch, const char *base_sha,
			const char *head_sha, char **why);

/**
 * The push check: for each of the @nr updates, why the rules refuse it
 * (why[i], malloc'd; the caller zeroes the array and frees its strings) or
 * NULL.  Deleting a protected branch is refused; with require_pr every
 * update of it is (creating it too); a non-fast-forward update is refused
 * unless allow_force_push.  Ancestry is read from the repository at
 * @gitdir and the push's own pack (@pack_fd from @pack_at, or -1), indexed
 * under @tmp_dir when needed.  Returns how many updates are refused, or
 * < 0 on an error.
 */
int protect_check_push(struct node *n, int64_t repo_id, const char *gitdir,
		       const char *tmp_dir, const struct gitx_ref_update *u,
		       size_t nr, int pack_fd, long long pack_at, char **why);

/* ---- the pure parts (unit-tested) ---- */

/**
 * Validate a protection request body (see docs/protection.md) into @out
 * (initialised here; release it).  GUTS_EINVAL with a message that names
 * the field ("required_status_checks.contexts[1]: ...") for an unknown
 * field, a wrong type or a bad context.
 */
int protect_parse_settings(const json_t *body, struct protect_rule *out);

/** GUTS_EINVAL, with the reason, unless @pattern may be a rule's pattern. */
int protect_pattern_check(const char *pattern);

/**
 * Fold one rule into @acc, as protect_rules_for() does; @first says it is
 * the first rule matched (for allow_force_push's "every rule").
 */
void protect_rule_combine(struct protect_rule *acc,
			  const struct protect_rule *rule, int first);

/**
 * Evaluate the @required contexts against @latest, an array of
 * {"context","state"} objects (the latest status of each context on a
 * commit).  1 when every one is satisfied, else 0; either way *summary
 * (malloc'd) lists each required context and its state, comma-separated
 * ("CI / Build: failure, lint*: missing").
 */
int protect_eval_contexts(const struct guts_strvec *required,
			  const json_t *latest, char **summary);

/* ---- the API routes (api.c's table) ---- */

struct http_req;
void protect_api_get(struct http_req *r);
void protect_api_put(struct http_req *r);
void protect_api_delete(struct http_req *r);
void protect_api_list(struct http_req *r);

#endif
