/*
 * Lookups: Router#route, #route_ksid, #route_many and Table#route,
 * #route_many, the hot paths (see "Design" in shardrouter.c), and the
 * benchmark helpers bench.rb compares them with (a no-op call of the
 * same arity; the same lookups in a C loop).
 */
#include "shardrouter.h"


/* The names' equality, inline: they are short (memcmp is a call). */
static inline int same_name(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* The cache entry of (ks, tb), opened and cached on first use while the
 * cache has room; NULL when it is full of other pairs or the core refuses
 * the names (then the caller routes by names, which gives the error). */
static cached_handle *cached_handle_for(rb_router *w, const char *ks,
                                        size_t ksl, const char *tb,
                                        size_t tbl)
{
	router_handle *h;
	cached_handle *c;

	for (unsigned i = 0; i < w->ncached; i++) {
		c = &w->cached[i];
		if (c->kslen == ksl && c->tlen == tbl &&
		    same_name(c->ks, ks, ksl) && same_name(c->table, tb, tbl))
			return c;
	}
	if (w->ncached == HANDLE_CACHE ||
	    router_handle_open(w->r, ks, ksl, tb, tbl, &h, NULL) != ROUTER_OK)
		return NULL;
	/* Valid names fit: router_handle_open refuses longer ones. */
	c = &w->cached[w->ncached++];
	c->h = h;
	c->ks_obj = c->table_obj = Qundef;
	c->kslen = ksl;
	c->tlen = tbl;
	memcpy(c->ks, ks, ksl);
	memcpy(c->table, tb, tbl);
	return c;
}

/* A name argument whose text cannot change: a frozen String or a Symbol. */
static inline int fixed_name(VALUE v)
{
	return SYMBOL_P(v) || (RB_TYPE_P(v, T_STRING) && RB_OBJ_FROZEN(v));
}

/* The entry whose last matching arguments were these very objects (two
 * compares: no name read), or NULL. */
static inline const cached_handle *cached_by_object(const rb_router *w,
                                                    VALUE keyspace,
                                                    VALUE table)
{
	for (unsigned i = 0; i < w->ncached; i++) {
		const cached_handle *c = &w->cached[i];

		if (c->ks_obj == keyspace && c->table_obj == table)
			return c;
	}
	return NULL;
}

/* The entry of the names (cached_handle_for), which then remembers the
 * argument objects when their text is fixed (marked by the Router, so
 * neither is freed or moved while remembered: an object address never
 * stands for other text). */
static const cached_handle *cached_by_name(rb_router *w, VALUE keyspace,
                                           VALUE table)
{
	const char *ks, *tb;
	size_t ksl, tbl;
	cached_handle *c;

	name_arg(keyspace, &ks, &ksl, "keyspace");
	name_arg(table, &tb, &tbl, "table");
	c = cached_handle_for(w, ks, ksl, tb, tbl);
	if (c != NULL && fixed_name(keyspace) && fixed_name(table)) {
		c->ks_obj = keyspace;
		c->table_obj = table;
	}
	return c;
}

static VALUE route_by_names(rb_router *w, VALUE keyspace, VALUE table,
                            VALUE value);

/*
 * The shard holding +value+ in +keyspace+.+table+, through the table's
 * primary vindex, in the table in service.
 *
 * @param keyspace [String, Symbol]
 * @param table [String, Symbol]
 * @param value [Integer, String, nil, Array] Integer: int64, or uint64
 *   above 2**63-1; String: VARCHAR, or VARBINARY when its encoding is
 *   ASCII-8BIT (binary); nil: NULL; Array: one value per column of a
 *   multi-column vindex
 * @return [String, nil] the shard's name, a frozen String shared by every
 *   call; nil when the value maps to no keyspace ID (e.g. NULL through
 *   +hash+)
 * @raise [ShardRouter::NoRouteError] no such keyspace or table, nothing
 *   published, a disabled or reference table, a lookup vindex
 * @raise [TypeError, RangeError, ArgumentError] bad arguments
 */
static VALUE router_route_m(VALUE self, VALUE keyspace, VALUE table,
                            VALUE value)
{
	rb_router *w = get_router(self);

	if (RB_LIKELY(FIXNUM_P(value))) {
		/* Through the pair's cached handle: the same answer as by
		 * names (both resolve as a query does), without resolving
		 * the names in the core on every call (issue 20); found by
		 * the argument objects themselves when they are the frozen
		 * Strings or Symbols of an earlier call.  Anything but a
		 * shard goes by names (route_by_names, a tail call: this
		 * frame keeps only the result), for the same error. */
		const cached_handle *c = cached_by_object(w, keyspace, table);
		router_route_result res;

		if (RB_UNLIKELY(c == NULL))
			c = cached_by_name(w, keyspace, table);
		if (RB_LIKELY(c != NULL) &&
		    RB_LIKELY(router_handle_route_int64(c->h, FIX2LONG(value),
		                                        &res) == ROUTER_OK))
			return shard_name(w, res.shard_id);
	}
	return route_by_names(w, keyspace, table, value);
}

/* Router#route by names in the core: any value, and every error. */
static __attribute__((noinline)) VALUE
route_by_names(rb_router *w, VALUE keyspace, VALUE table, VALUE value)
{
	router_value vals[ROUTER_MULTICOL_MAX];
	router_route_result res;
	router_error err;
	const char *ks, *tb;
	size_t ksl, tbl, n;
	int rc;

	name_arg(keyspace, &ks, &ksl, "keyspace");
	name_arg(table, &tb, &tbl, "table");
	n = to_values(value, vals);
	rc = router_route(w->r, ks, ksl, tb, tbl, vals, n, &res, &err);
	if (RB_LIKELY(rc == ROUTER_OK))
		return shard_name(w, res.shard_id);
	if (rc == ROUTER_NONE)
		return Qnil;
	sr_raise(rc, &err, O_CALL, Qnil);
}

/*
 * The shard of +keyspace+ holding the keyspace ID +ksid+.
 *
 * @param keyspace [String, Symbol]
 * @param ksid [String] the keyspace ID's bytes (e.g. from
 *   ShardRouter.keyspace_id)
 * @return [String] the shard's name (frozen, shared)
 * @raise [ShardRouter::NoRouteError] no such keyspace, nothing published
 */
static VALUE router_route_ksid_m(VALUE self, VALUE keyspace, VALUE ksid)
{
	rb_router *w = get_router(self);
	router_route_result res;
	router_error err;
	const char *ks;
	size_t ksl;
	int rc;

	name_arg(keyspace, &ks, &ksl, "keyspace");
	if (!RB_TYPE_P(ksid, T_STRING))
		rb_raise(rb_eTypeError, "ksid must be a String, not %" PRIsVALUE,
		         rb_obj_class(ksid));
	rc = router_route_ksid(w->r, ks, ksl, RSTRING_PTR(ksid),
	                       (size_t)RSTRING_LEN(ksid), &res, &err);
	if (RB_LIKELY(rc == ROUTER_OK))
		return shard_name(w, res.shard_id);
	if (rc == ROUTER_NONE)
		return Qnil;
	sr_raise(rc, &err, O_CALL, Qnil);
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Benchmark floor: the same arguments as #route, no work. */
static VALUE router_noop3(VALUE self, VALUE a, VALUE b, VALUE c)
{
	return Qnil;
}

/* Benchmark: ns taken by n router_route calls on keys 0..n-1 from C, the
 * librouter work inside Router#route. */
static VALUE router_bench_c(VALUE self, VALUE keyspace, VALUE table,
                            VALUE count)
{
	rb_router *w = get_router(self);
	long n = NUM2LONG(count);
	const char *ks, *tb;
	size_t ksl, tbl;
	router_route_result res;
	router_error err;
	uint32_t sink = 0;
	int64_t t0;

	name_arg(keyspace, &ks, &ksl, "keyspace");
	name_arg(table, &tb, &tbl, "table");
	t0 = mono_ns();
	for (long i = 0; i < n; i++) {
		router_value v = ROUTER_VALUE_INT64(i);

		router_route(w->r, ks, ksl, tb, tbl, &v, 1, &res, &err);
		sink += res.shard_id;
	}
	t0 = mono_ns() - t0;
	return rb_ary_new_from_args(2, LL2NUM(t0), UINT2NUM(sink));
}

static VALUE table_route_slow(rb_table *t, VALUE value)
{
	router_value vals[ROUTER_MULTICOL_MAX];
	router_route_result res;
	router_error err;
	size_t n = to_values(value, vals);
	int rc = router_handle_route(t->h, vals, n, &res, &err);

	if (rc == ROUTER_OK)
		return shard_name(t->w, res.shard_id);
	if (rc == ROUTER_NONE)
		return Qnil;
	sr_raise(rc, &err, O_CALL, Qnil);
}

/*
 * The shard holding +value+, as Router#route for this table.
 *
 * @param value [Integer, String, nil, Array] as in Router#route
 * @return [String, nil] the shard's name (frozen, shared), nil when the
 *   value maps to no keyspace ID
 * @raise [ShardRouter::NoRouteError] the table is missing from the table
 *   in service, or is not routable by value
 */
static VALUE table_route_m(VALUE self, VALUE value)
{
	rb_table *t = GET_TABLE(self);

	if (RB_LIKELY(FIXNUM_P(value))) {
		router_route_result res;
		int rc = router_handle_route_int64(t->h, FIX2LONG(value), &res);

		if (RB_LIKELY(rc == ROUTER_OK))
			return shard_name(t->w, res.shard_id);
		if (rc == ROUTER_NONE)
			return Qnil;
		/* An error: route again for its detail. */
	}
	return table_route_slow(t, value);
}

/* Benchmark floor: the same argument as Table#route, no work. */
static VALUE table_noop1(VALUE self, VALUE a)
{
	return Qnil;
}

/* Benchmark: ns taken by n router_handle_route_int64 calls on keys 0..n-1
 * from C, the librouter work inside Table#route; with chained true each
 * key waits for the previous result, so that lookups do not overlap in
 * the CPU, as between interpreter calls. */
static VALUE table_bench_c(VALUE self, VALUE count, VALUE chained)
{
	rb_table *t = GET_TABLE(self);
	long n = NUM2LONG(count);
	int chain = RTEST(chained);
	router_route_result res;
	uint32_t sink = 0;
	uint64_t dep = 0;
	int64_t t0 = mono_ns();

	for (long i = 0; i < n && !chain; i++) {
		router_handle_route_int64(t->h, i, &res);
		sink += res.shard_id;
	}
	for (long i = 0; i < n && chain; i++) {
		router_handle_route_int64(t->h, i + (int64_t)(dep >> 63), &res);
		sink += res.shard_id;
		/* 0, but only known at run time. */
		dep = res.shard_index;
		__asm__("" : "+r"(dep));
	}
	t0 = mono_ns() - t0;
	RB_GC_GUARD(self);
	return rb_ary_new_from_args(2, LL2NUM(t0), UINT2NUM(sink));
}

typedef union slot {
	uint64_t key;
	VALUE val;
} slot;

typedef struct batch_args {
	const router_handle *h;
	const uint64_t *keys;
	size_t n;
	int is_unsigned;
	uint32_t *ids;
	router_error err;
	int rc;
} batch_args;

static void *batch_nogvl(void *p)
{
	batch_args *b = p;

	b->rc = router_handle_route_batch(b->h, b->keys, b->n, b->is_unsigned,
	                                  b->ids, NULL, &b->err);
	return NULL;
}

/* Integers only, all int64 or all above INT64_MAX: one batch, one table,
 * no GVL past NOGVL_BATCH_MIN.  Anything else: one lookup per value. */
static VALUE route_many(VALUE owner, rb_router *w, const router_handle *h,
                        VALUE values)
{
	long n, i;
	VALUE tmp1 = 0, tmp2 = 0, ret;
	slot *s;
	uint32_t *ids;
	int n_big = 0, mixed = 0;
	batch_args b;

	Check_Type(values, T_ARRAY);
	n = RARRAY_LEN(values);
	s = ALLOCV_N(slot, tmp1, n ? n : 1);
	for (i = 0; i < n; i++) {
		VALUE v = RARRAY_AREF(values, i);

		if (RB_LIKELY(FIXNUM_P(v))) {
			s[i].key = (uint64_t)FIX2LONG(v);
		} else if (RB_TYPE_P(v, T_BIGNUM)) {
			router_value rv;

			sr_big_value(v, &rv);
			if (rv.type == ROUTER_SQL_UINT64) {
				s[i].key = rv.u64;
				n_big++;
			} else {
				s[i].key = (uint64_t)rv.i64;
			}
		} else {
			mixed = 1;
			break;
		}
	}
	if (n_big != 0 && n_big != n)
		mixed = 1;
	if (mixed) {
		/* Per value; the Array may change under us if a lookup
		 * raises, so read it afresh each time. */
		ret = rb_ary_new_capa(n);
		for (i = 0; i < RARRAY_LEN(values); i++) {
			router_value vals[ROUTER_MULTICOL_MAX];
			router_route_result res;
			router_error err;
			size_t nv = to_values(RARRAY_AREF(values, i), vals);
			int rc = router_handle_route(h, vals, nv, &res, &err);

			if (rc == ROUTER_OK)
				rb_ary_push(ret, shard_name(w, res.shard_id));
			else if (rc == ROUTER_NONE)
				rb_ary_push(ret, Qnil);
			else
				sr_raise(rc, &err, O_CALL, Qnil);
		}
		ALLOCV_END(tmp1);
		return ret;
	}
	ids = ALLOCV_N(uint32_t, tmp2, n ? n : 1);
	b.h = h;
	b.keys = &s[0].key;
	b.n = (size_t)n;
	b.is_unsigned = n_big != 0;
	b.ids = ids;
	/* slot is a union of one uint64_t: keys are contiguous. */
	if (n >= NOGVL_BATCH_MIN)
		rb_thread_call_without_gvl(batch_nogvl, &b, NULL, NULL);
	else
		batch_nogvl(&b);
	if (b.rc != ROUTER_OK)
		sr_raise(b.rc, &b.err, O_CALL, Qnil);
	/* Reuse the key slots for the results.  Every non-nil VALUE written
	 * here is held by w->names, so a GC run by sr_shard_name_slow (which is
	 * blind to this buffer) loses nothing. */
	for (i = 0; i < n; i++)
		s[i].val = ids[i] == ROUTER_NO_SHARD ? Qnil
		                                     : shard_name(w, ids[i]);
	ret = rb_ary_new_from_values(n, &s[0].val);
	ALLOCV_END(tmp1);
	ALLOCV_END(tmp2);
	RB_GC_GUARD(owner);
	RB_GC_GUARD(values);
	return ret;
}

/*
 * The shard of each value, as Table#route for each, in one call.
 * An Array of Integers (all in the int64 range, or all above it) is routed
 * as one batch by one table in service, without the GVL from 16384 keys
 * on; other Arrays are routed value by value.
 *
 * @param values [Array<Integer, String, nil, Array>]
 * @return [Array<String, nil>]
 * @raise [ShardRouter::NoRouteError] as Table#route
 */
static VALUE table_route_many_m(VALUE self, VALUE values)
{
	rb_table *t = GET_TABLE(self);

	return route_many(self, t->w, t->h, values);
}

typedef struct many_args {
	router_handle *h;
	rb_router *w;
	VALUE self, values;
} many_args;

static VALUE many_body(VALUE p)
{
	many_args *m = (many_args *)p;

	return route_many(m->self, m->w, m->h, m->values);
}

static VALUE many_cleanup(VALUE p)
{
	router_handle_free(((many_args *)p)->h);
	return Qnil;
}

/*
 * The shard of each value in +keyspace+.+table+, as Table#route_many.
 *
 * @param keyspace [String, Symbol]
 * @param table [String, Symbol]
 * @param values [Array<Integer, String, nil, Array>]
 * @return [Array<String, nil>]
 * @raise [ShardRouter::NoRouteError] as Router#route
 */
static VALUE router_route_many_m(VALUE self, VALUE keyspace, VALUE table,
                                 VALUE values)
{
	many_args m;
	const char *ks, *tb;
	size_t ksl, tbl;
	router_error err;
	int rc;

	m.w = get_router(self);
	m.self = self;
	m.values = values;
	name_arg(keyspace, &ks, &ksl, "keyspace");
	name_arg(table, &tb, &tbl, "table");
	Check_Type(values, T_ARRAY);
	{
		const cached_handle *c =
		    cached_handle_for(m.w, ks, ksl, tb, tbl);

		if (c != NULL)
			return route_many(self, m.w, c->h, values);
	}
	/* The cache is full of other pairs (or the names are refused: the
	 * open says why): a handle for this call only. */
	rc = router_handle_open(m.w->r, ks, ksl, tb, tbl, &m.h, &err);
	if (rc != ROUTER_OK)
		sr_raise(rc, &err, O_CALL, Qnil);
	return rb_ensure(many_body, (VALUE)&m, many_cleanup, (VALUE)&m);
}

void sr_init_route(void)
{
	VALUE c = sr_cRouter, t = sr_cTable;

	rb_define_method(c, "route", router_route_m, 3);
	rb_define_method(c, "route_ksid", router_route_ksid_m, 2);
	rb_define_method(c, "route_many", router_route_many_m, 3);
	rb_define_private_method(c, "_noop_route", router_noop3, 3);
	rb_define_private_method(c, "_bench_c", router_bench_c, 3);
	rb_define_method(t, "route", table_route_m, 1);
	rb_define_method(t, "route_many", table_route_many_m, 1);
	rb_define_private_method(t, "_noop_route", table_noop1, 1);
	rb_define_private_method(t, "_bench_c", table_bench_c, 2);
	/* Integer batches of at least this many keys are routed without the
	 * GVL (Table#route_many, Router#route_many). */
	rb_define_const(sr_mShardRouter, "NOGVL_BATCH_MIN",
	                INT2FIX(NOGVL_BATCH_MIN));
}
