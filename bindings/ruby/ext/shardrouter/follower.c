/*
 * ShardRouter::Follower: librouter's etcd follower (router_etcd_*,
 * include/librouter/router_etcd.h) publishing into a Router from
 * background threads: one etcd key holding a routing document, or a
 * Vitess cell's serving topology.  Its keyword arguments are read by
 * lib/shardrouter/follower.rb, which calls _init here.
 *
 * The follower is compiled into this same extension (extconf.rb, when
 * pkg-config finds libcurl and libprotobuf-c and protoc-c is installed):
 * a second copy of the C core in another extension would have epoch
 * globals of its own.  Built without it (SR_HAVE_FOLLOWER undefined),
 * the class exists, ShardRouter::Follower::AVAILABLE is false and
 * Follower.new raises ShardRouter::Error naming the packages to install.
 *
 * Threads.  The watcher thread calls router_etcd_queue_push (librouter's
 * event queue, router_etcd.h) with no librouter lock held; it cannot call
 * Ruby (it is not a Ruby thread): the event (its router_error included)
 * is copied into the queue.  A Ruby thread (one per #start, in the
 * queue's session of that start) runs drain: it pops without the GVL
 * (rb_thread_call_without_gvl, whose unblocking function cancels the
 * pop, so Thread#kill and interpreter exit work), and calls the on_event
 * block with the GVL.  So the block runs
 * on a Ruby thread, may call anything (#stop and #close too), and a slow
 * block never holds the watcher back: the ring keeps the newest
 * QUEUE_CAP events and counts those it dropped (status[:events_dropped]).
 *
 * Lifetimes.  The Follower takes a reference on its Router's C router
 * (as a Table does) and marks the Router object, so the router outlives
 * the C follower even when both become garbage in one GC; the free
 * function stops the follower first.  The queue is shared with the drain
 * thread, each holding a reference (router_etcd_queue_ref / _free).  #stop
 * releases the GVL around router_etcd_stop (which joins the watcher: the
 * watcher never needs the GVL, so this cannot deadlock), then ends the
 * drain thread after it has delivered what was queued, and joins it
 * unless called from it.
 *
 * fork().  The follower's threads do not exist in a child.  A Follower
 * remembers the pid that created it; in another process every method
 * raises ShardRouter::InvalidError (ESTATE) and the free function leaks the C follower
 * rather than join threads that are not there.
 */
#include "shardrouter.h"

#include <unistd.h>

#ifdef SR_HAVE_FOLLOWER
#include <router_etcd.h>
#endif

#define QUEUE_CAP 4096 /* events kept for a slow block */
#define BATCH 16       /* events taken per wake-up */

static VALUE cFollower, cEvent;

#ifdef SR_HAVE_FOLLOWER

#endif /* SR_HAVE_FOLLOWER */

typedef struct {
#ifdef SR_HAVE_FOLLOWER
	router_etcd *f;
	router_etcd_queue *q; /* NULL without a block */
#endif
	rb_router *w; /* a reference taken (sr_router_unref) */
	VALUE router, on_event, thread;
	pid_t pid;
	int started;
} rb_follower;

static void follower_mark(void *p)
{
	const rb_follower *fo = p;

	rb_gc_mark(fo->router);
	rb_gc_mark(fo->on_event);
	rb_gc_mark(fo->thread);
}

#ifdef SR_HAVE_FOLLOWER
static void *stop_nogvl(void *f)
{
	router_etcd_stop(f);
	return NULL;
}

static void bump_epoch(router_etcd_queue *q)
{
	if (q != NULL)
		router_etcd_queue_close(q);
}
#endif

static void follower_free(void *p)
{
	rb_follower *fo = p;

#ifdef SR_HAVE_FOLLOWER
	if (fo->pid == getpid()) {
		/* Joins the watcher (which never needs the GVL); the drain
		 * thread, if any, ends on its own. */
		router_etcd_free(fo->f);
		bump_epoch(fo->q);
		router_etcd_queue_free(fo->q);
	}
	/* In a forked child the C follower is leaked: its threads are not
	 * there to be joined. */
#endif
	if (fo->w != NULL && fo->pid == getpid())
		sr_router_unref(fo->w);
	xfree(fo);
}

static size_t follower_memsize(const void *p)
{
	(void)p;
	return sizeof(rb_follower);
}

static const rb_data_type_t follower_type = {
    "ShardRouter::Follower",
    {follower_mark, follower_free, follower_memsize, NULL, {NULL}},
    0,
    0,
    0};

static VALUE follower_alloc(VALUE klass)
{
	rb_follower *fo;
	VALUE obj = TypedData_Make_Struct(klass, rb_follower, &follower_type, fo);

	fo->router = fo->on_event = fo->thread = Qnil;
	fo->pid = getpid();
	return obj;
}

static rb_follower *get_follower(VALUE self)
{
	rb_follower *fo = rb_check_typeddata(self, &follower_type);

	if (fo->pid != getpid())
		sr_raise_msg(ROUTER_ESTATE,
		             "this Follower was created in process %ld; after "
		             "fork() create a new one in the child",
		             (long)fo->pid);
#ifdef SR_HAVE_FOLLOWER
	if (fo->f == NULL)
		sr_raise_msg(ROUTER_ESTATE, "the Follower is %s",
		             fo->w == NULL ? "not initialized" : "closed");
#endif
	return fo;
}

#ifdef SR_HAVE_FOLLOWER

static VALUE utf8(const char *s)
{
	return rb_utf8_str_new_cstr(s);
}

static VALUE event_to_ruby(const router_etcd_event_copy *e)
{
	int has = e->code != ROUTER_OK;

	return rb_struct_new(
	    cEvent, ID2SYM(rb_intern(router_etcd_event_kind_name(e->kind))),
	    INT2NUM(e->code),
	    has ? sr_code_sym(e->code) : Qnil, LL2NUM(e->revision),
	    ULL2NUM(e->version), ULL2NUM(e->content_hash),
	    utf8(has ? e->err.message : ""), utf8(has ? e->err.culprit : ""),
	    UINT2NUM(e->retry_ms));
}

typedef struct {
	router_etcd_queue *q;
	uint64_t mine;
	int interrupted; /* set by drain_ubf (router_etcd_queue_cancel) */
	router_etcd_event_copy batch[BATCH];
	size_t n;
	int done;
} drain_state;

/* Without the GVL: wait for events or the end of this thread's epoch. */
static void *drain_wait(void *p)
{
	drain_state *d = p;
	int rc;

	/* The first event waited for, up to BATCH without waiting again;
	 * ROUTER_ERANGE: interrupted; ROUTER_ESTATE: this start's session
	 * is over and nothing is left. */
	d->n = 0;
	rc = router_etcd_queue_pop(d->q, d->mine, &d->interrupted, -1,
	                           &d->batch[0], sizeof d->batch[0]);
	while (rc == ROUTER_OK && ++d->n < BATCH)
		rc = router_etcd_queue_pop(d->q, d->mine, &d->interrupted, 0,
		                           &d->batch[d->n],
		                           sizeof d->batch[d->n]);
	d->done = rc == ROUTER_ESTATE;
	return NULL;
}

/* The unblocking function: Thread#kill, Thread#raise, exit. */
static void drain_ubf(void *p)
{
	drain_state *d = p;

	router_etcd_queue_cancel(d->q, &d->interrupted);
}

typedef struct {
	VALUE block, ev;
} call_args;

static VALUE call_block(VALUE p)
{
	const call_args *a = (const call_args *)p;

	return rb_funcall(a->block, rb_intern("call"), 1, a->ev);
}

typedef struct {
	drain_state *d;
	VALUE block;
} drain_args;

static VALUE drain_loop(VALUE p)
{
	drain_args *a = (drain_args *)p;
	drain_state *d = a->d;

	for (;;) {
		d->interrupted = 0;
		rb_thread_call_without_gvl(drain_wait, d, drain_ubf, d);
		for (size_t i = 0; i < d->n; i++) {
			call_args ca = {a->block, event_to_ruby(&d->batch[i])};
			int state = 0;

			rb_protect(call_block, (VALUE)&ca, &state);
			if (state != 0) {
				VALUE err = rb_errinfo();

				rb_set_errinfo(Qnil);
				if (!rb_obj_is_kind_of(err, rb_eStandardError))
					rb_jump_tag(state); /* kill, exit */
				rb_warn("ShardRouter::Follower on_event raised "
				        "%" PRIsVALUE ": %" PRIsVALUE,
				        rb_obj_class(err), rb_funcall(err,
				        rb_intern("message"), 0));
			}
		}
		if (d->done)
			break;
		rb_thread_check_ints(); /* Thread#kill */
	}
	return Qnil;
}

static VALUE drain_done(VALUE p)
{
	drain_args *a = (drain_args *)p;

	router_etcd_queue_free(a->d->q);
	xfree(a->d);
	return Qnil;
}

/* The drain thread's body; arg is an Array [block, queue pointer as
 * Integer, epoch], kept alive by the thread's own variable (start). */
static VALUE drain(void *arg)
{
	VALUE ary = (VALUE)arg;
	drain_args a;

	a.block = rb_ary_entry(ary, 0);
	a.d = ALLOC(drain_state);
	memset(a.d, 0, sizeof *a.d);
	a.d->q = (router_etcd_queue *)(uintptr_t)NUM2ULL(rb_ary_entry(ary, 1));
	a.d->mine = NUM2ULL(rb_ary_entry(ary, 2));
	return rb_ensure(drain_loop, (VALUE)&a, drain_done, (VALUE)&a);
}

static void end_drain_thread(rb_follower *fo, int join)
{
	VALUE th = fo->thread;

	bump_epoch(fo->q);
	if (NIL_P(th))
		return;
	fo->thread = Qnil;
	if (join && th != rb_thread_current())
		rb_funcall(th, rb_intern("join"), 0);
}

static void stop_impl(rb_follower *fo, int join)
{
	if (fo->started) {
		fo->started = 0;
		rb_thread_call_without_gvl(stop_nogvl, fo->f, RUBY_UBF_IO,
		                           NULL);
	}
	end_drain_thread(fo, join);
}

typedef struct {
	router_etcd *f;
	router_error err;
	int rc;
} start_call;

static void *start_nogvl(void *p)
{
	start_call *c = p;

	c->rc = router_etcd_start(c->f, &c->err);
	return NULL;
}

/* An option of the Hash built by follower.rb: a String without NUL, or
 * nil (NULL).  The String is kept in keep (marked while _init runs). */
static const char *opt_str(VALUE opts, const char *k, VALUE keep)
{
	VALUE v = rb_hash_aref(opts, ID2SYM(rb_intern(k)));

	if (NIL_P(v))
		return NULL;
	rb_ary_push(keep, v);
	return sr_cstr_arg(&v, k);
}

static unsigned opt_uint(VALUE opts, const char *k)
{
	return (unsigned)sr_uint_arg(rb_hash_aref(opts, ID2SYM(rb_intern(k))),
	                             0, UINT_MAX, k);
}

#endif /* SR_HAVE_FOLLOWER */

/* call-seq: _init(router, opts, on_event) -- see Follower#initialize
 * (lib/shardrouter/follower.rb) */
static VALUE follower_init(VALUE self, VALUE router, VALUE opts,
                           VALUE on_event)
{
	rb_follower *fo = rb_check_typeddata(self, &follower_type);

	if (fo->w != NULL)
		sr_raise_msg(ROUTER_ESTATE, "ShardRouter::Follower already "
		                            "initialized");
	if (!rb_obj_is_kind_of(router, sr_cRouter))
		rb_raise(rb_eTypeError, "router must be a ShardRouter::Router, "
		         "not %" PRIsVALUE, rb_obj_class(router));
	Check_Type(opts, T_HASH);
	if (!NIL_P(on_event) && !rb_respond_to(on_event, rb_intern("call")))
		rb_raise(rb_eTypeError, "on_event must respond to #call");
#ifndef SR_HAVE_FOLLOWER
	rb_raise(sr_eError,
	             "ShardRouter was built without the etcd follower: install "
	             "libcurl4-openssl-dev, libprotobuf-c-dev and "
	             "protobuf-c-compiler (Debian names; pkg-config must find "
	             "libcurl and libprotobuf-c) and reinstall the gem");
#else
	router_etcd_options o = ROUTER_ETCD_OPTIONS_INIT;
	rb_router *w = get_router(router);
	VALUE keep = rb_ary_new();
	const char *src;
	router_error err;
	router_etcd_queue *q = NULL;
	int rc;

	o.endpoints = opt_str(opts, "endpoints", keep);
	o.key = opt_str(opts, "key", keep);
	src = opt_str(opts, "source", keep);
	o.vitess_cell = opt_str(opts, "cell", keep);
	o.vitess_topo_root = opt_str(opts, "topo_root", keep);
	o.vitess_tablet_type = opt_str(opts, "tablet_type", keep);
	o.vitess_cell_endpoints = opt_str(opts, "cell_endpoints", keep);
	o.instance_id = opt_str(opts, "instance", keep);
	o.status_prefix = opt_str(opts, "status_prefix", keep);
	o.snapshot_path = opt_str(opts, "snapshot", keep);
	o.tls_ca_file = opt_str(opts, "tls_ca_file", keep);
	o.tls_cert_file = opt_str(opts, "tls_cert_file", keep);
	o.tls_key_file = opt_str(opts, "tls_key_file", keep);
	o.username = opt_str(opts, "username", keep);
	o.password = opt_str(opts, "password", keep);
	o.lease_ttl_s = opt_uint(opts, "lease_ttl");
	o.backoff_min_ms = opt_uint(opts, "backoff_min_ms");
	o.backoff_max_ms = opt_uint(opts, "backoff_max_ms");
	o.request_timeout_ms = opt_uint(opts, "request_timeout_ms");
	o.vitess_debounce_ms = opt_uint(opts, "debounce_ms");
	o.publish_flags = RTEST(rb_hash_aref(opts, ID2SYM(rb_intern(
	                      "destructive"))))
	                      ? ROUTER_PUBLISH_DESTRUCTIVE
	                      : 0;
	if (src == NULL || strcmp(src, "document") == 0)
		o.source = ROUTER_ETCD_SOURCE_DOCUMENT;
	else if (strcmp(src, "vitess") == 0)
		o.source = ROUTER_ETCD_SOURCE_VITESS;
	else
		rb_raise(rb_eArgError,
		         "source must be :document or :vitess, not :%s", src);
	if (!NIL_P(on_event)) {
		if (router_etcd_queue_create(&q, QUEUE_CAP, &err) != ROUTER_OK)
			rb_memerror(); /* ENOMEM: the capacity is valid */
		o.on_event = router_etcd_queue_push;
		o.on_event_arg = q;
	}
	rc = router_etcd_create(&fo->f, w->r, &o, &err);
	RB_GC_GUARD(keep);
	if (rc != ROUTER_OK) {
		router_etcd_queue_free(q);
		sr_raise(rc, &err, O_CALL, Qnil);
	}
	fo->q = q;
	__atomic_add_fetch(&w->refs, 1, __ATOMIC_ACQ_REL);
	fo->w = w;
	fo->router = router;
	fo->on_event = on_event;
#endif
	return self;
}

/*
 * Load the snapshot (if any and the router serves nothing), start the
 * follower's threads and return: etcd is read asynchronously, and an
 * unreachable etcd is retried, not an error.
 *
 * @return [self]
 * @raise [ShardRouter::Error] already started (ESTATE), closed, or a
 *   thread or libcurl handle could not be made
 */
static VALUE follower_start(VALUE self)
{
	rb_follower *fo = get_follower(self);

#ifdef SR_HAVE_FOLLOWER
	start_call c;

	if (fo->started)
		sr_raise_msg(ROUTER_ESTATE, "the Follower is already started");
	if (fo->q != NULL) {
		uint64_t epoch = router_etcd_queue_session(fo->q);
		VALUE args = rb_ary_new_from_args(3, fo->on_event,
		                                  ULL2NUM((uintptr_t)fo->q),
		                                  ULL2NUM(epoch));

		router_etcd_queue_ref(fo->q);
		/* rb_thread_create does not mark its argument: the thread's
		 * own variable does, set before it can run (we hold the
		 * GVL). */
		fo->thread = rb_thread_create(drain, (void *)args);
		rb_thread_local_aset(fo->thread, rb_intern("shardrouter_follower"),
		                     args);
		rb_funcall(fo->thread, rb_intern("name="), 1,
		           rb_str_new_cstr("shardrouter-follower-events"));
		RB_GC_GUARD(args);
	}
	c.f = fo->f;
	rb_thread_call_without_gvl(start_nogvl, &c, RUBY_UBF_IO, NULL);
	if (c.rc != ROUTER_OK) {
		end_drain_thread(fo, 1);
		sr_raise(c.rc, &c.err, O_CALL, Qnil);
	}
	fo->started = 1;
#else
	(void)fo;
#endif
	return self;
}

/*
 * Stop the follower's threads (a request in flight is interrupted),
 * revoke its status key's lease, deliver the events still queued and end
 * the event thread. The table in service stays; #start resumes after the
 * last revision seen. No-op when not started; may be called from the
 * on_event block.
 *
 * @return [self]
 */
static VALUE follower_stop(VALUE self)
{
	rb_follower *fo = get_follower(self);

#ifdef SR_HAVE_FOLLOWER
	stop_impl(fo, 1);
#else
	(void)fo;
#endif
	return self;
}

/*
 * #stop, then free the follower: every method but #close raises
 * ShardRouter::Error afterwards. Idempotent.
 *
 * @return [nil]
 */
static VALUE follower_close(VALUE self)
{
	rb_follower *fo = rb_check_typeddata(self, &follower_type);

#ifdef SR_HAVE_FOLLOWER
	if (fo->f == NULL)
		return Qnil;
	get_follower(self);
	stop_impl(fo, 1);
	router_etcd_free(fo->f);
	fo->f = NULL;
#else
	(void)fo;
#endif
	return Qnil;
}

#ifdef SR_HAVE_FOLLOWER
static VALUE error_hash(const router_error *e)
{
	VALUE h;

	if (e->code == ROUTER_OK)
		return Qnil;
	h = rb_hash_new();
	sr_hset(h, "code", INT2NUM(e->code));
	sr_hset(h, "name", sr_code_sym(e->code));
	sr_hset(h, "reason", utf8(e->message));
	sr_hset(h, "culprit", utf8(e->culprit));
	return h;
}

/* The last latent event's finding: nil before any (revision 0), else a
 * Hash as error_hash's, a cleared finding kept (code 0, name nil, its
 * "cleared" reason), which error_hash would turn into nil. */
static VALUE latent_hash(const router_etcd_status *s)
{
	const router_error *e = &s->latent_finding;
	VALUE h;

	if (s->latent_revision == 0)
		return Qnil;
	h = rb_hash_new();
	sr_hset(h, "code", INT2NUM(e->code));
	sr_hset(h, "name", e->code != ROUTER_OK ? sr_code_sym(e->code) : Qnil);
	sr_hset(h, "reason", utf8(e->message));
	sr_hset(h, "culprit", utf8(e->culprit));
	return h;
}
#endif

/*
 * What the follower has done: a Hash of :state (:idle, :connecting,
 * :following, :retrying), :version, :content_hash, :from_snapshot,
 * :revision_seen, :revision_applied, :revision_refused, :refusal and
 * :last_error (nil or a Hash of :code, :name, :reason, :culprit),
 * :accepted, :refused, :stale, :reconnects, :compactions,
 * :status_writes, :skipped, :stuck_since_unix_ms, :stuck_retries,
 * :refused_unix_ms, :events_dropped; Vitess source: :latent (how many
 * global values the next rebuild would refuse now; 0: none),
 * :latent_finding (nil before any :latent event, else the last one's
 * Hash of :code, :name, :reason, :culprit: code 0 and name nil when it
 * cleared a finding), :latent_revision (its key's mod revision; 0: none)
 * and :latent_key (its key; nil: none). Never blocks on the network.
 *
 * @return [Hash]
 */
static VALUE follower_status(VALUE self)
{
	rb_follower *fo = get_follower(self);

#ifdef SR_HAVE_FOLLOWER
	router_etcd_status s;
	uint64_t dropped = 0;
	VALUE h = rb_hash_new();

	router_etcd_status_get(fo->f, &s, sizeof s);
	if (fo->q != NULL)
		dropped = router_etcd_queue_dropped(fo->q);
	sr_hset(h, "state", ID2SYM(rb_intern(router_etcd_state_name(s.state))));
	sr_hset(h, "version", ULL2NUM(s.version));
	sr_hset(h, "content_hash", ULL2NUM(s.content_hash));
	sr_hset(h, "from_snapshot", s.from_snapshot ? Qtrue : Qfalse);
	sr_hset(h, "revision_seen", LL2NUM(s.revision_seen));
	sr_hset(h, "revision_applied", LL2NUM(s.revision_applied));
	sr_hset(h, "revision_refused", LL2NUM(s.revision_refused));
	sr_hset(h, "refusal", error_hash(&s.refusal));
	sr_hset(h, "last_error", error_hash(&s.last_error));
	sr_hset(h, "accepted", ULL2NUM(s.accepted));
	sr_hset(h, "refused", ULL2NUM(s.refused));
	sr_hset(h, "stale", ULL2NUM(s.stale));
	sr_hset(h, "reconnects", ULL2NUM(s.reconnects));
	sr_hset(h, "compactions", ULL2NUM(s.compactions));
	sr_hset(h, "status_writes", ULL2NUM(s.status_writes));
	sr_hset(h, "skipped", ULL2NUM(s.skipped));
	sr_hset(h, "stuck_since_unix_ms", LL2NUM(s.stuck_since_unix_ms));
	sr_hset(h, "stuck_retries", ULL2NUM(s.stuck_retries));
	sr_hset(h, "refused_unix_ms", LL2NUM(s.refused_unix_ms));
	sr_hset(h, "events_dropped", ULL2NUM(dropped));
	sr_hset(h, "latent", ULL2NUM(s.latent));
	sr_hset(h, "latent_finding", latent_hash(&s));
	sr_hset(h, "latent_revision", LL2NUM(s.latent_revision));
	sr_hset(h, "latent_key", s.latent_revision != 0 ? utf8(s.latent_key)
	                                                : Qnil);
	return h;
#else
	(void)fo;
	return Qnil;
#endif
}

#ifdef SR_HAVE_FOLLOWER
typedef struct {
	router_etcd *f;
	int64_t revision;
	unsigned ms;
	int rc;
} wait_call;

static void *wait_nogvl(void *p)
{
	wait_call *c = p;

	c->rc = router_etcd_wait(c->f, c->revision, c->ms, NULL);
	return NULL;
}
#endif

/*
 * Wait until the follower has handled etcd revision +revision+ (accepted
 * or refused it; Vitess source: built a table at or after it, or seen it
 * with nothing left to build) or +timeout+ seconds passed. Waits without
 * the GVL, in slices of 100 ms between which interrupts are checked (the
 * block may call it: it does not run on librouter's thread).
 *
 * @param revision [Integer]
 * @param timeout [Numeric] seconds
 * @return [Boolean] false on timeout
 */
static VALUE follower_wait(int argc, VALUE *argv, VALUE self)
{
	rb_follower *fo = get_follower(self);
	VALUE rev, tmo;
	double timeout;

	rb_scan_args(argc, argv, "11", &rev, &tmo);
	timeout = NIL_P(tmo) ? 10.0 : NUM2DBL(tmo);
	if (!(timeout >= 0.0))
		rb_raise(rb_eArgError, "timeout must be >= 0 seconds");
#ifdef SR_HAVE_FOLLOWER
	wait_call c = {fo->f, NUM2LL(rev), 0, 0};
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		double left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout - ((double)(now.tv_sec - t0.tv_sec) +
		                  (double)(now.tv_nsec - t0.tv_nsec) / 1e9);
		c.ms = left <= 0 ? 0 : left > 0.1 ? 100 : (unsigned)(left * 1000);
		rb_thread_call_without_gvl(wait_nogvl, &c, RUBY_UBF_IO, NULL);
		if (c.rc == ROUTER_OK)
			return Qtrue;
		if (left <= 0)
			return Qfalse;
		rb_thread_check_ints();
	}
#else
	(void)fo;
	return Qfalse;
#endif
}

/* @return [String] this member's name in the fleet */
static VALUE follower_instance_id(VALUE self)
{
	rb_follower *fo = get_follower(self);

#ifdef SR_HAVE_FOLLOWER
	return utf8(router_etcd_instance_id(fo->f));
#else
	(void)fo;
	return Qnil;
#endif
}

/* @return [String] the etcd key of this member's status */
static VALUE follower_status_key(VALUE self)
{
	rb_follower *fo = get_follower(self);

#ifdef SR_HAVE_FOLLOWER
	return utf8(router_etcd_status_key(fo->f));
#else
	(void)fo;
	return Qnil;
#endif
}

/* @return [ShardRouter::Router] the router it publishes into */
static VALUE follower_router(VALUE self)
{
	return ((rb_follower *)rb_check_typeddata(self, &follower_type))->router;
}

/* @return [Boolean] true between #start and #stop */
static VALUE follower_started_p(VALUE self)
{
	return ((rb_follower *)rb_check_typeddata(self, &follower_type))->started
	           ? Qtrue
	           : Qfalse;
}

void sr_init_follower(void)
{
	VALUE c = cFollower =
	    rb_define_class_under(sr_mShardRouter, "Follower", rb_cObject);

	rb_define_alloc_func(c, follower_alloc);
	rb_undef_method(c, "initialize_copy");
	rb_define_private_method(c, "_init", follower_init, 3);
	rb_define_method(c, "start", follower_start, 0);
	rb_define_method(c, "stop", follower_stop, 0);
	rb_define_method(c, "close", follower_close, 0);
	rb_define_method(c, "status", follower_status, 0);
	rb_define_method(c, "wait", follower_wait, -1);
	rb_define_method(c, "instance_id", follower_instance_id, 0);
	rb_define_method(c, "status_key", follower_status_key, 0);
	rb_define_method(c, "router", follower_router, 0);
	rb_define_method(c, "started?", follower_started_p, 0);
	/* One event from the follower, passed to the on_event block. */
	cEvent = rb_struct_define_under(c, "Event", "kind", "code", "name",
	                                "revision", "version", "content_hash",
	                                "reason", "culprit", "retry_ms", NULL);
#ifdef SR_HAVE_FOLLOWER
	rb_define_const(c, "AVAILABLE", Qtrue);
#else
	rb_define_const(c, "AVAILABLE", Qfalse);
#endif
}
