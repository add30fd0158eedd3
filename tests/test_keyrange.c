/*
 * Key ranges, shard names and partitions (librouter/keyrange.c).
 *
 * Every entry of every key-range family of vectors.json runs from the file;
 * each test asserts that it ran as many entries as the family holds.
 */
#include <limits.h>

#include "testutil.h"

#include "core/internal.h"

static json_t *vectors;

static int load_vectors(void **state)
{
	(void)state;
	vectors = tu_load_json("vectors.json");
	return vectors != NULL ? 0 : -1;
}

static int free_vectors(void **state)
{
	(void)state;
	json_decref(vectors);
	vectors = NULL;
	return 0;
}

static json_t *family(const char *name)
{
	json_t *f = json_object_get(vectors, name);

	if (!json_is_array(f) || json_array_size(f) == 0)
		fail_msg("vectors.json has no family %s", name);
	return f;
}

static const char *str(const json_t *e, const char *key)
{
	return json_string_value(json_object_get(e, key));
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* A range from hex bounds; NULL start and end: the nil range. */
static router_keyrange kr_hex(const char *start, const char *end)
{
	router_keyrange kr;
	int n;

	memset(&kr, 0, sizeof kr);
	if (start == NULL && end == NULL) {
		kr.full = 1;
		return kr;
	}
	n = tu_unhex(start != NULL ? start : "", kr.start, sizeof kr.start);
	assert_true(n >= 0);
	kr.start_len = (uint8_t)n;
	n = tu_unhex(end != NULL ? end : "", kr.end, sizeof kr.end);
	assert_true(n >= 0);
	kr.end_len = (uint8_t)n;
	return kr;
}

/* A range from a shard name, or the nil range for JSON null. */
static router_keyrange kr_name(const json_t *v)
{
	router_keyrange kr;
	router_error err;
	const char *s = json_string_value(v);

	if (json_is_null(v)) {
		memset(&kr, 0, sizeof kr);
		kr.full = 1;
		return kr;
	}
	assert_non_null(s);
	if (router_keyrange_parse(s, strlen(s), &kr, &err) != ROUTER_OK)
		fail_msg("cannot parse %s: %s", s, err.message);
	return kr;
}

static void assert_bounds(const router_keyrange *kr, const char *start_hex,
                          const char *end_hex)
{
	char h[2 * ROUTER_KEY_MAX + 1];

	tu_hex(kr->start, kr->start_len, h);
	assert_string_equal(h, start_hex);
	tu_hex(kr->end, kr->end_len, h);
	assert_string_equal(h, end_hex);
}

/* Parse every name of a JSON array of shard names into ranges. */
static size_t parse_shards(const json_t *names, router_keyrange *ranges,
                           const char **cnames, size_t cap)
{
	size_t n = json_array_size(names);

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		ranges[i] = kr_name(json_array_get(names, i));
		cnames[i] = json_string_value(json_array_get(names, i));
	}
	return n;
}

/* ---- vector families ---------------------------------------------------- */

/*
 * keyrange_parse.  Entries with validate_shard_name give
 * topo.ValidateShardName's verdict; error texts are asserted exactly except
 * where the entry's note says the text is not verified (the character rule:
 * only the code is asserted).  A few vector texts carry an explanatory
 * suffix in parentheses ("... 'o' (hex decode failure)"): our message must
 * then be the part before " (".
 *
 * is_valid_keyrange is key.IsValidKeyRange's regex, which librouter does
 * not expose; it is derived here from the parser: a name is regex-valid iff
 * it is "0", or it has a '-' and parses, or fails only the raw order check
 * (which the regex does not make).
 */
static void keyrange_parse_vectors_match_validate_shard_name(void **state)
{
	json_t *f = family("keyrange_parse");
	size_t ran = 0, i;
	json_t *e;

	(void)state;
	json_array_foreach(f, i, e) {
		const char *name = str(e, "shard");
		const char *note = str(e, "note");
		const char *want_err = str(e, "error");
		json_t *vsn = json_object_get(e, "validate_shard_name");
		json_t *ivk = json_object_get(e, "is_valid_keyrange");
		router_keyrange kr;
		router_error err;
		int rc;

		assert_non_null(name);
		memset(&err, 0, sizeof err);
		rc = router_keyrange_parse(name, strlen(name), &kr, &err);

		if (json_is_boolean(vsn)) {
			if (json_is_true(vsn)) {
				if (rc != ROUTER_OK)
					fail_msg("%s: %s", name, err.message);
			} else {
				assert_int_equal(rc, ROUTER_ESHARDNAME);
				assert_int_equal(err.code, ROUTER_ESHARDNAME);
			}
		}
		if (want_err != NULL && json_is_false(vsn) &&
		    (note == NULL || strstr(note, "not verified") == NULL)) {
			size_t ml = strlen(err.message);

			if (!(strcmp(err.message, want_err) == 0 ||
			      (strncmp(err.message, want_err, ml) == 0 &&
			       strncmp(want_err + ml, " (", 2) == 0)))
				fail_msg("%s: message '%s', want '%s'", name,
				         err.message, want_err);
		}
		if (str(e, "start_hex") != NULL) {
			assert_int_equal(rc, ROUTER_OK);
			assert_bounds(&kr, str(e, "start_hex"),
			              str(e, "end_hex"));
		}
		if (rc == ROUTER_OK) {
			/* No '-': the nil range; else the canonical (lower-
			 * case) name formats back, "-" for complete ranges. */
			char buf[160], low[160];
			size_t k;

			if (strchr(name, '-') == NULL) {
				assert_true(kr.full);
			} else {
				for (k = 0; name[k] != '\0'; k++)
					low[k] = (char)((name[k] >= 'A' &&
					                 name[k] <= 'Z')
					                    ? name[k] + 32
					                    : name[k]);
				low[k] = '\0';
				router_keyrange_format(&kr, buf, sizeof buf);
				assert_string_equal(
				    buf, router__keyrange_is_full(&kr) ? "-"
				                                        : low);
			}
		}
		if (json_is_boolean(ivk)) {
			int derived = strcmp(name, "0") == 0 ||
			              (strchr(name, '-') != NULL &&
			               (rc == ROUTER_OK ||
			                strncmp(err.message, "out of order keys",
			                        17) == 0));

			if (derived != json_is_true(ivk))
				fail_msg("%s: derived IsValidKeyRange %d", name,
				         derived);
		}
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
}

static void keyrange_contains_vectors(void **state)
{
	json_t *f = family("keyrange_contains");
	size_t ran = 0, i;
	json_t *e;

	(void)state;
	json_array_foreach(f, i, e) {
		router_keyrange kr =
		    kr_hex(str(e, "start_hex"), str(e, "end_hex"));
		uint8_t ksid[64];
		int n = tu_unhex(str(e, "ksid_hex"), ksid, sizeof ksid);

		assert_true(n >= 0);
		if (router_keyrange_contains(&kr, ksid, (size_t)n) !=
		    json_is_true(json_object_get(e, "contains")))
			fail_msg("entry %zu: ksid %s", i, str(e, "ksid_hex"));
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
}

static void normalize_compare_vectors(void **state)
{
	json_t *f = family("normalize_compare");
	size_t ran = 0, i;
	json_t *e;

	(void)state;
	json_array_foreach(f, i, e) {
		uint8_t a[64], b[64];
		char h[129];
		int an = tu_unhex(str(e, "a_hex"), a, sizeof a), bn;

		assert_true(an >= 0);
		if (strcmp(str(e, "op"), "normalize") == 0) {
			tu_hex(a, router__key_normlen(a, (size_t)an), h);
			assert_string_equal(h, str(e, "result_hex"));
		} else {
			assert_string_equal(str(e, "op"), "compare");
			bn = tu_unhex(str(e, "b_hex"), b, sizeof b);
			assert_true(bn >= 0);
			assert_int_equal(
			    sign(router_key_compare(a, (size_t)an, b, (size_t)bn)),
			    json_integer_value(json_object_get(e, "result")));
		}
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
}

static void keyrange_compare_vectors(void **state)
{
	json_t *f = family("keyrange_compare");
	size_t ran = 0, i;
	json_t *e;

	(void)state;
	json_array_foreach(f, i, e) {
		router_keyrange a = kr_name(json_object_get(e, "a"));
		router_keyrange b = kr_name(json_object_get(e, "b"));
		const char *kind = str(e, "equal_kind");
		int want_eq = json_is_true(json_object_get(e, "equal"));

		if (kind == NULL) {
			assert_int_equal(
			    sign(router__keyrange_start_compare(&a, &b)),
			    json_integer_value(json_object_get(e, "start_compare")));
			assert_int_equal(
			    sign(router__keyrange_end_compare(&a, &b)),
			    json_integer_value(json_object_get(e, "end_compare")));
			assert_int_equal(
			    sign(router__keyrange_compare(&a, &b)),
			    json_integer_value(json_object_get(e, "compare")));
			assert_int_equal(router__keyrange_equal(&a, &b), want_eq);
		} else if (strcmp(kind, "start") == 0) {
			assert_int_equal(
			    router__keyrange_start_compare(&a, &b) == 0, want_eq);
		} else if (strcmp(kind, "end") == 0) {
			assert_int_equal(
			    router__keyrange_end_compare(&a, &b) == 0, want_eq);
		} else {
			assert_string_equal(kind, "both");
			assert_int_equal(router__keyrange_equal(&a, &b), want_eq);
		}
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
}

static void keyrange_intersect_vectors(void **state)
{
	json_t *f = family("keyrange_intersect");
	size_t ran = 0, i;
	json_t *e;

	(void)state;
	json_array_foreach(f, i, e) {
		router_keyrange a = kr_name(json_object_get(e, "a"));
		router_keyrange b = kr_name(json_object_get(e, "b"));

		assert_int_equal(router__keyrange_intersect(&a, &b),
		                 json_is_true(json_object_get(e, "intersect")));
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
}

static void keyrange_contains_keyrange_vectors(void **state)
{
	json_t *f = family("keyrange_contains_keyrange");
	size_t ran = 0, i;
	json_t *e;

	(void)state;
	json_array_foreach(f, i, e) {
		router_keyrange a = kr_name(json_object_get(e, "a"));
		router_keyrange b = kr_name(json_object_get(e, "b"));

		assert_int_equal(
		    router__keyrange_contains_keyrange(&a, &b),
		    json_is_true(json_object_get(e, "a_contains_b")));
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
}

/* "add" runs router__keyrange_add; "contiguous" (key.KeyRangeContiguous,
 * not in the contract) is computed here from the primitives: neither range
 * complete, and a's end equal to b's start under normalized comparison. */
static void keyrange_add_contiguous_vectors(void **state)
{
	json_t *f = family("keyrange_add_contiguous");
	size_t ran = 0, i;
	json_t *e;

	(void)state;
	json_array_foreach(f, i, e) {
		router_keyrange a = kr_name(json_object_get(e, "a"));
		router_keyrange b = kr_name(json_object_get(e, "b"));
		json_t *res = json_object_get(e, "result");

		if (strcmp(str(e, "op"), "add") == 0) {
			router_keyrange out;
			int ok = router__keyrange_add(&a, &b, &out);

			assert_int_equal(ok,
			                 json_is_true(json_object_get(e, "ok")));
			if (ok) {
				char buf[160];

				router_keyrange_format(&out, buf, sizeof buf);
				assert_string_equal(buf, json_string_value(res));
			} else {
				assert_true(json_is_null(res));
			}
		} else {
			int contiguous;

			assert_string_equal(str(e, "op"), "contiguous");
			contiguous = !router__keyrange_is_full(&a) &&
			             !router__keyrange_is_full(&b) &&
			             router_key_compare(a.end, a.end_len, b.start,
			                                b.start_len) == 0;
			assert_int_equal(contiguous, json_is_true(res));
		}
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
}

/* router__even_shards_keyrange takes unsigned arguments and returns no
 * message: the error entries check ROUTER_EINVAL only (a negative i is
 * passed as UINT_MAX, which the n == 0 check refuses first, as Go does). */
static void even_shards_keyrange_vectors(void **state)
{
	json_t *f = family("even_shards_keyrange");
	size_t ran = 0, i;
	json_t *e;

	(void)state;
	json_array_foreach(f, i, e) {
		json_int_t vi = json_integer_value(json_object_get(e, "i"));
		json_int_t vn = json_integer_value(json_object_get(e, "n"));
		router_keyrange kr;
		int rc = router__even_shards_keyrange(
		    vi < 0 ? UINT_MAX : (unsigned)vi,
		    vn < 0 ? 0u : (unsigned)vn, &kr);

		if (str(e, "error_contains") != NULL) {
			assert_int_equal(rc, ROUTER_EINVAL);
		} else {
			char buf[160];

			assert_int_equal(rc, ROUTER_OK);
			assert_bounds(&kr, str(e, "start_hex"),
			              str(e, "end_hex"));
			router_keyrange_format(&kr, buf, sizeof buf);
			assert_string_equal(buf, str(e, "shard"));
		}
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
}

static void sharding_spec_vectors(void **state)
{
	json_t *f = family("sharding_spec");
	size_t ran = 0, i;
	json_t *e;

	(void)state;
	json_array_foreach(f, i, e) {
		const char *spec = str(e, "spec");
		router_keyrange out[16];
		router_error err;
		size_t n = 99;
		int rc = router__sharding_spec(spec, strlen(spec), out, 16, &n,
		                               &err);

		if (json_is_true(json_object_get(e, "error"))) {
			assert_int_equal(rc, ROUTER_ESHARDNAME);
			assert_int_equal(err.code, ROUTER_ESHARDNAME);
		} else {
			json_t *ranges = json_object_get(e, "ranges");

			assert_int_equal(rc, ROUTER_OK);
			assert_int_equal(n, json_array_size(ranges));
			for (size_t k = 0; k < n; k++) {
				json_t *r = json_array_get(ranges, k);

				assert_false(out[k].full);
				assert_bounds(&out[k],
				              json_string_value(json_array_get(r, 0)),
				              json_string_value(json_array_get(r, 1)));
			}
		}
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
}

/*
 * generate_shard_ranges.  Entries with hex_chars exercise a parameter of
 * newest Vitess main that router_shard_range_name does not have; for them
 * we check that the vector's names parse and form a partition, and, when
 * the count is a power of two, that they equal our 2-digit names under
 * normalized comparison (2000 == 20).
 */
static void generate_shard_ranges_vectors(void **state)
{
	json_t *f = family("generate_shard_ranges");
	size_t ran = 0, i;
	json_t *e;

	(void)state;
	json_array_foreach(f, i, e) {
		json_int_t shards = json_integer_value(json_object_get(e, "shards"));
		json_t *ranges = json_object_get(e, "ranges");
		char buf[16];

		if (json_is_true(json_object_get(e, "error"))) {
			assert_int_equal(router_shard_range_name(
			                     0, (unsigned)shards, buf, sizeof buf),
			                 ROUTER_EINVAL);
		} else if (json_object_get(e, "hex_chars") != NULL) {
			router_keyrange kr[64];
			const char *names[64];
			size_t n = parse_shards(ranges, kr, names, 64);

			assert_int_equal(n, (size_t)shards);
			assert_int_equal(router__partition_check(kr, names, n,
			                                         NULL, "v", NULL),
			                 ROUTER_OK);
			if ((shards & (shards - 1)) == 0)
				for (size_t k = 0; k < n; k++) {
					router_keyrange ours;

					assert_int_equal(
					    router_shard_range_name(
					        (unsigned)k, (unsigned)n, buf,
					        sizeof buf),
					    ROUTER_OK);
					assert_int_equal(
					    router_keyrange_parse(buf, strlen(buf),
					                          &ours, NULL),
					    ROUTER_OK);
					assert_true(
					    router__keyrange_equal(&ours, &kr[k]));
				}
		} else {
			assert_int_equal(json_array_size(ranges), (size_t)shards);
			for (size_t k = 0; k < (size_t)shards; k++) {
				assert_int_equal(
				    router_shard_range_name((unsigned)k,
				                            (unsigned)shards, buf,
				                            sizeof buf),
				    ROUTER_OK);
				assert_string_equal(
				    buf, json_string_value(json_array_get(ranges, k)));
			}
		}
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
}

/* Vitess GetShardForKeyspaceID: the first shard, in partition order, whose
 * range contains ksid; n if none. */
static size_t first_containing(const router_keyrange *kr, size_t n,
                               const uint8_t *ksid, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (router_keyrange_contains(&kr[i], ksid, len))
			return i;
	return n;
}

/* The same answer by binary search over the ranges sorted by
 * router__partition_check's order: the last shard whose start is <= ksid,
 * if it contains ksid. */
static size_t binary_search(const router_keyrange *kr, const size_t *ord,
                            size_t n, const uint8_t *ksid, size_t len)
{
	size_t lo = 0, hi = n; /* answer position in [lo, hi) is hi - 1 */

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const router_keyrange *r = &kr[ord[mid]];
		int le = r->full || router_key_compare(r->start, r->start_len,
		                                       ksid, len) <= 0;

		if (le)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || !router_keyrange_contains(&kr[ord[lo - 1]], ksid, len))
		return n;
	return ord[lo - 1];
}

static void shard_for_ksid_first_match_equals_binary_search(void **state)
{
	json_t *f = family("shard_for_ksid");
	size_t ran = 0, i;
	json_t *e;

	(void)state;
	json_array_foreach(f, i, e) {
		router_keyrange kr[64];
		const char *names[64];
		size_t ord[64], n, lin, bin;
		uint8_t ksid[64];
		int len = tu_unhex(str(e, "ksid_hex"), ksid, sizeof ksid);
		json_t *skr = json_object_get(e, "shard_keyranges");

		assert_true(len >= 0);
		n = parse_shards(json_object_get(e, "shards"), kr, names, 64);
		/* shard_keyranges, when given, must agree with the names. */
		for (size_t k = 0; k < json_array_size(skr); k++) {
			json_t *p = json_array_get(skr, k);

			assert_true(router__keyrange_is_full(&kr[k]));
			assert_string_equal(json_string_value(json_array_get(p, 0)),
			                    "");
			assert_string_equal(json_string_value(json_array_get(p, 1)),
			                    "");
		}
		lin = first_containing(kr, n, ksid, (size_t)len);
		if (n > 0) {
			/* The gap vector is not a partition; order is still
			 * filled. */
			(void)router__partition_check(kr, names, n, ord, "v", NULL);
			bin = binary_search(kr, ord, n, ksid, (size_t)len);
		} else {
			bin = 0;
		}
		assert_int_equal(lin, bin);
		if (str(e, "shard") != NULL) {
			assert_true(lin < n);
			assert_string_equal(names[lin], str(e, "shard"));
		} else {
			assert_non_null(str(e, "error"));
			assert_int_equal(lin, n);
		}
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
}

/*
 * destination_keyrange.  Vitess's DestinationKeyRange (every shard whose
 * range intersects kr, in partition order) and DestinationExactKeyRange
 * (start at the shard whose start equals kr's start, take shards until one
 * whose end equals kr's end, else "keyrange <kr> does not exactly match
 * shards") are not in the contract; they are rebuilt here from
 * router__keyrange_intersect and the start/end comparisons.  Returns the
 * number of shards, or -1 for the exact-match error.
 */
static int resolve_destination(const router_keyrange *shards,
                               const size_t *ord, size_t n,
                               const router_keyrange *kr, int exact,
                               size_t *out)
{
	size_t m = 0, p = 0;

	if (!exact) {
		for (size_t i = 0; i < n; i++)
			if (router__keyrange_intersect(kr, &shards[i]))
				out[m++] = i;
		return (int)m;
	}
	while (p < n && router__keyrange_start_compare(kr, &shards[ord[p]]) != 0)
		p++;
	for (; p < n; p++) {
		out[m++] = ord[p];
		if (router__keyrange_end_compare(kr, &shards[ord[p]]) == 0)
			return (int)m;
	}
	return -1;
}

static void destination_keyrange_vectors(void **state)
{
	json_t *f = family("destination_keyrange");
	size_t ran = 0, i;
	json_t *e;

	(void)state;
	json_array_foreach(f, i, e) {
		router_keyrange kr[64], want;
		const char *names[64];
		size_t ord[64], out[64], n;
		int exact = json_is_true(json_object_get(e, "exact"));
		int m;

		n = parse_shards(json_object_get(e, "shards"), kr, names, 64);
		assert_int_equal(router__partition_check(kr, names, n, ord, "v",
		                                         NULL),
		                 ROUTER_OK);
		want = kr_name(json_object_get(e, "keyrange"));
		m = resolve_destination(kr, ord, n, &want, exact, out);
		if (str(e, "error") != NULL) {
			char msg[256], buf[160];

			assert_int_equal(m, -1);
			router_keyrange_format(&want, buf, sizeof buf);
			snprintf(msg, sizeof msg,
			         "keyrange %s does not exactly match shards", buf);
			assert_string_equal(msg, str(e, "error"));
		} else {
			json_t *rs = json_object_get(e, "result_shards");

			assert_int_equal(m, (int)json_array_size(rs));
			for (int k = 0; k < m; k++)
				assert_string_equal(
				    names[out[k]],
				    json_string_value(json_array_get(rs, (size_t)k)));
		}
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
}

/*
 * partition_validation.  Vitess's error -> ROUTER_ECOVERAGE, ok ->
 * ROUTER_OK, with the message mapped: "does not start with min key" ->
 * "does not start with the minimum key", "does not end with max key" ->
 * "does not end with the maximum key", "non-contiguous ...: A != B" ->
 * "gap between ...: A != B".
 *
 * allow_partial: true is Vitess's RebuildKeyspace with partial coverage
 * allowed, which skips the check altogether.  librouter has no partial
 * mode (a keyspace it routes must be fully covered), so such an entry maps
 * to ROUTER_ECOVERAGE whenever the shards miss the minimum or the maximum,
 * and the message must be about the ends only (exactly what Vitess
 * skipped), never a gap or an overlap.
 */
static void partition_validation_vectors(void **state)
{
	json_t *f = family("partition_validation");
	size_t ran = 0, i;
	json_t *e;

	(void)state;
	json_array_foreach(f, i, e) {
		router_keyrange kr[64];
		const char *names[64];
		router_error err;
		const char *verr = str(e, "error");
		size_t n = parse_shards(json_object_get(e, "shards"), kr, names,
		                        64);
		int rc = router__partition_check(kr, names, n, NULL, "user",
		                                 &err);

		if (json_is_true(json_object_get(e, "allow_partial"))) {
			assert_true(json_is_true(json_object_get(e, "ok")));
			assert_int_equal(rc, ROUTER_ECOVERAGE);
			assert_true(strstr(err.message, "does not start with") !=
			                NULL ||
			            strstr(err.message, "does not end with") !=
			                NULL);
		} else if (verr == NULL) {
			assert_true(json_is_true(json_object_get(e, "ok")));
			assert_int_equal(rc, ROUTER_OK);
		} else {
			const char *want;

			assert_int_equal(rc, ROUTER_ECOVERAGE);
			assert_int_equal(err.code, ROUTER_ECOVERAGE);
			assert_true(strncmp(err.culprit, "user/", 5) == 0);
			if (strstr(verr, "does not start with min key") != NULL)
				want = "does not start with the minimum key";
			else if (strstr(verr, "does not end with max key") != NULL)
				want = "does not end with the maximum key";
			else {
				assert_non_null(strstr(verr, "non-contiguous"));
				assert_non_null(strstr(err.message, "gap between"));
				want = strrchr(verr, ':'); /* ": 40 != 80" */
			}
			if (strstr(err.message, want) == NULL)
				fail_msg("message '%s' lacks '%s'", err.message,
				         want);
		}
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
}

/* ---- behaviour ---------------------------------------------------------- */

static void expect_parse_error(const char *name, size_t len, int code,
                               const char *message)
{
	router_keyrange kr;
	router_error err;

	memset(&err, 0, sizeof err);
	assert_int_equal(router_keyrange_parse(name, len, &kr, &err), code);
	assert_int_equal(err.code, code);
	if (message != NULL && strcmp(err.message, message) != 0)
		fail_msg("%.*s: message '%s', want '%s'", (int)len, name,
		         err.message, message);
}

static void parse_rejects_malformed_names(void **state)
{
	char longname[80];
	router_keyrange kr;
	router_error err;

	(void)state;
#define BAD(s, code, msg) expect_parse_error(s, strlen(s), code, msg)
	BAD("-8", ROUTER_ESHARDNAME, "encoding/hex: odd length hex string");
	BAD("123-", ROUTER_ESHARDNAME, "encoding/hex: odd length hex string");
	/* Go reports a bad byte before the odd length. */
	BAD("-80g", ROUTER_ESHARDNAME, "encoding/hex: invalid byte: U+0067 'g'");
	BAD("x-80", ROUTER_ESHARDNAME, "encoding/hex: invalid byte: U+0078 'x'");
	BAD("g0-80", ROUTER_ESHARDNAME, "encoding/hex: invalid byte: U+0067 'g'");
	BAD("-8\x01", ROUTER_ESHARDNAME, "invalid character \x01 in name -8\x01");
	BAD("foo-bar", ROUTER_ESHARDNAME,
	    "encoding/hex: invalid byte: U+006F 'o'");
	BAD("-8_", ROUTER_ESHARDNAME, "encoding/hex: invalid byte: U+005F '_'");
	BAD("a/b", ROUTER_ESHARDNAME, "invalid character / in name a/b");
	BAD("-80 ", ROUTER_ESHARDNAME, "invalid character   in name -80 ");
	BAD("\xc3\xa9-80", ROUTER_ESHARDNAME,
	    "invalid character \xc3\xa9 in name \xc3\xa9-80");
	BAD("\xff-80", ROUTER_ESHARDNAME,
	    "invalid character \xef\xbf\xbd in name \xff-80");
	BAD("40-80-c0", ROUTER_ESHARDNAME,
	    "invalid shardId, can only contain one '-': 40-80-c0");
	BAD("--", ROUTER_ESHARDNAME,
	    "invalid shardId, can only contain one '-': --");
	BAD("80-40", ROUTER_ESHARDNAME,
	    "out of order keys: 80 is not strictly smaller than 40");
	BAD("8000-80", ROUTER_ESHARDNAME,
	    "out of order keys: 8000 is not strictly smaller than 80");
	BAD("", ROUTER_ESHARDNAME, "empty name");
#undef BAD
	/* A 33-byte bound is out of range; 32 bytes is fine. */
	memset(longname, 'a', 66);
	longname[66] = '-';
	expect_parse_error(longname, 67, ROUTER_ERANGE, NULL);
	expect_parse_error(longname + 1, 66, ROUTER_ESHARDNAME,
	                   "encoding/hex: odd length hex string");
	assert_int_equal(router_keyrange_parse(longname + 2, 65, &kr, NULL),
	                 ROUTER_OK);
	assert_int_equal(kr.start_len, 32);
	expect_parse_error(NULL, 0, ROUTER_EINVAL, NULL);
	expect_parse_error(NULL, 3, ROUTER_EINVAL, NULL);
	assert_int_equal(router_keyrange_parse("-80", 3, NULL, NULL),
	                 ROUTER_EINVAL);
	/* The culprit is the name. */
	assert_int_equal(router_keyrange_parse("x-80", 4, &kr, &err),
	                 ROUTER_ESHARDNAME);
	assert_string_equal(err.culprit, "x-80");
	/* Only len bytes are read. */
	assert_int_equal(router_keyrange_parse("-80zz", 3, &kr, NULL),
	                 ROUTER_OK);
	assert_bounds(&kr, "", "80");
	/* Non-range names: the nil range. */
	assert_int_equal(router_keyrange_parse("select", 6, &kr, NULL),
	                 ROUTER_OK);
	assert_true(kr.full);
	assert_int_equal(router_keyrange_parse("80-8000", 7, &kr, NULL),
	                 ROUTER_OK);
}

static void format_round_trips_canonical_names(void **state)
{
	static const char *const names[] = {
	    "-",     "-80",   "80-",        "40-80",    "-8000", "8000-c000",
	    "0a-0b", "ff80-",
	    ("-0102030405060708090a0b0c0d0e0f10111213141516"
	     "1718191a1b1c1d1e1f20"),
	    "80-8000"};
	router_keyrange kr;
	char buf[160];

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_int_equal(router_keyrange_parse(names[i],
		                                       strlen(names[i]), &kr,
		                                       NULL),
		                 ROUTER_OK);
		assert_int_equal(router_keyrange_format(&kr, buf, sizeof buf),
		                 strlen(names[i]));
		assert_string_equal(buf, names[i]);
	}
	/* Upper case comes back lower case; nil and complete ranges print
	 * "-" ("0" is never produced). */
	assert_int_equal(router_keyrange_parse("A0-C0", 5, &kr, NULL),
	                 ROUTER_OK);
	router_keyrange_format(&kr, buf, sizeof buf);
	assert_string_equal(buf, "a0-c0");
	assert_int_equal(router_keyrange_parse("0", 1, &kr, NULL), ROUTER_OK);
	router_keyrange_format(&kr, buf, sizeof buf);
	assert_string_equal(buf, "-");
	assert_int_equal(router_keyrange_parse("00-", 3, &kr, NULL),
	                 ROUTER_OK);
	router_keyrange_format(&kr, buf, sizeof buf);
	assert_string_equal(buf, "-");
}

static void format_never_writes_past_cap(void **state)
{
	router_keyrange kr;
	char buf[8];

	(void)state;
	assert_int_equal(router_keyrange_parse("4000-8000", 9, &kr, NULL),
	                 ROUTER_OK);
	memset(buf, 'x', sizeof buf);
	assert_int_equal(router_keyrange_format(&kr, buf, 4), 9);
	assert_string_equal(buf, "400");
	assert_int_equal(buf[4], 'x');
	assert_int_equal(router_keyrange_format(&kr, NULL, 0), 9);
	assert_int_equal(router_keyrange_format(&kr, buf, 0), 9);
	assert_int_equal(buf[0], '4');
}

static void shard_range_names_form_partitions(void **state)
{
	static const unsigned counts[] = {1, 2, 3, 4, 49, 103, 256, 512, 65536};
	router_keyrange *kr = malloc(65536 * sizeof *kr);
	size_t *ord = malloc(65536 * sizeof *ord);
	char buf[10];

	(void)state;
	assert_non_null(kr);
	assert_non_null(ord);
	for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
		unsigned n = counts[c];
		router_error err;

		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(router_shard_range_name(i, n, buf,
			                                         sizeof buf),
			                 ROUTER_OK);
			assert_int_equal(router_keyrange_parse(buf, strlen(buf),
			                                       &kr[i], NULL),
			                 ROUTER_OK);
			assert_true(strlen(buf) <= (n <= 256 ? 5u : 9u));
		}
		if (router__partition_check(kr, NULL, n, ord, "gen", &err) !=
		    ROUTER_OK)
			fail_msg("n=%u: %s", n, err.message);
		for (unsigned i = 0; i < n; i++)
			assert_int_equal(ord[i], i);
		/* Last end is the maximum (the 2025 fix). */
		assert_int_equal(kr[n - 1].end_len, 0);
	}
	/* Go's float64 arithmetic, not floor(k * 256 / n): boundary 49 of 98
	 * is 0x7f. */
	assert_int_equal(router_shard_range_name(48, 98, buf, sizeof buf),
	                 ROUTER_OK);
	assert_string_equal(buf, "7d-7f");
	assert_int_equal(router_shard_range_name(48, 49, buf, sizeof buf),
	                 ROUTER_OK);
	assert_string_equal(buf, "fa-");
	free(kr);
	free(ord);
}

static void shard_range_name_rejects_bad_arguments(void **state)
{
	char buf[10];

	(void)state;
	assert_int_equal(router_shard_range_name(0, 0, buf, sizeof buf),
	                 ROUTER_EINVAL);
	assert_int_equal(router_shard_range_name(0, 65537, buf, sizeof buf),
	                 ROUTER_EINVAL);
	assert_int_equal(router_shard_range_name(4, 4, buf, sizeof buf),
	                 ROUTER_EINVAL);
	assert_int_equal(router_shard_range_name(1, 4, buf, 5), ROUTER_ERANGE);
	assert_int_equal(router_shard_range_name(1, 4, buf, 6), ROUTER_OK);
	assert_string_equal(buf, "40-80");
	assert_int_equal(router_shard_range_name(1, 4, NULL, 0), ROUTER_ERANGE);
	assert_int_equal(router_shard_range_name(300, 512, buf, sizeof buf),
	                 ROUTER_OK);
	assert_string_equal(buf, "9600-9680");
}

static void sharding_spec_reports_go_messages(void **state)
{
	router_keyrange out[4];
	router_error err;
	size_t n;

	(void)state;
#define SPEC(s, code, msg)                                                   \
	do {                                                                 \
		assert_int_equal(router__sharding_spec(s, strlen(s), out, 4, &n, \
		                                       &err),                   \
		                 code);                                          \
		assert_string_equal(err.message, msg);                          \
	} while (0)
	SPEC("40", ROUTER_ESHARDNAME,
	     "malformed spec: doesn't define a range: \"40\"");
	SPEC("", ROUTER_ESHARDNAME, "malformed spec: doesn't define a range: \"\"");
	SPEC("---", ROUTER_ESHARDNAME,
	     "malformed spec: MinKey/MaxKey cannot be in the middle of the "
	     "spec: \"---\"");
	SPEC("40-30", ROUTER_ESHARDNAME,
	     "malformed spec: shard limits should be in order: \"40-30\"");
	SPEC("-4g-", ROUTER_ESHARDNAME,
	     "encoding/hex: invalid byte: U+0067 'g'");
	SPEC("-4-", ROUTER_ESHARDNAME, "encoding/hex: odd length hex string");
#undef SPEC
	/* More ranges than room: ERANGE and the count needed. */
	assert_int_equal(router__sharding_spec("-40-80-c0-", 10, out, 2, &n,
	                                       &err),
	                 ROUTER_ERANGE);
	assert_int_equal(n, 4);
	assert_int_equal(router__sharding_spec("-40-80-c0-", 10, out, 4, &n,
	                                       &err),
	                 ROUTER_OK);
	assert_int_equal(n, 4);
	assert_bounds(&out[2], "80", "c0");
}

static router_keyrange named(const char *name)
{
	router_keyrange kr;

	assert_int_equal(router_keyrange_parse(name, strlen(name), &kr, NULL),
	                 ROUTER_OK);
	return kr;
}

static void expect_partition(const char *const *names, size_t n, int code,
                             const char *message, const char *culprit)
{
	router_keyrange kr[16];
	router_error err;

	for (size_t i = 0; i < n; i++)
		kr[i] = named(names[i]);
	memset(&err, 0, sizeof err);
	assert_int_equal(router__partition_check(kr, names, n, NULL, "user",
	                                         &err),
	                 code);
	if (message != NULL)
		assert_string_equal(err.message, message);
	if (culprit != NULL)
		assert_string_equal(err.culprit, culprit);
}

static void partition_check_names_keyspace_and_shards(void **state)
{
	(void)state;
	expect_partition((const char *[]){"80-", "-40"}, 2, ROUTER_ECOVERAGE,
	                 "keyspace user: gap between -40 and 80-: 40 != 80",
	                 "user/80-");
	expect_partition((const char *[]){"40-c0", "-80", "c0-"}, 3,
	                 ROUTER_ECOVERAGE,
	                 "keyspace user: shards -80 and 40-c0 overlap",
	                 "user/40-c0");
	expect_partition((const char *[]){"40-80", "80-"}, 2, ROUTER_ECOVERAGE,
	                 "keyspace user: partition does not start with the "
	                 "minimum key (first shard 40-80)",
	                 "user/40-80");
	expect_partition((const char *[]){"-40", "40-80"}, 2, ROUTER_ECOVERAGE,
	                 "keyspace user: partition does not end with the "
	                 "maximum key (last shard 40-80)",
	                 "user/40-80");
	expect_partition((const char *[]){"-80", "80-", "-80"}, 3,
	                 ROUTER_ECOVERAGE,
	                 "keyspace user: shards -80 and -80 have the same key "
	                 "range",
	                 NULL);
	expect_partition((const char *[]){"-80", "0", "80-"}, 3,
	                 ROUTER_ECOVERAGE,
	                 "keyspace user: shard 0 has no key range (covers the "
	                 "whole keyspace) but shard -80 has one",
	                 "user/0");
	expect_partition((const char *[]){"0", "x"}, 2, ROUTER_ECOVERAGE,
	                 "keyspace user: shards 0 and x both have no key range "
	                 "(each covers the whole keyspace)",
	                 NULL);
	expect_partition((const char *[]){"0", "-"}, 2, ROUTER_ECOVERAGE, NULL,
	                 NULL);
	/* A single nil range, or "-", is a partition. */
	expect_partition((const char *[]){"0"}, 1, ROUTER_OK, NULL, NULL);
	expect_partition((const char *[]){"-"}, 1, ROUTER_OK, NULL, NULL);
	/* No shards at all. */
	expect_partition(NULL, 0, ROUTER_ECOVERAGE, "keyspace user: no shards",
	                 "user");
}

/* The documented relaxation: adjacent bounds compare normalized, so -80
 * then 8000- is contiguous (Vitess's raw check would refuse it), and a
 * bound 00 is the minimum. */
static void partition_check_compares_bounds_normalized(void **state)
{
	size_t ord[3];
	router_keyrange kr[3];

	(void)state;
	expect_partition((const char *[]){"8000-", "-80"}, 2, ROUTER_OK, NULL,
	                 NULL);
	expect_partition((const char *[]){"00-40", "40-c000", "c0-"}, 3,
	                 ROUTER_OK, NULL, NULL);
	expect_partition((const char *[]){"-80", "8001-"}, 2, ROUTER_ECOVERAGE,
	                 "keyspace user: gap between -80 and 8001-: 80 != 8001",
	                 NULL);
	kr[0] = named("c0-");
	kr[1] = named("-40");
	kr[2] = named("40-c0");
	assert_int_equal(router__partition_check(kr, NULL, 3, ord, NULL, NULL),
	                 ROUTER_OK);
	assert_int_equal(ord[0], 1);
	assert_int_equal(ord[1], 2);
	assert_int_equal(ord[2], 0);
}

/* Above the internal stack buffer and without order[], the check sorts in
 * a heap buffer (freed: the suite runs under valgrind). */
static void partition_check_sorts_large_partitions_without_order(void **state)
{
	enum { N = 1000 };
	router_keyrange *kr = malloc(N * sizeof *kr);
	char buf[10];
	router_error err;

	(void)state;
	assert_non_null(kr);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(router_shard_range_name(N - 1 - i, N, buf,
		                                         sizeof buf),
		                 ROUTER_OK);
		kr[i] = named(buf);
	}
	assert_int_equal(router__partition_check(kr, NULL, N, NULL, "big",
	                                         &err),
	                 ROUTER_OK);
	kr[500] = kr[501];
	assert_int_equal(router__partition_check(kr, NULL, N, NULL, "big",
	                                         &err),
	                 ROUTER_ECOVERAGE);
	free(kr);
}

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1du;
}

/* A random bound of 1..4 bytes whose last byte is not zero. */
static size_t random_bound(uint8_t *b)
{
	size_t len = 1 + rnd() % 4;

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)rnd();
	if (b[len - 1] == 0)
		b[len - 1] = 1;
	return len;
}

/* Write bound (b, len) plus 0..2 trailing zero bytes, so the same boundary
 * is often spelled differently at the two shards that share it. */
static uint8_t pad_bound(uint8_t *dst, const uint8_t *b, size_t len)
{
	size_t pad = rnd() % 3;

	memcpy(dst, b, len);
	memset(dst + len, 0, pad);
	return (uint8_t)(len + pad);
}

static int cmp_bound(const void *a, const void *b)
{
	const uint8_t *x = a, *y = b;

	return router_key_compare(x + 1, x[0], y + 1, y[0]);
}

static void check_refused(const router_keyrange *kr, size_t n,
                          const char *what)
{
	router_error err;
	int rc = router__partition_check(kr, NULL, n, NULL, "rnd", &err);

	if (rc != ROUTER_ECOVERAGE)
		fail_msg("%s: accepted (rc %d)", what, rc);
	assert_int_equal(err.code, ROUTER_ECOVERAGE);
	assert_true(strncmp(err.culprit, "rnd/", 4) == 0);
}

static void random_partitions_accepted_and_mutations_refused(void **state)
{
	enum { MAXB = 40, ROUNDS = 500 };
	router_keyrange kr[MAXB + 2], mut[MAXB + 2];
	uint8_t bounds[MAXB][1 + 4];
	size_t ord[MAXB + 2];

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		size_t k = 1 + rnd() % MAXB, m, u = 0, j;
		router_error err;

		/* Sorted, normalized-distinct boundaries. */
		for (size_t i = 0; i < k; i++)
			bounds[i][0] = (uint8_t)random_bound(bounds[i] + 1);
		qsort(bounds, k, sizeof bounds[0], cmp_bound);
		for (size_t i = 0; i < k; i++)
			if (u == 0 || cmp_bound(bounds[u - 1], bounds[i]) != 0)
				memmove(bounds[u++], bounds[i], sizeof bounds[0]);
		k = u;
		m = k + 1;
		memset(kr, 0, sizeof kr);
		for (size_t i = 0; i < m; i++) {
			if (i > 0)
				kr[i].start_len = pad_bound(kr[i].start,
				                            bounds[i - 1] + 1,
				                            bounds[i - 1][0]);
			if (i < k)
				kr[i].end_len = pad_bound(kr[i].end,
				                          bounds[i] + 1,
				                          bounds[i][0]);
		}
		/* Shuffle: the check must not depend on input order. */
		for (size_t i = m; i > 1; i--) {
			size_t r = rnd() % i;
			router_keyrange t = kr[i - 1];

			kr[i - 1] = kr[r];
			kr[r] = t;
		}
		if (router__partition_check(kr, NULL, m, ord, "rnd", &err) !=
		    ROUTER_OK)
			fail_msg("round %d: %s", round, err.message);
		for (size_t i = 0; i + 1 < m; i++)
			assert_true(router__keyrange_compare(&kr[ord[i]],
			                                     &kr[ord[i + 1]]) < 0);

		/* Remove one shard. */
		j = rnd() % m;
		memcpy(mut, kr, sizeof kr);
		mut[j] = mut[m - 1];
		check_refused(mut, m - 1, "removed");

		/* Duplicate one shard. */
		memcpy(mut, kr, sizeof kr);
		mut[m] = mut[rnd() % m];
		check_refused(mut, m + 1, "duplicated");

		/* Shift one boundary of one shard to another value. */
		memcpy(mut, kr, sizeof kr);
		j = rnd() % m;
		for (;;) {
			uint8_t nb[4];
			size_t nl = random_bound(nb);
			router_keyrange *r = &mut[j];

			if (r->start_len > 0) {
				if (router_key_compare(nb, nl, r->start,
				                       r->start_len) == 0)
					continue;
				memcpy(r->start, nb, nl);
				r->start_len = (uint8_t)nl;
			} else {
				if (router_key_compare(nb, nl, r->end,
				                       r->end_len) == 0)
					continue;
				memcpy(r->end, nb, nl);
				r->end_len = (uint8_t)nl;
			}
			break;
		}
		check_refused(mut, m, "shifted");
	}
}

static void key_compare_and_contains_edge_cases(void **state)
{
	router_keyrange kr = named("40-80");

	(void)state;
	assert_int_equal(router_key_compare(NULL, 0, NULL, 0), 0);
	assert_int_equal(router_key_compare("\0\0", 2, NULL, 0), 0);
	assert_true(router_key_compare("\x01", 1, "\x01\x00\x01", 3) < 0);
	assert_false(router_keyrange_contains(&kr, NULL, 4));
	assert_true(router_keyrange_contains(NULL, "x", 1));
	assert_true(router__keyrange_is_full(NULL));
	assert_int_equal(router__key_normlen((const uint8_t *)"a\0b\0\0", 5), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keyrange_parse_vectors_match_validate_shard_name),
	    cmocka_unit_test(keyrange_contains_vectors),
	    cmocka_unit_test(normalize_compare_vectors),
	    cmocka_unit_test(keyrange_compare_vectors),
	    cmocka_unit_test(keyrange_intersect_vectors),
	    cmocka_unit_test(keyrange_contains_keyrange_vectors),
	    cmocka_unit_test(keyrange_add_contiguous_vectors),
	    cmocka_unit_test(even_shards_keyrange_vectors),
	    cmocka_unit_test(sharding_spec_vectors),
	    cmocka_unit_test(generate_shard_ranges_vectors),
	    cmocka_unit_test(shard_for_ksid_first_match_equals_binary_search),
	    cmocka_unit_test(destination_keyrange_vectors),
	    cmocka_unit_test(partition_validation_vectors),
	    cmocka_unit_test(parse_rejects_malformed_names),
	    cmocka_unit_test(format_round_trips_canonical_names),
	    cmocka_unit_test(format_never_writes_past_cap),
	    cmocka_unit_test(shard_range_names_form_partitions),
	    cmocka_unit_test(shard_range_name_rejects_bad_arguments),
	    cmocka_unit_test(sharding_spec_reports_go_messages),
	    cmocka_unit_test(partition_check_names_keyspace_and_shards),
	    cmocka_unit_test(partition_check_compares_bounds_normalized),
	    cmocka_unit_test(partition_check_sorts_large_partitions_without_order),
	    cmocka_unit_test(random_partitions_accepted_and_mutations_refused),
	    cmocka_unit_test(key_compare_and_contains_edge_cases),
	};

	return cmocka_run_group_tests(tests, load_vectors, free_vectors);
}
