/* SQL values as Vitess reads them: Go strconv's base-10 integers (the
 * text an integer vindex accepts), their decimal text (what xxhash and
 * unicode hashing see), Vitess's integer conversions of a router_value
 * (what the numeric vindexes see), and router_value_parse. */
#include <stdint.h>
#include <string.h>

#include "internal.h"

int router__parse_uint64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9)
			return -1;
		if (v > (UINT64_MAX - d) / 10)
			return -1; /* overflow, as strconv.ErrRange */
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int router__parse_int64(const char *s, size_t n, int64_t *out)
{
	uint64_t mag;
	int neg = 0;

	if (s == NULL || n == 0)
		return -1;
	if (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-';
		s++;
		n--;
	}
	if (router__parse_uint64(s, n, &mag) != 0)
		return -1;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return -1;
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN
		                                      : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)mag;
	}
	return 0;
}

/* Two digits per division, from a table: the xxhash, binary and
 * binary_md5 vindexes hash this text on every integer lookup. */
static inline char *fmt_u64_end(uint64_t v, char *p)
{
	static const char pairs[201] =
	    "00010203040506070809101112131415161718192021222324252627282930"
	    "31323334353637383940414243444546474849505152535455565758596061"
	    "62636465666768697071727374757677787980818283848586878889909192"
	    "93949596979899";

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		*--p = pairs[d + 1];
		*--p = pairs[d];
	}
	if (v >= 10) {
		*--p = pairs[v * 2 + 1];
		*--p = pairs[v * 2];
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

const char *router__fmt_int_end(uint64_t v, int is_unsigned, char *end)
{
	char *p;

	if (is_unsigned || (int64_t)v >= 0)
		return fmt_u64_end(v, end);
	/* Negate in unsigned arithmetic: INT64_MIN has no positive twin. */
	p = fmt_u64_end(0 - v, end);
	*--p = '-';
	return p;
}

size_t router__fmt_uint64(uint64_t v, char *buf)
{
	char tmp[20];
	const char *p = fmt_u64_end(v, tmp + sizeof tmp);
	size_t n = (size_t)(tmp + sizeof tmp - p);

	memcpy(buf, p, n);
	buf[n] = '\0';
	return n;
}

size_t router__fmt_int64(int64_t v, char *buf)
{
	if (v < 0) {
		buf[0] = '-';
		/* Negate in unsigned arithmetic: INT64_MIN has no positive twin. */
		return 1 + router__fmt_uint64(0 - (uint64_t)v, buf + 1);
	}
	return router__fmt_uint64((uint64_t)v, buf);
}

void router__hex(const void *p, size_t n, char *buf)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = digits[b[i] >> 4];
		buf[2 * i + 1] = digits[b[i] & 15];
	}
	buf[2 * n] = '\0';
}

/* The text shown whole and escaped (router__fmt_name): with %.*s, "1\0x"
 * read as "not ... integer: '1'", a number that parses. */
static int bad_integer(router_error *err, const char *kind, const void *text,
                       size_t len)
{
	char shown[96];

	if (err == NULL)
		return ROUTER_EINVAL;
	return router__seterr(err, ROUTER_EINVAL, NULL,
	                      "not %s 64-bit integer: '%s'", kind,
	                      router__fmt_name(shown, sizeof shown, text, len));
}

int router_value_parse(router_sqltype type, const void *text, size_t len,
                       router_value *out, router_error *err)
{
	if (out == NULL || (text == NULL && len > 0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_value_parse: NULL argument");
	memset(out, 0, sizeof *out);
	out->type = type;
	switch (type) {
	case ROUTER_SQL_NULL:
		return ROUTER_OK;
	case ROUTER_SQL_INT64:
		if (router__parse_int64(text, len, &out->i64) != 0)
			return bad_integer(err, "a signed", text, len);
		return ROUTER_OK;
	case ROUTER_SQL_UINT64:
		if (router__parse_uint64(text, len, &out->u64) != 0)
			return bad_integer(err, "an unsigned", text, len);
		return ROUTER_OK;
	case ROUTER_SQL_VARCHAR:
	case ROUTER_SQL_VARBINARY:
	case ROUTER_SQL_FLOAT64:
		out->ptr = text;
		out->len = len;
		return ROUTER_OK;
	}
	return router__seterr(err, ROUTER_EINVAL, NULL, "unknown SQL type %d",
	                      (int)type);
}

/* ---- Vitess's conversions of a router_value (internal.h) --------------- */

int router__value_bytes(const router_value *v, char *tmp, const uint8_t **p,
                        size_t *n)
{
	switch (v->type) {
	case ROUTER_SQL_NULL:
		*p = (const uint8_t *)"";
		*n = 0;
		return ROUTER__CONV_OK;
	case ROUTER_SQL_INT64:
		*n = router__fmt_int64(v->i64, tmp);
		*p = (const uint8_t *)tmp;
		return ROUTER__CONV_OK;
	case ROUTER_SQL_UINT64:
		*n = router__fmt_uint64(v->u64, tmp);
		*p = (const uint8_t *)tmp;
		return ROUTER__CONV_OK;
	case ROUTER_SQL_VARCHAR:
	case ROUTER_SQL_VARBINARY:
	case ROUTER_SQL_FLOAT64:
		if (ROUTER__UNLIKELY(v->ptr == NULL && v->len > 0))
			return ROUTER__CONV_BAD;
		*p = v->len > 0 ? v->ptr : (const uint8_t *)"";
		*n = v->len;
		return ROUTER__CONV_OK;
	}
	return ROUTER__CONV_BAD;
}

int router__to_uint64(const router_value *v, uint64_t *out)
{
	int64_t s;

	switch (v->type) {
	case ROUTER_SQL_INT64:
		if (v->i64 < 0)
			return ROUTER__CONV_FAIL;
		*out = (uint64_t)v->i64;
		return ROUTER__CONV_OK;
	case ROUTER_SQL_UINT64:
		*out = v->u64;
		return ROUTER__CONV_OK;
	case ROUTER_SQL_NULL:
		return ROUTER__CONV_FAIL;
	case ROUTER_SQL_VARCHAR:
	case ROUTER_SQL_VARBINARY:
	case ROUTER_SQL_FLOAT64:
		if (ROUTER__UNLIKELY(v->ptr == NULL && v->len > 0))
			return ROUTER__CONV_BAD;
		if (router__parse_uint64(v->ptr, v->len, out) == 0)
			return ROUTER__CONV_OK;
		/* "+5" fails the unsigned parse but not the signed one. */
		if (router__parse_int64(v->ptr, v->len, &s) == 0 && s >= 0) {
			*out = (uint64_t)s;
			return ROUTER__CONV_OK;
		}
		return ROUTER__CONV_FAIL;
	}
	return ROUTER__CONV_BAD;
}

int router__to_uint64_hash(const router_value *v, uint64_t *out)
{
	if (v->type == ROUTER_SQL_INT64) {
		*out = (uint64_t)v->i64;
		return ROUTER__CONV_OK;
	}
	return router__to_uint64(v, out);
}

int router__conv_status(int rc)
{
	return rc == ROUTER__CONV_FAIL ? ROUTER_NONE : ROUTER_EINVAL;
}
