/*
 * The generated collation data (collate_tables.c, from
 * tools/gen_collation.py) as collate.c reads it.  See the generated file's
 * opening comment for what each table holds and where it comes from.
 */
#ifndef ROUTER_COLLATE_TABLES_H
#define ROUTER_COLLATE_TABLES_H

#include <stddef.h>
#include <stdint.h>

/* The most collation elements one rune can append, with everything a
 * contraction starting at it pulls in (the generator computes it from the
 * data and the generated file refuses to compile if this disagrees). */
#define ROUTER__COLL_MAX_APPEND 121

/* One node of a contraction trie (x/text's ContractTrieSet entry). */
typedef struct router__coll_ct_node {
	uint8_t l, h, n, i;
} router__coll_ct_node;

/* Code point -> element: top[cp >> 11] picks a mid block of 64,
 * mid[.. + ((cp >> 5) & 63)] a leaf block of 32. */
extern const uint16_t router__coll_top[];
extern const uint16_t router__coll_mid[];
extern const uint32_t router__coll_leaf[];
/* Expansions: at an offset, the count, then the elements. */
extern const uint32_t router__coll_expand[];
extern const router__coll_ct_node router__coll_ct[];
extern const uint32_t router__coll_contract[];
/* NFKD decompositions: at an offset, the byte length, then UTF-8. */
extern const uint8_t router__coll_decomp[];
/* Bytes < 0x80: a primary weight (bits 0-14); bit 30: a contraction start
 * whose weight holds unless the next byte is >= 0x80; bit 31: no fast
 * path. */
extern const uint32_t router__coll_ascii[128];
/* norm.NFD properties, in the same three levels as the elements:
 * {lead ccc, trail ccc, leading non-starters} = nfd_props[nfd_leaf[
 * nfd_mid[nfd_top[cp >> 11] * 64 + ((cp >> 5) & 63)] * 32 + (cp & 31)]]. */
extern const uint8_t router__coll_nfd_top[];
extern const uint8_t router__coll_nfd_mid[];
extern const uint8_t router__coll_nfd_leaf[];
extern const uint8_t router__coll_nfd_props[][3];
/* Sorted inclusive [lo, hi] pairs: Unicode 15.0.0 Ideographic, and Go's
 * unicode.IsPrint (categories L, M, N, P, S and U+0020). */
extern const size_t router__coll_ideographic_n;
extern const uint32_t router__coll_ideographic[];
extern const size_t router__coll_printable_n;
extern const uint32_t router__coll_printable[];
/* Bytes of collation data above (the printable ranges excluded). */
extern const size_t router__coll_table_bytes;

#endif
