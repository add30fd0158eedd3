/*
 * Stress: reader threads route continuously (by handle, by name, in
 * batches) while two publisher threads push valid tables, tables refused by
 * every guard, rollbacks and history-evicting bursts.  Every answer is
 * checked against an oracle for the exact version that gave it: a reader
 * that saw a mix of two tables, or a freed one, would get a wrong shard (or
 * crash under ASan / race under TSan).
 *
 * Readers also open and free handles (their ids are reused under
 * publishes and lookups), and the event callback reads the router (stats,
 * history) and checks that accepted publishes arrive in version order, one
 * callback at a time.
 *
 * usage: stress [seconds (default 10)] [readers (default 2)]
 * Exit 0 when every answer was right and every verdict as expected.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "router.h"

#define NKEYS 1024
#define MAXV (1u << 22)

static const unsigned layouts[] = {2, 4, 8, 16, 256};
static const char *const vtypes[] = {"hash", "xxhash", "numeric"};
#define NL (sizeof layouts / sizeof layouts[0])
#define NV (sizeof vtypes / sizeof vtypes[0])

static uint16_t expect[NL][NV][NKEYS];
static char names[NL][256][12];
/* version -> (layout * NV + vtype) + 1; written before the version can be
 * published, read by readers after they got an answer from it. */
static uint8_t oracle[MAXV];
static uint64_t next_version = 1; /* atomic */
static int stop;                   /* atomic */
static router *R;
/* Event callback checks (issue 15): written by the callback only, which
 * never runs twice at once (that is one of the checks). */
static int cb_active;              /* atomic */
static uint64_t cb_events, cb_bad, cb_last_publish;

typedef struct counters {
	uint64_t lookups, wrong, versions_seen, errors;
	uint64_t accepted, refused[-ROUTER_ERRNO_MIN + 1], unexpected;
	uint64_t rollbacks, build_refusals;
} counters;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void die(const char *what, const router_error *e)
{
	fprintf(stderr, "stress: %s: %s: %s\n", what, e ? e->culprit : "",
	        e ? e->message : "");
	exit(2);
}

static void on_event(void *arg, const router_event *ev)
{
	router_stats st;
	router_history_entry h[8];

	(void)arg;
	if (__atomic_add_fetch(&cb_active, 1, __ATOMIC_SEQ_CST) != 1)
		cb_bad++;
	cb_events++;
	if (ev->kind == ROUTER_EVENT_PUBLISH && ev->code == ROUTER_OK) {
		if (ev->version_to <= cb_last_publish)
			cb_bad++;
		cb_last_publish = ev->version_to;
	}
	/* Reads from the callback (they deadlocked under the old lock). */
	router_stats_get(R, &st, sizeof st);
	if (router_history(R, h, 8) == 0 || st.accepted == 0)
		cb_bad++;
	__atomic_sub_fetch(&cb_active, 1, __ATOMIC_SEQ_CST);
}

/* The table of layout li with vindex vi; ntables tables in "user";
 * keyspace "commerce" unless drop_commerce. */
static router_table *make(unsigned li, unsigned vi, unsigned ntables,
                          uint64_t version, int drop_commerce, int gap)
{
	const char *cols[] = {"id"};
	router_builder *b;
	router_table *t = NULL;
	router_error e;
	unsigned i;
	int rc;

	if (router_builder_create(&b, NULL, &e))
		die("builder", &e);
	router_builder_set_version(b, version);
	router_builder_add_keyspace(b, "user", 1, &e);
	for (i = 0; i < layouts[li]; i++)
		if (!(gap && i == 1))
			router_builder_add_shard(b, "user", names[li][i], &e);
	router_builder_add_vindex(b, "user", "v", vtypes[vi], NULL, 0, NULL,
	                          &e);
	for (i = 0; i < ntables; i++) {
		char n[16];

		snprintf(n, sizeof n, "t%u", i);
		router_builder_add_table(b, "user", n, ROUTER_TABLE_NORMAL, NULL,
		                         &e);
		router_builder_add_column_vindex(b, "user", n, "v", cols, 1,
		                                 &e);
	}
	if (!drop_commerce) {
		router_builder_add_keyspace(b, "commerce", 0, &e);
		router_builder_add_table(b, "commerce", "product",
		                         ROUTER_TABLE_NORMAL, NULL, &e);
	}
	rc = router_table_build(b, &t, &e);
	router_builder_free(b);
	if (gap) {
		if (rc != ROUTER_ECOVERAGE || t != NULL)
			die("a coverage gap was built", &e);
		return NULL;
	}
	if (rc != ROUTER_OK)
		die("build", &e);
	return t;
}

static router_table *make_empty(uint64_t version, int incident)
{
	router_builder *b;
	router_table *t;
	router_error e;

	router_builder_create(&b, NULL, &e);
	router_builder_set_version(b, version);
	if (incident) {
		router_builder_add_keyspace(b, "user", 0, &e);
		router_builder_add_keyspace(b, "commerce", 0, &e);
		router_builder_add_table(b, "commerce", "product",
		                         ROUTER_TABLE_NORMAL, NULL, &e);
	}
	if (router_table_build(b, &t, &e))
		die("build empty", &e);
	router_builder_free(b);
	return t;
}

static void expect_refusal(counters *c, router_table *t, int want)
{
	router_error e;
	int rc = router_publish(R, t, 0, NULL, &e);

	if (rc == ROUTER_OK) {
		fprintf(stderr, "stress: a table that should be refused (%s) "
		                "was accepted\n",
		        router_errname(want));
		c->unexpected++;
		return;
	}
	if (rc != want && !(rc == ROUTER_EVERSION && want != ROUTER_EEMPTY)) {
		fprintf(stderr, "stress: expected %s, got %s: %s\n",
		        router_errname(want), router_errname(rc), e.message);
		c->unexpected++;
	}
	c->refused[-rc]++;
	router_table_free(t);
}

static void publish_valid(counters *c, uint64_t *seed)
{
	unsigned li = (unsigned)(rnd(seed) % NL), vi = (unsigned)(rnd(seed) % NV);
	uint64_t v = __atomic_fetch_add(&next_version, 1, __ATOMIC_RELAXED);
	router_table *t;
	router_error e;
	int rc;

	if (v >= MAXV)
		return;
	oracle[v] = (uint8_t)(li * NV + vi + 1);
	t = make(li, vi, 20, v, 0, 0);
	/* A new vindex type changes every row's keyspace ID: the
	 * keyspace-ID guard's to refuse unless destructive (the oracle's
	 * point is what readers see across exactly such swaps). */
	rc = router_publish(R, t, ROUTER_PUBLISH_DESTRUCTIVE, NULL, &e);
	if (rc == ROUTER_OK) {
		c->accepted++;
	} else if (rc == ROUTER_EVERSION) {
		/* the other publisher got a higher version in first */
		c->refused[-rc]++;
		router_table_free(t);
	} else {
		die("valid publish refused", &e);
	}
}

static void *publisher(void *arg)
{
	counters *c = arg;
	uint64_t seed = (uint64_t)(uintptr_t)arg * 2654435761u + 1;
	router_error e;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned action = (unsigned)(rnd(&seed) % 12), i;

		switch (action) {
		case 0:
			expect_refusal(c, make_empty(0, 0), ROUTER_EEMPTY);
			break;
		case 1:
			expect_refusal(c, make_empty(0, 1), ROUTER_EEMPTY);
			break;
		case 2:
			expect_refusal(c, make(0, 0, 20, 1, 0, 0),
			               ROUTER_EVERSION);
			break;
		case 3:
			expect_refusal(c, make(0, 0, 20, 0, 1, 0),
			               ROUTER_ESHRINK);
			break;
		case 4:
			expect_refusal(c, make(0, 0, 15, 0, 0, 0),
			               ROUTER_ESHRINK);
			break;
		case 5:
			(void)make(3, 0, 20, 0, 0, 1); /* refused at build */
			c->build_refusals++;
			break;
		case 6: {
			int rc = router_rollback(R, 1 + (unsigned)(rnd(&seed) % 4),
			                         &e);

			if (rc == ROUTER_OK)
				c->rollbacks++;
			else if (rc != ROUTER_ENOHISTORY)
				die("rollback", &e);
			break;
		}
		case 7:
			/* a burst that evicts the whole history */
			for (i = 0; i < 12; i++)
				publish_valid(c, &seed);
			break;
		default:
			publish_valid(c, &seed);
		}
	}
	return NULL;
}

static void *reader(void *arg)
{
	counters *c = arg;
	uint64_t seed = (uint64_t)(uintptr_t)arg | 1, last = 0;
	router_handle *h;
	router_route_result res;
	router_error e;
	uint64_t keys[64];
	uint32_t ids[64];

	if (router_handle_open(R, "user", 4, "t0", 2, &h, &e))
		die("handle", &e);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned key = (unsigned)(rnd(&seed) % NKEYS), mode = key % 8;
		unsigned o, li, vi, j;
		uint64_t version;
		int rc;

		if (mode == 0) {
			for (j = 0; j < 64; j++)
				keys[j] = (key + j * 7) % NKEYS;
			rc = router_handle_route_batch(h, keys, 64, 0, ids,
			                               &version, &e);
			if (rc != ROUTER_OK || version >= MAXV ||
			    oracle[version] == 0) {
				c->errors++;
				continue;
			}
			o = oracle[version] - 1u;
			li = o / NV;
			vi = o % NV;
			for (j = 0; j < 64; j++) {
				const char *n = router_shard_name(R, ids[j], NULL);

				if (n == NULL ||
				    strcmp(n, names[li][expect[li][vi][keys[j]]]))
					c->wrong++;
			}
			c->lookups += 64;
			continue;
		}
		if (mode == 1) {
			router_value v = ROUTER_VALUE_INT64(key);

			rc = router_route(R, "user", 4, "t0", 2, &v, 1, &res, &e);
		} else if (mode == 2) {
			/* Handle churn: a table every valid table routes like
			 * t0, and one that exists in none; ids are reused. */
			router_handle *a, *b;
			char n[16];

			snprintf(n, sizeof n, "t%u", 1 + key % 19);
			if (router_handle_open(R, "user", 4, n, strlen(n), &a,
			                       &e))
				die("handle", &e);
			snprintf(n, sizeof n, "x%u", key);
			if (router_handle_open(R, "user", 4, n, strlen(n), &b,
			                       &e))
				die("handle", &e);
			if (router_handle_route_int64(b, key, &res) !=
			    ROUTER_ENOTFOUND)
				c->wrong++;
			router_handle_free(b);
			rc = router_handle_route_int64(a, key, &res);
			router_handle_free(a);
		} else {
			rc = router_handle_route_int64(h, key, &res);
		}
		if (rc != ROUTER_OK || res.version >= MAXV ||
		    oracle[res.version] == 0) {
			c->errors++;
			continue;
		}
		o = oracle[res.version] - 1u;
		li = o / NV;
		vi = o % NV;
		/* The whole result: the name, its length, and the router-wide
		 * id that names it (the 8-byte entry packs the first two and
		 * computes the third). */
		if (strcmp(res.shard, names[li][expect[li][vi][key]]) != 0 ||
		    res.shard_len != strlen(res.shard) ||
		    router_shard_name(R, res.shard_id, NULL) != res.shard)
			c->wrong++;
		if (res.version != last) {
			c->versions_seen++;
			last = res.version;
		}
		c->lookups++;
	}
	router_handle_free(h);
	return NULL;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 10;
	int nreaders = argc > 2 ? atoi(argv[2]) : 2, i;
	router_options opt = ROUTER_OPTIONS_INIT;
	counters rc[16], pc[2], tot;
	pthread_t rt[16], pt[2];
	router_error e;
	router_stats st;
	unsigned li, vi, k, j;
	double t0;

	if (nreaders < 1 || nreaders > 16 || !(seconds > 0)) {
		fprintf(stderr, "usage: stress [seconds] [readers 1..16]\n");
		return 2;
	}
	for (li = 0; li < NL; li++) {
		for (j = 0; j < layouts[li]; j++)
			router_shard_range_name(j, layouts[li], names[li][j],
			                        sizeof names[li][j]);
		for (vi = 0; vi < NV; vi++)
			for (k = 0; k < NKEYS; k++) {
				router_value v = ROUTER_VALUE_INT64(k);
				uint8_t ksid[32];
				size_t len;

				if (router_keyspace_id(vtypes[vi], &v, ksid,
				                       sizeof ksid, &len, &e))
					die("ksid", &e);
				for (j = 0; j < layouts[li]; j++) {
					router_keyrange kr;

					router_keyrange_parse(
					    names[li][j], strlen(names[li][j]),
					    &kr, NULL);
					if (router_keyrange_contains(&kr, ksid,
					                             len))
						break;
				}
				expect[li][vi][k] = (uint16_t)j;
			}
	}
	opt.history = 8;
	opt.on_event = on_event;
	if (router_create(&R, &opt, &e))
		die("create", &e);
	next_version = 2;
	oracle[1] = 1;
	if (router_publish(R, make(0, 0, 20, 1, 0, 0), 0, NULL, &e))
		die("first publish", &e);
	memset(rc, 0, sizeof rc);
	memset(pc, 0, sizeof pc);
	for (i = 0; i < nreaders; i++)
		pthread_create(&rt[i], NULL, reader, &rc[i]);
	for (i = 0; i < 2; i++)
		pthread_create(&pt[i], NULL, publisher, &pc[i]);
	t0 = now();
	while (now() - t0 < seconds)
		usleep(20000);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++)
		pthread_join(pt[i], NULL);
	for (i = 0; i < nreaders; i++)
		pthread_join(rt[i], NULL);
	memset(&tot, 0, sizeof tot);
	for (i = 0; i < nreaders; i++) {
		tot.lookups += rc[i].lookups;
		tot.wrong += rc[i].wrong;
		tot.errors += rc[i].errors;
		tot.versions_seen += rc[i].versions_seen;
	}
	for (i = 0; i < 2; i++) {
		tot.accepted += pc[i].accepted;
		tot.rollbacks += pc[i].rollbacks;
		tot.unexpected += pc[i].unexpected;
		tot.build_refusals += pc[i].build_refusals;
		for (k = 0; k <= (unsigned)-ROUTER_ERRNO_MIN; k++)
			tot.refused[k] += pc[i].refused[k];
	}
	router_stats_get(R, &st, sizeof st);
	{
		/* Say which read side ran: the library reads the same variable
		 * (membarrier unless ROUTER_NO_MEMBARRIER is set and not "0"). */
		const char *nm = getenv("ROUTER_NO_MEMBARRIER");
		int xchg = nm != NULL && nm[0] != '\0' && nm[0] != '0';
		printf("stress: read side %s\n", xchg
		       ? "ck_epoch xchg (ROUTER_NO_MEMBARRIER set)"
		       : "membarrier if the kernel has it (TSan builds: xchg)");
	}
	printf("stress: %.1f s, %d readers: %llu lookups checked, %llu "
	       "versions seen, %llu wrong, %llu errors\n",
	       seconds, nreaders, (unsigned long long)tot.lookups,
	       (unsigned long long)tot.versions_seen,
	       (unsigned long long)tot.wrong, (unsigned long long)tot.errors);
	printf("stress: %llu publishes accepted, refused: EEMPTY %llu, "
	       "EVERSION %llu, ESHRINK %llu; %llu refused at build "
	       "(ECOVERAGE); %llu rollbacks; %llu unexpected verdicts\n",
	       (unsigned long long)tot.accepted,
	       (unsigned long long)tot.refused[-ROUTER_EEMPTY],
	       (unsigned long long)tot.refused[-ROUTER_EVERSION],
	       (unsigned long long)tot.refused[-ROUTER_ESHRINK],
	       (unsigned long long)tot.build_refusals,
	       (unsigned long long)tot.rollbacks,
	       (unsigned long long)tot.unexpected);
	printf("stress: tables retired %llu, freed %llu (pending %llu)\n",
	       (unsigned long long)st.tables_retired,
	       (unsigned long long)st.tables_freed,
	       (unsigned long long)(st.tables_retired - st.tables_freed));
	printf("stress: %llu events delivered, %llu out of order or "
	       "overlapping\n",
	       (unsigned long long)cb_events, (unsigned long long)cb_bad);
	router_free(R);
	if (tot.wrong || tot.errors || tot.unexpected || tot.lookups == 0 ||
	    tot.accepted == 0 || cb_bad || cb_events == 0)
		return 1;
	return 0;
}
