/*
 * What every binding needs from the core, once: each status code's
 * category, the SQL type names, deep copies of events, and loading a
 * document from a path with the system's reason in errno.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "router_doc.h"

static void every_code_has_a_category(void **state)
{
	(void)state;
	for (int code = -1; code >= ROUTER_ERRNO_MIN; code--) {
		int cat = router_error_category(code);

		assert_true(cat >= ROUTER_CAT_REFUSAL);
		assert_true(cat <= ROUTER_CAT_RESOURCE);
		assert_string_not_equal(router_error_category_name(cat),
		                        "unknown");
	}
	assert_int_equal(router_error_category(ROUTER_OK), ROUTER_CAT_OK);
	assert_int_equal(router_error_category(ROUTER_NONE), ROUTER_CAT_OK);
	assert_int_equal(router_error_category(ROUTER_ERRNO_MIN - 1), -1);
	assert_int_equal(router_error_category(2), -1);
	assert_string_equal(router_error_category_name(-1), "unknown");
	assert_string_equal(router_error_category_name(ROUTER_CAT_OK), "ok");
}

static void categories_follow_what_a_caller_can_do(void **state)
{
	static const struct {
		int code, cat;
	} want[] = {
	    {ROUTER_EEMPTY, ROUTER_CAT_REFUSAL},
	    {ROUTER_EVERSION, ROUTER_CAT_REFUSAL},
	    {ROUTER_ESHRINK, ROUTER_CAT_REFUSAL},
	    {ROUTER_EKSIDCHANGE, ROUTER_CAT_REFUSAL},
	    {ROUTER_EFENCED, ROUTER_CAT_REFUSAL},
	    {ROUTER_EINVARIANT, ROUTER_CAT_REFUSAL},
	    {ROUTER_ESHADOW, ROUTER_CAT_REFUSAL},
	    {ROUTER_EQUARANTINED, ROUTER_CAT_REFUSAL},
	    {ROUTER_ENOTFOUND, ROUTER_CAT_NO_ROUTE},
	    {ROUTER_ENEEDSLOOKUP, ROUTER_CAT_NO_ROUTE},
	    {ROUTER_EUNSUPPORTED, ROUTER_CAT_NO_ROUTE},
	    {ROUTER_EMULTISHARD, ROUTER_CAT_NO_ROUTE},
	    {ROUTER_EDISABLED, ROUTER_CAT_NO_ROUTE},
	    {ROUTER_ERULE, ROUTER_CAT_NO_ROUTE},
	    {ROUTER_EKEYSPACE, ROUTER_CAT_NO_ROUTE},
	    {ROUTER_EINVAL, ROUTER_CAT_BAD_INPUT},
	    {ROUTER_ERANGE, ROUTER_CAT_BAD_INPUT},
	    {ROUTER_ESTATE, ROUTER_CAT_BAD_INPUT},
	    {ROUTER_ECALLBACK, ROUTER_CAT_BAD_INPUT},
	    {ROUTER_ENOHISTORY, ROUTER_CAT_BAD_INPUT},
	    {ROUTER_EDOC, ROUTER_CAT_BAD_DOCUMENT},
	    {ROUTER_EVSCHEMA, ROUTER_CAT_BAD_DOCUMENT},
	    {ROUTER_EREFERENCE, ROUTER_CAT_BAD_DOCUMENT},
	    {ROUTER_ECOVERAGE, ROUTER_CAT_BAD_DOCUMENT},
	    {ROUTER_ESHARDNAME, ROUTER_CAT_BAD_DOCUMENT},
	    {ROUTER_ENOMEM, ROUTER_CAT_RESOURCE},
	    {ROUTER_EIO, ROUTER_CAT_RESOURCE},
	};

	(void)state;
	assert_int_equal(sizeof want / sizeof want[0], -ROUTER_ERRNO_MIN);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_int_equal(router_error_category(want[i].code),
		                 want[i].cat);
}

static void sqltype_parse_knows_every_binding_name(void **state)
{
	static const struct {
		const char *name;
		router_sqltype t;
	} names[] = {
	    {"null", ROUTER_SQL_NULL},        {"int8", ROUTER_SQL_INT64},
	    {"int16", ROUTER_SQL_INT64},      {"int24", ROUTER_SQL_INT64},
	    {"int32", ROUTER_SQL_INT64},      {"int64", ROUTER_SQL_INT64},
	    {"uint8", ROUTER_SQL_UINT64},     {"uint16", ROUTER_SQL_UINT64},
	    {"uint24", ROUTER_SQL_UINT64},    {"uint32", ROUTER_SQL_UINT64},
	    {"uint64", ROUTER_SQL_UINT64},    {"varchar", ROUTER_SQL_VARCHAR},
	    {"char", ROUTER_SQL_VARCHAR},     {"text", ROUTER_SQL_VARCHAR},
	    {"varbinary", ROUTER_SQL_VARBINARY},
	    {"binary", ROUTER_SQL_VARBINARY}, {"blob", ROUTER_SQL_VARBINARY},
	    {"float32", ROUTER_SQL_FLOAT64},  {"float64", ROUTER_SQL_FLOAT64},
	    {"decimal", ROUTER_SQL_FLOAT64},
	};
	router_sqltype t;

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		t = (router_sqltype)-1;
		assert_int_equal(router_sqltype_parse(names[i].name,
		                                      strlen(names[i].name), &t),
		                 ROUTER_OK);
		assert_int_equal(t, names[i].t);
	}
	assert_int_equal(sizeof names / sizeof names[0], 20);
}

static void sqltype_parse_refuses_near_misses(void **state)
{
	static const char *const bad[] = {"INT64", "Int64", "int", "int64 ",
	                                  " int64", "int6", "int644", "",
	                                  "float", "varchar2"};
	router_sqltype t = ROUTER_SQL_VARCHAR;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(router_sqltype_parse(bad[i], strlen(bad[i]),
		                                      &t),
		                 ROUTER_EINVAL);
	/* the whole buffer: a NUL is part of the name */
	assert_int_equal(router_sqltype_parse("int64\0", 6, &t), ROUTER_EINVAL);
	/* a prefix of a longer buffer is its own name */
	assert_int_equal(router_sqltype_parse("int64junk", 5, &t), ROUTER_OK);
	assert_int_equal(t, ROUTER_SQL_INT64);
	t = ROUTER_SQL_VARCHAR;
	assert_int_equal(router_sqltype_parse(NULL, 0, &t), ROUTER_EINVAL);
	assert_int_equal(router_sqltype_parse(NULL, 3, &t), ROUTER_EINVAL);
	assert_int_equal(router_sqltype_parse("int64", 5, NULL), ROUTER_EINVAL);
	assert_int_equal(t, ROUTER_SQL_VARCHAR); /* unchanged */
}

/* --- events ------------------------------------------------------------- */

static router_table *doc_table(unsigned shards, const char *tables)
{
	char doc[1024], sh[256] = "";
	router_table *t = NULL;
	router_error e;

	for (unsigned i = 0; i < shards; i++) {
		char name[16];

		assert_int_equal(router_shard_range_name(i, shards, name,
		                                         sizeof name),
		                 ROUTER_OK);
		snprintf(sh + strlen(sh), sizeof sh - strlen(sh), "%s\"%s\"",
		         i ? "," : "", name);
	}
	snprintf(doc, sizeof doc,
	         "{\"keyspaces\": {\"user\": {\"sharded\": true, "
	         "\"shards\": [%s], "
	         "\"vindexes\": {\"h\": {\"type\": \"hash\"}}, "
	         "\"tables\": {%s}}}}",
	         sh, tables);
	assert_int_equal(router_doc_load(doc, strlen(doc), NULL, &t, NULL, &e),
	                 ROUTER_OK);
	return t;
}

#define USERS "\"users\": {\"column_vindexes\": [{\"column\": \"id\", \"name\": \"h\"}]}"

typedef struct {
	router_event *copy[8];
	int n;
	int copy_rc;
} kept;

static void keep_event(void *arg, const router_event *ev)
{
	kept *k = arg;

	if (k->n < 8)
		k->copy_rc = router_event_copy(ev, &k->copy[k->n++]);
}

static void event_copies_outlive_the_callback(void **state)
{
	router_options o = ROUTER_OPTIONS_INIT;
	router_value vals[16];
	router_sample_key keys[16];
	kept k = {{NULL}, 0, ROUTER_OK};
	router_table *t;
	router_error e;
	router *r;
	const router_event *ev;
	router_shadow_stat tot;

	(void)state;
	o.max_shrink = 1.0;
	o.on_event = keep_event;
	o.on_event_arg = &k;
	assert_int_equal(router_create(&r, &o, &e), ROUTER_OK);
	assert_int_equal(router_publish(r, doc_table(2, USERS), 0, NULL, &e),
	                 ROUTER_OK);
	for (int i = 0; i < 16; i++) {
		vals[i] = ROUTER_VALUE_INT64(i * 7919);
		keys[i] = (router_sample_key){"user", 4, "users", 5, &vals[i], 1};
	}
	assert_int_equal(router_shadow_set_sample(r, keys, 16, NULL, &e),
	                 ROUTER_OK);
	/* dropping the only table (the shrink guard allows it: max_shrink
	 * 1): every sample key becomes unroutable, so the shadow guard
	 * refuses, with an error, a diff and a verdict */
	t = doc_table(4, "");
	assert_int_equal(router_publish(r, t, 0, NULL, &e), ROUTER_ESHADOW);
	router_table_free(t);
	router_free(r); /* the copies need neither router nor table */
	assert_int_equal(k.copy_rc, ROUTER_OK);
	assert_true(k.n >= 2);
	ev = k.copy[1];
	assert_int_equal(ev->kind, ROUTER_EVENT_PUBLISH);
	assert_true(ev->code < 0);
	assert_non_null(ev->error);
	assert_int_equal(ev->error->code, ev->code);
	assert_int_equal(ev->code, ROUTER_ESHADOW);
	assert_string_equal(ev->error->culprit, "user");
	assert_true(ev->error->message[0] != '\0');
	assert_non_null(ev->diff);
	assert_true(router_diff_count(ev->diff) >= 1);
	for (size_t i = 0; i < router_diff_count(ev->diff); i++) {
		const router_diff_entry *d = router_diff_get(ev->diff, i);

		assert_non_null(d->keyspace);
		assert_non_null(d->name);
		assert_non_null(d->detail);
	}
	assert_true(router_diff_tally(ev->diff, ROUTER_DIFF_TABLE,
	                              ROUTER_DIFF_REMOVED) == 1);
	assert_non_null(ev->shadow);
	assert_int_equal(router_shadow_count(ev->shadow), 1);
	assert_string_equal(router_shadow_get(ev->shadow, 0)->keyspace, "user");
	assert_int_equal(router_shadow_get(ev->shadow, 0)->keys, 16);
	router_shadow_totals(ev->shadow, &tot);
	assert_int_equal(tot.keys, 16);
	assert_string_equal(tot.keyspace, "");
	/* the first publish: no error, no shadow (nothing was in service) */
	ev = k.copy[0];
	assert_int_equal(ev->code, ROUTER_OK);
	assert_null(ev->error);
	assert_null(ev->shadow);
	for (int i = 0; i < k.n; i++)
		router_event_free(k.copy[i]);
	router_event_free(NULL);
}

static void event_copy_refuses_null(void **state)
{
	router_event ev = {ROUTER_EVENT_CHECK, 0, 1, 2, 3, NULL, NULL, NULL};
	router_event *out = (router_event *)&ev;

	(void)state;
	assert_int_equal(router_event_copy(NULL, &out), ROUTER_EINVAL);
	assert_null(out);
	assert_int_equal(router_event_copy(&ev, NULL), ROUTER_EINVAL);
	assert_int_equal(router_event_copy(&ev, &out), ROUTER_OK);
	assert_int_equal(out->version_to, 2);
	assert_null(out->diff);
	router_event_free(out);
}

/* --- documents from a path ---------------------------------------------- */

static void doc_load_file_leaves_errno_for_the_os_error(void **state)
{
	char dir[] = "/tmp/router-shared-XXXXXX", path[128];
	router_table *t = NULL;
	router_error e;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/missing.json", dir);
	errno = 0;
	assert_int_equal(router_doc_load_file(path, NULL, &t, NULL, &e),
	                 ROUTER_EIO);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(e.culprit, path);
	assert_null(t);
	errno = 0;
	assert_int_equal(router_doc_load_file(dir, NULL, &t, NULL, &e),
	                 ROUTER_EIO);
	assert_int_equal(errno, EISDIR);
	assert_string_equal(e.culprit, dir);
	snprintf(path, sizeof path, "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	errno = 0;
	assert_int_equal(router_doc_load_file(path, NULL, &t, NULL, &e),
	                 ROUTER_EIO);
	assert_int_equal(errno, EINVAL);
	unlink(path);
	snprintf(path, sizeof path, "%s/ok.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"keyspaces\": {\"main\": {}}}", f);
	fclose(f);
	assert_int_equal(router_doc_load_file(path, NULL, &t, NULL, &e),
	                 ROUTER_OK);
	router_table_free(t);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_code_has_a_category),
	    cmocka_unit_test(categories_follow_what_a_caller_can_do),
	    cmocka_unit_test(sqltype_parse_knows_every_binding_name),
	    cmocka_unit_test(sqltype_parse_refuses_near_misses),
	    cmocka_unit_test(event_copies_outlive_the_callback),
	    cmocka_unit_test(event_copy_refuses_null),
	    cmocka_unit_test(doc_load_file_leaves_errno_for_the_os_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
