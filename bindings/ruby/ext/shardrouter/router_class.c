/*
 * ShardRouter::Router: the object (a refcounted C router, see
 * shardrouter.c), its shard-name Strings, #initialize and the read-only
 * introspection (version, content_hash, history, stats).  Its other
 * methods are defined by publish.c, snapshot.c, guards.c, route.c and
 * table_class.c.
 */
#include "shardrouter.h"

VALUE sr_cRouter;
static VALUE cHistoryEntry;

/* See shardrouter.c, "Lifetime". */
void sr_router_unref(rb_router *w)
{
	/* Both owners are freed by the GC, one at a time; atomic anyway, it
	 * costs nothing here. */
	if (__atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (unsigned i = 0; i < w->ncached; i++)
		router_handle_free(w->cached[i].h);
	router_free(w->r);
	free(w->names);
	xfree(w);
}

static void router_mark(void *p)
{
	const rb_router *w = p;

	for (uint32_t i = 0; i < w->nnames; i++)
		rb_gc_mark(w->names[i]); /* ignores 0 (false) */
	/* Pinned (rb_gc_mark, not _movable): compaction must not give an
	 * address the cache remembers to another object. */
	for (unsigned i = 0; i < w->ncached; i++) {
		rb_gc_mark(w->cached[i].ks_obj); /* ignores Qundef */
		rb_gc_mark(w->cached[i].table_obj);
	}
}

static void router_dfree(void *p)
{
	sr_router_unref(p);
}

static size_t router_memsize(const void *p)
{
	const rb_router *w = p;

	return sizeof *w + w->nnames * sizeof(VALUE) +
	       w->ncached * 64 /* a handle, about */;
}

static const rb_data_type_t router_type = {
    "ShardRouter::Router",
    {router_mark, router_dfree, router_memsize, NULL, {NULL}},
    0,
    0,
    RUBY_TYPED_FREE_IMMEDIATELY};

static VALUE router_alloc(VALUE klass)
{
	rb_router *w;
	VALUE self = TypedData_Make_Struct(klass, rb_router, &router_type, w);

	w->refs = 1;
	return self;
}

void sr_uninitialized(void)
{
	sr_raise_msg(ROUTER_ESTATE,
	             "ShardRouter::Router not initialized (call new)");
}

VALUE sr_shard_name_slow(rb_router *w, uint32_t id)
{
	size_t len;
	const char *s = router_shard_name(w->r, id, &len);
	VALUE str;

	if (s == NULL)
		sr_raise_msg(ROUTER_ESTATE,
		             "librouter returned unknown shard id %u", id);
	if (id >= w->nnames) {
		uint32_t n = w->nnames ? w->nnames : 16;
		VALUE *p;

		while (n <= id)
			n *= 2;
		p = realloc(w->names, n * sizeof *p);
		if (p == NULL)
			rb_memerror();
		memset(p + w->nnames, 0, (n - w->nnames) * sizeof *p);
		w->names = p;
		w->nnames = n;
	}
	/* May run the GC, which marks names: grown and zeroed above. */
	str = rb_enc_interned_str(s, (long)len, rb_utf8_encoding());
	w->names[id] = str;
	return str;
}

/* call-seq: _init(history, max_shrink, snapshot_path, fence_cap) -- see
 * Router#initialize */
static VALUE router_init(VALUE self, VALUE history, VALUE max_shrink,
                         VALUE snapshot_path, VALUE fence_cap)
{
	rb_router *w = RTYPEDDATA_DATA(self);
	router_options opt = ROUTER_OPTIONS_INIT;
	router_error err;
	int rc;

	if (w->r != NULL)
		sr_raise_msg(ROUTER_ESTATE,
		             "ShardRouter::Router already initialized");
	opt.history = (unsigned)sr_uint_arg(history, 1, UINT_MAX, "history");
	if (!rb_obj_is_kind_of(max_shrink, rb_cNumeric))
		rb_raise(rb_eTypeError, "max_shrink must be Numeric, not %" PRIsVALUE,
		         rb_obj_class(max_shrink));
	opt.max_shrink = NUM2DBL(max_shrink);
	opt.fence_cap =
	    (unsigned)sr_uint_arg(fence_cap, 0, UINT_MAX, "fence_cap");
	if (!NIL_P(snapshot_path))
		opt.snapshot_path = /* copied */
		    sr_cstr_arg(&snapshot_path, "snapshot_path");
	opt.on_event = sr_on_router_event;
	rc = router_create(&w->r, &opt, &err);
	RB_GC_GUARD(snapshot_path);
	if (rc != ROUTER_OK)
		sr_raise(rc, &err, O_CALL, Qnil);
	w->autosave = opt.snapshot_path != NULL;
	return self;
}

/* Copies would share the C router: refuse them. */
static VALUE router_init_copy(VALUE self, VALUE other)
{
	rb_raise(rb_eTypeError, "can't copy %" PRIsVALUE, rb_obj_class(self));
}

/*
 * Version of the table in service, 0 when nothing has been published.
 * Lock-free.
 *
 * @return [Integer]
 */
static VALUE router_version_m(VALUE self)
{
	return ULL2NUM(router_serving_version(get_router(self)->r));
}

/*
 * 64-bit hash of the routing content in service (equal content, equal
 * hash; the version is not part of it), 0 when nothing is published.
 *
 * @return [Integer]
 */
static VALUE router_content_hash_m(VALUE self)
{
	return ULL2NUM(router_content_hash(get_router(self)->r));
}

/*
 * The accepted tables kept for rollback, oldest first.
 *
 * @return [Array<ShardRouter::HistoryEntry>] each with +version+,
 *   +content_hash+, +accepted_at+ (Time) and +in_service+ (true for the
 *   table in service)
 */
static VALUE router_history_m(VALUE self)
{
	rb_router *w = get_router(self);
	router_history_entry buf[64], *e = buf;
	size_t n = router_history(w->r, buf, 64);
	VALUE tmp = 0, ary;

	if (n > 64) {
		e = ALLOCV_N(router_history_entry, tmp, n);
		n = router_history(w->r, e, n); /* same n: we hold the GVL */
	}
	ary = rb_ary_new_capa((long)n);
	for (size_t i = 0; i < n; i++) {
		struct timespec ts;

		ts.tv_sec = (time_t)(e[i].accepted_unix_ns / 1000000000);
		ts.tv_nsec = (long)(e[i].accepted_unix_ns % 1000000000);
		rb_ary_push(ary, rb_struct_new(cHistoryEntry,
		                               ULL2NUM(e[i].version),
		                               ULL2NUM(e[i].content_hash),
		                               rb_time_timespec_new(&ts, INT_MAX),
		                               e[i].in_service ? Qtrue : Qfalse));
	}
	ALLOCV_END(tmp);
	return ary;
}

/*
 * Counters of the router.
 *
 * @return [Hash{Symbol=>Object}] +:version+, +:content_hash+ (in
 *   service), +:accepted+, +:refused+, +:refused_by_code+ (Hash of code
 *   Symbol to count, non-zero only), +:rollbacks+, +:checks+,
 *   +:tables_retired+, +:tables_freed+, +:history_len+, +:shard_names+;
 *   beyond the guards: +:snapshots_saved+, +:snapshots_failed+ (automatic
 *   snapshots that could not be written), +:quarantined+, +:approved+,
 *   +:discarded+ (pending tables discarded or superseded), +:fences+
 *   (content hashes fenced now), +:invariants+ (declared), +:shadow_runs+
 *   (publishes and checks evaluated on the sample)
 */
static VALUE router_stats_m(VALUE self)
{
	router_stats s;
	VALUE h = rb_hash_new(), by = rb_hash_new();

	router_stats_get(get_router(self)->r, &s, sizeof s);
	sr_hset(h, "version", ULL2NUM(s.version));
	sr_hset(h, "content_hash", ULL2NUM(s.content_hash));
	sr_hset(h, "accepted", ULL2NUM(s.accepted));
	sr_hset(h, "refused", ULL2NUM(s.refused));
	for (int i = 1; i < NCODES; i++) {
		uint64_t n = router_stats_refused(get_router(self)->r, -i);

		if (n != 0)
			rb_hash_aset(by, sr_code_sym(-i), ULL2NUM(n));
	}
	sr_hset(h, "refused_by_code", by);
	sr_hset(h, "rollbacks", ULL2NUM(s.rollbacks));
	sr_hset(h, "checks", ULL2NUM(s.checks));
	sr_hset(h, "tables_retired", ULL2NUM(s.tables_retired));
	sr_hset(h, "tables_freed", ULL2NUM(s.tables_freed));
	sr_hset(h, "history_len", UINT2NUM(s.history_len));
	sr_hset(h, "shard_names", UINT2NUM(s.shard_names));
	sr_hset(h, "snapshots_saved", ULL2NUM(s.snapshots_saved));
	sr_hset(h, "snapshots_failed", ULL2NUM(s.snapshots_failed));
	sr_hset(h, "quarantined", ULL2NUM(s.quarantined));
	sr_hset(h, "approved", ULL2NUM(s.approved));
	sr_hset(h, "discarded", ULL2NUM(s.discarded));
	sr_hset(h, "fences", UINT2NUM(s.fences));
	sr_hset(h, "invariants", UINT2NUM(s.invariants));
	sr_hset(h, "shadow_runs", ULL2NUM(s.shadow_runs));
	return h;
}

void sr_init_router_class(void)
{
	VALUE c;

	cHistoryEntry = rb_struct_define_under(
	    sr_mShardRouter, "HistoryEntry", "version", "content_hash",
	    "accepted_at", "in_service", NULL);
	c = sr_cRouter = rb_define_class_under(sr_mShardRouter, "Router",
	                                       rb_cObject);
	rb_define_alloc_func(c, router_alloc);
	rb_define_private_method(c, "_init", router_init, 4);
	rb_define_private_method(c, "initialize_copy", router_init_copy, 1);
	rb_define_method(c, "version", router_version_m, 0);
	rb_define_method(c, "content_hash", router_content_hash_m, 0);
	rb_define_method(c, "history", router_history_m, 0);
	rb_define_method(c, "stats", router_stats_m, 0);
}
