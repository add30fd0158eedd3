/*
 * Vindex tests: every known-answer vector from data files (vectors.json
 * "vindex" and "reverse_map", vectors_multicol.json), then the behaviour
 * around them: params, errors, arguments, fast path, allocation failure.
 */
#include <inttypes.h>
#include <stdint.h>
#include <unistd.h>

#include "testutil.h"

#include "core/internal.h"
#include "router.h"

#define MAXP 8

/* ---- building values and params from vector entries -------------------- */

/* Storage for the bytes of one decoded value. */
typedef struct tbuf {
	uint8_t b[512];
} tbuf;

/* One value from an entry's input / input_kind / input_hex (hex may be
 * NULL).  Strings point into the JSON, which outlives the call. */
static router_value make_value(json_t *input, const char *kind, json_t *hex,
                               tbuf *store, const char *ctx)
{
	router_value v = ROUTER_VALUE_NULL;
	const char *text = json_is_string(input) ? json_string_value(input)
	                                         : NULL;
	router_sqltype t;

	if (strcmp(kind, "null") == 0)
		return v;
	if (text == NULL)
		fail_msg("%s: input is not a string", ctx);
	if (strcmp(kind, "int64") == 0 || strcmp(kind, "int32") == 0 ||
	    strcmp(kind, "uint64") == 0) {
		t = kind[0] == 'u' ? ROUTER_SQL_UINT64 : ROUTER_SQL_INT64;
		if (router_value_parse(t, text, strlen(text), &v, NULL) !=
		    ROUTER_OK)
			fail_msg("%s: cannot parse %s '%s'", ctx, kind, text);
		return v;
	}
	if (strcmp(kind, "float64") == 0)
		return ROUTER_VALUE_BYTES(ROUTER_SQL_FLOAT64, text,
		                          strlen(text));
	if (strcmp(kind, "varchar") == 0 || strcmp(kind, "varbinary") == 0) {
		t = kind[4] == 'h' ? ROUTER_SQL_VARCHAR : ROUTER_SQL_VARBINARY;
		if (json_is_string(hex)) {
			int n = tu_unhex(json_string_value(hex), store->b,
			                 sizeof store->b);

			if (n < 0)
				fail_msg("%s: bad input_hex", ctx);
			return ROUTER_VALUE_BYTES(t, store->b, (size_t)n);
		}
		return ROUTER_VALUE_BYTES(t, text, strlen(text));
	}
	fail_msg("%s: unknown input_kind '%s'", ctx, kind);
	return v;
}

/* The values of an entry: one, or one per element of array inputs. */
static size_t make_values(json_t *e, router_value *vals, tbuf *store,
                          const char *ctx)
{
	json_t *in = json_object_get(e, "input");
	json_t *kind = json_object_get(e, "input_kind");
	json_t *hex = json_object_get(e, "input_hex");

	if (json_is_array(kind)) {
		size_t n = json_array_size(kind);

		assert_true(n <= MAXP);
		assert_int_equal(json_array_size(in), n);
		for (size_t i = 0; i < n; i++)
			vals[i] = make_value(json_array_get(in, i),
			                     json_string_value(
			                         json_array_get(kind, i)),
			                     json_is_array(hex)
			                         ? json_array_get(hex, i)
			                         : NULL,
			                     &store[i], ctx);
		return n;
	}
	vals[0] = make_value(in, json_string_value(kind), hex, &store[0], ctx);
	return 1;
}

/* Paths given as json_path params ("testdata/x.json  (content: {...})" in
 * vectors.json) point at the copy under tests/data; the content quoted in
 * the vector is checked against that file. */
static char param_paths[MAXP][512];

static const char *resolve_json_path(const char *val, size_t slot)
{
	const char *sp = strchr(val, ' ');
	size_t len = sp != NULL ? (size_t)(sp - val) : strlen(val);
	const char *base = val;
	const char *content;

	for (size_t i = 0; i < len; i++)
		if (val[i] == '/')
			base = val + i + 1;
	snprintf(param_paths[slot], sizeof param_paths[slot], "%s/%.*s",
	         tu_data_dir(), (int)(len - (size_t)(base - val)), base);
	content = strstr(val, "(content: ");
	if (content != NULL) {
		json_error_t jerr;
		const char *body = content + strlen("(content: ");
		size_t blen = strlen(body);
		json_t *want, *have;

		assert_true(blen > 0 && body[blen - 1] == ')');
		want = json_loadb(body, blen - 1, 0, &jerr);
		have = json_load_file(param_paths[slot], 0, &jerr);
		assert_non_null(want);
		if (have == NULL)
			fail_msg("cannot load %s", param_paths[slot]);
		assert_true(json_equal(want, have));
		json_decref(want);
		json_decref(have);
	}
	return param_paths[slot];
}

static size_t make_params(json_t *obj, router_param *p)
{
	const char *key;
	json_t *val;
	size_t n = 0;

	if (!json_is_object(obj))
		return 0;
	json_object_foreach(obj, key, val) {
		assert_true(n < MAXP);
		assert_true(json_is_string(val));
		p[n].key = key;
		p[n].value = json_string_value(val);
		if (strcmp(key, "json_path") == 0)
			p[n].value = resolve_json_path(p[n].value, n);
		n++;
	}
	return n;
}

static int is_unicode_loose(const char *type)
{
	return strncmp(type, "unicode_loose_", 14) == 0;
}

/* Map an entry's values through type/params; returns the status. */
static int map_entry(const char *type, json_t *params, json_t *e,
                     uint8_t *out, size_t cap, size_t *len, const char *ctx)
{
	router_param p[MAXP];
	router_value vals[MAXP];
	tbuf store[MAXP];
	router_vindex *v = NULL;
	router_error err;
	size_t np = make_params(params, p);
	size_t nv = make_values(e, vals, store, ctx);
	int rc;

	rc = router_vindex_create(&v, type, p, np, NULL, &err);
	if (rc != ROUTER_OK)
		fail_msg("%s: create %s: %s: %s", ctx, type, router_errname(rc),
		         err.message);
	rc = router_vindex_map(v, vals, nv, out, cap, len, &err);
	router_vindex_free(v);
	return rc;
}

static void expect_ksid(int rc, const uint8_t *ksid, size_t len,
                        const char *want_hex, const char *ctx)
{
	char got[2 * 64 + 1];

	if (rc != ROUTER_OK)
		fail_msg("%s: %s, want a keyspace ID %s", ctx,
		         router_errname(rc), want_hex);
	assert_true(len <= 64);
	tu_hex(ksid, len, got);
	if (strcmp(got, want_hex) != 0)
		fail_msg("%s: ksid %s, want %s", ctx, got, want_hex);
}

/* ---- vectors.json --------------------------------------------------------- */

static void vindex_vectors_from_file_all_pass(void **state)
{
	json_t *root = tu_load_json("vectors.json");
	json_t *vec = json_object_get(root, "vindex");
	size_t i, ran = 0, ksids = 0, nones = 0, loose = 0;
	json_t *e;

	(void)state;
	assert_true(json_array_size(vec) > 0);
	json_array_foreach(vec, i, e) {
		const char *type = json_string_value(json_object_get(e, "type"));
		const char *expect =
		    json_string_value(json_object_get(e, "expect"));
		uint8_t out[64];
		size_t len = 99;
		char ctx[160];
		int rc;

		snprintf(ctx, sizeof ctx, "vindex[%zu] %s (%s)", i, type,
		         json_string_value(json_object_get(e, "test")));
		rc = map_entry(type, json_object_get(e, "params"), e, out,
		               sizeof out, &len, ctx);
		if (strcmp(expect, "ksid") == 0) {
			expect_ksid(rc, out, len,
			            json_string_value(
			                json_object_get(e, "ksid_hex")),
			            ctx);
			ksids++;
			loose += is_unicode_loose(type);
		} else if (strcmp(expect, "none") == 0 ||
		           strcmp(expect, "error") == 0) {
			/* "error" vectors are Vitess's Verify(); Map() turns
			 * the same conversion failure into DestinationNone. */
			if (rc != ROUTER_NONE)
				fail_msg("%s: %s, want ROUTER_NONE", ctx,
				         router_errname(rc));
			assert_int_equal(len, 0);
			nones++;
		} else {
			fail_msg("%s: unknown expect '%s'", ctx, expect);
		}
		ran++;
	}
	assert_int_equal(ran, json_array_size(vec));
	assert_int_equal(ksids + nones, ran);
	/* Every unicode_loose_* vector of vectors.json is now computed (and
	 * none is skipped): the collation key of collate.c. */
	assert_true(loose >= 22);
	print_message("vindex vectors: %zu run (%zu ksid, %zu of them "
	              "unicode_loose_*, %zu none/error)\n",
	              ran, ksids, loose, nones);
	json_decref(root);
}

/* reverse_map vectors: there is no ReverseMap here, but every entry with an
 * output must map forward to its keyspace ID.  Error entries (ReverseMap's
 * own failures) have nothing to check forward and are counted as such. */
static void reverse_map_vectors_map_forward(void **state)
{
	json_t *root = tu_load_json("vectors.json");
	json_t *vec = json_object_get(root, "reverse_map");
	size_t i, forward = 0, reverse_only = 0;
	json_t *e;

	(void)state;
	assert_true(json_array_size(vec) > 0);
	json_array_foreach(vec, i, e) {
		const char *type = json_string_value(json_object_get(e, "type"));
		json_t *in;
		uint8_t out[64];
		size_t len;
		char ctx[160];
		int rc;

		snprintf(ctx, sizeof ctx, "reverse_map[%zu] %s (%s)", i, type,
		         json_string_value(json_object_get(e, "test")));
		if (json_object_get(e, "error") != NULL) {
			reverse_only++;
			continue;
		}
		/* Turn the entry into a forward one. */
		in = json_pack("{s:O?, s:O, s:O?}", "input",
		               json_object_get(e, "output"), "input_kind",
		               json_object_get(e, "output_kind"), "input_hex",
		               json_object_get(e, "output_hex"));
		assert_non_null(in);
		if (json_is_null(json_object_get(in, "input")))
			json_object_set_new(in, "input", json_string(""));
		rc = map_entry(type, NULL, in, out, sizeof out, &len, ctx);
		expect_ksid(rc, out, len,
		            json_string_value(json_object_get(e, "ksid_hex")),
		            ctx);
		json_decref(in);
		forward++;
	}
	assert_int_equal(forward + reverse_only, json_array_size(vec));
	assert_true(forward > 0);
	print_message("reverse_map vectors: %zu mapped forward, %zu "
	              "ReverseMap-only errors\n",
	              forward, reverse_only);
	json_decref(root);
}

/* ---- vectors_multicol.json ------------------------------------------------ */

static void multicol_map_vectors_from_file_all_pass(void **state)
{
	json_t *root = tu_load_json("vectors_multicol.json");
	json_t *vec = json_object_get(root, "map");
	size_t i, ran = 0;
	json_t *e;

	(void)state;
	assert_true(json_array_size(vec) > 0);
	json_array_foreach(vec, i, e) {
		const char *expect =
		    json_string_value(json_object_get(e, "expect"));
		uint8_t out[64];
		size_t len = 99;
		char ctx[160];
		int rc;

		snprintf(ctx, sizeof ctx, "multicol map[%zu] (%s)", i,
		         json_string_value(json_object_get(e, "test")));
		rc = map_entry("multicol", json_object_get(e, "params"), e, out,
		               sizeof out, &len, ctx);
		if (strcmp(expect, "ksid") == 0) {
			expect_ksid(rc, out, len,
			            json_string_value(
			                json_object_get(e, "ksid_hex")),
			            ctx);
		} else if (strcmp(expect, "none") == 0) {
			if (rc != ROUTER_NONE)
				fail_msg("%s: %s, want ROUTER_NONE", ctx,
				         router_errname(rc));
		} else if (strcmp(expect, "keyrange") == 0) {
			/* Partial column lists are out of scope. */
			if (rc != ROUTER_EINVAL)
				fail_msg("%s: %s, want ROUTER_EINVAL", ctx,
				         router_errname(rc));
		} else {
			fail_msg("%s: unknown expect '%s'", ctx, expect);
		}
		ran++;
	}
	assert_int_equal(ran, json_array_size(vec));
	json_decref(root);
}

static void multicol_create_vectors_from_file_all_pass(void **state)
{
	json_t *root = tu_load_json("vectors_multicol.json");
	json_t *vec = json_object_get(root, "create");
	size_t i, ran = 0;
	json_t *e;

	(void)state;
	assert_true(json_array_size(vec) > 0);
	json_array_foreach(vec, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *expect =
		    json_string_value(json_object_get(e, "expect"));
		router_param p[MAXP];
		size_t np = make_params(json_object_get(e, "params"), p);
		router__vindex v;
		router_error err;
		int rc;

		rc = router__vindex_init(&v, "multicol", p, np, NULL, "mc",
		                         &err);
		if (strcmp(expect, "ok") == 0) {
			int cost = 0;

			if (rc != ROUTER_OK)
				fail_msg("create[%zu] %s: %s: %s", i, name,
				         router_errname(rc), err.message);
			/* Vitess's Cost(): the sum of the columns'. */
			for (unsigned c = 0; c < v.u.mc.ncols; c++)
				cost += v.u.mc.col[c]->cost;
			assert_int_equal(
			    cost, json_integer_value(json_object_get(e, "cost")));
			assert_int_equal(router__vindex_arity(&v),
			                 v.u.mc.ncols);
			router__vindex_fini(&v, NULL);
		} else {
			const char *want =
			    json_string_value(json_object_get(e, "error"));

			if (rc != ROUTER_EREFERENCE)
				fail_msg("create[%zu] %s: %s, want "
				         "ROUTER_EREFERENCE",
				         i, name, router_errname(rc));
			if (strstr(err.message, want) != err.message)
				fail_msg("create[%zu] %s: message '%s', want "
				         "it to start with '%s'",
				         i, name, err.message, want);
			assert_string_equal(err.culprit, "mc");
			assert_null(v.type); /* failed init holds nothing */
		}
		ran++;
	}
	assert_int_equal(ran, json_array_size(vec));
	json_decref(root);
}

/* ---- registry ------------------------------------------------------------- */

static void registry_holds_every_vitess_type_with_its_facts(void **state)
{
	static const struct {
		const char *name;
		router__vkind kind;
		int unique, hashing, multi, cost;
	} want[] = {
		{"binary", ROUTER__V_BINARY, 1, 1, 0, 0},
		{"binary_md5", ROUTER__V_BINARY_MD5, 1, 1, 0, 1},
		{"cfc", ROUTER__V_CFC, 1, 0, 0, 1},
		{"consistent_lookup", ROUTER__V_LOOKUP, 0, 0, 0, 20},
		{"consistent_lookup_unique", ROUTER__V_LOOKUP, 1, 0, 0, 10},
		{"hash", ROUTER__V_HASH, 1, 1, 0, 1},
		{"lookup", ROUTER__V_LOOKUP, 0, 0, 0, 20},
		{"lookup_hash", ROUTER__V_LOOKUP, 0, 0, 0, 20},
		{"lookup_hash_unique", ROUTER__V_LOOKUP, 1, 0, 0, 10},
		{"lookup_unicodeloosemd5_hash", ROUTER__V_LOOKUP, 0, 0, 0, 20},
		{"lookup_unicodeloosemd5_hash_unique", ROUTER__V_LOOKUP, 1, 0,
		 0, 10},
		{"lookup_unique", ROUTER__V_LOOKUP, 1, 0, 0, 10},
		{"multicol", ROUTER__V_MULTICOL, 1, 0, 1, 1},
		{"null", ROUTER__V_NULL, 1, 0, 0, 100},
		{"numeric", ROUTER__V_NUMERIC, 1, 1, 0, 0},
		{"numeric_static_map", ROUTER__V_NUMERIC_STATIC_MAP, 1, 1, 0,
		 1},
		{"region_experimental", ROUTER__V_REGION_EXPERIMENTAL, 1, 0, 1,
		 1},
		{"region_json", ROUTER__V_REGION_JSON, 1, 0, 1, 1},
		{"reverse_bits", ROUTER__V_REVERSE_BITS, 1, 1, 0, 1},
		{"unicode_loose_md5", ROUTER__V_UNICODE_LOOSE_MD5, 1, 1, 0, 1},
		{"unicode_loose_xxhash", ROUTER__V_UNICODE_LOOSE_XXHASH, 1, 1, 0, 1},
		{"xxhash", ROUTER__V_XXHASH, 1, 1, 0, 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const router__vtype *t =
		    router__vtype_find(want[i].name, strlen(want[i].name));

		if (t == NULL)
			fail_msg("type %s not registered", want[i].name);
		assert_string_equal(t->name, want[i].name);
		assert_int_equal(t->kind, want[i].kind);
		assert_int_equal(t->unique, want[i].unique);
		assert_int_equal(t->hashing, want[i].hashing);
		assert_int_equal(t->multi_column, want[i].multi);
		assert_int_equal(t->cost, want[i].cost);
	}
	/* (name, len): prefixes and longer names are other names. */
	assert_non_null(router__vtype_find("hashxyz", 4));
	assert_null(router__vtype_find("hash", 3));
	assert_null(router__vtype_find("hashx", 5));
	assert_null(router__vtype_find("", 0));
	assert_null(router__vtype_find("zzz", 3));
	assert_null(router__vtype_find("Hash", 4));
	assert_null(router__vtype_find(NULL, 0));
}

static void unknown_type_is_ereference_with_vitess_message(void **state)
{
	router_vindex *v = (router_vindex *)(uintptr_t)1; /* must be reset */
	router_error err;

	(void)state;
	assert_int_equal(router_vindex_create(&v, "nope", NULL, 0, NULL, &err),
	                 ROUTER_EREFERENCE);
	assert_null(v);
	assert_int_equal(err.code, ROUTER_EREFERENCE);
	assert_string_equal(err.message, "vindexType \"nope\" not found");
	assert_string_equal(err.culprit, "nope");
	/* Go's %q quoting of odd names. */
	assert_int_equal(router_vindex_create(&v, "a\"b\n", NULL, 0, NULL,
	                                      &err),
	                 ROUTER_EREFERENCE);
	assert_string_equal(err.message,
	                    "vindexType \"a\\\"b\\n\" not found");
}

/* ---- params -------------------------------------------------------------- */

typedef struct bad_case {
	const char *type;
	router_param p[4];
	size_t np;
	int code;
	const char *msg; /* the message must contain it */
} bad_case;

static void check_bad(const bad_case *c)
{
	router_vindex *v = NULL;
	router_error err;
	int rc = router_vindex_create(&v, c->type, c->p, c->np, NULL, &err);

	if (rc != c->code)
		fail_msg("%s %s=%s: %s, want %s (%s)", c->type,
		         c->np ? c->p[0].key : "", c->np ? c->p[0].value : "",
		         router_errname(rc), router_errname(c->code),
		         rc != ROUTER_OK ? err.message : "");
	assert_null(v);
	if (strstr(err.message, c->msg) == NULL)
		fail_msg("%s: message '%s' lacks '%s'", c->type, err.message,
		         c->msg);
	assert_string_equal(err.culprit, c->type);
}

static void numeric_static_map_bad_params_are_refused_clearly(void **state)
{
	static const bad_case cases[] = {
		{"numeric_static_map", {{"fallback_type", "hash"}}, 1,
		 ROUTER_EREFERENCE,
		 "NumericStaticMap: Could not find either `json_path` or "
		 "`json` params in vschema"},
		{"numeric_static_map",
		 {{"json", "{}"}, {"json_path", "x.json"}}, 2,
		 ROUTER_EREFERENCE,
		 "NumericStaticMap: Found both `json` and `json_path` params "
		 "in vschema"},
		/* Syntax: jansson's text, with line and column. */
		{"numeric_static_map", {{"json", "abc"}}, 1, ROUTER_EREFERENCE,
		 "invalid JSON at line 1, column 3: invalid token near 'abc' "
		 "(param 'json')"},
		{"numeric_static_map", {{"json", ""}}, 1, ROUTER_EREFERENCE,
		 "invalid JSON at line 1, column 0: unexpected token near end "
		 "of file"},
		{"numeric_static_map", {{"json", "{\"1\": 1"}}, 1,
		 ROUTER_EREFERENCE,
		 "invalid JSON at line 1, column 7: '}' expected near end of "
		 "file"},
		{"numeric_static_map", {{"json", "{1: 1}"}}, 1,
		 ROUTER_EREFERENCE,
		 "line 1, column 2: string or '}' expected near '1'"},
		{"numeric_static_map", {{"json", "{\"1\" 1}"}}, 1,
		 ROUTER_EREFERENCE, "line 1, column 6: ':' expected near '1'"},
		{"numeric_static_map", {{"json", "{\"1\": 1 \"2\": 2}"}}, 1,
		 ROUTER_EREFERENCE,
		 "line 1, column 11: '}' expected near '\"2\"'"},
		{"numeric_static_map", {{"json", "{\"1\": 01}"}}, 1,
		 ROUTER_EREFERENCE, "line 1, column 7: invalid token near '0'"},
		{"numeric_static_map", {{"json", "{\"1\": 1.}"}}, 1,
		 ROUTER_EREFERENCE, "line 1, column 8: invalid token near '1.'"},
		{"numeric_static_map", {{"json", "{\"1\": -x}"}}, 1,
		 ROUTER_EREFERENCE, "line 1, column 7: invalid token near '-'"},
		{"numeric_static_map", {{"json", "{\"1\": 1e}"}}, 1,
		 ROUTER_EREFERENCE, "line 1, column 8: invalid token near '1e'"},
		{"numeric_static_map", {{"json", "{\"1\": tru}"}}, 1,
		 ROUTER_EREFERENCE,
		 "line 1, column 9: invalid token near 'tru'"},
		{"numeric_static_map", {{"json", "{\"a\\q\": 1}"}}, 1,
		 ROUTER_EREFERENCE,
		 "line 1, column 5: invalid escape near '\"a\\q'"},
		{"numeric_static_map", {{"json", "{\"\\u12x4\": 1}"}}, 1,
		 ROUTER_EREFERENCE,
		 "line 1, column 7: invalid escape near '\"\\u12x'"},
		{"numeric_static_map", {{"json", "{\"a\nb\": 1}"}}, 1,
		 ROUTER_EREFERENCE,
		 "line 1, column 3: unexpected newline near '\"a'"},
		{"numeric_static_map", {{"json", "{} {}"}}, 1,
		 ROUTER_EREFERENCE,
		 "line 1, column 4: end of file expected near '{'"},
		{"numeric_static_map", {{"json", "{\"1\": [1,]}"}}, 1,
		 ROUTER_EREFERENCE,
		 "line 1, column 10: unexpected token near ']'"},
		{"numeric_static_map", {{"json", "{\"1\": [1 2]}"}}, 1,
		 ROUTER_EREFERENCE, "line 1, column 10: ']' expected near '2'"},
		{"numeric_static_map", {{"json", "{\"\\u0000\": 1}"}}, 1,
		 ROUTER_EREFERENCE,
		 "line 1, column 9: NUL byte in object key not supported"},
		/* The line counts. */
		{"numeric_static_map", {{"json", "{\"1\": 1,\n \"2\": 2,\n ?}"}},
		 1, ROUTER_EREFERENCE,
		 "invalid JSON at line 3, column 2: string or '}' expected near "
		 "'?'"},
		/* Syntax errors anywhere win over wrong values. */
		{"numeric_static_map", {{"json", "{\"1\": \"x\", \"2\": ?}"}}, 1,
		 ROUTER_EREFERENCE,
		 "line 1, column 17: invalid token near '?'"},
		/* The table must be an object (or null). */
		{"numeric_static_map", {{"json", "[1]"}}, 1, ROUTER_EREFERENCE,
		 "the table is an array, not a JSON object of \"key\": value "
		 "pairs (param 'json')"},
		{"numeric_static_map", {{"json", "5"}}, 1, ROUTER_EREFERENCE,
		 "the table is an integer, not a JSON object"},
		{"numeric_static_map", {{"json", "\"x\""}}, 1, ROUTER_EREFERENCE,
		 "the table is a string, not a JSON object"},
		/* Values: unsigned 64-bit integers (or null, which is 0). */
		{"numeric_static_map", {{"json", "{\"1\": \"2\"}"}}, 1,
		 ROUTER_EREFERENCE,
		 "value of key \"1\" is a string, not an unsigned 64-bit "
		 "integer (param 'json')"},
		{"numeric_static_map", {{"json", "{\"1\": -1}"}}, 1,
		 ROUTER_EREFERENCE,
		 "value of key \"1\" is the negative integer -1, not an "
		 "unsigned 64-bit integer"},
		{"numeric_static_map", {{"json", "{\"1\": 1.5}"}}, 1,
		 ROUTER_EREFERENCE,
		 "value of key \"1\" is a number with a fraction or an "
		 "exponent (1.5), not an unsigned 64-bit integer"},
		{"numeric_static_map", {{"json", "{\"1\": 1.0}"}}, 1,
		 ROUTER_EREFERENCE,
		 "value of key \"1\" is a number with a fraction or an "
		 "exponent (1.0)"},
		{"numeric_static_map", {{"json", "{\"1\": 2e3}"}}, 1,
		 ROUTER_EREFERENCE,
		 "value of key \"1\" is a number with a fraction or an "
		 "exponent (2000.0)"},
		{"numeric_static_map",
		 {{"json", "{\"1\": 18446744073709551616}"}}, 1,
		 ROUTER_EREFERENCE,
		 "number out of range at line 1, column 26: too big integer "
		 "near '18446744073709551616'; values must be integers from 0 "
		 "to 18446744073709551615 (param 'json')"},
		{"numeric_static_map",
		 {{"json", "{\"1\": -9223372036854775809}"}}, 1,
		 ROUTER_EREFERENCE,
		 "number out of range at line 1, column 26: too big negative "
		 "integer"},
		{"numeric_static_map", {{"json", "{\"1\": 1e400}"}}, 1,
		 ROUTER_EREFERENCE,
		 "number out of range at line 1, column 11: real number "
		 "overflow near '1e400'"},
		{"numeric_static_map", {{"json", "{\"1\": true}"}}, 1,
		 ROUTER_EREFERENCE,
		 "value of key \"1\" is a boolean, not an unsigned 64-bit "
		 "integer"},
		{"numeric_static_map", {{"json", "{\"1\": {}}"}}, 1,
		 ROUTER_EREFERENCE,
		 "value of key \"1\" is an object, not an unsigned 64-bit "
		 "integer"},
		{"numeric_static_map", {{"json", "{\"1\": [1]}"}}, 1,
		 ROUTER_EREFERENCE,
		 "value of key \"1\" is an array, not an unsigned 64-bit "
		 "integer"},
		/* Keys: strconv.ParseUint's syntax; the first bad member in
		 * document order is named. */
		{"numeric_static_map", {{"json", "{\"a\": 1, \"1\": \"x\"}"}}, 1,
		 ROUTER_EREFERENCE,
		 "key \"a\" is not the decimal text of an unsigned integer "
		 "(param 'json')"},
		{"numeric_static_map", {{"json", "{\"1\": \"x\", \"a\": 1}"}}, 1,
		 ROUTER_EREFERENCE, "value of key \"1\" is a string"},
		{"numeric_static_map", {{"json", "{\"\": 1}"}}, 1,
		 ROUTER_EREFERENCE,
		 "key \"\" is not the decimal text of an unsigned integer"},
		{"numeric_static_map", {{"json", "{\"-1\": 1}"}}, 1,
		 ROUTER_EREFERENCE,
		 "key \"-1\" is not the decimal text of an unsigned integer"},
		{"numeric_static_map", {{"json", "{\"+1\": 1}"}}, 1,
		 ROUTER_EREFERENCE,
		 "key \"+1\" is not the decimal text of an unsigned integer"},
		{"numeric_static_map", {{"json", "{\" 1\": 1}"}}, 1,
		 ROUTER_EREFERENCE,
		 "key \" 1\" is not the decimal text of an unsigned integer"},
		{"numeric_static_map",
		 {{"json", "{\"18446744073709551616\": 1}"}}, 1,
		 ROUTER_EREFERENCE,
		 "key \"18446744073709551616\" is out of range: keys must be "
		 "integers from 0 to 18446744073709551615"},
		/* Values above INT64_MAX (read exactly: see below) do not hide
		 * the errors around them, nor move their line and column. */
		{"numeric_static_map",
		 {{"json", "{\"1\": 9223372036854775808, \"2\": -1}"}}, 1,
		 ROUTER_EREFERENCE,
		 "value of key \"2\" is the negative integer -1"},
		{"numeric_static_map",
		 {{"json", "{\"1\": 9223372036854775808, \"2\": \"3\"}"}}, 1,
		 ROUTER_EREFERENCE, "value of key \"2\" is a string"},
		{"numeric_static_map",
		 {{"json", "{\"1\": 18446744073709551615,\n \"2\": x}"}}, 1,
		 ROUTER_EREFERENCE,
		 "invalid JSON at line 2, column 7: invalid token near 'x'"},
		{"numeric_static_map",
		 {{"json", "{\"1\": 9223372036854775808,\n \"2\": "
		           "18446744073709551616}"}}, 1,
		 ROUTER_EREFERENCE,
		 "number out of range at line 2, column 26: too big integer "
		 "near '18446744073709551616'"},
		{"numeric_static_map",
		 {{"json", "{\"1\": 9223372036854775808, \"2\": "
		           "09223372036854775808}"}}, 1,
		 ROUTER_EREFERENCE,
		 "line 1, column 33: invalid token near '0'"},
		{"numeric_static_map",
		 {{"json", "{\"1\": 9223372036854775808.5}"}}, 1,
		 ROUTER_EREFERENCE,
		 "value of key \"1\" is a number with a fraction or an "
		 "exponent"},
		{"numeric_static_map", {{"json", "[18446744073709551615]"}}, 1,
		 ROUTER_EREFERENCE,
		 "number out of range at line 1, column 21: too big integer"},
		/* A string holding what looks like such a value is quoted as
		 * written, not as read. */
		{"numeric_static_map",
		 {{"json", "{\"a: 18446744073709551615 \": 1, \"2\": "
		           "18446744073709551615}"}}, 1,
		 ROUTER_EREFERENCE,
		 "key \"a: 18446744073709551615 \" is not the decimal text of "
		 "an unsigned integer"},
		{"numeric_static_map",
		 {{"json", "{\"2\": 18446744073709551615, \"1\": "
		           "\"x: 18446744073709551615 \"}"}}, 1,
		 ROUTER_EREFERENCE, "value of key \"1\" is a string"},
		/* Files, with os.ReadFile's text. */
		{"numeric_static_map", {{"json_path", "data/no_such_file.json"}},
		 1, ROUTER_EREFERENCE,
		 "open data/no_such_file.json: no such file or directory "
		 "(param 'json_path')"},
		{"numeric_static_map", {{"json_path", "."}}, 1,
		 ROUTER_EREFERENCE, "read .: is a directory"},
		/* Fallbacks Vitess cannot create without params. */
		{"numeric_static_map",
		 {{"json", "{}"}, {"fallback_type", "nope"}}, 2,
		 ROUTER_EREFERENCE,
		 "vindexType \"nope\" not found (param 'fallback_type')"},
		{"numeric_static_map",
		 {{"json", "{}"}, {"fallback_type", "numeric_static_map"}}, 2,
		 ROUTER_EREFERENCE,
		 "NumericStaticMap: Could not find either `json_path` or "
		 "`json` params in vschema (param 'fallback_type')"},
		{"numeric_static_map",
		 {{"json", "{}"}, {"fallback_type", "multicol"}}, 2,
		 ROUTER_EREFERENCE,
		 "number of columns not provided in the parameter "
		 "'column_count'"},
		{"numeric_static_map",
		 {{"json", "{}"}, {"fallback_type", "region_experimental"}}, 2,
		 ROUTER_EREFERENCE,
		 "region_experimental missing region_bytes param"},
		{"numeric_static_map",
		 {{"json", "{}"}, {"fallback_type", "region_json"}}, 2,
		 ROUTER_EREFERENCE, "open : no such file or directory"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_bad(&cases[i]);
}

/* jansson stops at JSON_PARSER_MAX_DEPTH levels (Go at 10000; a nested
 * value is refused there anyway): the message says so. */
static void deep_json_nesting_stops_at_janssons_depth_limit(void **state)
{
	size_t depth = JSON_PARSER_MAX_DEPTH + 1, n = 0;
	char *s = malloc(2 * depth + 16);
	router_param p = {"json", s};
	router_vindex *v = NULL;
	router_error err;

	(void)state;
	assert_non_null(s);
	n += (size_t)sprintf(s, "{\"1\":"); /* the object is level 1 */
	for (size_t i = 1; i < depth; i++)
		s[n++] = '[';
	for (size_t i = 1; i < depth; i++)
		s[n++] = ']';
	s[n++] = '}';
	s[n] = '\0';
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", &p, 1,
	                                      NULL, &err),
	                 ROUTER_EREFERENCE);
	assert_null(v);
	assert_non_null(strstr(err.message,
	                       "maximum parsing depth reached near '['"));
	assert_non_null(strstr(err.message, "line 1, column "));
	/* One level less is legal JSON, and then a wrong value. */
	memmove(s + 5, s + 6, strlen(s + 6) + 1);
	s[strlen(s) - 2] = '}';
	s[strlen(s) - 1] = '\0';
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", &p, 1,
	                                      NULL, &err),
	                 ROUTER_EREFERENCE);
	assert_non_null(strstr(err.message,
	                       "value of key \"1\" is an array, not an "
	                       "unsigned 64-bit integer"));
	free(s);
}

static uint64_t map_u64_text(router_vindex *v, const char *text, int *rc)
{
	router_value val = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, text,
	                                      strlen(text));
	uint8_t out[8];
	size_t len;
	uint64_t r = 0;

	*rc = router_vindex_map(v, &val, 1, out, sizeof out, &len, NULL);
	if (*rc == ROUTER_OK) {
		assert_int_equal(len, 8);
		for (int i = 0; i < 8; i++)
			r = r << 8 | out[i];
	}
	return r;
}

static void numeric_static_map_json_reads_like_go(void **state)
{
	router_param p = {"json", ""};
	router_vindex *v;
	int rc;

	(void)state;
	/* Whitespace, escapes, leading zeros, null values, the full uint64
	 * range; of two keys naming one number the later wins. */
	p.value = " \t\r\n{ \"\\u0031\" : 18446744073709551615 , \"0002\":"
	          "null, \"7\": 70, \"07\": 71, \"3\":\n3 } \n";
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", &p, 1,
	                                      NULL, NULL),
	                 ROUTER_OK);
	assert_true(map_u64_text(v, "1", &rc) == UINT64_MAX);
	assert_int_equal(rc, ROUTER_OK);
	assert_true(map_u64_text(v, "2", &rc) == 0);
	assert_true(map_u64_text(v, "7", &rc) == 71);
	assert_true(map_u64_text(v, "3", &rc) == 3);
	assert_true(map_u64_text(v, "4", &rc) == 4); /* identity */
	router_vindex_free(v);

	/* A top-level null is an empty table (Go leaves the map nil). */
	p.value = "null";
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", &p, 1,
	                                      NULL, NULL),
	                 ROUTER_OK);
	assert_true(map_u64_text(v, "12", &rc) == 12);
	router_vindex_free(v);

	/* Nested values elsewhere are validated, strings may hold anything
	 * escaped; an empty object is fine. */
	p.value = "{}";
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", &p, 1,
	                                      NULL, NULL),
	                 ROUTER_OK);
	router_vindex_free(v);

	/* Many keys: sorted lookups. */
	{
		char big[8192];
		size_t n = 0;

		n += (size_t)snprintf(big + n, sizeof big - n, "{");
		for (int k = 500; k > 0; k--)
			n += (size_t)snprintf(big + n, sizeof big - n,
			                      "%s\"%d\":%d", k == 500 ? "" : ",",
			                      k * 3, k);
		snprintf(big + n, sizeof big - n, "}");
		p.value = big;
		assert_int_equal(router_vindex_create(&v, "numeric_static_map",
		                                      &p, 1, NULL, NULL),
		                 ROUTER_OK);
		for (int k = 1; k <= 500; k++) {
			char key[16];

			snprintf(key, sizeof key, "%d", k * 3);
			assert_true(map_u64_text(v, key, &rc) == (uint64_t)k);
			snprintf(key, sizeof key, "%d", k * 3 + 1);
			assert_true(map_u64_text(v, key, &rc) ==
			            (uint64_t)k * 3 + 1);
		}
		router_vindex_free(v);
	}
}

/* jansson holds integers as long long; values up to UINT64_MAX (keyspace
 * IDs of the upper half) must still be read exactly, never through a
 * double, including 2^63 (read as 0 by the rewrite) next to a written 0. */
static void numeric_static_map_reads_values_above_int64_max_exactly(
    void **state)
{
	router_param p = {"json", ""};
	router_vindex *v;
	int rc;

	(void)state;
	p.value = "{\"1\": 9223372036854775808, \"2\": 0, "
	          "\"3\": 9223372036854775809, \"4\": 1, "
	          "\"5\":18446744073709551615,\"6\": 9223372036854775807, "
	          "\"7\":\n\t18446744073709551614\r\n, \"8\": "
	          "9223372036854777855, \"9\": [1], \"9\": 12}";
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", &p, 1,
	                                      NULL, NULL),
	                 ROUTER_OK);
	assert_true(map_u64_text(v, "1", &rc) == (UINT64_C(1) << 63));
	assert_true(map_u64_text(v, "2", &rc) == 0);
	assert_true(map_u64_text(v, "3", &rc) == (UINT64_C(1) << 63) + 1);
	assert_true(map_u64_text(v, "4", &rc) == 1);
	assert_true(map_u64_text(v, "5", &rc) == UINT64_MAX);
	assert_true(map_u64_text(v, "6", &rc) == INT64_MAX);
	assert_true(map_u64_text(v, "7", &rc) == UINT64_MAX - 1);
	/* Doubles are 2048 apart there: one would read 2^63 + 2048. */
	assert_true(map_u64_text(v, "8", &rc) == (UINT64_C(1) << 63) + 2047);
	/* The last duplicate wins; jansson drops the [1] it replaces (Go
	 * would still refuse it). */
	assert_true(map_u64_text(v, "9", &rc) == 12);
	router_vindex_free(v);

	/* Duplicates: the last value wins, rewritten or not. */
	p.value = "{\"1\": 9223372036854775808, \"1\": 0}";
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", &p, 1,
	                                      NULL, NULL),
	                 ROUTER_OK);
	assert_true(map_u64_text(v, "1", &rc) == 0);
	router_vindex_free(v);
	p.value = "{\"1\": 0, \"1\": 9223372036854775808}";
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", &p, 1,
	                                      NULL, NULL),
	                 ROUTER_OK);
	assert_true(map_u64_text(v, "1", &rc) == (UINT64_C(1) << 63));
	router_vindex_free(v);

	/* Many of them, interleaved with small ones. */
	{
		size_t cap = 40000 * 48, n = 0;
		char *big = malloc(cap);

		assert_non_null(big);
		n += (size_t)snprintf(big + n, cap - n, "{");
		for (uint64_t k = 0; k < 40000; k++)
			n += (size_t)snprintf(
			    big + n, cap - n, "%s\"%" PRIu64 "\": %" PRIu64,
			    k ? ",\n" : "", k,
			    k % 2 ? UINT64_MAX - k * 7919 : k * 3);
		snprintf(big + n, cap - n, "}");
		p.value = big;
		assert_int_equal(router_vindex_create(&v, "numeric_static_map",
		                                      &p, 1, NULL, NULL),
		                 ROUTER_OK);
		for (uint64_t k = 0; k < 40000; k++) {
			char key[24];

			snprintf(key, sizeof key, "%" PRIu64, k);
			assert_true(map_u64_text(v, key, &rc) ==
			            (k % 2 ? UINT64_MAX - k * 7919 : k * 3));
		}
		router_vindex_free(v);
		free(big);
	}
}

/* A json_path file is read the same way; messages name the file, the line
 * and the column. */
static void numeric_static_map_file_errors_name_file_line_and_column(
    void **state)
{
	char path[] = "/tmp/test_vindex_nsm_XXXXXX";
	router_param p = {"json_path", path};
	router_vindex *v = NULL;
	router_error err;
	int rc, fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs("{\n  \"1\": 18446744073709551615,\n  \"2\": 2\n}\n", f);
	fclose(f);
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", &p, 1,
	                                      NULL, &err),
	                 ROUTER_OK);
	assert_true(map_u64_text(v, "1", &rc) == UINT64_MAX);
	assert_true(map_u64_text(v, "2", &rc) == 2);
	router_vindex_free(v);

	assert_non_null(f = fopen(path, "w"));
	fputs("{\n  \"1\": 18446744073709551615,\n  \"2\": 2,\n}\n", f);
	fclose(f);
	v = NULL;
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", &p, 1,
	                                      NULL, &err),
	                 ROUTER_EREFERENCE);
	assert_null(v);
	assert_string_equal(err.culprit, "numeric_static_map");
	assert_non_null(strstr(err.message,
	                       "invalid JSON at line 4, column 1: string or "
	                       "'}' expected near '}' (param 'json_path', "
	                       "file /tmp/test_vindex_nsm_"));

	assert_non_null(f = fopen(path, "w"));
	fputs("{\"1\": 1,\n \"x\": 2}", f);
	fclose(f);
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", &p, 1,
	                                      NULL, &err),
	                 ROUTER_EREFERENCE);
	assert_non_null(strstr(err.message,
	                       "key \"x\" is not the decimal text of an "
	                       "unsigned integer (param 'json_path', file "
	                       "/tmp/test_vindex_nsm_"));
	unlink(path);
}

static void numeric_static_map_fallback_follows_vitess(void **state)
{
	router_param p[2] = {{"json", "{\"1\": 100}"}, {"fallback_type", ""}};
	router_value one = ROUTER_VALUE_INT64(1), two = ROUTER_VALUE_INT64(2);
	router_value neg = ROUTER_VALUE_INT64(-2);
	router_value txt = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, "abc", 3);
	router_vindex *v;
	uint8_t out[32], want[32];
	size_t len, wlen;
	int rc;

	(void)state;
	/* hash fallback: the original value through hash. */
	p[1].value = "hash";
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", p, 2,
	                                      NULL, NULL),
	                 ROUTER_OK);
	assert_int_equal(router_vindex_map(v, &two, 1, out, sizeof out, &len,
	                                   NULL),
	                 ROUTER_OK);
	assert_int_equal(router_keyspace_id("hash", &two, want, sizeof want,
	                                    &wlen, NULL),
	                 ROUTER_OK);
	assert_int_equal(len, wlen);
	assert_memory_equal(out, want, len);
	/* Negative and text values never reach the fallback. */
	assert_int_equal(router_vindex_map(v, &neg, 1, out, sizeof out, &len,
	                                   NULL),
	                 ROUTER_NONE);
	assert_int_equal(router_vindex_map(v, &txt, 1, out, sizeof out, &len,
	                                   NULL),
	                 ROUTER_NONE);
	router_vindex_free(v);

	/* binary_md5 fallback: 16-byte keyspace IDs. */
	p[1].value = "binary_md5";
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", p, 2,
	                                      NULL, NULL),
	                 ROUTER_OK);
	assert_int_equal(router_vindex_map(v, &two, 1, out, sizeof out, &len,
	                                   NULL),
	                 ROUTER_OK);
	assert_int_equal(len, 16);
	router_vindex_free(v);

	/* Types that are not Hashing (null, cfc, lookups): Vitess's type
	 * assertion fails silently and the map falls back to identity. */
	p[1].value = "null";
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", p, 2,
	                                      NULL, NULL),
	                 ROUTER_OK);
	assert_int_equal(router_vindex_map(v, &two, 1, out, sizeof out, &len,
	                                   NULL),
	                 ROUTER_OK);
	assert_int_equal(len, 8);
	assert_int_equal(out[7], 2);
	router_vindex_free(v);

	/* A unicode_loose_md5 fallback: the mapped keys map, the others are
	 * the MD5 of their text's collation key (digits: their own weights),
	 * exactly what router_keyspace_id("unicode_loose_md5") gives. */
	p[1].value = "unicode_loose_md5";
	assert_int_equal(router_vindex_create(&v, "numeric_static_map", p, 2,
	                                      NULL, NULL),
	                 ROUTER_OK);
	assert_int_equal(router_vindex_map(v, &one, 1, out, sizeof out, &len,
	                                   NULL),
	                 ROUTER_OK);
	assert_int_equal(out[7], 100);
	rc = router_vindex_map(v, &two, 1, out, sizeof out, &len, NULL);
	assert_int_equal(rc, ROUTER_OK);
	assert_int_equal(len, 16);
	{
		uint8_t ul[16];
		size_t wl = 0;

		assert_int_equal(router_keyspace_id("unicode_loose_md5", &two,
		                                    ul, sizeof ul, &wl, NULL),
		                 ROUTER_OK);
		assert_int_equal(wl, 16);
		assert_memory_equal(out, ul, 16);
	}
	router_vindex_free(v);
}

static void region_experimental_bad_params_are_refused(void **state)
{
	static const bad_case cases[] = {
		{"region_experimental", {{"x", "1"}}, 1, ROUTER_EREFERENCE,
		 "region_experimental missing region_bytes param"},
		{"region_experimental", {{"region_bytes", "3"}}, 1,
		 ROUTER_EREFERENCE, "region_bytes must be 1 or 2: 3"},
		{"region_experimental", {{"region_bytes", " 1"}}, 1,
		 ROUTER_EREFERENCE, "region_bytes must be 1 or 2:  1"},
		{"region_experimental", {{"region_bytes", ""}}, 1,
		 ROUTER_EREFERENCE, "region_bytes must be 1 or 2: "},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_bad(&cases[i]);
}

static void multicol_refuses_negative_column_bytes(void **state)
{
	/* Vitess's Atoi accepts "-1" (and "-1,9" even passes its sum
	 * check); librouter refuses a negative size. */
	static const bad_case cases[] = {
		{"multicol", {{"column_count", "2"}, {"column_bytes", "-1,9"}},
		 2, ROUTER_EREFERENCE,
		 "column bytes must not be negative: -1 (column 0) in the "
		 "parameter 'column_bytes'"},
		{"multicol", {{"column_count", "2"}, {"column_bytes", "4,-4"}},
		 2, ROUTER_EREFERENCE, "must not be negative"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_bad(&cases[i]);
}

static void multicol_computes_unicode_loose_columns_not_numeric_static_map(void **state)
{
	router_param p[3] = {{"column_count", "2"},
	                     {"column_vindex", "hash,unicode_loose_xxhash"},
	                     {"json", "{}"}};
	router_value vals[2] = {ROUTER_VALUE_INT64(1),
	                        ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, "x", 1)};
	router_value bad[2] = {ROUTER_VALUE_INT64(1),
	                       ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, "\xff", 1)};
	uint8_t h[16], u[16];
	size_t hl = 0, ul = 0;
	router_vindex *v;
	uint8_t out[16];
	size_t len;
	router_error err;

	(void)state;
	/* A unicode_loose_xxhash column is computed now: the first 4 bytes
	 * of each column's keyspace ID (8 bytes shared by 2 columns). */
	assert_int_equal(router_vindex_create(&v, "multicol", p, 3, NULL, NULL),
	                 ROUTER_OK);
	assert_int_equal(router_vindex_map(v, vals, 2, out, sizeof out, &len,
	                                   &err),
	                 ROUTER_OK);
	assert_int_equal(router_keyspace_id("hash", &vals[0], h, sizeof h, &hl,
	                                    NULL),
	                 ROUTER_OK);
	assert_int_equal(router_keyspace_id("unicode_loose_xxhash", &vals[1], u,
	                                    sizeof u, &ul, NULL),
	                 ROUTER_OK);
	assert_int_equal(len, 8);
	assert_memory_equal(out, h, 4);
	assert_memory_equal(out + 4, u, 4);
	/* Its invalid UTF-8 is Vitess's error, naming the vindex. */
	assert_int_equal(router_vindex_map(v, bad, 2, out, sizeof out, &len,
	                                   &err),
	                 ROUTER_EINVAL);
	assert_string_equal(err.culprit, "multicol");
	assert_string_equal(err.message, "cannot normalize string containing "
	                                 "invalid UTF-8: \"\\xff\"");
	router_vindex_free(v);

	/* A numeric_static_map column validates its params, then cannot be
	 * computed (no room for its table per column). */
	p[1].value = "numeric_static_map,hash";
	assert_int_equal(router_vindex_create(&v, "multicol", p, 3, NULL, NULL),
	                 ROUTER_OK);
	assert_int_equal(router_vindex_map(v, vals, 2, out, sizeof out, &len,
	                                   NULL),
	                 ROUTER_EUNSUPPORTED);
	router_vindex_free(v);
}

/* ---- arguments and statuses ------------------------------------------------ */

static void *null_malloc(void *ctx, size_t n)
{
	(void)ctx;
	(void)n;
	return NULL;
}

static void create_rejects_null_arguments(void **state)
{
	router_vindex *v = NULL;
	router_param nullkey = {NULL, "1"}, nullval = {"region_bytes", NULL};
	router_allocator half = {null_malloc, NULL, NULL, NULL};
	router_error err;

	(void)state;
	assert_int_equal(router_vindex_create(NULL, "hash", NULL, 0, NULL,
	                                      &err),
	                 ROUTER_EINVAL);
	assert_int_equal(router_vindex_create(&v, NULL, NULL, 0, NULL, &err),
	                 ROUTER_EINVAL);
	assert_null(v);
	assert_int_equal(router_vindex_create(&v, "hash", NULL, 1, NULL, &err),
	                 ROUTER_EINVAL);
	assert_int_equal(router_vindex_create(&v, "hash", &nullkey, 1, NULL,
	                                      &err),
	                 ROUTER_EINVAL);
	assert_non_null(strstr(err.message, "NULL key"));
	assert_int_equal(router_vindex_create(&v, "region_experimental",
	                                      &nullval, 1, NULL, &err),
	                 ROUTER_EINVAL);
	assert_non_null(strstr(err.message, "NULL value"));
	assert_int_equal(router_vindex_create(&v, "hash", NULL, 0, &half,
	                                      &err),
	                 ROUTER_EINVAL);
	half.realloc = router__default_allocator.realloc;
	assert_int_equal(router_vindex_create(&v, "hash", NULL, 0, &half,
	                                      NULL),
	                 ROUTER_EINVAL);
	assert_null(v);
	/* Without an error struct too. */
	assert_int_equal(router_vindex_create(&v, "nope", NULL, 0, NULL, NULL),
	                 ROUTER_EREFERENCE);
	router_vindex_free(NULL);
}

static void create_reports_enomem_from_allocator(void **state)
{
	router_allocator a = {null_malloc, NULL, NULL, NULL};
	router_vindex *v = NULL;
	router_error err;

	(void)state;
	/* All three hooks must be set: give working realloc/free. */
	a.realloc = router__default_allocator.realloc;
	a.free = router__default_allocator.free;
	assert_int_equal(router_vindex_create(&v, "hash", NULL, 0, &a, &err),
	                 ROUTER_ENOMEM);
	assert_null(v);
	assert_int_equal(err.code, ROUTER_ENOMEM);
}

static void map_rejects_null_arguments(void **state)
{
	router_vindex *v;
	router_value one = ROUTER_VALUE_INT64(1);
	uint8_t out[8];
	size_t len = 77;
	router_error err;

	(void)state;
	assert_int_equal(router_vindex_create(&v, "hash", NULL, 0, NULL, NULL),
	                 ROUTER_OK);
	assert_int_equal(router_vindex_map(NULL, &one, 1, out, 8, &len, &err),
	                 ROUTER_EINVAL);
	assert_int_equal(len, 0);
	assert_int_equal(router_vindex_map(v, &one, 1, out, 8, NULL, &err),
	                 ROUTER_EINVAL);
	assert_int_equal(router_vindex_map(v, NULL, 1, out, 8, &len, &err),
	                 ROUTER_EINVAL);
	assert_int_equal(router_vindex_map(v, &one, 1, NULL, 8, &len, &err),
	                 ROUTER_EINVAL);
	assert_int_equal(router_keyspace_id("hash", NULL, out, 8, &len, &err),
	                 ROUTER_EINVAL);
	router_vindex_free(v);
}

static void malformed_values_are_einval(void **state)
{
	static const char *const types[] = {"hash", "xxhash", "numeric",
	                                    "binary", "binary_md5",
	                                    "reverse_bits"};
	router_value nullptr_len = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, NULL,
	                                              3);
	router_value badtype = ROUTER_VALUE_INT64(1);
	uint8_t out[32];
	size_t len;
	router_error err;

	(void)state;
	badtype.type = (router_sqltype)42;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		assert_int_equal(router_keyspace_id(types[i], &nullptr_len, out,
		                                    sizeof out, &len, &err),
		                 ROUTER_EINVAL);
		assert_non_null(strstr(err.message, "malformed value"));
		assert_int_equal(router_keyspace_id(types[i], &badtype, out,
		                                    sizeof out, &len, &err),
		                 ROUTER_EINVAL);
	}
	/* An empty buffer without a pointer is a legal empty value. */
	nullptr_len.len = 0;
	assert_int_equal(router_keyspace_id("binary", &nullptr_len, out,
	                                    sizeof out, &len, NULL),
	                 ROUTER_OK);
	assert_int_equal(len, 0);
}

static void wrong_number_of_values_is_einval(void **state)
{
	router_param mc = {"column_count", "3"}, rg = {"region_bytes", "1"};
	router_value vals[4] = {ROUTER_VALUE_INT64(1), ROUTER_VALUE_INT64(2),
	                        ROUTER_VALUE_INT64(3), ROUTER_VALUE_INT64(4)};
	router_vindex *v;
	uint8_t out[32];
	size_t len;
	router_error err;

	(void)state;
	assert_int_equal(router_vindex_create(&v, "hash", NULL, 0, NULL, NULL),
	                 ROUTER_OK);
	assert_int_equal(router_vindex_map(v, vals, 2, out, sizeof out, &len,
	                                   &err),
	                 ROUTER_EINVAL);
	assert_string_equal(err.message,
	                    "vindex type 'hash' takes 1 value(s), got 2");
	assert_int_equal(router_vindex_map(v, vals, 0, out, sizeof out, &len,
	                                   &err),
	                 ROUTER_EINVAL);
	router_vindex_free(v);

	assert_int_equal(router_vindex_create(&v, "multicol", &mc, 1, NULL,
	                                      NULL),
	                 ROUTER_OK);
	assert_int_equal(router_vindex_map(v, vals, 2, out, sizeof out, &len,
	                                   &err),
	                 ROUTER_EINVAL);
	assert_string_equal(err.message,
	                    "vindex type 'multicol' takes 3 value(s), got 2");
	assert_int_equal(router_vindex_map(v, vals, 4, out, sizeof out, &len,
	                                   &err),
	                 ROUTER_EINVAL);
	assert_int_equal(router_vindex_map(v, vals, 3, out, sizeof out, &len,
	                                   &err),
	                 ROUTER_OK);
	router_vindex_free(v);

	assert_int_equal(router_vindex_create(&v, "region_experimental", &rg, 1,
	                                      NULL, NULL),
	                 ROUTER_OK);
	assert_int_equal(router_vindex_map(v, vals, 1, out, sizeof out, &len,
	                                   &err),
	                 ROUTER_EINVAL);
	assert_int_equal(router_vindex_map(v, vals, 3, out, sizeof out, &len,
	                                   &err),
	                 ROUTER_EINVAL);
	router_vindex_free(v);
}

static void arity_is_the_number_of_columns(void **state)
{
	static const struct {
		const char *type;
		router_param p;
		size_t np, arity;
	} cases[] = {
		{"hash", {NULL, NULL}, 0, 1},
		{"lookup", {NULL, NULL}, 0, 1},
		{"numeric_static_map", {"json", "{}"}, 1, 1},
		{"multicol", {"column_count", "5"}, 1, 5},
		{"region_experimental", {"region_bytes", "1"}, 1, 2},
	};
	router__vindex zero;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		router__vindex v;

		assert_int_equal(router__vindex_init(&v, cases[i].type,
		                                     &cases[i].p, cases[i].np,
		                                     NULL, "t", NULL),
		                 ROUTER_OK);
		assert_int_equal(router__vindex_arity(&v), cases[i].arity);
		router__vindex_fini(&v, NULL);
		assert_null(v.type);
	}
	/* A zeroed (or failed) vindex is safe to finish and maps nothing. */
	memset(&zero, 0, sizeof zero);
	router__vindex_fini(&zero, NULL);
	{
		uint8_t buf[ROUTER__KSID_BUF];
		const uint8_t *k;
		size_t len;
		router_value one = ROUTER_VALUE_INT64(1);

		assert_int_equal(router__vindex_map(&zero, &one, 1, buf, &k,
		                                    &len),
		                 ROUTER_EINVAL);
		assert_int_equal(router__vindex_map_u64(&zero, 1, 0, buf, &k,
		                                        &len),
		                 ROUTER_EINVAL);
	}
}

static void lookup_and_undeclared_families_say_so(void **state)
{
	static const char *const lookups[] = {
		"lookup", "lookup_unique", "lookup_hash", "lookup_hash_unique",
		"consistent_lookup", "consistent_lookup_unique",
		"lookup_unicodeloosemd5_hash",
		"lookup_unicodeloosemd5_hash_unique"};
	router_value one = ROUTER_VALUE_INT64(1);
	uint8_t out[32];
	size_t len = 5;
	router_error err;

	(void)state;
	for (size_t i = 0; i < sizeof lookups / sizeof lookups[0]; i++) {
		assert_int_equal(router_keyspace_id(lookups[i], &one, out,
		                                    sizeof out, &len, &err),
		                 ROUTER_ENEEDSLOOKUP);
		assert_int_equal(len, 0);
		assert_string_equal(err.culprit, lookups[i]);
		assert_non_null(strstr(err.message, lookups[i]));
	}
	/* cfc and region_json are computed (test_cfc.c,
	 * test_region_json.c): no registered type is left unsupported. */
}

static void keyspace_id_maps_one_value_through_a_parameterless_type(
    void **state)
{
	router_value one = ROUTER_VALUE_INT64(1);
	uint8_t out[16];
	size_t len;
	router_error err;

	(void)state;
	assert_int_equal(router_keyspace_id("hash", &one, out, sizeof out, &len,
	                                    &err),
	                 ROUTER_OK);
	assert_int_equal(len, 8);
	assert_int_equal(out[0], 0x16);
	assert_int_equal(out[7], 0xd6);
	assert_int_equal(router_keyspace_id("null", &one, out, sizeof out, &len,
	                                    &err),
	                 ROUTER_OK);
	assert_int_equal(len, 1);
	assert_int_equal(out[0], 0);
	/* Types that need params cannot be used this way. */
	assert_int_equal(router_keyspace_id("numeric_static_map", &one, out,
	                                    sizeof out, &len, &err),
	                 ROUTER_EREFERENCE);
	assert_int_equal(router_keyspace_id("multicol", &one, out, sizeof out,
	                                    &len, &err),
	                 ROUTER_EREFERENCE);
	assert_int_equal(router_keyspace_id("nope", &one, out, sizeof out, &len,
	                                    &err),
	                 ROUTER_EREFERENCE);
	assert_int_equal(router_keyspace_id(NULL, &one, out, sizeof out, &len,
	                                    &err),
	                 ROUTER_EINVAL);
}

static void small_buffer_is_erange_with_needed_length(void **state)
{
	char text[100];
	router_value one = ROUTER_VALUE_INT64(1);
	router_value big;
	uint8_t out[100];
	size_t len;
	router_error err;

	(void)state;
	memset(text, 'x', sizeof text);
	big = ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, text, sizeof text);
	assert_int_equal(router_keyspace_id("hash", &one, out, 4, &len, &err),
	                 ROUTER_ERANGE);
	assert_int_equal(len, 8);
	assert_string_equal(err.message,
	                    "the keyspace ID needs 8 bytes, the buffer has 4");
	/* No buffer at all: just ask for the length. */
	assert_int_equal(router_keyspace_id("binary_md5", &one, NULL, 0, &len,
	                                    &err),
	                 ROUTER_ERANGE);
	assert_int_equal(len, 16);
	/* binary keyspace IDs are as long as the value. */
	assert_int_equal(router_keyspace_id("binary", &big, out, 99, &len,
	                                    &err),
	                 ROUTER_ERANGE);
	assert_int_equal(len, 100);
	assert_int_equal(router_keyspace_id("binary", &big, out, 100, &len,
	                                    &err),
	                 ROUTER_OK);
	assert_int_equal(len, 100);
	assert_memory_equal(out, text, 100);
	/* NONE needs no room. */
	one = ROUTER_VALUE_NULL;
	assert_int_equal(router_keyspace_id("hash", &one, NULL, 0, &len, &err),
	                 ROUTER_NONE);
	assert_int_equal(len, 0);
}

/* docs/spec.md 1.1: the hash conversion for hash, the unsigned one for the others. */
static void integer_conversion_follows_the_value_type(void **state)
{
	static const struct {
		const char *type;
		router_sqltype st;
		const char *text;
		int rc;
		uint64_t n; /* the number BE8 encodes (numeric) */
	} cases[] = {
		{"numeric", ROUTER_SQL_VARCHAR, "5", ROUTER_OK, 5},
		{"numeric", ROUTER_SQL_VARCHAR, "+5", ROUTER_OK, 5},
		{"numeric", ROUTER_SQL_VARCHAR, "007", ROUTER_OK, 7},
		{"numeric", ROUTER_SQL_VARCHAR, "-0", ROUTER_OK, 0},
		{"numeric", ROUTER_SQL_VARCHAR, "-5", ROUTER_NONE, 0},
		{"numeric", ROUTER_SQL_VARCHAR, " 5", ROUTER_NONE, 0},
		{"numeric", ROUTER_SQL_VARCHAR, "5 ", ROUTER_NONE, 0},
		{"numeric", ROUTER_SQL_VARCHAR, "", ROUTER_NONE, 0},
		{"numeric", ROUTER_SQL_VARCHAR, "1_000", ROUTER_NONE, 0},
		{"numeric", ROUTER_SQL_VARCHAR, "18446744073709551615",
		 ROUTER_OK, UINT64_MAX},
		{"numeric", ROUTER_SQL_VARCHAR, "18446744073709551616",
		 ROUTER_NONE, 0},
		{"numeric", ROUTER_SQL_FLOAT64, "1", ROUTER_OK, 1},
		{"numeric", ROUTER_SQL_FLOAT64, "1.0", ROUTER_NONE, 0},
		{"numeric", ROUTER_SQL_VARBINARY, "42", ROUTER_OK, 42},
		{"hash", ROUTER_SQL_VARCHAR, "-1", ROUTER_NONE, 0},
		{"reverse_bits", ROUTER_SQL_VARCHAR, "-1", ROUTER_NONE, 0},
		{"numeric_static_map", ROUTER_SQL_VARCHAR, "+9", ROUTER_OK, 9},
	};
	router_param p = {"json", "{}"};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		router_value v = ROUTER_VALUE_BYTES(
		    cases[i].st, cases[i].text, strlen(cases[i].text));
		router_vindex *vx;
		uint8_t out[8], want[8];
		size_t len;
		int rc;

		assert_int_equal(router_vindex_create(&vx, cases[i].type, &p, 1,
		                                      NULL, NULL),
		                 ROUTER_OK);
		rc = router_vindex_map(vx, &v, 1, out, sizeof out, &len, NULL);
		router_vindex_free(vx);
		if (rc != cases[i].rc)
			fail_msg("%s '%s': %s, want %s", cases[i].type,
			         cases[i].text, router_errname(rc),
			         router_errname(cases[i].rc));
		if (rc == ROUTER_OK && strcmp(cases[i].type, "hash") != 0 &&
		    strcmp(cases[i].type, "reverse_bits") != 0) {
			for (int b = 0; b < 8; b++)
				want[b] = (uint8_t)(cases[i].n >> (56 - 8 * b));
			assert_memory_equal(out, want, 8);
		}
	}
}

/* ---- the typed fast path ---------------------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void compare_paths(const router__vindex *v, uint64_t x, int is_unsigned,
                          const char *name)
{
	router_value val = is_unsigned ? ROUTER_VALUE_UINT64(x)
	                               : ROUTER_VALUE_INT64((int64_t)x);
	uint8_t b1[ROUTER__KSID_BUF], b2[ROUTER__KSID_BUF];
	const uint8_t *k1, *k2;
	size_t l1, l2;
	int r1 = router__vindex_map(v, &val, 1, b1, &k1, &l1);
	int r2 = router__vindex_map_u64(v, x, is_unsigned, b2, &k2, &l2);

	if (r1 != r2 || l1 != l2 || (l1 > 0 && memcmp(k1, k2, l1) != 0))
		fail_msg("%s %s %" PRIu64 ": map %s/%zu, map_u64 %s/%zu", name,
		         is_unsigned ? "uint64" : "int64", x,
		         router_errname(r1), l1, router_errname(r2), l2);
}

static void typed_fast_path_agrees_with_values(void **state)
{
	static const struct {
		const char *type;
		router_param p[3];
		size_t np;
	} vs[] = {
		{"hash", {{NULL, NULL}}, 0},
		{"xxhash", {{NULL, NULL}}, 0},
		{"numeric", {{NULL, NULL}}, 0},
		{"reverse_bits", {{NULL, NULL}}, 0},
		{"binary", {{NULL, NULL}}, 0},
		{"binary_md5", {{NULL, NULL}}, 0},
		{"null", {{NULL, NULL}}, 0},
		{"numeric_static_map",
		 {{"json", "{\"1\":7,\"2\":8,\"500\":1,\"18446744073709551615\":"
		           "3}"}},
		 1},
		{"numeric_static_map",
		 {{"json", "{\"1\":7,\"2\":8,\"500\":1}"},
		  {"fallback_type", "xxhash"}},
		 2},
		{"numeric_static_map",
		 {{"json", "{\"3\":4}"}, {"fallback_type", "binary"}}, 2},
		{"multicol", {{"column_count", "1"}}, 1},
		{"multicol", {{"column_count", "1"}, {"column_vindex", "binary"}},
		 2},
		{"multicol",
		 {{"column_count", "1"}, {"column_vindex", "reverse_bits"}}, 2},
		{"region_experimental", {{"region_bytes", "2"}}, 1},
		{"lookup", {{NULL, NULL}}, 0},
		{"unicode_loose_xxhash", {{NULL, NULL}}, 0},
	};
	static const uint64_t edges[] = {
		0, 1, 2, 3, 9, 10, 499, 500, 501, 1000,
		(uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX,
		UINT64_MAX - 1, (uint64_t)-1000, (uint64_t)INT32_MIN};
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
		router__vindex v;

		assert_int_equal(router__vindex_init(&v, vs[i].type, vs[i].p,
		                                     vs[i].np, NULL, "t", NULL),
		                 ROUTER_OK);
		for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
			compare_paths(&v, edges[e], 0, vs[i].type);
			compare_paths(&v, edges[e], 1, vs[i].type);
		}
		for (int r = 0; r < 3000; r++) {
			uint64_t x = xorshift(&seed);

			/* Mix in small values and short magnitudes. */
			if (r % 3 == 1)
				x %= 1000;
			else if (r % 3 == 2)
				x >>= (x & 63);
			compare_paths(&v, x, 0, vs[i].type);
			compare_paths(&v, x, 1, vs[i].type);
			compare_paths(&v, (uint64_t)-(int64_t)(x >> 1), 0,
			              vs[i].type);
		}
		router__vindex_fini(&v, NULL);
	}
}

/* ---- allocation ------------------------------------------------------------- */


/* jansson allocates through its own process-wide malloc, which a router
 * must not replace: the injected failures hit our allocations (the vindex,
 * the json_path buffer, the copy the big-value rewrite parses, the pairs,
 * the sorted keys and values).  min_calls pins that they are all still
 * made through the router's allocator, so each failure point is tried. */
static void allocation_failures_are_enomem_and_leak_nothing(void **state)
{
	char json[2048], bigjson[2048];
	size_t n = 0;
	router_param p[3];
	struct {
		const char *type;
		size_t np;
		size_t min_calls;
	} runs[4] = {{"numeric_static_map", 1, 4},  /* vindex, pairs, 2 */
	             {"numeric_static_map", 2, 5},  /* + file buffer */
	             {"numeric_static_map", 1, 5},  /* + rewrite copy */
	             {"multicol", 3, 4}};
	char path[512];

	(void)state;
	n += (size_t)snprintf(json + n, sizeof json - n, "{");
	for (int k = 0; k < 100; k++)
		n += (size_t)snprintf(json + n, sizeof json - n, "%s\"%d\":%d",
		                      k ? "," : "", k, k + 1);
	snprintf(json + n, sizeof json - n, "}");
	n = 0;
	n += (size_t)snprintf(bigjson + n, sizeof bigjson - n, "{");
	for (int k = 0; k < 50; k++)
		n += (size_t)snprintf(bigjson + n, sizeof bigjson - n,
		                      "%s\"%d\":%" PRIu64, k ? "," : "", k,
		                      UINT64_MAX - (uint64_t)k);
	snprintf(bigjson + n, sizeof bigjson - n, "}");
	snprintf(path, sizeof path, "%s/numeric_static_map_test.json",
	         tu_data_dir());

	for (size_t r = 0; r < 4; r++) {
		int ok = 0;

		if (r == 0) {
			p[0] = (router_param){"json", json};
		} else if (r == 1) {
			p[0] = (router_param){"json_path", path};
			p[1] = (router_param){"fallback_type", "hash"};
		} else if (r == 2) {
			p[0] = (router_param){"json", bigjson};
		} else {
			p[0] = (router_param){"column_count", "2"};
			p[1] = (router_param){"column_vindex",
			                      "numeric_static_map,xxhash"};
			p[2] = (router_param){"json", json};
		}
		for (size_t fail_at = 0; !ok && fail_at < 1000; fail_at++) {
			tu_alloc t = {0, (long)fail_at, 0, 0, 0, 0};
			router_allocator a = TU_ALLOCATOR(&t);
			router_vindex *v = NULL;
			router_error err;
			int rc = router_vindex_create(&v, runs[r].type, p,
			                              runs[r].np, &a, &err);

			if (rc == ROUTER_OK) {
				ok = 1;
				assert_true((size_t)t.calls <= fail_at);
				if ((size_t)t.calls < runs[r].min_calls)
					fail_msg("run %zu: %ld allocations, "
					         "want at least %zu",
					         r, t.calls, runs[r].min_calls);
				if (r == 2) {
					int mrc;

					assert_true(map_u64_text(v, "49",
					                         &mrc) ==
					            UINT64_MAX - 49);
				}
				router_vindex_free(v);
			} else {
				if (rc != ROUTER_ENOMEM)
					fail_msg("%s fail_at %zu: %s: %s",
					         runs[r].type, fail_at,
					         router_errname(rc), err.message);
				assert_int_equal(err.code, ROUTER_ENOMEM);
				assert_non_null(strstr(err.message,
				                       "out of memory"));
				assert_null(v);
			}
			if (t.live != 0)
				fail_msg("%s fail_at %zu: %ld blocks leaked",
				         runs[r].type, fail_at, t.live);
		}
		assert_true(ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vindex_vectors_from_file_all_pass),
		cmocka_unit_test(reverse_map_vectors_map_forward),
		cmocka_unit_test(multicol_map_vectors_from_file_all_pass),
		cmocka_unit_test(multicol_create_vectors_from_file_all_pass),
		cmocka_unit_test(registry_holds_every_vitess_type_with_its_facts),
		cmocka_unit_test(unknown_type_is_ereference_with_vitess_message),
		cmocka_unit_test(
		    numeric_static_map_bad_params_are_refused_clearly),
		cmocka_unit_test(deep_json_nesting_stops_at_janssons_depth_limit),
		cmocka_unit_test(numeric_static_map_json_reads_like_go),
		cmocka_unit_test(
		    numeric_static_map_reads_values_above_int64_max_exactly),
		cmocka_unit_test(
		    numeric_static_map_file_errors_name_file_line_and_column),
		cmocka_unit_test(numeric_static_map_fallback_follows_vitess),
		cmocka_unit_test(region_experimental_bad_params_are_refused),
		cmocka_unit_test(multicol_refuses_negative_column_bytes),
		cmocka_unit_test(
		    multicol_computes_unicode_loose_columns_not_numeric_static_map),
		cmocka_unit_test(create_rejects_null_arguments),
		cmocka_unit_test(create_reports_enomem_from_allocator),
		cmocka_unit_test(map_rejects_null_arguments),
		cmocka_unit_test(malformed_values_are_einval),
		cmocka_unit_test(wrong_number_of_values_is_einval),
		cmocka_unit_test(arity_is_the_number_of_columns),
		cmocka_unit_test(lookup_and_undeclared_families_say_so),
		cmocka_unit_test(
		    keyspace_id_maps_one_value_through_a_parameterless_type),
		cmocka_unit_test(small_buffer_is_erange_with_needed_length),
		cmocka_unit_test(integer_conversion_follows_the_value_type),
		cmocka_unit_test(typed_fast_path_agrees_with_values),
		cmocka_unit_test(
		    allocation_failures_are_enomem_and_leak_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
