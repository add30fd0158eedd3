/*
 * routerctl: check a VSchema change before it ships, route from the shell.
 *
 * Exit status: 0 success, 1 when the answer is "no" (refused, invalid,
 * not routable), 2 usage or I/O errors.  Errors go to stderr; --json puts
 * one JSON object on stdout for every exit status but 2.  `routerctl help`
 * has the full text.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "router.h"
#include "router_doc.h"
#include "routerctl_etcd.h"
/* The manual, generated from cli/routerctl.1 (cli/man2help.sh). */
#include "routerctl_help.h"

enum { EXIT_YES = 0, EXIT_NO = 1, EXIT_USAGE = 2 };

/* Options a command accepts. */
enum {
	O_JSON = 1u << 0,
	O_KEYSPACE = 1u << 1,
	O_SHARDS = 1u << 2,
	O_SQLTYPE = 1u << 3,
	O_HEX = 1u << 4,
	O_DESTRUCTIVE = 1u << 5,
	O_VITESS = 1u << 6,
	O_COMPACT = 1u << 7,
	O_SAMPLE = 1u << 8,
	O_INVARIANTS = 1u << 9,
	O_JSON_PATH_DIR = 1u << 10,
	O_PARAM = 1u << 11,
	O_COLUMN = 1u << 12,
	O_LOOKUP_ROWS = 1u << 13,
	O_SHARD_ROUTING = 1u << 14
};
#define O_DOC (O_JSON | O_KEYSPACE | O_SHARDS | O_JSON_PATH_DIR)

#define MAX_VALUES ROUTER_MULTICOL_MAX
#define MAX_PARAMS 16

typedef struct cli {
	const struct command *cmd;
	int json, hex, destructive, vitess, compact;
	unsigned seen; /* options given */
	const char *keyspace;
	router_sqltype sqltypes[MAX_VALUES];
	size_t nsqltypes;
	router_doc_shards *shards;
	size_t nshards;
	char **pos;
	size_t npos;
	int stdin_used;
	const char *sample;     /* --sample FILE */
	const char *invariants; /* --invariants FILE */
	const char *json_path_dir; /* --json-path-dir DIR */
	router_param params[MAX_PARAMS]; /* --param KEY=VALUE, in argv */
	char *param_keys[MAX_PARAMS];    /* the keys, owned */
	size_t nparams;
	const char *column;        /* --column COLS */
	const char *lookup_rows;   /* --lookup-rows FILE */
} cli;

typedef struct command {
	const char *name;
	size_t minpos, maxpos;
	unsigned opts;
	int (*run)(cli *c); /* its text: its section of cli/routerctl.1 */
} command;

static const char *prog = "routerctl";

/* ------------------------------------------------------------------------ */
/* Output helpers                                                           */
/* ------------------------------------------------------------------------ */

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* A command's section of the manual, or NULL. */
static const struct routerctl_help_page *help_page(const char *name)
{
	for (const struct routerctl_help_page *p = routerctl_help_pages;
	     p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* Lines of the manual, the first after `first`. */
static void print_lines(FILE *f, const char *first, const char *const *l)
{
	for (; *l != NULL; l++, first = "")
		fprintf(f, "%s%s\n", first, *l);
}

static void errorf(const char *fmt, ...) CLI_PRINTF(1, 2);
static int usage(const cli *c, const char *fmt, ...) CLI_PRINTF(2, 3);

static void errorf(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int usage(const cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", prog, c && c->cmd ? " " : "",
	        c && c->cmd ? c->cmd->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s%s%s --help'.\n", prog,
	        c && c->cmd ? " " : "", c && c->cmd ? c->cmd->name : "");
	if (c && c->cmd && help_page(c->cmd->name) != NULL)
		print_lines(stderr, "Usage: ", help_page(c->cmd->name)->synopsis);
	return EXIT_USAGE;
}

static int emit(json_t *o)
{
	int rc;

	if (o == NULL) {
		errorf("out of memory");
		return -1;
	}
	rc = json_dumpf(o, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(o);
	return rc;
}

static json_t *juint(uint64_t v)
{
	char buf[24];

	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof buf, "%" PRIu64, v);
	return json_string(buf);
}

/* A string from arbitrary bytes: jansson refuses invalid UTF-8, so fall
 * back to a hex rendering rather than losing the value. */
static json_t *jbytes(const char *s, size_t n)
{
	json_t *v = json_stringn(s, n);

	if (v == NULL) {
		char *hex = malloc(2 * n + 5);

		if (hex == NULL)
			return NULL;
		memcpy(hex, "hex:", 4);
		for (size_t i = 0; i < n; i++)
			sprintf(hex + 4 + 2 * i, "%02x", (unsigned char)s[i]);
		v = json_string(hex);
		free(hex);
	}
	return v;
}

static json_t *jstr(const char *s)
{
	return s != NULL ? jbytes(s, strlen(s)) : json_null();
}

static void hexstr(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

static json_t *jerror(const router_error *e)
{
	return json_pack("{s:s, s:o, s:o}", "code", router_errname(e->code),
	                 "culprit", jstr(e->culprit), "message",
	                 jstr(e->message));
}

/* {"ok": false, "error": {...}} plus extra members (stolen). */
static json_t *jfail(const router_error *e)
{
	return json_pack("{s:b, s:o}", "ok", 0, "error", jerror(e));
}

static const char *kind_name(router_doc_note_kind k)
{
	switch (k) {
	case ROUTER_DOC_NOTE_ERROR:
		return "error";
	case ROUTER_DOC_NOTE_UNKNOWN:
		return "unknown";
	case ROUTER_DOC_NOTE_IGNORED:
		return "ignored";
	case ROUTER_DOC_NOTE_UNSUPPORTED:
		return "unsupported";
	case ROUTER_DOC_NOTE_RULE:
		return "rule";
	case ROUTER_DOC_NOTE_KEYSPACE:
		return "keyspace";
	}
	return "note";
}

static json_t *jnote(const router_doc_note *n)
{
	json_t *o = json_pack(
	    "{s:s, s:o, s:o, s:o}", "kind", kind_name(n->kind), "path",
	    jstr(n->path), "culprit", jstr(n->error.culprit), "message",
	    jstr(n->error.message));

	if (o == NULL)
		return NULL;
	if (n->kind == ROUTER_DOC_NOTE_ERROR)
		json_object_set_new(o, "code", json_string(router_errname(
		                                   n->error.code)));
	if (n->line > 0) {
		json_object_set_new(o, "line", json_integer(n->line));
		json_object_set_new(o, "column", json_integer(n->column));
	}
	return o;
}

/* Notes of a report: errors (errors != 0) or warnings, as a JSON array. */
static json_t *jnotes(const router_doc_report *r, int errors)
{
	json_t *a = json_array();
	const router_doc_note *n;

	for (size_t i = 0; (n = router_doc_report_get(r, i)) != NULL; i++)
		if ((n->kind == ROUTER_DOC_NOTE_ERROR) == (errors != 0))
			json_array_append_new(a, jnote(n));
	return a;
}

static const char *note_where(const router_doc_note *n)
{
	return n->path[0] != '\0' ? n->path : n->error.culprit;
}

/* One line per note: "PATH: message" (syntax errors carry their line and
 * column in the message). */
static void print_note(FILE *f, const char *prefix, const char *file,
                       const router_doc_note *n)
{
	fprintf(f, "%s%s%s", prefix, file ? file : "", file ? ": " : "");
	if (n->line > 0)
		fprintf(f, "%s\n", n->error.message);
	else
		fprintf(f, "%s: %s\n", note_where(n), n->error.message);
}

/* Warnings that matter to a reader of the terminal: unknown fields (a
 * typo?), routing fields librouter does not apply and routing rules
 * vtgate keeps as errors.  "ignored" notes
 * (auto_increment, columns...) are only listed by --json. */
static void print_warnings(const char *file, const router_doc_report *r)
{
	const router_doc_note *n;

	for (size_t i = 0; (n = router_doc_report_get(r, i)) != NULL; i++)
		if (n->kind == ROUTER_DOC_NOTE_UNKNOWN ||
		    n->kind == ROUTER_DOC_NOTE_UNSUPPORTED ||
		    n->kind == ROUTER_DOC_NOTE_RULE ||
		    n->kind == ROUTER_DOC_NOTE_KEYSPACE) {
			fprintf(stderr, "%s: warning: ", prog);
			print_note(stderr, "", file, n);
		}
}

/* ------------------------------------------------------------------------ */
/* Documents                                                                */
/* ------------------------------------------------------------------------ */

static int read_stdin(char **buf, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *b = malloc(cap);

	if (b == NULL)
		return -1;
	for (;;) {
		size_t got;

		if (n == cap) {
			char *nb;

			if (cap > ROUTER_DOC_MAX_SIZE) {
				free(b);
				errno = EFBIG;
				return -1;
			}
			nb = realloc(b, cap * 2);
			if (nb == NULL) {
				free(b);
				return -1;
			}
			b = nb;
			cap *= 2;
		}
		got = fread(b + n, 1, cap - n, stdin);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(stdin)) {
		free(b);
		return -1;
	}
	*buf = b;
	*len = n;
	return 0;
}

typedef struct doc {
	const char *file; /* as given; "-" is standard input */
	const char *name; /* for messages: "<stdin>" for "-" */
	router_table *t;
	router_doc_report *r;
	router_error err;
	int rc;
} doc;

/* Load DOC with the command's --keyspace and --shards.  Returns 0 when the
 * document was read (valid or not: d->rc says), EXIT_USAGE when it could
 * not be read (message printed). */
static int load(cli *c, doc *d, const char *file, unsigned flags)
{
	router_doc_options o = ROUTER_DOC_OPTIONS_INIT;

	memset(d, 0, sizeof *d);
	d->file = file;
	d->name = strcmp(file, "-") == 0 ? "<stdin>" : file;
	o.keyspace = c->keyspace;
	o.shards = c->shards;
	o.nshards = c->nshards;
	o.flags = flags;
	/* json_path: below the DOC file's directory by default; a DOC from
	 * standard input names no file unless --json-path-dir is given. */
	o.json_path_dir = c->json_path_dir;
	if (strcmp(file, "-") == 0) {
		char *buf;
		size_t len;

		if (c->stdin_used)
			return usage(c, "standard input (-) can be read only "
			                "once");
		c->stdin_used = 1;
		if (read_stdin(&buf, &len) != 0) {
			errorf("cannot read standard input: %s",
			       strerror(errno));
			return EXIT_USAGE;
		}
		d->rc = router_doc_load(buf, len, &o, &d->t, &d->r, &d->err);
		free(buf);
	} else {
		d->rc = router_doc_load_file(file, &o, &d->t, &d->r, &d->err);
	}
	if (d->rc == ROUTER_EIO || d->rc == ROUTER_ENOMEM ||
	    d->rc == ROUTER_EINVAL) {
		errorf("%s: %s", d->name, d->err.message);
		router_doc_report_free(d->r);
		d->r = NULL;
		return EXIT_USAGE;
	}
	print_warnings(d->name, d->r);
	return 0;
}

static void unload(doc *d)
{
	router_table_free(d->t);
	router_doc_report_free(d->r);
	d->t = NULL;
	d->r = NULL;
}

/* An invalid document where a valid one is needed: every error on stderr,
 * the JSON verdict on stdout; exit 1. */
static int invalid(const cli *c, const doc *d)
{
	const router_doc_note *n;

	for (size_t i = 0; (n = router_doc_report_get(d->r, i)) != NULL; i++)
		if (n->kind == ROUTER_DOC_NOTE_ERROR) {
			fprintf(stderr, "%s: ", prog);
			print_note(stderr, "", d->name, n);
		}
	if (c->json) {
		json_t *o = jfail(&d->err);

		json_object_set_new(o, "document", jstr(d->name));
		json_object_set_new(o, "problems", jnotes(d->r, 1));
		emit(o);
	}
	return EXIT_NO;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */
/* ------------------------------------------------------------------------ */

static int parse_sqltype(const char *s, router_sqltype *t)
{
	return router_sqltype_parse(s, strlen(s), t) == ROUTER_OK ? 0 : -1;
}

static const char *sqltype_name(router_sqltype t)
{
	switch (t) {
	case ROUTER_SQL_NULL:
		return "null";
	case ROUTER_SQL_INT64:
		return "int64";
	case ROUTER_SQL_UINT64:
		return "uint64";
	case ROUTER_SQL_VARCHAR:
		return "varchar";
	case ROUTER_SQL_VARBINARY:
		return "varbinary";
	case ROUTER_SQL_FLOAT64:
		return "float64";
	}
	return "?";
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decode hex text into a new buffer; -1 on odd length or a bad digit. */
static int unhex(const char *s, uint8_t **out, size_t *len)
{
	size_t n = strlen(s);
	uint8_t *b;

	if (n % 2 != 0)
		return -1;
	b = malloc(n / 2 + 1);
	if (b == NULL)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(b);
			return -1;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = b;
	*len = n / 2;
	return 0;
}

/* VALUE arguments to router_values, with --sqltype (one for all values, or
 * one per value) and --hex.  Hex buffers are stored in bufs (to free). */
static int parse_values(const cli *c, char **args, size_t n,
                        router_value *vals, uint8_t **bufs)
{
	for (size_t i = 0; i < n; i++) {
		router_sqltype t = ROUTER_SQL_VARCHAR;
		int typed = c->nsqltypes > 0;
		router_error e;

		bufs[i] = NULL;
		if (typed)
			t = c->sqltypes[c->nsqltypes == 1 ? 0 : i];
		if (c->hex) {
			size_t len;

			if (unhex(args[i], &bufs[i], &len) != 0)
				return usage(c, "--hex: '%s' is not an even "
				                "number of hex digits",
				             args[i]);
			if (!typed)
				t = ROUTER_SQL_VARBINARY;
			if (t == ROUTER_SQL_INT64 || t == ROUTER_SQL_UINT64)
				return usage(c, "--hex gives bytes; it cannot "
				                "be used with --sqltype %s",
				             sqltype_name(t));
			vals[i] = ROUTER_VALUE_BYTES(t, bufs[i], len);
			continue;
		}
		if (!typed) {
			/* A signed 64-bit integer is int64, anything else
			 * varchar. */
			if (router_value_parse(ROUTER_SQL_INT64, args[i],
			                       strlen(args[i]), &vals[i],
			                       NULL) == ROUTER_OK)
				continue;
			t = ROUTER_SQL_VARCHAR;
		}
		if (router_value_parse(t, args[i], strlen(args[i]), &vals[i],
		                       &e) != ROUTER_OK)
			return usage(c, "'%s' is not a valid %s value: %s",
			             args[i], sqltype_name(t), e.message);
	}
	return 0;
}

static json_t *jvalue(const router_value *v, const char *text)
{
	return json_pack("{s:o, s:s}", "value",
	                 v->type == ROUTER_SQL_NULL ? json_null() : jstr(text),
	                 "sqltype", sqltype_name(v->type));
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                 */
/* ------------------------------------------------------------------------ */

static int exit_for_route(int rc)
{
	/* A question the tool could not even ask is a usage error; a table
	 * or value that does not route is a "no". */
	return rc == ROUTER_EINVAL || rc == ROUTER_ENOMEM ? EXIT_USAGE
	                                                   : EXIT_NO;
}

/* The hex buffers parse_values allocated. */
static void free_bufs(uint8_t **bufs)
{
	for (size_t i = 0; i < MAX_VALUES; i++)
		free(bufs[i]);
}

static int cmd_ksid(cli *c)
{
	router_value v[MAX_VALUES];
	size_t nv = c->npos - 1;
	uint8_t *bufs[MAX_VALUES] = {NULL}, small[64], *out = small;
	size_t len = 0;
	router_vindex *vx;
	router_error e;
	int rc, ret;
	char *hex;

	if (c->nsqltypes > 1 && c->nsqltypes != nv)
		return usage(c, "%zu --sqltype options for %zu values",
		             c->nsqltypes, nv);
	if ((ret = parse_values(c, &c->pos[1], nv, v, bufs)) != 0)
		goto out_bufs;
	rc = router_vindex_create(&vx, c->pos[0], c->params, c->nparams, NULL,
	                          &e);
	if (rc != ROUTER_OK) {
		free_bufs(bufs);
		if (rc == ROUTER_EREFERENCE)
			return usage(c, "%s", e.message);
		errorf("%s", e.message);
		return EXIT_USAGE;
	}
	rc = router_vindex_map(vx, v, nv, out, sizeof small, &len, &e);
	if (rc == ROUTER_ERANGE && len > sizeof small) {
		out = malloc(len);
		rc = out == NULL ? ROUTER_ENOMEM
		                 : router_vindex_map(vx, v, nv, out, len, &len,
		                                     &e);
	}
	router_vindex_free(vx);
	if (rc != ROUTER_OK && rc != ROUTER_NONE) {
		errorf("ksid %s: %s", c->pos[0], e.message);
		if (c->json)
			emit(jfail(&e));
		if (out != small)
			free(out);
		free_bufs(bufs);
		return rc == ROUTER_ENEEDSLOOKUP || rc == ROUTER_EUNSUPPORTED
		           ? EXIT_NO
		           : EXIT_USAGE;
	}
	hex = malloc(2 * len + 1);
	if (hex == NULL) {
		errorf("out of memory");
		ret = EXIT_USAGE;
		goto out;
	}
	hexstr(out, len, hex);
	if (c->json) {
		json_t *o = json_pack("{s:b, s:o}", "ok", 1, "vindex",
		                      jstr(c->pos[0]));

		if (nv == 1) {
			json_object_update_new(o, jvalue(&v[0], c->pos[1]));
		} else {
			json_t *a = json_array();

			for (size_t i = 0; i < nv; i++)
				json_array_append_new(a, jvalue(&v[i],
				                                c->pos[1 + i]));
			json_object_set_new(o, "values", a);
		}
		json_object_set_new(o, "ksid",
		                    rc == ROUTER_NONE ? json_null() : jstr(hex));
		emit(o);
	} else {
		printf("%s\n", rc == ROUTER_NONE ? "none" : hex);
	}
	ret = EXIT_YES;
	free(hex);
out:
	if (out != small)
		free(out);
out_bufs:
	free_bufs(bufs);
	return ret;
}

/* ---- route --column and --lookup-rows ---------------------------------- */

/* The rows of a --lookup-rows file: one per line, FROM and TO separated
 * by a tab (mysql -B -N prints that), else by the first blanks; NULL is
 * SQL NULL; TO is hex for the raw types (lookup, consistent_lookup: as
 * hex(to) prints it), text for the hash types.  Blank lines and lines
 * starting with # are skipped. */
typedef struct lrows {
	router_lookup_row *v;
	size_t n;
	char *text;
	uint8_t **bufs;
} lrows;

static void lrows_free(lrows *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->bufs[i]);
	free(r->bufs);
	free(r->v);
	free(r->text);
}

static int lrows_load(const cli *c, const char *file, int raw, lrows *r)
{
	FILE *f = fopen(file, "rb");
	size_t cap = 0, len = 0, n;
	char chunk[4096], *line, *next;

	memset(r, 0, sizeof *r);
	if (f == NULL) {
		errorf("--lookup-rows %s: %s", file, strerror(errno));
		return EXIT_USAGE;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (len + n + 1 > cap) {
			char *t = realloc(r->text, cap = 2 * (len + n + 1));

			if (t == NULL) {
				fclose(f);
				errorf("out of memory");
				return EXIT_USAGE;
			}
			r->text = t;
		}
		memcpy(r->text + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (r->text == NULL)
		return 0;
	r->text[len] = '\0';
	for (line = r->text; line != NULL && *line != '\0'; line = next) {
		char *sep, *to;
		router_lookup_row *row;
		void *t;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (*line != '\0' && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		sep = strchr(line, '\t');
		if (sep == NULL)
			sep = strpbrk(line, " ");
		if (sep == NULL)
			return usage(c, "--lookup-rows %s: '%s' is not FROM and "
			                "TO",
			             file, line);
		*sep = '\0';
		to = sep + 1;
		while (*to == ' ')
			to++;
		if ((t = realloc(r->v, (r->n + 1) * sizeof *r->v)) == NULL)
			return usage(c, "out of memory");
		r->v = t;
		if ((t = realloc(r->bufs, (r->n + 1) * sizeof *r->bufs)) ==
		    NULL)
			return usage(c, "out of memory");
		r->bufs = t;
		row = &r->v[r->n];
		r->bufs[r->n++] = NULL;
		row->from = strcmp(line, "NULL") == 0
		                ? ROUTER_VALUE_NULL
		                : ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, line,
		                                     strlen(line));
		if (strcmp(to, "NULL") == 0) {
			row->to = ROUTER_VALUE_NULL;
		} else if (raw) {
			size_t kl;

			if (unhex(to, &r->bufs[r->n - 1], &kl) != 0)
				return usage(c, "--lookup-rows %s: '%s' is not "
				                "hex (write the keyspace ID as "
				                "hex(%s))",
				             file, to, "to");
			row->to = ROUTER_VALUE_BYTES(ROUTER_SQL_VARBINARY,
			                             r->bufs[r->n - 1], kl);
		} else {
			row->to = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, to,
			                             strlen(to));
		}
	}
	return 0;
}

/* q's SQL with the tuple written in: what to paste into a client. */
static char *literal_query(const router_lookup_query *q)
{
	size_t tl = q->sql_len - (q->from_len + 2), cap, k;
	char *out;
	const char *p = q->bind.ptr;

	cap = q->sql_len + 4 * q->bind.len + 32;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	memcpy(out, q->sql, tl); /* up to "in " */
	k = tl;
	out[k++] = '(';
	switch (q->bind.type) {
	case ROUTER_SQL_NULL:
		k += (size_t)sprintf(out + k, "NULL");
		break;
	case ROUTER_SQL_INT64:
		k += (size_t)sprintf(out + k, "%" PRId64, q->bind.i64);
		break;
	case ROUTER_SQL_UINT64:
		k += (size_t)sprintf(out + k, "%" PRIu64, q->bind.u64);
		break;
	default:
		out[k++] = '\'';
		for (size_t i = 0; i < q->bind.len; i++) {
			if (p[i] == '\'' || p[i] == '\\')
				out[k++] = p[i] == '\'' ? '\'' : '\\';
			out[k++] = p[i];
		}
		out[k++] = '\'';
	}
	out[k++] = ')';
	out[k] = '\0';
	return out;
}

static int print_lookup_needed(cli *c, const router_table *t, const char *ks,
                               const char *table, const char *col,
                               const router_value *v, const char *text)
{
	router_lookup_query q;
	router_error e;
	char *lit;
	int rc;

	rc = router_table_lookup_query(t, ks, strlen(ks), table, strlen(table),
	                               col, strlen(col), v, &q, &e);
	if (rc != ROUTER_OK) {
		errorf("route %s.%s: %s", ks, table, e.message);
		if (c->json)
			emit(jfail(&e));
		return exit_for_route(rc);
	}
	if ((lit = literal_query(&q)) == NULL) {
		errorf("out of memory");
		return EXIT_USAGE;
	}
	if (c->json) {
		json_t *o = json_pack(
		    "{s:b, s:b, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:b, s:b, "
		    "s:o}",
		    "ok", 0, "needs_lookup", 1, "keyspace", jstr(ks), "table",
		    jstr(table), "vindex_type", q.vindex_type, "sql", q.sql,
		    "query", lit, "lookup_table", q.table, "from", q.from,
		    "batched", (q.flags & ROUTER_LOOKUP_BATCHED) != 0, "unique",
		    (q.flags & ROUTER_LOOKUP_UNIQUE) != 0, "version",
		    juint(q.version));

		json_object_set_new(o, "to", jstr(q.to));
		emit(o);
	} else {
		printf("%s\n", lit);
	}
	errorf("route %s.%s: the %s vindex needs the rows of the query "
	       "above (the value %s): give them with --lookup-rows FILE, "
	       "one 'FROM<TAB>TO' per line%s",
	       ks, table, q.vindex_type, text,
	       strstr(q.vindex_type, "hash") != NULL
	           ? ""
	           : ", TO as hex (select ..., hex(to) ...)");
	free(lit);
	return EXIT_NO;
}

/* route through a column vindex (--column, --lookup-rows, or a primary
 * lookup vindex). */
static int route_column(cli *c, const router_table *t, const char *ks,
                        const char *table, const router_value *vals,
                        size_t nv)
{
	static const router_lookup_row no_row;
	const char *col = c->column != NULL ? c->column : "";
	router_route_result *out = NULL;
	lrows rows = {0};
	const router_lookup_row *rv = NULL;
	size_t n = 0, nr = 0;
	router_error e;
	int rc, ret;

	rc = router_table_route_column(t, ks, strlen(ks), table, strlen(table),
	                               col, strlen(col), vals, nv, NULL, 0,
	                               NULL, 0, &n, &e);
	if (rc == ROUTER_ENEEDSLOOKUP) {
		router_lookup_query q;

		if (c->lookup_rows == NULL)
			return print_lookup_needed(c, t, ks, table, col,
			                           &vals[0], c->pos[3]);
		rc = router_table_lookup_query(t, ks, strlen(ks), table,
		                               strlen(table), col, strlen(col),
		                               &vals[0], &q, &e);
		if (rc == ROUTER_OK &&
		    (ret = lrows_load(c, c->lookup_rows,
		                      strstr(q.vindex_type, "hash") == NULL,
		                      &rows)) != 0) {
			lrows_free(&rows);
			return ret;
		}
		/* an empty file is "no row", not "not asked" */
		rv = rows.v != NULL ? rows.v : &no_row;
		nr = rows.n;
		if (rc == ROUTER_OK)
			rc = router_table_route_column(
			    t, ks, strlen(ks), table, strlen(table), col,
			    strlen(col), vals, nv, rv, nr, NULL, 0, &n, &e);
	}
	if (rc == ROUTER_ERANGE) {
		if ((out = calloc(n, sizeof *out)) == NULL) {
			lrows_free(&rows);
			errorf("out of memory");
			return EXIT_USAGE;
		}
		rc = router_table_route_column(t, ks, strlen(ks), table,
		                               strlen(table), col, strlen(col),
		                               vals, nv, rv, nr, out, n, &n,
		                               &e);
	}
	if (rc != ROUTER_OK && rc != ROUTER_NONE) {
		errorf("route %s.%s: %s", ks, table, e.message);
		if (c->json)
			emit(jfail(&e));
		/* With rows, EINVAL is about them (a unique lookup answered
		 * by several): a "no", not a usage error. */
		ret = rv != NULL && rc == ROUTER_EINVAL ? EXIT_NO
		                                         : exit_for_route(rc);
		goto done;
	}
	if (c->json) {
		json_t *sh = json_array(), *ks_ = json_array();

		for (size_t i = 0; i < n && rc == ROUTER_OK; i++) {
			char hex[2 * ROUTER_KSID_MAX + 1];

			hexstr(out[i].ksid,
			       out[i].ksid_len < ROUTER_KSID_MAX
			           ? out[i].ksid_len
			           : ROUTER_KSID_MAX,
			       hex);
			json_array_append_new(sh, jstr(out[i].shard));
			json_array_append_new(ks_, jstr(hex));
		}
		emit(json_pack("{s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "ok", 1,
		               "keyspace", jstr(ks), "table", jstr(table),
		               "column", jstr(c->column), "shards", sh, "ksids",
		               ks_, "version",
		               juint(n > 0 && rc == ROUTER_OK ? out[0].version
		                                              : router_table_version(t))));
	} else if (rc == ROUTER_NONE) {
		printf("none\n");
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", out[i].shard);
	}
	ret = EXIT_YES;
done:
	free(out);
	lrows_free(&rows);
	return ret;
}

/* The SrvVSchema fields of the rules a route went through, as a JSON
 * array, or (text) joined with ", " into buf. */
static json_t *target_rules(const router_target *tg, char *buf, size_t cap)
{
	json_t *a = json_array();
	const char *name;
	size_t used = 0;

	if (cap > 0)
		buf[0] = '\0';
	/* Lowest bit first: Vitess's order. */
	for (unsigned bit = 1; (name = router_target_rule_name(bit)) != NULL;
	     bit <<= 1) {
		if (!(tg->rules & bit))
			continue;
		json_array_append_new(a, json_string(name));
		if (used < cap)
			used += (size_t)snprintf(buf + used, cap - used, "%s%s",
			                         used ? ", " : "", name);
	}
	return a;
}

static int cmd_route(cli *c)
{
	router_value vals[MAX_VALUES];
	router_target tg;
	char why[128];
	uint8_t *bufs[MAX_VALUES] = {NULL};
	size_t nv = c->npos - 3, i;
	router_route_result res;
	const char *ks = c->pos[1], *table = c->pos[2];
	const char *vname = NULL, *vtype = NULL;
	char hex[2 * ROUTER_KSID_MAX + 1];
	router_error e;
	doc d;
	int rc, ret;

	if (c->nsqltypes > 1 && c->nsqltypes != nv)
		return usage(c, "%zu --sqltype options for %zu values: give "
		                "one for all, or one per value",
		             c->nsqltypes, nv);
	if ((ret = parse_values(c, &c->pos[3], nv, vals, bufs)) != 0)
		goto out_bufs;
	if ((ret = load(c, &d, c->pos[0], 0)) != 0)
		goto out_bufs;
	if (d.rc != ROUTER_OK) {
		ret = invalid(c, &d);
		goto out;
	}
	rc = ROUTER_ENEEDSLOOKUP;
	if ((c->seen & (O_COLUMN | O_LOOKUP_ROWS)) == 0)
		rc = router_table_route_target(
		    d.t, ks, strlen(ks), table, strlen(table), vals, nv,
		    c->seen & O_SHARD_ROUTING ? ROUTER_TARGET_SHARD_ROUTING : 0,
		    &res, &tg, &e);
	if (rc == ROUTER_ENEEDSLOOKUP) {
		ret = route_column(c, d.t, ks, table, vals, nv);
		goto out;
	}
	if (rc != ROUTER_OK && rc != ROUTER_NONE) {
		errorf("route %s.%s: %s", ks, table, e.message);
		if (c->json)
			emit(jfail(&e));
		ret = exit_for_route(rc);
		goto out;
	}
	router_doc_primary_vindex(d.t, ks, strlen(ks), table, strlen(table),
	                          &vname, &vtype, NULL);
	hexstr(res.ksid, res.ksid_len < ROUTER_KSID_MAX ? res.ksid_len
	                                                 : ROUTER_KSID_MAX,
	       hex);
	if (c->json) {
		json_t *vs = json_array();

		for (i = 0; i < nv; i++)
			json_array_append_new(vs, jvalue(&vals[i], c->pos[3 + i]));
		emit(json_pack(
		    "{s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o, "
		    "s:o}}",
		    "ok", 1, "keyspace", jstr(ks), "table", jstr(table), "shard",
		    rc == ROUTER_NONE ? json_null() : jstr(res.shard), "ksid",
		    rc == ROUTER_NONE || vname == NULL ? json_null() : jstr(hex),
		    "vindex", jstr(vname), "vindex_type", jstr(vtype),
		    "version", juint(res.version), "values", vs, "target",
		    "keyspace", jstr(tg.keyspace), "table", jstr(tg.table),
		    "rules", target_rules(&tg, why, sizeof why)));
	} else {
		printf("%s\n", rc == ROUTER_NONE ? "none" : res.shard);
		/* Where vtgate sends it, when a rule moved it elsewhere. */
		json_decref(target_rules(&tg, why, sizeof why));
		if (tg.rules != 0)
			printf("served by %s.%s (%s)\n", tg.keyspace, tg.table,
			       why);
	}
	ret = EXIT_YES;
out:
	unload(&d);
out_bufs:
	for (i = 0; i < nv; i++)
		free(bufs[i]);
	return ret;
}

static int cmd_shard(cli *c)
{
	router_route_result res;
	const char *ks = c->pos[1];
	uint8_t *k = NULL;
	size_t klen = 0;
	router_error e;
	doc d;
	int rc, ret;

	if (unhex(c->pos[2], &k, &klen) != 0)
		return usage(c, "KSID_HEX '%s' is not an even number of hex "
		                "digits",
		             c->pos[2]);
	if ((ret = load(c, &d, c->pos[0], 0)) != 0) {
		free(k);
		return ret;
	}
	if (d.rc != ROUTER_OK) {
		ret = invalid(c, &d);
		goto out;
	}
	rc = router_table_route_ksid(d.t, ks, strlen(ks), k, klen, &res, &e);
	if (rc != ROUTER_OK) {
		errorf("shard: %s", e.message);
		if (c->json)
			emit(jfail(&e));
		ret = exit_for_route(rc);
		goto out;
	}
	if (c->json)
		emit(json_pack("{s:b, s:o, s:s, s:o, s:o}", "ok", 1, "keyspace",
		               jstr(ks), "ksid", c->pos[2], "shard",
		               jstr(res.shard), "version", juint(res.version)));
	else
		printf("%s\n", res.shard);
	ret = EXIT_YES;
out:
	unload(&d);
	free(k);
	return ret;
}

static int cmd_validate(cli *c)
{
	const router_doc_note *n;
	size_t kse;
	int valid;
	doc d;
	int ret;

	if ((ret = load(c, &d, c->pos[0], 0)) != 0)
		return ret;
	/* Vitess's verdict: a keyspace vtgate keeps in error is an error of
	 * the VSchema, although the document loads (the others route). */
	kse = d.rc == ROUTER_OK
	          ? router_doc_report_count(d.r, ROUTER_DOC_NOTE_KEYSPACE)
	          : 0;
	valid = d.rc == ROUTER_OK && kse == 0;
	if (c->json) {
		json_t *o = json_pack("{s:b, s:b, s:b, s:o}", "ok", valid,
		                      "valid", valid, "loads", d.rc == ROUTER_OK,
		                      "document", jstr(d.name));

		if (d.rc == ROUTER_OK) {
			json_t *kss = json_array();
			char h[17];

			snprintf(h, sizeof h, "%016" PRIx64,
			         router_table_hash(d.t));
			for (size_t i = 0; i < router_doc_keyspace_count(d.t);
			     i++)
				json_array_append_new(
				    kss,
				    jstr(router_doc_keyspace_name(d.t, i)));
			json_object_set_new(o, "version",
			                    juint(router_table_version(d.t)));
			json_object_set_new(o, "hash", json_string(h));
			json_object_set_new(o, "keyspaces", kss);
		} else {
			json_object_set_new(o, "error", jerror(&d.err));
		}
		json_object_set_new(o, "problems", jnotes(d.r, 1));
		json_object_set_new(o, "warnings", jnotes(d.r, 0));
		emit(o);
	} else if (valid) {
		printf("ok\n");
	} else {
		for (size_t i = 0; (n = router_doc_report_get(d.r, i)) != NULL;
		     i++)
			if (n->kind == ROUTER_DOC_NOTE_ERROR ||
			    n->kind == ROUTER_DOC_NOTE_KEYSPACE)
				print_note(stdout,
				           n->kind == ROUTER_DOC_NOTE_KEYSPACE
				               ? "keyspace in error: "
				               : "",
				           NULL, n);
	}
	ret = valid ? EXIT_YES : EXIT_NO;
	unload(&d);
	return ret;
}

static const char *op_sym(router_diff_op op)
{
	return op == ROUTER_DIFF_ADDED     ? "+"
	       : op == ROUTER_DIFF_REMOVED ? "-"
	                                   : "~";
}

static const char *op_name(router_diff_op op)
{
	return op == ROUTER_DIFF_ADDED     ? "added"
	       : op == ROUTER_DIFF_REMOVED ? "removed"
	                                   : "changed";
}

static const char *diff_kind_name(router_diff_kind k)
{
	switch (k) {
	case ROUTER_DIFF_KEYSPACE:
		return "keyspace";
	case ROUTER_DIFF_TABLE:
		return "table";
	case ROUTER_DIFF_VINDEX:
		return "vindex";
	case ROUTER_DIFF_SHARD:
		return "shard";
	case ROUTER_DIFF_RULE:
		return "rule";
	}
	return "?";
}

static void print_diff(const router_diff *d)
{
	const router_diff_entry *e;

	for (size_t i = 0; (e = router_diff_get(d, i)) != NULL; i++) {
		printf("%s %s ", op_sym(e->op), diff_kind_name(e->kind));
		if (e->kind == ROUTER_DIFF_TABLE || e->kind == ROUTER_DIFF_VINDEX)
			printf("%s.%s", e->keyspace, e->name);
		else if (e->kind == ROUTER_DIFF_SHARD)
			printf("%s/%s", e->keyspace, e->name);
		else
			printf("%s", e->name);
		if (e->detail[0] != '\0' &&
		    strcmp(e->detail, diff_kind_name(e->kind)) != 0)
			printf(": %s", e->detail);
		putchar('\n');
	}
}

static json_t *jdiff(const router_diff *d)
{
	const router_diff_entry *e;
	json_t *a = json_array();

	for (size_t i = 0; (e = router_diff_get(d, i)) != NULL; i++)
		json_array_append_new(
		    a, json_pack("{s:s, s:s, s:o, s:o, s:o}", "op",
		                 op_name(e->op), "kind", diff_kind_name(e->kind),
		                 "keyspace", jstr(e->keyspace), "name",
		                 jstr(e->name), "detail", jstr(e->detail)));
	return a;
}

/* Every --shards keyspace must be in at least one of the documents (each
 * was loaded with ROUTER_DOC_UNUSED_SHARDS_OK). */
static int shards_used(const cli *c, const doc *a, const doc *b)
{
	for (size_t i = 0; i < c->nshards; i++) {
		const char *ks = c->shards[i].keyspace;

		/* (an invalid document cannot tell) */
		if (a->t != NULL && b->t != NULL &&
		    router_doc_shard_count(a->t, ks) == 0 &&
		    router_doc_shard_count(b->t, ks) == 0) {
			errorf("--shards %s: neither %s nor %s defines keyspace "
			       "%s",
			       ks, a->name, b->name, ks);
			return EXIT_USAGE;
		}
	}
	return 0;
}

#define SHADOW_KS_MAX 64

typedef struct verdict {
	uint64_t from, to;
	/* The shadow evaluation, copied out of the callback. */
	int shadow;
	size_t nks;
	router_shadow_stat ks[SHADOW_KS_MAX];
	char names[SHADOW_KS_MAX][ROUTER_NAME_MAX + 1];
	router_shadow_stat total;
} verdict;

static void on_event(void *arg, const router_event *ev)
{
	verdict *v = arg;

	v->from = ev->version_from;
	v->to = ev->version_to;
	if (ev->shadow != NULL) {
		v->shadow = 1;
		v->nks = 0;
		for (size_t i = 0; i < router_shadow_count(ev->shadow) &&
		                   v->nks < SHADOW_KS_MAX;
		     i++, v->nks++) {
			v->ks[i] = *router_shadow_get(ev->shadow, i);
			snprintf(v->names[i], sizeof v->names[i], "%s",
			         v->ks[i].keyspace);
			v->ks[i].keyspace = v->names[i];
		}
		router_shadow_totals(ev->shadow, &v->total);
	}
}

/* ---- sample keys and invariants from files (check, invariants) --------- */

typedef struct sample {
	router_sample_key *k;
	router_value *v;
	char **lines;
	size_t n, cap;
} sample;

static void sample_free(sample *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->lines[i]);
	free(s->k);
	free(s->v);
	free(s->lines);
	memset(s, 0, sizeof *s);
}

/* Open a file the user named (--sample, --invariants) for reading, or
 * print why not and return NULL.  O_NONBLOCK: a FIFO must not block the
 * open forever; anything but a regular file (a FIFO, /dev/zero) is
 * refused, then reads block as usual. */
static FILE *open_input(const char *file)
{
	int fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), fl;
	struct stat st;
	FILE *f;

	if (fd < 0) {
		errorf("%s: %s", file, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		errorf("%s: not a regular file (a FIFO or a device is not read)",
		       file);
		close(fd);
		return NULL;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1 ||
	    (f = fdopen(fd, "r")) == NULL) {
		errorf("%s: %s", file, strerror(errno));
		close(fd);
		return NULL;
	}
	return f;
}

/* Lines "KEYSPACE TABLE VALUE..." (blank lines and # comments skipped);
 * a VALUE that parses as a signed 64-bit integer is int64, else
 * varchar.  0, or EXIT_USAGE with the message printed. */
static int sample_read(const char *file, sample *s)
{
	FILE *f = open_input(file);
	char buf[4096];
	size_t lineno = 0;

	memset(s, 0, sizeof *s);
	if (f == NULL)
		return EXIT_USAGE; /* open_input said why */
	while (fgets(buf, sizeof buf, f) != NULL) {
		char *save = NULL, *w[3 + MAX_VALUES], *line, *tok, *hash;
		size_t nw = 0;

		lineno++;
		if ((hash = strchr(buf, '#')) != NULL)
			*hash = '\0';
		if ((line = strdup(buf)) == NULL)
			goto oom;
		for (tok = strtok_r(line, " \t\r\n", &save);
		     tok != NULL && nw < 3 + MAX_VALUES;
		     tok = strtok_r(NULL, " \t\r\n", &save))
			w[nw++] = tok;
		if (nw == 0) {
			free(line);
			continue;
		}
		if (nw < 3 || nw > 2 + MAX_VALUES) {
			errorf("%s:%zu: expected KEYSPACE TABLE VALUE... (1 to "
			       "%d values)",
			       file, lineno, MAX_VALUES);
			free(line);
			fclose(f);
			return EXIT_USAGE;
		}
		if (s->n == s->cap) {
			size_t n = s->cap ? s->cap * 2 : 64;
			router_sample_key *k = realloc(s->k, n * sizeof *k);
			char **l;
			router_value *v;

			if (k != NULL)
				s->k = k;
			l = k ? realloc(s->lines, n * sizeof *l) : NULL;
			if (l != NULL)
				s->lines = l;
			v = l ? realloc(s->v, n * MAX_VALUES * sizeof *v) : NULL;
			if (v == NULL) {
				free(line);
				goto oom;
			}
			s->v = v;
			s->cap = n;
		}
		s->lines[s->n] = line;
		for (size_t j = 2; j < nw; j++) {
			router_value *v = &s->v[s->n * MAX_VALUES + j - 2];

			if (router_value_parse(ROUTER_SQL_INT64, w[j],
			                       strlen(w[j]), v, NULL) != ROUTER_OK)
				*v = ROUTER_VALUE_BYTES(ROUTER_SQL_VARCHAR, w[j],
				                        strlen(w[j]));
		}
		/* values is set below: s->v may still move. */
		s->k[s->n] = (router_sample_key){w[0], strlen(w[0]), w[1],
		                                 strlen(w[1]), NULL, nw - 2};
		s->n++;
	}
	fclose(f);
	for (size_t i = 0; i < s->n; i++)
		s->k[i].values = &s->v[i * MAX_VALUES];
	return 0;
oom:
	fclose(f);
	errorf("out of memory reading %s", file);
	return EXIT_USAGE;
}

/* Declare every invariant of file (one per line, # comments) on r.
 * 0; EXIT_NO when the table in service violates one (printed);
 * EXIT_USAGE for I/O or syntax errors. */
static int invariants_read(const cli *c, const char *file, router *r)
{
	FILE *f = open_input(file);
	char buf[1024];
	size_t lineno = 0;

	if (f == NULL)
		return EXIT_USAGE; /* open_input said why */
	while (fgets(buf, sizeof buf, f) != NULL) {
		router_error e;
		const char *p = buf;
		int rc;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '\n' || *p == '#')
			continue;
		rc = router_invariant_add(r, buf, &e);
		if (rc == ROUTER_EINVARIANT) {
			fclose(f);
			if (c->json)
				emit(jfail(&e));
			else
				printf("violated: %s:%zu: %s: %s\n", file,
				       lineno, e.culprit, e.message);
			return EXIT_NO;
		}
		if (rc != ROUTER_OK) {
			fclose(f);
			errorf("%s:%zu: %s", file, lineno, e.message);
			return EXIT_USAGE;
		}
	}
	fclose(f);
	return 0;
}

static void print_shadow(const verdict *v)
{
	if (!v->shadow)
		return;
	for (size_t i = 0; i < v->nks; i++)
		printf("shadow %s: %" PRIu64 " keys, %" PRIu64 " routed, %" PRIu64
		       " move, %" PRIu64 " become unroutable, %" PRIu64
		       " become routable\n",
		       v->ks[i].keyspace, v->ks[i].keys, v->ks[i].routed,
		       v->ks[i].moved, v->ks[i].unroutable,
		       v->ks[i].newly_routable);
}

static json_t *jshadow(const verdict *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < v->nks; i++)
		json_array_append_new(
		    a, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "keyspace",
		                 v->ks[i].keyspace, "keys", juint(v->ks[i].keys),
		                 "routed", juint(v->ks[i].routed), "moved",
		                 juint(v->ks[i].moved), "unroutable",
		                 juint(v->ks[i].unroutable), "newly_routable",
		                 juint(v->ks[i].newly_routable)));
	return a;
}

/* Puts CURRENT (cur, valid) in service in a new router *r whose events
 * go to v, with check's invariants (--invariants) and shadow sample
 * (--sample) set.  Returns 0, or the exit status after saying why (*r
 * may be set then: the caller frees it).  cur->t: NULL once the router
 * owns it. */
static int check_serve_current(cli *c, doc *cur, verdict *v, router **r)
{
	router_options ro = ROUTER_OPTIONS_INIT;
	router_error e;
	int rc, ret;

	ro.on_event = on_event;
	ro.on_event_arg = v;
	if ((rc = router_create(r, &ro, &e)) != ROUTER_OK) {
		errorf("%s", e.message);
		return EXIT_USAGE;
	}
	rc = router_publish(*r, cur->t, 0, NULL, &e);
	if (rc != ROUTER_OK) {
		errorf("CURRENT %s could not be in service: %s: %s", cur->name,
		       router_errname(rc), e.message);
		if (c->json)
			emit(jfail(&e));
		return rc == ROUTER_ENOMEM ? EXIT_USAGE : EXIT_NO;
	}
	cur->t = NULL; /* the router owns it */
	if (c->invariants != NULL &&
	    (ret = invariants_read(c, c->invariants, *r)) != 0)
		return ret;
	if (c->sample != NULL) {
		sample smp;

		if ((ret = sample_read(c->sample, &smp)) != 0)
			return ret;
		rc = router_shadow_set_sample(*r, smp.k, smp.n, NULL, &e);
		sample_free(&smp);
		if (rc != ROUTER_OK) {
			errorf("%s: %s", c->sample, e.message);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* check's refusal of a NEXT that did not load (next->rc set): its code
 * and error problems, as JSON or text.  Returns EXIT_NO. */
static int check_refuse_invalid(const cli *c, const doc *next)
{
	const router_doc_note *n;

	if (c->json) {
		json_t *o = json_pack(
		    "{s:b, s:s, s:s, s:o, s:o, s:o}", "ok", 0, "verdict",
		    "refuse", "code", router_errname(next->rc), "error",
		    jerror(&next->err), "problems", jnotes(next->r, 1),
		    "changes", json_array());
		emit(o);
	} else {
		printf("refused: %s: NEXT %s is invalid\n",
		       router_errname(next->rc), next->name);
		for (size_t i = 0;
		     (n = router_doc_report_get(next->r, i)) != NULL; i++)
			if (n->kind == ROUTER_DOC_NOTE_ERROR)
				print_note(stdout, "  ", NULL, n);
	}
	return EXIT_NO;
}

/* check's verdict on publishing NEXT (rc, e: what router_publish
 * returned; v: the versions and shadow figures its events reported;
 * diff: the changes), as JSON or text. */
static void check_print_verdict(const cli *c, int rc, const router_error *e,
                                const verdict *v, const router_diff *diff)
{
	if (c->json) {
		json_t *o = json_pack("{s:b, s:s}", "ok", rc == ROUTER_OK,
		                      "verdict",
		                      rc == ROUTER_OK ? "accept" : "refuse");

		if (rc != ROUTER_OK) {
			json_object_set_new(o, "code",
			                    json_string(router_errname(rc)));
			json_object_set_new(o, "error", jerror(e));
		}
		json_object_set_new(o, "version_from", juint(v->from));
		json_object_set_new(o, "version_to", juint(v->to));
		json_object_set_new(o, "changed",
		                    json_boolean(router_diff_count(diff) > 0));
		json_object_set_new(o, "changes", jdiff(diff));
		if (v->shadow)
			json_object_set_new(o, "shadow", jshadow(v));
		emit(o);
	} else {
		/* The same routing under a new version (check A A, or a
		 * document only re-versioned) says so: an operator should not
		 * have to read an empty diff to learn that nothing moves. */
		if (rc == ROUTER_OK && router_diff_count(diff) == 0)
			printf("accepted: no change (version %" PRIu64
			       " -> %" PRIu64 ")\n",
			       v->from, v->to);
		else if (rc == ROUTER_OK)
			printf("accepted: version %" PRIu64 " -> %" PRIu64 "\n",
			       v->from, v->to);
		else
			printf("refused: %s: %s%s%s\n", router_errname(rc),
			       e->culprit, e->culprit[0] ? ": " : "", e->message);
		print_shadow(v);
		print_diff(diff);
	}
}

static int cmd_check(cli *c)
{
	router_diff *diff = NULL;
	router *r = NULL;
	static verdict v;
	router_error e;
	doc cur, next;
	int rc, ret;
	unsigned flags = ROUTER_PUBLISH_DRY_RUN;

	if ((ret = load(c, &cur, c->pos[0], ROUTER_DOC_UNUSED_SHARDS_OK)) != 0)
		return ret;
	if ((ret = load(c, &next, c->pos[1], ROUTER_DOC_UNUSED_SHARDS_OK)) !=
	    0) {
		unload(&cur);
		return ret;
	}
	if ((ret = shards_used(c, &cur, &next)) != 0)
		goto out;
	if (cur.rc != ROUTER_OK) {
		errorf("CURRENT %s is invalid; it could not be in service",
		       cur.name);
		ret = invalid(c, &cur);
		goto out;
	}
	if ((ret = check_serve_current(c, &cur, &v, &r)) != 0)
		goto out;
	if (next.rc != ROUTER_OK) {
		ret = check_refuse_invalid(c, &next);
		goto out;
	}
	if (c->destructive)
		flags |= ROUTER_PUBLISH_DESTRUCTIVE;
	rc = router_publish(r, next.t, flags, &diff, &e);
	if (rc == ROUTER_ENOMEM || rc == ROUTER_ESTATE || rc == ROUTER_EINVAL) {
		errorf("%s", e.message);
		ret = EXIT_USAGE;
		goto out;
	}
	check_print_verdict(c, rc, &e, &v, diff);
	ret = rc == ROUTER_OK ? EXIT_YES : EXIT_NO;
out:
	router_diff_free(diff);
	router_free(r);
	unload(&cur);
	unload(&next);
	return ret;
}

static int cmd_diff(cli *c)
{
	router_diff *diff = NULL;
	router_error e;
	doc a, b;
	int rc, ret, same;
	json_t *moved = NULL;

	if ((ret = load(c, &a, c->pos[0], ROUTER_DOC_UNUSED_SHARDS_OK)) != 0)
		return ret;
	if ((ret = load(c, &b, c->pos[1], ROUTER_DOC_UNUSED_SHARDS_OK)) != 0) {
		unload(&a);
		return ret;
	}
	if ((ret = shards_used(c, &a, &b)) != 0)
		goto out;
	if (a.rc != ROUTER_OK || b.rc != ROUTER_OK) {
		ret = invalid(c, a.rc != ROUTER_OK ? &a : &b);
		goto out;
	}
	rc = router_diff_tables(a.t, b.t, &diff, &e);
	if (rc != ROUTER_OK) {
		errorf("%s", e.message);
		ret = EXIT_USAGE;
		goto out;
	}
	same = router_diff_count(diff) == 0 &&
	       router_table_hash(a.t) == router_table_hash(b.t);
	if (c->json)
		moved = json_object();
	if (!c->json)
		print_diff(diff);
	for (size_t i = 0; i < router_doc_keyspace_count(a.t); i++) {
		const char *ks = router_doc_keyspace_name(a.t, i);
		double share;

		if (router_doc_moved_share(a.t, b.t, ks, &share, NULL) !=
		    ROUTER_OK)
			continue;
		if (c->json)
			json_object_set_new(moved, ks, json_real(share));
		else if (!same)
			printf("moved %s: %.4g%% of the keyspace-ID space "
			       "changes shard\n",
			       ks, share * 100);
	}
	if (c->json)
		emit(json_pack("{s:b, s:b, s:o, s:o, s:o, s:o, s:o}", "ok", 1,
		               "identical", same, "version_from",
		               juint(router_table_version(a.t)), "version_to",
		               juint(router_table_version(b.t)), "changes",
		               jdiff(diff), "moved", moved, "keyspaces_compared",
		               json_integer((json_int_t)json_object_size(moved))));
	else if (same)
		printf("no changes\n");
	ret = EXIT_YES;
out:
	router_diff_free(diff);
	unload(&a);
	unload(&b);
	return ret;
}

static int cmd_shards(cli *c)
{
	char buf[16], *end;
	unsigned long n;
	json_t *a = NULL;

	errno = 0;
	n = strtoul(c->pos[0], &end, 10);
	if (c->pos[0][0] < '0' || c->pos[0][0] > '9' || *end != '\0' ||
	    errno != 0 || n < 1 || n > 65536)
		return usage(c, "N must be an integer from 1 to 65536, not "
		                "'%s'",
		             c->pos[0]);
	if (c->json)
		a = json_array();
	for (unsigned i = 0; i < n; i++) {
		router_shard_range_name(i, (unsigned)n, buf, sizeof buf);
		if (c->json)
			json_array_append_new(a, json_string(buf));
		else
			printf("%s\n", buf);
	}
	if (c->json)
		emit(json_pack("{s:b, s:i, s:o}", "ok", 1, "count", (int)n,
		               "shards", a));
	return EXIT_YES;
}

static int cmd_dump(cli *c)
{
	const char *only = c->npos > 1 ? c->pos[1] : NULL;
	unsigned flags = 0;
	router_error e;
	char *text;
	doc d;
	int ret, rc;

	if ((ret = load(c, &d, c->pos[0], 0)) != 0)
		return ret;
	if (d.rc != ROUTER_OK) {
		ret = invalid(c, &d);
		unload(&d);
		return ret;
	}
	if (c->vitess)
		flags |= ROUTER_DOC_DUMP_VITESS;
	if (c->compact)
		flags |= ROUTER_DOC_DUMP_COMPACT;
	rc = router_doc_dump(d.t, only, flags, NULL, &text, NULL, &e);
	if (rc != ROUTER_OK) {
		errorf("dump: %s", e.message);
		if (c->json)
			emit(jfail(&e));
		unload(&d);
		return rc == ROUTER_ENOTFOUND ? EXIT_NO : EXIT_USAGE;
	}
	printf("%s\n", text);
	free(text);
	unload(&d);
	return EXIT_YES;
}

/* ------------------------------------------------------------------------ */
/* Help                                                                     */
/* ------------------------------------------------------------------------ */

/* snapshot save DOC FILE: DOC in service in a router, saved to FILE. */
static int snapshot_save(cli *c)
{
	router *r = NULL;
	router_error e;
	uint64_t version = 0, hash = 0;
	doc d;
	int rc, ret;

	if (c->npos != 3)
		return usage(c, "snapshot save takes DOC and FILE");
	if ((ret = load(c, &d, c->pos[1], 0)) != 0)
		return ret;
	if (d.rc != ROUTER_OK) {
		ret = invalid(c, &d);
		unload(&d);
		return ret;
	}
	version = router_table_version(d.t);
	if ((rc = router_create(&r, NULL, &e)) != ROUTER_OK ||
	    (rc = router_publish(r, d.t, 0, NULL, &e)) != ROUTER_OK) {
		errorf("%s: %s", d.name, e.message);
		router_free(r);
		unload(&d);
		return EXIT_USAGE;
	}
	d.t = NULL;
	rc = router_snapshot_save(r, c->pos[2], &e);
	version = router_serving_version(r);
	hash = router_content_hash(r);
	router_free(r);
	unload(&d);
	if (rc != ROUTER_OK) {
		errorf("%s", e.message);
		return EXIT_USAGE;
	}
	if (c->json) {
		char hex[17];

		snprintf(hex, sizeof hex, "%016" PRIx64, hash);
		emit(json_pack("{s:b, s:s, s:o, s:s}", "ok", 1, "file",
		               c->pos[2], "version", juint(version),
		               "content_hash", hex));
	} else
		printf("saved %s: version %" PRIu64 ", content hash "
		       "%016" PRIx64 "\n",
		       c->pos[2], version, hash);
	return EXIT_YES;
}

/* snapshot load FILE | verify FILE (sub: "load" or "verify"): load
 * prints the snapshot's table as a document, verify its version and
 * content hash. */
static int snapshot_read(cli *c, const char *sub)
{
	router_table *t = NULL;
	router_error e;
	uint64_t version = 0, hash = 0;
	int verify = sub[0] == 'v', rc;
	char hex[17];

	if (c->npos != 2)
		return usage(c, "snapshot %s takes FILE", sub);
	rc = verify ? router_snapshot_verify(c->pos[1], &version, &hash, &e)
	            : router_snapshot_load(c->pos[1], NULL, &t, &version,
	                                   &hash, &e);
	/* A file that cannot be read (missing included) is exit 2, as for
	 * every command's files; a file read and refused is exit 1. */
	if (rc == ROUTER_EIO || rc == ROUTER_ENOMEM || rc == ROUTER_EINVAL ||
	    rc == ROUTER_ENOTFOUND) {
		errorf("%s", e.message);
		return EXIT_USAGE;
	}
	if (rc != ROUTER_OK) {
		if (c->json)
			emit(jfail(&e));
		else
			printf("refused: %s: %s\n", router_errname(rc),
			       e.message);
		return EXIT_NO;
	}
	snprintf(hex, sizeof hex, "%016" PRIx64, hash);
	if (verify) {
		if (c->json)
			emit(json_pack("{s:b, s:o, s:s}", "ok", 1, "version",
			               juint(version), "content_hash", hex));
		else
			printf("ok: version %" PRIu64 ", content hash %s\n",
			       version, hex);
	} else {
		char *text = NULL;

		rc = router_doc_dump(t, NULL,
		                     c->compact ? ROUTER_DOC_DUMP_COMPACT : 0,
		                     NULL, &text, NULL, &e);
		router_table_free(t);
		if (rc != ROUTER_OK) {
			errorf("%s", e.message);
			return EXIT_USAGE;
		}
		fputs(text, stdout);
		if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
			fputc('\n', stdout);
		free(text);
	}
	return EXIT_YES;
}

/* snapshot save DOC FILE | load FILE | verify FILE */
static int cmd_snapshot(cli *c)
{
	const char *sub = c->pos[0];

	if (strcmp(sub, "save") == 0)
		return snapshot_save(c);
	if (strcmp(sub, "load") == 0 || strcmp(sub, "verify") == 0)
		return snapshot_read(c, sub);
	return usage(c, "snapshot needs save, load or verify, not '%s'", sub);
}

/* invariants FILE DOC [NEXT] */
static int cmd_invariants(cli *c)
{
	router *r = NULL;
	router_error e;
	doc cur, next;
	int ret, rc;

	memset(&next, 0, sizeof next);
	if ((ret = load(c, &cur, c->pos[1], ROUTER_DOC_UNUSED_SHARDS_OK)) != 0)
		return ret;
	if (cur.rc != ROUTER_OK) {
		ret = invalid(c, &cur);
		goto out;
	}
	if (c->npos == 3 &&
	    (ret = load(c, &next, c->pos[2], ROUTER_DOC_UNUSED_SHARDS_OK)) !=
	        0)
		goto out;
	if (c->npos == 3 && next.rc != ROUTER_OK) {
		ret = invalid(c, &next);
		goto out;
	}
	if ((rc = router_create(&r, NULL, &e)) != ROUTER_OK ||
	    (rc = router_publish(r, cur.t, ROUTER_PUBLISH_DESTRUCTIVE, NULL,
	                         &e)) != ROUTER_OK) {
		errorf("%s: %s", cur.name, e.message);
		ret = EXIT_USAGE;
		goto out;
	}
	cur.t = NULL;
	/* DOC must satisfy every invariant (they are declared against it). */
	if ((ret = invariants_read(c, c->pos[0], r)) != 0)
		goto out;
	if (c->npos == 3) {
		rc = router_publish(r, next.t,
		                    ROUTER_PUBLISH_DRY_RUN |
		                        ROUTER_PUBLISH_DESTRUCTIVE,
		                    NULL, &e);
		if (rc == ROUTER_EINVARIANT) {
			if (c->json)
				emit(jfail(&e));
			else
				printf("violated: %s: %s\n", e.culprit,
				       e.message);
			ret = EXIT_NO;
			goto out;
		}
	}
	{
		size_t n = router_invariant_get(r, 0, NULL, 0);

		if (c->json) {
			json_t *a = json_array();
			char buf[512];

			for (size_t i = 0; i < n; i++) {
				router_invariant_get(r, i, buf, sizeof buf);
				json_array_append_new(a, json_string(buf));
			}
			emit(json_pack("{s:b, s:o}", "ok", 1, "invariants", a));
		} else {
			printf("ok: %zu invariant%s hold%s\n", n,
			       n == 1 ? "" : "s", n == 1 ? "s" : "");
		}
	}
	ret = EXIT_YES;
out:
	router_free(r);
	unload(&cur);
	unload(&next);
	return ret;
}

static int cmd_help(cli *c);

static const command commands[] = {
    {"ksid", 2, 1 + MAX_VALUES, O_JSON | O_SQLTYPE | O_HEX | O_PARAM,
     cmd_ksid},
    {"route", 4, 3 + MAX_VALUES,
     O_DOC | O_SQLTYPE | O_HEX | O_COLUMN | O_LOOKUP_ROWS | O_SHARD_ROUTING,
     cmd_route},
    {"shard", 3, 3, O_DOC, cmd_shard},
    {"validate", 1, 1, O_DOC, cmd_validate},
    {"check", 2, 2, O_DOC | O_DESTRUCTIVE | O_SAMPLE | O_INVARIANTS, cmd_check},
    {"diff", 2, 2, O_DOC, cmd_diff},
    {"shards", 1, 1, O_JSON, cmd_shards},
    {"snapshot", 2, 3, O_DOC | O_COMPACT, cmd_snapshot},
    {"invariants", 2, 3, O_DOC, cmd_invariants},
    {"dump", 1, 2, O_DOC | O_VITESS | O_COMPACT, cmd_dump},
    {"help", 0, 1, 0, cmd_help},
    {NULL, 0, 0, 0, NULL}};

/* The whole page (name NULL) or a command's section, on stdout.  A
 * command without a section is a bug the CLI tests catch: exit 2. */
int routerctl_print_help(const char *name)
{
	const struct routerctl_help_page *p = NULL;

	if (name != NULL && (p = help_page(name)) == NULL) {
		errorf("no manual section for %s", name);
		return EXIT_USAGE;
	}
	print_lines(stdout, "", p != NULL ? p->text : routerctl_help_main);
	return EXIT_YES;
}

static const command *find_command(const char *name)
{
	for (const command *c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static int cmd_help(cli *c)
{
	const command *cmd = NULL;

	if (c->npos == 1 && (cmd = find_command(c->pos[0])) == NULL)
		return usage(c, "no command '%s'", c->pos[0]);
	return routerctl_print_help(cmd != NULL ? cmd->name : NULL);
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

static int add_shards(cli *c, const char *spec)
{
	const char *eq = strchr(spec, '=');
	router_doc_shards *s;
	const char **arr;
	char *name, *list, *p;
	size_t n = 1, i;

	if (eq == NULL || eq == spec || eq[1] == '\0')
		return usage(c, "--shards takes NAME=SHARD[,SHARD...], not "
		                "'%s'",
		             spec);
	for (i = 0; i < c->nshards; i++)
		if (strncmp(c->shards[i].keyspace, spec, (size_t)(eq - spec)) ==
		        0 &&
		    c->shards[i].keyspace[eq - spec] == '\0')
			return usage(c, "--shards %.*s is given twice",
			             (int)(eq - spec), spec);
	s = realloc(c->shards, (c->nshards + 1) * sizeof *s);
	if (s == NULL)
		return usage(c, "out of memory");
	c->shards = s;
	name = strndup(spec, (size_t)(eq - spec));
	list = strdup(eq + 1);
	for (p = list; p != NULL && *p != '\0'; p++)
		n += *p == ',';
	s = &c->shards[c->nshards];
	arr = calloc(n, sizeof *arr);
	s->keyspace = name;
	s->shards = arr;
	s->nshards = 0;
	if (name == NULL || list == NULL || arr == NULL) {
		free(name);
		free(list);
		free(arr);
		return usage(c, "out of memory");
	}
	c->nshards++;
	/* The list's storage is owned through shards[0]. */
	for (p = list;;) {
		char *comma = strchr(p, ',');

		if (comma != NULL)
			*comma = '\0';
		if (*p == '\0') {
			if (s->nshards == 0)
				free(list); /* not yet owned by shards[0] */
			return usage(c, "--shards %s: empty shard name", name);
		}
		arr[s->nshards++] = p;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return 0;
}

static void free_cli(cli *c)
{
	for (size_t i = 0; i < c->nshards; i++) {
		if (c->shards[i].nshards > 0)
			free((void *)(uintptr_t)c->shards[i].shards[0]);
		free((void *)(uintptr_t)c->shards[i].shards);
		free((void *)(uintptr_t)c->shards[i].keyspace);
	}
	free(c->shards);
	free(c->pos);
	for (size_t i = 0; i < c->nparams; i++)
		free(c->param_keys[i]);
}

typedef struct optdef {
	const char *name;
	unsigned bit;
	int takes_value;
} optdef;

static const optdef optdefs[] = {
    {"json", O_JSON, 0},       {"keyspace", O_KEYSPACE, 1},
    {"shards", O_SHARDS, 1},   {"sqltype", O_SQLTYPE, 1},
    {"hex", O_HEX, 0},         {"allow-destructive", O_DESTRUCTIVE, 0},
    {"vitess", O_VITESS, 0},   {"compact", O_COMPACT, 0},
    {"sample", O_SAMPLE, 1},   {"invariants", O_INVARIANTS, 1},
    {"json-path-dir", O_JSON_PATH_DIR, 1},
    {"param", O_PARAM, 1},
    {"column", O_COLUMN, 1},   {"lookup-rows", O_LOOKUP_ROWS, 1},
    {"shard-routing", O_SHARD_ROUTING, 0},
};

static int set_option(cli *c, const optdef *o, const char *val)
{
	c->seen |= o->bit;
	switch (o->bit) {
	case O_JSON:
		c->json = 1;
		break;
	case O_HEX:
		c->hex = 1;
		break;
	case O_DESTRUCTIVE:
		c->destructive = 1;
		break;
	case O_VITESS:
		c->vitess = 1;
		break;
	case O_COMPACT:
		c->compact = 1;
		break;
	case O_KEYSPACE:
		if (val[0] == '\0')
			return usage(c, "--keyspace needs a name");
		c->keyspace = val;
		break;
	case O_SHARDS:
		return add_shards(c, val);
	case O_SAMPLE:
		c->sample = val;
		break;
	case O_INVARIANTS:
		c->invariants = val;
		break;
	case O_COLUMN:
		if (val[0] == '\0')
			return usage(c, "--column needs a column name");
		c->column = val;
		break;
	case O_LOOKUP_ROWS:
		c->lookup_rows = val;
		break;
	case O_JSON_PATH_DIR:
		if (val[0] == '\0')
			return usage(c, "--json-path-dir needs a directory");
		c->json_path_dir = val;
		break;
	case O_PARAM: {
		const char *eq = strchr(val, '=');
		char *key;

		if (eq == NULL || eq == val)
			return usage(c, "--param needs KEY=VALUE, not '%s'", val);
		if (c->nparams == MAX_PARAMS)
			return usage(c, "too many --param options (at most %d)",
			             MAX_PARAMS);
		if ((key = strndup(val, (size_t)(eq - val))) == NULL)
			return usage(c, "out of memory");
		c->param_keys[c->nparams] = key;
		c->params[c->nparams].key = key;
		c->params[c->nparams].value = eq + 1;
		c->nparams++;
		break;
	}
	case O_SQLTYPE:
		if (c->nsqltypes == MAX_VALUES)
			return usage(c, "too many --sqltype options");
		if (parse_sqltype(val, &c->sqltypes[c->nsqltypes]) != 0)
			return usage(c, "--sqltype must be int64, uint64, "
			                "varchar, varbinary or null, not '%s'",
			             val);
		c->nsqltypes++;
		break;
	}
	return 0;
}

static int parse_args(cli *c, int argc, char **argv, int *help)
{
	int only_pos = 0;

	c->pos = calloc((size_t)argc + 1, sizeof *c->pos);
	if (c->pos == NULL)
		return usage(c, "out of memory");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const optdef *o = NULL;
		const char *val = NULL;
		size_t n;

		if (only_pos || a[0] != '-' || a[1] == '\0' ||
		    (a[1] != '-' && strcmp(a, "-h") != 0)) {
			if (c->cmd == NULL && !only_pos) {
				c->cmd = find_command(a);
				if (c->cmd == NULL)
					return usage(c, "no command '%s'", a);
				continue;
			}
			c->pos[c->npos++] = argv[i];
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
		if (strcmp(a, "--version") == 0) {
			*help = 2;
			continue;
		}
		a += 2;
		n = strcspn(a, "=");
		for (size_t k = 0; k < sizeof optdefs / sizeof optdefs[0]; k++)
			if (strlen(optdefs[k].name) == n &&
			    strncmp(optdefs[k].name, a, n) == 0)
				o = &optdefs[k];
		if (o == NULL)
			return usage(c, "unknown option --%.*s", (int)n, a);
		if (o->takes_value) {
			if (a[n] == '=')
				val = a + n + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return usage(c, "--%s needs a value", o->name);
		} else if (a[n] == '=') {
			return usage(c, "--%s takes no value", o->name);
		}
		if (set_option(c, o, val) != 0)
			return EXIT_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	cli c;
	int help = 0, ret;

	memset(&c, 0, sizeof c);
	/* watch, push, fleet: routerctl_etcd.c. */
	if (argc > 1 && routerctl_etcd_is_command(argv[1]))
		return routerctl_etcd_main(argc - 1, argv + 1);
	if (argc == 3 && strcmp(argv[1], "help") == 0 &&
	    routerctl_etcd_is_command(argv[2])) {
		char *hargv[] = {argv[2], (char *)(uintptr_t) "--help", NULL};

		return routerctl_etcd_main(2, hargv);
	}
	ret = parse_args(&c, argc, argv, &help);
	if (ret != 0)
		goto out;
	if (help == 2) {
		printf("routerctl (librouter) %d.%d.%d\n", ROUTER_VERSION_MAJOR,
		       ROUTER_VERSION_MINOR, ROUTER_VERSION_PATCH);
		goto out;
	}
	if (help) {
		ret = routerctl_print_help(c.cmd != NULL ? c.cmd->name : NULL);
		goto out;
	}
	if (c.cmd == NULL) {
		fputs("Usage: routerctl COMMAND [ARGS] [OPTIONS]\nCommands:",
		      stderr);
		for (const struct routerctl_help_page *p = routerctl_help_pages;
		     p->name != NULL; p++)
			fprintf(stderr, " %s", p->name);
		fputs("\nTry 'routerctl --help'.\n", stderr);
		ret = EXIT_USAGE;
		goto out;
	}
	{
		unsigned bad = c.seen & ~(c.cmd->opts | O_JSON);

		if (c.cmd == find_command("help"))
			bad = 0;
		for (size_t k = 0; bad && k < sizeof optdefs / sizeof optdefs[0];
		     k++)
			if (bad & optdefs[k].bit) {
				ret = usage(&c, "--%s does not apply to %s",
				            optdefs[k].name, c.cmd->name);
				goto out;
			}
	}
	if (c.npos < c.cmd->minpos || c.npos > c.cmd->maxpos) {
		ret = usage(&c, "%s %zu argument%s",
		            c.npos < c.cmd->minpos ? "missing arguments: got"
		                                   : "too many arguments: got",
		            c.npos, c.npos == 1 ? "" : "s");
		goto out;
	}
	ret = c.cmd->run(&c);
out:
	free_cli(&c);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write output: %s\n", prog,
		        strerror(errno));
		return EXIT_USAGE;
	}
	return ret;
}
