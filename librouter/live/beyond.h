/*
 * Internal interface of beyond.c (fences and quarantine, operator
 * invariants, shadow evaluation) for the rest of the live router.
 */
#ifndef ROUTER_BEYOND_H
#define ROUTER_BEYOND_H

#include "core/internal.h"
#include "router.h"

typedef struct router__invariant router__invariant;

/* ---- fences and quarantine (r->lock held for all of them) ---- */

/* Fence content hash (fencing on, not already fenced: then only
 * refreshed).  Never fails (a full list forgets its oldest). */
void router__fence(router *r, uint64_t hash, uint64_t version,
                   router_fence_origin origin, int code);
/* The fence on content hash, or NULL. */
const router_fence *router__fenced(const router *r, uint64_t hash);
/* Drop the pending table (superseded, or discarded by the operator: then
 * its content is fenced), with its DISCARD event. */
void router__pending_drop(router *r, int by_operator);
/* Refusal codes that put a table in quarantine (when asked for)... */
int router__quarantinable(int rc);
/* ...and those that judge the content, so fence it. */
int router__judges_content(int rc);

/* Parse one invariant (router.h's text forms).  ROUTER_OK, ROUTER_EINVAL
 * (message: what was expected), ROUTER_ENOMEM. */
int router__invariant_parse(const char *spec, const router_allocator *a,
                            router__invariant **out, router_error *err);
void router__invariant_free(router__invariant *inv, const router_allocator *a);
/* Canonical text ("user shards >= 4"), valid while inv lives. */
const char *router__invariant_text(const router__invariant *inv);
/* ROUTER_OK or ROUTER_EINVARIANT (err names the invariant and the
 * culprit).  cur may be NULL. */
int router__invariant_check(const router__invariant *inv,
                            const router_table *cur, const router_table *next,
                            router_error *err);

/* A deep copy of sample keys in one allocation (free with a). */
int router__sample_copy(const router_sample_key *keys, size_t n,
                        const router_allocator *a, router_sample_key **out,
                        router_error *err);

/* router_shadow_evaluate with an allocator. */
int router__shadow_run(const router_table *from, const router_table *to,
                       const router_sample_key *keys, size_t n,
                       const router_allocator *a, router_shadow_verdict **out,
                       router_error *err);
/* The first keyspace crossing a threshold, or NULL. */
const router_shadow_stat *
router__shadow_over(const router_shadow_verdict *v, double max_moved,
                    double max_unroutable);

/* A copy of verdict src in one allocation from a (NULL: malloc), for
 * router_event_copy; free it with router_shadow_free.  ROUTER_OK or
 * ROUTER_ENOMEM (*out NULL). */
int router__shadow_copy(const router_shadow_verdict *src,
                        const router_allocator *a,
                        router_shadow_verdict **out);

#endif /* ROUTER_BEYOND_H */
