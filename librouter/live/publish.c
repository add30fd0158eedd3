/*
 * Publishing: the guards, publish and the quarantined table, the history
 * and rollback, and keeping the last-known-good file in step with them.
 *
 * Design
 * ------
 * Writers.  Publishes, rollbacks and handle registration are serialized by
 * r->lock.  A publish checks the guards against the table in service,
 * prepares everything that can fail (interned names, slots), then writes
 * the new pointer with ck_pr_fence_store + ck_pr_store_ptr: every store
 * that built the table is visible before the pointer is.  An older table
 * stays in the history (it is still owned, never freed) until it is
 * evicted; only then, and only once it is no longer r->current, is it
 * handed to the epoch (retire and reclaim, epoch.c: "Reclamation").
 *
 * A publish is a short driver over named steps (publish_locked): judge
 * (fences, invariants, version, table-shape guards, shadow), then either
 * refuse (quarantine or fence the content, report) or claim the table,
 * prepare everything that can fail (interned names, slots), commit (the
 * swap, the history, reclamation: nothing there fails) and notify (the
 * event, the automatic snapshot).  A failure while preparing leaves the
 * table untouched and the router as it was (names already interned stay
 * interned, harmlessly).
 *
 * Snapshots (the last-known-good file) are written under r->lock (the
 * table in service cannot be retired during the dump, and the order
 * of saves is the order of publishes); the lock delays publishers by a
 * write and two fsyncs, never readers.
 */
#include <pthread.h>
#include <string.h>

#include <ck_pr.h>

#include "core/route_fast.h"
#include "epoch.h"
#include "live.h"
#include "snapshot.h"

/* ---- last-known-good ------------------------------------------------------- */

/* Write the table in service to path.  Called with r->lock held: the table
 * cannot be retired during the dump, and saves happen in the order of the
 * publishes and rollbacks that caused them (a later save never loses to an
 * earlier one in a race on the rename). */
static int snapshot_locked(router *r, const char *path, router_error *err)
{
	int rc;

	if (r->current == NULL)
		return router__seterr(err, ROUTER_ENOTFOUND, NULL,
		                      "no table in service to save");
	rc = router__snapshot_write(r->current, path, &r->alloc, err);
	if (rc == ROUTER_OK)
		r->st.snapshots_saved++;
	else
		r->st.snapshots_failed++;
	return rc;
}

/* After an accepted publish or rollback: keep the last-known-good file in
 * step.  A failure does not undo the publish (readers already use the
 * table); it is counted and reported to the callback. */
static void autosave(router *r)
{
	router_error e;
	int rc;

	if (r->snapshot_path == NULL)
		return;
	rc = snapshot_locked(r, r->snapshot_path, &e);
	if (rc != ROUTER_OK)
		router__emit(r, ROUTER_EVENT_SNAPSHOT, rc, r->version,
		             r->version, r->hash, &e, NULL);
}

int router_snapshot_save(router *r, const char *path, router_error *err)
{
	int rc;

	if (r == NULL || path == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_snapshot_save: NULL argument");
	pthread_mutex_lock(&r->lock);
	rc = snapshot_locked(r, path, err);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* ---- guards ---------------------------------------------------------------- */

static int guards(router *r, const router_table *cur, const router_table *t,
                  unsigned flags, uint64_t version, router_error *err)
{
	size_t i, j;

	if (t->nkeyspaces == 0 && t->nkserr > 0)
		/* Every keyspace of the document failed Vitess's build. */
		return router__seterr(err, ROUTER_EEMPTY, t->kserr[0],
		                      "every keyspace is in error (keyspace %s "
		                      "is invalid: %s): publishing the table "
		                      "would drop every route",
		                      t->kserr[0], t->kserr[1]);
	if (t->nkeyspaces == 0)
		return router__seterr(err, ROUTER_EEMPTY, NULL,
		                      "the table has no keyspace: publishing "
		                      "it would drop every route");
	if (t->version != 0 && t->version <= r->high_water)
		return router__seterr(
		    err, ROUTER_EVERSION, NULL,
		    "version %llu is not above %llu, the highest version "
		    "accepted (in service: %llu); a stale source? use "
		    "rollback to go back",
		    (unsigned long long)t->version,
		    (unsigned long long)r->high_water,
		    (unsigned long long)(cur ? cur->version : 0));
	(void)version;
	if (cur == NULL)
		return ROUTER_OK;
	/* The January 2026 shape first: it is the most specific verdict. */
	for (i = 0; i < cur->nkeyspaces; i++) {
		const router__keyspace *a = &cur->keyspaces[i];
		const router__keyspace *b;

		if (!a->sharded || a->ntables == 0)
			continue;
		b = router__table_keyspace(t, a->name, a->name_len);
		if (b != NULL && !b->sharded && b->ntables == 0 &&
		    !(flags & ROUTER_PUBLISH_DESTRUCTIVE))
			return router__seterr(
			    err, ROUTER_EEMPTY, a->name,
			    "keyspace %s is sharded with %zu tables in service "
			    "and would arrive unsharded and empty (the shape of "
			    "the January 2026 Vitess incident); refused",
			    a->name, a->ntables);
	}
	if (flags & ROUTER_PUBLISH_DESTRUCTIVE)
		return ROUTER_OK;
	for (i = 0; i < cur->nkeyspaces; i++) {
		const router__keyspace *a = &cur->keyspaces[i];
		const router__keyspace *b =
		    router__table_keyspace(t, a->name, a->name_len);
		size_t lost = 0;
		const char *first = NULL;

		if (b == NULL)
			return router__seterr(
			    err, ROUTER_ESHRINK, a->name,
			    "keyspace %s (%s, %zu tables) would be dropped; "
			    "pass the destructive flag if that is intended",
			    a->name, a->sharded ? "sharded" : "unsharded",
			    a->ntables);
		if (a->sharded && !b->sharded)
			return router__seterr(
			    err, ROUTER_ESHRINK, a->name,
			    "keyspace %s would turn from sharded to unsharded; "
			    "pass the destructive flag if that is intended",
			    a->name);
		for (j = 0; j < a->ntables; j++) {
			const router__tdef *d = &a->tables[j];

			if (router__keyspace_table(b, d->name, d->name_len) ==
			    NULL) {
				lost++;
				if (first == NULL)
					first = d->name;
			}
		}
		if (lost > 0 &&
		    (double)lost > r->max_shrink * (double)a->ntables)
			return router__seterr(
			    err, ROUTER_ESHRINK, a->name,
			    "keyspace %s would lose %zu of its %zu tables "
			    "(%.0f%%, more than the %.0f%% allowed), starting "
			    "with %s; pass the destructive flag if that is "
			    "intended",
			    a->name, lost, a->ntables,
			    100.0 * (double)lost / (double)a->ntables,
			    100.0 * r->max_shrink, first);
	}
	/* Rows that would change keyspace ID (table_diff.c). */
	return router__ksid_guard(cur, t, err);
}

/* The checks before the table-shape guards: fences, then invariants. */
static int pre_guards(router *r, const router_table *cur,
                      const router_table *t, router_error *err)
{
	const router_fence *f = router__fenced(r, t->hash);
	unsigned i;

	if (f != NULL)
		return router__seterr(
		    err, ROUTER_EFENCED, NULL,
		    "content %016llx is fenced (%s%s%s, version %llu); lift the "
		    "fence (router_fence_lift) to publish it again",
		    (unsigned long long)t->hash,
		    f->origin == ROUTER_FENCE_REFUSED       ? "refused: "
		    : f->origin == ROUTER_FENCE_ROLLED_BACK ? "rolled back"
		    : f->origin == ROUTER_FENCE_DISCARDED   ? "discarded from "
		                                              "quarantine"
		                                            : "fenced by hand",
		    f->origin == ROUTER_FENCE_REFUSED ? router_errname(f->code)
		                                      : "",
		    "", (unsigned long long)f->version);
	for (i = 0; i < r->ninv; i++) {
		int rc = router__invariant_check(r->inv[i], cur, t, err);

		if (rc != ROUTER_OK)
			return rc;
	}
	return ROUTER_OK;
}

/* The edges of the version space, before the guards (whose EVERSION
 * check compares with the high-water mark): a version above
 * ROUTER_VERSION_MAX could not be followed even by "next", and "next"
 * after ROUTER_VERSION_MAX does not exist.  Either would otherwise wrap
 * high_water + 1 to 0, put version 0 ("nothing published") in service and
 * switch the stale-version guard off. */
static int version_check(const router *r, const router_table *t,
                         router_error *err)
{
	if (t->version > ROUTER_VERSION_MAX)
		return router__seterr(
		    err, ROUTER_EVERSION, NULL,
		    "version %llu is above the maximum %llu: no version "
		    "could follow it",
		    (unsigned long long)t->version,
		    (unsigned long long)ROUTER_VERSION_MAX);
	if (t->version == 0 && r->high_water >= ROUTER_VERSION_MAX)
		return router__seterr(
		    err, ROUTER_EVERSION, NULL,
		    "version %llu, accepted before, is the maximum; no next "
		    "version (this router takes only rollbacks now)",
		    (unsigned long long)r->high_water);
	return ROUTER_OK;
}

/* Shadow evaluation of t against cur on the router's sample.  *v receives
 * the verdict (NULL without sample or table in service).  ROUTER_OK,
 * ROUTER_ESHADOW (unless destructive), ROUTER_ENOMEM. */
static int shadow(router *r, const router_table *cur, const router_table *t,
                  unsigned flags, router_shadow_verdict **v,
                  router_error *err)
{
	const router_shadow_stat *s;
	int rc;

	*v = NULL;
	if (r->nsample == 0 || cur == NULL)
		return ROUTER_OK;
	rc = router__shadow_run(cur, t, r->sample, r->nsample, &r->alloc, v,
	                        err);
	if (rc != ROUTER_OK)
		return rc;
	r->st.shadow_runs++;
	if (flags & ROUTER_PUBLISH_DESTRUCTIVE)
		return ROUTER_OK;
	s = router__shadow_over(*v, r->shadow_max_moved,
	                        r->shadow_max_unroutable);
	if (s == NULL)
		return ROUTER_OK;
	return router__seterr(
	    err, ROUTER_ESHADOW, s->keyspace,
	    "keyspace %s: of %llu sample keys routed in service, %llu would "
	    "move to another shard and %llu would become unroutable (limits "
	    "%.0f%% and %.0f%%); pass the destructive flag if that is "
	    "intended",
	    s->keyspace, (unsigned long long)s->routed,
	    (unsigned long long)s->moved, (unsigned long long)s->unroutable,
	    100.0 * r->shadow_max_moved, 100.0 * r->shadow_max_unroutable);
}

/* ---- publish ---------------------------------------------------------------- */

static void count_refusal(router *r, int code)
{
	r->st.refused++;
	if (code < 0 && code >= ROUTER_ERRNO_MIN)
		r->refused_by_code[-code]++;
}

/* Make hist[idx] the table in service.  Called with the lock held, after
 * its slots are ready. */
static void swap_in(router *r, router_table *t)
{
	/* Every store that built or prepared t (its fields, version, shard
	 * ids, slots) is ordered before the pointer that makes it
	 * reachable. */
	publish_ptr(&r->current, t);
	ck_pr_store_64(&r->version, t->version);
	ck_pr_store_64(&r->hash, t->hash);
}

/* One publish in progress, shared by the steps of publish_locked. */
typedef struct publish_op {
	router *r;
	router_table *t;
	unsigned flags;
	int approving; /* t is the pending table (already owned by r) */
	router_table *cur; /* in service when the publish began */
	uint64_t version, from_version;
	router_diff *d;            /* cur -> t, when wanted */
	router_shadow_verdict *sv; /* the shadow sample's verdict, or NULL */
	int64_t *ids; /* prepare: t's shard name ids, in shard order */
	router__slots *slots; /* prepare: t's slots */
	router_error e;
} publish_op;

/* Set p up for t: the table in service, the version t will take, the
 * diff (when the caller or the callback wants one).  ROUTER_OK, or
 * ROUTER_ESTATE (t was published already) or the diff's failure, which
 * are reported to the caller only. */
static int publish_begin(publish_op *p, router *r, router_table *t,
                         unsigned flags, int approving, router_diff **diff)
{
	p->r = r;
	p->t = t;
	p->flags = flags;
	p->approving = approving;
	p->d = NULL;
	p->sv = NULL;
	p->ids = NULL;
	p->slots = NULL;
	router__clearerr(&p->e);
	if (!approving && ck_pr_load_ptr(&t->owner) != NULL)
		return router__seterr(&p->e, ROUTER_ESTATE, NULL,
		                      "this table was already published; "
		                      "build a new one (or roll back)");
	p->cur = r->current;
	p->from_version = p->cur ? p->cur->version : 0;
	/* high_water <= ROUTER_VERSION_MAX < UINT64_MAX (version_check refuses
	 * the rest before it is recorded), so + 1 cannot wrap; "next" past the
	 * maximum is refused by version_check, with version 0 reported. */
	p->version = t->version                          ? t->version
	             : r->high_water < ROUTER_VERSION_MAX ? r->high_water + 1
	                                                  : 0;
	if (diff != NULL || r->on_event != NULL)
		return router_diff_tables(p->cur, t, &p->d, &p->e);
	return ROUTER_OK;
}

/* Judge t against the table in service: fences and invariants, the edges
 * of the version space, the table-shape guards, the shadow sample (its
 * verdict in p->sv).  ROUTER_OK, or the first refusal (p->e says why). */
static int judge(publish_op *p)
{
	int rc = pre_guards(p->r, p->cur, p->t, &p->e);

	if (rc == ROUTER_OK)
		rc = version_check(p->r, p->t, &p->e);
	if (rc == ROUTER_OK)
		rc = guards(p->r, p->cur, p->t, p->flags, p->version, &p->e);
	if (rc == ROUTER_OK)
		rc = shadow(p->r, p->cur, p->t, p->flags, &p->sv, &p->e);
	return rc;
}

/* A refused t (rc) that is neither a dry run nor an approval: keep it
 * pending when quarantine was asked for and the refusal is about its
 * content (ROUTER_EQUARANTINED), else fence content the refusal judged.
 * Returns the code the call reports. */
static int quarantine_or_fence(publish_op *p, int rc)
{
	router *r = p->r;
	router_table *t = p->t;

	if ((p->flags & ROUTER_PUBLISH_QUARANTINE) &&
	    router__quarantinable(rc) && ck_pr_cas_ptr(&t->owner, NULL, r)) {
		/* The router keeps t, not serving. */
		router__pending_drop(r, 0);
		r->pending = t;
		r->pending_reason = p->e;
		r->pending_code = rc;
		r->pending_since = now_ns();
		r->st.quarantined++;
		p->e.code = ROUTER_EQUARANTINED;
		return ROUTER_EQUARANTINED;
	}
	if (router__judges_content(rc))
		router__fence(r, t->hash, p->version, ROUTER_FENCE_REFUSED, rc);
	return rc;
}

/* The verdict rc of a dry run, or a refusal: counted, quarantined or
 * fenced (quarantine_or_fence), reported.  Returns the call's code. */
static int refuse(publish_op *p, int rc)
{
	router *r = p->r;
	int dry = (p->flags & ROUTER_PUBLISH_DRY_RUN) != 0;
	int code = rc;

	if (dry)
		r->st.checks++;
	if (rc != ROUTER_OK && rc != ROUTER_ENOMEM)
		count_refusal(r, rc);
	if (rc != ROUTER_OK && !dry && !p->approving)
		code = quarantine_or_fence(p, rc);
	router__emit_shadow(r, dry ? ROUTER_EVENT_CHECK : ROUTER_EVENT_PUBLISH,
	                    code, p->from_version, p->version, p->t->hash,
	                    &p->e, p->d, p->sv);
	return code;
}

/* Accepted.  Claim t atomically: the same table offered to two routers
 * at once goes to one of them (an approved table is r's already).
 * ROUTER_OK or ROUTER_ESTATE, reported to the caller only. */
static int claim(publish_op *p)
{
	if (!p->approving && !ck_pr_cas_ptr(&p->t->owner, NULL, p->r))
		return router__seterr(&p->e, ROUTER_ESTATE, NULL,
		                      "this table was already published; "
		                      "build a new one (or roll back)");
	return ROUTER_OK;
}

/* A failed prepare: t is released untouched, the failure reported.
 * names_full: the router's shard names would run out (ROUTER_ERANGE),
 * else ROUTER_ENOMEM. */
static int unprepare(publish_op *p, int names_full)
{
	router *r = p->r;
	int rc;

	/* Interned names stay interned (harmless: ids are never reused for
	 * another name); t is untouched. */
	router__free(&r->alloc, p->ids);
	p->ids = NULL;
	if (!p->approving)
		ck_pr_store_ptr(&p->t->owner, NULL);
	if (names_full)
		rc = router__seterr(&p->e, ROUTER_ERANGE, NULL,
		                    "the table would bring the router past %u "
		                    "distinct shard names (it has %u; names "
		                    "are kept for the router's lifetime); "
		                    "create a new router",
		                    (unsigned)ROUTER_SHARD_NAMES_MAX,
		                    r->nnames);
	else
		rc = router__seterr(&p->e, ROUTER_ENOMEM, NULL,
		                    "out of memory preparing the table for "
		                    "service");
	router__emit_shadow(r, ROUTER_EVENT_PUBLISH, rc, p->from_version,
	                    p->version, p->t->hash, &p->e, p->d, p->sv);
	return rc;
}

/* Prepare everything that can fail before touching t: its shard names
 * interned (p->ids) and its slots (p->slots).  ROUTER_OK, or the failure
 * of unprepare. */
static int prepare(publish_op *p)
{
	router *r = p->r;
	const router_table *t = p->t;
	size_t i, j, nsh = 0, k;

	for (i = 0; i < t->nkeyspaces; i++)
		nsh += t->keyspaces[i].nshards;
	/* The names bound first, so that a refusal interns nothing (a name
	 * new to the router and repeated in t is counted twice: refused at
	 * most t's shard count early). */
	for (i = 0, k = 0; i < t->nkeyspaces; i++)
		for (j = 0; j < t->keyspaces[i].nshards; j++) {
			const router__shard *sh = &t->keyspaces[i].shards[j];

			k += router__name_find(r, sh->name, sh->name_len) < 0;
		}
	if (r->nnames + k > ROUTER_SHARD_NAMES_MAX)
		return unprepare(p, 1);
	p->ids = router__malloc(&r->alloc, (nsh ? nsh : 1) * sizeof *p->ids);
	if (p->ids == NULL)
		return unprepare(p, 0);
	for (i = 0, k = 0; i < t->nkeyspaces; i++)
		for (j = 0; j < t->keyspaces[i].nshards; j++, k++) {
			const router__shard *sh = &t->keyspaces[i].shards[j];

			p->ids[k] = router__intern(r, sh->name, sh->name_len);
			if (p->ids[k] == -2)
				return unprepare(p, 1);
			if (p->ids[k] < 0)
				return unprepare(p, 0);
		}
	p->slots = router__slots_make(r, t, 0);
	if (p->slots == NULL)
		return unprepare(p, 0);
	p->slots->alloc = &r->alloc;
	return ROUTER_OK;
}

/* Enter t in the history after the table in service: drop what was ahead
 * of it (undone by a rollback), then evict the oldest beyond capacity.
 * Returns the evicted table (or NULL), which the caller retires only after
 * the swap. */
static router_table *history_push(router *r, router_table *t)
{
	router_table *evicted = NULL;
	size_t i;

	if (r->nhist > 0) {
		for (i = r->cur + 1; i < r->nhist; i++)
			router__retire(r, r->hist[i].t);
		r->nhist = r->cur + 1;
	}
	if (r->nhist == r->hist_cap) {
		/* With history 1 the evicted table is the one in service:
		 * it is retired only after the swap (never hand the
		 * epoch an object still reachable from r->current: another
		 * router's writer may advance the epoch in between, and a
		 * reader arriving then would hold a table already due). */
		evicted = r->hist[0].t;
		memmove(r->hist, r->hist + 1, (r->nhist - 1) * sizeof *r->hist);
		r->nhist--;
	}
	r->hist[r->nhist].t = t;
	r->hist[r->nhist].accepted_ns = now_ns();
	r->cur = r->nhist++;
	return evicted;
}

/* The lookups' shortcuts: the keyspace's tables learn whether its shard
 * ids are consecutive (router__tdef.id_base, for batches) and, if so and
 * every interned name's address and length fit the 8-byte entry, get
 * the keyspace's hot8 (router__route_prefix).  Before t is visible:
 * plain stores, published with t by the swap's release. */
static void ids_base(const router__keyspace *ks)
{
	int64_t base = ks->hot[0].id;
	const uint64_t *h8 = ks->hot8;
	size_t j;

	for (j = 1; j < ks->nshards; j++)
		if (ks->hot[j].id != ks->hot[0].id + j)
			base = -1;
	for (j = 0; h8 != NULL && j < ks->nshards; j++) {
		uintptr_t p = (uintptr_t)ks->hot[j].iname;

		if (base < 0 || (uint64_t)p >> ROUTER__HOT8_PTR_BITS != 0 ||
		    (uint64_t)ks->hot[j].name_len >> (64 - ROUTER__HOT8_PTR_BITS) != 0)
			h8 = NULL;
		else
			ks->hot8[j] = (uint64_t)p |
			              (uint64_t)ks->hot[j].name_len
			                  << ROUTER__HOT8_PTR_BITS;
	}
	for (j = 0; j < ks->ntables; j++) {
		router__tdef *d = (router__tdef *)(uintptr_t)&ks->tables[j];

		d->id_base = base;
		d->hot8 = h8;
	}
	((router__tdef *)(uintptr_t)&ks->any)->id_base = base;
	((router__tdef *)(uintptr_t)&ks->any)->hot8 = h8;
}

/* Put the prepared t in service: its names and slots, the history, the
 * swap, reclamation.  Nothing here fails. */
static void commit(publish_op *p)
{
	router *r = p->r;
	router_table *t = p->t, *evicted;
	size_t i, j, k;

	/* t is not visible to readers yet: plain stores. */
	if (p->approving)
		r->pending = NULL;
	else
		router__pending_drop(r, 0); /* superseded by a newer table */
	t->version = p->version;
	{
		static uint64_t serials; /* every router's tables */

		t->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
	}
	for (i = 0, k = 0; i < t->nkeyspaces; i++)
		for (j = 0; j < t->keyspaces[i].nshards; j++, k++) {
			router__shard *sh = (router__shard *)(uintptr_t)&t
			                        ->keyspaces[i]
			                        .shards[j];

			sh->id = (uint32_t)p->ids[k];
			sh->iname = name_at(r, sh->id, NULL);
			t->keyspaces[i].hot[j].id = sh->id;
			t->keyspaces[i].hot[j].iname = sh->iname;
		}
	for (i = 0; i < t->nkeyspaces; i++)
		ids_base(&t->keyspaces[i]);
	router__slots_install(t, p->slots);
	evicted = history_push(r, t);
	r->high_water = p->version;
	swap_in(r, t);
	if (evicted != NULL)
		router__retire(r, evicted);
	r->st.accepted++;
	if (p->approving)
		r->st.approved++;
	router__reclaim(r); /* may free p->cur: read nothing from it below */
}

/* An accepted publish: its event, then the automatic snapshot. */
static void notify(publish_op *p)
{
	router__clearerr(&p->e);
	router__emit_shadow(p->r, ROUTER_EVENT_PUBLISH, ROUTER_OK,
	                    p->from_version, p->version, p->t->hash, &p->e,
	                    p->d, p->sv);
	autosave(p->r);
}

/* Every reported outcome ends here: the diff goes to the caller, or is
 * freed with the verdict after their events are delivered. */
static void publish_end(publish_op *p, router_diff **diff)
{
	router__free(&p->r->alloc, p->ids);
	/* The events point at sv and d: freed after their delivery
	 * (router__writer_unlock); the caller's diff outlives it. */
	p->r->evb->shadow = p->sv;
	if (diff != NULL)
		*diff = p->d;
	else
		p->r->evb->diff = p->d;
}

/* The publish, with r->lock held.  approving: t is the pending table
 * (already owned by r; it stays pending on refusal).  judge, then refuse
 * (quarantine or fence) or claim, prepare, commit and notify. */
static int publish_locked(router *r, router_table *t, unsigned flags,
                          int approving, router_diff **diff,
                          router_error *err)
{
	publish_op p;
	int rc;

	rc = publish_begin(&p, r, t, flags, approving, diff);
	if (rc == ROUTER_OK) {
		rc = judge(&p);
		if (rc != ROUTER_OK || (flags & ROUTER_PUBLISH_DRY_RUN)) {
			rc = refuse(&p, rc);
		} else if ((rc = claim(&p)) == ROUTER_OK &&
		           (rc = prepare(&p)) == ROUTER_OK) {
			commit(&p);
			notify(&p);
		}
		publish_end(&p, diff);
	}
	if (err != NULL)
		*err = p.e;
	return rc;
}

int router_publish(router *r, router_table *t, unsigned flags,
                   router_diff **diff, router_error *err)
{
	ev_batch b;
	int rc;

	if (diff != NULL)
		*diff = NULL;
	if (r == NULL || t == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_publish: NULL argument");
	if (flags & ~(ROUTER_PUBLISH_DESTRUCTIVE | ROUTER_PUBLISH_DRY_RUN |
	              ROUTER_PUBLISH_QUARANTINE))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "unknown publish flags 0x%x", flags);
	if ((rc = router__from_callback("router_publish", err)) != ROUTER_OK)
		return rc;
	router__writer_lock(r, &b);
	rc = publish_locked(r, t, flags, 0, diff, err);
	router__writer_unlock(r, &b);
	return rc;
}

/* ---- quarantine ------------------------------------------------------------- */

int router_pending(router *r, router_pending_info *out, router_diff **diff,
                   router_error *err)
{
	int rc = ROUTER_OK;

	if (diff != NULL)
		*diff = NULL;
	if (r == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_pending: NULL argument");
	pthread_mutex_lock(&r->lock);
	if (r->pending == NULL) {
		rc = router__seterr(err, ROUTER_ENOTFOUND, NULL,
		                    "no table is pending");
		goto out;
	}
	if (diff != NULL) {
		rc = router_diff_tables(r->current, r->pending, diff, err);
		if (rc != ROUTER_OK)
			goto out;
	}
	if (out != NULL) {
		out->version = r->pending->version;
		out->content_hash = r->pending->hash;
		out->since_unix_ns = r->pending_since;
		out->reason = r->pending_reason;
		/* The guard's code, not the quarantine's. */
		out->reason.code = r->pending_code;
	}
	router__clearerr(err);
out:
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int router_pending_approve(router *r, router_diff **diff, router_error *err)
{
	ev_batch b;
	int rc;

	if (diff != NULL)
		*diff = NULL;
	if (r == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_pending_approve: NULL argument");
	if ((rc = router__from_callback("router_pending_approve", err)) !=
	    ROUTER_OK)
		return rc;
	router__writer_lock(r, &b);
	if (r->pending == NULL)
		rc = router__seterr(err, ROUTER_ENOTFOUND, NULL,
		                    "no table is pending");
	else
		rc = publish_locked(r, r->pending, ROUTER_PUBLISH_DESTRUCTIVE,
		                    1, diff, err);
	router__writer_unlock(r, &b);
	return rc;
}

int router_pending_discard(router *r, router_error *err)
{
	ev_batch b;
	int rc;

	if (r == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_pending_discard: NULL argument");
	if ((rc = router__from_callback("router_pending_discard", err)) !=
	    ROUTER_OK)
		return rc;
	router__writer_lock(r, &b);
	if (r->pending == NULL)
		rc = router__seterr(err, ROUTER_ENOTFOUND, NULL,
		                    "no table is pending");
	else
		router__pending_drop(r, 1);
	router__writer_unlock(r, &b);
	if (rc == ROUTER_OK)
		router__clearerr(err);
	return rc;
}

/* ---- history, rollback ------------------------------------------------------ */

static int rollback_to_index(router *r, unsigned idx, router_error *err)
{
	router_table *from = r->current, *t = r->hist[idx].t;

	if (router__slots_refresh(r, t)) {
		/* Stale slots are still correct (missing ids resolve by
		 * name); only speed is lost.  Carry on. */
	}
	/* The table left behind is suspect: fence its content so that the
	 * source that produced it cannot push it back (unless it is the
	 * content we return to). */
	if (from != NULL && from->hash != t->hash)
		router__fence(r, from->hash, from->version,
		              ROUTER_FENCE_ROLLED_BACK, 0);
	r->cur = idx;
	swap_in(r, t);
	r->st.rollbacks++;
	router__reclaim(r);
	router__clearerr(err);
	router__emit(r, ROUTER_EVENT_ROLLBACK, ROUTER_OK,
	             from ? from->version : 0, t->version, t->hash, NULL,
	             NULL);
	autosave(r);
	return ROUTER_OK;
}

int router_rollback(router *r, unsigned steps, router_error *err)
{
	ev_batch b;
	int rc;

	if (r == NULL || steps == 0)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      r ? "rollback by 0 steps"
		                        : "router is NULL");
	if ((rc = router__from_callback("router_rollback", err)) != ROUTER_OK)
		return rc;
	router__writer_lock(r, &b);
	if (r->nhist == 0 || steps > r->cur) {
		rc = router__seterr(err, ROUTER_ENOHISTORY, NULL,
		                    "cannot roll back %u step%s: %u older "
		                    "table%s in the history",
		                    steps, steps == 1 ? "" : "s",
		                    r->nhist ? r->cur : 0,
		                    r->nhist && r->cur == 1 ? "" : "s");
		router__emit(r, ROUTER_EVENT_ROLLBACK, rc, r->version, 0, 0,
		             err, NULL);
	} else {
		rc = rollback_to_index(r, r->cur - steps, err);
	}
	router__writer_unlock(r, &b);
	return rc;
}

int router_rollback_to(router *r, uint64_t version, router_error *err)
{
	ev_batch b;
	unsigned i;
	int rc;

	if (r == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router is NULL");
	if ((rc = router__from_callback("router_rollback_to", err)) !=
	    ROUTER_OK)
		return rc;
	router__writer_lock(r, &b);
	for (i = 0; i < r->nhist; i++)
		if (r->hist[i].t->version == version)
			break;
	if (i == r->nhist) {
		rc = router__seterr(err, ROUTER_ENOHISTORY, NULL,
		                    "version %llu is not in the history",
		                    (unsigned long long)version);
		router__emit(r, ROUTER_EVENT_ROLLBACK, rc, r->version, version,
		             0, err, NULL);
	} else {
		rc = rollback_to_index(r, i, err);
	}
	router__writer_unlock(r, &b);
	return rc;
}

size_t router_history(router *r, router_history_entry *out, size_t cap)
{
	size_t i, n;

	if (r == NULL)
		return 0;
	pthread_mutex_lock(&r->lock);
	n = r->nhist;
	for (i = 0; i < n && i < cap && out != NULL; i++) {
		out[i].version = r->hist[i].t->version;
		out[i].content_hash = r->hist[i].t->hash;
		out[i].accepted_unix_ns = r->hist[i].accepted_ns;
		out[i].in_service = i == r->cur;
	}
	pthread_mutex_unlock(&r->lock);
	return n;
}
