/*
 * Building a table: router_table_build validates everything relational in
 * a builder's records the way Vitess builds a VSchema, collecting every
 * problem, and lays the table out in one arena:
 * - keyspaces sorted by name with an open-addressing index on XXH3 of the
 *   name; per keyspace, tables likewise, vindexes sorted by name;
 * - shards in partition order, plus (when every shard start has at most 8
 *   significant bytes, i.e. always for Vitess's generated ranges) a flat
 *   array of 64-bit starts searched without branches (table_route.c);
 * - each table's routing decided once: through its primary vindex, to a
 *   fixed shard (unsharded keyspace, pinned table), or "every shard"
 *   (reference table of a sharded keyspace).
 * Nothing in a built table is written again, except the fields the router
 * sets before the table becomes visible (see table.h).  Also the table's
 * lifetime: free, version, hash.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "table.h"

/* ------------------------------------------------------------------------ */
/* Build                                                                    */
/* ------------------------------------------------------------------------ */

/* Record a problem found by the build.  Returns 0, or -1 when out of memory
 * (the build then fails with ROUTER_ENOMEM). */
static int problem(router_builder *b, int code, const char *culprit,
                   const char *fmt, ...) ROUTER__PRINTF(4, 5);
static int problem(router_builder *b, int code, const char *culprit,
                   const char *fmt, ...)
{
	va_list ap;

	if (router__grow(b->a, (void **)&b->problems, &b->cproblems,
	                 b->nproblems + 1, sizeof *b->problems)) {
		b->problems_nomem = 1;
		return -1;
	}
	va_start(ap, fmt);
	router__vseterr(&b->problems[b->nproblems++], code, culprit, fmt, ap);
	va_end(ap);
	return 0;
}

static int problem_err(router_builder *b, const router_error *e)
{
	if (router__grow(b->a, (void **)&b->problems, &b->cproblems,
	                 b->nproblems + 1, sizeof *b->problems)) {
		b->problems_nomem = 1;
		return -1;
	}
	b->problems[b->nproblems++] = *e;
	return 0;
}

static uint32_t index_cap(size_t n)
{
	uint32_t c = 8;

	while (c < 2 * n)
		c *= 2;
	return c;
}

static int sortref_cmp(const void *x, const void *y)
{
	return strcmp(((const router__sortref *)x)->name,
	              ((const router__sortref *)y)->name);
}

router__sortref *router__sorted_at(const router_allocator *a,
                                   const void *base, size_t n, size_t stride,
                                   size_t off)
{
	router__sortref *r = router__malloc(a, (n ? n : 1) * sizeof *r);
	size_t i;

	if (r == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		r[i].name = *(char *const *)(const void *)((const char *)base +
		                                           i * stride + off);
		r[i].idx = i;
	}
	qsort(r, n, sizeof *r, sortref_cmp);
	return r;
}

/* State of one build. */
typedef struct bstate {
	router_builder *b;
	router__arena *ar;
	router_table *t;
} bstate;

/* An unsharded keyspace that lists no shard gets Vitess's implicit one:
 * shard "0", covering every keyspace id.  Returns 0, or -1 out of
 * memory. */
/* ks->hot8's room (table.h), filled at publish; none where a pointer is
 * not 64 bits (the 16-byte hot array serves alone).  0, or -1 out of
 * memory. */
static int hot8_alloc(bstate *s, router__keyspace *ks, size_t n)
{
#if UINTPTR_MAX == UINT64_MAX
	ks->hot8 = router__arena_alloc(s->ar, n * sizeof *ks->hot8);
	return ks->hot8 == NULL ? -1 : 0;
#else
	(void)s;
	(void)n;
	ks->hot8 = NULL;
	return 0;
#endif
}

static int build_implicit_shard(bstate *s, router__keyspace *ks)
{
	router__shard *sh = router__arena_alloc(s->ar, sizeof *sh);

	if (sh == NULL)
		return -1;
	sh->name = "0";
	sh->name_len = 1;
	sh->iname = sh->name;
	sh->id = ROUTER_NO_SHARD;
	memset(&sh->kr, 0, sizeof sh->kr);
	sh->kr.full = 1;
	/* The compact per-shard result the integer lookup reads (table.h). */
	ks->hot = router__arena_alloc(s->ar, sizeof *ks->hot);
	if (ks->hot == NULL)
		return -1;
	ks->hot[0] = (router__shard_hot){sh->iname, 1, sh->id};
	if (hot8_alloc(s, ks, 1))
		return -1;
	ks->shards = sh;
	ks->nshards = 1;
	return 0;
}

/* Fills order[0..n) (n = bk->nshards) with the shards' partition order:
 * for a sharded keyspace the order router__partition_check finds, whose
 * problem (gap, overlap, ...) is recorded, the listed order then standing
 * in; for an unsharded one the listed order.  Returns 0, or -1 out of
 * memory. */
static int order_shards(bstate *s, const bks *bk, size_t *order)
{
	router_builder *b = s->b;
	size_t n = bk->nshards, i;
	router_keyrange *krs;
	const char **names;
	router_error e;
	int rc = ROUTER_ENOMEM;

	if (!bk->sharded) {
		for (i = 0; i < n; i++)
			order[i] = i;
		return 0;
	}
	krs = router__malloc(b->a, n * sizeof *krs);
	names = router__malloc(b->a, n * sizeof *names);
	if (krs != NULL && names != NULL) {
		for (i = 0; i < n; i++) {
			krs[i] = bk->shards[i].kr;
			names[i] = bk->shards[i].name;
		}
		rc = router__partition_check(krs, names, n, order, bk->name,
		                             &e);
	}
	router__free(b->a, krs);
	router__free(b->a, (void *)names);
	if (rc == ROUTER_ENOMEM)
		return -1;
	if (rc != ROUTER_OK) {
		for (i = 0; i < n; i++)
			order[i] = i;
		if (problem_err(b, &e))
			return -1;
	}
	return 0;
}

/* Copies the builder's shards into sh[0..n) (arena memory) in `order`.
 * *nlong: how many shards after the first start with more than 8
 * significant bytes (no flat bounds array then).  Returns 0, or -1 out
 * of memory. */
static int copy_shards(bstate *s, const bks *bk, const size_t *order,
                       router__shard *sh, router__shard_hot *hot,
                       size_t *nlong)
{
	size_t i;

	for (i = 0; i < bk->nshards; i++) {
		const bshard *bs = &bk->shards[order[i]];

		sh[i].kr = bs->kr;
		sh[i].name_len = strlen(bs->name);
		sh[i].name =
		    router__arena_strndup(s->ar, bs->name, sh[i].name_len);
		if (sh[i].name == NULL)
			return -1;
		sh[i].iname = sh[i].name;
		sh[i].id = ROUTER_NO_SHARD;
		hot[i] = (router__shard_hot){sh[i].iname,
		                             (uint32_t)sh[i].name_len, sh[i].id};
		if (i > 0 && router__key_normlen(sh[i].kr.start,
		                                 sh[i].kr.start_len) > 8)
			(*nlong)++;
	}
	return 0;
}

/* The flat array of the 64-bit starts of shards 1..n of ks (see the top
 * of this file), for when every start fits in 8 bytes.  Returns 0, or -1
 * out of memory. */
static int build_bounds(bstate *s, router__keyspace *ks)
{
	size_t n = ks->nshards, i;
	uint64_t *bounds = router__arena_alloc(s->ar, n * sizeof *bounds);

	if (bounds == NULL)
		return -1;
	for (i = 1; i < n; i++)
		bounds[i - 1] = router__be64_padded(ks->shards[i].kr.start,
		                                    ks->shards[i].kr.start_len);
	ks->bounds = bounds;
	return 0;
}

/* Lays out the shards of keyspace bk in ks, in partition order, recording
 * what is wrong with them (a sharded keyspace with none, an unsharded one
 * with several, shards that are not a partition).  Returns 0, or -1 when the build must
 * stop (out of memory). */
static int build_shards(bstate *s, const bks *bk, router__keyspace *ks)
{
	router_builder *b = s->b;
	router__shard *sh;
	size_t n = bk->nshards, nlong = 0;
	size_t *order = NULL;

	if (n == 0 && !bk->sharded)
		return build_implicit_shard(s, ks);
	if (n == 0) {
		return problem(b, ROUTER_EEMPTY, bk->name,
		               "sharded keyspace %s has no shards", bk->name);
	}
	if (!bk->sharded && n > 1) {
		/* The shard list is librouter's (Vitess keeps it in
		 * SrvKeyspace): a partition problem, not a VSchema one. */
		if (problem(b, ROUTER_ECOVERAGE, bk->name,
		            "unsharded keyspace %s has %zu shards; it must "
		            "have exactly one",
		            bk->name, n))
			return -1;
	}
	if (n > UINT32_MAX / 2)
		return problem(b, ROUTER_ERANGE, bk->name, "too many shards");
	order = router__malloc(b->a, n * sizeof *order);
	sh = router__arena_alloc(s->ar, n * sizeof *sh);
	ks->hot = router__arena_alloc(s->ar, n * sizeof *ks->hot);
	if (order == NULL || sh == NULL || ks->hot == NULL ||
	    order_shards(s, bk, order) ||
	    copy_shards(s, bk, order, sh, ks->hot, &nlong)) {
		router__free(b->a, order);
		return -1;
	}
	router__free(b->a, order);
	if (hot8_alloc(s, ks, n))
		return -1;
	ks->shards = sh;
	ks->nshards = (uint32_t)n;
	if (nlong == 0)
		return build_bounds(s, ks);
	return 0;
}

static int build_vindexes(bstate *s, const bks *bk, router__keyspace *ks)
{
	router_builder *b = s->b;
	router__vdef *vd;
	router__sortref *ord;
	size_t i, j;

	ord = router__sorted(b->a, bk->vindexes, bk->nvindexes,
	                     sizeof *bk->vindexes);
	vd = router__arena_alloc(s->ar, (bk->nvindexes ? bk->nvindexes : 1) *
	                            sizeof *vd);
	if (ord == NULL || vd == NULL) {
		router__free(b->a, ord);
		return -1;
	}
	ks->vindexes = vd;
	for (i = 0; i < bk->nvindexes; i++) {
		const bvindex *bv = &bk->vindexes[ord[i].idx];
		router_param *params;
		char culprit[ROUTER_CULPRIT_MAX];
		router_error e;
		int rc;

		snprintf(culprit, sizeof culprit, "%s.%s", bk->name, bv->name);
		vd[i].name = router__arena_strdup(s->ar, bv->name);
		vd[i].type = router__arena_strdup(s->ar, bv->type);
		vd[i].owner = router__arena_strdup(s->ar, bv->owner);
		params = router__arena_alloc(
		    s->ar, (bv->nparams ? bv->nparams : 1) * sizeof *params);
		if (vd[i].name == NULL || vd[i].type == NULL ||
		    vd[i].owner == NULL || params == NULL)
			goto oom;
		for (j = 0; j < bv->nparams; j++) {
			params[j].key =
			    router__arena_strdup(s->ar, bv->params[j].key);
			params[j].value =
			    router__arena_strdup(s->ar, bv->params[j].value);
			if (params[j].key == NULL || params[j].value == NULL)
				goto oom;
		}
		vd[i].params = params;
		vd[i].nparams = bv->nparams;
		ks->nvindexes = i + 1; /* vd[0..i] are finalized on failure */
		rc = router__vindex_init(&vd[i].v, bv->type, bv->params,
		                         bv->nparams, b->a, culprit, &e);
		if (rc == ROUTER_ENOMEM)
			goto oom;
		if (rc != ROUTER_OK) {
			memset(&vd[i].v, 0, sizeof vd[i].v);
			if (problem_err(b, &e))
				goto oom;
		}
	}
	router__free(b->a, ord);
	return 0;
oom:
	router__free(b->a, ord);
	return -1;
}

static const router__vdef *find_vdef(const router__keyspace *ks,
                                     const char *name)
{
	size_t lo = 0, hi = ks->nvindexes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ks->vindexes[mid].name, name);

		if (c == 0)
			return &ks->vindexes[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Copies column vindex i of table bt (bc = &bt->cvs[i]) into *cv: its
 * columns (a column listed twice is a problem) and its vindex in ks
 * (a problem when missing), then records what Vitess refuses about the
 * vindex's place: a primary that is not Unique or is owned, a
 * multi-column vindex that is not the primary.  Returns 0, or -1 when the
 * build must stop (out of memory). */
static int build_colvindex(bstate *s, const router__keyspace *ks,
                           const btable *bt, size_t i, const char *culprit,
                           router__colvindex *cv)
{
	router_builder *b = s->b;
	const bcv *bc = &bt->cvs[i];
	const router__vdef *vd = find_vdef(ks, bc->vindex);
	char **cols = router__arena_alloc(s->ar, bc->ncolumns * sizeof *cols);
	size_t j;

	if (cols == NULL)
		return -1;
	for (j = 0; j < bc->ncolumns; j++) {
		size_t k;

		cols[j] = router__arena_strdup(s->ar, bc->columns[j]);
		if (cols[j] == NULL)
			return -1;
		/* Vitess accepts this; librouter refuses it with a code
		 * of its own (docs/spec.md, "Stricter than Vitess"). */
		for (k = 0; k < j; k++)
			if (strcmp(cols[k], cols[j]) == 0 &&
			    problem(b, ROUTER_EDOC, culprit,
			            "column %s is listed twice in vindex "
			            "%s of table %s",
			            cols[j], bc->vindex, bt->name))
				return -1;
	}
	cv->columns = (const char *const *)cols;
	cv->ncolumns = bc->ncolumns;
	cv->vd = vd;
	if (vd == NULL)
		return problem(b, ROUTER_EREFERENCE, culprit,
		               "vindex %s not found for table %s", bc->vindex,
		               bt->name);
	if (vd->v.type == NULL)
		return 0; /* its own problem is already recorded */
	if (i == 0 && !vd->v.type->unique &&
	    problem(b, ROUTER_EVSCHEMA, culprit,
	            "primary vindex %s is not Unique for table %s", vd->name,
	            bt->name))
		return -1;
	/* Vitess: owned = a Lookup whose owner is this table. */
	if (i == 0 && strcmp(vd->owner, bt->name) == 0 &&
	    vd->v.type->kind == ROUTER__V_LOOKUP &&
	    problem(b, ROUTER_EVSCHEMA, culprit,
	            "primary vindex %s cannot be owned for table %s",
	            vd->name, bt->name))
		return -1;
	if (i > 0 && vd->v.type->multi_column &&
	    problem(b, ROUTER_EVSCHEMA, culprit,
	            "multi-column vindex %s should be a primary vindex "
	            "for table %s",
	            vd->name, bt->name))
		return -1;
	return 0;
}

/* Copies the pin of table bt (its "pinned" hex, set) into d and decodes
 * it into d->pinned_ksid / pinned_len (length 0, and a problem recorded,
 * when it is not hex).  Returns 0, or -1 when the build must stop (out of
 * memory). */
static int build_pin(bstate *s, const btable *bt, router__tdef *d,
                     const char *culprit)
{
	size_t plen = strlen(bt->pinned), n = 0;
	uint8_t *k = router__arena_alloc(s->ar, plen / 2 + 1);
	router_error he;

	if (k == NULL)
		return -1;
	d->pinned = router__arena_strdup(s->ar, bt->pinned);
	if (d->pinned == NULL)
		return -1;
	if (router__go_hex_decode(bt->pinned, plen, k, plen / 2 + 1, &n, NULL,
	                          &he) != ROUTER_OK) {
		n = 0;
		if (problem(s->b, ROUTER_EVSCHEMA, culprit,
		            "could not decode the keyspace id for pin: %s",
		            he.message))
			return -1;
	}
	d->pinned_ksid = k;
	d->pinned_len = n;
	return 0;
}

/* Decides once how table d (from bt, in keyspace bk / ks, whose shards
 * are laid out) routes: to a fixed shard (unsharded keyspace, pinned
 * table), to every shard (reference table) or through its primary
 * vindex; a sequence table in a sharded keyspace, or a table without a
 * primary vindex (unless skip_missing), is a problem.  Returns 0, or -1
 * when the build must stop (out of memory). */
static int route_table(router_builder *b, const bks *bk,
                       const router__keyspace *ks, const btable *bt,
                       router__tdef *d, const char *culprit,
                       int skip_missing)
{
	if (!bk->sharded) {
		d->mode = ROUTER__T_FIXED;
		d->fixed = 0;
	} else if (bt->pinned != NULL) {
		d->mode = ROUTER__T_FIXED;
		d->fixed = router__shard_search(ks, d->pinned_ksid,
		                                d->pinned_len);
	} else if (bt->type == ROUTER_TABLE_REFERENCE) {
		d->mode = ROUTER__T_MULTISHARD;
	} else if (bt->type == ROUTER_TABLE_SEQUENCE) {
		if (problem(b, ROUTER_EVSCHEMA, culprit,
		            "sequence table has to be in an unsharded keyspace "
		            "or must be pinned: %s",
		            bt->name))
			return -1;
	} else if (bt->ncvs == 0) {
		if (!skip_missing &&
		    problem(b, ROUTER_EVSCHEMA, culprit,
		            "missing primary col vindex for table: %s",
		            bt->name))
			return -1;
	} else {
		d->mode = ROUTER__T_VINDEX;
		d->primary = d->cvs[0].vd ? &d->cvs[0].vd->v : NULL;
	}
	return 0;
}

/* Lays out table bt of keyspace bk in d (arena memory): its name, column
 * vindexes and pin, then how it routes, recording every problem.
 * skip_missing: the keyspace's lack of vindexes is already recorded, so
 * a table without a primary vindex is not one more.  Returns 0, or -1
 * when the build must stop (out of memory). */
static int build_table(bstate *s, const bks *bk, router__keyspace *ks,
                       const btable *bt, router__tdef *d, int skip_missing)
{
	char culprit[ROUTER_CULPRIT_MAX];
	router__colvindex *cvs;
	size_t i;

	snprintf(culprit, sizeof culprit, "%s.%s", bk->name, bt->name);
	d->name_len = strlen(bt->name);
	d->name = router__arena_strndup(s->ar, bt->name, d->name_len);
	d->ks = ks;
	d->type = bt->type;
	d->declared = 1;
	cvs =
	    router__arena_alloc(s->ar, (bt->ncvs ? bt->ncvs : 1) * sizeof *cvs);
	if (d->name == NULL || cvs == NULL)
		return -1;
	d->cvs = cvs;
	d->ncvs = bt->ncvs;
	for (i = 0; i < bt->ncvs; i++)
		if (build_colvindex(s, ks, bt, i, culprit, &cvs[i]))
			return -1;
	if (bt->pinned != NULL && build_pin(s, bt, d, culprit))
		return -1;
	if (ks->nshards == 0)
		return 0; /* keyspace already failed */
	return route_table(s->b, bk, ks, bt, d, culprit, skip_missing);
}

/* d's copy of what the integer lookup reads (table.h, "fast"). */
static void tdef_fast(router__tdef *d, const router__keyspace *ks)
{
	router__vkind k = d->mode == ROUTER__T_VINDEX && d->primary != NULL &&
	                          d->primary->type != NULL
	                      ? d->primary->type->kind
	                      : ROUTER__V_UNSUPPORTED;

	d->fast = ks->bounds == NULL       ? ROUTER__FAST_NONE
	          : k == ROUTER__V_NUMERIC ? ROUTER__FAST_NUMERIC
	          : k == ROUTER__V_XXHASH  ? ROUTER__FAST_XXHASH
	          : k == ROUTER__V_HASH    ? ROUTER__FAST_HASH
	                                   : ROUTER__FAST_NONE;
	d->nbounds = ks->nshards - 1;
	d->bounds = ks->bounds;
	d->hot = ks->hot;
	d->id_base = -1;
	d->hot8 = NULL; /* set at publish */
}

static int build_keyspace(bstate *s, const bks *bk, router__keyspace *ks)
{
	router_builder *b = s->b;
	router__tdef *tables;
	uint32_t *tindex;
	router__sortref *ord;
	size_t i, needs_vindex = 0;
	int skip_missing = 0;

	ks->name_len = strlen(bk->name);
	ks->name = router__arena_strndup(s->ar, bk->name, ks->name_len);
	if (ks->name == NULL)
		return -1;
	ks->sharded = bk->sharded;
	if (build_shards(s, bk, ks))
		return -1;
	if (build_vindexes(s, bk, ks))
		return -1;
	for (i = 0; i < bk->ntables; i++)
		if (bk->tables[i].type == ROUTER_TABLE_NORMAL &&
		    bk->tables[i].pinned == NULL)
			needs_vindex++;
	if (bk->sharded && needs_vindex > 0 && bk->nvindexes == 0) {
		if (problem(b, ROUTER_EEMPTY, bk->name,
		            "sharded keyspace %s has %zu tables to route but no "
		            "vindexes",
		            bk->name, needs_vindex))
			return -1;
		skip_missing = 1;
	}
	ord = router__sorted(b->a, bk->tables, bk->ntables, sizeof *bk->tables);
	tables = router__arena_alloc(s->ar, (bk->ntables ? bk->ntables : 1) *
	                                sizeof *tables);
	ks->tmask = index_cap(bk->ntables) - 1;
	tindex = router__arena_alloc(s->ar, (ks->tmask + 1) * sizeof *tindex);
	if (ord == NULL || tables == NULL || tindex == NULL) {
		router__free(b->a, ord);
		return -1;
	}
	ks->tables = tables;
	ks->tindex = tindex;
	for (i = 0; i < bk->ntables; i++) {
		router__tdef *d = &tables[i];
		uint32_t h;

		if (build_table(s, bk, ks, &bk->tables[ord[i].idx], d,
		                skip_missing)) {
			router__free(b->a, ord);
			return -1;
		}
		tdef_fast(d, ks);
		ks->ntables = i + 1;
		h = (uint32_t)router__name_hash(d->name, d->name_len) &
		    ks->tmask;
		while (tindex[h] != 0)
			h = (h + 1) & ks->tmask;
		tindex[h] = (uint32_t)i + 1;
	}
	router__free(b->a, ord);
	ks->any.name = "";
	ks->any.ks = ks;
	ks->any.mode = bk->sharded ? ROUTER__T_MULTISHARD : ROUTER__T_FIXED;
	tdef_fast(&ks->any, ks);
	return 0;
}

/* Among rules for the same table and tablet type, Vitess's
 * FindRoutedTable tries "ks.t@primary" before "ks.t" (and older releases
 * "ks.t@master"): 0 for @primary, 1 for @master, 2 for no suffix. */
static int suffix_rank(const router__rule *r)
{
	const char *at = strrchr(r->from, '@');

	if (at == NULL)
		return 2;
	return strcmp(at + 1, "primary") == 0 ? 0 : 1;
}

static int rule_cmp(const void *x, const void *y)
{
	const router__rule *a = x, *b = y;
	int pa = a->from_ks[0] != '\0' && a->tablet[0] == '\0';
	int pb = b->from_ks[0] != '\0' && b->tablet[0] == '\0';
	int c;

	if (pa != pb)
		return pb - pa; /* primary-applicable rules first */
	if ((c = strcmp(a->from_ks, b->from_ks)) != 0)
		return c;
	if ((c = strcmp(a->from_table, b->from_table)) != 0)
		return c;
	if ((c = strcmp(a->tablet, b->tablet)) != 0)
		return c;
	return suffix_rank(a) - suffix_rank(b);
}

/* Fills r's from, tablet, from_ks and from_table from `from`.  strict
 * (rules given through router_builder_add_routing_rule): an unknown
 * tablet type or an empty table name is a problem; a document's rules
 * are Vitess's, which keeps any from_table as a key (one that no lookup
 * asks for is never used).  Returns 0, or -1 out of memory. */
static int parse_from(bstate *s, router__rule *r, const char *from,
                      int strict)
{
	router_builder *b = s->b;
	const char *at = strrchr(from, '@');
	const char *dot;
	size_t flen = at ? (size_t)(at - from) : strlen(from);

	r->from = router__arena_strdup(s->ar, from);
	r->tablet = router__arena_strdup(s->ar, at ? at + 1 : "");
	if (r->from == NULL || r->tablet == NULL)
		return -1;
	if (strcmp(r->tablet, "primary") == 0 ||
	    strcmp(r->tablet, "master") == 0)
		r->tablet = "";
	else if (strict && r->tablet[0] != '\0' &&
	         strcmp(r->tablet, "replica") != 0 &&
	         strcmp(r->tablet, "rdonly") != 0 &&
	         problem(b, ROUTER_EVSCHEMA, from,
	                 "routing rule %s: unknown tablet type %s", from,
	                 r->tablet))
		return -1;
	dot = memchr(from, '.', flen);
	r->from_ks =
	    router__arena_strndup(s->ar, from, dot ? (size_t)(dot - from) : 0);
	r->from_table =
	    dot ? router__arena_strndup(s->ar, dot + 1,
	                                flen - (size_t)(dot + 1 - from))
	        : router__arena_strndup(s->ar, from, flen);
	if (r->from_ks == NULL || r->from_table == NULL)
		return -1;
	if (strict && r->from_table[0] == '\0' &&
	    problem(b, ROUTER_EVSCHEMA, from,
	            "routing rule %s: empty table name", from))
		return -1;
	return 0;
}

/* The rules of router_builder_add_routing_rule: every bad target is a
 * problem.  Returns 0, or -1 out of memory. */
static int build_strict_rules(bstate *s, router__rule *rules)
{
	router_builder *b = s->b;
	router_table *t = s->t;
	size_t i;

	for (i = 0; i < b->nrules; i++) {
		router__rule *r = &rules[i];
		const char *from = b->rules[i].from, *to = b->rules[i].to;
		const char *tdot;
		const router__keyspace *tks;

		if (parse_from(s, r, from, 1))
			return -1;
		r->to = to ? router__arena_strdup(s->ar, to) : NULL;
		if (to == NULL)
			continue;
		if (r->to == NULL)
			return -1;
		tdot = strchr(to, '.');
		if (tdot == NULL) {
			if (problem(b, ROUTER_EVSCHEMA, from,
			            "table %s must be qualified", to))
				return -1;
			continue;
		}
		tks = router__table_keyspace(t, to, (size_t)(tdot - to));
		if (tks == NULL) {
			char kn[ROUTER_CULPRIT_MAX];

			if (problem(b, ROUTER_EREFERENCE, from,
			            "routing rule %s -> %s: keyspace %s not "
			            "found",
			            from, to,
			            router__fmt_name(kn, sizeof kn, to,
			                             (size_t)(tdot - to))))
				return -1;
			continue;
		}
		r->target_ks = tks;
		r->target = router__keyspace_table(tks, tdot + 1,
		                                   strlen(tdot + 1));
		if (r->target == NULL && !tks->sharded)
			r->target = &tks->any;
		if (r->target == NULL &&
		    problem(b, ROUTER_EREFERENCE, from,
		            "routing rule %s -> %s: table %s not found in "
		            "keyspace %s",
		            from, to, tdot + 1, tks->name))
			return -1;
	}
	return 0;
}

/* Go's sqlescape.UnescapeID of (in, n) into out (n + 1 bytes), or -1
 * with its error in msg. */
static int unescape_id(const char *in, size_t n, char *out, char *msg)
{
	size_t i, k = 0;

	if (n == 0 || (n == 2 && in[0] == '`' && in[1] == '`')) {
		snprintf(msg, ROUTER_MESSAGE_MAX,
		         "UnescapeID err: invalid input identifier '%.*s'",
		         (int)n, in);
		return -1;
	}
	if (n == 1) {
		if (in[0] == '`') {
			snprintf(msg, ROUTER_MESSAGE_MAX,
			         "UnescapeID err: invalid input identifier "
			         "'`'");
			return -1;
		}
		out[0] = in[0];
		out[1] = '\0';
		return 0;
	}
	if ((in[0] == '`') != (in[n - 1] == '`')) {
		snprintf(msg, ROUTER_MESSAGE_MAX,
		         "UnescapeID err: unexpected single backtick at "
		         "position %zu in '%.*s'",
		         in[0] == '`' ? (size_t)0 : n, (int)n, in);
		return -1;
	}
	if (in[0] != '`') {
		if (memchr(in, '`', n) != NULL) {
			snprintf(msg, ROUTER_MESSAGE_MAX,
			         "UnescapeID err: no outer backticks found in "
			         "the identifier '%.*s'",
			         (int)n, in);
			return -1;
		}
		memcpy(out, in, n);
		out[n] = '\0';
		return 0;
	}
	in++;
	n -= 2;
	for (i = 0; i < n; i++) {
		out[k++] = in[i];
		if (i + 1 < n && in[i] == '`') {
			if (in[i + 1] != '`') {
				snprintf(msg, ROUTER_MESSAGE_MAX,
				         "UnescapeID err: unexpected single "
				         "backtick at position %zu in '%.*s'",
				         i, (int)n, in);
				return -1;
			}
			i++;
		}
	}
	out[k] = '\0';
	return 0;
}

/* Resolves the one target of document rule r as Vitess's buildRoutingRule
 * does (escapeQualifiedTable, then FindTable), or leaves Vitess's error
 * on the rule.  Returns 0, or -1 out of memory. */
static int resolve_vtgate_target(bstate *s, router__rule *r)
{
	const char *to = r->to, *dot = strchr(to, '.');
	char msg[ROUTER_MESSAGE_MAX];
	size_t n = strlen(to);
	char *ks, *tb;
	const router__keyspace *tks;

	ks = router__arena_alloc(s->ar, n + 1);
	tb = router__arena_alloc(s->ar, n + 1);
	if (ks == NULL || tb == NULL)
		return -1;
	if (dot == NULL || strchr(dot + 1, '.') != NULL) {
		snprintf(msg, sizeof msg,
		         "invalid table name: '%s', it must be of the qualified "
		         "form <keyspace_name>.<table_name> (dots are not "
		         "allowed in either name)",
		         to);
		goto error;
	}
	if (unescape_id(to, (size_t)(dot - to), ks, msg) ||
	    unescape_id(dot + 1, strlen(dot + 1), tb, msg))
		goto error;
	tks = router__table_keyspace(s->t, ks, strlen(ks));
	if (tks == NULL) {
		snprintf(msg, sizeof msg,
		         "VT05003: unknown database '%s' in vschema", ks);
		goto error;
	}
	r->target_ks = tks;
	r->target = router__keyspace_table(tks, tb, strlen(tb));
	if (r->target == NULL && !tks->sharded)
		r->target = &tks->any;
	if (r->target != NULL)
		return 0;
	r->target_ks = NULL;
	snprintf(msg, sizeof msg, "table %s not found", tb);
error:
	r->error_kind = ROUTER__RULE_TARGET;
	r->error = router__arena_strdup(s->ar, msg);
	return r->error == NULL ? -1 : 0;
}

/* The rules of a document (router__builder_add_rule_raw), folded as
 * Vitess's buildRoutingRule folds them into one rule per from_table (see
 * table.h).  *n receives the number of rules.  Returns 0, or -1 out of
 * memory. */
static int build_vtgate_rules(bstate *s, router__rule *rules, size_t *n)
{
	router_builder *b = s->b;
	size_t cap = index_cap(b->nrules), nout = 0, i;
	uint32_t *slot = router__malloc(b->a, cap * sizeof *slot);
	int rc = -1;

	if (slot == NULL)
		return -1;
	memset(slot, 0, cap * sizeof *slot);
	for (i = 0; i < b->nrules; i++) {
		const brule *br = &b->rules[i];
		size_t h = (size_t)router__name_hash(br->from,
		                                     strlen(br->from)) &
		           (cap - 1);
		router__rule *r;
		int seen;

		while (slot[h] != 0 && strcmp(rules[slot[h] - 1].from,
		                              br->from) != 0)
			h = (h + 1) & (cap - 1);
		seen = slot[h] != 0;
		if (!seen) {
			r = &rules[nout];
			if (parse_from(s, r, br->from, 0))
				goto out;
			slot[h] = (uint32_t)++nout;
		}
		r = &rules[slot[h] - 1];
		r->to = NULL;
		r->error = NULL;
		r->error_kind = ROUTER__RULE_OK;
		r->target = NULL;
		r->target_ks = NULL;
		if (br->ntargets > 1) {
			char msg[ROUTER_MESSAGE_MAX];
			size_t m = 0, j;
			char **tv = router__arena_alloc(
			    s->ar, br->ntargets * sizeof *tv);

			if (tv == NULL)
				goto out;
			m = (size_t)snprintf(msg, sizeof msg,
			                     "table %s has more than one "
			                     "target: [",
			                     br->from);
			for (j = 0; j < br->ntargets; j++) {
				tv[j] = router__arena_strdup(s->ar,
				                             br->targets[j]);
				if (tv[j] == NULL)
					goto out;
				if (m < sizeof msg)
					m += (size_t)snprintf(
					    msg + m, sizeof msg - m, "%s%s",
					    j ? " " : "", br->targets[j]);
			}
			if (m < sizeof msg)
				snprintf(msg + m, sizeof msg - m, "]");
			r->targets = (const char *const *)tv;
			r->ntargets = br->ntargets;
			r->error_kind = ROUTER__RULE_MULTI;
			r->error = router__arena_strdup(s->ar, msg);
			if (r->error == NULL)
				goto out;
		} else if (br->ntargets == 1) {
			r->to = router__arena_strdup(s->ar, br->to);
			if (r->to == NULL)
				goto out;
			if (seen) {
				char msg[ROUTER_MESSAGE_MAX];

				snprintf(msg, sizeof msg,
				         "duplicate rule for entry %s",
				         br->from);
				r->error_kind = ROUTER__RULE_DUP;
				r->error = router__arena_strdup(s->ar, msg);
				if (r->error == NULL)
					goto out;
			}
		}
	}
	/* Targets resolve once the keyspaces are all laid out. */
	for (i = 0; i < nout; i++)
		if (rules[i].to != NULL && rules[i].error == NULL &&
		    resolve_vtgate_target(s, &rules[i]))
			goto out;
	*n = nout;
	rc = 0;
out:
	router__free(b->a, slot);
	return rc;
}

static int build_rules(bstate *s)
{
	router_builder *b = s->b;
	router_table *t = s->t;
	router__rule *rules;
	size_t i, n = b->nrules;

	rules = router__arena_alloc(s->ar, (b->nrules ? b->nrules : 1) *
	                                       sizeof *rules);
	if (rules == NULL)
		return -1;
	memset(rules, 0, (b->nrules ? b->nrules : 1) * sizeof *rules);
	if (b->raw_rules ? build_vtgate_rules(s, rules, &n)
	                 : build_strict_rules(s, rules))
		return -1;
	qsort(rules, n, sizeof *rules, rule_cmp);
	t->rules = rules;
	t->nrules = n;
	for (i = 0; i < n; i++)
		if (rules[i].from_ks[0] != '\0' && rules[i].tablet[0] == '\0')
			t->nprimary_rules = i + 1;
	return 0;
}

/* A keyspace or shard routing rule as given, with its position. */
typedef struct given_rule {
	const char *k1, *k2; /* from (keyspace rules: k2 ""), or ks and shard */
	const char *to;
	size_t idx;
} given_rule;

/* By key, then by position: the last of a run of equal keys wins. */
static int given_cmp(const void *x, const void *y)
{
	const given_rule *a = x, *b = y;
	int c = strcmp(a->k1, b->k1);

	if (c == 0)
		c = strcmp(a->k2, b->k2);
	if (c == 0)
		c = a->idx < b->idx ? -1 : a->idx > b->idx;
	return c;
}

/* Sorts g[0..n) and keeps the last rule of each key at the front;
 * returns how many are kept. */
static size_t last_of_each(given_rule *g, size_t n)
{
	size_t i, m = 0;

	qsort(g, n, sizeof *g, given_cmp);
	for (i = 0; i < n; i++) {
		if (i + 1 < n && strcmp(g[i].k1, g[i + 1].k1) == 0 &&
		    strcmp(g[i].k2, g[i + 1].k2) == 0)
			continue;
		g[m++] = g[i];
	}
	return m;
}

/* Keyspace and shard routing rules, sorted, one per key: the last given
 * wins (Vitess builds a Go map from them). */
static int build_ks_shard_rules(bstate *s)
{
	router_builder *b = s->b;
	router_table *t = s->t;
	size_t n = b->nksrules > b->nshrules ? b->nksrules : b->nshrules;
	given_rule *g = router__malloc(b->a, (n ? n : 1) * sizeof *g);
	router__ksrule *kr;
	router__shrule *sr;
	size_t i, m;

	kr = router__arena_alloc(s->ar, (b->nksrules ? b->nksrules : 1) *
	                                    sizeof *kr);
	sr = router__arena_alloc(s->ar, (b->nshrules ? b->nshrules : 1) *
	                                    sizeof *sr);
	if (g == NULL || kr == NULL || sr == NULL)
		goto oom;
	for (i = 0; i < b->nksrules; i++)
		g[i] = (given_rule){b->ksrules[2 * i], "",
		                    b->ksrules[2 * i + 1], i};
	m = last_of_each(g, b->nksrules);
	for (i = 0; i < m; i++) {
		kr[i].from = router__arena_strdup(s->ar, g[i].k1);
		kr[i].to = router__arena_strdup(s->ar, g[i].to);
		if (kr[i].from == NULL || kr[i].to == NULL)
			goto oom;
		kr[i].from_len = strlen(kr[i].from);
		kr[i].to_len = strlen(kr[i].to);
		kr[i].plain = strchr(kr[i].from, '@') == NULL;
	}
	t->ksrules = kr;
	t->nksrules = m;
	for (i = 0; i < b->nshrules; i++)
		g[i] = (given_rule){b->shrules[3 * i], b->shrules[3 * i + 1],
		                    b->shrules[3 * i + 2], i};
	m = last_of_each(g, b->nshrules);
	for (i = 0; i < m; i++) {
		sr[i].from_ks = router__arena_strdup(s->ar, g[i].k1);
		sr[i].shard = router__arena_strdup(s->ar, g[i].k2);
		sr[i].to_ks = router__arena_strdup(s->ar, g[i].to);
		if (sr[i].from_ks == NULL || sr[i].shard == NULL ||
		    sr[i].to_ks == NULL)
			goto oom;
	}
	t->shrules = sr;
	t->nshrules = m;
	router__free(b->a, g);
	return 0;
oom:
	router__free(b->a, g);
	return -1;
}

/* A keyspace the table serves, or one vtgate keeps in error (what a
 * lookup of it answers: router__keyspace_missing). */
static int keyspace_known(const router_table *t, const char *ks)
{
	size_t n = strlen(ks);

	return router__table_keyspace(t, ks, n) != NULL ||
	       router__keyspace_missing(t, ks, n, NULL) == ROUTER_EKEYSPACE;
}

/* Every keyspace routing rule that applies (a plain one: the table routes
 * as PRIMARY) must send queries to a keyspace of the table
 * (ROUTER_ENOTFOUND, naming the rule): stricter than Vitess, which keeps
 * such a rule and fails every query it sends to the missing keyspace
 * (docs/spec.md section 4).  The keyspace a rule comes from may be absent
 * (a multi-tenant import routes a keyspace of another cluster).  Shard
 * routing rules are not checked: vtgate follows them only when started
 * with --enable-partial-keyspace-migration (ROUTER_TARGET_SHARD_ROUTING
 * here), and a stale one must not refuse a table a default vtgate
 * serves.  Returns 0, or -1 out of memory. */
static int check_ks_rules(bstate *s)
{
	const router_table *t = s->t;
	size_t i;

	for (i = 0; i < t->nksrules; i++) {
		const router__ksrule *r = &t->ksrules[i];

		if (r->plain && !keyspace_known(t, r->to) &&
		    problem(s->b, ROUTER_ENOTFOUND, r->from,
		            "keyspace routing rule %s -> %s: keyspace %s not "
		            "found",
		            r->from, r->to, r->to))
			return -1;
	}
	return 0;
}

int router_table_build(router_builder *b, router_table **out,
                       router_error *err)
{
	bstate s;
	router_table *t;
	router__keyspace *kss;
	uint32_t *kindex;
	router__sortref *ord = NULL;
	size_t i;

	if (out != NULL)
		*out = NULL;
	if (b == NULL || out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_table_build: NULL argument");
	b->nproblems = 0;
	b->problems_nomem = 0;
	memset(&s, 0, sizeof s);
	s.b = b;
	s.ar = router__arena_new(b->a);
	if (s.ar == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL,
	                      "out of memory");
	t = router__arena_alloc(s.ar, sizeof *t);
	if (t == NULL)
		goto oom;
	s.t = t;
	t->alloc = router__arena_allocator(s.ar);
	t->arena = s.ar;
	t->version = b->version;
	ord = router__sorted(b->a, b->ks, b->nks, sizeof *b->ks);
	kss = router__arena_alloc(s.ar, (b->nks ? b->nks : 1) * sizeof *kss);
	t->kmask = index_cap(b->nks) - 1;
	kindex = router__arena_alloc(s.ar, (t->kmask + 1) * sizeof *kindex);
	if (ord == NULL || kss == NULL || kindex == NULL)
		goto oom;
	t->keyspaces = kss;
	t->kindex = kindex;
	for (i = 0; i < b->nks; i++) {
		uint32_t h;

		/* Counted before it is built: if building it fails half-way,
		 * router__table_destroy must still finalize the vindexes it
		 * compiled (kss is zeroed, so the rest reads as empty). */
		t->nkeyspaces = i + 1;
		if (build_keyspace(&s, &b->ks[ord[i].idx], &kss[i]))
			goto oom;
		h = (uint32_t)router__name_hash(kss[i].name, kss[i].name_len) &
		    t->kmask;
		while (kindex[h] != 0)
			h = (h + 1) & t->kmask;
		kindex[h] = (uint32_t)i + 1;
	}
	router__free(b->a, ord);
	ord = NULL;
	if (b->nkserr > 0) {
		const char **kserr = router__arena_alloc(
		    s.ar, 2 * b->nkserr * sizeof *kserr);

		if (kserr == NULL)
			goto oom;
		for (i = 0; i < 2 * b->nkserr; i++)
			if ((kserr[i] = router__arena_strdup(s.ar,
			                                     b->kserr[i])) == NULL)
				goto oom;
		t->kserr = kserr;
		t->nkserr = b->nkserr;
	}
	if (build_rules(&s) || build_ks_shard_rules(&s) ||
	    check_ks_rules(&s))
		goto oom;
	if (b->problems_nomem)
		goto oom;
	if (b->nproblems > 0) {
		router__table_destroy(t);
		if (err != NULL)
			*err = b->problems[0];
		if (b->nproblems > 1 && err != NULL) {
			size_t n = strlen(err->message);

			snprintf(err->message + n, sizeof err->message - n,
			         " (and %zu more problem%s)", b->nproblems - 1,
			         b->nproblems > 2 ? "s" : "");
		}
		return b->problems[0].code;
	}
	t->hash = router__table_content_hash(t);
	*out = t;
	router__clearerr(err);
	return ROUTER_OK;
oom:
	router__free(b->a, ord);
	if (s.t != NULL)
		router__table_destroy(s.t);
	else
		router__arena_free(s.ar);
	b->nproblems = 0;
	return router__seterr(err, ROUTER_ENOMEM, NULL,
	                      "out of memory");
}

void router__table_destroy(router_table *t)
{
	size_t i, j;

	if (t == NULL)
		return;
	for (i = 0; i < t->nkeyspaces; i++) {
		const router__keyspace *ks = &t->keyspaces[i];

		for (j = 0; j < ks->nvindexes; j++)
			router__vindex_fini(
			    (router__vindex *)(uintptr_t)&ks->vindexes[j].v,
			    t->alloc);
	}
	if (t->slots != NULL)
		router__free(t->slots->alloc, t->slots);
	router__arena_free(t->arena);
}

void router_table_free(router_table *t)
{
	/* A published table belongs to its router, which frees it. */
	if (t == NULL || t->owner != NULL)
		return;
	router__table_destroy(t);
}

uint64_t router_table_version(const router_table *t)
{
	return t ? t->version : 0;
}

uint64_t router_table_hash(const router_table *t)
{
	return t ? t->hash : 0;
}

