/*
 * A program built against the current router.h, run against librouter.so,
 * pretending to be built against older and newer headers through the size
 * it gives router_stats_get: a short size (an older router_stats) gets
 * exactly that many bytes and not one more, a larger one (a newer header
 * on this library) gets this library's counters and zeroes past them.
 * Also refusals per code, the library version, the same for a follower's
 * status, and doc options of an older size given to a follower.  Linked against the
 * ROUTER_0.2 node, so `make test-abi` also runs it against a library
 * built without that node, which must refuse to load it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "router_doc.h"
#include "router_etcd.h"

#define CANARY 0xA5

static int failures;

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			printf("new_caller: %s:%d: %s\n", __FILE__, __LINE__, \
			       #cond);                                        \
			failures++;                                           \
		}                                                             \
	} while (0)

static router_table *table(uint64_t version)
{
	router_builder *b = NULL;
	router_table *t = NULL;

	CHECK(router_builder_create(&b, NULL, NULL) == ROUTER_OK);
	router_builder_set_version(b, version);
	CHECK(router_builder_add_keyspace(b, "ks", 1, NULL) == 0);
	CHECK(router_builder_add_shard(b, "ks", "-80", NULL) == 0);
	CHECK(router_builder_add_shard(b, "ks", "80-", NULL) == 0);
	CHECK(router_table_build(b, &t, NULL) == ROUTER_OK);
	router_builder_free(b);
	return t;
}

static int all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* An older caller: its router_stats ended before `rollbacks`. */
static void short_size_writes_only_that_prefix(router *r)
{
	const size_t old_size = offsetof(router_stats, rollbacks);
	union {
		router_stats st;
		unsigned char b[sizeof(router_stats) + 64];
	} u;

	memset(&u, CANARY, sizeof u);
	CHECK(router_stats_get(r, &u.st, old_size) == ROUTER_OK);
	CHECK(u.st.version == 2 && u.st.accepted == 2 && u.st.refused == 1);
	CHECK(all_bytes(u.b + old_size, sizeof u.b - old_size, CANARY));
}

/* A newer caller: a router_stats 64 bytes longer than this library's. */
static void larger_size_zeroes_what_the_library_lacks(router *r)
{
	union {
		router_stats st;
		unsigned char b[sizeof(router_stats) + 64 + 16];
	} u;
	const size_t newer = sizeof(router_stats) + 64;
	router_stats exact;

	memset(&u, CANARY, sizeof u);
	CHECK(router_stats_get(r, &exact, sizeof exact) == ROUTER_OK);
	CHECK(router_stats_get(r, &u.st, newer) == ROUTER_OK);
	CHECK(u.st.accepted == exact.accepted &&
	      u.st.shard_names == exact.shard_names &&
	      u.st.shadow_runs == exact.shadow_runs);
	CHECK(all_bytes(u.b + sizeof(router_stats), 64, 0));
	CHECK(all_bytes(u.b + newer, 16, CANARY));
}

static void bad_arguments_are_einval_and_write_nothing(router *r)
{
	router_stats st;

	memset(&st, CANARY, sizeof st);
	CHECK(router_stats_get(r, &st, 0) == ROUTER_EINVAL);
	CHECK(router_stats_get(NULL, &st, sizeof st) == ROUTER_EINVAL);
	CHECK(router_stats_get(r, NULL, sizeof st) == ROUTER_EINVAL);
	CHECK(all_bytes((const unsigned char *)&st, sizeof st, CANARY));
}

static void refusals_are_counted_per_code(router *r)
{
	CHECK(router_stats_refused(r, ROUTER_EVERSION) == 1);
	CHECK(router_stats_refused(r, ROUTER_EEMPTY) == 0);
	CHECK(router_stats_refused(r, ROUTER_OK) == 0);
	CHECK(router_stats_refused(r, ROUTER_NONE) == 0);
	CHECK(router_stats_refused(r, ROUTER_ERRNO_MIN - 1) == 0);
	CHECK(router_stats_refused(r, -100000) == 0);
	CHECK(router_stats_refused(NULL, ROUTER_EVERSION) == 0);
}

static void library_version_is_this_header_and_not_the_tables(router *r)
{
	char want[32];

	snprintf(want, sizeof want, "%d.%d.%d", ROUTER_VERSION_MAJOR,
	         ROUTER_VERSION_MINOR, ROUTER_VERSION_PATCH);
	CHECK(router_library_version() == ROUTER_VERSION_HEX);
	CHECK(router_library_version() >> 16 == ROUTER_VERSION_MAJOR);
	CHECK(strcmp(router_library_version_string(), want) == 0);
	CHECK(router_serving_version(r) == 2);
}

/* A follower (never started: no network) reports through sizes the same
 * way, and takes router_doc_options of an older, smaller layout. */
static void etcd_status_and_doc_options_go_by_size(router *r)
{
	router_etcd_options eo = ROUTER_ETCD_OPTIONS_INIT;
	router_doc_options doc = ROUTER_DOC_OPTIONS_INIT;
	router_etcd *f = NULL;
	const size_t old_size = offsetof(router_etcd_status, accepted);
	union {
		router_etcd_status st;
		unsigned char b[sizeof(router_etcd_status) + 64 + 16];
	} u;

	eo.endpoints = "http://127.0.0.1:9";
	eo.key = "/abi/doc";
	eo.doc = &doc;
	/* router_doc_options before json_path_dir was appended. */
	doc.size = offsetof(router_doc_options, json_path_dir);
	CHECK(router_etcd_create(&f, r, &eo, NULL) == ROUTER_OK);
	if (f == NULL)
		return;
	memset(&u, CANARY, sizeof u);
	CHECK(router_etcd_status_get(f, &u.st, old_size) == ROUTER_OK);
	CHECK(u.st.version == 2 && u.st.revision_seen == 0);
	CHECK(all_bytes(u.b + old_size, sizeof u.b - old_size, CANARY));
	memset(&u, CANARY, sizeof u);
	CHECK(router_etcd_status_get(f, &u.st, sizeof u.st + 64) ==
	      ROUTER_OK);
	CHECK(u.st.accepted == 0 && u.st.stuck_retries == 0);
	CHECK(all_bytes(u.b + sizeof u.st, 64, 0));
	CHECK(all_bytes(u.b + sizeof u.st + 64, 16, CANARY));
	CHECK(router_etcd_status_get(f, &u.st, 0) == ROUTER_EINVAL);
	CHECK(router_etcd_status_get(NULL, &u.st, sizeof u.st) ==
	      ROUTER_EINVAL);
	/* The 0.1 call writes the 0.1 struct (today: all of it). */
	memset(&u, CANARY, sizeof u);
	router_etcd_get_status(f, &u.st);
	CHECK(u.st.version == 2);
	CHECK(all_bytes(u.b + sizeof u.st, sizeof u.b - sizeof u.st, CANARY));
	router_etcd_free(f);
}

int main(void)
{
	router *r = NULL;
	router_table *old;

	CHECK(router_create(&r, NULL, NULL) == ROUTER_OK);
	if (r == NULL)
		return 1;
	CHECK(router_publish(r, table(1), 0, NULL, NULL) == ROUTER_OK);
	CHECK(router_publish(r, table(2), 0, NULL, NULL) == ROUTER_OK);
	old = table(1);
	CHECK(router_publish(r, old, 0, NULL, NULL) == ROUTER_EVERSION);
	router_table_free(old);

	short_size_writes_only_that_prefix(r);
	larger_size_zeroes_what_the_library_lacks(r);
	bad_arguments_are_einval_and_write_nothing(r);
	refusals_are_counted_per_code(r);
	library_version_is_this_header_and_not_the_tables(r);
	etcd_status_and_doc_options_go_by_size(r);
	router_free(r);
	if (failures == 0)
		printf("new_caller: router_stats_get and "
		       "router_etcd_status_get by size, router_stats_refused, "
		       "library %s: ok\n",
		       router_library_version_string());
	return failures == 0 ? 0 : 1;
}
