/*
 * A real etcd for the integration tests: Debian's /usr/bin/etcd on
 * 127.0.0.1, free ports chosen by the kernel, its own temporary data
 * directory, killed when the test process dies (PR_SET_PDEATHSIG) and at
 * exit.  Every wait is bounded.
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

typedef struct etcd_server {
	pid_t pid;
	int client_port, peer_port;
	char dir[256];     /* the temporary directory (data dir inside) */
	char endpoint[64]; /* http://127.0.0.1:PORT */
	char log[300];
} etcd_server;

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

	if (router__etcd_open(&c, e->endpoint, 500, NULL) != ROUTER_OK)
		return 0;
	ok = router__etcd_get(c, "ready?", 6, &kv, &found, &rev, NULL) ==
	     ROUTER_OK;
	router__etcd_kv_clear(&kv);
	router__etcd_close(c);
	return ok;
}

static inline int eh_spawn(etcd_server *e)
{
	char data[300], client[64], peer[64], cluster[96];
	pid_t pid;

	snprintf(data, sizeof data, "%s/data", e->dir);
	snprintf(client, sizeof client, "http://127.0.0.1:%d", e->client_port);
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
		execl("/usr/bin/etcd", "etcd", "--name", "default",
		      "--data-dir", data, "--listen-client-urls", client,
		      "--advertise-client-urls", client, "--listen-peer-urls",
		      peer, "--initial-advertise-peer-urls", peer,
		      "--initial-cluster", cluster, "--log-level", "warn",
		      (char *)NULL);
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

/* Start a new etcd with a fresh data directory.  0 or -1. */
static inline int eh_start(etcd_server *e)
{
	memset(e, 0, sizeof e[0]);
	snprintf(e->dir, sizeof e->dir, "%s/librouter-etcd-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(e->dir) == NULL)
		return -1;
	for (int attempt = 0; attempt < 5; attempt++) {
		e->client_port = eh_free_port();
		e->peer_port = eh_free_port();
		if (e->client_port > 0 && e->peer_port > 0 &&
		    e->client_port != e->peer_port && eh_spawn(e) == 0)
			return 0;
	}
	return -1;
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
