/*
 * ShardRouter's internal header: what the extension's files share.
 *
 * One file per job, as msgpack-ruby splits its core from its *_class.c
 * glue (the design is in shardrouter.c):
 *   shardrouter.c   Init_shardrouter: the per-file init functions, in order
 *   errors.c        status code -> exception (the one place)
 *   values.c        Ruby arguments -> C (names, SQL values, integers, paths)
 *   events.c        librouter's event callback, writer calls
 *   router_class.c  ShardRouter::Router: the object, its introspection
 *   publish.c       publish, check, rollback, export, approve_pending
 *   snapshot.c      last-known-good snapshots
 *   guards.c        pending table, fences, invariants, the shadow sample
 *   route.c         lookups (Router and Table), the benchmark helpers
 *   table_class.c   ShardRouter::Table: the handle object
 *   vindex.c        ShardRouter.keyspace_id, ShardRouter.shard_ranges
 *   follower.c      ShardRouter::Follower: the etcd follower (optional)
 *
 * Names shared between these files start with sr_; everything else is
 * static.  The extension is built with -fvisibility=hidden and exports
 * Init_shardrouter only.  The hot-path helpers (get_router, shard_name,
 * name_arg, to_value, to_values) are static inline here so that a lookup
 * costs what it cost in one file.
 */
#ifndef SHARDROUTER_H
#define SHARDROUTER_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ruby.h>
#include <ruby/encoding.h>
#include <ruby/thread.h>

#include <router.h>
#include <router_doc.h>

/* Integer batches at least this long are routed without the GVL: about
 * 150 us of work, against ~0.1 us for an uncontended release and up to a
 * timeslice to get the GVL back when another thread is busy. */
#define NOGVL_BATCH_MIN 16384
/* Documents at least this long are parsed without the GVL. */
#define NOGVL_DOC_MIN (64 * 1024)

/* Status codes 0 .. ROUTER_ERRNO_MIN, indexed by -code. */
#define NCODES (1 - ROUTER_ERRNO_MIN)

/* The module and the classes every file may need (set once by the init
 * functions, reachable as constants: no GC registration needed). */
extern VALUE sr_mShardRouter, sr_cRouter, sr_cTable;

/* ---- Router objects (router_class.c) ----------------------------------- */

/* Router#route and #route_many(keyspace, table, ...) route through a
 * handle.  Opening one takes the router's writer lock, so the first
 * HANDLE_CACHE pairs keep theirs until the router goes (other pairs: by
 * names, or a handle for one batch).  Entries are never replaced: a batch
 * may be using one without the GVL. */
#define HANDLE_CACHE 8

typedef struct cached_handle {
	router_handle *h;
	/* The keyspace and table objects of the last Router#route that
	 * matched, when both are frozen Strings or Symbols (Qundef: none);
	 * marked by the Router (route.c, cached_by_name). */
	VALUE ks_obj, table_obj;
	size_t kslen, tlen;
	char ks[ROUTER_NAME_MAX], table[ROUTER_NAME_MAX];
} cached_handle;

typedef struct rb_router {
	router *r;     /* NULL until #initialize */
	int autosave;  /* router_options.snapshot_path set: writes fsync */
	VALUE *names;  /* shard_id -> frozen String; 0 (Qfalse): not made yet */
	uint32_t nnames;
	int refs;      /* the Router object + every Table not yet freed */
	unsigned ncached;
	cached_handle cached[HANDLE_CACHE];
} rb_router;

/* Drop one reference (the Router object's or a Table's); the last frees
 * the C router, after the cached handles. */
void sr_router_unref(rb_router *w);
NORETURN(void sr_uninitialized(void));
VALUE sr_shard_name_slow(rb_router *w, uint32_t id);

/* Methods are defined on Router only and every Router is made by its
 * allocator, so self is always our typed data: skip the type check on
 * the hot paths. */
static inline rb_router *get_router(VALUE self)
{
	rb_router *w = RTYPEDDATA_DATA(self);

	if (RB_UNLIKELY(w->r == NULL))
		sr_uninitialized();
	return w;
}

/* The frozen String of shard `id`, made once per Router. */
static inline VALUE shard_name(rb_router *w, uint32_t id)
{
	if (RB_LIKELY(id < w->nnames)) {
		VALUE s = w->names[id];

		if (RB_LIKELY(s != 0))
			return s;
	}
	return sr_shard_name_slow(w, id);
}

/* ---- Table objects (table_class.c) ------------------------------------- */

typedef struct rb_table {
	router_handle *h; /* NULL only while being made */
	rb_router *w;
	VALUE router, keyspace, name;
} rb_table;

/* Table has no allocator: every Table is made by Router#table, fully. */
#define GET_TABLE(self) ((rb_table *)RTYPEDDATA_DATA(self))

/* ---- Errors (errors.c) ------------------------------------------------- */

/* What detail a call adds to its exception (the class follows the code
 * alone, docs/errors.md): */
enum origin {
	O_CALL,     /* none */
	O_DOC,      /* loading a document: its JSON path, line, notes */
	O_PUBLISH,  /* a publish or approval refused: the diff */
	O_SNAPSHOT  /* reading a snapshot file: the errno */
};

extern VALUE sr_eError, sr_eRefused;
extern ID sr_id_shadow, sr_id_guard_code;

/* Status code -> Symbol (:EEMPTY...; :NONE for ROUTER_NONE). */
VALUE sr_code_sym(int code);
/* The exception for a status code, of the class its category gives
 * (ENOMEM raises NoMemoryError at once).  extra: the diff (an Array of
 * Change) for O_PUBLISH, [path, line, column, notes, errno] for O_DOC,
 * the errno (Integer or nil) for O_SNAPSHOT, ignored for O_CALL. */
VALUE sr_make_error(int code, const router_error *err, enum origin o,
                    VALUE extra);
NORETURN(void sr_raise(int code, const router_error *err, enum origin o,
                       VALUE extra));
/* Raise code's exception with a message of the binding's own. */
NORETURN(void sr_raise_msg(int code, const char *fmt, ...))
    __attribute__((format(printf, 2, 3)));

/* ---- Arguments (values.c) ---------------------------------------------- */

extern int sr_binary_encindex;

NORETURN(void sr_nul_error(const char *what));
const char *sr_cstr_arg(VALUE *v, const char *what);
void sr_big_value(VALUE v, router_value *out);
NORETURN(void sr_bad_value(VALUE v, int in_array));
/* v a ShardRouter::Value: *out = its value, 1; else 0 (value_class.c).
 * The value points into a String the Value keeps: valid while v is. */
int sr_value_object(VALUE v, router_value *out);
extern VALUE sr_cValue;
void sr_init_value_class(void);
uint64_t sr_uint_arg(VALUE v, uint64_t min, uint64_t max, const char *what);
VALUE sr_path_arg(VALUE path);
VALUE sr_time_from_ns(int64_t ns);
void sr_hset(VALUE h, const char *k, VALUE v);

/* A keyspace or table name: String or Symbol, passed as (ptr, len). */
static inline void name_arg(VALUE v, const char **p, size_t *n,
                            const char *what)
{
	if (RB_LIKELY(RB_TYPE_P(v, T_STRING))) {
	} else if (SYMBOL_P(v)) {
		v = rb_sym2str(v);
	} else {
		rb_raise(rb_eTypeError, "%s must be a String or Symbol, not %" PRIsVALUE,
		         what, rb_obj_class(v));
	}
	*p = RSTRING_PTR(v);
	*n = (size_t)RSTRING_LEN(v);
	if (RB_UNLIKELY(memchr(*p, 0, *n) != NULL))
		sr_nul_error(what);
}

/* One SQL value.  Integer: int64, or uint64 above INT64_MAX.  String:
 * VARBINARY when its encoding is ASCII-8BIT (binary), else VARCHAR (the
 * same split as MySQL drivers: binary columns arrive as ASCII-8BIT).
 * nil: NULL.  Strings are used in place: no GC may run until the call
 * that reads them returns. */
static inline void to_value(VALUE v, router_value *out, int in_array)
{
	if (RB_LIKELY(FIXNUM_P(v))) {
		*out = ROUTER_VALUE_INT64(FIX2LONG(v));
	} else if (RB_TYPE_P(v, T_STRING)) {
		*out = ROUTER_VALUE_BYTES(RB_ENCODING_GET_INLINED(v) ==
		                                  sr_binary_encindex
		                              ? ROUTER_SQL_VARBINARY
		                              : ROUTER_SQL_VARCHAR,
		                          RSTRING_PTR(v), (size_t)RSTRING_LEN(v));
	} else if (NIL_P(v)) {
		*out = ROUTER_VALUE_NULL;
	} else if (RB_TYPE_P(v, T_BIGNUM)) {
		sr_big_value(v, out);
	} else if (!sr_value_object(v, out)) {
		sr_bad_value(v, in_array);
	}
}

/* A key: one value, or an Array of one per column (multicol). */
static inline size_t to_values(VALUE v, router_value *out)
{
	if (RB_TYPE_P(v, T_ARRAY)) {
		long n = RARRAY_LEN(v);

		if (n < 1 || n > ROUTER_MULTICOL_MAX)
			rb_raise(rb_eArgError,
			         "a multi-column key has 1 to %d values, not %ld",
			         ROUTER_MULTICOL_MAX, n);
		for (long i = 0; i < n; i++)
			to_value(RARRAY_AREF(v, i), &out[i], 1);
		return (size_t)n;
	}
	to_value(v, out, 0);
	return 1;
}

/* ---- Events and writer calls (events.c) -------------------------------- */

/* What a writer call learns from librouter's event callback: copies of
 * the events it needs, made by the core's router_event_copy (with their
 * error, diff and shadow verdict) and freed by sr_capture_free; see
 * events.c. */
typedef struct event_capture {
	/* The publish or check that carried a shadow verdict, or NULL. */
	router_event *shadowed;
	/* A failed automatic snapshot, or NULL. */
	router_event *snapshot_failed;
} event_capture;

/* One call that takes the writer lock and may fire events. */
enum writer_op {
	W_PUBLISH,
	W_ROLLBACK,
	W_ROLLBACK_TO,
	W_APPROVE,
	W_SAVE
};

typedef struct writer_call {
	enum writer_op op;
	router *r;
	router_table *t;    /* W_PUBLISH */
	unsigned flags;     /* W_PUBLISH */
	uint64_t n;         /* steps (W_ROLLBACK), version (W_ROLLBACK_TO) */
	const char *path;   /* W_SAVE */
	router_diff **diff; /* W_PUBLISH, W_APPROVE (optional) */
	router_error err;
	int rc;
	event_capture *cap;
} writer_call;

/* router_options.on_event of every Router. */
void sr_on_router_event(void *arg, const router_event *ev);
void sr_capture_free(event_capture *c);
VALUE sr_capture_shadow_to_ruby(const event_capture *c);
void sr_capture_warn(const event_capture *c);
/* Run c against w's router, the GVL released when it may fsync. */
void sr_writer(rb_router *w, writer_call *c);

/* ---- Publishing (publish.c) -------------------------------------------- */

/* A diff as a frozen Array of frozen ShardRouter::Change. */
VALUE sr_diff_to_ruby(const router_diff *d);
/* Raise the refusal of a publish or approval, with its diff and shadow
 * verdict (and for a quarantine, the guard's code). */
NORETURN(void sr_raise_refusal(rb_router *w, int rc, const router_error *err,
                               const router_diff *diff,
                               const event_capture *cap));

/* ---- Per-file init functions, called in this order by Init_shardrouter -- */

void sr_init_errors(void);
void sr_init_values(void);
void sr_init_events(void);
void sr_init_router_class(void);
void sr_init_publish(void);
void sr_init_snapshot(void);
void sr_init_guards(void);
void sr_init_table_class(void);
void sr_init_route(void);
void sr_init_vindex(void);
void sr_init_lookup(void);
void sr_init_follower(void);
void sr_init_halves(void);
/* The Hash a route_column block receives for q (lookup.c). */
VALUE sr_lookup_query_hash(const router_lookup_query *q);

#endif
