/*
 * The document loader's two halves: doc_load.c walks the JSON and builds
 * the table; doc_vschema.c makes the checks of Vitess's BuildVSchema that
 * the table does not model (reference tables' "source", auto_increment
 * sequences), reading the same JSON.
 */
#ifndef ROUTER_DOC_INTERNAL_H
#define ROUTER_DOC_INTERNAL_H

#include <jansson.h>

#include "table.h"

/* A keyspace of the document: its name and its JSON object (alive as long
 * as the document's root). */
typedef struct router__doc_ks {
	const char *name;
	json_t *obj;
} router__doc_ks;

/* A problem of table `table` of keyspace ks[ksi], about its field `field`
 * ("source", "auto_increment"): code and Vitess's message. */
typedef void (*router__doc_problem_fn)(void *ctx, size_t ksi,
                                       const char *table, const char *field,
                                       int code, const char *msg);

/* Reference tables' sources, as Vitess's buildTables (the source must
 * parse: "invalid source ...") and, when cross != 0, buildReferences
 * (same keyspace, missing keyspace or table, wrong table type, referenced
 * twice from a keyspace, chains) check them.  cross is 0 for a
 * single-keyspace document, which Vitess builds with BuildKeyspace (no
 * references resolved).  The documents' JSON types are already checked.
 * Returns 0, or -1 out of memory. */
int router__doc_check_references(const router__doc_ks *ks, size_t n,
                                 int cross, const router_allocator *a,
                                 router__doc_problem_fn fn, void *ctx);

/* auto_increment sequences, resolved as Vitess's resolveAutoIncrement
 * does (routing rules of t first, then the keyspace, then the tables
 * whose name is unique across keyspaces): "cannot resolve sequence ...".
 * t is the table built from the same document.  Returns 0, or -1 out of
 * memory. */
int router__doc_check_sequences(const router__doc_ks *ks, size_t n,
                                const router_table *t,
                                const router_allocator *a,
                                router__doc_problem_fn fn, void *ctx);

#endif /* ROUTER_DOC_INTERNAL_H */
