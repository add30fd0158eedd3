/*
 * Where vtgate serves a query (router_table_route_target,
 * router_route_target): keyspace, table and shard routing rules applied in
 * Vitess's order, kept through dump and reload, seen by the content hash
 * and the diff, and answered from the table in service.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "router.h"
#include "router_doc.h"

/* customer: sharded xxhash on id, -80 and 80-; commerce: unsharded, shard
 * 0, declares product; the rules are appended by each test. */
#define KEYSPACES                                                           \
	"{\"keyspaces\": {"                                                 \
	"\"customer\": {\"sharded\": true,"                                 \
	" \"vindexes\": {\"xx\": {\"type\": \"xxhash\"}},"                  \
	" \"tables\": {\"customer\": {\"column_vindexes\": [{\"column\":"   \
	" \"id\", \"name\": \"xx\"}]},"                                     \
	" \"corder\": {\"column_vindexes\": [{\"column\": \"id\","          \
	" \"name\": \"xx\"}]}},"                                            \
	" \"shards\": [\"-80\", \"80-\"]},"                                 \
	"\"commerce\": {\"tables\": {\"product\": {}, \"corder\": {}},"     \
	" \"shards\": [\"0\"]}}"

static router_table *load(const char *json)
{
	router_table *t = NULL;
	router_error e;
	int rc = router_doc_load(json, strlen(json), NULL, &t, NULL, &e);

	if (rc != ROUTER_OK)
		fail_msg("load: %s", e.message);
	return t;
}

/* An id of customer whose keyspace ID is in shard (ks, "-80" or "80-"). */
static int64_t id_in(const router_table *t, const char *shard)
{
	router_route_result r;

	for (int64_t id = 1; id < 1000; id++) {
		router_value v = ROUTER_VALUE_INT64(id);

		assert_int_equal(router_table_route(t, "customer", 8, "customer",
		                                    8, &v, 1, &r, NULL),
		                 ROUTER_OK);
		if (strcmp(r.shard, shard) == 0)
			return id;
	}
	fail_msg("no id in %s", shard);
	return 0;
}

/* "keyspace/table/shard" of router_table_route_target with flags
 * (target: none; target_sr: ROUTER_TARGET_SHARD_ROUTING), *rc its code. */
static const char *target_with(const router_table *t, const char *ks,
                               const char *table, int64_t id, unsigned flags,
                               unsigned *rules, int *rc)
{
	static char buf[3 * ROUTER_NAME_MAX + 3];
	router_route_result r;
	router_target tg;
	router_value v = ROUTER_VALUE_INT64(id);
	router_error e;

	*rc = router_table_route_target(t, ks, strlen(ks), table,
	                                strlen(table), &v, 1, flags, &r, &tg,
	                                &e);
	assert_int_equal(tg.keyspace_len, strlen(tg.keyspace));
	assert_int_equal(tg.table_len, strlen(tg.table));
	snprintf(buf, sizeof buf, "%s/%s/%s", tg.keyspace, tg.table,
	         *rc == ROUTER_OK ? r.shard : "");
	if (rules != NULL)
		*rules = tg.rules;
	return buf;
}

#define target(t, ks, table, id, rules, rc)                                 \
	target_with(t, ks, table, id, 0, rules, rc)
#define target_sr(t, ks, table, id, rules, rc)                              \
	target_with(t, ks, table, id, ROUTER_TARGET_SHARD_ROUTING, rules, rc)

static void a_table_rule_names_the_keyspace_that_serves(void **state)
{
	router_table *t = load(KEYSPACES ", \"routing_rules\": {\"rules\": ["
	                       "{\"from_table\": \"customer.corder\","
	                       " \"to_tables\": [\"commerce.corder\"]}]}}");
	unsigned rules;
	int rc;

	(void)state;
	/* Mid-MoveTables: customer.corder is served by commerce. */
	assert_string_equal(target(t, "customer", "corder", 1, &rules, &rc),
	                    "commerce/corder/0");
	assert_int_equal(rc, ROUTER_OK);
	assert_int_equal(rules, ROUTER_TARGET_TABLE_RULE);
	/* No rule: the keyspace asked for. */
	assert_string_equal(target(t, "customer", "customer", 1, &rules, &rc),
	                    "customer/customer/80-");
	assert_int_equal(rules, 0);
	/* An unsharded keyspace's undeclared table keeps its name. */
	assert_string_equal(target(t, "commerce", "anything", 1, &rules, &rc),
	                    "commerce/anything/0");
	router_table_free(t);
}

static void a_keyspace_rule_resolves_tables_and_rules_in_its_target(
    void **state)
{
	router_table *t = load(
	    KEYSPACES ", \"routing_rules\": {\"rules\": ["
	              "{\"from_table\": \"customer.corder\","
	              " \"to_tables\": [\"commerce.corder\"]}]},"
	              " \"keyspace_routing_rules\": {\"rules\": ["
	              "{\"from_keyspace\": \"tenant\", \"to_keyspace\": \"customer\"},"
	              "{\"from_keyspace\": \"shop@replica\", \"to_keyspace\": \"customer\"}]}}");
	unsigned rules;
	int rc;

	(void)state;
	assert_string_equal(target(t, "tenant", "customer", 1, &rules, &rc),
	                    "customer/customer/80-");
	assert_int_equal(rules, ROUTER_TARGET_KEYSPACE_RULE);
	/* The table rule is looked up under the routed keyspace: tenant.corder
	 * is customer.corder, served by commerce. */
	assert_string_equal(target(t, "tenant", "corder", 1, &rules, &rc),
	                    "commerce/corder/0");
	assert_int_equal(rules, ROUTER_TARGET_KEYSPACE_RULE |
	                            ROUTER_TARGET_TABLE_RULE);
	/* A rule for another tablet type does not apply to the table (which
	 * routes as PRIMARY). */
	(void)target(t, "shop", "customer", 1, &rules, &rc);
	assert_int_equal(rc, ROUTER_ENOTFOUND);
	router_table_free(t);
}

/* A keyspace rule that sends queries to a keyspace the table lacks would
 * fail every one of them in vtgate: refused at build, naming the rule.
 * The keyspace a rule comes from may be absent (an import from
 * elsewhere); a rule for another tablet type does not apply here; and a
 * shard rule is followed only with ROUTER_TARGET_SHARD_ROUTING (vtgate's
 * --enable-partial-keyspace-migration), so a stale one refuses nothing:
 * with the flag its shard is answered as the rule's keyspace, where such
 * a vtgate would send it. */
static void a_rule_to_a_missing_keyspace_is_refused_naming_it(void **state)
{
	static const char *const bad =
	    KEYSPACES ", \"keyspace_routing_rules\": {\"rules\": ["
	              "{\"from_keyspace\": \"lost\", \"to_keyspace\": \"nowhere\"}]}}";
	router_table *t = NULL;
	router_error e;
	unsigned rules;
	int rc;

	(void)state;
	assert_int_equal(router_doc_load(bad, strlen(bad), NULL, &t, NULL, &e),
	                 ROUTER_ENOTFOUND);
	assert_null(t);
	assert_non_null(strstr(e.message, "keyspace routing rule lost -> "
	                                  "nowhere: keyspace nowhere not found"));
	t = load(KEYSPACES ", \"keyspace_routing_rules\": {\"rules\": ["
	                   "{\"from_keyspace\": \"imported\","
	                   " \"to_keyspace\": \"customer\"},"
	                   "{\"from_keyspace\": \"customer@replica\","
	                   " \"to_keyspace\": \"nowhere\"}]},"
	                   " \"shard_routing_rules\": {\"rules\": ["
	                   "{\"from_keyspace\": \"customer\", \"to_keyspace\":"
	                   " \"gone\", \"shard\": \"-80\"}]}}");
	assert_string_equal(target(t, "customer", "customer", id_in(t, "-80"),
	                           &rules, &rc),
	                    "customer/customer/-80");
	assert_string_equal(target_sr(t, "customer", "customer",
	                              id_in(t, "-80"), &rules, &rc),
	                    "gone/customer/-80");
	router_table_free(t);
}

/* Identity rules (MoveTables writes source.t -> source.t, a multi-tenant
 * import its keyspace to itself) move nothing: no rule bit. */
static void identity_rules_move_nothing(void **state)
{
	router_table *t = load(
	    KEYSPACES ", \"routing_rules\": {\"rules\": ["
	              "{\"from_table\": \"commerce.corder\","
	              " \"to_tables\": [\"commerce.corder\"]}]},"
	              " \"keyspace_routing_rules\": {\"rules\": ["
	              "{\"from_keyspace\": \"customer\", \"to_keyspace\": \"customer\"}]},"
	              " \"shard_routing_rules\": {\"rules\": ["
	              "{\"from_keyspace\": \"customer\", \"to_keyspace\": \"customer\","
	              " \"shard\": \"-80\"}]}}");
	unsigned rules;
	int rc;

	(void)state;
	assert_string_equal(target(t, "commerce", "corder", 1, &rules, &rc),
	                    "commerce/corder/0");
	assert_int_equal(rules, 0);
	assert_string_equal(target_sr(t, "customer", "customer",
	                              id_in(t, "-80"), &rules, &rc),
	                    "customer/customer/-80");
	assert_int_equal(rules, 0);
	router_table_free(t);
}

/* The target holds the names NUL-terminated: a name it cannot hold is
 * refused, not cut (an unsharded keyspace routes any table name). */
static void names_the_target_cannot_hold_are_refused(void **state)
{
	router_table *t = load(KEYSPACES "}");
	router_route_result r;
	router_target tg;
	router_value v = ROUTER_VALUE_INT64(1);
	router_error e;
	char longname[ROUTER_NAME_MAX + 2];

	(void)state;
	memset(longname, 'a', sizeof longname);
	assert_int_equal(router_table_route_target(t, "commerce", 8, longname,
	                                           sizeof longname, &v, 1, 0,
	                                           &r, &tg, &e),
	                 ROUTER_ERANGE);
	assert_int_equal(tg.table_len, 0);
	assert_int_equal(router_table_route_target(t, "commerce", 8, "a\0b", 3,
	                                           &v, 1, 0, &r, &tg, &e),
	                 ROUTER_EINVAL);
	assert_non_null(strstr(e.message, "NUL"));
	/* The longest name that fits routes. */
	assert_int_equal(router_table_route_target(t, "commerce", 8, longname,
	                                           ROUTER_NAME_MAX, &v, 1, 0,
	                                           &r, &tg, &e),
	                 ROUTER_OK);
	assert_int_equal(tg.table_len, ROUTER_NAME_MAX);
	router_table_free(t);
}

static void a_shard_rule_serves_the_shard_from_another_keyspace(void **state)
{
	router_table *t = load(
	    KEYSPACES ", \"shard_routing_rules\": {\"rules\": ["
	              "{\"from_keyspace\": \"customer\", \"to_keyspace\": \"commerce\","
	              " \"shard\": \"-80\"}]}}");
	int64_t low = id_in(t, "-80"), high = id_in(t, "80-");
	char want[64];
	unsigned rules;
	int rc;

	(void)state;
	/* The shard name vtgate targets is customer's; the keyspace is
	 * commerce (partial MoveTables of shard -80). */
	snprintf(want, sizeof want, "commerce/customer/-80");
	assert_string_equal(target_sr(t, "customer", "customer", low, &rules,
	                              &rc),
	                    want);
	assert_int_equal(rules, ROUTER_TARGET_SHARD_RULE);
	assert_string_equal(target_sr(t, "customer", "customer", high, &rules,
	                              &rc),
	                    "customer/customer/80-");
	assert_int_equal(rules, 0);
	/* Without the flag, as vtgate without
	 * --enable-partial-keyspace-migration: the rule serves nothing. */
	assert_string_equal(target(t, "customer", "customer", low, &rules, &rc),
	                    "customer/customer/-80");
	assert_int_equal(rules, 0);
	router_table_free(t);
}

static void the_last_rule_of_a_key_wins(void **state)
{
	router_table *t = load(
	    KEYSPACES ", \"keyspace_routing_rules\": {\"rules\": ["
	              "{\"from_keyspace\": \"tenant\", \"to_keyspace\": \"commerce\"},"
	              "{\"from_keyspace\": \"tenant\", \"to_keyspace\": \"customer\"}]},"
	              " \"shard_routing_rules\": {\"rules\": ["
	              "{\"from_keyspace\": \"customer\", \"to_keyspace\": \"nowhere\","
	              " \"shard\": \"80-\"},"
	              "{\"from_keyspace\": \"customer\", \"to_keyspace\": \"commerce\","
	              " \"shard\": \"80-\"}]}}");
	unsigned rules;
	int rc;

	(void)state;
	assert_string_equal(target_sr(t, "tenant", "customer", id_in(t, "80-"),
	                              &rules, &rc),
	                    "commerce/customer/80-");
	assert_int_equal(rules, ROUTER_TARGET_KEYSPACE_RULE |
	                            ROUTER_TARGET_SHARD_RULE);
	router_table_free(t);
}

static void rules_survive_dump_and_reload_and_enter_hash_and_diff(
    void **state)
{
	const char *rules =
	    ", \"keyspace_routing_rules\": {\"rules\": ["
	    "{\"from_keyspace\": \"tenant\", \"to_keyspace\": \"customer\"}]},"
	    " \"shard_routing_rules\": {\"rules\": ["
	    "{\"from_keyspace\": \"customer\", \"to_keyspace\": \"commerce\","
	    " \"shard\": \"-80\"}]}}";
	char json[4096];
	router_table *t, *back, *plain = load(KEYSPACES "}");
	router_diff *d;
	router_error e;
	char *out;
	size_t len, i;
	int ks = 0, sh = 0;

	(void)state;
	snprintf(json, sizeof json, "%s%s", KEYSPACES, rules);
	t = load(json);
	assert_int_equal(router_doc_dump(t, NULL, 0, NULL, &out, &len, &e),
	                 ROUTER_OK);
	assert_non_null(strstr(out, "keyspace_routing_rules"));
	assert_non_null(strstr(out, "shard_routing_rules"));
	back = load(out);
	assert_true(router_table_hash(back) == router_table_hash(t));
	assert_true(router_table_hash(plain) != router_table_hash(t));
	free(out);
	assert_int_equal(router_diff_tables(plain, t, &d, &e), ROUTER_OK);
	for (i = 0; i < router_diff_count(d); i++) {
		const router_diff_entry *x = router_diff_get(d, i);

		if (x->kind != ROUTER_DIFF_RULE || x->op != ROUTER_DIFF_ADDED)
			continue;
		ks |= strcmp(x->name, "keyspace tenant") == 0 &&
		      strcmp(x->detail, "-> customer") == 0;
		sh |= strcmp(x->name, "shard customer/-80") == 0 &&
		      strcmp(x->detail, "-> commerce") == 0;
	}
	assert_true(ks);
	assert_true(sh);
	router_diff_free(d);
	router_table_free(t);
	router_table_free(back);
	router_table_free(plain);
}

static void the_router_answers_from_the_table_in_service(void **state)
{
	router *r;
	router_table *t = load(
	    KEYSPACES ", \"routing_rules\": {\"rules\": ["
	              "{\"from_table\": \"customer.corder\","
	              " \"to_tables\": [\"commerce.corder\"]}]}}");
	router_route_result a, b;
	router_target tg;
	router_value v = ROUTER_VALUE_INT64(7);
	router_error e;

	(void)state;
	assert_int_equal(router_create(&r, NULL, &e), ROUTER_OK);
	/* Nothing published: not found, the target empty. */
	memset(&tg, 'x', sizeof tg);
	assert_int_equal(router_route_target(r, "customer", 8, "corder", 6, &v,
	                                     1, 0, &a, &tg, &e),
	                 ROUTER_ENOTFOUND);
	assert_int_equal(tg.keyspace_len, 0);
	assert_string_equal(tg.keyspace, "");
	assert_int_equal(router_publish(r, t, 0, NULL, &e), ROUTER_OK);
	assert_int_equal(router_route_target(r, "customer", 8, "corder", 6, &v,
	                                     1, 0, &a, &tg, &e),
	                 ROUTER_OK);
	assert_string_equal(tg.keyspace, "commerce");
	assert_string_equal(tg.table, "corder");
	assert_int_equal(tg.rules, ROUTER_TARGET_TABLE_RULE);
	/* The same interned shard as router_route's. */
	assert_int_equal(router_route(r, "customer", 8, "corder", 6, &v, 1, &b,
	                              &e),
	                 ROUTER_OK);
	assert_ptr_equal(a.shard, b.shard);
	assert_int_equal(a.shard_id, b.shard_id);
	assert_true(a.version == b.version);
	/* Names that do not resolve: the error, the target empty. */
	assert_int_equal(router_route_target(r, "nope", 4, "corder", 6, &v, 1,
	                                     0, &a, &tg, &e),
	                 ROUTER_ENOTFOUND);
	assert_int_equal(tg.keyspace_len, 0);
	assert_int_equal(tg.table_len, 0);
	assert_int_equal(router_route_target(r, "customer", 8, "corder", 6, &v,
	                                     1, 0, &a, NULL, &e),
	                 ROUTER_EINVAL);
	/* An unknown flag: refused, naming it. */
	assert_int_equal(router_route_target(r, "customer", 8, "corder", 6, &v,
	                                     1, 0x80, &a, &tg, &e),
	                 ROUTER_EINVAL);
	assert_non_null(strstr(e.message, "unknown flags 0x80"));
	router_free(r);
}

/* A reference table routes to no single shard: the keyspace is still
 * named (vtgate sends the query to one of its shards). */
static void the_target_is_named_when_values_do_not_route(void **state)
{
	router_table *t = load(KEYSPACES "}");
	router_route_result r;
	router_target tg;
	router_value v[2] = {ROUTER_VALUE_INT64(1), ROUTER_VALUE_INT64(2)};
	router_error e;

	(void)state;
	/* Two values for a one-column vindex: EINVAL, after resolution. */
	assert_int_equal(router_table_route_target(t, "customer", 8,
	                                           "customer", 8, v, 2, 0, &r,
	                                           &tg, &e),
	                 ROUTER_EINVAL);
	assert_string_equal(tg.keyspace, "customer");
	assert_string_equal(tg.table, "customer");
	router_table_free(t);
}

/* Vitess resolves auto_increment sequences with FindRoutedTable, after
 * the keyspace routing rules: a sequence named through a routed keyspace
 * is the target keyspace's. */
static void a_sequence_resolves_through_a_keyspace_rule(void **state)
{
	const char *json =
	    "{\"keyspaces\": {"
	    "\"customer\": {\"sharded\": true,"
	    " \"vindexes\": {\"xx\": {\"type\": \"xxhash\"}},"
	    " \"tables\": {\"customer\": {\"column_vindexes\": [{\"column\":"
	    " \"id\", \"name\": \"xx\"}], \"auto_increment\": {\"column\":"
	    " \"id\", \"sequence\": \"alias.customer_seq\"}}},"
	    " \"shards\": [\"-80\", \"80-\"]},"
	    "\"seqs\": {\"tables\": {\"customer_seq\": {\"type\": \"sequence\"}},"
	    " \"shards\": [\"0\"]}},"
	    " \"keyspace_routing_rules\": {\"rules\": ["
	    "{\"from_keyspace\": \"alias\", \"to_keyspace\": \"seqs\"}]}}";
	router_table *t = NULL;
	router_doc_report *rep = NULL;
	router_error e;
	const router_doc_note *n;

	(void)state;
	assert_int_equal(router_doc_load(json, strlen(json), NULL, &t, &rep, &e),
	                 ROUTER_OK);
	/* customer is not in error: every lookup routes. */
	for (size_t i = 0; (n = router_doc_report_get(rep, i)) != NULL; i++)
		assert_int_not_equal(n->kind, ROUTER_DOC_NOTE_KEYSPACE);
	assert_int_equal(id_in(t, "-80") > 0, 1);
	router_table_free(t);
	router_doc_report_free(rep);
}

static void malformed_rules_are_reported_and_skipped(void **state)
{
	const char *json =
	    KEYSPACES ", \"keyspace_routing_rules\": {\"rules\": ["
	              "{\"from_keyspace\": 5, \"to_keyspace\": \"customer\"},"
	              "{\"from_keyspace\": \"a\", \"to_keyspace\": \"customer\","
	              " \"shard\": \"-80\"}, 7]},"
	              " \"shard_routing_rules\": {\"rules\": ["
	              "{\"from_keyspace\": \"customer\", \"to_keyspace\": \"c\\u0001\","
	              " \"shard\": \"-80\"}]}}";
	router_table *t = NULL;
	router_doc_report *rep = NULL;
	router_error e;
	const router_doc_note *n;
	int type = 0, unknown = 0, notobj = 0, ctl = 0;
	int rc = router_doc_load(json, strlen(json), NULL, &t, &rep, &e);

	(void)state;
	for (size_t i = 0; (n = router_doc_report_get(rep, i)) != NULL; i++) {
		if (strstr(n->path, "keyspace_routing_rules.rules[0]") != NULL &&
		    strstr(n->error.message, "must be") != NULL)
			type = 1;
		if (n->kind == ROUTER_DOC_NOTE_UNKNOWN &&
		    strstr(n->path, "keyspace_routing_rules.rules[1]") != NULL)
			unknown = 1;
		if (strstr(n->error.message, "keyspace routing rule must be an "
		                             "object") != NULL)
			notobj = 1;
		if (strstr(n->error.message, "control character") != NULL)
			ctl = 1;
	}
	assert_true(type);
	assert_true(unknown);
	assert_true(notobj);
	assert_true(ctl);
	(void)rc;
	router_table_free(t);
	router_doc_report_free(rep);
}

/* The content hash is recorded in snapshots and fences: a table without
 * keyspace or shard routing rules hashes as it did before the table held
 * them (values printed by the build at 79add10, for the same documents). */
static void a_table_without_these_rules_keeps_its_earlier_hash(void **state)
{
	static const struct {
		const char *doc;
		uint64_t hash;
	} cases[] = {
	    {"{\"keyspaces\": {\"commerce\": {\"tables\": {\"product\": {}}, "
	     "\"shards\": [\"0\"]}}}",
	     0x86f36899186df301ull},
	    {"{\"keyspaces\": {\"user\": {\"sharded\": true, \"vindexes\": {\"h\": "
	     "{\"type\": \"hash\"}}, \"tables\": {\"users\": {\"column_vindexes\": "
	     "[{\"column\": \"id\", \"name\": \"h\"}]}}, \"shards\": [\"-80\", "
	     "\"80-\"]}, \"commerce\": {\"tables\": {\"corder\": {}}, \"shards\": "
	     "[\"0\"]}}, \"routing_rules\": {\"rules\": [{\"from_table\": "
	     "\"user.corder\", \"to_tables\": [\"commerce.corder\"]}]}}",
	     0xb1b1a422d29b0937ull}};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		router_table *t = load(cases[i].doc);

		assert_true(router_table_hash(t) == cases[i].hash);
		router_table_free(t);
	}
}

static void each_rule_bit_has_its_field_name(void **state)
{
	(void)state;
	assert_string_equal(router_target_rule_name(ROUTER_TARGET_KEYSPACE_RULE),
	                    "keyspace_routing_rules");
	assert_string_equal(router_target_rule_name(ROUTER_TARGET_TABLE_RULE),
	                    "routing_rules");
	assert_string_equal(router_target_rule_name(ROUTER_TARGET_SHARD_RULE),
	                    "shard_routing_rules");
	assert_null(router_target_rule_name(0));
	assert_null(router_target_rule_name(8));
	assert_null(router_target_rule_name(3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_table_rule_names_the_keyspace_that_serves),
	    cmocka_unit_test(
	        a_keyspace_rule_resolves_tables_and_rules_in_its_target),
	    cmocka_unit_test(a_shard_rule_serves_the_shard_from_another_keyspace),
	    cmocka_unit_test(a_rule_to_a_missing_keyspace_is_refused_naming_it),
	    cmocka_unit_test(identity_rules_move_nothing),
	    cmocka_unit_test(names_the_target_cannot_hold_are_refused),
	    cmocka_unit_test(the_last_rule_of_a_key_wins),
	    cmocka_unit_test(
	        rules_survive_dump_and_reload_and_enter_hash_and_diff),
	    cmocka_unit_test(the_router_answers_from_the_table_in_service),
	    cmocka_unit_test(the_target_is_named_when_values_do_not_route),
	    cmocka_unit_test(a_sequence_resolves_through_a_keyspace_rule),
	    cmocka_unit_test(malformed_rules_are_reported_and_skipped),
	    cmocka_unit_test(a_table_without_these_rules_keeps_its_earlier_hash),
	    cmocka_unit_test(each_rule_bit_has_its_field_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
