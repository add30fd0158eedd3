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
 */
#include <curl/curl.h>
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
#include "internal.h"

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
	int64_t last_byte_ns;
};

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

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* NUL-terminated base64 of (p, n); NULL on allocation failure. */
static char *b64_encode(const void *p, size_t n)
{
	const unsigned char *s = p;
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		*o++ = b64chars[(v >> 18) & 63];
		*o++ = b64chars[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64chars[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_val(int ch)
{
	const char *p;

	if (ch == '\0' || (p = strchr(b64chars, ch)) == NULL)
		return -1;
	return (int)(p - b64chars);
}

/* Decode standard base64 (padding optional).  *out is malloc'd and
 * NUL-terminated.  0, -1 malformed, -2 out of memory. */
static int b64_decode(const char *s, size_t n, char **out, size_t *outlen)
{
	char *o;
	size_t k = 0;
	uint32_t acc = 0;
	int bits = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	if ((o = malloc(n / 4 * 3 + 3)) == NULL)
		return -2;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val((unsigned char)s[i]);

		if (v < 0) {
			free(o);
			return -1;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[k++] = (char)((acc >> bits) & 0xff);
		}
	}
	o[k] = '\0';
	*out = o;
	*outlen = k;
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

		if (router__parse_uint64(s + neg, n - (size_t)neg, &u) != 0 ||
		    u > (uint64_t)INT64_MAX)
			return -1;
		*v = neg ? -(int64_t)u : (int64_t)u;
		return 0;
	}
	return -1;
}

static int jbool(const json_t *o, const char *name)
{
	return json_is_true(json_object_get(o, name));
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

int router__etcd_open(router__etcd **out, const char *endpoints,
                      unsigned timeout_ms, router_error *err)
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
	free(c);
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

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	router__etcd *c = arg;
	size_t n = size * nmemb;

	c->last_byte_ns = now_ns();
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
	}
	return n;
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
	int running = 1, idle = 0, rc = ROUTER_OK;
	CURLMsg *msg;
	int left;

	*http = 0;
	if (ended_by)
		*ended_by = 0;
	if (atomic_load_explicit(&c->interrupted, memory_order_relaxed))
		return router__seterr(err, ROUTER_ESTATE, path, "interrupted");
	snprintf(c->url, sizeof c->url, "%s%s", c->eps[c->cur], path);
	c->len = 0;
	c->scanned = 0;
	c->overflow = 0;
	c->line_stop = 0;
	c->last_byte_ns = now_ns();
	if (c->buf != NULL)
		c->buf[0] = '\0';
	c->errbuf[0] = '\0';
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
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
	if (!stream)
		curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS,
		                 (long)c->timeout_ms);
	curl_multi_add_handle(c->multi, c->easy);
	while (running) {
		CURLMcode mc = curl_multi_perform(c->multi, &running);

		if (mc != CURLM_OK) {
			rc = router__seterr(err, ROUTER_EIO, c->url,
			                    "libcurl: %s", curl_multi_strerror(mc));
			break;
		}
		if (!running)
			break;
		if (atomic_load_explicit(&c->interrupted,
		                         memory_order_relaxed)) {
			rc = router__seterr(err, ROUTER_ESTATE, c->url,
			                    "interrupted");
			break;
		}
		if (stream && idle_ms &&
		    now_ns() - c->last_byte_ns > (int64_t)idle_ms * 1000000) {
			idle = 1;
			break;
		}
		curl_multi_poll(c->multi, NULL, 0, 200, NULL);
	}
	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->easy)
			res = msg->data.result;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, http);
	curl_multi_remove_handle(c->multi, c->easy);
	curl_slist_free_all(hdr);
	if (rc != ROUTER_OK)
		return rc;
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
		rc = router__seterr(err, ROUTER_EIO, c->url, "%s%s%s",
		                    curl_easy_strerror(res),
		                    c->errbuf[0] ? ": " : "", c->errbuf);
		c->cur = (c->cur + 1) % c->neps;
		return rc;
	}
	return ROUTER_OK;
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
	rc = perform(c, path, text, 0, 0, &http, NULL, err);
	free(text);
	if (rc != ROUTER_OK)
		return rc;
	o = json_loadb(c->buf ? c->buf : "", c->len, 0, &je);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		return router__seterr(
		    err, ROUTER_EIO, c->url,
		    "HTTP %ld with a body that is not a JSON object (%.60s%s)",
		    http, c->buf ? c->buf : "", c->len > 60 ? "..." : "");
	}
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

/* Fill kv from a mvccpb.KeyValue JSON object.  0, -1 malformed, -2 OOM. */
static int parse_kv(const json_t *o, router__etcd_kv *kv)
{
	const char *k, *v;
	int rc;

	memset(kv, 0, sizeof *kv);
	if (!json_is_object(o))
		return -1;
	k = json_string_value(json_object_get(o, "key"));
	v = json_string_value(json_object_get(o, "value"));
	if (k == NULL && json_object_get(o, "key") != NULL)
		return -1;
	if (v == NULL && json_object_get(o, "value") != NULL)
		return -1;
	if (jint64(o, "create_revision", &kv->create_revision) != 0 ||
	    jint64(o, "mod_revision", &kv->mod_revision) != 0 ||
	    jint64(o, "version", &kv->version) != 0 ||
	    jint64(o, "lease", &kv->lease) != 0)
		return -1;
	if ((rc = b64_decode(k ? k : "", k ? strlen(k) : 0, &kv->key,
	                     &kv->key_len)) != 0)
		return rc;
	if ((rc = b64_decode(v ? v : "", v ? strlen(v) : 0, &kv->value,
	                     &kv->value_len)) != 0) {
		router__etcd_kv_clear(kv);
		return rc;
	}
	return 0;
}

static int header_revision(const json_t *o, int64_t *rev)
{
	return jint64(json_object_get(o, "header"), "revision", rev);
}

/* ------------------------------------------------------------------------ */
/* KV                                                                       */
/* ------------------------------------------------------------------------ */

/* Range [key, range_end) (range_end NULL: the key alone). */
static int range(router__etcd *c, const void *key, size_t key_len,
                 const void *end, size_t end_len, router__etcd_kv **kvs,
                 size_t *n, int64_t *header_rev, router_error *err)
{
	json_t *req = json_pack("{s:o}", "key", jb64(key, key_len)), *resp, *a;
	int rc;
	size_t i, cnt;
	router__etcd_kv *out = NULL;

	*kvs = NULL;
	*n = 0;
	if (req != NULL && end != NULL &&
	    json_object_set_new(req, "range_end", jb64(end, end_len)) != 0) {
		json_decref(req);
		req = NULL;
	}
	if ((rc = call(c, "/v3/kv/range", req, &resp, err)) != ROUTER_OK)
		return rc;
	if (header_rev != NULL && header_revision(resp, header_rev) != 0) {
		json_decref(resp);
		return malformed(c, "header.revision is not an integer", err);
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
		int r = parse_kv(json_array_get(a, i), &out[i]);

		if (r != 0) {
			router__etcd_kvs_free(out, i);
			json_decref(resp);
			return r == -2 ? router__seterr(err, ROUTER_ENOMEM,
			                                c->url, "out of memory")
			               : malformed(c, "a key-value is malformed",
			                           err);
		}
	}
	json_decref(resp);
	*kvs = out;
	*n = cnt;
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
	rc = range(c, key, key_len, NULL, 0, &kvs, &n, header_rev, err);
	if (rc != ROUTER_OK)
		return rc;
	if (n > 1 || (n == 1 && (kvs[0].key_len != key_len ||
	                         memcmp(kvs[0].key, key, key_len) != 0))) {
		router__etcd_kvs_free(kvs, n);
		return malformed(c, "range of one key gave another key", err);
	}
	if (n == 1) {
		*kv = kvs[0];
		*found = 1;
		free(kvs);
	}
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
		return range(c, prefix, strlen(prefix), "\0", 1, kvs, n,
		             header_rev, err);
	end[len - 1]++;
	return range(c, prefix, strlen(prefix), end, len, kvs, n, header_rev,
	             err);
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
	if (rev != NULL && header_revision(resp, rev) != 0)
		rc = malformed(c, "header.revision is not an integer", err);
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
	if (rev != NULL && header_revision(resp, rev) != 0)
		rc = malformed(c, "header.revision is not an integer", err);
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
	if (rev != NULL && header_revision(resp, rev) != 0)
		rc = malformed(c, "header.revision is not an integer", err);
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
	if (jint64(resp, "ID", id) != 0 || *id == 0)
		rc = malformed(c, "lease grant without an ID", err);
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

int router__etcd_lease_keepalive(router__etcd *c, int64_t id, int64_t *ttl,
                                 router_error *err)
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
	if (!c->line_stop || c->buf == NULL)
		return router__seterr(err, ROUTER_EIO, c->url,
		                      "no keep-alive answer (HTTP %ld)", http);
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
	if (!json_is_object(r) || jint64(r, "TTL", ttl) != 0)
		rc = malformed(c, "keep-alive answer without result.TTL", err);
	json_decref(o);
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
} watch_ctx;

static int watch_line(void *arg, char *line, size_t len)
{
	watch_ctx *w = arg;
	json_error_t je;
	json_t *o = json_loadb(line, len, 0, &je), *r, *evs;
	router__etcd_watch_msg m;
	const char *em;
	int stop = 0;
	size_t n;

	memset(&m, 0, sizeof m);
	if (o == NULL || !json_is_object(o)) {
		w->rc = malformed(w->c, "watch message is not a JSON object",
		                  &w->err);
		json_decref(o);
		return 1;
	}
	if ((em = error_message(o)) != NULL) {
		w->rc = router__seterr(&w->err, ROUTER_EIO, w->c->url,
		                       "etcd ended the watch: %s", em);
		json_decref(o);
		return 1;
	}
	r = json_object_get(o, "result");
	evs = json_object_get(r, "events");
	if (!json_is_object(r) || (evs != NULL && !json_is_array(evs)) ||
	    header_revision(r, &m.header_revision) != 0 ||
	    jint64(r, "compact_revision", &m.compact_revision) != 0) {
		w->rc = malformed(w->c, "watch message without a valid result",
		                  &w->err);
		json_decref(o);
		return 1;
	}
	m.created = jbool(r, "created");
	m.canceled = jbool(r, "canceled");
	m.cancel_reason = json_string_value(json_object_get(r, "cancel_reason"));
	if (m.cancel_reason == NULL)
		m.cancel_reason = "";
	n = json_array_size(evs);
	if (n > 0) {
		m.events = calloc(n, sizeof *m.events);
		m.event_is_delete = calloc(n, sizeof *m.event_is_delete);
		if (m.events == NULL || m.event_is_delete == NULL) {
			free(m.events);
			free(m.event_is_delete);
			w->rc = router__seterr(&w->err, ROUTER_ENOMEM, w->c->url,
			                       "out of memory");
			json_decref(o);
			return 1;
		}
	}
	for (m.nevents = 0; m.nevents < n; m.nevents++) {
		const json_t *ev = json_array_get(evs, m.nevents);
		const char *type = json_string_value(json_object_get(ev, "type"));
		int prc = parse_kv(json_object_get(ev, "kv"),
		                   &m.events[m.nevents]);

		if (prc != 0 || (type != NULL && strcmp(type, "PUT") != 0 &&
		                 strcmp(type, "DELETE") != 0)) {
			if (prc == 0)
				router__etcd_kv_clear(&m.events[m.nevents]);
			w->rc = prc == -2 ? router__seterr(&w->err, ROUTER_ENOMEM,
			                                   w->c->url,
			                                   "out of memory")
			                  : malformed(w->c,
			                              "watch event is malformed",
			                              &w->err);
			stop = 1;
			break;
		}
		/* PUT is the default value of the type enum: left out. */
		m.event_is_delete[m.nevents] =
		    type != NULL && strcmp(type, "DELETE") == 0;
	}
	if (!stop)
		stop = w->fn(w->arg, &m) != 0;
	router__etcd_kvs_free(m.events, m.nevents);
	free(m.event_is_delete);
	json_decref(o);
	return stop;
}

int router__etcd_watch(router__etcd *c, const void *key, size_t key_len,
                       int64_t start_rev, unsigned idle_ms,
                       router__etcd_watch_fn fn, void *arg,
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
	snprintf(buf, sizeof buf, "%" PRId64, start_rev);
	req = json_pack("{s:{s:o, s:s}}", "create_request", "key",
	                jb64(key, key_len), "start_revision", buf);
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (text == NULL)
		return router__seterr(err, ROUTER_ENOMEM, "watch",
		                      "out of memory");
	c->line_fn = watch_line;
	c->line_arg = &w;
	rc = perform(c, "/v3/watch", text, 1, idle_ms, &http, &ended, err);
	c->line_fn = NULL;
	free(text);
	if (w.rc != ROUTER_OK) {
		if (err != NULL)
			*err = w.err;
		return w.rc;
	}
	if (rc != ROUTER_OK)
		return rc;
	if (ended)
		return ROUTER_OK;
	if (http != 200)
		return router__seterr(err, ROUTER_EIO, c->url,
		                      "watch refused: HTTP %ld: %.120s", http,
		                      c->buf ? c->buf : "");
	c->cur = (c->cur + 1) % c->neps;
	return router__seterr(err, ROUTER_EIO, c->url,
	                      "watch stream ended by etcd");
}
