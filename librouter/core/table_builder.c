/*
 * The builder: router_builder_* record definitions as given, checking only
 * what is local to each (names, lengths, duplicates).  router_table_build
 * (table_build.c) then validates everything relational and lays the table
 * out.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "builder.h"
#include "table.h"

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
		if (b->rules[i].targets != NULL)
			free_strv(a, b->rules[i].targets,
			          b->rules[i].ntargets);
	}
	router__free(a, b->rules);
	free_strv(a, b->kserr, 2 * b->nkserr);
	free_strv(a, b->ksrules, 2 * b->nksrules);
	free_strv(a, b->shrules, 3 * b->nshrules);
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
	if (router__grow(b->a, (void **)&b->ks, &b->cks, b->nks + 1,
	                 sizeof *b->ks))
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
	if (router__grow(b->a, (void **)&ks->shards, &ks->cshards,
	                 ks->nshards + 1, sizeof *ks->shards))
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
	if (router__grow(b->a, (void **)&ks->vindexes, &ks->cvindexes,
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
	if (router__grow(b->a, (void **)&ks->tables, &ks->ctables,
	                 ks->ntables + 1, sizeof *ks->tables))
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
	if (router__grow(b->a, (void **)&t->cvs, &t->cap, t->ncvs + 1,
	                 sizeof *t->cvs))
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
	if (router__grow(b->a, (void **)&b->rules, &b->crules, b->nrules + 1,
	         sizeof *b->rules))
		return nomem(err, from_table);
	memset(&r, 0, sizeof r);
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

int router__builder_add_rule_raw(router_builder *b, const char *from_table,
                                 const char *const *to_tables,
                                 size_t ntargets, router_error *err)
{
	brule r;
	size_t i;

	if (b == NULL || from_table == NULL ||
	    (to_tables == NULL && ntargets != 0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "routing rule: NULL argument");
	for (i = 0; i < ntargets; i++)
		if (to_tables[i] == NULL)
			return router__seterr(err, ROUTER_EINVAL, from_table,
			                      "routing rule: NULL target");
	if (router__grow(b->a, (void **)&b->rules, &b->crules, b->nrules + 1,
	                 sizeof *b->rules))
		return nomem(err, from_table);
	memset(&r, 0, sizeof r);
	r.from = router__strndup(b->a, from_table, strlen(from_table));
	r.targets = router__malloc(b->a, (ntargets ? ntargets : 1) *
	                                     sizeof *r.targets);
	if (r.from == NULL || r.targets == NULL)
		goto fail;
	for (i = 0; i < ntargets; i++) {
		r.targets[i] = router__strndup(b->a, to_tables[i],
		                               strlen(to_tables[i]));
		r.ntargets = i + 1;
		if (r.targets[i] == NULL)
			goto fail;
	}
	if (ntargets == 1 &&
	    (r.to = router__strndup(b->a, to_tables[0],
	                            strlen(to_tables[0]))) == NULL)
		goto fail;
	b->rules[b->nrules++] = r;
	b->raw_rules = 1;
	router__clearerr(err);
	return ROUTER_OK;
fail:
	router__free(b->a, r.from);
	if (r.targets != NULL)
		free_strv(b->a, r.targets, r.ntargets);
	return nomem(err, from_table);
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


int router__builder_add_keyspace_error(router_builder *b, const char *ks,
                                       const char *message,
                                       router_error *err)
{
	char *n, *m;

	if (b == NULL || ks == NULL || message == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "keyspace error: NULL argument");
	if (router__grow(b->a, (void **)&b->kserr, &b->ckserr,
	                 2 * b->nkserr + 2, sizeof *b->kserr))
		return nomem(err, ks);
	n = router__strndup(b->a, ks, strlen(ks));
	m = router__strndup(b->a, message, strlen(message));
	if (n == NULL || m == NULL) {
		router__free(b->a, n);
		router__free(b->a, m);
		return nomem(err, ks);
	}
	b->kserr[2 * b->nkserr] = n;
	b->kserr[2 * b->nkserr + 1] = m;
	b->nkserr++;
	router__clearerr(err);
	return ROUTER_OK;
}

/* Appends the n strings v[0..n) to *vec (n per entry), copied. */
static int add_strings(router_builder *b, char ***vec, size_t *count,
                       size_t *cap, const char *const *v, size_t n,
                       router_error *err)
{
	size_t i;

	if (router__grow(b->a, (void **)vec, cap, n * *count + n,
	                 sizeof **vec))
		return nomem(err, v[0]);
	for (i = 0; i < n; i++) {
		(*vec)[n * *count + i] = router__strndup(b->a, v[i],
		                                         strlen(v[i]));
		if ((*vec)[n * *count + i] == NULL) {
			while (i-- > 0)
				router__free(b->a, (*vec)[n * *count + i]);
			return nomem(err, v[0]);
		}
	}
	(*count)++;
	router__clearerr(err);
	return ROUTER_OK;
}

int router__builder_add_keyspace_rule(router_builder *b, const char *from,
                                      const char *to, router_error *err)
{
	const char *v[2] = {from, to};

	if (b == NULL || from == NULL || to == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "keyspace routing rule: NULL argument");
	/* from may carry a tablet type: "ks@replica", "ks@experimental". */
	if (strlen(from) > ROUTER_NAME_MAX + 16 ||
	    strlen(to) > ROUTER_NAME_MAX)
		return router__seterr(err, ROUTER_ERANGE, from,
		                      "keyspace routing rule %.*s -> %.*s: a "
		                      "keyspace name longer than %d bytes",
		                      ROUTER_NAME_MAX, from, ROUTER_NAME_MAX, to,
		                      ROUTER_NAME_MAX);
	return add_strings(b, &b->ksrules, &b->nksrules, &b->cksrules, v, 2,
	                   err);
}

int router__builder_add_shard_rule(router_builder *b,
                                   const char *from_keyspace,
                                   const char *shard,
                                   const char *to_keyspace,
                                   router_error *err)
{
	const char *v[3] = {from_keyspace, shard, to_keyspace};

	if (b == NULL || from_keyspace == NULL || shard == NULL ||
	    to_keyspace == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "shard routing rule: NULL argument");
	if (strlen(from_keyspace) > ROUTER_NAME_MAX ||
	    strlen(shard) > ROUTER_NAME_MAX ||
	    strlen(to_keyspace) > ROUTER_NAME_MAX)
		return router__seterr(err, ROUTER_ERANGE, from_keyspace,
		                      "shard routing rule %.*s/%.*s -> %.*s: a "
		                      "name longer than %d bytes",
		                      ROUTER_NAME_MAX, from_keyspace,
		                      ROUTER_NAME_MAX, shard, ROUTER_NAME_MAX,
		                      to_keyspace, ROUTER_NAME_MAX);
	return add_strings(b, &b->shrules, &b->nshrules, &b->cshrules, v, 3,
	                   err);
}
