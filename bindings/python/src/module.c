/* The module: its functions (keyspace_id, shard_ranges,
 * verify_snapshot, the benchmark floors) and its multi-phase
 * initialization, which asks each file to add its types. */
#include "binding.h"

PyDoc_STRVAR(keyspace_id_doc,
"keyspace_id(vindex_type, value, /, params=None)\n--\n\n"
"The keyspace ID (bytes) Vitess's vindex_type gives value, or None when\n"
"it maps to no keyspace ID.  value as Router.route takes it (a tuple for\n"
"multicol / region_experimental).  params: the vindex's params as a\n"
"dict of str (e.g. {'json': '{\"1\": 2}'} for numeric_static_map).\n"
"Raises ValueError for an unknown type or bad params, NoRouteError for\n"
"lookup vindexes and types not computed in process (unicode_loose_*).");

/* keyspace_id's params (a dict of str, or None) as router_params in p
 * (cap entries), borrowed from *items (a new reference to keep while p is
 * used).  Returns the count, or -1 with an exception. */
static Py_ssize_t params_from_py(PyObject *params, router_param *p,
                                 size_t cap, PyObject **items)
{
	Py_ssize_t i, n, pl;

	*items = NULL;
	if (params == NULL || params == Py_None)
		return 0;
	if (!PyDict_Check(params)) {
		PyErr_Format(PyExc_TypeError,
		             "params must be a dict of str, not %.100s",
		             Py_TYPE(params)->tp_name);
		return -1;
	}
	*items = PyDict_Items(params);
	if (*items == NULL)
		return -1;
	n = PyList_GET_SIZE(*items);
	if ((size_t)n > cap) {
		PyErr_Format(PyExc_ValueError, "at most %zu params", cap);
		return -1;
	}
	for (i = 0; i < n; i++) {
		PyObject *kvp = PyList_GET_ITEM(*items, i);
		PyObject *k = PyTuple_GET_ITEM(kvp, 0);
		PyObject *v = PyTuple_GET_ITEM(kvp, 1);

		if (!PyUnicode_Check(k) || !PyUnicode_Check(v)) {
			PyErr_Format(PyExc_TypeError,
			             "params must map str to str");
			return -1;
		}
		p[i].key = sr_name_utf8(k, "param name", &pl);
		p[i].value = p[i].key ? sr_name_utf8(v, "param value", &pl)
		                      : NULL;
		if (p[i].key == NULL || p[i].value == NULL)
			return -1;
	}
	return n;
}

/* Create the vindex and map vb's values: ROUTER_OK with the keyspace ID
 * in *out (buf, or a PyMem buffer when it is longer) and *len, or a
 * status (err). */
static int map_value(const char *type, const router_param *p, size_t np,
                     const valbuf *vb, uint8_t *buf, size_t cap,
                     uint8_t **out, size_t *len, router_error *err)
{
	router_vindex *vx = NULL;
	int rc;

	*out = buf;
	rc = router_vindex_create(&vx, type, np ? p : NULL, np, NULL, err);
	if (rc == ROUTER_OK)
		rc = router_vindex_map(vx, vb->v, vb->n, buf, cap, len, err);
	if (rc == ROUTER_ERANGE && *len > cap) {
		*out = PyMem_Malloc(*len);
		rc = *out == NULL ? ROUTER_ENOMEM
		                  : router_vindex_map(vx, vb->v, vb->n, *out,
		                                      *len, len, err);
		if (*out == NULL)
			*out = buf;
	}
	router_vindex_free(vx);
	return rc;
}

static PyObject *mod_keyspace_id(PyObject *m, PyObject *const *args,
                                 Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = {"params", NULL};
	modstate *st = get_state(m);
	PyObject *kv[1] = {NULL}, *params = NULL, *items = NULL, *res = NULL;
	router_param p[32];
	uint8_t buf[64], *out = buf;
	size_t len = 0;
	Py_ssize_t np, tl;
	router_error err;
	const char *type;
	valbuf vb;
	int rc;

	if (nargs == 3 && kwnames == NULL) {
		params = args[2];
	} else {
		if (nargs != 2)
			return sr_wrong_nargs("keyspace_id", 2, nargs);
		if (sr_kwonly("keyspace_id", kwnames, args + nargs, names, kv) <
		    0)
			return NULL;
		params = kv[0];
	}
	type = sr_name_utf8(args[0], "vindex type", &tl);
	if (type == NULL)
		return NULL;
	np = params_from_py(params, p, sizeof p / sizeof p[0], &items);
	if (np < 0 || sr_values_from_py(st, args[1], &vb) < 0) {
		Py_XDECREF(items);
		return NULL;
	}
	rc = map_value(type, p, (size_t)np, &vb, buf, sizeof buf, &out, &len,
	               &err);
	sr_valbuf_release(&vb);
	Py_XDECREF(items);
	if (rc == ROUTER_OK)
		res = PyBytes_FromStringAndSize((const char *)out,
		                                (Py_ssize_t)len);
	else if (rc == ROUTER_NONE)
		res = Py_NewRef(Py_None);
	else
		sr_raise_error(st, rc, &err, NULL);
	if (out != buf)
		PyMem_Free(out);
	return res;
}

PyDoc_STRVAR(verify_snapshot_doc,
"verify_snapshot(path, /)\n--\n\n"
"Verify a last-known-good snapshot (Router.save_snapshot, or\n"
"Router(snapshot_path=...)) without loading it into a router: the\n"
"format tag, the exact length, the checksum, and that the document\n"
"gives back the recorded version and content hash.  Returns a\n"
"SnapshotInfo(version, content_hash).  Raises FileNotFoundError (no\n"
"file), OSError (unreadable), DocumentError (code EDOC: not a snapshot,\n"
"truncated, extended or corrupted, the message says which),\n"
"InvalidError (ERANGE: too large).  The GIL is released while the file\n"
"is read.");

static PyObject *mod_verify_snapshot(PyObject *m, PyObject *path)
{
	uint64_t version = 0, hash = 0;

	if (sr_snapshot_read(get_state(m), path, NULL, &version, &hash) < 0)
		return NULL;
	return sr_structseq_from(get_state(m)->SnapshotInfo_Type,
				 Py_BuildValue("(KK)",
	                                    (unsigned long long)version,
	                                    (unsigned long long)hash));
}

PyDoc_STRVAR(shard_ranges_doc,
"shard_ranges(n, /)\n--\n\n"
"The names of an even partition in n shards, as Vitess's\n"
"GenerateShardRanges (n in 1..65536): shard_ranges(2) == ['-80', '80-'].");

static PyObject *mod_shard_ranges(PyObject *m, PyObject *arg)
{
	Py_ssize_t n = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
	PyObject *list;

	(void)m;
	if (n == -1 && PyErr_Occurred())
		return NULL;
	if (n < 1 || n > 65536)
		return PyErr_Format(PyExc_ValueError,
		                    "n must be 1..65536, not %zd", n);
	list = PyList_New(n);
	for (Py_ssize_t i = 0; list != NULL && i < n; i++) {
		char name[16];
		PyObject *s;

		if (router_shard_range_name((unsigned)i, (unsigned)n, name,
		                            sizeof name) != ROUTER_OK ||
		    (s = PyUnicode_FromString(name)) == NULL) {
			Py_CLEAR(list);
			if (!PyErr_Occurred())
				PyErr_SetString(PyExc_SystemError,
				                "router_shard_range_name failed");
			break;
		}
		PyList_SET_ITEM(list, i, s);
	}
	return list;
}

PyDoc_STRVAR(noop_doc,
"_noop(a, b, c, /)\n--\n\n"
"Does nothing (benchmark floor for a 3-argument METH_FASTCALL call).");

static PyObject *mod_noop(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
	(void)m;
	(void)args;
	if (UNLIKELY(nargs != 3))
		return sr_wrong_nargs("_noop", 3, nargs);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(noop1_doc,
"_noop1(x, /)\n--\n\n"
"Does nothing (benchmark floor for a METH_O call).");

static PyObject *mod_noop1(PyObject *m, PyObject *x)
{
	(void)m;
	(void)x;
	Py_RETURN_NONE;
}

PyDoc_STRVAR(cg_toggle_doc,
"_cg_toggle()\n--\n\n"
"Benchmark helper: toggle callgrind's collection (bench.py --callgrind).\n"
"Returns True when built with valgrind's header, else does nothing.");

static PyObject *mod_cg_toggle(PyObject *m, PyObject *unused)
{
	(void)m;
	(void)unused;
#ifdef HAVE_CALLGRIND
	CALLGRIND_TOGGLE_COLLECT;
	Py_RETURN_TRUE;
#else
	Py_RETURN_FALSE;
#endif
}

static PyMethodDef module_methods[] = {
    {"keyspace_id", (PyCFunction)(void (*)(void))mod_keyspace_id,
     METH_FASTCALL | METH_KEYWORDS, keyspace_id_doc},
    {"shard_ranges", (PyCFunction)mod_shard_ranges, METH_O,
     shard_ranges_doc},
    {"verify_snapshot", (PyCFunction)mod_verify_snapshot, METH_O,
     verify_snapshot_doc},
    {"_noop", (PyCFunction)(void (*)(void))mod_noop, METH_FASTCALL,
     noop_doc},
    {"_noop1", (PyCFunction)mod_noop1, METH_O, noop1_doc},
    {"_cg_toggle", (PyCFunction)mod_cg_toggle, METH_NOARGS, cg_toggle_doc},
    {NULL, NULL, 0, NULL}};

PyTypeObject *sr_new_structseq(PyObject *m, PyStructSequence_Desc *d)
{
	PyTypeObject *t = PyStructSequence_NewType(d);

	if (t != NULL &&
	    PyModule_AddObjectRef(m, strchr(d->name, '.') + 1, (PyObject *)t) <
	        0) {
		Py_DECREF(t);
		return NULL;
	}
	return t;
}

PyTypeObject *sr_new_type(PyObject *m, PyType_Spec *spec)
{
	PyTypeObject *t =
	    (PyTypeObject *)PyType_FromModuleAndSpec(m, spec, NULL);

	if (t != NULL && PyModule_AddType(m, t) < 0) {
		Py_DECREF(t);
		return NULL;
	}
	return t;
}

static int module_exec(PyObject *m)
{
	modstate *st = get_state(m);
	char ver[32];

	if (sr_errors_add(m, st) < 0 || sr_values_add(m, st) < 0 ||
	    sr_route_add(m, st) < 0 || sr_table_add(m, st) < 0 ||
	    sr_events_add(m, st) < 0 || sr_router_add(m, st) < 0 ||
	    sr_follower_add(m, st) < 0)
		return -1;
#define ADD_CODE(name, value, desc)                                            \
	if (PyModule_AddIntConstant(m, #name, value) < 0)                      \
		return -1;
	ROUTER_ERRNO_MAP(ADD_CODE)
#undef ADD_CODE
	/* Imported now rather than on first use: no lazy initialization to
	 * race on when there is no GIL. */
	{
		PyObject *json = PyImport_ImportModule("json");
		PyObject *array = PyImport_ImportModule("array");
		PyObject *arr;

		st->json_dumps =
		    json ? PyObject_GetAttrString(json, "dumps") : NULL;
		arr = array ? PyObject_GetAttrString(array, "array") : NULL;
		st->array_zero =
		    arr ? PyObject_CallFunction(arr, "s[i]", "I", 0) : NULL;
		Py_XDECREF(json);
		Py_XDECREF(array);
		Py_XDECREF(arr);
		if (st->json_dumps == NULL || st->array_zero == NULL)
			return -1;
	}
	snprintf(ver, sizeof ver, "%d.%d.%d", ROUTER_VERSION_MAJOR,
	         ROUTER_VERSION_MINOR, ROUTER_VERSION_PATCH);
	if (PyModule_AddStringConstant(m, "__version__", ver) < 0 ||
	    PyModule_AddIntConstant(m, "NONE", ROUTER_NONE) < 0 ||
	    PyModule_AddObject(m, "NO_SHARD",
	                       PyLong_FromUnsignedLong(ROUTER_NO_SHARD)) < 0 ||
	    PyModule_AddIntConstant(m, "NOGIL_THRESHOLD", NOGIL_THRESHOLD) < 0 ||
	    PyModule_AddObject(m, "DOC_MAX_SIZE",
	                       PyLong_FromSize_t(ROUTER_DOC_MAX_SIZE)) < 0)
		return -1;
	return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
	modstate *st = get_state(m);

	if (st == NULL)
		return 0;
	Py_VISIT(st->Router_Type);
	Py_VISIT(st->Table_Type);
	Py_VISIT(st->Value_Type);
	Py_VISIT(st->DiffEntry_Type);
	Py_VISIT(st->HistoryEntry_Type);
	Py_VISIT(st->Verdict_Type);
	Py_VISIT(st->Note_Type);
	Py_VISIT(st->Event_Type);
	Py_VISIT(st->Route_Type);
	Py_VISIT(st->ShadowStat_Type);
	Py_VISIT(st->ShadowVerdict_Type);
	Py_VISIT(st->Fence_Type);
	Py_VISIT(st->Pending_Type);
	Py_VISIT(st->SnapshotInfo_Type);
	Py_VISIT(st->Error);
	Py_VISIT(st->RefusedError);
	Py_VISIT(st->FencedError);
	Py_VISIT(st->InvariantError);
	Py_VISIT(st->ShadowError);
	Py_VISIT(st->QuarantinedError);
	Py_VISIT(st->SnapshotWarning);
	Py_VISIT(st->DocumentError);
	Py_VISIT(st->NoRouteError);
	Py_VISIT(st->ResourceError);
	Py_VISIT(st->InvalidDocumentError);
	Py_VISIT(st->HistoryError);
	Py_VISIT(st->InvalidError);
	Py_VISIT(st->NotFoundError);
	Py_VISIT(st->DocumentWarning);
	Py_VISIT(st->json_dumps);
	Py_VISIT(st->array_zero);
	Py_VISIT(st->Follower_Type);
	Py_VISIT(st->FollowerEvent_Type);
	return 0;
}

static int module_clear(PyObject *m)
{
	modstate *st = get_state(m);

	if (st == NULL)
		return 0;
	Py_CLEAR(st->Router_Type);
	Py_CLEAR(st->Table_Type);
	Py_CLEAR(st->Value_Type);
	Py_CLEAR(st->DiffEntry_Type);
	Py_CLEAR(st->HistoryEntry_Type);
	Py_CLEAR(st->Verdict_Type);
	Py_CLEAR(st->Note_Type);
	Py_CLEAR(st->Event_Type);
	Py_CLEAR(st->Route_Type);
	Py_CLEAR(st->ShadowStat_Type);
	Py_CLEAR(st->ShadowVerdict_Type);
	Py_CLEAR(st->Fence_Type);
	Py_CLEAR(st->Pending_Type);
	Py_CLEAR(st->SnapshotInfo_Type);
	Py_CLEAR(st->Error);
	Py_CLEAR(st->RefusedError);
	Py_CLEAR(st->FencedError);
	Py_CLEAR(st->InvariantError);
	Py_CLEAR(st->ShadowError);
	Py_CLEAR(st->QuarantinedError);
	Py_CLEAR(st->SnapshotWarning);
	Py_CLEAR(st->DocumentError);
	Py_CLEAR(st->NoRouteError);
	Py_CLEAR(st->ResourceError);
	Py_CLEAR(st->InvalidDocumentError);
	Py_CLEAR(st->HistoryError);
	Py_CLEAR(st->InvalidError);
	Py_CLEAR(st->NotFoundError);
	Py_CLEAR(st->DocumentWarning);
	Py_CLEAR(st->json_dumps);
	Py_CLEAR(st->array_zero);
	Py_CLEAR(st->Follower_Type);
	Py_CLEAR(st->FollowerEvent_Type);
	return 0;
}

static void module_free(void *m)
{
	module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil
    /* Lookups take no lock and every cache entry is published with a
     * release store and never freed before the Router. */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}};

PyDoc_STRVAR(module_doc,
"shardrouter: librouter for Python, an embedded Vitess-exact shard\n"
"router with lock-free lookups and guarded publishes.\n\n"
"    r = shardrouter.Router()\n"
"    r.publish({'keyspaces': {...}})\n"
"    r.route('user', 'users', 42)   # -> '-80'\n");

struct PyModuleDef sr_shardrouter_module = {
    PyModuleDef_HEAD_INIT,
    "shardrouter._shardrouter",
    module_doc,
    sizeof(modstate),
    module_methods,
    module_slots,
    module_traverse,
    module_clear,
    module_free};

PyMODINIT_FUNC PyInit__shardrouter(void)
{
	return PyModuleDef_Init(&sr_shardrouter_module);
}
