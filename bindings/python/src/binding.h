/*
 * shardrouter: the CPython binding of librouter (module
 * shardrouter._shardrouter, re-exported by the shardrouter package).
 * This header is shared by its files (setup.py lists them, one job
 * each); it holds the module state, the objects, what the files share,
 * and the hot path of a lookup.
 *
 * Design
 * ------
 * The C core knows nothing of Python; these files map values in, results
 * and status codes out.  What they do per call is chosen by what a call
 * costs in CPython (bench.py measures it against a no-op call):
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
 * - Events.  librouter calls its observer on the thread of the writer
 *   call, before the call returns, and the binding has released the GIL
 *   around that call.  So the C observer only keeps copies of the events
 *   of one call (router_event_copy, with their error, diff and shadow
 *   verdict: a superseded pending table's discard, the publish, a failed
 *   automatic snapshot) in the calling thread's capture; the Python
 *   on_event callable runs, and Verdict.shadow / RefusedError.shadow /
 *   SnapshotWarning are made, after the call has returned, with the GIL.
 *
 * - Beyond the guards (issue 8).  Snapshot writes and reads, approvals,
 *   discards and the pending table's diff run without the GIL like
 *   publishes; fences, invariants and set_sample (a copy of the keys,
 *   whose values borrow from Python objects) keep it.
 *
 * - Lookups (lookup.c).  Router.route_column calls the Python resolver
 *   from librouter's resolver callback, on the calling thread with the
 *   GIL held; librouter calls it outside its read sections, so a
 *   resolver blocked on a database holds back no publish.  halves.c
 *   gives the two halves apart (lookup_query, route_lookup_rows),
 *   route_prefix and route_target (Router's and Table's: by names, the
 *   GIL held, as any single lookup).
 *
 * - The etcd follower (follower.c, optional at build time).  librouter
 *   calls its event callback on the follower's own thread, which never
 *   touches Python: it queues copies, and a Python thread per start()
 *   delivers them to on_event with the GIL.
 *
 * - Module state, heap types and multi-phase init throughout; no static
 *   Python objects.  Memory shared with the C core is allocated with the
 *   raw allocator.
 */
#ifndef SHARDROUTER_BINDING_H
#define SHARDROUTER_BINDING_H

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

/* A docstring another file's method table uses (PyDoc_STRVAR's, not
 * static). */
#define SR_DOC(name, str) const char name[] = PyDoc_STR(str)

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
/* Hot paths are inlined whole; what they call only on a miss or an error
 * stays out of line, so the hot function saves no extra registers. */
#define HOT_INLINE static inline __attribute__((always_inline))
#define COLD __attribute__((noinline, cold))

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
	PyTypeObject *Follower_Type;      /* follower.c */
	PyTypeObject *FollowerEvent_Type; /* follower.c */
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

extern struct PyModuleDef sr_shardrouter_module;

/* ------------------------------------------------------------------------ */
/* Types shared between files                                               */
/* ------------------------------------------------------------------------ */

typedef struct {
	int want_ids;
	PyObject *out; /* writable uint32 buffer, or NULL */
	int nogil;     /* -1 auto, 0 never, 1 always */
} many_opts;

typedef struct {
	PyObject *keyspace; /* str or NULL */
	PyObject *shards;   /* mapping or NULL */
	int has_version;
	uint64_t version;
	int destructive;
	int strict;
	int quarantine;
} doc_opts;

/* What librouter's observer saw during one call of this thread.  One call
 * may see several events, in this order: the discard of a pending table
 * that a publish superseded or replaced, the publish (check, rollback)
 * itself, and a failed automatic snapshot.  The callback runs without
 * the GIL: it keeps router_event_copy copies (malloc'd memory) and never
 * touches a Python object. */
#define CAP_EVENTS 4

typedef struct {
	const void *owner;
	int nev;
	router_event *ev[CAP_EVENTS]; /* router_event_copy's copies */
	int main; /* index of the publish, check or rollback event; -1 */
	int snapshot_failed; /* index of a failed automatic snapshot; -1 */
} capture;

/* Converted values with the buffers they borrow. */
typedef struct {
	router_value v[ROUTER_MULTICOL_MAX];
	size_t n;
	Py_buffer views[ROUTER_MULTICOL_MAX];
	int nviews;
} valbuf;

/* Functions, types and docstrings shared between the files, by the file
 * that defines them. */

/* errors.c */
int sr_errors_add(PyObject *m, modstate *st);
PyObject *sr_raise_error(modstate *st, int rc, const router_error *e,
                         ...);
PyObject *sr_raise_os_error(int rc, const router_error *e, int eno,
                            PyObject *path);
PyObject *sr_raise_route_error(modstate *st, int rc, const router_error *e,
                               PyObject *ks, PyObject *tb);

/* values.c */
int sr_values_add(PyObject *m, modstate *st);
int sr_int_key(PyObject *v, uint64_t *key, int *is_u);
void sr_valbuf_release(valbuf *vb);
int sr_values_from_py(modstate *st, PyObject *o, valbuf *vb);
int sr_check_name(PyObject *o, const char *what);
int sr_refuse_nul(const char *p, Py_ssize_t n, const char *what);
const char *sr_name_utf8(PyObject *o, const char *what, Py_ssize_t *n);
PyObject *sr_path_bytes(PyObject *o, const char *what);
COLD PyObject *sr_wrong_nargs(const char *fn, Py_ssize_t want, Py_ssize_t got);
int sr_kwonly(const char *fn, PyObject *kwnames, PyObject *const *kwargs,
              const char *const *names, PyObject **out);

/* route.c */
int sr_route_add(PyObject *m, modstate *st);
COLD PyObject *sr_shard_str_miss(RouterObject *self, uint32_t id);
COLD router_handle *sr_hc_lookup_slow(RouterObject *self, PyObject *ks,
				      PyObject *tb);
COLD PyObject *sr_handle_route_slow(RouterObject *ro, const router_handle *h,
                                    PyObject *value, PyObject *ks,
                                    PyObject *tb);
COLD PyObject *sr_route_by_name(RouterObject *self, PyObject *ks, PyObject *tb,
                                PyObject *value);
PyObject *sr_lookup_result(RouterObject *ro, int rc,
                           const router_route_result *res,
                           const router_error *err, PyObject *ks,
                           PyObject *tb);
int sr_many_parse(const char *fn, PyObject *kwnames,
                  PyObject *const *kwargs, many_opts *o);
PyObject *sr_route_many_impl(RouterObject *ro, const router_handle *h,
                             PyObject *values, many_opts *o,
                             PyObject *ks, PyObject *tb);

/* table_class.c */
int sr_table_add(PyObject *m, modstate *st);

/* events.c */
int sr_events_add(PyObject *m, modstate *st);
PyObject *sr_diff_tuple(modstate *st, const router_diff *d);
PyObject *sr_errname_or_none(int code);
PyObject *sr_notes_tuple(modstate *st, const router_doc_report *rep,
                         int only_warnings);
extern _Thread_local capture *sr_tl_capture;
void sr_capture_init(capture *c, const void *owner);
void sr_capture_free(capture *c);
void sr_capture_event(void *arg, const router_event *ev);
const router_event *sr_capture_main(const capture *c);
PyObject *sr_structseq_from(PyTypeObject *tp, PyObject *values);
PyObject *sr_capture_shadow_py(modstate *st, const capture *c);
void sr_fire_event(RouterObject *self, const capture *c, PyObject *diff,
                   PyObject *shadow);
int sr_warn_snapshot(RouterObject *self, const capture *c);

/* documents.c */
int sr_load_doc(modstate *st, PyObject *doc, const doc_opts *o,
                router_table **out, PyObject **warnings);
int sr_parse_doc_opts(const char *fn, PyObject *kwnames,
                      PyObject *const *kwargs, doc_opts *o,
                      int allow_quarantine);

/* publish.c */
PyObject *sr_take_diff(modstate *st, router_diff *d);
PyObject *sr_publish_table(RouterObject *self, router_table *t,
                           unsigned flags, PyObject *notes);
extern const char sr_Router_publish_doc[];
PyObject *sr_Router_publish(RouterObject *self, PyObject *const *args,
                            Py_ssize_t nargs, PyObject *kwnames);
extern const char sr_Router_check_doc[];
PyObject *sr_Router_check(RouterObject *self, PyObject *const *args,
                          Py_ssize_t nargs, PyObject *kwnames);
extern const char sr_Router_rollback_doc[];
PyObject *sr_Router_rollback(RouterObject *self, PyObject *const *args,
                             Py_ssize_t nargs, PyObject *kwnames);

/* router_class.c */
int sr_router_add(PyObject *m, modstate *st);

/* lookup.c */
PyObject *sr_Router_route_column(RouterObject *self, PyObject *const *args,
                                 Py_ssize_t nargs, PyObject *kwnames);
extern const char sr_Router_route_column_doc[];
int sr_Router_clear(RouterObject *self);
/* The dict a resolver receives for q (vindex_type, sql, ..., bind). */
PyObject *sr_lookup_query_dict(const router_lookup_query *q);

/* halves.c */
extern const char sr_Router_route_prefix_doc[];
PyObject *sr_Router_route_prefix(RouterObject *self, PyObject *const *args,
                                 Py_ssize_t nargs);
extern const char sr_Router_route_target_doc[];
PyObject *sr_Router_route_target(RouterObject *self, PyObject *const *args,
                                 Py_ssize_t nargs, PyObject *kwnames);
/* Router.route_target(ks, tb, value, shard_routing=...), also
 * Table.route_target's; sr_target_flags reads shard_routing from the
 * keywords (fn names the method in errors; -1 with an exception set). */
PyObject *sr_route_target(RouterObject *ro, PyObject *ks, PyObject *tb,
                          PyObject *value, unsigned flags);
int sr_target_flags(const char *fn, PyObject *const *kwvalues,
                    PyObject *kwnames, unsigned *flags);
extern const char sr_Router_lookup_query_doc[];
PyObject *sr_Router_lookup_query(RouterObject *self, PyObject *const *args,
                                 Py_ssize_t nargs);
extern const char sr_Router_route_lookup_rows_doc[];
PyObject *sr_Router_route_lookup_rows(RouterObject *self,
                                      PyObject *const *args, Py_ssize_t nargs);

/* beyond.c */
extern const char sr_Router_save_snapshot_doc[];
PyObject *sr_Router_save_snapshot(RouterObject *self, PyObject *path);
int sr_snapshot_read(modstate *st, PyObject *path, router_table **t,
                     uint64_t *version, uint64_t *hash);
extern const char sr_Router_from_snapshot_doc[];
PyObject *sr_Router_from_snapshot(PyObject *cls, PyObject *const *args,
                                  Py_ssize_t nargs, PyObject *kwnames);
extern const char sr_Router_pending_doc[];
PyObject *sr_Router_get_pending(RouterObject *self, void *c);
extern const char sr_Router_approve_pending_doc[];
PyObject *sr_Router_approve_pending(RouterObject *self, PyObject *unused);
extern const char sr_Router_discard_pending_doc[];
PyObject *sr_Router_discard_pending(RouterObject *self, PyObject *unused);
extern const char sr_Router_fences_doc[];
PyObject *sr_Router_fences(RouterObject *self, PyObject *unused);
extern const char sr_Router_fence_doc[];
PyObject *sr_Router_fence(RouterObject *self, PyObject *arg);
extern const char sr_Router_lift_fence_doc[];
PyObject *sr_Router_lift_fence(RouterObject *self, PyObject *arg);
extern const char sr_Router_clear_fences_doc[];
PyObject *sr_Router_clear_fences(RouterObject *self, PyObject *unused);
extern const char sr_Router_add_invariant_doc[];
PyObject *sr_Router_add_invariant(RouterObject *self, PyObject *arg);
extern const char sr_Router_remove_invariant_doc[];
PyObject *sr_Router_remove_invariant(RouterObject *self, PyObject *arg);
extern const char sr_Router_invariants_doc[];
PyObject *sr_Router_invariants(RouterObject *self, PyObject *unused);
extern const char sr_Router_set_sample_doc[];
PyObject *sr_Router_set_sample(RouterObject *self, PyObject *const *args,
                               Py_ssize_t nargs, PyObject *kwnames);

/* follower.c */
int sr_follower_add(PyObject *m, modstate *st);

/* module.c: a type or a struct sequence type added to the module */
PyTypeObject *sr_new_type(PyObject *m, PyType_Spec *spec);
PyTypeObject *sr_new_structseq(PyObject *m, PyStructSequence_Desc *d);
extern struct PyModuleDef sr_shardrouter_module;

/* ------------------------------------------------------------------------ */
/* The hot path of a lookup (inlined into Router.route, Table.route)        */
/* ------------------------------------------------------------------------ */

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
	return sr_shard_str_miss(self, id);
}

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

static inline size_t hc_slot(Py_hash_t h)
{
	return ((size_t)h ^ ((size_t)h >> 17)) & (HC_SIZE - 1);
}

static inline Py_hash_t hc_hash(Py_hash_t h1, Py_hash_t h2)
{
	return (Py_hash_t)((size_t)h1 * 1000003u ^ (size_t)h2);
}

/* The common case of hc_lookup (the same two str objects as the entry in
 * their home slot, hashes already cached in them): reads six words and
 * calls nothing.  NULL for anything else, without an exception. */
HOT_INLINE router_handle *hc_lookup_hit(RouterObject *self, PyObject *ks,
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
#else
	(void)self;
	(void)ks;
	(void)tb;
#endif
	return NULL;
}

/* The handle for (ks, tb), as sr_hc_lookup_slow returns it. */
HOT_INLINE router_handle *hc_lookup(RouterObject *self, PyObject *ks,
                                    PyObject *tb)
{
	router_handle *h = hc_lookup_hit(self, ks, tb);

	return LIKELY(h != NULL) ? h : sr_hc_lookup_slow(self, ks, tb);
}

/* The common case of handle_route (an int that fits one digit, routed to
 * a shard) into *out; 0 for anything else, without an exception.  Calls
 * nothing but the lookup, so that a caller that leaves everything else to
 * a tail call keeps no register across one (issue 20). */
HOT_INLINE int handle_route_hit(RouterObject *ro, const router_handle *h,
                                PyObject *value, PyObject **out)
{
	router_route_result res;
	int64_t x;

	if (LIKELY(PyLong_CheckExact(value) && small_int(value, &x)) &&
	    LIKELY(router_handle_route_int64(h, x, &res) == ROUTER_OK)) {
		*out = shard_str(ro, res.shard_id);
		return 1;
	}
	return 0;
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
	return sr_handle_route_slow(ro, h, value, ks, tb);
}

static inline modstate *get_state(PyObject *m)
{
	return PyModule_GetState(m);
}

#endif /* SHARDROUTER_BINDING_H */
