/*
 * Reading a Vitess cell's serving topology from etcd, once
 * (vitess_read.c): the global CellInfo, then the cell's SrvVSchema and
 * every SrvKeyspace, built into a routing table (vitess_build.h).
 * Read-only: nothing is ever written under a Vitess root.
 *
 * Keys (TOPO.md section 1):
 *   GLOBAL_ROOT/cells/CELL/CellInfo          topodata.CellInfo
 *   CELL_ROOT/SrvVSchema                      vschema.SrvVSchema
 *   CELL_ROOT/keyspaces/KS/SrvKeyspace        topodata.SrvKeyspace
 * The cell's keys are read in two ranges (the SrvVSchema, then the prefix
 * CELL_ROOT/keyspaces/), and the SrvVSchema's mod revision is read again
 * after the prefix: if it moved, everything is read again (at most 5
 * times), so the table never pairs a SrvVSchema with SrvKeyspaces read
 * before an older one.  A missing SrvVSchema is ROUTER_ENOTFOUND (vtgate
 * keeps what it had; a first read has nothing to keep).
 */
#ifndef ROUTER_VITESS_READ_H
#define ROUTER_VITESS_READ_H

#include "etcd.h"
#include "vitess_build.h"

/* The cell's root and server address from GLOBAL_ROOT/cells/CELL/CellInfo
 * (*root and *server_address malloc'd, NUL-terminated).  ROUTER_OK,
 * ROUTER_ENOTFOUND (no such key; culprit the key), ROUTER_EDOC (it does
 * not decode, or has no root), ROUTER_EIO, ROUTER_ENOMEM. */
int router__vitess_read_cell_info(router__etcd *c, const char *global_root,
                                  const char *cell, char **root,
                                  char **server_address, router_error *err);

/* The etcd endpoints of a CellInfo.server_address, as Vitess's etcd2topo
 * dials them: the comma-separated entries, each "host:port" given the
 * http:// scheme (an entry with a scheme is kept), spaces dropped.
 * malloc'd; NULL when out of memory or when server_address is empty (the
 * caller then uses the global topo's endpoints). */
char *router__vitess_cell_endpoints(const char *server_address);

/* Read the cell rooted at cell_root and build its table for tablet (0:
 * PRIMARY) into out (router__vitess_build's contract).  Keys under
 * CELL_ROOT/keyspaces/ other than KS/SrvKeyspace (ShardReplication...)
 * are read by the prefix range but ignored.  ROUTER_OK, ROUTER_ENOTFOUND
 * (no SrvVSchema), ROUTER_EIO, ROUTER_ESTATE (the SrvVSchema kept moving),
 * or a build error. */
int router__vitess_read_cell(router__etcd *c, const char *cell_root,
                             router__vitess_tablet tablet,
                             router__vitess_built *out, router_error *err);

#endif /* ROUTER_VITESS_READ_H */
