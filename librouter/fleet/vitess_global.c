/*
 * The global values watched for latent poison and their verdicts
 * (vitess_global.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vitess_global.h"
#include "core/internal.h"

typedef struct gval {
	char *key;
	size_t key_len;
	char *value; /* NULL when deleted or empty */
	size_t len;
	int64_t mod_revision; /* of the put, or of the delete */
	int deleted;
	int dirty; /* applied since its last judgement */
	int seen;  /* router__vglobal_read's mark */
	/* The last judgement (valid when judged) and the last verdict
	 * reported (reported_code ROUTER_OK: none, or cleared). */
	int judged;
	router__vitess_finding finding;
	int reported_code;
	int64_t reported_rev;
} gval;

struct router__vglobal {
	char *root, *prefix;
	gval *v;
	size_t n;
};

int router__vglobal_create(router__vglobal **out, const char *global_root)
{
	router__vglobal *g = calloc(1, sizeof *g);
	size_t n = strlen(global_root);

	*out = NULL;
	if (g == NULL)
		return ROUTER_ENOMEM;
	while (n > 0 && global_root[n - 1] == '/')
		n--;
	g->root = strdup(global_root);
	if (g->root == NULL || asprintf(&g->prefix, "%.*s/", (int)n,
	                                global_root) < 0) {
		free(g->root);
		free(g);
		return ROUTER_ENOMEM;
	}
	*out = g;
	return ROUTER_OK;
}

void router__vglobal_free(router__vglobal *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].key);
		free(g->v[i].value);
	}
	free(g->v);
	free(g->root);
	free(g->prefix);
	free(g);
}

const char *router__vglobal_prefix(const router__vglobal *g)
{
	return g->prefix;
}

static gval *find(router__vglobal *g, const char *key, size_t len)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].key_len == len && memcmp(g->v[i].key, key, len) == 0)
			return &g->v[i];
	return NULL;
}

int router__vglobal_apply(router__vglobal *g, const router__etcd_kv *kv,
                          int deleted, int64_t rev)
{
	gval *e;
	char *b = NULL;

	if (router__vitess_global_key(g->root, kv->key, kv->key_len, NULL) ==
	    ROUTER__VITESS_GLOBAL_NONE)
		return 0;
	e = find(g, kv->key, kv->key_len);
	if (e != NULL) {
		e->seen = 1;
		if (deleted ? e->deleted
		            : !e->deleted && e->mod_revision == kv->mod_revision)
			return 1; /* nothing new */
	}
	if (!deleted && kv->value_len > 0) {
		if ((b = malloc(kv->value_len)) == NULL)
			return ROUTER_ENOMEM;
		memcpy(b, kv->value, kv->value_len);
	}
	if (e == NULL) {
		gval *grown = realloc(g->v, (g->n + 1) * sizeof *grown);
		char *k = malloc(kv->key_len + 1);

		if (grown != NULL)
			g->v = grown;
		if (grown == NULL || k == NULL) {
			free(b);
			free(k);
			return ROUTER_ENOMEM;
		}
		memcpy(k, kv->key, kv->key_len);
		k[kv->key_len] = '\0';
		e = &g->v[g->n++];
		memset(e, 0, sizeof *e);
		e->key = k;
		e->key_len = kv->key_len;
		e->seen = 1;
	}
	free(e->value);
	e->value = b;
	e->len = deleted ? 0 : kv->value_len;
	e->deleted = deleted;
	e->mod_revision = deleted ? rev : kv->mod_revision;
	e->dirty = 1;
	return 1;
}

int router__vglobal_read(router__vglobal *g, router__etcd *c,
                         int64_t *header_rev, router_error *err)
{
	router__etcd_kv *kvs = NULL;
	size_t n = 0, i;
	int rc;

	rc = router__etcd_get_prefix(c, g->prefix, &kvs, &n, header_rev, err);
	if (rc != ROUTER_OK)
		return rc;
	for (i = 0; i < g->n; i++)
		g->v[i].seen = 0;
	for (i = 0; i < n; i++) {
		if (router__vglobal_apply(g, &kvs[i], 0, kvs[i].mod_revision) <
		    0) {
			router__etcd_kvs_free(kvs, n);
			/* Some values are new, none is lost: the next read
			 * completes it. */
			return router__seterr(err, ROUTER_ENOMEM, g->prefix,
			                      "out of memory");
		}
	}
	router__etcd_kvs_free(kvs, n);
	/* Gone from the read: deleted at or before its revision. */
	for (i = 0; i < g->n; i++) {
		gval *e = &g->v[i];

		if (!e->seen && !e->deleted) {
			free(e->value);
			e->value = NULL;
			e->len = 0;
			e->deleted = 1;
			e->mod_revision = *header_rev;
			e->dirty = 1;
		}
	}
	return ROUTER_OK;
}

/* Judge e; report its verdict when it is new for (key, mod revision). */
static void judge_one(router__vglobal *g, gval *e,
                      const router__vitess_input *served, double max_shrink,
                      router__vglobal_report_fn fn, void *arg)
{
	router__vitess_global_value gv;
	router__vitess_finding f;
	router_error err;
	int report;

	gv.global_root = g->root;
	gv.key = e->key;
	gv.key_len = e->key_len;
	gv.value = e->value;
	gv.len = e->len;
	gv.mod_revision = e->mod_revision;
	gv.deleted = e->deleted;
	e->dirty = 0;
	if (router__vitess_latent_judge(served, &gv, max_shrink, &f, &err) !=
	    ROUTER_OK)
		return; /* not judged: the verdict stays what it was */
	e->judged = 1;
	e->finding = f;
	if (f.code != ROUTER_OK)
		report = f.code != e->reported_code ||
		         e->mod_revision != e->reported_rev;
	else
		report = e->reported_code != ROUTER_OK;
	if (report && f.code == ROUTER_OK)
		snprintf(e->finding.message, sizeof e->finding.message,
		         "cleared: a rebuild with this value would now be "
		         "accepted (it was %s at revision %" PRId64 ")",
		         router_errname(e->reported_code), e->reported_rev);
	e->reported_code = f.code;
	e->reported_rev = e->mod_revision;
	if (report && fn != NULL)
		fn(arg, &e->finding);
}

size_t router__vglobal_judge(router__vglobal *g,
                             const router__vitess_input *served,
                             double max_shrink, int all,
                             router__vglobal_report_fn fn, void *arg)
{
	size_t i, bad = 0;

	for (i = 0; i < g->n; i++) {
		gval *e = &g->v[i];

		if (served != NULL && (all || e->dirty))
			judge_one(g, e, served, max_shrink, fn, arg);
		bad += e->judged && e->finding.code != ROUTER_OK;
	}
	return bad;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const router__vitess_finding *)a)->key,
	              ((const router__vitess_finding *)b)->key);
}

size_t router__vglobal_findings(const router__vglobal *g,
                                router__vitess_finding *out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < g->n; i++) {
		const gval *e = &g->v[i];

		if (!e->judged || e->finding.code == ROUTER_OK)
			continue;
		if (n < cap)
			out[n] = e->finding;
		n++;
	}
	if (out != NULL)
		qsort(out, n < cap ? n : cap, sizeof *out, by_key);
	return n;
}
