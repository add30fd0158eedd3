/* Beyond the guards, as Router methods: last-known-good snapshots,
 * quarantine (the pending table), fences, operator invariants and the
 * shadow sample. */
#include "binding.h"

/* The exception of a snapshot that cannot be saved or read: by its code
 * (a damaged file is EDOC: an InvalidDocumentError with .path "" and no
 * notes; an unwritable or unreadable one EIO: a ResourceError), except a
 * missing file when reading (ENOTFOUND), which is FileNotFoundError with
 * .filename, as open() would raise it (docs/errors.md, "Opening a
 * file"). */
static PyObject *raise_snapshot_error(modstate *st, int rc,
                                      const router_error *e, PyObject *path,
                                      int reading)
{
	if (reading && rc == ROUTER_ENOTFOUND)
		return sr_raise_os_error(rc, e, ENOENT, path);
	if (rc == ROUTER_EDOC)
		return sr_raise_error(st, rc, e, "path", PyUnicode_FromString(""),
				      "line", PyLong_FromLong(0), "column",
				      PyLong_FromLong(0), "notes", PyTuple_New(0),
				      NULL);
	return sr_raise_error(st, rc, e, NULL);
}

SR_DOC(sr_Router_save_snapshot_doc,
"save_snapshot($self, path, /)\n--\n\n"
"Write the table in service to path (str or os.PathLike) as a\n"
"last-known-good snapshot, atomically: into a new temporary file beside\n"
"it, fsync, rename over path, fsync of the directory.  A crash leaves\n"
"the old file or the new one, never a mix.  Publishers wait meanwhile;\n"
"lookups do not, and the GIL is released.\n\n"
"Raises Error (code ENOTFOUND) when nothing is published, OSError when\n"
"the file cannot be written (nothing at path changed).");

PyObject *sr_Router_save_snapshot(RouterObject *self, PyObject *path)
{
	PyObject *fs;
	router_error err;
	int rc;

	if ((fs = sr_path_bytes(path, "path")) == NULL)
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = router_snapshot_save(self->r, PyBytes_AS_STRING(fs), &err);
	Py_END_ALLOW_THREADS
	Py_DECREF(fs);
	if (rc != ROUTER_OK)
		return raise_snapshot_error(self->st, rc, &err, path, 0);
	Py_RETURN_NONE;
}

/* Read (load: and keep the table) and verify the snapshot at path, GIL
 * released.  Returns 0, or -1 with an exception. */
int sr_snapshot_read(modstate *st, PyObject *path, router_table **t,
                     uint64_t *version, uint64_t *hash)
{
	PyObject *fs;
	router_error err;
	int rc;

	if ((fs = sr_path_bytes(path, "path")) == NULL)
		return -1;
	Py_BEGIN_ALLOW_THREADS
	if (t != NULL)
		rc = router_snapshot_load(PyBytes_AS_STRING(fs), NULL, t,
		                          version, hash, &err);
	else
		rc = router_snapshot_verify(PyBytes_AS_STRING(fs), version,
		                            hash, &err);
	Py_END_ALLOW_THREADS
	Py_DECREF(fs);
	if (rc != ROUTER_OK) {
		raise_snapshot_error(st, rc, &err, path, 1);
		return -1;
	}
	return 0;
}

SR_DOC(sr_Router_from_snapshot_doc,
"from_snapshot($cls, path, /, **options)\n--\n\n"
"A new Router (options as Router(): history, max_shrink, on_event,\n"
"snapshot_path, fence_cap) serving the table of the snapshot at path,\n"
"with its recorded version: for a process that restarts while its live\n"
"source is missing or broken.  The snapshot is verified whole first (as\n"
"verify_snapshot) and is never half-loaded.\n\n"
"    try:\n"
"        router = Router.from_snapshot(LKG, snapshot_path=LKG)\n"
"    except (FileNotFoundError, shardrouter.DocumentError):\n"
"        router = Router(snapshot_path=LKG)   # first start, or damaged\n\n"
"Raises FileNotFoundError (no snapshot yet), OSError (unreadable),\n"
"DocumentError (not a snapshot, truncated, corrupted).");

PyObject *sr_Router_from_snapshot(PyObject *cls, PyObject *const *args,
                                  Py_ssize_t nargs, PyObject *kwnames)
{
	router_table *t = NULL;
	PyObject *self, *verdict;
	uint64_t version, hash;

	if (nargs != 1)
		return sr_wrong_nargs("from_snapshot", 1, nargs);
	/* The options go to Router() as given: its keyword values follow
	 * the path in args. */
	self = PyObject_Vectorcall(cls, args + 1, 0, kwnames);
	if (self == NULL)
		return NULL;
	/* cls is Router: the type cannot be subclassed. */
	if (sr_snapshot_read(((RouterObject *)self)->st, args[0], &t, &version,
			     &hash) < 0) {
		Py_DECREF(self);
		return NULL;
	}
	verdict = sr_publish_table((RouterObject *)self, t, 0, NULL);
	if (verdict == NULL) {
		Py_DECREF(self);
		return NULL;
	}
	Py_DECREF(verdict);
	return self;
}

SR_DOC(sr_Router_pending_doc,
"The table a publish(..., quarantine=True) left pending, not serving, as\n"
"a Pending (version, content_hash, code, name, culprit, reason, diff,\n"
"since_unix_ns; code is the guard that refused it), or None.  Computing\n"
"the diff takes the writer lock (the GIL is released meanwhile).");

PyObject *sr_Router_get_pending(RouterObject *self, void *c)
{
	router_pending_info info;
	router_diff *d = NULL;
	router_error err;
	PyObject *diff, *o;
	int rc;

	(void)c;
	Py_BEGIN_ALLOW_THREADS
	rc = router_pending(self->r, &info, &d, &err);
	Py_END_ALLOW_THREADS
	if (rc == ROUTER_ENOTFOUND)
		Py_RETURN_NONE;
	if (rc != ROUTER_OK)
		return sr_raise_error(self->st, rc, &err, NULL);
	diff = sr_take_diff(self->st, d);
	if (diff == NULL)
		return NULL;
	o = Py_BuildValue(
	    "(KKiNssNL)", (unsigned long long)info.version,
	    (unsigned long long)info.content_hash, info.reason.code,
	    sr_errname_or_none(info.reason.code), info.reason.culprit,
	    info.reason.message[0] ? info.reason.message
	                           : router_strerror(info.reason.code),
	    diff, (long long)info.since_unix_ns);
	return sr_structseq_from(self->st->Pending_Type, o);
}

SR_DOC(sr_Router_approve_pending_doc,
"approve_pending($self, /)\n--\n\n"
"Publish the pending table as if allow_destructive were given (the\n"
"empty, shrink and shadow guards are overridden) and return its Verdict.\n"
"Fences, invariants and the version guard still apply: if one refuses,\n"
"its RefusedError subclass is raised and the table stays pending.\n"
"Raises Error (code ENOTFOUND) when nothing is pending.");

PyObject *sr_Router_approve_pending(RouterObject *self, PyObject *unused)
{
	(void)unused;
	return sr_publish_table(self, NULL, 0, NULL);
}

SR_DOC(sr_Router_discard_pending_doc,
"discard_pending($self, /)\n--\n\n"
"Drop the pending table; with fencing on (fence_cap) its content is\n"
"fenced: an operator judged it bad.  Returns True, or False when nothing\n"
"was pending.");

PyObject *sr_Router_discard_pending(RouterObject *self, PyObject *unused)
{
	router_error err;
	capture cap;
	int rc;

	(void)unused;
	sr_capture_init(&cap, self);
	sr_tl_capture = &cap;
	Py_BEGIN_ALLOW_THREADS
	rc = router_pending_discard(self->r, &err);
	Py_END_ALLOW_THREADS
	sr_tl_capture = NULL;
	sr_fire_event(self, &cap, NULL, NULL);
	sr_capture_free(&cap);
	if (rc == ROUTER_ENOTFOUND)
		Py_RETURN_FALSE;
	if (rc != ROUTER_OK)
		return sr_raise_error(self->st, rc, &err, NULL);
	Py_RETURN_TRUE;
}

static PyObject *fence_py(modstate *st, const router_fence *f)
{
	static const char *const origins[] = {"?", "refused", "rolled_back",
	                                      "discarded", "manual"};
	unsigned o = (unsigned)f->origin <= 4 ? (unsigned)f->origin : 0;

	return sr_structseq_from(
	    st->Fence_Type,
	    Py_BuildValue("(KKNiNL)", (unsigned long long)f->content_hash,
	                  (unsigned long long)f->version,
	                  PyUnicode_InternFromString(origins[o]), f->code,
	                  sr_errname_or_none(f->code),
	                  (long long)f->fenced_unix_ns));
}

SR_DOC(sr_Router_fences_doc,
"fences($self, /)\n--\n\n"
"The fenced content hashes, oldest first, as Fence (content_hash,\n"
"version, origin, code, name, fenced_unix_ns): at most fence_cap, empty\n"
"when fencing is off.");

PyObject *sr_Router_fences(RouterObject *self, PyObject *unused)
{
	router_fence *f = NULL;
	size_t n, cap = 0;
	PyObject *list;

	(void)unused;
	for (;;) {
		n = router_fences(self->r, f, cap);
		if (n <= cap)
			break;
		PyMem_Free(f);
		cap = n + 8;
		f = PyMem_Malloc(cap * sizeof *f);
		if (f == NULL)
			return PyErr_NoMemory();
	}
	list = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; list != NULL && i < n; i++) {
		PyObject *o = fence_py(self->st, &f[i]);

		if (o == NULL) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, o);
	}
	PyMem_Free(f);
	return list;
}

/* A content hash argument: an int in 0 .. 2**64-1. */
static int hash_arg(PyObject *o, uint64_t *out)
{
	unsigned long long x;

	if (!PyLong_Check(o)) {
		PyErr_Format(PyExc_TypeError,
		             "content_hash must be an int, not %.100s",
		             Py_TYPE(o)->tp_name);
		return -1;
	}
	x = PyLong_AsUnsignedLongLong(o);
	if (x == (unsigned long long)-1 && PyErr_Occurred()) {
		PyErr_Clear();
		PyErr_Format(PyExc_ValueError,
		             "content_hash %R is out of range 0 .. 2**64-1", o);
		return -1;
	}
	*out = x;
	return 0;
}

SR_DOC(sr_Router_fence_doc,
"fence($self, content_hash, /)\n--\n\n"
"Fence a content hash by hand (e.g. one a peer fenced): a publish of\n"
"that content is refused with FencedError, whatever its version.\n"
"Raises Error (code ESTATE) when fencing is off (fence_cap=0).");

PyObject *sr_Router_fence(RouterObject *self, PyObject *arg)
{
	router_error err;
	uint64_t h;
	int rc;

	if (hash_arg(arg, &h) < 0)
		return NULL;
	rc = router_fence_add(self->r, h, &err);
	if (rc != ROUTER_OK)
		return sr_raise_error(self->st, rc, &err, NULL);
	Py_RETURN_NONE;
}

SR_DOC(sr_Router_lift_fence_doc,
"lift_fence($self, content_hash, /)\n--\n\n"
"Lift the fence on a content hash so that content may be published\n"
"again.  Returns True, or False when it was not fenced.");

PyObject *sr_Router_lift_fence(RouterObject *self, PyObject *arg)
{
	router_error err;
	uint64_t h;
	int rc;

	if (hash_arg(arg, &h) < 0)
		return NULL;
	rc = router_fence_lift(self->r, h, &err);
	if (rc == ROUTER_ENOTFOUND)
		Py_RETURN_FALSE;
	if (rc != ROUTER_OK)
		return sr_raise_error(self->st, rc, &err, NULL);
	Py_RETURN_TRUE;
}

SR_DOC(sr_Router_clear_fences_doc,
"clear_fences($self, /)\n--\n\n"
"Lift every fence.");

PyObject *sr_Router_clear_fences(RouterObject *self, PyObject *unused)
{
	(void)unused;
	router_fence_clear(self->r);
	Py_RETURN_NONE;
}

/* An invariant's text as UTF-8 without NUL, or NULL with an exception. */
static const char *spec_arg(PyObject *o)
{
	Py_ssize_t n;
	const char *s;

	s = sr_name_utf8(o, "invariant", &n);
	return s;
}

SR_DOC(sr_Router_add_invariant_doc,
"add_invariant($self, spec, /)\n--\n\n"
"Declare an operator invariant, checked on every publish and approval\n"
"before the other guards; a publish that breaks it raises\n"
"InvariantError naming it, and allow_destructive does not override it.\n"
"One line, names as in the VSchema:\n\n"
"    'customer sharded'                  stays sharded\n"
"    'customer shards >= 4'              keeps at least 4 shards\n"
"    'customer tables customer,corder'   keeps these tables\n"
"    'customer.customer vindex xxhash'   primary vindex of this type\n"
"    'customer.customer vindex'          keeps the type in service\n\n"
"A trailing '# comment' is allowed; declaring one twice does nothing.\n"
"Raises ValueError (syntax: the message says what was expected, or\n"
"more than 256 invariants), InvariantError when the table in service\n"
"already breaks it (it is not declared).");

PyObject *sr_Router_add_invariant(RouterObject *self, PyObject *arg)
{
	const char *spec = spec_arg(arg);
	router_error err;
	int rc;

	if (spec == NULL)
		return NULL;
	rc = router_invariant_add(self->r, spec, &err);
	if (rc == ROUTER_OK)
		Py_RETURN_NONE;
	if (rc == ROUTER_EINVARIANT) {
		uint64_t v = router_serving_version(self->r);

		return sr_raise_error(self->st, rc, &err, "reason",
		                  PyUnicode_FromString(err.message), "diff",
		                  PyTuple_New(0), "version_from",
		                  PyLong_FromUnsignedLongLong(v), "version",
		                  PyLong_FromUnsignedLongLong(v), "shadow",
		                  Py_NewRef(Py_None), NULL);
	}
	if (rc == ROUTER_ERANGE)
		rc = ROUTER_EINVAL; /* too many: a bad argument */
	return sr_raise_error(self->st, rc, &err, NULL);
}

SR_DOC(sr_Router_remove_invariant_doc,
"remove_invariant($self, spec, /)\n--\n\n"
"Remove the invariant with this text (compared in canonical form, so\n"
"blanks and comments do not matter).  Returns True, or False when no\n"
"such invariant was declared.  Raises ValueError for a syntax error.");

PyObject *sr_Router_remove_invariant(RouterObject *self, PyObject *arg)
{
	const char *spec = spec_arg(arg);
	router_error err;
	int rc;

	if (spec == NULL)
		return NULL;
	rc = router_invariant_remove(self->r, spec, &err);
	if (rc == ROUTER_ENOTFOUND)
		Py_RETURN_FALSE;
	if (rc != ROUTER_OK)
		return sr_raise_error(self->st, rc, &err, NULL);
	Py_RETURN_TRUE;
}

SR_DOC(sr_Router_invariants_doc,
"invariants($self, /)\n--\n\n"
"The declared invariants in canonical text form, in declaration order.");

PyObject *sr_Router_invariants(RouterObject *self, PyObject *unused)
{
	size_t n = router_invariant_get(self->r, 0, NULL, 0), cap = 1024;
	char *buf = PyMem_Malloc(cap);
	PyObject *list = PyList_New(0);

	(void)unused;
	if (buf == NULL || list == NULL) {
		PyMem_Free(buf);
		Py_XDECREF(list);
		return PyErr_NoMemory();
	}
	for (size_t i = 0; i < n; i++) {
		PyObject *s;

		/* The text's length is not reported: a text that fills
		 * the buffer may have been cut, so read it again bigger. */
		for (;;) {
			buf[0] = '\0';
			n = router_invariant_get(self->r, i, buf, cap);
			if (strlen(buf) + 1 < cap || cap >= (1u << 24))
				break;
			cap *= 2;
			PyMem_Free(buf);
			buf = PyMem_Malloc(cap);
			if (buf == NULL) {
				Py_DECREF(list);
				return PyErr_NoMemory();
			}
		}
		if (i >= n)
			break; /* removed meanwhile by another thread */
		s = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)strlen(buf),
		                         "replace");
		if (s == NULL || PyList_Append(list, s) < 0) {
			Py_XDECREF(s);
			Py_CLEAR(list);
			break;
		}
		Py_DECREF(s);
	}
	PyMem_Free(buf);
	return list;
}

/* A threshold of set_sample: a real number in [0, 1]. */
static int share_arg(PyObject *o, const char *what, double *out)
{
	double x;

	if (PyLong_Check(o) || PyFloat_Check(o)) {
		x = PyFloat_AsDouble(o);
		if (x == -1.0 && PyErr_Occurred())
			return -1;
	} else {
		PyErr_Format(PyExc_TypeError, "%s must be a float, not %.100s",
		             what, Py_TYPE(o)->tp_name);
		return -1;
	}
	if (!(x >= 0.0 && x <= 1.0)) {
		PyErr_Format(PyExc_ValueError, "%s must be within 0..1, not %R",
		             what, o);
		return -1;
	}
	*out = x;
	return 0;
}

SR_DOC(sr_Router_set_sample_doc,
"set_sample($self, keys, /, *, max_moved=1.0, max_unroutable=0.0)\n--\n\n"
"Give the router sample keys, taken from the application's own traffic:\n"
"from then on every publish and check first routes them through the\n"
"table in service and the new table (under the writer lock; lookups are\n"
"not touched), and reports the ShadowVerdict in Verdict.shadow,\n"
"RefusedError.shadow and Event.shadow.  When, in some keyspace, more\n"
"than max_moved of its routed keys move to another shard, or more than\n"
"max_unroutable become unroutable, the publish is refused with\n"
"ShadowError (unless allow_destructive; with quarantine=True it is kept\n"
"pending).\n\n"
"keys: an iterable of (keyspace, table, value) triples, keyspace and\n"
"table str, value as route() takes it (int, str, bytes, None, Value, a\n"
"tuple for a multicolumn vindex); copied.  An empty iterable clears the\n"
"sample.  max_moved (default 1.0: never refuse for moves; resharding\n"
"moves keys by design) and max_unroutable (default 0.0: any key becoming\n"
"unroutable refuses) are shares within 0..1.\n"
"Raises TypeError / OverflowError for values route() would refuse,\n"
"ValueError for thresholds outside 0..1, malformed triples or names.");

/* The sample keys being converted: the C keys, their values, and the
 * buffers those values borrow (kept until the library has copied them). */
typedef struct {
	router_sample_key *keys;
	router_value *vals;
	Py_buffer *views;
	Py_ssize_t nviews, nvals;
} sample_buf;

static void sample_buf_release(sample_buf *b)
{
	for (Py_ssize_t i = 0; i < b->nviews; i++)
		PyBuffer_Release(&b->views[i]);
	PyMem_Free(b->views);
	PyMem_Free(b->keys);
	PyMem_Free(b->vals);
}

/* Keep the buffers the values of vb borrow (vb's views move into b). */
static int sample_keep_views(sample_buf *b, valbuf *vb)
{
	Py_buffer *nv;

	if (vb->nviews == 0)
		return 0;
	nv = PyMem_Realloc(b->views,
	                   (size_t)(b->nviews + vb->nviews) * sizeof *nv);
	if (nv == NULL) {
		sr_valbuf_release(vb);
		PyErr_NoMemory();
		return -1;
	}
	b->views = nv;
	memcpy(b->views + b->nviews, vb->views,
	       (size_t)vb->nviews * sizeof *nv);
	b->nviews += vb->nviews;
	return 0;
}

/* Sample key i from a (keyspace, table, value) triple.  Returns 0, or -1
 * with TypeError / ValueError / OverflowError. */
static int sample_key(modstate *st, PyObject *k, sample_buf *b, Py_ssize_t i)
{
	router_sample_key *key = &b->keys[i];
	Py_ssize_t kl, tl;
	valbuf vb;

	if (!PyTuple_Check(k) && !PyList_Check(k)) {
		PyErr_Format(PyExc_TypeError,
		             "a sample key is a (keyspace, table, value) tuple, "
		             "not %.100s",
		             Py_TYPE(k)->tp_name);
		return -1;
	}
	if (PySequence_Fast_GET_SIZE(k) != 3) {
		PyErr_Format(PyExc_ValueError,
		             "a sample key is (keyspace, table, value), not %zd "
		             "items",
		             PySequence_Fast_GET_SIZE(k));
		return -1;
	}
	key->keyspace = sr_name_utf8(PySequence_Fast_GET_ITEM(k, 0), "keyspace",
	                             &kl);
	key->table = key->keyspace ? sr_name_utf8(PySequence_Fast_GET_ITEM(k, 1),
	                                          "table", &tl)
	                           : NULL;
	if (key->table == NULL)
		return -1;
	key->keyspace_len = (size_t)kl;
	key->table_len = (size_t)tl;
	if (sr_values_from_py(st, PySequence_Fast_GET_ITEM(k, 2), &vb) < 0 ||
	    sample_keep_views(b, &vb) < 0)
		return -1;
	memcpy(b->vals + b->nvals, vb.v, vb.n * sizeof *b->vals);
	key->values = b->vals + b->nvals;
	key->nvalues = vb.n;
	b->nvals += (Py_ssize_t)vb.n;
	return 0;
}

/* set_sample's keyword arguments into opt. */
static int sample_opts(PyObject *kwnames, PyObject *const *kwargs,
                       router_shadow_options *opt)
{
	static const char *const names[] = {"max_moved", "max_unroutable",
	                                    NULL};
	PyObject *kv[2] = {NULL, NULL};

	if (sr_kwonly("set_sample", kwnames, kwargs, names, kv) < 0)
		return -1;
	if ((kv[0] != NULL && share_arg(kv[0], "max_moved", &opt->max_moved) <
	                          0) ||
	    (kv[1] != NULL &&
	     share_arg(kv[1], "max_unroutable", &opt->max_unroutable) < 0))
		return -1;
	return 0;
}

PyObject *sr_Router_set_sample(RouterObject *self, PyObject *const *args,
                               Py_ssize_t nargs, PyObject *kwnames)
{
	router_shadow_options opt = ROUTER_SHADOW_OPTIONS_INIT;
	PyObject *seq = NULL, *ret = NULL;
	sample_buf b = {NULL, NULL, NULL, 0, 0};
	Py_ssize_t n = 0, i;
	router_error err;
	int rc;

	if (nargs != 1)
		return sr_wrong_nargs("set_sample", 1, nargs);
	if (sample_opts(kwnames, args + nargs, &opt) < 0)
		return NULL;
	if (PyUnicode_Check(args[0]) || PyBytes_Check(args[0]) ||
	    PyByteArray_Check(args[0]))
		return PyErr_Format(PyExc_TypeError,
		                    "sample keys must be an iterable of "
		                    "(keyspace, table, value), not %.100s",
		                    Py_TYPE(args[0])->tp_name);
	seq = PySequence_Fast(args[0], "sample keys must be an iterable of "
	                               "(keyspace, table, value)");
	if (seq == NULL)
		return NULL;
	n = PySequence_Fast_GET_SIZE(seq);
	b.keys = PyMem_Calloc((size_t)(n ? n : 1), sizeof *b.keys);
	b.vals = PyMem_Calloc((size_t)(n ? n : 1) * ROUTER_MULTICOL_MAX,
	                      sizeof *b.vals);
	if (b.keys == NULL || b.vals == NULL) {
		PyErr_NoMemory();
		goto done;
	}
	for (i = 0; i < n; i++)
		if (sample_key(self->st, PySequence_Fast_GET_ITEM(seq, i), &b,
		               i) < 0)
			goto done;
	/* Under the GIL: the objects the keys borrow from cannot change. */
	rc = router_shadow_set_sample(self->r, n ? b.keys : NULL, (size_t)n,
	                              &opt, &err);
	if (rc != ROUTER_OK) {
		sr_raise_error(self->st, rc, &err, NULL);
		goto done;
	}
	ret = Py_NewRef(Py_None);
done:
	sample_buf_release(&b);
	Py_XDECREF(seq);
	return ret;
}
