/* Link smoke test: the same program against the static and the shared
 * library.  Builds a table, publishes, routes, survives a refused publish. */
#include <stdio.h>
#include <string.h>

#include "router.h"

int main(void)
{
	const char *cols[] = {"id"};
	router_builder *b;
	router_table *t, *bad;
	router_route_result res;
	router_value v = ROUTER_VALUE_INT64(1);
	router_error e;
	router *r;

	if (router_create(&r, NULL, &e) || router_builder_create(&b, NULL, &e))
		return 1;
	router_builder_add_keyspace(b, "ks", 1, &e);
	router_builder_add_shard(b, "ks", "-80", &e);
	router_builder_add_shard(b, "ks", "80-", &e);
	router_builder_add_vindex(b, "ks", "h", "hash", NULL, 0, NULL, &e);
	router_builder_add_table(b, "ks", "t", ROUTER_TABLE_NORMAL, NULL, &e);
	router_builder_add_column_vindex(b, "ks", "t", "h", cols, 1, &e);
	if (router_table_build(b, &t, &e) || router_publish(r, t, 0, NULL, &e))
		return 2;
	router_builder_free(b);
	router_builder_create(&b, NULL, &e);
	router_table_build(b, &bad, &e);
	if (router_publish(r, bad, 0, NULL, &e) != ROUTER_EEMPTY)
		return 3;
	router_table_free(bad);
	router_builder_free(b);
	if (router_route(r, "ks", 2, "t", 1, &v, 1, &res, &e) != ROUTER_OK ||
	    strcmp(res.shard, "-80") != 0)
		return 4;
	printf("smoke: ok (%s)\n", router_strerror(ROUTER_EEMPTY));
	router_free(r);
	return 0;
}
