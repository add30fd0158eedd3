/*
 * The integer-key lookup's body on a frozen table, static inline (issue
 * 20): table_route.c compiles it into router__tdef_route_u64 and
 * router__tdef_route_id, and the live router's handle lookups
 * (live/handles.c) into themselves, so that a lookup through a handle is
 * one function from its read section to the search, with no call and no
 * callee-saved registers kept across one (the vindex's hashing stays out
 * of line in vindex.c).  Reads only, like table_route.c.  Never installed:
 * this is not an inline API (STYLE.md), only one library's files sharing
 * code.
 */
#ifndef ROUTER_CORE_ROUTE_FAST_H
#define ROUTER_CORE_ROUTE_FAST_H

#include <stdint.h>
#include <string.h>

#include <xxhash.h>

#include "table.h"

/* The number of bounds[0..nb) that are <= k (bounds sorted): the index of
 * the shard holding a keyspace ID whose first 8 bytes are k.  Branchless:
 * each step keeps the half that still holds the answer, chosen with a
 * conditional move.  GCC 12 turns both the C conditional and a masked
 * step of it into a branch or into setae/neg/and/add (13 instructions a
 * level with the loop, the bound's load on the chain of every level);
 * cmov is 6.  Random keys mispredict a branch half the time, so on x86-64
 * the step is written as cmov itself. */
static inline uint32_t router__bounds_search(const uint64_t *bounds,
                                             size_t nb, uint64_t k)
{
	const uint64_t *p = bounds;
	size_t n = nb;

	if (ROUTER__UNLIKELY(n == 0))
		return 0;
	while (n > 1) {
		size_t half = n / 2;
		const uint64_t *next = p + half;

#if defined(__x86_64__) && defined(__GNUC__)
		__asm__("cmpq %[b], %[k]\n\t"
		        "cmovaeq %[nx], %[p]"
		        : [p] "+r"(p)
		        : [b] "m"(next[-1]), [k] "r"(k), [nx] "r"(next)
		        : "cc");
#else
		p = p + (half & ((size_t)0 - (size_t)(p[half - 1] <= k)));
#endif
		n -= half;
	}
	return (uint32_t)(p - bounds) + (p[0] <= k);
}

/* Long bounds (table_route.c): the byte-comparison search. */
uint32_t router__shard_search_long(const router__keyspace *ks,
                                   const uint8_t *ksid, size_t len);

/* router__shard_search, inline. */
static inline uint32_t router__shard_search_fast(const router__keyspace *ks,
                                                 const uint8_t *ksid,
                                                 size_t len)
{
	if (ROUTER__LIKELY(ks->bounds != NULL))
		return router__bounds_search(ks->bounds, ks->nshards - 1,
		                             router__be64_padded(ksid, len));
	return router__shard_search_long(ks, ksid, len);
}

/* An entry of router__keyspace.hot8: the interned name and its length. */
#define ROUTER__HOT8_PTR_BITS 48
static inline const char *router__hot8_name(uint64_t x)
{
	return (const char *)(uintptr_t)(x & ((UINT64_C(1)
	                                       << ROUTER__HOT8_PTR_BITS) -
	                                      1));
}
static inline size_t router__hot8_len(uint64_t x)
{
	return (size_t)(x >> ROUTER__HOT8_PTR_BITS);
}

/* router__fill_shard, inline: from the keyspace's compact hot array
 * (16 bytes a shard, not the 104-byte router__shard: at 4096 shards the
 * latter was a cache miss on every lookup). */
static inline void router__fill_shard_fast(const router_table *t,
                                           const router__keyspace *ks,
                                           uint32_t i,
                                           router_route_result *out)
{
	const router__shard_hot *h = &ks->hot[i];

	out->shard = h->iname;
	out->shard_len = h->name_len;
	out->shard_id = h->id;
	out->shard_index = i;
	out->version = t->version;
}

/* The keyspace ID into the result: its first ROUTER_KSID_MAX bytes and
 * its length.  8 bytes (every integer-hashing vindex) is one copy of a
 * constant size, not a variable-length memcpy. */
static inline void router__copy_ksid(router_route_result *out,
                                     const uint8_t *k, size_t len)
{
	if (ROUTER__LIKELY(len == 8))
		memcpy(out->ksid, k, 8);
	else if (len > 0)
		memcpy(out->ksid, k,
		       len < ROUTER_KSID_MAX ? len : ROUTER_KSID_MAX);
	out->ksid_len = len;
}

/* BE64 of v into out[0..8): one bswap store where the compiler knows. */
static inline void router__put_be64(uint8_t *out, uint64_t v)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                       \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
	memcpy(out, &v, 8);
#else
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (56 - 8 * i));
#endif
}

/* router__vindex_map_u64 with numeric inline: BE64 of the key is the
 * whole vindex, cheaper than the call to it (the others hash: the call
 * is a few percent of their cost). */
static inline int router__vindex_u64_fast(const router__vindex *v,
                                          uint64_t key, int is_unsigned,
                                          uint8_t *buf, const uint8_t **k,
                                          size_t *len)
{
	if (ROUTER__LIKELY(v->type != NULL) &&
	    v->type->kind == ROUTER__V_NUMERIC &&
	    (is_unsigned || (int64_t)key >= 0)) {
		router__put_be64(buf, key);
		*k = buf;
		*len = 8;
		return ROUTER_OK;
	}
	return router__vindex_map_u64(v, key, is_unsigned, buf, k, len);
}

/* The first 8 bytes of the keyspace ID of key, as a big-endian integer,
 * for the vindexes whose keyspace ID is exactly 8 bytes: numeric (BE64 of
 * the key: the key itself), xxhash (LE64 of XXH64 of the decimal text:
 * its byte reversal) and hash (the DES block, vindex.c).  1 with *prefix
 * set, 0 for anything else (negative numeric keys have no keyspace ID),
 * which takes the general path. */
static inline int router__ksid_prefix_fast(const router__tdef *d,
                                           uint64_t key, int is_unsigned,
                                           uint64_t *prefix)
{
	char tmp[24];
	const char *p;

	switch (d->fast) {
	case ROUTER__FAST_NUMERIC:
		*prefix = key;
		return is_unsigned || (int64_t)key >= 0;
	case ROUTER__FAST_XXHASH:
		p = router__fmt_int_end(key, is_unsigned, tmp + sizeof tmp);
		*prefix = __builtin_bswap64(
		    XXH64(p, (size_t)(tmp + sizeof tmp - p), 0));
		return 1;
	case ROUTER__FAST_HASH:
		*prefix = router__des_prefix(key);
		return 1;
	default:
		return 0;
	}
}

/* The general body (table_route.c): any vindex, any keyspace ID. */
int router__tdef_route_u64_general(const router_table *t,
                                   const router__tdef *d, uint64_t key,
                                   int is_unsigned, router_route_result *out);
int router__tdef_route_id_general(const router_table *t,
                                  const router__tdef *d, uint64_t key,
                                  int is_unsigned, uint32_t *id);

/* The shard of the 8-byte keyspace ID k (big-endian) into out, with k as
 * the keyspace ID (no scratch buffer, no copy).  d's vindex gives 8-byte
 * keyspace IDs (router__ksid_prefix_fast said so). */
static inline void router__route_prefix(const router_table *t,
                                        const router__tdef *d, uint64_t k,
                                        router_route_result *out)
{
	uint32_t i = router__bounds_search(d->bounds, d->nbounds, k);
	const uint64_t *h8 = d->hot8;

	if (ROUTER__LIKELY(h8 != NULL)) {
		/* One 8-byte load: the name and its length; the id is
		 * id_base + i (hot8 is set only then). */
		uint64_t x = h8[i];

		out->shard = router__hot8_name(x);
		out->shard_len = router__hot8_len(x);
		out->shard_id = (uint32_t)d->id_base + i;
	} else {
		const router__shard_hot *h = &d->hot[i];

		out->shard = h->iname;
		out->shard_len = h->name_len;
		out->shard_id = h->id;
	}
	out->shard_index = i;
	out->version = t->version;
	router__put_be64(out->ksid, k);
	out->ksid_len = 8;
}

/* router__tdef_route_u64 (table.h), inline: an 8-byte prefix is the
 * keyspace ID, searched directly. */
static inline int router__tdef_route_u64_fast(const router_table *t,
                                              const router__tdef *d,
                                              uint64_t key, int is_unsigned,
                                              router_route_result *out)
{
	uint64_t k;

	if (ROUTER__LIKELY(d->mode == ROUTER__T_VINDEX) &&
	    ROUTER__LIKELY(router__ksid_prefix_fast(d, key, is_unsigned, &k))) {
		router__route_prefix(t, d, k, out);
		return ROUTER_OK;
	}
	return router__tdef_route_u64_general(t, d, key, is_unsigned, out);
}

/* router__tdef_route_id (table.h), inline. */
static inline int router__tdef_route_id_fast(const router_table *t,
                                             const router__tdef *d,
                                             uint64_t key, int is_unsigned,
                                             uint32_t *id)
{
	uint64_t k;

	if (ROUTER__LIKELY(d->mode == ROUTER__T_VINDEX) &&
	    ROUTER__LIKELY(router__ksid_prefix_fast(d, key, is_unsigned, &k))) {
		uint32_t i = router__bounds_search(d->bounds, d->nbounds, k);

		/* Consecutive ids (the usual case): no load of hot[i], a
		 * cache miss at thousands of shards. */
		*id = d->id_base >= 0 ? (uint32_t)d->id_base + i : d->hot[i].id;
		return ROUTER_OK;
	}
	return router__tdef_route_id_general(t, d, key, is_unsigned, id);
}

#endif /* ROUTER_CORE_ROUTE_FAST_H */
