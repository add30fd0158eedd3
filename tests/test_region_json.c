/*
 * The region_json vindex (core/vindex_region.c): every case of
 * data/vectors_region_json.json (vectors_more.json's "region_json": the
 * Vitess docs' vtgate output and cases derived from region_json.go), each
 * through the map inline (region_map_json) and through a map file
 * (region_map), then the errors for a missing or malformed map.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "core/internal.h"
#include "router.h"
#include "router_doc.h"

static size_t unhex(json_t *s, uint8_t *out, size_t cap)
{
	int n = json_is_null(s) ? 0 : tu_unhex(json_string_value(s), out, cap);

	assert_true(n >= 0);
	return (size_t)n;
}

/* A vector's {"type", "hex"} value (the hex is its text). */
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

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Create the case's vindex with its map inline (file 0) or in a file. */
static int create(json_t *e, int file, router_vindex **v, router_error *err)
{
	static char path[64];
	json_t *contents = json_object_get(e, "region_map_contents");
	const char *rb =
	    json_string_value(json_object_get(json_object_get(e, "params"),
	                                      "region_bytes"));
	char *text = contents ? json_dumps(contents, JSON_COMPACT)
	                      : strdup("{}");
	router_param p[2];
	size_t np = 0;
	int rc;

	if (file) {
		snprintf(path, sizeof path, "/tmp/test_region_json.%ld.json",
		         (long)getpid());
		write_file(path, text);
		p[np++] = (router_param){"region_map", path};
	} else {
		p[np++] = (router_param){"region_map_json", text};
	}
	if (rb != NULL)
		p[np++] = (router_param){"region_bytes", rb};
	rc = router_vindex_create(v, "region_json", p, np, NULL, err);
	if (file)
		unlink(path);
	free(text);
	return rc;
}

static void region_json_vectors_from_file_all_pass(void **state)
{
	json_t *root = tu_load_json("vectors_region_json.json");
	json_t *vec = json_object_get(root, "region_json"), *e;
	size_t i, ran = 0, known = 0;

	(void)state;
	assert_int_equal(json_array_size(vec), 30);
	json_array_foreach(vec, i, e) {
		const char *api = json_string_value(json_object_get(e, "api"));

		for (int file = 0; file < 2; file++) {
			router_vindex *v = NULL;
			router_error err;
			char ctx[160];
			int rc;

			snprintf(ctx, sizeof ctx, "region_json[%zu] (%s) %s", i,
			         json_string_value(json_object_get(e, "source")),
			         file ? "file" : "inline");
			rc = create(e, file, &v, &err);
			if (strcmp(api, "CreateVindex") == 0) {
				assert_int_equal(rc, ROUTER_EREFERENCE);
				assert_string_equal(
				    err.message,
				    json_string_value(
				        json_object_get(e, "expected_error")));
				continue;
			}
			if (rc != ROUTER_OK)
				fail_msg("%s: %s", ctx, err.message);
			{
				json_t *row = json_array_get(
				    json_object_get(e, "rows"), 0);
				json_t *want = json_array_get(
				    json_object_get(e, "expected"), 0);
				const char *dest = json_string_value(
				    json_object_get(want, "dest"));
				uint8_t b[2][64], out[32];
				router_value vals[2];
				size_t n = json_array_size(row), len;

				for (size_t c = 0; c < n && c < 2; c++)
					vals[c] = value_of(json_array_get(row, c),
					                   b[c], sizeof b[c]);
				rc = router_vindex_map(v, vals, n, out,
				                       sizeof out, &len, &err);
				if (n != 2) {
					/* Vitess: DestinationNone; librouter:
					 * the wrong number of values is
					 * ROUTER_EINVAL, as for every vindex. */
					assert_int_equal(rc, ROUTER_EINVAL);
				} else if (strcmp(dest, "None") == 0) {
					assert_int_equal(rc, ROUTER_NONE);
				} else {
					char got[65];

					assert_int_equal(rc, ROUTER_OK);
					tu_hex(out, len, got);
					if (strcmp(got,
					           json_string_value(json_object_get(
					               want, "ksid_hex"))) != 0)
						fail_msg("%s: %s", ctx, got);
				}
			}
			router_vindex_free(v);
		}
		known += strcmp(json_string_value(json_object_get(e, "kind")),
		                "known_answer_from_docs") == 0;
		ran++;
	}
	assert_int_equal(ran, 30);
	assert_int_equal(known, 16);
	print_message("region_json vectors: %zu of 30 passed, inline and from "
	              "a file (%zu vtgate known answers)\n",
	              ran, known);
	json_decref(root);
}

static void region_json_map_problems_are_clear_errors(void **state)
{
	static const struct {
		const char *map;
		const char *want;
	} bad[] = {
	    {"{\"US\": 1,", "not valid JSON (line 1"},
	    {"[1, 2]", "is an array, not a JSON object"},
	    {"{\"US\": -1}", "value for US is a negative integer"},
	    {"{\"US\": 1.5}", "value for US is a number with a fraction"},
	    {"{\"US\": \"1\"}", "value for US is a string"},
	};
	router_param p[2] = {{"region_map_json", NULL}, {"region_bytes", "1"}};
	router_vindex *v;
	router_error err;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p[0].value = bad[i].map;
		assert_int_equal(router_vindex_create(&v, "region_json", p, 2,
		                                      NULL, &err),
		                 ROUTER_EREFERENCE);
		if (strstr(err.message, bad[i].want) == NULL)
			fail_msg("%s: %s", bad[i].map, err.message);
	}
	/* A missing file: Go's os.ReadFile text, naming the param. */
	p[0] = (router_param){"region_map", "/nonexistent/countries.json"};
	assert_int_equal(router_vindex_create(&v, "region_json", p, 2, NULL,
	                                      &err),
	                 ROUTER_EREFERENCE);
	assert_string_equal(err.message,
	                    "open /nonexistent/countries.json: no such file "
	                    "or directory (param 'region_map')");
	/* No map at all: Vitess reads the path "". */
	assert_int_equal(router_vindex_create(&v, "region_json", &p[1], 1, NULL,
	                                      &err),
	                 ROUTER_EREFERENCE);
	assert_string_equal(err.message,
	                    "open : no such file or directory (param "
	                    "'region_map')");
	/* Both: the inline map is read, the file is not opened. */
	{
		router_param both[3] = {
		    {"region_map", "/nonexistent/countries.json"},
		    {"region_map_json", "{\"US\": 1}"},
		    {"region_bytes", "1"}};

		assert_int_equal(router_vindex_create(&v, "region_json", both,
		                                      3, NULL, &err),
		                 ROUTER_OK);
		router_vindex_free(v);
	}
	/* A null map is empty: every region misses. */
	p[0] = (router_param){"region_map_json", "null"};
	assert_int_equal(router_vindex_create(&v, "region_json", p, 2, NULL,
	                                      &err),
	                 ROUTER_OK);
	{
		router_value vals[2] = {ROUTER_VALUE_INT64(1),
		                        ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR,
		                                           "US", 2)};
		uint8_t out[32];
		size_t len;

		assert_int_equal(router_vindex_map(v, vals, 2, out, sizeof out,
		                                   &len, &err),
		                 ROUTER_NONE);
	}
	router_vindex_free(v);
}

static void region_json_id_text_follows_fastparse(void **state)
{
	router_param p[2] = {{"region_map_json", "{\"US\": 1}"},
	                     {"region_bytes", "1"}};
	static const struct {
		const char *id;
		int rc;
	} ids[] = {{" 1\t", ROUTER_OK}, {"1", ROUTER_OK},
	           {"+1", ROUTER_NONE}, {"1x", ROUTER_NONE},
	           {"", ROUTER_NONE},   {"18446744073709551616", ROUTER_NONE},
	           {"18446744073709551615", ROUTER_OK},
	           /* fastparse's overflow test misses this wrap. */
	           {"20500000000000000000", ROUTER_OK},
	           {"99999999999999999999", ROUTER_NONE}};
	router_vindex *v;
	router_error err;

	(void)state;
	assert_int_equal(router_vindex_create(&v, "region_json", p, 2, NULL,
	                                      &err),
	                 ROUTER_OK);
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		router_value vals[2] = {
		    ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, ids[i].id,
		                       strlen(ids[i].id)),
		    ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, "US", 2)};
		uint8_t out[32];
		size_t len;
		int rc = router_vindex_map(v, vals, 2, out, sizeof out, &len,
		                           &err);

		if (rc != ids[i].rc)
			fail_msg("id '%s': %s", ids[i].id, router_errname(rc));
		if (rc == ROUTER_OK && ids[i].id[0] == '2') {
			/* The id vtgate hashes: the wrapped value. */
			router_value w[2] = {
			    ROUTER_VALUE_UINT64(2053255926290448384ULL),
			    ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, "US", 2)};
			uint8_t o2[32];
			size_t l2;

			assert_int_equal(router_vindex_map(v, w, 2, o2,
			                                   sizeof o2, &l2,
			                                   &err),
			                 ROUTER_OK);
			assert_memory_equal(out, o2, 9);
		}
		if (rc == ROUTER_OK && strcmp(ids[i].id, "1") == 0) {
			char got[32];

			tu_hex(out, len, got);
			assert_string_equal(got, "01166b40b44aba4bd6");
		}
	}
	router_vindex_free(v);
}

/* Route (id, country) in the example's customer table. */
static int route_example(const router_table *t, int64_t id,
                         const char *country, router_route_result *res)
{
	router_value vals[2] = {
	    ROUTER_VALUE_INT64(id),
	    ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, country, strlen(country))};

	return router_table_route(t, "customer", 8, "customer", 8, vals, 2,
	                          res, NULL);
}

/* Vitess's example (examples/region_sharding): region_json_sharded.json
 * names ./countries.json.  Loaded from its file, the map is read once and
 * added inline beside region_map (the dump carries it, so the dump loads
 * from memory with the same content hash, and still names the file for
 * Vitess); the same document from memory reads no file. */
static void region_map_follows_the_json_path_file_policy(void **state)
{
	static const char *const two[] = {"-80", "80-"};
	router_doc_shards sh = {"customer", two, 2};
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	char path[512], *dump = NULL, *doc;
	router_table *t = NULL, *t2 = NULL;
	router_route_result res;
	router_error e;
	size_t len;
	FILE *f;
	long n;

	(void)state;
	o.keyspace = "customer";
	o.shards = &sh;
	o.nshards = 1;
	snprintf(path, sizeof path, "%s/examples/region_json_sharded.json",
	         tu_data_dir());
	assert_int_equal(router_doc_load_file(path, &o, &t, NULL, &e),
	                 ROUTER_OK);
	/* id 1 in the United States: 01166b40b44aba4bd6 (the docs). */
	assert_int_equal(route_example(t, 1, "United States", &res), ROUTER_OK);
	assert_int_equal(res.ksid_len, 9);
	assert_int_equal(res.ksid[0], 0x01);
	assert_string_equal(res.shard, "-80");
	assert_int_equal(route_example(t, 5, "India", &res), ROUTER_OK);
	assert_string_equal(res.shard, "80-"); /* region 192 = 0xc0 */
	assert_int_equal(route_example(t, 1, "Mexico", &res), ROUTER_NONE);

	assert_int_equal(router_doc_dump(t, NULL, 0, NULL, &dump, &len, &e),
	                 ROUTER_OK);
	/* The map inline, and region_map still named for Vitess. */
	assert_non_null(strstr(dump, "region_map_json"));
	assert_non_null(strstr(dump, "./countries.json"));
	assert_int_equal(router_doc_load(dump, len, NULL, &t2, NULL, &e),
	                 ROUTER_OK);
	assert_int_equal(router_table_hash(t2), router_table_hash(t));
	router_table_free(t2);
	free(dump);
	router_table_free(t);

	/* The same document from memory: refused, the file not opened. */
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	doc = malloc((size_t)n);
	assert_int_equal(fread(doc, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_int_equal(router_doc_load(doc, (size_t)n, &o, &t, NULL, &e),
	                 ROUTER_EDOC);
	assert_non_null(strstr(e.message, "param region_map names a local "
	                                  "file (./countries.json)"));
	assert_non_null(strstr(e.message, "region_map_json"));
	free(doc);
}

/* A map file that is missing or not a map: clear errors naming the
 * param, never quoting the content. */
static void region_map_file_problems_name_the_param(void **state)
{
	char dir[] = "/tmp/librouter-rj-XXXXXX", docp[600], mapp[600];
	static const char *const two[] = {"-80", "80-"};
	router_doc_shards sh = {"customer", two, 2};
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_table *t = NULL;
	router_error e;
	FILE *f;

	(void)state;
	o.keyspace = "customer";
	o.shards = &sh;
	o.nshards = 1;
	assert_non_null(mkdtemp(dir));
	snprintf(docp, sizeof docp, "%s/vs.json", dir);
	snprintf(mapp, sizeof mapp, "%s/map.json", dir);
	f = fopen(docp, "w");
	fputs("{\"sharded\": true, \"vindexes\": {\"r\": {\"type\": "
	      "\"region_json\", \"params\": {\"region_map\": \"map.json\", "
	      "\"region_bytes\": \"1\"}}}, \"tables\": {\"customer\": "
	      "{\"column_vindexes\": [{\"columns\": [\"id\", \"c\"], "
	      "\"name\": \"r\"}]}}}",
	      f);
	fclose(f);
	assert_int_equal(router_doc_load_file(docp, &o, &t, NULL, &e),
	                 ROUTER_EREFERENCE);
	assert_non_null(strstr(e.message, "region_map map.json"));
	assert_non_null(strstr(e.message, "(param 'region_map')"));
	write_file(mapp, "SECRET: not json");
	assert_int_equal(router_doc_load_file(docp, &o, &t, NULL, &e),
	                 ROUTER_EREFERENCE);
	assert_non_null(strstr(e.message, "the file is not a region_json map"));
	assert_null(strstr(e.message, "SECRET"));
	write_file(mapp, "{\"US\": 1}");
	assert_int_equal(router_doc_load_file(docp, &o, &t, NULL, &e),
	                 ROUTER_OK);
	router_table_free(t);
	unlink(mapp);
	unlink(docp);
	rmdir(dir);
}

/* Each allocation of creating region_json and cfc vindexes fails in
 * turn: ROUTER_ENOMEM with a message, nothing leaked. */
static void allocation_failures_are_enomem_and_leak_nothing(void **state)
{
	char path[] = "/tmp/librouter-rjmap-XXXXXX";
	int fd = mkstemp(path);
	const router_param rj_inline[] = {
	    {"region_map_json", "{\"US\": 1, \"CA\": 2}"},
	    {"region_bytes", "2"}};
	const router_param rj_file[] = {{"region_map", path},
	                                {"region_bytes", "1"}};
	const router_param cfc[] = {{"hash", "xxhash64"},
	                            {"offsets", "[1, 2, 3]"}};
	const struct {
		const char *type;
		const router_param *p;
		size_t min_calls; /* vindex + its own allocations */
	} runs[] = {{"region_json", rj_inline, 3},
	            {"region_json", rj_file, 4},
	            {"cfc", cfc, 2}};

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"US\": 1}", 9), 9);
	close(fd);
	for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
		int ok = 0;

		for (long fail_at = 0; !ok && fail_at < 100; fail_at++) {
			tu_alloc t = {0, fail_at, 0, 0, 0, 0};
			router_allocator a = TU_ALLOCATOR(&t);
			router_vindex *v = NULL;
			router_error err;
			int rc = router_vindex_create(&v, runs[r].type,
			                              runs[r].p, 2, &a, &err);

			if (rc == ROUTER_OK) {
				ok = 1;
				assert_true(t.calls >= (long)runs[r].min_calls);
				router_vindex_free(v);
			} else {
				if (rc != ROUTER_ENOMEM)
					fail_msg("%s fail_at %ld: %s", runs[r].type,
					         fail_at, err.message);
				assert_non_null(strstr(err.message,
				                       "out of memory"));
				assert_null(v);
			}
			if (t.live != 0)
				fail_msg("%s fail_at %ld: %ld blocks leaked",
				         runs[r].type, fail_at, t.live);
		}
		assert_true(ok);
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(region_json_vectors_from_file_all_pass),
		cmocka_unit_test(region_json_map_problems_are_clear_errors),
		cmocka_unit_test(region_json_id_text_follows_fastparse),
		cmocka_unit_test(region_map_follows_the_json_path_file_policy),
		cmocka_unit_test(region_map_file_problems_name_the_param),
		cmocka_unit_test(allocation_failures_are_enomem_and_leak_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
