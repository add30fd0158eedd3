/*
 * The etcd follower and client against a production-shaped etcd (started
 * by harness.h on 127.0.0.1): TLS with client certificates from a CA made
 * for the test, and etcd's own authentication with simple tokens that
 * expire after 2 s unused.  Every failure must be a clear error, retried
 * like etcd being down (DISCONNECTED events), never a crash, and the
 * password never appears in an error.
 */
#include <inttypes.h>
#include <pthread.h>

#include "harness.h"
#include "router.h"
#include "router_doc.h"
#include "router_etcd.h"
#include "testutil.h"

#define TEST_SECONDS 60
#define KEY "/librouter/test/vschema"

static const char DOC2[] =
    "{\"keyspaces\": {\"user\": {\"sharded\": true, \"vindexes\": "
    "{\"hash\": {\"type\": \"hash\"}}, \"tables\": {\"users\": "
    "{\"column_vindexes\": [{\"column\": \"id\", \"name\": \"hash\"}]}}, "
    "\"shards\": [\"-80\", \"80-\"]}}}";
static const char DOC4[] =
    "{\"keyspaces\": {\"user\": {\"sharded\": true, \"vindexes\": "
    "{\"hash\": {\"type\": \"hash\"}}, \"tables\": {\"users\": "
    "{\"column_vindexes\": [{\"column\": \"id\", \"name\": \"hash\"}]}}, "
    "\"shards\": [\"-40\", \"40-80\", \"80-c0\", \"c0-\"]}}}";

/* ---- the harness's own client -------------------------------------------- */

static router__etcd *client(const etcd_server *e)
{
	router__etcd *c;
	router_error err;

	if (router__etcd_open_with(&c, e->endpoint, 5000, &e->sec, &err) !=
	    ROUTER_OK)
		fail_msg("open %s: %s", e->endpoint, err.message);
	return c;
}

static int64_t put(router__etcd *c, const char *key, const char *val)
{
	int64_t rev = 0;
	router_error err;

	if (router__etcd_put(c, key, strlen(key), val, strlen(val), 0, &rev,
	                     &err) != ROUTER_OK)
		fail_msg("put %s: %s: %s", key, err.culprit, err.message);
	return rev;
}

/* ---- followers ----------------------------------------------------------- */

typedef struct member {
	router *r;
	router_etcd *f;
	pthread_mutex_t mu;
	int disconnected, verdicts;
	router_error last; /* the last DISCONNECTED event's error */
} member;

static void on_event(void *arg, const router_etcd_event *ev)
{
	member *m = arg;

	pthread_mutex_lock(&m->mu);
	if (ev->kind == ROUTER_ETCD_EVENT_DISCONNECTED) {
		m->disconnected++;
		if (ev->error != NULL)
			m->last = *ev->error;
	}
	m->verdicts += ev->kind == ROUTER_ETCD_EVENT_VERDICT;
	pthread_mutex_unlock(&m->mu);
}

/* In a static pool: a failed assertion leaves by longjmp and teardown
 * must still stop every follower. */
#define POOL 8
static member pool[POOL];
static int pool_used[POOL];

/* A follower of KEY on e with the given TLS files and credentials (the
 * fields of sec, any NULL). */
static member *member_start(const etcd_server *e, int i,
                            const router__etcd_security *sec)
{
	router_etcd_options o = ROUTER_ETCD_OPTIONS_INIT;
	router_error err;
	char id[32];
	member *m = NULL;

	for (int k = 0; k < POOL && m == NULL; k++)
		if (!pool_used[k]) {
			pool_used[k] = 1;
			m = &pool[k];
		}
	if (m == NULL) {
		fail_msg("more than %d members", POOL);
		return &pool[0];
	}
	memset(m, 0, sizeof *m);
	pthread_mutex_init(&m->mu, NULL);
	assert_int_equal(router_create(&m->r, NULL, &err), ROUTER_OK);
	snprintf(id, sizeof id, "member-%d", i);
	o.endpoints = e->endpoint;
	o.key = KEY;
	o.instance_id = id;
	o.lease_ttl_s = 5;
	o.backoff_min_ms = 50;
	o.backoff_max_ms = 300;
	o.request_timeout_ms = 2000;
	o.on_event = on_event;
	o.on_event_arg = m;
	o.tls_ca_file = sec->ca_file;
	o.tls_cert_file = sec->cert_file;
	o.tls_key_file = sec->key_file;
	o.username = sec->username;
	o.password = sec->password;
	if (router_etcd_create(&m->f, m->r, &o, &err) != ROUTER_OK)
		fail_msg("create: %s: %s", err.culprit, err.message);
	assert_int_equal(router_etcd_start(m->f, &err), ROUTER_OK);
	return m;
}

static void members_free_all(void)
{
	for (int k = 0; k < POOL; k++)
		if (pool_used[k]) {
			router_etcd_free(pool[k].f);
			router_free(pool[k].r);
			pthread_mutex_destroy(&pool[k].mu);
			pool_used[k] = 0;
		}
}

static router_etcd_status wait_seen(member *m, int64_t rev)
{
	router_etcd_status s;

	if (router_etcd_wait(m->f, rev, 15000, &s) != ROUTER_OK)
		fail_msg("%s did not see revision %" PRId64 " (seen %" PRId64
		         ", state %s, last error %s: %s)",
		         router_etcd_instance_id(m->f), rev, s.revision_seen,
		         router_etcd_state_name(s.state), s.last_error.culprit,
		         s.last_error.message);
	return s;
}

/* Waits (bounded) for n DISCONNECTED events of m; returns the last
 * one's error. */
static router_error wait_disconnected(member *m, int n)
{
	router_error last;

	for (double t0 = eh_now(); eh_now() - t0 < 15; eh_sleep_ms(20)) {
		int got;

		pthread_mutex_lock(&m->mu);
		got = m->disconnected;
		last = m->last;
		pthread_mutex_unlock(&m->mu);
		if (got >= n)
			return last;
	}
	fail_msg("%s: fewer than %d DISCONNECTED events",
	         router_etcd_instance_id(m->f), n);
	return last;
}

static const char *shard_of(member *m, int64_t id)
{
	router_value v = ROUTER_VALUE_INT64(id);
	router_route_result res;

	if (router_route(m->r, "user", 4, "users", 5, &v, 1, &res, NULL) !=
	    ROUTER_OK)
		return "";
	return res.shard;
}

/* The member's status key, parsed (NULL when absent). */
static json_t *status_of(router__etcd *c, member *m)
{
	const char *k = router_etcd_status_key(m->f);
	router__etcd_kv kv;
	int found;
	router_error err;
	json_t *o = NULL;

	if (router__etcd_get(c, k, strlen(k), &kv, &found, NULL, &err) !=
	    ROUTER_OK)
		fail_msg("get %s: %s", k, err.message);
	if (found)
		o = json_loadb(kv.value, kv.value_len, 0, NULL);
	router__etcd_kv_clear(&kv);
	return o;
}

/* Waits (bounded) until m's status key says it applied rev. */
static void wait_status_applied(router__etcd *c, member *m, int64_t rev)
{
	for (double t0 = eh_now(); eh_now() - t0 < 15; eh_sleep_ms(50)) {
		json_t *o = status_of(c, m);
		int64_t got = json_integer_value(
		    json_object_get(o, "revision_applied"));

		json_decref(o);
		if (got >= rev)
			return;
	}
	fail_msg("the status key of %s never showed revision %" PRId64,
	         router_etcd_instance_id(m->f), rev);
}

/* ---- fixtures ------------------------------------------------------------ */

static int start(void **state, const eh_options *opt)
{
	etcd_server *e = calloc(1, sizeof *e);

	alarm(TEST_SECONDS);
	if (e == NULL || eh_start_with(e, opt) != 0) {
		if (e != NULL)
			eh_stop(e);
		free(e);
		fprintf(stderr, "cannot start /usr/bin/etcd (etcd-server) "
		                "with TLS or authentication\n");
		return -1;
	}
	*state = e;
	return 0;
}

static int setup_tls(void **state)
{
	eh_options o = {1, 0};

	return start(state, &o);
}

static int setup_auth(void **state)
{
	eh_options o = {0, 2};

	return start(state, &o);
}

static int setup_tls_auth(void **state)
{
	eh_options o = {1, 2};

	return start(state, &o);
}

static int teardown(void **state)
{
	etcd_server *e = *state;

	members_free_all();
	router__etcd_watch_idle_ms = 60000;
	if (e != NULL) {
		if (getenv("ROUTER_ETCD_KEEP"))
			fprintf(stderr, "etcd dir: %s\n", e->dir);
		eh_stop(e);
		free(e);
	}
	alarm(0);
	return 0;
}

/* ---- tests --------------------------------------------------------------- */

static void create_refuses_incomplete_tls_and_credentials(void **state)
{
	router *r;
	router_etcd *f = NULL;
	router_etcd_options o = ROUTER_ETCD_OPTIONS_INIT;
	router_error err;

	(void)state;
	assert_int_equal(router_create(&r, NULL, &err), ROUTER_OK);
	o.key = KEY;
	o.endpoints = "https://127.0.0.1:1";
	o.tls_cert_file = "client.pem";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "tls_key_file");
	assert_non_null(strstr(err.message, "both tls_cert_file and "
	                                    "tls_key_file"));
	o.tls_cert_file = NULL;
	o.tls_key_file = "client.key";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "tls_cert_file");
	o.tls_key_file = NULL;
	o.username = "root";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "password");
	o.username = NULL;
	o.password = "pw";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "username");
	o.username = "";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "username");
	o.username = o.password = NULL;
	o.tls_ca_file = "";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "tls_ca_file");
	/* A TLS file with a plain-text endpoint is a mistake, not a
	 * fallback. */
	o.tls_ca_file = "ca.pem";
	o.endpoints = "https://127.0.0.1:1,http://127.0.0.1:2";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_EINVAL);
	assert_string_equal(err.culprit, "endpoints");
	assert_non_null(strstr(err.message, "not https://"));
	/* A password over http:// is the operator's choice (etcd allows
	 * it); a CA alone verifies the server. */
	o.tls_ca_file = NULL;
	o.endpoints = "http://127.0.0.1:1";
	o.username = "root";
	o.password = "pw";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_OK);
	router_etcd_free(f);
	o.endpoints = "https://127.0.0.1:1";
	o.username = o.password = NULL;
	o.tls_ca_file = "ca.pem";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_OK);
	router_etcd_free(f);
	/* A caller built against the 0.2 header: the new fields are not
	 * read, whatever lies beyond its struct. */
	o.size = offsetof(router_etcd_options, tls_ca_file);
	o.tls_cert_file = "alone.pem";
	assert_int_equal(router_etcd_create(&f, r, &o, &err), ROUTER_OK);
	router_etcd_free(f);
	router_free(r);
}

static void follows_over_tls_with_a_client_certificate(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m;
	int64_t rev;
	router_etcd_status s;

	assert_int_equal(strncmp(e->endpoint, "https://", 8), 0);
	rev = put(c, KEY, DOC2);
	m = member_start(e, 0, &e->sec);
	s = wait_seen(m, rev);
	assert_int_equal(s.revision_applied, rev);
	assert_string_equal(shard_of(m, 29999), "80-");
	rev = put(c, KEY, DOC4);
	wait_seen(m, rev);
	assert_string_equal(shard_of(m, 29999), "c0-");
	/* The reporter writes over TLS too. */
	wait_status_applied(c, m, rev);
	router__etcd_close(c);
}

static void wrong_certificates_are_clear_errors_and_retried(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	char other_ca[340], other_cert[340], other_key[340];
	router__etcd_security foreign = e->sec, none = e->sec,
	                      wrong_ca = e->sec;
	member *mf, *mn, *mca;
	router_error le;
	router_etcd_status s;

	put(c, KEY, DOC2);
	/* A client certificate from a CA etcd does not trust. */
	foreign.cert_file = eh_cert(e, "other-client", "pem", other_cert,
	                            sizeof other_cert);
	foreign.key_file = eh_cert(e, "other-client", "key", other_key,
	                           sizeof other_key);
	/* No client certificate for an etcd that requires one. */
	none.cert_file = none.key_file = NULL;
	/* etcd's own certificate checked against another CA. */
	wrong_ca.ca_file = eh_cert(e, "other-ca", "pem", other_ca,
	                           sizeof other_ca);
	mf = member_start(e, 0, &foreign);
	mn = member_start(e, 1, &none);
	mca = member_start(e, 2, &wrong_ca);

	le = wait_disconnected(mf, 3);
	assert_int_equal(le.code, ROUTER_EIO);
	assert_non_null(strstr(le.message, "does etcd trust the client "
	                                   "certificate"));
	assert_non_null(strstr(le.message, "other-client.pem"));
	le = wait_disconnected(mn, 3);
	assert_non_null(strstr(le.message, "does etcd require a client "
	                                   "certificate"));
	le = wait_disconnected(mca, 3);
	assert_non_null(strstr(le.message, "etcd's TLS certificate is not "
	                                   "signed by the CA in"));
	assert_non_null(strstr(le.message, "other-ca.pem"));
	/* Retrying, nothing served, the reason in the status. */
	router_etcd_get_status(mf->f, &s);
	assert_true(s.state == ROUTER_ETCD_RETRYING ||
	            s.state == ROUTER_ETCD_CONNECTING);
	assert_int_equal(s.accepted, 0);
	assert_non_null(strstr(s.last_error.message, "client certificate"));
	assert_string_equal(shard_of(mca, 1), "");
	/* No CA file: the system's store, which does not hold the
	 * test's CA. */
	{
		router__etcd_security sys = e->sec;
		member *ms;

		sys.ca_file = NULL;
		ms = member_start(e, 4, &sys);
		le = wait_disconnected(ms, 2);
		assert_non_null(strstr(le.message, "etcd's TLS certificate is "
		                                   "not signed by a CA of the "
		                                   "system store"));
	}
	/* A missing file is named too. */
	{
		router__etcd_security missing = e->sec;
		member *mm;

		missing.cert_file = "/nonexistent/client.pem";
		mm = member_start(e, 3, &missing);
		le = wait_disconnected(mm, 2);
		assert_non_null(strstr(le.message, "cannot use the client "
		                                   "certificate "
		                                   "'/nonexistent/client.pem'"));
	}
	router__etcd_close(c);
}

/* What the first message of a watch said. */
typedef struct first_msg {
	int messages, created, canceled;
} first_msg;

static int first_message(void *arg, const router__etcd_watch_msg *m)
{
	first_msg *fm = arg;

	fm->messages++;
	fm->created = m->created;
	fm->canceled = m->canceled;
	return 1;
}

static void follows_with_a_password_across_token_expiry(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e), *w;
	first_msg fm;
	member *m;
	int64_t rev;
	router_etcd_status s;

	rev = put(c, KEY, DOC2);
	/* The watch is re-established after 3.3 s of silence: by then the
	 * watcher's token (2 s, checked by etcd every second) has expired,
	 * and etcd cancels the new watch for it. */
	router__etcd_watch_idle_ms = 3300;
	m = member_start(e, 0, &e->sec);
	s = wait_seen(m, rev);
	assert_int_equal(s.revision_applied, rev);
	assert_string_equal(shard_of(m, 29999), "80-");
	eh_sleep_ms(3800);
	/* The watch reconnected with a new token; the reporter's token
	 * expired too and it writes the status with a new one. */
	rev = put(c, KEY, DOC4);
	s = wait_seen(m, rev);
	assert_int_equal(s.revision_applied, rev);
	assert_string_equal(shard_of(m, 29999), "c0-");
	wait_status_applied(c, m, rev);
	router_etcd_get_status(m->f, &s);
	assert_int_equal(s.refused, 0);

	/* The client itself: one token per expiry, the request retried
	 * once, no error.  etcd drops a token up to a second after its
	 * TTL (its keeper runs every second): 3.6 s without use is past
	 * it. */
	w = client(e);
	memset(&fm, 0, sizeof fm);
	{
		router__etcd_kv kv;
		int found;
		router_error err;

		assert_int_equal(router__etcd_get(w, KEY, strlen(KEY), &kv,
		                                  &found, NULL, &err),
		                 ROUTER_OK);
		router__etcd_kv_clear(&kv);
		assert_int_equal(router__etcd_authentications(w), 1);
		eh_sleep_ms(3600);
		if (router__etcd_get(w, KEY, strlen(KEY), &kv, &found, NULL,
		                     &err) != ROUTER_OK)
			fail_msg("get after the token expired: %s",
			         err.message);
		assert_true(found);
		router__etcd_kv_clear(&kv);
		assert_int_equal(router__etcd_authentications(w), 2);
		/* A watch created with an expired token: etcd cancels it
		 * for the token; the client obtains a new one and the
		 * caller sees only the watch that was created. */
		eh_sleep_ms(3600);
		if (router__etcd_watch(w, KEY, strlen(KEY), rev, 0,
		                       first_message, &fm, &err) != ROUTER_OK)
			fail_msg("watch after the token expired: %s",
			         err.message);
		assert_int_equal(fm.messages, 1);
		assert_true(fm.created);
		assert_false(fm.canceled);
		assert_int_equal(router__etcd_authentications(w), 3);
	}
	router__etcd_close(w);
	router__etcd_close(c);
}

static void a_wrong_password_is_a_clear_error_and_retried(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	router__etcd_security wrong = e->sec, nobody = e->sec;
	member *m, *mn;
	router_error le;
	router_etcd_status s;
	char want[200];

	put(c, KEY, DOC2);
	wrong.password = "not-the-password";
	m = member_start(e, 0, &wrong);
	le = wait_disconnected(m, 3);
	assert_int_equal(le.code, ROUTER_EIO);
	snprintf(want, sizeof want,
	         "etcd authentication failed for user root at %s: "
	         "etcdserver: authentication failed, invalid user ID or "
	         "password",
	         e->endpoint);
	if (strstr(le.message, want) == NULL)
		fail_msg("not the expected error: %s", le.message);
	assert_null(strstr(le.message, "not-the-password"));
	router_etcd_get_status(m->f, &s);
	assert_int_equal(s.accepted, 0);
	assert_null(strstr(s.last_error.message, "not-the-password"));
	assert_string_equal(shard_of(m, 1), "");
	/* No credentials for an etcd that wants some: etcd's words. */
	nobody.username = nobody.password = NULL;
	mn = member_start(e, 1, &nobody);
	le = wait_disconnected(mn, 2);
	assert_non_null(strstr(le.message, "user name is empty"));
	router__etcd_close(c);
}

static void follows_over_tls_with_a_password_across_a_restart(void **state)
{
	etcd_server *e = *state;
	router__etcd *c = client(e);
	member *m;
	int64_t rev = put(c, KEY, DOC4);
	router__etcd_security cn = e->sec;
	char cn_cert[340], cn_key[340];
	router_error le;

	m = member_start(e, 0, &e->sec);
	wait_seen(m, rev);
	assert_string_equal(shard_of(m, 29999), "c0-");
	wait_status_applied(c, m, rev);
	/* etcd restarts and forgets every simple token: the follower
	 * reconnects over TLS, authenticates again and goes on. */
	router__etcd_close(c);
	assert_int_equal(eh_restart(e), 0);
	c = client(e);
	rev = put(c, KEY, DOC2);
	wait_seen(m, rev);
	assert_string_equal(shard_of(m, 29999), "80-");
	wait_status_applied(c, m, rev);
	/* A client certificate with a Common Name: etcd 3.4's gateway
	 * refuses it once authentication is on; the error says so. */
	cn.cert_file = eh_cert(e, "client-cn", "pem", cn_cert, sizeof cn_cert);
	cn.key_file = eh_cert(e, "client-cn", "key", cn_key, sizeof cn_key);
	m = member_start(e, 1, &cn);
	le = wait_disconnected(m, 2);
	if (strstr(le.message, "refuses a client certificate with a Common "
	                       "Name") == NULL)
		fail_msg("not the expected error: %s", le.message);
	router__etcd_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(create_refuses_incomplete_tls_and_credentials),
	    cmocka_unit_test_setup_teardown(
	        follows_over_tls_with_a_client_certificate, setup_tls,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        wrong_certificates_are_clear_errors_and_retried, setup_tls,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        follows_with_a_password_across_token_expiry, setup_auth,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        a_wrong_password_is_a_clear_error_and_retried, setup_auth,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        follows_over_tls_with_a_password_across_a_restart,
	        setup_tls_auth, teardown),
	};

	if (getenv("ETCD_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("ETCD_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
