/*
 * The keyspace-ID guard of router_publish (ROUTER_EKSIDCHANGE): a publish
 * that changes the keyspace ID existing rows map to (the primary vindex's
 * function or columns, a pin, a table turned reference, a keyspace turned
 * sharded) is refused unless destructive; what keeps every keyspace ID
 * (a renamed vindex with the same definition, secondary and lookup
 * vindexes, resharding) is a normal publish.  Each refused case has its
 * destructive-flag case.  Tables are written as routing documents (single
 * quotes stand for double quotes) so that each case reads like the
 * VSchema change it is.
 */
#include <stdint.h>

#include "testutil.h"

#include "router.h"
#include "router_doc.h"

/* ---- helpers ------------------------------------------------------------ */

static router_error E;

/* Load a document written with ' for " (or fail the test). */
static router_table *doc(const char *text)
{
	char buf[4096];
	router_table *t = NULL;
	size_t i, n = strlen(text);

	assert_true(n < sizeof buf);
	for (i = 0; i <= n; i++)
		buf[i] = text[i] == '\'' ? '"' : text[i];
	if (router_doc_load(buf, n, NULL, &t, NULL, &E) != ROUTER_OK)
		fail_msg("document does not load: %s: %s\n%s", E.culprit,
		         E.message, buf);
	return t;
}

/* Keyspace user (sharded, -80 80-) with vindexes V and tables T. */
#define USER(V, T)                                                             \
	"{'keyspaces': {'user': {'sharded': true, 'shards': ['-80', '80-'], " \
	"'vindexes': {" V "}, 'tables': {" T "}}}}"

/* The keyspace: users and orders on an xxhash vindex. */
#define XX "'xx': {'type': 'xxhash'}"
#define ON(vdx, col) "{'column_vindexes': [{'column': '" col "', 'name': '" vdx "'}]}"
#define BASE USER(XX, "'users': " ON("xx", "id") ", 'orders': " ON("xx", "id"))

static router *router_with(const char *cur)
{
	router *r = NULL;

	if (router_create(&r, NULL, &E) != ROUTER_OK)
		fail_msg("router_create: %s", E.message);
	if (router_publish(r, doc(cur), 0, NULL, &E) != ROUTER_OK)
		fail_msg("current refused: %s: %s", E.culprit, E.message);
	return r;
}

/* cur in service, next refused with `code` naming `culprit` and saying
 * `sub`; nothing changes; then next with the destructive flag is
 * accepted. */
#define REFUSED(cur, next, code, culprit, sub)                                 \
	refused_((cur), (next), (code), (culprit), (sub), __LINE__)
static void refused_(const char *cur, const char *next, int code,
                     const char *culprit, const char *sub, int line)
{
	router *r = router_with(cur);
	router_table *t = doc(next);
	uint64_t v = router_serving_version(r), h = router_content_hash(r);
	router_stats st;
	int rc;

	rc = router_publish(r, t, 0, NULL, &E);
	if (rc != code)
		fail_msg("line %d: publish -> %s, want %s: %s: %s", line,
		         router_errname(rc), router_errname(code), E.culprit,
		         E.message);
	if (E.code != code || strcmp(E.culprit, culprit) != 0)
		fail_msg("line %d: error %s culprit '%s', want %s '%s' (%s)",
		         line, router_errname(E.code), E.culprit,
		         router_errname(code), culprit, E.message);
	if (sub != NULL && strstr(E.message, sub) == NULL)
		fail_msg("line %d: message '%s' lacks '%s'", line, E.message,
		         sub);
	assert_int_equal(router_serving_version(r), v);
	assert_int_equal(router_content_hash(r), h);
	router_stats_get(r, &st, sizeof st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(router_stats_refused(r, code), 1);
	/* A dry run gives the same verdict. */
	assert_int_equal(router_publish(r, t, ROUTER_PUBLISH_DRY_RUN, NULL, &E),
	                 code);
	rc = router_publish(r, t, ROUTER_PUBLISH_DESTRUCTIVE, NULL, &E);
	if (rc != ROUTER_OK)
		fail_msg("line %d: destructive publish -> %s: %s: %s", line,
		         router_errname(rc), E.culprit, E.message);
	assert_int_not_equal(router_content_hash(r), h);
	router_free(r);
}

/* cur in service, next accepted without any flag. */
#define ACCEPTED(cur, next) accepted_((cur), (next), __LINE__)
static void accepted_(const char *cur, const char *next, int line)
{
	router *r = router_with(cur);
	int rc = router_publish(r, doc(next), 0, NULL, &E);

	if (rc != ROUTER_OK)
		fail_msg("line %d: publish refused: %s: %s: %s", line,
		         router_errname(rc), E.culprit, E.message);
	router_free(r);
}

#define KSID ROUTER_EKSIDCHANGE

/* ---- the three holes ------------------------------------------ */

static void publish_refuses_switching_every_primary_vindex_to_null(void **s)
{
	(void)s;
	REFUSED(BASE,
	        USER("'nv': {'type': 'null'}",
	             "'users': " ON("nv", "id") ", 'orders': " ON("nv", "id")),
	        KSID, "user.orders",
	        "primary vindex of user.orders changed from xxhash(id) to "
	        "null(id); every row's keyspace ID changes");
}

static void publish_refuses_changing_the_vindex_type_under_its_name(void **s)
{
	(void)s;
	REFUSED(BASE,
	        USER("'xx': {'type': 'hash'}",
	             "'users': " ON("xx", "id") ", 'orders': " ON("xx", "id")),
	        KSID, "user.orders", "from xxhash(id) to hash(id)");
}

static void publish_refuses_changing_the_sharding_column(void **s)
{
	(void)s;
	REFUSED(BASE,
	        USER(XX, "'users': " ON("xx", "user_id") ", 'orders': " ON(
	                     "xx", "id")),
	        KSID, "user.users", "from xxhash(id) to xxhash(user_id)");
}

static void publish_refuses_a_switch_to_another_vindex_that_hashes_otherwise(
    void **s)
{
	(void)s;
	REFUSED(BASE,
	        USER(XX ", 'h': {'type': 'hash'}",
	             "'users': " ON("h", "id") ", 'orders': " ON("xx", "id")),
	        KSID, "user.users", "from xxhash(id) to hash(id)");
}

/* ---- what keeps every keyspace ID ------------------------------------- */

static void publish_accepts_renaming_a_vindex_with_the_same_definition(
    void **s)
{
	(void)s;
	ACCEPTED(BASE, USER("'renamed': {'type': 'xxhash'}",
	                    "'users': " ON("renamed", "id") ", 'orders': " ON(
	                        "renamed", "id")));
	/* A param xxhash ignores (as Vitess does) changes nothing either. */
	ACCEPTED(BASE, USER("'xx': {'type': 'xxhash', 'params': {'x': '1'}}",
	                    "'users': " ON("xx", "id") ", 'orders': " ON(
	                        "xx", "id")));
}

static void publish_accepts_a_column_named_in_another_case(void **s)
{
	/* Column names are case-insensitive in MySQL and Vitess. */
	(void)s;
	ACCEPTED(BASE, USER(XX, "'users': " ON("xx", "ID") ", 'orders': " ON(
	                            "xx", "id")));
}

static void publish_accepts_secondary_and_lookup_vindex_changes(void **s)
{
	const char *cur = USER(
	    XX ", 'by_name': {'type': 'lookup', 'params': {'table': 'a', "
	       "'from': 'name', 'to': 'id'}, 'owner': 'users'}",
	    "'users': {'column_vindexes': [{'column': 'id', 'name': 'xx'}, "
	    "{'column': 'name', 'name': 'by_name'}]}, 'orders': " ON("xx", "id"));
	const char *next = USER(
	    XX ", 'by_name': {'type': 'lookup_hash', 'params': {'table': 'b', "
	       "'from': 'nick', 'to': 'id'}, 'owner': 'orders'}, 'h': {'type': "
	       "'hash'}",
	    "'users': {'column_vindexes': [{'column': 'id', 'name': 'xx'}, "
	    "{'column': 'nick', 'name': 'by_name'}, {'column': 'n', 'name': "
	    "'h'}]}, 'orders': " ON("xx", "id"));

	(void)s;
	ACCEPTED(cur, next);
	/* A secondary vindex dropped again. */
	ACCEPTED(next, BASE);
}

static void resharding_with_the_same_vindex_is_a_normal_publish(void **s)
{
	(void)s;
	ACCEPTED(BASE,
	         "{'keyspaces': {'user': {'sharded': true, 'shards': ['-40', "
	         "'40-80', '80-c0', 'c0-'], 'vindexes': {" XX "}, 'tables': "
	         "{'users': " ON("xx", "id") ", 'orders': " ON("xx", "id") "}}}}");
}

static void publish_accepts_adding_and_dropping_tables_under_this_guard(
    void **s)
{
	(void)s;
	/* A new table has no rows to strand, whatever its vindex. */
	ACCEPTED(BASE, USER(XX ", 'h': {'type': 'hash'}",
	                    "'users': " ON("xx", "id") ", 'orders': " ON(
	                        "xx", "id") ", 'items': " ON("h", "sku")));
}

/* ---- params that change the hash, per vindex type --------------------- */

#define NSM(json) "'m': {'type': 'numeric_static_map', 'params': {'json': '" json "'}}"
#define ON_M "'users': " ON("m", "id")

static void publish_refuses_editing_a_numeric_static_map(void **s)
{
	(void)s;
	REFUSED(USER(NSM("{\\'1\\': 2, \\'3\\': 4}"), ON_M),
	        USER(NSM("{\\'1\\': 2, \\'3\\': 5}"), ON_M), KSID, "user.users",
	        "numeric_static_map(id)");
	/* The same map written otherwise keeps every keyspace ID. */
	ACCEPTED(USER(NSM("{\\'1\\': 2, \\'3\\': 4}"), ON_M),
	         USER(NSM("{ \\'3\\': 4,\\'1\\':2 }"), ON_M));
}

static void publish_refuses_changing_a_numeric_static_map_fallback(void **s)
{
	(void)s;
	REFUSED(USER(NSM("{\\'1\\': 2}"), ON_M),
	        USER("'m': {'type': 'numeric_static_map', 'params': {'json': "
	             "'{\\'1\\': 2}', 'fallback_type': 'hash'}}",
	             ON_M),
	        KSID, "user.users", "fallback");
}

#define REGION(b) "'r': {'type': 'region_experimental', 'params': {'region_bytes': '" b "'}}"
#define ON_R "'users': {'column_vindexes': [{'columns': ['cc', 'id'], 'name': 'r'}]}"

static void publish_refuses_changing_region_bytes(void **s)
{
	(void)s;
	REFUSED(USER(REGION("1"), ON_R), USER(REGION("2"), ON_R), KSID,
	        "user.users", "region_bytes");
}

#define MC(bytes, vdx)                                                         \
	"'mc': {'type': 'multicol', 'params': {'column_count': '2', "         \
	"'column_bytes': '" bytes "', 'column_vindex': '" vdx "'}}"
#define ON_MC(a, b) "'users': {'column_vindexes': [{'columns': ['" a "', '" b "'], 'name': 'mc'}]}"

static void publish_refuses_changing_a_multicol_layout(void **s)
{
	(void)s;
	REFUSED(USER(MC("1,7", "binary,hash"), ON_MC("cc", "id")),
	        USER(MC("2,6", "binary,hash"), ON_MC("cc", "id")), KSID,
	        "user.users", "multicol(cc,id)");
	REFUSED(USER(MC("1,7", "binary,hash"), ON_MC("cc", "id")),
	        USER(MC("1,7", "binary,xxhash"), ON_MC("cc", "id")), KSID,
	        "user.users", "multicol(cc,id)");
	/* The column order is part of the keyspace ID. */
	REFUSED(USER(MC("1,7", "binary,hash"), ON_MC("cc", "id")),
	        USER(MC("1,7", "binary,hash"), ON_MC("id", "cc")), KSID,
	        "user.users", "to multicol(id,cc)");
	/* The default split written out is the same layout. */
	ACCEPTED(USER("'mc': {'type': 'multicol', 'params': {'column_count': "
	              "'2'}}",
	              ON_MC("cc", "id")),
	         USER(MC("4,4", "hash,hash"), ON_MC("cc", "id")));
}

static void publish_refuses_editing_a_primary_lookup_vindex(void **s)
{
	/* A primary lookup_unique finds the keyspace ID in its table. */
	const char *cur =
	    USER("'lu': {'type': 'lookup_unique', 'params': {'table': 'a', "
	         "'from': 'id', 'to': 'ksid'}}",
	         "'users': " ON("lu", "id"));
	const char *next =
	    USER("'lu': {'type': 'lookup_unique', 'params': {'table': 'b', "
	         "'from': 'id', 'to': 'ksid'}}",
	         "'users': " ON("lu", "id"));

	(void)s;
	REFUSED(cur, next, KSID, "user.users", "param table");
}

/* ---- pins, table types, the keyspace's sharding ----------------------- */

static void publish_refuses_changing_pinning_in_a_sharded_keyspace(void **s)
{
	const char *pin80 = USER(XX, "'users': " ON("xx", "id")
	                             ", 'seq': {'pinned': '80'}");
	const char *pin00 = USER(XX, "'users': " ON("xx", "id")
	                             ", 'seq': {'pinned': '00'}");
	const char *spread = USER(XX, "'users': " ON("xx", "id")
	                              ", 'seq': " ON("xx", "id"));

	(void)s;
	REFUSED(pin80, pin00, KSID, "user.seq", "pinned");
	REFUSED(spread, pin80, KSID, "user.seq", "pinned");
	REFUSED(pin80, spread, KSID, "user.seq", "pinned");
	/* The same pin in upper case hex, or with trailing zero bytes
	 * (ignored when keyspace IDs are compared), is the same one. */
	ACCEPTED(pin80, USER(XX, "'users': " ON("xx", "id")
	                         ", 'seq': {'pinned': '8000'}"));
	ACCEPTED(USER(XX, "'users': " ON("xx", "id") ", 'seq': {'pinned': "
	                  "'ab'}"),
	         USER(XX, "'users': " ON("xx", "id") ", 'seq': {'pinned': "
	                  "'AB'}"));
}

static void publish_refuses_turning_a_sharded_table_into_a_reference(
    void **s)
{
	const char *ref = USER(XX, "'users': " ON("xx", "id")
	                           ", 'orders': {'type': 'reference'}");

	(void)s;
	REFUSED(BASE, ref, KSID, "user.orders", "reference");
	/* Every shard holds a copy of a reference table's rows: routing
	 * them through a vindex finds each of them. */
	ACCEPTED(ref, BASE);
}

#define UNSHARDED "{'keyspaces': {'user': {'tables': {'users': {}, 'orders': {}}}}}"

static void publish_refuses_turning_an_unsharded_keyspace_sharded(void **s)
{
	(void)s;
	REFUSED(UNSHARDED, BASE, KSID, "user.orders", "unsharded");
	/* Even with no table declared: its tables all live on shard 0. */
	REFUSED("{'keyspaces': {'user': {}}}", BASE, KSID, "user",
	        "unsharded");
	/* Back to unsharded is the shrink guard's (as before). */
	REFUSED(BASE, UNSHARDED, ROUTER_ESHRINK, "user", "unsharded");
}

static void publish_accepts_anything_within_an_unsharded_keyspace(void **s)
{
	/* One shard holds every row: pins, types and vindexes route nothing. */
	(void)s;
	ACCEPTED(UNSHARDED, "{'keyspaces': {'user': {'vindexes': {" XX "}, "
	                    "'tables': {'users': {'type': 'reference'}, "
	                    "'orders': {'pinned': '80'}}}}}");
}

/* ---- what no publish guard judges -------------------------------------- */

#define DISABLED                                                               \
	"{'routing_rules': {'rules': [{'from_table': 'user.users', "          \
	"'to_tables': []}]}, 'keyspaces': {'user': {'sharded': true, "        \
	"'shards': ['-80', '80-'], 'vindexes': {" XX "}, 'tables': {'users': " \
	ON("xx", "id") ", 'orders': " ON("xx", "id") "}}}}"

static void a_disabling_routing_rule_is_left_to_the_shadow_sample(void **s)
{
	/* Disabling a table by a rule is how a migration takes it out of
	 * service (README): no guard refuses it, a sample does. */
	router_value id = ROUTER_VALUE_INT64(1);
	router_sample_key key = {"user", 4, "users", 5, &id, 1};
	router *r;
	router_table *t;

	(void)s;
	ACCEPTED(BASE, DISABLED);
	r = router_with(BASE);
	assert_int_equal(router_shadow_set_sample(r, &key, 1, NULL, &E),
	                 ROUTER_OK);
	t = doc(DISABLED);
	assert_int_equal(router_publish(r, t, 0, NULL, &E), ROUTER_ESHADOW);
	assert_string_equal(E.culprit, "user");
	assert_int_equal(router_publish(r, t, ROUTER_PUBLISH_DESTRUCTIVE, NULL,
	                                &E),
	                 ROUTER_OK);
	router_free(r);
}

/* ---- how the refusal is handled --------------------------------------- */

static void ksid_refusal_is_returned_even_with_quarantine(void **s)
{
	/* Not one of the quarantinable guards: the caller keeps the table. */
	router *r = router_with(BASE);
	router_table *t = doc(USER("'xx': {'type': 'hash'}",
	                           "'users': " ON("xx", "id") ", 'orders': " ON(
	                               "xx", "id")));
	router_pending_info pi;

	(void)s;
	assert_int_equal(router_publish(r, t, ROUTER_PUBLISH_QUARANTINE, NULL,
	                                &E),
	                 KSID);
	assert_int_equal(router_pending(r, &pi, NULL, &E), ROUTER_ENOTFOUND);
	router_table_free(t);
	router_free(r);
}

static void ksid_code_has_a_name_and_a_description(void **s)
{
	(void)s;
	assert_string_equal(router_errname(KSID), "ROUTER_EKSIDCHANGE");
	assert_non_null(strstr(router_strerror(KSID), "keyspace ID"));
	assert_true(KSID >= ROUTER_ERRNO_MIN); /* later codes follow it */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(publish_refuses_switching_every_primary_vindex_to_null),
	    cmocka_unit_test(publish_refuses_changing_the_vindex_type_under_its_name),
	    cmocka_unit_test(publish_refuses_changing_the_sharding_column),
	    cmocka_unit_test(
	        publish_refuses_a_switch_to_another_vindex_that_hashes_otherwise),
	    cmocka_unit_test(
	        publish_accepts_renaming_a_vindex_with_the_same_definition),
	    cmocka_unit_test(publish_accepts_a_column_named_in_another_case),
	    cmocka_unit_test(publish_accepts_secondary_and_lookup_vindex_changes),
	    cmocka_unit_test(resharding_with_the_same_vindex_is_a_normal_publish),
	    cmocka_unit_test(
	        publish_accepts_adding_and_dropping_tables_under_this_guard),
	    cmocka_unit_test(publish_refuses_editing_a_numeric_static_map),
	    cmocka_unit_test(publish_refuses_changing_a_numeric_static_map_fallback),
	    cmocka_unit_test(publish_refuses_changing_region_bytes),
	    cmocka_unit_test(publish_refuses_changing_a_multicol_layout),
	    cmocka_unit_test(publish_refuses_editing_a_primary_lookup_vindex),
	    cmocka_unit_test(publish_refuses_changing_pinning_in_a_sharded_keyspace),
	    cmocka_unit_test(
	        publish_refuses_turning_a_sharded_table_into_a_reference),
	    cmocka_unit_test(publish_refuses_turning_an_unsharded_keyspace_sharded),
	    cmocka_unit_test(
	        publish_accepts_anything_within_an_unsharded_keyspace),
	    cmocka_unit_test(a_disabling_routing_rule_is_left_to_the_shadow_sample),
	    cmocka_unit_test(ksid_refusal_is_returned_even_with_quarantine),
	    cmocka_unit_test(ksid_code_has_a_name_and_a_description),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
