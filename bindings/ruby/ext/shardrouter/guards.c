/*
 * Beyond the guards, the operator's side: the pending (quarantined)
 * table and its discard, fences, invariants and the shadow sample.
 * Approving the pending table is a publish (publish.c).
 */
#include "shardrouter.h"

static VALUE cFence;

/* rb_protect body: the diff of the pending table. */
static VALUE diff_to_ruby_p(VALUE d)
{
	return d ? sr_diff_to_ruby((const router_diff *)d)
	         : rb_obj_freeze(rb_ary_new());
}

/*
 * The table kept pending by a quarantined publish
 * (<tt>publish(..., quarantine: true)</tt>), not serving.
 *
 * @return [Hash, nil] nil when nothing is pending, else +:version+ (as
 *   offered; 0: the next one at approval), +:content_hash+, +:code+ (the
 *   guard that refused it: +:EEMPTY+, +:ESHRINK+ or +:ESHADOW+),
 *   +:culprit+ (String or nil), +:reason+ (String), +:diff+
 *   (Array<Change> from the table in service now to the pending table)
 *   and +:since+ (Time it was quarantined)
 */
static VALUE router_pending_m(VALUE self)
{
	rb_router *w = get_router(self);
	router_pending_info info;
	router_diff *d = NULL;
	router_error err;
	VALUE h, diff;
	int rc = router_pending(w->r, &info, &d, &err);

	if (rc == ROUTER_ENOTFOUND)
		return Qnil;
	if (rc != ROUTER_OK)
		sr_raise(rc, &err, O_CALL, Qnil);
	/* sr_diff_to_ruby allocates: free d even if it raises
	 * (NoMemoryError). */
	diff = rb_protect(diff_to_ruby_p, (VALUE)d, &rc);
	router_diff_free(d);
	if (rc)
		rb_jump_tag(rc);
	h = rb_hash_new();
	sr_hset(h, "version", ULL2NUM(info.version));
	sr_hset(h, "content_hash", ULL2NUM(info.content_hash));
	sr_hset(h, "code", sr_code_sym(info.reason.code));
	sr_hset(h, "culprit", info.reason.culprit[0]
	                       ? rb_utf8_str_new_cstr(info.reason.culprit)
	                       : Qnil);
	sr_hset(h, "reason", rb_utf8_str_new_cstr(info.reason.message[0]
	                                           ? info.reason.message
	                                           : router_strerror(
	                                                 info.reason.code)));
	sr_hset(h, "diff", diff);
	sr_hset(h, "since", sr_time_from_ns(info.since_unix_ns));
	return h;
}

/*
 * Drop the pending table. Its content is fenced when fencing is on
 * (+fence_cap:+): an operator judged it bad.
 *
 * @return [Boolean] true, or false when nothing was pending
 */
static VALUE router_discard_pending_m(VALUE self)
{
	rb_router *w = get_router(self);
	router_error err;
	int rc = router_pending_discard(w->r, &err);

	if (rc == ROUTER_ENOTFOUND)
		return Qfalse;
	if (rc != ROUTER_OK)
		sr_raise(rc, &err, O_CALL, Qnil);
	return Qtrue;
}

static VALUE fence_origin_sym(router_fence_origin o)
{
	switch (o) {
	case ROUTER_FENCE_REFUSED: return ID2SYM(rb_intern("refused"));
	case ROUTER_FENCE_ROLLED_BACK: return ID2SYM(rb_intern("rolled_back"));
	case ROUTER_FENCE_DISCARDED: return ID2SYM(rb_intern("discarded"));
	case ROUTER_FENCE_MANUAL: return ID2SYM(rb_intern("manual"));
	}
	return ID2SYM(rb_intern("other"));
}

/*
 * The fenced content hashes, oldest first (at most +fence_cap+; empty
 * when fencing is off).
 *
 * @return [Array<ShardRouter::Fence>] each with +content_hash+,
 *   +version+ (of the fenced table; 0: unknown), +origin+ (+:refused+,
 *   +:rolled_back+, +:discarded+, +:manual+), +code+ (the guard's code
 *   Symbol for +:refused+, else nil) and +fenced_at+ (Time)
 */
static VALUE router_fences_m(VALUE self)
{
	rb_router *w = get_router(self);
	router_fence buf[32], *f = buf;
	size_t n = router_fences(w->r, buf, 32);
	VALUE tmp = 0, ary;

	if (n > 32) {
		f = ALLOCV_N(router_fence, tmp, n);
		n = router_fences(w->r, f, n); /* same n: we hold the GVL */
	}
	ary = rb_ary_new_capa((long)n);
	for (size_t i = 0; i < n; i++)
		rb_ary_push(ary, rb_obj_freeze(rb_struct_new(
		                     cFence, ULL2NUM(f[i].content_hash),
		                     ULL2NUM(f[i].version),
		                     fence_origin_sym(f[i].origin),
		                     f[i].code ? sr_code_sym(f[i].code) : Qnil,
		                     sr_time_from_ns(f[i].fenced_unix_ns))));
	ALLOCV_END(tmp);
	return ary;
}

/*
 * Fence a content hash by hand (e.g. one a peer fenced): a publish of
 * that content is refused with FencedError, whatever its version.
 *
 * @param content_hash [Integer] as Router#content_hash
 * @return [self]
 * @raise [ShardRouter::InvalidError] fencing is off (+:ESTATE+: give the
 *   Router a +fence_cap:+)
 */
static VALUE router_fence_m(VALUE self, VALUE hash)
{
	rb_router *w = get_router(self);
	router_error err;
	int rc = router_fence_add(
	    w->r, sr_uint_arg(hash, 0, UINT64_MAX, "content_hash"), &err);

	if (rc != ROUTER_OK)
		sr_raise(rc, &err, O_CALL, Qnil);
	return self;
}

/*
 * Lift the fence on a content hash, so that content may be published
 * again.
 *
 * @param content_hash [Integer]
 * @return [Boolean] true, or false when it was not fenced
 */
static VALUE router_lift_fence_m(VALUE self, VALUE hash)
{
	rb_router *w = get_router(self);
	router_error err;
	int rc = router_fence_lift(
	    w->r, sr_uint_arg(hash, 0, UINT64_MAX, "content_hash"), &err);

	if (rc == ROUTER_ENOTFOUND)
		return Qfalse;
	if (rc != ROUTER_OK)
		sr_raise(rc, &err, O_CALL, Qnil);
	return Qtrue;
}

/*
 * Lift every fence.
 *
 * @return [self]
 */
static VALUE router_clear_fences_m(VALUE self)
{
	router_fence_clear(get_router(self)->r);
	return self;
}

/*
 * Declare an operator invariant, checked on every publish and approval
 * before the other guards; a publish that breaks it raises InvariantError
 * naming it, and +allow_destructive+ does not override it. One line, as
 * in the VSchema's names:
 *
 *   "customer sharded"                  stays sharded
 *   "customer shards >= 4"              keeps at least 4 shards
 *   "customer tables customer,corder"   keeps these tables
 *   "customer.customer vindex xxhash"   primary vindex of this type
 *   "customer.customer vindex"          keeps the type in service
 *
 * A trailing "# comment" is allowed. Declaring one twice is a no-op.
 *
 * @param spec [String]
 * @return [self]
 * @raise [ArgumentError] a syntax error (the message says what was
 *   expected), or more than 256 invariants
 * @raise [ShardRouter::InvariantError] the table in service breaks it
 *   (not declared)
 */
static VALUE router_add_invariant_m(VALUE self, VALUE spec)
{
	rb_router *w = get_router(self);
	router_error err;
	int rc = router_invariant_add(w->r, sr_cstr_arg(&spec, "invariant"),
	                              &err);

	RB_GC_GUARD(spec);
	if (rc != ROUTER_OK)
		sr_raise(rc, &err, O_CALL, Qnil);
	return self;
}

/*
 * Remove the invariant with this text (compared in canonical form, so
 * blanks and comments do not matter).
 *
 * @param spec [String]
 * @return [Boolean] true, or false when no such invariant was declared
 * @raise [ArgumentError] a syntax error
 */
static VALUE router_remove_invariant_m(VALUE self, VALUE spec)
{
	rb_router *w = get_router(self);
	router_error err;
	int rc =
	    router_invariant_remove(w->r, sr_cstr_arg(&spec, "invariant"),
	                            &err);

	RB_GC_GUARD(spec);
	if (rc == ROUTER_ENOTFOUND)
		return Qfalse;
	if (rc != ROUTER_OK)
		sr_raise(rc, &err, O_CALL, Qnil);
	return Qtrue;
}

/*
 * The declared invariants, in canonical text form, in declaration order.
 *
 * @return [Array<String>]
 */
static VALUE router_invariants_m(VALUE self)
{
	rb_router *w = get_router(self);
	size_t n = router_invariant_get(w->r, 0, NULL, 0);
	VALUE ary = rb_ary_new_capa((long)n);

	for (size_t i = 0; i < n; i++) {
		char buf[1024];

		if (router_invariant_get(w->r, i, buf, sizeof buf) <= i)
			break; /* removed meanwhile by another thread */
		rb_ary_push(ary, rb_str_freeze(rb_utf8_str_new_cstr(buf)));
	}
	return ary;
}

/* call-seq: _set_sample(keys, max_moved, max_unroutable) -- see
 * Router#set_sample.  keys: a frozen Array of frozen [keyspace, table,
 * value] triples (keyspace and table Strings), made by lib/shardrouter.rb. */
static VALUE router_set_sample_m(VALUE self, VALUE keys, VALUE max_moved,
                                 VALUE max_unroutable)
{
	rb_router *w = get_router(self);
	router_shadow_options opt = ROUTER_SHADOW_OPTIONS_INIT;
	router_sample_key *k;
	router_value *vals;
	router_error err;
	VALUE tmp1 = 0, tmp2 = 0;
	long n, nv = 0;
	int rc;

	Check_Type(keys, T_ARRAY);
	opt.max_moved = NUM2DBL(max_moved);
	opt.max_unroutable = NUM2DBL(max_unroutable);
	n = RARRAY_LEN(keys);
	for (long i = 0; i < n; i++) {
		VALUE key = RARRAY_AREF(keys, i);

		Check_Type(key, T_ARRAY);
		if (RARRAY_LEN(key) != 3)
			rb_raise(rb_eArgError,
			         "a sample key is [keyspace, table, value]");
		Check_Type(RARRAY_AREF(key, 0), T_STRING);
		Check_Type(RARRAY_AREF(key, 1), T_STRING);
		/* The names every lookup refuses (name_arg). */
		if (memchr(RSTRING_PTR(RARRAY_AREF(key, 0)), 0,
		           (size_t)RSTRING_LEN(RARRAY_AREF(key, 0))) != NULL)
			sr_nul_error("keyspace");
		if (memchr(RSTRING_PTR(RARRAY_AREF(key, 1)), 0,
		           (size_t)RSTRING_LEN(RARRAY_AREF(key, 1))) != NULL)
			sr_nul_error("table");
	}
	/* Allocate first: from here to the call nothing allocates, so the
	 * Strings read in place cannot move. */
	k = ALLOCV_N(router_sample_key, tmp1, n ? n : 1);
	vals = ALLOCV_N(router_value, tmp2, (n ? n : 1) * ROUTER_MULTICOL_MAX);
	for (long i = 0; i < n; i++) {
		VALUE key = RARRAY_AREF(keys, i);
		VALUE ks = RARRAY_AREF(key, 0), tb = RARRAY_AREF(key, 1);

		k[i].keyspace = RSTRING_PTR(ks);
		k[i].keyspace_len = (size_t)RSTRING_LEN(ks);
		k[i].table = RSTRING_PTR(tb);
		k[i].table_len = (size_t)RSTRING_LEN(tb);
		k[i].values = vals + nv;
		k[i].nvalues = to_values(RARRAY_AREF(key, 2), vals + nv);
		nv += (long)k[i].nvalues;
	}
	rc = router_shadow_set_sample(w->r, n ? k : NULL, (size_t)n, &opt, &err);
	ALLOCV_END(tmp1);
	ALLOCV_END(tmp2);
	RB_GC_GUARD(keys);
	if (rc != ROUTER_OK)
		sr_raise(rc, &err, O_CALL, Qnil);
	return self;
}

void sr_init_guards(void)
{
	VALUE c = sr_cRouter;

	cFence = rb_struct_define_under(sr_mShardRouter, "Fence",
	                                "content_hash", "version", "origin",
	                                "code", "fenced_at", NULL);
	rb_define_method(c, "pending", router_pending_m, 0);
	rb_define_method(c, "discard_pending", router_discard_pending_m, 0);
	rb_define_method(c, "fences", router_fences_m, 0);
	rb_define_method(c, "fence", router_fence_m, 1);
	rb_define_method(c, "lift_fence", router_lift_fence_m, 1);
	rb_define_method(c, "clear_fences", router_clear_fences_m, 0);
	rb_define_method(c, "add_invariant", router_add_invariant_m, 1);
	rb_define_method(c, "remove_invariant", router_remove_invariant_m, 1);
	rb_define_method(c, "invariants", router_invariants_m, 0);
	rb_define_private_method(c, "_set_sample", router_set_sample_m, 3);
}
