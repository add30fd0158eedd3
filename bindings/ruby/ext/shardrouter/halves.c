/*
 * The lookup halves apart and the other ways to route:
 * Router#lookup_query (what vtgate would ask), Router#route_lookup_rows
 * (how the rows the application got answer), Router#route_prefix (the
 * shards a LIKE 'prefix%' on a cfc column reaches) and
 * Router#route_target / Table#route_target (where vtgate serves the row,
 * after the SrvVSchema's routing rules).
 */
#include "shardrouter.h"

/* Route results out[0..n) as an Array of shard names. */
static VALUE shard_list(rb_router *w, const router_route_result *out,
                        size_t n)
{
	VALUE list = rb_ary_new_capa((long)n);

	for (size_t i = 0; i < n; i++)
		rb_ary_push(list, shard_name(w, out[i].shard_id));
	return list;
}

/*
 * The shards a <tt>LIKE 'prefix%'</tt> on the primary column of
 * +keyspace+.+table+ can reach, when its primary vindex is +cfc+
 * (Vitess's prefix vindex): the bytes of +like+ before its first
 * unescaped % or _ map to a key range, and every shard that range meets
 * is returned (all of them for an empty prefix).
 *
 * @param like [String] the LIKE literal
 * @return [Array<String>] the shards, in partition order
 * @raise [ShardRouter::NoRouteError] absent, reference or disabled table,
 *   or a primary vindex other than cfc (+:EUNSUPPORTED+)
 */
static VALUE router_route_prefix_m(VALUE self, VALUE keyspace, VALUE table,
                                   VALUE like)
{
	rb_router *w = get_router(self);
	router_route_result small[16], *out = small;
	size_t cap = 16, n = 0, ksl, tbl;
	const char *ks, *tb;
	router_error err;
	VALUE list;
	int rc;

	name_arg(keyspace, &ks, &ksl, "keyspace");
	name_arg(table, &tb, &tbl, "table");
	StringValue(like);
	for (;;) {
		rc = router_route_prefix(w->r, ks, ksl, tb, tbl,
		                         RSTRING_PTR(like),
		                         (size_t)RSTRING_LEN(like), out, cap, &n,
		                         &err);
		if (rc != ROUTER_ERANGE || out != small)
			break;
		/* More shards than the stack holds: again with room for all. */
		out = ALLOC_N(router_route_result, n);
		cap = n;
	}
	RB_GC_GUARD(like);
	if (rc != ROUTER_OK) {
		if (out != small)
			xfree(out);
		sr_raise(rc, &err, O_CALL, Qnil);
	}
	list = shard_list(w, out, n);
	if (out != small)
		xfree(out);
	return list;
}

/* ---- route_target -------------------------------------------------------- */

/* router_route_target by names, as [shard, keyspace, table, rules]. */
static VALUE route_target(rb_router *w, VALUE keyspace, VALUE table,
                          VALUE value, unsigned flags)
{
	router_value vals[ROUTER_MULTICOL_MAX];
	router_route_result res;
	router_target target;
	router_error err;
	const char *ks, *tb;
	size_t ksl, tbl, n;
	VALUE shard, rules;
	int rc;

	name_arg(keyspace, &ks, &ksl, "keyspace");
	name_arg(table, &tb, &tbl, "table");
	n = to_values(value, vals);
	rc = router_route_target(w->r, ks, ksl, tb, tbl, vals, n, flags, &res,
	                         &target, &err);
	RB_GC_GUARD(keyspace);
	RB_GC_GUARD(table);
	RB_GC_GUARD(value);
	if (rc == ROUTER_OK)
		shard = shard_name(w, res.shard_id);
	else if (rc == ROUTER_NONE)
		shard = Qnil;
	else
		sr_raise(rc, &err, O_CALL, Qnil);
	rules = rb_ary_new();
	/* router_target_rule_name: lowest bit first, Vitess's order. */
	for (unsigned bit = 1; router_target_rule_name(bit) != NULL; bit <<= 1)
		if (target.rules & bit)
			rb_ary_push(rules, rb_enc_interned_str_cstr(
			                       router_target_rule_name(bit),
			                       rb_utf8_encoding()));
	return rb_ary_new_from_args(
	    4, shard,
	    rb_enc_interned_str(target.keyspace, (long)target.keyspace_len,
	                        rb_utf8_encoding()),
	    rb_enc_interned_str(target.table, (long)target.table_len,
	                        rb_utf8_encoding()),
	    rb_obj_freeze(rules));
}

/*
 * Where vtgate serves the row of +keyspace+.+table+ whose primary-vindex
 * column holds +value+, after the SrvVSchema's routing rules, in Vitess's
 * order: +keyspace_routing_rules+ replace the keyspace, +routing_rules+
 * the keyspace and table (<tt>customer.corder</tt> ->
 * <tt>commerce.corder</tt> mid-MoveTables), and the
 * +shard_routing_rules+ of the shard found serve it from another keyspace
 * under the same shard name, with <tt>shard_routing: true</tt> only (as
 * vtgate applies them only when started with
 * <tt>--enable-partial-keyspace-migration</tt>).
 *
 * @param keyspace [String, Symbol]
 * @param table [String, Symbol]
 * @param value [Integer, String, nil, Array] as in #route
 * @param shard_routing [Boolean] apply the shard routing rules (default
 *   false, as vtgate)
 * @return [Array] <tt>[shard, keyspace, table, rules]</tt>: the shard as
 *   #route gives it (nil when the value maps to no keyspace ID), the
 *   keyspace and table vtgate sends the query to (frozen Strings), and
 *   the rules that applied, a frozen Array of their field names
 *   (<tt>"keyspace_routing_rules"</tt>, <tt>"routing_rules"</tt>,
 *   <tt>"shard_routing_rules"</tt>, in that order; empty: none)
 * @raise [ShardRouter::NoRouteError] as #route
 * @raise [TypeError, RangeError, ArgumentError] bad arguments, as #route
 */
/* The flags of shard_routing: (absent, false or nil: none). */
static unsigned target_flags(VALUE opts)
{
	ID kw;
	VALUE v = Qundef;

	if (NIL_P(opts))
		return 0;
	kw = rb_intern("shard_routing");
	rb_get_kwargs(opts, &kw, 0, 1, &v);
	return v != Qundef && RTEST(v) ? ROUTER_TARGET_SHARD_ROUTING : 0;
}

static VALUE router_route_target_m(int argc, VALUE *argv, VALUE self)
{
	VALUE keyspace, table, value, opts;

	rb_scan_args(argc, argv, "3:", &keyspace, &table, &value, &opts);
	return route_target(get_router(self), keyspace, table, value,
	                    target_flags(opts));
}

/*
 * Where vtgate serves the row whose primary-vindex column holds +value+,
 * as Router#route_target for this table's keyspace and name (resolved by
 * name, in the table in service).
 *
 * @param value [Integer, String, nil, Array] as in Router#route
 * @return [Array] <tt>[shard, keyspace, table, rules]</tt>, as
 *   Router#route_target
 * @raise [ShardRouter::NoRouteError] as Table#route
 */
static VALUE table_route_target_m(int argc, VALUE *argv, VALUE self)
{
	rb_table *t = GET_TABLE(self);
	VALUE value, opts;

	rb_scan_args(argc, argv, "1:", &value, &opts);
	return route_target(t->w, t->keyspace, t->name, value,
	                    target_flags(opts));
}

/* ---- lookup_query -------------------------------------------------------- */

#define NOTHING_IN_SERVICE 2

typedef struct query_arg {
	const char *k, *t, *col;
	size_t kl, tl, cl;
	const router_value *value;
	router_lookup_query q;
	char *blob; /* the copied strings, malloc */
	router_error err;
} query_arg;

static const char *copy_str(char **at, const char *s, size_t len)
{
	char *d = *at;

	memcpy(d, s, len);
	d[len] = '\0';
	*at += len + 1;
	return d;
}

/* Under the writer lock (router_inspect): copies the query's strings out
 * of the table with plain malloc and touches nothing of Ruby (a GC here
 * could free a Table, whose handle's free waits for this lock). */
static int query_fn(void *arg, const router_table *t)
{
	query_arg *a = arg;
	router_lookup_query *q = &a->q;
	size_t tl, need;
	char *at;
	int rc;

	if (t == NULL)
		return NOTHING_IN_SERVICE;
	rc = router_table_lookup_query(t, a->k, a->kl, a->t, a->tl, a->col,
	                               a->cl, a->value, q, &a->err);
	if (rc != ROUTER_OK)
		return rc;
	tl = strlen(q->vindex_type);
	need = tl + q->sql_len + q->table_len + q->from_len + q->to_len +
	       q->lock_suffix_len + 6;
	if ((a->blob = at = malloc(need)) == NULL)
		return ROUTER_ENOMEM;
	q->vindex_type = copy_str(&at, q->vindex_type, tl);
	q->sql = copy_str(&at, q->sql, q->sql_len);
	q->table = copy_str(&at, q->table, q->table_len);
	q->from = copy_str(&at, q->from, q->from_len);
	q->to = copy_str(&at, q->to, q->to_len);
	q->lock_suffix = copy_str(&at, q->lock_suffix, q->lock_suffix_len);
	return ROUTER_OK; /* q->bind's bytes, if any, are the caller's */
}

static VALUE query_hash_body(VALUE arg)
{
	const router_lookup_query *q = (const router_lookup_query *)arg;
	VALUE h = sr_lookup_query_hash(q);

	sr_hset(h, "no_query",
	        (q->flags & ROUTER_LOOKUP_NO_QUERY) ? Qtrue : Qfalse);
	return h;
}

/*
 * What vtgate would ask to route +value+ through the lookup vindex on
 * +columns+ of +keyspace+.+table+ (the table in service): the Hash
 * Router#route_column's block receives (+:vindex_type+, +:sql+, +:table+,
 * +:from+, +:to+, +:lock_suffix+, +:batched+, +:unique+, +:version+,
 * +:bind+) plus +:no_query+ (true: write_only, or ignore_nulls with nil;
 * nothing to ask, every shard holds the row).  Run +:sql+ with +::from+
 * bound to the tuple (+:bind+) and give the rows to #route_lookup_rows.
 *
 * @return [Hash]
 * @raise [ShardRouter::NotFoundError] no such keyspace, table or column
 *   vindex; nothing published
 * @raise [ShardRouter::InvalidError] not a lookup vindex; invalid UTF-8
 *   for lookup_unicodeloosemd5_hash
 */
static VALUE router_lookup_query_m(VALUE self, VALUE keyspace, VALUE table,
                                   VALUE columns, VALUE value)
{
	rb_router *w = get_router(self);
	router_value vals[ROUTER_MULTICOL_MAX];
	query_arg a;
	size_t nv;
	VALUE h;
	int rc, state = 0;

	memset(&a, 0, sizeof a);
	name_arg(keyspace, &a.k, &a.kl, "keyspace");
	name_arg(table, &a.t, &a.tl, "table");
	StringValue(columns);
	a.col = RSTRING_PTR(columns);
	a.cl = (size_t)RSTRING_LEN(columns);
	nv = to_values(value, vals);
	if (nv != 1)
		rb_raise(rb_eTypeError, "a lookup vindex takes one value");
	a.value = &vals[0];
	rc = router_inspect(w->r, query_fn, &a);
	RB_GC_GUARD(keyspace);
	RB_GC_GUARD(table);
	RB_GC_GUARD(columns);
	RB_GC_GUARD(value);
	if (rc == NOTHING_IN_SERVICE)
		sr_raise_msg(ROUTER_ENOTFOUND, "nothing is published");
	if (rc != ROUTER_OK) {
		free(a.blob);
		sr_raise(rc, &a.err, O_CALL, Qnil);
	}
	h = rb_protect(query_hash_body, (VALUE)&a.q, &state);
	free(a.blob);
	if (state != 0)
		rb_jump_tag(state);
	return h;
}

/* ---- route_lookup_rows --------------------------------------------------- */

typedef struct rows_ctx {
	const router_lookup_row *rows;
	size_t n;
} rows_ctx;

/* The resolver: adds the rows converted beforehand; no Ruby inside. */
static int rows_resolve(void *ctx, const router_lookup_query *q,
                        router_lookup_rows *rows)
{
	rows_ctx *c = ctx;
	int rc;

	(void)q;
	for (size_t i = 0; i < c->n; i++)
		if ((rc = router_lookup_rows_add(rows, &c->rows[i].from,
		                                 &c->rows[i].to)) != ROUTER_OK)
			return rc;
	return ROUTER_OK;
}

/*
 * The shards holding the rows of +keyspace+.+table+ whose column vindex
 * on +columns+ holds +value+, given the rows its lookup query returned:
 * the second half of #lookup_query (a computed vindex ignores +rows+).
 *
 * @param rows [Array<Array>] the [from, to] rows, as selected
 * @return [Array<String>] every shard, in the order the keyspace IDs came;
 *   empty for no keyspace ID
 * @raise [ShardRouter::InvalidError] a unique lookup answered by several
 *   rows (Vitess's message)
 * @raise [ShardRouter::NoRouteError] as #route_column
 */
static VALUE router_route_lookup_rows_m(VALUE self, VALUE keyspace,
                                        VALUE table, VALUE columns,
                                        VALUE value, VALUE rows)
{
	rb_router *w = get_router(self);
	router_value vals[ROUTER_MULTICOL_MAX];
	router_route_result small[16], *out = small;
	size_t cap = 16, n = 0, nv, ksl, tbl;
	router_lookup_row *rr;
	rows_ctx c;
	router_error err;
	const char *ks, *tb;
	VALUE list, tmp = 0;
	long nrows;
	int rc;

	name_arg(keyspace, &ks, &ksl, "keyspace");
	name_arg(table, &tb, &tbl, "table");
	StringValue(columns);
	nv = to_values(value, vals);
	rows = rb_check_array_type(rows);
	if (NIL_P(rows))
		rb_raise(rb_eTypeError, "rows must be an Array of [from, to] "
		                        "rows");
	nrows = RARRAY_LEN(rows);
	/* Freed by ALLOCV_END, or by the GC if a bad row raises. */
	rr = ALLOCV_N(router_lookup_row, tmp, nrows > 0 ? nrows : 1);
	for (long i = 0; i < nrows; i++) {
		VALUE row = rb_check_array_type(RARRAY_AREF(rows, i));

		if (NIL_P(row) || RARRAY_LEN(row) != 2)
			rb_raise(rb_eArgError, "a lookup row is [from, to]");
		to_value(RARRAY_AREF(row, 0), &rr[i].from, 1);
		to_value(RARRAY_AREF(row, 1), &rr[i].to, 1);
	}
	c.rows = rr;
	c.n = (size_t)nrows;
	for (;;) {
		rc = router_route_column(w->r, ks, ksl, tb, tbl,
		                         RSTRING_PTR(columns),
		                         (size_t)RSTRING_LEN(columns), vals, nv,
		                         rows_resolve, &c, out, cap, &n, &err);
		if (rc != ROUTER_ERANGE || out != small)
			break;
		out = ALLOC_N(router_route_result, n);
		cap = n;
	}
	ALLOCV_END(tmp);
	RB_GC_GUARD(keyspace);
	RB_GC_GUARD(table);
	RB_GC_GUARD(columns);
	RB_GC_GUARD(value);
	RB_GC_GUARD(rows);
	if (rc != ROUTER_OK && rc != ROUTER_NONE) {
		if (out != small)
			xfree(out);
		sr_raise(rc, &err, O_CALL, Qnil);
	}
	list = shard_list(w, out, rc == ROUTER_OK ? n : 0);
	if (out != small)
		xfree(out);
	return list;
}

void sr_init_halves(void)
{
	rb_define_method(sr_cRouter, "route_prefix", router_route_prefix_m, 3);
	rb_define_method(sr_cRouter, "route_target", router_route_target_m, -1);
	rb_define_method(sr_cTable, "route_target", table_route_target_m, -1);
	rb_define_method(sr_cRouter, "lookup_query", router_lookup_query_m, 4);
	rb_define_method(sr_cRouter, "route_lookup_rows",
	                 router_route_lookup_rows_m, 5);
}
