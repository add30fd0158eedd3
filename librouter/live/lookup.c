/*
 * Routing by a column vindex through the live router, lookup vindexes
 * included: the application's resolver runs the lookup query, and it runs
 * outside every read section.
 *
 * Why outside.  A read section holds up every grace period of the process
 * (epoch.c): a resolver blocked on a database for a second inside one
 * would keep every retired table of every router alive for that second
 * and, past 32 retired tables, make a publish wait for it.  So a lookup
 * call is three steps:
 *   1. inside a section: resolve the table and its column vindex in the
 *      table in service, and copy what the rest needs (the vindex's
 *      compiled params and the query's strings: the table may be freed as
 *      soon as the section ends);
 *   2. no section: call the resolver with the copy, then turn the rows
 *      into keyspace IDs (router__lookup_map on the copy);
 *   3. inside a new section: resolve the table again in the table now in
 *      service and place the keyspace IDs in its keyspace's shards.
 * The query answers for the version it was read from (query.version);
 * the shards come from the version in service at step 3 (each result's
 * version), usually the same.  When they differ the keyspace IDs are
 * still those the lookup table holds; a caller that needs one version
 * for both compares the two and retries.  Non-lookup column vindexes,
 * and lookups that need no query, are answered in one section.
 */
#include <string.h>

#include "epoch.h"
#include "live.h"

struct router_lookup_rows {
	const router_allocator *a;
	router_lookup_row *v;
	size_t n, cap;
	/* Copies of the rows' bytes: one allocation per added value. */
	void **mem;
	size_t nmem, capmem;
	int failed; /* an add ran out of memory */
};

static int copy_value(router_lookup_rows *rs, const router_value *in,
                      router_value *out)
{
	void *p;

	*out = *in;
	if (in->len == 0 || in->type == ROUTER_SQL_INT64 ||
	    in->type == ROUTER_SQL_UINT64 || in->type == ROUTER_SQL_NULL) {
		if (in->len == 0)
			out->ptr = NULL;
		return ROUTER_OK;
	}
	if (router__grow(rs->a, (void **)&rs->mem, &rs->capmem, rs->nmem + 1,
	                 sizeof *rs->mem) != 0 ||
	    (p = router__malloc(rs->a, in->len)) == NULL)
		return ROUTER_ENOMEM;
	memcpy(p, in->ptr, in->len);
	rs->mem[rs->nmem++] = p;
	out->ptr = p;
	return ROUTER_OK;
}

int router_lookup_rows_add(router_lookup_rows *rows, const router_value *from,
                           const router_value *to)
{
	router_lookup_row row;

	if (rows == NULL || from == NULL || to == NULL ||
	    (from->ptr == NULL && from->len > 0) ||
	    (to->ptr == NULL && to->len > 0) ||
	    (unsigned)from->type > ROUTER_SQL_FLOAT64 ||
	    (unsigned)to->type > ROUTER_SQL_FLOAT64)
		return ROUTER_EINVAL;
	if (router__grow(rows->a, (void **)&rows->v, &rows->cap, rows->n + 1,
	                 sizeof *rows->v) != 0 ||
	    copy_value(rows, from, &row.from) != ROUTER_OK ||
	    copy_value(rows, to, &row.to) != ROUTER_OK) {
		rows->failed = 1;
		return ROUTER_ENOMEM;
	}
	rows->v[rows->n++] = row;
	return ROUTER_OK;
}

static void rows_free(router_lookup_rows *rs)
{
	for (size_t i = 0; i < rs->nmem; i++)
		router__free(rs->a, rs->mem[i]);
	router__free(rs->a, rs->mem);
	router__free(rs->a, rs->v);
}

/* The keyspace IDs of step 2, end to end in one buffer. */
typedef struct ksid_list {
	const router_allocator *a;
	uint8_t *b;
	size_t len, cap;
	size_t *off; /* start of each; off[n] = len */
	size_t n, capoff;
} ksid_list;

static int ksid_keep(void *ctx, const uint8_t *k, size_t n)
{
	ksid_list *l = ctx;

	if (router__grow(l->a, (void **)&l->b, &l->cap, l->len + n, 1) != 0 ||
	    router__grow(l->a, (void **)&l->off, &l->capoff, l->n + 2,
	                 sizeof *l->off) != 0)
		return ROUTER_ENOMEM;
	if (n > 0)
		memcpy(l->b + l->len, k, n);
	l->off[l->n++] = l->len;
	l->len += n;
	l->off[l->n] = l->len;
	return ROUTER_OK;
}

/* Step 1's copy of a lookup vindex: its strings in one allocation. */
static int copy_vindex(const router_allocator *a, const router__vindex *in,
                       router__vindex *out)
{
	size_t tl = in->u.lk.table_len, fl = in->u.lk.from_len,
	       tol = in->u.lk.to_len, sl = in->u.lk.sql_len;
	char *m = router__malloc(a, tl + fl + tol + sl + 4);

	if (m == NULL)
		return ROUTER_ENOMEM;
	*out = *in;
	out->u.lk.mem = m;
	out->u.lk.table = memcpy(m, in->u.lk.table, tl + 1);
	m += tl + 1;
	out->u.lk.from = memcpy(m, in->u.lk.from, fl + 1);
	m += fl + 1;
	out->u.lk.to = memcpy(m, in->u.lk.to, tol + 1);
	m += tol + 1;
	out->u.lk.sql = memcpy(m, in->u.lk.sql, sl + 1);
	return ROUTER_OK;
}

int router_route_column(router *r, const char *keyspace, size_t keyspace_len,
                        const char *table, size_t table_len,
                        const char *columns, size_t columns_len,
                        const router_value *values, size_t nvalues,
                        router_lookup_resolver resolve, void *ctx,
                        router_route_result *out, size_t cap, size_t *count,
                        router_error *err)
{
	ck_epoch_record_t *rec;
	const router_table *t;
	const router__tdef *d;
	const router__colvindex *cv;
	router__vindex vc;
	router_lookup_query q;
	router_lookup_rows rows;
	ksid_list kl;
	router__shards s;
	uint64_t qversion;
	int rc;

	if (count != NULL)
		*count = 0;
	if (r == NULL || count == NULL || (out == NULL && cap > 0) ||
	    (values == NULL && nvalues > 0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_route_column: NULL argument");
	if ((rec = reader()) == NULL)
		return no_reader(err);

	/* Step 1. */
	section_begin(rec);
	t = consume_ptr(&r->current);
	if (t == NULL) {
		section_end(rec);
		return router__seterr(err, ROUTER_ENOTFOUND, NULL,
		                      "no table has been published yet");
	}
	rc = router__column_find(t, keyspace, keyspace_len, table, table_len,
	                         columns, columns_len, &d, &cv, err);
	if (rc == ROUTER_OK &&
	    (cv == NULL || cv->vd->v.type->kind != ROUTER__V_LOOKUP ||
	     resolve == NULL || nvalues != 1 ||
	     router__lookup_no_query(&cv->vd->v, values, 1)))
		rc = router__column_route(t, d, cv, values, nvalues, NULL, 0,
		                          out, cap, count, err);
	else if (rc == ROUTER_OK)
		rc = copy_vindex(&r->alloc, &cv->vd->v, &vc) != ROUTER_OK
		         ? router__seterr(err, ROUTER_ENOMEM, d->name,
		                          "out of memory")
		         : 1; /* go on outside the section */
	qversion = t->version;
	section_end(rec);
	if (rc != 1)
		return rc;

	/* Step 2: no section held. */
	memset(&rows, 0, sizeof rows);
	rows.a = &r->alloc;
	memset(&kl, 0, sizeof kl);
	kl.a = &r->alloc;
	rc = router__lookup_query_fill(NULL, &vc, values, &q, err);
	q.version = qversion;
	if (rc == ROUTER_OK) {
		rc = resolve(ctx, &q, &rows);
		if (rows.failed && rc >= 0)
			rc = router__seterr(err, ROUTER_ENOMEM, vc.type->name,
			                    "out of memory adding lookup rows");
		else if (rc < 0)
			rc = router__seterr(err, rc, vc.type->name,
			                    "lookup.Map: the resolver failed: %s",
			                    router_strerror(rc));
		else
			rc = router__lookup_map(&vc, values, 1, 0, rows.v,
			                        rows.n, ksid_keep, &kl, err);
		if (rc == ROUTER_ENOMEM && err != NULL && err->code != rc)
			router__seterr(err, rc, vc.type->name, "out of memory");
	}
	rows_free(&rows);
	router__free(&r->alloc, vc.u.lk.mem);

	/* Step 3. */
	if (rc == ROUTER_OK) {
		section_begin(rec);
		t = consume_ptr(&r->current);
		rc = router__table_resolve(t, keyspace, keyspace_len, table,
		                           table_len, &d, err);
		if (rc == ROUTER_OK &&
		    router__shards_init(&s, t, d->ks, out, cap) == ROUTER_OK) {
			for (size_t i = 0; i < kl.n; i++)
				router__shards_add(&s, kl.b + kl.off[i],
				                   kl.off[i + 1] - kl.off[i]);
			rc = router__shards_status(&s, ROUTER_OK, count, err);
			router__shards_fini(&s);
		} else if (rc == ROUTER_OK) {
			rc = router__seterr(err, ROUTER_ENOMEM, d->name,
			                    "out of memory");
		}
		section_end(rec);
	}
	router__free(&r->alloc, kl.b);
	router__free(&r->alloc, kl.off);
	return rc;
}
