/* The Table type: a pre-resolved keyspace.table of a Router. */
#include "binding.h"

PyDoc_STRVAR(Table_doc,
"A pre-resolved keyspace.table of a Router, from Router.table().\n\n"
"Lookups through it skip name resolution; it stays valid across\n"
"publishes and rollbacks: each lookup uses the table in service at that\n"
"moment and raises NoRouteError while the table is absent from it.\n"
"Safe to share between threads.");

PyDoc_STRVAR(Table_route_doc,
"route($self, value, /)\n--\n\n"
"The shard name (a shared str) of the row whose primary-vindex column\n"
"holds value, or None when the value maps to no keyspace ID (e.g. NULL\n"
"through hash).\n\n"
"value: int (int64, or uint64 above 2**63-1), str (varchar), bytes\n"
"(varbinary), None (NULL), shardrouter.Value, or a tuple of these for a\n"
"multicolumn vindex.  Raises NoRouteError when the table cannot be\n"
"routed (absent, lookup vindex, reference table, disabled),\n"
"TypeError / OverflowError for values Vitess cannot type.");

/* Everything but Table_route's common case. */
static COLD PyObject *Table_route_slow(TableObject *self, PyObject *value)
{
	return handle_route(self->router, self->h, value, self->keyspace,
	                    self->table);
}

static PyObject *Table_route(TableObject *self, PyObject *value)
{
	PyObject *s;

	if (LIKELY(handle_route_hit(self->router, self->h, value, &s)))
		return s;
	return Table_route_slow(self, value);
}

PyDoc_STRVAR(Table_lookup_doc,
"lookup($self, value, /)\n--\n\n"
"Like route(), but returns a Route (shard, shard_id, shard_index,\n"
"version, keyspace_id, keyspace_id_len), or None for no keyspace ID.");

static PyObject *Table_lookup(TableObject *self, PyObject *value)
{
	router_route_result res;
	router_error err;
	valbuf vb;
	int rc;

	if (sr_values_from_py(self->router->st, value, &vb) < 0)
		return NULL;
	rc = router_handle_route(self->h, vb.v, vb.n, &res, &err);
	sr_valbuf_release(&vb);
	return sr_lookup_result(self->router, rc, &res, &err, self->keyspace,
				self->table);
}

PyDoc_STRVAR(Table_route_target_doc,
"route_target($self, value, /, *, shard_routing=False)\n--\n\n"
"Where vtgate serves the row whose primary-vindex column holds value:\n"
"(shard, keyspace, table, rules), as Router.route_target for this\n"
"table's keyspace and name (resolved by name, in the table in service).");

static PyObject *Table_route_target(TableObject *self, PyObject *const *args,
                                    Py_ssize_t nargs, PyObject *kwnames)
{
	unsigned flags;

	if (nargs != 1)
		return sr_wrong_nargs("route_target", 1, nargs);
	if (sr_target_flags("route_target", args + nargs, kwnames, &flags) < 0)
		return NULL;
	return sr_route_target(self->router, self->keyspace, self->table,
	                       args[0], flags);
}

PyDoc_STRVAR(Table_route_many_doc,
"route_many($self, values, /, *, ids=False, out=None, nogil=None)\n--\n\n"
"Route many values at once; see Router.route_many.");

static PyObject *Table_route_many(TableObject *self, PyObject *const *args,
                                  Py_ssize_t nargs, PyObject *kwnames)
{
	many_opts o;

	if (nargs != 1)
		return sr_wrong_nargs("route_many", 1, nargs);
	if (sr_many_parse("route_many", kwnames, args + nargs, &o) < 0)
		return NULL;
	return sr_route_many_impl(self->router, self->h, args[0], &o,
				  self->keyspace, self->table);
}

PyDoc_STRVAR(Table_noop_doc,
"_noop($self, value, /)\n--\n\n"
"Does nothing and returns None: the floor that bench.py compares\n"
"route(value) with (same object, same calling convention).");

static PyObject *Table_noop(TableObject *self, PyObject *value)
{
	(void)self;
	(void)value;
	Py_RETURN_NONE;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

PyDoc_STRVAR(Table_bench_c_doc,
"_bench_c($self, keys, repeats, single=False, chained=False, /)\n--\n\n"
"Benchmark helper: ns per key of routing the int64 buffer keys in C\n"
"only, repeats times (router_handle_route_batch, or with single=True one\n"
"router_handle_route_int64 call per key; chained=True makes each key\n"
"depend on the previous result, so that lookups do not overlap, as\n"
"between interpreter calls).  No Python object is touched inside the\n"
"timed loop.");

static PyObject *Table_bench_c(TableObject *self, PyObject *args)
{
	Py_buffer view;
	Py_ssize_t repeats;
	int single = 0, chained = 0;
	uint32_t *ids;
	size_t n, r, i;
	double t0, t1;
	volatile uint32_t sink = 0;
	int rc = ROUTER_OK;

	if (!PyArg_ParseTuple(args, "y*n|pp:_bench_c", &view, &repeats, &single,
	                      &chained))
		return NULL;
	n = (size_t)view.len / 8u;
	if (n == 0 || repeats < 1) {
		PyBuffer_Release(&view);
		PyErr_SetString(PyExc_ValueError, "need keys and repeats >= 1");
		return NULL;
	}
	ids = PyMem_RawMalloc(n * sizeof *ids);
	if (ids == NULL) {
		PyBuffer_Release(&view);
		return PyErr_NoMemory();
	}
	t0 = now_ns();
	for (r = 0; r < (size_t)repeats && rc == ROUTER_OK; r++) {
		if (single) {
			const uint64_t *k = view.buf;
			const int chain = chained; /* not reloaded per key */
			uint64_t dep = 0;

			for (i = 0; !chain && i < n; i++) {
				router_route_result res;

				rc = router_handle_route_int64(self->h,
				                               (int64_t)k[i],
				                               &res);
				if (rc < 0)
					break;
				sink += res.shard_id;
			}
			for (i = 0; chain && i < n; i++) {
				router_route_result res;

				rc = router_handle_route_int64(
				    self->h, (int64_t)(k[i] + (dep >> 63)), &res);
				if (rc < 0)
					break;
				sink += res.shard_id;
				/* 0, but only known at run time: the next key
				 * waits for this result. */
				dep = res.shard_index;
				__asm__("" : "+r"(dep));
			}
			if (rc > 0)
				rc = ROUTER_OK;
		} else {
			rc = router_handle_route_batch(self->h, view.buf, n, 0,
			                               ids, NULL, NULL);
			sink += ids[0];
		}
	}
	t1 = now_ns();
	(void)sink;
	PyMem_RawFree(ids);
	PyBuffer_Release(&view);
	if (rc != ROUTER_OK)
		return sr_raise_route_error(self->router->st, rc, NULL,
					    self->keyspace, self->table);
	return PyFloat_FromDouble((t1 - t0) / ((double)n * (double)repeats));
}

static PyObject *Table_get_keyspace(TableObject *self, void *c)
{
	(void)c;
	return Py_NewRef(self->keyspace);
}

static PyObject *Table_get_name(TableObject *self, void *c)
{
	(void)c;
	return Py_NewRef(self->table);
}

static PyObject *Table_get_router(TableObject *self, void *c)
{
	(void)c;
	return Py_NewRef((PyObject *)self->router);
}

static PyObject *Table_repr(TableObject *self)
{
	return PyUnicode_FromFormat("<shardrouter.Table %U.%U>",
	                            self->keyspace, self->table);
}

static int Table_traverse(TableObject *self, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(self->router);
	return 0;
}

/* No tp_clear: a Table refers to its Router and two strs only, so every
 * reference cycle through a Table also runs through Router.on_event, which
 * sr_Router_clear breaks.  Keeping router and handle until dealloc means a
 * Table is never seen half-cleared. */
static void Table_dealloc(TableObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);

	PyObject_GC_UnTrack(self);
	router_handle_free(self->h); /* before the router can go */
	self->h = NULL;
	Py_CLEAR(self->router);
	Py_CLEAR(self->keyspace);
	Py_CLEAR(self->table);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static PyMethodDef Table_methods[] = {
    {"route", (PyCFunction)Table_route, METH_O, Table_route_doc},
    {"lookup", (PyCFunction)Table_lookup, METH_O, Table_lookup_doc},
    {"route_target", (PyCFunction)(void (*)(void))Table_route_target,
     METH_FASTCALL | METH_KEYWORDS, Table_route_target_doc},
    {"route_many", (PyCFunction)(void (*)(void))Table_route_many,
     METH_FASTCALL | METH_KEYWORDS, Table_route_many_doc},
    {"_noop", (PyCFunction)Table_noop, METH_O, Table_noop_doc},
    {"_bench_c", (PyCFunction)Table_bench_c, METH_VARARGS,
     Table_bench_c_doc},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Table_getset[] = {
    {"keyspace", (getter)Table_get_keyspace, NULL,
     PyDoc_STR("The keyspace name."), NULL},
    {"name", (getter)Table_get_name, NULL, PyDoc_STR("The table name."),
     NULL},
    {"router", (getter)Table_get_router, NULL,
     PyDoc_STR("The Router this table routes through."), NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot Table_slots[] = {
    {Py_tp_doc, (void *)Table_doc},
    {Py_tp_dealloc, Table_dealloc},
    {Py_tp_traverse, Table_traverse},
    {Py_tp_repr, Table_repr},
    {Py_tp_methods, Table_methods},
    {Py_tp_getset, Table_getset},
    {0, NULL}};

static PyType_Spec Table_spec = {
    "shardrouter.Table", sizeof(TableObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
        Py_TPFLAGS_DISALLOW_INSTANTIATION,
    Table_slots};

int sr_table_add(PyObject *m, modstate *st)
{
	st->Table_Type = sr_new_type(m, &Table_spec);
	return st->Table_Type != NULL ? 0 : -1;
}
