/*
 * shardrouter: the CPython binding of librouter (module
 * shardrouter._shardrouter, re-exported by the shardrouter package).
 *
 * Design
 * ------
 * The C core knows nothing of Python; this file maps values in, results
 * and status codes out.  What it does per call is chosen by what a call
 * costs in CPython (../../../shared/notes/bindings.md):
 *
 * - Calling convention.  Router.route is METH_FASTCALL (no tuple, no
 *   parser), Table.route is METH_O.  Keyword arguments are accepted only
 *   by the methods that are not on a hot path.
 *
 * - Names.  router_route resolves keyspace and table by name on every
 *   call.  Router.route instead keeps a small cache of handles keyed by the
 *   two str objects: it holds a strong reference to both, so the common
 *   case (the same literal strings every call) is two pointer compares;
 *   equal strings that are different objects match by their cached hash and
 *   content.  The cache has HC_SIZE slots, is filled on first use and never
 *   evicts: when the probe window is full, routing falls back to
 *   router_route by name, which is always correct.  Entries are immutable
 *   once published (atomic pointer store) and freed only with the Router,
 *   so a lookup needs no lock even without a GIL.
 *
 * - Results.  A route result carries shard_id, which is stable for the
 *   router's lifetime.  Each Router keeps one interned str per shard_id,
 *   built on first use, in fixed chunks that never move (two dependent
 *   loads, no hashing); every result is a new reference to it.
 *
 * - Integers.  Vitess's answer depends on the SQL type: an int that fits
 *   int64 is INT64, a larger one up to 2**64-1 is UINT64, anything else is
 *   refused (OverflowError).  Small ints are read straight from the long
 *   object; nothing wraps silently.
 *
 * - The GIL.  Never released for a single lookup (it costs more than the
 *   lookup, and much more under contention).  Released for route_many
 *   above NOGIL_THRESHOLD keys, for document parsing and file reading, and
 *   around publish/export (which take the router's writer lock: nothing
 *   that holds that lock ever needs the GIL, so this cannot deadlock).
 *
 * - Read sections.  Every epoch read section begins and ends inside one
 *   librouter call, never across a GIL release or a return to Python; the
 *   library registers each OS thread's reader record itself and handles
 *   fork() with pthread_atfork.  A Router cannot be freed while a thread
 *   routes through it: every such call holds a reference to it (a Table
 *   holds one too).
 *
 * - Events.  librouter calls its observer under the writer lock, where
 *   calling Python could deadlock (another thread holding the GIL may be
 *   waiting for that lock).  So the C observer only copies the events of
 *   one call (a superseded pending table's discard, the publish with its
 *   shadow verdict, a failed automatic snapshot) into the calling
 *   thread's capture, in raw memory; the Python on_event callable runs,
 *   and Verdict.shadow / RefusedError.shadow / SnapshotWarning are made,
 *   after the call has returned and the lock is released.
 *
 * - Beyond the guards (issue 8).  Snapshot writes and reads, approvals,
 *   discards and the pending table's diff run without the GIL like
 *   publishes; fences, invariants and set_sample (a copy of the keys,
 *   whose values borrow from Python objects) keep it.
 *
 * - Module state, heap types and multi-phase init throughout; no static
 *   Python objects.  Memory shared with the C core is allocated with the
 *   raw allocator.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "router.h"
#include "router_doc.h"

/* bench.py --callgrind counts instructions between two _cg_toggle()
 * calls; without valgrind's header the function does nothing. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
/* Hot paths are inlined whole; what they call only on a miss or an error
 * stays out of line, so the hot function saves no extra registers. */
#define HOT_INLINE static inline __attribute__((always_inline))
#define COLD static __attribute__((noinline, cold))

/* Atomic publication of cache entries: an entry (or a name chunk) is fully
 * built before the release store that makes it reachable; readers load
 * with acquire.  On x86 both are plain moves; they matter without a GIL. */
#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define CAS_PTR(p, expp, v)                                                    \
	__atomic_compare_exchange_n((p), (expp), (v), 0, __ATOMIC_ACQ_REL,     \
	                            __ATOMIC_ACQUIRE)

#define NAME_CHUNK 1024u /* shard-name strs per chunk */
/* Chunks: enough for every shard id a router can assign. */
#define NAME_DIR ((ROUTER_SHARD_NAMES_MAX + NAME_CHUNK - 1) / NAME_CHUNK)
#define HC_SIZE 64u      /* handle-cache slots per Router */
#define HC_PROBE 4u      /* slots probed before routing by name */
#define NOGIL_THRESHOLD 8192 /* route_many releases the GIL from here */
#define STACK_KEYS 256       /* route_many keys kept on the stack */

/* ------------------------------------------------------------------------ */
/* Module state and objects                                                 */
/* ------------------------------------------------------------------------ */

typedef struct {
	PyTypeObject *Router_Type;
	PyTypeObject *Table_Type;
	PyTypeObject *Value_Type;
	PyTypeObject *DiffEntry_Type;
	PyTypeObject *HistoryEntry_Type;
	PyTypeObject *Verdict_Type;
	PyTypeObject *Note_Type;
	PyTypeObject *Event_Type;
	PyTypeObject *Route_Type;
	PyTypeObject *ShadowStat_Type;
	PyTypeObject *ShadowVerdict_Type;
	PyTypeObject *Fence_Type;
	PyTypeObject *Pending_Type;
	PyTypeObject *SnapshotInfo_Type;
	PyObject *Error;
	PyObject *RefusedError;
	PyObject *FencedError;
	PyObject *InvariantError;
	PyObject *ShadowError;
	PyObject *QuarantinedError;
	PyObject *DocumentError;
	PyObject *InvalidDocumentError;
	PyObject *NoRouteError;
	PyObject *NotFoundError;
	PyObject *InvalidError;
	PyObject *HistoryError;
	PyObject *ResourceError;
	PyObject *DocumentWarning;
	PyObject *SnapshotWarning;
	PyObject *json_dumps;  /* json.dumps */
	PyObject *array_zero;  /* array('I', [0]): route_many(ids=True) */
} modstate;

typedef struct hc_entry {
	PyObject *ks;    /* strong: pointer identity stays meaningful */
	PyObject *table; /* strong */
	Py_hash_t hash;
	router_handle *h;
} hc_entry;

typedef struct {
	PyObject_HEAD
	router *r;
	modstate *st; /* the module outlives every Router (type -> module) */
	PyObject *on_event;
	hc_entry *hc[HC_SIZE];
	PyObject **names[NAME_DIR];
} RouterObject;

typedef struct {
	PyObject_HEAD
	RouterObject *router; /* strong */
	router_handle *h;
	PyObject *keyspace; /* str */
	PyObject *table;    /* str */
} TableObject;

typedef struct {
	PyObject_HEAD
	router_value v; /* ptr (if any) points into text_bytes */
	PyObject *type_name; /* str */
	PyObject *text;      /* as given: str, bytes or None */
	PyObject *text_bytes; /* bytes or NULL */
} ValueObject;

static struct PyModuleDef shardrouter_module;

/* ------------------------------------------------------------------------ */
/* Errors: one function maps status codes to exceptions                     */
/* ------------------------------------------------------------------------ */

/* The class of a status code: the code alone decides it, through its
 * category (router_error_category; docs/errors.md has the table).  Never
 * called for ROUTER_ENOMEM (MemoryError). */
static PyObject *code_class(modstate *st, int rc)
{
	switch (rc) {
	case ROUTER_ENOTFOUND:
		return st->NotFoundError;
	case ROUTER_ENOHISTORY:
		return st->HistoryError;
	case ROUTER_EFENCED:
		return st->FencedError;
	case ROUTER_EINVARIANT:
		return st->InvariantError;
	case ROUTER_ESHADOW:
		return st->ShadowError;
	case ROUTER_EQUARANTINED:
		return st->QuarantinedError;
	default:
		break;
	}
	switch (router_error_category(rc)) {
	case ROUTER_CAT_REFUSAL:
		return st->RefusedError;
	case ROUTER_CAT_NO_ROUTE:
		return st->NoRouteError;
	case ROUTER_CAT_BAD_INPUT:
		return st->InvalidError;
	case ROUTER_CAT_BAD_DOCUMENT:
		return st->InvalidDocumentError;
	case ROUTER_CAT_RESOURCE:
		return st->ResourceError;
	default:
		return st->Error; /* a code newer than this binding */
	}
}

/* str(exc), the same text as the Ruby binding's:
 * "<culprit>: <message> (<ROUTER_ECODE>)", without "<culprit>: " when
 * there is no culprit. */
static PyObject *error_text(int rc, const router_error *e)
{
	const char *msg = e != NULL && e->message[0] ? e->message
	                                             : router_strerror(rc);
	const char *cul = e != NULL ? e->culprit : "";

	if (cul[0] != '\0')
		return PyUnicode_FromFormat("%s: %s (%s)", cul, msg,
		                            router_errname(rc));
	return PyUnicode_FromFormat("%s (%s)", msg, router_errname(rc));
}

/* Set .code .name .culprit .message on exc.  Returns 0 or -1. */
static int set_error_attrs(PyObject *exc, int rc, const router_error *e)
{
	PyObject *v;
	int ok;

	v = PyLong_FromLong(rc);
	ok = v && PyObject_SetAttrString(exc, "code", v) == 0;
	Py_XDECREF(v);
	v = ok ? PyUnicode_FromString(router_errname(rc)) : NULL;
	ok = v && PyObject_SetAttrString(exc, "name", v) == 0;
	Py_XDECREF(v);
	v = ok ? PyUnicode_FromString(e ? e->culprit : "") : NULL;
	ok = v && PyObject_SetAttrString(exc, "culprit", v) == 0;
	Py_XDECREF(v);
	v = ok ? PyUnicode_FromString(e && e->message[0] ? e->message
	                                                 : router_strerror(rc))
	       : NULL;
	ok = v && PyObject_SetAttrString(exc, "message", v) == 0;
	Py_XDECREF(v);
	return ok ? 0 : -1;
}

/* Set exc and the (name, value) attribute pairs of ap (values stolen,
 * NULL-terminated; a NULL value fails), and raise it.  Steals exc.
 * Always returns NULL. */
static PyObject *raise_exc_v(PyObject *exc, int rc, const router_error *e,
                             va_list ap)
{
	const char *name;
	PyObject *v;
	int ok = exc != NULL && set_error_attrs(exc, rc, e) == 0;

	while ((name = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, PyObject *);
		if (ok && v != NULL)
			ok = PyObject_SetAttrString(exc, name, v) == 0;
		else if (v == NULL)
			ok = 0;
		Py_XDECREF(v);
	}
	if (exc == NULL)
		return NULL;
	if (ok)
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
	return NULL;
}

static PyObject *raise_exc(PyObject *exc, int rc, const router_error *e, ...)
{
	va_list ap;

	va_start(ap, e);
	raise_exc_v(exc, rc, e, ap);
	va_end(ap);
	return NULL;
}

/* The one mapping from a librouter status to a Python exception: the
 * class of rc (code_class; MemoryError for ROUTER_ENOMEM) with .code
 * .name .culprit .message plus the call's own (name, value) attribute
 * pairs (values stolen; NULL-terminated).  Always returns NULL. */
static PyObject *raise_error(modstate *st, int rc, const router_error *e,
                             ...)
{
	PyObject *text, *exc = NULL;
	va_list ap;

	if (rc == ROUTER_ENOMEM) {
		const char *name;

		/* the extra values are stolen: drop them */
		va_start(ap, e);
		while ((name = va_arg(ap, const char *)) != NULL)
			Py_XDECREF(va_arg(ap, PyObject *));
		va_end(ap);
		return PyErr_NoMemory();
	}
	text = error_text(rc, e);
	if (text != NULL)
		exc = PyObject_CallOneArg(code_class(st, rc), text);
	Py_XDECREF(text);
	va_start(ap, e);
	raise_exc_v(exc, rc, e, ap);
	va_end(ap);
	return NULL;
}

/* The OS error of a path the library could not open or read (errno eno):
 * the OSError subclass of eno (FileNotFoundError, IsADirectoryError...)
 * with .filename the path as given, plus .code .name .culprit .message.
 * Always returns NULL. */
static PyObject *raise_os_error(int rc, const router_error *e, int eno,
                                PyObject *path)
{
	PyObject *text = error_text(rc, e), *exc = NULL;

	if (text != NULL)
		exc = PyObject_CallFunction(PyExc_OSError, "iOO", eno, text,
		                            path);
	Py_XDECREF(text);
	return raise_exc(exc, rc, e, NULL);
}

/* A route error with .keyspace and .table (either may be NULL). */
static PyObject *raise_route_error(modstate *st, int rc, const router_error *e,
                                   PyObject *ks, PyObject *tb)
{
	return raise_error(st, rc, e, "keyspace", Py_NewRef(ks ? ks : Py_None),
	                   "table", Py_NewRef(tb ? tb : Py_None), NULL);
}

/* ------------------------------------------------------------------------ */
/* Shard names: one interned str per shard id per Router                    */
/* ------------------------------------------------------------------------ */

COLD PyObject *shard_str_miss(RouterObject *self, uint32_t id)
{
	size_t len = 0;
	const char *s = router_shard_name(self->r, id, &len);
	PyObject *str, **chunk, *expect = NULL;

	if (s == NULL)
		return PyErr_Format(PyExc_SystemError,
		                    "librouter returned unknown shard id %u",
		                    (unsigned)id);
	str = PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "strict");
	if (str == NULL)
		return NULL;
	PyUnicode_InternInPlace(&str);
	if (id >= NAME_DIR * NAME_CHUNK)
		return str; /* beyond the cache: correct, only slower */
	chunk = LOAD_ACQ(&self->names[id / NAME_CHUNK]);
	if (chunk == NULL) {
		PyObject **fresh = PyMem_RawCalloc(NAME_CHUNK, sizeof *fresh);
		PyObject **none = NULL;

		if (fresh == NULL)
			return str;
		if (CAS_PTR(&self->names[id / NAME_CHUNK], &none, fresh)) {
			chunk = fresh;
		} else {
			PyMem_RawFree(fresh);
			chunk = none;
		}
	}
	Py_INCREF(str); /* the cache's reference */
	if (!CAS_PTR(&chunk[id % NAME_CHUNK], &expect, str)) {
		/* Another thread cached it first: use the winner. */
		Py_DECREF(str);
		Py_DECREF(str);
		return Py_NewRef(expect);
	}
	return str;
}

HOT_INLINE PyObject *shard_str(RouterObject *self, uint32_t id)
{
	if (LIKELY(id < NAME_DIR * NAME_CHUNK)) {
		PyObject **chunk = LOAD_ACQ(&self->names[id / NAME_CHUNK]);

		if (LIKELY(chunk != NULL)) {
			PyObject *s = LOAD_ACQ(&chunk[id % NAME_CHUNK]);

			if (LIKELY(s != NULL))
				return Py_NewRef(s);
		}
	}
	return shard_str_miss(self, id);
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */
/* ------------------------------------------------------------------------ */

/* The value of a compact int without a call.  Returns 1 when v (an exact
 * int) fits one digit, else 0. */
HOT_INLINE int small_int(PyObject *v, int64_t *out)
{
#if PY_VERSION_HEX >= 0x030C0000
	if (PyUnstable_Long_IsCompact((PyLongObject *)v)) {
		*out = (int64_t)PyUnstable_Long_CompactValue((PyLongObject *)v);
		return 1;
	}
	return 0;
#else
	Py_ssize_t size = Py_SIZE(v);

	if (size >= -1 && size <= 1) {
		*out = (int64_t)size * (int64_t)((PyLongObject *)v)->ob_digit[0];
		return 1;
	}
	return 0;
#endif
}

static PyObject *int_range_error(PyObject *v)
{
	PyErr_Format(PyExc_OverflowError,
	             "int %R is out of range: Vitess integers are int64 or "
	             "uint64 (-2**63 .. 2**64-1)",
	             v);
	return NULL;
}

/* An int as int64 (*is_u = 0) or, above INT64_MAX, uint64 (*is_u = 1).
 * -1 with OverflowError outside both. */
static int int_key(PyObject *v, uint64_t *key, int *is_u)
{
	int overflow = 0;
	long long x = PyLong_AsLongLongAndOverflow(v, &overflow);

	if (x == -1 && PyErr_Occurred())
		return -1;
	if (overflow == 0) {
		*key = (uint64_t)(int64_t)x;
		*is_u = 0;
		return 0;
	}
	if (overflow > 0) {
		unsigned long long u = PyLong_AsUnsignedLongLong(v);

		if (u == (unsigned long long)-1 && PyErr_Occurred()) {
			PyErr_Clear();
			int_range_error(v);
			return -1;
		}
		*key = (uint64_t)u;
		*is_u = 1;
		return 0;
	}
	int_range_error(v);
	return -1;
}

/* Converted values with the buffers they borrow. */
typedef struct {
	router_value v[ROUTER_MULTICOL_MAX];
	size_t n;
	Py_buffer views[ROUTER_MULTICOL_MAX];
	int nviews;
} valbuf;

static void valbuf_release(valbuf *vb)
{
	for (int i = 0; i < vb->nviews; i++)
		PyBuffer_Release(&vb->views[i]);
	vb->nviews = 0;
}

static int one_value(modstate *st, PyObject *o, router_value *v, valbuf *vb)
{
	if (PyLong_Check(o)) {
		uint64_t k;
		int is_u;

		if (int_key(o, &k, &is_u) < 0)
			return -1;
		*v = is_u ? ROUTER_VALUE_UINT64(k)
		          : ROUTER_VALUE_INT64((int64_t)k);
		return 0;
	}
	if (PyUnicode_Check(o)) {
		Py_ssize_t n;
		const char *s = PyUnicode_AsUTF8AndSize(o, &n);

		if (s == NULL)
			return -1;
		*v = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, s, (size_t)n);
		return 0;
	}
	if (PyBytes_Check(o)) {
		*v = ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY, PyBytes_AS_STRING(o),
		                        (size_t)PyBytes_GET_SIZE(o));
		return 0;
	}
	if (o == Py_None) {
		*v = ROUTER_VALUE_NULL;
		return 0;
	}
	if (Py_IS_TYPE(o, st->Value_Type)) {
		*v = ((ValueObject *)o)->v;
		return 0;
	}
	if (PyByteArray_Check(o) || PyMemoryView_Check(o)) {
		Py_buffer *view = &vb->views[vb->nviews];

		if (PyObject_GetBuffer(o, view, PyBUF_C_CONTIGUOUS) < 0)
			return -1;
		vb->nviews++;
		if (view->itemsize != 1) {
			PyErr_Format(PyExc_TypeError,
			             "a bytes-like value must have 1-byte items, "
			             "not %zd-byte items",
			             view->itemsize);
			return -1;
		}
		*v = ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY,
		                        view->len ? view->buf : NULL,
		                        (size_t)view->len);
		return 0;
	}
	if (PyFloat_Check(o)) {
		PyErr_SetString(PyExc_TypeError,
		                "float values are not routed: Vitess maps a "
		                "float by its SQL text, which Python's repr does "
		                "not reproduce; pass "
		                "shardrouter.Value('float64', text)");
		return -1;
	}
	PyErr_Format(PyExc_TypeError,
	             "a value must be int, str, bytes, None or "
	             "shardrouter.Value (or a tuple of them for a "
	             "multicolumn vindex), not %.100s",
	             Py_TYPE(o)->tp_name);
	return -1;
}

/* A value or a tuple of values (one per column of a multicolumn vindex). */
static int values_from_py(modstate *st, PyObject *o, valbuf *vb)
{
	vb->nviews = 0;
	if (PyTuple_Check(o)) {
		Py_ssize_t n = PyTuple_GET_SIZE(o);

		if (n < 1 || n > ROUTER_MULTICOL_MAX) {
			PyErr_Format(PyExc_ValueError,
			             "a multicolumn value has 1 to %d columns, "
			             "got %zd",
			             ROUTER_MULTICOL_MAX, n);
			return -1;
		}
		for (Py_ssize_t i = 0; i < n; i++) {
			PyObject *item = PyTuple_GET_ITEM(o, i);

			if (PyTuple_Check(item)) {
				PyErr_SetString(PyExc_TypeError,
				                "a column value cannot be a "
				                "tuple");
				goto fail;
			}
			if (one_value(st, item, &vb->v[i], vb) < 0)
				goto fail;
		}
		vb->n = (size_t)n;
		return 0;
	}
	if (one_value(st, o, &vb->v[0], vb) < 0)
		goto fail;
	vb->n = 1;
	return 0;
fail:
	valbuf_release(vb);
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Value: a typed SQL value given by its text                               */
/* ------------------------------------------------------------------------ */

PyDoc_STRVAR(Value_doc,
"Value(type, text=None, /)\n--\n\n"
"A SQL value given by its Vitess type and its text form.\n\n"
"Plain Python values cover most keys (int -> int64 or uint64, str ->\n"
"varchar, bytes -> varbinary, None -> NULL).  Value is for the rest:\n"
"floats and decimals, whose keyspace ID Vitess computes from their SQL\n"
"text (Value('float64', '1.5')), or an integer that must be typed\n"
"explicitly (Value('uint64', '5')).\n\n"
"type is one of null, int8, int16, int24, int32, int64, uint8 .. uint64,\n"
"varchar, char, text, varbinary, binary, blob, float32, float64,\n"
"decimal.  text is str or bytes (an int is accepted for integer types);\n"
"integer text is parsed as Go's strconv does (ValueError if malformed).\n"
"A null Value takes no text.");

static const char *name_utf8(PyObject *o, const char *what, Py_ssize_t *n);

static PyObject *Value_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	PyObject *tname, *text = Py_None, *tb = NULL;
	ValueObject *self;
	const char *name;
	Py_ssize_t nl;
	router_sqltype t = ROUTER_SQL_NULL;
	router_error err;

	if (kw != NULL && PyDict_GET_SIZE(kw) > 0) {
		PyErr_SetString(PyExc_TypeError,
		                "Value() takes no keyword arguments");
		return NULL;
	}
	if (!PyArg_UnpackTuple(args, "Value", 1, 2, &tname, &text))
		return NULL;
	if (!PyUnicode_Check(tname)) {
		PyErr_Format(PyExc_TypeError, "Value type must be str, not %.100s",
		             Py_TYPE(tname)->tp_name);
		return NULL;
	}
	name = name_utf8(tname, "SQL type", &nl);
	if (name == NULL)
		return NULL;
	if (router_sqltype_parse(name, (size_t)nl, &t) != ROUTER_OK) {
		PyErr_Format(PyExc_ValueError, "unknown SQL type %R", tname);
		return NULL;
	}
	if (t == ROUTER_SQL_NULL) {
		if (text != Py_None) {
			PyErr_SetString(PyExc_ValueError,
			                "a null Value takes no text");
			return NULL;
		}
	} else if (PyUnicode_Check(text)) {
		tb = PyUnicode_AsUTF8String(text);
	} else if (PyBytes_Check(text)) {
		tb = Py_NewRef(text);
	} else if (PyLong_Check(text) &&
	           (t == ROUTER_SQL_INT64 || t == ROUTER_SQL_UINT64)) {
		PyObject *s = PyObject_Str(text);

		tb = s ? PyUnicode_AsUTF8String(s) : NULL;
		Py_XDECREF(s);
	} else {
		PyErr_Format(PyExc_TypeError,
		             "Value text must be str or bytes, not %.100s",
		             Py_TYPE(text)->tp_name);
		return NULL;
	}
	if (t != ROUTER_SQL_NULL && tb == NULL)
		return NULL;
	self = (ValueObject *)type->tp_alloc(type, 0);
	if (self == NULL) {
		Py_XDECREF(tb);
		return NULL;
	}
	self->type_name = Py_NewRef(tname);
	self->text = Py_NewRef(text);
	self->text_bytes = tb;
	if (t == ROUTER_SQL_NULL) {
		self->v = ROUTER_VALUE_NULL;
	} else if (t == ROUTER_SQL_INT64 || t == ROUTER_SQL_UINT64) {
		if (router_value_parse(t, PyBytes_AS_STRING(tb),
		                       (size_t)PyBytes_GET_SIZE(tb), &self->v,
		                       &err) != ROUTER_OK) {
			PyErr_Format(PyExc_ValueError, "%s", err.message);
			Py_DECREF(self);
			return NULL;
		}
	} else {
		self->v = ROUTER_VALUE_BYTES(t, PyBytes_AS_STRING(tb),
		                             (size_t)PyBytes_GET_SIZE(tb));
	}
	return (PyObject *)self;
}

static void Value_dealloc(ValueObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);

	Py_XDECREF(self->type_name);
	Py_XDECREF(self->text);
	Py_XDECREF(self->text_bytes);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static PyObject *Value_repr(ValueObject *self)
{
	if (self->text == Py_None)
		return PyUnicode_FromFormat("shardrouter.Value(%R)",
		                            self->type_name);
	return PyUnicode_FromFormat("shardrouter.Value(%R, %R)",
	                            self->type_name, self->text);
}

static PyObject *Value_get_type(ValueObject *self, void *c)
{
	(void)c;
	return Py_NewRef(self->type_name);
}

static PyObject *Value_get_text(ValueObject *self, void *c)
{
	(void)c;
	return Py_NewRef(self->text);
}

static PyGetSetDef Value_getset[] = {
    {"type", (getter)Value_get_type, NULL,
     PyDoc_STR("The SQL type name given to the constructor."), NULL},
    {"text", (getter)Value_get_text, NULL,
     PyDoc_STR("The text given to the constructor (None for null)."), NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot Value_slots[] = {
    {Py_tp_doc, (void *)Value_doc},
    {Py_tp_new, Value_new},
    {Py_tp_dealloc, Value_dealloc},
    {Py_tp_repr, Value_repr},
    {Py_tp_getset, Value_getset},
    {0, NULL}};

static PyType_Spec Value_spec = {
    "shardrouter.Value", sizeof(ValueObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, Value_slots};

/* ------------------------------------------------------------------------ */
/* Handle cache and routing                                                 */
/* ------------------------------------------------------------------------ */

static int check_name(PyObject *o, const char *what)
{
	if (PyUnicode_Check(o))
		return 0;
	PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what,
	             Py_TYPE(o)->tp_name);
	return -1;
}

/* A NUL inside a name (keyspace, table, vindex type, param, SQL type,
 * invariant, shard name) or a path is refused up front by every entry
 * point with the same ValueError, "<what> contains a NUL byte" (the Ruby
 * binding raises ArgumentError with the same text): no Vitess name holds
 * one (librouter's JSON loader refuses them), C reads a NUL-terminated
 * argument only up to it ("hash\0" would be "hash"), and a (ptr, len)
 * name with one could only fail, with a message cut at the NUL.  Values
 * are bytes and may hold NUL.  Returns 0, or -1 with ValueError. */
static int refuse_nul(const char *p, Py_ssize_t n, const char *what)
{
	if (n <= 0 || memchr(p, 0, (size_t)n) == NULL)
		return 0;
	PyErr_Format(PyExc_ValueError, "%s contains a NUL byte", what);
	return -1;
}

/* A name: a str, as UTF-8 (ptr, *n) without NUL; NULL with TypeError,
 * ValueError (a NUL: refuse_nul) or UnicodeEncodeError. */
static const char *name_utf8(PyObject *o, const char *what, Py_ssize_t *n)
{
	const char *p;

	if (check_name(o, what) < 0)
		return NULL;
	p = PyUnicode_AsUTF8AndSize(o, n);
	if (p != NULL && refuse_nul(p, *n, what) < 0)
		return NULL;
	return p;
}

/* A path (str, bytes or os.PathLike) as file-system bytes (new reference),
 * or NULL with TypeError (a file object is not a path: it is never
 * reopened by its name), ValueError (a NUL: refuse_nul's text, not
 * Python's "embedded null byte", so both bindings say the same) or
 * UnicodeEncodeError. */
static PyObject *path_bytes(PyObject *o, const char *what)
{
	PyObject *p = PyOS_FSPath(o), *fs = NULL;
	int bad;

	if (p == NULL)
		return NULL;
	if (PyUnicode_Check(p)) {
		Py_ssize_t at = PyUnicode_FindChar(p, 0, 0,
		                                   PyUnicode_GET_LENGTH(p), 1);

		if (at == -2) {
			Py_DECREF(p);
			return NULL;
		}
		bad = at >= 0;
	} else {
		bad = memchr(PyBytes_AS_STRING(p), 0,
		             (size_t)PyBytes_GET_SIZE(p)) != NULL;
	}
	if (bad) {
		Py_DECREF(p);
		PyErr_Format(PyExc_ValueError, "%s contains a NUL byte", what);
		return NULL;
	}
	if (!PyUnicode_FSConverter(p, &fs))
		fs = NULL;
	Py_DECREF(p);
	return fs;
}

/* Open a handle for (ks, tb) into slot, or return NULL without an
 * exception to route by name (the core refuses the names, or the slot
 * was taken meanwhile), or NULL with an exception (not UTF-8). */
static router_handle *hc_insert(RouterObject *self, PyObject *ks,
                                PyObject *tb, Py_hash_t h, size_t slot)
{
	Py_ssize_t kl, tl;
	const char *k = PyUnicode_AsUTF8AndSize(ks, &kl);
	const char *t = k ? PyUnicode_AsUTF8AndSize(tb, &tl) : NULL;
	router_handle *rh;
	hc_entry *e, *none = NULL;

	if (t == NULL)
		return NULL;
	/* A NUL is refused by the name path (route_by_name), never cached. */
	if (memchr(k, 0, (size_t)kl) != NULL || memchr(t, 0, (size_t)tl) != NULL)
		return NULL;
	if (router_handle_open(self->r, k, (size_t)kl, t, (size_t)tl, &rh,
	                       NULL) != ROUTER_OK)
		return NULL;
	e = PyMem_RawMalloc(sizeof *e);
	if (e == NULL) {
		router_handle_free(rh);
		return NULL;
	}
	e->ks = Py_NewRef(ks);
	e->table = Py_NewRef(tb);
	e->hash = h;
	e->h = rh;
	/* The entry is complete before it is reachable (release). */
	if (!CAS_PTR(&self->hc[slot], &none, e)) {
		Py_DECREF(e->ks);
		Py_DECREF(e->table);
		router_handle_free(rh);
		PyMem_RawFree(e);
		return NULL;
	}
	return rh;
}

static inline size_t hc_slot(Py_hash_t h)
{
	return ((size_t)h ^ ((size_t)h >> 17)) & (HC_SIZE - 1);
}

static inline Py_hash_t hc_hash(Py_hash_t h1, Py_hash_t h2)
{
	return (Py_hash_t)((size_t)h1 * 1000003u ^ (size_t)h2);
}

/* Everything but the common hit: str subclasses, uncached hashes, equal
 * strings that are other objects, probing, inserting.  Returns a handle;
 * NULL with an exception (bad names); or NULL without one, meaning "route
 * by name". */
COLD router_handle *hc_lookup_slow(RouterObject *self, PyObject *ks,
                                   PyObject *tb)
{
	Py_hash_t h1, h2, h;
	size_t slot, i;

	if (!PyUnicode_CheckExact(ks) || !PyUnicode_CheckExact(tb)) {
		/* str subclasses may redefine hashing: by name. */
		if (check_name(ks, "keyspace") < 0 ||
		    check_name(tb, "table") < 0)
			return NULL;
		return NULL;
	}
	h1 = PyObject_Hash(ks);
	h2 = PyObject_Hash(tb);
	if (h1 == -1 || h2 == -1)
		return NULL;
	h = hc_hash(h1, h2);
	slot = hc_slot(h);
	for (i = 0; i < HC_PROBE; i++) {
		size_t sl = (slot + i) & (HC_SIZE - 1);
		hc_entry *e = LOAD_ACQ(&self->hc[sl]);

		if (e == NULL)
			return hc_insert(self, ks, tb, h, sl);
		if (e->ks == ks && e->table == tb)
			return e->h;
		if (e->hash == h && PyUnicode_Compare(e->ks, ks) == 0 &&
		    PyUnicode_Compare(e->table, tb) == 0)
			return e->h;
	}
	return NULL;
}

/* The handle for (ks, tb), as hc_lookup_slow returns it.  The common case
 * (the same two str objects as the entry in their home slot, hashes
 * already cached in them) reads six words and calls nothing. */
HOT_INLINE router_handle *hc_lookup(RouterObject *self, PyObject *ks,
                                    PyObject *tb)
{
#if PY_VERSION_HEX < 0x030D0000 && !defined(Py_GIL_DISABLED)
	if (LIKELY(PyUnicode_CheckExact(ks) && PyUnicode_CheckExact(tb))) {
		Py_hash_t h1 = ((PyASCIIObject *)ks)->hash;
		Py_hash_t h2 = ((PyASCIIObject *)tb)->hash;

		if (LIKELY(h1 != -1 && h2 != -1)) {
			hc_entry *e = LOAD_ACQ(&self->hc[hc_slot(hc_hash(h1, h2))]);

			if (LIKELY(e != NULL && e->ks == ks && e->table == tb))
				return e->h;
		}
	}
#endif
	return hc_lookup_slow(self, ks, tb);
}

/* The general path through a handle: any value, with error detail. */
COLD PyObject *handle_route_slow(RouterObject *ro, const router_handle *h,
                                   PyObject *value, PyObject *ks,
                                   PyObject *tb)
{
	router_route_result res;
	router_error err;
	valbuf vb;
	int rc;

	if (PyLong_CheckExact(value)) {
		uint64_t k;
		int is_u;

		if (int_key(value, &k, &is_u) < 0)
			return NULL;
		rc = is_u ? router_handle_route_uint64(h, k, &res)
		          : router_handle_route_int64(h, (int64_t)k, &res);
		if (rc == ROUTER_OK)
			return shard_str(ro, res.shard_id);
		if (rc == ROUTER_NONE)
			Py_RETURN_NONE;
		/* errors: again below, for the detail */
	}
	if (values_from_py(ro->st, value, &vb) < 0)
		return NULL;
	rc = router_handle_route(h, vb.v, vb.n, &res, &err);
	valbuf_release(&vb);
	if (rc == ROUTER_OK)
		return shard_str(ro, res.shard_id);
	if (rc == ROUTER_NONE)
		Py_RETURN_NONE;
	return raise_route_error(ro->st, rc, &err, ks, tb);
}

/* Route one value through a handle.  Exact ints take the typed entry
 * points; everything else, and every error, the general path. */
HOT_INLINE PyObject *handle_route(RouterObject *ro, const router_handle *h,
                                     PyObject *value, PyObject *ks,
                                     PyObject *tb)
{
	router_route_result res;
	int64_t x;
	int rc;

	if (LIKELY(PyLong_CheckExact(value) && small_int(value, &x))) {
		rc = router_handle_route_int64(h, x, &res);
		if (LIKELY(rc == ROUTER_OK))
			return shard_str(ro, res.shard_id);
	}
	/* Big ints, other values, NONE and errors. */
	return handle_route_slow(ro, h, value, ks, tb);
}

COLD PyObject *route_by_name(RouterObject *self, PyObject *ks, PyObject *tb,
                               PyObject *value)
{
	router_route_result res;
	router_error err;
	Py_ssize_t kl, tl;
	const char *k, *t;
	valbuf vb;
	int rc;

	if ((k = name_utf8(ks, "keyspace", &kl)) == NULL ||
	    (t = name_utf8(tb, "table", &tl)) == NULL)
		return NULL;
	if (values_from_py(self->st, value, &vb) < 0)
		return NULL;
	rc = router_route(self->r, k, (size_t)kl, t, (size_t)tl, vb.v, vb.n,
	                  &res, &err);
	valbuf_release(&vb);
	if (rc == ROUTER_OK)
		return shard_str(self, res.shard_id);
	if (rc == ROUTER_NONE)
		Py_RETURN_NONE;
	return raise_route_error(self->st, rc, &err, ks, tb);
}

COLD PyObject *wrong_nargs(const char *fn, Py_ssize_t want, Py_ssize_t got)
{
	PyErr_Format(PyExc_TypeError,
	             "%s() takes exactly %zd positional arguments (%zd given)",
	             fn, want, got);
	return NULL;
}

/* Keyword-only arguments of a FASTCALL|KEYWORDS method: names[i] -> out[i]
 * (left as they are when absent). */
static int kwonly(const char *fn, PyObject *kwnames, PyObject *const *kwargs,
                  const char *const *names, PyObject **out)
{
	Py_ssize_t i, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;

	for (i = 0; i < nkw; i++) {
		PyObject *key = PyTuple_GET_ITEM(kwnames, i);
		int j, hit = 0;

		for (j = 0; names[j] != NULL; j++)
			if (PyUnicode_CompareWithASCIIString(key, names[j]) ==
			    0) {
				out[j] = kwargs[i];
				hit = 1;
				break;
			}
		if (!hit) {
			PyErr_Format(PyExc_TypeError,
			             "%s() got an unexpected keyword argument "
			             "%R",
			             fn, key);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Route results as Route tuples                                            */
/* ------------------------------------------------------------------------ */

static PyStructSequence_Field Route_fields[] = {
    {"shard", "shard name (shared str)"},
    {"shard_id", "router-wide id of the shard name (Router.shard_name)"},
    {"shard_index", "position of the shard in the keyspace's partition"},
    {"version", "version of the table that answered"},
    {"keyspace_id", "the keyspace ID (its first 32 bytes)"},
    {"keyspace_id_len", "full length of the keyspace ID"},
    {NULL, NULL}};
static PyStructSequence_Desc Route_desc = {
    "shardrouter.Route",
    "Route(shard, shard_id, shard_index, version, keyspace_id, "
    "keyspace_id_len)\n\nEverything a lookup knows: returned by lookup().",
    Route_fields, 6};

static PyObject *route_tuple(RouterObject *ro, const router_route_result *r)
{
	PyObject *o = PyStructSequence_New(ro->st->Route_Type), *v;
	size_t kl = r->ksid_len < ROUTER_KSID_MAX ? r->ksid_len
	                                          : ROUTER_KSID_MAX;
	int i = 0;

	if (o == NULL)
		return NULL;
#define SET(expr)                                                              \
	do {                                                                   \
		if ((v = (expr)) == NULL)                                      \
			goto fail;                                             \
		PyStructSequence_SetItem(o, i++, v);                           \
	} while (0)
	SET(shard_str(ro, r->shard_id));
	SET(PyLong_FromUnsignedLong(r->shard_id));
	SET(PyLong_FromUnsignedLong(r->shard_index));
	SET(PyLong_FromUnsignedLongLong(r->version));
	SET(PyBytes_FromStringAndSize((const char *)r->ksid, (Py_ssize_t)kl));
	SET(PyLong_FromSize_t(r->ksid_len));
#undef SET
	return o;
fail:
	Py_DECREF(o);
	return NULL;
}

static PyObject *lookup_result(RouterObject *ro, int rc,
                               const router_route_result *res,
                               const router_error *err, PyObject *ks,
                               PyObject *tb)
{
	if (rc == ROUTER_OK)
		return route_tuple(ro, res);
	if (rc == ROUTER_NONE)
		Py_RETURN_NONE;
	return raise_route_error(ro->st, rc, err, ks, tb);
}

/* ------------------------------------------------------------------------ */
/* route_many                                                               */
/* ------------------------------------------------------------------------ */

typedef struct {
	int want_ids;
	PyObject *out; /* writable uint32 buffer, or NULL */
	int nogil;     /* -1 auto, 0 never, 1 always */
} many_opts;

static int many_parse(const char *fn, PyObject *kwnames,
                      PyObject *const *kwargs, many_opts *o)
{
	static const char *const names[] = {"ids", "out", "nogil", NULL};
	PyObject *v[3] = {NULL, NULL, NULL};

	o->want_ids = 0;
	o->out = NULL;
	o->nogil = -1;
	if (kwonly(fn, kwnames, kwargs, names, v) < 0)
		return -1;
	if (v[0] != NULL && (o->want_ids = PyObject_IsTrue(v[0])) < 0)
		return -1;
	if (v[1] != NULL && v[1] != Py_None) {
		o->out = v[1];
		o->want_ids = 1;
	}
	if (v[2] != NULL && v[2] != Py_None &&
	    (o->nogil = PyObject_IsTrue(v[2])) < 0)
		return -1;
	return 0;
}

/* Parse a struct-module format for one 64-bit integer.  Returns 0 (and
 * *is_u, *swap) or -1 with TypeError. */
static int key_format(const Py_buffer *view, int *is_u, int *swap)
{
	const char *f = view->format ? view->format : "B";
	int native = 1, little = 1;
	char c;

	*swap = 0;
	switch (*f) {
	case '@':
		f++;
		break;
	case '=':
		native = 0;
		f++;
		break;
	case '<':
		native = 0;
		f++;
		break;
	case '>':
	case '!':
		native = 0;
		little = 0;
		f++;
		break;
	default:
		break;
	}
	c = f[0];
	if (view->itemsize == 8 && f[1] == '\0' &&
	    (c == 'q' || c == 'Q' ||
	     (native && (c == 'l' || c == 'L' || c == 'n' || c == 'N')))) {
		*is_u = c == 'Q' || c == 'L' || c == 'N';
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		*swap = !little;
#else
		*swap = little && !native;
#endif
		return 0;
	}
	PyErr_Format(PyExc_TypeError,
	             "route_many needs a buffer of 64-bit integers (format "
	             "'q' or 'Q', e.g. array('q')), not format '%s' with "
	             "%zd-byte items",
	             view->format ? view->format : "B", view->itemsize);
	return -1;
}

/* Where route_many writes shard ids: the caller's buffer or a new
 * array('I').  On success *res holds a new reference to what is
 * returned. */
static int many_out(modstate *st, many_opts *o, Py_ssize_t n, Py_buffer *ov,
                    PyObject **res)
{
	PyObject *target;
	const char *f;

	if (o->out != NULL) {
		target = Py_NewRef(o->out);
	} else {
		target = PySequence_Repeat(st->array_zero, n);
		if (target == NULL)
			return -1;
	}
	if (PyObject_GetBuffer(target, ov, PyBUF_WRITABLE | PyBUF_FORMAT |
	                                       PyBUF_C_CONTIGUOUS) < 0) {
		Py_DECREF(target);
		return -1;
	}
	f = ov->format ? ov->format : "B";
	if (*f == '@' || *f == '=' || *f == '<')
		f++;
	if (ov->itemsize != 4 || f[1] != '\0' ||
	    (f[0] != 'I' && f[0] != 'L')) {
		PyErr_Format(PyExc_TypeError,
		             "out must be a writable buffer of uint32 (format "
		             "'I', e.g. array('I')), not format '%s' with "
		             "%zd-byte items",
		             ov->format ? ov->format : "B", ov->itemsize);
		goto fail;
	}
	if (ov->len / 4 != n) {
		PyErr_Format(PyExc_ValueError,
		             "out has %zd items for %zd values", ov->len / 4, n);
		goto fail;
	}
	*res = target;
	return 0;
fail:
	PyBuffer_Release(ov);
	Py_DECREF(target);
	return -1;
}

/* Add k references to o at once. */
static inline void add_refs(PyObject *o, Py_ssize_t k)
{
#if defined(Py_GIL_DISABLED)
	while (k-- > 0)
		Py_INCREF(o);
#else
	/* Immortal objects (3.12+) keep their count; adding is what k
	 * Py_INCREFs would do otherwise. */
#if PY_VERSION_HEX >= 0x030C0000
	if (_Py_IsImmortal(o))
		return;
#endif
	Py_SET_REFCNT(o, Py_REFCNT(o) + k);
#endif
}

/* Route values one by one (lists holding non-integers, or both negative
 * and above-int64 integers): ids[i] receives each shard id. */
static int many_each(RouterObject *ro, const router_handle *h,
                     PyObject *const *items, Py_ssize_t n, uint32_t *ids,
                     PyObject *ks, PyObject *tb)
{
	for (Py_ssize_t i = 0; i < n; i++) {
		router_route_result res;
		router_error err;
		valbuf vb;
		int rc;

		if (values_from_py(ro->st, items[i], &vb) < 0)
			return -1;
		rc = router_handle_route(h, vb.v, vb.n, &res, &err);
		valbuf_release(&vb);
		if (rc == ROUTER_OK)
			ids[i] = res.shard_id;
		else if (rc == ROUTER_NONE)
			ids[i] = ROUTER_NO_SHARD;
		else {
			raise_route_error(ro->st, rc, &err, ks, tb);
			return -1;
		}
	}
	return 0;
}

/* Turn a list whose item array holds n uint32 shard ids in its first 4n
 * bytes (written by the batch) into the list of their shard names (None
 * for ROUTER_NO_SHARD), in place.  Backwards: item i (bytes 8i..8i+7)
 * overwrites ids 2i and 2i+1, which are >= i and so already consumed.
 * The list is untracked by the GC until it holds only objects.
 *
 * Results come in runs of equal ids (few shards, clustered keys): the
 * references of a run are added at once instead of one increment per
 * element, which would chain every element on one refcount.  The strs are
 * borrowed from the Router's name cache meanwhile (never freed before the
 * Router; the GIL is held). */
static int names_in_place(RouterObject *ro, PyObject *list, Py_ssize_t n)
{
	PyObject **items = ((PyListObject *)list)->ob_item, *cur = NULL;
	const uint32_t *ids = (const uint32_t *)(void *)items;
	uint32_t cur_id = ROUTER_NO_SHARD - 1; /* matches no id */
	Py_ssize_t i, run = 0;

	for (i = n - 1; i >= 0; i--) {
		uint32_t id = ids[i];

		if (UNLIKELY(id != cur_id)) {
			PyObject *s;

			if (id == ROUTER_NO_SHARD) {
				s = Py_NewRef(Py_None);
			} else {
				s = shard_str(ro, id); /* new reference */
				if (s == NULL) {
					if (cur != NULL)
						add_refs(cur, run);
					memset(items, 0,
					       (size_t)(i + 1) * sizeof *items);
					return -1;
				}
			}
			if (cur != NULL)
				add_refs(cur, run);
			cur = s; /* its own reference covers item i */
			cur_id = id;
			run = 0;
			items[i] = s;
			continue;
		}
		items[i] = cur;
		run++;
	}
	if (cur != NULL)
		add_refs(cur, run);
	return 0;
}

static PyObject *route_many_impl(RouterObject *ro, const router_handle *h,
                                 PyObject *values, many_opts *o,
                                 PyObject *ks, PyObject *tb)
{
	uint64_t stack_keys[STACK_KEYS];
	uint32_t stack_ids[STACK_KEYS];
	uint64_t *keys = stack_keys, *heap_keys = NULL;
	uint32_t *ids = stack_ids, *heap_ids = NULL;
	PyObject *seq = NULL, *result = NULL, *ret = NULL;
	Py_buffer in = {0}, ov = {0};
	int have_in = 0, have_ov = 0, is_u = 0, each = 0, rc;
	Py_ssize_t n, i;
	router_error err;

	if (PyUnicode_Check(values) || PyBytes_Check(values) ||
	    PyByteArray_Check(values)) {
		PyErr_Format(PyExc_TypeError,
		             "route_many takes a list of values or a buffer of "
		             "64-bit integers, not %.100s",
		             Py_TYPE(values)->tp_name);
		return NULL;
	}
	if (!PyList_Check(values) && !PyTuple_Check(values) &&
	    PyObject_CheckBuffer(values)) {
		/* A buffer of 64-bit integers: read in place when it is
		 * contiguous, aligned and native-endian, else copied. */
		int swap;
		Py_ssize_t stride;

		if (PyObject_GetBuffer(values, &in, PyBUF_RECORDS_RO) < 0)
			return NULL;
		have_in = 1;
		if (in.ndim != 1) {
			PyErr_Format(PyExc_ValueError,
			             "route_many needs a one-dimensional buffer, "
			             "not %d dimensions",
			             in.ndim);
			goto done;
		}
		if (key_format(&in, &is_u, &swap) < 0)
			goto done;
		/* NULL shape or strides mean a C-contiguous array (some
		 * exporters, ctypes among them, leave them out). */
		n = in.shape != NULL ? in.shape[0] : in.len / 8;
		stride = in.strides != NULL ? in.strides[0] : 8;
		if (!swap && stride == 8 &&
		    ((uintptr_t)in.buf & 7u) == 0) {
			keys = in.buf;
		} else {
			if (n > STACK_KEYS) {
				heap_keys = PyMem_RawMalloc((size_t)n * 8u);
				if (heap_keys == NULL) {
					PyErr_NoMemory();
					goto done;
				}
				keys = heap_keys;
			}
			for (i = 0; i < n; i++) {
				uint64_t k;

				memcpy(&k, (const char *)in.buf + i * stride, 8);
				keys[i] = swap ? __builtin_bswap64(k) : k;
			}
		}
	} else {
		/* A list (or any iterable): integers go through the batch
		 * entry point in one read section. */
		int has_neg = 0, has_big = 0;
		PyObject *const *items;

		seq = PySequence_Fast(values, "route_many takes a list of "
		                              "values or a buffer of 64-bit "
		                              "integers");
		if (seq == NULL)
			return NULL;
		n = PySequence_Fast_GET_SIZE(seq);
		items = PySequence_Fast_ITEMS(seq);
		if (n > STACK_KEYS) {
			heap_keys = PyMem_RawMalloc((size_t)n * 8u);
			if (heap_keys == NULL) {
				PyErr_NoMemory();
				goto done;
			}
			keys = heap_keys;
		}
		for (i = 0; i < n; i++) {
			PyObject *it = items[i];
			int64_t x;
			int u;

			if (LIKELY(PyLong_CheckExact(it) && small_int(it, &x))) {
				keys[i] = (uint64_t)x;
				has_neg |= x < 0;
			} else if (PyLong_Check(it)) {
				if (int_key(it, &keys[i], &u) < 0)
					goto done;
				has_big |= u;
				has_neg |= !u && (int64_t)keys[i] < 0;
			} else {
				each = 1;
				break;
			}
		}
		if (has_neg && has_big)
			each = 1;
		is_u = has_big;
	}
	if (o->want_ids) {
		if (many_out(ro->st, o, n, &ov, &result) < 0)
			goto done;
		have_ov = 1;
		if (((uintptr_t)ov.buf & 3u) == 0)
			ids = ov.buf; /* written in place */
	}
	if (!o->want_ids && !each) {
		/* The ids go into the result list's own item array. */
		result = PyList_New(n);
		if (result == NULL)
			goto done;
		PyObject_GC_UnTrack(result);
		if (n > 0)
			ids = (uint32_t *)(void *)((PyListObject *)result)->ob_item;
	}
	if (ids == stack_ids && n > STACK_KEYS) {
		heap_ids = PyMem_RawMalloc((size_t)n * sizeof *ids);
		if (heap_ids == NULL) {
			PyErr_NoMemory();
			goto done;
		}
		ids = heap_ids;
	}
	if (each) {
		if (many_each(ro, h, PySequence_Fast_ITEMS(seq), n, ids, ks,
		              tb) < 0)
			goto done;
	} else if (n > 0) {
		if (o->nogil == 1 || (o->nogil < 0 && n >= NOGIL_THRESHOLD)) {
			Py_BEGIN_ALLOW_THREADS
			rc = router_handle_route_batch(h, keys, (size_t)n, is_u,
			                               ids, NULL, &err);
			Py_END_ALLOW_THREADS
		} else {
			rc = router_handle_route_batch(h, keys, (size_t)n, is_u,
			                               ids, NULL, &err);
		}
		if (rc != ROUTER_OK) {
			raise_route_error(ro->st, rc, &err, ks, tb);
			goto done;
		}
	}
	if (o->want_ids) {
		if (ids != ov.buf && n > 0)
			memcpy(ov.buf, ids, (size_t)n * 4u);
	} else if (each) {
		result = PyList_New(n);
		if (result == NULL)
			goto done;
		for (i = 0; i < n; i++) {
			PyObject *s = ids[i] == ROUTER_NO_SHARD
			                  ? Py_NewRef(Py_None)
			                  : shard_str(ro, ids[i]);

			if (s == NULL)
				goto done;
			PyList_SET_ITEM(result, i, s);
		}
	} else {
		if (names_in_place(ro, result, n) < 0)
			goto done;
		PyObject_GC_Track(result);
	}
	ret = result;
	result = NULL;
done:
	if (result != NULL && PyList_CheckExact(result) &&
	    !PyObject_GC_IsTracked(result)) {
		/* A failure before the ids became names: only NULLs may be
		 * left in a list that is freed. */
		memset(((PyListObject *)result)->ob_item, 0,
		       (size_t)PyList_GET_SIZE(result) * sizeof(PyObject *));
		PyObject_GC_Track(result);
	}
	if (have_ov)
		PyBuffer_Release(&ov);
	Py_XDECREF(result);
	if (have_in)
		PyBuffer_Release(&in);
	Py_XDECREF(seq);
	PyMem_RawFree(heap_keys);
	PyMem_RawFree(heap_ids);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Table: a pre-resolved keyspace.table                                     */
/* ------------------------------------------------------------------------ */

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

static PyObject *Table_route(TableObject *self, PyObject *value)
{
	return handle_route(self->router, self->h, value, self->keyspace,
	                    self->table);
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

	if (values_from_py(self->router->st, value, &vb) < 0)
		return NULL;
	rc = router_handle_route(self->h, vb.v, vb.n, &res, &err);
	valbuf_release(&vb);
	return lookup_result(self->router, rc, &res, &err, self->keyspace,
	                     self->table);
}

PyDoc_STRVAR(Table_route_many_doc,
"route_many($self, values, /, *, ids=False, out=None, nogil=None)\n--\n\n"
"Route many values at once; see Router.route_many.");

static PyObject *Table_route_many(TableObject *self, PyObject *const *args,
                                  Py_ssize_t nargs, PyObject *kwnames)
{
	many_opts o;

	if (nargs != 1)
		return wrong_nargs("route_many", 1, nargs);
	if (many_parse("route_many", kwnames, args + nargs, &o) < 0)
		return NULL;
	return route_many_impl(self->router, self->h, args[0], &o,
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
"_bench_c($self, keys, repeats, single=False, /)\n--\n\n"
"Benchmark helper: ns per key of routing the int64 buffer keys in C\n"
"only, repeats times (router_handle_route_batch, or with single=True one\n"
"router_handle_route_int64 call per key).  No Python object is touched\n"
"inside the timed loop.");

static PyObject *Table_bench_c(TableObject *self, PyObject *args)
{
	Py_buffer view;
	Py_ssize_t repeats;
	int single = 0;
	uint32_t *ids;
	size_t n, r, i;
	double t0, t1;
	volatile uint32_t sink = 0;
	int rc = ROUTER_OK;

	if (!PyArg_ParseTuple(args, "y*n|p:_bench_c", &view, &repeats, &single))
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

			for (i = 0; i < n; i++) {
				router_route_result res;

				rc = router_handle_route_int64(self->h,
				                               (int64_t)k[i],
				                               &res);
				if (rc < 0)
					break;
				sink += res.shard_id;
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
		return raise_route_error(self->router->st, rc, NULL,
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
 * Router_clear breaks.  Keeping router and handle until dealloc means a
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

/* ------------------------------------------------------------------------ */
/* Diffs, notes, verdicts, events                                           */
/* ------------------------------------------------------------------------ */

static PyStructSequence_Field DiffEntry_fields[] = {
    {"kind", "'keyspace', 'table', 'vindex', 'shard' or 'rule'"},
    {"op", "'added', 'removed' or 'changed'"},
    {"keyspace", "keyspace name ('' for routing rules)"},
    {"name", "name of what changed"},
    {"detail", "what changed, e.g. 'sharded -> unsharded'"},
    {NULL, NULL}};
static PyStructSequence_Desc DiffEntry_desc = {
    "shardrouter.DiffEntry",
    "DiffEntry(kind, op, keyspace, name, detail)\n\nOne difference between "
    "the table in service and the one offered.",
    DiffEntry_fields, 5};

static PyStructSequence_Field HistoryEntry_fields[] = {
    {"version", "the table's version"},
    {"content_hash", "64-bit hash of its routing content"},
    {"accepted_unix_ns", "wall-clock time it was first accepted (ns)"},
    {"in_service", "True for the table in service"},
    {NULL, NULL}};
static PyStructSequence_Desc HistoryEntry_desc = {
    "shardrouter.HistoryEntry",
    "HistoryEntry(version, content_hash, accepted_unix_ns, in_service)\n\n"
    "One accepted table kept for rollback.",
    HistoryEntry_fields, 4};

static PyStructSequence_Field Note_fields[] = {
    {"kind", "'error', 'unknown' (field Vitess does not know), 'ignored' "
             "or 'unsupported'"},
    {"code", "the error's code (0 for warnings)"},
    {"name", "the code's name, e.g. 'ROUTER_EDOC' (None for warnings)"},
    {"path", "JSON path of the value at fault, or the object's name"},
    {"culprit", "the culprit as librouter reports it"},
    {"message", "what and why"},
    {"line", "1-based line of a syntax error, else 0"},
    {"column", "1-based column of a syntax error, else 0"},
    {NULL, NULL}};
static PyStructSequence_Desc Note_desc = {
    "shardrouter.Note",
    "Note(kind, code, name, path, culprit, message, line, column)\n\n"
    "One error or warning found while loading a document.",
    Note_fields, 8};

static PyStructSequence_Field Verdict_fields[] = {
    {"accepted", "True when every guard passed"},
    {"code", "0, or the refusal's code (shardrouter.E*)"},
    {"name", "None, or the refusal's code name ('ROUTER_ESHRINK')"},
    {"reason", "'' or why it was refused"},
    {"culprit", "'' or what it was refused for (keyspace, table...)"},
    {"version_from", "version in service before (0: none)"},
    {"version", "version offered (assigned when the document had none)"},
    {"content_hash", "content hash of the table offered"},
    {"diff", "tuple of DiffEntry: table in service -> table offered"},
    {"notes", "tuple of Note: warnings found in the document"},
    {"shadow", "ShadowVerdict of the sample keys (set_sample), or None; "
               "an attribute, not part of the tuple"},
    {NULL, NULL}};
static PyStructSequence_Desc Verdict_desc = {
    "shardrouter.Verdict",
    "Verdict(accepted, code, name, reason, culprit, version_from, version, "
    "content_hash, diff, notes)\n\nWhat publish() did or check() would do "
    "(.shadow: the ShadowVerdict, an attribute).",
    Verdict_fields, 10};

static PyStructSequence_Field Event_fields[] = {
    {"kind", "'publish', 'check', 'rollback', 'discard' (a pending table "
             "discarded or superseded) or 'snapshot' (an automatic "
             "snapshot failed)"},
    {"code", "0 or the refusal's code"},
    {"name", "None or the refusal's code name"},
    {"version_from", "version in service before"},
    {"version_to", "version offered or rolled back to"},
    {"content_hash", "content hash offered (0 for a failed rollback)"},
    {"reason", "'' or why it was refused"},
    {"culprit", "'' or the culprit"},
    {"diff", "tuple of DiffEntry (empty for rollbacks)"},
    {"shadow", "ShadowVerdict of a publish or check when a sample is set, "
               "else None; an attribute, not part of the tuple"},
    {NULL, NULL}};
static PyStructSequence_Desc Event_desc = {
    "shardrouter.Event",
    "Event(kind, code, name, version_from, version_to, content_hash, "
    "reason, culprit, diff)\n\nPassed to Router(on_event=...) after every "
    "publish, check and rollback, discard of a pending table and failed "
    "automatic snapshot (.shadow: the ShadowVerdict, an attribute).",
    Event_fields, 9};

static PyStructSequence_Field ShadowStat_fields[] = {
    {"keyspace", "keyspace name ('' in ShadowVerdict.totals)"},
    {"keys", "sample keys naming the keyspace"},
    {"routed", "of which route in the table in service (to a shard or to "
               "no keyspace ID)"},
    {"moved", "routed by both tables, to another shard"},
    {"unroutable", "routed in service, not by the new table"},
    {"newly_routable", "not routed in service, routed by the new table"},
    {NULL, NULL}};
static PyStructSequence_Desc ShadowStat_desc = {
    "shardrouter.ShadowStat",
    "ShadowStat(keyspace, keys, routed, moved, unroutable, newly_routable)"
    "\n\nWhat a new table does to the sample keys of one keyspace.",
    ShadowStat_fields, 6};

static PyStructSequence_Field ShadowVerdict_fields[] = {
    {"keyspaces", "dict of keyspace name to ShadowStat, sorted by name"},
    {"totals", "ShadowStat summed over every keyspace (keyspace '')"},
    {NULL, NULL}};
static PyStructSequence_Desc ShadowVerdict_desc = {
    "shardrouter.ShadowVerdict",
    "ShadowVerdict(keyspaces, totals)\n\nThe shadow evaluation of a table "
    "on the sample keys (Router.set_sample): Verdict.shadow, "
    "RefusedError.shadow, Event.shadow.",
    ShadowVerdict_fields, 2};

static PyStructSequence_Field Fence_fields[] = {
    {"content_hash", "the fenced content hash"},
    {"version", "version of the table that was fenced (0: unknown)"},
    {"origin", "'refused' (by a guard), 'rolled_back', 'discarded' (from "
               "quarantine) or 'manual' (Router.fence)"},
    {"code", "the guard's code for 'refused', else 0"},
    {"name", "the guard's code name ('ROUTER_ESHRINK'), else None"},
    {"fenced_unix_ns", "wall-clock time it was fenced (ns)"},
    {NULL, NULL}};
static PyStructSequence_Desc Fence_desc = {
    "shardrouter.Fence",
    "Fence(content_hash, version, origin, code, name, fenced_unix_ns)\n\n"
    "A content hash the router refuses at once (Router.fences).",
    Fence_fields, 6};

static PyStructSequence_Field Pending_fields[] = {
    {"version", "version as offered (0: the next one at approval)"},
    {"content_hash", "content hash of the pending table"},
    {"code", "the guard that refused it: EEMPTY, ESHRINK or ESHADOW"},
    {"name", "the guard's code name ('ROUTER_ESHRINK')"},
    {"culprit", "what it was refused for (keyspace, table)"},
    {"reason", "why it was refused"},
    {"diff", "tuple of DiffEntry: table in service now -> pending table"},
    {"since_unix_ns", "wall-clock time it was quarantined (ns)"},
    {NULL, NULL}};
static PyStructSequence_Desc Pending_desc = {
    "shardrouter.Pending",
    "Pending(version, content_hash, code, name, culprit, reason, diff, "
    "since_unix_ns)\n\nThe table a quarantined publish left pending "
    "(Router.pending).",
    Pending_fields, 8};

static PyStructSequence_Field SnapshotInfo_fields[] = {
    {"version", "the version recorded in the snapshot"},
    {"content_hash", "the content hash recorded (and verified)"},
    {NULL, NULL}};
static PyStructSequence_Desc SnapshotInfo_desc = {
    "shardrouter.SnapshotInfo",
    "SnapshotInfo(version, content_hash)\n\nWhat verify_snapshot() found "
    "in a sound snapshot file.",
    SnapshotInfo_fields, 2};

static PyObject *diff_tuple(modstate *st, const router_diff *d)
{
	static const char *const kinds[] = {"?", "keyspace", "table",
	                                    "vindex", "shard", "rule"};
	static const char *const ops[] = {"?", "added", "removed", "changed"};
	size_t n = router_diff_count(d), i;
	PyObject *t = PyTuple_New((Py_ssize_t)n);

	if (t == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const router_diff_entry *e = router_diff_get(d, i);
		PyObject *o = PyStructSequence_New(st->DiffEntry_Type);
		unsigned k = (unsigned)e->kind, op = (unsigned)e->op;

		if (o == NULL)
			goto fail;
		PyTuple_SET_ITEM(t, (Py_ssize_t)i, o);
		PyStructSequence_SetItem(
		    o, 0, PyUnicode_InternFromString(k <= 5 ? kinds[k] : "?"));
		PyStructSequence_SetItem(
		    o, 1, PyUnicode_InternFromString(op <= 3 ? ops[op] : "?"));
		PyStructSequence_SetItem(o, 2,
		                         PyUnicode_FromString(e->keyspace
		                                                  ? e->keyspace
		                                                  : ""));
		PyStructSequence_SetItem(
		    o, 3, PyUnicode_FromString(e->name ? e->name : ""));
		PyStructSequence_SetItem(
		    o, 4, PyUnicode_FromString(e->detail ? e->detail : ""));
		for (int j = 0; j < 5; j++)
			if (PyStructSequence_GetItem(o, j) == NULL)
				goto fail;
	}
	return t;
fail:
	Py_DECREF(t);
	if (!PyErr_Occurred())
		PyErr_NoMemory();
	return NULL;
}

static PyObject *errname_or_none(int code)
{
	if (code == ROUTER_OK)
		Py_RETURN_NONE;
	return PyUnicode_FromString(router_errname(code));
}

static PyObject *notes_tuple(modstate *st, const router_doc_report *rep,
                             int only_warnings)
{
	static const char *const kinds[] = {"?", "error", "unknown", "ignored",
	                                    "unsupported"};
	size_t n = router_doc_report_count(rep, 0), i, k = 0;
	PyObject *t, *o;

	for (i = 0; i < n; i++)
		if (!only_warnings || router_doc_report_get(rep, i)->kind !=
		                          ROUTER_DOC_NOTE_ERROR)
			k++;
	t = PyTuple_New((Py_ssize_t)k);
	if (t == NULL)
		return NULL;
	for (i = 0, k = 0; i < n; i++) {
		const router_doc_note *e = router_doc_report_get(rep, i);
		unsigned kind = (unsigned)e->kind;

		if (only_warnings && e->kind == ROUTER_DOC_NOTE_ERROR)
			continue;
		o = PyStructSequence_New(st->Note_Type);
		if (o == NULL)
			goto fail;
		PyTuple_SET_ITEM(t, (Py_ssize_t)k++, o);
		PyStructSequence_SetItem(
		    o, 0, PyUnicode_InternFromString(kind <= 4 ? kinds[kind] : "?"));
		PyStructSequence_SetItem(o, 1, PyLong_FromLong(e->error.code));
		PyStructSequence_SetItem(o, 2, errname_or_none(e->error.code));
		PyStructSequence_SetItem(
		    o, 3, PyUnicode_DecodeUTF8(e->path ? e->path : "",
		                               (Py_ssize_t)strlen(e->path ? e->path
		                                                          : ""),
		                               "replace"));
		PyStructSequence_SetItem(
		    o, 4, PyUnicode_DecodeUTF8(e->error.culprit,
		                               (Py_ssize_t)strlen(e->error.culprit),
		                               "replace"));
		PyStructSequence_SetItem(
		    o, 5, PyUnicode_DecodeUTF8(e->error.message,
		                               (Py_ssize_t)strlen(e->error.message),
		                               "replace"));
		PyStructSequence_SetItem(o, 6, PyLong_FromLong(e->line));
		PyStructSequence_SetItem(o, 7, PyLong_FromLong(e->column));
		for (int j = 0; j < 8; j++)
			if (PyStructSequence_GetItem(o, j) == NULL)
				goto fail;
	}
	return t;
fail:
	Py_DECREF(t);
	if (!PyErr_Occurred())
		PyErr_NoMemory();
	return NULL;
}

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
		return raise_error(st, rc, e, NULL);
	for (i = 0; i < n; i++) {
		const router_doc_note *x = router_doc_report_get(rep, i);

		if (x->kind == ROUTER_DOC_NOTE_ERROR) {
			first = x;
			break;
		}
	}
	notes = notes_tuple(st, rep, 0);
	if (notes == NULL)
		return NULL;
	return raise_error(
	    st, rc, e, "path",
	    PyUnicode_FromString(first && first->path ? first->path
	                                              : (e ? e->culprit : "")),
	    "line", PyLong_FromLong(first ? first->line : 0), "column",
	    PyLong_FromLong(first ? first->column : 0), "notes", notes, NULL);
}

/* ------------------------------------------------------------------------ */
/* Documents: str / bytes / dict / path to a table                          */
/* ------------------------------------------------------------------------ */

typedef struct {
	PyObject *keyspace; /* str or NULL */
	PyObject *shards;   /* mapping or NULL */
	int has_version;
	uint64_t version;
	int destructive;
	int strict;
	int quarantine;
} doc_opts;

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
 * or -1 with TypeError / ValueError (path_bytes). */
static int doc_path(PyObject *pathobj, doc_text *out)
{
	out->path_fs = path_bytes(pathobj, "path");
	if (out->path_fs == NULL)
		return -1;
	out->path = Py_NewRef(pathobj); /* as given, as open() reports it */
	return 0;
}

/* The document's JSON text.  A str is JSON text when its first
 * non-whitespace character is '{', else a path; bytes-like objects are
 * JSON text; file objects (read(), not os.PathLike) are read; os.PathLike
 * objects are paths; dicts are serialized with json.dumps. */
static int doc_to_text(modstate *st, PyObject *doc, doc_text *out)
{
	memset(out, 0, sizeof *out);
	if (PyDict_Check(doc)) {
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
	if (PyUnicode_Check(doc)) {
		Py_ssize_t n, i;
		const char *p = PyUnicode_AsUTF8AndSize(doc, &n);

		if (p == NULL)
			return -1;
		for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t' ||
		                      p[i] == '\n' || p[i] == '\r');
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
			                "empty document: a str is JSON text when "
			                "it starts with '{', else a path");
			return -1;
		}
		return doc_path(doc, out);
	}
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
	    !PyObject_HasAttrString(doc, "__fspath__")) {
		/* A file object is read as it stands: never reopened by its
		 * name (a closed file raises its own ValueError, "I/O
		 * operation on closed file"; a file renamed or unlinked since
		 * it was opened is still the one read). */
		PyObject *text = PyObject_CallMethod(doc, "read", NULL);

		if (text == NULL)
			return -1;
		if (!PyUnicode_Check(text) && !PyBytes_Check(text)) {
			PyErr_Format(PyExc_TypeError,
			             "%.100s.read() gave %.100s, not str or "
			             "bytes",
			             Py_TYPE(doc)->tp_name, Py_TYPE(text)->tp_name);
			Py_DECREF(text);
			return -1;
		}
		if (PyUnicode_Check(text)) {
			Py_ssize_t n;
			const char *p = PyUnicode_AsUTF8AndSize(text, &n);

			if (p == NULL) {
				Py_DECREF(text);
				return -1;
			}
			out->ptr = p;
			out->len = (size_t)n;
		} else {
			out->ptr = PyBytes_AS_STRING(text);
			out->len = (size_t)PyBytes_GET_SIZE(text);
		}
		out->keep = text; /* the text read, never a path */
		return 0;
	}
	{
		PyObject *p = PyOS_FSPath(doc);

		if (p == NULL) {
			PyErr_Clear();
			PyErr_Format(PyExc_TypeError,
			             "a document is a str (JSON text or a path), "
			             "bytes, a dict, a file object or an "
			             "os.PathLike, not %.100s",
			             Py_TYPE(doc)->tp_name);
			return -1;
		}
		Py_DECREF(p);
		return doc_path(doc, out);
	}
}

/* Caller-supplied shards: {keyspace: [shard, ...]} as router_doc_shards.
 * keep receives a list holding every object whose UTF-8 is borrowed. */
static int shards_from_py(PyObject *map, router_doc_shards **out, size_t *n,
                          PyObject **keep)
{
	PyObject *items, *ks, *names, *seq;
	router_doc_shards *arr = NULL;
	Py_ssize_t ni, i, j, m, sl;

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
		const char **list;

		ks = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 0);
		names = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 1);
		if (!PyUnicode_Check(ks)) {
			PyErr_Format(PyExc_TypeError,
			             "shards: keyspace names must be str, not "
			             "%.100s",
			             Py_TYPE(ks)->tp_name);
			goto fail;
		}
		if (PyUnicode_Check(names) || PyBytes_Check(names)) {
			PyErr_Format(PyExc_TypeError,
			             "shards[%R] must be a list of shard names, "
			             "not a %.100s",
			             ks, Py_TYPE(names)->tp_name);
			goto fail;
		}
		seq = PySequence_Fast(names, "shards: each value must be a "
		                             "list of shard names");
		if (seq == NULL)
			goto fail;
		if (PyList_Append(*keep, seq) < 0) {
			Py_DECREF(seq);
			goto fail;
		}
		Py_DECREF(seq);
		m = PySequence_Fast_GET_SIZE(seq);
		list = PyMem_Calloc((size_t)(m ? m : 1), sizeof *list);
		if (list == NULL) {
			PyErr_NoMemory();
			goto fail;
		}
		arr[i].shards = list;
		arr[i].nshards = (size_t)m;
		/* (The old test compared the UTF-8 length with the length in
		 * characters and looked at the first byte only: "u\0" got
		 * through as "u".) */
		arr[i].keyspace = name_utf8(ks, "shards keyspace", &sl);
		if (arr[i].keyspace == NULL)
			goto fail;
		for (j = 0; j < m; j++) {
			PyObject *s = PySequence_Fast_GET_ITEM(seq, j);

			if (!PyUnicode_Check(s)) {
				PyErr_Format(PyExc_TypeError,
				             "shards[%R]: shard names must be "
				             "str, not %.100s",
				             ks, Py_TYPE(s)->tp_name);
				goto fail;
			}
			list[j] = PyUnicode_AsUTF8AndSize(s, &sl);
			if (list[j] == NULL ||
			    refuse_nul(list[j], sl, "shard name") < 0)
				goto fail;
		}
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
static int load_doc(modstate *st, PyObject *doc, const doc_opts *o,
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

		opt.keyspace = name_utf8(o->keyspace, "keyspace", &kl);
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
		raise_os_error(rc, &err, eno, txt.path);
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
	*warnings = notes_tuple(st, rep, 1);
	if (*warnings == NULL)
		goto fail;
	for (size_t i = 0; i < router_doc_report_count(rep, 0); i++) {
		const router_doc_note *x = router_doc_report_get(rep, i);

		if (x->kind == ROUTER_DOC_NOTE_UNKNOWN ||
		    x->kind == ROUTER_DOC_NOTE_UNSUPPORTED) {
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

static int parse_doc_opts(const char *fn, PyObject *kwnames,
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
	if (kwonly(fn, kwnames, kwargs,
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
		if (check_name(v[2], "keyspace") < 0)
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

/* ------------------------------------------------------------------------ */
/* Router                                                                   */
/* ------------------------------------------------------------------------ */

/* What librouter's observer saw during one call of this thread.  One call
 * may see several events, in this order: the discard of a pending table
 * that a publish superseded or replaced, the publish (check, rollback)
 * itself, and a failed automatic snapshot.  The callback runs under the
 * writer lock, usually without the GIL: it copies into raw memory and
 * never touches a Python object. */
#define CAP_EVENTS 4

typedef struct {
	const void *owner;
	int nev;
	router_event *ev[CAP_EVENTS]; /* router_event_copy's copies */
	int main; /* index of the publish, check or rollback event; -1 */
	int snapshot_failed; /* index of a failed automatic snapshot; -1 */
} capture;

static _Thread_local capture *tl_capture;

static void capture_init(capture *c, const void *owner)
{
	memset(c, 0, sizeof *c);
	c->owner = owner;
	c->main = -1;
	c->snapshot_failed = -1;
}

static void capture_free(capture *c)
{
	for (int i = 0; i < c->nev; i++)
		router_event_free(c->ev[i]);
	c->nev = 0;
	c->main = -1;
	c->snapshot_failed = -1;
}

/* Keeps a copy of each event of the call (router_event_copy, with its
 * error, diff and shadow verdict): never calls Python.  An event that
 * cannot be copied (out of memory) is not reported. */
static void capture_event(void *arg, const router_event *ev)
{
	capture *c = tl_capture;

	if (c == NULL || c->owner != arg || c->nev == CAP_EVENTS ||
	    router_event_copy(ev, &c->ev[c->nev]) != ROUTER_OK)
		return;
	switch (ev->kind) {
	case ROUTER_EVENT_PUBLISH:
	case ROUTER_EVENT_CHECK:
	case ROUTER_EVENT_ROLLBACK:
		c->main = c->nev;
		break;
	case ROUTER_EVENT_SNAPSHOT:
		if (ev->code != ROUTER_OK)
			c->snapshot_failed = c->nev;
		break;
	default:
		break;
	}
	c->nev++;
}

/* The main event (publish, check, rollback), or NULL. */
static const router_event *capture_main(const capture *c)
{
	return c->main >= 0 ? c->ev[c->main] : NULL;
}

/* The text of an event's error ("" when it has none). */
static const char *ev_message(const router_event *e)
{
	return e->code != ROUTER_OK && e->error != NULL ? e->error->message
	                                                : "";
}

static const char *ev_culprit(const router_event *e)
{
	return e->code != ROUTER_OK && e->error != NULL ? e->error->culprit
	                                                : "";
}

static PyObject *shadow_stat_py(const router_shadow_stat *s)
{
	return Py_BuildValue("(sKKKKK)", s->keyspace,
	                     (unsigned long long)s->keys,
	                     (unsigned long long)s->routed,
	                     (unsigned long long)s->moved,
	                     (unsigned long long)s->unroutable,
	                     (unsigned long long)s->newly_routable);
}

/* A structseq of type tp from a tuple of its visible fields. */
static PyObject *structseq_from(PyTypeObject *tp, PyObject *values)
{
	PyObject *o;
	Py_ssize_t i, n;

	if (values == NULL)
		return NULL;
	n = PyTuple_GET_SIZE(values);
	o = PyStructSequence_New(tp);
	if (o == NULL) {
		Py_DECREF(values);
		return NULL;
	}
	for (i = 0; i < n; i++)
		PyStructSequence_SetItem(o, i,
		                         Py_NewRef(PyTuple_GET_ITEM(values, i)));
	Py_DECREF(values);
	return o;
}

/* The main event's shadow verdict as a ShadowVerdict, or None. */
static PyObject *capture_shadow_py(modstate *st, const capture *c)
{
	const router_event *m = capture_main(c);
	router_shadow_stat tot;
	PyObject *ks, *totals, *v;

	if (m == NULL || m->shadow == NULL)
		Py_RETURN_NONE;
	ks = PyDict_New();
	if (ks == NULL)
		return NULL;
	for (size_t i = 0; i < router_shadow_count(m->shadow); i++) {
		const router_shadow_stat *x = router_shadow_get(m->shadow, i);
		PyObject *o = structseq_from(st->ShadowStat_Type,
		                             shadow_stat_py(x));

		if (o == NULL || PyDict_SetItemString(ks, x->keyspace, o) < 0) {
			Py_XDECREF(o);
			Py_DECREF(ks);
			return NULL;
		}
		Py_DECREF(o);
	}
	router_shadow_totals(m->shadow, &tot);
	totals = structseq_from(st->ShadowStat_Type, shadow_stat_py(&tot));
	if (totals == NULL) {
		Py_DECREF(ks);
		return NULL;
	}
	v = PyTuple_Pack(2, ks, totals);
	Py_DECREF(ks);
	Py_DECREF(totals);
	return structseq_from(st->ShadowVerdict_Type, v);
}

/* Call on_event (outside every lock) with each event capture saw, in
 * order.  diff and shadow belong to the main event.  An exception in the
 * callback is reported as unraisable: the publish has happened. */
static void fire_event(RouterObject *self, const capture *c, PyObject *diff,
                       PyObject *shadow)
{
	static const char *const kinds[] = {"?",     "publish",  "rollback",
	                                    "check", "snapshot", "discard"};

	if (self->on_event == NULL)
		return;
	for (int i = 0; i < c->nev; i++) {
		const router_event *e = c->ev[i];
		unsigned k = (unsigned)e->kind <= 5 ? (unsigned)e->kind : 0;
		int is_main = i == c->main, ok = 1;
		PyObject *ev, *r, *on_event;

		ev = PyStructSequence_New(self->st->Event_Type);
		if (ev == NULL) {
			PyErr_WriteUnraisable(self->on_event);
			continue;
		}
		PyStructSequence_SetItem(ev, 0,
		                         PyUnicode_InternFromString(kinds[k]));
		PyStructSequence_SetItem(ev, 1, PyLong_FromLong(e->code));
		PyStructSequence_SetItem(ev, 2, errname_or_none(e->code));
		PyStructSequence_SetItem(
		    ev, 3, PyLong_FromUnsignedLongLong(e->version_from));
		PyStructSequence_SetItem(
		    ev, 4, PyLong_FromUnsignedLongLong(e->version_to));
		PyStructSequence_SetItem(ev, 5,
		                         PyLong_FromUnsignedLongLong(e->hash_to));
		PyStructSequence_SetItem(ev, 6,
		                         PyUnicode_FromString(ev_message(e)));
		PyStructSequence_SetItem(ev, 7,
		                         PyUnicode_FromString(ev_culprit(e)));
		PyStructSequence_SetItem(ev, 8,
		                         is_main && diff ? Py_NewRef(diff)
		                                         : PyTuple_New(0));
		PyStructSequence_SetItem(ev, 9,
		                         Py_NewRef(is_main && shadow ? shadow
		                                                     : Py_None));
		for (int j = 0; j < 10; j++)
			if (PyStructSequence_GetItem(ev, j) == NULL)
				ok = 0;
		if (!ok) {
			Py_DECREF(ev);
			PyErr_WriteUnraisable(self->on_event);
			continue;
		}
		/* The callback may clear on_event (Router_clear): hold it. */
		on_event = Py_NewRef(self->on_event);
		r = PyObject_CallOneArg(on_event, ev);
		Py_DECREF(ev);
		if (r != NULL)
			Py_DECREF(r);
		else
			PyErr_WriteUnraisable(on_event);
		Py_DECREF(on_event);
		if (self->on_event == NULL)
			return;
	}
}

/* After a publish, approval or rollback: a failed automatic snapshot
 * (Router(snapshot_path=...)) is a SnapshotWarning; the table stays in
 * service.  Returns -1 when the warning was turned into an exception. */
static int warn_snapshot(RouterObject *self, const capture *c)
{
	const router_event *e;
	const char *msg;

	if (c->snapshot_failed < 0)
		return 0;
	e = c->ev[c->snapshot_failed];
	msg = ev_message(e);
	return PyErr_WarnFormat(self->st->SnapshotWarning, 2,
	                        "snapshot not saved: %s%s%s (%s); the table "
	                        "stays in service",
	                        ev_culprit(e), ev_culprit(e)[0] ? ": " : "",
	                        msg[0] ? msg : router_strerror(e->code),
	                        router_errname(e->code));
}

/* Raise the refusal of a publish or approval (rc: its code) with .reason,
 * .diff, .version_from, .version, .shadow and, for QuarantinedError,
 * .guard_code / .guard_name (the guard that refused the table now
 * pending).  Always returns NULL. */
static PyObject *raise_refusal(RouterObject *self, int rc,
                               const router_error *err, const capture *c,
                               PyObject *diff, PyObject *shadow)
{
	const router_event *m = capture_main(c);
	int guard = 0;

	if (rc == ROUTER_EQUARANTINED) {
		router_pending_info info;
		int prc;

		Py_BEGIN_ALLOW_THREADS
		prc = router_pending(self->r, &info, NULL, NULL);
		Py_END_ALLOW_THREADS
		/* Another thread may have replaced it meanwhile: only a
		 * pending table with the content offered tells the guard. */
		if (prc == ROUTER_OK && m != NULL &&
		    info.content_hash == m->hash_to)
			guard = info.reason.code;
	}
	return raise_error(
	    self->st, rc, err, "reason",
	    PyUnicode_FromString(err->message[0] ? err->message
	                                         : router_strerror(rc)),
	    "diff", diff ? Py_NewRef(diff) : PyTuple_New(0), "version_from",
	    PyLong_FromUnsignedLongLong(m ? m->version_from
	                                  : router_serving_version(self->r)),
	    "version",
	    PyLong_FromUnsignedLongLong(m ? m->version_to
	                                  : router_serving_version(self->r)),
	    "shadow", Py_NewRef(shadow ? shadow : Py_None),
	    /* Only a QuarantinedError has these: NULL ends the list. */
	    rc == ROUTER_EQUARANTINED ? "guard_code" : NULL,
	    rc == ROUTER_EQUARANTINED ? PyLong_FromLong(guard) : NULL,
	    "guard_name",
	    rc == ROUTER_EQUARANTINED ? errname_or_none(guard) : NULL, NULL);
}

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
	    (snap_fs = path_bytes(snap, "snapshot_path")) == NULL)
		return NULL;
	mod = PyType_GetModuleByDef(type, &shardrouter_module);
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
	opt.on_event = capture_event;
	opt.on_event_arg = self;
	opt.snapshot_path = snap_fs ? PyBytes_AS_STRING(snap_fs) : NULL;
	opt.fence_cap = (unsigned)fence_cap;
	rc = router_create(&self->r, &opt, &err); /* copies the path */
	Py_XDECREF(snap_fs);
	if (rc != ROUTER_OK) {
		Py_DECREF(self);
		return raise_error(st, rc, &err, NULL);
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

static int Router_clear(RouterObject *self)
{
	Py_CLEAR(self->on_event);
	return 0;
}

static void Router_dealloc(RouterObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);
	size_t i, j;

	PyObject_GC_UnTrack(self);
	Router_clear(self);
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

static PyObject *Router_route(RouterObject *self, PyObject *const *args,
                              Py_ssize_t nargs)
{
	router_handle *h;

	if (UNLIKELY(nargs != 3))
		return wrong_nargs("route", 3, nargs);
	h = hc_lookup(self, args[0], args[1]);
	if (LIKELY(h != NULL))
		return handle_route(self, h, args[2], args[0], args[1]);
	if (PyErr_Occurred())
		return NULL;
	return route_by_name(self, args[0], args[1], args[2]);
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
		return wrong_nargs("lookup", 3, nargs);
	if ((k = name_utf8(args[0], "keyspace", &kl)) == NULL ||
	    (t = name_utf8(args[1], "table", &tl)) == NULL)
		return NULL;
	if (values_from_py(self->st, args[2], &vb) < 0)
		return NULL;
	rc = router_route(self->r, k, (size_t)kl, t, (size_t)tl, vb.v, vb.n,
	                  &res, &err);
	valbuf_release(&vb);
	return lookup_result(self, rc, &res, &err, args[0], args[1]);
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
		return wrong_nargs("route_ksid", 2, nargs);
	if ((k = name_utf8(args[0], "keyspace", &kl)) == NULL)
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
	return raise_route_error(self->st, rc, &err, args[0], NULL);
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
		return wrong_nargs("route_many", 3, nargs);
	if (many_parse("route_many", kwnames, args + nargs, &o) < 0)
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
		if ((k = name_utf8(args[0], "keyspace", &kl)) == NULL ||
		    (t = name_utf8(args[1], "table", &tl)) == NULL)
			return NULL;
		rc = router_handle_open(self->r, k, (size_t)kl, t, (size_t)tl,
		                        &tmp, &err);
		if (rc == ROUTER_EINVAL || rc == ROUTER_ERANGE)
			rc = ROUTER_ENOTFOUND; /* no such table can exist */
		if (rc != ROUTER_OK)
			return raise_route_error(self->st, rc, &err, args[0],
			                         args[1]);
		h = tmp;
	}
	r = route_many_impl(self, h, args[2], &o, args[0], args[1]);
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
		return wrong_nargs("table", 2, nargs);
	if ((k = name_utf8(args[0], "keyspace", &kl)) == NULL ||
	    (n = name_utf8(args[1], "table", &tl)) == NULL)
		return NULL;
	rc = router_handle_open(self->r, k, (size_t)kl, n, (size_t)tl, &h,
	                        &err);
	if (rc == ROUTER_ERANGE)
		rc = ROUTER_EINVAL; /* a name too long: a bad argument */
	if (rc != ROUTER_OK)
		return raise_error(self->st, rc, &err, NULL);
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

/* The Verdict of a publish, check or approval. */
static PyObject *make_verdict(RouterObject *self, int rc,
                              const router_error *err, const capture *c,
                              PyObject *diff, PyObject *notes,
                              PyObject *shadow)
{
	const router_event *m = capture_main(c);
	PyObject *verdict = PyStructSequence_New(self->st->Verdict_Type);

	if (verdict == NULL)
		return NULL;
	PyStructSequence_SetItem(verdict, 0, PyBool_FromLong(rc == ROUTER_OK));
	PyStructSequence_SetItem(verdict, 1, PyLong_FromLong(rc));
	PyStructSequence_SetItem(verdict, 2, errname_or_none(rc));
	PyStructSequence_SetItem(
	    verdict, 3, PyUnicode_FromString(rc != ROUTER_OK ? err->message : ""));
	PyStructSequence_SetItem(
	    verdict, 4, PyUnicode_FromString(rc != ROUTER_OK ? err->culprit : ""));
	PyStructSequence_SetItem(
	    verdict, 5, PyLong_FromUnsignedLongLong(m ? m->version_from : 0));
	PyStructSequence_SetItem(
	    verdict, 6, PyLong_FromUnsignedLongLong(m ? m->version_to : 0));
	PyStructSequence_SetItem(
	    verdict, 7, PyLong_FromUnsignedLongLong(m ? m->hash_to : 0));
	PyStructSequence_SetItem(verdict, 8, Py_NewRef(diff));
	PyStructSequence_SetItem(verdict, 9,
	                         notes ? Py_NewRef(notes) : PyTuple_New(0));
	PyStructSequence_SetItem(verdict, 10,
	                         Py_NewRef(shadow ? shadow : Py_None));
	for (int j = 0; j < 11; j++)
		if (PyStructSequence_GetItem(verdict, j) == NULL) {
			Py_DECREF(verdict);
			return NULL;
		}
	return verdict;
}

/* The diff of a writer call as a tuple (empty when there is none);
 * frees d. */
static PyObject *take_diff(modstate *st, router_diff *d)
{
	PyObject *diff;

	if (d == NULL)
		return PyTuple_New(0);
	diff = diff_tuple(st, d);
	router_diff_free(d);
	return diff;
}

/* Publish t (a dry run with ROUTER_PUBLISH_DRY_RUN), or approve the
 * pending table when t is NULL, and turn the outcome into a Verdict or an
 * exception.  Takes t: it is freed unless the router keeps it.  notes:
 * the document's warnings (may be NULL). */
static PyObject *publish_table(RouterObject *self, router_table *t,
                               unsigned flags, PyObject *notes)
{
	int dry = (flags & ROUTER_PUBLISH_DRY_RUN) != 0;
	PyObject *diff = NULL, *shadow = NULL, *verdict = NULL;
	router_diff *d = NULL;
	router_error err;
	capture cap;
	int rc;

	capture_init(&cap, self);
	tl_capture = &cap;
	Py_BEGIN_ALLOW_THREADS
	if (t != NULL)
		rc = router_publish(self->r, t, flags, &d, &err);
	else
		rc = router_pending_approve(self->r, &d, &err);
	Py_END_ALLOW_THREADS
	tl_capture = NULL;
	/* Accepted (not a dry run) or quarantined: the router's now. */
	if (t != NULL && !((rc == ROUTER_OK && !dry) ||
	                   rc == ROUTER_EQUARANTINED))
		router_table_free(t);
	diff = take_diff(self->st, d);
	if (diff == NULL)
		goto done;
	shadow = capture_shadow_py(self->st, &cap);
	if (shadow == NULL)
		goto done;
	fire_event(self, &cap, diff, shadow);
	if (rc == ROUTER_ENOMEM || rc == ROUTER_EINVAL || rc == ROUTER_ESTATE ||
	    (t == NULL && rc == ROUTER_ENOTFOUND)) {
		raise_error(self->st, rc, &err, NULL);
		goto done;
	}
	if (rc != ROUTER_OK && !dry) {
		raise_refusal(self, rc, &err, &cap, diff, shadow);
		goto done;
	}
	if (!dry && warn_snapshot(self, &cap) < 0)
		goto done;
	verdict = make_verdict(self, rc, &err, &cap, diff, notes, shadow);
done:
	capture_free(&cap);
	Py_XDECREF(diff);
	Py_XDECREF(shadow);
	return verdict;
}

/* publish() and check(). */
static PyObject *publish_impl(RouterObject *self, PyObject *const *args,
                              Py_ssize_t nargs, PyObject *kwnames, int dry)
{
	const char *fn = dry ? "check" : "publish";
	router_table *t = NULL;
	PyObject *warnings = NULL, *verdict;
	doc_opts o;
	unsigned flags;

	if (nargs != 1)
		return wrong_nargs(fn, 1, nargs);
	if (parse_doc_opts(fn, kwnames, args + nargs, &o, !dry) < 0)
		return NULL;
	if (load_doc(self->st, args[0], &o, &t, &warnings) < 0)
		return NULL;
	flags = (o.destructive ? ROUTER_PUBLISH_DESTRUCTIVE : 0u) |
	        (dry ? ROUTER_PUBLISH_DRY_RUN : 0u) |
	        (o.quarantine ? ROUTER_PUBLISH_QUARANTINE : 0u);
	verdict = publish_table(self, t, flags, warnings);
	Py_XDECREF(warnings);
	return verdict;
}

PyDoc_STRVAR(Router_publish_doc,
"publish($self, doc, /, *, version=None, allow_destructive=False,\n"
"        keyspace=None, shards=None, strict=False, quarantine=False)\n"
"--\n\n"
"Load a routing document, check it against the table in service (the\n"
"guards) and, if every guard passes, put it in service atomically.\n"
"Returns a Verdict (accepted=True, the version assigned, the diff, the\n"
"shadow verdict when a sample is set).\n\n"
"doc: a dict (serialized with json.dumps); bytes (JSON text); a str,\n"
"which is JSON text when its first non-whitespace character is '{' and\n"
"otherwise the path of a file; an os.PathLike (a path); or a file\n"
"object (anything with read() giving str or bytes), read as it stands,\n"
"never reopened by its name (a closed file raises ValueError).  The\n"
"document is a Vitess SrvVSchema, a map of keyspace name to keyspace,\n"
"or one keyspace's VSchema (then keyspace= names it).\n"
"version: the table's version, overriding the document's (None or 0:\n"
"the document's \"version\", or the next one when it has none).\n"
"allow_destructive: allow dropping keyspaces or more than max_shrink of\n"
"a keyspace's tables, and moving or stranding sample keys (set_sample);\n"
"fences and invariants still apply.  shards: {keyspace: [shard names]}\n"
"for sharded keyspaces whose document has no \"shards\".  strict: fields\n"
"Vitess does not know are errors instead of DocumentWarnings.\n"
"quarantine: a table the empty, shrink or shadow guard refuses is kept\n"
"pending (Router.pending) instead of dropped, and QuarantinedError is\n"
"raised; an operator then calls approve_pending() or discard_pending().\n\n"
"Raises DocumentError (malformed or invalid document; .path names the\n"
"JSON path), RefusedError (a guard refused it: .code, .reason, .culprit,\n"
".diff, .shadow; the table in service is untouched) or one of its\n"
"subclasses FencedError, InvariantError, ShadowError, QuarantinedError,\n"
"OSError for a path that cannot be read.  A failed automatic snapshot\n"
"(snapshot_path) is a SnapshotWarning: the table is in service.");

static PyObject *Router_publish(RouterObject *self, PyObject *const *args,
                                Py_ssize_t nargs, PyObject *kwnames)
{
	return publish_impl(self, args, nargs, kwnames, 0);
}

PyDoc_STRVAR(Router_check_doc,
"check($self, doc, /, *, version=None, allow_destructive=False,\n"
"      keyspace=None, shards=None, strict=False)\n--\n\n"
"What publish() would do, without publishing (nothing is quarantined or\n"
"fenced either): returns a Verdict with accepted, the refusal (code,\n"
"name, reason, culprit), the diff and, when a sample is set\n"
"(set_sample), .shadow: the ShadowVerdict of the sample keys.\n"
"Raises DocumentError for a document that does not load.");

static PyObject *Router_check(RouterObject *self, PyObject *const *args,
                              Py_ssize_t nargs, PyObject *kwnames)
{
	return publish_impl(self, args, nargs, kwnames, 1);
}

PyDoc_STRVAR(Router_rollback_doc,
"rollback($self, steps=1, /, *, version=None)\n--\n\n"
"Put an older accepted table back in service, steps back in the history\n"
"or the one of the given version (O(1), no guard; with fencing on, the\n"
"content left is fenced).  Returns the version now in service.\n"
"Raises HistoryError (code ENOHISTORY) when there is no such table,\n"
"ValueError for steps < 1.");

static PyObject *Router_rollback(RouterObject *self, PyObject *const *args,
                                 Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = {"version", NULL};
	PyObject *kv[1] = {NULL};
	unsigned long long version = 0;
	Py_ssize_t steps = 1;
	int by_version = 0, rc;
	router_error err;
	capture cap;
	PyObject *res;

	if (nargs > 1)
		return PyErr_Format(PyExc_TypeError,
		                    "rollback() takes at most 1 positional "
		                    "argument (%zd given)",
		                    nargs);
	if (kwonly("rollback", kwnames, args + nargs, names, kv) < 0)
		return NULL;
	if (nargs == 1) {
		if (!PyLong_Check(args[0]))
			return PyErr_Format(PyExc_TypeError,
			                    "steps must be an int, not %.100s",
			                    Py_TYPE(args[0])->tp_name);
		steps = PyLong_AsSsize_t(args[0]);
		if (steps == -1 && PyErr_Occurred())
			return NULL;
		if (steps < 1 || (size_t)steps > UINT_MAX)
			return PyErr_Format(PyExc_ValueError,
			                    "steps must be >= 1, not %zd", steps);
	}
	if (kv[0] != NULL && kv[0] != Py_None) {
		if (nargs == 1)
			return PyErr_Format(PyExc_TypeError,
			                    "rollback() takes steps or version, "
			                    "not both");
		if (!PyLong_Check(kv[0]))
			return PyErr_Format(PyExc_TypeError,
			                    "version must be an int, not %.100s",
			                    Py_TYPE(kv[0])->tp_name);
		version = PyLong_AsUnsignedLongLong(kv[0]);
		if (version == (unsigned long long)-1 && PyErr_Occurred())
			return NULL;
		by_version = 1;
	}
	capture_init(&cap, self);
	tl_capture = &cap;
	Py_BEGIN_ALLOW_THREADS
	rc = by_version ? router_rollback_to(self->r, version, &err)
	                : router_rollback(self->r, (unsigned)steps, &err);
	Py_END_ALLOW_THREADS
	tl_capture = NULL;
	fire_event(self, &cap, NULL, NULL);
	if (rc != ROUTER_OK)
		res = raise_error(self->st, rc, &err, NULL);
	else if (warn_snapshot(self, &cap) < 0)
		res = NULL;
	else
		res = PyLong_FromUnsignedLongLong(
		    capture_main(&cap) ? capture_main(&cap)->version_to
		                       : router_serving_version(self->r));
	capture_free(&cap);
	return res;
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
	router_get_stats(self->r, &s);
	for (i = 1; i <= -ROUTER_ERRNO_MIN; i++) {
		PyObject *v;

		if (s.refused_by_code[i] == 0)
			continue;
		v = PyLong_FromUnsignedLongLong(s.refused_by_code[i]);
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
	if (kwonly("export", kwnames, args + nargs, names, kv) < 0)
		return NULL;
	if (nargs == 1 && args[0] != Py_None) {
		Py_ssize_t kl;

		a.keyspace = name_utf8(args[0], "keyspace", &kl);
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
		return raise_error(self->st, rc, &a.err, NULL);
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
		return wrong_nargs("_noop", 3, nargs);
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

/* ------------------------------------------------------------------------ */
/* Beyond the guards: snapshots, quarantine, fences, invariants, shadow     */
/* ------------------------------------------------------------------------ */

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
		return raise_os_error(rc, e, ENOENT, path);
	if (rc == ROUTER_EDOC)
		return raise_error(st, rc, e, "path", PyUnicode_FromString(""),
		                   "line", PyLong_FromLong(0), "column",
		                   PyLong_FromLong(0), "notes", PyTuple_New(0),
		                   NULL);
	return raise_error(st, rc, e, NULL);
}

PyDoc_STRVAR(Router_save_snapshot_doc,
"save_snapshot($self, path, /)\n--\n\n"
"Write the table in service to path (str or os.PathLike) as a\n"
"last-known-good snapshot, atomically: into a new temporary file beside\n"
"it, fsync, rename over path, fsync of the directory.  A crash leaves\n"
"the old file or the new one, never a mix.  Publishers wait meanwhile;\n"
"lookups do not, and the GIL is released.\n\n"
"Raises Error (code ENOTFOUND) when nothing is published, OSError when\n"
"the file cannot be written (nothing at path changed).");

static PyObject *Router_save_snapshot(RouterObject *self, PyObject *path)
{
	PyObject *fs;
	router_error err;
	int rc;

	if ((fs = path_bytes(path, "path")) == NULL)
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
static int snapshot_read(modstate *st, PyObject *path, router_table **t,
                         uint64_t *version, uint64_t *hash)
{
	PyObject *fs;
	router_error err;
	int rc;

	if ((fs = path_bytes(path, "path")) == NULL)
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

PyDoc_STRVAR(Router_from_snapshot_doc,
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

static PyObject *Router_from_snapshot(PyObject *cls, PyObject *const *args,
                                      Py_ssize_t nargs, PyObject *kwnames)
{
	router_table *t = NULL;
	PyObject *self, *verdict;
	uint64_t version, hash;

	if (nargs != 1)
		return wrong_nargs("from_snapshot", 1, nargs);
	/* The options go to Router() as given: its keyword values follow
	 * the path in args. */
	self = PyObject_Vectorcall(cls, args + 1, 0, kwnames);
	if (self == NULL)
		return NULL;
	/* cls is Router: the type cannot be subclassed. */
	if (snapshot_read(((RouterObject *)self)->st, args[0], &t, &version,
	                  &hash) < 0) {
		Py_DECREF(self);
		return NULL;
	}
	verdict = publish_table((RouterObject *)self, t, 0, NULL);
	if (verdict == NULL) {
		Py_DECREF(self);
		return NULL;
	}
	Py_DECREF(verdict);
	return self;
}

PyDoc_STRVAR(Router_pending_doc,
"The table a publish(..., quarantine=True) left pending, not serving, as\n"
"a Pending (version, content_hash, code, name, culprit, reason, diff,\n"
"since_unix_ns; code is the guard that refused it), or None.  Computing\n"
"the diff takes the writer lock (the GIL is released meanwhile).");

static PyObject *Router_get_pending(RouterObject *self, void *c)
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
		return raise_error(self->st, rc, &err, NULL);
	diff = take_diff(self->st, d);
	if (diff == NULL)
		return NULL;
	o = Py_BuildValue(
	    "(KKiNssNL)", (unsigned long long)info.version,
	    (unsigned long long)info.content_hash, info.reason.code,
	    errname_or_none(info.reason.code), info.reason.culprit,
	    info.reason.message[0] ? info.reason.message
	                           : router_strerror(info.reason.code),
	    diff, (long long)info.since_unix_ns);
	return structseq_from(self->st->Pending_Type, o);
}

PyDoc_STRVAR(Router_approve_pending_doc,
"approve_pending($self, /)\n--\n\n"
"Publish the pending table as if allow_destructive were given (the\n"
"empty, shrink and shadow guards are overridden) and return its Verdict.\n"
"Fences, invariants and the version guard still apply: if one refuses,\n"
"its RefusedError subclass is raised and the table stays pending.\n"
"Raises Error (code ENOTFOUND) when nothing is pending.");

static PyObject *Router_approve_pending(RouterObject *self, PyObject *unused)
{
	(void)unused;
	return publish_table(self, NULL, 0, NULL);
}

PyDoc_STRVAR(Router_discard_pending_doc,
"discard_pending($self, /)\n--\n\n"
"Drop the pending table; with fencing on (fence_cap) its content is\n"
"fenced: an operator judged it bad.  Returns True, or False when nothing\n"
"was pending.");

static PyObject *Router_discard_pending(RouterObject *self, PyObject *unused)
{
	router_error err;
	capture cap;
	int rc;

	(void)unused;
	capture_init(&cap, self);
	tl_capture = &cap;
	Py_BEGIN_ALLOW_THREADS
	rc = router_pending_discard(self->r, &err);
	Py_END_ALLOW_THREADS
	tl_capture = NULL;
	fire_event(self, &cap, NULL, NULL);
	capture_free(&cap);
	if (rc == ROUTER_ENOTFOUND)
		Py_RETURN_FALSE;
	if (rc != ROUTER_OK)
		return raise_error(self->st, rc, &err, NULL);
	Py_RETURN_TRUE;
}

static PyObject *fence_py(modstate *st, const router_fence *f)
{
	static const char *const origins[] = {"?", "refused", "rolled_back",
	                                      "discarded", "manual"};
	unsigned o = (unsigned)f->origin <= 4 ? (unsigned)f->origin : 0;

	return structseq_from(
	    st->Fence_Type,
	    Py_BuildValue("(KKNiNL)", (unsigned long long)f->content_hash,
	                  (unsigned long long)f->version,
	                  PyUnicode_InternFromString(origins[o]), f->code,
	                  errname_or_none(f->code),
	                  (long long)f->fenced_unix_ns));
}

PyDoc_STRVAR(Router_fences_doc,
"fences($self, /)\n--\n\n"
"The fenced content hashes, oldest first, as Fence (content_hash,\n"
"version, origin, code, name, fenced_unix_ns): at most fence_cap, empty\n"
"when fencing is off.");

static PyObject *Router_fences(RouterObject *self, PyObject *unused)
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

PyDoc_STRVAR(Router_fence_doc,
"fence($self, content_hash, /)\n--\n\n"
"Fence a content hash by hand (e.g. one a peer fenced): a publish of\n"
"that content is refused with FencedError, whatever its version.\n"
"Raises Error (code ESTATE) when fencing is off (fence_cap=0).");

static PyObject *Router_fence(RouterObject *self, PyObject *arg)
{
	router_error err;
	uint64_t h;
	int rc;

	if (hash_arg(arg, &h) < 0)
		return NULL;
	rc = router_fence_add(self->r, h, &err);
	if (rc != ROUTER_OK)
		return raise_error(self->st, rc, &err, NULL);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(Router_lift_fence_doc,
"lift_fence($self, content_hash, /)\n--\n\n"
"Lift the fence on a content hash so that content may be published\n"
"again.  Returns True, or False when it was not fenced.");

static PyObject *Router_lift_fence(RouterObject *self, PyObject *arg)
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
		return raise_error(self->st, rc, &err, NULL);
	Py_RETURN_TRUE;
}

PyDoc_STRVAR(Router_clear_fences_doc,
"clear_fences($self, /)\n--\n\n"
"Lift every fence.");

static PyObject *Router_clear_fences(RouterObject *self, PyObject *unused)
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

	s = name_utf8(o, "invariant", &n);
	return s;
}

PyDoc_STRVAR(Router_add_invariant_doc,
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

static PyObject *Router_add_invariant(RouterObject *self, PyObject *arg)
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

		return raise_error(self->st, rc, &err, "reason",
		                  PyUnicode_FromString(err.message), "diff",
		                  PyTuple_New(0), "version_from",
		                  PyLong_FromUnsignedLongLong(v), "version",
		                  PyLong_FromUnsignedLongLong(v), "shadow",
		                  Py_NewRef(Py_None), NULL);
	}
	if (rc == ROUTER_ERANGE)
		rc = ROUTER_EINVAL; /* too many: a bad argument */
	return raise_error(self->st, rc, &err, NULL);
}

PyDoc_STRVAR(Router_remove_invariant_doc,
"remove_invariant($self, spec, /)\n--\n\n"
"Remove the invariant with this text (compared in canonical form, so\n"
"blanks and comments do not matter).  Returns True, or False when no\n"
"such invariant was declared.  Raises ValueError for a syntax error.");

static PyObject *Router_remove_invariant(RouterObject *self, PyObject *arg)
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
		return raise_error(self->st, rc, &err, NULL);
	Py_RETURN_TRUE;
}

PyDoc_STRVAR(Router_invariants_doc,
"invariants($self, /)\n--\n\n"
"The declared invariants in canonical text form, in declaration order.");

static PyObject *Router_invariants(RouterObject *self, PyObject *unused)
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

PyDoc_STRVAR(Router_set_sample_doc,
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

static PyObject *Router_set_sample(RouterObject *self, PyObject *const *args,
                                   Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = {"max_moved", "max_unroutable",
	                                    NULL};
	router_shadow_options opt = ROUTER_SHADOW_OPTIONS_INIT;
	PyObject *kv[2] = {NULL, NULL}, *seq = NULL, *ret = NULL;
	router_sample_key *keys = NULL;
	router_value *vals = NULL;
	Py_buffer *views = NULL;
	Py_ssize_t n = 0, i, nviews = 0, nvals = 0;
	router_error err;
	int rc;

	if (nargs != 1)
		return wrong_nargs("set_sample", 1, nargs);
	if (kwonly("set_sample", kwnames, args + nargs, names, kv) < 0)
		return NULL;
	if ((kv[0] != NULL && share_arg(kv[0], "max_moved", &opt.max_moved) <
	                          0) ||
	    (kv[1] != NULL &&
	     share_arg(kv[1], "max_unroutable", &opt.max_unroutable) < 0))
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
	keys = PyMem_Calloc((size_t)(n ? n : 1), sizeof *keys);
	vals = PyMem_Calloc((size_t)(n ? n : 1) * ROUTER_MULTICOL_MAX,
	                    sizeof *vals);
	if (keys == NULL || vals == NULL) {
		PyErr_NoMemory();
		goto done;
	}
	for (i = 0; i < n; i++) {
		PyObject *k = PySequence_Fast_GET_ITEM(seq, i), *ks, *tb;
		Py_ssize_t kl, tl;
		valbuf vb;

		if (!PyTuple_Check(k) && !PyList_Check(k)) {
			PyErr_Format(PyExc_TypeError,
			             "a sample key is a (keyspace, table, value) "
			             "tuple, not %.100s",
			             Py_TYPE(k)->tp_name);
			goto done;
		}
		if (PySequence_Fast_GET_SIZE(k) != 3) {
			PyErr_Format(PyExc_ValueError,
			             "a sample key is (keyspace, table, value), "
			             "not %zd items",
			             PySequence_Fast_GET_SIZE(k));
			goto done;
		}
		ks = PySequence_Fast_GET_ITEM(k, 0);
		tb = PySequence_Fast_GET_ITEM(k, 1);
		keys[i].keyspace = name_utf8(ks, "keyspace", &kl);
		keys[i].table = keys[i].keyspace ? name_utf8(tb, "table", &tl)
		                                 : NULL;
		if (keys[i].table == NULL)
			goto done;
		keys[i].keyspace_len = (size_t)kl;
		keys[i].table_len = (size_t)tl;
		if (values_from_py(self->st, PySequence_Fast_GET_ITEM(k, 2),
		                   &vb) < 0)
			goto done;
		/* Keep the buffers the values borrow until the copy. */
		if (vb.nviews > 0) {
			Py_buffer *nv = PyMem_Realloc(
			    views, (size_t)(nviews + vb.nviews) * sizeof *views);

			if (nv == NULL) {
				valbuf_release(&vb);
				PyErr_NoMemory();
				goto done;
			}
			views = nv;
			memcpy(views + nviews, vb.views,
			       (size_t)vb.nviews * sizeof *views);
			nviews += vb.nviews;
		}
		memcpy(vals + nvals, vb.v, vb.n * sizeof *vals);
		keys[i].values = vals + nvals;
		keys[i].nvalues = vb.n;
		nvals += (Py_ssize_t)vb.n;
	}
	/* Under the GIL: the objects the keys borrow from cannot change. */
	rc = router_shadow_set_sample(self->r, n ? keys : NULL, (size_t)n,
	                              &opt, &err);
	if (rc != ROUTER_OK) {
		raise_error(self->st, rc, &err, NULL);
		goto done;
	}
	ret = Py_NewRef(Py_None);
done:
	for (i = 0; i < nviews; i++)
		PyBuffer_Release(&views[i]);
	PyMem_Free(views);
	PyMem_Free(keys);
	PyMem_Free(vals);
	Py_XDECREF(seq);
	return ret;
}

static PyMethodDef Router_methods[] = {
    {"route", (PyCFunction)(void (*)(void))Router_route, METH_FASTCALL,
     Router_route_doc},
    {"lookup", (PyCFunction)(void (*)(void))Router_lookup, METH_FASTCALL,
     Router_lookup_doc},
    {"route_ksid", (PyCFunction)(void (*)(void))Router_route_ksid,
     METH_FASTCALL, Router_route_ksid_doc},
    {"route_many", (PyCFunction)(void (*)(void))Router_route_many,
     METH_FASTCALL | METH_KEYWORDS, Router_route_many_doc},
    {"table", (PyCFunction)(void (*)(void))Router_table, METH_FASTCALL,
     Router_table_doc},
    {"publish", (PyCFunction)(void (*)(void))Router_publish,
     METH_FASTCALL | METH_KEYWORDS, Router_publish_doc},
    {"check", (PyCFunction)(void (*)(void))Router_check,
     METH_FASTCALL | METH_KEYWORDS, Router_check_doc},
    {"rollback", (PyCFunction)(void (*)(void))Router_rollback,
     METH_FASTCALL | METH_KEYWORDS, Router_rollback_doc},
    {"history", (PyCFunction)Router_history, METH_NOARGS,
     Router_history_doc},
    {"stats", (PyCFunction)Router_stats, METH_NOARGS, Router_stats_doc},
    {"export", (PyCFunction)(void (*)(void))Router_export,
     METH_FASTCALL | METH_KEYWORDS, Router_export_doc},
    {"shard_name", (PyCFunction)Router_shard_name, METH_O,
     Router_shard_name_doc},
    {"save_snapshot", (PyCFunction)Router_save_snapshot, METH_O,
     Router_save_snapshot_doc},
    {"from_snapshot", (PyCFunction)(void (*)(void))Router_from_snapshot,
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS, Router_from_snapshot_doc},
    {"approve_pending", (PyCFunction)Router_approve_pending, METH_NOARGS,
     Router_approve_pending_doc},
    {"discard_pending", (PyCFunction)Router_discard_pending, METH_NOARGS,
     Router_discard_pending_doc},
    {"fences", (PyCFunction)Router_fences, METH_NOARGS, Router_fences_doc},
    {"fence", (PyCFunction)Router_fence, METH_O, Router_fence_doc},
    {"lift_fence", (PyCFunction)Router_lift_fence, METH_O,
     Router_lift_fence_doc},
    {"clear_fences", (PyCFunction)Router_clear_fences, METH_NOARGS,
     Router_clear_fences_doc},
    {"add_invariant", (PyCFunction)Router_add_invariant, METH_O,
     Router_add_invariant_doc},
    {"remove_invariant", (PyCFunction)Router_remove_invariant, METH_O,
     Router_remove_invariant_doc},
    {"invariants", (PyCFunction)Router_invariants, METH_NOARGS,
     Router_invariants_doc},
    {"set_sample", (PyCFunction)(void (*)(void))Router_set_sample,
     METH_FASTCALL | METH_KEYWORDS, Router_set_sample_doc},
    {"_noop", (PyCFunction)(void (*)(void))Router_noop, METH_FASTCALL,
     Router_noop_doc},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Router_getset[] = {
    {"version", (getter)Router_get_version, NULL,
     PyDoc_STR("Version of the table in service (0: none)."), NULL},
    {"content_hash", (getter)Router_get_hash, NULL,
     PyDoc_STR("64-bit content hash of the table in service (0: none)."),
     NULL},
    {"pending", (getter)Router_get_pending, NULL, Router_pending_doc, NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot Router_slots[] = {
    {Py_tp_doc, (void *)Router_doc},
    {Py_tp_new, Router_new},
    {Py_tp_dealloc, Router_dealloc},
    {Py_tp_traverse, Router_traverse},
    {Py_tp_clear, Router_clear},
    {Py_tp_repr, Router_repr},
    {Py_tp_methods, Router_methods},
    {Py_tp_getset, Router_getset},
    {0, NULL}};

static PyType_Spec Router_spec = {
    "shardrouter.Router", sizeof(RouterObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    Router_slots};

/* ------------------------------------------------------------------------ */
/* Module functions                                                         */
/* ------------------------------------------------------------------------ */

static modstate *get_state(PyObject *m)
{
	return PyModule_GetState(m);
}

PyDoc_STRVAR(keyspace_id_doc,
"keyspace_id(vindex_type, value, /, params=None)\n--\n\n"
"The keyspace ID (bytes) Vitess's vindex_type gives value, or None when\n"
"it maps to no keyspace ID.  value as Router.route takes it (a tuple for\n"
"multicol / region_experimental).  params: the vindex's params as a\n"
"dict of str (e.g. {'json': '{\"1\": 2}'} for numeric_static_map).\n"
"Raises ValueError for an unknown type or bad params, NoRouteError for\n"
"lookup vindexes and types not computed in process (unicode_loose_*).");

static PyObject *mod_keyspace_id(PyObject *m, PyObject *const *args,
                                 Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = {"params", NULL};
	modstate *st = get_state(m);
	PyObject *kv[1] = {NULL}, *params = NULL, *items = NULL, *res = NULL;
	router_param p[32];
	uint8_t buf[64], *out = buf;
	size_t len = 0, np = 0;
	router_vindex *vx = NULL;
	router_error err;
	Py_ssize_t tl, pl;
	const char *type;
	valbuf vb;
	int rc;

	if (nargs == 3 && kwnames == NULL) {
		params = args[2];
	} else {
		if (nargs != 2)
			return wrong_nargs("keyspace_id", 2, nargs);
		if (kwonly("keyspace_id", kwnames, args + nargs, names, kv) < 0)
			return NULL;
		params = kv[0];
	}
	type = name_utf8(args[0], "vindex type", &tl);
	if (type == NULL)
		return NULL;
	if (params != NULL && params != Py_None) {
		Py_ssize_t i, n;

		if (!PyDict_Check(params))
			return PyErr_Format(PyExc_TypeError,
			                    "params must be a dict of str, not "
			                    "%.100s",
			                    Py_TYPE(params)->tp_name);
		items = PyDict_Items(params);
		if (items == NULL)
			return NULL;
		n = PyList_GET_SIZE(items);
		if ((size_t)n > sizeof p / sizeof p[0]) {
			Py_DECREF(items);
			return PyErr_Format(PyExc_ValueError,
			                    "at most %zu params",
			                    sizeof p / sizeof p[0]);
		}
		for (i = 0; i < n; i++) {
			PyObject *kvp = PyList_GET_ITEM(items, i);
			PyObject *k = PyTuple_GET_ITEM(kvp, 0);
			PyObject *v = PyTuple_GET_ITEM(kvp, 1);

			if (!PyUnicode_Check(k) || !PyUnicode_Check(v)) {
				Py_DECREF(items);
				return PyErr_Format(PyExc_TypeError,
				                    "params must map str to str");
			}
			p[i].key = name_utf8(k, "param name", &pl);
			p[i].value =
			    p[i].key ? name_utf8(v, "param value", &pl) : NULL;
			if (p[i].key == NULL || p[i].value == NULL) {
				Py_DECREF(items);
				return NULL;
			}
		}
		np = (size_t)n;
	}
	if (values_from_py(st, args[1], &vb) < 0) {
		Py_XDECREF(items);
		return NULL;
	}
	rc = router_vindex_create(&vx, type, np ? p : NULL, np, NULL, &err);
	if (rc == ROUTER_OK) {
		rc = router_vindex_map(vx, vb.v, vb.n, out, sizeof buf, &len,
		                       &err);
		if (rc == ROUTER_ERANGE && len > sizeof buf) {
			out = PyMem_Malloc(len);
			if (out == NULL) {
				rc = ROUTER_ENOMEM;
			} else {
				size_t cap = len;

				rc = router_vindex_map(vx, vb.v, vb.n, out, cap,
				                       &len, &err);
			}
		}
	}
	valbuf_release(&vb);
	Py_XDECREF(items);
	router_vindex_free(vx);
	if (rc == ROUTER_OK)
		res = PyBytes_FromStringAndSize((const char *)out,
		                                (Py_ssize_t)len);
	else if (rc == ROUTER_NONE)
		res = Py_NewRef(Py_None);
	else
		raise_error(st, rc, &err, NULL);
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

	if (snapshot_read(get_state(m), path, NULL, &version, &hash) < 0)
		return NULL;
	return structseq_from(get_state(m)->SnapshotInfo_Type,
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
		return wrong_nargs("_noop", 3, nargs);
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

/* ------------------------------------------------------------------------ */
/* Module init (multi-phase)                                                */
/* ------------------------------------------------------------------------ */

PyDoc_STRVAR(Error_doc,
"Base class of librouter's errors: .code (a negative shardrouter.E*\n"
"constant), .name ('ROUTER_E...'), .culprit (keyspace, table, shard or\n"
"JSON path at fault) and .message; str() is '<culprit>: <message>\n"
"(<name>)'.  The class follows the code alone (docs/errors.md).");
PyDoc_STRVAR(RefusedError_doc,
"A guard refused a publish; the table in service is untouched.\n"
".code/.name (EEMPTY, ESHRINK, EVERSION, or a subclass's code), .reason\n"
"(why), .culprit (the keyspace or table), .diff (tuple of DiffEntry from\n"
"the table in service to the one refused), .version_from, .version,\n"
".shadow (the ShadowVerdict of the sample keys, or None: no sample, or a\n"
"guard refused before the shadow evaluation ran).");

PyDoc_STRVAR(FencedError_doc,
"The table's content is fenced (EFENCED): it was refused by a content\n"
"guard, rolled back from, discarded from quarantine or fenced by hand,\n"
"and came back under whatever version number.  Router.lift_fence()\n"
"allows it again; allow_destructive does not.");

PyDoc_STRVAR(InvariantError_doc,
"The table breaks an operator invariant (EINVARIANT,\n"
"Router.add_invariant): .reason quotes it, .culprit names the keyspace\n"
"or table.  allow_destructive does not override it.  Also raised by\n"
"add_invariant() for an invariant the table in service already breaks.");

PyDoc_STRVAR(ShadowError_doc,
"Too many sample keys (Router.set_sample) would move to another shard or\n"
"become unroutable (ESHADOW): .culprit is the keyspace, .shadow the\n"
"whole ShadowVerdict.  allow_destructive overrides it.");

PyDoc_STRVAR(QuarantinedError_doc,
"publish(..., quarantine=True) was refused by the empty, shrink or\n"
"shadow guard and the table is kept pending (EQUARANTINED), not\n"
"serving: see Router.pending, approve_pending(), discard_pending().\n"
".guard_code / .guard_name: the guard that refused it (EEMPTY, ESHRINK,\n"
"ESHADOW; 0 / None if another publish replaced it meanwhile); .culprit\n"
"and .reason are the guard's.");

PyDoc_STRVAR(SnapshotWarning_doc,
"An automatic snapshot (Router(snapshot_path=...)) could not be written\n"
"after a publish, approval or rollback.  The table is in service; the\n"
"file at snapshot_path still holds the previous last-known-good table.");

PyDoc_STRVAR(DocumentError_doc,
"A routing document that does not load: JSON syntax, wrong types, a\n"
"VSchema Vitess would reject, or a damaged snapshot file (EDOC: not a\n"
"snapshot, truncated, corrupted).  .path is the JSON\n"
"path of the first error ('keyspaces.user.tables.t.column_vindexes[0]\n"
".name'; '' for a snapshot), .line and .column locate syntax errors,\n"
".notes holds every error and warning.");
PyDoc_STRVAR(NoRouteError_doc,
"A lookup that cannot be answered: nothing published, unknown keyspace\n"
"or table (ENOTFOUND), lookup vindex (ENEEDSLOOKUP), vindex not\n"
"computed in process (EUNSUPPORTED), reference table (EMULTISHARD),\n"
"disabled table (EDISABLED).  .keyspace and .table name the lookup.");
PyDoc_STRVAR(NotFoundError_doc,
"No such keyspace, table, vindex, pending table or file (ENOTFOUND): a\n"
"lookup that has no answer (a NoRouteError) and, when loading, a\n"
"document that names what is not there (a DocumentError).");
PyDoc_STRVAR(InvalidError_doc,
"A bad argument or call (EINVAL, ERANGE, ESTATE, ECALLBACK): also a\n"
"ValueError.");
PyDoc_STRVAR(HistoryError_doc,
"No such table in the history (ENOHISTORY): rollback() further back\n"
"than the history, or to a version it does not hold.");
PyDoc_STRVAR(InvalidDocumentError_doc,
"A routing document, VSchema or vindex definition that is invalid\n"
"(EDOC, EVSCHEMA, EREFERENCE, ECOVERAGE, ESHARDNAME): a DocumentError\n"
"and an InvalidError.");
PyDoc_STRVAR(ResourceError_doc,
"The system failed the call (EIO: a snapshot that cannot be written or\n"
"read): also an OSError.  A document or snapshot path that cannot be\n"
"opened raises the OSError subclass of its errno instead\n"
"(FileNotFoundError, IsADirectoryError...).");
PyDoc_STRVAR(DocumentWarning_doc,
"A document field that Vitess does not know (often a misspelling), or a\n"
"Vitess routing feature librouter does not apply.");

static PyObject *new_exc(PyObject *m, const char *name, const char *doc,
                         PyObject *bases, const char *const *attrs)
{
	PyObject *dict = PyDict_New(), *exc;

	if (dict == NULL)
		return NULL;
	for (; *attrs != NULL; attrs++)
		if (PyDict_SetItemString(dict, *attrs, Py_None) < 0) {
			Py_DECREF(dict);
			return NULL;
		}
	exc = PyErr_NewExceptionWithDoc(name, doc, bases, dict);
	Py_DECREF(dict);
	if (exc != NULL && PyModule_AddObjectRef(m, strchr(name, '.') + 1,
	                                         exc) < 0) {
		Py_DECREF(exc);
		return NULL;
	}
	return exc;
}

/* An exception class with two bases. */
static PyObject *new_exc2(PyObject *m, const char *name, const char *doc,
                          PyObject *base1, PyObject *base2,
                          const char *const *attrs)
{
	PyObject *bases = PyTuple_Pack(2, base1, base2), *exc;

	if (bases == NULL)
		return NULL;
	exc = new_exc(m, name, doc, bases, attrs);
	Py_DECREF(bases);
	return exc;
}

static PyTypeObject *new_structseq(PyObject *m, PyStructSequence_Desc *d)
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

static PyTypeObject *new_type(PyObject *m, PyType_Spec *spec)
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
	static const char *const base_attrs[] = {"code", "name", "culprit",
	                                         "message", NULL};
	static const char *const refused_attrs[] = {
	    "reason", "diff", "version_from", "version", "shadow", NULL};
	static const char *const quarantined_attrs[] = {"guard_code",
	                                                "guard_name", NULL};
	static const char *const doc_attrs[] = {"path", "line", "column",
	                                        "notes", NULL};
	static const char *const route_attrs[] = {"keyspace", "table", NULL};
	static const char *const none[] = {NULL};
	modstate *st = get_state(m);
	char ver[32];

	if ((st->Router_Type = new_type(m, &Router_spec)) == NULL ||
	    (st->Table_Type = new_type(m, &Table_spec)) == NULL ||
	    (st->Value_Type = new_type(m, &Value_spec)) == NULL)
		return -1;
	if ((st->DiffEntry_Type = new_structseq(m, &DiffEntry_desc)) == NULL ||
	    (st->HistoryEntry_Type = new_structseq(m, &HistoryEntry_desc)) ==
	        NULL ||
	    (st->Verdict_Type = new_structseq(m, &Verdict_desc)) == NULL ||
	    (st->Note_Type = new_structseq(m, &Note_desc)) == NULL ||
	    (st->Event_Type = new_structseq(m, &Event_desc)) == NULL ||
	    (st->Route_Type = new_structseq(m, &Route_desc)) == NULL ||
	    (st->ShadowStat_Type = new_structseq(m, &ShadowStat_desc)) ==
	        NULL ||
	    (st->ShadowVerdict_Type = new_structseq(m, &ShadowVerdict_desc)) ==
	        NULL ||
	    (st->Fence_Type = new_structseq(m, &Fence_desc)) == NULL ||
	    (st->Pending_Type = new_structseq(m, &Pending_desc)) == NULL ||
	    (st->SnapshotInfo_Type = new_structseq(m, &SnapshotInfo_desc)) ==
	        NULL)
		return -1;
	st->Error = new_exc(m, "shardrouter.Error", Error_doc, NULL,
	                    base_attrs);
	if (st->Error == NULL)
		return -1;
	st->RefusedError = new_exc(m, "shardrouter.RefusedError",
	                           RefusedError_doc, st->Error, refused_attrs);
	if (st->RefusedError == NULL)
		return -1;
	if ((st->FencedError = new_exc(m, "shardrouter.FencedError",
	                               FencedError_doc, st->RefusedError,
	                               none)) == NULL ||
	    (st->InvariantError = new_exc(m, "shardrouter.InvariantError",
	                                  InvariantError_doc, st->RefusedError,
	                                  none)) == NULL ||
	    (st->ShadowError = new_exc(m, "shardrouter.ShadowError",
	                               ShadowError_doc, st->RefusedError,
	                               none)) == NULL ||
	    (st->QuarantinedError = new_exc(m, "shardrouter.QuarantinedError",
	                                    QuarantinedError_doc,
	                                    st->RefusedError,
	                                    quarantined_attrs)) == NULL)
		return -1;
	if ((st->DocumentError = new_exc2(m, "shardrouter.DocumentError",
	                                  DocumentError_doc, st->Error,
	                                  PyExc_ValueError, doc_attrs)) ==
	        NULL ||
	    (st->NoRouteError = new_exc2(m, "shardrouter.NoRouteError",
	                                 NoRouteError_doc, st->Error,
	                                 PyExc_LookupError, route_attrs)) ==
	        NULL ||
	    (st->NotFoundError = new_exc2(m, "shardrouter.NotFoundError",
	                                  NotFoundError_doc, st->NoRouteError,
	                                  st->DocumentError, none)) == NULL ||
	    (st->InvalidError = new_exc2(m, "shardrouter.InvalidError",
	                                 InvalidError_doc, st->Error,
	                                 PyExc_ValueError, none)) == NULL ||
	    (st->HistoryError = new_exc(m, "shardrouter.HistoryError",
	                                HistoryError_doc, st->InvalidError,
	                                none)) == NULL ||
	    (st->InvalidDocumentError = new_exc2(
	         m, "shardrouter.InvalidDocumentError",
	         InvalidDocumentError_doc, st->DocumentError, st->InvalidError,
	         none)) == NULL ||
	    (st->ResourceError = new_exc2(m, "shardrouter.ResourceError",
	                                  ResourceError_doc, st->Error,
	                                  PyExc_OSError, none)) == NULL)
		return -1;
	st->DocumentWarning =
	    new_exc(m, "shardrouter.DocumentWarning", DocumentWarning_doc,
	            PyExc_UserWarning, none);
	if (st->DocumentWarning == NULL)
		return -1;
	st->SnapshotWarning =
	    new_exc(m, "shardrouter.SnapshotWarning", SnapshotWarning_doc,
	            PyExc_UserWarning, none);
	if (st->SnapshotWarning == NULL)
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

static struct PyModuleDef shardrouter_module = {
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
	return PyModuleDef_Init(&shardrouter_module);
}
