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
	} u;
} router__vindex;

/* Compile a vindex of type `type` with params.  Unknown params are ignored
 * as Vitess ignores them.  Returns ROUTER_OK or ROUTER_EREFERENCE (unknown
 * type, params that do not parse: Vitess's message), ROUTER_ENOMEM.
 * culprit is used in err. */
int router__vindex_init(router__vindex *v, const char *type,
                        const router_param *params, size_t nparams,
                        const router_allocator *a, const char *culprit,
                        router_error *err);
void router__vindex_fini(router__vindex *v, const router_allocator *a);

/* Number of values the vindex takes (column_count for multicol, 2 for
 * region_experimental, else 1). */
size_t router__vindex_arity(const router__vindex *v);

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

/* ---- the live router (router.c): introspection for the tests ----------- */

/* Handle ids in use or free for reuse: the length of every table's slot
 * array (at most the handles ever open at once). */
uint32_t router__handle_ids(const router *r);

#endif /* ROUTER_INTERNAL_H */
