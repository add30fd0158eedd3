/*
 * ShardRouter: librouter for Ruby.
 *
 * Design
 * ------
 * Hot paths (Router#route, Table#route, #route_many) are fixed-arity C
 * methods that convert their arguments inline, call librouter once and
 * return a String the Router already holds: shard names are interned by
 * librouter under a router-wide shard_id, and the Router caches one frozen,
 * interned (fstring) Ruby String per shard_id, marked by the Router object.
 * A lookup therefore allocates nothing.
 *
 * The GVL is kept for single lookups (a release costs more than the
 * lookup) and for publishes.  It is released only for bulk work that
 * touches no Ruby object: parsing a large document or reading one from a
 * file, integer batches of at least NOGVL_BATCH_MIN keys, and calls that
 * write or read a snapshot file (save_snapshot, publishes and rollbacks of
 * a router with snapshot_path, whose fsync may take milliseconds).  Such
 * a call holds the writer lock without the GVL and needs the GVL only
 * after releasing the lock, so a thread that holds the GVL and waits for
 * the lock always gets it.  librouter's read
 * sections begin and end inside one C call, never across a GVL transition,
 * so Ruby threads, fibers and fork() need nothing from this file: each OS
 * thread gets its epoch record on its first lookup, and librouter's
 * pthread_atfork handlers make a forked child route and publish normally.
 *
 * Lifetime.  A Table (router_handle) must be freed before its router
 * (router_free requires that no handle is held).  A Table marks its Router,
 * so the Router outlives every reachable Table; but the GC may sweep both
 * in one cycle, in any order.  The C router therefore lives in a struct
 * refcounted by the Router object and by each Table, and router_free runs
 * when the last of them is freed.
 *
 * Errors are mapped to exceptions in one function, make_router_error().
 * What librouter reports only through its event callback (the shadow
 * verdict of a publish or check, a failed automatic snapshot) is captured
 * per calling thread; see "Events" below.
 * C resources held across a call that may raise (a table being published,
 * a diff, a document report) are released by rb_ensure.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ruby.h>
#include <ruby/encoding.h>
#include <ruby/thread.h>

#include <router.h>
#include <router_doc.h>

#define EXPORT __attribute__((visibility("default")))

/* Integer batches at least this long are routed without the GVL: about
 * 150 us of work, against ~0.1 us for an uncontended release and up to a
 * timeslice to get the GVL back when another thread is busy. */
#define NOGVL_BATCH_MIN 16384
/* Documents at least this long are parsed without the GVL. */
#define NOGVL_DOC_MIN (64 * 1024)

static VALUE mShardRouter, cRouter, cTable, cChange, cHistoryEntry, cNote,
    cFence, cShadowStat, cShadowVerdict;
static VALUE eError, eRefused, eDocument, eNoRoute, eHistory, eFenced,
    eInvariant, eShadow, eQuarantined;
static int binary_encindex;
static ID id_code, id_status, id_culprit, id_reason, id_diff, id_path,
    id_line, id_column, id_notes, id_shadow, id_guard_code;

/* Status code -> Symbol (:EEMPTY...), index -code (ROUTER_NONE apart). */
#define NCODES (1 - ROUTER_ERRNO_MIN)
static VALUE code_syms[NCODES];
static VALUE sym_none;

/* ------------------------------------------------------------------------ */
/* Router objects                                                           */
/* ------------------------------------------------------------------------ */

/* Router#route_many(keyspace, table, values) routes through a handle.
 * Opening one takes the router's writer lock, so the first HANDLE_CACHE
 * pairs keep theirs until the router goes.  Entries are never replaced: a
 * batch may be using one without the GVL. */
#define HANDLE_CACHE 8

typedef struct cached_handle {
	router_handle *h;
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

static void router_unref(rb_router *w)
{
	/* Both owners are freed by the GC, one at a time; atomic anyway, it
	 * costs nothing here. */
	if (__atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (unsigned i = 0; i < w->ncached; i++)
		router_handle_free(w->cached[i].h);
	router_free(w->r);
	free(w->names);
	xfree(w);
}

static void router_mark(void *p)
{
	const rb_router *w = p;

	for (uint32_t i = 0; i < w->nnames; i++)
		rb_gc_mark(w->names[i]); /* ignores 0 (false) */
}

static void router_dfree(void *p)
{
	router_unref(p);
}

static size_t router_memsize(const void *p)
{
	const rb_router *w = p;

	return sizeof *w + w->nnames * sizeof(VALUE) +
	       w->ncached * 64 /* a handle, about */;
}

static const rb_data_type_t router_type = {
    "ShardRouter::Router",
    {router_mark, router_dfree, router_memsize, NULL, {NULL}},
    0,
    0,
    RUBY_TYPED_FREE_IMMEDIATELY};

static VALUE router_alloc(VALUE klass)
{
	rb_router *w;
	VALUE self = TypedData_Make_Struct(klass, rb_router, &router_type, w);

	w->refs = 1;
	return self;
}

NORETURN(static void uninitialized(void));
static void uninitialized(void)
{
	rb_raise(eError, "ShardRouter::Router not initialized (call new)");
}

/* Methods are defined on Router only and every Router is made by
 * router_alloc, so self is always our typed data: skip the type check on
 * the hot paths. */
static inline rb_router *get_router(VALUE self)
{
	rb_router *w = RTYPEDDATA_DATA(self);

	if (RB_UNLIKELY(w->r == NULL))
		uninitialized();
	return w;
}

static VALUE shard_name_slow(rb_router *w, uint32_t id)
{
	size_t len;
	const char *s = router_shard_name(w->r, id, &len);
	VALUE str;

	if (s == NULL)
		rb_raise(eError, "librouter returned unknown shard id %u", id);
	if (id >= w->nnames) {
		uint32_t n = w->nnames ? w->nnames : 16;
		VALUE *p;

		while (n <= id)
			n *= 2;
		p = realloc(w->names, n * sizeof *p);
		if (p == NULL)
			rb_memerror();
		memset(p + w->nnames, 0, (n - w->nnames) * sizeof *p);
		w->names = p;
		w->nnames = n;
	}
	/* May run the GC, which marks names: grown and zeroed above. */
	str = rb_enc_interned_str(s, (long)len, rb_utf8_encoding());
	w->names[id] = str;
	return str;
}

/* The frozen String of shard `id`, made once per Router. */
static inline VALUE shard_name(rb_router *w, uint32_t id)
{
	if (RB_LIKELY(id < w->nnames)) {
		VALUE s = w->names[id];

		if (RB_LIKELY(s != 0))
			return s;
	}
	return shard_name_slow(w, id);
}

/* ------------------------------------------------------------------------ */
/* Errors: every status code becomes an exception here                      */
/* ------------------------------------------------------------------------ */

enum origin {
	O_ROUTE,    /* a lookup */
	O_DOC,      /* loading a document */
	O_PUBLISH,  /* a guard refused a publish */
	O_HISTORY,  /* rollback */
	O_SNAPSHOT, /* reading a snapshot file */
	O_OTHER
};

static VALUE code_sym(int code)
{
	if (code == ROUTER_NONE)
		return sym_none;
	if (code <= 0 && code > -NCODES)
		return code_syms[-code];
	return ID2SYM(rb_intern(router_errname(code)));
}

/* The exception for a status code.  extra: the diff (a refusal: O_PUBLISH,
 * or one of the refusal codes below from anywhere) or [path, line, column,
 * notes] (O_DOC). */
static VALUE make_router_error(int code, const router_error *err,
                               enum origin o, VALUE extra)
{
	const char *msg = err != NULL && err->message[0] ? err->message
	                                                 : router_strerror(code);
	const char *culprit = err != NULL ? err->culprit : "";
	VALUE klass = eError, exc, text;

	if (code == ROUTER_ENOMEM)
		rb_memerror();
	switch (o) {
	case O_DOC:
		klass = code == ROUTER_EINVAL ? rb_eArgError : eDocument;
		break;
	case O_PUBLISH:
		klass = code == ROUTER_EEMPTY || code == ROUTER_EVERSION ||
		                code == ROUTER_ESHRINK ||
		                code == ROUTER_EKSIDCHANGE
		            ? eRefused
		            : eError;
		break;
	case O_ROUTE:
		if (code == ROUTER_ENOTFOUND || code == ROUTER_EDISABLED ||
		    code == ROUTER_EMULTISHARD ||
		    code == ROUTER_ENEEDSLOOKUP || code == ROUTER_EUNSUPPORTED)
			klass = eNoRoute;
		break;
	case O_HISTORY:
		if (code == ROUTER_ENOHISTORY)
			klass = eHistory;
		break;
	case O_SNAPSHOT:
		/* Missing (ENOTFOUND), unreadable (EIO), damaged (EDOC) or
		 * oversized (ERANGE): the file is no usable document. */
		klass = code == ROUTER_EINVAL ? rb_eArgError : eDocument;
		break;
	case O_OTHER:
		break;
	}
	/* Refusals beyond the guards, wherever they come from (a publish, an
	 * approval, an invariant the table in service breaks). */
	switch (code) {
	case ROUTER_EFENCED: klass = eFenced; break;
	case ROUTER_EINVARIANT: klass = eInvariant; break;
	case ROUTER_ESHADOW: klass = eShadow; break;
	case ROUTER_EQUARANTINED: klass = eQuarantined; break;
	}
	if (klass == eError &&
	    (code == ROUTER_EINVAL || code == ROUTER_ERANGE ||
	     code == ROUTER_EREFERENCE))
		klass = rb_eArgError;

	text = culprit[0] ? rb_sprintf("%s: %s (%s)", culprit, msg,
	                               router_errname(code))
	                  : rb_sprintf("%s (%s)", msg, router_errname(code));
	exc = rb_exc_new_str(klass, text);
	if (rb_obj_is_kind_of(exc, eError)) {
		rb_ivar_set(exc, id_code, code_sym(code));
		rb_ivar_set(exc, id_status, INT2FIX(code));
		rb_ivar_set(exc, id_culprit,
		            culprit[0] ? rb_utf8_str_new_cstr(culprit) : Qnil);
		rb_ivar_set(exc, id_reason, rb_utf8_str_new_cstr(msg));
		if (rb_obj_is_kind_of(exc, eRefused)) {
			rb_ivar_set(exc, id_diff,
			            RB_TYPE_P(extra, T_ARRAY)
			                ? extra
			                : rb_obj_freeze(rb_ary_new()));
			rb_ivar_set(exc, id_shadow, Qnil);
		}
		if (klass == eDocument && RB_TYPE_P(extra, T_ARRAY) &&
		    o == O_DOC) {
			rb_ivar_set(exc, id_path, rb_ary_entry(extra, 0));
			rb_ivar_set(exc, id_line, rb_ary_entry(extra, 1));
			rb_ivar_set(exc, id_column, rb_ary_entry(extra, 2));
			rb_ivar_set(exc, id_notes, rb_ary_entry(extra, 3));
		} else if (klass == eDocument) {
			rb_ivar_set(exc, id_path, Qnil);
			rb_ivar_set(exc, id_line, Qnil);
			rb_ivar_set(exc, id_column, Qnil);
			rb_ivar_set(exc, id_notes, rb_obj_freeze(rb_ary_new()));
		}
	}
	return exc;
}

NORETURN(static void raise_router_error(int code, const router_error *err,
                                        enum origin o, VALUE extra));
static void raise_router_error(int code, const router_error *err,
                               enum origin o, VALUE extra)
{
	rb_exc_raise(make_router_error(code, err, o, extra));
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

/* A NUL inside a name (keyspace, table, vindex type, param, invariant,
 * shard name) or a path is refused up front by every entry point with the
 * same ArgumentError, "<what> contains a NUL byte" (the Python binding
 * raises ValueError with the same text): no Vitess name holds one
 * (librouter's JSON loader refuses them), C reads a NUL-terminated
 * argument only up to it ("hash\0" would be "hash"), and a (ptr, len) name
 * with one could only fail, with a message cut at the NUL.  Values are
 * bytes and may hold NUL. */
NORETURN(static void nul_error(const char *what));
static void nul_error(const char *what)
{
	rb_raise(rb_eArgError, "%s contains a NUL byte", what);
}

/* A String for C, NUL-terminated and without NUL inside (*v may be
 * replaced by a terminated copy).  TypeError when not a String. */
static const char *cstr_arg(VALUE *v, const char *what)
{
	rb_string_value(v);
	if (memchr(RSTRING_PTR(*v), 0, (size_t)RSTRING_LEN(*v)) != NULL)
		nul_error(what);
	return rb_string_value_cstr(v);
}

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
		nul_error(what);
}

/* rb_integer_pack into one native uint64_t: the magnitude; returns the
 * sign (-1, 0, 1), or -2 / 2 when the magnitude does not fit. */
#define PACK_U64 (INTEGER_PACK_LSWORD_FIRST | INTEGER_PACK_NATIVE_BYTE_ORDER)

/* Integer -> int64 when it fits, else uint64 when it fits; anything else is
 * a RangeError (never wrapped, unlike NUM2ULL). */
static void big_value(VALUE v, router_value *out)
{
	uint64_t mag;
	int sign = rb_integer_pack(v, &mag, 1, sizeof mag, 0, PACK_U64);

	if (sign >= 0 && sign < 2) {
		*out = mag <= INT64_MAX ? ROUTER_VALUE_INT64((int64_t)mag)
		                        : ROUTER_VALUE_UINT64(mag);
		return;
	}
	if (sign == -1 && mag <= (uint64_t)INT64_MAX + 1) {
		*out = ROUTER_VALUE_INT64(mag == (uint64_t)INT64_MAX + 1
		                              ? INT64_MIN
		                              : -(int64_t)mag);
		return;
	}
	rb_raise(rb_eRangeError,
	         "integer %" PRIsVALUE " is out of the int64 and uint64 ranges", v);
}

NORETURN(static void bad_value(VALUE v, int in_array));
static void bad_value(VALUE v, int in_array)
{
	rb_raise(rb_eTypeError,
	         "a shard key is an Integer, a String or nil%s, not %" PRIsVALUE,
	         in_array ? "" : " (or an Array of them for a multi-column vindex)",
	         rb_obj_class(v));
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
		                                  binary_encindex
		                              ? ROUTER_SQL_VARBINARY
		                              : ROUTER_SQL_VARCHAR,
		                          RSTRING_PTR(v), (size_t)RSTRING_LEN(v));
	} else if (NIL_P(v)) {
		*out = ROUTER_VALUE_NULL;
	} else if (RB_TYPE_P(v, T_BIGNUM)) {
		big_value(v, out);
	} else {
		bad_value(v, in_array);
	}
}

/* A key: one value, or an Array of one per column (multicol). */
static size_t to_values(VALUE v, router_value *out)
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

/* An Integer in [min, max], never wrapped. */
static uint64_t uint_arg(VALUE v, uint64_t min, uint64_t max, const char *what)
{
	uint64_t mag;
	int sign;

	if (!RB_INTEGER_TYPE_P(v))
		rb_raise(rb_eTypeError, "%s must be an Integer, not %" PRIsVALUE,
		         what, rb_obj_class(v));
	sign = rb_integer_pack(v, &mag, 1, sizeof mag, 0, PACK_U64);
	if (sign < 0 || sign > 1 || mag < min || mag > max)
		rb_raise(rb_eArgError, "%s must be in %llu..%llu, not %" PRIsVALUE,
		         what, (unsigned long long)min,
		         (unsigned long long)max, v);
	return mag;
}

/* ------------------------------------------------------------------------ */
/* Events: what a writer call learns from librouter's callback              */
/* ------------------------------------------------------------------------ */

/* librouter reports the shadow verdict of a publish or check, and a failed
 * automatic snapshot, only through the router's event callback, which runs
 * in the publishing thread, under the writer lock, before router_publish
 * (or router_rollback, router_pending_approve) returns.  Each writer call
 * below points this thread's `capture` at a struct on its stack; the
 * callback copies what it needs into plain C memory (it must not touch
 * Ruby: a GC there could sweep a Table of this router, whose
 * router_handle_free waits for the writer lock we hold), and the call
 * turns it into Ruby objects after librouter returns.  Events of other
 * threads' calls, or of calls made without a capture, are ignored. */
typedef struct event_capture {
	/* Shadow verdict of the publish or check (nshadow keyspaces). */
	int have_shadow;
	size_t nshadow;
	router_shadow_stat *shadow; /* keyspace names in names[] */
	char *names;
	router_shadow_stat totals;
	/* An automatic snapshot failed. */
	int snapshot_failed;
	router_error snapshot_err;
} event_capture;

static __thread event_capture *tls_capture;

static void capture_shadow(event_capture *c, const router_shadow_verdict *v)
{
	size_t n = router_shadow_count(v), bytes = 0, off = 0;

	free(c->shadow);
	free(c->names);
	c->shadow = NULL;
	c->names = NULL;
	c->have_shadow = 0;
	for (size_t i = 0; i < n; i++)
		bytes += strlen(router_shadow_get(v, i)->keyspace) + 1;
	c->shadow = malloc((n ? n : 1) * sizeof *c->shadow);
	c->names = malloc(bytes ? bytes : 1);
	if (c->shadow == NULL || c->names == NULL)
		return; /* out of memory: no verdict, the publish stands */
	for (size_t i = 0; i < n; i++) {
		const router_shadow_stat *st = router_shadow_get(v, i);
		size_t len = strlen(st->keyspace) + 1;

		c->shadow[i] = *st;
		memcpy(c->names + off, st->keyspace, len);
		c->shadow[i].keyspace = c->names + off;
		off += len;
	}
	router_shadow_totals(v, &c->totals);
	c->totals.keyspace = "";
	c->nshadow = n;
	c->have_shadow = 1;
}

static void on_router_event(void *arg, const router_event *ev)
{
	event_capture *c = tls_capture;

	if (c == NULL)
		return;
	if ((ev->kind == ROUTER_EVENT_PUBLISH ||
	     ev->kind == ROUTER_EVENT_CHECK) &&
	    ev->shadow != NULL)
		capture_shadow(c, ev->shadow);
	if (ev->kind == ROUTER_EVENT_SNAPSHOT && ev->code != ROUTER_OK) {
		c->snapshot_failed = 1;
		if (ev->error != NULL)
			c->snapshot_err = *ev->error;
		else
			memset(&c->snapshot_err, 0, sizeof c->snapshot_err);
		c->snapshot_err.code = ev->code;
	}
}

static void capture_free(event_capture *c)
{
	free(c->shadow);
	free(c->names);
	c->shadow = NULL;
	c->names = NULL;
	c->have_shadow = 0;
}

static VALUE shadow_stat_to_ruby(const router_shadow_stat *st)
{
	return rb_obj_freeze(rb_struct_new(
	    cShadowStat, rb_str_freeze(rb_utf8_str_new_cstr(st->keyspace)),
	    ULL2NUM(st->keys), ULL2NUM(st->routed), ULL2NUM(st->moved),
	    ULL2NUM(st->unroutable), ULL2NUM(st->newly_routable)));
}

/* The captured verdict as a ShadowVerdict, nil when there was none. */
static VALUE capture_shadow_to_ruby(const event_capture *c)
{
	VALUE ks;

	if (!c->have_shadow)
		return Qnil;
	ks = rb_ary_new_capa((long)c->nshadow);
	for (size_t i = 0; i < c->nshadow; i++)
		rb_ary_push(ks, shadow_stat_to_ruby(&c->shadow[i]));
	return rb_obj_freeze(rb_struct_new(cShadowVerdict, rb_obj_freeze(ks),
	                                   shadow_stat_to_ruby(&c->totals)));
}

/* A failed automatic snapshot does not undo the publish: warn. */
static void capture_warn(const event_capture *c)
{
	if (c->snapshot_failed)
		rb_warn("shardrouter: snapshot not saved: %s%s%s (%s)",
		        c->snapshot_err.culprit,
		        c->snapshot_err.culprit[0] ? ": " : "",
		        c->snapshot_err.message,
		        router_errname(c->snapshot_err.code));
}

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

static void *writer_run(void *p)
{
	writer_call *c = p;
	event_capture *saved = tls_capture;

	tls_capture = c->cap;
	switch (c->op) {
	case W_PUBLISH:
		c->rc = router_publish(c->r, c->t, c->flags, c->diff, &c->err);
		break;
	case W_ROLLBACK:
		c->rc = router_rollback(c->r, (unsigned)c->n, &c->err);
		break;
	case W_ROLLBACK_TO:
		c->rc = router_rollback_to(c->r, c->n, &c->err);
		break;
	case W_APPROVE:
		c->rc = router_pending_approve(c->r, c->diff, &c->err);
		break;
	case W_SAVE:
		c->rc = router_snapshot_save(c->r, c->path, &c->err);
		break;
	}
	tls_capture = saved;
	return NULL;
}

/* Run a writer call.  Calls that write a snapshot file (fsync: up to tens
 * of milliseconds) release the GVL; the others keep it.  Releasing it
 * while librouter holds the writer lock cannot deadlock: the call touches
 * no Ruby object and needs the GVL only after the lock is released, so a
 * thread that holds the GVL and waits for the lock always gets it. */
static void writer(rb_router *w, writer_call *c)
{
	c->r = w->r;
	if (c->op == W_SAVE ||
	    (w->autosave && !(c->op == W_PUBLISH &&
	                      (c->flags & ROUTER_PUBLISH_DRY_RUN))))
		rb_thread_call_without_gvl(writer_run, c, NULL, NULL);
	else
		writer_run(c);
}

/* ------------------------------------------------------------------------ */
/* Router: create, inspect                                                  */
/* ------------------------------------------------------------------------ */

/* call-seq: _init(history, max_shrink, snapshot_path, fence_cap) -- see
 * Router#initialize */
static VALUE router_init(VALUE self, VALUE history, VALUE max_shrink,
                         VALUE snapshot_path, VALUE fence_cap)
{
	rb_router *w = RTYPEDDATA_DATA(self);
	router_options opt = ROUTER_OPTIONS_INIT;
	router_error err;
	int rc;

	if (w->r != NULL)
		rb_raise(eError, "ShardRouter::Router already initialized");
	opt.history = (unsigned)uint_arg(history, 1, UINT_MAX, "history");
	if (!rb_obj_is_kind_of(max_shrink, rb_cNumeric))
		rb_raise(rb_eTypeError, "max_shrink must be Numeric, not %" PRIsVALUE,
		         rb_obj_class(max_shrink));
	opt.max_shrink = NUM2DBL(max_shrink);
	opt.fence_cap = (unsigned)uint_arg(fence_cap, 0, UINT_MAX, "fence_cap");
	if (!NIL_P(snapshot_path))
		opt.snapshot_path = /* copied */
		    cstr_arg(&snapshot_path, "snapshot_path");
	opt.on_event = on_router_event;
	rc = router_create(&w->r, &opt, &err);
	RB_GC_GUARD(snapshot_path);
	if (rc != ROUTER_OK)
		raise_router_error(rc, &err, O_OTHER, Qnil);
	w->autosave = opt.snapshot_path != NULL;
	return self;
}

/* Copies would share the C router: refuse them. */
static VALUE router_init_copy(VALUE self, VALUE other)
{
	rb_raise(rb_eTypeError, "can't copy %" PRIsVALUE, rb_obj_class(self));
}

/*
 * Version of the table in service, 0 when nothing has been published.
 * Lock-free.
 *
 * @return [Integer]
 */
static VALUE router_version_m(VALUE self)
{
	return ULL2NUM(router_serving_version(get_router(self)->r));
}

/*
 * 64-bit hash of the routing content in service (equal content, equal
 * hash; the version is not part of it), 0 when nothing is published.
 *
 * @return [Integer]
 */
static VALUE router_content_hash_m(VALUE self)
{
	return ULL2NUM(router_content_hash(get_router(self)->r));
}

/*
 * The accepted tables kept for rollback, oldest first.
 *
 * @return [Array<ShardRouter::HistoryEntry>] each with +version+,
 *   +content_hash+, +accepted_at+ (Time) and +in_service+ (true for the
 *   table in service)
 */
static VALUE router_history_m(VALUE self)
{
	rb_router *w = get_router(self);
	router_history_entry buf[64], *e = buf;
	size_t n = router_history(w->r, buf, 64);
	VALUE tmp = 0, ary;

	if (n > 64) {
		e = ALLOCV_N(router_history_entry, tmp, n);
		n = router_history(w->r, e, n); /* same n: we hold the GVL */
	}
	ary = rb_ary_new_capa((long)n);
	for (size_t i = 0; i < n; i++) {
		struct timespec ts;

		ts.tv_sec = (time_t)(e[i].accepted_unix_ns / 1000000000);
		ts.tv_nsec = (long)(e[i].accepted_unix_ns % 1000000000);
		rb_ary_push(ary, rb_struct_new(cHistoryEntry,
		                               ULL2NUM(e[i].version),
		                               ULL2NUM(e[i].content_hash),
		                               rb_time_timespec_new(&ts, INT_MAX),
		                               e[i].in_service ? Qtrue : Qfalse));
	}
	ALLOCV_END(tmp);
	return ary;
}

static void hset(VALUE h, const char *k, VALUE v)
{
	rb_hash_aset(h, ID2SYM(rb_intern(k)), v);
}

/*
 * Counters of the router.
 *
 * @return [Hash{Symbol=>Object}] +:version+, +:content_hash+ (in
 *   service), +:accepted+, +:refused+, +:refused_by_code+ (Hash of code
 *   Symbol to count, non-zero only), +:rollbacks+, +:checks+,
 *   +:tables_retired+, +:tables_freed+, +:history_len+, +:shard_names+;
 *   beyond the guards: +:snapshots_saved+, +:snapshots_failed+ (automatic
 *   snapshots that could not be written), +:quarantined+, +:approved+,
 *   +:discarded+ (pending tables discarded or superseded), +:fences+
 *   (content hashes fenced now), +:invariants+ (declared), +:shadow_runs+
 *   (publishes and checks evaluated on the sample)
 */
static VALUE router_stats_m(VALUE self)
{
	router_stats s;
	VALUE h = rb_hash_new(), by = rb_hash_new();

	router_stats_get(get_router(self)->r, &s, sizeof s);
	hset(h, "version", ULL2NUM(s.version));
	hset(h, "content_hash", ULL2NUM(s.content_hash));
	hset(h, "accepted", ULL2NUM(s.accepted));
	hset(h, "refused", ULL2NUM(s.refused));
	for (int i = 1; i < NCODES; i++) {
		uint64_t n = router_stats_refused(get_router(self)->r, -i);

		if (n != 0)
			rb_hash_aset(by, code_sym(-i), ULL2NUM(n));
	}
	hset(h, "refused_by_code", by);
	hset(h, "rollbacks", ULL2NUM(s.rollbacks));
	hset(h, "checks", ULL2NUM(s.checks));
	hset(h, "tables_retired", ULL2NUM(s.tables_retired));
	hset(h, "tables_freed", ULL2NUM(s.tables_freed));
	hset(h, "history_len", UINT2NUM(s.history_len));
	hset(h, "shard_names", UINT2NUM(s.shard_names));
	hset(h, "snapshots_saved", ULL2NUM(s.snapshots_saved));
	hset(h, "snapshots_failed", ULL2NUM(s.snapshots_failed));
	hset(h, "quarantined", ULL2NUM(s.quarantined));
	hset(h, "approved", ULL2NUM(s.approved));
	hset(h, "discarded", ULL2NUM(s.discarded));
	hset(h, "fences", UINT2NUM(s.fences));
	hset(h, "invariants", UINT2NUM(s.invariants));
	hset(h, "shadow_runs", ULL2NUM(s.shadow_runs));
	return h;
}

/* ------------------------------------------------------------------------ */
/* Publish, check, rollback, export                                         */
/* ------------------------------------------------------------------------ */

static VALUE diff_to_ruby(const router_diff *d)
{
	static const char *const kinds[] = {"?", "keyspace", "table", "vindex",
	                                    "shard", "rule"};
	static const char *const ops[] = {"?", "added", "removed", "changed"};
	size_t n = router_diff_count(d);
	VALUE ary = rb_ary_new_capa((long)n);

	for (size_t i = 0; i < n; i++) {
		const router_diff_entry *e = router_diff_get(d, i);
		unsigned k = (unsigned)e->kind, o = (unsigned)e->op;
		VALUE c = rb_struct_new(
		    cChange, ID2SYM(rb_intern(kinds[k < 6 ? k : 0])),
		    ID2SYM(rb_intern(ops[o < 4 ? o : 0])),
		    rb_utf8_str_new_cstr(e->keyspace ? e->keyspace : ""),
		    rb_utf8_str_new_cstr(e->name ? e->name : ""),
		    rb_utf8_str_new_cstr(e->detail ? e->detail : ""));

		rb_ary_push(ary, rb_obj_freeze(c));
	}
	return rb_obj_freeze(ary);
}

static VALUE note_kind_sym(router_doc_note_kind k)
{
	switch (k) {
	case ROUTER_DOC_NOTE_ERROR: return ID2SYM(rb_intern("error"));
	case ROUTER_DOC_NOTE_UNKNOWN: return ID2SYM(rb_intern("unknown"));
	case ROUTER_DOC_NOTE_IGNORED: return ID2SYM(rb_intern("ignored"));
	case ROUTER_DOC_NOTE_UNSUPPORTED: return ID2SYM(rb_intern("unsupported"));
	}
	return ID2SYM(rb_intern("other"));
}

static VALUE notes_to_ruby(const router_doc_report *rep)
{
	size_t n = router_doc_report_count(rep, 0);
	VALUE ary = rb_ary_new_capa((long)n);

	for (size_t i = 0; i < n; i++) {
		const router_doc_note *no = router_doc_report_get(rep, i);
		VALUE s = rb_struct_new(
		    cNote, note_kind_sym(no->kind), code_sym(no->error.code),
		    rb_utf8_str_new_cstr(no->path ? no->path : ""),
		    rb_utf8_str_new_cstr(no->error.culprit),
		    rb_utf8_str_new_cstr(no->error.message), INT2FIX(no->line),
		    INT2FIX(no->column));

		rb_ary_push(ary, rb_obj_freeze(s));
	}
	return rb_obj_freeze(ary);
}

typedef struct load_args {
	/* in */
	const char *json; /* or NULL: path */
	size_t len;
	const char *path;
	router_doc_options opt;
	/* out */
	router_table *t;
	router_doc_report *rep;
	router_diff *diff;
	router_error err;
	int rc;
	/* publish */
	rb_router *w;
	unsigned flags;
	VALUE src, keyspace, shards;
	event_capture cap;
} load_args;

static void *load_nogvl(void *p)
{
	load_args *a = p;

	if (a->path != NULL)
		a->rc = router_doc_load_file(a->path, &a->opt, &a->t, &a->rep,
		                             &a->err);
	else
		a->rc = router_doc_load(a->json, a->len, &a->opt, &a->t, &a->rep,
		                        &a->err);
	return NULL;
}

/* Shards: a frozen Array of [keyspace, [shard, ...]] pairs (built by
 * lib/shardrouter.rb) -> router_doc_shards pointing into those frozen
 * Strings, which the caller keeps alive.  First count them (*n pairs,
 * *total names), then fill arrays the caller allocated. */
static void shards_count(VALUE shards, long *n, long *total)
{
	*n = *total = 0;
	if (NIL_P(shards))
		return;
	Check_Type(shards, T_ARRAY);
	*n = RARRAY_LEN(shards);
	for (long i = 0; i < *n; i++) {
		VALUE pair = RARRAY_AREF(shards, i);

		Check_Type(pair, T_ARRAY);
		if (RARRAY_LEN(pair) != 2)
			rb_raise(rb_eArgError, "shards: [keyspace, names] pairs");
		Check_Type(RARRAY_AREF(pair, 1), T_ARRAY);
		*total += RARRAY_LEN(RARRAY_AREF(pair, 1));
	}
}

static void shards_fill(VALUE shards, router_doc_shards *s,
                        const char **names)
{
	long k = 0;

	for (long i = 0; i < RARRAY_LEN(shards); i++) {
		VALUE pair = RARRAY_AREF(shards, i);
		VALUE ks = RARRAY_AREF(pair, 0), list = RARRAY_AREF(pair, 1);

		s[i].keyspace = cstr_arg(&ks, "shards keyspace");
		s[i].shards = names + k;
		s[i].nshards = (size_t)RARRAY_LEN(list);
		for (long j = 0; j < RARRAY_LEN(list); j++) {
			VALUE name = RARRAY_AREF(list, j);

			names[k++] = cstr_arg(&name, "shard name");
		}
	}
}

/* Load the document described by a (GVL released when large), warn about
 * what Vitess would also skip, raise DocumentError on failure. */
static void load_document(load_args *a)
{
	int nogvl = a->path != NULL || a->len >= NOGVL_DOC_MIN;

	if (nogvl)
		rb_thread_call_without_gvl(load_nogvl, a,
		                           a->path != NULL ? RUBY_UBF_IO : NULL,
		                           NULL);
	else
		load_nogvl(a);
	if (a->rc != ROUTER_OK) {
		VALUE extra = rb_ary_new_capa(4), notes;
		const router_doc_note *first = NULL;

		notes = a->rep != NULL ? notes_to_ruby(a->rep) : rb_ary_new();
		if (a->rep != NULL)
			for (size_t i = 0;
			     (first = router_doc_report_get(a->rep, i)) != NULL;
			     i++)
				if (first->kind == ROUTER_DOC_NOTE_ERROR)
					break;
		rb_ary_push(extra, first && first->path
		                       ? rb_utf8_str_new_cstr(first->path)
		                       : Qnil);
		rb_ary_push(extra, first && first->line ? INT2FIX(first->line)
		                                        : Qnil);
		rb_ary_push(extra, first && first->column
		                       ? INT2FIX(first->column)
		                       : Qnil);
		rb_ary_push(extra, notes);
		raise_router_error(a->rc, &a->err, O_DOC, extra);
	}
	for (size_t i = 0; a->rep != NULL; i++) {
		const router_doc_note *no = router_doc_report_get(a->rep, i);

		if (no == NULL)
			break;
		if (no->kind == ROUTER_DOC_NOTE_UNKNOWN ||
		    no->kind == ROUTER_DOC_NOTE_UNSUPPORTED)
			rb_warn("shardrouter: %s: %s", no->path ? no->path : "",
			        no->error.message);
	}
}

/* Raise the refusal of a publish or approval: the diff, the shadow
 * verdict, and for a quarantine the guard's code (read from the pending
 * table, which cannot change under us: we hold the GVL and the router's
 * writers are Ruby threads). */
NORETURN(static void raise_refusal(rb_router *w, int rc,
                                   const router_error *err,
                                   const router_diff *diff,
                                   const event_capture *cap));
static void raise_refusal(rb_router *w, int rc, const router_error *err,
                          const router_diff *diff, const event_capture *cap)
{
	VALUE exc = make_router_error(rc, err, O_PUBLISH,
	                              diff ? diff_to_ruby(diff) : Qnil);

	if (rb_obj_is_kind_of(exc, eRefused) && cap != NULL)
		rb_ivar_set(exc, id_shadow, capture_shadow_to_ruby(cap));
	if (rc == ROUTER_EQUARANTINED) {
		router_pending_info info;

		rb_ivar_set(exc, id_guard_code,
		            router_pending(w->r, &info, NULL, NULL) == ROUTER_OK
		                ? code_sym(info.reason.code)
		                : Qnil);
	}
	rb_exc_raise(exc);
}

static VALUE publish_body(VALUE p)
{
	load_args *a = (load_args *)p;
	VALUE tmp1 = 0, tmp2 = 0;
	long nks, nnames;
	writer_call c;

	if (!NIL_P(a->keyspace))
		a->opt.keyspace = cstr_arg(&a->keyspace, "keyspace");
	shards_count(a->shards, &nks, &nnames);
	if (nks > 0) {
		/* ALLOCV may use alloca: allocate in this frame. */
		router_doc_shards *sh = ALLOCV_N(router_doc_shards, tmp1, nks);
		const char **names = ALLOCV_N(const char *, tmp2,
		                              nnames ? nnames : 1);

		shards_fill(a->shards, sh, names);
		a->opt.shards = sh;
		a->opt.nshards = (size_t)nks;
	}
	load_document(a);
	memset(&c, 0, sizeof c);
	c.op = W_PUBLISH;
	c.t = a->t;
	c.flags = a->flags;
	c.diff = &a->diff;
	c.cap = &a->cap;
	writer(a->w, &c);
	/* Accepted, or quarantined: the router's now. */
	if ((c.rc == ROUTER_OK && !(a->flags & ROUTER_PUBLISH_DRY_RUN)) ||
	    c.rc == ROUTER_EQUARANTINED)
		a->t = NULL;
	if (c.rc != ROUTER_OK)
		raise_refusal(a->w, c.rc, &c.err, a->diff, &a->cap);
	capture_warn(&a->cap);
	RB_GC_GUARD(tmp1);
	RB_GC_GUARD(tmp2);
	if (a->flags & ROUTER_PUBLISH_DRY_RUN)
		return rb_assoc_new(a->diff ? diff_to_ruby(a->diff)
		                            : rb_obj_freeze(rb_ary_new()),
		                    capture_shadow_to_ruby(&a->cap));
	return ULL2NUM(router_serving_version(a->w->r));
}

static VALUE publish_cleanup(VALUE p)
{
	load_args *a = (load_args *)p;

	router_table_free(a->t);
	router_doc_report_free(a->rep);
	router_diff_free(a->diff);
	capture_free(&a->cap);
	a->t = NULL;
	a->rep = NULL;
	a->diff = NULL;
	return Qnil;
}

#define PUBLISH_FLAGS                                                   \
	(ROUTER_PUBLISH_DESTRUCTIVE | ROUTER_PUBLISH_DRY_RUN |             \
	 ROUTER_PUBLISH_QUARANTINE)

/* call-seq: _publish(src, is_path, keyspace, shards, strict, flags, version)
 * src: a frozen String (JSON text, or a path when is_path); version: 0
 * (the document's) or the version to give the table.  Returns the version
 * in service, or for a dry run [diff, shadow verdict or nil].  See
 * Router#publish and Router#check in lib/shardrouter.rb. */
static VALUE router_publish_m(VALUE self, VALUE src, VALUE is_path,
                              VALUE keyspace, VALUE shards, VALUE strict,
                              VALUE flags, VALUE version)
{
	load_args a;
	router_doc_options init = ROUTER_DOC_OPTIONS_INIT;
	VALUE ret;

	memset(&a, 0, sizeof a);
	a.w = get_router(self);
	a.opt = init;
	a.opt.flags = RTEST(strict) ? ROUTER_DOC_STRICT : 0;
	a.opt.version = uint_arg(version, 0, UINT64_MAX, "version");
	a.flags = (unsigned)uint_arg(flags, 0, PUBLISH_FLAGS, "flags");
	/* A frozen String cannot change under a GVL-released parse; a shared
	 * copy of a mutable one costs no copy of the bytes. */
	StringValue(src);
	src = rb_str_new_frozen(src);
	if (RTEST(is_path)) {
		a.path = cstr_arg(&src, "path");
	} else {
		a.json = RSTRING_PTR(src);
		a.len = (size_t)RSTRING_LEN(src);
	}
	a.src = src;
	a.keyspace = keyspace;
	a.shards = shards;
	ret = rb_ensure(publish_body, (VALUE)&a, publish_cleanup, (VALUE)&a);
	RB_GC_GUARD(src);
	return ret;
}

/* A rollback: history errors raise, a failed automatic snapshot warns. */
static VALUE rollback_call(rb_router *w, writer_call *c)
{
	event_capture cap;

	memset(&cap, 0, sizeof cap);
	c->cap = &cap;
	writer(w, c);
	capture_free(&cap); /* rollbacks carry no shadow verdict */
	if (c->rc != ROUTER_OK)
		raise_router_error(c->rc, &c->err, O_HISTORY, Qnil);
	capture_warn(&cap);
	return ULL2NUM(router_serving_version(w->r));
}

/* call-seq: _rollback(steps) -- see Router#rollback */
static VALUE router_rollback_m(VALUE self, VALUE steps)
{
	rb_router *w = get_router(self);
	writer_call c;

	memset(&c, 0, sizeof c);
	c.op = W_ROLLBACK;
	c.n = uint_arg(steps, 1, UINT_MAX, "steps");
	return rollback_call(w, &c);
}

/*
 * Make the table of +version+ (still in the history) the table in
 * service again, without a guard.
 *
 * @param version [Integer]
 * @return [Integer] the version now in service
 * @raise [ShardRouter::HistoryError] when no table of that version is kept
 */
static VALUE router_rollback_to_m(VALUE self, VALUE version)
{
	rb_router *w = get_router(self);
	writer_call c;

	memset(&c, 0, sizeof c);
	c.op = W_ROLLBACK_TO;
	c.n = uint_arg(version, 0, UINT64_MAX, "version");
	return rollback_call(w, &c);
}

static VALUE utf8_str_from_c(VALUE p)
{
	return rb_utf8_str_new_cstr((const char *)p);
}

typedef struct dump_args {
	const char *keyspace;
	unsigned flags;
	char *out;
	size_t len;
	router_error err;
	int rc;
} dump_args;

#define NOTHING_IN_SERVICE 2

static int dump_fn(void *arg, const router_table *t)
{
	dump_args *d = arg;

	if (t == NULL)
		return NOTHING_IN_SERVICE;
	return router_doc_dump(t, d->keyspace, d->flags, NULL, &d->out, &d->len,
	                       &d->err);
}

/* call-seq: _export(keyspace, flags) -- see Router#export */
static VALUE router_export_m(VALUE self, VALUE keyspace, VALUE flags)
{
	rb_router *w = get_router(self);
	dump_args d;
	VALUE str;

	memset(&d, 0, sizeof d);
	d.keyspace = NIL_P(keyspace) ? NULL : cstr_arg(&keyspace, "keyspace");
	d.flags = (unsigned)uint_arg(flags, 0, 3, "flags");
	d.rc = router_inspect(w->r, dump_fn, &d);
	if (d.rc == NOTHING_IN_SERVICE)
		return Qnil;
	if (d.rc != ROUTER_OK)
		raise_router_error(d.rc, &d.err, O_OTHER, Qnil);
	str = rb_protect(utf8_str_from_c, (VALUE)d.out, &d.rc);
	free(d.out);
	if (d.rc)
		rb_jump_tag(d.rc);
	RB_GC_GUARD(keyspace);
	return str;
}

/* ------------------------------------------------------------------------ */
/* Beyond the guards: snapshots, quarantine, fences, invariants, shadow     */
/* ------------------------------------------------------------------------ */

static VALUE time_from_ns(int64_t ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	return rb_time_timespec_new(&ts, INT_MAX);
}

/* A path argument: a String, or an object with #to_path that is not a
 * stream (Pathname: yes; a File or Tempfile, open or closed, is not a path
 * and is never reopened by its name), as a frozen, NUL-free copy the
 * GVL-released calls can read.  (#save_snapshot is called without a Ruby
 * wrapper: it refused Pathname before.) */
static VALUE path_arg(VALUE path)
{
	VALUE p = path;

	if (!RB_TYPE_P(p, T_STRING) && !rb_respond_to(p, rb_intern("closed?")) &&
	    rb_respond_to(p, rb_intern("to_path")))
		p = rb_funcall(p, rb_intern("to_path"), 0);
	if (!RB_TYPE_P(p, T_STRING))
		rb_raise(rb_eTypeError, "a path is a String or Pathname, not %" PRIsVALUE,
		         rb_obj_class(path));
	p = rb_str_new_frozen(p);
	cstr_arg(&p, "path");
	return p;
}

/*
 * Write the table in service to +path+ as a last-known-good snapshot,
 * atomically: into a new temporary file beside it, fsync, rename over
 * +path+, fsync of the directory. A crash leaves the old file or the new
 * one, never a mix. Publishers wait meanwhile; lookups do not, and other
 * Ruby threads run (the GVL is released).
 *
 * @param path [String, Pathname]
 * @return [self]
 * @raise [ShardRouter::Error] nothing published (+:ENOTFOUND+), or the
 *   file could not be written (+:EIO+, culprit the path); nothing at
 *   +path+ changed
 */
static VALUE router_save_snapshot_m(VALUE self, VALUE path)
{
	rb_router *w = get_router(self);
	writer_call c;

	path = path_arg(path);
	memset(&c, 0, sizeof c);
	c.op = W_SAVE;
	c.path = RSTRING_PTR(path);
	writer(w, &c);
	RB_GC_GUARD(path);
	if (c.rc != ROUTER_OK)
		raise_router_error(c.rc, &c.err, O_OTHER, Qnil);
	return self;
}

typedef struct snap_args {
	const char *path;
	router_table *t; /* load: the table read */
	int load;
	uint64_t version, hash;
	router_error err;
	int rc;
} snap_args;

static void *snap_nogvl(void *p)
{
	snap_args *a = p;

	if (a->load)
		a->rc = router_snapshot_load(a->path, NULL, &a->t, &a->version,
		                             &a->hash, &a->err);
	else
		a->rc = router_snapshot_verify(a->path, &a->version, &a->hash,
		                               &a->err);
	return NULL;
}

/* call-seq: ShardRouter._verify_snapshot(path) -- see
 * ShardRouter.verify_snapshot */
static VALUE verify_snapshot_m(VALUE mod, VALUE path)
{
	snap_args a;
	VALUE h;

	path = path_arg(path);
	memset(&a, 0, sizeof a);
	a.path = RSTRING_PTR(path);
	rb_thread_call_without_gvl(snap_nogvl, &a, RUBY_UBF_IO, NULL);
	RB_GC_GUARD(path);
	if (a.rc != ROUTER_OK)
		raise_router_error(a.rc, &a.err, O_SNAPSHOT, Qnil);
	h = rb_hash_new();
	hset(h, "version", ULL2NUM(a.version));
	hset(h, "content_hash", ULL2NUM(a.hash));
	return h;
}

typedef struct snap_publish {
	rb_router *w;
	snap_args a;
	router_diff *diff;
	event_capture cap;
} snap_publish;

static VALUE snap_publish_body(VALUE p)
{
	snap_publish *s = (snap_publish *)p;
	writer_call c;

	rb_thread_call_without_gvl(snap_nogvl, &s->a, RUBY_UBF_IO, NULL);
	if (s->a.rc != ROUTER_OK)
		raise_router_error(s->a.rc, &s->a.err, O_SNAPSHOT, Qnil);
	memset(&c, 0, sizeof c);
	c.op = W_PUBLISH;
	c.t = s->a.t;
	c.diff = &s->diff;
	c.cap = &s->cap;
	writer(s->w, &c);
	if (c.rc == ROUTER_OK)
		s->a.t = NULL; /* the router's now */
	if (c.rc != ROUTER_OK)
		raise_refusal(s->w, c.rc, &c.err, s->diff, &s->cap);
	capture_warn(&s->cap);
	return ULL2NUM(router_serving_version(s->w->r));
}

static VALUE snap_publish_cleanup(VALUE p)
{
	snap_publish *s = (snap_publish *)p;

	router_table_free(s->a.t);
	router_diff_free(s->diff);
	capture_free(&s->cap);
	s->a.t = NULL;
	s->diff = NULL;
	return Qnil;
}

/* call-seq: _publish_snapshot(path) -- see Router.from_snapshot: load the
 * snapshot, publish its table (with its recorded version) through the
 * guards. */
static VALUE router_publish_snapshot_m(VALUE self, VALUE path)
{
	snap_publish s;
	VALUE ret;

	path = path_arg(path);
	memset(&s, 0, sizeof s);
	s.w = get_router(self);
	s.a.path = RSTRING_PTR(path);
	s.a.load = 1;
	ret = rb_ensure(snap_publish_body, (VALUE)&s, snap_publish_cleanup,
	                (VALUE)&s);
	RB_GC_GUARD(path);
	return ret;
}

/*
 * The table kept pending by a quarantined publish
 * (<tt>publish(..., quarantine: true)</tt>), not serving.
 *
 * @return [Hash, nil] nil when nothing is pending, else +:version+ (as
 *   offered; 0: the next one at approval), +:content_hash+, +:code+ (the
 *   guard that refused it: +:EEMPTY+, +:ESHRINK+ or +:ESHADOW+),
 *   +:culprit+ (String or nil), +:reason+ (String), +:diff+
 *   (Array<Change> from the table in service now to the pending table)
 *   and +:since+ (Time it was quarantined)
 */
static VALUE diff_to_ruby_p(VALUE d)
{
	return d ? diff_to_ruby((const router_diff *)d)
	         : rb_obj_freeze(rb_ary_new());
}

static VALUE router_pending_m(VALUE self)
{
	rb_router *w = get_router(self);
	router_pending_info info;
	router_diff *d = NULL;
	router_error err;
	VALUE h, diff;
	int rc = router_pending(w->r, &info, &d, &err);

	if (rc == ROUTER_ENOTFOUND)
		return Qnil;
	if (rc != ROUTER_OK)
		raise_router_error(rc, &err, O_OTHER, Qnil);
	/* diff_to_ruby allocates: free d even if it raises (NoMemoryError). */
	diff = rb_protect(diff_to_ruby_p, (VALUE)d, &rc);
	router_diff_free(d);
	if (rc)
		rb_jump_tag(rc);
	h = rb_hash_new();
	hset(h, "version", ULL2NUM(info.version));
	hset(h, "content_hash", ULL2NUM(info.content_hash));
	hset(h, "code", code_sym(info.reason.code));
	hset(h, "culprit", info.reason.culprit[0]
	                       ? rb_utf8_str_new_cstr(info.reason.culprit)
	                       : Qnil);
	hset(h, "reason", rb_utf8_str_new_cstr(info.reason.message[0]
	                                           ? info.reason.message
	                                           : router_strerror(
	                                                 info.reason.code)));
	hset(h, "diff", diff);
	hset(h, "since", time_from_ns(info.since_unix_ns));
	return h;
}

typedef struct approve_args {
	rb_router *w;
	router_diff *diff;
	event_capture cap;
} approve_args;

static VALUE approve_body(VALUE p)
{
	approve_args *a = (approve_args *)p;
	writer_call c;

	memset(&c, 0, sizeof c);
	c.op = W_APPROVE;
	c.diff = &a->diff;
	c.cap = &a->cap;
	writer(a->w, &c);
	if (c.rc == ROUTER_ENOTFOUND)
		raise_router_error(c.rc, &c.err, O_OTHER, Qnil);
	if (c.rc != ROUTER_OK)
		raise_refusal(a->w, c.rc, &c.err, a->diff, &a->cap);
	capture_warn(&a->cap);
	return ULL2NUM(router_serving_version(a->w->r));
}

static VALUE approve_cleanup(VALUE p)
{
	approve_args *a = (approve_args *)p;

	router_diff_free(a->diff);
	capture_free(&a->cap);
	a->diff = NULL;
	return Qnil;
}

/*
 * Publish the pending table as if +allow_destructive+ were given (the
 * empty, shrink and shadow guards are overridden). Fences, invariants and
 * the version guard still apply; if one refuses, the table stays pending.
 *
 * @return [Integer] the version now in service
 * @raise [ShardRouter::Error] nothing is pending (+:ENOTFOUND+)
 * @raise [ShardRouter::RefusedError] refused (FencedError, InvariantError,
 *   or +:EVERSION+); it stays pending
 */
static VALUE router_approve_pending_m(VALUE self)
{
	approve_args a;

	memset(&a, 0, sizeof a);
	a.w = get_router(self);
	return rb_ensure(approve_body, (VALUE)&a, approve_cleanup, (VALUE)&a);
}

/*
 * Drop the pending table. Its content is fenced when fencing is on
 * (+fence_cap:+): an operator judged it bad.
 *
 * @return [Boolean] true, or false when nothing was pending
 */
static VALUE router_discard_pending_m(VALUE self)
{
	rb_router *w = get_router(self);
	router_error err;
	int rc = router_pending_discard(w->r, &err);

	if (rc == ROUTER_ENOTFOUND)
		return Qfalse;
	if (rc != ROUTER_OK)
		raise_router_error(rc, &err, O_OTHER, Qnil);
	return Qtrue;
}

static VALUE fence_origin_sym(router_fence_origin o)
{
	switch (o) {
	case ROUTER_FENCE_REFUSED: return ID2SYM(rb_intern("refused"));
	case ROUTER_FENCE_ROLLED_BACK: return ID2SYM(rb_intern("rolled_back"));
	case ROUTER_FENCE_DISCARDED: return ID2SYM(rb_intern("discarded"));
	case ROUTER_FENCE_MANUAL: return ID2SYM(rb_intern("manual"));
	}
	return ID2SYM(rb_intern("other"));
}

/*
 * The fenced content hashes, oldest first (at most +fence_cap+; empty
 * when fencing is off).
 *
 * @return [Array<ShardRouter::Fence>] each with +content_hash+,
 *   +version+ (of the fenced table; 0: unknown), +origin+ (+:refused+,
 *   +:rolled_back+, +:discarded+, +:manual+), +code+ (the guard's code
 *   Symbol for +:refused+, else nil) and +fenced_at+ (Time)
 */
static VALUE router_fences_m(VALUE self)
{
	rb_router *w = get_router(self);
	router_fence buf[32], *f = buf;
	size_t n = router_fences(w->r, buf, 32);
	VALUE tmp = 0, ary;

	if (n > 32) {
		f = ALLOCV_N(router_fence, tmp, n);
		n = router_fences(w->r, f, n); /* same n: we hold the GVL */
	}
	ary = rb_ary_new_capa((long)n);
	for (size_t i = 0; i < n; i++)
		rb_ary_push(ary, rb_obj_freeze(rb_struct_new(
		                     cFence, ULL2NUM(f[i].content_hash),
		                     ULL2NUM(f[i].version),
		                     fence_origin_sym(f[i].origin),
		                     f[i].code ? code_sym(f[i].code) : Qnil,
		                     time_from_ns(f[i].fenced_unix_ns))));
	ALLOCV_END(tmp);
	return ary;
}

/*
 * Fence a content hash by hand (e.g. one a peer fenced): a publish of
 * that content is refused with FencedError, whatever its version.
 *
 * @param content_hash [Integer] as Router#content_hash
 * @return [self]
 * @raise [ShardRouter::Error] fencing is off (+:ESTATE+: give the Router
 *   a +fence_cap:+)
 */
static VALUE router_fence_m(VALUE self, VALUE hash)
{
	rb_router *w = get_router(self);
	router_error err;
	int rc = router_fence_add(
	    w->r, uint_arg(hash, 0, UINT64_MAX, "content_hash"), &err);

	if (rc != ROUTER_OK)
		raise_router_error(rc, &err, O_OTHER, Qnil);
	return self;
}

/*
 * Lift the fence on a content hash, so that content may be published
 * again.
 *
 * @param content_hash [Integer]
 * @return [Boolean] true, or false when it was not fenced
 */
static VALUE router_lift_fence_m(VALUE self, VALUE hash)
{
	rb_router *w = get_router(self);
	router_error err;
	int rc = router_fence_lift(
	    w->r, uint_arg(hash, 0, UINT64_MAX, "content_hash"), &err);

	if (rc == ROUTER_ENOTFOUND)
		return Qfalse;
	if (rc != ROUTER_OK)
		raise_router_error(rc, &err, O_OTHER, Qnil);
	return Qtrue;
}

/*
 * Lift every fence.
 *
 * @return [self]
 */
static VALUE router_clear_fences_m(VALUE self)
{
	router_fence_clear(get_router(self)->r);
	return self;
}

/*
 * Declare an operator invariant, checked on every publish and approval
 * before the other guards; a publish that breaks it raises InvariantError
 * naming it, and +allow_destructive+ does not override it. One line, as
 * in the VSchema's names:
 *
 *   "customer sharded"                  stays sharded
 *   "customer shards >= 4"              keeps at least 4 shards
 *   "customer tables customer,corder"   keeps these tables
 *   "customer.customer vindex xxhash"   primary vindex of this type
 *   "customer.customer vindex"          keeps the type in service
 *
 * A trailing "# comment" is allowed. Declaring one twice is a no-op.
 *
 * @param spec [String]
 * @return [self]
 * @raise [ArgumentError] a syntax error (the message says what was
 *   expected), or more than 256 invariants
 * @raise [ShardRouter::InvariantError] the table in service breaks it
 *   (not declared)
 */
static VALUE router_add_invariant_m(VALUE self, VALUE spec)
{
	rb_router *w = get_router(self);
	router_error err;
	int rc = router_invariant_add(w->r, cstr_arg(&spec, "invariant"), &err);

	RB_GC_GUARD(spec);
	if (rc != ROUTER_OK)
		raise_router_error(rc, &err, O_OTHER, Qnil);
	return self;
}

/*
 * Remove the invariant with this text (compared in canonical form, so
 * blanks and comments do not matter).
 *
 * @param spec [String]
 * @return [Boolean] true, or false when no such invariant was declared
 * @raise [ArgumentError] a syntax error
 */
static VALUE router_remove_invariant_m(VALUE self, VALUE spec)
{
	rb_router *w = get_router(self);
	router_error err;
	int rc =
	    router_invariant_remove(w->r, cstr_arg(&spec, "invariant"), &err);

	RB_GC_GUARD(spec);
	if (rc == ROUTER_ENOTFOUND)
		return Qfalse;
	if (rc != ROUTER_OK)
		raise_router_error(rc, &err, O_OTHER, Qnil);
	return Qtrue;
}

/*
 * The declared invariants, in canonical text form, in declaration order.
 *
 * @return [Array<String>]
 */
static VALUE router_invariants_m(VALUE self)
{
	rb_router *w = get_router(self);
	size_t n = router_invariant_get(w->r, 0, NULL, 0);
	VALUE ary = rb_ary_new_capa((long)n);

	for (size_t i = 0; i < n; i++) {
		char buf[1024];

		if (router_invariant_get(w->r, i, buf, sizeof buf) <= i)
			break; /* removed meanwhile by another thread */
		rb_ary_push(ary, rb_str_freeze(rb_utf8_str_new_cstr(buf)));
	}
	return ary;
}

/* call-seq: _set_sample(keys, max_moved, max_unroutable) -- see
 * Router#set_sample.  keys: a frozen Array of frozen [keyspace, table,
 * value] triples (keyspace and table Strings), made by lib/shardrouter.rb. */
static VALUE router_set_sample_m(VALUE self, VALUE keys, VALUE max_moved,
                                 VALUE max_unroutable)
{
	rb_router *w = get_router(self);
	router_shadow_options opt = ROUTER_SHADOW_OPTIONS_INIT;
	router_sample_key *k;
	router_value *vals;
	router_error err;
	VALUE tmp1 = 0, tmp2 = 0;
	long n, nv = 0;
	int rc;

	Check_Type(keys, T_ARRAY);
	opt.max_moved = NUM2DBL(max_moved);
	opt.max_unroutable = NUM2DBL(max_unroutable);
	n = RARRAY_LEN(keys);
	for (long i = 0; i < n; i++) {
		VALUE key = RARRAY_AREF(keys, i);

		Check_Type(key, T_ARRAY);
		if (RARRAY_LEN(key) != 3)
			rb_raise(rb_eArgError,
			         "a sample key is [keyspace, table, value]");
		Check_Type(RARRAY_AREF(key, 0), T_STRING);
		Check_Type(RARRAY_AREF(key, 1), T_STRING);
		/* The names every lookup refuses (name_arg). */
		if (memchr(RSTRING_PTR(RARRAY_AREF(key, 0)), 0,
		           (size_t)RSTRING_LEN(RARRAY_AREF(key, 0))) != NULL)
			nul_error("keyspace");
		if (memchr(RSTRING_PTR(RARRAY_AREF(key, 1)), 0,
		           (size_t)RSTRING_LEN(RARRAY_AREF(key, 1))) != NULL)
			nul_error("table");
	}
	/* Allocate first: from here to the call nothing allocates, so the
	 * Strings read in place cannot move. */
	k = ALLOCV_N(router_sample_key, tmp1, n ? n : 1);
	vals = ALLOCV_N(router_value, tmp2, (n ? n : 1) * ROUTER_MULTICOL_MAX);
	for (long i = 0; i < n; i++) {
		VALUE key = RARRAY_AREF(keys, i);
		VALUE ks = RARRAY_AREF(key, 0), tb = RARRAY_AREF(key, 1);

		k[i].keyspace = RSTRING_PTR(ks);
		k[i].keyspace_len = (size_t)RSTRING_LEN(ks);
		k[i].table = RSTRING_PTR(tb);
		k[i].table_len = (size_t)RSTRING_LEN(tb);
		k[i].values = vals + nv;
		k[i].nvalues = to_values(RARRAY_AREF(key, 2), vals + nv);
		nv += (long)k[i].nvalues;
	}
	rc = router_shadow_set_sample(w->r, n ? k : NULL, (size_t)n, &opt, &err);
	ALLOCV_END(tmp1);
	ALLOCV_END(tmp2);
	RB_GC_GUARD(keys);
	if (rc != ROUTER_OK)
		raise_router_error(rc, &err, O_OTHER, Qnil);
	return self;
}

/* ------------------------------------------------------------------------ */
/* Lookups                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * The shard holding +value+ in +keyspace+.+table+, through the table's
 * primary vindex, in the table in service.
 *
 * @param keyspace [String, Symbol]
 * @param table [String, Symbol]
 * @param value [Integer, String, nil, Array] Integer: int64, or uint64
 *   above 2**63-1; String: VARCHAR, or VARBINARY when its encoding is
 *   ASCII-8BIT (binary); nil: NULL; Array: one value per column of a
 *   multi-column vindex
 * @return [String, nil] the shard's name, a frozen String shared by every
 *   call; nil when the value maps to no keyspace ID (e.g. NULL through
 *   +hash+)
 * @raise [ShardRouter::NoRouteError] no such keyspace or table, nothing
 *   published, a disabled or reference table, a lookup vindex
 * @raise [TypeError, RangeError, ArgumentError] bad arguments
 */
static VALUE router_route_m(VALUE self, VALUE keyspace, VALUE table,
                            VALUE value)
{
	rb_router *w = get_router(self);
	router_value vals[ROUTER_MULTICOL_MAX];
	router_route_result res;
	router_error err;
	const char *ks, *tb;
	size_t ksl, tbl, n;
	int rc;

	name_arg(keyspace, &ks, &ksl, "keyspace");
	name_arg(table, &tb, &tbl, "table");
	n = to_values(value, vals);
	rc = router_route(w->r, ks, ksl, tb, tbl, vals, n, &res, &err);
	if (RB_LIKELY(rc == ROUTER_OK))
		return shard_name(w, res.shard_id);
	if (rc == ROUTER_NONE)
		return Qnil;
	raise_router_error(rc, &err, O_ROUTE, Qnil);
}

/*
 * The shard of +keyspace+ holding the keyspace ID +ksid+.
 *
 * @param keyspace [String, Symbol]
 * @param ksid [String] the keyspace ID's bytes (e.g. from
 *   ShardRouter.keyspace_id)
 * @return [String] the shard's name (frozen, shared)
 * @raise [ShardRouter::NoRouteError] no such keyspace, nothing published
 */
static VALUE router_route_ksid_m(VALUE self, VALUE keyspace, VALUE ksid)
{
	rb_router *w = get_router(self);
	router_route_result res;
	router_error err;
	const char *ks;
	size_t ksl;
	int rc;

	name_arg(keyspace, &ks, &ksl, "keyspace");
	if (!RB_TYPE_P(ksid, T_STRING))
		rb_raise(rb_eTypeError, "ksid must be a String, not %" PRIsVALUE,
		         rb_obj_class(ksid));
	rc = router_route_ksid(w->r, ks, ksl, RSTRING_PTR(ksid),
	                       (size_t)RSTRING_LEN(ksid), &res, &err);
	if (RB_LIKELY(rc == ROUTER_OK))
		return shard_name(w, res.shard_id);
	if (rc == ROUTER_NONE)
		return Qnil;
	raise_router_error(rc, &err, O_ROUTE, Qnil);
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Benchmark floor: the same arguments as #route, no work. */
static VALUE router_noop3(VALUE self, VALUE a, VALUE b, VALUE c)
{
	return Qnil;
}

/* Benchmark: ns taken by n router_route calls on keys 0..n-1 from C, the
 * librouter work inside Router#route. */
static VALUE router_bench_c(VALUE self, VALUE keyspace, VALUE table,
                            VALUE count)
{
	rb_router *w = get_router(self);
	long n = NUM2LONG(count);
	const char *ks, *tb;
	size_t ksl, tbl;
	router_route_result res;
	router_error err;
	uint32_t sink = 0;
	int64_t t0;

	name_arg(keyspace, &ks, &ksl, "keyspace");
	name_arg(table, &tb, &tbl, "table");
	t0 = mono_ns();
	for (long i = 0; i < n; i++) {
		router_value v = ROUTER_VALUE_INT64(i);

		router_route(w->r, ks, ksl, tb, tbl, &v, 1, &res, &err);
		sink += res.shard_id;
	}
	t0 = mono_ns() - t0;
	return rb_ary_new_from_args(2, LL2NUM(t0), UINT2NUM(sink));
}

/* ------------------------------------------------------------------------ */
/* Tables (handles)                                                         */
/* ------------------------------------------------------------------------ */

typedef struct rb_table {
	router_handle *h; /* NULL only while being made */
	rb_router *w;
	VALUE router, keyspace, name;
} rb_table;

static void table_mark(void *p)
{
	const rb_table *t = p;

	rb_gc_mark(t->router);
	rb_gc_mark(t->keyspace);
	rb_gc_mark(t->name);
}

static void table_dfree(void *p)
{
	rb_table *t = p;

	/* Before the router: router_free requires every handle gone. */
	router_handle_free(t->h);
	if (t->w != NULL)
		router_unref(t->w);
	xfree(t);
}

static size_t table_memsize(const void *p)
{
	return sizeof(rb_table);
}

static const rb_data_type_t table_type = {
    "ShardRouter::Table",
    {table_mark, table_dfree, table_memsize, NULL, {NULL}},
    0,
    0,
    RUBY_TYPED_FREE_IMMEDIATELY};

/*
 * A handle on +keyspace+.+table+ whose lookups skip name resolution. It
 * stays valid across publishes and rollbacks: each lookup uses the table
 * in service at that moment (and raises NoRouteError while the table is
 * missing from it). The keyspace and table need not exist yet.
 *
 * @param keyspace [String, Symbol]
 * @param table [String, Symbol]
 * @return [ShardRouter::Table]
 */
static VALUE router_table_m(VALUE self, VALUE keyspace, VALUE table)
{
	rb_router *w = get_router(self);
	const char *ks, *tb;
	size_t ksl, tbl;
	router_error err;
	rb_table *t;
	VALUE obj;
	int rc;

	name_arg(keyspace, &ks, &ksl, "keyspace");
	name_arg(table, &tb, &tbl, "table");
	keyspace = rb_str_new_frozen(rb_obj_as_string(keyspace));
	table = rb_str_new_frozen(rb_obj_as_string(table));
	obj = TypedData_Make_Struct(cTable, rb_table, &table_type, t);
	t->router = self;
	t->keyspace = keyspace;
	t->name = table;
	rc = router_handle_open(w->r, RSTRING_PTR(keyspace),
	                        (size_t)RSTRING_LEN(keyspace), RSTRING_PTR(table),
	                        (size_t)RSTRING_LEN(table), &t->h, &err);
	if (rc != ROUTER_OK)
		raise_router_error(rc, &err, O_OTHER, Qnil);
	__atomic_add_fetch(&w->refs, 1, __ATOMIC_ACQ_REL);
	t->w = w;
	return obj;
}

/* Table has no allocator: every Table is made above, fully. */
#define GET_TABLE(self) ((rb_table *)RTYPEDDATA_DATA(self))

static VALUE table_route_slow(rb_table *t, VALUE value)
{
	router_value vals[ROUTER_MULTICOL_MAX];
	router_route_result res;
	router_error err;
	size_t n = to_values(value, vals);
	int rc = router_handle_route(t->h, vals, n, &res, &err);

	if (rc == ROUTER_OK)
		return shard_name(t->w, res.shard_id);
	if (rc == ROUTER_NONE)
		return Qnil;
	raise_router_error(rc, &err, O_ROUTE, Qnil);
}

/*
 * The shard holding +value+, as Router#route for this table.
 *
 * @param value [Integer, String, nil, Array] as in Router#route
 * @return [String, nil] the shard's name (frozen, shared), nil when the
 *   value maps to no keyspace ID
 * @raise [ShardRouter::NoRouteError] the table is missing from the table
 *   in service, or is not routable by value
 */
static VALUE table_route_m(VALUE self, VALUE value)
{
	rb_table *t = GET_TABLE(self);

	if (RB_LIKELY(FIXNUM_P(value))) {
		router_route_result res;
		int rc = router_handle_route_int64(t->h, FIX2LONG(value), &res);

		if (RB_LIKELY(rc == ROUTER_OK))
			return shard_name(t->w, res.shard_id);
		if (rc == ROUTER_NONE)
			return Qnil;
		/* An error: route again for its detail. */
	}
	return table_route_slow(t, value);
}

/* Benchmark floor: the same argument as Table#route, no work. */
static VALUE table_noop1(VALUE self, VALUE a)
{
	return Qnil;
}

/* Benchmark: ns taken by n router_handle_route_int64 calls on keys 0..n-1
 * from C, the librouter work inside Table#route. */
static VALUE table_bench_c(VALUE self, VALUE count)
{
	rb_table *t = GET_TABLE(self);
	long n = NUM2LONG(count);
	router_route_result res;
	uint32_t sink = 0;
	int64_t t0 = mono_ns();

	for (long i = 0; i < n; i++) {
		router_handle_route_int64(t->h, i, &res);
		sink += res.shard_id;
	}
	t0 = mono_ns() - t0;
	RB_GC_GUARD(self);
	return rb_ary_new_from_args(2, LL2NUM(t0), UINT2NUM(sink));
}

typedef union slot {
	uint64_t key;
	VALUE val;
} slot;

typedef struct batch_args {
	const router_handle *h;
	const uint64_t *keys;
	size_t n;
	int is_unsigned;
	uint32_t *ids;
	router_error err;
	int rc;
} batch_args;

static void *batch_nogvl(void *p)
{
	batch_args *b = p;

	b->rc = router_handle_route_batch(b->h, b->keys, b->n, b->is_unsigned,
	                                  b->ids, NULL, &b->err);
	return NULL;
}

/* Integers only, all int64 or all above INT64_MAX: one batch, one table,
 * no GVL past NOGVL_BATCH_MIN.  Anything else: one lookup per value. */
static VALUE route_many(VALUE owner, rb_router *w, const router_handle *h,
                        VALUE values)
{
	long n, i;
	VALUE tmp1 = 0, tmp2 = 0, ret;
	slot *s;
	uint32_t *ids;
	int n_big = 0, mixed = 0;
	batch_args b;

	Check_Type(values, T_ARRAY);
	n = RARRAY_LEN(values);
	s = ALLOCV_N(slot, tmp1, n ? n : 1);
	for (i = 0; i < n; i++) {
		VALUE v = RARRAY_AREF(values, i);

		if (RB_LIKELY(FIXNUM_P(v))) {
			s[i].key = (uint64_t)FIX2LONG(v);
		} else if (RB_TYPE_P(v, T_BIGNUM)) {
			router_value rv;

			big_value(v, &rv);
			if (rv.type == ROUTER_SQL_UINT64) {
				s[i].key = rv.u64;
				n_big++;
			} else {
				s[i].key = (uint64_t)rv.i64;
			}
		} else {
			mixed = 1;
			break;
		}
	}
	if (n_big != 0 && n_big != n)
		mixed = 1;
	if (mixed) {
		/* Per value; the Array may change under us if a lookup
		 * raises, so read it afresh each time. */
		ret = rb_ary_new_capa(n);
		for (i = 0; i < RARRAY_LEN(values); i++) {
			router_value vals[ROUTER_MULTICOL_MAX];
			router_route_result res;
			router_error err;
			size_t nv = to_values(RARRAY_AREF(values, i), vals);
			int rc = router_handle_route(h, vals, nv, &res, &err);

			if (rc == ROUTER_OK)
				rb_ary_push(ret, shard_name(w, res.shard_id));
			else if (rc == ROUTER_NONE)
				rb_ary_push(ret, Qnil);
			else
				raise_router_error(rc, &err, O_ROUTE, Qnil);
		}
		ALLOCV_END(tmp1);
		return ret;
	}
	ids = ALLOCV_N(uint32_t, tmp2, n ? n : 1);
	b.h = h;
	b.keys = &s[0].key;
	b.n = (size_t)n;
	b.is_unsigned = n_big != 0;
	b.ids = ids;
	/* slot is a union of one uint64_t: keys are contiguous. */
	if (n >= NOGVL_BATCH_MIN)
		rb_thread_call_without_gvl(batch_nogvl, &b, NULL, NULL);
	else
		batch_nogvl(&b);
	if (b.rc != ROUTER_OK)
		raise_router_error(b.rc, &b.err, O_ROUTE, Qnil);
	/* Reuse the key slots for the results.  Every non-nil VALUE written
	 * here is held by w->names, so a GC run by shard_name_slow (which is
	 * blind to this buffer) loses nothing. */
	for (i = 0; i < n; i++)
		s[i].val = ids[i] == ROUTER_NO_SHARD ? Qnil
		                                     : shard_name(w, ids[i]);
	ret = rb_ary_new_from_values(n, &s[0].val);
	ALLOCV_END(tmp1);
	ALLOCV_END(tmp2);
	RB_GC_GUARD(owner);
	RB_GC_GUARD(values);
	return ret;
}

/*
 * The shard of each value, as Table#route for each, in one call.
 * An Array of Integers (all in the int64 range, or all above it) is routed
 * as one batch by one table in service, without the GVL from 16384 keys
 * on; other Arrays are routed value by value.
 *
 * @param values [Array<Integer, String, nil, Array>]
 * @return [Array<String, nil>]
 * @raise [ShardRouter::NoRouteError] as Table#route
 */
static VALUE table_route_many_m(VALUE self, VALUE values)
{
	rb_table *t = GET_TABLE(self);

	return route_many(self, t->w, t->h, values);
}

typedef struct many_args {
	router_handle *h;
	rb_router *w;
	VALUE self, values;
} many_args;

static VALUE many_body(VALUE p)
{
	many_args *m = (many_args *)p;

	return route_many(m->self, m->w, m->h, m->values);
}

static VALUE many_cleanup(VALUE p)
{
	router_handle_free(((many_args *)p)->h);
	return Qnil;
}

/*
 * The shard of each value in +keyspace+.+table+, as Table#route_many.
 *
 * @param keyspace [String, Symbol]
 * @param table [String, Symbol]
 * @param values [Array<Integer, String, nil, Array>]
 * @return [Array<String, nil>]
 * @raise [ShardRouter::NoRouteError] as Router#route
 */
static VALUE router_route_many_m(VALUE self, VALUE keyspace, VALUE table,
                                 VALUE values)
{
	many_args m;
	const char *ks, *tb;
	size_t ksl, tbl;
	router_error err;
	int rc;

	m.w = get_router(self);
	m.self = self;
	m.values = values;
	name_arg(keyspace, &ks, &ksl, "keyspace");
	name_arg(table, &tb, &tbl, "table");
	Check_Type(values, T_ARRAY);
	for (unsigned i = 0; i < m.w->ncached; i++) {
		const cached_handle *c = &m.w->cached[i];

		if (c->kslen == ksl && c->tlen == tbl &&
		    memcmp(c->ks, ks, ksl) == 0 &&
		    memcmp(c->table, tb, tbl) == 0)
			return route_many(self, m.w, c->h, values);
	}
	rc = router_handle_open(m.w->r, ks, ksl, tb, tbl, &m.h, &err);
	if (rc != ROUTER_OK)
		raise_router_error(rc, &err, O_ROUTE, Qnil);
	if (m.w->ncached < HANDLE_CACHE) {
		/* Valid names fit: router_handle_open refuses longer ones. */
		cached_handle *c = &m.w->cached[m.w->ncached++];

		c->h = m.h;
		c->kslen = ksl;
		c->tlen = tbl;
		memcpy(c->ks, ks, ksl);
		memcpy(c->table, tb, tbl);
		return route_many(self, m.w, c->h, values);
	}
	return rb_ensure(many_body, (VALUE)&m, many_cleanup, (VALUE)&m);
}

/*
 * @return [String] the keyspace (frozen)
 */
static VALUE table_keyspace_m(VALUE self)
{
	return GET_TABLE(self)->keyspace;
}

/*
 * @return [String] the table's name (frozen)
 */
static VALUE table_name_m(VALUE self)
{
	return GET_TABLE(self)->name;
}

/*
 * @return [ShardRouter::Router] the router this handle routes through
 */
static VALUE table_router_m(VALUE self)
{
	return GET_TABLE(self)->router;
}

/* ------------------------------------------------------------------------ */
/* Module functions                                                         */
/* ------------------------------------------------------------------------ */

static int param_i(VALUE k, VALUE v, VALUE strs)
{
	rb_ary_push(strs, rb_str_new_frozen(rb_obj_as_string(k)));
	rb_ary_push(strs, rb_str_new_frozen(rb_obj_as_string(v)));
	return ST_CONTINUE;
}

/* Create a vindex, map, free it: no Ruby call in between. */
static int map_once(const char *type, const router_param *p, size_t np,
                    const router_value *vals, size_t n, void *out, size_t cap,
                    size_t *len, router_error *err)
{
	router_vindex *v;
	int rc = router_vindex_create(&v, type, p, np, NULL, err);

	if (rc != ROUTER_OK)
		return rc;
	rc = router_vindex_map(v, vals, n, out, cap, len, err);
	router_vindex_free(v);
	return rc;
}

/*
 * call-seq:
 *   ShardRouter.keyspace_id(type, value, params = nil) -> String or nil
 *
 * The keyspace ID a vindex of +type+ gives +value+, exactly as Vitess.
 *
 * @param type [String, Symbol] a Vitess vindex type: "hash", "xxhash",
 *   "numeric", "binary", "binary_md5", "reverse_bits", "null",
 *   "numeric_static_map", "multicol", "region_experimental"
 * @param value [Integer, String, nil, Array] as in Router#route (an Array
 *   for multi-column vindexes)
 * @param params [Hash, nil] the vindex's params, as in a VSchema
 * @return [String, nil] the keyspace ID's bytes (ASCII-8BIT), nil when
 *   the value maps to no keyspace ID
 * @raise [ArgumentError] unknown type, params that do not parse
 * @raise [ShardRouter::NoRouteError] a lookup vindex, or one not computed
 *   in process (unicode_loose_*)
 */
static VALUE keyspace_id_m(int argc, VALUE *argv, VALUE mod)
{
	VALUE type, value, params, strs = rb_ary_new(), tmp = 0, ret = Qnil;
	router_value vals[ROUTER_MULTICOL_MAX];
	router_param *p = NULL;
	router_error err;
	uint8_t buf[64];
	size_t n, np = 0, len = 0;
	int rc;

	rb_scan_args(argc, argv, "21", &type, &value, &params);
	if (SYMBOL_P(type))
		type = rb_sym2str(type);
	cstr_arg(&type, "vindex type");
	if (!NIL_P(params)) {
		Check_Type(params, T_HASH);
		rb_hash_foreach(params, param_i, strs);
		np = (size_t)RARRAY_LEN(strs) / 2;
		p = ALLOCV_N(router_param, tmp, np ? np : 1);
		for (size_t i = 0; i < np; i++) {
			VALUE k = RARRAY_AREF(strs, 2 * i);
			VALUE x = RARRAY_AREF(strs, 2 * i + 1);

			p[i].key = cstr_arg(&k, "param name");
			p[i].value = cstr_arg(&x, "param value");
		}
	}
	n = to_values(value, vals);
	rc = map_once(RSTRING_PTR(type), p, np, vals, n, buf, sizeof buf, &len,
	              &err);
	if (rc == ROUTER_OK) {
		ret = rb_str_new((const char *)buf, (long)len);
	} else if (rc == ROUTER_ERANGE && len > sizeof buf) {
		ret = rb_str_new(NULL, (long)len);
		n = to_values(value, vals); /* after an allocation: afresh */
		rc = map_once(RSTRING_PTR(type), p, np, vals, n,
		              RSTRING_PTR(ret), len, &len, &err);
		rb_str_set_len(ret, rc == ROUTER_OK ? (long)len : 0);
	}
	ALLOCV_END(tmp);
	RB_GC_GUARD(strs);
	RB_GC_GUARD(value);
	RB_GC_GUARD(type);
	if (rc == ROUTER_NONE)
		return Qnil;
	if (rc == ROUTER_EREFERENCE)
		raise_router_error(rc, &err, O_OTHER, Qnil);
	if (rc != ROUTER_OK)
		raise_router_error(rc, &err, O_ROUTE, Qnil);
	return ret;
}

/*
 * The names of an even partition of the keyspace-ID space in +n+ shards,
 * as Vitess's GenerateShardRanges ("-80", "80-" for 2).
 *
 * @param n [Integer] 1..65536
 * @return [Array<String>]
 */
static VALUE shard_ranges_m(VALUE mod, VALUE count)
{
	unsigned n = (unsigned)uint_arg(count, 1, 65536, "shard count");
	VALUE ary = rb_ary_new_capa(n);

	for (unsigned i = 0; i < n; i++) {
		char name[16];

		router_shard_range_name(i, n, name, sizeof name);
		rb_ary_push(ary, rb_enc_interned_str_cstr(name, rb_utf8_encoding()));
	}
	return ary;
}

/* ------------------------------------------------------------------------ */

EXPORT void Init_shardrouter(void);
void Init_shardrouter(void)
{
	/* No global mutable state: Routers are per object, shard-name Strings
	 * are frozen and shareable. */
	rb_ext_ractor_safe(true);

	mShardRouter = rb_define_module("ShardRouter");
	eError = rb_define_class_under(mShardRouter, "Error", rb_eStandardError);
	eRefused = rb_define_class_under(mShardRouter, "RefusedError", eError);
	eDocument = rb_define_class_under(mShardRouter, "DocumentError", eError);
	eNoRoute = rb_define_class_under(mShardRouter, "NoRouteError", eError);
	eHistory = rb_define_class_under(mShardRouter, "HistoryError", eError);
	eFenced = rb_define_class_under(mShardRouter, "FencedError", eRefused);
	eInvariant = rb_define_class_under(mShardRouter, "InvariantError",
	                                   eRefused);
	eShadow = rb_define_class_under(mShardRouter, "ShadowError", eRefused);
	eQuarantined = rb_define_class_under(mShardRouter, "QuarantinedError",
	                                     eRefused);
	/* Their readers (code, culprit, diff, path...) are in
	 * lib/shardrouter.rb, with their documentation. */

	cChange = rb_struct_define_under(mShardRouter, "Change", "kind", "op",
	                                 "keyspace", "name", "detail", NULL);
	cHistoryEntry = rb_struct_define_under(mShardRouter, "HistoryEntry",
	                                       "version", "content_hash",
	                                       "accepted_at", "in_service", NULL);
	cNote = rb_struct_define_under(mShardRouter, "Note", "kind", "code",
	                               "path", "culprit", "message", "line",
	                               "column", NULL);
	cFence = rb_struct_define_under(mShardRouter, "Fence", "content_hash",
	                                "version", "origin", "code",
	                                "fenced_at", NULL);
	cShadowStat = rb_struct_define_under(mShardRouter, "ShadowStat",
	                                     "keyspace", "keys", "routed",
	                                     "moved", "unroutable",
	                                     "newly_routable", NULL);
	cShadowVerdict = rb_struct_define_under(mShardRouter, "ShadowVerdict",
	                                        "keyspaces", "totals", NULL);

	cRouter = rb_define_class_under(mShardRouter, "Router", rb_cObject);
	rb_define_alloc_func(cRouter, router_alloc);
	rb_define_private_method(cRouter, "_init", router_init, 4);
	rb_define_private_method(cRouter, "initialize_copy", router_init_copy, 1);
	rb_define_private_method(cRouter, "_publish", router_publish_m, 7);
	rb_define_private_method(cRouter, "_rollback", router_rollback_m, 1);
	rb_define_private_method(cRouter, "_export", router_export_m, 2);
	rb_define_method(cRouter, "rollback_to", router_rollback_to_m, 1);
	rb_define_method(cRouter, "version", router_version_m, 0);
	rb_define_method(cRouter, "content_hash", router_content_hash_m, 0);
	rb_define_method(cRouter, "history", router_history_m, 0);
	rb_define_method(cRouter, "stats", router_stats_m, 0);
	rb_define_method(cRouter, "route", router_route_m, 3);
	rb_define_method(cRouter, "route_ksid", router_route_ksid_m, 2);
	rb_define_method(cRouter, "route_many", router_route_many_m, 3);
	rb_define_method(cRouter, "table", router_table_m, 2);
	rb_define_method(cRouter, "save_snapshot", router_save_snapshot_m, 1);
	rb_define_private_method(cRouter, "_publish_snapshot",
	                         router_publish_snapshot_m, 1);
	rb_define_method(cRouter, "pending", router_pending_m, 0);
	rb_define_method(cRouter, "approve_pending", router_approve_pending_m, 0);
	rb_define_method(cRouter, "discard_pending", router_discard_pending_m, 0);
	rb_define_method(cRouter, "fences", router_fences_m, 0);
	rb_define_method(cRouter, "fence", router_fence_m, 1);
	rb_define_method(cRouter, "lift_fence", router_lift_fence_m, 1);
	rb_define_method(cRouter, "clear_fences", router_clear_fences_m, 0);
	rb_define_method(cRouter, "add_invariant", router_add_invariant_m, 1);
	rb_define_method(cRouter, "remove_invariant", router_remove_invariant_m,
	                 1);
	rb_define_method(cRouter, "invariants", router_invariants_m, 0);
	rb_define_private_method(cRouter, "_set_sample", router_set_sample_m, 3);
	rb_define_private_method(cRouter, "_noop_route", router_noop3, 3);
	rb_define_private_method(cRouter, "_bench_c", router_bench_c, 3);

	cTable = rb_define_class_under(mShardRouter, "Table", rb_cObject);
	rb_undef_alloc_func(cTable);
	rb_undef_method(CLASS_OF(cTable), "new");
	rb_define_method(cTable, "route", table_route_m, 1);
	rb_define_method(cTable, "route_many", table_route_many_m, 1);
	rb_define_method(cTable, "keyspace", table_keyspace_m, 0);
	rb_define_method(cTable, "name", table_name_m, 0);
	rb_define_method(cTable, "router", table_router_m, 0);
	rb_define_private_method(cTable, "_noop_route", table_noop1, 1);
	rb_define_private_method(cTable, "_bench_c", table_bench_c, 1);

	rb_define_module_function(mShardRouter, "keyspace_id", keyspace_id_m, -1);
	rb_define_module_function(mShardRouter, "shard_ranges", shard_ranges_m, 1);
	rb_define_singleton_method(mShardRouter, "_verify_snapshot",
	                           verify_snapshot_m, 1);
	/* Integer batches of at least this many keys are routed without the
	 * GVL (Table#route_many, Router#route_many). */
	rb_define_const(mShardRouter, "NOGVL_BATCH_MIN", INT2FIX(NOGVL_BATCH_MIN));
	/* Version of librouter this extension was built against. */
	rb_define_const(mShardRouter, "LIBROUTER_VERSION",
	                rb_obj_freeze(rb_sprintf("%d.%d.%d", ROUTER_VERSION_MAJOR,
	                                         ROUTER_VERSION_MINOR,
	                                         ROUTER_VERSION_PATCH)));

	id_code = rb_intern("@code");
	id_status = rb_intern("@status");
	id_culprit = rb_intern("@culprit");
	id_reason = rb_intern("@reason");
	id_diff = rb_intern("@diff");
	id_path = rb_intern("@path");
	id_line = rb_intern("@line");
	id_column = rb_intern("@column");
	id_notes = rb_intern("@notes");
	id_shadow = rb_intern("@shadow");
	id_guard_code = rb_intern("@guard_code");
	for (int i = 0; i < NCODES; i++) {
		const char *name = router_errname(-i);

		if (strncmp(name, "ROUTER_", 7) == 0)
			name += 7;
		code_syms[i] = ID2SYM(rb_intern(name));
	}
	sym_none = ID2SYM(rb_intern("NONE"));
	binary_encindex = rb_ascii8bit_encindex();
}
