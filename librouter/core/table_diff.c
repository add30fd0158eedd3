/*
 * Comparing tables: the content hash (equal content, equal hash), the diff
 * routerctl and the router's events show, and the keyspace-ID guard that
 * refuses a change of where existing rows are looked for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "table.h"

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

uint64_t router__table_content_hash(const router_table *t)
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
			acc += hs(hs(hs(0x72756c65, t->rules[i].from),
			             t->rules[i].to),
			          t->rules[i].error);
		h = hu(h, acc);
	}
	/* Keyspace and shard routing rules (sorted by key, one per key),
	 * only when there are some: a table without them keeps the hash it
	 * had before the table held them, which snapshots and fences
	 * written by earlier builds recorded. */
	if (t->nksrules > 0) {
		h = hu(h, 0x6b7372756c6573 ^ t->nksrules); /* "ksrules" */
		for (i = 0; i < t->nksrules; i++)
			h = hs(hs(h, t->ksrules[i].from), t->ksrules[i].to);
	}
	if (t->nshrules > 0) {
		h = hu(h, 0x73687275756c6573 ^ t->nshrules); /* "shruules" */
		for (i = 0; i < t->nshrules; i++)
			h = hs(hs(hs(h, t->shrules[i].from_ks),
			          t->shrules[i].shard),
			       t->shrules[i].to_ks);
	}
	return h;
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
	if (router__grow(d->a, (void **)&d->e, &d->cap, d->n + 1,
	                 sizeof *d->e)) {
		d->nomem = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	e = &d->e[d->n];
	e->kind = kind;
	e->op = op;
	e->keyspace = router__arena_strdup(d->ar, ks);
	e->name = router__arena_strdup(d->ar, name);
	e->detail = router__arena_strdup(d->ar, detail);
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
	router__sortref *x =
	    router__sorted_at(d->a, a->shards, a->nshards, sizeof *a->shards,
	                      offsetof(router__shard, name));
	router__sortref *y =
	    router__sorted_at(d->a, b->shards, b->nshards, sizeof *b->shards,
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

/* What a rule does, as a diff shows it: its target, "(disabled)", or the
 * error vtgate keeps on it (Vitess's message). */
static const char *rule_text(const router__rule *r)
{
	if (r->error != NULL)
		return r->error;
	return r->to ? r->to : "(disabled)";
}

static void diff_rules(router_diff *d, const router_table *a,
                       const router_table *b)
{
	static const router_table empty;
	router__sortref *x, *y;
	size_t i = 0, j = 0;

	if (a == NULL)
		a = &empty;
	x = router__sorted(d->a, a->rules, a->nrules, sizeof *a->rules);
	y = router__sorted(d->a, b->rules, b->nrules, sizeof *b->rules);
	if (x == NULL || y == NULL) {
		d->nomem = 1;
		goto out;
	}
	while (i < a->nrules || j < b->nrules) {
		int c = i == a->nrules   ? 1
		        : j == b->nrules ? -1
		                         : strcmp(x[i].name, y[j].name);

		if (c < 0) {
			const char *to = rule_text(&a->rules[x[i].idx]);

			dadd(d, ROUTER_DIFF_RULE, ROUTER_DIFF_REMOVED, "",
			     x[i].name, "-> %s", to);
			i++;
		} else if (c > 0) {
			const char *to = rule_text(&b->rules[y[j].idx]);

			dadd(d, ROUTER_DIFF_RULE, ROUTER_DIFF_ADDED, "",
			     y[j].name, "-> %s", to);
			j++;
		} else {
			const char *ta = rule_text(&a->rules[x[i].idx]);
			const char *tb = rule_text(&b->rules[y[j].idx]);

			if (strcmp(ta, tb) != 0)
				dadd(d, ROUTER_DIFF_RULE, ROUTER_DIFF_CHANGED,
				     "", x[i].name, "-> %s becomes -> %s", ta,
				     tb);
			i++;
			j++;
		}
	}
out:
	router__free(d->a, x);
	router__free(d->a, y);
}

static int shrule_key_cmp(const router__shrule *x, const router__shrule *y)
{
	int c = strcmp(x->from_ks, y->from_ks);

	return c != 0 ? c : strcmp(x->shard, y->shard);
}

/* Keyspace and shard routing rules, as ROUTER_DIFF_RULE entries named
 * "keyspace FROM" and "shard KS/SHARD" (table rules are named by their
 * from_table, which has no blank): both lists are sorted by key. */
static void diff_ks_shard_rules(router_diff *d, const router_table *a,
                                const router_table *b)
{
	static const router_table empty;
	char na[2 * ROUTER_NAME_MAX + 16], nb[sizeof na];
	size_t i = 0, j = 0;

	if (a == NULL)
		a = &empty;
	while (i < a->nksrules || j < b->nksrules) {
		int c = i == a->nksrules   ? 1
		        : j == b->nksrules ? -1
		                           : strcmp(a->ksrules[i].from,
		                                    b->ksrules[j].from);

		if (c < 0) {
			snprintf(na, sizeof na, "keyspace %s", a->ksrules[i].from);
			dadd(d, ROUTER_DIFF_RULE, ROUTER_DIFF_REMOVED, "", na,
			     "-> %s", a->ksrules[i].to);
			i++;
		} else if (c > 0) {
			snprintf(nb, sizeof nb, "keyspace %s", b->ksrules[j].from);
			dadd(d, ROUTER_DIFF_RULE, ROUTER_DIFF_ADDED, "", nb,
			     "-> %s", b->ksrules[j].to);
			j++;
		} else {
			if (strcmp(a->ksrules[i].to, b->ksrules[j].to) != 0) {
				snprintf(na, sizeof na, "keyspace %s",
				         a->ksrules[i].from);
				dadd(d, ROUTER_DIFF_RULE, ROUTER_DIFF_CHANGED,
				     "", na, "-> %s becomes -> %s",
				     a->ksrules[i].to, b->ksrules[j].to);
			}
			i++;
			j++;
		}
	}
	i = j = 0;
	while (i < a->nshrules || j < b->nshrules) {
		int c = i == a->nshrules   ? 1
		        : j == b->nshrules ? -1
		                           : shrule_key_cmp(&a->shrules[i],
		                                            &b->shrules[j]);

		if (c < 0) {
			snprintf(na, sizeof na, "shard %s/%s",
			         a->shrules[i].from_ks, a->shrules[i].shard);
			dadd(d, ROUTER_DIFF_RULE, ROUTER_DIFF_REMOVED, "", na,
			     "-> %s", a->shrules[i].to_ks);
			i++;
		} else if (c > 0) {
			snprintf(nb, sizeof nb, "shard %s/%s",
			         b->shrules[j].from_ks, b->shrules[j].shard);
			dadd(d, ROUTER_DIFF_RULE, ROUTER_DIFF_ADDED, "", nb,
			     "-> %s", b->shrules[j].to_ks);
			j++;
		} else {
			if (strcmp(a->shrules[i].to_ks, b->shrules[j].to_ks) !=
			    0) {
				snprintf(na, sizeof na, "shard %s/%s",
				         a->shrules[i].from_ks,
				         a->shrules[i].shard);
				dadd(d, ROUTER_DIFF_RULE, ROUTER_DIFF_CHANGED,
				     "", na, "-> %s becomes -> %s",
				     a->shrules[i].to_ks, b->shrules[j].to_ks);
			}
			i++;
			j++;
		}
	}
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
		return router__seterr(err, ROUTER_ENOMEM, NULL,
	                      "out of memory");
	memset(d, 0, sizeof *d);
	d->ar = router__arena_new(b->alloc);
	if (d->ar == NULL) {
		router__free(b->alloc, d);
		return router__seterr(err, ROUTER_ENOMEM, NULL,
	                      "out of memory");
	}
	d->a = router__arena_allocator(d->ar);
	diff_rules(d, a, b);
	diff_ks_shard_rules(d, a, b);
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
		return router__seterr(err, ROUTER_ENOMEM, NULL,
	                      "out of memory");
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
	a = *router__arena_allocator(d->ar);
	router__free(&a, d->e);
	router__arena_free(d->ar);
	router__free(&a, d);
}

/* A deep copy of src (NULL copies as an empty diff) in memory of its own,
 * freed with router_diff_free; for router_event_copy.  ROUTER_ENOMEM
 * leaves *out NULL. */
int router__diff_copy(const router_diff *src, const router_allocator *a,
                      router_diff **out)
{
	const router_allocator *al = router__allocator(a);
	router_diff *d;
	size_t i;

	*out = NULL;
	d = router__malloc(al, sizeof *d);
	if (d == NULL)
		return ROUTER_ENOMEM;
	memset(d, 0, sizeof *d);
	d->ar = router__arena_new(al);
	if (d->ar == NULL) {
		router__free(al, d);
		return ROUTER_ENOMEM;
	}
	d->a = router__arena_allocator(d->ar);
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
 * column count, bytes and column vindexes, region_json's region_bytes
 * and map.  Types with no params ignore
 * the ones they are given (Vitess does too).  For the lookup family
 * (the keyspace ID is in its table), cfc and unicode_loose_* every param
 * counts.  The
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
	case ROUTER__V_REGION_JSON:
		if (x->u.rj.region_bytes != y->u.rj.region_bytes) {
			snprintf(why, cap, "region_bytes %u -> %u",
			         (unsigned)x->u.rj.region_bytes,
			         (unsigned)y->u.rj.region_bytes);
			return;
		}
		/* The map as read (region_map or region_map_json). */
		for (i = 0; i < x->u.rj.n && x->u.rj.n == y->u.rj.n; i++)
			if (x->u.rj.e[i].len != y->u.rj.e[i].len ||
			    x->u.rj.e[i].region != y->u.rj.e[i].region ||
			    memcmp(x->u.rj.e[i].key, y->u.rj.e[i].key,
			           x->u.rj.e[i].len) != 0)
				break;
		if (x->u.rj.n != y->u.rj.n || i < x->u.rj.n)
			snprintf(why, cap,
			         "its region map changes: %zu -> %zu entries",
			         x->u.rj.n, y->u.rj.n);
		return;
	case ROUTER__V_CFC:
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
