/*
 * librouter benchmarks (issue 4): lookup cost against the floor and against
 * what a user would otherwise write (a table behind a pthread rwlock or a
 * mutex), under no writer, a writer at 1,000 publishes/s and a writer as
 * fast as it can, with 1 and 2 reader threads; publish cost; memory per
 * table and under full-speed publishing; vindex cost alone; instruction
 * counts under callgrind.
 *
 * How (see docs/measuring.md): absolute times on this VM move by
 * 15-38% between runs, so every figure is a paired ratio.  A reader thread
 * alternates short chunks (65,536 lookups over the same keys) of the floor
 * and of the scheme under test, in the same thread and the same time
 * window, and divides.  The floor is router__tdef_route_u64 (the exact body
 * of every lookup) called on a frozen table that no writer touches, without
 * any synchronization.  With 2 readers, both run the same kind of chunk at
 * the same time (a barrier between chunks), so a lock's cache line really
 * bounces.  One writer thread updates all three systems (the router, the
 * rwlock table, the mutex table) at the same rate, each with a freshly built
 * table: build + validate + publish, as an application would.
 *
 *   bench [--ci] [--json FILE] [--thresholds FILE] [--no-callgrind]
 *         [--steps baseline,lookups,publish,memory,vindexes,catalogue,
 *                  callgrind]
 *
 * --ci: a short run (< 1 min) over the configurations the thresholds name.
 * --thresholds: check "metric <= limit" / "metric >= limit" lines after the
 * run; exit 1 when one fails (or names a metric that was not measured).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <valgrind/callgrind.h>

#include "router.h"
#include "core/table.h"

#include "minimal.h"

/* Mirrors RECLAIM_LIMIT in librouter/router.c (not exported): retired
 * tables pending beyond which a publish waits for a grace period. */
#define ROUTER_RECLAIM_LIMIT 32u

#define CHUNK 65536u /* lookups per timed chunk */
#define BATCH 64u    /* keys per router_handle_route_batch call */

static int g_ci;
static const char *g_charts; /* --charts DIR: data for bench/charts.gp */
/* The machine, compiler, commit and date of the run (step_header). */
static char g_model[256], g_cc[256], g_commit[128], g_date[64];

/* ------------------------------------------------------------------------ */
/* Small utilities                                                          */
/* ------------------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Quantile q of v[0..n) (sorts v). */
static double quantile(double *v, size_t n, double q)
{
	double pos, frac;
	size_t i;

	if (n == 0)
		return NAN;
	qsort(v, n, sizeof *v, cmp_double);
	pos = q * (double)(n - 1);
	i = (size_t)pos;
	frac = pos - (double)i;
	return i + 1 < n ? v[i] * (1 - frac) + v[i + 1] * frac : v[i];
}

/* ---- metrics: a flat name -> value list, written as JSON --------------- */

typedef struct metric {
	char name[96];
	double v;
} metric;

static metric *g_m;
static size_t g_nm, g_cm;

static void put(double v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(double v, const char *fmt, ...)
{
	va_list ap;

	if (g_nm == g_cm) {
		g_cm = g_cm ? g_cm * 2 : 256;
		g_m = realloc(g_m, g_cm * sizeof *g_m);
		if (g_m == NULL)
			die("out of memory");
	}
	va_start(ap, fmt);
	vsnprintf(g_m[g_nm].name, sizeof g_m[g_nm].name, fmt, ap);
	va_end(ap);
	g_m[g_nm++].v = v;
}

static const metric *get(const char *name)
{
	size_t i;

	for (i = g_nm; i-- > 0;)
		if (strcmp(g_m[i].name, name) == 0)
			return &g_m[i];
	return NULL;
}

static double getv(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static double getv(const char *fmt, ...)
{
	char name[96];
	const metric *m;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	m = get(name);
	return m ? m->v : NAN;
}

/* ---- counting allocator ------------------------------------------------- */

typedef struct counting {
	long long cur, peak, allocs;
} counting;

#define HDR 16 /* keeps malloc's alignment */

static void count_add(counting *c, long long d)
{
	long long v = __atomic_add_fetch(&c->cur, d, __ATOMIC_RELAXED);
	long long p = __atomic_load_n(&c->peak, __ATOMIC_RELAXED);

	while (v > p && !__atomic_compare_exchange_n(&c->peak, &p, v, 1,
	                                             __ATOMIC_RELAXED,
	                                             __ATOMIC_RELAXED))
		;
}

static void *c_malloc(void *ctx, size_t n)
{
	char *p = malloc(n + HDR);

	if (p == NULL)
		return NULL;
	*(size_t *)p = n;
	count_add(ctx, (long long)n);
	__atomic_add_fetch(&((counting *)ctx)->allocs, 1, __ATOMIC_RELAXED);
	return p + HDR;
}

static void c_free(void *ctx, void *q)
{
	char *p;

	if (q == NULL)
		return;
	p = (char *)q - HDR;
	count_add(ctx, -(long long)*(size_t *)p);
	free(p);
}

static void *c_realloc(void *ctx, void *q, size_t n)
{
	char *p, *np;
	size_t old;

	if (q == NULL)
		return c_malloc(ctx, n);
	p = (char *)q - HDR;
	old = *(size_t *)p;
	np = realloc(p, n + HDR);
	if (np == NULL)
		return NULL;
	*(size_t *)np = n;
	count_add(ctx, (long long)n - (long long)old);
	return np + HDR;
}

static long long counting_cur(counting *c)
{
	return __atomic_load_n(&c->cur, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------------ */
/* Tables                                                                   */
/* ------------------------------------------------------------------------ */

static const char *const VINDEXES[] = {"hash", "xxhash", "numeric"};
#define NVINDEXES 3

/* Keyspace "ks" with nshards even shards, one vindex of each type above
 * ("v_hash"...), tables "t_hash", "t_xxhash", "t_numeric" routed through
 * them, and extra tables x0..x{extra-1} through xxhash. */
static router_table *build_table(unsigned nshards, unsigned extra,
                                 const router_allocator *a)
{
	const char *cols[] = {"id"};
	router_builder *b;
	router_table *t;
	router_error e;
	char name[32];
	unsigned i;

	if (router_builder_create(&b, a, &e) != ROUTER_OK)
		die("builder: %s", e.message);
	if (router_builder_add_keyspace(b, "ks", 1, &e) != ROUTER_OK)
		die("keyspace: %s", e.message);
	for (i = 0; i < nshards; i++) {
		if (router_shard_range_name(i, nshards, name, sizeof name) !=
		        ROUTER_OK ||
		    router_builder_add_shard(b, "ks", name, &e) != ROUTER_OK)
			die("shard %u/%u: %s", i, nshards, e.message);
	}
	for (i = 0; i < NVINDEXES; i++) {
		char vn[32], tn[32];

		snprintf(vn, sizeof vn, "v_%s", VINDEXES[i]);
		snprintf(tn, sizeof tn, "t_%s", VINDEXES[i]);
		if (router_builder_add_vindex(b, "ks", vn, VINDEXES[i], NULL, 0,
		                              NULL, &e) != ROUTER_OK ||
		    router_builder_add_table(b, "ks", tn, ROUTER_TABLE_NORMAL,
		                             NULL, &e) != ROUTER_OK ||
		    router_builder_add_column_vindex(b, "ks", tn, vn, cols, 1,
		                                     &e) != ROUTER_OK)
			die("vindex %s: %s", VINDEXES[i], e.message);
	}
	for (i = 0; i < extra; i++) {
		snprintf(name, sizeof name, "x%u", i);
		if (router_builder_add_table(b, "ks", name, ROUTER_TABLE_NORMAL,
		                             NULL, &e) != ROUTER_OK ||
		    router_builder_add_column_vindex(b, "ks", name, "v_xxhash",
		                                     cols, 1, &e) != ROUTER_OK)
			die("table %s: %s", name, e.message);
	}
	if (router_table_build(b, &t, &e) != ROUTER_OK)
		die("build: %s", e.message);
	router_builder_free(b);
	return t;
}

static const router__tdef *resolve(const router_table *t, const char *tn)
{
	const router__tdef *d;

	if (router__table_resolve(t, "ks", 2, tn, strlen(tn), &d, NULL) !=
	    ROUTER_OK)
		die("resolve %s", tn);
	return d;
}

/* ------------------------------------------------------------------------ */
/* The systems under test                                                   */
/* ------------------------------------------------------------------------ */

/* A table behind a lock, as an application would write it. */
typedef struct locked {
	pthread_rwlock_t rw;
	pthread_mutex_t mu;
	router_table *t;
	const router__tdef *d;
} locked;

typedef struct world {
	unsigned nshards;
	int vi; /* index in VINDEXES */
	char tname[32];
	/* floor: a frozen table nobody writes */
	router_table *ft;
	const router__tdef *fd;
	router *r;
	router_handle *h;
	locked rw, mu;
	minimal min; /* the hand-written baseline (minimal.h) */
	uint64_t *keys; /* CHUNK random keys, full uint64 range */
} world;

static void locked_init(locked *l, unsigned nshards, const char *tn)
{
	pthread_rwlock_init(&l->rw, NULL);
	pthread_mutex_init(&l->mu, NULL);
	l->t = build_table(nshards, 0, NULL);
	l->d = resolve(l->t, tn);
}

/* The minimal lookup must give librouter's answer: for every key, the
 * same shard (index, name) from the floor, a handle, a lookup by names and
 * a batch, and the same keyspace ID.  Aborts on the first difference: a
 * baseline that answers something else measures nothing. */
static void world_check(world *w)
{
	router_route_result a, b, c, f;
	uint32_t ids[BATCH];
	size_t i, tl = strlen(w->tname);

	if (router_handle_route_uint64(w->h, w->keys[0], &a) != ROUTER_OK)
		die("check: handle lookup failed");
	w->min.version = a.version;
	for (i = 0; i < CHUNK; i++) {
		uint64_t key = w->keys[i];
		router_value v = ROUTER_VALUE_UINT64(key);
		uint32_t m = minimal_route(&w->min, key);

		minimal_route_full(&w->min, key, &f);
		if (router_handle_route_uint64(w->h, key, &a) != ROUTER_OK ||
		    router__tdef_route_u64(w->ft, w->fd, key, 1, &b) !=
		        ROUTER_OK ||
		    router_route(w->r, "ks", 2, w->tname, tl, &v, 1, &c,
		                 NULL) != ROUTER_OK)
			die("check: lookup of %" PRIu64 " failed", key);
		if (i % BATCH == 0 &&
		    router_handle_route_batch(w->h, w->keys + i, BATCH, 1, ids,
		                              NULL, NULL) != ROUTER_OK)
			die("check: batch failed");
		if (m != a.shard_index || m != b.shard_index ||
		    m != c.shard_index || f.shard_index != m ||
		    ids[i % BATCH] != a.shard_id ||
		    strcmp(f.shard, a.shard) != 0 ||
		    f.shard_len != a.shard_len || f.version != a.version ||
		    a.ksid_len != 8 || memcmp(f.ksid, a.ksid, 8) != 0) {
			fprintf(stderr,
			        "bench: minimal lookup differs from librouter: "
			        "%u shards, %s, key %" PRIu64 ": minimal %u (%s), "
			        "handle %u (%s), floor %u, names %u\n",
			        w->nshards, VINDEXES[w->vi], key, m, f.shard,
			        a.shard_index, a.shard, b.shard_index,
			        c.shard_index);
			abort();
		}
	}
}

static void world_init(world *w, unsigned nshards, int vi,
                       const router_options *opt)
{
	router_error e;
	uint64_t x = 0x9E3779B97F4A7C15ull ^ nshards;
	unsigned i;

	memset(w, 0, sizeof *w);
	w->nshards = nshards;
	w->vi = vi;
	snprintf(w->tname, sizeof w->tname, "t_%s", VINDEXES[vi]);
	w->ft = build_table(nshards, 0, NULL);
	w->fd = resolve(w->ft, w->tname);
	if (router_create(&w->r, opt, &e) != ROUTER_OK)
		die("router_create: %s", e.message);
	if (router_publish(w->r,
	                   build_table(nshards, 0,
	                               opt ? opt->allocator : NULL),
	                   0, NULL, &e) != ROUTER_OK)
		die("publish: %s", e.message);
	if (router_handle_open(w->r, "ks", 2, w->tname, strlen(w->tname),
	                       &w->h, &e) != ROUTER_OK)
		die("handle: %s", e.message);
	locked_init(&w->rw, nshards, w->tname);
	locked_init(&w->mu, nshards, w->tname);
	w->keys = malloc(CHUNK * sizeof *w->keys);
	if (w->keys == NULL)
		die("out of memory");
	for (i = 0; i < CHUNK; i++) { /* xorshift64* */
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		w->keys[i] = x * 0x2545F4914F6CDD1Dull;
	}
	minimal_init(&w->min,
	             vi == 0 ? MINIMAL_HASH
	                     : vi == 1 ? MINIMAL_XXHASH : MINIMAL_NUMERIC,
	             nshards, 0);
	world_check(w);
}

static void world_fini(world *w)
{
	minimal_fini(&w->min);
	router_handle_free(w->h);
	router_free(w->r);
	router_table_free(w->ft);
	router_table_free(w->rw.t);
	router_table_free(w->mu.t);
	pthread_rwlock_destroy(&w->rw.rw);
	pthread_mutex_destroy(&w->mu.mu);
	pthread_rwlock_destroy(&w->mu.rw);
	pthread_mutex_destroy(&w->rw.mu);
	free(w->keys);
}

/* ---- chunk functions: n lookups over keys, returning a sink ------------ */

typedef uint64_t (*chunk_fn)(world *w, const uint64_t *keys, size_t n);

static uint64_t c_floor(world *w, const uint64_t *keys, size_t n)
{
	router_route_result res;
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		router__tdef_route_u64(w->ft, w->fd, keys[i], 1, &res);
		s += res.shard_index;
	}
	return s;
}

/* The baseline: the hand-written minimal lookup (minimal.h). */
static uint64_t c_minimal(world *w, const uint64_t *keys, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += minimal_route(&w->min, keys[i]);
	return s;
}

/* The same, filling a whole result as a handle lookup does. */
static uint64_t c_minres(world *w, const uint64_t *keys, size_t n)
{
	router_route_result res;
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		minimal_route_full(&w->min, keys[i], &res);
		s += res.shard_index;
	}
	return s;
}

/* The floor of a batch: the same shard-id-only body, no synchronization. */
static uint64_t c_floor_id(world *w, const uint64_t *keys, size_t n)
{
	uint32_t id;
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		router__tdef_route_id(w->ft, w->fd, keys[i], 1, &id);
		s += id;
	}
	return s;
}

static uint64_t c_handle(world *w, const uint64_t *keys, size_t n)
{
	router_route_result res;
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		router_handle_route_uint64(w->h, keys[i], &res);
		s += res.shard_index;
	}
	return s;
}

static uint64_t c_names(world *w, const uint64_t *keys, size_t n)
{
	router_route_result res;
	size_t tl = strlen(w->tname), i;
	uint64_t s = 0;

	for (i = 0; i < n; i++) {
		router_value v = ROUTER_VALUE_UINT64(keys[i]);

		router_route(w->r, "ks", 2, w->tname, tl, &v, 1, &res, NULL);
		s += res.shard_index;
	}
	return s;
}

static uint64_t c_batch(world *w, const uint64_t *keys, size_t n)
{
	uint32_t ids[BATCH];
	uint64_t s = 0;
	size_t i, j;

	for (i = 0; i + BATCH <= n; i += BATCH) {
		router_handle_route_batch(w->h, keys + i, BATCH, 1, ids, NULL,
		                          NULL);
		for (j = 0; j < BATCH; j++)
			s += ids[j];
	}
	return s;
}

static uint64_t c_rwlock(world *w, const uint64_t *keys, size_t n)
{
	router_route_result res;
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		pthread_rwlock_rdlock(&w->rw.rw);
		router__tdef_route_u64(w->rw.t, w->rw.d, keys[i], 1, &res);
		pthread_rwlock_unlock(&w->rw.rw);
		s += res.shard_index;
	}
	return s;
}

static uint64_t c_mutex(world *w, const uint64_t *keys, size_t n)
{
	router_route_result res;
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&w->mu.mu);
		router__tdef_route_u64(w->mu.t, w->mu.d, keys[i], 1, &res);
		pthread_mutex_unlock(&w->mu.mu);
		s += res.shard_index;
	}
	return s;
}

/* The schemes, each paired with its floor. */
typedef struct scheme {
	const char *name;
	chunk_fn fn;
	chunk_fn floor;
} scheme;

static const scheme SCHEMES[] = {
    {"handle", c_handle, c_floor}, {"names", c_names, c_floor},
    {"batch", c_batch, c_floor_id}, {"rwlock", c_rwlock, c_floor},
    {"mutex", c_mutex, c_floor},
};
#define NSCHEMES (sizeof SCHEMES / sizeof SCHEMES[0])

/* Against the minimal lookup (issue 20): every column paired with it,
 * and names paired with the handle directly (its own target). */
static const scheme BASE_SCHEMES[] = {
    {"minres", c_minres, c_minimal}, {"floor", c_floor, c_minimal},
    {"handle", c_handle, c_minimal}, {"batch", c_batch, c_minimal},
    {"names", c_names, c_minimal},   {"rwlock", c_rwlock, c_minimal},
    {"mutex", c_mutex, c_minimal},   {"names_vs_handle", c_names, c_handle},
};
#define NBASE (sizeof BASE_SCHEMES / sizeof BASE_SCHEMES[0])
#define MAXSCHEMES 8

/* ------------------------------------------------------------------------ */
/* The writer                                                               */
/* ------------------------------------------------------------------------ */

enum { W_NONE = 0, W_1000 = 1, W_MAX = 2 };
static const char *const WNAMES[] = {"0", "1000", "max"};

typedef struct writer {
	world *w;
	int mode;
	int only_router; /* publish to the router only */
	volatile int stop;
	volatile int gate; /* 0: pause (skip publishes), 1: publish */
	uint64_t publishes;
	double t0, t1;
	pthread_t th;
} writer;

static void swap_locked(locked *l, int is_rw, unsigned nshards,
                        const char *tn)
{
	router_table *t = build_table(nshards, 0, NULL), *old;
	const router__tdef *d = resolve(t, tn);

	if (is_rw)
		pthread_rwlock_wrlock(&l->rw);
	else
		pthread_mutex_lock(&l->mu);
	old = l->t;
	l->t = t;
	l->d = d;
	if (is_rw)
		pthread_rwlock_unlock(&l->rw);
	else
		pthread_mutex_unlock(&l->mu);
	router_table_free(old);
}

static void *writer_main(void *arg)
{
	writer *wr = arg;
	world *w = wr->w;
	struct timespec next;
	router_error e;

	clock_gettime(CLOCK_MONOTONIC, &next);
	wr->t0 = now_s();
	while (!__atomic_load_n(&wr->stop, __ATOMIC_RELAXED)) {
		if (__atomic_load_n(&wr->gate, __ATOMIC_RELAXED)) {
			router_table *t = build_table(w->nshards, 0, NULL);

			if (router_publish(w->r, t, 0, NULL, &e) != ROUTER_OK)
				die("writer publish: %s", e.message);
			if (!wr->only_router) {
				swap_locked(&w->rw, 1, w->nshards, w->tname);
				swap_locked(&w->mu, 0, w->nshards, w->tname);
			}
			wr->publishes++;
		}
		if (wr->mode == W_1000) {
			next.tv_nsec += 1000000;
			if (next.tv_nsec >= 1000000000) {
				next.tv_nsec -= 1000000000;
				next.tv_sec++;
			}
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
			                NULL);
		}
	}
	wr->t1 = now_s();
	return NULL;
}

static void writer_start(writer *wr, world *w, int mode, int only_router)
{
	memset(wr, 0, sizeof *wr);
	wr->w = w;
	wr->mode = mode;
	wr->only_router = only_router;
	wr->gate = 1;
	if (mode != W_NONE &&
	    pthread_create(&wr->th, NULL, writer_main, wr) != 0)
		die("pthread_create");
}

/* Publishes per second achieved. */
static double writer_stop(writer *wr)
{
	if (wr->mode == W_NONE)
		return 0;
	__atomic_store_n(&wr->stop, 1, __ATOMIC_RELAXED);
	pthread_join(wr->th, NULL);
	return (double)wr->publishes / (wr->t1 - wr->t0);
}

/* ------------------------------------------------------------------------ */
/* 1. Lookups                                                               */
/* ------------------------------------------------------------------------ */

#define MAXR 2
#define MAXROUNDS 64

typedef struct reader_arg {
	world *w;
	pthread_barrier_t *bar;
	int nreaders, rounds;
	const scheme *sch; /* SCHEMES unless set */
	size_t nsch;
	/* out: per round, per scheme: seconds for scheme and floor */
	double ts[MAXROUNDS][MAXSCHEMES], tf[MAXROUNDS][MAXSCHEMES];
	uint64_t sink;
} reader_arg;

static void sync_readers(reader_arg *a)
{
	if (a->nreaders > 1)
		pthread_barrier_wait(a->bar);
}

static double timed(reader_arg *a, chunk_fn fn)
{
	double t0, t1;

	sync_readers(a);
	t0 = now_s();
	a->sink += fn(a->w, a->w->keys, CHUNK);
	t1 = now_s();
	return t1 - t0;
}

static void *reader_main(void *p)
{
	reader_arg *a = p;
	size_t s;
	int k;

	const scheme *sch = a->sch ? a->sch : SCHEMES;
	size_t nsch = a->sch ? a->nsch : NSCHEMES;

	router_thread_register(NULL);
	/* warm-up: every scheme once */
	for (s = 0; s < nsch; s++) {
		(void)timed(a, sch[s].floor);
		(void)timed(a, sch[s].fn);
	}
	for (k = 0; k < a->rounds; k++)
		for (s = 0; s < nsch; s++) {
			/* alternate the order to cancel drift within a pair */
			if ((k + (int)s) & 1) {
				a->tf[k][s] = timed(a, sch[s].floor);
				a->ts[k][s] = timed(a, sch[s].fn);
			} else {
				a->ts[k][s] = timed(a, sch[s].fn);
				a->tf[k][s] = timed(a, sch[s].floor);
			}
		}
	return NULL;
}

static void run_readers(world *w, int nreaders, int rounds, reader_arg *args,
                        void *(*fn)(void *), const scheme *sch, size_t nsch)
{
	pthread_t th[MAXR];
	pthread_barrier_t bar;
	int i;

	pthread_barrier_init(&bar, NULL, (unsigned)nreaders);
	for (i = 0; i < nreaders; i++) {
		memset(&args[i], 0, sizeof args[i]);
		args[i].w = w;
		args[i].bar = &bar;
		args[i].nreaders = nreaders;
		args[i].rounds = rounds;
		args[i].sch = sch;
		args[i].nsch = nsch;
		if (pthread_create(&th[i], NULL, fn, &args[i]) != 0)
			die("pthread_create");
	}
	for (i = 0; i < nreaders; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
}

static void lookup_config(world *w, int wmode, int nreaders, int rounds)
{
	static reader_arg args[MAXR];
	const char *vn = VINDEXES[w->vi];
	double rate, v[MAXR * MAXROUNDS], fl[MAXR * MAXROUNDS];
	writer wr;
	size_t s;
	int i, k, n;
	char pre[64];

	snprintf(pre, sizeof pre, "lookup.n%u.%s.w%s.r%d", w->nshards, vn,
	         WNAMES[wmode], nreaders);
	writer_start(&wr, w, wmode, 0);
	if (wmode != W_NONE)
		usleep(20000); /* let the writer reach its pace */
	run_readers(w, nreaders, rounds, args, reader_main, NULL, 0);
	rate = writer_stop(&wr);
	put(rate, "%s.writer_per_s", pre);
	for (s = 0; s < NSCHEMES; s++) {
		double tot_s = 0, tot_f = 0;

		for (n = 0, i = 0; i < nreaders; i++)
			for (k = 0; k < rounds; k++, n++) {
				v[n] = args[i].ts[k][s] / args[i].tf[k][s];
				fl[n] = args[i].tf[k][s];
				tot_s += args[i].ts[k][s];
				tot_f += args[i].tf[k][s];
			}
		put(quantile(v, (size_t)n, 0.5), "%s.%s.ratio", pre,
		    SCHEMES[s].name);
		put(quantile(v, (size_t)n, 0.25), "%s.%s.ratio_p25", pre,
		    SCHEMES[s].name);
		put(quantile(v, (size_t)n, 0.75), "%s.%s.ratio_p75", pre,
		    SCHEMES[s].name);
		for (n = 0, i = 0; i < nreaders; i++)
			for (k = 0; k < rounds; k++, n++)
				v[n] = args[i].ts[k][s] * 1e9 / CHUNK;
		put(quantile(v, (size_t)n, 0.5), "%s.%s.ns", pre,
		    SCHEMES[s].name);
		for (k = 0; k < n; k++)
			fl[k] = fl[k] * 1e9 / CHUNK;
		put(quantile(fl, (size_t)n, 0.5), "%s.%s.floor_ns", pre,
		    SCHEMES[s].name);
		/* all readers together, lookups per second (time-weighted) */
		put((double)nreaders * CHUNK * rounds / tot_s * 1e-6,
		    "%s.%s.mlookups_per_s", pre, SCHEMES[s].name);
		(void)tot_f;
	}
	/* Throughput against the rwlock, floor-normalized (robust to the
	 * host's speed changes): rwlock ratio / handle ratio. */
	put(getv("%s.rwlock.ratio", pre) / getv("%s.handle.ratio", pre),
	    "%s.handle_vs_rwlock_throughput", pre);
	put(getv("%s.mutex.ratio", pre) / getv("%s.handle.ratio", pre),
	    "%s.handle_vs_mutex_throughput", pre);
}

/* ---- against the minimal lookup (issue 20) ------------------------------ *
 * One reader, no writer: each column of BASE_SCHEMES alternates chunks
 * with the minimal lookup in the same thread.  base.nN.V.S.ratio is S /
 * minimal (names_vs_handle: names / handle), .ns its ns per lookup. */
static void baseline_config(world *w, int rounds)
{
	static reader_arg args[1];
	double v[MAXROUNDS];
	size_t s;
	int k;
	char pre[64];

	snprintf(pre, sizeof pre, "base.n%u.%s", w->nshards, VINDEXES[w->vi]);
	run_readers(w, 1, rounds, args, reader_main, BASE_SCHEMES, NBASE);
	for (k = 0; k < rounds; k++)
		v[k] = args[0].tf[k][2] * 1e9 / CHUNK; /* minimal beside handle */
	put(quantile(v, (size_t)rounds, 0.5), "%s.minimal.ns", pre);
	for (s = 0; s < NBASE; s++) {
		for (k = 0; k < rounds; k++)
			v[k] = args[0].ts[k][s] / args[0].tf[k][s];
		put(quantile(v, (size_t)rounds, 0.5), "%s.%s.ratio", pre,
		    BASE_SCHEMES[s].name);
		put(quantile(v, (size_t)rounds, 0.25), "%s.%s.ratio_p25", pre,
		    BASE_SCHEMES[s].name);
		put(quantile(v, (size_t)rounds, 0.75), "%s.%s.ratio_p75", pre,
		    BASE_SCHEMES[s].name);
		for (k = 0; k < rounds; k++)
			v[k] = args[0].ts[k][s] * 1e9 / CHUNK;
		put(quantile(v, (size_t)rounds, 0.5), "%s.%s.ns", pre,
		    BASE_SCHEMES[s].name);
	}
}

/* ---- the writer's effect on readers, paired directly -------------------- *
 * Readers alternate chunks of handle lookups with the 1,000/s writer paused
 * and publishing (reader 0 flips the gate between chunks, behind a
 * barrier).  Chunks are 8 x CHUNK lookups (several ms: several publishes
 * per "on" chunk). */

typedef struct gate_arg {
	reader_arg ra;
	writer *wr;
	double on[MAXROUNDS], off[MAXROUNDS];
} gate_arg;

static void *gate_main(void *p)
{
	gate_arg *g = p;
	reader_arg *a = &g->ra;
	int k, j, phase;

	router_thread_register(NULL);
	(void)timed(a, c_handle);
	for (k = 0; k < a->rounds; k++)
		for (phase = 0; phase < 2; phase++) {
			int on = phase ^ (k & 1);
			double t = 0;

			sync_readers(a);
			if (a == &((gate_arg *)p)->ra && g->wr != NULL)
				__atomic_store_n(&g->wr->gate, on,
				                 __ATOMIC_RELAXED);
			for (j = 0; j < 8; j++)
				t += timed(a, c_handle);
			if (on)
				g->on[k] = t;
			else
				g->off[k] = t;
		}
	return NULL;
}

static void writer_effect(world *w, int nreaders, int rounds)
{
	static gate_arg ga[MAXR];
	pthread_t th[MAXR];
	pthread_barrier_t bar;
	double v[MAXR * MAXROUNDS], rate;
	writer wr;
	int i, k, n;
	char pre[64];

	snprintf(pre, sizeof pre, "writer_effect.n%u.%s.r%d", w->nshards,
	         VINDEXES[w->vi], nreaders);
	writer_start(&wr, w, W_1000, 1);
	pthread_barrier_init(&bar, NULL, (unsigned)nreaders);
	for (i = 0; i < nreaders; i++) {
		memset(&ga[i], 0, sizeof ga[i]);
		ga[i].ra.w = w;
		ga[i].ra.bar = &bar;
		ga[i].ra.nreaders = nreaders;
		ga[i].ra.rounds = rounds;
		ga[i].wr = i == 0 ? &wr : NULL;
		if (pthread_create(&th[i], NULL, gate_main, &ga[i]) != 0)
			die("pthread_create");
	}
	for (i = 0; i < nreaders; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	wr.gate = 1;
	rate = writer_stop(&wr);
	for (n = 0, i = 0; i < nreaders; i++)
		for (k = 0; k < rounds; k++)
			v[n++] = ga[i].on[k] / ga[i].off[k];
	put(quantile(v, (size_t)n, 0.5), "%s.on_over_off", pre);
	put(quantile(v, (size_t)n, 0.25), "%s.on_over_off_p25", pre);
	put(quantile(v, (size_t)n, 0.75), "%s.on_over_off_p75", pre);
	/* publishes/s while the gate was open (about half the run) */
	put(rate * 2, "%s.writer_per_s_when_on", pre);
}

/* ------------------------------------------------------------------------ */
/* 2. Publish cost                                                          */
/* ------------------------------------------------------------------------ */

static void publish_cost(unsigned nshards, unsigned extra, int reps)
{
	double tb[64], tp[64], tf[64];
	router *r;
	router_error e;
	int i;

	if (reps > 64)
		reps = 64;
	if (router_create(&r, NULL, &e) != ROUTER_OK)
		die("router_create");
	router_publish(r, build_table(nshards, extra, NULL), 0, NULL, &e);
	for (i = 0; i < reps; i++) {
		double t0 = now_s(), t1, t2;
		router_table *t = build_table(nshards, extra, NULL);

		t1 = now_s();
		if (router_publish(r, t, 0, NULL, &e) != ROUTER_OK)
			die("publish: %s", e.message);
		t2 = now_s();
		tb[i] = (t1 - t0) * 1e6;
		tp[i] = (t2 - t1) * 1e6;
		tf[i] = (t2 - t0) * 1e6;
	}
	router_free(r);
	put(quantile(tb, (size_t)reps, 0.5), "publish.n%u.t%u.build_us",
	    nshards, extra + 3);
	put(quantile(tp, (size_t)reps, 0.5), "publish.n%u.t%u.publish_us",
	    nshards, extra + 3);
	put(quantile(tf, (size_t)reps, 0.5), "publish.n%u.t%u.total_us",
	    nshards, extra + 3);
	put(quantile(tf, (size_t)reps, 0.25), "publish.n%u.t%u.total_us_p25",
	    nshards, extra + 3);
	put(quantile(tf, (size_t)reps, 0.75), "publish.n%u.t%u.total_us_p75",
	    nshards, extra + 3);
}

/* ------------------------------------------------------------------------ */
/* 3. Memory                                                                */
/* ------------------------------------------------------------------------ */

static long long table_bytes(unsigned nshards, unsigned extra)
{
	counting c = {0, 0, 0};
	router_allocator a = {c_malloc, c_realloc, c_free, &c};
	router_table *t = build_table(nshards, extra, &a);
	long long n = counting_cur(&c);

	router_table_free(t);
	if (counting_cur(&c) != 0)
		die("table of %u shards leaks %lld bytes", nshards,
		    counting_cur(&c));
	return n;
}

typedef struct mem_reader {
	router_handle *h;
	const uint64_t *keys;
	volatile int *stop;
	uint64_t n, sink;
} mem_reader;

static void *mem_reader_main(void *p)
{
	mem_reader *m = p;
	router_route_result res;
	size_t i = 0;

	router_thread_register(NULL);
	while (!__atomic_load_n(m->stop, __ATOMIC_RELAXED)) {
		router_handle_route_uint64(m->h, m->keys[i++ & (CHUNK - 1)],
		                           &res);
		m->sink += res.shard_index;
		m->n++;
	}
	return NULL;
}

/* A writer publishes at full speed for secs seconds with nreaders readers
 * routing; memory (router + tables, all through one counting allocator)
 * must stay below base + (history + RECLAIM_LIMIT + 2) tables. */
static int memory_bounded(unsigned nshards, double secs, int nreaders)
{
	counting c = {0, 0, 0};
	router_allocator a = {c_malloc, c_realloc, c_free, &c};
	router_options o = ROUTER_OPTIONS_INIT;
	world w;
	mem_reader mr[MAXR];
	pthread_t th[MAXR];
	volatile int stop = 0;
	router_stats st;
	router_error e;
	long long base, tb, bound, peak = 0, cur;
	double t0, t;
	uint64_t pubs = 0, lookups = 0;
	int i, ok;

	tb = table_bytes(nshards, 0);
	o.allocator = &a;
	world_init(&w, nshards, 1, &o);
	base = counting_cur(&c); /* router + one table in service + handle */
	c.peak = base;
	bound = base + (long long)(o.history + ROUTER_RECLAIM_LIMIT + 2) * tb;
	for (i = 0; i < nreaders; i++) {
		mr[i] = (mem_reader){w.h, w.keys, &stop, 0, 0};
		pthread_create(&th[i], NULL, mem_reader_main, &mr[i]);
	}
	t0 = now_s();
	do {
		router_table *nt = build_table(nshards, 0, &a);

		if (router_publish(w.r, nt, 0, NULL, &e) != ROUTER_OK)
			die("publish: %s", e.message);
		pubs++;
		cur = counting_cur(&c);
		if (cur > peak)
			peak = cur;
		t = now_s() - t0;
	} while (t < secs);
	stop = 1;
	for (i = 0; i < nreaders; i++) {
		pthread_join(th[i], NULL);
		lookups += mr[i].n;
	}
	router_stats_get(w.r, &st, sizeof st);
	peak = c.peak; /* the allocator's own peak, including mid-publish */
	ok = peak <= bound;
	put(secs, "memory.n%u.bounded.seconds", nshards);
	put((double)pubs / t, "memory.n%u.bounded.publishes_per_s", nshards);
	put((double)lookups / t * 1e-6, "memory.n%u.bounded.mlookups_per_s",
	    nshards);
	put((double)tb, "memory.n%u.bounded.table_bytes", nshards);
	put((double)base, "memory.n%u.bounded.base_bytes", nshards);
	put((double)peak, "memory.n%u.bounded.peak_bytes", nshards);
	put((double)bound, "memory.n%u.bounded.bound_bytes", nshards);
	put((double)(peak - base) / (double)tb,
	    "memory.n%u.bounded.peak_extra_tables", nshards);
	put((double)(o.history + ROUTER_RECLAIM_LIMIT + 2),
	    "memory.n%u.bounded.bound_extra_tables", nshards);
	put((double)(st.tables_retired - st.tables_freed),
	    "memory.n%u.bounded.pending_at_end", nshards);
	put(ok, "memory.n%u.bounded.ok", nshards);
	world_fini(&w);
	put((double)counting_cur(&c), "memory.n%u.bounded.leaked_bytes",
	    nshards);
	return ok;
}

/* ------------------------------------------------------------------------ */
/* 4. Vindexes alone                                                        */
/* ------------------------------------------------------------------------ */

static const char *const VTYPES[] = {"hash",         "xxhash", "numeric",
                                     "reverse_bits", "binary_md5",
                                     "binary",       "null"};
#define NVTYPES (sizeof VTYPES / sizeof VTYPES[0])

static void vindex_cost(const uint64_t *keys, int rounds)
{
	size_t vi;

	for (vi = 0; vi < NVTYPES; vi++) {
		router_vindex *v;
		router_error e;
		double pub[MAXROUNDS], in[MAXROUNDS], rr[MAXROUNDS];
		uint64_t sink = 0;
		int k;

		if (router_vindex_create(&v, VTYPES[vi], NULL, 0, NULL, &e) !=
		    ROUTER_OK)
			die("vindex %s: %s", VTYPES[vi], e.message);
		for (k = 0; k < rounds; k++) {
			/* buf: router__vindex_map_u64 scratch */
			uint8_t out[32], buf[ROUTER_KSID_MAX];
			const uint8_t *ks;
			size_t len, i;
			double t0 = now_s(), t1, t2;

			for (i = 0; i < CHUNK; i++) {
				router_value val = ROUTER_VALUE_UINT64(keys[i]);

				router_vindex_map(v, &val, 1, out, sizeof out,
				                  &len, NULL);
				sink += out[0];
			}
			t1 = now_s();
			/* router_vindex is the compiled router__vindex. */
			for (i = 0; i < CHUNK; i++) {
				router__vindex_map_u64(
				    (const router__vindex *)(const void *)v,
				    keys[i], 1, buf, &ks, &len);
				sink += ks[0];
			}
			t2 = now_s();
			pub[k] = (t1 - t0) * 1e9 / CHUNK;
			in[k] = (t2 - t1) * 1e9 / CHUNK;
			rr[k] = pub[k] / in[k];
		}
		put(quantile(pub, (size_t)rounds, 0.5), "vindex.%s.map_ns",
		    VTYPES[vi]);
		put(quantile(in, (size_t)rounds, 0.5), "vindex.%s.map_u64_ns",
		    VTYPES[vi]);
		put(quantile(rr, (size_t)rounds, 0.5),
		    "vindex.%s.map_over_map_u64", VTYPES[vi]);
		if (sink == 42)
			fputc(' ', stderr);
		router_vindex_free(v);
	}
}

/* ---- the catalogue's vindexes (issue 20) -------------------------------- *
 * The vindexes that take text or several columns, or a lookup's rows: one
 * table of 256 shards with that vindex primary (a lookup_hash column
 * beside a hash primary), handle lookups (router_handle_route*, or
 * router_route_column with a resolver that adds one row) over CAT_KEYS
 * keys; median ns per lookup of `rounds` chunks.  No minimal lookup
 * exists for these: the figure is the ns alone. */
#define CAT_KEYS 4096u
#define CAT_PASSES 1u /* over the keys per timed round */
#define CAT_SHARDS 256u

typedef enum { CAT_TEXT, CAT_REGION, CAT_LOOKUP } cat_kind;

static const struct {
	const char *name, *type;
	router_param params[3];
	size_t nparams;
	cat_kind kind;
} CATALOGUE[] = {
    {"unicode_loose_md5", "unicode_loose_md5", {{NULL, NULL}}, 0, CAT_TEXT},
    {"unicode_loose_xxhash", "unicode_loose_xxhash", {{NULL, NULL}}, 0,
     CAT_TEXT},
    {"cfc_md5", "cfc", {{"hash", "md5"}, {"offsets", "[2,6]"}}, 2, CAT_TEXT},
    {"cfc_xxhash64",
     "cfc",
     {{"hash", "xxhash64"}, {"offsets", "[2,6]"}},
     2,
     CAT_TEXT},
    {"region_json",
     "region_json",
     {{"region_map_json", "{\"Americas\":1,\"Europe\":2,\"Asia\":3}"},
      {"region_bytes", "1"}},
     2,
     CAT_REGION},
    {"lookup_hash_1row",
     "lookup_hash",
     {{"table", "ks.c_idx"}, {"from", "c"}, {"to", "id"}},
     3,
     CAT_LOOKUP},
};
#define NCATALOGUE (sizeof CATALOGUE / sizeof CATALOGUE[0])

static const char *const CAT_REGIONS[] = {"Americas", "Europe", "Asia"};

/* The lookup's row: the bound value maps to one id (its own hash then
 * places it). */
static int cat_resolve(void *ctx, const router_lookup_query *q,
                       router_lookup_rows *rows)
{
	router_value to = ROUTER_VALUE_INT64(*(const int64_t *)ctx);

	return router_lookup_rows_add(rows, &q->bind, &to);
}

static router_table *cat_table(size_t c)
{
	const char *id[] = {"id"}, *idreg[] = {"id", "region"}, *col[] = {"c"};
	router_builder *b;
	router_table *t;
	router_error e;
	char name[32];
	unsigned i;

	if (router_builder_create(&b, NULL, &e) != ROUTER_OK ||
	    router_builder_add_keyspace(b, "ks", 1, &e) != ROUTER_OK)
		die("builder: %s", e.message);
	for (i = 0; i < CAT_SHARDS; i++)
		if (router_shard_range_name(i, CAT_SHARDS, name, sizeof name) !=
		        ROUTER_OK ||
		    router_builder_add_shard(b, "ks", name, &e) != ROUTER_OK)
			die("shard: %s", e.message);
	if (router_builder_add_table(b, "ks", "t", ROUTER_TABLE_NORMAL, NULL,
	                             &e) != ROUTER_OK)
		die("table: %s", e.message);
	if (router_builder_add_vindex(b, "ks", "h", "hash", NULL, 0, NULL,
	                              &e) != ROUTER_OK ||
	    router_builder_add_table(b, "ks", "ref", ROUTER_TABLE_NORMAL, NULL,
	                             &e) != ROUTER_OK ||
	    router_builder_add_column_vindex(b, "ks", "ref", "h", id, 1, &e) !=
	        ROUTER_OK ||
	    (CATALOGUE[c].kind == CAT_LOOKUP &&
	     router_builder_add_column_vindex(b, "ks", "t", "h", id, 1, &e) !=
	         ROUTER_OK))
		die("hash: %s", e.message);
	if (router_builder_add_vindex(b, "ks", "v", CATALOGUE[c].type,
	                              CATALOGUE[c].params,
	                              CATALOGUE[c].nparams,
	                              CATALOGUE[c].kind == CAT_LOOKUP ? "t"
	                                                              : NULL,
	                              &e) != ROUTER_OK ||
	    router_builder_add_column_vindex(
	        b, "ks", "t", "v",
	        CATALOGUE[c].kind == CAT_REGION
	            ? idreg
	            : CATALOGUE[c].kind == CAT_LOOKUP ? col : id,
	        CATALOGUE[c].kind == CAT_REGION ? 2 : 1, &e) != ROUTER_OK)
		die("vindex %s: %s", CATALOGUE[c].name, e.message);
	if (router_table_build(b, &t, &e) != ROUTER_OK)
		die("build %s: %s", CATALOGUE[c].name, e.message);
	router_builder_free(b);
	return t;
}

static void catalogue_cost(size_t c, int rounds)
{
	static char text[CAT_KEYS][24];
	static uint8_t len[CAT_KEYS];
	router *r;
	router_handle *h, *ref;
	router_error e;
	router_route_result res;
	double ns[MAXROUNDS], ratio[MAXROUNDS], refns[MAXROUNDS];
	uint64_t x = 0x9E3779B97F4A7C15ull, sink = 0;
	int64_t row_id = 42;
	size_t i, n;
	int k;

	for (i = 0; i < CAT_KEYS; i++) { /* "Customer-<digits>", mixed case */
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		len[i] = (uint8_t)snprintf(text[i], sizeof text[i], "%s-%" PRIu64,
		                           (x & 1) ? "Customer" : "cUSTOMER",
		                           (uint64_t)(x * 0x2545F4914F6CDD1Dull) %
		                               1000000000u);
	}
	if (router_create(&r, NULL, &e) != ROUTER_OK ||
	    router_publish(r, cat_table(c), 0, NULL, &e) != ROUTER_OK ||
	    router_handle_open(r, "ks", 2, "t", 1, &h, &e) != ROUTER_OK ||
	    router_handle_open(r, "ks", 2, "ref", 3, &ref, &e) != ROUTER_OK)
		die("%s: %s", CATALOGUE[c].name, e.message);
	for (k = -1; k < rounds; k++) { /* round -1 warms up */
		double t0 = now_s(), tr;

		/* Paired: the hash vindex's integer handle lookup first. */
		for (i = 0; i < CAT_PASSES * CAT_KEYS; i++) {
			router_handle_route_int64(ref, (int64_t)i * 7919, &res);
			sink += res.shard_index;
		}
		tr = now_s() - t0;
		t0 = now_s();

		for (i = 0; i < CAT_PASSES * CAT_KEYS; i++) {
			size_t j = i % CAT_KEYS;
			router_value v[2];
			int rc;

			switch (CATALOGUE[c].kind) {
			case CAT_TEXT:
				rc = router_handle_route_bytes(
				    h, ROUTER_SQL_VARCHAR, text[j], len[j], &res);
				break;
			case CAT_REGION:
				v[0] = ROUTER_VALUE_INT64((int64_t)i * 7919);
				v[1] = ROUTER_VALUE_BYTES(
				    ROUTER_SQL_VARCHAR, CAT_REGIONS[i % 3],
				    strlen(CAT_REGIONS[i % 3]));
				rc = router_handle_route(h, v, 2, &res, NULL);
				break;
			default:
				v[0] = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR,
				                          text[j], len[j]);
				row_id = (int64_t)i * 7919;
				rc = router_route_column(r, "ks", 2, "t", 1, "c",
				                         1, v, 1, cat_resolve,
				                         &row_id, &res, 1, &n,
				                         &e);
				break;
			}
			if (rc != ROUTER_OK)
				die("%s: lookup failed (%s)", CATALOGUE[c].name,
				    router_errname(rc));
			sink += res.shard_index;
		}
		if (k >= 0) {
			double t = now_s() - t0;

			ns[k] = t * 1e9 / (CAT_PASSES * CAT_KEYS);
			refns[k] = tr * 1e9 / (CAT_PASSES * CAT_KEYS);
			ratio[k] = t / tr;
		}
	}
	put(quantile(ratio, (size_t)rounds, 0.5),
	    "catalogue.n%u.%s.vs_hash_handle", CAT_SHARDS, CATALOGUE[c].name);
	put(quantile(refns, (size_t)rounds, 0.5),
	    "catalogue.n%u.%s.hash_handle_ns", CAT_SHARDS, CATALOGUE[c].name);
	put(quantile(ns, (size_t)rounds, 0.5), "catalogue.n%u.%s.ns",
	    CAT_SHARDS, CATALOGUE[c].name);
	put(quantile(ns, (size_t)rounds, 0.25), "catalogue.n%u.%s.ns_p25",
	    CAT_SHARDS, CATALOGUE[c].name);
	put(quantile(ns, (size_t)rounds, 0.75), "catalogue.n%u.%s.ns_p75",
	    CAT_SHARDS, CATALOGUE[c].name);
	if (sink == 42)
		fputc(' ', stderr);
	router_handle_free(h);
	router_handle_free(ref);
	router_free(r);
}

/* ------------------------------------------------------------------------ */
/* 5. Instruction counts (callgrind)                                        */
/* ------------------------------------------------------------------------ */

#define CG_LOOKUPS 4096u

static uint64_t cg_vindex(world *w, const uint64_t *keys, size_t n)
{
	uint8_t buf[ROUTER_KSID_MAX];
	const uint8_t *ks;
	size_t len, i;
	uint64_t s = 0;

	for (i = 0; i < n; i++) {
		router__vindex_map_u64(w->fd->primary, keys[i], 1, buf, &ks,
		                       &len);
		s += ks[0];
	}
	return s;
}

typedef struct cg_cell {
	const char *name;
	chunk_fn fn;
} cg_cell;

static const cg_cell CG_CELLS[] = {
    {"minimal", c_minimal},  {"minres", c_minres},
    {"vindex", cg_vindex},   {"floor", c_floor},   {"floor_id", c_floor_id},
    {"handle", c_handle},    {"names", c_names},   {"batch", c_batch},
    {"rwlock", c_rwlock},    {"mutex", c_mutex},
};
#define NCG (sizeof CG_CELLS / sizeof CG_CELLS[0])

/* Child, under valgrind: each cell toggles collection around CG_LOOKUPS
 * lookups (after a warm-up pass) and dumps with its label. */
static void cg_child(const unsigned *ns, size_t nn)
{
	size_t i, vi, c;
	uint64_t sink = 0;

	router_thread_register(NULL);
	for (i = 0; i < nn; i++)
		for (vi = 0; vi < NVINDEXES; vi++) {
			world w;

			world_init(&w, ns[i], (int)vi, NULL);
			for (c = 0; c < NCG; c++) {
				char label[64];

				sink += CG_CELLS[c].fn(&w, w.keys, CG_LOOKUPS);
				CALLGRIND_TOGGLE_COLLECT;
				sink += CG_CELLS[c].fn(&w, w.keys, CG_LOOKUPS);
				CALLGRIND_TOGGLE_COLLECT;
				snprintf(label, sizeof label, "cg.n%u.%s.%s",
				         ns[i], VINDEXES[vi], CG_CELLS[c].name);
				CALLGRIND_DUMP_STATS_AT(label);
			}
			world_fini(&w);
		}
	if (sink == 42)
		fputc(' ', stderr);
}

static void cg_parent(const char *self, const char *dir, const char *ns_arg)
{
	char cmd[4096], path[1200], line[512];
	int i;

	snprintf(cmd, sizeof cmd,
	         "rm -rf '%s' && mkdir -p '%s' && valgrind --tool=callgrind "
	         "--collect-atstart=no --callgrind-out-file='%s/cg.out' "
	         "'%s' --callgrind-child %s >'%s/log' 2>&1",
	         dir, dir, dir, self, ns_arg, dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench: callgrind pass failed (see %s/log); "
		                "skipped\n", dir);
		return;
	}
	for (i = 1;; i++) {
		FILE *f;
		char label[128] = "";
		double total = -1;

		snprintf(path, sizeof path, "%s/cg.out.%d", dir, i);
		f = fopen(path, "r");
		if (f == NULL)
			break;
		while (fgets(line, sizeof line, f)) {
			if (sscanf(line, "desc: Trigger: Client Request: %127s",
			           label) == 1)
				continue;
			if (strncmp(line, "summary:", 8) == 0)
				total = atof(line + 8);
		}
		fclose(f);
		if (label[0] && total >= 0)
			put(total / CG_LOOKUPS, "%s.instr", label);
	}
}

/* What librouter adds to the floor, in instructions per lookup (exact:
 * the CI guard against a lock or a fence creeping into the read path). */
static void cg_derive(const unsigned *ns, size_t nn)
{
	size_t i, vi;

	for (i = 0; i < nn; i++)
		for (vi = 0; vi < NVINDEXES; vi++) {
			char p[48];

			snprintf(p, sizeof p, "cg.n%u.%s", ns[i], VINDEXES[vi]);
			put(getv("%s.handle.instr", p) -
			        getv("%s.floor.instr", p),
			    "%s.handle_minus_floor", p);
			put(getv("%s.names.instr", p) -
			        getv("%s.floor.instr", p),
			    "%s.names_minus_floor", p);
			put(getv("%s.batch.instr", p) -
			        getv("%s.floor_id.instr", p),
			    "%s.batch_minus_floor_id", p);
			put(getv("%s.rwlock.instr", p) -
			        getv("%s.floor.instr", p),
			    "%s.rwlock_minus_floor", p);
			put(getv("%s.handle.instr", p) -
			        getv("%s.minimal.instr", p),
			    "%s.handle_minus_minimal", p);
			put(getv("%s.floor.instr", p) -
			        getv("%s.minimal.instr", p),
			    "%s.floor_minus_minimal", p);
			put(getv("%s.batch.instr", p) -
			        getv("%s.minimal.instr", p),
			    "%s.batch_minus_minimal", p);
		}
}

/* ------------------------------------------------------------------------ */
/* Report                                                                   */
/* ------------------------------------------------------------------------ */

static void sh(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;

	out[0] = 0;
	if (p == NULL)
		return;
	n = fread(out, 1, cap - 1, p);
	out[n] = 0;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = 0;
	pclose(p);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void write_json(const char *path, double secs)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (f == NULL)
		die("cannot write %s: %s", path, strerror(errno));
	fprintf(f, "{\n  \"machine\": {\"model\": ");
	json_str(f, g_model);
	fprintf(f, ", \"nproc\": %ld},\n  \"compiler\": ",
	        sysconf(_SC_NPROCESSORS_ONLN));
	json_str(f, g_cc);
	fprintf(f, ",\n  \"commit\": ");
	json_str(f, g_commit);
	fprintf(f, ",\n  \"date\": ");
	json_str(f, g_date);
	fprintf(f, ",\n  \"mode\": \"%s\",\n  \"seconds\": %.1f,\n"
	           "  \"chunk_lookups\": %u,\n  \"batch\": %u,\n"
	           "  \"metrics\": {\n",
	        g_ci ? "ci" : "full", secs, CHUNK, BATCH);
	for (i = 0; i < g_nm; i++) {
		fprintf(f, "    ");
		json_str(f, g_m[i].name);
		if (isnan(g_m[i].v) || isinf(g_m[i].v))
			fprintf(f, ": null%s\n", i + 1 < g_nm ? "," : "");
		else
			fprintf(f, ": %.6g%s\n", g_m[i].v,
			        i + 1 < g_nm ? "," : "");
	}
	fprintf(f, "  }\n}\n");
	fclose(f);
}

static void print_lookup_table(const unsigned *ns, size_t nn, int wmode,
                               int nreaders)
{
	size_t i, vi, s;

	printf("\n-- lookups, writer %s/s, %d reader%s: ns/lookup (ratio to "
	       "floor, median [p25-p75])\n",
	       WNAMES[wmode], nreaders, nreaders > 1 ? "s" : "");
	printf("%-6s %-8s %7s", "shards", "vindex", "floor");
	for (s = 0; s < NSCHEMES; s++)
		printf(" %24s", SCHEMES[s].name);
	printf(" %8s\n", "pub/s");
	for (i = 0; i < nn; i++)
		for (vi = 0; vi < NVINDEXES; vi++) {
			char pre[64];

			snprintf(pre, sizeof pre, "lookup.n%u.%s.w%s.r%d",
			         ns[i], VINDEXES[vi], WNAMES[wmode], nreaders);
			if (isnan(getv("%s.handle.ratio", pre)))
				continue;
			printf("%-6u %-8s %7.1f", ns[i], VINDEXES[vi],
			       getv("%s.handle.floor_ns", pre));
			for (s = 0; s < NSCHEMES; s++) {
				char cell[64];

				snprintf(cell, sizeof cell,
				         "%.1f (%.2f [%.2f-%.2f])",
				         getv("%s.%s.ns", pre, SCHEMES[s].name),
				         getv("%s.%s.ratio", pre,
				              SCHEMES[s].name),
				         getv("%s.%s.ratio_p25", pre,
				              SCHEMES[s].name),
				         getv("%s.%s.ratio_p75", pre,
				              SCHEMES[s].name));
				printf(" %24s", cell);
			}
			printf(" %8.0f\n", getv("%s.writer_per_s", pre));
		}
}

/* ---- thresholds ---------------------------------------------------------- */

static int check_thresholds(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int fail = 0, n = 0, lineno = 0;

	if (f == NULL)
		die("cannot read %s: %s", path, strerror(errno));
	printf("\n== thresholds (%s)\n", path);
	while (fgets(line, sizeof line, f)) {
		char name[128], op[4];
		double lim;
		const metric *m;
		int ok;

		lineno++;
		if (line[strspn(line, " \t")] == '#' ||
		    line[strspn(line, " \t\r\n")] == 0)
			continue;
		if (sscanf(line, "%127s %3s %lf", name, op, &lim) != 3 ||
		    (strcmp(op, "<=") && strcmp(op, ">=")))
			die("%s:%d: expected `metric <= limit` or `metric >= "
			    "limit`",
			    path, lineno);
		m = get(name);
		n++;
		if (m == NULL || isnan(m->v)) {
			printf("FAIL %-58s not measured\n", name);
			fail = 1;
			continue;
		}
		ok = op[0] == '<' ? m->v <= lim : m->v >= lim;
		printf("%s %-58s %10.3f %s %g\n", ok ? "ok  " : "FAIL", name,
		       m->v, op, lim);
		if (!ok)
			fail = 1;
	}
	fclose(f);
	printf("%d thresholds: %s\n", n, fail ? "FAILED" : "all passed");
	return fail;
}

/* ------------------------------------------------------------------------ */

static int run_one(const char *sch, unsigned nshards, const char *vn,
                   size_t count)
{
	world w;
	size_t c, vi, done;
	uint64_t sink = 0;

	for (vi = 0; vi < NVINDEXES && strcmp(VINDEXES[vi], vn); vi++)
		;
	for (c = 0; c < NCG && strcmp(CG_CELLS[c].name, sch); c++)
		;
	if (vi == NVINDEXES || c == NCG)
		die("--run: unknown scheme or vindex");
	router_thread_register(NULL);
	world_init(&w, nshards, (int)vi, NULL);
	for (done = 0; done < count; done += CG_LOOKUPS)
		sink += CG_CELLS[c].fn(&w, w.keys, CG_LOOKUPS);
	world_fini(&w);
	printf("%s n%u %s: %zu lookups (sink %" PRIu64 ")\n", sch, nshards,
	       vn, done, sink);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench [--ci] [--json FILE] [--thresholds FILE] "
	                "[--no-callgrind] [--cg-dir DIR] [--steps a,b] "
	                "[--charts DIR]\n");
	exit(2);
}

/* What main's steps share: the options and the accumulated verdict. */
typedef struct bench_ctx {
	const unsigned *ns;
	size_t nn;
	int rounds, callgrind, fail;
	const char *cgdir;
} bench_ctx;

/* The machine, compiler and commit the figures belong to. */
static void step_header(bench_ctx *b)
{
	int rounds = b->rounds;
	size_t i;

	sh("sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1",
	   g_model, sizeof g_model);
	sh("${CC:-cc} --version 2>/dev/null | head -1", g_cc, sizeof g_cc);
	sh("git rev-parse --short HEAD 2>/dev/null; git diff --quiet HEAD -- "
	   "librouter include 2>/dev/null || echo '(+ uncommitted changes "
	   "in librouter/include)'",
	   g_commit, sizeof g_commit);
	for (i = 0; g_commit[i]; i++)
		if (g_commit[i] == '\n')
			g_commit[i] = ' ';
	sh("date -u +%Y-%m-%dT%H:%M:%SZ", g_date, sizeof g_date);
	printf("librouter bench (%s): %s, %ld vCPU, %s, commit %s, %s\n",
	       g_ci ? "ci" : "full", g_model, sysconf(_SC_NPROCESSORS_ONLN),
	       g_cc, g_commit, g_date);
	printf("every ratio: scheme / floor, paired chunks of %u lookups in "
	       "the same thread; medians of %d rounds x readers\n",
	       CHUNK, rounds);
	fflush(stdout);
}

/* 1. lookups */
static void step_lookups(bench_ctx *b)
{
	const unsigned *ns = b->ns;
	size_t nn = b->nn, i, vi;
	int rounds = b->rounds, wm, nr;

	for (i = 0; i < nn; i++)
		for (vi = 0; vi < NVINDEXES; vi++) {
			world w;

			if (g_ci && vi != 1 &&
			    !(vi == 2 && ns[i] == 2)) /* xxhash; numeric at 2 */
				continue;
			world_init(&w, ns[i], (int)vi, NULL);
			for (wm = W_NONE; wm <= W_MAX; wm++)
				for (nr = 1; nr <= 2; nr++)
					lookup_config(&w, wm, nr, rounds);
			if (ns[i] == 256 || !g_ci) {
				if (vi == 1 || !g_ci) {
					writer_effect(&w, 1, g_ci ? 7 : 15);
					writer_effect(&w, 2, g_ci ? 5 : 9);
				}
			}
			world_fini(&w);
		}
	for (wm = W_NONE; wm <= W_MAX; wm++)
		for (nr = 1; nr <= 2; nr++)
			print_lookup_table(ns, nn, wm, nr);
	printf("\n-- throughput vs rwlock (floor-normalized: rwlock ratio / "
	       "handle ratio) and the writer's effect\n");
	printf("%-6s %-8s %13s %13s %13s %13s %22s %22s\n", "shards", "vindex",
	       "w1000 r1", "w1000 r2", "wmax r1", "wmax r2",
	       "w1000 on/off r1", "w1000 on/off r2");
	for (i = 0; i < nn; i++)
		for (vi = 0; vi < NVINDEXES; vi++) {
			char p[48];

			snprintf(p, sizeof p, "n%u.%s", ns[i], VINDEXES[vi]);
			if (isnan(getv("lookup.%s.w0.r1.handle.ratio", p)))
				continue;
			printf("%-6u %-8s %12.1fx %12.1fx %12.1fx %12.1fx "
			       "%6.3f [%.3f-%.3f] %6.3f [%.3f-%.3f]\n",
			       ns[i], VINDEXES[vi],
			       getv("lookup.%s.w1000.r1.handle_vs_rwlock_throughput", p),
			       getv("lookup.%s.w1000.r2.handle_vs_rwlock_throughput", p),
			       getv("lookup.%s.wmax.r1.handle_vs_rwlock_throughput", p),
			       getv("lookup.%s.wmax.r2.handle_vs_rwlock_throughput", p),
			       getv("writer_effect.%s.r1.on_over_off", p),
			       getv("writer_effect.%s.r1.on_over_off_p25", p),
			       getv("writer_effect.%s.r1.on_over_off_p75", p),
			       getv("writer_effect.%s.r2.on_over_off", p),
			       getv("writer_effect.%s.r2.on_over_off_p25", p),
			       getv("writer_effect.%s.r2.on_over_off_p75", p));
		}
	fflush(stdout);
}

/* DIR/lookup-V.dat (shards, then ns of minimal floor handle batch names
 * rwlock mutex: minimal's median, the others its paired ratio times
 * that) and DIR/caption.txt, for bench/charts.gp. */
static void write_chart_data(const unsigned *nb, size_t nn)
{
	static const char *const COLS[] = {"minimal", "floor", "handle",
	                                   "batch",   "names", "rwlock",
	                                   "mutex"};
	char path[1024];
	size_t i, vi, c;
	FILE *f;

	mkdir(g_charts, 0777);
	for (vi = 0; vi < NVINDEXES; vi++) {
		snprintf(path, sizeof path, "%s/lookup-%s.dat", g_charts,
		         VINDEXES[vi]);
		if ((f = fopen(path, "w")) == NULL)
			die("cannot write %s: %s", path, strerror(errno));
		fprintf(f, "# shards");
		for (c = 0; c < 7; c++)
			fprintf(f, " %s", COLS[c]);
		fprintf(f, "\n");
		for (i = 0; i < nn; i++) {
			double m = getv("base.n%u.%s.minimal.ns", nb[i],
			                VINDEXES[vi]);

			/* Each column is its paired ratio times the minimal
			 * lookup's median: the medians of absolute times are
			 * taken over different chunks and move with the VM's
			 * state, the ratios do not. */
			fprintf(f, "%u %.2f", nb[i], m);
			for (c = 1; c < 7; c++)
				fprintf(f, " %.2f",
				        m * getv("base.n%u.%s.%s.ratio", nb[i],
				                 VINDEXES[vi], COLS[c]));
			fprintf(f, "\n");
		}
		fclose(f);
	}
	snprintf(path, sizeof path, "%s/caption.txt", g_charts);
	if ((f = fopen(path, "w")) == NULL)
		die("cannot write %s: %s", path, strerror(errno));
	fprintf(f, "%.10s, %s (%ld vCPU KVM), %s, commit %s\n", g_date,
	        g_model, sysconf(_SC_NPROCESSORS_ONLN), g_cc, g_commit);
	fclose(f);
}

/* 1b. against the minimal lookup */
static void step_baseline(bench_ctx *b)
{
	static const unsigned NB_FULL[] = {2, 16, 256, 4096};
	static const unsigned NB_CI[] = {2, 256, 4096};
	const unsigned *nb = g_ci ? NB_CI : NB_FULL;
	size_t nn = g_ci ? 3 : 4, i, vi, s;
	int rounds = g_ci ? 15 : b->rounds;

	for (i = 0; i < nn; i++)
		for (vi = 0; vi < NVINDEXES; vi++) {
			world w;

			world_init(&w, nb[i], (int)vi, NULL);
			baseline_config(&w, rounds);
			world_fini(&w);
		}
	if (g_charts != NULL)
		write_chart_data(nb, nn);
	printf("\n-- against the minimal lookup, 1 reader, no writer: ns/lookup "
	       "(ratio to minimal, median [p25-p75]; batch per key; "
	       "names/handle paired directly)\n");
	printf("%-6s %-8s %7s", "shards", "vindex", "minimal");
	for (s = 0; s < NBASE; s++)
		printf(" %21s", BASE_SCHEMES[s].name);
	printf("\n");
	for (i = 0; i < nn; i++)
		for (vi = 0; vi < NVINDEXES; vi++) {
			char pre[64];

			snprintf(pre, sizeof pre, "base.n%u.%s", nb[i],
			         VINDEXES[vi]);
			printf("%-6u %-8s %7.1f", nb[i], VINDEXES[vi],
			       getv("%s.minimal.ns", pre));
			for (s = 0; s < NBASE; s++) {
				char cell[64];
				const char *sn = BASE_SCHEMES[s].name;

				snprintf(cell, sizeof cell,
				         "%.1f (%.2f [%.2f-%.2f])",
				         getv("%s.%s.ns", pre, sn),
				         getv("%s.%s.ratio", pre, sn),
				         getv("%s.%s.ratio_p25", pre, sn),
				         getv("%s.%s.ratio_p75", pre, sn));
				printf(" %21s", cell);
			}
			printf("\n");
		}
	fflush(stdout);
}

/* 2. publish cost */
static void step_publish(bench_ctx *b)
{
	size_t i;

	(void)b;
	{
		static const unsigned PS[] = {2, 16, 256, 4096};
		static const unsigned PT[] = {0, 97, 997};
		size_t j;

		printf("\n-- publish (build + validate + publish), us, median "
		       "[p25-p75]\n%-6s %-6s %10s %10s %24s\n",
		       "shards", "tables", "build", "publish", "total");
		for (i = 0; i < 4; i++)
			for (j = 0; j < 3; j++) {
				if (g_ci && j > 1)
					continue;
				if (j > 0 && PS[i] != 256 && PS[i] != 16)
					continue;
				publish_cost(PS[i], PT[j], g_ci ? 9 : 31);
				printf("%-6u %-6u %10.1f %10.1f %10.1f [%.1f-%.1f]\n",
				       PS[i], PT[j] + 3,
				       getv("publish.n%u.t%u.build_us", PS[i], PT[j] + 3),
				       getv("publish.n%u.t%u.publish_us", PS[i], PT[j] + 3),
				       getv("publish.n%u.t%u.total_us", PS[i], PT[j] + 3),
				       getv("publish.n%u.t%u.total_us_p25", PS[i], PT[j] + 3),
				       getv("publish.n%u.t%u.total_us_p75", PS[i], PT[j] + 3));
			}
	}
}

/* 3. memory */
static void step_memory(bench_ctx *b)
{
	int fail = 0;

	{
		static const unsigned MS[] = {2, 16, 256, 4096};
		size_t j;

		printf("\n-- memory: bytes per table (3 tables + N shards; and "
		       "with 100, 1000 tables at 256 shards)\n");
		for (j = 0; j < 4; j++) {
			put((double)table_bytes(MS[j], 0),
			    "memory.table_bytes.n%u.t3", MS[j]);
			printf("%5u shards, 3 tables: %9.0f bytes\n", MS[j],
			       getv("memory.table_bytes.n%u.t3", MS[j]));
		}
		put((double)table_bytes(256, 97), "memory.table_bytes.n256.t100");
		put((double)table_bytes(256, 997),
		    "memory.table_bytes.n256.t1000");
		printf("  256 shards, 100 tables: %9.0f bytes\n  256 shards, "
		       "1000 tables: %9.0f bytes\n",
		       getv("memory.table_bytes.n256.t100"),
		       getv("memory.table_bytes.n256.t1000"));
		printf("\n-- memory under a full-speed writer with 2 readers "
		       "(bound: base + (history 8 + reclaim limit %u + 2) "
		       "tables)\n",
		       ROUTER_RECLAIM_LIMIT);
		for (j = 0; j < (g_ci ? 1u : 2u); j++) {
			unsigned n = j == 0 ? 256 : 4096;
			int ok = memory_bounded(n, g_ci ? 2.0 : 10.0, 2);

			printf("%5u shards, %.0f s: %.0f publishes/s, %.1f M "
			       "lookups/s, peak %.0f bytes = base + %.1f "
			       "tables, bound %.0f (base + %.0f tables), "
			       "pending at end %.0f, leaked %.0f: %s\n",
			       n, getv("memory.n%u.bounded.seconds", n),
			       getv("memory.n%u.bounded.publishes_per_s", n),
			       getv("memory.n%u.bounded.mlookups_per_s", n),
			       getv("memory.n%u.bounded.peak_bytes", n),
			       getv("memory.n%u.bounded.peak_extra_tables", n),
			       getv("memory.n%u.bounded.bound_bytes", n),
			       getv("memory.n%u.bounded.bound_extra_tables", n),
			       getv("memory.n%u.bounded.pending_at_end", n),
			       getv("memory.n%u.bounded.leaked_bytes", n),
			       ok ? "bounded" : "EXCEEDED");
			if (!ok)
				fail = 1;
		}
	}
	b->fail |= fail;
}

/* 4. vindexes */
static void step_vindexes(bench_ctx *b)
{
	size_t i;

	(void)b;
	{
		world w;

		world_init(&w, 2, 0, NULL);
		vindex_cost(w.keys, g_ci ? 5 : 15);
		world_fini(&w);
		printf("\n-- vindex alone, ns per key: router_vindex_map "
		       "(public) / router__vindex_map_u64 (internal)\n");
		for (i = 0; i < NVTYPES; i++)
			printf("%-13s %7.1f %7.1f\n", VTYPES[i],
			       getv("vindex.%s.map_ns", VTYPES[i]),
			       getv("vindex.%s.map_u64_ns", VTYPES[i]));
	}
}

/* 4b. the catalogue's vindexes through a handle */
static void step_catalogue(bench_ctx *b)
{
	size_t c;

	(void)b;
	for (c = 0; c < NCATALOGUE; c++)
		catalogue_cost(c, g_ci ? 9 : MAXROUNDS);
	printf("\n-- the catalogue's vindexes, %u shards, handle lookup ns "
	       "(text keys 15-18 bytes; region_json (id, region); "
	       "lookup_hash: router_route_column, one row), median "
	       "[p25-p75]; paired ratio to the hash vindex's integer handle "
	       "lookup in the same thread\n",
	       CAT_SHARDS);
	for (c = 0; c < NCATALOGUE; c++)
		printf("%-22s %7.1f [%.1f-%.1f]  %5.2fx hash handle (%.1f ns)\n",
		       CATALOGUE[c].name,
		       getv("catalogue.n%u.%s.ns", CAT_SHARDS,
		            CATALOGUE[c].name),
		       getv("catalogue.n%u.%s.ns_p25", CAT_SHARDS,
		            CATALOGUE[c].name),
		       getv("catalogue.n%u.%s.ns_p75", CAT_SHARDS,
		            CATALOGUE[c].name),
		       getv("catalogue.n%u.%s.vs_hash_handle", CAT_SHARDS,
		            CATALOGUE[c].name),
		       getv("catalogue.n%u.%s.hash_handle_ns", CAT_SHARDS,
		            CATALOGUE[c].name));
	fflush(stdout);
}

/* 5. callgrind */
static void step_callgrind(bench_ctx *b)
{
	const unsigned *ns = b->ns;
	size_t nn = b->nn, i, vi;
	int callgrind = b->callgrind;
	const char *cgdir = b->cgdir;

	if (callgrind) {
		char self[1024];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

		if (n > 0) {
			self[n] = 0;
			cg_parent(self, cgdir, g_ci ? "2 256" : "2 16 256 4096");
			cg_derive(ns, nn);
			printf("\n-- instructions per lookup (callgrind, %u "
			       "lookups per cell; includes the bench loop)\n",
			       CG_LOOKUPS);
			printf("%-6s %-8s", "shards", "vindex");
			for (i = 0; i < NCG; i++)
				printf(" %8s", CG_CELLS[i].name);
			printf(" %8s %8s\n", "handle-floor", "handle-minimal");
			for (i = 0; i < nn; i++)
				for (vi = 0; vi < NVINDEXES; vi++) {
					size_t c;

					printf("%-6u %-8s", ns[i], VINDEXES[vi]);
					for (c = 0; c < NCG; c++)
						printf(" %8.1f",
						       getv("cg.n%u.%s.%s.instr",
						            ns[i], VINDEXES[vi],
						            CG_CELLS[c].name));
					printf(" %8.1f %8.1f\n",
					       getv("cg.n%u.%s.handle_minus_floor",
					            ns[i], VINDEXES[vi]),
					       getv("cg.n%u.%s.handle_minus_minimal",
					            ns[i], VINDEXES[vi]));
				}
		}
	}
}

/* The full run, in order: each step prints its own section. */
static const struct {
	const char *name;
	void (*run)(bench_ctx *b);
} bench_steps[] = {
	{"header", step_header},     {"baseline", step_baseline},
	{"lookups", step_lookups},
	{"publish", step_publish},   {"memory", step_memory},
	{"vindexes", step_vindexes}, {"catalogue", step_catalogue},
	{"callgrind", step_callgrind},
};

int main(int argc, char **argv)
{
	static const unsigned NS_FULL[] = {2, 16, 256, 4096};
	static const unsigned NS_CI[] = {2, 256};
	const char *json = NULL, *thr = NULL, *cgdir = "bench-cg", *only = NULL;
	bench_ctx b = {0};
	size_t i;
	int callgrind = 1, fail = 0;
	double t0 = now_s();

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--ci") == 0)
			g_ci = 1;
		else if (strcmp(argv[i], "--json") == 0 && i + 1 < (size_t)argc)
			json = argv[++i];
		else if (strcmp(argv[i], "--thresholds") == 0 &&
		         i + 1 < (size_t)argc)
			thr = argv[++i];
		else if (strcmp(argv[i], "--cg-dir") == 0 &&
		         i + 1 < (size_t)argc)
			cgdir = argv[++i];
		else if (strcmp(argv[i], "--charts") == 0 && i + 1 < (size_t)argc)
			g_charts = argv[++i];
		else if (strcmp(argv[i], "--steps") == 0 && i + 1 < (size_t)argc)
			only = argv[++i];
		else if (strcmp(argv[i], "--no-callgrind") == 0)
			callgrind = 0;
		else if (strcmp(argv[i], "--callgrind-child") == 0) {
			unsigned cn[8];
			size_t k;

			for (k = 0; k < 8 && i + 1 < (size_t)argc; k++)
				cn[k] = (unsigned)atoi(argv[++i]);
			cg_child(cn, k);
			return 0;
		} else if (strcmp(argv[i], "--run") == 0 &&
		           i + 4 < (size_t)argc) {
			/* For profiling by hand: run one scheme, e.g.
			 * valgrind --tool=callgrind --toggle-collect=c_handle
			 * bench --run handle 256 xxhash 100000 */
			return run_one(argv[i + 1], (unsigned)atoi(argv[i + 2]),
			               argv[i + 3], (size_t)atol(argv[i + 4]));
		} else
			usage();
	}
	b.ns = g_ci ? NS_CI : NS_FULL;
	b.nn = g_ci ? 2 : 4;
	b.rounds = g_ci ? 13 : 21;
	b.callgrind = callgrind;
	b.cgdir = cgdir;
	for (i = 0; i < sizeof bench_steps / sizeof bench_steps[0]; i++) {
		/* --steps a,b: only those (and the header), for profiling. */
		size_t nl = strlen(bench_steps[i].name);
		const char *p = only;

		while (p != NULL && i > 0 &&
		       !(strncmp(p, bench_steps[i].name, nl) == 0 &&
		         (p[nl] == ',' || p[nl] == 0)))
			p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
		if (only == NULL || i == 0 || p != NULL)
			bench_steps[i].run(&b);
	}
	fail = b.fail;

	if (json != NULL) {
		write_json(json, now_s() - t0);
		printf("\nJSON: %s\n", json);
	}
	printf("total %.0f s\n", now_s() - t0);
	if (thr != NULL)
		fail |= check_thresholds(thr);
	return fail;
}
