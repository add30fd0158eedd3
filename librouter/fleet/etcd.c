/*
 * The etcd follower (router_etcd.h).
 *
 * Design.  Two threads per started follower, each with its own connection
 * (one libcurl easy handle):
 *
 *   watcher   range the key once, then watch it from the revision after
 *             the last one seen; load each new revision, router_publish
 *             it, record the verdict, wake the reporter.  Every way
 *             round the loop again (a failure, a resync, a watch that
 *             ended) goes through retry(): one backoff, reset only by
 *             progress; the watch resumes from the same revision.
 *   reporter  keep a lease alive and write the status key whenever the
 *             verdict changes (and after every new lease).
 *
 * Shared state (status, dirty, stopping) lives under f->mu; the watcher
 * never holds f->mu across a network call, a publish or the event
 * callback, so router_etcd_get_status never waits on the network, and the
 * watcher holds no librouter lock or read section across anything that
 * blocks: router_publish takes the router's writer lock internally, and
 * only for the guard check and the pointer swap.
 *
 * Revision invariant: `next_rev` (watcher-private) is one past the last
 * revision of the key handled, at most ROUTER__ETCD_REV_MAX + 1 (the client
 * refuses any revision beyond 2^53, so no + 1 here can overflow).  It only grows: a revision below it is
 * stale and is never applied.  It is advanced from events (mod_revision +
 * 1) and from a range (the range's header revision + 1, since every write
 * to the key up to that revision is reflected in the value read).  Because
 * the watch is always created at next_rev, a reconnect can neither skip a
 * revision (etcd delivers every event from start_revision on, or cancels
 * with compact_revision when it cannot) nor repeat one.
 *
 * Sources.  The document source ranges and watches one key and loads
 * each revision (handle).  The Vitess source (f->vit, vitess_follow.h
 * keeps the cell's values) ranges and watches the prefix CELL_ROOT/ on
 * the cell's etcd (f->cconn when it is not the global one), applies every
 * event of a watch message, then builds the whole table once the change
 * is due (vitess_due: a quiet debounce, bounded); while a change waits,
 * the watch is ended and created again with the remaining wait as its
 * idle limit, so the watcher needs no timer of its own.  Both sources
 * share the revision bookkeeping, the backoff, offer (the publish) and
 * the reporter.
 *
 * Latent thread (Vitess source only, vitess_global.h keeps the values):
 * ranges and watches GLOBAL/ on its own connection (lconn) and judges
 * the global values against `served`, the input of the last table the
 * watcher had accepted.  The watcher hands that input over under f->mu
 * (latent_served) and interrupts lconn; the latent thread takes it
 * (latent_judge), so each input has one owner at a time and the
 * judgement runs with no lock held.  It writes only the latent fields
 * of the status and last_error, under f->mu; it never publishes.
 * Events from both threads go through emit, which holds cb_mu across
 * the callback: never two callbacks at once.
 *
 * Stopping: `stopping` is set under f->mu, every connection is
 * interrupted (curl_multi_wakeup ends a request in flight at once), the
 * condition variable is broadcast; both threads check `stopping` before
 * every blocking step.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "etcd.h"
#include "core/internal.h"
#include "router_etcd.h"
#include "vitess_follow.h"
#include "vitess_global.h"

/* Reconnect a watch that has been silent this long: cheap (it resumes at
 * next_rev), and it bounds how long a half-open connection goes unnoticed
 * beyond what TCP keep-alive catches. */
unsigned router__etcd_watch_idle_ms = 60000;

struct router_etcd {
	router *r;
	/* Options, copied. */
	char *endpoints, *key, *status_key, *instance, *snapshot;
	size_t key_len;
	unsigned ttl_s, bmin, bmax, timeout_ms, publish_flags;
	router_doc_options doc;
	char *doc_keyspace;
	router_etcd_event_cb on_event;
	void *on_event_arg;
	router__etcd_security sec; /* TLS files and credentials, copied */

	pthread_mutex_t mu;
	pthread_cond_t cv;      /* status changed, or stopping */
	router_etcd_status st;  /* under mu */
	int dirty;              /* under mu: status not yet written */
	int stopping;           /* under mu */
	int started;            /* start/stop/free only (one caller) */
	pthread_t watcher, reporter;
	router__etcd *wconn, *rconn;
	int64_t lease; /* the reporter's last lease, handed to stop */

	/* Revision whose verdict is fully handled, event callback included
	 * (under mu): what router_etcd_wait waits for. */
	int64_t rev_done;

	/* The Vitess source (NULL: the document source): its kept values,
	 * watcher-private, and the quiet time before a rebuild. */
	router__vfollow *vit;
	unsigned debounce_ms;
	/* The connection to the cell's etcd when it is not the global one
	 * (NULL: wconn serves both).  Opened by the watcher and set under mu
	 * unless stopping; stop interrupts it under mu and closes it after
	 * the join. */
	router__etcd *cconn;

	/* The Vitess source's latent watch (vitess_global.h; NULL: the
	 * document source): the global values, latent-thread-private; its
	 * own connection to the global etcd (lconn, opened by start, closed
	 * by stop; the watcher interrupts it to have the values judged
	 * again); the max_shrink it judges with: the router's
	 * (router_options_get at create). */
	router__vglobal *vg;
	router__etcd *lconn;
	pthread_t latent;
	double max_shrink;
	/* Under mu: the input of the table last accepted into service, not
	 * yet taken by the latent thread (NULL: nothing new).  The latent
	 * thread takes it (sets it NULL) and owns it from then on as
	 * lserved, so no input is ever shared between the threads. */
	router__vitess_served *served;
	/* Latent-thread-private: the input it judges against (NULL: nothing
	 * built from the topo in service yet), and the next revision of the
	 * global topo to watch from. */
	router__vitess_served *lserved;
	int64_t lnext_rev;
	/* Under mu: the current latent findings, for the status key. */
	router__vitess_finding *lat;
	size_t nlat;
	/* Serializes the event callback: the watcher and the latent thread
	 * both emit (router_etcd_event_cb: never two calls at once). */
	pthread_mutex_t cb_mu;

	/* Watcher-private. */
	int64_t next_rev;
	/* Vitess source: monotonic ms of the first and the last change not
	 * yet built (0: none pending). */
	int64_t first_change_ms, last_change_ms;
	uint64_t rnd;
	/* Revisions handled plus watches that stayed healthy: what resets
	 * the backoff.  Stuck since (Unix ms, 0: not), kept across a watch
	 * that comes up and fails again. */
	uint64_t progress;
	int64_t stuck_since;
	/* The reporter's jitter seed: set by create, read-only after. */
	uint64_t rnd_reporter;
	uint64_t reporter_passes; /* under mu: wake-ups of the reporter */
};

static const char *state_names[] = {"idle", "connecting", "following",
                                    "retrying"};

const char *router_etcd_state_name(router_etcd_state s)
{
	return (unsigned)s < sizeof state_names / sizeof state_names[0]
	           ? state_names[s]
	           : "unknown";
}

const char *router_etcd_event_kind_name(router_etcd_event_kind k)
{
	static const char *const names[] = {
	    NULL,       "verdict", "snapshot", "connected", "disconnected",
	    "compacted", "stale",  "latent"};

	return (unsigned)k > 0 && (unsigned)k < sizeof names / sizeof names[0]
	           ? names[k]
	           : "unknown";
}

size_t router_etcd_default_status_prefix(const char *key, char *buf,
                                         size_t cap)
{
	int n = snprintf(buf, cap, "%s/status/", key ? key : "");

	return n < 0 ? 0 : (size_t)n;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* ------------------------------------------------------------------------ */
/* Create / free                                                            */
/* ------------------------------------------------------------------------ */

void router__etcd_options_security(const router_etcd_options *o,
                                   router__etcd_security *s)
{
	s->ca_file = o->tls_ca_file;
	s->cert_file = o->tls_cert_file;
	s->key_file = o->tls_key_file;
	s->username = o->username;
	s->password = o->password;
}

/* Copies the caller's options (opt, of opt->size bytes) over the
 * defaults in *o and checks them: a key, the lease TTL, the backoff, the
 * doc options' size, the endpoints, the TLS files and credentials.
 * Returns ROUTER_OK or ROUTER_EINVAL (err set: the option at fault). */
static int take_options(router_etcd_options *o,
                        const router_etcd_options *opt, router_error *err)
{
	router__etcd_security sec;
	int rc;

	if (opt->size < offsetof(router_etcd_options, on_event_arg) +
	                    sizeof(void *))
		return router__seterr(err, ROUTER_EINVAL, "options",
		                      "options.size %zu is smaller than the "
		                      "0.1 layout",
		                      opt->size);
	memcpy(o, opt, opt->size < sizeof *o ? opt->size : sizeof *o);
	if (o->source == ROUTER_ETCD_SOURCE_VITESS) {
		/* The Vitess source reads the cell's own keys: a key given
		 * with it is a mistake (a document key or a Vitess key?),
		 * refused rather than ignored. */
		if (o->key != NULL)
			return router__seterr(err, ROUTER_EINVAL, "key",
			                      "a key with the Vitess source: the "
			                      "follower reads the cell's own keys "
			                      "(set vitess_cell, leave key NULL)");
		if (o->vitess_debounce_ms > 60000)
			return router__seterr(err, ROUTER_EINVAL,
			                      "vitess_debounce_ms",
			                      "debounce %u ms is above 60000 ms",
			                      o->vitess_debounce_ms);
	} else if (o->source != ROUTER_ETCD_SOURCE_DOCUMENT) {
		return router__seterr(err, ROUTER_EINVAL, "source",
		                      "unknown source %d", (int)o->source);
	} else if (o->key == NULL || o->key[0] == '\0') {
		return router__seterr(err, ROUTER_EINVAL, "key",
		                      "no etcd key given");
	}
	if (o->lease_ttl_s < 2 || o->lease_ttl_s > 1000000)
		return router__seterr(err, ROUTER_EINVAL, "lease_ttl_s",
		                      "lease TTL %u s is outside 2 .. 1000000 s",
		                      o->lease_ttl_s);
	/* The cap bound keeps the jittered wait (up to 1.25x) in range. */
	if (o->backoff_min_ms == 0 || o->backoff_min_ms > o->backoff_max_ms ||
	    o->backoff_max_ms > 3600000)
		return router__seterr(err, ROUTER_EINVAL, "backoff",
		                      "backoff %u..%u ms: the first wait must "
		                      "be above 0 and at most the cap, the cap "
		                      "at most 3600000 ms (1 hour)",
		                      o->backoff_min_ms, o->backoff_max_ms);
	/* Sized like any options struct (router.h, "How structs grow"): a
	 * caller built against an older or newer router_doc.h passes its
	 * own sizeof, which router_doc_load accepts; so does the follower. */
	if (o->doc != NULL &&
	    o->doc->size <
	        offsetof(router_doc_options, format) + sizeof(router_doc_format))
		return router__seterr(err, ROUTER_EINVAL, "doc",
		                      "doc options of size %zu: set it to "
		                      "sizeof(router_doc_options)",
		                      o->doc->size);
	if ((rc = router__etcd_check_endpoints(o->endpoints, err)) != 0)
		return rc;
	router__etcd_options_security(o, &sec);
	return router__etcd_check_security(o->endpoints, &sec, err);
}

/* Sets f->instance (options.instance_id, else "<hostname>-<pid>") and
 * f->status_key (the status prefix, else the default one, followed by
 * the instance).  Either is left NULL when out of memory. */
static void set_instance(router_etcd *f, const router_etcd_options *o)
{
	char host[256], *prefix = NULL;

	if (o->instance_id != NULL && o->instance_id[0] != '\0') {
		f->instance = strdup(o->instance_id);
	} else {
		if (gethostname(host, sizeof host) != 0)
			strcpy(host, "host");
		host[sizeof host - 1] = '\0';
		if (asprintf(&f->instance, "%s-%ld", host, (long)getpid()) < 0)
			f->instance = NULL;
	}
	if (o->status_prefix == NULL && f->vit != NULL) {
		/* Never under a Vitess root: librouter's own prefix. */
		if (asprintf(&prefix, "/librouter/status/vitess/%s/",
		             router__vfollow_cell(f->vit)) < 0)
			prefix = NULL;
	} else if (o->status_prefix == NULL) {
		size_t n = router_etcd_default_status_prefix(o->key, NULL, 0);

		if ((prefix = malloc(n + 1)) != NULL)
			router_etcd_default_status_prefix(o->key, prefix, n + 1);
	}
	if (f->instance != NULL &&
	    asprintf(&f->status_key, "%s%s",
	             o->status_prefix ? o->status_prefix : prefix ? prefix : "",
	             f->instance) < 0)
		f->status_key = NULL;
	free(prefix);
}

/* Sets f->doc to a copy of the caller's doc options (of their own size)
 * or the defaults, with its own copy of the keyspace name
 * (f->doc_keyspace, left NULL when out of memory). */
static void set_doc_options(router_etcd *f, const router_etcd_options *o)
{
	router_doc_options d = ROUTER_DOC_OPTIONS_INIT;

	if (o->doc == NULL) {
		f->doc = d;
		return;
	}
	memcpy(&d, o->doc, o->doc->size < sizeof d ? o->doc->size : sizeof d);
	d.size = sizeof d;
	f->doc = d;
	if (o->doc->keyspace != NULL)
		f->doc_keyspace = strdup(o->doc->keyspace);
	f->doc.keyspace = f->doc_keyspace;
}

/* The mutex and the condition variable (on the monotonic clock, which
 * deadline_in reads) of f, and the seeds of its two jitter generators. */
static void init_sync(router_etcd *f)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&f->mu, NULL);
	pthread_mutex_init(&f->cb_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cv, &ca);
	pthread_condattr_destroy(&ca);
	f->rnd = (uint64_t)wall_ms() ^ ((uint64_t)getpid() << 32) ^
	         (uint64_t)(uintptr_t)f;
	f->rnd_reporter = f->rnd ^ 0x9e3779b97f4a7c15u;
}

int router_etcd_create(router_etcd **out, router *r,
                       const router_etcd_options *opt, router_error *err)
{
	router_etcd *f;
	router_etcd_options o = ROUTER_ETCD_OPTIONS_INIT;
	router_options ro = ROUTER_OPTIONS_INIT;
	router__etcd_security sec;
	int rc;

	if (out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL, "NULL out");
	*out = NULL;
	if (r == NULL || opt == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "NULL router or options");
	if ((rc = take_options(&o, opt, err)) != 0)
		return rc;
	/* Through the public API: reading struct router here would tie
	 * librouter-etcd.so to librouter.so's private layout. */
	if ((rc = router_options_get(r, &ro, err)) != ROUTER_OK)
		return rc;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	f->r = r;
	if (o.source == ROUTER_ETCD_SOURCE_VITESS) {
		rc = router__vfollow_create(&f->vit, o.vitess_cell,
		                            o.vitess_topo_root,
		                            o.vitess_tablet_type,
		                            o.vitess_cell_endpoints, err);
		if (rc != ROUTER_OK) {
			free(f);
			return rc;
		}
		/* Named in messages and the status key until the cell's
		 * root is known; later messages name the cell's keys. */
		o.key = router__vfollow_cellinfo_key(f->vit);
		f->debounce_ms = o.vitess_debounce_ms;
		if (router__vglobal_create(
		        &f->vg, router__vfollow_topo_root(f->vit)) != ROUTER_OK) {
			router__vfollow_free(f->vit);
			free(f);
			return router__seterr(err, ROUTER_ENOMEM, NULL,
			                      "out of memory");
		}
		/* The router's own threshold, so the latent judge
		 * refuses exactly what this router's publish would. */
		f->max_shrink = ro.max_shrink;
	}
	f->endpoints = strdup(o.endpoints);
	f->key = strdup(o.key);
	f->key_len = strlen(o.key);
	set_instance(f, &o);
	f->snapshot = o.snapshot_path ? strdup(o.snapshot_path) : NULL;
	f->ttl_s = o.lease_ttl_s;
	f->bmin = o.backoff_min_ms;
	f->bmax = o.backoff_max_ms;
	f->timeout_ms = o.request_timeout_ms ? o.request_timeout_ms : 5000;
	f->publish_flags = o.publish_flags & ~ROUTER_PUBLISH_DRY_RUN;
	f->on_event = o.on_event;
	f->on_event_arg = o.on_event_arg;
	set_doc_options(f, &o);
	router__etcd_options_security(&o, &sec);
	if ((rc = router__etcd_security_copy(&f->sec, o.endpoints, &sec, err)) !=
	    ROUTER_OK) {
		router_etcd_free(f);
		return rc;
	}
	if (f->endpoints == NULL || f->key == NULL || f->instance == NULL ||
	    f->status_key == NULL ||
	    (o.snapshot_path != NULL && f->snapshot == NULL) ||
	    (o.doc != NULL && o.doc->keyspace != NULL &&
	     f->doc_keyspace == NULL)) {
		router_etcd_free(f);
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	}
	init_sync(f);
	*out = f;
	return ROUTER_OK;
}

void router_etcd_free(router_etcd *f)
{
	if (f == NULL)
		return;
	router_etcd_stop(f);
	free(f->endpoints);
	free(f->key);
	free(f->status_key);
	free(f->instance);
	free(f->snapshot);
	free(f->doc_keyspace);
	router__vfollow_free(f->vit);
	router__vglobal_free(f->vg);
	router__vitess_served_free(f->served);
	router__vitess_served_free(f->lserved);
	free(f->lat);
	router__etcd_security_clear(&f->sec); /* the password wiped */
	if (f->rnd != 0) { /* mu and cv exist once create set rnd */
		pthread_mutex_destroy(&f->mu);
		pthread_mutex_destroy(&f->cb_mu);
		pthread_cond_destroy(&f->cv);
	}
	free(f);
}

uint64_t router__etcd_reporter_passes(struct router_etcd *f)
{
	uint64_t n;

	pthread_mutex_lock(&f->mu);
	n = f->reporter_passes;
	pthread_mutex_unlock(&f->mu);
	return n;
}

const char *router_etcd_instance_id(const router_etcd *f)
{
	return f->instance;
}

const char *router_etcd_status_key(const router_etcd *f)
{
	return f->status_key;
}

/* The part of router_etcd_status that router_etcd_get_status and
 * router_etcd_wait write: the struct of 0.1, which ends at stuck_retries.
 * Fields appended later reach callers only through router_etcd_status_get,
 * which knows the caller's size. */
#define STATUS_0_1_SIZE \
	(offsetof(router_etcd_status, stuck_retries) + sizeof(uint64_t))

static void status_copy(router_etcd *f, router_etcd_status *st)
{
	pthread_mutex_lock(&f->mu);
	*st = f->st;
	pthread_mutex_unlock(&f->mu);
	/* The router is the authority on what is in service (a rollback by
	 * the application is not a follower event). */
	st->version = router_serving_version(f->r);
	st->content_hash = router_content_hash(f->r);
}

int router_etcd_status_get(router_etcd *f, router_etcd_status *out,
                           size_t size)
{
	router_etcd_status st;

	if (f == NULL || out == NULL || size == 0)
		return ROUTER_EINVAL;
	status_copy(f, &st);
	if (size > sizeof st) {
		/* A caller built against a newer header: what this library
		 * does not have reads as 0. */
		memset((char *)out + sizeof st, 0, size - sizeof st);
		size = sizeof st;
	}
	memcpy(out, &st, size);
	return ROUTER_OK;
}

void router_etcd_get_status(router_etcd *f, router_etcd_status *out)
{
	router_etcd_status st;

	status_copy(f, &st);
	memcpy(out, &st, STATUS_0_1_SIZE);
}

int router_etcd_wait(router_etcd *f, int64_t revision, unsigned timeout_ms,
                     router_etcd_status *status)
{
	struct timespec dl;
	int rc = ROUTER_OK;

	deadline_in(&dl, timeout_ms);
	pthread_mutex_lock(&f->mu);
	while (f->rev_done < revision) {
		if (pthread_cond_timedwait(&f->cv, &f->mu, &dl) == ETIMEDOUT) {
			rc = f->rev_done >= revision ? ROUTER_OK : ROUTER_ERANGE;
			break;
		}
	}
	pthread_mutex_unlock(&f->mu);
	if (status != NULL)
		router_etcd_get_status(f, status);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Watcher                                                                  */
/* ------------------------------------------------------------------------ */

static void emit(router_etcd *f, router_etcd_event_kind kind, int code,
                 int64_t rev, const router_error *e, unsigned retry_ms)
{
	router_etcd_event ev;

	if (f->on_event == NULL)
		return;
	ev.kind = kind;
	ev.code = code;
	ev.revision = rev;
	ev.version = router_serving_version(f->r);
	ev.content_hash = router_content_hash(f->r);
	ev.error = code != ROUTER_OK || kind == ROUTER_ETCD_EVENT_LATENT ? e
	                                                                : NULL;
	ev.retry_ms = retry_ms;
	pthread_mutex_lock(&f->cb_mu);
	f->on_event(f->on_event_arg, &ev);
	pthread_mutex_unlock(&f->cb_mu);
}

static int is_stopping(router_etcd *f)
{
	int s;

	pthread_mutex_lock(&f->mu);
	s = f->stopping;
	pthread_mutex_unlock(&f->mu);
	return s;
}

static void set_state(router_etcd *f, router_etcd_state s)
{
	pthread_mutex_lock(&f->mu);
	if (f->st.state != s) {
		f->st.state = s;
		f->dirty = 1;
		pthread_cond_broadcast(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
}

/* Sleep ms unless stopping; returns 1 when stopping. */
static int nap(router_etcd *f, unsigned ms)
{
	struct timespec dl;
	int s;

	deadline_in(&dl, ms);
	pthread_mutex_lock(&f->mu);
	while (!f->stopping &&
	       pthread_cond_timedwait(&f->cv, &f->mu, &dl) != ETIMEDOUT)
		;
	s = f->stopping;
	pthread_mutex_unlock(&f->mu);
	return s;
}

unsigned router__etcd_backoff_next(unsigned bmax, uint64_t *rnd,
                                   unsigned *cur)
{
	unsigned base = *cur, j, ms;

	/* xorshift64; each thread has its own state. */
	*rnd ^= *rnd << 13;
	*rnd ^= *rnd >> 7;
	*rnd ^= *rnd << 17;
	j = base / 2 ? (unsigned)(*rnd % (base / 2 + 1)) : 0;
	*cur = base >= bmax / 2 ? bmax : base * 2;
	/* +-25% jitter; at the cap, -25%..0 so that retries stay spread
	 * rather than clipped to exactly the cap (base <= bmax, so
	 * j / 2 <= bmax / 4). */
	ms = base - base / 4 + j;
	return ms <= bmax ? ms : bmax - bmax / 4 + j / 2;
}

/* How long a watch must stay up to count as progress: a watch that is
 * created and then fails sooner is a failure like any other. */
static int64_t healthy_ms(const router_etcd *f)
{
	return f->bmax > 1000 ? f->bmax : 1000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The follower got somewhere (a revision handled, a healthy watch): it is
 * no longer stuck, and the next retry starts from the minimum backoff. */
static void made_progress(router_etcd *f)
{
	f->progress++;
	f->stuck_since = 0;
	pthread_mutex_lock(&f->mu);
	if (f->st.stuck_since_unix_ms != 0) {
		f->st.stuck_since_unix_ms = 0;
		f->st.stuck_retries = 0;
		f->dirty = 1;
	}
	pthread_mutex_unlock(&f->mu);
}

/* Every path round the watcher's loop again comes here.  After progress
 * since the previous retry the backoff starts again from the minimum, and
 * a retry without an error (a resync after a compaction, a quiet idle
 * watch) goes at once.  Without progress it backs off, doubling, and the
 * follower is stuck: its status says since when.  e: the failure (NULL:
 * none; last_error is then left as it is).  Returns 1 when stopping. */
static int retry(router_etcd *f, const router_error *e, unsigned *backoff,
                 uint64_t *mark)
{
	int progressed = f->progress != *mark;
	unsigned ms;

	*mark = f->progress;
	if (progressed) {
		*backoff = f->bmin;
		if (e == NULL)
			return is_stopping(f);
	} else if (f->stuck_since == 0) {
		f->stuck_since = wall_ms();
	}
	ms = router__etcd_backoff_next(f->bmax, &f->rnd, backoff);
	pthread_mutex_lock(&f->mu);
	f->st.state = ROUTER_ETCD_RETRYING;
	if (e != NULL)
		f->st.last_error = *e;
	if (!progressed) {
		f->st.stuck_since_unix_ms = f->stuck_since;
		f->st.stuck_retries++;
	}
	f->dirty = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (e != NULL)
		emit(f, ROUTER_ETCD_EVENT_DISCONNECTED, e->code,
		     f->next_rev - 1, e, ms);
	return nap(f, ms);
}

static void record_verdict(router_etcd *f, int64_t rev, int code,
                           const router_error *e)
{
	pthread_mutex_lock(&f->mu);
	f->st.revision_seen = rev;
	if (code == ROUTER_OK) {
		f->st.revision_applied = rev;
		f->st.accepted++;
		f->st.from_snapshot = 0;
	} else {
		f->st.revision_refused = rev;
		f->st.refusal = *e;
		f->st.refused_unix_ms = wall_ms();
		f->st.refused++;
	}
	f->dirty = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	emit(f, ROUTER_ETCD_EVENT_VERDICT, code, rev, e, 0);
	pthread_mutex_lock(&f->mu);
	f->rev_done = rev;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void save_snapshot(router_etcd *f)
{
	router_error e;

	if (f->snapshot == NULL)
		return;
	if (router_snapshot_save(f->r, f->snapshot, &e) != ROUTER_OK) {
		pthread_mutex_lock(&f->mu);
		f->st.last_error = e;
		f->dirty = 1;
		pthread_mutex_unlock(&f->mu);
	}
}

/* Load revision rev's document.  A document without a "version" gets the
 * revision as its version, so every member reports the same version for
 * the same revision and a snapshot records which revision it holds. */
static int load(router_etcd *f, int64_t rev, const char *value, size_t len,
                router_table **t, router_error *e)
{
	router_doc_options d = f->doc;
	int rc;

	/* [i15 defect 6, doc/snapshot helper] A document from etcd may not
	 * reach this member's file system: json_path is refused (no file
	 * opened, nothing of it quoted), whatever the caller's doc options
	 * say.  Documents pushed to etcd carry their maps inline ("json"). */
	d.flags |= ROUTER_DOC_NO_FILES;
	d.json_path_dir = NULL;
	rc = router_doc_load(value, len, &d, t, NULL, e);

	if (rc == ROUTER_OK && d.version == 0 && router_table_version(*t) == 0) {
		router_table_free(*t);
		d.version = (uint64_t)rev;
		rc = router_doc_load(value, len, &d, t, NULL, e);
	}
	return rc;
}

/* Offer table t (owned by the call from here on) to the router, unless it
 * is already in service.  Returns router_publish's verdict (e set when it
 * refuses), ROUTER_OK when nothing had to change. */
static int offer(router_etcd *f, router_table *t, router_error *e)
{
	int rc;

	if (router_table_version(t) == router_serving_version(f->r) &&
	    router_table_hash(t) == router_content_hash(f->r)) {
		/* Already in service (the snapshot of this very revision,
		 * or the same document put again): nothing to publish,
		 * nothing to refuse. */
		router_table_free(t);
		return ROUTER_OK;
	}
	rc = router_publish(f->r, t, f->publish_flags, NULL, e);
	/* Published: the snapshot follows the table in service.
	 * Quarantined: pending in the router, which owns it now; the table
	 * in service (and so the snapshot) has not changed. */
	if (rc == ROUTER_OK)
		save_snapshot(f);
	else if (rc != ROUTER_EQUARANTINED)
		router_table_free(t);
	return rc;
}

/* Offer revision rev of the key (value, or deleted) to the router.
 * unreadable: the revision's document cannot be had (its event could not
 * be decoded, or it is larger than the client buffers): refused with that
 * error and skipped; else NULL.  rev is at most ROUTER__ETCD_REV_MAX (the
 * client checks), so rev + 1 cannot overflow. */
static void handle(router_etcd *f, int64_t rev, const char *value,
                   size_t len, int deleted, const router_error *unreadable)
{
	router_table *t = NULL;
	router_error e;
	int rc;

	if (rev < f->next_rev) {
		pthread_mutex_lock(&f->mu);
		f->st.stale++;
		f->dirty = 1;
		pthread_mutex_unlock(&f->mu);
		return;
	}
	f->next_rev = rev + 1;
	made_progress(f);
	router__clearerr(&e);
	if (unreadable != NULL) {
		rc = router__seterr(&e, unreadable->code, f->key,
		                    "revision %" PRId64 " cannot be read (%s): "
		                    "skipped; version %" PRIu64
		                    " stays in service",
		                    rev, unreadable->message,
		                    router_serving_version(f->r));
		pthread_mutex_lock(&f->mu);
		f->st.skipped++;
		pthread_mutex_unlock(&f->mu);
	} else if (deleted) {
		rc = router__seterr(&e, ROUTER_ENOTFOUND, f->key,
		                    "the key was deleted at revision %" PRId64
		                    "; version %" PRIu64 " stays in service",
		                    rev, router_serving_version(f->r));
	} else if ((rc = load(f, rev, value, len, &t, &e)) == ROUTER_OK) {
		rc = offer(f, t, &e);
	}
	record_verdict(f, rev, rc, &e);
}

/* ---- the Vitess source (vitess_follow.h keeps the values) ---- */

/* The kept values were accepted into service (or are in service
 * already): they are what the latent watch judges against from now on.
 * Out of memory keeps the previous input: the latent verdicts then lag
 * behind what is served until the next accepted build, and never change
 * what is served. */
static void latent_served(router_etcd *f)
{
	router__vitess_served *s = NULL, *old;

	if (router__vfollow_served(f->vit, &s) != ROUTER_OK)
		return;
	pthread_mutex_lock(&f->mu);
	old = f->served; /* not taken yet: superseded */
	f->served = s;
	pthread_mutex_unlock(&f->mu);
	router__vitess_served_free(old);
	/* Wake the latent thread out of its watch to judge every kept
	 * global value again: it resumes its connection, then takes
	 * f->served under mu, so a wake-up is never lost (the interrupt
	 * stays set until it resumes, and it looks after resuming). */
	if (f->lconn != NULL)
		router__etcd_interrupt(f->lconn);
}

/* Build the table of the cell's values as of revision rev and offer it:
 * the verdict is rev's.  A refusal says which topo keys changed. */
static void vitess_publish(router_etcd *f, int64_t rev)
{
	router_table *t = NULL;
	router_error e;
	int rc;

	router__clearerr(&e);
	f->first_change_ms = f->last_change_ms = 0;
	rc = router__vfollow_build(f->vit, f->doc.allocator, &t, &e);
	if (rc == ROUTER_OK)
		rc = offer(f, t, &e);
	if (rc == ROUTER_OK)
		latent_served(f);
	if (rc != ROUTER_OK)
		router__vfollow_blame(f->vit, &e);
	router__vfollow_built(f->vit);
	record_verdict(f, rev, rc, &e);
}

/* A revision that changed nothing kept (a tablet, a ShardReplication):
 * seen, and done unless a change waits to be built.  Not worth a status
 * write of its own (the next one carries it): a cell whose tablets change
 * often would otherwise cost a write to etcd per change. */
static void vitess_seen(router_etcd *f, int64_t rev)
{
	pthread_mutex_lock(&f->mu);
	f->st.revision_seen = rev;
	if (!router__vfollow_pending(f->vit))
		f->rev_done = rev;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* The connection to the cell's etcd. */
static router__etcd *vitess_conn(router_etcd *f)
{
	return f->cconn != NULL ? f->cconn : f->wconn;
}

/* Learn the cell's root from its CellInfo (once per follower) and open
 * the cell's own connection when its etcd is not the global one. */
static int vitess_locate(router_etcd *f, router_error *e)
{
	router__etcd *c = NULL;
	int rc, stopping;

	if (router__vfollow_prefix(f->vit) == NULL &&
	    (rc = router__vfollow_locate(
	         f->vit, f->wconn, f->endpoints,
	         f->sec.ca_file != NULL || f->sec.cert_file != NULL, e)) !=
	        ROUTER_OK)
		return rc;
	if (f->cconn != NULL ||
	    strcmp(router__vfollow_endpoints(f->vit), f->endpoints) == 0)
		return ROUTER_OK;
	rc = router__etcd_open_with(&c, router__vfollow_endpoints(f->vit),
	                            f->timeout_ms, &f->sec, e);
	if (rc != ROUTER_OK)
		return rc;
	pthread_mutex_lock(&f->mu);
	stopping = f->stopping;
	if (!stopping) {
		router__etcd_close(f->cconn);
		f->cconn = c;
	}
	pthread_mutex_unlock(&f->mu);
	if (stopping) {
		router__etcd_close(c);
		return ROUTER_ESTATE;
	}
	return ROUTER_OK;
}

/* Read every key of the cell at one revision; build at once when a kept
 * value changed (one read is one consistent state: nothing to wait for).
 * next_rev moves past the read. */
static int vitess_resync(router_etcd *f, router_error *e)
{
	int64_t hrev = 0;
	int rc;

	rc = router__vfollow_read(f->vit, vitess_conn(f), &hrev, e);
	if (rc != ROUTER_OK)
		return rc;
	if (hrev < f->next_rev - 1) {
		/* The store is behind what was seen (etcd restored or
		 * replaced; the watch says so when it is created): what it
		 * holds is kept, and built with the next change above the
		 * last revision seen, never before. */
		router__vfollow_hold(f->vit);
		pthread_mutex_lock(&f->mu);
		f->st.stale++;
		f->dirty = 1;
		pthread_mutex_unlock(&f->mu);
		return ROUTER_OK;
	}
	/* hrev <= ROUTER__ETCD_REV_MAX (the client checks): no overflow. */
	if (hrev + 1 > f->next_rev)
		f->next_rev = hrev + 1;
	made_progress(f);
	if (router__vfollow_pending(f->vit))
		vitess_publish(f, f->next_rev - 1);
	else
		vitess_seen(f, f->next_rev - 1);
	return ROUTER_OK;
}

/* Whether a pending change has waited long enough: debounce_ms of quiet,
 * or ten times that since the first change not built (a steady stream
 * of changes still publishes).  *wait_ms: how much longer, else 0. */
static int vitess_due(const router_etcd *f, unsigned *wait_ms)
{
	int64_t now = mono_ms(), quiet, bound;

	*wait_ms = 0;
	if (!router__vfollow_pending(f->vit))
		return 0;
	quiet = f->last_change_ms + f->debounce_ms - now;
	bound = f->first_change_ms + 10 * (int64_t)f->debounce_ms - now;
	if (quiet <= 0 || bound <= 0)
		return 1;
	*wait_ms = (unsigned)(quiet < bound ? quiet : bound);
	return 0;
}

/* Read the key's current value; next_rev moves past the read. */
static int resync(router_etcd *f, router_error *e)
{
	router__etcd_kv kv;
	int found, rc;
	int64_t hrev = 0;

	rc = router__etcd_get(f->wconn, f->key, f->key_len, &kv, &found,
	                      &hrev, e);
	if (rc == ROUTER_ERANGE) {
		/* The current value is larger than the client buffers:
		 * downloading it again can only fail again.  Learn its
		 * revision without the value and refuse that revision, as
		 * a document that cannot be decoded; the next one may fit. */
		router_error big = *e;
		int64_t mod = 0;

		rc = router__etcd_get_revision(f->wconn, f->key, f->key_len,
		                               &found, &mod, &hrev, e);
		if (rc != ROUTER_OK)
			return rc;
		if (found && mod >= f->next_rev)
			handle(f, mod, NULL, 0, 0, &big);
		if (hrev + 1 > f->next_rev)
			f->next_rev = hrev + 1;
		return ROUTER_OK;
	}
	if (rc != ROUTER_OK)
		return rc;
	if (found && kv.mod_revision >= f->next_rev)
		handle(f, kv.mod_revision, kv.value, kv.value_len, 0, NULL);
	else if (found) {
		/* Seen already (or older than what was seen: stale). */
		if (kv.mod_revision < f->next_rev - 1) {
			pthread_mutex_lock(&f->mu);
			f->st.stale++;
			f->dirty = 1;
			pthread_mutex_unlock(&f->mu);
		}
	}
	router__etcd_kv_clear(&kv);
	/* hrev <= ROUTER__ETCD_REV_MAX (the client checks): no overflow. */
	if (hrev + 1 > f->next_rev)
		f->next_rev = hrev + 1;
	return ROUTER_OK;
}

typedef struct watch_state {
	router_etcd *f;
	int need_resync;
	/* Vitess source: the watch was ended to wait for quiet (debounce),
	 * or is one created again after that (no CONNECTED event). */
	int debounce, rewatch;
	int connected;
	int after_failure; /* the last watch or range failed */
	int64_t created_ms; /* monotonic, when connected */
	int healthy;        /* counted as progress already */
	router_error err;
	int rc;
} watch_state;

/* The events of one watch message of the Vitess source: every one is
 * applied before anything is built (one message is one etcd transaction,
 * or a catch-up of several), then the table is built when the change is
 * due (vitess_due), or the watch ends so that the watcher waits for quiet
 * on a new one.  An event that cannot be decoded (its key unknown) is
 * refused and the cell read again. */
static int vitess_events(watch_state *w, const router__etcd_watch_msg *m)
{
	router_etcd *f = w->f;
	int64_t start = f->next_rev, last = 0;
	int changed = 0;
	unsigned wait;

	for (size_t i = 0; i < m->nevents; i++) {
		int64_t rev = m->events[i].mod_revision;
		int rc;

		if (rev < start) {
			pthread_mutex_lock(&f->mu);
			f->st.stale++;
			f->dirty = 1;
			pthread_mutex_unlock(&f->mu);
			continue;
		}
		if (rev > last)
			last = rev;
		if (m->event_error != NULL && m->event_error[i] != NULL) {
			router_error bad;

			router__seterr(&bad, ROUTER_EDOC,
			               router__vfollow_prefix(f->vit),
			               "revision %" PRId64 " cannot be read (%s): "
			               "skipped, the cell is read again; version "
			               "%" PRIu64 " stays in service",
			               rev, m->event_error[i],
			               router_serving_version(f->r));
			f->next_rev = rev + 1;
			made_progress(f);
			pthread_mutex_lock(&f->mu);
			f->st.skipped++;
			pthread_mutex_unlock(&f->mu);
			record_verdict(f, rev, ROUTER_EDOC, &bad);
			w->need_resync = 1;
			return 1;
		}
		rc = router__vfollow_apply(f->vit, &m->events[i],
		                           m->event_is_delete[i], rev);
		if (rc < 0) {
			/* Out of memory mid-message: what is kept is no
			 * longer the cell's state; read it again. */
			w->need_resync = 1;
			return 1;
		}
		changed |= rc;
	}
	if (last == 0)
		return is_stopping(f); /* a progress notification */
	f->next_rev = last + 1;
	made_progress(f);
	if (changed) {
		f->last_change_ms = mono_ms();
		if (f->first_change_ms == 0)
			f->first_change_ms = f->last_change_ms;
	}
	vitess_seen(f, last);
	if (vitess_due(f, &wait))
		vitess_publish(f, last);
	else if (router__vfollow_pending(f->vit)) {
		w->debounce = 1;
		return 1;
	}
	return is_stopping(f);
}

static int on_watch(void *arg, const router__etcd_watch_msg *m)
{
	watch_state *w = arg;
	router_etcd *f = w->f;

	if (m->canceled) {
		/* etcd cancels as compacted only a watch whose start is
		 * below the compaction: one at or below the start is an
		 * etcd fault, and re-reading at once would loop. */
		if (m->compact_revision > 0 &&
		    m->compact_revision <= f->next_rev) {
			w->rc = router__seterr(
			    &w->err, ROUTER_EIO, f->key,
			    "etcd canceled the watch from revision %" PRId64
			    " as compacted at revision %" PRId64
			    ", which does not cover it",
			    f->next_rev, m->compact_revision);
			return 1;
		}
		if (m->compact_revision > 0) {
			pthread_mutex_lock(&f->mu);
			f->st.compactions++;
			f->dirty = 1;
			pthread_mutex_unlock(&f->mu);
			emit(f, ROUTER_ETCD_EVENT_COMPACTED, ROUTER_OK,
			     m->compact_revision, NULL, 0);
			w->need_resync = 1;
			return 1;
		}
		w->rc = router__seterr(&w->err, ROUTER_EIO, f->key,
		                       "etcd canceled the watch: %s",
		                       m->cancel_reason[0] ? m->cancel_reason
		                                           : "no reason given");
		return 1;
	}
	if (m->created && !w->connected) {
		w->connected = 1;
		w->created_ms = mono_ms();
		/* Up again: shown as following, not stuck (the backoff is
		 * reset only once the watch proves healthy). */
		pthread_mutex_lock(&f->mu);
		f->st.stuck_since_unix_ms = 0;
		f->st.stuck_retries = 0;
		pthread_mutex_unlock(&f->mu);
		pthread_mutex_lock(&f->mu);
		f->st.reconnects += w->after_failure;
		pthread_mutex_unlock(&f->mu);
		set_state(f, ROUTER_ETCD_FOLLOWING);
		/* The store is behind what was seen: etcd was restored from
		 * an older backup or replaced.  Revisions up to the last one
		 * seen will not be applied; say so. */
		if (m->header_revision > 0 &&
		    m->header_revision < f->next_rev - 1) {
			router_error e;

			router__seterr(&e, ROUTER_ERANGE, f->key,
			               "etcd's revision %" PRId64
			               " is behind the last revision seen %" PRId64
			               " (etcd restored or replaced?): revisions "
			               "up to %" PRId64 " will not be applied",
			               m->header_revision, f->next_rev - 1,
			               f->next_rev - 1);
			pthread_mutex_lock(&f->mu);
			f->st.stale++;
			f->st.last_error = e;
			f->dirty = 1;
			pthread_mutex_unlock(&f->mu);
			emit(f, ROUTER_ETCD_EVENT_STALE, e.code,
			     m->header_revision, &e, 0);
		}
		if (!w->rewatch)
			emit(f, ROUTER_ETCD_EVENT_CONNECTED, ROUTER_OK,
			     f->next_rev, NULL, 0);
	}
	if (w->connected && !w->healthy &&
	    mono_ms() - w->created_ms >= healthy_ms(f)) {
		w->healthy = 1;
		made_progress(f);
	}
	if (f->vit != NULL)
		return vitess_events(w, m);
	for (size_t i = 0; i < m->nevents; i++) {
		router_error bad;

		if (m->event_error != NULL && m->event_error[i] != NULL)
			router__seterr(&bad, ROUTER_EDOC, f->key, "%s",
			               m->event_error[i]);
		handle(f, m->events[i].mod_revision, m->events[i].value,
		       m->events[i].value_len, m->event_is_delete[i],
		       m->event_error != NULL && m->event_error[i] != NULL
		           ? &bad
		           : NULL);
	}
	return is_stopping(f);
}

static void *watcher_main(void *arg)
{
	router_etcd *f = arg;
	unsigned backoff = f->bmin;
	/* One below: the first retry after a start counts as following
	 * progress (from the minimum backoff, not stuck). */
	uint64_t mark = f->progress - 1;
	int need_resync = f->next_rev == 0, had_failure = 0, rewatch = 0;
	router_error e;

	f->stuck_since = 0;
	while (!is_stopping(f)) {
		watch_state w;
		unsigned idle = router__etcd_watch_idle_ms, wait = 0;
		int rc;

		if (f->vit != NULL && (rc = vitess_locate(f, &e)) != ROUTER_OK) {
			if (rc == ROUTER_ESTATE)
				break;
			had_failure = 1;
			if (retry(f, &e, &backoff, &mark))
				break;
			continue;
		}
		if (need_resync) {
			if (f->next_rev == 0)
				f->next_rev = 1;
			rc = f->vit != NULL ? vitess_resync(f, &e)
			                    : resync(f, &e);
			if (rc == ROUTER_ESTATE)
				break;
			if (rc != ROUTER_OK) {
				had_failure = 1;
				if (retry(f, &e, &backoff, &mark))
					break;
				continue;
			}
			need_resync = 0;
		}
		memset(&w, 0, sizeof w);
		w.f = f;
		w.after_failure = had_failure;
		w.rewatch = rewatch;
		rewatch = 0;
		if (f->vit != NULL && vitess_due(f, &wait))
			vitess_publish(f, f->next_rev - 1);
		else if (f->vit != NULL && wait > 0 && wait < idle)
			idle = wait; /* watch until the change is due */
		if (f->vit != NULL)
			rc = router__etcd_watch_prefix(
			    vitess_conn(f), router__vfollow_prefix(f->vit),
			    f->next_rev, idle, on_watch, &w, &e);
		else
			rc = router__etcd_watch(f->wconn, f->key, f->key_len,
			                        f->next_rev, idle, on_watch, &w,
			                        &e);
		if (w.connected) {
			had_failure = 0;
			if (!w.healthy &&
			    mono_ms() - w.created_ms >= healthy_ms(f))
				made_progress(f);
		}
		if (rc == ROUTER_ESTATE)
			break;
		if (w.need_resync) {
			need_resync = 1;
			if (retry(f, NULL, &backoff, &mark))
				break;
			continue;
		}
		if (rc == ROUTER_ERANGE || rc == ROUTER_EDOC) {
			/* ERANGE: one watch message (a catch-up batching
			 * many revisions of a large document) exceeds what
			 * the client buffers.  EDOC: a message that cannot
			 * be read, with no revision to blame.  Watching
			 * from the same revision would fail the same way:
			 * read the current value instead, as after a
			 * compaction, and watch from there.  Only
			 * superseded revisions are skipped. */
			pthread_mutex_lock(&f->mu);
			f->st.last_error = e;
			f->dirty = 1;
			pthread_mutex_unlock(&f->mu);
			emit(f, ROUTER_ETCD_EVENT_COMPACTED, e.code,
			     f->next_rev - 1, &e, 0);
			need_resync = 1;
			if (retry(f, NULL, &backoff, &mark))
				break;
			continue;
		}
		if (rc == ROUTER_OK && w.rc != ROUTER_OK) {
			rc = w.rc;
			e = w.err;
		}
		if (rc != ROUTER_OK) {
			had_failure = 1;
			if (retry(f, &e, &backoff, &mark))
				break;
			continue;
		}
		/* Vitess source: a watch ended to wait for quiet, or a
		 * quiet one ended when a pending change became due: watch
		 * again at once (the loop's top builds what is due). */
		if (f->vit != NULL &&
		    (w.debounce || router__vfollow_pending(f->vit))) {
			rewatch = w.connected || w.rewatch;
			continue;
		}
		/* A quiet watch ended by the idle limit (or stopping). */
		if (retry(f, NULL, &backoff, &mark))
			break;
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Latent watcher (Vitess source)                                           */
/* ------------------------------------------------------------------------ */

/* The verdicts one judgement reported, emitted after it. */
typedef struct latent_batch {
	router__vitess_finding *v;
	size_t n, cap;
} latent_batch;

static void latent_collect(void *arg, const router__vitess_finding *fnd)
{
	latent_batch *b = arg;

	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 4;
		router__vitess_finding *g = realloc(b->v, cap * sizeof *g);

		if (g == NULL)
			return; /* this report is lost; the status still counts it */
		b->v = g;
		b->cap = cap;
	}
	b->v[b->n++] = *fnd;
}

/* Take the input newly accepted into service (if any), judge the global
 * values (every one when the input changed, else those applied since the
 * last judgement), publish the findings in the status and emit a LATENT
 * event for each verdict that changed. */
static void latent_judge(router_etcd *f)
{
	latent_batch b = {NULL, 0, 0};
	router__vitess_served *s;
	router__vitess_finding *cur = NULL;
	size_t bad, n;
	int all = 0;

	pthread_mutex_lock(&f->mu);
	s = f->served;
	f->served = NULL;
	pthread_mutex_unlock(&f->mu);
	if (s != NULL) {
		router__vitess_served_free(f->lserved);
		f->lserved = s;
		all = 1;
	}
	bad = router__vglobal_judge(
	    f->vg, f->lserved ? router__vitess_served_input(f->lserved) : NULL,
	    f->max_shrink, all, latent_collect, &b);
	n = router__vglobal_findings(f->vg, NULL, 0);
	if (n > 0 && (cur = calloc(n, sizeof *cur)) != NULL)
		router__vglobal_findings(f->vg, cur, n);
	pthread_mutex_lock(&f->mu);
	if (cur != NULL || n == 0) {
		free(f->lat);
		f->lat = cur;
		f->nlat = n;
	} else {
		free(cur);
	}
	if (f->st.latent != bad || b.n > 0) {
		f->st.latent = bad;
		f->dirty = 1;
	}
	for (size_t i = 0; i < b.n; i++) {
		const router__vitess_finding *x = &b.v[i];

		router__seterr(&f->st.latent_finding, x->code, x->key,
		               "%s at revision %" PRId64 ": %s", x->key,
		               x->mod_revision, x->message);
		f->st.latent_finding.code = x->code;
		f->st.latent_revision = x->mod_revision;
		snprintf(f->st.latent_key, sizeof f->st.latent_key, "%s",
		         x->key);
	}
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	for (size_t i = 0; i < b.n; i++) {
		const router__vitess_finding *x = &b.v[i];
		router_error e;

		router__seterr(&e, x->code, x->key, "%s at revision %" PRId64
		               ": %s", x->key, x->mod_revision, x->message);
		e.code = x->code;
		emit(f, ROUTER_ETCD_EVENT_LATENT, x->code, x->mod_revision, &e,
		     0);
	}
	free(b.v);
}

typedef struct latent_watch {
	router_etcd *f;
	int need_read;
	int progressed;
	router_error err;
	int rc;
} latent_watch;

/* One message of the global watch: a compaction makes the values be read
 * again; events at or after lnext_rev are applied, then judged. */
static int latent_on_watch(void *arg, const router__etcd_watch_msg *m)
{
	latent_watch *w = arg;
	router_etcd *f = w->f;
	int64_t last = 0;
	int changed = 0;

	if (m->canceled) {
		if (m->compact_revision > f->lnext_rev) {
			w->need_read = 1;
			return 1;
		}
		w->rc = router__seterr(&w->err, ROUTER_EIO,
		                       router__vglobal_prefix(f->vg),
		                       "etcd canceled the latent watch: %s",
		                       m->cancel_reason[0] ? m->cancel_reason
		                                           : "no reason given");
		return 1;
	}
	if (m->created)
		w->progressed = 1;
	for (size_t i = 0; i < m->nevents; i++) {
		int64_t rev = m->events[i].mod_revision;
		int rc;

		if (rev < f->lnext_rev)
			continue; /* seen already */
		if (m->event_error != NULL && m->event_error[i] != NULL) {
			/* Its key is unknown: read everything again. */
			w->need_read = 1;
			return 1;
		}
		rc = router__vglobal_apply(f->vg, &m->events[i],
		                           m->event_is_delete[i], rev);
		if (rc < 0) {
			w->need_read = 1;
			return 1;
		}
		changed |= rc;
		if (rev > last)
			last = rev;
	}
	if (last > 0) {
		f->lnext_rev = last + 1;
		w->progressed = 1;
	}
	if (changed)
		latent_judge(f);
	return is_stopping(f);
}

/* A failure of the latent watch: in last_error (the status says why the
 * latent verdicts may lag), then a backoff.  Returns 1 when stopping. */
static int latent_retry(router_etcd *f, const router_error *e,
                        unsigned *backoff, uint64_t *rnd)
{
	if (e != NULL) {
		pthread_mutex_lock(&f->mu);
		f->st.last_error = *e;
		f->dirty = 1;
		pthread_mutex_unlock(&f->mu);
	}
	return nap(f, router__etcd_backoff_next(f->bmax, rnd, backoff));
}

/* The latent thread: read every global value the rebuild reads and judge
 * it, then watch the global prefix from the revision after the read (the
 * watcher's discipline: resume at lnext_rev, never a revision twice; a
 * compaction or an unreadable message reads again; failures back off,
 * reset by progress).  The watcher interrupts its connection when a new
 * table is accepted: the values are judged again at once. */
static void *latent_main(void *arg)
{
	router_etcd *f = arg;
	unsigned backoff = f->bmin;
	/* Its own jitter state, seeded from the read-only reporter seed
	 * (f->rnd is the watcher's). */
	uint64_t rnd = f->rnd_reporter ^ 0x5851f42d4c957f2du;
	int need_read = 1;
	router_error e;

	while (!is_stopping(f)) {
		latent_watch w;
		int64_t hrev = 0;
		int rc;

		if (need_read) {
			hrev = 0;
			rc = router__vglobal_read(f->vg, f->lconn, &hrev, &e);
			if (rc == ROUTER_ESTATE) {
				router__etcd_resume(f->lconn);
				continue; /* the loop checks stopping */
			}
			if (rc != ROUTER_OK) {
				if (latent_retry(f, &e, &backoff, &rnd))
					break;
				continue;
			}
			if (hrev + 1 > f->lnext_rev)
				f->lnext_rev = hrev + 1;
			need_read = 0;
			backoff = f->bmin;
		}
		latent_judge(f);
		memset(&w, 0, sizeof w);
		w.f = f;
		rc = router__etcd_watch_prefix(f->lconn,
		                               router__vglobal_prefix(f->vg),
		                               f->lnext_rev,
		                               router__etcd_watch_idle_ms,
		                               latent_on_watch, &w, &e);
		if (w.progressed)
			backoff = f->bmin;
		if (rc == ROUTER_ESTATE) {
			/* Stopping, or woken to judge a new served table:
			 * resume first, then look (router_etcd_stop sets
			 * stopping before it interrupts). */
			router__etcd_resume(f->lconn);
			need_read |= w.need_read;
			continue;
		}
		if (w.need_read || rc == ROUTER_ERANGE || rc == ROUTER_EDOC) {
			/* Compacted, or a message no revision can be blamed
			 * for: read the values again (after the minimum
			 * wait, so that a watch failing the same way again
			 * does not spin). */
			need_read = 1;
			if (latent_retry(f, NULL, &backoff, &rnd))
				break;
			continue;
		}
		if (rc == ROUTER_OK && w.rc != ROUTER_OK) {
			rc = w.rc;
			e = w.err;
		}
		if (rc != ROUTER_OK &&
		    latent_retry(f, &e, &backoff, &rnd))
			break;
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Reporter                                                                 */
/* ------------------------------------------------------------------------ */

static json_t *jerr(const router_error *e)
{
	if (e->code == ROUTER_OK)
		return json_null();
	return json_pack("{s:s, s:s, s:s}", "code", router_errname(e->code),
	                 "culprit", e->culprit, "message", e->message);
}

/* The current latent findings: [{"key", "mod_revision", "keyspace",
 * "code", "message"}...], sorted by key. */
static json_t *latent_json(router_etcd *f)
{
	json_t *a = json_array();

	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; a != NULL && i < f->nlat; i++) {
		const router__vitess_finding *x = &f->lat[i];

		json_array_append_new(
		    a, json_pack("{s:s, s:I, s:s, s:s, s:s}", "key", x->key,
		                 "mod_revision", (json_int_t)x->mod_revision,
		                 "keyspace", x->keyspace, "code",
		                 router_errname(x->code), "message",
		                 x->message));
	}
	pthread_mutex_unlock(&f->mu);
	return a != NULL ? a : json_null();
}

/* The status key's value: one JSON object (compact). */
static char *status_json(router_etcd *f, const router_etcd_status *s)
{
	char hash[17];
	json_t *o, *ref, *stuck;
	char *text;

	snprintf(hash, sizeof hash, "%016" PRIx64, s->content_hash);
	if (s->revision_refused != 0) {
		ref = jerr(&s->refusal);
		if (json_is_object(ref)) {
			json_object_set_new(ref, "revision",
			                    json_integer(s->revision_refused));
			json_object_set_new(ref, "at_unix_ms",
			                    json_integer(s->refused_unix_ms));
		}
	} else {
		ref = json_null();
	}
	if (s->stuck_since_unix_ms != 0) {
		char reason[sizeof s->last_error.culprit +
		            sizeof s->last_error.message + 4];

		snprintf(reason, sizeof reason, "%s%s%s", s->last_error.culprit,
		         s->last_error.culprit[0] ? ": " : "",
		         s->last_error.message);
		stuck = json_pack("{s:I, s:I, s:I, s:s}", "revision",
		                  (json_int_t)s->revision_seen, "since_unix_ms",
		                  (json_int_t)s->stuck_since_unix_ms, "retries",
		                  (json_int_t)s->stuck_retries, "reason", reason);
	} else {
		stuck = json_null();
	}
	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:b, s:I, s:I, s:o, s:o, "
	              "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
	              "instance", f->instance, "key", f->key, "state",
	              router_etcd_state_name(s->state), "version",
	              (json_int_t)s->version, "hash", hash, "from_snapshot",
	              s->from_snapshot, "revision_seen",
	              (json_int_t)s->revision_seen, "revision_applied",
	              (json_int_t)s->revision_applied, "refusal", ref, "error",
	              jerr(&s->last_error), "accepted", (json_int_t)s->accepted,
	              "refused", (json_int_t)s->refused, "stale",
	              (json_int_t)s->stale, "reconnects",
	              (json_int_t)s->reconnects, "compactions",
	              (json_int_t)s->compactions, "updated_unix_ms",
	              (json_int_t)wall_ms(), "skipped", (json_int_t)s->skipped,
	              "stuck", stuck);
	if (o == NULL)
		return NULL;
	if (f->vit != NULL) {
		/* Which cell and tablet type this member follows (key is
		 * the cell's CellInfo). */
		json_object_set_new(o, "source", json_string("vitess"));
		json_object_set_new(o, "cell",
		                    json_string(router__vfollow_cell(f->vit)));
		json_object_set_new(
		    o, "tablet_type",
		    json_string(router__vfollow_tablet_name(f->vit)));
		json_object_set_new(o, "latent", latent_json(f));
	}
	/* A document may carry a version up to ROUTER_VERSION_MAX (2^64 - 2);
	 * a JSON integer here is signed 64-bit, so a version above INT64_MAX
	 * is written as its decimal string (as documents may spell it), never
	 * as a wrapped negative number. */
	if (s->version > (uint64_t)INT64_MAX) {
		char dec[24];

		snprintf(dec, sizeof dec, "%" PRIu64, s->version);
		json_object_set_new(o, "version", json_string(dec));
	}
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

/* The reporter thread's own state (no other thread reads it). */
typedef struct rstate {
	router_etcd *f;
	int64_t lease;            /* the status key's lease, 0: none yet */
	unsigned keep_ms;         /* between keep-alives: a third of the TTL */
	unsigned backoff;         /* router__etcd_backoff_next's state */
	unsigned wait_ms;         /* 0, or the wait after a failure */
	uint64_t rnd;             /* the backoff's jitter */
	struct timespec next_keep; /* when the next keep-alive is due */
} rstate;

/* Waits for something to do: nothing failed, until the next keep-alive
 * (or a status change); after a failure, the backoff, never past the
 * keep-alive; no lease yet, not at all.  Then copies the status to
 * report into *s and takes f->dirty into *dirty.  Returns 0 when the
 * follower is stopping, else 1.  Takes and releases f->mu. */
static int reporter_wait(rstate *rp, router_etcd_status *s, int *dirty)
{
	router_etcd *f = rp->f;
	struct timespec dl;

	/* (Using "now + 0" as the idle deadline made an idle follower spin
	 * through pthread_cond_timedwait thousands of times a second.) */
	if (rp->wait_ms == 0 && rp->lease != 0)
		dl = rp->next_keep;
	else
		deadline_in(&dl, rp->wait_ms);
	if (rp->lease != 0 &&
	    (rp->next_keep.tv_sec < dl.tv_sec ||
	     (rp->next_keep.tv_sec == dl.tv_sec &&
	      rp->next_keep.tv_nsec < dl.tv_nsec)))
		dl = rp->next_keep;
	pthread_mutex_lock(&f->mu);
	while (!f->stopping && !(f->dirty && rp->wait_ms == 0) &&
	       pthread_cond_timedwait(&f->cv, &f->mu, &dl) != ETIMEDOUT)
		;
	if (f->stopping) {
		pthread_mutex_unlock(&f->mu);
		return 0;
	}
	f->reporter_passes++;
	*dirty = f->dirty;
	f->dirty = 0;
	*s = f->st;
	pthread_mutex_unlock(&f->mu);
	s->version = router_serving_version(f->r);
	s->content_hash = router_content_hash(f->r);
	return 1;
}

/* Keeps the lease alive when a keep-alive is due (*keep_due says whether
 * it was), and takes a new lease when there is none (expired while etcd
 * was away, or never taken); a new lease makes the status *dirty (it
 * must be written under it).  Returns ROUTER_OK or the error (e set). */
static int reporter_lease(rstate *rp, int *dirty, int *keep_due,
                          router_error *e)
{
	router_etcd *f = rp->f;
	struct timespec now;
	int rc = ROUTER_OK;

	clock_gettime(CLOCK_MONOTONIC, &now);
	*keep_due = rp->lease != 0 &&
	            (now.tv_sec > rp->next_keep.tv_sec ||
	             (now.tv_sec == rp->next_keep.tv_sec &&
	              now.tv_nsec >= rp->next_keep.tv_nsec));
	if (*keep_due) {
		int64_t ttl;

		rc = router__etcd_lease_keepalive(f->rconn, rp->lease, &ttl, e);
		if (rc == ROUTER_OK && ttl <= 0) {
			rp->lease = 0; /* expired while etcd was away */
			*dirty = 1;
		} else if (rc == ROUTER_OK) {
			deadline_in(&rp->next_keep, rp->keep_ms);
		}
	}
	if (rc == ROUTER_OK && rp->lease == 0) {
		rc = router__etcd_lease_grant(f->rconn, f->ttl_s, &rp->lease, e);
		if (rc == ROUTER_OK) {
			deadline_in(&rp->next_keep, rp->keep_ms);
			*dirty = 1;
		}
	}
	return rc;
}

/* Writes status s to f->status_key under the lease and counts the
 * write.  A put refused because etcd no longer knows the lease drops it
 * (a new one is taken next).  Returns ROUTER_OK or the error (e set). */
static int reporter_put(rstate *rp, const router_etcd_status *s,
                        router_error *e)
{
	router_etcd *f = rp->f;
	char *text;
	int rc;

	if ((text = status_json(f, s)) == NULL) {
		rc = router__seterr(e, ROUTER_ENOMEM, f->status_key,
		                    "out of memory");
	} else {
		rc = router__etcd_put(f->rconn, f->status_key,
		                      strlen(f->status_key), text, strlen(text),
		                      rp->lease, NULL, e);
		free(text);
		/* A put under a lease etcd no longer knows fails
		 * ("requested lease not found"): take a new one. */
		if (rc != ROUTER_OK &&
		    strstr(e->message, "lease not found") != NULL)
			rp->lease = 0;
	}
	if (rc == ROUTER_OK) {
		pthread_mutex_lock(&f->mu);
		f->st.status_writes++;
		pthread_mutex_unlock(&f->mu);
	}
	return rc;
}

/* After a failed pass: try again after a backoff, never later than the
 * lease needs; a status that was to be written stays dirty. */
static void reporter_backoff(rstate *rp, int keep_due, int dirty)
{
	router_etcd *f = rp->f;

	rp->wait_ms = router__etcd_backoff_next(f->bmax, &rp->rnd,
	                                        &rp->backoff);
	if (rp->wait_ms > rp->keep_ms)
		rp->wait_ms = rp->keep_ms;
	/* A failed keep-alive leaves next_keep in the past, and the wait
	 * in reporter_wait is cut at next_keep: without this the retry
	 * would come at once, not after the backoff (a dead etcd saw
	 * ~1,000 keep-alives a second from every member). */
	if (keep_due)
		deadline_in(&rp->next_keep, rp->wait_ms);
	if (dirty) {
		pthread_mutex_lock(&f->mu);
		f->dirty = 1;
		pthread_mutex_unlock(&f->mu);
	}
}

/* The reporter thread: keeps a lease on f->status_key and writes the
 * follower's status there whenever it changes, until the follower
 * stops. */
static void *reporter_main(void *arg)
{
	rstate rp;
	router_error e;

	memset(&rp, 0, sizeof rp);
	rp.f = arg;
	rp.keep_ms = rp.f->ttl_s * 1000 / 3;
	rp.backoff = rp.f->bmin;
	rp.rnd = rp.f->rnd_reporter;
	deadline_in(&rp.next_keep, 0);
	for (;;) {
		router_etcd_status s;
		int dirty, keep_due, rc;

		if (!reporter_wait(&rp, &s, &dirty))
			break;
		rp.wait_ms = 0;
		rc = reporter_lease(&rp, &dirty, &keep_due, &e);
		if (rc == ROUTER_OK && dirty)
			rc = reporter_put(&rp, &s, &e);
		if (rc == ROUTER_ESTATE)
			continue; /* interrupted: stopping */
		if (rc != ROUTER_OK)
			reporter_backoff(&rp, keep_due, dirty);
		else
			rp.backoff = rp.f->bmin;
	}
	/* router_etcd_stop revokes it once both threads are joined (here
	 * the connection may still be about to be interrupted). */
	rp.f->lease = rp.lease;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Start / stop                                                             */
/* ------------------------------------------------------------------------ */

static void load_snapshot(router_etcd *f)
{
	router_table *t = NULL;
	router_error e;
	int rc;

	if (f->snapshot == NULL || router_serving_version(f->r) != 0)
		return;
	rc = router_snapshot_load(f->snapshot, f->doc.allocator, &t, NULL,
	                          NULL, &e);
	if (rc == ROUTER_OK) {
		rc = router_publish(f->r, t, f->publish_flags, NULL, &e);
		if (rc != ROUTER_OK && rc != ROUTER_EQUARANTINED)
			router_table_free(t);
	}
	pthread_mutex_lock(&f->mu);
	if (rc == ROUTER_OK)
		f->st.from_snapshot = 1;
	else if (rc != ROUTER_ENOTFOUND)
		f->st.last_error = e;
	f->dirty = 1;
	pthread_mutex_unlock(&f->mu);
	emit(f, ROUTER_ETCD_EVENT_SNAPSHOT, rc, 0, &e, 0);
}

int router_etcd_start(router_etcd *f, router_error *err)
{
	int rc, rrc, lrc = 0;

	if (f == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL, "NULL follower");
	if (f->started)
		return router__seterr(err, ROUTER_ESTATE, f->instance,
		                      "follower already started");
	if ((rc = router__etcd_open_with(&f->wconn, f->endpoints,
	                                 f->timeout_ms, &f->sec, err)) !=
	    ROUTER_OK)
		return rc;
	if ((rc = router__etcd_open_with(&f->rconn, f->endpoints,
	                                 f->timeout_ms, &f->sec, err)) !=
	    ROUTER_OK) {
		router__etcd_close(f->wconn);
		f->wconn = NULL;
		return rc;
	}
	if (f->vg != NULL &&
	    (rc = router__etcd_open_with(&f->lconn, f->endpoints,
	                                 f->timeout_ms, &f->sec, err)) !=
	        ROUTER_OK) {
		router__etcd_close(f->wconn);
		router__etcd_close(f->rconn);
		f->wconn = f->rconn = NULL;
		return rc;
	}
	load_snapshot(f);
	pthread_mutex_lock(&f->mu);
	f->stopping = 0;
	f->st.state = ROUTER_ETCD_CONNECTING;
	f->dirty = 1;
	pthread_mutex_unlock(&f->mu);
	if ((rc = pthread_create(&f->watcher, NULL, watcher_main, f)) != 0) {
		router__etcd_close(f->wconn);
		router__etcd_close(f->rconn);
		router__etcd_close(f->lconn);
		f->wconn = f->rconn = f->lconn = NULL;
		return router__seterr(err, ROUTER_ENOMEM, f->instance,
		                      "cannot start the watcher thread: %s",
		                      strerror(rc));
	}
	rrc = pthread_create(&f->reporter, NULL, reporter_main, f);
	if (rrc == 0 && f->lconn != NULL)
		lrc = pthread_create(&f->latent, NULL, latent_main, f);
	if (rrc != 0 || lrc != 0) {
		rc = rrc != 0 ? rrc : lrc;
		pthread_mutex_lock(&f->mu);
		f->stopping = 1;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		router__etcd_interrupt(f->wconn);
		router__etcd_interrupt(f->rconn);
		pthread_join(f->watcher, NULL);
		if (rrc == 0)
			pthread_join(f->reporter, NULL);
		router__etcd_close(f->wconn);
		router__etcd_close(f->rconn);
		router__etcd_close(f->lconn);
		f->wconn = f->rconn = f->lconn = NULL;
		return router__seterr(err, ROUTER_ENOMEM, f->instance,
		                      "cannot start a follower thread: %s",
		                      strerror(rc));
	}
	f->started = 1;
	return ROUTER_OK;
}

void router_etcd_stop(router_etcd *f)
{
	if (f == NULL || !f->started)
		return;
	pthread_mutex_lock(&f->mu);
	f->stopping = 1;
	pthread_cond_broadcast(&f->cv);
	/* Under mu: the watcher sets cconn under it, checking stopping. */
	if (f->cconn != NULL)
		router__etcd_interrupt(f->cconn);
	pthread_mutex_unlock(&f->mu);
	router__etcd_interrupt(f->wconn);
	router__etcd_interrupt(f->rconn);
	if (f->lconn != NULL)
		router__etcd_interrupt(f->lconn);
	pthread_join(f->watcher, NULL);
	pthread_join(f->reporter, NULL);
	if (f->lconn != NULL)
		pthread_join(f->latent, NULL);
	router__etcd_close(f->cconn);
	f->cconn = NULL;
	router__etcd_close(f->lconn);
	f->lconn = NULL;
	if (f->lease != 0) {
		/* The member leaves the fleet table now rather than when the
		 * lease expires.  Best effort, bounded. */
		router_error e;

		router__etcd_resume(f->rconn);
		router__etcd_set_timeout(f->rconn, f->timeout_ms < 2000
		                                       ? f->timeout_ms
		                                       : 2000);
		router__etcd_lease_revoke(f->rconn, f->lease, &e);
		f->lease = 0;
	}
	router__etcd_close(f->wconn);
	router__etcd_close(f->rconn);
	f->wconn = f->rconn = NULL;
	pthread_mutex_lock(&f->mu);
	f->st.state = ROUTER_ETCD_IDLE;
	pthread_mutex_unlock(&f->mu);
	f->started = 0;
}
