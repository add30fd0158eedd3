/*
 * Frozen-table tests: the builder's adders, Vitess-style validation at
 * build time (one test per SPEC 3.5 rule the builder API can express),
 * routing on a built table (vectors.json "shard_for_ksid",
 * "partition_validation", "keyrange_parse" and "vindex" run from the file
 * through real tables), the content hash, diffs, and allocation failures
 * at every allocation of a build and of a diff.
 */
#include <inttypes.h>
#include <stdint.h>

#include "testutil.h"

#include "router.h"
#include "core/table.h"

/* ---- helpers ------------------------------------------------------------ */

/* The error of the last call made with &E (tests are single-threaded). */
static router_error E;

#define OK(call) ok_((call), #call, __LINE__)
static void ok_(int rc, const char *what, int line)
{
	if (rc != ROUTER_OK)
		fail_msg("line %d: %s -> %s: %s [culprit %s]", line, what,
		         router_errname(rc), E.message, E.culprit);
}

/* rc and E must be `want`; E names `culprit` (if given) and its message
 * contains `sub` (if given) and is never empty. */
#define EXPECT(call, want, culprit, sub)                                       \
	expect_((call), (want), (culprit), (sub), #call, __LINE__)
static void expect_(int rc, int want, const char *culprit, const char *sub,
                    const char *what, int line)
{
	if (rc != want)
		fail_msg("line %d: %s -> %s, want %s: %s", line, what,
		         router_errname(rc), router_errname(want), E.message);
	if (E.code != want)
		fail_msg("line %d: %s: err.code %s, want %s", line, what,
		         router_errname(E.code), router_errname(want));
	if (E.message[0] == '\0')
		fail_msg("line %d: %s: empty message", line, what);
	if (culprit != NULL && strcmp(E.culprit, culprit) != 0)
		fail_msg("line %d: %s: culprit '%s', want '%s' (%s)", line,
		         what, E.culprit, culprit, E.message);
	if (sub != NULL && strstr(E.message, sub) == NULL)
		fail_msg("line %d: %s: message '%s' lacks '%s'", line, what,
		         E.message, sub);
}

static router_builder *new_builder(const router_allocator *a)
{
	router_builder *b = NULL;

	OK(router_builder_create(&b, a, &E));
	assert_non_null(b);
	return b;
}

/* A deterministic generator (xorshift64*). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Route keyspace.table with one int64 value. */
static int route_i64(const router_table *t, const char *ks, const char *tb,
                     int64_t v, router_route_result *out)
{
	router_value val = ROUTER_VALUE_INT64(v);

	return router_table_route(t, ks, strlen(ks), tb, strlen(tb), &val, 1,
	                          out, &E);
}

static int route_ksid(const router_table *t, const char *ks, const void *k,
                      size_t len, router_route_result *out)
{
	return router_table_route_ksid(t, ks, strlen(ks), k, len, out, &E);
}

/* ---- counting allocator --------------------------------------------------- */


/* ---- table specifications as data ---------------------------------------- */

enum { K_KS = 1, K_SHARD, K_VINDEX, K_TABLE, K_CV, K_RULE };

/* One adder call.  ks is the keyspace (K_RULE: from_table); name the shard,
 * vindex or table; s the vindex type, table pin, column vindex's vindex or
 * rule target; n sharded or table type. */
typedef struct op {
	int k;
	const char *ks;
	const char *name;
	const char *s;
	int n;
	const char *owner;
	router_param p[4];
	const char *cols[4];
} op;

#define KS(k_, sharded) {.k = K_KS, .ks = (k_), .n = (sharded)}
#define SH(k_, shard) {.k = K_SHARD, .ks = (k_), .name = (shard)}
#define VX(k_, name_, type_, owner_)                                           \
	{.k = K_VINDEX, .ks = (k_), .name = (name_), .s = (type_),             \
	 .owner = (owner_)}
#define VXP(k_, name_, type_, owner_, ...)                                     \
	{.k = K_VINDEX, .ks = (k_), .name = (name_), .s = (type_),             \
	 .owner = (owner_), .p = {__VA_ARGS__}}
#define TB(k_, name_, type_, pin)                                              \
	{.k = K_TABLE, .ks = (k_), .name = (name_), .n = (type_), .s = (pin)}
#define CV(k_, table_, vindex_, ...)                                           \
	{.k = K_CV, .ks = (k_), .name = (table_), .s = (vindex_),             \
	 .cols = {__VA_ARGS__}}
#define RULE(from, to) {.k = K_RULE, .ks = (from), .s = (to)}
#define NORMAL ROUTER_TABLE_NORMAL
#define REFERENCE ROUTER_TABLE_REFERENCE
#define SEQUENCE ROUTER_TABLE_SEQUENCE
#define NOPS(a) (sizeof(a) / sizeof((a)[0]))

static int apply_op(router_builder *b, const op *o, router_error *err)
{
	size_t np = 0, nc = 0;

	while (np < 4 && o->p[np].key != NULL)
		np++;
	while (nc < 4 && o->cols[nc] != NULL)
		nc++;
	switch (o->k) {
	case K_KS:
		return router_builder_add_keyspace(b, o->ks, o->n, err);
	case K_SHARD:
		return router_builder_add_shard(b, o->ks, o->name, err);
	case K_VINDEX:
		return router_builder_add_vindex(b, o->ks, o->name, o->s,
		                                 np ? o->p : NULL, np, o->owner,
		                                 err);
	case K_TABLE:
		return router_builder_add_table(b, o->ks, o->name,
		                                (router_table_type)o->n, o->s,
		                                err);
	case K_CV:
		return router_builder_add_column_vindex(b, o->ks, o->name, o->s,
		                                        o->cols, nc, err);
	case K_RULE:
		return router_builder_add_routing_rule(b, o->ks, o->s, err);
	default:
		fail_msg("bad op kind %d", o->k);
		return ROUTER_EINVAL;
	}
}

/* Apply ops; the first failure's code (err filled), else ROUTER_OK. */
static int apply_ops(router_builder *b, const op *ops, size_t n,
                     router_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int rc = apply_op(b, &ops[i], err);

		if (rc != ROUTER_OK)
			return rc;
	}
	return ROUTER_OK;
}

/* Build ops into a table or fail the test. */
static router_table *must_build(const op *ops, size_t n)
{
	router_builder *b = new_builder(NULL);
	router_table *t = NULL;

	OK(apply_ops(b, ops, n, &E));
	OK(router_table_build(b, &t, &E));
	assert_non_null(t);
	router_builder_free(b);
	return t;
}

/* Build ops that must be accepted by the adders; return the build's code
 * and keep the builder in *bout (to free) for its problems. */
static int try_build(const op *ops, size_t n, router_builder **bout,
                     router_table **out)
{
	router_builder *b = new_builder(NULL);

	OK(apply_ops(b, ops, n, &E));
	*bout = b;
	return router_table_build(b, out, &E);
}

/* Build ops expecting exactly one problem: `want` naming `culprit` with
 * `msg` in its message.  Nothing is returned in *out. */
#define REFUSED(ops, want, culprit, msg)                                       \
	refused_((ops), NOPS(ops), (want), (culprit), (msg), __LINE__)
static void refused_(const op *ops, size_t n, int want, const char *culprit,
                     const char *msg, int line)
{
	router_builder *b;
	router_table *t = (router_table *)&t; /* must be reset to NULL */
	int rc = try_build(ops, n, &b, &t);
	router_error p;

	expect_(rc, want, culprit, msg, "router_table_build", line);
	if (t != NULL)
		fail_msg("line %d: a refused build returned a table", line);
	if (router_builder_problem_count(b) != 1) {
		for (size_t i = 0; i < router_builder_problem_count(b); i++) {
			router_builder_problem(b, i, &p);
			print_message("problem %zu: %s [%s] %s\n", i,
			              router_errname(p.code), p.culprit,
			              p.message);
		}
		fail_msg("line %d: %zu problems, want 1", line,
		         router_builder_problem_count(b));
	}
	assert_int_equal(router_builder_problem(b, 0, &p), ROUTER_OK);
	assert_int_equal(p.code, want);
	assert_string_equal(p.message, E.message);
	router_builder_free(b);
}

/* Build ops expecting success. */
#define ACCEPTED(ops) router_table_free(must_build((ops), NOPS(ops)))

/* ---- builder adders --------------------------------------------------------- */

static void adders_refuse_null_empty_and_overlong_names(void **state)
{
	router_builder *b = new_builder(NULL);
	char max[ROUTER_NAME_MAX + 1], over[ROUTER_NAME_MAX + 2];
	const char *col[] = {"id"}, *nullcol[] = {NULL}, *overcol[] = {over};
	const char *names[3];
	const int codes[3] = {ROUTER_EINVAL, ROUTER_EINVAL, ROUTER_ERANGE};

	(void)state;
	memset(max, 'k', ROUTER_NAME_MAX);
	max[ROUTER_NAME_MAX] = '\0';
	memset(over, 'o', ROUTER_NAME_MAX + 1);
	over[ROUTER_NAME_MAX + 1] = '\0';
	names[0] = NULL;
	names[1] = "";
	names[2] = over;

	/* Exactly ROUTER_NAME_MAX bytes is fine everywhere. */
	OK(router_builder_add_keyspace(b, max, 1, &E));
	OK(router_builder_add_keyspace(b, "ks", 1, &E));
	OK(router_builder_add_vindex(b, "ks", max, "hash", NULL, 0, max, &E));
	OK(router_builder_add_table(b, "ks", max, NORMAL, NULL, &E));
	OK(router_builder_add_table(b, "ks", "t", NORMAL, NULL, &E));
	{
		const char *maxcol[] = {max};

		OK(router_builder_add_column_vindex(b, "ks", max, max, maxcol,
		                                    1, &E));
	}
	OK(router_builder_add_routing_rule(b, "ks.x", "ks.t", &E));

	for (int i = 0; i < 3; i++) {
		const char *nm = names[i];
		int want = codes[i];

		EXPECT(router_builder_add_keyspace(b, nm, 0, &E), want, NULL,
		       "keyspace name");
		EXPECT(router_builder_add_shard(b, nm, "-80", &E), want, NULL,
		       "keyspace name");
		EXPECT(router_builder_add_shard(b, "ks", nm, &E), want, NULL,
		       "shard name");
		EXPECT(router_builder_add_vindex(b, nm, "v", "hash", NULL, 0,
		                                 NULL, &E),
		       want, NULL, "keyspace name");
		EXPECT(router_builder_add_vindex(b, "ks", nm, "hash", NULL, 0,
		                                 NULL, &E),
		       want, NULL, "vindex name");
		EXPECT(router_builder_add_vindex(b, "ks", "v", nm, NULL, 0,
		                                 NULL, &E),
		       want, "ks.v", "vindex type");
		EXPECT(router_builder_add_table(b, nm, "t2", NORMAL, NULL, &E),
		       want, NULL, "keyspace name");
		EXPECT(router_builder_add_table(b, "ks", nm, NORMAL, NULL, &E),
		       want, NULL, "table name");
		EXPECT(router_builder_add_column_vindex(b, "ks", nm, "v", col,
		                                        1, &E),
		       want, NULL, "table name");
		EXPECT(router_builder_add_column_vindex(b, "ks", "t", nm, col,
		                                        1, &E),
		       want, "ks.t", "column vindex name");
		if (i > 0)
			EXPECT(router_builder_add_routing_rule(b, "ks.y", nm,
			                                       &E),
			       want, "ks.y", "routing rule target");
	}
	EXPECT(router_builder_add_column_vindex(b, "ks", "t", "v", nullcol, 1,
	                                        &E),
	       ROUTER_EINVAL, "ks.t", "column name");
	EXPECT(router_builder_add_column_vindex(b, "ks", "t", "v", overcol, 1,
	                                        &E),
	       ROUTER_ERANGE, "ks.t", "column name");
	EXPECT(router_builder_add_vindex(b, "ks", "v", "hash", NULL, 0, over,
	                                 &E),
	       ROUTER_ERANGE, "ks.v", "owner");
	EXPECT(router_builder_add_routing_rule(b, NULL, "ks.t", &E),
	       ROUTER_EINVAL, NULL, "from_table");
	EXPECT(router_builder_add_routing_rule(b, "", "ks.t", &E),
	       ROUTER_EINVAL, NULL, "from_table");
	{
		char from[3 * ROUTER_NAME_MAX];

		memset(from, 'f', sizeof from - 1);
		from[sizeof from - 1] = '\0';
		EXPECT(router_builder_add_routing_rule(b, from, "ks.t", &E),
		       ROUTER_ERANGE, NULL, "too long");
	}
	/* Nothing refused was recorded: the table still builds. */
	OK(router_builder_add_shard(b, "ks", "-", &E));
	OK(router_builder_add_shard(b, max, "-", &E));
	OK(router_builder_add_vindex(b, "ks", "v", "hash", NULL, 0, NULL, &E));
	OK(router_builder_add_column_vindex(b, "ks", "t", "v", col, 1, &E));
	{
		router_table *t = NULL;

		OK(router_table_build(b, &t, &E));
		router_table_free(t);
	}
	router_builder_free(b);
}

static void adders_refuse_a_null_builder_and_bad_arguments(void **state)
{
	router_builder *b = new_builder(NULL);
	router_param one = {"k", "v"};
	router_param nulls[2] = {{"k", NULL}, {NULL, "v"}};
	const char *col[] = {"c"};
	router_allocator half = {tu_malloc, NULL, tu_free, NULL};
	router_builder *o = (router_builder *)&o;

	(void)state;
	EXPECT(router_builder_create(NULL, NULL, &E), ROUTER_EINVAL, NULL,
	       NULL);
	EXPECT(router_builder_create(&o, &half, &E), ROUTER_EINVAL, NULL,
	       "allocator");
	assert_null(o);
	EXPECT(router_builder_add_keyspace(NULL, "ks", 0, &E), ROUTER_EINVAL,
	       NULL, NULL);
	EXPECT(router_builder_add_shard(NULL, "ks", "-", &E), ROUTER_EINVAL,
	       NULL, NULL);
	EXPECT(router_builder_add_vindex(NULL, "ks", "v", "hash", NULL, 0,
	                                 NULL, &E),
	       ROUTER_EINVAL, NULL, NULL);
	EXPECT(router_builder_add_table(NULL, "ks", "t", NORMAL, NULL, &E),
	       ROUTER_EINVAL, NULL, NULL);
	EXPECT(router_builder_add_column_vindex(NULL, "ks", "t", "v", col, 1,
	                                        &E),
	       ROUTER_EINVAL, NULL, NULL);
	EXPECT(router_builder_add_routing_rule(NULL, "a.b", "c.d", &E),
	       ROUTER_EINVAL, NULL, NULL);
	EXPECT(router_table_build(NULL, NULL, &E), ROUTER_EINVAL, NULL, NULL);
	assert_int_equal(router_builder_set_version(NULL, 1), ROUTER_EINVAL);
	assert_int_equal(router_builder_problem_count(NULL), 0);
	router_builder_free(NULL);

	EXPECT(router_builder_add_keyspace(b, "ks", 2, &E), ROUTER_EINVAL,
	       "ks", "sharded must be 0 or 1");
	OK(router_builder_add_keyspace(b, "ks", 1, &E));
	OK(router_builder_add_table(b, "ks", "t", NORMAL, NULL, &E));
	EXPECT(router_builder_add_vindex(b, "ks", "v", "hash", NULL, 1, NULL,
	                                 &E),
	       ROUTER_EINVAL, "ks.v", "params is NULL");
	EXPECT(router_builder_add_vindex(b, "ks", "v", "hash", &nulls[0], 1,
	                                 NULL, &E),
	       ROUTER_EINVAL, "ks.v", "NULL key or value");
	EXPECT(router_builder_add_vindex(b, "ks", "v", "hash", &nulls[1], 1,
	                                 NULL, &E),
	       ROUTER_EINVAL, "ks.v", "NULL key or value");
	OK(router_builder_add_vindex(b, "ks", "v", "hash", &one, 1, NULL, &E));
	EXPECT(router_builder_add_column_vindex(b, "ks", "t", "v", NULL, 1, &E),
	       ROUTER_EINVAL, "ks.t",
	       "must specify at least one column for vindex (v) and table (t)");
	EXPECT(router_builder_add_column_vindex(b, "ks", "t", "v", col, 0, &E),
	       ROUTER_EINVAL, "ks.t", "must specify at least one column");
	{
		const char *nine[9] = {"a", "b", "c", "d", "e",
		                       "f", "g", "h", "i"};

		EXPECT(router_builder_add_column_vindex(b, "ks", "t", "v", nine,
		                                        9, &E),
		       ROUTER_ERANGE, "ks.t", "limit is 8");
		OK(router_builder_add_column_vindex(b, "ks", "t", "v", nine, 8,
		                                    &E));
	}
	{
		char pin[2 * ROUTER_KSID_MAX + 3];

		memset(pin, 'a', sizeof pin - 1);
		pin[sizeof pin - 1] = '\0';
		EXPECT(router_builder_add_table(b, "ks", "p", NORMAL, pin, &E),
		       ROUTER_ERANGE, "ks.p", "pinned");
		pin[2 * ROUTER_KSID_MAX] = '\0';
		OK(router_builder_add_table(b, "ks", "p", NORMAL, pin, &E));
	}
	/* err may be NULL everywhere. */
	assert_int_equal(router_builder_add_keyspace(b, NULL, 0, NULL),
	                 ROUTER_EINVAL);
	assert_int_equal(router_builder_add_keyspace(b, "ks", 0, NULL),
	                 ROUTER_EINVAL);
	assert_int_equal(router_builder_add_shard(b, "ks", "-8", NULL),
	                 ROUTER_ESHARDNAME);
	router_builder_free(b);
}

static void adders_refuse_duplicates_naming_the_culprit(void **state)
{
	router_builder *b = new_builder(NULL);
	router_param dup[2] = {{"json", "{}"}, {"json", "{}"}};

	(void)state;
	OK(router_builder_add_keyspace(b, "user", 1, &E));
	OK(router_builder_add_keyspace(b, "other", 1, &E));
	EXPECT(router_builder_add_keyspace(b, "user", 0, &E), ROUTER_EINVAL,
	       "user", "keyspace user is already defined");
	OK(router_builder_add_shard(b, "user", "-80", &E));
	EXPECT(router_builder_add_shard(b, "user", "-80", &E), ROUTER_EINVAL,
	       "user/-80", "already defined");
	OK(router_builder_add_vindex(b, "user", "hash", "hash", NULL, 0, NULL,
	                             &E));
	EXPECT(router_builder_add_vindex(b, "user", "hash", "xxhash", NULL, 0,
	                                 NULL, &E),
	       ROUTER_EINVAL, "user.hash", "already defined");
	EXPECT(router_builder_add_vindex(b, "user", "nsm",
	                                 "numeric_static_map", dup, 2, NULL,
	                                 &E),
	       ROUTER_EINVAL, "user.nsm", "param json is given twice");
	OK(router_builder_add_table(b, "user", "users", NORMAL, NULL, &E));
	EXPECT(router_builder_add_table(b, "user", "users", REFERENCE, NULL,
	                                &E),
	       ROUTER_EINVAL, "user.users", "already defined");
	OK(router_builder_add_routing_rule(b, "user.t", "other.t", &E));
	EXPECT(router_builder_add_routing_rule(b, "user.t", NULL, &E),
	       ROUTER_EINVAL, "user.t", "duplicate rule for entry user.t");

	/* The same names in another keyspace, or another kind, are fine. */
	OK(router_builder_add_shard(b, "other", "-80", &E));
	OK(router_builder_add_vindex(b, "other", "hash", "hash", NULL, 0, NULL,
	                             &E));
	OK(router_builder_add_table(b, "other", "users", NORMAL, NULL, &E));
	OK(router_builder_add_table(b, "user", "hash", NORMAL, NULL, &E));
	OK(router_builder_add_routing_rule(b, "user.t@replica", "other.t", &E));
	router_builder_free(b);
}

static void adders_refuse_unknown_keyspaces_and_tables(void **state)
{
	router_builder *b = new_builder(NULL);
	const char *col[] = {"id"};

	(void)state;
	OK(router_builder_add_keyspace(b, "user", 1, &E));
	EXPECT(router_builder_add_shard(b, "nope", "-80", &E), ROUTER_EINVAL,
	       "nope", "keyspace nope is not defined");
	EXPECT(router_builder_add_vindex(b, "nope", "v", "hash", NULL, 0, NULL,
	                                 &E),
	       ROUTER_EINVAL, "nope", "keyspace nope is not defined");
	EXPECT(router_builder_add_table(b, "nope", "t", NORMAL, NULL, &E),
	       ROUTER_EINVAL, "nope", "keyspace nope is not defined");
	EXPECT(router_builder_add_column_vindex(b, "nope", "t", "v", col, 1,
	                                        &E),
	       ROUTER_EINVAL, "nope", "keyspace nope is not defined");
	EXPECT(router_builder_add_column_vindex(b, "user", "t", "v", col, 1,
	                                        &E),
	       ROUTER_EINVAL, "user.t", "table t is not defined in keyspace user");
	/* Keyspace names are case-sensitive, as in Vitess. */
	EXPECT(router_builder_add_table(b, "User", "t", NORMAL, NULL, &E),
	       ROUTER_EINVAL, "User", "not defined");
	router_builder_free(b);
}

static void add_table_refuses_an_unidentified_table_type(void **state)
{
	router_builder *b = new_builder(NULL);

	(void)state;
	OK(router_builder_add_keyspace(b, "ks", 0, &E));
	EXPECT(router_builder_add_table(b, "ks", "t", (router_table_type)3,
	                                NULL, &E),
	       ROUTER_EINVAL, "ks.t", "unidentified table type 3");
	EXPECT(router_builder_add_table(b, "ks", "t", (router_table_type)-1,
	                                NULL, &E),
	       ROUTER_EINVAL, "ks.t", "unidentified table type -1");
	OK(router_builder_add_table(b, "ks", "t", SEQUENCE, NULL, &E));
	router_builder_free(b);
}

/* keyrange_parse vectors with a validate_shard_name verdict, through
 * router_builder_add_shard: accepted names are added, refused ones are
 * ROUTER_ESHARDNAME with Vitess's message and the shard as culprit. */
static void add_shard_follows_validate_shard_name_vectors(void **state)
{
	json_t *root = tu_load_json("vectors.json");
	json_t *f = json_object_get(root, "keyrange_parse");
	size_t i, accepted = 0, refused = 0;
	json_t *e;

	(void)state;
	assert_true(json_array_size(f) > 0);
	json_array_foreach(f, i, e) {
		json_t *vsn = json_object_get(e, "validate_shard_name");
		const char *name = json_string_value(json_object_get(e, "shard"));
		const char *want = json_string_value(json_object_get(e, "error"));
		const char *note = json_string_value(json_object_get(e, "note"));
		router_builder *b;
		char culprit[200];
		int rc;

		if (!json_is_boolean(vsn))
			continue;
		b = new_builder(NULL);
		OK(router_builder_add_keyspace(b, "ks", 1, &E));
		memset(&E, 0, sizeof E);
		rc = router_builder_add_shard(b, "ks", name, &E);
		snprintf(culprit, sizeof culprit, "ks/%s", name);
		if (json_is_true(vsn)) {
			if (rc != ROUTER_OK)
				fail_msg("shard %s: %s", name, E.message);
			accepted++;
		} else {
			expect_(rc, ROUTER_ESHARDNAME, culprit, NULL, name,
			        __LINE__);
			if (want != NULL &&
			    (note == NULL || strstr(note, "not verified") == NULL)) {
				size_t ml = strlen(E.message);

				if (!(strcmp(E.message, want) == 0 ||
				      (strncmp(E.message, want, ml) == 0 &&
				       strncmp(want + ml, " (", 2) == 0)))
					fail_msg("shard %s: message '%s', want "
					         "'%s'",
					         name, E.message, want);
			}
			refused++;
		}
		router_builder_free(b);
	}
	assert_true(accepted > 0 && refused > 0);
	print_message("keyrange_parse vectors: %zu accepted, %zu refused by "
	              "add_shard\n",
	              accepted, refused);
	json_decref(root);
}

/* ---- build validation (SPEC 3.5) --------------------------------------------- */

static void build_refuses_an_unknown_vindex_type(void **state)
{
	static const op ops[] = {
	    KS("ks", 1), SH("ks", "-"), VX("ks", "v", "nosuch", NULL),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "v", "id")};

	(void)state;
	REFUSED(ops, ROUTER_EREFERENCE, "ks.v", "vindexType \"nosuch\" not found");
}

static void build_refuses_vindex_params_that_do_not_parse(void **state)
{
	static const op nsm[] = {
	    KS("ks", 1), SH("ks", "-"),
	    VXP("ks", "v", "numeric_static_map", NULL, {"json", "{\"1\": x}"}),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "v", "id")};
	static const op region[] = {
	    KS("ks", 1), SH("ks", "-"),
	    VXP("ks", "v", "region_experimental", NULL, {"region_bytes", "3"}),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "v", "a", "b")};
	static const op region_ctl[] = {
	    KS("ks", 1), SH("ks", "-"),
	    VXP("ks", "v", "region_experimental", NULL,
	        {"region_bytes", "1\x01"}),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "v", "a", "b")};
	static const op mc[] = {
	    KS("ks", 1), SH("ks", "-"),
	    VXP("ks", "v", "multicol", NULL, {"column_count", "0"}),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "v", "a")};
	/* Params Vitess does not know are ignored, as Vitess ignores them. */
	static const op unknown_param[] = {
	    KS("ks", 1), SH("ks", "-"), VXP("ks", "v", "hash", NULL, {"x", "y"}),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "v", "id")};

	(void)state;
	REFUSED(nsm, ROUTER_EREFERENCE, "ks.v", NULL);
	REFUSED(region, ROUTER_EREFERENCE, "ks.v", "region_bytes must be 1 or 2");
	/* The value is shown escaped (it went into the message raw). */
	REFUSED(region_ctl, ROUTER_EREFERENCE, "ks.v",
	        "region_bytes must be 1 or 2: 1\\x01");
	REFUSED(mc, ROUTER_EREFERENCE, "ks.v",
	        "number of columns should be between 1 and 8");
	ACCEPTED(unknown_param);
}

static void build_refuses_an_unpinned_sequence_in_a_sharded_keyspace(
    void **state)
{
	static const op bad[] = {KS("ks", 1), SH("ks", "-"),
	                         VX("ks", "v", "hash", NULL),
	                         TB("ks", "seq", SEQUENCE, NULL)};
	static const op pinned[] = {KS("ks", 1), SH("ks", "-80"),
	                            SH("ks", "80-"), VX("ks", "v", "hash", NULL),
	                            TB("ks", "seq", SEQUENCE, "90")};
	static const op unsharded[] = {KS("ks", 0),
	                               TB("ks", "seq", SEQUENCE, NULL)};

	(void)state;
	REFUSED(bad, ROUTER_EVSCHEMA, "ks.seq",
	        "sequence table has to be in an unsharded keyspace or must be "
	        "pinned: seq");
	ACCEPTED(pinned);
	ACCEPTED(unsharded);
}

static void build_refuses_a_pin_that_is_not_hex(void **state)
{
	static const op badbyte[] = {KS("ks", 1), SH("ks", "-"),
	                             VX("ks", "v", "hash", NULL),
	                             TB("ks", "t", NORMAL, "8z")};
	static const op odd[] = {KS("ks", 1), SH("ks", "-"),
	                         VX("ks", "v", "hash", NULL),
	                         TB("ks", "t", NORMAL, "abc")};
	static const op upper[] = {KS("ks", 1), SH("ks", "-"),
	                           VX("ks", "v", "hash", NULL),
	                           TB("ks", "t", NORMAL, "ABCD")};

	(void)state;
	REFUSED(badbyte, ROUTER_EVSCHEMA, "ks.t",
	        "could not decode the keyspace id for pin: encoding/hex: "
	        "invalid byte: U+007A 'z'");
	REFUSED(odd, ROUTER_EVSCHEMA, "ks.t",
	        "could not decode the keyspace id for pin: encoding/hex: odd "
	        "length hex string");
	ACCEPTED(upper);
}

static void build_refuses_a_sharded_table_without_primary_vindex(
    void **state)
{
	static const op bad[] = {KS("ks", 1), SH("ks", "-"),
	                         VX("ks", "v", "hash", NULL),
	                         TB("ks", "t", NORMAL, NULL)};
	/* Reference and pinned tables need none; nor does an unsharded
	 * keyspace. */
	static const op fine[] = {KS("ks", 1), SH("ks", "-"),
	                          VX("ks", "v", "hash", NULL),
	                          TB("ks", "r", REFERENCE, NULL),
	                          TB("ks", "p", NORMAL, "00"),
	                          KS("u", 0), TB("u", "t", NORMAL, NULL)};

	(void)state;
	REFUSED(bad, ROUTER_EVSCHEMA, "ks.t",
	        "missing primary col vindex for table: t");
	ACCEPTED(fine);
}

static void build_refuses_a_column_vindex_naming_an_undefined_vindex(
    void **state)
{
	static const op bad[] = {
	    KS("ks", 1), SH("ks", "-"), VX("ks", "v", "hash", NULL),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "v", "id"),
	    CV("ks", "t", "nov", "x")};
	/* Also in an unsharded keyspace, as Vitess builds its vindexes. */
	static const op unsharded[] = {KS("u", 0), TB("u", "t", NORMAL, NULL),
	                               CV("u", "t", "nov", "id")};

	(void)state;
	REFUSED(bad, ROUTER_EREFERENCE, "ks.t", "vindex nov not found for table t");
	REFUSED(unsharded, ROUTER_EREFERENCE, "u.t",
	        "vindex nov not found for table t");
}

static void build_refuses_a_primary_vindex_that_is_not_unique(void **state)
{
	static const op bad[] = {
	    KS("ks", 1), SH("ks", "-"), VX("ks", "h", "hash", NULL),
	    VXP("ks", "lk", "lookup", NULL, {"table", "lk"}, {"from", "c"},
	       {"to", "keyspace_id"}),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "lk", "c"),
	    CV("ks", "t", "h", "id")};
	/* A non-unique vindex is fine as a secondary one. */
	static const op fine[] = {
	    KS("ks", 1), SH("ks", "-"), VX("ks", "h", "hash", NULL),
	    VX("ks", "lk", "lookup_hash", NULL), TB("ks", "t", NORMAL, NULL),
	    CV("ks", "t", "h", "id"), CV("ks", "t", "lk", "c")};

	(void)state;
	REFUSED(bad, ROUTER_EVSCHEMA, "ks.t",
	        "primary vindex lk is not Unique for table t");
	ACCEPTED(fine);
}

/* Vitess: a lookup is owned by a table when its owner names that table;
 * only then may it not be the table's primary vindex. */
static void build_refuses_a_primary_lookup_owned_by_its_table(void **state)
{
	static const op bad[] = {
	    KS("ks", 1), SH("ks", "-"),
	    VXP("ks", "lu", "lookup_unique", "t", {"table", "lu"}),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "lu", "c")};
	static const op other_owner[] = {
	    KS("ks", 1), SH("ks", "-"), VX("ks", "h", "hash", NULL),
	    VXP("ks", "lu", "lookup_unique", "owner_t", {"table", "lu"}),
	    TB("ks", "owner_t", NORMAL, NULL), CV("ks", "owner_t", "h", "id"),
	    CV("ks", "owner_t", "lu", "c"), TB("ks", "t", NORMAL, NULL),
	    CV("ks", "t", "lu", "c")};
	/* An owner on a non-lookup vindex means nothing. */
	static const op hash_owner[] = {KS("ks", 1), SH("ks", "-"),
	                                VX("ks", "h", "hash", "t"),
	                                TB("ks", "t", NORMAL, NULL),
	                                CV("ks", "t", "h", "id")};

	(void)state;
	REFUSED(bad, ROUTER_EVSCHEMA, "ks.t",
	        "primary vindex lu cannot be owned for table t");
	ACCEPTED(other_owner);
	ACCEPTED(hash_owner);
}

static void build_refuses_a_multicolumn_vindex_that_is_not_first(
    void **state)
{
	static const op bad[] = {
	    KS("ks", 1), SH("ks", "-"), VX("ks", "h", "hash", NULL),
	    VXP("ks", "mc", "multicol", NULL, {"column_count", "2"}),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "h", "id"),
	    CV("ks", "t", "mc", "a", "b")};
	static const op region[] = {
	    KS("ks", 1), SH("ks", "-"), VX("ks", "h", "hash", NULL),
	    VXP("ks", "r", "region_experimental", NULL, {"region_bytes", "1"}),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "h", "id"),
	    CV("ks", "t", "r", "a", "b")};
	static const op first[] = {
	    KS("ks", 1), SH("ks", "-"), VX("ks", "h", "hash", NULL),
	    VXP("ks", "mc", "multicol", NULL, {"column_count", "2"}),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "mc", "a", "b"),
	    CV("ks", "t", "h", "id")};

	(void)state;
	REFUSED(bad, ROUTER_EVSCHEMA, "ks.t",
	        "multi-column vindex mc should be a primary vindex for table t");
	REFUSED(region, ROUTER_EVSCHEMA, "ks.t",
	        "multi-column vindex r should be a primary vindex for table t");
	ACCEPTED(first);
}

static void build_refuses_a_column_listed_twice_in_a_vindex(void **state)
{
	static const op bad[] = {
	    KS("ks", 1), SH("ks", "-"),
	    VXP("ks", "mc", "multicol", NULL, {"column_count", "2"}),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "mc", "a", "a")};

	(void)state;
	REFUSED(bad, ROUTER_EDOC, "ks.t", "column a is listed twice");
}

static void build_refuses_shards_with_a_gap_or_an_overlap(void **state)
{
	static const op gap[] = {KS("ks", 1), SH("ks", "80-"), SH("ks", "-40"),
	                         VX("ks", "v", "hash", NULL)};
	static const op overlap[] = {KS("ks", 1), SH("ks", "-80"),
	                             SH("ks", "40-"), VX("ks", "v", "hash", NULL)};
	static const op nomax[] = {KS("ks", 1), SH("ks", "-40"),
	                           SH("ks", "40-80")};
	static const op same[] = {KS("ks", 1), SH("ks", "-80"), SH("ks", "80-"),
	                          SH("ks", "8000-")};
	/* Normalized bounds: 80 == 8000, so this is a partition. */
	static const op normalized[] = {KS("ks", 1), SH("ks", "-80"),
	                                SH("ks", "8000-")};

	(void)state;
	REFUSED(gap, ROUTER_ECOVERAGE, "ks/80-", "gap between -40 and 80-");
	REFUSED(overlap, ROUTER_ECOVERAGE, "ks/40-", "-80 and 40- overlap");
	REFUSED(nomax, ROUTER_ECOVERAGE, "ks/40-80",
	        "does not end with the maximum key");
	REFUSED(same, ROUTER_ECOVERAGE, NULL, "have the same key range");
	ACCEPTED(normalized);
}

/* partition_validation vectors, through a built keyspace: Vitess's errors
 * are ECOVERAGE naming the keyspace and a shard; allow_partial has no
 * equivalent (a routed keyspace must be covered) and is ECOVERAGE about an
 * end of the key space. */
static void partition_validation_vectors_decide_whether_a_keyspace_builds(
    void **state)
{
	json_t *root = tu_load_json("vectors.json");
	json_t *f = json_object_get(root, "partition_validation");
	size_t i, ran = 0;
	json_t *e, *s;

	(void)state;
	assert_true(json_array_size(f) > 0);
	json_array_foreach(f, i, e) {
		router_builder *b = new_builder(NULL);
		router_table *t = NULL;
		size_t k;
		int rc;

		OK(router_builder_add_keyspace(b, "user", 1, &E));
		json_array_foreach(json_object_get(e, "shards"), k, s)
			OK(router_builder_add_shard(b, "user",
			                            json_string_value(s), &E));
		rc = router_table_build(b, &t, &E);
		if (json_is_true(json_object_get(e, "allow_partial"))) {
			expect_(rc, ROUTER_ECOVERAGE, NULL, "does not", "partial",
			        __LINE__);
			assert_true(strstr(E.message, "start with") != NULL ||
			            strstr(E.message, "end with") != NULL);
		} else if (json_object_get(e, "error") != NULL) {
			expect_(rc, ROUTER_ECOVERAGE, NULL, "keyspace user",
			        "error entry", __LINE__);
			assert_true(strncmp(E.culprit, "user/", 5) == 0);
		} else {
			if (rc != ROUTER_OK)
				fail_msg("partition_validation[%zu]: %s", i,
				         E.message);
		}
		router_table_free(t);
		router_builder_free(b);
		ran++;
	}
	assert_int_equal(ran, json_array_size(f));
	json_decref(root);
}

static void build_refuses_a_sharded_keyspace_without_shards(void **state)
{
	static const op bad[] = {KS("ks", 1), VX("ks", "v", "hash", NULL),
	                         TB("ks", "t", NORMAL, NULL),
	                         CV("ks", "t", "v", "id")};
	static const op bare[] = {KS("ks", 1)};

	(void)state;
	REFUSED(bad, ROUTER_EEMPTY, "ks", "sharded keyspace ks has no shards");
	REFUSED(bare, ROUTER_EEMPTY, "ks", "has no shards");
}

static void build_refuses_a_sharded_keyspace_with_tables_but_no_vindexes(
    void **state)
{
	static const op bad[] = {KS("ks", 1), SH("ks", "-80"), SH("ks", "80-"),
	                         TB("ks", "a", NORMAL, NULL),
	                         TB("ks", "b", NORMAL, NULL)};
	/* Tables that need no vindex, or no tables at all, are fine. */
	static const op fine[] = {KS("ks", 1), SH("ks", "-80"), SH("ks", "80-"),
	                          TB("ks", "r", REFERENCE, NULL),
	                          TB("ks", "p", NORMAL, "90"),
	                          TB("ks", "s", SEQUENCE, "10"),
	                          KS("empty", 1), SH("empty", "-")};

	(void)state;
	/* One problem for the keyspace, not one per table. */
	REFUSED(bad, ROUTER_EEMPTY, "ks",
	        "sharded keyspace ks has 2 tables to route but no vindexes");
	ACCEPTED(fine);
}

static void build_refuses_an_unsharded_keyspace_with_two_shards(void **state)
{
	static const op bad[] = {KS("u", 0), SH("u", "-80"), SH("u", "80-"),
	                         TB("u", "t", NORMAL, NULL)};
	static const op one[] = {KS("u", 0), SH("u", "-")};

	(void)state;
	REFUSED(bad, ROUTER_ECOVERAGE, "u",
	        "unsharded keyspace u has 2 shards; it must have exactly one");
	ACCEPTED(one);
}

static void build_refuses_routing_rules_with_bad_targets(void **state)
{
#define BASE                                                                   \
	KS("ks", 1), SH("ks", "-"), VX("ks", "v", "hash", NULL),               \
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "v", "id"), KS("u", 0)
	static const op unqualified[] = {BASE, RULE("ks.x", "t")};
	static const op no_keyspace[] = {BASE, RULE("ks.x", "nope.t")};
	static const op no_table[] = {BASE, RULE("ks.x", "ks.nope")};
	static const op bad_tablet[] = {BASE, RULE("ks.x@primaryish", "ks.t")};
	/* Undeclared tables of an unsharded keyspace exist (Vitess's
	 * FindTable); so do disabled rules and other tablet types. */
	static const op fine[] = {BASE,
	                          RULE("ks.x", "u.anything"),
	                          RULE("ks.y", NULL),
	                          RULE("ks.z@replica", "ks.t"),
	                          RULE("ks.z@rdonly", "ks.t"),
	                          RULE("ks.w@primary", "ks.t"),
	                          RULE("z", "ks.t")};
#undef BASE

	(void)state;
	REFUSED(unqualified, ROUTER_EVSCHEMA, "ks.x",
	        "table t must be qualified");
	REFUSED(no_keyspace, ROUTER_EREFERENCE, "ks.x", "keyspace nope not found");
	REFUSED(no_table, ROUTER_EREFERENCE, "ks.x",
	        "table nope not found in keyspace ks");
	REFUSED(bad_tablet, ROUTER_EVSCHEMA, "ks.x@primaryish",
	        "unknown tablet type primaryish");
	ACCEPTED(fine);
}

static void build_reports_every_problem_not_only_the_first(void **state)
{
	static const op ops[] = {
	    KS("a", 1), SH("a", "-40"), SH("a", "80-"),       /* gap */
	    VX("a", "bad", "nosuch", NULL),                    /* type */
	    VX("a", "h", "hash", NULL),
	    VX("a", "lk", "lookup", NULL),
	    TB("a", "t1", NORMAL, NULL), CV("a", "t1", "missing", "x"),
	    TB("a", "t2", NORMAL, NULL),                       /* no vindex */
	    TB("a", "t3", NORMAL, NULL), CV("a", "t3", "lk", "c"),
	    TB("a", "t4", SEQUENCE, NULL),                     /* sequence */
	    TB("a", "t5", NORMAL, "xyz"),                      /* pin */
	    KS("b", 1),                                        /* no shards */
	    KS("c", 0), SH("c", "-80"), SH("c", "80-"),        /* two shards */
	    RULE("a.r", "t1"),                                 /* unqualified */
	    RULE("a.s", "nope.t"),                             /* keyspace */
	};
	static const int want[] = {
	    ROUTER_ECOVERAGE,  ROUTER_EREFERENCE, ROUTER_EREFERENCE,
	    ROUTER_EVSCHEMA,   ROUTER_EVSCHEMA,   ROUTER_EVSCHEMA,
	    ROUTER_EVSCHEMA,   ROUTER_EEMPTY,     ROUTER_ECOVERAGE,
	    ROUTER_EVSCHEMA,   ROUTER_EREFERENCE};
	static const char *const culprits[] = {
	    "a/80-", "a.bad", "a.t1", "a.t2", "a.t3", "a.t4", "a.t5",
	    "b",     "c",     "a.r",  "a.s"};
	const size_t nwant = sizeof want / sizeof want[0];
	router_builder *b;
	router_table *t = NULL;
	int seen[sizeof want / sizeof want[0]] = {0};
	router_error p;
	char more[64];

	(void)state;
	assert_int_equal(try_build(ops, NOPS(ops), &b, &t), want[0]);
	assert_null(t);
	assert_int_equal(router_builder_problem_count(b), nwant);
	/* The first problem is returned, saying how many follow. */
	assert_int_equal(router_builder_problem(b, 0, &p), ROUTER_OK);
	assert_int_equal(E.code, p.code);
	assert_string_equal(E.culprit, p.culprit);
	snprintf(more, sizeof more, "(and %zu more problems)", nwant - 1);
	assert_non_null(strstr(E.message, more));
	assert_non_null(strstr(E.message, p.message));
	for (size_t i = 0; i < nwant; i++) {
		size_t j;

		assert_int_equal(router_builder_problem(b, i, &p), ROUTER_OK);
		assert_true(p.message[0] != '\0');
		for (j = 0; j < nwant; j++)
			if (!seen[j] && strcmp(culprits[j], p.culprit) == 0 &&
			    want[j] == p.code)
				break;
		if (j == nwant)
			fail_msg("unexpected problem %s [%s] %s",
			         router_errname(p.code), p.culprit, p.message);
		seen[j] = 1;
	}
	assert_int_equal(router_builder_problem(b, nwant, &p),
	                 ROUTER_ENOTFOUND);
	assert_int_equal(router_builder_problem(b, 0, NULL), ROUTER_ENOTFOUND);
	assert_int_equal(router_builder_problem(NULL, 0, &p), ROUTER_ENOTFOUND);

	/* Building again reports the same list, not twice as many. */
	assert_int_equal(router_table_build(b, &t, NULL), want[0]);
	assert_int_equal(router_builder_problem_count(b), nwant);
	router_builder_free(b);
}

static void a_successful_build_clears_the_problem_list(void **state)
{
	static const op bad[] = {KS("ks", 1), SH("ks", "-80")};
	router_builder *b;
	router_table *t = NULL;

	(void)state;
	assert_int_equal(try_build(bad, NOPS(bad), &b, &t), ROUTER_ECOVERAGE);
	assert_int_equal(router_builder_problem_count(b), 1);
	OK(router_builder_add_shard(b, "ks", "80-", &E));
	OK(router_table_build(b, &t, &E));
	assert_int_equal(router_builder_problem_count(b), 0);
	assert_int_equal(E.code, ROUTER_OK);
	assert_string_equal(E.message, "");
	router_table_free(t);
	router_builder_free(b);
}

static void a_refused_build_allocates_nothing(void **state)
{
	static const op bad[] = {
	    KS("a", 1), SH("a", "-40"), SH("a", "80-"),
	    VXP("a", "nsm", "numeric_static_map", NULL,
	       {"json", "{\"1\":2,\"3\":4,\"5\":6}"}),
	    VX("a", "bad", "nosuch", NULL), TB("a", "t", NORMAL, NULL),
	    CV("a", "t", "nsm", "id"), KS("b", 1), RULE("a.x", "t")};
	tu_alloc c = TU_ALLOC_INIT;
	router_allocator a = TU_ALLOCATOR(&c);
	router_builder *b = new_builder(&a);
	router_table *t = (router_table *)&t;
	long before;

	(void)state;
	OK(apply_ops(b, bad, NOPS(bad), &E));
	before = c.live;
	assert_int_equal(router_table_build(b, &t, &E), ROUTER_ECOVERAGE);
	assert_null(t);
	/* At most the builder's problem list remains. */
	assert_true(c.live - before <= 1);
	assert_int_equal(router_table_build(b, &t, &E), ROUTER_ECOVERAGE);
	assert_true(c.live - before <= 1);
	router_builder_free(b);
	assert_int_equal(c.live, 0);
}

/* ---- routing on a frozen table ---------------------------------------------- */

/* A sharded keyspace `ks` with the given shards (added in reverse order),
 * a vindex `v` of type/params and a table `t` on columns c0..c{ncols-1}. */
static router_table *vindex_table(const char *const *shards, size_t nshards,
                                  const char *type, const router_param *p,
                                  size_t np, size_t ncols)
{
	static const char *const cols[] = {"c0", "c1", "c2", "c3",
	                                   "c4", "c5", "c6", "c7"};
	router_builder *b = new_builder(NULL);
	router_table *t = NULL;

	OK(router_builder_add_keyspace(b, "ks", 1, &E));
	for (size_t i = nshards; i-- > 0;)
		OK(router_builder_add_shard(b, "ks", shards[i], &E));
	OK(router_builder_add_vindex(b, "ks", "v", type, p, np, NULL, &E));
	OK(router_builder_add_table(b, "ks", "t", NORMAL, NULL, &E));
	OK(router_builder_add_column_vindex(b, "ks", "t", "v", cols, ncols,
	                                    &E));
	OK(router_table_build(b, &t, &E));
	router_builder_free(b);
	return t;
}

/* Index of the first shard (in the given order) containing ksid, or n. */
static size_t first_containing(const char *const *shards, size_t n,
                               const uint8_t *ksid, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		router_keyrange kr;

		if (router_keyrange_parse(shards[i], strlen(shards[i]), &kr,
		                          NULL) != ROUTER_OK)
			fail_msg("bad shard name %s", shards[i]);
		if (router_keyrange_contains(&kr, ksid, len))
			return i;
	}
	return n;
}

static size_t json_names(json_t *arr, const char **out, size_t cap)
{
	size_t i;
	json_t *s;

	assert_true(json_array_size(arr) <= cap);
	json_array_foreach(arr, i, s) out[i] = json_string_value(s);
	return json_array_size(arr);
}

/* shard_for_ksid vectors: a keyspace with the entry's shards (in partition
 * order, added in reverse) resolves the ksid to the entry's shard; an
 * entry that expects Vitess's "no shard" errors is a keyspace that does
 * not build (no shards: EEMPTY; a gap: ECOVERAGE). */
static void shard_for_ksid_vectors_resolve_on_a_built_table(void **state)
{
	json_t *root = tu_load_json("vectors.json");
	json_t *f = json_object_get(root, "shard_for_ksid");
	size_t i, routed = 0, refused = 0;
	json_t *e;

	(void)state;
	assert_true(json_array_size(f) > 0);
	json_array_foreach(f, i, e) {
		const char *shards[64];
		size_t n = json_names(json_object_get(e, "shards"), shards, 64);
		const char *want = json_string_value(json_object_get(e, "shard"));
		uint8_t ksid[64];
		int len = tu_unhex(json_string_value(json_object_get(
		                       e, "ksid_hex")),
		                   ksid, sizeof ksid);
		router_builder *b = new_builder(NULL);
		router_table *t = NULL;
		router_route_result r;
		int rc;

		assert_true(len >= 0);
		OK(router_builder_add_keyspace(b, "ks", 1, &E));
		for (size_t k = n; k-- > 0;)
			OK(router_builder_add_shard(b, "ks", shards[k], &E));
		rc = router_table_build(b, &t, &E);
		if (want == NULL) {
			assert_non_null(json_object_get(e, "error"));
			if (n == 0)
				expect_(rc, ROUTER_EEMPTY, "ks", NULL, "no shard",
				        __LINE__);
			else
				expect_(rc, ROUTER_ECOVERAGE, NULL, NULL, "gap",
				        __LINE__);
			refused++;
		} else {
			size_t idx = first_containing(shards, n, ksid,
			                              (size_t)len);

			if (rc != ROUTER_OK)
				fail_msg("shard_for_ksid[%zu]: %s", i, E.message);
			OK(route_ksid(t, "ks", ksid, (size_t)len, &r));
			if (strcmp(r.shard, want) != 0)
				fail_msg("shard_for_ksid[%zu]: %s, want %s", i,
				         r.shard, want);
			assert_int_equal(r.shard_len, strlen(want));
			assert_int_equal(r.shard_index, idx);
			assert_int_equal(r.shard_id, ROUTER_NO_SHARD);
			assert_int_equal(r.ksid_len, (size_t)len);
			assert_memory_equal(r.ksid, ksid,
			                    (size_t)len < ROUTER_KSID_MAX
			                        ? (size_t)len
			                        : ROUTER_KSID_MAX);
			routed++;
		}
		router_table_free(t);
		router_builder_free(b);
	}
	assert_int_equal(routed + refused, json_array_size(f));
	print_message("shard_for_ksid vectors: %zu routed, %zu refused at "
	              "build\n",
	              routed, refused);
	json_decref(root);
}

/* ---- vindex vectors through tables ---- */

typedef struct vbuf {
	uint8_t b[512];
} vbuf;

static router_value vec_value(json_t *input, const char *kind, json_t *hex,
                              vbuf *store)
{
	const char *text = json_string_value(input);
	router_value v = ROUTER_VALUE_NULL;

	if (strcmp(kind, "null") == 0)
		return v;
	assert_non_null(text);
	if (strcmp(kind, "int64") == 0 || strcmp(kind, "int32") == 0 ||
	    strcmp(kind, "uint64") == 0) {
		router_sqltype t =
		    kind[0] == 'u' ? ROUTER_SQL_UINT64 : ROUTER_SQL_INT64;

		OK(router_value_parse(t, text, strlen(text), &v, &E));
		return v;
	}
	if (strcmp(kind, "float64") == 0)
		return ROUTER_VALUE_BYTES(ROUTER_SQL_FLOAT64, text, strlen(text));
	if (strcmp(kind, "varchar") == 0 || strcmp(kind, "varbinary") == 0) {
		router_sqltype t = kind[4] == 'h' ? ROUTER_SQL_VARCHAR
		                                  : ROUTER_SQL_VARBINARY;

		if (json_is_string(hex)) {
			int n = tu_unhex(json_string_value(hex), store->b,
			                 sizeof store->b);

			assert_true(n >= 0);
			return ROUTER_VALUE_BYTES(t, store->b, (size_t)n);
		}
		return ROUTER_VALUE_BYTES(t, text, strlen(text));
	}
	fail_msg("unknown input_kind %s", kind);
	return v;
}

static size_t vec_values(json_t *e, router_value *vals, vbuf *store)
{
	json_t *in = json_object_get(e, "input");
	json_t *kind = json_object_get(e, "input_kind");
	json_t *hex = json_object_get(e, "input_hex");

	if (json_is_array(kind)) {
		size_t n = json_array_size(kind);

		assert_true(n <= 8);
		for (size_t i = 0; i < n; i++)
			vals[i] = vec_value(
			    json_array_get(in, i),
			    json_string_value(json_array_get(kind, i)),
			    json_is_array(hex) ? json_array_get(hex, i) : NULL,
			    &store[i]);
		return n;
	}
	vals[0] = vec_value(in, json_string_value(kind), hex, &store[0]);
	return 1;
}

/* Params of an entry; a json_path value ("testdata/x.json  (content:
 * ...)") names the copy of x.json under the data directory. */
static size_t vec_params(json_t *obj, router_param *p, char paths[][512])
{
	const char *key;
	json_t *val;
	size_t n = 0;

	json_object_foreach(obj, key, val) {
		const char *v = json_string_value(val);

		assert_true(n < 4 && v != NULL);
		p[n].key = key;
		p[n].value = v;
		if (strcmp(key, "json_path") == 0) {
			const char *sp = strchr(v, ' ');
			size_t len = sp ? (size_t)(sp - v) : strlen(v);
			const char *base = v;

			for (size_t i = 0; i < len; i++)
				if (v[i] == '/')
					base = v + i + 1;
			snprintf(paths[n], 512, "%s/%.*s", tu_data_dir(),
			         (int)(len - (size_t)(base - v)), base);
			p[n].value = paths[n];
		}
		n++;
	}
	return n;
}

/* Every vindex vector, routed through a table in each multi-shard layout
 * of the shard_for_ksid vectors: the route carries the vector's keyspace
 * ID and lands on the first shard containing it; where the shard vectors
 * name the shard of that keyspace ID in that layout (hash(1) -> -20,
 * hash(29999) -> 80-...) they agree.  "none" and "error" vectors (Map
 * turns Verify's failures into DestinationNone) route nowhere. */
static void vindex_vectors_route_through_tables_like_the_shard_vectors(
    void **state)
{
	json_t *root = tu_load_json("vectors.json");
	json_t *vec = json_object_get(root, "vindex");
	json_t *sfk = json_object_get(root, "shard_for_ksid");
	const char *layouts[4][64];
	size_t nl[4], nlayouts = 0, i, routed = 0, nones = 0, loose = 0,
	              agreed = 0;
	json_t *e;

	(void)state;
	/* The distinct partitions of more than one shard. */
	json_array_foreach(sfk, i, e) {
		const char *s[64];
		size_t n = json_names(json_object_get(e, "shards"), s, 64), k;

		if (n < 2 || json_object_get(e, "error") != NULL)
			continue;
		for (k = 0; k < nlayouts; k++)
			if (nl[k] == n &&
			    memcmp(layouts[k], s, n * sizeof *s) == 0)
				break;
		if (k < nlayouts)
			continue;
		for (k = 0; k < nlayouts; k++) {
			size_t m;

			for (m = 0; m < n && nl[k] == n &&
			            strcmp(layouts[k][m], s[m]) == 0;
			     m++)
				;
			if (m == n)
				break;
		}
		if (k < nlayouts)
			continue;
		assert_true(nlayouts < 4);
		memcpy(layouts[nlayouts], s, n * sizeof *s);
		nl[nlayouts++] = n;
	}
	assert_true(nlayouts >= 2);

	json_array_foreach(vec, i, e) {
		const char *type = json_string_value(json_object_get(e, "type"));
		const char *expect =
		    json_string_value(json_object_get(e, "expect"));
		const char *want = json_string_value(json_object_get(e, "ksid_hex"));
		router_param p[4];
		char paths[4][512];
		router_value vals[8];
		vbuf store[8];
		size_t np = vec_params(json_object_get(e, "params"), p, paths);
		size_t nv = vec_values(e, vals, store);

		for (size_t l = 0; l < nlayouts; l++) {
			router_table *t = vindex_table(layouts[l], nl[l], type,
			                               p, np, nv);
			router_route_result r;
			int rc = router_table_route(t, "ks", 2, "t", 1, vals, nv,
			                            &r, &E);

			loose += strncmp(type, "unicode_loose_", 14) == 0;
			if (strcmp(expect, "ksid") == 0) {
				uint8_t k[64];
				int len = tu_unhex(want, k, sizeof k);
				size_t idx = first_containing(layouts[l], nl[l], k,
				                              (size_t)len);
				json_t *s;
				size_t j;

				if (rc != ROUTER_OK)
					fail_msg("vindex[%zu] %s: %s: %s", i, type,
					         router_errname(rc), E.message);
				assert_int_equal(r.ksid_len, (size_t)len);
				assert_memory_equal(r.ksid, k, (size_t)len);
				assert_int_equal(r.shard_index, idx);
				assert_string_equal(r.shard, layouts[l][idx]);
				/* The shard vectors' word for this ksid. */
				json_array_foreach(sfk, j, s) {
					const char *sh[64];
					size_t n = json_names(
					    json_object_get(s, "shards"), sh, 64);
					size_t m;

					if (n != nl[l] ||
					    strcmp(json_string_value(json_object_get(
					               s, "ksid_hex")),
					           want) != 0)
						continue;
					for (m = 0; m < n &&
					            strcmp(sh[m], layouts[l][m]) == 0;
					     m++)
						;
					if (m < n)
						continue;
					assert_string_equal(
					    r.shard, json_string_value(
					                 json_object_get(s, "shard")));
					agreed++;
				}
				routed++;
			} else {
				if (rc != ROUTER_NONE)
					fail_msg("vindex[%zu] %s: %s, want "
					         "ROUTER_NONE",
					         i, type, router_errname(rc));
				assert_null(r.shard);
				assert_int_equal(r.shard_id, ROUTER_NO_SHARD);
				assert_int_equal(r.ksid_len, 0);
				nones++;
			}
			router_table_free(t);
		}
	}
	assert_true(agreed >= 2);
	/* unicode_loose_* vectors route like the others (collate.c). */
	assert_true(loose >= 22 * 2);
	print_message("vindex vectors through %zu layouts: %zu routed (%zu "
	              "unicode_loose_*), %zu none; %zu agree with "
	              "shard_for_ksid\n",
	              nlayouts, routed, loose, nones, agreed);
	json_decref(root);
}

static void unsharded_keyspace_routes_every_table_to_its_single_shard(
    void **state)
{
	static const op ops[] = {KS("u", 0), TB("u", "declared", NORMAL, NULL),
	                         TB("u", "seq", SEQUENCE, NULL),
	                         TB("u", "ref", REFERENCE, NULL),
	                         KS("named", 0), SH("named", "-")};
	router_table *t = must_build(ops, NOPS(ops));
	const char *tables[] = {"declared", "seq", "ref", "undeclared", "x"};
	router_route_result r;

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		memset(&r, 0xff, sizeof r);
		OK(route_i64(t, "u", tables[i], 42, &r));
		assert_string_equal(r.shard, "0");
		assert_int_equal(r.shard_len, 1);
		assert_int_equal(r.shard_index, 0);
		assert_int_equal(r.shard_id, ROUTER_NO_SHARD);
		assert_int_equal(r.ksid_len, 0);
		/* No values at all is fine too: nothing is computed. */
		OK(router_table_route(t, "u", 1, tables[i], strlen(tables[i]),
		                      NULL, 0, &r, &E));
		assert_string_equal(r.shard, "0");
		OK(route_i64(t, "named", tables[i], 42, &r));
		assert_string_equal(r.shard, "-");
	}
	OK(route_ksid(t, "u", "\xff\xff", 2, &r));
	assert_string_equal(r.shard, "0");
	OK(route_ksid(t, "u", NULL, 0, &r));
	assert_string_equal(r.shard, "0");
	router_table_free(t);
}

static void reference_table_of_a_sharded_keyspace_is_multishard(void **state)
{
	static const op ops[] = {KS("ks", 1), SH("ks", "-80"), SH("ks", "80-"),
	                         VX("ks", "v", "hash", NULL),
	                         TB("ks", "ref", REFERENCE, NULL),
	                         TB("ks", "refv", REFERENCE, NULL),
	                         CV("ks", "refv", "v", "id")};
	router_table *t = must_build(ops, NOPS(ops));
	router_route_result r;

	(void)state;
	EXPECT(route_i64(t, "ks", "ref", 1, &r), ROUTER_EMULTISHARD, "ks.ref",
	       "reference table");
	/* Even with column vindexes declared. */
	EXPECT(route_i64(t, "ks", "refv", 1, &r), ROUTER_EMULTISHARD,
	       "ks.refv", "every shard");
	router_table_free(t);
}

static void pinned_table_routes_to_the_shard_holding_its_pin(void **state)
{
	static const op ops[] = {
	    KS("ks", 1), SH("ks", "-20"), SH("ks", "20-40"), SH("ks", "40-60"),
	    SH("ks", "60-80"), SH("ks", "80-a0"), SH("ks", "a0-c0"),
	    SH("ks", "c0-e0"), SH("ks", "e0-"), VX("ks", "v", "hash", NULL),
	    TB("ks", "a5", NORMAL, "a5"), TB("ks", "lo", SEQUENCE, "00"),
	    TB("ks", "edge", NORMAL, "c0"), TB("ks", "long", NORMAL, "dfffffffffffffffff"),
	    TB("ks", "unpinned", NORMAL, ""), CV("ks", "unpinned", "v", "id")};
	router_table *t = must_build(ops, NOPS(ops));
	router_route_result r;

	(void)state;
	OK(route_i64(t, "ks", "a5", 7, &r));
	assert_string_equal(r.shard, "a0-c0");
	assert_int_equal(r.shard_index, 5);
	assert_int_equal(r.ksid_len, 1);
	assert_int_equal(r.ksid[0], 0xa5);
	OK(route_i64(t, "ks", "lo", 7, &r));
	assert_string_equal(r.shard, "-20");
	OK(route_i64(t, "ks", "edge", 7, &r));
	assert_string_equal(r.shard, "c0-e0");
	OK(route_i64(t, "ks", "long", 7, &r));
	assert_string_equal(r.shard, "c0-e0");
	assert_int_equal(r.ksid_len, 9);
	/* An empty pin is no pin: the table routes through its vindex. */
	OK(route_i64(t, "ks", "unpinned", 1, &r));
	assert_string_equal(r.shard, "-20");
	assert_int_equal(r.ksid_len, 8);
	router_table_free(t);
}

static void lookup_primary_needs_a_lookup_but_routes_by_keyspace_id(
    void **state)
{
	static const op ops[] = {
	    KS("ks", 1), SH("ks", "-80"), SH("ks", "80-"),
	    VXP("ks", "lu", "lookup_unique", NULL, {"table", "lu"}),
	    VX("ks", "ul", "unicode_loose_md5", NULL),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "lu", "email"),
	    TB("ks", "u", NORMAL, NULL), CV("ks", "u", "ul", "name")};
	router_table *t = must_build(ops, NOPS(ops));
	router_route_result r;
	router_value s = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, "a@b", 3);

	(void)state;
	EXPECT(router_table_route(t, "ks", 2, "t", 1, &s, 1, &r, &E),
	       ROUTER_ENEEDSLOOKUP, "ks.t", "lu (lookup_unique)");
	OK(route_ksid(t, "ks", "\x90\x01", 2, &r));
	assert_string_equal(r.shard, "80-");
	assert_int_equal(r.shard_index, 1);
	assert_int_equal(r.ksid_len, 2);
	OK(route_ksid(t, "ks", "\x7f", 1, &r));
	assert_string_equal(r.shard, "-80");
	router_table_free(t);
}

static void unicode_loose_primary_routes_case_and_accent_blind(void **state)
{
	static const op ops[] = {
	    KS("ks", 1), SH("ks", "-80"), SH("ks", "80-"),
	    VX("ks", "ul", "unicode_loose_md5", NULL),
	    VX("ks", "ux", "unicode_loose_xxhash", NULL),
	    TB("ks", "u", NORMAL, NULL), CV("ks", "u", "ul", "name"),
	    TB("ks", "x", NORMAL, NULL), CV("ks", "x", "ux", "name")};
	router_table *t = must_build(ops, NOPS(ops));
	router_route_result r, r2;
	router_value a = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, "Test", 4);
	router_value b = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR,
	                                    "T\xc3\xa9ST  ", 7);
	router_value tab = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, "Test\t", 5);
	router_value bad = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, "ab\xc3", 3);
	uint8_t want[16];
	size_t wl = 0;

	(void)state;
	OK(router_table_route(t, "ks", 2, "u", 1, &a, 1, &r, &E));
	OK(router_keyspace_id("unicode_loose_md5", &a, want, sizeof want, &wl,
	                      &E));
	assert_int_equal(r.ksid_len, 16);
	assert_memory_equal(r.ksid, want, 16);
	/* Case, accents and trailing spaces do not change the row's shard;
	 * a trailing tab does (Vitess trims spaces only). */
	OK(router_table_route(t, "ks", 2, "u", 1, &b, 1, &r2, &E));
	assert_memory_equal(r2.ksid, r.ksid, 16);
	assert_string_equal(r2.shard, r.shard);
	OK(router_table_route(t, "ks", 2, "u", 1, &tab, 1, &r2, &E));
	assert_memory_not_equal(r2.ksid, r.ksid, 16);
	OK(router_table_route(t, "ks", 2, "x", 1, &a, 1, &r, &E));
	assert_int_equal(r.ksid_len, 8);
	OK(router_table_route(t, "ks", 2, "x", 1, &b, 1, &r2, &E));
	assert_memory_equal(r2.ksid, r.ksid, 8);
	/* Invalid UTF-8: Vitess's error, naming the table. */
	EXPECT(router_table_route(t, "ks", 2, "u", 1, &bad, 1, &r, &E),
	       ROUTER_EINVAL, "ks.u",
	       "cannot normalize string containing invalid UTF-8: "
	       "\"ab\\xc3\"");
	router_table_free(t);
}

static void null_through_hash_routes_nowhere(void **state)
{
	static const op ops[] = {KS("ks", 1), SH("ks", "-80"), SH("ks", "80-"),
	                         VX("ks", "v", "hash", NULL),
	                         TB("ks", "t", NORMAL, NULL),
	                         CV("ks", "t", "v", "id")};
	router_table *t = must_build(ops, NOPS(ops));
	router_value v = ROUTER_VALUE_NULL;
	router_route_result r;

	(void)state;
	memset(&r, 0xff, sizeof r);
	assert_int_equal(router_table_route(t, "ks", 2, "t", 1, &v, 1, &r, &E),
	                 ROUTER_NONE);
	assert_null(r.shard);
	assert_int_equal(r.shard_len, 0);
	assert_int_equal(r.shard_id, ROUTER_NO_SHARD);
	assert_int_equal(r.shard_index, ROUTER_NO_SHARD);
	assert_int_equal(r.ksid_len, 0);
	router_table_free(t);
}

static void wrong_number_of_values_is_einval(void **state)
{
	static const op ops[] = {
	    KS("ks", 1), SH("ks", "-80"), SH("ks", "80-"),
	    VX("ks", "v", "hash", NULL),
	    VXP("ks", "mc", "multicol", NULL, {"column_count", "3"}),
	    TB("ks", "t", NORMAL, NULL), CV("ks", "t", "v", "id"),
	    TB("ks", "m", NORMAL, NULL), CV("ks", "m", "mc", "a", "b", "c")};
	router_table *t = must_build(ops, NOPS(ops));
	router_value v[3] = {ROUTER_VALUE_INT64(1), ROUTER_VALUE_INT64(2),
	                     ROUTER_VALUE_INT64(3)};
	router_route_result r;

	(void)state;
	EXPECT(router_table_route(t, "ks", 2, "t", 1, v, 0, &r, &E),
	       ROUTER_EINVAL, "ks.t", "takes 1 value, got 0");
	EXPECT(router_table_route(t, "ks", 2, "t", 1, v, 2, &r, &E),
	       ROUTER_EINVAL, "ks.t", "takes 1 value, got 2");
	EXPECT(router_table_route(t, "ks", 2, "t", 1, NULL, 1, &r, &E),
	       ROUTER_EINVAL, NULL, "values is NULL");
	EXPECT(router_table_route(t, "ks", 2, "m", 1, v, 2, &r, &E),
	       ROUTER_EINVAL, "ks.m", "takes 3 values, got 2");
	OK(router_table_route(t, "ks", 2, "m", 1, v, 3, &r, &E));
	OK(router_table_route(t, "ks", 2, "t", 1, v, 1, &r, &E));
	assert_string_equal(r.shard, "-80"); /* hash(1) = 166b... */
	router_table_free(t);
}

static void routing_rules_redirect_disable_and_ignore_other_tablet_types(
    void **state)
{
	static const op ops[] = {
	    KS("ks", 1), SH("ks", "-80"), SH("ks", "80-"),
	    VX("ks", "v", "hash", NULL), TB("ks", "t", NORMAL, NULL),
	    CV("ks", "t", "v", "id"), TB("ks", "gone", NORMAL, NULL),
	    CV("ks", "gone", "v", "id"),
	    KS("ks2", 1), SH("ks2", "-40"), SH("ks2", "40-80"),
	    SH("ks2", "80-c0"), SH("ks2", "c0-"), VX("ks2", "x", "xxhash", NULL),
	    TB("ks2", "t", NORMAL, NULL), CV("ks2", "t", "x", "id"),
	    KS("u", 0),
	    RULE("ks.t", "ks2.t"),
	    RULE("ks.gone", NULL),
	    RULE("ks.nowhere", NULL),
	    RULE("ks.r@replica", "ks2.t"),
	    RULE("ks2.t@rdonly", "ks.t"),
	    RULE("ks.p@primary", "ks2.t"),
	    RULE("ks.moved", "u.moved"),
	    RULE("t", "u.t"),
	    /* Vitess's FindRoutedTable tries "ks.q@primary" before "ks.q". */
	    RULE("ks.q", NULL),
	    RULE("ks.q@primary", "ks2.t"),
	    RULE("ks.q2@primary", "ks2.t"),
	    RULE("ks.q2", NULL)};
	router_table *t = must_build(ops, NOPS(ops));
	router_table *plain;
	size_t nplain;
	router_route_result r, want;
	router_value one = ROUTER_VALUE_INT64(1);

	(void)state;
	/* ks.t answers as ks2.t does. */
	OK(router_table_route(t, "ks2", 3, "t", 1, &one, 1, &want, &E));
	OK(router_table_route(t, "ks", 2, "t", 1, &one, 1, &r, &E));
	assert_string_equal(r.shard, want.shard);
	assert_int_equal(r.shard_index, want.shard_index);
	assert_int_equal(r.ksid_len, 8);
	assert_memory_equal(r.ksid, want.ksid, 8);
	/* ks.p@primary applies to primary routing too. */
	OK(router_table_route(t, "ks", 2, "p", 1, &one, 1, &r, &E));
	assert_string_equal(r.shard, want.shard);
	/* An explicit @primary rule wins over the plain one, whatever the
	 * order they were added in. */
	OK(router_table_route(t, "ks", 2, "q", 1, &one, 1, &r, &E));
	assert_string_equal(r.shard, want.shard);
	OK(router_table_route(t, "ks", 2, "q2", 2, &one, 1, &r, &E));
	assert_string_equal(r.shard, want.shard);
	/* Disabled, whether the table exists or not. */
	EXPECT(router_table_route(t, "ks", 2, "gone", 4, &one, 1, &r, &E),
	       ROUTER_EDISABLED, "ks.gone", "table ks.gone has been disabled");
	EXPECT(router_table_route(t, "ks", 2, "nowhere", 7, &one, 1, &r, &E),
	       ROUTER_EDISABLED, "ks.nowhere", "has been disabled");
	/* @replica / @rdonly rules are kept but do not route primaries. */
	EXPECT(router_table_route(t, "ks", 2, "r", 1, &one, 1, &r, &E),
	       ROUTER_ENOTFOUND, NULL, "table r not found");
	OK(router_table_route(t, "ks2", 3, "t", 1, &one, 1, &r, &E));
	assert_string_equal(r.shard, want.shard);
	/* Into an undeclared table of an unsharded keyspace. */
	OK(router_table_route(t, "ks", 2, "moved", 5, &one, 1, &r, &E));
	assert_string_equal(r.shard, "0");
	/* An unqualified rule applies to unqualified names only (Vitess's
	 * FindRoutedTable looks up "ks.t" for ks.t), so ks.t is unaffected
	 * by "t" -> u.t beyond its own rule, and ks2.t by both. */
	for (nplain = 0; ops[nplain].k != K_RULE; nplain++)
		;
	plain = must_build(ops, nplain); /* the same without the rules */
	OK(router_table_route(plain, "ks", 2, "t", 1, &one, 1, &r, &E));
	assert_string_equal(r.shard, "-80"); /* hash(1) */
	OK(router_table_route(plain, "ks", 2, "gone", 4, &one, 1, &r, &E));
	router_table_free(plain);
	/* Names are (ptr, len): the bytes past len do not count. */
	OK(router_table_route(t, "ks.t", 2, "tX", 1, &one, 1, &r, &E));
	assert_string_equal(r.shard, want.shard);
	EXPECT(router_table_route(t, "ks", 2, "goner", 4, &one, 1, &r, &E),
	       ROUTER_EDISABLED, "ks.gone", NULL);
	router_table_free(t);
}

static void unknown_keyspace_or_table_is_enotfound_saying_which(void **state)
{
	static const op ops[] = {KS("ks", 1), SH("ks", "-80"), SH("ks", "80-"),
	                         VX("ks", "v", "hash", NULL),
	                         TB("ks", "t", NORMAL, NULL),
	                         CV("ks", "t", "v", "id")};
	router_table *t = must_build(ops, NOPS(ops));
	router_route_result r;

	(void)state;
	EXPECT(route_i64(t, "nope", "t", 1, &r), ROUTER_ENOTFOUND, NULL,
	       "keyspace nope not found");
	EXPECT(route_i64(t, "ks", "nope", 1, &r), ROUTER_ENOTFOUND, NULL,
	       "table nope not found in sharded keyspace ks");
	EXPECT(route_i64(t, "KS", "t", 1, &r), ROUTER_ENOTFOUND, NULL, "KS");
	EXPECT(route_i64(t, "", "t", 1, &r), ROUTER_ENOTFOUND, NULL, NULL);
	EXPECT(route_i64(t, "ks", "", 1, &r), ROUTER_ENOTFOUND, NULL, NULL);
	EXPECT(route_ksid(t, "nope", "\x10", 1, &r), ROUTER_ENOTFOUND, NULL,
	       "keyspace nope not found");
	/* Bad arguments are EINVAL, not crashes. */
	EXPECT(router_table_route(NULL, "ks", 2, "t", 1, NULL, 0, &r, &E),
	       ROUTER_EINVAL, NULL, NULL);
	EXPECT(router_table_route(t, "ks", 2, "t", 1, NULL, 0, NULL, &E),
	       ROUTER_EINVAL, NULL, NULL);
	EXPECT(router_table_route(t, NULL, 2, "t", 1, NULL, 0, &r, &E),
	       ROUTER_EINVAL, NULL, "keyspace is NULL");
	EXPECT(router_table_route(t, "ks", 2, NULL, 1, NULL, 0, &r, &E),
	       ROUTER_EINVAL, NULL, "table is NULL");
	EXPECT(router_table_route_ksid(NULL, "ks", 2, "x", 1, &r, &E),
	       ROUTER_EINVAL, NULL, NULL);
	EXPECT(router_table_route_ksid(t, "ks", 2, NULL, 1, &r, &E),
	       ROUTER_EINVAL, NULL, "keyspace ID is NULL");
	EXPECT(router_table_route_ksid(t, NULL, 2, "x", 1, &r, &E),
	       ROUTER_EINVAL, NULL, NULL);
	/* err may be NULL. */
	assert_int_equal(router_table_route(t, "x", 1, "t", 1, NULL, 0, &r,
	                                    NULL),
	                 ROUTER_ENOTFOUND);
	assert_int_equal(router_table_route_ksid(t, "x", 1, "", 0, &r, NULL),
	                 ROUTER_ENOTFOUND);
	router_table_free(t);
}

/* A name from the caller is shown whole in the message and culprit, with a
 * NUL, a control byte or a stray UTF-8 byte escaped as \xNN: with %.*s,
 * "u\0" read as "keyspace u not found", a keyspace that may well exist. */
static void unknown_names_with_nul_or_control_bytes_are_shown_escaped(
    void **state)
{
	static const op ops[] = {KS("ks", 1), SH("ks", "-80"), SH("ks", "80-"),
	                         VX("ks", "v", "hash", NULL),
	                         TB("ks", "t", NORMAL, NULL),
	                         CV("ks", "t", "v", "id"), KS("u", 0),
	                         SH("u", "0")};
	router_table *t = must_build(ops, NOPS(ops));
	router_value one = ROUTER_VALUE_INT64(1);
	router_route_result r;

	(void)state;
	EXPECT(router_table_route(t, "ks\0", 3, "t", 1, &one, 1, &r, &E),
	       ROUTER_ENOTFOUND, "ks\\x00", "keyspace ks\\x00 not found");
	EXPECT(router_table_route(t, "ks", 2, "t\0x", 3, &one, 1, &r, &E),
	       ROUTER_ENOTFOUND, "ks.t\\x00x",
	       "table t\\x00x not found in sharded keyspace ks");
	EXPECT(router_table_route(t, "ks", 2, "t\x01\xff", 3, &one, 1, &r, &E),
	       ROUTER_ENOTFOUND, "ks.t\\x01\\xff",
	       "table t\\x01\\xff not found in sharded keyspace ks");
	/* route_ksid names its culprit as router_table_route does. */
	EXPECT(router_table_route_ksid(t, "u\0", 2, "\x10", 1, &r, &E),
	       ROUTER_ENOTFOUND, "u\\x00", "keyspace u\\x00 not found");
	EXPECT(route_ksid(t, "nope", "\x10", 1, &r), ROUTER_ENOTFOUND, "nope",
	       "keyspace nope not found");
	/* A long name is cut to fit, ending in "...", never inside an
	 * escape. */
	{
		char big[ROUTER_NAME_MAX];

		memset(big, '\0', sizeof big);
		EXPECT(router_table_route(t, big, sizeof big, "t", 1, &one, 1,
		                          &r, &E),
		       ROUTER_ENOTFOUND, NULL, "...");
		assert_non_null(strstr(E.culprit, "\\x00\\x00"));
		assert_int_equal(strlen(E.culprit) % 4, 3); /* "..." */
	}
	router_table_free(t);
}

/* A name over ROUTER_NAME_MAX is quoted cut to its first characters: the
 * cut was at byte 40 and could split a UTF-8 character. */
static void too_long_name_is_quoted_without_half_a_character(void **state)
{
	router_builder *b = new_builder(NULL);
	char name[1 + 2 * 70 + 1];
	size_t i;

	(void)state;
	name[0] = 'a';
	for (i = 0; i < 70; i++)
		memcpy(name + 1 + 2 * i, "\xc3\xa9", 2); /* U+00E9 */
	name[sizeof name - 1] = '\0';
	EXPECT(router_builder_add_keyspace(b, name, 1, &E), ROUTER_ERANGE, NULL,
	       "is 141 bytes; the limit is 128");
	assert_non_null(strstr(E.message, "\"a\xc3\xa9"));
	assert_non_null(strstr(E.message, "\xc3\xa9...\""));
	assert_null(strstr(E.message, "\xc3..."));
	router_builder_free(b);
}

/* A routing rule's target keyspace is shown escaped. */
static void routing_rule_to_an_unknown_keyspace_shows_it_escaped(void **state)
{
	static const op ops[] = {KS("ks", 0), SH("ks", "0"),
	                         RULE("ks.x", "n\x01pe.t")};

	(void)state;
	REFUSED(ops, ROUTER_EREFERENCE, "ks.x", "keyspace n\\x01pe not found");
}

/* A sample key's names are copied as C strings (the verdict's keyspace is
 * one): "user\0" would be counted apart from "user" yet printed "user".
 * No table holds a name with a NUL, so such a key is refused. */
static void sample_key_with_a_nul_in_a_name_is_refused(void **state)
{
	static const op ops[] = {KS("user", 0), SH("user", "0"),
	                         TB("user", "users", NORMAL, NULL)};
	router_table *t = must_build(ops, NOPS(ops));
	router_value one = ROUTER_VALUE_INT64(1);
	router_sample_key k[2] = {{"user", 4, "users", 5, &one, 1},
	                          {"user\0", 5, "users", 5, &one, 1}};
	router_shadow_verdict *v = NULL;
	router_options o = ROUTER_OPTIONS_INIT;
	router *r = NULL;

	(void)state;
	EXPECT(router_shadow_evaluate(t, t, k, 2, &v, &E), ROUTER_EINVAL, NULL,
	       "sample key 1: keyspace name \"user\\x00\" contains a NUL");
	assert_null(v);
	k[1] = (router_sample_key){"user", 4, "us\0ers", 6, &one, 1};
	EXPECT(router_shadow_evaluate(t, t, k, 2, &v, &E), ROUTER_EINVAL, NULL,
	       "sample key 1: table name \"us\\x00ers\" contains a NUL");
	OK(router_create(&r, &o, &E));
	EXPECT(router_shadow_set_sample(r, k, 2, NULL, &E), ROUTER_EINVAL, NULL,
	       "sample key 1: table name \"us\\x00ers\" contains a NUL");
	/* Other bytes are names no table holds: they count as unroutable. */
	k[1] = (router_sample_key){"us\x01r", 4, "users", 5, &one, 1};
	OK(router_shadow_set_sample(r, k, 2, NULL, &E));
	OK(router_shadow_evaluate(t, t, k, 2, &v, &E));
	assert_int_equal(router_shadow_count(v), 2);
	router_shadow_free(v);
	router_free(r);
	router_table_free(t);
}

/* An invariant's syntax error quotes it cut whole: "%.200s" could end in
 * half a UTF-8 character. */
static void invariant_syntax_error_quotes_without_half_a_character(
    void **state)
{
	char spec[1 + 2 * 150 + sizeof " bogus"];
	const char *specs[1] = {spec};
	size_t i;

	(void)state;
	spec[0] = 'a';
	for (i = 0; i < 150; i++)
		memcpy(spec + 1 + 2 * i, "\xc3\xa9", 2);
	memcpy(spec + 1 + 2 * 150, " bogus", sizeof " bogus");
	assert_int_equal(router_invariants_check(specs, 1, NULL, NULL, &E),
	                 ROUTER_EINVAL);
	{
		static const op ops[] = {KS("ks", 0), SH("ks", "0")};
		router_table *t = must_build(ops, NOPS(ops));

		EXPECT(router_invariants_check(specs, 1, NULL, t, &E),
		       ROUTER_EINVAL, "invariant 1", "\xc3\xa9...\"");
		assert_null(strstr(E.message, "\xc3...\""));
		router_table_free(t);
	}
}

/* "KS.T vindex" pins the primary vindex's type only (README "Beyond the
 * guards"): other columns or other hashing params under the same type
 * pass it, and the keyspace-ID guard is what refuses them. */
static void vindex_invariant_pins_the_type_not_params_or_columns(
    void **state)
{
#define BASE                                                                   \
	KS("ks", 1), SH("ks", "-80"), SH("ks", "80-"), TB("ks", "t", NORMAL, NULL)
	static const op cur_ops[] = {
	    BASE, VXP("ks", "v", "region_experimental", NULL,
	              {"region_bytes", "1"}),
	    CV("ks", "t", "v", "a", "b")};
	static const op params_ops[] = {
	    BASE, VXP("ks", "v", "region_experimental", NULL,
	              {"region_bytes", "2"}),
	    CV("ks", "t", "v", "a", "b")};
	static const op cols_ops[] = {
	    BASE, VXP("ks", "v", "region_experimental", NULL,
	              {"region_bytes", "1"}),
	    CV("ks", "t", "v", "b", "a")};
#undef BASE
	router_table *cur = must_build(cur_ops, NOPS(cur_ops));
	router_table *params = must_build(params_ops, NOPS(params_ops));
	router_table *cols = must_build(cols_ops, NOPS(cols_ops));
	const char *specs[2] = {"ks.t vindex", "ks.t vindex region_experimental"};

	(void)state;
	OK(router_invariants_check(specs, 2, cur, params, &E));
	OK(router_invariants_check(specs, 2, cur, cols, &E));
	EXPECT(router__ksid_guard(cur, params, &E), ROUTER_EKSIDCHANGE, "ks.t",
	       "region_bytes 1 -> 2");
	EXPECT(router__ksid_guard(cur, cols, &E), ROUTER_EKSIDCHANGE, "ks.t",
	       NULL);
	router_table_free(cur);
	router_table_free(params);
	router_table_free(cols);
}

/* The keyspace-ID guard quotes a changed param and a column escaped and
 * cut whole: "%.40s" could end in half a UTF-8 character. */
static void ksid_guard_quotes_params_without_half_a_character(void **state)
{
#define E30                                                                    \
	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"     \
	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
#define BASE KS("ks", 1), SH("ks", "-80"), SH("ks", "80-"), TB("ks", "t", NORMAL, NULL)
	static const op cur_ops[] = {
	    BASE, VXP("ks", "lu", "lookup_unique", NULL, {"table", "a" E30 E30}),
	    CV("ks", "t", "lu", "c" E30 E30)};
	static const op next_ops[] = {
	    BASE, VXP("ks", "lu", "lookup_unique", NULL, {"table", "b" E30 E30}),
	    CV("ks", "t", "lu", "c" E30 E30)};
#undef BASE
#undef E30
	router_table *cur = must_build(cur_ops, NOPS(cur_ops));
	router_table *next = must_build(next_ops, NOPS(next_ops));

	(void)state;
	EXPECT(router__ksid_guard(cur, next, &E), ROUTER_EKSIDCHANGE, "ks.t",
	       "changed: lookup_unique(c\xc3\xa9");
	assert_non_null(strstr(E.message, "param table a\xc3\xa9"));
	assert_non_null(strstr(E.message, "\xc3\xa9... -> b\xc3\xa9"));
	assert_non_null(strstr(E.message, "\xc3\xa9...) keeps"));
	assert_null(strstr(E.message, "\xc3 "));
	assert_null(strstr(E.message, "\xc3)"));
	router_table_free(cur);
	router_table_free(next);
}

static void version_is_the_builders_and_null_is_harmless(void **state)
{
	static const op ops[] = {KS("u", 0)};
	router_builder *b = new_builder(NULL), *b2 = NULL;
	router_table *t0, *t7, *empty = NULL;
	router_route_result r;

	(void)state;
	OK(apply_ops(b, ops, NOPS(ops), &E));
	OK(router_table_build(b, &t0, &E));
	OK(router_builder_set_version(b, 7));
	OK(router_table_build(b, &t7, &E));
	assert_int_equal(router_table_version(t0), 0);
	assert_int_equal(router_table_version(t7), 7);
	assert_int_equal(router_table_hash(t0), router_table_hash(t7));
	assert_true(router_table_hash(t0) != 0);
	OK(route_i64(t7, "u", "t", 1, &r));
	assert_int_equal(r.version, 7);
	OK(route_ksid(t7, "u", "", 0, &r));
	assert_int_equal(r.version, 7);
	/* A table without keyspaces builds (publishing it is what the
	 * router refuses) and routes nothing. */
	OK(router_builder_create(&b2, NULL, &E));
	OK(router_table_build(b2, &empty, &E));
	EXPECT(route_i64(empty, "u", "t", 1, &r), ROUTER_ENOTFOUND, NULL,
	       "keyspace u not found");
	router_table_free(empty);
	router_builder_free(b2);
	assert_int_equal(router_table_version(NULL), 0);
	assert_int_equal(router_table_hash(NULL), 0);
	router_table_free(NULL);
	router_table_free(t0);
	router_table_free(t7);
	router_builder_free(b);
}

/* ---- shard search against brute force ---- */

/* Random keyspace IDs of 0..10 bytes, plus for every shard start: the
 * start itself, with a zero byte appended, one below it (as 8 bytes) and
 * the start's first byte alone.  Each must route to the first shard (in
 * partition order) that contains it. */
static void check_against_brute_force(const router_table *t,
                                      const char *const *shards, size_t n,
                                      size_t nrandom)
{
	router_keyrange *kr = malloc(n * sizeof *kr);
	uint8_t k[40];
	size_t checked = 0;

	assert_non_null(kr);
	for (size_t i = 0; i < n; i++)
		OK(router_keyrange_parse(shards[i], strlen(shards[i]), &kr[i],
		                         &E));
	for (size_t it = 0; it < nrandom + 4 * n; it++) {
		router_route_result r;
		size_t len, want;

		if (it < nrandom) {
			len = (size_t)(rnd() % 11);
			for (size_t j = 0; j < len; j++)
				k[j] = (uint8_t)rnd();
			/* Bias some toward few distinct leading bytes. */
			if (len > 0 && it % 3 == 0)
				k[0] &= 0xf0;
		} else {
			const router_keyrange *s = &kr[(it - nrandom) / 4];
			int variant = (int)((it - nrandom) % 4);

			len = s->start_len;
			memcpy(k, s->start, len);
			if (variant == 1) {
				k[len++] = 0;
			} else if (variant == 2) {
				uint64_t v = 0;

				for (size_t j = 0; j < 8; j++)
					v = v << 8 | (j < len ? k[j] : 0);
				v--;
				for (size_t j = 0; j < 8; j++)
					k[j] = (uint8_t)(v >> (56 - 8 * j));
				if (len < 8)
					len = 8;
			} else if (variant == 3 && len > 1) {
				len = 1;
			}
		}
		for (want = 0; want < n; want++)
			if (router_keyrange_contains(&kr[want], k, len))
				break;
		OK(route_ksid(t, "ks", k, len, &r));
		if (want == n || r.shard_index != want) {
			char hex[81];

			tu_hex(k, len, hex);
			fail_msg("ksid %s: routed to %s (%u), first containing "
			         "shard %s",
			         hex, r.shard, r.shard_index,
			         want < n ? shards[want] : "none");
		}
		assert_string_equal(r.shard, shards[want]);
		checked++;
	}
	assert_true(checked >= nrandom);
	free(kr);
}

static router_table *sharded_table(const char *const *shards, size_t n)
{
	router_builder *b = new_builder(NULL);
	router_table *t = NULL;
	size_t *perm = malloc(n * sizeof *perm);

	assert_non_null(perm);
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = n; i > 1; i--) { /* add them in a random order */
		size_t j = (size_t)(rnd() % i), tmp = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = tmp;
	}
	OK(router_builder_add_keyspace(b, "ks", 1, &E));
	for (size_t i = 0; i < n; i++)
		OK(router_builder_add_shard(b, "ks", shards[perm[i]], &E));
	OK(router_table_build(b, &t, &E));
	router_builder_free(b);
	free(perm);
	return t;
}

static void long_shard_bounds_route_like_the_first_containing_shard(
    void **state)
{
	/* Starts of more than 8 significant bytes disable the 64-bit fast
	 * path; bounds of 8 bytes or fewer (even with trailing zeros beyond
	 * 8) keep it. */
	static const char *const longs[] = {
	    "-0000000000000001",  "0000000000000001-20", "20-800000000000000001",
	    "800000000000000001-80000000000000000100ff",
	    "80000000000000000100ff-c0", "c0-c000000000000000ff",
	    "c000000000000000ff-"};
	static const char *const shorts[] = {
	    "-00000000000000010000", "00000000000000010000-40", "40-4000000000000001",
	    "4000000000000001-ff", "ff-"};
	/* An empty shard (80-8000: start == end normalized) holds nothing. */
	static const char *const empty[] = {"-80", "80-8000", "8000-"};
	router_table *t;

	(void)state;
	t = sharded_table(longs, NOPS(longs));
	assert_null(router__table_keyspace(t, "ks", 2)->bounds);
	check_against_brute_force(t, longs, NOPS(longs), 20000);
	router_table_free(t);

	t = sharded_table(shorts, NOPS(shorts));
	assert_non_null(router__table_keyspace(t, "ks", 2)->bounds);
	check_against_brute_force(t, shorts, NOPS(shorts), 20000);
	router_table_free(t);

	t = sharded_table(empty, NOPS(empty));
	check_against_brute_force(t, empty, NOPS(empty), 2000);
	router_table_free(t);
}

static void even_partitions_route_like_the_first_containing_shard(
    void **state)
{
	static const unsigned counts[] = {1, 2, 3, 16, 49, 256, 4096};

	(void)state;
	for (size_t c = 0; c < NOPS(counts); c++) {
		unsigned n = counts[c];
		char(*names)[16] = malloc(n * sizeof *names);
		const char **shards = malloc(n * sizeof *shards);
		router_table *t;

		assert_true(names != NULL && shards != NULL);
		for (unsigned i = 0; i < n; i++) {
			OK(router_shard_range_name(i, n, names[i],
			                           sizeof names[i]));
			shards[i] = names[i];
		}
		t = sharded_table(shards, n);
		assert_int_equal(router__table_keyspace(t, "ks", 2)->nshards, n);
		check_against_brute_force(t, shards, n,
		                          n >= 4096 ? 3000 : 10000);
		router_table_free(t);
		free(names);
		free(shards);
	}
}

/* ---- content hash ----------------------------------------------------------- */

/* Everything the builder can express, valid. */
static const op FULL[] = {
    KS("user", 1), KS("commerce", 0), KS("customer", 1),
    SH("user", "-40"), SH("user", "40-80"), SH("user", "80-c0"),
    SH("user", "c0-"), SH("customer", "-80"), SH("customer", "80-"),
    VX("user", "hash", "hash", NULL), VX("user", "xx", "xxhash", NULL),
    VXP("user", "nsm", "numeric_static_map", NULL,
       {"json", "{\"1\":2,\"3\":4,\"5\":6}"}, {"fallback_type", "hash"}),
    VXP("user", "mc", "multicol", NULL, {"column_count", "2"},
       {"column_vindex", "hash,xxhash"}),
    VXP("user", "name_lookup", "lookup_unique", "users",
       {"table", "user.name_idx"}, {"from", "name"}, {"to", "keyspace_id"}),
    VXP("user", "region", "region_experimental", NULL, {"region_bytes", "1"}),
    VX("customer", "hash", "hash", NULL),
    TB("user", "users", NORMAL, NULL), TB("user", "orders", NORMAL, NULL),
    TB("user", "things", NORMAL, NULL), TB("user", "geo", NORMAL, NULL),
    TB("user", "cfg", REFERENCE, NULL), TB("user", "seq", SEQUENCE, "80"),
    TB("user", "pinned", NORMAL, "a5"),
    TB("commerce", "product", NORMAL, NULL),
    TB("commerce", "seq", SEQUENCE, NULL),
    TB("commerce", "ref", REFERENCE, NULL),
    TB("customer", "customer", NORMAL, NULL),
    CV("user", "users", "hash", "id"), CV("user", "users", "xx", "email"),
    CV("user", "users", "name_lookup", "name"),
    CV("user", "orders", "mc", "a", "b"), CV("user", "things", "nsm", "x"),
    CV("user", "geo", "region", "country", "id"),
    CV("customer", "customer", "hash", "customer_id"),
    RULE("commerce.old_product", "commerce.product"),
    RULE("user.legacy", NULL),
    RULE("user.users@replica", "customer.customer"),
    RULE("old_customer", "customer.customer"),
    RULE("customer.cust", "customer.customer"),
};
#define NFULL NOPS(FULL)
#define MAXOPS (NFULL + 4)

static int phase(const op *o)
{
	return o->k == K_KS ? 0 : o->k == K_CV ? 2 : o->k == K_RULE ? 3 : 1;
}

/* The same definitions in another valid order: a random order within
 * each phase (keyspaces; shards, vindexes and tables; column vindexes;
 * rules), column vindexes of one table kept in their order, params
 * reversed. */
static void shuffle_ops(const op *in, size_t n, op *out)
{
	size_t pos = 0;

	for (int ph = 0; ph < 4; ph++) {
		size_t start = pos;

		for (size_t i = 0; i < n; i++)
			if (phase(&in[i]) == ph)
				out[pos++] = in[i];
		for (size_t i = pos - start; i > 1; i--) {
			size_t j = (size_t)(rnd() % i);
			op tmp = out[start + i - 1];

			out[start + i - 1] = out[start + j];
			out[start + j] = tmp;
		}
		if (ph == 2) {
			/* Each slot a table's column vindex took gets that
			 * table's next column vindex in input order. */
			size_t used[MAXOPS] = {0};

			for (size_t i = start; i < pos; i++) {
				for (size_t j = 0; j < n; j++) {
					if (used[j] || in[j].k != K_CV ||
					    strcmp(in[j].ks, out[i].ks) != 0 ||
					    strcmp(in[j].name, out[i].name) != 0)
						continue;
					used[j] = 1;
					out[i] = in[j];
					break;
				}
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		size_t np = 0;

		while (np < 4 && out[i].p[np].key != NULL)
			np++;
		for (size_t j = 0; j < np / 2; j++) {
			router_param tmp = out[i].p[j];

			out[i].p[j] = out[i].p[np - 1 - j];
			out[i].p[np - 1 - j] = tmp;
		}
	}
}

static op *find_op(op *ops, size_t n, int k, const char *ks,
                   const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (ops[i].k == k && strcmp(ops[i].ks, ks) == 0 &&
		    (name == NULL ||
		     (ops[i].name != NULL && strcmp(ops[i].name, name) == 0)))
			return &ops[i];
	fail_msg("no op %d %s %s", k, ks, name ? name : "");
	abort();
}

static void remove_op(op *ops, size_t *n, op *o)
{
	size_t i = (size_t)(o - ops);

	memmove(&ops[i], &ops[i + 1], (*n - i - 1) * sizeof *ops);
	(*n)--;
}

/* FULL with one change m (1..); returns 0 past the last change. */
static int mutate(op *o, size_t *n, int m)
{
	op *x;

	memcpy(o, FULL, sizeof FULL);
	*n = NFULL;
	switch (m) {
	case 1: /* split a shard */
		find_op(o, *n, K_SHARD, "user", "c0-")->name = "c0-e0";
		o[(*n)++] = (op)SH("user", "e0-");
		break;
	case 2: /* rename a shard, same range */
		find_op(o, *n, K_SHARD, "customer", "80-")->name = "8000-";
		break;
	case 3: /* a vindex param's value */
		find_op(o, *n, K_VINDEX, "user", "nsm")->p[0].value =
		    "{\"1\":2,\"3\":4,\"5\":7}";
		break;
	case 4: /* one more vindex param (ignored by hash, still content) */
		find_op(o, *n, K_VINDEX, "user", "hash")->p[0] =
		    (router_param){"note", "x"};
		break;
	case 5: /* a vindex type */
		find_op(o, *n, K_VINDEX, "user", "xx")->s = "binary_md5";
		break;
	case 6: /* a vindex owner */
		find_op(o, *n, K_VINDEX, "user", "name_lookup")->owner = "orders";
		break;
	case 7: /* a table type */
		find_op(o, *n, K_TABLE, "commerce", "product")->n = REFERENCE;
		break;
	case 8: /* a column */
		find_op(o, *n, K_CV, "user", "things")->cols[0] = "y";
		break;
	case 9: /* column order within a vindex */
		x = find_op(o, *n, K_CV, "user", "orders");
		x->cols[0] = "b";
		x->cols[1] = "a";
		break;
	case 10: /* column vindex order within a table */
		x = find_op(o, *n, K_CV, "user", "users");
		x[1].s = "name_lookup";
		x[1].cols[0] = "name";
		x[2].s = "xx";
		x[2].cols[0] = "email";
		break;
	case 11: /* a pin */
		find_op(o, *n, K_TABLE, "user", "pinned")->s = "a6";
		break;
	case 12: /* a rule's target */
		find_op(o, *n, K_RULE, "customer.cust", NULL)->s = "user.users";
		break;
	case 13: /* a rule disabled */
		find_op(o, *n, K_RULE, "commerce.old_product", NULL)->s = NULL;
		break;
	case 14: /* a rule added */
		o[(*n)++] = (op)RULE("user.extra", "commerce.product");
		break;
	case 15: /* a rule removed */
		remove_op(o, n, find_op(o, *n, K_RULE, "old_customer", NULL));
		break;
	case 16: /* a rule's source */
		find_op(o, *n, K_RULE, "user.legacy", NULL)->ks = "user.legacy2";
		break;
	case 17: /* a table added */
		o[(*n)++] = (op)TB("commerce", "extra", NORMAL, NULL);
		break;
	case 18: /* a table renamed */
		find_op(o, *n, K_TABLE, "commerce", "ref")->name = "ref2";
		break;
	case 19: /* a keyspace added */
		o[(*n)++] = (op)KS("more", 0);
		break;
	case 20: /* a keyspace turned sharded (it has no tables to route) */
		remove_op(o, n, find_op(o, *n, K_TABLE, "commerce", "product"));
		remove_op(o, n, find_op(o, *n, K_RULE, "commerce.old_product",
		                        NULL));
		find_op(o, *n, K_TABLE, "commerce", "seq")->s = "00";
		find_op(o, *n, K_KS, "commerce", NULL)->n = 1;
		o[(*n)++] = (op)SH("commerce", "-");
		break;
	case 21: /* a vindex added */
		o[(*n)++] = (op)VX("customer", "spare", "xxhash", NULL);
		break;
	case 22: /* a vindex param key (same value) */
		find_op(o, *n, K_VINDEX, "user", "name_lookup")->p[0].key =
		    "table2";
		break;
	default:
		return 0;
	}
	return 1;
}

static void equal_content_has_equal_hash_in_any_insertion_order(
    void **state)
{
	router_table *base = must_build(FULL, NFULL);
	uint64_t h = router_table_hash(base);

	(void)state;
	for (int round = 0; round < 20; round++) {
		op o[MAXOPS];
		router_builder *b = new_builder(NULL);
		router_table *t;

		shuffle_ops(FULL, NFULL, o);
		OK(apply_ops(b, o, NFULL, &E));
		OK(router_builder_set_version(b, (uint64_t)round * 1000 + 1));
		OK(router_table_build(b, &t, &E));
		assert_int_equal(router_table_hash(t), h);
		assert_int_equal(router_table_version(t),
		                 (uint64_t)round * 1000 + 1);
		router_table_free(t);
		router_builder_free(b);
	}
	router_table_free(base);
}

static void any_single_change_changes_the_hash(void **state)
{
	uint64_t hashes[64];
	size_t nh = 0;
	op o[MAXOPS];
	size_t n;

	(void)state;
	{
		router_table *base = must_build(FULL, NFULL);

		hashes[nh++] = router_table_hash(base);
		router_table_free(base);
	}
	for (int m = 1; mutate(o, &n, m); m++) {
		router_table *t = must_build(o, n);
		uint64_t h = router_table_hash(t);

		for (size_t j = 0; j < nh; j++)
			if (hashes[j] == h)
				fail_msg("change %d hashes like %s %zu", m,
				         j == 0 ? "the base" : "change", j);
		assert_true(nh < 64);
		hashes[nh++] = h;
		router_table_free(t);
	}
	assert_true(nh > 20);
}

/* ---- diffs ------------------------------------------------------------------ */

static const op DIFF_A[] = {
    KS("alpha", 0), TB("alpha", "a1", NORMAL, NULL),
    KS("gone", 0), TB("gone", "g", NORMAL, NULL),
    KS("user", 1), SH("user", "-80"), SH("user", "80-"),
    VX("user", "hash", "hash", NULL),
    VX("user", "lk", "lookup_unique", "users"),
    VXP("user", "nsm", "numeric_static_map", NULL, {"json", "{\"1\":2}"}),
    VX("user", "xx", "xxhash", NULL), VX("user", "zz", "hash", NULL),
    TB("user", "cfg", REFERENCE, NULL), TB("user", "old", NORMAL, NULL),
    CV("user", "old", "hash", "id"), TB("user", "orders", NORMAL, NULL),
    CV("user", "orders", "hash", "user_id"), TB("user", "pin", NORMAL, "10"),
    TB("user", "users", NORMAL, NULL), CV("user", "users", "hash", "id"),
    CV("user", "users", "lk", "name"),
    RULE("user.r1", "alpha.a1"), RULE("user.r2", "alpha.a1"),
    RULE("user.r3", NULL)};

static const op DIFF_B[] = {
    KS("alpha", 1), SH("alpha", "-"), VX("alpha", "hash", "hash", NULL),
    TB("alpha", "a1", NORMAL, NULL), CV("alpha", "a1", "hash", "id"),
    KS("new", 0),
    KS("user", 1), SH("user", "-80"), SH("user", "80-c0"), SH("user", "c0-"),
    VX("user", "hash", "hash", NULL),
    VX("user", "lk", "lookup_unique", "orders"),
    VXP("user", "nsm", "numeric_static_map", NULL, {"json", "{\"1\":3}"}),
    VX("user", "xx", "binary_md5", NULL), VX("user", "yy", "xxhash", NULL),
    TB("user", "cfg", NORMAL, NULL), CV("user", "cfg", "hash", "id"),
    TB("user", "new_t", NORMAL, NULL), CV("user", "new_t", "hash", "id"),
    TB("user", "orders", NORMAL, NULL), CV("user", "orders", "hash", "user_id"),
    CV("user", "orders", "xx", "email"), TB("user", "pin", NORMAL, "90"),
    TB("user", "users", NORMAL, NULL), CV("user", "users", "hash", "id"),
    CV("user", "users", "lk", "name"),
    RULE("user.r1", "alpha.a1"), RULE("user.r2", NULL),
    RULE("user.r4", "alpha.a1")};

typedef struct want_entry {
	router_diff_kind kind;
	router_diff_op op;
	const char *ks, *name, *detail;
} want_entry;

#define D_KS ROUTER_DIFF_KEYSPACE
#define D_TB ROUTER_DIFF_TABLE
#define D_VX ROUTER_DIFF_VINDEX
#define D_SH ROUTER_DIFF_SHARD
#define D_RU ROUTER_DIFF_RULE
#define ADD ROUTER_DIFF_ADDED
#define DEL ROUTER_DIFF_REMOVED
#define CHG ROUTER_DIFF_CHANGED

static void print_diff(const router_diff *d)
{
	for (size_t i = 0; i < router_diff_count(d); i++) {
		const router_diff_entry *e = router_diff_get(d, i);

		print_message("  %zu: kind %d op %d [%s] %s: %s\n", i, e->kind,
		              e->op, e->keyspace, e->name, e->detail);
	}
}

static void expect_diff(const router_diff *d, const want_entry *w, size_t n)
{
	if (router_diff_count(d) != n) {
		print_diff(d);
		fail_msg("%zu entries, want %zu", router_diff_count(d), n);
	}
	for (size_t i = 0; i < n; i++) {
		const router_diff_entry *e = router_diff_get(d, i);

		assert_non_null(e);
		if (e->kind != w[i].kind || e->op != w[i].op ||
		    strcmp(e->keyspace, w[i].ks) != 0 ||
		    strcmp(e->name, w[i].name) != 0 ||
		    (w[i].detail != NULL && strcmp(e->detail, w[i].detail) != 0)) {
			print_diff(d);
			fail_msg("entry %zu: kind %d op %d [%s] %s: '%s'; want "
			         "kind %d op %d [%s] %s: '%s'",
			         i, e->kind, e->op, e->keyspace, e->name,
			         e->detail, w[i].kind, w[i].op, w[i].ks,
			         w[i].name, w[i].detail ? w[i].detail : "*");
		}
	}
	assert_null(router_diff_get(d, n));
}

/* Sorted by keyspace, then kind, then name. */
static void assert_sorted(const router_diff *d)
{
	for (size_t i = 1; i < router_diff_count(d); i++) {
		const router_diff_entry *a = router_diff_get(d, i - 1);
		const router_diff_entry *b = router_diff_get(d, i);
		int c = strcmp(a->keyspace, b->keyspace);

		if (c == 0)
			c = (int)a->kind - (int)b->kind;
		if (c == 0)
			c = strcmp(a->name, b->name);
		if (c >= 0)
			fail_msg("entries %zu and %zu out of order: [%s] %d %s, "
			         "[%s] %d %s",
			         i - 1, i, a->keyspace, a->kind, a->name,
			         b->keyspace, b->kind, b->name);
	}
}

static void diff_names_every_kind_of_change_in_order(void **state)
{
	static const want_entry want[] = {
	    {D_RU, CHG, "", "user.r2", "-> alpha.a1 becomes -> (disabled)"},
	    {D_RU, DEL, "", "user.r3", "-> (disabled)"},
	    {D_RU, ADD, "", "user.r4", "-> alpha.a1"},
	    {D_KS, CHG, "alpha", "alpha", "unsharded -> sharded"},
	    {D_TB, CHG, "alpha", "a1", "primary vindex type none -> hash"},
	    {D_VX, ADD, "alpha", "hash", "hash"},
	    {D_SH, ADD, "alpha", "-", "shard"},
	    {D_SH, DEL, "alpha", "0", "shard"},
	    {D_KS, DEL, "gone", "gone",
	     "unsharded keyspace with 1 tables, 1 shards"},
	    {D_TB, DEL, "gone", "g", "normal table"},
	    {D_SH, DEL, "gone", "0", "shard"},
	    {D_KS, ADD, "new", "new", "unsharded keyspace with 0 tables, 1 shards"},
	    {D_SH, ADD, "new", "0", "shard"},
	    {D_TB, CHG, "user", "cfg",
	     "type reference -> normal; primary vindex type none -> hash"},
	    {D_TB, ADD, "user", "new_t", "normal table"},
	    {D_TB, DEL, "user", "old", "normal table"},
	    {D_TB, CHG, "user", "orders", "column vindexes changed"},
	    {D_TB, CHG, "user", "pin", "pinned 10 -> 90"},
	    {D_VX, CHG, "user", "lk", "owner users -> orders"},
	    {D_VX, CHG, "user", "nsm", "params changed"},
	    {D_VX, CHG, "user", "xx", "type xxhash -> binary_md5"},
	    {D_VX, ADD, "user", "yy", "xxhash"},
	    {D_VX, DEL, "user", "zz", "hash"},
	    {D_SH, DEL, "user", "80-", "shard"},
	    {D_SH, ADD, "user", "80-c0", "shard"},
	    {D_SH, ADD, "user", "c0-", "shard"},
	};
	router_table *a = must_build(DIFF_A, NOPS(DIFF_A));
	router_table *b = must_build(DIFF_B, NOPS(DIFF_B));
	router_diff *d = NULL, *back = NULL, *same = NULL;

	(void)state;
	OK(router_diff_tables(a, b, &d, &E));
	expect_diff(d, want, NOPS(want));
	assert_sorted(d);
	assert_int_equal(router_diff_tally(d, 0, 0), NOPS(want));
	assert_int_equal(router_diff_tally(d, D_RU, 0), 3);
	assert_int_equal(router_diff_tally(d, 0, ADD), 9);
	assert_int_equal(router_diff_tally(d, 0, DEL), 8);
	assert_int_equal(router_diff_tally(d, 0, CHG), 9);
	assert_int_equal(router_diff_tally(d, D_TB, CHG), 4);
	assert_int_equal(router_diff_tally(d, D_SH, ADD), 4);
	assert_int_equal(router_diff_tally(d, D_KS, DEL), 1);
	assert_int_equal(router_diff_tally(d, D_VX, ADD), 2);

	/* Backwards, every ADDED is a REMOVED and vice versa. */
	OK(router_diff_tables(b, a, &back, &E));
	assert_sorted(back);
	assert_int_equal(router_diff_count(back), router_diff_count(d));
	assert_int_equal(router_diff_tally(back, 0, ADD),
	                 router_diff_tally(d, 0, DEL));
	assert_int_equal(router_diff_tally(back, 0, DEL),
	                 router_diff_tally(d, 0, ADD));
	assert_int_equal(router_diff_tally(back, 0, CHG),
	                 router_diff_tally(d, 0, CHG));

	/* Nothing from a table to itself or to an equal one. */
	OK(router_diff_tables(a, a, &same, &E));
	assert_int_equal(router_diff_count(same), 0);
	assert_null(router_diff_get(same, 0));
	router_diff_free(same);
	{
		router_table *a2 = must_build(DIFF_A, NOPS(DIFF_A));

		OK(router_diff_tables(a, a2, &same, &E));
		assert_int_equal(router_diff_count(same), 0);
		router_diff_free(same);
		router_table_free(a2);
	}
	router_diff_free(d);
	router_diff_free(back);
	router_table_free(a);
	router_table_free(b);
}

/* A primary vindex that keeps its type but reads other columns or params
 * changes every keyspace ID: the diff says so instead of a bare "column
 * vindexes changed" (or nothing at all for params), and the keyspace-ID
 * guard names the first such table; a rename with the same definition
 * is only a column vindex change and passes the guard. */
static const op KSID_A[] = {
    KS("user", 1), SH("user", "-80"), SH("user", "80-"),
    VXP("user", "m", "numeric_static_map", NULL, {"json", "{\"1\":2}"}),
    VX("user", "xx", "xxhash", NULL), TB("user", "a", NORMAL, NULL),
    CV("user", "a", "m", "id"), TB("user", "b", NORMAL, NULL),
    CV("user", "b", "xx", "id"), TB("user", "c", NORMAL, NULL),
    CV("user", "c", "xx", "id"),
};
static const op KSID_B[] = {
    KS("user", 1), SH("user", "-80"), SH("user", "80-"),
    VXP("user", "m", "numeric_static_map", NULL, {"json", "{\"1\":3}"}),
    VX("user", "yy", "xxhash", NULL), TB("user", "a", NORMAL, NULL),
    CV("user", "a", "m", "id"), TB("user", "b", NORMAL, NULL),
    CV("user", "b", "yy", "uid"), TB("user", "c", NORMAL, NULL),
    CV("user", "c", "yy", "id"),
};

static void diff_and_ksid_guard_name_a_primary_vindex_that_rehashes(
    void **state)
{
	static const want_entry want[] = {
	    {D_TB, CHG, "user", "a",
	     "primary vindex numeric_static_map(id) -> numeric_static_map(id) "
	     "(its map (json or json_path) changes: 1 -> 1 entries)"},
	    {D_TB, CHG, "user", "b", "primary vindex xxhash(id) -> xxhash(uid)"},
	    {D_TB, CHG, "user", "c", "column vindexes changed"},
	    {D_VX, CHG, "user", "m", "params changed"},
	    {D_VX, DEL, "user", "xx", "xxhash"},
	    {D_VX, ADD, "user", "yy", "xxhash"},
	};
	router_table *a = must_build(KSID_A, NOPS(KSID_A));
	router_table *b = must_build(KSID_B, NOPS(KSID_B));
	router_diff *d = NULL;

	(void)state;
	OK(router_diff_tables(a, b, &d, &E));
	expect_diff(d, want, NOPS(want));
	EXPECT(router__ksid_guard(a, b, &E), ROUTER_EKSIDCHANGE, "user.a",
	       "numeric_static_map(id) keeps its type and columns but its map");
	/* Back: same refusal; from nothing, or to itself: nothing. */
	EXPECT(router__ksid_guard(b, a, &E), ROUTER_EKSIDCHANGE, "user.a",
	       NULL);
	assert_int_equal(router__ksid_guard(NULL, b, &E), ROUTER_OK);
	assert_int_equal(router__ksid_guard(a, a, &E), ROUTER_OK);
	router_diff_free(d);
	router_table_free(a);
	router_table_free(b);
}

static void diff_from_nothing_lists_everything_as_added(void **state)
{
	router_table *t = must_build(FULL, NFULL);
	router_diff *d = NULL;
	size_t tables = 0, vindexes = 0, shards = 0, rules = 0, kss = 0;

	(void)state;
	for (size_t i = 0; i < NFULL; i++) {
		kss += FULL[i].k == K_KS;
		tables += FULL[i].k == K_TABLE;
		vindexes += FULL[i].k == K_VINDEX;
		shards += FULL[i].k == K_SHARD;
		rules += FULL[i].k == K_RULE;
	}
	shards += 1; /* commerce's implicit "0" */
	OK(router_diff_tables(NULL, t, &d, &E));
	assert_sorted(d);
	assert_int_equal(router_diff_tally(d, 0, ADD), router_diff_count(d));
	assert_int_equal(router_diff_tally(d, D_KS, ADD), kss);
	assert_int_equal(router_diff_tally(d, D_TB, ADD), tables);
	assert_int_equal(router_diff_tally(d, D_VX, ADD), vindexes);
	assert_int_equal(router_diff_tally(d, D_SH, ADD), shards);
	assert_int_equal(router_diff_tally(d, D_RU, ADD), rules);
	assert_int_equal(router_diff_count(d),
	                 kss + tables + vindexes + shards + rules);
	/* Rules have no keyspace; everything else has its own. */
	for (size_t i = 0; i < router_diff_count(d); i++) {
		const router_diff_entry *e = router_diff_get(d, i);

		assert_true((e->kind == D_RU) == (e->keyspace[0] == '\0'));
		if (e->kind == D_KS)
			assert_string_equal(e->keyspace, e->name);
		assert_non_null(e->detail);
	}
	router_diff_free(d);
	router_table_free(t);
}

static void diff_outlives_both_tables(void **state)
{
	router_table *a = must_build(DIFF_A, NOPS(DIFF_A));
	router_table *b = must_build(DIFF_B, NOPS(DIFF_B));
	router_diff *d = NULL;
	char buf[4096] = "";
	size_t n;

	(void)state;
	OK(router_diff_tables(a, b, &d, &E));
	router_table_free(a);
	router_table_free(b);
	n = router_diff_count(d);
	assert_true(n > 0);
	/* Read every string (valgrind checks none points into a table). */
	for (size_t i = 0; i < n; i++) {
		const router_diff_entry *e = router_diff_get(d, i);

		strncat(buf, e->keyspace, sizeof buf - strlen(buf) - 1);
		strncat(buf, e->name, sizeof buf - strlen(buf) - 1);
		strncat(buf, e->detail, sizeof buf - strlen(buf) - 1);
	}
	assert_non_null(strstr(buf, "usernew_tnormal table"));
	router_diff_free(d);
}

static void diff_refuses_null_arguments(void **state)
{
	router_table *t = must_build(DIFF_A, NOPS(DIFF_A));
	router_diff *d = (router_diff *)&d;

	(void)state;
	EXPECT(router_diff_tables(t, NULL, &d, &E), ROUTER_EINVAL, NULL, NULL);
	EXPECT(router_diff_tables(t, t, NULL, &E), ROUTER_EINVAL, NULL, NULL);
	EXPECT(router_diff_tables(NULL, NULL, &d, &E), ROUTER_EINVAL, NULL,
	       NULL);
	assert_int_equal(router_diff_count(NULL), 0);
	assert_null(router_diff_get(NULL, 0));
	assert_int_equal(router_diff_tally(NULL, 0, 0), 0);
	router_diff_free(NULL);
	router_table_free(t);
}

/* ---- allocation failures ---------------------------------------------------- */

/* Fail allocation k of: create a builder, add FULL, build.  Every call
 * either succeeds or says ROUTER_ENOMEM; after freeing, nothing is left;
 * after a failed build the same builder builds the right table. */
static void build_failing_at_any_allocation_is_enomem_and_leaks_nothing(
    void **state)
{
	router_table *ref = must_build(FULL, NFULL);
	const uint64_t want = router_table_hash(ref);
	long k;

	(void)state;
	router_table_free(ref);
	for (k = 1;; k++) {
		tu_alloc c = {0, k - 1, 0, 0, 0, 0};
		router_allocator a = TU_ALLOCATOR(&c);
		router_builder *b = NULL;
		router_table *t = NULL;
		int rc;

		memset(&E, 0, sizeof E);
		rc = router_builder_create(&b, &a, &E);
		if (rc == ROUTER_OK)
			rc = apply_ops(b, FULL, NFULL, &E);
		if (rc == ROUTER_OK) {
			rc = router_table_build(b, &t, &E);
			if (rc != ROUTER_OK) {
				assert_null(t);
				assert_int_equal(router_builder_problem_count(b),
				                 0);
			}
		}
		if (rc != ROUTER_OK && rc != ROUTER_ENOMEM)
			fail_msg("allocation %ld: %s: %s", k, router_errname(rc),
			         E.message);
		if (rc == ROUTER_ENOMEM) {
			assert_int_equal(E.code, ROUTER_ENOMEM);
			assert_int_equal(c.failed, 1);
		} else if (c.failed) {
			fail_msg("allocation %ld failed unreported", k);
		}
		if (t != NULL) {
			assert_int_equal(router_table_hash(t), want);
			router_table_free(t);
		}
		router_builder_free(b);
		if (c.live != 0)
			fail_msg("allocation %ld: %ld blocks leaked", k, c.live);
		if (c.failed == 0)
			break; /* k is past the last allocation */
	}
	print_message("build: failed each of %ld allocations\n", k - 1);
	assert_true(k > 50);
}

/* Same for the build alone: the builder is full, allocation k of
 * router_table_build fails, and a second build of the same builder gives
 * the reference table. */
static void build_failing_at_any_allocation_keeps_the_builder_usable(
    void **state)
{
	router_table *ref = must_build(FULL, NFULL);
	const uint64_t want = router_table_hash(ref);
	long k;

	(void)state;
	router_table_free(ref);
	for (k = 1;; k++) {
		tu_alloc c = TU_ALLOC_INIT;
		router_allocator a = TU_ALLOCATOR(&c);
		router_builder *b = new_builder(&a);
		router_table *t = NULL;
		int rc;

		OK(apply_ops(b, FULL, NFULL, &E));
		c.countdown = k - 1;
		rc = router_table_build(b, &t, &E);
		if (rc == ROUTER_ENOMEM) {
			assert_null(t);
			assert_int_equal(c.failed, 1);
			assert_int_equal(router_builder_problem_count(b), 0);
			c.countdown = -1;
			OK(router_table_build(b, &t, &E));
		} else if (rc != ROUTER_OK) {
			fail_msg("allocation %ld: %s: %s", k, router_errname(rc),
			         E.message);
		}
		assert_int_equal(router_table_hash(t), want);
		router_table_free(t);
		router_builder_free(b);
		if (c.live != 0)
			fail_msg("allocation %ld: %ld blocks leaked", k, c.live);
		if (c.failed == 0)
			break;
	}
	assert_true(k > 10);
}

/* A build that has problems, failing at allocation k: either its first
 * problem or ROUTER_ENOMEM, never a leak. */
static void refused_build_failing_at_any_allocation_leaks_nothing(
    void **state)
{
	static const op bad[] = {
	    KS("a", 1), SH("a", "-40"), SH("a", "80-"),
	    VXP("a", "nsm", "numeric_static_map", NULL, {"json", "{\"1\":2}"}),
	    VX("a", "bad", "nosuch", NULL), TB("a", "t", NORMAL, NULL),
	    CV("a", "t", "nsm", "id"), TB("a", "u", NORMAL, NULL),
	    CV("a", "u", "none", "id"), KS("b", 1), RULE("a.x", "t"),
	    RULE("a.y", "b.t")};
	router_builder *ref;
	router_table *t = NULL;
	size_t nproblems;
	long k;

	(void)state;
	assert_int_equal(try_build(bad, NOPS(bad), &ref, &t), ROUTER_ECOVERAGE);
	nproblems = router_builder_problem_count(ref);
	assert_true(nproblems > 4);
	router_builder_free(ref);
	for (k = 1;; k++) {
		tu_alloc c = TU_ALLOC_INIT;
		router_allocator a = TU_ALLOCATOR(&c);
		router_builder *b = new_builder(&a);
		int rc;

		OK(apply_ops(b, bad, NOPS(bad), &E));
		c.countdown = k - 1;
		rc = router_table_build(b, &t, &E);
		assert_null(t);
		if (rc == ROUTER_ENOMEM)
			assert_int_equal(c.failed, 1);
		else if (rc == ROUTER_ECOVERAGE)
			assert_int_equal(router_builder_problem_count(b),
			                 nproblems);
		else
			fail_msg("allocation %ld: %s: %s", k, router_errname(rc),
			         E.message);
		router_builder_free(b);
		if (c.live != 0)
			fail_msg("allocation %ld: %ld blocks leaked", k, c.live);
		if (c.failed == 0)
			break;
	}
	assert_true(k > 10);
}

static void diff_failing_at_any_allocation_is_enomem_and_leaks_nothing(
    void **state)
{
	tu_alloc c = TU_ALLOC_INIT;
	router_allocator al = TU_ALLOCATOR(&c);
	router_builder *b;
	router_table *ta = NULL, *tb = NULL, *tfull = NULL;
	size_t want_ab, want_full;
	long base, k;

	(void)state;
	b = new_builder(&al);
	OK(apply_ops(b, DIFF_A, NOPS(DIFF_A), &E));
	OK(router_table_build(b, &ta, &E));
	router_builder_free(b);
	b = new_builder(&al);
	OK(apply_ops(b, DIFF_B, NOPS(DIFF_B), &E));
	OK(router_table_build(b, &tb, &E));
	router_builder_free(b);
	b = new_builder(&al);
	OK(apply_ops(b, FULL, NFULL, &E));
	OK(router_table_build(b, &tfull, &E));
	router_builder_free(b);
	{
		router_diff *d;

		OK(router_diff_tables(ta, tb, &d, &E));
		want_ab = router_diff_count(d);
		router_diff_free(d);
		OK(router_diff_tables(NULL, tfull, &d, &E));
		want_full = router_diff_count(d);
		router_diff_free(d);
	}
	base = c.live;
	for (int pass = 0; pass < 2; pass++) {
		for (k = 1;; k++) {
			router_diff *d = (router_diff *)&d;
			int rc;

			c.failed = 0;
			c.countdown = k - 1;
			rc = pass == 0 ? router_diff_tables(ta, tb, &d, &E)
			               : router_diff_tables(NULL, tfull, &d, &E);
			if (rc == ROUTER_ENOMEM) {
				assert_null(d);
				assert_int_equal(c.failed, 1);
				assert_int_equal(E.code, ROUTER_ENOMEM);
			} else {
				OK(rc);
				if (c.failed)
					fail_msg("diff allocation %ld failed "
					         "unreported",
					         k);
				assert_int_equal(router_diff_count(d),
				                 pass == 0 ? want_ab : want_full);
				router_diff_free(d);
			}
			if (c.live != base)
				fail_msg("diff allocation %ld: %ld blocks leaked",
				         k, c.live - base);
			if (c.failed == 0)
				break;
		}
		assert_true(k > 3);
	}
	c.countdown = -1;
	router_table_free(ta);
	router_table_free(tb);
	router_table_free(tfull);
	assert_int_equal(c.live, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(adders_refuse_null_empty_and_overlong_names),
	    cmocka_unit_test(adders_refuse_a_null_builder_and_bad_arguments),
	    cmocka_unit_test(adders_refuse_duplicates_naming_the_culprit),
	    cmocka_unit_test(adders_refuse_unknown_keyspaces_and_tables),
	    cmocka_unit_test(add_table_refuses_an_unidentified_table_type),
	    cmocka_unit_test(add_shard_follows_validate_shard_name_vectors),
	    cmocka_unit_test(build_refuses_an_unknown_vindex_type),
	    cmocka_unit_test(build_refuses_vindex_params_that_do_not_parse),
	    cmocka_unit_test(
	        build_refuses_an_unpinned_sequence_in_a_sharded_keyspace),
	    cmocka_unit_test(build_refuses_a_pin_that_is_not_hex),
	    cmocka_unit_test(
	        build_refuses_a_sharded_table_without_primary_vindex),
	    cmocka_unit_test(
	        build_refuses_a_column_vindex_naming_an_undefined_vindex),
	    cmocka_unit_test(build_refuses_a_primary_vindex_that_is_not_unique),
	    cmocka_unit_test(build_refuses_a_primary_lookup_owned_by_its_table),
	    cmocka_unit_test(
	        build_refuses_a_multicolumn_vindex_that_is_not_first),
	    cmocka_unit_test(build_refuses_a_column_listed_twice_in_a_vindex),
	    cmocka_unit_test(build_refuses_shards_with_a_gap_or_an_overlap),
	    cmocka_unit_test(
	        partition_validation_vectors_decide_whether_a_keyspace_builds),
	    cmocka_unit_test(build_refuses_a_sharded_keyspace_without_shards),
	    cmocka_unit_test(
	        build_refuses_a_sharded_keyspace_with_tables_but_no_vindexes),
	    cmocka_unit_test(build_refuses_an_unsharded_keyspace_with_two_shards),
	    cmocka_unit_test(build_refuses_routing_rules_with_bad_targets),
	    cmocka_unit_test(build_reports_every_problem_not_only_the_first),
	    cmocka_unit_test(a_successful_build_clears_the_problem_list),
	    cmocka_unit_test(a_refused_build_allocates_nothing),
	    cmocka_unit_test(shard_for_ksid_vectors_resolve_on_a_built_table),
	    cmocka_unit_test(
	        vindex_vectors_route_through_tables_like_the_shard_vectors),
	    cmocka_unit_test(
	        unsharded_keyspace_routes_every_table_to_its_single_shard),
	    cmocka_unit_test(reference_table_of_a_sharded_keyspace_is_multishard),
	    cmocka_unit_test(pinned_table_routes_to_the_shard_holding_its_pin),
	    cmocka_unit_test(
	        lookup_primary_needs_a_lookup_but_routes_by_keyspace_id),
	    cmocka_unit_test(unicode_loose_primary_routes_case_and_accent_blind),
	    cmocka_unit_test(null_through_hash_routes_nowhere),
	    cmocka_unit_test(wrong_number_of_values_is_einval),
	    cmocka_unit_test(
	        routing_rules_redirect_disable_and_ignore_other_tablet_types),
	    cmocka_unit_test(unknown_keyspace_or_table_is_enotfound_saying_which),
	    cmocka_unit_test(
	        unknown_names_with_nul_or_control_bytes_are_shown_escaped),
	    cmocka_unit_test(too_long_name_is_quoted_without_half_a_character),
	    cmocka_unit_test(
	        routing_rule_to_an_unknown_keyspace_shows_it_escaped),
	    cmocka_unit_test(sample_key_with_a_nul_in_a_name_is_refused),
	    cmocka_unit_test(
	        invariant_syntax_error_quotes_without_half_a_character),
	    cmocka_unit_test(
	        vindex_invariant_pins_the_type_not_params_or_columns),
	    cmocka_unit_test(ksid_guard_quotes_params_without_half_a_character),
	    cmocka_unit_test(version_is_the_builders_and_null_is_harmless),
	    cmocka_unit_test(
	        long_shard_bounds_route_like_the_first_containing_shard),
	    cmocka_unit_test(
	        even_partitions_route_like_the_first_containing_shard),
	    cmocka_unit_test(equal_content_has_equal_hash_in_any_insertion_order),
	    cmocka_unit_test(any_single_change_changes_the_hash),
	    cmocka_unit_test(diff_names_every_kind_of_change_in_order),
	    cmocka_unit_test(
	        diff_and_ksid_guard_name_a_primary_vindex_that_rehashes),
	    cmocka_unit_test(diff_from_nothing_lists_everything_as_added),
	    cmocka_unit_test(diff_outlives_both_tables),
	    cmocka_unit_test(diff_refuses_null_arguments),
	    cmocka_unit_test(
	        build_failing_at_any_allocation_is_enomem_and_leaks_nothing),
	    cmocka_unit_test(
	        build_failing_at_any_allocation_keeps_the_builder_usable),
	    cmocka_unit_test(
	        refused_build_failing_at_any_allocation_leaks_nothing),
	    cmocka_unit_test(
	        diff_failing_at_any_allocation_is_enomem_and_leaks_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
