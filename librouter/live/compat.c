/*
 * The 0.1 interface that router.h no longer declares, kept for binaries
 * built against it (the soname is still librouter.so.0, so they load this
 * library): router_get_stats, which wrote the whole router_stats with an
 * array sized by the error table, and router_version, renamed
 * router_serving_version.  Each serves exactly the 0.1 contract.
 */
#include <string.h>

#include "compat.h"
#include "stats.h"

void router_get_stats(router *r, router__stats_0_1 *out)
{
	router_stats st;
	uint64_t by_code[ROUTER__REFUSAL_SLOTS];

	if (out == NULL)
		return;
	memset(out, 0, sizeof *out);
	if (r == NULL)
		return;
	router__stats_read(r, &st, by_code);
	out->version = st.version;
	out->content_hash = st.content_hash;
	out->accepted = st.accepted;
	out->refused = st.refused;
	/* Codes added after 0.1 are counted in refused only, as 0.1 had
	 * no slot for them. */
	memcpy(out->refused_by_code, by_code, sizeof out->refused_by_code);
	out->rollbacks = st.rollbacks;
	out->checks = st.checks;
	out->tables_retired = st.tables_retired;
	out->tables_freed = st.tables_freed;
	out->history_len = st.history_len;
	out->shard_names = st.shard_names;
	out->snapshots_saved = st.snapshots_saved;
	out->snapshots_failed = st.snapshots_failed;
	out->quarantined = st.quarantined;
	out->approved = st.approved;
	out->discarded = st.discarded;
	out->fences = st.fences;
	out->invariants = st.invariants;
	out->shadow_runs = st.shadow_runs;
}

uint64_t router_version(router *r)
{
	return router_serving_version(r);
}
