/* Error codes, error messages, allocation and integer text helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *router_strerror(int code)
{
	switch (code) {
	case ROUTER_OK:
		return "success";
	case ROUTER_NONE:
		return "value maps to no keyspace ID";
#define ROUTER__ERRNO_STR(name, value, desc) \
	case ROUTER_##name:                  \
		return desc;
		ROUTER_ERRNO_MAP(ROUTER__ERRNO_STR)
#undef ROUTER__ERRNO_STR
	default:
		return "unknown status code";
	}
}

const char *router_errname(int code)
{
	switch (code) {
	case ROUTER_OK:
		return "ROUTER_OK";
	case ROUTER_NONE:
		return "ROUTER_NONE";
#define ROUTER__ERRNO_NAME(name, value, desc) \
	case ROUTER_##name:                   \
		return "ROUTER_" #name;
		ROUTER_ERRNO_MAP(ROUTER__ERRNO_NAME)
#undef ROUTER__ERRNO_NAME
	default:
		return "ROUTER_UNKNOWN";
	}
}

void router__clearerr(router_error *err)
{
	if (err == NULL)
		return;
	err->code = ROUTER_OK;
	err->culprit[0] = '\0';
	err->message[0] = '\0';
}

int router__vseterr(router_error *err, int code, const char *culprit,
                    const char *fmt, va_list ap)
{
	if (err == NULL)
		return code;
	err->code = code;
	snprintf(err->culprit, sizeof err->culprit, "%s",
	         culprit != NULL ? culprit : "");
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	return code;
}

int router__seterr(router_error *err, int code, const char *culprit,
                   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	router__vseterr(err, code, culprit, fmt, ap);
	va_end(ap);
	return code;
}

static void *default_malloc(void *ctx, size_t n)
{
	(void)ctx;
	return malloc(n);
}

static void *default_realloc(void *ctx, void *p, size_t n)
{
	(void)ctx;
	return realloc(p, n);
}

static void default_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

const router_allocator router__default_allocator = {
	default_malloc, default_realloc, default_free, NULL};

const router_allocator *router__allocator(const router_allocator *alloc)
{
	return alloc != NULL ? alloc : &router__default_allocator;
}

char *router__strndup(const router_allocator *a, const char *s, size_t n)
{
	char *p = router__malloc(a, n + 1);

	if (p == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

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

size_t router__fmt_uint64(uint64_t v, char *buf)
{
	/* Two digits per division, from a table: the xxhash, binary and
	 * binary_md5 vindexes hash this text on every integer lookup. */
	static const char pairs[201] =
	    "00010203040506070809101112131415161718192021222324252627282930"
	    "31323334353637383940414243444546474849505152535455565758596061"
	    "62636465666768697071727374757677787980818283848586878889909192"
	    "93949596979899";
	char tmp[20];
	size_t i = sizeof tmp, n;

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		tmp[--i] = pairs[d + 1];
		tmp[--i] = pairs[d];
	}
	if (v >= 10) {
		tmp[--i] = pairs[v * 2 + 1];
		tmp[--i] = pairs[v * 2];
	} else {
		tmp[--i] = (char)('0' + v);
	}
	n = sizeof tmp - i;
	memcpy(buf, tmp + i, n);
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

/* Length of the well-formed, displayable UTF-8 sequence at b[0..n) (2 to
 * 4 bytes), or 0: overlong forms, surrogates, code points above U+10FFFF,
 * truncated sequences and C1 controls (U+0080..U+009F) are escaped. */
static size_t utf8_seq(const uint8_t *b, size_t n)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t len;

	if (b[0] >= 0xc2 && b[0] <= 0xdf) {
		len = 2;
		if (b[0] == 0xc2)
			lo = 0xa0; /* U+0080..U+009F: C1 controls */
	} else if (b[0] >= 0xe0 && b[0] <= 0xef) {
		len = 3;
		if (b[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (b[0] == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (b[0] >= 0xf0 && b[0] <= 0xf4) {
		len = 4;
		if (b[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (b[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || b[1] < lo || b[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (b[i] < 0x80 || b[i] > 0xbf)
			return 0;
	return len;
}

/* The escaped form of the piece of (b, n) at its start into out (at least
 * 4 bytes, not terminated); returns its length, *used the input bytes. */
static size_t name_piece(const uint8_t *b, size_t n, char *out, size_t *used)
{
	static const char digits[] = "0123456789abcdef";
	size_t u;

	if (b[0] == '\\' || b[0] == '"') {
		out[0] = '\\';
		out[1] = (char)b[0];
		*used = 1;
		return 2;
	}
	if (b[0] >= 0x20 && b[0] < 0x7f) {
		out[0] = (char)b[0];
		*used = 1;
		return 1;
	}
	if ((u = utf8_seq(b, n)) > 0) {
		memcpy(out, b, u);
		*used = u;
		return u;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = digits[b[0] >> 4];
	out[3] = digits[b[0] & 15];
	*used = 1;
	return 4;
}

const char *router__fmt_name(char *buf, size_t cap, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t total = 0, pos = 0, i, used, k;
	char piece[4];

	if (cap == 0)
		return buf;
	if (b == NULL)
		n = 0;
	for (i = 0; i < n; i += used)
		total += name_piece(b + i, n - i, piece, &used);
	for (i = 0; i < n; i += used) {
		k = name_piece(b + i, n - i, piece, &used);
		/* Room for this piece, and for "..." after it unless all fits. */
		if (pos + k + (total < cap ? 0 : 3) >= cap)
			break;
		memcpy(buf + pos, piece, k);
		pos += k;
	}
	if (i < n) {
		for (k = 0; k < 3 && pos + 1 < cap; k++)
			buf[pos++] = '.';
	}
	buf[pos] = '\0';
	return buf;
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
