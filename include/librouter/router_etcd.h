/*
 * librouter fleet distribution: follow one routing document kept in etcd.
 *
 * A follower (router_etcd) watches one etcd key through etcd's v3 HTTP/JSON
 * gateway (POST /v3/kv/range, /v3/watch, ...), loads every new revision of
 * the key as a routing document (router_doc_load) and offers it to the
 * application's router with router_publish, so the guards decide exactly as
 * they do for any other writer.  Its verdict goes back to etcd, like an
 * Envoy NACK, in a status key of its own (STATUS_PREFIX + INSTANCE_ID)
 * attached to a lease: one range query over the prefix shows the whole
 * fleet, what each member serves and who refused what; a member that dies
 * disappears when its lease expires.
 *
 * Revisions.  The follower remembers the last revision of the key it has
 * seen and resumes the watch after any disconnect from the one after it:
 * no revision is missed and none is handled twice.  A revision at or below
 * the last one seen is never applied (counted as stale).  When etcd has
 * compacted the revisions the watch would resume from, the follower reads
 * the key's current value instead (the compacted revisions are superseded
 * by it and can no longer be read from anywhere) and resumes after that.
 * A deleted key is refused (ROUTER_ENOTFOUND): the table in service stays.
 *
 * Start-up.  With a snapshot path, router_etcd_start first loads the
 * last-known-good snapshot (router_snapshot_load) into a router that has
 * nothing in service, so the process routes before etcd answers; every
 * document from etcd is then guarded against that table.  When etcd is
 * unreachable or holds a refused document the snapshot stays in service
 * and the follower keeps retrying.  After every accepted revision the
 * snapshot is saved again (router_snapshot_save).
 *
 * Threads.  A started follower runs two threads, each with its own libcurl
 * handle: the watcher (range, watch, load, publish) and the reporter
 * (lease grant and keep-alive, status writes); one of the Vitess source
 * runs a third, the latent thread (the global topo's watch: LATENT
 * events, never a publish).  Neither holds a read
 * section or any librouter lock across a network call; the watcher
 * publishes through router_publish like any writer, so lookups on other
 * threads are never blocked.  Every retry (an etcd failure, a malformed
 * answer, a compaction, a watch that ended) goes through one backoff:
 * exponential from backoff_min_ms to backoff_max_ms, each wait jittered by
 * up to 25% (below the cap either way, at the cap downwards: never above
 * backoff_max_ms), reset only by progress (a revision handled, or a watch
 * that stayed up for max(backoff_max_ms, 1 s)), so that a watch that is
 * created and then fails retries at the cap, not at the minimum.  A
 * follower that keeps failing without progress says so in its status
 * (stuck_since_unix_ms).
 *
 * Untrusted etcd.  Every integer in etcd's answers is checked: revisions
 * must lie in 1 .. 2^53 (and a key's mod_revision at or below the range's
 * header revision), lease IDs and TTLs be positive; otherwise the answer is
 * malformed (ROUTER_EIO, the field named in last_error) and retried.  A
 * watch event whose revision is readable but whose value cannot be decoded
 * is refused (ROUTER_EDOC) and skipped, and so is a current value larger
 * than the client buffers (ROUTER_ERANGE; its revision is learnt with a
 * keys-only range, so it is not downloaded again and again); a watch
 * message that cannot be read at all makes the follower read the key's
 * current value instead.  A
 * watch must send its first message within request_timeout_ms; one
 * silent for 60 s is re-established; one whose pending message grows
 * slower than 1 KiB/s for 60 s is a failure (a trickle).
 *
 * Conventions are router.h's: negative ROUTER_E* codes, an optional
 * caller-owned router_error, out-parameters, free functions accept NULL.
 * Requires libcurl (-lcurl) in addition to librouter's other libraries.
 */
#ifndef ROUTER_ETCD_H
#define ROUTER_ETCD_H

#include <stddef.h>
#include <stdint.h>

#include "router.h"
#include "router_doc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct router_etcd router_etcd;

/* Where a follower stands. */
typedef enum router_etcd_state {
	ROUTER_ETCD_IDLE = 0,      /* created, not started (or stopped) */
	ROUTER_ETCD_CONNECTING = 1, /* started; no watch established yet */
	ROUTER_ETCD_FOLLOWING = 2, /* the watch is established */
	ROUTER_ETCD_RETRYING = 3   /* etcd failed; waiting out a backoff */
} router_etcd_state;

/* What happened; passed to the event callback. */
typedef enum router_etcd_event_kind {
	/* A revision of the key was accepted (code ROUTER_OK) or refused
	 * (code and error say why; the table in service stays).  Vitess
	 * source: the table built from the cell as of that revision (the
	 * last one seen when the build ran); a refusal's message names the
	 * topo keys and keyspaces that changed. */
	ROUTER_ETCD_EVENT_VERDICT = 1,
	/* router_etcd_start loaded the snapshot (code ROUTER_OK) or could
	 * not (code and error; ROUTER_ENOTFOUND: no snapshot yet). */
	ROUTER_ETCD_EVENT_SNAPSHOT = 2,
	/* The watch is established (revision: the first one it can give). */
	ROUTER_ETCD_EVENT_CONNECTED = 3,
	/* etcd failed (error says what and where); retry_ms until the next
	 * attempt. */
	ROUTER_ETCD_EVENT_DISCONNECTED = 4,
	/* The revisions after the last one seen were compacted (code
	 * ROUTER_OK; revision: etcd's compaction revision), or arrived in
	 * one watch message larger than the follower buffers (code
	 * ROUTER_ERANGE, error says so; revision: the last one seen), or in
	 * a watch message that cannot be parsed (code ROUTER_EDOC): the
	 * key was read again, so only superseded revisions were skipped. */
	ROUTER_ETCD_EVENT_COMPACTED = 5,
	/* etcd's store revision is behind the last revision seen (etcd was
	 * restored or replaced): nothing at or below the last revision seen
	 * will be applied (revision: etcd's current revision). */
	ROUTER_ETCD_EVENT_STALE = 6,
	/* Vitess source only (0.2): latent poison.  A value of the global
	 * topo (GLOBAL_ROOT/keyspaces/KS/VSchema or a routing-rule key)
	 * that the next RebuildVSchemaGraph would put into the cell's
	 * SrvVSchema, and that this follower would refuse against the table
	 * in service (code: the finding's, e.g. ROUTER_ECOVERAGE for the
	 * January 2026 empty VSchema, ROUTER_EEMPTY, ROUTER_ESHRINK,
	 * ROUTER_EDOC for bytes that do not decode, ROUTER_ERULE), or a
	 * finding cleared (code ROUTER_OK: the value was fixed, or what is
	 * served changed so that it no longer breaks it).  revision: the
	 * key's mod revision (of its delete for a deleted key).  error is
	 * set for this kind also when code is ROUTER_OK: culprit the
	 * global key, message "KEY at revision N: what would break" (or
	 * "...: cleared: ...").  Raised once per (key, mod revision,
	 * code), on the follower's latent thread (not the watcher);
	 * nothing served changes (docs/vitess.md, "Latent poison"). */
	ROUTER_ETCD_EVENT_LATENT = 7
} router_etcd_event_kind;

typedef struct router_etcd_event {
	router_etcd_event_kind kind;
	int code;                  /* ROUTER_OK or the failure's code */
	int64_t revision;          /* the key's revision the event is about */
	uint64_t version;          /* in service after the event */
	uint64_t content_hash;     /* in service after the event */
	const router_error *error; /* detail when code != ROUTER_OK, else NULL */
	unsigned retry_ms;         /* DISCONNECTED: backoff before retrying */
} router_etcd_event;

/* Called on the watcher thread (except ROUTER_ETCD_EVENT_SNAPSHOT, which
 * router_etcd_start delivers on its caller's thread before it returns,
 * and ROUTER_ETCD_EVENT_LATENT, delivered on the Vitess follower's latent
 * thread), never two calls at once (a follower serializes its events),
 * with no librouter lock and no follower lock but that serialization held:
 * it may route, read router_etcd_get_status, print; it must not call
 * router_etcd_stop or router_etcd_free on its own follower. */
typedef void (*router_etcd_event_cb)(void *arg, const router_etcd_event *ev);

/* What a follower reads (router_etcd_options.source).
 *
 * DOCUMENT: one key holding a librouter routing document (key).
 *
 * VITESS: a Vitess cell's serving topology, read-only, as vtgate reads it
 * (docs/vitess.md): GLOBAL_ROOT/cells/CELL/CellInfo once for the cell's
 * root CELL_ROOT, then one watch over the prefix CELL_ROOT/ that sees
 * CELL_ROOT/SrvVSchema and every CELL_ROOT/keyspaces/KS/SrvKeyspace
 * (keyspaces added and removed).  The follower keeps the current bytes of
 * each and, after a change, rebuilds the routing table from all of them
 * and offers it to router_publish with every guard, exactly as a document.
 * Ordering: every event of one watch message (one etcd transaction) is
 * applied before anything is built; after the last change the follower
 * waits vitess_debounce_ms of quiet (no further change to those keys),
 * but never more than ten times that since the first change not yet
 * built, so a resharding cut-over that writes a SrvKeyspace and then the
 * SrvVSchema is published once, whole.  A build that fails (bytes that do
 * not decode, a gap, a SrvKeyspace missing for a keyspace of the
 * SrvVSchema, a deleted SrvVSchema: ROUTER_ENOTFOUND) is a refusal naming
 * the topo key and the keyspace; the next change builds again from the
 * current values.  The follower also watches GLOBAL_ROOT/ (its
 * keyspaces/KS/VSchema and routing-rule keys) on a thread of its own and
 * judges each value against the raw input of the table in service, as
 * the next RebuildVSchemaGraph would merge it: ROUTER_ETCD_EVENT_LATENT
 * and the status's latent fields (docs/vitess.md, "Latent poison").
 * Nothing is ever written under a Vitess root: the
 * status key is under status_prefix (NULL:
 * "/librouter/status/vitess/CELL/").  key must be NULL, and doc is
 * ignored but for doc->allocator (the built tables' allocator). */
typedef enum router_etcd_source {
	ROUTER_ETCD_SOURCE_DOCUMENT = 0,
	ROUTER_ETCD_SOURCE_VITESS = 1
} router_etcd_source;

typedef struct router_etcd_options {
	size_t size; /* sizeof(router_etcd_options): lets the struct grow */
	/* etcd client URLs, comma-separated ("http://127.0.0.1:2379"); the
	 * follower moves to the next one after a transport error. */
	const char *endpoints;
	/* The key holding the routing document (NUL-terminated, no NUL
	 * inside).  NULL with the Vitess source. */
	const char *key;
	/* Status keys are STATUS_PREFIX + INSTANCE_ID.  NULL: KEY + "/status/"
	 * (router_etcd_default_status_prefix); with the Vitess source,
	 * "/librouter/status/vitess/CELL/". */
	const char *status_prefix;
	/* This member's name in the fleet.  NULL: "HOSTNAME-PID". */
	const char *instance_id;
	/* TTL of the status key's lease, seconds (2 .. 1000000); kept alive
	 * every third of it. */
	unsigned lease_ttl_s;
	/* Last-known-good snapshot file: loaded at start, saved after every
	 * accepted revision.  NULL: none. */
	const char *snapshot_path;
	/* Backoff after errors: first wait, and cap (ms; at most 3600000). */
	unsigned backoff_min_ms;
	unsigned backoff_max_ms;
	/* Timeout of one request other than the watch (ms). */
	unsigned request_timeout_ms;
	/* How to read the document (format, keyspace, shards); NULL:
	 * defaults.  Copied, except what opt->doc->shards points to, which
	 * must stay valid until router_etcd_free. */
	const router_doc_options *doc;
	/* Flags given to router_publish (ROUTER_PUBLISH_DESTRUCTIVE); 0 by
	 * default, so a fleet refuses what a careful operator would. */
	unsigned publish_flags;
	router_etcd_event_cb on_event; /* NULL: none */
	void *on_event_arg;
	/* Appended after on_event_arg (read only when the caller's size
	 * covers them; an older caller gets the defaults): what the
	 * follower follows. */
	router_etcd_source source; /* ROUTER_ETCD_SOURCE_DOCUMENT */
	/* ROUTER_ETCD_SOURCE_VITESS only: the cell whose serving topology
	 * is followed (required), the global topo root (NULL:
	 * "/vitess/global"), the tablet type whose SrvKeyspace partition
	 * gives the shards (NULL: "primary"; "replica", "rdonly"), the
	 * cell's etcd (NULL: its CellInfo's server_address, or endpoints
	 * when that is empty; endpoints is the global topo's etcd, where
	 * the status key is written too), and the quiet time a change
	 * waits for before the table is rebuilt (ms, at most 60000; 0:
	 * none; ROUTER_ETCD_OPTIONS_INIT: 200). */
	const char *vitess_cell;
	const char *vitess_topo_root;
	const char *vitess_tablet_type;
	const char *vitess_cell_endpoints;
	unsigned vitess_debounce_ms;

	/* TLS and authentication (0.2).  Read only when size covers them
	 * (a caller built against an older header gets none).  Every
	 * string is copied by router_etcd_create; NULL: not used.
	 *
	 * tls_ca_file: PEM bundle etcd's server certificate is verified
	 * against; NULL: the system's store (an https:// endpoint is always
	 * verified).  tls_cert_file and tls_key_file: this member's client
	 * certificate and its unencrypted private key (PEM), both or
	 * neither, for an etcd started with --client-cert-auth.  Any TLS
	 * file requires every endpoint to be https://.  The files are read
	 * at each connection (a rotated certificate is used from the next
	 * reconnect on).
	 *
	 * username and password: etcd's own authentication (both or
	 * neither).  The follower obtains a token (/v3/auth/authenticate),
	 * sends it with every request and the watch, and obtains a new one
	 * when etcd says it expired.  A
	 * wrong password is a ROUTER_EIO failure like etcd being down
	 * ("etcd authentication failed for user U at ENDPOINT: ..."): a
	 * DISCONNECTED event, last_error, and retries with backoff.  The
	 * copy of the password is wiped when the follower is freed; it is
	 * never written to an error, an event or the status key. */
	const char *tls_ca_file;
	const char *tls_cert_file;
	const char *tls_key_file;
	const char *username;
	const char *password;
} router_etcd_options;

#define ROUTER_ETCD_OPTIONS_INIT                                            \
	{sizeof(router_etcd_options), NULL, NULL, NULL, NULL, 10, NULL, 100,  \
	 5000, 5000, NULL, 0, NULL, NULL, ROUTER_ETCD_SOURCE_DOCUMENT, NULL,  \
	 NULL, NULL, NULL, 200,                                             \
	 /* TLS and authentication (0.2) */ NULL, NULL, NULL, NULL, NULL}

/* What a follower has done; a plain value copied out through the size the
 * caller passes (router_etcd_status_get; router.h, "How structs grow"):
 * new fields are appended after stuck_retries. */
typedef struct router_etcd_status {
	router_etcd_state state;
	uint64_t version;       /* in service in the router (0: none) */
	uint64_t content_hash;  /* in service */
	int from_snapshot;      /* 1 while the snapshot's table is in service */
	int64_t revision_seen;    /* last revision of the key handled (0: none) */
	int64_t revision_applied; /* last revision accepted (0: none) */
	int64_t revision_refused; /* last revision refused (0: none) */
	router_error refusal;     /* why revision_refused was refused */
	router_error last_error;  /* last etcd or snapshot failure */
	uint64_t accepted;      /* revisions accepted */
	uint64_t refused;       /* revisions refused (incl. deletes) */
	uint64_t stale;         /* revisions or store rollbacks not applied */
	uint64_t reconnects;    /* watches re-established after a failure */
	uint64_t compactions;   /* resumptions past compacted revisions */
	uint64_t status_writes; /* status key writes that succeeded */
	/* Revisions skipped unread: a watch event that could not be
	 * decoded (bad base64, a bad field: ROUTER_EDOC) or a value larger
	 * than the follower buffers (ROUTER_ERANGE).  Each is also a
	 * refusal (counted in refused) and the follower goes on after it. */
	uint64_t skipped;
	/* Nonzero while the follower retries without getting past
	 * revision_seen: since when (Unix ms) and how many retries so far;
	 * last_error says why.  Set at the second retry in a row without
	 * progress (a revision handled, or a watch that stayed up for
	 * max(backoff_max_ms, 1 s)); cleared by progress or while a watch
	 * is up. */
	int64_t stuck_since_unix_ms;
	uint64_t stuck_retries;
	/* When revision_refused was refused (Unix ms; 0: never).  Added in
	 * 0.2: filled only when the caller's size covers it. */
	int64_t refused_unix_ms;
	/* Vitess source (0.2; filled only when the caller's size covers
	 * them): how many global values have a latent finding now (0:
	 * nothing latent), and the last latent event (a finding, or one
	 * cleared: latent_finding.code ROUTER_OK with a message), its key's
	 * mod revision and the key (NUL-terminated, cut at 511 bytes).
	 * latent_revision 0: no latent event yet. */
	uint64_t latent;
	router_error latent_finding;
	int64_t latent_revision;
	char latent_key[512];
	/* New fields are appended here, read only through
	 * router_etcd_status_get. */
} router_etcd_status;

/* Create a follower that will publish into r (which must outlive it).
 * Copies every string of opt; with the Vitess source, reads r's
 * max_shrink (router_options_get), which its latent watch judges global
 * values with.  Nothing touches the network until
 * router_etcd_start.  Returns ROUTER_OK; ROUTER_EINVAL (NULL r, opt or
 * endpoints; NULL key with the document source; with the Vitess source, a
 * key given, no vitess_cell or one with a '/', a vitess_tablet_type other
 * than primary, replica or rdonly, a vitess_topo_root not starting with
 * '/', vitess_debounce_ms above 60000; an unknown source; opt->size too
 * small; lease_ttl_s outside 2 .. 1000000;
 * backoff_min_ms 0 or above backoff_max_ms; backoff_max_ms above 3600000
 * (1 hour); an endpoint that is not http:// or https://; tls_cert_file
 * without tls_key_file or the reverse, username without password or the
 * reverse, an empty string among them, a TLS file with an http://
 * endpoint); ROUTER_ENOMEM.
 * Any thread. */
ROUTER_EXTERN int router_etcd_create(router_etcd **out, router *r,
                                     const router_etcd_options *opt,
                                     router_error *err);

/* Load the snapshot (when configured and r has nothing in service), then
 * start the watcher and reporter threads and return at once: the first
 * document arrives asynchronously.  Failing to reach etcd is not an error
 * here (the follower retries).  Returns ROUTER_OK; ROUTER_ESTATE (already
 * started); ROUTER_ENOMEM or ROUTER_EIO when a thread or a libcurl handle
 * cannot be created.  Not concurrently with stop/free on the same
 * follower. */
ROUTER_EXTERN int router_etcd_start(router_etcd *f, router_error *err);

/* Stop both threads and wait for them (a request in flight is
 * interrupted at once), then revoke the status key's lease so the member
 * leaves the fleet table (best effort, bounded by request_timeout_ms and
 * 2 s).  The table in service stays.  A stopped follower may be started
 * again; it resumes from the last revision seen.  No-op when not started.
 * Not from the event callback; not concurrently with start/free. */
ROUTER_EXTERN void router_etcd_stop(router_etcd *f);

/* Stop (as router_etcd_stop) and free.  Accepts NULL. */
ROUTER_EXTERN void router_etcd_free(router_etcd *f);

/* Copy the follower's status into out: min(size, sizeof(router_etcd_status))
 * bytes (pass sizeof of yours); bytes past this library's struct (a
 * program built against a newer header) are set to 0.  Returns ROUTER_OK,
 * or ROUTER_EINVAL (f or out NULL, size 0; nothing written).  Any thread,
 * any time (takes the follower's own mutex briefly; never blocks on the
 * network). */
ROUTER_EXTERN int router_etcd_status_get(router_etcd *f,
                                         router_etcd_status *out,
                                         size_t size);
/* The same, for binaries of 0.1: writes the fields up to stuck_retries
 * (the 0.1 struct) and never one appended later.  f and out non-NULL. */
ROUTER_EXTERN void router_etcd_get_status(router_etcd *f,
                                          router_etcd_status *out);

/* Wait until the follower has handled revision `revision` of the key (seen
 * it: accepted or refused; Vitess source: a revision at or after it built,
 * or seen with no change of the cell's values waiting to be built) or
 * timeout_ms has passed.  Returns ROUTER_OK or
 * ROUTER_ERANGE (timed out; *status still filled when not NULL, as
 * router_etcd_get_status fills it: the 0.1 fields; call
 * router_etcd_status_get for any appended later).  Any thread but the
 * event callback. */
ROUTER_EXTERN int router_etcd_wait(router_etcd *f, int64_t revision,
                                   unsigned timeout_ms,
                                   router_etcd_status *status);

/* The instance id in use (the option's, or "HOSTNAME-PID"), and the status
 * key written.  Valid until router_etcd_free.  Any thread. */
ROUTER_EXTERN const char *router_etcd_instance_id(const router_etcd *f);
ROUTER_EXTERN const char *router_etcd_status_key(const router_etcd *f);

/* Static name of a state ("following"); never NULL. */
ROUTER_EXTERN const char *router_etcd_state_name(router_etcd_state s);
/* Static name of an event kind, as routerctl watch and the bindings print
 * it: "verdict", "snapshot", "connected", "disconnected", "compacted",
 * "stale", "latent"; "unknown" for any other value (a kind newer than
 * the caller knows is never passed by this library, but a caller may
 * hold one from a newer library).  Never NULL.  Since 0.2.0
 * (node ROUTER_ETCD_0.2); any thread. */
ROUTER_EXTERN const char *
router_etcd_event_kind_name(router_etcd_event_kind k);

/* Write KEY + "/status/" (NUL-terminated) into buf.  Returns the length
 * needed excluding the NUL; writes nothing past cap.  Thread-safe. */
ROUTER_EXTERN size_t router_etcd_default_status_prefix(const char *key,
                                                       char *buf,
                                                       size_t cap);

/* --- Event queue (0.2) ------------------------------------------------
 *
 * A bounded queue of follower events, so an application receives them on
 * a thread of its own choosing instead of librouter's watcher thread:
 * pass router_etcd_queue_push as router_etcd_options.on_event and the
 * queue as on_event_arg, and pop the copies on any thread.  The bindings
 * use it to run Python and Ruby callbacks on interpreter threads.
 *
 * The queue keeps the newest `capacity` events: a push into a full queue
 * drops the oldest and counts it (router_etcd_queue_dropped), so a slow
 * consumer never holds the watcher back.  Every function takes the
 * queue's own mutex briefly; a push never blocks on a consumer.
 *
 * Sessions.  Consumers pop within a session, a number read with
 * router_etcd_queue_session when the consumer starts.
 * router_etcd_queue_close ends the current session at once and opens the
 * next one: a consumer of the ended session takes what is still queued,
 * then router_etcd_queue_pop tells it ROUTER_ESTATE, while pushes go on
 * and a consumer started after the close (the next session) takes them.
 * So a follower can be stopped and started again, each start with a new
 * consumer, and the consumer of the previous start always ends, even if
 * it had not yet noticed the close when the next one began.
 *
 * Lifetime.  The queue is reference-counted: create returns it with one
 * reference, router_etcd_queue_ref adds one (e.g. for each consumer
 * thread), router_etcd_queue_free drops one and the last frees it.  The
 * follower using it as on_event_arg does not hold a reference: keep one
 * until router_etcd_stop or router_etcd_free has returned.
 */
typedef struct router_etcd_queue router_etcd_queue;

/* One event as router_etcd_queue_push copied it: the fields of
 * router_etcd_event, with the router_error its error pointed to copied
 * into err (has_error 1; else has_error 0 and err all zero).  A plain
 * value, filled through the size its reader passes
 * (router_etcd_queue_pop): fields are appended after err. */
typedef struct router_etcd_event_copy {
	router_etcd_event_kind kind;
	int code;              /* ROUTER_OK or the failure's code */
	int64_t revision;
	uint64_t version;
	uint64_t content_hash;
	unsigned retry_ms;
	int has_error;         /* 1 when the event carried a router_error */
	router_error err;
} router_etcd_event_copy;

/* Create a queue keeping at most capacity events (1 .. 1048576), with one
 * reference, in its first session.  Returns ROUTER_OK with *out set;
 * ROUTER_EINVAL (NULL out, capacity out of range); ROUTER_ENOMEM.  Any
 * thread. */
ROUTER_EXTERN int router_etcd_queue_create(router_etcd_queue **out,
                                           size_t capacity,
                                           router_error *err);

/* Add a reference; returns q.  Any thread holding a reference. */
ROUTER_EXTERN router_etcd_queue *router_etcd_queue_ref(router_etcd_queue *q);

/* Drop one reference; the last one frees the queue and the events still
 * in it.  Accepts NULL.  Any thread; nothing may use the queue through
 * the dropped reference afterwards. */
ROUTER_EXTERN void router_etcd_queue_free(router_etcd_queue *q);

/* Copy *ev (and the router_error it points to) into the queue q (a
 * router_etcd_queue *), dropping the oldest event when it is full, and
 * wake the consumers.  Has router_etcd_event_cb's signature: use it as
 * on_event with on_event_arg = q.  Any thread; never blocks but on the
 * queue's mutex. */
ROUTER_EXTERN void router_etcd_queue_push(void *q, const router_etcd_event *ev);

/* The current session (see above): read it when a consumer starts and
 * pass it to each of its pops.  Any thread. */
ROUTER_EXTERN uint64_t router_etcd_queue_session(router_etcd_queue *q);

/* Take the oldest event into out: min(size, sizeof(router_etcd_event_copy))
 * bytes (pass sizeof of yours); bytes past this library's struct are set
 * to 0.  Waits for one while the queue is empty and session is current:
 * timeout_ms -1 forever, 0 not at all, else at most that long.  cancel:
 * NULL, or a flag of the caller's set by router_etcd_queue_cancel, which
 * ends the wait.  Returns ROUTER_OK (an event taken); ROUTER_ERANGE
 * (nothing taken: timeout_ms passed, or *cancel is nonzero);
 * ROUTER_ESTATE (session has been ended by router_etcd_queue_close and
 * nothing is left to take); ROUTER_EINVAL (NULL q or out, size 0,
 * timeout_ms below -1).  Any thread; several may pop at once (each event
 * goes to one of them). */
ROUTER_EXTERN int router_etcd_queue_pop(router_etcd_queue *q,
                                        uint64_t session,
                                        const int *cancel, int timeout_ms,
                                        router_etcd_event_copy *out,
                                        size_t size);

/* Set *cancel to 1 under the queue's mutex and wake every pop, so a pop
 * given cancel returns ROUTER_ERANGE even if it had not started waiting
 * yet (the caller clears the flag before its next pop).  For an
 * interpreter's "interrupt this blocked thread" hook.  Any thread. */
ROUTER_EXTERN void router_etcd_queue_cancel(router_etcd_queue *q,
                                            int *cancel);

/* End the current session and open the next (see above); wakes every
 * pop.  Events queued stay queued.  Any thread. */
ROUTER_EXTERN void router_etcd_queue_close(router_etcd_queue *q);

/* Events dropped so far because the queue was full.  Any thread. */
ROUTER_EXTERN uint64_t router_etcd_queue_dropped(router_etcd_queue *q);

#ifdef __cplusplus
}
#endif
#endif /* ROUTER_ETCD_H */
