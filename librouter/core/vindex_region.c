/*
 * The region_json vindex, bit for bit as Vitess's
 * go/vt/vtgate/vindexes/region_json.go (docs/spec.md section 2;
 * ../shared/vitess/VINDEXES_MORE.md section 2).
 *
 * Two columns, (id, region) in Vitess's code order: the region's value in
 * a JSON map of region name -> integer, as 1 or 2 big-endian bytes
 * (region_bytes), followed by the hash vindex's DES of the id.  The map is
 * read once, when the vindex is compiled: from region_map_json, the map
 * itself, which is what a document load adds beside region_map after
 * reading that file (doc_load.c, "files a document names": a document
 * never makes the table read a file later, and its dump carries the map
 * and still names the file for Vitess), else from the file region_map
 * names (a vindex built directly by its caller).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"

/* The value of param key (the last one wins, as in Go's map), or NULL. */
static const char *param(const router_param *p, size_t n, const char *key)
{
	const char *v = NULL;

	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].key, key) == 0)
			v = p[i].value;
	return v;
}

static int entry_cmp(const void *x, const void *y)
{
	const router__rj_entry *a = x, *b = y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->key, b->key, n) : 0;

	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* What x is, for messages. */
static const char *kind(const json_t *x)
{
	switch (json_typeof(x)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "a negative integer";
	case JSON_REAL: return "a number with a fraction or an exponent";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "an unknown JSON value";
}

/*
 * Go's json.Unmarshal into map[string]uint64, through jansson: a top-level
 * null is an empty map, a null value is 0, a value must be a non-negative
 * integer, a repeated key keeps its last value.  Values above INT64_MAX,
 * valid in Go, are refused here (jansson cannot hold them; a region needs
 * 16 bits).  Messages give jansson's line and column and the member, never
 * the text around it.  where names the source.
 */
static int load_map(router__vindex *v, const char *s, size_t n,
                    const router_allocator *a, const char *culprit,
                    const char *where, router_error *err)
{
	json_error_t je;
	json_t *j = json_loadb(s, n, JSON_DECODE_ANY, &je), *x;
	router__rj_entry *e = NULL;
	const char *key;
	size_t bytes = 0, k = 0, m = 0;
	char *keys = NULL;
	int rc = ROUTER_OK;

	if (j == NULL) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return router__seterr(err, ROUTER_ENOMEM, culprit,
			                      "out of memory reading the "
			                      "region_json map (%s)", where);
		return router__seterr(
		    err, ROUTER_EREFERENCE, culprit,
		    "the region_json map is not valid JSON (line %d, column "
		    "%d%s) (%s)",
		    je.line, je.column,
		    json_error_code(&je) == json_error_numeric_overflow
		        ? ": a number out of range"
		        : "",
		    where);
	}
	if (json_is_null(j))
		goto out; /* Go leaves the map empty */
	if (!json_is_object(j)) {
		rc = router__seterr(err, ROUTER_EREFERENCE, culprit,
		                    "the region_json map is %s, not a JSON "
		                    "object of \"region\": integer pairs (%s)",
		                    kind(j), where);
		goto out;
	}
	json_object_foreach(j, key, x) {
		char shown[96];

		if (!json_is_null(x) &&
		    !(json_is_integer(x) && json_integer_value(x) >= 0)) {
			rc = router__seterr(
			    err, ROUTER_EREFERENCE, culprit,
			    "the region_json map's value for %s is %s, not an "
			    "unsigned integer (%s)",
			    router__fmt_name(shown, sizeof shown, key,
			                     strlen(key)),
			    kind(x), where);
			goto out;
		}
		bytes += strlen(key);
	}
	m = json_object_size(j);
	if (m > 0 && ((e = router__malloc(a, m * sizeof *e)) == NULL ||
	              (bytes > 0 &&
	               (keys = router__malloc(a, bytes)) == NULL))) {
		rc = router__seterr(err, ROUTER_ENOMEM, culprit,
		                    "out of memory reading the region_json "
		                    "map (%s)", where);
		goto out;
	}
	bytes = 0;
	json_object_foreach(j, key, x) {
		size_t kl = strlen(key);

		memcpy(keys + bytes, key, kl);
		e[k].key = keys + bytes;
		e[k].len = kl;
		/* uint16(value): Go's conversion keeps the low 16 bits. */
		e[k].region = (uint16_t)(json_is_null(x)
		                             ? 0
		                             : (uint64_t)json_integer_value(x));
		bytes += kl;
		k++;
	}
	if (k > 0)
		qsort(e, k, sizeof *e, entry_cmp); /* jansson's keys are unique */
	v->u.rj.e = e;
	v->u.rj.n = k;
	v->u.rj.keys = keys;
	e = NULL;
	keys = NULL;
out:
	router__free(a, e);
	router__free(a, keys);
	json_decref(j);
	return rc;
}

/* Go's strconv.Atoi for region_bytes, with its message. */
static int region_bytes(const char *rb, int64_t *out, const char *culprit,
                        router_error *err)
{
	size_t n = rb ? strlen(rb) : 0, i = 0;
	char shown[96];

	if (n > 0 && router__parse_int64(rb, n, out) == 0)
		return ROUTER_OK;
	if (n > 0 && (rb[0] == '+' || rb[0] == '-'))
		i = 1;
	while (i < n && rb[i] >= '0' && rb[i] <= '9')
		i++;
	return router__seterr(
	    err, ROUTER_EREFERENCE, culprit,
	    "strconv.Atoi: parsing \"%s\": %s",
	    router__fmt_name(shown, sizeof shown, rb ? rb : "", n),
	    i == n && n > 0 && rb[n - 1] >= '0' && rb[n - 1] <= '9'
	        ? "value out of range"
	        : "invalid syntax");
}

int router__region_json_init(router__vindex *v, const router_param *params,
                             size_t nparams, const router_allocator *a,
                             const char *culprit, router_error *err)
{
	const char *path = param(params, nparams, "region_map");
	const char *inl = param(params, nparams, "region_map_json");
	const char *rb = param(params, nparams, "region_bytes");
	int64_t b;
	int rc;

	/* Both: the map is region_map_json, and region_map is what Vitess
	 * reads (a document load adds the first beside the second). */
	if (inl != NULL) {
		rc = load_map(v, inl, strlen(inl), a, culprit,
		              "param 'region_map_json'", err);
	} else {
		char msg[ROUTER_MESSAGE_MAX], where[ROUTER_MESSAGE_MAX / 2];
		char *file = NULL;
		size_t flen = 0;

		/* No region_map: Vitess reads the path "". */
		rc = router__read_file(path ? path : "", a, &file, &flen, msg,
		                       sizeof msg);
		if (rc != ROUTER_OK)
			return router__seterr(err, rc, culprit,
			                      "%s (param 'region_map')", msg);
		snprintf(where, sizeof where, "param 'region_map', file %s",
		         path);
		rc = load_map(v, file, flen, a, culprit, where, err);
		router__free(a, file);
	}
	if (rc != ROUTER_OK)
		return rc;
	rc = region_bytes(rb, &b, culprit, err);
	if (rc == ROUTER_OK && b != 1 && b != 2)
		rc = router__seterr(err, ROUTER_EREFERENCE, culprit,
		                    "region_bytes must be 1 or 2: %lld",
		                    (long long)b);
	if (rc != ROUTER_OK) {
		router__region_json_fini(v, a);
		return rc;
	}
	v->u.rj.region_bytes = (uint8_t)b;
	return ROUTER_OK;
}

void router__region_json_fini(router__vindex *v, const router_allocator *a)
{
	router__free(a, v->u.rj.e);
	router__free(a, v->u.rj.keys);
	v->u.rj.e = NULL;
	v->u.rj.keys = NULL;
	v->u.rj.n = 0;
}

/* ToCastUint64: Vitess's fastparse.ParseUint64(text, 10)
 * (go/mysql/fastparse/fastparse.go): spaces and tabs around the digits, no
 * sign, no junk.  Its overflow test is only "the new value is below the
 * old one", which some 20-digit texts pass after wrapping
 * ("20500000000000000000" gives 2053255926290448384): the same test here,
 * so that such an id lands where vtgate puts it. */
static int cast_uint64(const uint8_t *p, size_t n, uint64_t *out)
{
	size_t i = 0, j;
	uint64_t d = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	for (j = i; j < n && p[j] >= '0' && p[j] <= '9'; j++) {
		uint64_t x = d * 10 + (uint64_t)(p[j] - '0'); /* wraps */

		if (x < d)
			return -1;
		d = x;
	}
	if (j == i)
		return -1;
	while (j < n && (p[j] == ' ' || p[j] == '\t'))
		j++;
	if (j != n)
		return -1;
	*out = d;
	return 0;
}

int router__region_json_map(const router__vindex *v,
                            const router_value *values, uint8_t *buf,
                            const uint8_t **ksid, size_t *len)
{
	char tmp[24], tmp2[24];
	const uint8_t *p, *r;
	size_t n, rn, lo = 0, hi = v->u.rj.n, off = 0;
	uint64_t id;

	if (router__value_bytes(&values[0], tmp, &p, &n) != ROUTER__CONV_OK ||
	    router__value_bytes(&values[1], tmp2, &r, &rn) != ROUTER__CONV_OK)
		return ROUTER_EINVAL;
	if (cast_uint64(p, n, &id) != 0)
		return ROUTER_NONE;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const router__rj_entry *e = &v->u.rj.e[mid];
		router__rj_entry want = {(const char *)r, rn, 0};
		int c = entry_cmp(&want, e);

		if (c == 0) {
			if (v->u.rj.region_bytes == 2)
				buf[off++] = (uint8_t)(e->region >> 8);
			buf[off++] = (uint8_t)e->region;
			router__vhash(id, buf + off);
			*ksid = buf;
			*len = off + 8;
			return ROUTER_OK;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return ROUTER_NONE;
}
