/*
 * The follower's event queue (router_etcd_queue_*, router_etcd.h): a ring
 * of event copies under one mutex and one condition variable, so events
 * reported on the watcher thread are consumed on threads the application
 * chooses.
 *
 * Every field but refs is read and written under mu.  The ring keeps the
 * newest cap events: a push into a full ring advances head over the
 * oldest and counts it in dropped.  session is the number pops compare
 * theirs with: close increments it, so a pop of an ended session sees a
 * different number and returns ROUTER_ESTATE once the ring is empty; a
 * consumer started afterwards reads the new number and goes on.  Every
 * change a waiter may be waiting for (an event, a close, a cancel) is
 * followed by a broadcast under mu, and every waiter re-checks its
 * condition under mu before it sleeps, so no wake-up is lost.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/internal.h"
#include "router_etcd.h"

#define QUEUE_CAP_MAX 1048576

struct router_etcd_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC (pop's deadline) */
	router_etcd_event_copy *ring; /* cap slots */
	size_t cap, head, n;
	uint64_t dropped;
	uint64_t session;
	int refs; /* atomic: the creator's + router_etcd_queue_ref's */
};

int router_etcd_queue_create(router_etcd_queue **out, size_t capacity,
                             router_error *err)
{
	pthread_condattr_t ca;
	router_etcd_queue *q;

	router__clearerr(err);
	if (out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL, "NULL out");
	*out = NULL;
	if (capacity == 0 || capacity > QUEUE_CAP_MAX)
		return router__seterr(err, ROUTER_EINVAL, "capacity",
		                      "capacity %zu is not in 1 .. %d",
		                      capacity, QUEUE_CAP_MAX);
	q = calloc(1, sizeof *q);
	if (q != NULL)
		q->ring = calloc(capacity, sizeof *q->ring);
	if (q == NULL || q->ring == NULL) {
		free(q);
		return router__seterr(err, ROUTER_ENOMEM, "capacity",
		                      "no memory for %zu events", capacity);
	}
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	q->cap = capacity;
	q->refs = 1;
	*out = q;
	return ROUTER_OK;
}

router_etcd_queue *router_etcd_queue_ref(router_etcd_queue *q)
{
	/* relaxed would do for the increment itself (the caller already
	 * holds a reference); acq_rel keeps it symmetric with free's. */
	__atomic_add_fetch(&q->refs, 1, __ATOMIC_ACQ_REL);
	return q;
}

void router_etcd_queue_free(router_etcd_queue *q)
{
	if (q == NULL)
		return;
	/* acq_rel: the last owner sees every write the others made before
	 * they dropped theirs, before it frees. */
	if (__atomic_sub_fetch(&q->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q->ring);
	free(q);
}

void router_etcd_queue_push(void *arg, const router_etcd_event *ev)
{
	router_etcd_queue *q = arg;
	router_etcd_event_copy *e;

	if (q == NULL || ev == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	if (q->n == q->cap) {
		q->head = (q->head + 1) % q->cap;
		q->n--;
		q->dropped++;
	}
	e = &q->ring[(q->head + q->n) % q->cap];
	memset(e, 0, sizeof *e);
	e->kind = ev->kind;
	e->code = ev->code;
	e->revision = ev->revision;
	e->version = ev->version;
	e->content_hash = ev->content_hash;
	e->retry_ms = ev->retry_ms;
	if (ev->error != NULL) {
		e->err = *ev->error;
		e->has_error = 1;
	}
	q->n++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* *v, a field of q, read under q's mutex. */
static uint64_t read_locked(router_etcd_queue *q, const uint64_t *v)
{
	uint64_t x;

	pthread_mutex_lock(&q->mu);
	x = *v;
	pthread_mutex_unlock(&q->mu);
	return x;
}

uint64_t router_etcd_queue_session(router_etcd_queue *q)
{
	return read_locked(q, &q->session);
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int router_etcd_queue_pop(router_etcd_queue *q, uint64_t session,
                          const int *cancel, int timeout_ms,
                          router_etcd_event_copy *out, size_t size)
{
	struct timespec dl;
	int rc = ROUTER_OK;

	if (q == NULL || out == NULL || size == 0 || timeout_ms < -1)
		return ROUTER_EINVAL;
	if (timeout_ms > 0)
		deadline_in(&dl, timeout_ms);
	pthread_mutex_lock(&q->mu);
	while (q->n == 0 && q->session == session &&
	       (cancel == NULL || *cancel == 0)) {
		if (timeout_ms == 0) {
			rc = ROUTER_ERANGE;
			break;
		}
		if (timeout_ms < 0) {
			pthread_cond_wait(&q->cv, &q->mu);
		} else if (pthread_cond_timedwait(&q->cv, &q->mu, &dl) ==
		           ETIMEDOUT) {
			if (q->n == 0 && q->session == session)
				rc = ROUTER_ERANGE;
			break;
		}
	}
	if (rc == ROUTER_OK && q->n == 0)
		rc = q->session != session ? ROUTER_ESTATE : ROUTER_ERANGE;
	if (rc == ROUTER_OK) {
		const router_etcd_event_copy *e = &q->ring[q->head];

		if (size > sizeof *e) {
			memcpy(out, e, sizeof *e);
			memset((char *)out + sizeof *e, 0, size - sizeof *e);
		} else {
			memcpy(out, e, size);
		}
		q->head = (q->head + 1) % q->cap;
		q->n--;
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void router_etcd_queue_cancel(router_etcd_queue *q, int *cancel)
{
	pthread_mutex_lock(&q->mu);
	*cancel = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void router_etcd_queue_close(router_etcd_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->session++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

uint64_t router_etcd_queue_dropped(router_etcd_queue *q)
{
	return read_locked(q, &q->dropped);
}
