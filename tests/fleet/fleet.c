/*
 * A fleet on one real etcd (README "Fleet distribution on etcd", figures).
 *
 * One coordinator process starts etcd-server on loopback (tests/etcd/
 * harness.h: free ports, its own data directory), puts the routing
 * document, and forks PROCS worker processes; each worker runs
 * MEMBERS/PROCS members, a member being what an application server embeds:
 * one router and one follower (router_etcd_create/start, the public API),
 * with its own two threads and two connections to etcd.  Followers in a
 * few processes rather than one process each: every follower has its own
 * router, threads, libcurl handles and TCP connections either way, and the
 * kernel schedules threads, not processes, so the CPU and the network cost
 * the same; a few processes keep start-up and memory small on a shared
 * 2-vCPU machine.  A probe thread per worker routes users.id = 29999
 * through every member's router every PROBE_MS and counts failures.
 *
 * Members record what happens to them in shared memory (mmap before fork):
 * the event callback stores, with CLOCK_MONOTONIC (one clock for every
 * process of the machine), when the version in service changed, when a
 * watch was (re)established, refusals.  The coordinator then drives:
 *
 *   reshardings  put a 2/4/8-shard document, time from the put's answer to
 *                each member's accept (p50, p99, max over all members and
 *                rounds); each member's probe must route with it;
 *   refusal      put the January 2026 empty VSchema: every member refuses
 *                it (ROUTER_EEMPTY) and keeps routing with the old version;
 *   idle         CPU per member (/proc/PID/stat of the workers), requests
 *                per second per member (etcd's grpc_server_started_total
 *                from /metrics), etcd's CPU;
 *   etcd down    etcd killed; a listener on its port accepts and closes
 *                every connection at once (each request fails as against a
 *                dead etcd) and counts them: attempts per second per member;
 *   restart      etcd back on the same data: when each member's watch is
 *                re-established (distribution: a thundering herd would put
 *                them all in the first few ms), then a resharding;
 *   flapping     etcd killed and restarted every FLAP_PERIOD/2 s for FLAP s,
 *                a new document put whenever it is up; at the end every
 *                member must serve the last one.
 *
 * Exit 0 when every member converged to the right version each time,
 * refused the empty document, recovered after each restart and never
 * failed a lookup; 1 otherwise; 2 when etcd could not be started.  Timing
 * is printed, never asserted (the CI variant, `make test-fleet`, runs this
 * with fewer members and steps).  Bounded: alarm(), and the children die
 * with the coordinator (PR_SET_PDEATHSIG).
 *
 * usage: fleet [-n MEMBERS] [-p PROCS] [-r RESHARDS] [-f FLAP_S]
 *              [-i IDLE_S] [-d DOWN_S] [-b BACKOFF_MAX_MS] [-s] [-t LIMIT_S]
 *              [-o DIR]
 *
 * -o DIR: also write the reshardings' convergence distribution to
 * DIR/fleet-convergence.dat for bench/charts.gp (make fleet-bench).
 */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "harness.h"
#include "router.h"
#include "router_doc.h"
#include "router_etcd.h"

#define KEY "/librouter/fleet/vschema"
#define PROBE_ID 29999
#define PROBE_MS 50
#define MAXMEMBERS 2000

typedef struct slot {
	_Atomic uint64_t version;      /* accepted and in service */
	_Atomic int64_t t_version_ns;  /* when it changed (MONOTONIC) */
	_Atomic int64_t refused_rev;
	_Atomic int refused_code;
	_Atomic int64_t t_connected_ns; /* last watch established */
	_Atomic uint64_t connects, disconnects;
	_Atomic uint64_t probe_ok, probe_fail, probe_version;
	_Atomic uint32_t probe_shard_index;
	_Atomic int started;
} slot;

typedef struct shared {
	_Atomic int stop;
	slot s[MAXMEMBERS];
} shared;

static shared *g;
static int g_members = 200, g_procs = 10, g_reshards = 5, g_flap_s = 60;
static int g_idle_s = 10, g_down_s = 10, g_backoff_max = 5000, g_snapshots;
static int g_limit_s = 900;
static etcd_server g_etcd;
static pid_t g_workers[256];
static int g_failures, g_passed; /* checks failed / passed */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define FAIL(...)                                                           \
	do {                                                                 \
		printf("FAIL: " __VA_ARGS__);                                \
		printf("\n");                                                \
		g_failures++;                                                \
	} while (0)

/* ---- documents ------------------------------------------------------------ */

/* Keyspace user sharded n ways, users by hash(id); no "version", so each
 * member serves the key's revision as the version. */
static char *doc_sharded(unsigned n)
{
	char *out = malloc(400 + 16 * n), *p = out, name[16];

	p += sprintf(p, "{\"keyspaces\": {\"user\": {\"sharded\": true, "
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

static const char EMPTY_VSCHEMA[] = "{\"keyspaces\": {\"user\": {}}}";

/* The shard index PROBE_ID routes to under doc. */
static uint32_t expected_index(const char *doc)
{
	router_table *t;
	router_route_result res;
	router_value v = ROUTER_VALUE_INT64(PROBE_ID);
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	uint32_t idx = UINT32_MAX;

	if (router_doc_load(doc, strlen(doc), &o, &t, NULL, NULL) != ROUTER_OK)
		return idx;
	if (router_table_route(t, "user", 4, "users", 5, &v, 1, &res, NULL) ==
	    ROUTER_OK)
		idx = res.shard_index;
	router_table_free(t);
	return idx;
}

/* ---- worker --------------------------------------------------------------- */

typedef struct wmember {
	slot *s;
	router *r;
	router_etcd *f;
} wmember;

static void on_event(void *arg, const router_etcd_event *ev)
{
	slot *s = arg;

	switch (ev->kind) {
	case ROUTER_ETCD_EVENT_VERDICT:
		if (ev->code == ROUTER_OK) {
			/* Time first, then the version the coordinator waits
			 * for (release: it reads the time after seeing it). */
			atomic_store_explicit(&s->t_version_ns, now_ns(),
			                      memory_order_relaxed);
			atomic_store_explicit(&s->version, ev->version,
			                      memory_order_release);
		} else {
			atomic_store_explicit(&s->refused_code, ev->code,
			                      memory_order_relaxed);
			atomic_store_explicit(&s->refused_rev, ev->revision,
			                      memory_order_release);
		}
		break;
	case ROUTER_ETCD_EVENT_CONNECTED:
		atomic_store_explicit(&s->t_connected_ns, now_ns(),
		                      memory_order_relaxed);
		atomic_fetch_add_explicit(&s->connects, 1, memory_order_release);
		break;
	case ROUTER_ETCD_EVENT_DISCONNECTED:
		atomic_fetch_add_explicit(&s->disconnects, 1,
		                          memory_order_relaxed);
		break;
	default:
		break;
	}
}

static void worker(int first, int count, const char *endpoint,
                   const char *dir)
{
	wmember *m = calloc((size_t)count, sizeof *m);
	router_error err;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int i = 0; i < count; i++) {
		router_etcd_options o = ROUTER_ETCD_OPTIONS_INIT;
		char id[32], snap[360];

		m[i].s = &g->s[first + i];
		snprintf(id, sizeof id, "member-%03d", first + i);
		snprintf(snap, sizeof snap, "%s/%s.lkg", dir, id);
		if (router_create(&m[i].r, NULL, &err) != ROUTER_OK)
			_exit(3);
		o.endpoints = endpoint;
		o.key = KEY;
		o.instance_id = id;
		o.backoff_max_ms = (unsigned)g_backoff_max;
		o.snapshot_path = g_snapshots ? snap : NULL;
		o.on_event = on_event;
		o.on_event_arg = m[i].s;
		if (router_etcd_create(&m[i].f, m[i].r, &o, &err) != ROUTER_OK ||
		    router_etcd_start(m[i].f, &err) != ROUTER_OK) {
			fprintf(stderr, "%s: %s: %s\n", id, err.culprit,
			        err.message);
			_exit(3);
		}
		atomic_store(&m[i].s->started, 1);
	}
	/* The probe: every member keeps answering lookups throughout. */
	while (!atomic_load(&g->stop)) {
		for (int i = 0; i < count; i++) {
			router_value v = ROUTER_VALUE_INT64(PROBE_ID);
			router_route_result res;
			slot *s = m[i].s;

			if (router_serving_version(m[i].r) == 0)
				continue; /* nothing published yet */
			if (router_route(m[i].r, "user", 4, "users", 5, &v, 1,
			                 &res, NULL) == ROUTER_OK) {
				atomic_store(&s->probe_shard_index,
				             res.shard_index);
				atomic_store(&s->probe_version, res.version);
				atomic_fetch_add(&s->probe_ok, 1);
			} else {
				atomic_fetch_add(&s->probe_fail, 1);
			}
		}
		eh_sleep_ms(PROBE_MS);
	}
	for (int i = 0; i < count; i++) {
		router_etcd_free(m[i].f);
		router_free(m[i].r);
	}
	free(m);
	_exit(0);
}

/* ---- measuring ------------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* -o DIR: the two convergence distributions (sorted by print_dist), one
 * row per sample: the fraction of samples at or below, ms from the put's
 * answer, ms from its sending. */
static void write_dist(const char *dir, const int64_t *ack,
                       const int64_t *sent, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/fleet-convergence.dat", dir);
	if ((f = fopen(path, "w")) == NULL) {
		printf("fleet: cannot write %s\n", path);
		return;
	}
	fprintf(f, "# fraction  ms_after_put_answered  ms_after_put_sent "
	           "(%zu samples: members x reshardings)\n", n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%.5f %.3f %.3f\n", (double)(i + 1) / (double)n,
		        ack[i] / 1e6, sent[i] / 1e6);
	fclose(f);
}

static void print_dist(const char *what, int64_t *v, size_t n)
{
	if (n == 0) {
		printf("%s: no samples\n", what);
		return;
	}
	qsort(v, n, sizeof *v, cmp_i64);
	printf("%s: n=%zu min %.1f p50 %.1f p99 %.1f max %.1f ms\n", what, n,
	       v[0] / 1e6, v[n / 2] / 1e6, v[(n * 99) / 100] / 1e6,
	       v[n - 1] / 1e6);
}

/* utime + stime of pid, in clock ticks (0 when unreadable). */
static uint64_t proc_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	           &ut, &st) != 2)
		return 0;
	return (uint64_t)ut + st;
}

static uint64_t workers_ticks(void)
{
	uint64_t t = 0;

	for (int i = 0; i < g_procs; i++)
		t += proc_ticks(g_workers[i]);
	return t;
}

/* Sum of etcd's grpc_server_started_total (every RPC the gateway made
 * for a client request, streams included); -1 when unreadable. */
static double etcd_requests(const etcd_server *e)
{
	struct sockaddr_in a;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	static char buf[4 << 20];
	size_t len = 0;
	ssize_t k;
	double sum = 0;
	const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)e->client_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0 ||
	    write(s, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
		if (s >= 0)
			close(s);
		return -1;
	}
	while (len < sizeof buf - 1 &&
	       (k = read(s, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)k;
	close(s);
	buf[len] = '\0';
	for (char *p = buf; (p = strstr(p, "\ngrpc_server_started_total{")) !=
	                    NULL;) {
		char *sp = strchr(p, '}');

		p++;
		if (sp != NULL)
			sum += strtod(sp + 1, NULL);
	}
	return sum;
}

/* ---- coordinator ---------------------------------------------------------- */

static router__etcd *g_client;

static int64_t put_value(const char *val)
{
	int64_t rev = 0;
	router_error err;

	for (int attempt = 0; attempt < 50; attempt++) {
		if (router__etcd_put(g_client, KEY, strlen(KEY), val,
		                     strlen(val), 0, &rev, &err) == ROUTER_OK)
			return rev;
		eh_sleep_ms(100);
	}
	FAIL("put: %s: %s", err.culprit, err.message);
	return -1;
}

/* Wait until every member serves rev (and its probe routed with it to
 * want_index).  Fills lat (ns since t_ack) when not NULL.  Returns the
 * number of members that did. */
static int wait_converged(int64_t rev, uint32_t want_index, int64_t t_ack,
                          int64_t *lat, double timeout_s)
{
	int64_t dl = now_ns() + (int64_t)(timeout_s * 1e9);
	int done = 0;

	while (now_ns() < dl) {
		done = 0;
		for (int i = 0; i < g_members; i++) {
			slot *s = &g->s[i];

			done += atomic_load_explicit(&s->version,
			                             memory_order_acquire) ==
			            (uint64_t)rev &&
			        atomic_load(&s->probe_version) == (uint64_t)rev &&
			        atomic_load(&s->probe_shard_index) == want_index;
		}
		if (done == g_members)
			break;
		eh_sleep_ms(2);
	}
	if (lat != NULL)
		for (int i = 0; i < g_members; i++)
			lat[i] = atomic_load_explicit(&g->s[i].t_version_ns,
			                              memory_order_relaxed) -
			         t_ack;
	return done;
}

static uint64_t sum_probe_fail(void)
{
	uint64_t n = 0;

	for (int i = 0; i < g_members; i++)
		n += atomic_load(&g->s[i].probe_fail);
	return n;
}

static unsigned g_shard_cycle[] = {4, 8, 2};
static int64_t *g_lat_send; /* latencies from the put's sending */
static const char *g_out;   /* -o DIR, or NULL */
static unsigned g_step;

/* Put the next resharding; 0 when every member converged in time. */
static int reshard(int64_t *lat, size_t *nlat, const char *label)
{
	unsigned n = g_shard_cycle[g_step++ % 3];
	char *d = doc_sharded(n);
	uint32_t want = expected_index(d);
	int64_t rev, t_ack, t_send;
	double put_ms;
	int done;

	t_send = now_ns();
	rev = put_value(d);
	t_ack = now_ns();
	free(d);
	if (rev < 0)
		return -1;
	done = wait_converged(rev, want, t_ack, lat ? lat + *nlat : NULL, 60);
	if (lat != NULL) /* the same instants from the put's sending */
		for (int i = 0; i < g_members; i++)
			g_lat_send[*nlat + (size_t)i] =
			    lat[*nlat + (size_t)i] + (t_ack - t_send);
	put_ms = (t_ack - t_send) / 1e6;
	if (done != g_members) {
		FAIL("%s: %d of %d members serve revision %" PRId64
		     " (%u shards)",
		     label, done, g_members, rev, n);
		return -1;
	}
	g_passed++;
	if (lat != NULL) {
		int64_t worst = 0;

		for (int i = 0; i < g_members; i++)
			if (lat[*nlat + i] > worst)
				worst = lat[*nlat + i];
		printf("%s: revision %" PRId64 " (%u shards): every member "
		       "serves it, last %.1f ms after the put's answer (the "
		       "put took %.1f ms)\n",
		       label, rev, n, worst / 1e6, put_ms);
		*nlat += (size_t)g_members;
	} else {
		printf("%s: revision %" PRId64 " (%u shards): every member "
		       "serves it\n",
		       label, rev, n);
	}
	return 0;
}

static void kill_everything(void)
{
	for (int i = 0; i < g_procs; i++)
		if (g_workers[i] > 0)
			kill(g_workers[i], SIGKILL);
	if (g_etcd.pid > 0)
		kill(g_etcd.pid, SIGKILL);
}

static void on_alarm(int sig)
{
	static const char msg[] = "FAIL: fleet: time limit reached\n";

	(void)sig;
	if (write(1, msg, sizeof msg - 1) < 0) {
	}
	kill_everything();
	_exit(1);
}

/* Accept and close every connection to etcd's port for seconds; count. */
static long count_attempts(int port, double seconds, int64_t *first_ns)
{
	struct sockaddr_in a;
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	long n = 0;
	int64_t dl = now_ns() + (int64_t)(seconds * 1e9);

	*first_ns = 0;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
	    listen(s, 1024) != 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	while (now_ns() < dl) {
		struct pollfd p = {s, POLLIN, 0};
		int c;

		if (poll(&p, 1, 10) <= 0)
			continue;
		if ((c = accept(s, NULL, NULL)) >= 0) {
			close(c);
			n++;
		}
	}
	close(s);
	return n;
}

static uint64_t sum_connects(void)
{
	uint64_t n = 0;

	for (int i = 0; i < g_members; i++)
		n += atomic_load(&g->s[i].connects);
	return n;
}

/* After etcd came back at t_up: wait until every member's watch is
 * re-established (connects above before[i]); print the distribution. */
static int wait_reconnected(const uint64_t *before, int64_t t_up,
                            double timeout_s, const char *label)
{
	int64_t dl = now_ns() + (int64_t)(timeout_s * 1e9), *t;
	int done = 0;
	long buckets[20] = {0};

	while (now_ns() < dl) {
		done = 0;
		for (int i = 0; i < g_members; i++)
			done += atomic_load(&g->s[i].connects) > before[i];
		if (done == g_members)
			break;
		eh_sleep_ms(5);
	}
	t = calloc((size_t)g_members, sizeof *t);
	for (int i = 0; i < g_members; i++) {
		int b;

		t[i] = atomic_load(&g->s[i].t_connected_ns) - t_up;
		b = (int)(t[i] / 500000000);
		buckets[b < 0 ? 0 : b > 19 ? 19 : b]++;
	}
	if (label != NULL) {
		print_dist(label, t, (size_t)g_members);
		printf("  watches re-established per 500 ms:");
		for (int b = 0; b < 20; b++)
			printf(" %ld", buckets[b]);
		printf("\n");
	}
	free(t);
	if (done != g_members)
		FAIL("%s: %d of %d members reconnected",
		     label ? label : "flap", done, g_members);
	else
		g_passed++;
	return done == g_members ? 0 : -1;
}

int main(int argc, char **argv)
{
	int opt, per;
	int64_t *lat;
	size_t nlat = 0;
	char dir[300];
	uint64_t fail0, *before, w_r0, e_r0;
	int64_t t_r0;
	double hz = (double)sysconf(_SC_CLK_TCK);
	router_error err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "n:p:r:f:i:d:b:st:o:")) != -1) {
		switch (opt) {
		case 'n': g_members = atoi(optarg); break;
		case 'p': g_procs = atoi(optarg); break;
		case 'r': g_reshards = atoi(optarg); break;
		case 'f': g_flap_s = atoi(optarg); break;
		case 'i': g_idle_s = atoi(optarg); break;
		case 'd': g_down_s = atoi(optarg); break;
		case 'b': g_backoff_max = atoi(optarg); break;
		case 's': g_snapshots = 1; break;
		case 't': g_limit_s = atoi(optarg); break;
		case 'o': g_out = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-n MEMBERS] [-p PROCS] [-r "
			                "RESHARDS] [-f FLAP_S] [-i IDLE_S] [-d "
			                "DOWN_S] [-b BACKOFF_MAX_MS] [-s] [-t "
			                "LIMIT_S] [-o DIR]\n",
			        argv[0]);
			return 2;
		}
	}
	if (g_members < 1 || g_members > MAXMEMBERS || g_procs < 1 ||
	    g_procs > 256 || g_procs > g_members || g_backoff_max < 100) {
		fprintf(stderr, "fleet: 1 <= PROCS <= MEMBERS <= %d, PROCS <= "
		                "256, BACKOFF_MAX_MS >= 100\n",
		        MAXMEMBERS);
		return 2;
	}
	signal(SIGALRM, on_alarm);
	signal(SIGTERM, on_alarm);
	signal(SIGINT, on_alarm);
	alarm((unsigned)g_limit_s);
	g = mmap(NULL, sizeof *g, PROT_READ | PROT_WRITE,
	         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED)
		return 2;
	if (eh_start(&g_etcd) != 0) {
		fprintf(stderr, "fleet: cannot start /usr/bin/etcd "
		                "(etcd-server)\n");
		return 2;
	}
	snprintf(dir, sizeof dir, "%s/snapshots", g_etcd.dir);
	mkdir(dir, 0700);
	if (router__etcd_open(&g_client, g_etcd.endpoint, 5000, &err) !=
	    ROUTER_OK)
		return 2;
	printf("fleet: %d members in %d processes on etcd %s (pid %d), "
	       "backoff 100..%d ms%s\n",
	       g_members, g_procs, g_etcd.endpoint, (int)g_etcd.pid,
	       g_backoff_max, g_snapshots ? ", snapshots on" : "");
	lat = calloc((size_t)g_members * (size_t)(g_reshards + 8),
	             sizeof *lat);
	g_lat_send = calloc((size_t)g_members * (size_t)(g_reshards + 8),
	                    sizeof *g_lat_send);
	before = calloc((size_t)g_members, sizeof *before);

	/* 1. The first document, then the members. */
	{
		char *d = doc_sharded(2);
		uint32_t want = expected_index(d);
		int64_t rev = put_value(d), t0;
		int done;

		free(d);
		per = g_members / g_procs;
		t0 = now_ns();
		for (int p = 0, first = 0; p < g_procs; p++) {
			int count = per + (p < g_members % g_procs);
			pid_t pid = fork();

			if (pid == 0)
				worker(first, count, g_etcd.endpoint, dir);
			g_workers[p] = pid;
			first += count;
		}
		done = wait_converged(rev, want, t0, NULL, 120);
		printf("start: %d of %d members serve revision %" PRId64
		       " %.0f ms after the first fork\n",
		       done, g_members, rev, (now_ns() - t0) / 1e6);
		if (done != g_members) {
			FAIL("start: not every member converged");
			goto out;
		}
		g_passed++;
	}
	/* Watches created behind etcd's revision are synced by etcd every
	 * 100 ms; give them that before timing a warm fleet. */
	eh_sleep_ms(500);
	fail0 = sum_probe_fail();

	/* 2. Reshardings. */
	w_r0 = workers_ticks();
	e_r0 = proc_ticks(g_etcd.pid);
	t_r0 = now_ns();
	for (int i = 0; i < g_reshards; i++) {
		char label[32];

		snprintf(label, sizeof label, "reshard %d", i + 1);
		if (reshard(lat, &nlat, label) != 0)
			goto out;
		eh_sleep_ms(1000); /* status writes settle; rounds apart */
	}
	if (g_reshards > 0) {
		double secs = (now_ns() - t_r0) / 1e9;

		printf("reshard phase %.1f s: workers %.2f CPU-s (%.2f ms per "
		       "member per revision, idle cost included), etcd %.2f "
		       "CPU-s (%.0f%% of a core)\n",
		       secs, (double)(workers_ticks() - w_r0) / hz,
		       1000.0 * (double)(workers_ticks() - w_r0) / hz /
		           g_reshards / g_members,
		       (double)(proc_ticks(g_etcd.pid) - e_r0) / hz,
		       100.0 * (double)(proc_ticks(g_etcd.pid) - e_r0) / hz /
		           secs);
	}
	print_dist("convergence (put answered -> member serving it)", lat,
	           nlat);
	print_dist("convergence (put sent -> member serving it)", g_lat_send,
	           nlat);
	if (g_out != NULL && nlat > 0)
		write_dist(g_out, lat, g_lat_send, nlat);

	/* 3. The empty VSchema: every member refuses it, routing on. */
	{
		uint64_t v0 = atomic_load(&g->s[0].version);
		int64_t rev = put_value(EMPTY_VSCHEMA);
		int64_t dl = now_ns() + 60000000000;
		int done = 0, ok = 0;

		while (now_ns() < dl) {
			done = 0;
			for (int i = 0; i < g_members; i++)
				done += atomic_load_explicit(
				            &g->s[i].refused_rev,
				            memory_order_acquire) == rev;
			if (done == g_members)
				break;
			eh_sleep_ms(2);
		}
		eh_sleep_ms(3 * PROBE_MS);
		for (int i = 0; i < g_members; i++)
			ok += atomic_load(&g->s[i].refused_code) ==
			          ROUTER_EEMPTY &&
			      atomic_load(&g->s[i].version) == v0 &&
			      atomic_load(&g->s[i].probe_version) == v0;
		printf("refusal: revision %" PRId64 " (empty VSchema): %d of "
		       "%d members refused it with ROUTER_EEMPTY and route on "
		       "with version %" PRIu64 "\n",
		       rev, ok, g_members, v0);
		if (done != g_members || ok != g_members)
			FAIL("refusal: %d refused, %d still serving", done, ok);
		else
			g_passed++;
	}

	/* 4. Idle: CPU and requests. */
	if (g_idle_s > 0) {
		uint64_t w0, w1, e0, e1;
		double r0, r1;

		eh_sleep_ms(1000);
		w0 = workers_ticks();
		e0 = proc_ticks(g_etcd.pid);
		r0 = etcd_requests(&g_etcd);
		eh_sleep_ms((unsigned)g_idle_s * 1000);
		w1 = workers_ticks();
		e1 = proc_ticks(g_etcd.pid);
		r1 = etcd_requests(&g_etcd);
		printf("idle %d s: CPU per member %.2f%% of a core (workers "
		       "%.1f%%, probe thread included), requests per member "
		       "%.3f/s (etcd grpc_server_started_total), etcd CPU "
		       "%.1f%%\n",
		       g_idle_s,
		       100.0 * (double)(w1 - w0) / hz / g_idle_s / g_members,
		       100.0 * (double)(w1 - w0) / hz / g_idle_s,
		       (r1 - r0) / g_idle_s / g_members,
		       100.0 * (double)(e1 - e0) / hz / g_idle_s);
	}

	/* 5. etcd down: count the attempts; then restart, reconnect. */
	{
		int64_t first, t_up, t_spawn;
		long n;

		for (int i = 0; i < g_members; i++)
			before[i] = atomic_load(&g->s[i].connects);
		eh_kill(&g_etcd);
		n = count_attempts(g_etcd.client_port,
		                   g_down_s > 0 ? g_down_s : 1, &first);
		printf("etcd down %d s: %ld connection attempts, %.3f per "
		       "member per second\n",
		       g_down_s, n,
		       n < 0 ? 0.0 : (double)n / (g_down_s > 0 ? g_down_s : 1) /
		                         g_members);
		t_spawn = now_ns();
		if (eh_restart(&g_etcd) != 0) {
			FAIL("restart: etcd did not come back");
			goto out;
		}
		t_up = now_ns();
		printf("restart: etcd answered the harness %.0f ms after it "
		       "was started\n",
		       (t_up - t_spawn) / 1e6);
		/* From etcd's start: it listens at once but serves only once
		 * ready, so what arrived meanwhile is served together. */
		if (wait_reconnected(before, t_spawn, 60,
		                     "restart: watch re-established after etcd "
		                     "was started") != 0)
			goto out;
		if (reshard(lat, &nlat, "after restart") != 0)
			goto out;
	}

	/* 6. Flapping etcd. */
	if (g_flap_s > 0) {
		int64_t end = now_ns() + (int64_t)g_flap_s * 1000000000;
		int cycles = 0;

		while (now_ns() < end) {
			eh_kill(&g_etcd);
			eh_sleep_ms(3000);
			if (eh_restart(&g_etcd) != 0) {
				FAIL("flap: etcd did not come back");
				goto out;
			}
			{
				char *d = doc_sharded(g_shard_cycle[g_step++ % 3]);

				put_value(d);
				free(d);
			}
			eh_sleep_ms(3000);
			cycles++;
		}
		for (int i = 0; i < g_members; i++)
			before[i] = atomic_load(&g->s[i].connects);
		printf("flap: %d cycles of 3 s down, 3 s up in %d s\n", cycles,
		       g_flap_s);
		if (reshard(NULL, NULL, "after flapping") != 0)
			goto out;
		eh_sleep_ms(1000);
		if (reshard(lat, &nlat, "after flapping, warm") != 0)
			goto out;
	}
	printf("lookups: %" PRIu64 " probe failures since the first "
	       "document\n",
	       sum_probe_fail() - fail0);
	if (sum_probe_fail() != fail0)
		FAIL("some lookups failed");
	else
		g_passed++;
out:
	printf("connects %" PRIu64 "\n", sum_connects());
	atomic_store(&g->stop, 1);
	for (int i = 0; i < g_procs; i++) {
		int st;
		int64_t dl = now_ns() + 20000000000;

		while (waitpid(g_workers[i], &st, WNOHANG) == 0 &&
		       now_ns() < dl)
			eh_sleep_ms(20);
		if (kill(g_workers[i], 0) == 0) {
			kill(g_workers[i], SIGKILL);
			waitpid(g_workers[i], &st, 0);
			FAIL("worker %d did not stop within 20 s", i);
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			FAIL("worker %d ended with status %d", i, st);
		}
		g_workers[i] = 0;
	}
	router__etcd_close(g_client);
	eh_stop(&g_etcd);
	free(lat);
	free(g_lat_send);
	free(before);
	printf("fleet: %d passed, %d failed\n", g_passed, g_failures);
	return g_failures ? 1 : 0;
}
