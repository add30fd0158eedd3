/*
 * Publishing: loading a routing document, publish and check through the
 * guards, rollback, export, and approving a quarantined table (a publish
 * of the pending one).  C resources held across a call that may raise (the
 * table being published, its diff, the document report) are released by
 * rb_ensure.
 */
#include "shardrouter.h"

static VALUE cChange, cNote;

VALUE sr_diff_to_ruby(const router_diff *d)
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
	case ROUTER_DOC_NOTE_RULE: return ID2SYM(rb_intern("rule"));
	case ROUTER_DOC_NOTE_KEYSPACE: return ID2SYM(rb_intern("keyspace"));
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
		    cNote, note_kind_sym(no->kind), sr_code_sym(no->error.code),
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
	int eno; /* errno when a file could not be opened or read */
	/* publish */
	rb_router *w;
	unsigned flags;
	VALUE src, keyspace, shards;
	event_capture cap;
} load_args;

static void *load_nogvl(void *p)
{
	load_args *a = p;

	if (a->path != NULL) {
		a->rc = router_doc_load_file(a->path, &a->opt, &a->t, &a->rep,
		                             &a->err);
		/* Read before anything (taking the GVL back) clobbers it. */
		a->eno = a->rc == ROUTER_EIO ? errno : 0;
	} else
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

		s[i].keyspace = sr_cstr_arg(&ks, "shards keyspace");
		s[i].shards = names + k;
		s[i].nshards = (size_t)RARRAY_LEN(list);
		for (long j = 0; j < RARRAY_LEN(list); j++) {
			VALUE name = RARRAY_AREF(list, j);

			names[k++] = sr_cstr_arg(&name, "shard name");
		}
	}
}

/* Load the document described by a (GVL released when large), warn about
 * what Vitess would also skip, raise the code's exception on failure
 * (with the document's JSON path, line, column and notes). */
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
		rb_ary_push(extra, a->eno ? INT2FIX(a->eno) : Qnil);
		sr_raise(a->rc, &a->err, O_DOC, extra);
	}
	for (size_t i = 0; a->rep != NULL; i++) {
		const router_doc_note *no = router_doc_report_get(a->rep, i);

		if (no == NULL)
			break;
		if (no->kind == ROUTER_DOC_NOTE_UNKNOWN ||
		    no->kind == ROUTER_DOC_NOTE_UNSUPPORTED ||
		    no->kind == ROUTER_DOC_NOTE_RULE ||
		    no->kind == ROUTER_DOC_NOTE_KEYSPACE)
			rb_warn("shardrouter: %s: %s", no->path ? no->path : "",
			        no->error.message);
	}
}

/* Raise the refusal of a publish or approval: the diff, the shadow
 * verdict, and for a quarantine the guard's code (read from the pending
 * table, which cannot change under us: we hold the GVL and the router's
 * writers are Ruby threads). */
void sr_raise_refusal(rb_router *w, int rc, const router_error *err,
                      const router_diff *diff, const event_capture *cap)
{
	VALUE exc = sr_make_error(rc, err, O_PUBLISH,
	                          diff ? sr_diff_to_ruby(diff) : Qnil);

	if (rb_obj_is_kind_of(exc, sr_eRefused) && cap != NULL)
		rb_ivar_set(exc, sr_id_shadow, sr_capture_shadow_to_ruby(cap));
	if (rc == ROUTER_EQUARANTINED) {
		router_pending_info info;

		rb_ivar_set(exc, sr_id_guard_code,
		            router_pending(w->r, &info, NULL, NULL) == ROUTER_OK
		                ? sr_code_sym(info.reason.code)
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
		a->opt.keyspace = sr_cstr_arg(&a->keyspace, "keyspace");
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
	sr_writer(a->w, &c);
	/* Accepted, or quarantined: the router's now. */
	if ((c.rc == ROUTER_OK && !(a->flags & ROUTER_PUBLISH_DRY_RUN)) ||
	    c.rc == ROUTER_EQUARANTINED)
		a->t = NULL;
	if (c.rc != ROUTER_OK)
		sr_raise_refusal(a->w, c.rc, &c.err, a->diff, &a->cap);
	sr_capture_warn(&a->cap);
	RB_GC_GUARD(tmp1);
	RB_GC_GUARD(tmp2);
	if (a->flags & ROUTER_PUBLISH_DRY_RUN)
		return rb_assoc_new(a->diff ? sr_diff_to_ruby(a->diff)
		                            : rb_obj_freeze(rb_ary_new()),
		                    sr_capture_shadow_to_ruby(&a->cap));
	return ULL2NUM(router_serving_version(a->w->r));
}

static VALUE publish_cleanup(VALUE p)
{
	load_args *a = (load_args *)p;

	router_table_free(a->t);
	router_doc_report_free(a->rep);
	router_diff_free(a->diff);
	sr_capture_free(&a->cap);
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
	a.opt.version = sr_uint_arg(version, 0, UINT64_MAX, "version");
	a.flags = (unsigned)sr_uint_arg(flags, 0, PUBLISH_FLAGS, "flags");
	/* A frozen String cannot change under a GVL-released parse; a shared
	 * copy of a mutable one costs no copy of the bytes. */
	StringValue(src);
	src = rb_str_new_frozen(src);
	if (RTEST(is_path)) {
		a.path = sr_cstr_arg(&src, "path");
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

typedef struct rollback_args {
	rb_router *w;
	writer_call *c;
	event_capture cap;
} rollback_args;

static VALUE rollback_body(VALUE p)
{
	rollback_args *a = (rollback_args *)p;

	a->c->cap = &a->cap;
	sr_writer(a->w, a->c);
	if (a->c->rc != ROUTER_OK)
		sr_raise(a->c->rc, &a->c->err, O_CALL, Qnil);
	sr_capture_warn(&a->cap);
	return ULL2NUM(router_serving_version(a->w->r));
}

static VALUE rollback_cleanup(VALUE p)
{
	sr_capture_free(&((rollback_args *)p)->cap);
	return Qnil;
}

/* A rollback: history errors raise, a failed automatic snapshot warns. */
static VALUE rollback_call(rb_router *w, writer_call *c)
{
	rollback_args a;

	memset(&a, 0, sizeof a);
	a.w = w;
	a.c = c;
	return rb_ensure(rollback_body, (VALUE)&a, rollback_cleanup,
	                 (VALUE)&a);
}

/* call-seq: _rollback(steps) -- see Router#rollback */
static VALUE router_rollback_m(VALUE self, VALUE steps)
{
	rb_router *w = get_router(self);
	writer_call c;

	memset(&c, 0, sizeof c);
	c.op = W_ROLLBACK;
	c.n = sr_uint_arg(steps, 1, UINT_MAX, "steps");
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
	c.n = sr_uint_arg(version, 0, UINT64_MAX, "version");
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
	d.keyspace =
	    NIL_P(keyspace) ? NULL : sr_cstr_arg(&keyspace, "keyspace");
	d.flags = (unsigned)sr_uint_arg(flags, 0, 3, "flags");
	d.rc = router_inspect(w->r, dump_fn, &d);
	if (d.rc == NOTHING_IN_SERVICE)
		return Qnil;
	if (d.rc != ROUTER_OK)
		sr_raise(d.rc, &d.err, O_CALL, Qnil);
	str = rb_protect(utf8_str_from_c, (VALUE)d.out, &d.rc);
	free(d.out);
	if (d.rc)
		rb_jump_tag(d.rc);
	RB_GC_GUARD(keyspace);
	return str;
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
	sr_writer(a->w, &c);
	if (c.rc == ROUTER_ENOTFOUND)
		sr_raise(c.rc, &c.err, O_CALL, Qnil);
	if (c.rc != ROUTER_OK)
		sr_raise_refusal(a->w, c.rc, &c.err, a->diff, &a->cap);
	sr_capture_warn(&a->cap);
	return ULL2NUM(router_serving_version(a->w->r));
}

static VALUE approve_cleanup(VALUE p)
{
	approve_args *a = (approve_args *)p;

	router_diff_free(a->diff);
	sr_capture_free(&a->cap);
	a->diff = NULL;
	return Qnil;
}

/*
 * Publish the pending table as if +allow_destructive+ were given (the
 * empty, shrink and shadow guards are overridden). Fences, invariants and
 * the version guard still apply; if one refuses, the table stays pending.
 *
 * @return [Integer] the version now in service
 * @raise [ShardRouter::NotFoundError] nothing is pending (+:ENOTFOUND+)
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

void sr_init_publish(void)
{
	VALUE c = sr_cRouter;

	cChange = rb_struct_define_under(sr_mShardRouter, "Change", "kind",
	                                 "op", "keyspace", "name", "detail",
	                                 NULL);
	cNote = rb_struct_define_under(sr_mShardRouter, "Note", "kind", "code",
	                               "path", "culprit", "message", "line",
	                               "column", NULL);
	rb_define_private_method(c, "_publish", router_publish_m, 7);
	rb_define_private_method(c, "_rollback", router_rollback_m, 1);
	rb_define_private_method(c, "_export", router_export_m, 2);
	rb_define_method(c, "rollback_to", router_rollback_to_m, 1);
	rb_define_method(c, "approve_pending", router_approve_pending_m, 0);
}
