#include <stdio.h>
#include <librouter/router.h>

/* A table with keyspace "user" split in `nshards` even shards. */
static router_table *user_table(unsigned nshards, router_error *err)
{
	router_builder *b;
	router_table *t = NULL;
	const char *cols[] = {"id"};

	if (router_builder_create(&b, NULL, err) != ROUTER_OK)
		return NULL;
	router_builder_add_keyspace(b, "user", 1, err);
	for (unsigned i = 0; i < nshards; i++) {
		char name[16];
		router_shard_range_name(i, nshards, name, sizeof name);
		router_builder_add_shard(b, "user", name, err);
	}
	router_builder_add_vindex(b, "user", "hash", "hash", NULL, 0, NULL, err);
	router_builder_add_table(b, "user", "users", ROUTER_TABLE_NORMAL, NULL, err);
	router_builder_add_column_vindex(b, "user", "users", "hash", cols, 1, err);
	router_table_build(b, &t, err); /* validates; NULL on failure */
	router_builder_free(b);
	return t;
}

int main(void)
{
	router_error err;
	router *r;
	router_handle *users;
	router_route_result res;

	if (router_create(&r, NULL, &err) != ROUTER_OK)
		return 1;
	if (router_publish(r, user_table(2, &err), 0, NULL, &err) != ROUTER_OK) {
		fprintf(stderr, "%s: %s\n", err.culprit, err.message);
		return 1;
	}
	/* A handle skips name resolution and stays valid across publishes. */
	router_handle_open(r, "user", 4, "users", 5, &users, &err);
	router_handle_route_int64(users, 29999, &res);
	printf("id 29999 -> shard %s (version %llu)\n", res.shard,
	       (unsigned long long)res.version);

	/* The January 2026 table: "user" arrives unsharded and empty. */
	router_builder *b;
	router_table *bad;
	router_builder_create(&b, NULL, &err);
	router_builder_add_keyspace(b, "user", 0, &err);
	router_table_build(b, &bad, &err);
	router_builder_free(b);
	int rc = router_publish(r, bad, 0, NULL, &err);
	printf("refused: %s (%s): %s\n", router_errname(rc), err.culprit,
	       err.message);
	router_table_free(bad); /* refused: still ours */

	router_handle_route_int64(users, 29999, &res);
	printf("id 29999 -> shard %s (still version %llu)\n", res.shard,
	       (unsigned long long)res.version);
	router_handle_free(users);
	router_free(r);
	return 0;
}
