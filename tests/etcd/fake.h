/*
 * A fake etcd v3 JSON gateway on 127.0.0.1 for the "hostile etcd" tests:
 * it answers each request with whatever the test's handler writes, so a
 * test can send revisions a real etcd never would (INT64_MAX, negative),
 * garbage, HTTP 500, a trickle, silence.  One detached thread per
 * connection; every connection is closed after its answer
 * ("Connection: close", so libcurl never reuses one).  Every wait is
 * bounded: fake_stop ends the holds and waits (at most 5 s) for the
 * connection threads.
 */
#ifndef ROUTER_ETCD_FAKE_H
#define ROUTER_ETCD_FAKE_H

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nettle/base64.h>

typedef struct fake_etcd fake_etcd;

/* Answer one request (path "/v3/kv/range", body the JSON sent) on fd. */
typedef void (*fake_handler)(fake_etcd *fk, int fd, const char *path,
                             const char *body);

struct fake_etcd {
	int lfd;
	char endpoint[64];
	pthread_t acceptor;
	atomic_int stop;
	atomic_int active;  /* connection threads running */
	fake_handler handler;
	void *arg;          /* the test's */
	atomic_int ranges, watches, puts, grants, keepalives, others;
	/* start_revision of every watch request, in order (under mu). */
	pthread_mutex_t mu;
	int64_t watch_start[256];
	int nwatch_start;
	char last_put[8192]; /* the body of the last put (under mu) */
};

typedef struct fake_conn {
	fake_etcd *fk;
	int fd;
} fake_conn;

static inline int64_t fake_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void fake_write(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);

		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

static inline void fake_puts(int fd, const char *s)
{
	fake_write(fd, s, strlen(s));
}

/* A complete answer with a body. */
static inline void fake_reply(int fd, int status, const char *body)
{
	char hdr[256];

	snprintf(hdr, sizeof hdr,
	         "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
	         "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	         status, strlen(body));
	fake_puts(fd, hdr);
	fake_puts(fd, body);
}

/* The head of a streamed answer (the body ends when the socket closes). */
static inline void fake_stream_head(int fd, int status)
{
	char hdr[160];

	snprintf(hdr, sizeof hdr,
	         "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
	         "Connection: close\r\n\r\n",
	         status);
	fake_puts(fd, hdr);
}

/* Keep the connection open for up to ms, or until the peer hangs up or
 * the fake stops.  Returns 1 when the peer hung up or the fake stopped. */
static inline int fake_hold(fake_etcd *fk, int fd, int ms)
{
	int64_t end = fake_now_ms() + ms;

	while (!atomic_load(&fk->stop) && fake_now_ms() < end) {
		struct pollfd p = {fd, POLLIN, 0};
		char b[256];

		if (poll(&p, 1, 50) > 0) {
			if (recv(fd, b, sizeof b, MSG_DONTWAIT) <= 0)
				return 1;
		}
	}
	return atomic_load(&fk->stop) != 0;
}

/* Base64 of s (malloc'd). */
static inline char *fake_b64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);

	if (out != NULL) {
		base64_encode_raw(out, n, (const uint8_t *)s);
		out[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
	}
	return out;
}

/* The value of the last put, decoded from base64 (malloc'd; "" if none). */
static inline char *fake_last_put_value(fake_etcd *fk)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char body[8192], *out, *o;
	const char *v, *e;
	uint32_t acc = 0;
	int bits = 0;

	pthread_mutex_lock(&fk->mu);
	memcpy(body, fk->last_put, sizeof body);
	pthread_mutex_unlock(&fk->mu);
	o = out = calloc(1, sizeof body);
	if ((v = strstr(body, "\"value\":\"")) == NULL)
		return out;
	v += 9;
	e = strchr(v, '"');
	for (; e != NULL && v < e && *v != '='; v++) {
		const char *p = strchr(t, *v);

		if (p == NULL)
			break;
		acc = (acc << 6) | (uint32_t)(p - t);
		if ((bits += 6) >= 8) {
			bits -= 8;
			*o++ = (char)((acc >> bits) & 0xff);
		}
	}
	return out;
}

/* The answers a real etcd gives to the reporter's calls. */
static inline int fake_default(fake_etcd *fk, int fd, const char *path)
{
	if (strcmp(path, "/v3/lease/grant") == 0) {
		fake_reply(fd, 200, "{\"header\":{\"revision\":\"1\"},"
		                    "\"ID\":\"7\",\"TTL\":\"5\"}");
	} else if (strcmp(path, "/v3/lease/keepalive") == 0) {
		fake_stream_head(fd, 200);
		fake_puts(fd, "{\"result\":{\"header\":{\"revision\":\"1\"},"
		              "\"ID\":\"7\",\"TTL\":\"5\"}}\n");
		fake_hold(fk, fd, 2000);
	} else if (strcmp(path, "/v3/kv/put") == 0 ||
	           strcmp(path, "/v3/lease/revoke") == 0) {
		fake_reply(fd, 200, "{\"header\":{\"revision\":\"1\"}}");
	} else {
		return 0;
	}
	return 1;
}

static inline void *fake_conn_main(void *arg)
{
	fake_conn *cn = arg;
	fake_etcd *fk = cn->fk;
	char req[65536], path[256] = "";
	size_t len = 0, need = 0;
	char *hend = NULL, *body;
	int64_t end = fake_now_ms() + 5000;

	/* Read the head and the body (Content-Length), bounded. */
	while (fake_now_ms() < end && !atomic_load(&fk->stop)) {
		struct pollfd p = {cn->fd, POLLIN, 0};
		ssize_t k;

		if (poll(&p, 1, 50) <= 0)
			continue;
		k = recv(cn->fd, req + len, sizeof req - 1 - len, 0);
		if (k <= 0)
			break;
		len += (size_t)k;
		req[len] = '\0';
		if (hend == NULL && (hend = strstr(req, "\r\n\r\n")) != NULL) {
			const char *cl = strcasestr(req, "Content-Length:");

			need = (size_t)(hend + 4 - req) +
			       (cl ? strtoul(cl + 15, NULL, 10) : 0);
			if (strcasestr(req, "Expect: 100-continue") != NULL)
				fake_puts(cn->fd, "HTTP/1.1 100 Continue\r\n\r\n");
		}
		if (hend != NULL && len >= need)
			break;
	}
	if (hend != NULL && len >= need) {
		body = hend + 4;
		sscanf(req, "POST %255s", path);
		if (strcmp(path, "/v3/kv/range") == 0)
			atomic_fetch_add(&fk->ranges, 1);
		else if (strcmp(path, "/v3/watch") == 0) {
			const char *s = strstr(body, "\"start_revision\":\"");

			atomic_fetch_add(&fk->watches, 1);
			pthread_mutex_lock(&fk->mu);
			if (fk->nwatch_start < 256)
				fk->watch_start[fk->nwatch_start++] =
				    s ? strtoll(s + 18, NULL, 10) : 0;
			pthread_mutex_unlock(&fk->mu);
		} else if (strcmp(path, "/v3/kv/put") == 0) {
			atomic_fetch_add(&fk->puts, 1);
			pthread_mutex_lock(&fk->mu);
			snprintf(fk->last_put, sizeof fk->last_put, "%s", body);
			pthread_mutex_unlock(&fk->mu);
		}
		else if (strcmp(path, "/v3/lease/grant") == 0)
			atomic_fetch_add(&fk->grants, 1);
		else if (strcmp(path, "/v3/lease/keepalive") == 0)
			atomic_fetch_add(&fk->keepalives, 1);
		else
			atomic_fetch_add(&fk->others, 1);
		fk->handler(fk, cn->fd, path, body);
	}
	close(cn->fd);
	free(cn);
	atomic_fetch_sub(&fk->active, 1);
	return NULL;
}

static inline void *fake_accept_main(void *arg)
{
	fake_etcd *fk = arg;

	while (!atomic_load(&fk->stop)) {
		struct pollfd p = {fk->lfd, POLLIN, 0};
		fake_conn *cn;
		pthread_t t;
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((fd = accept(fk->lfd, NULL, NULL)) < 0)
			continue;
		cn = malloc(sizeof *cn);
		cn->fk = fk;
		cn->fd = fd;
		atomic_fetch_add(&fk->active, 1);
		if (pthread_create(&t, NULL, fake_conn_main, cn) != 0) {
			atomic_fetch_sub(&fk->active, 1);
			close(fd);
			free(cn);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

/* Listen on a free loopback port.  0 or -1. */
static inline int fake_start(fake_etcd *fk, fake_handler h, void *arg)
{
	struct sockaddr_in a;
	socklen_t n = sizeof a;
	int one = 1;

	memset(fk, 0, sizeof *fk);
	fk->handler = h;
	fk->arg = arg;
	pthread_mutex_init(&fk->mu, NULL);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fk->lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(fk->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fk->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    listen(fk->lfd, 64) != 0 ||
	    getsockname(fk->lfd, (struct sockaddr *)&a, &n) != 0) {
		close(fk->lfd);
		return -1;
	}
	snprintf(fk->endpoint, sizeof fk->endpoint, "http://127.0.0.1:%d",
	         ntohs(a.sin_port));
	if (pthread_create(&fk->acceptor, NULL, fake_accept_main, fk) != 0) {
		close(fk->lfd);
		return -1;
	}
	return 0;
}

static inline void fake_stop(fake_etcd *fk)
{
	atomic_store(&fk->stop, 1);
	pthread_join(fk->acceptor, NULL);
	close(fk->lfd);
	for (int64_t end = fake_now_ms() + 5000;
	     atomic_load(&fk->active) > 0 && fake_now_ms() < end;)
		usleep(10000);
	pthread_mutex_destroy(&fk->mu);
}

#endif /* ROUTER_ETCD_FAKE_H */
