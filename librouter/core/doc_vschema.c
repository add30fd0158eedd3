/*
 * The checks of Vitess's BuildVSchema (go/vt/vtgate/vindexes/vschema.go)
 * that reach across keyspaces and that the routing table does not model:
 * a reference table's "source" (buildTables' parse, buildReferences) and
 * an auto_increment's sequence (resolveAutoIncrement).  Both read the
 * document's JSON, whose types the loader has already checked, and report
 * Vitess's messages through the loader's callback.
 *
 * Unqualified names resolve as Vitess's findGlobalTable does: through the
 * "global tables", the tables whose name is unique across the keyspaces
 * that do not require explicit routing (a reference table that names its
 * source does not make its source's name ambiguous).
 *
 * Known approximations: Vitess quotes an identifier in a message with
 * backticks when it is an SQL keyword as well as when it has characters
 * outside [A-Za-z0-9_$]; only the second is done here.  The SQL tokenizer
 * that parses a sequence name is reduced to identifiers, backquoted
 * identifiers, blanks and one dot (an unquoted keyword is not lowered).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "doc.h"

#define MSG ROUTER_MESSAGE_MAX

/* snprintf into a message buffer, cut at its size (names in messages may
 * be long). */
#define SETMSG(buf, ...)                                                       \
	do {                                                                   \
		if (snprintf((buf), MSG, __VA_ARGS__) < 0)                     \
			(buf)[0] = '\0';                                       \
	} while (0)

/* ---- JSON access -------------------------------------------------------- */

static json_t *member(json_t *o, const char *snake, const char *camel)
{
	json_t *v = json_object_get(o, snake);

	if (v == NULL && camel != NULL)
		v = json_object_get(o, camel);
	return v;
}

static const char *str_member(json_t *o, const char *snake,
                              const char *camel)
{
	json_t *v = member(o, snake, camel);

	return json_is_string(v) ? json_string_value(v) : "";
}

static json_t *ks_tables(const router__doc_ks *k)
{
	json_t *t = member(k->obj, "tables", NULL);

	return json_is_object(t) ? t : NULL;
}

static int ks_sharded(const router__doc_ks *k)
{
	return json_is_true(member(k->obj, "sharded", NULL));
}

/* ---- Go's and Vitess's ways of printing names --------------------------- */

/* Go's %q of s into out (strconv.Quote for the ASCII range; other bytes
 * are copied). */
static void go_quote(char *out, size_t cap, const char *s)
{
	size_t n = 0;

#define PUT(...)                                                               \
	do {                                                                   \
		if (n < cap)                                                   \
			n += (size_t)snprintf(out + n, cap - n, __VA_ARGS__);  \
	} while (0)
	PUT("\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"':
			PUT("\\\"");
			break;
		case '\\':
			PUT("\\\\");
			break;
		case '\a':
			PUT("\\a");
			break;
		case '\b':
			PUT("\\b");
			break;
		case '\f':
			PUT("\\f");
			break;
		case '\n':
			PUT("\\n");
			break;
		case '\r':
			PUT("\\r");
			break;
		case '\t':
			PUT("\\t");
			break;
		case '\v':
			PUT("\\v");
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				PUT("\\x%02x", c);
			else
				PUT("%c", c);
		}
	}
	PUT("\"");
#undef PUT
}

static int sql_letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == '$';
}

static int sql_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* An identifier as sqlparser's formatID writes it: backquoted (inner
 * backquotes doubled) when it has a character other than a letter, or
 * a digit after the first. */
static size_t sql_id(char *out, size_t cap, const char *s, size_t len)
{
	size_t i, n = 0;
	int esc = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!sql_letter(c) && (i == 0 || !sql_digit(c)))
			esc = 1;
	}
	if (!esc)
		return (size_t)snprintf(out, cap, "%.*s", (int)len, s);
	if (n < cap)
		out[n] = '`';
	n++;
	for (i = 0; i < len; i++) {
		if (n < cap)
			out[n] = s[i];
		n++;
		if (s[i] == '`') {
			if (n < cap)
				out[n] = '`';
			n++;
		}
	}
	if (n < cap)
		out[n] = '`';
	n++;
	if (cap > 0)
		out[n < cap ? n : cap - 1] = '\0';
	return n;
}

/* A TableName as sqlparser prints it: "ks.t", or "t" without keyspace. */
static void sql_table_name(char *out, size_t cap, const char *ks,
                           size_t kslen, const char *t, size_t tlen)
{
	size_t n = 0;

	if (kslen > 0) {
		n = sql_id(out, cap, ks, kslen);
		if (n + 1 < cap)
			out[n] = '.';
		n++;
	}
	if (n < cap)
		sql_id(out + n, cap - n, t, tlen);
}

/* ---- global tables ------------------------------------------------------ */

typedef struct gslot {
	const char *name; /* NULL: empty */
	size_t ksi;
	int ambiguous;
} gslot;

typedef struct gmap {
	gslot *s;
	size_t mask;
} gmap;

static gslot *gfind(const gmap *g, const char *name, size_t len, int insert)
{
	size_t i = (size_t)XXH3_64bits(name, len) & g->mask;

	for (;; i = (i + 1) & g->mask) {
		gslot *s = &g->s[i];

		if (s->name == NULL)
			return insert ? s : NULL;
		if (strncmp(s->name, name, len) == 0 && s->name[len] == '\0')
			return s;
	}
}

/* Vitess's buildGlobalTables over the document's keyspaces. */
static int build_globals(const router__doc_ks *ks, size_t n,
                         const router_allocator *a, gmap *g)
{
	size_t total = 0, cap = 16, i;

	for (i = 0; i < n; i++)
		total += json_object_size(ks_tables(&ks[i]));
	while (cap < 2 * total + 2)
		cap *= 2;
	g->s = router__malloc(a, cap * sizeof *g->s);
	if (g->s == NULL)
		return -1;
	memset(g->s, 0, cap * sizeof *g->s);
	g->mask = cap - 1;
	for (i = 0; i < n; i++) {
		json_t *tables = ks_tables(&ks[i]), *t;
		const char *tname;

		if (json_is_true(member(ks[i].obj, "require_explicit_routing",
		                        "requireExplicitRouting")))
			continue;
		json_object_foreach(tables, tname, t) {
			gslot *s = gfind(g, tname, strlen(tname), 1);
			const char *src = str_member(t, "source", NULL);
			int ref = strcmp(str_member(t, "type", NULL),
			                 "reference") == 0 &&
			          src[0] != '\0';

			if (s->name != NULL) {
				const char *dot = strchr(src, '.');

				if (s->ambiguous)
					continue;
				/* A reference naming the stored table's
				 * keyspace (or none) as its source's is no
				 * ambiguity. */
				if (ref && (dot == NULL ||
				            (strlen(ks[s->ksi].name) ==
				                 (size_t)(dot - src) &&
				             strncmp(ks[s->ksi].name, src,
				                     (size_t)(dot - src)) == 0)))
					continue;
				s->ambiguous = 1;
			} else {
				const char *dot = strchr(src, '.');
				const char *sname = dot ? dot + 1 : src;

				/* Routable through its source, which has
				 * the same name. */
				if (ref && strcmp(sname, tname) == 0)
					continue;
				s->name = tname;
				s->ksi = i;
			}
		}
	}
	return 0;
}

static const router__doc_ks *find_ks(const router__doc_ks *ks, size_t n,
                                     const char *name, size_t len,
                                     size_t *idx)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(ks[i].name, name, len) == 0 &&
		    ks[i].name[len] == '\0') {
			if (idx != NULL)
				*idx = i;
			return &ks[i];
		}
	return NULL;
}

/* The declared table (name, len) of keyspace k, or NULL. */
static json_t *ks_table(const router__doc_ks *k, const char *name, size_t len)
{
	json_t *tables = ks_tables(k);
	char buf[ROUTER_NAME_MAX + 1];

	if (tables == NULL || len > ROUTER_NAME_MAX)
		return NULL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return json_object_get(tables, buf);
}

/* ---- references --------------------------------------------------------- */

/* One reference of keyspace ks[ki] to a source table, for the "at most
 * once per keyspace" rule. */
typedef struct seen {
	size_t src_ks;
	const char *src_table; /* the source keyspace's JSON key */
	const char *table;     /* the referencing table */
} seen;

/* Check reference table tname (object t) of keyspace ks[ki] against its
 * source src; seen[0..*nseen) are the earlier references of the same
 * keyspace.  Writes Vitess's message into msg, or leaves it empty. */
static void check_reference(const router__doc_ks *ks, size_t n,
                            const gmap *g, size_t ki, const char *tname,
                            const char *src, seen *sn, size_t *nseen,
                            char *msg)
{
	const char *dot = strchr(src, '.');
	const char *sks = dot ? src : "", *stab = dot ? dot + 1 : src;
	size_t skslen = dot ? (size_t)(dot - src) : 0, si = 0, i;
	char q[MSG / 2], shown[MSG / 4];
	const router__doc_ks *k;
	json_t *st = NULL, *tables;
	const char *stype, *skey = NULL, *ssrc;

	sql_table_name(shown, sizeof shown, sks, skslen, stab, strlen(stab));
	go_quote(q, sizeof q, shown);
	msg[0] = '\0';
	if (strlen(ks[ki].name) == skslen &&
	    strncmp(ks[ki].name, sks, skslen) == 0) {
		SETMSG(msg,
		         "source %s may not reference a table in the same "
		         "keyspace as table: %s",
		         q, tname);
		return;
	}
	if (skslen == 0) {
		/* findGlobalTable, not constructing unsharded tables. */
		gslot *s = gfind(g, stab, strlen(stab), 0);

		if (s != NULL && !s->ambiguous) {
			si = s->ksi;
			st = ks_table(&ks[si], stab, strlen(stab));
		} else if (n == 1) {
			si = 0;
			st = ks_table(&ks[0], stab, strlen(stab));
		} else if (s != NULL) {
			SETMSG(msg, "ambiguous table reference: %s",
			         stab);
			return;
		}
	} else {
		char kq[MSG / 4];

		k = find_ks(ks, n, sks, skslen, &si);
		if (k == NULL) {
			char kn[ROUTER_NAME_MAX + 1];

			snprintf(kn, sizeof kn, "%.*s", (int)skslen, sks);
			go_quote(kq, sizeof kq, kn);
			SETMSG(msg,
			         "source %s references a non-existent keyspace "
			         "%s",
			         q, kq);
			return;
		}
		st = ks_table(k, stab, strlen(stab));
	}
	if (st == NULL) {
		char tq[MSG / 4], kq[MSG / 4], kn[ROUTER_NAME_MAX + 1];

		snprintf(kn, sizeof kn, "%.*s", (int)skslen, sks);
		go_quote(tq, sizeof tq, stab);
		go_quote(kq, sizeof kq, kn);
		SETMSG(msg,
		         "source %s references a table %s that is not present "
		         "in the VSchema of keyspace %s",
		         q, tq, kq);
		return;
	}
	stype = str_member(st, "type", NULL);
	if (stype[0] != '\0' && strcmp(stype, "reference") != 0) {
		char tq[MSG / 4];

		go_quote(tq, sizeof tq, stype);
		SETMSG(msg,
		         "source %s may not reference a table of type %s: %s",
		         q, tq, tname);
		return;
	}
	/* The source's key in its keyspace: its identity. */
	tables = ks_tables(&ks[si]);
	{
		const char *key;
		json_t *v;

		json_object_foreach(tables, key, v) if (v == st)
		{
			skey = key;
			break;
		}
	}
	for (i = 0; i < *nseen; i++)
		if (sn[i].src_ks == si && sn[i].src_table == skey) {
			const char *x = sn[i].table, *y = tname;

			if (strcmp(x, y) > 0) {
				x = tname;
				y = sn[i].table;
			}
			SETMSG(msg,
			         "source %s may not be referenced more than "
			         "once per keyspace: %s, %s",
			         q, x, y);
			return;
		}
	sn[*nseen].src_ks = si;
	sn[*nseen].src_table = skey;
	sn[*nseen].table = tname;
	(*nseen)++;
	ssrc = str_member(st, "source", NULL);
	if (strcmp(stype, "reference") == 0 && ssrc[0] != '\0') {
		const char *d2 = strchr(ssrc, '.');
		char from[MSG / 4], via[MSG / 4];

		/* A BaseTable prints as "ks.t", its Source as a TableName. */
		snprintf(via, sizeof via, "%s.%s", ks[si].name, skey);
		sql_table_name(from, sizeof from, d2 ? ssrc : "",
		               d2 ? (size_t)(d2 - ssrc) : 0, d2 ? d2 + 1 : ssrc,
		               strlen(d2 ? d2 + 1 : ssrc));
		SETMSG(msg,
		         "reference chaining is not allowed %s => %s => %s: %s",
		         tname, via, from, tname);
	}
}

/* Vitess's parse of a source (extractTableParts, unqualified allowed):
 * one dot at most.  0 or -1 with msg set. */
static int parse_source(const char *src, const char *tname, char *msg)
{
	const char *dot = strchr(src, '.');
	char q[MSG / 2];

	if (dot == NULL || strchr(dot + 1, '.') == NULL)
		return 0;
	go_quote(q, sizeof q, src);
	SETMSG(msg,
	         "invalid source %s for reference table: %s; invalid table "
	         "name: '%s', it must be of the unqualified form "
	         "<table_name> or the qualified form "
	         "<keyspace_name>.<table_name> (dots are not allowed in "
	         "either name)",
	         q, tname, src);
	return -1;
}

int router__doc_check_references(const router__doc_ks *ks, size_t n,
                                 int cross, const router_allocator *a,
                                 router__doc_problem_fn fn, void *ctx)
{
	gmap g = {NULL, 0};
	seen *sn = NULL;
	size_t i, maxt = 0;
	int bad = 0;

	for (i = 0; i < n; i++) {
		json_t *tables = ks_tables(&ks[i]), *t;
		const char *tname;
		char msg[MSG];

		if (json_object_size(tables) > maxt)
			maxt = json_object_size(tables);
		json_object_foreach(tables, tname, t) {
			const char *src = str_member(t, "source", NULL);

			if (strcmp(str_member(t, "type", NULL), "reference") !=
			        0 ||
			    src[0] == '\0')
				continue;
			if (parse_source(src, tname, msg) != 0) {
				fn(ctx, i, tname, "source", ROUTER_EVSCHEMA,
				   msg);
				bad = 1;
			}
		}
	}
	if (!cross || bad)
		return 0;
	if (build_globals(ks, n, a, &g) != 0)
		return -1;
	sn = router__malloc(a, (maxt ? maxt : 1) * sizeof *sn);
	if (sn == NULL) {
		router__free(a, g.s);
		return -1;
	}
	for (i = 0; i < n; i++) {
		json_t *tables = ks_tables(&ks[i]), *t;
		const char *tname;
		size_t nseen = 0;
		char msg[MSG];

		json_object_foreach(tables, tname, t) {
			const char *src = str_member(t, "source", NULL);

			if (strcmp(str_member(t, "type", NULL), "reference") !=
			        0 ||
			    src[0] == '\0')
				continue;
			check_reference(ks, n, &g, i, tname, src, sn, &nseen,
			                msg);
			if (msg[0] != '\0')
				fn(ctx, i, tname, "source", ROUTER_EREFERENCE,
				   msg);
		}
	}
	router__free(a, sn);
	router__free(a, g.s);
	return 0;
}

/* ---- sequences ---------------------------------------------------------- */

static int sql_id_char(unsigned char c)
{
	return sql_letter(c) || sql_digit(c) || c >= 0x80;
}

static const char *sql_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* One identifier at *pp (backquoted or not) into out (strlen(*pp) + 1
 * bytes); advances *pp.  -1 when there is none. */
static int sql_ident(const char **pp, char *out)
{
	const char *p = *pp;
	size_t k = 0;

	if (*p == '`') {
		for (p++;; p++) {
			if (*p == '\0')
				return -1;
			if (*p == '`') {
				if (p[1] != '`')
					break;
				p++;
			}
			out[k++] = *p;
		}
		p++;
	} else {
		while (sql_id_char((unsigned char)*p))
			out[k++] = *p++;
		if (k == 0)
			return -1;
	}
	out[k] = '\0';
	*pp = p;
	return 0;
}

/* sqlparser's ParseTable: "t" or "ks.t", identifiers optionally
 * backquoted.  ks and t have strlen(in) + 1 bytes; ks is "" when
 * unqualified.  0, or -1 for "invalid table name". */
static int sql_parse_table(const char *in, char *ks, char *t)
{
	const char *p = sql_blanks(in);

	ks[0] = '\0';
	if (sql_ident(&p, t) != 0)
		return -1;
	p = sql_blanks(p);
	if (*p == '\0')
		return 0;
	if (*p != '.')
		return -1;
	strcpy(ks, t);
	p = sql_blanks(p + 1);
	if (sql_ident(&p, t) != 0)
		return -1;
	p = sql_blanks(p);
	return *p == '\0' ? 0 : -1;
}

/* The rules of t by from_table (ksi: the rule's index), so that many
 * sequences against many rules stay linear.  Returns 0, or -1 out of
 * memory. */
static int index_rules(const router_table *t, const router_allocator *a,
                       gmap *g)
{
	size_t cap = 16, i;

	while (cap < 2 * t->nrules + 2)
		cap *= 2;
	g->s = router__malloc(a, cap * sizeof *g->s);
	if (g->s == NULL)
		return -1;
	memset(g->s, 0, cap * sizeof *g->s);
	g->mask = cap - 1;
	for (i = 0; i < t->nrules; i++) {
		gslot *s = gfind(g, t->rules[i].from, strlen(t->rules[i].from),
		                 1);

		s->name = t->rules[i].from;
		s->ksi = i;
	}
	return 0;
}

static const router__rule *find_rule(const router_table *t, const gmap *rg,
                                     const char *from)
{
	const gslot *s = gfind(rg, from, strlen(from), 0);

	return s != NULL ? &t->rules[s->ksi] : NULL;
}

/* Vitess's FindRoutedTable(ks, tb, PRIMARY) for a sequence: 0 when it
 * names a table, else -1 with the error in msg.  The keyspace routing
 * rule of sks first (resolveAutoIncrement runs after them). */
static int find_routed(const router__doc_ks *ks, size_t n, const gmap *g,
                       const router_table *t, const gmap *rg, const char *sks,
                       const char *stb, char *msg)
{
	char key[2 * ROUTER_NAME_MAX + 16];
	const char *const suffixes[] = {"@primary", ""};
	const router__doc_ks *k;
	const router__ksrule *kr;
	size_t i;

	if (sks[0] != '\0' &&
	    (kr = router__table_ksrule(t, sks, strlen(sks))) != NULL)
		sks = kr->to;

	for (i = 0; i < 2; i++) {
		const router__rule *r;

		snprintf(key, sizeof key, "%s%s%s%s", sks, sks[0] ? "." : "",
		         stb, suffixes[i]);
		if ((r = find_rule(t, rg, key)) == NULL)
			continue;
		if (r->error != NULL) {
			SETMSG(msg, "%s", r->error);
			return -1;
		}
		if (r->to == NULL) {
			SETMSG(msg, "table %s has been disabled", stb);
			return -1;
		}
		return 0;
	}
	if (sks[0] != '\0') {
		k = find_ks(ks, n, sks, strlen(sks), NULL);
		if (k == NULL) {
			SETMSG(msg,
			         "VT05003: unknown database '%s' in vschema", sks);
			return -1;
		}
		if (!ks_sharded(k) || ks_table(k, stb, strlen(stb)) != NULL)
			return 0;
	} else {
		gslot *s = gfind(g, stb, strlen(stb), 0);

		if (s != NULL && !s->ambiguous)
			return 0;
		if (n == 1) {
			if (!ks_sharded(&ks[0]) ||
			    ks_table(&ks[0], stb, strlen(stb)) != NULL)
				return 0;
		} else if (s != NULL) {
			SETMSG(msg, "ambiguous table reference: %s", stb);
			return -1;
		}
	}
	SETMSG(msg, "table %s not found", stb);
	return -1;
}

int router__doc_check_sequences(const router__doc_ks *ks, size_t n,
                                const router_table *t,
                                const router_allocator *a,
                                router__doc_problem_fn fn, void *ctx)
{
	gmap g = {NULL, 0}, rg = {NULL, 0};
	size_t i;
	int rc = 0;

	if (build_globals(ks, n, a, &g) != 0)
		return -1;
	if (index_rules(t, a, &rg) != 0) {
		router__free(a, g.s);
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		json_t *tables = ks_tables(&ks[i]), *tb;
		const char *tname;

		json_object_foreach(tables, tname, tb) {
			json_t *ai = member(tb, "auto_increment",
			                    "autoIncrement");
			const char *seq;
			char msg[MSG], why[MSG], *sks, *stb;
			size_t len;

			if (!json_is_object(ai))
				continue;
			seq = str_member(ai, "sequence", NULL);
			len = strlen(seq);
			sks = router__malloc(a, len + 1);
			stb = router__malloc(a, len + 1);
			if (sks == NULL || stb == NULL) {
				router__free(a, sks);
				router__free(a, stb);
				rc = -1;
				break;
			}
			if (sql_parse_table(seq, sks, stb) != 0) {
				snprintf(why, sizeof why,
				         "invalid table name: %s", seq);
				sks[0] = '\0';
			} else if (find_routed(ks, n, &g, t, &rg, sks, stb,
			                       why) == 0) {
				why[0] = '\0';
			}
			router__free(a, sks);
			router__free(a, stb);
			if (why[0] == '\0')
				continue;
			snprintf(msg, sizeof msg,
			         "cannot resolve sequence %s: %s", seq, why);
			fn(ctx, i, tname, "auto_increment", ROUTER_EREFERENCE,
			   msg);
		}
	}
	router__free(a, rg.s);
	router__free(a, g.s);
	return rc;
}
