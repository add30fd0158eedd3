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
 * Also read here: the global values a VSchema rebuild reads, for
 * routerctl vitess check (GLOBAL_ROOT/keyspaces/KS/VSchema, the rules).
 */
#ifndef ROUTER_VITESS_READ_H
#define ROUTER_VITESS_READ_H

#include "etcd.h"
#include "vitess_build.h"
#include "vitess_latent.h"

/* The cell's root and server address from GLOBAL_ROOT/cells/CELL/CellInfo
 * (*root and *server_address malloc'd, NUL-terminated).  ROUTER_OK,
 * ROUTER_ENOTFOUND (no such key; culprit the key), ROUTER_EDOC (it does
 * not decode, or has no root), ROUTER_EIO, ROUTER_ENOMEM. */
int router__vitess_read_cell_info(router__etcd *c, const char *global_root,
                                  const char *cell, char **root,
                                  char **server_address, router_error *err);

/* The etcd endpoints of a CellInfo.server_address, as Vitess's etcd2topo
 * dials them: the comma-separated entries, each "host:port" given the
 * http:// scheme, or https:// when tls is nonzero (the caller has TLS
 * files: the same ones serve every topo, as vtgate's --topo_etcd_tls_*
 * flags do); an entry with a scheme is kept; spaces dropped.  malloc'd;
 * NULL when out of memory or when server_address is empty (the caller
 * then uses the global topo's endpoints). */
char *router__vitess_cell_endpoints(const char *server_address, int tls);

/* Read the cell rooted at cell_root and build its table for tablet (0:
 * PRIMARY) into out (router__vitess_build's contract).  Keys under
 * CELL_ROOT/keyspaces/ other than KS/SrvKeyspace (ShardReplication...)
 * are read by the prefix range but ignored.  ROUTER_OK, ROUTER_ENOTFOUND
 * (no SrvVSchema), ROUTER_EIO, ROUTER_ESTATE (the SrvVSchema kept moving),
 * or a build error. */
int router__vitess_read_cell(router__etcd *c, const char *cell_root,
                             router__vitess_tablet tablet,
                             router__vitess_built *out, router_error *err);

/* A cell's serving values as read (caller-owned; clear with
 * router__vitess_cell_values_clear): in, a build's input, points into
 * the other fields. */
typedef struct router__vitess_cell_values {
	router__vitess_input in;
	char *cell_root;
	router__etcd_kv srv_vschema;
	router__etcd_kv *kvs; /* every key under CELL_ROOT/keyspaces/ */
	size_t nkvs;
	router__vitess_srvks *srvks; /* the SrvKeyspace ones, nnames */
	char **names;
	size_t nnames;
} router__vitess_cell_values;

void router__vitess_cell_values_clear(router__vitess_cell_values *v);

/* Read the cell rooted at cell_root, as router__vitess_read_cell does,
 * into out without building it (out->in is router__vitess_build's input,
 * tablet its tablet type): for a caller that judges the values, such as
 * the latent check (vitess_latent.h).  ROUTER_OK, ROUTER_ENOTFOUND,
 * ROUTER_EIO, ROUTER_ESTATE, ROUTER_ENOMEM; out is cleared on failure. */
int router__vitess_read_cell_values(router__etcd *c, const char *cell_root,
                                    router__vitess_tablet tablet,
                                    router__vitess_cell_values *out,
                                    router_error *err);

/* Every global value a RebuildVSchemaGraph reads (vitess_latent.h: each
 * GLOBAL_ROOT/keyspaces/KS/VSchema, then those of the routing-rule keys
 * that exist), into *kvs (n of them, sorted by key within the keyspaces;
 * free with router__etcd_kvs_free).  Two or more reads: not one etcd
 * revision.  ROUTER_OK, ROUTER_EIO, ROUTER_ENOMEM. */
int router__vitess_read_global(router__etcd *c, const char *global_root,
                               router__etcd_kv **kvs, size_t *n,
                               router_error *err);

/* ROOT joined with PATH, trailing slashes of ROOT dropped (malloc'd;
 * NULL out of memory): the topo keys under a root. */
char *router__vitess_join(const char *root, const char *path);

#endif /* ROUTER_VITESS_READ_H */
