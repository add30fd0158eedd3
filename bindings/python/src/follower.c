/*
 * shardrouter.Follower: librouter's etcd follower (router_etcd_*,
 * include/librouter/router_etcd.h) publishing into a Router from
 * background threads: one etcd key holding a routing document, or a
 * Vitess cell's serving topology.
 *
 * The follower is compiled into this same module (setup.py, when
 * pkg-config finds libcurl and libprotobuf-c and protoc-c is installed):
 * a second copy of the C core in another module would have epoch globals
 * of its own.  Built without it (SR_HAVE_FOLLOWER undefined), the class
 * exists and its constructor raises Error naming the packages to install.
 *
 * Threads.  The follower's watcher thread calls router_etcd_queue_push
 * (librouter's event queue, router_etcd.h) with no librouter lock held;
 * it never touches a Python object: the event (its router_error
 * included) is copied into the queue.  A Python thread (threading.Thread,
 * daemon, one per start(), in the queue's session of that start) runs
 * pump_run: it pops without the GIL, and calls on_event with the GIL.  So
 * on_event runs on a Python thread, may call anything (stop() and close()
 * too), and a slow on_event never holds the watcher back: the queue
 * keeps the newest QUEUE_CAP events and counts those it dropped.
 *
 * Lifetimes.  The Follower holds a strong reference to its Router, kept
 * until dealloc (no tp_clear of it), so the router outlives the C
 * follower that publishes into it; dealloc stops the follower first.
 * The queue is shared by the Follower and the event thread, each holding
 * a reference (router_etcd_queue_ref / _free).  stop() releases the GIL around
 * router_etcd_stop (which joins the watcher: the watcher never needs the
 * GIL, so this cannot deadlock), then ends the event thread after it has
 * delivered what was queued, and joins it unless called from it.
 *
 * fork().  The follower's threads do not exist in a child.  A Follower
 * remembers the pid that created it; in another process every method
 * raises InvalidError (ROUTER_ESTATE) and dealloc leaks the C follower rather than join threads
 * that are not there.  Create a new Follower in the child.
 */
#include "binding.h"

#ifdef SR_HAVE_FOLLOWER
#include "router_etcd.h"
#endif

#define QUEUE_CAP 4096 /* events kept for a slow on_event */
#define BATCH 16       /* events taken from the queue per wake-up */
#define PUMP_CAPSULE "shardrouter._follower_queue"

static PyStructSequence_Field FollowerEvent_fields[] = {
    {"kind", "'verdict', 'snapshot', 'connected', 'disconnected', "
             "'compacted' or 'stale'"},
    {"code", "0 or the failure's code (shardrouter.E*)"},
    {"name", "None or the code's name ('ROUTER_EEMPTY')"},
    {"revision", "the etcd revision the event is about"},
    {"version", "version in service after the event"},
    {"content_hash", "content hash in service after the event"},
    {"reason", "'' or what failed or why it was refused"},
    {"culprit", "'' or the culprit (topo key, keyspace...)"},
    {"retry_ms", "'disconnected': backoff before the next attempt (ms)"},
    {NULL, NULL}};
static PyStructSequence_Desc FollowerEvent_desc = {
    "shardrouter.FollowerEvent",
    "FollowerEvent(kind, code, name, revision, version, content_hash, "
    "reason, culprit, retry_ms)\n\nPassed to Follower(on_event=...), on "
    "the follower's event thread.",
    FollowerEvent_fields, 9};

#ifdef SR_HAVE_FOLLOWER

#endif /* SR_HAVE_FOLLOWER */

typedef struct {
	PyObject_HEAD
#ifdef SR_HAVE_FOLLOWER
	router_etcd *f;
	router_etcd_queue *q; /* NULL without on_event */
#endif
	PyObject *router;   /* strong, until dealloc */
	PyObject *on_event; /* callable or NULL */
	PyObject *thread;   /* the event thread of the last start, or NULL */
	pid_t pid;          /* the process that created it */
	int started;
} FollowerObject;

static modstate *fstate(PyObject *self)
{
	return PyType_GetModuleState(Py_TYPE(self));
}

#ifdef SR_HAVE_FOLLOWER

static PyObject *event_object(modstate *st, const router_etcd_event_copy *e)
{
	PyObject *ev = PyStructSequence_New(st->FollowerEvent_Type);
	int has = e->code != ROUTER_OK;

	if (ev == NULL)
		return NULL;
	PyStructSequence_SetItem(
	    ev, 0, PyUnicode_FromString(router_etcd_event_kind_name(e->kind)));
	PyStructSequence_SetItem(ev, 1, PyLong_FromLong(e->code));
	PyStructSequence_SetItem(ev, 2, sr_errname_or_none(e->code));
	PyStructSequence_SetItem(ev, 3, PyLong_FromLongLong(e->revision));
	PyStructSequence_SetItem(ev, 4,
	                         PyLong_FromUnsignedLongLong(e->version));
	PyStructSequence_SetItem(ev, 5,
	                         PyLong_FromUnsignedLongLong(e->content_hash));
	PyStructSequence_SetItem(ev, 6, PyUnicode_DecodeUTF8(
	    has ? e->err.message : "", has ? strlen(e->err.message) : 0,
	    "replace"));
	PyStructSequence_SetItem(ev, 7, PyUnicode_DecodeUTF8(
	    has ? e->err.culprit : "", has ? strlen(e->err.culprit) : 0,
	    "replace"));
	PyStructSequence_SetItem(ev, 8, PyLong_FromUnsignedLong(e->retry_ms));
	for (Py_ssize_t i = 0; i < 9; i++)
		if (PyStructSequence_GetItem(ev, i) == NULL) {
			Py_DECREF(ev);
			return NULL;
		}
	return ev;
}

/* The event thread's target; self is (capsule, on_event, module, the
 * epoch it runs in).  Waits
 * without the GIL, calls on_event with it; an exception raised by
 * on_event is reported as unraisable (sys.unraisablehook) and the
 * thread goes on. */
static PyObject *pump_run(PyObject *self, PyObject *unused)
{
	router_etcd_queue *q = PyCapsule_GetPointer(PyTuple_GET_ITEM(self, 0),
	                                            PUMP_CAPSULE);
	PyObject *cb = PyTuple_GET_ITEM(self, 1);
	modstate *st = get_state(PyTuple_GET_ITEM(self, 2));
	uint64_t mine;
	(void)unused;

	if (q == NULL)
		return NULL;
	mine = (uint64_t)PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(self, 3));
	for (;;) {
		router_etcd_event_copy batch[BATCH];
		size_t n = 0;
		int done = 0, rc;

		/* Wait for the first event, take up to BATCH without waiting
		 * again; ROUTER_ESTATE: this start's session is over and
		 * nothing is left. */
		Py_BEGIN_ALLOW_THREADS
		rc = router_etcd_queue_pop(q, mine, NULL, -1, &batch[0],
		                           sizeof batch[0]);
		while (rc == ROUTER_OK && ++n < BATCH)
			rc = router_etcd_queue_pop(q, mine, NULL, 0, &batch[n],
			                           sizeof batch[n]);
		done = rc == ROUTER_ESTATE;
		Py_END_ALLOW_THREADS
		for (size_t i = 0; i < n; i++) {
			PyObject *ev = event_object(st, &batch[i]);
			PyObject *r = ev ? PyObject_CallOneArg(cb, ev) : NULL;

			Py_XDECREF(ev);
			if (r == NULL)
				PyErr_WriteUnraisable(cb);
			Py_XDECREF(r);
		}
		if (done)
			break;
	}
	Py_RETURN_NONE;
}

static PyMethodDef pump_def = {"_follower_events", pump_run, METH_NOARGS,
                               NULL};

static void capsule_free(PyObject *cap)
{
	router_etcd_queue_free(PyCapsule_GetPointer(cap, PUMP_CAPSULE));
}

#endif /* SR_HAVE_FOLLOWER */

/* Raise ROUTER_ESTATE's exception (InvalidError, as the Ruby binding's)
 * with a message of the binding's own.  Returns NULL. */
static PyObject *raise_state(FollowerObject *self, const char *msg)
{
	router_error e;

	memset(&e, 0, sizeof e);
	e.code = ROUTER_ESTATE;
	snprintf(e.message, sizeof e.message, "%s", msg);
	return sr_raise_error(fstate((PyObject *)self), ROUTER_ESTATE, &e,
	                      NULL);
}

static int check_usable(FollowerObject *self)
{
	if (self->pid != getpid()) {
		char msg[160];

		snprintf(msg, sizeof msg,
		         "this Follower was created in process %ld; after "
		         "fork() create a new one in the child",
		         (long)self->pid);
		raise_state(self, msg);
		return -1;
	}
#ifdef SR_HAVE_FOLLOWER
	if (self->f == NULL) {
		raise_state(self, "the Follower is closed");
		return -1;
	}
#endif
	return 0;
}

#ifdef SR_HAVE_FOLLOWER

/* End the event thread of the current start (after it has delivered what
 * is queued); join it unless this is that thread. */
static int end_event_thread(FollowerObject *self, int join)
{
	PyObject *th = self->thread, *ident = NULL, *r;
	int same = 0;

	if (self->q != NULL)
		router_etcd_queue_close(self->q);
	if (th == NULL)
		return 0;
	self->thread = NULL;
	if (join) {
		ident = PyObject_GetAttrString(th, "ident");
		if (ident != NULL && ident != Py_None)
			same = PyLong_AsUnsignedLong(ident) ==
			       PyThread_get_thread_ident();
		Py_XDECREF(ident);
		PyErr_Clear();
		if (!same) {
			r = PyObject_CallMethod(th, "join", NULL);
			if (r == NULL) {
				Py_DECREF(th);
				return -1;
			}
			Py_DECREF(r);
		}
	}
	Py_DECREF(th);
	return 0;
}

static int start_event_thread(FollowerObject *self)
{
	PyObject *mod = PyType_GetModule(Py_TYPE(self));
	PyObject *cap, *args, *fn = NULL, *threading, *th = NULL, *r;
	uint64_t epoch;

	epoch = router_etcd_queue_session(self->q);
	cap = PyCapsule_New(self->q, PUMP_CAPSULE, capsule_free);
	if (cap == NULL)
		return -1;
	router_etcd_queue_ref(self->q);
	args = Py_BuildValue("(NOOK)", cap, self->on_event, mod,
	                     (unsigned long long)epoch);
	if (args != NULL)
		fn = PyCFunction_New(&pump_def, args);
	Py_XDECREF(args);
	threading = fn ? PyImport_ImportModule("threading") : NULL;
	if (threading != NULL) {
		PyObject *kw = Py_BuildValue(
		    "{s:O,s:s,s:O}", "target", fn, "name",
		    "shardrouter-follower-events", "daemon", Py_True);
		PyObject *cls = PyObject_GetAttrString(threading, "Thread");
		PyObject *noargs = PyTuple_New(0);

		if (kw != NULL && cls != NULL && noargs != NULL)
			th = PyObject_Call(cls, noargs, kw);
		Py_XDECREF(kw);
		Py_XDECREF(cls);
		Py_XDECREF(noargs);
		Py_DECREF(threading);
	}
	Py_XDECREF(fn);
	if (th == NULL)
		return -1;
	r = PyObject_CallMethod(th, "start", NULL);
	if (r == NULL) {
		Py_DECREF(th);
		return -1;
	}
	Py_DECREF(r);
	self->thread = th;
	return 0;
}

#endif /* SR_HAVE_FOLLOWER */

/* O& converter: an int in 0 .. UINT_MAX (PyArg's I would wrap -1). */
static int uint_arg(PyObject *o, void *out)
{
	unsigned long v;

	if (!PyLong_Check(o)) {
		PyErr_Format(PyExc_TypeError, "an int is required, not %.80s",
		             Py_TYPE(o)->tp_name);
		return 0;
	}
	v = PyLong_AsUnsignedLong(o);
	if (v == (unsigned long)-1 && PyErr_Occurred()) {
		PyErr_Clear();
		PyErr_SetString(PyExc_OverflowError,
		                "an option is negative or too large");
		return 0;
	}
	if (v > UINT_MAX) {
		PyErr_SetString(PyExc_OverflowError, "an option is too large");
		return 0;
	}
	*(unsigned *)out = (unsigned)v;
	return 1;
}

#ifdef SR_HAVE_FOLLOWER
/* Strings of the options, as UTF-8 without NUL (None: NULL). */
static int opt_str(PyObject *o, const char *what, const char **out)
{
	Py_ssize_t n;

	*out = NULL;
	if (o == NULL || o == Py_None)
		return 0;
	if (!PyUnicode_Check(o)) {
		PyErr_Format(PyExc_TypeError, "%s must be a str or None, not %.80s",
		             what, Py_TYPE(o)->tp_name);
		return -1;
	}
	*out = PyUnicode_AsUTF8AndSize(o, &n);
	if (*out == NULL)
		return -1;
	if ((size_t)n != strlen(*out)) {
		PyErr_Format(PyExc_ValueError, "%s contains a NUL character",
		             what);
		return -1;
	}
	return 0;
}

#endif

PyDoc_STRVAR(Follower_doc,
"Follower(router, endpoints, *, key=None, source='document', cell=None,\n"
"         topo_root=None, tablet_type=None, cell_endpoints=None,\n"
"         instance=None, status_prefix=None, snapshot=None, lease_ttl=10,\n"
"         on_event=None, destructive=False, backoff_min_ms=100,\n"
"         backoff_max_ms=5000, request_timeout_ms=5000, debounce_ms=200,\n"
"         tls_ca_file=None, tls_cert_file=None, tls_key_file=None,\n"
"         username=None, password=None)\n"
"--\n\n"
"Follow etcd into router from background threads (librouter's\n"
"router_etcd): source='document' follows one key holding a routing\n"
"document; source='vitess' follows a Vitess cell's serving topology\n"
"(CellInfo under topo_root, then SrvVSchema and every SrvKeyspace of\n"
"the cell; read-only).  tls_*: PEM files for https:// endpoints (CA,\n"
"client certificate and key); username and password: etcd's own\n"
"authentication (the password is not kept by the binding).  Every change is published through the router's\n"
"guards; refusals leave the table in service and are reported in\n"
"status() and in the fleet's status key (status_key).\n\n"
"endpoints: a str of comma-separated URLs or a list of them.\n"
"on_event(FollowerEvent) runs on the follower's event thread (a Python\n"
"daemon thread), never on librouter's.  Nothing touches the network\n"
"before start().  Raises Error when shardrouter was built without the\n"
"follower (it needs libcurl, libprotobuf-c and protoc-c at build time).");

static PyObject *Follower_new(PyTypeObject *tp, PyObject *args,
                              PyObject *kwargs)
{
	static char *kwlist[] = {
	    "router", "endpoints", "key", "source", "cell", "topo_root",
	    "tablet_type", "cell_endpoints", "instance", "status_prefix",
	    "snapshot", "lease_ttl", "on_event", "destructive",
	    "backoff_min_ms", "backoff_max_ms", "request_timeout_ms",
	    "debounce_ms", "tls_ca_file", "tls_cert_file", "tls_key_file",
	    "username", "password", NULL};
	PyObject *router, *endpoints, *key = NULL, *source = NULL,
	         *cell = NULL, *topo_root = NULL, *tablet_type = NULL,
	         *cell_endpoints = NULL, *instance = NULL,
	         *status_prefix = NULL, *snapshot = NULL, *on_event = NULL,
	         *tls_ca = NULL, *tls_cert = NULL, *tls_key = NULL,
	         *username = NULL, *password = NULL;
	unsigned lease_ttl = 10, bmin = 100, bmax = 5000, rto = 5000,
	         debounce = 200;
	int destructive = 0;
	modstate *st = PyType_GetModuleState(tp);

	if (!PyArg_ParseTupleAndKeywords(
	        args, kwargs, "OO|$OOOOOOOOOO&OpO&O&O&O&OOOOO:Follower", kwlist,
	        &router, &endpoints, &key, &source, &cell, &topo_root,
	        &tablet_type, &cell_endpoints, &instance, &status_prefix,
	        &snapshot, uint_arg, &lease_ttl, &on_event, &destructive,
	        uint_arg, &bmin, uint_arg, &bmax, uint_arg, &rto, uint_arg,
	        &debounce, &tls_ca, &tls_cert, &tls_key, &username,
	        &password))
		return NULL;
	if (!PyObject_TypeCheck(router, st->Router_Type))
		return PyErr_Format(PyExc_TypeError,
		                    "router must be a shardrouter.Router, not "
		                    "%.80s", Py_TYPE(router)->tp_name);
	if (on_event == Py_None)
		on_event = NULL;
	if (on_event != NULL && !PyCallable_Check(on_event))
		return PyErr_Format(PyExc_TypeError,
		                    "on_event must be callable or None");
#ifndef SR_HAVE_FOLLOWER
	(void)key; (void)source; (void)cell; (void)topo_root;
	(void)tablet_type; (void)cell_endpoints; (void)instance;
	(void)status_prefix; (void)snapshot; (void)lease_ttl;
	(void)destructive; (void)bmin; (void)bmax; (void)rto; (void)debounce;
	(void)endpoints; (void)tls_ca; (void)tls_cert; (void)tls_key;
	(void)username; (void)password;
	return PyErr_Format(
	    st->Error,
	    "shardrouter was built without the etcd follower: install "
	    "libcurl4-openssl-dev, libprotobuf-c-dev and protobuf-c-compiler "
	    "(Debian names; pkg-config must find libcurl and libprotobuf-c) "
	    "and reinstall shardrouter");
#else
	router_etcd_options o = ROUTER_ETCD_OPTIONS_INIT;
	PyObject *eps = NULL, *snap = NULL;
	const char *src = "document";
	FollowerObject *self = NULL;
	router_error err;
	router_etcd_queue *q = NULL;
	int rc;

	/* endpoints: a str, or an iterable of str joined with commas. */
	if (PyUnicode_Check(endpoints)) {
		eps = Py_NewRef(endpoints);
	} else {
		PyObject *comma = PyUnicode_FromString(",");

		eps = comma ? PyUnicode_Join(comma, endpoints) : NULL;
		Py_XDECREF(comma);
		if (eps == NULL)
			return NULL;
	}
	if (opt_str(eps, "endpoints", &o.endpoints) < 0 ||
	    opt_str(key, "key", &o.key) < 0 ||
	    opt_str(source, "source", &src) < 0 ||
	    opt_str(cell, "cell", &o.vitess_cell) < 0 ||
	    opt_str(topo_root, "topo_root", &o.vitess_topo_root) < 0 ||
	    opt_str(tablet_type, "tablet_type", &o.vitess_tablet_type) < 0 ||
	    opt_str(cell_endpoints, "cell_endpoints",
	            &o.vitess_cell_endpoints) < 0 ||
	    opt_str(instance, "instance", &o.instance_id) < 0 ||
	    opt_str(status_prefix, "status_prefix", &o.status_prefix) < 0 ||
	    opt_str(tls_ca, "tls_ca_file", &o.tls_ca_file) < 0 ||
	    opt_str(tls_cert, "tls_cert_file", &o.tls_cert_file) < 0 ||
	    opt_str(tls_key, "tls_key_file", &o.tls_key_file) < 0 ||
	    opt_str(username, "username", &o.username) < 0 ||
	    opt_str(password, "password", &o.password) < 0)
		goto fail;
	if (src == NULL || strcmp(src, "document") == 0) {
		o.source = ROUTER_ETCD_SOURCE_DOCUMENT;
	} else if (strcmp(src, "vitess") == 0) {
		o.source = ROUTER_ETCD_SOURCE_VITESS;
	} else {
		PyErr_Format(PyExc_ValueError,
		             "source must be 'document' or 'vitess', not %R",
		             source);
		goto fail;
	}
	if (snapshot != NULL && snapshot != Py_None) {
		snap = sr_path_bytes(snapshot, "snapshot");
		if (snap == NULL)
			goto fail;
		o.snapshot_path = PyBytes_AS_STRING(snap);
	}
	o.lease_ttl_s = lease_ttl;
	o.backoff_min_ms = bmin;
	o.backoff_max_ms = bmax;
	o.request_timeout_ms = rto;
	o.vitess_debounce_ms = debounce;
	o.publish_flags = destructive ? ROUTER_PUBLISH_DESTRUCTIVE : 0;
	if (on_event != NULL) {
		rc = router_etcd_queue_create(&q, QUEUE_CAP, &err);
		if (rc != ROUTER_OK) {
			sr_raise_error(st, rc, &err, NULL);
			goto fail;
		}
		o.on_event = router_etcd_queue_push;
		o.on_event_arg = q;
	}
	self = (FollowerObject *)tp->tp_alloc(tp, 0);
	if (self == NULL) {
		router_etcd_queue_free(q);
		goto fail;
	}
	self->q = q;
	self->router = Py_NewRef(router);
	self->on_event = Py_XNewRef(on_event);
	self->pid = getpid();
	rc = router_etcd_create(&self->f, ((RouterObject *)router)->r, &o,
	                        &err);
	if (rc != ROUTER_OK) {
		sr_raise_error(st, rc, &err, NULL);
		Py_CLEAR(self);
	}
	Py_XDECREF(eps);
	Py_XDECREF(snap);
	return (PyObject *)self;
fail:
	Py_XDECREF(eps);
	Py_XDECREF(snap);
	return NULL;
#endif
}

PyDoc_STRVAR(start_doc,
"start($self, /)\n--\n\n"
"Load the snapshot (if any and the router serves nothing), start the\n"
"follower's threads and return: etcd is read asynchronously, and an\n"
"unreachable etcd is retried, not an error.  Raises InvalidError\n"
"(ROUTER_ESTATE: already started, closed, or in a forked child) or\n"
"ResourceError.");

static PyObject *Follower_start(FollowerObject *self, PyObject *unused)
{
	(void)unused;
	if (check_usable(self) < 0)
		return NULL;
#ifdef SR_HAVE_FOLLOWER
	router_error err;
	int rc;

	if (self->started)
		return raise_state(self, "the Follower is already started");
	if (self->q != NULL && start_event_thread(self) < 0)
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = router_etcd_start(self->f, &err);
	Py_END_ALLOW_THREADS
	if (rc != ROUTER_OK) {
		end_event_thread(self, 1);
		return sr_raise_error(fstate((PyObject *)self), rc, &err, NULL);
	}
	self->started = 1;
#endif
	Py_RETURN_NONE;
}

#ifdef SR_HAVE_FOLLOWER
static int stop_impl(FollowerObject *self, int join)
{
	router_etcd *f = self->f;

	if (!self->started)
		return end_event_thread(self, join);
	self->started = 0;
	/* Joins the watcher and reporter, which never need the GIL. */
	Py_BEGIN_ALLOW_THREADS
	router_etcd_stop(f);
	Py_END_ALLOW_THREADS
	return end_event_thread(self, join);
}
#endif

PyDoc_STRVAR(stop_doc,
"stop($self, /)\n--\n\n"
"Stop the follower's threads (a request in flight is interrupted), revoke\n"
"its status key's lease, deliver the events still queued and end the\n"
"event thread.  The table in service stays; start() resumes after the\n"
"last revision seen.  No-op when not started.  May be called from\n"
"on_event.");

static PyObject *Follower_stop(FollowerObject *self, PyObject *unused)
{
	(void)unused;
	if (check_usable(self) < 0)
		return NULL;
#ifdef SR_HAVE_FOLLOWER
	if (stop_impl(self, 1) < 0)
		return NULL;
#endif
	Py_RETURN_NONE;
}

PyDoc_STRVAR(close_doc,
"close($self, /)\n--\n\n"
"stop(), then free the follower: every method but close() raises Error\n"
"afterwards.  Idempotent.");

static PyObject *Follower_close(FollowerObject *self, PyObject *unused)
{
	(void)unused;
	(void)self;
#ifdef SR_HAVE_FOLLOWER
	if (self->f == NULL)
		Py_RETURN_NONE;
	if (check_usable(self) < 0)
		return NULL;
	if (stop_impl(self, 1) < 0)
		return NULL;
	router_etcd_free(self->f);
	self->f = NULL;
#endif
	Py_RETURN_NONE;
}

static PyObject *Follower_enter(FollowerObject *self, PyObject *unused)
{
	(void)unused;
	if (check_usable(self) < 0)
		return NULL;
	if (!self->started && Follower_start(self, NULL) == NULL)
		return NULL;
	return Py_NewRef(self);
}

static PyObject *Follower_exit(FollowerObject *self, PyObject *args)
{
	PyObject *r = Follower_close(self, NULL);

	(void)args;
	if (r == NULL)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_FALSE;
}

#ifdef SR_HAVE_FOLLOWER
static int dict_set(PyObject *d, const char *k, PyObject *v)
{
	int rc = v ? PyDict_SetItemString(d, k, v) : -1;

	Py_XDECREF(v);
	return rc;
}

/* None, or {'code', 'name', 'reason', 'culprit'}. */
static PyObject *error_dict(const router_error *e)
{
	PyObject *d;

	if (e->code == ROUTER_OK)
		Py_RETURN_NONE;
	d = PyDict_New();
	if (d == NULL || dict_set(d, "code", PyLong_FromLong(e->code)) < 0 ||
	    dict_set(d, "name", sr_errname_or_none(e->code)) < 0 ||
	    dict_set(d, "reason", PyUnicode_DecodeUTF8(
	                 e->message, strlen(e->message), "replace")) < 0 ||
	    dict_set(d, "culprit", PyUnicode_DecodeUTF8(
	                 e->culprit, strlen(e->culprit), "replace")) < 0) {
		Py_XDECREF(d);
		return NULL;
	}
	return d;
}

/* The last latent event's finding: None before any (revision 0), else a
 * dict as error_dict's, code 0 and reason "... cleared ..." included
 * (error_dict would say None for a cleared finding). */
static PyObject *latent_dict(const router_etcd_status *s)
{
	PyObject *d;

	if (s->latent_revision == 0)
		Py_RETURN_NONE;
	d = PyDict_New();
	if (d == NULL ||
	    dict_set(d, "code", PyLong_FromLong(s->latent_finding.code)) < 0 ||
	    dict_set(d, "name", sr_errname_or_none(s->latent_finding.code)) < 0 ||
	    dict_set(d, "reason", PyUnicode_DecodeUTF8(
	                 s->latent_finding.message,
	                 strlen(s->latent_finding.message), "replace")) < 0 ||
	    dict_set(d, "culprit", PyUnicode_DecodeUTF8(
	                 s->latent_finding.culprit,
	                 strlen(s->latent_finding.culprit), "replace")) < 0) {
		Py_XDECREF(d);
		return NULL;
	}
	return d;
}

static PyObject *latent_key(const router_etcd_status *s)
{
	if (s->latent_revision == 0)
		Py_RETURN_NONE;
	return PyUnicode_DecodeUTF8(s->latent_key, strlen(s->latent_key),
	                            "replace");
}
#endif

PyDoc_STRVAR(status_doc,
"status($self, /)\n--\n\n"
"What the follower has done, as a dict: state ('idle', 'connecting',\n"
"'following', 'retrying'), version, content_hash, from_snapshot,\n"
"revision_seen, revision_applied, revision_refused, refusal and\n"
"last_error (None or a dict of code, name, reason, culprit), accepted,\n"
"refused, stale, reconnects, compactions, status_writes, skipped,\n"
"stuck_since_unix_ms, stuck_retries, refused_unix_ms, events_dropped\n"
"(events a slow on_event missed); Vitess source: latent (how many global\n"
"values the next rebuild would refuse now; 0: none), latent_finding (None\n"
"before any 'latent' event, else the last one's dict of code, name,\n"
"reason, culprit: code 0 when it cleared a finding), latent_revision (its\n"
"key's mod revision; 0: none) and latent_key (its key; None: none).\n"
"Never blocks on the network.");

static PyObject *Follower_status(FollowerObject *self, PyObject *unused)
{
	(void)unused;
	if (check_usable(self) < 0)
		return NULL;
#ifdef SR_HAVE_FOLLOWER
	router_etcd_status s;
	uint64_t dropped = 0;
	PyObject *d;

	if (router_etcd_status_get(self->f, &s, sizeof s) != ROUTER_OK)
		return PyErr_Format(fstate((PyObject *)self)->Error,
		                    "router_etcd_status_get failed");
	if (self->q != NULL)
		dropped = router_etcd_queue_dropped(self->q);
	d = PyDict_New();
	if (d == NULL ||
	    dict_set(d, "state", PyUnicode_FromString(
	                             router_etcd_state_name(s.state))) < 0 ||
	    dict_set(d, "version", PyLong_FromUnsignedLongLong(s.version)) < 0 ||
	    dict_set(d, "content_hash",
	             PyLong_FromUnsignedLongLong(s.content_hash)) < 0 ||
	    dict_set(d, "from_snapshot", PyBool_FromLong(s.from_snapshot)) < 0 ||
	    dict_set(d, "revision_seen", PyLong_FromLongLong(s.revision_seen)) < 0 ||
	    dict_set(d, "revision_applied",
	             PyLong_FromLongLong(s.revision_applied)) < 0 ||
	    dict_set(d, "revision_refused",
	             PyLong_FromLongLong(s.revision_refused)) < 0 ||
	    dict_set(d, "refusal", error_dict(&s.refusal)) < 0 ||
	    dict_set(d, "last_error", error_dict(&s.last_error)) < 0 ||
	    dict_set(d, "accepted", PyLong_FromUnsignedLongLong(s.accepted)) < 0 ||
	    dict_set(d, "refused", PyLong_FromUnsignedLongLong(s.refused)) < 0 ||
	    dict_set(d, "stale", PyLong_FromUnsignedLongLong(s.stale)) < 0 ||
	    dict_set(d, "reconnects",
	             PyLong_FromUnsignedLongLong(s.reconnects)) < 0 ||
	    dict_set(d, "compactions",
	             PyLong_FromUnsignedLongLong(s.compactions)) < 0 ||
	    dict_set(d, "status_writes",
	             PyLong_FromUnsignedLongLong(s.status_writes)) < 0 ||
	    dict_set(d, "skipped", PyLong_FromUnsignedLongLong(s.skipped)) < 0 ||
	    dict_set(d, "stuck_since_unix_ms",
	             PyLong_FromLongLong(s.stuck_since_unix_ms)) < 0 ||
	    dict_set(d, "stuck_retries",
	             PyLong_FromUnsignedLongLong(s.stuck_retries)) < 0 ||
	    dict_set(d, "refused_unix_ms",
	             PyLong_FromLongLong(s.refused_unix_ms)) < 0 ||
	    dict_set(d, "events_dropped", PyLong_FromUnsignedLongLong(dropped)) < 0 ||
	    dict_set(d, "latent", PyLong_FromUnsignedLongLong(s.latent)) < 0 ||
	    dict_set(d, "latent_finding", latent_dict(&s)) < 0 ||
	    dict_set(d, "latent_revision",
	             PyLong_FromLongLong(s.latent_revision)) < 0 ||
	    dict_set(d, "latent_key", latent_key(&s)) < 0) {
		Py_XDECREF(d);
		return NULL;
	}
	return d;
#else
	Py_RETURN_NONE;
#endif
}

PyDoc_STRVAR(wait_doc,
"wait($self, /, revision, timeout=10.0)\n--\n\n"
"Wait until the follower has handled etcd revision `revision` (accepted\n"
"or refused it; Vitess source: built a table at or after it, or seen it\n"
"with nothing left to build) or `timeout` seconds passed.  Returns True,\n"
"or False on timeout.  Waits without the GIL, in slices that let\n"
"signals (KeyboardInterrupt) through; on_event may call it.");

static PyObject *Follower_wait(FollowerObject *self, PyObject *args,
                               PyObject *kwargs)
{
	static char *kwlist[] = {"revision", "timeout", NULL};
	long long revision;
	double timeout = 10.0;

	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "L|d:wait", kwlist,
	                                 &revision, &timeout))
		return NULL;
	if (check_usable(self) < 0)
		return NULL;
	if (!(timeout >= 0.0))
		return PyErr_Format(PyExc_ValueError,
		                    "timeout must be >= 0 seconds");
#ifdef SR_HAVE_FOLLOWER
	struct timespec t0, now;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		double left;
		unsigned slice;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout - ((double)(now.tv_sec - t0.tv_sec) +
		                  (double)(now.tv_nsec - t0.tv_nsec) / 1e9);
		slice = left <= 0 ? 0 : left > 0.1 ? 100 : (unsigned)(left * 1000);
		Py_BEGIN_ALLOW_THREADS
		rc = router_etcd_wait(self->f, revision, slice, NULL);
		Py_END_ALLOW_THREADS
		if (rc == ROUTER_OK)
			Py_RETURN_TRUE;
		if (left <= 0)
			Py_RETURN_FALSE;
		if (PyErr_CheckSignals() < 0)
			return NULL;
	}
#else
	(void)revision;
	Py_RETURN_FALSE;
#endif
}

static PyObject *Follower_get_instance_id(FollowerObject *self, void *c)
{
	(void)c;
	if (check_usable(self) < 0)
		return NULL;
#ifdef SR_HAVE_FOLLOWER
	return PyUnicode_FromString(router_etcd_instance_id(self->f));
#else
	Py_RETURN_NONE;
#endif
}

static PyObject *Follower_get_status_key(FollowerObject *self, void *c)
{
	(void)c;
	if (check_usable(self) < 0)
		return NULL;
#ifdef SR_HAVE_FOLLOWER
	return PyUnicode_FromString(router_etcd_status_key(self->f));
#else
	Py_RETURN_NONE;
#endif
}

static PyObject *Follower_get_router(FollowerObject *self, void *c)
{
	(void)c;
	return Py_NewRef(self->router);
}

static PyObject *Follower_get_started(FollowerObject *self, void *c)
{
	(void)c;
	return PyBool_FromLong(self->started);
}

static int Follower_traverse(FollowerObject *self, visitproc visit,
                             void *arg)
{
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(self->router);
	Py_VISIT(self->on_event);
	Py_VISIT(self->thread);
	return 0;
}

/* The router is not cleared: the C follower publishes into it until
 * dealloc has stopped it. */
static int Follower_clear(FollowerObject *self)
{
	Py_CLEAR(self->on_event);
	Py_CLEAR(self->thread);
	return 0;
}

static void Follower_dealloc(FollowerObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);

	PyObject_GC_UnTrack(self);
#ifdef SR_HAVE_FOLLOWER
	if (self->f != NULL && self->pid == getpid()) {
		/* No join: the last reference may be dropped on the event
		 * thread itself; it drains and exits on its own. */
		if (stop_impl(self, 0) < 0)
			PyErr_WriteUnraisable((PyObject *)self);
		router_etcd_free(self->f);
	}
	/* In a forked child: the C follower's threads are not there to be
	 * joined; it is leaked. */
	self->f = NULL;
	if (self->pid == getpid())
		router_etcd_queue_free(self->q);
	self->q = NULL;
#endif
	Follower_clear(self);
	Py_CLEAR(self->router);
	tp->tp_free((PyObject *)self);
	Py_DECREF(tp);
}

static PyMethodDef Follower_methods[] = {
    {"start", (PyCFunction)Follower_start, METH_NOARGS, start_doc},
    {"stop", (PyCFunction)Follower_stop, METH_NOARGS, stop_doc},
    {"close", (PyCFunction)Follower_close, METH_NOARGS, close_doc},
    {"status", (PyCFunction)Follower_status, METH_NOARGS, status_doc},
    {"wait", (PyCFunction)(void (*)(void))Follower_wait,
     METH_VARARGS | METH_KEYWORDS, wait_doc},
    {"__enter__", (PyCFunction)Follower_enter, METH_NOARGS,
     "Start (unless started) and return the Follower."},
    {"__exit__", (PyCFunction)Follower_exit, METH_VARARGS,
     "close()."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Follower_getset[] = {
    {"instance_id", (getter)Follower_get_instance_id, NULL,
     "this member's name in the fleet (instance, or 'HOSTNAME-PID')", NULL},
    {"status_key", (getter)Follower_get_status_key, NULL,
     "the etcd key of this member's status (STATUS_PREFIX + instance_id)",
     NULL},
    {"router", (getter)Follower_get_router, NULL,
     "the Router it publishes into", NULL},
    {"started", (getter)Follower_get_started, NULL,
     "True between start() and stop()", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot Follower_slots[] = {
    {Py_tp_doc, (void *)Follower_doc},
    {Py_tp_new, Follower_new},
    {Py_tp_dealloc, Follower_dealloc},
    {Py_tp_traverse, Follower_traverse},
    {Py_tp_clear, Follower_clear},
    {Py_tp_methods, Follower_methods},
    {Py_tp_getset, Follower_getset},
    {0, NULL}};

static PyType_Spec Follower_spec = {
    "shardrouter.Follower", sizeof(FollowerObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    Follower_slots};

int sr_follower_add(PyObject *m, modstate *st)
{
	st->FollowerEvent_Type = sr_new_structseq(m, &FollowerEvent_desc);
	st->Follower_Type = sr_new_type(m, &Follower_spec);
	if (st->FollowerEvent_Type == NULL || st->Follower_Type == NULL)
		return -1;
#ifdef SR_HAVE_FOLLOWER
	return PyModule_AddObjectRef(m, "HAVE_FOLLOWER", Py_True);
#else
	return PyModule_AddObjectRef(m, "HAVE_FOLLOWER", Py_False);
#endif
}
