/*
 * The cfc vindex (concatenated fixed-width composite), bit for bit as
 * Vitess's go/vt/vtgate/vindexes/cfc.go (docs/spec.md section 2;
 * ../shared/vitess/VINDEXES_MORE.md section 1).
 *
 * A cfc keyspace ID is the column's bytes (identity, no `hash` param) or,
 * with `hash` (md5 or xxhash64) and `offsets` [o1, o2, ...], the
 * concatenation of hash(v[0:o1]), hash(v[o1:o2]), ..., hash(v[last:]), each
 * component's hash cut to the component's own length (at most 16 bytes for
 * md5, 8 for xxhash64: the little-endian XXH64).  The LIKE 'abc%' form
 * (Vitess's PrefixVindex) maps the literal's prefix to a key range
 * instead of one keyspace ID: router__cfc_prefix_range.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <nettle/md5.h>
#include <xxhash.h>

#include "internal.h"

enum { CFC_IDENTITY = 0, CFC_MD5 = 1, CFC_XXHASH64 = 2 };

/* The value of param key (the last one wins, as in Go's map), or NULL. */
static const char *param(const router_param *p, size_t n, const char *key)
{
	const char *v = NULL;

	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].key, key) == 0)
			v = p[i].value;
	return v;
}

/* Vitess's offsets: json.Unmarshal into []int, non-empty, the first > 0,
 * strictly increasing (cfc.go:161-176).  A JSON null element unmarshals to
 * 0, which can never pass the checks: refusing every non-integer gives
 * the same verdicts. */
static int parse_offsets(const char *s, const router_allocator *a,
                         size_t **out, size_t *nout)
{
	json_t *j = json_loadb(s, strlen(s), JSON_DECODE_ANY, NULL);
	size_t n, i, *off = NULL;
	json_t *x;
	json_int_t prev = 0;
	int rc = -1;

	if (j == NULL || !json_is_array(j) || (n = json_array_size(j)) == 0)
		goto out;
	json_array_foreach(j, i, x) {
		if (!json_is_integer(x) || json_integer_value(x) <= prev)
			goto out;
		prev = json_integer_value(x);
	}
	if ((off = router__malloc(a, n * sizeof *off)) == NULL) {
		rc = ROUTER_ENOMEM;
		goto out;
	}
	json_array_foreach(j, i, x)
		off[i] = (size_t)json_integer_value(x);
	*out = off;
	*nout = n;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

int router__cfc_init(router__vindex *v, const router_param *params,
                     size_t nparams, const router_allocator *a,
                     const char *culprit, router_error *err)
{
	const char *h = param(params, nparams, "hash");
	const char *offs = param(params, nparams, "offsets");
	char shown[96], name[96];
	int rc;

	v->u.cfc.hash = CFC_IDENTITY;
	if (h == NULL || h[0] == '\0')
		return ROUTER_OK; /* offsets are then ignored, unchecked */
	router__fmt_name(name, sizeof name, culprit ? culprit : "",
	                 culprit ? strlen(culprit) : 0);
	if (strcmp(h, "md5") == 0) {
		v->u.cfc.hash = CFC_MD5;
	} else if (strcmp(h, "xxhash64") == 0) {
		v->u.cfc.hash = CFC_XXHASH64;
	} else {
		return router__seterr(err, ROUTER_EREFERENCE, culprit,
		                      "invalid hash %s to CFC vindex %s",
		                      router__fmt_name(shown, sizeof shown, h,
		                                       strlen(h)),
		                      name);
	}
	if (offs == NULL) {
		v->u.cfc.hash = CFC_IDENTITY;
		return router__seterr(err, ROUTER_EREFERENCE, culprit,
		                      "CFC vindex requires offsets when hash "
		                      "is defined");
	}
	rc = parse_offsets(offs, a, &v->u.cfc.offsets, &v->u.cfc.noffsets);
	if (rc == ROUTER_ENOMEM) {
		v->u.cfc.hash = CFC_IDENTITY;
		return router__seterr(err, rc, culprit,
		                      "out of memory reading the cfc offsets");
	}
	if (rc != 0) {
		v->u.cfc.hash = CFC_IDENTITY;
		return router__seterr(err, ROUTER_EREFERENCE, culprit,
		                      "invalid offsets %s to CFC vindex %s. "
		                      "expected sorted positive ints in brackets",
		                      router__fmt_name(shown, sizeof shown, offs,
		                                       strlen(offs)),
		                      name);
	}
	return ROUTER_OK;
}

void router__cfc_fini(router__vindex *v, const router_allocator *a)
{
	router__free(a, v->u.cfc.offsets);
	v->u.cfc.offsets = NULL;
	v->u.cfc.noffsets = 0;
}

/* md5hash / xxhash64 of one component (cfc.go:406-427): the first
 * min(n, 16) bytes of MD5, or min(n, 8) of the little-endian XXH64. */
static size_t component(int hash, const uint8_t *p, size_t n, uint8_t *out)
{
	uint8_t d[16];
	size_t w;

	if (hash == CFC_MD5) {
		struct md5_ctx c;

		md5_init(&c);
		md5_update(&c, n, p);
		md5_digest(&c, MD5_DIGEST_SIZE, d);
		w = n < 16 ? n : 16;
	} else {
		uint64_t x = XXH64(p, n, 0);

		for (int i = 0; i < 8; i++)
			d[i] = (uint8_t)(x >> (8 * i));
		w = n < 8 ? n : 8;
	}
	memcpy(out, d, w);
	return w;
}

/* Vitess's computeKsid over (p, n) with a hash (cfc.go:199-232), into out
 * (cap bytes).  Returns ROUTER_OK; ROUTER_EINVAL when not a prefix and n
 * is shorter than the last offset; ROUTER_EUNSUPPORTED when the keyspace
 * ID would pass cap.  The output is never longer than n. */
static int compute(const router__vindex *v, const uint8_t *p, size_t n,
                   int prefix, uint8_t *out, size_t cap, size_t *len)
{
	const size_t *off = v->u.cfc.offsets;
	size_t no = v->u.cfc.noffsets, prev = 0, k = 0;

	*len = 0;
	if (!prefix && n < off[no - 1])
		return ROUTER_EINVAL;
	for (size_t i = 0; i < no; i++) {
		size_t w = off[i] - prev;
		int H = v->u.cfc.hash == CFC_MD5 ? 16 : 8;

		if (n < off[i]) {
			*len = k; /* prefix mode: whole components only */
			return ROUTER_OK;
		}
		if (k + (w < (size_t)H ? w : (size_t)H) > cap)
			return ROUTER_EUNSUPPORTED;
		k += component(v->u.cfc.hash, p + prev, w, out + k);
		prev = off[i];
	}
	if (n > prev) {
		size_t w = n - prev, H = v->u.cfc.hash == CFC_MD5 ? 16 : 8;

		if (k + (w < H ? w : H) > cap)
			return ROUTER_EUNSUPPORTED;
		k += component(v->u.cfc.hash, p + prev, w, out + k);
	}
	*len = k;
	return ROUTER_OK;
}

int router__cfc_map(const router__vindex *v, const router_value *val,
                    uint8_t *buf, const uint8_t **ksid, size_t *len)
{
	char tmp[24];
	const uint8_t *p;
	size_t n;

	if (v->u.cfc.hash == CFC_IDENTITY) {
		/* As binary: an integer's text is formatted into buf. */
		if (router__value_bytes(val, (char *)buf, &p, &n) !=
		    ROUTER__CONV_OK)
			return ROUTER_EINVAL;
		*ksid = p;
		*len = n;
		return ROUTER_OK;
	}
	if (router__value_bytes(val, tmp, &p, &n) != ROUTER__CONV_OK)
		return ROUTER_EINVAL;
	*ksid = buf;
	return compute(v, p, n, 0, buf, ROUTER__KSID_BUF, len);
}

int router__cfc_explain(const router__vindex *v, const router_value *val,
                        const char *culprit, router_error *err)
{
	uint8_t buf[ROUTER__KSID_BUF];
	const uint8_t *k, *p;
	char tmp[24], name[96];
	size_t n, len;
	int rc;

	if (router__value_bytes(val, tmp, &p, &n) != ROUTER__CONV_OK)
		return 0;
	rc = router__cfc_map(v, val, buf, &k, &len);
	router__fmt_name(name, sizeof name, culprit ? culprit : "",
	                 culprit ? strlen(culprit) : 0);
	if (rc == ROUTER_EINVAL) {
		router__seterr(err, rc, culprit,
		               "insufficient size for cfc vindex %s. need %zu, "
		               "got %zu",
		               name, v->u.cfc.offsets[v->u.cfc.noffsets - 1], n);
		return 1;
	}
	if (rc == ROUTER_EUNSUPPORTED) {
		router__seterr(err, rc, culprit,
		               "cfc vindex %s: the keyspace ID of this %zu-byte "
		               "value is longer than the %d bytes librouter "
		               "computes (ROUTER_KSID_MAX)",
		               name, n, ROUTER__KSID_BUF);
		return 1;
	}
	return 0;
}

/* ---- the LIKE prefix form ----------------------------------------------- */

size_t router__cfc_find_prefix(const uint8_t *s, size_t n, uint8_t *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c == '%' || c == '_')
			break;
		if (c == '\\' && i + 1 < n) {
			/* sqltypes.SQLDecodeMap; any other escaped byte is
			 * itself (\% is %, \_ is _). */
			switch (s[++i]) {
			case '0': c = 0x00; break;
			case '\'': c = 0x27; break;
			case '"': c = 0x22; break;
			case 'b': c = 0x08; break;
			case 'n': c = 0x0a; break;
			case 'r': c = 0x0d; break;
			case 't': c = 0x09; break;
			case 'Z': c = 0x1a; break;
			case '\\': c = 0x5c; break;
			default: c = s[i]; break;
			}
		}
		out[k++] = c; /* a lone trailing backslash is kept */
	}
	return k;
}

int router__cfc_add_one(uint8_t *k, size_t n)
{
	for (size_t i = n; i > 0; i--)
		if (++k[i - 1] != 0)
			return 1;
	return 0; /* every byte was 0xff: Vitess's nil (no end) */
}

int router__cfc_prefix_begin(const router__vindex *v, const void *like,
                             size_t n, uint8_t *out, size_t *len)
{
	size_t m = router__cfc_find_prefix(like, n, out);

	if (v->u.cfc.hash == CFC_IDENTITY) {
		*len = m;
		return ROUTER_OK;
	}
	/* In place: a component's hash is computed from all its bytes
	 * before it is written, at or before where the component started,
	 * and never past its end (a hash is cut to the component's
	 * length), so no later component is overwritten before it is read. */
	return compute(v, out, m, 1, out, m, len);
}

int router__cfc_prefix_range(const router__vindex *v, const void *like,
                             size_t n, const router_allocator *a,
                             router_keyrange *kr)
{
	uint8_t stackbuf[256];
	uint8_t *begin = stackbuf;
	size_t len = 0;
	int rc;

	memset(kr, 0, sizeof *kr);
	if (n > sizeof stackbuf &&
	    (begin = router__malloc(router__allocator(a), n)) == NULL)
		return ROUTER_ENOMEM;
	rc = router__cfc_prefix_begin(v, like, n, begin, &len);
	if (rc == ROUTER_OK && len == 0) {
		kr->full = 1; /* DestinationAllShards */
	} else if (rc == ROUTER_OK) {
		/* A begin longer than a shard bound: keep its first
		 * ROUTER_KEY_MAX bytes b.  Every key of [begin, begin+1)
		 * starts with b, and no bound of at most ROUTER_KEY_MAX bytes
		 * falls strictly inside the keys starting with b, so
		 * [b, b+1) covers exactly the same shards. */
		if (len > ROUTER_KEY_MAX)
			len = ROUTER_KEY_MAX;
		memcpy(kr->start, begin, len);
		kr->start_len = (uint8_t)len;
		memcpy(kr->end, begin, len);
		kr->end_len = router__cfc_add_one(kr->end, len) ? (uint8_t)len
		                                                : 0;
	}
	if (begin != stackbuf)
		router__free(router__allocator(a), begin);
	return rc;
}
