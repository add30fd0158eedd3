/*
 * Vitess's own VSchema-building tests as the specification: every case of
 * data/vschema_validation.json (input, verdict, Vitess's messages, the
 * errors vtgate keeps on routing rules, lookups) through router_doc_load.
 * Also: a document with a bad rule dumps and reloads to the same table,
 * and lookups through the error route answer ROUTER_ERULE while the
 * other tables route.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "router.h"
#include "router_doc.h"
#include "testutil.h"

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

typedef struct loaded {
	int rc;
	router_table *t;
	router_doc_report *r;
	router_error e;
} loaded;

/* The case's input through router_doc_load, as its format says. */
static loaded load_case(const json_t *c)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	const char *fmt = jstr(c, "format");
	char *text = json_dumps(json_object_get(c, "input"), JSON_COMPACT);
	loaded l;

	assert_non_null(text);
	if (fmt != NULL && strcmp(fmt, "keyspace") == 0) {
		o.format = ROUTER_DOC_KEYSPACE;
		o.keyspace = jstr(c, "keyspace");
	}
	memset(&l, 0, sizeof l);
	l.rc = router_doc_load(text, strlen(text), &o, &l.t, &l.r, &l.e);
	free(text);
	return l;
}

/* Does an error note say msg (exactly, or containing it) about keyspace
 * ks (its path under the keyspace, or the culprit naming it)? */
static int has_error(const router_doc_report *r, const char *ks,
                     const char *msg, int contains, int single)
{
	const router_doc_note *n;
	char under[ROUTER_NAME_MAX + 16], dotted[ROUTER_NAME_MAX + 4];

	snprintf(under, sizeof under, "keyspaces.%s.", ks);
	snprintf(dotted, sizeof dotted, "%s.", ks);
	for (size_t i = 0; (n = router_doc_report_get(r, i)) != NULL; i++) {
		int where;

		/* A single keyspace's VSchema is refused (ERROR); a
		 * SrvVSchema keeps the keyspace in error (KEYSPACE). */
		if (n->kind != (single ? ROUTER_DOC_NOTE_ERROR
		                       : ROUTER_DOC_NOTE_KEYSPACE))
			continue;
		where = single || strncmp(n->path, under, strlen(under)) == 0 ||
		        strncmp(n->error.culprit, dotted, strlen(dotted)) == 0 ||
		        strcmp(n->error.culprit, ks) == 0;
		if (where && (contains ? strstr(n->error.message, msg) != NULL
		                       : strcmp(n->error.message, msg) == 0))
			return 1;
	}
	return 0;
}

static const router_doc_note *rule_note(const router_doc_report *r,
                                        const char *from)
{
	const router_doc_note *n;

	for (size_t i = 0; (n = router_doc_report_get(r, i)) != NULL; i++)
		if (n->kind == ROUTER_DOC_NOTE_RULE &&
		    strcmp(n->error.culprit, from) == 0)
			return n;
	return NULL;
}

static void print_notes(const router_doc_report *r)
{
	const router_doc_note *n;

	for (size_t i = 0; (n = router_doc_report_get(r, i)) != NULL; i++)
		print_message("  note %d %s: %s\n", (int)n->kind, n->path,
		              n->error.message);
}

static int check_errors(const char *name, const json_t *c, loaded *l)
{
	const json_t *errs = json_object_get(c, "errors"), *x;
	const char *fmt = jstr(c, "format");
	int single = fmt != NULL && strcmp(fmt, "keyspace") == 0, bad = 0;
	size_t i;

	json_array_foreach(errs, i, x) {
		const char *ks = jstr(x, "keyspace");
		const char *exact = jstr(x, "message");
		const char *part = jstr(x, "message_contains");
		router_route_result out;
		router_error e;
		int rc;

		if (!has_error(l->r, ks, exact ? exact : part, exact == NULL,
		               single)) {
			print_message("%s: no error for keyspace %s: %s\n",
			              name, ks, exact ? exact : part);
			bad = 1;
		}
		if (single || l->t == NULL)
			continue;
		/* Every lookup in the keyspace in error gives its error. */
		rc = router_table_route(l->t, ks, strlen(ks), "any_table", 9,
		                        NULL, 0, &out, &e);
		if (rc != ROUTER_EKEYSPACE ||
		    strstr(e.message, exact ? exact : part) == NULL) {
			print_message("%s: a lookup in %s gives %s (%s), not "
			              "ROUTER_EKEYSPACE\n",
			              name, ks, router_errname(rc), e.message);
			bad = 1;
		}
	}
	return bad;
}

static int check_rules(const char *name, const json_t *c, loaded *l)
{
	const json_t *rules = json_object_get(c, "rules"), *x;
	int bad = 0;
	size_t i;

	json_array_foreach(rules, i, x) {
		const char *from = jstr(x, "from"), *want = jstr(x, "error");
		const router_doc_note *n = rule_note(l->r, from);

		if (want != NULL &&
		    (n == NULL || strcmp(n->error.message, want) != 0)) {
			print_message("%s: rule %s: want error \"%s\", got %s\n",
			              name, from, want,
			              n ? n->error.message : "none");
			bad = 1;
		}
		if (want == NULL && n != NULL) {
			print_message("%s: rule %s: want no error, got %s\n",
			              name, from, n->error.message);
			bad = 1;
		}
	}
	return bad;
}

static int check_routes(const char *name, const json_t *c, loaded *l)
{
	const json_t *routes = json_object_get(c, "routes"), *x;
	int bad = 0;
	size_t i;

	json_array_foreach(routes, i, x) {
		const char *ks = jstr(x, "keyspace"), *tb = jstr(x, "table");
		const char *shard = jstr(x, "shard"), *code = jstr(x, "code");
		const char *msg = jstr(x, "message");
		const json_t *vals = json_object_get(x, "values"), *v;
		router_value rv[4];
		router_route_result out;
		router_error e;
		size_t j, nv = 0;
		int rc;

		json_array_foreach(vals, j, v) {
			router_value one =
			    ROUTER_VALUE_INT64(json_integer_value(v));

			if (nv < 4)
				rv[nv++] = one;
		}
		rc = router_table_route(l->t, ks, strlen(ks), tb, strlen(tb),
		                        rv, nv, &out, &e);
		if (shard != NULL &&
		    (rc != ROUTER_OK || out.shard_len != strlen(shard) ||
		     memcmp(out.shard, shard, out.shard_len) != 0)) {
			print_message("%s: route %s.%s: want shard %s, got %s "
			              "(%s)\n",
			              name, ks, tb, shard, router_errname(rc),
			              rc == ROUTER_OK ? out.shard : e.message);
			bad = 1;
		}
		if (code != NULL && strcmp(router_errname(rc), code) != 0) {
			print_message("%s: route %s.%s: want %s, got %s\n",
			              name, ks, tb, code, router_errname(rc));
			bad = 1;
		}
		if (msg != NULL && (rc == ROUTER_OK ||
		                    strcmp(e.message, msg) != 0)) {
			print_message("%s: route %s.%s: want \"%s\", got \"%s\"\n",
			              name, ks, tb, msg,
			              rc == ROUTER_OK ? "" : e.message);
			bad = 1;
		}
	}
	return bad;
}

/* A table built from a document dumps to one that loads to the same
 * content (the error rules included). */
static int check_round_trip(const char *name, const json_t *c, loaded *l)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	const char *fmt = jstr(c, "format");
	router_table *t2 = NULL;
	router_error e;
	char *text = NULL;
	int bad = 0;

	if (fmt != NULL)
		return 0; /* a keyspace dump has no rules to check */
	assert_int_equal(router_doc_dump(l->t, NULL, 0, NULL, &text, NULL, &e),
	                 ROUTER_OK);
	if (router_doc_load(text, strlen(text), &o, &t2, NULL, &e) !=
	        ROUTER_OK ||
	    router_table_hash(t2) != router_table_hash(l->t)) {
		print_message("%s: the dump does not reload to the same table "
		              "(%s)\n",
		              name, t2 ? "another hash" : e.message);
		bad = 1;
	}
	router_table_free(t2);
	free(text);
	return bad;
}

static void every_vitess_build_verdict_is_matched(void **state)
{
	json_t *doc = tu_load_json("vschema_validation.json");
	const json_t *cases = json_object_get(doc, "cases"), *c;
	size_t i, nbad = 0;

	(void)state;
	assert_true(json_array_size(cases) > 40);
	json_array_foreach(cases, i, c) {
		const char *name = jstr(c, "name");
		const char *fmt = jstr(c, "format");
		int ok = strcmp(jstr(c, "verdict"), "ok") == 0, bad = 0;
		loaded l = load_case(c);

		assert_non_null(jstr(c, "source"));
		/* Vitess's verdict "error": BuildKeyspace (a single keyspace,
		 * what ApplyVSchema builds) fails; BuildVSchema (a SrvVSchema,
		 * what vtgate builds) stores the error on the keyspace, which
		 * loads as an error keyspace. */
		if (fmt == NULL)
			ok = 1;
		if (ok != (l.rc == ROUTER_OK)) {
			print_message("%s (%s): want %s, got %s: %s\n", name,
			              jstr(c, "source"), ok ? "ok" : "an error",
			              router_errname(l.rc), l.e.message);
			bad = 1;
		}
		bad |= check_errors(name, c, &l);
		if (l.rc == ROUTER_OK) {
			bad |= check_rules(name, c, &l);
			bad |= check_routes(name, c, &l);
			bad |= check_round_trip(name, c, &l);
		}
		if (bad) {
			print_notes(l.r);
			nbad++;
		}
		router_table_free(l.t);
		router_doc_report_free(l.r);
	}
	i = json_array_size(cases);
	json_decref(doc);
	if (nbad > 0)
		fail_msg("%zu of %zu Vitess cases differ", nbad, i);
}

/* A keyspace in error routes nothing: against the table in service, the
 * publish guards judge it as the loss of a keyspace that routed (refused
 * without the destructive flag), while the other keyspaces keep routing
 * and the error is what a lookup in it answers. */
#define TWO_KS(BAD_TYPE)                                                     \
	"{\"keyspaces\": {\"a\": {\"sharded\": true, \"shards\": [\"-80\", "  \
	"\"80-\"], \"vindexes\": {\"h\": {\"type\": \"hash\"}}, \"tables\": " \
	"{\"t\": {\"column_vindexes\": [{\"column\": \"id\", \"name\": "      \
	"\"h\"}]}}}, \"b\": {\"sharded\": true, \"shards\": [\"-80\", "       \
	"\"80-\"], \"vindexes\": {\"h\": {\"type\": \"" BAD_TYPE "\"}}, "    \
	"\"tables\": {\"t\": {\"column_vindexes\": [{\"column\": \"id\", "   \
	"\"name\": \"h\"}]}}}}}"

static void keyspace_in_error_is_refused_as_a_loss(void **state)
{
	const char *good = TWO_KS("hash"), *bad = TWO_KS("nosuch");
	router_value v = ROUTER_VALUE_INT64(1);
	router_route_result out;
	router_table *t = NULL;
	router_doc_report *rep = NULL;
	router_error e;
	router *r;
	int rc;

	(void)state;
	assert_int_equal(router_create(&r, NULL, &e), ROUTER_OK);
	assert_int_equal(router_doc_load(good, strlen(good), NULL, &t, NULL,
	                                 &e),
	                 ROUTER_OK);
	assert_int_equal(router_publish(r, t, 0, NULL, &e), ROUTER_OK);
	/* b fails Vitess's build: the document loads, b in error. */
	assert_int_equal(router_doc_load(bad, strlen(bad), NULL, &t, &rep, &e),
	                 ROUTER_OK);
	assert_int_equal(router_doc_report_count(rep, ROUTER_DOC_NOTE_KEYSPACE),
	                 1);
	router_doc_report_free(rep);
	assert_int_equal(router_table_route(t, "b", 1, "t", 1, &v, 1, &out, &e),
	                 ROUTER_EKEYSPACE);
	assert_string_equal(e.message, "keyspace b is invalid: vindexType "
	                               "\"nosuch\" not found");
	assert_int_equal(router_table_route(t, "a", 1, "t", 1, &v, 1, &out, &e),
	                 ROUTER_OK);
	/* b routed in the table in service: losing it is refused. */
	rc = router_publish(r, t, 0, NULL, &e);
	assert_true(router_error_category(rc) == ROUTER_CAT_REFUSAL);
	router_table_free(t); /* refused: still the caller's */
	assert_int_equal(router_route(r, "b", 1, "t", 1, &v, 1, &out, &e),
	                 ROUTER_OK);
	/* Allowed as destructive, b answers with its error. */
	assert_int_equal(router_doc_load(bad, strlen(bad), NULL, &t, NULL, &e),
	                 ROUTER_OK);
	assert_int_equal(router_publish(r, t, ROUTER_PUBLISH_DESTRUCTIVE, NULL,
	                                &e),
	                 ROUTER_OK);
	assert_int_equal(router_route(r, "b", 1, "t", 1, &v, 1, &out, &e),
	                 ROUTER_EKEYSPACE);
	assert_non_null(strstr(e.message, "vindexType \"nosuch\" not found"));
	assert_int_equal(router_route(r, "a", 1, "t", 1, &v, 1, &out, &e),
	                 ROUTER_OK);
	router_free(r);
}

/* Every skipped test says why. */
static void every_skipped_vitess_test_says_why(void **state)
{
	json_t *doc = tu_load_json("vschema_validation.json");
	const json_t *x;
	size_t i;

	(void)state;
	json_array_foreach(json_object_get(doc, "skipped"), i, x) {
		assert_non_null(jstr(x, "source"));
		assert_non_null(jstr(x, "why"));
	}
	json_decref(doc);
}

/* The builder API stays strict: a bad target is a problem of the build,
 * as before; only documents keep vtgate's errors on their rules. */
static void builder_rules_stay_strict(void **state)
{
	router_builder *b;
	router_table *t = NULL;
	router_error e;

	(void)state;
	assert_int_equal(router_builder_create(&b, NULL, &e), ROUTER_OK);
	assert_int_equal(router_builder_add_keyspace(b, "u", 0, &e), ROUTER_OK);
	assert_int_equal(router_builder_add_routing_rule(b, "u.x", "nope.t",
	                                                 &e),
	                 ROUTER_OK);
	assert_int_equal(router_table_build(b, &t, &e), ROUTER_EREFERENCE);
	assert_null(t);
	router_builder_free(b);
}

/* A rule's error is a note, never the document's: the warning names the
 * rule, and a later good document clears it (no "error" note, ok). */
static void a_bad_rule_is_a_note_not_a_refusal(void **state)
{
	const char *doc =
	    "{\"keyspaces\": {\"u\": {\"tables\": {\"t\": {}}}},"
	    " \"routing_rules\": {\"rules\": [{\"from_table\": \"u.x\","
	    " \"to_tables\": [\"nope.t\"]}]}}";
	router_table *t = NULL;
	router_doc_report *r = NULL;
	router_route_result out;
	router_error e;
	const router_doc_note *n;

	(void)state;
	assert_int_equal(router_doc_load(doc, strlen(doc), NULL, &t, &r, &e),
	                 ROUTER_OK);
	assert_int_equal(router_doc_report_count(r, ROUTER_DOC_NOTE_ERROR), 0);
	assert_int_equal(router_doc_report_count(r, ROUTER_DOC_NOTE_RULE), 1);
	n = router_doc_report_get(r, 0);
	assert_int_equal(n->kind, ROUTER_DOC_NOTE_RULE);
	assert_string_equal(n->path, "routing_rules.rules[0]");
	assert_string_equal(n->error.culprit, "u.x");
	assert_string_equal(n->error.message,
	                    "VT05003: unknown database 'nope' in vschema");
	assert_int_equal(router_table_route(t, "u", 1, "x", 1, NULL, 0, &out,
	                                    &e),
	                 ROUTER_ERULE);
	assert_string_equal(e.culprit, "u.x");
	assert_int_equal(router_error_category(ROUTER_ERULE),
	                 ROUTER_CAT_NO_ROUTE);
	assert_int_equal(router_table_route(t, "u", 1, "t", 1, NULL, 0, &out,
	                                    &e),
	                 ROUTER_OK);
	router_table_free(t);
	router_doc_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_vitess_build_verdict_is_matched),
	    cmocka_unit_test(every_skipped_vitess_test_says_why),
	    cmocka_unit_test(keyspace_in_error_is_refused_as_a_loss),
	    cmocka_unit_test(builder_rules_stay_strict),
	    cmocka_unit_test(a_bad_rule_is_a_note_not_a_refusal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
