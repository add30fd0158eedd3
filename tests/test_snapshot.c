/*
 * Last-known-good snapshots: round trip, every truncation and every bit
 * flip refused, a leftover temporary file ignored, automatic saves after
 * publishes and rollbacks, I/O and allocation failures, and the incident's
 * second act (a restart during the bad period comes back from its
 * snapshot).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "router.h"
#include "router_doc.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

static char g_dir[64];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof g_dir, "/tmp/router-snap-XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	return 0;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *in_dir(const char *name)
{
	static char path[3][128];
	static int i;

	i = (i + 1) % 3;
	snprintf(path[i], sizeof path[i], "%s/%s", g_dir, name);
	return path[i];
}

/* "user": nshards even shards (xxhash on id) with tables users, orders;
 * "commerce": unsharded with product. */
static router_table *doc_table(unsigned nshards, uint64_t version,
                               const router_allocator *a)
{
	char json[2048], shards[512] = "";
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;
	router_table *t = NULL;
	router_error e;
	size_t off = 0;
	unsigned i;

	for (i = 0; i < nshards; i++) {
		char name[16];

		router_shard_range_name(i, nshards, name, sizeof name);
		off += (size_t)snprintf(shards + off, sizeof shards - off,
		                        "%s\"%s\"", i ? "," : "", name);
	}
	snprintf(json, sizeof json,
	         "{\"version\": %llu, \"keyspaces\": {"
	         "\"user\": {\"sharded\": true, \"shards\": [%s],"
	         " \"vindexes\": {\"xx\": {\"type\": \"xxhash\"}},"
	         " \"tables\": {\"users\": {\"column_vindexes\": "
	         "[{\"column\": \"id\", \"name\": \"xx\"}]},"
	         " \"orders\": {\"column_vindexes\": "
	         "[{\"column\": \"uid\", \"name\": \"xx\"}]}}},"
	         "\"commerce\": {\"tables\": {\"product\": {}}}}}",
	         (unsigned long long)version, shards);
	o.allocator = a;
	if (router_doc_load(json, strlen(json), &o, &t, NULL, &e) != ROUTER_OK)
		fail_msg("doc: %s: %s", e.culprit, e.message);
	return t;
}

static router *new_router(const char *autosave)
{
	router_options o = ROUTER_OPTIONS_INIT;
	router *r;
	router_error e;

	o.snapshot_path = autosave;
	assert_int_equal(router_create(&r, &o, &e), ROUTER_OK);
	return r;
}

static void publish_ok(router *r, router_table *t, unsigned flags)
{
	router_error e;

	if (router_publish(r, t, flags, NULL, &e) != ROUTER_OK)
		fail_msg("publish refused: %s: %s", e.culprit, e.message);
}

static const char *route_user(router *r, int64_t id)
{
	static char buf[64];
	router_route_result res;
	router_value v = ROUTER_VALUE_INT64(id);

	if (router_route(r, "user", 4, "users", 5, &v, 1, &res, NULL) !=
	    ROUTER_OK)
		return "";
	snprintf(buf, sizeof buf, "%s", res.shard);
	return buf;
}

static char *slurp(const char *path, size_t *len)
{
	return tu_read_file(path, len);
}

static void spit(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* ---- round trip ---------------------------------------------------------- */

static void snapshot_round_trips_the_table_in_service(void **state)
{
	const char *path = in_dir("lkg.snap");
	router *r = new_router(NULL), *r2 = new_router(NULL);
	router_table *t;
	router_error e;
	uint64_t v = 0, h = 0;

	(void)state;
	publish_ok(r, doc_table(4, 7, NULL), 0);
	assert_int_equal(router_snapshot_save(r, path, &e), ROUTER_OK);
	assert_int_equal(router_snapshot_verify(path, &v, &h, &e), ROUTER_OK);
	assert_int_equal(v, 7);
	assert_int_equal(h, router_content_hash(r));
	v = h = 0;
	assert_int_equal(router_snapshot_load(path, NULL, &t, &v, &h, &e),
	                 ROUTER_OK);
	assert_int_equal(router_table_version(t), 7);
	assert_int_equal(router_table_hash(t), router_content_hash(r));
	assert_int_equal(v, 7);
	publish_ok(r2, t, 0);
	for (int64_t id = 0; id < 500; id++)
		assert_string_equal(route_user(r2, id), route_user(r, id));
	router_free(r);
	router_free(r2);
}

static void saving_with_nothing_in_service_is_not_found(void **state)
{
	router *r = new_router(NULL);
	router_error e;

	(void)state;
	assert_int_equal(router_snapshot_save(r, in_dir("none.snap"), &e),
	                 ROUTER_ENOTFOUND);
	assert_int_equal(access(in_dir("none.snap"), F_OK), -1);
	assert_int_equal(router_snapshot_save(NULL, "x", &e), ROUTER_EINVAL);
	assert_int_equal(router_snapshot_save(r, NULL, &e), ROUTER_EINVAL);
	router_free(r);
}

static void saving_into_a_missing_directory_is_eio_naming_the_path(void **state)
{
	router *r = new_router(NULL);
	const char *path = in_dir("no/such/dir/lkg.snap");
	router_error e;
	router_stats st;

	(void)state;
	publish_ok(r, doc_table(2, 1, NULL), 0);
	assert_int_equal(router_snapshot_save(r, path, &e), ROUTER_EIO);
	assert_string_equal(e.culprit, path);
	assert_non_null(strstr(e.message, "No such file or directory"));
	router_stats_get(r, &st, sizeof st);
	assert_int_equal(st.snapshots_failed, 1);
	assert_int_equal(st.snapshots_saved, 0);
	router_free(r);
}

static void a_missing_snapshot_is_not_found_not_corrupt(void **state)
{
	router_table *t = (router_table *)1;
	router_error e;

	(void)state;
	assert_int_equal(router_snapshot_load(in_dir("absent.snap"), NULL, &t,
	                                      NULL, NULL, &e),
	                 ROUTER_ENOTFOUND);
	assert_null(t);
	assert_int_equal(router_snapshot_verify(in_dir("absent.snap"), NULL,
	                                        NULL, &e),
	                 ROUTER_ENOTFOUND);
	/* A directory is not a snapshot file. */
	assert_int_equal(router_snapshot_verify(g_dir, NULL, NULL, &e),
	                 ROUTER_EIO);
}

/* Open on a FIFO would wait for a writer forever: refused at once. */
static void a_fifo_at_the_snapshot_path_is_refused_without_blocking(
    void **state)
{
	const char *path = in_dir("fifo.snap");
	router_table *t = NULL;
	router_error e;

	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(router_snapshot_load(path, NULL, &t, NULL, NULL, &e),
	                 ROUTER_EIO);
	assert_non_null(strstr(e.message, "not a regular file"));
	assert_null(t);
	assert_int_equal(router_snapshot_verify(path, NULL, NULL, &e),
	                 ROUTER_EIO);
	unlink(path);
}

/* The file gets 0644 filtered by the process's umask, like any file the
 * process writes (not a fixed mode). */
static void a_saved_snapshot_has_the_mode_the_umask_allows(void **state)
{
	const char *path = in_dir("mode.snap");
	router *r = new_router(NULL);
	router_error e;
	struct stat sb;
	mode_t old;

	(void)state;
	publish_ok(r, doc_table(2, 1, NULL), 0);
	old = umask(027);
	assert_int_equal(router_snapshot_save(r, path, &e), ROUTER_OK);
	umask(old);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	old = umask(022);
	assert_int_equal(router_snapshot_save(r, path, &e), ROUTER_OK);
	umask(old);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	router_free(r);
}

/* ---- damage --------------------------------------------------------------- */

static char *good_snapshot(const char *path, size_t *len)
{
	router *r = new_router(NULL);
	router_error e;

	publish_ok(r, doc_table(4, 3, NULL), 0);
	assert_int_equal(router_snapshot_save(r, path, &e), ROUTER_OK);
	router_free(r);
	return slurp(path, len);
}

static void a_snapshot_truncated_at_any_byte_is_refused(void **state)
{
	const char *path = in_dir("trunc.snap");
	size_t len, n;
	char *buf = good_snapshot(path, &len);
	router_table *t;
	router_error e;

	(void)state;
	for (n = 0; n < len; n++) {
		spit(path, buf, n);
		t = (router_table *)1;
		int rc = router_snapshot_load(path, NULL, &t, NULL, NULL, &e);

		if (rc != ROUTER_EDOC)
			fail_msg("truncated to %zu of %zu bytes: %s", n, len,
			         router_errname(rc));
		assert_null(t);
		assert_string_equal(e.culprit, path);
	}
	/* A byte more is refused too (the length is exact). */
	spit(path, buf, len);
	{
		FILE *f = fopen(path, "ab");

		fputc('\n', f);
		fclose(f);
	}
	assert_int_equal(router_snapshot_verify(path, NULL, NULL, &e),
	                 ROUTER_EDOC);
	assert_non_null(strstr(e.message, "extended"));
	spit(path, buf, len - 10);
	assert_int_equal(router_snapshot_verify(path, NULL, NULL, &e),
	                 ROUTER_EDOC);
	assert_non_null(strstr(e.message, "truncated"));
	print_message("  %zu truncations refused\n", len);
	free(buf);
}

static void a_snapshot_with_any_bit_flipped_is_refused(void **state)
{
	const char *path = in_dir("flip.snap");
	size_t len, i;
	char *buf = good_snapshot(path, &len);
	router_error e;
	unsigned bit;

	(void)state;
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			int rc;

			buf[i] ^= (char)(1u << bit);
			spit(path, buf, len);
			rc = router_snapshot_verify(path, NULL, NULL, &e);
			buf[i] ^= (char)(1u << bit);
			if (rc != ROUTER_EDOC)
				fail_msg("bit %u of byte %zu flipped: %s", bit,
				         i, router_errname(rc));
		}
	spit(path, buf, len);
	assert_int_equal(router_snapshot_verify(path, NULL, NULL, &e),
	                 ROUTER_OK);
	print_message("  %zu bit flips refused\n", len * 8);
	free(buf);
}

static void a_foreign_file_or_future_format_is_refused_by_name(void **state)
{
	const char *path = in_dir("foreign.snap");
	size_t len;
	char *buf = good_snapshot(path, &len);
	router_error e;
	const char *doc = "{\"keyspaces\": {}}";

	(void)state;
	spit(path, doc, strlen(doc));
	assert_int_equal(router_snapshot_verify(path, NULL, NULL, &e),
	                 ROUTER_EDOC);
	assert_non_null(strstr(e.message, "not a librouter snapshot"));
	/* Format 2 (header otherwise valid): refused as unknown. */
	buf[strlen(ROUTER_SNAPSHOT_MAGIC) + 1] = '2';
	spit(path, buf, len);
	assert_int_equal(router_snapshot_verify(path, NULL, NULL, &e),
	                 ROUTER_EDOC);
	assert_non_null(strstr(e.message, "format 2"));
	spit(path, "", 0);
	assert_int_equal(router_snapshot_verify(path, NULL, NULL, &e),
	                 ROUTER_EDOC);
	free(buf);
}

/* ---- crash safety ----------------------------------------------------------- */

static void a_leftover_temporary_file_breaks_neither_load_nor_save(void **state)
{
	const char *path = in_dir("crash.snap");
	size_t len;
	char *buf = good_snapshot(path, &len);
	char tmp[160];
	router *r = new_router(NULL);
	router_error e;
	uint64_t v;

	(void)state;
	/* What a crash between create and rename leaves: a half-written
	 * temporary file next to the good snapshot. */
	snprintf(tmp, sizeof tmp, "%s.tmp-AAAAAA", path);
	spit(tmp, buf, len / 2);
	assert_int_equal(router_snapshot_verify(path, &v, NULL, &e), ROUTER_OK);
	assert_int_equal(v, 3);
	/* A new save goes through a new temporary file and replaces the
	 * snapshot whole. */
	publish_ok(r, doc_table(8, 9, NULL), 0);
	assert_int_equal(router_snapshot_save(r, path, &e), ROUTER_OK);
	assert_int_equal(router_snapshot_verify(path, &v, NULL, &e), ROUTER_OK);
	assert_int_equal(v, 9);
	assert_int_equal(access(tmp, F_OK), 0); /* not ours: left alone */
	router_free(r);
	free(buf);
}

static void a_failed_save_keeps_the_previous_snapshot(void **state)
{
	const char *path = in_dir("keep.snap");
	size_t len;
	char *buf = good_snapshot(path, &len);
	router *r = new_router(NULL);
	router_error e;
	uint64_t v;

	(void)state;
	publish_ok(r, doc_table(2, 11, NULL), 0);
	/* A read-only directory: the temporary file cannot be created. */
	if (geteuid() != 0) {
		assert_int_equal(chmod(g_dir, 0555), 0);
		assert_int_equal(router_snapshot_save(r, path, &e), ROUTER_EIO);
		assert_non_null(strstr(e.message, "temporary file"));
		assert_int_equal(chmod(g_dir, 0755), 0);
	}
	/* path is a directory: rename fails after the data was written. */
	assert_int_equal(router_snapshot_save(r, g_dir, &e), ROUTER_EIO);
	assert_int_equal(router_snapshot_verify(path, &v, NULL, &e), ROUTER_OK);
	assert_int_equal(v, 3);
	router_free(r);
	free(buf);
}

/* ---- automatic saves ------------------------------------------------------------ */

typedef struct seen {
	int snapshot_events;
	int last_code;
} seen;

static void on_event(void *arg, const router_event *ev)
{
	seen *s = arg;

	if (ev->kind == ROUTER_EVENT_SNAPSHOT) {
		s->snapshot_events++;
		s->last_code = ev->code;
	}
}

static void autosave_follows_publishes_and_rollbacks(void **state)
{
	const char *path = in_dir("auto.snap");
	router *r = new_router(path);
	router_error e;
	router_stats st;
	uint64_t v;
	router_table *bad;

	(void)state;
	publish_ok(r, doc_table(2, 1, NULL), 0);
	assert_int_equal(router_snapshot_verify(path, &v, NULL, &e), ROUTER_OK);
	assert_int_equal(v, 1);
	publish_ok(r, doc_table(4, 2, NULL), 0);
	assert_int_equal(router_snapshot_verify(path, &v, NULL, &e), ROUTER_OK);
	assert_int_equal(v, 2);
	/* A refused publish does not touch the snapshot. */
	bad = doc_table(4, 3, NULL);
	{
		router_builder *b;
		router_table *empty;

		router_table_free(bad);
		assert_int_equal(router_builder_create(&b, NULL, &e), ROUTER_OK);
		router_builder_add_keyspace(b, "user", 0, &e);
		router_builder_add_keyspace(b, "commerce", 0, &e);
		assert_int_equal(router_table_build(b, &empty, &e), ROUTER_OK);
		router_builder_free(b);
		assert_int_equal(router_publish(r, empty, 0, NULL, &e),
		                 ROUTER_EEMPTY);
		router_table_free(empty);
	}
	assert_int_equal(router_snapshot_verify(path, &v, NULL, &e), ROUTER_OK);
	assert_int_equal(v, 2);
	assert_int_equal(router_rollback(r, 1, &e), ROUTER_OK);
	assert_int_equal(router_snapshot_verify(path, &v, NULL, &e), ROUTER_OK);
	assert_int_equal(v, 1);
	router_stats_get(r, &st, sizeof st);
	assert_int_equal(st.snapshots_saved, 3);
	assert_int_equal(st.snapshots_failed, 0);
	router_free(r);
}

static void a_failed_autosave_is_reported_and_the_publish_stands(void **state)
{
	router_options o = ROUTER_OPTIONS_INIT;
	seen s = {0, 0};
	router *r;
	router_error e;
	router_stats st;

	(void)state;
	o.snapshot_path = in_dir("missing-dir/auto.snap");
	o.on_event = on_event;
	o.on_event_arg = &s;
	assert_int_equal(router_create(&r, &o, &e), ROUTER_OK);
	publish_ok(r, doc_table(2, 5, NULL), 0);
	assert_int_equal(router_serving_version(r), 5);
	assert_int_equal(s.snapshot_events, 1);
	assert_int_equal(s.last_code, ROUTER_EIO);
	router_stats_get(r, &st, sizeof st);
	assert_int_equal(st.snapshots_failed, 1);
	assert_int_equal(st.accepted, 1);
	router_free(r);
}

/* ---- allocation failures ---------------------------------------------------------- */


static void snapshot_save_and_load_fail_cleanly_at_any_allocation(void **state)
{
	tu_alloc f = TU_ALLOC_INIT;
	router_allocator a = TU_ALLOCATOR(&f);
	router_options o = ROUTER_OPTIONS_INIT;
	const char *path = in_dir("oom.snap");
	router *r;
	router_error e;
	long k;
	int rc;

	(void)state;
	o.allocator = &a;
	assert_int_equal(router_create(&r, &o, &e), ROUTER_OK);
	publish_ok(r, doc_table(4, 1, &a), 0);
	for (k = 0;; k++) {
		long live = f.live;

		f.countdown = k;
		rc = router_snapshot_save(r, path, &e);
		f.countdown = -1;
		assert_int_equal(f.live, live);
		if (rc == ROUTER_OK)
			break;
		assert_int_equal(rc, ROUTER_ENOMEM);
		assert_true(k < 10000);
	}
	print_message("  save survived failures at each of its first %ld "
	              "allocations\n", k);
	assert_int_equal(router_snapshot_verify(path, NULL, NULL, &e),
	                 ROUTER_OK);
	for (k = 0;; k++) {
		long live = f.live;
		router_table *t = (router_table *)1;

		f.countdown = k;
		rc = router_snapshot_load(path, &a, &t, NULL, NULL, &e);
		f.countdown = -1;
		if (rc == ROUTER_OK) {
			router_table_free(t);
			assert_int_equal(f.live, live);
			break;
		}
		assert_int_equal(rc, ROUTER_ENOMEM);
		assert_null(t);
		assert_int_equal(f.live, live);
		assert_true(k < 100000);
	}
	print_message("  load survived failures at each of its first %ld "
	              "allocations\n", k);
	router_free(r);
	assert_int_equal(f.live, 0);
	/* Creating a router with a snapshot path allocates its copy. */
	o.snapshot_path = path;
	f.countdown = 1;
	assert_int_equal(router_create(&r, &o, &e), ROUTER_ENOMEM);
	f.countdown = -1;
	assert_int_equal(f.live, 0);
}

/* ---- the incident, second act ----------------------------------------------- */

static void a_restart_during_the_bad_period_comes_back_from_its_snapshot(
    void **state)
{
	const char *path = in_dir("incident.snap");
	router *r = new_router(path), *r2;
	router_table *t, *empty = NULL;
	router_error e;
	int64_t id;
	char before[200][16];
	router_doc_report *rep = NULL;
	const char *bad_doc = "{\"keyspaces\": {\"user\": {}, "
	                      "\"commerce\": {}}}";

	(void)state;
	publish_ok(r, doc_table(4, 40, NULL), 0);
	for (id = 0; id < 200; id++)
		snprintf(before[id], sizeof before[id], "%s", route_user(r, id));
	/* The empty VSchema arrives and is refused; the process then dies
	 * (a deploy, an OOM kill) before anyone repaired the source. */
	assert_int_equal(router_doc_load(bad_doc, strlen(bad_doc), NULL, &empty,
	                                 &rep, &e),
	                 ROUTER_OK);
	router_doc_report_free(rep);
	assert_int_equal(router_publish(r, empty, 0, NULL, &e), ROUTER_EEMPTY);
	router_table_free(empty);
	router_free(r);
	/* Restart: the live source still holds the bad document, so the
	 * process starts from its last-known-good file. */
	r2 = new_router(path);
	assert_int_equal(router_snapshot_load(path, NULL, &t, NULL, NULL, &e),
	                 ROUTER_OK);
	publish_ok(r2, t, 0);
	assert_int_equal(router_serving_version(r2), 40);
	for (id = 0; id < 200; id++)
		assert_string_equal(route_user(r2, id), before[id]);
	router_free(r2);
}

/* ---- leftovers and links (issue 15, defects 11 and 12) ------------------ */

/* A file at path whose modification time is age seconds ago. */
static void spit_aged(const char *path, time_t age)
{
	struct timespec ts[2];

	spit(path, "partial", 7);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - age;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* A pid that was in use and is not any more (a reaped child). */
static pid_t dead_pid(void)
{
	pid_t p = fork();

	assert_true(p >= 0);
	if (p == 0)
		_exit(0);
	assert_int_equal(waitpid(p, NULL, 0), p);
	return p;
}

/* A crash between creating the temporary file and renaming it left the
 * file for good: 143 of them after 300 SIGKILLs.  The next save removes
 * those of this path whose writer is dead and that are old enough; a live
 * writer's, a fresh one's and other files are kept. */
static void stale_temporary_files_of_dead_writers_are_removed_by_a_save(
    void **state)
{
	const char *path = in_dir("left.snap");
	char dead_old[160], dead_new[160], mine[160], parent[160];
	char legacy_old[160], legacy_new[160], other[160], unrelated[160];
	pid_t dead = dead_pid();
	router *r = new_router(NULL);
	router_error e;
	uint64_t v;

	(void)state;
	snprintf(dead_old, sizeof dead_old, "%s.tmp-%ld-0a1b2c", path,
	         (long)dead);
	snprintf(dead_new, sizeof dead_new, "%s.tmp-%ld-3d4e5f", path,
	         (long)dead);
	snprintf(mine, sizeof mine, "%s.tmp-%ld-000001", path, (long)getpid());
	snprintf(parent, sizeof parent, "%s.tmp-%ld-000002", path,
	         (long)getppid());
	snprintf(legacy_old, sizeof legacy_old, "%s.tmp-abcdef", path);
	snprintf(legacy_new, sizeof legacy_new, "%s.tmp-fedcba", path);
	snprintf(other, sizeof other, "%s.tmp-%ld-0a1b2c", in_dir("other.snap"),
	         (long)dead);
	snprintf(unrelated, sizeof unrelated, "%s.tmp-%ld-0a1b2c.keep", path,
	         (long)dead);
	spit_aged(dead_old, 3600);
	spit_aged(dead_new, 0);
	spit_aged(mine, 3600);
	spit_aged(parent, 3600);
	spit_aged(legacy_old, 2 * 3600);
	spit_aged(legacy_new, 60);
	spit_aged(other, 3600);
	spit_aged(unrelated, 3600);

	publish_ok(r, doc_table(4, 5, NULL), 0);
	assert_int_equal(router_snapshot_save(r, path, &e), ROUTER_OK);
	assert_int_equal(router_snapshot_verify(path, &v, NULL, &e), ROUTER_OK);
	assert_int_equal(v, 5);
	assert_int_equal(access(dead_old, F_OK), -1);   /* dead, old: gone */
	assert_int_equal(access(legacy_old, F_OK), -1); /* old format, 2 h */
	assert_int_equal(access(dead_new, F_OK), 0);  /* could be a live writer
	                                                 of another namespace */
	assert_int_equal(access(mine, F_OK), 0);      /* this process */
	assert_int_equal(access(parent, F_OK), 0);    /* alive */
	assert_int_equal(access(legacy_new, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0);     /* another snapshot's */
	assert_int_equal(access(unrelated, F_OK), 0); /* not a temporary name */
	router_free(r);
}

/* The temporary file is named after its writer, so that a crash leaves a
 * file the next save can tell is stale: a child killed in the middle of
 * saves leaves only PATH.tmp-<its pid>-XXXXXX names, which the parent's
 * next save removes once they are old. */
static void a_writer_killed_mid_save_leaves_files_named_after_it(
    void **state)
{
	const char *path = in_dir("kill.snap");
	char prefix[160];
	router *r;
	router_error e;
	pid_t child;
	DIR *d;
	struct dirent *de;
	size_t left = 0;

	(void)state;
	/* Kill a saver over and over until one leaves a temporary file. */
	for (int tries = 0; tries < 200 && left == 0; tries++) {
		child = fork();
		assert_true(child >= 0);
		if (child == 0) {
			router *cr = new_router(NULL);

			publish_ok(cr, doc_table(64, 2, NULL), 0);
			for (;;)
				(void)router_snapshot_save(cr, path, &e);
		}
		usleep(2000 + (useconds_t)(tries % 7) * 700);
		kill(child, SIGKILL);
		assert_int_equal(waitpid(child, NULL, 0), child);
		snprintf(prefix, sizeof prefix, "kill.snap.tmp-%ld-",
		         (long)child);
		d = opendir(g_dir);
		assert_non_null(d);
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, "kill.snap.tmp-", 14) != 0)
				continue;
			/* Every leftover carries the writer's pid. */
			assert_int_equal(strncmp(de->d_name, prefix,
			                         strlen(prefix)),
			                 0);
			left++;
			{
				char full[400];

				snprintf(full, sizeof full, "%s/%s", g_dir,
				         de->d_name);
				spit_aged(full, 3600); /* make it old */
			}
		}
		closedir(d);
	}
	if (left == 0)
		skip(); /* no kill landed mid-write: nothing to check */
	r = new_router(NULL);
	publish_ok(r, doc_table(4, 3, NULL), 0);
	assert_int_equal(router_snapshot_save(r, path, &e), ROUTER_OK);
	d = opendir(g_dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		assert_int_not_equal(strncmp(de->d_name, "kill.snap.tmp-", 14),
		                     0);
	closedir(d);
	router_free(r);
}

/* A symbolic link at the snapshot path was replaced by a regular file,
 * and the file it pointed to kept the old snapshot, which whoever reads
 * the target (another process, an operator's config) went on trusting.
 * The link is followed; one that does not resolve is refused. */
static void a_symlink_at_the_snapshot_path_is_followed(void **state)
{
	const char *real = in_dir("real.snap"), *link = in_dir("link.snap");
	const char *dangling = in_dir("dangling.snap");
	char sub[160], target[200];
	router *r = new_router(NULL);
	router_error e;
	struct stat st;
	size_t len;
	uint64_t v;

	(void)state;
	free(good_snapshot(real, &len)); /* version 3 */
	assert_int_equal(symlink("real.snap", link), 0);
	publish_ok(r, doc_table(8, 9, NULL), 0);
	assert_int_equal(router_snapshot_save(r, link, &e), ROUTER_OK);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(router_snapshot_verify(real, &v, NULL, &e), ROUTER_OK);
	assert_int_equal(v, 9);
	assert_int_equal(router_snapshot_verify(link, &v, NULL, &e), ROUTER_OK);
	assert_int_equal(v, 9);

	/* A link into another directory: renamed there. */
	snprintf(sub, sizeof sub, "%s/sub", g_dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(target, sizeof target, "%s/target.snap", sub);
	spit(target, "old", 3);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(router_snapshot_save(r, link, &e), ROUTER_OK);
	assert_int_equal(router_snapshot_verify(target, &v, NULL, &e),
	                 ROUTER_OK);
	assert_int_equal(v, 9);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));

	/* A link to nothing: refused, nothing created. */
	assert_int_equal(symlink("nowhere/x.snap", dangling), 0);
	assert_int_equal(router_snapshot_save(r, dangling, &e), ROUTER_EIO);
	assert_non_null(strstr(e.message, "symbolic link"));
	assert_string_equal(e.culprit, dangling);
	assert_int_equal(lstat(dangling, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	router_free(r);
}

/* A table whose numeric_static_map reads its map file (the builder's
 * json_path) would be saved, then refused at every restart: a snapshot
 * loads from memory, which reads no file.  The save refuses it. */
static void a_table_naming_a_map_file_is_not_snapshotted(void **state)
{
	const char *path = in_dir("file.snap"), *map = in_dir("map.json");
	router_param p = {"json_path", map};
	router_builder *b = NULL;
	router_table *t = NULL;
	router *r = new_router(NULL);
	router_error e;

	(void)state;
	spit(map, "{\"1\": 2}", 8);
	assert_int_equal(router_builder_create(&b, NULL, &e), ROUTER_OK);
	assert_int_equal(router_builder_add_keyspace(b, "m", 1, &e), ROUTER_OK);
	assert_int_equal(router_builder_add_shard(b, "m", "-80", &e), ROUTER_OK);
	assert_int_equal(router_builder_add_shard(b, "m", "80-", &e), ROUTER_OK);
	assert_int_equal(router_builder_add_vindex(b, "m", "nsm",
	                                           "numeric_static_map", &p, 1,
	                                           NULL, &e),
	                 ROUTER_OK);
	assert_int_equal(router_table_build(b, &t, &e), ROUTER_OK);
	router_builder_free(b);
	publish_ok(r, t, 0);
	assert_int_equal(router_snapshot_save(r, path, &e), ROUTER_EDOC);
	assert_non_null(strstr(e.message, "json_path"));
	assert_int_equal(access(path, F_OK), -1);
	router_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(snapshot_round_trips_the_table_in_service),
	    cmocka_unit_test(saving_with_nothing_in_service_is_not_found),
	    cmocka_unit_test(saving_into_a_missing_directory_is_eio_naming_the_path),
	    cmocka_unit_test(a_missing_snapshot_is_not_found_not_corrupt),
	    cmocka_unit_test(
	        a_fifo_at_the_snapshot_path_is_refused_without_blocking),
	    cmocka_unit_test(a_saved_snapshot_has_the_mode_the_umask_allows),
	    cmocka_unit_test(a_snapshot_truncated_at_any_byte_is_refused),
	    cmocka_unit_test(a_snapshot_with_any_bit_flipped_is_refused),
	    cmocka_unit_test(a_foreign_file_or_future_format_is_refused_by_name),
	    cmocka_unit_test(a_leftover_temporary_file_breaks_neither_load_nor_save),
	    cmocka_unit_test(a_failed_save_keeps_the_previous_snapshot),
	    cmocka_unit_test(autosave_follows_publishes_and_rollbacks),
	    cmocka_unit_test(a_failed_autosave_is_reported_and_the_publish_stands),
	    cmocka_unit_test(snapshot_save_and_load_fail_cleanly_at_any_allocation),
	    cmocka_unit_test(a_restart_during_the_bad_period_comes_back_from_its_snapshot),
	    cmocka_unit_test(
	        stale_temporary_files_of_dead_writers_are_removed_by_a_save),
	    cmocka_unit_test(
	        a_writer_killed_mid_save_leaves_files_named_after_it),
	    cmocka_unit_test(a_symlink_at_the_snapshot_path_is_followed),
	    cmocka_unit_test(a_table_naming_a_map_file_is_not_snapshotted),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
