/*
 * Routing on a frozen table: names to keyspaces and tables (routing rules
 * first), values through the primary vindex to a keyspace ID, keyspace IDs
 * to shards.  Reads only: nothing here allocates or synchronizes, so the
 * live router and the benchmarks' floor call it alike.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <xxhash.h>

#include "route_fast.h"
#include "table.h"

uint64_t router__name_hash(const char *s, size_t n)
{
	return XXH3_64bits(s, n);
}

/* Long bounds (a shard start with more than 8 significant bytes): the
 * last shard whose start <= ksid, by byte comparison.  Out of line so that
 * the fast path (route_fast.h) needs no callee-saved registers. */
__attribute__((noinline)) uint32_t
router__shard_search_long(const router__keyspace *ks, const uint8_t *ksid,
                          size_t len)
{
	size_t lo = 1, hi = ks->nshards;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const router_keyrange *kr = &ks->shards[mid].kr;

		if (router_key_compare(kr->start, kr->start_len, ksid, len) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint32_t)(lo - 1);
}

uint32_t router__shard_search(const router__keyspace *ks, const uint8_t *ksid,
                              size_t len)
{
	return router__shard_search_fast(ks, ksid, len);
}


/* ------------------------------------------------------------------------ */
/* Lookups                                                                  */
/* ------------------------------------------------------------------------ */

const router__keyspace *router__table_keyspace(const router_table *t,
                                               const char *ks, size_t n)
{
	uint32_t h = (uint32_t)router__name_hash(ks, n) & t->kmask;
	uint32_t i;

	while ((i = t->kindex[h]) != 0) {
		const router__keyspace *k = &t->keyspaces[i - 1];

		if (k->name_len == n && memcmp(k->name, ks, n) == 0)
			return k;
		h = (h + 1) & t->kmask;
	}
	return NULL;
}

const router__tdef *router__keyspace_table(const router__keyspace *ks,
                                           const char *name, size_t n)
{
	uint32_t h = (uint32_t)router__name_hash(name, n) & ks->tmask;
	uint32_t i;

	while ((i = ks->tindex[h]) != 0) {
		const router__tdef *d = &ks->tables[i - 1];

		if (d->name_len == n && memcmp(d->name, name, n) == 0)
			return d;
		h = (h + 1) & ks->tmask;
	}
	return NULL;
}

static int cmp_bytes(const char *a, const char *b, size_t bn)
{
	size_t an = strlen(a);
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c != 0)
		return c;
	return an < bn ? -1 : an > bn;
}

/* ROUTER_ENOTFOUND for keyspace (ks, ksl) from the caller, culprit and
 * message naming it escaped (router__fmt_name): "u\0" shown as "u" would
 * name a keyspace that may exist. */
static int keyspace_not_found(const char *ks, size_t ksl, router_error *err)
{
	char c[ROUTER_CULPRIT_MAX];

	router__fmt_name(c, sizeof c, ks, ksl);
	return router__seterr(err, ROUTER_ENOTFOUND, c,
	                      "keyspace %s not found", c);
}

int router__keyspace_missing(const router_table *t, const char *ks,
                             size_t ksl, router_error *err)
{
	for (size_t i = 0; i < t->nkserr; i++) {
		const char *n = t->kserr[2 * i];

		if (strlen(n) == ksl && memcmp(n, ks, ksl) == 0)
			return router__seterr(err, ROUTER_EKEYSPACE, n,
			                      "keyspace %s is invalid: %s", n,
			                      t->kserr[2 * i + 1]);
	}
	if (err != NULL)
		return keyspace_not_found(ks, ksl, err);
	return ROUTER_ENOTFOUND;
}

const router__ksrule *router__table_ksrule(const router_table *t,
                                          const char *ks, size_t ksl)
{
	size_t lo = 0, hi = t->nksrules;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_bytes(t->ksrules[mid].from, ks, ksl);

		if (c == 0)
			return t->ksrules[mid].plain ? &t->ksrules[mid] : NULL;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *router__shard_routed(const router_table *t, const char *ks,
                                 const char *shard, size_t shard_len)
{
	size_t lo = 0, hi = t->nshrules;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const router__shrule *r = &t->shrules[mid];
		int c = strcmp(r->from_ks, ks);

		if (c == 0)
			c = cmp_bytes(r->shard, shard, shard_len);
		if (c == 0)
			return r->to_ks;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int router__table_resolve(const router_table *t, const char *ks, size_t ksl,
                          const char *table, size_t tl,
                          const router__tdef **out, router_error *err)
{
	return router__table_resolve_at(t, ks, ksl, table, tl, out, NULL, err);
}

int router__table_resolve_at(const router_table *t, const char *ks,
                             size_t ksl, const char *table, size_t tl,
                             const router__tdef **out, router__resolved *how,
                             router_error *err)
{
	const router__keyspace *k;
	const router__tdef *d;

	if (how != NULL)
		{ how->ksrule = NULL; how->rule = NULL; }
	/* Keyspace routing rules first: vtgate resolves the table, its
	 * routing rules included, in the keyspace the rule names. */
	if (t->nksrules > 0 && ksl > 0) {
		const router__ksrule *kr = router__table_ksrule(t, ks, ksl);

		if (kr != NULL) {
			ks = kr->to;
			ksl = kr->to_len;
			if (how != NULL)
				how->ksrule = kr;
		}
	}
	if (t->nprimary_rules > 0) {
		size_t lo = 0, hi = t->nprimary_rules;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const router__rule *r = &t->rules[mid];
			int c = cmp_bytes(r->from_ks, ks, ksl);

			if (c == 0)
				c = cmp_bytes(r->from_table, table, tl);
			if (c == 0) {
				/* The first of equal keys: the explicit
				 * @primary rule (rule_cmp). */
				while (mid > 0 &&
				       strcmp(t->rules[mid - 1].from_ks,
				              r->from_ks) == 0 &&
				       strcmp(t->rules[mid - 1].from_table,
				              r->from_table) == 0)
					r = &t->rules[--mid];
				if (r->error != NULL)
					return router__seterr(
					    err, ROUTER_ERULE, r->from,
					    "routing rule %s is invalid: %s",
					    r->from, r->error);
				if (r->to == NULL)
					return router__seterr(
					    err, ROUTER_EDISABLED, r->from,
					    "table %s has been disabled",
					    r->from);
				*out = r->target;
				if (how != NULL)
					how->rule = r;
				return ROUTER_OK;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	k = router__table_keyspace(t, ks, ksl);
	if (k == NULL)
		return router__keyspace_missing(t, ks, ksl, err);
	d = router__keyspace_table(k, table, tl);
	if (d != NULL) {
		*out = d;
		return ROUTER_OK;
	}
	if (!k->sharded) {
		*out = &k->any;
		return ROUTER_OK;
	}
	if (err != NULL) {
		/* Two halves that fit the culprit together. */
		char kn[ROUTER_CULPRIT_MAX / 2 - 1], tn[ROUTER_CULPRIT_MAX / 2];
		char c[ROUTER_CULPRIT_MAX];

		router__fmt_name(kn, sizeof kn, k->name, strlen(k->name));
		router__fmt_name(tn, sizeof tn, table, tl);
		snprintf(c, sizeof c, "%s.%s", kn, tn);
		return router__seterr(err, ROUTER_ENOTFOUND, c,
		                      "table %s not found in sharded keyspace "
		                      "%s",
		                      tn, kn);
	}
	return ROUTER_ENOTFOUND;
}

void router__fill_shard(const router_table *t, const router__keyspace *ks,
                        uint32_t i, router_route_result *out)
{
	router__fill_shard_fast(t, ks, i, out);
}

static void fill_none(const router_table *t, router_route_result *out)
{
	out->shard = NULL;
	out->shard_len = 0;
	out->shard_id = ROUTER_NO_SHARD;
	out->shard_index = ROUTER_NO_SHARD;
	out->version = t->version;
	out->ksid_len = 0;
}


/* The error for a vindex status other than OK/NONE. */
static int route_error(const router__tdef *d, int rc,
                       const router_value *values, size_t nvalues,
                       router_error *err)
{
	char culprit[ROUTER_CULPRIT_MAX];
	const router__vdef *vd = d->ncvs ? d->cvs[0].vd : NULL;
	const char *vname = vd ? vd->name : "?", *vtype = vd ? vd->type : "?";

	if (err == NULL)
		return rc;
	snprintf(culprit, sizeof culprit, "%s.%s", d->ks->name, d->name);
	/* cfc's messages name the vindex, as Vitess's do. */
	if ((rc == ROUTER_EINVAL || rc == ROUTER_EUNSUPPORTED) &&
	    d->primary != NULL && d->primary->type != NULL &&
	    d->primary->type->kind == ROUTER__V_CFC && nvalues == 1 &&
	    values != NULL &&
	    router__cfc_explain(d->primary, values, vname, err)) {
		snprintf(err->culprit, sizeof err->culprit, "%s", culprit);
		return rc;
	}
	switch (rc) {
	case ROUTER_EMULTISHARD:
		return router__seterr(err, rc, culprit,
		                      "%s is a reference table: it lives on "
		                      "every shard of sharded keyspace %s",
		                      d->name[0] ? d->name : "table",
		                      d->ks->name);
	case ROUTER_ENEEDSLOOKUP:
		return router__seterr(err, rc, culprit,
		                      "primary vindex %s (%s) of table %s needs "
		                      "an external lookup; route by keyspace ID",
		                      vname, vtype, d->name);
	case ROUTER_EUNSUPPORTED:
		return router__seterr(err, rc, culprit,
		                      "primary vindex %s (%s) of table %s is not "
		                      "computed in process; route by keyspace "
		                      "ID",
		                      vname, vtype, d->name);
	case ROUTER_EINVAL:
		if (d->primary != NULL &&
		    router__vindex_explain(d->primary, values, nvalues, culprit,
		                           err))
			return rc;
		return router__seterr(
		    err, rc, culprit,
		    "primary vindex %s (%s) of table %s takes %zu value%s, "
		    "got %zu",
		    vname, vtype, d->name,
		    d->primary ? router__vindex_arity(d->primary) : 1,
		    d->primary && router__vindex_arity(d->primary) == 1 ? ""
		                                                         : "s",
		    nvalues);
	default:
		return router__seterr(err, rc, culprit, "%s",
		                      router_strerror(rc));
	}
}

int router__tdef_route(const router_table *t, const router__tdef *d,
                       const router_value *values, size_t nvalues,
                       router_route_result *out, router_error *err)
{
	uint8_t buf[ROUTER__KSID_BUF];
	const uint8_t *k;
	size_t len;
	int rc;

	switch (d->mode) {
	case ROUTER__T_FIXED:
		router__fill_shard(t, d->ks, d->fixed, out);
		router__copy_ksid(out, d->pinned_ksid, d->pinned_len);
		return ROUTER_OK;
	case ROUTER__T_MULTISHARD:
		return route_error(d, ROUTER_EMULTISHARD, values, nvalues, err);
	default:
		break;
	}
	if (values == NULL && nvalues != 0)
		return router__seterr(err, ROUTER_EINVAL, d->name,
		                      "values is NULL");
	/* One integer: the integer body (route_fast.h) gives the same
	 * keyspace ID as router__vindex_map for these vindexes; anything it
	 * does not take goes on below, errors included. */
	if (nvalues == 1 && (values->type == ROUTER_SQL_UINT64 ||
	                     values->type == ROUTER_SQL_INT64)) {
		int u = values->type == ROUTER_SQL_UINT64;
		uint64_t key = u ? values->u64 : (uint64_t)values->i64, p;

		if (router__ksid_prefix_fast(d, key, u, &p)) {
			router__fill_shard_fast(
			    t, d->ks,
			    router__bounds_search(d->ks->bounds,
			                          d->ks->nshards - 1, p),
			    out);
			router__put_be64(out->ksid, p);
			out->ksid_len = 8;
			return ROUTER_OK;
		}
	}
	rc = router__vindex_map(d->primary, values, nvalues, buf, &k, &len);
	if (ROUTER__LIKELY(rc == ROUTER_OK)) {
		router__fill_shard(t, d->ks,
		                   router__shard_search(d->ks, k, len), out);
		router__copy_ksid(out, k, len);
		return ROUTER_OK;
	}
	if (rc == ROUTER_NONE) {
		fill_none(t, out);
		return ROUTER_NONE;
	}
	return route_error(d, rc, values, nvalues, err);
}

int router__tdef_route_u64(const router_table *t, const router__tdef *d,
                           uint64_t key, int is_unsigned,
                           router_route_result *out)
{
	return router__tdef_route_u64_fast(t, d, key, is_unsigned, out);
}

int router__tdef_route_id(const router_table *t, const router__tdef *d,
                          uint64_t key, int is_unsigned, uint32_t *id)
{
	return router__tdef_route_id_fast(t, d, key, is_unsigned, id);
}

int router__tdef_route_u64_general(const router_table *t,
                                   const router__tdef *d, uint64_t key,
                                   int is_unsigned, router_route_result *out)
{
	uint8_t buf[ROUTER__KSID_BUF];
	const uint8_t *k;
	size_t len;
	int rc;

	if (ROUTER__UNLIKELY(d->mode != ROUTER__T_VINDEX)) {
		router_value v = is_unsigned
		                     ? ROUTER_VALUE_UINT64(key)
		                     : ROUTER_VALUE_INT64((int64_t)key);

		return router__tdef_route(t, d, &v, 1, out, NULL);
	}
	rc = router__vindex_u64_fast(d->primary, key, is_unsigned, buf, &k,
	                             &len);
	if (ROUTER__LIKELY(rc == ROUTER_OK)) {
		router__fill_shard_fast(t, d->ks,
		                        router__shard_search_fast(d->ks, k, len),
		                        out);
		router__copy_ksid(out, k, len);
		return ROUTER_OK;
	}
	if (rc == ROUTER_NONE)
		fill_none(t, out);
	return rc;
}

int router__tdef_route_id_general(const router_table *t,
                                  const router__tdef *d, uint64_t key,
                                  int is_unsigned, uint32_t *id)
{
	uint8_t buf[ROUTER__KSID_BUF];
	const uint8_t *k;
	size_t len;
	int rc;

	if (ROUTER__UNLIKELY(d->mode != ROUTER__T_VINDEX)) {
		router_route_result r;

		rc = router__tdef_route_u64(t, d, key, is_unsigned, &r);
		*id = r.shard_id;
		return rc;
	}
	rc = router__vindex_u64_fast(d->primary, key, is_unsigned, buf, &k,
	                             &len);
	if (ROUTER__LIKELY(rc == ROUTER_OK)) {
		*id = d->ks->hot[router__shard_search_fast(d->ks, k, len)].id;
		return ROUTER_OK;
	}
	*id = ROUTER_NO_SHARD;
	return rc;
}

static int check_buf(const void *p, size_t n, const char *what,
                     router_error *err)
{
	if (p == NULL && n != 0)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "%s is NULL with length %zu", what, n);
	return ROUTER_OK;
}

int router_table_route(const router_table *t, const char *keyspace,
                       size_t keyspace_len, const char *table,
                       size_t table_len, const router_value *values,
                       size_t nvalues, router_route_result *out,
                       router_error *err)
{
	const router__tdef *d;

	if (t == NULL || out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_table_route: NULL argument");
	return router__table_route_d(t, keyspace, keyspace_len, table,
	                             table_len, values, nvalues, out, err, &d);
}

int router__table_route_d(const router_table *t, const char *keyspace,
                          size_t keyspace_len, const char *table,
                          size_t table_len, const router_value *values,
                          size_t nvalues, router_route_result *out,
                          router_error *err, const router__tdef **dout)
{
	return router__table_route_at(t, keyspace, keyspace_len, table,
	                              table_len, values, nvalues, out, err,
	                              dout, NULL);
}

int router__table_route_at(const router_table *t, const char *keyspace,
                           size_t keyspace_len, const char *table,
                           size_t table_len, const router_value *values,
                           size_t nvalues, router_route_result *out,
                           router_error *err, const router__tdef **dout,
                           router__resolved *how)
{
	const router__tdef *d;
	int rc;

	*dout = NULL;
	if (how != NULL)
		{ how->ksrule = NULL; how->rule = NULL; }
	if ((rc = check_buf(keyspace, keyspace_len, "keyspace", err)) ||
	    (rc = check_buf(table, table_len, "table", err)))
		return rc;
	rc = router__table_resolve_at(t, keyspace, keyspace_len, table,
	                              table_len, &d, how, err);
	if (rc != ROUTER_OK)
		return rc;
	*dout = d;
	rc = router__tdef_route(t, d, values, nvalues, out, err);
	if (rc == ROUTER_OK && err != NULL)
		router__clearerr(err);
	return rc;
}

int router__table_route_ksid(const router_table *t, const char *keyspace,
                             size_t keyspace_len, const void *ksid,
                             size_t ksid_len, router_route_result *out,
                             router_error *err)
{
	const router__keyspace *ks;
	int rc;

	if ((rc = check_buf(keyspace, keyspace_len, "keyspace", err)) ||
	    (rc = check_buf(ksid, ksid_len, "keyspace ID", err)))
		return rc;
	ks = router__table_keyspace(t, keyspace, keyspace_len);
	if (ks == NULL)
		return router__keyspace_missing(t, keyspace, keyspace_len,
		                                err);
	router__fill_shard(t, ks,
	                   router__shard_search(ks, ksid, ksid_len), out);
	router__copy_ksid(out, ksid, ksid_len);
	router__clearerr(err);
	return ROUTER_OK;
}

int router_table_route_ksid(const router_table *t, const char *keyspace,
                            size_t keyspace_len, const void *ksid,
                            size_t ksid_len, router_route_result *out,
                            router_error *err)
{
	if (t == NULL || out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_table_route_ksid: NULL argument");
	return router__table_route_ksid(t, keyspace, keyspace_len, ksid,
	                                ksid_len, out, err);
}

