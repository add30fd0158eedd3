/*
 * The epoch (epoch.c) as the rest of the live router sees it: the
 * publication primitives, read sections and the calling thread's reader
 * record.  The read side is here, static inline, because every lookup
 * (handles.c) runs it: the lookup compiles to the same instructions as
 * when this was all one file.  Writer-side calls are declared in live.h.
 */
#ifndef ROUTER_LIVE_EPOCH_H
#define ROUTER_LIVE_EPOCH_H

#include <linux/membarrier.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ck_epoch.h>
#include <ck_pr.h>

#include "core/internal.h"

/* Variables shared between the live router's files: hidden, so that the
 * inlined read side loads them PC-relative, as it did a static. */
#define ROUTER__HIDDEN __attribute__((visibility("hidden")))

/* The layout section_begin relies on.  section_begin is a hand-written
 * copy of ck_epoch_begin (ck_epoch.h of Concurrency Kit 0.7) minus its
 * fence: it stores record->active and record->epoch and loads
 * record->global->epoch itself, and libck's compiled ck_epoch_poll and
 * ck_epoch_barrier read the same fields to decide that a grace period is
 * over.  A libck whose records are laid out differently (a field added
 * before them, a type changed) is a libck whose ck_epoch_begin may do
 * something else too: compiled against it, the copy would store a
 * reader's "active" where the writer's scan never looks, and free tables
 * under readers without a sound of complaint.  So the build stops here
 * instead: re-read that version's ck_epoch_begin, bring section_begin in
 * line, then these checks.  The expected layout, 0.7's: ck_epoch_record_t
 * starts { ck_stack_entry_t record_next; ck_epoch_t *global; unsigned
 * state, epoch, active; ... } and ck_epoch_t starts { unsigned epoch; ...
 * }.  (TSan builds call ck_epoch_begin itself and need none of this, but
 * check it as well: one layout for every build.) */
#define ROUTER__CK_IS_UINT(type, field)                                   \
	_Generic(((type *)0)->field, unsigned int: 1, default: 0)
#define ROUTER__CK_LAYOUT "libck's ck_epoch layout is not the one " \
	"section_begin (librouter/live/epoch.h) copies ck_epoch_begin for; " \
	"see the comment there"
_Static_assert(sizeof(ck_stack_entry_t) == sizeof(void *), ROUTER__CK_LAYOUT);
_Static_assert(offsetof(ck_epoch_record_t, global) == sizeof(ck_stack_entry_t),
               ROUTER__CK_LAYOUT);
_Static_assert(_Generic(((ck_epoch_record_t *)0)->global,
                        struct ck_epoch *: 1, default: 0),
               ROUTER__CK_LAYOUT);
_Static_assert(offsetof(ck_epoch_record_t, epoch) ==
                   sizeof(ck_stack_entry_t) + sizeof(struct ck_epoch *) +
                       sizeof(unsigned int),
               ROUTER__CK_LAYOUT);
_Static_assert(offsetof(ck_epoch_record_t, active) ==
                   offsetof(ck_epoch_record_t, epoch) + sizeof(unsigned int),
               ROUTER__CK_LAYOUT);
_Static_assert(ROUTER__CK_IS_UINT(ck_epoch_record_t, epoch), ROUTER__CK_LAYOUT);
_Static_assert(ROUTER__CK_IS_UINT(ck_epoch_record_t, active),
               ROUTER__CK_LAYOUT);
_Static_assert(offsetof(ck_epoch_t, epoch) == 0, ROUTER__CK_LAYOUT);
_Static_assert(ROUTER__CK_IS_UINT(ck_epoch_t, epoch), ROUTER__CK_LAYOUT);

/* ------------------------------------------------------------------------ */
/* Publication primitives                                                   */
/* ------------------------------------------------------------------------ */

/* Everything readers can reach is published with a release (store fence,
 * then the store of the pointer or count that makes it reachable) and
 * consumed with the matching load (then a dependency/load fence).  Normal
 * builds use Concurrency Kit.  ThreadSanitizer cannot see through ck_pr's
 * inline assembly nor through libck's epoch logic, so a TSan build writes
 * the same orders as C11 atomics and tells TSan about the grace period:
 * every read section ends with a release on one sync address and every
 * deferred free starts with an acquire on it (true edges: ck_epoch frees
 * an object only after every section that could see it has ended). */
#if defined(__SANITIZE_THREAD__)
#define ROUTER__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ROUTER__TSAN 1
#endif
#endif

#ifdef ROUTER__TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char router__tsan_grace ROUTER__HIDDEN;
/* TSan builds keep ck_epoch_begin's xchg: membarrier's ordering is
 * invisible to TSan. */
enum { router__membarrier = 0 };

static inline void publish_ptr(void *p, void *v)
{
	__atomic_store_n((void **)p, v, __ATOMIC_RELEASE);
}
static inline void *consume_ptr(const void *p)
{
	return __atomic_load_n((void *const *)p, __ATOMIC_ACQUIRE);
}
static inline void publish_32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline uint32_t acquire_32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void section_begin(ck_epoch_record_t *rec)
{
	ck_epoch_begin(rec, NULL);
}
static inline void section_end(ck_epoch_record_t *rec)
{
	__tsan_release(&router__tsan_grace);
	ck_epoch_end(rec, NULL);
}
static inline void writer_fence(void)
{
}
static inline void grace_over(void)
{
	__tsan_acquire(&router__tsan_grace);
}
#else
static inline void publish_ptr(void *p, void *v)
{
	ck_pr_fence_store();
	ck_pr_store_ptr((void **)p, v);
}
static inline void *consume_ptr(const void *p)
{
	void *v = ck_pr_load_ptr((void *const *)p);

	/* Loads through v depend on it: ordered on every CPU but Alpha,
	 * which this fence covers. */
	ck_pr_fence_load_depends();
	return v;
}
static inline void publish_32(uint32_t *p, uint32_t v)
{
	ck_pr_fence_store();
	ck_pr_store_32(p, v);
}
static inline uint32_t acquire_32(const uint32_t *p)
{
	uint32_t v = ck_pr_load_32(p);

	/* A count guards entries that are not data-dependent on it. */
	ck_pr_fence_load();
	return v;
}
/* Asymmetric fences (liburcu's "memb" flavour, on ck_epoch records).
 * ck_epoch_begin orders the reader's "I am active in epoch e" stores before
 * its loads of the table with an xchg, ~8 ns here and most of what a
 * section costs.  When the kernel offers MEMBARRIER_CMD_PRIVATE_EXPEDITED,
 * readers use plain stores and a compiler barrier instead, and the writer
 * pays: before it scans the records (ck_epoch_poll, ck_epoch_barrier) it
 * runs membarrier(), which executes a full barrier on every CPU running a
 * thread of this process.  A reader whose active store was still in its
 * store buffer then has it visible before the scan; a reader that had not
 * stored it yet loads r->current after the barrier, so it sees the new
 * table and cannot hold the retired one.  Either way the scan is right.
 * router__membarrier is decided once, before any reader exists, and never
 * changes (except in a fork child, where only the forking thread exists). */
extern int router__membarrier ROUTER__HIDDEN;

static inline void section_begin(ck_epoch_record_t *rec)
{
	if (ROUTER__LIKELY(router__membarrier)) {
		if (rec->active == 0) {
			ck_pr_store_uint(&rec->active, 1);
			/* Compiler barrier only: writer_fence() supplies the
			 * CPU ordering. */
			ck_pr_barrier();
			ck_pr_store_uint(&rec->epoch,
			                 ck_pr_load_uint(&rec->global->epoch));
			/* The epoch before the table (free on x86; keeps weakly
			 * ordered CPUs from loading r->current first). */
			ck_pr_fence_load();
		} else {
			ck_pr_store_uint(&rec->active, rec->active + 1);
		}
		ck_pr_barrier();
		return;
	}
	ck_epoch_begin(rec, NULL);
}
static inline void section_end(ck_epoch_record_t *rec)
{
	ck_epoch_end(rec, NULL);
}
static inline void grace_over(void)
{
}
/* Before any scan of reader records: see section_begin. */
static inline void writer_fence(void)
{
	if (router__membarrier &&
	    syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		abort(); /* cannot fail once registered (membarrier(2)) */
}
#endif

/* ------------------------------------------------------------------------ */
/* The calling thread's reader record                                       */
/* ------------------------------------------------------------------------ */

/* initial-exec: one TLS access without a call, even from the shared
 * library (the library is small and not meant to be dlopen'ed late into a
 * process that has exhausted its static TLS; Python and Ruby extensions
 * link it statically).  Defined in epoch.c. */
extern __thread ck_epoch_record_t *router__tls_rec
    __attribute__((tls_model("initial-exec"))) ROUTER__HIDDEN;

/* Set while this thread takes or holds the registry lock (epoch.c): a
 * signal handler that interrupted it and would register (a first lookup)
 * would wait for the lock it holds. */
extern __thread int router__tls_in_registry
    __attribute__((tls_model("initial-exec"))) ROUTER__HIDDEN;

/* Register the calling thread's reader record (its first lookup).  NULL
 * (err set when non-NULL) when out of memory or interrupted inside the
 * registry. */
ck_epoch_record_t *router__reader_register(router_error *err);

/* Why reader() gave no record: interrupted inside the registry (see
 * router__reader_register), or out of memory. */
static inline int no_reader(router_error *err)
{
	if (router__tls_in_registry)
		return router__seterr(err, ROUTER_ESTATE, NULL,
		                      "this thread has no reader record and was "
		                      "interrupted inside the reader registry (a "
		                      "lookup from a signal handler?): call "
		                      "router_thread_register first");
	return router__seterr(err, ROUTER_ENOMEM, NULL,
	                      "out of memory registering a reader thread");
}

/* The calling thread's record; NULL only when registration ran out of
 * memory. */
static inline ck_epoch_record_t *reader(void)
{
	ck_epoch_record_t *rec = router__tls_rec;

	if (ROUTER__LIKELY(rec != NULL))
		return rec;
	return router__reader_register(NULL);
}

#endif /* ROUTER_LIVE_EPOCH_H */
