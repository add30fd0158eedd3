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
 * Errors are mapped to exceptions in one function, sr_make_error()
 * (errors.c).
 * What librouter reports only through its event callback (the shadow
 * verdict of a publish or check, a failed automatic snapshot) is captured
 * per calling thread; see events.c.
 * C resources held across a call that may raise (a table being published,
 * a diff, a document report) are released by rb_ensure.
 */
#include "shardrouter.h"

#define EXPORT __attribute__((visibility("default")))

VALUE sr_mShardRouter;

EXPORT void Init_shardrouter(void);
void Init_shardrouter(void)
{
	/* No global mutable state: Routers are per object, shard-name Strings
	 * are frozen and shareable. */
	rb_ext_ractor_safe(true);

	sr_mShardRouter = rb_define_module("ShardRouter");
	/* Each file defines its classes and methods; the order matters only
	 * where one file adds methods to another's class. */
	sr_init_errors();
	sr_init_values();
	sr_init_value_class();
	sr_init_events();
	sr_init_router_class();
	sr_init_publish();
	sr_init_snapshot();
	sr_init_guards();
	sr_init_table_class();
	sr_init_route();
	sr_init_vindex();
	sr_init_lookup();
	sr_init_follower();
	sr_init_halves();
	/* Version of librouter this extension was built against. */
	rb_define_const(sr_mShardRouter, "LIBROUTER_VERSION",
	                rb_obj_freeze(rb_sprintf("%d.%d.%d", ROUTER_VERSION_MAJOR,
	                                         ROUTER_VERSION_MINOR,
	                                         ROUTER_VERSION_PATCH)));
}
