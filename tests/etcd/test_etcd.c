/*
 * Integration tests of the etcd follower (router_etcd.h) against a real
 * etcd (Debian's etcd-server) started by the harness for each test on
 * 127.0.0.1.  Every test is bounded (alarm); etcd dies with the process.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sys/stat.h>

#include "fake.h"
#include "harness.h"
#include "router.h"
#include "router_doc.h"
#include "router_etcd.h"
#include "testutil.h"
#include "fleet/vitess_read.h"

#define TEST_SECONDS 60
#define KEY "/librouter/test/vschema"
#define NFOLLOWERS 5

/* ---- documents ----------------------------------------------------------- */

/* A SrvVSchema: keyspace user sharded n ways, table users by hash(id);
 * version 0 leaves the follower to use the revision. */
static char *doc_sharded(unsigned n, uint64_t version)
{
	char *out = malloc(64 + 16 * n + 400), *p = out;
	char name[16];

	p += sprintf(p, "{");
	if (version)
		p += sprintf(p, "\"version\": %" PRIu64 ", ", version);
	p += sprintf(p, "\"keyspaces\": {\"user\": {\"sharded\": true, "
	                "\"vindexes\": {\"hash\": {\"type\": \"hash\"}}, "
	                "\"tables\": {\"users\": {\"column_vindexes\": "
	                "[{\"column\": \"id\", \"name\": \"hash\"}]}}, "
	                "\"shards\": [");
	for (unsigned i = 0; i < n; i++) {
		router_shard_range_name(i, n, name, sizeof name);
		p += sprintf(p, "%s\"%s\"", i ? ", " : "", name);
	}
	sprintf(p, "]}}}");
	return out;
}

/* The January 2026 shape: the keyspace's VSchema emptied. */
static const char EMPTY_VSCHEMA[] = "{\"keyspaces\": {\"user\": {}}}";

/* ---- etcd as a client ---------------------------------------------------- */

static router__etcd *client(const etcd_server *e)
{
	router__etcd *c;
	router_error err;

	if (router__etcd_open(&c, e->endpoint, 5000, &err) != ROUTER_OK)
		fail_msg("open %s: %s", e->endpoint, err.message);
	return c;
}

static int64_t put(router__etcd *c, const char *key, const char *val)
{
	int64_t rev = 0;
	router_error err;

	if (router__etcd_put(c, key, strlen(key), val, strlen(val), 0, &rev,
	                     &err) != ROUTER_OK)
		fail_msg("put %s: %s: %s", key, err.culprit, err.message);
	return rev;
}

static int64_t put_doc(router__etcd *c, unsigned shards, uint64_t version)
{
	char *d = doc_sharded(shards, version);
	int64_t rev = put(c, KEY, d);

	free(d);
	return rev;
}

/* The status keys under the default prefix, parsed. */
static json_t *fleet(router__etcd *c)
{
	router__etcd_kv *kvs;
	size_t n;
	router_error err;
	json_t *a = json_array();
	char prefix[128];

	router_etcd_default_status_prefix(KEY, prefix, sizeof prefix);
	if (router__etcd_get_prefix(c, prefix, &kvs, &n, NULL, &err) !=
	    ROUTER_OK)
		fail_msg("fleet: %s", err.message);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_loadb(kvs[i].value, kvs[i].value_len, 0, NULL);

		assert_non_null(o);
		json_array_append_new(a, o);
	}
	router__etcd_kvs_free(kvs, n);
	return a;
}

/* Wait (bounded) until every status key shows revision_seen >= rev and
 * there are n of them. */
static json_t *fleet_at(router__etcd *c, size_t n, int64_t rev)
{
	for (double t0 = eh_now(); eh_now() - t0 < 15; eh_sleep_ms(50)) {
		json_t *a = fleet(c), *o;
		size_t i, ok = 0;

		json_array_foreach(a, i, o)
		{
			ok += json_integer_value(json_object_get(
			          o, "revision_seen")) >= rev;
		}
		if (json_array_size(a) == n && ok == n)
			return a;
		json_decref(a);
	}
	fail_msg("the fleet's status keys did not reach revision %" PRId64,
	         rev);
	return NULL;
}

/* ---- followers ----------------------------------------------------------- */

#define MAXREC 64

typedef struct member {
	router *r;
	router_etcd *f;
	pthread_mutex_t mu;
	int64_t revs[MAXREC]; /* verdicts, in order */
	int codes[MAXREC];
	size_t nrec;
	int stale_events, compacted_events, snapshot_code;
	unsigned retry_ms[MAXREC]; /* DISCONNECTED events, in order */
	size_t nretry;
} member;

static void on_event(void *arg, const router_etcd_event *ev)
{
	member *m = arg;

	pthread_mutex_lock(&m->mu);
	if (ev->kind == ROUTER_ETCD_EVENT_VERDICT && m->nrec < MAXREC) {
		m->revs[m->nrec] = ev->revision;
		m->codes[m->nrec++] = ev->code;
	}
	m->stale_events += ev->kind == ROUTER_ETCD_EVENT_STALE;
	m->compacted_events += ev->kind == ROUTER_ETCD_EVENT_COMPACTED;
	if (ev->kind == ROUTER_ETCD_EVENT_SNAPSHOT)
		m->snapshot_code = ev->code;
	if (ev->kind == ROUTER_ETCD_EVENT_DISCONNECTED && m->nretry < MAXREC)
		m->retry_ms[m->nretry++] = ev->retry_ms;
	pthread_mutex_unlock(&m->mu);
}

/* Events arrive on the watcher thread: read what on_event counted under
 * the member's lock. */
static int compacted_events(member *m)
{
	int n;

	pthread_mutex_lock(&m->mu);
	n = m->compacted_events;
	pthread_mutex_unlock(&m->mu);
	return n;
}

/* Members live in a static pool, not on a test's stack: when an assertion
 * fails, cmocka leaves the test by longjmp, and teardown must still find
 * and stop every follower thread before its memory is reused. */
#define POOL 16
static member pool[POOL];
static int pool_used[POOL];
static unsigned g_publish_flags; /* for the members started next */

static unsigned g_timeout_ms = 2000; /* for the members started next */

static member *member_start_at(const char *endpoint, int i,
                               const char *snapshot)
{
	router_etcd_options o = ROUTER_ETCD_OPTIONS_INIT;
	router_error err;
	char id[32];
	member *m = NULL;

	for (int k = 0; k < POOL && m == NULL; k++)
		if (!pool_used[k]) {
			pool_used[k] = 1;
			m = &pool[k];
		}
	if (m == NULL) {
		fail_msg("more than %d members", POOL);
		return &pool[0]; /* not reached: fail_msg leaves the test */
	}
	memset(m, 0, sizeof *m);
	pthread_mutex_init(&m->mu, NULL);
	m->snapshot_code = 1;
	assert_int_equal(router_create(&m->r, NULL, &err), ROUTER_OK);
	snprintf(id, sizeof id, "member-%d", i);
	o.endpoints = endpoint;
	o.key = KEY;
	o.instance_id = id;
	o.lease_ttl_s = 5;
	o.backoff_min_ms = 50;
	o.backoff_max_ms = 400;
	o.request_timeout_ms = g_timeout_ms;
	o.snapshot_path = snapshot;
	o.publish_flags = g_publish_flags;
	o.on_event = on_event;
	o.on_event_arg = m;
	if (router_etcd_create(&m->f, m->r, &o, &err) != ROUTER_OK)
		fail_msg("create: %s: %s", err.culprit, err.message);
	assert_int_equal(router_etcd_start(m->f, &err), ROUTER_OK);
	return m;
}

static member *member_start(const etcd_server *e, int i, const char *snapshot)
{
	return member_start_at(e->endpoint, i, snapshot);
}

static void member_free(member *m)
{
	router_etcd_free(m->f);
	router_free(m->r);
	pthread_mutex_destroy(&m->mu);
	pool_used[m - pool] = 0;
}

static void members_free_all(void)
{
	for (int k = 0; k < POOL; k++)
		if (pool_used[k])
			member_free(&pool[k]);
}

static router_etcd_status wait_seen(member *m, int64_t rev)
{
	router_etcd_status s;

	if (router_etcd_wait(m->f, rev, 15000, &s) != ROUTER_OK)
		fail_msg("%s did not see revision %" PRId64 " (seen %" PRId64
		         ", state %s, last error %s: %s)",
		         router_etcd_instance_id(m->f), rev, s.revision_seen,
		         router_etcd_state_name(s.state), s.last_error.culprit,
		         s.last_error.message);
	return s;
}

/* Shard of users.id = id in m's router, "" when not routable. */
static const char *shard_of(member *m, int64_t id, uint64_t *version)
{
	router_value v = ROUTER_VALUE_INT64(id);
	router_route_result res;

	if (router_route(m->r, "user", 4, "users", 5, &v, 1, &res, NULL) !=
	    ROUTER_OK)
		return "";
	if (version)
		*version = res.version;
	return res.shard;
}

static int wait_state(member *m, router_etcd_state st, double seconds)
{
	router_etcd_status s;

	for (double t0 = eh_now(); eh_now() - t0 < seconds; eh_sleep_ms(20)) {
		router_etcd_get_status(m->f, &s);
		if (s.state == st)
			return 1;
	}
	return 0;
}

/* The fake etcd of the hostile-etcd tests: static, so that teardown
 * finds it after a failed assertion left the test by longjmp. */
static fake_etcd g_fake;
static int g_fake_on;

static int setup(void **state)
{
	etcd_server *e = calloc(1, sizeof *e);

	alarm(TEST_SECONDS);
	if (eh_start(e) != 0) {
		free(e);
		fprintf(stderr, "cannot start /usr/bin/etcd (etcd-server)\n");
		return -1;
	}
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	etcd_server *e = *state;

	members_free_all();
	if (g_fake_on) {
		fake_stop(&g_fake);
		g_fake_on = 0;
	}
	g_publish_flags = 0;
	g_timeout_ms = 2000;
	router__etcd_response_max = (size_t)64 << 20;
	router__etcd_watch_idle_ms = 60000;
	if (e != NULL) {
		if (getenv("ROUTER_ETCD_KEEP"))
			fprintf(stderr, "etcd dir: %s\n", e->dir);
		eh_stop(e);
		free(e);
	}
	alarm(0);
	return 0;
}

/* ---- tests --------------------------------------------------------------- */

static void followers_converge_on_every_revision(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m[NFOLLOWERS];
	int64_t rev;
	double t0, worst = 0;
	json_t *a, *o;
	size_t i;

	rev = put_doc(c, 2, 0);
	for (i = 0; i < NFOLLOWERS; i++)
		m[i] = member_start(e, (int)i, NULL);
	for (i = 0; i < NFOLLOWERS; i++) {
		router_etcd_status s = wait_seen(m[i], rev);
		uint64_t v = 0;

		assert_int_equal(s.revision_applied, rev);
		assert_int_equal(s.version, (uint64_t)rev);
		assert_string_equal(shard_of(m[i], 29999, &v), "80-");
		assert_int_equal(v, (uint64_t)rev);
	}
	/* The resharding 2 -> 4: time from the put's answer to every
	 * member having it in service.  A watch created at a revision etcd
	 * has already passed (each member's own first status write lands
	 * between its range and its watch) is "unsynced": etcd catches it
	 * up every 100 ms, and until then holds its events.  Time a warm
	 * fleet, as a resharding meets it, not that first tick. */
	eh_sleep_ms(250);
	rev = put_doc(c, 4, 0);
	t0 = eh_now();
	for (i = 0; i < NFOLLOWERS; i++) {
		router_etcd_status s = wait_seen(m[i], rev);
		double dt = eh_now() - t0;

		assert_int_equal(s.revision_applied, rev);
		assert_int_equal(s.accepted, 2);
		if (dt > worst)
			worst = dt;
	}
	for (i = 0; i < NFOLLOWERS; i++)
		assert_string_equal(shard_of(m[i], 29999, NULL), "c0-");
	printf("# %d followers converged on a 2 -> 4 resharding in %.1f ms "
	       "(put answered -> last member serving it)\n",
	       NFOLLOWERS, worst * 1000);
	/* One query shows the fleet. */
	a = fleet_at(c, NFOLLOWERS, rev);
	json_array_foreach(a, i, o)
	{
		assert_int_equal(json_integer_value(json_object_get(
		                     o, "revision_applied")),
		                 rev);
		assert_string_equal(
		    json_string_value(json_object_get(o, "state")),
		    "following");
		assert_true(json_is_null(json_object_get(o, "refusal")));
	}
	json_decref(a);
	/* A stopped member revokes its lease and leaves the table. */
	router_etcd_stop(m[0]->f);
	a = fleet(c);
	assert_int_equal(json_array_size(a), NFOLLOWERS - 1);
	json_decref(a);
	for (i = 0; i < NFOLLOWERS; i++)
		member_free(m[i]);
	router__etcd_close(c);
}

static void refusals_are_reported_in_status_keys(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m[3];
	int64_t good, bad, broken, fixed;
	json_t *a, *o;
	size_t i;

	good = put_doc(c, 2, 0);
	for (i = 0; i < 3; i++)
		m[i] = member_start(e, (int)i, NULL);
	for (i = 0; i < 3; i++)
		wait_seen(m[i], good);
	bad = put(c, KEY, EMPTY_VSCHEMA);
	for (i = 0; i < 3; i++) {
		router_etcd_status s = wait_seen(m[i], bad);

		assert_int_equal(s.revision_applied, good);
		assert_int_equal(s.revision_refused, bad);
		assert_int_equal(s.refusal.code, ROUTER_EEMPTY);
		assert_int_equal(s.version, (uint64_t)good);
		assert_string_equal(shard_of(m[i], 29999, NULL), "80-");
	}
	a = fleet_at(c, 3, bad);
	json_array_foreach(a, i, o)
	{
		json_t *ref = json_object_get(o, "refusal");

		assert_int_equal(
		    json_integer_value(json_object_get(ref, "revision")), bad);
		assert_string_equal(
		    json_string_value(json_object_get(ref, "code")),
		    "ROUTER_EEMPTY");
		assert_true(strlen(json_string_value(
		                json_object_get(ref, "message"))) > 0);
		assert_int_equal(json_integer_value(json_object_get(
		                     o, "revision_applied")),
		                 good);
	}
	json_decref(a);
	/* Not JSON at all: refused with the syntax error's place. */
	broken = put(c, KEY, "{\"keyspaces\": {\"user\": ");
	for (i = 0; i < 3; i++) {
		router_etcd_status s = wait_seen(m[i], broken);

		assert_int_equal(s.refusal.code, ROUTER_EDOC);
		assert_string_equal(shard_of(m[i], 29999, NULL), "80-");
	}
	/* A stale document version (below the one in service). */
	{
		int64_t old = put_doc(c, 4, 1);

		for (i = 0; i < 3; i++) {
			router_etcd_status s = wait_seen(m[i], old);

			assert_int_equal(s.refusal.code, ROUTER_EVERSION);
			assert_int_equal(s.revision_applied, good);
		}
	}
	fixed = put_doc(c, 4, 0);
	for (i = 0; i < 3; i++) {
		router_etcd_status s = wait_seen(m[i], fixed);

		assert_int_equal(s.revision_applied, fixed);
		assert_int_equal(s.refused, 3);
		assert_string_equal(shard_of(m[i], 29999, NULL), "c0-");
	}
	for (i = 0; i < 3; i++)
		member_free(m[i]);
	router__etcd_close(c);
}

/* A follower that publishes with ROUTER_PUBLISH_QUARANTINE keeps the
 * empty VSchema pending for an operator (the router owns it), routes on,
 * and drops it when the next good revision is accepted. */
static void a_quarantining_follower_keeps_the_bad_revision_pending(
    void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m;
	int64_t good, bad, next;
	router_etcd_status s;
	router_pending_info pi;
	router_error err;
	char snap[300];
	struct stat before, after;

	snprintf(snap, sizeof snap, "%s/quarantine.snapshot", e->dir);
	good = put_doc(c, 2, 0);
	g_publish_flags = ROUTER_PUBLISH_QUARANTINE;
	m = member_start(e, 0, snap);
	wait_seen(m, good);
	assert_int_equal(stat(snap, &before), 0);
	bad = put(c, KEY, EMPTY_VSCHEMA);
	s = wait_seen(m, bad);
	assert_int_equal(s.refusal.code, ROUTER_EQUARANTINED);
	/* The table in service did not change, so neither did its snapshot
	 * (a save renames a new file into place: a new inode). */
	assert_int_equal(stat(snap, &after), 0);
	assert_true(after.st_ino == before.st_ino);
	assert_int_equal(s.revision_applied, good);
	assert_int_equal(router_pending(m->r, &pi, NULL, &err), ROUTER_OK);
	assert_int_equal(pi.reason.code, ROUTER_EEMPTY);
	assert_string_equal(shard_of(m, 29999, NULL), "80-");
	next = put_doc(c, 4, 0);
	s = wait_seen(m, next);
	assert_int_equal(s.revision_applied, next);
	assert_int_equal(router_pending(m->r, &pi, NULL, &err),
	                 ROUTER_ENOTFOUND);
	member_free(m);
	router__etcd_close(c);
}

/* Every revision handled exactly once and in order. */
static void assert_verdicts(member *m, const int64_t *revs, size_t n)
{
	int64_t got[MAXREC];
	int codes[MAXREC];
	size_t k;

	pthread_mutex_lock(&m->mu);
	k = m->nrec;
	memcpy(got, m->revs, sizeof got);
	memcpy(codes, m->codes, sizeof codes);
	pthread_mutex_unlock(&m->mu);
	if (k != n) {
		for (size_t i = 0; i < k; i++)
			fprintf(stderr, "verdict %zu: revision %" PRId64 " %s\n",
			        i, got[i], router_errname(codes[i]));
		fail_msg("%zu verdicts, expected %zu", k, n);
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], revs[i]);
}

static void watch_resumes_after_etcd_restart(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m;
	int64_t revs[8];
	size_t n = 0;
	router_etcd_status s;
	uint64_t v;

	revs[n++] = put_doc(c, 2, 0);
	m = member_start(e, 0, NULL);
	wait_seen(m, revs[0]);
	eh_kill(e);
	assert_true(wait_state(m, ROUTER_ETCD_RETRYING, 10));
	/* Routing goes on while etcd is away. */
	assert_string_equal(shard_of(m, 29999, &v), "80-");
	assert_int_equal(v, (uint64_t)revs[0]);
	assert_int_equal(eh_restart(e), 0);
	/* Three revisions, likely before the follower is back: it must
	 * get each one once, in order. */
	router__etcd_close(c);
	c = client(e);
	revs[n++] = put_doc(c, 4, 0);
	revs[n++] = put_doc(c, 8, 0);
	revs[n++] = put_doc(c, 16, 0);
	s = wait_seen(m, revs[n - 1]);
	assert_int_equal(s.revision_applied, revs[n - 1]);
	assert_true(s.reconnects >= 1);
	assert_verdicts(m, revs, n);
	/* Stopped and started again: resumes from the last revision seen. */
	router_etcd_stop(m->f);
	revs[n++] = put_doc(c, 32, 0);
	revs[n++] = put_doc(c, 64, 0);
	assert_int_equal(router_etcd_start(m->f, NULL), ROUTER_OK);
	s = wait_seen(m, revs[n - 1]);
	assert_int_equal(s.accepted, n);
	assert_verdicts(m, revs, n);
	assert_string_equal(shard_of(m, 29999, NULL), "fc-");
	member_free(m);
	router__etcd_close(c);
}

/* A fleet that lost etcd together must not retry in lockstep: backoffs
 * double from the minimum (50 ms here) to the cap (400 ms) with jitter,
 * and at the cap they stay spread below it rather than clipped to it. */
static void retries_back_off_with_jitter_below_the_cap(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m;
	size_t n;
	unsigned got[MAXREC];
	int64_t rev = put_doc(c, 2, 0);

	m = member_start(e, 0, NULL);
	wait_seen(m, rev);
	router__etcd_close(c);
	eh_kill(e);
	assert_true(wait_state(m, ROUTER_ETCD_RETRYING, 10));
	sleep(3);
	pthread_mutex_lock(&m->mu);
	n = m->nretry;
	memcpy(got, m->retry_ms, sizeof got);
	pthread_mutex_unlock(&m->mu);
	member_free(m);
	assert_int_equal(eh_restart(e), 0);
	/* 50+100+200 ms, then ~350 ms each: 8 or more in 3 s. */
	assert_true(n >= 6);
	for (size_t i = 0; i < n; i++) {
		assert_true(got[i] >= 50 - 50 / 4 && got[i] <= 400);
		if (i >= 4)
			assert_true(got[i] >= 400 - 400 / 4);
	}
	assert_true(got[0] <= 50 - 50 / 4 + 50 / 2);
	/* The spread at the cap is checked draw by draw below. */
}

/* The backoff itself, over many draws: doubling from the minimum, +-25%
 * below the cap, and at the cap spread over -25%..0 (a clip to exactly
 * the cap would put half the fleet's retries on the same millisecond). */
static void backoff_doubles_to_the_cap_and_stays_spread_there(void **state)
{
	uint64_t rnd = 0x9e3779b97f4a7c15u;
	size_t at_cap = 0, exactly = 0;
	unsigned lo = 1000, hi = 0;

	(void)state;
	for (int run = 0; run < 1000; run++) {
		unsigned cur = 50, base, ms;

		for (int i = 0; i < 10; i++) {
			base = cur;
			ms = router__etcd_backoff_next(400, &rnd, &cur);
			assert_true(ms <= 400);
			assert_true(ms >= base - base / 4);
			assert_true(ms <= base - base / 4 + base / 2);
			assert_int_equal(cur, base * 2 > 400 ? 400 : base * 2);
			if (base == 400) {
				at_cap++;
				exactly += ms == 400;
				lo = ms < lo ? ms : lo;
				hi = ms > hi ? ms : hi;
			}
		}
	}
	assert_int_equal(at_cap, 1000 * 7);
	/* Uniform over 300..400: ~1% at 400, the whole range used. */
	assert_true(exactly < at_cap / 20);
	assert_true(lo <= 305 && hi >= 395);
}

static void watch_resumes_after_compaction(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m;
	int64_t revs[8], r2, r3;
	size_t n = 0;
	router_etcd_status s;
	router_error err;

	revs[n++] = put_doc(c, 2, 0);
	m = member_start(e, 0, NULL);
	wait_seen(m, revs[0]);
	router_etcd_stop(m->f);
	/* While it is away: two revisions, then history compacted past
	 * them (the watch cannot resume from the revision it needs). */
	r2 = put_doc(c, 4, 0);
	r3 = put_doc(c, 8, 0);
	(void)r2;
	put(c, "/librouter/test/other", "x");
	assert_int_equal(router__etcd_compact(c, r3 + 1, &err), ROUTER_OK);
	assert_int_equal(router_etcd_start(m->f, NULL), ROUTER_OK);
	/* r2 is gone from etcd for good; r3, the current value, is read
	 * instead, once. */
	revs[n++] = r3;
	s = wait_seen(m, r3);
	assert_int_equal(s.compactions, 1);
	assert_int_equal(s.revision_applied, r3);
	assert_string_equal(shard_of(m, 29999, NULL), "e0-");
	revs[n++] = put_doc(c, 16, 0);
	s = wait_seen(m, revs[n - 1]);
	assert_int_equal(s.revision_applied, revs[n - 1]);
	assert_verdicts(m, revs, n);
	assert_int_equal(compacted_events(m), 1);
	member_free(m);
	router__etcd_close(c);
}

/* A follower that comes back after several large revisions gets them from
 * etcd in one watch message.  When that message is beyond what the client
 * buffers, watching again from the same revision would fail forever: the
 * follower must read the current value instead and go on watching. */
static void catch_up_larger_than_the_buffer_reads_the_current_value(
    void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m;
	int64_t revs[8];
	size_t n = 0;
	router_etcd_status s;
	char *d = doc_sharded(128, 0);

	/* One 128-shard document is ~1.5 KB, ~2 KB in base64: under the
	 * limit alone, three of them in one message are not. */
	assert_true(strlen(d) * 4 / 3 + 512 < 4096);
	free(d);
	router__etcd_response_max = 4096;
	revs[n++] = put_doc(c, 2, 0);
	m = member_start(e, 0, NULL);
	wait_seen(m, revs[0]);
	router_etcd_stop(m->f);
	put_doc(c, 128, 0);
	put_doc(c, 64, 0);
	revs[n++] = put_doc(c, 128, 0);
	assert_int_equal(router_etcd_start(m->f, NULL), ROUTER_OK);
	s = wait_seen(m, revs[n - 1]);
	assert_int_equal(s.revision_applied, revs[n - 1]);
	assert_int_equal(s.last_error.code, ROUTER_ERANGE);
	assert_non_null(strstr(s.last_error.message, "watch message"));
	assert_string_equal(shard_of(m, 29999, NULL), "fc-fe");
	/* The skip is announced, not only recorded in the status. */
	assert_int_equal(compacted_events(m), 1);
	/* Then it follows again, revision by revision. */
	revs[n++] = put_doc(c, 4, 0);
	s = wait_seen(m, revs[n - 1]);
	assert_int_equal(s.revision_applied, revs[n - 1]);
	assert_verdicts(m, revs, n);
	member_free(m);
	router__etcd_close(c);
	router__etcd_response_max = (size_t)64 << 20;
}

static void stale_revisions_are_never_applied(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m;
	int64_t seen, rev = 0;
	router_etcd_status s;
	uint64_t v;

	for (int i = 0; i < 10; i++)
		put(c, "/librouter/test/filler", "x");
	seen = put_doc(c, 2, 0);
	m = member_start(e, 0, NULL);
	wait_seen(m, seen);
	/* etcd replaced by an empty one: its revisions start again at 1. */
	assert_int_equal(eh_restart_wiped(e), 0);
	router__etcd_close(c);
	c = client(e);
	rev = put_doc(c, 4, 0);
	assert_true(rev < seen);
	for (double t0 = eh_now(); eh_now() - t0 < 10; eh_sleep_ms(20)) {
		pthread_mutex_lock(&m->mu);
		int stale = m->stale_events;
		pthread_mutex_unlock(&m->mu);
		if (stale > 0)
			break;
	}
	router_etcd_get_status(m->f, &s);
	assert_true(s.stale >= 1);
	assert_non_null(strstr(s.last_error.message, "behind"));
	/* The older revision was not applied. */
	assert_int_equal(s.revision_applied, seen);
	assert_string_equal(shard_of(m, 29999, &v), "80-");
	assert_int_equal(v, (uint64_t)seen);
	/* Once etcd's revisions pass the follower's watch position (the
	 * last revision it read, status writes included), they apply. */
	for (int tries = 0; tries < 50; tries++) {
		rev = put_doc(c, 4, 0);
		if (rev <= seen)
			continue; /* not even delivered: the watch is past it */
		for (int k = 0; k < 10; k++) {
			router_etcd_get_status(m->f, &s);
			if (s.revision_applied == rev)
				break;
			eh_sleep_ms(10);
		}
		if (s.revision_applied == rev)
			break;
	}
	if (rev <= seen)
		fail_msg("revision %" PRId64 " applied at or below %" PRId64 " (applied %" PRId64 ", seen %" PRId64 ", stale %" PRIu64 ")", rev, seen, s.revision_applied, s.revision_seen, s.stale);
	assert_int_equal(s.revision_applied, rev);
	assert_string_equal(shard_of(m, 29999, NULL), "c0-");
	/* The status key is back under a new lease. */
	json_decref(fleet_at(c, 1, rev));
	member_free(m);
	router__etcd_close(c);
}

static void starts_from_snapshot_with_etcd_down(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m;
	char snap[300];
	int64_t rev, bad;
	router_etcd_status s;
	uint64_t v = 0;

	snprintf(snap, sizeof snap, "%s/lkg.snapshot", e->dir);
	rev = put_doc(c, 4, 0);
	m = member_start(e, 0, snap);
	wait_seen(m, rev);
	member_free(m);
	/* Process restart while etcd is down. */
	eh_kill(e);
	m = member_start(e, 0, snap);
	assert_int_equal(m->snapshot_code, ROUTER_OK);
	assert_string_equal(shard_of(m, 29999, &v), "c0-");
	assert_int_equal(v, (uint64_t)rev);
	assert_true(wait_state(m, ROUTER_ETCD_RETRYING, 10));
	router_etcd_get_status(m->f, &s);
	assert_int_equal(s.from_snapshot, 1);
	assert_int_equal(s.last_error.code, ROUTER_EIO);
	/* etcd comes back holding the very revision of the snapshot: it is
	 * already in service, neither published again nor refused. */
	assert_int_equal(eh_restart(e), 0);
	s = wait_seen(m, rev);
	assert_int_equal(s.revision_applied, rev);
	assert_int_equal(s.refused, 0);
	member_free(m);
	/* Restart while etcd holds a refused document: the snapshot serves,
	 * the refusal is reported. */
	router__etcd_close(c);
	c = client(e);
	bad = put(c, KEY, EMPTY_VSCHEMA);
	m = member_start(e, 1, snap);
	s = wait_seen(m, bad);
	assert_int_equal(s.refusal.code, ROUTER_EEMPTY);
	assert_int_equal(s.from_snapshot, 1);
	assert_string_equal(shard_of(m, 29999, &v), "c0-");
	assert_int_equal(v, (uint64_t)rev);
	member_free(m);
	router__etcd_close(c);
}

static void malformed_endpoints_are_refused_at_create(void **state)
{
	router_etcd_options o = ROUTER_ETCD_OPTIONS_INIT;
	router_etcd *f = NULL;
	router *r;
	router_error err;

	(void)state;
	assert_int_equal(router_create(&r, NULL, NULL), ROUTER_OK);
	o.key = KEY;
	o.endpoints = "127.0.0.1:2379";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_non_null(strstr(err.message, "not an http://"));
	o.endpoints = "http://127.0.0.1:1";
	o.lease_ttl_s = 1;
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_null(f);
	/* A TTL whose keep-alive period (ttl * 1000 / 3 ms) would overflow. */
	o.lease_ttl_s = 4300000;
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_non_null(strstr(err.message, "outside 2 .. 1000000"));
	assert_null(f);
	/* A cap whose jittered wait (1.25x) would wrap around. */
	o.lease_ttl_s = 10;
	o.backoff_max_ms = 4000000000u;
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "backoff");
	assert_non_null(strstr(err.message, "at most 3600000 ms"));
	assert_null(f);
	o.backoff_min_ms = 0;
	o.backoff_max_ms = 400;
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "backoff");
	router_free(r);
}

/* ---- hostile etcd (a fake gateway, tests/etcd/fake.h) -------------------- */

static int setup_fake(void **state)
{
	alarm(TEST_SECONDS);
	*state = NULL;
	return 0;
}

static void fake_on(fake_handler h, void *arg)
{
	if (fake_start(&g_fake, h, arg) != 0)
		fail_msg("cannot start the fake etcd");
	g_fake_on = 1;
}

/* start_revision of the watch request body (0: absent). */
static int64_t watch_start_of(const char *body)
{
	const char *s = strstr(body, "\"start_revision\":\"");

	return s ? strtoll(s + 18, NULL, 10) : 0;
}

/* A range answer: the key at revision mod (a document of n shards; NULL
 * doc: the key is absent), etcd at revision hdr. */
static void reply_range(int fd, const char *hdr, const char *mod,
                        unsigned shards)
{
	char *d = doc_sharded(shards, 0), *v = fake_b64(d), *k = fake_b64(KEY);
	char *body = malloc(strlen(v) + 512);

	sprintf(body,
	        "{\"header\":{\"revision\":\"%s\"},\"kvs\":[{\"key\":\"%s\","
	        "\"create_revision\":\"2\",\"mod_revision\":\"%s\","
	        "\"version\":\"1\",\"value\":\"%s\"}],\"count\":\"1\"}",
	        hdr, k, mod, v);
	fake_reply(fd, 200, body);
	free(body);
	free(d);
	free(v);
	free(k);
}

/* A watch message with one PUT event of a document of n shards. */
static void send_event(int fd, const char *mod, unsigned shards)
{
	char *d = doc_sharded(shards, 0), *v = fake_b64(d), *k = fake_b64(KEY);
	char *line = malloc(strlen(v) + 512);

	sprintf(line,
	        "{\"result\":{\"header\":{\"revision\":\"%s\"},\"events\":[{"
	        "\"kv\":{\"key\":\"%s\",\"create_revision\":\"2\","
	        "\"mod_revision\":\"%s\",\"version\":\"2\",\"value\":\"%s\"}}]}}"
	        "\n",
	        mod, k, mod, v);
	fake_puts(fd, line);
	free(line);
	free(d);
	free(v);
	free(k);
}

static void send_created(int fd, const char *hdr)
{
	char line[160];

	snprintf(line, sizeof line,
	         "{\"result\":{\"header\":{\"revision\":\"%s\"},"
	         "\"created\":true}}\n",
	         hdr);
	fake_stream_head(fd, 200);
	fake_puts(fd, line);
}

static router_etcd_status status_of(member *m)
{
	router_etcd_status s;

	router_etcd_get_status(m->f, &s);
	return s;
}

/* Wait (bounded) until the last error's message contains what. */
static router_etcd_status wait_error(member *m, const char *what,
                                     double seconds)
{
	router_etcd_status s;

	for (double t0 = eh_now(); eh_now() - t0 < seconds; eh_sleep_ms(20)) {
		s = status_of(m);
		if (strstr(s.last_error.message, what) != NULL)
			return s;
	}
	fail_msg("no error saying '%s' within %.0f s (state %s, last error "
	         "%s: %s)",
	         what, seconds, router_etcd_state_name(s.state),
	         s.last_error.culprit, s.last_error.message);
	return s;
}

static size_t nretries(member *m)
{
	size_t n;

	pthread_mutex_lock(&m->mu);
	n = m->nretry;
	pthread_mutex_unlock(&m->mu);
	return n;
}

/* Canned answers for the client-level checks: body per path. */
static const char *g_canned_path, *g_canned_body;

static void canned_handler(fake_etcd *fk, int fd, const char *path,
                           const char *body)
{
	(void)body;
	if (g_canned_path != NULL && strcmp(path, g_canned_path) == 0) {
		if (strcmp(path, "/v3/watch") == 0 ||
		    strcmp(path, "/v3/lease/keepalive") == 0) {
			fake_stream_head(fd, 200);
			fake_puts(fd, g_canned_body);
			fake_hold(fk, fd, 2000);
		} else {
			fake_reply(fd, 200, g_canned_body);
		}
	} else if (!fake_default(fk, fd, path)) {
		fake_reply(fd, 404, "{\"error\":\"not here\",\"code\":5}");
	}
}

static int stop_at_first(void *arg, const router__etcd_watch_msg *m)
{
	(void)m;
	++*(int *)arg;
	return 1;
}

/* Every integer etcd sends is untrusted: a revision that is not positive,
 * beyond 2^53, or inconsistent with the header is a malformed answer
 * (ROUTER_EIO naming the field), never a value to compute with. */
static void revisions_from_the_network_are_validated(void **state)
{
	static const struct {
		const char *path, *body, *what;
	} cases[] = {
	    {"/v3/kv/range", "{\"header\":{\"revision\":\"9223372036854775807\"}}",
	     "header.revision"},
	    {"/v3/kv/range", "{\"header\":{\"revision\":\"0\"}}",
	     "header.revision"},
	    {"/v3/kv/range", "{\"header\":{\"revision\":\"-4\"}}",
	     "header.revision"},
	    {"/v3/kv/range",
	     "{\"header\":{\"revision\":\"10\"},\"kvs\":[{\"key\":\"a2V5\","
	     "\"mod_revision\":\"9223372036854775807\",\"create_revision\":\"1\"}]}",
	     "mod_revision"},
	    {"/v3/kv/range",
	     "{\"header\":{\"revision\":\"10\"},\"kvs\":[{\"key\":\"a2V5\","
	     "\"mod_revision\":\"-3\",\"create_revision\":\"1\"}]}",
	     "mod_revision"},
	    {"/v3/kv/range",
	     "{\"header\":{\"revision\":\"10\"},\"kvs\":[{\"key\":\"a2V5\","
	     "\"mod_revision\":\"12\",\"create_revision\":\"1\"}]}",
	     "mod_revision"},
	    {"/v3/kv/range",
	     "{\"header\":{\"revision\":\"10\"},\"kvs\":[{\"key\":\"a2V5\","
	     "\"mod_revision\":\"5\",\"create_revision\":\"-1\"}]}",
	     "create_revision"},
	    {"/v3/kv/range",
	     "{\"header\":{\"revision\":\"10\"},\"kvs\":[{\"key\":\"a2V5\","
	     "\"mod_revision\":\"5\",\"create_revision\":\"7\"}]}",
	     "create_revision"},
	    {"/v3/kv/range",
	     "{\"header\":{\"revision\":\"10\"},\"kvs\":[{\"key\":\"a2V5\","
	     "\"mod_revision\":\"5\",\"create_revision\":\"1\",\"lease\":\"-9\"}]}",
	     "lease"},
	    {"/v3/kv/range",
	     "{\"header\":{\"revision\":\"9007199254740993\"}}",
	     "header.revision"},
	    {"/v3/kv/put", "{\"header\":{\"revision\":\"-1\"}}",
	     "header.revision"},
	    {"/v3/lease/grant", "{\"header\":{\"revision\":\"1\"},\"ID\":\"-7\","
	                        "\"TTL\":\"5\"}",
	     "ID"},
	    {"/v3/lease/grant", "{\"header\":{\"revision\":\"1\"},\"ID\":\"7\","
	                        "\"TTL\":\"-5\"}",
	     "TTL"},
	    {"/v3/lease/keepalive",
	     "{\"result\":{\"header\":{},\"ID\":\"7\",\"TTL\":\"-5\"}}\n", "TTL"},
	    {"/v3/watch",
	     "{\"result\":{\"header\":{\"revision\":\"-1\"},\"created\":true}}\n",
	     "header.revision"},
	    {"/v3/watch",
	     "{\"result\":{\"header\":{\"revision\":\"5\"},\"canceled\":true,"
	     "\"compact_revision\":\"9223372036854775807\"}}\n",
	     "compact_revision"},
	    {"/v3/watch",
	     "{\"result\":{\"header\":{\"revision\":\"5\"},\"events\":[{\"kv\":"
	     "{\"key\":\"a2V5\",\"mod_revision\":\"-3\"}}]}}\n",
	     "mod_revision"},
	};
	router__etcd *c;
	router_error err;

	(void)state;
	fake_on(canned_handler, NULL);
	assert_int_equal(router__etcd_open(&c, g_fake.endpoint, 2000, &err),
	                 ROUTER_OK);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		router__etcd_kv kv;
		int found = 0, rc = ROUTER_OK, calls = 0;
		int64_t rev = 0, id = 0;

		g_canned_path = cases[i].path;
		g_canned_body = cases[i].body;
		memset(&err, 0, sizeof err);
		if (strcmp(cases[i].path, "/v3/kv/range") == 0) {
			rc = router__etcd_get(c, "key", 3, &kv, &found, &rev, &err);
			router__etcd_kv_clear(&kv);
		} else if (strcmp(cases[i].path, "/v3/kv/put") == 0) {
			rc = router__etcd_put(c, "key", 3, "v", 1, 0, &rev, &err);
		} else if (strcmp(cases[i].path, "/v3/lease/grant") == 0) {
			rc = router__etcd_lease_grant(c, 5, &id, &err);
		} else if (strcmp(cases[i].path, "/v3/lease/keepalive") == 0) {
			rc = router__etcd_lease_keepalive(c, 7, &id, &err);
		} else {
			rc = router__etcd_watch(c, "key", 3, 1, 2000,
			                        stop_at_first, &calls, &err);
			assert_int_equal(calls, 0);
		}
		if (rc == ROUTER_OK || strstr(err.message, cases[i].what) == NULL)
			fail_msg("case %zu (%s %s): %s, '%s' (expected an error "
			         "naming %s)",
			         i, cases[i].path, cases[i].body,
			         router_errname(rc), err.message, cases[i].what);
		assert_true(rc == ROUTER_EIO || rc == ROUTER_EDOC);
	}
	router__etcd_close(c);
}

static void int64max_handler(fake_etcd *fk, int fd, const char *path,
                             const char *body)
{
	(void)body;
	if (strcmp(path, "/v3/kv/range") == 0) {
		if (fk->arg != NULL) /* the header only */
			reply_range(fd, "9223372036854775807", "5", 2);
		else
			reply_range(fd, "10", "9223372036854775807", 2);
	} else if (strcmp(path, "/v3/watch") == 0) {
		send_created(fd, "9223372036854775807");
		fake_hold(fk, fd, 3000);
	} else {
		fake_default(fk, fd, path);
	}
}

/* A revision of INT64_MAX (the key's, or etcd's in a range header) is
 * refused: nothing is published with version 2^63-1, no watch starts at
 * a wrapped revision, and the status says which field was wrong. */
static void a_revision_of_int64_max_is_refused(void **state)
{
	static int header_only = 1;

	(void)state;
	for (int round = 0; round < 2; round++) {
		member *m;
		router_etcd_status s;

		fake_on(int64max_handler, round ? &header_only : NULL);
		m = member_start_at(g_fake.endpoint, 0, NULL);
		s = wait_error(m, round ? "header.revision" : "mod_revision",
		               5);
		assert_int_equal(s.last_error.code, ROUTER_EIO);
		assert_int_equal(router_serving_version(m->r), 0);
		assert_int_equal(s.revision_seen, 0);
		pthread_mutex_lock(&g_fake.mu);
		for (int i = 0; i < g_fake.nwatch_start; i++)
			assert_true(g_fake.watch_start[i] >= 1 &&
			            g_fake.watch_start[i] < 1000);
		pthread_mutex_unlock(&g_fake.mu);
		member_free(m);
		fake_stop(&g_fake);
		g_fake_on = 0;
	}
}

/* A watch canceled as "compacted" at a revision that does not cover its
 * start is an etcd fault: backed off, not re-read at once forever. */
static void bogus_compaction_handler(fake_etcd *fk, int fd, const char *path,
                                     const char *body)
{
	(void)body;
	if (strcmp(path, "/v3/kv/range") == 0) {
		reply_range(fd, "10", "5", 2);
	} else if (strcmp(path, "/v3/watch") == 0) {
		send_created(fd, "10");
		fake_puts(fd, "{\"result\":{\"header\":{\"revision\":\"10\"},"
		              "\"canceled\":true,\"compact_revision\":\"3\"}}\n");
		fake_hold(fk, fd, 2000);
	} else {
		fake_default(fk, fd, path);
	}
}

static void a_compaction_below_the_position_backs_off(void **state)
{
	member *m;
	int requests;
	router_etcd_status s;

	(void)state;
	fake_on(bogus_compaction_handler, NULL);
	m = member_start_at(g_fake.endpoint, 0, NULL);
	wait_seen(m, 5);
	sleep(2);
	requests = atomic_load(&g_fake.ranges) + atomic_load(&g_fake.watches);
	s = status_of(m);
	printf("# a bogus compaction: %d ranges + watches in 2 s (%s: %s)\n",
	       requests, router_etcd_state_name(s.state), s.last_error.message);
	/* 50, 100, 200, then ~350 ms: about 8 watches; at once: hundreds. */
	assert_true(requests < 25);
	assert_non_null(strstr(s.last_error.message, "compact"));
	member_free(m);
}

/* A watch that is created and then fails must not reset the backoff: the
 * retries double to the cap. */
static void created_then_closed_handler(fake_etcd *fk, int fd,
                                        const char *path, const char *body)
{
	(void)body;
	if (strcmp(path, "/v3/kv/range") == 0) {
		reply_range(fd, "5", "5", 2);
	} else if (strcmp(path, "/v3/watch") == 0) {
		send_created(fd, "5"); /* and hang up */
	} else {
		fake_default(fk, fd, path);
	}
}

static void a_watch_created_then_failing_backs_off_to_the_cap(void **state)
{
	member *m;
	unsigned got[MAXREC];
	size_t n;
	router_etcd_status s;

	(void)state;
	fake_on(created_then_closed_handler, NULL);
	m = member_start_at(g_fake.endpoint, 0, NULL);
	wait_seen(m, 5);
	for (double t0 = eh_now(); eh_now() - t0 < 10 && nretries(m) < 7;)
		eh_sleep_ms(20);
	pthread_mutex_lock(&m->mu);
	n = m->nretry;
	memcpy(got, m->retry_ms, sizeof got);
	pthread_mutex_unlock(&m->mu);
	assert_true(n >= 7);
	for (size_t i = 0; i < n; i++)
		printf("# retry %zu: %u ms\n", i, got[i]);
	/* 50, 100, 200, 400 (cap): from the fourth on at least 300. */
	for (size_t i = 3; i < n; i++)
		assert_true(got[i] >= 300);
	s = status_of(m);
	assert_int_equal(s.revision_seen, 5);
	/* Between two short-lived watches it says it is stuck. */
	for (double t0 = eh_now(); eh_now() - t0 < 5; eh_sleep_ms(5)) {
		s = status_of(m);
		if (s.stuck_since_unix_ms != 0)
			break;
	}
	assert_true(s.stuck_since_unix_ms != 0);
	assert_true(s.stuck_retries >= 1);
	/* And so does its status key: "stuck": {revision, since, reason}. */
	for (double t0 = eh_now(); eh_now() - t0 < 5; eh_sleep_ms(10)) {
		char *v = fake_last_put_value(&g_fake);
		json_t *o = json_loads(v, 0, NULL), *sk;

		free(v);
		sk = json_object_get(o, "stuck");
		if (json_is_object(sk)) {
			assert_int_equal(json_integer_value(json_object_get(
			                     sk, "revision")),
			                 5);
			assert_true(json_integer_value(json_object_get(
			                sk, "since_unix_ms")) > 0);
			assert_non_null(strstr(
			    json_string_value(json_object_get(sk, "reason")),
			    "watch stream ended"));
			json_decref(o);
			s.stuck_retries = 0; /* found */
			break;
		}
		json_decref(o);
	}
	assert_int_equal(s.stuck_retries, 0);
	member_free(m);
}

/* An event whose value is not base64 is skipped like a refused revision
 * (the next revision applies); a message that is not JSON at all is
 * skipped by reading the key's current value. */
static void bad_event_handler(fake_etcd *fk, int fd, const char *path,
                              const char *body)
{
	int truncated = fk->arg != NULL && *(int *)fk->arg == 1;
	int negative = fk->arg != NULL && *(int *)fk->arg == 2;

	if (strcmp(path, "/v3/kv/range") == 0) {
		if (truncated && atomic_load(&fk->ranges) > 1)
			reply_range(fd, "9", "9", 4);
		else
			reply_range(fd, "5", "5", 2);
	} else if (strcmp(path, "/v3/watch") == 0) {
		int64_t start = watch_start_of(body);
		char hdr[24];

		/* etcd's header revision is at least the revision the
		 * watch resumes after: a lower one is a store behind what
		 * was seen (STALE), which would race with the test's
		 * reading of last_error once the key was read at 9. */
		snprintf(hdr, sizeof hdr, "%" PRId64, start - 1 > 5 ? start - 1 : 5);
		send_created(fd, hdr);
		if (start <= 6 && !truncated && !negative) {
			char *k = fake_b64(KEY), line[512];

			snprintf(line, sizeof line,
			         "{\"result\":{\"header\":{\"revision\":\"6\"},"
			         "\"events\":[{\"kv\":{\"key\":\"%s\","
			         "\"create_revision\":\"2\",\"mod_revision\":"
			         "\"6\",\"value\":\"!!!not base64\"}}]}}\n",
			         k);
			fake_puts(fd, line);
			free(k);
			send_event(fd, "7", 4);
		} else if (start <= 6 && negative) {
			fake_puts(fd, "{\"result\":{\"header\":{\"revision\":"
			              "\"6\"},\"events\":[{\"kv\":{\"mod_revision\""
			              ":\"-3\",\"value\":\"e30=\"}}]}}\n");
		} else if (start <= 9 && truncated) {
			fake_puts(fd, "{\"result\":{\"header\":{\"revision\":"
			              "\"9\"},\"events\":[{\"kv\":{\"mod_rev\n");
		}
		fake_hold(fk, fd, 3000);
	} else {
		fake_default(fk, fd, path);
	}
}

static void a_malformed_event_is_skipped(void **state)
{
	static int truncated = 1, negative = 2;
	member *m;
	router_etcd_status s;

	(void)state;
	fake_on(bad_event_handler, NULL);
	m = member_start_at(g_fake.endpoint, 0, NULL);
	s = wait_seen(m, 7);
	assert_int_equal(s.revision_applied, 7);
	assert_int_equal(s.revision_refused, 6);
	assert_int_equal(s.refusal.code, ROUTER_EDOC);
	assert_non_null(strstr(s.refusal.message, "base64"));
	assert_int_equal(s.skipped, 1);
	assert_int_equal(s.refused, 1);
	assert_string_equal(shard_of(m, 29999, NULL), "c0-");
	member_free(m);
	fake_stop(&g_fake);
	g_fake_on = 0;
	/* A truncated message: no revision to skip, so the key is read. */
	fake_on(bad_event_handler, &truncated);
	m = member_start_at(g_fake.endpoint, 0, NULL);
	s = wait_seen(m, 9);
	assert_int_equal(s.revision_applied, 9);
	assert_string_equal(shard_of(m, 29999, NULL), "c0-");
	assert_int_equal(s.last_error.code, ROUTER_EDOC);
	member_free(m);
	fake_stop(&g_fake);
	g_fake_on = 0;
	/* A negative mod_revision is a malformed message, not a stale
	 * revision. */
	fake_on(bad_event_handler, &negative);
	m = member_start_at(g_fake.endpoint, 0, NULL);
	wait_seen(m, 5);
	s = wait_error(m, "mod_revision -3", 5);
	assert_int_equal(s.last_error.code, ROUTER_EDOC);
	assert_int_equal(s.stale, 0);
	assert_int_equal(s.revision_applied, 5);
	assert_true(compacted_events(m) >= 1);
	member_free(m);
}

/* A watch answered with HTTP 500 says so. */
static void http500_handler(fake_etcd *fk, int fd, const char *path,
                            const char *body)
{
	(void)body;
	if (strcmp(path, "/v3/kv/range") == 0)
		reply_range(fd, "5", "5", 2);
	else if (strcmp(path, "/v3/watch") == 0 && fk->arg == NULL)
		fake_reply(fd, 500, "upstream connect error\n");
	else if (strcmp(path, "/v3/watch") == 0) {
		/* An error body that does not end. */
		char junk[1024];

		memset(junk, 'x', sizeof junk - 1);
		junk[sizeof junk - 1] = '\0';
		fake_stream_head(fd, 503);
		for (int i = 0; i < 200; i++) {
			fake_puts(fd, junk);
			if (fake_hold(fk, fd, 50))
				break;
		}
	} else
		fake_default(fk, fd, path);
}

static void a_watch_http_500_keeps_its_status(void **state)
{
	static int endless = 1;
	member *m;
	router_etcd_status s;

	(void)state;
	fake_on(http500_handler, NULL);
	m = member_start_at(g_fake.endpoint, 0, NULL);
	s = wait_error(m, "HTTP 500", 5);
	assert_int_equal(s.last_error.code, ROUTER_EIO);
	assert_non_null(strstr(s.last_error.message, "upstream connect error"));
	member_free(m);
	fake_stop(&g_fake);
	g_fake_on = 0;
	/* An endless error body: quoted (4 KiB at most) and hung up on. */
	fake_on(http500_handler, &endless);
	m = member_start_at(g_fake.endpoint, 0, NULL);
	s = wait_error(m, "HTTP 503", 5);
	assert_non_null(strstr(s.last_error.message, "xxxx"));
	member_free(m);
}

/* A watch that trickles a byte at a time, never completing a message, or
 * that goes silent and then answers nothing, is not "following": the
 * follower reconnects and says why. */
static void trickle_handler(fake_etcd *fk, int fd, const char *path,
                            const char *body)
{
	int blackhole = fk->arg != NULL;

	(void)body;
	if (strcmp(path, "/v3/kv/range") == 0) {
		reply_range(fd, "5", "5", 2);
	} else if (strcmp(path, "/v3/watch") == 0) {
		if (blackhole) {
			if (atomic_load(&fk->watches) == 1)
				send_created(fd, "5");
			fake_hold(fk, fd, 20000); /* then nothing at all */
			return;
		}
		send_created(fd, "5");
		fake_puts(fd, "{");
		for (int i = 0; i < 100; i++)
			if (fake_hold(fk, fd, 200))
				break;
			else
				fake_puts(fd, " ");
	} else {
		fake_default(fk, fd, path);
	}
}

static void a_trickling_or_silent_watch_is_detected(void **state)
{
	static int blackhole = 1;
	member *m;
	router_etcd_status s;

	(void)state;
	router__etcd_watch_idle_ms = 1000;
	g_timeout_ms = 1000;
	fake_on(trickle_handler, NULL);
	m = member_start_at(g_fake.endpoint, 0, NULL);
	wait_seen(m, 5);
	s = wait_error(m, "stalled", 8);
	assert_int_equal(s.last_error.code, ROUTER_EIO);
	member_free(m);
	fake_stop(&g_fake);
	g_fake_on = 0;
	fake_on(trickle_handler, &blackhole);
	m = member_start_at(g_fake.endpoint, 0, NULL);
	wait_seen(m, 5);
	s = wait_error(m, "did not answer", 8);
	assert_int_equal(s.last_error.code, ROUTER_EIO);
	assert_true(atomic_load(&g_fake.watches) >= 2);
	member_free(m);
}

/* ---- real etcd: idle CPU, buffers, a revision too large -------------------- */

/* An idle follower sleeps: its reporter wakes for keep-alives (every third
 * of the 5 s TTL here) and status changes, not thousands of times a
 * second. */
static void an_idle_follower_does_not_spin(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m;
	uint64_t p0, p1;
	struct timespec c0, c1;
	int64_t rev = put_doc(c, 2, 0);

	m = member_start(e, 0, NULL);
	wait_seen(m, rev);
	json_decref(fleet_at(c, 1, rev));
	eh_sleep_ms(200);
	p0 = router__etcd_reporter_passes(m->f);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	eh_sleep_ms(2000);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	p1 = router__etcd_reporter_passes(m->f);
	printf("# idle follower: %" PRIu64 " reporter passes and %.1f ms of "
	       "process CPU in 2 s\n",
	       p1 - p0,
	       ((double)(c1.tv_sec - c0.tv_sec) * 1e3 +
	        (double)(c1.tv_nsec - c0.tv_nsec) / 1e6));
	/* A keep-alive every 1.67 s: 1 or 2 passes. */
	assert_true(p1 - p0 <= 5);
	member_free(m);
	router__etcd_close(c);
}

/* etcd down: a failed keep-alive waits for the backoff like every other
 * retry.  (The keep-alive deadline, already past after a failure, used to
 * override the backoff: the reporter retried at once, about a thousand
 * times a second, and hammered the restarting etcd.) */
static void a_failed_keepalive_is_retried_after_a_backoff(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m;
	uint64_t p0, p1;
	int64_t rev = put_doc(c, 2, 0);

	router__etcd_close(c);
	m = member_start(e, 0, NULL);
	wait_seen(m, rev);
	eh_kill(e);
	/* Past the next keep-alive (every 1.67 s): it fails from then on. */
	eh_sleep_ms(2000);
	p0 = router__etcd_reporter_passes(m->f);
	eh_sleep_ms(2000);
	p1 = router__etcd_reporter_passes(m->f);
	printf("# etcd down: %" PRIu64 " reporter passes in 2 s\n", p1 - p0);
	/* Backoff from 50 ms doubling: about 10 passes; at once: thousands. */
	assert_true(p1 - p0 <= 40);
	assert_int_equal(eh_restart(e), 0);
	member_free(m);
}

/* A document's version above INT64_MAX reaches the status key whole, as a
 * decimal string, not wrapped to a negative JSON integer. */
static void a_version_above_int64_max_is_reported_whole(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	char *d = doc_sharded(2, 0), *v;
	member *m;
	json_t *a;
	int64_t rev;

	v = malloc(strlen(d) + 64);
	sprintf(v, "{\"version\": \"9223372036854775813\", %s", d + 1);
	rev = put(c, KEY, v);
	m = member_start(e, 0, NULL);
	wait_seen(m, rev);
	assert_true(router_serving_version(m->r) == 9223372036854775813ull);
	a = fleet_at(c, 1, rev);
	for (double t0 = eh_now(); eh_now() - t0 < 10; eh_sleep_ms(50)) {
		json_t *o = json_array_get(a, 0);

		if (json_is_string(json_object_get(o, "version")))
			break;
		json_decref(a);
		a = fleet(c);
	}
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(a, 0), "version")),
	    "9223372036854775813");
	json_decref(a);
	member_free(m);
	router__etcd_close(c);
	free(v);
	free(d);
}

static int stop_at_event(void *arg, const router__etcd_watch_msg *m)
{
	(void)arg;
	return m->nevents > 0;
}

/* A large answer does not leave its buffer behind. */
static void response_buffers_shrink_after_a_large_message(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e), *w = client(e);
	size_t n = 1000000;
	char *big = malloc(n);
	router__etcd_kv kv;
	int found;
	int64_t rev, hrev;
	router_error err;

	memset(big, 'x', n);
	assert_int_equal(router__etcd_put(c, "/big", 4, big, n, 0, &rev, &err),
	                 ROUTER_OK);
	assert_int_equal(router__etcd_get(c, "/big", 4, &kv, &found, &hrev,
	                                  &err),
	                 ROUTER_OK);
	assert_int_equal(kv.value_len, n);
	router__etcd_kv_clear(&kv);
	printf("# after a 1 MB range: buffer %zu bytes\n",
	       router__etcd_buffer_capacity(c));
	assert_true(router__etcd_buffer_capacity(c) <= 256 * 1024);
	assert_int_equal(router__etcd_watch(w, "/big", 4, rev, 5000,
	                                    stop_at_event, NULL, &err),
	                 ROUTER_OK);
	printf("# after a 1 MB watch message: buffer %zu bytes\n",
	       router__etcd_buffer_capacity(w));
	assert_true(router__etcd_buffer_capacity(w) <= 256 * 1024);
	free(big);
	router__etcd_close(c);
	router__etcd_close(w);
}

/* A revision larger than the follower buffers can never be received:
 * downloading it again would fail again (for ever, at the backoff cap).
 * The follower learns its revision without the value and refuses it
 * (ROUTER_ERANGE, counted in skipped), and the next revision applies. */
static void a_revision_too_large_is_refused_not_downloaded_again(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m;
	int64_t rev, big, next;
	router_etcd_status s;
	char *d = doc_sharded(512, 0);

	assert_true(strlen(d) > 4096);
	free(d);
	/* Set while no client transfers (the small documents fit). */
	router__etcd_response_max = 4096;
	rev = put_doc(c, 2, 0);
	m = member_start(e, 0, NULL);
	wait_seen(m, rev);
	big = put_doc(c, 512, 0);
	s = wait_seen(m, big);
	assert_int_equal(s.revision_refused, big);
	assert_int_equal(s.refusal.code, ROUTER_ERANGE);
	assert_non_null(strstr(s.refusal.message, "larger than"));
	assert_int_equal(s.skipped, 1);
	assert_int_equal(s.revision_applied, rev);
	assert_string_equal(shard_of(m, 29999, NULL), "80-");
	/* No failure, no retry: it follows on. */
	eh_sleep_ms(500);
	assert_int_equal(nretries(m), 0);
	next = put_doc(c, 4, 0);
	s = wait_seen(m, next);
	assert_int_equal(s.revision_applied, next);
	assert_string_equal(shard_of(m, 29999, NULL), "c0-");
	member_free(m);
	router__etcd_close(c);
	router__etcd_response_max = (size_t)64 << 20;
}

/* ---- a Vitess cell's own topo (fleet/vitess_read.c) --------------------- */

/* Put tests/data/topo/NAME under key; its mod revision. */
static int64_t put_fixture(router__etcd *c, const char *key, const char *name)
{
	char path[512];
	static uint8_t buf[4096];
	router_error err;
	int64_t rev = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "%s/topo/%s", tu_data_dir(), name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("missing fixture %s", path);
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	if (router__etcd_put(c, key, strlen(key), buf, n, 0, &rev, &err) !=
	    ROUTER_OK)
		fail_msg("put %s: %s", key, err.message);
	return rev;
}

static void vitess_cell_is_read_from_a_real_etcd(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	router__vitess_built b;
	router_error err;
	char *root, *addr;
	int64_t rev;
	int64_t before;

	put_fixture(c, "/vitess/global/cells/zone1/CellInfo", "cellinfo.bin");
	assert_int_equal(router__vitess_read_cell_info(c, "/vitess/global/",
	                                               "zone1", &root, &addr,
	                                               &err),
	                 ROUTER_OK);
	assert_string_equal(root, "/vitess/zone1");
	assert_string_equal(addr, "127.0.0.1:2379");
	free(root);
	free(addr);
	assert_int_equal(router__vitess_read_cell_info(c, "/vitess/global",
	                                               "zone2", &root, &addr,
	                                               &err),
	                 ROUTER_ENOTFOUND);
	assert_string_equal(err.culprit, "/vitess/global/cells/zone2/CellInfo");
	/* No SrvVSchema yet: nothing to route. */
	assert_int_equal(router__vitess_read_cell(c, "/vitess/zone1", 0, &b,
	                                          &err),
	                 ROUTER_ENOTFOUND);
	router__vitess_built_clear(&b);
	put_fixture(c, "/vitess/zone1/keyspaces/commerce/SrvKeyspace",
	            "srvks_commerce.bin");
	before = put_fixture(c, "/vitess/zone1/SrvVSchema", "srv_vschema.bin");
	/* Other files under keyspaces/ are not SrvKeyspaces. */
	put(c, "/vitess/zone1/keyspaces/customer/shards/-80/ShardReplication",
	    "");
	rev = put_fixture(c, "/vitess/zone1/keyspaces/customer/SrvKeyspace",
	                  "srvks_customer_resharding.bin");
	assert_true(rev > before);
	assert_int_equal(router__vitess_read_cell(c, "/vitess/zone1",
	                                          ROUTER__VITESS_REPLICA, &b,
	                                          &err),
	                 ROUTER_OK);
	assert_int_equal(router_table_version(b.table), (uint64_t)rev);
	assert_int_equal(router_doc_shard_count(b.table, "customer"), 4);
	router__vitess_built_clear(&b);
	/* A SrvKeyspace that does not decode is refused, naming its key. */
	put(c, "/vitess/zone1/keyspaces/customer/SrvKeyspace", "\x0a\x7f");
	assert_int_equal(router__vitess_read_cell(c, "/vitess/zone1", 0, &b,
	                                          &err),
	                 ROUTER_EDOC);
	assert_string_equal(err.culprit,
	                    "/vitess/zone1/keyspaces/customer/SrvKeyspace");
	router__vitess_built_clear(&b);
	router__etcd_close(c);
}

/* The names routerctl watch and the bindings print (no etcd needed). */
static void every_event_kind_has_its_name(void **state)
{
	static const char *const want[] = {"verdict",      "snapshot",
	                                   "connected",    "disconnected",
	                                   "compacted",    "stale", "latent"};

	(void)state;
	for (int k = ROUTER_ETCD_EVENT_VERDICT; k <= ROUTER_ETCD_EVENT_LATENT;
	     k++)
		assert_string_equal(
		    router_etcd_event_kind_name((router_etcd_event_kind)k),
		    want[k - 1]);
	assert_string_equal(router_etcd_event_kind_name(
	                        (router_etcd_event_kind)0),
	                    "unknown");
	assert_string_equal(router_etcd_event_kind_name(
	                        (router_etcd_event_kind)99),
	                    "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(vitess_cell_is_read_from_a_real_etcd,
	                                    setup, teardown),
	    cmocka_unit_test(every_event_kind_has_its_name),
	    cmocka_unit_test(malformed_endpoints_are_refused_at_create),
	    cmocka_unit_test_setup_teardown(
	        followers_converge_on_every_revision, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        refusals_are_reported_in_status_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        a_quarantining_follower_keeps_the_bad_revision_pending, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(watch_resumes_after_etcd_restart,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(watch_resumes_after_compaction,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        catch_up_larger_than_the_buffer_reads_the_current_value, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(stale_revisions_are_never_applied,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        starts_from_snapshot_with_etcd_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        retries_back_off_with_jitter_below_the_cap, setup, teardown),
	    cmocka_unit_test(backoff_doubles_to_the_cap_and_stays_spread_there),
	    cmocka_unit_test_setup_teardown(an_idle_follower_does_not_spin,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        a_failed_keepalive_is_retried_after_a_backoff, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        a_version_above_int64_max_is_reported_whole, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        response_buffers_shrink_after_a_large_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        a_revision_too_large_is_refused_not_downloaded_again, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        revisions_from_the_network_are_validated, setup_fake, teardown),
	    cmocka_unit_test_setup_teardown(a_revision_of_int64_max_is_refused,
	                                    setup_fake, teardown),
	    cmocka_unit_test_setup_teardown(
	        a_compaction_below_the_position_backs_off, setup_fake, teardown),
	    cmocka_unit_test_setup_teardown(
	        a_watch_created_then_failing_backs_off_to_the_cap, setup_fake,
	        teardown),
	    cmocka_unit_test_setup_teardown(a_malformed_event_is_skipped,
	                                    setup_fake, teardown),
	    cmocka_unit_test_setup_teardown(a_watch_http_500_keeps_its_status,
	                                    setup_fake, teardown),
	    cmocka_unit_test_setup_teardown(
	        a_trickling_or_silent_watch_is_detected, setup_fake, teardown),
	};

	if (getenv("ETCD_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("ETCD_TEST_FILTER"));

	return cmocka_run_group_tests(tests, NULL, NULL);
}
