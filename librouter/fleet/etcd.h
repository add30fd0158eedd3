/*
 * A minimal etcd v3 client over the HTTP/JSON gateway (etcd_client.c), for
 * the follower (etcd.c), routerctl and the integration tests.  Hidden from
 * the shared library; the tools link librouter.a.
 *
 * One connection object per thread: it owns one libcurl easy handle (kept
 * alive between requests) and a multi handle used only to wait, so that
 * router__etcd_interrupt can wake a request in flight from another thread.
 * Keys and values are byte strings; the gateway's base64 is handled here.
 * Every failure (transport, HTTP status, an etcd error, a malformed
 * response) is ROUTER_EIO with culprit "ENDPOINT/v3/PATH" and a message
 * saying what went wrong; ROUTER_ENOMEM for allocation failures;
 * ROUTER_ESTATE when interrupted.  A malformed response never crashes.
 */
#ifndef ROUTER_ETCD_INTERNAL_H
#define ROUTER_ETCD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "router.h"

typedef struct router__etcd router__etcd;

/* A key-value pair.  key and value are malloc'd, NUL-terminated for
 * convenience (they may contain NULs; lengths are exact). */
typedef struct router__etcd_kv {
	char *key;
	size_t key_len;
	char *value;
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;
	int64_t lease;
} router__etcd_kv;

void router__etcd_kv_clear(router__etcd_kv *kv);
void router__etcd_kvs_free(router__etcd_kv *kvs, size_t n);

/* endpoints: comma-separated http(s) URLs.  timeout_ms: per request (not
 * the watch).  ROUTER_OK, ROUTER_EINVAL (bad endpoint list), ROUTER_ENOMEM,
 * ROUTER_EIO (libcurl handle).  No TLS files, no authentication:
 * router__etcd_open_with(out, endpoints, timeout_ms, NULL, err). */
int router__etcd_open(router__etcd **out, const char *endpoints,
                      unsigned timeout_ms, router_error *err);

/* How a client proves who it is to etcd and which server it trusts: the
 * TLS and authentication fields of router_etcd_options, and routerctl's
 * --cacert, --cert, --cert-key, --user.  Every field may be NULL.
 *
 *   ca_file    PEM bundle the server's certificate is verified against
 *              (CURLOPT_CAINFO); NULL: the system store.  Alone it only
 *              verifies the server.
 *   cert_file  client certificate (PEM) and its private key (PEM,
 *   key_file   unencrypted): both or neither.
 *   username   etcd user and password (POST /v3/auth/authenticate; the
 *   password   token goes in the Authorization header of every request,
 *              the watch included): both or neither.
 *
 * The files are read by libcurl at each connection, so a rotated
 * certificate is picked up at the next reconnect. */
typedef struct router__etcd_security {
	const char *ca_file;
	const char *cert_file;
	const char *key_file;
	const char *username;
	const char *password;
} router__etcd_security;

/* Checks sec (NULL: nothing to check) for endpoints: cert and key both or
 * neither, user and password both or neither, no empty string, no TLS
 * file with an http:// endpoint (it would silently go unencrypted).
 * ROUTER_OK or ROUTER_EINVAL, err naming the option
 * (tls_cert_file, tls_key_file, tls_ca_file, username, password). */
int router__etcd_check_security(const char *endpoints,
                                const router__etcd_security *sec,
                                router_error *err);
/* Copies src (checked as above; NULL: all NULL) into dst, every string
 * malloc'd.  ROUTER_OK, ROUTER_EINVAL, ROUTER_ENOMEM (dst then holds
 * nothing).  Free with router__etcd_security_clear. */
int router__etcd_security_copy(router__etcd_security *dst,
                               const char *endpoints,
                               const router__etcd_security *src,
                               router_error *err);
/* Frees what router__etcd_security_copy put in s, the password wiped
 * first (explicit_bzero), and sets every field to NULL.  Accepts NULL. */
void router__etcd_security_clear(router__etcd_security *s);

/* The TLS and authentication fields of a follower's options (o read as
 * router_etcd_create has taken it: fields beyond the caller's size are
 * NULL), borrowed into *s: for every follower (etcd.c, and one of the
 * Vitess topo) to open its connections alike. */
struct router_etcd_options;
void router__etcd_options_security(const struct router_etcd_options *o,
                                   router__etcd_security *s);

/* router__etcd_open with TLS files and etcd authentication (sec, NULL:
 * none; its strings are copied, the password wiped on close).  Nothing
 * is sent before the first request: a wrong certificate or password shows
 * there, as ROUTER_EIO saying so ("etcd authentication failed for user U
 * at ENDPOINT: ..."; the password is never in a message).  With a user,
 * the client authenticates before its first request and whenever it
 * moves to another endpoint (a simple token is valid only on the member
 * that issued it), and when etcd answers that the token is invalid or
 * expired ("etcdserver: invalid auth token", HTTP 401; a watch: created
 * and canceled with that reason), the auth store moved on ("revision of
 * auth store is old") or that no user was given ("user name is empty":
 * authentication was enabled since), it authenticates again and retries
 * the request once.  An etcd whose authentication is not enabled is used
 * without a token, as etcdctl does.  Returns as router__etcd_open, and
 * ROUTER_EINVAL for sec as router__etcd_check_security. */
int router__etcd_open_with(router__etcd **out, const char *endpoints,
                           unsigned timeout_ms,
                           const router__etcd_security *sec,
                           router_error *err);
/* Test hook: how many times c has obtained a token. */
uint64_t router__etcd_authentications(const router__etcd *c);
void router__etcd_close(router__etcd *c);
/* Check an endpoint list without opening anything. */
int router__etcd_check_endpoints(const char *endpoints, router_error *err);

/* From any thread: make the request in flight (and every later one, until
 * router__etcd_resume) return ROUTER_ESTATE at once. */
void router__etcd_interrupt(router__etcd *c);
void router__etcd_resume(router__etcd *c);
/* The endpoint in use (for messages). */
const char *router__etcd_endpoint(const router__etcd *c);
void router__etcd_set_timeout(router__etcd *c, unsigned timeout_ms);

/* Range: the key (found: 1/0 into *found, kv filled when found). */
int router__etcd_get(router__etcd *c, const void *key, size_t key_len,
                     router__etcd_kv *kv, int *found, int64_t *header_rev,
                     router_error *err);
/* The key as it was at revision rev (> 0): its value then, or *found 0
 * when it did not exist.  etcd refuses a compacted revision (an error). */
int router__etcd_get_at(router__etcd *c, const void *key, size_t key_len,
                        int64_t rev, router__etcd_kv *kv, int *found,
                        router_error *err);
/* The key's mod_revision without its value (a keys_only range: small
 * whatever the value's size).  *found 1/0; *mod_rev 0 when not found. */
int router__etcd_get_revision(router__etcd *c, const void *key,
                              size_t key_len, int *found, int64_t *mod_rev,
                              int64_t *header_rev, router_error *err);
/* Every key starting with prefix, sorted by key. */
int router__etcd_get_prefix(router__etcd *c, const char *prefix,
                            router__etcd_kv **kvs, size_t *n,
                            int64_t *header_rev, router_error *err);
/* Put (lease 0: none).  *rev (optional): the revision of the write. */
int router__etcd_put(router__etcd *c, const void *key, size_t key_len,
                     const void *val, size_t val_len, int64_t lease,
                     int64_t *rev, router_error *err);
/* Put only if the key's mod_revision is expect_mod (0: the key must not
 * exist).  *ok: 1 when written; *rev: the write's revision, or etcd's
 * current revision when not written. */
int router__etcd_put_if(router__etcd *c, const void *key, size_t key_len,
                        const void *val, size_t val_len, int64_t expect_mod,
                        int *ok, int64_t *rev, router_error *err);
int router__etcd_delete(router__etcd *c, const void *key, size_t key_len,
                        int64_t *rev, router_error *err);
/* Compact the history up to rev (physical: waits for it). */
int router__etcd_compact(router__etcd *c, int64_t rev, router_error *err);

int router__etcd_lease_grant(router__etcd *c, int64_t ttl_s, int64_t *id,
                             router_error *err);
/* *ttl receives the remaining TTL; 0 when the lease has expired. */
int router__etcd_lease_keepalive(router__etcd *c, int64_t id, int64_t *ttl,
                                 router_error *err);
int router__etcd_lease_revoke(router__etcd *c, int64_t id, router_error *err);

/* The next backoff of a follower: *cur doubled up to bmax, with jitter so
 * that a fleet that lost etcd together does not come back in lockstep:
 * +-25% below the cap, -25%..0 at it (never clipped to exactly bmax).
 * *rnd is the caller's xorshift64 state (nonzero); *cur (<= bmax) becomes
 * the next base.  Returns the milliseconds to wait, at most bmax. */
unsigned router__etcd_backoff_next(unsigned bmax, uint64_t *rnd,
                                   unsigned *cur);

/* The largest revision accepted from etcd (2^53: at a million writes a
 * second, 285 years).  Every revision in an answer (header, mod_revision,
 * create_revision, compact_revision) outside 1 (0 where etcd leaves it out)
 * .. this bound is a malformed answer (ROUTER_EIO or, in a watch,
 * ROUTER_EDOC, naming the field), so that rev + 1 never overflows and a
 * version derived from a revision can always be followed. */
#define ROUTER__ETCD_REV_MAX ((int64_t)1 << 53)

/* The largest response, or watch message, a client buffers (64 MiB; for a
 * watch, the check counts a message's bytes together with those that came
 * in the same read, so it can trip up to one read early).  Beyond it a call
 * fails with ROUTER_ERANGE.  A variable only so that tests can lower it;
 * set it while no client is transferring. */
extern size_t router__etcd_response_max;

/* Test hooks.  How long the follower lets a watch go without a complete
 * message before it reconnects (60000 ms; tests lower it; set it while no
 * follower runs).  The capacity of a connection's response buffer.  How
 * many times the follower's reporter thread has woken up. */
extern unsigned router__etcd_watch_idle_ms;
size_t router__etcd_buffer_capacity(const router__etcd *c);
struct router_etcd;
uint64_t router__etcd_reporter_passes(struct router_etcd *f);

/* One message of a watch stream. */
typedef struct router__etcd_watch_msg {
	int created;
	int canceled;
	int64_t compact_revision;   /* canceled because compacted: > 0 */
	int64_t header_revision;    /* etcd's store revision */
	const char *cancel_reason;  /* "" when none */
	size_t nevents;
	int *event_is_delete;       /* nevents entries */
	router__etcd_kv *events;    /* nevents entries, valid during the call */
	/* nevents entries: NULL, or why event i could not be decoded (bad
	 * base64, a bad field): then events[i] holds its mod_revision
	 * only, so that the caller can skip that revision. */
	char **event_error;
} router__etcd_watch_msg;

/* Return 0 to go on watching, anything else to end the watch. */
typedef int (*router__etcd_watch_fn)(void *arg,
                                     const router__etcd_watch_msg *m);

/* Watch key from start_rev (1 .. ROUTER__ETCD_REV_MAX), calling fn for
 * every message.  Returns ROUTER_OK when fn ended the watch or no complete
 * message and no byte of one came for idle_ms (0: no limit; the caller
 * resumes); ROUTER_ESTATE when interrupted; ROUTER_ERANGE when one message
 * exceeds router__etcd_response_max (watching again from the same
 * revision would fail again); ROUTER_EDOC when a message is malformed in a
 * way no revision can be blamed for (not JSON, a revision out of range:
 * the same watch may fail the same way again); ROUTER_EIO when the stream
 * failed, ended (etcd went away), was refused (the HTTP status is in the
 * message), sent no message within the connection's request timeout
 * (black-holed), or stalled (a message pending and growing slower than
 * 1 KiB/s for idle_ms); ROUTER_EINVAL for a start_rev out of range. */
int router__etcd_watch(router__etcd *c, const void *key, size_t key_len,
                       int64_t start_rev, unsigned idle_ms,
                       router__etcd_watch_fn fn, void *arg,
                       router_error *err);

/* The same over every key starting with prefix (1 .. 1024 bytes): one
 * watch, every event carrying its key. */
int router__etcd_watch_prefix(router__etcd *c, const char *prefix,
                              int64_t start_rev, unsigned idle_ms,
                              router__etcd_watch_fn fn, void *arg,
                              router_error *err);

/* The parsers of what etcd answers, without a connection (the fuzz
 * target, tests/fuzz/fuzz_etcd.c): a range answer (one JSON object)
 * into kvs as router__etcd_get_prefix returns them (ROUTER_OK,
 * ROUTER_EIO when malformed, ROUTER_ENOMEM; free with
 * router__etcd_kvs_free), and one
 * watch message (line[0..len), one JSON object) handed to fn as a watch
 * hands it (fn not called when it is malformed; ROUTER_OK, ROUTER_EDOC,
 * ROUTER_EIO for an error etcd sends, ROUTER_ENOMEM). */
int router__etcd_parse_range(const char *json, size_t len,
                             router__etcd_kv **kvs, size_t *n,
                             int64_t *header_rev, router_error *err);
int router__etcd_parse_watch(const char *line, size_t len,
                             router__etcd_watch_fn fn, void *arg,
                             router_error *err);

#endif /* ROUTER_ETCD_INTERNAL_H */
