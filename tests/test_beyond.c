/*
 * Beyond the guards: quarantine (keep, approve, discard, supersede),
 * fencing (a re-pushed refused table under a new version, rolled-back-from
 * content, bounds, lifting), operator invariants (each refused and
 * accepted), shadow evaluation (counts checked against a brute-force
 * count, thresholds), and allocation failures in what they add.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "router.h"
#include "router_doc.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

/* A table from a compact description:
 *   nshards   "user" shards (0: unsharded "user")
 *   tables    "user" tables, comma-separated, routed by id through vtype
 *   commerce  also the unsharded keyspace "commerce" with table product */
typedef struct shape {
	unsigned nshards;
	const char *tables;
	const char *vtype;
	int commerce;
	uint64_t version;
} shape;

static router_table *make(const shape *s, const router_allocator *a)
{
	char json[8192], shards[1024] = "", tables[4096] = "";
	size_t off = 0, toff = 0;
	const char *p = s->tables ? s->tables : "";
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_table *t = NULL;
	router_doc_report *rep = NULL;
	router_error e;
	unsigned i;

	for (i = 0; i < s->nshards; i++) {
		char name[16];

		router_shard_range_name(i, s->nshards, name, sizeof name);
		off += (size_t)snprintf(shards + off, sizeof shards - off,
		                        "%s\"%s\"", i ? "," : "", name);
	}
	while (*p) {
		const char *c = strchr(p, ',');
		int l = c ? (int)(c - p) : (int)strlen(p);

		if (s->nshards)
			toff += (size_t)snprintf(
			    tables + toff, sizeof tables - toff,
			    "%s\"%.*s\": {\"column_vindexes\": [{\"column\": "
			    "\"id\", \"name\": \"v\"}]}",
			    toff ? "," : "", l, p);
		else
			toff += (size_t)snprintf(tables + toff,
			                         sizeof tables - toff,
			                         "%s\"%.*s\": {}",
			                         toff ? "," : "", l, p);
		p += l + (c ? 1 : 0);
	}
	if (s->nshards)
		snprintf(json, sizeof json,
		         "{\"version\": %llu, \"keyspaces\": {\"user\": "
		         "{\"sharded\": true, \"shards\": [%s], \"vindexes\": "
		         "{\"v\": {\"type\": \"%s\"}}, \"tables\": {%s}}%s}}",
		         (unsigned long long)s->version, shards,
		         s->vtype ? s->vtype : "xxhash", tables,
		         s->commerce ? ", \"commerce\": {\"tables\": "
		                       "{\"product\": {}}}"
		                     : "");
	else
		snprintf(json, sizeof json,
		         "{\"version\": %llu, \"keyspaces\": {\"user\": "
		         "{\"tables\": {%s}}%s}}",
		         (unsigned long long)s->version, tables,
		         s->commerce ? ", \"commerce\": {\"tables\": "
		                       "{\"product\": {}}}"
		                     : "");
	o.allocator = a;
	if (router_doc_load(json, strlen(json), &o, &t, &rep, &e) != ROUTER_OK)
		fail_msg("doc: %s: %s\n%s", e.culprit, e.message, json);
	router_doc_report_free(rep);
	return t;
}

static router_table *std_table(unsigned nshards, uint64_t version)
{
	shape s = {nshards, "users,orders,items", "xxhash", 1, version};

	return make(&s, NULL);
}

typedef struct events {
	int n, last_kind, last_code, discards;
	char last_culprit[ROUTER_CULPRIT_MAX];
	router_shadow_stat last_shadow_total;
	int had_shadow;
} events;

static void on_event(void *arg, const router_event *ev)
{
	events *x = arg;

	x->n++;
	x->last_kind = ev->kind;
	x->last_code = ev->code;
	if (ev->kind == ROUTER_EVENT_DISCARD)
		x->discards++;
	snprintf(x->last_culprit, sizeof x->last_culprit, "%s",
	         ev->error ? ev->error->culprit : "");
	x->had_shadow = ev->shadow != NULL;
	if (ev->shadow)
		router_shadow_totals(ev->shadow, &x->last_shadow_total);
}

static router *new_router(unsigned fence_cap, events *x)
{
	router_options o = ROUTER_OPTIONS_INIT;
	router *r;
	router_error e;

	o.fence_cap = fence_cap;
	if (x != NULL) {
		memset(x, 0, sizeof *x);
		o.on_event = on_event;
		o.on_event_arg = x;
	}
	assert_int_equal(router_create(&r, &o, &e), ROUTER_OK);
	return r;
}

static void publish_ok(router *r, router_table *t, unsigned flags)
{
	router_error e;

	if (router_publish(r, t, flags, NULL, &e) != ROUTER_OK)
		fail_msg("publish refused: %s: %s: %s", router_errname(e.code),
		         e.culprit, e.message);
}

/* Publish expecting a refusal with code; the caller's table is freed. */
static void refused(router *r, router_table *t, unsigned flags, int code,
                    const char *culprit)
{
	router_error e;
	uint64_t v = router_serving_version(r), h = router_content_hash(r);
	int rc = router_publish(r, t, flags, NULL, &e);

	if (rc != code)
		fail_msg("expected %s, got %s: %s: %s", router_errname(code),
		         router_errname(rc), e.culprit, e.message);
	if (culprit != NULL)
		assert_string_equal(e.culprit, culprit);
	assert_int_equal(router_serving_version(r), v);
	assert_int_equal(router_content_hash(r), h);
	if (code != ROUTER_EQUARANTINED)
		router_table_free(t);
}

static uint64_t refused_by(router *r, int code)
{
	return router_stats_refused(r, code);
}

/* ---- quarantine ----------------------------------------------------------- */

static void quarantine_keeps_a_shrinking_table_pending_without_serving(
    void **state)
{
	events x;
	router *r = new_router(0, &x);
	shape drop = {4, "users,orders,items", "xxhash", 0, 0};
	router_table *t;
	router_pending_info pi;
	router_diff *d;
	router_error e;
	router_stats st;

	(void)state;
	publish_ok(r, std_table(4, 1), 0);
	t = make(&drop, NULL);
	refused(r, t, ROUTER_PUBLISH_QUARANTINE, ROUTER_EQUARANTINED,
	        "commerce");
	assert_int_equal(x.last_code, ROUTER_EQUARANTINED);
	assert_string_equal(x.last_culprit, "commerce");
	assert_int_equal(router_pending(r, &pi, &d, &e), ROUTER_OK);
	assert_int_equal(pi.reason.code, ROUTER_ESHRINK);
	assert_string_equal(pi.reason.culprit, "commerce");
	assert_int_equal(pi.content_hash, router_table_hash(t));
	assert_true(pi.since_unix_ns > 0);
	assert_int_equal(router_diff_tally(d, ROUTER_DIFF_KEYSPACE,
	                                   ROUTER_DIFF_REMOVED),
	                 1);
	router_diff_free(d);
	router_stats_get(r, &st, sizeof st);
	assert_int_equal(st.quarantined, 1);
	assert_int_equal(router_stats_refused(r, ROUTER_ESHRINK), 1);
	assert_int_equal(st.version, 1);
	/* Only one pending table: the next quarantine replaces it. */
	refused(r, make(&drop, NULL), ROUTER_PUBLISH_QUARANTINE,
	        ROUTER_EQUARANTINED, NULL);
	assert_int_equal(x.discards, 1);
	router_free(r); /* frees the pending table (ASan checks) */
}

static void quarantine_takes_only_empty_shrink_and_shadow_refusals(
    void **state)
{
	router *r = new_router(0, NULL);
	router_error e;

	(void)state;
	publish_ok(r, std_table(4, 5), 0);
	/* A stale version goes back to the caller as before. */
	refused(r, std_table(4, 3), ROUTER_PUBLISH_QUARANTINE, ROUTER_EVERSION,
	        NULL);
	assert_int_equal(router_pending(r, NULL, NULL, &e), ROUTER_ENOTFOUND);
	/* An accepted table is simply published. */
	publish_ok(r, std_table(8, 6), ROUTER_PUBLISH_QUARANTINE);
	assert_int_equal(router_pending(r, NULL, NULL, &e), ROUTER_ENOTFOUND);
	router_free(r);
}

static void approving_the_pending_table_publishes_it_as_if_allowed(
    void **state)
{
	events x;
	router *r = new_router(0, &x);
	shape unsharded = {0, "", NULL, 1, 0};
	router_table *t;
	router_error e;
	router_stats st;

	(void)state;
	publish_ok(r, std_table(4, 1), 0);
	/* The January 2026 shape, kept for review. */
	t = make(&unsharded, NULL);
	refused(r, t, ROUTER_PUBLISH_QUARANTINE, ROUTER_EQUARANTINED, "user");
	assert_int_equal(router_pending_approve(r, NULL, &e), ROUTER_OK);
	assert_int_equal(router_serving_version(r), 2);
	assert_int_equal(router_content_hash(r), router_table_hash(t));
	assert_int_equal(x.last_kind, ROUTER_EVENT_PUBLISH);
	assert_int_equal(x.last_code, ROUTER_OK);
	assert_int_equal(router_pending(r, NULL, NULL, &e), ROUTER_ENOTFOUND);
	assert_int_equal(router_pending_approve(r, NULL, &e), ROUTER_ENOTFOUND);
	router_stats_get(r, &st, sizeof st);
	assert_int_equal(st.approved, 1);
	assert_int_equal(st.accepted, 2);
	/* Rolling back works as for any publish. */
	assert_int_equal(router_rollback(r, 1, &e), ROUTER_OK);
	assert_int_equal(router_serving_version(r), 1);
	router_free(r);
}

static void approval_still_checks_fences_and_invariants(void **state)
{
	router *r = new_router(4, NULL);
	shape unsharded = {0, "", NULL, 1, 0};
	router_table *t;
	router_error e;

	(void)state;
	publish_ok(r, std_table(4, 1), 0);
	t = make(&unsharded, NULL);
	refused(r, t, ROUTER_PUBLISH_QUARANTINE, ROUTER_EQUARANTINED, "user");
	assert_int_equal(router_invariant_add(r, "user sharded", &e),
	                 ROUTER_OK);
	assert_int_equal(router_pending_approve(r, NULL, &e),
	                 ROUTER_EINVARIANT);
	assert_int_equal(router_serving_version(r), 1);
	assert_int_equal(router_pending(r, NULL, NULL, &e), ROUTER_OK);
	assert_int_equal(router_invariant_remove(r, "user   sharded", &e),
	                 ROUTER_OK);
	assert_int_equal(router_fence_add(r, router_table_hash(t), &e),
	                 ROUTER_OK);
	assert_int_equal(router_pending_approve(r, NULL, &e), ROUTER_EFENCED);
	assert_int_equal(router_fence_lift(r, router_table_hash(t), &e),
	                 ROUTER_OK);
	assert_int_equal(router_pending_approve(r, NULL, &e), ROUTER_OK);
	assert_int_equal(router_serving_version(r), 2);
	router_free(r);
}

static void discarding_the_pending_table_frees_and_fences_it(void **state)
{
	events x;
	router *r = new_router(8, &x);
	shape drop = {4, "users", "xxhash", 1, 0};
	router_fence f[4];
	router_error e;
	uint64_t h;
	router_table *t;

	(void)state;
	publish_ok(r, std_table(4, 1), 0);
	t = make(&drop, NULL);
	h = router_table_hash(t);
	refused(r, t, ROUTER_PUBLISH_QUARANTINE, ROUTER_EQUARANTINED, "user");
	assert_int_equal(router_pending_discard(r, &e), ROUTER_OK);
	assert_int_equal(x.last_kind, ROUTER_EVENT_DISCARD);
	assert_int_equal(router_pending_discard(r, &e), ROUTER_ENOTFOUND);
	assert_int_equal(router_fences(r, f, 4), 1);
	assert_int_equal(f[0].content_hash, h);
	assert_int_equal(f[0].origin, ROUTER_FENCE_DISCARDED);
	/* The reconciler pushes it again, with a new version. */
	drop.version = 50;
	refused(r, make(&drop, NULL), ROUTER_PUBLISH_QUARANTINE, ROUTER_EFENCED,
	        NULL);
	router_free(r);
}

static void a_newer_valid_publish_discards_the_pending_table(void **state)
{
	events x;
	router *r = new_router(8, &x);
	shape drop = {4, "users", "xxhash", 1, 0};
	router_error e;

	(void)state;
	publish_ok(r, std_table(4, 1), 0);
	refused(r, make(&drop, NULL), ROUTER_PUBLISH_QUARANTINE,
	        ROUTER_EQUARANTINED, "user");
	publish_ok(r, std_table(8, 2), 0);
	assert_int_equal(x.discards, 1);
	assert_int_equal(router_pending(r, NULL, NULL, &e), ROUTER_ENOTFOUND);
	/* Superseded is not judged: not fenced. */
	assert_int_equal(router_fences(r, NULL, 0), 0);
	router_free(r);
}

/* ---- fencing ------------------------------------------------------------- */

static void a_refused_table_pushed_again_under_a_new_version_is_fenced(
    void **state)
{
	events x;
	router *r = new_router(16, &x);
	shape drop = {4, "users,orders,items", "xxhash", 0, 10};
	router_fence f;
	router_error e;
	uint64_t h;

	(void)state;
	publish_ok(r, std_table(4, 1), 0);
	refused(r, make(&drop, NULL), 0, ROUTER_ESHRINK, "commerce");
	assert_int_equal(router_fences(r, &f, 1), 1);
	assert_int_equal(f.origin, ROUTER_FENCE_REFUSED);
	assert_int_equal(f.code, ROUTER_ESHRINK);
	assert_int_equal(f.version, 10);
	h = f.content_hash;
	/* Whatever the version and even with the destructive flag. */
	drop.version = 11;
	refused(r, make(&drop, NULL), 0, ROUTER_EFENCED, NULL);
	drop.version = 0;
	refused(r, make(&drop, NULL), ROUTER_PUBLISH_DESTRUCTIVE,
	        ROUTER_EFENCED, NULL);
	assert_int_equal(x.last_code, ROUTER_EFENCED);
	assert_int_equal(refused_by(r, ROUTER_EFENCED), 2);
	/* A dry run gives the same verdict but fences nothing new. */
	refused(r, make(&drop, NULL), ROUTER_PUBLISH_DRY_RUN, ROUTER_EFENCED,
	        NULL);
	/* Lifted, the operator's override works again. */
	assert_int_equal(router_fence_lift(r, h, &e), ROUTER_OK);
	assert_int_equal(router_fence_lift(r, h, &e), ROUTER_ENOTFOUND);
	publish_ok(r, make(&drop, NULL), ROUTER_PUBLISH_DESTRUCTIVE);
	router_free(r);
}

static void stale_versions_and_dry_runs_are_not_fenced(void **state)
{
	router *r = new_router(16, NULL);
	shape drop = {4, "users", "xxhash", 1, 0};

	(void)state;
	publish_ok(r, std_table(4, 5), 0);
	refused(r, std_table(8, 2), 0, ROUTER_EVERSION, NULL);
	refused(r, make(&drop, NULL), ROUTER_PUBLISH_DRY_RUN, ROUTER_ESHRINK,
	        "user");
	assert_int_equal(router_fences(r, NULL, 0), 0);
	publish_ok(r, std_table(8, 6), 0);
	router_free(r);
}

static void content_rolled_back_from_is_fenced(void **state)
{
	router *r = new_router(16, NULL);
	router_fence f;
	router_error e;
	router_table *bad = std_table(16, 2);
	uint64_t h = router_table_hash(bad);

	(void)state;
	publish_ok(r, std_table(4, 1), 0);
	publish_ok(r, bad, 0);
	assert_int_equal(router_rollback(r, 1, &e), ROUTER_OK);
	assert_int_equal(router_fences(r, &f, 1), 1);
	assert_int_equal(f.content_hash, h);
	assert_int_equal(f.origin, ROUTER_FENCE_ROLLED_BACK);
	assert_int_equal(f.version, 2);
	refused(r, std_table(16, 3), 0, ROUTER_EFENCED, NULL);
	/* A rollback forward is the operator's choice: not fenced. */
	assert_int_equal(router_rollback_to(r, 2, &e), ROUTER_OK);
	assert_int_equal(router_serving_version(r), 2);
	router_free(r);
}

static void fences_are_bounded_and_forget_the_oldest(void **state)
{
	router *r = new_router(2, NULL);
	router_fence f[3];
	router_stats st;
	router_error e;

	(void)state;
	assert_int_equal(router_fence_add(r, 1, &e), ROUTER_OK);
	assert_int_equal(router_fence_add(r, 2, &e), ROUTER_OK);
	assert_int_equal(router_fence_add(r, 3, &e), ROUTER_OK);
	assert_int_equal(router_fences(r, f, 3), 2);
	assert_int_equal(f[0].content_hash, 2);
	assert_int_equal(f[1].content_hash, 3);
	assert_int_equal(f[1].origin, ROUTER_FENCE_MANUAL);
	router_stats_get(r, &st, sizeof st);
	assert_int_equal(st.fences, 2);
	router_fence_clear(r);
	assert_int_equal(router_fences(r, NULL, 0), 0);
	router_free(r);
}

static void fencing_is_off_by_default(void **state)
{
	router *r = new_router(0, NULL);
	shape drop = {4, "users", "xxhash", 1, 0};
	router_error e;
	router_options o = ROUTER_OPTIONS_INIT;

	(void)state;
	publish_ok(r, std_table(4, 1), 0);
	refused(r, make(&drop, NULL), 0, ROUTER_ESHRINK, "user");
	refused(r, make(&drop, NULL), 0, ROUTER_ESHRINK, "user");
	assert_int_equal(router_fences(r, NULL, 0), 0);
	assert_int_equal(router_fence_add(r, 1, &e), ROUTER_ESTATE);
	router_free(r);
	o.fence_cap = 70000;
	assert_int_equal(router_create(&r, &o, &e), ROUTER_EINVAL);
}

/* ---- invariants -------------------------------------------------------------- */

static void invariant_keyspace_stays_sharded(void **state)
{
	events x;
	router *r = new_router(0, &x);
	shape unsharded = {0, "users,orders,items", NULL, 1, 0};
	router_error e;

	(void)state;
	publish_ok(r, std_table(4, 1), 0);
	assert_int_equal(router_invariant_add(r, "user sharded", &e),
	                 ROUTER_OK);
	refused(r, make(&unsharded, NULL), ROUTER_PUBLISH_DESTRUCTIVE,
	        ROUTER_EINVARIANT, "user");
	assert_int_equal(x.last_code, ROUTER_EINVARIANT);
	assert_non_null(strstr(x.last_culprit, "user"));
	assert_int_equal(refused_by(r, ROUTER_EINVARIANT), 1);
	publish_ok(r, std_table(8, 2), 0);
	router_free(r);
}

static void invariant_keyspace_keeps_at_least_n_shards(void **state)
{
	router *r = new_router(0, NULL);
	router_error e;

	(void)state;
	publish_ok(r, std_table(4, 1), 0);
	assert_int_equal(router_invariant_add(r, "user shards >= 8", &e),
	                 ROUTER_EINVARIANT); /* in service: 4 */
	assert_non_null(strstr(e.message, "4 shards"));
	assert_int_equal(router_invariant_add(r, "user shards >= 4", &e),
	                 ROUTER_OK);
	refused(r, std_table(2, 2), 0, ROUTER_EINVARIANT, "user");
	publish_ok(r, std_table(4, 3), 0);
	publish_ok(r, std_table(16, 4), 0);
	router_free(r);
}

static void invariant_keyspace_keeps_its_tables(void **state)
{
	router *r = new_router(0, NULL);
	shape lose = {4, "users,items", "xxhash", 1, 0};
	shape add = {4, "users,orders,items,extra", "xxhash", 1, 0};
	router_error e;

	(void)state;
	publish_ok(r, std_table(4, 1), 0);
	assert_int_equal(router_invariant_add(r, "user tables users,orders",
	                                      &e),
	                 ROUTER_OK);
	/* Within max_shrink for the shrink guard? No matter: invariant. */
	refused(r, make(&lose, NULL), ROUTER_PUBLISH_DESTRUCTIVE,
	        ROUTER_EINVARIANT, "user.orders");
	publish_ok(r, make(&add, NULL), 0);
	publish_ok(r, make(&(shape){4, "users,orders", "xxhash", 0, 0}, NULL),
	           ROUTER_PUBLISH_DESTRUCTIVE);
	router_free(r);
}

static void invariant_table_keeps_its_primary_vindex_type(void **state)
{
	router *r = new_router(0, NULL);
	shape hash = {4, "users,orders,items", "hash", 1, 0};
	router_error e;
	char buf[64];

	(void)state;
	publish_ok(r, std_table(4, 1), 0);
	assert_int_equal(router_invariant_add(r, "user.users vindex", &e),
	                 ROUTER_OK);
	assert_int_equal(router_invariant_add(r, "user.orders vindex xxhash "
	                                         "# kept by hand",
	                                      &e),
	                 ROUTER_OK);
	assert_int_equal(router_invariant_add(r, "user.items vindex hash", &e),
	                 ROUTER_EINVARIANT);
	/* The implicit one (declared first): keeps the type in service. */
	refused(r, make(&hash, NULL), 0, ROUTER_EINVARIANT, "user.users");
	assert_int_equal(router_invariant_get(r, 0, buf, sizeof buf), 2);
	assert_string_equal(buf, "user.users vindex");
	router_invariant_get(r, 1, buf, sizeof buf);
	assert_string_equal(buf, "user.orders vindex xxhash");
	assert_int_equal(router_invariant_remove(r, "user.users vindex", &e),
	                 ROUTER_OK);
	refused(r, make(&hash, NULL), 0, ROUTER_EINVARIANT, "user.orders");
	publish_ok(r, std_table(8, 5), 0);
	router_free(r);
}

static void invariant_syntax_errors_are_einval(void **state)
{
	router *r = new_router(0, NULL);
	router_error e;
	const char *bad[] = {"",        "user",          "user sharded x",
	                     "user shards > 2", "user shards >= 0",
	                     "user shards >= x", "user tables",
	                     "user tables a,,b", "user tables a,",
	                     "user vindex", "user. vindex",
	                     "user.t sharded", "user frobnicated"};
	size_t i;
	const char *ok[] = {"user sharded"};
	router_table *t = std_table(2, 1);

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (router_invariant_add(r, bad[i], &e) != ROUTER_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(strstr(e.message, "invariant"));
	}
	assert_int_equal(router_invariant_get(r, 0, NULL, 0), 0);
	assert_int_equal(router_invariant_remove(r, "user sharded", &e),
	                 ROUTER_ENOTFOUND);
	/* Without a router. */
	assert_int_equal(router_invariants_check(ok, 1, NULL, t, &e),
	                 ROUTER_OK);
	assert_int_equal(router_invariants_check(bad + 1, 1, NULL, t, &e),
	                 ROUTER_EINVAL);
	assert_string_equal(e.culprit, "invariant 1");
	router_table_free(t);
	router_free(r);
}

/* ---- shadow evaluation ------------------------------------------------------- */

#define NKEYS 2000

typedef struct sample {
	router_sample_key k[NKEYS];
	router_value v[NKEYS];
} sample;

static void make_sample(sample *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		/* Mostly user.users, some user.orders, some commerce. */
		const char *ks = i % 10 == 9 ? "commerce" : "user";
		const char *tb = i % 10 == 9 ? "product"
		                 : i % 3 == 0 ? "orders"
		                              : "users";

		s->v[i] = ROUTER_VALUE_INT64((int64_t)(i * 7919 + 13));
		s->k[i] = (router_sample_key){ks, strlen(ks), tb, strlen(tb),
		                              &s->v[i], 1};
	}
}

/* The same counts, key by key, with router_table_route. */
static void brute_force(const router_table *a, const router_table *b,
                        const sample *s, size_t n, const char *ks,
                        router_shadow_stat *out)
{
	size_t i;

	memset(out, 0, sizeof *out);
	for (i = 0; i < n; i++) {
		router_route_result ra, rb;
		int ca, cb, oka, okb;

		if (strcmp(s->k[i].keyspace, ks) != 0)
			continue;
		out->keys++;
		ca = router_table_route(a, s->k[i].keyspace,
		                        s->k[i].keyspace_len, s->k[i].table,
		                        s->k[i].table_len, s->k[i].values, 1,
		                        &ra, NULL);
		cb = router_table_route(b, s->k[i].keyspace,
		                        s->k[i].keyspace_len, s->k[i].table,
		                        s->k[i].table_len, s->k[i].values, 1,
		                        &rb, NULL);
		oka = ca == ROUTER_OK || ca == ROUTER_NONE;
		okb = cb == ROUTER_OK || cb == ROUTER_NONE;
		if (oka) {
			out->routed++;
			if (!okb)
				out->unroutable++;
			else if (strcmp(ra.shard, rb.shard) != 0)
				out->moved++;
		} else if (okb) {
			out->newly_routable++;
		}
	}
}

static void shadow_counts_match_a_brute_force_count(void **state)
{
	static sample s;
	shape lose = {4, "users,items", "xxhash", 1, 0};
	struct {
		router_table *a, *b;
	} pairs[4];
	size_t p, i;

	(void)state;
	make_sample(&s, NKEYS);
	pairs[0].a = std_table(4, 1), pairs[0].b = std_table(8, 2);
	pairs[1].a = std_table(8, 1), pairs[1].b = std_table(3, 2);
	pairs[2].a = std_table(4, 1), pairs[2].b = make(&lose, NULL);
	pairs[3].a = make(&lose, NULL), pairs[3].b = std_table(4, 1);
	for (p = 0; p < 4; p++) {
		router_shadow_verdict *v;
		router_error e;
		router_shadow_stat tot;

		assert_int_equal(router_shadow_evaluate(pairs[p].a, pairs[p].b,
		                                        s.k, NKEYS, &v, &e),
		                 ROUTER_OK);
		assert_int_equal(router_shadow_count(v), 2);
		for (i = 0; i < 2; i++) {
			const router_shadow_stat *got = router_shadow_get(v, i);
			router_shadow_stat want;

			brute_force(pairs[p].a, pairs[p].b, &s, NKEYS,
			            got->keyspace, &want);
			assert_int_equal(got->keys, want.keys);
			assert_int_equal(got->routed, want.routed);
			assert_int_equal(got->moved, want.moved);
			assert_int_equal(got->unroutable, want.unroutable);
			assert_int_equal(got->newly_routable,
			                 want.newly_routable);
		}
		assert_string_equal(router_shadow_get(v, 0)->keyspace,
		                    "commerce");
		assert_null(router_shadow_get(v, 2));
		router_shadow_totals(v, &tot);
		assert_int_equal(tot.keys, NKEYS);
		if (p == 2)
			assert_true(router_shadow_get(v, 1)->unroutable > 0);
		if (p == 3)
			assert_true(router_shadow_get(v, 1)->newly_routable >
			            0);
		router_shadow_free(v);
		router_table_free(pairs[p].a);
		router_table_free(pairs[p].b);
	}
}

static void shadow_threshold_refuses_naming_the_keyspace(void **state)
{
	static sample s;
	events x;
	router *r;
	router_options ro = ROUTER_OPTIONS_INIT;
	router_shadow_options o = ROUTER_SHADOW_OPTIONS_INIT;
	router_error e;
	router_stats st;
	/* Loses orders, within max_shrink? 1 of 3 is 33%: allow it. */
	shape lose = {4, "users,items", "xxhash", 1, 0};

	(void)state;
	memset(&x, 0, sizeof x);
	ro.on_event = on_event;
	ro.on_event_arg = &x;
	ro.max_shrink = 0.5; /* the shrink guard lets a table go... */
	assert_int_equal(router_create(&r, &ro, &e), ROUTER_OK);
	make_sample(&s, NKEYS);
	publish_ok(r, std_table(4, 1), 0);
	o.max_moved = 0.25;
	assert_int_equal(router_shadow_set_sample(r, s.k, NKEYS, &o, &e),
	                 ROUTER_OK);
	/* Clobber the caller's keys: the router kept a copy. */
	memset(&s, 0, sizeof s);
	/* 4 -> 8 shards: every user key changes shard name. */
	refused(r, std_table(8, 2), 0, ROUTER_ESHADOW, "user");
	assert_true(x.had_shadow);
	assert_int_equal(x.last_shadow_total.keys, NKEYS);
	/* ... the sample does not: by default any key that becomes
	 * unroutable refuses. */
	o.max_moved = 1.0;
	make_sample(&s, NKEYS);
	assert_int_equal(router_shadow_set_sample(r, s.k, NKEYS, &o, &e),
	                 ROUTER_OK);
	refused(r, make(&lose, NULL), ROUTER_PUBLISH_QUARANTINE,
	        ROUTER_EQUARANTINED, "user");
	publish_ok(r, std_table(8, 3), 0);
	router_stats_get(r, &st, sizeof st);
	assert_int_equal(router_stats_refused(r, ROUTER_ESHADOW), 2);
	assert_int_equal(st.shadow_runs, 3);
	/* The destructive flag overrides the threshold. */
	publish_ok(r, make(&lose, NULL), ROUTER_PUBLISH_DESTRUCTIVE);
	/* Bad options, and clearing. */
	o.max_unroutable = 2;
	assert_int_equal(router_shadow_set_sample(r, s.k, 1, &o, &e),
	                 ROUTER_EINVAL);
	assert_int_equal(router_shadow_set_sample(r, NULL, 1, NULL, &e),
	                 ROUTER_EINVAL);
	/* Lengths that add up past SIZE_MAX are refused before a byte is
	 * copied (the sum would wrap to a small buffer). */
	{
		static const char b[1];
		router_value huge[2] = {
		    ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, b, SIZE_MAX / 2),
		    ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, b, SIZE_MAX / 2)};
		router_sample_key k = {"user", 4, "users", 5, huge, 2};

		assert_int_equal(router_shadow_set_sample(r, &k, 1, NULL, &e),
		                 ROUTER_ERANGE);
		assert_non_null(strstr(e.message, "larger than memory"));
	}
	assert_int_equal(router_shadow_set_sample(r, NULL, 0, NULL, &e),
	                 ROUTER_OK);
	publish_ok(r, std_table(2, 0), ROUTER_PUBLISH_DESTRUCTIVE);
	router_stats_get(r, &st, sizeof st);
	assert_int_equal(st.shadow_runs, 4);
	router_free(r);
}

/* ---- allocation failures -------------------------------------------------------- */


static void new_features_fail_cleanly_at_any_allocation(void **state)
{
	static sample s;
	tu_alloc f = TU_ALLOC_INIT;
	router_allocator a = TU_ALLOCATOR(&f);
	router_options o = ROUTER_OPTIONS_INIT;
	router *r;
	router_error e;
	long k;
	int rc;

	(void)state;
	make_sample(&s, 100);
	o.allocator = &a;
	o.fence_cap = 4;
	for (k = 0;; k++) { /* router_create with fences */
		f.countdown = k;
		rc = router_create(&r, &o, &e);
		f.countdown = -1;
		if (rc == ROUTER_OK)
			break;
		assert_int_equal(rc, ROUTER_ENOMEM);
		assert_int_equal(f.live, 0);
	}
	/* Intern the shard names first (they live as long as the router). */
	publish_ok(r, std_table(8, 0), 0);
	publish_ok(r, std_table(4, 0), 0);
	for (k = 0;; k++) { /* invariants */
		long live = f.live;

		f.countdown = k;
		rc = router_invariant_add(r, "user tables users,orders", &e);
		f.countdown = -1;
		if (rc == ROUTER_OK)
			break;
		assert_int_equal(rc, ROUTER_ENOMEM);
		assert_int_equal(f.live, live);
		assert_int_equal(router_invariant_get(r, 0, NULL, 0), 0);
	}
	for (k = 0;; k++) { /* the sample */
		long live = f.live;

		f.countdown = k;
		rc = router_shadow_set_sample(r, s.k, 100, NULL, &e);
		f.countdown = -1;
		if (rc == ROUTER_OK)
			break;
		assert_int_equal(rc, ROUTER_ENOMEM);
		assert_int_equal(f.live, live);
	}
	for (k = 0;; k++) { /* a publish with shadow evaluation */
		long live = f.live;
		router_table *t = std_table(8, 0);

		f.countdown = k;
		rc = router_publish(r, t, 0, NULL, &e);
		f.countdown = -1;
		if (rc == ROUTER_OK)
			break;
		assert_int_equal(rc, ROUTER_ENOMEM);
		assert_int_equal(router_serving_version(r), 2);
		router_table_free(t);
		assert_int_equal(f.live, live);
		assert_true(k < 1000);
	}
	print_message("  publish with a sample survived %ld failures\n", k);
	router_free(r);
	assert_int_equal(f.live, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(quarantine_keeps_a_shrinking_table_pending_without_serving),
	    cmocka_unit_test(quarantine_takes_only_empty_shrink_and_shadow_refusals),
	    cmocka_unit_test(approving_the_pending_table_publishes_it_as_if_allowed),
	    cmocka_unit_test(approval_still_checks_fences_and_invariants),
	    cmocka_unit_test(discarding_the_pending_table_frees_and_fences_it),
	    cmocka_unit_test(a_newer_valid_publish_discards_the_pending_table),
	    cmocka_unit_test(a_refused_table_pushed_again_under_a_new_version_is_fenced),
	    cmocka_unit_test(stale_versions_and_dry_runs_are_not_fenced),
	    cmocka_unit_test(content_rolled_back_from_is_fenced),
	    cmocka_unit_test(fences_are_bounded_and_forget_the_oldest),
	    cmocka_unit_test(fencing_is_off_by_default),
	    cmocka_unit_test(invariant_keyspace_stays_sharded),
	    cmocka_unit_test(invariant_keyspace_keeps_at_least_n_shards),
	    cmocka_unit_test(invariant_keyspace_keeps_its_tables),
	    cmocka_unit_test(invariant_table_keeps_its_primary_vindex_type),
	    cmocka_unit_test(invariant_syntax_errors_are_einval),
	    cmocka_unit_test(shadow_counts_match_a_brute_force_count),
	    cmocka_unit_test(shadow_threshold_refuses_naming_the_keyspace),
	    cmocka_unit_test(new_features_fail_cleanly_at_any_allocation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
