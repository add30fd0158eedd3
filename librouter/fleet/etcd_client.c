/*
 * etcd v3 over the HTTP/JSON gateway (grpc-gateway), with libcurl and
 * jansson.  See etcd.h for the contract.
 *
 * The gateway maps each RPC to POST /v3/<service>/<method> with the
 * protobuf message as JSON: bytes fields (key, value, range_end) are
 * base64, 64-bit integers are decimal strings, fields at their default
 * value (0, false, empty) are left out.  Streaming RPCs (watch, lease
 * keep-alive) answer with one JSON object per line, each wrapped as
 * {"result": MSG} or {"error": {...}}.  Errors of unary calls come back as
 * a non-200 status with {"error": "...", "code": N, "message": "..."}.
 *
 * Every request goes through perform(): the easy handle is added to this
 * connection's multi handle and driven with curl_multi_poll, so another
 * thread can cut the wait short with curl_multi_wakeup (the only libcurl
 * call documented as safe from another thread) after setting `interrupted`.
 *
 * TLS and authentication.  The TLS files go to libcurl at every request
 * (curl_easy_reset clears them).  With a user, a token is obtained with
 * POST /v3/auth/authenticate before the first request on an endpoint and
 * sent as the Authorization header, bare: etcd 3.4's gateway refuses
 * "Bearer TOKEN" as an invalid token.  What etcd 3.4.23 answers when the
 * token is no good: a unary call, HTTP 401 {"code":16, "error":
 * "etcdserver: invalid auth token"}; a watch, HTTP 200 and one message
 * {"created":true, "canceled":true, "cancel_reason": "rpc error: code =
 * Unauthenticated desc = etcdserver: invalid auth token"}.  A simple
 * token expires after --auth-token-ttl seconds without use, and a watch
 * already established keeps streaming after it expired; so re-
 * authenticating is a matter of the next request, retried once.
 */
#include <curl/curl.h>
#include <nettle/base64.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etcd.h"
#include "core/internal.h"

/* Largest response kept in memory: an etcd value is at most 1.5 MiB by
 * default (--max-request-bytes); leave room for base64 and a raised
 * limit, but never let a broken peer fill memory. */
#define RESPONSE_MAX router__etcd_response_max
size_t router__etcd_response_max = (size_t)64 << 20;

struct router__etcd {
	CURL *easy;
	CURLM *multi;
	char **eps;
	size_t neps, cur;
	unsigned timeout_ms;
	/* Set by router__etcd_interrupt (any thread), read by perform():
	 * relaxed is enough, curl_multi_wakeup is the synchronization that
	 * makes the poller look at it. */
	atomic_int interrupted;
	char url[1024];
	char errbuf[CURL_ERROR_SIZE];
	/* Response being received. */
	char *buf;
	size_t len, cap;
	size_t scanned; /* buf[0, scanned) holds no newline (streaming) */
	int overflow;   /* 1: larger than RESPONSE_MAX; 2: out of memory */
	/* Streaming: lines are handed to line_fn as they complete. */
	int (*line_fn)(void *arg, char *line, size_t len);
	void *line_arg;
	int line_stop;
	/* Streaming: complete messages so far, when the last one ended; a
	 * deadline for the first (0: none; router__etcd_watch sets it); 1
	 * once the answer's HTTP status is known not to be 200 (its body is
	 * then kept for the error message, not parsed as messages). */
	uint64_t msgs;
	int64_t last_msg_ns;
	/* Stall detection: bytes received in all, and at the start of the
	 * current window (win_ns). */
	uint64_t rx, win_rx;
	int64_t win_ns;
	unsigned first_ms;
	int http_checked, http_bad;
	/* TLS files and credentials, owned (router__etcd_security_copy). */
	router__etcd_security sec;
	/* The token in use (NUL-terminated, wiped when dropped), valid for
	 * endpoint auth_ep (SIZE_MAX: none yet); auth_off: that endpoint
	 * said its authentication is not enabled (no token then).
	 * authing: authenticate() is running (perform sends no token). */
	char *token;
	size_t auth_ep;
	int auth_off, authing;
	uint64_t auths;
};

/* A buffer above this is given back after the message that needed it (a
 * 64 MiB message must not pin 64 MiB for the life of the connection). */
#define BUF_KEEP ((size_t)256 << 10)
/* A stream whose pending message grows slower than this (bytes/s) for
 * the idle limit is stalled (a trickle), not busy with a large message. */
#define STREAM_MIN_RATE 1024u

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* NUL-terminated base64 of (p, n) (nettle's); NULL on allocation
 * failure. */
static char *b64_encode(const void *p, size_t n)
{
	char *out = malloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);

	if (out == NULL)
		return NULL;
	base64_encode_raw(out, n, p);
	out[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
	return out;
}

/* Decode standard base64 (nettle's decoder; the padding etcd writes may
 * be left out).  *out is malloc'd and NUL-terminated.  0, -1 malformed,
 * -2 out of memory. */
static int b64_decode(const char *s, size_t n, char **out, size_t *outlen)
{
	struct base64_decode_ctx ctx;
	size_t body = n, k1 = 0, k2 = 0;
	char *o;

	while (body > 0 && s[body - 1] == '=')
		body--;
	if (body % 4 == 1 || n - body > 2)
		return -1;
	/* Room for the body and the padding put back below. */
	if ((o = malloc(BASE64_DECODE_LENGTH(body + 3) + 1)) == NULL)
		return -2;
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &k1, (uint8_t *)o, body, s) ||
	    !base64_decode_update(&ctx, &k2, (uint8_t *)o + k1,
	                          (4 - body % 4) % 4, "==") ||
	    !base64_decode_final(&ctx)) {
		free(o);
		return -1;
	}
	o[k1 + k2] = '\0';
	*out = o;
	*outlen = k1 + k2;
	return 0;
}

/* A protobuf-JSON int64: a decimal string, a JSON integer, or absent (0).
 * -1 when present and malformed. */
static int jint64(const json_t *o, const char *name, int64_t *v)
{
	const json_t *x = json_object_get(o, name);
	uint64_t u;

	*v = 0;
	if (x == NULL || json_is_null(x))
		return 0;
	if (json_is_integer(x)) {
		*v = (int64_t)json_integer_value(x);
		return 0;
	}
	if (json_is_string(x)) {
		const char *s = json_string_value(x);
		size_t n = json_string_length(x);
		int neg = n > 0 && s[0] == '-';
		router_value uv;

		/* Go's strconv through the core's public parser (the fleet
		 * library sees no core internals). */
		if (router_value_parse(ROUTER_SQL_UINT64, s + neg,
		                       n - (size_t)neg, &uv, NULL) != ROUTER_OK ||
		    uv.u64 > (uint64_t)INT64_MAX)
			return -1;
		u = uv.u64;
		*v = neg ? -(int64_t)u : (int64_t)u;
		return 0;
	}
	return -1;
}

static int jbool(const json_t *o, const char *name)
{
	return json_is_true(json_object_get(o, name));
}

/* An integer field from etcd that must lie in lo .. hi (absent: 0, which
 * must then be in range too).  0, or -1 with why filled ("FIELD VALUE is
 * outside LO .. HI" or "is not an integer"). */
static int jrange(const json_t *o, const char *name, const char *label,
                  int64_t lo, int64_t hi, int64_t *v, char *why,
                  size_t whylen)
{
	if (jint64(o, name, v) != 0) {
		snprintf(why, whylen, "%s is not an integer", label);
		return -1;
	}
	if (*v < lo || *v > hi) {
		snprintf(why, whylen, "%s %" PRId64 " is outside %" PRId64
		                      " .. %" PRId64,
		         label, *v, lo, hi);
		*v = 0;
		return -1;
	}
	return 0;
}

void router__etcd_kv_clear(router__etcd_kv *kv)
{
	if (kv == NULL)
		return;
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof *kv);
}

void router__etcd_kvs_free(router__etcd_kv *kvs, size_t n)
{
	for (size_t i = 0; kvs != NULL && i < n; i++)
		router__etcd_kv_clear(&kvs[i]);
	free(kvs);
}

/* ------------------------------------------------------------------------ */
/* Connection                                                               */
/* ------------------------------------------------------------------------ */

static int split_endpoints(const char *list, char ***out, size_t *n,
                           router_error *err)
{
	char **eps = NULL;
	size_t k = 0;
	const char *p = list;

	*out = NULL;
	*n = 0;
	if (list == NULL || list[0] == '\0')
		return router__seterr(err, ROUTER_EINVAL, "endpoints",
		                      "no etcd endpoint given");
	for (;;) {
		size_t len = strcspn(p, ",");
		char **grown;

		while (len > 0 && p[len - 1] == '/')
			len--; /* "http://h:2379/" == "http://h:2379" */
		if (len == 0 || len > 512 ||
		    (strncmp(p, "http://", 7) != 0 &&
		     strncmp(p, "https://", 8) != 0)) {
			for (size_t i = 0; i < k; i++)
				free(eps[i]);
			free(eps);
			return router__seterr(
			    err, ROUTER_EINVAL, "endpoints",
			    "etcd endpoint '%.*s' is not an http:// or https:// "
			    "URL (of at most 512 bytes)",
			    (int)(len > 64 ? 64 : len), p);
		}
		grown = realloc(eps, (k + 1) * sizeof *eps);
		if (grown == NULL || (grown[k] = strndup(p, len)) == NULL) {
			eps = grown != NULL ? grown : eps;
			for (size_t i = 0; i < k; i++)
				free(eps[i]);
			free(eps);
			return router__seterr(err, ROUTER_ENOMEM, "endpoints",
			                      "out of memory");
		}
		eps = grown;
		k++;
		p += strcspn(p, ",");
		if (*p == '\0')
			break;
		p++;
	}
	*out = eps;
	*n = k;
	return ROUTER_OK;
}

int router__etcd_check_endpoints(const char *endpoints, router_error *err)
{
	char **eps;
	size_t n;
	int rc = split_endpoints(endpoints, &eps, &n, err);

	for (size_t i = 0; i < n; i++)
		free(eps[i]);
	free(eps);
	return rc;
}

/* Forgets the token (wiped: it is a credential for its TTL) and whether
 * the endpoint has authentication enabled. */
static void drop_token(router__etcd *c)
{
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
		c->token = NULL;
	}
	c->auth_ep = SIZE_MAX;
	c->auth_off = 0;
}

/* A TLS option that is set must not be an empty string. */
static int check_nonempty(const char *v, const char *name, router_error *err)
{
	if (v != NULL && v[0] == '\0')
		return router__seterr(err, ROUTER_EINVAL, name,
		                      "%s is an empty string (NULL: none)", name);
	return ROUTER_OK;
}

int router__etcd_check_security(const char *endpoints,
                                const router__etcd_security *sec,
                                router_error *err)
{
	int rc;

	if (sec == NULL)
		return ROUTER_OK;
	if ((rc = check_nonempty(sec->ca_file, "tls_ca_file", err)) != 0 ||
	    (rc = check_nonempty(sec->cert_file, "tls_cert_file", err)) != 0 ||
	    (rc = check_nonempty(sec->key_file, "tls_key_file", err)) != 0 ||
	    (rc = check_nonempty(sec->username, "username", err)) != 0)
		return rc;
	if ((sec->cert_file == NULL) != (sec->key_file == NULL))
		return router__seterr(
		    err, ROUTER_EINVAL,
		    sec->cert_file ? "tls_key_file" : "tls_cert_file",
		    "a client certificate needs both tls_cert_file and "
		    "tls_key_file (%s given alone)",
		    sec->cert_file ? "tls_cert_file" : "tls_key_file");
	if ((sec->username == NULL) != (sec->password == NULL))
		return router__seterr(err, ROUTER_EINVAL,
		                      sec->username ? "password" : "username",
		                      "etcd authentication needs both username "
		                      "and password (%s given alone)",
		                      sec->username ? "username" : "password");
	if (sec->ca_file != NULL || sec->cert_file != NULL) {
		/* A TLS file with an http:// endpoint: the operator meant
		 * TLS and would silently get plain text. */
		for (const char *p = endpoints; p != NULL && *p != '\0';) {
			size_t len = strcspn(p, ",");

			if (strncmp(p, "https://", 8) != 0)
				return router__seterr(
				    err, ROUTER_EINVAL, "endpoints",
				    "TLS files are given but etcd endpoint "
				    "'%.*s' is not https://: it would not be "
				    "encrypted",
				    (int)(len > 64 ? 64 : len), p);
			p += len;
			if (*p == ',')
				p++;
		}
	}
	return ROUTER_OK;
}

/* The strings of a router__etcd_security made by _copy are malloc'd
 * (const in the struct only because the caller's are). */
static char *owned(const char *p)
{
	return (char *)(uintptr_t)p;
}

void router__etcd_security_clear(router__etcd_security *s)
{
	if (s == NULL)
		return;
	free(owned(s->ca_file));
	free(owned(s->cert_file));
	free(owned(s->key_file));
	free(owned(s->username));
	if (s->password != NULL) {
		explicit_bzero(owned(s->password), strlen(s->password));
		free(owned(s->password));
	}
	memset(s, 0, sizeof *s);
}

/* strdup of v into *dst (NULL stays NULL); 0 or -1 out of memory. */
static int dup_opt(const char **dst, const char *v)
{
	*dst = NULL;
	if (v == NULL)
		return 0;
	return (*dst = strdup(v)) != NULL ? 0 : -1;
}

int router__etcd_security_copy(router__etcd_security *dst,
                               const char *endpoints,
                               const router__etcd_security *src,
                               router_error *err)
{
	int rc;

	memset(dst, 0, sizeof *dst);
	if (src == NULL)
		return ROUTER_OK;
	if ((rc = router__etcd_check_security(endpoints, src, err)) != 0)
		return rc;
	if (dup_opt(&dst->ca_file, src->ca_file) != 0 ||
	    dup_opt(&dst->cert_file, src->cert_file) != 0 ||
	    dup_opt(&dst->key_file, src->key_file) != 0 ||
	    dup_opt(&dst->username, src->username) != 0 ||
	    dup_opt(&dst->password, src->password) != 0) {
		router__etcd_security_clear(dst);
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	}
	return ROUTER_OK;
}

int router__etcd_open(router__etcd **out, const char *endpoints,
                      unsigned timeout_ms, router_error *err)
{
	return router__etcd_open_with(out, endpoints, timeout_ms, NULL, err);
}

int router__etcd_open_with(router__etcd **out, const char *endpoints,
                           unsigned timeout_ms,
                           const router__etcd_security *sec,
                           router_error *err)
{
	router__etcd *c;
	int rc;

	if (out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL, "NULL argument");
	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return router__seterr(err, ROUTER_EIO, "libcurl",
		                      "curl_global_init failed: %s",
		                      curl_easy_strerror(curl_init_rc));
	if ((c = calloc(1, sizeof *c)) == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	if ((rc = split_endpoints(endpoints, &c->eps, &c->neps, err)) != 0) {
		free(c);
		return rc;
	}
	c->auth_ep = SIZE_MAX;
	if ((rc = router__etcd_security_copy(&c->sec, endpoints, sec, err)) !=
	    0) {
		router__etcd_close(c);
		return rc;
	}
	c->timeout_ms = timeout_ms ? timeout_ms : 5000;
	atomic_init(&c->interrupted, 0);
	c->easy = curl_easy_init();
	c->multi = curl_multi_init();
	if (c->easy == NULL || c->multi == NULL) {
		router__etcd_close(c);
		return router__seterr(err, ROUTER_EIO, "libcurl",
		                      "cannot create a libcurl handle");
	}
	*out = c;
	return ROUTER_OK;
}

void router__etcd_close(router__etcd *c)
{
	if (c == NULL)
		return;
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	for (size_t i = 0; i < c->neps; i++)
		free(c->eps[i]);
	free(c->eps);
	free(c->buf);
	drop_token(c);
	router__etcd_security_clear(&c->sec);
	free(c);
}

uint64_t router__etcd_authentications(const router__etcd *c)
{
	return c->auths;
}

void router__etcd_interrupt(router__etcd *c)
{
	atomic_store_explicit(&c->interrupted, 1, memory_order_relaxed);
	curl_multi_wakeup(c->multi);
}

void router__etcd_resume(router__etcd *c)
{
	atomic_store_explicit(&c->interrupted, 0, memory_order_relaxed);
}

const char *router__etcd_endpoint(const router__etcd *c)
{
	return c->eps[c->cur];
}

size_t router__etcd_buffer_capacity(const router__etcd *c)
{
	return c->cap;
}

void router__etcd_set_timeout(router__etcd *c, unsigned timeout_ms)
{
	c->timeout_ms = timeout_ms ? timeout_ms : 5000;
}

/* Give back a buffer grown beyond BUF_KEEP once what it holds is small
 * again (on failure the larger buffer simply stays). */
static void buf_shrink(router__etcd *c)
{
	size_t cap = 4096;
	char *b;

	if (c->cap <= BUF_KEEP || c->len >= BUF_KEEP / 2)
		return;
	if (c->len == 0) {
		free(c->buf);
		c->buf = NULL;
		c->cap = 0;
		return;
	}
	while (cap < c->len + 1)
		cap *= 2;
	if ((b = realloc(c->buf, cap)) != NULL) {
		c->buf = b;
		c->cap = cap;
	}
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	router__etcd *c = arg;
	size_t n = size * nmemb;

	c->rx += n;
	if (c->line_fn != NULL && !c->http_checked) {
		long code = 0;

		/* The status line has been parsed by now.  An error answer
		 * (HTTP 500 from a proxy, say) is a body to quote, not a
		 * stream of messages. */
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code);
		c->http_checked = 1;
		c->http_bad = code != 200;
	}
	if (c->http_bad) {
		/* Keep the first 4 KiB for the message, then hang up (an
		 * error body that never ends must not hold the caller). */
		if (c->len + 1 >= 4096)
			return 0;
		if (n > 4095 - c->len)
			n = 4095 - c->len;
	}
	if (c->len + n + 1 > RESPONSE_MAX) {
		c->overflow = 1;
		return 0;
	}
	if (c->len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		char *b;

		while (cap < c->len + n + 1)
			cap *= 2;
		if ((b = realloc(c->buf, cap)) == NULL) {
			c->overflow = 2;
			return 0;
		}
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	c->buf[c->len] = '\0';
	if (c->http_bad)
		return size * nmemb;
	if (c->line_fn != NULL) {
		char *nl;
		size_t start = 0, from = c->scanned;

		/* Search only the bytes that just arrived: a long line comes
		 * in many pieces, and rescanning its start for every piece
		 * would make receiving it quadratic. */
		while ((nl = memchr(c->buf + from, '\n', c->len - from)) !=
		       NULL) {
			size_t ll = (size_t)(nl - (c->buf + start));

			*nl = '\0';
			if (ll > 0) {
				c->msgs++;
				c->last_msg_ns = c->win_ns = now_ns();
				c->win_rx = c->rx;
			}
			if (ll > 0 &&
			    c->line_fn(c->line_arg, c->buf + start, ll) != 0) {
				c->line_stop = 1;
				return 0;
			}
			start += ll + 1;
			from = start;
		}
		memmove(c->buf, c->buf + start, c->len - start);
		c->len -= start;
		c->buf[c->len] = '\0';
		c->scanned = c->len;
		if (c->len < BUF_KEEP / 2)
			buf_shrink(c);
	}
	return n;
}

/* Starts an exchange with path on the current endpoint at t0: the URL,
 * an empty buffer and fresh counters for on_data. */
static void exchange_reset(router__etcd *c, const char *path, int64_t t0)
{
	snprintf(c->url, sizeof c->url, "%s%s", c->eps[c->cur], path);
	c->len = 0;
	c->scanned = 0;
	c->overflow = 0;
	c->line_stop = 0;
	c->msgs = 0;
	c->last_msg_ns = c->win_ns = t0;
	c->rx = c->win_rx = 0;
	c->http_checked = c->http_bad = 0;
	if (c->buf != NULL)
		c->buf[0] = '\0';
	c->errbuf[0] = '\0';
}

/* Sets c->easy up for a POST of body to c->url with headers hdr; stream:
 * no overall timeout. */
static void exchange_setopts(router__etcd *c, const char *body,
                             struct curl_slist *hdr, int stream)
{
	curl_easy_reset(c->easy);
	curl_easy_setopt(c->easy, CURLOPT_URL, c->url);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)(c->timeout_ms < 3000 ? c->timeout_ms : 3000));
	/* Detect a peer that vanished without closing (host down). */
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPIDLE, 10L);
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPINTVL, 5L);
	/* Without a CA file libcurl verifies against the system store;
	 * verification is never turned off. */
	if (c->sec.ca_file != NULL)
		curl_easy_setopt(c->easy, CURLOPT_CAINFO, c->sec.ca_file);
	/* HTTP/1.1 over TLS as in plain text (libcurl would negotiate
	 * HTTP/2): one request per connection at a time either way, and
	 * the streams behave as the plain-text ones the tests know. */
	curl_easy_setopt(c->easy, CURLOPT_HTTP_VERSION,
	                 (long)CURL_HTTP_VERSION_1_1);
	if (c->sec.cert_file != NULL) {
		curl_easy_setopt(c->easy, CURLOPT_SSLCERT, c->sec.cert_file);
		curl_easy_setopt(c->easy, CURLOPT_SSLKEY, c->sec.key_file);
	}
	if (!stream)
		curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS,
		                 (long)c->timeout_ms);
}

/* The liveness rules of a stream started at t0, checked between polls:
 * no complete message within first_ms (an error answer excepted, which
 * the caller quotes), a silent stream past idle_ms (*idle = 1: the
 * caller resumes), a pending message growing slower than
 * STREAM_MIN_RATE.  Returns 1 when the stream must end here, with *rc
 * ROUTER_OK or the error set (the client then moves to the next
 * endpoint); 0 to keep polling. */
static int stream_must_end(router__etcd *c, unsigned idle_ms, int64_t t0,
                           int *idle, int *rc, router_error *err)
{
	int64_t now = now_ns(), quiet = now - c->last_msg_ns;

	/* Progress is a complete message, not a byte: a peer trickling a
	 * byte every few seconds must not pass for a live stream. */
	if (c->first_ms && c->msgs == 0 &&
	    now - t0 > (int64_t)c->first_ms * 1000000) {
		if (c->http_bad)
			return 1; /* the caller quotes it */
		*rc = router__seterr(err, ROUTER_EIO, c->url,
		                     "etcd did not answer the request within "
		                     "%u ms (%zu bytes, no complete message): "
		                     "black-holed or overloaded",
		                     c->first_ms, c->len);
		c->cur = (c->cur + 1) % c->neps;
		return 1;
	}
	int64_t win = now - c->win_ns;

	if (idle_ms && quiet > (int64_t)idle_ms * 1000000 && c->len == 0) {
		*idle = 1; /* silent: the caller resumes */
		return 1;
	}
	/* A message pending: over each idle-long window it must grow by
	 * STREAM_MIN_RATE bytes a second. */
	if (idle_ms && c->len > 0 && win > (int64_t)idle_ms * 1000000) {
		if ((double)(c->rx - c->win_rx) * 1e9 / (double)win <
		    STREAM_MIN_RATE) {
			*rc = router__seterr(
			    err, ROUTER_EIO, c->url,
			    "stream stalled: %zu bytes of a message pending, "
			    "%" PRIu64 " more in the last %" PRId64
			    " ms, no complete message for %" PRId64
			    " ms (less than %u bytes/s)",
			    c->len, c->rx - c->win_rx, win / 1000000,
			    quiet / 1000000, STREAM_MIN_RATE);
			c->cur = (c->cur + 1) % c->neps;
			return 1;
		}
		c->win_ns = now;
		c->win_rx = c->rx;
	}
	return 0;
}

/* Drives the exchange set up in c->easy (added to c->multi) until it
 * ends, is interrupted or (stream) must end by stream_must_end.
 * *running: 1 when left before the transfer ended.  Returns ROUTER_OK or
 * the error set (ROUTER_EIO libcurl, ROUTER_ESTATE interrupted). */
static int exchange_run(router__etcd *c, int stream, unsigned idle_ms,
                        int64_t t0, int *running, int *idle,
                        router_error *err)
{
	int rc = ROUTER_OK;

	*running = 1;
	while (*running) {
		CURLMcode mc = curl_multi_perform(c->multi, running);

		if (mc != CURLM_OK)
			return router__seterr(err, ROUTER_EIO, c->url,
			                      "libcurl: %s",
			                      curl_multi_strerror(mc));
		if (!*running)
			break;
		if (atomic_load_explicit(&c->interrupted,
		                         memory_order_relaxed))
			return router__seterr(err, ROUTER_ESTATE, c->url,
			                      "interrupted");
		if (stream && stream_must_end(c, idle_ms, t0, idle, &rc, err))
			return rc;
		curl_multi_poll(c->multi, NULL, 0, 200, NULL);
	}
	return ROUTER_OK;
}

/* What a failed transfer (libcurl's res) over TLS most likely means,
 * for the start of the message ("" when nothing to add): libcurl's own
 * words for a client certificate etcd refused are a reset connection. */
static void tls_hint(const router__etcd *c, CURLcode res, char *buf,
                     size_t cap)
{
	const char *ca = c->sec.ca_file, *cert = c->sec.cert_file;

	buf[0] = '\0';
	if (strncmp(c->eps[c->cur], "https://", 8) != 0)
		return;
	switch (res) {
	case CURLE_PEER_FAILED_VERIFICATION:
		snprintf(buf, cap,
		         "etcd's TLS certificate is not signed by %s%.100s%s: ",
		         ca ? "the CA in '" : "a CA of the system store",
		         ca ? ca : "", ca ? "'" : "");
		break;
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(buf, cap, "cannot read the CA file '%.100s': ",
		         ca ? ca : "");
		break;
	case CURLE_SSL_CERTPROBLEM:
		snprintf(buf, cap,
		         "cannot use the client certificate '%.80s' and key "
		         "'%.80s': ",
		         cert ? cert : "", c->sec.key_file ? c->sec.key_file : "");
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		if (cert != NULL)
			snprintf(buf, cap,
			         "TLS connection refused (does etcd trust the "
			         "client certificate '%.100s'?): ",
			         cert);
		else
			snprintf(buf, cap,
			         "TLS connection refused (does etcd require a "
			         "client certificate?): ");
		break;
	default:
		break;
	}
}

/* What an exchange that ran without error (libcurl's result res;
 * running, idle: as exchange_run left them) comes to, as perform
 * returns it. */
static int exchange_outcome(router__etcd *c, CURLcode res, int running,
                            int idle, int stream, int *ended_by,
                            router_error *err)
{
	int rc;

	if (c->http_bad) /* a stream refused: *http and the body say why */
		return ROUTER_OK;
	if (running) { /* left early: idle stream */
		if (ended_by)
			*ended_by = idle;
		return ROUTER_OK;
	}
	if (res == CURLE_WRITE_ERROR && c->line_stop) {
		if (ended_by)
			*ended_by = 1;
		return ROUTER_OK;
	}
	if (c->overflow == 2)
		return router__seterr(err, ROUTER_ENOMEM, c->url,
		                      "out of memory receiving the response");
	if (c->overflow)
		return router__seterr(err, ROUTER_ERANGE, c->url,
		                      "%s larger than %zu bytes",
		                      stream ? "a watch message is"
		                             : "the response is",
		                      (size_t)RESPONSE_MAX);
	if (res != CURLE_OK) {
		char hint[200];

		tls_hint(c, res, hint, sizeof hint);
		rc = router__seterr(err, ROUTER_EIO, c->url, "%s%s%s%s",
		                    hint, curl_easy_strerror(res),
		                    c->errbuf[0] ? ": " : "", c->errbuf);
		c->cur = (c->cur + 1) % c->neps;
		return rc;
	}
	return ROUTER_OK;
}

/* Perform a POST of body to path on the current endpoint.  stream: no
 * overall timeout, lines to line_fn, idle_ms as the idle limit.  Returns
 * ROUTER_OK with *http set (the body in c->buf), ROUTER_ESTATE when
 * interrupted, ROUTER_EIO on transport failure (and moves to the next
 * endpoint).  *ended_by: 1 when line_fn or idle ended a stream. */
static int perform(router__etcd *c, const char *path, const char *body,
                   int stream, unsigned idle_ms, long *http, int *ended_by,
                   router_error *err)
{
	struct curl_slist *hdr = NULL;
	CURLcode res = CURLE_OK;
	int running = 1, idle = 0, rc;
	CURLMsg *msg;
	int left;
	int64_t t0 = now_ns();

	*http = 0;
	if (ended_by)
		*ended_by = 0;
	if (atomic_load_explicit(&c->interrupted, memory_order_relaxed))
		return router__seterr(err, ROUTER_ESTATE, path, "interrupted");
	exchange_reset(c, path, t0);
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (hdr != NULL && c->token != NULL && !c->authing) {
		char *h = NULL;
		struct curl_slist *more = NULL;

		/* Bare: etcd 3.4's gateway takes no "Bearer " (see above). */
		if (asprintf(&h, "Authorization: %s", c->token) < 0)
			h = NULL;
		if (h != NULL)
			more = curl_slist_append(hdr, h);
		free(h);
		if (more == NULL) {
			curl_slist_free_all(hdr);
			hdr = NULL;
		}
	}
	if (hdr == NULL)
		return router__seterr(err, ROUTER_ENOMEM, path, "out of memory");
	exchange_setopts(c, body, hdr, stream);
	curl_multi_add_handle(c->multi, c->easy);
	rc = exchange_run(c, stream, idle_ms, t0, &running, &idle, err);
	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->easy)
			res = msg->data.result;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, http);
	curl_multi_remove_handle(c->multi, c->easy);
	curl_slist_free_all(hdr);
	if (rc != ROUTER_OK)
		return rc;
	return exchange_outcome(c, res, running, idle, stream, ended_by, err);
}

/* The message of an etcd/gateway error object, or NULL. */
static const char *error_message(const json_t *o)
{
	const json_t *e = json_object_get(o, "error");
	const char *m;

	if (e == NULL)
		return NULL;
	if (json_is_string(e))
		return json_string_value(e);
	if ((m = json_string_value(json_object_get(e, "message"))) != NULL)
		return m;
	return "error without a message";
}

/* etcd 3.4's gateway answers HTTP 400 in plain text to a request
 * with a client certificate that has a Common Name while authentication
 * is enabled (it cannot authenticate by CN, and refuses rather than
 * ignore it).  Returns the explanation when body is that answer. */
static const char *gateway_cn_refusal(const char *body)
{
	if (body == NULL ||
	    strstr(body, "CommonName of client sending a request against "
	                 "gateway") == NULL)
		return NULL;
	return "etcd's JSON gateway refuses a client certificate with a "
	       "Common Name (CN) while etcd's authentication is enabled: use "
	       "a client certificate without CN, with username and password";
}

/* 1 when c has a user and msg (an answer's body or a watch's cancel
 * reason; NULL: none) says a token must be obtained again. */
static int reauth_needed(const router__etcd *c, const char *msg)
{
	return c->sec.username != NULL && msg != NULL &&
	       (strstr(msg, "etcdserver: invalid auth token") != NULL ||
	        strstr(msg, "etcdserver: revision of auth store is old") !=
	            NULL ||
	        strstr(msg, "etcdserver: user name is empty") != NULL);
}

/* The body of an authenticate request (malloc'd; wipe it before free):
 * {"name":"U","password":"P"} with both JSON-escaped by hand, so that no
 * copy of the password is left in memory that is freed unwiped. */
static char *auth_body(const char *user, const char *pass)
{
	size_t n = 32 + 6 * (strlen(user) + strlen(pass)), k = 0;
	char *b = malloc(n);
	const char *parts[2] = {user, pass};

	if (b == NULL)
		return NULL;
	for (int i = 0; i < 2; i++) {
		k += (size_t)snprintf(b + k, n - k, "%s",
		                      i == 0 ? "{\"name\":\"" : "\",\"password\":\"");
		for (const unsigned char *p = (const unsigned char *)parts[i];
		     *p != '\0'; p++) {
			if (*p == '"' || *p == '\\') {
				b[k++] = '\\';
				b[k++] = (char)*p;
			} else if (*p < 0x20) {
				k += (size_t)snprintf(b + k, n - k, "\\u%04x", *p);
			} else {
				b[k++] = (char)*p;
			}
		}
	}
	memcpy(b + k, "\"}", 3);
	return b;
}

/* Obtains a token for the current endpoint (POST /v3/auth/authenticate,
 * sent without one).  ROUTER_OK (c->token set, or c->auth_off when that
 * etcd has authentication disabled); ROUTER_EIO: transport (perform's
 * message) or refused ("etcd authentication failed for user U at EP:
 * ETCD'S WORDS"); ROUTER_ENOMEM; ROUTER_ESTATE when interrupted. */
static int authenticate(router__etcd *c, router_error *err)
{
	char *body = auth_body(c->sec.username, c->sec.password);
	const char *ep = c->eps[c->cur], *em, *tok;
	json_t *o;
	json_error_t je;
	long http;
	int rc;

	drop_token(c);
	if (body == NULL)
		return router__seterr(err, ROUTER_ENOMEM, "authenticate",
		                      "out of memory");
	c->authing = 1;
	rc = perform(c, "/v3/auth/authenticate", body, 0, 0, &http, NULL, err);
	c->authing = 0;
	explicit_bzero(body, strlen(body));
	free(body);
	if (rc != ROUTER_OK)
		return rc;
	o = json_loadb(c->buf ? c->buf : "", c->len, 0, &je);
	em = error_message(o);
	tok = json_string_value(json_object_get(o, "token"));
	if (http == 200 && em == NULL && tok != NULL) {
		size_t n = strlen(tok);

		/* It goes into a header: printable ASCII only. */
		for (size_t i = 0; i < n; i++)
			if (tok[i] <= 0x20 || tok[i] >= 0x7f)
				n = 0;
		if (n == 0 || n > 4096) {
			rc = router__seterr(err, ROUTER_EIO, c->url,
			                    "etcd authentication for user %.64s "
			                    "at %.100s gave a malformed token",
			                    c->sec.username, ep);
		} else if ((c->token = strdup(tok)) == NULL) {
			rc = router__seterr(err, ROUTER_ENOMEM, c->url,
			                    "out of memory");
		} else {
			c->auth_ep = c->cur;
			c->auths++;
		}
	} else if (em != NULL &&
	           strstr(em, "authentication is not enabled") != NULL) {
		/* As etcdctl: a user for an etcd without authentication
		 * is no error; requests go without a token. */
		c->auth_ep = c->cur;
		c->auth_off = 1;
	} else {
		const char *cn = gateway_cn_refusal(c->buf);
		char quote[80];

		/* Not JSON: quote it (the request's body held the
		 * password, the answer's does not). */
		snprintf(quote, sizeof quote, "no token in the answer: %.60s%s",
		         c->buf ? c->buf : "", c->len > 60 ? "..." : "");
		rc = router__seterr(err, ROUTER_EIO, c->url,
		                    "etcd authentication failed for user %.64s "
		                    "at %.100s: %s (HTTP %ld)",
		                    c->sec.username, ep,
		                    em ? em : cn ? cn : quote, http);
	}
	json_decref(o);
	if (c->buf != NULL)
		explicit_bzero(c->buf, c->len); /* the token */
	c->len = 0;
	buf_shrink(c);
	return rc;
}

/* Authenticates when c has a user and no token for the current
 * endpoint (none yet, or it moved to another one).  As authenticate. */
static int ensure_token(router__etcd *c, router_error *err)
{
	if (c->sec.username == NULL || c->auth_ep == c->cur)
		return ROUTER_OK;
	return authenticate(c, err);
}

/* POST body (stolen) to path; on ROUTER_OK *resp is the parsed JSON object
 * of a 200 answer. */
static int call(router__etcd *c, const char *path, json_t *body,
                json_t **resp, router_error *err)
{
	char *text;
	long http;
	int rc;
	json_t *o;
	json_error_t je;
	const char *em;

	*resp = NULL;
	if (body == NULL)
		return router__seterr(err, ROUTER_ENOMEM, path, "out of memory");
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL)
		return router__seterr(err, ROUTER_ENOMEM, path, "out of memory");
	for (int attempt = 0;; attempt++) {
		if ((rc = ensure_token(c, err)) != ROUTER_OK) {
			free(text);
			return rc;
		}
		rc = perform(c, path, text, 0, 0, &http, NULL, err);
		if (rc != ROUTER_OK || attempt > 0 || http == 200 ||
		    !reauth_needed(c, c->buf))
			break;
		/* The token expired (or etcd forgot it, or auth was
		 * enabled since): a new one, and the request once more. */
		drop_token(c);
	}
	free(text);
	if (rc != ROUTER_OK)
		return rc;
	o = json_loadb(c->buf ? c->buf : "", c->len, 0, &je);
	if (o == NULL || !json_is_object(o)) {
		const char *cn = gateway_cn_refusal(c->buf);

		json_decref(o);
		if (cn != NULL)
			rc = router__seterr(err, ROUTER_EIO, c->url,
			                    "%s (HTTP %ld)", cn, http);
		else
			rc = router__seterr(err, ROUTER_EIO, c->url,
			                    "HTTP %ld with a body that is not a "
			                    "JSON object (%.60s%s)",
			                    http, c->buf ? c->buf : "",
			                    c->len > 60 ? "..." : "");
		c->len = 0;
		buf_shrink(c);
		return rc;
	}
	c->len = 0;
	buf_shrink(c);
	if (http != 200 || (em = error_message(o)) != NULL) {
		em = error_message(o);
		rc = router__seterr(err, ROUTER_EIO, c->url, "etcd: HTTP %ld: %s",
		                    http, em ? em : "no error message");
		json_decref(o);
		return rc;
	}
	*resp = o;
	return ROUTER_OK;
}

static int malformed(router__etcd *c, const char *what, router_error *err)
{
	return router__seterr(err, ROUTER_EIO, c->url,
	                      "malformed etcd response: %s", what);
}

static json_t *jb64(const void *p, size_t n)
{
	char *s = b64_encode(p, n);
	json_t *v;

	if (s == NULL)
		return NULL;
	v = json_string(s);
	free(s);
	return v;
}

/* Fill kv from a mvccpb.KeyValue JSON object.  0; -2 out of memory; -1
 * malformed, why says what: then kv->mod_revision is still the event's
 * (validated) revision when that much could be read, else 0, so that a
 * watcher can skip exactly the revision it cannot decode.  Every integer
 * is checked: mod_revision in 1 .. ROUTER__ETCD_REV_MAX, create_revision
 * in 0 .. mod_revision (0 in a delete event), version and lease >= 0. */
static int parse_kv(const json_t *o, router__etcd_kv *kv, char *why,
                    size_t whylen)
{
	const char *k, *v;
	int64_t mod;
	int rc;

	memset(kv, 0, sizeof *kv);
	if (!json_is_object(o)) {
		snprintf(why, whylen, "a key-value is not an object");
		return -1;
	}
	if (jrange(o, "mod_revision", "mod_revision", 1, ROUTER__ETCD_REV_MAX,
	           &mod, why, whylen) != 0)
		return -1;
	kv->mod_revision = mod;
	if (jrange(o, "create_revision", "create_revision", 0, mod,
	           &kv->create_revision, why, whylen) != 0 ||
	    jrange(o, "version", "version", 0, INT64_MAX, &kv->version, why,
	           whylen) != 0 ||
	    jrange(o, "lease", "lease", 0, INT64_MAX, &kv->lease, why,
	           whylen) != 0) {
		kv->create_revision = kv->version = kv->lease = 0;
		return -1;
	}
	k = json_string_value(json_object_get(o, "key"));
	v = json_string_value(json_object_get(o, "value"));
	if ((k == NULL && json_object_get(o, "key") != NULL) ||
	    (v == NULL && json_object_get(o, "value") != NULL)) {
		snprintf(why, whylen, "%s is not a string", k ? "value" : "key");
		return -1;
	}
	if ((rc = b64_decode(k ? k : "", k ? strlen(k) : 0, &kv->key,
	                     &kv->key_len)) != 0) {
		snprintf(why, whylen, "the key is not base64");
		return rc;
	}
	if ((rc = b64_decode(v ? v : "", v ? strlen(v) : 0, &kv->value,
	                     &kv->value_len)) != 0) {
		free(kv->key);
		kv->key = NULL;
		kv->key_len = 0;
		snprintf(why, whylen, "the value is not base64");
		return rc;
	}
	return 0;
}

/* The answer's header.revision, in lo .. ROUTER__ETCD_REV_MAX. */
static int hdr_rev(router__etcd *c, const json_t *o, int64_t lo,
                      int64_t *rev, router_error *err)
{
	char why[128];
	int64_t tmp;

	if (jrange(json_object_get(o, "header"), "revision",
	           "header.revision", lo, ROUTER__ETCD_REV_MAX,
	           rev ? rev : &tmp, why, sizeof why) != 0)
		return malformed(c, why, err);
	return ROUTER_OK;
}

/* ------------------------------------------------------------------------ */
/* KV                                                                       */
/* ------------------------------------------------------------------------ */

/* Range [key, range_end) (range_end NULL: the key alone); keys_only:
 * without the values. */
/* A range read (at_rev > 0: as of that revision, which etcd refuses once
 * compacted). */
static int range_reply(router__etcd *c, json_t *resp, router__etcd_kv **kvs,
                       size_t *n, int64_t *header_rev, router_error *err);

static int range(router__etcd *c, const void *key, size_t key_len,
                 const void *end, size_t end_len, int keys_only,
                 int64_t at_rev, router__etcd_kv **kvs, size_t *n,
                 int64_t *header_rev, router_error *err)
{
	json_t *req = json_pack("{s:o}", "key", jb64(key, key_len)), *resp;
	int rc;

	*kvs = NULL;
	*n = 0;
	if (req != NULL && end != NULL &&
	    json_object_set_new(req, "range_end", jb64(end, end_len)) != 0) {
		json_decref(req);
		req = NULL;
	}
	if (req != NULL && keys_only &&
	    json_object_set_new(req, "keys_only", json_true()) != 0) {
		json_decref(req);
		req = NULL;
	}
	if (req != NULL && at_rev > 0 &&
	    json_object_set_new(req, "revision", json_integer(at_rev)) != 0) {
		json_decref(req);
		req = NULL;
	}
	if ((rc = call(c, "/v3/kv/range", req, &resp, err)) != ROUTER_OK)
		return rc;
	return range_reply(c, resp, kvs, n, header_rev, err);
}

/* The kvs of range answer resp (consumed) into *kvs, *n: header.revision
 * in range, every kv well formed and not modified after the header's
 * revision; ROUTER_OK, ROUTER_EIO (malformed, naming c's endpoint),
 * ROUTER_ENOMEM. */
static int range_reply(router__etcd *c, json_t *resp, router__etcd_kv **kvs,
                       size_t *n, int64_t *header_rev, router_error *err)
{
	json_t *a;
	int rc;
	size_t i, cnt;
	int64_t hrev;
	char why[160];
	router__etcd_kv *out = NULL;

	*kvs = NULL;
	*n = 0;
	if ((rc = hdr_rev(c, resp, 1, &hrev, err)) != ROUTER_OK) {
		json_decref(resp);
		return rc;
	}
	a = json_object_get(resp, "kvs");
	if (a != NULL && !json_is_array(a)) {
		json_decref(resp);
		return malformed(c, "kvs is not an array", err);
	}
	cnt = json_array_size(a);
	if (cnt > 0 && (out = calloc(cnt, sizeof *out)) == NULL) {
		json_decref(resp);
		return router__seterr(err, ROUTER_ENOMEM, c->url,
		                      "out of memory");
	}
	for (i = 0; i < cnt; i++) {
		int r = parse_kv(json_array_get(a, i), &out[i], why,
		                 sizeof why);

		/* A range reads at its header's revision: a key modified
		 * after it is an inconsistent answer. */
		if (r == 0 && out[i].mod_revision > hrev) {
			snprintf(why, sizeof why,
			         "mod_revision %" PRId64
			         " is after header.revision %" PRId64,
			         out[i].mod_revision, hrev);
			r = -1;
			i++; /* out[i] is filled: free it too */
		}
		if (r != 0) {
			char msg[200];

			router__etcd_kvs_free(out, i);
			json_decref(resp);
			snprintf(msg, sizeof msg, "kvs: %s", why);
			return r == -2 ? router__seterr(err, ROUTER_ENOMEM,
			                                c->url, "out of memory")
			               : malformed(c, msg, err);
		}
	}
	json_decref(resp);
	*kvs = out;
	*n = cnt;
	if (header_rev != NULL)
		*header_rev = hrev;
	return ROUTER_OK;
}

/* A range of one key must answer that key or nothing; else the answer is
 * malformed (kvs freed).  Shared by router__etcd_get and _get_revision. */
static int one_key(router__etcd *c, const void *key, size_t key_len,
                   router__etcd_kv *kvs, size_t n, router_error *err)
{
	if (n > 1 || (n == 1 && (kvs[0].key_len != key_len ||
	                         memcmp(kvs[0].key, key, key_len) != 0))) {
		router__etcd_kvs_free(kvs, n);
		return malformed(c, "range of one key gave another key", err);
	}
	return ROUTER_OK;
}

int router__etcd_get(router__etcd *c, const void *key, size_t key_len,
                     router__etcd_kv *kv, int *found, int64_t *header_rev,
                     router_error *err)
{
	router__etcd_kv *kvs;
	size_t n;
	int rc;

	memset(kv, 0, sizeof *kv);
	*found = 0;
	rc = range(c, key, key_len, NULL, 0, 0, 0, &kvs, &n, header_rev, err);
	if (rc != ROUTER_OK)
		return rc;
	if ((rc = one_key(c, key, key_len, kvs, n, err)) != ROUTER_OK)
		return rc;
	if (n == 1) {
		*kv = kvs[0];
		*found = 1;
		free(kvs);
	}
	return ROUTER_OK;
}

int router__etcd_get_at(router__etcd *c, const void *key, size_t key_len,
                        int64_t rev, router__etcd_kv *kv, int *found,
                        router_error *err)
{
	router__etcd_kv *kvs;
	size_t n;
	int rc;

	memset(kv, 0, sizeof *kv);
	*found = 0;
	if (rev <= 0)
		return router__seterr(err, ROUTER_EINVAL, c->url,
		                      "revision %" PRId64 " is not positive", rev);
	rc = range(c, key, key_len, NULL, 0, 0, rev, &kvs, &n, NULL, err);
	if (rc != ROUTER_OK)
		return rc;
	if ((rc = one_key(c, key, key_len, kvs, n, err)) != ROUTER_OK)
		return rc;
	if (n == 1) {
		*kv = kvs[0];
		*found = 1;
		free(kvs);
	}
	return ROUTER_OK;
}

int router__etcd_get_revision(router__etcd *c, const void *key,
                              size_t key_len, int *found, int64_t *mod_rev,
                              int64_t *header_rev, router_error *err)
{
	router__etcd_kv *kvs;
	size_t n;
	int rc;

	*found = 0;
	*mod_rev = 0;
	rc = range(c, key, key_len, NULL, 0, 1, 0, &kvs, &n, header_rev, err);
	if (rc != ROUTER_OK)
		return rc;
	if ((rc = one_key(c, key, key_len, kvs, n, err)) != ROUTER_OK)
		return rc;
	if (n == 1) {
		*found = 1;
		*mod_rev = kvs[0].mod_revision;
	}
	router__etcd_kvs_free(kvs, n);
	return ROUTER_OK;
}

int router__etcd_get_prefix(router__etcd *c, const char *prefix,
                            router__etcd_kv **kvs, size_t *n,
                            int64_t *header_rev, router_error *err)
{
	size_t len = strlen(prefix);
	unsigned char end[1024];

	if (len == 0 || len > sizeof end)
		return router__seterr(err, ROUTER_EINVAL, prefix,
		                      "prefix must have 1 to %zu bytes",
		                      sizeof end);
	/* etcd's prefix end: the prefix with its last byte below 0xff
	 * incremented and the rest dropped. */
	memcpy(end, prefix, len);
	while (len > 0 && end[len - 1] == 0xff)
		len--;
	if (len == 0)
		return range(c, prefix, strlen(prefix), "\0", 1, 0, 0, kvs, n,
		             header_rev, err);
	end[len - 1]++;
	return range(c, prefix, strlen(prefix), end, len, 0, 0, kvs, n,
	             header_rev, err);
}

int router__etcd_put(router__etcd *c, const void *key, size_t key_len,
                     const void *val, size_t val_len, int64_t lease,
                     int64_t *rev, router_error *err)
{
	json_t *req = json_pack("{s:o, s:o}", "key", jb64(key, key_len),
	                        "value", jb64(val, val_len)),
	       *resp;
	char buf[24];
	int rc;

	if (req != NULL && lease != 0) {
		snprintf(buf, sizeof buf, "%" PRId64, lease);
		/* Without its lease the key would outlive the process: no
		 * put at all rather than that. */
		if (json_object_set_new(req, "lease", json_string(buf)) != 0) {
			json_decref(req);
			req = NULL; /* call() reports out of memory */
		}
	}
	if ((rc = call(c, "/v3/kv/put", req, &resp, err)) != ROUTER_OK)
		return rc;
	rc = hdr_rev(c, resp, 1, rev, err);
	json_decref(resp);
	return rc;
}

int router__etcd_put_if(router__etcd *c, const void *key, size_t key_len,
                        const void *val, size_t val_len, int64_t expect_mod,
                        int *ok, int64_t *rev, router_error *err)
{
	char buf[24];
	json_t *cmp, *req, *resp;
	int rc;

	*ok = 0;
	snprintf(buf, sizeof buf, "%" PRId64, expect_mod);
	/* An absent key has create_revision 0; a present one, the
	 * mod_revision it was last written at. */
	if (expect_mod == 0)
		cmp = json_pack("{s:o, s:s, s:s, s:s}", "key",
		                jb64(key, key_len), "target", "CREATE",
		                "result", "EQUAL", "create_revision", "0");
	else
		cmp = json_pack("{s:o, s:s, s:s, s:s}", "key",
		                jb64(key, key_len), "target", "MOD", "result",
		                "EQUAL", "mod_revision", buf);
	req = json_pack("{s:[o], s:[{s:{s:o, s:o}}]}", "compare", cmp,
	                "success", "request_put", "key", jb64(key, key_len),
	                "value", jb64(val, val_len));
	if ((rc = call(c, "/v3/kv/txn", req, &resp, err)) != ROUTER_OK)
		return rc;
	*ok = jbool(resp, "succeeded");
	rc = hdr_rev(c, resp, 1, rev, err);
	json_decref(resp);
	return rc;
}

int router__etcd_delete(router__etcd *c, const void *key, size_t key_len,
                        int64_t *rev, router_error *err)
{
	json_t *resp;
	int rc = call(c, "/v3/kv/deleterange",
	              json_pack("{s:o}", "key", jb64(key, key_len)), &resp, err);

	if (rc != ROUTER_OK)
		return rc;
	rc = hdr_rev(c, resp, 1, rev, err);
	json_decref(resp);
	return rc;
}

int router__etcd_compact(router__etcd *c, int64_t rev, router_error *err)
{
	char buf[24];
	json_t *resp;
	int rc;

	snprintf(buf, sizeof buf, "%" PRId64, rev);
	rc = call(c, "/v3/kv/compaction",
	          json_pack("{s:s, s:b}", "revision", buf, "physical", 1), &resp,
	          err);
	json_decref(resp);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Leases                                                                   */
/* ------------------------------------------------------------------------ */

int router__etcd_lease_grant(router__etcd *c, int64_t ttl_s, int64_t *id,
                             router_error *err)
{
	json_t *resp;
	int rc = call(c, "/v3/lease/grant",
	              json_pack("{s:I}", "TTL", (json_int_t)ttl_s), &resp, err);

	if (rc != ROUTER_OK)
		return rc;
	{
		char why[128];
		int64_t ttl;

		/* etcd hands out positive IDs only; the TTL granted is
		 * positive (it may exceed the one asked for). */
		if (jrange(resp, "ID", "lease grant ID", 1, INT64_MAX, id, why,
		           sizeof why) != 0 ||
		    jrange(resp, "TTL", "lease grant TTL", 1, INT64_MAX, &ttl,
		           why, sizeof why) != 0)
			rc = malformed(c, why, err);
	}
	json_decref(resp);
	return rc;
}

/* The keep-alive RPC is a stream: send one request, read the first
 * answer line, hang up. */
static int first_line(void *arg, char *line, size_t len)
{
	(void)arg;
	(void)line;
	(void)len;
	return 1;
}

/* One keep-alive exchange; *reauth set (and nothing else done) when
 * etcd says the token must be obtained again. */
static int keepalive_once(router__etcd *c, int64_t id, int64_t *ttl,
                          int *reauth, router_error *err)
{
	char body[64], *line;
	long http;
	int rc, ended = 0;
	json_t *o, *r;
	json_error_t je;
	const char *em;
	router_error line_err;

	*ttl = 0;
	snprintf(body, sizeof body, "{\"ID\":\"%" PRId64 "\"}", id);
	if ((rc = ensure_token(c, err)) != ROUTER_OK)
		return rc;
	/* The line handler keeps the first line in c->buf: copy it out
	 * before anything reuses the buffer. */
	c->line_fn = first_line;
	c->line_arg = NULL;
	rc = perform(c, "/v3/lease/keepalive", body, 1, c->timeout_ms, &http,
	             &ended, &line_err);
	c->line_fn = NULL;
	if (rc != ROUTER_OK) {
		if (err != NULL)
			*err = line_err;
		return rc;
	}
	(void)ended;
	if (!*reauth && reauth_needed(c, c->buf)) {
		*reauth = 1;
		return ROUTER_OK;
	}
	if (!c->line_stop || c->buf == NULL || http != 200)
		return router__seterr(err, ROUTER_EIO, c->url,
		                      "no keep-alive answer (HTTP %ld%s%.120s)",
		                      http, c->buf && c->buf[0] ? ": " : "",
		                      c->buf ? c->buf : "");
	line = c->buf; /* NUL-terminated at the first newline */
	o = json_loads(line, 0, &je);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		return malformed(c, "keep-alive answer is not a JSON object",
		                 err);
	}
	if ((em = error_message(o)) != NULL) {
		rc = router__seterr(err, ROUTER_EIO, c->url, "etcd: %s", em);
		json_decref(o);
		return rc;
	}
	r = json_object_get(o, "result");
	if (!json_is_object(r)) {
		rc = malformed(c, "keep-alive answer without a result", err);
	} else {
		char why[128];

		/* 0: expired; negative is no answer at all. */
		if (jrange(r, "TTL", "keep-alive TTL", 0, INT64_MAX, ttl, why,
		           sizeof why) != 0)
			rc = malformed(c, why, err);
	}
	json_decref(o);
	c->len = 0;
	buf_shrink(c);
	return rc;
}

int router__etcd_lease_keepalive(router__etcd *c, int64_t id, int64_t *ttl,
                                 router_error *err)
{
	int reauth = 0,
	    rc = keepalive_once(c, id, ttl, &reauth, err);

	if (rc == ROUTER_OK && reauth) {
		drop_token(c);
		rc = keepalive_once(c, id, ttl, &reauth, err);
	}
	return rc;
}

int router__etcd_lease_revoke(router__etcd *c, int64_t id, router_error *err)
{
	char buf[24];
	json_t *resp;
	int rc;

	snprintf(buf, sizeof buf, "%" PRId64, id);
	rc = call(c, "/v3/lease/revoke", json_pack("{s:s}", "ID", buf), &resp,
	          err);
	json_decref(resp);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Watch                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct watch_ctx {
	router__etcd *c;
	router__etcd_watch_fn fn;
	void *arg;
	int rc; /* set when a line is malformed or an error */
	router_error err;
	/* Messages handed to fn; reauth: 1 when the watch was refused
	 * for its token before any (fn not called: the caller
	 * authenticates and watches again); may_reauth: that may still
	 * happen (a first attempt). */
	uint64_t delivered;
	int reauth, may_reauth;
} watch_ctx;

/* A watch message etcd should never send: the stream cannot be trusted
 * from here on (ROUTER_EDOC; see etcd.h). */
static int watch_malformed(watch_ctx *w, const char *what)
{
	w->rc = router__seterr(&w->err, ROUTER_EDOC, w->c->url,
	                       "malformed etcd watch message: %s", what);
	return 1;
}

/* Reads the parts of watch message o (a JSON object) around its events
 * into m: an error object ends the watch (ROUTER_EIO), a missing result
 * or a revision out of range is malformed.  *evs: the result's events
 * array, or NULL.  Returns 0, or 1 (the watch stops) with w->rc set. */
static int watch_result(watch_ctx *w, json_t *o, router__etcd_watch_msg *m,
                        json_t **evs)
{
	const char *em;
	json_t *r;
	char why[160];

	if ((em = error_message(o)) != NULL) {
		w->rc = router__seterr(&w->err, ROUTER_EIO, w->c->url,
		                       "etcd ended the watch: %s", em);
		return 1;
	}
	r = json_object_get(o, "result");
	*evs = json_object_get(r, "events");
	if (!json_is_object(r) || (*evs != NULL && !json_is_array(*evs)))
		return watch_malformed(w, "no valid result");
	/* Absent (0) is allowed in a watch message; present, in range. */
	if (jrange(json_object_get(r, "header"), "revision", "header.revision",
	           0, ROUTER__ETCD_REV_MAX, &m->header_revision, why,
	           sizeof why) != 0 ||
	    jrange(r, "compact_revision", "compact_revision", 0,
	           ROUTER__ETCD_REV_MAX, &m->compact_revision, why,
	           sizeof why) != 0)
		return watch_malformed(w, why);
	m->created = jbool(r, "created");
	m->canceled = jbool(r, "canceled");
	m->cancel_reason =
	    json_string_value(json_object_get(r, "cancel_reason"));
	if (m->cancel_reason == NULL)
		m->cancel_reason = "";
	return 0;
}

/* Allocates m's per-event arrays for n (> 0) events.  Returns 0, or 1
 * (the watch stops) with w->rc set and nothing allocated. */
static int watch_events_alloc(watch_ctx *w, router__etcd_watch_msg *m,
                              size_t n)
{
	m->events = calloc(n, sizeof *m->events);
	m->event_is_delete = calloc(n, sizeof *m->event_is_delete);
	m->event_error = calloc(n, sizeof *m->event_error);
	if (m->events != NULL && m->event_is_delete != NULL &&
	    m->event_error != NULL)
		return 0;
	free(m->events);
	free(m->event_is_delete);
	free(m->event_error);
	w->rc = router__seterr(&w->err, ROUTER_ENOMEM, w->c->url,
	                       "out of memory");
	return 1;
}

/* Reads event ev into slot m->nevents of m.  An event whose kv or type
 * is bad but whose revision is known is kept for the caller to skip
 * (its event_error set, its kv cleared but for mod_revision); one whose
 * revision cannot be read makes the message malformed.  Returns 0, or 1
 * (the watch stops) with w->rc set. */
static int watch_event(watch_ctx *w, router__etcd_watch_msg *m,
                       const json_t *ev)
{
	const json_t *jt = json_object_get(ev, "type");
	const char *type = json_string_value(jt);
	router__etcd_kv *kv = &m->events[m->nevents];
	char why[160], msg[200];
	int prc = parse_kv(json_object_get(ev, "kv"), kv, why, sizeof why);

	if (prc == 0 && ((jt != NULL && type == NULL) ||
	                 (type != NULL && strcmp(type, "PUT") != 0 &&
	                  strcmp(type, "DELETE") != 0))) {
		snprintf(why, sizeof why, "event type is not PUT or DELETE");
		prc = -1;
	}
	if (prc == -2) {
		w->rc = router__seterr(&w->err, ROUTER_ENOMEM, w->c->url,
		                       "out of memory");
		return 1;
	}
	if (prc != 0 && kv->mod_revision == 0) {
		/* Not even its revision can be read: nothing to skip, the
		 * message is garbage. */
		snprintf(msg, sizeof msg, "event %zu: %s", m->nevents, why);
		return watch_malformed(w, msg);
	}
	if (prc != 0) {
		/* Its revision is known: the caller can skip it. */
		char *e = strdup(why);

		router__etcd_kv_clear(kv);
		kv->mod_revision = 0;
		if (e == NULL) {
			w->rc = router__seterr(&w->err, ROUTER_ENOMEM,
			                       w->c->url, "out of memory");
			return 1;
		}
		m->event_error[m->nevents] = e;
		/* parse_kv validated it before failing. */
		jint64(json_object_get(ev, "kv"), "mod_revision",
		       &kv->mod_revision);
		return 0;
	}
	/* PUT is the default value of the type enum: left out. */
	m->event_is_delete[m->nevents] =
	    type != NULL && strcmp(type, "DELETE") == 0;
	return 0;
}

/* Frees what watch_events_alloc and watch_event put in m. */
static void watch_msg_free(router__etcd_watch_msg *m)
{
	for (size_t i = 0; m->event_error != NULL && i < m->nevents; i++)
		free(m->event_error[i]);
	free(m->event_error);
	router__etcd_kvs_free(m->events, m->nevents);
	free(m->event_is_delete);
}

/* on_data's line_fn for a watch: parses one message (line[0..len)) and
 * hands it to w->fn.  Returns nonzero to end the stream: w->fn asked
 * to, or the message ended the watch, was malformed or could not be
 * read (w->rc set). */
static int watch_line(void *arg, char *line, size_t len)
{
	watch_ctx *w = arg;
	json_error_t je;
	json_t *o = json_loadb(line, len, 0, &je), *evs = NULL;
	router__etcd_watch_msg m;
	int stop = 0;
	size_t n;
	char msg[200];

	memset(&m, 0, sizeof m);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		snprintf(msg, sizeof msg, "not a JSON object (%.40s%s)", line,
		         len > 40 ? "..." : "");
		return watch_malformed(w, msg);
	}
	n = 0;
	if (watch_result(w, o, &m, &evs) ||
	    ((n = json_array_size(evs)) > 0 && watch_events_alloc(w, &m, n))) {
		json_decref(o);
		return 1;
	}
	for (m.nevents = 0; m.nevents < n; m.nevents++) {
		if (watch_event(w, &m, json_array_get(evs, m.nevents))) {
			stop = 1;
			break;
		}
	}
	if (!stop && w->may_reauth && w->delivered == 0 && m.canceled &&
	    m.compact_revision == 0 && reauth_needed(w->c, m.cancel_reason)) {
		w->reauth = 1;
		stop = 1;
	} else if (!stop) {
		w->delivered++;
		stop = w->fn(w->arg, &m) != 0;
	}
	watch_msg_free(&m);
	json_decref(o);
	return stop;
}

/* ---- the parsers alone (tests/fuzz/fuzz_etcd.c) ------------------------- */

/* A client that is never connected: what the parsers read of one (the
 * url naming the peer in messages). */
static void parse_only(router__etcd *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->url, sizeof c->url, "(parsed)");
}

int router__etcd_parse_range(const char *json, size_t len,
                             router__etcd_kv **kvs, size_t *n,
                             int64_t *header_rev, router_error *err)
{
	router__etcd *c = malloc(sizeof *c);
	json_error_t je;
	json_t *o;
	int rc;

	*kvs = NULL;
	*n = 0;
	if (c == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	parse_only(c);
	o = json_loadb(json, len, 0, &je);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		rc = malformed(c, "not a JSON object", err);
	} else {
		rc = range_reply(c, o, kvs, n, header_rev, err);
	}
	free(c);
	return rc;
}

int router__etcd_parse_watch(const char *line, size_t len,
                             router__etcd_watch_fn fn, void *arg,
                             router_error *err)
{
	router__etcd *c = malloc(sizeof *c);
	char *copy = malloc(len + 1);
	watch_ctx w;
	int rc;

	if (c == NULL || copy == NULL) {
		free(c);
		free(copy);
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	}
	parse_only(c);
	/* As on_data hands it: NUL-terminated in place of its newline. */
	memcpy(copy, line, len);
	copy[len] = '\0';
	memset(&w, 0, sizeof w);
	w.c = c;
	w.fn = fn;
	w.arg = arg;
	(void)watch_line(&w, copy, len);
	rc = w.rc;
	if (rc != ROUTER_OK && err != NULL)
		*err = w.err;
	else if (err != NULL)
		router__clearerr(err);
	free(copy);
	free(c);
	return rc;
}

/* The watch of [key, end) (end NULL: the key alone). */
static int watch_range(router__etcd *c, const void *key, size_t key_len,
                       const void *end, size_t end_len, int64_t start_rev,
                       unsigned idle_ms, router__etcd_watch_fn fn, void *arg,
                       router_error *err)
{
	watch_ctx w;
	char *text, buf[24];
	json_t *req;
	long http;
	int rc, ended = 0;

	memset(&w, 0, sizeof w);
	w.c = c;
	w.fn = fn;
	w.arg = arg;
	if (start_rev < 1 || start_rev > ROUTER__ETCD_REV_MAX)
		return router__seterr(err, ROUTER_EINVAL, "watch",
		                      "start revision %" PRId64
		                      " is outside 1 .. %" PRId64,
		                      start_rev, (int64_t)ROUTER__ETCD_REV_MAX);
	snprintf(buf, sizeof buf, "%" PRId64, start_rev);
	/* progress_notify: etcd then sends an empty message to a watch
	 * with no events every so often (--experimental-watch-progress-
	 * notify-interval, 10 min by default), which counts as a message
	 * for the idle limit. */
	req = json_pack("{s:{s:o, s:s, s:b}}", "create_request", "key",
	                jb64(key, key_len), "start_revision", buf,
	                "progress_notify", 1);
	if (req != NULL && end != NULL &&
	    json_object_set_new(json_object_get(req, "create_request"),
	                        "range_end", jb64(end, end_len)) != 0) {
		json_decref(req);
		req = NULL;
	}
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (text == NULL)
		return router__seterr(err, ROUTER_ENOMEM, "watch",
		                      "out of memory");
	for (int attempt = 0;; attempt++) {
		if ((rc = ensure_token(c, err)) != ROUTER_OK) {
			free(text);
			return rc;
		}
		w.may_reauth = attempt == 0 && c->sec.username != NULL;
		c->line_fn = watch_line;
		c->line_arg = &w;
		/* The created message must come within the request
		 * timeout: a black-holed etcd is then an error, not a
		 * silent watch. */
		c->first_ms = c->timeout_ms;
		rc = perform(c, "/v3/watch", text, 1, idle_ms, &http, &ended,
		             err);
		c->line_fn = NULL;
		c->first_ms = 0;
		/* Refused for its token, in a message (etcd 3.4) or as an
		 * HTTP error: a new token, and the watch once more. */
		if (rc == ROUTER_OK && w.may_reauth &&
		    (w.reauth ||
		     (!ended && http != 200 && reauth_needed(c, c->buf)))) {
			w.reauth = 0;
			w.rc = ROUTER_OK;
			drop_token(c);
			continue;
		}
		break;
	}
	free(text);
	if (rc == ROUTER_OK && !ended && http != 200) {
		rc = router__seterr(err, ROUTER_EIO, c->url,
		                    "watch refused: HTTP %ld: %.120s", http,
		                    c->buf ? c->buf : "");
	} else if (w.rc != ROUTER_OK) {
		if (err != NULL)
			*err = w.err;
		rc = w.rc;
	} else if (rc == ROUTER_OK && !ended) {
		c->cur = (c->cur + 1) % c->neps;
		rc = router__seterr(err, ROUTER_EIO, c->url,
		                    "watch stream ended by etcd");
	}
	c->len = 0;
	buf_shrink(c);
	return rc;
}

int router__etcd_watch(router__etcd *c, const void *key, size_t key_len,
                       int64_t start_rev, unsigned idle_ms,
                       router__etcd_watch_fn fn, void *arg,
                       router_error *err)
{
	return watch_range(c, key, key_len, NULL, 0, start_rev, idle_ms, fn,
	                   arg, err);
}

int router__etcd_watch_prefix(router__etcd *c, const char *prefix,
                              int64_t start_rev, unsigned idle_ms,
                              router__etcd_watch_fn fn, void *arg,
                              router_error *err)
{
	size_t len = strlen(prefix), n = len;
	unsigned char end[1024];

	if (len == 0 || len > sizeof end)
		return router__seterr(err, ROUTER_EINVAL, prefix,
		                      "prefix must have 1 to %zu bytes",
		                      sizeof end);
	/* etcd's prefix end, as router__etcd_get_prefix computes it. */
	memcpy(end, prefix, len);
	while (n > 0 && end[n - 1] == 0xff)
		n--;
	if (n == 0)
		return watch_range(c, prefix, len, "\0", 1, start_rev, idle_ms,
		                   fn, arg, err);
	end[n - 1]++;
	return watch_range(c, prefix, len, end, n, start_rev, idle_ms, fn, arg,
	                   err);
}
