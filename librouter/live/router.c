/*
 * The live router object: creation and destruction, the writer lock and the
 * delivery of events, and the lock-free getters.  The rest of the live
 * router is one file per job, each opening with its part of the design:
 *
 *   epoch.c    reader records, read sections, grace periods, deferred
 *              reclamation, fork (the read side inline in epoch.h)
 *   publish.c  the guards, publish, quarantined tables, history, rollback
 *              and the last-known-good file
 *   handles.c  interned shard names, slots, handles, the route calls
 *   beyond.c   fences and quarantine policy, invariants, shadow evaluation
 *
 * Readers and writers share exactly one mutable word per router:
 * r->current, the table in service, published by publish.c and read
 * inside an epoch section by handles.c; struct router (live.h) says who
 * may touch each of its fields.
 *
 * Events (issue 15).  The callback runs outside r->lock, so that it can
 * read the router (stats, history, handles...).  A writer records its
 * events, with copies of their error text, in an ev_batch on its own stack
 * (r->evb points at it while the writer holds r->lock; at most
 * EVENTS_MAX per call) and defers freeing the diff and shadow verdict the
 * events point to.  Before releasing r->lock it takes a ticket
 * (r->ev_next++) and waits on r->ev_cond until r->ev_done reaches it; then
 * it releases the lock, calls the callback for each of its events, and
 * takes the lock again to advance ev_done and wake the next writer.  So
 * events are delivered on the thread that caused them (the bindings rely
 * on that: they capture into thread-local memory), before its call
 * returns (the diff handed to the caller is still the caller's), in the
 * order of the changes (tickets are taken in lock order), and never two at
 * once.  Calls that would wait for a ticket or destroy the router return
 * ROUTER_ECALLBACK from a callback (tls_cb says the thread is in one).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ck_epoch.h>
#include <ck_pr.h>

#include "live.h"

/* The event deliveries this thread is in, innermost first (frames live on
 * the stack of router__writer_unlock).  Non-NULL: the thread is in an
 * event callback. */
typedef struct cb_frame {
	const struct router *r;
	const struct cb_frame *up;
} cb_frame;
static __thread const cb_frame *tls_cb
    __attribute__((tls_model("initial-exec")));

static int delivering(const struct router *r)
{
	const cb_frame *f;

	for (f = tls_cb; f != NULL; f = f->up)
		if (f->r == r)
			return 1;
	return 0;
}

void router__events_forget(router *r)
{
	/* Tickets of writers that do not exist here will never be
	 * delivered: forget them, keeping only a delivery this thread is in
	 * (a fork from the callback), which is the oldest outstanding one.
	 * Their waiters are gone too: the condition is made anew. */
	r->ev_next = r->ev_done + (delivering(r) ? 1 : 0);
	pthread_cond_init(&r->ev_cond, NULL);
}

/* The caller's options (NULL: the defaults) into *o, checked.  ROUTER_OK
 * or ROUTER_EINVAL. */
static int options_read(const router_options *opt, router_options *o,
                        router_error *err)
{
	if (opt != NULL) {
		if (opt->size < sizeof(size_t) || opt->size > sizeof *o)
			return router__seterr(err, ROUTER_EINVAL, NULL,
			                      "router_options.size is %zu; set "
			                      "it to sizeof(router_options) or "
			                      "use ROUTER_OPTIONS_INIT",
			                      opt->size);
		memcpy(o, opt, opt->size);
	}
	if (o->fence_cap > 65536)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "fence_cap is %u; it must be 0 to 65536",
		                      o->fence_cap);
	if (o->history < 1 || o->history > 1024)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "history is %u; it must be 1 to 1024",
		                      o->history);
	if (!(o->max_shrink >= 0.0 && o->max_shrink <= 1.0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "max_shrink is %g; it must be in [0, 1]",
		                      o->max_shrink);
	if (o->allocator != NULL &&
	    (o->allocator->malloc == NULL || o->allocator->realloc == NULL ||
	     o->allocator->free == NULL))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "allocator must set malloc, realloc and "
		                      "free");
	return ROUTER_OK;
}

/* Fill the zeroed r from o: its settings, and its history, fence list
 * and snapshot path allocated with a.  0, or -1 out of memory (what was
 * allocated is freed by router_unmake). */
static int router_fill(router *r, const router_allocator *a,
                       const router_options *o)
{
	r->alloc = *a;
	r->allocator_opt = o->allocator;
	r->hist_cap = o->history;
	r->max_shrink = o->max_shrink;
	r->on_event = o->on_event;
	r->on_event_arg = o->on_event_arg;
	r->hist = router__malloc(a, o->history * sizeof *r->hist);
	if (r->hist == NULL)
		return -1;
	r->free_id = NO_ID;
	r->shadow_max_moved = 1.0;
	r->shadow_max_unroutable = 0.0;
	r->fence_cap = o->fence_cap;
	if (o->fence_cap > 0) {
		r->fences = router__malloc(a, o->fence_cap * sizeof *r->fences);
		if (r->fences == NULL)
			return -1;
	}
	if (o->snapshot_path != NULL) {
		r->snapshot_path = router__strndup(a, o->snapshot_path,
		                                   strlen(o->snapshot_path));
		if (r->snapshot_path == NULL)
			return -1;
	}
	return 0;
}

/* Free a router that router_create could not finish (never shared). */
static void router_unmake(router *r, const router_allocator *a)
{
	router__free(a, r->fences);
	router__free(a, r->snapshot_path);
	router__free(a, r->hist);
	router__free(a, r);
}

int router_create(router **out, const router_options *opt, router_error *err)
{
	router_options o = ROUTER_OPTIONS_INIT;
	const router_allocator *a;
	router *r;
	int rc;

	if (out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_create: out is NULL");
	*out = NULL;
	if ((rc = options_read(opt, &o, err)) != ROUTER_OK)
		return rc;
	a = router__allocator(o.allocator);
	router__epoch_init();
	r = router__malloc(a, sizeof *r);
	if (r == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL,
		                      "out of memory creating a router");
	memset(r, 0, sizeof *r);
	if (router_fill(r, a, &o) != 0)
		goto oom;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->ev_cond, NULL);
	/* Initialized before the fork handlers can see it (they lock it). */
	if (router__routers_add(r) != 0) {
		pthread_cond_destroy(&r->ev_cond);
		pthread_mutex_destroy(&r->lock);
		goto oom;
	}
	*out = r;
	router__clearerr(err);
	return ROUTER_OK;
oom:
	router_unmake(r, a);
	return router__seterr(err, ROUTER_ENOMEM, NULL,
	                      "out of memory creating a router");
}

int router_options_get(const router *r, router_options *out,
                       router_error *err)
{
	router_options o = ROUTER_OPTIONS_INIT;
	size_t size;

	if (r == NULL || out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_options_get: NULL router or out");
	size = out->size;
	/* The sizes router_create accepts, but at least the 0.1 fields: a
	 * caller's struct always has them. */
	if (size < offsetof(router_options, snapshot_path) || size > sizeof o)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_options.size is %zu; set it to "
		                      "sizeof(router_options)",
		                      size);
	o.history = r->hist_cap;
	o.max_shrink = r->max_shrink;
	o.allocator = r->allocator_opt;
	o.on_event = r->on_event;
	o.on_event_arg = r->on_event_arg;
	o.snapshot_path = r->snapshot_path;
	o.fence_cap = r->fence_cap;
	memcpy(out, &o, size);
	out->size = size;
	router__clearerr(err);
	return ROUTER_OK;
}

void router_free(router *r)
{
	router_allocator a;
	size_t i;

	if (r == NULL)
		return;
	/* Freeing the router whose event this thread is delivering would
	 * pull it from under the delivery: refused (the contract says so;
	 * there is no status to return). */
	if (delivering(r))
		return;
	router__routers_remove(r);
	pthread_mutex_lock(&r->lock);
	if (r->pending != NULL) {
		router__table_destroy(r->pending);
		r->pending = NULL;
	}
	publish_ptr(&r->current, NULL);
	for (i = 0; i < r->nhist; i++)
		router__retire(r, r->hist[i].t);
	r->nhist = 0;
	router__epoch_barrier(r);
	/* No batch runs now (the contract): every pinned table is back. */
	router__dead_drain(r);
	pthread_mutex_unlock(&r->lock);
	router__record_put(r);
	a = r->alloc;
	router__handles_free(r);
	router__free(&a, r->hist);
	router__free(&a, r->snapshot_path);
	router__free(&a, r->fences);
	router__free(&a, r->sample);
	for (i = 0; i < r->ninv; i++)
		router__invariant_free(r->inv[i], &a);
	router__free(&a, r->inv);
	pthread_cond_destroy(&r->ev_cond);
	pthread_mutex_destroy(&r->lock);
	router__free(&a, r);
}

/* ---- events ---------------------------------------------------------------- */

void router__emit_shadow(router *r, router_event_kind kind, int code,
                         uint64_t from, uint64_t to, uint64_t hash,
                         const router_error *e, const router_diff *d,
                         const router_shadow_verdict *sv)
{
	ev_batch *b = r->evb;
	ev_slot *s;

	/* Every caller holds the lock through router__writer_lock (b set) and
	 * makes fewer than EVENTS_MAX events. */
	if (r->on_event == NULL || b == NULL || b->n == EVENTS_MAX)
		return;
	s = &b->ev[b->n++];
	s->ev.kind = kind;
	s->ev.code = code;
	s->ev.version_from = from;
	s->ev.version_to = to;
	s->ev.hash_to = hash;
	s->ev.error = NULL;
	if (code != ROUTER_OK) {
		if (e != NULL)
			s->err = *e;
		else
			router__seterr(&s->err, code, NULL, "%s",
			               router_strerror(code));
		s->ev.error = &s->err;
	}
	s->ev.diff = d;
	s->ev.shadow = sv;
}

/* Take the writer lock for a call that may make events (into b). */
void router__writer_lock(router *r, ev_batch *b)
{
	b->n = 0;
	b->diff = NULL;
	b->shadow = NULL;
	pthread_mutex_lock(&r->lock);
	r->evb = b;
}

/* Release it, then deliver b's events in turn (see "Events" above) and
 * free what they pointed to. */
void router__writer_unlock(router *r, ev_batch *b)
{
	cb_frame f;
	unsigned i;

	r->evb = NULL;
	if (b->n == 0) {
		pthread_mutex_unlock(&r->lock);
		goto out;
	}
	b->ticket = r->ev_next++;
	while (r->ev_done != b->ticket)
		pthread_cond_wait(&r->ev_cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	f.r = r;
	f.up = tls_cb;
	tls_cb = &f;
	for (i = 0; i < b->n; i++)
		r->on_event(r->on_event_arg, &b->ev[i].ev);
	tls_cb = f.up;
	pthread_mutex_lock(&r->lock);
	r->ev_done++;
	pthread_cond_broadcast(&r->ev_cond);
	pthread_mutex_unlock(&r->lock);
out:
	router_diff_free(b->diff);
	router_shadow_free(b->shadow);
}

/* ROUTER_ECALLBACK when the calling thread is in an event callback: fn
 * would wait for the delivery it is part of. */
int router__from_callback(const char *fn, router_error *err)
{
	if (ROUTER__LIKELY(tls_cb == NULL))
		return ROUTER_OK;
	return router__seterr(err, ROUTER_ECALLBACK, NULL,
	                      "%s called from a router's event callback, "
	                      "where it would wait for the delivery in "
	                      "progress; call it after the callback returns",
	                      fn);
}

void router__emit(router *r, router_event_kind kind, int code, uint64_t from,
                  uint64_t to, uint64_t hash, const router_error *e,
                  const router_diff *d)
{
	router__emit_shadow(r, kind, code, from, to, hash, e, d, NULL);
}

void router__stats_read(router *r, router_stats *out, uint64_t *by_code)
{
	pthread_mutex_lock(&r->lock);
	*out = r->st;
	memcpy(by_code, r->refused_by_code, sizeof r->refused_by_code);
	out->version = r->current ? r->current->version : 0;
	out->content_hash = r->current ? r->current->hash : 0;
	out->history_len = r->nhist;
	out->shard_names = r->nnames;
	out->fences = r->nfences;
	out->invariants = r->ninv;
	pthread_mutex_unlock(&r->lock);
}

uint64_t router_serving_version(router *r)
{
	return r ? ck_pr_load_64(&r->version) : 0;
}

uint64_t router_content_hash(router *r)
{
	return r ? ck_pr_load_64(&r->hash) : 0;
}

int router_inspect(router *r, int (*fn)(void *arg, const router_table *t),
                   void *arg)
{
	int rc;

	if (r == NULL || fn == NULL)
		return ROUTER_EINVAL;
	pthread_mutex_lock(&r->lock);
	rc = fn(arg, r->current);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

