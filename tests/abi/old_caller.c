/*
 * A program built against the 0.1 header (tests/abi/router-0.1.h, copied
 * to router.h on its own include path) and run against the current
 * librouter.so: what a binary from before 0.2 does after the library is
 * upgraded under it.  Every struct or buffer the library writes into is
 * followed by canary bytes, which must survive the call, and the values
 * written must be the ones the 0.1 contract promises.  Exit 0 when all
 * checks pass; one line per failed check otherwise.
 *
 * This file may use only what router-0.1.h declares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

#ifdef ROUTER_VERSION_HEX /* new in 0.2 */
#error "built against the current router.h, not the 0.1 copy"
#endif

#define CANARY 0xA5
#define CANARY_LEN 64

static int failures;

/* Array types, for GUARDED. */
typedef uint8_t ksid_buf[8];
typedef char name_buf[16];
typedef char small_buf[8];
typedef char inv_buf[64];
typedef uint32_t id_buf[3];
typedef router_fence fence_buf[4];
typedef router_history_entry hist_buf[4];

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			printf("old_caller: %s:%d: %s\n", __FILE__, __LINE__, \
			       #cond);                                        \
			failures++;                                           \
		}                                                             \
	} while (0)

/* T followed by canary bytes: the library may write sizeof(T) (0.1's)
 * bytes and not one more. */
#define GUARDED(T)                                   \
	struct {                                     \
		T v;                                 \
		unsigned char canary[CANARY_LEN];    \
	}
#define ARM(g) memset(&(g), CANARY, sizeof(g))
#define INTACT(g) check_canary((g).canary, #g, __LINE__)

static void check_canary(const unsigned char *c, const char *what, int line)
{
	for (size_t i = 0; i < CANARY_LEN; i++)
		if (c[i] != CANARY) {
			printf("old_caller: line %d: %s: byte %zu past the "
			       "struct overwritten (0x%02x)\n",
			       line, what, i, c[i]);
			failures++;
			return;
		}
}

static int events, event_bad;
static uint64_t event_last_version;

/* router_event is library-allocated: an old callback reads the 0.1
 * fields only. */
static void on_event(void *arg, const router_event *ev)
{
	(void)arg;
	events++;
	if (ev->kind < ROUTER_EVENT_PUBLISH || ev->kind > ROUTER_EVENT_DISCARD)
		event_bad++;
	if (ev->code == ROUTER_OK && ev->error != NULL)
		event_bad++;
	if (ev->code != ROUTER_OK &&
	    (ev->error == NULL || ev->error->code != ev->code))
		event_bad++;
	if (ev->kind == ROUTER_EVENT_PUBLISH && ev->code == ROUTER_OK)
		event_last_version = ev->version_to;
}

/* keyspace "user" (shards -80, 80-, hash on users.id), and "lookup"
 * (unsharded) when with_lookup; version v. */
static router_table *make_table(uint64_t v, int with_user, int with_lookup)
{
	GUARDED(router_error) e;
	router_builder *b = NULL;
	router_table *t = NULL;
	const char *cols[] = {"id"};

	ARM(e);
	CHECK(router_builder_create(&b, NULL, &e.v) == ROUTER_OK);
	router_builder_set_version(b, v);
	if (with_user) {
		CHECK(router_builder_add_keyspace(b, "user", 1, &e.v) == 0);
		CHECK(router_builder_add_shard(b, "user", "-80", &e.v) == 0);
		CHECK(router_builder_add_shard(b, "user", "80-", &e.v) == 0);
		CHECK(router_builder_add_vindex(b, "user", "hash", "hash", NULL,
		                                0, NULL, &e.v) == 0);
		CHECK(router_builder_add_table(b, "user", "users",
		                               ROUTER_TABLE_NORMAL, NULL,
		                               &e.v) == 0);
		CHECK(router_builder_add_column_vindex(b, "user", "users",
		                                       "hash", cols, 1,
		                                       &e.v) == 0);
	}
	if (with_lookup) {
		CHECK(router_builder_add_keyspace(b, "lookup", 0, &e.v) == 0);
		CHECK(router_builder_add_table(b, "lookup", "names",
		                               ROUTER_TABLE_NORMAL, NULL,
		                               &e.v) == 0);
	}
	CHECK(router_table_build(b, &t, &e.v) == ROUTER_OK);
	INTACT(e);
	router_builder_free(b);
	return t;
}

/* A builder with a problem: router_builder_problem fills a router_error. */
static void check_builder_problem(void)
{
	GUARDED(router_error) e, p;
	router_builder *b = NULL;
	router_table *t = NULL;

	ARM(e);
	ARM(p);
	CHECK(router_builder_create(&b, NULL, NULL) == ROUTER_OK);
	CHECK(router_builder_add_keyspace(b, "user", 1, NULL) == 0);
	CHECK(router_builder_add_shard(b, "user", "-80", NULL) == 0);
	CHECK(router_table_build(b, &t, &e.v) == ROUTER_ECOVERAGE);
	INTACT(e);
	CHECK(e.v.code == ROUTER_ECOVERAGE);
	CHECK(router_builder_problem_count(b) >= 1);
	CHECK(router_builder_problem(b, 0, &p.v) == ROUTER_OK);
	INTACT(p);
	CHECK(p.v.code == ROUTER_ECOVERAGE);
	CHECK(memchr(p.v.message, '\0', sizeof p.v.message) != NULL);
	router_builder_free(b);
}

/* Values, vindexes, key ranges: caller-owned outputs. */
static void check_values(void)
{
	GUARDED(router_value) val;
	GUARDED(router_keyrange) kr;
	GUARDED(ksid_buf) ksid;
	GUARDED(name_buf) name;
	GUARDED(small_buf) small;
	size_t len = 0;

	ARM(val);
	CHECK(router_value_parse(ROUTER_SQL_INT64, "42", 2, &val.v, NULL) ==
	      ROUTER_OK);
	INTACT(val);
	CHECK(val.v.type == ROUTER_SQL_INT64 && val.v.i64 == 42);

	ARM(ksid);
	CHECK(router_keyspace_id("hash", &val.v, ksid.v, sizeof ksid.v, &len,
	                         NULL) == ROUTER_OK);
	INTACT(ksid);
	CHECK(len == 8);

	ARM(kr);
	CHECK(router_keyrange_parse("40-80", 5, &kr.v, NULL) == ROUTER_OK);
	INTACT(kr);
	CHECK(kr.v.start_len == 1 && kr.v.start[0] == 0x40 &&
	      kr.v.end_len == 1 && kr.v.end[0] == 0x80 && !kr.v.full);

	ARM(small);
	CHECK(router_keyrange_format(&kr.v, small.v, sizeof small.v) == 5);
	INTACT(small);
	CHECK(strcmp(small.v, "40-80") == 0);

	ARM(name);
	CHECK(router_shard_range_name(1, 4, name.v, sizeof name.v) ==
	      ROUTER_OK);
	INTACT(name);
	CHECK(strcmp(name.v, "40-80") == 0);
}

static void check_routing(router *r, router_table *t)
{
	GUARDED(router_route_result) res;
	GUARDED(id_buf) ids;
	router_value v = ROUTER_VALUE_INT64(1);
	router_handle *h = NULL;
	const uint64_t keys[3] = {1, 2, 3};
	uint64_t ver = 0;

	ARM(res);
	CHECK(router_table_route(t, "user", 4, "users", 5, &v, 1, &res.v,
	                         NULL) == ROUTER_OK);
	INTACT(res);
	CHECK(res.v.shard_len == 3 && res.v.ksid_len == 8);

	ARM(res);
	CHECK(router_route(r, "user", 4, "users", 5, &v, 1, &res.v, NULL) ==
	      ROUTER_OK);
	INTACT(res);
	CHECK(res.v.version == 3 && res.v.shard != NULL &&
	      res.v.shard_id != ROUTER_NO_SHARD);

	ARM(res);
	CHECK(router_route_ksid(r, "user", 4, "\x10", 1, &res.v, NULL) ==
	      ROUTER_OK);
	INTACT(res);
	CHECK(strcmp(res.v.shard, "-80") == 0);

	CHECK(router_handle_open(r, "user", 4, "users", 5, &h, NULL) ==
	      ROUTER_OK);
	ARM(res);
	CHECK(router_handle_route_int64(h, 1, &res.v) == ROUTER_OK);
	INTACT(res);
	CHECK(res.v.version == 3);
	ARM(res);
	CHECK(router_handle_route(h, &v, 1, &res.v, NULL) == ROUTER_OK);
	INTACT(res);
	ARM(ids);
	CHECK(router_handle_route_batch(h, keys, 3, 0, ids.v, &ver, NULL) ==
	      ROUTER_OK);
	INTACT(ids);
	CHECK(ver == 3 && ids.v[0] != ROUTER_NO_SHARD);
	router_handle_free(h);
}

/* router_get_stats, gone from the header since 0.2 but exported for this
 * program: exactly 0.1's router_stats, refused_by_code included. */
static void check_stats(router *r)
{
	GUARDED(router_stats) st;

	ARM(st);
	router_get_stats(r, &st.v);
	INTACT(st);
	CHECK(st.v.version == 3);
	CHECK(st.v.content_hash == router_content_hash(r));
	CHECK(st.v.accepted == 3);
	/* EVERSION, then ESHRINK twice (a dry run, a quarantine). */
	CHECK(st.v.refused == 3);
	CHECK(st.v.refused_by_code[-ROUTER_EVERSION] == 1);
	CHECK(st.v.refused_by_code[-ROUTER_ESHRINK] == 2);
	CHECK(st.v.refused_by_code[0] == 0);
	CHECK(st.v.checks == 1);
	CHECK(st.v.quarantined == 1);
	CHECK(st.v.discarded == 1);
	CHECK(st.v.history_len == 2); /* router_options.history */
	CHECK(st.v.shard_names == 3); /* -80, 80-, the unsharded "0" */
	CHECK(st.v.fences == 2);      /* manual + discarded */
	CHECK(st.v.invariants == 1);
	CHECK(st.v.tables_freed <= st.v.tables_retired);
	/* The 0.1 name of router_serving_version. */
	CHECK(router_version(r) == 3);
}

static void check_beyond(router *r, router_table *cur)
{
	GUARDED(router_pending_info) pi;
	GUARDED(fence_buf) fences;
	GUARDED(hist_buf) hist;
	GUARDED(router_shadow_stat) tot;
	GUARDED(inv_buf) inv;
	router_table *shrunk = make_table(0, 0, 1);
	router_value v = ROUTER_VALUE_INT64(7);
	router_sample_key key = {"user", 4, "users", 5, &v, 1};
	router_shadow_verdict *sv = NULL;
	size_t n;

	/* Dropping keyspace user: ESHRINK, kept pending. */
	CHECK(router_publish(r, shrunk, ROUTER_PUBLISH_DRY_RUN, NULL, NULL) ==
	      ROUTER_ESHRINK);
	CHECK(router_publish(r, shrunk, ROUTER_PUBLISH_QUARANTINE, NULL,
	                     NULL) == ROUTER_EQUARANTINED);
	ARM(pi);
	CHECK(router_pending(r, &pi.v, NULL, NULL) == ROUTER_OK);
	INTACT(pi);
	CHECK(pi.v.reason.code == ROUTER_ESHRINK);
	CHECK(pi.v.content_hash == router_table_hash(shrunk));
	CHECK(pi.v.since_unix_ns > 0);
	CHECK(router_pending_discard(r, NULL) == ROUTER_OK);

	CHECK(router_fence_add(r, 0x1234, NULL) == ROUTER_OK);
	ARM(fences);
	n = router_fences(r, fences.v, 4);
	INTACT(fences);
	CHECK(n == 2);
	CHECK(fences.v[0].origin == ROUTER_FENCE_DISCARDED);
	CHECK(fences.v[1].content_hash == 0x1234 &&
	      fences.v[1].origin == ROUTER_FENCE_MANUAL);

	ARM(hist);
	n = router_history(r, hist.v, 4);
	INTACT(hist);
	CHECK(n == 2);
	CHECK(hist.v[1].version == 3 && hist.v[1].in_service == 1);
	CHECK(hist.v[0].version == 2 && hist.v[0].in_service == 0);

	CHECK(router_invariant_add(r, "user sharded", NULL) == ROUTER_OK);
	ARM(inv);
	CHECK(router_invariant_get(r, 0, inv.v, sizeof inv.v) == 1);
	INTACT(inv);
	CHECK(strcmp(inv.v, "user sharded") == 0);

	CHECK(router_shadow_evaluate(cur, cur, &key, 1, &sv, NULL) ==
	      ROUTER_OK);
	ARM(tot);
	router_shadow_totals(sv, &tot.v);
	INTACT(tot);
	CHECK(tot.v.keys == 1 && tot.v.routed == 1 && tot.v.moved == 0);
	router_shadow_free(sv);
}

int main(void)
{
	router_options opt = ROUTER_OPTIONS_INIT;
	router_shadow_options so = ROUTER_SHADOW_OPTIONS_INIT;
	router_value v = ROUTER_VALUE_INT64(9);
	router_sample_key key = {"user", 4, "users", 5, &v, 1};
	GUARDED(router_error) e;
	router *r = NULL;
	router_table *t3;

	check_builder_problem();
	check_values();

	/* 0.1's router_options is smaller than today's: its size says so. */
	opt.history = 2;
	opt.fence_cap = 4;
	opt.on_event = on_event;
	CHECK(router_create(&r, &opt, NULL) == ROUTER_OK);
	if (r == NULL)
		return 1;
	CHECK(router_shadow_set_sample(r, &key, 1, &so, NULL) == ROUTER_OK);
	CHECK(router_publish(r, make_table(1, 1, 1), 0, NULL, NULL) == 0);
	CHECK(router_publish(r, make_table(2, 1, 1), 0, NULL, NULL) == 0);
	{
		router_table *old = make_table(1, 1, 1);

		ARM(e);
		CHECK(router_publish(r, old, 0, NULL, &e.v) ==
		      ROUTER_EVERSION);
		INTACT(e);
		CHECK(e.v.code == ROUTER_EVERSION);
		router_table_free(old);
	}
	t3 = make_table(3, 1, 1);
	CHECK(router_publish(r, t3, 0, NULL, NULL) == ROUTER_OK);
	CHECK(event_last_version == 3 && event_bad == 0 && events >= 4);

	check_routing(r, t3);
	check_beyond(r, t3);
	check_stats(r);
	router_free(r);

	if (failures == 0)
		printf("old_caller: a program built against router-0.1.h: "
		       "every struct intact, every value as 0.1 promised\n");
	return failures == 0 ? 0 : 1;
}
