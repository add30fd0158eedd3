/*
 * Decoding Vitess's topo values with protobuf-c, tolerantly
 * (vitess_decode.h says what is accepted, skipped and refused).
 *
 * Why a walk before protobuf-c's unpack: protobuf_c_message_unpack()
 * returns NULL for the whole message when one known field arrives with a
 * wire type other than its declared one (parse_required_member() and
 * friends: `if (wire_type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) return
 * FALSE`; checked with protobuf-c 1.4.1: a varint in
 * SrvVSchema.routing_rules, or in a map entry's string key, fails the
 * unpack), whereas Vitess's history has a field that changed wire type
 * (MultiTenantSpec field 2) and the brief is "skip with a warning, never
 * fatal".  So the value is first walked field by field against the
 * generated descriptors and rewritten without
 *   - unknown fields (protobuf-c would keep copies of them; nothing reads
 *     them), and
 *   - known fields of the wrong wire type (one warning each, with the
 *     field's path),
 * recursing into every known message field (map entries are messages) and
 * re-encoding its length.  The walk is also where "not protobuf" is
 * decided, with the byte offset in the message: a truncated varint, tag
 * or length, field number 0, wire types 6 and 7, an end-group without its
 * start.  Strings are checked as Go checks proto3 strings (valid UTF-8)
 * and for NUL bytes, which no C string carries.  What remains is
 * well-formed for protobuf-c, which then decodes it.  The rewrite never
 * grows a message, so its cost is a copy of the value per nesting level
 * (at most six here: the descriptors bound the recursion, not the bytes).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "vitess_decode.h"
#include "core/internal.h"
#include "vitess_topodata.pb-c.h"
#include "vitess_vschema.pb-c.h"

void router__vitess_notes_free(router__vitess_notes *notes)
{
	size_t i;

	if (notes == NULL)
		return;
	for (i = 0; i < notes->n; i++)
		free(notes->msg[i]);
	free(notes->msg);
	memset(notes, 0, sizeof *notes);
}

void router__vitess_note(router__vitess_notes *notes, const char *fmt, ...)
{
	char buf[ROUTER_MESSAGE_MAX];
	va_list ap;
	char *m;

	if (notes == NULL)
		return;
	if (notes->n >= ROUTER__VITESS_NOTES_MAX) {
		notes->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (notes->n == notes->cap) {
		size_t cap = notes->cap ? notes->cap * 2 : 8;
		char **p = realloc(notes->msg, cap * sizeof *p);

		if (p == NULL) {
			notes->dropped++;
			return;
		}
		notes->msg = p;
		notes->cap = cap;
	}
	m = strdup(buf);
	if (m == NULL) {
		notes->dropped++;
		return;
	}
	notes->msg[notes->n++] = m;
}

/* ---- the walk ----------------------------------------------------------- */

typedef struct obuf {
	uint8_t *p;
	size_t n, cap;
} obuf;

typedef struct walker {
	const char *key;
	router__vitess_notes *notes;
	router_error *err;
	int oom;
	char path[256]; /* message.field.field... of the current field */
	size_t plen;
} walker;

enum { WT_VARINT = 0, WT_64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4,
       WT_32 = 5 };

static const char *const wire_names[8] = {"varint", "64-bit", "length-delimited",
                                          "start-group", "end-group", "32-bit",
                                          "6", "7"};

static int put(walker *w, obuf *o, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (o->n + n > o->cap) {
		size_t cap = o->cap ? o->cap : 64;
		uint8_t *q;

		while (cap < o->n + n)
			cap *= 2;
		q = realloc(o->p, cap);
		if (q == NULL) {
			w->oom = 1;
			return -1;
		}
		o->p = q;
		o->cap = cap;
	}
	memcpy(o->p + o->n, p, n);
	o->n += n;
	return 0;
}

static int put_varint(walker *w, obuf *o, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;

	do {
		b[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			b[n] |= 0x80;
		n++;
	} while (v != 0);
	return put(w, o, b, n);
}

/* A varint at p[*i..n): 0 and *i past it, or -1 (truncated, or longer
 * than 10 bytes / past 64 bits, as Go's protowire refuses). */
static int get_varint(const uint8_t *p, size_t n, size_t *i, uint64_t *v)
{
	uint64_t r = 0;
	unsigned s;

	for (s = 0; s < 70; s += 7) {
		uint8_t b;

		if (*i >= n)
			return -1;
		b = p[(*i)++];
		if (s == 63 && b > 1)
			return -1;
		r |= (uint64_t)(b & 0x7f) << s;
		if ((b & 0x80) == 0) {
			*v = r;
			return 0;
		}
	}
	return -1;
}

static int bad(walker *w, size_t off, const char *fmt, ...)
    ROUTER__PRINTF(3, 4);
static int bad(walker *w, size_t off, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	router__seterr(w->err, ROUTER_EDOC, w->key,
	               "%s: not valid protobuf: %s at byte %zu of %s", w->key,
	               what, off, w->path);
	return -1;
}

/* Strict UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF), as Go's utf8.Valid; NUL is refused too.  0, or the offset + 1
 * of the first bad byte. */
static size_t bad_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k, len;
		uint32_t cp;

		if (c == 0)
			return i + 1;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return i + 1;
		}
		if (i + len > n)
			return i + 1;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i + 1;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return i + 1;
		i += len;
	}
	return 0;
}

/* The wire type a field of this type is encoded with. */
static unsigned wire_of(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return WT_32;
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return WT_64;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return WT_LEN;
	default:
		return WT_VARINT;
	}
}

/* Skip a group whose start tag (field number fnum) was just read: nested
 * fields up to its end-group.  0, or -1 (error set). */
static int skip_group(walker *w, const uint8_t *p, size_t n, size_t *i,
                      uint64_t fnum, size_t base, unsigned depth);

/* Skip the value of one field of wire type wt at p[*i..n). */
static int skip_value(walker *w, const uint8_t *p, size_t n, size_t *i,
                      unsigned wt, uint64_t fnum, size_t base, unsigned depth)
{
	uint64_t v;

	switch (wt) {
	case WT_VARINT:
		if (get_varint(p, n, i, &v) < 0)
			return bad(w, base + *i, "truncated varint of field %llu",
			           (unsigned long long)fnum);
		return 0;
	case WT_64:
	case WT_32: {
		size_t k = wt == WT_64 ? 8 : 4;

		if (n - *i < k)
			return bad(w, base + *i, "truncated %s field %llu",
			           wire_names[wt], (unsigned long long)fnum);
		*i += k;
		return 0;
	}
	case WT_LEN:
		if (get_varint(p, n, i, &v) < 0)
			return bad(w, base + *i, "truncated length of field %llu",
			           (unsigned long long)fnum);
		if (v > n - *i)
			return bad(w, base + *i,
			           "field %llu's length %llu runs past the end",
			           (unsigned long long)fnum, (unsigned long long)v);
		*i += (size_t)v;
		return 0;
	case WT_SGROUP:
		return skip_group(w, p, n, i, fnum, base, depth);
	default:
		return bad(w, base + *i, "wire type %u of field %llu", wt,
		           (unsigned long long)fnum);
	}
}

static int skip_group(walker *w, const uint8_t *p, size_t n, size_t *i,
                      uint64_t fnum, size_t base, unsigned depth)
{
	if (depth > 32)
		return bad(w, base + *i, "groups nested deeper than 32");
	for (;;) {
		uint64_t tag;
		size_t at = *i;

		if (*i >= n)
			return bad(w, base + at, "group %llu without its end",
			           (unsigned long long)fnum);
		if (get_varint(p, n, i, &tag) < 0)
			return bad(w, base + at, "truncated tag");
		if ((tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
			return bad(w, base + at, "field number %llu",
			           (unsigned long long)(tag >> 3));
		if ((tag & 7) == WT_EGROUP) {
			if ((tag >> 3) != fnum)
				return bad(w, base + at,
				           "end of group %llu inside group %llu",
				           (unsigned long long)(tag >> 3),
				           (unsigned long long)fnum);
			return 0;
		}
		if (skip_value(w, p, n, i, (unsigned)(tag & 7), tag >> 3, base,
		               depth + 1) < 0)
			return -1;
	}
}

static void path_push(walker *w, const char *name, size_t *saved)
{
	*saved = w->plen;
	if (w->plen + 1 + strlen(name) + 1 < sizeof w->path) {
		w->path[w->plen++] = '.';
		memcpy(w->path + w->plen, name, strlen(name) + 1);
		w->plen += strlen(name);
	}
}

static void path_pop(walker *w, size_t saved)
{
	w->plen = saved;
	w->path[saved] = '\0';
}

/* Rewrite message d of bytes p[0..n) (at offset base of the value) into o,
 * without unknown fields and fields of the wrong wire type. */
static int walk(walker *w, const ProtobufCMessageDescriptor *d,
                const uint8_t *p, size_t n, size_t base, obuf *o)
{
	size_t i = 0;

	while (i < n) {
		size_t at = i, vstart;
		uint64_t tag, fnum;
		unsigned wt, want;
		const ProtobufCFieldDescriptor *f;
		size_t saved;

		if (get_varint(p, n, &i, &tag) < 0)
			return bad(w, base + at, "truncated tag");
		fnum = tag >> 3;
		wt = (unsigned)(tag & 7);
		if (fnum == 0 || fnum > 0x1fffffff)
			return bad(w, base + at, "field number %llu",
			           (unsigned long long)fnum);
		if (wt == WT_EGROUP)
			return bad(w, base + at,
			           "end of group %llu without its start",
			           (unsigned long long)fnum);
		vstart = i;
		if (skip_value(w, p, n, &i, wt, fnum, base, 0) < 0)
			return -1;
		f = protobuf_c_message_descriptor_get_field(d, (unsigned)fnum);
		if (f == NULL)
			continue; /* unknown: skipped, as Go's protobuf skips it */
		want = wire_of(f->type);
		if (wt != want &&
		    !(wt == WT_LEN && f->label == PROTOBUF_C_LABEL_REPEATED &&
		      want != WT_LEN)) {
			path_push(w, f->name, &saved);
			router__vitess_note(w->notes,
			                    "%s: field %s (%llu) has wire type %s, "
			                    "expected %s: skipped",
			                    w->key, w->path,
			                    (unsigned long long)fnum,
			                    wire_names[wt], wire_names[want]);
			path_pop(w, saved);
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			uint64_t len;
			size_t cstart = vstart;
			obuf sub = {NULL, 0, 0};
			int rc;

			(void)get_varint(p, n, &cstart, &len);
			path_push(w, f->name, &saved);
			rc = walk(w, f->descriptor, p + cstart, (size_t)len,
			          base + cstart, &sub);
			path_pop(w, saved);
			if (rc == 0)
				rc = put_varint(w, o, tag);
			if (rc == 0)
				rc = put_varint(w, o, sub.n);
			if (rc == 0)
				rc = put(w, o, sub.p, sub.n);
			free(sub.p);
			if (rc < 0)
				return -1;
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			uint64_t len;
			size_t cstart = vstart, b;

			(void)get_varint(p, n, &cstart, &len);
			b = bad_utf8(p + cstart, (size_t)len);
			if (b != 0) {
				int nul = p[cstart + b - 1] == 0;

				path_push(w, f->name, &saved);
				bad(w, base + cstart + b - 1,
				    "string field %s %s", w->path,
				    nul ? "holds a NUL byte"
				        : "is not valid UTF-8");
				return -1;
			}
		}
		if (put(w, o, p + at, i - at) < 0)
			return -1;
	}
	return 0;
}

static const ProtobufCMessageDescriptor *descriptor_of(router__vitess_kind k)
{
	switch (k) {
	case ROUTER__VITESS_SRV_VSCHEMA:
		return &vschema__srv_vschema__descriptor;
	case ROUTER__VITESS_KEYSPACE:
		return &vschema__keyspace__descriptor;
	case ROUTER__VITESS_SRV_KEYSPACE:
		return &topodata__srv_keyspace__descriptor;
	case ROUTER__VITESS_CELL_INFO:
		return &topodata__cell_info__descriptor;
	case ROUTER__VITESS_ROUTING_RULES:
		return &vschema__routing_rules__descriptor;
	case ROUTER__VITESS_SHARD_ROUTING_RULES:
		return &vschema__shard_routing_rules__descriptor;
	case ROUTER__VITESS_KEYSPACE_ROUTING_RULES:
		return &vschema__keyspace_routing_rules__descriptor;
	case ROUTER__VITESS_MIRROR_RULES:
		return &vschema__mirror_rules__descriptor;
	}
	return NULL;
}

int router__vitess_decode(router__vitess_kind kind, const char *key,
                          const void *val, size_t len, void **out,
                          router__vitess_notes *notes, router_error *err)
{
	const ProtobufCMessageDescriptor *d = descriptor_of(kind);
	walker w;
	obuf o = {NULL, 0, 0};
	ProtobufCMessage *m;

	if (out != NULL)
		*out = NULL;
	if (d == NULL || out == NULL || (val == NULL && len > 0))
		return router__seterr(err, ROUTER_EINVAL, key,
		                      "router__vitess_decode: bad arguments");
	if (key == NULL)
		key = "(value)";
	if (len > ROUTER__VITESS_VALUE_MAX)
		return router__seterr(err, ROUTER_ERANGE, key,
		                      "%s: value of %zu bytes, more than the "
		                      "%zu decoded",
		                      key, len, ROUTER__VITESS_VALUE_MAX);
	memset(&w, 0, sizeof w);
	w.key = key;
	w.notes = notes;
	w.err = err;
	/* The message's short name ("SrvVSchema") starts every path. */
	snprintf(w.path, sizeof w.path, "%s", d->short_name);
	w.plen = strlen(w.path);
	if (walk(&w, d, val, len, 0, &o) < 0) {
		free(o.p);
		if (w.oom)
			return router__seterr(err, ROUTER_ENOMEM, key,
			                      "%s: out of memory decoding", key);
		return ROUTER_EDOC;
	}
	/* o.n == 0: the empty message (protobuf-c accepts zero bytes). */
	m = protobuf_c_message_unpack(d, NULL, o.n, o.p);
	free(o.p);
	if (m == NULL)
		return router__seterr(err, ROUTER_EDOC, key,
		                      "%s: not valid protobuf: protobuf-c "
		                      "refused the %s (or ran out of memory)",
		                      key, d->short_name);
	*out = m;
	return ROUTER_OK;
}

void router__vitess_message_free(void *msg)
{
	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, NULL);
}
