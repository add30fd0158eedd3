/* Status codes to exceptions: the class of a librouter status is the
 * class of its code (code_class, through router_error_category; the
 * table is docs/errors.md), raised with its detail in one function
 * (sr_raise_error).  Also the exception classes themselves. */
#include "binding.h"

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
PyObject *sr_raise_error(modstate *st, int rc, const router_error *e,
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
PyObject *sr_raise_os_error(int rc, const router_error *e, int eno,
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
PyObject *sr_raise_route_error(modstate *st, int rc, const router_error *e,
                               PyObject *ks, PyObject *tb)
{
	return sr_raise_error(st, rc, e, "keyspace", Py_NewRef(ks ? ks : Py_None),
			      "table", Py_NewRef(tb ? tb : Py_None), NULL);
}

PyDoc_STRVAR(sr_Error_doc,
"Base class of librouter's errors: .code (a negative shardrouter.E*\n"
"constant), .name ('ROUTER_E...'), .culprit (keyspace, table, shard or\n"
"JSON path at fault) and .message; str() is '<culprit>: <message>\n"
"(<name>)'.  The class follows the code alone (docs/errors.md).");
PyDoc_STRVAR(sr_RefusedError_doc,
"A guard refused a publish; the table in service is untouched.\n"
".code/.name (EEMPTY, ESHRINK, EVERSION, or a subclass's code), .reason\n"
"(why), .culprit (the keyspace or table), .diff (tuple of DiffEntry from\n"
"the table in service to the one refused), .version_from, .version,\n"
".shadow (the ShadowVerdict of the sample keys, or None: no sample, or a\n"
"guard refused before the shadow evaluation ran).");

PyDoc_STRVAR(sr_FencedError_doc,
"The table's content is fenced (EFENCED): it was refused by a content\n"
"guard, rolled back from, discarded from quarantine or fenced by hand,\n"
"and came back under whatever version number.  Router.lift_fence()\n"
"allows it again; allow_destructive does not.");

PyDoc_STRVAR(sr_InvariantError_doc,
"The table breaks an operator invariant (EINVARIANT,\n"
"Router.add_invariant): .reason quotes it, .culprit names the keyspace\n"
"or table.  allow_destructive does not override it.  Also raised by\n"
"add_invariant() for an invariant the table in service already breaks.");

PyDoc_STRVAR(sr_ShadowError_doc,
"Too many sample keys (Router.set_sample) would move to another shard or\n"
"become unroutable (ESHADOW): .culprit is the keyspace, .shadow the\n"
"whole ShadowVerdict.  allow_destructive overrides it.");

PyDoc_STRVAR(sr_QuarantinedError_doc,
"publish(..., quarantine=True) was refused by the empty, shrink or\n"
"shadow guard and the table is kept pending (EQUARANTINED), not\n"
"serving: see Router.pending, approve_pending(), discard_pending().\n"
".guard_code / .guard_name: the guard that refused it (EEMPTY, ESHRINK,\n"
"ESHADOW; 0 / None if another publish replaced it meanwhile); .culprit\n"
"and .reason are the guard's.");

PyDoc_STRVAR(sr_SnapshotWarning_doc,
"An automatic snapshot (Router(snapshot_path=...)) could not be written\n"
"after a publish, approval or rollback.  The table is in service; the\n"
"file at snapshot_path still holds the previous last-known-good table.");

PyDoc_STRVAR(sr_DocumentError_doc,
"A routing document that does not load: JSON syntax, wrong types, a\n"
"VSchema Vitess would reject, or a damaged snapshot file (EDOC: not a\n"
"snapshot, truncated, corrupted).  .path is the JSON\n"
"path of the first error ('keyspaces.user.tables.t.column_vindexes[0]\n"
".name'; '' for a snapshot), .line and .column locate syntax errors,\n"
".notes holds every error and warning.");
PyDoc_STRVAR(sr_NoRouteError_doc,
"A lookup that cannot be answered: nothing published, unknown keyspace\n"
"or table (ENOTFOUND), lookup vindex (ENEEDSLOOKUP), vindex not\n"
"computed in process (EUNSUPPORTED), reference table (EMULTISHARD),\n"
"disabled table (EDISABLED).  .keyspace and .table name the lookup.");
PyDoc_STRVAR(sr_NotFoundError_doc,
"No such keyspace, table, vindex, pending table or file (ENOTFOUND): a\n"
"lookup that has no answer (a NoRouteError) and, when loading, a\n"
"document that names what is not there (a DocumentError).");
PyDoc_STRVAR(sr_InvalidError_doc,
"A bad argument or call (EINVAL, ERANGE, ESTATE, ECALLBACK): also a\n"
"ValueError.");
PyDoc_STRVAR(sr_HistoryError_doc,
"No such table in the history (ENOHISTORY): rollback() further back\n"
"than the history, or to a version it does not hold.");
PyDoc_STRVAR(sr_InvalidDocumentError_doc,
"A routing document, VSchema or vindex definition that is invalid\n"
"(EDOC, EVSCHEMA, EREFERENCE, ECOVERAGE, ESHARDNAME): a DocumentError\n"
"and an InvalidError.");
PyDoc_STRVAR(sr_ResourceError_doc,
"The system failed the call (EIO: a snapshot that cannot be written or\n"
"read): also an OSError.  A document or snapshot path that cannot be\n"
"opened raises the OSError subclass of its errno instead\n"
"(FileNotFoundError, IsADirectoryError...).");
PyDoc_STRVAR(sr_DocumentWarning_doc,
"A document field that Vitess does not know (often a misspelling), or a\n"
"Vitess routing feature librouter does not apply.");

static PyObject *sr_new_exc(PyObject *m, const char *name, const char *doc,
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
static PyObject *sr_new_exc2(PyObject *m, const char *name, const char *doc,
			     PyObject *base1, PyObject *base2,
			     const char *const *attrs)
{
	PyObject *bases = PyTuple_Pack(2, base1, base2), *exc;

	if (bases == NULL)
		return NULL;
	exc = sr_new_exc(m, name, doc, bases, attrs);
	Py_DECREF(bases);
	return exc;
}

static const char *const no_attrs[] = {NULL};

/* Error and the refusals: RefusedError and its subclasses. */
static int add_refusal_classes(PyObject *m, modstate *st)
{
	static const char *const base_attrs[] = {"code", "name", "culprit",
	                                         "message", NULL};
	static const char *const refused_attrs[] = {
	    "reason", "diff", "version_from", "version", "shadow", NULL};
	static const char *const quarantined_attrs[] = {"guard_code",
	                                                "guard_name", NULL};
	static const char *const *const none = no_attrs;

	st->Error = sr_new_exc(m, "shardrouter.Error", sr_Error_doc, NULL,
			       base_attrs);
	if (st->Error == NULL)
		return -1;
	st->RefusedError = sr_new_exc(m, "shardrouter.RefusedError",
				      sr_RefusedError_doc, st->Error, refused_attrs);
	if (st->RefusedError == NULL)
		return -1;
	if ((st->FencedError = sr_new_exc(m, "shardrouter.FencedError",
					  sr_FencedError_doc, st->RefusedError,
					  none)) == NULL ||
	    (st->InvariantError = sr_new_exc(m, "shardrouter.InvariantError",
					     sr_InvariantError_doc, st->RefusedError,
					     none)) == NULL ||
	    (st->ShadowError = sr_new_exc(m, "shardrouter.ShadowError",
					  sr_ShadowError_doc, st->RefusedError,
					  none)) == NULL ||
	    (st->QuarantinedError = sr_new_exc(m, "shardrouter.QuarantinedError",
					       sr_QuarantinedError_doc,
					       st->RefusedError,
					       quarantined_attrs)) == NULL)
		return -1;
	return 0;
}

/* The other categories' classes (docs/errors.md, "The hierarchy") and
 * the warnings. */
static int add_other_classes(PyObject *m, modstate *st)
{
	static const char *const doc_attrs[] = {"path", "line", "column",
	                                        "notes", NULL};
	static const char *const route_attrs[] = {"keyspace", "table", NULL};
	static const char *const *const none = no_attrs;

	if ((st->DocumentError = sr_new_exc2(m, "shardrouter.DocumentError",
					     sr_DocumentError_doc, st->Error,
					     PyExc_ValueError, doc_attrs)) ==
	        NULL ||
	    (st->NoRouteError = sr_new_exc2(m, "shardrouter.NoRouteError",
					    sr_NoRouteError_doc, st->Error,
					    PyExc_LookupError, route_attrs)) ==
	        NULL ||
	    (st->NotFoundError = sr_new_exc2(m, "shardrouter.NotFoundError",
					     sr_NotFoundError_doc, st->NoRouteError,
					     st->DocumentError, none)) == NULL ||
	    (st->InvalidError = sr_new_exc2(m, "shardrouter.InvalidError",
					    sr_InvalidError_doc, st->Error,
					    PyExc_ValueError, none)) == NULL ||
	    (st->HistoryError = sr_new_exc(m, "shardrouter.HistoryError",
					   sr_HistoryError_doc, st->InvalidError,
					   none)) == NULL ||
	    (st->InvalidDocumentError = sr_new_exc2(
	         m, "shardrouter.InvalidDocumentError",
	         sr_InvalidDocumentError_doc, st->DocumentError, st->InvalidError,
	         none)) == NULL ||
	    (st->ResourceError = sr_new_exc2(m, "shardrouter.ResourceError",
					     sr_ResourceError_doc, st->Error,
					     PyExc_OSError, none)) == NULL)
		return -1;
	st->DocumentWarning =
	    sr_new_exc(m, "shardrouter.DocumentWarning", sr_DocumentWarning_doc,
		       PyExc_UserWarning, none);
	if (st->DocumentWarning == NULL)
		return -1;
	st->SnapshotWarning =
	    sr_new_exc(m, "shardrouter.SnapshotWarning", sr_SnapshotWarning_doc,
		       PyExc_UserWarning, none);
	if (st->SnapshotWarning == NULL)
		return -1;
	return 0;
}

int sr_errors_add(PyObject *m, modstate *st)
{
	if (add_refusal_classes(m, st) < 0 || add_other_classes(m, st) < 0)
		return -1;
	return 0;
}
