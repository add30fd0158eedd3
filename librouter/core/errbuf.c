/* Filling a caller's router_error, and showing a caller's bytes in one
 * (escaped, bounded).  No public symbols: the fleet library links its own
 * hidden copy of this file. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

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
