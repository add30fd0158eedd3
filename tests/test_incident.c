/*
 * The January 2026 incident, end to end, from documents.
 *
 * In service: the Vitess example's keyspaces, "commerce" (unsharded) and
 * "customer" (sharded -80,80-, xxhash), as a SrvVSchema.  The failed
 * MoveTables is rolled back by writing an empty VSchema `{}` over
 * "customer"; the next morning a reconciliation pushes the same roll-up
 * again with a newer version.  The router must refuse both, keep routing
 * every key to the shard it had, count and report the refusals, and the
 * document it exports must repair the source of truth.
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
#include "testutil.h"

#define NKEYS 2000

static char *read_text(const char *path)
{
	return tu_read_file(path, NULL);
}

/* The SrvVSchema in service: commerce (with the sequences customer's
 * auto_increment names, as the example's step 201 leaves it) + customer,
 * with the shards. */
static char *srv_vschema(uint64_t version, const char *customer)
{
	char path[512], *commerce, *out;
	size_t n;

	snprintf(path, sizeof path, "%s/examples/commerce_seq.json",
	         tu_data_dir());
	commerce = read_text(path);
	n = strlen(commerce) + strlen(customer) + 256;
	out = malloc(n);
	assert_non_null(out);
	snprintf(out, n,
	         "{\"version\": %llu, \"keyspaces\": {\"commerce\": %s, "
	         "\"customer\": %s}}",
	         (unsigned long long)version, commerce, customer);
	free(commerce);
	return out;
}

/* Load a document; with_shards supplies customer's shards as the caller
 * would from Vitess's SrvKeyspace. */
static router_table *load_with(const char *doc, int with_shards,
                               router_error *e)
{
	static const char *const shards[] = {"-80", "80-"};
	router_doc_shards sh = {"customer", shards, 2};
	router_doc_options opt = ROUTER_DOC_OPTIONS_INIT;
	router_table *t = NULL;
	int rc;

	if (with_shards) {
		opt.shards = &sh;
		opt.nshards = 1;
	}
	rc = router_doc_load(doc, strlen(doc), &opt, &t, NULL, e);
	if (rc != ROUTER_OK)
		fail_msg("load: %s: %s", e->culprit, e->message);
	return t;
}

static router_table *load(const char *doc, router_error *e)
{
	return load_with(doc, 1, e);
}

typedef struct alerts {
	int refused;
	int last_code;
	char last_culprit[ROUTER_CULPRIT_MAX];
} alerts;

static void on_event(void *arg, const router_event *ev)
{
	alerts *a = arg;

	if (ev->kind == ROUTER_EVENT_PUBLISH && ev->code != ROUTER_OK) {
		a->refused++;
		a->last_code = ev->code;
		snprintf(a->last_culprit, sizeof a->last_culprit, "%s",
		         ev->error->culprit);
	}
}

static void route_all(router *r, const char **out)
{
	router_route_result res;
	int64_t k;

	for (k = 0; k < NKEYS; k++) {
		router_value v = ROUTER_VALUE_INT64(k);

		assert_int_equal(router_route(r, "customer", 8, "corder", 6, &v,
		                              1, &res, NULL),
		                 ROUTER_OK);
		out[k] = res.shard; /* interned: stable for the router */
	}
}

static int dump_in_service(void *arg, const router_table *t)
{
	router_error e;

	return router_doc_dump(t, NULL, 0, NULL, (char **)arg, NULL, &e);
}

static void the_january_2026_empty_vschema_is_refused_twice_and_repaired(
    void **state)
{
	router_options o = ROUTER_OPTIONS_INIT;
	static const char *before[NKEYS], *after[NKEYS];
	char path[512], *customer, *good, *empty1, *empty2, *exported = NULL;
	router_table *t;
	router_stats st;
	router_error e;
	alerts a;
	router *r;
	uint64_t hash;
	int k, moved = 0;

	(void)state;
	memset(&a, 0, sizeof a);
	o.on_event = on_event;
	o.on_event_arg = &a;
	assert_int_equal(router_create(&r, &o, &e), ROUTER_OK);
	snprintf(path, sizeof path, "%s/examples/customer_sharded.json",
	         tu_data_dir());
	customer = read_text(path);
	good = srv_vschema(41, customer);
	assert_int_equal(router_publish(r, load(good, &e), 0, NULL, &e),
	                 ROUTER_OK);
	hash = router_content_hash(r);
	route_all(r, before);
	for (k = 0; k < NKEYS; k++)
		moved += strcmp(before[k], before[0]) != 0;
	assert_true(moved > 0); /* both shards are used */

	/* The MoveTables rollback writes `{}` over customer (version 42).
	 * Given with the two shards the topology still has, the document is
	 * already inconsistent (an unsharded keyspace on two shards) and
	 * never builds. */
	empty1 = srv_vschema(42, "{}");
	{
		static const char *const shards[] = {"-80", "80-"};
		router_doc_shards sh = {"customer", shards, 2};
		router_doc_options opt = ROUTER_DOC_OPTIONS_INIT;

		opt.shards = &sh;
		opt.nshards = 1;
		assert_int_equal(router_doc_load(empty1, strlen(empty1), &opt,
		                                 &t, NULL, &e),
		                 ROUTER_ECOVERAGE);
		assert_null(t);
		assert_non_null(strstr(e.message, "customer"));
	}
	/* As Vitess itself holds it (no shard list), it is a valid VSchema:
	 * it loads and builds, and only the comparison with the table in
	 * service shows the disaster. */
	t = load_with(empty1, 0, &e);
	assert_int_equal(router_publish(r, t, 0, NULL, &e), ROUTER_EEMPTY);
	assert_string_equal(e.culprit, "customer");
	assert_non_null(strstr(e.message, "January 2026"));
	router_table_free(t);

	/* The next morning's reconciliation pushes it again, newer. */
	empty2 = srv_vschema(43, "{}");
	t = load_with(empty2, 0, &e);
	assert_int_equal(router_publish(r, t, 0, NULL, &e), ROUTER_EEMPTY);
	router_table_free(t);

	/* Still serving version 41, every key on the shard it had. */
	assert_int_equal(router_serving_version(r), 41);
	assert_int_equal(router_content_hash(r), hash);
	route_all(r, after);
	for (k = 0; k < NKEYS; k++)
		assert_ptr_equal(after[k], before[k]);

	/* Counted and reported. */
	router_stats_get(r, &st, sizeof st);
	assert_int_equal(st.refused, 2);
	assert_int_equal(router_stats_refused(r, ROUTER_EEMPTY), 2);
	assert_int_equal(a.refused, 2);
	assert_int_equal(a.last_code, ROUTER_EEMPTY);
	assert_string_equal(a.last_culprit, "customer");

	/* Export the table in service: it repairs the source of truth. */
	assert_int_equal(router_inspect(r, dump_in_service, &exported),
	                 ROUTER_OK);
	assert_non_null(exported);
	t = load(exported, &e);
	assert_int_equal(router_table_hash(t), hash);
	assert_int_equal(router_table_version(t), 41);
	router_table_free(t);
	/* The repaired source, under a version past the refused ones,
	 * publishes normally and changes no route. */
	free(good);
	good = srv_vschema(44, customer);
	t = load(good, &e);
	assert_int_equal(router_publish(r, t, 0, NULL, &e), ROUTER_OK);
	assert_int_equal(router_content_hash(r), hash);
	route_all(r, after);
	for (k = 0; k < NKEYS; k++)
		assert_ptr_equal(after[k], before[k]);
	free(exported);
	free(customer);
	free(good);
	free(empty1);
	free(empty2);
	router_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        the_january_2026_empty_vschema_is_refused_twice_and_repaired),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
