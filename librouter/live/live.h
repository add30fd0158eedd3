/*
 * The live router's private header: struct router and what its files
 * (router.c, epoch.c, publish.c, handles.c, beyond.c) share.  Never
 * installed; nothing here is ABI.
 */
#ifndef ROUTER_LIVE_H
#define ROUTER_LIVE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <ck_epoch.h>

#include "beyond.h"
#include "epoch.h"
#include "stats.h"
#include "core/table.h"

#define NAME_CHUNK 1024u
#define NAME_DIR (ROUTER_SHARD_NAMES_MAX / NAME_CHUNK)

typedef struct hist_entry {
	router_table *t;
	int64_t accepted_ns;
} hist_entry;

/* A handle id's (keyspace, table), shared by every handle open on it
 * (refs).  A free id (refs 0, names NULL) is on the free list through
 * next_free and is reused by the next handle of another table. */
typedef struct handle_key {
	char *ks, *table;
	size_t kslen, tlen;
	uint32_t refs;
	uint32_t next_free;
} handle_key;

#define NO_ID UINT32_MAX

/* The events of one writer call (see "Events" in router.c).  At most
 * three are made by one call (a superseded pending table, the publish, a failed
 * automatic snapshot). */
#define EVENTS_MAX 4u

typedef struct ev_slot {
	router_event ev;
	router_error err; /* ev.error points here */
} ev_slot;

typedef struct ev_batch {
	unsigned n;
	uint64_t ticket;
	ev_slot ev[EVENTS_MAX];
	/* What the events point to, freed after delivery. */
	router_diff *diff;
	router_shadow_verdict *shadow;
} ev_batch;

struct router {
	/* The table in service.  Written by the writer under lock with
	 * ck_pr_store_ptr after a store fence; read by anyone with
	 * ck_pr_load_ptr inside an epoch section. */
	router_table *current;
	/* Copies of current's version and hash for lock-free getters. */
	uint64_t version, hash;
	/* Interned shard names: dir[id / NAME_CHUNK][id % NAME_CHUNK].  A
	 * chunk pointer is published (fence, store) before any id in it is
	 * handed out; entries are written before the table that uses them
	 * is published.  Never moved or freed before router_free. */
	const char **names_dir[NAME_DIR];
	uint32_t *names_len_dir[NAME_DIR];
	uint32_t nnames; /* read lock-free by router_shard_name */

	/* Below: writer side, protected by lock. */
	pthread_mutex_t lock;
	ck_epoch_record_t *wrec;
	router_allocator alloc;
	/* router_options.allocator as given (NULL: malloc), for
	 * router_options_get; alloc above is what is used.  Like hist_cap,
	 * max_shrink, on_event, on_event_arg, fence_cap and snapshot_path,
	 * set by router_create and never changed: read by any thread. */
	const router_allocator *allocator_opt;
	unsigned hist_cap;
	double max_shrink;
	router_event_cb on_event;
	void *on_event_arg;
	/* Event delivery: the batch of the writer holding lock (NULL when
	 * none), the next ticket to give, the ticket whose turn it is, and
	 * the condition writers wait on for their turn. */
	ev_batch *evb;
	uint64_t ev_next, ev_done;
	pthread_cond_t ev_cond;
	/* Retired tables a long batch held past their grace period, pushed
	 * by the batch's reader, freed by the writer (see "Long batches" in
	 * handles.c). */
	router_table *dead;
	hist_entry *hist; /* oldest first */
	unsigned nhist, cur; /* cur: index of current in hist */
	uint64_t high_water; /* highest version ever accepted */
	router_stats st;
	uint64_t refused_by_code[ROUTER__REFUSAL_SLOTS]; /* index: -code */
	/* name -> id, open addressing; writer only. */
	uint32_t *name_index;
	uint32_t name_index_cap;
	/* handle id -> (keyspace, table); nhandles ids are in use or free
	 * (free ones listed from free_id), so slot arrays have nhandles
	 * entries: the most handles ever open at once. */
	handle_key *handles;
	uint32_t nhandles, chandles;
	uint32_t free_id;
	/* router_options.snapshot_path (copy), or NULL. */
	char *snapshot_path;
	/* Quarantine: the pending table (owned, never visible to readers),
	 * the guard's refusal and when. */
	router_table *pending;
	router_error pending_reason;
	int pending_code;
	int64_t pending_since;
	/* Fences, oldest first; fence_cap 0: off. */
	router_fence *fences;
	unsigned nfences, fence_cap;
	/* Operator invariants. */
	router__invariant **inv;
	unsigned ninv, cinv;
	/* Shadow sample (one allocation) and thresholds. */
	router_sample_key *sample;
	size_t nsample;
	double shadow_max_moved, shadow_max_unroutable;
};

struct router_handle {
	router *r;
	uint32_t id;
	/* Copies of the names for the slow path. */
	const char *ks, *table;
	size_t kslen, tlen;
};

/* t->pins: readers of long batches holding t, and the dead bit (see "Long
 * batches" in handles.c). */
#define TABLE_DEAD 0x80000000u

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Interned shard name id of r (below r->nnames): its string and, when len
 * is not NULL, its length.  Lock-free (chunks are published before their
 * ids are handed out). */
static inline const char *name_at(const router *r, uint32_t id, uint32_t *len)
{
	const char **chunk = consume_ptr(&r->names_dir[id / NAME_CHUNK]);
	uint32_t *lens = consume_ptr(&r->names_len_dir[id / NAME_CHUNK]);

	if (len != NULL)
		*len = lens[id % NAME_CHUNK];
	return chunk[id % NAME_CHUNK];
}

/* ---- handles.c: shard names, slots, handles ------------------------------ */

/* The id of an interned name, or -1.  Writer only. */
int64_t router__name_find(const router *r, const char *s, size_t len);
/* The id of name, interning it if new.  Writer only.  -1: out of memory,
 * -2: the router's distinct shard names are exhausted (nothing visible
 * changed either way). */
int64_t router__intern(router *r, const char *s, size_t len);
/* A slots array for t covering every handle (at least cap entries), or
 * NULL (out of memory).  Writer only. */
router__slots *router__slots_make(router *r, const router_table *t,
                                  uint32_t cap);
/* Give t the slots s made for it (t->slots and t->slot_near).  Writer
 * only; t may be in service. */
void router__slots_install(router_table *t, router__slots *s);
/* Bring t's slots up to date with every handle.  Writer only.  -1: out
 * of memory, t unchanged (lookups still resolve by name). */
int router__slots_refresh(router *r, router_table *t);
/* Free the interned names and the handle keys (router_free). */
void router__handles_free(router *r);

/* ---- epoch.c: the process-wide epoch, seen from a router ---------------- */

/* Initialize the process-wide epoch (once; any thread). */
void router__epoch_init(void);
/* Give r a writer record and enter it in the routers the fork handlers
 * lock.  r->lock must be initialized.  0, or -1 out of memory (nothing
 * changed). */
int router__routers_add(router *r);
/* Take r out of that list (first step of router_free). */
void router__routers_remove(router *r);
/* Unregister r's writer record (last use of r->wrec). */
void router__record_put(router *r);
/* Hand t, no longer reachable from r->current nor the history, to the
 * epoch.  r->lock held. */
void router__retire(router *r, router_table *t);
/* Hand a slot array no longer reachable from its table to the epoch.
 * r->lock held. */
void router__retire_slots(router *r, router__slots *s);
/* Free what earlier publishes retired, if their grace period is over
 * (waits for one past a bound).  r->lock held, never in a read section. */
void router__reclaim(router *r);
/* Wait for every reader that might hold a table r retired and run every
 * callback of r's record (router_free).  r->lock held. */
void router__epoch_barrier(router *r);
/* Free the tables whose last pin went after their grace period.  r->lock
 * held. */
void router__dead_drain(router *r);

/* ---- router.c: events --------------------------------------------------- */

/* Take the writer lock for a call that may make events (into b). */
void router__writer_lock(router *r, ev_batch *b);
/* Release it, then deliver b's events in turn and free what they point
 * to (see "Events" in router.c). */
void router__writer_unlock(router *r, ev_batch *b);
/* Record an event (with a copy of e's text) for delivery by
 * router__writer_unlock; the writer lock held through router__writer_lock.
 * d and sv must live until then. */
void router__emit_shadow(router *r, router_event_kind kind, int code,
                         uint64_t from, uint64_t to, uint64_t hash,
                         const router_error *e, const router_diff *d,
                         const router_shadow_verdict *sv);
/* The same without a shadow verdict. */
void router__emit(router *r, router_event_kind kind, int code, uint64_t from,
                  uint64_t to, uint64_t hash, const router_error *e,
                  const router_diff *d);
/* ROUTER_ECALLBACK (err set) when the calling thread is in an event
 * callback, where fn would wait for the delivery it is part of; else
 * ROUTER_OK. */
int router__from_callback(const char *fn, router_error *err);

/* In a fork child: forget the event tickets of writers the child does not
 * have (epoch.c's atfork_child, every router's lock held). */
void router__events_forget(router *r);

#endif /* ROUTER_LIVE_H */
