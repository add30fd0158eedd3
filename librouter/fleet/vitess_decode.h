/*
 * Decoding Vitess's topo values (vitess_decode.c): the raw protobuf bytes
 * etcd2topo stores under a key, into the messages of librouter's own
 * vitess_vschema.proto and vitess_topodata.proto (protobuf-c, generated at
 * build time into $(BUILD)/gen; their symbols stay inside librouter-etcd).
 *
 * Tolerant as Go's protobuf is, and stricter where Go is:
 *   - an empty value is the empty message (TOPO.md section 2: that is how
 *     the January 2026 VSchema arrived), never an error;
 *   - unknown fields are skipped (newer Vitess adds fields);
 *   - a known field whose wire type is not the one librouter's .proto
 *     declares is skipped with a warning, never fatal (protobuf-c's own
 *     unpack refuses the whole message, so the bytes are first walked
 *     against the descriptors and such fields left out);
 *   - bytes that are not protobuf (a truncated varint or length, a field
 *     number 0, wire types 6 and 7, an unmatched group end), a string that
 *     is not UTF-8 (Go refuses those in proto3) or holds a NUL byte (no C
 *     string can carry it) are ROUTER_EDOC, culprit the key, message what
 *     and at which byte;
 *   - values above ROUTER__VITESS_VALUE_MAX bytes are ROUTER_ERANGE.
 * Every function is thread-safe on its own arguments.
 */
#ifndef ROUTER_VITESS_DECODE_H
#define ROUTER_VITESS_DECODE_H

#include <stddef.h>

#include "router.h"
#include "core/internal.h"

/* Largest topo value decoded (etcd's own default request limit is
 * 1.5 MiB; this leaves room for clusters that raised it). */
#define ROUTER__VITESS_VALUE_MAX ((size_t)64 << 20)
/* Warnings kept per decode; later ones are only counted. */
#define ROUTER__VITESS_NOTES_MAX 64

/* Warnings of one or more decodes (caller-owned; zero-initialise it). */
typedef struct router__vitess_notes {
	char **msg; /* n malloc'd NUL-terminated messages */
	size_t n;
	size_t cap;
	size_t dropped; /* warnings past ROUTER__VITESS_NOTES_MAX */
} router__vitess_notes;

void router__vitess_notes_free(router__vitess_notes *notes);
/* Append a formatted warning (dropped when out of memory or full). */
void router__vitess_note(router__vitess_notes *notes, const char *fmt, ...)
    ROUTER__PRINTF(2, 3);

/* Which message a value holds. */
typedef enum router__vitess_kind {
	ROUTER__VITESS_SRV_VSCHEMA = 1, /* vschema.SrvVSchema (cell /SrvVSchema) */
	ROUTER__VITESS_KEYSPACE = 2,    /* vschema.Keyspace (global .../VSchema) */
	ROUTER__VITESS_SRV_KEYSPACE = 3, /* topodata.SrvKeyspace */
	ROUTER__VITESS_CELL_INFO = 4,    /* topodata.CellInfo */
	/* The global routing-rule values a RebuildVSchemaGraph merges into
	 * the SrvVSchema (TOPO.md section 1). */
	ROUTER__VITESS_ROUTING_RULES = 5,  /* vschema.RoutingRules */
	ROUTER__VITESS_SHARD_ROUTING_RULES = 6, /* vschema.ShardRoutingRules */
	ROUTER__VITESS_KEYSPACE_ROUTING_RULES = 7, /* KeyspaceRoutingRules */
	ROUTER__VITESS_MIRROR_RULES = 8    /* vschema.MirrorRules */
} router__vitess_kind;

/* Decode (val, len) (val may be NULL when len is 0) read from key
 * (NUL-terminated, for messages) as a message of kind.  On success *out
 * is the message (Vschema__SrvVSchema, Vschema__Keyspace,
 * Topodata__SrvKeyspace, Topodata__CellInfo, Vschema__RoutingRules,
 * Vschema__ShardRoutingRules, Vschema__KeyspaceRoutingRules or
 * Vschema__MirrorRules of the generated headers),
 * freed with router__vitess_message_free; warnings (fields skipped for
 * their wire type) are appended to notes (may be NULL).
 * Returns ROUTER_OK, ROUTER_EDOC (not protobuf; culprit key),
 * ROUTER_ERANGE (too large), ROUTER_EINVAL (bad kind, NULL out),
 * ROUTER_ENOMEM.  *out is NULL on failure. */
int router__vitess_decode(router__vitess_kind kind, const char *key,
                          const void *val, size_t len, void **out,
                          router__vitess_notes *notes, router_error *err);

/* Free a message router__vitess_decode returned; NULL is accepted. */
void router__vitess_message_free(void *msg);

#endif /* ROUTER_VITESS_DECODE_H */
