/*
 * What a built table holds, for tools (routerctl, the demo) and tests
 * (router_doc.h, "Inspecting a table"): its keyspaces and shards, the
 * vindex a table routes through, and the share of keyspace IDs that moves
 * between two partitions.  Read from table.h's fields only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router_doc.h"
#include "table.h"

size_t router_doc_keyspace_count(const router_table *t)
{
	return t != NULL ? t->nkeyspaces : 0;
}

const char *router_doc_keyspace_name(const router_table *t, size_t i)
{
	return t != NULL && i < t->nkeyspaces ? t->keyspaces[i].name : NULL;
}

size_t router_doc_shard_count(const router_table *t, const char *ks)
{
	const router__keyspace *k =
	    t != NULL && ks != NULL ? router__table_keyspace(t, ks, strlen(ks))
	                            : NULL;

	return k != NULL ? k->nshards : 0;
}

const char *router_doc_shard_name(const router_table *t, const char *ks,
                                  size_t i)
{
	const router__keyspace *k =
	    t != NULL && ks != NULL ? router__table_keyspace(t, ks, strlen(ks))
	                            : NULL;

	return k != NULL && i < k->nshards ? k->shards[i].name : NULL;
}

int router_doc_primary_vindex(const router_table *t, const char *ks,
                              size_t ksl, const char *table, size_t tl,
                              const char **name, const char **type,
                              router_error *err)
{
	const router__tdef *d;
	int rc;

	if (name != NULL)
		*name = NULL;
	if (type != NULL)
		*type = NULL;
	if (t == NULL || name == NULL || type == NULL ||
	    (ks == NULL && ksl != 0) || (table == NULL && tl != 0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_doc_primary_vindex: NULL argument");
	rc = router__table_resolve(t, ks, ksl, table, tl, &d, err);
	if (rc != ROUTER_OK)
		return rc;
	if (d->mode == ROUTER__T_VINDEX && d->ncvs > 0 &&
	    d->cvs[0].vd != NULL) {
		*name = d->cvs[0].vd->name;
		*type = d->cvs[0].vd->type;
	}
	return ROUTER_OK;
}

typedef struct bound {
	const uint8_t *k;
	size_t len;
} bound;

static int bound_cmp(const void *x, const void *y)
{
	const bound *a = x, *b = y;

	return router_key_compare(a->k, a->len, b->k, b->len);
}

/* Position of a key in [0, 1): its first 16 bytes as a fraction. */
static long double key_frac(const uint8_t *k, size_t len)
{
	long double f = 0, scale = 1.0L / 256;

	for (size_t i = 0; i < len && i < 16; i++) {
		f += k[i] * scale;
		scale /= 256;
	}
	return f;
}

int router_doc_moved_share(const router_table *a, const router_table *b,
                           const char *ks, double *share, router_error *err)
{
	const router__keyspace *ka, *kb;
	const router_allocator *al = router__allocator(NULL);
	bound *bs;
	size_t n = 0, m, i;
	long double moved = 0;

	if (share != NULL)
		*share = 0;
	if (a == NULL || b == NULL || ks == NULL || share == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_doc_moved_share: NULL argument");
	ka = router__table_keyspace(a, ks, strlen(ks));
	kb = router__table_keyspace(b, ks, strlen(ks));
	if (ka == NULL || kb == NULL)
		return router__seterr(err, ROUTER_ENOTFOUND, ks,
		                      "keyspace %.*s is not in both tables",
		                      ROUTER_NAME_MAX, ks);
	bs = router__malloc(al, ((size_t)ka->nshards + kb->nshards) *
	                            sizeof *bs);
	if (bs == NULL)
		return router__seterr(err, ROUTER_ENOMEM, ks, "out of memory");
	/* Every shard start of either partition: between two consecutive
	 * ones, both tables keep one shard each. */
	for (i = 0; i < ka->nshards; i++)
		bs[n++] = (bound){ka->shards[i].kr.start,
		                  ka->shards[i].kr.full
		                      ? 0
		                      : ka->shards[i].kr.start_len};
	for (i = 0; i < kb->nshards; i++)
		bs[n++] = (bound){kb->shards[i].kr.start,
		                  kb->shards[i].kr.full
		                      ? 0
		                      : kb->shards[i].kr.start_len};
	qsort(bs, n, sizeof *bs, bound_cmp);
	for (i = 1, m = n ? 1 : 0; i < n; i++)
		if (bound_cmp(&bs[m - 1], &bs[i]) != 0)
			bs[m++] = bs[i];
	for (i = 0; i < m; i++) {
		uint32_t ia = router__shard_search(ka, bs[i].k, bs[i].len);
		uint32_t ib = router__shard_search(kb, bs[i].k, bs[i].len);
		long double lo = key_frac(bs[i].k, bs[i].len);
		long double hi = i + 1 < m ? key_frac(bs[i + 1].k, bs[i + 1].len)
		                           : 1.0L;

		if (strcmp(ka->shards[ia].name, kb->shards[ib].name) != 0)
			moved += hi - lo;
	}
	router__free(al, bs);
	*share = (double)moved;
	router__clearerr(err);
	return ROUTER_OK;
}
