/* The writer side of a Router: publish, check, approval and rollback,
 * and the Verdict or the refusal each turns into. */
#include "binding.h"

/* Raise the refusal of a publish or approval (rc: its code) with .reason,
 * .diff, .version_from, .version, .shadow and, for QuarantinedError,
 * .guard_code / .guard_name (the guard that refused the table now
 * pending).  Always returns NULL. */
static PyObject *raise_refusal(RouterObject *self, int rc,
                               const router_error *err, const capture *c,
                               PyObject *diff, PyObject *shadow)
{
	const router_event *m = sr_capture_main(c);
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
	return sr_raise_error(
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
	    rc == ROUTER_EQUARANTINED ? sr_errname_or_none(guard) : NULL, NULL);
}

/* The Verdict of a publish, check or approval. */
static PyObject *make_verdict(RouterObject *self, int rc,
                              const router_error *err, const capture *c,
                              PyObject *diff, PyObject *notes,
                              PyObject *shadow)
{
	const router_event *m = sr_capture_main(c);
	PyObject *verdict = PyStructSequence_New(self->st->Verdict_Type);

	if (verdict == NULL)
		return NULL;
	PyStructSequence_SetItem(verdict, 0, PyBool_FromLong(rc == ROUTER_OK));
	PyStructSequence_SetItem(verdict, 1, PyLong_FromLong(rc));
	PyStructSequence_SetItem(verdict, 2, sr_errname_or_none(rc));
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
PyObject *sr_take_diff(modstate *st, router_diff *d)
{
	PyObject *diff;

	if (d == NULL)
		return PyTuple_New(0);
	diff = sr_diff_tuple(st, d);
	router_diff_free(d);
	return diff;
}

/* Publish t (a dry run with ROUTER_PUBLISH_DRY_RUN), or approve the
 * pending table when t is NULL, and turn the outcome into a Verdict or an
 * exception.  Takes t: it is freed unless the router keeps it.  notes:
 * the document's warnings (may be NULL). */
PyObject *sr_publish_table(RouterObject *self, router_table *t,
                           unsigned flags, PyObject *notes)
{
	int dry = (flags & ROUTER_PUBLISH_DRY_RUN) != 0;
	PyObject *diff = NULL, *shadow = NULL, *verdict = NULL;
	router_diff *d = NULL;
	router_error err;
	capture cap;
	int rc;

	sr_capture_init(&cap, self);
	sr_tl_capture = &cap;
	Py_BEGIN_ALLOW_THREADS
	if (t != NULL)
		rc = router_publish(self->r, t, flags, &d, &err);
	else
		rc = router_pending_approve(self->r, &d, &err);
	Py_END_ALLOW_THREADS
	sr_tl_capture = NULL;
	/* Accepted (not a dry run) or quarantined: the router's now. */
	if (t != NULL && !((rc == ROUTER_OK && !dry) ||
	                   rc == ROUTER_EQUARANTINED))
		router_table_free(t);
	diff = sr_take_diff(self->st, d);
	if (diff == NULL)
		goto done;
	shadow = sr_capture_shadow_py(self->st, &cap);
	if (shadow == NULL)
		goto done;
	sr_fire_event(self, &cap, diff, shadow);
	if (rc == ROUTER_ENOMEM || rc == ROUTER_EINVAL || rc == ROUTER_ESTATE ||
	    (t == NULL && rc == ROUTER_ENOTFOUND)) {
		sr_raise_error(self->st, rc, &err, NULL);
		goto done;
	}
	if (rc != ROUTER_OK && !dry) {
		raise_refusal(self, rc, &err, &cap, diff, shadow);
		goto done;
	}
	if (!dry && sr_warn_snapshot(self, &cap) < 0)
		goto done;
	verdict = make_verdict(self, rc, &err, &cap, diff, notes, shadow);
done:
	sr_capture_free(&cap);
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
		return sr_wrong_nargs(fn, 1, nargs);
	if (sr_parse_doc_opts(fn, kwnames, args + nargs, &o, !dry) < 0)
		return NULL;
	if (sr_load_doc(self->st, args[0], &o, &t, &warnings) < 0)
		return NULL;
	flags = (o.destructive ? ROUTER_PUBLISH_DESTRUCTIVE : 0u) |
	        (dry ? ROUTER_PUBLISH_DRY_RUN : 0u) |
	        (o.quarantine ? ROUTER_PUBLISH_QUARANTINE : 0u);
	verdict = sr_publish_table(self, t, flags, warnings);
	Py_XDECREF(warnings);
	return verdict;
}

SR_DOC(sr_Router_publish_doc,
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

PyObject *sr_Router_publish(RouterObject *self, PyObject *const *args,
                            Py_ssize_t nargs, PyObject *kwnames)
{
	return publish_impl(self, args, nargs, kwnames, 0);
}

SR_DOC(sr_Router_check_doc,
"check($self, doc, /, *, version=None, allow_destructive=False,\n"
"      keyspace=None, shards=None, strict=False)\n--\n\n"
"What publish() would do, without publishing (nothing is quarantined or\n"
"fenced either): returns a Verdict with accepted, the refusal (code,\n"
"name, reason, culprit), the diff and, when a sample is set\n"
"(set_sample), .shadow: the ShadowVerdict of the sample keys.\n"
"Raises DocumentError for a document that does not load.");

PyObject *sr_Router_check(RouterObject *self, PyObject *const *args,
                          Py_ssize_t nargs, PyObject *kwnames)
{
	return publish_impl(self, args, nargs, kwnames, 1);
}

SR_DOC(sr_Router_rollback_doc,
"rollback($self, steps=1, /, *, version=None)\n--\n\n"
"Put an older accepted table back in service, steps back in the history\n"
"or the one of the given version (O(1), no guard; with fencing on, the\n"
"content left is fenced).  Returns the version now in service.\n"
"Raises HistoryError (code ENOHISTORY) when there is no such table,\n"
"ValueError for steps < 1.");

PyObject *sr_Router_rollback(RouterObject *self, PyObject *const *args,
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
	if (sr_kwonly("rollback", kwnames, args + nargs, names, kv) < 0)
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
	sr_capture_init(&cap, self);
	sr_tl_capture = &cap;
	Py_BEGIN_ALLOW_THREADS
	rc = by_version ? router_rollback_to(self->r, version, &err)
	                : router_rollback(self->r, (unsigned)steps, &err);
	Py_END_ALLOW_THREADS
	sr_tl_capture = NULL;
	sr_fire_event(self, &cap, NULL, NULL);
	if (rc != ROUTER_OK)
		res = sr_raise_error(self->st, rc, &err, NULL);
	else if (sr_warn_snapshot(self, &cap) < 0)
		res = NULL;
	else
		res = PyLong_FromUnsignedLongLong(
		    sr_capture_main(&cap) ? sr_capture_main(&cap)->version_to
		                       : router_serving_version(self->r));
	sr_capture_free(&cap);
	return res;
}
