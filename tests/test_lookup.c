/*
 * Lookup vindex tests: every Vitess case of tests/data/vectors_lookup.json
 * that concerns building the vindex (params) or Map (the query and how
 * rows become keyspace IDs), then the public halves on a table.
 */
#include <inttypes.h>
#include <stdint.h>

#include "testutil.h"

#include "core/internal.h"
#include "router.h"

#define MAXP 16

/* The types an entry applies to: applies_to, or the one vindex_type. */
static size_t entry_types(json_t *e, const char **out, size_t cap)
{
	json_t *at = json_object_get(e, "applies_to");
	size_t n = 0, i;
	json_t *x;

	if (json_is_array(at)) {
		json_array_foreach(at, i, x) if (n < cap) out[n++] =
		    json_string_value(x);
		return n;
	}
	out[0] = json_string_value(json_object_get(e, "vindex_type"));
	return out[0] != NULL;
}

static size_t entry_params(json_t *e, router_param *p)
{
	json_t *ps = json_object_get(e, "params");
	const char *k;
	json_t *v;
	size_t n = 0;

	if (!json_is_object(ps))
		return 0;
	json_object_foreach(ps, k, v)
	{
		assert_true(n < MAXP);
		p[n].key = k;
		p[n].value = json_string_value(v);
		n++;
	}
	return n;
}

/* ---- CreateVindex: params ------------------------------------------------ */

static void create_vindex_vectors_match_vitess(void **state)
{
	json_t *root = tu_load_json("vectors_lookup.json");
	json_t *all = json_object_get(root, "lookup"), *e;
	size_t i, cases = 0;

	(void)state;
	json_array_foreach(all, i, e)
	{
		const char *api = json_string_value(json_object_get(e, "api"));
		const char *types[8];
		router_param p[MAXP];
		size_t nt, np;

		if (api == NULL || strcmp(api, "CreateVindex") != 0)
			continue;
		nt = entry_types(e, types, 8);
		np = entry_params(e, p);
		for (size_t k = 0; k < nt; k++) {
			json_t *want = json_object_get(e, "expected_error");
			json_t *unk = json_object_get(e, "expected_unknown_params");
			router__vindex v;
			router_error err;
			int rc;

			rc = router__vindex_init(&v, types[k], p, np, NULL,
			                         types[k], &err);
			if (json_is_string(want)) {
				if (rc != ROUTER_EREFERENCE ||
				    strcmp(err.message,
				           json_string_value(want)) != 0)
					fail_msg("%s %s: want '%s', got %d '%s'",
					         types[k],
					         json_string_value(
					             json_object_get(e, "source")),
					         json_string_value(want), rc,
					         err.message);
			} else {
				const char *got[MAXP];
				size_t ng;

				if (rc != ROUTER_OK)
					fail_msg("%s %s: %s", types[k],
					         json_string_value(
					             json_object_get(e, "source")),
					         err.message);
				ng = router__lookup_unknown_params(
				    v.type, p, np, got, MAXP);
				if (json_is_array(unk)) {
					assert_int_equal(ng,
					                 json_array_size(unk));
					for (size_t j = 0; j < ng; j++)
						assert_string_equal(
						    got[j],
						    json_string_value(
						        json_array_get(unk, j)));
				}
				router__vindex_fini(&v, NULL);
			}
			cases++;
		}
	}
	print_message("lookup CreateVindex vectors: %zu (entry, type) cases\n",
	              cases);
	assert_true(cases > 100);
	json_decref(root);
}

/* Params Vitess never reads for a type are not validated either: they
 * are only reported as unknown (lookup_hash has no no_verify, the
 * consistent lookups no autocommit). */
static void params_outside_a_types_set_are_unknown_not_checked(void **state)
{
	router_param nv = {"no_verify", "hello"};
	router_param ac = {"autocommit", "hello"};
	const char *got[2];
	router__vindex v;
	router_error err;

	(void)state;
	assert_int_equal(router__vindex_init(&v, "lookup_hash", &nv, 1, NULL,
	                                     "v", &err),
	                 ROUTER_OK);
	assert_int_equal(router__lookup_unknown_params(v.type, &nv, 1, got, 2),
	                 1);
	assert_string_equal(got[0], "no_verify");
	router__vindex_fini(&v, NULL);
	assert_int_equal(router__vindex_init(&v, "consistent_lookup", &ac, 1,
	                                     NULL, "v", &err),
	                 ROUTER_OK);
	router__vindex_fini(&v, NULL);
	assert_int_equal(router__vindex_init(&v, "lookup", &ac, 1, NULL, "v",
	                                     &err),
	                 ROUTER_EREFERENCE);
	assert_string_equal(err.message,
	                    "autocommit value must be 'true' or 'false': "
	                    "'hello'");
}

static void from_is_split_and_trimmed_and_sql_uses_the_first(void **state)
{
	router_param p[] = {{"table", "ks.lkp"},
	                    {"from", " c1 ,\tc2"},
	                    {"to", "keyspace_id"},
	                    {"multi_shard_autocommit", "true"},
	                    {"read_lock", "shared"}};
	router__vindex v;

	(void)state;
	assert_int_equal(router__vindex_init(&v, "lookup", p, 5, NULL, "v",
	                                     NULL),
	                 ROUTER_OK);
	assert_string_equal(v.u.lk.from, "c1");
	assert_int_equal(v.u.lk.nfrom, 2);
	assert_string_equal(v.u.lk.sql, "select c1, keyspace_id from ks.lkp "
	                                "where c1 in ::c1");
	assert_int_equal(v.u.lk.sql_len, strlen(v.u.lk.sql));
	assert_true(v.u.lk.flags & ROUTER__LK_F_AUTOCOMMIT);
	assert_int_equal(v.u.lk.read_lock, ROUTER__LK_LOCK_SHARED);
	router__vindex_fini(&v, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(create_vindex_vectors_match_vitess),
	    cmocka_unit_test(
	        params_outside_a_types_set_are_unknown_not_checked),
	    cmocka_unit_test(from_is_split_and_trimmed_and_sql_uses_the_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
