/*
 * Internal interfaces shared between librouter's source files.  Names here
 * use the router__ prefix and are hidden from the shared library (they stay
 * visible in the static library, which the unit tests link).
 */
#ifndef ROUTER_INTERNAL_H
#define ROUTER_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router.h"

#if defined(__GNUC__)
#define ROUTER__LIKELY(x) __builtin_expect(!!(x), 1)
#define ROUTER__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ROUTER__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ROUTER__LIKELY(x) (x)
#define ROUTER__UNLIKELY(x) (x)
#define ROUTER__PRINTF(a, b)
#endif

/* ---- errors (errbuf.c) and allocation (alloc.c) ------------------------ */

/* Fill err (if not NULL) and return code.  culprit may be NULL. */
int router__seterr(router_error *err, int code, const char *culprit,
                   const char *fmt, ...) ROUTER__PRINTF(4, 5);
int router__vseterr(router_error *err, int code, const char *culprit,
                    const char *fmt, va_list ap) ROUTER__PRINTF(4, 0);
/* Clear err to ROUTER_OK with empty strings. */
void router__clearerr(router_error *err);

/* The default allocator (malloc/realloc/free). */
extern const router_allocator router__default_allocator;
/* alloc, or the default when NULL. */
const router_allocator *router__allocator(const router_allocator *alloc);

static inline void *router__malloc(const router_allocator *a, size_t n)
{
	return a->malloc(a->ctx, n ? n : 1);
}
static inline void *router__realloc(const router_allocator *a, void *p,
                                    size_t n)
{
	return a->realloc(a->ctx, p, n ? n : 1);
}
static inline void router__free(const router_allocator *a, void *p)
{
	if (p != NULL)
		a->free(a->ctx, p);
}
/* NUL-terminated copy of (s, n); NULL on allocation failure. */
char *router__strndup(const router_allocator *a, const char *s, size_t n);
/* Make room for need elements of elsz bytes in the array *p of *cap
 * elements, doubling its capacity (from 4).  0, or -1 when out of memory
 * (*p and *cap are then unchanged). */
int router__grow(const router_allocator *a, void **p, size_t *cap, size_t need,
                 size_t elsz);

/* An arena: memory handed out in 16 KiB chunks and freed all at once (a
 * built table, a diff).  It keeps a copy of its allocator. */
typedef struct router__arena router__arena;
/* NULL when out of memory. */
router__arena *router__arena_new(const router_allocator *a);
/* The arena's copy of its allocator, valid while ar lives. */
const router_allocator *router__arena_allocator(const router__arena *ar);
/* Frees every allocation of ar; ar may be NULL. */
void router__arena_free(router__arena *ar);
/* Zeroed, 16-byte aligned memory living as long as the arena, or NULL. */
void *router__arena_alloc(router__arena *ar, size_t n);
/* NUL-terminated copies of (s, n) and of s in ar, or NULL. */
char *router__arena_strndup(router__arena *ar, const char *s, size_t n);
char *router__arena_strdup(router__arena *ar, const char *s);

/* Strict Go strconv parsing of base-10 integers from (s, n).
 * Return 0 on success, -1 on syntax error or overflow. */
int router__parse_uint64(const char *s, size_t n, uint64_t *out);
int router__parse_int64(const char *s, size_t n, int64_t *out);
/* Decimal text of v into buf (>= 21 bytes); returns the length. */
size_t router__fmt_uint64(uint64_t v, char *buf);
size_t router__fmt_int64(int64_t v, char *buf);
/* The decimal text of v (int64 when !is_unsigned) written backwards so
 * that it ends just before end, no NUL; returns its first byte (at least
 * end - 20).  For hashing the text where it is (no copy). */
const char *router__fmt_int_end(uint64_t v, int is_unsigned, char *end);
/* The hash vindex's keyspace ID of v (DES, zero key, of BE64(v)) as a
 * big-endian integer (vindex.c; a vindex of type hash must exist). */
uint64_t router__des_prefix(uint64_t v);

/* Vitess's conversions of a SQL value (value.c), as the vindexes apply
 * them (docs/spec.md section 1.1).  Each returns a ROUTER__CONV_ outcome:
 * OK, not convertible (Map gives None), or a malformed router_value (bad
 * type tag, NULL pointer with a length).  They allocate nothing and
 * format no error: vindex mapping is the routing hot path. */
enum { ROUTER__CONV_OK = 0, ROUTER__CONV_FAIL = 1, ROUTER__CONV_BAD = -1 };
/* The bytes Vitess holds for v (what xxhash, binary and binary_md5 hash):
 * decimal text for integers (written into tmp, at least 21 bytes), the
 * value's own bytes otherwise, empty for NULL. */
int router__value_bytes(const router_value *v, char *tmp, const uint8_t **p,
                        size_t *n);
/* Conversion (b), evalengine.ToUint64: signed types must not be negative;
 * text is tried as uint64, then as int64 (which must not be negative). */
int router__to_uint64(const router_value *v, uint64_t *out);
/* Conversion (a), the hash vindex: signed types keep their two's-complement
 * bits (-1 -> 2^64-1); everything else goes through (b). */
int router__to_uint64_hash(const router_value *v, uint64_t *out);
/* What Map returns for a conversion that failed with outcome rc:
 * ROUTER_NONE (not convertible) or ROUTER_EINVAL (malformed value). */
int router__conv_status(int rc);

/* Lower-case hex of (p, n) into buf of at least 2n+1 bytes. */
void router__hex(const void *p, size_t n, char *buf);

/* (p, n), a name or value from the caller (any bytes; p may be NULL when
 * n is 0), as text for an error message or culprit, NUL-terminated in
 * buf[0..cap) (cap >= 4): printable ASCII and well-formed UTF-8 as they
 * are, a backslash as \\ and a double quote as \", every other byte (NUL,
 * control bytes, DEL, C1 controls, bytes of malformed UTF-8) as \xNN.
 * printf's %.*s stops at a NUL ("u\0" printed as "u", a name that does
 * not exist shown as one that does); this never cuts, and an escaped name
 * cannot read as another name.  Text that does not fit ends in "..."
 * (never half an escape or half a character).  Returns buf. */
const char *router__fmt_name(char *buf, size_t cap, const void *p, size_t n);

/* ---- vindexes (vindex.c) ---------------------------------------------- */

typedef enum router__vkind {
	ROUTER__V_HASH = 1,
	ROUTER__V_XXHASH,
	ROUTER__V_NUMERIC,
	ROUTER__V_BINARY,
	ROUTER__V_BINARY_MD5,
	ROUTER__V_REVERSE_BITS,
	ROUTER__V_NULL,
	ROUTER__V_NUMERIC_STATIC_MAP,
	ROUTER__V_MULTICOL,
	ROUTER__V_REGION_EXPERIMENTAL,
	ROUTER__V_UNICODE_LOOSE_MD5,    /* collate.c: x/text's loose key */
	ROUTER__V_UNICODE_LOOSE_XXHASH,
	ROUTER__V_CFC,         /* vindex_cfc.c */
	ROUTER__V_REGION_JSON, /* vindex_region.c */
	ROUTER__V_LOOKUP,     /* needs a database round-trip */
	ROUTER__V_UNSUPPORTED /* known to Vitess, not computed in process */
} router__vkind;

/* What Vitess knows about a registered vindex type. */
typedef struct router__vtype {
	const char *name;     /* "hash", "lookup_unique", ... */
	router__vkind kind;
	uint8_t unique;       /* Vitess IsUnique() */
	uint8_t hashing;      /* usable as a multicol column vindex */
	uint8_t multi_column; /* multicol, region_experimental, region_json */
	int cost;
} router__vtype;

/* The registered type called (name, len), or NULL. */
const router__vtype *router__vtype_find(const char *name, size_t len);

/* Size of the scratch buffer router__vindex_map may write the ksid into:
 * the public ROUTER_KSID_MAX, so a caller's buffer of that size (a route
 * result's, the benchmarks') serves both.  The longest keyspace ID a
 * vindex writes there is binary's decimal text of an integer, 20 bytes
 * plus the NUL router__fmt_int64 adds; binary over bytes points at the
 * value itself instead. */
#define ROUTER__KSID_BUF ROUTER_KSID_MAX
_Static_assert(ROUTER__KSID_BUF >= 21,
               "a computed keyspace ID (20 digits and a NUL) fits");

/* A compiled vindex: the type plus its parsed params. */
typedef struct router__vindex {
	const router__vtype *type;
	union {
		struct {
			uint64_t *keys; /* sorted ascending */
			uint64_t *vals;
			size_t n;
			const router__vtype *fallback; /* NULL: identity */
		} nsm;
		struct {
			uint8_t ncols;
			uint8_t bytes[ROUTER_MULTICOL_MAX];
			const router__vtype *col[ROUTER_MULTICOL_MAX];
		} mc;
		struct {
			uint8_t region_bytes; /* 1 or 2 */
		} region;
		struct {
			uint8_t hash;     /* 0 identity, 1 md5, 2 xxhash64 */
			size_t *offsets;  /* strictly increasing, > 0 */
			size_t noffsets;  /* >= 1 when hash is set */
		} cfc;
		struct {
			uint8_t region_bytes;           /* 1 or 2 */
			struct router__rj_entry *e; /* sorted by key */
			size_t n;
			char *keys; /* the entries' key bytes */
		} rj;
		struct {
			/* One allocation holding table, from[0], to and
			 * the Map SQL, each NUL-terminated
			 * (vindex_lookup.c). */
			char *mem;
			const char *table, *from, *to, *sql;
			size_t table_len, from_len, to_len, sql_len;
			uint8_t sub;       /* ROUTER__LK_RAW/_HASH/_ULMD5 */
			uint8_t flags;     /* ROUTER__LK_F_* */
			uint8_t read_lock; /* ROUTER__LK_LOCK_* */
			uint8_t nfrom;     /* from columns (Create uses all) */
		} lk;
	} u;
} router__vindex;

/* ---- the lookup family (vindex_lookup.c) ------------------------------- */

/* How a lookup vindex turns its `to` column into a keyspace ID. */
enum {
	ROUTER__LK_RAW = 1, /* lookup*, consistent_lookup*: the raw bytes */
	ROUTER__LK_HASH,    /* lookup_hash*: ToCastUint64, then hash */
	ROUTER__LK_ULMD5    /* lookup_unicodeloosemd5_hash*: ids converted
	                     * first, then as LK_HASH */
};
enum {
	ROUTER__LK_F_IGNORE_NULLS = 1,
	ROUTER__LK_F_BATCH = 2,
	ROUTER__LK_F_WRITE_ONLY = 4,
	ROUTER__LK_F_AUTOCOMMIT = 8, /* also set by multi_shard_autocommit */
	ROUTER__LK_F_MULTI_SHARD_AUTOCOMMIT = 16,
	ROUTER__LK_F_NO_VERIFY = 32
};
enum {
	ROUTER__LK_LOCK_UNSET = 0,
	ROUTER__LK_LOCK_EXCLUSIVE,
	ROUTER__LK_LOCK_SHARED,
	ROUTER__LK_LOCK_NONE
};

/* What router__lookup_map returns besides ROUTER_OK and ROUTER_NONE: the
 * value maps to the whole key range (write_only, or ignore_nulls with a
 * single NULL id), i.e. every shard, with no query. */
#define ROUTER__LOOKUP_ALL 2

/* Parse and check the params of a lookup-family vindex (v->type set) as
 * Vitess's NewLookup* do: booleans exactly "true"/"false" ("<key> value
 * must be 'true' or 'false': '<val>'"), read_lock exclusive/shared/none
 * ("invalid read_lock value: <v>"), from split on "," and trimmed; the
 * Map SQL is formatted once here.  ROUTER_OK, ROUTER_EREFERENCE (bad
 * param, Vitess's message, culprit in err) or ROUTER_ENOMEM. */
int router__lookup_init(router__vindex *v, const router_param *params,
                        size_t nparams, const router_allocator *a,
                        const char *culprit, router_error *err);
void router__lookup_fini(router__vindex *v, const router_allocator *a);
/* The params of params[0..n) that a lookup vindex of type t ignores, as
 * Vitess's UnknownParams() lists them (never an error): up to cap keys
 * into out (may be NULL when cap is 0), in params order.  Returns how
 * many there are. */
size_t router__lookup_unknown_params(const router__vtype *t,
                                     const router_param *params, size_t n,
                                     const char **out, size_t cap);

/* Receives each keyspace ID a lookup answers with; a negative return
 * stops the mapping with that code. */
typedef int router__ksid_sink(void *ctx, const uint8_t *ksid, size_t len);
/* 1 when Map sends no query and answers every shard for ids[0..nids):
 * write_only, or ignore_nulls on a non-unique type with one NULL id. */
int router__lookup_no_query(const router__vindex *v, const router_value *ids,
                            size_t nids);
/* The value bound for id in the query: id itself, or for
 * lookup_unicodeloosemd5_hash* UINT64 of unicode_loose_md5(id)[:8]
 * big-endian.  ROUTER_OK, ROUTER_EINVAL (invalid UTF-8, malformed value:
 * err filled). */
int router__lookup_bind(const router__vindex *v, const router_value *id,
                        router_value *out, router_error *err);
/* 1 when vtgate sends one IN query for every id (the first bound id is
 * integral, or batch_lookup), 0 for one query per id. */
int router__lookup_batched(const router__vindex *v, const router_value *bound0);
/* Map id `which` of ids[0..nids) given the rows returned for it (batched:
 * the rows of the one query, matched by the text of `from`; per id: the
 * rows of its own query, all used), as Vitess's Map: keyspace IDs to
 * sink in row order.  Returns ROUTER_OK (zero or more sent),
 * ROUTER_NONE, ROUTER__LOOKUP_ALL, ROUTER_EINVAL (unique with several
 * rows: Vitess's message; malformed values), or the sink's code. */
int router__lookup_map(const router__vindex *v, const router_value *ids,
                       size_t nids, size_t which,
                       const router_lookup_row *rows, size_t nrows,
                       router__ksid_sink *sink, void *ctx, router_error *err);

/* Compile a vindex of type `type` with params.  Unknown params are ignored
 * as Vitess ignores them.  Returns ROUTER_OK or ROUTER_EREFERENCE (unknown
 * type, params that do not parse: Vitess's message), ROUTER_ENOMEM.
 * culprit is used in err. */
int router__vindex_init(router__vindex *v, const char *type,
                        const router_param *params, size_t nparams,
                        const router_allocator *a, const char *culprit,
                        router_error *err);
void router__vindex_fini(router__vindex *v, const router_allocator *a);
/* The params of params[0..n) that Vitess's vindex of `type` does not
 * know, as its UnknownParams() lists them (FindUnknownParams: sorted;
 * never an error; multicol lists none, not being ParamValidating): up to
 * cap keys into out (NULL when cap is 0).  Returns how many there are;
 * 0 for an unknown type. */
size_t router__vindex_unknown_params(const char *type,
                                     const router_param *params, size_t n,
                                     const char **out, size_t cap);

/* Number of values the vindex takes (column_count for multicol, 2 for
 * region_experimental, else 1). */
size_t router__vindex_arity(const router__vindex *v);
/* 1 when a multicol vindex with these params has a column of that kind
 * (its column_vindex read exactly as multicol builds its columns), else
 * 0.  The document loader asks it for numeric_static_map, whose file a
 * multicol column would read. */
int router__multicol_has_kind(const router_param *params, size_t nparams,
                              router__vkind kind);
/* Why router__vindex_map returned ROUTER_EINVAL for values of the right
 * arity, when a column's own rules say: a unicode_loose_* column's invalid
 * UTF-8 gets Vitess's message ("cannot normalize string containing
 * invalid UTF-8: ...") in err, with culprit.  Returns 1 when err was
 * filled, 0 when the caller's generic message stands.  The error path
 * only: it recomputes what the lookup computed. */
int router__vindex_explain(const router__vindex *v, const router_value *values,
                           size_t nvalues, const char *culprit,
                           router_error *err);

/* Map values to a keyspace ID.  *ksid points either into buf
 * (ROUTER__KSID_BUF bytes, caller's scratch) or into a value's bytes
 * (binary vindex).  Returns ROUTER_OK, ROUTER_NONE, ROUTER_ENEEDSLOOKUP,
 * ROUTER_EUNSUPPORTED, ROUTER_EINVAL (wrong number of values).
 * Sets no error message (hot path). */
int router__vindex_map(const router__vindex *v, const router_value *values,
                       size_t nvalues, uint8_t *buf, const uint8_t **ksid,
                       size_t *len);

/* Fast paths for one integer value through a single-column vindex.
 * Same contract as router__vindex_map. */
int router__vindex_map_u64(const router__vindex *v, uint64_t value,
                           int is_unsigned, uint8_t *buf,
                           const uint8_t **ksid, size_t *len);

/* ---- cfc (vindex_cfc.c) --------------------------------------------- */

/* Vitess's NewCFC params (hash, offsets) into v->u.cfc, with its messages
 * (culprit: the vindex's name).  ROUTER_OK, ROUTER_EREFERENCE,
 * ROUTER_ENOMEM. */
int router__cfc_init(router__vindex *v, const router_param *params,
                     size_t nparams, const router_allocator *a,
                     const char *culprit, router_error *err);
void router__cfc_fini(router__vindex *v, const router_allocator *a);
/* Map: router__vindex_map's contract for one value.  ROUTER_EINVAL for a
 * value shorter than the last offset (Vitess's "insufficient size" error),
 * ROUTER_EUNSUPPORTED for a keyspace ID longer than ROUTER__KSID_BUF. */
int router__cfc_map(const router__vindex *v, const router_value *val,
                    uint8_t *buf, const uint8_t **ksid, size_t *len);
/* The message for a failed router__cfc_map (Vitess's text); 1 if err was
 * filled.  Error path only. */
int router__cfc_explain(const router__vindex *v, const router_value *val,
                        const char *culprit, router_error *err);
/* Vitess's findPrefix: the bytes of LIKE literal (s, n) before its first
 * unescaped % or _, backslash escapes decoded, into out (n bytes room).
 * Returns their count. */
size_t router__cfc_find_prefix(const uint8_t *s, size_t n, uint8_t *out);
/* Vitess's addOne: big-endian k + 1 in place; 0 when every byte was 0xff
 * (Vitess's nil: the range is open to the end). */
int router__cfc_add_one(uint8_t *k, size_t n);
/* The begin of prefixCFC.Map for LIKE literal (like, n): findPrefix, then
 * the whole components' hashes (computeKsid in prefix mode), into out (n
 * bytes room), *len bytes.  ROUTER_OK. */
int router__cfc_prefix_begin(const router__vindex *v, const void *like,
                             size_t n, uint8_t *out, size_t *len);
/* prefixCFC.Map as a key range: [begin, addOne(begin)) (end open when
 * begin is all 0xff), the full range (kr->full) for an empty begin
 * (DestinationAllShards).  A begin longer than ROUTER_KEY_MAX is cut to
 * its first ROUTER_KEY_MAX bytes b and the range is [b, b+1), which covers
 * the same shards.  a (NULL: malloc) for literals over 256 bytes.
 * ROUTER_OK, ROUTER_ENOMEM. */
int router__cfc_prefix_range(const router__vindex *v, const void *like,
                             size_t n, const router_allocator *a,
                             router_keyrange *kr);

/* ---- region_json (vindex_region.c) ------------------------------------ */

/* One country -> region entry of a region_json map. */
typedef struct router__rj_entry {
	const char *key; /* into u.rj.keys, not NUL-terminated */
	size_t len;
	uint16_t region; /* the value mod 65536, as Vitess's uint16() */
} router__rj_entry;

/* Vitess's NewRegionJSON: the map from region_map_json (the map itself:
 * what a document load adds beside region_map), else from the file
 * region_map names (read now), then region_bytes.  Messages name the source,
 * never quote a file's content.  ROUTER_OK, ROUTER_EREFERENCE,
 * ROUTER_ENOMEM. */
int router__region_json_init(router__vindex *v, const router_param *params,
                             size_t nparams, const router_allocator *a,
                             const char *culprit, router_error *err);
void router__region_json_fini(router__vindex *v, const router_allocator *a);
/* Map (id, region): r || vhash(id), r the region's 1 or 2 big-endian
 * bytes.  ROUTER_NONE for an id that is not a uint64's text or a region
 * not in the map, as Vitess's DestinationNone. */
int router__region_json_map(const router__vindex *v,
                            const router_value *values, uint8_t *buf,
                            const uint8_t **ksid, size_t *len);
/* DES-ECB with the all-zero key over BE8(n) (vindex.c: the hash vindex). */
void router__vhash(uint64_t n, uint8_t out[8]);
/* Read a whole regular file (at most 64 MiB; FIFOs and devices refused
 * unread) with Go's os.ReadFile error text in msg (vindex.c). */
int router__read_file(const char *path, const router_allocator *a,
                      char **out, size_t *outlen, char *msg, size_t cap);

/* ---- key ranges (keyrange.c) ------------------------------------------ */

/* Length of k without its trailing zero bytes (Vitess key.Normalize). */
size_t router__key_normlen(const uint8_t *k, size_t len);
/* Go's hex.DecodeString on (s, n) with its error texts and order: writes
 * at most cap bytes into out, *outlen the full decoded length.  ROUTER_OK
 * or ROUTER_ESHARDNAME with Go's message ("encoding/hex: odd length hex
 * string", "encoding/hex: invalid byte: U+0067 'g'"). */
int router__go_hex_decode(const char *s, size_t n, uint8_t *out, size_t cap,
                          size_t *outlen, const char *culprit,
                          router_error *err);
/* Vitess's range comparisons (v17+ normalized semantics). */
int router__keyrange_start_compare(const router_keyrange *a,
                                   const router_keyrange *b);
int router__keyrange_end_compare(const router_keyrange *a,
                                 const router_keyrange *b);
int router__keyrange_compare(const router_keyrange *a,
                             const router_keyrange *b);
int router__keyrange_equal(const router_keyrange *a, const router_keyrange *b);
int router__keyrange_is_full(const router_keyrange *kr);
int router__keyrange_intersect(const router_keyrange *a,
                               const router_keyrange *b);
int router__keyrange_contains_keyrange(const router_keyrange *a,
                                       const router_keyrange *b);
/* Merge two contiguous ranges (either order) into *out; 1 if merged. */
int router__keyrange_add(const router_keyrange *a, const router_keyrange *b,
                         router_keyrange *out);
/* Vitess key.EvenShardsKeyRange(i, n). */
int router__even_shards_keyrange(unsigned i, unsigned n,
                                 router_keyrange *out);
/* Vitess key.ParseShardingSpec: up to cap ranges into out, *n their count.
 * ROUTER_OK, ROUTER_ESHARDNAME, ROUTER_ERANGE (more than cap). */
int router__sharding_spec(const char *spec, size_t len, router_keyrange *out,
                          size_t cap, size_t *n, router_error *err);
/* Check that ranges (any order) partition the keyspace-ID space: sorted by
 * start they begin at the minimum, end at the maximum, and each end equals
 * the next start under normalized comparison; a single full (nil) range is
 * a partition; nil mixed with ranges is not.  names (optional, parallel to
 * ranges) are used in the message.  order (optional, n entries) receives
 * the indexes of ranges in sorted order.  ROUTER_OK or ROUTER_ECOVERAGE
 * naming the gap or overlap. */
int router__partition_check(const router_keyrange *ranges,
                            const char *const *names, size_t n,
                            size_t *order, const char *keyspace,
                            router_error *err);

/* ---- the live router (handles.c): introspection for the tests ---------- */

/* Handle ids in use or free for reuse: the length of every table's slot
 * array (at most the handles ever open at once). */
uint32_t router__handle_ids(const router *r);

#endif /* ROUTER_INTERNAL_H */
