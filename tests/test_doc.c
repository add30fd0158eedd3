/*
 * Routing documents: every Vitess example loads; the three shapes and both
 * field spellings give the same table; every problem is reported with its
 * JSON path (or line and column); malformed input (truncated, wrong types,
 * huge numbers, deep nesting, 10 MB) is refused cleanly; allocation
 * failures leak nothing; dump and load round-trip to the same table.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "router.h"
#include "router_doc.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

static const char *const two[] = {"-80", "80-"};
static const char *const four[] = {"-40", "40-80", "80-c0", "c0-"};

typedef struct loaded {
	int rc;
	router_table *t;
	router_doc_report *r;
	router_error e;
} loaded;

static loaded load_opt(const char *json, const router_doc_options *o)
{
	loaded l;

	memset(&l, 0, sizeof l);
	l.rc = router_doc_load(json, strlen(json), o, &l.t, &l.r, &l.e);
	if (l.rc == ROUTER_OK)
		assert_non_null(l.t);
	else
		assert_null(l.t);
	return l;
}

static loaded load_str(const char *json)
{
	return load_opt(json, NULL);
}

static void unload(loaded *l)
{
	router_table_free(l->t);
	router_doc_report_free(l->r);
	l->t = NULL;
	l->r = NULL;
}

/* The first note of a kind whose path is `path`, or NULL. */
static const router_doc_note *note_at(const router_doc_report *r,
                                      router_doc_note_kind kind,
                                      const char *path)
{
	const router_doc_note *n;

	for (size_t i = 0; (n = router_doc_report_get(r, i)) != NULL; i++)
		if (n->kind == kind && strcmp(n->path, path) == 0)
			return n;
	return NULL;
}

/* n, which the test needs: fails the test (never returns) when NULL. */
static const router_doc_note *must(const router_doc_note *n)
{
	if (n == NULL) {
		fail_msg("expected note is missing");
		abort();
	}
	return n;
}

static void dump_notes(const router_doc_report *r)
{
	const router_doc_note *n;

	for (size_t i = 0; (n = router_doc_report_get(r, i)) != NULL; i++)
		print_message("  note kind %d %s [%s] %s: %s\n", n->kind,
		              router_errname(n->error.code), n->path,
		              n->error.culprit, n->error.message);
}

/* Vitess's errors that fail a keyspace (EVSCHEMA, EREFERENCE) leave the
 * document loading with the keyspace in error (a KEYSPACE note); the
 * others refuse it (an ERROR note). */
static int keyspace_error(int code)
{
	return code == ROUTER_EVSCHEMA || code == ROUTER_EREFERENCE;
}

static void expect_error_at(const char *json, int code, const char *path)
{
	loaded l = load_str(json);
	const router_doc_note *n;
	int kse = keyspace_error(code);

	if (l.rc != (kse ? ROUTER_OK : code))
		dump_notes(l.r);
	assert_int_equal(l.rc, kse ? ROUTER_OK : code);
	n = note_at(l.r, kse ? ROUTER_DOC_NOTE_KEYSPACE : ROUTER_DOC_NOTE_ERROR,
	            path);
	if (n == NULL)
		dump_notes(l.r);
	n = must(n);
	assert_int_equal(n->error.code, code);
	assert_true(n->error.message[0] != '\0');
	unload(&l);
}

static char *read_file(const char *name, size_t *len)
{
	return tu_read_data(name, len);
}

/* Route an int64 through keyspace.table; returns the shard name (static
 * within the table) or NULL. */
static const char *route_i64(const router_table *t, const char *ks,
                             const char *table, int64_t v)
{
	router_value val = ROUTER_VALUE_INT64(v);
	router_route_result res;
	int rc = router_table_route(t, ks, strlen(ks), table, strlen(table),
	                            &val, 1, &res, NULL);

	return rc == ROUTER_OK ? res.shard : NULL;
}

/* The shard of `shards` that holds the keyspace ID `type` gives v. */
static const char *expected_shard(const char *type, int64_t v,
                                  const char *const *shards, size_t n)
{
	router_value val = ROUTER_VALUE_INT64(v);
	uint8_t k[32];
	size_t len;

	assert_int_equal(router_keyspace_id(type, &val, k, sizeof k, &len,
	                                    NULL),
	                 ROUTER_OK);
	for (size_t i = 0; i < n; i++) {
		router_keyrange kr;

		assert_int_equal(router_keyrange_parse(shards[i],
		                                       strlen(shards[i]), &kr,
		                                       NULL),
		                 ROUTER_OK);
		if (router_keyrange_contains(&kr, k, len))
			return shards[i];
	}
	fail_msg("no shard holds the keyspace ID");
	return NULL;
}

/* load(dump(t)) is the same table; dump is deterministic. */
static void assert_round_trip(const router_table *t)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_table *t2 = NULL;
	char *text = NULL, *text2 = NULL;
	size_t len = 0, len2 = 0;
	router_error e;
	int rc;

	assert_int_equal(router_doc_dump(t, NULL, 0, NULL, &text, &len, &e),
	                 ROUTER_OK);
	assert_int_equal(strlen(text), len);
	rc = router_doc_load(text, len, &o, &t2, NULL, &e);
	if (rc != ROUTER_OK)
		fail_msg("reload failed: %s: %s\n%s", e.culprit, e.message, text);
	assert_int_equal(router_table_hash(t2), router_table_hash(t));
	assert_int_equal(router_table_version(t2), router_table_version(t));
	assert_int_equal(router_doc_dump(t2, NULL, 0, NULL, &text2, &len2, &e),
	                 ROUTER_OK);
	assert_int_equal(len2, len);
	assert_memory_equal(text2, text, len);
	free(text);
	free(text2);
	router_table_free(t2);
}

/* ---- examples ----------------------------------------------------------- */

static const struct example {
	const char *file;
	const char *keyspace; /* NULL: the document names its keyspaces */
	const char *shard_ks; /* keyspace given -80,80- (NULL: unsharded) */
	const char *table;    /* a table routed by an int64 (NULL: none) */
	const char *vtype;    /* its primary vindex type */
} examples[] = {
    {"examples/commerce_initial.json", "commerce", NULL, "product", NULL},
    {"examples/compose_lookup_keyspace.json", "lookup_keyspace",
     "lookup_keyspace", "messages_message_lookup", "xxhash"},
    {"examples/compose_test_keyspace.json", "test_keyspace",
     "test_keyspace", "messages", "xxhash"},
    {"examples/customer_sharded.json", "customer", "customer", "customer",
     "xxhash"},
    {"examples/demo_user.json", "user", "user", "user", "hash"},
    {"examples/multicol_region.json", "customer", "customer", NULL, NULL},
    {"examples/region_json_sharded.json", "customer", "customer", NULL,
     NULL},
    {"examples/vtexplain_sample.json", NULL, "ks1", NULL, NULL},
};

static void every_example_loads_with_its_shards(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
		const struct example *x = &examples[i];
		router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
		router_doc_shards sh = {x->shard_ks, two, 2};
		const char *ks = x->keyspace ? x->keyspace : x->shard_ks;
		char path[512];
		router_table *t = NULL;
		router_doc_report *r = NULL;
		router_error e;
		int rc;

		o.keyspace = x->keyspace;
		if (x->shard_ks != NULL) {
			o.shards = &sh;
			o.nshards = 1;
		}
		snprintf(path, sizeof path, "%s/%s", tu_data_dir(), x->file);
		rc = router_doc_load_file(path, &o, &t, &r, &e);
		if (rc != ROUTER_OK) {
			dump_notes(r);
			fail_msg("%s: %s: %s: %s", x->file, router_errname(rc),
			         e.culprit, e.message);
		}
		assert_int_equal(router_doc_report_count(r, ROUTER_DOC_NOTE_ERROR),
		                 0);
		assert_int_equal(router_doc_report_count(r, ROUTER_DOC_NOTE_UNKNOWN),
		                 0);
		assert_int_equal(router_doc_keyspace_count(t), 1);
		assert_string_equal(router_doc_keyspace_name(t, 0), ks);
		assert_int_equal(router_doc_shard_count(t, ks),
		                 x->shard_ks ? 2 : 1);
		if (x->table != NULL) {
			const char *got = route_i64(t, ks, x->table, 12345);

			assert_non_null(got);
			if (x->vtype != NULL)
				assert_string_equal(
				    got, expected_shard(x->vtype, 12345, two, 2));
			else
				assert_string_equal(got, "0");
		}
		assert_round_trip(t);
		router_table_free(t);
		router_doc_report_free(r);
	}
}

static void example_without_shards_is_refused_naming_the_keyspace(void **state)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_table *t = NULL;
	router_doc_report *r = NULL;
	router_error e;
	char path[512];

	(void)state;
	o.keyspace = "customer";
	snprintf(path, sizeof path, "%s/examples/customer_sharded.json",
	         tu_data_dir());
	assert_int_equal(router_doc_load_file(path, &o, &t, &r, &e),
	                 ROUTER_EDOC);
	assert_null(t);
	assert_non_null(strstr(e.message, "sharded keyspace customer has no "
	                                  "shards"));
	assert_non_null(note_at(r, ROUTER_DOC_NOTE_ERROR, ""));
	router_doc_report_free(r);
}

/* ---- shapes and spellings ----------------------------------------------- */

#define USER_KS                                                              \
	"{\"sharded\": true, \"shards\": [\"-80\", \"80-\"],"                \
	" \"vindexes\": {\"hash\": {\"type\": \"hash\"}},"                    \
	" \"tables\": {\"users\": {\"column_vindexes\":"                      \
	" [{\"column\": \"id\", \"name\": \"hash\"}]}}}"

static void three_shapes_give_the_same_table(void **state)
{
	router_doc_options ko = ROUTER_DOC_OPTIONS_INIT;
	loaded srv = load_str("{\"keyspaces\": {\"user\": " USER_KS "}}");
	loaded map = load_str("{\"user\": " USER_KS "}");
	loaded ks;

	(void)state;
	ko.keyspace = "user";
	ks = load_opt(USER_KS, &ko);
	assert_int_equal(srv.rc, ROUTER_OK);
	assert_int_equal(map.rc, ROUTER_OK);
	assert_int_equal(ks.rc, ROUTER_OK);
	assert_int_equal(router_table_hash(srv.t), router_table_hash(map.t));
	assert_int_equal(router_table_hash(srv.t), router_table_hash(ks.t));
	assert_string_equal(route_i64(srv.t, "user", "users", 1),
	                    expected_shard("hash", 1, two, 2));
	unload(&srv);
	unload(&map);
	unload(&ks);
}

static void explicit_formats_override_detection(void **state)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	loaded l;

	(void)state;
	/* A keyspace named "tables" in a bare map. */
	o.format = ROUTER_DOC_MAP;
	l = load_opt("{\"tables\": {\"tables\": {\"t\": {}}}}", &o);
	assert_int_equal(l.rc, ROUTER_OK);
	assert_string_equal(router_doc_keyspace_name(l.t, 0), "tables");
	assert_string_equal(route_i64(l.t, "tables", "t", 1), "0");
	unload(&l);
	/* A SrvVSchema without keyspaces: empty. */
	o.format = ROUTER_DOC_SRV;
	l = load_opt("{}", &o);
	assert_int_equal(l.rc, ROUTER_OK);
	assert_int_equal(router_doc_keyspace_count(l.t), 0);
	unload(&l);
}

static void camel_case_fields_load_like_snake_case(void **state)
{
	loaded snake = load_str(
	    "{\"keyspaces\": {\"user\": " USER_KS "},"
	    " \"routing_rules\": {\"rules\": [{\"from_table\": \"user.u\","
	    " \"to_tables\": [\"user.users\"]}]}}");
	loaded camel = load_str(
	    "{\"keyspaces\": {\"user\": {\"sharded\": true, \"shards\":"
	    " [\"-80\", \"80-\"], \"vindexes\": {\"hash\": {\"type\":"
	    " \"hash\"}}, \"tables\": {\"users\": {\"columnVindexes\":"
	    " [{\"column\": \"id\", \"name\": \"hash\"}], \"autoIncrement\":"
	    " {\"column\": \"id\", \"sequence\": \"users\"}}},"
	    " \"requireExplicitRouting\": false}},"
	    " \"routingRules\": {\"rules\": [{\"fromTable\": \"user.u\","
	    " \"toTables\": [\"user.users\"]}]}}");

	(void)state;
	assert_int_equal(snake.rc, ROUTER_OK);
	assert_int_equal(camel.rc, ROUTER_OK);
	assert_int_equal(router_doc_report_count(camel.r, ROUTER_DOC_NOTE_UNKNOWN),
	                 0);
	assert_int_equal(router_table_hash(snake.t), router_table_hash(camel.t));
	assert_string_equal(route_i64(camel.t, "user", "u", 7),
	                    expected_shard("hash", 7, two, 2));
	unload(&snake);
	unload(&camel);
}

static void field_given_in_both_spellings_is_refused(void **state)
{
	(void)state;
	expect_error_at("{\"keyspaces\": {\"user\": {\"sharded\": true,"
	                " \"shards\": [\"-\"], \"tables\": {\"t\": {"
	                "\"column_vindexes\": [], \"columnVindexes\": []}}}}}",
	                ROUTER_EDOC, "keyspaces.user.tables.t.columnVindexes");
}

static void single_keyspace_document_needs_its_name(void **state)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	loaded l = load_str("{\"tables\": {\"product\": {}}}");

	(void)state;
	assert_int_equal(l.rc, ROUTER_EDOC);
	assert_non_null(strstr(l.e.message, "give the keyspace's name"));
	unload(&l);
	o.format = ROUTER_DOC_KEYSPACE;
	l = load_opt("{}", &o);
	assert_int_equal(l.rc, ROUTER_EINVAL);
	assert_null(l.r);
}

static void empty_document_with_a_keyspace_name_is_that_keyspace_emptied(
    void **state)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	loaded l;

	(void)state;
	o.keyspace = "user";
	l = load_opt("{}", &o);
	assert_int_equal(l.rc, ROUTER_OK);
	assert_int_equal(router_doc_keyspace_count(l.t), 1);
	assert_string_equal(router_doc_shard_name(l.t, "user", 0), "0");
	unload(&l);
	/* Without a name, {} is a map with no keyspace. */
	l = load_str("{}");
	assert_int_equal(l.rc, ROUTER_OK);
	assert_int_equal(router_doc_keyspace_count(l.t), 0);
	unload(&l);
}

static void unsharded_keyspace_routes_every_table_to_shard_0(void **state)
{
	loaded l = load_str("{\"keyspaces\": {\"commerce\": {\"tables\":"
	                    " {\"product\": {}}}}}");

	(void)state;
	assert_int_equal(l.rc, ROUTER_OK);
	assert_string_equal(route_i64(l.t, "commerce", "product", 1), "0");
	assert_string_equal(route_i64(l.t, "commerce", "undeclared", 1), "0");
	unload(&l);
}

static void version_is_read_from_the_top_level(void **state)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	loaded l = load_str("{\"version\": 42, \"keyspaces\": {\"a\": {}}}");

	(void)state;
	assert_int_equal(l.rc, ROUTER_OK);
	assert_int_equal(router_table_version(l.t), 42);
	unload(&l);
	l = load_str("{\"version\": \"18446744073709551615\", \"a\": {}}");
	assert_int_equal(l.rc, ROUTER_OK);
	assert_true(router_table_version(l.t) == UINT64_MAX);
	assert_round_trip(l.t);
	unload(&l);
	o.keyspace = "a";
	l = load_opt("{\"version\": 7, \"tables\": {}}", &o);
	assert_int_equal(l.rc, ROUTER_OK);
	assert_int_equal(router_table_version(l.t), 7);
	unload(&l);
	l = load_str("{\"keyspaces\": {\"a\": {}}}");
	assert_int_equal(router_table_version(l.t), 0);
	unload(&l);
}

/* ---- shards ------------------------------------------------------------- */

static void supplied_shards_replace_the_documents(void **state)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_doc_shards sh = {"user", four, 4};
	loaded l;

	(void)state;
	o.shards = &sh;
	o.nshards = 1;
	l = load_opt("{\"keyspaces\": {\"user\": " USER_KS "}}", &o);
	assert_int_equal(l.rc, ROUTER_OK);
	assert_int_equal(router_doc_shard_count(l.t, "user"), 4);
	assert_string_equal(route_i64(l.t, "user", "users", 99),
	                    expected_shard("hash", 99, four, 4));
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_IGNORED,
	                        "keyspaces.user.shards"));
	unload(&l);
}

static void supplied_shards_for_an_absent_keyspace_are_not_found(void **state)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_doc_shards sh = {"nosuch", two, 2};
	loaded l;

	(void)state;
	o.shards = &sh;
	o.nshards = 1;
	l = load_opt("{\"keyspaces\": {\"a\": {}}}", &o);
	assert_int_equal(l.rc, ROUTER_ENOTFOUND);
	assert_string_equal(l.e.culprit, "nosuch");
	unload(&l);
	o.flags = ROUTER_DOC_UNUSED_SHARDS_OK;
	l = load_opt("{\"keyspaces\": {\"a\": {}}}", &o);
	assert_int_equal(l.rc, ROUTER_OK);
	assert_int_equal(router_doc_report_count(l.r, ROUTER_DOC_NOTE_IGNORED),
	                 1);
	unload(&l);
}

static void bad_supplied_shard_is_reported_with_its_origin(void **state)
{
	static const char *const bad[] = {"-80", "8g-"};
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_doc_shards sh = {"user", bad, 2};
	const router_doc_note *n;
	loaded l;

	(void)state;
	o.shards = &sh;
	o.nshards = 1;
	l = load_opt("{\"keyspaces\": {\"user\": " USER_KS "}}", &o);
	assert_int_equal(l.rc, ROUTER_ESHARDNAME);
	n = must(note_at(l.r, ROUTER_DOC_NOTE_ERROR,
	                 "(shards supplied for user)[1]"));
	assert_non_null(strstr(n->error.message, "8g-"));
	unload(&l);
}

static void shards_that_leave_a_gap_are_refused_as_coverage(void **state)
{
	const router_doc_note *n;
	loaded l = load_str("{\"keyspaces\": {\"user\": {\"sharded\": true,"
	                    " \"shards\": [\"-40\", \"80-\"]}}}");

	(void)state;
	assert_int_equal(l.rc, ROUTER_ECOVERAGE);
	n = must(router_doc_report_get(l.r, 0));
	assert_int_equal(n->error.code, ROUTER_ECOVERAGE);
	/* the builder's culprit, mapped back to the document */
	assert_string_equal(n->error.culprit, "user/80-");
	assert_string_equal(n->path, "keyspaces.user.shards[1]");
	unload(&l);
}

/* ---- problems ------------------------------------------------------------ */

static void dangling_vindex_is_reported_once_at_its_json_path(void **state)
{
	loaded l = load_str(
	    "{\"keyspaces\": {\"user\": {\"sharded\": true, \"shards\":"
	    " [\"-\"], \"vindexes\": {\"hash\": {\"type\": \"hash\"}},"
	    " \"tables\": {\"users\": {\"column_vindexes\": [{\"column\":"
	    " \"id\", \"name\": \"hsh\"}]}}}}}");
	const router_doc_note *n;

	router_route_result out;
	router_error e;
	router_value v = ROUTER_VALUE_INT64(1);

	(void)state;
	/* Vitess keeps the keyspace with its error: the document loads. */
	assert_int_equal(l.rc, ROUTER_OK);
	assert_int_equal(router_doc_report_count(l.r, ROUTER_DOC_NOTE_KEYSPACE),
	                 1);
	n = must(note_at(l.r, ROUTER_DOC_NOTE_KEYSPACE,
	                 "keyspaces.user.tables.users.column_vindexes[0].name"));
	assert_string_equal(n->error.message, "vindex hsh not found for table "
	                                      "users");
	assert_int_equal(n->error.code, ROUTER_EREFERENCE);
	assert_string_equal(n->error.culprit, "user");
	assert_int_equal(router_table_route(l.t, "user", 4, "users", 5, &v, 1,
	                                    &out, &e),
	                 ROUTER_EKEYSPACE);
	assert_string_equal(e.message, "keyspace user is invalid: vindex hsh "
	                               "not found for table users");
	unload(&l);
}

static void every_problem_is_reported_in_one_load(void **state)
{
	loaded l = load_str(
	    "{\"keyspaces\": {\"user\": {\"sharded\": true, \"shards\":"
	    " [\"-80\", \"80-\"], \"vindexes\": {\"h\": {\"type\":"
	    " \"hash\"}, \"l\": {\"type\": \"lookup\"}}, \"tables\": {"
	    " \"a\": {\"column_vindexes\": [{\"column\": \"id\", \"name\":"
	    " \"nope\"}]},"
	    " \"b\": {\"column_vindexes\": [{\"column\": \"id\", \"name\":"
	    " \"l\"}]},"
	    " \"c\": {}}}}}");

	(void)state;
	/* The keyspace is in error (every one of its errors reported, the
	 * first being Vitess's); the document loads. */
	assert_int_equal(l.rc, ROUTER_OK);
	assert_int_equal(router_doc_report_count(l.r, ROUTER_DOC_NOTE_KEYSPACE),
	                 3);
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_KEYSPACE,
	                        "keyspaces.user.tables.a.column_vindexes[0].name"));
	/* builder problems, mapped to their tables */
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_KEYSPACE,
	                        "keyspaces.user.tables.b"));
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_KEYSPACE,
	                        "keyspaces.user.tables.c"));
	unload(&l);
	/* With a librouter-only refusal too, the document is refused with
	 * every problem. */
	l = load_str(
	    "{\"keyspaces\": {\"user\": {\"sharded\": true, \"vindexes\":"
	    " {\"h\": {\"type\": \"hash\"}}, \"tables\": {"
	    " \"a\": {\"column_vindexes\": [{\"column\": \"id\", \"name\":"
	    " \"nope\"}]}}}}}");
	assert_int_equal(l.rc, ROUTER_EDOC);
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_ERROR,
	                        "keyspaces.user.tables.a.column_vindexes[0].name"));
	unload(&l);
}

static void same_problem_in_two_keyspaces_is_reported_twice(void **state)
{
	loaded l = load_str(
	    "{\"keyspaces\": {"
	    "\"a\": {\"sharded\": true, \"shards\": [\"-\"], \"vindexes\":"
	    " {\"h\": {\"type\": \"hash\"}}, \"tables\": {\"t\": {},"
	    " \"u\": {\"column_vindexes\": [{\"column\": \"id\", \"name\":"
	    " \"x\"}]}}},"
	    "\"b\": {\"sharded\": true, \"shards\": [\"-\"], \"vindexes\":"
	    " {\"h\": {\"type\": \"hash\"}}, \"tables\": {\"t\": {},"
	    " \"u\": {\"column_vindexes\": [{\"column\": \"id\", \"name\":"
	    " \"x\"}]}}}}}");

	(void)state;
	/* Both keyspaces in error, the document loads with none. */
	assert_int_equal(l.rc, ROUTER_OK);
	assert_int_equal(router_doc_report_count(l.r, ROUTER_DOC_NOTE_KEYSPACE),
	                 4);
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_KEYSPACE,
	                        "keyspaces.a.tables.t"));
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_KEYSPACE,
	                        "keyspaces.b.tables.t"));
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_KEYSPACE,
	                        "keyspaces.a.tables.u.column_vindexes[0].name"));
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_KEYSPACE,
	                        "keyspaces.b.tables.u.column_vindexes[0].name"));
	unload(&l);
}

/* Many keyspaces in error beside a good one: each keeps its own error,
 * the good one routes.  (Finding a note's keyspace and a keyspace's
 * errors by scanning made this quadratic: seconds at this size.) */
static void thousands_of_keyspaces_in_error_each_keep_their_error(
    void **state)
{
	enum { N = 20000 };
	size_t cap = (size_t)N * 200, len = 0;
	char *doc = malloc(cap), name[32];
	router_value v = ROUTER_VALUE_INT64(1);
	router_route_result out;
	router_error e;
	loaded l;

	(void)state;
	assert_non_null(doc);
	len += (size_t)snprintf(doc + len, cap - len,
	                        "{\"keyspaces\": {\"good\": {}");
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(
		    doc + len, cap - len,
		    ", \"k%d\": {\"sharded\": true, \"shards\": [\"-\"], "
		    "\"vindexes\": {\"h\": {\"type\": \"hash\"}}, "
		    "\"tables\": {\"t\": {\"column_vindexes\": [{\"column\": "
		    "\"id\", \"name\": \"v%d\"}]}}}",
		    i, i);
	snprintf(doc + len, cap - len, "}}");
	l = load_str(doc);
	assert_int_equal(l.rc, ROUTER_OK);
	assert_int_equal(router_doc_report_count(l.r, ROUTER_DOC_NOTE_KEYSPACE),
	                 N);
	assert_int_equal(router_table_route(l.t, "good", 4, "x", 1, &v, 1, &out,
	                                    &e),
	                 ROUTER_OK);
	snprintf(name, sizeof name, "k%d", N - 1);
	assert_int_equal(router_table_route(l.t, name, strlen(name), "t", 1, &v,
	                                    1, &out, &e),
	                 ROUTER_EKEYSPACE);
	snprintf(name, sizeof name, "vindex v%d not found", N - 1);
	assert_non_null(strstr(e.message, name));
	unload(&l);
	free(doc);
}

/* Many keyspaces, every one broken: even ones with a dangling vindex
 * (reported while reading, then again by the build: must appear once),
 * odd ones with a shard gap (only the build sees it).  Each problem is
 * reported exactly once, at its own path.  (Matching the build's problems
 * to the document used to compare every pair: seconds at this size.) */
static void thousands_of_problems_are_each_reported_once_at_their_path(
    void **state)
{
	enum { N = 20000 };
	size_t cap = (size_t)N * 200, len = 0;
	char *doc = malloc(cap), path[96];
	loaded l;

	(void)state;
	assert_non_null(doc);
	len += (size_t)sprintf(doc + len, "{\"keyspaces\": {");
	for (int i = 0; i < N; i++)
		len += (size_t)sprintf(
		    doc + len,
		    "%s\"k%d\": {\"sharded\": true, \"shards\": [%s], "
		    "\"vindexes\": {\"h\": {\"type\": \"hash\"}}, \"tables\": "
		    "{\"t\": {\"column_vindexes\": [{\"column\": \"id\", "
		    "\"name\": \"%s\"}]}}}",
		    i ? ", " : "", i, i % 2 ? "\"-80\"" : "\"-\"",
		    i % 2 ? "h" : "nope");
	sprintf(doc + len, "}}");
	l = load_str(doc);
	assert_int_equal(router_doc_report_count(l.r, ROUTER_DOC_NOTE_ERROR), N);
	for (int i = 0; i < N; i += 997) {
		if (i % 2)
			snprintf(path, sizeof path, "keyspaces.k%d.shards[0]", i);
		else
			snprintf(path, sizeof path,
			         "keyspaces.k%d.tables.t.column_vindexes[0].name",
			         i);
		assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_ERROR, path));
	}
	unload(&l);
	free(doc);
}

static void vitess_column_rules_are_enforced(void **state)
{
	(void)state;
	expect_error_at("{\"keyspaces\": {\"u\": {\"sharded\": true,"
	                " \"shards\": [\"-\"], \"vindexes\": {\"h\": {\"type\":"
	                " \"hash\"}}, \"tables\": {\"t\": {\"column_vindexes\":"
	                " [{\"column\": \"a\", \"columns\": [\"b\"], \"name\":"
	                " \"h\"}]}}}}}",
	                ROUTER_EVSCHEMA,
	                "keyspaces.u.tables.t.column_vindexes[0]");
	expect_error_at("{\"keyspaces\": {\"u\": {\"sharded\": true,"
	                " \"shards\": [\"-\"], \"vindexes\": {\"h\": {\"type\":"
	                " \"hash\"}}, \"tables\": {\"t\": {\"column_vindexes\":"
	                " [{\"name\": \"h\"}]}}}}}",
	                ROUTER_EVSCHEMA,
	                "keyspaces.u.tables.t.column_vindexes[0]");
	expect_error_at("{\"keyspaces\": {\"u\": {\"tables\": {\"t\":"
	                " {\"type\": \"view\"}}}}}",
	                ROUTER_EVSCHEMA, "keyspaces.u.tables.t.type");
	expect_error_at("{\"keyspaces\": {\"u\": {\"vindexes\": {\"v\": {}}}}}",
	                ROUTER_EREFERENCE, "keyspaces.u.vindexes.v.type");
	expect_error_at("{\"keyspaces\": {\"u\": {\"tables\": {\"t\":"
	                " {\"columns\": [{\"name\": \"a\"}, {\"name\":"
	                " \"A\"}]}}}}}",
	                ROUTER_EVSCHEMA, "keyspaces.u.tables.t.columns[1]");
}

static void unknown_fields_are_warnings_with_a_suggestion(void **state)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	const char *doc = "{\"keyspaces\": {\"u\": {\"tabels\": {}}}}";
	const router_doc_note *n;
	loaded l = load_str(doc);

	(void)state;
	assert_int_equal(l.rc, ROUTER_OK);
	n = must(note_at(l.r, ROUTER_DOC_NOTE_UNKNOWN, "keyspaces.u.tabels"));
	assert_int_equal(n->error.code, ROUTER_OK);
	assert_non_null(strstr(n->error.message, "did you mean tables?"));
	unload(&l);
	o.flags = ROUTER_DOC_STRICT;
	l = load_opt(doc, &o);
	assert_int_equal(l.rc, ROUTER_EDOC);
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_ERROR, "keyspaces.u.tabels"));
	unload(&l);
}

/* Every type reports the params Vitess's vindex ignores (UnknownParams)
 * as vtctldclient ApplyVSchema prints them, never its known ones;
 * multicol reports none (not ParamValidating); strict refuses as
 * ApplyVSchema --strict does. */
static void unknown_vindex_params_are_warnings_as_vitess_lists_them(
    void **state)
{
	static const struct {
		const char *type, *params; /* params: known ones, JSON members */
		int reports;
	} cases[] = {
	    {"hash", "", 1},
	    {"xxhash", "", 1},
	    {"numeric", "", 1},
	    {"binary", "", 1},
	    {"binary_md5", "", 1},
	    {"reverse_bits", "", 1},
	    {"null", "", 1},
	    {"unicode_loose_md5", "", 1},
	    {"unicode_loose_xxhash", "", 1},
	    {"numeric_static_map", "\"json\": \"{\\\"1\\\": 2}\", "
	                           "\"fallback_type\": \"hash\", ", 1},
	    {"region_experimental", "\"region_bytes\": \"1\", ", 1},
	    {"cfc", "\"hash\": \"md5\", \"offsets\": \"[1,2]\", ", 1},
	    {"lookup", "\"table\": \"t\", \"from\": \"a\", \"to\": \"b\", "
	               "\"no_verify\": \"true\", \"write_only\": \"false\", "
	               "\"autocommit\": \"true\", ", 1},
	    {"lookup_hash_unique", "\"table\": \"t\", \"from\": \"a\", "
	                           "\"to\": \"b\", \"read_lock\": \"shared\", ",
	     1},
	    {"consistent_lookup", "\"table\": \"t\", \"from\": \"a\", "
	                          "\"to\": \"b\", \"ignore_nulls\": \"true\", ",
	     1},
	    {"multicol", "\"column_count\": \"2\", ", 0},
	};
	char doc[1024], msg[128];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const router_doc_note *n;
		router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
		size_t nu;
		loaded l;

		snprintf(doc, sizeof doc,
		         "{\"keyspaces\": {\"u\": {\"sharded\": true, \"shards\":"
		         " [\"-80\", \"80-\"], \"vindexes\": {\"v\": {\"type\":"
		         " \"%s\", \"params\": {%s\"zz\": \"1\", \"aa\": \"2\"}}}}}}",
		         cases[i].type, cases[i].params);
		l = load_str(doc);
		assert_int_equal(l.rc, ROUTER_OK);
		nu = 0;
		for (size_t j = 0;
		     (n = router_doc_report_get(l.r, j)) != NULL; j++)
			if (n->kind == ROUTER_DOC_NOTE_UNKNOWN)
				/* only the two unknown ones, sorted */
				assert_string_equal(n->error.message,
				                    nu++ == 0
				                        ? "Unknown parameter in "
				                          "vindex v: aa"
				                        : "Unknown parameter in "
				                          "vindex v: zz");
		assert_int_equal(nu, cases[i].reports ? 2 : 0);
		n = note_at(l.r, ROUTER_DOC_NOTE_UNKNOWN,
		            "keyspaces.u.vindexes.v.params.aa");
		assert_true(cases[i].reports ? n != NULL : n == NULL);
		n = note_at(l.r, ROUTER_DOC_NOTE_UNKNOWN,
		            "keyspaces.u.vindexes.v.params.zz");
		assert_true(cases[i].reports ? n != NULL : n == NULL);
		unload(&l);
		o.flags = ROUTER_DOC_STRICT;
		l = load_opt(doc, &o);
		if (cases[i].reports) {
			assert_int_equal(l.rc, ROUTER_EDOC);
			n = must(note_at(l.r, ROUTER_DOC_NOTE_ERROR,
			                 "keyspaces.u.vindexes.v.params"));
			snprintf(msg, sizeof msg, "%s",
			         "unknown vindex params: v (aa, zz)");
			assert_string_equal(n->error.message, msg);
		} else {
			assert_int_equal(l.rc, ROUTER_OK);
		}
		unload(&l);
	}
}

static void fields_that_do_not_route_are_reported_as_ignored(void **state)
{
	loaded l = load_str(
	    "{\"keyspaces\": {\"u\": {\"foreign_key_mode\": \"managed\","
	    " \"tables\": {\"t\": {\"columns\": [{\"name\": \"a\"}],"
	    " \"source\": \"x.y\", \"column_list_authoritative\": false}}}},"
	    " \"shard_routing_rules\": {\"rules\": [{\"from_keyspace\": \"a\","
	    " \"to_keyspace\": \"u\", \"shard\": \"-80\"}]},"
	    " \"keyspace_routing_rules\": {\"rules\": []}}");

	(void)state;
	assert_int_equal(l.rc, ROUTER_OK);
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_IGNORED,
	                        "keyspaces.u.foreign_key_mode"));
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_IGNORED,
	                        "keyspaces.u.tables.t.columns"));
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_IGNORED,
	                        "keyspaces.u.tables.t.source"));
	/* false is the default: nothing to report */
	assert_null(note_at(l.r, ROUTER_DOC_NOTE_IGNORED,
	                    "keyspaces.u.tables.t.column_list_authoritative"));
	/* Shard and keyspace routing rules are applied (test_route_target):
	 * nothing to report. */
	assert_null(note_at(l.r, ROUTER_DOC_NOTE_UNSUPPORTED,
	                    "shard_routing_rules"));
	assert_null(note_at(l.r, ROUTER_DOC_NOTE_UNSUPPORTED,
	                    "keyspace_routing_rules"));
	unload(&l);
}

/* ---- malformed input ---------------------------------------------------- */

static void syntax_error_names_line_and_column(void **state)
{
	const router_doc_note *n;
	loaded l = load_str("{\"keyspaces\": {\n  \"user\": {\n    \"sharded\""
	                    " true\n  }\n}}");

	(void)state;
	assert_int_equal(l.rc, ROUTER_EDOC);
	n = must(router_doc_report_get(l.r, 0));
	assert_int_equal(n->line, 3);
	assert_true(n->column > 0);
	assert_string_equal(l.e.culprit, "line 3, column 18");
	assert_non_null(strstr(l.e.message, "line 3"));
	unload(&l);
}

static void every_truncation_of_a_document_is_refused(void **state)
{
	size_t len, n;
	char *doc = read_file("examples/demo_user.json", &len);
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;

	(void)state;
	o.keyspace = "user";
	while (len > 0 && (doc[len - 1] == '\n' || doc[len - 1] == ' '))
		len--;
	for (n = 0; n < len; n++) {
		router_table *t = (router_table *)1;
		router_doc_report *r = NULL;
		router_error e;
		int rc = router_doc_load(doc, n, &o, &t, &r, &e);

		assert_int_equal(rc, ROUTER_EDOC);
		assert_null(t);
		assert_non_null(r);
		assert_true(e.message[0] != '\0');
		router_doc_report_free(r);
	}
	free(doc);
}

static void wrong_types_are_refused_at_their_path(void **state)
{
	static const struct {
		const char *doc;
		const char *path;
	} cases[] = {
	    {"{\"keyspaces\": []}", "keyspaces"},
	    {"{\"keyspaces\": {\"u\": 1}}", "keyspaces.u"},
	    {"{\"keyspaces\": {\"u\": {\"sharded\": \"true\"}}}",
	     "keyspaces.u.sharded"},
	    {"{\"keyspaces\": {\"u\": {\"shards\": \"-80\"}}}",
	     "keyspaces.u.shards"},
	    {"{\"keyspaces\": {\"u\": {\"sharded\": true, \"shards\":"
	     " [\"-80\", 128]}}}",
	     "keyspaces.u.shards[1]"},
	    {"{\"keyspaces\": {\"u\": {\"tables\": {\"t\": []}}}}",
	     "keyspaces.u.tables.t"},
	    {"{\"keyspaces\": {\"u\": {\"vindexes\": {\"v\": {\"type\":"
	     " \"numeric\", \"params\": {\"x\": 1}}}}}}",
	     "keyspaces.u.vindexes.v.params.x"},
	    {"{\"keyspaces\": {\"u\": {\"tables\": {\"t\": {\"pinned\":"
	     " 12}}}}}",
	     "keyspaces.u.tables.t.pinned"},
	    {"{\"keyspaces\": {\"u\": {\"tables\": {\"t\":"
	     " {\"column_vindexes\": [\"id\"]}}}}}",
	     "keyspaces.u.tables.t.column_vindexes[0]"},
	    {"{\"keyspaces\": {\"u\": {\"tables\": {\"t\":"
	     " {\"auto_increment\": \"id\"}}}}}",
	     "keyspaces.u.tables.t.auto_increment"},
	    {"{\"routing_rules\": {\"rules\": [{\"from_table\": \"a\","
	     " \"to_tables\": [5]}]}}",
	     "routing_rules.rules[0].to_tables[0]"},
	    {"{\"routing_rules\": {\"rules\": {}}}", "routing_rules.rules"},
	    {"{\"version\": -1, \"keyspaces\": {}}", "version"},
	    {"{\"version\": 1.5, \"keyspaces\": {}}", "version"},
	    {"{\"version\": \"12x\", \"keyspaces\": {}}", "version"},
	    {"{\"version\": \"18446744073709551616\", \"keyspaces\": {}}",
	     "version"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_error_at(cases[i].doc, ROUTER_EDOC, cases[i].path);
}

static void top_level_must_be_an_object(void **state)
{
	static const char *const docs[] = {"[]", "[{\"keyspaces\": {}}]",
	                                   "\"x\"", "1", "null", "", "  \n "};

	(void)state;
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		loaded l = load_str(docs[i]);

		assert_int_equal(l.rc, ROUTER_EDOC);
		unload(&l);
	}
}

static void duplicate_keys_are_refused(void **state)
{
	loaded l = load_str("{\"keyspaces\": {\"u\": {}, \"u\": {\"sharded\":"
	                    " true}}}");

	(void)state;
	assert_int_equal(l.rc, ROUTER_EDOC);
	assert_non_null(strstr(l.e.message, "duplicate"));
	unload(&l);
}

static void huge_numbers_are_refused_or_read_exactly(void **state)
{
	static const char *const refused[] = {
	    "{\"version\": 18446744073709551616, \"keyspaces\": {}}",
	    "{\"version\": 1e400, \"keyspaces\": {}}",
	    "{\"keyspaces\": {\"u\": {\"foreign_key_mode\":"
	    " 99999999999999999999999999}}}",
	    "{\"keyspaces\": {\"u\": {\"tables\": {\"t\": {\"columns\":"
	    " [{\"size\": -1e999}]}}}}}",
	};
	loaded l;

	(void)state;
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		l = load_str(refused[i]);
		assert_int_equal(l.rc, ROUTER_EDOC);
		assert_true(must(router_doc_report_get(l.r, 0))->line == 1);
		unload(&l);
	}
	l = load_str("{\"version\": 9223372036854775807, \"keyspaces\": {}}");
	assert_int_equal(l.rc, ROUTER_OK);
	assert_true(router_table_version(l.t) == INT64_MAX);
	unload(&l);
}

static char *nested(size_t depth, const char *prefix, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *s = malloc(pl + 2 * depth + sl + 1), *p = s;

	assert_non_null(s);
	memcpy(p, prefix, pl);
	p += pl;
	memset(p, '[', depth);
	p += depth;
	memset(p, ']', depth);
	p += depth;
	memcpy(p, suffix, sl + 1);
	return s;
}

static void deep_nesting_is_refused_without_recursion(void **state)
{
	char *deep = nested(1000000, "{\"x\": ", "}");
	char *ok = nested(500, "{\"keyspaces\": {\"u\": {\"junk\": ", "}}}");
	loaded l;

	(void)state;
	l = load_str(deep);
	assert_int_equal(l.rc, ROUTER_EDOC);
	assert_non_null(strstr(l.e.message, "depth"));
	unload(&l);
	l = load_str(ok);
	assert_int_equal(l.rc, ROUTER_OK);
	assert_non_null(note_at(l.r, ROUTER_DOC_NOTE_UNKNOWN, "keyspaces.u.junk"));
	unload(&l);
	free(deep);
	free(ok);
}

/* A SrvVSchema of `ntables` sharded tables (about 150 bytes each). */
static char *big_doc(size_t ntables, size_t *len)
{
	size_t cap = ntables * 160 + 256, n = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	n += (size_t)snprintf(s + n, cap - n,
	                      "{\"version\": 5, \"keyspaces\": {\"user\": {"
	                      "\"sharded\": true, \"shards\": [\"-40\", "
	                      "\"40-80\", \"80-c0\", \"c0-\"], \"vindexes\": "
	                      "{\"xx\": {\"type\": \"xxhash\"}}, \"tables\": {");
	for (size_t i = 0; i < ntables; i++)
		n += (size_t)snprintf(
		    s + n, cap - n,
		    "%s\n\"table_%08zu\": {\"column_vindexes\": [{\"column\": "
		    "\"customer_id\", \"name\": \"xx\"}], \"auto_increment\": "
		    "{\"column\": \"id\", \"sequence\": \"table_00000000\"}}",
		    i ? "," : "", i);
	n += (size_t)snprintf(s + n, cap - n, "}}}}");
	*len = n;
	return s;
}

static void ten_megabyte_document_loads_and_round_trips(void **state)
{
	size_t len, n = 80000;
	char *doc = big_doc(n, &len);
	router_table *t = NULL;
	router_doc_report *r = NULL;
	router_error e;

	(void)state;
	assert_true(len >= 10u << 20);
	assert_int_equal(router_doc_load(doc, len, NULL, &t, &r, &e), ROUTER_OK);
	assert_int_equal(router_table_version(t), 5);
	assert_int_equal(router_doc_report_count(r, ROUTER_DOC_NOTE_IGNORED), n);
	assert_string_equal(route_i64(t, "user", "table_00079999", 3),
	                    expected_shard("xxhash", 3, four, 4));
	assert_round_trip(t);
	router_table_free(t);
	router_doc_report_free(r);
	/* The same document cut short: refused with where it ended. */
	assert_int_equal(router_doc_load(doc, len - 3, NULL, &t, &r, &e),
	                 ROUTER_EDOC);
	assert_true(must(router_doc_report_get(r, 0))->line == (int)n + 1);
	router_doc_report_free(r);
	free(doc);
}

static void document_over_the_size_limit_is_refused_unread(void **state)
{
	router_table *t = NULL;
	router_error e;

	(void)state;
	/* The length is checked before a byte is read. */
	assert_int_equal(router_doc_load("{}", ROUTER_DOC_MAX_SIZE + 1, NULL, &t,
	                                 NULL, &e),
	                 ROUTER_ERANGE);
	assert_null(t);
}

static void names_too_long_are_refused_at_their_path(void **state)
{
	char doc[600], name[200];

	(void)state;
	memset(name, 'k', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	snprintf(doc, sizeof doc, "{\"keyspaces\": {\"%s\": {}}}", name);
	{
		loaded l = load_str(doc);

		assert_int_equal(l.rc, ROUTER_ERANGE);
		/* long keys are abbreviated in paths */
		assert_non_null(strstr(must(router_doc_report_get(l.r, 0))->path,
		                       "...(199 bytes)"));
		unload(&l);
	}
}

static void file_errors_are_io_errors(void **state)
{
	router_table *t = NULL;
	router_doc_report *r = NULL;
	router_error e;

	(void)state;
	assert_int_equal(router_doc_load_file("/nonexistent/x.json", NULL, &t,
	                                      &r, &e),
	                 ROUTER_EIO);
	assert_string_equal(e.culprit, "/nonexistent/x.json");
	assert_null(r);
	assert_int_equal(router_doc_load_file("/", NULL, &t, &r, &e), ROUTER_EIO);
}

typedef struct feeder {
	int fd;
	size_t n;
} feeder;

static void *feed(void *arg)
{
	feeder *f = arg;
	static char spaces[65536];
	size_t done = 0;

	memset(spaces, ' ', sizeof spaces);
	while (done < f->n) {
		size_t k = f->n - done < sizeof spaces ? f->n - done
		                                       : sizeof spaces;
		ssize_t w = write(f->fd, spaces, k);

		if (w <= 0)
			break; /* the reader refused the rest: EPIPE */
		done += (size_t)w;
	}
	close(f->fd);
	return NULL;
}

/* A regular file over the limit is refused from its size, before any
 * memory is taken; a pipe is refused unread. */
static void file_over_the_size_limit_is_refused_without_reading_it(
    void **state)
{
	char path[] = "/tmp/librouter-big-XXXXXX", fdpath[64];
	tu_alloc c = TU_ALLOC_INIT;
	router_allocator al = TU_ALLOCATOR(&c);
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_table *t = NULL;
	router_error e;
	int fd = mkstemp(path), p[2];
	pthread_t th;
	feeder fe;

	(void)state;
	o.allocator = &al;
	assert_true(fd >= 0);
	/* Sparse: no disk and no time. */
	assert_int_equal(ftruncate(fd, (off_t)ROUTER_DOC_MAX_SIZE + 1), 0);
	close(fd);
	assert_int_equal(router_doc_load_file(path, &o, &t, NULL, &e),
	                 ROUTER_ERANGE);
	assert_non_null(strstr(e.message, "larger than"));
	assert_int_equal(c.calls, 0);
	unlink(path);

	/* A pipe is not read at all (it could block or never end): its
	 * content goes to router_doc_load (routerctl's "-"). */
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(p), 0);
	fe.fd = p[1];
	fe.n = ROUTER_DOC_MAX_SIZE + 65536;
	assert_int_equal(pthread_create(&th, NULL, feed, &fe), 0);
	snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", p[0]);
	assert_int_equal(router_doc_load_file(fdpath, &o, &t, NULL, &e),
	                 ROUTER_EIO);
	assert_non_null(strstr(e.message, "a FIFO, not a regular file"));
	close(p[0]);
	pthread_join(th, NULL);
	assert_int_equal(c.calls, 0);
	assert_int_equal(c.live, 0);
	assert_null(t);
}

static void bad_options_are_invalid_arguments(void **state)
{
	static const char *const null_shard[] = {NULL};
	router_doc_shards dup[] = {{"a", two, 2}, {"a", two, 2}};
	router_doc_shards nul[] = {{"a", null_shard, 1}};
	router_doc_shards noname[] = {{"", two, 2}};
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_table *t = NULL;
	router_error e;

	(void)state;
	assert_int_equal(router_doc_load("{}", 2, NULL, NULL, NULL, &e),
	                 ROUTER_EINVAL);
	assert_int_equal(router_doc_load(NULL, 2, NULL, &t, NULL, &e),
	                 ROUTER_EINVAL);
	o.size = 0;
	assert_int_equal(router_doc_load("{}", 2, &o, &t, NULL, &e),
	                 ROUTER_EINVAL);
	o = (router_doc_options)ROUTER_DOC_OPTIONS_INIT;
	o.format = (router_doc_format)9;
	assert_int_equal(router_doc_load("{}", 2, &o, &t, NULL, &e),
	                 ROUTER_EINVAL);
	o = (router_doc_options)ROUTER_DOC_OPTIONS_INIT;
	o.flags = 0x100;
	assert_int_equal(router_doc_load("{}", 2, &o, &t, NULL, &e),
	                 ROUTER_EINVAL);
	o = (router_doc_options)ROUTER_DOC_OPTIONS_INIT;
	o.shards = dup;
	o.nshards = 2;
	assert_int_equal(router_doc_load("{}", 2, &o, &t, NULL, &e),
	                 ROUTER_EINVAL);
	o.shards = nul;
	o.nshards = 1;
	assert_int_equal(router_doc_load("{}", 2, &o, &t, NULL, &e),
	                 ROUTER_EINVAL);
	o.shards = noname;
	assert_int_equal(router_doc_load("{}", 2, &o, &t, NULL, &e),
	                 ROUTER_EINVAL);
	o.shards = NULL;
	assert_int_equal(router_doc_load("{}", 2, &o, &t, NULL, &e),
	                 ROUTER_EINVAL);
	assert_null(t);
	/* report accessors accept NULL */
	assert_int_equal(router_doc_report_count(NULL, 0), 0);
	assert_null(router_doc_report_get(NULL, 0));
	router_doc_report_free(NULL);
}

/* ---- allocation failures ------------------------------------------------ */


static void allocation_failures_fail_cleanly_at_every_step(void **state)
{
	const char *doc =
	    "{\"version\": 3, \"keyspaces\": {\"user\": " USER_KS ", \"bad\": {"
	    "\"sharded\": true, \"shards\": [\"-80\"], \"tables\": {\"x\": {"
	    "\"column_vindexes\": [{\"column\": \"id\", \"name\": \"nope\"}]}}}},"
	    " \"routing_rules\": {\"rules\": [{\"from_table\": \"u\","
	    " \"to_tables\": [\"user.users\"]}]}, \"junk\": 1}";
	const char *good = "{\"version\": 3, \"keyspaces\": {\"user\": " USER_KS
	                   "}, \"routing_rules\": {\"rules\": [{\"from_table\":"
	                   " \"u\", \"to_tables\": [\"user.users\"]}]}}";
	const char *docs[] = {doc, good};

	(void)state;
	for (size_t d = 0; d < 2; d++) {
		int done = 0;

		for (long budget = 0; !done && budget < 100000; budget++) {
			/* every allocation after the budget fails */
			tu_alloc f = {0, budget, 0, 0, 1, 0};
			router_allocator a = TU_ALLOCATOR(&f);
			router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
			router_table *t = NULL;
			router_doc_report *r = NULL;
			router_error e;
			char *text = NULL;
			int rc;

			o.allocator = &a;
			rc = router_doc_load(docs[d], strlen(docs[d]), &o, &t, &r,
			                     &e);
			if (rc == ROUTER_ENOMEM) {
				assert_null(t);
				assert_null(r);
				assert_int_equal(f.live, 0);
				continue;
			}
			assert_int_equal(rc, d == 0 ? ROUTER_EREFERENCE
			                            : ROUTER_OK);
			if (t != NULL) {
				rc = router_doc_dump(t, NULL, 0, &a, &text, NULL,
				                     &e);
				assert_true(rc == ROUTER_OK || rc == ROUTER_ENOMEM);
				if (rc == ROUTER_OK)
					tu_free(&f, text);
				else
					assert_null(text);
				done = rc == ROUTER_OK;
			} else {
				done = 1;
			}
			router_table_free(t);
			router_doc_report_free(r);
			assert_int_equal(f.live, 0);
		}
		assert_true(done);
	}
}

/* ---- writing -------------------------------------------------------------- */

static void rich_document_round_trips(void **state)
{
	loaded l = load_str(
	    "{\"version\": 12, \"keyspaces\": {"
	    "\"user\": {\"sharded\": true, \"shards\": [\"80-\", \"-80\"],"
	    " \"vindexes\": {\"h\": {\"type\": \"hash\"}, \"lk\": {\"type\":"
	    " \"lookup_unique\", \"owner\": \"users\", \"params\": {\"table\":"
	    " \"lk_tbl\", \"from\": \"name\", \"to\": \"id\"}},"
	    " \"mc\": {\"type\": \"multicol\", \"params\": {\"column_count\":"
	    " \"2\", \"column_vindex\": \"hash,binary\"}}},"
	    " \"tables\": {\"users\": {\"column_vindexes\": [{\"column\":"
	    " \"id\", \"name\": \"h\"}, {\"columns\": [\"name\"], \"name\":"
	    " \"lk\"}]}, \"two\": {\"column_vindexes\": [{\"columns\": [\"a\","
	    " \"b\"], \"name\": \"mc\"}]}, \"seq\": {\"type\": \"sequence\","
	    " \"pinned\": \"00\"}, \"ref\": {\"type\": \"reference\"}}},"
	    "\"main\": {\"tables\": {\"product\": {}, \"r\": {\"type\":"
	    " \"reference\"}}},"
	    "\"empty\": {}},"
	    " \"routing_rules\": {\"rules\": ["
	    "{\"from_table\": \"p\", \"to_tables\": [\"main.product\"]},"
	    "{\"from_table\": \"user.old@replica\", \"to_tables\":"
	    " [\"user.users\"]},"
	    "{\"from_table\": \"gone\", \"to_tables\": []}]}}");
	char *text = NULL;
	router_error e;

	(void)state;
	if (l.rc != ROUTER_OK)
		dump_notes(l.r);
	assert_int_equal(l.rc, ROUTER_OK);
	assert_round_trip(l.t);
	assert_int_equal(router_doc_dump(l.t, NULL, ROUTER_DOC_DUMP_COMPACT,
	                                 NULL, &text, NULL, &e),
	                 ROUTER_OK);
	assert_null(strchr(text, '\n'));
	/* partition order, and the disabled rule's empty target list */
	assert_non_null(strstr(text, "\"shards\":[\"-80\",\"80-\"]"));
	assert_non_null(strstr(text, "\"to_tables\":[]"));
	assert_non_null(strstr(text, "\"version\":12"));
	free(text);
	unload(&l);
}

static long g_json_budget = -1, g_json_live;

static void *json_failing_malloc(size_t n)
{
	void *p;

	if (g_json_budget == 0)
		return NULL;
	if (g_json_budget > 0)
		g_json_budget--;
	if ((p = malloc(n)) != NULL)
		g_json_live++;
	return p;
}

static void json_counting_free(void *p)
{
	if (p != NULL)
		g_json_live--;
	free(p);
}

/* jansson fails a name both when it is not UTF-8 and when memory runs
 * out; the dump must tell them apart: every allocation failure inside
 * jansson is ROUTER_ENOMEM (never "not valid UTF-8"), and leaks nothing. */
static void dump_out_of_memory_is_enomem_never_a_document_error(void **state)
{
	loaded l = load_str(
	    "{\"version\": 3, \"keyspaces\": {\"user\": {\"sharded\": true,"
	    " \"shards\": [\"-80\", \"80-\"], \"vindexes\": {\"h\": {\"type\":"
	    " \"hash\"}}, \"tables\": {\"users\": {\"column_vindexes\":"
	    " [{\"column\": \"id\", \"name\": \"h\"}]}}},"
	    " \"main\": {\"tables\": {\"product\": {}}}}}");
	long k, oom = 0;
	int rc = ROUTER_ENOMEM;

	(void)state;
	assert_int_equal(l.rc, ROUTER_OK);
	for (k = 0; rc != ROUTER_OK && k < 10000; k++) {
		char *text = NULL;
		router_error e;

		g_json_budget = k;
		g_json_live = 0;
		json_set_alloc_funcs(json_failing_malloc, json_counting_free);
		rc = router_doc_dump(l.t, NULL, 0, NULL, &text, NULL, &e);
		json_set_alloc_funcs(malloc, free);
		if (rc == ROUTER_ENOMEM)
			oom++;
		else
			assert_int_equal(rc, ROUTER_OK);
		assert_int_equal(g_json_live, 0);
		free(text);
	}
	assert_int_equal(rc, ROUTER_OK);
	assert_true(oom > 10); /* every step of the dump was made to fail */
	unload(&l);
}

static void keyspace_dump_is_a_vschema_for_apply(void **state)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	loaded l = load_str("{\"version\": 4, \"keyspaces\": {\"user\": " USER_KS
	                    ", \"other\": {}}}");
	router_table *t2 = NULL;
	char *text = NULL;
	router_error e;

	(void)state;
	assert_int_equal(l.rc, ROUTER_OK);
	assert_int_equal(router_doc_dump(l.t, "user", 0, NULL, &text, NULL, &e),
	                 ROUTER_OK);
	assert_null(strstr(text, "keyspaces"));
	assert_null(strstr(text, "other"));
	o.keyspace = "user";
	assert_int_equal(router_doc_load(text, strlen(text), &o, &t2, NULL, &e),
	                 ROUTER_OK);
	assert_int_equal(router_table_version(t2), 4);
	assert_string_equal(route_i64(t2, "user", "users", 5),
	                    route_i64(l.t, "user", "users", 5));
	free(text);
	router_table_free(t2);
	assert_int_equal(router_doc_dump(l.t, "nosuch", 0, NULL, &text, NULL,
	                                 &e),
	                 ROUTER_ENOTFOUND);
	assert_null(text);
	unload(&l);
}

static void vitess_dump_leaves_out_librouter_fields(void **state)
{
	loaded l = load_str("{\"version\": 4, \"keyspaces\": {\"user\": " USER_KS
	                    "}}");
	char *text = NULL;
	router_error e;

	(void)state;
	assert_int_equal(router_doc_dump(l.t, NULL, ROUTER_DOC_DUMP_VITESS, NULL,
	                                 &text, NULL, &e),
	                 ROUTER_OK);
	assert_null(strstr(text, "version"));
	assert_null(strstr(text, "shards"));
	assert_non_null(strstr(text, "\"sharded\": true"));
	free(text);
	assert_int_equal(router_doc_dump(l.t, NULL, 0x80, NULL, &text, NULL, &e),
	                 ROUTER_EINVAL);
	assert_int_equal(router_doc_dump(NULL, NULL, 0, NULL, &text, NULL, &e),
	                 ROUTER_EINVAL);
	unload(&l);
}

static void table_with_a_non_utf8_name_cannot_be_dumped(void **state)
{
	router_builder *b;
	router_table *t = NULL;
	router_error e;
	char *text = NULL;

	(void)state;
	assert_int_equal(router_builder_create(&b, NULL, &e), ROUTER_OK);
	assert_int_equal(router_builder_add_keyspace(b, "bad\xff", 0, &e),
	                 ROUTER_OK);
	assert_int_equal(router_table_build(b, &t, &e), ROUTER_OK);
	assert_int_equal(router_doc_dump(t, NULL, 0, NULL, &text, NULL, &e),
	                 ROUTER_EDOC);
	assert_null(text);
	assert_non_null(strstr(e.message, "UTF-8"));
	router_table_free(t);
	router_builder_free(b);
}

/* ---- with the router ------------------------------------------------------ */

static void incident_empty_vschema_loads_but_publish_refuses_it(void **state)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router *r;
	router_error e;
	loaded cur = load_str("{\"keyspaces\": {\"user\": " USER_KS "}}");
	loaded empty;

	(void)state;
	o.keyspace = "user";
	empty = load_opt("{}", &o); /* what the v22 rollback wrote */
	assert_int_equal(cur.rc, ROUTER_OK);
	assert_int_equal(empty.rc, ROUTER_OK);
	assert_int_equal(router_create(&r, NULL, &e), ROUTER_OK);
	assert_int_equal(router_publish(r, cur.t, 0, NULL, &e), ROUTER_OK);
	cur.t = NULL;
	assert_int_equal(router_publish(r, empty.t, 0, NULL, &e), ROUTER_EEMPTY);
	assert_string_equal(e.culprit, "user");
	unload(&cur);
	unload(&empty);
	router_free(r);
}

/* ---- introspection for the tools ------------------------------------------ */

static void moved_share_measures_the_keyspace_id_space_that_moves(void **state)
{
	static const char *const three[] = {"-80", "80-c0", "c0-"};
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_doc_shards s2 = {"user", two, 2}, s3 = {"user", three, 3},
	                  s4 = {"user", four, 4};
	loaded a, b, c, u;
	double share = -1;

	(void)state;
	o.nshards = 1;
	o.shards = &s2;
	a = load_opt("{\"user\": " USER_KS "}", &o);
	o.shards = &s3;
	b = load_opt("{\"user\": " USER_KS "}", &o);
	o.shards = &s4;
	c = load_opt("{\"user\": " USER_KS "}", &o);
	u = load_str("{\"user\": {}}");
	assert_int_equal(router_doc_moved_share(a.t, a.t, "user", &share, NULL),
	                 ROUTER_OK);
	assert_true(share == 0.0);
	assert_int_equal(router_doc_moved_share(a.t, b.t, "user", &share, NULL),
	                 ROUTER_OK);
	assert_true(share == 0.5);
	assert_int_equal(router_doc_moved_share(b.t, c.t, "user", &share, NULL),
	                 ROUTER_OK);
	assert_true(share == 0.5);
	/* 2 -> 4: every keyspace ID lands on a shard of another name */
	assert_int_equal(router_doc_moved_share(a.t, c.t, "user", &share, NULL),
	                 ROUTER_OK);
	assert_true(share == 1.0);
	assert_int_equal(router_doc_moved_share(a.t, u.t, "user", &share, NULL),
	                 ROUTER_OK);
	assert_true(share == 1.0);
	assert_int_equal(
	    router_doc_moved_share(a.t, b.t, "nosuch", &share, NULL),
	    ROUTER_ENOTFOUND);
	unload(&a);
	unload(&b);
	unload(&c);
	unload(&u);
}

static void primary_vindex_is_resolved_like_a_lookup(void **state)
{
	loaded l = load_str(
	    "{\"keyspaces\": {\"user\": " USER_KS ", \"main\": {}},"
	    " \"routing_rules\": {\"rules\": [{\"from_table\": \"main.u\","
	    " \"to_tables\": [\"user.users\"]}]}}");
	const char *name, *type;

	(void)state;
	assert_int_equal(router_doc_primary_vindex(l.t, "main", 4, "u", 1,
	                                           &name, &type, NULL),
	                 ROUTER_OK);
	assert_string_equal(name, "hash");
	assert_string_equal(type, "hash");
	assert_int_equal(router_doc_primary_vindex(l.t, "main", 4, "p", 1,
	                                           &name, &type, NULL),
	                 ROUTER_OK);
	assert_null(name);
	assert_int_equal(router_doc_primary_vindex(l.t, "user", 4, "zz", 2,
	                                           &name, &type, NULL),
	                 ROUTER_ENOTFOUND);
	unload(&l);
}

static void inspection_of_a_missing_table_or_name_is_empty_or_einval(
    void **state)
{
	loaded l = load_str("{\"user\": " USER_KS "}");
	const char *name = "x", *type = "x";
	double share = -1;
	router_error e;

	(void)state;
	assert_int_equal(router_doc_keyspace_count(NULL), 0);
	assert_null(router_doc_keyspace_name(NULL, 0));
	assert_null(router_doc_keyspace_name(l.t, 1));
	assert_int_equal(router_doc_shard_count(NULL, "user"), 0);
	assert_int_equal(router_doc_shard_count(l.t, NULL), 0);
	assert_int_equal(router_doc_shard_count(l.t, "nosuch"), 0);
	assert_null(router_doc_shard_name(l.t, NULL, 0));
	assert_null(router_doc_shard_name(l.t, "user", 99));
	assert_int_equal(router_doc_primary_vindex(NULL, "user", 4, "users", 5,
	                                           &name, &type, &e),
	                 ROUTER_EINVAL);
	assert_int_equal(e.code, ROUTER_EINVAL);
	assert_null(name);
	assert_null(type);
	assert_int_equal(router_doc_primary_vindex(l.t, NULL, 4, "users", 5,
	                                           &name, &type, NULL),
	                 ROUTER_EINVAL);
	assert_int_equal(router_doc_primary_vindex(l.t, "user", 4, "users", 5,
	                                           NULL, &type, NULL),
	                 ROUTER_EINVAL);
	assert_int_equal(router_doc_moved_share(l.t, NULL, "user", &share, &e),
	                 ROUTER_EINVAL);
	assert_true(share == 0.0);
	assert_int_equal(router_doc_moved_share(l.t, l.t, NULL, &share, NULL),
	                 ROUTER_EINVAL);
	assert_int_equal(router_doc_moved_share(l.t, l.t, "user", NULL, NULL),
	                 ROUTER_EINVAL);
	unload(&l);
}

static void options_version_overrides_the_documents(void **state)
{
	const char *doc = "{\"version\": 7, \"keyspaces\": {\"user\": " USER_KS
	                  "}}";
	router_doc_options opt = ROUTER_DOC_OPTIONS_INIT;
	router_table *t = NULL;
	router_error e;

	(void)state;
	assert_int_equal(router_doc_load(doc, strlen(doc), &opt, &t, NULL, &e),
	                 ROUTER_OK);
	assert_int_equal(router_table_version(t), 7);
	router_table_free(t);
	opt.version = 12;
	assert_int_equal(router_doc_load(doc, strlen(doc), &opt, &t, NULL, &e),
	                 ROUTER_OK);
	assert_int_equal(router_table_version(t), 12);
	router_table_free(t);
}

/* ---- files a document names (json_path) and file types ------------------ */

#include <fcntl.h>
#include <sys/stat.h>

/* A test that would block forever on the old code fails instead. */
static void watchdog(unsigned seconds)
{
	signal(SIGALRM, SIG_DFL);
	alarm(seconds);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

#define NSM_KS(PARAM)                                                        \
	"{\"keyspaces\": {\"m\": {\"sharded\": true, \"shards\": [\"-80\", "   \
	"\"80-\"], \"vindexes\": {\"nsm\": {\"type\": \"numeric_static_map\", " \
	"\"params\": {" PARAM "}}}, \"tables\": {\"t\": {\"column_vindexes\": " \
	"[{\"column\": \"id\", \"name\": \"nsm\"}]}}}}}"

/* 1 -> 0xf000000000000000, on shard 80- (the identity keeps it on -80). */
#define NSM_MAP "{\"1\": 17293822569102704640}"

static int no_note_contains(const router_doc_report *r, const char *s)
{
	const router_doc_note *n;

	for (size_t i = 0; (n = router_doc_report_get(r, i)) != NULL; i++)
		if (strstr(n->error.message, s) != NULL ||
		    strstr(n->error.culprit, s) != NULL)
			return 0;
	return 1;
}

/* A FIFO given as the document file or named by json_path was opened
 * with fopen, which waits for a writer forever (routerctl validate hung,
 * and a binding held its interpreter lock).  Both are refused at once. */
/* The verdict a refusal-era assertion reads: a load whose problems are
 * all a keyspace Vitess fails now loads with the keyspace in error; then
 * the first keyspace note's code and message go into *e, the table is
 * freed (*tp NULL) and v_kind is ROUTER_DOC_NOTE_KEYSPACE, as if
 * refused.  Otherwise the load's own verdict, v_kind ERROR. */
static router_doc_note_kind v_kind = ROUTER_DOC_NOTE_ERROR;

static int v_verdict(int rc, router_table **tp, router_doc_report *r,
                     router_error *e)
{
	const router_doc_note *n;

	v_kind = ROUTER_DOC_NOTE_ERROR;
	for (size_t i = 0; rc == ROUTER_OK &&
	                   (n = router_doc_report_get(r, i)) != NULL;
	     i++)
		if (n->kind == ROUTER_DOC_NOTE_KEYSPACE) {
			*e = n->error;
			router_table_free(*tp);
			*tp = NULL;
			v_kind = ROUTER_DOC_NOTE_KEYSPACE;
			return n->error.code;
		}
	return rc;
}

static int v_load_file(const char *path, const router_doc_options *o,
                       router_table **tp, router_doc_report **rp,
                       router_error *e)
{
	router_doc_report *r = NULL;
	int rc = router_doc_load_file(path, o, tp, &r, e);

	rc = v_verdict(rc, tp, r, e);

	if (rp != NULL)
		*rp = r;
	else
		router_doc_report_free(r);
	return rc;
}

static int v_load(const char *json, size_t len, const router_doc_options *o,
                  router_table **tp, router_doc_report **rp, router_error *e)
{
	router_doc_report *r = NULL;
	int rc = router_doc_load(json, len, o, tp, &r, e);

	rc = v_verdict(rc, tp, r, e);

	if (rp != NULL)
		*rp = r;
	else
		router_doc_report_free(r);
	return rc;
}

static void fifo_is_refused_without_blocking(void **state)
{
	char dir[] = "/tmp/librouter-fifo-XXXXXX", fifo[128], doc[128];
	char param[256], json[1024];
	router_builder *b = NULL;
	router_table *t = NULL;
	router_doc_report *r = NULL;
	router_error e;
	router_param p;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof fifo, "%s/map.json", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	watchdog(20);

	assert_int_equal(v_load_file(fifo, NULL, &t, &r, &e),
	                 ROUTER_EIO);
	assert_non_null(strstr(e.message, "FIFO"));
	assert_string_equal(e.culprit, fifo);
	assert_null(t);

	/* The builder, given json_path directly. */
	p = (router_param){"json_path", fifo};
	assert_int_equal(router_builder_create(&b, NULL, &e), ROUTER_OK);
	assert_int_equal(router_builder_add_keyspace(b, "m", 1, &e), ROUTER_OK);
	assert_int_equal(router_builder_add_shard(b, "m", "-", &e), ROUTER_OK);
	assert_int_equal(router_builder_add_vindex(b, "m", "nsm",
	                                           "numeric_static_map", &p, 1,
	                                           NULL, &e),
	                 ROUTER_OK);
	assert_int_equal(router_table_build(b, &t, &e), ROUTER_EREFERENCE);
	assert_non_null(strstr(e.message, "FIFO"));
	router_builder_free(b);

	/* A document file naming it, relative to its directory. */
	snprintf(param, sizeof param, "\"json_path\": \"map.json\"");
	snprintf(json, sizeof json, NSM_KS("%s"), param);
	snprintf(doc, sizeof doc, "%s/doc.json", dir);
	write_text(doc, json);
	assert_int_equal(v_load_file(doc, NULL, &t, &r, &e),
	                 ROUTER_EREFERENCE);
	assert_non_null(strstr(e.message, "a FIFO, not a regular file"));
	assert_non_null(must(note_at(r, v_kind,
	                             "keyspaces.m.vindexes.nsm.params."
	                             "json_path")));
	router_doc_report_free(r);
	r = NULL;

	/* A character device: /dev/zero was read to the 64 MiB limit. */
	assert_int_equal(v_load_file("/dev/zero", NULL, &t, &r, &e),
	                 ROUTER_EIO);
	assert_non_null(strstr(e.message, "character device"));
	alarm(0);
	unlink(doc);
	unlink(fifo);
	rmdir(dir);
}

/* A document from memory (a buffer: what an etcd follower or a binding
 * loads) named a local file and had it read, and quoted the file in its
 * error ("invalid token near 'root'").  Now json_path is refused there
 * without the file being opened, and never quoted. */
static void document_from_memory_reads_no_file(void **state)
{
	char path[] = "/tmp/librouter-secret-XXXXXX", param[128], json[1024];
	int fd = mkstemp(path);
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_table *t = NULL;
	router_doc_report *r = NULL;
	router_error e;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "root:SECRETHASH:1:0\n", 20), 20);
	close(fd);
	snprintf(param, sizeof param, "\"json_path\": \"%s\"", path);
	snprintf(json, sizeof json, NSM_KS("%s"), param);

	assert_int_equal(v_load(json, strlen(json), NULL, &t, &r, &e),
	                 ROUTER_EDOC);
	assert_non_null(strstr(e.message, "json_path"));
	assert_non_null(strstr(e.message, "inline"));
	assert_null(strstr(e.message, "SECRET"));
	assert_null(strstr(e.message, "root"));
	assert_true(no_note_contains(r, "SECRET"));
	assert_non_null(must(note_at(r, v_kind,
	                             "keyspaces.m.vindexes.nsm.params."
	                             "json_path")));
	router_doc_report_free(r);

	/* /dev/zero: refused unopened, not read (64 MiB per revision). */
	snprintf(json, sizeof json, NSM_KS("\"json_path\": \"/dev/zero\""));
	assert_int_equal(v_load(json, strlen(json), NULL, &t, NULL, &e),
	                 ROUTER_EDOC);

	/* ROUTER_DOC_NO_FILES wins over json_path_dir. */
	o.json_path_dir = "/tmp";
	o.flags = ROUTER_DOC_NO_FILES;
	snprintf(param, sizeof param, "\"json_path\": \"%s\"", path + 5);
	snprintf(json, sizeof json, NSM_KS("%s"), param);
	assert_int_equal(v_load(json, strlen(json), &o, &t, NULL, &e),
	                 ROUTER_EDOC);
	assert_null(strstr(e.message, "SECRET"));
	/* With json_path_dir, the file is read and (not a map) refused
	 * without quoting it. */
	o.flags = 0;
	assert_int_equal(v_load(json, strlen(json), &o, &t, &r, &e),
	                 ROUTER_EREFERENCE);
	assert_non_null(strstr(e.message, "not a numeric_static_map table"));
	assert_true(no_note_contains(r, "SECRET"));
	assert_true(no_note_contains(r, "root"));
	router_doc_report_free(r);
	/* Inline maps need no file. */
	snprintf(json, sizeof json, NSM_KS("\"json\": \"{\\\"1\\\": "
	                                   "17293822569102704640}\""));
	assert_int_equal(v_load(json, strlen(json), NULL, &t, NULL, &e),
	                 ROUTER_OK);
	assert_string_equal(route_i64(t, "m", "t", 1), "80-");
	router_table_free(t);
	unlink(path);
}

/* A document file names its map relative to its own directory; the map is
 * inlined into the table, so the dump loads from memory (no file) with the
 * same hash.  Absolute paths, ".." and symbolic links are refused. */
static void document_file_reads_maps_below_its_directory(void **state)
{
	char dir[] = "/tmp/librouter-maps-XXXXXX", sub[128], map[128];
	char doc[128], link[128], outside[] = "/tmp/librouter-out-XXXXXX";
	char json[1024], *text = NULL;
	static const char *const bad[] = {"../x.json", "maps/../../x.json",
	                                  NULL, "link.json", "lnk/m.json"};
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_table *t = NULL, *back = NULL;
	router_doc_report *r = NULL;
	router_error e;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof sub, "%s/maps", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(map, sizeof map, "%s/maps/m.json", dir);
	write_text(map, NSM_MAP);
	snprintf(doc, sizeof doc, "%s/doc.json", dir);
	write_text(doc, NSM_KS("\"json_path\": \"maps/m.json\""));

	assert_int_equal(v_load_file(doc, NULL, &t, NULL, &e),
	                 ROUTER_OK);
	assert_string_equal(route_i64(t, "m", "t", 1), "80-");
	assert_int_equal(router_doc_dump(t, NULL, ROUTER_DOC_DUMP_COMPACT, NULL,
	                                 &text, NULL, &e),
	                 ROUTER_OK);
	assert_null(strstr(text, "json_path"));
	assert_int_equal(router_doc_load(text, strlen(text), NULL, &back, NULL,
	                                 &e),
	                 ROUTER_OK);
	assert_true(router_table_hash(back) == router_table_hash(t));
	free(text);
	router_table_free(back);
	router_table_free(t);

	/* json_path_dir names another directory. */
	o.json_path_dir = sub;
	snprintf(json, sizeof json, NSM_KS("\"json_path\": \"./m.json\""));
	assert_int_equal(v_load(json, strlen(json), &o, &t, NULL, &e),
	                 ROUTER_OK);
	router_table_free(t);

	/* Outside the directory: a valid map, never read. */
	fd = mkstemp(outside);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, NSM_MAP, strlen(NSM_MAP)),
	                 (ssize_t)strlen(NSM_MAP));
	close(fd);
	snprintf(link, sizeof link, "%s/link.json", dir);
	assert_int_equal(symlink(outside, link), 0);
	snprintf(link, sizeof link, "%s/lnk", dir);
	assert_int_equal(symlink(sub, link), 0);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char param[256];

		snprintf(param, sizeof param, "\"json_path\": \"%s\"",
		         bad[i] != NULL ? bad[i] : outside);
		snprintf(json, sizeof json, NSM_KS("%s"), param);
		write_text(doc, json);
		assert_int_equal(v_load_file(doc, NULL, &t, &r, &e),
		                 ROUTER_EDOC);
		assert_non_null(strstr(e.message, "json_path"));
		assert_non_null(must(note_at(r, v_kind,
		                             "keyspaces.m.vindexes.nsm.params."
		                             "json_path")));
		router_doc_report_free(r);
		r = NULL;
	}
	/* A missing file, a directory. */
	write_text(doc, NSM_KS("\"json_path\": \"nope.json\""));
	assert_int_equal(v_load_file(doc, NULL, &t, NULL, &e),
	                 ROUTER_EREFERENCE);
	assert_non_null(strstr(e.message, "No such file"));
	write_text(doc, NSM_KS("\"json_path\": \"maps\""));
	assert_int_equal(v_load_file(doc, NULL, &t, NULL, &e),
	                 ROUTER_EREFERENCE);
	assert_non_null(strstr(e.message, "directory"));

	unlink(link);
	snprintf(link, sizeof link, "%s/link.json", dir);
	unlink(link);
	unlink(outside);
	unlink(doc);
	unlink(map);
	rmdir(sub);
	rmdir(dir);
}

/* Names are C strings: a control character in one was accepted (and
 * printed raw in messages); NUL is a syntax error already (jansson). */
static void names_with_control_characters_are_refused(void **state)
{
	static const struct {
		const char *doc, *path;
	} cases[] = {
	    {"{\"keyspaces\": {\"u\\u0001\": {}}}", "keyspaces[\"u\\u0001\"]"},
	    {"{\"keyspaces\": {\"u\": {\"tables\": {\"t\\u001f\": {}}}}}",
	     "keyspaces.u.tables[\"t\\u001f\"]"},
	    {"{\"keyspaces\": {\"u\": {\"vindexes\": {\"v\\u007f\": "
	     "{\"type\": \"hash\"}}}}}",
	     "keyspaces.u.vindexes[\"v\\u007f\"]"},
	    {"{\"keyspaces\": {\"u\": {\"sharded\": true, \"shards\": "
	     "[\"-80\", \"80-\"], \"vindexes\": {\"h\": {\"type\": \"hash\"}}, "
	     "\"tables\": {\"t\": {\"column_vindexes\": [{\"column\": "
	     "\"i\\nd\", \"name\": \"h\"}]}}}}}",
	     "keyspaces.u.tables.t.column_vindexes[0].column"},
	    {"{\"keyspaces\": {\"u\": {}}, \"routing_rules\": {\"rules\": "
	     "[{\"from_table\": \"x\\t\", \"to_tables\": [\"u.x\"]}]}}",
	     "routing_rules.rules[0].from_table"},
	};
	router_table *t = NULL;
	router_doc_report *r = NULL;
	router_error e;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const router_doc_note *n;

		assert_int_equal(router_doc_load(cases[i].doc,
		                                 strlen(cases[i].doc), NULL, &t,
		                                 &r, &e),
		                 ROUTER_EDOC);
		n = note_at(r, ROUTER_DOC_NOTE_ERROR, cases[i].path);
		if (n == NULL) {
			dump_notes(r);
			fail_msg("case %zu: no error at its path", i);
		}
		assert_non_null(strstr(n->error.message, "control character"));
		router_doc_report_free(r);
		r = NULL;
	}
	/* JSON "\u0000" in a name. */
	{
		const char *nul = "{\"keyspaces\": {\"u\\u0000\": {}}}";

		assert_int_equal(router_doc_load(nul, strlen(nul), NULL, &t,
		                                 NULL, &e),
		                 ROUTER_EDOC);
	}
	assert_non_null(strstr(e.message, "NUL"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_example_loads_with_its_shards),
	    cmocka_unit_test(options_version_overrides_the_documents),
	    cmocka_unit_test(example_without_shards_is_refused_naming_the_keyspace),
	    cmocka_unit_test(three_shapes_give_the_same_table),
	    cmocka_unit_test(explicit_formats_override_detection),
	    cmocka_unit_test(camel_case_fields_load_like_snake_case),
	    cmocka_unit_test(field_given_in_both_spellings_is_refused),
	    cmocka_unit_test(single_keyspace_document_needs_its_name),
	    cmocka_unit_test(
	        empty_document_with_a_keyspace_name_is_that_keyspace_emptied),
	    cmocka_unit_test(unsharded_keyspace_routes_every_table_to_shard_0),
	    cmocka_unit_test(version_is_read_from_the_top_level),
	    cmocka_unit_test(supplied_shards_replace_the_documents),
	    cmocka_unit_test(supplied_shards_for_an_absent_keyspace_are_not_found),
	    cmocka_unit_test(bad_supplied_shard_is_reported_with_its_origin),
	    cmocka_unit_test(shards_that_leave_a_gap_are_refused_as_coverage),
	    cmocka_unit_test(dangling_vindex_is_reported_once_at_its_json_path),
	    cmocka_unit_test(every_problem_is_reported_in_one_load),
	    cmocka_unit_test(same_problem_in_two_keyspaces_is_reported_twice),
	    cmocka_unit_test(
	        thousands_of_problems_are_each_reported_once_at_their_path),
	    cmocka_unit_test(
	        thousands_of_keyspaces_in_error_each_keep_their_error),
	    cmocka_unit_test(vitess_column_rules_are_enforced),
	    cmocka_unit_test(unknown_fields_are_warnings_with_a_suggestion),
	    cmocka_unit_test(
	        unknown_vindex_params_are_warnings_as_vitess_lists_them),
	    cmocka_unit_test(fields_that_do_not_route_are_reported_as_ignored),
	    cmocka_unit_test(syntax_error_names_line_and_column),
	    cmocka_unit_test(every_truncation_of_a_document_is_refused),
	    cmocka_unit_test(wrong_types_are_refused_at_their_path),
	    cmocka_unit_test(top_level_must_be_an_object),
	    cmocka_unit_test(duplicate_keys_are_refused),
	    cmocka_unit_test(huge_numbers_are_refused_or_read_exactly),
	    cmocka_unit_test(deep_nesting_is_refused_without_recursion),
	    cmocka_unit_test(ten_megabyte_document_loads_and_round_trips),
	    cmocka_unit_test(document_over_the_size_limit_is_refused_unread),
	    cmocka_unit_test(names_too_long_are_refused_at_their_path),
	    cmocka_unit_test(file_errors_are_io_errors),
	    cmocka_unit_test(
	        file_over_the_size_limit_is_refused_without_reading_it),
	    cmocka_unit_test(bad_options_are_invalid_arguments),
	    cmocka_unit_test(allocation_failures_fail_cleanly_at_every_step),
	    cmocka_unit_test(rich_document_round_trips),
	    cmocka_unit_test(
	        dump_out_of_memory_is_enomem_never_a_document_error),
	    cmocka_unit_test(keyspace_dump_is_a_vschema_for_apply),
	    cmocka_unit_test(vitess_dump_leaves_out_librouter_fields),
	    cmocka_unit_test(table_with_a_non_utf8_name_cannot_be_dumped),
	    cmocka_unit_test(incident_empty_vschema_loads_but_publish_refuses_it),
	    cmocka_unit_test(moved_share_measures_the_keyspace_id_space_that_moves),
	    cmocka_unit_test(primary_vindex_is_resolved_like_a_lookup),
	    cmocka_unit_test(
	        inspection_of_a_missing_table_or_name_is_empty_or_einval),
	    cmocka_unit_test(fifo_is_refused_without_blocking),
	    cmocka_unit_test(document_from_memory_reads_no_file),
	    cmocka_unit_test(document_file_reads_maps_below_its_directory),
	    cmocka_unit_test(names_with_control_characters_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
