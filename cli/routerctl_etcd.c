/*
 * routerctl watch | push | fleet: the routing document kept in etcd.
 *
 *   watch   follow the key like an application would (router_etcd), print
 *           every verdict and connection change; optionally route a probe
 *           key continuously to show that routing never stops.
 *   push    check DOC against the document in etcd exactly as `check`
 *           does, and write it only if it passes, with compare-and-swap
 *           on the revision read (nobody's change is overwritten).
 *   fleet   every member's status key as a table.
 *   vitess dump
 *           the routing document built from a Vitess cell's own topo
 *           (CellInfo, SrvVSchema, SrvKeyspaces; read-only), as `dump`
 *           writes documents.
 *   vitess check
 *           whether that topo routes, and whether any global VSchema or
 *           routing-rule value would be refused by the next rebuild
 *           (latent poison, fleet/vitess_latent.h); read-only.
 *   vitess watch
 *           follow the cell like watch follows a key (router_etcd with
 *           the Vitess source), with watch's options and lines.
 *
 * Every command talks to etcd with the same TLS and authentication
 * options (--cacert, --cert, --cert-key, --user, --password-file; the
 * ETCDCTL_* variables as etcdctl reads them, ROUTERCTL_ETCD_PASSWORD):
 * read_security turns them into one router__etcd_security.
 *
 * Exit status as routerctl's: 0 yes, 1 no, 2 usage or I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fleet/etcd.h"
#include "fleet/vitess_read.h"
#include "router.h"
#include "router_doc.h"
#include "router_etcd.h"
#include "routerctl_etcd.h"

enum { EXIT_YES = 0, EXIT_NO = 1, EXIT_USAGE = 2 };

#define DEFAULT_ENDPOINT "http://127.0.0.1:2379"
#define DEFAULT_KEY "/librouter/vschema"


typedef struct ecli {
	const char *cmd;
	const char *endpoints, *key, *status_prefix, *instance, *snapshot;
	const char *keyspace, *probe, *doc;
	const char *cell, *topo_root, *tablet_type, *cell_endpoints;
	int compact;
	int watch_opts; /* vitess: an option only vitess watch takes */
	router_doc_shards shards[16];
	size_t nshards;
	char *shard_store[16];
	const char *shard_ptrs[16][256];
	int json, destructive;
	unsigned ttl, verdicts;
	double wait_s;
	long expect;
	/* TLS and authentication as given (--cacert, --cert, --cert-key,
	 * --user NAME[:PASSWORD], --password-file), and what read_security
	 * made of them: sec's user and password are malloc'd (user_buf,
	 * pass_buf; the password wiped at exit). */
	const char *cacert, *cert, *cert_key, *user, *password_file;
	char *user_arg; /* --user's value in argv, its password scrubbed */
	char *user_buf, *pass_buf;
	router__etcd_security sec;
} ecli;

static void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("routerctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int usage(const ecli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int usage(const ecli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "routerctl %s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'routerctl %s --help'.\n", c->cmd);
	return EXIT_USAGE;
}

int routerctl_etcd_is_command(const char *name)
{
	return strcmp(name, "watch") == 0 || strcmp(name, "push") == 0 ||
	       strcmp(name, "fleet") == 0 || strcmp(name, "vitess") == 0;
}

static int add_shards(ecli *c, const char *spec)
{
	const char *eq = strchr(spec, '=');
	router_doc_shards *s;
	char *p;

	if (eq == NULL || eq == spec || eq[1] == '\0')
		return usage(c, "--shards takes NAME=SHARD[,SHARD...]");
	if (c->nshards == 16)
		return usage(c, "too many --shards");
	s = &c->shards[c->nshards];
	p = c->shard_store[c->nshards] = strdup(spec);
	if (p == NULL)
		return usage(c, "out of memory");
	p[eq - spec] = '\0';
	s->keyspace = p;
	s->shards = c->shard_ptrs[c->nshards];
	s->nshards = 0;
	c->nshards++;
	for (p += eq - spec + 1;;) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (*p == '\0' || s->nshards == 256)
			return usage(c, "--shards %s: empty shard name or more "
			                "than 256 shards",
			             s->keyspace);
		c->shard_ptrs[c->nshards - 1][s->nshards++] = p;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

/* Sets option --NAME (a[0..n): NAME, without the dashes) to val (NULL
 * for an option that takes none) for command c->cmd.  Returns 0, or
 * EXIT_USAGE after saying why (an option this command does not take, a
 * value out of range). */
static int apply_option(ecli *c, const char *a, size_t n, const char *val)
{
#define IS(name) (strlen(name) == n && strncmp(a, name, n) == 0)
	int vitess = strcmp(c->cmd, "vitess") == 0;
	/* vitess watch takes watch's options (vitess dump refuses them). */
	int watch = strcmp(c->cmd, "watch") == 0 || vitess;
	int watch_opt = IS("json") || IS("status-prefix") || IS("instance") ||
	                IS("snapshot") || IS("probe") || IS("ttl") ||
	                IS("verdicts");

	if (vitess && watch_opt && !IS("json"))
		c->watch_opts = 1;
	if (IS("cacert"))
		c->cacert = val;
	else if (IS("cert"))
		c->cert = val;
	else if (IS("cert-key"))
		c->cert_key = val;
	else if (IS("user")) {
		c->user = val;
		c->user_arg = (char *)(uintptr_t)val; /* argv's, scrubbed */
	} else if (IS("password-file"))
		c->password_file = val;
	else if (IS("json"))
		c->json = 1;
	else if (vitess && IS("cell"))
		c->cell = val;
	else if (vitess && IS("topo-root"))
		c->topo_root = val;
	else if (vitess && IS("tablet-type"))
		c->tablet_type = val;
	else if (vitess && IS("cell-endpoints"))
		c->cell_endpoints = val;
	else if (vitess && IS("compact"))
		c->compact = 1;
	else if (vitess && !IS("endpoints") && !watch_opt && !IS("wait") &&
	         !IS("expect"))
		return usage(c, "unknown option --%.*s", (int)n, a);
	else if (IS("allow-destructive") && strcmp(c->cmd, "push") == 0)
		c->destructive = 1;
	else if (IS("endpoints"))
		c->endpoints = val;
	else if (IS("key"))
		c->key = val;
	else if (IS("status-prefix") && strcmp(c->cmd, "push") != 0)
		c->status_prefix = val;
	else if (IS("instance") && watch)
		c->instance = val;
	else if (IS("snapshot") && watch)
		c->snapshot = val;
	else if (IS("probe") && watch)
		c->probe = val;
	else if (IS("keyspace") && strcmp(c->cmd, "fleet") != 0)
		c->keyspace = val;
	else if (IS("shards") && strcmp(c->cmd, "fleet") != 0) {
		if (add_shards(c, val) != 0)
			return EXIT_USAGE;
	} else if (IS("ttl") && watch) {
		char *end;
		unsigned long v = strtoul(val, &end, 10);

		if (*end != '\0' || v < 2 || v > 3600)
			return usage(c, "--ttl takes 2..3600 seconds");
		c->ttl = (unsigned)v;
	} else if (IS("verdicts") && watch) {
		char *end;
		unsigned long v = strtoul(val, &end, 10);

		if (*end != '\0' || v == 0 || v > 1000000)
			return usage(c, "--verdicts takes a count >= 1");
		c->verdicts = (unsigned)v;
	} else if (IS("wait") && (strcmp(c->cmd, "fleet") == 0 || vitess)) {
		char *end;

		c->wait_s = strtod(val, &end);
		if (*end != '\0' || c->wait_s < 0 || c->wait_s > 3600)
			return usage(c, "--wait takes 0..3600 seconds");
	} else if (IS("expect") && (strcmp(c->cmd, "fleet") == 0 || vitess)) {
		char *end;

		c->expect = strtol(val, &end, 10);
		if (*end != '\0' || c->expect < 0)
			return usage(c, "--expect takes a count");
	} else
		return usage(c, "unknown option --%.*s", (int)n, a);
#undef IS
	return 0;
}

/* An option's value, else the environment variable's (unset or empty:
 * NULL). */
static const char *opt_or_env(const char *v, const char *var)
{
	if (v == NULL)
		v = getenv(var);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The first line of path (without its line end) into *out (malloc'd).
 * 0, or EXIT_USAGE after saying why. */
static int read_password_file(const ecli *c, const char *path, char **out)
{
	FILE *f = fopen(path, "r");
	char buf[1024];
	size_t n;

	if (f == NULL)
		return usage(c, "--password-file %s: %s", path, strerror(errno));
	/* No stdio buffer: it would keep a copy, freed unwiped (a pipe,
	 * as from <(...), is read as well as a file). */
	setvbuf(f, NULL, _IONBF, 0);
	if (fgets(buf, sizeof buf, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	*out = n > 0 ? strdup(buf) : NULL;
	explicit_bzero(buf, sizeof buf);
	if (n == 0)
		return usage(c, "--password-file %s: the first line is empty",
		             path);
	return *out != NULL ? 0 : usage(c, "out of memory");
}

/* Makes c->sec from the TLS and authentication options, as etcdctl
 * reads them: --cacert / ETCDCTL_CACERT, --cert / ETCDCTL_CERT,
 * --cert-key / ETCDCTL_KEY (--key is the document's etcd key here),
 * --user NAME[:PASSWORD] / ETCDCTL_USER; a password not given inline
 * comes from --password-file, else ROUTERCTL_ETCD_PASSWORD, else
 * ETCDCTL_PASSWORD.  An inline password is scrubbed from argv at once
 * (so that ps shows it no longer).  0, or EXIT_USAGE after saying why. */
static int read_security(ecli *c)
{
	const char *user = opt_or_env(c->user, "ETCDCTL_USER"), *colon;
	router_error e;

	c->sec.ca_file = opt_or_env(c->cacert, "ETCDCTL_CACERT");
	c->sec.cert_file = opt_or_env(c->cert, "ETCDCTL_CERT");
	c->sec.key_file = opt_or_env(c->cert_key, "ETCDCTL_KEY");
	if ((c->sec.cert_file == NULL) != (c->sec.key_file == NULL))
		return usage(c, "a client certificate needs --cert and "
		                "--cert-key (the private key) together");
	if (user == NULL && c->password_file != NULL)
		return usage(c, "--password-file without --user");
	if (user != NULL) {
		colon = strchr(user, ':');
		c->user_buf = colon ? strndup(user, (size_t)(colon - user))
		                    : strdup(user);
		if (colon != NULL) {
			c->pass_buf = strdup(colon + 1);
			if (c->user_arg != NULL && user == c->user)
				explicit_bzero(c->user_arg + (colon - user) + 1,
				               strlen(colon + 1));
		} else if (c->password_file != NULL) {
			if (read_password_file(c, c->password_file,
			                       &c->pass_buf) != 0)
				return EXIT_USAGE;
		} else if (opt_or_env(NULL, "ROUTERCTL_ETCD_PASSWORD")) {
			c->pass_buf =
			    strdup(getenv("ROUTERCTL_ETCD_PASSWORD"));
		} else if (opt_or_env(NULL, "ETCDCTL_PASSWORD")) {
			c->pass_buf = strdup(getenv("ETCDCTL_PASSWORD"));
		} else {
			return usage(c, "no password for etcd user %s: give "
			                "--user %s:PASSWORD, --password-file "
			                "FILE or ROUTERCTL_ETCD_PASSWORD",
			             c->user_buf ? c->user_buf : user,
			             c->user_buf ? c->user_buf : user);
		}
		if (c->user_buf == NULL || c->pass_buf == NULL)
			return usage(c, "out of memory");
		if (c->user_buf[0] == '\0')
			return usage(c, "--user needs a user name");
		c->sec.username = c->user_buf;
		c->sec.password = c->pass_buf;
	}
	if (router__etcd_check_security(c->endpoints, &c->sec, &e) != 0)
		return usage(c, "%s", e.message);
	return 0;
}

/* Reads the command line after the command (argv[1..argc)): the
 * document (push only), --help / -h (*help = 1), "--", and each option
 * (--NAME VALUE or --NAME=VALUE for those that take one, set by
 * apply_option); then the endpoints and key from the environment or the
 * defaults.  Returns 0, or EXIT_USAGE after saying why. */
static int parse(ecli *c, int argc, char **argv, int *help)
{
	static const char *const with_value[] = {
	    "endpoints", "key",    "status-prefix", "instance", "snapshot",
	    "keyspace",  "shards", "probe",         "ttl",      "verdicts",
	    "wait",      "expect", "cell",          "topo-root", "tablet-type",
	    "cell-endpoints", "cacert", "cert", "cert-key", "user",
	    "password-file", NULL};
	int only_pos = 0, rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		size_t n;
		int takes = 0;

		if (only_pos || a[0] != '-' || a[1] == '\0' ||
		    (a[1] != '-' && strcmp(a, "-h") != 0)) {
			if (c->doc != NULL || (strcmp(c->cmd, "push") != 0 &&
			                       strcmp(c->cmd, "vitess") != 0))
				return usage(c, "unexpected argument '%s'", a);
			c->doc = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*help = 1;
			continue;
		}
		a += 2;
		n = strcspn(a, "=");
		for (int k = 0; with_value[k]; k++)
			takes |= strlen(with_value[k]) == n &&
			         strncmp(with_value[k], a, n) == 0;
		if (takes) {
			if (a[n] == '=')
				val = a + n + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return usage(c, "--%.*s needs a value", (int)n, a);
		} else if (a[n] == '=') {
			return usage(c, "--%.*s takes no value", (int)n, a);
		}
		if ((rc = apply_option(c, a, n, val)) != 0)
			return rc;
	}
	if (c->endpoints == NULL)
		c->endpoints = getenv("ETCDCTL_ENDPOINTS");
	if (c->endpoints == NULL || c->endpoints[0] == '\0')
		c->endpoints = DEFAULT_ENDPOINT;
	if (c->key == NULL)
		c->key = getenv("ROUTER_ETCD_KEY");
	if (c->key == NULL || c->key[0] == '\0')
		c->key = DEFAULT_KEY;
	return read_security(c);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void doc_options(const ecli *c, router_doc_options *o)
{
	router_doc_options d = ROUTER_DOC_OPTIONS_INIT;

	*o = d;
	o->keyspace = c->keyspace;
	o->shards = c->shards;
	o->nshards = c->nshards;
	o->flags = ROUTER_DOC_UNUSED_SHARDS_OK;
}

/* ------------------------------------------------------------------------ */
/* watch                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct watcher {
	const ecli *c;
	router *r;
	router_etcd *f;
	/* probe */
	char ks[ROUTER_NAME_MAX + 1], table[ROUTER_NAME_MAX + 1];
	int64_t id;
	atomic_ullong lookups, failed;
	/* The first failed lookup's error, kept by the prober alone until
	 * it is joined: a count says that something failed, this says why. */
	router_error first_failure;
	atomic_int stop;
	pthread_t prober;
	/* --verdicts */
	pthread_mutex_t mu;
	unsigned verdicts;
	int last_code;
} watcher;

static void *probe_main(void *arg)
{
	watcher *w = arg;
	router_value v = ROUTER_VALUE_INT64(w->id);
	router_route_result res;
	size_t kl = strlen(w->ks), tl = strlen(w->table);

	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		for (int i = 0; i < 1000; i++) {
			/* Counted as failed only when something was in
			 * service before the lookup began: before the first
			 * publish nothing can route.  Reading the version
			 * after the lookup instead would count a lookup that
			 * failed just before the first publish (seen in
			 * make demo-fleet); a version, once nonzero, never
			 * returns to 0. */
			uint64_t before = router_serving_version(w->r);
			router_error e;
			int rc = router_route(w->r, w->ks, kl, w->table, tl, &v,
			                      1, &res, &e);

			if (rc != ROUTER_OK && before != 0 &&
			    atomic_fetch_add_explicit(&w->failed, 1,
			                              memory_order_relaxed) == 0)
				w->first_failure = e;
		}
		atomic_fetch_add_explicit(&w->lookups, 1000,
		                          memory_order_relaxed);
		sched_yield();
	}
	return NULL;
}

/* The probe's line for an event: w's probe key routed now, and the
 * routing threads' counts, in probe[0..cap). */
static void probe_line(watcher *w, char *probe, size_t cap)
{
	router_value v = ROUTER_VALUE_INT64(w->id);
	router_route_result res;
	router_target tg;
	char served[2 * ROUTER_NAME_MAX + 16] = "";
	int prc = router_route_target(w->r, w->ks, strlen(w->ks), w->table,
	                              strlen(w->table), &v, 1, 0, &res, &tg,
	                              NULL);

	/* Where vtgate serves it when a routing rule sends it elsewhere
	 * (mid-MoveTables: "-> 0 served by commerce.corder"). */
	if (prc == ROUTER_OK && tg.rules != 0)
		snprintf(served, sizeof served, " served by %s.%s", tg.keyspace,
		         tg.table);
	snprintf(probe, cap,
	         "%s.%s %" PRId64 " -> %s%s (version %" PRIu64
	         "); %llu lookups, %llu failed",
	         w->ks, w->table, w->id,
	         prc == ROUTER_OK ? res.shard : router_errname(prc), served,
	         prc == ROUTER_OK ? res.version : 0,
	         (unsigned long long)atomic_load(&w->lookups),
	         (unsigned long long)atomic_load(&w->failed));
}

/* Prints event ev of w's follower as one JSON line (with the probe's
 * line when it is not empty). */
static void print_event_json(const watcher *w, const router_etcd_event *ev,
                             const char *probe)
{
	const router_error *e = ev->error;
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s}", "instance",
	                      router_etcd_instance_id(w->f), "event",
	                      router_etcd_event_kind_name(ev->kind), "revision",
	                      (json_int_t)ev->revision, "version",
	                      (json_int_t)ev->version, "code",
	                      router_errname(ev->code));
	char hash[17], *text;

	snprintf(hash, sizeof hash, "%016" PRIx64, ev->content_hash);
	json_object_set_new(o, "hash", json_string(hash));
	if (ev->version > (uint64_t)INT64_MAX) {
		char dec[24]; /* as the status key writes it */

		snprintf(dec, sizeof dec, "%" PRIu64, ev->version);
		json_object_set_new(o, "version", json_string(dec));
	}
	if (e != NULL)
		json_object_set_new(o, "error",
		                    json_pack("{s:s, s:s}", "culprit", e->culprit,
		                              "message", e->message));
	if (ev->kind == ROUTER_ETCD_EVENT_DISCONNECTED)
		json_object_set_new(o, "retry_ms", json_integer(ev->retry_ms));
	if (probe[0])
		json_object_set_new(o, "probe", json_string(probe));
	text = json_dumps(o, JSON_COMPACT);
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(o);
}

/* Prints event ev of w's follower as a sentence (then the probe's line
 * when it is not empty). */
static void print_event_text(const watcher *w, const router_etcd_event *ev,
                             const char *probe)
{
	const router_error *e = ev->error;
	const char *id = router_etcd_instance_id(w->f);

	switch (ev->kind) {
	case ROUTER_ETCD_EVENT_VERDICT:
		if (ev->code == ROUTER_OK)
			printf("%s: revision %" PRId64
			       ": accepted, version %" PRIu64
			       " hash %016" PRIx64 "\n",
			       id, ev->revision, ev->version, ev->content_hash);
		else
			printf("%s: revision %" PRId64
			       ": refused: %s: %s%s%s; version %" PRIu64
			       " stays in service\n",
			       id, ev->revision, router_errname(ev->code),
			       e->culprit, e->culprit[0] ? ": " : "",
			       e->message, ev->version);
		break;
	case ROUTER_ETCD_EVENT_SNAPSHOT:
		if (ev->code == ROUTER_OK)
			printf("%s: started from the snapshot: version "
			       "%" PRIu64 " hash %016" PRIx64 "\n",
			       id, ev->version, ev->content_hash);
		else
			printf("%s: no snapshot in service: %s: %s\n", id,
			       router_errname(ev->code), e->message);
		break;
	case ROUTER_ETCD_EVENT_CONNECTED:
		printf("%s: watching from revision %" PRId64 "\n", id,
		       ev->revision);
		break;
	case ROUTER_ETCD_EVENT_DISCONNECTED:
		printf("%s: etcd failed: %s: %s; retrying in %u ms; "
		       "version %" PRIu64 " stays in service\n",
		       id, e->culprit, e->message, ev->retry_ms, ev->version);
		break;
	case ROUTER_ETCD_EVENT_COMPACTED:
		if (ev->code != ROUTER_OK)
			printf("%s: %s; reading the key again\n", id,
			       e->message);
		else
			printf("%s: revisions up to %" PRId64
			       " were compacted; reading the key again\n",
			       id, ev->revision);
		break;
	case ROUTER_ETCD_EVENT_STALE:
		printf("%s: %s\n", id, e->message);
		break;
	case ROUTER_ETCD_EVENT_LATENT: {
		/* The message starts with "KEY at revision N: " (the
		 * follower's form); the line says it once. */
		const char *m = e->message;
		size_t kl = strlen(e->culprit);
		char lead[ROUTER_CULPRIT_MAX + 48];

		snprintf(lead, sizeof lead, "%s at revision %" PRId64 ": ",
		         e->culprit, ev->revision);
		if (kl > 0 && strncmp(m, lead, strlen(lead)) == 0)
			m += strlen(lead);
		printf("%s: latent: %s at revision %" PRId64 ": %s: %s\n", id,
		       e->culprit, ev->revision, router_errname(ev->code), m);
		break;
	}
	}
	if (probe[0])
		printf("%s:   routing: %s\n", id, probe);
}

/* The follower's event callback (its watcher thread): prints the event
 * (with the probe's routing, --probe) and counts verdicts for --verdicts
 * under w->mu. */
static void on_event(void *arg, const router_etcd_event *ev)
{
	watcher *w = arg;
	char probe[256] = "";

	if (w->c->probe != NULL)
		probe_line(w, probe, sizeof probe);
	if (w->c->json)
		print_event_json(w, ev, probe);
	else
		print_event_text(w, ev, probe);
	fflush(stdout);
	if (ev->kind == ROUTER_ETCD_EVENT_VERDICT) {
		pthread_mutex_lock(&w->mu);
		w->verdicts++;
		w->last_code = ev->code;
		pthread_mutex_unlock(&w->mu);
	}
}

static int parse_probe(ecli *c, watcher *w)
{
	const char *dot = strchr(c->probe, '.'), *eq = strchr(c->probe, '=');
	char *end;

	if (dot == NULL || eq == NULL || eq < dot || dot == c->probe ||
	    eq == dot + 1 || (size_t)(dot - c->probe) > ROUTER_NAME_MAX ||
	    (size_t)(eq - dot - 1) > ROUTER_NAME_MAX)
		return usage(c, "--probe takes KEYSPACE.TABLE=ID, not '%s'",
		             c->probe);
	memcpy(w->ks, c->probe, (size_t)(dot - c->probe));
	w->ks[dot - c->probe] = '\0';
	memcpy(w->table, dot + 1, (size_t)(eq - dot - 1));
	w->table[eq - dot - 1] = '\0';
	errno = 0;
	w->id = strtoll(eq + 1, &end, 10);
	if (*end != '\0' || errno != 0 || eq[1] == '\0')
		return usage(c, "--probe: ID must be a 64-bit integer");
	return 0;
}

static int cmd_watch(ecli *c)
{
	router_etcd_options o = ROUTER_ETCD_OPTIONS_INIT;
	router_doc_options d;
	router_error e;
	watcher w;
	sigset_t set;
	int ret = EXIT_YES, probing = 0;

	memset(&w, 0, sizeof w);
	w.c = c;
	pthread_mutex_init(&w.mu, NULL);
	if (c->probe != NULL && parse_probe(c, &w) != 0)
		return EXIT_USAGE;
	/* Threads started from here on inherit the blocked signals; this
	 * thread takes them with sigtimedwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (router_create(&w.r, NULL, &e) != ROUTER_OK) {
		errorf("%s", e.message);
		return EXIT_USAGE;
	}
	doc_options(c, &d);
	o.endpoints = c->endpoints;
	if (strcmp(c->cmd, "vitess") == 0) {
		o.source = ROUTER_ETCD_SOURCE_VITESS;
		o.vitess_cell = c->cell;
		o.vitess_topo_root = c->topo_root;
		o.vitess_tablet_type = c->tablet_type;
		o.vitess_cell_endpoints = c->cell_endpoints;
	} else {
		o.key = c->key;
	}
	o.status_prefix = c->status_prefix;
	o.instance_id = c->instance;
	o.snapshot_path = c->snapshot;
	if (c->ttl)
		o.lease_ttl_s = c->ttl;
	o.doc = &d;
	o.on_event = on_event;
	o.on_event_arg = &w;
	o.tls_ca_file = c->sec.ca_file;
	o.tls_cert_file = c->sec.cert_file;
	o.tls_key_file = c->sec.key_file;
	o.username = c->sec.username;
	o.password = c->sec.password;
	if (router_etcd_create(&w.f, w.r, &o, &e) != ROUTER_OK) {
		errorf("%s: %s", e.culprit, e.message);
		router_free(w.r);
		return EXIT_USAGE;
	}
	if (!c->json && o.source == ROUTER_ETCD_SOURCE_VITESS)
		printf("%s: following Vitess cell %s (%s tablets) from %s/cells/"
		       "%s/CellInfo at %s; status in %s\n",
		       router_etcd_instance_id(w.f), c->cell,
		       c->tablet_type ? c->tablet_type : "primary",
		       c->topo_root ? c->topo_root : "/vitess/global", c->cell,
		       c->endpoints, router_etcd_status_key(w.f));
	else if (!c->json)
		printf("%s: following %s at %s; status in %s\n",
		       router_etcd_instance_id(w.f), c->key, c->endpoints,
		       router_etcd_status_key(w.f));
	fflush(stdout);
	if (router_etcd_start(w.f, &e) != ROUTER_OK) {
		errorf("%s: %s", e.culprit, e.message);
		router_etcd_free(w.f);
		router_free(w.r);
		return EXIT_USAGE;
	}
	if (c->probe != NULL &&
	    pthread_create(&w.prober, NULL, probe_main, &w) == 0)
		probing = 1;
	for (;;) {
		struct timespec ts = {0, 100000000};
		int sig = sigtimedwait(&set, NULL, &ts);
		unsigned n;

		if (sig == SIGINT || sig == SIGTERM)
			break;
		pthread_mutex_lock(&w.mu);
		n = w.verdicts;
		ret = w.last_code == ROUTER_OK ? EXIT_YES : EXIT_NO;
		pthread_mutex_unlock(&w.mu);
		if (c->verdicts && n >= c->verdicts)
			break;
		if (!c->verdicts)
			ret = EXIT_YES;
	}
	atomic_store(&w.stop, 1);
	if (probing)
		pthread_join(w.prober, NULL);
	router_etcd_free(w.f);
	if (c->probe != NULL && !c->json) {
		printf("stopped: %llu lookups, %llu failed\n",
		       (unsigned long long)atomic_load(&w.lookups),
		       (unsigned long long)atomic_load(&w.failed));
		if (atomic_load(&w.failed) != 0)
			printf("first failed lookup: %s: %s%s%s\n",
			       router_errname(w.first_failure.code),
			       w.first_failure.culprit,
			       w.first_failure.culprit[0] ? ": " : "",
			       w.first_failure.message);
	}
	router_free(w.r);
	pthread_mutex_destroy(&w.mu);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* push                                                                     */
/* ------------------------------------------------------------------------ */

/* The document to push: "-" is standard input, anything else must be a
 * regular file.  O_NONBLOCK keeps a FIFO from blocking the open (waiting
 * for a writer, forever); it is refused unread like every document path
 * (router_doc_load_file, routerctl's inputs), then blocking mode is
 * restored for the read.  On failure errno says why (EINVAL: not a regular
 * file, EFBIG: over ROUTER_DOC_MAX_SIZE). */
static FILE *open_doc(const char *path)
{
	struct stat st;
	int fd, fl;
	FILE *f;

	if (strcmp(path, "-") == 0)
		return stdin;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		int eno = errno;

		close(fd);
		errno = eno;
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > ROUTER_DOC_MAX_SIZE) {
		close(fd);
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		return NULL;
	}
	if ((f = fdopen(fd, "rb")) == NULL) {
		int eno = errno;

		close(fd);
		errno = eno;
	}
	return f;
}

static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = open_doc(path);
	size_t cap = 1 << 16, n = 0;
	char *b;

	if (f == NULL)
		return -1;
	b = malloc(cap);
	while (b != NULL) {
		size_t got = fread(b + n, 1, cap - n, f);

		n += got;
		if (n < cap)
			break;
		if (cap >= ROUTER_DOC_MAX_SIZE) {
			errno = EFBIG;
			free(b);
			b = NULL;
			break;
		}
		cap *= 2;
		{
			char *g = realloc(b, cap);

			if (g == NULL)
				free(b);
			b = g;
		}
	}
	if (b != NULL && ferror(f)) {
		free(b);
		b = NULL;
	}
	if (f != stdin)
		fclose(f);
	if (b == NULL)
		return -1;
	*buf = b;
	*len = n;
	return 0;
}

static json_t *jerr(const router_error *e)
{
	return json_pack("{s:s, s:s, s:s}", "code", router_errname(e->code),
	                 "culprit", e->culprit, "message", e->message);
}

static int push_out(const ecli *c, int ret, const char *verdict,
                    int64_t rev, const router_error *e, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int push_out(const ecli *c, int ret, const char *verdict,
                    int64_t rev, const router_error *e, const char *fmt, ...)
{
	va_list ap;

	if (c->json) {
		json_t *o = json_pack("{s:b, s:s, s:s, s:I}", "ok", ret == 0,
		                      "verdict", verdict, "key", c->key,
		                      "revision", (json_int_t)rev);
		char *text;

		if (e != NULL)
			json_object_set_new(o, "error", jerr(e));
		text = json_dumps(o, JSON_INDENT(2));
		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(o);
	}
	va_start(ap, fmt);
	vfprintf(c->json ? stderr : stdout, fmt, ap);
	va_end(ap);
	return ret;
}

/* The document in service on the followers (kv, at c->key), loaded as
 * they load it (the revision as its version when it has none) into
 * *cur; d: the load options (its version is changed).  A document that
 * does not load leaves *cur NULL, with a warning: NEXT is then checked
 * alone. */
static void push_load_current(const ecli *c, router_doc_options *d,
                              const router__etcd_kv *kv, router_table **cur)
{
	router_error e;
	int rc;

	d->version = 0;
	rc = router_doc_load(kv->value, kv->value_len, d, cur, NULL, &e);
	if (rc == ROUTER_OK && router_table_version(*cur) == 0) {
		router_table_free(*cur);
		d->version = (uint64_t)kv->mod_revision;
		rc = router_doc_load(kv->value, kv->value_len, d, cur, NULL,
		                     &e);
	}
	if (rc != ROUTER_OK)
		fprintf(stderr,
		        "routerctl: warning: the document at %s (revision "
		        "%" PRId64 ") is invalid (%s: %s); checking %s "
		        "alone\n",
		        c->key, kv->mod_revision, router_errname(rc), e.message,
		        c->doc);
}

/* Puts *cur (the document at revision kv->mod_revision) in service in a
 * new router *r (*cur: NULL once the router owns it) and dry-runs
 * publishing next after it, as the followers will (key_rev: the key's
 * revision now, which a refusal leaves in place).  Returns 0 when they
 * would accept it, else push_out's exit status for the refusal. */
static int push_check(ecli *c, router **r, router_table **cur,
                      router_table *next, const router__etcd_kv *kv,
                      int64_t key_rev)
{
	unsigned flags = ROUTER_PUBLISH_DRY_RUN;
	router_error e;
	int rc;

	if (router_create(r, NULL, &e) != ROUTER_OK ||
	    router_publish(*r, *cur, 0, NULL, &e) != ROUTER_OK)
		return push_out(c, EXIT_NO, "refuse", kv->mod_revision, &e,
		                "refused: the document at %s (revision %" PRId64
		                ") could not be in service itself: %s: %s\n",
		                c->key, kv->mod_revision,
		                router_errname(e.code), e.message);
	*cur = NULL; /* the router's */
	if (c->destructive)
		flags |= ROUTER_PUBLISH_DESTRUCTIVE;
	rc = router_publish(*r, next, flags, NULL, &e);
	if (rc != ROUTER_OK)
		return push_out(c, EXIT_NO, "refuse", kv->mod_revision, &e,
		                "refused: %s: %s%s%s\nnothing written; %s "
		                "stays at revision %" PRId64 "\n",
		                router_errname(rc), e.culprit,
		                e.culprit[0] ? ": " : "", e.message, c->key,
		                key_rev);
	return 0;
}

/* Writes text[0..len) to c->key if it is still at revision prev (0: the
 * key was absent); checked: the revision NEXT was checked against.
 * Returns push_out's exit status (pushed, or raced), or EXIT_USAGE when
 * etcd failed. */
static int push_write(ecli *c, router__etcd *conn, const char *text,
                      size_t len, int64_t prev, int64_t checked)
{
	router_error e;
	int64_t rev = 0;
	int ok = 0, rc;

	rc = router__etcd_put_if(conn, c->key, strlen(c->key), text, len, prev,
	                         &ok, &rev, &e);
	if (rc != ROUTER_OK) {
		errorf("%s: %s", e.culprit, e.message);
		return EXIT_USAGE;
	}
	if (!ok)
		return push_out(c, EXIT_NO, "raced", rev, NULL,
		                "not written: %s changed since revision %" PRId64
		                " was read; run push again\n",
		                c->key, prev);
	return push_out(c, EXIT_YES, "pushed", rev, NULL,
	                "pushed: %s revision %" PRId64 " (checked against "
	                "revision %" PRId64 "%s)\n",
	                c->key, rev, checked,
	                checked != prev ? ", the one the followers serve" : "");
}

static int read_fleet(const ecli *c, router__etcd *conn, json_t **members,
                      int64_t *doc_rev, router_error *e);

/* The revision the followers serve instead of the key's current one, or
 * 0.  When every follower of the key (its status keys, at least one)
 * refused the current revision and all serve one same earlier revision,
 * that one is what is in service, and what NEXT must be checked against
 * (the key holds a document nobody serves: checking against it would
 * refuse the repair, e.g. the good document after the January 2026
 * empty one).  Anything less clear (no status, members that disagree):
 * 0, the key's document is the baseline, as before. */
static int64_t push_served_revision(const ecli *c, router__etcd *conn,
                                    int64_t cur_rev, size_t *nmembers)
{
	json_t *m = NULL, *o;
	int64_t doc_rev = 0, served = 0;
	router_error e;
	size_t i;

	*nmembers = 0;
	if (read_fleet(c, conn, &m, &doc_rev, &e) != ROUTER_OK)
		return 0;
	json_array_foreach(m, i, o)
	{
		const json_t *ref = json_object_get(o, "refusal");
		int64_t applied = (int64_t)json_integer_value(
		    json_object_get(o, "revision_applied"));

		if (!json_is_object(ref) ||
		    json_integer_value(json_object_get(ref, "revision")) !=
		        cur_rev ||
		    applied <= 0 || applied >= cur_rev ||
		    (served != 0 && applied != served)) {
			served = 0;
			break;
		}
		served = applied;
	}
	*nmembers = json_array_size(m);
	json_decref(m);
	return *nmembers > 0 ? served : 0;
}

/* push DOC: DOC checked against the document at the key, as the
 * followers would check it (or against the revision they serve, when
 * they all refused the key's: push_served_revision), then written if the
 * key did not change. */
static int cmd_push(ecli *c)
{
	router_doc_options d;
	router__etcd *conn = NULL;
	router__etcd_kv kv, skv;
	router_table *cur = NULL, *next = NULL;
	router *r = NULL;
	router_error e;
	char *text = NULL;
	size_t len;
	int found = 0, rc, ret;
	int64_t rev = 0;

	memset(&kv, 0, sizeof kv);
	memset(&skv, 0, sizeof skv);
	if (c->doc == NULL)
		return usage(c, "missing DOC");
	if (read_file(c->doc, &text, &len) != 0) {
		errorf("%s: cannot read: %s", c->doc,
		       errno == EINVAL ? "not a regular file (a FIFO or a "
		                         "device; give its content on "
		                         "standard input as -)"
		                       : strerror(errno));
		return EXIT_USAGE;
	}
	doc_options(c, &d);
	rc = router_doc_load(text, len, &d, &next, NULL, &e);
	if (rc != ROUTER_OK) {
		ret = push_out(c, EXIT_NO, "invalid", 0, &e,
		               "refused: %s is invalid: %s: %s%s%s; nothing "
		               "written\n",
		               c->doc, router_errname(rc), e.culprit,
		               e.culprit[0] ? ": " : "", e.message);
		goto out;
	}
	if ((rc = router__etcd_open_with(&conn, c->endpoints, 5000, &c->sec,
	                                 &e)) != 0 ||
	    (rc = router__etcd_get(conn, c->key, strlen(c->key), &kv, &found,
	                           &rev, &e)) != 0) {
		errorf("%s: %s", e.culprit, e.message);
		ret = EXIT_USAGE;
		goto out;
	}
	if (found) {
		size_t nm = 0;
		int64_t served = push_served_revision(c, conn, kv.mod_revision,
		                                      &nm);
		int sfound = 0;

		if (served > 0 &&
		    router__etcd_get_at(conn, c->key, strlen(c->key), served,
		                        &skv, &sfound, &e) == ROUTER_OK &&
		    sfound) {
			fprintf(c->json ? stderr : stdout,
			        "the document at revision %" PRId64 " was refused "
			        "by all %zu followers, which serve revision %" PRId64
			        ": checking against that one\n",
			        kv.mod_revision, nm, served);
			push_load_current(c, &d, &skv, &cur);
		} else {
			push_load_current(c, &d, &kv, &cur);
		}
	}
	if (cur != NULL &&
	    (ret = push_check(c, &r, &cur, next, skv.key ? &skv : &kv,
	                      kv.mod_revision)) != 0)
		goto out;
	ret = push_write(c, conn, text, len, found ? kv.mod_revision : 0,
	                 skv.key ? skv.mod_revision
	                         : (found ? kv.mod_revision : 0));
out:
	router__etcd_kv_clear(&skv);
	router_table_free(cur);
	router_table_free(next); /* a dry run leaves it ours */
	router_free(r);
	router__etcd_kv_clear(&kv);
	router__etcd_close(conn);
	free(text);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* fleet                                                                    */
/* ------------------------------------------------------------------------ */

static double now_unix_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t jint(const json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

/* A member's version: a JSON integer, or above INT64_MAX its decimal
 * string (router_etcd's status key). */
static uint64_t jver(const json_t *o)
{
	const json_t *v = json_object_get(o, "version");

	if (json_is_string(v))
		return strtoull(json_string_value(v), NULL, 10);
	return (uint64_t)json_integer_value(v);
}

static const char *jstr(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : dflt;
}

static int vitess_connect(const ecli *c, const char *groot, router__etcd **g,
                          router__etcd **cc, char **root, router_error *e);

/* vitess fleet: 1 (the fleet of a Vitess cell), else 0. */
static int vitess_fleet(const ecli *c)
{
	return strcmp(c->cmd, "vitess") == 0;
}

/* The cell's current state as a reader of the topo sees it: the largest
 * mod revision among CELL_ROOT/SrvVSchema and the
 * CELL_ROOT/keyspaces/KS/SrvKeyspace keys (what a follower's version is
 * built from; docs/vitess.md, "Fleet").  0 when none exists. */
static int vitess_reference(const ecli *c, int64_t *ref, router_error *e)
{
	const char *groot = c->topo_root != NULL ? c->topo_root : "/vitess/global";
	router__etcd *g = NULL, *cc = NULL;
	router__etcd_kv *kvs = NULL;
	char *root = NULL, *prefix = NULL, *vkey = NULL, *ksdir = NULL;
	size_t n = 0, rl;
	int rc;

	*ref = 0;
	rc = vitess_connect(c, groot, &g, &cc, &root, e);
	if (rc == ROUTER_OK) {
		rl = strlen(root);
		while (rl > 0 && root[rl - 1] == '/')
			rl--;
		if (asprintf(&prefix, "%.*s/", (int)rl, root) < 0)
			prefix = NULL;
		if (asprintf(&vkey, "%.*s/SrvVSchema", (int)rl, root) < 0)
			vkey = NULL;
		if (asprintf(&ksdir, "%.*s/keyspaces/", (int)rl, root) < 0)
			ksdir = NULL;
		if (prefix == NULL || vkey == NULL || ksdir == NULL)
			rc = router__seterr(e, ROUTER_ENOMEM, NULL,
			                    "out of memory");
	}
	if (rc == ROUTER_OK)
		rc = router__etcd_get_prefix(cc != NULL ? cc : g, prefix, &kvs,
		                             &n, NULL, e);
	for (size_t i = 0; rc == ROUTER_OK && i < n; i++) {
		static const char tail[] = "/SrvKeyspace";
		const char *k = kvs[i].key;
		size_t kl = kvs[i].key_len, dl = strlen(ksdir);
		size_t tl = sizeof tail - 1;
		int kept = kl == strlen(vkey) && memcmp(k, vkey, kl) == 0;

		if (!kept && kl > dl + tl && memcmp(k, ksdir, dl) == 0 &&
		    memcmp(k + kl - tl, tail, tl) == 0 &&
		    memchr(k + dl, '/', kl - dl - tl) == NULL)
			kept = 1;
		if (kept && kvs[i].mod_revision > *ref)
			*ref = kvs[i].mod_revision;
	}
	router__etcd_kvs_free(kvs, n);
	free(prefix);
	free(vkey);
	free(ksdir);
	free(root);
	router__etcd_close(cc);
	router__etcd_close(g);
	return rc;
}

/* Whether member o serves the state at revision ref.  The document
 * source: it applied that very revision.  A Vitess cell: it has seen the
 * cell at ref or later, its version (the largest mod revision of the
 * values it built from, raised by the deletes it applied) is at least
 * ref, and nothing it saw since was refused. */
static int member_serves(const ecli *c, const json_t *o, int64_t ref)
{
	const json_t *r = json_object_get(o, "refusal");

	if (ref == 0)
		return 0;
	if (!vitess_fleet(c))
		return jint(o, "revision_applied") == ref;
	return jint(o, "revision_seen") >= ref && jver(o) >= (uint64_t)ref &&
	       !(json_is_object(r) &&
	         jint(r, "revision") > jint(o, "revision_applied"));
}

/* Read the status keys and the document key's revision (a Vitess cell:
 * vitess_reference). */
static int read_fleet(const ecli *c, router__etcd *conn, json_t **members,
                      int64_t *doc_rev, router_error *e)
{
	char prefix[1024];
	router__etcd_kv *kvs = NULL, kv;
	size_t n = 0;
	int found, rc;
	int64_t hrev;

	if (c->status_prefix)
		snprintf(prefix, sizeof prefix, "%s", c->status_prefix);
	else if (vitess_fleet(c))
		snprintf(prefix, sizeof prefix, "/librouter/status/vitess/%s/",
		         c->cell);
	else
		router_etcd_default_status_prefix(c->key, prefix, sizeof prefix);
	if (vitess_fleet(c)) {
		if ((rc = vitess_reference(c, doc_rev, e)) != ROUTER_OK)
			return rc;
	} else {
		if ((rc = router__etcd_get(conn, c->key, strlen(c->key), &kv,
		                           &found, &hrev, e)) != 0)
			return rc;
		*doc_rev = found ? kv.mod_revision : 0;
		router__etcd_kv_clear(&kv);
	}
	if ((rc = router__etcd_get_prefix(conn, prefix, &kvs, &n, NULL, e)) !=
	    0)
		return rc;
	*members = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_loadb(kvs[i].value, kvs[i].value_len, 0, NULL);

		if (!json_is_object(o)) {
			/* Not ours or corrupt: show it, do not fail. */
			json_decref(o);
			o = json_pack("{s:s#, s:s}", "instance", kvs[i].key,
			              (int)kvs[i].key_len, "state",
			              "unreadable");
		}
		json_array_append_new(*members, o);
	}
	router__etcd_kvs_free(kvs, n);
	return ROUTER_OK;
}

/* Reads the fleet into *m (its status keys) and *doc_rev (the document
 * key's revision), again every 100 ms while --wait lasts, until every
 * member follows and has seen that revision, and there are --expect
 * of them.  Returns 0, or EXIT_USAGE after saying why etcd failed. */
static int fleet_wait(const ecli *c, router__etcd *conn, json_t **m,
                      int64_t *doc_rev)
{
	router_error e;
	double t0 = now_s();
	json_t *o;
	size_t i;

	for (;;) {
		size_t seen = 0;

		json_decref(*m);
		*m = NULL;
		if (read_fleet(c, conn, m, doc_rev, &e) != ROUTER_OK) {
			errorf("%s: %s", e.culprit, e.message);
			return EXIT_USAGE;
		}
		json_array_foreach(*m, i, o) seen +=
		    jint(o, "revision_seen") >= *doc_rev &&
		    strcmp(jstr(o, "state", ""), "following") == 0;
		if (c->wait_s <= 0 ||
		    (seen == json_array_size(*m) &&
		     (long)json_array_size(*m) >= c->expect) ||
		    now_s() - t0 > c->wait_s)
			return 0;
		struct timespec ts = {0, 100000000};
		nanosleep(&ts, NULL);
	}
}

/* One member's row of the fleet table (status o), and its "stuck" line
 * when it is stuck. */
static void print_member(const json_t *o)
{
	const json_t *ref = json_object_get(o, "refusal");
	char refusal[512] = "-";
	const char *st = jstr(o, "state", "?");
	char state[32];

	/* The last refusal, with how long ago it was, until the member has
	 * applied a later revision: then it has recovered and the column is
	 * cleared (the status key keeps the refusal for --json). */
	if (json_is_object(ref) &&
	    jint(ref, "revision") > jint(o, "revision_applied")) {
		int64_t at = jint(ref, "at_unix_ms");
		double ago = now_unix_s() - (double)at / 1e3;
		char when[48] = "";

		if (at > 0)
			snprintf(when, sizeof when, " (%.0f s ago)",
			         ago > 0 ? ago : 0);
		snprintf(refusal, sizeof refusal,
		         "revision %" PRId64 "%s: %s: %s%s%s",
		         jint(ref, "revision"), when, jstr(ref, "code", "?"),
		         jstr(ref, "culprit", ""),
		         jstr(ref, "culprit", "")[0] ? ": " : "",
		         jstr(ref, "message", ""));
	}
	snprintf(state, sizeof state, "%s%s", st,
	         json_is_true(json_object_get(o, "from_snapshot")) ? "*" : "");
	printf("%-16s %-10s %8" PRIu64 " %-16s %6" PRId64 " %7" PRId64
	       " %6zu  %s\n",
	       jstr(o, "instance", "?"), state, jver(o), jstr(o, "hash", "-"),
	       jint(o, "revision_seen"), jint(o, "revision_applied"),
	       json_array_size(json_object_get(o, "latent")), refusal);
	/* Each latent finding (Vitess members): which global key, at which
	 * revision, what would break. */
	{
		const json_t *l;
		size_t j;

		json_array_foreach(json_object_get(o, "latent"), j, l)
			printf("%-16s latent: %s at revision %" PRId64 ": %s: %s\n",
			       "", jstr(l, "key", "?"), jint(l, "mod_revision"),
			       jstr(l, "code", "?"), jstr(l, "message", ""));
	}
	if (json_is_object(json_object_get(o, "stuck"))) {
		const json_t *sk = json_object_get(o, "stuck");
		int64_t since = jint(sk, "since_unix_ms");
		double ago = now_unix_s() - (double)since / 1e3;

		printf("%-16s stuck at revision %" PRId64
		       " for %.0f s (%" PRId64 " retries): %s\n",
		       "", jint(sk, "revision"), ago > 0 ? ago : 0,
		       jint(sk, "retries"), jstr(sk, "reason", "?"));
	}
}

/* fleet's answer: the members m (serving of them serve the document at
 * doc_rev; ret: the exit status that says so), as JSON or a table. */
static void print_fleet(const ecli *c, json_t *m, int64_t doc_rev,
                        size_t serving, int ret)
{
	json_t *o;
	size_t i;

	char label[600];

	if (vitess_fleet(c))
		snprintf(label, sizeof label, "cell %s", c->cell);
	else
		snprintf(label, sizeof label, "%s", c->key);
	if (c->json) {
		json_t *out = json_pack("{s:b, s:s, s:I, s:I, s:O}", "ok",
		                        ret == 0, "key", label, "revision",
		                        (json_int_t)doc_rev, "serving",
		                        (json_int_t)serving, "members", m);
		char *text;

		if (vitess_fleet(c))
			json_object_set_new(out, "cell", json_string(c->cell));
		text = json_dumps(out, JSON_INDENT(2));
		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(out);
		return;
	}
	printf("%s at revision %" PRId64 ": %zu of %zu members serve it\n",
	       label, doc_rev, serving, json_array_size(m));
	printf("%-16s %-10s %8s %-16s %6s %7s %6s  %s\n", "INSTANCE", "STATE",
	       "VERSION", "HASH", "SEEN", "APPLIED", "LATENT", "LAST REFUSAL");
	json_array_foreach(m, i, o) print_member(o);
}

/* fleet: every member's status (after waiting, --wait); exits 0 when
 * all of them (at least --expect) serve the document at the key. */
static int cmd_fleet(ecli *c)
{
	router__etcd *conn = NULL;
	router_error e;
	json_t *m = NULL, *o;
	int64_t doc_rev = 0;
	size_t i, serving = 0;
	int ret;

	if (router__etcd_open_with(&conn, c->endpoints, 5000, &c->sec, &e) !=
	    0) {
		errorf("%s: %s", e.culprit, e.message);
		return EXIT_USAGE;
	}
	ret = fleet_wait(c, conn, &m, &doc_rev);
	router__etcd_close(conn);
	if (ret != 0)
		return ret;
	json_array_foreach(m, i, o) serving += member_serves(c, o, doc_rev);
	ret = serving == json_array_size(m) && json_array_size(m) > 0 &&
	              (long)json_array_size(m) >= c->expect
	          ? EXIT_YES
	          : EXIT_NO;
	print_fleet(c, m, doc_rev, serving, ret);
	json_decref(m);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* vitess dump, vitess check                                                */
/* ------------------------------------------------------------------------ */

/* Connects to the global topo (*g) and, through the cell's CellInfo, to
 * the cell's (*cc, NULL when it is the global one); *root the cell's
 * root (malloc'd).  Returns ROUTER_OK or the failure, e saying why. */
static int vitess_connect(const ecli *c, const char *groot, router__etcd **g,
                          router__etcd **cc, char **root, router_error *e)
{
	char *addr = NULL;
	int rc;

	*g = *cc = NULL;
	*root = NULL;
	if ((rc = router__etcd_open_with(g, c->endpoints, 5000, &c->sec,
	                                 e)) != ROUTER_OK) {
		char m[ROUTER_MESSAGE_MAX + 256];

		snprintf(m, sizeof m, "%.200s: %s", c->endpoints, e->message);
		memcpy(e->message, m, sizeof e->message - 1);
		e->message[sizeof e->message - 1] = '\0';
		return ROUTER_EIO;
	}
	rc = router__vitess_read_cell_info(*g, groot, c->cell, root, &addr, e);
	/* The cell's topo is where its CellInfo says (as vtgate dials it),
	 * unless --cell-endpoints says otherwise; an empty server_address
	 * means the global topo's etcd. */
	if (rc == ROUTER_OK) {
		char *eps = c->cell_endpoints != NULL
		                ? strdup(c->cell_endpoints)
		                : router__vitess_cell_endpoints(
		                      addr, c->sec.ca_file != NULL ||
		                                c->sec.cert_file != NULL);

		if (eps != NULL) {
			rc = router__etcd_open_with(cc, eps, 5000, &c->sec, e);
			if (rc != ROUTER_OK)
				rc = ROUTER_EIO;
			free(eps);
		}
	}
	free(addr);
	return rc;
}

/* The topo could not be reached: 2; it answered with something that does
 * not route: 1. */
static int vitess_exit(int rc)
{
	return rc == ROUTER_EIO || rc == ROUTER_ENOMEM ? EXIT_USAGE : EXIT_NO;
}

static int vitess_dump(ecli *c, router__etcd *cell, const char *root,
                       router__vitess_tablet tt)
{
	router__vitess_built b;
	router_error e;
	char *text = NULL;
	int rc, ret;
	size_t i;

	rc = router__vitess_read_cell(cell, root, tt, &b, &e);
	for (i = 0; i < b.notes.n; i++)
		errorf("warning: %s", b.notes.msg[i]);
	for (i = 0; i < router_doc_report_count(b.report, 0); i++) {
		const router_doc_note *n = router_doc_report_get(b.report, i);

		if (n->kind != ROUTER_DOC_NOTE_ERROR &&
		    n->kind != ROUTER_DOC_NOTE_IGNORED)
			errorf("warning: %s: %s", n->path, n->error.message);
	}
	if (rc == ROUTER_OK)
		rc = router_doc_dump(b.table, NULL,
		                     c->compact ? ROUTER_DOC_DUMP_COMPACT : 0, NULL,
		                     &text, NULL, &e);
	if (rc == ROUTER_OK) {
		fputs(text, stdout);
		fputc('\n', stdout);
		ret = EXIT_YES;
	} else {
		errorf("%s (%s)", e.message, router_errname(rc));
		ret = vitess_exit(rc);
	}
	free(text);
	router__vitess_built_clear(&b);
	return ret;
}

/* One finding of vitess check, printed as a line or kept for --json. */
static void check_finding(const ecli *c, json_t *all, const char *kind,
                          const char *key, int64_t rev, const char *ks,
                          int code, const char *msg,
                          const router__vitess_finding *f)
{
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "kind",
		                      kind, "key", key, "mod_revision",
		                      (json_int_t)rev, "keyspace", ks, "code",
		                      router_errname(code), "message", msg);

		if (f != NULL && o != NULL) {
			json_object_set_new(o, "deleted", json_boolean(f->deleted));
			json_object_set_new(o, "tables_lost",
			                    json_integer((json_int_t)f->tables_lost));
			json_object_set_new(
			    o, "vindexes_lost",
			    json_integer((json_int_t)f->vindexes_lost));
		}
		json_array_append_new(all, o);
	} else {
		printf("%s %s mod_revision=%" PRId64 " keyspace=%s %s: %s\n",
		       kind, key, rev, ks[0] ? ks : "-", router_errname(code),
		       msg);
	}
}

/* The served-side finding for a cell whose values do not make a table
 * (rc, e): the key at fault is the one the message starts with (every
 * build error names its key first), else the SrvVSchema. */
static void check_served(const ecli *c, json_t *all,
                         const router__vitess_cell_values *v,
                         const char *root, int rc, const router_error *e)
{
	char key[ROUTER__VITESS_KEY_MAX];
	const char *colon = strstr(e->message, ": ");
	const char *ks = "";
	int64_t rev = v->srv_vschema.mod_revision;
	size_t i;

	snprintf(key, sizeof key, "%s/SrvVSchema", root);
	if (e->message[0] == '/' && colon != NULL &&
	    (size_t)(colon - e->message) < sizeof key) {
		memcpy(key, e->message, (size_t)(colon - e->message));
		key[colon - e->message] = '\0';
	}
	for (i = 0; i < v->nkvs; i++)
		if (strcmp(v->kvs[i].key, key) == 0)
			rev = v->kvs[i].mod_revision;
	for (i = 0; i < v->nnames; i++)
		if (strcmp(v->names[i], e->culprit) == 0)
			ks = v->names[i];
	check_finding(c, all, "served", key, rev, ks, rc, e->message, NULL);
}

/* Judge one global value against the cell (a latent finding when the
 * rebuild would be refused).  Returns 0, or EXIT_USAGE when it could not
 * be judged (out of memory). */
static int check_latent(const ecli *c, json_t *all,
                        const router__vitess_cell_values *v,
                        const char *groot, const char *key, size_t key_len,
                        const void *val, size_t len, int64_t rev,
                        int deleted, size_t *nfound)
{
	router__vitess_global_value gv;
	router__vitess_finding f;
	router_error e;
	int rc;

	memset(&gv, 0, sizeof gv);
	gv.global_root = groot;
	gv.key = key;
	gv.key_len = key_len;
	gv.value = val;
	gv.len = len;
	gv.mod_revision = rev;
	gv.deleted = deleted;
	rc = router__vitess_latent_judge(&v->in, &gv, -1, &f, &e);
	if (rc != ROUTER_OK) {
		errorf("%.*s: not judged: %s (%s)", (int)key_len, key, e.message,
		       router_errname(rc));
		return EXIT_USAGE;
	}
	if (f.code != ROUTER_OK) {
		(*nfound)++;
		check_finding(c, all, "latent", f.key, f.mod_revision,
		              f.keyspace, f.code, f.message, &f);
	}
	return 0;
}

/* The latent half of vitess check: every global value read, then the
 * keyspaces the cell serves whose global VSchema is missing and the
 * rules keys that are missing (judged as deleted: what a rebuild makes of
 * them).  *judged: how many.  Returns 0 or EXIT_USAGE. */
static int check_globals(const ecli *c, json_t *all,
                         const router__vitess_cell_values *v,
                         const char *groot, const router__etcd_kv *kvs,
                         size_t n, size_t *judged, size_t *nfound)
{
	char ks[ROUTER_NAME_MAX + 1], key[ROUTER__VITESS_KEY_MAX];
	size_t i, j;
	int ret, r;

	for (i = 0; i < n; i++) {
		ret = check_latent(c, all, v, groot, kvs[i].key, kvs[i].key_len,
		                   kvs[i].value, kvs[i].value_len,
		                   kvs[i].mod_revision, 0, nfound);
		if (ret != 0)
			return ret;
		(*judged)++;
	}
	for (i = 0; i < v->nnames; i++) {
		int have = 0;
		size_t gl = strlen(groot);

		while (gl > 0 && groot[gl - 1] == '/')
			gl--;
		for (j = 0; j < n && !have; j++)
			have = router__vitess_global_key(groot, kvs[j].key,
			                                 kvs[j].key_len, ks) ==
			           ROUTER__VITESS_GLOBAL_VSCHEMA &&
			       strcmp(ks, v->names[i]) == 0;
		if (have)
			continue;
		snprintf(key, sizeof key, "%.*s/keyspaces/%s/VSchema", (int)gl,
		         groot, v->names[i]);
		ret = check_latent(c, all, v, groot, key, strlen(key), NULL, 0, 0,
		                   1, nfound);
		if (ret != 0)
			return ret;
		(*judged)++;
	}
	/* A missing rules key: the rebuild writes no rules of that kind
	 * (harmless unless the cell serves some). */
	for (r = ROUTER__VITESS_GLOBAL_ROUTING_RULES;
	     r <= ROUTER__VITESS_GLOBAL_MIRROR_RULES; r++) {
		size_t gl = strlen(groot);
		int have = 0;

		while (gl > 0 && groot[gl - 1] == '/')
			gl--;
		for (j = 0; j < n && !have; j++)
			have = router__vitess_global_key(groot, kvs[j].key,
			                                 kvs[j].key_len, NULL) ==
			       (router__vitess_global)r;
		if (have)
			continue;
		snprintf(key, sizeof key, "%.*s%s", (int)gl, groot,
		         router__vitess_global_path((router__vitess_global)r));
		ret = check_latent(c, all, v, groot, key, strlen(key), NULL, 0, 0,
		                   1, nfound);
		if (ret != 0)
			return ret;
		(*judged)++;
	}
	return 0;
}

static int vitess_check(ecli *c, router__etcd *g, router__etcd *cell,
                        const char *groot, const char *root,
                        router__vitess_tablet tt)
{
	router__vitess_cell_values v;
	router__etcd_kv *kvs = NULL;
	json_t *all = json_array();
	router_error e;
	uint64_t version = 0;
	size_t n = 0, judged = 0, nfound = 0;
	int rc, ret = 0, served_ok = 0;

	if (all == NULL) {
		errorf("out of memory");
		return EXIT_USAGE;
	}
	rc = router__vitess_read_cell_values(cell, root, tt, &v, &e);
	if (rc == ROUTER_EIO || rc == ROUTER_ENOMEM || rc == ROUTER_ESTATE) {
		errorf("%s (%s)", e.message, router_errname(rc));
		json_decref(all);
		return EXIT_USAGE;
	}
	if (rc == ROUTER_OK)
		rc = router__vitess_latent_served(&v.in, -1, &version, &e);
	if (rc == ROUTER_ENOMEM) {
		errorf("%s", e.message);
		ret = EXIT_USAGE;
		goto out;
	}
	if (rc != ROUTER_OK) {
		check_served(c, all, &v, root, rc, &e);
		nfound++;
	} else {
		served_ok = 1;
	}
	rc = router__vitess_read_global(g, groot, &kvs, &n, &e);
	if (rc != ROUTER_OK) {
		errorf("%s (%s)", e.message, router_errname(rc));
		ret = EXIT_USAGE;
		goto out;
	}
	/* Nothing latent can be judged against a cell that serves no
	 * table: the served-side finding says what to repair first. */
	if (served_ok)
		ret = check_globals(c, all, &v, groot, kvs, n, &judged, &nfound);
	else
		errorf("the %zu global values were not judged: the cell serves "
		       "no table to judge them against",
		       n);
	if (ret != 0)
		goto out;
	ret = nfound > 0 ? EXIT_NO : EXIT_YES;
	if (c->json) {
		json_t *o = json_pack("{s:b, s:s, s:I, s:I, s:O}", "ok",
		                      nfound == 0, "cell", c->cell, "version",
		                      (json_int_t)version, "judged",
		                      (json_int_t)judged, "findings", all);
		char *text = o != NULL ? json_dumps(o, JSON_INDENT(2)) : NULL;

		if (text == NULL) {
			errorf("out of memory");
			ret = EXIT_USAGE;
		} else {
			printf("%s\n", text);
		}
		free(text);
		json_decref(o);
	} else if (nfound == 0) {
		printf("ok: cell %s serves version %" PRIu64 " (%zu keyspaces); "
		       "%zu global values judged, nothing latent\n",
		       c->cell, version, v.nnames, judged);
	}
out:
	router__etcd_kvs_free(kvs, n);
	router__vitess_cell_values_clear(&v);
	json_decref(all);
	return ret;
}

static int cmd_vitess(ecli *c)
{
	router__vitess_tablet tt = ROUTER__VITESS_PRIMARY;
	router__etcd *g = NULL, *cc = NULL;
	router_error e;
	char *root = NULL;
	const char *groot = c->topo_root != NULL ? c->topo_root : "/vitess/global";
	int rc, ret, check, watch;

	if (c->doc == NULL || (strcmp(c->doc, "dump") != 0 &&
	                       strcmp(c->doc, "check") != 0 &&
	                       strcmp(c->doc, "watch") != 0 &&
	                       strcmp(c->doc, "fleet") != 0))
		return usage(c, "vitess commands: dump, check, watch, fleet: "
		                "routerctl vitess dump|check|watch|fleet --cell "
		                "CELL");
	check = strcmp(c->doc, "check") == 0;
	watch = strcmp(c->doc, "watch") == 0;
	if (c->cell == NULL || c->cell[0] == '\0')
		return usage(c, "--cell CELL is required");
	if (strcmp(c->doc, "fleet") == 0) {
		if (c->instance || c->snapshot || c->probe || c->ttl ||
		    c->verdicts || c->compact || c->tablet_type)
			return usage(c, "vitess fleet takes --cell, --topo-root, "
			                "--cell-endpoints, --status-prefix, "
			                "--wait, --expect and --json");
		return cmd_fleet(c);
	}
	if (c->wait_s > 0 || c->expect > 0)
		return usage(c, "--wait and --expect are for vitess fleet");
	if (c->compact && (check || watch))
		return usage(c, "--compact is for vitess dump");
	if (watch)
		return cmd_watch(c);
	if (c->watch_opts)
		return usage(c, "--status-prefix, --instance, --snapshot, "
		                "--probe, --ttl and --verdicts are options of "
		                "vitess watch");
	if (c->json && !check)
		return usage(c, "--json is for vitess check and vitess watch");
	if (c->tablet_type != NULL &&
	    router__vitess_tablet_parse(c->tablet_type, &tt) != 0)
		return usage(c, "--tablet-type takes primary, replica or rdonly");
	rc = vitess_connect(c, groot, &g, &cc, &root, &e);
	if (rc != ROUTER_OK) {
		errorf("%s (%s)", e.message, router_errname(rc));
		ret = vitess_exit(rc);
	} else if (check) {
		ret = vitess_check(c, g, cc != NULL ? cc : g, groot, root, tt);
	} else {
		ret = vitess_dump(c, cc != NULL ? cc : g, root, tt);
	}
	free(root);
	router__etcd_close(cc);
	router__etcd_close(g);
	return ret;
}

int routerctl_etcd_main(int argc, char **argv)
{
	ecli c;
	int help = 0, ret;

	memset(&c, 0, sizeof c);
	c.cmd = argv[0];
	ret = parse(&c, argc, argv, &help);
	if (ret == 0 && help) {
		ret = routerctl_print_help(c.cmd);
	} else if (ret == 0) {
		if (strcmp(c.cmd, "watch") == 0)
			ret = cmd_watch(&c);
		else if (strcmp(c.cmd, "push") == 0)
			ret = cmd_push(&c);
		else if (strcmp(c.cmd, "vitess") == 0)
			ret = cmd_vitess(&c);
		else
			ret = cmd_fleet(&c);
	}
	for (size_t i = 0; i < c.nshards; i++)
		free(c.shard_store[i]);
	free(c.user_buf);
	if (c.pass_buf != NULL) {
		explicit_bzero(c.pass_buf, strlen(c.pass_buf));
		free(c.pass_buf);
	}
	return ret;
}
