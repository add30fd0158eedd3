/* Latent poison (librouter/fleet/vitess_latent.c): a global topo value
 * judged against what the cell serves, on fixtures written by an
 * independent encoder (tools/gen_topo_fixtures.py, tests/data/topo/
 * MANIFEST).  The cell serves srv_vschema.bin (commerce unsharded,
 * customer sharded with 2 tables on -80, 80-). */
#include "testutil.h"

#include "fleet/vitess_latent.h"

#define ROOT "/vitess/zone1"
#define GLOBAL "/vitess/global"
#define KS_KEY GLOBAL "/keyspaces/customer/VSchema"

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

/* What the cell serves: srv (fixture) with customer's and commerce's
 * SrvKeyspaces, revisions 10, 20, 30. */
typedef struct cell {
	blob srv, customer, commerce;
	router__vitess_srvks ks[2];
	router__vitess_input in;
} cell;

static void cell_open(cell *c, const char *srv)
{
	memset(c, 0, sizeof *c);
	c->srv = fixture(srv);
	c->customer = fixture("srvks_customer.bin");
	c->commerce = fixture("srvks_commerce.bin");
	c->ks[0] = (router__vitess_srvks){"customer", c->customer.p,
	                                  c->customer.n, 20};
	c->ks[1] = (router__vitess_srvks){"commerce", c->commerce.p,
	                                  c->commerce.n, 30};
	c->in.cell_root = ROOT;
	c->in.srv_vschema = c->srv.p;
	c->in.srv_vschema_len = c->srv.n;
	c->in.srv_vschema_rev = 10;
	c->in.srvks = c->ks;
	c->in.nsrvks = 2;
}

static void cell_close(cell *c)
{
	free(c->srv.p);
	free(c->customer.p);
	free(c->commerce.p);
}

/* Judge fixture value (NULL: deleted) at key against srv_vschema.bin;
 * returns the judgement's status, *f the finding. */
static int judge_at(const char *key, const char *value, int64_t rev,
                    double max_shrink, router__vitess_finding *f)
{
	router__vitess_global_value gv;
	router_error e;
	cell c;
	blob v = {NULL, 0};
	int rc;

	cell_open(&c, "srv_vschema.bin");
	if (value != NULL)
		v = fixture(value);
	memset(&gv, 0, sizeof gv);
	gv.global_root = GLOBAL;
	gv.key = key;
	gv.key_len = strlen(key);
	gv.value = v.p;
	gv.len = v.n;
	gv.mod_revision = rev;
	gv.deleted = value == NULL;
	rc = router__vitess_latent_judge(&c.in, &gv, max_shrink, f, &e);
	if (rc != ROUTER_OK)
		print_message("judge: %s: %s\n", router_errname(rc), e.message);
	else if (f->code != ROUTER_OK)
		print_message("finding: %s\n", f->message);
	free(v.p);
	cell_close(&c);
	return rc;
}

static void global_keys_are_classified_as_a_rebuild_reads_them(void **state)
{
	char ks[ROUTER_NAME_MAX + 1];
	static const char *none[] = {
	    GLOBAL "/keyspaces/customer/Keyspace",
	    GLOBAL "/keyspaces//VSchema",
	    GLOBAL "/keyspaces/a/b/VSchema",
	    GLOBAL "/keyspaces/VSchema",
	    "/vitess/other/RoutingRules",
	    GLOBAL "/RoutingRulesX",
	    GLOBAL "/cells/zone1/CellInfo",
	};
	size_t i;

	(void)state;
#define GK(root, key) router__vitess_global_key(root, key, strlen(key), ks)
	assert_int_equal(GK(GLOBAL, KS_KEY), ROUTER__VITESS_GLOBAL_VSCHEMA);
	assert_string_equal(ks, "customer");
	assert_int_equal(GK(GLOBAL "/", KS_KEY), ROUTER__VITESS_GLOBAL_VSCHEMA);
	assert_int_equal(GK(GLOBAL, GLOBAL "/RoutingRules"),
	                 ROUTER__VITESS_GLOBAL_ROUTING_RULES);
	assert_int_equal(GK(GLOBAL, GLOBAL "/ShardRoutingRules"),
	                 ROUTER__VITESS_GLOBAL_SHARD_ROUTING_RULES);
	assert_int_equal(GK(GLOBAL, GLOBAL "/routing_rules/keyspace/Rules"),
	                 ROUTER__VITESS_GLOBAL_KEYSPACE_ROUTING_RULES);
	assert_int_equal(GK(GLOBAL, GLOBAL "/MirrorRules"),
	                 ROUTER__VITESS_GLOBAL_MIRROR_RULES);
	assert_int_equal(GK("", "/keyspaces/x/VSchema"),
	                 ROUTER__VITESS_GLOBAL_VSCHEMA);
	assert_string_equal(ks, "x");
	for (i = 0; i < sizeof none / sizeof none[0]; i++)
		assert_int_equal(GK(GLOBAL, none[i]), ROUTER__VITESS_GLOBAL_NONE);
	/* A NUL inside the keyspace name. */
	assert_int_equal(router__vitess_global_key(
	                     GLOBAL, GLOBAL "/keyspaces/a\0b/VSchema",
	                     sizeof(GLOBAL "/keyspaces/a\0b/VSchema") - 1, ks),
	                 ROUTER__VITESS_GLOBAL_NONE);
#undef GK
	assert_string_equal(
	    router__vitess_global_path(ROUTER__VITESS_GLOBAL_ROUTING_RULES),
	    "/RoutingRules");
	assert_null(router__vitess_global_path(ROUTER__VITESS_GLOBAL_VSCHEMA));
}

static void latent_accepts_the_vschema_the_cell_serves(void **state)
{
	router__vitess_finding f;

	(void)state;
	assert_int_equal(judge_at(KS_KEY, "keyspace_customer.bin", 40, -1, &f),
	                 ROUTER_OK);
	assert_int_equal(f.code, ROUTER_OK);
	assert_string_equal(f.key, KS_KEY);
	assert_string_equal(f.keyspace, "customer");
	assert_int_equal(f.mod_revision, 40);
	assert_int_equal(f.what, ROUTER__VITESS_GLOBAL_VSCHEMA);
}

static void latent_accepts_a_keyspace_that_gains_a_table(void **state)
{
	router__vitess_finding f;

	(void)state;
	assert_int_equal(judge_at(KS_KEY, "keyspace_customer_grown.bin", 41, -1,
	                          &f),
	                 ROUTER_OK);
	assert_int_equal(f.code, ROUTER_OK);
}

static void latent_flags_the_incident_empty_value(void **state)
{
	router__vitess_finding f;

	(void)state;
	assert_int_equal(judge_at(KS_KEY, "empty.bin", 4242, -1, &f), ROUTER_OK);
	/* The loader refuses it before the guards: an unsharded keyspace
	 * over 2 shards (the guards' EEMPTY when the shards would fit). */
	assert_int_equal(f.code, ROUTER_ECOVERAGE);
	assert_string_equal(f.keyspace, "customer");
	assert_string_equal(f.key, KS_KEY);
	assert_int_equal(f.mod_revision, 4242);
	assert_int_equal(f.tables_lost, 2);
	assert_int_equal(f.vindexes_lost, 1);
	assert_int_equal(f.shards, 2);
	assert_true(f.served_sharded);
	assert_false(f.value_sharded);
	assert_non_null(strstr(f.message, "would drop 2 tables"));
	assert_non_null(strstr(f.message, "corder, customer"));
	assert_non_null(strstr(f.message, "lists 2 PRIMARY shards"));
	assert_non_null(strstr(f.message, "ECOVERAGE"));
}

static void latent_flags_a_vschema_deleted_while_served(void **state)
{
	router__vitess_finding f;

	(void)state;
	assert_int_equal(judge_at(KS_KEY, NULL, 50, -1, &f), ROUTER_OK);
	assert_int_equal(f.code, ROUTER_ECOVERAGE);
	assert_true(f.deleted);
	assert_int_equal(f.tables_lost, 2);
	assert_non_null(strstr(f.message, "deleted while served"));
}

static void latent_flags_a_keyspace_that_lost_its_vindexes(void **state)
{
	router__vitess_finding f;

	(void)state;
	assert_int_equal(judge_at(KS_KEY, "keyspace_customer_novindexes.bin", 51,
	                          -1, &f),
	                 ROUTER_OK);
	assert_int_not_equal(f.code, ROUTER_OK);
	assert_int_equal(f.vindexes_lost, 1);
	assert_int_equal(f.tables_lost, 0);
	assert_non_null(strstr(f.message, "would lose 1 vindexes (of 1: hash)"));
}

static void latent_flags_a_keyspace_that_lost_tables(void **state)
{
	router__vitess_finding f;

	(void)state;
	assert_int_equal(judge_at(KS_KEY, "keyspace_customer_lost_tables.bin",
	                          52, -1, &f),
	                 ROUTER_OK);
	assert_int_equal(f.code, ROUTER_ESHRINK);
	assert_int_equal(f.tables_lost, 1);
	assert_non_null(strstr(f.message, "would drop 1 tables (of 2: corder)"));
	/* The follower's own shrink allowance is the one applied. */
	assert_int_equal(judge_at(KS_KEY, "keyspace_customer_lost_tables.bin",
	                          52, 0.6, &f),
	                 ROUTER_OK);
	assert_int_equal(f.code, ROUTER_OK);
	assert_int_equal(f.tables_lost, 1); /* said even when accepted */
	assert_string_equal(f.message, "");
}

static void latent_flags_a_keyspace_turned_unsharded(void **state)
{
	router__vitess_finding f;

	(void)state;
	assert_int_equal(judge_at(KS_KEY, "keyspace_customer_unsharded.bin", 53,
	                          -1, &f),
	                 ROUTER_OK);
	assert_int_not_equal(f.code, ROUTER_OK);
	assert_true(f.served_sharded);
	assert_false(f.value_sharded);
	assert_non_null(strstr(f.message, "would turn it unsharded"));
}

static void latent_flags_bytes_that_do_not_decode(void **state)
{
	router__vitess_finding f;

	(void)state;
	assert_int_equal(judge_at(KS_KEY, "keyspace_garbage.bin", 54, -1, &f),
	                 ROUTER_OK);
	assert_int_equal(f.code, ROUTER_EDOC);
	assert_non_null(strstr(f.message, KS_KEY));
	assert_int_equal(judge_at(GLOBAL "/RoutingRules", "keyspace_garbage.bin",
	                          55, -1, &f),
	                 ROUTER_OK);
	assert_int_equal(f.code, ROUTER_EDOC);
}

static void latent_flags_a_keyspace_the_cell_has_no_srvkeyspace_for(
    void **state)
{
	router__vitess_finding f;

	(void)state;
	assert_int_equal(judge_at(GLOBAL "/keyspaces/fresh/VSchema",
	                          "keyspace_customer.bin", 56, -1, &f),
	                 ROUTER_OK);
	assert_int_equal(f.code, ROUTER_ENOTFOUND);
	assert_string_equal(f.keyspace, "fresh");
	assert_int_equal(f.tables_lost, 0);
	/* A deleted VSchema of a keyspace nobody serves: nothing. */
	assert_int_equal(judge_at(GLOBAL "/keyspaces/fresh/VSchema", NULL, 57, -1,
	                          &f),
	                 ROUTER_OK);
	assert_int_equal(f.code, ROUTER_OK);
}

static void latent_judges_routing_rules(void **state)
{
	router__vitess_finding f;

	(void)state;
	assert_int_equal(judge_at(GLOBAL "/RoutingRules", "routing_rules.bin", 60,
	                          -1, &f),
	                 ROUTER_OK);
	assert_int_equal(f.code, ROUTER_OK);
	assert_int_equal(f.what, ROUTER__VITESS_GLOBAL_ROUTING_RULES);
	assert_int_equal(judge_at(GLOBAL "/RoutingRules",
	                          "routing_rules_dangling.bin", 61, -1, &f),
	                 ROUTER_OK);
	assert_int_equal(f.code, ROUTER_ERULE);
	assert_non_null(strstr(f.message, "nowhere"));
	/* No rules (the key deleted): what srv_vschema.bin serves. */
	assert_int_equal(judge_at(GLOBAL "/RoutingRules", NULL, 62, -1, &f),
	                 ROUTER_OK);
	assert_int_equal(f.code, ROUTER_OK);
	assert_int_equal(judge_at(GLOBAL "/routing_rules/keyspace/Rules", NULL,
	                          63, -1, &f),
	                 ROUTER_OK);
	assert_int_equal(f.code, ROUTER_OK);
}

static void latent_cannot_judge_against_a_served_table_that_is_refused(
    void **state)
{
	router__vitess_global_value gv;
	router__vitess_finding f;
	router_error e;
	uint64_t v = 1;
	cell c;

	(void)state;
	cell_open(&c, "srv_vschema.bin");
	assert_int_equal(router__vitess_latent_served(&c.in, -1, &v, &e),
	                 ROUTER_OK);
	assert_int_equal(v, 30);
	cell_close(&c);
	cell_open(&c, "srv_vschema_incident.bin");
	assert_int_not_equal(router__vitess_latent_served(&c.in, -1, &v, &e),
	                     ROUTER_OK);
	assert_int_equal(v, 0);
	assert_non_null(strstr(e.message, "customer"));
	memset(&gv, 0, sizeof gv);
	gv.global_root = GLOBAL;
	gv.key = KS_KEY;
	gv.key_len = strlen(KS_KEY);
	gv.deleted = 1;
	assert_int_not_equal(router__vitess_latent_judge(&c.in, &gv, -1, &f, &e),
	                     ROUTER_OK);
	/* A key no rebuild reads, and bad arguments. */
	gv.key = GLOBAL "/cells/zone1/CellInfo";
	gv.key_len = strlen(gv.key);
	assert_int_equal(router__vitess_latent_judge(&c.in, &gv, -1, &f, &e),
	                 ROUTER_EINVAL);
	assert_int_equal(router__vitess_latent_judge(NULL, &gv, -1, &f, &e),
	                 ROUTER_EINVAL);
	assert_int_equal(router__vitess_latent_served(&c.in, 1.5, NULL, &e),
	                 ROUTER_EINVAL);
	cell_close(&c);
}

/* From a router's event callback the private router cannot publish:
 * the judgement fails with ROUTER_ECALLBACK, it does not report a
 * finding. */
typedef struct in_cb {
	const router__vitess_input *in;
	int judged, served;
} in_cb;

static void judge_in_callback(void *arg, const router_event *ev)
{
	in_cb *x = arg;
	router__vitess_global_value gv;
	router__vitess_finding f;
	router_error e;

	(void)ev;
	memset(&gv, 0, sizeof gv);
	gv.global_root = GLOBAL;
	gv.key = KS_KEY;
	gv.key_len = strlen(KS_KEY);
	gv.deleted = 1;
	x->judged = router__vitess_latent_judge(x->in, &gv, -1, &f, &e);
	x->served = router__vitess_latent_served(x->in, -1, NULL, &e);
}

static void latent_refuses_to_judge_from_an_event_callback(void **state)
{
	router_options ro = ROUTER_OPTIONS_INIT;
	router__vitess_built b;
	router_error e;
	in_cb x = {NULL, 0, 0};
	router *r;
	cell c;

	(void)state;
	cell_open(&c, "srv_vschema.bin");
	x.in = &c.in;
	ro.on_event = judge_in_callback;
	ro.on_event_arg = &x;
	assert_int_equal(router_create(&r, &ro, &e), ROUTER_OK);
	assert_int_equal(router__vitess_build(&c.in, &b, &e), ROUTER_OK);
	assert_int_equal(router_publish(r, b.table, 0, NULL, &e), ROUTER_OK);
	b.table = NULL;
	assert_int_equal(x.judged, ROUTER_ECALLBACK);
	assert_int_equal(x.served, ROUTER_ECALLBACK);
	router__vitess_built_clear(&b);
	router_free(r);
	cell_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(global_keys_are_classified_as_a_rebuild_reads_them),
	    cmocka_unit_test(latent_accepts_the_vschema_the_cell_serves),
	    cmocka_unit_test(latent_accepts_a_keyspace_that_gains_a_table),
	    cmocka_unit_test(latent_flags_the_incident_empty_value),
	    cmocka_unit_test(latent_flags_a_vschema_deleted_while_served),
	    cmocka_unit_test(latent_flags_a_keyspace_that_lost_its_vindexes),
	    cmocka_unit_test(latent_flags_a_keyspace_that_lost_tables),
	    cmocka_unit_test(latent_flags_a_keyspace_turned_unsharded),
	    cmocka_unit_test(latent_flags_bytes_that_do_not_decode),
	    cmocka_unit_test(
	        latent_flags_a_keyspace_the_cell_has_no_srvkeyspace_for),
	    cmocka_unit_test(latent_judges_routing_rules),
	    cmocka_unit_test(
	        latent_cannot_judge_against_a_served_table_that_is_refused),
	    cmocka_unit_test(latent_refuses_to_judge_from_an_event_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
