/*
 * librouter: an embedded, Vitess-exact shard router.
 *
 * A routing table (router_table) is built once with a builder, validated the
 * way Vitess validates a VSchema, and is immutable from then on.  A live
 * router (router) serves one table at a time to any number of reader threads
 * without locks; a writer replaces it with router_publish(), which first
 * checks the new table against the one in service (the guards) and refuses
 * anything that would empty a keyspace, leave a gap in the keyspace-ID space,
 * dangle a reference, move the version backwards or silently drop routes.
 *
 * Conventions (every function below follows them unless it says otherwise):
 * - Status codes: ROUTER_OK (0) on success, a negative ROUTER_E* code on
 *   failure, and the positive ROUTER_NONE where a value maps to no keyspace
 *   ID (Vitess's DestinationNone: a result, not an error).
 * - router_error *err is optional (NULL allowed) and caller-owned; on failure
 *   it receives the code, the culprit (keyspace, table, shard...) and a
 *   specific message.  Nothing keeps a "last error" on a shared handle.
 * - Names given to the builder are NUL-terminated; names and values given to
 *   lookups are (ptr, len) buffers, ptr may be NULL only when len is 0.
 * - Create functions return through an out-parameter; free functions accept
 *   NULL and return nothing.
 *
 * How structs grow (every public struct of router.h, router_doc.h and
 * router_etcd.h is in exactly one of these groups; a program built against
 * an older header must keep working, uncorrupted, with a newer library of
 * the same major version):
 * - Options the caller fills and the library reads carry `size`, which
 *   the *_INIT initializer sets to the caller's sizeof: router_options,
 *   router_shadow_options, router_doc_options, router_etcd_options.  New
 *   fields are only appended; the library reads no byte past size and
 *   gives the fields it did not read their defaults.  A size above the
 *   library's own (a program built against a newer header, run on an
 *   older library) is refused with ROUTER_EINVAL by router_create and
 *   router_shadow_set_sample; router_doc_load and router_etcd_create read
 *   the fields they know and ignore the rest.
 * - Counters the library copies into the caller's memory are copied
 *   through a size the caller passes: router_stats (router_stats_get)
 *   and router_etcd_status (router_etcd_status_get).  New fields are only
 *   appended; a smaller size gets the fields it knows, a larger one has
 *   the bytes this library does not know set to 0.  Nothing public is
 *   sized by the error table: refusals per code are read through
 *   router_stats_refused.
 * - Structs the library allocates and the caller only reads through a
 *   pointer the library gives: router_event, router_diff_entry,
 *   router_doc_note, router_etcd_event.  New fields are only appended;
 *   never copy one by value, allocate one or make an array of them.
 * - Everything else is fixed forever: size, fields and their order never
 *   change (a new need is a new struct and a new function).  That is
 *   router_error, what the caller fills (router_value, router_param,
 *   router_allocator, router_sample_key, router_doc_shards: often in
 *   arrays), and what the library writes into caller memory, alone or in
 *   arrays (router_keyrange, router_route_result, router_history_entry,
 *   router_fence, router_pending_info, router_shadow_stat, which
 *   router_shadow_totals writes, router_target).
 * tests/abi checks all of this against the 0.1 header (tests/abi/
 * router-0.1.h).  Versions: a major version (and the soname,
 * librouter.so.MAJOR) changes for anything that breaks a program built
 * against the previous header; a minor version adds functions, fields
 * under the rules above, codes or flags; a patch version only fixes.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header (the Makefile reads these three lines).  The
 * library a program runs with may be newer: router_library_version(). */
#define ROUTER_VERSION_MAJOR 0
#define ROUTER_VERSION_MINOR 2
#define ROUTER_VERSION_PATCH 0
#define ROUTER_VERSION_HEX                                                  \
	((ROUTER_VERSION_MAJOR << 16) | (ROUTER_VERSION_MINOR << 8) |       \
	 ROUTER_VERSION_PATCH)

#if defined(ROUTER_BUILDING) && defined(__GNUC__)
#define ROUTER_EXTERN __attribute__((visibility("default")))
#else
#define ROUTER_EXTERN
#endif

/* ------------------------------------------------------------------------ */
/* Library version                                                          */
/* ------------------------------------------------------------------------ */

/* Version of the library running this call (not of the header it was
 * compiled against: compare with ROUTER_VERSION_HEX), as
 * (MAJOR << 16) | (MINOR << 8) | PATCH, e.g. 0x000200 for 0.2.0.  Not the
 * routing table's version (router_serving_version).  Thread-safe. */
ROUTER_EXTERN unsigned router_library_version(void);
/* The same as static text, "0.2.0"; never NULL.  Thread-safe. */
ROUTER_EXTERN const char *router_library_version_string(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

/* X(name, value, description).  Values never change once released. */
#define ROUTER_ERRNO_MAP(X)                                                     \
	X(EINVAL, -1, "invalid argument")                                       \
	X(ENOMEM, -2, "out of memory")                                          \
	X(ENOTFOUND, -3, "no such keyspace, table or vindex")                   \
	X(ERANGE, -4, "name, value or buffer out of range")                     \
	X(ESHARDNAME, -5, "malformed shard name")                               \
	X(EVSCHEMA, -6, "invalid VSchema")                                      \
	X(EREFERENCE, -7, "dangling or invalid vindex reference")               \
	X(EEMPTY, -8, "publish would leave a keyspace or the table empty")      \
	X(ECOVERAGE, -9, "shards do not partition the keyspace-ID space")       \
	X(EVERSION, -10, "version does not move forward")                       \
	X(ESHRINK, -11, "destructive change without the destructive flag")      \
	X(ENEEDSLOOKUP, -12, "vindex needs an external lookup")                 \
	X(EUNSUPPORTED, -13, "vindex type not computed in process")             \
	X(ENOHISTORY, -14, "no such table in the history")                      \
	X(EMULTISHARD, -15, "table lives on every shard (reference table)")     \
	X(EDISABLED, -16, "table disabled by a routing rule")                   \
	X(ESTATE, -17, "object used in the wrong state")                        \
	X(EDOC, -18, "malformed routing document")                              \
	X(EIO, -19, "input/output error")                                      \
	X(EFENCED, -20, "table content fenced after a refusal or rollback")   \
	X(EINVARIANT, -21, "publish would break an operator invariant")         \
	X(ESHADOW, -22, "sample keys would move or lose their shard")           \
	X(EQUARANTINED, -23, "refused and kept pending for an operator")     \
	X(EKSIDCHANGE, -24, "existing rows would change keyspace ID")       \
	X(ECALLBACK, -25, "called from a router's event callback")          \
	X(ERULE, -26, "table's routing rule is invalid (vtgate's error)")     \
	X(EKEYSPACE, -27, "keyspace's VSchema is invalid (vtgate's error)")

enum router_status {
	ROUTER_OK = 0,
	/* The value maps to no keyspace ID (e.g. NULL through hash). */
	ROUTER_NONE = 1,
#define ROUTER__ERRNO_ENUM(name, value, desc) ROUTER_##name = value,
	ROUTER_ERRNO_MAP(ROUTER__ERRNO_ENUM)
#undef ROUTER__ERRNO_ENUM
	/* The lowest status code this header defines.  A newer library may
	 * return lower ones (codes are only ever added below it);
	 * router_strerror and router_errname answer for any int. */
	ROUTER_ERRNO_MIN = -27
};

/* Static description of a status code ("invalid argument"); never NULL. */
ROUTER_EXTERN const char *router_strerror(int code);
/* Static name of a status code ("ROUTER_EINVAL"); never NULL. */
ROUTER_EXTERN const char *router_errname(int code);

/* What kind of failure a status code is: what a caller (a binding's
 * exception class, a retry policy) decides from the code alone.
 *   OK            ROUTER_OK and ROUTER_NONE (not failures);
 *   REFUSAL       a guard or a policy refused a publish; the table in
 *                 service is unchanged (EEMPTY EVERSION ESHRINK EKSIDCHANGE
 *                 EFENCED EINVARIANT ESHADOW EQUARANTINED);
 *   NO_ROUTE      the lookup has no answer in the table in service
 *                 (ENOTFOUND ENEEDSLOOKUP EUNSUPPORTED EMULTISHARD
 *                 EDISABLED ERULE EKEYSPACE);
 *   BAD_INPUT     the caller's arguments or call are wrong (EINVAL ERANGE
 *                 ESTATE ECALLBACK ENOHISTORY);
 *   BAD_DOCUMENT  a routing document or VSchema is invalid (EDOC EVSCHEMA
 *                 EREFERENCE ECOVERAGE ESHARDNAME);
 *   RESOURCE      the system failed the call (ENOMEM EIO).
 * docs/errors.md maps each code to the bindings' exception classes.
 * Values never change once released. */
typedef enum router_error_cat {
	ROUTER_CAT_OK = 0,
	ROUTER_CAT_REFUSAL = 1,
	ROUTER_CAT_NO_ROUTE = 2,
	ROUTER_CAT_BAD_INPUT = 3,
	ROUTER_CAT_BAD_DOCUMENT = 4,
	ROUTER_CAT_RESOURCE = 5
} router_error_cat;

/* The category of a status code (a router_error_cat), or -1 for an int
 * that is no status code of this library (a newer library's code is
 * unknown to an older one: treat -1 as "some error").  Thread-safe. */
ROUTER_EXTERN int router_error_category(int code);
/* Static lower-case name of a category ("refusal", "no_route",
 * "bad_input", "bad_document", "resource", "ok"), "unknown" for any other
 * int; never NULL. */
ROUTER_EXTERN const char *router_error_category_name(int category);

#define ROUTER_CULPRIT_MAX 160
#define ROUTER_MESSAGE_MAX 352

/* Caller-owned error detail.  code is the status; culprit names the object
 * at fault ("user", "user.users", "user/-80", a JSON path), message says what
 * and why.  Both strings are always NUL-terminated (possibly empty). */
typedef struct router_error {
	int code;
	char culprit[ROUTER_CULPRIT_MAX];
	char message[ROUTER_MESSAGE_MAX];
} router_error;

/* ------------------------------------------------------------------------ */
/* Limits and allocator                                                     */
/* ------------------------------------------------------------------------ */

#define ROUTER_NAME_MAX 128     /* bytes in a keyspace/table/vindex/column name */
#define ROUTER_KEY_MAX 32       /* bytes in a key-range bound */
#define ROUTER_KSID_MAX 32      /* bytes of keyspace ID copied into a result */
#define ROUTER_MULTICOL_MAX 8   /* columns of a multicol vindex (as Vitess) */
#define ROUTER_NO_SHARD UINT32_MAX

/* Allocation hooks, per builder and per router (not process-wide).  All
 * three functions must be set; ctx is passed back.  Memory may be freed on a
 * different thread from the one that allocated it (deferred reclamation). */
typedef struct router_allocator {
	void *(*malloc)(void *ctx, size_t size);
	void *(*realloc)(void *ctx, void *ptr, size_t size);
	void (*free)(void *ctx, void *ptr);
	void *ctx;
} router_allocator;

/* ------------------------------------------------------------------------ */
/* Values and vindexes                                                      */
/* ------------------------------------------------------------------------ */

/* SQL type of a value: Vitess's answer depends on it (sqltypes.Value). */
typedef enum router_sqltype {
	ROUTER_SQL_NULL = 0,
	ROUTER_SQL_INT64 = 1,     /* any signed integer type (INT8..INT64) */
	ROUTER_SQL_UINT64 = 2,    /* any unsigned integer type */
	ROUTER_SQL_VARCHAR = 3,   /* text */
	ROUTER_SQL_VARBINARY = 4, /* bytes */
	ROUTER_SQL_FLOAT64 = 5    /* any other type, given by its text form */
} router_sqltype;

/* A value.  INT64 uses i64, UINT64 uses u64; VARCHAR, VARBINARY and FLOAT64
 * use (ptr, len), which must stay valid for the duration of the call; NULL
 * uses nothing.  Build them with the initializers below. */
typedef struct router_value {
	router_sqltype type;
	int64_t i64;
	uint64_t u64;
	const void *ptr;
	size_t len;
} router_value;

/* The SQL type named by (name, len), as the bindings and routerctl spell
 * them: "null"; "int8" "int16" "int24" "int32" "int64" (INT64); "uint8"
 * "uint16" "uint24" "uint32" "uint64" (UINT64); "varchar" "char" "text"
 * (VARCHAR); "varbinary" "binary" "blob" (VARBINARY); "float32" "float64"
 * "decimal" (FLOAT64: hashed by their text).  Lower case only, the whole
 * buffer (no NUL, no blanks).  ROUTER_OK with *out set, or ROUTER_EINVAL
 * (unknown name, NULL name with len > 0, NULL out; *out unchanged).
 * name may be NULL only when len is 0.  Thread-safe. */
ROUTER_EXTERN int router_sqltype_parse(const char *name, size_t len,
                                       router_sqltype *out);

#define ROUTER_VALUE_NULL ((router_value){ROUTER_SQL_NULL, 0, 0, NULL, 0})
#define ROUTER_VALUE_INT64(v) ((router_value){ROUTER_SQL_INT64, (v), 0, NULL, 0})
#define ROUTER_VALUE_UINT64(v) ((router_value){ROUTER_SQL_UINT64, 0, (v), NULL, 0})
#define ROUTER_VALUE_BYTES(t, p, n) ((router_value){(t), 0, 0, (p), (n)})

/* Parse the text form of a value of the given type into *out, following
 * Go's strconv for integer types (base 10, optional sign for INT64 only,
 * leading zeros allowed, no spaces, overflow is an error).  For VARCHAR,
 * VARBINARY and FLOAT64 out points at text; NULL ignores text.
 * Returns ROUTER_OK, or ROUTER_EINVAL for a malformed integer / bad type.
 * Thread-safe. */
ROUTER_EXTERN int router_value_parse(router_sqltype type, const void *text,
                                     size_t len, router_value *out,
                                     router_error *err);

/* A vindex outside any table: create it from its Vitess type name and
 * params, then map values to keyspace IDs.  Immutable once created; may be
 * shared by threads. */
typedef struct router_vindex router_vindex;

typedef struct router_param {
	const char *key;
	const char *value;
} router_param;

/* Create a vindex of type `type` ("hash", "xxhash", "numeric", "binary",
 * "binary_md5", "reverse_bits", "null", "numeric_static_map", "multicol",
 * "region_experimental", and the declared-only lookup and unicode_loose
 * families) with params (may be NULL when nparams is 0).  alloc may be NULL
 * (malloc).  Returns ROUTER_OK; ROUTER_EREFERENCE for an unknown type or
 * params that do not parse (the message is Vitess's); ROUTER_ENOMEM;
 * ROUTER_EINVAL for NULL arguments. */
ROUTER_EXTERN int router_vindex_create(router_vindex **out, const char *type,
                                       const router_param *params,
                                       size_t nparams,
                                       const router_allocator *alloc,
                                       router_error *err);
ROUTER_EXTERN void router_vindex_free(router_vindex *v);

/* Map values (one per column; multicol takes column_count values, every
 * other vindex exactly one) to a keyspace ID written into out[0..cap).
 * *len receives the keyspace ID's full length.  Returns ROUTER_OK,
 * ROUTER_NONE (maps to no keyspace ID; *len = 0), ROUTER_ERANGE (cap too
 * small; *len says how much is needed), ROUTER_ENEEDSLOOKUP (lookup family),
 * ROUTER_EUNSUPPORTED (unicode_loose_*, region_json, cfc), ROUTER_EINVAL
 * (wrong number of values, NULL arguments).  Thread-safe. */
ROUTER_EXTERN int router_vindex_map(const router_vindex *v,
                                    const router_value *values,
                                    size_t nvalues, uint8_t *out, size_t cap,
                                    size_t *len, router_error *err);

/* Convenience: create a parameterless vindex of `type`, map one value,
 * free it.  Same returns as router_vindex_create and router_vindex_map. */
ROUTER_EXTERN int router_keyspace_id(const char *type,
                                     const router_value *value, uint8_t *out,
                                     size_t cap, size_t *len,
                                     router_error *err);

/* ------------------------------------------------------------------------ */
/* Key ranges and shard names                                               */
/* ------------------------------------------------------------------------ */

/* A key range [start, end).  full != 0 means the nil range of a non-range
 * shard ("0"), which contains everything.  An empty start is the minimum,
 * an empty end the maximum. */
typedef struct router_keyrange {
	uint8_t start[ROUTER_KEY_MAX];
	uint8_t end[ROUTER_KEY_MAX];
	uint8_t start_len;
	uint8_t end_len;
	uint8_t full;
} router_keyrange;

/* Parse a shard name exactly as Vitess's topo.ValidateShardName and
 * key.ParseShardingSpec do ("-80", "80-c0", "0", "-").  Returns ROUTER_OK
 * or ROUTER_ESHARDNAME with Vitess's message ("out of order keys: ...",
 * "encoding/hex: odd length hex string", ...); ROUTER_ERANGE when a bound is
 * longer than ROUTER_KEY_MAX bytes.  Thread-safe. */
ROUTER_EXTERN int router_keyrange_parse(const char *name, size_t len,
                                        router_keyrange *out,
                                        router_error *err);

/* Format a range as Vitess's KeyRangeString ("-80", "-" for full ranges,
 * "0" is never produced) into buf (NUL-terminated).  Returns the length
 * needed excluding the NUL (at most 2 * 2 * ROUTER_KEY_MAX + 1); writes
 * nothing past cap. */
ROUTER_EXTERN size_t router_keyrange_format(const router_keyrange *kr,
                                            char *buf, size_t cap);

/* 1 if ksid lies in kr (Vitess v17+ normalized comparison), else 0. */
ROUTER_EXTERN int router_keyrange_contains(const router_keyrange *kr,
                                           const void *ksid, size_t len);

/* Compare two keyspace IDs or bounds the Vitess v17+ way: trailing zero
 * bytes are ignored, then unsigned lexicographic order.  <0, 0, >0. */
ROUTER_EXTERN int router_key_compare(const void *a, size_t alen, const void *b,
                                     size_t blen);

/* Write the name of shard i of an even partition of n shards, as Vitess's
 * GenerateShardRanges (n in 1..65536), into buf (NUL-terminated).  Returns
 * ROUTER_OK, ROUTER_EINVAL (i >= n, n out of range) or ROUTER_ERANGE
 * (cap too small: 10 bytes always suffice). */
ROUTER_EXTERN int router_shard_range_name(unsigned i, unsigned n, char *buf,
                                          size_t cap);

/* ------------------------------------------------------------------------ */
/* Building a table                                                         */
/* ------------------------------------------------------------------------ */

typedef struct router_builder router_builder;
typedef struct router_table router_table;

typedef enum router_table_type {
	ROUTER_TABLE_NORMAL = 0,
	ROUTER_TABLE_REFERENCE = 1,
	ROUTER_TABLE_SEQUENCE = 2
} router_table_type;

/* Create an empty builder.  alloc may be NULL (malloc); the table it builds
 * uses the same allocator.  A builder is used by one thread at a time. */
ROUTER_EXTERN int router_builder_create(router_builder **out,
                                        const router_allocator *alloc,
                                        router_error *err);
ROUTER_EXTERN void router_builder_free(router_builder *b);

/* Version of the table to build.  0 (the default) means "the next version":
 * the router assigns one above every version it has accepted.  Versions
 * run from 1 to ROUTER_VERSION_MAX; router_publish refuses UINT64_MAX
 * (ROUTER_EVERSION), so that "the next version" always exists as a number
 * and never wraps to 0, and refuses "next" once ROUTER_VERSION_MAX has
 * been accepted (a router there takes only rollbacks: start a new one). */
#define ROUTER_VERSION_MAX (UINT64_MAX - 1)
ROUTER_EXTERN int router_builder_set_version(router_builder *b,
                                             uint64_t version);

/* The adders below record a definition and check only what is local to it
 * (names, lengths, duplicates).  Everything relational (references, shard
 * coverage, Vitess's VSchema rules) is checked by router_table_build, which
 * reports every problem.  Each returns ROUTER_OK, ROUTER_EINVAL (NULL or
 * empty name, duplicate definition, unknown keyspace/table named by the
 * call), ROUTER_ERANGE (name longer than ROUTER_NAME_MAX), ROUTER_ENOMEM. */

/* A keyspace; sharded is 0 or 1. */
ROUTER_EXTERN int router_builder_add_keyspace(router_builder *b,
                                              const char *keyspace,
                                              int sharded, router_error *err);
/* A shard of a keyspace, by Vitess shard name ("-80").  An unsharded
 * keyspace without shards gets the single shard "0".  Also
 * ROUTER_ESHARDNAME for a malformed name. */
ROUTER_EXTERN int router_builder_add_shard(router_builder *b,
                                           const char *keyspace,
                                           const char *shard,
                                           router_error *err);
/* A vindex definition; params are copied; owner may be NULL. */
ROUTER_EXTERN int router_builder_add_vindex(router_builder *b,
                                            const char *keyspace,
                                            const char *name, const char *type,
                                            const router_param *params,
                                            size_t nparams, const char *owner,
                                            router_error *err);
/* A table.  pinned is the hex keyspace ID of a pinned table, or NULL. */
ROUTER_EXTERN int router_builder_add_table(router_builder *b,
                                           const char *keyspace,
                                           const char *table,
                                           router_table_type type,
                                           const char *pinned,
                                           router_error *err);
/* Append a column vindex to a table; the first one added is the primary
 * vindex.  columns: ncolumns >= 1 column names. */
ROUTER_EXTERN int router_builder_add_column_vindex(router_builder *b,
                                                   const char *keyspace,
                                                   const char *table,
                                                   const char *vindex,
                                                   const char *const *columns,
                                                   size_t ncolumns,
                                                   router_error *err);
/* A table routing rule: from_table ("t", "ks.t", "ks.t@primary") redirects
 * to to_table ("ks2.t"), or is disabled when to_table is NULL.  Lookups
 * always name a keyspace, so they follow "ks.t@primary" first, then "ks.t"
 * (as Vitess's FindRoutedTable does for a qualified name).  Unqualified
 * rules ("t") and rules for other tablet types (@replica, @rdonly) are
 * accepted, kept, hashed and diffed, but do not affect routing. */
ROUTER_EXTERN int router_builder_add_routing_rule(router_builder *b,
                                                  const char *from_table,
                                                  const char *to_table,
                                                  router_error *err);

/* Validate and build.  On success *out is a new immutable table and the
 * builder may be reused or freed.  On failure returns the code of the first
 * problem (ROUTER_EREFERENCE, ROUTER_ECOVERAGE, ROUTER_EEMPTY,
 * ROUTER_EVSCHEMA, ROUTER_ENOMEM...) with it in err; every problem found is
 * listed by router_builder_problem.  Nothing is allocated on failure. */
ROUTER_EXTERN int router_table_build(router_builder *b, router_table **out,
                                     router_error *err);
/* Problems found by the last router_table_build (0 after a success). */
ROUTER_EXTERN size_t router_builder_problem_count(const router_builder *b);
/* Copy problem i into *out.  ROUTER_OK or ROUTER_ENOTFOUND. */
ROUTER_EXTERN int router_builder_problem(const router_builder *b, size_t i,
                                         router_error *out);

/* Free a table that is not owned by a router (never published, or refused). */
ROUTER_EXTERN void router_table_free(router_table *t);
/* The table's version (0 = to be assigned at publish). */
ROUTER_EXTERN uint64_t router_table_version(const router_table *t);
/* A 64-bit hash of the table's routing content (keyspaces, shards, vindexes,
 * tables, rules; not the version): equal content, equal hash. */
ROUTER_EXTERN uint64_t router_table_hash(const router_table *t);

/* ------------------------------------------------------------------------ */
/* Routing results                                                          */
/* ------------------------------------------------------------------------ */

/* Distinct shard names a router interns in its lifetime: a publish that
 * would bring it past this is refused (ROUTER_ERANGE, nothing changes).
 * Names are never released (see below), so this bounds their memory. */
#define ROUTER_SHARD_NAMES_MAX 65536u

typedef struct router_route_result {
	/* The shard's name, NUL-terminated.  From a router: interned for the
	 * router's lifetime (valid until router_free, across any publish;
	 * at most ROUTER_SHARD_NAMES_MAX names per router).
	 * From router_table_route: valid while the table lives. */
	const char *shard;
	size_t shard_len;
	/* Router-wide id of the shard name, stable for the router's lifetime
	 * (ROUTER_NO_SHARD from router_table_route). */
	uint32_t shard_id;
	/* Position of the shard in the keyspace's partition of that table. */
	uint32_t shard_index;
	/* Version of the table that answered. */
	uint64_t version;
	/* The keyspace ID (first ROUTER_KSID_MAX bytes) and its full length. */
	uint8_t ksid[ROUTER_KSID_MAX];
	size_t ksid_len;
} router_route_result;

/* Route on a frozen table, without a router (no synchronization: the caller
 * keeps t alive).  keyspace/table as (ptr, len).  Returns ROUTER_OK,
 * ROUTER_NONE, ROUTER_ENOTFOUND (keyspace or table), ROUTER_EDISABLED,
 * ROUTER_ERULE (the table's routing rule is one vtgate keeps as an error:
 * err's message is Vitess's, naming the rule), ROUTER_EKEYSPACE (the
 * keyspace failed to build and vtgate keeps it with its error, a document
 * note of kind ROUTER_DOC_NOTE_KEYSPACE: err's message is Vitess's),
 * ROUTER_EMULTISHARD, ROUTER_ENEEDSLOOKUP, ROUTER_EUNSUPPORTED,
 * ROUTER_EINVAL (wrong number of values).  Thread-safe. */
ROUTER_EXTERN int router_table_route(const router_table *t,
                                     const char *keyspace, size_t keyspace_len,
                                     const char *table, size_t table_len,
                                     const router_value *values,
                                     size_t nvalues, router_route_result *out,
                                     router_error *err);
/* The shard of keyspace holding keyspace ID ksid in a frozen table.
 * ROUTER_OK or ROUTER_ENOTFOUND. */
ROUTER_EXTERN int router_table_route_ksid(const router_table *t,
                                          const char *keyspace,
                                          size_t keyspace_len,
                                          const void *ksid, size_t ksid_len,
                                          router_route_result *out,
                                          router_error *err);

/* Where vtgate serves a query (router_table_route_target, since 0.2.0):
 * the keyspace and table after every routing rule of the SrvVSchema.
 * Vitess applies them in this order (FindRoutedTable, then
 * fixupPartiallyMovedShards), and so does librouter:
 *   1. a keyspace routing rule (keyspace_routing_rules, multi-tenant
 *      MoveTables) replaces the keyspace asked for;
 *   2. a table routing rule (routing_rules, MoveTables) of that keyspace
 *      and table replaces both ("customer.corder" -> "commerce.corder");
 *   3. the shard is resolved in that keyspace's partition, and a shard
 *      routing rule (shard_routing_rules, partial MoveTables) of that
 *      keyspace and shard serves it from another keyspace, under the same
 *      shard name.  vtgate does this step only when it runs with
 *      --enable-partial-keyspace-migration (default off); so does
 *      librouter, with ROUTER_TARGET_SHARD_ROUTING in the call's flags.
 * Mirror rules change no answer. */
typedef struct router_target {
	char keyspace[ROUTER_NAME_MAX + 1]; /* NUL-terminated */
	size_t keyspace_len;
	char table[ROUTER_NAME_MAX + 1]; /* NUL-terminated */
	size_t table_len;
	unsigned rules; /* ROUTER_TARGET_* bits: the rules that applied */
} router_target;

#define ROUTER_TARGET_KEYSPACE_RULE 0x1u /* keyspace_routing_rules */
#define ROUTER_TARGET_TABLE_RULE 0x2u    /* routing_rules */
#define ROUTER_TARGET_SHARD_RULE 0x4u    /* shard_routing_rules */

/* The SrvVSchema field of one ROUTER_TARGET_*_RULE bit
 * ("keyspace_routing_rules", "routing_rules", "shard_routing_rules"),
 * static; NULL for any other value.  The bits, lowest first, are Vitess's
 * order.  Since 0.2.0; thread-safe. */
ROUTER_EXTERN const char *router_target_rule_name(unsigned bit);

/* Flags of router_table_route_target and router_route_target: apply the
 * shard routing rules, as vtgate started with
 * --enable-partial-keyspace-migration does (without it, as vtgate's
 * default, they are kept in the table but serve nothing). */
#define ROUTER_TARGET_SHARD_ROUTING 0x1u

/* router_table_route, also saying in *target where vtgate would serve the
 * query (router_target): the shard in *out is the shard name vtgate
 * targets, target->keyspace the keyspace it sends it to.  *target is
 * filled whenever the names resolved to a table, also when the values do
 * not route (ROUTER_NONE: no shard, no shard rule applied;
 * ROUTER_EMULTISHARD: every shard of target->keyspace, shard rules not
 * applied; a vindex error);
 * when they did not (ROUTER_ENOTFOUND, ROUTER_EDISABLED, ROUTER_ERULE,
 * ROUTER_EKEYSPACE, ROUTER_EINVAL for NULL arguments, unknown flags or a
 * name with a NUL byte, ROUTER_ERANGE for a name longer than
 * ROUTER_NAME_MAX) target->keyspace_len is 0 and both names are "".  A
 * rule bit is set only when the rule moved the query (Vitess writes
 * identity rules too: MoveTables routes source.t to source.t).  flags: 0
 * or ROUTER_TARGET_SHARD_ROUTING.  Returns as router_table_route.  Since
 * 0.2.0; thread-safe. */
ROUTER_EXTERN int router_table_route_target(
    const router_table *t, const char *keyspace, size_t keyspace_len,
    const char *table, size_t table_len, const router_value *values,
    size_t nvalues, unsigned flags, router_route_result *out,
    router_target *target, router_error *err);

/* The shards a `LIKE 'prefix%'` on the primary column can reach, for a
 * table whose primary vindex is cfc (Vitess's PrefixVindex): the bytes of
 * the LIKE literal (like, like_len) before its first unescaped % or _
 * (backslash escapes decoded) are mapped component by component to the
 * key range [begin, begin + 1); an empty begin reaches every shard.  The
 * shards that range intersects, in partition order, go into out[0..cap)
 * (shard, shard_id, shard_index, version as router_table_route; ksid_len
 * 0) and their number into *n, also when it exceeds cap.  An unsharded
 * table's shard is the one answer.  keyspace/table as (ptr, len).
 * Returns ROUTER_OK, ROUTER_ERANGE (more than cap shards: *n says how many;
 * the first cap are filled), ROUTER_ENOTFOUND (keyspace or table),
 * ROUTER_EDISABLED, ROUTER_EMULTISHARD (reference table),
 * ROUTER_EUNSUPPORTED (the primary vindex is not cfc), ROUTER_EINVAL,
 * ROUTER_ENOMEM.  Shard names are valid while t lives.  Thread-safe. */
ROUTER_EXTERN int router_table_route_prefix(
    const router_table *t, const char *keyspace, size_t keyspace_len,
    const char *table, size_t table_len, const void *like, size_t like_len,
    router_route_result *out, size_t cap, size_t *n, router_error *err);

/* ------------------------------------------------------------------------ */
/* Column vindexes and lookup vindexes through the application              */
/* ------------------------------------------------------------------------ */

/*
 * Any column vindex of a table can route, named by its column(s): columns
 * is the vindex's column list as (ptr, len), names separated by ","
 * (blanks around a name ignored, compared ignoring ASCII case, in order),
 * e.g. "email" or "region, id"; an empty list (columns_len 0) names the
 * primary vindex.  A non-lookup vindex maps the values in
 * process.  A lookup vindex (lookup, lookup_unique, lookup_hash,
 * lookup_hash_unique, lookup_unicodeloosemd5_hash[_unique],
 * consistent_lookup[_unique]) keeps its mapping in a database table that
 * the application reads: vtgate's two halves are given to it, what to ask
 * (router_table_lookup_query) and how the rows answer
 * (router_table_route_column with the rows).  A lookup vindex takes one
 * value; a non-unique one may answer with several keyspace IDs, hence
 * several shards.  docs/spec.md "Lookup vindexes".
 */

/* router_lookup_query.flags */
#define ROUTER_LOOKUP_UNIQUE 1u   /* at most one row may answer */
#define ROUTER_LOOKUP_BATCHED 2u  /* vtgate sends one IN query for all of a
                                   * statement's values and matches rows to
                                   * values by the text of `from`; else one
                                   * query per value, every row used */
#define ROUTER_LOOKUP_NO_QUERY 4u /* write_only, or ignore_nulls with the
                                   * single value NULL: every shard, no query
                                   * to run */

/* The query vtgate would issue for a lookup vindex's Map.  Fixed forever.
 * Strings are NUL-terminated as well as (ptr, len) and point into the
 * table's memory (valid while it lives) or, from router_route_column's
 * resolver, into memory valid for the callback. */
typedef struct router_lookup_query {
	const char *vindex_type; /* "lookup_hash" ... */
	/* "select <from>, <to> from <table> where <from> in ::<from>": the
	 * bind variable <from> is a tuple of the value(s). */
	const char *sql;
	size_t sql_len;
	const char *table; /* the `table` param as written ("ks.t" or "t") */
	size_t table_len;
	const char *from; /* the first `from` column, trimmed */
	size_t from_len;
	const char *to;
	size_t to_len;
	/* What vtgate appends inside a DML transaction (read_lock): " for
	 * update", " lock in share mode" or "". */
	const char *lock_suffix;
	size_t lock_suffix_len;
	unsigned flags; /* ROUTER_LOOKUP_* */
	/* Version of the table the query was read from. */
	uint64_t version;
	/* The value to bind in the tuple: the caller's value, except for
	 * lookup_unicodeloosemd5_hash*, which binds UINT64 of the first 8
	 * bytes (big-endian) of unicode_loose_md5(value).  Its bytes, if
	 * any, are the caller's. */
	router_value bind;
} router_lookup_query;

/* A row the application got back: the `from` and `to` columns, in that
 * order, as the query selects them.  Fixed forever. */
typedef struct router_lookup_row {
	router_value from;
	router_value to;
} router_lookup_row;

/* What to ask for routing value through the lookup vindex on columns of
 * keyspace.table (resolved as router_table_route does, routing rules
 * included).  Fills *out (see router_lookup_query).  Returns ROUTER_OK;
 * ROUTER_ENOTFOUND (keyspace, table, or no column vindex on those
 * columns); ROUTER_EDISABLED; ROUTER_EINVAL (NULL arguments, not a lookup
 * vindex, invalid UTF-8 for lookup_unicodeloosemd5_hash* with Vitess's
 * message).  Thread-safe on a frozen table the caller keeps alive. */
ROUTER_EXTERN int router_table_lookup_query(
    const router_table *t, const char *keyspace, size_t keyspace_len,
    const char *table, size_t table_len, const char *columns,
    size_t columns_len, const router_value *value, router_lookup_query *out,
    router_error *err);

/* Route values through the column vindex on columns of keyspace.table:
 * one result per shard, in the order the keyspace IDs came, written to
 * out[0..cap) (each result's ksid is the first keyspace ID that reached
 * it; an all-shards answer has ksid_len 0), *count their number.
 * Non-lookup vindex: values are its columns' values (rows ignored), one
 * result.  Lookup vindex: one value, and rows[0..nrows) the rows its
 * query returned (rows NULL: not asked yet).  The keyspace IDs are: the
 * raw bytes of `to` (lookup*, consistent_lookup*); hash of `to` read
 * as a uint64 (lookup_hash*, lookup_unicodeloosemd5_hash*; rows that do
 * not read as one are skipped).  A batched query's rows count when
 * their `from` has the text of the bound value; a per-value query's all
 * count.  Returns ROUTER_OK; ROUTER_NONE (no row, or no row gave a
 * keyspace ID; *count 0); ROUTER_ENEEDSLOOKUP (a lookup vindex and rows
 * NULL, unless ROUTER_LOOKUP_NO_QUERY applies: then every shard);
 * ROUTER_ERANGE (more shards than cap: the first cap are written, *count
 * says how many there are); ROUTER_EINVAL (a unique vindex answered by
 * several rows: Vitess's "Lookup.Map: unexpected multiple results from
 * vindex <table>: INT64(1)"; wrong number of values, NULL arguments);
 * ROUTER_ENOTFOUND, ROUTER_EDISABLED, ROUTER_EUNSUPPORTED as
 * router_table_route.  Thread-safe on a frozen table the caller keeps
 * alive. */
ROUTER_EXTERN int router_table_route_column(
    const router_table *t, const char *keyspace, size_t keyspace_len,
    const char *table, size_t table_len, const char *columns,
    size_t columns_len, const router_value *values, size_t nvalues,
    const router_lookup_row *rows, size_t nrows, router_route_result *out,
    size_t cap, size_t *count, router_error *err);

/* ------------------------------------------------------------------------ */
/* Diffs                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum router_diff_kind {
	ROUTER_DIFF_KEYSPACE = 1,
	ROUTER_DIFF_TABLE = 2,
	ROUTER_DIFF_VINDEX = 3,
	ROUTER_DIFF_SHARD = 4,
	ROUTER_DIFF_RULE = 5
} router_diff_kind;

typedef enum router_diff_op {
	ROUTER_DIFF_ADDED = 1,
	ROUTER_DIFF_REMOVED = 2,
	ROUTER_DIFF_CHANGED = 3
} router_diff_op;

typedef struct router_diff_entry {
	router_diff_kind kind;
	router_diff_op op;
	const char *keyspace; /* "" for routing rules */
	const char *name;     /* keyspace, table, vindex, shard or rule name */
	const char *detail;   /* what changed, e.g. "sharded -> unsharded" */
} router_diff_entry;

typedef struct router_diff router_diff;

/* Compute what changes from a to b (a may be NULL: everything is added).
 * Entries are sorted by keyspace, kind, name.  Thread-safe on frozen
 * tables.  ROUTER_OK, ROUTER_EINVAL, ROUTER_ENOMEM. */
ROUTER_EXTERN int router_diff_tables(const router_table *a,
                                     const router_table *b, router_diff **out,
                                     router_error *err);
ROUTER_EXTERN size_t router_diff_count(const router_diff *d);
/* Entry i, or NULL past the end.  Valid until router_diff_free. */
ROUTER_EXTERN const router_diff_entry *router_diff_get(const router_diff *d,
                                                       size_t i);
/* Number of entries of a kind and op (kind or op 0 = any). */
ROUTER_EXTERN size_t router_diff_tally(const router_diff *d,
                                       router_diff_kind kind,
                                       router_diff_op op);
ROUTER_EXTERN void router_diff_free(router_diff *d);

/* ------------------------------------------------------------------------ */
/* The live router                                                          */
/* ------------------------------------------------------------------------ */

typedef struct router router;

/* What a publish attempt did; passed to the observer callback. */
typedef enum router_event_kind {
	ROUTER_EVENT_PUBLISH = 1,
	ROUTER_EVENT_ROLLBACK = 2,
	ROUTER_EVENT_CHECK = 3,
	/* An automatic snapshot (router_options.snapshot_path) failed after
	 * an accepted publish or rollback: code and error say why; the
	 * publish itself stands. */
	ROUTER_EVENT_SNAPSHOT = 4,
	/* The pending (quarantined) table was discarded by an operator or
	 * superseded by a newer accepted publish (code ROUTER_OK). */
	ROUTER_EVENT_DISCARD = 5
} router_event_kind;

typedef struct router_event {
	router_event_kind kind;
	int code;                  /* ROUTER_OK or the refusal's code */
	uint64_t version_from;     /* in service before */
	uint64_t version_to;       /* offered (or rolled back to) */
	uint64_t hash_to;          /* content hash offered */
	const router_error *error; /* refusal detail; NULL on success */
	const router_diff *diff;   /* may be NULL (rollback, out of memory) */
	/* Added after 0.1.0 (the library allocates events, so appending is
	 * safe): the shadow evaluation of this publish, or NULL when no
	 * sample is set or nothing was in service. */
	const struct router_shadow_verdict *shadow;
} router_event;

/* Called on every publish, check and rollback with the verdict, after the
 * router's writer lock is released, on the thread that made the call and
 * before that call returns; events reach the callback in the order of the
 * changes, one at a time (a writer whose events come after another's waits
 * for that callback to return).  ev and everything it points to (error,
 * diff, shadow) is valid during the callback only.
 * From the callback, any read of the router works: lookups, handles
 * (router_handle_open included), router_stats_get, router_history,
 * router_fences, router_invariant_get, router_pending, router_inspect,
 * router_serving_version, router_snapshot_save, and the fence, invariant and
 * sample setters.  What would wait for the delivery in progress returns
 * ROUTER_ECALLBACK and changes nothing: router_publish, router_rollback,
 * router_rollback_to, router_pending_approve, router_pending_discard, on
 * this router or any other (two callbacks publishing to each other's
 * routers would wait for each other); router_free of the router whose
 * event is being delivered does nothing.  fork() from the callback or
 * while another thread is in it is safe: the child does not wait for
 * events of threads it does not have. */
typedef void (*router_event_cb)(void *arg, const router_event *ev);

/* A deep copy of an event, to keep beyond the callback (or to hand to
 * another thread): the scalar fields, the error, the diff and the shadow
 * verdict, each copied (NULL stays NULL).  The copy's diff and shadow
 * work with router_diff_* and router_shadow_* as the originals; every
 * pointer in the copy is owned by it, valid until router_event_free.
 * Allocated with malloc (the router's allocator hooks are not used: the
 * copy outlives no router but may outlive its allocator's context).
 * ROUTER_OK with *out set; ROUTER_EINVAL (NULL ev or out); ROUTER_ENOMEM
 * (nothing allocated).  *out is NULL on failure.  Any thread, the event
 * callback included (it takes no lock). */
ROUTER_EXTERN int router_event_copy(const router_event *ev,
                                    router_event **out);
/* Free a copy made by router_event_copy (NULL: nothing).  Never pass an
 * event the library gave a callback. */
ROUTER_EXTERN void router_event_free(router_event *ev);

typedef struct router_options {
	size_t size;       /* sizeof(router_options): lets the struct grow */
	unsigned history;  /* accepted tables kept for rollback (>= 1) */
	double max_shrink; /* share of a keyspace's tables a publish may drop */
	const router_allocator *allocator; /* NULL: malloc */
	router_event_cb on_event;          /* NULL: none */
	void *on_event_arg;
	/* Fields below were added after 0.1.0; a caller compiled with an
	 * older router_options leaves them at their defaults (size). */
	/* Last-known-good file written (router_snapshot_save) after every
	 * accepted publish and rollback, under the writer lock; NULL: none.
	 * Copied by router_create. */
	const char *snapshot_path;
	/* Content hashes remembered as fenced (refused tables, tables rolled
	 * back from), oldest forgotten first; 0 turns fencing off. */
	unsigned fence_cap;
} router_options;

#define ROUTER_OPTIONS_INIT \
	{sizeof(router_options), 8, 0.10, NULL, NULL, NULL, NULL, 0}

/* Create a router with no table in service (every lookup returns
 * ROUTER_ENOTFOUND until the first publish).  opt may be NULL (defaults).
 * ROUTER_OK, ROUTER_EINVAL (bad options: history 0 or > 1024, max_shrink
 * outside [0, 1], fence_cap > 65536), ROUTER_ENOMEM.  The options are
 * copied (snapshot_path included). */
ROUTER_EXTERN int router_create(router **out, const router_options *opt,
                                router_error *err);
/* The options r was created with, copied into *out as router_create read
 * them: defaults for what the caller left at ROUTER_OPTIONS_INIT or
 * beyond its size.  The caller sets out->size (ROUTER_OPTIONS_INIT does);
 * only the fields that fit in out->size are written (a program built
 * against an older header gets the fields it knows) and out->size is
 * kept.  allocator, on_event and on_event_arg are the pointers given to
 * router_create; snapshot_path points at the router's own copy (NULL:
 * none), valid until router_free.  ROUTER_OK; ROUTER_EINVAL (NULL r or
 * out, out->size smaller than the 0.1 fields or larger than this
 * library's router_options, as router_create refuses it; *out
 * untouched).  Any thread, event callbacks included (the options never
 * change after router_create). */
ROUTER_EXTERN int router_options_get(const router *r, router_options *out,
                                     router_error *err);
/* Free the router and every table it holds.  No thread may be using the
 * router (routing, publishing, holding a handle) when it is called.  From
 * this router's event callback it does nothing (the delivery in progress
 * still uses the router). */
ROUTER_EXTERN void router_free(router *r);

/* Publish flags. */
#define ROUTER_PUBLISH_DESTRUCTIVE 0x1u /* allow drops beyond the shrink guard */
#define ROUTER_PUBLISH_DRY_RUN 0x2u     /* verdict and diff only */
/* A table refused by the empty, shrink or shadow guard becomes the pending
 * table (router_pending_*) instead of going back to the caller. */
#define ROUTER_PUBLISH_QUARANTINE 0x4u

/* Check t against the table in service and, if every guard passes, make it
 * the table in service with one atomic pointer swap.  The guards:
 * - EEMPTY: t has no keyspace; or a keyspace in service that is sharded and
 *   has tables arrives unsharded with no table (the January 2026 shape);
 * - EVERSION: t's version is not above every version accepted so far
 *   (a version of 0 is assigned the next one), is above
 *   ROUTER_VERSION_MAX, or is 0 when ROUTER_VERSION_MAX was accepted (no
 *   next version: never wraps to 0);
 * - ESHRINK: a keyspace is dropped, turns unsharded, or loses more than
 *   max_shrink of its tables, without ROUTER_PUBLISH_DESTRUCTIVE.
 * - EKSIDCHANGE: a table kept in a sharded keyspace would map its rows
 *   to other keyspace IDs (its primary vindex's type, hashing params or
 *   columns change, its pin changes, it turns reference, or the keyspace
 *   turns sharded), without ROUTER_PUBLISH_DESTRUCTIVE; culprit
 *   "keyspace.table" (README "The guards" lists what counts).
 * Before them: EFENCED (t's content is fenced) and EINVARIANT (an operator
 * invariant is broken); after them: ESHADOW (the sample's keys, when a
 * sample is set).  With ROUTER_PUBLISH_QUARANTINE an EEMPTY, ESHRINK or
 * ESHADOW refusal returns ROUTER_EQUARANTINED and the router keeps t
 * pending (router_pending_*).  See the sections below.
 * (Coverage, references and empty keyspaces are already checked when t is
 * built.)  On acceptance the router owns t; on refusal, and always with
 * ROUTER_PUBLISH_DRY_RUN, the caller keeps t and nothing changes: table in
 * service, versions, history and counters other than "refused" are as
 * before.  diff (optional) receives the diff from the table in service to t,
 * to free with router_diff_free, whatever the verdict.
 * Returns ROUTER_OK or the refusal's code; ROUTER_ESTATE if t already
 * belongs to a router; ROUTER_ERANGE if t's new shard names would bring
 * the router past ROUTER_SHARD_NAMES_MAX; ROUTER_ENOMEM; ROUTER_ECALLBACK from an event
 * callback (t stays the caller's).  Publishers are serialized; readers
 * are never blocked.  Any thread but an event callback's. */
ROUTER_EXTERN int router_publish(router *r, router_table *t, unsigned flags,
                                 router_diff **diff, router_error *err);

/* Make the table `steps` entries back in the history the table in service
 * again (O(1): no rebuild, no guard).  ROUTER_OK, ROUTER_ENOHISTORY (not
 * that many older tables), ROUTER_EINVAL (steps 0), ROUTER_ECALLBACK (from
 * an event callback).  Any thread but an event callback's. */
ROUTER_EXTERN int router_rollback(router *r, unsigned steps,
                                  router_error *err);
/* Same, to the table of the given version. */
ROUTER_EXTERN int router_rollback_to(router *r, uint64_t version,
                                     router_error *err);

typedef struct router_history_entry {
	uint64_t version;
	uint64_t content_hash;
	int64_t accepted_unix_ns; /* wall-clock time it was first accepted */
	int in_service;           /* 1 for the table in service */
} router_history_entry;

/* Copy up to cap history entries, oldest first, into out; returns how many
 * entries there are (may exceed cap). */
ROUTER_EXTERN size_t router_history(router *r, router_history_entry *out,
                                    size_t cap);

typedef struct router_stats {
	uint64_t version;       /* in service (0: none) */
	uint64_t content_hash;  /* in service */
	uint64_t accepted;      /* publishes accepted */
	uint64_t refused;       /* publishes refused, all reasons (per code:
	                         * router_stats_refused) */
	uint64_t rollbacks;
	uint64_t checks;        /* dry runs */
	uint64_t tables_retired; /* handed to deferred reclamation */
	uint64_t tables_freed;   /* actually freed */
	uint32_t history_len;
	uint32_t shard_names;    /* interned shard names */
	uint64_t snapshots_saved;  /* snapshot files written */
	uint64_t snapshots_failed; /* snapshot writes that failed */
	uint64_t quarantined;      /* refusals kept pending */
	uint64_t approved;         /* pending tables approved into service */
	uint64_t discarded;        /* pending tables discarded or superseded */
	uint32_t fences;           /* content hashes fenced now */
	uint32_t invariants;       /* invariants declared */
	uint64_t shadow_runs;      /* publishes evaluated on the sample */
	/* New counters are appended here (see "How structs grow"). */
} router_stats;

/* Copy the router's counters and state into out: a consistent copy, taken
 * under the writer lock, of min(size, sizeof(router_stats)) bytes.  Pass
 * sizeof of your router_stats (router_stats_get(r, &st, sizeof st)): a
 * program built against an older header gets the fields it knows and
 * nothing past them is written; bytes past this library's
 * sizeof(router_stats) (a program built against a newer header) are set
 * to 0.  Returns ROUTER_OK, or ROUTER_EINVAL (r or out NULL, size 0;
 * nothing written).  Any thread (not from router_inspect's fn). */
ROUTER_EXTERN int router_stats_get(router *r, router_stats *out,
                                   size_t size);
/* Publishes refused with status code `code` (ROUTER_EEMPTY, ...) since
 * router_create, dry runs included.  0 for a code no refusal had, for
 * ROUTER_OK and positive codes, for codes this library does not know, and
 * for r NULL.  Any thread (not from router_inspect's fn). */
ROUTER_EXTERN uint64_t router_stats_refused(router *r, int code);
/* Version and content hash of the table in service (0 when none).
 * Lock-free; any thread. */
ROUTER_EXTERN uint64_t router_serving_version(router *r);
ROUTER_EXTERN uint64_t router_content_hash(router *r);

/* Call fn with the table in service (NULL when none), under the writer
 * lock: the table cannot be replaced or freed during the call.  fn must not
 * call anything that takes the writer lock (publish, roll back, stats,
 * history, router_handle_open, router_handle_free...): it would wait for
 * itself.  Lookups are fine.  Returns what fn returns. */
ROUTER_EXTERN int router_inspect(router *r,
                                 int (*fn)(void *arg, const router_table *t),
                                 void *arg);

/* Name of an interned shard id (from a route result), valid until
 * router_free; NULL for an unknown id.  Lock-free; any thread. */
ROUTER_EXTERN const char *router_shard_name(router *r, uint32_t shard_id,
                                            size_t *len);

/* --- Lookups: lock-free, any thread, never blocked by a publisher. ------ */

/* Route values through the primary vindex of keyspace.table in the table in
 * service.  In an unsharded keyspace every table (declared or not) routes to
 * its single shard; a pinned table to its pinned shard.  Returns as
 * router_table_route, plus ROUTER_ENOTFOUND when nothing is published. */
ROUTER_EXTERN int router_route(router *r, const char *keyspace,
                               size_t keyspace_len, const char *table,
                               size_t table_len, const router_value *values,
                               size_t nvalues, router_route_result *out,
                               router_error *err);
/* router_route, also saying in *target where vtgate would serve the query
 * (router_table_route_target, on the table in service; shard, keyspace
 * and table from the same table).  Lock-free, as router_route, but not
 * through router_route's name cache: a few name lookups more.  Returns as
 * router_table_route_target, plus ROUTER_ENOTFOUND when nothing is
 * published.  Since 0.2.0. */
ROUTER_EXTERN int router_route_target(router *r, const char *keyspace,
                                      size_t keyspace_len, const char *table,
                                      size_t table_len,
                                      const router_value *values,
                                      size_t nvalues, unsigned flags,
                                      router_route_result *out,
                                      router_target *target,
                                      router_error *err);
/* The shard of keyspace holding keyspace ID ksid. */
ROUTER_EXTERN int router_route_ksid(router *r, const char *keyspace,
                                    size_t keyspace_len, const void *ksid,
                                    size_t ksid_len, router_route_result *out,
                                    router_error *err);
/* The shards a LIKE 'prefix%' reaches in the table in service: as
 * router_table_route_prefix (out[0..cap), *n, the same return codes), plus
 * ROUTER_ENOTFOUND when nothing is published.  Shard names are interned
 * for the router's lifetime, as router_route's. */
ROUTER_EXTERN int router_route_prefix(router *r, const char *keyspace,
                                      size_t keyspace_len, const char *table,
                                      size_t table_len, const void *like,
                                      size_t like_len,
                                      router_route_result *out, size_t cap,
                                      size_t *n, router_error *err);

/* Rows a lookup resolver returns, owned by librouter (valid during the
 * resolver call only). */
typedef struct router_lookup_rows router_lookup_rows;

/* Add one row (its `from` and `to` values; their bytes are copied) to
 * rows.  Call only from inside the resolver that received rows.
 * ROUTER_OK, ROUTER_ENOMEM (the route call then fails with it),
 * ROUTER_EINVAL (NULL arguments, malformed value). */
ROUTER_EXTERN int router_lookup_rows_add(router_lookup_rows *rows,
                                         const router_value *from,
                                         const router_value *to);

/* The application's lookup: run q->sql with the tuple ::<q->from> bound
 * to (q->bind) on its own connection, router_lookup_rows_add every row
 * ((from, to) as selected), return ROUTER_OK; or return a negative code
 * (the query failed), which the route call returns with "lookup.Map: the
 * resolver failed: ..." in err.  q and its strings are valid for the
 * call.  Called on the thread of the route call, outside any read
 * section: it may block (on a database) without holding up publishes,
 * reclamation or other readers, and may itself route or publish. */
typedef int (*router_lookup_resolver)(void *ctx, const router_lookup_query *q,
                                      router_lookup_rows *rows);

/* router_table_route_column on the table in service, with the lookup
 * query, when one is needed, run by resolve(ctx, ...) (resolve NULL: a
 * lookup that needs a query is ROUTER_ENEEDSLOOKUP, the query in err's
 * message).  The query is read from one version (q->version) and the
 * keyspace IDs placed in the shards of the version in service after the
 * resolver returned (out[i].version): compare them if the two must
 * agree.  Give cap as the keyspace's shard count when a non-unique
 * lookup may name many: after ROUTER_ERANGE a second call runs the
 * resolver again.  Same returns as router_table_route_column, plus the
 * resolver's negative code and ROUTER_ENOTFOUND before the first
 * publish.  Any thread, outside any read section of its own. */
ROUTER_EXTERN int router_route_column(
    router *r, const char *keyspace, size_t keyspace_len, const char *table,
    size_t table_len, const char *columns, size_t columns_len,
    const router_value *values, size_t nvalues,
    router_lookup_resolver resolve, void *ctx, router_route_result *out,
    size_t cap, size_t *count, router_error *err);

/* A pre-resolved keyspace.table for hot paths.  Valid across publishes until
 * router_handle_free: each lookup uses the table in service at that moment,
 * and fails with ROUTER_ENOTFOUND if the table is gone from it. */
typedef struct router_handle router_handle;

/* Open a handle.  The keyspace and table need not exist yet.  Handles of
 * one keyspace.table share a router-wide id; once all of them are freed the
 * id is reused by a handle of another table, so the router's memory and
 * its publish time follow the handles open at once, not ever opened.
 * ROUTER_OK, ROUTER_EINVAL, ROUTER_ERANGE, ROUTER_ENOMEM.  Any thread
 * (takes the writer lock, as router_handle_free does). */
ROUTER_EXTERN int router_handle_open(router *r, const char *keyspace,
                                     size_t keyspace_len, const char *table,
                                     size_t table_len, router_handle **out,
                                     router_error *err);
ROUTER_EXTERN void router_handle_free(router_handle *h);

/* Route through a handle.  Returns as router_route. */
ROUTER_EXTERN int router_handle_route(const router_handle *h,
                                      const router_value *values,
                                      size_t nvalues, router_route_result *out,
                                      router_error *err);
/* Typed shortcuts for a single-column primary vindex. */
ROUTER_EXTERN int router_handle_route_int64(const router_handle *h,
                                            int64_t value,
                                            router_route_result *out);
ROUTER_EXTERN int router_handle_route_uint64(const router_handle *h,
                                             uint64_t value,
                                             router_route_result *out);
ROUTER_EXTERN int router_handle_route_bytes(const router_handle *h,
                                            router_sqltype type,
                                            const void *ptr, size_t len,
                                            router_route_result *out);

/* Keys a batch routes in one read section. */
#define ROUTER_BATCH_CHUNK 4096

/* Route n integer keys with one table (the one in service when the call
 * starts answers them all), in read sections of at most
 * ROUTER_BATCH_CHUNK keys: a read section holds up the reclamation of
 * every router of the process, so a longer batch pins its table (one
 * atomic count) and ends and begins its section between chunks; a
 * publish meanwhile neither waits for the batch nor frees its table (a
 * later publish does, or router_free).  keys are int64 (is_unsigned 0) or
 * uint64 (is_unsigned 1), read as uint64_t bit patterns.  shard_ids[i]
 * receives the router-wide shard id (router_shard_name) or
 * ROUTER_NO_SHARD when key i maps to no keyspace ID.  *version (optional)
 * receives the answering table's version.  Returns ROUTER_OK or an error
 * that applies to every key (ENOTFOUND, ENEEDSLOOKUP, EUNSUPPORTED,
 * EMULTISHARD, EDISABLED, ERULE, EKEYSPACE, EINVAL).  Lock-free and
 * async-signal-safe like every lookup. */
ROUTER_EXTERN int router_handle_route_batch(const router_handle *h,
                                            const uint64_t *keys, size_t n,
                                            int is_unsigned,
                                            uint32_t *shard_ids,
                                            uint64_t *version,
                                            router_error *err);

/* ------------------------------------------------------------------------ */
/* Beyond the guards: last-known-good snapshots                             */
/* ------------------------------------------------------------------------ */

/* A snapshot file is one header line, then the table as a routing document
 * (router_doc_dump: SrvVSchema with version and shards):
 *   librouter-snapshot 1 version=V hash=H length=N xxh3=C\n<N bytes>
 * H is router_table_hash (16 hex digits), N the document's length, C the
 * XXH3-64 (16 hex digits) of everything before " xxh3=" and of the
 * document, so that a flipped bit anywhere, a truncation or an extension
 * is detected.  Loading checks the format tag, the length, the checksum,
 * then that the document loads to a table of version V and hash H. */
#define ROUTER_SNAPSHOT_MAGIC "librouter-snapshot"
#define ROUTER_SNAPSHOT_FORMAT 1

/* Write the table in service to path atomically: into a new temporary file
 * in the same directory (path.tmp-PID-XXXXXX), fsync, rename over path,
 * fsync the directory.  A crash at any point leaves either the old file or
 * the new one at path (and perhaps a stray temporary file, which loading
 * ignores and a later save of path removes once its writer is dead and it
 * is a minute old).  A symbolic link at path is followed: the file it
 * resolves to is replaced, in its own directory, and the link stays; a
 * link that does not resolve is refused (ROUTER_EIO).  A table whose
 * numeric_static_map names its map file (the builder's json_path) is
 * refused with ROUTER_EDOC: a snapshot loads without files.  Holds the writer lock for the write (publishers wait, readers
 * do not).  Returns ROUTER_OK; ROUTER_ENOTFOUND (nothing in service);
 * ROUTER_EIO (culprit: the path; message: the operation and the system's
 * reason), nothing at path changed; ROUTER_EINVAL (NULL r or path);
 * ROUTER_ENOMEM.  Any thread, not from the event callback. */
ROUTER_EXTERN int router_snapshot_save(router *r, const char *path,
                                       router_error *err);
/* Read and verify the snapshot at path and load its table: on ROUTER_OK
 * *out is a new table the caller owns (router_publish it, or
 * router_table_free), with the recorded version; version and hash
 * (optional) receive the recorded values.  A snapshot that fails any check
 * is never half-loaded: *out is NULL.  alloc: the table's allocator (NULL:
 * malloc).  Returns ROUTER_OK;
 *   ROUTER_ENOTFOUND  no file at path (no snapshot yet);
 *   ROUTER_EIO        the file cannot be opened or read (culprit: the path);
 *   ROUTER_EDOC       not a snapshot (format tag), an unknown format,
 *                     truncated or extended (length), corrupted (checksum),
 *                     or a document that does not give the recorded
 *                     version and hash; the message says which;
 *   ROUTER_ERANGE     larger than a routing document may be;
 *   ROUTER_EINVAL, ROUTER_ENOMEM.
 * Any thread (no router involved). */
ROUTER_EXTERN int router_snapshot_load(const char *path,
                                       const router_allocator *alloc,
                                       router_table **out, uint64_t *version,
                                       uint64_t *hash, router_error *err);
/* Every check of router_snapshot_load, keeping nothing.  Same returns. */
ROUTER_EXTERN int router_snapshot_verify(const char *path, uint64_t *version,
                                         uint64_t *hash, router_error *err);

/* ------------------------------------------------------------------------ */
/* Beyond the guards: quarantine                                            */
/* ------------------------------------------------------------------------ */

/* With ROUTER_PUBLISH_QUARANTINE, a table the empty (EEMPTY), shrink
 * (ESHRINK) or shadow (ESHADOW) guard refuses is kept by the router as the
 * pending table instead of being returned: router_publish returns
 * ROUTER_EQUARANTINED and the router owns t (the caller must not free it).
 * Nothing else changes: the table in service keeps serving, the refusal is
 * counted under the guard's code and in quarantined, and the callback
 * receives code ROUTER_EQUARANTINED with the guard's culprit and message.
 * At most one table is pending: a new quarantine replaces it, and any
 * accepted publish discards it (ROUTER_EVENT_DISCARD). */
typedef struct router_pending_info {
	uint64_t version;       /* as offered (0: the next one at approval) */
	uint64_t content_hash;
	int64_t since_unix_ns;  /* when it was quarantined */
	router_error reason;    /* the guard's refusal: code, culprit, message */
} router_pending_info;

/* Describe the pending table.  diff (optional) receives the diff from the
 * table in service now to the pending table (router_diff_free).
 * ROUTER_OK, ROUTER_ENOTFOUND (nothing pending), ROUTER_EINVAL,
 * ROUTER_ENOMEM.  Any thread (takes the writer lock). */
ROUTER_EXTERN int router_pending(router *r, router_pending_info *out,
                                 router_diff **diff, router_error *err);
/* Publish the pending table as if allowed (ROUTER_PUBLISH_DESTRUCTIVE: the
 * empty, shrink, keyspace-ID and shadow guards are overridden); fences,
 * the version guard and invariants still apply, and refuse it with their
 * code (it then stays pending).  diff as router_publish.  ROUTER_OK,
 * ROUTER_ENOTFOUND (nothing pending), the refusal's code, ROUTER_ENOMEM,
 * ROUTER_ECALLBACK (from an event callback).  Any thread but an event
 * callback's. */
ROUTER_EXTERN int router_pending_approve(router *r, router_diff **diff,
                                         router_error *err);
/* Free the pending table; its content is fenced when fencing is on (an
 * operator judged it bad).  ROUTER_OK, ROUTER_ENOTFOUND, ROUTER_ECALLBACK
 * (from an event callback).  Any thread but an event callback's. */
ROUTER_EXTERN int router_pending_discard(router *r, router_error *err);

/* ------------------------------------------------------------------------ */
/* Beyond the guards: fences                                                */
/* ------------------------------------------------------------------------ */

/* With router_options.fence_cap > 0 the router remembers the content hash
 * (router_table_hash) of every table refused by a content guard (EEMPTY,
 * ESHRINK, EINVARIANT, ESHADOW; not EVERSION, and not dry runs), of every
 * table a rollback left, and of every discarded pending table: the last
 * fence_cap of them.  A publish of fenced content, whatever its version
 * and flags (ROUTER_PUBLISH_DESTRUCTIVE included), is refused at once with
 * ROUTER_EFENCED, so a reconciler, a retry loop or a peer cannot push a
 * known-bad table back; lift the fence to allow it.  Rollbacks are not
 * fenced (an operator's explicit choice). */
typedef enum router_fence_origin {
	ROUTER_FENCE_REFUSED = 1,     /* refused by a guard (code says which) */
	ROUTER_FENCE_ROLLED_BACK = 2, /* a rollback left it */
	ROUTER_FENCE_DISCARDED = 3,   /* discarded from quarantine */
	ROUTER_FENCE_MANUAL = 4       /* router_fence_add */
} router_fence_origin;

typedef struct router_fence {
	uint64_t content_hash;
	uint64_t version; /* of the table that was fenced (0: unknown) */
	router_fence_origin origin;
	int code;         /* the guard's code for ROUTER_FENCE_REFUSED, else 0 */
	int64_t fenced_unix_ns;
} router_fence;

/* Copy up to cap fences, oldest first (out may be NULL to count); returns
 * how many there are.  Any thread (takes the writer lock). */
ROUTER_EXTERN size_t router_fences(router *r, router_fence *out, size_t cap);
/* Fence a content hash by hand (e.g. one a peer fenced).  ROUTER_OK
 * (also when already fenced), ROUTER_ESTATE (fencing is off: fence_cap 0),
 * ROUTER_EINVAL.  Any thread. */
ROUTER_EXTERN int router_fence_add(router *r, uint64_t content_hash,
                                   router_error *err);
/* Lift the fence on a content hash.  ROUTER_OK or ROUTER_ENOTFOUND.  Any
 * thread. */
ROUTER_EXTERN int router_fence_lift(router *r, uint64_t content_hash,
                                    router_error *err);
/* Lift every fence.  Any thread. */
ROUTER_EXTERN void router_fence_clear(router *r);

/* ------------------------------------------------------------------------ */
/* Beyond the guards: operator invariants                                   */
/* ------------------------------------------------------------------------ */

/* An invariant is declared once per router, in a one-line text form, and
 * checked on every publish (and approval) before the other guards; a
 * violation is refused with ROUTER_EINVARIANT, culprit the keyspace or
 * keyspace.table, and a message quoting the invariant.  ROUTER_PUBLISH_
 * DESTRUCTIVE does not override an invariant: remove it first.  Forms
 * (names as in the VSchema, separated by blanks):
 *   "KS sharded"               keyspace KS exists and stays sharded
 *   "KS shards >= N"           KS exists with at least N shards
 *   "KS tables T1,T2,..."      KS exists and keeps tables T1, T2...
 *   "KS.T vindex TYPE"         KS.T routes through a primary vindex of
 *                              type TYPE (e.g. xxhash)
 *   "KS.T vindex"              KS.T keeps the primary vindex type it has
 *                              in the table in service (nothing to keep
 *                              while it is absent there)
 * A vindex invariant pins the type only: params (a map, region_bytes,
 * column_bytes...) and columns may change under it; for a table kept in a
 * sharded keyspace those changes are EKSIDCHANGE's (router_publish), which
 * ROUTER_PUBLISH_DESTRUCTIVE overrides.
 * Lines may carry a trailing "# comment". */
#define ROUTER_INVARIANT_MAX 256 /* invariants per router */

/* Declare an invariant.  It must hold for the table in service (if any).
 * ROUTER_OK (also when already declared); ROUTER_EINVAL (syntax: the
 * message says what was expected); ROUTER_EINVARIANT (the table in service
 * violates it: not declared); ROUTER_ERANGE (more than
 * ROUTER_INVARIANT_MAX); ROUTER_ENOMEM.  Any thread. */
ROUTER_EXTERN int router_invariant_add(router *r, const char *spec,
                                       router_error *err);
/* Remove the invariant with this text (compared in canonical form).
 * ROUTER_OK, ROUTER_ENOTFOUND, ROUTER_EINVAL (syntax), ROUTER_ENOMEM.  Any
 * thread. */
ROUTER_EXTERN int router_invariant_remove(router *r, const char *spec,
                                          router_error *err);
/* Number of invariants; the canonical text of invariant i is copied into
 * buf (cap bytes, NUL-terminated, truncated) when i is in range (buf may
 * be NULL to count).  Any thread. */
ROUTER_EXTERN size_t router_invariant_get(router *r, size_t i, char *buf,
                                          size_t cap);
/* Check next against the invariants given as text, with cur (may be NULL)
 * the table in service, without a router.  ROUTER_OK, ROUTER_EINVARIANT
 * (the first violation), ROUTER_EINVAL (syntax, culprit "invariant N"),
 * ROUTER_ENOMEM.  Thread-safe on frozen tables. */
ROUTER_EXTERN int router_invariants_check(const char *const *specs, size_t n,
                                          const router_table *cur,
                                          const router_table *next,
                                          router_error *err);

/* ------------------------------------------------------------------------ */
/* Beyond the guards: shadow evaluation                                     */
/* ------------------------------------------------------------------------ */

/* A sample key: values routed through keyspace.table's primary vindex. */
typedef struct router_sample_key {
	const char *keyspace;
	size_t keyspace_len;
	const char *table;
	size_t table_len;
	const router_value *values;
	size_t nvalues;
} router_sample_key;

/* What a new table does to the sample keys of one keyspace (or, from
 * router_shadow_totals, of all; keyspace ""). */
typedef struct router_shadow_stat {
	const char *keyspace;
	uint64_t keys;           /* sample keys naming the keyspace */
	uint64_t routed;         /* of which route in the old table (a shard
	                          * or ROUTER_NONE) */
	uint64_t moved;          /* routed by both, to another shard (by name) */
	uint64_t unroutable;     /* routed by the old table, not the new one */
	uint64_t newly_routable; /* not routed by the old table, by the new */
} router_shadow_stat;

typedef struct router_shadow_verdict router_shadow_verdict;

/* Route every key through from and to and count, per keyspace (sorted by
 * name), what changes.  from may be NULL (every routed key is newly
 * routable).  ROUTER_OK, ROUTER_EINVAL (a NULL pointer with a length, a
 * name over ROUTER_NAME_MAX or with a NUL byte, more than
 * ROUTER_MULTICOL_MAX values; the message names the key), ROUTER_ENOMEM.
 * Thread-safe on frozen tables.  Free the verdict with router_shadow_free. */
ROUTER_EXTERN int router_shadow_evaluate(const router_table *from,
                                         const router_table *to,
                                         const router_sample_key *keys,
                                         size_t n,
                                         router_shadow_verdict **out,
                                         router_error *err);
/* Readers of a verdict: any thread, while it is not being freed. */
ROUTER_EXTERN size_t router_shadow_count(const router_shadow_verdict *v);
/* Keyspace i's counts, or NULL past the end.  Valid until
 * router_shadow_free (from an event: during the callback). */
ROUTER_EXTERN const router_shadow_stat *
router_shadow_get(const router_shadow_verdict *v, size_t i);
ROUTER_EXTERN void router_shadow_totals(const router_shadow_verdict *v,
                                        router_shadow_stat *out);
ROUTER_EXTERN void router_shadow_free(router_shadow_verdict *v);

typedef struct router_shadow_options {
	size_t size;           /* sizeof(router_shadow_options) */
	/* Refuse (ROUTER_ESHADOW) when, in some keyspace, more than this share
	 * of its routed keys moves to another shard (1.0: never; resharding
	 * moves keys by design) ... */
	double max_moved;
	/* ... or more than this share becomes unroutable (0.0: any). */
	double max_unroutable;
} router_shadow_options;

#define ROUTER_SHADOW_OPTIONS_INIT {sizeof(router_shadow_options), 1.0, 0.0}

/* Give the router its sample (copied; n 0 clears it) and thresholds (opt
 * NULL: defaults).  From then on every publish with a table in service is
 * first evaluated on the sample (under the writer lock, 2n lookups; the
 * lookup path is not touched); the verdict reaches the callback
 * (router_event.shadow) and a threshold crossed refuses the publish with
 * ROUTER_ESHADOW naming the keyspace, unless ROUTER_PUBLISH_DESTRUCTIVE.
 * ROUTER_OK, ROUTER_EINVAL (NULL keys with n > 0, bad keys as for
 * router_shadow_evaluate, thresholds outside [0, 1]), ROUTER_ERANGE (sizes
 * that add up past SIZE_MAX), ROUTER_ENOMEM; on any error the old sample
 * stays.  Any thread. */
ROUTER_EXTERN int router_shadow_set_sample(router *r,
                                           const router_sample_key *keys,
                                           size_t n,
                                           const router_shadow_options *opt,
                                           router_error *err);

/* --- Reader threads ---------------------------------------------------- */

/* Register the calling thread's reader record now instead of on its first
 * lookup: to move the one-off cost, and before a thread routes from a
 * signal handler.  Idempotent.  ROUTER_OK or ROUTER_ENOMEM.  Not
 * async-signal-safe (it may allocate and takes the registry lock).
 *
 * Async-signal-safety: on a registered thread (this call, or any earlier
 * lookup, and no router_thread_unregister since), every lookup
 * (router_route, router_route_ksid, router_handle_route*,
 * router_handle_route_batch, router_shard_name, router_serving_version,
 * router_content_hash) is async-signal-safe: it takes no lock, allocates
 * nothing and touches only the thread's own record.  Nothing else in this
 * header is.  On a thread that never routed, a lookup registers first,
 * which is not: from a signal handler it may wait on the registry lock or
 * on malloc's; when the handler interrupted this thread inside the
 * registry (its router_create, router_free, first lookup, unregistration),
 * the lookup returns ROUTER_ESTATE instead of waiting forever. */
ROUTER_EXTERN int router_thread_register(router_error *err);
/* Release the calling thread's reader record (done automatically at thread
 * exit).  Must not be called inside a lookup (nor from a signal handler);
 * a later lookup registers again. */
ROUTER_EXTERN void router_thread_unregister(void);

#ifdef __cplusplus
}
#endif
#endif /* ROUTER_H */
