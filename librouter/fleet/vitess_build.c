/*
 * A routing table from a Vitess cell's SrvVSchema and SrvKeyspaces
 * (vitess_build.h says what vtgate does and how the document says it).
 *
 * Order of the work: decode every value (a value that is not protobuf
 * stops the build, naming its key); pick each keyspace's partition for the
 * tablet type and check its key ranges against the shard names; apply the
 * keyspace routing rules (they come first in vtgate's FindRoutedTable,
 * go/vt/vtgate/vindexes/vschema.go: findRoutedKeyspace, then the table
 * rules "ks.t@type" and "ks.t", then findTable); write the document; hand
 * it to router_doc_load, which validates it as any document.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vitess_build.h"
#include "core/internal.h"
#include "vitess_topodata.pb-c.h"
#include "vitess_vschema.pb-c.h"

int router__vitess_tablet_parse(const char *name, router__vitess_tablet *out)
{
	if (name == NULL)
		return -1;
	if (strcasecmp(name, "primary") == 0 || strcasecmp(name, "master") == 0)
		*out = ROUTER__VITESS_PRIMARY;
	else if (strcasecmp(name, "replica") == 0)
		*out = ROUTER__VITESS_REPLICA;
	else if (strcasecmp(name, "rdonly") == 0 || strcasecmp(name, "batch") == 0)
		*out = ROUTER__VITESS_RDONLY;
	else
		return -1;
	return 0;
}

const char *router__vitess_tablet_name(router__vitess_tablet t)
{
	switch (t) {
	case ROUTER__VITESS_REPLICA:
		return "REPLICA";
	case ROUTER__VITESS_RDONLY:
		return "RDONLY";
	default:
		return "PRIMARY";
	}
}

/* vtgate's TabletTypeSuffix: the routing rule suffix of a tablet type. */
static const char *suffix_of(router__vitess_tablet t)
{
	switch (t) {
	case ROUTER__VITESS_REPLICA:
		return "@replica";
	case ROUTER__VITESS_RDONLY:
		return "@rdonly";
	default:
		return "@primary";
	}
}

void router__vitess_built_clear(router__vitess_built *b)
{
	if (b == NULL)
		return;
	router_table_free(b->table);
	free(b->document);
	router_doc_report_free(b->report);
	router__vitess_notes_free(&b->notes);
	memset(b, 0, sizeof *b);
}


/* ---- the build ---------------------------------------------------------- */

typedef struct bctx {
	const router__vitess_input *in;
	router__vitess_built *out;
	router_error *err;
	char key[512]; /* scratch for key names */
	Vschema__SrvVSchema *srv;
	void **srvks; /* decoded Topodata__SrvKeyspace per in->srvks[i] */
} bctx;

static const char *srv_key(bctx *c)
{
	snprintf(c->key, sizeof c->key, "%s/SrvVSchema", c->in->cell_root);
	return c->key;
}

static const char *srvks_key(bctx *c, const char *ks)
{
	snprintf(c->key, sizeof c->key, "%s/keyspaces/%s/SrvKeyspace",
	         c->in->cell_root, ks);
	return c->key;
}

static int oom(bctx *c)
{
	return router__seterr(c->err, ROUTER_ENOMEM, NULL,
	                      "out of memory building the routing document");
}

/* Set o[k] = v, stealing v; -1 when v is NULL or jansson fails. */
static int jset(json_t *o, const char *k, json_t *v)
{
	if (v == NULL)
		return -1;
	return json_object_set_new(o, k, v);
}

static int jset_str(json_t *o, const char *k, const char *s)
{
	if (s == NULL || s[0] == '\0') /* proto3: "" is absent */
		return 0;
	return jset(o, k, json_string(s));
}

static int jpush(json_t *a, json_t *v)
{
	if (v == NULL)
		return -1;
	return json_array_append_new(a, v);
}

static json_t *vindex_json(const Vschema__Vindex *v)
{
	json_t *o = json_object(), *params;
	size_t i;

	if (o == NULL)
		return NULL;
	if (v == NULL)
		return o;
	if (jset_str(o, "type", v->type) < 0)
		goto fail;
	if (v->n_params > 0) {
		params = json_object();
		if (jset(o, "params", params) < 0)
			goto fail;
		for (i = 0; i < v->n_params; i++)
			if (jset(params, v->params[i]->key,
			         json_string(v->params[i]->value)) < 0)
				goto fail;
	}
	if (jset_str(o, "owner", v->owner) < 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

static json_t *table_json(const Vschema__Table *t)
{
	json_t *o = json_object(), *cvs;
	size_t i, j;

	if (o == NULL)
		return NULL;
	if (t == NULL)
		return o;
	if (jset_str(o, "type", t->type) < 0)
		goto fail;
	if (t->n_column_vindexes > 0) {
		cvs = json_array();
		if (jset(o, "column_vindexes", cvs) < 0)
			goto fail;
		for (i = 0; i < t->n_column_vindexes; i++) {
			const Vschema__ColumnVindex *cv = t->column_vindexes[i];
			json_t *e = json_object(), *cols;

			if (jpush(cvs, e) < 0)
				goto fail;
			if (jset_str(e, "column", cv->column) < 0 ||
			    jset_str(e, "name", cv->name) < 0)
				goto fail;
			if (cv->n_columns > 0) {
				cols = json_array();
				if (jset(e, "columns", cols) < 0)
					goto fail;
				for (j = 0; j < cv->n_columns; j++)
					if (jpush(cols, json_string(
					                    cv->columns[j])) < 0)
						goto fail;
			}
		}
	}
	if (jset_str(o, "pinned", t->pinned) < 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

static json_t *keyspace_json(const Vschema__Keyspace *k)
{
	json_t *o = json_object(), *vs, *ts;
	size_t i;

	if (o == NULL)
		return NULL;
	if (jset(o, "sharded", json_boolean(k != NULL && k->sharded)) < 0)
		goto fail;
	if (k == NULL)
		return o;
	/* Map entries: a later entry for the same name replaces an earlier
	 * one, as in Go's decoding of a map (json_object_set_new does). */
	vs = json_object();
	if (jset(o, "vindexes", vs) < 0)
		goto fail;
	for (i = 0; i < k->n_vindexes; i++)
		if (jset(vs, k->vindexes[i]->key,
		         vindex_json(k->vindexes[i]->value)) < 0)
			goto fail;
	ts = json_object();
	if (jset(o, "tables", ts) < 0)
		goto fail;
	for (i = 0; i < k->n_tables; i++)
		if (jset(ts, k->tables[i]->key, table_json(k->tables[i]->value)) <
		    0)
			goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* The SrvKeyspace of keyspace ks among the inputs (the last one given), or
 * -1. */
static long srvks_index(bctx *c, const char *ks)
{
	size_t i = c->in->nsrvks;

	while (i-- > 0)
		if (strcmp(c->in->srvks[i].keyspace, ks) == 0)
			return (long)i;
	return -1;
}

static int same_bound(const router_keyrange *kr, int end,
                      const ProtobufCBinaryData *b)
{
	const uint8_t *p = end ? kr->end : kr->start;
	size_t n = kr->full ? 0 : end ? kr->end_len : kr->start_len;

	return router_key_compare(p, n, b->data, b->len) == 0;
}

/* The "shards" of keyspace ks: its partition for the tablet type, each
 * shard's key range checked against its name. */
static int shards_json(bctx *c, const char *ks, json_t *kso)
{
	long si = srvks_index(c, ks);
	const Topodata__SrvKeyspace *sk;
	const Topodata__SrvKeyspace__KeyspacePartition *part = NULL;
	json_t *arr;
	size_t i;

	if (si < 0)
		return router__seterr(c->err, ROUTER_ENOTFOUND, ks,
		                      "keyspace %s of %s has no SrvKeyspace "
		                      "(%s is missing)",
		                      ks, c->in->cell_root, srvks_key(c, ks));
	sk = c->srvks[si];
	for (i = 0; i < sk->n_partitions; i++)
		if ((int)sk->partitions[i]->served_type == (int)c->in->tablet) {
			part = sk->partitions[i]; /* the first, as vtgate */
			break;
		}
	if (part == NULL || part->n_shard_references == 0)
		return router__seterr(
		    c->err, ROUTER_ECOVERAGE, ks,
		    "%s: keyspace %s has no %s partition: no shard serves it",
		    srvks_key(c, ks), ks, router__vitess_tablet_name(c->in->tablet));
	arr = json_array();
	if (jset(kso, "shards", arr) < 0)
		return oom(c);
	for (i = 0; i < part->n_shard_references; i++) {
		const Topodata__ShardReference *r = part->shard_references[i];
		router_keyrange kr;
		static const ProtobufCBinaryData none = {0, NULL};
		const ProtobufCBinaryData *s = &none, *e = &none;

		if (r->key_range != NULL) {
			s = &r->key_range->start;
			e = &r->key_range->end;
		}
		/* A malformed name is left to the loader, which says why. */
		if (router_keyrange_parse(r->name, strlen(r->name), &kr, NULL) ==
		        ROUTER_OK &&
		    (!same_bound(&kr, 0, s) || !same_bound(&kr, 1, e))) {
			router_keyrange b;
			char have[2 * 2 * ROUTER_KEY_MAX + 2] = "?";

			memset(&b, 0, sizeof b);
			if (s->len <= ROUTER_KEY_MAX && e->len <= ROUTER_KEY_MAX) {
				if (s->len > 0)
					memcpy(b.start, s->data, s->len);
				if (e->len > 0)
					memcpy(b.end, e->data, e->len);
				b.start_len = (uint8_t)s->len;
				b.end_len = (uint8_t)e->len;
				router_keyrange_format(&b, have, sizeof have);
			}
			return router__seterr(
			    c->err, ROUTER_ECOVERAGE, ks,
			    "%s: shard %s of keyspace %s has key range %s, not "
			    "the range its name says",
			    srvks_key(c, ks), r->name, ks, have);
		}
		if (jpush(arr, json_string(r->name)) < 0)
			return oom(c);
	}
	return ROUTER_OK;
}

/* A rule's from_table with the suffixes "@primary" and "@<type>" swapped
 * for a REPLICA or RDONLY table (vitess_build.h). */
static char *rule_from(bctx *c, const char *from)
{
	const char *want = suffix_of(c->in->tablet);
	const char *at = strrchr(from, '@');
	size_t base = at != NULL ? (size_t)(at - from) : strlen(from);
	const char *sfx = NULL;
	char *r;

	if (c->in->tablet != ROUTER__VITESS_PRIMARY && at != NULL) {
		if (strcmp(at, want) == 0)
			sfx = "@primary";
		else if (strcmp(at, "@primary") == 0)
			sfx = want;
	}
	if (sfx == NULL)
		return strdup(from);
	r = malloc(base + strlen(sfx) + 1);
	if (r != NULL) {
		memcpy(r, from, base);
		strcpy(r + base, sfx);
	}
	return r;
}

static json_t *rule_json(const char *from, char *const *to, size_t nto)
{
	json_t *o = json_object(), *a = json_array();
	size_t i;

	if (o == NULL || a == NULL || jset(o, "to_tables", a) < 0) {
		json_decref(o);
		return NULL;
	}
	if (jset(o, "from_table", json_string(from)) < 0)
		goto fail;
	for (i = 0; i < nto; i++)
		if (jpush(a, json_string(to[i])) < 0)
			goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* vtgate's findRoutedKeyspace for keyspace ks, or NULL when no keyspace
 * routing rule names it (the last rule of a name wins: Go map). */
static const char *routed_keyspace(bctx *c, const char *ks)
{
	const Vschema__KeyspaceRoutingRules *krr =
	    c->srv->keyspace_routing_rules;
	const char *hit = NULL, *plain = NULL;
	char typed[ROUTER_NAME_MAX * 2 + 16];
	size_t i;

	if (krr == NULL)
		return NULL;
	snprintf(typed, sizeof typed, "%s%s", ks, suffix_of(c->in->tablet));
	for (i = 0; i < krr->n_rules; i++) {
		const char *f = krr->rules[i]->from_keyspace;

		/* "@primary" is the empty suffix there: only "ks" matches. */
		if (c->in->tablet != ROUTER__VITESS_PRIMARY &&
		    strcmp(f, typed) == 0)
			hit = krr->rules[i]->to_keyspace;
		if (strcmp(f, ks) == 0)
			plain = krr->rules[i]->to_keyspace;
	}
	if (hit == NULL)
		hit = plain;
	if (hit != NULL && strcmp(hit, ks) == 0)
		return NULL;
	return hit;
}

static int build_doc(bctx *c, json_t **docp)
{
	json_t *doc = json_object(), *kss = json_object(), *orig = json_object();
	json_t *routed = json_object(); /* from keyspace -> to keyspace */
	json_t *rules = NULL;
	const Vschema__SrvVSchema *srv = c->srv;
	const char *name;
	json_t *v;
	size_t i;
	int rc;

	*docp = doc;
	if (doc == NULL || kss == NULL || orig == NULL || routed == NULL ||
	    jset(doc, "keyspaces", kss) < 0) {
		json_decref(orig);
		json_decref(routed);
		return oom(c);
	}
	for (i = 0; i < srv->n_keyspaces; i++)
		if (jset(orig, srv->keyspaces[i]->key,
		         keyspace_json(srv->keyspaces[i]->value)) < 0)
			goto nomem;
	/* Which keyspaces a keyspace routing rule sends elsewhere (every
	 * name a rule mentions, with or without its suffix), and where,
	 * for this tablet type. */
	if (srv->keyspace_routing_rules != NULL) {
		const Vschema__KeyspaceRoutingRules *krr =
		    srv->keyspace_routing_rules;

		for (i = 0; i < krr->n_rules; i++) {
			char base[ROUTER_NAME_MAX + 1];
			const char *f = krr->rules[i]->from_keyspace, *to;
			const char *at = strchr(f, '@');
			size_t n = at != NULL ? (size_t)(at - f) : strlen(f);

			if (n == 0 || n > ROUTER_NAME_MAX)
				continue; /* names nothing the table holds */
			memcpy(base, f, n);
			base[n] = '\0';
			if ((to = routed_keyspace(c, base)) != NULL &&
			    jset(routed, base, json_string(to)) < 0)
				goto nomem;
		}
	}
	json_object_foreach(orig, name, v) {
		json_t *k = json_deep_copy(v);

		if (jset(kss, name, k) < 0)
			goto nomem;
		rc = shards_json(c, name, k);
		if (rc != ROUTER_OK)
			goto out;
	}
	/* A keyspace routing rule's target must be a keyspace of the
	 * SrvVSchema (vtgate would fail every query of the routed keyspace;
	 * librouter refuses the whole value instead, naming the rule).
	 * vtgate routes a keyspace once (no chains), then resolves the table
	 * and its routing rules in the target as it is, even when the target
	 * is itself routed away: the table's own resolution does the same. */
	json_object_foreach(routed, name, v) {
		const char *to = json_string_value(v);

		if (json_object_get(orig, to) == NULL) {
			rc = router__seterr(
			    c->err, ROUTER_ENOTFOUND, name,
			    "%s: keyspace routing rule %s -> %s: keyspace %s "
			    "is not in the SrvVSchema",
			    srv_key(c), name, to, to);
			goto out;
		}
	}
	/* Table routing rules: the tablet type's suffix swapped in. */
	if (srv->routing_rules != NULL && srv->routing_rules->n_rules > 0) {
		json_t *rr = json_object();

		rules = json_array();
		if (jset(doc, "routing_rules", rr) < 0 ||
		    jset(rr, "rules", rules) < 0)
			goto nomem;
		for (i = 0; i < srv->routing_rules->n_rules; i++) {
			const Vschema__RoutingRule *r =
			    srv->routing_rules->rules[i];
			char *from = rule_from(c, r->from_table);
			json_t *o;

			if (from == NULL)
				goto nomem;
			o = rule_json(from, r->to_tables, r->n_to_tables);
			free(from);
			if (jpush(rules, o) < 0)
				goto nomem;
		}
	}
	if (srv->mirror_rules != NULL && srv->mirror_rules->n_rules > 0) {
		json_t *mr = json_object(), *a = json_array();

		if (jset(doc, "mirror_rules", mr) < 0 || jset(mr, "rules", a) < 0)
			goto nomem;
		for (i = 0; i < srv->mirror_rules->n_rules; i++) {
			const Vschema__MirrorRule *m = srv->mirror_rules->rules[i];
			json_t *o = json_object();

			if (jpush(a, o) < 0 || jset_str(o, "from_table", m->from_table) < 0 ||
			    jset_str(o, "to_table", m->to_table) < 0 ||
			    jset(o, "percent", json_real(m->percent)) < 0)
				goto nomem;
		}
	}
	/* Keyspace routing rules: the one vtgate applies for this tablet
	 * type (findRoutedKeyspace), as a plain rule the table applies. */
	if (json_object_size(routed) > 0) {
		json_t *kr = json_object(), *a = json_array();

		if (jset(doc, "keyspace_routing_rules", kr) < 0 ||
		    jset(kr, "rules", a) < 0)
			goto nomem;
		json_object_foreach(routed, name, v) {
			json_t *o = json_object();

			if (jpush(a, o) < 0 ||
			    jset_str(o, "from_keyspace", name) < 0 ||
			    jset_str(o, "to_keyspace", json_string_value(v)) < 0)
				goto nomem;
		}
	}
	/* Shard routing rules: as given (the table keeps the last of a key
	 * and applies them after the shard is found, with
	 * ROUTER_TARGET_SHARD_ROUTING, as vtgate with
	 * --enable-partial-keyspace-migration does). */
	if (srv->shard_routing_rules != NULL &&
	    srv->shard_routing_rules->n_rules > 0) {
		const Vschema__ShardRoutingRules *sr = srv->shard_routing_rules;
		json_t *o = json_object(), *a = json_array();

		if (jset(doc, "shard_routing_rules", o) < 0 ||
		    jset(o, "rules", a) < 0)
			goto nomem;
		for (i = 0; i < sr->n_rules; i++) {
			const Vschema__ShardRoutingRule *r = sr->rules[i];
			json_t *x = json_object();

			if (jpush(a, x) < 0 ||
			    jset_str(x, "from_keyspace", r->from_keyspace) < 0 ||
			    jset_str(x, "to_keyspace", r->to_keyspace) < 0 ||
			    jset_str(x, "shard", r->shard) < 0)
				goto nomem;
			if (json_object_get(orig, r->to_keyspace) == NULL)
				router__vitess_note(
				    &c->out->notes,
				    "%s: shard routing rule %s/%s -> %s: keyspace "
				    "%s is not in the SrvVSchema (a vtgate with "
				    "--enable-partial-keyspace-migration fails "
				    "that shard's queries)",
				    srv_key(c), r->from_keyspace, r->shard,
				    r->to_keyspace, r->to_keyspace);
		}
	}
	rc = ROUTER_OK;
	goto out;
nomem:
	rc = oom(c);
out:
	json_decref(orig);
	json_decref(routed);
	return rc;
}

int router__vitess_build(const router__vitess_input *in,
                         router__vitess_built *out, router_error *err)
{
	bctx c;
	router__vitess_input inc;
	json_t *doc = NULL;
	router_doc_options opt = ROUTER_DOC_OPTIONS_INIT;
	int64_t vmax = 0;
	size_t i;
	int rc;

	if (in == NULL || out == NULL || (in->srvks == NULL && in->nsrvks > 0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router__vitess_build: NULL argument");
	memset(out, 0, sizeof *out);
	inc = *in;
	if (inc.tablet == 0)
		inc.tablet = ROUTER__VITESS_PRIMARY;
	if (inc.tablet < ROUTER__VITESS_PRIMARY || inc.tablet > ROUTER__VITESS_RDONLY)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "tablet type %d: not primary, replica or "
		                      "rdonly",
		                      (int)inc.tablet);
	if (inc.cell_root == NULL)
		inc.cell_root = "";
	memset(&c, 0, sizeof c);
	c.in = &inc;
	c.out = out;
	c.err = err;
	c.srvks = calloc(inc.nsrvks ? inc.nsrvks : 1, sizeof *c.srvks);
	if (c.srvks == NULL)
		return oom(&c);
	rc = router__vitess_decode(ROUTER__VITESS_SRV_VSCHEMA, srv_key(&c),
	                           inc.srv_vschema, inc.srv_vschema_len,
	                           (void **)&c.srv, &out->notes, err);
	vmax = inc.srv_vschema_rev;
	for (i = 0; rc == ROUTER_OK && i < inc.nsrvks; i++) {
		const router__vitess_srvks *s = &inc.srvks[i];

		if (s->keyspace == NULL) {
			rc = router__seterr(err, ROUTER_EINVAL, NULL,
			                    "SrvKeyspace %zu without a keyspace", i);
			break;
		}
		rc = router__vitess_decode(ROUTER__VITESS_SRV_KEYSPACE,
		                           srvks_key(&c, s->keyspace), s->value,
		                           s->len, &c.srvks[i], &out->notes, err);
		if (s->mod_revision > vmax)
			vmax = s->mod_revision;
	}
	if (rc == ROUTER_OK) {
		/* Unused SrvKeyspaces say nothing vtgate would route to. */
		for (i = 0; i < inc.nsrvks; i++) {
			size_t k;
			int found = 0;

			for (k = 0; k < c.srv->n_keyspaces; k++)
				found |= strcmp(c.srv->keyspaces[k]->key,
				                inc.srvks[i].keyspace) == 0;
			if (!found)
				router__vitess_note(
				    &out->notes,
				    "%s: keyspace %s is not in %s: not routed",
				    srvks_key(&c, inc.srvks[i].keyspace),
				    inc.srvks[i].keyspace, srv_key(&c));
		}
		rc = build_doc(&c, &doc);
	}
	if (inc.min_version > vmax)
		vmax = inc.min_version;
	out->version = vmax > 0 ? (uint64_t)vmax : 0;
	if (rc == ROUTER_OK) {
		out->document = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (out->document == NULL)
			rc = oom(&c);
		else
			out->document_len = strlen(out->document);
	}
	if (rc == ROUTER_OK) {
		opt.format = ROUTER_DOC_SRV;
		opt.flags = ROUTER_DOC_NO_FILES;
		opt.allocator = inc.allocator;
		opt.version = out->version;
		rc = router_doc_load(out->document, out->document_len, &opt,
		                     &out->table, &out->report, err);
		srv_key(&c);
		if (rc != ROUTER_OK && err != NULL &&
		    strncmp(err->message, c.key, strlen(c.key)) != 0) {
			char m[sizeof c.key + ROUTER_MESSAGE_MAX + 2];

			/* The key first: the loader's culprit is a JSON
			 * path, which names no topo key. */
			snprintf(m, sizeof m, "%s: %s", c.key, err->message);
			memcpy(err->message, m, ROUTER_MESSAGE_MAX - 1);
			err->message[ROUTER_MESSAGE_MAX - 1] = '\0';
		}
	}
	json_decref(doc);
	router__vitess_message_free(c.srv);
	for (i = 0; i < inc.nsrvks; i++)
		router__vitess_message_free(c.srvks[i]);
	free(c.srvks);
	return rc;
}
