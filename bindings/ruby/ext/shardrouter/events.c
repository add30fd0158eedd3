/*
 * Events: what a writer call learns from librouter's callback, and the
 * writer calls themselves.
 *
 * librouter reports the shadow verdict of a publish or check, and a failed
 * automatic snapshot, only through the router's event callback, which runs
 * in the publishing thread, under the writer lock, before router_publish
 * (or router_rollback, router_pending_approve) returns.  Each writer call
 * below points this thread's `capture` at a struct on its stack; the
 * callback keeps copies of the events it needs, made by the core's
 * router_event_copy (plain malloc'd C memory: it must not touch Ruby, as
 * a GC there could sweep a Table of this router, whose router_handle_free
 * waits for the writer lock we hold), and the call turns them into Ruby
 * objects after librouter returns and frees them (router_event_free).
 * Events of other threads' calls, or of calls made without a capture,
 * are ignored.
 */
#include "shardrouter.h"

static VALUE cShadowStat, cShadowVerdict;

static __thread event_capture *tls_capture;

/* Keep a copy of ev in *slot (replacing an older one).  Out of memory:
 * no copy, and the call reports nothing of it (the publish stands). */
static void keep_event(router_event **slot, const router_event *ev)
{
	router_event *copy;

	if (router_event_copy(ev, &copy) != ROUTER_OK)
		return;
	router_event_free(*slot);
	*slot = copy;
}

void sr_on_router_event(void *arg, const router_event *ev)
{
	event_capture *c = tls_capture;

	if (c == NULL)
		return;
	if ((ev->kind == ROUTER_EVENT_PUBLISH ||
	     ev->kind == ROUTER_EVENT_CHECK) &&
	    ev->shadow != NULL)
		keep_event(&c->shadowed, ev);
	if (ev->kind == ROUTER_EVENT_SNAPSHOT && ev->code != ROUTER_OK)
		keep_event(&c->snapshot_failed, ev);
}

void sr_capture_free(event_capture *c)
{
	router_event_free(c->shadowed);
	router_event_free(c->snapshot_failed);
	c->shadowed = NULL;
	c->snapshot_failed = NULL;
}

static VALUE shadow_stat_to_ruby(const router_shadow_stat *st,
                                 const char *keyspace)
{
	return rb_obj_freeze(rb_struct_new(
	    cShadowStat, rb_str_freeze(rb_utf8_str_new_cstr(keyspace)),
	    ULL2NUM(st->keys), ULL2NUM(st->routed), ULL2NUM(st->moved),
	    ULL2NUM(st->unroutable), ULL2NUM(st->newly_routable)));
}

/* The captured verdict as a ShadowVerdict, nil when there was none. */
VALUE sr_capture_shadow_to_ruby(const event_capture *c)
{
	const router_shadow_verdict *v;
	router_shadow_stat totals;
	size_t n;
	VALUE ks;

	if (c->shadowed == NULL || c->shadowed->shadow == NULL)
		return Qnil;
	v = c->shadowed->shadow;
	n = router_shadow_count(v);
	ks = rb_ary_new_capa((long)n);
	for (size_t i = 0; i < n; i++) {
		const router_shadow_stat *st = router_shadow_get(v, i);

		rb_ary_push(ks, shadow_stat_to_ruby(st, st->keyspace));
	}
	router_shadow_totals(v, &totals);
	return rb_obj_freeze(rb_struct_new(cShadowVerdict, rb_obj_freeze(ks),
	                                   shadow_stat_to_ruby(&totals, "")));
}

/* A failed automatic snapshot does not undo the publish: warn. */
void sr_capture_warn(const event_capture *c)
{
	const router_event *ev = c->snapshot_failed;
	const char *culprit, *message;

	if (ev == NULL)
		return;
	culprit = ev->error != NULL ? ev->error->culprit : "";
	message = ev->error != NULL ? ev->error->message : "";
	rb_warn("shardrouter: snapshot not saved: %s%s%s (%s)", culprit,
	        culprit[0] ? ": " : "", message, router_errname(ev->code));
}

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
void sr_writer(rb_router *w, writer_call *c)
{
	c->r = w->r;
	if (c->op == W_SAVE ||
	    (w->autosave && !(c->op == W_PUBLISH &&
	                      (c->flags & ROUTER_PUBLISH_DRY_RUN))))
		rb_thread_call_without_gvl(writer_run, c, NULL, NULL);
	else
		writer_run(c);
}

void sr_init_events(void)
{
	cShadowStat = rb_struct_define_under(sr_mShardRouter, "ShadowStat",
	                                     "keyspace", "keys", "routed",
	                                     "moved", "unroutable",
	                                     "newly_routable", NULL);
	cShadowVerdict = rb_struct_define_under(
	    sr_mShardRouter, "ShadowVerdict", "keyspaces", "totals", NULL);
}
