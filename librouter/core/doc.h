/*
 * Internal table introspection for routerctl, the demo and the tests
 * (doc.c), read from table.h's fields only.  Hidden from the shared
 * library: the tools link librouter.a.  Candidates for router.h if library
 * users need them.
 */
#ifndef ROUTER_DOC_INTERNAL_H
#define ROUTER_DOC_INTERNAL_H

#include <stddef.h>

#include "router.h"

/* Number of keyspaces of t, and the name of keyspace i (sorted by name;
 * NULL past the end).  Valid while t lives. */
size_t router__doc_keyspace_count(const router_table *t);
const char *router__doc_keyspace_name(const router_table *t, size_t i);

/* Shards of keyspace ks in partition order: their count (0 when ks does
 * not exist), and the name of shard i (NULL past the end). */
size_t router__doc_shard_count(const router_table *t, const char *ks);
const char *router__doc_shard_name(const router_table *t, const char *ks,
                                   size_t i);

/* The vindex a lookup of ks.table goes through, resolved as a lookup is
 * (routing rules first).  *name and *type receive the vindex's name and
 * type, or NULL for a table routed without a vindex (unsharded, pinned,
 * reference).  ROUTER_OK, ROUTER_ENOTFOUND, ROUTER_EDISABLED, with err. */
int router__doc_primary_vindex(const router_table *t, const char *ks,
                               size_t ksl, const char *table, size_t tl,
                               const char **name, const char **type,
                               router_error *err);

/* Share (0..1) of the keyspace-ID space of keyspace ks whose shard, by
 * name, differs between a and b.  ROUTER_OK, or ROUTER_ENOTFOUND when ks
 * is missing from either table, ROUTER_ENOMEM. */
int router__doc_moved_share(const router_table *a, const router_table *b,
                            const char *ks, double *share, router_error *err);

#endif /* ROUTER_DOC_INTERNAL_H */
