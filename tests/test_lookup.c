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


/* ---- Map: rows to keyspace IDs -------------------------------------------- */

/* Decoded bytes of the values of one entry. */
typedef struct vstore {
	uint8_t b[64][64];
	size_t n;
} vstore;

/* A value of the JSON model {"type", "hex"} (VINDEXES_MORE.md). */
static router_value jvalue(json_t *x, vstore *st)
{
	const char *t = json_string_value(json_object_get(x, "type"));
	const char *hex = json_string_value(json_object_get(x, "hex"));
	uint8_t *b;
	int n;

	assert_non_null(t);
	assert_non_null(hex);
	assert_true(st->n < 64);
	b = st->b[st->n++];
	n = tu_unhex(hex, b, 63);
	assert_true(n >= 0);
	b[n] = '\0';
	if (strcmp(t, "NULL_TYPE") == 0)
		return ROUTER_VALUE_NULL;
	if (strcmp(t, "INT64") == 0 || strcmp(t, "UINT64") == 0) {
		router_value v;
		router_sqltype ty =
		    t[0] == 'U' ? ROUTER_SQL_UINT64 : ROUTER_SQL_INT64;

		if (router_value_parse(ty, b, (size_t)n, &v, NULL) != ROUTER_OK)
			fail_msg("bad %s %s", t, (char *)b);
		return v;
	}
	if (strcmp(t, "VARBINARY") == 0)
		return ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, b, (size_t)n);
	fail_msg("type %s not in the vectors' model", t);
	return ROUTER_VALUE_NULL;
}

typedef struct ksids {
	char hex[16][80];
	size_t n;
} ksids;

static int collect(void *ctx, const uint8_t *k, size_t n)
{
	ksids *c = ctx;

	assert_true(c->n < 16 && n < 40);
	tu_hex(k, n, c->hex[c->n++]);
	return ROUTER_OK;
}

/* Check one destination of Map against an "expected" item. */
static void check_dest(json_t *want, int rc, const ksids *got,
                       const char *ctx)
{
	const char *dest = json_string_value(json_object_get(want, "dest"));

	if (strcmp(dest, "None") == 0) {
		if (rc != ROUTER_NONE)
			fail_msg("%s: want None, got %d", ctx, rc);
	} else if (strcmp(dest, "KeyRange") == 0) {
		if (rc != ROUTER__LOOKUP_ALL)
			fail_msg("%s: want KeyRange{}, got %d", ctx, rc);
	} else if (strcmp(dest, "KeyspaceID") == 0) {
		if (rc != ROUTER_OK || got->n != 1)
			fail_msg("%s: want one ksid, got %d (%zu)", ctx, rc,
			         got->n);
		assert_string_equal(
		    got->hex[0],
		    json_string_value(json_object_get(want, "ksid_hex")));
	} else {
		json_t *l = json_object_get(want, "ksids_hex");

		assert_string_equal(dest, "KeyspaceIDs");
		if (rc != ROUTER_OK || got->n != json_array_size(l))
			fail_msg("%s: want %zu ksids, got %d (%zu)", ctx,
			         json_array_size(l), rc, got->n);
		for (size_t i = 0; i < got->n; i++)
			assert_string_equal(
			    got->hex[i],
			    json_string_value(json_array_get(l, i)));
	}
}

/* The rows the mock cursor gives every select of an entry, or -1 when it
 * fails the query (the application's failure, not librouter's). */
static long mock_rows(json_t *e, router_lookup_row *rows, vstore *st)
{
	json_t *m = json_object_get(e, "mock"), *r, *x;
	size_t i, n = 0;

	if (!json_is_object(m) || json_object_get(m, "mustFail") != NULL ||
	    json_object_get(m, "errors") != NULL)
		return -1;
	r = json_object_get(m, "select_result_rows");
	if (r == NULL) {
		r = json_array_get(json_object_get(m, "results"), 0);
		if (r == NULL)
			return 0;
	}
	json_array_foreach(r, i, x)
	{
		assert_true(n < 16);
		rows[n].from = jvalue(json_array_get(x, 0), st);
		rows[n].to = jvalue(json_array_get(x, 1), st);
		n++;
	}
	return (long)n;
}

/* The queries an entry says vtgate sends: SQL, bind name, tuple values,
 * and one query (batched) or one per id. */
static void check_queries(json_t *e, const router__vindex *v,
                          const router_value *ids, size_t nids)
{
	json_t *q = json_object_get(e, "expected_queries");
	router_value b0;
	size_t i;
	json_t *x;

	if (q == NULL)
		q = json_object_get(e, "expected_queries_derived");
	if (q == NULL)
		return;
	assert_int_equal(router__lookup_bind(v, &ids[0], &b0, NULL), ROUTER_OK);
	assert_int_equal(json_array_size(q),
	                 router__lookup_batched(v, &b0) ? 1 : nids);
	json_array_foreach(q, i, x)
	{
		json_t *bv = json_object_get(x, "bind_vars");
		json_t *tuple = json_object_get(bv, v->u.lk.from);
		json_t *tv = json_object_get(tuple, "values"), *y;
		size_t j;

		assert_string_equal(json_string_value(json_object_get(x, "sql")),
		                    v->u.lk.sql);
		assert_int_equal(json_object_size(bv), 1);
		assert_string_equal(
		    json_string_value(json_object_get(tuple, "type")), "TUPLE");
		json_array_foreach(tv, j, y)
		{
			const router_value *id = &ids[json_array_size(q) == 1 ? j : i];
			router_value b;
			char tmp[24], hex[80];
			const uint8_t *p;
			size_t n;
			const char *ty =
			    json_string_value(json_object_get(y, "type"));

			assert_int_equal(router__lookup_bind(v, id, &b, NULL),
			                 ROUTER_OK);
			assert_int_equal(router__value_bytes(&b, tmp, &p, &n),
			                 ROUTER__CONV_OK);
			tu_hex(p, n, hex);
			assert_string_equal(
			    hex, json_string_value(json_object_get(y, "hex")));
			assert_int_equal(b.type, strcmp(ty, "UINT64") == 0
			                             ? ROUTER_SQL_UINT64
			                         : strcmp(ty, "INT64") == 0
			                             ? ROUTER_SQL_INT64
			                             : b.type);
		}
	}
}

static void map_vectors_match_vitess(void **state)
{
	json_t *root = tu_load_json("vectors_lookup.json");
	json_t *all = json_object_get(root, "lookup"), *e;
	size_t i, run = 0, failing_cursor = 0, skipped = 0, map_result = 0;

	(void)state;
	json_array_foreach(all, i, e)
	{
		const char *api = json_string_value(json_object_get(e, "api"));
		const char *type =
		    json_string_value(json_object_get(e, "vindex_type"));
		json_t *want = json_object_get(e, "expected");
		json_t *werr = json_object_get(e, "expected_error");
		json_t *jids = json_object_get(e, "ids"), *x;
		router_value ids[8];
		router_lookup_row rows[16];
		router_param p[MAXP];
		vstore st = {.n = 0};
		router__vindex v;
		router_error err;
		size_t nids = 0, np, j;
		long nrows;
		int is_mr;

		if (api == NULL) {
			skipped++; /* a "spec" summary entry */
			continue;
		}
		is_mr = strcmp(api, "MapResult") == 0;
		if (strcmp(api, "Map") != 0 && !is_mr) {
			if (strcmp(api, "CreateVindex") != 0)
				skipped++;
			continue;
		}
		np = entry_params(e, p);
		assert_int_equal(router__vindex_init(&v, type, p, np, NULL,
		                                     type, &err),
		                 ROUTER_OK);
		json_array_foreach(jids, j, x) ids[nids++] = jvalue(x, &st);
		if (is_mr) {
			/* MapResult: rows already selected per id (the
			 * engine's per-id path), row[0] the `to` value. */
			json_t *res = json_object_get(e, "results");
			int rc = ROUTER_OK;
			size_t k;
			json_t *one;

			json_array_foreach(res, k, one)
			{
				ksids got = {.n = 0};
				size_t n = 0, r;
				json_t *row;

				json_array_foreach(one, r, row)
				{
					rows[n].from = ids[k];
					rows[n].to = jvalue(json_array_get(row, 0),
					                    &st);
					n++;
				}
				rc = router__lookup_map(&v, ids, nids, k, rows, n,
				                        collect, &got, &err);
				if (json_is_string(werr))
					break;
				check_dest(json_array_get(want, k), rc, &got,
				           json_string_value(
				               json_object_get(e, "test")));
			}
			if (json_is_string(werr)) {
				assert_int_equal(rc, ROUTER_EINVAL);
				assert_string_equal(err.message,
				                    json_string_value(werr));
			}
			map_result++;
			run++;
			router__vindex_fini(&v, NULL);
			continue;
		}
		nrows = mock_rows(e, rows, &st);
		if (nrows < 0 && !router__lookup_no_query(&v, ids, nids)) {
			/* The cursor fails the query (or there is none):
			 * the application's error, which it reports. */
			failing_cursor++;
			router__vindex_fini(&v, NULL);
			continue;
		}
		check_queries(e, &v, ids, nids);
		for (j = 0; j < nids; j++) {
			ksids got = {.n = 0};
			int rc = router__lookup_map(&v, ids, nids, j, rows,
			                            nrows < 0 ? 0 : (size_t)nrows,
			                            collect, &got, &err);

			if (json_is_string(werr)) {
				if (rc == ROUTER_EINVAL) {
					assert_string_equal(
					    err.message, json_string_value(werr));
					break;
				}
				continue;
			}
			check_dest(json_array_get(want, j), rc, &got,
			           json_string_value(json_object_get(e, "test")));
		}
		if (json_is_string(werr))
			assert_int_equal(j < nids, 1);
		run++;
		router__vindex_fini(&v, NULL);
	}
	print_message("lookup Map vectors: %zu run (%zu MapResult), %zu with a "
	              "failing or missing cursor (the application's query "
	              "error), %zu skipped: write paths routing never issues "
	              "(Verify, Create, Delete, Update, SetOwnerInfo) and "
	              "the 9 spec summaries\n",
	              run, map_result, failing_cursor, skipped);
	assert_int_equal(run + failing_cursor, 39);
	json_decref(root);
}

/* ---- the public halves on a table ----------------------------------------- */

/* ks "user" on -40 40-80 80-c0 c0-; table "users" routed by hash(id), with
 * a secondary xxhash(name) and one secondary lookup per type. */
static const char *const lookup_types[] = {
    "lookup",
    "lookup_unique",
    "lookup_hash",
    "lookup_hash_unique",
    "lookup_unicodeloosemd5_hash",
    "lookup_unicodeloosemd5_hash_unique",
    "consistent_lookup",
    "consistent_lookup_unique",
};
#define NTYPES (sizeof lookup_types / sizeof lookup_types[0])

static router_table *lookup_table(uint64_t version, const char *extra)
{
	static const char *const shards[] = {"-40", "40-80", "80-c0", "c0-"};
	router_builder *b;
	router_table *t;
	router_error err;
	const char *id = "id", *name = "name";

	assert_int_equal(router_builder_create(&b, NULL, &err), ROUTER_OK);
	router_builder_set_version(b, version);
	assert_int_equal(router_builder_add_keyspace(b, "user", 1, &err),
	                 ROUTER_OK);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(router_builder_add_shard(b, "user", shards[i],
		                                          &err),
		                 ROUTER_OK);
	assert_int_equal(router_builder_add_vindex(b, "user", "hash", "hash",
	                                           NULL, 0, NULL, &err),
	                 ROUTER_OK);
	assert_int_equal(router_builder_add_vindex(b, "user", "xx", "xxhash",
	                                           NULL, 0, NULL, &err),
	                 ROUTER_OK);
	assert_int_equal(router_builder_add_table(b, "user", "users",
	                                          ROUTER_TABLE_NORMAL, NULL,
	                                          &err),
	                 ROUTER_OK);
	assert_int_equal(router_builder_add_column_vindex(b, "user", "users",
	                                                  "hash", &id, 1, &err),
	                 ROUTER_OK);
	assert_int_equal(router_builder_add_column_vindex(b, "user", "users",
	                                                  "xx", &name, 1, &err),
	                 ROUTER_OK);
	for (size_t i = 0; i < NTYPES; i++) {
		char col[64], lkp[64];
		const char *c = col;
		router_param p[4] = {{"table", lkp},
		                     {"from", col},
		                     {"to", "keyspace_id"},
		                     {"ignore_nulls", "true"}};

		snprintf(col, sizeof col, "c_%s", lookup_types[i]);
		snprintf(lkp, sizeof lkp, "user.%s_idx", lookup_types[i]);
		if (strcmp(lookup_types[i], "lookup_hash") == 0 ||
		    strcmp(lookup_types[i], "lookup_hash_unique") == 0 ||
		    strncmp(lookup_types[i], "lookup_unicode", 14) == 0)
			p[2].value = "user_id";
		assert_int_equal(router_builder_add_vindex(
		                     b, "user", lookup_types[i], lookup_types[i],
		                     p, extra != NULL && i == 0 ? 4 : 3, "users",
		                     &err),
		                 ROUTER_OK);
		assert_int_equal(router_builder_add_column_vindex(
		                     b, "user", "users", lookup_types[i], &c, 1,
		                     &err),
		                 ROUTER_OK);
	}
	if (router_table_build(b, &t, &err) != ROUTER_OK)
		fail_msg("build: %s", err.message);
	router_builder_free(b);
	return t;
}

static void lookup_query_says_what_vtgate_asks(void **state)
{
	router_table *t = lookup_table(1, NULL);
	router_value v = ROUTER_VALUE_INT64(10);
	router_lookup_query q;
	router_error err;

	(void)state;
	assert_int_equal(router_table_lookup_query(t, "user", 4, "users", 5,
	                                           "C_LOOKUP_HASH", 13, &v, &q,
	                                           &err),
	                 ROUTER_OK);
	assert_string_equal(q.vindex_type, "lookup_hash");
	assert_string_equal(q.sql, "select c_lookup_hash, user_id from "
	                           "user.lookup_hash_idx where c_lookup_hash "
	                           "in ::c_lookup_hash");
	assert_int_equal(q.sql_len, strlen(q.sql));
	assert_string_equal(q.table, "user.lookup_hash_idx");
	assert_string_equal(q.from, "c_lookup_hash");
	assert_string_equal(q.to, "user_id");
	assert_string_equal(q.lock_suffix, " for update");
	assert_int_equal(q.flags, ROUTER_LOOKUP_BATCHED);
	assert_int_equal(q.version, 1);
	assert_int_equal(q.bind.type, ROUTER_SQL_INT64);
	assert_int_equal(q.bind.i64, 10);

	/* unicodeloosemd5 binds the converted value (Vitess's test:
	 * INT64 10 -> UINT64 17563797831108199066), always batched. */
	assert_int_equal(router_table_lookup_query(
	                     t, "user", 4, "users", 5,
	                     "c_lookup_unicodeloosemd5_hash", 29, &v, &q, &err),
	                 ROUTER_OK);
	assert_int_equal(q.bind.type, ROUTER_SQL_UINT64);
	assert_true(q.bind.u64 == UINT64_C(17563797831108199066));
	assert_int_equal(q.flags, ROUTER_LOOKUP_BATCHED);

	/* text is queried per value; unique types say so */
	v = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, "a@b", 3);
	assert_int_equal(router_table_lookup_query(t, "user", 4, "users", 5,
	                                           "c_lookup_unique", 15, &v,
	                                           &q, &err),
	                 ROUTER_OK);
	assert_int_equal(q.flags, ROUTER_LOOKUP_UNIQUE);

	/* not a lookup, no such column */
	assert_int_equal(router_table_lookup_query(t, "user", 4, "users", 5,
	                                           "name", 4, &v, &q, &err),
	                 ROUTER_EINVAL);
	assert_int_equal(router_table_lookup_query(t, "user", 4, "users", 5,
	                                           "nope", 4, &v, &q, &err),
	                 ROUTER_ENOTFOUND);
	assert_string_equal(err.message,
	                    "table users has no column vindex on (nope)");
	router_table_free(t);
}

static void secondary_column_vindex_routes_in_process(void **state)
{
	router_table *t = lookup_table(1, NULL);
	router_value v = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, "alice", 5);
	router_route_result out[4], want;
	router_error err;
	size_t n;
	uint8_t k[8];
	size_t kl;

	(void)state;
	assert_int_equal(router_keyspace_id("xxhash", &v, k, 8, &kl, NULL),
	                 ROUTER_OK);
	assert_int_equal(router_table_route_ksid(t, "user", 4, k, kl, &want,
	                                         NULL),
	                 ROUTER_OK);
	assert_int_equal(router_table_route_column(t, "user", 4, "users", 5,
	                                           " name ", 6, &v, 1, NULL, 0,
	                                           out, 4, &n, &err),
	                 ROUTER_OK);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].shard_index, want.shard_index);
	assert_memory_equal(out[0].ksid, k, 8);
	/* the primary one too, by its column */
	v = ROUTER_VALUE_INT64(1);
	assert_int_equal(router_table_route_column(t, "user", 4, "users", 5,
	                                           "id", 2, &v, 1, NULL, 0, out,
	                                           4, &n, &err),
	                 ROUTER_OK);
	assert_int_equal(router_table_route(t, "user", 4, "users", 5, &v, 1,
	                                    &want, NULL),
	                 ROUTER_OK);
	assert_int_equal(out[0].shard_index, want.shard_index);
	router_table_free(t);
}

static void lookup_rows_route_to_every_shard_they_name(void **state)
{
	router_table *t = lookup_table(1, NULL);
	router_value v = ROUTER_VALUE_INT64(7);
	/* raw keyspace IDs in shards 0, 2 and 2 again */
	router_lookup_row rows[3] = {
	    {ROUTER_VALUE_INT64(7),
	     ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, "\x10\x00", 2)},
	    {ROUTER_VALUE_INT64(7),
	     ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, "\x90\x01", 2)},
	    {ROUTER_VALUE_INT64(7),
	     ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, "\x91", 1)},
	};
	router_lookup_row other = {ROUTER_VALUE_INT64(8), rows[0].to};
	router_route_result out[4];
	router_error err;
	size_t n;

	(void)state;
	assert_int_equal(router_table_route_column(t, "user", 4, "users", 5,
	                                           "c_lookup", 8, &v, 1, rows,
	                                           3, out, 4, &n, &err),
	                 ROUTER_OK);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].shard_index, 0);
	assert_int_equal(out[1].shard_index, 2);
	assert_string_equal(out[1].shard, "80-c0");
	assert_int_equal(out[1].ksid_len, 2);
	/* a cap too small says how many */
	assert_int_equal(router_table_route_column(t, "user", 4, "users", 5,
	                                           "c_lookup", 8, &v, 1, rows,
	                                           3, out, 1, &n, &err),
	                 ROUTER_ERANGE);
	assert_int_equal(n, 2);
	/* unique with several rows: Vitess's error */
	assert_int_equal(router_table_route_column(
	                     t, "user", 4, "users", 5, "c_lookup_unique", 15,
	                     &v, 1, rows, 2, out, 4, &n, &err),
	                 ROUTER_EINVAL);
	assert_string_equal(err.message,
	                    "Lookup.Map: unexpected multiple results from "
	                    "vindex user.lookup_unique_idx: INT64(7)");
	/* batched: a row for another value does not count; none is NONE */
	assert_int_equal(router_table_route_column(t, "user", 4, "users", 5,
	                                           "c_lookup", 8, &v, 1, &other,
	                                           1, out, 4, &n, &err),
	                 ROUTER_NONE);
	assert_int_equal(n, 0);
	/* rows not asked yet */
	assert_int_equal(router_table_route_column(t, "user", 4, "users", 5,
	                                           "c_lookup", 8, &v, 1, NULL,
	                                           0, out, 4, &n, &err),
	                 ROUTER_ENEEDSLOOKUP);
	assert_non_null(strstr(err.message, "select c_lookup, keyspace_id "
	                                    "from user.lookup_idx"));
	router_table_free(t);
}

static void lookup_hash_rows_hash_their_to_value(void **state)
{
	router_table *t = lookup_table(1, NULL);
	router_value v = ROUTER_VALUE_INT64(10), one = ROUTER_VALUE_INT64(1);
	router_lookup_row rows[2] = {
	    {ROUTER_VALUE_INT64(10), ROUTER_VALUE_INT64(1)},
	    {ROUTER_VALUE_INT64(10),
	     ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, "notint", 6)},
	};
	router_route_result out[4], want;
	router_lookup_query q;
	size_t n;

	(void)state;
	assert_int_equal(router_table_route(t, "user", 4, "users", 5, &one, 1,
	                                    &want, NULL),
	                 ROUTER_OK);
	assert_int_equal(router_table_route_column(t, "user", 4, "users", 5,
	                                           "c_lookup_hash", 13, &v, 1,
	                                           rows, 2, out, 4, &n, NULL),
	                 ROUTER_OK);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].shard_index, want.shard_index);
	assert_memory_equal(out[0].ksid, want.ksid, 8);
	/* only a row that is not a number: no keyspace ID */
	assert_int_equal(router_table_route_column(t, "user", 4, "users", 5,
	                                           "c_lookup_hash_unique", 20,
	                                           &v, 1, rows + 1, 1, out, 4,
	                                           &n, NULL),
	                 ROUTER_NONE);
	/* unicodeloosemd5: the rows hold the converted value */
	assert_int_equal(router_table_lookup_query(
	                     t, "user", 4, "users", 5,
	                     "c_lookup_unicodeloosemd5_hash_unique", 36, &v, &q,
	                     NULL),
	                 ROUTER_OK);
	rows[0].from = q.bind;
	assert_int_equal(router_table_route_column(
	                     t, "user", 4, "users", 5,
	                     "c_lookup_unicodeloosemd5_hash_unique", 36, &v, 1,
	                     rows, 1, out, 4, &n, NULL),
	                 ROUTER_OK);
	assert_int_equal(out[0].shard_index, want.shard_index);
	router_table_free(t);
}

static void write_only_and_ignore_nulls_go_to_every_shard(void **state)
{
	router_table *t = lookup_table(1, "ignore_nulls");
	router_value null = ROUTER_VALUE_NULL;
	router_route_result out[4];
	router_lookup_query q;
	size_t n;
	router_param wo[] = {{"table", "t"},
	                     {"from", "f"},
	                     {"to", "k"},
	                     {"write_only", "true"}};
	router_builder *b;
	router_table *t2;
	const char *col = "f";

	(void)state;
	assert_int_equal(router_table_lookup_query(t, "user", 4, "users", 5,
	                                           "c_lookup", 8, &null, &q,
	                                           NULL),
	                 ROUTER_OK);
	assert_true(q.flags & ROUTER_LOOKUP_NO_QUERY);
	assert_int_equal(router_table_route_column(t, "user", 4, "users", 5,
	                                           "c_lookup", 8, &null, 1,
	                                           NULL, 0, out, 4, &n, NULL),
	                 ROUTER_OK);
	assert_int_equal(n, 4);
	assert_int_equal(out[3].shard_index, 3);
	assert_int_equal(out[3].ksid_len, 0);
	router_table_free(t);

	assert_int_equal(router_builder_create(&b, NULL, NULL), ROUTER_OK);
	router_builder_add_keyspace(b, "ks", 1, NULL);
	router_builder_add_shard(b, "ks", "-80", NULL);
	router_builder_add_shard(b, "ks", "80-", NULL);
	router_builder_add_vindex(b, "ks", "hash", "hash", NULL, 0, NULL, NULL);
	router_builder_add_vindex(b, "ks", "w", "lookup_hash_unique", wo, 4,
	                          "t", NULL);
	router_builder_add_table(b, "ks", "t", ROUTER_TABLE_NORMAL, NULL, NULL);
	{
		const char *id = "id";

		router_builder_add_column_vindex(b, "ks", "t", "hash", &id, 1,
		                                 NULL);
	}
	router_builder_add_column_vindex(b, "ks", "t", "w", &col, 1, NULL);
	assert_int_equal(router_table_build(b, &t2, NULL), ROUTER_OK);
	router_builder_free(b);
	{
		router_value v = ROUTER_VALUE_INT64(5);

		assert_int_equal(router_table_route_column(t2, "ks", 2, "t", 1,
		                                           "f", 1, &v, 1, NULL,
		                                           0, out, 4, &n, NULL),
		                 ROUTER_OK);
		assert_int_equal(n, 2);
	}
	router_table_free(t2);
}

/* ---- the live router and its resolver ------------------------------------- */

#include <pthread.h>
#include <time.h>

static router *live_h(router_table *t, unsigned history)
{
	router_options o = ROUTER_OPTIONS_INIT;
	router *r;
	router_error err;

	o.history = history;
	assert_int_equal(router_create(&r, &o, &err), ROUTER_OK);
	if (router_publish(r, t, 0, NULL, &err) != ROUTER_OK)
		fail_msg("publish: %s", err.message);
	return r;
}

static router *live(router_table *t)
{
	return live_h(t, 8);
}

typedef struct fake {
	int calls;
	char sql[256];
	router_value bind;
	int fail;
} fake;

/* The lookup tables' content: every value has one row, whose `to` is
 * 90 01 (shard 80-c0) for raw types and 1 (hash 166b40b44aba4bd6, shard
 * -40) for the hash types. */
static int fake_resolve(void *ctx, const router_lookup_query *q,
                        router_lookup_rows *rows)
{
	fake *f = ctx;
	router_value raw = ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, "\x90\x01", 2);
	router_value one = ROUTER_VALUE_INT64(1);
	int hash = strstr(q->vindex_type, "hash") != NULL;

	f->calls++;
	snprintf(f->sql, sizeof f->sql, "%s", q->sql);
	f->bind = q->bind;
	if (f->fail)
		return ROUTER_EIO;
	assert_int_equal(router_lookup_rows_add(rows, &q->bind,
	                                        hash ? &one : &raw),
	                 ROUTER_OK);
	return ROUTER_OK;
}

static void resolver_routes_every_lookup_type_in_one_call(void **state)
{
	router *r = live(lookup_table(0, NULL));
	router_value v = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, "Alice", 5);
	router_route_result out[4];
	router_error err;
	size_t n;

	(void)state;
	for (size_t i = 0; i < NTYPES; i++) {
		fake f = {0};
		char col[64];
		int hash = strstr(lookup_types[i], "hash") != NULL;

		snprintf(col, sizeof col, "c_%s", lookup_types[i]);
		if (router_route_column(r, "user", 4, "users", 5, col,
		                        strlen(col), &v, 1, fake_resolve, &f,
		                        out, 4, &n, &err) != ROUTER_OK)
			fail_msg("%s: %s", lookup_types[i], err.message);
		assert_int_equal(f.calls, 1);
		assert_int_equal(n, 1);
		assert_int_equal(out[0].shard_index, hash ? 0 : 2);
		assert_int_equal(out[0].version, 1);
		assert_non_null(strstr(f.sql, " in ::c_"));
		if (strncmp(lookup_types[i], "lookup_unicode", 14) == 0)
			assert_int_equal(f.bind.type, ROUTER_SQL_UINT64);
		else
			assert_int_equal(f.bind.type, ROUTER_SQL_VARCHAR);
	}
	{
		fake f = {.fail = 1};

		assert_int_equal(router_route_column(r, "user", 4, "users", 5,
		                                     "c_lookup", 8, &v, 1,
		                                     fake_resolve, &f, out, 4,
		                                     &n, &err),
		                 ROUTER_EIO);
		assert_non_null(strstr(err.message, "lookup.Map: "));
		/* no resolver: the query to run */
		assert_int_equal(router_route_column(r, "user", 4, "users", 5,
		                                     "c_lookup", 8, &v, 1, NULL,
		                                     NULL, out, 4, &n, &err),
		                 ROUTER_ENEEDSLOOKUP);
		/* a non-lookup column never calls it */
		f.fail = 0;
		assert_int_equal(router_route_column(r, "user", 4, "users", 5,
		                                     "name", 4, &v, 1,
		                                     fake_resolve, &f, out, 4,
		                                     &n, &err),
		                 ROUTER_OK);
		assert_int_equal(f.calls, 1);
	}
	router_free(r);
}

/* A resolver that blocks until released (or 3 s pass). */
typedef struct blocker {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int entered, released, timed_out;
	router *r;
	int rc;
	size_t n;
	router_route_result out[4];
	uint64_t qversion;
} blocker;

static int blocking_resolve(void *ctx, const router_lookup_query *q,
                            router_lookup_rows *rows)
{
	blocker *b = ctx;
	struct timespec until;
	router_value raw = ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, "\x90\x01", 2);

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 3;
	pthread_mutex_lock(&b->mu);
	b->entered = 1;
	b->qversion = q->version;
	pthread_cond_broadcast(&b->cv);
	while (!b->released && !b->timed_out)
		if (pthread_cond_timedwait(&b->cv, &b->mu, &until) != 0)
			b->timed_out = 1;
	pthread_mutex_unlock(&b->mu);
	return router_lookup_rows_add(rows, &q->bind, &raw);
}

static void *blocked_reader(void *arg)
{
	blocker *b = arg;
	router_value v = ROUTER_VALUE_INT64(3);

	router_thread_register(NULL);
	b->rc = router_route_column(b->r, "user", 4, "users", 5, "c_lookup", 8,
	                            &v, 1, blocking_resolve, b, b->out, 4,
	                            &b->n, NULL);
	router_thread_unregister();
	return NULL;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void blocked_resolver_holds_up_no_publish_and_no_reader(void **state)
{
	enum { NPUB = 40 }; /* past the 32 retired tables that make a publish
	                     * wait for a grace period */
	router_table *next[NPUB];
	blocker b = {.mu = PTHREAD_MUTEX_INITIALIZER,
	             .cv = PTHREAD_COND_INITIALIZER};
	router_value one = ROUTER_VALUE_INT64(1);
	router_route_result res;
	pthread_t th;
	double t0, entered;

	(void)state;
	for (int i = 0; i < NPUB; i++)
		next[i] = lookup_table((uint64_t)i + 2, NULL);
	/* history 1: every publish retires a table, so past 32 a publish
	 * waits for a grace period, which a held section would stop. */
	b.r = live_h(lookup_table(1, NULL), 1);
	assert_int_equal(pthread_create(&th, NULL, blocked_reader, &b), 0);
	pthread_mutex_lock(&b.mu);
	while (!b.entered)
		pthread_cond_wait(&b.cv, &b.mu);
	pthread_mutex_unlock(&b.mu);
	entered = now_ms();
	t0 = now_ms();
	for (int i = 0; i < NPUB; i++) {
		router_error err;

		if (router_publish(b.r, next[i], 0, NULL, &err) != ROUTER_OK)
			fail_msg("publish %d: %s", i, err.message);
		assert_int_equal(router_route(b.r, "user", 4, "users", 5, &one,
		                              1, &res, NULL),
		                 ROUTER_OK);
		assert_int_equal(res.version, (uint64_t)i + 2);
	}
	print_message("%d publishes and routes in %.1f ms while the resolver "
	              "blocks\n",
	              NPUB, now_ms() - t0);
	/* keep the resolver blocked for at least 500 ms */
	while (now_ms() - entered < 500)
		;
	pthread_mutex_lock(&b.mu);
	assert_false(b.timed_out); /* everything above ran while it blocked */
	b.released = 1;
	pthread_cond_broadcast(&b.cv);
	pthread_mutex_unlock(&b.mu);
	pthread_join(th, NULL);
	assert_int_equal(b.rc, ROUTER_OK);
	assert_int_equal(b.qversion, 1);
	assert_int_equal(b.out[0].version, NPUB + 1); /* shards: in service */
	assert_int_equal(b.out[0].shard_index, 2);
	router_free(b.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(create_vindex_vectors_match_vitess),
	    cmocka_unit_test(
	        params_outside_a_types_set_are_unknown_not_checked),
	    cmocka_unit_test(from_is_split_and_trimmed_and_sql_uses_the_first),
	    cmocka_unit_test(map_vectors_match_vitess),
	    cmocka_unit_test(lookup_query_says_what_vtgate_asks),
	    cmocka_unit_test(secondary_column_vindex_routes_in_process),
	    cmocka_unit_test(lookup_rows_route_to_every_shard_they_name),
	    cmocka_unit_test(lookup_hash_rows_hash_their_to_value),
	    cmocka_unit_test(write_only_and_ignore_nulls_go_to_every_shard),
	    cmocka_unit_test(resolver_routes_every_lookup_type_in_one_call),
	    cmocka_unit_test(
	        blocked_resolver_holds_up_no_publish_and_no_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
