/*
 * Vindexes: the registry of the types Vitess registers, their params, and
 * the functions that turn SQL values into keyspace IDs, bit for bit as
 * Vitess does (go/vt/vtgate/vindexes; docs/spec.md section 2).
 *
 * Two layers:
 * - router__vindex_init / router__vindex_map (internal.h): a compiled vindex
 *   embedded by the table builder.  Mapping allocates nothing and formats no
 *   error: it is the routing hot path.
 * - router_vindex_* (router.h): a standalone vindex for callers outside any
 *   table, with argument checks and error messages.
 *
 * How Vitess sees a value matters (sqltypes.Value holds the text MySQL
 * sends): integers reach byte-hashing vindexes (xxhash, binary, binary_md5)
 * as their decimal text, and reach numeric vindexes (hash, numeric,
 * reverse_bits, numeric_static_map, region_experimental) through the integer
 * conversions of docs/spec.md section 1.1, which depend on the value's SQL type.
 * Both are value rules and live in value.c (router__value_bytes,
 * router__to_uint64, internal.h); this file holds the vindexes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <nettle/des.h>
#include <nettle/md5.h>
#include <xxhash.h>

#include "collate.h"
#include "internal.h"

/*
 * The DES key schedule for the all-zero key, computed once.  nettle's
 * des_set_key returns 0 for weak keys (the zero key is one) but still fills
 * in the schedule; the vectors prove the output.  Ordering: a vindex can
 * only get its type from router__vtype_find (router__vindex_init calls it),
 * which runs pthread_once first, so the schedule is written before any
 * vindex exists; a thread that maps with a vindex received it through
 * whatever synchronization published the vindex (or the table holding it),
 * which also publishes the schedule.  The hot path therefore reads it
 * without a check.
 */
static struct des_ctx des_zero;
static pthread_once_t des_once = PTHREAD_ONCE_INIT;
static void des_zero_init(void);

/* ------------------------------------------------------------------------ */
/* Registry                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * Every type Vitess registers (the init() of each file in vindexes/),
 * sorted by name for the binary search.  unique is Vitess's IsUnique();
 * hashing says the type implements Vitess's Hashing interface (a
 * Hash(value) method), is unique and needs no vcursor, i.e. multicol
 * accepts it as a column vindex.  cost is Vitess's Cost().  A multicol
 * instance costs the sum of its column vindexes' costs (u.mc.col[i]->cost);
 * its type-level 1 is only a placeholder.
 *
 * cfc: Vitess's CFC.IsUnique() returns true (only its LIKE-prefix variant is
 * non-unique); it is not Hashing, which is why multicol rejects it.
 */
static const router__vtype vtypes[] = {
	/* name, kind, unique, hashing, multi_column, cost */
	{"binary", ROUTER__V_BINARY, 1, 1, 0, 0},
	{"binary_md5", ROUTER__V_BINARY_MD5, 1, 1, 0, 1},
	{"cfc", ROUTER__V_CFC, 1, 0, 0, 1},
	{"consistent_lookup", ROUTER__V_LOOKUP, 0, 0, 0, 20},
	{"consistent_lookup_unique", ROUTER__V_LOOKUP, 1, 0, 0, 10},
	{"hash", ROUTER__V_HASH, 1, 1, 0, 1},
	{"lookup", ROUTER__V_LOOKUP, 0, 0, 0, 20},
	{"lookup_hash", ROUTER__V_LOOKUP, 0, 0, 0, 20},
	{"lookup_hash_unique", ROUTER__V_LOOKUP, 1, 0, 0, 10},
	{"lookup_unicodeloosemd5_hash", ROUTER__V_LOOKUP, 0, 0, 0, 20},
	{"lookup_unicodeloosemd5_hash_unique", ROUTER__V_LOOKUP, 1, 0, 0, 10},
	{"lookup_unique", ROUTER__V_LOOKUP, 1, 0, 0, 10},
	{"multicol", ROUTER__V_MULTICOL, 1, 0, 1, 1},
	{"null", ROUTER__V_NULL, 1, 0, 0, 100},
	{"numeric", ROUTER__V_NUMERIC, 1, 1, 0, 0},
	{"numeric_static_map", ROUTER__V_NUMERIC_STATIC_MAP, 1, 1, 0, 1},
	{"region_experimental", ROUTER__V_REGION_EXPERIMENTAL, 1, 0, 1, 1},
	{"region_json", ROUTER__V_REGION_JSON, 1, 0, 1, 1},
	{"reverse_bits", ROUTER__V_REVERSE_BITS, 1, 1, 0, 1},
	{"unicode_loose_md5", ROUTER__V_UNICODE_LOOSE_MD5, 1, 1, 0, 1},
	{"unicode_loose_xxhash", ROUTER__V_UNICODE_LOOSE_XXHASH, 1, 1, 0, 1},
	{"xxhash", ROUTER__V_XXHASH, 1, 1, 0, 1},
};

#define NVTYPES (sizeof vtypes / sizeof vtypes[0])

const router__vtype *router__vtype_find(const char *name, size_t len)
{
	size_t lo = 0, hi = NVTYPES;

	if (name == NULL)
		return NULL;
	pthread_once(&des_once, des_zero_init);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = vtypes[mid].name;
		size_t mlen = strlen(m);
		int c = memcmp(name, m, len < mlen ? len : mlen);

		if (c == 0)
			c = len < mlen ? -1 : len > mlen;
		if (c == 0)
			return &vtypes[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Primitive functions                                                      */
/* ------------------------------------------------------------------------ */


static void des_zero_init(void)
{
	static const uint8_t key[8];

	(void)des_set_key(&des_zero, key);
}

static void put_be64(uint8_t *out, uint64_t v)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                       \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v); /* one instruction instead of a loop */
	memcpy(out, &v, 8);
#else
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
#endif
}

static void put_le64(uint8_t *out, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(out, &v, 8);
#else
	for (int i = 0; i < 8; i++) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
#endif
}

/* hash: DES-ECB, zero key, over BE8(n). */
static void des_hash(uint64_t n, uint8_t out[8])
{
	uint8_t in[8];

	put_be64(in, n);
	des_encrypt(&des_zero, 8, out, in);
}

uint64_t router__des_prefix(uint64_t v)
{
	uint8_t out[8];
	uint64_t k;

	des_hash(v, out);
	memcpy(&k, out, 8);
#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                       \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap64(k);
#else
	k = 0;
	for (int i = 0; i < 8; i++)
		k = k << 8 | out[i];
	return k;
#endif
}

static uint64_t reverse64(uint64_t x)
{
	x = ((x >> 1) & 0x5555555555555555ULL) | ((x & 0x5555555555555555ULL) << 1);
	x = ((x >> 2) & 0x3333333333333333ULL) | ((x & 0x3333333333333333ULL) << 2);
	x = ((x >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((x & 0x0F0F0F0F0F0F0F0FULL) << 4);
	x = ((x >> 8) & 0x00FF00FF00FF00FFULL) | ((x & 0x00FF00FF00FF00FFULL) << 8);
	x = ((x >> 16) & 0x0000FFFF0000FFFFULL) | ((x & 0x0000FFFF0000FFFFULL) << 16);
	return (x >> 32) | (x << 32);
}

static void md5_bytes(const void *p, size_t n, uint8_t out[16])
{
	struct md5_ctx c;

	md5_init(&c);
	md5_update(&c, n, p);
	md5_digest(&c, MD5_DIGEST_SIZE, out);
}

/* ------------------------------------------------------------------------ */
/* Mapping                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Vitess's Hash() of one value through a parameterless hashing type (and
 * Map of null).  The result goes into buf (ROUTER__KSID_BUF bytes) or, for
 * binary over bytes, points at the value itself.
 */
/* unicode_loose_md5 (16 bytes) or unicode_loose_xxhash (8) of (p, n). */
static int unicode_loose(router__vkind kind, const uint8_t *p, size_t n,
                         uint8_t *buf, const uint8_t **ksid, size_t *len)
{
	int rc = kind == ROUTER__V_UNICODE_LOOSE_MD5
	             ? router__unicode_loose_md5(p, n, buf, NULL)
	             : router__unicode_loose_xxhash(p, n, buf, NULL);

	if (rc != ROUTER_OK)
		return rc;
	*ksid = buf;
	*len = kind == ROUTER__V_UNICODE_LOOSE_MD5 ? 16 : 8;
	return ROUTER_OK;
}

static int hash_value(router__vkind kind, const router_value *val,
                      uint8_t *buf, const uint8_t **ksid, size_t *len)
{
	char tmp[24];
	const uint8_t *p;
	size_t n;
	uint64_t u;
	int rc;

	switch (kind) {
	case ROUTER__V_HASH:
		if ((rc = router__to_uint64_hash(val, &u)) != ROUTER__CONV_OK)
			return router__conv_status(rc);
		des_hash(u, buf);
		*len = 8;
		break;
	case ROUTER__V_NUMERIC:
		if ((rc = router__to_uint64(val, &u)) != ROUTER__CONV_OK)
			return router__conv_status(rc);
		put_be64(buf, u);
		*len = 8;
		break;
	case ROUTER__V_REVERSE_BITS:
		if ((rc = router__to_uint64(val, &u)) != ROUTER__CONV_OK)
			return router__conv_status(rc);
		put_be64(buf, reverse64(u));
		*len = 8;
		break;
	case ROUTER__V_XXHASH:
		if (router__value_bytes(val, tmp, &p, &n) != ROUTER__CONV_OK)
			return ROUTER_EINVAL;
		put_le64(buf, XXH64(p, n, 0));
		*len = 8;
		break;
	case ROUTER__V_BINARY_MD5:
		if (router__value_bytes(val, tmp, &p, &n) != ROUTER__CONV_OK)
			return ROUTER_EINVAL;
		md5_bytes(p, n, buf);
		*len = 16;
		break;
	case ROUTER__V_BINARY:
		/* Integers: their text, formatted straight into buf. */
		if (router__value_bytes(val, (char *)buf, &p, &n) != ROUTER__CONV_OK)
			return ROUTER_EINVAL;
		*ksid = p;
		*len = n;
		return ROUTER_OK;
	case ROUTER__V_NULL:
		buf[0] = 0;
		*len = 1;
		break;
	case ROUTER__V_UNICODE_LOOSE_MD5:
	case ROUTER__V_UNICODE_LOOSE_XXHASH:
		/* The value's bytes (an integer's text, NULL's none), then
		 * the collation key's hash.  Invalid UTF-8 is EINVAL here;
		 * router__vindex_explain gives Vitess's message on the error
		 * path, so the lookup itself formats nothing. */
		if (router__value_bytes(val, tmp, &p, &n) != ROUTER__CONV_OK)
			return ROUTER_EINVAL;
		return unicode_loose(kind, p, n, buf, ksid, len);
	case ROUTER__V_UNSUPPORTED:
		return ROUTER_EUNSUPPORTED; /* cfc, region_json */
	default:
		return ROUTER_EINVAL;
	}
	*ksid = buf;
	return ROUTER_OK;
}

/* The same for one integer, without a router_value: the integer is used
 * directly where Vitess parses it, and formatted only where Vitess hashes
 * its text.  Inlined into router__vindex_map_u64, the lookup's hot path:
 * one call and one switch per key instead of two (issue 20). */
static inline __attribute__((always_inline)) int
hash_u64(router__vkind kind, uint64_t value, int is_unsigned, uint8_t *buf,
         const uint8_t **ksid, size_t *len)
{
	char tmp[24];
	const char *p;
	size_t n;

	switch (kind) {
	case ROUTER__V_HASH:
		des_hash(value, buf); /* (a): signed keeps its bits */
		*len = 8;
		break;
	case ROUTER__V_NUMERIC:
		if (!is_unsigned && (int64_t)value < 0)
			return ROUTER_NONE;
		put_be64(buf, value);
		*len = 8;
		break;
	case ROUTER__V_REVERSE_BITS:
		if (!is_unsigned && (int64_t)value < 0)
			return ROUTER_NONE;
		put_be64(buf, reverse64(value));
		*len = 8;
		break;
	case ROUTER__V_XXHASH:
		/* The text hashed where it is formatted (no copy). */
		p = router__fmt_int_end(value, is_unsigned, tmp + sizeof tmp);
		put_le64(buf, XXH64(p, (size_t)(tmp + sizeof tmp - p), 0));
		*len = 8;
		break;
	case ROUTER__V_BINARY_MD5:
		n = is_unsigned ? router__fmt_uint64(value, tmp)
		                : router__fmt_int64((int64_t)value, tmp);
		md5_bytes(tmp, n, buf);
		*len = 16;
		break;
	case ROUTER__V_BINARY:
		*len = is_unsigned ? router__fmt_uint64(value, (char *)buf)
		                   : router__fmt_int64((int64_t)value, (char *)buf);
		break;
	case ROUTER__V_NULL:
		buf[0] = 0;
		*len = 1;
		break;
	case ROUTER__V_UNICODE_LOOSE_MD5:
	case ROUTER__V_UNICODE_LOOSE_XXHASH:
		n = is_unsigned ? router__fmt_uint64(value, tmp)
		                : router__fmt_int64((int64_t)value, tmp);
		return unicode_loose(kind, (const uint8_t *)tmp, n, buf, ksid,
		                     len);
	case ROUTER__V_UNSUPPORTED:
		return ROUTER_EUNSUPPORTED;
	default:
		return ROUTER_EINVAL;
	}
	*ksid = buf;
	return ROUTER_OK;
}

/* numeric_static_map: the map's value for n, if any. */
static int nsm_lookup(const router__vindex *v, uint64_t n, uint64_t *out)
{
	size_t lo = 0, hi = v->u.nsm.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->u.nsm.keys[mid] == n) {
			*out = v->u.nsm.vals[mid];
			return 1;
		}
		if (v->u.nsm.keys[mid] < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* numeric_static_map.Hash: conversion (b) (a failure is None: text never
 * reaches the fallback), then the map, else the fallback over the
 * original value, else the number itself. */
static int map_nsm(const router__vindex *v, const router_value *val,
                   uint8_t *buf, const uint8_t **ksid, size_t *len)
{
	uint64_t n, m;
	int rc;

	if ((rc = router__to_uint64(val, &n)) != ROUTER__CONV_OK)
		return router__conv_status(rc);
	if (nsm_lookup(v, n, &m)) {
		n = m;
	} else if (v->u.nsm.fallback != NULL) {
		return hash_value(v->u.nsm.fallback->kind, val, buf, ksid,
		                  len);
	}
	put_be64(buf, n);
	*ksid = buf;
	*len = 8;
	return ROUTER_OK;
}

/*
 * multicol: column i contributes the first bytes[i] bytes of its column
 * vindex's Hash(); before each column the ksid is zero-padded up to the
 * bytes reserved by the columns before it (a short binary column), and
 * nothing pads after the last one.  Any column failing -> None.
 */
static int map_multicol(const router__vindex *v, const router_value *values,
                        uint8_t *buf, const uint8_t **ksid, size_t *len)
{
	uint8_t tmp[ROUTER__KSID_BUF];
	size_t n = 0, min = 0;

	/* A column we cannot compute makes the whole vindex uncomputable,
	 * whatever the values: answer that before looking at them. */
	for (unsigned i = 0; i < v->u.mc.ncols; i++) {
		router__vkind k = v->u.mc.col[i]->kind;

		if (k == ROUTER__V_UNSUPPORTED ||
		    k == ROUTER__V_NUMERIC_STATIC_MAP)
			return ROUTER_EUNSUPPORTED;
	}
	for (unsigned i = 0; i < v->u.mc.ncols; i++) {
		const uint8_t *h = tmp;
		size_t hl = 0, take;
		int rc = hash_value(v->u.mc.col[i]->kind, &values[i], tmp, &h,
		                    &hl);

		if (rc != ROUTER_OK)
			return rc;
		while (n < min)
			buf[n++] = 0;
		take = hl < v->u.mc.bytes[i] ? hl : v->u.mc.bytes[i];
		if (take > 0)
			memcpy(buf + n, h, take);
		n += take;
		min += v->u.mc.bytes[i];
	}
	*ksid = buf;
	*len = n;
	return ROUTER_OK;
}

/* region_experimental: BE2(region) (or its low byte) then hash(id), both
 * through conversion (b). */
static int map_region(const router__vindex *v, const router_value *values,
                      uint8_t *buf, const uint8_t **ksid, size_t *len)
{
	uint64_t r, id;
	size_t off = 0;
	int rc;

	if ((rc = router__to_uint64(&values[0], &r)) != ROUTER__CONV_OK)
		return router__conv_status(rc);
	if ((rc = router__to_uint64(&values[1], &id)) != ROUTER__CONV_OK)
		return router__conv_status(rc);
	if (v->u.region.region_bytes == 2)
		buf[off++] = (uint8_t)(r >> 8);
	buf[off++] = (uint8_t)r;
	des_hash(id, buf + off);
	*ksid = buf;
	*len = off + 8;
	return ROUTER_OK;
}

int router__vindex_map(const router__vindex *v, const router_value *values,
                       size_t nvalues, uint8_t *buf, const uint8_t **ksid,
                       size_t *len)
{
	*ksid = buf;
	*len = 0;
	if (ROUTER__UNLIKELY(v->type == NULL))
		return ROUTER_EINVAL;
	switch (v->type->kind) {
	case ROUTER__V_LOOKUP:
		return ROUTER_ENEEDSLOOKUP;
	case ROUTER__V_UNSUPPORTED:
		return ROUTER_EUNSUPPORTED;
	case ROUTER__V_MULTICOL:
		if (nvalues != v->u.mc.ncols)
			return ROUTER_EINVAL;
		return map_multicol(v, values, buf, ksid, len);
	case ROUTER__V_REGION_EXPERIMENTAL:
		if (nvalues != 2)
			return ROUTER_EINVAL;
		return map_region(v, values, buf, ksid, len);
	case ROUTER__V_NUMERIC_STATIC_MAP:
		if (nvalues != 1)
			return ROUTER_EINVAL;
		return map_nsm(v, values, buf, ksid, len);
	case ROUTER__V_CFC:
		if (nvalues != 1)
			return ROUTER_EINVAL;
		return router__cfc_map(v, values, buf, ksid, len);
	case ROUTER__V_REGION_JSON:
		if (nvalues != 2)
			return ROUTER_EINVAL;
		return router__region_json_map(v, values, buf, ksid, len);
	default:
		if (nvalues != 1)
			return ROUTER_EINVAL;
		return hash_value(v->type->kind, values, buf, ksid, len);
	}
}

int router__vindex_map_u64(const router__vindex *v, uint64_t value,
                           int is_unsigned, uint8_t *buf,
                           const uint8_t **ksid, size_t *len)
{
	router_value val;
	uint64_t m;

	*ksid = buf;
	*len = 0;
	if (ROUTER__UNLIKELY(v->type == NULL))
		return ROUTER_EINVAL;
	switch (v->type->kind) {
	case ROUTER__V_LOOKUP:
		return ROUTER_ENEEDSLOOKUP;
	case ROUTER__V_UNSUPPORTED:
		return ROUTER_EUNSUPPORTED;
	case ROUTER__V_REGION_EXPERIMENTAL:
	case ROUTER__V_REGION_JSON:
		return ROUTER_EINVAL; /* takes two values */
	case ROUTER__V_CFC:
		val = is_unsigned ? ROUTER_VALUE_UINT64(value)
		                  : ROUTER_VALUE_INT64((int64_t)value);
		return router__cfc_map(v, &val, buf, ksid, len);
	case ROUTER__V_MULTICOL:
		/* Only column_count 1 takes one value; rare enough for the
		 * general path. */
		val = is_unsigned ? ROUTER_VALUE_UINT64(value)
		                  : ROUTER_VALUE_INT64((int64_t)value);
		return router__vindex_map(v, &val, 1, buf, ksid, len);
	case ROUTER__V_NUMERIC_STATIC_MAP:
		if (!is_unsigned && (int64_t)value < 0)
			return ROUTER_NONE;
		if (nsm_lookup(v, value, &m)) {
			value = m;
		} else if (v->u.nsm.fallback != NULL) {
			return hash_u64(v->u.nsm.fallback->kind, value,
			                is_unsigned, buf, ksid, len);
		}
		put_be64(buf, value);
		*len = 8;
		return ROUTER_OK;
	/* The common kinds with a constant kind: hash_u64's own switch
	 * folds away (one dispatch per key). */
	case ROUTER__V_HASH:
		return hash_u64(ROUTER__V_HASH, value, is_unsigned, buf, ksid,
		                len);
	case ROUTER__V_XXHASH:
		return hash_u64(ROUTER__V_XXHASH, value, is_unsigned, buf,
		                ksid, len);
	case ROUTER__V_NUMERIC:
		return hash_u64(ROUTER__V_NUMERIC, value, is_unsigned, buf,
		                ksid, len);
	default:
		return hash_u64(v->type->kind, value, is_unsigned, buf, ksid,
		                len);
	}
}

int router__vindex_explain(const router__vindex *v, const router_value *values,
                           size_t nvalues, const char *culprit,
                           router_error *err)
{
	if (v->type == NULL || values == NULL ||
	    nvalues != router__vindex_arity(v))
		return 0;
	if (v->type->kind == ROUTER__V_CFC)
		return router__cfc_explain(v, values, culprit, err);
	for (size_t i = 0; i < nvalues; i++) {
		router__vkind k = v->type->kind;
		uint8_t out[16];
		char tmp[24];
		const uint8_t *p;
		size_t n;
		int rc;

		if (k == ROUTER__V_MULTICOL)
			k = v->u.mc.col[i]->kind;
		else if (k == ROUTER__V_NUMERIC_STATIC_MAP &&
		         v->u.nsm.fallback != NULL)
			k = v->u.nsm.fallback->kind;
		if (k != ROUTER__V_UNICODE_LOOSE_MD5 &&
		    k != ROUTER__V_UNICODE_LOOSE_XXHASH)
			continue;
		if (router__value_bytes(&values[i], tmp, &p, &n) !=
		    ROUTER__CONV_OK)
			continue;
		rc = router__unicode_loose_md5(p, n, out, err);
		if (rc != ROUTER_OK) {
			if (err != NULL && culprit != NULL)
				snprintf(err->culprit, sizeof err->culprit, "%s",
				         culprit);
			return 1;
		}
	}
	return 0;
}

size_t router__vindex_arity(const router__vindex *v)
{
	if (v->type == NULL)
		return 1;
	if (v->type->kind == ROUTER__V_MULTICOL)
		return v->u.mc.ncols;
	/* region_experimental and region_json: (region, id) / (id, region). */
	return v->type->multi_column ? 2 : 1;
}

/* ------------------------------------------------------------------------ */
/* Params and Go-style messages                                             */
/* ------------------------------------------------------------------------ */

/* The value of param key (the last one wins, as in Go's map built from a
 * JSON object), or NULL. */
static const char *param(const router_param *p, size_t n, const char *key)
{
	const char *v = NULL;

	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].key, key) == 0)
			v = p[i].value;
	return v;
}

/* Append c to out (cap bytes, NUL kept) at *k; 0 when full. */
static int put_ch(char *out, size_t cap, size_t *k, char c)
{
	if (*k + 1 >= cap)
		return 0;
	out[(*k)++] = c;
	out[*k] = '\0';
	return 1;
}

/* Go's strconv.Quote, close enough for messages: printable ASCII as is,
 * \" \\ and C escapes, \xNN for other control bytes, non-ASCII bytes
 * passed through.  Long input is cut with "...". */
static void go_quote(const void *s, size_t n, char *out, size_t cap)
{
	static const char hexd[] = "0123456789abcdef";
	const uint8_t *b = s;
	size_t k = 0;

	out[0] = '\0';
	put_ch(out, cap, &k, '"');
	for (size_t i = 0; i < n; i++) {
		char esc[5];
		size_t el = 0;

		switch (b[i]) {
		case '"': esc[el++] = '\\'; esc[el++] = '"'; break;
		case '\\': esc[el++] = '\\'; esc[el++] = '\\'; break;
		case '\n': esc[el++] = '\\'; esc[el++] = 'n'; break;
		case '\t': esc[el++] = '\\'; esc[el++] = 't'; break;
		case '\r': esc[el++] = '\\'; esc[el++] = 'r'; break;
		default:
			if (b[i] < 0x20 || b[i] == 0x7f) {
				esc[el++] = '\\';
				esc[el++] = 'x';
				esc[el++] = hexd[b[i] >> 4];
				esc[el++] = hexd[b[i] & 15];
			} else {
				esc[el++] = (char)b[i];
			}
		}
		if (k + el + 5 >= cap) { /* room for ...", NUL */
			for (int j = 0; j < 3; j++)
				put_ch(out, cap, &k, '.');
			break;
		}
		for (size_t j = 0; j < el; j++)
			put_ch(out, cap, &k, esc[j]);
	}
	put_ch(out, cap, &k, '"');
}

/* Go's strconv.Atoi of (s, n) with its error text (int is 64-bit). */
static int go_atoi(const char *s, size_t n, int64_t *out, char *msg,
                   size_t cap)
{
	size_t i = 0;
	char q[96];

	if (router__parse_int64(s, n, out) == 0)
		return 0;
	go_quote(s, n, q, sizeof q);
	/* Syntax error unless it is a well-formed integer that overflows. */
	if (n > 0 && (s[0] == '+' || s[0] == '-'))
		i = 1;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == n && n > 0 && (s[n - 1] >= '0' && s[n - 1] <= '9'))
		snprintf(msg, cap, "strconv.Atoi: parsing %s: value out of range",
		         q);
	else
		snprintf(msg, cap, "strconv.Atoi: parsing %s: invalid syntax",
		         q);
	return -1;
}

/* ------------------------------------------------------------------------ */
/* numeric_static_map's table                                               */
/* ------------------------------------------------------------------------ */

/*
 * Vitess reads the table with encoding/json into map[string]uint64, then
 * strconv.ParseUint's each key.  jansson parses it here (no duplicate-key
 * rejection: as in Go's map, the last value of a repeated key wins) and the
 * code below applies Go's rules to what jansson returns: a top-level null is
 * an empty table, a null value is 0, a value must be a non-negative integer,
 * a key the decimal text of a uint64.  Two outcomes differ from Go's: Go
 * type-checks a value that a later duplicate overwrites and refuses the
 * table if it is wrong, where we accept it (jansson never shows us that
 * value); and where two key strings name one number ("7", "07") Go keeps a
 * random one, we the one jansson iterates last (order of first
 * appearance).  Where jansson is
 * stricter than Go (invalid UTF-8, "\u0000" in a key, nesting beyond
 * JSON_PARSER_MAX_DEPTH), Go refuses the same tables, for a bad key or a
 * value that is not a number.  Messages are ours: jansson's text with its
 * line and column for syntax, the key and the kind of value otherwise.
 *
 * Values above INT64_MAX.  jansson keeps integers in json_int_t (long long)
 * and fails a larger literal with "too big integer".  Refusing them is not
 * an option: a value is a keyspace ID, every ID from 0x8000000000000000 up
 * (the whole 80- half of a keyspace split in two) is one, and Vitess's own
 * TestNumericStaticMapWithFallback table holds 18446744073709551615 (a
 * vector in tests/data/vectors.json).  JSON_DECODE_INT_AS_REAL cannot carry
 * them either: a double drops their low 11 bits, silently misrouting.  So
 * only when jansson reports that overflow, nsm_rewrite() copies the text and
 * rewrites in place every literal shaped like an object member's integer
 * value that holds such a v -- a run of 19 or more digits, not starting with
 * 0, after ':' (JSON whitespace between), ending at whitespace, ',', '}',
 * ']' or the end -- as the decimal of v - 2^63, which fits, padded with
 * spaces to the same length so that jansson's line and column still point
 * into the original.  The copy is parsed twice, the second time with the low
 * bit of every rewritten number flipped: a member whose integer differs
 * between the two parses was rewritten and is v, any other is what the text
 * says (comparing two parses is what tells a rewritten 0 from a written 0,
 * also across duplicate keys).  jansson still reads every byte: the rewrite
 * only swaps digits for digits and spaces, so it can neither make invalid
 * JSON valid nor change a token's kind.  A run inside a string can match the
 * shape too and is rewritten alike; such a string holds ':', so it is
 * neither a valid key nor a valid value and the table is refused either way
 * (a bad key is then quoted from a parse of the text as written).  The cost
 * is a copy and two more parses, only for tables that hold such values.
 */

#define NSM_JSON_FLAGS JSON_DECODE_ANY
#define NSM_BIG_DIGITS 19 /* 2^63 has 19 digits */

typedef struct nsm_pair {
	uint64_t key;
	uint64_t val;
	size_t seq;
} nsm_pair;

static int pair_cmp(const void *x, const void *y)
{
	const nsm_pair *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Into out (a copy of the n bytes of s), rewrite each member value above
 * INT64_MAX as (v - 2^63) ^ flip, space-padded.  Returns how many. */
static size_t nsm_rewrite(const char *s, size_t n, char *out, uint64_t flip)
{
	size_t count = 0, i = 0;

	while (i < n) {
		size_t j = i, k = i;
		uint64_t v;

		if (s[i] < '0' || s[i] > '9') {
			i++;
			continue;
		}
		while (j < n && s[j] >= '0' && s[j] <= '9')
			j++;
		while (k > 0 && is_json_space(s[k - 1]))
			k--;
		if (j - i >= NSM_BIG_DIGITS && s[i] != '0' && k > 0 &&
		    s[k - 1] == ':' &&
		    (j == n || is_json_space(s[j]) || s[j] == ',' ||
		     s[j] == '}' || s[j] == ']') &&
		    router__parse_uint64(s + i, j - i, &v) == 0 &&
		    v > (uint64_t)INT64_MAX) {
			char num[24];
			size_t len = router__fmt_uint64(
			    (v - ((uint64_t)1 << 63)) ^ flip, num);

			memcpy(out + i, num, len);
			memset(out + i + len, ' ', j - i - len);
			count++;
		}
		i = j;
	}
	return count;
}

/* Parse the table text: *a is the document, *b (NULL when nothing was
 * rewritten) its twin with the rewritten numbers flipped.  Returns
 * ROUTER_OK; ROUTER_EREFERENCE with jansson's error in *je; ROUTER_ENOMEM
 * (*je then unset when our copy of the text failed). */
static int nsm_parse(const char *s, size_t n, const router_allocator *al,
                     json_t **a, json_t **b, json_error_t *je)
{
	char *buf;

	*b = NULL;
	*a = json_loadb(s, n, NSM_JSON_FLAGS, je);
	if (*a != NULL || json_error_code(je) != json_error_numeric_overflow)
		goto out;
	if ((buf = router__malloc(al, n)) == NULL)
		return ROUTER_ENOMEM;
	memcpy(buf, s, n);
	if (nsm_rewrite(s, n, buf, 0) > 0) {
		*a = json_loadb(buf, n, NSM_JSON_FLAGS, je);
		if (*a != NULL) {
			nsm_rewrite(s, n, buf, 1);
			*b = json_loadb(buf, n, NSM_JSON_FLAGS, je);
			if (*b == NULL) { /* cannot differ; out of memory */
				json_decref(*a);
				*a = NULL;
			}
		}
	}
	router__free(al, buf);
out:
	if (*a != NULL)
		return ROUTER_OK;
	return json_error_code(je) == json_error_out_of_memory
	           ? ROUTER_ENOMEM
	           : ROUTER_EREFERENCE;
}

/* What x is, for messages. */
static const char *json_kind(const json_t *x)
{
	switch (json_typeof(x)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number with a fraction or an exponent";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "an unknown JSON value";
}

/* The uint64 of member value x, given its twin (NULL if none).  Returns 0,
 * or -1 with what x is instead in why. */
static int nsm_value(const json_t *x, const json_t *twin, uint64_t *out,
                     char *why, size_t cap)
{
	if (json_is_integer(x)) {
		json_int_t i = json_integer_value(x);

		if (twin != NULL && json_is_integer(twin) &&
		    json_integer_value(twin) != i) {
			/* Rewritten by nsm_rewrite: v - 2^63. */
			*out = (uint64_t)i + ((uint64_t)1 << 63);
			return 0;
		}
		if (i >= 0) {
			*out = (uint64_t)i;
			return 0;
		}
		snprintf(why, cap, "the negative integer %" JSON_INTEGER_FORMAT,
		         i);
		return -1;
	}
	if (json_is_null(x)) { /* Go leaves the zero value */
		*out = 0;
		return 0;
	}
	if (json_is_real(x)) {
		char num[32];

		/* As jansson writes reals: 1.0 stays 1.0, not 1. */
		snprintf(num, sizeof num, "%.17g", json_real_value(x));
		if (strpbrk(num, ".e") == NULL)
			strcat(num, ".0");
		snprintf(why, cap, "%s (%s)", json_kind(x), num);
	} else {
		snprintf(why, cap, "%s", json_kind(x));
	}
	return -1;
}

/* Refuse key (of klen bytes), which is not a uint64. */
static int nsm_key_error(const char *key, size_t klen, const char *culprit,
                         const char *where, router_error *err)
{
	char q[96];
	size_t d = 0;

	while (d < klen && key[d] >= '0' && key[d] <= '9')
		d++;
	go_quote(key, klen, q, sizeof q);
	return router__seterr(
	    err, ROUTER_EREFERENCE, culprit, "key %s %s (%s)", q,
	    d == klen && klen > 0
	        ? "is out of range: keys must be integers from 0 to "
	          "18446744073709551615"
	        : "is not the decimal text of an unsigned integer",
	    where);
}

/* The same for the text (s, n) that nsm_rewrite copied: the bad key may
 * hold digits it changed, so quote the first bad key of the text itself.
 * Read with JSON_DECODE_INT_AS_REAL, which keeps keys exact and parses
 * whatever the rewritten copy parsed; fall back to key on failure. */
static int nsm_key_error_as_written(const char *s, size_t n, const char *key,
                                    const char *culprit, const char *where,
                                    router_error *err)
{
	json_t *r = json_loadb(s, n, NSM_JSON_FLAGS | JSON_DECODE_INT_AS_REAL,
	                       NULL);
	const char *k;
	json_t *x;
	uint64_t u;
	int rc;

	json_object_foreach(r, k, x) {
		if (router__parse_uint64(k, strlen(k), &u) != 0) {
			key = k;
			break;
		}
	}
	rc = nsm_key_error(key, strlen(key), culprit, where, err);
	json_decref(r);
	return rc;
}

/* Load the table text (s, n) into v->u.nsm.keys/vals/n.  where names the
 * source for messages ("param 'json'"). */
static int nsm_load(router__vindex *v, const char *s, size_t n,
                    const router_allocator *al, const char *culprit,
                    const char *where, router_error *err)
{
	json_error_t je;
	json_t *a, *b, *x;
	nsm_pair *pairs = NULL;
	const char *key;
	size_t np = 0, nk = 0;
	int rc = nsm_parse(s, n, al, &a, &b, &je);

	if (rc == ROUTER_ENOMEM)
		return router__seterr(err, rc, culprit,
		                      "out of memory loading the "
		                      "numeric_static_map table (%s)", where);
	if (rc != ROUTER_OK) {
		if (json_error_code(&je) == json_error_numeric_overflow)
			return router__seterr(
			    err, rc, culprit,
			    "number out of range at line %d, column %d: %s; "
			    "values must be integers from 0 to "
			    "18446744073709551615 (%s)",
			    je.line, je.column, je.text, where);
		return router__seterr(err, rc, culprit,
		                      "invalid JSON at line %d, column %d: "
		                      "%s (%s)",
		                      je.line, je.column, je.text, where);
	}
	if (json_is_null(a)) /* Go leaves the map empty */
		goto out;
	if (!json_is_object(a)) {
		rc = router__seterr(err, ROUTER_EREFERENCE, culprit,
		                    "the table is %s, not a JSON object of "
		                    "\"key\": value pairs (%s)",
		                    json_kind(a), where);
		goto out;
	}
	if (json_object_size(a) > 0 &&
	    (pairs = router__malloc(al, json_object_size(a) *
	                                    sizeof *pairs)) == NULL) {
		rc = ROUTER_ENOMEM;
		goto out;
	}
	json_object_foreach(a, key, x) {
		char why[96], q[96];

		pairs[np].seq = np;
		if (router__parse_uint64(key, strlen(key), &pairs[np].key) !=
		    0) {
			rc = b != NULL ? nsm_key_error_as_written(s, n, key,
			                                          culprit, where,
			                                          err)
			               : nsm_key_error(key, strlen(key),
			                               culprit, where, err);
			goto out;
		}
		if (nsm_value(x, b != NULL ? json_object_get(b, key) : NULL,
		              &pairs[np].val, why, sizeof why) != 0) {
			go_quote(key, strlen(key), q, sizeof q);
			rc = router__seterr(err, ROUTER_EREFERENCE, culprit,
			                    "value of key %s is %s, not an "
			                    "unsigned 64-bit integer (%s)",
			                    q, why, where);
			goto out;
		}
		np++;
	}
	if (np > 0) {
		qsort(pairs, np, sizeof *pairs, pair_cmp);
		/* Keep the last of equal keys (sorted by seq within a key). */
		for (size_t i = 0; i < np; i++)
			if (i + 1 == np || pairs[i + 1].key != pairs[i].key)
				pairs[nk++] = pairs[i];
		v->u.nsm.keys = router__malloc(al, nk * sizeof(uint64_t));
		v->u.nsm.vals = router__malloc(al, nk * sizeof(uint64_t));
		if (v->u.nsm.keys == NULL || v->u.nsm.vals == NULL) {
			router__free(al, v->u.nsm.keys);
			router__free(al, v->u.nsm.vals);
			v->u.nsm.keys = v->u.nsm.vals = NULL;
			rc = ROUTER_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < nk; i++) {
			v->u.nsm.keys[i] = pairs[i].key;
			v->u.nsm.vals[i] = pairs[i].val;
		}
	}
	v->u.nsm.n = nk;
out:
	router__free(al, pairs);
	json_decref(a);
	json_decref(b);
	if (rc == ROUTER_ENOMEM)
		return router__seterr(err, rc, culprit,
		                      "out of memory loading the "
		                      "numeric_static_map table (%s)", where);
	return rc;
}

/* Read a whole file, with Go's os.ReadFile error text. */
static int read_file(const char *path, const router_allocator *a, char **out,
                     size_t *outlen, char *msg, size_t cap)
{
	char ebuf[128];
	const char *e;
	/* O_NONBLOCK: a FIFO at path must not block the open (waiting for a
	 * writer, forever, with the caller's locks held); it is refused from
	 * fstat below, unread, as are devices (/dev/zero would be read to
	 * the limit) and sockets.  A directory goes on to fread's EISDIR,
	 * Go's "read X: is a directory".  The flag is cleared before
	 * reading. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	FILE *f = NULL;
	char *buf = NULL;
	size_t n = 0, bcap = 0;
	struct stat st;

	if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) &&
	    !S_ISDIR(st.st_mode)) {
		close(fd);
		snprintf(msg, cap, "read %s: %s, not a regular file: not read",
		         path,
		         S_ISFIFO(st.st_mode)  ? "a FIFO"
		         : S_ISCHR(st.st_mode) ? "a character device"
		         : S_ISBLK(st.st_mode) ? "a block device"
		                               : "a socket");
		return ROUTER_EREFERENCE;
	}
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);

		if (fl == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1 ||
		    (f = fdopen(fd, "rb")) == NULL)
			close(fd);
	}
	if (f == NULL) {
		e = strerror_r(errno, ebuf, sizeof ebuf);
		snprintf(msg, cap, "open %s: %c%s", path,
		         e[0] >= 'A' && e[0] <= 'Z' ? e[0] - 'A' + 'a' : e[0],
		         e[0] != '\0' ? e + 1 : "");
		return ROUTER_EREFERENCE;
	}
	for (;;) {
		size_t got;

		if (n == bcap) {
			size_t ncap = bcap ? 2 * bcap : 4096;
			char *nb;

			if (ncap > ((size_t)64 << 20)) {
				router__free(a, buf);
				fclose(f);
				snprintf(msg, cap, "read %s: file larger than "
				         "64 MiB", path);
				return ROUTER_EREFERENCE;
			}
			nb = buf == NULL ? router__malloc(a, ncap)
			                 : router__realloc(a, buf, ncap);
			if (nb == NULL) {
				router__free(a, buf);
				fclose(f);
				snprintf(msg, cap, "out of memory reading %s",
				         path);
				return ROUTER_ENOMEM;
			}
			buf = nb;
			bcap = ncap;
		}
		got = fread(buf + n, 1, bcap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		e = strerror_r(errno, ebuf, sizeof ebuf);
		snprintf(msg, cap, "read %s: %c%s", path,
		         e[0] >= 'A' && e[0] <= 'Z' ? e[0] - 'A' + 'a' : e[0],
		         e[0] != '\0' ? e + 1 : "");
		router__free(a, buf);
		fclose(f);
		return ROUTER_EREFERENCE;
	}
	fclose(f);
	*out = buf;
	*outlen = n;
	return ROUTER_OK;
}

int router__read_file(const char *path, const router_allocator *a,
                      char **out, size_t *outlen, char *msg, size_t cap)
{
	return read_file(path, a, out, outlen, msg, cap);
}

void router__vhash(uint64_t n, uint8_t out[8])
{
	des_hash(n, out);
}

/* ------------------------------------------------------------------------ */
/* Compiling                                                                */
/* ------------------------------------------------------------------------ */

static int nsm_init(router__vindex *v, const router_param *params,
                    size_t nparams, const router_allocator *a,
                    const char *culprit, router_error *err)
{
	const char *json = param(params, nparams, "json");
	const char *path = param(params, nparams, "json_path");
	const char *fb = param(params, nparams, "fallback_type");
	const router__vtype *fbt = NULL;
	int rc;

	if (json == NULL && path == NULL)
		return router__seterr(
		    err, ROUTER_EREFERENCE, culprit,
		    "NumericStaticMap: Could not find either `json_path` or "
		    "`json` params in vschema");
	if (json != NULL && path != NULL)
		return router__seterr(err, ROUTER_EREFERENCE, culprit,
		                      "NumericStaticMap: Found both `json` and "
		                      "`json_path` params in vschema");
	if (path != NULL) {
		char msg[ROUTER_MESSAGE_MAX], where[ROUTER_MESSAGE_MAX / 2];
		char *file = NULL;
		size_t flen = 0;

		rc = read_file(path, a, &file, &flen, msg, sizeof msg);
		if (rc != ROUTER_OK)
			return router__seterr(err, rc, culprit,
			                      "%s (param 'json_path')", msg);
		snprintf(where, sizeof where, "param 'json_path', file %s",
		         path);
		rc = nsm_load(v, file, flen, a, culprit, where, err);
		router__free(a, file);
	} else {
		rc = nsm_load(v, json, strlen(json), a, culprit,
		              "param 'json'", err);
	}
	if (rc != ROUTER_OK)
		return rc;

	/* Vitess builds the table first, then the fallback. */
	if (fb != NULL) {
		fbt = router__vtype_find(fb, strlen(fb));
		if (fbt == NULL) {
			char q[96];

			go_quote(fb, strlen(fb), q, sizeof q);
			rc = router__seterr(err, ROUTER_EREFERENCE, culprit,
			                    "vindexType %s not found "
			                    "(param 'fallback_type')", q);
		} else if (fbt->kind == ROUTER__V_NUMERIC_STATIC_MAP) {
			/* Vitess creates the fallback with no params. */
			rc = router__seterr(
			    err, ROUTER_EREFERENCE, culprit,
			    "NumericStaticMap: Could not find either `json_path` "
			    "or `json` params in vschema (param 'fallback_type')");
		} else if (fbt->kind == ROUTER__V_MULTICOL) {
			rc = router__seterr(
			    err, ROUTER_EREFERENCE, culprit,
			    "number of columns not provided in the parameter "
			    "'column_count' (param 'fallback_type')");
		} else if (fbt->kind == ROUTER__V_REGION_EXPERIMENTAL) {
			rc = router__seterr(
			    err, ROUTER_EREFERENCE, culprit,
			    "region_experimental missing region_bytes param "
			    "(param 'fallback_type')");
		} else if (strcmp(fbt->name, "region_json") == 0) {
			/* It reads the file named by its absent region_map. */
			rc = router__seterr(err, ROUTER_EREFERENCE, culprit,
			                    "open : no such file or directory "
			                    "(param 'fallback_type')");
		} else if (!fbt->hashing) {
			/* null, cfc, the lookup family: Vitess's type
			 * assertion to Hashing fails silently and the map
			 * falls back to the identity, as with no fallback. */
			fbt = NULL;
		}
		/* unicode_loose_* are Hashing: kept, and a value that falls
		 * back to them maps to ROUTER_EUNSUPPORTED. */
		if (rc != ROUTER_OK) {
			router__free(a, v->u.nsm.keys);
			router__free(a, v->u.nsm.vals);
			v->u.nsm.keys = v->u.nsm.vals = NULL;
			v->u.nsm.n = 0;
			return rc;
		}
	}
	v->u.nsm.fallback = fbt;
	return ROUTER_OK;
}

static int region_init(router__vindex *v, const router_param *params,
                       size_t nparams, const char *culprit, router_error *err)
{
	const char *rb = param(params, nparams, "region_bytes");

	if (rb == NULL)
		return router__seterr(err, ROUTER_EREFERENCE, culprit,
		                      "region_experimental missing region_bytes "
		                      "param");
	if (strcmp(rb, "1") == 0) {
		v->u.region.region_bytes = 1;
	} else if (strcmp(rb, "2") == 0) {
		v->u.region.region_bytes = 2;
	} else {
		/* Vitess's text since v17 (#12951, region_experimental.go:72;
		 * before it said region_bits).  The value is shown escaped and
		 * cut whole (fmt_name). */
		char shown[68];

		return router__seterr(err, ROUTER_EREFERENCE, culprit,
		                      "region_bytes must be 1 or 2: %s",
		                      router__fmt_name(shown, sizeof shown, rb,
		                                       strlen(rb)));
	}
	return ROUTER_OK;
}

/* The items of a comma-separated list, as Go's strings.Split. */
static size_t split_count(const char *s)
{
	size_t n = 1;

	for (; *s != '\0'; s++)
		n += *s == ',';
	return n;
}

/* Item i of a comma list: its start, and its length in *len. */
static const char *split_item(const char *s, size_t i, size_t *len)
{
	for (; i > 0; s++)
		if (*s == ',')
			i--;
	*len = strcspn(s, ",");
	return s;
}

static int is_go_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' ||
	       c == '\f' || c == '\r';
}

/* multicol's column_count: 1..8 columns. */
static int multicol_count(const char *cc, int64_t *count_out,
                          const char *culprit, router_error *err)
{
	char msg[ROUTER_MESSAGE_MAX];
	int64_t count;

	if (cc == NULL)
		return router__seterr(err, ROUTER_EREFERENCE, culprit,
		                      "number of columns not provided in the "
		                      "parameter 'column_count'");
	if (go_atoi(cc, strlen(cc), &count, msg, sizeof msg) != 0)
		return router__seterr(err, ROUTER_EREFERENCE, culprit,
		                      "%s (param 'column_count')", msg);
	if (count > ROUTER_MULTICOL_MAX || count < 1)
		return router__seterr(err, ROUTER_EREFERENCE, culprit,
		                      "number of columns should be between 1 "
		                      "and 8 in the parameter 'column_count'");
	*count_out = count;
	return ROUTER_OK;
}

/* multicol's column_bytes: the explicit sizes, then the columns left out
 * share what remains of 8 bytes, ceil(remaining / pending) each. */
static int multicol_bytes(router__vindex *v, const char *cb, int64_t count,
                          const char *culprit, router_error *err)
{
	char msg[ROUTER_MESSAGE_MAX];
	uint8_t defined[ROUTER_MULTICOL_MAX] = {0};
	int64_t used = 0, remaining, pending;

	if (cb != NULL) {
		size_t items = split_count(cb);

		if (items > (size_t)count)
			return router__seterr(
			    err, ROUTER_EREFERENCE, culprit,
			    "number of column bytes provided are more than "
			    "column count in the parameter 'column_bytes'");
		for (size_t i = 0; i < items; i++) {
			size_t ilen;
			const char *item = split_item(cb, i, &ilen);
			int64_t b;

			if (ilen == 0)
				continue; /* left for the even split */
			if (go_atoi(item, ilen, &b, msg, sizeof msg) != 0)
				return router__seterr(err, ROUTER_EREFERENCE,
				                      culprit,
				                      "%s (param 'column_bytes')",
				                      msg);
			/* Vitess's Atoi takes "-1" and its sum check then
			 * lets another column take more than 8 bytes; a
			 * negative size means nothing, so refuse it. */
			if (b < 0) {
				char shown[40];

				return router__seterr(
				    err, ROUTER_EREFERENCE, culprit,
				    "column bytes must not be negative: %s "
				    "(column %zu) in the parameter "
				    "'column_bytes'",
				    router__fmt_name(shown, sizeof shown, item,
				                     ilen),
				    i);
			}
			/* Anything above 8 fails the sum check below;
			 * clamping keeps the sum from overflowing. */
			if (b > 64)
				b = 64;
			used += b;
			defined[i] = 1;
			v->u.mc.bytes[i] = (uint8_t)b;
		}
	}
	pending = count;
	for (int64_t i = 0; i < count; i++)
		pending -= defined[i];
	remaining = 8 - used;
	if (pending > remaining)
		return router__seterr(
		    err, ROUTER_EREFERENCE, culprit,
		    "column bytes count exceeds the keyspace id length (total "
		    "bytes count cannot exceed 8 bytes) in the parameter "
		    "'column_bytes'");
	for (int64_t i = 0; i < count && pending > 0; i++) {
		int64_t share;

		if (defined[i])
			continue;
		share = (remaining + pending - 1) / pending;
		v->u.mc.bytes[i] = (uint8_t)share;
		remaining -= share;
		pending--;
	}

	return ROUTER_OK;
}

/* multicol's column_vindex for column i (default "hash"): a unique,
 * vcursor-free Hashing vindex, created with the other params. */
/* The type name of multicol column i in column_vindex cv (NULL: none),
 * as Vitess reads it: item i of the comma list, strings.TrimSpace'd
 * (ASCII whitespace), "hash" when absent or empty. */
static void multicol_column_name(const char *cv, size_t i,
                                 char name[ROUTER_NAME_MAX + 1])
{
	strcpy(name, "hash");
	if (cv != NULL && i < split_count(cv)) {
		size_t len;
		const char *s = split_item(cv, i, &len);

		while (len > 0 && is_go_space(*s)) {
			s++;
			len--;
		}
		while (len > 0 && is_go_space(s[len - 1]))
			len--;
		if (len > ROUTER_NAME_MAX)
			len = ROUTER_NAME_MAX; /* no such type anyway */
		if (len > 0) {
			memcpy(name, s, len);
			name[len] = '\0';
		}
	}
}

int router__multicol_has_kind(const router_param *params, size_t nparams,
                              router__vkind kind)
{
	const char *cv = param(params, nparams, "column_vindex");
	size_t n = cv != NULL ? split_count(cv) : 0;

	for (size_t i = 0; i < n; i++) {
		char name[ROUTER_NAME_MAX + 1];
		const router__vtype *t;

		multicol_column_name(cv, i, name);
		t = router__vtype_find(name, strlen(name));
		if (t != NULL && t->kind == kind)
			return 1;
	}
	return 0;
}

static int multicol_column(router__vindex *v, const router_param *params,
                           size_t nparams, const router_allocator *a,
                           const char *cv, size_t i, const char *culprit,
                           router_error *err)
{
	char name[ROUTER_NAME_MAX + 1];
	const router__vtype *t;

	multicol_column_name(cv, i, name);
	t = router__vtype_find(name, strlen(name));
	if (t == NULL) {
		char q[ROUTER_NAME_MAX + 8];

		go_quote(name, strlen(name), q, sizeof q);
		return router__seterr(err, ROUTER_EREFERENCE, culprit,
		                      "vindexType %s not found "
		                      "(param 'column_vindex')", q);
	}
	/* Creation errors of the column vindex come first, as in
	 * Vitess (it gets every param but the three above; those it
	 * reads are never among them). */
	if (t->kind == ROUTER__V_NUMERIC_STATIC_MAP) {
		router__vindex tmp;
		int rc;

		memset(&tmp, 0, sizeof tmp);
		tmp.type = t;
		rc = nsm_init(&tmp, params, nparams, a, culprit, err);
		router__vindex_fini(&tmp, a);
		if (rc != ROUTER_OK)
			return rc;
		/* Valid, but its table would need a slot per column
		 * in router__vindex: mapping says EUNSUPPORTED. */
	} else if (t->kind == ROUTER__V_MULTICOL) {
		return router__seterr(err, ROUTER_EREFERENCE, culprit,
		                      "number of columns not provided in "
		                      "the parameter 'column_count'");
	} else if (t->kind == ROUTER__V_REGION_EXPERIMENTAL) {
		router__vindex tmp;
		int rc;

		memset(&tmp, 0, sizeof tmp);
		rc = region_init(&tmp, params, nparams, culprit, err);
		if (rc != ROUTER_OK)
			return rc;
	} else if (t->kind == ROUTER__V_CFC) {
		/* Vitess names the column vindex after its type. */
		router__vindex tmp;
		int rc;

		memset(&tmp, 0, sizeof tmp);
		tmp.type = t;
		rc = router__cfc_init(&tmp, params, nparams, a, "cfc", err);
		router__vindex_fini(&tmp, a);
		if (rc != ROUTER_OK) {
			if (err != NULL && culprit != NULL)
				snprintf(err->culprit, sizeof err->culprit, "%s",
				         culprit);
			return rc;
		}
	}
	/* region_json is not created: it would read the file its
	 * region_map names, which a document may not make librouter do;
	 * it is refused below as not Hashing either way. */
	if (!t->hashing || !t->unique || t->kind == ROUTER__V_LOOKUP)
		return router__seterr(
		    err, ROUTER_EREFERENCE, culprit,
		    "multicol vindex supports vindexes that exports "
		    "hashing function, are unique and are non-lookup "
		    "vindex, passed vindex '%s' is invalid",
		    name);
	v->u.mc.col[i] = t;
	return ROUTER_OK;
}

/*
 * multicol, as Vitess's newMultiCol: column_count (1..8), then
 * column_bytes (explicit sizes; the columns left out share what remains
 * of 8 bytes, ceil(remaining / pending) each, in column order), then
 * column_vindex (default "hash"; each must be a unique, vcursor-free
 * Hashing vindex, created with the params other than these three).
 */
static int multicol_init(router__vindex *v, const router_param *params,
                         size_t nparams, const router_allocator *a,
                         const char *culprit, router_error *err)
{
	const char *cc = param(params, nparams, "column_count");
	const char *cb = param(params, nparams, "column_bytes");
	const char *cv = param(params, nparams, "column_vindex");
	int64_t count = 0;
	int rc;

	if ((rc = multicol_count(cc, &count, culprit, err)) != ROUTER_OK)
		return rc;
	v->u.mc.ncols = (uint8_t)count;
	if ((rc = multicol_bytes(v, cb, count, culprit, err)) != ROUTER_OK)
		return rc;
	if (cv != NULL && split_count(cv) > (size_t)count)
		return router__seterr(err, ROUTER_EREFERENCE, culprit,
		                      "number of vindex function provided are "
		                      "more than column count in the parameter "
		                      "'column_vindex'");
	for (size_t i = 0; i < (size_t)count; i++)
		if ((rc = multicol_column(v, params, nparams, a, cv, i, culprit,
		                          err)) != ROUTER_OK)
			return rc;
	return ROUTER_OK;
}

int router__vindex_init(router__vindex *v, const char *type,
                        const router_param *params, size_t nparams,
                        const router_allocator *a, const char *culprit,
                        router_error *err)
{
	const router__vtype *t;
	int rc = ROUTER_OK;

	if (v == NULL || type == NULL || (params == NULL && nparams > 0))
		return router__seterr(err, ROUTER_EINVAL, culprit,
		                      "router__vindex_init: NULL argument");
	memset(v, 0, sizeof *v);
	a = router__allocator(a);
	t = router__vtype_find(type, strlen(type)); /* also readies DES */
	if (t == NULL) {
		char q[ROUTER_NAME_MAX + 8];

		go_quote(type, strlen(type), q, sizeof q);
		return router__seterr(err, ROUTER_EREFERENCE, culprit,
		                      "vindexType %s not found", q);
	}
	v->type = t;
	switch (t->kind) {
	case ROUTER__V_NUMERIC_STATIC_MAP:
		rc = nsm_init(v, params, nparams, a, culprit, err);
		break;
	case ROUTER__V_MULTICOL:
		rc = multicol_init(v, params, nparams, a, culprit, err);
		break;
	case ROUTER__V_REGION_EXPERIMENTAL:
		rc = region_init(v, params, nparams, culprit, err);
		break;
	case ROUTER__V_CFC:
		rc = router__cfc_init(v, params, nparams, a, culprit, err);
		break;
	case ROUTER__V_REGION_JSON:
		rc = router__region_json_init(v, params, nparams, a, culprit,
		                              err);
		break;
	case ROUTER__V_LOOKUP:
		rc = router__lookup_init(v, params, nparams, a, culprit, err);
		break;
	default:
		break;
	}
	if (rc != ROUTER_OK)
		memset(v, 0, sizeof *v); /* nothing held: fini is a no-op */
	return rc;
}

/* Whether key is one of the params Vitess's constructor for a type of
 * kind k reads (the knownParams list it passes to FindUnknownParams).
 * Types without params pass none; lookups have their own sets. */
static int known_param(router__vkind k, const char *key)
{
	static const char *const nsm[] = {"json", "json_path", "fallback_type",
	                                  NULL};
	static const char *const region[] = {"region_bytes", NULL};
	/* region_map_json: librouter's inline map (docs/spec.md), read
	 * here, so not reported although Vitess does not know it. */
	static const char *const region_json[] = {"region_bytes", "region_map",
	                                          "region_map_json", NULL};
	static const char *const cfc[] = {"hash", "offsets", NULL};
	const char *const *set;

	switch (k) {
	case ROUTER__V_NUMERIC_STATIC_MAP:
		set = nsm;
		break;
	case ROUTER__V_REGION_EXPERIMENTAL:
		set = region;
		break;
	case ROUTER__V_REGION_JSON:
		set = region_json;
		break;
	case ROUTER__V_CFC:
		set = cfc;
		break;
	default:
		return 0;
	}
	for (; *set != NULL; set++)
		if (strcmp(*set, key) == 0)
			return 1;
	return 0;
}

size_t router__vindex_unknown_params(const char *type,
                                     const router_param *params, size_t n,
                                     const char **out, size_t cap)
{
	const router__vtype *t = type ? router__vtype_find(type, strlen(type))
	                              : NULL;
	size_t k = 0;

	/* multicol is not ParamValidating in Vitess: it reports nothing. */
	if (t == NULL || t->kind == ROUTER__V_MULTICOL || params == NULL)
		return 0;
	if (t->kind == ROUTER__V_LOOKUP) {
		k = router__lookup_unknown_params(t, params, n, out, cap);
	} else {
		for (size_t i = 0; i < n; i++) {
			if (known_param(t->kind, params[i].key))
				continue;
			if (k < cap)
				out[k] = params[i].key;
			k++;
		}
	}
	/* FindUnknownParams sorts (sort.Strings: bytewise, as strcmp). */
	for (size_t i = 1; i < k && i < cap; i++)
		for (size_t j = i; j > 0 && strcmp(out[j - 1], out[j]) > 0;
		     j--) {
			const char *x = out[j];

			out[j] = out[j - 1];
			out[j - 1] = x;
		}
	return k;
}

void router__vindex_fini(router__vindex *v, const router_allocator *a)
{
	if (v == NULL || v->type == NULL)
		return;
	a = router__allocator(a);
	if (v->type->kind == ROUTER__V_NUMERIC_STATIC_MAP) {
		router__free(a, v->u.nsm.keys);
		router__free(a, v->u.nsm.vals);
	} else if (v->type->kind == ROUTER__V_CFC) {
		router__cfc_fini(v, a);
	} else if (v->type->kind == ROUTER__V_REGION_JSON) {
		router__region_json_fini(v, a);
	}
	if (v->type->kind == ROUTER__V_LOOKUP)
		router__lookup_fini(v, a);
	memset(v, 0, sizeof *v);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */
/* ------------------------------------------------------------------------ */

struct router_vindex {
	router__vindex v;
	router_allocator alloc;
};

int router_vindex_create(router_vindex **out, const char *type,
                         const router_param *params, size_t nparams,
                         const router_allocator *alloc, router_error *err)
{
	const router_allocator *a;
	router_vindex *vx;
	int rc;

	if (out == NULL)
		return router__seterr(err, ROUTER_EINVAL, type,
		                      "router_vindex_create: out is NULL");
	*out = NULL;
	if (type == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_vindex_create: type is NULL");
	if (params == NULL && nparams > 0)
		return router__seterr(err, ROUTER_EINVAL, type,
		                      "router_vindex_create: params is NULL "
		                      "with nparams %zu",
		                      nparams);
	for (size_t i = 0; i < nparams; i++)
		if (params[i].key == NULL || params[i].value == NULL)
			return router__seterr(err, ROUTER_EINVAL, type,
			                      "param %zu has a NULL %s", i,
			                      params[i].key == NULL ? "key"
			                                            : "value");
	if (alloc != NULL &&
	    (alloc->malloc == NULL || alloc->realloc == NULL ||
	     alloc->free == NULL))
		return router__seterr(err, ROUTER_EINVAL, type,
		                      "allocator with a NULL function");
	a = router__allocator(alloc);
	vx = router__malloc(a, sizeof *vx);
	if (vx == NULL)
		return router__seterr(err, ROUTER_ENOMEM, type,
		                      "out of memory creating the vindex");
	vx->alloc = *a;
	rc = router__vindex_init(&vx->v, type, params, nparams, &vx->alloc,
	                         type, err);
	if (rc != ROUTER_OK) {
		router__free(a, vx);
		return rc;
	}
	*out = vx;
	return ROUTER_OK;
}

void router_vindex_free(router_vindex *v)
{
	router_allocator a;

	if (v == NULL)
		return;
	a = v->alloc;
	router__vindex_fini(&v->v, &a);
	router__free(&a, v);
}

int router_vindex_map(const router_vindex *v, const router_value *values,
                      size_t nvalues, uint8_t *out, size_t cap, size_t *len,
                      router_error *err)
{
	uint8_t buf[ROUTER__KSID_BUF];
	const uint8_t *ksid;
	size_t n;
	const char *name;
	int rc;

	if (len != NULL)
		*len = 0;
	if (v == NULL || len == NULL || (values == NULL && nvalues > 0) ||
	    (out == NULL && cap > 0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_vindex_map: NULL argument");
	name = v->v.type->name;
	rc = router__vindex_map(&v->v, values, nvalues, buf, &ksid, &n);
	switch (rc) {
	case ROUTER_OK:
		*len = n;
		if (n > cap)
			return router__seterr(err, ROUTER_ERANGE, name,
			                      "the keyspace ID needs %zu bytes, "
			                      "the buffer has %zu",
			                      n, cap);
		if (n > 0)
			memcpy(out, ksid, n);
		return ROUTER_OK;
	case ROUTER_NONE:
		return ROUTER_NONE;
	case ROUTER_ENEEDSLOOKUP:
		return router__seterr(err, rc, name,
		                      "vindex type '%s' needs a lookup query; "
		                      "it is not computed in process",
		                      name);
	case ROUTER_EUNSUPPORTED:
		if (router__vindex_explain(&v->v, values, nvalues, name, err))
			return rc; /* cfc: a keyspace ID too long to carry */
		return router__seterr(err, rc, name,
		                      "vindex type '%s' is not computed in "
		                      "process",
		                      name);
	default:
		if (router__vindex_explain(&v->v, values, nvalues, name, err))
			return ROUTER_EINVAL;
		if (nvalues != router__vindex_arity(&v->v))
			return router__seterr(err, ROUTER_EINVAL, name,
			                      "vindex type '%s' takes %zu "
			                      "value(s), got %zu",
			                      name, router__vindex_arity(&v->v),
			                      nvalues);
		return router__seterr(err, ROUTER_EINVAL, name,
		                      "malformed value: unknown SQL type or "
		                      "NULL pointer with a length");
	}
}

int router_keyspace_id(const char *type, const router_value *value,
                       uint8_t *out, size_t cap, size_t *len,
                       router_error *err)
{
	router_vindex *v;
	int rc;

	if (len != NULL)
		*len = 0;
	if (value == NULL)
		return router__seterr(err, ROUTER_EINVAL, type,
		                      "router_keyspace_id: value is NULL");
	rc = router_vindex_create(&v, type, NULL, 0, NULL, err);
	if (rc != ROUTER_OK)
		return rc;
	rc = router_vindex_map(v, value, 1, out, cap, len, err);
	router_vindex_free(v);
	return rc;
}
