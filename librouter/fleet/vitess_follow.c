/*
 * What a follower of a Vitess cell keeps, and the table it builds from it
 * (vitess_follow.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vitess_follow.h"
#include "core/internal.h"
#include "vitess_read.h"

/* A kept SrvKeyspace value. */
typedef struct vks {
	char *keyspace;
	char *value;
	size_t len;
	int64_t mod_revision;
} vks;

/* How many changes a refusal lists by name (the message is bounded). */
#define BLAME_MAX 3

typedef struct vchange {
	char key[ROUTER_CULPRIT_MAX];
	char keyspace[ROUTER_NAME_MAX + 1]; /* "" for the SrvVSchema */
	int deleted;
	int64_t rev;
} vchange;

struct router__vfollow {
	char *cell, *topo_root, *cell_endpoints, *cellinfo_key;
	router__vitess_tablet tablet;
	/* Set by router__vfollow_locate. */
	char *cell_root, *prefix, *endpoints, *vkey, *ks_prefix;
	/* The SrvVSchema, when the key exists. */
	int have_vschema;
	char *vschema;
	size_t vschema_len;
	int64_t vschema_rev;
	int64_t vschema_deleted_rev; /* its last delete (0: none) */
	vks *ks;                     /* sorted by nothing; few */
	size_t nks;
	int64_t floor; /* the latest revision of a delete applied */
	int pending;
	vchange changes[BLAME_MAX];
	size_t nchanges; /* since the last build, all counted */
};

static char *dup_or(const char *s, const char *dflt)
{
	return strdup(s != NULL && s[0] != '\0' ? s : dflt);
}

int router__vfollow_create(router__vfollow **out, const char *cell,
                           const char *topo_root, const char *tablet_type,
                           const char *cell_endpoints, router_error *err)
{
	router__vfollow *v;
	router__vitess_tablet t = ROUTER__VITESS_PRIMARY;
	int rc;

	*out = NULL;
	if (cell == NULL || cell[0] == '\0' || strchr(cell, '/') != NULL ||
	    strlen(cell) > ROUTER_NAME_MAX)
		return router__seterr(err, ROUTER_EINVAL, "vitess_cell",
		                      "the Vitess source needs a cell name "
		                      "(non-empty, no '/', at most %d bytes)",
		                      ROUTER_NAME_MAX);
	if (tablet_type != NULL && router__vitess_tablet_parse(tablet_type, &t))
		return router__seterr(err, ROUTER_EINVAL, "vitess_tablet_type",
		                      "tablet type %s: not primary, replica or "
		                      "rdonly",
		                      tablet_type);
	if (topo_root != NULL && topo_root[0] != '/')
		return router__seterr(err, ROUTER_EINVAL, "vitess_topo_root",
		                      "topo root %s does not start with /",
		                      topo_root);
	if (cell_endpoints != NULL &&
	    (rc = router__etcd_check_endpoints(cell_endpoints, err)) != 0)
		return rc;
	if ((v = calloc(1, sizeof *v)) == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	v->tablet = t;
	v->cell = strdup(cell);
	v->topo_root = dup_or(topo_root, "/vitess/global");
	v->cell_endpoints =
	    cell_endpoints != NULL ? strdup(cell_endpoints) : NULL;
	if (v->topo_root != NULL &&
	    asprintf(&v->cellinfo_key, "%.*s/cells/%s/CellInfo",
	             (int)strlen(v->topo_root) -
	                 (v->topo_root[strlen(v->topo_root) - 1] == '/'),
	             v->topo_root, cell) < 0)
		v->cellinfo_key = NULL;
	if (v->cell == NULL || v->topo_root == NULL ||
	    v->cellinfo_key == NULL ||
	    (cell_endpoints != NULL && v->cell_endpoints == NULL)) {
		router__vfollow_free(v);
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	}
	*out = v;
	return ROUTER_OK;
}

static void forget_values(router__vfollow *v)
{
	for (size_t i = 0; i < v->nks; i++) {
		free(v->ks[i].keyspace);
		free(v->ks[i].value);
	}
	free(v->ks);
	v->ks = NULL;
	v->nks = 0;
	free(v->vschema);
	v->vschema = NULL;
	v->vschema_len = 0;
	v->have_vschema = 0;
}

void router__vfollow_free(router__vfollow *v)
{
	if (v == NULL)
		return;
	forget_values(v);
	free(v->cell);
	free(v->topo_root);
	free(v->cell_endpoints);
	free(v->cellinfo_key);
	free(v->cell_root);
	free(v->prefix);
	free(v->endpoints);
	free(v->vkey);
	free(v->ks_prefix);
	free(v);
}

const char *router__vfollow_cellinfo_key(const router__vfollow *v)
{
	return v->cellinfo_key;
}

const char *router__vfollow_cell(const router__vfollow *v)
{
	return v->cell;
}

const char *router__vfollow_tablet_name(const router__vfollow *v)
{
	return router__vitess_tablet_name(v->tablet);
}

const char *router__vfollow_prefix(const router__vfollow *v)
{
	return v->prefix;
}

const char *router__vfollow_endpoints(const router__vfollow *v)
{
	return v->endpoints;
}

int router__vfollow_locate(router__vfollow *v, router__etcd *c,
                           const char *global_endpoints, int tls,
                           router_error *err)
{
	char *root = NULL, *addr = NULL, *eps = NULL;
	int rc;

	rc = router__vitess_read_cell_info(c, v->topo_root, v->cell, &root,
	                                   &addr, err);
	if (rc != ROUTER_OK)
		return rc;
	if (v->cell_endpoints != NULL)
		eps = strdup(v->cell_endpoints);
	else if ((eps = router__vitess_cell_endpoints(addr, tls)) == NULL)
		eps = strdup(global_endpoints);
	free(addr);
	free(v->cell_root);
	free(v->prefix);
	free(v->endpoints);
	free(v->vkey);
	free(v->ks_prefix);
	v->cell_root = root;
	v->endpoints = eps;
	v->prefix = router__vitess_join(root, "/");
	v->vkey = router__vitess_join(root, "/SrvVSchema");
	v->ks_prefix = router__vitess_join(root, "/keyspaces/");
	if (eps == NULL || v->prefix == NULL || v->vkey == NULL ||
	    v->ks_prefix == NULL) {
		free(v->prefix);
		v->prefix = NULL; /* not located */
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	}
	if (strcmp(v->prefix, "/") == 0) {
		free(v->prefix);
		v->prefix = NULL;
		return router__seterr(err, ROUTER_EDOC, v->cellinfo_key,
		                      "%s: the cell's root is /: refusing to "
		                      "watch the whole etcd",
		                      v->cellinfo_key);
	}
	if ((rc = router__etcd_check_endpoints(eps, err)) != ROUTER_OK) {
		free(v->prefix);
		v->prefix = NULL;
	}
	return rc;
}

/* The keyspace of a CELL_ROOT/keyspaces/KS/SrvKeyspace key into ks (at
 * most ROUTER_NAME_MAX bytes): 1, else 0. */
static int srvks_keyspace(const router__vfollow *v, const char *key,
                          size_t klen, char *ks)
{
	static const char tail[] = "/SrvKeyspace";
	size_t pl = strlen(v->ks_prefix), tl = sizeof tail - 1, n;

	if (klen <= pl + tl || memcmp(key, v->ks_prefix, pl) != 0 ||
	    memcmp(key + klen - tl, tail, tl) != 0)
		return 0;
	n = klen - pl - tl;
	if (n > ROUTER_NAME_MAX || memchr(key + pl, '/', n) != NULL ||
	    memchr(key + pl, '\0', n) != NULL)
		return 0;
	memcpy(ks, key + pl, n);
	ks[n] = '\0';
	return 1;
}

static void note_change(router__vfollow *v, const char *key, size_t klen,
                        const char *keyspace, int deleted, int64_t rev)
{
	if (v->nchanges < BLAME_MAX) {
		vchange *c = &v->changes[v->nchanges];

		snprintf(c->key, sizeof c->key, "%.*s", (int)klen, key);
		snprintf(c->keyspace, sizeof c->keyspace, "%s", keyspace);
		c->deleted = deleted;
		c->rev = rev;
	}
	v->nchanges++;
	v->pending = 1;
	if (deleted && rev > v->floor)
		v->floor = rev;
}

static vks *find_ks(router__vfollow *v, const char *ks)
{
	for (size_t i = 0; i < v->nks; i++)
		if (strcmp(v->ks[i].keyspace, ks) == 0)
			return &v->ks[i];
	return NULL;
}

/* Copy len bytes (NUL-terminated after them), or NULL. */
static char *bytes(const char *p, size_t len)
{
	char *b = malloc(len + 1);

	if (b != NULL) {
		if (len > 0)
			memcpy(b, p, len);
		b[len] = '\0';
	}
	return b;
}

int router__vfollow_apply(router__vfollow *v, const router__etcd_kv *kv,
                          int deleted, int64_t rev)
{
	char ks[ROUTER_NAME_MAX + 1];
	vks *k;

	if (kv->key_len == strlen(v->vkey) &&
	    memcmp(kv->key, v->vkey, kv->key_len) == 0) {
		char *b = NULL;

		if (!deleted && (b = bytes(kv->value, kv->value_len)) == NULL)
			return ROUTER_ENOMEM;
		free(v->vschema);
		v->vschema = b;
		v->vschema_len = deleted ? 0 : kv->value_len;
		v->vschema_rev = deleted ? 0 : kv->mod_revision;
		v->have_vschema = !deleted;
		if (deleted)
			v->vschema_deleted_rev = rev;
		note_change(v, kv->key, kv->key_len, "", deleted, rev);
		return 1;
	}
	if (!srvks_keyspace(v, kv->key, kv->key_len, ks))
		return 0;
	k = find_ks(v, ks);
	if (deleted) {
		if (k == NULL)
			return 0; /* never kept: nothing changes */
		free(k->keyspace);
		free(k->value);
		*k = v->ks[--v->nks];
	} else {
		char *b = bytes(kv->value, kv->value_len);

		if (b == NULL)
			return ROUTER_ENOMEM;
		if (k == NULL) {
			vks *g = realloc(v->ks, (v->nks + 1) * sizeof *g);
			char *name = strdup(ks);

			if (g == NULL || name == NULL) {
				free(b);
				free(name);
				if (g != NULL)
					v->ks = g;
				return ROUTER_ENOMEM;
			}
			v->ks = g;
			k = &v->ks[v->nks++];
			k->keyspace = name;
			k->value = NULL;
		}
		free(k->value);
		k->value = b;
		k->len = kv->value_len;
		k->mod_revision = kv->mod_revision;
	}
	note_change(v, kv->key, kv->key_len, ks, deleted, rev);
	return 1;
}

/* 1 when the values kept in a and b are the same keys at the same mod
 * revisions (a value changes only with its mod revision). */
static int same_values(const router__vfollow *a, const router__vfollow *b)
{
	if (a->have_vschema != b->have_vschema || a->nks != b->nks ||
	    (a->have_vschema && a->vschema_rev != b->vschema_rev))
		return 0;
	for (size_t i = 0; i < a->nks; i++) {
		const vks *k = NULL;

		for (size_t j = 0; j < b->nks && k == NULL; j++)
			if (strcmp(b->ks[j].keyspace, a->ks[i].keyspace) == 0)
				k = &b->ks[j];
		if (k == NULL || k->mod_revision != a->ks[i].mod_revision)
			return 0;
	}
	return 1;
}

int router__vfollow_read(router__vfollow *v, router__etcd *c,
                         int64_t *header_rev, router_error *err)
{
	router__etcd_kv *kvs = NULL;
	router__vfollow fresh;
	size_t n = 0, i;
	int rc;

	rc = router__etcd_get_prefix(c, v->prefix, &kvs, &n, header_rev, err);
	if (rc != ROUTER_OK)
		return rc;
	/* Into a fresh state sharing v's keys, so that a failure leaves v
	 * as it was. */
	memset(&fresh, 0, sizeof fresh);
	fresh.vkey = v->vkey;
	fresh.ks_prefix = v->ks_prefix;
	for (i = 0; i < n; i++) {
		if (router__vfollow_apply(&fresh, &kvs[i], 0,
		                          kvs[i].mod_revision) < 0) {
			forget_values(&fresh);
			router__etcd_kvs_free(kvs, n);
			return router__seterr(err, ROUTER_ENOMEM, NULL,
			                      "out of memory");
		}
	}
	router__etcd_kvs_free(kvs, n);
	if (!same_values(&fresh, v)) {
		/* What changed cannot be told event by event any more: the
		 * whole read is the change. */
		if (v->nchanges < BLAME_MAX) {
			vchange *ch = &v->changes[v->nchanges];

			snprintf(ch->key, sizeof ch->key, "%s", v->prefix);
			ch->keyspace[0] = '\0';
			ch->deleted = 0;
			ch->rev = *header_rev;
		}
		v->nchanges++;
		v->pending = 1;
		/* A key gone from the read was deleted at or before the
		 * read's revision: the version must still rise. */
		int gone = v->have_vschema && !fresh.have_vschema;

		for (i = 0; i < v->nks && !gone; i++)
			gone = find_ks(&fresh, v->ks[i].keyspace) == NULL;
		if (gone && *header_rev > v->floor)
			v->floor = *header_rev;
		if (v->have_vschema && !fresh.have_vschema)
			v->vschema_deleted_rev = *header_rev;
	}
	forget_values(v);
	v->have_vschema = fresh.have_vschema;
	v->vschema = fresh.vschema;
	v->vschema_len = fresh.vschema_len;
	v->vschema_rev = fresh.vschema_rev;
	v->ks = fresh.ks;
	v->nks = fresh.nks;
	return ROUTER_OK;
}

int router__vfollow_pending(const router__vfollow *v)
{
	return v->pending;
}

void router__vfollow_hold(router__vfollow *v)
{
	v->pending = 0;
}

int router__vfollow_build(router__vfollow *v, const router_allocator *a,
                          router_table **t, router_error *err)
{
	router__vitess_srvks *sks;
	router__vitess_input in;
	router__vitess_built b;
	int rc;

	*t = NULL;
	v->pending = 0;
	if (!v->have_vschema) {
		if (v->vschema_deleted_rev != 0)
			return router__seterr(
			    err, ROUTER_ENOTFOUND, v->vkey,
			    "%s was deleted at revision %" PRId64
			    ": the cell serves no SrvVSchema (vtgate keeps "
			    "the one it had; so does this router)",
			    v->vkey, v->vschema_deleted_rev);
		return router__seterr(err, ROUTER_ENOTFOUND, v->vkey,
		                      "%s: no such key: the cell serves no "
		                      "SrvVSchema",
		                      v->vkey);
	}
	if ((sks = calloc(v->nks ? v->nks : 1, sizeof *sks)) == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < v->nks; i++)
		sks[i] = (router__vitess_srvks){v->ks[i].keyspace, v->ks[i].value,
		                                v->ks[i].len,
		                                v->ks[i].mod_revision};
	memset(&in, 0, sizeof in);
	in.cell_root = v->cell_root;
	in.srv_vschema = v->vschema;
	in.srv_vschema_len = v->vschema_len;
	in.srv_vschema_rev = v->vschema_rev;
	in.srvks = sks;
	in.nsrvks = v->nks;
	in.tablet = v->tablet;
	in.allocator = a;
	in.min_version = v->floor;
	rc = router__vitess_build(&in, &b, err);
	if (rc == ROUTER_OK) {
		*t = b.table;
		b.table = NULL;
	}
	router__vitess_built_clear(&b);
	free(sks);
	return rc;
}

void router__vfollow_blame(const router__vfollow *v, router_error *e)
{
	char what[ROUTER_MESSAGE_MAX], m[2 * ROUTER_MESSAGE_MAX];
	size_t n = 0, i, shown = v->nchanges < BLAME_MAX ? v->nchanges
	                                                 : BLAME_MAX;

	if (e == NULL || shown == 0)
		return;
	what[0] = '\0';
	for (i = 0; i < shown && n < sizeof what; i++) {
		const vchange *c = &v->changes[i];
		int k;

		k = snprintf(what + n, sizeof what - n, "%s%s%s%s%s %s at revision %" PRId64,
		             i ? ", " : "", c->key,
		             c->keyspace[0] ? " (keyspace " : "", c->keyspace,
		             c->keyspace[0] ? ")" : "",
		             c->deleted ? "deleted" : "put", c->rev);
		if (k < 0)
			break;
		n += (size_t)k;
	}
	if (v->nchanges > shown && n < sizeof what)
		snprintf(what + n, sizeof what - n, " and %zu more changes",
		         v->nchanges - shown);
	snprintf(m, sizeof m, "after %s: %s", what, e->message);
	memcpy(e->message, m, ROUTER_MESSAGE_MAX - 1);
	e->message[ROUTER_MESSAGE_MAX - 1] = '\0';
	if (e->culprit[0] == '\0')
		snprintf(e->culprit, sizeof e->culprit, "%s", v->changes[0].key);
}

void router__vfollow_built(router__vfollow *v)
{
	v->nchanges = 0;
}

const char *router__vfollow_topo_root(const router__vfollow *v)
{
	return v->topo_root;
}

struct router__vitess_served {
	router__vitess_input in;
	router__vitess_srvks *srvks;
	char **names, **values; /* what srvks points to, owned */
	size_t nsrvks;          /* filled so far: what free frees */
	char *cell_root;
	char *vschema;
};

void router__vitess_served_free(router__vitess_served *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nsrvks; i++) {
		free(s->names[i]);
		free(s->values[i]);
	}
	free(s->names);
	free(s->values);
	free(s->srvks);
	free(s->cell_root);
	free(s->vschema);
	free(s);
}

int router__vfollow_served(const router__vfollow *v,
                           router__vitess_served **out)
{
	router__vitess_served *s = calloc(1, sizeof *s);

	*out = NULL;
	if (s == NULL)
		return ROUTER_ENOMEM;
	s->cell_root = strdup(v->cell_root != NULL ? v->cell_root : "");
	s->vschema = bytes(v->vschema != NULL ? v->vschema : "",
	                   v->vschema_len);
	s->srvks = calloc(v->nks ? v->nks : 1, sizeof *s->srvks);
	s->names = calloc(v->nks ? v->nks : 1, sizeof *s->names);
	s->values = calloc(v->nks ? v->nks : 1, sizeof *s->values);
	if (s->cell_root == NULL || s->vschema == NULL || s->srvks == NULL ||
	    s->names == NULL || s->values == NULL) {
		router__vitess_served_free(s);
		return ROUTER_ENOMEM;
	}
	for (size_t i = 0; i < v->nks; i++) {
		char *name = strdup(v->ks[i].keyspace);
		char *b = bytes(v->ks[i].value, v->ks[i].len);

		if (name == NULL || b == NULL) {
			free(name);
			free(b);
			router__vitess_served_free(s);
			return ROUTER_ENOMEM;
		}
		s->names[i] = name;
		s->values[i] = b;
		s->srvks[i] = (router__vitess_srvks){name, b, v->ks[i].len,
		                                     v->ks[i].mod_revision};
		s->nsrvks = i + 1;
	}
	s->in.cell_root = s->cell_root;
	s->in.srv_vschema = v->vschema_len ? s->vschema : NULL;
	s->in.srv_vschema_len = v->vschema_len;
	s->in.srv_vschema_rev = v->vschema_rev;
	s->in.srvks = s->srvks;
	s->in.nsrvks = v->nks;
	s->in.tablet = v->tablet;
	s->in.min_version = v->floor;
	*out = s;
	return ROUTER_OK;
}

const router__vitess_input *
router__vitess_served_input(const router__vitess_served *s)
{
	return &s->in;
}
