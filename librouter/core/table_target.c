/*
 * Where vtgate serves a query (router_table_route_target): the keyspace
 * and table a lookup reached through the keyspace and table routing rules,
 * then the shard routing rule of the shard it found (table.h,
 * router__ksrule and router__shrule).  Reads only, as table_route.c.
 */
#include <string.h>

#include "table.h"

static void put_name(char *dst, size_t *dlen, const char *s, size_t n)
{
	/* Every name in a table is at most ROUTER_NAME_MAX bytes (the
	 * builder refuses longer ones); the bound only keeps dst safe. */
	if (n > ROUTER_NAME_MAX)
		n = ROUTER_NAME_MAX;
	memcpy(dst, s, n);
	dst[n] = '\0';
	*dlen = n;
}

void router__target_fill(const router_table *t, const router__tdef *d,
                         const router__resolved *how, const char *table,
                         size_t tl, int rc, const router_route_result *out,
                         unsigned flags, router_target *target)
{
	const char *ks;

	memset(target, 0, sizeof *target);
	if (d == NULL)
		return;
	ks = d->ks->name;
	if (how->ksrule != NULL)
		target->rules |= ROUTER_TARGET_KEYSPACE_RULE;
	if (how->rule != NULL)
		target->rules |= ROUTER_TARGET_TABLE_RULE;
	if (d->declared) {
		put_name(target->table, &target->table_len, d->name,
		         d->name_len);
	} else if (how->rule != NULL && how->rule->to != NULL) {
		/* A rule's target in an unsharded keyspace that does not
		 * declare it: "ks.t" names the table. */
		const char *dot = strchr(how->rule->to, '.');
		const char *n = dot != NULL ? dot + 1 : how->rule->to;

		put_name(target->table, &target->table_len, n, strlen(n));
	} else {
		put_name(target->table, &target->table_len, table, tl);
	}
	/* vtgate's fixupPartiallyMovedShards, with
	 * --enable-partial-keyspace-migration only. */
	if ((flags & ROUTER_TARGET_SHARD_ROUTING) && rc == ROUTER_OK &&
	    out->shard != NULL && t->nshrules > 0) {
		const char *to =
		    router__shard_routed(t, ks, out->shard, out->shard_len);

		if (to != NULL && strcmp(to, ks) != 0) {
			ks = to;
			target->rules |= ROUTER_TARGET_SHARD_RULE;
		}
	}
	put_name(target->keyspace, &target->keyspace_len, ks, strlen(ks));
}

int router_table_route_target(const router_table *t, const char *keyspace,
                              size_t keyspace_len, const char *table,
                              size_t table_len, const router_value *values,
                              size_t nvalues, unsigned flags,
                              router_route_result *out,
                              router_target *target, router_error *err)
{
	const router__tdef *d;
	router__resolved how;
	int rc;

	if (target != NULL)
		memset(target, 0, sizeof *target);
	if (t == NULL || out == NULL || target == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_table_route_target: NULL "
		                      "argument");
	if (flags & ~ROUTER_TARGET_SHARD_ROUTING)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_table_route_target: unknown flags "
		                      "0x%x",
		                      flags);
	rc = router__table_route_at(t, keyspace, keyspace_len, table,
	                            table_len, values, nvalues, out, err, &d,
	                            &how);
	router__target_fill(t, d, &how, table, table_len, rc, out, flags,
	                    target);
	return rc;
}
