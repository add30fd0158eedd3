/*
 * make demo: librouter's main job on a real VSchema, in a few seconds.
 *
 * Reader threads route a stream of keys through a handle while the main
 * thread, the writer:
 *   1. publishes the document (2 shards) and exports the table in service
 *      back to a document (the snapshot that repairs a source of truth);
 *   2. reshards the keyspace from 2 to 4 shards;
 *   3. replays the January 2026 incident: publishes the empty VSchema the
 *      Vitess v22 rollback wrote over the sharded keyspace (refused), then
 *      the stale snapshot a backup job would push back (refused);
 *   4. rolls back to the 2-shard table.
 * Every answer a reader gets is checked against an oracle that does not
 * use the router: the keyspace ID from a separately created vindex, and the
 * shard of that version's partition holding it.  Wrong answers must be 0.
 *
 * Usage: demo [DOC [SECONDS [KEYSPACE TABLE]]]
 *   DOC defaults to tests/data/examples/customer_sharded.json, a single-
 *   keyspace VSchema for keyspace KEYSPACE (customer) routed by TABLE
 *   (customer).  Exit 0 when everything behaved, 1 otherwise.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "router.h"
#include "router_doc.h"

#define MAX_READERS 8
#define MAX_VERSIONS 16
#define MAX_SHARDS 4
#define BATCH 256

/* What a version routes to, written before the version is published. */
typedef struct oracle {
	atomic_int ready;
	unsigned n;
	router_keyrange kr[MAX_SHARDS];
	char names[MAX_SHARDS][16];
} oracle;

static oracle oracles[MAX_VERSIONS];
static atomic_int stop;
static const char *ks_name = "customer", *table_name = "customer";
static const char *vindex_type;

typedef struct reader {
	pthread_t tid;
	router *r;
	unsigned id;
	uint64_t lookups;
	uint64_t ns;
	uint64_t wrong;
	uint64_t by_version[MAX_VERSIONS];
	char first_wrong[256];
	int failed;
} reader;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_until(double t)
{
	double d = t - now_s();

	if (d > 0) {
		struct timespec ts = {(time_t)d,
		                      (long)((d - (double)(time_t)d) * 1e9)};

		nanosleep(&ts, NULL);
	}
}

static void wrong(reader *rd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void wrong(reader *rd, const char *fmt, ...)
{
	va_list ap;

	if (rd->wrong++ == 0) {
		va_start(ap, fmt);
		vsnprintf(rd->first_wrong, sizeof rd->first_wrong, fmt, ap);
		va_end(ap);
	}
}

/* The oracle's answer for key v in version ver, or NULL. */
static const char *oracle_shard(const oracle *o, const uint8_t *k,
                                size_t len)
{
	for (unsigned i = 0; i < o->n; i++)
		if (router_keyrange_contains(&o->kr[i], k, len))
			return o->names[i];
	return NULL;
}

static void *read_loop(void *arg)
{
	reader *rd = arg;
	router_route_result res[BATCH];
	int64_t keys[BATCH];
	int rcs[BATCH];
	router_handle *h = NULL;
	router_vindex *vx = NULL;
	uint64_t x = 0x9e3779b97f4a7c15ull * (rd->id + 1);
	router_error e;

	if (router_handle_open(rd->r, ks_name, strlen(ks_name), table_name,
	                       strlen(table_name), &h, &e) != ROUTER_OK ||
	    router_vindex_create(&vx, vindex_type, NULL, 0, NULL, &e) !=
	        ROUTER_OK) {
		snprintf(rd->first_wrong, sizeof rd->first_wrong, "%.200s",
		         e.message);
		rd->failed = 1;
		router_handle_free(h);
		return NULL;
	}
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t t0, t1;
		int i;

		for (i = 0; i < BATCH; i++) {
			x ^= x << 13; /* xorshift64: a stream of keys */
			x ^= x >> 7;
			x ^= x << 17;
			keys[i] = (int64_t)x;
		}
		t0 = now_ns();
		for (i = 0; i < BATCH; i++)
			rcs[i] = router_handle_route_int64(h, keys[i], &res[i]);
		t1 = now_ns();
		rd->ns += t1 - t0;
		rd->lookups += BATCH;
		/* Check every answer outside the timed loop. */
		for (i = 0; i < BATCH; i++) {
			router_value v = ROUTER_VALUE_INT64(keys[i]);
			uint8_t k[ROUTER_KSID_MAX];
			size_t klen;
			const oracle *o;
			const char *want;

			if (rcs[i] != ROUTER_OK) {
				wrong(rd, "key %" PRId64 ": %s", keys[i],
				      router_errname(rcs[i]));
				continue;
			}
			if (res[i].version == 0 || res[i].version >= MAX_VERSIONS ||
			    !atomic_load_explicit(&oracles[res[i].version].ready,
			                          memory_order_acquire)) {
				wrong(rd, "key %" PRId64 ": answered by version "
				          "%" PRIu64 ", never accepted",
				      keys[i], res[i].version);
				continue;
			}
			o = &oracles[res[i].version];
			rd->by_version[res[i].version]++;
			if (router_vindex_map(vx, &v, 1, k, sizeof k, &klen,
			                      NULL) != ROUTER_OK ||
			    klen != res[i].ksid_len ||
			    memcmp(k, res[i].ksid, klen) != 0) {
				wrong(rd, "key %" PRId64 ": keyspace ID differs "
				          "from %s's",
				      keys[i], vindex_type);
				continue;
			}
			want = oracle_shard(o, k, klen);
			if (want == NULL || strcmp(want, res[i].shard) != 0)
				wrong(rd, "key %" PRId64 " (v%" PRIu64 "): shard "
				          "%s, oracle says %s",
				      keys[i], res[i].version, res[i].shard,
				      want ? want : "none");
		}
	}
	router_vindex_free(vx);
	router_handle_free(h);
	return NULL;
}

/* Load DOC for the demo's keyspace with the given shards. */
static router_table *load(const char *path, const char *const *shards,
                          size_t n)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_doc_shards sh = {ks_name, shards, n};
	router_table *t = NULL;
	router_error e;

	o.keyspace = ks_name;
	o.shards = &sh;
	o.nshards = 1;
	if (router_doc_load_file(path, &o, &t, NULL, &e) != ROUTER_OK) {
		fprintf(stderr, "demo: %s: %s: %s\n", path, e.culprit,
		        e.message);
		return NULL;
	}
	return t;
}

/* Record version v's partition for the readers' oracle. */
static int prepare(uint64_t v, const char *const *shards, size_t n)
{
	oracle *o = &oracles[v];

	if (v >= MAX_VERSIONS || n > MAX_SHARDS)
		return -1;
	o->n = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		snprintf(o->names[i], sizeof o->names[i], "%s", shards[i]);
		if (router_keyrange_parse(shards[i], strlen(shards[i]),
		                          &o->kr[i], NULL) != ROUTER_OK)
			return -1;
	}
	atomic_store_explicit(&o->ready, 1, memory_order_release);
	return 0;
}

typedef struct snapshot {
	char *text;
	size_t len;
	int rc;
} snapshot;

static int take_snapshot(void *arg, const router_table *t)
{
	snapshot *s = arg;

	s->rc = router_doc_dump(t, ks_name, 0, NULL, &s->text, &s->len, NULL);
	return s->rc;
}

static double t_start;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	printf("  %5.2f s  ", now_s() - t_start);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void commas(uint64_t v, char *buf, size_t cap)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v), o = 0;

	for (int i = 0; i < n && (size_t)o + 2 < cap; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
}

static const char *const two[] = {"-80", "80-"};
static const char *const four[] = {"-40", "40-80", "80-c0", "c0-"};

/* What the demo's steps share: inputs, the router, and the outcomes the
 * final verdict checks. */
typedef struct demo {
	const char *path;
	double seconds;
	router_table *t1, *t2;
	reader readers[MAX_READERS];
	unsigned nreaders;
	const char *vname;
	snapshot snap;
	router_stats st;
	router *r;
	double share;
	int ok, v1_refused_empty, stale_refused;
	uint64_t total, ns, wrong_total;
	uint64_t per_version[MAX_VERSIONS];
} demo;

/* A step returns 0 to go on, or the exit status to end the demo with. */
typedef struct demo_step {
	const char *name;
	int (*run)(demo *d);
} demo_step;

/* Load both tables, find the vindex to route through, print the header. */
static int step_setup(demo *d)
{
	router_error e;

	if ((d->t1 = load(d->path, two, 2)) == NULL ||
	    (d->t2 = load(d->path, four, 4)) == NULL)
		return 2;
	if (router_doc_primary_vindex(d->t1, ks_name, strlen(ks_name),
	                              table_name, strlen(table_name),
	                              &d->vname, &vindex_type,
	                              &e) != ROUTER_OK ||
	    vindex_type == NULL) {
		fprintf(stderr, "demo: %s.%s has no primary vindex to route "
		                "through\n",
		        ks_name, table_name);
		return 2;
	}
	router_doc_moved_share(d->t1, d->t2, ks_name, &d->share, NULL);
	printf("librouter demo: %s.%s from %s\n"
	       "(primary vindex \"%s\", type %s; %u reader threads; every "
	       "answer checked against an oracle)\n\n",
	       ks_name, table_name, d->path, d->vname, vindex_type,
	       d->nreaders);
	if (router_create(&d->r, NULL, &e) != ROUTER_OK) {
		fprintf(stderr, "demo: %s\n", e.message);
		return 2;
	}
	t_start = now_s();
	return 0;
}

/* 1. In service: 2 shards.  Versions are assigned 1, 2, ... */
static int step_publish_v1(demo *d)
{
	router_error e;

	prepare(1, two, 2);
	if (router_publish(d->r, d->t1, 0, NULL, &e) != ROUTER_OK) {
		fprintf(stderr, "demo: publish v1: %s\n", e.message);
		return 1;
	}
	say("v%" PRIu64 " published: %s with 2 shards (-80 80-)",
	    router_serving_version(d->r), ks_name);
	return 0;
}

static int step_start_readers(demo *d)
{
	for (unsigned i = 0; i < d->nreaders; i++) {
		memset(&d->readers[i], 0, sizeof d->readers[i]);
		d->readers[i].r = d->r;
		d->readers[i].id = i;
		pthread_create(&d->readers[i].tid, NULL, read_loop,
		               &d->readers[i]);
	}
	say("%u readers routing through a handle", d->nreaders);
	return 0;
}

/* Export v1 as a document and check that it loads back to the same hash. */
static int step_export(demo *d)
{
	router_doc_options so = ROUTER_DOC_OPTIONS_INIT;
	router_table *back = NULL;
	router_error e;
	int rc;

	router_inspect(d->r, take_snapshot, &d->snap);
	if (d->snap.rc != ROUTER_OK)
		return 0;
	so.keyspace = ks_name;
	rc = router_doc_load(d->snap.text, d->snap.len, &so, &back, NULL, &e);
	say("v1 exported as a VSchema document (%zu bytes): it loads "
	    "back to content hash %016" PRIx64 " %s",
	    d->snap.len, router_table_hash(back),
	    rc == ROUTER_OK &&
	            router_table_hash(back) == router_content_hash(d->r)
	        ? "= in service"
	        : "!= in service");
	if (rc != ROUTER_OK ||
	    router_table_hash(back) != router_content_hash(d->r))
		d->ok = 0;
	router_table_free(back);
	return 0;
}

/* 2. Reshard 2 -> 4 while the readers run. */
static int step_reshard(demo *d)
{
	router_error e;
	int rc;

	sleep_until(t_start + d->seconds * 0.25);
	prepare(2, four, 4);
	rc = router_publish(d->r, d->t2, 0, NULL, &e);
	if (rc == ROUTER_OK)
		say("v%" PRIu64 " published: resharded 2 -> 4 shards (-40 "
		    "40-80 80-c0 c0-); %.0f%% of the keyspace-ID space moves",
		    router_serving_version(d->r), d->share * 100);
	else {
		say("reshard refused: %s: %s", router_errname(rc), e.message);
		router_table_free(d->t2);
		d->ok = 0;
	}
	return 0;
}

/* 3. The January 2026 incident: the MoveTables rollback wrote an
 * empty Keyspace VSchema over the sharded keyspace. */
static int step_empty_vschema(demo *d)
{
	router_doc_options eo = ROUTER_DOC_OPTIONS_INIT;
	router_table *empty = NULL;
	router_error e;
	int rc;

	sleep_until(t_start + d->seconds * 0.5);
	eo.keyspace = ks_name;
	rc = router_doc_load("{}", 2, &eo, &empty, NULL, &e);
	if (rc == ROUTER_OK)
		rc = router_publish(d->r, empty, 0, NULL, &e);
	if (rc == ROUTER_EEMPTY) {
		d->v1_refused_empty = 1;
		say("January 2026 replay: the empty VSchema {} for %s is "
		    "REFUSED",
		    ks_name);
		say("  %s (%s): %s", router_errname(rc), e.culprit, e.message);
		say("  v%" PRIu64 " keeps serving",
		    router_serving_version(d->r));
	} else {
		say("the empty VSchema was NOT refused: %s", router_errname(rc));
		d->ok = 0;
	}
	router_table_free(empty); /* refused: still ours */
	return 0;
}

/* ...and the stale snapshot a backup job would push back. */
static int step_stale_snapshot(demo *d)
{
	router_doc_options eo = ROUTER_DOC_OPTIONS_INIT;
	router_table *stale = NULL;
	router_error e;
	int rc;

	if (d->snap.rc != ROUTER_OK)
		return 0;
	eo.keyspace = ks_name;
	rc = router_doc_load(d->snap.text, d->snap.len, &eo, &stale, NULL, &e);
	if (rc == ROUTER_OK)
		rc = router_publish(d->r, stale, 0, NULL, &e);
	if (rc == ROUTER_EVERSION) {
		d->stale_refused = 1;
		say("stale snapshot of v1 pushed back: REFUSED");
		say("  %s: %s", router_errname(rc), e.message);
	} else {
		say("the stale snapshot was NOT refused: %s",
		    router_errname(rc));
		d->ok = 0;
	}
	if (rc != ROUTER_OK)
		router_table_free(stale);
	return 0;
}

/* 4. Roll back to the 2-shard table (O(1): no rebuild, no guard). */
static int step_rollback(demo *d)
{
	router_error e;

	sleep_until(t_start + d->seconds * 0.75);
	if (router_rollback(d->r, 1, &e) == ROUTER_OK)
		say("rolled back to v%" PRIu64 " (2 shards)",
		    router_serving_version(d->r));
	else {
		say("rollback failed: %s", e.message);
		d->ok = 0;
	}
	return 0;
}

/* Stop the readers at the end of the run and add up what they saw. */
static int step_stop_readers(demo *d)
{
	sleep_until(t_start + d->seconds);
	atomic_store(&stop, 1);
	for (unsigned i = 0; i < d->nreaders; i++) {
		reader *rd = &d->readers[i];

		pthread_join(rd->tid, NULL);
		d->total += rd->lookups;
		d->ns += rd->ns;
		d->wrong_total += rd->wrong;
		for (unsigned v = 0; v < MAX_VERSIONS; v++)
			d->per_version[v] += rd->by_version[v];
		if (rd->failed) {
			fprintf(stderr, "demo: reader %u: %s\n", i,
			        rd->first_wrong);
			d->ok = 0;
		} else if (rd->wrong > 0) {
			printf("  reader %u, first wrong answer: %s\n", i,
			       rd->first_wrong);
		}
	}
	say("readers stopped");
	router_stats_get(d->r, &d->st, sizeof d->st);
	return 0;
}

static int step_report(demo *d)
{
	const char *sep = " (";
	char buf[32], buf2[32];

	commas(d->total, buf, sizeof buf);
	printf("\nreport\n");
	printf("  lookups        %s in %u threads (", buf, d->nreaders);
	for (unsigned v = 1; v < MAX_VERSIONS; v++)
		if (d->per_version[v] > 0) {
			commas(d->per_version[v], buf2, sizeof buf2);
			printf("%sv%u: %s", v > 1 ? ", " : "", v, buf2);
		}
	printf(")\n");
	printf("  ns per lookup  %.1f (handle lookup, timed apart from the "
	       "checks)\n",
	       d->total ? (double)d->ns / (double)d->total : 0.0);
	printf("  publishes      %" PRIu64 " accepted, %" PRIu64 " refused",
	       d->st.accepted, d->st.refused);
	for (int c = 1; c <= -ROUTER_ERRNO_MIN; c++)
		if (router_stats_refused(d->r, -c) > 0) {
			printf("%s%s: %" PRIu64, sep, router_errname(-c),
			       router_stats_refused(d->r, -c));
			sep = ", ";
		}
	if (strcmp(sep, ", ") == 0)
		printf(")");
	printf(", %" PRIu64 " rollback%s\n", d->st.rollbacks,
	       d->st.rollbacks == 1 ? "" : "s");
	printf("  in service     v%" PRIu64 ", content hash %016" PRIx64 "\n",
	       d->st.version, d->st.content_hash);
	printf("  wrong answers  %" PRIu64 "\n", d->wrong_total);
	return 0;
}

/* The demo, in order.  Each step's output is part of what `make demo`
 * shows, so the order is the story. */
static const demo_step steps[] = {
	{"setup", step_setup},
	{"publish v1", step_publish_v1},
	{"start readers", step_start_readers},
	{"export v1", step_export},
	{"reshard", step_reshard},
	{"empty VSchema", step_empty_vschema},
	{"stale snapshot", step_stale_snapshot},
	{"rollback", step_rollback},
	{"stop readers", step_stop_readers},
	{"report", step_report},
};

int main(int argc, char **argv)
{
	static demo d;
	int rc;

	d.path = argc > 1 ? argv[1]
	                  : "tests/data/examples/customer_sharded.json";
	d.seconds = argc > 2 ? atof(argv[2]) : 2.0;
	d.nreaders = 2;
	d.ok = 1;
	if (argc > 4) {
		ks_name = argv[3];
		table_name = argv[4];
	}
	if (d.seconds <= 0 || d.seconds > 600) {
		fprintf(stderr, "usage: demo [DOC [SECONDS [KEYSPACE TABLE]]]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if ((rc = steps[i].run(&d)) != 0)
			return rc;

	if (d.wrong_total > 0 || d.total == 0 || !d.v1_refused_empty ||
	    (d.snap.rc == ROUTER_OK && !d.stale_refused) ||
	    d.per_version[1] == 0 || d.per_version[2] == 0)
		d.ok = 0;
	free(d.snap.text);
	router_free(d.r);
	if (!d.ok) {
		printf("\ndemo: FAILED (see above)\n");
		return 1;
	}
	printf("\nok: the routing table changed under load and was never "
	       "poisoned\n");
	return 0;
}
