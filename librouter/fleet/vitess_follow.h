/*
 * The state a follower of a Vitess cell keeps (vitess_follow.c): the
 * cell's current SrvVSchema and SrvKeyspace values as etcd holds them,
 * updated event by event, and the routing table built from them.  The
 * watch, the publish, the status and the retries are the follower's
 * (etcd.c); this file knows Vitess's keys.
 *
 * Keys (TOPO.md section 1; vitess_read.h):
 *   GLOBAL_ROOT/cells/CELL/CellInfo          read once, for CELL_ROOT
 *   CELL_ROOT/SrvVSchema                      kept
 *   CELL_ROOT/keyspaces/KS/SrvKeyspace        kept, one per keyspace
 * Every other key under CELL_ROOT/ (tablets, ShardReplication) is seen by
 * the follower's watch, which covers the prefix CELL_ROOT/, and ignored.
 *
 * Versions.  A table's version is the largest mod revision among the kept
 * values (router__vitess_build), raised to the revision of the latest
 * delete of a kept key this follower applied: a delete is a change, and
 * the version of every change must rise (router_publish refuses one that
 * does not).  Two followers that saw the same history report the same
 * version; a follower that starts after a delete of a key that never
 * came back reports the largest mod revision, lower, for the same
 * content.
 *
 * Not thread-safe: one follower's watcher thread owns it.
 */
#ifndef ROUTER_VITESS_FOLLOW_H
#define ROUTER_VITESS_FOLLOW_H

#include "etcd.h"
#include "vitess_build.h"

typedef struct router__vfollow router__vfollow;

/* cell: non-empty, no '/'.  topo_root NULL: "/vitess/global".
 * tablet_type NULL: "primary" ("replica", "rdonly").  cell_endpoints NULL:
 * the CellInfo's server_address.  ROUTER_OK, ROUTER_EINVAL (the option
 * named in culprit), ROUTER_ENOMEM. */
int router__vfollow_create(router__vfollow **out, const char *cell,
                           const char *topo_root, const char *tablet_type,
                           const char *cell_endpoints, router_error *err);
void router__vfollow_free(router__vfollow *v);

/* GLOBAL_ROOT/cells/CELL/CellInfo: what a follower names before it knows
 * the cell's root. */
const char *router__vfollow_cellinfo_key(const router__vfollow *v);
const char *router__vfollow_cell(const router__vfollow *v);
const char *router__vfollow_tablet_name(const router__vfollow *v);

/* Read the CellInfo through c (the global topo) and learn the cell's
 * root, the prefix to watch and the endpoints of the cell's etcd
 * (cell_endpoints, else the CellInfo's server_address dialled over
 * https:// when tls is nonzero, else global_endpoints).  ROUTER_OK or
 * vitess_read.h's errors.  Until it succeeds, router__vfollow_prefix and
 * _endpoints return NULL. */
int router__vfollow_locate(router__vfollow *v, router__etcd *c,
                           const char *global_endpoints, int tls,
                           router_error *err);
const char *router__vfollow_prefix(const router__vfollow *v);
const char *router__vfollow_endpoints(const router__vfollow *v);

/* Replace the kept values with every key under the prefix, read at one
 * revision (*header_rev).  Marks the state changed (pending) only when a
 * kept value differs from before.  ROUTER_OK, or the read's error
 * (nothing kept changes then). */
int router__vfollow_read(router__vfollow *v, router__etcd *c,
                         int64_t *header_rev, router_error *err);

/* One watch event at revision rev (a put of kv, or a delete of kv->key).
 * Returns 1 when it changed a kept value (pending from then on), 0 when
 * the key is not one kept, or ROUTER_ENOMEM (the state is then unknown:
 * read it again). */
int router__vfollow_apply(router__vfollow *v, const router__etcd_kv *kv,
                          int deleted, int64_t rev);

/* 1 while a change was applied and not built yet. */
int router__vfollow_pending(const router__vfollow *v);

/* What was applied is not to be built now (a read of a store behind the
 * last revision seen): no longer pending; the next change builds it. */
void router__vfollow_hold(router__vfollow *v);

/* Build the table of the kept values into *t (caller-owned; allocator a,
 * NULL: malloc) and clear pending.  ROUTER_OK, ROUTER_ENOTFOUND (no
 * SrvVSchema: deleted, culprit its key, or never there), or
 * router__vitess_build's errors (naming the key and the keyspace).  The
 * record of what changed since the last build (router__vfollow_blame) is
 * kept until router__vfollow_built. */
int router__vfollow_build(router__vfollow *v, const router_allocator *a,
                          router_table **t, router_error *err);

/* Put what changed since the last build ("KEY (keyspace KS) deleted at
 * revision R") in front of e's message, and its first key in e's culprit
 * when e names none: a refusal by a guard that names only a keyspace
 * still says which topo key brought it. */
void router__vfollow_blame(const router__vfollow *v, router_error *e);

/* The verdict on the last build is recorded: forget what changed. */
void router__vfollow_built(router__vfollow *v);

/* The global root ("/vitess/global"), as given or defaulted. */
const char *router__vfollow_topo_root(const router__vfollow *v);

/* A copy of the kept values as a build input (the raw bytes, their
 * revisions, the tablet type), owning everything it points to: taken when
 * a built table is accepted into service, so that the latent watch
 * (vitess_global.h) judges global values against what is served, on
 * another thread, while the kept values move on.  Immutable once made;
 * any thread may read it. */
typedef struct router__vitess_served router__vitess_served;
/* ROUTER_OK or ROUTER_ENOMEM (*out NULL). */
int router__vfollow_served(const router__vfollow *v,
                           router__vitess_served **out);
const router__vitess_input *
router__vitess_served_input(const router__vitess_served *s);
void router__vitess_served_free(router__vitess_served *s);

#endif /* ROUTER_VITESS_FOLLOW_H */
