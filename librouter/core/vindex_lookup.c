/*
 * The lookup family of vindexes (lookup, lookup_unique, lookup_hash,
 * lookup_hash_unique, lookup_unicodeloosemd5_hash[_unique],
 * consistent_lookup[_unique]): their params, the Map query vtgate issues
 * and how the rows the application got back become keyspace IDs, as
 * Vitess's lookup_internal.go, lookup.go, lookup_hash.go,
 * lookup_unicodeloosemd5_hash.go and consistent_lookup.go do
 * (docs/spec.md "Lookup vindexes"; ../shared/vitess/VINDEXES_MORE.md
 * section 3).  The mapping lives in a database table librouter cannot
 * read: the application runs the query, this file interprets the rows.
 * Only what routing needs (Map) is here: Verify, Create, Delete and Update
 * are writes vtgate issues, which a router never does.
 */
#include <stdio.h>
#include <string.h>

#include "collate.h"
#include "internal.h"

/* ---- params --------------------------------------------------------------- */

/* Which param sets a type accepts (VINDEXES_MORE.md 3.1). */
enum {
	P_INTERNAL = 1,   /* table from to ignore_nulls batch_lookup read_lock */
	P_COMMON = 2,     /* autocommit multi_shard_autocommit */
	P_WRITE_ONLY = 4, /* write_only */
	P_NO_VERIFY = 8   /* no_verify */
};

static unsigned accepted_sets(const router__vtype *t)
{
	if (strncmp(t->name, "consistent_lookup", 17) == 0)
		return P_INTERNAL | P_WRITE_ONLY;
	if (strcmp(t->name, "lookup") == 0 ||
	    strcmp(t->name, "lookup_unique") == 0)
		return P_INTERNAL | P_COMMON | P_WRITE_ONLY | P_NO_VERIFY;
	return P_INTERNAL | P_COMMON | P_WRITE_ONLY;
}

static unsigned param_set(const char *key)
{
	static const struct {
		const char *key;
		unsigned set;
	} known[] = {
	    {"table", P_INTERNAL},       {"from", P_INTERNAL},
	    {"to", P_INTERNAL},          {"ignore_nulls", P_INTERNAL},
	    {"batch_lookup", P_INTERNAL}, {"read_lock", P_INTERNAL},
	    {"autocommit", P_COMMON},    {"multi_shard_autocommit", P_COMMON},
	    {"write_only", P_WRITE_ONLY}, {"no_verify", P_NO_VERIFY},
	};

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(known[i].key, key) == 0)
			return known[i].set;
	return 0;
}

size_t router__lookup_unknown_params(const router__vtype *t,
                                     const router_param *params, size_t n,
                                     const char **out, size_t cap)
{
	unsigned acc = accepted_sets(t);
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if ((param_set(params[i].key) & acc) != 0)
			continue;
		if (k < cap)
			out[k] = params[i].key;
		k++;
	}
	return k;
}

/* The value of key (the last one wins, as a Go map built from JSON), or
 * NULL; keys of a set the type does not accept are not looked at (Vitess
 * never reads them, so they are not validated either). */
static const char *param(const router_param *p, size_t n, const char *key,
                         unsigned acc)
{
	const char *v = NULL;

	if ((param_set(key) & acc) == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].key, key) == 0)
			v = p[i].value;
	return v;
}

/* Vitess's boolFromMap (lookup_internal.go:440-453). */
static int bool_param(const router_param *p, size_t n, const char *key,
                      unsigned acc, uint8_t flag, uint8_t *flags,
                      const char *culprit, router_error *err)
{
	const char *v = param(p, n, key, acc);

	if (v == NULL || strcmp(v, "false") == 0)
		return ROUTER_OK;
	if (strcmp(v, "true") == 0) {
		*flags |= flag;
		return ROUTER_OK;
	}
	return router__seterr(err, ROUTER_EREFERENCE, culprit,
	                      "%s value must be 'true' or 'false': '%s'", key,
	                      v);
}

static int go_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' ||
	       c == '\f' || c == '\r';
}

int router__lookup_init(router__vindex *v, const router_param *params,
                        size_t nparams, const router_allocator *a,
                        const char *culprit, router_error *err)
{
	unsigned acc = accepted_sets(v->type);
	const char *table, *from, *to, *rl, *f0;
	size_t tl, fl, tol, sqll, nfrom = 1;
	uint8_t flags = 0, lock = ROUTER__LK_LOCK_UNSET;
	char *m;
	int rc;

	/* Vitess's order: write_only and no_verify (lookup.go), then the
	 * internal set (lookup_internal.go:91-114), then the common one. */
	if ((rc = bool_param(params, nparams, "write_only", acc,
	                     ROUTER__LK_F_WRITE_ONLY, &flags, culprit, err)) ||
	    (rc = bool_param(params, nparams, "no_verify", acc,
	                     ROUTER__LK_F_NO_VERIFY, &flags, culprit, err)) ||
	    (rc = bool_param(params, nparams, "ignore_nulls", acc,
	                     ROUTER__LK_F_IGNORE_NULLS, &flags, culprit,
	                     err)) ||
	    (rc = bool_param(params, nparams, "batch_lookup", acc,
	                     ROUTER__LK_F_BATCH, &flags, culprit, err)))
		return rc;
	rl = param(params, nparams, "read_lock", acc);
	if (rl != NULL) {
		if (strcmp(rl, "exclusive") == 0)
			lock = ROUTER__LK_LOCK_EXCLUSIVE;
		else if (strcmp(rl, "shared") == 0)
			lock = ROUTER__LK_LOCK_SHARED;
		else if (strcmp(rl, "none") == 0)
			lock = ROUTER__LK_LOCK_NONE;
		else
			return router__seterr(err, ROUTER_EREFERENCE, culprit,
			                      "invalid read_lock value: %s", rl);
	}
	if ((rc = bool_param(params, nparams, "autocommit", acc,
	                     ROUTER__LK_F_AUTOCOMMIT, &flags, culprit, err)) ||
	    (rc = bool_param(params, nparams, "multi_shard_autocommit", acc,
	                     ROUTER__LK_F_MULTI_SHARD_AUTOCOMMIT, &flags,
	                     culprit, err)))
		return rc;
	if (flags & ROUTER__LK_F_MULTI_SHARD_AUTOCOMMIT)
		flags |= ROUTER__LK_F_AUTOCOMMIT; /* lookup_internal.go:118 */

	table = param(params, nparams, "table", acc);
	from = param(params, nparams, "from", acc);
	to = param(params, nparams, "to", acc);
	if (table == NULL)
		table = "";
	if (from == NULL)
		from = "";
	if (to == NULL)
		to = "";
	/* from[0]: the first comma-separated item, TrimSpace'd. */
	for (const char *s = from; *s != '\0'; s++)
		nfrom += *s == ',';
	f0 = from;
	fl = strcspn(from, ",");
	while (fl > 0 && go_space(*f0)) {
		f0++;
		fl--;
	}
	while (fl > 0 && go_space(f0[fl - 1]))
		fl--;
	tl = strlen(table);
	tol = strlen(to);
	/* "select " f0 ", " to " from " table " where " f0 " in ::" f0 */
	sqll = 7 + fl + 2 + tol + 6 + tl + 7 + fl + 6 + fl;
	m = router__malloc(a, tl + 1 + fl + 1 + tol + 1 + sqll + 1);
	if (m == NULL)
		return router__seterr(err, ROUTER_ENOMEM, culprit,
		                      "out of memory compiling the lookup "
		                      "vindex");
	v->u.lk.mem = m;
	v->u.lk.table = memcpy(m, table, tl + 1);
	m += tl + 1;
	v->u.lk.from = memcpy(m, f0, fl);
	m[fl] = '\0';
	m += fl + 1;
	v->u.lk.to = memcpy(m, to, tol + 1);
	m += tol + 1;
	snprintf(m, sqll + 1, "select %.*s, %s from %s where %.*s in ::%.*s",
	         (int)fl, f0, to, table, (int)fl, f0, (int)fl, f0);
	v->u.lk.sql = m;
	v->u.lk.table_len = tl;
	v->u.lk.from_len = fl;
	v->u.lk.to_len = tol;
	v->u.lk.sql_len = sqll;
	v->u.lk.flags = flags;
	v->u.lk.read_lock = lock;
	v->u.lk.nfrom = nfrom > 255 ? 255 : (uint8_t)nfrom;
	if (strncmp(v->type->name, "lookup_unicodeloosemd5", 22) == 0)
		v->u.lk.sub = ROUTER__LK_ULMD5;
	else if (strncmp(v->type->name, "lookup_hash", 11) == 0)
		v->u.lk.sub = ROUTER__LK_HASH;
	else
		v->u.lk.sub = ROUTER__LK_RAW;
	return ROUTER_OK;
}

void router__lookup_fini(router__vindex *v, const router_allocator *a)
{
	router__free(a, v->u.lk.mem);
	v->u.lk.mem = NULL;
}
