/*
 * The immutable routing table as seen by its own files (table_build.c
 * builds it, table_route.c routes on it, table_diff.c compares two), by
 * the live router (live/publish.c sets the "set at publish" fields,
 * live/handles.c reads the slots), the document writer and the
 * benchmarks.  Everything here is
 * read-only once router_table_build returns, except the few fields marked
 * "set at publish", which the router writes before the table becomes
 * visible to any reader.
 */
#ifndef ROUTER_TABLE_H
#define ROUTER_TABLE_H

#include <string.h>

#include <ck_epoch.h>

#include "internal.h"

struct router__keyspace;

typedef struct router__shard {
	router_keyrange kr;
	const char *name; /* as given, NUL-terminated, owned by the table */
	size_t name_len;
	/* Set at publish: the router-wide interned name and its id.  Before
	 * (and for a table never published) iname == name and id ==
	 * ROUTER_NO_SHARD. */
	const char *iname;
	uint32_t id;
} router__shard;

/* What a lookup reads of shard i after the search, 16 bytes a shard
 * (router__keyspace.hot): copies of shards[i].iname, name_len and id,
 * written with them. */
typedef struct router__shard_hot {
	const char *iname;
	uint32_t name_len;
	uint32_t id;
} router__shard_hot;

typedef struct router__vdef {
	const char *name;
	const char *type;
	const char *owner;          /* "" when none */
	const router_param *params; /* sorted by key, copies */
	size_t nparams;
	router__vindex v; /* compiled */
} router__vdef;

typedef struct router__colvindex {
	const router__vdef *vd;
	const char *const *columns;
	size_t ncolumns;
} router__colvindex;

/* How a table routes, decided at build time. */
typedef enum router__tmode {
	ROUTER__T_VINDEX = 0, /* through cvs[0] */
	ROUTER__T_FIXED,      /* always shard `fixed` (unsharded, pinned) */
	ROUTER__T_MULTISHARD  /* reference table of a sharded keyspace */
} router__tmode;

typedef struct router__tdef {
	const char *name;
	size_t name_len;
	const struct router__keyspace *ks;
	router_table_type type;
	router__tmode mode;
	uint32_t fixed;               /* shard index for ROUTER__T_FIXED */
	const router__vindex *primary; /* cvs[0]'s vindex, or NULL */
	const router__colvindex *cvs;
	size_t ncvs;
	const char *pinned; /* hex as given, or NULL */
	const uint8_t *pinned_ksid;
	size_t pinned_len;
	int declared; /* 0 for the synthetic "any table" of an unsharded ks */
	/* The integer lookup's shortcut (route_fast.h), copied from ks and
	 * primary at build so that a lookup reaches them in one load from
	 * d: fast is a ROUTER__FAST_ kind, NONE unless the table routes
	 * through a numeric, xxhash or hash vindex and ks->bounds is set;
	 * then bounds, nbounds (nshards - 1) and hot are ks's. */
	uint32_t fast;
	uint32_t nbounds;
	const uint64_t *bounds;
	const struct router__shard_hot *hot;
	/* Set at publish (-1 before): when the keyspace's interned shard ids
	 * are consecutive, hot[i].id == id_base + i, and a batch computes
	 * the id instead of loading it; -1 otherwise. */
	int64_t id_base;
	/* Set at publish (NULL before, and when the conditions below do not
	 * hold): the keyspace's hot8, 8 bytes a shard where hot is 16, so
	 * that at thousands of shards the result a lookup reads and the
	 * bounds it searches share the cache better (issue 20). */
	const uint64_t *hot8;
} router__tdef;

enum { ROUTER__FAST_NONE, ROUTER__FAST_NUMERIC, ROUTER__FAST_XXHASH,
       ROUTER__FAST_HASH };

typedef struct router__keyspace {
	const char *name;
	size_t name_len;
	int sharded;
	const router__shard *shards; /* partition order (sorted by start) */
	uint32_t nshards;
	/* shards[i]'s iname, name_len and id, set with them (the lookup's
	 * result reads these: route_fast.h). */
	router__shard_hot *hot;
	/* nshards entries, filled at publish when the interned shard ids are
	 * consecutive (router__tdef.id_base >= 0), every interned name's
	 * address fits in 48 bits and its length in 16: entry i is
	 * hot[i].iname | hot[i].name_len << 48 (router__hot8_name/_len), and
	 * the id is id_base + i.  NULL when pointers are not 64 bits. */
	uint64_t *hot8;
	/* Fast shard search: when every shard start has at most 8 significant
	 * bytes, bounds[i] is the start of shards[i + 1] as a big-endian
	 * integer padded with zeros, and the shard of a keyspace ID is the
	 * number of bounds <= its first 8 bytes.  NULL otherwise. */
	const uint64_t *bounds;
	const router__vdef *vindexes; /* sorted by name */
	size_t nvindexes;
	const router__tdef *tables; /* sorted by name */
	size_t ntables;
	const uint32_t *tindex; /* open addressing: table index + 1, 0 empty */
	uint32_t tmask;
	router__tdef any; /* undeclared table of an unsharded keyspace */
} router__keyspace;

typedef struct router__rule {
	const char *from;     /* as given: "t", "ks.t", "ks.t@replica" */
	const char *to;       /* "ks.t" or NULL (disabled) */
	const char *from_ks;  /* "" when unqualified */
	const char *from_table;
	const char *tablet;   /* "" for primary */
	const router__tdef *target; /* resolved; NULL when disabled */
	const router__keyspace *target_ks;
	/* A rule vtgate keeps as an error (documents only: the loader's
	 * rules, router__builder_add_rule_raw): Vitess's message, NULL when
	 * the rule is fine.  A lookup through it is ROUTER_ERULE. */
	const char *error;
	/* What made it an error, for writing the rule back: a duplicate
	 * (written twice), several targets (written as given), or its one
	 * target (`to`, which did not resolve). */
	unsigned char error_kind;
	const char *const *targets; /* ROUTER__RULE_MULTI: as given */
	size_t ntargets;
} router__rule;

enum {
	ROUTER__RULE_OK = 0,
	ROUTER__RULE_TARGET,
	ROUTER__RULE_DUP,
	ROUTER__RULE_MULTI
};

/* A keyspace routing rule (SrvVSchema keyspace_routing_rules): a query
 * naming keyspace `from` is resolved in keyspace `to`, tables and table
 * routing rules included (Vitess's findRoutedKeyspace).  Only a rule
 * whose from has no tablet-type suffix applies (plain): the table routes
 * as PRIMARY; "ks@replica" rules are kept to be written back. */
typedef struct router__ksrule {
	const char *from; /* as given: "src", "src@replica" */
	size_t from_len;
	const char *to;
	size_t to_len;
	int plain; /* from has no '@' */
} router__ksrule;

/* A shard routing rule (SrvVSchema shard_routing_rules): shard `shard`
 * of keyspace `from_ks` is served by keyspace `to_ks` under the same
 * shard name (Vitess's FindRoutedShard, applied after the shard is
 * resolved in from_ks: fixupPartiallyMovedShards). */
typedef struct router__shrule {
	const char *from_ks;
	const char *shard;
	const char *to_ks;
} router__shrule;

/* A table of slots, one per router handle id: the pre-resolved definition
 * a handle routes through in this table (NULL: resolve by name).  Grown by
 * the router's writer and swapped atomically; readers check id < n. */
typedef struct router__slots {
	ck_epoch_entry_t epoch_entry; /* deferred free of a replaced array */
	const router_allocator *alloc;
	uint32_t n;                  /* slots filled (readers bound by it) */
	uint32_t cap;
	const router__tdef *e[];
} router__slots;

/* Slots kept inside the table as well (router_table.slot_near). */
#define ROUTER__SLOTS_NEAR 16u

struct router_table {
	ck_epoch_entry_t epoch_entry; /* deferred free once retired */
	const router_allocator *alloc;
	struct router__arena *arena;
	uint64_t version; /* set at publish when built with 0 */
	uint64_t hash;
	const router__keyspace *keyspaces; /* sorted by name */
	size_t nkeyspaces;
	const uint32_t *kindex; /* open addressing: ks index + 1, 0 empty */
	uint32_t kmask;
	/* Error keyspaces (router__builder_add_keyspace_error): name and
	 * Vitess's message at 2i and 2i + 1, in the arena. */
	const char *const *kserr;
	size_t nkserr;
	const router__rule *rules; /* sorted by (from_ks, from_table, tablet) */
	size_t nrules;
	size_t nprimary_rules; /* rules with a keyspace and no tablet type:
	                        * the first nprimary_rules after sorting by
	                        * applies_to_primary first */
	/* Keyspace and shard routing rules (documents only: the loader's),
	 * each sorted by its key ((from), (from_ks, shard)), one per key
	 * (the last given wins, as Go's map in Vitess). */
	const router__ksrule *ksrules;
	size_t nksrules;
	const router__shrule *shrules;
	size_t nshrules;
	/* Set at publish. */
	struct router *owner;
	router__slots *slots; /* read with ck_pr_load_ptr */
	/* slots->e[i] for i < ROUTER__SLOTS_NEAR, or NULL: a copy the writer
	 * stores with the entry, so that a handle with a small id finds its
	 * definition at a fixed offset from the table, one dependent load
	 * fewer than through slots (issue 20).  Freed with the table, hence
	 * after its grace period like the rest of it (live/handles.c). */
	const router__tdef *slot_near[ROUTER__SLOTS_NEAR];
	/* Long batches (live/handles.c, "Long batches"): readers holding the table
	 * across read sections, plus a dead bit once it is due; the link in
	 * its router's list of tables freed by the writer. */
	uint32_t pins;
	struct router_table *next_dead;
	/* Set at publish: unique in the process for its lifetime (never 0),
	 * the key of router_route's per-thread name cache (handles.c). */
	uint64_t serial;
};

/* XXH3 of a name, used for every name index. */
uint64_t router__name_hash(const char *s, size_t n);

/* The first 8 bytes of a keyspace ID as a big-endian integer, padded with
 * zeros (the keyspace's bounds, and the key the shard search compares). */
static inline uint64_t router__be64_padded(const uint8_t *k, size_t len)
{
	uint64_t v = 0;
	size_t i;

	if (len >= 8) {
		memcpy(&v, k, 8);
		return __builtin_bswap64(v);
	}
	for (i = 0; i < 8; i++)
		v = v << 8 | (i < len ? k[i] : 0);
	return v;
}

/* Sorted order (by strcmp) of n names: the char * at offset `off` of each
 * of n elements `stride` bytes apart from base, with each one's index.
 * Caller frees with router__free(a, ...); NULL when out of memory. */
typedef struct router__sortref {
	const char *name;
	size_t idx;
} router__sortref;
router__sortref *router__sorted_at(const router_allocator *a,
                                   const void *base, size_t n, size_t stride,
                                   size_t off);
#define router__sorted(a, base, n, stride)                                  \
	router__sorted_at(a, base, n, stride, 0)

/* XXH3 over a built table's content in a fixed order (table_diff.c):
 * tables with the same content have the same hash. */
uint64_t router__table_content_hash(const router_table *t);

/* Keyspace by name, or NULL. */
const router__keyspace *router__table_keyspace(const router_table *t,
                                               const char *ks, size_t n);
/* Table by name in a keyspace, or NULL (the synthetic `any` table is not
 * returned here). */
const router__tdef *router__keyspace_table(const router__keyspace *ks,
                                           const char *name, size_t n);

/* Resolve keyspace.table the way a query does: table routing rules first
 * (a disabled rule is ROUTER_EDISABLED, a rule vtgate keeps as an error
 * ROUTER_ERULE), then the keyspace's own table, then the unsharded
 * keyspace's `any` table.  ROUTER_OK with *out set, or ROUTER_ENOTFOUND /
 * ROUTER_EDISABLED / ROUTER_ERULE with err filled (err may be NULL). */
int router__table_resolve(const router_table *t, const char *ks, size_t ksl,
                          const char *table, size_t tl,
                          const router__tdef **out, router_error *err);

/* What router__table_resolve_at applied on its way (NULL members: that
 * kind of rule did not apply). */
typedef struct router__resolved {
	const router__ksrule *ksrule; /* the keyspace routing rule */
	const router__rule *rule;     /* the table routing rule */
} router__resolved;

/* router__table_resolve, saying which rules it applied in *how (which
 * may be NULL): the keyspace routing rule of ks first, then the table
 * routing rules and tables of the keyspace it names. */
int router__table_resolve_at(const router_table *t, const char *ks,
                             size_t ksl, const char *table, size_t tl,
                             const router__tdef **out, router__resolved *how,
                             router_error *err);

/* The keyspace routing rule that applies to keyspace (ks, ksl) (a plain
 * one: no tablet-type suffix), or NULL. */
const router__ksrule *router__table_ksrule(const router_table *t,
                                          const char *ks, size_t ksl);

/* The keyspace serving shard of keyspace ks after the shard routing
 * rules: the rule's to_ks, or NULL when no rule names (ks, shard). */
const char *router__shard_routed(const router_table *t, const char *ks,
                                 const char *shard, size_t shard_len);

/* Index of the shard of ks holding ksid (ks has at least one shard). */
uint32_t router__shard_search(const router__keyspace *ks, const uint8_t *ksid,
                              size_t len);

/* Route through a resolved definition: the body shared by every lookup
 * (the benchmarks' floor calls it on a frozen table without any
 * synchronization).  Fills out (shard, shard_id, index, version, ksid).
 * Returns ROUTER_OK, ROUTER_NONE, ROUTER_EMULTISHARD, ROUTER_ENEEDSLOOKUP,
 * ROUTER_EUNSUPPORTED, ROUTER_EINVAL; sets err only when err != NULL. */
int router__tdef_route(const router_table *t, const router__tdef *d,
                       const router_value *values, size_t nvalues,
                       router_route_result *out, router_error *err);
int router__tdef_route_u64(const router_table *t, const router__tdef *d,
                           uint64_t key, int is_unsigned,
                           router_route_result *out);
/* Shard id only (batch lookups); ROUTER_NO_SHARD for no keyspace ID. */
int router__tdef_route_id(const router_table *t, const router__tdef *d,
                          uint64_t key, int is_unsigned, uint32_t *id);

/* router_table_route without the NULL checks of t and out; *d is the
 * definition the names resolved to (NULL when they did not resolve). */
int router__table_route_d(const router_table *t, const char *keyspace,
                          size_t keyspace_len, const char *table,
                          size_t table_len, const router_value *values,
                          size_t nvalues, router_route_result *out,
                          router_error *err, const router__tdef **d);

/* router__table_route_d, saying in *how (may be NULL) which rules the
 * names went through. */
int router__table_route_at(const router_table *t, const char *keyspace,
                           size_t keyspace_len, const char *table,
                           size_t table_len, const router_value *values,
                           size_t nvalues, router_route_result *out,
                           router_error *err, const router__tdef **d,
                           router__resolved *how);

/* *target for a lookup that resolved to d through how (d NULL: the names
 * did not resolve, target emptied), whose result is out when rc is
 * ROUTER_OK; table/tl are the names asked (an unsharded keyspace's
 * undeclared table keeps its name).  table_target.c. */
void router__target_fill(const router_table *t, const router__tdef *d,
                         const router__resolved *how, const char *keyspace,
                         size_t ksl, const char *table, size_t tl, int rc,
                         const router_route_result *out, unsigned flags,
                         router_target *target);
/* The route_target calls' names: at most ROUTER_NAME_MAX bytes
 * (ROUTER_ERANGE) and no NUL byte (ROUTER_EINVAL), since the target
 * holds them NUL-terminated; ROUTER_OK. */
int router__target_names_ok(const char *keyspace, size_t keyspace_len,
                            const char *table, size_t table_len,
                            router_error *err);

/* router_table_route_ksid without the NULL checks of t and out. */
int router__table_route_ksid(const router_table *t, const char *keyspace,
                             size_t keyspace_len, const void *ksid,
                             size_t ksid_len, router_route_result *out,
                             router_error *err);

/* router_table_route_prefix without the NULL checks of t and n
 * (table_route_prefix.c). */
int router__table_route_prefix(const router_table *t, const char *keyspace,
                               size_t keyspace_len, const char *table,
                               size_t table_len, const void *like,
                               size_t like_len, router_route_result *out,
                               size_t cap, size_t *n, router_error *err);

/* Fill out for shard i of ks (shard, id, index, version; not ksid). */
void router__fill_shard(const router_table *t, const router__keyspace *ks,
                        uint32_t i, router_route_result *out);

/* A routing rule as a SrvVSchema holds it, for the document loader:
 * from_table and its ntargets to_tables as given, in document order,
 * duplicates included.  The build then follows Vitess's buildRoutingRule:
 * the last rule for a from_table wins, a rule with one target after
 * another rule for the same from_table is "duplicate rule for entry ...",
 * several targets are "table ... has more than one target", and a target
 * that does not name an existing table is that error; each error stays on
 * its rule (router__rule.error) instead of failing the build.  A builder
 * given raw rules should be given no router_builder_add_routing_rule.
 * ROUTER_OK, ROUTER_EINVAL (NULL), ROUTER_ENOMEM. */
int router__builder_add_rule_raw(router_builder *b, const char *from_table,
                                 const char *const *to_tables,
                                 size_t ntargets, router_error *err);

/* A keyspace that vtgate keeps with an error (documents only: the loader
 * adds one instead of the keyspace when Vitess's build fails it): the
 * table has no keyspace ks, and a lookup in it fails with
 * ROUTER_EKEYSPACE and message.  Not part of the content hash, the diff,
 * snapshots or exports: an error keyspace routes nothing, as an absent
 * one.  ROUTER_OK, ROUTER_EINVAL (NULL), ROUTER_ENOMEM. */
int router__builder_add_keyspace_error(router_builder *b, const char *ks,
                                       const char *message,
                                       router_error *err);
/* ROUTER_EKEYSPACE with Vitess's message when keyspace (ks, ksl) is one
 * of t's error keyspaces, else ROUTER_ENOTFOUND ("keyspace ... not
 * found"); err may be NULL. */
int router__keyspace_missing(const router_table *t, const char *ks,
                             size_t ksl, router_error *err);

/* ---- column vindexes (table_column.c) ---- */

/* The column vindex of d on the columns named by cols[0..len) (","
 * separated, blanks around names ignored, ASCII case ignored), or NULL. */
const router__colvindex *router__tdef_column(const router__tdef *d,
                                             const char *cols, size_t len);
/* Resolve keyspace.table and its column vindex on columns (none: the
 * primary one): ROUTER_OK with
 * *d set and *cv set, or *cv NULL when the table does not route through
 * a vindex (pinned, unsharded, reference: every column routes as the
 * table); ROUTER_ENOTFOUND, ROUTER_EDISABLED, ROUTER_EINVAL. */
int router__column_find(const router_table *t, const char *keyspace,
                        size_t keyspace_len, const char *table,
                        size_t table_len, const char *columns,
                        size_t columns_len, const router__tdef **d,
                        const router__colvindex **cv, router_error *err);
/* router_table_route_column after router__column_find. */
int router__column_route(const router_table *t, const router__tdef *d,
                         const router__colvindex *cv,
                         const router_value *values, size_t nvalues,
                         const router_lookup_row *rows, size_t nrows,
                         router_route_result *out, size_t cap,
                         size_t *count, router_error *err);
/* Fill *out for the lookup vindex v and value (t may be NULL: version 0).
 * Strings point into v.  ROUTER_OK, ROUTER_EINVAL (not a lookup, a value
 * the bind conversion refuses). */
int router__lookup_query_fill(const router_table *t, const router__vindex *v,
                              const router_value *value,
                              router_lookup_query *out, router_error *err);

/* Results one per shard of ks, deduplicated, the first cap written into
 * out; count is every distinct shard. */
typedef struct router__shards {
	const router_table *t;
	const router__keyspace *ks;
	router_route_result *out;
	size_t cap, count;
	uint64_t *seen; /* a bit per shard: local or allocated */
	uint64_t local[64];
} router__shards;
/* ROUTER_OK or ROUTER_ENOMEM (more than 4096 shards and no memory). */
int router__shards_init(router__shards *s, const router_table *t,
                        const router__keyspace *ks, router_route_result *out,
                        size_t cap);
void router__shards_fini(router__shards *s);
/* A router__ksid_sink: the shard of ksid, once. */
int router__shards_add(void *ctx, const uint8_t *ksid, size_t len);
/* Every shard of the keyspace, ksid_len 0. */
void router__shards_all(router__shards *s);
/* The public status for a mapping that returned rc: rc when negative;
 * ROUTER_NONE for no shard; ROUTER_ERANGE past cap; else ROUTER_OK. */
int router__shards_status(const router__shards *s, int rc, size_t *count,
                          router_error *err);

/* Keyspace and shard routing rules, for the document loader: given in
 * document order (a later rule for the same from, or the same from and
 * shard, replaces the earlier one at build, as Vitess's maps do).
 * Vitess validates neither; the build refuses a plain keyspace rule
 * whose to keyspace is not in the table (ROUTER_ENOTFOUND) and keeps
 * every shard rule (table_build.c, check_ks_rules).  ROUTER_OK,
 * ROUTER_EINVAL (NULL), ROUTER_ERANGE (a name too long), ROUTER_ENOMEM. */
int router__builder_add_keyspace_rule(router_builder *b, const char *from,
                                      const char *to, router_error *err);
int router__builder_add_shard_rule(router_builder *b,
                                   const char *from_keyspace,
                                   const char *shard,
                                   const char *to_keyspace,
                                   router_error *err);

/* Free a table's memory now (the router's reclamation callback). */
void router__table_destroy(router_table *t);
/* A copy of diff src (NULL: an empty diff) with its own memory, from a
 * (NULL: malloc), for router_event_copy; free it with router_diff_free.
 * ROUTER_OK or ROUTER_ENOMEM (*out NULL). */
int router__diff_copy(const router_diff *src, const router_allocator *a,
                      router_diff **out);

/* The keyspace-ID guard (router_publish, README "The guards"): for every
 * keyspace in both cur and next, refuse a change to where existing rows
 * are looked for that is not a change of shards: a table kept (same
 * name) whose primary vindex computes another function (type, or the
 * params that enter the hash) or reads other columns (compared ignoring
 * case, in order), whose pin changes, that turns from vindex-routed or
 * pinned to reference or between the two; and a keyspace that turns
 * sharded or unsharded.  Vindex names, secondary vindexes, owners, shards
 * and tables added or dropped are not its concern; reference tables (a
 * copy on every shard) may become anything.  cur NULL: ROUTER_OK.
 * Returns ROUTER_OK or ROUTER_EKSIDCHANGE for the first such table in
 * name order (culprit "keyspace.table", or the keyspace when no table is
 * kept), saying what changed ("primary vindex of user.users changed from
 * xxhash(id) to hash(id)...").  Thread-safe on frozen tables. */
int router__ksid_guard(const router_table *cur, const router_table *next,
                       router_error *err);

#endif /* ROUTER_TABLE_H */
