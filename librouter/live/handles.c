/*
 * Lookups: interned shard names, slots, handles and the route calls that
 * read the table in service.
 *
 * Handles.  A handle is a (keyspace, table) pair with a router-wide id.
 * Each table carries slots: id -> resolved table definition in that table.
 * A lookup through a handle loads the table, then its slots, and uses the
 * slot when the id is below slots->n; otherwise (handle opened after the
 * slots were made, or the table is missing) it resolves by name, which is
 * always correct, only slower.  Slots are filled before publication;
 * a handle opened later writes its slot into the table in service (store
 * the entry, fence, then raise n), growing the array by publishing a new
 * one and retiring the old through the epoch.  The first
 * ROUTER__SLOTS_NEAR entries are also kept in the table itself
 * (t->slot_near, stored with the entry, NULL until then): a lookup
 * through a small id reads t->slot_near[id] instead of t->slots then
 * s->e[id], one dependent load fewer; an entry is only ever a definition
 * of t itself, published with t, so it needs no ordering of its own, and
 * it is freed with t.  Handles of one (keyspace,
 * table) share an id, counted; when the last is freed the id goes on a
 * free list and the next new (keyspace, table) reuses it, rewriting its
 * entry in every table of the history first (slots_reset), so slot arrays
 * are as long as the most handles ever open at once, not the most ever
 * opened (issue 15).
 *
 * Shard names are interned per router: a shard name keeps its id and its
 * string for the router's lifetime, so a result's `shard` pointer stays
 * valid across publishes without any reference counting.  Names live in
 * fixed-size chunks that are never moved; the chunk directory is fixed.
 * That promise (and the bindings' per-id string caches) rules out
 * reclaiming a name, so their number is bounded instead: a publish that
 * would pass ROUTER_SHARD_NAMES_MAX is refused before it interns anything.
 *
 * Long batches (issue 15).  A read section holds up every grace period of
 * the process, so router_handle_route_batch ends and begins its section
 * every ROUTER_BATCH_CHUNK keys.  To keep its promise (one table answers
 * the whole batch) a batch longer than a chunk pins its table while still
 * in its first section: t->pins++ (an atomic RMW).  If the table is
 * retired and its grace period ends while it is pinned, table_reclaim sets
 * TABLE_DEAD in t->pins instead of freeing it; the unpin that leaves only
 * TABLE_DEAD pushes the table on r->dead (lock-free, so a batch stays
 * async-signal-safe), and the writer frees r->dead in its next reclaim (or
 * router_free).  The pin is made inside a section that saw the table, so
 * the grace period (and the dead bit) comes after it; acq_rel RMWs order
 * every pinned reader's reads before the free.
 */
#include <stdint.h>
#include <string.h>

#include <ck_pr.h>

#include "core/route_fast.h"
#include "epoch.h"
#include "live.h"

/* ---- interned shard names ------------------------------------------------ */

static int name_index_grow(router *r)
{
	uint32_t ncap = r->name_index_cap ? r->name_index_cap * 2 : 64, i;
	uint32_t *idx = router__malloc(&r->alloc, ncap * sizeof *idx);

	if (idx == NULL)
		return -1;
	memset(idx, 0, ncap * sizeof *idx);
	for (i = 0; i < r->nnames; i++) {
		uint32_t len;
		const char *s = name_at(r, i, &len);
		uint32_t h = (uint32_t)router__name_hash(s, len) & (ncap - 1);

		while (idx[h] != 0)
			h = (h + 1) & (ncap - 1);
		idx[h] = i + 1;
	}
	router__free(&r->alloc, r->name_index);
	r->name_index = idx;
	r->name_index_cap = ncap;
	return 0;
}

/* The id of an interned name, or -1 with *slot the index's free slot
 * where it would go.  The index must have a capacity. */
static int64_t name_probe(const router *r, const char *s, size_t len,
                          uint32_t *slot)
{
	uint32_t h, i;

	h = (uint32_t)router__name_hash(s, len) & (r->name_index_cap - 1);
	while ((i = r->name_index[h]) != 0) {
		uint32_t l;
		const char *n = name_at(r, i - 1, &l);

		if (l == len && memcmp(n, s, len) == 0)
			return i - 1;
		h = (h + 1) & (r->name_index_cap - 1);
	}
	*slot = h;
	return -1;
}

/* The id of an interned name, or -1. */
int64_t router__name_find(const router *r, const char *s, size_t len)
{
	uint32_t slot;

	if (r->name_index_cap == 0)
		return -1;
	return name_probe(r, s, len, &slot);
}

/* The id of name, interning it if new.  Writer only.  -1: out of memory
 * (nothing visible changed). */
int64_t router__intern(router *r, const char *s, size_t len)
{
	uint32_t h, id;
	int64_t found;
	char *copy;

	if ((r->nnames + 1) * 2 > r->name_index_cap && name_index_grow(r))
		return -1;
	if ((found = name_probe(r, s, len, &h)) >= 0)
		return found;
	id = r->nnames;
	if (id >= NAME_DIR * NAME_CHUNK)
		return -2; /* the router's distinct shard names are exhausted */
	if (r->names_dir[id / NAME_CHUNK] == NULL) {
		const char **chunk =
		    router__malloc(&r->alloc, NAME_CHUNK * sizeof *chunk);
		uint32_t *lens =
		    router__malloc(&r->alloc, NAME_CHUNK * sizeof *lens);

		if (chunk == NULL || lens == NULL) {
			router__free(&r->alloc, (void *)chunk);
			router__free(&r->alloc, lens);
			return -1;
		}
		memset((void *)chunk, 0, NAME_CHUNK * sizeof *chunk);
		memset(lens, 0, NAME_CHUNK * sizeof *lens);
		/* The zeroed chunk is visible before its pointer. */
		publish_ptr(&r->names_len_dir[id / NAME_CHUNK], lens);
		publish_ptr(&r->names_dir[id / NAME_CHUNK], chunk);
	}
	copy = router__strndup(&r->alloc, s, len);
	if (copy == NULL)
		return -1;
	r->names_len_dir[id / NAME_CHUNK][id % NAME_CHUNK] = (uint32_t)len;
	r->names_dir[id / NAME_CHUNK][id % NAME_CHUNK] = copy;
	/* Entry before count: router_shard_name bounds ids by nnames. */
	publish_32(&r->nnames, id + 1);
	r->name_index[h] = id + 1;
	return id;
}

const char *router_shard_name(router *r, uint32_t shard_id, size_t *len)
{
	uint32_t l;
	const char *s;

	if (r == NULL || shard_id >= acquire_32(&r->nnames))
		return NULL;
	s = name_at(r, shard_id, &l);
	if (len != NULL)
		*len = l;
	return s;
}

/* ---- slots ---------------------------------------------------------------- */

/* Resolve handle id in t; NULL when not routable there by slot. */
static const router__tdef *slot_entry(const router_table *t,
                                      const handle_key *k)
{
	const router__tdef *d;

	if (k->ks == NULL) /* a free id */
		return NULL;
	if (router__table_resolve(t, k->ks, k->kslen, k->table, k->tlen, &d,
	                          NULL) != ROUTER_OK)
		return NULL;
	return d;
}

/* A slots array for t covering every handle, or NULL (out of memory). */
router__slots *router__slots_make(router *r, const router_table *t,
                                  uint32_t cap)
{
	router__slots *s;
	uint32_t i;

	if (cap < r->nhandles)
		cap = r->nhandles;
	if (cap < 8)
		cap = 8;
	s = router__malloc(&r->alloc, sizeof *s + cap * sizeof s->e[0]);
	if (s == NULL)
		return NULL;
	memset(s, 0, sizeof *s);
	s->alloc = t->alloc;
	s->cap = cap;
	for (i = 0; i < r->nhandles; i++)
		s->e[i] = slot_entry(t, &r->handles[i]);
	s->n = r->nhandles;
	return s;
}

/* Store slot i of t (in s, t's array, and in t->slot_near when i is
 * small).  Readers may be routing through t: atomic stores. */
static void slot_store(router_table *t, router__slots *s, uint32_t i,
                       const router__tdef *d)
{
	ck_pr_store_ptr(&s->e[i], (void *)(uintptr_t)d);
	if (i < ROUTER__SLOTS_NEAR)
		ck_pr_store_ptr(&t->slot_near[i], (void *)(uintptr_t)d);
}

/* Give t the slots s (from router__slots_make for t): t->slot_near
 * first, then the pointer. */
void router__slots_install(router_table *t, router__slots *s)
{
	uint32_t i;

	for (i = 0; i < s->n && i < ROUTER__SLOTS_NEAR; i++)
		ck_pr_store_ptr(&t->slot_near[i], (void *)(uintptr_t)s->e[i]);
	publish_ptr(&t->slots, s);
}

/* Bring t's slots up to date with every handle (before t is in service
 * again, or after a handle was opened).  Writer only.  -1: out of memory,
 * t unchanged (lookups still resolve by name). */
int router__slots_refresh(router *r, router_table *t)
{
	router__slots *s = t->slots, *ns;
	uint32_t i;

	if (s != NULL && s->n == r->nhandles)
		return 0;
	if (s != NULL && r->nhandles <= s->cap) {
		for (i = s->n; i < r->nhandles; i++)
			slot_store(t, s, i, slot_entry(t, &r->handles[i]));
		/* Entries before the count that lets readers use them. */
		publish_32(&s->n, r->nhandles);
		return 0;
	}
	ns = router__slots_make(r, t, s ? s->cap * 2 : 0);
	if (ns == NULL)
		return -1;
	ns->alloc = &r->alloc; /* freed by the router's allocator */
	router__slots_install(t, ns);
	if (s != NULL)
		router__retire_slots(r, s);
	return 0;
}

/* Point every table that has slots and may serve (in service, in the
 * history) at the new (keyspace, table) of a reused id.  Readers of the
 * handle that reuses it start after router_handle_open returns; the
 * history's tables become visible again only through swap_in's release. */
static void slots_reset(router *r, uint32_t id)
{
	unsigned i;

	for (i = 0; i < r->nhist; i++) {
		router_table *t = r->hist[i].t;
		router__slots *s = t->slots;

		if (s != NULL && id < s->n)
			slot_store(t, s, id, slot_entry(t, &r->handles[id]));
	}
}

void router__handles_free(router *r)
{
	size_t i;

	for (i = 0; i < NAME_DIR && r->names_dir[i] != NULL; i++) {
		size_t j;

		for (j = 0; j < NAME_CHUNK; j++)
			router__free(&r->alloc,
			             (void *)(uintptr_t)r->names_dir[i][j]);
		router__free(&r->alloc, (void *)r->names_dir[i]);
		router__free(&r->alloc, r->names_len_dir[i]);
	}
	for (i = 0; i < r->nhandles; i++) {
		router__free(&r->alloc, r->handles[i].ks);
		router__free(&r->alloc, r->handles[i].table);
	}
	router__free(&r->alloc, r->handles);
	router__free(&r->alloc, r->name_index);
}

/* ---- lookups -------------------------------------------------------------- */

/* router_route's per-thread cache of the last names it resolved (issue
 * 20): the table's serial (unique in the process: a freed table's address
 * reused by another never matches), the names' bytes and the definition
 * they resolved to in that table.  A hit skips the two name hashes and
 * probes; everything after resolution is the same.  The entry is used
 * only inside the read section that loaded a table with that serial, so
 * the definition is alive.  Names longer than NAME_CACHE_MAX are not
 * cached.  A signal handler may route in the middle of a lookup on the
 * same thread: seq is odd while the entry is written, a lookup that sees
 * seq change under it counts a miss, and nothing is written while seq is
 * odd, so a handler never sees nor leaves a torn entry (signal fences:
 * one thread, only the compiler can reorder). */
#define NAME_CACHE_MAX 32u
typedef struct name_cache {
	unsigned seq;
	uint8_t kslen, tlen;
	uint64_t serial;
	const router__tdef *d;
	char ks[NAME_CACHE_MAX], table[NAME_CACHE_MAX];
} name_cache;

/* initial-exec as router__tls_rec (epoch.h): 88 bytes of static TLS. */
static __thread name_cache tls_names
    __attribute__((tls_model("initial-exec")));

/* a[0..n) == b[0..n) for 1 <= n <= NAME_CACHE_MAX, without a call to
 * memcmp (two of them were most of a cache hit's cost): overlapping
 * loads that never read past either end. */
static inline uint64_t load64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}
static inline uint32_t load32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}
static inline int same_name(const char *a, const char *b, size_t n)
{
	if (n >= 8) {
		uint64_t x = load64(a + n - 8) ^ load64(b + n - 8);

		for (size_t i = 0; i + 8 < n; i += 8)
			x |= load64(a + i) ^ load64(b + i);
		return x == 0;
	}
	if (n >= 4)
		return ((load32(a) ^ load32(b)) |
		        (load32(a + n - 4) ^ load32(b + n - 4))) == 0;
	/* 1 to 3 bytes: 0, n / 2 and n - 1 cover them. */
	return ((a[0] ^ b[0]) | (a[n / 2] ^ b[n / 2]) |
	        (a[n - 1] ^ b[n - 1])) == 0;
}

static const router__tdef *names_cached(const router_table *t,
                                        const char *ks, size_t ksl,
                                        const char *table, size_t tl)
{
	name_cache *c = &tls_names;
	unsigned seq = c->seq;
	const router__tdef *d;

	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if ((seq & 1) || c->serial != t->serial || c->kslen != ksl ||
	    c->tlen != tl || ksl == 0 || tl == 0 ||
	    !same_name(c->ks, ks, ksl) || !same_name(c->table, table, tl))
		return NULL;
	d = c->d;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return c->seq == seq ? d : NULL;
}

static void names_remember(const router_table *t, const char *ks, size_t ksl,
                           const char *table, size_t tl,
                           const router__tdef *d)
{
	name_cache *c = &tls_names;
	unsigned seq = c->seq;

	if ((seq & 1) || ksl > NAME_CACHE_MAX || tl > NAME_CACHE_MAX)
		return;
	c->seq = seq + 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	c->serial = t->serial;
	c->kslen = (uint8_t)ksl;
	c->tlen = (uint8_t)tl;
	memcpy(c->ks, ks, ksl);
	memcpy(c->table, table, tl);
	c->d = d;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	c->seq = seq + 2;
}

/* router_table_route on t (in a read section), through the cache. */
static int route_names(const router_table *t, const char *ks, size_t ksl,
                       const char *table, size_t tl,
                       const router_value *values, size_t nvalues,
                       router_route_result *out, router_error *err)
{
	const router__tdef *d = names_cached(t, ks, ksl, table, tl);
	int rc;

	if (ROUTER__LIKELY(d != NULL)) {
		uint64_t p;

		/* One integer through an 8-byte keyspace ID: the handles'
		 * inline body (the same as router__tdef_route's first case,
		 * without a call); anything else, errors included, below. */
		if (ROUTER__LIKELY(nvalues == 1 && values != NULL) &&
		    ROUTER__LIKELY(values->type == ROUTER_SQL_INT64 ||
		                   values->type == ROUTER_SQL_UINT64) &&
		    ROUTER__LIKELY(d->mode == ROUTER__T_VINDEX) &&
		    ROUTER__LIKELY(router__ksid_prefix_fast(
		        d,
		        values->type == ROUTER_SQL_UINT64
		            ? values->u64
		            : (uint64_t)values->i64,
		        values->type == ROUTER_SQL_UINT64, &p))) {
			router__route_prefix(t, d, p, out);
			if (err != NULL)
				router__clearerr(err);
			return ROUTER_OK;
		}
		rc = router__tdef_route(t, d, values, nvalues, out, err);
		if (rc == ROUTER_OK && err != NULL)
			router__clearerr(err);
		return rc;
	}
	rc = router__table_route_d(t, ks, ksl, table, tl, values, nvalues, out,
	                           err, &d);
	if (d != NULL)
		names_remember(t, ks, ksl, table, tl, d);
	return rc;
}

static int no_table(router_error *err)
{
	return router__seterr(err, ROUTER_ENOTFOUND, NULL,
	                      "no table has been published yet");
}

int router_route(router *r, const char *keyspace, size_t keyspace_len,
                 const char *table, size_t table_len,
                 const router_value *values, size_t nvalues,
                 router_route_result *out, router_error *err)
{
	ck_epoch_record_t *rec;
	const router_table *t;
	int rc;

	if (r == NULL || out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_route: NULL argument");
	if ((rec = reader()) == NULL)
		return no_reader(err);
	section_begin(rec);
	t = consume_ptr(&r->current);
	if (t == NULL)
		rc = no_table(err);
	else
		rc = route_names(t, keyspace, keyspace_len, table, table_len,
		                 values, nvalues, out, err);
	section_end(rec);
	return rc;
}

int router_route_target(router *r, const char *keyspace, size_t keyspace_len,
                        const char *table, size_t table_len,
                        const router_value *values, size_t nvalues,
                        unsigned flags, router_route_result *out,
                        router_target *target, router_error *err)
{
	ck_epoch_record_t *rec;
	const router_table *t;
	const router__tdef *d = NULL;
	router__resolved how;
	int rc;

	if (target != NULL)
		memset(target, 0, sizeof *target);
	if (r == NULL || out == NULL || target == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_route_target: NULL argument");
	if (flags & ~ROUTER_TARGET_SHARD_ROUTING)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_route_target: unknown flags 0x%x",
		                      flags);
	if ((rc = router__target_names_ok(keyspace, keyspace_len, table,
	                                  table_len, err)) != ROUTER_OK)
		return rc;
	if ((rec = reader()) == NULL)
		return no_reader(err);
	section_begin(rec);
	t = consume_ptr(&r->current);
	if (t == NULL) {
		rc = no_table(err);
	} else {
		/* The names, the shard and the target from one table: the
		 * rule and definition pointers live in t, read before the
		 * section ends. */
		rc = router__table_route_at(t, keyspace, keyspace_len, table,
		                            table_len, values, nvalues, out,
		                            err, &d, &how);
		router__target_fill(t, d, &how, keyspace, keyspace_len, table,
		                    table_len, rc, out, flags, target);
	}
	section_end(rec);
	return rc;
}

int router_route_ksid(router *r, const char *keyspace, size_t keyspace_len,
                      const void *ksid, size_t ksid_len,
                      router_route_result *out, router_error *err)
{
	ck_epoch_record_t *rec;
	const router_table *t;
	int rc;

	if (r == NULL || out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_route_ksid: NULL argument");
	if ((rec = reader()) == NULL)
		return no_reader(err);
	section_begin(rec);
	t = consume_ptr(&r->current);
	if (t == NULL)
		rc = no_table(err);
	else
		rc = router__table_route_ksid(t, keyspace, keyspace_len, ksid,
		                              ksid_len, out, err);
	section_end(rec);
	return rc;
}

int router_route_prefix(router *r, const char *keyspace, size_t keyspace_len,
                        const char *table, size_t table_len, const void *like,
                        size_t like_len, router_route_result *out, size_t cap,
                        size_t *n, router_error *err)
{
	ck_epoch_record_t *rec;
	const router_table *t;
	int rc;

	if (n != NULL)
		*n = 0;
	if (r == NULL || n == NULL || (out == NULL && cap > 0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_route_prefix: NULL argument");
	if ((rec = reader()) == NULL)
		return no_reader(err);
	section_begin(rec);
	t = consume_ptr(&r->current);
	if (t == NULL)
		rc = no_table(err);
	else
		rc = router__table_route_prefix(t, keyspace, keyspace_len,
		                                table, table_len, like,
		                                like_len, out, cap, n, err);
	section_end(rec);
	return rc;
}

/* ---- handles -------------------------------------------------------------- */

int router_handle_open(router *r, const char *keyspace, size_t keyspace_len,
                       const char *table, size_t table_len,
                       router_handle **out, router_error *err)
{
	router_handle *h;
	uint32_t i;

	if (out != NULL)
		*out = NULL;
	if (r == NULL || out == NULL || (keyspace == NULL && keyspace_len) ||
	    (table == NULL && table_len))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_handle_open: NULL argument");
	if (keyspace_len == 0 || table_len == 0)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_handle_open: empty keyspace or "
		                      "table name");
	if (keyspace_len > ROUTER_NAME_MAX || table_len > ROUTER_NAME_MAX)
		return router__seterr(err, ROUTER_ERANGE, NULL,
		                      "router_handle_open: name longer than "
		                      "%d bytes",
		                      ROUTER_NAME_MAX);
	h = router__malloc(&r->alloc, sizeof *h);
	if (h == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL,
		                      "out of memory opening a handle");
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nhandles; i++) {
		const handle_key *k = &r->handles[i];

		if (k->ks != NULL && k->kslen == keyspace_len &&
		    k->tlen == table_len &&
		    memcmp(k->ks, keyspace, keyspace_len) == 0 &&
		    memcmp(k->table, table, table_len) == 0)
			break;
	}
	if (i == r->nhandles) {
		handle_key k;

		if (r->free_id == NO_ID && r->nhandles == r->chandles) {
			uint32_t n = r->chandles ? r->chandles * 2 : 16;
			handle_key *p = router__realloc(
			    &r->alloc, r->handles, n * sizeof *p);

			if (p == NULL)
				goto oom;
			r->handles = p;
			r->chandles = n;
		}
		k.ks = router__strndup(&r->alloc, keyspace, keyspace_len);
		k.table = router__strndup(&r->alloc, table, table_len);
		k.kslen = keyspace_len;
		k.tlen = table_len;
		k.refs = 0;
		k.next_free = NO_ID;
		if (k.ks == NULL || k.table == NULL) {
			router__free(&r->alloc, k.ks);
			router__free(&r->alloc, k.table);
			goto oom;
		}
		if (r->free_id != NO_ID) {
			/* Reuse a freed id: no slot array grows. */
			i = r->free_id;
			r->free_id = r->handles[i].next_free;
			r->handles[i] = k;
			slots_reset(r, i);
		} else {
			i = r->nhandles;
			r->handles[r->nhandles++] = k;
			/* Give the table in service its slot now; if that
			 * fails the handle still works by name. */
			if (r->current != NULL)
				(void)router__slots_refresh(r, r->current);
		}
	}
	r->handles[i].refs++;
	h->r = r;
	h->id = i;
	h->ks = r->handles[i].ks;
	h->table = r->handles[i].table;
	h->kslen = keyspace_len;
	h->tlen = table_len;
	pthread_mutex_unlock(&r->lock);
	*out = h;
	router__clearerr(err);
	return ROUTER_OK;
oom:
	pthread_mutex_unlock(&r->lock);
	router__free(&r->alloc, h);
	return router__seterr(err, ROUTER_ENOMEM, NULL,
	                      "out of memory opening a handle");
}

void router_handle_free(router_handle *h)
{
	router *r;
	handle_key *k;

	if (h == NULL)
		return;
	r = h->r;
	pthread_mutex_lock(&r->lock);
	k = &r->handles[h->id];
	if (--k->refs == 0) {
		/* The last handle of this (keyspace, table): its id is free.
		 * Its slot entries stay until the id is reused (slots_reset)
		 * or a new slot array is made (slot_entry gives NULL): no
		 * handle uses them meanwhile. */
		router__free(&r->alloc, k->ks);
		router__free(&r->alloc, k->table);
		k->ks = k->table = NULL;
		k->kslen = k->tlen = 0;
		k->next_free = r->free_id;
		r->free_id = h->id;
	}
	pthread_mutex_unlock(&r->lock);
	router__free(&r->alloc, h);
}

/* The definition a handle routes through in t: its slot when t has one,
 * else resolved by name.  ROUTER_OK, or ENOTFOUND/EDISABLED with err set
 * (err may be NULL). */
static inline int handle_def(const router_handle *h, const router_table *t,
                             const router__tdef **d, router_error *err)
{
	const router__slots *s;
	uint32_t id = h->id;

	/* In the table itself (NULL: not stored there, ask slots). */
	if (ROUTER__LIKELY(id < ROUTER__SLOTS_NEAR)) {
		*d = ck_pr_load_ptr(&t->slot_near[id]);
		if (ROUTER__LIKELY(*d != NULL))
			return ROUTER_OK;
	}
	s = consume_ptr(&t->slots);
	/* n is raised only after the entries below it are stored. */
	if (ROUTER__LIKELY(id < acquire_32(&s->n))) {
		*d = ck_pr_load_ptr(&s->e[id]);
		if (ROUTER__LIKELY(*d != NULL))
			return ROUTER_OK;
	}
	return router__table_resolve(t, h->ks, h->kslen, h->table, h->tlen, d,
	                             err);
}

int router_handle_route(const router_handle *h, const router_value *values,
                        size_t nvalues, router_route_result *out,
                        router_error *err)
{
	ck_epoch_record_t *rec;
	const router_table *t;
	const router__tdef *d;
	int rc;

	if (h == NULL || out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_handle_route: NULL argument");
	if ((rec = reader()) == NULL)
		return no_reader(err);
	section_begin(rec);
	t = consume_ptr(&h->r->current);
	if (t == NULL)
		rc = no_table(err);
	else if ((rc = handle_def(h, t, &d, err)) == ROUTER_OK)
		rc = router__tdef_route(t, d, values, nvalues, out, err);
	section_end(rec);
	if (rc == ROUTER_OK && err != NULL)
		router__clearerr(err);
	return rc;
}

/* handle_u64 from its read section on: t (NULL: none published) in
 * service in the section the caller began, which this ends.  Out of line
 * and reached by a tail call, so that handle_u64 itself calls nothing and
 * saves no register (see handle_u64). */
static __attribute__((noinline)) int
handle_u64_rest(const router_handle *h, const router_table *t, uint64_t key,
                int is_unsigned, router_route_result *out)
{
	const router__tdef *d;
	int rc;

	if (ROUTER__UNLIKELY(t == NULL))
		rc = ROUTER_ENOTFOUND;
	else if (ROUTER__LIKELY((rc = handle_def(h, t, &d, NULL)) ==
	                        ROUTER_OK))
		rc = router__tdef_route_u64_fast(t, d, key, is_unsigned, out);
	/* The record is the one the caller began with: a thread's record
	 * never changes while it is in a section. */
	section_end(router__tls_rec);
	return rc;
}

/* handle_u64 with d, t's definition for h (mode ROUTER__T_VINDEX), in
 * the section the caller began, which this ends: the hashing vindexes'
 * calls, kept out of handle_u64 as handle_u64_rest is. */
static __attribute__((noinline)) int
handle_u64_def(const router_table *t, const router__tdef *d, uint64_t key,
               int is_unsigned, router_route_result *out)
{
	uint64_t k;
	int rc = ROUTER_OK;

	if (ROUTER__LIKELY(router__ksid_prefix_fast(d, key, is_unsigned, &k)))
		router__route_prefix(t, d, k, out);
	else
		rc = router__tdef_route_u64_general(t, d, key, is_unsigned,
		                                    out);
	section_end(router__tls_rec);
	return rc;
}

/* A first lookup on this thread: register, then route. */
static __attribute__((noinline)) int
handle_u64_first(const router_handle *h, uint64_t key, int is_unsigned,
                 router_route_result *out)
{
	ck_epoch_record_t *rec = reader();

	if (rec == NULL)
		return no_reader(NULL);
	section_begin(rec);
	return handle_u64_rest(h, consume_ptr(&h->r->current), key,
	                       is_unsigned, out);
}

/* An integer lookup through a handle (issue 20).  The common case, the
 * numeric vindex through a handle whose definition is in t->slot_near,
 * is done here with no call, so fewer callee-saved registers are pushed
 * and popped (they were 14 instructions of a 100-instruction lookup);
 * the hashing vindexes (handle_u64_def) and everything else
 * (handle_u64_rest) are one tail call away. */
static inline int handle_u64(const router_handle *h, uint64_t key,
                             int is_unsigned, router_route_result *out)
{
	ck_epoch_record_t *rec;
	const router_table *t;
	const router__tdef *d;
	uint32_t id;

	if (ROUTER__UNLIKELY(h == NULL || out == NULL))
		return ROUTER_EINVAL;
	rec = router__tls_rec;
	if (ROUTER__UNLIKELY(rec == NULL))
		return handle_u64_first(h, key, is_unsigned, out);
	section_begin(rec);
	t = consume_ptr(&h->r->current);
	id = h->id;
	if (ROUTER__LIKELY(t != NULL) && ROUTER__LIKELY(id < ROUTER__SLOTS_NEAR) &&
	    ROUTER__LIKELY((d = ck_pr_load_ptr(&t->slot_near[id])) != NULL) &&
	    ROUTER__LIKELY(d->mode == ROUTER__T_VINDEX)) {
		if (ROUTER__LIKELY(d->fast == ROUTER__FAST_NUMERIC) &&
		    ROUTER__LIKELY(is_unsigned || (int64_t)key >= 0)) {
			router__route_prefix(t, d, key, out);
			section_end(rec);
			return ROUTER_OK;
		}
		return handle_u64_def(t, d, key, is_unsigned, out);
	}
	return handle_u64_rest(h, t, key, is_unsigned, out);
}

int router_handle_route_int64(const router_handle *h, int64_t value,
                              router_route_result *out)
{
	return handle_u64(h, (uint64_t)value, 0, out);
}

int router_handle_route_uint64(const router_handle *h, uint64_t value,
                               router_route_result *out)
{
	return handle_u64(h, value, 1, out);
}

int router_handle_route_bytes(const router_handle *h, router_sqltype type,
                              const void *ptr, size_t len,
                              router_route_result *out)
{
	router_value v;

	if (ptr == NULL && len != 0)
		return ROUTER_EINVAL;
	if (type == ROUTER_SQL_INT64 || type == ROUTER_SQL_UINT64) {
		if (router_value_parse(type, ptr, len, &v, NULL) != ROUTER_OK)
			return ROUTER_EINVAL;
	} else {
		v = ROUTER_VALUE_BYTES(type, ptr, len);
	}
	return router_handle_route(h, &v, 1, out, NULL);
}

int router_handle_route_batch(const router_handle *h, const uint64_t *keys,
                              size_t n, int is_unsigned, uint32_t *shard_ids,
                              uint64_t *version, router_error *err)
{
	ck_epoch_record_t *rec;
	const router_table *t;
	const router__tdef *d;
	router_table *pinned = NULL;
	size_t i = 0, end;
	int rc = ROUTER_OK;

	if (h == NULL || (n > 0 && (keys == NULL || shard_ids == NULL)))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_handle_route_batch: NULL "
		                      "argument");
	if ((rec = reader()) == NULL)
		return no_reader(err);
	/* One table for the whole batch, one read section per chunk of
	 * ROUTER_BATCH_CHUNK keys: a section holds up every grace period of
	 * the process (one global epoch), so its length is bounded whatever
	 * n is; a longer batch pins its table instead (see "Long
	 * batches"). */
	section_begin(rec);
	t = consume_ptr(&h->r->current);
	if (t == NULL) {
		rc = no_table(err);
		goto out;
	}
	if ((rc = handle_def(h, t, &d, err)) != ROUTER_OK)
		goto out;
	if (version != NULL)
		*version = t->version;
	if (n > ROUTER_BATCH_CHUNK) {
		pinned = (router_table *)(uintptr_t)t;
		__atomic_add_fetch(&pinned->pins, 1, __ATOMIC_ACQ_REL);
	}
	for (;;) {
		end = n - i > ROUTER_BATCH_CHUNK ? i + ROUTER_BATCH_CHUNK : n;
		for (; i < end; i++) {
			int r1 = router__tdef_route_id_fast(t, d, keys[i],
			                                    is_unsigned,
			                                    &shard_ids[i]);

			if (ROUTER__UNLIKELY(r1 < 0)) {
				router_route_result res;

				rc = router__tdef_route_u64(t, d, keys[i],
				                            is_unsigned, &res);
				if (rc < 0) {
					/* Same error for every key: say it
					 * once. */
					router_value v =
					    ROUTER_VALUE_UINT64(keys[i]);

					(void)router__tdef_route(t, d, &v, 1,
					                         &res, err);
					goto out;
				}
			}
		}
		if (i == n)
			break;
		section_end(rec);
		section_begin(rec);
	}
	rc = ROUTER_OK;
out:
	section_end(rec);
	if (pinned != NULL &&
	    __atomic_sub_fetch(&pinned->pins, 1, __ATOMIC_ACQ_REL) ==
	        TABLE_DEAD) {
		/* Retired and past its grace period while pinned: this was
		 * the last pin; the writer frees it. */
		router *r = pinned->owner;
		router_table *head = __atomic_load_n(&r->dead,
		                                     __ATOMIC_RELAXED);

		do
			pinned->next_dead = head;
		while (!__atomic_compare_exchange_n(&r->dead, &head, pinned, 1,
		                                    __ATOMIC_RELEASE,
		                                    __ATOMIC_RELAXED));
	}
	if (rc == ROUTER_OK && err != NULL)
		router__clearerr(err);
	return rc;
}

uint32_t router__handle_ids(const router *r)
{
	return r->nhandles;
}
