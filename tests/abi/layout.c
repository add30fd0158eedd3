/*
 * Prints the layout of every public struct of router.h that a program
 * built against an older header shares with the library: `make test-abi`
 * compiles it once against the 0.1 header (tests/abi/router-0.1.h) and
 * once against include/librouter/router.h, and the two outputs must be identical.
 * So it names only fields 0.1 had:
 * - structs fixed forever (router.h, "How structs grow"): size and every
 *   field's offset;
 * - structs that grow by appending (sized options, library-allocated
 *   events and diff entries): the offset of every 0.1 field, not the
 *   size, so appending is allowed and moving a field is not.
 * router_stats is absent on purpose: 0.2 dropped refused_by_code, and
 * binaries built against 0.1 get its 0.1 layout from router_get_stats
 * (librouter/live/compat.c; tests/abi/old_caller.c checks it).
 */
#include <stddef.h>
#include <stdio.h>

#include "router.h"

#define SIZE(T) printf("sizeof %s %zu\n", #T, sizeof(T))
#define OFF(T, f) printf("offsetof %s.%s %zu\n", #T, #f, offsetof(T, f))

static void fixed(void)
{
	SIZE(router_error);
	OFF(router_error, code);
	OFF(router_error, culprit);
	OFF(router_error, message);

	SIZE(router_allocator);
	OFF(router_allocator, malloc);
	OFF(router_allocator, realloc);
	OFF(router_allocator, free);
	OFF(router_allocator, ctx);

	SIZE(router_value);
	OFF(router_value, type);
	OFF(router_value, i64);
	OFF(router_value, u64);
	OFF(router_value, ptr);
	OFF(router_value, len);

	SIZE(router_param);
	OFF(router_param, key);
	OFF(router_param, value);

	SIZE(router_keyrange);
	OFF(router_keyrange, start);
	OFF(router_keyrange, end);
	OFF(router_keyrange, start_len);
	OFF(router_keyrange, end_len);
	OFF(router_keyrange, full);

	SIZE(router_route_result);
	OFF(router_route_result, shard);
	OFF(router_route_result, shard_len);
	OFF(router_route_result, shard_id);
	OFF(router_route_result, shard_index);
	OFF(router_route_result, version);
	OFF(router_route_result, ksid);
	OFF(router_route_result, ksid_len);

	SIZE(router_history_entry);
	OFF(router_history_entry, version);
	OFF(router_history_entry, content_hash);
	OFF(router_history_entry, accepted_unix_ns);
	OFF(router_history_entry, in_service);

	SIZE(router_pending_info);
	OFF(router_pending_info, version);
	OFF(router_pending_info, content_hash);
	OFF(router_pending_info, since_unix_ns);
	OFF(router_pending_info, reason);

	SIZE(router_fence);
	OFF(router_fence, content_hash);
	OFF(router_fence, version);
	OFF(router_fence, origin);
	OFF(router_fence, code);
	OFF(router_fence, fenced_unix_ns);

	SIZE(router_sample_key);
	OFF(router_sample_key, keyspace);
	OFF(router_sample_key, keyspace_len);
	OFF(router_sample_key, table);
	OFF(router_sample_key, table_len);
	OFF(router_sample_key, values);
	OFF(router_sample_key, nvalues);

	SIZE(router_shadow_stat);
	OFF(router_shadow_stat, keyspace);
	OFF(router_shadow_stat, keys);
	OFF(router_shadow_stat, routed);
	OFF(router_shadow_stat, moved);
	OFF(router_shadow_stat, unroutable);
	OFF(router_shadow_stat, newly_routable);
}

static void appended(void)
{
	OFF(router_options, size);
	OFF(router_options, history);
	OFF(router_options, max_shrink);
	OFF(router_options, allocator);
	OFF(router_options, on_event);
	OFF(router_options, on_event_arg);
	OFF(router_options, snapshot_path);
	OFF(router_options, fence_cap);

	OFF(router_shadow_options, size);
	OFF(router_shadow_options, max_moved);
	OFF(router_shadow_options, max_unroutable);

	OFF(router_event, kind);
	OFF(router_event, code);
	OFF(router_event, version_from);
	OFF(router_event, version_to);
	OFF(router_event, hash_to);
	OFF(router_event, error);
	OFF(router_event, diff);
	OFF(router_event, shadow);

	OFF(router_diff_entry, kind);
	OFF(router_diff_entry, op);
	OFF(router_diff_entry, keyspace);
	OFF(router_diff_entry, name);
	OFF(router_diff_entry, detail);
}

int main(void)
{
	fixed();
	appended();
	/* Constants a 0.1 binary compiled in. */
	printf("ROUTER_CULPRIT_MAX %d ROUTER_MESSAGE_MAX %d ROUTER_KEY_MAX %d "
	       "ROUTER_KSID_MAX %d ROUTER_NAME_MAX %d\n",
	       ROUTER_CULPRIT_MAX, ROUTER_MESSAGE_MAX, ROUTER_KEY_MAX,
	       ROUTER_KSID_MAX, ROUTER_NAME_MAX);
	return 0;
}
