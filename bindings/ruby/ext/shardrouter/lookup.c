/*
 * Router#route_column: any column vindex by its columns, lookups through a
 * block (librouter calls it outside any read section).
 */
#include "shardrouter.h"

typedef struct resolve_arg {
	const router_lookup_query *q;
	router_lookup_rows *rows;
} resolve_arg;

typedef struct resolve_ctx {
	int state; /* rb_protect's tag of a pending exception, or 0 */
} resolve_ctx;

static VALUE bind_to_ruby(const router_value *v)
{
	switch (v->type) {
	case ROUTER_SQL_NULL:
		return Qnil;
	case ROUTER_SQL_INT64:
		return LL2NUM(v->i64);
	case ROUTER_SQL_UINT64:
		return ULL2NUM(v->u64);
	case ROUTER_SQL_VARCHAR:
		return rb_utf8_str_new(v->ptr, (long)v->len);
	default:
		return rb_str_new(v->ptr, (long)v->len);
	}
}

VALUE sr_lookup_query_hash(const router_lookup_query *q)
{
	VALUE h = rb_hash_new();

	sr_hset(h, "vindex_type", rb_utf8_str_new_cstr(q->vindex_type));
	sr_hset(h, "sql", rb_utf8_str_new(q->sql, (long)q->sql_len));
	sr_hset(h, "table", rb_utf8_str_new(q->table, (long)q->table_len));
	sr_hset(h, "from", rb_utf8_str_new(q->from, (long)q->from_len));
	sr_hset(h, "to", rb_utf8_str_new(q->to, (long)q->to_len));
	sr_hset(h, "lock_suffix",
	        rb_utf8_str_new(q->lock_suffix, (long)q->lock_suffix_len));
	sr_hset(h, "batched", (q->flags & ROUTER_LOOKUP_BATCHED) ? Qtrue : Qfalse);
	sr_hset(h, "unique", (q->flags & ROUTER_LOOKUP_UNIQUE) ? Qtrue : Qfalse);
	sr_hset(h, "version", ULL2NUM(q->version));
	sr_hset(h, "bind", bind_to_ruby(&q->bind));
	return h;
}

/* Yield the query, add the rows the block returns; may raise. */
static VALUE resolve_body(VALUE argp)
{
	resolve_arg *a = (resolve_arg *)argp;
	VALUE rows = rb_yield(sr_lookup_query_hash(a->q));
	long n;

	rows = rb_check_array_type(rows);
	if (NIL_P(rows))
		rb_raise(rb_eTypeError,
		         "the route_column block returns an Array of "
		         "[from, to] rows");
	n = RARRAY_LEN(rows);
	for (long i = 0; i < n; i++) {
		VALUE row = rb_check_array_type(RARRAY_AREF(rows, i));
		router_value from, to;

		if (NIL_P(row) || RARRAY_LEN(row) != 2)
			rb_raise(rb_eArgError, "a lookup row is [from, to]");
		to_value(RARRAY_AREF(row, 0), &from, 1);
		to_value(RARRAY_AREF(row, 1), &to, 1);
		if (router_lookup_rows_add(a->rows, &from, &to) != ROUTER_OK)
			rb_raise(rb_eNoMemError, "out of memory adding a row");
		RB_GC_GUARD(row);
	}
	RB_GC_GUARD(rows);
	return Qnil;
}

/* The router_lookup_resolver: the block runs under rb_protect, so an
 * exception never unwinds through librouter (which frees its copies after
 * the resolver returns). */
static int rb_resolve(void *ctx, const router_lookup_query *q,
                      router_lookup_rows *rows)
{
	resolve_ctx *c = ctx;
	resolve_arg a = {q, rows};

	rb_protect(resolve_body, (VALUE)&a, &c->state);
	return c->state != 0 ? ROUTER_ECALLBACK : ROUTER_OK;
}

/*
 * The shards holding the rows of +keyspace+.+table+ whose column vindex
 * on +columns+ holds +value+.
 *
 * A computed vindex (a secondary +xxhash+ on +name+) answers in process.
 * A lookup vindex needs the rows of its lookup table: the block receives
 * the query as a Hash (+:vindex_type+, +:sql+ with +::from+, +:table+,
 * +:from+, +:to+, +:lock_suffix+, +:batched+, +:unique+, +:version+,
 * +:bind+: the value to bind) and returns the rows as [from, to] pairs.
 * librouter calls it outside its read sections: a block that waits on a
 * database holds back no publish.
 *
 * @param columns [String] the vindex's column(s), "email" or "region, id";
 *   "" for the primary vindex
 * @return [Array<String>] every shard, in the order the keyspace IDs came
 *   (a non-unique lookup may name several); empty for no keyspace ID
 * @raise [ShardRouter::NoRouteError] a lookup without a block (the message
 *   names the query), no such column vindex, table or keyspace
 * @raise [ShardRouter::InvalidError] a unique lookup answered by several
 *   rows
 */
static VALUE router_route_column_m(VALUE self, VALUE keyspace, VALUE table,
                                   VALUE columns, VALUE value)
{
	rb_router *w = get_router(self);
	router_value vals[ROUTER_MULTICOL_MAX];
	router_route_result small[16], *out = small;
	size_t cap = 16, n = 0, nv;
	resolve_ctx c = {0};
	router_error err;
	const char *ks, *tb, *col;
	size_t ksl, tbl;
	VALUE list;
	int rc;

	name_arg(keyspace, &ks, &ksl, "keyspace");
	name_arg(table, &tb, &tbl, "table");
	StringValue(columns);
	col = RSTRING_PTR(columns);
	nv = to_values(value, vals);
	for (;;) {
		rc = router_route_column(w->r, ks, ksl, tb, tbl, col,
		                         (size_t)RSTRING_LEN(columns), vals, nv,
		                         rb_block_given_p() ? rb_resolve : NULL,
		                         &c, out, cap, &n, &err);
		if (rc != ROUTER_ERANGE || c.state != 0 || out != small)
			break;
		/* More shards than the stack holds (a lookup runs its block
		 * again). */
		out = ALLOC_N(router_route_result, n);
		cap = n;
	}
	RB_GC_GUARD(keyspace);
	RB_GC_GUARD(table);
	RB_GC_GUARD(columns);
	RB_GC_GUARD(value);
	if (c.state != 0) {
		if (out != small)
			xfree(out);
		rb_jump_tag(c.state);
	}
	if (rc != ROUTER_OK && rc != ROUTER_NONE) {
		if (out != small)
			xfree(out);
		sr_raise(rc, &err, O_CALL, Qnil);
	}
	list = rb_ary_new_capa(rc == ROUTER_OK ? (long)n : 0);
	for (size_t i = 0; rc == ROUTER_OK && i < n; i++)
		rb_ary_push(list, shard_name(w, out[i].shard_id));
	if (out != small)
		xfree(out);
	return list;
}

void sr_init_lookup(void)
{
	rb_define_method(sr_cRouter, "route_column", router_route_column_m, 4);
}
