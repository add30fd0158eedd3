/* The live router's counters between the writer side (publish.c,
 * beyond.c, epoch.c count them under the writer lock; router.c reads them
 * out) and stats.c, which copies them out to callers (in the current
 * layout and, for old binaries, in the 0.1 one: compat.c). */
#ifndef ROUTER_LIVE_STATS_H
#define ROUTER_LIVE_STATS_H

#include <stdint.h>

#include "router.h"

/* Per-code refusal counters, indexed by -code (slot 0 unused): one per
 * code of ROUTER_ERRNO_MAP, which stats.c checks is dense from -1 down to
 * ROUTER_ERRNO_MIN.  Internal, so adding a code changes no public struct. */
#define ROUTER__REFUSAL_SLOTS (1 - ROUTER_ERRNO_MIN)

/* One consistent copy, under r's writer lock, of r's counters and state
 * into *out and of its per-code refusals into
 * by_code[0 .. ROUTER__REFUSAL_SLOTS).  r, out and by_code non-NULL.  Not
 * with r's writer lock held (router_inspect's fn). */
void router__stats_read(router *r, router_stats *out, uint64_t *by_code);

#endif
