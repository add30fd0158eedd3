/*
 * The minimal lookup (issue 20): the least work that gives the same shard
 * as librouter for an integer key of the bench's even partitions, written
 * by hand for one vindex and one frozen partition, no synchronization, no
 * table, no error handling.  The benchmarks' baseline: librouter's floor
 * and every read side are measured against it.
 *
 * What "the same answer" is: the shard index (which shard serves the key)
 * for the keyspace ID Vitess computes:
 *   numeric  BE64(key)                       -> its first 8 bytes are key
 *   xxhash   LE64(XXH64(decimal text, 0))    -> first 8 bytes bswap(h)
 *   hash     DES-ECB, zero key, of BE64(key) -> first 8 bytes BE64 of it
 * then the number of shard starts (64-bit, big-endian, zero-padded) at or
 * below it, by a branchless search.  minimal_route stops there (what a
 * caller needs to pick a connection).  minimal_route_full also fills a
 * router_route_result the way a handle lookup does (shard name pointer,
 * length, id, index, version, the 8-byte keyspace ID and its length), so
 * the difference between the two is what those fields cost.
 */
#ifndef BENCH_MINIMAL_H
#define BENCH_MINIMAL_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/des.h>

#include "router.h"

enum { MINIMAL_NUMERIC, MINIMAL_XXHASH, MINIMAL_HASH };

typedef struct minimal {
	int kind;
	uint32_t nbounds;   /* nshards - 1 */
	uint64_t *bounds;   /* start of shard i + 1, sorted */
	char **names;       /* shard i's name (own copies) */
	size_t *name_lens;
	uint64_t version;   /* what minimal_route_full reports */
	struct des_ctx des; /* zero key */
} minimal;

/* Shard names as router_shard_range_name gives them for (i, nshards),
 * parsed here ("40-80": start 0x40 padded to 8 bytes); kind one of the
 * MINIMAL_ values.  Exits on out of memory or a name it cannot parse. */
void minimal_init(minimal *m, int kind, unsigned nshards, uint64_t version);
void minimal_fini(minimal *m);

/* The shard index of key (see above).  Out of line in its own file, as
 * a library's lookup is: one call per key, as for every other column. */
uint32_t minimal_route(const minimal *m, uint64_t key);
/* The same, and out filled as router_handle_route_uint64 fills it (its
 * shard_id is the index: a minimal lookup has no router-wide names). */
void minimal_route_full(const minimal *m, uint64_t key,
                        router_route_result *out);

#endif
