/*
 * The cfc vindex (core/vindex_cfc.c): every case of data/vectors_cfc.json
 * (vectors_more.json's "cfc", from Vitess's cfc_test.go), then the
 * behaviour around them: integers, keyspace IDs too long to carry, the
 * prefix key range cut to shard-bound length, routing a LIKE prefix to the
 * shards it covers.
 */
#include <stdint.h>
#include <string.h>
#include "testutil.h"
#include "core/internal.h"
#include "router.h"

#define MAXP 8

static size_t params_of(json_t *obj, router_param *p)
{
	const char *key;
	json_t *val;
	size_t n = 0;

	json_object_foreach(obj, key, val) {
		assert_true(n < MAXP);
		p[n].key = key;
		p[n].value = json_string_value(val);
		n++;
	}
	return n;
}

/* Hex to bytes; a JSON null (Go's nil slice) is empty. */
static size_t unhex(json_t *s, uint8_t *out, size_t cap)
{
	int n = json_is_null(s) ? 0 : tu_unhex(json_string_value(s), out, cap);

	assert_true(n >= 0);
	return (size_t)n;
}

/* A compiled cfc vindex named `name` with the case's params. */
static int compile(json_t *e, const char *name, router__vindex *v,
                   router_error *err)
{
	router_param p[MAXP];
	size_t np = params_of(json_object_get(e, "params"), p);

	return router__vindex_init(v, "cfc", p, np, NULL, name, err);
}

static void must_compile(json_t *e, router__vindex *v, const char *ctx)
{
	router_error err;

	if (compile(e, "cfc", v, &err) != ROUTER_OK)
		fail_msg("%s: %s", ctx, err.message);
}

/* A vector's {"type", "hex"} value: the hex is the value's text (an
 * INT64 1 is "31"); the type's name in lower case, NULL_TYPE as null. */
static router_value value_of(json_t *id, uint8_t *buf, size_t cap)
{
	size_t n = unhex(json_object_get(id, "hex"), buf, cap);
	const char *tn = json_string_value(json_object_get(id, "type"));
	char lower[32];
	router_sqltype t;
	router_value v;
	size_t i;

	for (i = 0; tn[i] != '\0' && i + 1 < sizeof lower; i++)
		lower[i] = (char)(tn[i] >= 'A' && tn[i] <= 'Z' ? tn[i] + 32
		                                                : tn[i]);
	lower[i] = '\0';
	if (strcmp(lower, "null_type") == 0)
		strcpy(lower, "null");
	assert_int_equal(router_sqltype_parse(lower, strlen(lower), &t),
	                 ROUTER_OK);
	assert_int_equal(router_value_parse(t, buf, n, &v, NULL), ROUTER_OK);
	return v;
}

static void expect_hex(const uint8_t *p, size_t n, json_t *want,
                       const char *ctx)
{
	char got[512];

	assert_true(n < 250);
	tu_hex(p, n, got);
	if (strcmp(got, json_string_value(want)) != 0)
		fail_msg("%s: %s, want %s", ctx, got, json_string_value(want));
}

static void expect_range(const router_keyrange *kr, json_t *want,
                         const char *ctx)
{
	const char *dest = json_string_value(json_object_get(want, "dest"));

	if (strcmp(dest, "AllShards") == 0) {
		assert_true(kr->full);
		return;
	}
	assert_string_equal(dest, "KeyRange");
	assert_false(kr->full);
	expect_hex(kr->start, kr->start_len, json_object_get(want, "start_hex"),
	           ctx);
	if (json_is_null(json_object_get(want, "end_hex")))
		assert_int_equal(kr->end_len, 0);
	else
		expect_hex(kr->end, kr->end_len,
		           json_object_get(want, "end_hex"), ctx);
}

/* One vector; returns 1 when it ran. */
static int run_case(json_t *e, const char *ctx)
{
	const char *api = json_string_value(json_object_get(e, "api"));
	json_t *werr = json_object_get(e, "expected_error");
	router__vindex v;
	router_error err;
	uint8_t in[256], out[256];
	size_t n, len;
	int rc;

	if (strcmp(api, "CreateVindex") == 0) {
		json_t *props = json_object_get(e, "expected_props");
		json_t *offs = json_object_get(e, "expected_offsets");
		const char *name =
		    json_string_value(json_object_get(e, "vindex_name"));

		rc = compile(e, name, &v, &err);
		if (json_is_string(werr)) {
			assert_int_equal(rc, ROUTER_EREFERENCE);
			assert_string_equal(err.message,
			                    json_string_value(werr));
			return 1;
		}
		if (rc != ROUTER_OK)
			fail_msg("%s: %s", ctx, err.message);
		if (props != NULL) {
			assert_int_equal(v.type->cost,
			                 json_integer_value(
			                     json_object_get(props, "cost")));
			assert_int_equal(v.type->unique,
			                 json_is_true(json_object_get(
			                     props, "is_unique")));
		}
		if (offs != NULL) {
			assert_int_equal(v.u.cfc.noffsets,
			                 json_array_size(offs));
			for (size_t i = 0; i < v.u.cfc.noffsets; i++)
				assert_int_equal(v.u.cfc.offsets[i],
				                 json_integer_value(
				                     json_array_get(offs, i)));
		}
		router__vindex_fini(&v, NULL);
		return 1;
	}
	if (strcmp(api, "computeKsid") == 0) {
		int prefix = json_is_true(json_object_get(e, "prefix"));
		router_value val;
		const uint8_t *k;

		must_compile(e, &v, ctx);
		n = unhex(json_object_get(e, "input_hex"), in, sizeof in);
		if (prefix) {
			/* computeKsid(prefix=true) is prefix_begin without
			 * wildcards: these inputs hold no % _ or \. */
			rc = router__cfc_prefix_begin(&v, in, n, out, &len);
			k = out;
		} else {
			val = ROUTER_VALUE_BYTES(
			    ROUTER_SQL_VARBINARY, in, n);
			rc = router__vindex_map(&v, &val, 1, out, &k, &len);
		}
		if (json_is_string(werr)) {
			assert_int_equal(rc, ROUTER_EINVAL);
			assert_int_equal(router__vindex_explain(&v, &val, 1,
			                                        "cfc", &err),
			                 1);
			assert_string_equal(err.message,
			                    json_string_value(werr));
		} else {
			assert_int_equal(rc, ROUTER_OK);
			expect_hex(k, len, json_object_get(e, "expected_ksid_hex"),
			           ctx);
		}
		router__vindex_fini(&v, NULL);
		return 1;
	}
	if (strcmp(api, "Map") == 0 || strcmp(api, "Verify") == 0 ||
	    strcmp(api, "PrefixVindex().Verify") == 0) {
		/* Verify is Map and a byte comparison; an input too short is
		 * an error, not false (cfc.go:234-248). */
		router_vindex *vx;
		router_param p[MAXP];
		size_t np = params_of(json_object_get(e, "params"), p);
		json_t *id = json_array_get(json_object_get(e, "ids"), 0);
		router_value val = value_of(id, in, sizeof in);

		assert_int_equal(router_vindex_create(&vx, "cfc", p, np, NULL,
		                                      &err),
		                 ROUTER_OK);
		rc = router_vindex_map(vx, &val, 1, out, sizeof out, &len,
		                       &err);
		router_vindex_free(vx);
		if (json_is_string(werr)) {
			assert_int_equal(rc, ROUTER_EINVAL);
			assert_string_equal(err.message,
			                    json_string_value(werr));
			return 1;
		}
		assert_int_equal(rc, ROUTER_OK);
		if (strcmp(api, "Map") == 0) {
			json_t *x = json_array_get(
			    json_object_get(e, "expected"), 0);

			expect_hex(out, len, json_object_get(x, "ksid_hex"),
			           ctx);
		} else {
			uint8_t want[64];
			size_t wn = unhex(json_array_get(json_object_get(
			                                     e, "ksids_hex"),
			                                 0),
			                  want, sizeof want);
			int same = wn == len && memcmp(want, out, len) == 0;

			assert_int_equal(same,
			                 json_is_true(json_array_get(
			                     json_object_get(e, "expected"), 0)));
		}
		return 1;
	}
	if (strcmp(api, "PrefixVindex().Map") == 0) {
		json_t *id = json_array_get(json_object_get(e, "ids"), 0);
		router_keyrange kr;

		must_compile(e, &v, ctx);
		n = unhex(json_object_get(id, "hex"), in, sizeof in);
		assert_int_equal(router__cfc_prefix_range(&v, in, n, NULL, &kr),
		                 ROUTER_OK);
		expect_range(&kr, json_array_get(json_object_get(e, "expected"),
		                                 0),
		             ctx);
		router__vindex_fini(&v, NULL);
		return 1;
	}
	if (strcmp(api, "PrefixVindex() properties") == 0) {
		/* Not unique, cost len(offsets) or 2: the prefix form is a
		 * routing of its own (router_table_route_prefix), not a
		 * vindex type; what it computes is checked above. */
		json_t *props = json_object_get(e, "expected_props");

		must_compile(e, &v, ctx);
		assert_false(json_is_true(json_object_get(props, "is_unique")));
		assert_int_equal(json_integer_value(
		                     json_object_get(props, "cost")),
		                 v.u.cfc.noffsets ? v.u.cfc.noffsets : 2);
		router__vindex_fini(&v, NULL);
		return 1;
	}
	if (strcmp(api, "findPrefix") == 0) {
		n = unhex(json_object_get(e, "input_hex"), in, sizeof in);
		len = router__cfc_find_prefix(in, n, out);
		expect_hex(out, len, json_object_get(e, "expected_hex"), ctx);
		return 1;
	}
	if (strcmp(api, "NewKeyRangeFromPrefix") == 0) {
		/* Identity cfc: the prefix is the begin. */
		router__vindex id;
		router_keyrange kr;

		assert_int_equal(router__vindex_init(&id, "cfc", NULL, 0, NULL,
		                                     "cfc", NULL),
		                 ROUTER_OK);
		n = unhex(json_object_get(e, "input_hex"), in, sizeof in);
		assert_int_equal(router__cfc_prefix_range(&id, in, n, NULL, &kr),
		                 ROUTER_OK);
		expect_range(&kr, json_object_get(e, "expected"), ctx);
		return 1;
	}
	if (strcmp(api, "addOne") == 0) {
		json_t *w = json_object_get(e, "expected_hex");

		n = unhex(json_object_get(e, "input_hex"), in, sizeof in);
		rc = router__cfc_add_one(in, n);
		if (json_is_null(w) || w == NULL)
			assert_int_equal(rc, 0);
		else {
			assert_int_equal(rc, 1);
			expect_hex(in, n, w, ctx);
		}
		return 1;
	}
	if (strncmp(api, "component hash", 14) == 0) {
		static const char *const types[] = {"md5", "xxhash64"};
		static const char *const keys[] = {"derived_md5hash_hex",
		                                   "derived_xxhash64_hex"};

		n = unhex(json_object_get(e, "input_hex"), in, sizeof in);
		for (int i = 0; i < 2; i++) {
			/* One component: offsets [n] (n > 0), or the whole
			 * empty value as the tail of offsets [1] in prefix
			 * mode. */
			char o[24];
			router_param p[2] = {{"hash", types[i]}, {"offsets", o}};
			const uint8_t *k;
			router_value val =
			    ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, in, n);

			snprintf(o, sizeof o, "[%zu]", n ? n : 1);
			assert_int_equal(router__vindex_init(&v, "cfc", p, 2,
			                                     NULL, "cfc", NULL),
			                 ROUTER_OK);
			if (n > 0)
				rc = router__vindex_map(&v, &val, 1, out, &k,
				                        &len);
			else
				rc = router__cfc_prefix_begin(&v, in, 0, out,
				                              &len),
				k = out;
			assert_int_equal(rc, ROUTER_OK);
			expect_hex(k, len, json_object_get(e, keys[i]), ctx);
			router__vindex_fini(&v, NULL);
		}
		return 1;
	}
	fail_msg("%s: unknown api %s", ctx, api);
	return 0;
}

static void cfc_vectors_from_file_all_pass(void **state)
{
	char path[512];
	json_error_t jerr;
	/* JSON_ALLOW_NUL: findPrefix's expected_text holds "\u0000". */
	json_t *root = (snprintf(path, sizeof path, "%s/vectors_cfc.json",
	                         tu_data_dir()),
	                json_load_file(path, JSON_ALLOW_NUL, &jerr));
	json_t *vec = json_object_get(root, "cfc"), *e;
	size_t i, ran = 0;

	(void)state;
	if (root == NULL)
		fail_msg("cannot load %s: %s", path, jerr.text);
	assert_int_equal(json_array_size(vec), 77);
	json_array_foreach(vec, i, e) {
		char ctx[200];

		snprintf(ctx, sizeof ctx, "cfc[%zu] %s (%s)", i,
		         json_string_value(json_object_get(e, "test")),
		         json_string_value(json_object_get(e, "source")));
		ran += (size_t)run_case(e, ctx);
	}
	assert_int_equal(ran, 77);
	print_message("cfc vectors: %zu of 77 passed\n", ran);
	json_decref(root);
}

static void cfc_bad_hash_is_refused_with_vitess_text(void **state)
{
	router_param p[] = {{"hash", "sha1"}, {"offsets", "[1]"}};
	router__vindex v;
	router_error err;

	(void)state;
	assert_int_equal(router__vindex_init(&v, "cfc", p, 2, NULL, "cfcv",
	                                     &err),
	                 ROUTER_EREFERENCE);
	assert_string_equal(err.message, "invalid hash sha1 to CFC vindex cfcv");
	/* An empty hash is the identity; offsets are not looked at. */
	p[0].value = "";
	p[1].value = "junk";
	assert_int_equal(router__vindex_init(&v, "cfc", p, 2, NULL, "cfcv",
	                                     &err),
	                 ROUTER_OK);
	router__vindex_fini(&v, NULL);
}

/* multicol creates its column vindexes first (named after their type),
 * then refuses cfc, which is not Hashing. */
static void multicol_checks_a_cfc_column_then_refuses_it(void **state)
{
	router_param p[] = {{"column_count", "1"},
	                    {"column_vindex", "cfc"},
	                    {"hash", "sha1"}};
	router__vindex v;
	router_error err;

	(void)state;
	assert_int_equal(router__vindex_init(&v, "multicol", p, 3, NULL, "mc",
	                                     &err),
	                 ROUTER_EREFERENCE);
	assert_string_equal(err.message, "invalid hash sha1 to CFC vindex cfc");
	assert_string_equal(err.culprit, "mc");
	assert_int_equal(router__vindex_init(&v, "multicol", p, 2, NULL, "mc",
	                                     &err),
	                 ROUTER_EREFERENCE);
	assert_non_null(strstr(err.message, "passed vindex 'cfc' is invalid"));
}

static void cfc_identity_maps_an_integer_to_its_text(void **state)
{
	router_value one = ROUTER_VALUE_INT64(-12);
	uint8_t out[32];
	size_t len;
	router_error err;

	(void)state;
	assert_int_equal(router_keyspace_id("cfc", &one, out, sizeof out, &len,
	                                    &err),
	                 ROUTER_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "-12", 3);
}

static void cfc_keyspace_id_too_long_is_unsupported_with_reason(void **state)
{
	router_param p[] = {{"hash", "md5"}, {"offsets", "[16,32]"}};
	uint8_t in[40], out[64];
	router_value val = ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, in, 40);
	router_vindex *v;
	router_error err;
	size_t len;

	(void)state;
	memset(in, 'a', sizeof in);
	assert_int_equal(router_vindex_create(&v, "cfc", p, 2, NULL, &err),
	                 ROUTER_OK);
	/* 16 + 16 + 8 = 40 bytes: more than ROUTER_KSID_MAX. */
	assert_int_equal(router_vindex_map(v, &val, 1, out, sizeof out, &len,
	                                   &err),
	                 ROUTER_EUNSUPPORTED);
	assert_non_null(strstr(err.message, "longer than the 32 bytes"));
	/* 32 bytes exactly is computed. */
	val.len = 32;
	assert_int_equal(router_vindex_map(v, &val, 1, out, sizeof out, &len,
	                                   &err),
	                 ROUTER_OK);
	assert_int_equal(len, 32);
	router_vindex_free(v);
}

static void cfc_prefix_longer_than_a_bound_covers_the_same_shards(
    void **state)
{
	uint8_t like[41];
	router__vindex v;
	router_keyrange kr;

	(void)state;
	assert_int_equal(router__vindex_init(&v, "cfc", NULL, 0, NULL, "cfc",
	                                     NULL),
	                 ROUTER_OK);
	memset(like, 0x41, 40);
	like[39] = 0xff;
	like[40] = '%';
	assert_int_equal(router__cfc_prefix_range(&v, like, 41, NULL, &kr),
	                 ROUTER_OK);
	assert_int_equal(kr.start_len, ROUTER_KEY_MAX);
	assert_int_equal(kr.end_len, ROUTER_KEY_MAX);
	assert_memory_equal(kr.start, like, ROUTER_KEY_MAX);
	assert_int_equal(kr.end[ROUTER_KEY_MAX - 1], 0x42);
	/* A prefix of 300 bytes (beyond the stack buffer). */
	{
		uint8_t big[301];

		memset(big, 0xff, 300);
		big[300] = '_';
		assert_int_equal(router__cfc_prefix_range(&v, big, 301, NULL,
		                                          &kr),
		                 ROUTER_OK);
		assert_int_equal(kr.start_len, ROUTER_KEY_MAX);
		assert_int_equal(kr.end_len, 0); /* all 0xff: open end */
	}
}

/* A table t keyed by cfc (params p) over shards -40 40-80 80-c0 c0-,
 * with a hash-keyed table h beside it. */
static router_table *four_shards(const router_param *p, size_t np)
{
	static const char *const names[] = {"-40", "40-80", "80-c0", "c0-"};
	const char *col[] = {"k"};
	router_builder *b;
	router_table *t;
	router_error e;

	assert_int_equal(router_builder_create(&b, NULL, &e), ROUTER_OK);
	assert_int_equal(router_builder_add_keyspace(b, "ks", 1, &e), ROUTER_OK);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(router_builder_add_shard(b, "ks", names[i], &e),
		                 ROUTER_OK);
	assert_int_equal(router_builder_add_vindex(b, "ks", "c", "cfc", p, np,
	                                           NULL, &e),
	                 ROUTER_OK);
	assert_int_equal(router_builder_add_vindex(b, "ks", "h", "hash", NULL,
	                                           0, NULL, &e),
	                 ROUTER_OK);
	assert_int_equal(router_builder_add_table(b, "ks", "t",
	                                          ROUTER_TABLE_NORMAL, NULL, &e),
	                 ROUTER_OK);
	assert_int_equal(router_builder_add_column_vindex(b, "ks", "t", "c",
	                                                  col, 1, &e),
	                 ROUTER_OK);
	assert_int_equal(router_builder_add_table(b, "ks", "h",
	                                          ROUTER_TABLE_NORMAL, NULL, &e),
	                 ROUTER_OK);
	assert_int_equal(router_builder_add_column_vindex(b, "ks", "h", "h",
	                                                  col, 1, &e),
	                 ROUTER_OK);
	if (router_table_build(b, &t, &e) != ROUTER_OK)
		fail_msg("build: %s", e.message);
	router_builder_free(b);
	return t;
}

/* The shard names a LIKE literal reaches, joined by ",". */
static int prefix_shards(const router_table *t, const char *like, size_t n,
                         char *got, size_t cap)
{
	router_route_result out[4];
	router_error e;
	size_t k = 0, count;
	int rc = router_table_route_prefix(t, "ks", 2, "t", 1, like, n, out, 4,
	                                   &count, &e);

	got[0] = '\0';
	for (size_t i = 0; rc == ROUTER_OK && i < count; i++)
		k += (size_t)snprintf(got + k, cap - k, "%s%s", i ? "," : "",
		                      out[i].shard);
	return rc;
}

static void route_prefix_gives_the_shards_of_the_key_range(void **state)
{
	router_table *t = four_shards(NULL, 0);
	router_route_result out[4], one;
	router_value v = ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, "\x41zz", 3);
	router_error e;
	char got[64];
	size_t n;

	(void)state;
	/* Identity: 'A%' is [41, 42): one shard, the one 'Azz' routes to. */
	assert_int_equal(prefix_shards(t, "A%", 2, got, sizeof got), ROUTER_OK);
	assert_string_equal(got, "40-80");
	assert_int_equal(router_table_route(t, "ks", 2, "t", 1, &v, 1, &one,
	                                    &e),
	                 ROUTER_OK);
	assert_string_equal(one.shard, "40-80");
	/* '%' and '_x': an empty begin reaches every shard. */
	assert_int_equal(prefix_shards(t, "%", 1, got, sizeof got), ROUTER_OK);
	assert_string_equal(got, "-40,40-80,80-c0,c0-");
	assert_int_equal(prefix_shards(t, "_x", 2, got, sizeof got), ROUTER_OK);
	assert_string_equal(got, "-40,40-80,80-c0,c0-");
	/* [7f, 80): the end is exclusive, 80-c0 is not reached. */
	assert_int_equal(prefix_shards(t, "\x7f%", 2, got, sizeof got),
	                 ROUTER_OK);
	assert_string_equal(got, "40-80");
	/* ff: open to the end. */
	assert_int_equal(prefix_shards(t, "\xff%", 2, got, sizeof got),
	                 ROUTER_OK);
	assert_string_equal(got, "c0-");
	/* Too small an array: ERANGE with the count, the first ones kept. */
	assert_int_equal(router_table_route_prefix(t, "ks", 2, "t", 1, "%", 1,
	                                           out, 2, &n, &e),
	                 ROUTER_ERANGE);
	assert_int_equal(n, 4);
	assert_string_equal(out[1].shard, "40-80");
	assert_int_equal(router_table_route_prefix(t, "ks", 2, "t", 1, "%", 1,
	                                           NULL, 0, &n, &e),
	                 ROUTER_ERANGE);
	assert_int_equal(n, 4);
	/* Not cfc, not found, NULL arguments. */
	assert_int_equal(router_table_route_prefix(t, "ks", 2, "h", 1, "A%", 2,
	                                           out, 4, &n, &e),
	                 ROUTER_EUNSUPPORTED);
	assert_non_null(strstr(e.message, "cfc primary vindex only"));
	assert_int_equal(router_table_route_prefix(t, "ks", 2, "zz", 2, "A%", 2,
	                                           out, 4, &n, &e),
	                 ROUTER_ENOTFOUND);
	assert_int_equal(router_table_route_prefix(NULL, "ks", 2, "t", 1, "A%",
	                                           2, out, 4, &n, &e),
	                 ROUTER_EINVAL);
	assert_int_equal(router_table_route_prefix(t, "ks", 2, "t", 1, NULL, 2,
	                                           out, 4, &n, &e),
	                 ROUTER_EINVAL);
	router_table_free(t);
}

static void route_prefix_with_a_hash_routes_whole_components(void **state)
{
	router_param p[] = {{"hash", "md5"}, {"offsets", "[3,5]"}};
	router_table *t = four_shards(p, 2);
	router_value v = ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, "abcdefg", 7);
	router_route_result one;
	router_error e;
	char got[64];
	router *r;

	(void)state;
	/* md5("abc")[:3] = 900150: [900150, 900151) is in 80-c0, where
	 * every 'abc...' row of at least 5 bytes is. */
	assert_int_equal(prefix_shards(t, "abc%", 4, got, sizeof got),
	                 ROUTER_OK);
	assert_string_equal(got, "80-c0");
	assert_int_equal(router_table_route(t, "ks", 2, "t", 1, &v, 1, &one,
	                                    &e),
	                 ROUTER_OK);
	assert_string_equal(one.shard, "80-c0");
	/* Through the table, Vitess's message for a value too short. */
	v.len = 4;
	assert_int_equal(router_table_route(t, "ks", 2, "t", 1, &v, 1, &one,
	                                    &e),
	                 ROUTER_EINVAL);
	assert_string_equal(e.message,
	                    "insufficient size for cfc vindex c. need 5, "
	                    "got 4");
	assert_string_equal(e.culprit, "ks.t");
	/* 'ab%': no whole component, every shard. */
	assert_int_equal(prefix_shards(t, "ab%", 3, got, sizeof got), ROUTER_OK);
	assert_string_equal(got, "-40,40-80,80-c0,c0-");

	/* The live router: the table in service, names interned. */
	assert_int_equal(router_create(&r, NULL, &e), ROUTER_OK);
	{
		router_route_result out[4];
		size_t n;

		assert_int_equal(router_route_prefix(r, "ks", 2, "t", 1, "abc%",
		                                     4, out, 4, &n, &e),
		                 ROUTER_ENOTFOUND); /* nothing published */
		assert_int_equal(router_publish(r, t, 0, NULL, &e), ROUTER_OK);
		assert_int_equal(router_route_prefix(r, "ks", 2, "t", 1, "abc%",
		                                     4, out, 4, &n, &e),
		                 ROUTER_OK);
		assert_int_equal(n, 1);
		assert_string_equal(out[0].shard, "80-c0");
		assert_int_equal(out[0].shard_index, 2);
		assert_int_equal(router_route_prefix(NULL, "ks", 2, "t", 1,
		                                     "a", 1, out, 4, &n, &e),
		                 ROUTER_EINVAL);
	}
	router_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cfc_vectors_from_file_all_pass),
		cmocka_unit_test(cfc_bad_hash_is_refused_with_vitess_text),
		cmocka_unit_test(cfc_identity_maps_an_integer_to_its_text),
		cmocka_unit_test(multicol_checks_a_cfc_column_then_refuses_it),
		cmocka_unit_test(
		    cfc_keyspace_id_too_long_is_unsupported_with_reason),
		cmocka_unit_test(
		    cfc_prefix_longer_than_a_bound_covers_the_same_shards),
		cmocka_unit_test(route_prefix_gives_the_shards_of_the_key_range),
		cmocka_unit_test(
		    route_prefix_with_a_hash_routes_whole_components),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
