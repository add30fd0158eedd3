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

/* ---- Map: from values and rows to keyspace IDs --------------------------- */

int router__lookup_no_query(const router__vindex *v, const router_value *ids,
                            size_t nids)
{
	if (v->u.lk.flags & ROUTER__LK_F_WRITE_ONLY)
		return 1;
	/* The non-unique types' shortcut (lookup.go:109-115,
	 * lookup_hash.go:133-139, lookup_unicodeloosemd5_hash.go:130-136,
	 * consistent_lookup.go:115-121); the unique ones have none. */
	return (v->u.lk.flags & ROUTER__LK_F_IGNORE_NULLS) && !v->type->unique &&
	       nids == 1 && ids[0].type == ROUTER_SQL_NULL;
}

int router__lookup_bind(const router__vindex *v, const router_value *id,
                        router_value *out, router_error *err)
{
	char tmp[24];
	const uint8_t *p;
	uint8_t md5[16];
	size_t n;
	uint64_t u = 0;
	int rc;

	if (v->u.lk.sub != ROUTER__LK_ULMD5) {
		*out = *id;
		return ROUTER_OK;
	}
	/* lookup_unicodeloosemd5_hash.go:429-460: UINT64(BigEndian.Uint64(
	 * unicode_loose_md5(v)[:8])); NULL hashes as "" (unicode.go). */
	if (router__value_bytes(id, tmp, &p, &n) != ROUTER__CONV_OK)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "malformed value: unknown SQL type or "
		                      "NULL pointer with a length");
	if ((rc = router__unicode_loose_md5(p, n, md5, err)) != ROUTER_OK)
		return rc;
	for (int i = 0; i < 8; i++)
		u = u << 8 | md5[i];
	*out = ROUTER_VALUE_UINT64(u);
	return ROUTER_OK;
}

int router__lookup_batched(const router__vindex *v, const router_value *bound0)
{
	/* lookup_internal.go:156: ids[0].IsIntegral() || batch_lookup. */
	return bound0->type == ROUTER_SQL_INT64 ||
	       bound0->type == ROUTER_SQL_UINT64 ||
	       (v->u.lk.flags & ROUTER__LK_F_BATCH) != 0;
}

/* Go's Value.String(): INT64(1), VARCHAR("a"), NULL. */
static void value_string(const router_value *x, char *buf, size_t cap)
{
	static const char *const names[] = {"NULL",    "INT64",     "UINT64",
	                                    "VARCHAR", "VARBINARY", "FLOAT64"};
	char tmp[24];
	const uint8_t *p;
	size_t n, k;
	int quoted = x->type == ROUTER_SQL_VARCHAR ||
	             x->type == ROUTER_SQL_VARBINARY;

	if (x->type == ROUTER_SQL_NULL ||
	    router__value_bytes(x, tmp, &p, &n) != ROUTER__CONV_OK) {
		snprintf(buf, cap, "NULL");
		return;
	}
	k = (size_t)snprintf(buf, cap, "%s(%s", names[x->type],
	                     quoted ? "\"" : "");
	for (size_t i = 0; i < n && k + 8 < cap; i++) {
		uint8_t c = p[i];

		if (quoted && (c == '"' || c == '\\'))
			k += (size_t)snprintf(buf + k, cap - k, "\\%c", c);
		else if (quoted && (c < 0x20 || c >= 0x7f))
			k += (size_t)snprintf(buf + k, cap - k, "\\x%02x", c);
		else
			buf[k++] = (char)c;
	}
	if (k + 3 < cap)
		snprintf(buf + k, cap - k, "%s)", quoted ? "\"" : "");
}

/* ToCastUint64 of a `to` value: its text, blanks around it allowed. */
static int cast_uint64(const router_value *x, uint64_t *out)
{
	char tmp[24];
	const uint8_t *p;
	size_t n;

	if (x->type == ROUTER_SQL_NULL ||
	    router__value_bytes(x, tmp, &p, &n) != ROUTER__CONV_OK)
		return -1;
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return router__parse_uint64((const char *)p, n, out);
}

/* The keyspace ID of one row: ROUTER_OK (sent to sink), 1 (skipped: a
 * hash type whose `to` is not a uint64), or the sink's failure. */
static int row_ksid(const router__vindex *v, const router_lookup_row *row,
                    router__ksid_sink *sink, void *ctx)
{
	uint8_t buf[ROUTER__KSID_BUF];
	const uint8_t *k;
	char tmp[24];
	size_t n;
	uint64_t u;

	if (v->u.lk.sub == ROUTER__LK_RAW) {
		if (router__value_bytes(&row->to, tmp, &k, &n) !=
		    ROUTER__CONV_OK)
			return ROUTER_EINVAL;
		return sink(ctx, k, n);
	}
	if (cast_uint64(&row->to, &u) != 0)
		return 1;
	{
		router__vindex hv;

		memset(&hv, 0, sizeof hv);
		hv.type = router__vtype_find("hash", 4);
		router__vindex_map_u64(&hv, u, 1, buf, &k, &n);
	}
	return sink(ctx, k, n);
}

/* Does a batched row answer the bound id: the same text (ToString). */
static int row_matches(const router_lookup_row *row, const router_value *id)
{
	char t1[24], t2[24];
	const uint8_t *p1, *p2;
	size_t n1, n2;

	if (router__value_bytes(&row->from, t1, &p1, &n1) != ROUTER__CONV_OK ||
	    router__value_bytes(id, t2, &p2, &n2) != ROUTER__CONV_OK)
		return 0;
	return n1 == n2 && (n1 == 0 || memcmp(p1, p2, n1) == 0);
}

int router__lookup_map(const router__vindex *v, const router_value *ids,
                       size_t nids, size_t which,
                       const router_lookup_row *rows, size_t nrows,
                       router__ksid_sink *sink, void *ctx, router_error *err)
{
	router_value b0, bw;
	size_t used = 0, only = 0;
	int batched, rc;

	if (router__lookup_no_query(v, ids, nids))
		return ROUTER__LOOKUP_ALL;
	if ((rc = router__lookup_bind(v, &ids[0], &b0, err)) != ROUTER_OK ||
	    (rc = router__lookup_bind(v, &ids[which], &bw, err)) != ROUTER_OK)
		return rc;
	batched = router__lookup_batched(v, &b0);
	for (size_t i = 0; i < nrows; i++)
		if (!batched || row_matches(&rows[i], &bw)) {
			if (used == 0)
				only = i;
			used++;
		}
	if (used == 0)
		return ROUTER_NONE;
	if (v->type->unique) {
		char id[96];

		if (used > 1) {
			const char *pre =
			    v->u.lk.sub == ROUTER__LK_ULMD5
			        ? "LookupUnicodeLooseMD5HashUnique"
			        : v->u.lk.sub == ROUTER__LK_HASH ? "LookupHash"
			                                         : "Lookup";

			value_string(&bw, id, sizeof id);
			return router__seterr(err, ROUTER_EINVAL, v->type->name,
			                      "%s.Map: unexpected multiple "
			                      "results from vindex %s: %s",
			                      pre, v->u.lk.table, id);
		}
		rc = row_ksid(v, &rows[only], sink, ctx);
		return rc == 1 ? ROUTER_NONE : rc;
	}
	for (size_t i = 0; i < nrows; i++) {
		if (batched && !row_matches(&rows[i], &bw))
			continue;
		rc = row_ksid(v, &rows[i], sink, ctx);
		if (rc < 0)
			return rc;
	}
	/* Every row skipped: an empty list of keyspace IDs, not None
	 * (lookup_hash.go:163-173); it reaches no shard all the same. */
	return ROUTER_OK;
}
