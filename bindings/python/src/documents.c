/* Routing documents from Python: a dict, JSON text, a file object or a
 * path (read by router_doc_load_file), with publish()'s and check()'s
 * keyword options, into a table. */
#include "binding.h"

/* The exception of a failed load (its class by code: mostly
 * InvalidDocumentError) with .path/.line/.column of the first error note
 * and .notes with every note. */
static PyObject *raise_doc_error(modstate *st, int rc, const router_error *e,
                                 const router_doc_report *rep)
{
	const router_doc_note *first = NULL;
	size_t i, n = router_doc_report_count(rep, 0);
	PyObject *notes;

	if (rc == ROUTER_ENOMEM || rc == ROUTER_EINVAL)
		return sr_raise_error(st, rc, e, NULL);
	for (i = 0; i < n; i++) {
		const router_doc_note *x = router_doc_report_get(rep, i);

		if (x->kind == ROUTER_DOC_NOTE_ERROR) {
			first = x;
			break;
		}
	}
	notes = sr_notes_tuple(st, rep, 0);
	if (notes == NULL)
		return NULL;
	return sr_raise_error(
	    st, rc, e, "path",
	    PyUnicode_FromString(first && first->path ? first->path
	                                              : (e ? e->culprit : "")),
	    "line", PyLong_FromLong(first ? first->line : 0), "column",
	    PyLong_FromLong(first ? first->column : 0), "notes", notes, NULL);
}

/* A document as JSON text (ptr, len), or as a path the library reads
 * (path_fs set). */
typedef struct {
	PyObject *keep; /* owns ptr (str or bytes), or NULL */
	Py_buffer view;
	int has_view;
	PyObject *path;    /* a path: as given (for OSError.filename) */
	PyObject *path_fs; /* ... and as file-system bytes */
	const char *ptr;
	size_t len;
} doc_text;

static void doc_text_release(doc_text *t)
{
	if (t->has_view)
		PyBuffer_Release(&t->view);
	Py_XDECREF(t->keep);
	Py_XDECREF(t->path);
	Py_XDECREF(t->path_fs);
	memset(t, 0, sizeof *t);
}

/* A path document: kept for router_doc_load_file, which reads it (the
 * same reader as Ruby's and routerctl's: a regular file only, at most
 * ROUTER_DOC_MAX_SIZE bytes, json_path resolved beside it).  Returns 0,
 * or -1 with TypeError / ValueError (sr_path_bytes). */
static int doc_path(PyObject *pathobj, doc_text *out)
{
	out->path_fs = sr_path_bytes(pathobj, "path");
	if (out->path_fs == NULL)
		return -1;
	out->path = Py_NewRef(pathobj); /* as given, as open() reports it */
	return 0;
}

/* The document's JSON text.  A str is JSON text when its first
 * non-whitespace character is '{', else a path; bytes-like objects are
 * JSON text; file objects (read(), not os.PathLike) are read; os.PathLike
 * objects are paths; dicts are serialized with json.dumps. */
/* A dict as JSON text: json.dumps(doc, allow_nan=False). */
static int dict_text(modstate *st, PyObject *doc, doc_text *out)
{
	PyObject *s, *args, *kw;
	Py_ssize_t n;
	const char *p;

	args = PyTuple_Pack(1, doc);
	kw = Py_BuildValue("{s:O}", "allow_nan", Py_False);
	s = args && kw ? PyObject_Call(st->json_dumps, args, kw) : NULL;
	Py_XDECREF(args);
	Py_XDECREF(kw);
	if (s == NULL)
		return -1;
	p = PyUnicode_AsUTF8AndSize(s, &n);
	if (p == NULL) {
		Py_DECREF(s);
		return -1;
	}
	out->keep = s;
	out->ptr = p;
	out->len = (size_t)n;
	return 0;
}

/* A str: JSON text when its first non-whitespace character is '{', else
 * a path. */
static int str_doc(PyObject *doc, doc_text *out)
{
	Py_ssize_t n, i;
	const char *p = PyUnicode_AsUTF8AndSize(doc, &n);

	if (p == NULL)
		return -1;
	for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	                      p[i] == '\r');
	     i++)
		;
	if (i < n && p[i] == '{') {
		out->keep = Py_NewRef(doc);
		out->ptr = p;
		out->len = (size_t)n;
		return 0;
	}
	if (n == 0 || i == n) {
		PyErr_SetString(PyExc_ValueError,
		                "empty document: a str is JSON text when it "
		                "starts with '{', else a path");
		return -1;
	}
	return doc_path(doc, out);
}

/* A file object is read as it stands: never reopened by its name (a
 * closed file raises its own ValueError, "I/O operation on closed file";
 * a file renamed or unlinked since it was opened is still the one
 * read). */
static int file_object_text(PyObject *doc, doc_text *out)
{
	PyObject *text = PyObject_CallMethod(doc, "read", NULL);
	Py_ssize_t n;

	if (text == NULL)
		return -1;
	if (PyBytes_Check(text)) {
		out->ptr = PyBytes_AS_STRING(text);
		out->len = (size_t)PyBytes_GET_SIZE(text);
	} else if (PyUnicode_Check(text)) {
		out->ptr = PyUnicode_AsUTF8AndSize(text, &n);
		if (out->ptr == NULL) {
			Py_DECREF(text);
			return -1;
		}
		out->len = (size_t)n;
	} else {
		PyErr_Format(PyExc_TypeError,
		             "%.100s.read() gave %.100s, not str or bytes",
		             Py_TYPE(doc)->tp_name, Py_TYPE(text)->tp_name);
		Py_DECREF(text);
		return -1;
	}
	out->keep = text; /* the text read, never a path */
	return 0;
}

/* The document's JSON text, or its path.  A str is JSON text when its
 * first non-whitespace character is '{', else a path; bytes-like objects
 * are JSON text; file objects (read(), not os.PathLike) are read;
 * os.PathLike objects are paths; dicts are serialized with json.dumps. */
static int doc_to_text(modstate *st, PyObject *doc, doc_text *out)
{
	PyObject *p;

	memset(out, 0, sizeof *out);
	if (PyDict_Check(doc))
		return dict_text(st, doc, out);
	if (PyUnicode_Check(doc))
		return str_doc(doc, out);
	if (PyBytes_Check(doc)) {
		out->keep = Py_NewRef(doc);
		out->ptr = PyBytes_AS_STRING(doc);
		out->len = (size_t)PyBytes_GET_SIZE(doc);
		return 0;
	}
	if (PyObject_CheckBuffer(doc)) {
		if (PyObject_GetBuffer(doc, &out->view, PyBUF_C_CONTIGUOUS) < 0)
			return -1;
		out->has_view = 1;
		out->ptr = out->view.buf;
		out->len = (size_t)out->view.len;
		return 0;
	}
	if (PyObject_HasAttrString(doc, "read") &&
	    !PyObject_HasAttrString(doc, "__fspath__"))
		return file_object_text(doc, out);
	p = PyOS_FSPath(doc);
	if (p == NULL) {
		PyErr_Clear();
		PyErr_Format(PyExc_TypeError,
		             "a document is a str (JSON text or a path), bytes, "
		             "a dict, a file object or an os.PathLike, not "
		             "%.100s",
		             Py_TYPE(doc)->tp_name);
		return -1;
	}
	Py_DECREF(p);
	return doc_path(doc, out);
}

/* Caller-supplied shards: {keyspace: [shard, ...]} as router_doc_shards.
 * keep receives a list holding every object whose UTF-8 is borrowed. */
/* One keyspace's entry: ks (str) and names (a list of str) as e, its
 * UTF-8 borrowed from objects that keep (a list) holds.  Returns 0, or -1
 * with TypeError / ValueError / MemoryError. */
static int shard_entry(PyObject *ks, PyObject *names, PyObject *keep,
                       router_doc_shards *e)
{
	const char **list;
	PyObject *seq;
	Py_ssize_t m, j, sl;
	int rc;

	if (!PyUnicode_Check(ks)) {
		PyErr_Format(PyExc_TypeError,
		             "shards: keyspace names must be str, not %.100s",
		             Py_TYPE(ks)->tp_name);
		return -1;
	}
	if (PyUnicode_Check(names) || PyBytes_Check(names)) {
		PyErr_Format(PyExc_TypeError,
		             "shards[%R] must be a list of shard names, not a "
		             "%.100s",
		             ks, Py_TYPE(names)->tp_name);
		return -1;
	}
	seq = PySequence_Fast(names, "shards: each value must be a list of "
	                             "shard names");
	if (seq == NULL)
		return -1;
	rc = PyList_Append(keep, seq);
	Py_DECREF(seq);
	if (rc < 0)
		return -1;
	m = PySequence_Fast_GET_SIZE(seq);
	list = PyMem_Calloc((size_t)(m ? m : 1), sizeof *list);
	if (list == NULL) {
		PyErr_NoMemory();
		return -1;
	}
	e->shards = list;
	e->nshards = (size_t)m;
	/* (The old test compared the UTF-8 length with the length in
	 * characters and looked at the first byte only: "u\0" got through
	 * as "u".) */
	e->keyspace = sr_name_utf8(ks, "shards keyspace", &sl);
	if (e->keyspace == NULL)
		return -1;
	for (j = 0; j < m; j++) {
		PyObject *name = PySequence_Fast_GET_ITEM(seq, j);

		if (!PyUnicode_Check(name)) {
			PyErr_Format(PyExc_TypeError,
			             "shards[%R]: shard names must be str, not "
			             "%.100s",
			             ks, Py_TYPE(name)->tp_name);
			return -1;
		}
		list[j] = PyUnicode_AsUTF8AndSize(name, &sl);
		if (list[j] == NULL ||
		    sr_refuse_nul(list[j], sl, "shard name") < 0)
			return -1;
	}
	return 0;
}

static int shards_from_py(PyObject *map, router_doc_shards **out, size_t *n,
                          PyObject **keep)
{
	router_doc_shards *arr = NULL;
	PyObject *items;
	Py_ssize_t ni, i;

	*out = NULL;
	*n = 0;
	*keep = NULL;
	if (!PyMapping_Check(map) || PySequence_Check(map)) {
		PyErr_Format(PyExc_TypeError,
		             "shards must be a mapping of keyspace name to a "
		             "list of shard names, not %.100s",
		             Py_TYPE(map)->tp_name);
		return -1;
	}
	items = PyMapping_Items(map);
	if (items == NULL)
		return -1;
	ni = PyList_GET_SIZE(items);
	*keep = PyList_New(0);
	arr = PyMem_Calloc((size_t)(ni ? ni : 1), sizeof *arr);
	if (*keep == NULL || arr == NULL) {
		PyErr_NoMemory();
		goto fail;
	}
	if (PyList_Append(*keep, items) < 0)
		goto fail;
	for (i = 0; i < ni; i++) {
		PyObject *kv = PyList_GET_ITEM(items, i);

		if (shard_entry(PyTuple_GET_ITEM(kv, 0), PyTuple_GET_ITEM(kv, 1),
		                *keep, &arr[i]) < 0)
			goto fail;
	}
	Py_DECREF(items);
	*out = arr;
	*n = (size_t)ni;
	return 0;
fail:
	if (arr != NULL)
		for (i = 0; i < ni; i++)
			PyMem_Free((void *)(uintptr_t)arr[i].shards);
	PyMem_Free(arr);
	Py_DECREF(items);
	Py_CLEAR(*keep);
	return -1;
}

static void shards_free(router_doc_shards *arr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		PyMem_Free((void *)(uintptr_t)arr[i].shards);
	PyMem_Free(arr);
}

/* Load doc into a new table.  *warnings receives the non-error notes;
 * UNKNOWN and UNSUPPORTED notes are also issued as DocumentWarning.
 * Returns 0, or -1 with an exception. */
int sr_load_doc(modstate *st, PyObject *doc, const doc_opts *o,
                router_table **out, PyObject **warnings)
{
	router_doc_options opt = ROUTER_DOC_OPTIONS_INIT;
	router_doc_shards *sh = NULL;
	size_t nsh = 0;
	PyObject *keep = NULL;
	router_doc_report *rep = NULL;
	router_error err;
	doc_text txt;
	int rc, eno = 0;

	*out = NULL;
	*warnings = NULL;
	if (o->keyspace != NULL) {
		Py_ssize_t kl;

		opt.keyspace = sr_name_utf8(o->keyspace, "keyspace", &kl);
		if (opt.keyspace == NULL)
			return -1;
	}
	if (o->shards != NULL &&
	    shards_from_py(o->shards, &sh, &nsh, &keep) < 0)
		return -1;
	opt.shards = sh;
	opt.nshards = nsh;
	opt.flags = o->strict ? ROUTER_DOC_STRICT : 0;
	opt.version = o->has_version ? o->version : 0;
	if (doc_to_text(st, doc, &txt) < 0) {
		shards_free(sh, nsh);
		Py_XDECREF(keep);
		return -1;
	}
	Py_BEGIN_ALLOW_THREADS
	if (txt.path_fs != NULL) {
		rc = router_doc_load_file(PyBytes_AS_STRING(txt.path_fs), &opt,
		                          out, &rep, &err);
		eno = errno; /* router_doc_load_file: why, on ROUTER_EIO */
	} else {
		rc = router_doc_load(txt.ptr, txt.len, &opt, out, &rep, &err);
	}
	Py_END_ALLOW_THREADS
	if (rc == ROUTER_EIO && txt.path != NULL && eno != 0) {
		sr_raise_os_error(rc, &err, eno, txt.path);
		doc_text_release(&txt);
		shards_free(sh, nsh);
		Py_XDECREF(keep);
		return -1;
	}
	doc_text_release(&txt);
	shards_free(sh, nsh);
	Py_XDECREF(keep);
	if (rc != ROUTER_OK) {
		raise_doc_error(st, rc, &err, rep);
		router_doc_report_free(rep);
		return -1;
	}
	*warnings = sr_notes_tuple(st, rep, 1);
	if (*warnings == NULL)
		goto fail;
	for (size_t i = 0; i < router_doc_report_count(rep, 0); i++) {
		const router_doc_note *x = router_doc_report_get(rep, i);

		if (x->kind == ROUTER_DOC_NOTE_UNKNOWN ||
		    x->kind == ROUTER_DOC_NOTE_UNSUPPORTED ||
		    x->kind == ROUTER_DOC_NOTE_RULE ||
		    x->kind == ROUTER_DOC_NOTE_KEYSPACE) {
			PyObject *msg = PyUnicode_FromFormat(
			    "%s: %s", x->path ? x->path : x->error.culprit,
			    x->error.message);

			if (msg == NULL)
				goto fail;
			rc = PyErr_WarnEx(st->DocumentWarning,
			                  PyUnicode_AsUTF8(msg), 2);
			Py_DECREF(msg);
			if (rc < 0)
				goto fail;
		}
	}
	router_doc_report_free(rep);
	return 0;
fail:
	router_doc_report_free(rep);
	router_table_free(*out);
	*out = NULL;
	Py_CLEAR(*warnings);
	return -1;
}

int sr_parse_doc_opts(const char *fn, PyObject *kwnames,
                      PyObject *const *kwargs, doc_opts *o,
                      int allow_quarantine)
{
	static const char *const names[] = {"version",  "allow_destructive",
	                                    "keyspace", "shards",
	                                    "strict",   "quarantine",
	                                    NULL};
	static const char *const check_names[] = {
	    "version", "allow_destructive", "keyspace", "shards", "strict",
	    NULL};
	PyObject *v[6] = {NULL, NULL, NULL, NULL, NULL, NULL};

	memset(o, 0, sizeof *o);
	if (sr_kwonly(fn, kwnames, kwargs,
		      allow_quarantine ? names : check_names, v) < 0)
		return -1;
	if (v[0] != NULL && v[0] != Py_None) {
		unsigned long long x;

		if (!PyLong_Check(v[0])) {
			PyErr_Format(PyExc_TypeError,
			             "version must be an int, not %.100s",
			             Py_TYPE(v[0])->tp_name);
			return -1;
		}
		x = PyLong_AsUnsignedLongLong(v[0]);
		if (x == (unsigned long long)-1 && PyErr_Occurred()) {
			PyErr_Clear();
			PyErr_Format(PyExc_OverflowError,
			             "version %R is out of range 0 .. 2**64-1",
			             v[0]);
			return -1;
		}
		o->has_version = 1;
		o->version = x;
	}
	if (v[1] != NULL && (o->destructive = PyObject_IsTrue(v[1])) < 0)
		return -1;
	if (v[2] != NULL && v[2] != Py_None) {
		if (sr_check_name(v[2], "keyspace") < 0)
			return -1;
		o->keyspace = v[2];
	}
	if (v[3] != NULL && v[3] != Py_None)
		o->shards = v[3];
	if (v[4] != NULL && (o->strict = PyObject_IsTrue(v[4])) < 0)
		return -1;
	if (v[5] != NULL && (o->quarantine = PyObject_IsTrue(v[5])) < 0)
		return -1;
	return 0;
}
