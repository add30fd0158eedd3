/*
 * A routing table from a Vitess cell's topo values (vitess_build.c): the
 * cell's SrvVSchema and its keyspaces' SrvKeyspaces, as raw bytes with
 * their etcd mod revisions, for one tablet type.
 *
 * The values are decoded (vitess_decode.h), assembled into a librouter
 * routing document (a SrvVSchema in JSON, with each keyspace's "shards"
 * from its SrvKeyspace partition) and loaded with router_doc_load, so
 * every VSchema rule the loader and router_table_build check (vindex
 * types and params, primary vindexes, shard names and coverage, routing
 * rule targets) is checked once, in one place, with Vitess's messages.
 *
 * What vtgate does that the document cannot say is done here:
 *   - shards: the partition of the tablet type asked for; each shard's
 *     key range comes from the SrvKeyspace bytes and must be the range its
 *     name says (vtgate routes on the bytes and targets the name: a shard
 *     whose two disagree is refused, ROUTER_ECOVERAGE, naming both);
 *   - table routing rules for REPLICA or RDONLY: vtgate looks up
 *     "ks.t@<type>" then "ks.t"; the table applies "ks.t@primary" then
 *     "ks.t", so for those types the document swaps the suffixes
 *     "@primary" and "@<type>" (every rule is kept, and validated);
 *   - keyspace routing rules: the one vtgate applies for the tablet type
 *     (findRoutedKeyspace: "ks@<type>", then "ks") goes into the document
 *     as a plain rule, which the table applies first, as FindRoutedTable
 *     does (router_table_route_target names the keyspace that serves);
 *     every keyspace of the SrvVSchema keeps its own definition and
 *     shards (vtgate resolves the table in the target keyspace as it is,
 *     routed once, never along a chain); a rule whose target is not in
 *     the SrvVSchema is refused (ROUTER_ENOTFOUND, naming the rule);
 *   - shard routing rules: into the document as given; with
 *     ROUTER_TARGET_SHARD_ROUTING (vtgate's
 *     --enable-partial-keyspace-migration) the table applies them after
 *     resolving the shard in the queried keyspace's partition
 *     (fixupPartiallyMovedShards): the shard name is the same, the
 *     keyspace router_table_route_target names is the rule's; a target
 *     not in the SrvVSchema is a note;
 *   - mirror rules change no answer: copied into the document, where the
 *     loader reports them (informational).
 *
 * Version: the largest mod revision among the values given (SrvVSchema
 * and every SrvKeyspace passed in, used or not).  Every process reading
 * the same topo state computes the same version; any put to one of those
 * keys raises it (etcd revisions only grow).  A deletion alone can lower
 * it (the deleted key's revision leaves the set): the follower deals with
 * that, not this function.  0 when no revision is given.
 */
#ifndef ROUTER_VITESS_BUILD_H
#define ROUTER_VITESS_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "router.h"
#include "router_doc.h"
#include "vitess_decode.h"

/* topodata.TabletType values the router can follow. */
typedef enum router__vitess_tablet {
	ROUTER__VITESS_PRIMARY = 1,
	ROUTER__VITESS_REPLICA = 2,
	ROUTER__VITESS_RDONLY = 3
} router__vitess_tablet;

/* "primary", "replica", "rdonly" (case-insensitive) into *out: 0 or -1. */
int router__vitess_tablet_parse(const char *name, router__vitess_tablet *out);
/* "PRIMARY", "REPLICA", "RDONLY". */
const char *router__vitess_tablet_name(router__vitess_tablet t);

/* One keyspace's SrvKeyspace value. */
typedef struct router__vitess_srvks {
	const char *keyspace; /* NUL-terminated */
	const void *value;    /* raw bytes (NULL when len is 0) */
	size_t len;
	int64_t mod_revision;
} router__vitess_srvks;

typedef struct router__vitess_input {
	/* The cell's root ("/vitess/zone1"), for naming keys in messages:
	 * ROOT/SrvVSchema, ROOT/keyspaces/KS/SrvKeyspace. */
	const char *cell_root;
	const void *srv_vschema; /* raw SrvVSchema bytes (NULL when len 0) */
	size_t srv_vschema_len;
	int64_t srv_vschema_rev;
	const router__vitess_srvks *srvks;
	size_t nsrvks;
	router__vitess_tablet tablet; /* 0: PRIMARY */
	const router_allocator *allocator; /* of the table; NULL: malloc */
	/* The version is at least this (0: none): a follower's revision of
	 * a delete, which leaves no mod revision behind (vitess_follow.h). */
	int64_t min_version;
} router__vitess_input;

/* What a build produced (caller-owned; zero-initialise it, clear it with
 * router__vitess_built_clear). */
typedef struct router__vitess_built {
	router_table *table;   /* NULL unless ROUTER_OK */
	char *document;        /* the routing document loaded (malloc'd) */
	size_t document_len;
	router_doc_report *report; /* the loader's report, or NULL */
	router__vitess_notes notes; /* decoding and assembly warnings */
	uint64_t version;
} router__vitess_built;

/* Build out from in.  Returns ROUTER_OK with out->table set, or an error
 * with err naming the key or keyspace at fault: ROUTER_EDOC (a value that
 * is not protobuf, culprit its key), ROUTER_ENOTFOUND (a keyspace of the
 * SrvVSchema without a SrvKeyspace, or a keyspace routing rule's target
 * that is not in the SrvVSchema), ROUTER_ECOVERAGE (no partition for the
 * tablet type, a shard whose key range disagrees with its name, and the
 * loader's coverage errors), ROUTER_EUNSUPPORTED (a table routing rule
 * whose target is in a keyspace routed elsewhere: the table cannot hold
 * both), ROUTER_EINVAL, ROUTER_ENOMEM, or any router_doc_load error.
 * out->document and out->report are filled whenever the document was
 * assembled, also on failure.  Any thread. */
int router__vitess_build(const router__vitess_input *in,
                         router__vitess_built *out, router_error *err);

void router__vitess_built_clear(router__vitess_built *b);

#endif /* ROUTER_VITESS_BUILD_H */
