/* Functions the library still exports for binaries built against an
 * older router.h, which no longer declares them (router.map lists them
 * under ROUTER_0.1).  Nothing new may call them. */
#ifndef ROUTER_LIVE_COMPAT_H
#define ROUTER_LIVE_COMPAT_H

#include <stdint.h>

#include "router.h"

/* refused_by_code slots of the 0.1 router_stats (codes -1 .. -25). */
#define ROUTER__STATS_0_1_CODES 26

/* router_stats exactly as 0.1's router.h (3ae8c8e, frozen in
 * tests/abi/router-0.1.h) laid it out.  Never change it: binaries built
 * against that header pass a buffer of exactly this size. */
typedef struct router__stats_0_1 {
	uint64_t version;
	uint64_t content_hash;
	uint64_t accepted;
	uint64_t refused;
	uint64_t refused_by_code[ROUTER__STATS_0_1_CODES];
	uint64_t rollbacks;
	uint64_t checks;
	uint64_t tables_retired;
	uint64_t tables_freed;
	uint32_t history_len;
	uint32_t shard_names;
	uint64_t snapshots_saved;
	uint64_t snapshots_failed;
	uint64_t quarantined;
	uint64_t approved;
	uint64_t discarded;
	uint32_t fences;
	uint32_t invariants;
	uint64_t shadow_runs;
} router__stats_0_1;

/* 0.1: fill *out (the 0.1 layout) with r's counters; zeroes it for r
 * NULL; does nothing for out NULL.  Now router_stats_get and
 * router_stats_refused. */
ROUTER_EXTERN void router_get_stats(router *r, router__stats_0_1 *out);
/* 0.1's name of router_serving_version. */
ROUTER_EXTERN uint64_t router_version(router *r);

#endif
