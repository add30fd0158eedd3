/*
 * Latent poison (vitess_latent.c): would the next RebuildVSchemaGraph,
 * given one value of the global topo, make a SrvVSchema librouter would
 * refuse against what the cell serves?  Issue 18 scope item 5; the alarm
 * that would have rung on January 9th 2026, 13 hours before the empty
 * VSchema was served (TOPO.md section 5).  Pure: no network, nothing
 * written, nothing served changes; any thread.
 *
 * The keys a rebuild reads (TOPO.md section 1), GLOBAL the global root:
 *   GLOBAL/keyspaces/KS/VSchema         vschema.Keyspace
 *   GLOBAL/RoutingRules                 vschema.RoutingRules
 *   GLOBAL/ShardRoutingRules            vschema.ShardRoutingRules
 *   GLOBAL/routing_rules/keyspace/Rules vschema.KeyspaceRoutingRules
 *   GLOBAL/MirrorRules                  vschema.MirrorRules
 *
 * How it judges: the served SrvVSchema with that one value substituted
 * (the keyspace's entry replaced, or added; the rules field replaced) is
 * what the rebuild would write for this key; it is built with the served
 * SrvKeyspaces (router__vitess_build, every check of the loader), and the
 * table it gives is offered, as a dry run, to a private router holding
 * the served table as its first publish (router_publish: the same guards
 * a follower's publish runs, with max_shrink; no fence, invariant or
 * shadow sample of the caller's router is consulted, and nothing of the
 * caller's router is touched).  A deleted key is the empty message: a
 * rebuild puts an empty Keyspace for a keyspace whose VSchema node is
 * missing (Vitess topotools.RebuildVSchema on NoNode) and no rules for a
 * missing rules node; the deleted VSchema of a keyspace the cell does not
 * serve changes nothing (the keyspace most likely went with it).  Only
 * this key differs from what is served: other global keys that differ
 * are judged on their own.
 *
 * A follower's use: keep the router__vitess_input of the table it last
 * published (the raw values and revisions it built from); watch the
 * global prefix; for each event whose key router__vitess_global_key
 * classifies, call router__vitess_latent_judge with that input, the
 * event's bytes (or deleted = 1), its mod revision and the router's
 * max_shrink, from the watch thread (never a router event callback); a
 * finding (out.code != ROUTER_OK) is the latent event: out.key,
 * out.mod_revision, out.keyspace, out.message.  When what is served
 * changes, the global values already seen may be judged again.
 * routerctl vitess check does the same once (cli/routerctl_etcd.c).
 */
#ifndef ROUTER_VITESS_LATENT_H
#define ROUTER_VITESS_LATENT_H

#include <stddef.h>
#include <stdint.h>

#include "router.h"
#include "vitess_build.h"

/* Bytes kept of a key (a longer key is cut; the judgement is not). */
#define ROUTER__VITESS_KEY_MAX 512
/* Table and vindex names listed in a finding's message. */
#define ROUTER__VITESS_LATENT_NAMES 5

/* Which global value a key holds. */
typedef enum router__vitess_global {
	ROUTER__VITESS_GLOBAL_NONE = 0, /* none a rebuild reads */
	ROUTER__VITESS_GLOBAL_VSCHEMA = 1,
	ROUTER__VITESS_GLOBAL_ROUTING_RULES = 2,
	ROUTER__VITESS_GLOBAL_SHARD_ROUTING_RULES = 3,
	ROUTER__VITESS_GLOBAL_KEYSPACE_ROUTING_RULES = 4,
	ROUTER__VITESS_GLOBAL_MIRROR_RULES = 5
} router__vitess_global;

/* The global value key[0..key_len) holds under global_root (trailing
 * slashes ignored; "" is the etcd root).  For a VSchema key, its keyspace
 * is written to keyspace (NUL-terminated; ROUTER_NAME_MAX + 1 bytes; may
 * be NULL); a keyspace name that is empty, longer than ROUTER_NAME_MAX or
 * holds a NUL is ROUTER__VITESS_GLOBAL_NONE.  Any thread. */
router__vitess_global router__vitess_global_key(const char *global_root,
                                                const void *key,
                                                size_t key_len,
                                                char *keyspace);

/* The path of a rules value below the global root ("/RoutingRules"...),
 * or NULL for ROUTER__VITESS_GLOBAL_NONE and _VSCHEMA. */
const char *router__vitess_global_path(router__vitess_global g);

/* One global value, as read or as a watch delivered it. */
typedef struct router__vitess_global_value {
	const char *global_root; /* "/vitess/global" */
	const void *key;         /* the full etcd key */
	size_t key_len;
	const void *value; /* raw bytes (NULL when len is 0); ignored when
	                    * deleted */
	size_t len;
	int64_t mod_revision; /* of the put (or of the delete; 0: unknown) */
	int deleted;          /* the key does not exist (any more) */
} router__vitess_global_value;

/* What a judgement found (caller-owned, no pointers to free). */
typedef struct router__vitess_finding {
	/* ROUTER_OK: the rebuild would be accepted, nothing latent.  Else
	 * why it would not: ROUTER_EDOC (the bytes do not decode: the
	 * rebuild itself would fail), a guard's code (ROUTER_EEMPTY,
	 * ROUTER_ESHRINK, ROUTER_EKSIDCHANGE...), a build's
	 * (ROUTER_ECOVERAGE, ROUTER_ENOTFOUND, a loader code: the SrvVSchema
	 * the rebuild would write does not make a table; the incident's
	 * empty keyspace over several shards is ROUTER_ECOVERAGE there), or
	 * ROUTER_ERULE: the table would be accepted, but routing rules that
	 * are not errors as served would be (vtgate keeps a rule whose
	 * target names no table as an error: lookups through it fail). */
	int code;
	router__vitess_global what;
	char key[ROUTER__VITESS_KEY_MAX];     /* the global key */
	char keyspace[ROUTER_NAME_MAX + 1];   /* VSchema keys, or the
	                                       * culprit keyspace; "" else */
	int64_t mod_revision;
	int deleted;
	/* A VSchema key whose rebuild built (found or not) or was refused:
	 * what the keyspace as served would lose (0 for a keyspace not
	 * served), how many shards its SrvKeyspace lists for the tablet
	 * type, sharded as served and in the value.  0 when the value did
	 * not decode or the deleted keyspace is not served. */
	size_t tables_lost;
	size_t vindexes_lost;
	size_t shards;
	int served_sharded, value_sharded;
	/* What would break, one line: "would drop 3 of its 4 tables
	 * (corder, customer, product) ...: EEMPTY: <the guard's words>". */
	char message[2 * ROUTER_MESSAGE_MAX];
} router__vitess_finding;

/* Judge gv against what the cell serves: served is the input the cell's
 * table in service was built from (the SrvVSchema and SrvKeyspaces raw
 * bytes with their revisions, the tablet type: router__vitess_build's
 * input); max_shrink is the follower's router_options.max_shrink (< 0:
 * the default 0.10).  *out is filled in every case the function returns
 * ROUTER_OK: out->code ROUTER_OK when the rebuild would be accepted,
 * else the finding.
 * Returns ROUTER_OK (judged), or the judgement could not be made:
 * ROUTER_EINVAL (NULL argument, a key no rebuild reads, max_shrink > 1),
 * ROUTER_ENOMEM, or the served input's own failure (it does not build,
 * or is refused as a first publish: the code and err of that; report it
 * as the served-side problem, nothing latent can be judged against it).
 * ROUTER_ECALLBACK when called from a router's event callback (the
 * private router's publish cannot run there: call it from the
 * follower's own thread).  err says why on failure.  Any other thread;
 * the caller's router is never touched, and no lock of it is taken. */
int router__vitess_latent_judge(const router__vitess_input *served,
                                const router__vitess_global_value *gv,
                                double max_shrink,
                                router__vitess_finding *out,
                                router_error *err);

/* Judge served itself as the first publish of a router (max_shrink as
 * above): ROUTER_OK when it builds and the guards accept it, else the
 * code with err naming the key or keyspace (router__vitess_build's codes,
 * or the refusal's).  *version (optional) receives the version of the
 * built table (0 when it did not build).  Any thread but a router event
 * callback's (ROUTER_ECALLBACK there). */
int router__vitess_latent_served(const router__vitess_input *served,
                                 double max_shrink, uint64_t *version,
                                 router_error *err);

#endif /* ROUTER_VITESS_LATENT_H */
