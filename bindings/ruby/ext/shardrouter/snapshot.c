/*
 * Last-known-good snapshots: Router#save_snapshot,
 * ShardRouter.verify_snapshot and Router.from_snapshot.  Files are read
 * and written without the GVL (an fsync may take milliseconds).
 */
#include "shardrouter.h"

/*
 * Write the table in service to +path+ as a last-known-good snapshot,
 * atomically: into a new temporary file beside it, fsync, rename over
 * +path+, fsync of the directory. A crash leaves the old file or the new
 * one, never a mix. Publishers wait meanwhile; lookups do not, and other
 * Ruby threads run (the GVL is released).
 *
 * @param path [String, Pathname]
 * @return [self]
 * @raise [ShardRouter::NotFoundError] nothing published (+:ENOTFOUND+)
 * @raise [ShardRouter::ResourceError] the file could not be written
 *   (+:EIO+, culprit the path); nothing at +path+ changed
 */
static VALUE router_save_snapshot_m(VALUE self, VALUE path)
{
	rb_router *w = get_router(self);
	writer_call c;

	path = sr_path_arg(path);
	memset(&c, 0, sizeof c);
	c.op = W_SAVE;
	c.path = RSTRING_PTR(path);
	sr_writer(w, &c);
	RB_GC_GUARD(path);
	if (c.rc != ROUTER_OK)
		sr_raise(c.rc, &c.err, O_CALL, Qnil);
	return self;
}

typedef struct snap_args {
	const char *path;
	router_table *t; /* load: the table read */
	int load;
	uint64_t version, hash;
	router_error err;
	int rc;
	int eno; /* errno when the file could not be opened or read */
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
	/* Read before anything (taking the GVL back) clobbers it. */
	a->eno = a->rc == ROUTER_EIO || a->rc == ROUTER_ENOTFOUND ? errno : 0;
	return NULL;
}

/* call-seq: ShardRouter._verify_snapshot(path) -- see
 * ShardRouter.verify_snapshot */
static VALUE verify_snapshot_m(VALUE mod, VALUE path)
{
	snap_args a;
	VALUE h;

	path = sr_path_arg(path);
	memset(&a, 0, sizeof a);
	a.path = RSTRING_PTR(path);
	rb_thread_call_without_gvl(snap_nogvl, &a, RUBY_UBF_IO, NULL);
	RB_GC_GUARD(path);
	if (a.rc != ROUTER_OK)
		sr_raise(a.rc, &a.err, O_SNAPSHOT, a.eno ? INT2FIX(a.eno) : Qnil);
	h = rb_hash_new();
	sr_hset(h, "version", ULL2NUM(a.version));
	sr_hset(h, "content_hash", ULL2NUM(a.hash));
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
		sr_raise(s->a.rc, &s->a.err, O_SNAPSHOT,
		         s->a.eno ? INT2FIX(s->a.eno) : Qnil);
	memset(&c, 0, sizeof c);
	c.op = W_PUBLISH;
	c.t = s->a.t;
	c.diff = &s->diff;
	c.cap = &s->cap;
	sr_writer(s->w, &c);
	if (c.rc == ROUTER_OK)
		s->a.t = NULL; /* the router's now */
	if (c.rc != ROUTER_OK)
		sr_raise_refusal(s->w, c.rc, &c.err, s->diff, &s->cap);
	sr_capture_warn(&s->cap);
	return ULL2NUM(router_serving_version(s->w->r));
}

static VALUE snap_publish_cleanup(VALUE p)
{
	snap_publish *s = (snap_publish *)p;

	router_table_free(s->a.t);
	router_diff_free(s->diff);
	sr_capture_free(&s->cap);
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

	path = sr_path_arg(path);
	memset(&s, 0, sizeof s);
	s.w = get_router(self);
	s.a.path = RSTRING_PTR(path);
	s.a.load = 1;
	ret = rb_ensure(snap_publish_body, (VALUE)&s, snap_publish_cleanup,
	                (VALUE)&s);
	RB_GC_GUARD(path);
	return ret;
}

void sr_init_snapshot(void)
{
	rb_define_method(sr_cRouter, "save_snapshot", router_save_snapshot_m,
	                 1);
	rb_define_private_method(sr_cRouter, "_publish_snapshot",
	                         router_publish_snapshot_m, 1);
	rb_define_singleton_method(sr_mShardRouter, "_verify_snapshot",
	                           verify_snapshot_m, 1);
}
