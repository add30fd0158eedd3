/*
 * The epoch: reader records, read sections, grace periods and deferred
 * reclamation, for every router of the process.
 *
 * Design
 * ------
 * Readers and writers share exactly one mutable word per router:
 * r->current, the table in service.  A table is immutable from the moment
 * it can be seen through r->current (the few fields the router sets on it,
 * version, interned shard names and slots, are written before the pointer
 * is published: publish.c).  So a reader only needs to be sure that the
 * table it loaded is not freed while it uses it; that is what the epoch is
 * for.
 *
 * Readers.  Every thread that routes owns one ck_epoch record, registered
 * lazily on its first lookup and kept in a thread-local variable.  A lookup
 * is: begin a section on that record (publish "I am reading, as of epoch
 * e", ordered before the loads that follow: ck_epoch_begin's xchg, or,
 * when the kernel offers it, plain stores whose ordering the writer
 * enforces with membarrier() before it scans; see section_begin in
 * epoch.h), load r->current, route, ck_epoch_end (a release store).  No
 * lock, no write to any shared cache line: the record is the thread's own.
 *
 * Reclamation.  A table evicted from a router's history (publish.c), and
 * only once it is no longer r->current, is handed to ck_epoch_call
 * (router__retire; never give the epoch an object still reachable from
 * r->current: another router's writer may advance the shared epoch before
 * the swap), and freed by a later ck_epoch_poll once every reader that
 * might have loaded it has left its section (two epoch advances).
 * Publishes poll (every publish; in membarrier mode once per 8 retired
 * tables, see router__reclaim) without waiting for readers
 * (ck_epoch_synchronize would spin through a grace period on every
 * publish under constant reads on 2 cores); past 32 retired tables pending, a publish waits for
 * one grace period, so memory stays bounded by the history plus
 * 32 tables.  Grace periods are serialized process-wide (g_gp_lock).
 * router_free uses ck_epoch_barrier, which waits.
 *
 * One global epoch serves every router of the process: a thread keeps one
 * record whatever the number of routers, and records are never freed
 * (ck_epoch keeps them in a lock-free list; unregistered records are
 * recycled by the next thread).
 *
 * fork().  A child inherits records of threads that no longer exist; if one
 * was inside a read section at fork time, no grace period would ever end in
 * the child.  pthread_atfork handlers take the registry lock and every
 * router's lock before fork (so no publish and no registration is half
 * done) and, in the child, unregister every reader record except the
 * forking thread's own, forget event tickets of the threads the child does
 * not have (so its own publishes do not wait for their deliveries:
 * router__events_forget in router.c), then release the locks.
 */
#include <pthread.h>
#include <stdlib.h>

#include <ck_epoch.h>
#include <ck_pr.h>

#include "epoch.h"
#include "live.h"

#ifdef ROUTER__TSAN
char router__tsan_grace;
#else
int router__membarrier;
#endif

/* Use membarrier when the kernel has it, unless ROUTER_NO_MEMBARRIER is set
 * in the environment (to compare both read sides).  Called once, before
 * any reader section. */
static void membarrier_init(void)
{
#ifndef ROUTER__TSAN
	long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	const char *off = getenv("ROUTER_NO_MEMBARRIER");

	router__membarrier = 0;
	if (off != NULL && off[0] != '\0' && off[0] != '0')
		return;
	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		return;
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
	            0, 0) != 0)
		return;
	router__membarrier = 1;
#endif
}

/* ------------------------------------------------------------------------ */
/* Process-wide epoch and reader records                                    */
/* ------------------------------------------------------------------------ */

static ck_epoch_t g_epoch;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;
/* Lock order (fork handlers take them all in this order):
 *   g_routers_lock -> r->lock (one router at a time) -> g_gp_lock -> g_lock
 * g_routers_lock protects the list of routers; g_gp_lock serializes grace
 * periods (every writer_fence + ck_epoch_poll/barrier, see router__reclaim);
 * g_lock
 * protects g_readers and record registration.  No lock is held while the
 * event callback runs (writers wait for their turn on r->ev_cond, under
 * r->lock, before they release it), so the callback may take any of them
 * through the calls it is allowed. */
static pthread_mutex_t g_routers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_gp_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

/* Every reader record ever registered (records are never freed). */
typedef struct reader_rec {
	ck_epoch_record_t *rec;
	int in_use;
} reader_rec;
static reader_rec *g_readers;
static size_t g_nreaders, g_creaders;

static struct router **g_routers;
static size_t g_nrouters, g_crouters;

/* The calling thread's record (epoch.h says why initial-exec). */
__thread ck_epoch_record_t *router__tls_rec
    __attribute__((tls_model("initial-exec")));

/* See epoch.h. */
__thread int router__tls_in_registry
    __attribute__((tls_model("initial-exec")));

static void registry_lock(void)
{
	router__tls_in_registry = 1;
	ck_pr_barrier(); /* the flag before the lock, as the handler sees it */
	pthread_mutex_lock(&g_lock);
}

static void registry_unlock(void)
{
	pthread_mutex_unlock(&g_lock);
	ck_pr_barrier();
	router__tls_in_registry = 0;
}

static void atfork_prepare(void);
static void atfork_parent(void);
static void atfork_child(void);

static void thread_exit(void *p)
{
	ck_epoch_record_t *rec = p;
	size_t i;

	registry_lock();
	for (i = 0; i < g_nreaders; i++)
		if (g_readers[i].rec == rec)
			g_readers[i].in_use = 0;
	ck_epoch_unregister(rec);
	registry_unlock();
	router__tls_rec = NULL;
}

static void global_init(void)
{
	membarrier_init();
	ck_epoch_init(&g_epoch);
	(void)pthread_key_create(&g_key, thread_exit);
	(void)pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* A record for this process (reader or writer): a recycled one, or a new
 * one.  Called with g_lock held.  NULL when out of memory. */
static ck_epoch_record_t *record_get(void)
{
	ck_epoch_record_t *rec = ck_epoch_recycle(&g_epoch, NULL);

	if (rec != NULL)
		return rec;
	/* Plain malloc, not a router's allocator: a record outlives every
	 * router (ck_epoch never forgets a record). */
	rec = malloc(sizeof *rec);
	if (rec == NULL)
		return NULL;
	ck_epoch_register(&g_epoch, rec, NULL);
	return rec;
}

ck_epoch_record_t *router__reader_register(router_error *err)
{
	ck_epoch_record_t *rec;
	size_t i;

	if (router__tls_in_registry) {
		/* A lookup from a signal handler that interrupted this
		 * thread inside the registry: waiting would never end. */
		(void)no_reader(err);
		return NULL;
	}
	pthread_once(&g_once, global_init);
	registry_lock();
	if (g_nreaders == g_creaders) {
		size_t n = g_creaders ? g_creaders * 2 : 16;
		reader_rec *p = realloc(g_readers, n * sizeof *p);

		if (p == NULL)
			goto oom;
		g_readers = p;
		g_creaders = n;
	}
	rec = record_get();
	if (rec == NULL)
		goto oom;
	for (i = 0; i < g_nreaders; i++)
		if (g_readers[i].rec == rec)
			break;
	g_readers[i].rec = rec;
	g_readers[i].in_use = 1;
	if (i == g_nreaders)
		g_nreaders++;
	if (pthread_setspecific(g_key, rec) != 0) {
		g_readers[i].in_use = 0;
		ck_epoch_unregister(rec);
		goto oom;
	}
	registry_unlock();
	router__tls_rec = rec;
	return rec;
oom:
	registry_unlock();
	router__seterr(err, ROUTER_ENOMEM, NULL,
	               "out of memory registering a reader thread");
	return NULL;
}

int router_thread_register(router_error *err)
{
	if (router__tls_rec != NULL || router__reader_register(err) != NULL) {
		router__clearerr(err);
		return ROUTER_OK;
	}
	return ROUTER_ENOMEM;
}

void router_thread_unregister(void)
{
	ck_epoch_record_t *rec = router__tls_rec;

	if (rec == NULL)
		return;
	pthread_setspecific(g_key, NULL);
	thread_exit(rec);
}

static void atfork_prepare(void)
{
	size_t i;

	pthread_mutex_lock(&g_routers_lock);
	for (i = 0; i < g_nrouters; i++)
		pthread_mutex_lock(&g_routers[i]->lock);
	pthread_mutex_lock(&g_gp_lock);
	registry_lock();
}

static void atfork_parent(void)
{
	size_t i;

	registry_unlock();
	pthread_mutex_unlock(&g_gp_lock);
	for (i = 0; i < g_nrouters; i++)
		pthread_mutex_unlock(&g_routers[i]->lock);
	pthread_mutex_unlock(&g_routers_lock);
}

static void atfork_child(void)
{
	size_t i;

	/* Only the forking thread exists now: records of the others can
	 * never leave a read section; forget them. */
	for (i = 0; i < g_nreaders; i++) {
		if (g_readers[i].in_use &&
		    g_readers[i].rec != router__tls_rec) {
			g_readers[i].in_use = 0;
			ck_epoch_unregister(g_readers[i].rec);
		}
	}
	/* Tickets of writers that do not exist here will never be
	 * delivered (router.c). */
	for (i = 0; i < g_nrouters; i++)
		router__events_forget(g_routers[i]);
	/* The child is a new address space: register it for membarrier
	 * again (no reader section is open in it, so falling back to the
	 * xchg read side is safe if that fails). */
	membarrier_init();
	atfork_parent();
}

/* ------------------------------------------------------------------------ */
/* Routers                                                                  */
/* ------------------------------------------------------------------------ */

void router__epoch_init(void)
{
	pthread_once(&g_once, global_init);
}

int router__routers_add(router *r)
{
	pthread_mutex_lock(&g_routers_lock);
	if (g_nrouters == g_crouters) {
		size_t n = g_crouters ? g_crouters * 2 : 8;
		struct router **p = realloc(g_routers, n * sizeof *p);

		if (p == NULL) {
			pthread_mutex_unlock(&g_routers_lock);
			return -1;
		}
		g_routers = p;
		g_crouters = n;
	}
	registry_lock();
	r->wrec = record_get();
	registry_unlock();
	if (r->wrec == NULL) {
		pthread_mutex_unlock(&g_routers_lock);
		return -1;
	}
	g_routers[g_nrouters++] = r;
	pthread_mutex_unlock(&g_routers_lock);
	return 0;
}

void router__routers_remove(router *r)
{
	size_t i;

	pthread_mutex_lock(&g_routers_lock);
	for (i = 0; i < g_nrouters; i++)
		if (g_routers[i] == r) {
			g_routers[i] = g_routers[--g_nrouters];
			break;
		}
	pthread_mutex_unlock(&g_routers_lock);
}

void router__record_put(router *r)
{
	registry_lock();
	ck_epoch_unregister(r->wrec);
	registry_unlock();
}

/* ------------------------------------------------------------------------ */
/* Reclamation                                                              */
/* ------------------------------------------------------------------------ */

/* ck_epoch callbacks: free once no reader can hold the object (a long
 * batch's pin included: see "Long batches" in handles.c). */
static void table_reclaim(ck_epoch_entry_t *e)
{
	router_table *t = (router_table *)(void *)((char *)e -
	                                           offsetof(router_table,
	                                                    epoch_entry));
	router *r = t->owner;

	grace_over();
	if (__atomic_fetch_or(&t->pins, TABLE_DEAD, __ATOMIC_ACQ_REL) != 0)
		return; /* pinned: its last unpin hands it to r->dead */
	if (r != NULL)
		r->st.tables_freed++;
	router__table_destroy(t);
}

/* Free the tables whose last pin went after their grace period.  Writer
 * (r->lock held). */
void router__dead_drain(router *r)
{
	router_table *t = __atomic_exchange_n(&r->dead, NULL, __ATOMIC_ACQUIRE);

	while (t != NULL) {
		router_table *next = t->next_dead;

		grace_over();
		r->st.tables_freed++;
		router__table_destroy(t);
		t = next;
	}
}

static void slots_reclaim(ck_epoch_entry_t *e)
{
	router__slots *s = (router__slots *)(void *)((char *)e -
	                                            offsetof(router__slots,
	                                                     epoch_entry));

	grace_over();
	router__free(s->alloc, s);
}

/* Hand a table no longer reachable from r->current or the history to the
 * epoch.  Called with r->lock held. */
void router__retire(router *r, router_table *t)
{
	r->st.tables_retired++;
	ck_epoch_call(r->wrec, &t->epoch_entry, table_reclaim);
}

void router__retire_slots(router *r, router__slots *s)
{
	ck_epoch_call(r->wrec, &s->epoch_entry, slots_reclaim);
}

/* Tables retired but not yet freed beyond which a publish waits for a
 * grace period.  Below it, the writer never waits. */
#define RECLAIM_LIMIT 32u
/* Retired tables that make a membarrier-mode publish poll (see
 * router__reclaim). */
#define RECLAIM_BATCH 8u

/* Free what earlier publishes retired, if their grace period is over.
 * ck_epoch_poll never waits, but it advances the epoch by at most one step
 * per call, so under constant reads and fast publishes the pending list can
 * outgrow the history; past RECLAIM_LIMIT entries the writer waits for one
 * grace period (readers' sections are a lookup long), which bounds memory
 * to history + RECLAIM_LIMIT tables whatever the publish rate.  Called with
 * r->lock held, never inside a read section. */
void router__reclaim(router *r)
{
	if (__atomic_load_n(&r->dead, __ATOMIC_RELAXED) != NULL)
		router__dead_drain(r);
	/* With membarrier each poll interrupts every CPU running a reader
	 * (an IPI, a VM exit under KVM): poll once per RECLAIM_BATCH
	 * retired tables rather than on every publish. */
	if (router__membarrier &&
	    ck_pr_load_uint(&r->wrec->n_pending) < RECLAIM_BATCH)
		return;
	/* One grace period at a time in the process (as liburcu's
	 * rcu_gp_lock): in membarrier mode a reader's section may be
	 * invisible to a scan not preceded by a membarrier that reached its
	 * CPU; with scans serialized, each follows its own writer_fence, so
	 * no two epoch advances can both miss a reader. */
	pthread_mutex_lock(&g_gp_lock);
	writer_fence();
	ck_epoch_poll(r->wrec);
	if (ck_pr_load_uint(&r->wrec->n_pending) > RECLAIM_LIMIT) {
		writer_fence();
		ck_epoch_barrier(r->wrec);
	}
	pthread_mutex_unlock(&g_gp_lock);
}

void router__epoch_barrier(router *r)
{
	/* Waits for every reader that might still hold one of them, and
	 * runs every pending callback of this router's record. */
	pthread_mutex_lock(&g_gp_lock);
	writer_fence();
	ck_epoch_barrier(r->wrec);
	pthread_mutex_unlock(&g_gp_lock);
}
