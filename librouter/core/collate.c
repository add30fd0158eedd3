/*
 * The primary-strength collation key of golang.org/x/text/collate 0.7.0
 * for collate.New(language.English, collate.Loose), as Vitess's
 * unicode_loose_md5 / unicode_loose_xxhash hash it
 * (../shared/vitess/SPEC.md, unicode_loose_*).
 *
 * The data is x/text's, generated into collate_tables.c by
 * tools/gen_collation.py; this file is the algorithm, written from a
 * reading of x/text's collate and internal/colltab packages:
 *
 * - x/text does not normalize its input first.  Its table lists both the
 *   precomposed and the decomposed forms, and an iterator turns the text
 *   into collation elements one rune (or contraction) at a time; elements
 *   of combining marks that arrive out of canonical order are moved into
 *   order by the combining class each element carries (Iter.Next and
 *   doNorm).  it_next below is that iterator.
 * - One rune (append_next) gives: its element; or an expansion (several
 *   elements); or, for a compatibility character, the elements of its NFKD
 *   decomposition; or, for a Hangul syllable the table does not list, the
 *   raw elements of its jamo; or, for a code point the table does not
 *   list, an implicit weight (CJK ideographs first, then everything else
 *   by code point).
 * - A rune that starts a contraction ("l·", Arabic, Indic, Tibetan
 *   sequences) walks a byte trie over what follows; the match may skip
 *   non-blocking combining marks, whose elements then follow the
 *   contraction's (match_contraction).  The combining classes and segment
 *   boundaries it needs are unicode/norm's NFD properties (Unicode 15.0.0).
 * - With Loose, the key holds only the primary weights above zero, in the
 *   order of the elements.
 *
 * Elements use x/text's encoding (collelem.go), reduced by the generator
 * to what a primary key reads: el_primary and el_ccc are x/text's Primary
 * and CCC.  0 in the table means "not listed" (implicit or Hangul).
 *
 * The elements not yet final (a run of combining marks that may still be
 * reordered) live in a fixed buffer: one rune appends at most
 * ROUTER__COLL_MAX_APPEND elements (computed by the generator), and the
 * iterator holds back at most 30 (x/text's maxCombiningCharacters) plus
 * two runes' worth, so the buffer never grows and nothing is allocated.
 * Final elements stream into the caller's sink through a small byte
 * buffer.  While nothing is held back, runes whose elements are final at
 * once (ASCII, most letters, ideographs, Hangul) skip the iterator
 * (fast_run).
 *
 * Where this is not x/text 0.7.0 as Debian ships it: the normalization
 * properties and the Ideographic property are Unicode 15.0.0 (what
 * Vitess's builds use; Debian's x/text and Go 1.19 have 13.0), so
 * ideographs and combining marks new in Unicode 14 and 15 weigh as in
 * Vitess; and where x/text would loop forever (a contraction skipping
 * more than 128 bytes of marks, its buffer cutting a rune) this stops.
 */
#include <string.h>

#include <nettle/md5.h>
/* XXH64_state_t on the stack rather than XXH64_createState()'s malloc.
 * Its layout (88 bytes) has not changed since xxHash 0.7, the soname
 * libxxhash.so.0's whole life in Debian. */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "collate.h"
#include "collate_tables.h"

_Static_assert(sizeof(XXH64_state_t) == 88,
               "the XXH64 state this file was written against");

#define MAX_COMBINING 30 /* x/text colltab maxCombiningCharacters */
#define SEGMENT_MAX 128  /* x/text norm.MaxSegmentSize */
#define NON_STARTERS_MAX 30 /* x/text norm maxNonStarters */
#define EL_CAP (2 * ROUTER__COLL_MAX_APPEND + MAX_COMBINING + 2)
#define OUT_CAP 256

/* ---- elements ---------------------------------------------------------- */

#define EL_MAX_NORMAL 0xAFFFFFFFu
#define EL_MIN_EXPAND 0xE0000000u
#define EL_MIN_DECOMP 0xF0000000u

static inline unsigned el_primary(uint32_t ce)
{
	if (ce >= 0x80000000u)
		return ce > 0xA0000000u ? 0 : (ce & 0xFFFFu);
	return (ce & 0x3FFFFE00u) >> 9;
}

static inline unsigned el_ccc(uint32_t ce)
{
	if (ce & 0x80000000u) {
		if ((ce & 0xA0000000u) == 0x80000000u)
			return (ce >> 16) & 0xFF;
		return (ce >> 20) & 0xFF;
	}
	return 0;
}

static inline uint32_t table_lookup(uint32_t cp)
{
	unsigned mid = router__coll_top[cp >> 11];
	unsigned leaf = router__coll_mid[mid * 64 + ((cp >> 5) & 63)];
	return router__coll_leaf[leaf * 32 + (cp & 31)];
}

static int in_ranges(const uint32_t *r, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < r[2 * mid])
			hi = mid;
		else if (cp > r[2 * mid + 1])
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/* colltab implicitPrimary, with Unicode 15.0.0's Ideographic property. */
static uint32_t implicit_element(uint32_t cp)
{
	uint32_t p;

	/* U+4E00..9FFF are all Ideographic (since Unicode 14.0) */
	if ((cp >= 0x4E00 && cp <= 0x9FFF) ||
	    in_ranges(router__coll_ideographic, router__coll_ideographic_n,
	              cp)) {
		if ((cp >= 0x4E00 && cp <= 0x9FFF) ||
		    (cp >= 0xF900 && cp <= 0xFAFF))
			p = cp + 0x10000;
		else
			p = cp + 0x20000;
	} else {
		p = cp + 0x50000;
	}
	return 0x40000000u | (p << 9) | 0x20;
}

/* ---- UTF-8 ------------------------------------------------------------- */

/* Go's utf8.Valid: no overlong forms, no surrogates, nothing past
 * U+10FFFF.  Returns the offset of the first bad byte, or len. */
static size_t utf8_valid_prefix(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		if (c < 0x80) {
			/* eight ASCII bytes at a time */
			while (i + 8 <= len) {
				uint64_t w;
				memcpy(&w, s + i, 8);
				if (w & 0x8080808080808080ull)
					break;
				i += 8;
			}
			if (i < len && s[i] < 0x80)
				i++;
			continue;
		}
		size_t n;
		uint8_t lo = 0x80, hi = 0xBF;
		if (c >= 0xC2 && c <= 0xDF) {
			n = 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 3;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 4;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			return i;
		}
		if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k < n; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
		i += n;
	}
	return len;
}

/* The rune at s (n > 0 bytes of well-formed UTF-8, possibly cut short at
 * the end): its size, or 0 when the encoding is incomplete. */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint8_t c = s[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xE0) {
		if (n < 2)
			return 0;
		*cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
		return 2;
	}
	if (c < 0xF0) {
		if (n < 3)
			return 0;
		*cp = ((uint32_t)(c & 0x0F) << 12) |
		      ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
		return 3;
	}
	if (n < 4)
		return 0;
	*cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
	      ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
	return 4;
}

/* ---- normalization properties (unicode/norm's NFD Properties) --------- */

typedef struct nfd_props {
	unsigned lccc, tccc, nlead;
	size_t size; /* 0: incomplete encoding */
} nfd_props;

static nfd_props nfd_properties(const uint8_t *s, size_t n)
{
	nfd_props p = {0, 0, 0, 0};
	uint32_t cp;

	p.size = utf8_decode(s, n, &cp);
	if (p.size == 0)
		return p;
	unsigned mid = router__coll_nfd_top[cp >> 11];
	unsigned leaf = router__coll_nfd_mid[mid * 64 + ((cp >> 5) & 63)];
	const uint8_t *pr =
		router__coll_nfd_props[router__coll_nfd_leaf[leaf * 32 +
	                                                     (cp & 31)]];
	p.lccc = pr[0];
	p.tccc = pr[1];
	p.nlead = pr[2];
	return p;
}

/* norm.NFD.FirstBoundary: where the first normalization segment of (s, n)
 * ends under stream-safe rules, or -1 when (s, n) holds no boundary. */
static long first_boundary(const uint8_t *s, size_t n)
{
	size_t i = 0;
	unsigned ss = 0;

	while (i < n && (s[i] & 0xC0) == 0x80)
		i++;
	if (i >= n)
		return -1;
	for (;;) {
		nfd_props p = nfd_properties(s + i, n - i);
		if (p.size == 0)
			return -1;
		ss += p.nlead;
		if (ss > NON_STARTERS_MAX || p.nlead == 0)
			return (long)i; /* overflow, or a starter */
		i += p.size;
		if (i >= n) {
			/* the last rune is a non-starter, never inert */
			return ss == NON_STARTERS_MAX ? (long)n : -1;
		}
	}
}

/* ---- the iterator ------------------------------------------------------ */

typedef struct coll_iter {
	const uint8_t *s;
	size_t len, pnext;
	size_t ne, n; /* elements held; the first n are final */
	int overflow;
	size_t nout;
	router__collate_sink *sink;
	void *ctx;
	uint32_t el[EL_CAP];
	uint8_t out[OUT_CAP];
} coll_iter;

static void push(coll_iter *it, uint32_t ce)
{
	if (ROUTER__UNLIKELY(it->ne == EL_CAP)) {
		/* Unreachable (ROUTER__COLL_MAX_APPEND bounds it); refuse
		 * rather than write past the buffer. */
		it->overflow = 1;
		return;
	}
	it->el[it->ne++] = ce;
}

static void push_expansion(coll_iter *it, uint32_t ce)
{
	const uint32_t *e = router__coll_expand + (ce & 0x0FFFFFFFu);

	for (uint32_t i = 1; i <= e[0]; i++)
		push(it, e[i]);
}

static size_t append_next(coll_iter *it, const uint8_t *s, size_t n);

/* Appends what (b, n), a decomposition or the runes a contraction skipped,
 * gives, rune by rune. */
static void append_all(coll_iter *it, const uint8_t *b, size_t n)
{
	while (n > 0) {
		size_t k = append_next(it, b, n);
		if (k == 0)
			break; /* a rune cut by a full buffer (x/text loops) */
		b += k;
		n -= k;
	}
}

typedef struct ct_scanner {
	const router__coll_ct_node *states;
	unsigned n;
	const uint8_t *s;
	size_t slen;
	unsigned index;
	size_t pindex;
	int done;
} ct_scanner;

static inline int rune_start(uint8_t b)
{
	return (b & 0xC0) != 0x80;
}

/* colltab ctScanner.scan: the longest match from p on; returns where the
 * last complete rune of the match ends. */
static size_t ct_scan(ct_scanner *sc, size_t p)
{
	size_t pr = p;
	const router__coll_ct_node *states = sc->states;
	unsigned n = sc->n;

	for (unsigned i = 0; i < n && p < sc->slen;) {
		const router__coll_ct_node *e = &states[i];
		uint8_t c = sc->s[p];
		if (c >= e->l) {
			if (e->l == c) {
				p++;
				if (e->i != 0xFF) {
					sc->index = e->i;
					sc->pindex = p;
				}
				if (e->n != 0) {
					states = states + e->h + n;
					n = e->n;
					i = 0;
					if (p >= sc->slen || rune_start(sc->s[p])) {
						sc->states = states;
						sc->n = n;
						pr = p;
					}
				} else {
					sc->done = 1;
					return p;
				}
				continue;
			} else if (e->n == 0 && c <= e->h) {
				p++;
				sc->done = 1;
				sc->index = (unsigned)(c - e->l) + e->i;
				sc->pindex = p;
				return p;
			}
		}
		i++;
	}
	return pr;
}

/* colltab Table.matchContraction: ce starts a contraction, suffix is what
 * follows its first rune.  Appends the elements; returns the bytes of
 * suffix the contraction took. */
static size_t match_contraction(coll_iter *it, uint32_t ce,
                                const uint8_t *suffix, size_t slen)
{
	unsigned n = ce & 0xF, index = (ce >> 4) & 0xFFF;
	unsigned offset = (ce >> 16) & 0x1FFF;
	ct_scanner sc = {router__coll_ct + index, n, suffix, slen, 0, 0, 0};
	uint8_t buf[SEGMENT_MAX];
	size_t bufn = 0, bufp = 0;
	size_t p = ct_scan(&sc, 0);

	if (!sc.done && p < slen && suffix[p] >= 0x80) {
		size_t p0 = p;
		nfd_props r = nfd_properties(suffix + p, slen - p);
		p += r.size;
		if (r.lccc != 0) {
			unsigned prevcc = r.tccc;
			long end = first_boundary(suffix + p, slen - p);
			if (end != -1)
				sc.slen = p + (size_t)end;
			while (p < slen && !sc.done && suffix[p] >= 0x80) {
				r = nfd_properties(suffix + p, slen - p);
				if (r.lccc == 0 || prevcc >= r.lccc)
					break;
				prevcc = r.tccc;
				size_t pp = ct_scan(&sc, p);
				if (pp != p) {
					/* keep the skipped runes for later */
					size_t k = p - p0;
					if (k > SEGMENT_MAX - bufn)
						k = SEGMENT_MAX - bufn;
					memcpy(buf + bufn, suffix + p0, k);
					bufn += k;
					if (sc.pindex == pp)
						bufp = bufn;
					p = p0 = pp;
				} else {
					p += r.size;
				}
			}
		}
	}
	uint32_t e = router__coll_contract[sc.index + offset];
	if (e <= EL_MAX_NORMAL)
		push(it, e);
	else
		push_expansion(it, e);
	append_all(it, buf, bufp);
	return sc.pindex;
}

/* colltab Table.appendNext: the elements of the rune (or contraction) at
 * (s, n); returns the bytes taken, 0 for an incomplete rune. */
static size_t append_next(coll_iter *it, const uint8_t *s, size_t n)
{
	uint32_t cp;
	size_t sz = utf8_decode(s, n, &cp);

	if (sz == 0)
		return 0;
	uint32_t ce = table_lookup(cp);
	if (ce <= EL_MAX_NORMAL) {
		if (ce == 0) {
			if (cp >= 0xAC00 && cp <= 0xD7A3) {
				/* the jamo's elements, as the table has them */
				uint32_t k = cp - 0xAC00;
				push(it, table_lookup(0x1100 + k / 588));
				push(it, table_lookup(0x1161 + (k % 588) / 28));
				if (k % 28)
					push(it, table_lookup(0x11A7 + k % 28));
				return sz;
			}
			ce = implicit_element(cp);
		}
		push(it, ce);
	} else if (ce >= EL_MIN_DECOMP) {
		/* NFKD; x/text's tertiary replacements do not touch a
		 * primary weight or a combining class (the generator checks) */
		const uint8_t *d = router__coll_decomp + (ce & 0x0FFFFFFFu);
		append_all(it, d + 1, d[0]);
	} else if (ce >= EL_MIN_EXPAND) {
		push_expansion(it, ce);
	} else {
		sz += match_contraction(it, ce, s + sz, n - sz);
	}
	return sz;
}

/* colltab Iter.appendNext */
static int it_append(coll_iter *it)
{
	if (it->pnext >= it->len)
		return 0;
	size_t sz = append_next(it, it->s + it->pnext, it->len - it->pnext);
	it->pnext += sz ? sz : 1;
	return 1;
}

/* colltab Iter.doNorm: move the elements from p on before the held-back
 * ones with a larger combining class (a rotation of el[q..ne)). */
static void reverse(uint32_t *a, size_t i, size_t j)
{
	while (i + 1 < j) {
		uint32_t t = a[i];
		a[i++] = a[--j];
		a[j] = t;
	}
}

static void do_norm(coll_iter *it, size_t p, unsigned ccc)
{
	size_t k = p;

	for (p--; p > it->n && ccc < el_ccc(it->el[p - 1]); p--)
		;
	reverse(it->el, p, k);
	reverse(it->el, k, it->ne);
	reverse(it->el, p, it->ne);
}

/* colltab Iter.Next: make more elements final (el[0..n)); 0 at the end. */
static int it_next(coll_iter *it)
{
	if (it->n == it->ne && !it_append(it))
		return 0;
	if (ROUTER__UNLIKELY(it->ne == 0))
		return 0; /* only after an overflow */
	unsigned prev = el_ccc(it->el[it->ne - 1]);
	if (prev == 0) {
		it->n = it->ne;
		return 1;
	}
	if (el_ccc(it->el[it->n]) == 0) {
		for (it->n++; it->n < it->ne && el_ccc(it->el[it->n]) == 0;
		     it->n++)
			;
		return 1;
	}
	/* modifiers first: collect them all so that they can be ordered */
	for (;;) {
		size_t p = it->ne;
		if (!it_append(it))
			break;
		if (ROUTER__UNLIKELY(it->ne == p))
			break; /* only after an overflow */
		unsigned ccc = el_ccc(it->el[p]);
		if (ccc == 0 || it->ne - it->n > MAX_COMBINING) {
			it->n = p;
			return 1;
		} else if (ccc < prev) {
			do_norm(it, p, ccc);
		} else {
			prev = ccc;
		}
	}
	int more = it->ne != it->n;
	it->n = it->ne;
	return more;
}

/* ---- output ------------------------------------------------------------ */

static void out_flush(coll_iter *it)
{
	if (it->nout > 0)
		it->sink(it->ctx, it->out, it->nout);
	it->nout = 0;
}

static inline void emit(coll_iter *it, unsigned w)
{
	if (ROUTER__UNLIKELY(it->nout > OUT_CAP - 3))
		out_flush(it);
	if (w <= 0x7FFF) {
		it->out[it->nout++] = (uint8_t)(w >> 8);
		it->out[it->nout++] = (uint8_t)w;
	} else {
		it->out[it->nout++] = (uint8_t)((w >> 16) | 0x80);
		it->out[it->nout++] = (uint8_t)(w >> 8);
		it->out[it->nout++] = (uint8_t)w;
	}
}

/* Write the final elements' primaries and drop them. */
static void emit_final(coll_iter *it)
{
	for (size_t i = 0; i < it->n; i++) {
		unsigned w = el_primary(it->el[i]);
		if (w > 0)
			emit(it, w);
	}
	memmove(it->el, it->el + it->n, (it->ne - it->n) * sizeof it->el[0]);
	it->ne -= it->n;
	it->n = 0;
}

/*
 * With nothing held back, a rune whose elements end in combining class 0
 * makes them all final at once (Iter.Next's first case), so they can go
 * straight to the key: ASCII bytes through one table, other runes with a
 * plain element, an expansion, an implicit weight or Hangul jamo.  Stops
 * at the first rune that needs the iterator (a contraction start, a
 * decomposition, a combining mark) and leaves it at it->pnext.
 */
static void fast_run(coll_iter *it)
{
	const uint8_t *s = it->s;
	size_t i = it->pnext, len = it->len;

	while (i < len) {
		uint32_t w;
		if (s[i] < 0x80) {
			w = router__coll_ascii[s[i]];
			if (ROUTER__UNLIKELY(w & 0xC0000000u)) {
				if (w & 0x80000000u)
					break;
				/* a contraction start: only "no match"
				 * (the next byte is ASCII) is fast */
				if (i + 1 < len && s[i + 1] >= 0x80)
					break;
				w &= 0x7FFF;
			}
			if (w) {
				if (ROUTER__UNLIKELY(it->nout > OUT_CAP - 2))
					out_flush(it);
				it->out[it->nout++] = (uint8_t)(w >> 8);
				it->out[it->nout++] = (uint8_t)w;
			}
			i++;
			continue;
		}
		uint32_t cp;
		size_t sz = utf8_decode(s + i, len - i, &cp);
		uint32_t ce = table_lookup(cp);
		if (ce == 0) {
			if (cp >= 0xAC00 && cp <= 0xD7A3) {
				uint32_t k = cp - 0xAC00, j[3];
				unsigned nj = k % 28 ? 3 : 2;
				j[0] = table_lookup(0x1100 + k / 588);
				j[1] = table_lookup(0x1161 + (k % 588) / 28);
				j[2] = table_lookup(0x11A7 + k % 28);
				if (el_ccc(j[nj - 1]) != 0)
					break;
				for (unsigned q = 0; q < nj; q++)
					if ((w = el_primary(j[q])) != 0)
						emit(it, w);
				i += sz;
				continue;
			}
			ce = implicit_element(cp);
		} else if (ce > EL_MAX_NORMAL) {
			if (ce < EL_MIN_EXPAND || ce >= EL_MIN_DECOMP)
				break; /* contraction or decomposition */
			const uint32_t *e =
				router__coll_expand + (ce & 0x0FFFFFFFu);
			/* Ending in a mark ("é" is e + acute), the expansion
			 * stays open for marks that may follow; a plain ASCII
			 * byte next (class 0) or the end closes it as it is. */
			if (el_ccc(e[e[0]]) != 0 && i + sz < len &&
			    (s[i + sz] >= 0x80 ||
			     (router__coll_ascii[s[i + sz]] & 0xC0000000u)))
				break;
			for (uint32_t k = 1; k <= e[0]; k++)
				if ((w = el_primary(e[k])) != 0)
					emit(it, w);
			i += sz;
			continue;
		}
		if (el_ccc(ce) != 0)
			break;
		if ((w = el_primary(ce)) != 0)
			emit(it, w);
		i += sz;
	}
	it->pnext = i;
}

/* ---- the error message ------------------------------------------------- */

static size_t put_hex(char *b, uint32_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < digits; i++)
		b[i] = hex[(v >> (4 * (digits - 1 - i))) & 0xF];
	return (size_t)digits;
}

/* Go's strconv.Quote of one rune (or of one bad byte, cp = -1): at most
 * 10 bytes into b. */
static size_t quote_rune(char *b, const uint8_t *s, size_t sz, long cp)
{
	size_t n = 0;

	if (cp < 0) {
		b[n++] = '\\';
		b[n++] = 'x';
		return n + put_hex(b + n, s[0], 2);
	}
	if (cp == '"' || cp == '\\') {
		b[n++] = '\\';
		b[n++] = (char)cp;
		return n;
	}
	if (in_ranges(router__coll_printable, router__coll_printable_n,
	              (uint32_t)cp)) {
		memcpy(b, s, sz);
		return sz;
	}
	static const char esc[] = "\a\b\f\n\r\t\v";
	static const char name[] = "abfnrtv";
	const char *e = cp > 0 && cp < ' ' ? memchr(esc, (int)cp, 7) : NULL;
	b[n++] = '\\';
	if (e != NULL) {
		b[n++] = name[e - esc];
	} else if (cp < ' ' || cp == 0x7F) {
		b[n++] = 'x';
		n += put_hex(b + n, (uint32_t)cp, 2);
	} else if (cp < 0x10000) {
		b[n++] = 'u';
		n += put_hex(b + n, (uint32_t)cp, 4);
	} else {
		b[n++] = 'U';
		n += put_hex(b + n, (uint32_t)cp, 8);
	}
	return n;
}

static int invalid_utf8(router_error *err, const uint8_t *s, size_t len)
{
	static const char prefix[] =
		"cannot normalize string containing invalid UTF-8: \"";
	char msg[ROUTER_MESSAGE_MAX];
	size_t n = sizeof prefix - 1, i = 0;
	/* room for the closing quote, "..." and the NUL */
	const size_t limit = sizeof msg - 5;
	int cut = 0;

	memcpy(msg, prefix, n);
	while (i < len) {
		char q[10];
		/* Go decodes a bad byte as one RuneError of width 1 */
		size_t ok = utf8_valid_prefix(s + i, len - i > 4 ? 4 : len - i);
		uint32_t cp = 0;
		size_t sz = ok > 0 ? utf8_decode(s + i, len - i, &cp) : 0;
		size_t qn;
		if (sz == 0) {
			qn = quote_rune(q, s + i, 1, -1);
			sz = 1;
		} else {
			qn = quote_rune(q, s + i, sz, (long)cp);
		}
		if (n + qn > limit) {
			cut = 1;
			break;
		}
		memcpy(msg + n, q, qn);
		n += qn;
		i += sz;
	}
	msg[n++] = '"';
	if (cut) {
		memcpy(msg + n, "...", 3);
		n += 3;
	}
	msg[n] = '\0';
	return router__seterr(err, ROUTER_EINVAL, NULL, "%s", msg);
}

/* ---- entry points ------------------------------------------------------ */

int router__collate_key(const void *sv, size_t len, router__collate_sink *sink,
                        void *ctx, router_error *err)
{
	const uint8_t *s = sv;
	coll_iter it;

	if (len == 0)
		return ROUTER_OK;
	if (utf8_valid_prefix(s, len) != len)
		return invalid_utf8(err, s, len);
	while (len > 0 && s[len - 1] == ' ')
		len--;
	it.s = s;
	it.len = len;
	it.pnext = 0;
	it.ne = it.n = 0;
	it.overflow = 0;
	it.nout = 0;
	it.sink = sink;
	it.ctx = ctx;
	for (;;) {
		if (it.ne == 0) {
			fast_run(&it);
			if (it.pnext >= it.len)
				break;
		}
		if (!it_next(&it))
			break;
		emit_final(&it);
	}
	it.n = it.ne;
	emit_final(&it);
	if (ROUTER__UNLIKELY(it.overflow))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "collation: a combining sequence too "
		                      "long to order");
	out_flush(&it);
	return ROUTER_OK;
}

static void md5_sink(void *ctx, const uint8_t *p, size_t n)
{
	md5_update(ctx, n, p);
}

int router__unicode_loose_md5(const void *s, size_t len, uint8_t out[16],
                              router_error *err)
{
	struct md5_ctx md5;
	int rc;

	md5_init(&md5);
	if ((rc = router__collate_key(s, len, md5_sink, &md5, err)) != 0)
		return rc;
	md5_digest(&md5, MD5_DIGEST_SIZE, out);
	return ROUTER_OK;
}

static void xxh_sink(void *ctx, const uint8_t *p, size_t n)
{
	XXH64_update(ctx, p, n);
}

int router__unicode_loose_xxhash(const void *s, size_t len, uint8_t out[8],
                                 router_error *err)
{
	XXH64_state_t st;
	uint64_t h;
	int rc;

	XXH64_reset(&st, 0);
	if ((rc = router__collate_key(s, len, xxh_sink, &st, err)) != 0)
		return rc;
	h = XXH64_digest(&st);
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(h >> (8 * i));
	return ROUTER_OK;
}
