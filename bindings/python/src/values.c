/* Python values to router_values (int, str, bytes, None, Value, tuples
 * for multicolumn vindexes), the argument helpers every method uses
 * (names, paths, keyword-only arguments), and the Value type. */
#include "binding.h"

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
int sr_int_key(PyObject *v, uint64_t *key, int *is_u)
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

void sr_valbuf_release(valbuf *vb)
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

		if (sr_int_key(o, &k, &is_u) < 0)
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
int sr_values_from_py(modstate *st, PyObject *o, valbuf *vb)
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
	sr_valbuf_release(vb);
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
	name = sr_name_utf8(tname, "SQL type", &nl);
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
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

int sr_check_name(PyObject *o, const char *what)
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
int sr_refuse_nul(const char *p, Py_ssize_t n, const char *what)
{
	if (n <= 0 || memchr(p, 0, (size_t)n) == NULL)
		return 0;
	PyErr_Format(PyExc_ValueError, "%s contains a NUL byte", what);
	return -1;
}

/* A name: a str, as UTF-8 (ptr, *n) without NUL; NULL with TypeError,
 * ValueError (a NUL: sr_refuse_nul) or UnicodeEncodeError. */
const char *sr_name_utf8(PyObject *o, const char *what, Py_ssize_t *n)
{
	const char *p;

	if (sr_check_name(o, what) < 0)
		return NULL;
	p = PyUnicode_AsUTF8AndSize(o, n);
	if (p != NULL && sr_refuse_nul(p, *n, what) < 0)
		return NULL;
	return p;
}

/* A path (str, bytes or os.PathLike) as file-system bytes (new reference),
 * or NULL with TypeError (a file object is not a path: it is never
 * reopened by its name), ValueError (a NUL: sr_refuse_nul's text, not
 * Python's "embedded null byte", so both bindings say the same) or
 * UnicodeEncodeError. */
PyObject *sr_path_bytes(PyObject *o, const char *what)
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

COLD PyObject *sr_wrong_nargs(const char *fn, Py_ssize_t want, Py_ssize_t got)
{
	PyErr_Format(PyExc_TypeError,
	             "%s() takes exactly %zd positional arguments (%zd given)",
	             fn, want, got);
	return NULL;
}

/* Keyword-only arguments of a FASTCALL|KEYWORDS method: names[i] -> out[i]
 * (left as they are when absent). */
int sr_kwonly(const char *fn, PyObject *kwnames, PyObject *const *kwargs,
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

int sr_values_add(PyObject *m, modstate *st)
{
	st->Value_Type = sr_new_type(m, &Value_spec);
	return st->Value_Type != NULL ? 0 : -1;
}
