/*
 * Key ranges and shard names, as Vitess's go/vt/key and topo packages.
 *
 * Semantics follow Vitess v17+ (docs/spec.md section 3):
 * - A bound is a byte string; an empty start is the minimum, an empty end
 *   the maximum.  Comparisons ignore trailing zero bytes (key.Normalize), so
 *   80 == 8000 and a bound 00 is the same as an empty one.
 * - full != 0 is Go's nil *KeyRange (a non-range shard such as "0").  A NULL
 *   router_keyrange pointer is treated the same way by every function here,
 *   as Go treats a nil pointer; "-" (both bounds empty, full == 0) is a
 *   non-nil range that is nevertheless complete (KeyRangeIsComplete).
 * - Shard-name parsing keeps Vitess's RAW byte comparison for the order
 *   check (80-8000 is accepted, 8000-80 refused), and Go's exact hex error
 *   texts.
 *
 * The one deliberate departure is router__partition_check, which compares
 * adjacent bounds normalized (see its comment).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ---- bytes and bounds -------------------------------------------------- */

size_t router__key_normlen(const uint8_t *k, size_t len)
{
	while (len > 0 && k[len - 1] == 0)
		len--;
	return len;
}

int router_key_compare(const void *a, size_t alen, const void *b,
                       size_t blen)
{
	size_t n;
	int c = 0;

	alen = alen > 0 && a != NULL ? router__key_normlen(a, alen) : 0;
	blen = blen > 0 && b != NULL ? router__key_normlen(b, blen) : 0;
	n = alen < blen ? alen : blen;
	if (n > 0)
		c = memcmp(a, b, n);
	if (c != 0)
		return c < 0 ? -1 : 1;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Raw bytes.Compare, used only where Vitess itself compares raw. */
static int raw_compare(const uint8_t *a, size_t alen, const uint8_t *b,
                       size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n > 0 ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c < 0 ? -1 : 1;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static size_t start_len(const router_keyrange *kr)
{
	return kr->start_len <= ROUTER_KEY_MAX ? kr->start_len : ROUTER_KEY_MAX;
}

static size_t end_len(const router_keyrange *kr)
{
	return kr->end_len <= ROUTER_KEY_MAX ? kr->end_len : ROUTER_KEY_MAX;
}

/* key.Empty on a range's bounds. */
static int start_empty(const router_keyrange *kr)
{
	return router__key_normlen(kr->start, start_len(kr)) == 0;
}

static int end_empty(const router_keyrange *kr)
{
	return router__key_normlen(kr->end, end_len(kr)) == 0;
}

static int is_nil(const router_keyrange *kr)
{
	return kr == NULL || kr->full;
}

/* ---- range predicates (go/vt/key/key.go, v17+) ------------------------- */

int router__keyrange_is_full(const router_keyrange *kr)
{
	return is_nil(kr) || (start_empty(kr) && end_empty(kr));
}

int router__keyrange_start_compare(const router_keyrange *a,
                                   const router_keyrange *b)
{
	int amin = is_nil(a) || start_empty(a);
	int bmin = is_nil(b) || start_empty(b);

	if (amin || bmin)
		return amin && bmin ? 0 : amin ? -1 : 1;
	return router_key_compare(a->start, start_len(a), b->start,
	                          start_len(b));
}

int router__keyrange_end_compare(const router_keyrange *a,
                                 const router_keyrange *b)
{
	int amax = is_nil(a) || end_empty(a);
	int bmax = is_nil(b) || end_empty(b);

	if (amax || bmax)
		return amax && bmax ? 0 : amax ? 1 : -1;
	return router_key_compare(a->end, end_len(a), b->end, end_len(b));
}

int router__keyrange_compare(const router_keyrange *a,
                             const router_keyrange *b)
{
	int c = router__keyrange_start_compare(a, b);

	return c != 0 ? c : router__keyrange_end_compare(a, b);
}

int router__keyrange_equal(const router_keyrange *a, const router_keyrange *b)
{
	return router__keyrange_compare(a, b) == 0;
}

int router__keyrange_intersect(const router_keyrange *a,
                               const router_keyrange *b)
{
	if (router__keyrange_is_full(a) || router__keyrange_is_full(b))
		return 1;
	return (end_empty(a) || router_key_compare(b->start, start_len(b),
	                                           a->end, end_len(a)) < 0) &&
	       (end_empty(b) || router_key_compare(a->start, start_len(a),
	                                           b->end, end_len(b)) < 0);
}

int router__keyrange_contains_keyrange(const router_keyrange *a,
                                       const router_keyrange *b)
{
	if (router__keyrange_is_full(a))
		return 1;
	if (router__keyrange_is_full(b))
		return 0;
	return router__keyrange_start_compare(b, a) >= 0 &&
	       router__keyrange_end_compare(b, a) <= 0;
}

int router_keyrange_contains(const router_keyrange *kr, const void *ksid,
                             size_t len)
{
	if (router__keyrange_is_full(kr))
		return 1;
	if (ksid == NULL && len > 0)
		return 0;
	return (start_empty(kr) ||
	        router_key_compare(ksid, len, kr->start, start_len(kr)) >= 0) &&
	       (end_empty(kr) ||
	        router_key_compare(ksid, len, kr->end, end_len(kr)) < 0);
}

int router__keyrange_add(const router_keyrange *a, const router_keyrange *b,
                         router_keyrange *out)
{
	router_keyrange r;

	/* KeyRangeAdd refuses nil ranges only, not complete ones ("-"). */
	if (is_nil(a) || is_nil(b))
		return 0;
	memset(&r, 0, sizeof r);
	if (!end_empty(a) &&
	    router_key_compare(a->end, end_len(a), b->start, start_len(b)) == 0) {
		memcpy(r.start, a->start, start_len(a));
		r.start_len = (uint8_t)start_len(a);
		memcpy(r.end, b->end, end_len(b));
		r.end_len = (uint8_t)end_len(b);
	} else if (!end_empty(b) && router_key_compare(b->end, end_len(b),
	                                               a->start,
	                                               start_len(a)) == 0) {
		memcpy(r.start, b->start, start_len(b));
		r.start_len = (uint8_t)start_len(b);
		memcpy(r.end, a->end, end_len(a));
		r.end_len = (uint8_t)end_len(a);
	} else {
		return 0;
	}
	if (out != NULL)
		*out = r;
	return 1;
}

/* ---- formatting -------------------------------------------------------- */

size_t router_keyrange_format(const router_keyrange *kr, char *buf,
                              size_t cap)
{
	char tmp[4 * ROUTER_KEY_MAX + 2];
	size_t n;

	/* KeyRangeString: "-" for any complete range (nil, "-", "00-"). */
	if (router__keyrange_is_full(kr)) {
		tmp[0] = '-';
		tmp[1] = '\0';
		n = 1;
	} else {
		router__hex(kr->start, start_len(kr), tmp);
		n = 2 * start_len(kr);
		tmp[n++] = '-';
		router__hex(kr->end, end_len(kr), tmp + n);
		n += 2 * end_len(kr);
	}
	if (buf != NULL && cap > 0) {
		size_t k = n < cap ? n : cap - 1;

		memcpy(buf, tmp, k);
		buf[k] = '\0';
	}
	return n;
}

/* ---- Go error texts ---------------------------------------------------- */

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* hex.InvalidByteError: "encoding/hex: invalid byte: %#U" of rune(byte).
 * %#U adds " 'c'" when strconv.IsPrint: ASCII 0x20-0x7e, and Latin-1
 * 0xa1-0xff except the soft hyphen 0xad (0xa0 is a space, not printable). */
static int bad_hex_byte(router_error *err, const char *culprit,
                        unsigned char b)
{
	char ch[3] = {0, 0, 0};

	if (b >= 0x20 && b < 0x7f)
		ch[0] = (char)b;
	else if (b >= 0xa1 && b != 0xad) {
		ch[0] = (char)(0xc0 | (b >> 6));
		ch[1] = (char)(0x80 | (b & 0x3f));
	}
	if (ch[0] != 0)
		return router__seterr(err, ROUTER_ESHARDNAME, culprit,
		                      "encoding/hex: invalid byte: U+%04X '%s'",
		                      (unsigned)b, ch);
	return router__seterr(err, ROUTER_ESHARDNAME, culprit,
	                      "encoding/hex: invalid byte: U+%04X", (unsigned)b);
}

/* Go's hex.DecodeString on (s, n), with its error order: pairs are scanned
 * left to right (first invalid byte wins), then an odd trailing byte is
 * reported as invalid if it is, else as odd length.  Writes at most cap
 * bytes into out; *outlen receives the full decoded length. */
int router__go_hex_decode(const char *s, size_t n, uint8_t *out, size_t cap,
                          size_t *outlen, const char *culprit,
                          router_error *err)
{
	size_t i = 0, j;

	for (j = 1; j < n; j += 2) {
		int a = hexval((unsigned char)s[j - 1]);
		int b = hexval((unsigned char)s[j]);

		if (a < 0)
			return bad_hex_byte(err, culprit, (unsigned char)s[j - 1]);
		if (b < 0)
			return bad_hex_byte(err, culprit, (unsigned char)s[j]);
		if (i < cap)
			out[i] = (uint8_t)(a << 4 | b);
		i++;
	}
	if (n % 2 == 1) {
		if (hexval((unsigned char)s[j - 1]) < 0)
			return bad_hex_byte(err, culprit, (unsigned char)s[j - 1]);
		return router__seterr(err, ROUTER_ESHARDNAME, culprit,
		                      "encoding/hex: odd length hex string");
	}
	*outlen = i;
	return ROUTER_OK;
}

/* Length of the rune Go's `range` yields at s[0..n), or 0 if the bytes are
 * not valid UTF-8 (Go then yields U+FFFD for one byte). */
static size_t utf8_rune_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t k;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return k;
}

/* Culprit for a shard name: the name itself, cut to fit. */
static void name_culprit(char *dst, size_t cap, const char *name, size_t len)
{
	size_t k = len < cap - 1 ? len : cap - 1;

	memcpy(dst, name, k);
	dst[k] = '\0';
}

/* ---- shard names ------------------------------------------------------- */

int router_keyrange_parse(const char *name, size_t len, router_keyrange *out,
                          router_error *err)
{
	char culprit[ROUTER_CULPRIT_MAX];
	const char *dash = NULL;
	uint8_t sbuf[ROUTER_KEY_MAX], ebuf[ROUTER_KEY_MAX];
	size_t slen, elen, ndash = 0;
	int rc;

	if (name == NULL || out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_keyrange_parse: NULL argument");
	memset(out, 0, sizeof *out);
	name_culprit(culprit, sizeof culprit, name, len);

	/* topo.validateObjectName (v16.0.2+): non-empty, ASCII letters,
	 * digits, '_' and '-' only. */
	if (len == 0)
		return router__seterr(err, ROUTER_ESHARDNAME, culprit,
		                      "empty name");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		char rune[5];
		size_t k;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_')
			continue;
		if (c == '-') {
			if (ndash++ == 0)
				dash = name + i;
			continue;
		}
		k = utf8_rune_len((const unsigned char *)name + i, len - i);
		if (k == 0)
			memcpy(rune, "\xef\xbf\xbd", 4); /* U+FFFD */
		else {
			memcpy(rune, name + i, k);
			rune[k] = '\0';
		}
		return router__seterr(err, ROUTER_ESHARDNAME, culprit,
		                      "invalid character %s in name %s", rune,
		                      culprit);
	}

	/* No '-': a non-range shard, nil KeyRange. */
	if (ndash == 0) {
		out->full = 1;
		return ROUTER_OK;
	}
	if (ndash > 1)
		return router__seterr(err, ROUTER_ESHARDNAME, culprit,
		                      "invalid shardId, can only contain one "
		                      "'-': %s",
		                      culprit);

	/* key.ParseKeyRangeParts: start, then end. */
	rc = router__go_hex_decode(name, (size_t)(dash - name), sbuf, sizeof sbuf,
	                   &slen, culprit, err);
	if (rc != ROUTER_OK)
		return rc;
	rc = router__go_hex_decode(dash + 1, len - (size_t)(dash - name) - 1, ebuf,
	                   sizeof ebuf, &elen, culprit, err);
	if (rc != ROUTER_OK)
		return rc;
	if (slen > ROUTER_KEY_MAX || elen > ROUTER_KEY_MAX)
		return router__seterr(err, ROUTER_ERANGE, culprit,
		                      "shard %s: key-range bound of %zu bytes is "
		                      "longer than the maximum of %d",
		                      culprit, slen > elen ? slen : elen,
		                      ROUTER_KEY_MAX);

	/* Raw comparison, exactly as ValidateShardName. */
	if (elen > 0 && raw_compare(sbuf, slen, ebuf, elen) >= 0) {
		char sh[2 * ROUTER_KEY_MAX + 1], eh[2 * ROUTER_KEY_MAX + 1];

		router__hex(sbuf, slen, sh);
		router__hex(ebuf, elen, eh);
		return router__seterr(err, ROUTER_ESHARDNAME, culprit,
		                      "out of order keys: %s is not strictly "
		                      "smaller than %s",
		                      sh, eh);
	}
	memcpy(out->start, sbuf, slen);
	out->start_len = (uint8_t)slen;
	memcpy(out->end, ebuf, elen);
	out->end_len = (uint8_t)elen;
	return ROUTER_OK;
}

/* Go's %q for the spec in ParseShardingSpec messages (the spec is ASCII in
 * practice; other bytes are written as \xNN, as Go does for invalid
 * UTF-8). */
static void go_quote(const char *s, size_t n, char *buf, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	if (cap < 3) {
		if (cap > 0)
			buf[0] = '\0';
		return;
	}
	buf[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[5];
		size_t k = 0;

		if (c == '"' || c == '\\') {
			e[k++] = '\\';
			e[k++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			e[k++] = (char)c;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			e[k++] = '\\';
			e[k++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
		} else {
			e[k++] = '\\';
			e[k++] = 'x';
			e[k++] = digits[c >> 4];
			e[k++] = digits[c & 15];
		}
		if (o + k + 2 > cap)
			break;
		memcpy(buf + o, e, k);
		o += k;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

/* Go string comparison p <= old on (p, plen) and (old, olen). */
static int str_le(const char *p, size_t plen, const char *old, size_t olen)
{
	size_t n = plen < olen ? plen : olen;
	int c = n > 0 ? memcmp(p, old, n) : 0;

	return c < 0 || (c == 0 && plen <= olen);
}

int router__sharding_spec(const char *spec, size_t len, router_keyrange *out,
                          size_t cap, size_t *n, router_error *err)
{
	char q[ROUTER_MESSAGE_MAX / 2];
	const char *old, *p, *end;
	size_t oldlen, count = 0, nparts = 1;

	if (n != NULL)
		*n = 0;
	if ((spec == NULL && len > 0) || (out == NULL && cap > 0) || n == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router__sharding_spec: NULL argument");
	if (spec == NULL)
		spec = "";
	end = spec + len;
	for (size_t i = 0; i < len; i++)
		nparts += spec[i] == '-';
	go_quote(spec, len, q, sizeof q);

	if (nparts == 1) {
		if (!(len == 1 && spec[0] == '0'))
			return router__seterr(err, ROUTER_ESHARDNAME, NULL,
			                      "malformed spec: doesn't define a "
			                      "range: %s",
			                      q);
		/* "0" is treated as "-". */
		spec = "-";
		end = spec + 1;
		nparts = 2;
	}

	old = spec;
	oldlen = (size_t)((const char *)memchr(spec, '-', (size_t)(end - spec)) -
	                  spec);
	p = old + oldlen + 1;
	for (size_t i = 0; i + 1 < nparts; i++) {
		const char *d = memchr(p, '-', (size_t)(end - p));
		size_t plen = d != NULL ? (size_t)(d - p) : (size_t)(end - p);
		uint8_t sb[ROUTER_KEY_MAX], eb[ROUTER_KEY_MAX];
		size_t sl, el;
		int rc;

		if (plen == 0 && i != nparts - 2)
			return router__seterr(err, ROUTER_ESHARDNAME, NULL,
			                      "malformed spec: MinKey/MaxKey cannot "
			                      "be in the middle of the spec: %s",
			                      q);
		if (plen != 0 && str_le(p, plen, old, oldlen))
			return router__seterr(err, ROUTER_ESHARDNAME, NULL,
			                      "malformed spec: shard limits should "
			                      "be in order: %s",
			                      q);
		rc = router__go_hex_decode(old, oldlen, sb, sizeof sb, &sl, NULL, err);
		if (rc != ROUTER_OK)
			return rc;
		rc = router__go_hex_decode(p, plen, eb, sizeof eb, &el, NULL, err);
		if (rc != ROUTER_OK)
			return rc;
		if (sl > ROUTER_KEY_MAX || el > ROUTER_KEY_MAX)
			return router__seterr(err, ROUTER_ERANGE, NULL,
			                      "spec %s: key-range bound of %zu "
			                      "bytes is longer than the maximum of "
			                      "%d",
			                      q, sl > el ? sl : el, ROUTER_KEY_MAX);
		if (count < cap) {
			router_keyrange *r = &out[count];

			memset(r, 0, sizeof *r);
			memcpy(r->start, sb, sl);
			r->start_len = (uint8_t)sl;
			memcpy(r->end, eb, el);
			r->end_len = (uint8_t)el;
		}
		count++;
		old = p;
		oldlen = plen;
		p = d != NULL ? d + 1 : end;
	}
	*n = count;
	if (count > cap)
		return router__seterr(err, ROUTER_ERANGE, NULL,
		                      "spec %s: %zu ranges, room for %zu", q,
		                      count, cap);
	return ROUTER_OK;
}

/* ---- generated partitions ---------------------------------------------- */

int router__even_shards_keyrange(unsigned i, unsigned n, router_keyrange *out)
{
	uint64_t width, start, end;
	unsigned minbytes = 0;

	if (out == NULL || n == 0 || i >= n || (n & (n - 1)) != 0)
		return ROUTER_EINVAL;
	for (uint64_t nn = (uint64_t)n - 1; nn > 0; nn >>= 8)
		minbytes++;
	/* Uint64 arithmetic modulo 2^64, as Go: for n == 1 width wraps to 0
	 * and both bounds come out empty. */
	width = UINT64_MAX / n + 1;
	start = (uint64_t)i * width;
	end = start + width;
	memset(out, 0, sizeof *out);
	for (unsigned k = 0; k < minbytes; k++) {
		out->start[k] = (uint8_t)(start >> (56 - 8 * k));
		out->end[k] = (uint8_t)(end >> (56 - 8 * k));
	}
	out->start_len = (uint8_t)(start != 0 ? minbytes : 0);
	out->end_len = (uint8_t)(end != 0 ? minbytes : 0);
	return ROUTER_OK;
}

/* GenerateShardRanges boundary k of n, with the same float64 arithmetic as
 * Go (size = max/n, end = int(float64(k) * size)): the integer formula
 * floor(k * max / n) differs for some (k, n), e.g. k = 49, n = 98 gives 0x7f
 * here and 0x80 in integers. */
static unsigned shard_boundary(unsigned k, unsigned n, unsigned max)
{
	double size = (double)max / (double)n;

	if (k == 0)
		return 0;
	if (k >= n)
		return max; /* the 2025 fix (vitess PR #18641): last end is max */
	return (unsigned)((double)k * size);
}

int router_shard_range_name(unsigned i, unsigned n, char *buf, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[10];
	unsigned max, width, start, end;
	size_t o = 0;

	if (n == 0 || n > 65536 || i >= n)
		return ROUTER_EINVAL;
	max = n <= 256 ? 256 : 65536;
	width = n <= 256 ? 2 : 4;
	start = shard_boundary(i, n, max);
	end = shard_boundary(i + 1, n, max);
	if (start != 0)
		for (unsigned k = width; k-- > 0;)
			tmp[o++] = digits[(start >> (4 * k)) & 15];
	tmp[o++] = '-';
	if (end != max)
		for (unsigned k = width; k-- > 0;)
			tmp[o++] = digits[(end >> (4 * k)) & 15];
	if (buf == NULL || cap < o + 1)
		return ROUTER_ERANGE;
	memcpy(buf, tmp, o);
	buf[o] = '\0';
	return ROUTER_OK;
}

/* ---- partitions -------------------------------------------------------- */

/* Total order for sorting: KeyRangeCompare, ties by index (deterministic
 * result from an unstable sort). */
static int order_cmp(const router_keyrange *r, size_t a, size_t b)
{
	int c = router__keyrange_compare(&r[a], &r[b]);

	return c != 0 ? c : a < b ? -1 : a > b ? 1 : 0;
}

static void sift_down(const router_keyrange *r, size_t *ord, size_t root,
                      size_t n)
{
	for (;;) {
		size_t child = 2 * root + 1, t;

		if (child >= n)
			return;
		if (child + 1 < n && order_cmp(r, ord[child], ord[child + 1]) < 0)
			child++;
		if (order_cmp(r, ord[root], ord[child]) >= 0)
			return;
		t = ord[root];
		ord[root] = ord[child];
		ord[child] = t;
		root = child;
	}
}

/* Heapsort: O(n log n) with no memory beyond ord itself. */
static void sort_order(const router_keyrange *r, size_t *ord, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ord[i] = i;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(r, ord, i, n);
	for (size_t end = n; end-- > 1;) {
		size_t t = ord[0];

		ord[0] = ord[end];
		ord[end] = t;
		sift_down(r, ord, 0, end);
	}
}

typedef struct shard_label {
	char text[4 * ROUTER_KEY_MAX + 2];
	const char *s;
} shard_label;

static const char *label(shard_label *l, const router_keyrange *ranges,
                         const char *const *names, size_t i)
{
	if (names != NULL && names[i] != NULL)
		return l->s = names[i];
	router_keyrange_format(&ranges[i], l->text, sizeof l->text);
	return l->s = l->text;
}

static int coverage_err(router_error *err, const char *keyspace,
                        const char *shard, const char *fmt, ...)
    ROUTER__PRINTF(4, 5);

/* ECOVERAGE with culprit "keyspace/shard" and the message prefixed by
 * "keyspace <ks>: ". */
static int coverage_err(router_error *err, const char *keyspace,
                        const char *shard, const char *fmt, ...)
{
	char culprit[ROUTER_CULPRIT_MAX];
	char msg[ROUTER_MESSAGE_MAX];
	va_list ap;

	if (err == NULL)
		return ROUTER_ECOVERAGE;
	if (keyspace != NULL && shard != NULL)
		snprintf(culprit, sizeof culprit, "%s/%s", keyspace, shard);
	else
		snprintf(culprit, sizeof culprit, "%s",
		         keyspace != NULL ? keyspace : shard != NULL ? shard : "");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (keyspace != NULL)
		return router__seterr(err, ROUTER_ECOVERAGE, culprit,
		                      "keyspace %s: %s", keyspace, msg);
	return router__seterr(err, ROUTER_ECOVERAGE, culprit, "%s", msg);
}

/* The partition checks below take the n (> 0) ranges with their names,
 * ord (their indexes in KeyRangeCompare order), the keyspace and err as
 * router__partition_check does, and return ROUTER_OK or the
 * ROUTER_ECOVERAGE coverage_err set. */

/* A nil range next to any other shard (n > 1). */
static int check_nil_alone(const router_keyrange *ranges,
                           const char *const *names, const size_t *ord,
                           size_t n, const char *keyspace, router_error *err)
{
	size_t nil = n, other = n;
	shard_label la, lb;

	for (size_t i = 0; i < n && (nil == n || other == n); i++) {
		if (is_nil(&ranges[ord[i]]) && nil == n)
			nil = ord[i];
		else
			other = ord[i];
	}
	if (nil == n)
		return ROUTER_OK;
	label(&la, ranges, names, nil);
	label(&lb, ranges, names, other);
	return coverage_err(err, keyspace, la.s,
	                    is_nil(&ranges[other])
	                        ? "shards %s and %s both have no "
	                          "key range (each covers the whole "
	                          "keyspace)"
	                        : "shard %s has no key range (covers "
	                          "the whole keyspace) but shard %s "
	                          "has one",
	                    la.s, lb.s);
}

/* The first shard (unless nil) starts at the minimum key. */
static int check_first_start(const router_keyrange *ranges,
                             const char *const *names, const size_t *ord,
                             const char *keyspace, router_error *err)
{
	shard_label la;

	if (is_nil(&ranges[ord[0]]) || start_empty(&ranges[ord[0]]))
		return ROUTER_OK;
	label(&la, ranges, names, ord[0]);
	return coverage_err(err, keyspace, la.s,
	                    "partition does not start with the minimum key "
	                    "(first shard %s)",
	                    la.s);
}

/* Each shard ends where the next starts (normalized): the first pair
 * that does not is a duplicate, an overlap or a gap. */
static int check_adjacent(const router_keyrange *ranges,
                          const char *const *names, const size_t *ord,
                          size_t n, const char *keyspace, router_error *err)
{
	shard_label la, lb;

	for (size_t i = 0; i + 1 < n; i++) {
		const router_keyrange *a = &ranges[ord[i]];
		const router_keyrange *b = &ranges[ord[i + 1]];
		int c;

		/* a's end against b's start: an empty end is the maximum, an
		 * empty start the minimum, so either means overlap. */
		if (end_empty(a) || start_empty(b))
			c = 1;
		else
			c = router_key_compare(a->end, end_len(a), b->start,
			                       start_len(b));
		if (c == 0)
			continue;
		label(&la, ranges, names, ord[i]);
		label(&lb, ranges, names, ord[i + 1]);
		if (c > 0 && router__keyrange_equal(a, b)) {
			return coverage_err(err, keyspace, lb.s,
			                    "shards %s and %s have the same key "
			                    "range",
			                    la.s, lb.s);
		} else if (c > 0) {
			return coverage_err(err, keyspace, lb.s,
			                    "shards %s and %s overlap", la.s,
			                    lb.s);
		} else {
			char eh[2 * ROUTER_KEY_MAX + 1], sh[2 * ROUTER_KEY_MAX + 1];

			router__hex(a->end, end_len(a), eh);
			router__hex(b->start, start_len(b), sh);
			return coverage_err(err, keyspace, lb.s,
			                    "gap between %s and %s: %s != %s",
			                    la.s, lb.s, eh, sh);
		}
	}
	return ROUTER_OK;
}

/* The last shard (unless nil) ends at the maximum key. */
static int check_last_end(const router_keyrange *ranges,
                          const char *const *names, const size_t *ord,
                          size_t n, const char *keyspace, router_error *err)
{
	shard_label la;

	if (is_nil(&ranges[ord[n - 1]]) || end_empty(&ranges[ord[n - 1]]))
		return ROUTER_OK;
	label(&la, ranges, names, ord[n - 1]);
	return coverage_err(err, keyspace, la.s,
	                    "partition does not end with the maximum key "
	                    "(last shard %s)",
	                    la.s);
}

/*
 * Vitess checks a serving partition in topotools.OrderAndCheckPartitions:
 * sorted by KeyRangeCompare, first start empty, last end empty, and each
 * end byte-for-byte equal to the next start.  We keep the order and the
 * first/last checks but compare adjacent bounds NORMALIZED: since v17 the
 * router itself compares normalized, so -80 followed by 8000- routes every
 * keyspace ID to exactly one shard, and refusing it would refuse a table
 * Vitess serves correctly.  Conversely normalized comparison never accepts
 * a gap or an overlap.  Vitess also accepts several nil (non-range) shards
 * in one partition (custom sharding); we accept one only, since a second
 * would shadow the first in first-match routing.
 *
 * Checks, in this order: nil ranges (a single one is a partition; one
 * mixed with others is not), the first start, each adjacent pair (overlap,
 * duplicate or gap), the last end.  order, if given, is filled with the
 * sorted indexes whenever n > 0, also when the check fails.
 */
int router__partition_check(const router_keyrange *ranges,
                            const char *const *names, size_t n,
                            size_t *order, const char *keyspace,
                            router_error *err)
{
	size_t stackbuf[256];
	size_t *ord = order, *heap = NULL;
	int rc = ROUTER_OK;

	if (ranges == NULL && n > 0)
		return router__seterr(err, ROUTER_EINVAL, keyspace,
		                      "router__partition_check: NULL ranges");
	if (n == 0)
		return coverage_err(err, keyspace, NULL, "no shards");
	if (ord == NULL) {
		if (n <= sizeof stackbuf / sizeof stackbuf[0]) {
			ord = stackbuf;
		} else {
			if (n > SIZE_MAX / sizeof *heap)
				return router__seterr(err, ROUTER_ENOMEM,
				                      keyspace,
				                      "partition of %zu shards", n);
			heap = router__malloc(&router__default_allocator,
			                      n * sizeof *heap);
			if (heap == NULL)
				return router__seterr(err, ROUTER_ENOMEM,
				                      keyspace,
				                      "out of memory sorting %zu "
				                      "shards",
				                      n);
			ord = heap;
		}
	}
	sort_order(ranges, ord, n);

	if (n > 1)
		rc = check_nil_alone(ranges, names, ord, n, keyspace, err);
	if (rc == ROUTER_OK)
		rc = check_first_start(ranges, names, ord, keyspace, err);
	if (rc == ROUTER_OK)
		rc = check_adjacent(ranges, names, ord, n, keyspace, err);
	if (rc == ROUTER_OK)
		rc = check_last_end(ranges, names, ord, n, keyspace, err);
	router__free(&router__default_allocator, heap);
	return rc;
}
