/* The Router type: creation and teardown, lookups, handles, history,
 * stats, export; the methods of publish.c and beyond.c join its method
 * table here. */
#include "binding.h"

PyDoc_STRVAR(Router_doc,
"Router(history=8, max_shrink=0.1, *, on_event=None, snapshot_path=None,\n"
"       fence_cap=0)\n--\n\n"
"A live routing table: lock-free lookups from any thread, guarded\n"
"publishes, rollback.\n\n"
"history: accepted tables kept for rollback (1..1024).\n"
"max_shrink: share of a keyspace's tables a publish may drop without\n"
"allow_destructive (0..1).\n"
"on_event: called with an Event after every publish, check, rollback,\n"
"discard of a pending table and failed automatic snapshot, in the\n"
"calling thread, outside the router's locks.\n"
"snapshot_path: a last-known-good file (str or os.PathLike) written as\n"
"save_snapshot() does after every accepted publish, approval and\n"
"rollback; a failed write is a SnapshotWarning (and counted in\n"
"stats()['snapshots_failed']), never a failed publish.\n"
"fence_cap: content hashes remembered as fenced (tables refused by a\n"
"content guard, rolled back from or discarded from quarantine; 0..65536,\n"
"0 turns fencing off).\n\n"
"Nothing routes until the first publish() (or Router.from_snapshot).\n"
"Safe to share between threads and across fork() (the child routes\n"
"and publishes normally).");

static PyObject *Router_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"history",       "max_shrink", "on_event",
	                         "snapshot_path", "fence_cap",  NULL};
	Py_ssize_t history = 8, fence_cap = 0;
	double max_shrink = 0.10;
	PyObject *on_event = Py_None, *snap = Py_None, *snap_fs = NULL;
	router_options opt = ROUTER_OPTIONS_INIT;
	router_error err;
	RouterObject *self;
	modstate *st;
	PyObject *mod;
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|nd$OOn:Router", kwlist,
	                                 &history, &max_shrink, &on_event,
	                                 &snap, &fence_cap))
		return NULL;
	if (history < 1 || history > 1024) {
		PyErr_Format(PyExc_ValueError,
		             "history must be 1..1024, not %zd", history);
		return NULL;
	}
	if (!(max_shrink >= 0.0 && max_shrink <= 1.0)) {
		PyObject *f = PyFloat_FromDouble(max_shrink);

		if (f != NULL) {
			PyErr_Format(PyExc_ValueError,
			             "max_shrink must be within 0..1, not %R", f);
			Py_DECREF(f);
		}
		return NULL;
	}
	if (fence_cap < 0 || fence_cap > 65536) {
		PyErr_Format(PyExc_ValueError,
		             "fence_cap must be 0..65536, not %zd", fence_cap);
		return NULL;
	}
	if (on_event != Py_None && !PyCallable_Check(on_event)) {
		PyErr_SetString(PyExc_TypeError,
		                "on_event must be callable or None");
		return NULL;
	}
	if (snap != Py_None &&
	    (snap_fs = sr_path_bytes(snap, "snapshot_path")) == NULL)
		return NULL;
	mod = PyType_GetModuleByDef(type, &sr_shardrouter_module);
	if (mod == NULL) {
		Py_XDECREF(snap_fs);
		return NULL;
	}
	st = PyModule_GetState(mod);
	self = (RouterObject *)type->tp_alloc(type, 0);
	if (self == NULL) {
		Py_XDECREF(snap_fs);
		return NULL;
	}
	self->st = st;
	opt.history = (unsigned)history;
	opt.max_shrink = max_shrink;
	opt.on_event = sr_capture_event;
	opt.on_event_arg = self;
	opt.snapshot_path = snap_fs ? PyBytes_AS_STRING(snap_fs) : NULL;
	opt.fence_cap = (unsigned)fence_cap;
	rc = router_create(&self->r, &opt, &err); /* copies the path */
	Py_XDECREF(snap_fs);
	if (rc != ROUTER_OK) {
		Py_DECREF(self);
		return sr_raise_error(st, rc, &err, NULL);
	}
	if (on_event != Py_None)
		self->on_event = Py_NewRef(on_event);
	return (PyObject *)self;
}

static int Router_traverse(RouterObject *self, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(self->on_event);
	return 0;
}

int sr_Router_clear(RouterObject *self)
{
	Py_CLEAR(self->on_event);
	return 0;
}

static void Router_dealloc(RouterObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);
	size_t i, j;

	PyObject_GC_UnTrack(self);
	sr_Router_clear(self);
	for (i = 0; i < HC_SIZE; i++) {
		hc_entry *e = self->hc[i];

		if (e == NULL)
			continue;
		router_handle_free(e->h);
		Py_DECREF(e->ks);
		Py_DECREF(e->table);
		PyMem_RawFree(e);
		self->hc[i] = NULL;
	}
	for (i = 0; i < NAME_DIR; i++) {
		PyObject **chunk = self->names[i];

		if (chunk == NULL)
			continue;
		for (j = 0; j < NAME_CHUNK; j++)
			Py_XDECREF(chunk[j]);
		PyMem_RawFree(chunk);
		self->names[i] = NULL;
	}
	/* No thread can be routing: every call holds a reference. */
	router_free(self->r);
	self->r = NULL;
	tp->tp_free(self);
	Py_DECREF(tp);
}

PyDoc_STRVAR(Router_route_doc,
"route($self, keyspace, table, value, /)\n--\n\n"
"The shard name (a shared str) holding the row of keyspace.table whose\n"
"primary-vindex column is value, computed as Vitess computes it; None\n"
"when the value maps to no keyspace ID (e.g. NULL through hash).\n\n"
"value: int -> int64 (uint64 above 2**63-1; OverflowError outside\n"
"-2**63 .. 2**64-1), str -> varchar, bytes -> varbinary, None -> NULL,\n"
"shardrouter.Value for other SQL types, a tuple for multicolumn\n"
"vindexes.  In an unsharded keyspace every table routes to its shard.\n"
"Raises NoRouteError (nothing published, unknown keyspace or table,\n"
"lookup vindex, reference table, disabled table), TypeError for names\n"
"that are not str, ValueError for a NUL in one.  Lock-free; the GIL is\n"
"held.");

/* Everything but Router_route's common case (3 arguments). */
static COLD PyObject *Router_route_slow(RouterObject *self,
                                        PyObject *const *args)
{
	router_handle *h = hc_lookup(self, args[0], args[1]);

	if (LIKELY(h != NULL))
		return handle_route(self, h, args[2], args[0], args[1]);
	if (PyErr_Occurred())
		return NULL;
	return sr_route_by_name(self, args[0], args[1], args[2]);
}

static PyObject *Router_route(RouterObject *self, PyObject *const *args,
                              Py_ssize_t nargs)
{
	router_handle *h;
	PyObject *s;

	if (UNLIKELY(nargs != 3))
		return sr_wrong_nargs("route", 3, nargs);
	h = hc_lookup_hit(self, args[0], args[1]);
	if (LIKELY(h != NULL) && LIKELY(handle_route_hit(self, h, args[2], &s)))
		return s;
	return Router_route_slow(self, args);
}

PyDoc_STRVAR(Router_lookup_doc,
"lookup($self, keyspace, table, value, /)\n--\n\n"
"Like route(), but returns a Route (shard, shard_id, shard_index,\n"
"version, keyspace_id, keyspace_id_len), or None for no keyspace ID.");

static PyObject *Router_lookup(RouterObject *self, PyObject *const *args,
                               Py_ssize_t nargs)
{
	router_route_result res;
	router_error err;
	Py_ssize_t kl, tl;
	const char *k, *t;
	valbuf vb;
	int rc;

	if (nargs != 3)
		return sr_wrong_nargs("lookup", 3, nargs);
	if ((k = sr_name_utf8(args[0], "keyspace", &kl)) == NULL ||
	    (t = sr_name_utf8(args[1], "table", &tl)) == NULL)
		return NULL;
	if (sr_values_from_py(self->st, args[2], &vb) < 0)
		return NULL;
	rc = router_route(self->r, k, (size_t)kl, t, (size_t)tl, vb.v, vb.n,
	                  &res, &err);
	sr_valbuf_release(&vb);
	return sr_lookup_result(self, rc, &res, &err, args[0], args[1]);
}

PyDoc_STRVAR(Router_route_ksid_doc,
"route_ksid($self, keyspace, ksid, /)\n--\n\n"
"The shard name of keyspace holding keyspace ID ksid (bytes-like).\n"
"Raises NoRouteError for an unknown keyspace.");

static PyObject *Router_route_ksid(RouterObject *self, PyObject *const *args,
                                   Py_ssize_t nargs)
{
	router_route_result res;
	router_error err;
	Py_ssize_t kl;
	const char *k;
	Py_buffer view;
	int rc;

	if (nargs != 2)
		return sr_wrong_nargs("route_ksid", 2, nargs);
	if ((k = sr_name_utf8(args[0], "keyspace", &kl)) == NULL)
		return NULL;
	if (PyUnicode_Check(args[1])) {
		PyErr_SetString(PyExc_TypeError,
		                "ksid must be bytes-like, not str (use "
		                "bytes.fromhex for hex text)");
		return NULL;
	}
	if (PyObject_GetBuffer(args[1], &view, PyBUF_C_CONTIGUOUS) < 0)
		return NULL;
	rc = router_route_ksid(self->r, k, (size_t)kl,
	                       view.len ? view.buf : NULL, (size_t)view.len,
	                       &res, &err);
	PyBuffer_Release(&view);
	if (rc == ROUTER_OK)
		return shard_str(self, res.shard_id);
	return sr_raise_route_error(self->st, rc, &err, args[0], NULL);
}

PyDoc_STRVAR(Router_route_many_doc,
"route_many($self, keyspace, table, values, /, *, ids=False, out=None,\n"
"           nogil=None)\n--\n\n"
"Route many values of keyspace.table at once.\n\n"
"values: a list (or any iterable) of values as route() takes them, or a\n"
"buffer of 64-bit integers (array('q'), array('Q'), a numpy int64 or\n"
"uint64 array, a memoryview with format 'q'/'Q'/'l'/'L'), read in place.\n"
"Integer keys are routed by one table in one read section; lists holding\n"
"other values (or both negative and above-int64 ints) are routed one by\n"
"one.\n\n"
"Returns a list of shard names (shared str; None for no keyspace ID),\n"
"or with ids=True an array('I') of shard ids (NO_SHARD for no keyspace\n"
"ID; Router.shard_name(id) gives the name).  out: a writable uint32\n"
"buffer of len(values) items to write the ids into (implies ids=True;\n"
"returned).  nogil: release the GIL during the lookups (default: only\n"
"from NOGIL_THRESHOLD keys; the release costs more than small batches).\n"
"Raises NoRouteError when the table cannot be routed.");

static PyObject *Router_route_many(RouterObject *self, PyObject *const *args,
                                   Py_ssize_t nargs, PyObject *kwnames)
{
	router_handle *h, *tmp = NULL;
	many_opts o;
	PyObject *r;

	if (nargs != 3)
		return sr_wrong_nargs("route_many", 3, nargs);
	if (sr_many_parse("route_many", kwnames, args + nargs, &o) < 0)
		return NULL;
	h = hc_lookup(self, args[0], args[1]);
	if (h == NULL) {
		Py_ssize_t kl, tl;
		const char *k, *t;
		router_error err;
		int rc;

		if (PyErr_Occurred())
			return NULL;
		/* Cache full (or names the core refuses): a handle for this
		 * call only. */
		if ((k = sr_name_utf8(args[0], "keyspace", &kl)) == NULL ||
		    (t = sr_name_utf8(args[1], "table", &tl)) == NULL)
			return NULL;
		rc = router_handle_open(self->r, k, (size_t)kl, t, (size_t)tl,
		                        &tmp, &err);
		if (rc == ROUTER_EINVAL || rc == ROUTER_ERANGE)
			rc = ROUTER_ENOTFOUND; /* no such table can exist */
		if (rc != ROUTER_OK)
			return sr_raise_route_error(self->st, rc, &err, args[0],
						    args[1]);
		h = tmp;
	}
	r = sr_route_many_impl(self, h, args[2], &o, args[0], args[1]);
	router_handle_free(tmp);
	return r;
}

PyDoc_STRVAR(Router_table_doc,
"table($self, keyspace, table, /)\n--\n\n"
"A Table handle for keyspace.table: its route(value) skips name\n"
"resolution.  The table need not exist yet; the handle stays valid\n"
"across publishes and rollbacks.");

static PyObject *Router_table(RouterObject *self, PyObject *const *args,
                              Py_ssize_t nargs)
{
	TableObject *t;
	Py_ssize_t kl, tl;
	const char *k, *n;
	router_error err;
	router_handle *h;
	int rc;

	if (nargs != 2)
		return sr_wrong_nargs("table", 2, nargs);
	if ((k = sr_name_utf8(args[0], "keyspace", &kl)) == NULL ||
	    (n = sr_name_utf8(args[1], "table", &tl)) == NULL)
		return NULL;
	rc = router_handle_open(self->r, k, (size_t)kl, n, (size_t)tl, &h,
	                        &err);
	if (rc == ROUTER_ERANGE)
		rc = ROUTER_EINVAL; /* a name too long: a bad argument */
	if (rc != ROUTER_OK)
		return sr_raise_error(self->st, rc, &err, NULL);
	t = PyObject_GC_New(TableObject, self->st->Table_Type);
	if (t == NULL) {
		router_handle_free(h);
		return NULL;
	}
	t->router = (RouterObject *)Py_NewRef((PyObject *)self);
	t->h = h;
	t->keyspace = Py_NewRef(args[0]);
	t->table = Py_NewRef(args[1]);
	PyObject_GC_Track(t);
	return (PyObject *)t;
}

PyDoc_STRVAR(Router_history_doc,
"history($self, /)\n--\n\n"
"The accepted tables kept for rollback, oldest first, as HistoryEntry\n"
"(version, content_hash, accepted_unix_ns, in_service).");

static PyObject *Router_history(RouterObject *self, PyObject *unused)
{
	router_history_entry stack[64], *h = stack;
	size_t n, cap = 64, i;
	PyObject *list;

	(void)unused;
	for (;;) {
		n = router_history(self->r, h, cap);
		if (n <= cap)
			break;
		if (h != stack)
			PyMem_Free(h);
		cap = n + 8;
		h = PyMem_Malloc(cap * sizeof *h);
		if (h == NULL)
			return PyErr_NoMemory();
	}
	list = PyList_New((Py_ssize_t)n);
	for (i = 0; list != NULL && i < n; i++) {
		PyObject *o = PyStructSequence_New(self->st->HistoryEntry_Type);

		if (o == NULL) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, o);
		PyStructSequence_SetItem(
		    o, 0, PyLong_FromUnsignedLongLong(h[i].version));
		PyStructSequence_SetItem(
		    o, 1, PyLong_FromUnsignedLongLong(h[i].content_hash));
		PyStructSequence_SetItem(
		    o, 2, PyLong_FromLongLong(h[i].accepted_unix_ns));
		PyStructSequence_SetItem(o, 3, PyBool_FromLong(h[i].in_service));
		for (int j = 0; j < 4; j++)
			if (PyStructSequence_GetItem(o, j) == NULL) {
				Py_CLEAR(list);
				break;
			}
	}
	if (h != stack)
		PyMem_Free(h);
	return list;
}

PyDoc_STRVAR(Router_stats_doc,
"stats($self, /)\n--\n\n"
"Counters as a dict: version, content_hash, accepted, refused,\n"
"refused_by_code ({'ROUTER_ESHRINK': n, ...}, non-zero only), rollbacks,\n"
"checks, tables_retired, tables_freed, history_len, shard_names; beyond\n"
"the guards: snapshots_saved, snapshots_failed (automatic snapshots that\n"
"could not be written), quarantined, approved, discarded (pending tables\n"
"discarded or superseded), fences (content hashes fenced now),\n"
"invariants (declared), shadow_runs (publishes and checks evaluated on\n"
"the sample).");

static PyObject *Router_stats(RouterObject *self, PyObject *unused)
{
	router_stats s;
	PyObject *by = PyDict_New(), *d;
	int i;

	(void)unused;
	if (by == NULL)
		return NULL;
	router_stats_get(self->r, &s, sizeof s);
	for (i = 1; i <= -ROUTER_ERRNO_MIN; i++) {
		PyObject *v;
		uint64_t n = router_stats_refused(self->r, -i);

		if (n == 0)
			continue;
		v = PyLong_FromUnsignedLongLong(n);
		if (v == NULL || PyDict_SetItemString(by, router_errname(-i), v) <
		                     0) {
			Py_XDECREF(v);
			Py_DECREF(by);
			return NULL;
		}
		Py_DECREF(v);
	}
	d = Py_BuildValue(
	    "{s:K,s:K,s:K,s:K,s:N,s:K,s:K,s:K,s:K,s:I,s:I,"
	    "s:K,s:K,s:K,s:K,s:K,s:I,s:I,s:K}",
	    "version", (unsigned long long)s.version, "content_hash",
	    (unsigned long long)s.content_hash, "accepted",
	    (unsigned long long)s.accepted, "refused",
	    (unsigned long long)s.refused, "refused_by_code", by, "rollbacks",
	    (unsigned long long)s.rollbacks, "checks",
	    (unsigned long long)s.checks, "tables_retired",
	    (unsigned long long)s.tables_retired, "tables_freed",
	    (unsigned long long)s.tables_freed, "history_len",
	    (unsigned int)s.history_len, "shard_names",
	    (unsigned int)s.shard_names, "snapshots_saved",
	    (unsigned long long)s.snapshots_saved, "snapshots_failed",
	    (unsigned long long)s.snapshots_failed, "quarantined",
	    (unsigned long long)s.quarantined, "approved",
	    (unsigned long long)s.approved, "discarded",
	    (unsigned long long)s.discarded, "fences", (unsigned int)s.fences,
	    "invariants", (unsigned int)s.invariants, "shadow_runs",
	    (unsigned long long)s.shadow_runs);
	return d;
}

typedef struct {
	const char *keyspace;
	unsigned flags;
	char *out;
	size_t len;
	router_error err;
	int none;
} export_arg;

/* Under the writer lock (router_inspect): the table cannot be freed. */
static int export_fn(void *arg, const router_table *t)
{
	export_arg *a = arg;

	if (t == NULL) {
		a->none = 1;
		return ROUTER_OK;
	}
	return router_doc_dump(t, a->keyspace, a->flags, NULL, &a->out,
	                       &a->len, &a->err);
}

PyDoc_STRVAR(Router_export_doc,
"export($self, keyspace=None, /, *, vitess=False, compact=False)\n--\n\n"
"The document of the table in service as JSON text (keys sorted, so\n"
"equal tables give equal text), or None when nothing is published.\n"
"With keyspace, that keyspace's own VSchema.  vitess=True leaves out\n"
"librouter's \"version\" and \"shards\" (plain Vitess input); compact=True\n"
"writes one line.  publish(export()) gives a table with the same\n"
"content hash.");

static PyObject *Router_export(RouterObject *self, PyObject *const *args,
                               Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = {"vitess", "compact", NULL};
	PyObject *kv[2] = {NULL, NULL}, *res;
	export_arg a;
	int rc, f;

	memset(&a, 0, sizeof a);
	if (nargs > 1)
		return PyErr_Format(PyExc_TypeError,
		                    "export() takes at most 1 positional "
		                    "argument (%zd given)",
		                    nargs);
	if (sr_kwonly("export", kwnames, args + nargs, names, kv) < 0)
		return NULL;
	if (nargs == 1 && args[0] != Py_None) {
		Py_ssize_t kl;

		a.keyspace = sr_name_utf8(args[0], "keyspace", &kl);
		if (a.keyspace == NULL)
			return NULL;
	}
	if (kv[0] != NULL) {
		if ((f = PyObject_IsTrue(kv[0])) < 0)
			return NULL;
		a.flags |= f ? ROUTER_DOC_DUMP_VITESS : 0u;
	}
	if (kv[1] != NULL) {
		if ((f = PyObject_IsTrue(kv[1])) < 0)
			return NULL;
		a.flags |= f ? ROUTER_DOC_DUMP_COMPACT : 0u;
	}
	Py_BEGIN_ALLOW_THREADS
	rc = router_inspect(self->r, export_fn, &a);
	Py_END_ALLOW_THREADS
	if (a.none)
		Py_RETURN_NONE;
	if (rc != ROUTER_OK) {
		free(a.out);
		return sr_raise_error(self->st, rc, &a.err, NULL);
	}
	res = PyUnicode_DecodeUTF8(a.out, (Py_ssize_t)a.len, "strict");
	free(a.out);
	return res;
}

PyDoc_STRVAR(Router_shard_name_doc,
"shard_name($self, shard_id, /)\n--\n\n"
"The shard name (shared str) of a shard id from route_many(ids=True) or\n"
"a Route; raises ValueError for an id this router never assigned.");

static PyObject *Router_shard_name(RouterObject *self, PyObject *arg)
{
	unsigned long long id;

	if (!PyLong_Check(arg))
		return PyErr_Format(PyExc_TypeError,
		                    "shard_id must be an int, not %.100s",
		                    Py_TYPE(arg)->tp_name);
	id = PyLong_AsUnsignedLongLong(arg);
	if (id == (unsigned long long)-1 && PyErr_Occurred()) {
		PyErr_Clear();
		id = UINT64_MAX;
	}
	if (id >= ROUTER_NO_SHARD ||
	    router_shard_name(self->r, (uint32_t)id, NULL) == NULL)
		return PyErr_Format(PyExc_ValueError, "unknown shard id %R",
		                    arg);
	return shard_str(self, (uint32_t)id);
}

PyDoc_STRVAR(Router_noop_doc,
"_noop($self, keyspace, table, value, /)\n--\n\n"
"Does nothing and returns None: the floor that bench.py compares\n"
"route(keyspace, table, value) with (same object, same convention).");

static PyObject *Router_noop(RouterObject *self, PyObject *const *args,
                             Py_ssize_t nargs)
{
	(void)self;
	(void)args;
	if (UNLIKELY(nargs != 3))
		return sr_wrong_nargs("_noop", 3, nargs);
	Py_RETURN_NONE;
}

static PyObject *Router_get_version(RouterObject *self, void *c)
{
	(void)c;
	return PyLong_FromUnsignedLongLong(router_serving_version(self->r));
}

static PyObject *Router_get_hash(RouterObject *self, void *c)
{
	(void)c;
	return PyLong_FromUnsignedLongLong(router_content_hash(self->r));
}

static PyObject *Router_repr(RouterObject *self)
{
	char hash[24];

	snprintf(hash, sizeof hash, "%016" PRIx64,
	         router_content_hash(self->r));
	return PyUnicode_FromFormat("<shardrouter.Router version=%llu "
	                            "content_hash=0x%s>",
	                            (unsigned long long)router_serving_version(self->r),
	                            hash);
}

static PyMethodDef Router_methods[] = {
    {"route", (PyCFunction)(void (*)(void))Router_route, METH_FASTCALL,
     Router_route_doc},
    {"lookup", (PyCFunction)(void (*)(void))Router_lookup, METH_FASTCALL,
     Router_lookup_doc},
    {"route_ksid", (PyCFunction)(void (*)(void))Router_route_ksid,
     METH_FASTCALL, Router_route_ksid_doc},
    {"route_column", (PyCFunction)(void (*)(void))sr_Router_route_column,
     METH_FASTCALL | METH_KEYWORDS, sr_Router_route_column_doc},
    {"lookup_query", (PyCFunction)(void (*)(void))sr_Router_lookup_query,
     METH_FASTCALL, sr_Router_lookup_query_doc},
    {"route_lookup_rows",
     (PyCFunction)(void (*)(void))sr_Router_route_lookup_rows, METH_FASTCALL,
     sr_Router_route_lookup_rows_doc},
    {"route_prefix", (PyCFunction)(void (*)(void))sr_Router_route_prefix,
     METH_FASTCALL, sr_Router_route_prefix_doc},
    {"route_target", (PyCFunction)(void (*)(void))sr_Router_route_target,
     METH_FASTCALL | METH_KEYWORDS, sr_Router_route_target_doc},
    {"route_many", (PyCFunction)(void (*)(void))Router_route_many,
     METH_FASTCALL | METH_KEYWORDS, Router_route_many_doc},
    {"table", (PyCFunction)(void (*)(void))Router_table, METH_FASTCALL,
     Router_table_doc},
    {"publish", (PyCFunction)(void (*)(void))sr_Router_publish,
     METH_FASTCALL | METH_KEYWORDS, sr_Router_publish_doc},
    {"check", (PyCFunction)(void (*)(void))sr_Router_check,
     METH_FASTCALL | METH_KEYWORDS, sr_Router_check_doc},
    {"rollback", (PyCFunction)(void (*)(void))sr_Router_rollback,
     METH_FASTCALL | METH_KEYWORDS, sr_Router_rollback_doc},
    {"history", (PyCFunction)Router_history, METH_NOARGS,
     Router_history_doc},
    {"stats", (PyCFunction)Router_stats, METH_NOARGS, Router_stats_doc},
    {"export", (PyCFunction)(void (*)(void))Router_export,
     METH_FASTCALL | METH_KEYWORDS, Router_export_doc},
    {"shard_name", (PyCFunction)Router_shard_name, METH_O,
     Router_shard_name_doc},
    {"save_snapshot", (PyCFunction)sr_Router_save_snapshot, METH_O,
     sr_Router_save_snapshot_doc},
    {"from_snapshot", (PyCFunction)(void (*)(void))sr_Router_from_snapshot,
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS, sr_Router_from_snapshot_doc},
    {"approve_pending", (PyCFunction)sr_Router_approve_pending, METH_NOARGS,
     sr_Router_approve_pending_doc},
    {"discard_pending", (PyCFunction)sr_Router_discard_pending, METH_NOARGS,
     sr_Router_discard_pending_doc},
    {"fences", (PyCFunction)sr_Router_fences, METH_NOARGS,
     sr_Router_fences_doc},
    {"fence", (PyCFunction)sr_Router_fence, METH_O, sr_Router_fence_doc},
    {"lift_fence", (PyCFunction)sr_Router_lift_fence, METH_O,
     sr_Router_lift_fence_doc},
    {"clear_fences", (PyCFunction)sr_Router_clear_fences, METH_NOARGS,
     sr_Router_clear_fences_doc},
    {"add_invariant", (PyCFunction)sr_Router_add_invariant, METH_O,
     sr_Router_add_invariant_doc},
    {"remove_invariant", (PyCFunction)sr_Router_remove_invariant, METH_O,
     sr_Router_remove_invariant_doc},
    {"invariants", (PyCFunction)sr_Router_invariants, METH_NOARGS,
     sr_Router_invariants_doc},
    {"set_sample", (PyCFunction)(void (*)(void))sr_Router_set_sample,
     METH_FASTCALL | METH_KEYWORDS, sr_Router_set_sample_doc},
    {"_noop", (PyCFunction)(void (*)(void))Router_noop, METH_FASTCALL,
     Router_noop_doc},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Router_getset[] = {
    {"version", (getter)Router_get_version, NULL,
     PyDoc_STR("Version of the table in service (0: none)."), NULL},
    {"content_hash", (getter)Router_get_hash, NULL,
     PyDoc_STR("64-bit content hash of the table in service (0: none)."),
     NULL},
    {"pending", (getter)sr_Router_get_pending, NULL, sr_Router_pending_doc,
     NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot Router_slots[] = {
    {Py_tp_doc, (void *)Router_doc},
    {Py_tp_new, Router_new},
    {Py_tp_dealloc, Router_dealloc},
    {Py_tp_traverse, Router_traverse},
    {Py_tp_clear, sr_Router_clear},
    {Py_tp_repr, Router_repr},
    {Py_tp_methods, Router_methods},
    {Py_tp_getset, Router_getset},
    {0, NULL}};

static PyType_Spec Router_spec = {
    "shardrouter.Router", sizeof(RouterObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    Router_slots};

int sr_router_add(PyObject *m, modstate *st)
{
	st->Router_Type = sr_new_type(m, &Router_spec);
	return st->Router_Type != NULL ? 0 : -1;
}
