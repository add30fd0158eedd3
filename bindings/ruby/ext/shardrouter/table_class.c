/*
 * ShardRouter::Table: a router_handle on one keyspace.table (Router#table)
 * and its readers.  Its lookups are in route.c.
 */
#include "shardrouter.h"

VALUE sr_cTable;


static void table_mark(void *p)
{
	const rb_table *t = p;

	rb_gc_mark(t->router);
	rb_gc_mark(t->keyspace);
	rb_gc_mark(t->name);
}

static void table_dfree(void *p)
{
	rb_table *t = p;

	/* Before the router: router_free requires every handle gone. */
	router_handle_free(t->h);
	if (t->w != NULL)
		sr_router_unref(t->w);
	xfree(t);
}

static size_t table_memsize(const void *p)
{
	return sizeof(rb_table);
}

static const rb_data_type_t table_type = {
    "ShardRouter::Table",
    {table_mark, table_dfree, table_memsize, NULL, {NULL}},
    0,
    0,
    RUBY_TYPED_FREE_IMMEDIATELY};

/*
 * A handle on +keyspace+.+table+ whose lookups skip name resolution. It
 * stays valid across publishes and rollbacks: each lookup uses the table
 * in service at that moment (and raises NoRouteError while the table is
 * missing from it). The keyspace and table need not exist yet.
 *
 * @param keyspace [String, Symbol]
 * @param table [String, Symbol]
 * @return [ShardRouter::Table]
 */
static VALUE router_table_m(VALUE self, VALUE keyspace, VALUE table)
{
	rb_router *w = get_router(self);
	const char *ks, *tb;
	size_t ksl, tbl;
	router_error err;
	rb_table *t;
	VALUE obj;
	int rc;

	name_arg(keyspace, &ks, &ksl, "keyspace");
	name_arg(table, &tb, &tbl, "table");
	keyspace = rb_str_new_frozen(rb_obj_as_string(keyspace));
	table = rb_str_new_frozen(rb_obj_as_string(table));
	obj = TypedData_Make_Struct(sr_cTable, rb_table, &table_type, t);
	t->router = self;
	t->keyspace = keyspace;
	t->name = table;
	rc = router_handle_open(w->r, RSTRING_PTR(keyspace),
	                        (size_t)RSTRING_LEN(keyspace), RSTRING_PTR(table),
	                        (size_t)RSTRING_LEN(table), &t->h, &err);
	if (rc != ROUTER_OK)
		sr_raise(rc, &err, O_CALL, Qnil);
	__atomic_add_fetch(&w->refs, 1, __ATOMIC_ACQ_REL);
	t->w = w;
	return obj;
}

/*
 * @return [String] the keyspace (frozen)
 */
static VALUE table_keyspace_m(VALUE self)
{
	return GET_TABLE(self)->keyspace;
}

/*
 * @return [String] the table's name (frozen)
 */
static VALUE table_name_m(VALUE self)
{
	return GET_TABLE(self)->name;
}

/*
 * @return [ShardRouter::Router] the router this handle routes through
 */
static VALUE table_router_m(VALUE self)
{
	return GET_TABLE(self)->router;
}

void sr_init_table_class(void)
{
	VALUE t = sr_cTable = rb_define_class_under(sr_mShardRouter, "Table",
	                                            rb_cObject);

	rb_undef_alloc_func(t);
	rb_undef_method(CLASS_OF(t), "new");
	rb_define_method(sr_cRouter, "table", router_table_m, 2);
	rb_define_method(t, "keyspace", table_keyspace_m, 0);
	rb_define_method(t, "name", table_name_m, 0);
	rb_define_method(t, "router", table_router_m, 0);
}
