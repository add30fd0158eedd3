/*
 * Building, validating, hashing, diffing and routing on immutable tables.
 *
 * A builder records definitions as given (checking only what is local to
 * each); router_table_build then validates everything relational the way
 * Vitess builds a VSchema (SPEC 3.5), collecting every problem, and lays the
 * table out in one arena:
 * - keyspaces sorted by name with an open-addressing index on XXH3 of the
 *   name; per keyspace, tables likewise, vindexes sorted by name;
 * - shards in partition order, plus (when every shard start has at most 8
 *   significant bytes, i.e. always for Vitess's generated ranges) a flat
 *   array of 64-bit starts searched without branches;
 * - each table's routing decided once: through its primary vindex, to a
 *   fixed shard (unsharded keyspace, pinned table), or "every shard"
 *   (reference table of a sharded keyspace).
 * Nothing in a built table is written again, except the fields the router
 * sets before the table becomes visible (see table.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "table.h"

/* ------------------------------------------------------------------------ */
/* Arena                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct router__arena {
	router_allocator a; /* a copy: outlives the builder it came from */
	struct chunk *head;
} router__arena;

struct chunk {
	struct chunk *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

static router__arena *arena_new(const router_allocator *a)
{
	router__arena *ar = router__malloc(a, sizeof *ar);

	if (ar != NULL) {
		ar->a = *a;
		ar->head = NULL;
	}
	return ar;
}

static void arena_free(router__arena *ar)
{
	struct chunk *c, *next;
	router_allocator a;

	if (ar == NULL)
		return;
	a = ar->a;
	for (c = ar->head; c != NULL; c = next) {
		next = c->next;
		router__free(&a, c);
	}
	router__free(&a, ar);
}

/* Zeroed, 16-byte aligned memory living as long as the arena. */
static void *arena_alloc(router__arena *ar, size_t n)
{
	struct chunk *c = ar->head;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > 16384 ? n : 16384;

		c = router__malloc(&ar->a, sizeof *c + cap);
		if (c == NULL)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = ar->head;
		ar->head = c;
	}
	p = c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

static char *arena_strndup(router__arena *ar, const char *s, size_t n)
{
	char *p = arena_alloc(ar, n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static char *arena_strdup(router__arena *ar, const char *s)
{
	return arena_strndup(ar, s, strlen(s));
}

/* ------------------------------------------------------------------------ */
/* Builder                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct bcv {
	char *vindex;
	char **columns;
	size_t ncolumns;
} bcv;

typedef struct btable {
	char *name;
	router_table_type type;
	char *pinned;
	bcv *cvs;
	size_t ncvs, cap;
} btable;

typedef struct bvindex {
	char *name, *type, *owner;
	router_param *params;
	size_t nparams;
} bvindex;

typedef struct bshard {
	char *name;
	router_keyrange kr;
} bshard;

typedef struct bks {
	char *name;
	int sharded;
	bshard *shards;
	size_t nshards, cshards;
	bvindex *vindexes;
	size_t nvindexes, cvindexes;
	btable *tables;
	size_t ntables, ctables;
} bks;

typedef struct brule {
	char *from, *to;
} brule;

/* Builder name index: (kind, keyspace, name) -> position. */
enum { BK_KEYSPACE = 1, BK_TABLE, BK_VINDEX, BK_SHARD, BK_RULE };

typedef struct bslot {
	uint64_t h;
	uint32_t kind_ks; /* kind << 24 | keyspace index; 0 = empty */
	uint32_t idx;
} bslot;

struct router_builder {
	const router_allocator *a;
	uint64_t version;
	bks *ks;
	size_t nks, cks;
	brule *rules;
	size_t nrules, crules;
	bslot *map;
	size_t mapcap, mapn;
	router_error *problems;
	size_t nproblems, cproblems;
	int problems_nomem;
};

static int grow(const router_allocator *a, void **p, size_t *cap, size_t need,
                size_t elsz)
{
	size_t n;
	void *q;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap * 2 : 4;
	while (n < need)
		n *= 2;
	q = router__realloc(a, *p, n * elsz);
	if (q == NULL)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

static const char *bname(const router_builder *b, uint32_t kind_ks,
                         uint32_t idx)
{
	uint32_t kind = kind_ks >> 24, k = kind_ks & 0xffffff;

	switch (kind) {
	case BK_KEYSPACE:
		return b->ks[idx].name;
	case BK_TABLE:
		return b->ks[k].tables[idx].name;
	case BK_VINDEX:
		return b->ks[k].vindexes[idx].name;
	case BK_SHARD:
		return b->ks[k].shards[idx].name;
	default:
		return b->rules[idx].from;
	}
}

static uint64_t bhash(uint32_t kind_ks, const char *name)
{
	return XXH3_64bits_withSeed(name, strlen(name), kind_ks);
}

/* Position of name, or -1. */
static long bfind(const router_builder *b, uint32_t kind, size_t ks,
                  const char *name)
{
	uint32_t kk = kind << 24 | (uint32_t)ks;
	uint64_t h;
	size_t i;

	if (b->mapcap == 0)
		return -1;
	h = bhash(kk, name);
	for (i = h & (b->mapcap - 1);; i = (i + 1) & (b->mapcap - 1)) {
		const bslot *s = &b->map[i];

		if (s->kind_ks == 0)
			return -1;
		if (s->h == h && s->kind_ks == kk &&
		    strcmp(bname(b, kk, s->idx), name) == 0)
			return (long)s->idx;
	}
}

static int bmap_insert(router_builder *b, uint32_t kind, size_t ks,
                       const char *name, size_t idx)
{
	uint32_t kk = kind << 24 | (uint32_t)ks;
	size_t i;

	if ((b->mapn + 1) * 2 > b->mapcap) {
		size_t ncap = b->mapcap ? b->mapcap * 2 : 64, j;
		bslot *nm = router__malloc(b->a, ncap * sizeof *nm);

		if (nm == NULL)
			return -1;
		memset(nm, 0, ncap * sizeof *nm);
		for (j = 0; j < b->mapcap; j++) {
			const bslot *s = &b->map[j];

			if (s->kind_ks == 0)
				continue;
			for (i = s->h & (ncap - 1); nm[i].kind_ks != 0;
			     i = (i + 1) & (ncap - 1))
				;
			nm[i] = *s;
		}
		router__free(b->a, b->map);
		b->map = nm;
		b->mapcap = ncap;
	}
	{
		uint64_t h = bhash(kk, name);

		for (i = h & (b->mapcap - 1); b->map[i].kind_ks != 0;
		     i = (i + 1) & (b->mapcap - 1))
			;
		b->map[i].h = h;
		b->map[i].kind_ks = kk;
		b->map[i].idx = (uint32_t)idx;
		b->mapn++;
	}
	return 0;
}

int router_builder_create(router_builder **out, const router_allocator *alloc,
                          router_error *err)
{
	const router_allocator *a;
	router_builder *b;

	if (out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_builder_create: out is NULL");
	*out = NULL;
	if (alloc != NULL && (alloc->malloc == NULL || alloc->realloc == NULL ||
	                      alloc->free == NULL))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "allocator must set malloc, realloc and "
		                      "free");
	a = router__allocator(alloc);
	b = router__malloc(a, sizeof *b);
	if (b == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL,
		                      "out of memory creating a builder");
	memset(b, 0, sizeof *b);
	if (alloc != NULL) {
		/* Keep a copy: the caller's struct may be on its stack. */
		router_allocator *copy = router__malloc(a, sizeof *copy);

		if (copy == NULL) {
			router__free(a, b);
			return router__seterr(err, ROUTER_ENOMEM, NULL,
			                      "out of memory creating a "
			                      "builder");
		}
		*copy = *alloc;
		b->a = copy;
	} else {
		b->a = a;
	}
	*out = b;
	router__clearerr(err);
	return ROUTER_OK;
}

static void free_strv(const router_allocator *a, char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		router__free(a, v[i]);
	router__free(a, v);
}

void router_builder_free(router_builder *b)
{
	const router_allocator *a;
	size_t i, j, k;

	if (b == NULL)
		return;
	a = b->a;
	for (i = 0; i < b->nks; i++) {
		bks *ks = &b->ks[i];

		for (j = 0; j < ks->nshards; j++)
			router__free(a, ks->shards[j].name);
		router__free(a, ks->shards);
		for (j = 0; j < ks->nvindexes; j++) {
			bvindex *v = &ks->vindexes[j];

			router__free(a, v->name);
			router__free(a, v->type);
			router__free(a, v->owner);
			for (k = 0; k < v->nparams; k++) {
				router__free(a, (void *)(uintptr_t)v->params[k].key);
				router__free(a, (void *)(uintptr_t)v->params[k].value);
			}
			router__free(a, v->params);
		}
		router__free(a, ks->vindexes);
		for (j = 0; j < ks->ntables; j++) {
			btable *t = &ks->tables[j];

			router__free(a, t->name);
			router__free(a, t->pinned);
			for (k = 0; k < t->ncvs; k++) {
				router__free(a, t->cvs[k].vindex);
				free_strv(a, t->cvs[k].columns,
				          t->cvs[k].ncolumns);
			}
			router__free(a, t->cvs);
		}
		router__free(a, ks->tables);
		router__free(a, ks->name);
	}
	router__free(a, b->ks);
	for (i = 0; i < b->nrules; i++) {
		router__free(a, b->rules[i].from);
		router__free(a, b->rules[i].to);
	}
	router__free(a, b->rules);
	router__free(a, b->map);
	router__free(a, b->problems);
	if (a != &router__default_allocator) {
		router_allocator copy = *a;

		router__free(&copy, b);
		router__free(&copy, (void *)(uintptr_t)a);
	} else {
		router__free(a, b);
	}
}

int router_builder_set_version(router_builder *b, uint64_t version)
{
	if (b == NULL)
		return ROUTER_EINVAL;
	b->version = version;
	return ROUTER_OK;
}

static int check_name(const char *what, const char *name, router_error *err)
{
	size_t n;

	if (name == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL, "%s is NULL",
		                      what);
	n = strlen(name);
	if (n == 0)
		return router__seterr(err, ROUTER_EINVAL, NULL, "%s is empty",
		                      what);
	if (n > ROUTER_NAME_MAX) {
		/* Its first characters, cut whole (fmt_name adds "..."): a
		 * cut at byte 40 could split a UTF-8 character. */
		char shown[48];

		return router__seterr(err, ROUTER_ERANGE, NULL,
		                      "%s \"%s\" is %zu bytes; the limit is %d",
		                      what,
		                      router__fmt_name(shown, sizeof shown, name,
		                                       n),
		                      n, ROUTER_NAME_MAX);
	}
	return ROUTER_OK;
}

static int nomem(router_error *err, const char *culprit)
{
	return router__seterr(err, ROUTER_ENOMEM, culprit, "out of memory");
}

/* The keyspace called name, or an error. */
static int find_ks(router_builder *b, const char *name, bks **out,
                   size_t *idx, router_error *err)
{
	long i;
	int rc;

	if (b == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "builder is NULL");
	if ((rc = check_name("keyspace name", name, err)) != ROUTER_OK)
		return rc;
	i = bfind(b, BK_KEYSPACE, 0, name);
	if (i < 0)
		return router__seterr(err, ROUTER_EINVAL, name,
		                      "keyspace %s is not defined in this "
		                      "builder (add it first)",
		                      name);
	*out = &b->ks[i];
	if (idx != NULL)
		*idx = (size_t)i;
	return ROUTER_OK;
}

int router_builder_add_keyspace(router_builder *b, const char *keyspace,
                                int sharded, router_error *err)
{
	bks *ks;
	int rc;

	if (b == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "builder is NULL");
	if ((rc = check_name("keyspace name", keyspace, err)) != ROUTER_OK)
		return rc;
	if (sharded != 0 && sharded != 1)
		return router__seterr(err, ROUTER_EINVAL, keyspace,
		                      "sharded must be 0 or 1, not %d",
		                      sharded);
	if (bfind(b, BK_KEYSPACE, 0, keyspace) >= 0)
		return router__seterr(err, ROUTER_EINVAL, keyspace,
		                      "keyspace %s is already defined",
		                      keyspace);
	if (b->nks >= 0xffffff)
		return router__seterr(err, ROUTER_ERANGE, keyspace,
		                      "too many keyspaces");
	if (grow(b->a, (void **)&b->ks, &b->cks, b->nks + 1, sizeof *b->ks))
		return nomem(err, keyspace);
	ks = &b->ks[b->nks];
	memset(ks, 0, sizeof *ks);
	ks->name = router__strndup(b->a, keyspace, strlen(keyspace));
	if (ks->name == NULL)
		return nomem(err, keyspace);
	ks->sharded = sharded;
	if (bmap_insert(b, BK_KEYSPACE, 0, keyspace, b->nks)) {
		router__free(b->a, ks->name);
		return nomem(err, keyspace);
	}
	b->nks++;
	router__clearerr(err);
	return ROUTER_OK;
}

int router_builder_add_shard(router_builder *b, const char *keyspace,
                             const char *shard, router_error *err)
{
	char culprit[ROUTER_CULPRIT_MAX];
	router_keyrange kr;
	bks *ks;
	size_t ki;
	int rc;

	if ((rc = find_ks(b, keyspace, &ks, &ki, err)) != ROUTER_OK)
		return rc;
	if ((rc = check_name("shard name", shard, err)) != ROUTER_OK)
		return rc;
	snprintf(culprit, sizeof culprit, "%s/%s", keyspace, shard);
	if ((rc = router_keyrange_parse(shard, strlen(shard), &kr, err)) !=
	    ROUTER_OK) {
		if (err != NULL)
			snprintf(err->culprit, sizeof err->culprit, "%s",
			         culprit);
		return rc;
	}
	if (bfind(b, BK_SHARD, ki, shard) >= 0)
		return router__seterr(err, ROUTER_EINVAL, culprit,
		                      "shard %s is already defined in keyspace "
		                      "%s",
		                      shard, keyspace);
	if (grow(b->a, (void **)&ks->shards, &ks->cshards, ks->nshards + 1,
	         sizeof *ks->shards))
		return nomem(err, culprit);
	ks->shards[ks->nshards].name =
	    router__strndup(b->a, shard, strlen(shard));
	if (ks->shards[ks->nshards].name == NULL)
		return nomem(err, culprit);
	ks->shards[ks->nshards].kr = kr;
	if (bmap_insert(b, BK_SHARD, ki, shard, ks->nshards)) {
		router__free(b->a, ks->shards[ks->nshards].name);
		return nomem(err, culprit);
	}
	ks->nshards++;
	router__clearerr(err);
	return ROUTER_OK;
}

static int param_cmp(const void *x, const void *y)
{
	const router_param *a = x, *b = y;

	return strcmp(a->key, b->key);
}

int router_builder_add_vindex(router_builder *b, const char *keyspace,
                              const char *name, const char *type,
                              const router_param *params, size_t nparams,
                              const char *owner, router_error *err)
{
	char culprit[ROUTER_CULPRIT_MAX];
	bvindex v;
	bks *ks;
	size_t ki, i;
	int rc;

	if ((rc = find_ks(b, keyspace, &ks, &ki, err)) != ROUTER_OK)
		return rc;
	if ((rc = check_name("vindex name", name, err)) != ROUTER_OK)
		return rc;
	snprintf(culprit, sizeof culprit, "%s.%s", keyspace, name);
	if ((rc = check_name("vindex type", type, err)) != ROUTER_OK) {
		if (err != NULL)
			snprintf(err->culprit, sizeof err->culprit, "%s",
			         culprit);
		return rc;
	}
	if (params == NULL && nparams != 0)
		return router__seterr(err, ROUTER_EINVAL, culprit,
		                      "params is NULL but nparams is %zu",
		                      nparams);
	for (i = 0; i < nparams; i++) {
		size_t j;

		if (params[i].key == NULL || params[i].value == NULL)
			return router__seterr(err, ROUTER_EINVAL, culprit,
			                      "param %zu has a NULL key or value",
			                      i);
		for (j = 0; j < i; j++)
			if (strcmp(params[i].key, params[j].key) == 0)
				return router__seterr(
				    err, ROUTER_EINVAL, culprit,
				    "param %s is given twice", params[i].key);
	}
	if (owner != NULL && strlen(owner) > ROUTER_NAME_MAX)
		return router__seterr(err, ROUTER_ERANGE, culprit,
		                      "owner name is longer than %d bytes",
		                      ROUTER_NAME_MAX);
	if (bfind(b, BK_VINDEX, ki, name) >= 0)
		return router__seterr(err, ROUTER_EINVAL, culprit,
		                      "vindex %s is already defined in keyspace "
		                      "%s",
		                      name, keyspace);
	if (grow(b->a, (void **)&ks->vindexes, &ks->cvindexes,
	         ks->nvindexes + 1, sizeof *ks->vindexes))
		return nomem(err, culprit);
	memset(&v, 0, sizeof v);
	v.name = router__strndup(b->a, name, strlen(name));
	v.type = router__strndup(b->a, type, strlen(type));
	v.owner = router__strndup(b->a, owner ? owner : "",
	                          owner ? strlen(owner) : 0);
	v.params = router__malloc(b->a, (nparams ? nparams : 1) *
	                                    sizeof *v.params);
	if (v.name == NULL || v.type == NULL || v.owner == NULL ||
	    v.params == NULL)
		goto fail;
	for (i = 0; i < nparams; i++) {
		v.params[i].key = router__strndup(b->a, params[i].key,
		                                  strlen(params[i].key));
		v.params[i].value = router__strndup(b->a, params[i].value,
		                                    strlen(params[i].value));
		v.nparams = i + 1;
		if (v.params[i].key == NULL || v.params[i].value == NULL)
			goto fail;
	}
	qsort(v.params, v.nparams, sizeof *v.params, param_cmp);
	if (bmap_insert(b, BK_VINDEX, ki, name, ks->nvindexes) == 0) {
		ks->vindexes[ks->nvindexes++] = v;
		router__clearerr(err);
		return ROUTER_OK;
	}
fail:
	router__free(b->a, v.name);
	router__free(b->a, v.type);
	router__free(b->a, v.owner);
	for (i = 0; i < v.nparams; i++) {
		router__free(b->a, (void *)(uintptr_t)v.params[i].key);
		router__free(b->a, (void *)(uintptr_t)v.params[i].value);
	}
	router__free(b->a, v.params);
	return nomem(err, culprit);
}

int router_builder_add_table(router_builder *b, const char *keyspace,
                             const char *table, router_table_type type,
                             const char *pinned, router_error *err)
{
	char culprit[ROUTER_CULPRIT_MAX];
	btable *t;
	bks *ks;
	size_t ki;
	int rc;

	if ((rc = find_ks(b, keyspace, &ks, &ki, err)) != ROUTER_OK)
		return rc;
	if ((rc = check_name("table name", table, err)) != ROUTER_OK)
		return rc;
	snprintf(culprit, sizeof culprit, "%s.%s", keyspace, table);
	if (type != ROUTER_TABLE_NORMAL && type != ROUTER_TABLE_REFERENCE &&
	    type != ROUTER_TABLE_SEQUENCE)
		return router__seterr(err, ROUTER_EINVAL, culprit,
		                      "unidentified table type %d", (int)type);
	if (pinned != NULL && strlen(pinned) > 2 * ROUTER_KSID_MAX)
		return router__seterr(err, ROUTER_ERANGE, culprit,
		                      "pinned keyspace ID is longer than %d "
		                      "bytes",
		                      ROUTER_KSID_MAX);
	if (bfind(b, BK_TABLE, ki, table) >= 0)
		return router__seterr(err, ROUTER_EINVAL, culprit,
		                      "table %s is already defined in keyspace "
		                      "%s",
		                      table, keyspace);
	if (grow(b->a, (void **)&ks->tables, &ks->ctables, ks->ntables + 1,
	         sizeof *ks->tables))
		return nomem(err, culprit);
	t = &ks->tables[ks->ntables];
	memset(t, 0, sizeof *t);
	t->type = type;
	t->name = router__strndup(b->a, table, strlen(table));
	if (pinned != NULL && pinned[0] != '\0')
		t->pinned = router__strndup(b->a, pinned, strlen(pinned));
	if (t->name == NULL || (pinned != NULL && pinned[0] != '\0' &&
	                        t->pinned == NULL) ||
	    bmap_insert(b, BK_TABLE, ki, table, ks->ntables)) {
		router__free(b->a, t->name);
		router__free(b->a, t->pinned);
		return nomem(err, culprit);
	}
	ks->ntables++;
	router__clearerr(err);
	return ROUTER_OK;
}

int router_builder_add_column_vindex(router_builder *b, const char *keyspace,
                                     const char *table, const char *vindex,
                                     const char *const *columns,
                                     size_t ncolumns, router_error *err)
{
	char culprit[ROUTER_CULPRIT_MAX];
	btable *t;
	bks *ks;
	bcv cv;
	size_t ki, i;
	long ti;
	int rc;

	if ((rc = find_ks(b, keyspace, &ks, &ki, err)) != ROUTER_OK)
		return rc;
	if ((rc = check_name("table name", table, err)) != ROUTER_OK)
		return rc;
	snprintf(culprit, sizeof culprit, "%s.%s", keyspace, table);
	ti = bfind(b, BK_TABLE, ki, table);
	if (ti < 0)
		return router__seterr(err, ROUTER_EINVAL, culprit,
		                      "table %s is not defined in keyspace %s "
		                      "(add it first)",
		                      table, keyspace);
	t = &ks->tables[ti];
	if ((rc = check_name("column vindex name", vindex, err)) != ROUTER_OK)
		goto named;
	if (columns == NULL || ncolumns == 0) {
		rc = router__seterr(err, ROUTER_EINVAL, culprit,
		                    "must specify at least one column for "
		                    "vindex (%s) and table (%s)",
		                    vindex, table);
		goto named;
	}
	if (ncolumns > ROUTER_MULTICOL_MAX) {
		rc = router__seterr(err, ROUTER_ERANGE, culprit,
		                    "vindex %s of table %s has %zu columns; the "
		                    "limit is %d",
		                    vindex, table, ncolumns,
		                    ROUTER_MULTICOL_MAX);
		goto named;
	}
	for (i = 0; i < ncolumns; i++)
		if ((rc = check_name("column name", columns[i], err)) !=
		    ROUTER_OK)
			goto named;
	if (grow(b->a, (void **)&t->cvs, &t->cap, t->ncvs + 1, sizeof *t->cvs))
		return nomem(err, culprit);
	memset(&cv, 0, sizeof cv);
	cv.vindex = router__strndup(b->a, vindex, strlen(vindex));
	cv.columns = router__malloc(b->a, ncolumns * sizeof *cv.columns);
	if (cv.vindex == NULL || cv.columns == NULL)
		goto fail;
	for (i = 0; i < ncolumns; i++) {
		cv.columns[i] =
		    router__strndup(b->a, columns[i], strlen(columns[i]));
		cv.ncolumns = i + 1;
		if (cv.columns[i] == NULL)
			goto fail;
	}
	t->cvs[t->ncvs++] = cv;
	router__clearerr(err);
	return ROUTER_OK;
fail:
	router__free(b->a, cv.vindex);
	if (cv.columns != NULL)
		free_strv(b->a, cv.columns, cv.ncolumns);
	return nomem(err, culprit);
named:
	if (err != NULL && err->culprit[0] == '\0')
		snprintf(err->culprit, sizeof err->culprit, "%s", culprit);
	return rc;
}

int router_builder_add_routing_rule(router_builder *b, const char *from_table,
                                    const char *to_table, router_error *err)
{
	brule r;
	int rc;

	if (b == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "builder is NULL");
	if (from_table == NULL || from_table[0] == '\0')
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "routing rule: from_table is empty");
	if (strlen(from_table) > 2 * ROUTER_NAME_MAX + 16)
		return router__seterr(err, ROUTER_ERANGE, from_table,
		                      "routing rule: from_table is too long");
	if (to_table != NULL &&
	    (rc = check_name("routing rule target", to_table, err)) !=
	        ROUTER_OK) {
		if (err != NULL)
			snprintf(err->culprit, sizeof err->culprit, "%s",
			         from_table);
		return rc;
	}
	if (bfind(b, BK_RULE, 0, from_table) >= 0)
		return router__seterr(err, ROUTER_EINVAL, from_table,
		                      "duplicate rule for entry %s", from_table);
	if (grow(b->a, (void **)&b->rules, &b->crules, b->nrules + 1,
	         sizeof *b->rules))
		return nomem(err, from_table);
	r.from = router__strndup(b->a, from_table, strlen(from_table));
	r.to = to_table ? router__strndup(b->a, to_table, strlen(to_table))
	                : NULL;
	if (r.from == NULL || (to_table != NULL && r.to == NULL) ||
	    bmap_insert(b, BK_RULE, 0, from_table, b->nrules)) {
		router__free(b->a, r.from);
		router__free(b->a, r.to);
		return nomem(err, from_table);
	}
	b->rules[b->nrules++] = r;
	router__clearerr(err);
	return ROUTER_OK;
}

size_t router_builder_problem_count(const router_builder *b)
{
	return b ? b->nproblems : 0;
}

int router_builder_problem(const router_builder *b, size_t i,
                           router_error *out)
{
	if (b == NULL || out == NULL || i >= b->nproblems)
		return ROUTER_ENOTFOUND;
	*out = b->problems[i];
	return ROUTER_OK;
}

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

	if (grow(b->a, (void **)&b->problems, &b->cproblems, b->nproblems + 1,
	         sizeof *b->problems)) {
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
	if (grow(b->a, (void **)&b->problems, &b->cproblems, b->nproblems + 1,
	         sizeof *b->problems)) {
		b->problems_nomem = 1;
		return -1;
	}
	b->problems[b->nproblems++] = *e;
	return 0;
}

uint64_t router__name_hash(const char *s, size_t n)
{
	return XXH3_64bits(s, n);
}

static uint32_t index_cap(size_t n)
{
	uint32_t c = 8;

	while (c < 2 * n)
		c *= 2;
	return c;
}

typedef struct sortref {
	const char *name;
	size_t idx;
} sortref;

static int sortref_cmp(const void *x, const void *y)
{
	return strcmp(((const sortref *)x)->name, ((const sortref *)y)->name);
}

/* Sorted order of n names: the char * at offset `off` of each of n
 * elements `stride` bytes apart from base. */
#define sorted(a, base, n, stride) sorted_at(a, base, n, stride, 0)
static sortref *sorted_at(const router_allocator *a, const void *base,
                          size_t n, size_t stride, size_t off)
{
	sortref *r = router__malloc(a, (n ? n : 1) * sizeof *r);
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

static uint64_t be64_padded(const uint8_t *k, size_t len)
{
	uint64_t v = 0;
	size_t i;

	if (len >= 8) {
		memcpy(&v, k, 8);
		return __builtin_bswap64(v);
	}
	for (i = 0; i < 8; i++)
		v = v << 8 | (i < len ? k[i] : 0);
	return v;
}

/* Long bounds (a shard start with more than 8 significant bytes): the
 * last shard whose start <= ksid, by byte comparison.  Out of line so that
 * the fast path below needs no callee-saved registers. */
__attribute__((noinline)) static uint32_t
shard_search_long(const router__keyspace *ks, const uint8_t *ksid, size_t len)
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
	if (ROUTER__LIKELY(ks->bounds != NULL)) {
		/* Count the bounds <= k without branches on the data: each
		 * step keeps the half that still holds the answer.  The step
		 * is computed with a mask, not a conditional: GCC turned the
		 * conditional form into a branch that random keys mispredict
		 * half the time (~6 ns a level here). */
		const uint64_t k = be64_padded(ksid, len);
		const uint64_t *p = ks->bounds;
		size_t n = ks->nshards - 1;

		while (n > 1) {
			size_t half = n / 2;
			size_t take = (size_t)0 - (size_t)(p[half - 1] <= k);

			p += half & take;
			n -= half;
		}
		return (uint32_t)(p - ks->bounds) + (n == 1 && p[0] <= k);
	}
	return shard_search_long(ks, ksid, len);
}

/* State of one build. */
typedef struct bstate {
	router_builder *b;
	router__arena *ar;
	router_table *t;
} bstate;

static int build_shards(bstate *s, const bks *bk, router__keyspace *ks)
{
	router_builder *b = s->b;
	router__shard *sh;
	size_t n = bk->nshards, i, nlong = 0;
	size_t *order = NULL;

	if (n == 0 && !bk->sharded) {
		sh = arena_alloc(s->ar, sizeof *sh);
		if (sh == NULL)
			return -1;
		sh->name = "0";
		sh->name_len = 1;
		sh->iname = sh->name;
		sh->id = ROUTER_NO_SHARD;
		memset(&sh->kr, 0, sizeof sh->kr);
		sh->kr.full = 1;
		ks->shards = sh;
		ks->nshards = 1;
		return 0;
	}
	if (n == 0) {
		return problem(b, ROUTER_EEMPTY, bk->name,
		               "sharded keyspace %s has no shards", bk->name);
	}
	if (!bk->sharded && n > 1) {
		if (problem(b, ROUTER_EVSCHEMA, bk->name,
		            "unsharded keyspace %s has %zu shards; it must "
		            "have exactly one",
		            bk->name, n))
			return -1;
	}
	if (n > UINT32_MAX / 2)
		return problem(b, ROUTER_ERANGE, bk->name, "too many shards");
	order = router__malloc(b->a, n * sizeof *order);
	sh = arena_alloc(s->ar, n * sizeof *sh);
	if (order == NULL || sh == NULL) {
		router__free(b->a, order);
		return -1;
	}
	if (bk->sharded) {
		router_keyrange *krs = router__malloc(b->a, n * sizeof *krs);
		const char **names = router__malloc(b->a, n * sizeof *names);
		router_error e;
		int rc = ROUTER_ENOMEM;

		if (krs != NULL && names != NULL) {
			for (i = 0; i < n; i++) {
				krs[i] = bk->shards[i].kr;
				names[i] = bk->shards[i].name;
			}
			rc = router__partition_check(krs, names, n, order,
			                             bk->name, &e);
		}
		router__free(b->a, krs);
		router__free(b->a, (void *)names);
		if (rc == ROUTER_ENOMEM) {
			router__free(b->a, order);
			return -1;
		}
		if (rc != ROUTER_OK) {
			for (i = 0; i < n; i++)
				order[i] = i;
			if (problem_err(b, &e)) {
				router__free(b->a, order);
				return -1;
			}
		}
	} else {
		for (i = 0; i < n; i++)
			order[i] = i;
	}
	for (i = 0; i < n; i++) {
		const bshard *bs = &bk->shards[order[i]];

		sh[i].kr = bs->kr;
		sh[i].name_len = strlen(bs->name);
		sh[i].name = arena_strndup(s->ar, bs->name, sh[i].name_len);
		if (sh[i].name == NULL) {
			router__free(b->a, order);
			return -1;
		}
		sh[i].iname = sh[i].name;
		sh[i].id = ROUTER_NO_SHARD;
		if (i > 0 && router__key_normlen(sh[i].kr.start,
		                                 sh[i].kr.start_len) > 8)
			nlong++;
	}
	router__free(b->a, order);
	ks->shards = sh;
	ks->nshards = (uint32_t)n;
	if (nlong == 0) {
		uint64_t *bounds = arena_alloc(s->ar, n * sizeof *bounds);

		if (bounds == NULL)
			return -1;
		for (i = 1; i < n; i++)
			bounds[i - 1] =
			    be64_padded(sh[i].kr.start, sh[i].kr.start_len);
		ks->bounds = bounds;
	}
	return 0;
}

static int build_vindexes(bstate *s, const bks *bk, router__keyspace *ks)
{
	router_builder *b = s->b;
	router__vdef *vd;
	sortref *ord;
	size_t i, j;

	ord = sorted(b->a, bk->vindexes, bk->nvindexes, sizeof *bk->vindexes);
	vd = arena_alloc(s->ar, (bk->nvindexes ? bk->nvindexes : 1) *
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
		vd[i].name = arena_strdup(s->ar, bv->name);
		vd[i].type = arena_strdup(s->ar, bv->type);
		vd[i].owner = arena_strdup(s->ar, bv->owner);
		params = arena_alloc(s->ar, (bv->nparams ? bv->nparams : 1) *
		                                sizeof *params);
		if (vd[i].name == NULL || vd[i].type == NULL ||
		    vd[i].owner == NULL || params == NULL)
			goto oom;
		for (j = 0; j < bv->nparams; j++) {
			params[j].key = arena_strdup(s->ar, bv->params[j].key);
			params[j].value =
			    arena_strdup(s->ar, bv->params[j].value);
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

static int build_table(bstate *s, const bks *bk, router__keyspace *ks,
                       const btable *bt, router__tdef *d, int skip_missing)
{
	router_builder *b = s->b;
	char culprit[ROUTER_CULPRIT_MAX];
	router__colvindex *cvs;
	size_t i, j;

	snprintf(culprit, sizeof culprit, "%s.%s", bk->name, bt->name);
	d->name_len = strlen(bt->name);
	d->name = arena_strndup(s->ar, bt->name, d->name_len);
	d->ks = ks;
	d->type = bt->type;
	d->declared = 1;
	cvs = arena_alloc(s->ar, (bt->ncvs ? bt->ncvs : 1) * sizeof *cvs);
	if (d->name == NULL || cvs == NULL)
		return -1;
	d->cvs = cvs;
	d->ncvs = bt->ncvs;
	for (i = 0; i < bt->ncvs; i++) {
		const bcv *bc = &bt->cvs[i];
		const router__vdef *vd = find_vdef(ks, bc->vindex);
		char **cols = arena_alloc(s->ar, bc->ncolumns * sizeof *cols);

		if (cols == NULL)
			return -1;
		for (j = 0; j < bc->ncolumns; j++) {
			size_t k;

			cols[j] = arena_strdup(s->ar, bc->columns[j]);
			if (cols[j] == NULL)
				return -1;
			for (k = 0; k < j; k++)
				if (strcmp(cols[k], cols[j]) == 0 &&
				    problem(b, ROUTER_EVSCHEMA, culprit,
				            "column %s is listed twice in vindex "
				            "%s of table %s",
				            cols[j], bc->vindex, bt->name))
					return -1;
		}
		cvs[i].columns = (const char *const *)cols;
		cvs[i].ncolumns = bc->ncolumns;
		cvs[i].vd = vd;
		if (vd == NULL) {
			if (problem(b, ROUTER_EREFERENCE, culprit,
			            "vindex %s not found for table %s",
			            bc->vindex, bt->name))
				return -1;
			continue;
		}
		if (vd->v.type == NULL)
			continue; /* its own problem is already recorded */
		if (i == 0 && !vd->v.type->unique &&
		    problem(b, ROUTER_EVSCHEMA, culprit,
		            "primary vindex %s is not Unique for table %s",
		            vd->name, bt->name))
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
	}
	if (bt->pinned != NULL) {
		size_t plen = strlen(bt->pinned), n = 0;
		uint8_t *k = arena_alloc(s->ar, plen / 2 + 1);
		router_error he;

		if (k == NULL)
			return -1;
		d->pinned = arena_strdup(s->ar, bt->pinned);
		if (d->pinned == NULL)
			return -1;
		if (router__go_hex_decode(bt->pinned, plen, k, plen / 2 + 1, &n,
		                          NULL, &he) != ROUTER_OK) {
			n = 0;
			if (problem(b, ROUTER_EVSCHEMA, culprit,
			            "could not decode the keyspace id for pin: "
			            "%s",
			            he.message))
				return -1;
		}
		d->pinned_ksid = k;
		d->pinned_len = n;
	}
	if (ks->nshards == 0)
		return 0; /* keyspace already failed */
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
		d->primary = cvs[0].vd ? &cvs[0].vd->v : NULL;
	}
	return 0;
}

static int build_keyspace(bstate *s, const bks *bk, router__keyspace *ks)
{
	router_builder *b = s->b;
	router__tdef *tables;
	uint32_t *tindex;
	sortref *ord;
	size_t i, needs_vindex = 0;
	int skip_missing = 0;

	ks->name_len = strlen(bk->name);
	ks->name = arena_strndup(s->ar, bk->name, ks->name_len);
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
	ord = sorted(b->a, bk->tables, bk->ntables, sizeof *bk->tables);
	tables = arena_alloc(s->ar, (bk->ntables ? bk->ntables : 1) *
	                                sizeof *tables);
	ks->tmask = index_cap(bk->ntables) - 1;
	tindex = arena_alloc(s->ar, (ks->tmask + 1) * sizeof *tindex);
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

static int build_rules(bstate *s)
{
	router_builder *b = s->b;
	router_table *t = s->t;
	router__rule *rules;
	size_t i;

	rules = arena_alloc(s->ar, (b->nrules ? b->nrules : 1) *
	                               sizeof *rules);
	if (rules == NULL)
		return -1;
	for (i = 0; i < b->nrules; i++) {
		router__rule *r = &rules[i];
		const char *from = b->rules[i].from, *to = b->rules[i].to;
		const char *at = strrchr(from, '@');
		const char *dot;
		size_t flen = at ? (size_t)(at - from) : strlen(from);

		r->from = arena_strdup(s->ar, from);
		r->to = to ? arena_strdup(s->ar, to) : NULL;
		r->tablet = arena_strdup(s->ar, at ? at + 1 : "");
		if (r->from == NULL || (to && r->to == NULL) ||
		    r->tablet == NULL)
			return -1;
		if (strcmp(r->tablet, "primary") == 0 ||
		    strcmp(r->tablet, "master") == 0)
			r->tablet = "";
		else if (r->tablet[0] != '\0' &&
		         strcmp(r->tablet, "replica") != 0 &&
		         strcmp(r->tablet, "rdonly") != 0 &&
		         problem(b, ROUTER_EVSCHEMA, from,
		                 "routing rule %s: unknown tablet type %s",
		                 from, r->tablet))
			return -1;
		dot = memchr(from, '.', flen);
		r->from_ks = arena_strndup(s->ar, from,
		                           dot ? (size_t)(dot - from) : 0);
		r->from_table =
		    dot ? arena_strndup(s->ar, dot + 1,
		                        flen - (size_t)(dot + 1 - from))
		        : arena_strndup(s->ar, from, flen);
		if (r->from_ks == NULL || r->from_table == NULL)
			return -1;
		if (r->from_table[0] == '\0' &&
		    problem(b, ROUTER_EVSCHEMA, from,
		            "routing rule %s: empty table name", from))
			return -1;
		if (to != NULL) {
			const char *tdot = strchr(to, '.');
			const router__keyspace *tks;

			if (tdot == NULL) {
				if (problem(b, ROUTER_EVSCHEMA, from,
				            "table %s must be qualified", to))
					return -1;
				continue;
			}
			tks = router__table_keyspace(
			    t, to, (size_t)(tdot - to));
			if (tks == NULL) {
				char kn[ROUTER_CULPRIT_MAX];

				if (problem(b, ROUTER_EREFERENCE, from,
				            "routing rule %s -> %s: keyspace "
				            "%s not found",
				            from, to,
				            router__fmt_name(kn, sizeof kn, to,
				                             (size_t)(tdot - to))))
					return -1;
				continue;
			}
			r->target_ks = tks;
			r->target = router__keyspace_table(
			    tks, tdot + 1, strlen(tdot + 1));
			if (r->target == NULL && !tks->sharded)
				r->target = &tks->any;
			if (r->target == NULL &&
			    problem(b, ROUTER_EREFERENCE, from,
			            "routing rule %s -> %s: table %s not found "
			            "in keyspace %s",
			            from, to, tdot + 1, tks->name))
				return -1;
		}
	}
	qsort(rules, b->nrules, sizeof *rules, rule_cmp);
	t->rules = rules;
	t->nrules = b->nrules;
	for (i = 0; i < b->nrules; i++)
		if (rules[i].from_ks[0] != '\0' && rules[i].tablet[0] == '\0')
			t->nprimary_rules = i + 1;
	return 0;
}

static uint64_t content_hash(const router_table *t);

int router_table_build(router_builder *b, router_table **out,
                       router_error *err)
{
	bstate s;
	router_table *t;
	router__keyspace *kss;
	uint32_t *kindex;
	sortref *ord = NULL;
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
	s.ar = arena_new(b->a);
	if (s.ar == NULL)
		return nomem(err, NULL);
	t = arena_alloc(s.ar, sizeof *t);
	if (t == NULL)
		goto oom;
	s.t = t;
	t->alloc = &s.ar->a;
	t->arena = s.ar;
	t->version = b->version;
	ord = sorted(b->a, b->ks, b->nks, sizeof *b->ks);
	kss = arena_alloc(s.ar, (b->nks ? b->nks : 1) * sizeof *kss);
	t->kmask = index_cap(b->nks) - 1;
	kindex = arena_alloc(s.ar, (t->kmask + 1) * sizeof *kindex);
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
	if (build_rules(&s))
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
	t->hash = content_hash(t);
	*out = t;
	router__clearerr(err);
	return ROUTER_OK;
oom:
	router__free(b->a, ord);
	if (s.t != NULL)
		router__table_destroy(s.t);
	else
		arena_free(s.ar);
	b->nproblems = 0;
	return nomem(err, NULL);
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
	arena_free(t->arena);
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

/* ------------------------------------------------------------------------ */
/* Content hash                                                             */
/* ------------------------------------------------------------------------ */

/* Chain XXH3 over length-delimited fields: each string includes its NUL, so
 * ("ab","c") and ("a","bc") differ. */
static uint64_t hs(uint64_t h, const char *s)
{
	return XXH3_64bits_withSeed(s ? s : "\xff", s ? strlen(s) + 1 : 1, h);
}

static uint64_t hu(uint64_t h, uint64_t v)
{
	return XXH3_64bits_withSeed(&v, sizeof v, h);
}

static uint64_t content_hash(const router_table *t)
{
	uint64_t h = 0x6c6962726f757465ull; /* "librouter" */
	size_t i, j, k;

	h = hu(h, t->nkeyspaces);
	for (i = 0; i < t->nkeyspaces; i++) {
		const router__keyspace *ks = &t->keyspaces[i];

		h = hs(h, ks->name);
		h = hu(h, (uint64_t)ks->sharded << 32 | ks->nshards);
		for (j = 0; j < ks->nshards; j++)
			h = hs(h, ks->shards[j].name);
		h = hu(h, ks->nvindexes);
		for (j = 0; j < ks->nvindexes; j++) {
			const router__vdef *v = &ks->vindexes[j];

			h = hs(hs(hs(h, v->name), v->type), v->owner);
			h = hu(h, v->nparams);
			for (k = 0; k < v->nparams; k++)
				h = hs(hs(h, v->params[k].key),
				       v->params[k].value);
		}
		h = hu(h, ks->ntables);
		for (j = 0; j < ks->ntables; j++) {
			const router__tdef *d = &ks->tables[j];

			h = hs(hs(h, d->name), d->pinned);
			h = hu(h, (uint64_t)d->type << 32 | d->ncvs);
			for (k = 0; k < d->ncvs; k++) {
				const router__colvindex *cv = &d->cvs[k];
				size_t c;

				h = hs(h, cv->vd ? cv->vd->name : NULL);
				h = hu(h, cv->ncolumns);
				for (c = 0; c < cv->ncolumns; c++)
					h = hs(h, cv->columns[c]);
			}
		}
	}
	/* Rules in a canonical order: by their text. */
	h = hu(h, t->nrules);
	{
		uint64_t acc = 0;

		/* Order-independent combination: rules are sorted by parsed
		 * fields, which is canonical too, but summing per-rule hashes
		 * keeps this independent of that sort's details. */
		for (i = 0; i < t->nrules; i++)
			acc += hs(hs(0x72756c65, t->rules[i].from),
			          t->rules[i].to);
		h = hu(h, acc);
	}
	return h;
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

int router__table_resolve(const router_table *t, const char *ks, size_t ksl,
                          const char *table, size_t tl,
                          const router__tdef **out, router_error *err)
{
	const router__keyspace *k;
	const router__tdef *d;

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
				if (r->to == NULL)
					return router__seterr(
					    err, ROUTER_EDISABLED, r->from,
					    "table %s has been disabled",
					    r->from);
				*out = r->target;
				return ROUTER_OK;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	k = router__table_keyspace(t, ks, ksl);
	if (k == NULL) {
		if (err != NULL)
			return keyspace_not_found(ks, ksl, err);
		return ROUTER_ENOTFOUND;
	}
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
	const router__shard *sh = &ks->shards[i];

	out->shard = sh->iname;
	out->shard_len = sh->name_len;
	out->shard_id = sh->id;
	out->shard_index = i;
	out->version = t->version;
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

static void copy_ksid(router_route_result *out, const uint8_t *k, size_t len)
{
	if (len > 0)
		memcpy(out->ksid, k,
		       len < ROUTER_KSID_MAX ? len : ROUTER_KSID_MAX);
	out->ksid_len = len;
}

/* The error for a vindex status other than OK/NONE. */
static int route_error(const router__tdef *d, int rc, size_t nvalues,
                       router_error *err)
{
	char culprit[ROUTER_CULPRIT_MAX];
	const router__vdef *vd = d->ncvs ? d->cvs[0].vd : NULL;
	const char *vname = vd ? vd->name : "?", *vtype = vd ? vd->type : "?";

	if (err == NULL)
		return rc;
	snprintf(culprit, sizeof culprit, "%s.%s", d->ks->name, d->name);
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
		copy_ksid(out, d->pinned_ksid, d->pinned_len);
		return ROUTER_OK;
	case ROUTER__T_MULTISHARD:
		return route_error(d, ROUTER_EMULTISHARD, nvalues, err);
	default:
		break;
	}
	if (values == NULL && nvalues != 0)
		return router__seterr(err, ROUTER_EINVAL, d->name,
		                      "values is NULL");
	rc = router__vindex_map(d->primary, values, nvalues, buf, &k, &len);
	if (ROUTER__LIKELY(rc == ROUTER_OK)) {
		router__fill_shard(t, d->ks,
		                   router__shard_search(d->ks, k, len), out);
		copy_ksid(out, k, len);
		return ROUTER_OK;
	}
	if (rc == ROUTER_NONE) {
		fill_none(t, out);
		return ROUTER_NONE;
	}
	return route_error(d, rc, nvalues, err);
}

int router__tdef_route_u64(const router_table *t, const router__tdef *d,
                           uint64_t key, int is_unsigned,
                           router_route_result *out)
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
	rc = router__vindex_map_u64(d->primary, key, is_unsigned, buf, &k,
	                            &len);
	if (ROUTER__LIKELY(rc == ROUTER_OK)) {
		router__fill_shard(t, d->ks,
		                   router__shard_search(d->ks, k, len), out);
		copy_ksid(out, k, len);
		return ROUTER_OK;
	}
	if (rc == ROUTER_NONE)
		fill_none(t, out);
	return rc;
}

int router__tdef_route_id(const router_table *t, const router__tdef *d,
                          uint64_t key, int is_unsigned, uint32_t *id)
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
	rc = router__vindex_map_u64(d->primary, key, is_unsigned, buf, &k,
	                            &len);
	if (ROUTER__LIKELY(rc == ROUTER_OK)) {
		*id = d->ks->shards[router__shard_search(d->ks, k, len)].id;
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
	int rc;

	if (t == NULL || out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_table_route: NULL argument");
	if ((rc = check_buf(keyspace, keyspace_len, "keyspace", err)) ||
	    (rc = check_buf(table, table_len, "table", err)))
		return rc;
	rc = router__table_resolve(t, keyspace, keyspace_len, table,
	                           table_len, &d, err);
	if (rc != ROUTER_OK)
		return rc;
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
		return keyspace_not_found(keyspace, keyspace_len, err);
	router__fill_shard(t, ks,
	                   router__shard_search(ks, ksid, ksid_len), out);
	copy_ksid(out, ksid, ksid_len);
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

/* ------------------------------------------------------------------------ */
/* Diff                                                                     */
/* ------------------------------------------------------------------------ */

struct router_diff {
	const router_allocator *a;
	router__arena *ar;
	router_diff_entry *e;
	size_t n, cap;
	int nomem;
};

static void dadd(router_diff *d, router_diff_kind kind, router_diff_op op,
                 const char *ks, const char *name, const char *fmt, ...)
    ROUTER__PRINTF(6, 7);
static void dadd(router_diff *d, router_diff_kind kind, router_diff_op op,
                 const char *ks, const char *name, const char *fmt, ...)
{
	char detail[256];
	router_diff_entry *e;
	va_list ap;

	if (d->nomem)
		return;
	if (grow(d->a, (void **)&d->e, &d->cap, d->n + 1, sizeof *d->e)) {
		d->nomem = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	e = &d->e[d->n];
	e->kind = kind;
	e->op = op;
	e->keyspace = arena_strdup(d->ar, ks);
	e->name = arena_strdup(d->ar, name);
	e->detail = arena_strdup(d->ar, detail);
	if (e->keyspace == NULL || e->name == NULL || e->detail == NULL) {
		d->nomem = 1;
		return;
	}
	d->n++;
}

static const char *ttype_name(router_table_type t)
{
	return t == ROUTER_TABLE_REFERENCE  ? "reference"
	       : t == ROUTER_TABLE_SEQUENCE ? "sequence"
	                                    : "normal";
}

static int params_equal(const router__vdef *a, const router__vdef *b)
{
	size_t i;

	if (a->nparams != b->nparams)
		return 0;
	for (i = 0; i < a->nparams; i++)
		if (strcmp(a->params[i].key, b->params[i].key) != 0 ||
		    strcmp(a->params[i].value, b->params[i].value) != 0)
			return 0;
	return 1;
}

static int cvs_equal(const router__tdef *a, const router__tdef *b)
{
	size_t i, j;

	if (a->ncvs != b->ncvs)
		return 0;
	for (i = 0; i < a->ncvs; i++) {
		const router__colvindex *x = &a->cvs[i], *y = &b->cvs[i];

		if (strcmp(x->vd ? x->vd->name : "", y->vd ? y->vd->name : "") !=
		        0 ||
		    x->ncolumns != y->ncolumns)
			return 0;
		for (j = 0; j < x->ncolumns; j++)
			if (strcmp(x->columns[j], y->columns[j]) != 0)
				return 0;
	}
	return 1;
}

/* Keyspace-ID comparison (defined with the guard, below). */
static int primary_same(const router__colvindex *x,
                        const router__colvindex *y, char *why, size_t cap);
static void cv_desc(const router__colvindex *cv, char *buf, size_t cap);

static const char *primary_type(const router__tdef *d)
{
	return d->ncvs && d->cvs[0].vd ? d->cvs[0].vd->type : "none";
}

static void diff_tables_of(router_diff *d, const router__keyspace *a,
                           const router__keyspace *b)
{
	size_t i = 0, j = 0;

	while (i < a->ntables || j < b->ntables) {
		const router__tdef *x = i < a->ntables ? &a->tables[i] : NULL;
		const router__tdef *y = j < b->ntables ? &b->tables[j] : NULL;
		int c = x == NULL ? 1 : y == NULL ? -1 : strcmp(x->name, y->name);

		if (c < 0 && x != NULL) {
			dadd(d, ROUTER_DIFF_TABLE, ROUTER_DIFF_REMOVED, a->name,
			     x->name, "%s table", ttype_name(x->type));
			i++;
		} else if (c > 0 && y != NULL) {
			dadd(d, ROUTER_DIFF_TABLE, ROUTER_DIFF_ADDED, b->name,
			     y->name, "%s table", ttype_name(y->type));
			j++;
		} else if (x != NULL && y != NULL) {
			char what[256] = "", why[96], dx[80], dy[80];
			size_t n = 0;

			if (x->type != y->type)
				n += (size_t)snprintf(what + n, sizeof what - n,
				                      "type %s -> %s; ",
				                      ttype_name(x->type),
				                      ttype_name(y->type));
			if (strcmp(x->pinned ? x->pinned : "",
			           y->pinned ? y->pinned : "") != 0 &&
			    n < sizeof what)
				n += (size_t)snprintf(
				    what + n, sizeof what - n,
				    "pinned %s -> %s; ",
				    x->pinned ? x->pinned : "none",
				    y->pinned ? y->pinned : "none");
			if (strcmp(primary_type(x), primary_type(y)) != 0 &&
			    n < sizeof what)
				n += (size_t)snprintf(
				    what + n, sizeof what - n,
				    "primary vindex type %s -> %s; ",
				    primary_type(x), primary_type(y));
			else if (x->ncvs > 0 && y->ncvs > 0 &&
			         !primary_same(&x->cvs[0], &y->cvs[0], why,
			                       sizeof why) &&
			         n < sizeof what) {
				/* Same type, other columns or params: the
				 * keyspace IDs change all the same. */
				cv_desc(&x->cvs[0], dx, sizeof dx);
				cv_desc(&y->cvs[0], dy, sizeof dy);
				n += (size_t)snprintf(
				    what + n, sizeof what - n,
				    "primary vindex %s -> %s%s%s%s; ", dx, dy,
				    why[0] ? " (" : "", why, why[0] ? ")" : "");
			} else if (!cvs_equal(x, y) && n < sizeof what)
				n += (size_t)snprintf(what + n,
				                      sizeof what - n,
				                      "column vindexes changed; ");
			if (n > 0) {
				if (n >= 2 && n < sizeof what)
					what[n - 2] = '\0';
				dadd(d, ROUTER_DIFF_TABLE, ROUTER_DIFF_CHANGED,
				     a->name, x->name, "%s", what);
			}
			i++;
			j++;
		}
	}
}

static void diff_vindexes_of(router_diff *d, const router__keyspace *a,
                             const router__keyspace *b)
{
	size_t i = 0, j = 0;

	while (i < a->nvindexes || j < b->nvindexes) {
		const router__vdef *x = i < a->nvindexes ? &a->vindexes[i] : NULL;
		const router__vdef *y = j < b->nvindexes ? &b->vindexes[j] : NULL;
		int c = x == NULL ? 1 : y == NULL ? -1 : strcmp(x->name, y->name);

		if (c < 0 && x != NULL) {
			dadd(d, ROUTER_DIFF_VINDEX, ROUTER_DIFF_REMOVED, a->name,
			     x->name, "%s", x->type);
			i++;
		} else if (c > 0 && y != NULL) {
			dadd(d, ROUTER_DIFF_VINDEX, ROUTER_DIFF_ADDED, b->name,
			     y->name, "%s", y->type);
			j++;
		} else if (x != NULL && y != NULL) {
			if (strcmp(x->type, y->type) != 0)
				dadd(d, ROUTER_DIFF_VINDEX, ROUTER_DIFF_CHANGED,
				     a->name, x->name, "type %s -> %s",
				     x->type, y->type);
			else if (!params_equal(x, y))
				dadd(d, ROUTER_DIFF_VINDEX, ROUTER_DIFF_CHANGED,
				     a->name, x->name, "params changed");
			else if (strcmp(x->owner, y->owner) != 0)
				dadd(d, ROUTER_DIFF_VINDEX, ROUTER_DIFF_CHANGED,
				     a->name, x->name, "owner %s -> %s",
				     x->owner[0] ? x->owner : "none",
				     y->owner[0] ? y->owner : "none");
			i++;
			j++;
		}
	}
}

static void diff_shards_of(router_diff *d, const router__keyspace *a,
                           const router__keyspace *b)
{
	sortref *x = sorted_at(d->a, a->shards, a->nshards, sizeof *a->shards,
	                       offsetof(router__shard, name));
	sortref *y = sorted_at(d->a, b->shards, b->nshards, sizeof *b->shards,
	                       offsetof(router__shard, name));
	size_t i = 0, j = 0;

	if (x == NULL || y == NULL) {
		d->nomem = 1;
		goto out;
	}
	while (i < a->nshards || j < b->nshards) {
		int c = i == a->nshards   ? 1
		        : j == b->nshards ? -1
		                          : strcmp(x[i].name, y[j].name);

		if (c < 0) {
			dadd(d, ROUTER_DIFF_SHARD, ROUTER_DIFF_REMOVED, a->name,
			     x[i].name, "shard");
			i++;
		} else if (c > 0) {
			dadd(d, ROUTER_DIFF_SHARD, ROUTER_DIFF_ADDED, b->name,
			     y[j].name, "shard");
			j++;
		} else {
			i++;
			j++;
		}
	}
out:
	router__free(d->a, x);
	router__free(d->a, y);
}

static void diff_rules(router_diff *d, const router_table *a,
                       const router_table *b)
{
	static const router_table empty;
	sortref *x, *y;
	size_t i = 0, j = 0;

	if (a == NULL)
		a = &empty;
	x = sorted(d->a, a->rules, a->nrules, sizeof *a->rules);
	y = sorted(d->a, b->rules, b->nrules, sizeof *b->rules);
	if (x == NULL || y == NULL) {
		d->nomem = 1;
		goto out;
	}
	while (i < a->nrules || j < b->nrules) {
		int c = i == a->nrules   ? 1
		        : j == b->nrules ? -1
		                         : strcmp(x[i].name, y[j].name);

		if (c < 0) {
			const char *to = a->rules[x[i].idx].to;

			dadd(d, ROUTER_DIFF_RULE, ROUTER_DIFF_REMOVED, "",
			     x[i].name, "-> %s", to ? to : "(disabled)");
			i++;
		} else if (c > 0) {
			const char *to = b->rules[y[j].idx].to;

			dadd(d, ROUTER_DIFF_RULE, ROUTER_DIFF_ADDED, "",
			     y[j].name, "-> %s", to ? to : "(disabled)");
			j++;
		} else {
			const char *ta = a->rules[x[i].idx].to;
			const char *tb = b->rules[y[j].idx].to;

			if (strcmp(ta ? ta : "", tb ? tb : "") != 0 ||
			    (ta == NULL) != (tb == NULL))
				dadd(d, ROUTER_DIFF_RULE, ROUTER_DIFF_CHANGED,
				     "", x[i].name, "-> %s becomes -> %s",
				     ta ? ta : "(disabled)",
				     tb ? tb : "(disabled)");
			i++;
			j++;
		}
	}
out:
	router__free(d->a, x);
	router__free(d->a, y);
}

static size_t count_declared(const router__keyspace *ks)
{
	return ks->ntables;
}

int router_diff_tables(const router_table *a, const router_table *b,
                       router_diff **out, router_error *err)
{
	/* What an added keyspace is compared with (and a removed one
	 * against), so that its tables, vindexes and shards are listed too:
	 * "everything is added" when a is NULL. */
	static const router__keyspace empty_ks;
	router_diff *d;
	size_t i = 0, j = 0, na;

	if (out == NULL || b == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_diff_tables: NULL argument");
	*out = NULL;
	d = router__malloc(b->alloc, sizeof *d);
	if (d == NULL)
		return nomem(err, NULL);
	memset(d, 0, sizeof *d);
	d->ar = arena_new(b->alloc);
	if (d->ar == NULL) {
		router__free(b->alloc, d);
		return nomem(err, NULL);
	}
	d->a = &d->ar->a;
	diff_rules(d, a, b);
	na = a ? a->nkeyspaces : 0;
	while (i < na || j < b->nkeyspaces) {
		const router__keyspace *x = i < na ? &a->keyspaces[i] : NULL;
		const router__keyspace *y =
		    j < b->nkeyspaces ? &b->keyspaces[j] : NULL;
		int c = x == NULL ? 1 : y == NULL ? -1 : strcmp(x->name, y->name);

		if (c < 0 && x != NULL) {
			dadd(d, ROUTER_DIFF_KEYSPACE, ROUTER_DIFF_REMOVED,
			     x->name, x->name,
			     "%s keyspace with %zu tables, %u shards",
			     x->sharded ? "sharded" : "unsharded",
			     count_declared(x), x->nshards);
			diff_tables_of(d, x, &empty_ks);
			diff_vindexes_of(d, x, &empty_ks);
			diff_shards_of(d, x, &empty_ks);
			i++;
		} else if (c > 0 && y != NULL) {
			dadd(d, ROUTER_DIFF_KEYSPACE, ROUTER_DIFF_ADDED, y->name,
			     y->name, "%s keyspace with %zu tables, %u shards",
			     y->sharded ? "sharded" : "unsharded",
			     count_declared(y), y->nshards);
			diff_tables_of(d, &empty_ks, y);
			diff_vindexes_of(d, &empty_ks, y);
			diff_shards_of(d, &empty_ks, y);
			j++;
		} else if (x != NULL && y != NULL) {
			if (x->sharded != y->sharded)
				dadd(d, ROUTER_DIFF_KEYSPACE,
				     ROUTER_DIFF_CHANGED, x->name, x->name,
				     "%s", x->sharded ? "sharded -> unsharded"
				                      : "unsharded -> sharded");
			diff_tables_of(d, x, y);
			diff_vindexes_of(d, x, y);
			diff_shards_of(d, x, y);
			i++;
			j++;
		}
	}
	if (d->nomem) {
		router_diff_free(d);
		return nomem(err, NULL);
	}
	*out = d;
	router__clearerr(err);
	return ROUTER_OK;
}

size_t router_diff_count(const router_diff *d)
{
	return d ? d->n : 0;
}

const router_diff_entry *router_diff_get(const router_diff *d, size_t i)
{
	return d && i < d->n ? &d->e[i] : NULL;
}

size_t router_diff_tally(const router_diff *d, router_diff_kind kind,
                         router_diff_op op)
{
	size_t i, n = 0;

	if (d == NULL)
		return 0;
	for (i = 0; i < d->n; i++)
		if ((kind == 0 || d->e[i].kind == kind) &&
		    (op == 0 || d->e[i].op == op))
			n++;
	return n;
}

void router_diff_free(router_diff *d)
{
	router_allocator a;

	if (d == NULL)
		return;
	a = d->ar->a;
	router__free(&a, d->e);
	arena_free(d->ar);
	router__free(&a, d);
}

int router__diff_copy(const router_diff *src, const router_allocator *a,
                      router_diff **out)
{
	router_diff *d;
	size_t i;

	*out = NULL;
	d = router__malloc(router__allocator(a), sizeof *d);
	if (d == NULL)
		return ROUTER_ENOMEM;
	memset(d, 0, sizeof *d);
	d->ar = arena_new(router__allocator(a));
	if (d->ar == NULL) {
		router__free(router__allocator(a), d);
		return ROUTER_ENOMEM;
	}
	d->a = &d->ar->a;
	for (i = 0; src != NULL && i < src->n && !d->nomem; i++)
		dadd(d, src->e[i].kind, src->e[i].op, src->e[i].keyspace,
		     src->e[i].name, "%s", src->e[i].detail);
	if (d->nomem) {
		router_diff_free(d);
		return ROUTER_ENOMEM;
	}
	*out = d;
	return ROUTER_OK;
}

/* ------------------------------------------------------------------------ */
/* Keyspace-ID guard                                                        */
/* ------------------------------------------------------------------------ */

/* Equal ignoring ASCII case: MySQL (and Vitess, sqlparser.IdentifierCI)
 * compare column names that way, so "ID" and "id" are one column. */
static int ci_equal(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return 0;
		if (x == '\0')
			return 1;
	}
}

/* A name or value from a document, for a message: escaped and cut whole
 * (router__fmt_name); "%.40s" could cut a UTF-8 character in half. */
static const char *shown(char *buf, size_t cap, const char *s)
{
	return router__fmt_name(buf, cap, s, strlen(s));
}

/* The first param that differs between two definitions (params are
 * sorted by key), written into why; nothing when they are equal. */
static void param_diff(const router__vdef *a, const router__vdef *b,
                       char *why, size_t cap)
{
	size_t i = 0, j = 0;
	char k[44], v1[44], v2[44];

	while (i < a->nparams || j < b->nparams) {
		int c = i == a->nparams   ? 1
		        : j == b->nparams ? -1
		                          : strcmp(a->params[i].key,
		                                   b->params[j].key);

		if (c == 0 &&
		    strcmp(a->params[i].value, b->params[j].value) == 0) {
			i++;
			j++;
			continue;
		}
		if (c == 0)
			snprintf(why, cap, "param %s %s -> %s",
			         shown(k, sizeof k, a->params[i].key),
			         shown(v1, sizeof v1, a->params[i].value),
			         shown(v2, sizeof v2, b->params[j].value));
		else if (c < 0)
			snprintf(why, cap, "param %s %s -> (none)",
			         shown(k, sizeof k, a->params[i].key),
			         shown(v1, sizeof v1, a->params[i].value));
		else
			snprintf(why, cap, "param %s (none) -> %s",
			         shown(k, sizeof k, b->params[j].key),
			         shown(v2, sizeof v2, b->params[j].value));
		return;
	}
}

/*
 * Why two compiled vindexes may map one value to different keyspace IDs,
 * written into why (left empty when they compute the same function).
 * Compared is what the mapping reads, not how the definition is written:
 * its type, then per type the params that enter the hash (router__vindex,
 * vindex.c): the map and fallback of numeric_static_map (so json and
 * json_path giving the same map are equal), region_bytes, multicol's
 * column count, bytes and column vindexes.  Types with no params ignore
 * the ones they are given (Vitess does too).  For the types computed
 * outside this process (the lookup family: the keyspace ID is in its
 * table; cfc, region_json, unicode_loose_*) every param counts.  The
 * owner never does: it says which table writes a lookup, not where a row
 * is.
 */
static void vindex_ksid_diff(const router__vdef *a, const router__vdef *b,
                             char *why, size_t cap)
{
	const router__vindex *x = &a->v, *y = &b->v;
	size_t i;

	why[0] = '\0';
	if (x->type != y->type) {
		snprintf(why, cap, "type %s -> %s",
		         x->type ? x->type->name : "?",
		         y->type ? y->type->name : "?");
		return;
	}
	if (x->type == NULL)
		return; /* never in a built table */
	switch (x->type->kind) {
	case ROUTER__V_NUMERIC_STATIC_MAP:
		if (x->u.nsm.n != y->u.nsm.n ||
		    (x->u.nsm.n > 0 &&
		     (memcmp(x->u.nsm.keys, y->u.nsm.keys,
		             x->u.nsm.n * sizeof *x->u.nsm.keys) != 0 ||
		      memcmp(x->u.nsm.vals, y->u.nsm.vals,
		             x->u.nsm.n * sizeof *x->u.nsm.vals) != 0)))
			snprintf(why, cap,
			         "its map (json or json_path) changes: %zu -> "
			         "%zu entries",
			         x->u.nsm.n, y->u.nsm.n);
		else if (x->u.nsm.fallback != y->u.nsm.fallback)
			snprintf(why, cap, "fallback_type %s -> %s",
			         x->u.nsm.fallback ? x->u.nsm.fallback->name
			                           : "none",
			         y->u.nsm.fallback ? y->u.nsm.fallback->name
			                           : "none");
		return;
	case ROUTER__V_REGION_EXPERIMENTAL:
		if (x->u.region.region_bytes != y->u.region.region_bytes)
			snprintf(why, cap, "region_bytes %u -> %u",
			         (unsigned)x->u.region.region_bytes,
			         (unsigned)y->u.region.region_bytes);
		return;
	case ROUTER__V_MULTICOL:
		if (x->u.mc.ncols != y->u.mc.ncols) {
			snprintf(why, cap, "column_count %u -> %u",
			         (unsigned)x->u.mc.ncols,
			         (unsigned)y->u.mc.ncols);
			return;
		}
		for (i = 0; i < x->u.mc.ncols && i < ROUTER_MULTICOL_MAX; i++) {
			const router__vtype *cx = x->u.mc.col[i];
			const router__vtype *cy = y->u.mc.col[i];

			if (x->u.mc.bytes[i] != y->u.mc.bytes[i] || cx != cy) {
				snprintf(why, cap,
				         "column %zu: %u bytes of %s -> %u "
				         "bytes of %s",
				         i + 1, (unsigned)x->u.mc.bytes[i],
				         cx ? cx->name : "?",
				         (unsigned)y->u.mc.bytes[i],
				         cy ? cy->name : "?");
				return;
			}
		}
		/* A column vindex with params of its own reads them from
		 * the multicol's params: compare them all then. */
		for (i = 0; i < x->u.mc.ncols && i < ROUTER_MULTICOL_MAX; i++)
			if (x->u.mc.col[i] != NULL &&
			    (x->u.mc.col[i]->kind ==
			         ROUTER__V_NUMERIC_STATIC_MAP ||
			     x->u.mc.col[i]->kind ==
			         ROUTER__V_REGION_EXPERIMENTAL)) {
				param_diff(a, b, why, cap);
				return;
			}
		return;
	case ROUTER__V_LOOKUP:
	case ROUTER__V_UNSUPPORTED:
		param_diff(a, b, why, cap);
		return;
	default:
		return; /* hash, xxhash, numeric, binary, ...: no params */
	}
}

/* "xxhash(id)", "multicol(cc,id)": a primary column vindex for messages. */
static void cv_desc(const router__colvindex *cv, char *buf, size_t cap)
{
	size_t n, i;
	char b[44];

	n = (size_t)snprintf(buf, cap, "%s(",
	                     shown(b, sizeof b, cv->vd ? cv->vd->type : "?"));
	for (i = 0; i < cv->ncolumns && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? "," : "",
		                      shown(b, sizeof b, cv->columns[i]));
	if (n < cap)
		snprintf(buf + n, cap - n, ")");
}

/* How the rows of table d are placed, for messages. */
static void placement_desc(const router__tdef *d, char *buf, size_t cap)
{
	if (d->mode == ROUTER__T_VINDEX && d->ncvs > 0)
		cv_desc(&d->cvs[0], buf, cap);
	else if (d->mode == ROUTER__T_FIXED && d->pinned != NULL)
		snprintf(buf, cap, "pin %.66s", d->pinned);
	else if (d->mode == ROUTER__T_MULTISHARD)
		snprintf(buf, cap, "a copy on every shard");
	else
		snprintf(buf, cap, "its single shard");
}

#define KSID_TAIL                                                              \
	"; migrate the rows (a new table filled by VReplication) or pass "     \
	"the destructive flag"

/* The same primary vindex function over the same columns? */
static int primary_same(const router__colvindex *x,
                        const router__colvindex *y, char *why, size_t cap)
{
	size_t i;

	why[0] = '\0';
	if (x->vd == NULL || y->vd == NULL)
		return x->vd == y->vd;
	if (x->ncolumns != y->ncolumns)
		return 0;
	for (i = 0; i < x->ncolumns; i++)
		if (!ci_equal(x->columns[i], y->columns[i]))
			return 0;
	vindex_ksid_diff(x->vd, y->vd, why, cap);
	return why[0] == '\0';
}

/* Table x of a sharded keyspace in service against its namesake y in the
 * same keyspace, sharded in the new table. */
static int table_ksid_check(const router__keyspace *ks, const router__tdef *x,
                            const router__tdef *y, router_error *err)
{
	char culprit[ROUTER_CULPRIT_MAX], dx[160], dy[160], why[160];

	snprintf(culprit, sizeof culprit, "%s.%s", ks->name, x->name);
	if (x->mode == ROUTER__T_MULTISHARD)
		return ROUTER_OK; /* every shard holds every row */
	placement_desc(x, dx, sizeof dx);
	placement_desc(y, dy, sizeof dy);
	if (x->mode == ROUTER__T_VINDEX && y->mode == ROUTER__T_VINDEX) {
		if (x->ncvs == 0 || y->ncvs == 0 || x->cvs[0].vd == NULL ||
		    y->cvs[0].vd == NULL ||
		    primary_same(&x->cvs[0], &y->cvs[0], why, sizeof why))
			return ROUTER_OK;
		if (x->cvs[0].vd->v.type != y->cvs[0].vd->v.type)
			why[0] = '\0'; /* the descriptions say it */
		if (strcmp(dx, dy) != 0)
			return router__seterr(
			    err, ROUTER_EKSIDCHANGE, culprit,
			    "primary vindex of %s changed from %s to %s; every "
			    "row's keyspace ID changes%s%s%s" KSID_TAIL,
			    culprit, dx, dy, why[0] ? " (" : "", why,
			    why[0] ? ")" : "");
		return router__seterr(
		    err, ROUTER_EKSIDCHANGE, culprit,
		    "primary vindex of %s changed: %s keeps its type and "
		    "columns but %s; every row's keyspace ID changes" KSID_TAIL,
		    culprit, dx, why);
	}
	if (x->mode == ROUTER__T_FIXED && y->mode == ROUTER__T_FIXED) {
		/* Trailing zero bytes do not count (Vitess v17+ compares
		 * keyspace IDs that way): "80" and "8000" are one pin. */
		if (router_key_compare(x->pinned_ksid, x->pinned_len,
		                       y->pinned_ksid, y->pinned_len) == 0)
			return ROUTER_OK;
		return router__seterr(
		    err, ROUTER_EKSIDCHANGE, culprit,
		    "pinned keyspace ID of %s changed from %.66s (shard %s) "
		    "to %.66s; every row's keyspace ID changes" KSID_TAIL,
		    culprit, x->pinned ? x->pinned : "",
		    ks->shards[x->fixed].name, y->pinned ? y->pinned : "");
	}
	if (y->mode == ROUTER__T_MULTISHARD)
		return router__seterr(
		    err, ROUTER_EKSIDCHANGE, culprit,
		    "%s would turn into a reference table: its rows, placed "
		    "on one shard each by %s, would be read from any "
		    "shard" KSID_TAIL,
		    culprit, dx);
	if (y->mode == ROUTER__T_FIXED)
		return router__seterr(
		    err, ROUTER_EKSIDCHANGE, culprit,
		    "%s would be pinned to %.66s: its rows, spread by %s, "
		    "would all be looked for on one shard; every row's "
		    "keyspace ID changes" KSID_TAIL,
		    culprit, y->pinned ? y->pinned : "", dx);
	return router__seterr(
	    err, ROUTER_EKSIDCHANGE, culprit,
	    "%s would no longer be pinned (%s, shard %s): its rows, all on "
	    "that shard, would be routed by %s; every row's keyspace ID "
	    "changes" KSID_TAIL,
	    culprit, dx, ks->shards[x->fixed].name, dy);
}

int router__ksid_guard(const router_table *cur, const router_table *next,
                       router_error *err)
{
	size_t i, j;
	int rc;

	if (cur == NULL || next == NULL)
		return ROUTER_OK;
	for (i = 0; i < cur->nkeyspaces; i++) {
		const router__keyspace *a = &cur->keyspaces[i];
		const router__keyspace *b =
		    router__table_keyspace(next, a->name, a->name_len);
		const router__tdef *x = NULL, *y = NULL;
		char culprit[ROUTER_CULPRIT_MAX], dx[160], dy[160];

		if (b == NULL || (!a->sharded && !b->sharded))
			continue; /* dropped (shrink guard), or one shard */
		if (a->sharded && b->sharded) {
			for (j = 0; j < a->ntables; j++) {
				x = &a->tables[j];
				y = router__keyspace_table(b, x->name,
				                           x->name_len);
				if (y == NULL)
					continue;
				rc = table_ksid_check(a, x, y, err);
				if (rc != ROUTER_OK)
					return rc;
			}
			continue;
		}
		/* The keyspace changes sharding: name the first table kept. */
		for (j = 0; j < a->ntables; j++) {
			x = &a->tables[j];
			y = router__keyspace_table(b, x->name, x->name_len);
			if (y != NULL)
				break;
		}
		if (y == NULL) {
			snprintf(culprit, sizeof culprit, "%s", a->name);
			return router__seterr(
			    err, ROUTER_EKSIDCHANGE, culprit,
			    "keyspace %s would turn from %s to %s: the rows "
			    "of its tables, %s, would be looked for "
			    "%s" KSID_TAIL,
			    a->name, a->sharded ? "sharded" : "unsharded",
			    a->sharded ? "unsharded" : "sharded",
			    a->sharded ? "spread over its shards"
			               : "all on its single shard",
			    a->sharded ? "on a single shard"
			               : "by keyspace ID");
		}
		snprintf(culprit, sizeof culprit, "%s.%s", a->name, x->name);
		placement_desc(x, dx, sizeof dx);
		placement_desc(y, dy, sizeof dy);
		if (a->sharded)
			return router__seterr(
			    err, ROUTER_EKSIDCHANGE, culprit,
			    "keyspace %s would turn from sharded to unsharded: "
			    "the rows of %s, spread by %s, would all be looked "
			    "for on shard %s; every row's keyspace ID "
			    "changes" KSID_TAIL,
			    a->name, culprit, dx, b->shards[0].name);
		return router__seterr(
		    err, ROUTER_EKSIDCHANGE, culprit,
		    "keyspace %s would turn from unsharded to sharded: the "
		    "rows of %s, all on shard %s, would be looked for by %s; "
		    "every row's keyspace ID changes" KSID_TAIL,
		    a->name, culprit, a->shards[0].name, dy);
	}
	return ROUTER_OK;
}
