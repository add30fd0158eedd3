/*
 * Latent poison: one global topo value judged against what the cell
 * serves (vitess_latent.h says what a rebuild reads and how it is judged).
 *
 * The substitution works on decoded messages and packs them again with
 * protobuf-c: the served SrvVSchema is decoded, the keyspace's map entry
 * gets the new Keyspace (pointer swapped in, swapped back before the
 * free) or, for a keyspace the cell does not serve, an entry is appended
 * to the packed bytes (a later map entry of a key replaces an earlier
 * one, in Go and in the build); a rules field gets the new rules message.
 * Only protobuf-c's own functions are called here: the generated
 * descriptors stay private to vitess_decode.c's object (Makefile), and a
 * decoded message carries its descriptor.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "vitess_latent.h"
#include "core/internal.h"
#include "vitess_topodata.pb-c.h"
#include "vitess_vschema.pb-c.h"

static const struct {
	router__vitess_global g;
	const char *path;
	router__vitess_kind kind;
} rules_keys[] = {
    {ROUTER__VITESS_GLOBAL_ROUTING_RULES, "/RoutingRules",
     ROUTER__VITESS_ROUTING_RULES},
    {ROUTER__VITESS_GLOBAL_SHARD_ROUTING_RULES, "/ShardRoutingRules",
     ROUTER__VITESS_SHARD_ROUTING_RULES},
    {ROUTER__VITESS_GLOBAL_KEYSPACE_ROUTING_RULES,
     "/routing_rules/keyspace/Rules", ROUTER__VITESS_KEYSPACE_ROUTING_RULES},
    {ROUTER__VITESS_GLOBAL_MIRROR_RULES, "/MirrorRules",
     ROUTER__VITESS_MIRROR_RULES},
};
#define NRULES (sizeof rules_keys / sizeof rules_keys[0])

const char *router__vitess_global_path(router__vitess_global g)
{
	size_t i;

	for (i = 0; i < NRULES; i++)
		if (rules_keys[i].g == g)
			return rules_keys[i].path;
	return NULL;
}

router__vitess_global router__vitess_global_key(const char *global_root,
                                                const void *key,
                                                size_t key_len,
                                                char *keyspace)
{
	static const char ksdir[] = "/keyspaces/", tail[] = "/VSchema";
	const char *k = key, *p;
	size_t rl, n, i;

	if (global_root == NULL || key == NULL)
		return ROUTER__VITESS_GLOBAL_NONE;
	rl = strlen(global_root);
	while (rl > 0 && global_root[rl - 1] == '/')
		rl--;
	if (key_len < rl || memcmp(k, global_root, rl) != 0)
		return ROUTER__VITESS_GLOBAL_NONE;
	p = k + rl;
	n = key_len - rl;
	for (i = 0; i < NRULES; i++)
		if (strlen(rules_keys[i].path) == n &&
		    memcmp(p, rules_keys[i].path, n) == 0)
			return rules_keys[i].g;
	if (n <= sizeof ksdir - 1 + sizeof tail - 1 ||
	    memcmp(p, ksdir, sizeof ksdir - 1) != 0 ||
	    memcmp(p + n - (sizeof tail - 1), tail, sizeof tail - 1) != 0)
		return ROUTER__VITESS_GLOBAL_NONE;
	p += sizeof ksdir - 1;
	n -= sizeof ksdir - 1 + sizeof tail - 1;
	if (n > ROUTER_NAME_MAX || memchr(p, '/', n) != NULL ||
	    memchr(p, '\0', n) != NULL)
		return ROUTER__VITESS_GLOBAL_NONE;
	if (keyspace != NULL) {
		memcpy(keyspace, p, n);
		keyspace[n] = '\0';
	}
	return ROUTER__VITESS_GLOBAL_VSCHEMA;
}

/* ---- the served side ---------------------------------------------------- */

/* Build served and make it the first publish of a new private router
 * *r (NULL on failure).  *version: the table's version; *rep (optional):
 * the loader's report on it (caller frees). */
static int serve(const router__vitess_input *served, double max_shrink,
                 router **r, uint64_t *version, router_doc_report **rep,
                 router_error *err)
{
	router__vitess_built b;
	router_options ro = ROUTER_OPTIONS_INIT;
	int rc;

	*r = NULL;
	*version = 0;
	if (max_shrink > 1)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "max_shrink %g: above 1", max_shrink);
	if (max_shrink >= 0)
		ro.max_shrink = max_shrink;
	rc = router__vitess_build(served, &b, err);
	if (rc != ROUTER_OK) {
		router__vitess_built_clear(&b);
		return rc;
	}
	*version = b.version;
	if (rep != NULL) {
		*rep = b.report;
		b.report = NULL;
	}
	rc = router_create(r, &ro, err);
	if (rc == ROUTER_OK) {
		rc = router_publish(*r, b.table, 0, NULL, err);
		if (rc == ROUTER_OK)
			b.table = NULL; /* the router owns it */
	}
	if (rc != ROUTER_OK) {
		router_free(*r);
		*r = NULL;
	}
	router__vitess_built_clear(&b);
	return rc;
}

int router__vitess_latent_served(const router__vitess_input *served,
                                 double max_shrink, uint64_t *version,
                                 router_error *err)
{
	router *r;
	uint64_t v;
	int rc;

	if (served == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router__vitess_latent_served: NULL "
		                      "argument");
	rc = serve(served, max_shrink, &r, &v, NULL, err);
	if (version != NULL)
		*version = rc == ROUTER_OK ? v : 0;
	router_free(r);
	return rc;
}

/* ---- the substitution --------------------------------------------------- */

static void put_varint(uint8_t *p, size_t *n, uint64_t v)
{
	while (v >= 0x80) {
		p[(*n)++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[(*n)++] = (uint8_t)v;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* The packed bytes of m (malloc'd into *out, *len), with, when ks is not
 * NULL, a SrvVSchema keyspaces entry {ks: extra} appended (field 1). */
static int pack(const ProtobufCMessage *m, const char *ks,
                const ProtobufCMessage *extra, uint8_t **out, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m), en = 0, xn = 0;
	size_t kl = ks != NULL ? strlen(ks) : 0, cap;
	uint8_t *p;

	if (ks != NULL) {
		xn = protobuf_c_message_get_packed_size(extra);
		/* entry: 1:ks (string), 2:extra (message) */
		en = 1 + varint_len(kl) + kl + 1 + varint_len(xn) + xn;
	}
	cap = n + (ks != NULL ? 1 + varint_len(en) + en : 0);
	p = malloc(cap ? cap : 1);
	if (p == NULL)
		return -1;
	n = protobuf_c_message_pack(m, p);
	if (ks != NULL) {
		p[n++] = 0x0a; /* field 1, length-delimited */
		put_varint(p, &n, en);
		p[n++] = 0x0a;
		put_varint(p, &n, kl);
		memcpy(p + n, ks, kl);
		n += kl;
		p[n++] = 0x12; /* field 2, length-delimited */
		put_varint(p, &n, xn);
		n += protobuf_c_message_pack(extra, p + n);
	}
	*out = p;
	*len = n;
	return 0;
}

/* The last entry of keyspace ks in srv (Go's map keeps the last). */
static Vschema__SrvVSchema__KeyspacesEntry *entry_of(Vschema__SrvVSchema *srv,
                                                     const char *ks)
{
	size_t i = srv->n_keyspaces;

	while (i-- > 0)
		if (strcmp(srv->keyspaces[i]->key, ks) == 0)
			return srv->keyspaces[i];
	return NULL;
}

/* The SrvVSchema a rebuild would write with msg (of kind what) for this
 * key, packed into *out / *len. */
static int substitute(Vschema__SrvVSchema *srv, router__vitess_global what,
                      const char *ks, void *msg, uint8_t **out, size_t *len)
{
	int rc = 0;

	switch (what) {
	case ROUTER__VITESS_GLOBAL_VSCHEMA: {
		Vschema__SrvVSchema__KeyspacesEntry *e = entry_of(srv, ks);

		if (e != NULL) {
			Vschema__Keyspace *old = e->value;

			e->value = msg;
			rc = pack(&srv->base, NULL, NULL, out, len);
			e->value = old;
		} else {
			rc = pack(&srv->base, ks, msg, out, len);
		}
		break;
	}
#define SWAP(field, type)                                                  \
	do {                                                               \
		type *old = srv->field;                                    \
		srv->field = msg;                                          \
		rc = pack(&srv->base, NULL, NULL, out, len);               \
		srv->field = old;                                          \
	} while (0)
	case ROUTER__VITESS_GLOBAL_ROUTING_RULES:
		SWAP(routing_rules, Vschema__RoutingRules);
		break;
	case ROUTER__VITESS_GLOBAL_SHARD_ROUTING_RULES:
		SWAP(shard_routing_rules, Vschema__ShardRoutingRules);
		break;
	case ROUTER__VITESS_GLOBAL_KEYSPACE_ROUTING_RULES:
		SWAP(keyspace_routing_rules, Vschema__KeyspaceRoutingRules);
		break;
	case ROUTER__VITESS_GLOBAL_MIRROR_RULES:
		SWAP(mirror_rules, Vschema__MirrorRules);
		break;
#undef SWAP
	default:
		rc = -1;
	}
	return rc;
}

/* ---- what the keyspace would lose --------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append ", name" (or "name" first) to buf while it fits. */
static void list_add(char *buf, size_t cap, size_t *n, const char *name)
{
	int w = snprintf(buf + *n, cap - *n, "%s%s", *n ? ", " : "", name);

	if (w > 0 && (size_t)w < cap - *n)
		*n += (size_t)w;
	else
		buf[*n] = '\0';
}

/* How many of the names[i] keys (n of them, unique after the first of a
 * key) are not among have's keys; the first few listed into buf. */
#define LOST_FN(fn, etype)                                                 \
	static size_t fn(etype *const *served, size_t n, etype *const *have,   \
	                 size_t nh, size_t *nserved, char *buf, size_t cap)    \
	{                                                                  \
		char **k = malloc((nh ? nh : 1) * sizeof *k);              \
		size_t i, j, lost = 0, listed = 0, bl = 0;                 \
                                                                           \
		buf[0] = '\0';                                             \
		*nserved = 0;                                              \
		if (k == NULL)                                             \
			return 0;                                          \
		for (i = 0; i < nh; i++)                                   \
			k[i] = have[i]->key;                               \
		qsort(k, nh, sizeof *k, cmp_str);                          \
		for (i = 0; i < n; i++) {                                  \
			const char *name = served[i]->key;                 \
			int dup = 0;                                       \
                                                                           \
			for (j = i + 1; j < n && !dup; j++)                \
				dup = strcmp(served[j]->key, name) == 0;   \
			if (dup)                                           \
				continue; /* counted at its last entry */  \
			(*nserved)++;                                      \
			if (bsearch(&name, k, nh, sizeof *k, cmp_str) !=   \
			    NULL)                                          \
				continue;                                  \
			lost++;                                            \
			if (listed++ < ROUTER__VITESS_LATENT_NAMES)        \
				list_add(buf, cap, &bl, name);             \
			else if (listed == ROUTER__VITESS_LATENT_NAMES + 1) \
				list_add(buf, cap, &bl, "...");            \
		}                                                          \
		free(k);                                                   \
		return lost;                                               \
	}
LOST_FN(lost_tables, Vschema__Keyspace__TablesEntry)
LOST_FN(lost_vindexes, Vschema__Keyspace__VindexesEntry)
#undef LOST_FN

/* Shards of keyspace ks's SrvKeyspace partition for the tablet type. */
static size_t shard_count(const router__vitess_input *in, const char *ks)
{
	router__vitess_tablet t = in->tablet ? in->tablet : ROUTER__VITESS_PRIMARY;
	Topodata__SrvKeyspace *sk = NULL;
	size_t i = in->nsrvks, n = 0;

	while (i-- > 0)
		if (in->srvks[i].keyspace != NULL &&
		    strcmp(in->srvks[i].keyspace, ks) == 0)
			break;
	if (i == (size_t)-1 ||
	    router__vitess_decode(ROUTER__VITESS_SRV_KEYSPACE, ks,
	                          in->srvks[i].value, in->srvks[i].len,
	                          (void **)&sk, NULL, NULL) != ROUTER_OK)
		return 0;
	for (i = 0; i < sk->n_partitions; i++)
		if ((int)sk->partitions[i]->served_type == (int)t) {
			n = sk->partitions[i]->n_shard_references;
			break;
		}
	router__vitess_message_free(sk);
	return n;
}

/* What keyspace out->keyspace as served (its entry in srv) would lose
 * with nk: out's counts and flags; the first names lost into tl / vl
 * (cap bytes each), with *nt / *nv the served counts. */
typedef struct loss {
	char tl[160], vl[160];
	size_t nt, nv;
} loss;

static void vschema_loss(router__vitess_finding *out,
                         const router__vitess_input *served,
                         Vschema__SrvVSchema *srv, const Vschema__Keyspace *nk,
                         loss *l)
{
	const Vschema__SrvVSchema__KeyspacesEntry *e =
	    entry_of(srv, out->keyspace);

	memset(l, 0, sizeof *l);
	out->value_sharded = nk->sharded;
	if (e == NULL || e->value == NULL)
		return;
	out->served_sharded = e->value->sharded;
	out->tables_lost =
	    lost_tables(e->value->tables, e->value->n_tables, nk->tables,
	                nk->n_tables, &l->nt, l->tl, sizeof l->tl);
	out->vindexes_lost =
	    lost_vindexes(e->value->vindexes, e->value->n_vindexes, nk->vindexes,
	                  nk->n_vindexes, &l->nv, l->vl, sizeof l->vl);
	out->shards = shard_count(served, out->keyspace);
}

/* out->message for a VSchema key whose rebuild would be refused (rc,
 * why): what the keyspace would lose (l), then the refusal. */
static void vschema_message(router__vitess_finding *out,
                            router__vitess_tablet tablet, const loss *l,
                            int rc, const char *why)
{
	char lose[512] = "";
	size_t n = 0;

	if (out->tables_lost > 0) {
		snprintf(lose + n, sizeof lose - n,
		         "would drop %zu tables (of %zu: %s)", out->tables_lost,
		         l->nt, l->tl);
		n = strlen(lose);
	}
	if (out->vindexes_lost > 0) {
		snprintf(lose + n, sizeof lose - n,
		         "%swould lose %zu vindexes (of %zu: %s)", n ? ", " : "",
		         out->vindexes_lost, l->nv, l->vl);
		n = strlen(lose);
	}
	if (out->served_sharded && !out->value_sharded) {
		snprintf(lose + n, sizeof lose - n,
		         "%swould turn it unsharded while its SrvKeyspace lists "
		         "%zu %s shards",
		         n ? ", " : "", out->shards,
		         router__vitess_tablet_name(tablet));
		n = strlen(lose);
	}
	if (n == 0)
		snprintf(lose, sizeof lose, "would be refused");
	snprintf(out->message, sizeof out->message,
	         "keyspace %s%s: the next RebuildVSchemaGraph %s: %s: %s",
	         out->keyspace,
	         out->deleted ? " (its VSchema deleted while served)" : "", lose,
	         router_errname(rc), why);
}

/* Routing rules the loader keeps as vtgate's errors (a target that names
 * no table or keyspace...: every lookup through them fails) in the
 * rebuild's table but not in the served one: a finding, ROUTER_ERULE. */
static int has_rule_note(const router_doc_report *rep, const char *from)
{
	const router_doc_note *n;
	size_t i;

	for (i = 0; (n = router_doc_report_get(rep, i)) != NULL; i++)
		if (n->kind == ROUTER_DOC_NOTE_RULE &&
		    strcmp(n->error.culprit, from) == 0)
			return 1;
	return 0;
}

static void dangling_rules(router__vitess_finding *out,
                           const router_doc_report *served,
                           const router_doc_report *rebuilt)
{
	const router_doc_note *n;
	char list[ROUTER_MESSAGE_MAX] = "";
	size_t i, count = 0, bl = 0;

	for (i = 0; (n = router_doc_report_get(rebuilt, i)) != NULL; i++) {
		char one[ROUTER_MESSAGE_MAX];

		if (n->kind != ROUTER_DOC_NOTE_RULE ||
		    has_rule_note(served, n->error.culprit))
			continue;
		if (count++ < 2) {
			snprintf(one, sizeof one, "%.100s: %.200s",
			         n->error.culprit, n->error.message);
			list_add(list, sizeof list, &bl, one);
		}
	}
	if (count == 0)
		return;
	out->code = ROUTER_ERULE;
	snprintf(out->message, sizeof out->message,
	         "%s%s%sthe next RebuildVSchemaGraph would leave %zu routing "
	         "rules that every lookup through fails (vtgate keeps them as "
	         "errors): %s%s",
	         out->keyspace[0] ? "keyspace " : "", out->keyspace,
	         out->keyspace[0] ? ": " : "", count, list,
	         count > 2 ? ", ..." : "");
}

/* ---- the judgement ------------------------------------------------------ */

static router__vitess_kind kind_of(router__vitess_global g)
{
	size_t i;

	for (i = 0; i < NRULES; i++)
		if (rules_keys[i].g == g)
			return rules_keys[i].kind;
	return ROUTER__VITESS_KEYSPACE;
}

int router__vitess_latent_judge(const router__vitess_input *served,
                                const router__vitess_global_value *gv,
                                double max_shrink,
                                router__vitess_finding *out,
                                router_error *err)
{
	char srvkey[ROUTER__VITESS_KEY_MAX];
	router__vitess_input cand;
	router__vitess_built b;
	Vschema__SrvVSchema *srv = NULL;
	router *r = NULL;
	router_doc_report *srep = NULL;
	router_error e;
	loss l;
	void *msg = NULL;
	uint8_t *bytes = NULL;
	size_t blen = 0, kl;
	uint64_t version;
	int rc;

	if (served == NULL || gv == NULL || out == NULL || gv->key == NULL ||
	    (gv->value == NULL && gv->len > 0 && !gv->deleted))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router__vitess_latent_judge: NULL "
		                      "argument");
	memset(out, 0, sizeof *out);
	memset(&b, 0, sizeof b);
	kl = gv->key_len < sizeof out->key ? gv->key_len : sizeof out->key - 1;
	memcpy(out->key, gv->key, kl);
	out->key[kl] = '\0';
	if (memchr(out->key, '\0', kl) != NULL)
		kl = strlen(out->key);
	out->mod_revision = gv->mod_revision;
	out->deleted = gv->deleted;
	out->what = router__vitess_global_key(gv->global_root, gv->key,
	                                      gv->key_len, out->keyspace);
	if (out->what == ROUTER__VITESS_GLOBAL_NONE)
		return router__seterr(err, ROUTER_EINVAL, out->key,
		                      "%s: not a key a RebuildVSchemaGraph "
		                      "reads under %s",
		                      out->key,
		                      gv->global_root ? gv->global_root : "(null)");

	/* The value first: bytes that do not decode are a finding whatever
	 * is served (the rebuild itself would fail on them). */
	rc = router__vitess_decode(kind_of(out->what), out->key,
	                           gv->deleted ? NULL : gv->value,
	                           gv->deleted ? 0 : gv->len, &msg, NULL, &e);
	if (rc == ROUTER_EDOC || rc == ROUTER_ERANGE) {
		out->code = rc;
		snprintf(out->message, sizeof out->message,
		         "the next RebuildVSchemaGraph would fail: %s",
		         e.message);
		return ROUTER_OK;
	}
	if (rc != ROUTER_OK) {
		*err = e;
		return rc;
	}

	rc = serve(served, max_shrink, &r, &version, &srep, err);
	if (rc != ROUTER_OK)
		goto out;
	snprintf(srvkey, sizeof srvkey, "%s/SrvVSchema",
	         served->cell_root ? served->cell_root : "");
	rc = router__vitess_decode(ROUTER__VITESS_SRV_VSCHEMA, srvkey,
	                           served->srv_vschema, served->srv_vschema_len,
	                           (void **)&srv, NULL, err);
	if (rc != ROUTER_OK)
		goto out;
	/* The VSchema of a keyspace the cell does not serve, deleted: most
	 * likely the keyspace itself went (DeleteKeyspace); the rebuild
	 * then has nothing of it. */
	if (out->what == ROUTER__VITESS_GLOBAL_VSCHEMA && gv->deleted &&
	    entry_of(srv, out->keyspace) == NULL)
		goto out;
	if (substitute(srv, out->what, out->keyspace, msg, &bytes, &blen) < 0) {
		rc = router__seterr(err, ROUTER_ENOMEM, NULL,
		                    "out of memory judging %s", out->key);
		goto out;
	}
	/* A rebuild writes the SrvVSchema anew: a revision above every one
	 * served (and this key's), so no stale-version verdict. */
	cand = *served;
	cand.srv_vschema = bytes;
	cand.srv_vschema_len = blen;
	cand.srv_vschema_rev =
	    (gv->mod_revision > (int64_t)version ? gv->mod_revision
	                                         : (int64_t)version) +
	    1;
	rc = router__vitess_build(&cand, &b, &e);
	if (rc == ROUTER_ENOMEM) {
		*err = e;
		goto out;
	}
	if (rc == ROUTER_OK) {
		rc = router_publish(r, b.table, ROUTER_PUBLISH_DRY_RUN, NULL, &e);
		if (rc == ROUTER_ENOMEM || rc == ROUTER_ESTATE ||
		    rc == ROUTER_EINVAL || rc == ROUTER_ECALLBACK) {
			*err = e;
			goto out;
		}
	}
	out->code = rc;
	rc = ROUTER_OK;
	if (out->what == ROUTER__VITESS_GLOBAL_VSCHEMA)
		vschema_loss(out, served, srv, msg, &l);
	if (out->code == ROUTER_OK) {
		dangling_rules(out, srep, b.report); /* says why itself */
		goto out;
	}
	if (out->what == ROUTER__VITESS_GLOBAL_VSCHEMA) {
		vschema_message(out, served->tablet, &l, out->code, e.message);
	} else {
		if (e.culprit[0] != '\0' && strchr(e.culprit, '.') == NULL &&
		    strlen(e.culprit) <= ROUTER_NAME_MAX)
			strcpy(out->keyspace, e.culprit);
		snprintf(out->message, sizeof out->message,
		         "the next RebuildVSchemaGraph would be refused: %s: %s",
		         router_errname(out->code), e.message);
	}
out:
	router__vitess_built_clear(&b);
	router_doc_report_free(srep);
	free(bytes);
	router__vitess_message_free(srv);
	router__vitess_message_free(msg);
	router_free(r);
	return rc;
}
