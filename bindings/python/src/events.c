/* What a writer call reports: diffs, document notes and the other struct
 * sequences, the copies of librouter's events (router_event_copy) taken
 * during a call, and their delivery to on_event after it. */
#include "binding.h"

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
             "'unsupported' or 'rule' (a routing rule vtgate keeps as "
             "an error)"},
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

PyObject *sr_diff_tuple(modstate *st, const router_diff *d)
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

PyObject *sr_errname_or_none(int code)
{
	if (code == ROUTER_OK)
		Py_RETURN_NONE;
	return PyUnicode_FromString(router_errname(code));
}

PyObject *sr_notes_tuple(modstate *st, const router_doc_report *rep,
                         int only_warnings)
{
	static const char *const kinds[] = {"?", "error", "unknown", "ignored",
	                                    "unsupported", "rule", "keyspace"};
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
		    o, 0, PyUnicode_InternFromString(kind <= 6 ? kinds[kind] : "?"));
		PyStructSequence_SetItem(o, 1, PyLong_FromLong(e->error.code));
		PyStructSequence_SetItem(o, 2, sr_errname_or_none(e->error.code));
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

_Thread_local capture *sr_tl_capture;

void sr_capture_init(capture *c, const void *owner)
{
	memset(c, 0, sizeof *c);
	c->owner = owner;
	c->main = -1;
	c->snapshot_failed = -1;
}

void sr_capture_free(capture *c)
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
void sr_capture_event(void *arg, const router_event *ev)
{
	capture *c = sr_tl_capture;

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
const router_event *sr_capture_main(const capture *c)
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
PyObject *sr_structseq_from(PyTypeObject *tp, PyObject *values)
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
PyObject *sr_capture_shadow_py(modstate *st, const capture *c)
{
	const router_event *m = sr_capture_main(c);
	router_shadow_stat tot;
	PyObject *ks, *totals, *v;

	if (m == NULL || m->shadow == NULL)
		Py_RETURN_NONE;
	ks = PyDict_New();
	if (ks == NULL)
		return NULL;
	for (size_t i = 0; i < router_shadow_count(m->shadow); i++) {
		const router_shadow_stat *x = router_shadow_get(m->shadow, i);
		PyObject *o = sr_structseq_from(st->ShadowStat_Type,
						shadow_stat_py(x));

		if (o == NULL || PyDict_SetItemString(ks, x->keyspace, o) < 0) {
			Py_XDECREF(o);
			Py_DECREF(ks);
			return NULL;
		}
		Py_DECREF(o);
	}
	router_shadow_totals(m->shadow, &tot);
	totals = sr_structseq_from(st->ShadowStat_Type, shadow_stat_py(&tot));
	if (totals == NULL) {
		Py_DECREF(ks);
		return NULL;
	}
	v = PyTuple_Pack(2, ks, totals);
	Py_DECREF(ks);
	Py_DECREF(totals);
	return sr_structseq_from(st->ShadowVerdict_Type, v);
}

/* Call on_event (outside every lock) with each event capture saw, in
 * order.  diff and shadow belong to the main event.  An exception in the
 * callback is reported as unraisable: the publish has happened. */
void sr_fire_event(RouterObject *self, const capture *c, PyObject *diff,
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
		PyStructSequence_SetItem(ev, 2, sr_errname_or_none(e->code));
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
		/* The callback may clear on_event (sr_Router_clear): hold it. */
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
int sr_warn_snapshot(RouterObject *self, const capture *c)
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

/* The event, verdict and report types, into the module and its state. */
int sr_events_add(PyObject *m, modstate *st)
{
	if ((st->DiffEntry_Type = sr_new_structseq(m, &DiffEntry_desc)) ==
	        NULL ||
	    (st->HistoryEntry_Type = sr_new_structseq(m, &HistoryEntry_desc)) ==
	        NULL ||
	    (st->Verdict_Type = sr_new_structseq(m, &Verdict_desc)) == NULL ||
	    (st->Note_Type = sr_new_structseq(m, &Note_desc)) == NULL ||
	    (st->Event_Type = sr_new_structseq(m, &Event_desc)) == NULL ||
	    (st->ShadowStat_Type = sr_new_structseq(m, &ShadowStat_desc)) ==
	        NULL ||
	    (st->ShadowVerdict_Type =
	         sr_new_structseq(m, &ShadowVerdict_desc)) == NULL ||
	    (st->Fence_Type = sr_new_structseq(m, &Fence_desc)) == NULL ||
	    (st->Pending_Type = sr_new_structseq(m, &Pending_desc)) == NULL ||
	    (st->SnapshotInfo_Type = sr_new_structseq(m, &SnapshotInfo_desc)) ==
	        NULL)
		return -1;
	return 0;
}
