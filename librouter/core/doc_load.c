/*
 * Loading routing documents: Vitess VSchema JSON (parsed by jansson) to a
 * router_table through the public builder, with a report of every problem
 * (router_doc_load, router_doc_load_file; the reverse is doc_dump.c).
 *
 * Loading walks the document with a fixed schema: one field table per
 * protobuf message (SrvVSchema, Keyspace, Vindex, Table, ColumnVindex,
 * RoutingRules, RoutingRule), each field with its snake_case and
 * lowerCamelCase names, its JSON type and whether librouter uses it.  The
 * walk never recurses into values it does not use, so the only recursion
 * on input depth is jansson's own, which stops at JSON_PARSER_MAX_DEPTH
 * (2048 in Debian's build) with an error.
 *
 * Every problem is recorded with the JSON path of the value at fault, and
 * the walk continues, so one load reports everything.  The builder is run
 * unless part of the document could not be handed to it (then its
 * problems would be consequences of ours: "vindex not found" for a vindex
 * whose definition we had to skip).  A sharded keyspace without shards is
 * the exception: it gets the placeholder shard "-" so that the rest of the
 * keyspace is still validated.  Builder problems that repeat one already
 * reported with a path (same code, same message) are dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "doc.h"
#include "router_doc.h"

/* ------------------------------------------------------------------------ */
/* Reports                                                                  */
/* ------------------------------------------------------------------------ */

struct router_doc_report {
	const router_allocator *a;
	router_doc_note *notes;
	size_t n, cap;
};

size_t router_doc_report_count(const router_doc_report *r,
                               router_doc_note_kind kind)
{
	size_t i, n = 0;

	if (r == NULL)
		return 0;
	if (kind == 0)
		return r->n;
	for (i = 0; i < r->n; i++)
		if (r->notes[i].kind == kind)
			n++;
	return n;
}

const router_doc_note *router_doc_report_get(const router_doc_report *r,
                                             size_t i)
{
	return r != NULL && i < r->n ? &r->notes[i] : NULL;
}

void router_doc_report_free(router_doc_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		router__free(r->a, (void *)(uintptr_t)r->notes[i].path);
	router__free(r->a, r->notes);
	router__free(r->a, r);
}

/* ------------------------------------------------------------------------ */
/* Loader state                                                             */
/* ------------------------------------------------------------------------ */

/* Paths stay far below this: the walk is at most 8 levels deep and long
 * keys are abbreviated (path_key). */
#define PATH_CAP 2048
#define KEY_SHOWN 64

/* A keyspace as found in the document: to turn the builder's culprits
 * ("user.users", "user/-80") back into JSON paths. */
typedef struct ksinfo {
	const char *name; /* jansson's key, alive as long as the root */
	json_t *obj;
	char *path;
} ksinfo;

/* A keyspace Vitess's build fails (its first error, kept as vtgate keeps
 * KeyspaceSchema.Error): found by one load, given to the next. */
typedef struct kserr {
	char *name, *path, *culprit, *message;
	int code;
	size_t seq; /* document order, within the sort by name */
} kserr;

typedef struct ld {
	const router_allocator *a;
	router_builder *b;
	router_doc_report *rep;
	router_doc_options o;
	char path[PATH_CAP];
	size_t plen;
	size_t nerr;
	router_error first;
	int skipped; /* some of the document was not handed to the builder */
	router_doc_format format; /* the shape found (walk) */
	int nomem;
	uint64_t version;
	unsigned char *shard_used; /* per caller shard entry */
	ksinfo *ks;
	size_t nks, cks;
	size_t *ks_slot; /* hash index over ks names: index + 1, 0 empty */
	size_t ks_mask;
	json_t *rules; /* routing_rules.rules, for culprit paths */
	char *rules_path;
	/* Directory json_path is resolved under; NULL: the document may
	 * name no file (router_doc_options.json_path_dir). */
	const char *files_dir;
	/* Keyspaces an earlier load found failing: walked as error
	 * keyspaces (load_doc). */
	const kserr *failed;
	size_t nfailed;
} ld;

static int grow(const router_allocator *a, void **p, size_t *cap, size_t need,
                size_t elem)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / elem)
		return -1;
	np = router__realloc(a, *p, ncap * elem);
	if (np == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

/* ---- paths ------------------------------------------------------------- */

static void path_append(ld *l, const char *s, size_t n)
{
	if (l->plen + n >= PATH_CAP)
		n = PATH_CAP - 1 - l->plen;
	memcpy(l->path + l->plen, s, n);
	l->plen += n;
	l->path[l->plen] = '\0';
}

static int plain_key(const char *k)
{
	if (*k == '\0')
		return 0;
	for (; *k != '\0'; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_' || *k == '-' ||
		      *k == '$' || *k == '@'))
			return 0;
	return 1;
}

/* Append ".key" (or ["key"] when the key is empty or has characters that
 * would make the path ambiguous); returns the previous length for
 * path_set.  Keys longer than KEY_SHOWN bytes are abbreviated. */
static size_t path_key(ld *l, const char *k)
{
	size_t old = l->plen, n = strlen(k);

	if (plain_key(k)) {
		if (l->plen > 0)
			path_append(l, ".", 1);
		path_append(l, k, n > KEY_SHOWN ? KEY_SHOWN : n);
		if (n > KEY_SHOWN) {
			char more[48];

			snprintf(more, sizeof more, "...(%zu bytes)", n);
			path_append(l, more, strlen(more));
		}
		return old;
	}
	path_append(l, "[\"", 2);
	for (size_t i = 0; i < n && i < KEY_SHOWN; i++) {
		unsigned char c = (unsigned char)k[i];

		if (c < 0x20 || c == 0x7f) {
			/* JSON's escape: a path stays printable. */
			char esc[8];

			snprintf(esc, sizeof esc, "\\u%04x", c);
			path_append(l, esc, 6);
			continue;
		}
		if (k[i] == '"' || k[i] == '\\')
			path_append(l, "\\", 1);
		path_append(l, &k[i], 1);
	}
	if (n > KEY_SHOWN) {
		char more[48];

		snprintf(more, sizeof more, "...(%zu bytes)", n);
		path_append(l, more, strlen(more));
	}
	path_append(l, "\"]", 2);
	return old;
}

static size_t path_index(ld *l, size_t i)
{
	char buf[32];
	size_t old = l->plen;

	snprintf(buf, sizeof buf, "[%zu]", i);
	path_append(l, buf, strlen(buf));
	return old;
}

static void path_set(ld *l, size_t len)
{
	l->plen = len;
	l->path[len] = '\0';
}

/* ---- notes ------------------------------------------------------------- */

static void add_note(ld *l, router_doc_note_kind kind, int code,
                     const char *culprit, const char *path, int line,
                     int column, const char *msg)
{
	router_doc_report *r = l->rep;
	router_doc_note *n;
	char *p;

	if (kind == ROUTER_DOC_NOTE_ERROR) {
		if (l->nerr++ == 0) {
			l->first.code = code;
			snprintf(l->first.culprit, sizeof l->first.culprit, "%s",
			         culprit);
			snprintf(l->first.message, sizeof l->first.message, "%s",
			         msg);
		}
	}
	if (grow(r->a, (void **)&r->notes, &r->cap, r->n + 1,
	         sizeof *r->notes)) {
		l->nomem = 1;
		return;
	}
	p = router__strndup(r->a, path, strlen(path));
	if (p == NULL) {
		l->nomem = 1;
		return;
	}
	n = &r->notes[r->n++];
	memset(n, 0, sizeof *n);
	n->kind = kind;
	n->error.code = kind == ROUTER_DOC_NOTE_ERROR ||
	                        kind == ROUTER_DOC_NOTE_KEYSPACE
	                    ? code
	                    : ROUTER_OK;
	snprintf(n->error.culprit, sizeof n->error.culprit, "%s", culprit);
	snprintf(n->error.message, sizeof n->error.message, "%s", msg);
	n->path = p;
	n->line = line;
	n->column = column;
}

/* A note about the value at the current path. */
static void note(ld *l, router_doc_note_kind kind, int code, const char *fmt,
                 ...) ROUTER__PRINTF(4, 5);
static void note(ld *l, router_doc_note_kind kind, int code, const char *fmt,
                 ...)
{
	char msg[ROUTER_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	add_note(l, kind, code, l->plen ? l->path : "(document)", l->path, 0, 0,
	         msg);
}

/* A builder adder refused something at the current path.  EINVAL from an
 * adder means the document's value (an empty name, a duplicate rule). */
static void builder_err(ld *l, const router_error *e)
{
	if (e->code == ROUTER_ENOMEM) {
		l->nomem = 1;
		return;
	}
	note(l, ROUTER_DOC_NOTE_ERROR,
	     e->code == ROUTER_EINVAL ? ROUTER_EDOC : e->code, "%s", e->message);
}

/* Names are C strings, compared, printed in messages and logs, handed to
 * bindings: a control character in one (JSON "\u0001"; "\u0000" is
 * already a syntax error) is refused at the current path.  Returns 1 when
 * refused.  The name itself is not printed: the path shows it escaped. */
static int bad_name(ld *l, const char *what, const char *s)
{
	for (size_t i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) {
			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
			     "%s name has a control character (byte 0x%02x "
			     "at offset %zu): names may not hold control "
			     "characters",
			     what, c, i);
			l->skipped = 1;
			return 1;
		}
	}
	return 0;
}

static const char *jtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "a value";
}

/* ---- field tables ------------------------------------------------------ */

enum ftype { F_BOOL, F_STRING, F_OBJECT, F_ARRAY, F_ENUM, F_VERSION };
enum fuse { U_USE, U_IGNORED, U_RULES };

typedef struct fspec {
	const char *snake;
	const char *camel; /* NULL when the same */
	unsigned char type;
	unsigned char use;
} fspec;

static const char *ftype_name(unsigned t)
{
	static const char *const names[] = {
	    "a boolean", "a string", "an object", "an array",
	    "a string or an integer (enum)",
	    "a non-negative integer or a decimal string"};
	return names[t];
}

static int type_ok(unsigned t, const json_t *v)
{
	switch (t) {
	case F_BOOL:
		return json_is_boolean(v);
	case F_STRING:
		return json_is_string(v);
	case F_OBJECT:
		return json_is_object(v);
	case F_ARRAY:
		return json_is_array(v);
	case F_ENUM:
	case F_VERSION:
		return json_is_string(v) || json_is_integer(v);
	}
	return 0;
}

/* Levenshtein distance of two short strings (unknown-field hints). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[KEY_SHOWN + 1];

	if (la > KEY_SHOWN || lb > KEY_SHOWN)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

static void unknown_field(ld *l, const char *k, const fspec *spec, size_t n)
{
	const char *best = NULL;
	size_t bestd = 3, i;
	int strict = (l->o.flags & ROUTER_DOC_STRICT) != 0;

	for (i = 0; i < n; i++) {
		size_t d = edit_distance(k, spec[i].snake);

		if (spec[i].camel != NULL) {
			size_t dc = edit_distance(k, spec[i].camel);

			if (dc < d)
				d = dc;
		}
		if (d < bestd) {
			bestd = d;
			best = spec[i].snake;
		}
	}
	if (best != NULL)
		note(l,
		     strict ? ROUTER_DOC_NOTE_ERROR : ROUTER_DOC_NOTE_UNKNOWN,
		     strict ? ROUTER_EDOC : ROUTER_OK,
		     "unknown field %s%s (did you mean %s?)", k,
		     strict ? "" : ": skipped, as Vitess skips it", best);
	else
		note(l,
		     strict ? ROUTER_DOC_NOTE_ERROR : ROUTER_DOC_NOTE_UNKNOWN,
		     strict ? ROUTER_EDOC : ROUTER_OK, "unknown field %s%s", k,
		     strict ? "" : ": skipped, as Vitess skips it");
}

static int is_default(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return json_object_size(v) == 0;
	case JSON_ARRAY:
		return json_array_size(v) == 0;
	case JSON_STRING:
		return json_string_length(v) == 0 ||
		       strcmp(json_string_value(v), "unspecified") == 0;
	case JSON_INTEGER:
		return json_integer_value(v) == 0;
	case JSON_FALSE:
	case JSON_NULL:
		return 1;
	default:
		return 0;
	}
}

/* Read the fields of obj by spec: val[i] receives field i's value (NULL
 * when absent or null), key[i] the spelling found.  Reports unknown
 * fields, fields given twice (snake and camel), wrong types, and fields
 * librouter does not use. */
static void scan(ld *l, json_t *obj, const fspec *spec, size_t n,
                 json_t **val, const char **key)
{
	const char *k;
	json_t *v;
	size_t i;

	for (i = 0; i < n; i++) {
		val[i] = NULL;
		key[i] = NULL;
	}
	json_object_foreach(obj, k, v) {
		size_t old;

		for (i = 0; i < n; i++)
			if (strcmp(k, spec[i].snake) == 0 ||
			    (spec[i].camel != NULL &&
			     strcmp(k, spec[i].camel) == 0))
				break;
		old = path_key(l, k);
		if (i == n) {
			unknown_field(l, k, spec, n);
		} else if (key[i] != NULL) {
			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
			     "field %s is given twice, as %s and %s",
			     spec[i].snake, key[i], k);
		} else {
			key[i] = k;
			if (json_is_null(v)) {
				/* protobuf JSON: null is the default */
			} else if (!type_ok(spec[i].type, v)) {
				note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
				     "%s must be %s, not %s", k,
				     ftype_name(spec[i].type), jtype(v));
				l->skipped = 1;
			} else {
				val[i] = v;
				if (spec[i].use == U_IGNORED && !is_default(v))
					note(l, ROUTER_DOC_NOTE_IGNORED,
					     ROUTER_OK,
					     "%s does not decide routing: not "
					     "used",
					     spec[i].snake);
			}
		}
		path_set(l, old);
	}
	for (i = 0; i < n; i++) {
		json_t *rules;
		size_t old;

		if (spec[i].use != U_RULES || val[i] == NULL)
			continue;
		rules = json_object_get(val[i], "rules");
		old = path_key(l, key[i]);
		if (rules != NULL && !json_is_array(rules) &&
		    !json_is_null(rules)) {
			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
			     "%s.rules must be an array, not %s", key[i],
			     jtype(rules));
		} else if (json_array_size(rules) > 0) {
			note(l, ROUTER_DOC_NOTE_UNSUPPORTED, ROUTER_OK,
			     "%s (%zu rule%s) not applied by librouter: "
			     "mirroring sends copies of queries to another "
			     "keyspace and changes no route",
			     spec[i].snake, json_array_size(rules),
			     json_array_size(rules) == 1 ? "" : "s");
		}
		path_set(l, old);
	}
}

enum { S_KEYSPACES, S_ROUTING_RULES, S_SHARD_RR, S_KEYSPACE_RR, S_MIRROR,
       S_VERSION, S_N };
static const fspec srv_fields[S_N] = {
    {"keyspaces", NULL, F_OBJECT, U_USE},
    {"routing_rules", "routingRules", F_OBJECT, U_USE},
    {"shard_routing_rules", "shardRoutingRules", F_OBJECT, U_USE},
    {"keyspace_routing_rules", "keyspaceRoutingRules", F_OBJECT, U_USE},
    {"mirror_rules", "mirrorRules", F_OBJECT, U_RULES},
    {"version", NULL, F_VERSION, U_USE},
};

/* The version entry is last: it is read only at the top level of a
 * single-keyspace document. */
enum { K_SHARDED, K_VINDEXES, K_TABLES, K_SHARDS, K_RER, K_FKM, K_MTS,
       K_VERSION, K_N };
static const fspec ks_fields[K_N] = {
    {"sharded", NULL, F_BOOL, U_USE},
    {"vindexes", NULL, F_OBJECT, U_USE},
    {"tables", NULL, F_OBJECT, U_USE},
    {"shards", NULL, F_ARRAY, U_USE},
    {"require_explicit_routing", "requireExplicitRouting", F_BOOL,
     U_IGNORED},
    {"foreign_key_mode", "foreignKeyMode", F_ENUM, U_IGNORED},
    {"multi_tenant_spec", "multiTenantSpec", F_OBJECT, U_IGNORED},
    {"version", NULL, F_VERSION, U_USE},
};

enum { V_TYPE, V_PARAMS, V_OWNER, V_N };
static const fspec vindex_fields[V_N] = {
    {"type", NULL, F_STRING, U_USE},
    {"params", NULL, F_OBJECT, U_USE},
    {"owner", NULL, F_STRING, U_USE},
};

enum { T_TYPE, T_CVS, T_AUTOINC, T_COLUMNS, T_PINNED, T_CLA, T_SOURCE, T_N };
static const fspec table_fields[T_N] = {
    {"type", NULL, F_STRING, U_USE},
    {"column_vindexes", "columnVindexes", F_ARRAY, U_USE},
    {"auto_increment", "autoIncrement", F_OBJECT, U_IGNORED},
    {"columns", NULL, F_ARRAY, U_IGNORED},
    {"pinned", NULL, F_STRING, U_USE},
    {"column_list_authoritative", "columnListAuthoritative", F_BOOL,
     U_IGNORED},
    {"source", NULL, F_STRING, U_IGNORED},
};

enum { C_COLUMN, C_NAME, C_COLUMNS, C_N };
static const fspec cv_fields[C_N] = {
    {"column", NULL, F_STRING, U_USE},
    {"name", NULL, F_STRING, U_USE},
    {"columns", NULL, F_ARRAY, U_USE},
};

enum { RR_RULES, RR_N };
static const fspec rr_fields[RR_N] = {
    {"rules", NULL, F_ARRAY, U_USE},
};

enum { R_FROM, R_TO, R_N };
static const fspec rule_fields[R_N] = {
    {"from_table", "fromTable", F_STRING, U_USE},
    {"to_tables", "toTables", F_ARRAY, U_USE},
};

/* keyspace_routing_rules and shard_routing_rules entries. */
enum { XR_FROM, XR_TO, XR_SHARD, XR_N };
static const fspec xrule_fields[XR_N] = {
    {"from_keyspace", "fromKeyspace", F_STRING, U_USE},
    {"to_keyspace", "toKeyspace", F_STRING, U_USE},
    {"shard", NULL, F_STRING, U_USE},
};

/* ---- values ------------------------------------------------------------ */

static void read_version(ld *l, const json_t *v)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 0) {
			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
			     "version must not be negative (%" JSON_INTEGER_FORMAT
			     ")",
			     i);
			return;
		}
		l->version = (uint64_t)i;
		return;
	}
	if (router__parse_uint64(json_string_value(v), json_string_length(v),
	                         &l->version) != 0)
		note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
		     "version \"%.64s\" is not a decimal integer in "
		     "0..18446744073709551615",
		     json_string_value(v));
}

/* Caller-supplied shards for keyspace name, or NULL (marks it used). */
static const router_doc_shards *override_for(ld *l, const char *name)
{
	for (size_t i = 0; i < l->o.nshards; i++)
		if (strcmp(l->o.shards[i].keyspace, name) == 0) {
			l->shard_used[i] = 1;
			return &l->o.shards[i];
		}
	return NULL;
}

/* ---- files a document names --------------------------------------------- */

/* Largest map file json_path may name: vindex.c's limit for the same
 * param given to the builder directly. */
#define MAP_FILE_MAX ((size_t)64 << 20)

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "not a regular file";
}

typedef enum rdres { RD_OK, RD_ERRNO, RD_NOTREG, RD_TOOBIG, RD_NOMEM } rdres;

/* Read the file open at fd whole into *out (allocated with a, with a NUL
 * after the *outlen bytes), if it is a regular file of at most limit
 * bytes.  fd was opened with O_NONBLOCK so that the open itself could not
 * wait for a FIFO's writer; a FIFO, a device or a directory is refused
 * from fstat, unread.  The flag is then cleared so that reads block as
 * usual.  The size from fstat sizes the buffer; a file that grows while
 * it is read is read on, but never past limit + 1 bytes.  RD_ERRNO sets
 * *eno; RD_NOTREG sets *mode. */
static rdres read_regular(int fd, size_t limit, const router_allocator *a,
                          char **out, size_t *outlen, int *eno, mode_t *mode)
{
	struct stat st;
	size_t cap, n = 0;
	char *buf = NULL, *nb;
	int fl;

	*out = NULL;
	*outlen = 0;
	*eno = 0;
	if (fstat(fd, &st) != 0) {
		*eno = errno;
		return RD_ERRNO;
	}
	*mode = st.st_mode;
	if (!S_ISREG(st.st_mode))
		return RD_NOTREG;
	if ((uintmax_t)st.st_size > limit)
		return RD_TOOBIG;
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		*eno = errno;
		return RD_ERRNO;
	}
	cap = (size_t)st.st_size + 1; /* +1: the end is seen at once */
	if ((buf = router__malloc(a, cap + 1)) == NULL)
		return RD_NOMEM;
	for (;;) {
		ssize_t got;

		if (n == cap) {
			size_t next = cap * 2;

			if (cap > limit) {
				router__free(a, buf);
				return RD_TOOBIG;
			}
			if (next > limit + 1)
				next = limit + 1;
			/* Exact sizes: never more than the one byte past the
			 * limit that proves the file too long. */
			if ((nb = router__realloc(a, buf, next + 1)) == NULL) {
				router__free(a, buf);
				return RD_NOMEM;
			}
			buf = nb;
			cap = next;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			*eno = errno;
			router__free(a, buf);
			return RD_ERRNO;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > limit) {
		router__free(a, buf);
		return RD_TOOBIG;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return RD_OK;
}

/* Open rel below the directory dir for reading, or return -1 with the
 * reason in why (*code: ROUTER_EDOC for a path the policy refuses,
 * ROUTER_EREFERENCE for a file that cannot be opened).  rel must be
 * relative and stay below dir: ".." components are refused, and every
 * component is opened with O_NOFOLLOW, so no symbolic link below dir is
 * followed (dir itself is the operator's and may be one).  The file is
 * opened O_NONBLOCK: a FIFO cannot block the open (read_regular refuses
 * it). */
static int open_below(const char *dir, const char *rel, const char *pname,
                      int *code, char *why, size_t cap)
{
	const char *p = rel;
	int dfd, fd = -1;

	*code = ROUTER_EDOC;
	if (rel[0] == '\0') {
		snprintf(why, cap, "%s is empty", pname);
		return -1;
	}
	if (rel[0] == '/') {
		snprintf(why, cap,
		         "%s %.64s is absolute: it must be relative to "
		         "%.64s (the document's directory or "
		         "router_doc_options.json_path_dir)",
		         pname, rel, dir);
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		*code = ROUTER_EREFERENCE;
		snprintf(why, cap, "%s %.64s: cannot open the directory "
		         "%.64s: %s", pname, rel, dir, strerror(errno));
		return -1;
	}
	for (;;) {
		const char *e = strchr(p, '/');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
		char comp[NAME_MAX + 1];
		struct stat st;
		int nfd;

		if (len == 0 || (len == 1 && p[0] == '.')) {
			if (e == NULL) {
				*code = ROUTER_EREFERENCE;
				snprintf(why, cap,
				         "%s %.64s names a directory, not "
				         "a file", pname, rel);
				break;
			}
			p = e + 1;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			snprintf(why, cap,
			         "%s %.64s has a \"..\" component: a map "
			         "file must be below %.64s", pname, rel, dir);
			break;
		}
		if (len > NAME_MAX) {
			*code = ROUTER_EREFERENCE;
			snprintf(why, cap, "%s %.64s: %s", pname, rel,
			         strerror(ENAMETOOLONG));
			break;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		if (e != NULL)
			nfd = openat(dfd, comp,
			             O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			                 O_CLOEXEC);
		else
			nfd = openat(dfd, comp,
			             O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			                 O_NOCTTY | O_CLOEXEC);
		if (nfd < 0) {
			int en = errno;

			if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode)) {
				snprintf(why, cap,
				         "%s %.64s goes through the "
				         "symbolic link %.64s: refused (a map "
				         "file is read from below %.64s only, "
				         "never through a link)",
				         pname, rel, comp, dir);
			} else {
				*code = ROUTER_EREFERENCE;
				snprintf(why, cap, "%s %.64s: cannot open "
				         "%.64s/%.64s: %s", pname, rel, dir, rel,
				         strerror(en));
			}
			break;
		}
		if (e == NULL) {
			fd = nfd;
			break;
		}
		close(dfd);
		dfd = nfd;
		p = e + 1;
	}
	close(dfd);
	return fd;
}

/* What a step of map_file ended with. */
enum map_step { MAP_OK, MAP_REFUSED, MAP_NOMEM };

/* The params naming a map file, per type: numeric_static_map's json_path
 * (inlined as "json", which Vitess reads too) and region_json's region_map
 * (inlined as "region_map_json", librouter's: Vitess reads region_json's
 * map from a file only). */
typedef struct map_param {
	const char *path;   /* the param naming the file */
	const char *inline_; /* the param its content goes into */
	const char *what;   /* for messages: what the file must hold */
	int keep_path;      /* the content is added beside the path param */
} map_param;

static const map_param nsm_map = {
    "json_path", "json",
    "numeric_static_map table (a JSON object of decimal keys to unsigned "
    "64-bit integers)", 0};
static const map_param rj_map = {
    "region_map", "region_map_json",
    "region_json map (a JSON object of region names to unsigned "
    "integers)", 1};

/* The index of the map file param among params[0..np) of a vindex of
 * `type` (*mp: which), or np when there is nothing to read: the type reads
 * no file, has no such param, or also has the inline one (both given: the
 * builder reports it). */
static size_t map_file_param(const char *type, const router_param *params,
                             size_t np, const map_param **mp,
                             const char **check_type)
{
	const router__vtype *vt = router__vtype_find(type, strlen(type));
	size_t jp = np;

	if (vt == NULL)
		return np;
	*check_type = type;
	if (vt->kind == ROUTER__V_NUMERIC_STATIC_MAP) {
		*mp = &nsm_map;
	} else if (vt->kind == ROUTER__V_REGION_JSON) {
		*mp = &rj_map;
	} else if (vt->kind == ROUTER__V_MULTICOL &&
	           router__multicol_has_kind(params, np,
	                                     ROUTER__V_NUMERIC_STATIC_MAP)) {
		/* Its json_path / json are that column's: the same policy
		 * (without it, a document from memory could make the builder
		 * open any local file, and quote it in an error). */
		*mp = &nsm_map;
		*check_type = "numeric_static_map";
	} else {
		return np; /* no other type reads a file */
	}
	for (size_t i = 0; i < np; i++) {
		if (strcmp(params[i].key, (*mp)->inline_) == 0)
			return np;
		if (strcmp(params[i].key, (*mp)->path) == 0)
			jp = i;
	}
	return jp;
}

/* Reads the map file `rel` below l->files_dir into *content (NUL
 * terminated, allocated with l->a; set even when the step fails, for
 * the caller to free).  A load that may read no file, a file that
 * cannot be opened or read, is not regular, is too big or holds a NUL
 * byte is noted at the current path: MAP_REFUSED.  MAP_NOMEM: out of
 * memory, nothing noted. */
static enum map_step read_map_file(ld *l, const map_param *mp,
                                   const char *rel, char **content)
{
	char why[ROUTER_MESSAGE_MAX];
	const char *pn = mp->path;
	size_t n = 0;
	int fd, code, eno;
	mode_t mode = 0;
	rdres r;

	if (l->files_dir == NULL) {
		note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
		     "param %s names a local file (%.64s), which this "
		     "document may not do: a document loaded from memory or "
		     "over the network reads no file; put the map inline in "
		     "the \"%s\" param, or load the document from a local "
		     "file (router_doc_load_file, options.json_path_dir)",
		     pn, rel, mp->inline_);
		return MAP_REFUSED;
	}
	fd = open_below(l->files_dir, rel, pn, &code, why, sizeof why);
	if (fd < 0) {
		note(l, ROUTER_DOC_NOTE_ERROR, code, "%s (param '%s')", why,
		     pn);
		return MAP_REFUSED;
	}
	r = read_regular(fd, MAP_FILE_MAX, l->a, content, &n, &eno, &mode);
	close(fd);
	if (r == RD_NOMEM)
		return MAP_NOMEM;
	if (r != RD_OK) {
		note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EREFERENCE,
		     "%s %.96s: %s%s%s (param '%s')", pn, rel,
		     r == RD_NOTREG ? file_kind(mode) : "",
		     r == RD_NOTREG ? ", not a regular file: not read"
		     : r == RD_TOOBIG ? "the file is larger than 64 MiB"
		                      : "cannot read the file: ",
		     r == RD_ERRNO ? strerror(eno) : "", pn);
		return MAP_REFUSED;
	}
	if (strlen(*content) != n) {
		note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EREFERENCE,
		     "%s %.96s: the file holds a NUL byte: it is not a "
		     "JSON map (param '%s')", pn, rel, pn);
		return MAP_REFUSED;
	}
	return MAP_OK;
}

/* Compiles `content` (read from map file `rel`) as the inline param of
 * a vindex of `type` (with the vindex's other params, params[0..np) but
 * the file's, at index jp) and throws it away: a bad map is noted here
 * (MAP_REFUSED), without the builder's message, which may quote what it
 * could not parse.  Problems of the other params are left to the
 * builder.  MAP_NOMEM: out of memory, nothing noted. */
static enum map_step check_map_file(ld *l, const char *type,
                                    const map_param *mp, const char *rel,
                                    char *content)
{
	router_param p[2] = {{mp->inline_, content}, {"region_bytes", "1"}};
	router__vindex v;
	router_error e;
	int rc;

	memset(&v, 0, sizeof v);
	/* region_json also needs a valid region_bytes: give it one, so
	 * that only the map is judged here. */
	rc = router__vindex_init(&v, type, p, mp == &rj_map ? 2 : 1, l->a, "",
	                         &e);
	if (rc == ROUTER_ENOMEM)
		return MAP_NOMEM;
	if (rc != ROUTER_OK) {
		note(l, ROUTER_DOC_NOTE_ERROR, rc,
		     "%s %.96s: the file is not a %s; its content is not "
		     "quoted, as a document named the file (param '%s')",
		     mp->path, rel, mp->what, mp->path);
		return MAP_REFUSED;
	}
	router__vindex_fini(&v, l->a);
	return MAP_OK;
}

/* A numeric_static_map vindex names its map file in its json_path param,
 * a region_json vindex in its region_map param (params[0..*np)): read the
 * file under the load's policy and put its content in the inline param
 * (*content, the caller frees it after the builder copied the params):
 * in json_path's place ("json" is Vitess's own), or beside region_map,
 * in params[*np] (the caller leaves room for one more): Vitess reads
 * region_json's map from its file only, so a dump keeps region_map for
 * Vitess and carries region_map_json, which librouter reads instead of
 * the file.  Problems are noted at ...params.<param> and keep
 * the builder from running; their messages never quote the file's
 * content, which a document chose. */
static void map_file(ld *l, const char *type, const char *pkey,
                     router_param *params, size_t *np, char **content)
{
	const map_param *mp = NULL;
	const char *check_type = type;
	size_t jp, oldp, old;
	const char *rel;
	enum map_step st;

	*content = NULL;
	jp = map_file_param(type, params, *np, &mp, &check_type);
	if (jp == *np)
		return;
	rel = params[jp].value;
	oldp = path_key(l, pkey);
	old = path_key(l, mp->path);
	st = read_map_file(l, mp, rel, content);
	if (st == MAP_OK)
		st = check_map_file(l, check_type, mp, rel, *content);
	if (st == MAP_OK && mp->keep_path) {
		params[*np].key = mp->inline_;
		params[*np].value = *content;
		(*np)++;
	} else if (st == MAP_OK) {
		params[jp].key = mp->inline_;
		params[jp].value = *content;
	} else {
		if (st == MAP_NOMEM)
			l->nomem = 1;
		else
			l->skipped = 1;
		router__free(l->a, *content);
		*content = NULL;
	}
	path_set(l, old);
	path_set(l, oldp);
}

/* ---- the walk ---------------------------------------------------------- */

/* The params Vitess's vindex ignores, reported at params.<key> (the path
 * is at params) as vtctldclient ApplyVSchema prints them ("Unknown
 * parameter in vindex <name>: <param>"), sorted as UnknownParams() sorts
 * them; under ROUTER_DOC_STRICT one error with the text ApplyVSchema
 * --strict refuses with. */
static void unknown_params(ld *l, const char *name, const char *type,
                           const router_param *params, size_t np)
{
	const char **up;
	size_t n = router__vindex_unknown_params(type, params, np, NULL, 0);

	if (n == 0)
		return;
	up = router__malloc(l->a, n * sizeof *up);
	if (up == NULL) {
		l->nomem = 1;
		return;
	}
	router__vindex_unknown_params(type, params, np, up, n);
	if ((l->o.flags & ROUTER_DOC_STRICT) != 0) {
		char list[ROUTER_MESSAGE_MAX];
		size_t len = 0;

		list[0] = '\0';
		for (size_t i = 0; i < n && len < sizeof list; i++) {
			int w = snprintf(list + len, sizeof list - len, "%s%s",
			                 i ? ", " : "", up[i]);

			if (w < 0)
				break;
			len += (size_t)w;
		}
		note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
		     "unknown vindex params: %s (%s)", name, list);
	} else {
		for (size_t i = 0; i < n; i++) {
			size_t o = path_key(l, up[i]);

			note(l, ROUTER_DOC_NOTE_UNKNOWN, ROUTER_OK,
			     "Unknown parameter in vindex %s: %s", name, up[i]);
			path_set(l, o);
		}
	}
	router__free(l->a, up);
}

static void walk_vindex(ld *l, const char *ks, const char *name, json_t *obj)
{
	json_t *v[V_N];
	const char *k[V_N];
	router_param *params = NULL;
	char *content = NULL; /* a map file's content (map_file) */
	size_t np = 0, old;
	const char *type, *owner;
	router_error e;

	scan(l, obj, vindex_fields, V_N, v, k);
	type = v[V_TYPE] ? json_string_value(v[V_TYPE]) : "";
	owner = v[V_OWNER] ? json_string_value(v[V_OWNER]) : NULL;
	if (owner != NULL) {
		old = path_key(l, k[V_OWNER]);
		if (bad_name(l, "owner table", owner)) {
			path_set(l, old);
			return;
		}
		path_set(l, old);
	}
	if (type[0] == '\0') {
		old = path_key(l, k[V_TYPE] ? k[V_TYPE] : "type");
		note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EREFERENCE,
		     "vindexType \"\" not found (vindex %s has no type)", name);
		path_set(l, old);
		l->skipped = 1;
		return;
	}
	if (v[V_PARAMS] != NULL && json_object_size(v[V_PARAMS]) > 0) {
		const char *pk;
		json_t *pv;
		size_t oldp = path_key(l, k[V_PARAMS]);

		/* One more: map_file may add an inline map. */
		params = router__malloc(l->a, (json_object_size(v[V_PARAMS]) +
		                               1) * sizeof *params);
		if (params == NULL) {
			l->nomem = 1;
			path_set(l, oldp);
			return;
		}
		json_object_foreach(v[V_PARAMS], pk, pv) {
			size_t o2 = path_key(l, pk);

			if (!json_is_string(pv)) {
				/* protobuf map<string, string> */
				note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
				     "vindex param %s must be a string, not %s",
				     pk, jtype(pv));
				l->skipped = 1;
			} else {
				params[np].key = pk;
				params[np].value = json_string_value(pv);
				np++;
			}
			path_set(l, o2);
		}
		unknown_params(l, name, type, params, np);
		path_set(l, oldp);
		map_file(l, type, k[V_PARAMS], params, &np, &content);
	}
	if (router_builder_add_vindex(l->b, ks, name, type, params, np, owner,
	                              &e) != ROUTER_OK) {
		builder_err(l, &e);
		l->skipped = 1;
	}
	router__free(l->a, params);
	router__free(l->a, content);
}

static void walk_column_vindex(ld *l, const char *ks, const char *table,
                               json_t *obj, json_t *vindexes)
{
	json_t *v[C_N];
	const char *k[C_N];
	const char *column, *name, **cols = NULL;
	size_t ncols = 0, old, i;
	router_error e;

	scan(l, obj, cv_fields, C_N, v, k);
	column = v[C_COLUMN] ? json_string_value(v[C_COLUMN]) : "";
	name = v[C_NAME] ? json_string_value(v[C_NAME]) : "";
	/* Vitess: a non-empty column wins unless columns is also given. */
	if (column[0] != '\0') {
		if (v[C_COLUMNS] != NULL && json_array_size(v[C_COLUMNS]) > 0) {
			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EVSCHEMA,
			     "can't use column and columns at the same time in "
			     "vindex (%s) and table (%s)",
			     name, table);
			l->skipped = 1;
			return;
		}
		old = path_key(l, k[C_COLUMN]);
		if (bad_name(l, "column", column)) {
			path_set(l, old);
			return;
		}
		path_set(l, old);
		cols = &column;
		ncols = 1;
	} else {
		json_t *c;

		if (v[C_COLUMNS] == NULL || json_array_size(v[C_COLUMNS]) == 0) {
			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EVSCHEMA,
			     "must specify at least one column for vindex (%s) "
			     "and table (%s)",
			     name, table);
			l->skipped = 1;
			return;
		}
		cols = router__malloc(l->a, json_array_size(v[C_COLUMNS]) *
		                                sizeof *cols);
		if (cols == NULL) {
			l->nomem = 1;
			return;
		}
		old = path_key(l, k[C_COLUMNS]);
		json_array_foreach(v[C_COLUMNS], i, c) {
			size_t o2 = path_index(l, i);

			if (!json_is_string(c)) {
				note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
				     "column name must be a string, not %s",
				     jtype(c));
				l->skipped = 1;
			} else if (!bad_name(l, "column",
			                     json_string_value(c))) {
				cols[ncols++] = json_string_value(c);
			}
			path_set(l, o2);
		}
		path_set(l, old);
		if (ncols < json_array_size(v[C_COLUMNS]))
			goto out;
	}
	old = path_key(l, k[C_NAME] ? k[C_NAME] : "name");
	if (name[0] == '\0') {
		note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EREFERENCE,
		     "vindex  not found for table %s (the column vindex has no "
		     "name)",
		     table);
		l->skipped = 1;
		path_set(l, old);
		goto out;
	}
	if (bad_name(l, "vindex", name)) {
		path_set(l, old);
		goto out;
	}
	if (json_object_get(vindexes, name) == NULL)
		/* The builder finds it too; this gives it its path. */
		note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EREFERENCE,
		     "vindex %s not found for table %s", name, table);
	path_set(l, old);
	if (router_builder_add_column_vindex(l->b, ks, table, name, cols, ncols,
	                                     &e) != ROUTER_OK) {
		builder_err(l, &e);
		l->skipped = 1;
	}
out:
	if (cols != &column)
		router__free(l->a, (void *)cols);
}

static int ascii_eq_fold(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return 0;
	}
	return *a == *b;
}

/* Vitess refuses a table whose "columns" name a column twice, ignoring
 * case (sqlparser.IdentifierCI; here ASCII case only).  Columns are not
 * otherwise used: entries that are not objects with a string name are
 * left to the field's "not used" note. */
static uint64_t fold_hash(const char *s)
{
	uint64_t h = 1469598103934665603u;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32u : c)) *
		    1099511628211u;
	}
	return h;
}

static void check_columns(ld *l, const char *table, json_t *cols)
{
	size_t i, n = json_array_size(cols), cap = 16;
	size_t *slot; /* index + 1 of a column name seen; 0: empty */

	while (cap < 2 * n)
		cap *= 2;
	slot = router__malloc(l->a, cap * sizeof *slot);
	if (slot == NULL) {
		l->nomem = 1;
		return;
	}
	memset(slot, 0, cap * sizeof *slot);
	for (i = 0; i < n; i++) {
		const char *ni = json_string_value(
		    json_object_get(json_array_get(cols, i), "name"));
		size_t h;

		if (ni == NULL)
			continue;
		for (h = (size_t)fold_hash(ni) & (cap - 1); slot[h] != 0;
		     h = (h + 1) & (cap - 1))
			if (ascii_eq_fold(ni, json_string_value(json_object_get(
			                          json_array_get(cols,
			                                         slot[h] - 1),
			                          "name"))))
				break;
		if (slot[h] != 0) {
			size_t old = path_index(l, i);

			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EVSCHEMA,
			     "duplicate column name '%s' for table: %s", ni,
			     table);
			path_set(l, old);
			continue;
		}
		slot[h] = i + 1;
	}
	router__free(l->a, slot);
}

static void walk_table(ld *l, const char *ks, const char *name, json_t *obj,
                       json_t *vindexes)
{
	json_t *v[T_N], *cv;
	const char *k[T_N];
	const char *type;
	router_table_type tt = ROUTER_TABLE_NORMAL;
	router_error e;
	size_t i, old;

	scan(l, obj, table_fields, T_N, v, k);
	type = v[T_TYPE] ? json_string_value(v[T_TYPE]) : "";
	if (strcmp(type, "reference") == 0) {
		tt = ROUTER_TABLE_REFERENCE;
	} else if (strcmp(type, "sequence") == 0) {
		tt = ROUTER_TABLE_SEQUENCE;
	} else if (type[0] != '\0') {
		old = path_key(l, k[T_TYPE]);
		note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EVSCHEMA,
		     "unidentified table type %.64s", type);
		path_set(l, old);
		l->skipped = 1;
		return;
	}
	if (router_builder_add_table(
	        l->b, ks, name, tt,
	        v[T_PINNED] ? json_string_value(v[T_PINNED]) : NULL,
	        &e) != ROUTER_OK) {
		if (e.code == ROUTER_ERANGE && v[T_PINNED] != NULL) {
			old = path_key(l, k[T_PINNED]);
			builder_err(l, &e);
			path_set(l, old);
		} else {
			builder_err(l, &e);
		}
		l->skipped = 1;
		return;
	}
	if (v[T_COLUMNS] != NULL) {
		old = path_key(l, k[T_COLUMNS]);
		check_columns(l, name, v[T_COLUMNS]);
		path_set(l, old);
	}
	if (v[T_CVS] == NULL)
		return;
	old = path_key(l, k[T_CVS]);
	json_array_foreach(v[T_CVS], i, cv) {
		size_t o2 = path_index(l, i);

		if (!json_is_object(cv)) {
			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
			     "a column vindex must be an object, not %s",
			     jtype(cv));
			l->skipped = 1;
		} else {
			walk_column_vindex(l, ks, name, cv, vindexes);
		}
		path_set(l, o2);
	}
	path_set(l, old);
}

static void add_shard(ld *l, const char *ks, const char *shard, size_t *n)
{
	router_error e;

	if (bad_name(l, "shard", shard))
		return;
	if (router_builder_add_shard(l->b, ks, shard, &e) == ROUTER_OK) {
		(*n)++;
		return;
	}
	if (e.code == ROUTER_ENOMEM) {
		l->nomem = 1;
		return;
	}
	note(l, ROUTER_DOC_NOTE_ERROR,
	     e.code == ROUTER_EINVAL ? ROUTER_EDOC : e.code, "shard %.*s: %s",
	     ROUTER_NAME_MAX, shard, e.message);
	l->skipped = 1; /* the partition is incomplete: no coverage check */
}

/* Records keyspace `name` (its object and the path it was found at) in
 * l->ks, for the checks that run after the walk.  Returns 0, or -1 with
 * l->nomem set. */
static int record_keyspace(ld *l, const char *name, json_t *obj)
{
	if (grow(l->a, (void **)&l->ks, &l->cks, l->nks + 1, sizeof *l->ks) ||
	    (l->ks[l->nks].path = router__strndup(l->a, l->path, l->plen)) ==
	        NULL) {
		l->nomem = 1;
		return -1;
	}
	l->ks[l->nks].name = name;
	l->ks[l->nks].obj = obj;
	l->nks++;
	return 0;
}

/* Adds the shards the caller supplied for keyspace `name` (ov), noting
 * that the document's own "shards" (listed, under key `skey`, or NULL)
 * is ignored.  Notes are placed under a pseudo path naming the override;
 * the keyspace's path (the last one record_keyspace saved) is restored
 * after.  Returns how many shards were given. */
static size_t add_supplied_shards(ld *l, const char *name,
                                  const router_doc_shards *ov,
                                  const json_t *listed, const char *skey)
{
	char where[ROUTER_NAME_MAX + 40];
	size_t nsh = 0, i, old;

	if (listed != NULL) {
		old = path_key(l, skey);
		note(l, ROUTER_DOC_NOTE_IGNORED, ROUTER_OK,
		     "replaced by the %zu shard%s the caller supplied",
		     ov->nshards, ov->nshards == 1 ? "" : "s");
		path_set(l, old);
	}
	snprintf(where, sizeof where, "(shards supplied for %s)", name);
	old = l->plen;
	path_set(l, 0);
	path_append(l, where, strlen(where));
	for (i = 0; i < ov->nshards; i++) {
		size_t o2 = path_index(l, i);

		add_shard(l, name, ov->shards[i], &nsh);
		path_set(l, o2);
	}
	path_set(l, 0);
	path_append(l, l->ks[l->nks - 1].path, old);
	return ov->nshards;
}

/* Adds the shards the document lists for keyspace `name` (the array
 * `shards`, under key `skey`); a name that is not a string is an error.
 * Returns how many entries the array has. */
static size_t add_listed_shards(ld *l, const char *name, json_t *shards,
                                const char *skey)
{
	json_t *x;
	size_t nsh = 0, i, old;

	old = path_key(l, skey);
	json_array_foreach(shards, i, x) {
		size_t o2 = path_index(l, i);

		if (!json_is_string(x)) {
			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
			     "a shard name must be a string, not %s",
			     jtype(x));
			l->skipped = 1;
		} else {
			add_shard(l, name, json_string_value(x), &nsh);
		}
		path_set(l, o2);
	}
	path_set(l, old);
	return json_array_size(shards);
}

/* Walks the "vindexes" object (under key `vkey`) of keyspace `name`. */
static void walk_vindexes(ld *l, const char *name, json_t *vindexes,
                          const char *vkey)
{
	json_t *x;
	const char *key;
	size_t old;

	old = path_key(l, vkey);
	json_object_foreach(vindexes, key, x) {
		size_t o2 = path_key(l, key);

		if (!json_is_object(x)) {
			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
			     "a vindex must be an object, not %s", jtype(x));
			l->skipped = 1;
		} else if (!bad_name(l, "vindex", key)) {
			walk_vindex(l, name, key, x);
		}
		path_set(l, o2);
	}
	path_set(l, old);
}

/* Walks the "tables" object (under key `tkey`) of keyspace `name`;
 * `vindexes` is the keyspace's "vindexes" object (or NULL), which the
 * tables' column vindexes name. */
static void walk_tables(ld *l, const char *name, json_t *tables,
                        const char *tkey, json_t *vindexes)
{
	json_t *x;
	const char *key;
	size_t old;

	old = path_key(l, tkey);
	json_object_foreach(tables, key, x) {
		size_t o2 = path_key(l, key);

		if (!json_is_object(x)) {
			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
			     "a table must be an object, not %s", jtype(x));
			l->skipped = 1;
		} else if (!bad_name(l, "table", key)) {
			walk_table(l, name, key, x, vindexes);
		}
		path_set(l, o2);
	}
	path_set(l, old);
}

/* Walks keyspace `name` (its object `obj`; `top`: the document is this
 * one keyspace, so it may carry a "version"): records it, adds it to the
 * builder, then its shards (supplied or listed), vindexes and tables. */
static void walk_keyspace(ld *l, const char *name, json_t *obj, int top)
{
	json_t *v[K_N];
	const char *k[K_N];
	const router_doc_shards *ov;
	router_error e;
	size_t given = 0, old;
	int sharded;

	if (bad_name(l, "keyspace", name))
		return;
	scan(l, obj, ks_fields, top ? K_N : K_N - 1, v, k);
	if (top && v[K_VERSION] != NULL) {
		old = path_key(l, k[K_VERSION]);
		read_version(l, v[K_VERSION]);
		path_set(l, old);
	}
	sharded = v[K_SHARDED] != NULL && json_is_true(v[K_SHARDED]);
	if (record_keyspace(l, name, obj))
		return;
	if (router_builder_add_keyspace(l->b, name, sharded, &e) != ROUTER_OK) {
		builder_err(l, &e);
		l->skipped = 1;
		return;
	}

	ov = override_for(l, name);
	if (ov != NULL)
		given = add_supplied_shards(l, name, ov, v[K_SHARDS],
		                            k[K_SHARDS]);
	else if (v[K_SHARDS] != NULL)
		given = add_listed_shards(l, name, v[K_SHARDS], k[K_SHARDS]);
	if (sharded && given == 0) {
		note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
		     "sharded keyspace %s has no shards: list them in its "
		     "\"shards\" ([\"-80\", \"80-\"]) or supply them "
		     "(router_doc_options.shards, routerctl --shards "
		     "%s=-80,80-)",
		     name, name);
		/* Placeholder, so the rest of the keyspace is validated. */
		if (router_builder_add_shard(l->b, name, "-", &e) != ROUTER_OK)
			l->skipped = 1;
	}

	if (v[K_VINDEXES] != NULL)
		walk_vindexes(l, name, v[K_VINDEXES], k[K_VINDEXES]);
	if (v[K_TABLES] != NULL)
		walk_tables(l, name, v[K_TABLES], k[K_TABLES], v[K_VINDEXES]);
}

/* A rule whose from_table no lookup of vtgate's asks for (none, an empty
 * table name, a tablet type Vitess does not have): vtgate keeps it and
 * never applies it; so does librouter, with a note. */
static void rule_never_applies(ld *l, const char *from)
{
	static const char *const types[] = {
	    "primary", "master", "replica", "rdonly", "unknown", "spare",
	    "experimental", "backup", "restore", "drained"};
	const char *at = strrchr(from, '@'), *dot;
	size_t flen = at ? (size_t)(at - from) : strlen(from), i;

	if (from[0] == '\0') {
		note(l, ROUTER_DOC_NOTE_IGNORED, ROUTER_OK,
		     "routing rule without from_table: vtgate keeps it and "
		     "never applies it");
		return;
	}
	dot = memchr(from, '.', flen);
	if ((dot ? (size_t)(from + flen - dot - 1) : flen) == 0) {
		note(l, ROUTER_DOC_NOTE_IGNORED, ROUTER_OK,
		     "routing rule %s names no table: vtgate keeps it and "
		     "never applies it",
		     from);
		return;
	}
	if (at == NULL)
		return;
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(at + 1, types[i]) == 0)
			return;
	note(l, ROUTER_DOC_NOTE_IGNORED, ROUTER_OK,
	     "routing rule %s: unknown tablet type %s: vtgate keeps the rule "
	     "and never applies it",
	     from, at + 1);
}

static void walk_rules(ld *l, json_t *obj)
{
	json_t *v[RR_N], *r;
	const char *k[RR_N];
	size_t i, old;

	scan(l, obj, rr_fields, RR_N, v, k);
	if (v[RR_RULES] == NULL)
		return;
	old = path_key(l, k[RR_RULES]);
	l->rules = v[RR_RULES];
	l->rules_path = router__strndup(l->a, l->path, l->plen);
	if (l->rules_path == NULL)
		l->nomem = 1;
	json_array_foreach(v[RR_RULES], i, r) {
		json_t *f[R_N];
		const char *fk[R_N], *from, **targets;
		size_t o2 = path_index(l, i), o3, ntargets, j;
		router_error e;
		int badn;

		if (!json_is_object(r)) {
			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
			     "a routing rule must be an object, not %s",
			     jtype(r));
			l->skipped = 1;
			path_set(l, o2);
			continue;
		}
		scan(l, r, rule_fields, R_N, f, fk);
		from = f[R_FROM] ? json_string_value(f[R_FROM]) : "";
		ntargets = f[R_TO] ? json_array_size(f[R_TO]) : 0;
		if (f[R_FROM] == NULL && fk[R_FROM] != NULL &&
		    !json_is_null(json_object_get(r, fk[R_FROM]))) {
			/* a from_table of the wrong type: reported */
			l->skipped = 1;
			path_set(l, o2);
			continue;
		}
		o3 = path_key(l, fk[R_FROM] ? fk[R_FROM] : "from_table");
		badn = bad_name(l, "routing rule table", from);
		if (!badn)
			rule_never_applies(l, from);
		path_set(l, o3);
		targets = router__malloc(l->a, (ntargets ? ntargets : 1) *
		                                   sizeof *targets);
		if (targets == NULL) {
			l->nomem = 1;
			return;
		}
		o3 = path_key(l, fk[R_TO] ? fk[R_TO] : "to_tables");
		for (j = 0; j < ntargets; j++) {
			json_t *x = json_array_get(f[R_TO], j);
			size_t o4 = path_index(l, j);

			if (!json_is_string(x)) {
				note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
				     "a target table must be a string, not %s",
				     jtype(x));
				l->skipped = 1;
				badn = 1;
			} else {
				targets[j] = json_string_value(x);
				badn |= bad_name(l, "routing rule target",
				                 targets[j]);
			}
			path_set(l, o4);
		}
		path_set(l, o3);
		if (!badn &&
		    router__builder_add_rule_raw(l->b, from, targets, ntargets,
		                                 &e) != ROUTER_OK) {
			builder_err(l, &e);
			l->skipped = 1;
		}
		router__free(l->a, (void *)targets);
		path_set(l, o2);
	}
	path_set(l, old);
}

/* When keyspace `name` is one an earlier load found failing: note its
 * errors (ROUTER_DOC_NOTE_KEYSPACE, each at its own path; the first is
 * the one Vitess stores) and give the builder an error keyspace with the
 * first instead of walking it; 1.  Else 0. */
static int failed_keyspace(ld *l, const char *name)
{
	router_error e;
	size_t lo = 0, hi = l->nfailed;
	int found = 0;

	/* failed is sorted by name, then document order (load_doc): the
	 * first entry of name, then each of them. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(l->failed[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < l->nfailed; i++) {
		const kserr *f = &l->failed[i];

		if (strcmp(f->name, name) != 0)
			break;
		add_note(l, ROUTER_DOC_NOTE_KEYSPACE, f->code, f->name,
		         f->path, 0, 0, f->message);
		if (!found++ &&
		    router__builder_add_keyspace_error(l->b, name, f->message,
		                                       &e) != ROUTER_OK)
			l->nomem = 1;
	}
	return found > 0;
}

static void walk_keyspace_map(ld *l, json_t *obj, int versioned)
{
	const char *key;
	json_t *x;

	json_object_foreach(obj, key, x) {
		size_t old = path_key(l, key);

		if (versioned && strcmp(key, "version") == 0 &&
		    !json_is_object(x)) {
			if (type_ok(F_VERSION, x))
				read_version(l, x);
			else
				note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
				     "version must be %s, not %s",
				     ftype_name(F_VERSION), jtype(x));
		} else if (!json_is_object(x)) {
			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
			     "keyspace %s must be an object, not %s", key,
			     jtype(x));
			l->skipped = 1;
		} else if (!failed_keyspace(l, key)) {
			walk_keyspace(l, key, x, 0);
		}
		path_set(l, old);
	}
}

/* keyspace_routing_rules (shard 0) or shard_routing_rules (shard 1):
 * {"rules": [{"from_keyspace", "to_keyspace"[, "shard"]}]}.  Vitess keeps
 * every rule in a map without checking it (buildKeyspaceRoutingRule,
 * buildShardRoutingRule), the last of a key winning; so does the table,
 * which also refuses a plain keyspace rule to a keyspace it lacks
 * (table_build.c).  A rule whose fields are of the wrong type, or that
 * has a control character, is reported and skipped. */
static void walk_xrules(ld *l, json_t *obj, int shard)
{
	const char *what = shard ? "shard routing rule" : "keyspace routing rule";
	json_t *v[RR_N], *r;
	const char *k[RR_N];
	size_t i, old;

	scan(l, obj, rr_fields, RR_N, v, k);
	if (v[RR_RULES] == NULL)
		return;
	old = path_key(l, k[RR_RULES]);
	json_array_foreach(v[RR_RULES], i, r) {
		json_t *f[XR_N];
		const char *fk[XR_N], *from, *to, *sh;
		size_t o2 = path_index(l, i);
		router_error e;
		int rc;

		if (!json_is_object(r)) {
			note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
			     "a %s must be an object, not %s", what, jtype(r));
			l->skipped = 1;
			path_set(l, o2);
			continue;
		}
		/* "shard" is a field of shard rules only: scan the keyspace
		 * rules' two, so that a stray "shard" is an unknown field. */
		scan(l, r, xrule_fields, shard ? XR_N : XR_SHARD, f, fk);
		if (!shard) {
			f[XR_SHARD] = NULL;
			fk[XR_SHARD] = NULL;
		}
		from = f[XR_FROM] ? json_string_value(f[XR_FROM]) : "";
		to = f[XR_TO] ? json_string_value(f[XR_TO]) : "";
		sh = f[XR_SHARD] ? json_string_value(f[XR_SHARD]) : "";
		if ((fk[XR_FROM] != NULL && f[XR_FROM] == NULL &&
		     !json_is_null(json_object_get(r, fk[XR_FROM]))) ||
		    (fk[XR_TO] != NULL && f[XR_TO] == NULL &&
		     !json_is_null(json_object_get(r, fk[XR_TO]))) ||
		    (shard && fk[XR_SHARD] != NULL && f[XR_SHARD] == NULL &&
		     !json_is_null(json_object_get(r, fk[XR_SHARD])))) {
			/* a field of the wrong type: reported by scan */
			l->skipped = 1;
			path_set(l, o2);
			continue;
		}
		if (bad_name(l, what, from) || bad_name(l, what, to) ||
		    bad_name(l, what, sh)) {
			path_set(l, o2);
			continue;
		}
		rc = shard ? router__builder_add_shard_rule(l->b, from, sh, to,
		                                            &e)
		           : router__builder_add_keyspace_rule(l->b, from, to,
		                                               &e);
		if (rc != ROUTER_OK) {
			builder_err(l, &e);
			l->skipped = 1;
		}
		path_set(l, o2);
	}
	path_set(l, old);
}

static void walk_srv(ld *l, json_t *root)
{
	json_t *v[S_N];
	const char *k[S_N];
	size_t old;

	scan(l, root, srv_fields, S_N, v, k);
	if (v[S_VERSION] != NULL) {
		old = path_key(l, k[S_VERSION]);
		read_version(l, v[S_VERSION]);
		path_set(l, old);
	}
	if (v[S_KEYSPACES] != NULL) {
		old = path_key(l, k[S_KEYSPACES]);
		walk_keyspace_map(l, v[S_KEYSPACES], 0);
		path_set(l, old);
	}
	if (v[S_ROUTING_RULES] != NULL) {
		old = path_key(l, k[S_ROUTING_RULES]);
		walk_rules(l, v[S_ROUTING_RULES]);
		path_set(l, old);
	}
	if (v[S_KEYSPACE_RR] != NULL) {
		old = path_key(l, k[S_KEYSPACE_RR]);
		walk_xrules(l, v[S_KEYSPACE_RR], 0);
		path_set(l, old);
	}
	if (v[S_SHARD_RR] != NULL) {
		old = path_key(l, k[S_SHARD_RR]);
		walk_xrules(l, v[S_SHARD_RR], 1);
		path_set(l, old);
	}
}

/* ROUTER_DOC_AUTO: which shape root has.  *why names the field that
 * decided a single-keyspace document. */
static router_doc_format detect(const ld *l, json_t *root, const char **why)
{
	size_t i;

	for (i = 0; i < S_N; i++)
		if (i != S_VERSION &&
		    (json_object_get(root, srv_fields[i].snake) != NULL ||
		     (srv_fields[i].camel != NULL &&
		      json_object_get(root, srv_fields[i].camel) != NULL)))
			return ROUTER_DOC_SRV;
	for (i = 0; i < K_N; i++)
		if (i != K_VERSION &&
		    (json_object_get(root, ks_fields[i].snake) != NULL ||
		     (ks_fields[i].camel != NULL &&
		      json_object_get(root, ks_fields[i].camel) != NULL))) {
			*why = ks_fields[i].snake;
			return ROUTER_DOC_KEYSPACE;
		}
	if (l->o.keyspace != NULL &&
	    json_object_size(root) ==
	        (json_object_get(root, "version") != NULL ? 1u : 0u))
		return ROUTER_DOC_KEYSPACE;
	return ROUTER_DOC_MAP;
}

/* ---- builder culprits back to paths ------------------------------------ */

static const char *member_key(json_t *obj, const char *snake,
                              const char *camel)
{
	if (json_object_get(obj, snake) != NULL)
		return snake;
	if (camel != NULL && json_object_get(obj, camel) != NULL)
		return camel;
	return NULL;
}

/* Index the keyspace names (once, when the first culprit is placed): a
 * document with tens of thousands of keyspaces, each with a problem, made
 * a scan per culprit quadratic.  Returns -1 when out of memory. */
static int ks_index(ld *l)
{
	size_t nslot, i;

	if (l->ks_slot != NULL || l->nks == 0)
		return 0;
	for (nslot = 16; nslot < 2 * l->nks; nslot *= 2)
		;
	if (nslot > SIZE_MAX / sizeof *l->ks_slot ||
	    (l->ks_slot = router__malloc(l->a, nslot * sizeof *l->ks_slot)) ==
	        NULL)
		return -1;
	memset(l->ks_slot, 0, nslot * sizeof *l->ks_slot);
	l->ks_mask = nslot - 1;
	for (size_t k = 0; k < l->nks; k++) {
		const char *name = l->ks[k].name;

		i = (size_t)XXH3_64bits(name, strlen(name)) & l->ks_mask;
		/* A later keyspace of the same name wins, as the scan it
		 * replaces did. */
		while (l->ks_slot[i] != 0 &&
		       strcmp(l->ks[l->ks_slot[i] - 1].name, name) != 0)
			i = (i + 1) & l->ks_mask;
		l->ks_slot[i] = k + 1;
	}
	return 0;
}

static const ksinfo *ks_find(const ld *l, const char *name, size_t n)
{
	size_t i = (size_t)XXH3_64bits(name, n) & l->ks_mask;

	for (; l->ks_slot[i] != 0; i = (i + 1) & l->ks_mask) {
		const ksinfo *k = &l->ks[l->ks_slot[i] - 1];

		if (strncmp(k->name, name, n) == 0 && k->name[n] == '\0')
			return k;
	}
	return NULL;
}

/* Set l->path to where culprit lives in the document; "" if unknown. */
static void culprit_path(ld *l, const char *culprit)
{
	const ksinfo *best = NULL;
	size_t bestn = 0, i;

	path_set(l, 0);
	if (ks_index(l) != 0) {
		l->nomem = 1;
		return;
	}
	/* The longest keyspace name that culprit starts with, followed by
	 * its end, '.' (a table) or '/' (a shard). */
	for (size_t n = strlen(culprit) + 1; l->ks_slot != NULL && n-- > 0;)
		if ((culprit[n] == '\0' || culprit[n] == '.' ||
		     culprit[n] == '/') &&
		    (best = ks_find(l, culprit, n)) != NULL) {
			bestn = n;
			break;
		}
	if (best != NULL) {
		const char *rest = culprit + bestn, *k;
		json_t *m;

		path_append(l, best->path, strlen(best->path));
		if (*rest == '/') {
			k = member_key(best->obj, "shards", NULL);
			m = k ? json_object_get(best->obj, k) : NULL;
			if (json_is_array(m)) {
				json_t *x;

				path_key(l, k);
				json_array_foreach(m, i, x) {
					if (json_is_string(x) &&
					    strcmp(json_string_value(x),
					           rest + 1) == 0) {
						path_index(l, i);
						break;
					}
				}
			}
		} else if (*rest == '.') {
			rest++;
			if ((k = member_key(best->obj, "tables", NULL)) &&
			    (m = json_object_get(best->obj, k)) &&
			    json_object_get(m, rest) != NULL) {
				path_key(l, k);
				path_key(l, rest);
			} else if ((k = member_key(best->obj, "vindexes",
			                           NULL)) &&
			           (m = json_object_get(best->obj, k)) &&
			           json_object_get(m, rest) != NULL) {
				path_key(l, k);
				path_key(l, rest);
			}
		}
		return;
	}
	if (l->rules != NULL && culprit[0] != '\0') {
		json_t *r;

		json_array_foreach(l->rules, i, r) {
			json_t *f = json_object_get(r, "from_table");

			if (f == NULL)
				f = json_object_get(r, "fromTable");
			if (json_is_string(f) &&
			    strcmp(json_string_value(f), culprit) == 0) {
				path_append(l, l->rules_path,
				            strlen(l->rules_path));
				path_index(l, i);
				return;
			}
		}
	}
}

static uint64_t note_key(int code, const char *message)
{
	return XXH3_64bits_withSeed(message, strlen(message), (uint64_t)code);
}

/* The builder's problems as error notes, each with its path in the
 * document, leaving out those that reading the document already reported
 * (same code and message).  The lookup is a hash set over reading's error
 * notes: a document with tens of thousands of bad tables has as many notes
 * of each kind, and comparing every pair took seconds. */
static void builder_problems(ld *l)
{
	size_t n = router_builder_problem_count(l->b), i, j;
	size_t nread = l->rep->n; /* notes from reading the document */
	size_t nslot = 0, mask;
	size_t *slot = NULL; /* index + 1 of a reading error note; 0: empty */
	const router_allocator *a = l->rep->a;

	if (n == 0)
		return;
	for (nslot = 16; nslot < 2 * nread; nslot *= 2)
		;
	mask = nslot - 1;
	if (nread > 0) {
		if (nslot > SIZE_MAX / sizeof *slot ||
		    (slot = router__malloc(a, nslot * sizeof *slot)) == NULL) {
			l->nomem = 1;
			return;
		}
		memset(slot, 0, nslot * sizeof *slot);
		for (j = 0; j < nread; j++) {
			const router_doc_note *rn = &l->rep->notes[j];

			if (rn->kind != ROUTER_DOC_NOTE_ERROR)
				continue;
			i = (size_t)note_key(rn->error.code,
			                     rn->error.message) & mask;
			while (slot[i] != 0)
				i = (i + 1) & mask;
			slot[i] = j + 1;
		}
	}
	for (size_t p = 0; p < n; p++) {
		router_error e;
		int dup = 0;

		if (router_builder_problem(l->b, p, &e) != ROUTER_OK)
			continue;
		/* Only against reading's notes: two keyspaces may have
		 * builder problems with the same message. */
		if (slot != NULL)
			for (i = (size_t)note_key(e.code, e.message) & mask;
			     slot[i] != 0 && !dup; i = (i + 1) & mask) {
				const router_doc_note *rn =
				    &l->rep->notes[slot[i] - 1];

				dup = rn->error.code == e.code &&
				      strcmp(rn->error.message, e.message) == 0;
			}
		if (dup)
			continue;
		culprit_path(l, e.culprit);
		add_note(l, ROUTER_DOC_NOTE_ERROR, e.code, e.culprit,
		         l->plen ? l->path : e.culprit, 0, 0, e.message);
	}
	router__free(a, slot);
	path_set(l, 0);
}

/* ---- entry points ------------------------------------------------------ */

static int check_options(const router_doc_options *in, router_doc_options *o,
                         router_error *err)
{
	router_doc_options def = ROUTER_DOC_OPTIONS_INIT;
	size_t i, j;

	*o = def;
	if (in != NULL) {
		if (in->size < offsetof(router_doc_options, format) +
		                   sizeof in->format)
			return router__seterr(err, ROUTER_EINVAL, NULL,
			                      "router_doc_options.size is %zu: "
			                      "initialize the options with "
			                      "ROUTER_DOC_OPTIONS_INIT",
			                      in->size);
		memcpy(o, in, in->size < sizeof *o ? in->size : sizeof *o);
		o->size = sizeof *o;
	}
	if ((unsigned)o->format > ROUTER_DOC_KEYSPACE)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "unknown document format %d",
		                      (int)o->format);
	if (o->flags & ~(ROUTER_DOC_STRICT | ROUTER_DOC_UNUSED_SHARDS_OK |
	                 ROUTER_DOC_NO_FILES))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "unknown load flags 0x%x", o->flags);
	if (o->json_path_dir != NULL && o->json_path_dir[0] == '\0')
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "options.json_path_dir is empty: name a "
		                      "directory, or NULL");
	if (o->format == ROUTER_DOC_KEYSPACE &&
	    (o->keyspace == NULL || o->keyspace[0] == '\0'))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "a single-keyspace document needs its "
		                      "keyspace name (options.keyspace)");
	if (o->shards == NULL && o->nshards != 0)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "options.shards is NULL but nshards is "
		                      "%zu",
		                      o->nshards);
	for (i = 0; i < o->nshards; i++) {
		const router_doc_shards *s = &o->shards[i];

		if (s->keyspace == NULL || s->keyspace[0] == '\0')
			return router__seterr(err, ROUTER_EINVAL, NULL,
			                      "options.shards[%zu] has no "
			                      "keyspace",
			                      i);
		if (s->shards == NULL && s->nshards != 0)
			return router__seterr(err, ROUTER_EINVAL, s->keyspace,
			                      "options.shards[%zu] (%s): shards "
			                      "is NULL",
			                      i, s->keyspace);
		for (j = 0; j < s->nshards; j++)
			if (s->shards[j] == NULL)
				return router__seterr(
				    err, ROUTER_EINVAL, s->keyspace,
				    "options.shards[%zu] (%s): shard %zu is "
				    "NULL",
				    i, s->keyspace, j);
		for (j = 0; j < i; j++)
			if (strcmp(o->shards[j].keyspace, s->keyspace) == 0)
				return router__seterr(
				    err, ROUTER_EINVAL, s->keyspace,
				    "shards are supplied twice for keyspace %s",
				    s->keyspace);
	}
	return ROUTER_OK;
}

static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

static void parse_error(ld *l, const json_error_t *je)
{
	char culprit[64], msg[ROUTER_MESSAGE_MAX];
	enum json_error_code c = json_error_code(je);

	if (c == json_error_out_of_memory) {
		l->nomem = 1;
		return;
	}
	snprintf(culprit, sizeof culprit, "line %d, column %d", je->line,
	         je->column);
	snprintf(msg, sizeof msg, "JSON syntax error at line %d, column %d: %s%s",
	         je->line, je->column, je->text,
	         c == json_error_numeric_overflow
	             ? " (JSON integers must fit in a signed 64-bit integer; "
	               "librouter's version may be a decimal string)"
	         : c == json_error_stack_overflow
	             ? " (the document nests deeper than the parser allows)"
	         : c == json_error_duplicate_key
	             ? " (a key may appear once per object)"
	             : "");
	add_note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC, culprit, "", je->line,
	         je->column, msg);
}

static void finish_error(ld *l, router_error *err)
{
	if (err == NULL)
		return;
	*err = l->first;
	if (l->nerr > 1) {
		size_t n = strlen(err->message);

		snprintf(err->message + n, sizeof err->message - n,
		         " (and %zu more problem%s)", l->nerr - 1,
		         l->nerr > 2 ? "s" : "");
	}
}

static void walk(ld *l, json_t *root)
{
	router_doc_format f = l->o.format;
	const char *why = NULL;

	if (f == ROUTER_DOC_AUTO)
		f = detect(l, root, &why);
	if (f == ROUTER_DOC_KEYSPACE && l->o.keyspace == NULL) {
		/* Only AUTO gets here: check_options refused the rest. */
		note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC,
		     "the document is one keyspace's VSchema (it has \"%s\"): "
		     "give the keyspace's name (router_doc_options.keyspace, "
		     "routerctl --keyspace NAME)",
		     why);
		l->skipped = 1;
		return;
	}
	l->format = f;
	switch (f) {
	case ROUTER_DOC_SRV:
		walk_srv(l, root);
		break;
	case ROUTER_DOC_MAP:
		walk_keyspace_map(l, root, 1);
		break;
	default:
		walk_keyspace(l, l->o.keyspace, root, 1);
		break;
	}
}

/* Refuse what is not a JSON object of a sane size; 0 when *rootp is one
 * (*rootp is set whenever jansson parsed something, for the caller to
 * free), -1 with an error note otherwise. */
static int parse_root(ld *l, const void *json, size_t len, json_t **rootp)
{
	json_t *root;
	json_error_t je;

	if (len > ROUTER_DOC_MAX_SIZE) {
		char msg[128];

		snprintf(msg, sizeof msg,
		         "the document is %zu bytes; the limit is %zu", len,
		         ROUTER_DOC_MAX_SIZE);
		add_note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_ERANGE, "(document)",
		         "", 0, 0, msg);
		return -1;
	}
	if (is_blank(json, len)) {
		add_note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC, "(document)", "",
		         0, 0, "the document is empty");
		return -1;
	}
	*rootp = root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		parse_error(l, &je);
		return -1;
	}
	if (!json_is_object(root)) {
		char msg[96];

		snprintf(msg, sizeof msg,
		         "a routing document is a JSON object, not %s",
		         jtype(root));
		add_note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_EDOC, "(document)", "",
		         0, 0, msg);
		return -1;
	}
	return 0;
}

/* Shards supplied for a keyspace the document does not define: an error,
 * or a note when the options allow it. */
static void check_unused_shards(ld *l)
{
	for (size_t i = 0; i < l->o.nshards; i++) {
		const char *ks = l->o.shards[i].keyspace;
		char where[ROUTER_NAME_MAX + 40], msg[ROUTER_NAME_MAX + 100];

		if (l->shard_used[i])
			continue;
		snprintf(where, sizeof where, "(shards supplied for %.*s)",
		         ROUTER_NAME_MAX, ks);
		snprintf(msg, sizeof msg,
		         "shards are supplied for keyspace %.*s, which the "
		         "document does not define",
		         ROUTER_NAME_MAX, ks);
		if (l->o.flags & ROUTER_DOC_UNUSED_SHARDS_OK)
			add_note(l, ROUTER_DOC_NOTE_IGNORED, ROUTER_OK, where,
			         where, 0, 0, msg);
		else
			add_note(l, ROUTER_DOC_NOTE_ERROR, ROUTER_ENOTFOUND, ks,
			         where, 0, 0, msg);
	}
}

/* A problem doc_vschema.c found in table `table` of keyspace l->ks[ksi],
 * at its field `field`. */
static void vschema_problem(void *ctx, size_t ksi, const char *table,
                            const char *field, int code, const char *msg)
{
	ld *l = ctx;
	const ksinfo *k = &l->ks[ksi];
	char culprit[ROUTER_CULPRIT_MAX];
	const char *key;

	path_set(l, 0);
	path_append(l, k->path, strlen(k->path));
	path_key(l, member_key(k->obj, "tables", NULL));
	path_key(l, table);
	if ((key = member_key(json_object_get(json_object_get(k->obj, "tables"),
	                                      table),
	                      field,
	                      strcmp(field, "auto_increment") == 0
	                          ? "autoIncrement"
	                          : NULL)) != NULL)
		path_key(l, key);
	if (snprintf(culprit, sizeof culprit, "%.*s.%.*s", ROUTER_NAME_MAX,
	             k->name, ROUTER_NAME_MAX, table) < 0)
		culprit[0] = '\0';
	add_note(l, ROUTER_DOC_NOTE_ERROR, code, culprit, l->path, 0, 0, msg);
	path_set(l, 0);
}

/* The document's keyspaces for doc_vschema.c (a new array in *out), or
 * -1 out of memory. */
static int doc_keyspaces(ld *l, router__doc_ks **out)
{
	router__doc_ks *ks = router__malloc(l->a, (l->nks ? l->nks : 1) *
	                                              sizeof *ks);

	if (ks == NULL)
		return -1;
	for (size_t i = 0; i < l->nks; i++) {
		ks[i].name = l->ks[i].name;
		ks[i].obj = l->ks[i].obj;
	}
	*out = ks;
	return 0;
}

/* Vitess's checks across keyspaces (doc_vschema.c): reference sources
 * before the build; sequences after it, on table *tp (freed when one
 * fails).  A single-keyspace document is built as Vitess's BuildKeyspace
 * builds one: sources are parsed, not resolved, and sequences are not
 * resolved. */
static void check_vschema(ld *l, router_table **tp, int after_build)
{
	router__doc_ks *ks;
	int cross = l->format != ROUTER_DOC_KEYSPACE, rc;

	if (doc_keyspaces(l, &ks) != 0) {
		l->nomem = 1;
		return;
	}
	if (!after_build)
		rc = router__doc_check_references(ks, l->nks, cross, l->a,
		                                  vschema_problem, l);
	else if (cross && *tp != NULL)
		rc = router__doc_check_sequences(ks, l->nks, *tp, l->a,
		                                 vschema_problem, l);
	else
		rc = 0;
	router__free(l->a, ks);
	if (rc != 0)
		l->nomem = 1;
	if (after_build && (l->nerr > 0 || l->nomem)) {
		router_table_free(*tp);
		*tp = NULL;
	}
}

/* Set l->path to the last rule of the document for from_table `from`
 * (the one whose verdict stands); "" if none. */
static void rule_path(ld *l, const char *from)
{
	json_t *r;
	size_t i, last = SIZE_MAX;

	path_set(l, 0);
	json_array_foreach(l->rules, i, r) {
		json_t *f = json_object_get(r, "from_table");

		if (f == NULL)
			f = json_object_get(r, "fromTable");
		if (strcmp(json_is_string(f) ? json_string_value(f) : "",
		           from) == 0)
			last = i;
	}
	if (last == SIZE_MAX || l->rules_path == NULL)
		return;
	path_append(l, l->rules_path, strlen(l->rules_path));
	path_index(l, last);
}

/* A note for each routing rule of t that vtgate keeps as an error: the
 * document loads, and lookups through the rule fail with ROUTER_ERULE. */
static void rule_notes(ld *l, const router_table *t)
{
	for (size_t i = 0; i < t->nrules; i++) {
		const router__rule *r = &t->rules[i];

		if (r->error == NULL)
			continue;
		rule_path(l, r->from);
		add_note(l, ROUTER_DOC_NOTE_RULE, ROUTER_OK, r->from,
		         l->plen ? l->path : r->from, 0, 0, r->error);
	}
	path_set(l, 0);
}

/* Build the table from the walked document into *tp; problems become
 * notes and leave *tp NULL. */
static void build_table(ld *l, router_table **tp)
{
	router_error be;
	int rc;

	router_builder_set_version(l->b,
	                           l->o.version ? l->o.version : l->version);
	rc = router_table_build(l->b, tp, &be);
	if (rc == ROUTER_ENOMEM && router_builder_problem_count(l->b) == 0) {
		l->nomem = 1;
		return;
	}
	if (rc != ROUTER_OK) {
		size_t before = l->nerr;

		builder_problems(l);
		if (l->nerr == before && before == 0)
			add_note(l, ROUTER_DOC_NOTE_ERROR, rc, be.culprit,
			         be.culprit, 0, 0, be.message);
	}
	if (l->nerr > 0 || l->nomem) {
		router_table_free(*tp);
		*tp = NULL;
		return;
	}
	rule_notes(l, *tp);
}

static int kserr_cmp(const void *a, const void *b)
{
	const kserr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static void kserr_free(const router_allocator *a, kserr *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		router__free(a, k[i].name);
		router__free(a, k[i].path);
		router__free(a, k[i].culprit);
		router__free(a, k[i].message);
	}
	router__free(a, k);
}

static int in_path(const char *path, const char *kp)
{
	size_t kl = strlen(kp);

	return strncmp(path, kp, kl) == 0 &&
	       (path[kl] == '\0' || path[kl] == '.' || path[kl] == '[');
}

/* The keyspace of l->ks whose path the note's path is in, or NULL: by
 * the name after the keyspaces' common path prefix (ks_find), else (a
 * name the path writes quoted) by a scan. */
static const ksinfo *note_keyspace(ld *l, const router_doc_note *n)
{
	const ksinfo *k0 = l->nks ? &l->ks[0] : NULL;
	size_t pl, nl = k0 ? strlen(k0->name) : 0;

	if (n->path == NULL || k0 == NULL)
		return NULL;
	pl = strlen(k0->path);
	if (pl >= nl && strcmp(k0->path + pl - nl, k0->name) == 0 &&
	    strncmp(n->path, k0->path, pl - nl) == 0 && ks_index(l) == 0) {
		const char *cand = n->path + (pl - nl);
		const ksinfo *k = ks_find(l, cand, strcspn(cand, ".["));

		if (k != NULL && in_path(n->path, k->path))
			return k;
	}
	for (size_t i = 0; i < l->nks; i++) {
		if (in_path(n->path, l->ks[i].path))
			return &l->ks[i];
	}
	return NULL;
}

/*
 * Vitess's split of a failed load: vtgate builds every keyspace, and one
 * whose build fails is kept with its error (KeyspaceSchema.Error; the
 * other keyspaces serve).  When every error of this load is one Vitess
 * fails a keyspace for (ROUTER_EVSCHEMA, ROUTER_EREFERENCE: see
 * docs/spec.md section 4) within a keyspace's definitions, *out gets
 * those keyspaces with their first error, for the next load to build as
 * error keyspaces; else (librouter's own refusals, document errors, a
 * single-keyspace document: what ApplyVSchema refuses) *nout stays 0 and
 * the document is refused.  -1 out of memory.
 */
static int split_keyspaces(ld *l, kserr **out, size_t *nout)
{
	kserr *k = NULL;
	size_t n = 0, cap = 0;

	*nout = 0;
	if (l->nerr == 0 || l->nomem || l->format == ROUTER_DOC_KEYSPACE)
		return 0;
	for (size_t i = 0; i < l->rep->n; i++) {
		const router_doc_note *no = &l->rep->notes[i];
		const ksinfo *ks;

		if (no->kind != ROUTER_DOC_NOTE_ERROR)
			continue;
		if ((no->error.code != ROUTER_EVSCHEMA &&
		     no->error.code != ROUTER_EREFERENCE) ||
		    (ks = note_keyspace(l, no)) == NULL) {
			kserr_free(l->a, k, n);
			return 0;
		}
		/* Every error is kept (in document order): the first is the
		 * one Vitess stores, which lookups answer with. */
		if (grow(l->a, (void **)&k, &cap, n + 1, sizeof *k))
			goto nomem;
		memset(&k[n], 0, sizeof k[n]);
		k[n].code = no->error.code;
		k[n].seq = n;
		k[n].name = router__strndup(l->a, ks->name, strlen(ks->name));
		k[n].path = router__strndup(l->a, no->path, strlen(no->path));
		k[n].culprit = router__strndup(l->a, no->error.culprit,
		                               strlen(no->error.culprit));
		k[n].message = router__strndup(l->a, no->error.message,
		                               strlen(no->error.message));
		n++;
		if (k[n - 1].name == NULL || k[n - 1].path == NULL ||
		    k[n - 1].culprit == NULL || k[n - 1].message == NULL)
			goto nomem;
	}
	*out = k;
	*nout = n;
	return 0;
nomem:
	kserr_free(l->a, k, n);
	return -1;
}

/* One load of the document, with the keyspaces failed[0..nfailed) built
 * as error keyspaces; *more, *nmore: the keyspaces this load found
 * failing (split_keyspaces), when that is why it failed. */
static int load_once(const void *json, size_t len,
                     const router_doc_options *opt, const char *file_dir,
                     const kserr *failed, size_t nfailed, kserr **more,
                     size_t *nmore, router_table **out,
                     router_doc_report **report, router_error *err)
{
	ld l;
	json_t *root = NULL;
	router_table *t = NULL;
	size_t i;
	int rc;

	*nmore = 0;
	if (out != NULL)
		*out = NULL;
	if (report != NULL)
		*report = NULL;
	if (out == NULL || (json == NULL && len != 0))
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_doc_load: NULL argument");
	memset(&l, 0, sizeof l);
	if ((rc = check_options(opt, &l.o, err)) != ROUTER_OK)
		return rc;
	l.failed = failed;
	l.nfailed = nfailed;
	l.files_dir = (l.o.flags & ROUTER_DOC_NO_FILES) ? NULL
	              : l.o.json_path_dir != NULL       ? l.o.json_path_dir
	                                                : file_dir;
	l.a = router__allocator(l.o.allocator);
	l.rep = router__malloc(l.a, sizeof *l.rep);
	if (l.rep == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL,
		                      "out of memory");
	memset(l.rep, 0, sizeof *l.rep);
	l.rep->a = l.a;

	if (parse_root(&l, json, len, &root) != 0)
		goto done;
	if (router_builder_create(&l.b, l.a, err) != ROUTER_OK) {
		l.nomem = 1;
		goto done;
	}
	l.shard_used = router__malloc(l.a, l.o.nshards + 1);
	if (l.shard_used == NULL) {
		l.nomem = 1;
		goto done;
	}
	memset(l.shard_used, 0, l.o.nshards + 1);
	walk(&l, root);
	if (l.nomem)
		goto done;
	check_unused_shards(&l);
	if (l.skipped || l.nomem)
		goto done;
	check_vschema(&l, &t, 0);
	if (l.nomem)
		goto done;
	build_table(&l, &t);
	if (!l.nomem)
		check_vschema(&l, &t, 1);
done:
	if (l.nomem) {
		router_table_free(t);
		t = NULL;
		rc = router__seterr(err, ROUTER_ENOMEM, NULL,
		                    "out of memory while loading the document");
	} else if (l.nerr > 0) {
		finish_error(&l, err);
		rc = l.first.code;
	} else {
		rc = ROUTER_OK;
		router__clearerr(err);
	}
	if (rc != ROUTER_OK && rc != ROUTER_ENOMEM &&
	    split_keyspaces(&l, more, nmore) != 0) {
		l.nomem = 1; /* no report, as any load out of memory */
		rc = router__seterr(err, ROUTER_ENOMEM, NULL,
		                    "out of memory while loading the document");
	}
	router_builder_free(l.b);
	for (i = 0; i < l.nks; i++)
		router__free(l.a, l.ks[i].path);
	router__free(l.a, l.ks);
	router__free(l.a, l.ks_slot);
	router__free(l.a, l.rules_path);
	router__free(l.a, l.shard_used);
	json_decref(root);
	if (rc == ROUTER_OK)
		*out = t;
	if (report != NULL && !l.nomem)
		*report = l.rep;
	else
		router_doc_report_free(l.rep);
	return rc;
}

/* router_doc_load, with json_path resolved under file_dir (the document
 * file's directory) unless the options say otherwise; NULL: from memory.
 * Loads again while a load fails only because of keyspaces Vitess would
 * keep as error keyspaces, each time with those too built as such (one
 * more at least per load, so at most one load per keyspace more). */
static int load_doc(const void *json, size_t len, const router_doc_options *opt,
                    const char *file_dir, router_table **out,
                    router_doc_report **report, router_error *err)
{
	router_doc_options o;
	const router_allocator *a;
	kserr *failed = NULL, *more;
	size_t nfailed = 0, cfailed = 0, nmore;
	int rc;

	if (check_options(opt, &o, NULL) != ROUTER_OK)
		o.allocator = NULL; /* load_once reports it */
	a = router__allocator(o.allocator);
	for (;;) {
		rc = load_once(json, len, opt, file_dir, failed, nfailed, &more,
		               &nmore, out, report, err);
		if (nmore == 0)
			break;
		if (grow(a, (void **)&failed, &cfailed, nfailed + nmore,
		         sizeof *failed)) {
			kserr_free(a, more, nmore);
			if (report != NULL) {
				router_doc_report_free(*report);
				*report = NULL;
			}
			rc = router__seterr(err, ROUTER_ENOMEM, NULL,
			                    "out of memory while loading the "
			                    "document");
			break;
		}
		for (size_t i = 0; i < nmore; i++)
			more[i].seq += nfailed; /* after the earlier loads' */
		memcpy(failed + nfailed, more, nmore * sizeof *more);
		nfailed += nmore;
		qsort(failed, nfailed, sizeof *failed, kserr_cmp);
		router__free(a, more);
		if (report != NULL) {
			router_doc_report_free(*report);
			*report = NULL;
		}
	}
	kserr_free(a, failed, nfailed);
	return rc;
}

int router_doc_load(const void *json, size_t len,
                    const router_doc_options *opt, router_table **out,
                    router_doc_report **report, router_error *err)
{
	return load_doc(json, len, opt, NULL, out, report, err);
}

static int too_large(const char *path, router_error *err)
{
	return router__seterr(err, ROUTER_ERANGE, path,
	                      "%s is larger than %zu bytes", path,
	                      ROUTER_DOC_MAX_SIZE);
}

int router_doc_load_file(const char *path, const router_doc_options *opt,
                         router_table **out, router_doc_report **report,
                         router_error *err)
{
	const router_allocator *a;
	const char *slash;
	char *buf = NULL, *dir;
	size_t n = 0;
	mode_t mode = 0;
	int fd, eno = 0, rc;
	rdres r;

	if (out != NULL)
		*out = NULL;
	if (report != NULL)
		*report = NULL;
	if (path == NULL || out == NULL)
		return router__seterr(err, ROUTER_EINVAL, NULL,
		                      "router_doc_load_file: NULL argument");
	if (opt != NULL && opt->size >= offsetof(router_doc_options, allocator) +
	                                    sizeof opt->allocator)
		a = router__allocator(opt->allocator);
	else
		a = router__allocator(NULL);
	/* O_NONBLOCK: a FIFO at path must not block the open (waiting for a
	 * writer, forever); read_regular refuses it unread.  O_NOCTTY: a
	 * terminal named by mistake does not become ours. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		eno = errno;
		router__seterr(err, ROUTER_EIO, path, "cannot open %s: %s",
		               path, strerror(eno));
		errno = eno; /* the contract: errno says why */
		return ROUTER_EIO;
	}
	/* A regular file's size is known: a too large one is refused
	 * unread, the rest is read in one buffer of the right size. */
	r = read_regular(fd, ROUTER_DOC_MAX_SIZE, a, &buf, &n, &eno, &mode);
	close(fd);
	switch (r) {
	case RD_OK:
		break;
	case RD_NOTREG:
		router__seterr(err, ROUTER_EIO, path,
		               "cannot load %s: it is %s, not a regular "
		               "file (a FIFO or a device may block or "
		               "never end; pass its content to "
		               "router_doc_load)",
		               path, file_kind(mode));
		errno = S_ISDIR(mode) ? EISDIR : EINVAL;
		return ROUTER_EIO;
	case RD_TOOBIG:
		return too_large(path, err);
	case RD_NOMEM:
		return router__seterr(err, ROUTER_ENOMEM, path,
		                      "out of memory reading %s", path);
	case RD_ERRNO:
		router__seterr(err, ROUTER_EIO, path, "cannot read %s: %s",
		               path, strerror(eno));
		errno = eno;
		return ROUTER_EIO;
	}
	/* json_path is resolved under the document's own directory. */
	slash = strrchr(path, '/');
	if (slash == NULL)
		dir = router__strndup(a, ".", 1);
	else
		dir = router__strndup(a, path,
		                      slash == path ? 1 : (size_t)(slash - path));
	if (dir == NULL) {
		router__free(a, buf);
		return router__seterr(err, ROUTER_ENOMEM, path,
		                      "out of memory reading %s", path);
	}
	rc = load_doc(buf, n, opt, dir, out, report, err);
	router__free(a, dir);
	router__free(a, buf);
	return rc;
}
