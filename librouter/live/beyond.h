/*
 * Internal interface of beyond.c (operator invariants and shadow
 * evaluation) for router.c.
 */
#ifndef ROUTER_BEYOND_H
#define ROUTER_BEYOND_H

#include "core/internal.h"

typedef struct router__invariant router__invariant;

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
