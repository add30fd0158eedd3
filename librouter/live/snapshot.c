/*
 * Last-known-good snapshots: the table in service written to a file that a
 * restarting process can trust, or refuse as a whole.
 *
 * Atomicity.  The file is never written in place: the text goes to a new
 * temporary file in the same directory (mkstemp: unique even when several
 * processes save to one path), which is fsync'ed, then renamed over the
 * path (atomic on POSIX file systems), then the directory is fsync'ed so
 * the rename itself survives a power loss.  Whatever instant a crash hits,
 * path holds the previous complete snapshot or the new complete one; a
 * leftover temporary file is never read (loading opens path only).
 *
 * Leftovers.  A temporary file is named PATH.tmp-<pid>-<6 hex digits>,
 * after the process writing it.  Each save removes the leftovers of this
 * path whose writer is dead (kill(pid, 0) fails with ESRCH) and that are
 * older than STALE_S seconds: the age keeps a live writer of another PID
 * namespace sharing the directory (a container) safe from our ESRCH.
 * Names of the older format (PATH.tmp-<6 hex digits>, no pid) are removed
 * after OLD_STALE_S.  Nothing else in the directory is touched.
 *
 * Symbolic links.  A symbolic link at path is followed: the snapshot
 * replaces the file the link resolves to, in that file's directory, and
 * the link stays (replacing the link by a regular file left its target
 * stale).  A link whose target does not exist is refused (ROUTER_EIO):
 * which file it should create is a guess.
 *
 * Integrity.  A file that is complete on disk may still have been damaged
 * afterwards (a bad block, a truncating copy, an editor), so the header
 * records the body's length and an XXH3-64 checksum of the header fields
 * and the body, and the table's content hash and version: loading checks
 * all four before handing out a table, and a table is only handed out when
 * every check passed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "core/internal.h"
#include "router_doc.h"
#include "snapshot.h"
#include "core/table.h"

/* "librouter-snapshot 1 version=<20> hash=<16> length=<20> xxh3=<16>\n" */
#define HEADER_MAX 160

/* Age after which a dead writer's temporary file is removed, and one of
 * the older format (no pid in its name). */
#define STALE_S 60
#define OLD_STALE_S 3600

static int ioerr(router_error *err, const char *path, const char *what,
                 int errnum)
{
	return router__seterr(err, ROUTER_EIO, path, "%s %s: %s", what, path,
	                      strerror(errnum));
}

/* The header without its checksum field, into buf (>= HEADER_MAX). */
static int header_fields(char *buf, uint64_t version, uint64_t hash,
                         size_t len)
{
	return snprintf(buf, HEADER_MAX, "%s %d version=%" PRIu64
	                " hash=%016" PRIx64 " length=%zu",
	                ROUTER_SNAPSHOT_MAGIC, ROUTER_SNAPSHOT_FORMAT, version,
	                hash, len);
}

static uint64_t checksum(const char *fields, size_t flen, const char *body,
                         size_t blen)
{
	XXH3_state_t st;

	/* XXH3_state_t on the stack: XXH3_createState would malloc. */
	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, fields, flen);
	XXH3_64bits_update(&st, body, blen);
	return XXH3_64bits_digest(&st);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsync the directory holding path, so that a rename into it is durable. */
static int sync_dir(const char *path, const router_allocator *a,
                    router_error *err)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc = ROUTER_OK;

	if (slash == NULL)
		dir = router__strndup(a, ".", 1);
	else
		dir = router__strndup(a, path,
		                      slash == path ? 1 : (size_t)(slash - path));
	if (dir == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL,
		                      "out of memory saving a snapshot");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = router__seterr(err, ROUTER_EIO, path,
		                    "snapshot %s was written, but its directory "
		                    "%s cannot be synced (%s): the new name may "
		                    "not survive a crash",
		                    path, dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	router__free(a, dir);
	return rc;
}

/* n hex digits (lowercase) at s? */
static int hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

/* Remove the temporary files that crashed writers of path left (see
 * "Leftovers" above).  Best effort: errors are ignored, a save never fails
 * for them. */
static void remove_leftovers(const char *path, const router_allocator *a)
{
	const char *slash = strrchr(path, '/'), *base;
	size_t blen;
	char *dir;
	DIR *d;
	struct dirent *de;
	time_t now = time(NULL);
	pid_t self = getpid();

	base = slash != NULL ? slash + 1 : path;
	blen = strlen(base);
	dir = slash == NULL ? router__strndup(a, ".", 1)
	      : router__strndup(a, path,
	                        slash == path ? 1 : (size_t)(slash - path));
	if (dir == NULL)
		return;
	d = opendir(dir);
	router__free(a, dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name, *p, *dash;
		struct stat st;
		long long pid = 0;
		time_t stale;

		if (strncmp(n, base, blen) != 0 ||
		    strncmp(n + blen, ".tmp-", 5) != 0)
			continue;
		p = n + blen + 5;
		if (hex_run(p, 6)) {
			stale = OLD_STALE_S; /* older format: no pid */
		} else {
			for (dash = p; *dash >= '0' && *dash <= '9'; dash++)
				if (dash - p < 10)
					pid = pid * 10 + (*dash - '0');
			if (dash == p || dash - p >= 10 || *p == '0' ||
			    *dash != '-' || !hex_run(dash + 1, 6) ||
			    pid > INT_MAX || (pid_t)pid == self)
				continue;
			/* Alive, or someone else's (EPERM): kept. */
			if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
				continue;
			stale = STALE_S;
		}
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || now - st.st_mtime < stale)
			continue;
		(void)unlinkat(dirfd(d), n, 0);
	}
	closedir(d);
}

/* The file a save to path replaces: path itself, or the file a symbolic
 * link at path resolves to (*out, allocated with a; NULL: path itself). */
static int resolve_target(const char *path, const router_allocator *a,
                          char **out, router_error *err)
{
	struct stat st;
	char *real;

	*out = NULL;
	if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode))
		return ROUTER_OK; /* no file yet, or not a link */
	real = realpath(path, NULL);
	if (real == NULL)
		return router__seterr(err, ROUTER_EIO, path,
		                      "snapshot path %s is a symbolic link that "
		                      "does not resolve (%s): refused, nothing "
		                      "written",
		                      path, strerror(errno));
	*out = router__strndup(a, real, strlen(real));
	free(real);
	if (*out == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL,
		                      "out of memory saving a snapshot");
	return ROUTER_OK;
}

/* A snapshot is loaded from memory, which reads no file (router_doc.h,
 * "Files a document names"): a table whose numeric_static_map still names
 * its map file (built with the builder's json_path, not from a document)
 * would be written, then refused at every restart.  Refused here instead. */
static int self_contained(const router_table *t, const char *path,
                          router_error *err)
{
	for (size_t i = 0; i < t->nkeyspaces; i++) {
		const router__keyspace *ks = &t->keyspaces[i];

		for (size_t j = 0; j < ks->nvindexes; j++)
			for (size_t k = 0; k < ks->vindexes[j].nparams; k++)
				if (strcmp(ks->vindexes[j].params[k].key,
				           "json_path") == 0 &&
				    strcmp(ks->vindexes[j].type,
				           "numeric_static_map") == 0)
					return router__seterr(
					    err, ROUTER_EDOC, path,
					    "snapshot %.96s not written: vindex "
					    "%.64s.%.64s reads its map from a "
					    "file (json_path), which a snapshot "
					    "cannot load; give the map inline "
					    "(param json)",
					    path, ks->name,
					    ks->vindexes[j].name);
	}
	return ROUTER_OK;
}

int router__snapshot_write(const router_table *t, const char *path,
                           const router_allocator *a, router_error *err)
{
	char fields[HEADER_MAX], *body = NULL, *tmp = NULL, *target = NULL;
	size_t blen = 0, plen, tcap;
	int flen, fd = -1, rc;
	uint64_t sum, seed;

	a = router__allocator(a);
	if ((rc = self_contained(t, path, err)) != ROUTER_OK)
		return rc;
	rc = resolve_target(path, a, &target, err);
	if (rc != ROUTER_OK)
		return rc;
	if (target != NULL)
		path = target;
	plen = strlen(path);
	rc = router_doc_dump(t, NULL, 0, a, &body, &blen, err);
	if (rc != ROUTER_OK)
		goto out;
	flen = header_fields(fields, router_table_version(t),
	                     router_table_hash(t), blen);
	sum = checksum(fields, (size_t)flen, body, blen);
	remove_leftovers(path, a);
	/* ".tmp-" <pid, at most 10 digits> "-" <6 hex> NUL */
	tcap = plen + 24;
	tmp = router__malloc(a, tcap);
	if (tmp == NULL) {
		rc = router__seterr(err, ROUTER_ENOMEM, NULL,
		                    "out of memory saving a snapshot");
		goto out;
	}
	/* Not mkstemp: it makes the file 0600 whatever the umask, and
	 * changing the mode afterwards would have to guess the umask.  0644
	 * through open() lets the umask apply as for any file the process
	 * writes.  O_EXCL and a fresh name per try keep concurrent savers
	 * (threads or processes) apart. */
	seed = (uint64_t)(uintptr_t)tmp ^ ((uint64_t)getpid() << 32) ^
	       (uint64_t)time(NULL);
	memcpy(tmp, path, plen);
	for (int tries = 0; fd < 0 && tries < 64; tries++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		snprintf(tmp + plen, tcap - plen, ".tmp-%ld-%06" PRIx64,
		         (long)getpid(), (seed >> 40) & 0xffffff);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = ioerr(err, path, "cannot create a temporary file for",
		           errno);
		goto out;
	}
	{
		char line[HEADER_MAX + 32];
		int n = snprintf(line, sizeof line, "%s xxh3=%016" PRIx64 "\n",
		                 fields, sum);

		if (write_all(fd, line, (size_t)n) != 0 ||
		    write_all(fd, body, blen) != 0) {
			rc = ioerr(err, path, "cannot write the snapshot", errno);
			goto unlink;
		}
	}
	/* The data is on disk before the name points at it. */
	if (fsync(fd) != 0) {
		rc = ioerr(err, path, "cannot sync the snapshot", errno);
		goto unlink;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = ioerr(err, path, "cannot close the snapshot", errno);
		goto unlink;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = ioerr(err, path, "cannot rename the snapshot to", errno);
		goto unlink;
	}
	/* The new snapshot is in place from here on; only its durability
	 * across a crash is in question when the directory cannot be
	 * synced, and the error says so. */
	rc = sync_dir(path, a, err);
	if (rc == ROUTER_OK)
		router__clearerr(err);
	goto out;
unlink:
	if (fd >= 0)
		close(fd);
	fd = -1;
	(void)unlink(tmp);
out:
	router__free(a, tmp);
	router__free(a, body);
	router__free(a, target);
	return rc;
}

/* ---- loading --------------------------------------------------------- */

static int bad(router_error *err, const char *path, const char *what)
{
	return router__seterr(err, ROUTER_EDOC, path,
	                      "snapshot %s is corrupted: %s", path, what);
}

/* Read the whole file into *buf (allocated with a, NUL-terminated). */
static int read_file(const char *path, const router_allocator *a, char **buf,
                     size_t *len, router_error *err)
{
	struct stat sb;
	size_t cap, n = 0;
	char *p;
	/* O_NONBLOCK: a FIFO at the path must not block the open (waiting
	 * for a writer); it is refused below as not a regular file.  Reads
	 * of a regular file ignore the flag. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		if (errno == ENOENT)
			return router__seterr(err, ROUTER_ENOTFOUND, path,
			                      "no snapshot at %s", path);
		return ioerr(err, path, "cannot open the snapshot", errno);
	}
	if (fstat(fd, &sb) != 0) {
		int e = errno;

		close(fd);
		return ioerr(err, path, "cannot stat the snapshot", e);
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return router__seterr(err, ROUTER_EIO, path,
		                      "snapshot %s is not a regular file", path);
	}
	if ((uint64_t)sb.st_size > ROUTER_DOC_MAX_SIZE + HEADER_MAX) {
		close(fd);
		return router__seterr(err, ROUTER_ERANGE, path,
		                      "snapshot %s is %lld bytes, more than a "
		                      "routing document may be",
		                      path, (long long)sb.st_size);
	}
	/* One byte more than the size: a file that grew since fstat is read
	 * whole (up to the limit) and then fails the length check. */
	cap = (size_t)sb.st_size + 2;
	p = router__malloc(a, cap);
	if (p == NULL) {
		close(fd);
		return router__seterr(err, ROUTER_ENOMEM, NULL,
		                      "out of memory reading a snapshot");
	}
	for (;;) {
		ssize_t got = read(fd, p + n, cap - 1 - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;

			close(fd);
			router__free(a, p);
			return ioerr(err, path, "cannot read the snapshot", e);
		}
		if (got == 0 || (n += (size_t)got) == cap - 1)
			break;
	}
	close(fd);
	p[n] = '\0';
	*buf = p;
	*len = n;
	return ROUTER_OK;
}

/* Parse "name=" followed by digits in base 10 or 16 at *s; advance. */
static int field(const char **s, const char *end, const char *name, int base,
                 uint64_t *out)
{
	size_t nl = strlen(name);
	const char *p = *s;
	uint64_t v = 0;
	int digits = 0;

	if ((size_t)(end - p) < nl || memcmp(p, name, nl) != 0)
		return -1;
	for (p += nl; p < end; p++, digits++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (digits == 0 || (base == 16 && digits != 16) ||
	    (base == 10 && digits > 1 && (*s)[nl] == '0'))
		return -1;
	*s = p;
	*out = v;
	return 0;
}

static int parse_and_load(const char *path, const char *buf, size_t len,
                          const router_allocator *a, router_table **out,
                          uint64_t *version, uint64_t *hash,
                          router_error *err)
{
	const char *nl = memchr(buf, '\n', len < HEADER_MAX ? len : HEADER_MAX);
	const char *p = buf, *sump;
	size_t ml = strlen(ROUTER_SNAPSHOT_MAGIC);
	uint64_t fmt, v, h, blen, sum;
	router_doc_options opt = ROUTER_DOC_OPTIONS_INIT;
	router_table *t = NULL;
	router_error e;
	int rc;

	if (len < ml + 1 || memcmp(buf, ROUTER_SNAPSHOT_MAGIC, ml) != 0 ||
	    buf[ml] != ' ')
		return router__seterr(err, ROUTER_EDOC, path,
		                      "%s is not a librouter snapshot (it does "
		                      "not start with \"%s\")",
		                      path, ROUTER_SNAPSHOT_MAGIC);
	if (nl == NULL)
		return router__seterr(err, ROUTER_EDOC, path,
		                      "snapshot %s is truncated or corrupted: "
		                      "its header line does not end",
		                      path);
	p += ml + 1;
	if (field(&p, nl, "", 10, &fmt) != 0 || *p != ' ')
		return bad(err, path, "no format number in its header");
	if (fmt != ROUTER_SNAPSHOT_FORMAT)
		return router__seterr(err, ROUTER_EDOC, path,
		                      "snapshot %s has format %" PRIu64
		                      "; this librouter reads format %d",
		                      path, fmt, ROUTER_SNAPSHOT_FORMAT);
	p++;
	if (field(&p, nl, "version=", 10, &v) != 0 || *p++ != ' ' ||
	    field(&p, nl, "hash=", 16, &h) != 0 || *p++ != ' ' ||
	    field(&p, nl, "length=", 10, &blen) != 0 || *p != ' ')
		return bad(err, path, "malformed header fields");
	sump = p;
	p++;
	if (field(&p, nl, "xxh3=", 16, &sum) != 0 || p != nl)
		return bad(err, path, "malformed checksum field");
	if ((uint64_t)(len - (size_t)(nl + 1 - buf)) != blen)
		return router__seterr(
		    err, ROUTER_EDOC, path,
		    "snapshot %s is %s: its header records %" PRIu64
		    " bytes of document, the file holds %zu",
		    path,
		    (uint64_t)(len - (size_t)(nl + 1 - buf)) < blen
		        ? "truncated"
		        : "extended or corrupted",
		    blen, len - (size_t)(nl + 1 - buf));
	if (checksum(buf, (size_t)(sump - buf), nl + 1, (size_t)blen) != sum)
		return bad(err, path, "its checksum does not match its content");
	opt.allocator = a;
	rc = router_doc_load(nl + 1, (size_t)blen, &opt, &t, NULL, &e);
	if (rc != ROUTER_OK) {
		if (rc == ROUTER_ENOMEM) {
			if (err != NULL)
				*err = e;
			return rc;
		}
		return router__seterr(err, ROUTER_EDOC, path,
		                      "snapshot %s passed its checksum but its "
		                      "document does not load: %s: %s: %s",
		                      path, router_errname(rc), e.culprit,
		                      e.message);
	}
	if (router_table_version(t) != v || router_table_hash(t) != h) {
		rc = router__seterr(err, ROUTER_EDOC, path,
		                    "snapshot %s records version %" PRIu64
		                    " hash %016" PRIx64
		                    " but its document gives version %" PRIu64
		                    " hash %016" PRIx64,
		                    path, v, h, router_table_version(t),
		                    router_table_hash(t));
		router_table_free(t);
		return rc;
	}
	if (version != NULL)
		*version = v;
	if (hash != NULL)
		*hash = h;
	if (out != NULL)
		*out = t;
	else
		router_table_free(t);
	router__clearerr(err);
	return ROUTER_OK;
}

int router_snapshot_load(const char *path, const router_allocator *alloc,
                         router_table **out, uint64_t *version,
                         uint64_t *hash, router_error *err)
{
	const router_allocator *a = router__allocator(alloc);
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_snapshot_load: NULL argument");
	if (alloc != NULL && (alloc->malloc == NULL || alloc->realloc == NULL ||
	                      alloc->free == NULL))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "allocator must set malloc, realloc and "
		                      "free");
	rc = read_file(path, a, &buf, &len, err);
	if (rc != ROUTER_OK)
		return rc;
	rc = parse_and_load(path, buf, len, alloc, out, version, hash, err);
	router__free(a, buf);
	return rc;
}

int router_snapshot_verify(const char *path, uint64_t *version,
                           uint64_t *hash, router_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (path == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_snapshot_verify: NULL argument");
	rc = read_file(path, router__allocator(NULL), &buf, &len, err);
	if (rc != ROUTER_OK)
		return rc;
	rc = parse_and_load(path, buf, len, NULL, NULL, version, hash, err);
	free(buf);
	return rc;
}
