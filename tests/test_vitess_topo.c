/* Vitess topo values: decoding (librouter/fleet/vitess_decode.c) and the
 * routing table built from them (vitess_build.c), on fixtures written by
 * an independent encoder (tools/gen_topo_fixtures.py: python3-protobuf on
 * Vitess's real .proto files, tests/data/topo/MANIFEST). */
#include "testutil.h"

#include "fleet/vitess_build.h"
#include "fleet/vitess_decode.h"
#include "router_doc.h"
#include "vitess_topodata.pb-c.h"
#include "vitess_vschema.pb-c.h"

#define ROOT "/vitess/zone1"

typedef struct blob {
	uint8_t *p;
	size_t n;
} blob;

static blob fixture(const char *name)
{
	blob b;

	b.p = tu_topo_fixture(name, &b.n);
	return b;
}

/* Build from fixtures: srv and a customer / commerce SrvKeyspace (NULL:
 * absent), revisions 10, 20, 30. */
static int build(const char *srv, const char *customer, const char *commerce,
                 router__vitess_tablet tt, router__vitess_built *out,
                 router_error *e)
{
	blob s = fixture(srv), c = {NULL, 0}, m = {NULL, 0};
	router__vitess_srvks ks[2];
	router__vitess_input in;
	size_t n = 0;
	int rc;

	memset(&in, 0, sizeof in);
	if (customer != NULL) {
		c = fixture(customer);
		ks[n++] = (router__vitess_srvks){"customer", c.p, c.n, 20};
	}
	if (commerce != NULL) {
		m = fixture(commerce);
		ks[n++] = (router__vitess_srvks){"commerce", m.p, m.n, 30};
	}
	in.cell_root = ROOT;
	in.srv_vschema = s.p;
	in.srv_vschema_len = s.n;
	in.srv_vschema_rev = 10;
	in.srvks = ks;
	in.nsrvks = n;
	in.tablet = tt;
	rc = router__vitess_build(&in, out, e);
	free(s.p);
	free(c.p);
	free(m.p);
	return rc;
}

static const char *route_id(const router_table *t, const char *ks,
                            const char *table, int64_t id, int *rc)
{
	static router_route_result res;
	router_value v = ROUTER_VALUE_INT64(id);
	router_error e;

	*rc = router_table_route(t, ks, strlen(ks), table, strlen(table), &v, 1,
	                         &res, &e);
	return *rc == ROUTER_OK ? res.shard : NULL;
}

/* "keyspace/shard" where vtgate serves keyspace.table for id, with the
 * rules that applied in *rules (router_table_route_target, as a vtgate
 * with --enable-partial-keyspace-migration). */
static const char *target_of(const router_table *t, const char *ks,
                             const char *table, int64_t id, unsigned *rules)
{
	static char buf[2 * ROUTER_NAME_MAX + 2];
	router_route_result res;
	router_target tg;
	router_value v = ROUTER_VALUE_INT64(id);
	router_error e;
	int rc = router_table_route_target(t, ks, strlen(ks), table,
	                                   strlen(table), &v, 1,
	                                   ROUTER_TARGET_SHARD_ROUTING, &res, &tg,
	                                   &e);

	assert_int_equal(rc, ROUTER_OK);
	assert_int_equal(tg.keyspace_len, strlen(tg.keyspace));
	snprintf(buf, sizeof buf, "%s/%s", tg.keyspace, res.shard);
	*rules = tg.rules;
	return buf;
}

static void decode_reads_every_field_used(void **state)
{
	blob b;
	void *m;
	router_error e;
	size_t i, seen = 0;
	const Vschema__SrvVSchema *s;
	const Topodata__SrvKeyspace *sk;
	const Topodata__CellInfo *ci;
	const Vschema__Keyspace *k;

	(void)state;
	b = fixture("srv_vschema_rules.bin");
	assert_int_equal(router__vitess_decode(ROUTER__VITESS_SRV_VSCHEMA, "k",
	                                       b.p, b.n, &m, NULL, &e),
	                 ROUTER_OK);
	s = m;
	assert_int_equal(s->n_keyspaces, 2);
	for (i = 0; i < s->n_keyspaces; i++) {
		const Vschema__Keyspace *ks = s->keyspaces[i]->value;

		if (strcmp(s->keyspaces[i]->key, "customer") == 0) {
			seen |= 1;
			assert_true(ks->sharded);
			assert_int_equal(ks->n_vindexes, 1);
			assert_string_equal(ks->vindexes[0]->key, "hash");
			assert_string_equal(ks->vindexes[0]->value->type, "xxhash");
			assert_int_equal(ks->n_tables, 2);
			assert_int_equal(ks->tables[0]->value->n_column_vindexes, 1);
			assert_string_equal(
			    ks->tables[0]->value->column_vindexes[0]->column,
			    "customer_id");
			assert_string_equal(
			    ks->tables[0]->value->column_vindexes[0]->name, "hash");
		} else {
			seen |= 2;
			assert_string_equal(s->keyspaces[i]->key, "commerce");
			assert_false(ks->sharded);
			assert_int_equal(ks->n_tables, 3);
		}
	}
	assert_int_equal(seen, 3);
	assert_int_equal(s->routing_rules->n_rules, 6);
	assert_string_equal(s->routing_rules->rules[1]->from_table,
	                    "customer.corder");
	assert_string_equal(s->routing_rules->rules[1]->to_tables[0],
	                    "commerce.corder");
	assert_int_equal(s->routing_rules->rules[5]->n_to_tables, 0);
	assert_string_equal(s->shard_routing_rules->rules[0]->from_keyspace,
	                    "customer");
	assert_string_equal(s->shard_routing_rules->rules[0]->to_keyspace,
	                    "commerce");
	assert_string_equal(s->shard_routing_rules->rules[0]->shard, "-80");
	assert_int_equal(s->keyspace_routing_rules->n_rules, 2);
	assert_string_equal(s->keyspace_routing_rules->rules[1]->from_keyspace,
	                    "tenant@replica");
	assert_string_equal(s->mirror_rules->rules[0]->to_table,
	                    "customer.product");
	assert_true(s->mirror_rules->rules[0]->percent == 10.0f);
	router__vitess_message_free(m);
	free(b.p);

	b = fixture("srvks_customer_resharding.bin");
	assert_int_equal(router__vitess_decode(ROUTER__VITESS_SRV_KEYSPACE, "k",
	                                       b.p, b.n, &m, NULL, &e),
	                 ROUTER_OK);
	sk = m;
	assert_int_equal(sk->n_partitions, 3);
	assert_int_equal(sk->partitions[0]->served_type, TOPODATA__TABLET_TYPE__PRIMARY);
	assert_int_equal(sk->partitions[1]->served_type, TOPODATA__TABLET_TYPE__REPLICA);
	assert_int_equal(sk->partitions[1]->n_shard_references, 4);
	assert_string_equal(sk->partitions[1]->shard_references[1]->name, "40-80");
	assert_int_equal(sk->partitions[1]->shard_references[1]->key_range->start.len, 1);
	assert_int_equal(sk->partitions[1]->shard_references[1]->key_range->start.data[0], 0x40);
	assert_int_equal(sk->partitions[1]->shard_references[1]->key_range->end.data[0], 0x80);
	assert_int_equal(sk->partitions[0]->shard_references[0]->key_range->start.len, 0);
	router__vitess_message_free(m);
	free(b.p);

	b = fixture("srvks_commerce.bin");
	assert_int_equal(router__vitess_decode(ROUTER__VITESS_SRV_KEYSPACE, "k",
	                                       b.p, b.n, &m, NULL, &e),
	                 ROUTER_OK);
	sk = m;
	assert_string_equal(sk->partitions[2]->shard_references[0]->name, "0");
	assert_null(sk->partitions[2]->shard_references[0]->key_range);
	router__vitess_message_free(m);
	free(b.p);

	b = fixture("cellinfo.bin");
	assert_int_equal(router__vitess_decode(ROUTER__VITESS_CELL_INFO, "k",
	                                       b.p, b.n, &m, NULL, &e),
	                 ROUTER_OK);
	ci = m;
	assert_string_equal(ci->server_address, "127.0.0.1:2379");
	assert_string_equal(ci->root, "/vitess/zone1");
	router__vitess_message_free(m);
	free(b.p);

	b = fixture("keyspace_customer.bin");
	assert_int_equal(router__vitess_decode(ROUTER__VITESS_KEYSPACE, "k", b.p,
	                                       b.n, &m, NULL, &e),
	                 ROUTER_OK);
	k = m;
	assert_true(k->sharded);
	assert_int_equal(k->n_tables, 2);
	router__vitess_message_free(m);
	free(b.p);
}

static void decode_empty_value_is_the_empty_message(void **state)
{
	void *m;
	router_error e;
	int kind;

	(void)state;
	for (kind = 1; kind <= 4; kind++) {
		assert_int_equal(router__vitess_decode(kind, "k", NULL, 0, &m,
		                                       NULL, &e),
		                 ROUTER_OK);
		assert_non_null(m);
		router__vitess_message_free(m);
	}
}

static void decode_skips_unknown_fields_silently(void **state)
{
	router__vitess_built a, b;
	router_error e;

	(void)state;
	assert_int_equal(build("srv_vschema.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", 0, &a, &e),
	                 ROUTER_OK);
	assert_int_equal(build("srv_vschema_unknown.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", 0, &b, &e),
	                 ROUTER_OK);
	assert_int_equal(b.notes.n, 0);
	assert_int_equal(router_table_hash(a.table), router_table_hash(b.table));
	router__vitess_built_clear(&a);
	router__vitess_built_clear(&b);
}

static void decode_skips_wrong_wire_type_with_a_warning(void **state)
{
	router__vitess_built a, b;
	router_error e;
	size_t i;
	int rr = 0, sh = 0;

	(void)state;
	assert_int_equal(build("srv_vschema.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", 0, &a, &e),
	                 ROUTER_OK);
	assert_int_equal(build("srv_vschema_wrong_wire.bin",
	                       "srvks_customer.bin", "srvks_commerce.bin", 0, &b,
	                       &e),
	                 ROUTER_OK);
	assert_int_equal(b.notes.n, 2);
	for (i = 0; i < b.notes.n; i++) {
		rr |= strstr(b.notes.msg[i], "SrvVSchema.routing_rules (2) has "
		                             "wire type varint, expected "
		                             "length-delimited") != NULL;
		sh |= strstr(b.notes.msg[i], "keyspaces.value.sharded (1) has "
		                             "wire type 32-bit") != NULL;
		assert_non_null(strstr(b.notes.msg[i], ROOT "/SrvVSchema: "));
	}
	if (!(rr && sh))
		fail_msg("notes: %s | %s", b.notes.msg[0], b.notes.msg[1]);
	assert_int_equal(router_table_hash(a.table), router_table_hash(b.table));
	router__vitess_built_clear(&a);
	router__vitess_built_clear(&b);
}

static void decode_refuses_garbage_naming_the_key(void **state)
{
	static const struct {
		const char *bytes;
		size_t n;
		const char *what;
	} bad[] = {
	    {"\xff\xff\xff", 3, "truncated tag"},
	    {"\x00\x01", 2, "field number 0"},
	    {"\x0f", 1, "wire type 7"},
	    {"\x0a\x05\x0a", 3, "runs past the end"},
	    {"\x0c", 1, "end of group 1 without its start"},
	    {"\x0b\x08\x01", 3, "group 1 without its end"},
	    {"\x0a\x04\x0a\x02\xc3\x28", 6, "is not valid UTF-8"},
	    {"\x0a\x04\x0a\x02\x61\x00", 6, "holds a NUL byte"},
	    {"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11,
	     "truncated varint"},
	};
	size_t i;
	void *m;
	router_error e;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(router__vitess_decode(ROUTER__VITESS_SRV_VSCHEMA,
		                                       ROOT "/SrvVSchema",
		                                       bad[i].bytes, bad[i].n, &m,
		                                       NULL, &e),
		                 ROUTER_EDOC);
		assert_null(m);
		assert_string_equal(e.culprit, ROOT "/SrvVSchema");
		if (strstr(e.message, bad[i].what) == NULL)
			fail_msg("case %zu: %s", i, e.message);
		assert_non_null(strstr(e.message, "not valid protobuf"));
	}
}

/* Every prefix and every single-bit flip of every fixture: decoded and
 * built without a crash (ASan/valgrind check the memory), and a truncated
 * SrvVSchema is refused. */
static void decode_survives_truncation_and_bit_flips(void **state)
{
	static const char *const names[] = {
	    "srv_vschema.bin", "srv_vschema_rules.bin", "srvks_customer.bin",
	    "srvks_customer_resharding.bin", "srv_vschema_unknown.bin",
	    "cellinfo.bin"};
	size_t f, i, refused = 0, tried = 0;
	router_error e;

	(void)state;
	for (f = 0; f < sizeof names / sizeof names[0]; f++) {
		blob b = fixture(names[f]);
		int kind = names[f][3] == 'k' ? ROUTER__VITESS_SRV_KEYSPACE
		           : names[f][0] == 'c' ? ROUTER__VITESS_CELL_INFO
		                                : ROUTER__VITESS_SRV_VSCHEMA;

		for (i = 0; i < b.n; i++) {
			void *m;
			int rc = router__vitess_decode(kind, "k", b.p, i, &m,
			                               NULL, &e);

			assert_true(rc == ROUTER_OK || rc == ROUTER_EDOC);
			refused += rc == ROUTER_EDOC;
			tried++;
			router__vitess_message_free(m);
		}
		for (i = 0; i < b.n * 8; i++) {
			void *m;
			int rc;

			b.p[i / 8] ^= (uint8_t)(1u << (i % 8));
			rc = router__vitess_decode(kind, "k", b.p, b.n, &m, NULL,
			                           &e);
			assert_true(rc == ROUTER_OK || rc == ROUTER_EDOC);
			if (rc == ROUTER_OK && kind == ROUTER__VITESS_SRV_VSCHEMA) {
				router__vitess_srvks ks[1];
				router__vitess_input in;
				router__vitess_built out;
				blob c = fixture("srvks_customer.bin");

				memset(&in, 0, sizeof in);
				ks[0] = (router__vitess_srvks){"customer", c.p, c.n, 1};
				in.srv_vschema = b.p;
				in.srv_vschema_len = b.n;
				in.srvks = ks;
				in.nsrvks = 1;
				(void)router__vitess_build(&in, &out, &e);
				router__vitess_built_clear(&out);
				free(c.p);
			}
			refused += rc == ROUTER_EDOC;
			tried++;
			router__vitess_message_free(m);
			b.p[i / 8] ^= (uint8_t)(1u << (i % 8));
		}
		if (kind == ROUTER__VITESS_SRV_VSCHEMA) {
			void *m;

			assert_int_equal(router__vitess_decode(kind, "k", b.p,
			                                       b.n - 1, &m, NULL, &e),
			                 ROUTER_EDOC);
		}
		free(b.p);
	}
	assert_true(refused > tried / 4);
}

static void build_customer_and_commerce_as_the_document_does(void **state)
{
	router__vitess_built b;
	router_error e;
	router_table *t;
	json_t *doc, *cust;
	char *text;
	int rc;

	(void)state;
	assert_int_equal(build("srv_vschema.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", 0, &b, &e),
	                 ROUTER_OK);
	/* The same VSchemas from their JSON, loaded as any document. */
	doc = json_object();
	cust = tu_load_json("examples/customer_sharded.json");
	json_object_set_new(cust, "shards", json_pack("[ss]", "-80", "80-"));
	json_object_set_new(doc, "customer", cust);
	json_object_set_new(doc, "commerce", tu_load_json("examples/commerce_seq.json"));
	text = json_dumps(doc, 0);
	assert_int_equal(router_doc_load(text, strlen(text), NULL, &t, NULL, &e),
	                 ROUTER_OK);
	assert_int_equal(router_table_hash(t), router_table_hash(b.table));
	router_table_free(t);
	free(text);
	json_decref(doc);
	/* Version: the largest revision given (10, 20, 30). */
	assert_int_equal(b.version, 30);
	assert_int_equal(router_table_version(b.table), 30);
	assert_string_equal(route_id(b.table, "commerce", "product", 1, &rc), "0");
	assert_string_equal(route_id(b.table, "customer", "customer", 1, &rc), "80-");
	assert_int_equal(router_doc_shard_count(b.table, "customer"), 2);
	assert_int_equal(b.notes.n, 0);
	router__vitess_built_clear(&b);
}

static void build_version_is_the_same_for_the_same_state(void **state)
{
	router__vitess_built a, b;
	router_error e;

	(void)state;
	assert_int_equal(build("srv_vschema.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", 0, &a, &e),
	                 ROUTER_OK);
	assert_int_equal(build("srv_vschema.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", 0, &b, &e),
	                 ROUTER_OK);
	assert_int_equal(a.version, b.version);
	assert_int_equal(router_table_hash(a.table), router_table_hash(b.table));
	assert_string_equal(a.document, b.document);
	router__vitess_built_clear(&a);
	router__vitess_built_clear(&b);
}

static void build_follows_the_tablet_types_partition_mid_resharding(void **state)
{
	router__vitess_built p, r, ro;
	router_error e;
	int rc;

	(void)state;
	assert_int_equal(build("srv_vschema.bin", "srvks_customer_resharding.bin",
	                       "srvks_commerce.bin", ROUTER__VITESS_PRIMARY, &p, &e),
	                 ROUTER_OK);
	assert_int_equal(build("srv_vschema.bin", "srvks_customer_resharding.bin",
	                       "srvks_commerce.bin", ROUTER__VITESS_REPLICA, &r, &e),
	                 ROUTER_OK);
	assert_int_equal(build("srv_vschema.bin", "srvks_customer_resharding.bin",
	                       "srvks_commerce.bin", ROUTER__VITESS_RDONLY, &ro, &e),
	                 ROUTER_OK);
	assert_int_equal(router_doc_shard_count(p.table, "customer"), 2);
	assert_int_equal(router_doc_shard_count(r.table, "customer"), 4);
	assert_int_equal(router_doc_shard_count(ro.table, "customer"), 4);
	assert_string_equal(router_doc_shard_name(r.table, "customer", 1), "40-80");
	/* xxhash(1) lies in 80- (and in c0- of the replicas). */
	assert_string_equal(route_id(p.table, "customer", "customer", 1, &rc), "80-");
	router__vitess_built_clear(&p);
	router__vitess_built_clear(&r);
	router__vitess_built_clear(&ro);
}

static void build_refuses_a_primary_partition_with_a_gap_or_overlap(void **state)
{
	static const char *const bad[] = {"srvks_customer_gap.bin",
	                                  "srvks_customer_overlap.bin"};
	router__vitess_built b;
	router_error e;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_int_equal(build("srv_vschema.bin", bad[i],
		                       "srvks_commerce.bin", 0, &b, &e),
		                 ROUTER_ECOVERAGE);
		assert_null(b.table);
		assert_non_null(strstr(e.message, ROOT "/SrvVSchema: "));
		router__vitess_built_clear(&b);
	}
	/* The replica partition of the gap fixture does not exist. */
	assert_int_equal(build("srv_vschema.bin", "srvks_customer_gap.bin",
	                       "srvks_commerce.bin", ROUTER__VITESS_REPLICA, &b, &e),
	                 ROUTER_ECOVERAGE);
	assert_string_equal(e.culprit, "customer");
	assert_non_null(strstr(e.message, "no REPLICA partition"));
	assert_non_null(strstr(e.message, ROOT "/keyspaces/customer/SrvKeyspace"));
	router__vitess_built_clear(&b);
}

static void build_refuses_a_key_range_its_shard_name_does_not_say(void **state)
{
	router__vitess_built b;
	router_error e;

	(void)state;
	assert_int_equal(build("srv_vschema.bin", "srvks_customer_badrange.bin",
	                       "srvks_commerce.bin", 0, &b, &e),
	                 ROUTER_ECOVERAGE);
	assert_non_null(strstr(e.message, "shard -80 of keyspace customer has "
	                                  "key range -40"));
	router__vitess_built_clear(&b);
}

static void build_refuses_a_keyspace_without_srvkeyspace(void **state)
{
	router__vitess_built b;
	router_error e;

	(void)state;
	assert_int_equal(build("srv_vschema.bin", NULL, "srvks_commerce.bin", 0,
	                       &b, &e),
	                 ROUTER_ENOTFOUND);
	assert_string_equal(e.culprit, "customer");
	assert_non_null(strstr(e.message, ROOT "/keyspaces/customer/SrvKeyspace"));
	router__vitess_built_clear(&b);
}

static void build_refuses_bytes_that_do_not_decode(void **state)
{
	router__vitess_srvks ks[1];
	router__vitess_input in;
	router__vitess_built b;
	router_error e;
	blob s = fixture("srv_vschema.bin");

	(void)state;
	memset(&in, 0, sizeof in);
	ks[0] = (router__vitess_srvks){"customer", "\x0a\x09", 2, 5};
	in.cell_root = ROOT;
	in.srv_vschema = s.p;
	in.srv_vschema_len = s.n;
	in.srvks = ks;
	in.nsrvks = 1;
	assert_int_equal(router__vitess_build(&in, &b, &e), ROUTER_EDOC);
	assert_string_equal(e.culprit, ROOT "/keyspaces/customer/SrvKeyspace");
	assert_null(b.table);
	router__vitess_built_clear(&b);
	free(s.p);
}

/* The empty SrvVSchema, and the incident's emptied keyspace: whatever the
 * build makes of them, the router serving the good table refuses it and
 * keeps routing. */
static void publish_refuses_the_empty_and_the_incident_values(void **state)
{
	static const char *const bad[] = {"empty.bin", "srv_vschema_incident.bin"};
	router__vitess_built good, b;
	router_options o = ROUTER_OPTIONS_INIT;
	router_route_result res;
	router_value v = ROUTER_VALUE_INT64(1);
	router_error e;
	router *r;
	size_t i;

	(void)state;
	assert_int_equal(router_create(&r, &o, &e), ROUTER_OK);
	assert_int_equal(build("srv_vschema.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", 0, &good, &e),
	                 ROUTER_OK);
	assert_int_equal(router_publish(r, good.table, 0, NULL, &e), ROUTER_OK);
	good.table = NULL; /* the router's now */
	for (i = 0; i < 2; i++) {
		int rc = build(bad[i], "srvks_customer.bin", "srvks_commerce.bin",
		               0, &b, &e);

		if (rc == ROUTER_OK) {
			/* Refused: the caller keeps the table (freed by
			 * router__vitess_built_clear below). */
			rc = router_publish(r, b.table, 0, NULL, &e);
			assert_int_equal(rc, ROUTER_EEMPTY);
			assert_non_null(strstr(e.message, "no keyspace"));
		} else {
			/* Refused before a table exists: the incident's
			 * unsharded customer with two shards. */
			print_message("%s: %s: %s\n", bad[i], e.culprit, e.message);
			assert_true(rc == ROUTER_EVSCHEMA || rc == ROUTER_ECOVERAGE);
			assert_int_equal(i, 1);
		}
		router__vitess_built_clear(&b);
		assert_int_equal(router_route(r, "customer", 8, "customer", 8, &v,
		                              1, &res, &e),
		                 ROUTER_OK);
		assert_string_equal(res.shard, "80-");
		assert_int_equal(res.version, 30);
	}
	router__vitess_built_clear(&good);
	router_free(r);
}

static void build_applies_table_routing_rules_per_tablet_type(void **state)
{
	router__vitess_built p, r;
	router_error e;
	int rc;

	(void)state;
	assert_int_equal(build("srv_vschema_rules.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", ROUTER__VITESS_PRIMARY, &p, &e),
	                 ROUTER_OK);
	assert_int_equal(build("srv_vschema_rules.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", ROUTER__VITESS_REPLICA, &r, &e),
	                 ROUTER_OK);
	/* Mid-MoveTables, writes of customer.corder still go to commerce. */
	assert_string_equal(route_id(p.table, "customer", "corder", 1, &rc), "0");
	/* Replicas already read customer.corder from customer (the @replica
	 * rule, looked up before "customer.corder"). */
	assert_string_equal(route_id(r.table, "customer", "corder", 1, &rc), "80-");
	assert_string_equal(route_id(r.table, "commerce", "corder", 1, &rc), "80-");
	assert_string_equal(route_id(p.table, "commerce", "corder", 1, &rc), "0");
	/* "commerce.product@primary" applies to primary only. */
	assert_string_equal(route_id(p.table, "commerce", "product", 1, &rc), "80-");
	assert_string_equal(route_id(r.table, "commerce", "product", 1, &rc), "0");
	assert_null(route_id(p.table, "commerce", "disabled_t", 1, &rc));
	assert_int_equal(rc, ROUTER_EDISABLED);
	router__vitess_built_clear(&p);
	router__vitess_built_clear(&r);
}

static void build_applies_keyspace_routing_rules_first(void **state)
{
	router__vitess_built p, r;
	router_error e;
	unsigned rules;
	int rc;

	(void)state;
	assert_int_equal(build("srv_vschema_rules.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", ROUTER__VITESS_PRIMARY, &p, &e),
	                 ROUTER_OK);
	assert_int_equal(build("srv_vschema_rules.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", ROUTER__VITESS_REPLICA, &r, &e),
	                 ROUTER_OK);
	/* tenant -> customer for primary: tenant.customer is customer's,
	 * served by keyspace customer. */
	assert_string_equal(route_id(p.table, "tenant", "customer", 1, &rc), "80-");
	assert_string_equal(target_of(p.table, "tenant", "customer", 1, &rules),
	                    "customer/80-");
	assert_int_equal(rules, ROUTER_TARGET_KEYSPACE_RULE);
	/* ... and customer's table rules apply to it: tenant.corder is
	 * looked up as customer.corder, routed to commerce. */
	assert_string_equal(route_id(p.table, "tenant", "corder", 1, &rc), "0");
	assert_string_equal(target_of(p.table, "tenant", "corder", 1, &rules),
	                    "commerce/0");
	assert_int_equal(rules, ROUTER_TARGET_KEYSPACE_RULE |
	                            ROUTER_TARGET_TABLE_RULE);
	/* tenant@replica -> commerce. */
	assert_string_equal(route_id(r.table, "tenant", "customer", 1, &rc), "0");
	assert_string_equal(target_of(r.table, "tenant", "customer", 1, &rules),
	                    "commerce/0");
	/* The document holds the rule vtgate applies for the tablet type. */
	assert_non_null(strstr(p.document, "keyspace_routing_rules"));
	router__vitess_built_clear(&p);
	router__vitess_built_clear(&r);
}

/* customer.corder mid-MoveTables: the table routing rule names commerce
 * as the keyspace, not only commerce's shard. */
static void build_names_the_keyspace_a_table_rule_serves_from(void **state)
{
	router__vitess_built p;
	router_error e;
	unsigned rules;

	(void)state;
	assert_int_equal(build("srv_vschema_rules.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", ROUTER__VITESS_PRIMARY, &p, &e),
	                 ROUTER_OK);
	assert_string_equal(target_of(p.table, "customer", "corder", 1, &rules),
	                    "commerce/0");
	assert_int_equal(rules, ROUTER_TARGET_TABLE_RULE);
	router__vitess_built_clear(&p);
}

/* Partial MoveTables: customer's shard -80 is served from commerce under
 * the same name, 80- still from customer (fixupPartiallyMovedShards). */
static void build_applies_shard_routing_rules_after_the_shard(void **state)
{
	router__vitess_built p;
	router_error e;
	size_t i, n;
	unsigned rules;
	int mirror = 0;

	int64_t low = 0;
	int rc;

	(void)state;
	assert_int_equal(build("srv_vschema_rules.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", 0, &p, &e),
	                 ROUTER_OK);

	/* An id whose keyspace ID falls in -80 (customer's vindex is
	 * xxhash); id 1 falls in 80-. */
	while (route_id(p.table, "customer", "customer", ++low, &rc) != NULL &&
	       strcmp(route_id(p.table, "customer", "customer", low, &rc),
	              "-80") != 0)
		;
	assert_string_equal(target_of(p.table, "customer", "customer", low,
	                              &rules),
	                    "commerce/-80");
	assert_int_equal(rules, ROUTER_TARGET_SHARD_RULE);
	assert_string_equal(target_of(p.table, "customer", "customer", 1, &rules),
	                    "customer/80-");
	assert_int_equal(rules, 0);
	n = router_doc_report_count(p.report, 0);
	for (i = 0; i < n; i++) {
		const router_doc_note *note = router_doc_report_get(p.report, i);

		assert_int_not_equal(note->kind, ROUTER_DOC_NOTE_ERROR);
		if (note->kind == ROUTER_DOC_NOTE_UNSUPPORTED) {
			assert_non_null(strstr(note->error.message, "mirror_rules"));
			mirror = 1;
		}
	}
	/* Only the mirror rules are reported as not applied. */
	assert_true(mirror);
	assert_non_null(strstr(p.document, "shard_routing_rules"));
	router__vitess_built_clear(&p);
}

/* Vindex params and owner, multi-column vindexes, pinned, reference and
 * sequence tables: the table built from the topo equals the one the same
 * JSON VSchemas load into. */
static void build_reads_params_owner_columns_pins_and_table_types(void **state)
{
	static const char *const sharded[] = {"user", "customer",
	                                      "test_keyspace", "pinned_ks"};
	static const char *const files[] = {"examples/demo_user.json",
	                                    "examples/multicol_region.json",
	                                    "examples/compose_test_keyspace.json"};
	blob s = fixture("srv_vschema_more.bin"), sk = fixture("srvks_customer.bin");
	blob uk = fixture("srvks_commerce.bin");
	router__vitess_srvks ks[5];
	router__vitess_input in;
	router__vitess_built b;
	router_error e;
	router_table *t;
	json_error_t je;
	json_t *doc = json_object(), *k;
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		ks[i] = (router__vitess_srvks){sharded[i], sk.p, sk.n, 1};
	ks[4] = (router__vitess_srvks){"seq_ks", uk.p, uk.n, 2};
	memset(&in, 0, sizeof in);
	in.cell_root = ROOT;
	in.srv_vschema = s.p;
	in.srv_vschema_len = s.n;
	in.srvks = ks;
	in.nsrvks = 5;
	assert_int_equal(router__vitess_build(&in, &b, &e), ROUTER_OK);
	for (i = 0; i < 3; i++) {
		k = tu_load_json(files[i]);
		json_object_set_new(doc, sharded[i], k);
	}
	k = json_loads("{\"sharded\": true, \"vindexes\": {\"h\": {\"type\": "
	               "\"hash\"}}, \"tables\": {\"pinned_t\": {\"pinned\": "
	               "\"80\"}, \"ref_t\": {\"type\": \"reference\"}, \"t\": "
	               "{\"column_vindexes\": [{\"column\": \"id\", \"name\": "
	               "\"h\"}]}}}",
	               0, &je);
	assert_non_null(k);
	json_object_set_new(doc, "pinned_ks", k);
	json_object_set_new(doc, "seq_ks",
	                    json_loads("{\"tables\": {\"user_seq\": {\"type\": "
	                               "\"sequence\"}, \"music_seq\": "
	                               "{\"type\": \"sequence\"}}}",
	                               0, &je));
	{
		const char *name;

		json_object_foreach(doc, name, k)
			if (json_is_true(json_object_get(k, "sharded")))
				json_object_set_new(k, "shards",
				                    json_pack("[ss]", "-80", "80-"));
	}
	text = json_dumps(doc, 0);
	if (router_doc_load(text, strlen(text), NULL, &t, NULL, &e) != ROUTER_OK)
		fail_msg("%s: %s", e.culprit, e.message);
	assert_int_equal(router_table_hash(t), router_table_hash(b.table));
	/* What those fields do: a pinned table's shard, a lookup vindex
	 * owned by its table (params in the document), a sequence. */
	{
		const char *name, *type;
		router_route_result r;

		assert_int_equal(router_table_route(b.table, "pinned_ks", 9,
		                                    "pinned_t", 8, NULL, 0, &r, &e),
		                 ROUTER_OK);
		assert_string_equal(r.shard, "80-");
		assert_int_equal(router_doc_primary_vindex(b.table, "seq_ks", 6,
		                                           "user_seq", 8, &name,
		                                           &type, &e),
		                 ROUTER_OK);
		assert_null(name);
	}
	assert_non_null(strstr(b.document, "\"owner\": \"user\""));
	assert_non_null(strstr(b.document, "\"columns\": ["));
	assert_non_null(strstr(b.document, "\"params\": {"));
	router_table_free(t);
	free(text);
	json_decref(doc);
	router__vitess_built_clear(&b);
	free(s.p);
	free(sk.p);
	free(uk.p);
}

/* vtgate's findRoutedKeyspace applies one rule, never a chain: tenant
 * -> commerce resolves in commerce as it is, though commerce itself is
 * routed to customer; tenant gets commerce's table rules. */
static void build_routes_a_keyspace_once_not_along_a_chain(void **state)
{
	router__vitess_built p;
	router_error e;
	int rc;

	(void)state;
	assert_int_equal(build("srv_vschema_krr_chain.bin", "srvks_customer.bin",
	                       "srvks_commerce.bin", 0, &p, &e),
	                 ROUTER_OK);
	assert_string_equal(route_id(p.table, "tenant", "product", 1, &rc), "0");
	assert_string_equal(route_id(p.table, "commerce", "customer", 1, &rc),
	                    "80-");
	assert_null(route_id(p.table, "commerce", "product", 1, &rc));
	assert_int_equal(rc, ROUTER_ENOTFOUND);
	/* commerce.corder's rule, looked up for tenant.corder. */
	assert_string_equal(route_id(p.table, "tenant", "corder", 1, &rc), "80-");
	{
		unsigned rules;

		assert_string_equal(target_of(p.table, "tenant", "corder", 1,
		                              &rules),
		                    "customer/80-");
		assert_int_equal(rules, ROUTER_TARGET_KEYSPACE_RULE |
		                            ROUTER_TARGET_TABLE_RULE);
	}
	/* The rules go into the document as vtgate reads them. */
	assert_non_null(strstr(p.document, "\"commerce.corder\""));
	assert_non_null(strstr(p.document, "keyspace_routing_rules"));
	router__vitess_built_clear(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(decode_reads_every_field_used),
	    cmocka_unit_test(decode_empty_value_is_the_empty_message),
	    cmocka_unit_test(decode_skips_unknown_fields_silently),
	    cmocka_unit_test(decode_skips_wrong_wire_type_with_a_warning),
	    cmocka_unit_test(decode_refuses_garbage_naming_the_key),
	    cmocka_unit_test(decode_survives_truncation_and_bit_flips),
	    cmocka_unit_test(build_customer_and_commerce_as_the_document_does),
	    cmocka_unit_test(build_reads_params_owner_columns_pins_and_table_types),
	    cmocka_unit_test(build_version_is_the_same_for_the_same_state),
	    cmocka_unit_test(build_follows_the_tablet_types_partition_mid_resharding),
	    cmocka_unit_test(build_refuses_a_primary_partition_with_a_gap_or_overlap),
	    cmocka_unit_test(build_refuses_a_key_range_its_shard_name_does_not_say),
	    cmocka_unit_test(build_refuses_a_keyspace_without_srvkeyspace),
	    cmocka_unit_test(build_refuses_bytes_that_do_not_decode),
	    cmocka_unit_test(publish_refuses_the_empty_and_the_incident_values),
	    cmocka_unit_test(build_applies_table_routing_rules_per_tablet_type),
	    cmocka_unit_test(build_applies_keyspace_routing_rules_first),
	    cmocka_unit_test(build_routes_a_keyspace_once_not_along_a_chain),
	    cmocka_unit_test(build_names_the_keyspace_a_table_rule_serves_from),
	    cmocka_unit_test(build_applies_shard_routing_rules_after_the_shard),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
