/* The lookup halves and the other ways to route, without a resolver:
 * Router.lookup_query (what vtgate would ask), Router.route_lookup_rows
 * (how the rows the application got answer), Router.route_prefix (the
 * shards a LIKE 'prefix%' on a cfc column reaches) and
 * Router.route_target / Table.route_target (where vtgate serves the row,
 * after the SrvVSchema's routing rules). */
#include "binding.h"

/* Shard names of out[0..n) as a new list. */
static PyObject *shard_list(const router_route_result *out, size_t n)
{
	PyObject *list = PyList_New((Py_ssize_t)n);

	for (size_t i = 0; list != NULL && i < n; i++) {
		PyObject *s = PyUnicode_FromStringAndSize(
		    out[i].shard, (Py_ssize_t)out[i].shard_len);

		if (s == NULL) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, s);
	}
	return list;
}

/* ---- route_prefix -------------------------------------------------------- */

SR_DOC(sr_Router_route_prefix_doc,
"route_prefix($self, keyspace, table, like, /)\n"
"--\n\n"
"The shard names (a list, in partition order) a `LIKE 'prefix%'` on the\n"
"primary column of keyspace.table can reach, when its primary vindex is\n"
"cfc (Vitess's prefix vindex).  like is the LIKE literal (str or bytes):\n"
"its bytes before the first unescaped % or _ map to a key range, and\n"
"every shard that range meets is returned (all of them for an empty\n"
"prefix).  Raises NoRouteError when the table cannot be routed (absent,\n"
"reference table, disabled, or a primary vindex other than cfc:\n"
"EUNSUPPORTED).");

PyObject *sr_Router_route_prefix(RouterObject *self, PyObject *const *args,
                                 Py_ssize_t nargs)
{
	router_route_result small[16], *out = small;
	size_t cap = 16, n = 0;
	Py_ssize_t kl, tl, ll;
	const char *k, *t, *like;
	router_error err;
	PyObject *list;
	int rc;

	if (nargs != 3)
		return sr_wrong_nargs("route_prefix", 3, nargs);
	if ((k = sr_name_utf8(args[0], "keyspace", &kl)) == NULL ||
	    (t = sr_name_utf8(args[1], "table", &tl)) == NULL)
		return NULL;
	if (PyUnicode_Check(args[2])) {
		if ((like = PyUnicode_AsUTF8AndSize(args[2], &ll)) == NULL)
			return NULL;
	} else if (PyBytes_Check(args[2])) {
		like = PyBytes_AS_STRING(args[2]);
		ll = PyBytes_GET_SIZE(args[2]);
	} else {
		PyErr_SetString(PyExc_TypeError, "like must be a str or bytes");
		return NULL;
	}
	for (;;) {
		rc = router_route_prefix(self->r, k, (size_t)kl, t, (size_t)tl,
		                         like, (size_t)ll, out, cap, &n, &err);
		if (rc != ROUTER_ERANGE || out != small)
			break;
		/* More shards than the stack holds: again with room for all
		 * (the table in service may have changed: the loop stops
		 * after the second try). */
		if ((out = PyMem_Malloc(n * sizeof *out)) == NULL)
			return PyErr_NoMemory();
		cap = n;
	}
	if (rc != ROUTER_OK)
		list = sr_raise_route_error(self->st, rc, &err, args[0], args[1]);
	else
		list = shard_list(out, n);
	if (out != small)
		PyMem_Free(out);
	return list;
}

/* ---- route_target -------------------------------------------------------- */

SR_DOC(sr_Router_route_target_doc,
"route_target($self, keyspace, table, value, /, *, shard_routing=False)\n"
"--\n\n"
"Where vtgate serves the row of keyspace.table whose primary-vindex\n"
"column is value, after the SrvVSchema's routing rules: a tuple\n"
"(shard, keyspace, table, rules).  shard is route()'s answer (None when\n"
"the value maps to no keyspace ID); keyspace and table are the ones\n"
"vtgate sends the query to, after keyspace_routing_rules, routing_rules\n"
"(e.g. customer.corder -> commerce.corder mid-MoveTables) and, with\n"
"shard_routing=True (vtgate's --enable-partial-keyspace-migration; off\n"
"by default, as in vtgate), the shard_routing_rules of that shard (the\n"
"shard name stays); rules names\n"
"the rules that applied, in that order, as a tuple of those field\n"
"names (empty: none).  value as route().  Raises as route().  Lock-free;\n"
"the GIL is held.");

/* The names of the rules in bits (router_target_rule_name, lowest bit
 * first: Vitess's order), as a new tuple of interned strs. */
static PyObject *target_rules_tuple(unsigned bits)
{
	Py_ssize_t n = 0, i = 0;
	PyObject *t;
	unsigned bit;

	for (bit = 1; router_target_rule_name(bit) != NULL; bit <<= 1)
		n += (bits & bit) != 0;
	if ((t = PyTuple_New(n)) == NULL)
		return NULL;
	for (bit = 1; router_target_rule_name(bit) != NULL; bit <<= 1) {
		PyObject *s;

		if (!(bits & bit))
			continue;
		if ((s = PyUnicode_InternFromString(
		         router_target_rule_name(bit))) == NULL) {
			Py_DECREF(t);
			return NULL;
		}
		PyTuple_SET_ITEM(t, i++, s);
	}
	return t;
}

int sr_target_flags(const char *fn, PyObject *const *kwvalues,
                    PyObject *kwnames, unsigned *flags)
{
	Py_ssize_t i, n = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;

	*flags = 0;
	for (i = 0; i < n; i++) {
		PyObject *k = PyTuple_GET_ITEM(kwnames, i);
		int on;

		if (!PyUnicode_Check(k) ||
		    PyUnicode_CompareWithASCIIString(k, "shard_routing") != 0) {
			PyErr_Format(PyExc_TypeError,
			             "%s() got an unexpected keyword argument %R",
			             fn, k);
			return -1;
		}
		if ((on = PyObject_IsTrue(kwvalues[i])) < 0)
			return -1;
		if (on)
			*flags |= ROUTER_TARGET_SHARD_ROUTING;
	}
	return 0;
}

PyObject *sr_route_target(RouterObject *ro, PyObject *ks, PyObject *tb,
                          PyObject *value, unsigned flags)
{
	router_route_result res;
	router_target target;
	router_error err;
	Py_ssize_t kl, tl;
	const char *k, *t;
	PyObject *shard;
	valbuf vb;
	int rc;

	if ((k = sr_name_utf8(ks, "keyspace", &kl)) == NULL ||
	    (t = sr_name_utf8(tb, "table", &tl)) == NULL)
		return NULL;
	if (sr_values_from_py(ro->st, value, &vb) < 0)
		return NULL;
	rc = router_route_target(ro->r, k, (size_t)kl, t, (size_t)tl, vb.v,
	                         vb.n, flags, &res, &target, &err);
	sr_valbuf_release(&vb);
	if (rc == ROUTER_OK)
		shard = shard_str(ro, res.shard_id);
	else if (rc == ROUTER_NONE)
		shard = Py_NewRef(Py_None);
	else
		return sr_raise_route_error(ro->st, rc, &err, ks, tb);
	if (shard == NULL)
		return NULL;
	return Py_BuildValue("(Ns#s#N)", shard, target.keyspace,
	                     (Py_ssize_t)target.keyspace_len, target.table,
	                     (Py_ssize_t)target.table_len,
	                     target_rules_tuple(target.rules));
}

PyObject *sr_Router_route_target(RouterObject *self, PyObject *const *args,
                                 Py_ssize_t nargs, PyObject *kwnames)
{
	unsigned flags;

	if (nargs != 3)
		return sr_wrong_nargs("route_target", 3, nargs);
	if (sr_target_flags("route_target", args + nargs, kwnames, &flags) < 0)
		return NULL;
	return sr_route_target(self, args[0], args[1], args[2], flags);
}

/* ---- lookup_query -------------------------------------------------------- */

SR_DOC(sr_Router_lookup_query_doc,
"lookup_query($self, keyspace, table, columns, value, /)\n"
"--\n\n"
"What vtgate would ask to route value through the lookup vindex on\n"
"columns of keyspace.table (the table in service), as a dict: the same\n"
"keys as route_column's resolver receives (vindex_type, sql, table,\n"
"from, to, lock_suffix, batched, unique, version, bind) plus no_query\n"
"(True: write_only, or ignore_nulls with NULL; there is nothing to ask\n"
"and every shard holds the row).  Run sql with ::from bound to the\n"
"tuple (bind,), then pass the rows to route_lookup_rows().  Raises\n"
"NotFoundError (no such keyspace, table or column vindex, nothing\n"
"published), NoRouteError (disabled table), InvalidError (not a lookup\n"
"vindex; invalid UTF-8 for lookup_unicodeloosemd5_hash).");

/* The query of one table, copied out of it under router_inspect. */
typedef struct query_arg {
	const char *k, *t, *col;
	size_t kl, tl, cl;
	const router_value *value;
	router_lookup_query q;
	char *blob; /* the copied strings, PyMem_Raw */
	router_error err;
	int none;   /* nothing published */
} query_arg;

/* Copy s (len bytes and a NUL) to *at and advance it. */
static const char *copy_str(char **at, const char *s, size_t len)
{
	char *d = *at;

	memcpy(d, s, len);
	d[len] = '\0';
	*at += len + 1;
	return d;
}

/* Under the writer lock (router_inspect), without the GIL: the table
 * cannot be freed while its strings are copied. */
static int query_fn(void *arg, const router_table *t)
{
	query_arg *a = arg;
	router_lookup_query *q = &a->q;
	size_t tl, need;
	char *at;
	int rc;

	if (t == NULL) {
		a->none = 1;
		return ROUTER_ENOTFOUND;
	}
	rc = router_table_lookup_query(t, a->k, a->kl, a->t, a->tl, a->col,
	                               a->cl, a->value, q, &a->err);
	if (rc != ROUTER_OK)
		return rc;
	tl = strlen(q->vindex_type);
	need = tl + q->sql_len + q->table_len + q->from_len + q->to_len +
	       q->lock_suffix_len + 6;
	if ((a->blob = at = PyMem_RawMalloc(need)) == NULL)
		return ROUTER_ENOMEM;
	q->vindex_type = copy_str(&at, q->vindex_type, tl);
	q->sql = copy_str(&at, q->sql, q->sql_len);
	q->table = copy_str(&at, q->table, q->table_len);
	q->from = copy_str(&at, q->from, q->from_len);
	q->to = copy_str(&at, q->to, q->to_len);
	q->lock_suffix = copy_str(&at, q->lock_suffix, q->lock_suffix_len);
	return ROUTER_OK; /* q->bind's bytes, if any, are the caller's */
}

PyObject *sr_Router_lookup_query(RouterObject *self, PyObject *const *args,
                                 Py_ssize_t nargs)
{
	query_arg a;
	Py_ssize_t kl, tl, cl;
	PyObject *d = NULL;
	valbuf vb;
	int rc;

	if (nargs != 4)
		return sr_wrong_nargs("lookup_query", 4, nargs);
	memset(&a, 0, sizeof a);
	if ((a.k = sr_name_utf8(args[0], "keyspace", &kl)) == NULL ||
	    (a.t = sr_name_utf8(args[1], "table", &tl)) == NULL)
		return NULL;
	if (!PyUnicode_Check(args[2])) {
		PyErr_SetString(PyExc_TypeError, "columns must be a str");
		return NULL;
	}
	if ((a.col = PyUnicode_AsUTF8AndSize(args[2], &cl)) == NULL)
		return NULL;
	if (sr_values_from_py(self->st, args[3], &vb) < 0)
		return NULL;
	if (vb.n != 1) {
		sr_valbuf_release(&vb);
		PyErr_SetString(PyExc_TypeError,
		                "a lookup vindex takes one value");
		return NULL;
	}
	a.kl = (size_t)kl;
	a.tl = (size_t)tl;
	a.cl = (size_t)cl;
	a.value = &vb.v[0];
	/* Only the borrowed buffers of args (kept alive by the caller) are
	 * read without the GIL. */
	Py_BEGIN_ALLOW_THREADS
	rc = router_inspect(self->r, query_fn, &a);
	Py_END_ALLOW_THREADS
	if (a.none) {
		router_error e;

		memset(&e, 0, sizeof e);
		snprintf(e.message, sizeof e.message, "nothing is published");
		sr_raise_route_error(self->st, ROUTER_ENOTFOUND, &e, args[0],
		                     args[1]);
	} else if (rc == ROUTER_ENOMEM && a.blob == NULL) {
		PyErr_NoMemory();
	} else if (rc != ROUTER_OK) {
		sr_raise_route_error(self->st, rc, &a.err, args[0], args[1]);
	} else if ((d = sr_lookup_query_dict(&a.q)) != NULL &&
	           PyDict_SetItemString(d, "no_query",
	                                (a.q.flags & ROUTER_LOOKUP_NO_QUERY)
	                                    ? Py_True
	                                    : Py_False) < 0) {
		Py_CLEAR(d);
	}
	PyMem_RawFree(a.blob);
	sr_valbuf_release(&vb);
	return d;
}

/* ---- route_lookup_rows --------------------------------------------------- */

SR_DOC(sr_Router_route_lookup_rows_doc,
"route_lookup_rows($self, keyspace, table, columns, value, rows, /)\n"
"--\n\n"
"The shard names (a list, in the order the keyspace IDs came; empty when\n"
"no row gives one) of value through the column vindex on columns of\n"
"keyspace.table, given the rows its lookup query returned (an iterable\n"
"of (from, to) pairs, as selected): the second half of lookup_query().\n"
"A computed vindex ignores rows.  Raises InvalidError when a unique\n"
"vindex is answered by several rows (Vitess's message), NoRouteError /\n"
"NotFoundError as route_column().");

/* The rows, converted once; the resolver adds them (no Python inside). */
typedef struct rows_ctx {
	valbuf *vb; /* 2 per row: from, to */
	size_t n;
} rows_ctx;

static int rows_resolve(void *ctx, const router_lookup_query *q,
                        router_lookup_rows *rows)
{
	rows_ctx *c = ctx;
	int rc;

	(void)q;
	for (size_t i = 0; i < c->n; i++)
		if ((rc = router_lookup_rows_add(rows, &c->vb[2 * i].v[0],
		                                 &c->vb[2 * i + 1].v[0])) !=
		    ROUTER_OK)
			return rc;
	return ROUTER_OK;
}

static void rows_release(rows_ctx *c, size_t upto)
{
	for (size_t i = 0; i < upto; i++)
		sr_valbuf_release(&c->vb[i]);
	PyMem_Free(c->vb);
}

/* Convert rows (an iterable of pairs, kept alive in *seq) into c. */
static int rows_from_py(modstate *st, PyObject *rows, PyObject **seq,
                        rows_ctx *c)
{
	Py_ssize_t n;
	size_t done = 0;

	*seq = PySequence_Fast(rows, "rows must be an iterable of (from, to) "
	                             "pairs");
	if (*seq == NULL)
		return -1;
	n = PySequence_Fast_GET_SIZE(*seq);
	c->n = (size_t)n;
	c->vb = PyMem_Malloc((size_t)(n > 0 ? n : 1) * 2 * sizeof *c->vb);
	if (c->vb == NULL) {
		PyErr_NoMemory();
		return -1;
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *row = PySequence_Fast_GET_ITEM(*seq, i);

		if (!PyTuple_Check(row) && !PyList_Check(row)) {
			PyErr_SetString(PyExc_TypeError,
			                "a lookup row is a (from, to) pair");
			goto fail;
		}
		if (PySequence_Fast_GET_SIZE(row) != 2) {
			PyErr_SetString(PyExc_ValueError,
			                "a lookup row is a (from, to) pair");
			goto fail;
		}
		for (int j = 0; j < 2; j++) {
			valbuf *vb = &c->vb[done];

			if (sr_values_from_py(st,
			                      PySequence_Fast_GET_ITEM(row, j),
			                      vb) < 0)
				goto fail;
			done++;
			if (vb->n != 1) {
				PyErr_SetString(PyExc_TypeError,
				                "a lookup row's from and to are "
				                "single values");
				goto fail;
			}
		}
	}
	return 0;
fail:
	rows_release(c, done);
	c->vb = NULL;
	return -1;
}

PyObject *sr_Router_route_lookup_rows(RouterObject *self,
                                      PyObject *const *args, Py_ssize_t nargs)
{
	router_route_result small[16], *out = small;
	size_t cap = 16, n = 0;
	rows_ctx c = {NULL, 0};
	PyObject *seq = NULL, *list = NULL;
	Py_ssize_t kl, tl, cl;
	const char *k, *t, *col;
	router_error err;
	valbuf vb;
	int rc;

	if (nargs != 5)
		return sr_wrong_nargs("route_lookup_rows", 5, nargs);
	if ((k = sr_name_utf8(args[0], "keyspace", &kl)) == NULL ||
	    (t = sr_name_utf8(args[1], "table", &tl)) == NULL)
		return NULL;
	if (!PyUnicode_Check(args[2])) {
		PyErr_SetString(PyExc_TypeError, "columns must be a str");
		return NULL;
	}
	if ((col = PyUnicode_AsUTF8AndSize(args[2], &cl)) == NULL)
		return NULL;
	if (rows_from_py(self->st, args[4], &seq, &c) < 0) {
		Py_XDECREF(seq);
		return NULL;
	}
	if (sr_values_from_py(self->st, args[3], &vb) < 0)
		goto done_rows;
	for (;;) {
		rc = router_route_column(self->r, k, (size_t)kl, t, (size_t)tl,
		                         col, (size_t)cl, vb.v, vb.n,
		                         rows_resolve, &c, out, cap, &n, &err);
		if (rc != ROUTER_ERANGE || out != small)
			break;
		if ((out = PyMem_Malloc(n * sizeof *out)) == NULL) {
			out = small;
			PyErr_NoMemory();
			goto out_vb;
		}
		cap = n;
	}
	if (rc == ROUTER_NONE)
		list = PyList_New(0);
	else if (rc != ROUTER_OK)
		sr_raise_route_error(self->st, rc, &err, args[0], args[1]);
	else
		list = shard_list(out, n);
out_vb:
	sr_valbuf_release(&vb);
done_rows:
	if (out != small)
		PyMem_Free(out);
	rows_release(&c, 2 * c.n);
	Py_DECREF(seq);
	return list;
}
