/*
 * The global topo values a follower of a Vitess cell watches for latent
 * poison (vitess_global.c), and the verdict it last reported on each.
 * Issue 18 scope item 5; the judgement itself is vitess_latent.h's.
 *
 * Kept: every key under GLOBAL/ that router__vitess_global_key
 * classifies (GLOBAL/keyspaces/KS/VSchema and the routing-rule keys),
 * with its bytes and mod revision, and a deleted one (its delete's
 * revision) until it comes back.  Each has a verdict: the finding's code
 * of its last judgement (ROUTER_OK: nothing latent) and whether that
 * verdict was reported.  A verdict is reported once per (key, mod
 * revision, code): judging the same value again against a new served
 * table says nothing unless the code changes; a value whose finding goes
 * away (fixed, or the served table changed so it no longer breaks it) is
 * reported once as cleared.
 *
 * Not thread-safe: the follower's latent thread owns it.
 */
#ifndef ROUTER_VITESS_GLOBAL_H
#define ROUTER_VITESS_GLOBAL_H

#include "etcd.h"
#include "vitess_latent.h"

typedef struct router__vglobal router__vglobal;

/* global_root: "/vitess/global" (copied).  ROUTER_OK or ROUTER_ENOMEM. */
int router__vglobal_create(router__vglobal **out, const char *global_root);
void router__vglobal_free(router__vglobal *g);

/* The prefix watched and read: GLOBAL_ROOT + "/". */
const char *router__vglobal_prefix(const router__vglobal *g);

/* One put (kv) or delete (kv->key) at revision rev.  Returns 1 when the
 * key is one a rebuild reads (kept; to be judged), 0 when not, or
 * ROUTER_ENOMEM. */
int router__vglobal_apply(router__vglobal *g, const router__etcd_kv *kv,
                          int deleted, int64_t rev);

/* Replace what is kept by every key under the prefix, read at one
 * revision (*header_rev); a key kept before and gone from the read is
 * kept as deleted at that revision.  Verdicts of values that did not
 * change stay.  ROUTER_OK; the read's error (nothing changes then); or
 * ROUTER_ENOMEM part-way (some values taken, none lost: read again). */
int router__vglobal_read(router__vglobal *g, router__etcd *c,
                         int64_t *header_rev, router_error *err);

/* Called for every verdict to report: f is the finding (f->code
 * ROUTER_OK: the key's earlier finding is cleared; f->key, mod_revision,
 * keyspace and message are set either way). */
typedef void (*router__vglobal_report_fn)(void *arg,
                                          const router__vitess_finding *f);

/* Judge the values (all: every kept one; else only those applied since
 * the last judgement) against served (NULL: nothing in service built
 * from the topo yet; nothing is judged and the values wait), reporting
 * each verdict that changed.  A judgement that cannot be made (the
 * served input fails on its own, out of memory) changes no verdict.
 * Returns how many kept values have a finding now. */
size_t router__vglobal_judge(router__vglobal *g,
                             const router__vitess_input *served,
                             double max_shrink, int all,
                             router__vglobal_report_fn fn, void *arg);

/* Copy the current findings (code != ROUTER_OK) into out (up to cap),
 * sorted by key.  Returns how many there are (may exceed cap). */
size_t router__vglobal_findings(const router__vglobal *g,
                                router__vitess_finding *out, size_t cap);

#endif /* ROUTER_VITESS_GLOBAL_H */
