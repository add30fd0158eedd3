/*
 * The collation key of Vitess's unicode_loose_md5 / unicode_loose_xxhash:
 * the primary-strength key that golang.org/x/text/collate (0.7.0, Unicode
 * 6.2.0 tables, CLDR 23) computes for collate.New(language.English,
 * collate.Loose), and the keyspace IDs hashed from it.  Internal to
 * librouter (router__ names).
 */
#ifndef ROUTER_COLLATE_H
#define ROUTER_COLLATE_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Receives the key in order, in pieces of 1 to a few hundred bytes. */
typedef void router__collate_sink(void *ctx, const uint8_t *p, size_t n);

/*
 * The key of (s, len) as Vitess computes it: the input must be valid UTF-8
 * (Go's utf8.Valid), trailing ASCII spaces (0x20 only) are removed, and
 * the primary weights above zero of x/text's collation elements are
 * written in order, a weight up to 0x7FFF as 2 big-endian bytes, a larger
 * one as 3 with the top bit of the first set.  The key goes to sink
 * (nothing is written for an empty key; on error nothing is written).
 *
 * s may be NULL only when len is 0.  Returns ROUTER_OK, or ROUTER_EINVAL
 * for invalid UTF-8 with Vitess's message in err: cannot normalize string
 * containing invalid UTF-8: "<the whole input as Go's %q quotes it>" (cut,
 * after the closing quote, with "..." when it does not fit).  Never
 * allocates; uses about 2 KiB of stack.  Any thread.
 */
int router__collate_key(const void *s, size_t len, router__collate_sink *sink,
                        void *ctx, router_error *err);

/* Vitess's unicode_loose_md5 keyspace ID: MD5 of the key (16 bytes).
 * Same input rules, return codes and threads as router__collate_key. */
int router__unicode_loose_md5(const void *s, size_t len, uint8_t out[16],
                              router_error *err);
/* Vitess's unicode_loose_xxhash keyspace ID: XXH64(key, seed 0) stored
 * little-endian (8 bytes).  Same rules as router__collate_key. */
int router__unicode_loose_xxhash(const void *s, size_t len, uint8_t out[8],
                                 router_error *err);

#endif
