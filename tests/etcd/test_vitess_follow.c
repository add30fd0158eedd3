/*
 * Integration tests of the follower with the Vitess source
 * (router_etcd_options.source = ROUTER_ETCD_SOURCE_VITESS) against a real
 * etcd laid out as a Vitess cell: the values are tests/data/topo/'s,
 * written by tools/gen_topo_fixtures.py with Vitess's own .proto files.
 * Every test is bounded (alarm); etcd dies with the process.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>

#include "fake.h"

#include <nettle/base64.h>
#include "harness.h"
#include "router.h"
#include "router_etcd.h"
#include "testutil.h"

#define TEST_SECONDS 60
#define GLOBAL "/vitess/global"
#define CELLINFO GLOBAL "/cells/zone1/CellInfo"
#define SRV "/vitess/zone1/SrvVSchema"
#define KS_CUSTOMER "/vitess/zone1/keyspaces/customer/SrvKeyspace"
#define KS_COMMERCE "/vitess/zone1/keyspaces/commerce/SrvKeyspace"
#define STATUS_PREFIX "/librouter/status/vitess/zone1/"

/* ---- etcd as a client, and what the test wrote ------------------------- */

/* Every key this test wrote or deleted, with the revision of the last
 * write: at the end, nothing outside /librouter/ may have moved. */
#define MAXKEYS 64
static struct {
	char key[128];
	int64_t rev;
	int deleted;
} g_writes[MAXKEYS];
static size_t g_nwrites;

static void wrote(const char *key, int64_t rev, int deleted)
{
	size_t i;

	for (i = 0; i < g_nwrites; i++)
		if (strcmp(g_writes[i].key, key) == 0)
			break;
	if (i == g_nwrites) {
		if (g_nwrites == MAXKEYS)
			fail_msg("more than %d keys written", MAXKEYS);
		snprintf(g_writes[g_nwrites++].key, sizeof g_writes[0].key,
		         "%s", key);
	}
	g_writes[i].rev = rev;
	g_writes[i].deleted = deleted;
}

static router__etcd *client(const etcd_server *e)
{
	router__etcd *c;
	router_error err;

	if (router__etcd_open(&c, e->endpoint, 5000, &err) != ROUTER_OK)
		fail_msg("open %s: %s", e->endpoint, err.message);
	return c;
}

static int64_t put_bytes(router__etcd *c, const char *key, const void *buf,
                         size_t n)
{
	int64_t rev = 0;
	router_error err;

	if (router__etcd_put(c, key, strlen(key), buf, n, 0, &rev, &err) !=
	    ROUTER_OK)
		fail_msg("put %s: %s", key, err.message);
	wrote(key, rev, 0);
	return rev;
}

/* Put tests/data/topo/NAME under key; its mod revision. */
static int64_t put_fixture(router__etcd *c, const char *key, const char *name)
{
	char path[512];
	static uint8_t buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "%s/topo/%s", tu_data_dir(), name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("missing fixture %s", path);
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	return put_bytes(c, key, buf, n);
}

static int64_t del(router__etcd *c, const char *key)
{
	int64_t rev = 0;
	router_error err;

	if (router__etcd_delete(c, key, strlen(key), &rev, &err) != ROUTER_OK)
		fail_msg("delete %s: %s", key, err.message);
	wrote(key, rev, 1);
	return rev;
}


/* Base64 of (p, n) into out (room for BASE64_ENCODE_RAW_LENGTH(n) + 1). */
static void b64(const uint8_t *p, size_t n, char *out)
{
	base64_encode_raw(out, n, p);
	out[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
}

/* Put two fixtures in one etcd transaction (POST /v3/kv/txn, with curl
 * as any client would): one revision, one watch message.  Returns the
 * transaction's revision. */
static int64_t put_two_in_one_txn(const etcd_server *e, const char *k1,
                                  const char *f1, const char *k2,
                                  const char *f2)
{
	static char body[16384], cmd[17000], ek1[256], ek2[256], ev1[6000],
	    ev2[6000];
	size_t n1, n2;
	uint8_t *v1 = tu_topo_fixture(f1, &n1), *v2 = tu_topo_fixture(f2, &n2);
	char out[4096];
	FILE *p;
	json_t *o;
	int64_t rev;

	b64((const uint8_t *)k1, strlen(k1), ek1);
	b64((const uint8_t *)k2, strlen(k2), ek2);
	b64(v1, n1, ev1);
	b64(v2, n2, ev2);
	free(v1);
	free(v2);
	snprintf(body, sizeof body,
	         "{\"success\":[{\"requestPut\":{\"key\":\"%s\",\"value\":"
	         "\"%s\"}},{\"requestPut\":{\"key\":\"%s\",\"value\":"
	         "\"%s\"}}]}",
	         ek1, ev1, ek2, ev2);
	snprintf(cmd, sizeof cmd, "curl -s -X POST -d '%s' %s/v3/kv/txn", body,
	         e->endpoint);
	p = popen(cmd, "r");
	assert_non_null(p);
	out[fread(out, 1, sizeof out - 1, p)] = '\0';
	pclose(p);
	o = json_loads(out, 0, NULL);
	if (o == NULL)
		fail_msg("txn: %s", out);
	rev = atoll(json_string_value(
	    json_object_get(json_object_get(o, "header"), "revision")));
	json_decref(o);
	assert_true(rev > 0);
	wrote(k1, rev, 0);
	wrote(k2, rev, 0);
	return rev;
}

/* A CellInfo naming server_address and root, encoded by hand (two string
 * fields, TOPO.md section 3: the fixture's CellInfo names port 2379). */
static int64_t put_cellinfo(router__etcd *c, const char *addr,
                            const char *root)
{
	uint8_t buf[256];
	size_t n = 0, a = strlen(addr), r = strlen(root);

	buf[n++] = 0x0a;
	buf[n++] = (uint8_t)a;
	memcpy(buf + n, addr, a);
	n += a;
	buf[n++] = 0x12;
	buf[n++] = (uint8_t)r;
	memcpy(buf + n, root, r);
	n += r;
	return put_bytes(c, CELLINFO, buf, n);
}

/* The cell of the tests: commerce unsharded, customer on -80, 80-.
 * Returns the revision of the last write. */
static int64_t lay_out_cell(router__etcd *c)
{
	put_fixture(c, CELLINFO, "cellinfo.bin");
	put_fixture(c, KS_COMMERCE, "srvks_commerce.bin");
	put_fixture(c, KS_CUSTOMER, "srvks_customer.bin");
	return put_fixture(c, SRV, "srv_vschema.bin");
}

/* ---- followers --------------------------------------------------------- */

#define MAXREC 64

typedef struct member {
	router *r;
	router_etcd *f;
	pthread_mutex_t mu;
	int64_t revs[MAXREC]; /* verdicts, in order */
	int codes[MAXREC];
	char culprits[MAXREC][ROUTER_CULPRIT_MAX];
	char messages[MAXREC][ROUTER_MESSAGE_MAX];
	size_t nrec;
	int compacted_events, connected_events, stale_events;
	/* LATENT events, in order. */
	int64_t lat_revs[MAXREC];
	int lat_codes[MAXREC];
	char lat_culprits[MAXREC][ROUTER_CULPRIT_MAX];
	char lat_messages[MAXREC][ROUTER_MESSAGE_MAX];
	size_t nlat;
	/* The reader thread. */
	pthread_t reader;
	int reading;
	atomic_int stop;
	atomic_ulong lookups, failures, wrong, backwards, four;
} member;

static void on_event(void *arg, const router_etcd_event *ev)
{
	member *m = arg;

	pthread_mutex_lock(&m->mu);
	if (ev->kind == ROUTER_ETCD_EVENT_VERDICT && m->nrec < MAXREC) {
		m->revs[m->nrec] = ev->revision;
		m->codes[m->nrec] = ev->code;
		if (ev->error != NULL) {
			snprintf(m->culprits[m->nrec], ROUTER_CULPRIT_MAX, "%s",
			         ev->error->culprit);
			snprintf(m->messages[m->nrec], ROUTER_MESSAGE_MAX, "%s",
			         ev->error->message);
		}
		m->nrec++;
	}
	if (ev->kind == ROUTER_ETCD_EVENT_LATENT && m->nlat < MAXREC) {
		/* error is set for this kind, cleared findings too. */
		assert_non_null(ev->error);
		m->lat_revs[m->nlat] = ev->revision;
		m->lat_codes[m->nlat] = ev->code;
		snprintf(m->lat_culprits[m->nlat], ROUTER_CULPRIT_MAX, "%s",
		         ev->error->culprit);
		snprintf(m->lat_messages[m->nlat], ROUTER_MESSAGE_MAX, "%s",
		         ev->error->message);
		m->nlat++;
	}
	m->compacted_events += ev->kind == ROUTER_ETCD_EVENT_COMPACTED;
	m->connected_events += ev->kind == ROUTER_ETCD_EVENT_CONNECTED;
	m->stale_events += ev->kind == ROUTER_ETCD_EVENT_STALE;
	pthread_mutex_unlock(&m->mu);
}

/* Members live in a static pool, not on a test's stack: a failed
 * assertion leaves the test by longjmp, and teardown must still stop
 * every follower thread. */
#define POOL 4
static member pool[POOL];
static int pool_used[POOL];

typedef struct vopts {
	const char *tablet;         /* NULL: primary */
	const char *cell_endpoints; /* NULL: the CellInfo's */
	int no_cell_endpoints;      /* leave vitess_cell_endpoints NULL */
	unsigned debounce_ms;       /* 0: the default (200) */
	const char *snapshot;
	double max_shrink;          /* > 0: the router's (else the default) */
	const char *endpoints;      /* NULL: e's (the global etcd) */
} vopts;

static member *member_start(const etcd_server *e, int i, const vopts *v)
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
		return &pool[0];
	}
	memset(m, 0, sizeof *m);
	pthread_mutex_init(&m->mu, NULL);
	{
		router_options ro = ROUTER_OPTIONS_INIT;

		if (v && v->max_shrink > 0)
			ro.max_shrink = v->max_shrink;
		assert_int_equal(router_create(&m->r, &ro, &err), ROUTER_OK);
	}
	snprintf(id, sizeof id, "member-%d", i);
	o.endpoints = v && v->endpoints ? v->endpoints : e->endpoint;
	o.source = ROUTER_ETCD_SOURCE_VITESS;
	o.vitess_cell = "zone1";
	o.vitess_tablet_type = v ? v->tablet : NULL;
	o.vitess_cell_endpoints =
	    v && v->no_cell_endpoints ? NULL
	    : v && v->cell_endpoints  ? v->cell_endpoints
	                              : e->endpoint;
	if (v && v->debounce_ms)
		o.vitess_debounce_ms = v->debounce_ms;
	o.instance_id = id;
	o.lease_ttl_s = 5;
	o.backoff_min_ms = 50;
	o.backoff_max_ms = 400;
	o.request_timeout_ms = 2000;
	o.snapshot_path = v ? v->snapshot : NULL;
	o.on_event = on_event;
	o.on_event_arg = m;
	if (router_etcd_create(&m->f, m->r, &o, &err) != ROUTER_OK)
		fail_msg("create: %s: %s", err.culprit, err.message);
	assert_int_equal(router_etcd_start(m->f, &err), ROUTER_OK);
	return m;
}

static void reader_stop(member *m)
{
	if (m->reading) {
		atomic_store(&m->stop, 1);
		pthread_join(m->reader, NULL);
		m->reading = 0;
	}
}

static void member_free(member *m)
{
	reader_stop(m);
	router_etcd_free(m->f);
	router_free(m->r);
	pthread_mutex_destroy(&m->mu);
	pool_used[m - pool] = 0;
}

static router_etcd_status wait_seen(member *m, int64_t rev)
{
	router_etcd_status s;

	if (router_etcd_wait(m->f, rev, 15000, NULL) != ROUTER_OK) {
		router_etcd_status_get(m->f, &s, sizeof s);
		fail_msg("%s did not handle revision %" PRId64 " (seen %" PRId64
		         ", state %s, last error %s: %s)",
		         router_etcd_instance_id(m->f), rev, s.revision_seen,
		         router_etcd_state_name(s.state), s.last_error.culprit,
		         s.last_error.message);
	}
	router_etcd_status_get(m->f, &s, sizeof s);
	return s;
}

/* The last verdict: its revision, code, culprit and message. */
static int last_verdict(member *m, int64_t *rev, char *culprit, char *msg)
{
	int code = 1;

	pthread_mutex_lock(&m->mu);
	if (m->nrec > 0) {
		code = m->codes[m->nrec - 1];
		if (rev)
			*rev = m->revs[m->nrec - 1];
		if (culprit)
			strcpy(culprit, m->culprits[m->nrec - 1]);
		if (msg)
			strcpy(msg, m->messages[m->nrec - 1]);
	}
	pthread_mutex_unlock(&m->mu);
	return code;
}

static size_t verdicts(member *m)
{
	size_t n;

	pthread_mutex_lock(&m->mu);
	n = m->nrec;
	pthread_mutex_unlock(&m->mu);
	return n;
}

/* customer.customer by customer_id, and commerce's tables. */
static int route_customer(member *m, int64_t id, router_route_result *res)
{
	router_value v = ROUTER_VALUE_INT64(id);

	return router_route(m->r, "customer", 8, "customer", 8, &v, 1, res,
	                    NULL);
}

static const char *shard_of(member *m, int64_t id)
{
	router_route_result res;

	return route_customer(m, id, &res) == ROUTER_OK ? res.shard : "";
}

/* The shard of keyspace ID byte k on n (2 or 4) equal shards. */
static const char *expect(uint8_t k, unsigned n)
{
	static const char *const two[] = {"-80", "80-"};
	static const char *const four[] = {"-40", "40-80", "80-c0", "c0-"};

	return n == 2 ? two[k >> 7] : four[k >> 6];
}

/* Reader: routes customer ids round and round; every answer must be
 * that of the two-shard or of the four-shard table for its keyspace ID
 * (never anything else: a half-applied table would answer otherwise or
 * fail), versions never go back, and once a four-shard answer came, no
 * two-shard one does (for ids where the two differ). */
static void *reader_main(void *arg)
{
	member *m = arg;
	uint64_t last_version = 0;
	int saw_four = 0;

	for (int64_t id = 1; !atomic_load(&m->stop); id = id % 5000 + 1) {
		router_route_result res;
		const char *s2, *s4;

		atomic_fetch_add(&m->lookups, 1);
		if (route_customer(m, id, &res) != ROUTER_OK) {
			atomic_fetch_add(&m->failures, 1);
			continue;
		}
		if (res.version < last_version)
			atomic_fetch_add(&m->backwards, 1);
		last_version = res.version;
		s2 = expect(res.ksid[0], 2);
		s4 = expect(res.ksid[0], 4);
		if (strcmp(res.shard, s4) == 0 && strcmp(s2, s4) != 0) {
			saw_four = 1;
			atomic_fetch_add(&m->four, 1);
		} else if (strcmp(res.shard, s2) != 0 ||
		           (saw_four && strcmp(s2, s4) != 0)) {
			atomic_fetch_add(&m->wrong, 1);
		}
	}
	return NULL;
}

static void reader_start(member *m)
{
	atomic_store(&m->stop, 0);
	assert_int_equal(pthread_create(&m->reader, NULL, reader_main, m), 0);
	m->reading = 1;
}

static int setup(void **state)
{
	etcd_server *e = calloc(1, sizeof *e);

	alarm(TEST_SECONDS);
	g_nwrites = 0;
	if (eh_start(e) != 0) {
		free(e);
		fprintf(stderr, "cannot start /usr/bin/etcd (etcd-server)\n");
		return -1;
	}
	*state = e;
	return 0;
}

/* Nothing under the Vitess roots, nor anywhere outside /librouter/, was
 * written by a follower: every such key is as the test last left it. */
static void assert_only_librouter_written(const etcd_server *e)
{
	router__etcd *c = client(e);
	router__etcd_kv *kvs;
	size_t n, i, k, nlib = 0;
	router_error err;

	if (router__etcd_get_prefix(c, "/", &kvs, &n, NULL, &err) != ROUTER_OK)
		fail_msg("list: %s", err.message);
	for (i = 0; i < n; i++) {
		if (strncmp(kvs[i].key, "/librouter/", 11) == 0) {
			assert_int_equal(strncmp(kvs[i].key, STATUS_PREFIX,
			                         strlen(STATUS_PREFIX)),
			                 0);
			nlib++;
			continue;
		}
		for (k = 0; k < g_nwrites; k++)
			if (strcmp(g_writes[k].key, kvs[i].key) == 0)
				break;
		if (k == g_nwrites || g_writes[k].deleted ||
		    g_writes[k].rev != kvs[i].mod_revision)
			fail_msg("%s (mod revision %" PRId64
			         ") was written by someone else than the test",
			         kvs[i].key, kvs[i].mod_revision);
	}
	router__etcd_kvs_free(kvs, n);
	router__etcd_close(c);
	(void)nlib;
}

/* The fake etcd of the test of what a real one never sends: static, so
 * that teardown finds it after a failed assertion. */
static fake_etcd g_fake;
static int g_fake_on;
static atomic_int g_prefix_ranges;

static int setup_fake(void **state)
{
	alarm(TEST_SECONDS);
	atomic_store(&g_prefix_ranges, 0);
	*state = NULL;
	return 0;
}

/* A TCP relay in front of the etcd (a link the test can cut): while
 * down, every relayed connection is closed and new ones are closed as
 * soon as accepted, so a follower pointed at it sees etcd go away while
 * the test still writes to etcd directly.  Static, so that teardown
 * stops it after a failed assertion. */
#define RELAY_CONNS 32
static struct {
	int lfd, upstream_port;
	char endpoint[64];
	int fds[RELAY_CONNS][2]; /* client, upstream; -1: free */
	atomic_int down, stop;
	pthread_t th;
	int on;
} g_relay;

static void relay_close(int k)
{
	close(g_relay.fds[k][0]);
	close(g_relay.fds[k][1]);
	g_relay.fds[k][0] = g_relay.fds[k][1] = -1;
}

static void relay_accept(void)
{
	struct sockaddr_in a;
	int c = accept(g_relay.lfd, NULL, NULL), u, k;

	if (c < 0)
		return;
	for (k = 0; k < RELAY_CONNS && g_relay.fds[k][0] >= 0; k++)
		;
	if (atomic_load(&g_relay.down) || k == RELAY_CONNS) {
		close(c);
		return;
	}
	u = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)g_relay.upstream_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (u < 0 || connect(u, (struct sockaddr *)&a, sizeof a) != 0) {
		if (u >= 0)
			close(u);
		close(c);
		return;
	}
	g_relay.fds[k][0] = c;
	g_relay.fds[k][1] = u;
}

static void *relay_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&g_relay.stop)) {
		struct pollfd p[1 + 2 * RELAY_CONNS];
		int who[1 + 2 * RELAY_CONNS];
		nfds_t n = 0;

		if (atomic_load(&g_relay.down))
			for (int k = 0; k < RELAY_CONNS; k++)
				if (g_relay.fds[k][0] >= 0)
					relay_close(k);
		p[n].fd = g_relay.lfd;
		p[n].events = POLLIN;
		who[n++] = -1;
		for (int k = 0; k < RELAY_CONNS; k++)
			for (int side = 0; side < 2 && g_relay.fds[k][0] >= 0;
			     side++) {
				p[n].fd = g_relay.fds[k][side];
				p[n].events = POLLIN;
				who[n++] = 2 * k + side;
			}
		if (poll(p, n, 20) <= 0)
			continue;
		for (nfds_t i = 0; i < n; i++) {
			char buf[16384];
			ssize_t got;
			int k = who[i] / 2, side = who[i] % 2;

			if (p[i].revents == 0)
				continue;
			if (who[i] < 0) {
				relay_accept();
				continue;
			}
			if (g_relay.fds[k][0] < 0)
				continue; /* closed by its other side */
			got = read(g_relay.fds[k][side], buf, sizeof buf);
			if (got <= 0) {
				relay_close(k);
				continue;
			}
			for (ssize_t off = 0; off < got;) {
				ssize_t w = write(g_relay.fds[k][!side],
				                  buf + off, (size_t)(got - off));

				if (w <= 0)
					break;
				off += w;
			}
		}
	}
	for (int k = 0; k < RELAY_CONNS; k++)
		if (g_relay.fds[k][0] >= 0)
			relay_close(k);
	return NULL;
}

/* Start the relay in front of e; its endpoint. */
static const char *relay_start(const etcd_server *e)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_relay.lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(g_relay.lfd >= 0);
	assert_int_equal(bind(g_relay.lfd, (struct sockaddr *)&a, sizeof a),
	                 0);
	assert_int_equal(listen(g_relay.lfd, 16), 0);
	assert_int_equal(
	    getsockname(g_relay.lfd, (struct sockaddr *)&a, &len), 0);
	snprintf(g_relay.endpoint, sizeof g_relay.endpoint,
	         "http://127.0.0.1:%d", ntohs(a.sin_port));
	g_relay.upstream_port = e->client_port;
	for (int k = 0; k < RELAY_CONNS; k++)
		g_relay.fds[k][0] = g_relay.fds[k][1] = -1;
	atomic_store(&g_relay.down, 0);
	atomic_store(&g_relay.stop, 0);
	assert_int_equal(pthread_create(&g_relay.th, NULL, relay_main, NULL),
	                 0);
	g_relay.on = 1;
	return g_relay.endpoint;
}

static void relay_stop(void)
{
	if (g_relay.on) {
		atomic_store(&g_relay.stop, 1);
		pthread_join(g_relay.th, NULL);
		close(g_relay.lfd);
		g_relay.on = 0;
	}
}

static int teardown(void **state)
{
	etcd_server *e = *state;

	for (int k = 0; k < POOL; k++)
		if (pool_used[k])
			member_free(&pool[k]);
	relay_stop();
	if (g_fake_on) {
		fake_stop(&g_fake);
		g_fake_on = 0;
	}
	router__etcd_watch_idle_ms = 60000;
	if (e != NULL) {
		eh_stop(e);
		free(e);
	}
	alarm(0);
	return 0;
}

/* Every test ends here: nothing but status keys written. */
static void done(const etcd_server *e)
{
	for (int k = 0; k < POOL; k++)
		if (pool_used[k])
			reader_stop(&pool[k]);
	assert_only_librouter_written(e);
}

/* Waits (up to ms) for a LATENT event about key at revision rev; its
 * code (1 when none came) and, when index is not NULL, its index. */
static int wait_latent(member *m, const char *key, int64_t rev, unsigned ms,
                       size_t *index)
{
	for (double t0 = eh_now(); eh_now() - t0 < ms / 1000.0;
	     eh_sleep_ms(10)) {
		pthread_mutex_lock(&m->mu);
		for (size_t i = 0; i < m->nlat; i++)
			if (m->lat_revs[i] == rev &&
			    strcmp(m->lat_culprits[i], key) == 0) {
				int code = m->lat_codes[i];

				printf("# latent %s at %" PRId64 ": %s: %s\n", key,
				       rev, router_errname(code),
				       m->lat_messages[i]);
				if (index)
					*index = i;
				pthread_mutex_unlock(&m->mu);
				return code;
			}
		pthread_mutex_unlock(&m->mu);
	}
	return 1;
}

static size_t latent_events(member *m)
{
	size_t n;

	pthread_mutex_lock(&m->mu);
	n = m->nlat;
	pthread_mutex_unlock(&m->mu);
	return n;
}

/* The member's status key, once its "latent" array has n entries (up to
 * 5 s); the caller frees it. */
static json_t *status_with_latent(router__etcd *c, const char *id, size_t n)
{
	char key[128];
	json_t *st = NULL;

	snprintf(key, sizeof key, STATUS_PREFIX "%s", id);
	for (double t0 = eh_now(); eh_now() - t0 < 5; eh_sleep_ms(20)) {
		router__etcd_kv kv;
		router_error err;
		int64_t hrev;
		int found = 0;

		json_decref(st);
		st = NULL;
		assert_int_equal(router__etcd_get(c, key, strlen(key), &kv,
		                                  &found, &hrev, &err),
		                 ROUTER_OK);
		if (found)
			st = json_loadb(kv.value, kv.value_len, 0, NULL);
		if (found)
			router__etcd_kv_clear(&kv);
		if (st != NULL &&
		    json_array_size(json_object_get(st, "latent")) == n)
			return st;
	}
	fail_msg("status key %s never had %zu latent findings", key, n);
	return st;
}

/* ---- tests ------------------------------------------------------------- */

static void options_for_the_vitess_source_are_checked(void **state)
{
	router_etcd_options o = ROUTER_ETCD_OPTIONS_INIT;
	router_etcd *f = NULL;
	router_error err;
	router *r;

	(void)state;
	assert_int_equal(o.source, ROUTER_ETCD_SOURCE_DOCUMENT);
	assert_int_equal(o.vitess_debounce_ms, 200);
	assert_int_equal(router_create(&r, NULL, &err), ROUTER_OK);
	o.endpoints = "http://127.0.0.1:1";
	o.source = ROUTER_ETCD_SOURCE_VITESS;
	/* No cell. */
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "vitess_cell");
	o.vitess_cell = "zone/1";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	o.vitess_cell = "zone1";
	/* A key with the Vitess source is refused, not ignored. */
	o.key = "/librouter/vschema";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "key");
	o.key = NULL;
	o.vitess_tablet_type = "spare";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "vitess_tablet_type");
	o.vitess_tablet_type = "RDONLY";
	o.vitess_topo_root = "vitess/global";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	o.vitess_topo_root = NULL;
	o.vitess_debounce_ms = 60001;
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	o.vitess_debounce_ms = 0;
	o.vitess_cell_endpoints = "ftp://x";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	o.vitess_cell_endpoints = NULL;
	o.source = (router_etcd_source)7;
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "source");
	o.source = ROUTER_ETCD_SOURCE_VITESS;
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_OK);
	assert_non_null(strstr(router_etcd_status_key(f), STATUS_PREFIX));
	router_etcd_free(f);
	/* A caller of 0.2 (a struct ending at on_event_arg) still gets the
	 * document source, with its key required. */
	o.source = ROUTER_ETCD_SOURCE_VITESS;
	o.size = offsetof(router_etcd_options, on_event_arg) + sizeof(void *);
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "key");
	o.key = "/librouter/vschema";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_OK);
	assert_int_equal(strncmp(router_etcd_status_key(f),
	                         "/librouter/vschema/status/", 26),
	                 0);
	router_etcd_free(f);
	router_free(r);
}

static void follows_the_cell_and_reports_under_librouter(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	router__etcd_kv kv;
	router_etcd_status s;
	router_route_result res;
	router_error err;
	char addr[64];
	int64_t rev, hrev;
	int found;
	json_t *st;
	member *m;
	vopts v = {0};

	int64_t srv_rev = lay_out_cell(c);

	/* A key of another cell whose root shares the prefix is not
	 * followed. */
	put_fixture(c, "/vitess/zone10/SrvVSchema", "empty.bin");
	/* The cell's etcd from its CellInfo (this etcd's address). */
	snprintf(addr, sizeof addr, "%s", e->endpoint + strlen("http://"));
	rev = put_cellinfo(c, addr, "/vitess/zone1");
	v.no_cell_endpoints = 1;
	m = member_start(e, 0, &v);
	s = wait_seen(m, rev);
	assert_int_equal(s.accepted, 1);
	assert_int_equal(s.refused, 0);
	assert_int_equal(last_verdict(m, NULL, NULL, NULL), ROUTER_OK);
	assert_int_equal(route_customer(m, 1, &res), ROUTER_OK);
	assert_string_equal(res.shard, expect(res.ksid[0], 2));
	/* The version is the largest mod revision among the values. */
	assert_int_equal(s.version, (uint64_t)srv_rev);
	/* A change to a key that is not followed (a tablet, another cell)
	 * is seen, not built. */
	put_fixture(c, "/vitess/zone10/SrvVSchema", "srv_vschema.bin");
	rev = put_bytes(c, "/vitess/zone1/tablets/zone1-0000000100/Tablet", "x", 1);
	s = wait_seen(m, rev);
	assert_int_equal(s.accepted, 1);
	assert_int_equal(verdicts(m), 1);
	/* The status key: under librouter's prefix, leased. */
	assert_string_equal(router_etcd_status_key(m->f), STATUS_PREFIX "member-0");
	st = NULL;
	memset(&kv, 0, sizeof kv);
	for (double t0 = eh_now(); eh_now() - t0 < 10; eh_sleep_ms(50)) {
		router__etcd_kv_clear(&kv);
		json_decref(st);
		st = NULL;
		assert_int_equal(
		    router__etcd_get(c, STATUS_PREFIX "member-0",
		                     strlen(STATUS_PREFIX "member-0"), &kv,
		                     &found, &hrev, &err),
		    ROUTER_OK);
		if (found)
			st = json_loadb(kv.value, kv.value_len, 0, NULL);
		if (st != NULL &&
		    json_integer_value(json_object_get(st, "accepted")) == 1)
			break;
	}
	assert_true(found);
	assert_true(kv.lease != 0);
	assert_non_null(st);
	assert_string_equal(json_string_value(json_object_get(st, "source")),
	                    "vitess");
	assert_string_equal(json_string_value(json_object_get(st, "cell")),
	                    "zone1");
	assert_string_equal(
	    json_string_value(json_object_get(st, "tablet_type")), "PRIMARY");
	assert_string_equal(json_string_value(json_object_get(st, "key")),
	                    CELLINFO);
	assert_int_equal(json_integer_value(json_object_get(st, "accepted")), 1);
	json_decref(st);
	router__etcd_kv_clear(&kv);
	router__etcd_close(c);
	done(e);
}

/* A cell not yet in the global topo (no CellInfo): the follower retries,
 * saying which key it misses, and follows once the cell is there. */
static void a_missing_cell_info_is_retried(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	router_etcd_status s;
	int64_t rev;
	member *m;

	m = member_start(e, 0, NULL);
	for (double t0 = eh_now(); eh_now() - t0 < 10; eh_sleep_ms(20)) {
		router_etcd_status_get(m->f, &s, sizeof s);
		if (s.last_error.code != 0)
			break;
	}
	assert_int_equal(s.last_error.code, ROUTER_ENOTFOUND);
	assert_string_equal(s.last_error.culprit, CELLINFO);
	assert_int_equal(router_serving_version(m->r), 0);
	rev = lay_out_cell(c);
	s = wait_seen(m, rev);
	assert_int_equal(s.accepted, 1);
	assert_string_not_equal(shard_of(m, 1), "");
	router__etcd_close(c);
	done(e);
}

/* A resharding 2 -> 4 as Vitess cuts it over: replicas first (one
 * SrvKeyspace put: the REPLICA and RDONLY partitions on four shards),
 * then the primary.  A replica follower switches at the first write, a
 * primary follower at the second; readers on both never see an answer of
 * neither table, never fail, never go back. */
static void resharding_cut_over_per_tablet_type(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	vopts vp = {0}, vr = {0};
	member *p, *r;
	int64_t rev;

	rev = lay_out_cell(c);
	vr.tablet = "replica";
	p = member_start(e, 0, &vp);
	r = member_start(e, 1, &vr);
	wait_seen(p, rev);
	wait_seen(r, rev);
	reader_start(p);
	reader_start(r);
	eh_sleep_ms(100);
	rev = put_fixture(c, KS_CUSTOMER, "srvks_customer_resharding.bin");
	wait_seen(p, rev);
	wait_seen(r, rev);
	eh_sleep_ms(100);
	assert_int_equal(atomic_load(&p->four), 0);
	assert_true(atomic_load(&r->four) > 0);
	assert_int_equal(last_verdict(p, NULL, NULL, NULL), ROUTER_OK);
	assert_int_equal(last_verdict(r, NULL, NULL, NULL), ROUTER_OK);
	rev = put_fixture(c, KS_CUSTOMER, "srvks_customer_4.bin");
	wait_seen(p, rev);
	wait_seen(r, rev);
	eh_sleep_ms(100);
	reader_stop(p);
	reader_stop(r);
	assert_true(atomic_load(&p->four) > 0);
	for (int i = 0; i < 2; i++) {
		member *m = i ? r : p;

		printf("# %s: %lu lookups, %lu on four shards\n",
		       i ? "replica" : "primary", atomic_load(&m->lookups),
		       atomic_load(&m->four));
		assert_int_equal(atomic_load(&m->failures), 0);
		assert_int_equal(atomic_load(&m->wrong), 0);
		assert_int_equal(atomic_load(&m->backwards), 0);
		assert_int_equal(last_verdict(m, NULL, NULL, NULL), ROUTER_OK);
	}
	/* The replica follower saw nothing new at the second put: the same
	 * table, at a higher version. */
	assert_int_equal(router_serving_version(r->r), (uint64_t)rev);
	router__etcd_close(c);
	done(e);
}

/* A keyspace added in two writes in the wrong order (the SrvVSchema that
 * names it before its SrvKeyspace): built alone, the first would be
 * refused (no SrvKeyspace); within the debounce, one verdict covers both,
 * accepted.  Then the keyspace removed the wrong way round: its
 * SrvKeyspace deleted while the SrvVSchema still serves it is refused,
 * naming the key and the keyspace, and routing goes on. */
static void keyspace_added_and_deleted(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	char culprit[ROUTER_CULPRIT_MAX], msg[ROUTER_MESSAGE_MAX];
	int64_t rev, vrev;
	router_etcd_status s;
	vopts v = {0};
	member *m;

	put_fixture(c, CELLINFO, "cellinfo.bin");
	put_fixture(c, KS_COMMERCE, "srvks_commerce.bin");
	rev = put_fixture(c, SRV, "srv_vschema_commerce.bin");
	v.debounce_ms = 400;
	m = member_start(e, 0, &v);
	wait_seen(m, rev);
	assert_string_equal(shard_of(m, 1), "");
	vrev = put_fixture(c, SRV, "srv_vschema.bin");
	eh_sleep_ms(50);
	rev = put_fixture(c, KS_CUSTOMER, "srvks_customer.bin");
	s = wait_seen(m, rev);
	assert_int_equal(s.refused, 0);
	assert_int_equal(s.accepted, 2);
	assert_int_equal(verdicts(m), 2);
	assert_int_equal(last_verdict(m, &vrev, NULL, NULL), ROUTER_OK);
	assert_int_equal(vrev, rev); /* the verdict names the revision */
	assert_string_not_equal(shard_of(m, 1), "");
	reader_start(m);
	/* Deleted while served. */
	rev = del(c, KS_CUSTOMER);
	s = wait_seen(m, rev);
	assert_int_equal(s.refused, 1);
	assert_int_equal(last_verdict(m, &vrev, culprit, msg), ROUTER_ENOTFOUND);
	assert_int_equal(vrev, rev);
	printf("# %s: %s\n", culprit, msg);
	assert_string_equal(culprit, "customer");
	assert_non_null(strstr(msg, KS_CUSTOMER));
	assert_non_null(strstr(msg, "deleted"));
	assert_int_equal(s.revision_refused, rev);
	assert_string_equal(s.refusal.culprit, "customer");
	/* The SrvVSchema dropping customer: refused by router_publish's
	 * guard (a keyspace in service dropped). */
	rev = put_fixture(c, SRV, "srv_vschema_commerce.bin");
	s = wait_seen(m, rev);
	assert_int_equal(s.refused, 2);
	assert_int_equal(last_verdict(m, NULL, culprit, msg), ROUTER_ESHRINK);
	printf("# %s: %s\n", culprit, msg);
	assert_string_equal(culprit, "customer");
	assert_non_null(strstr(msg, SRV));
	/* Put back: accepted, from the current values. */
	put_fixture(c, KS_CUSTOMER, "srvks_customer.bin");
	rev = put_fixture(c, SRV, "srv_vschema.bin");
	s = wait_seen(m, rev);
	assert_int_equal(last_verdict(m, NULL, NULL, NULL), ROUTER_OK);
	assert_int_equal(s.version, (uint64_t)rev);
	reader_stop(m);
	assert_int_equal(atomic_load(&m->failures), 0);
	assert_int_equal(atomic_load(&m->wrong), 0);
	router__etcd_close(c);
	done(e);
}

/* Without a debounce every watch message is built at once; the two
 * writes of one transaction arrive in one message and are applied
 * together: the keyspace and its SrvKeyspace come in one accepted
 * verdict.  The same two writes apart, in the wrong order, make a
 * refusal first (the SrvVSchema names a keyspace with no SrvKeyspace),
 * then the acceptance. */
static void one_transaction_is_applied_whole(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	char culprit[ROUTER_CULPRIT_MAX], msg[ROUTER_MESSAGE_MAX];
	router_etcd_status s;
	int64_t rev;
	member *m;

	put_fixture(c, CELLINFO, "cellinfo.bin");
	put_fixture(c, KS_COMMERCE, "srvks_commerce.bin");
	rev = put_fixture(c, SRV, "srv_vschema_commerce.bin");
	/* 1 ms: the smallest debounce there is (0 means the default). */
	m = member_start(e, 0, &(vopts){.debounce_ms = 1});
	wait_seen(m, rev);
	rev = put_two_in_one_txn(e, SRV, "srv_vschema.bin", KS_CUSTOMER,
	                         "srvks_customer.bin");
	s = wait_seen(m, rev);
	assert_int_equal(s.refused, 0);
	assert_int_equal(s.accepted, 2);
	assert_int_equal(s.version, (uint64_t)rev);
	assert_string_not_equal(shard_of(m, 1), "");
	/* Apart and in the wrong order: refused, then accepted. */
	put_fixture(c, SRV, "srv_vschema_commerce.bin");
	del(c, KS_CUSTOMER);
	rev = put_fixture(c, SRV, "srv_vschema.bin");
	s = wait_seen(m, rev);
	assert_int_equal(last_verdict(m, NULL, culprit, msg), ROUTER_ENOTFOUND);
	rev = put_fixture(c, KS_CUSTOMER, "srvks_customer.bin");
	s = wait_seen(m, rev);
	assert_int_equal(last_verdict(m, NULL, NULL, NULL), ROUTER_OK);
	router__etcd_close(c);
	done(e);
}

/* The January 2026 incident as served: a rebuild writes a SrvVSchema
 * whose customer is unsharded and empty while its SrvKeyspace lists two
 * shards.  Refused, routing goes on, the status key says which key and
 * keyspace; the repair (the good VSchema again) is accepted. */
static void the_incident_is_refused_and_the_repair_accepted(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	char culprit[ROUTER_CULPRIT_MAX], msg[ROUTER_MESSAGE_MAX];
	router_etcd_status s;
	int64_t rev, good;
	member *m;

	good = lay_out_cell(c);
	m = member_start(e, 0, NULL);
	wait_seen(m, good);
	reader_start(m);
	rev = put_fixture(c, SRV, "srv_vschema_incident.bin");
	s = wait_seen(m, rev);
	assert_int_equal(s.refused, 1);
	assert_int_equal(s.revision_refused, rev);
	assert_int_equal(s.version, (uint64_t)good);
	last_verdict(m, NULL, culprit, msg);
	printf("# %s: %s\n", culprit, msg);
	assert_non_null(strstr(msg, SRV));
	assert_non_null(strstr(msg, "customer"));
	/* The empty SrvVSchema (every keyspace gone) too. */
	rev = put_fixture(c, SRV, "empty.bin");
	s = wait_seen(m, rev);
	assert_int_equal(s.refused, 2);
	assert_int_equal(s.version, (uint64_t)good);
	/* Repaired. */
	rev = put_fixture(c, SRV, "srv_vschema.bin");
	s = wait_seen(m, rev);
	assert_int_equal(s.accepted, 2);
	assert_int_equal(s.version, (uint64_t)rev);
	reader_stop(m);
	assert_true(atomic_load(&m->lookups) > 0);
	assert_int_equal(atomic_load(&m->failures), 0);
	assert_int_equal(atomic_load(&m->wrong), 0);
	router__etcd_close(c);
	done(e);
}

#define GV_CUSTOMER GLOBAL "/keyspaces/customer/VSchema"
#define GV_COMMERCE GLOBAL "/keyspaces/commerce/VSchema"

/* The January 2026 sequence, end to end (TOPO.md section 5): a failed
 * MoveTables leaves an empty value at the global VSchema of customer
 * while the cell serves customer sharded.  The latent watch says so at
 * once (the key, its mod revision, the status key), and nothing served
 * changes; the rebuild that later writes it into SrvVSchema is refused;
 * the repair (the good VSchema at the global key and in SrvVSchema) is
 * accepted and the finding cleared.  A global value that is fine raises
 * nothing. */
static void latent_poison_is_caught_before_it_is_served(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	router_etcd_status s;
	json_t *st, *l;
	int64_t good, lat, rev, fixed;
	size_t i;
	double t0;
	member *m;

	put_fixture(c, GV_COMMERCE, "keyspace_commerce.bin");
	put_fixture(c, GV_CUSTOMER, "keyspace_customer.bin");
	good = lay_out_cell(c);
	m = member_start(e, 0, NULL);
	wait_seen(m, good);
	reader_start(m);
	/* 19:29, January 9th: the empty VSchema at the global key. */
	t0 = eh_now();
	lat = put_fixture(c, GV_CUSTOMER, "empty.bin");
	assert_int_equal(wait_latent(m, GV_CUSTOMER, lat, 3000, &i),
	                 ROUTER_ECOVERAGE);
	printf("# raised after %.0f ms\n", (eh_now() - t0) * 1000);
	assert_true(eh_now() - t0 < 1.5);
	assert_non_null(strstr(m->lat_messages[i], GV_CUSTOMER));
	router_etcd_status_get(m->f, &s, sizeof s);
	assert_int_equal(s.latent, 1);
	assert_int_equal(s.latent_revision, lat);
	assert_string_equal(s.latent_key, GV_CUSTOMER);
	assert_int_equal(s.latent_finding.code, ROUTER_ECOVERAGE);
	/* Nothing served changed. */
	assert_int_equal(s.version, (uint64_t)good);
	assert_int_equal(s.accepted, 1);
	assert_int_equal(s.refused, 0);
	st = status_with_latent(c, "member-0", 1);
	l = json_array_get(json_object_get(st, "latent"), 0);
	assert_string_equal(json_string_value(json_object_get(l, "key")),
	                    GV_CUSTOMER);
	assert_int_equal(json_integer_value(json_object_get(l, "mod_revision")),
	                 lat);
	assert_string_equal(json_string_value(json_object_get(l, "keyspace")),
	                    "customer");
	assert_string_equal(json_string_value(json_object_get(l, "code")),
	                    "ROUTER_ECOVERAGE");
	json_decref(st);
	/* The commerce value is fine: nothing about it. */
	for (i = 0; i < latent_events(m); i++)
		assert_string_not_equal(m->lat_culprits[i], GV_COMMERCE);
	/* Hours later, the rebuild: refused, routing goes on; the finding
	 * is not raised again for the same (key, revision). */
	rev = put_fixture(c, SRV, "srv_vschema_incident.bin");
	s = wait_seen(m, rev);
	assert_int_equal(s.refused, 1);
	assert_int_equal(s.version, (uint64_t)good);
	assert_int_equal(latent_events(m), 1);
	/* The repair: the good VSchema again, at the global key (the
	 * finding is cleared) and in SrvVSchema (accepted). */
	fixed = put_fixture(c, GV_CUSTOMER, "keyspace_customer.bin");
	assert_int_equal(wait_latent(m, GV_CUSTOMER, fixed, 3000, &i),
	                 ROUTER_OK);
	assert_non_null(strstr(m->lat_messages[i], "cleared"));
	rev = put_fixture(c, SRV, "srv_vschema.bin");
	s = wait_seen(m, rev);
	assert_int_equal(s.accepted, 2);
	assert_int_equal(s.version, (uint64_t)rev);
	router_etcd_status_get(m->f, &s, sizeof s);
	assert_int_equal(s.latent, 0);
	assert_int_equal(s.latent_revision, fixed);
	assert_int_equal(s.latent_finding.code, ROUTER_OK);
	json_decref(status_with_latent(c, "member-0", 0));
	/* The new table in service judges the values again: still
	 * nothing to say. */
	eh_sleep_ms(300);
	assert_int_equal(latent_events(m), 2);
	reader_stop(m);
	assert_true(atomic_load(&m->lookups) > 0);
	assert_int_equal(atomic_load(&m->failures), 0);
	assert_int_equal(atomic_load(&m->wrong), 0);
	router__etcd_close(c);
	done(e);
}

/* A deleted global VSchema of a served keyspace (a rebuild puts an empty
 * Keyspace for it) and bytes that are not protobuf are latent findings
 * too; one already wrong at start is raised from the first read. */
static void latent_deleted_and_garbage_global_values(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	router_etcd_status s;
	int64_t good, rev, garbage;
	member *m;

	put_fixture(c, GV_COMMERCE, "keyspace_commerce.bin");
	garbage = put_fixture(c, GV_CUSTOMER, "keyspace_garbage.bin");
	good = lay_out_cell(c);
	m = member_start(e, 0, NULL);
	wait_seen(m, good);
	assert_int_equal(wait_latent(m, GV_CUSTOMER, garbage, 3000, NULL),
	                 ROUTER_EDOC);
	rev = del(c, GV_CUSTOMER);
	assert_int_equal(wait_latent(m, GV_CUSTOMER, rev, 3000, NULL),
	                 ROUTER_ECOVERAGE);
	rev = put_fixture(c, GV_COMMERCE, "empty.bin");
	assert_true(wait_latent(m, GV_COMMERCE, rev, 3000, NULL) != 1);
	router_etcd_status_get(m->f, &s, sizeof s);
	assert_int_equal(s.latent, 2);
	assert_int_equal(s.version, (uint64_t)good);
	assert_int_equal(s.refused, 0);
	json_decref(status_with_latent(c, "member-0", 2));
	router__etcd_close(c);
	done(e);
}

/* A value fine against what is served can become latent poison when a
 * new table is accepted: every kept value is judged again then.  Here
 * the global customer VSchema lacks corder while the cell serves only
 * commerce (adding customer with one table breaks nothing); once the
 * cell serves customer with both tables, the same value at the same
 * revision would drop corder. */
static void a_new_table_in_service_judges_every_value_again(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	router_etcd_status s;
	int64_t good, lost, rev;
	member *m;

	put_fixture(c, GV_COMMERCE, "keyspace_commerce.bin");
	lost = put_fixture(c, GV_CUSTOMER, "keyspace_customer_lost_tables.bin");
	put_fixture(c, CELLINFO, "cellinfo.bin");
	put_fixture(c, KS_COMMERCE, "srvks_commerce.bin");
	put_fixture(c, KS_CUSTOMER, "srvks_customer.bin");
	good = put_fixture(c, SRV, "srv_vschema_commerce.bin");
	m = member_start(e, 0, NULL);
	wait_seen(m, good);
	eh_sleep_ms(300);
	assert_int_equal(latent_events(m), 0);
	rev = put_fixture(c, SRV, "srv_vschema.bin");
	s = wait_seen(m, rev);
	assert_int_equal(s.accepted, 2);
	assert_int_equal(wait_latent(m, GV_CUSTOMER, lost, 3000, NULL),
	                 ROUTER_ESHRINK);
	router_etcd_status_get(m->f, &s, sizeof s);
	assert_int_equal(s.latent, 1);
	router__etcd_close(c);
	done(e);
}

static size_t put_varint(uint8_t *p, size_t v)
{
	size_t n = 0;

	for (; v >= 0x80; v >>= 7)
		p[n++] = (uint8_t)(v | 0x80);
	p[n++] = (uint8_t)v;
	return n;
}

/* A SrvVSchema of commerce (keyspace_commerce.bin) and customer (the
 * fixture customer names), encoded by hand: one map entry per keyspace
 * (field 1; its key field 1, its Keyspace field 2), as srv_vschema.bin
 * is of keyspace_commerce.bin and keyspace_customer.bin. */
static int64_t put_srv_vschema(router__etcd *c, const char *customer)
{
	static uint8_t buf[8192];
	const char *names[2] = {"commerce", "customer"};
	const char *files[2] = {"keyspace_commerce.bin", customer};
	size_t n = 0;

	for (int k = 0; k < 2; k++) {
		uint8_t e[4096];
		size_t len, nl = strlen(names[k]), en = 0;
		uint8_t *ks = tu_topo_fixture(files[k], &len);

		e[en++] = 0x0a;
		en += put_varint(e + en, nl);
		memcpy(e + en, names[k], nl);
		en += nl;
		e[en++] = 0x12;
		en += put_varint(e + en, len);
		memcpy(e + en, ks, len);
		en += len;
		free(ks);
		buf[n++] = 0x0a;
		n += put_varint(buf + n, en);
		memcpy(buf + n, e, en);
		n += en;
	}
	return put_bytes(c, SRV, buf, n);
}

/* The latent judge uses the follower's router's own max_shrink
 * (router_options_get), not the default 0.10.  The cell serves customer
 * with three tables (keyspace_customer_grown.bin); the global customer
 * VSchema has two (keyspace_customer.bin: invoice dropped, 1 of 3).  A
 * router created with max_shrink 0.5 would accept that rebuild, so its
 * follower says nothing; a default router would refuse it (ESHRINK), so
 * its follower raises it.  Dropping 2 of 3 is beyond 0.5: latent for
 * both. */
static void latent_judges_with_the_routers_max_shrink(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	router_etcd_status s;
	router_options ro = ROUTER_OPTIONS_INIT;
	int64_t good, lost, rev;
	member *loose, *strict;

	put_fixture(c, GV_COMMERCE, "keyspace_commerce.bin");
	lost = put_fixture(c, GV_CUSTOMER, "keyspace_customer.bin");
	put_fixture(c, CELLINFO, "cellinfo.bin");
	put_fixture(c, KS_COMMERCE, "srvks_commerce.bin");
	put_fixture(c, KS_CUSTOMER, "srvks_customer.bin");
	good = put_srv_vschema(c, "keyspace_customer_grown.bin");
	loose = member_start(e, 0, &(vopts){.max_shrink = 0.5});
	strict = member_start(e, 1, NULL);
	assert_int_equal(router_options_get(loose->r, &ro, NULL), ROUTER_OK);
	assert_true(ro.max_shrink == 0.5);
	s = wait_seen(loose, good);
	assert_int_equal(s.accepted, 1);
	s = wait_seen(strict, good);
	assert_int_equal(s.accepted, 1);
	{
		router_value v = ROUTER_VALUE_INT64(7);
		router_route_result res;

		/* The served table has the third table. */
		assert_int_equal(router_route(loose->r, "customer", 8,
		                              "invoice", 7, &v, 1, &res, NULL),
		                 ROUTER_OK);
	}
	assert_int_equal(wait_latent(strict, GV_CUSTOMER, lost, 3000, NULL),
	                 ROUTER_ESHRINK);
	/* The loose member judged the same value (at start, as the strict
	 * one did) and found nothing. */
	eh_sleep_ms(500);
	assert_int_equal(latent_events(loose), 0);
	router_etcd_status_get(loose->f, &s, sizeof s);
	assert_int_equal(s.latent, 0);
	router_etcd_status_get(strict->f, &s, sizeof s);
	assert_int_equal(s.latent, 1);
	assert_int_equal(s.latent_revision, lost);
	assert_int_equal(s.latent_finding.code, ROUTER_ESHRINK);
	/* 2 of 3 is beyond 0.5: the loose member raises it too. */
	rev = put_fixture(c, GV_CUSTOMER, "keyspace_customer_lost_tables.bin");
	assert_int_equal(wait_latent(loose, GV_CUSTOMER, rev, 3000, NULL),
	                 ROUTER_ESHRINK);
	assert_int_equal(wait_latent(strict, GV_CUSTOMER, rev, 3000, NULL),
	                 ROUTER_ESHRINK);
	router_etcd_status_get(loose->f, &s, sizeof s);
	assert_int_equal(s.latent, 1);
	assert_int_equal(s.version, (uint64_t)good);
	router__etcd_close(c);
	done(e);
}

/* The latent watch resumes after etcd went away and came back: a
 * global value written after the restart is judged at once. */
static void latent_watch_resumes_after_an_etcd_restart(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	int64_t good, rev;
	member *m;

	put_fixture(c, GV_COMMERCE, "keyspace_commerce.bin");
	put_fixture(c, GV_CUSTOMER, "keyspace_customer.bin");
	good = lay_out_cell(c);
	m = member_start(e, 0, NULL);
	wait_seen(m, good);
	router__etcd_close(c);
	eh_kill(e);
	eh_sleep_ms(500);
	assert_int_equal(eh_restart(e), 0);
	c = client(e);
	rev = put_fixture(c, GV_CUSTOMER, "keyspace_customer_novindexes.bin");
	/* A finding (a negative code; 1: none came). */
	assert_true(wait_latent(m, GV_CUSTOMER, rev, 10000, NULL) < 0);
	assert_int_equal(latent_events(m), 1);
	router__etcd_close(c);
	done(e);
}

/* The latent watch cut off while GLOBAL/ changes and is compacted past
 * the change: when the link comes back its watch from the revision after
 * the last one seen is canceled as compacted, and the values are read
 * again, so no revision is missed: the empty VSchema written meanwhile
 * is raised at its revision, the commerce VSchema deleted meanwhile is
 * judged deleted.  The cell (its own link) and what is served do not
 * change. */
static void latent_watch_reads_again_after_a_compaction_while_cut_off(
    void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	router_etcd_status s;
	router_error err;
	int64_t good, rev, poison, after;
	const char *relay;
	member *m;

	put_fixture(c, GV_COMMERCE, "keyspace_commerce.bin");
	put_fixture(c, GV_CUSTOMER, "keyspace_customer.bin");
	good = lay_out_cell(c);
	relay = relay_start(e);
	/* The global etcd (CellInfo, GLOBAL/, the status key) through the
	 * relay, the cell's keys directly. */
	m = member_start(e, 0,
	                 &(vopts){.endpoints = relay,
	                          .cell_endpoints = e->endpoint});
	wait_seen(m, good);
	/* The latent watch is up past its first read: a finding raised
	 * and cleared through it. */
	rev = put_fixture(c, GV_CUSTOMER, "keyspace_customer_novindexes.bin");
	assert_true(wait_latent(m, GV_CUSTOMER, rev, 5000, NULL) < 0);
	rev = put_fixture(c, GV_CUSTOMER, "keyspace_customer.bin");
	assert_int_equal(wait_latent(m, GV_CUSTOMER, rev, 5000, NULL),
	                 ROUTER_OK);
	assert_int_equal(latent_events(m), 2);
	/* Cut off; meanwhile the poison, a delete, a write after them, and
	 * a compaction past all but the last. */
	atomic_store(&g_relay.down, 1);
	eh_sleep_ms(300);
	poison = put_fixture(c, GV_CUSTOMER, "empty.bin");
	del(c, GV_COMMERCE);
	after = put_bytes(c, GLOBAL "/keyspaces/customer/shards/-80/Shard",
	                  "x", 1);
	assert_int_equal(router__etcd_compact(c, after, &err), ROUTER_OK);
	eh_sleep_ms(300);
	assert_int_equal(latent_events(m), 2);
	atomic_store(&g_relay.down, 0);
	assert_int_equal(wait_latent(m, GV_CUSTOMER, poison, 10000, NULL),
	                 ROUTER_ECOVERAGE);
	for (double t0 = eh_now(); eh_now() - t0 < 5; eh_sleep_ms(20)) {
		router_etcd_status_get(m->f, &s, sizeof s);
		if (s.latent == 2)
			break;
	}
	assert_int_equal(s.latent, 2); /* customer's and commerce's */
	{
		int commerce = 0;

		pthread_mutex_lock(&m->mu);
		for (size_t i = 0; i < m->nlat; i++)
			if (strcmp(m->lat_culprits[i], GV_COMMERCE) == 0) {
				assert_true(m->lat_codes[i] < 0);
				assert_true(m->lat_revs[i] >= after);
				commerce++;
			}
		pthread_mutex_unlock(&m->mu);
		assert_int_equal(commerce, 1);
	}
	/* What is served did not change. */
	router_etcd_status_get(m->f, &s, sizeof s);
	assert_int_equal(s.version, (uint64_t)good);
	assert_int_equal(s.accepted, 1);
	assert_int_equal(s.refused, 0);
	{
		router_route_result res;

		assert_int_equal(route_customer(m, 1, &res), ROUTER_OK);
		assert_string_equal(res.shard, expect(res.ksid[0], 2));
		assert_int_equal(res.version, (uint64_t)good);
	}
	router__etcd_close(c);
	done(e);
}

/* A deleted SrvVSchema (vtgate keeps the one it had), bytes that are not
 * protobuf, a SrvKeyspace with a gap, a partition gone for the tablet
 * type: each refused with the key, the table in service stays. */
static void bad_topo_values_are_refused_naming_the_key(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	char culprit[ROUTER_CULPRIT_MAX], msg[ROUTER_MESSAGE_MAX];
	router_etcd_status s;
	int64_t rev, good;
	member *m;
	static const uint8_t only_primary[] = {0x0a, 0x02, 0x08, 0x01};

	good = lay_out_cell(c);
	m = member_start(e, 0, &(vopts){.tablet = "rdonly"});
	wait_seen(m, good);
	reader_start(m);
	rev = del(c, SRV);
	s = wait_seen(m, rev);
	assert_int_equal(last_verdict(m, NULL, culprit, msg), ROUTER_ENOTFOUND);
	printf("# %s: %s\n", culprit, msg);
	assert_string_equal(culprit, SRV);
	assert_non_null(strstr(msg, "deleted"));
	assert_int_equal(s.version, (uint64_t)good);
	rev = put_bytes(c, SRV, "\x0a\x7f garbage", 10);
	s = wait_seen(m, rev);
	assert_int_equal(last_verdict(m, NULL, culprit, msg), ROUTER_EDOC);
	assert_string_equal(culprit, SRV);
	rev = put_fixture(c, SRV, "srv_vschema.bin");
	s = wait_seen(m, rev);
	assert_int_equal(last_verdict(m, NULL, NULL, NULL), ROUTER_OK);
	good = rev;
	rev = put_bytes(c, KS_CUSTOMER, "\xff\xff\xff", 3);
	s = wait_seen(m, rev);
	assert_int_equal(last_verdict(m, NULL, culprit, msg), ROUTER_EDOC);
	assert_string_equal(culprit, KS_CUSTOMER);
	rev = put_fixture(c, KS_CUSTOMER, "srvks_customer_gap.bin");
	s = wait_seen(m, rev);
	/* The gap is in the PRIMARY partition; this member follows RDONLY,
	 * which the value no longer has. */
	assert_int_equal(last_verdict(m, NULL, culprit, msg), ROUTER_ECOVERAGE);
	printf("# %s: %s\n", culprit, msg);
	assert_non_null(strstr(msg, "customer"));
	rev = put_bytes(c, KS_CUSTOMER, only_primary, sizeof only_primary);
	s = wait_seen(m, rev);
	assert_true(last_verdict(m, NULL, NULL, NULL) < 0);
	assert_int_equal(s.version, (uint64_t)good);
	rev = put_fixture(c, KS_CUSTOMER, "srvks_customer.bin");
	s = wait_seen(m, rev);
	assert_int_equal(last_verdict(m, NULL, NULL, NULL), ROUTER_OK);
	reader_stop(m);
	assert_int_equal(atomic_load(&m->failures), 0);
	assert_int_equal(atomic_load(&m->wrong), 0);
	router__etcd_close(c);
	done(e);
}

static void a_primary_gap_is_refused(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	char culprit[ROUTER_CULPRIT_MAX], msg[ROUTER_MESSAGE_MAX];
	int64_t rev, good;
	member *m;

	good = lay_out_cell(c);
	m = member_start(e, 0, NULL);
	wait_seen(m, good);
	rev = put_fixture(c, KS_CUSTOMER, "srvks_customer_gap.bin");
	wait_seen(m, rev);
	assert_int_equal(last_verdict(m, NULL, culprit, msg), ROUTER_ECOVERAGE);
	printf("# %s: %s\n", culprit, msg);
	assert_non_null(strstr(msg, "customer"));
	rev = put_fixture(c, KS_CUSTOMER, "srvks_customer_overlap.bin");
	wait_seen(m, rev);
	assert_true(last_verdict(m, NULL, NULL, NULL) < 0);
	assert_int_equal(router_serving_version(m->r), (uint64_t)good);
	assert_string_equal(shard_of(m, 1), shard_of(m, 1));
	assert_string_not_equal(shard_of(m, 1), "");
	router__etcd_close(c);
	done(e);
}

/* Stopped while the cell changes and etcd compacts the history past it:
 * started again, the follower reads the whole cell at the current
 * revision and serves it. */
static void compaction_reads_the_whole_cell_again(void **state)
{
	etcd_server *e = *state;
	char two[160];
	router__etcd *c = client(e);
	router_etcd_status s;
	router_error err;
	int64_t rev;
	member *m;

	/* The cell's etcd named apart from the global one: the follower
	 * opens a connection of its own for the cell (the same server). */
	snprintf(two, sizeof two, "%s,%s", e->endpoint, e->endpoint);
	rev = lay_out_cell(c);
	m = member_start(e, 0, &(vopts){.cell_endpoints = two});
	wait_seen(m, rev);
	router_etcd_stop(m->f);
	put_fixture(c, KS_CUSTOMER, "srvks_customer_resharding.bin");
	rev = put_fixture(c, KS_CUSTOMER, "srvks_customer_4.bin");
	put_bytes(c, "/vitess/zone1/tablets/zone1-0000000101/Tablet", "y", 1);
	assert_int_equal(router__etcd_compact(c, rev + 1, &err), ROUTER_OK);
	assert_int_equal(router_etcd_start(m->f, &err), ROUTER_OK);
	s = wait_seen(m, rev + 1);
	assert_int_equal(s.compactions, 1);
	pthread_mutex_lock(&m->mu);
	assert_int_equal(m->compacted_events, 1);
	pthread_mutex_unlock(&m->mu);
	assert_int_equal(last_verdict(m, NULL, NULL, NULL), ROUTER_OK);
	assert_int_equal(s.version, (uint64_t)rev);
	{
		router_route_result res;

		assert_int_equal(route_customer(m, 1, &res), ROUTER_OK);
		assert_string_equal(res.shard, expect(res.ksid[0], 4));
	}
	/* And follows on from there. */
	rev = put_fixture(c, SRV, "srv_vschema_incident.bin");
	s = wait_seen(m, rev);
	assert_int_equal(s.revision_refused, rev);
	router__etcd_close(c);
	done(e);
}

/* etcd killed and restarted: the follower retries, resumes from the
 * revision after the last one seen, and follows the next change. */
static void follows_on_after_an_etcd_restart(void **state)
{
	etcd_server *e = *state;
	char two[160];
	router__etcd *c = client(e);
	router_etcd_status s;
	int64_t rev;
	member *m;

	/* The cell's etcd named apart from the global one: the follower
	 * opens a connection of its own for the cell (the same server). */
	snprintf(two, sizeof two, "%s,%s", e->endpoint, e->endpoint);
	rev = lay_out_cell(c);
	m = member_start(e, 0, &(vopts){.cell_endpoints = two});
	wait_seen(m, rev);
	reader_start(m);
	router__etcd_close(c);
	eh_kill(e);
	eh_sleep_ms(500);
	router_etcd_status_get(m->f, &s, sizeof s);
	assert_true(s.state == ROUTER_ETCD_RETRYING ||
	            s.state == ROUTER_ETCD_CONNECTING ||
	            s.state == ROUTER_ETCD_FOLLOWING);
	assert_int_equal(eh_restart(e), 0);
	c = client(e);
	rev = put_fixture(c, KS_CUSTOMER, "srvks_customer_4.bin");
	s = wait_seen(m, rev);
	assert_true(s.reconnects >= 1);
	assert_int_equal(s.accepted, 2);
	assert_int_equal(s.refused, 0);
	assert_int_equal(s.stale, 0);
	reader_stop(m);
	assert_int_equal(atomic_load(&m->failures), 0);
	assert_int_equal(atomic_load(&m->wrong), 0);
	router__etcd_close(c);
	done(e);
}

/* etcd replaced by an empty one (its revisions start again at 1) and
 * the cell written again: the follower says the store is behind and
 * applies nothing at or below the last revision it saw; the changes
 * beyond it apply. */
static void a_store_behind_is_stale_until_it_passes(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	router_etcd_status s;
	int64_t seen, rev = 0;
	uint64_t v0;
	member *m;
	int stale = 0;

	for (int i = 0; i < 10; i++)
		put_bytes(c, "/vitess/zone1/tablets/zone1-0000000100/Tablet",
		          "x", 1);
	seen = lay_out_cell(c);
	m = member_start(e, 0, NULL);
	/* The first read may already see the status key's first write:
	 * the revision handled is that read's, the version the cell's. */
	s = wait_seen(m, seen);
	assert_int_equal(s.version, (uint64_t)seen);
	v0 = s.version;
	seen = s.revision_applied;
	assert_int_equal(eh_restart_wiped(e), 0);
	g_nwrites = 0; /* what the test wrote before is gone */
	router__etcd_close(c);
	c = client(e);
	rev = lay_out_cell(c);
	rev = put_fixture(c, KS_CUSTOMER, "srvks_customer_4.bin");
	assert_true(rev < seen);
	for (double t0 = eh_now(); eh_now() - t0 < 10 && !stale;
	     eh_sleep_ms(20)) {
		pthread_mutex_lock(&m->mu);
		stale = m->stale_events;
		pthread_mutex_unlock(&m->mu);
	}
	assert_true(stale > 0);
	router_etcd_status_get(m->f, &s, sizeof s);
	assert_int_equal(s.revision_applied, seen);
	assert_int_equal(s.version, v0);
	for (int tries = 0;
	     tries < 80 && (rev <= seen || s.revision_applied != rev);
	     tries++) {
		rev = put_fixture(c, KS_CUSTOMER, tries % 2
		                                      ? "srvks_customer_4.bin"
		                                      : "srvks_customer.bin");
		if (rev <= seen)
			continue;
		for (int k = 0; k < 100; k++) {
			router_etcd_status_get(m->f, &s, sizeof s);
			if (s.revision_applied == rev)
				break;
			eh_sleep_ms(10);
		}
	}
	assert_true(rev > seen);
	assert_int_equal(s.revision_applied, rev);
	assert_int_equal(s.version, (uint64_t)rev);
	router__etcd_close(c);
	done(e);
}

/* The last-known-good snapshot with the Vitess source: saved after the
 * table is accepted; a member started while etcd is down routes from it,
 * and the same cell read later is the table already in service. */
static void starts_from_the_snapshot_with_etcd_down(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	router_etcd_status s;
	char snap[300];
	int64_t rev;
	member *a, *b;

	snprintf(snap, sizeof snap, "%s/lkg.snapshot", e->dir);
	rev = lay_out_cell(c);
	a = member_start(e, 0, &(vopts){.snapshot = snap});
	wait_seen(a, rev);
	done(e);
	member_free(a);
	router__etcd_close(c);
	eh_kill(e);
	b = member_start(e, 1, &(vopts){.snapshot = snap});
	router_etcd_status_get(b->f, &s, sizeof s);
	assert_int_equal(s.from_snapshot, 1);
	assert_int_equal(s.version, (uint64_t)rev);
	assert_string_not_equal(shard_of(b, 1), "");
	assert_int_equal(eh_restart(e), 0);
	s = wait_seen(b, rev);
	assert_int_equal(s.version, (uint64_t)rev);
	assert_int_equal(s.refused, 0);
	assert_int_equal(s.from_snapshot, 0);
	done(e);
}

/* One kv of a range answer or a watch event: key, the fixture's bytes
 * (NULL: a CellInfo naming /vitess/zone1), mod revision. */
static size_t kv_json(char *out, size_t cap, const char *key,
                      const char *name, int64_t mod)
{
	/* Per thread: the fake serves each connection on a thread of its own,
	 * and the follower's watcher and latent thread connect at once. */
	static _Thread_local char ek[256], ev[6000];
	uint8_t cell[64];
	uint8_t *v;
	size_t n;

	if (name != NULL) {
		v = tu_topo_fixture(name, &n);
	} else {
		static const char root[] = "/vitess/zone1";

		n = 0;
		cell[n++] = 0x12;
		cell[n++] = (uint8_t)(sizeof root - 1);
		memcpy(cell + n, root, sizeof root - 1);
		n += sizeof root - 1;
		v = malloc(n);
		memcpy(v, cell, n);
	}
	b64((const uint8_t *)key, strlen(key), ek);
	b64(v, n, ev);
	free(v);
	return (size_t)snprintf(out, cap,
	                        "{\"key\":\"%s\",\"create_revision\":\"2\","
	                        "\"mod_revision\":\"%" PRId64
	                        "\",\"version\":\"1\",\"value\":\"%s\"}",
	                        ek, mod, ev);
}

/* The cell at revision 5, then a watch whose event at revision 6 cannot
 * be decoded; read again, the cell is at revision 7 (customer on four
 * shards). */
static void bad_event_handler(fake_etcd *fk, int fd, const char *path,
                              const char *body)
{
	static _Thread_local char out[32768]; /* per thread, as in kv_json */
	size_t n = 0;
	char *gk = fake_b64(GLOBAL "/"), pat[64];
	int global;

	/* The whole key: every key under the root shares its base64. */
	snprintf(pat, sizeof pat, "\"key\":\"%s\"", gk);
	global = strstr(body, pat) != NULL;
	free(gk);
	if (global && strcmp(path, "/v3/kv/range") == 0) {
		/* The latent watch's read of the global topo: nothing. */
		fake_reply(fd, 200, "{\"header\":{\"revision\":\"5\"},"
		                    "\"count\":\"0\"}");
	} else if (global && strcmp(path, "/v3/watch") == 0) {
		fake_stream_head(fd, 200);
		fake_puts(fd, "{\"result\":{\"header\":{\"revision\":\"5\"},"
		              "\"created\":true}}\n");
		fake_hold(fk, fd, 3000);
	} else if (strcmp(path, "/v3/kv/range") == 0 &&
	    strstr(body, "range_end") == NULL) {
		n += (size_t)snprintf(out, sizeof out,
		                      "{\"header\":{\"revision\":\"5\"},"
		                      "\"kvs\":[");
		n += kv_json(out + n, sizeof out - n, CELLINFO, NULL, 2);
		snprintf(out + n, sizeof out - n, "],\"count\":\"1\"}");
		fake_reply(fd, 200, out);
	} else if (strcmp(path, "/v3/kv/range") == 0) {
		int again = atomic_fetch_add(&g_prefix_ranges, 1) > 0;

		n += (size_t)snprintf(out, sizeof out,
		                      "{\"header\":{\"revision\":\"%d\"},"
		                      "\"kvs\":[",
		                      again ? 7 : 5);
		n += kv_json(out + n, sizeof out - n, KS_COMMERCE,
		             "srvks_commerce.bin", 3);
		out[n++] = ',';
		n += kv_json(out + n, sizeof out - n, KS_CUSTOMER,
		             again ? "srvks_customer_4.bin"
		                   : "srvks_customer.bin",
		             again ? 7 : 4);
		out[n++] = ',';
		n += kv_json(out + n, sizeof out - n, SRV, "srv_vschema.bin", 5);
		snprintf(out + n, sizeof out - n, "],\"count\":\"3\"}");
		fake_reply(fd, 200, out);
	} else if (strcmp(path, "/v3/watch") == 0) {
		const char *st = strstr(body, "\"start_revision\":\"");
		int64_t start = st ? strtoll(st + 18, NULL, 10) : 0;
		char *k = fake_b64(KS_CUSTOMER);

		fake_stream_head(fd, 200);
		fake_puts(fd, "{\"result\":{\"header\":{\"revision\":\"5\"},"
		              "\"created\":true}}\n");
		if (start <= 6) {
			snprintf(out, sizeof out,
			         "{\"result\":{\"header\":{\"revision\":\"6\"},"
			         "\"events\":[{\"kv\":{\"key\":\"%s\","
			         "\"create_revision\":\"2\",\"mod_revision\":"
			         "\"6\",\"value\":\"!!!not base64\"}}]}}\n",
			         k);
			fake_puts(fd, out);
		}
		free(k);
		fake_hold(fk, fd, 3000);
	} else {
		fake_default(fk, fd, path);
	}
}

/* A watch event that cannot be decoded names no key a follower could
 * keep: refused, and the whole cell read again. */
static void an_unreadable_event_reads_the_cell_again(void **state)
{
	etcd_server fake_server;
	router_etcd_status s;
	router_route_result res;
	member *m;

	(void)state;
	if (fake_start(&g_fake, bad_event_handler, NULL) != 0)
		fail_msg("cannot start the fake etcd");
	g_fake_on = 1;
	memset(&fake_server, 0, sizeof fake_server);
	snprintf(fake_server.endpoint, sizeof fake_server.endpoint, "%s",
	         g_fake.endpoint);
	m = member_start(&fake_server, 0, NULL);
	s = wait_seen(m, 7);
	assert_int_equal(s.revision_refused, 6);
	assert_int_equal(s.refusal.code, ROUTER_EDOC);
	assert_non_null(strstr(s.refusal.message, "read again"));
	assert_int_equal(s.skipped, 1);
	assert_int_equal(s.revision_applied, 7);
	assert_int_equal(s.version, 7);
	assert_int_equal(route_customer(m, 1, &res), ROUTER_OK);
	assert_string_equal(res.shard, expect(res.ksid[0], 4));
	assert_int_equal(atomic_load(&g_prefix_ranges), 2);
}

/* A steady stream of changes, each within the debounce of the one
 * before: the build still comes, within ten debounces of the first. */
static void a_steady_stream_still_publishes(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	router_etcd_status s;
	int64_t rev;
	member *m;
	double t0;

	rev = lay_out_cell(c);
	m = member_start(e, 0, &(vopts){.debounce_ms = 100});
	wait_seen(m, rev);
	t0 = eh_now();
	for (int i = 0; eh_now() - t0 < 2.5; i++) {
		put_fixture(c, KS_COMMERCE, "srvks_commerce.bin");
		eh_sleep_ms(40);
		router_etcd_status_get(m->f, &s, sizeof s);
		if (s.accepted > 1)
			break;
	}
	router_etcd_status_get(m->f, &s, sizeof s);
	printf("# first build of the stream after %.2f s\n", eh_now() - t0);
	assert_true(s.accepted > 1);
	assert_true(eh_now() - t0 < 2.0);
	router__etcd_close(c);
	done(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(options_for_the_vitess_source_are_checked),
	    cmocka_unit_test_setup_teardown(
	        follows_the_cell_and_reports_under_librouter, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_missing_cell_info_is_retried,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(resharding_cut_over_per_tablet_type,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(keyspace_added_and_deleted, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(one_transaction_is_applied_whole,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        the_incident_is_refused_and_the_repair_accepted, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        latent_poison_is_caught_before_it_is_served, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        latent_deleted_and_garbage_global_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        a_new_table_in_service_judges_every_value_again, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        latent_watch_resumes_after_an_etcd_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        bad_topo_values_are_refused_naming_the_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        latent_judges_with_the_routers_max_shrink, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        latent_watch_reads_again_after_a_compaction_while_cut_off,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(a_primary_gap_is_refused, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        compaction_reads_the_whole_cell_again, setup, teardown),
	    cmocka_unit_test_setup_teardown(follows_on_after_an_etcd_restart,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        a_store_behind_is_stale_until_it_passes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        starts_from_the_snapshot_with_etcd_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        an_unreadable_event_reads_the_cell_again, setup_fake, teardown),
	    cmocka_unit_test_setup_teardown(a_steady_stream_still_publishes,
	                                    setup, teardown),
	};

	if (getenv("ETCD_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("ETCD_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
