/*
 * Routing a LIKE 'prefix%' on a table whose primary vindex is cfc: the
 * literal's key range (vindex_cfc.c, Vitess's prefixCFC.Map) and the set
 * of shards of the table's keyspace that range intersects, as vtgate
 * resolves a DestinationKeyRange (or DestinationAllShards) to shards.
 * Reads a frozen table only, like table_route.c.
 */
#include <stdio.h>
#include <string.h>

#include "table.h"

/* Shards [first, first + count) of ks intersecting kr, in partition
 * order; shards are sorted by start, so the ones that intersect a range
 * are consecutive. */
static void covered(const router__keyspace *ks, const router_keyrange *kr,
                    uint32_t *first, uint32_t *count)
{
	uint32_t i = 0, n = 0;

	while (i < ks->nshards &&
	       !router__keyrange_intersect(&ks->shards[i].kr, kr))
		i++;
	while (i + n < ks->nshards &&
	       router__keyrange_intersect(&ks->shards[i + n].kr, kr))
		n++;
	*first = i;
	*count = n;
}

int router__table_route_prefix(const router_table *t, const char *keyspace,
                               size_t keyspace_len, const char *table,
                               size_t table_len, const void *like,
                               size_t like_len, router_route_result *out,
                               size_t cap, size_t *n, router_error *err)
{
	const router__tdef *d;
	router_keyrange kr;
	uint32_t first = 0, count = 0;
	char culprit[ROUTER_CULPRIT_MAX];
	int rc;

	*n = 0;
	if ((keyspace == NULL && keyspace_len > 0) ||
	    (table == NULL && table_len > 0) || (like == NULL && like_len > 0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_table_route_prefix: NULL pointer "
		                      "with a length");
	rc = router__table_resolve(t, keyspace, keyspace_len, table, table_len,
	                           &d, err);
	if (rc != ROUTER_OK)
		return rc;
	snprintf(culprit, sizeof culprit, "%s.%s", d->ks->name, d->name);
	switch (d->mode) {
	case ROUTER__T_FIXED:
		first = d->fixed;
		count = 1;
		break;
	case ROUTER__T_MULTISHARD:
		return router__seterr(err, ROUTER_EMULTISHARD, culprit,
		                      "%s is a reference table: it lives on "
		                      "every shard of sharded keyspace %s",
		                      d->name, d->ks->name);
	default:
		if (d->primary == NULL || d->primary->type == NULL ||
		    d->primary->type->kind != ROUTER__V_CFC)
			return router__seterr(
			    err, ROUTER_EUNSUPPORTED, culprit,
			    "a LIKE prefix routes through a cfc primary vindex "
			    "only; table %s's is %s",
			    d->name,
			    d->primary && d->primary->type
			        ? d->primary->type->name
			        : "none");
		rc = router__cfc_prefix_range(d->primary, like, like_len,
		                              t->alloc, &kr);
		if (rc != ROUTER_OK)
			return router__seterr(err, rc, culprit,
			                      "out of memory reading the LIKE "
			                      "prefix");
		covered(d->ks, &kr, &first, &count);
		break;
	}
	*n = count;
	for (uint32_t i = 0; i < count && i < cap; i++) {
		router__fill_shard(t, d->ks, first + i, &out[i]);
		out[i].ksid_len = 0;
	}
	if (count > cap)
		return router__seterr(err, ROUTER_ERANGE, culprit,
		                      "the prefix covers %u shards, the array "
		                      "holds %zu",
		                      count, cap);
	router__clearerr(err);
	return ROUTER_OK;
}

int router_table_route_prefix(const router_table *t, const char *keyspace,
                              size_t keyspace_len, const char *table,
                              size_t table_len, const void *like,
                              size_t like_len, router_route_result *out,
                              size_t cap, size_t *n, router_error *err)
{
	if (n != NULL)
		*n = 0;
	if (t == NULL || n == NULL || (out == NULL && cap > 0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_table_route_prefix: NULL "
		                      "argument");
	return router__table_route_prefix(t, keyspace, keyspace_len, table,
	                                  table_len, like, like_len, out, cap,
	                                  n, err);
}
