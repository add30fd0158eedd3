/*
 * Writing routing documents: a table back to Vitess VSchema JSON
 * (router_doc_dump), keys sorted so that equal tables give equal bytes,
 * with librouter's "version" and "shards" unless plain Vitess is asked for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "router_doc.h"
#include "table.h"

typedef struct dumper {
	int nomem;
	const char *bad; /* a name that is not UTF-8 */
} dumper;

/* jansson refused s (as a string or a key): invalid UTF-8 or out of
 * memory, which it does not tell apart.  Find out which. */
static void refused_name(dumper *d, const char *s)
{
	json_t *v = json_string(s);

	if (v != NULL) { /* valid UTF-8: it was memory */
		json_decref(v);
		d->nomem = 1;
	} else if ((v = json_string_nocheck(s)) != NULL) {
		json_decref(v);
		if (d->bad == NULL)
			d->bad = s;
	} else {
		d->nomem = 1;
	}
}

static json_t *jstr(dumper *d, const char *s)
{
	json_t *v = json_string(s);

	if (v == NULL)
		refused_name(d, s);
	return v;
}

static void put(dumper *d, json_t *obj, const char *key, json_t *v)
{
	if (v == NULL || obj == NULL) {
		json_decref(v);
		if (d->bad == NULL)
			d->nomem = 1;
		return;
	}
	/* Keys are names from the table; a non-UTF-8 key fails here, and
	 * so does an allocation. */
	if (json_object_set_new(obj, key, v) != 0)
		refused_name(d, key);
}

static void push(dumper *d, json_t *arr, json_t *v)
{
	if (v == NULL || arr == NULL) {
		json_decref(v);
		if (d->bad == NULL)
			d->nomem = 1;
		return;
	}
	if (json_array_append_new(arr, v) != 0)
		d->nomem = 1;
}

static json_t *juint(dumper *d, uint64_t v)
{
	json_t *j;

	if (v <= (uint64_t)INT64_MAX) {
		j = json_integer((json_int_t)v);
	} else {
		char buf[24];

		buf[router__fmt_uint64(v, buf)] = '\0';
		j = json_string(buf);
	}
	if (j == NULL)
		d->nomem = 1;
	return j;
}

static json_t *dump_table(dumper *d, const router__tdef *td)
{
	json_t *o = json_object(), *cvs;
	size_t i, c;

	if (td->type == ROUTER_TABLE_REFERENCE)
		put(d, o, "type", jstr(d, "reference"));
	else if (td->type == ROUTER_TABLE_SEQUENCE)
		put(d, o, "type", jstr(d, "sequence"));
	if (td->pinned != NULL)
		put(d, o, "pinned", jstr(d, td->pinned));
	if (td->ncvs == 0)
		return o;
	cvs = json_array();
	for (i = 0; i < td->ncvs; i++) {
		const router__colvindex *cv = &td->cvs[i];
		json_t *e = json_object();

		put(d, e, "name", jstr(d, cv->vd != NULL ? cv->vd->name : ""));
		if (cv->ncolumns == 1) {
			put(d, e, "column", jstr(d, cv->columns[0]));
		} else {
			json_t *cols = json_array();

			for (c = 0; c < cv->ncolumns; c++)
				push(d, cols, jstr(d, cv->columns[c]));
			put(d, e, "columns", cols);
		}
		push(d, cvs, e);
	}
	put(d, o, "column_vindexes", cvs);
	return o;
}

static json_t *dump_keyspace(dumper *d, const router__keyspace *ks,
                             unsigned flags)
{
	json_t *o = json_object();
	size_t i, j;

	if (ks->sharded)
		put(d, o, "sharded", json_true());
	if (!(flags & ROUTER_DOC_DUMP_VITESS)) {
		json_t *sh = json_array();

		for (i = 0; i < ks->nshards; i++)
			push(d, sh, jstr(d, ks->shards[i].name));
		put(d, o, "shards", sh);
	}
	if (ks->nvindexes > 0) {
		json_t *vs = json_object();

		for (i = 0; i < ks->nvindexes; i++) {
			const router__vdef *vd = &ks->vindexes[i];
			json_t *v = json_object();

			put(d, v, "type", jstr(d, vd->type));
			if (vd->owner[0] != '\0')
				put(d, v, "owner", jstr(d, vd->owner));
			if (vd->nparams > 0) {
				json_t *p = json_object();

				for (j = 0; j < vd->nparams; j++)
					put(d, p, vd->params[j].key,
					    jstr(d, vd->params[j].value));
				put(d, v, "params", p);
			}
			put(d, vs, vd->name, v);
		}
		put(d, o, "vindexes", vs);
	}
	if (ks->ntables > 0) {
		json_t *ts = json_object();

		for (i = 0; i < ks->ntables; i++)
			put(d, ts, ks->tables[i].name,
			    dump_table(d, &ks->tables[i]));
		put(d, o, "tables", ts);
	}
	return o;
}

static json_t *dump_rules(dumper *d, const router_table *t)
{
	json_t *rr = json_object(), *rules = json_array();
	size_t i;

	for (i = 0; i < t->nrules; i++) {
		const router__rule *x = &t->rules[i];
		/* A rule vtgate keeps as an error is written so that it loads
		 * as the same error: a duplicate twice, several targets as
		 * given. */
		int times = x->error_kind == ROUTER__RULE_DUP ? 2 : 1;

		while (times-- > 0) {
			json_t *r = json_object(), *to = json_array();
			size_t j;

			put(d, r, "from_table", jstr(d, x->from));
			if (x->error_kind == ROUTER__RULE_MULTI)
				for (j = 0; j < x->ntargets; j++)
					push(d, to, jstr(d, x->targets[j]));
			else if (x->to != NULL)
				push(d, to, jstr(d, x->to));
			put(d, r, "to_tables", to);
			push(d, rules, r);
		}
	}
	put(d, rr, "rules", rules);
	return rr;
}

/* {"rules": [{"from_keyspace", "shard", "to_keyspace"}...]}, as the
 * SrvVSchema's shard_routing_rules (one rule per key, sorted). */
static json_t *dump_shard_rules(dumper *d, const router_table *t)
{
	json_t *rr = json_object(), *rules = json_array();
	size_t i;

	for (i = 0; i < t->nshrules; i++) {
		json_t *r = json_object();

		put(d, r, "from_keyspace", jstr(d, t->shrules[i].from_ks));
		put(d, r, "to_keyspace", jstr(d, t->shrules[i].to_ks));
		put(d, r, "shard", jstr(d, t->shrules[i].shard));
		push(d, rules, r);
	}
	put(d, rr, "rules", rules);
	return rr;
}

/* {"rules": [{"from_keyspace", "to_keyspace"}...]}, as the SrvVSchema's
 * keyspace_routing_rules. */
static json_t *dump_ks_rules(dumper *d, const router_table *t)
{
	json_t *rr = json_object(), *rules = json_array();
	size_t i;

	for (i = 0; i < t->nksrules; i++) {
		json_t *r = json_object();

		put(d, r, "from_keyspace", jstr(d, t->ksrules[i].from));
		put(d, r, "to_keyspace", jstr(d, t->ksrules[i].to));
		push(d, rules, r);
	}
	put(d, rr, "rules", rules);
	return rr;
}

int router_doc_dump(const router_table *t, const char *keyspace,
                    unsigned flags, const router_allocator *alloc, char **out,
                    size_t *len, router_error *err)
{
	const router_allocator *a = router__allocator(alloc);
	dumper d = {0, NULL};
	json_t *root;
	size_t jflags, n, i;
	char *buf;

	if (out != NULL)
		*out = NULL;
	if (len != NULL)
		*len = 0;
	if (t == NULL || out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_doc_dump: NULL argument");
	if (flags & ~(ROUTER_DOC_DUMP_COMPACT | ROUTER_DOC_DUMP_VITESS))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "unknown dump flags 0x%x", flags);
	if (keyspace != NULL) {
		const router__keyspace *ks =
		    router__table_keyspace(t, keyspace, strlen(keyspace));

		if (ks == NULL)
			return router__seterr(err, ROUTER_ENOTFOUND, keyspace,
			                      "keyspace %.*s not found",
			                      ROUTER_NAME_MAX, keyspace);
		root = dump_keyspace(&d, ks, flags);
	} else {
		json_t *kss = json_object();

		root = json_object();
		for (i = 0; i < t->nkeyspaces; i++)
			put(&d, kss, t->keyspaces[i].name,
			    dump_keyspace(&d, &t->keyspaces[i], flags));
		put(&d, root, "keyspaces", kss);
		if (t->nrules > 0)
			put(&d, root, "routing_rules", dump_rules(&d, t));
		if (t->nshrules > 0)
			put(&d, root, "shard_routing_rules",
			    dump_shard_rules(&d, t));
		if (t->nksrules > 0)
			put(&d, root, "keyspace_routing_rules",
			    dump_ks_rules(&d, t));
	}
	if (!(flags & ROUTER_DOC_DUMP_VITESS) && t->version != 0)
		put(&d, root, "version", juint(&d, t->version));
	if (root == NULL)
		d.nomem = 1;
	if (d.bad != NULL) {
		json_decref(root);
		return router__seterr(err, ROUTER_EDOC, NULL,
		                      "the table cannot be written as JSON: a "
		                      "name is not valid UTF-8");
	}
	jflags = JSON_SORT_KEYS |
	         ((flags & ROUTER_DOC_DUMP_COMPACT) ? JSON_COMPACT
	                                            : JSON_INDENT(2));
	n = d.nomem ? 0 : json_dumpb(root, NULL, 0, jflags);
	buf = n > 0 ? router__malloc(a, n + 1) : NULL;
	if (buf == NULL || json_dumpb(root, buf, n, jflags) != n) {
		router__free(a, buf);
		json_decref(root);
		return router__seterr(err, ROUTER_ENOMEM, NULL,
		                      "out of memory writing the document");
	}
	buf[n] = '\0';
	json_decref(root);
	*out = buf;
	if (len != NULL)
		*len = n;
	router__clearerr(err);
	return ROUTER_OK;
}
