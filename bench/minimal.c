/*
 * The minimal lookup (minimal.h): one vindex, one partition, a branchless
 * search over 64-bit shard starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "minimal.h"

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		fprintf(stderr, "minimal: out of memory\n");
		exit(2);
	}
	return p;
}

/* "40-80" -> 0x4000000000000000; "-80" -> 0 */
static uint64_t start_of(const char *name)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 16 && name[i] != '-'; i++) {
		int c = name[i];
		unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
		             : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
		                                    : 99;

		if (d == 99) {
			fprintf(stderr, "minimal: shard name %s\n", name);
			exit(2);
		}
		v |= (uint64_t)d << (60 - 4 * i);
	}
	return v;
}

void minimal_init(minimal *m, int kind, unsigned nshards, uint64_t version)
{
	static const uint8_t zero[8];
	unsigned i;

	memset(m, 0, sizeof *m);
	m->kind = kind;
	m->version = version;
	m->nbounds = nshards - 1;
	m->bounds = xmalloc((nshards + 1) * sizeof *m->bounds);
	m->names = xmalloc(nshards * sizeof *m->names);
	m->name_lens = xmalloc(nshards * sizeof *m->name_lens);
	for (i = 0; i < nshards; i++) {
		char name[40];

		if (router_shard_range_name(i, nshards, name, sizeof name) !=
		    ROUTER_OK) {
			fprintf(stderr, "minimal: shard %u/%u\n", i, nshards);
			exit(2);
		}
		m->names[i] = strdup(name);
		m->name_lens[i] = strlen(name);
		if (i > 0)
			m->bounds[i - 1] = start_of(name);
	}
	(void)des_set_key(&m->des, zero); /* weak key: 0, schedule set */
}

void minimal_fini(minimal *m)
{
	unsigned i;

	for (i = 0; i <= m->nbounds; i++)
		free(m->names[i]);
	free(m->names);
	free(m->name_lens);
	free(m->bounds);
}

/* Decimal text of v, ending at end (no NUL): its first byte.  Two digits
 * a step; the text stays where it is written (no copy). */
static const char *decimal(uint64_t v, char *end)
{
	static const char pairs[] =
	    "00010203040506070809101112131415161718192021222324252627282930"
	    "31323334353637383940414243444546474849505152535455565758596061"
	    "62636465666768697071727374757677787980818283848586878889909192"
	    "93949596979899";
	char *p = end;

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		*--p = pairs[d + 1];
		*--p = pairs[d];
	}
	if (v >= 10) {
		*--p = pairs[v * 2 + 1];
		*--p = pairs[v * 2];
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

/* The first 8 bytes of the keyspace ID, as a big-endian integer. */
static inline uint64_t ksid_prefix(const minimal *m, uint64_t key)
{
	uint8_t in[8], out[8];
	char text[20];
	const char *p;
	uint64_t v;

	switch (m->kind) {
	case MINIMAL_XXHASH:
		p = decimal(key, text + sizeof text);
		return __builtin_bswap64(
		    XXH64(p, (size_t)(text + sizeof text - p), 0));
	case MINIMAL_HASH:
		v = __builtin_bswap64(key);
		memcpy(in, &v, 8);
		des_encrypt(&m->des, 8, out, in);
		memcpy(&v, out, 8);
		return __builtin_bswap64(v);
	default:
		return key;
	}
}

/* How many bounds are <= k: halve the range with a conditional move.
 * Written as cmov on x86-64: GCC 12 compiles the C ternary into a branch
 * here, which random keys mispredict half the time. */
static inline uint32_t search(const minimal *m, uint64_t k)
{
	const uint64_t *base = m->bounds;
	size_t n = m->nbounds;

	if (n == 0)
		return 0;
	while (n > 1) {
		size_t half = n / 2;
		const uint64_t *next = base + half;

#if defined(__x86_64__)
		__asm__("cmpq %[b], %[k]\n\tcmovaeq %[nx], %[base]"
		        : [base] "+r"(base)
		        : [b] "m"(base[half - 1]), [k] "r"(k), [nx] "r"(next)
		        : "cc");
#else
		base = base[half - 1] <= k ? next : base;
#endif
		n -= half;
	}
	return (uint32_t)(base - m->bounds) + (base[0] <= k);
}

uint32_t minimal_route(const minimal *m, uint64_t key)
{
	return search(m, ksid_prefix(m, key));
}

void minimal_route_full(const minimal *m, uint64_t key,
                        router_route_result *out)
{
	uint64_t k = ksid_prefix(m, key), be = __builtin_bswap64(k);
	uint32_t i = search(m, k);

	out->shard = m->names[i];
	out->shard_len = m->name_lens[i];
	out->shard_id = i;
	out->shard_index = i;
	out->version = m->version;
	memcpy(out->ksid, &be, 8);
	out->ksid_len = 8;
}
