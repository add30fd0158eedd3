/*
 * The builder's records (table_builder.c writes them, one router_builder_*
 * call at a time) as read by router_table_build (table_build.c): the
 * definitions exactly as given, checked only for what is local to each.
 */
#ifndef ROUTER_BUILDER_H
#define ROUTER_BUILDER_H

#include "internal.h"


typedef struct bcv {
	char *vindex;
	char **columns;
	size_t ncolumns;
} bcv;

typedef struct btable {
	char *name;
	router_table_type type;
	char *pinned;
	bcv *cvs;
	size_t ncvs, cap;
} btable;

typedef struct bvindex {
	char *name, *type, *owner;
	router_param *params;
	size_t nparams;
} bvindex;

typedef struct bshard {
	char *name;
	router_keyrange kr;
} bshard;

typedef struct bks {
	char *name;
	int sharded;
	bshard *shards;
	size_t nshards, cshards;
	bvindex *vindexes;
	size_t nvindexes, cvindexes;
	btable *tables;
	size_t ntables, ctables;
} bks;

typedef struct brule {
	char *from, *to;
	/* Raw rules (router__builder_add_rule_raw): every target as given;
	 * to is targets[0] when there is exactly one. */
	char **targets;
	size_t ntargets;
} brule;

/* Builder name index: (kind, keyspace, name) -> position. */
enum { BK_KEYSPACE = 1, BK_TABLE, BK_VINDEX, BK_SHARD, BK_RULE };

typedef struct bslot {
	uint64_t h;
	uint32_t kind_ks; /* kind << 24 | keyspace index; 0 = empty */
	uint32_t idx;
} bslot;

struct router_builder {
	const router_allocator *a;
	uint64_t version;
	bks *ks;
	size_t nks, cks;
	brule *rules;
	size_t nrules, crules;
	int raw_rules; /* rules came from router__builder_add_rule_raw */
	/* Error keyspaces (router__builder_add_keyspace_error): name and
	 * Vitess's message at 2i and 2i + 1. */
	char **kserr;
	size_t nkserr, ckserr;
	/* Keyspace routing rules (router__builder_add_keyspace_rule): from
	 * and to at 2i and 2i + 1, in the order given. */
	char **ksrules;
	size_t nksrules, cksrules;
	/* Shard routing rules (router__builder_add_shard_rule): from
	 * keyspace, shard and to keyspace at 3i, 3i + 1, 3i + 2. */
	char **shrules;
	size_t nshrules, cshrules;
	bslot *map;
	size_t mapcap, mapn;
	router_error *problems;
	size_t nproblems, cproblems;
	int problems_nomem;
};

#endif /* ROUTER_BUILDER_H */
