/*
 * librouter routing documents: Vitess VSchema JSON to and from tables.
 *
 * A routing document is what Vitess keeps in its topology, in one of the
 * three shapes Vitess itself accepts:
 *   1. a SrvVSchema: {"keyspaces": {NAME: KEYSPACE, ...},
 *                     "routing_rules": {"rules": [...]}, ...};
 *   2. a bare map of keyspace name to keyspace (vtexplain's format);
 *   3. one keyspace's VSchema (what `vtctldclient ApplyVSchema` takes), whose
 *      keyspace name is given by the caller.
 * Field names may be snake_case or lowerCamelCase (protobuf JSON).  Fields
 * Vitess does not know are skipped as Vitess skips them, and reported.
 *
 * librouter adds two optional fields: "version": N at the top level (a
 * non-negative integer, or a decimal string for values above 2^63 - 1, as
 * protobuf JSON writes 64-bit integers), and per keyspace "shards":
 * ["-80", "80-"], the partition Vitess keeps in SrvKeyspace.  An unsharded
 * keyspace without shards has the single shard "0"; a sharded keyspace
 * without shards is an error unless the caller supplies its shards.
 *
 * Conventions are router.h's: negative ROUTER_E* codes, an optional
 * caller-owned router_error, out-parameters for created objects, free
 * functions that accept NULL.  Every function here is thread-safe on its
 * own arguments (no global state; jansson, which parses and writes the
 * JSON, allocates with its own allocator, malloc unless the application
 * changed it with json_set_alloc_funcs).
 */
#ifndef ROUTER_DOC_H
#define ROUTER_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "router.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest document router_doc_load accepts (bytes).  Larger inputs are
 * refused with ROUTER_ERANGE before parsing, so a stray /dev/zero cannot
 * exhaust memory. */
#define ROUTER_DOC_MAX_SIZE ((size_t)256 << 20)

/* Which of the three shapes a document has. */
typedef enum router_doc_format {
	/* Decide from the top-level fields: "keyspaces" or another SrvVSchema
	 * field means SRV; a keyspace field ("sharded", "vindexes",
	 * "tables", "shards", ...) means KEYSPACE; an empty object means
	 * KEYSPACE when a keyspace name is given, else an empty MAP;
	 * anything else is a MAP. */
	ROUTER_DOC_AUTO = 0,
	ROUTER_DOC_SRV = 1,     /* SrvVSchema */
	ROUTER_DOC_MAP = 2,     /* keyspace name -> keyspace */
	ROUTER_DOC_KEYSPACE = 3 /* one keyspace; options.keyspace names it */
} router_doc_format;

/* Shards a caller supplies for a keyspace: they replace the document's
 * "shards" for that keyspace (or supply them when it has none). */
typedef struct router_doc_shards {
	const char *keyspace;      /* NUL-terminated keyspace name */
	const char *const *shards; /* nshards Vitess shard names ("-80") */
	size_t nshards;
} router_doc_shards;

/* Load flags (router_doc_options.flags). */
/* Fields Vitess does not know are errors (ROUTER_EDOC), not warnings. */
#define ROUTER_DOC_STRICT 0x1u
/* Shards supplied for a keyspace the document does not define are a
 * warning instead of ROUTER_ENOTFOUND (for callers that apply one shard
 * list to several documents, e.g. the table in service and the next). */
#define ROUTER_DOC_UNUSED_SHARDS_OK 0x2u
/* The document may not name any local file, whatever json_path_dir says:
 * a numeric_static_map "json_path" param is refused (ROUTER_EDOC) without
 * the file being opened.  For documents that arrive over the network (the
 * etcd follower sets it); router_doc_load of a buffer already behaves so
 * unless json_path_dir is given. */
#define ROUTER_DOC_NO_FILES 0x4u

typedef struct router_doc_options {
	size_t size;              /* sizeof(router_doc_options) */
	router_doc_format format; /* ROUTER_DOC_AUTO by default */
	/* Name of the keyspace of a single-keyspace VSchema (NUL-terminated);
	 * NULL otherwise.  Ignored for SRV and MAP documents. */
	const char *keyspace;
	/* Caller-supplied shards, one entry per keyspace (may be NULL when
	 * nshards is 0). */
	const router_doc_shards *shards;
	size_t nshards;
	unsigned flags; /* ROUTER_DOC_STRICT, _UNUSED_SHARDS_OK, _NO_FILES */
	/* Allocator of the builder, the table and the report (NULL:
	 * malloc). */
	const router_allocator *allocator;
	/* Version of the table, overriding the document's "version" when not
	 * 0 (a caller that versions documents itself: a revision number, a
	 * binding's version= argument). */
	uint64_t version;
	/* Directory (NUL-terminated) under which a numeric_static_map
	 * "json_path" param is resolved.  The policy for files a document
	 * names (see "Files a document names" below):
	 *   - ROUTER_DOC_NO_FILES in flags: no file, ever;
	 *   - json_path_dir set: json_path must be a relative path below it,
	 *     without ".." components and without symbolic links (the
	 *     directory itself may be one);
	 *   - json_path_dir NULL: router_doc_load reads no file;
	 *     router_doc_load_file resolves json_path under the directory of
	 *     the document file.
	 * Added after version: callers built against an older header pass
	 * a smaller size and get NULL. */
	const char *json_path_dir;
} router_doc_options;

#define ROUTER_DOC_OPTIONS_INIT                                          \
	{sizeof(router_doc_options), ROUTER_DOC_AUTO, NULL, NULL, 0, 0, NULL, 0, \
	 NULL}

/* ------------------------------------------------------------------------ */
/* Reports: every error and warning of one load                             */
/* ------------------------------------------------------------------------ */

typedef enum router_doc_note_kind {
	/* The document is refused for this reason. */
	ROUTER_DOC_NOTE_ERROR = 1,
	/* A field Vitess does not know either: skipped, as Vitess skips it.
	 * Often a misspelling; the message suggests the field meant. */
	ROUTER_DOC_NOTE_UNKNOWN = 2,
	/* A Vitess field that does not decide which shard serves a row
	 * (auto_increment, columns, source, foreign_key_mode...), or a
	 * document value the caller replaced (shards): not used. */
	ROUTER_DOC_NOTE_IGNORED = 3,
	/* A Vitess field vtgate acts on that librouter does not apply:
	 * non-empty mirror_rules (vtgate sends copies of some queries
	 * elsewhere; no query is served elsewhere).  Until 0.3 also
	 * shard_routing_rules and keyspace_routing_rules, which the table
	 * now applies (router_route_target). */
	ROUTER_DOC_NOTE_UNSUPPORTED = 4,
	/* A routing rule that vtgate keeps as an error instead of refusing
	 * the document (several targets, a duplicate, a target that names no
	 * table): the document loads, every other table routes, and a lookup
	 * through the rule fails with ROUTER_ERULE.  message: Vitess's
	 * error; culprit: the rule's from_table. */
	ROUTER_DOC_NOTE_RULE = 5,
	/* A keyspace vtgate keeps with an error (Vitess's
	 * KeyspaceSchema.Error) instead of refusing the document: its
	 * definitions fail Vitess's build (code ROUTER_EVSCHEMA or
	 * ROUTER_EREFERENCE in the note's error, message Vitess's).  The
	 * other keyspaces load and route; every lookup in this one fails
	 * with ROUTER_EKEYSPACE.  culprit: the keyspace. */
	ROUTER_DOC_NOTE_KEYSPACE = 6
} router_doc_note_kind;

typedef struct router_doc_note {
	router_doc_note_kind kind;
	/* code: ROUTER_OK for warnings, else the error's code.  culprit: the
	 * JSON path for problems found while reading the document; the
	 * object's name ("user.users", "user/-80") for problems found when
	 * the table is validated.  message: what and why. */
	router_error error;
	/* Full JSON path of the value at fault ("keyspaces.user.tables.users
	 * .column_vindexes[0].name", "" for the whole document), never
	 * truncated; the object's name when it is not in the document. */
	const char *path;
	/* 1-based line and column of a syntax error, else 0. */
	int line;
	int column;
} router_doc_note;

typedef struct router_doc_report router_doc_report;

/* Number of notes of a kind (0: all kinds). */
ROUTER_EXTERN size_t router_doc_report_count(const router_doc_report *r,
                                             router_doc_note_kind kind);
/* Note i (document order: syntax and reading problems first, then
 * validation problems), or NULL past the end.  Valid until
 * router_doc_report_free. */
ROUTER_EXTERN const router_doc_note *
router_doc_report_get(const router_doc_report *r, size_t i);
ROUTER_EXTERN void router_doc_report_free(router_doc_report *r);

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

/* Files a document names.  Only a numeric_static_map vindex's "json_path"
 * param names a file.  A document loaded from memory (a buffer from the
 * network, etcd, a snapshot) may not reach the local file system: its
 * json_path is refused with ROUTER_EDOC at ...params.json_path, naming the
 * param, without the file being opened.  Put the map inline in the "json"
 * param instead (Vitess reads either).  A document loaded from a local
 * file may name a map file relative to its own directory (or to
 * options.json_path_dir): the file is opened without following symbolic
 * links and without blocking (a FIFO, a device or a directory is refused,
 * not read), read up to 64 MiB, and its content replaces the param: the
 * table holds the map inline as "json", so router_doc_dump writes a
 * document that loads anywhere with the same router_table_hash, and the
 * hash changes when the map's content does.  Messages about such a file
 * name the file and the reason, never its content.
 *
 * Names.  Keyspace, table, vindex, column and shard names and routing
 * rule targets are C strings: a name holding a control character (bytes
 * 0x01-0x1f and 0x7f) is refused with ROUTER_EDOC at its path, and JSON
 * "\u0000" anywhere is a syntax error (ROUTER_EDOC). */

/* Parse the document (json, len) (UTF-8 JSON; json may be NULL only when
 * len is 0), build its table with a router_builder and validate it.
 * opt may be NULL (defaults).  On success *out is a new table the caller
 * owns (router_table_free, or hand it to router_publish), with the
 * document's version (0 when it has none).  On failure *out is NULL.
 * report (optional): receives a new report with every error and warning,
 * on success and on failure alike (NULL after ROUTER_EINVAL, ROUTER_EIO and
 * ROUTER_ENOMEM, which say everything in err); free it with
 * router_doc_report_free.
 * Reading stops at syntax errors; otherwise every problem of the document
 * is reported, then the table is validated (unless a part of the document
 * could not be read) and the builder's problems are added.
 * Returns ROUTER_OK, or the code of the first error, which err receives:
 *   ROUTER_EDOC       malformed document: JSON syntax (culprit "line L,
 *                     column C"), wrong types, missing shards of a sharded
 *                     keyspace, a single-keyspace document without a name;
 *   ROUTER_EVSCHEMA, ROUTER_EREFERENCE, ROUTER_ECOVERAGE, ROUTER_EEMPTY,
 *   ROUTER_ESHARDNAME, ROUTER_ERANGE
 *                     the VSchema is invalid (Vitess's messages); ERANGE
 *                     also for a document over ROUTER_DOC_MAX_SIZE;
 *   ROUTER_ENOTFOUND  shards supplied for a keyspace the document lacks;
 *   ROUTER_EINVAL     NULL arguments, bad options (size, format, shard
 *                     entries), ROUTER_DOC_KEYSPACE without a keyspace;
 *   ROUTER_ENOMEM.
 * Any thread. */
ROUTER_EXTERN int router_doc_load(const void *json, size_t len,
                                  const router_doc_options *opt,
                                  router_table **out,
                                  router_doc_report **report,
                                  router_error *err);

/* Read the file at path (NUL-terminated) and router_doc_load it, with
 * json_path resolved under the file's directory unless opt says otherwise
 * (see "Files a document names").  The file must be a regular file: it
 * is opened without blocking (O_NONBLOCK, then reads block as usual), so a
 * FIFO, a device or a directory at path is refused with ROUTER_EIO rather
 * than waited on or read forever; pass a pipe's content to
 * router_doc_load.  Same returns, plus ROUTER_EIO when the file cannot be
 * opened or read or is not a regular file (culprit: the path; message:
 * the reason; errno: the system's reason, EISDIR for a directory, EINVAL
 * for another file that is not a regular one, so that a binding can raise
 * its own OS error for the path).  Any thread. */
ROUTER_EXTERN int router_doc_load_file(const char *path,
                                       const router_doc_options *opt,
                                       router_table **out,
                                       router_doc_report **report,
                                       router_error *err);

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */

/* Dump flags. */
#define ROUTER_DOC_DUMP_COMPACT 0x1u /* one line instead of indented */
/* Plain Vitess: leave out librouter's "version" and "shards", so the
 * output can be given to vtctldclient as is. */
#define ROUTER_DOC_DUMP_VITESS 0x2u

/* Write table t as a document: with keyspace NULL a SrvVSchema holding
 * every keyspace and the routing rules, else that keyspace's own VSchema
 * (routing rules, which are global, left out).  Keys are sorted, so equal
 * tables give equal bytes.  Unless ROUTER_DOC_DUMP_VITESS, the document
 * carries the table's version (when not 0) and every keyspace's shards, so
 * that router_doc_load of it gives a table with the same router_table_hash
 * and version (for a keyspace dump: with options.keyspace set to it).
 * Only what the table holds is written: fields the loader ignored
 * (auto_increment, columns...) are not.
 * *out receives the NUL-terminated text, allocated with alloc (NULL:
 * malloc), which the caller frees with alloc->free (or free()); *len
 * (optional) its length without the NUL.  t must stay alive during the
 * call: a table in service is safe to dump from router_inspect.
 * Returns ROUTER_OK, ROUTER_ENOTFOUND (no such keyspace), ROUTER_EINVAL
 * (NULL t or out, unknown flags), ROUTER_ENOMEM.  Any thread. */
ROUTER_EXTERN int router_doc_dump(const router_table *t, const char *keyspace,
                                  unsigned flags,
                                  const router_allocator *alloc, char **out,
                                  size_t *len, router_error *err);

/* ------------------------------------------------------------------------ */
/* Inspecting a table                                                       */
/* ------------------------------------------------------------------------ */

/* What a table holds, for tools that show a document (routerctl, the demo)
 * and for tests.  Every function reads a built table only: t (and a, b)
 * must stay alive during the call, and the strings returned are owned by
 * the table and valid while it lives.  Any thread; a table in service is
 * safe to inspect from router_inspect. */

/* Number of keyspaces of t (0 when t is NULL). */
ROUTER_EXTERN size_t router_doc_keyspace_count(const router_table *t);
/* Name (NUL-terminated) of keyspace i, keyspaces sorted by name (strcmp);
 * NULL when t is NULL or i >= router_doc_keyspace_count(t). */
ROUTER_EXTERN const char *router_doc_keyspace_name(const router_table *t,
                                                   size_t i);

/* Number of shards of keyspace (NUL-terminated; an unsharded keyspace has
 * one); 0 when t or keyspace is NULL or t has no such keyspace. */
ROUTER_EXTERN size_t router_doc_shard_count(const router_table *t,
                                            const char *keyspace);
/* Name (NUL-terminated, as given: "-80", "0") of shard i of keyspace,
 * shards in partition order (by start key); NULL when t or keyspace is
 * NULL, the keyspace does not exist, or i is past its last shard. */
ROUTER_EXTERN const char *router_doc_shard_name(const router_table *t,
                                                const char *keyspace,
                                                size_t i);

/* The vindex a lookup of keyspace.table goes through, resolved as
 * router_table_route resolves it (routing rules first, then the keyspace's
 * tables, then an unsharded keyspace's undeclared tables).  (keyspace,
 * keyspace_len) and (table, table_len) are buffers.  *name and *type
 * receive the primary vindex's name and type ("xxhash"), or NULL for a
 * table routed without a vindex (unsharded keyspace, pinned or reference
 * table); both are NULL on failure.
 * Returns ROUTER_OK; ROUTER_ENOTFOUND (no such keyspace or table);
 * ROUTER_EDISABLED (a routing rule disables the table); ROUTER_EINVAL (t,
 * name or type NULL, or a NULL buffer with a length).  err (optional)
 * names the culprit. */
ROUTER_EXTERN int router_doc_primary_vindex(const router_table *t,
                                            const char *keyspace,
                                            size_t keyspace_len,
                                            const char *table,
                                            size_t table_len,
                                            const char **name,
                                            const char **type,
                                            router_error *err);

/* Share (0 to 1) of the keyspace-ID space of keyspace (NUL-terminated)
 * whose shard, by name, differs between tables a and b: what a reshard
 * from a to b moves (0 for equal partitions, 1 when every shard is
 * renamed).  *share is 0 on failure.
 * Returns ROUTER_OK; ROUTER_ENOTFOUND (keyspace missing from a or b);
 * ROUTER_EINVAL (a NULL argument but err); ROUTER_ENOMEM (it allocates a
 * sorted copy of both partitions' bounds with malloc).  err (optional)
 * names the keyspace. */
ROUTER_EXTERN int router_doc_moved_share(const router_table *a,
                                         const router_table *b,
                                         const char *keyspace, double *share,
                                         router_error *err);

#ifdef __cplusplus
}
#endif
#endif /* ROUTER_DOC_H */
