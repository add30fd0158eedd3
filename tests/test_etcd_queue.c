/* The follower's event queue (router_etcd_queue_*, router_etcd.h):
 * bounded, newest kept, copies owned by the queue, sessions ended by
 * close, several producers at once (run under TSan by make test-tsan).
 * No etcd: events are pushed as the watcher would push them. */
#include "testutil.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "router_etcd.h"

static router_etcd_queue *new_queue(size_t cap)
{
	router_etcd_queue *q = NULL;
	router_error err;

	assert_int_equal(router_etcd_queue_create(&q, cap, &err), ROUTER_OK);
	assert_non_null(q);
	return q;
}

static void push_rev(router_etcd_queue *q, int64_t rev)
{
	router_etcd_event ev = {ROUTER_ETCD_EVENT_VERDICT, ROUTER_OK, rev,
	                        (uint64_t)rev, 7, NULL, 0};

	router_etcd_queue_push(q, &ev);
}

static int pop(router_etcd_queue *q, uint64_t s, int ms,
               router_etcd_event_copy *c)
{
	return router_etcd_queue_pop(q, s, NULL, ms, c, sizeof *c);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void create_refuses_bad_capacity(void **state)
{
	router_etcd_queue *q = (router_etcd_queue *)1;
	router_error err;

	(void)state;
	assert_int_equal(router_etcd_queue_create(&q, 0, &err), ROUTER_EINVAL);
	assert_null(q);
	assert_string_equal(err.culprit, "capacity");
	assert_int_equal(router_etcd_queue_create(NULL, 4, &err),
	                 ROUTER_EINVAL);
	router_etcd_queue_free(NULL);
}

static void overflow_keeps_newest_and_counts_dropped(void **state)
{
	router_etcd_queue *q = new_queue(4);
	router_etcd_event_copy c;
	uint64_t s = router_etcd_queue_session(q);

	(void)state;
	for (int64_t r = 1; r <= 10; r++)
		push_rev(q, r);
	assert_int_equal(router_etcd_queue_dropped(q), 6);
	for (int64_t r = 7; r <= 10; r++) {
		assert_int_equal(pop(q, s, 0, &c), ROUTER_OK);
		assert_int_equal(c.revision, r);
		assert_int_equal(c.version, (uint64_t)r);
		assert_int_equal(c.has_error, 0);
	}
	assert_int_equal(pop(q, s, 0, &c), ROUTER_ERANGE);
	router_etcd_queue_free(q);
}

static void pop_times_out_on_an_empty_queue(void **state)
{
	router_etcd_queue *q = new_queue(4);
	router_etcd_event_copy c;
	double t0 = now_ms();

	(void)state;
	assert_int_equal(pop(q, router_etcd_queue_session(q), 50, &c),
	                 ROUTER_ERANGE);
	assert_true(now_ms() - t0 >= 45);
	assert_int_equal(router_etcd_queue_pop(q, 0, NULL, -2, &c, sizeof c),
	                 ROUTER_EINVAL);
	assert_int_equal(router_etcd_queue_pop(q, 0, NULL, 0, NULL, sizeof c),
	                 ROUTER_EINVAL);
	router_etcd_queue_free(q);
}

static void copy_survives_the_source_event(void **state)
{
	router_etcd_queue *q = new_queue(4);
	router_etcd_event_copy c;
	router_error *e = calloc(1, sizeof *e);
	router_etcd_event *ev = calloc(1, sizeof *ev);
	unsigned char big[sizeof c + 16];

	(void)state;
	e->code = ROUTER_EDOC;
	snprintf(e->message, sizeof e->message, "bad document");
	snprintf(e->culprit, sizeof e->culprit, "/routing");
	ev->kind = ROUTER_ETCD_EVENT_DISCONNECTED;
	ev->code = ROUTER_EDOC;
	ev->revision = 42;
	ev->retry_ms = 250;
	ev->error = e;
	router_etcd_queue_push(q, ev);
	router_etcd_queue_push(q, ev);
	memset(e, 0x5a, sizeof *e);
	free(e);
	free(ev);
	assert_int_equal(pop(q, 0, 0, &c), ROUTER_OK);
	assert_int_equal(c.kind, ROUTER_ETCD_EVENT_DISCONNECTED);
	assert_int_equal(c.code, ROUTER_EDOC);
	assert_int_equal(c.revision, 42);
	assert_int_equal(c.retry_ms, 250);
	assert_int_equal(c.has_error, 1);
	assert_int_equal(c.err.code, ROUTER_EDOC);
	assert_string_equal(c.err.message, "bad document");
	assert_string_equal(c.err.culprit, "/routing");
	/* A reader whose struct is larger: the tail is zeroed. */
	memset(big, 0xff, sizeof big);
	assert_int_equal(router_etcd_queue_pop(q, 0, NULL, 0,
	                                       (router_etcd_event_copy *)big,
	                                       sizeof big),
	                 ROUTER_OK);
	for (size_t i = sizeof c; i < sizeof big; i++)
		assert_int_equal(big[i], 0);
	router_etcd_queue_free(q);
}

typedef struct {
	router_etcd_queue *q;
	uint64_t session;
	int cancel;
	int rc;
	int n;
} waiter;

static void *wait_all(void *p)
{
	waiter *w = p;
	router_etcd_event_copy c;

	while ((w->rc = router_etcd_queue_pop(w->q, w->session, &w->cancel,
	                                      -1, &c, sizeof c)) == ROUTER_OK)
		w->n++;
	return NULL;
}

static void close_wakes_a_blocked_pop_after_it_drained(void **state)
{
	router_etcd_queue *q = new_queue(8);
	waiter w = {q, 0, 0, 0, 0};
	router_etcd_event_copy c;
	uint64_t s2;
	pthread_t th;

	(void)state;
	w.session = router_etcd_queue_session(q);
	push_rev(q, 1);
	push_rev(q, 2);
	assert_int_equal(pthread_create(&th, NULL, wait_all, &w), 0);
	usleep(50 * 1000); /* let it block on the empty queue */
	push_rev(q, 3);
	router_etcd_queue_close(q);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.rc, ROUTER_ESTATE);
	/* The close may come before it took 3: it still takes every event
	 * queued before it saw the close empty. */
	assert_int_equal(w.n, 3);
	/* The next session goes on with the same queue. */
	s2 = router_etcd_queue_session(q);
	assert_int_not_equal(s2, w.session);
	push_rev(q, 4);
	assert_int_equal(pop(q, s2, 0, &c), ROUTER_OK);
	assert_int_equal(c.revision, 4);
	assert_int_equal(pop(q, s2, 0, &c), ROUTER_ERANGE);
	assert_int_equal(pop(q, w.session, -1, &c), ROUTER_ESTATE);
	router_etcd_queue_free(q);
}

static void cancel_ends_a_blocked_pop(void **state)
{
	router_etcd_queue *q = new_queue(8);
	waiter w = {q, 0, 0, 0, 0};
	pthread_t th;

	(void)state;
	assert_int_equal(pthread_create(&th, NULL, wait_all, &w), 0);
	usleep(20 * 1000);
	router_etcd_queue_cancel(q, &w.cancel);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.rc, ROUTER_ERANGE);
	assert_int_equal(w.n, 0);
	router_etcd_queue_free(q);
}

#define PRODUCERS 4
#define PER_PRODUCER 5000

static void *produce(void *p)
{
	router_etcd_queue *q = p;
	router_error e;

	memset(&e, 0, sizeof e);
	e.code = ROUTER_EIO;
	snprintf(e.message, sizeof e.message, "etcd down");
	for (int i = 0; i < PER_PRODUCER; i++) {
		router_etcd_event ev = {ROUTER_ETCD_EVENT_DISCONNECTED,
		                        ROUTER_EIO, i, 0, 0, &e, 1};

		router_etcd_queue_push(q, &ev);
	}
	router_etcd_queue_free(q);
	return NULL;
}

static void producers_and_consumer_agree_on_counts(void **state)
{
	router_etcd_queue *q = new_queue(64);
	waiter w = {q, 0, 0, 0, 0};
	pthread_t prod[PRODUCERS], cons;

	(void)state;
	w.session = router_etcd_queue_session(q);
	assert_int_equal(pthread_create(&cons, NULL, wait_all, &w), 0);
	for (int i = 0; i < PRODUCERS; i++)
		assert_int_equal(pthread_create(&prod[i], NULL, produce,
		                                router_etcd_queue_ref(q)),
		                 0);
	for (int i = 0; i < PRODUCERS; i++)
		assert_int_equal(pthread_join(prod[i], NULL), 0);
	router_etcd_queue_close(q);
	assert_int_equal(pthread_join(cons, NULL), 0);
	assert_int_equal(w.rc, ROUTER_ESTATE);
	assert_int_equal((uint64_t)w.n + router_etcd_queue_dropped(q),
	                 (uint64_t)PRODUCERS * PER_PRODUCER);
	router_etcd_queue_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(create_refuses_bad_capacity),
	    cmocka_unit_test(overflow_keeps_newest_and_counts_dropped),
	    cmocka_unit_test(pop_times_out_on_an_empty_queue),
	    cmocka_unit_test(copy_survives_the_source_event),
	    cmocka_unit_test(close_wakes_a_blocked_pop_after_it_drained),
	    cmocka_unit_test(cancel_ends_a_blocked_pop),
	    cmocka_unit_test(producers_and_consumer_agree_on_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
