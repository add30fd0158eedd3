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

const char *router_target_rule_name(unsigned bit)
{
	switch (bit) {
	case ROUTER_TARGET_KEYSPACE_RULE:
		return "keyspace_routing_rules";
	case ROUTER_TARGET_TABLE_RULE:
		return "routing_rules";
	case ROUTER_TARGET_SHARD_RULE:
		return "shard_routing_rules";
	default:
		return NULL;
	}
}

static int same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

int router__target_names_ok(const char *keyspace, size_t keyspace_len,
                            const char *table, size_t table_len,
                            router_error *err)
{
	int ks_nul = keyspace_len > 0 && keyspace != NULL &&
	             memchr(keyspace, '\0', keyspace_len) != NULL;
	int t_nul = table_len > 0 && table != NULL &&
	            memchr(table, '\0', table_len) != NULL;

	if (keyspace_len > ROUTER_NAME_MAX || table_len > ROUTER_NAME_MAX)
		return router__seterr(err, ROUTER_ERANGE, NULL,
		                      "a %s name of %zu bytes: longer than %d",
		                      keyspace_len > ROUTER_NAME_MAX ? "keyspace"
		                                                     : "table",
		                      keyspace_len > ROUTER_NAME_MAX
		                          ? keyspace_len
		                          : table_len,
		                      ROUTER_NAME_MAX);
	if (ks_nul || t_nul)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "a %s name with a NUL byte",
		                      ks_nul ? "keyspace" : "table");
	return ROUTER_OK;
}

void router__target_fill(const router_table *t, const router__tdef *d,
                         const router__resolved *how, const char *keyspace,
                         size_t ksl, const char *table, size_t tl, int rc,
                         const router_route_result *out, unsigned flags,
                         router_target *target)
{
	const char *ks;

	memset(target, 0, sizeof *target);
	if (d == NULL)
		return;
	ks = d->ks->name;
	/* A bit says a rule moved the query: Vitess writes identity rules
	 * too (MoveTables routes source.t to source.t, a multi-tenant
	 * import its keyspace to itself), which move nothing. */
	if (how->ksrule != NULL) {
		if (!same(how->ksrule->to, how->ksrule->to_len, keyspace, ksl))
			target->rules |= ROUTER_TARGET_KEYSPACE_RULE;
		keyspace = how->ksrule->to;
		ksl = how->ksrule->to_len;
	}
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
	if (how->rule != NULL &&
	    (!same(ks, strlen(ks), keyspace, ksl) ||
	     !same(target->table, target->table_len, table, tl)))
		target->rules |= ROUTER_TARGET_TABLE_RULE;
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
	if ((rc = router__target_names_ok(keyspace, keyspace_len, table,
	                                  table_len, err)) != ROUTER_OK)
		return rc;
	if (flags & ~ROUTER_TARGET_SHARD_ROUTING)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_table_route_target: unknown flags "
		                      "0x%x",
		                      flags);
	rc = router__table_route_at(t, keyspace, keyspace_len, table,
	                            table_len, values, nvalues, out, err, &d,
	                            &how);
	router__target_fill(t, d, &how, keyspace, keyspace_len, table,
	                    table_len, rc, out, flags, target);
	return rc;
}
