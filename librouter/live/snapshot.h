/*
 * Internal interface of snapshot.c (last-known-good files) for publish.c.
 */
#ifndef ROUTER_SNAPSHOT_INTERNAL_H
#define ROUTER_SNAPSHOT_INTERNAL_H

#include "router.h"

/* Write t (alive for the call) to path atomically (router_snapshot_save's
 * file format and steps).  Document text is allocated with a.  ROUTER_OK,
 * ROUTER_EIO (nothing at path changed), ROUTER_ENOMEM. */
int router__snapshot_write(const router_table *t, const char *path,
                           const router_allocator *a, router_error *err);

#endif /* ROUTER_SNAPSHOT_INTERNAL_H */
