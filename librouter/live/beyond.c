/*
 * Beyond the guards: the writer-side policies a publish consults besides
 * the table-shape guards (publish.c).  Fences and the quarantine decide
 * what happens to refused content; operator invariants are declared once
 * and checked on every publish; shadow evaluation routes a sample of keys
 * through the table in service and the candidate.  All of it runs on the
 * writer side, on frozen tables; nothing here is reached from a lookup.
 *
 * Beyond the guards (issue 8).  Fences, invariants, the shadow sample and
 * the pending (quarantined) table are writer-side state under r->lock,
 * consulted only by publish_locked (publish.c); lookups never read them,
 * so the read path is unchanged.  A pending table is owned by the router
 * (t->owner set, so it cannot be published elsewhere) but was never stored
 * in r->current nor in the history: no reader can hold it, and it is freed at once
 * (router__table_destroy, no grace period) when discarded or superseded.
 * An approval runs the same publish_locked with the destructive flag, so
 * an approved table goes through exactly the swap, history and
 * reclamation of any accepted table.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beyond.h"
#include "live.h"
#include "core/table.h"

/* ---- fences and quarantine ------------------------------------------------ */

/* Fence t's content (fencing on, not already fenced: then only refreshed).
 * Called with r->lock held; never fails (a full list forgets its oldest). */
void router__fence(router *r, uint64_t hash, uint64_t version,
                   router_fence_origin origin, int code)
{
	router_fence *f;
	unsigned i;

	if (r->fence_cap == 0)
		return;
	for (i = 0; i < r->nfences; i++)
		if (r->fences[i].content_hash == hash)
			break;
	if (i < r->nfences) {
		memmove(&r->fences[i], &r->fences[i + 1],
		        (r->nfences - i - 1) * sizeof *r->fences);
		r->nfences--;
	} else if (r->nfences == r->fence_cap) {
		memmove(&r->fences[0], &r->fences[1],
		        (r->nfences - 1) * sizeof *r->fences);
		r->nfences--;
	}
	f = &r->fences[r->nfences++];
	f->content_hash = hash;
	f->version = version;
	f->origin = origin;
	f->code = code;
	f->fenced_unix_ns = now_ns();
}

const router_fence *router__fenced(const router *r, uint64_t hash)
{
	unsigned i;

	for (i = 0; i < r->nfences; i++)
		if (r->fences[i].content_hash == hash)
			return &r->fences[i];
	return NULL;
}

/* Drop the pending table (superseded or discarded).  Lock held. */
void router__pending_drop(router *r, int by_operator)
{
	router_table *t = r->pending;

	if (t == NULL)
		return;
	r->pending = NULL;
	r->st.discarded++;
	if (by_operator)
		router__fence(r, t->hash, t->version, ROUTER_FENCE_DISCARDED,
		              0);
	router__emit(r, ROUTER_EVENT_DISCARD, ROUTER_OK, r->version,
	             t->version, t->hash, NULL, NULL);
	/* Never reachable by readers: free now. */
	router__table_destroy(t);
}

/* Codes whose refusal judges the content (fenced; quarantinable are the
 * first three). */
int router__quarantinable(int rc)
{
	return rc == ROUTER_EEMPTY || rc == ROUTER_ESHRINK ||
	       rc == ROUTER_ESHADOW;
}

int router__judges_content(int rc)
{
	return router__quarantinable(rc) || rc == ROUTER_EINVARIANT;
}

size_t router_fences(router *r, router_fence *out, size_t cap)
{
	size_t i, n;

	if (r == NULL)
		return 0;
	pthread_mutex_lock(&r->lock);
	n = r->nfences;
	for (i = 0; i < n && i < cap && out != NULL; i++)
		out[i] = r->fences[i];
	pthread_mutex_unlock(&r->lock);
	return n;
}

int router_fence_add(router *r, uint64_t content_hash, router_error *err)
{
	if (r == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_fence_add: NULL argument");
	if (r->fence_cap == 0)
		return router__seterr(err, ROUTER_ESTATE, NULL,
		                      "fencing is off (router_options."
		                      "fence_cap is 0)");
	pthread_mutex_lock(&r->lock);
	router__fence(r, content_hash, 0, ROUTER_FENCE_MANUAL, 0);
	pthread_mutex_unlock(&r->lock);
	router__clearerr(err);
	return ROUTER_OK;
}

int router_fence_lift(router *r, uint64_t content_hash, router_error *err)
{
	unsigned i;
	int rc = ROUTER_OK;

	if (r == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_fence_lift: NULL argument");
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nfences; i++)
		if (r->fences[i].content_hash == content_hash)
			break;
	if (i == r->nfences) {
		rc = router__seterr(err, ROUTER_ENOTFOUND, NULL,
		                    "content %016llx is not fenced",
		                    (unsigned long long)content_hash);
	} else {
		memmove(&r->fences[i], &r->fences[i + 1],
		        (r->nfences - i - 1) * sizeof *r->fences);
		r->nfences--;
		router__clearerr(err);
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void router_fence_clear(router *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->nfences = 0;
	pthread_mutex_unlock(&r->lock);
}

/* ---- invariants ---------------------------------------------------------- */

enum inv_kind { INV_SHARDED = 1, INV_MIN_SHARDS, INV_TABLES, INV_VINDEX };

struct router__invariant {
	enum inv_kind kind;
	char *ks;
	char *table;       /* INV_VINDEX */
	char *vtype;       /* INV_VINDEX; NULL: keep the type in service */
	char **tables;     /* INV_TABLES */
	size_t ntables;
	unsigned long min; /* INV_MIN_SHARDS */
	char *text;        /* canonical */
};

/* The spec is quoted escaped and cut whole (router__fmt_name): "%.200s"
 * could end in half a UTF-8 character, and a control byte went in raw. */
static int syntax(router_error *err, const char *spec, const char *what)
{
	char shown[200];

	return router__seterr(err, ROUTER_EINVAL, NULL, "invariant \"%s\": %s",
	                      router__fmt_name(shown, sizeof shown, spec,
	                                       strlen(spec)),
	                      what);
}

/* Next blank-separated word of *p (up to a '#'), as (start, len); 0 at the
 * end. */
static size_t word(const char **p, const char **start)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (*s == '#' || *s == '\0') {
		*p = s;
		return 0;
	}
	*start = s;
	while (s[n] != '\0' && s[n] != ' ' && s[n] != '\t' && s[n] != '\r' &&
	       s[n] != '\n' && s[n] != '#')
		n++;
	*p = s + n;
	return n;
}

static int is_word(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

void router__invariant_free(router__invariant *inv, const router_allocator *a)
{
	size_t i;

	if (inv == NULL)
		return;
	router__free(a, inv->ks);
	router__free(a, inv->table);
	router__free(a, inv->vtype);
	for (i = 0; i < inv->ntables; i++)
		router__free(a, inv->tables[i]);
	router__free(a, inv->tables);
	router__free(a, inv->text);
	router__free(a, inv);
}

/* The words of an invariant: "W1 W2 [W3 [W4]]" (n3, n4 0 when absent). */
typedef struct inv_words {
	const char *w1, *w2, *w3, *w4;
	size_t n1, n2, n3, n4;
} inv_words;

static int inv_oom(router_error *err)
{
	return router__seterr(err, ROUTER_ENOMEM, NULL,
	                      "out of memory parsing an invariant");
}

/* Split spec into at most four words.  ROUTER_OK or ROUTER_EINVAL. */
static int spec_words(const char *spec, inv_words *w, router_error *err)
{
	const char *p = spec, *x = NULL;

	w->w1 = w->w2 = w->w3 = w->w4 = NULL;
	w->n1 = word(&p, &w->w1);
	w->n2 = word(&p, &w->w2);
	w->n3 = word(&p, &w->w3);
	w->n4 = word(&p, &w->w4);
	if (w->n1 == 0 || w->n2 == 0)
		return syntax(err, spec,
		              "expected \"KS sharded\", \"KS shards >= N\", "
		              "\"KS tables T1,T2\" or \"KS.T vindex [TYPE]\"");
	if (w->n1 > 2 * ROUTER_NAME_MAX + 1)
		return syntax(err, spec, "name too long");
	if (word(&p, &x) != 0)
		return syntax(err, spec, "unexpected words at the end");
	return ROUTER_OK;
}

/* "KS.T vindex [TYPE]" (dot: the '.' in w1, or NULL). */
static int parse_vindex(const char *spec, const inv_words *w,
                        const char *dot, const router_allocator *a,
                        router__invariant *inv, router_error *err)
{
	if (dot == NULL || dot == w->w1 || dot == w->w1 + w->n1 - 1 ||
	    w->n4 != 0)
		return syntax(err, spec,
		              "expected \"KEYSPACE.TABLE vindex [TYPE]\"");
	inv->kind = INV_VINDEX;
	inv->ks = router__strndup(a, w->w1, (size_t)(dot - w->w1));
	inv->table = router__strndup(a, dot + 1,
	                             w->n1 - (size_t)(dot - w->w1) - 1);
	if (inv->ks == NULL || inv->table == NULL)
		return inv_oom(err);
	if (w->n3 != 0 &&
	    (inv->vtype = router__strndup(a, w->w3, w->n3)) == NULL)
		return inv_oom(err);
	return ROUTER_OK;
}

/* "KS shards >= N": w4 is N. */
static int parse_min_shards(const char *spec, const inv_words *w,
                            router__invariant *inv, router_error *err)
{
	char num[24];
	char *end;

	inv->kind = INV_MIN_SHARDS;
	if (w->n4 >= sizeof num || !isdigit((unsigned char)w->w4[0]))
		return syntax(err, spec, "expected a shard count");
	memcpy(num, w->w4, w->n4);
	num[w->n4] = '\0';
	inv->min = strtoul(num, &end, 10);
	if (*end != '\0' || inv->min == 0 || inv->min > 1u << 20)
		return syntax(err, spec,
		              "expected a shard count from 1 to "
		              "1048576");
	return ROUTER_OK;
}

/* "KS tables T1,T2": w3 is the list. */
static int parse_tables(const char *spec, const inv_words *w,
                        const router_allocator *a, router__invariant *inv,
                        router_error *err)
{
	const char *s = w->w3, *e = w->w3 + w->n3;

	inv->kind = INV_TABLES;
	inv->tables = router__malloc(a, (w->n3 / 2 + 1) * sizeof *inv->tables);
	if (inv->tables == NULL)
		return inv_oom(err);
	while (s < e) {
		const char *c = memchr(s, ',', (size_t)(e - s));
		size_t l = (size_t)((c ? c : e) - s);

		if (l == 0 || l > ROUTER_NAME_MAX)
			return syntax(err, spec,
			              "expected table names "
			              "separated by commas");
		inv->tables[inv->ntables] = router__strndup(a, s, l);
		if (inv->tables[inv->ntables] == NULL)
			return inv_oom(err);
		inv->ntables++;
		s += l + 1;
	}
	if (w->w3[w->n3 - 1] == ',')
		return syntax(err, spec,
		              "expected table names separated "
		              "by commas");
	return ROUTER_OK;
}

/* A keyspace invariant: "KS sharded", "KS shards >= N", "KS tables
 * T1,T2" (dot: the '.' in w1, or NULL). */
static int parse_keyspace(const char *spec, const inv_words *w,
                          const char *dot, const router_allocator *a,
                          router__invariant *inv, router_error *err)
{
	if (dot != NULL)
		return syntax(err, spec,
		              "a keyspace invariant names a keyspace, "
		              "not KEYSPACE.TABLE");
	if ((inv->ks = router__strndup(a, w->w1, w->n1)) == NULL)
		return inv_oom(err);
	if (is_word(w->w2, w->n2, "sharded") && w->n3 == 0) {
		inv->kind = INV_SHARDED;
		return ROUTER_OK;
	}
	if (is_word(w->w2, w->n2, "shards") && w->n3 != 0 &&
	    is_word(w->w3, w->n3, ">=") && w->n4 != 0)
		return parse_min_shards(spec, w, inv, err);
	if (is_word(w->w2, w->n2, "tables") && w->n3 != 0 && w->n4 == 0)
		return parse_tables(spec, w, a, inv, err);
	return syntax(err, spec,
	              "expected \"KS sharded\", \"KS shards >= "
	              "N\", \"KS tables T1,T2\" or \"KS.T vindex "
	              "[TYPE]\"");
}

/* inv->text, the canonical form of a parsed inv.  0, or -1 out of
 * memory. */
static int canonical_text(router__invariant *inv, const router_allocator *a)
{
	size_t tl, i;
	char *q;

	tl = strlen(inv->ks) + 64 + (inv->table ? strlen(inv->table) : 0) +
	     (inv->vtype ? strlen(inv->vtype) : 0);
	for (i = 0; i < inv->ntables; i++)
		tl += strlen(inv->tables[i]) + 1;
	if ((inv->text = q = router__malloc(a, tl)) == NULL)
		return -1;
	switch (inv->kind) {
	case INV_SHARDED:
		snprintf(q, tl, "%s sharded", inv->ks);
		break;
	case INV_MIN_SHARDS:
		snprintf(q, tl, "%s shards >= %lu", inv->ks, inv->min);
		break;
	case INV_TABLES:
		q += snprintf(q, tl, "%s tables ", inv->ks);
		for (i = 0; i < inv->ntables; i++)
			q += sprintf(q, "%s%s", i ? "," : "", inv->tables[i]);
		break;
	case INV_VINDEX:
		snprintf(q, tl, "%s.%s vindex%s%s", inv->ks, inv->table,
		         inv->vtype ? " " : "", inv->vtype ? inv->vtype : "");
		break;
	}
	return 0;
}

int router__invariant_parse(const char *spec, const router_allocator *a,
                            router__invariant **out, router_error *err)
{
	inv_words w;
	const char *dot;
	router__invariant *inv;
	int rc;

	*out = NULL;
	if (spec == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "invariant is NULL");
	if ((rc = spec_words(spec, &w, err)) != ROUTER_OK)
		return rc;
	inv = router__malloc(a, sizeof *inv);
	if (inv == NULL)
		return inv_oom(err);
	memset(inv, 0, sizeof *inv);
	dot = memchr(w.w1, '.', w.n1);
	if (is_word(w.w2, w.n2, "vindex"))
		rc = parse_vindex(spec, &w, dot, a, inv, err);
	else
		rc = parse_keyspace(spec, &w, dot, a, inv, err);
	if (rc == ROUTER_OK && canonical_text(inv, a) != 0)
		rc = inv_oom(err);
	if (rc != ROUTER_OK) {
		router__invariant_free(inv, a);
		return rc;
	}
	*out = inv;
	return ROUTER_OK;
}

const char *router__invariant_text(const router__invariant *inv)
{
	return inv->text;
}

/* Primary vindex type of ks.table in t: 1 with *type set (NULL when it
 * routes without a vindex), 0 when the table is absent. */
static int vindex_type(const router_table *t, const char *ks,
                       const char *table, const char **type)
{
	const router__keyspace *k = router__table_keyspace(t, ks, strlen(ks));
	const router__tdef *d;

	*type = NULL;
	if (k == NULL)
		return 0;
	d = router__keyspace_table(k, table, strlen(table));
	if (d == NULL)
		return 0;
	if (d->mode == ROUTER__T_VINDEX && d->ncvs > 0 && d->cvs[0].vd != NULL)
		*type = d->cvs[0].vd->type;
	return 1;
}

int router__invariant_check(const router__invariant *inv,
                            const router_table *cur, const router_table *next,
                            router_error *err)
{
	const router__keyspace *k =
	    router__table_keyspace(next, inv->ks, strlen(inv->ks));
	char culprit[2 * ROUTER_NAME_MAX + 2];
	const char *want, *have;
	size_t i;

	if (inv->kind == INV_VINDEX) {
		snprintf(culprit, sizeof culprit, "%s.%s", inv->ks, inv->table);
		want = inv->vtype;
		if (want == NULL &&
		    (cur == NULL || !vindex_type(cur, inv->ks, inv->table, &want)))
			return ROUTER_OK; /* nothing in service to keep */
		if (!vindex_type(next, inv->ks, inv->table, &have))
			return router__seterr(err, ROUTER_EINVARIANT, culprit,
			                      "invariant \"%s\" violated: table "
			                      "%s would be missing",
			                      inv->text, culprit);
		if ((want == NULL) != (have == NULL) ||
		    (want != NULL && strcmp(want, have) != 0))
			return router__seterr(
			    err, ROUTER_EINVARIANT, culprit,
			    "invariant \"%s\" violated: table %s would route "
			    "through %s instead of %s",
			    inv->text, culprit, have ? have : "no vindex",
			    want ? want : "no vindex");
		return ROUTER_OK;
	}
	if (k == NULL)
		return router__seterr(err, ROUTER_EINVARIANT, inv->ks,
		                      "invariant \"%s\" violated: keyspace %s "
		                      "would be missing",
		                      inv->text, inv->ks);
	switch (inv->kind) {
	case INV_SHARDED:
		if (!k->sharded)
			return router__seterr(err, ROUTER_EINVARIANT, inv->ks,
			                      "invariant \"%s\" violated: keyspace "
			                      "%s would be unsharded",
			                      inv->text, inv->ks);
		break;
	case INV_MIN_SHARDS:
		if (k->nshards < inv->min)
			return router__seterr(err, ROUTER_EINVARIANT, inv->ks,
			                      "invariant \"%s\" violated: keyspace "
			                      "%s would have %u shard%s",
			                      inv->text, inv->ks,
			                      (unsigned)k->nshards,
			                      k->nshards == 1 ? "" : "s");
		break;
	case INV_TABLES:
		for (i = 0; i < inv->ntables; i++)
			if (router__keyspace_table(k, inv->tables[i],
			                           strlen(inv->tables[i])) ==
			    NULL) {
				snprintf(culprit, sizeof culprit, "%s.%s",
				         inv->ks, inv->tables[i]);
				return router__seterr(
				    err, ROUTER_EINVARIANT, culprit,
				    "invariant \"%s\" violated: keyspace %s "
				    "would lose table %s",
				    inv->text, inv->ks, inv->tables[i]);
			}
		break;
	default:
		break;
	}
	return ROUTER_OK;
}

static int invariant_find(const router *r, const router__invariant *inv)
{
	unsigned i;

	for (i = 0; i < r->ninv; i++)
		if (strcmp(router__invariant_text(r->inv[i]),
		           router__invariant_text(inv)) == 0)
			return (int)i;
	return -1;
}

int router_invariant_add(router *r, const char *spec, router_error *err)
{
	router__invariant *inv;
	int rc;

	if (r == NULL || spec == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_invariant_add: NULL argument");
	rc = router__invariant_parse(spec, &r->alloc, &inv, err);
	if (rc != ROUTER_OK)
		return rc;
	pthread_mutex_lock(&r->lock);
	if (invariant_find(r, inv) >= 0) {
		rc = ROUTER_OK;
		goto drop;
	}
	if (r->ninv == ROUTER_INVARIANT_MAX) {
		rc = router__seterr(err, ROUTER_ERANGE, NULL,
		                    "a router holds at most %d invariants",
		                    ROUTER_INVARIANT_MAX);
		goto drop;
	}
	if (r->current != NULL &&
	    (rc = router__invariant_check(inv, NULL, r->current, err)) !=
	        ROUTER_OK)
		goto drop;
	if (r->ninv == r->cinv) {
		unsigned n = r->cinv ? r->cinv * 2 : 8;
		router__invariant **p =
		    router__realloc(&r->alloc, r->inv, n * sizeof *p);

		if (p == NULL) {
			rc = router__seterr(err, ROUTER_ENOMEM, NULL,
			                    "out of memory declaring an "
			                    "invariant");
			goto drop;
		}
		r->inv = p;
		r->cinv = n;
	}
	r->inv[r->ninv++] = inv;
	pthread_mutex_unlock(&r->lock);
	router__clearerr(err);
	return ROUTER_OK;
drop:
	pthread_mutex_unlock(&r->lock);
	router__invariant_free(inv, &r->alloc);
	if (rc == ROUTER_OK)
		router__clearerr(err);
	return rc;
}

int router_invariant_remove(router *r, const char *spec, router_error *err)
{
	router__invariant *inv;
	int rc, i;

	if (r == NULL || spec == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_invariant_remove: NULL argument");
	rc = router__invariant_parse(spec, &r->alloc, &inv, err);
	if (rc != ROUTER_OK)
		return rc;
	pthread_mutex_lock(&r->lock);
	i = invariant_find(r, inv);
	if (i < 0) {
		rc = router__seterr(err, ROUTER_ENOTFOUND, NULL,
		                    "invariant \"%s\" is not declared",
		                    router__invariant_text(inv));
	} else {
		router__invariant_free(r->inv[i], &r->alloc);
		memmove(&r->inv[i], &r->inv[i + 1],
		        (r->ninv - (unsigned)i - 1) * sizeof *r->inv);
		r->ninv--;
		router__clearerr(err);
	}
	pthread_mutex_unlock(&r->lock);
	router__invariant_free(inv, &r->alloc);
	return rc;
}

size_t router_invariant_get(router *r, size_t i, char *buf, size_t cap)
{
	size_t n;

	if (r == NULL)
		return 0;
	pthread_mutex_lock(&r->lock);
	n = r->ninv;
	if (i < n && buf != NULL && cap > 0)
		snprintf(buf, cap, "%s", router__invariant_text(r->inv[i]));
	pthread_mutex_unlock(&r->lock);
	return n;
}

int router_invariants_check(const char *const *specs, size_t n,
                            const router_table *cur, const router_table *next,
                            router_error *err)
{
	const router_allocator *a = router__allocator(NULL);
	size_t i;

	if ((specs == NULL && n > 0) || next == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_invariants_check: NULL argument");
	for (i = 0; i < n; i++) {
		router__invariant *inv;
		int rc = router__invariant_parse(specs[i], a, &inv, err);

		if (rc == ROUTER_EINVAL && err != NULL)
			snprintf(err->culprit, sizeof err->culprit,
			         "invariant %zu", i + 1);
		if (rc != ROUTER_OK)
			return rc;
		rc = router__invariant_check(inv, cur, next, err);
		router__invariant_free(inv, a);
		if (rc != ROUTER_OK)
			return rc;
	}
	router__clearerr(err);
	return ROUTER_OK;
}

/* ---- shadow evaluation ------------------------------------------------------ */

struct router_shadow_verdict {
	const router_allocator *alloc;
	router_shadow_stat *ks; /* sorted by keyspace name */
	size_t n;
	router_shadow_stat total;
};

/* A name of sample key i with a NUL in it: ROUTER_EINVAL saying which.
 * Only a NUL: the copy and the verdict's keyspace are C strings, so
 * "user\0" would be counted as a keyspace of its own yet printed "user",
 * and no table can hold such a name (every name in a table is a C string;
 * the bindings refuse a NUL too).  Other bytes (control bytes, bad UTF-8)
 * stay distinct names; no table holds them either, so such a key counts
 * as unroutable, as router_table_route would say. */
static int nul_in_name(size_t i, const char *what, const char *name,
                       size_t len, router_error *err)
{
	char shown[80];

	if (len == 0 || memchr(name, '\0', len) == NULL)
		return ROUTER_OK;
	return router__seterr(err, ROUTER_EINVAL, NULL,
	                      "sample key %zu: %s name \"%s\" contains a NUL "
	                      "byte; no table can hold it",
	                      i, what,
	                      router__fmt_name(shown, sizeof shown, name, len));
}

/* Sample key i as given by the caller: ROUTER_OK or ROUTER_EINVAL saying
 * what is wrong with it. */
static int check_key(const router_sample_key *k, size_t i, router_error *err)
{
	size_t j;
	int rc;

	if ((k->keyspace == NULL && k->keyspace_len) ||
	    (k->table == NULL && k->table_len) ||
	    (k->values == NULL && k->nvalues))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "sample key %zu: NULL pointer with a "
		                      "length",
		                      i);
	for (j = 0; j < k->nvalues; j++)
		if (k->values[j].ptr == NULL && k->values[j].len)
			return router__seterr(err, ROUTER_EINVAL, NULL,
			                      "sample key %zu: value %zu is a "
			                      "NULL pointer with a length",
			                      i, j);
	if (k->nvalues > ROUTER_MULTICOL_MAX)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "sample key %zu: %zu values; the limit "
		                      "is %d",
		                      i, k->nvalues, ROUTER_MULTICOL_MAX);
	if (k->keyspace_len > ROUTER_NAME_MAX || k->table_len > ROUTER_NAME_MAX)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "sample key %zu: %s name is %zu bytes; "
		                      "the limit is %d",
		                      i,
		                      k->keyspace_len > ROUTER_NAME_MAX
		                          ? "keyspace"
		                          : "table",
		                      k->keyspace_len > ROUTER_NAME_MAX
		                          ? k->keyspace_len
		                          : k->table_len,
		                      ROUTER_NAME_MAX);
	if ((rc = nul_in_name(i, "keyspace", k->keyspace, k->keyspace_len,
	                      err)) != ROUTER_OK ||
	    (rc = nul_in_name(i, "table", k->table, k->table_len, err)) !=
	        ROUTER_OK)
		return rc;
	return ROUTER_OK;
}

int router__sample_copy(const router_sample_key *keys, size_t n,
                        const router_allocator *a, router_sample_key **out,
                        router_error *err)
{
	size_t i, j, bytes, nv = 0, vb;
	int over = __builtin_mul_overflow(n, sizeof(router_sample_key), &bytes);
	router_sample_key *k;
	router_value *v;
	char *p;

	*out = NULL;
	for (i = 0; i < n; i++) {
		int rc = check_key(&keys[i], i, err);

		if (rc != ROUTER_OK)
			return rc;
		/* Names are bounded by check_key; counts and value lengths
		 * come from the caller and may add up past SIZE_MAX. */
		over |= __builtin_add_overflow(nv, keys[i].nvalues, &nv);
		over |= __builtin_add_overflow(
		    bytes, keys[i].keyspace_len + keys[i].table_len + 2, &bytes);
		for (j = 0; j < keys[i].nvalues; j++)
			over |= __builtin_add_overflow(
			    bytes, keys[i].values[j].len, &bytes);
	}
	over |= __builtin_add_overflow(nv, (size_t)1, &vb);
	over |= __builtin_mul_overflow(vb, sizeof(router_value), &vb);
	over |= __builtin_add_overflow(bytes, vb, &bytes);
	if (over)
		return router__seterr(err, ROUTER_ERANGE, NULL,
		                      "sample of %zu keys is larger than memory",
		                      n);
	k = router__malloc(a, bytes);
	if (k == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL,
		                      "out of memory copying the sample");
	/* Values (aligned) right after the keys, then the bytes. */
	v = (router_value *)(void *)(k + n);
	p = (char *)(v + nv);
	for (i = 0; i < n; i++) {
		k[i] = keys[i];
		memcpy(p, keys[i].keyspace, keys[i].keyspace_len);
		p[keys[i].keyspace_len] = '\0';
		k[i].keyspace = p;
		p += keys[i].keyspace_len + 1;
		memcpy(p, keys[i].table, keys[i].table_len);
		p[keys[i].table_len] = '\0';
		k[i].table = p;
		p += keys[i].table_len + 1;
		k[i].values = v;
		for (j = 0; j < keys[i].nvalues; j++, v++) {
			*v = keys[i].values[j];
			if (v->len) {
				memcpy(p, v->ptr, v->len);
				v->ptr = p;
				p += v->len;
			}
		}
	}
	*out = k;
	return ROUTER_OK;
}

/* Route key k in t: 1 with *shard set (NULL for ROUTER_NONE), 0 when it
 * does not route. */
static int route_key(const router_table *t, const router_sample_key *k,
                     const char **shard)
{
	router_route_result res;
	int rc;

	*shard = NULL;
	if (t == NULL)
		return 0;
	rc = router_table_route(t, k->keyspace, k->keyspace_len, k->table,
	                        k->table_len, k->values, k->nvalues, &res,
	                        NULL);
	if (rc == ROUTER_OK)
		*shard = res.shard;
	return rc == ROUTER_OK || rc == ROUTER_NONE;
}

static int key_ks_cmp(const void *x, const void *y)
{
	const router_sample_key *a = *(const router_sample_key *const *)x;
	const router_sample_key *b = *(const router_sample_key *const *)y;
	size_t n = a->keyspace_len < b->keyspace_len ? a->keyspace_len
	                                             : b->keyspace_len;
	int c = n ? memcmp(a->keyspace, b->keyspace, n) : 0;

	if (c != 0)
		return c;
	return (a->keyspace_len > b->keyspace_len) -
	       (a->keyspace_len < b->keyspace_len);
}

int router__shadow_run(const router_table *from, const router_table *to,
                       const router_sample_key *keys, size_t n,
                       const router_allocator *a, router_shadow_verdict **out,
                       router_error *err)
{
	const router_sample_key **order = NULL;
	router_shadow_verdict *v;
	size_t i, nks = 0, names = 0;
	char *p;

	*out = NULL;
	if (to == NULL || (keys == NULL && n > 0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_shadow_evaluate: NULL argument");
	for (i = 0; i < n; i++) {
		int rc = check_key(&keys[i], i, err);

		if (rc != ROUTER_OK)
			return rc;
	}
	order = router__malloc(a, (n ? n : 1) * sizeof *order);
	if (order == NULL)
		goto oom;
	for (i = 0; i < n; i++)
		order[i] = &keys[i];
	qsort(order, n, sizeof *order, key_ks_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || key_ks_cmp(&order[i - 1], &order[i]) != 0) {
			nks++;
			names += order[i]->keyspace_len + 1;
		}
	v = router__malloc(a, sizeof *v + nks * sizeof *v->ks + names);
	if (v == NULL)
		goto oom;
	memset(v, 0, sizeof *v);
	v->alloc = a;
	v->ks = (router_shadow_stat *)(void *)(v + 1);
	p = (char *)(v->ks + nks);
	v->total.keyspace = "";
	for (i = 0; i < n; i++) {
		const router_sample_key *k = order[i];
		router_shadow_stat *s;
		const char *sa, *sb;
		int ra, rb;

		if (i == 0 || key_ks_cmp(&order[i - 1], &order[i]) != 0) {
			s = &v->ks[v->n++];
			memset(s, 0, sizeof *s);
			memcpy(p, k->keyspace, k->keyspace_len);
			p[k->keyspace_len] = '\0';
			s->keyspace = p;
			p += k->keyspace_len + 1;
		}
		s = &v->ks[v->n - 1];
		ra = route_key(from, k, &sa);
		rb = route_key(to, k, &sb);
		s->keys++;
		if (ra) {
			s->routed++;
			if (!rb)
				s->unroutable++;
			else if ((sa == NULL) != (sb == NULL) ||
			         (sa != NULL && strcmp(sa, sb) != 0))
				s->moved++;
		} else if (rb) {
			s->newly_routable++;
		}
	}
	for (i = 0; i < v->n; i++) {
		v->total.keys += v->ks[i].keys;
		v->total.routed += v->ks[i].routed;
		v->total.moved += v->ks[i].moved;
		v->total.unroutable += v->ks[i].unroutable;
		v->total.newly_routable += v->ks[i].newly_routable;
	}
	router__free(a, order);
	*out = v;
	router__clearerr(err);
	return ROUTER_OK;
oom:
	router__free(a, order);
	return router__seterr(err, ROUTER_ENOMEM, NULL,
	                      "out of memory evaluating the sample");
}

const router_shadow_stat *
router__shadow_over(const router_shadow_verdict *v, double max_moved,
                    double max_unroutable)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		const router_shadow_stat *s = &v->ks[i];

		if (s->routed == 0)
			continue;
		if ((double)s->moved > max_moved * (double)s->routed ||
		    (double)s->unroutable > max_unroutable * (double)s->routed)
			return s;
	}
	return NULL;
}

int router_shadow_evaluate(const router_table *from, const router_table *to,
                           const router_sample_key *keys, size_t n,
                           router_shadow_verdict **out, router_error *err)
{
	if (out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_shadow_evaluate: out is NULL");
	return router__shadow_run(from, to, keys, n, router__allocator(NULL),
	                          out, err);
}

size_t router_shadow_count(const router_shadow_verdict *v)
{
	return v ? v->n : 0;
}

const router_shadow_stat *router_shadow_get(const router_shadow_verdict *v,
                                            size_t i)
{
	return v && i < v->n ? &v->ks[i] : NULL;
}

void router_shadow_totals(const router_shadow_verdict *v,
                          router_shadow_stat *out)
{
	if (out == NULL)
		return;
	if (v == NULL) {
		memset(out, 0, sizeof *out);
		out->keyspace = "";
		return;
	}
	*out = v->total;
}

void router_shadow_free(router_shadow_verdict *v)
{
	if (v != NULL)
		router__free(v->alloc, v);
}

int router__shadow_copy(const router_shadow_verdict *src,
                        const router_allocator *a,
                        router_shadow_verdict **out)
{
	router_shadow_verdict *v;
	size_t names = 0, i, len;
	char *p;

	a = router__allocator(a);
	*out = NULL;
	for (i = 0; i < src->n; i++)
		names += strlen(src->ks[i].keyspace) + 1;
	v = router__malloc(a, sizeof *v + src->n * sizeof *v->ks + names);
	if (v == NULL)
		return ROUTER_ENOMEM;
	*v = *src;
	v->alloc = a;
	v->ks = (router_shadow_stat *)(void *)(v + 1);
	p = (char *)(v->ks + src->n);
	for (i = 0; i < src->n; i++) {
		v->ks[i] = src->ks[i];
		len = strlen(src->ks[i].keyspace) + 1;
		memcpy(p, src->ks[i].keyspace, len);
		v->ks[i].keyspace = p;
		p += len;
	}
	v->total.keyspace = "";
	*out = v;
	return ROUTER_OK;
}

/* ---- the router's shadow sample ---------------------------------------- */

int router_shadow_set_sample(router *r, const router_sample_key *keys,
                             size_t n, const router_shadow_options *opt,
                             router_error *err)
{
	router_shadow_options o = ROUTER_SHADOW_OPTIONS_INIT;
	router_sample_key *copy = NULL;
	int rc;

	if (r == NULL || (keys == NULL && n > 0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_shadow_set_sample: NULL argument");
	if (opt != NULL) {
		if (opt->size < sizeof(size_t) || opt->size > sizeof o)
			return router__seterr(err, ROUTER_EINVAL, NULL,
			                      "router_shadow_options.size is "
			                      "%zu; use "
			                      "ROUTER_SHADOW_OPTIONS_INIT",
			                      opt->size);
		memcpy(&o, opt, opt->size);
	}
	if (!(o.max_moved >= 0.0 && o.max_moved <= 1.0) ||
	    !(o.max_unroutable >= 0.0 && o.max_unroutable <= 1.0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "shadow thresholds must be in [0, 1] "
		                      "(max_moved %g, max_unroutable %g)",
		                      o.max_moved, o.max_unroutable);
	if (n > 0) {
		rc = router__sample_copy(keys, n, &r->alloc, &copy, err);
		if (rc != ROUTER_OK)
			return rc;
	}
	pthread_mutex_lock(&r->lock);
	router__free(&r->alloc, r->sample);
	r->sample = copy;
	r->nsample = n;
	r->shadow_max_moved = o.max_moved;
	r->shadow_max_unroutable = o.max_unroutable;
	pthread_mutex_unlock(&r->lock);
	router__clearerr(err);
	return ROUTER_OK;
}
