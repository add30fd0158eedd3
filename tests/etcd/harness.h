/*
 * A real etcd for the integration tests: Debian's /usr/bin/etcd on
 * 127.0.0.1, free ports chosen by the kernel, its own temporary data
 * directory, killed when the test process dies (PR_SET_PDEATHSIG) and at
 * exit.  Every wait is bounded.
 *
 * Production shapes (eh_start_with): TLS with its own throwaway CA and
 * client certificates made by the openssl CLI in the temporary directory
 * (eh_certs), client certificates required; and etcd's authentication
 * enabled (user root, password EH_PASSWORD, simple tokens with a TTL)
 * through the v3 JSON gateway with the curl CLI.
 */
#ifndef ROUTER_ETCD_HARNESS_H
#define ROUTER_ETCD_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fleet/etcd.h"

/* What eh_start_with starts. */
typedef struct eh_options {
	/* https:// with certificates from eh_certs, client certificates
	 * required (--client-cert-auth). */
	int tls;
	/* > 0: authentication enabled (user root, EH_PASSWORD), simple
	 * tokens expiring after this many seconds unused. */
	int auth_token_ttl_s;
} eh_options;

#define EH_PASSWORD "s3cret-\"pass\\word"

typedef struct etcd_server {
	pid_t pid;
	int client_port, peer_port;
	char dir[256];     /* the temporary directory (data dir inside) */
	char endpoint[64]; /* http://127.0.0.1:PORT (https:// with tls) */
	char log[300];
	eh_options opt;
	/* With tls: DIR/certs/NAME.pem and .key for NAME ca, server,
	 * client (signed by ca, no Common Name: etcd 3.4's gateway refuses
	 * one with a CN once authentication is on), client-cn (signed by
	 * ca, CN root), other-ca and other-client (signed by other-ca: a
	 * certificate etcd does not trust). */
	char certs[300];
	/* What the harness's own clients use: the CA, the client
	 * certificate, root's password once authentication is on. */
	char ca[340], cert[340], key[340];
	router__etcd_security sec;
} etcd_server;

/* DIR/certs/NAME.EXT of e into buf. */
static inline const char *eh_cert(const etcd_server *e, const char *name,
                                  const char *ext, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s.%s", e->certs, name, ext);
	return buf;
}

static inline void eh_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static inline double eh_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A port the kernel says is free now (another process could take it
 * before etcd binds it: eh_start retries with new ports). */
static inline int eh_free_port(void)
{
	struct sockaddr_in a;
	socklen_t n = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &n) == 0)
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

/* 1 when etcd answers a range. */
static inline int eh_ready(const etcd_server *e)
{
	router__etcd *c;
	router__etcd_kv kv;
	int found = 0, ok;
	int64_t rev;

	if (router__etcd_open_with(&c, e->endpoint, 500, &e->sec, NULL) !=
	    ROUTER_OK)
		return 0;
	ok = router__etcd_get(c, "ready?", 6, &kv, &found, &rev, NULL) ==
	     ROUTER_OK;
	router__etcd_kv_clear(&kv);
	router__etcd_close(c);
	return ok;
}

static inline int eh_spawn(etcd_server *e)
{
	char data[300], client[64], peer[64], cluster[96], ttl[32];
	char srv_cert[340], srv_key[340];
	pid_t pid;

	snprintf(data, sizeof data, "%s/data", e->dir);
	snprintf(client, sizeof client, "%s://127.0.0.1:%d",
	         e->opt.tls ? "https" : "http", e->client_port);
	snprintf(ttl, sizeof ttl, "%d", e->opt.auth_token_ttl_s);
	eh_cert(e, "server", "pem", srv_cert, sizeof srv_cert);
	eh_cert(e, "server", "key", srv_key, sizeof srv_key);
	snprintf(peer, sizeof peer, "http://127.0.0.1:%d", e->peer_port);
	snprintf(cluster, sizeof cluster, "default=%s", peer);
	snprintf(e->endpoint, sizeof e->endpoint, "%s", client);
	snprintf(e->log, sizeof e->log, "%s/etcd.log", e->dir);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(e->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		const char *argv[40] = {
		    "etcd", "--name", "default", "--data-dir", data,
		    "--listen-client-urls", client, "--advertise-client-urls",
		    client, "--listen-peer-urls", peer,
		    "--initial-advertise-peer-urls", peer, "--initial-cluster",
		    cluster, "--log-level", "warn"};
		int n = 0;

		while (argv[n] != NULL)
			n++;

		if (e->opt.tls) {
			argv[n++] = "--cert-file";
			argv[n++] = srv_cert;
			argv[n++] = "--key-file";
			argv[n++] = srv_key;
			argv[n++] = "--trusted-ca-file";
			argv[n++] = e->ca;
			argv[n++] = "--client-cert-auth";
		}
		if (e->opt.auth_token_ttl_s > 0) {
			argv[n++] = "--auth-token";
			argv[n++] = "simple";
			argv[n++] = "--auth-token-ttl";
			argv[n++] = ttl;
		}
		argv[n] = NULL;
		execv("/usr/bin/etcd", (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	e->pid = pid;
	for (double t0 = eh_now(); eh_now() - t0 < 15;) {
		int st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			e->pid = 0;
			return -1; /* exited: port taken? */
		}
		if (eh_ready(e))
			return 0;
		eh_sleep_ms(50);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	e->pid = 0;
	return -1;
}

/* Makes the certificates of e->certs with the openssl CLI: P-256 keys,
 * valid two days, the server's for IP 127.0.0.1.  0 or -1. */
static inline int eh_certs(etcd_server *e)
{
	char cmd[2400];
	const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
	                 "-nodes -days 2";

	snprintf(e->certs, sizeof e->certs, "%s/certs", e->dir);
	snprintf(cmd, sizeof cmd,
	         "set -e; mkdir -p '%s'; cd '%s'; { "
	         "openssl req -x509 %s -keyout ca.key -out ca.pem "
	         "-subj /CN=librouter-test-ca; "
	         "openssl req -x509 %s -keyout other-ca.key -out other-ca.pem "
	         "-subj /CN=librouter-other-ca; "
	         "openssl req %s -keyout server.key -out server.pem "
	         "-subj /CN=librouter-test-server -CA ca.pem -CAkey ca.key "
	         "-addext subjectAltName=IP:127.0.0.1 "
	         "-addext extendedKeyUsage=serverAuth,clientAuth; "
	         "openssl req %s -keyout client.key -out client.pem "
	         "-subj /O=librouter-test-client -CA ca.pem -CAkey ca.key "
	         "-addext extendedKeyUsage=clientAuth; "
	         "openssl req %s -keyout client-cn.key -out client-cn.pem "
	         "-subj /CN=root -CA ca.pem -CAkey ca.key "
	         "-addext extendedKeyUsage=clientAuth; "
	         "openssl req %s -keyout other-client.key -out "
	         "other-client.pem -subj /O=librouter-test-client "
	         "-CA other-ca.pem -CAkey other-ca.key "
	         "-addext extendedKeyUsage=clientAuth; "
	         /* progress dots and any complaint */
	         "} > openssl.log 2>&1",
	         e->certs, e->certs, ec, ec, ec, ec, ec, ec);
	if (system(cmd) != 0) {
		fprintf(stderr, "openssl could not make the test certificates\n");
		return -1;
	}
	eh_cert(e, "ca", "pem", e->ca, sizeof e->ca);
	eh_cert(e, "client", "pem", e->cert, sizeof e->cert);
	eh_cert(e, "client", "key", e->key, sizeof e->key);
	e->sec.ca_file = e->ca;
	e->sec.cert_file = e->cert;
	e->sec.key_file = e->key;
	return 0;
}

/* POST body to path of e with the curl CLI (the harness's certificates,
 * no token: authentication is being set up).  0 or -1. */
static inline int eh_curl(const etcd_server *e, const char *path,
                          const char *body)
{
	char cmd[2000];

	snprintf(cmd, sizeof cmd,
	         "curl -sf -o /dev/null %s%s%s%s%s%s%s -X POST '%s%s' -d '%s'",
	         e->opt.tls ? "--cacert '" : "", e->opt.tls ? e->ca : "",
	         e->opt.tls ? "' --cert '" : "", e->opt.tls ? e->cert : "",
	         e->opt.tls ? "' --key '" : "", e->opt.tls ? e->key : "",
	         e->opt.tls ? "'" : "", e->endpoint, path, body);
	return system(cmd) == 0 ? 0 : -1;
}

/* User root (role root) with EH_PASSWORD, then authentication on.  From
 * here on the harness's clients authenticate as root.  0 or -1. */
static inline int eh_enable_auth(etcd_server *e)
{
	if (eh_curl(e, "/v3/auth/user/add",
	            "{\"name\":\"root\",\"password\":\"s3cret-\\\"pass"
	            "\\\\word\"}") != 0 ||
	    eh_curl(e, "/v3/auth/role/add", "{\"name\":\"root\"}") != 0 ||
	    eh_curl(e, "/v3/auth/user/grant",
	            "{\"user\":\"root\",\"role\":\"root\"}") != 0 ||
	    eh_curl(e, "/v3/auth/enable", "{}") != 0)
		return -1;
	e->sec.username = "root";
	e->sec.password = EH_PASSWORD;
	return 0;
}

/* Start a new etcd shaped by opt (NULL: plain http, no authentication)
 * with a fresh data directory.  0 or -1. */
static inline int eh_start_with(etcd_server *e, const eh_options *opt)
{
	memset(e, 0, sizeof e[0]);
	if (opt != NULL)
		e->opt = *opt;
	snprintf(e->dir, sizeof e->dir, "%s/librouter-etcd-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(e->dir) == NULL)
		return -1;
	if (e->opt.tls && eh_certs(e) != 0)
		return -1;
	for (int attempt = 0; attempt < 5; attempt++) {
		e->client_port = eh_free_port();
		e->peer_port = eh_free_port();
		if (e->client_port > 0 && e->peer_port > 0 &&
		    e->client_port != e->peer_port && eh_spawn(e) == 0)
			return e->opt.auth_token_ttl_s > 0 ? eh_enable_auth(e)
			                                   : 0;
	}
	return -1;
}

/* Start a new etcd with a fresh data directory.  0 or -1. */
static inline int eh_start(etcd_server *e)
{
	return eh_start_with(e, NULL);
}

/* Kill etcd (SIGKILL: a crash, nothing flushed beyond what etcd fsynced). */
static inline void eh_kill(etcd_server *e)
{
	if (e->pid > 0) {
		kill(e->pid, SIGKILL);
		waitpid(e->pid, NULL, 0);
		e->pid = 0;
	}
}

/* Restart on the same ports and data directory. */
static inline int eh_restart(etcd_server *e)
{
	eh_kill(e);
	for (int attempt = 0; attempt < 20; attempt++) {
		if (eh_spawn(e) == 0)
			return 0;
		eh_sleep_ms(100); /* the port may linger a moment */
	}
	return -1;
}

/* Restart on the same ports with an empty data directory: a replaced
 * cluster whose revisions start again from 1. */
static inline int eh_restart_wiped(etcd_server *e)
{
	char cmd[300];

	eh_kill(e);
	snprintf(cmd, sizeof cmd, "rm -rf '%s/data'", e->dir);
	if (system(cmd) != 0)
		return -1;
	return eh_restart(e);
}

static inline void eh_stop(etcd_server *e)
{
	char cmd[300];

	eh_kill(e);
	if (e->dir[0] != '\0' && getenv("ROUTER_ETCD_KEEP") == NULL) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", e->dir);
	}
	e->dir[0] = '\0';
}

#endif /* ROUTER_ETCD_HARNESS_H */
