/* Router.route_column: any column vindex by its columns, lookups through
 * a Python resolver (librouter calls it outside any read section). */
#include "binding.h"

SR_DOC(sr_Router_route_column_doc,
"route_column($self, keyspace, table, columns, value, /, *, resolver=None)\n"
"--\n\n"
"The shard names (a list, in the order the keyspace IDs came; empty when\n"
"the value maps to none) of the rows of keyspace.table whose column\n"
"vindex on columns (\"email\", \"region, id\"; \"\" for the primary one)\n"
"holds value.  A computed vindex answers in process.  A lookup vindex\n"
"needs the rows of its lookup table: resolver(query) is called with a dict\n"
"(vindex_type, sql, table, from, to, lock_suffix, batched, unique,\n"
"version, bind: the value to bind in the tuple ::from) and returns the\n"
"rows as (from, to) pairs, e.g. cursor.execute(sql with ::from replaced,\n"
"(bind,)); cursor.fetchall().  Without a resolver a lookup raises\n"
"NoRouteError naming the query.  The resolver runs with the GIL held but\n"
"outside librouter's read sections: blocking in it delays no publish.\n"
"A unique lookup answered by several rows raises InvalidError; the\n"
"resolver's own exceptions propagate.");

typedef struct resolve_ctx {
	modstate *st;
	PyObject *fn;
	int raised; /* a Python exception is pending */
} resolve_ctx;

static PyObject *bind_to_py(const router_value *v)
{
	switch (v->type) {
	case ROUTER_SQL_NULL:
		Py_RETURN_NONE;
	case ROUTER_SQL_INT64:
		return PyLong_FromLongLong(v->i64);
	case ROUTER_SQL_UINT64:
		return PyLong_FromUnsignedLongLong(v->u64);
	case ROUTER_SQL_VARCHAR:
		return PyUnicode_DecodeUTF8(v->ptr, (Py_ssize_t)v->len,
		                            "surrogateescape");
	default:
		return PyBytes_FromStringAndSize(v->ptr, (Py_ssize_t)v->len);
	}
}

PyObject *sr_lookup_query_dict(const router_lookup_query *q)
{
	PyObject *bind = bind_to_py(&q->bind), *d;

	if (bind == NULL)
		return NULL;
	d = Py_BuildValue(
	    "{s:s, s:s#, s:s#, s:s#, s:s#, s:s#, s:O, s:O, s:K, s:N}",
	    "vindex_type", q->vindex_type, "sql", q->sql,
	    (Py_ssize_t)q->sql_len, "table", q->table, (Py_ssize_t)q->table_len,
	    "from", q->from, (Py_ssize_t)q->from_len, "to", q->to,
	    (Py_ssize_t)q->to_len, "lock_suffix", q->lock_suffix,
	    (Py_ssize_t)q->lock_suffix_len, "batched",
	    (q->flags & ROUTER_LOOKUP_BATCHED) ? Py_True : Py_False, "unique",
	    (q->flags & ROUTER_LOOKUP_UNIQUE) ? Py_True : Py_False, "version",
	    (unsigned long long)q->version, "bind", bind);
	return d;
}

static int add_row(resolve_ctx *c, router_lookup_rows *rows, PyObject *row)
{
	PyObject *seq = PySequence_Fast(row, "a lookup row is a (from, to) "
	                                     "pair");
	valbuf from, to;
	int rc;

	if (seq == NULL)
		return -1;
	if (PySequence_Fast_GET_SIZE(seq) != 2) {
		PyErr_SetString(PyExc_ValueError,
		                "a lookup row is a (from, to) pair");
		Py_DECREF(seq);
		return -1;
	}
	if (sr_values_from_py(c->st, PySequence_Fast_GET_ITEM(seq, 0), &from) <
	    0) {
		Py_DECREF(seq);
		return -1;
	}
	if (sr_values_from_py(c->st, PySequence_Fast_GET_ITEM(seq, 1), &to) <
	    0) {
		sr_valbuf_release(&from);
		Py_DECREF(seq);
		return -1;
	}
	if (from.n != 1 || to.n != 1) {
		PyErr_SetString(PyExc_TypeError,
		                "a lookup row's from and to are single values");
		rc = -1;
	} else if (router_lookup_rows_add(rows, &from.v[0], &to.v[0]) !=
	           ROUTER_OK) {
		PyErr_NoMemory();
		rc = -1;
	} else {
		rc = 0;
	}
	sr_valbuf_release(&from);
	sr_valbuf_release(&to);
	Py_DECREF(seq);
	return rc;
}

/* The router_lookup_resolver: runs on the calling thread, which holds the
 * GIL (route_column never releases it). */
static int py_resolve(void *ctx, const router_lookup_query *q,
                      router_lookup_rows *rows)
{
	resolve_ctx *c = ctx;
	PyObject *d = sr_lookup_query_dict(q), *res = NULL, *it = NULL, *row;

	if (d == NULL)
		goto fail;
	res = PyObject_CallOneArg(c->fn, d);
	Py_DECREF(d);
	if (res == NULL || (it = PyObject_GetIter(res)) == NULL)
		goto fail;
	while ((row = PyIter_Next(it)) != NULL) {
		int bad = add_row(c, rows, row);

		Py_DECREF(row);
		if (bad)
			goto fail;
	}
	if (PyErr_Occurred())
		goto fail;
	Py_DECREF(it);
	Py_DECREF(res);
	return ROUTER_OK;
fail:
	Py_XDECREF(it);
	Py_XDECREF(res);
	c->raised = 1;
	return ROUTER_ECALLBACK;
}

PyObject *sr_Router_route_column(RouterObject *self, PyObject *const *args,
                                 Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const kw[] = {"resolver", NULL};
	PyObject *kwv[1] = {NULL}, *list;
	router_route_result small[16], *out = small;
	size_t cap = 16, n = 0;
	resolve_ctx c = {self->st, NULL, 0};
	Py_ssize_t kl, tl, cl;
	const char *k, *t, *col;
	router_error err;
	valbuf vb;
	int rc;

	if (nargs != 4)
		return sr_wrong_nargs("route_column", 4, nargs);
	if (sr_kwonly("route_column", kwnames, args + nargs, kw, kwv) < 0)
		return NULL;
	if (kwv[0] != NULL && kwv[0] != Py_None) {
		if (!PyCallable_Check(kwv[0])) {
			PyErr_SetString(PyExc_TypeError,
			                "resolver must be callable");
			return NULL;
		}
		c.fn = kwv[0];
	}
	if ((k = sr_name_utf8(args[0], "keyspace", &kl)) == NULL ||
	    (t = sr_name_utf8(args[1], "table", &tl)) == NULL)
		return NULL;
	if (!PyUnicode_Check(args[2])) {
		PyErr_SetString(PyExc_TypeError, "columns must be a str");
		return NULL;
	}
	if ((col = PyUnicode_AsUTF8AndSize(args[2], &cl)) == NULL)
		return NULL;
	if (sr_values_from_py(self->st, args[3], &vb) < 0)
		return NULL;
	for (;;) {
		rc = router_route_column(self->r, k, (size_t)kl, t, (size_t)tl,
		                         col, (size_t)cl, vb.v, vb.n,
		                         c.fn != NULL ? py_resolve : NULL, &c,
		                         out, cap, &n, &err);
		if (rc != ROUTER_ERANGE || c.raised || out != small)
			break;
		/* More shards than the stack holds: again with room for all
		 * (a lookup runs its resolver again). */
		if ((out = PyMem_Malloc(n * sizeof *out)) == NULL) {
			sr_valbuf_release(&vb);
			return PyErr_NoMemory();
		}
		cap = n;
	}
	sr_valbuf_release(&vb);
	if (c.raised) {
		list = NULL; /* the resolver's exception */
	} else if (rc != ROUTER_OK && rc != ROUTER_NONE) {
		list = sr_raise_route_error(self->st, rc, &err, args[0], args[1]);
	} else if ((list = PyList_New(rc == ROUTER_OK ? (Py_ssize_t)n : 0)) !=
	           NULL) {
		for (size_t i = 0; rc == ROUTER_OK && i < n; i++) {
			PyObject *s = PyUnicode_FromStringAndSize(
			    out[i].shard, (Py_ssize_t)out[i].shard_len);

			if (s == NULL) {
				Py_CLEAR(list);
				break;
			}
			PyList_SET_ITEM(list, (Py_ssize_t)i, s);
		}
	}
	if (out != small)
		PyMem_Free(out);
	return list;
}
