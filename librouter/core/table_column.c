/*
 * Routing by any column vindex of a table, named by its column(s), on a
 * frozen table: the primary one or a secondary one, computed in process
 * or, for the lookup family, from the rows the application read from the
 * lookup table (router_table_lookup_query says what to ask).  A
 * non-unique lookup can answer with several keyspace IDs, hence several
 * shards: every one is returned.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "table.h"

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

const router__colvindex *router__tdef_column(const router__tdef *d,
                                             const char *cols, size_t len)
{
	for (size_t i = 0; i < d->ncvs; i++) {
		const router__colvindex *cv = &d->cvs[i];
		size_t pos = 0, c;

		for (c = 0; c < cv->ncolumns; c++) {
			const char *name = cv->columns[c];
			size_t nl = strlen(name), s, e;

			if (c > 0) {
				if (pos >= len || cols[pos] != ',')
					break;
				pos++;
			}
			s = pos;
			while (pos < len && cols[pos] != ',')
				pos++;
			e = pos;
			while (s < e && blank(cols[s]))
				s++;
			while (e > s && blank(cols[e - 1]))
				e--;
			if (e - s != nl || strncasecmp(cols + s, name, nl) != 0)
				break;
		}
		if (c == cv->ncolumns && pos == len)
			return cv;
	}
	return NULL;
}

int router__column_find(const router_table *t, const char *keyspace,
                        size_t keyspace_len, const char *table,
                        size_t table_len, const char *columns,
                        size_t columns_len, const router__tdef **d,
                        const router__colvindex **cv, router_error *err)
{
	char q[ROUTER_NAME_MAX * 2 + 8];
	int rc;

	*cv = NULL;
	if ((keyspace == NULL && keyspace_len) || (table == NULL && table_len) ||
	    (columns == NULL && columns_len))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "NULL name with a length");
	rc = router__table_resolve(t, keyspace, keyspace_len, table,
	                           table_len, d, err);
	if (rc != ROUTER_OK)
		return rc;
	if ((*d)->mode != ROUTER__T_VINDEX)
		return ROUTER_OK; /* every column routes as the table does */
	*cv = columns_len == 0 && (*d)->ncvs > 0
	          ? &(*d)->cvs[0]
	          : router__tdef_column(*d, columns, columns_len);
	if (*cv == NULL)
		return router__seterr(err, ROUTER_ENOTFOUND, (*d)->name,
		                      "table %s has no column vindex on (%s)",
		                      (*d)->name,
		                      router__fmt_name(q, sizeof q, columns,
		                                       columns_len));
	return ROUTER_OK;
}

int router__lookup_query_fill(const router_table *t,
                              const router__vindex *v,
                              const router_value *value,
                              router_lookup_query *out, router_error *err)
{
	int rc;

	memset(out, 0, sizeof *out);
	if (v->type == NULL || v->type->kind != ROUTER__V_LOOKUP)
		return router__seterr(err, ROUTER_EINVAL,
		                      v->type ? v->type->name : NULL,
		                      "vindex type '%s' is not a lookup vindex",
		                      v->type ? v->type->name : "?");
	out->vindex_type = v->type->name;
	out->sql = v->u.lk.sql;
	out->sql_len = v->u.lk.sql_len;
	out->table = v->u.lk.table;
	out->table_len = v->u.lk.table_len;
	out->from = v->u.lk.from;
	out->from_len = v->u.lk.from_len;
	out->to = v->u.lk.to;
	out->to_len = v->u.lk.to_len;
	switch (v->u.lk.read_lock) {
	case ROUTER__LK_LOCK_SHARED:
		out->lock_suffix = " lock in share mode";
		break;
	case ROUTER__LK_LOCK_NONE:
		out->lock_suffix = "";
		break;
	default:
		out->lock_suffix = " for update";
	}
	out->lock_suffix_len = strlen(out->lock_suffix);
	out->version = t != NULL ? t->version : 0;
	if (v->type->unique)
		out->flags |= ROUTER_LOOKUP_UNIQUE;
	if (router__lookup_no_query(v, value, 1))
		out->flags |= ROUTER_LOOKUP_NO_QUERY;
	if ((rc = router__lookup_bind(v, value, &out->bind, err)) != ROUTER_OK)
		return rc;
	if (router__lookup_batched(v, &out->bind))
		out->flags |= ROUTER_LOOKUP_BATCHED;
	return ROUTER_OK;
}

int router_table_lookup_query(const router_table *t, const char *keyspace,
                              size_t keyspace_len, const char *table,
                              size_t table_len, const char *columns,
                              size_t columns_len, const router_value *value,
                              router_lookup_query *out, router_error *err)
{
	const router__tdef *d;
	const router__colvindex *cv;
	int rc;

	if (t == NULL || value == NULL || out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_table_lookup_query: NULL "
		                      "argument");
	rc = router__column_find(t, keyspace, keyspace_len, table, table_len,
	                         columns, columns_len, &d, &cv, err);
	if (rc != ROUTER_OK)
		return rc;
	if (cv == NULL)
		return router__seterr(err, ROUTER_EINVAL, d->name,
		                      "table %s does not route through a "
		                      "vindex",
		                      d->name);
	return router__lookup_query_fill(t, &cv->vd->v, value, out, err);
}

/* ---- results: one per shard ------------------------------------------ */

int router__shards_init(router__shards *s, const router_table *t,
                        const router__keyspace *ks, router_route_result *out,
                        size_t cap)
{
	size_t words = ((size_t)ks->nshards + 63) / 64;

	s->t = t;
	s->ks = ks;
	s->out = out;
	s->cap = cap;
	s->count = 0;
	s->seen = s->local;
	if (words > sizeof s->local / sizeof s->local[0]) {
		s->seen = router__malloc(&router__default_allocator,
		                         words * sizeof *s->seen);
		if (s->seen == NULL)
			return ROUTER_ENOMEM;
	}
	memset(s->seen, 0, words * sizeof *s->seen);
	return ROUTER_OK;
}

void router__shards_fini(router__shards *s)
{
	if (s->seen != s->local)
		router__free(&router__default_allocator, s->seen);
}

int router__shards_add(void *ctx, const uint8_t *ksid, size_t len)
{
	router__shards *s = ctx;
	uint32_t i = router__shard_search(s->ks, ksid, len);
	router_route_result *o;

	if (s->seen[i / 64] & (UINT64_C(1) << (i % 64)))
		return ROUTER_OK;
	s->seen[i / 64] |= UINT64_C(1) << (i % 64);
	if (s->count < s->cap) {
		o = &s->out[s->count];
		router__fill_shard(s->t, s->ks, i, o);
		o->ksid_len = len;
		if (len > 0)
			memcpy(o->ksid, ksid,
			       len < ROUTER_KSID_MAX ? len : ROUTER_KSID_MAX);
	}
	s->count++;
	return ROUTER_OK;
}

void router__shards_all(router__shards *s)
{
	for (uint32_t i = 0; i < s->ks->nshards; i++) {
		if (s->count < s->cap) {
			router__fill_shard(s->t, s->ks, i, &s->out[s->count]);
			s->out[s->count].ksid_len = 0;
		}
		s->count++;
	}
}

int router__shards_status(const router__shards *s, int rc, size_t *count,
                          router_error *err)
{
	*count = s->count;
	if (rc < 0)
		return rc;
	if (s->count == 0)
		return ROUTER_NONE;
	if (s->count > s->cap)
		return router__seterr(err, ROUTER_ERANGE, s->ks->name,
		                      "%zu shards answer, the buffer has room "
		                      "for %zu",
		                      s->count, s->cap);
	return ROUTER_OK;
}

/* Route in process through the (non-lookup) vindex of cv, or as the table
 * routes when it does not route through a vindex. */
static int route_direct(const router_table *t, const router__tdef *d,
                        const router__colvindex *cv,
                        const router_value *values, size_t nvalues,
                        router__shards *s, router_error *err)
{
	uint8_t buf[ROUTER__KSID_BUF];
	const uint8_t *k;
	size_t len;
	int rc;

	if (cv == NULL) {
		router_route_result one;

		rc = router__tdef_route(t, d, values, nvalues, &one, err);
		if (rc == ROUTER_OK)
			return router__shards_add(s, one.ksid,
			                          one.ksid_len < ROUTER_KSID_MAX
			                              ? one.ksid_len
			                              : ROUTER_KSID_MAX);
		return rc;
	}
	rc = router__vindex_map(&cv->vd->v, values, nvalues, buf, &k, &len);
	if (rc == ROUTER_OK)
		return router__shards_add(s, k, len);
	if (rc == ROUTER_NONE)
		return rc;
	if (rc == ROUTER_EUNSUPPORTED)
		return router__seterr(err, rc, d->name,
		                      "vindex type '%s' is not computed in "
		                      "process",
		                      cv->vd->v.type->name);
	if (router__vindex_explain(&cv->vd->v, values, nvalues, d->name, err))
		return ROUTER_EINVAL;
	if (nvalues != router__vindex_arity(&cv->vd->v))
		return router__seterr(err, ROUTER_EINVAL, d->name,
		                      "vindex %s takes %zu value(s), got %zu",
		                      cv->vd->name,
		                      router__vindex_arity(&cv->vd->v), nvalues);
	return router__seterr(err, ROUTER_EINVAL, d->name,
	                      "malformed value: unknown SQL type or NULL "
	                      "pointer with a length");
}

int router__column_route(const router_table *t, const router__tdef *d,
                         const router__colvindex *cv,
                         const router_value *values, size_t nvalues,
                         const router_lookup_row *rows, size_t nrows,
                         router_route_result *out, size_t cap,
                         size_t *count, router_error *err)
{
	router__shards s;
	const router__vindex *v;
	int rc;

	if (router__shards_init(&s, t, d->ks, out, cap) != ROUTER_OK)
		return router__seterr(err, ROUTER_ENOMEM, d->name,
		                      "out of memory");
	if (cv == NULL || cv->vd->v.type->kind != ROUTER__V_LOOKUP) {
		rc = route_direct(t, d, cv, values, nvalues, &s, err);
		goto done;
	}
	v = &cv->vd->v;
	if (nvalues != 1) {
		rc = router__seterr(err, ROUTER_EINVAL, d->name,
		                    "lookup vindex %s takes 1 value, got %zu",
		                    cv->vd->name, nvalues);
		goto done;
	}
	if (router__lookup_no_query(v, values, 1)) {
		router__shards_all(&s);
		rc = ROUTER_OK;
		goto done;
	}
	if (rows == NULL) {
		rc = router__seterr(err, ROUTER_ENEEDSLOOKUP, d->name,
		                    "vindex %s (%s) needs the rows of: %s",
		                    cv->vd->name, v->type->name, v->u.lk.sql);
		goto done;
	}
	rc = router__lookup_map(v, values, 1, 0, rows, nrows,
	                        router__shards_add, &s, err);
	if (rc == ROUTER__LOOKUP_ALL) {
		router__shards_all(&s);
		rc = ROUTER_OK;
	}
done:
	rc = router__shards_status(&s, rc, count, err);
	router__shards_fini(&s);
	return rc;
}

int router_table_route_column(const router_table *t, const char *keyspace,
                              size_t keyspace_len, const char *table,
                              size_t table_len, const char *columns,
                              size_t columns_len, const router_value *values,
                              size_t nvalues, const router_lookup_row *rows,
                              size_t nrows, router_route_result *out,
                              size_t cap, size_t *count, router_error *err)
{
	const router__tdef *d;
	const router__colvindex *cv;
	int rc;

	if (count != NULL)
		*count = 0;
	if (t == NULL || count == NULL || (out == NULL && cap > 0) ||
	    (values == NULL && nvalues > 0) || (rows == NULL && nrows > 0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_table_route_column: NULL "
		                      "argument");
	rc = router__column_find(t, keyspace, keyspace_len, table, table_len,
	                         columns, columns_len, &d, &cv, err);
	if (rc != ROUTER_OK)
		return rc;
	return router__column_route(t, d, cv, values, nvalues, rows, nrows,
	                            out, cap, count, err);
}
