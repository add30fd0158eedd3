/*
 * The unicode_loose collation key (core/collate.c): Vitess's golden file
 * (data/unicode_hash_golden.json, copied from
 * ../shared/vitess/unicode_hash_golden.json: go/mysql/collations/vindex
 * testdata, 28 multilingual paragraphs), every unicode vector of
 * vectors.json and data/vectors_unicode_loose.json (vectors_more.json's
 * "unicode_loose"), then the behaviour around them: folding, trailing
 * spaces, long weights, Hangul, contractions, invalid UTF-8, streaming.
 * Keys written out below were checked against Go's x/text 0.7.0 with
 * tests/collate_oracle (make test-collation-go).
 */
#include <stdint.h>

#include <nettle/base64.h>
#include <nettle/md5.h>
#include <xxhash.h>

#include "testutil.h"

#include "core/collate.h"
#include "core/collate_tables.h"

static json_t *vectors, *golden, *more;

static int load_data(void **state)
{
	(void)state;
	vectors = tu_load_json("vectors.json");
	golden = tu_load_json("unicode_hash_golden.json");
	more = tu_load_json("vectors_unicode_loose.json");
	return vectors && golden && more ? 0 : -1;
}

static int free_data(void **state)
{
	(void)state;
	json_decref(vectors);
	json_decref(golden);
	json_decref(more);
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

/* A sink collecting the key, counting the pieces it arrives in. */
typedef struct keybuf {
	uint8_t *b;
	size_t n, cap, pieces;
} keybuf;

static void keybuf_sink(void *ctx, const uint8_t *p, size_t n)
{
	keybuf *k = ctx;

	assert_true(n > 0);
	if (k->n + n > k->cap) {
		k->cap = (k->n + n) * 2;
		k->b = realloc(k->b, k->cap);
		assert_non_null(k->b);
	}
	memcpy(k->b + k->n, p, n);
	k->n += n;
	k->pieces++;
}

/* The key of (s, n) in hex, into out (cap bytes); returns the status. */
static int key_hex(const void *s, size_t n, char *out, size_t cap,
                   router_error *err)
{
	keybuf k = {NULL, 0, 0, 0};
	int rc = router__collate_key(s, n, keybuf_sink, &k, err);

	assert_true(2 * k.n + 1 <= cap);
	tu_hex(k.b, k.n, out);
	free(k.b);
	return rc;
}

static void assert_key(const char *s, const char *hex)
{
	char got[1024];

	assert_int_equal(key_hex(s, strlen(s), got, sizeof got, NULL),
	                 ROUTER_OK);
	if (strcmp(got, hex) != 0)
		fail_msg("key of \"%s\": %s, want %s", s, got, hex);
}

static void assert_same_key(const char *a, const char *b)
{
	char ka[1024], kb[1024];

	assert_int_equal(key_hex(a, strlen(a), ka, sizeof ka, NULL), 0);
	assert_int_equal(key_hex(b, strlen(b), kb, sizeof kb, NULL), 0);
	if (strcmp(ka, kb) != 0)
		fail_msg("\"%s\" -> %s but \"%s\" -> %s", a, ka, b, kb);
}

/* Standard base64 (with padding) into a malloc'd buffer (nettle). */
static uint8_t *unbase64(const char *s, size_t *len)
{
	struct base64_decode_ctx ctx;
	size_t n = strlen(s);
	uint8_t *out = malloc(BASE64_DECODE_LENGTH(n) + 1);

	assert_non_null(out);
	base64_decode_init(&ctx);
	assert_true(base64_decode_update(&ctx, len, out, n, s));
	assert_true(base64_decode_final(&ctx));
	return out;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("entry without string \"%s\"", key);
	return json_string_value(v);
}

/* The ksid of (s, n) for type "unicode_loose_md5" / "_xxhash", in hex. */
static void ksid_hex(const char *type, const void *s, size_t n, char *out)
{
	uint8_t k[16];
	router_error err;

	if (strcmp(type, "unicode_loose_md5") == 0) {
		assert_int_equal(router__unicode_loose_md5(s, n, k, &err), 0);
		tu_hex(k, 16, out);
	} else if (strcmp(type, "unicode_loose_xxhash") == 0) {
		assert_int_equal(router__unicode_loose_xxhash(s, n, k, &err), 0);
		tu_hex(k, 8, out);
	} else {
		fail_msg("unknown type %s", type);
	}
}

/* ---- known answers ----------------------------------------------------- */

static void golden_paragraphs_give_vitess_md5_and_xxhash(void **state)
{
	size_t i, checked = 0;
	json_t *c;

	(void)state;
	assert_int_equal(json_array_size(golden), 28);
	json_array_foreach(golden, i, c) {
		size_t n, mn, xn;
		uint8_t *in = unbase64(jstr(c, "Input"), &n);
		uint8_t *md5 = unbase64(jstr(c, "MD5"), &mn);
		uint8_t *xx = unbase64(jstr(c, "XXHash"), &xn);
		uint8_t k[16];

		assert_int_equal(mn, 16);
		assert_int_equal(xn, 8);
		assert_int_equal(router__unicode_loose_md5(in, n, k, NULL), 0);
		if (memcmp(k, md5, 16) != 0)
			fail_msg("golden case %zu: MD5 differs", i);
		assert_int_equal(router__unicode_loose_xxhash(in, n, k, NULL),
		                 0);
		if (memcmp(k, xx, 8) != 0)
			fail_msg("golden case %zu: XXHash differs", i);
		checked += 2;
		free(in);
		free(md5);
		free(xx);
	}
	assert_int_equal(checked, 56);
}

static void vectors_json_unicode_cases(void **state)
{
	json_t *vi = json_object_get(vectors, "vindex");
	json_t *norm = json_object_get(vectors, "unicode_normalization");
	size_t i, nks = 0, nkey = 0;
	json_t *e;

	(void)state;
	json_array_foreach(vi, i, e) {
		const char *type = jstr(e, "type");
		uint8_t in[512];
		int n = 0;
		char got[64];

		if (strncmp(type, "unicode_loose_", 14) != 0)
			continue;
		assert_string_equal(jstr(e, "expect"), "ksid");
		if (strcmp(jstr(e, "input_kind"), "null") != 0)
			n = tu_unhex(jstr(e, "input_hex"), in, sizeof in);
		assert_true(n >= 0);
		ksid_hex(type, in, (size_t)n, got);
		if (strcmp(got, jstr(e, "ksid_hex")) != 0)
			fail_msg("vindex #%zu %s: %s, want %s", i, type, got,
			         jstr(e, "ksid_hex"));
		nks++;
	}
	json_array_foreach(norm, i, e) {
		uint8_t in[512];
		int n = tu_unhex(jstr(e, "input_hex"), in, sizeof in);
		char got[1024];

		assert_true(n >= 0);
		assert_int_equal(key_hex(in, (size_t)n, got, sizeof got, NULL),
		                 0);
		assert_string_equal(got, jstr(e, "collation_key_hex"));
		nkey++;
	}
	assert_int_equal(nks, 22);
	assert_int_equal(nkey, 10);
}

static void vectors_more_unicode_loose_cases(void **state)
{
	json_t *cases = json_object_get(more, "unicode_loose");
	size_t i, n_map = 0, n_prefix = 0, n_verify = 0;
	json_t *e;

	(void)state;
	assert_int_equal(json_array_size(cases), 84);
	json_array_foreach(cases, i, e) {
		const char *api = jstr(e, "api");
		const char *type = jstr(e, "vindex_type");
		json_t *ids = json_object_get(e, "ids");
		size_t j;
		json_t *id;

		json_array_foreach(ids, j, id) {
			uint8_t *in = malloc(8192);
			int n = tu_unhex(jstr(id, "hex"), in, 8192);
			char got[64];
			const char *want;

			assert_true(n >= 0);
			if (strcmp(api, "Map (first 8 bytes only)") == 0) {
				ksid_hex(type, in, (size_t)n, got);
				got[16] = '\0';
				want = jstr(e, "expected_ksid_prefix_hex");
				n_prefix++;
			} else if (strcmp(api, "Verify") == 0) {
				json_t *ok = json_array_get(
					json_object_get(e, "expected"), j);
				ksid_hex(type, in, (size_t)n, got);
				want = json_string_value(json_array_get(
					json_object_get(e, "ksids_hex"), j));
				/* Verify is true exactly when the ksids match */
				assert_int_equal(strcmp(got, want) == 0,
				                 json_is_true(ok));
				want = got;
				n_verify++;
			} else {
				assert_string_equal(api, "Map");
				ksid_hex(type, in, (size_t)n, got);
				want = jstr(json_array_get(json_object_get(
					                e, "expected"), 0),
				            "ksid_hex");
				n_map++;
			}
			if (strcmp(got, want) != 0)
				fail_msg("case %zu (%s): %s, want %s", i,
				         jstr(e, "source"), got, want);
			free(in);
		}
	}
	assert_int_equal(n_map, 78);
	assert_int_equal(n_prefix, 4);
	assert_int_equal(n_verify, 6);
}

/* ---- behaviour --------------------------------------------------------- */

static void loose_key_folds_case_accents_and_width(void **state)
{
	(void)state;
	assert_key("Test", "1816164c17f31816");
	assert_same_key("Test", "TEST");
	assert_same_key("Test", "t\xc3\xa9st");                 /* é */
	assert_same_key("Test", "Te\xcc\x81st");                /* e + U+0301 */
	assert_same_key("Test", "\xef\xbc\xb4\xef\xbc\xa5\xef\xbc\xb3\xef\xbc\xb4"); /* fullwidth */
	assert_same_key("A", "\xc3\x85");                       /* Å */
	assert_same_key("A", "A\xcc\x8a");                      /* A + ring */
	assert_same_key("A", "\xe2\x84\xab");                   /* U+212B */
	assert_key("\xef\xac\x81", "168416cd");                 /* ﬁ = f i */
	assert_same_key("\xef\xac\x81", "fi");
	assert_key("\xc7\x85", "16311895");                     /* ǅ = D ž */
	assert_same_key("\xc7\x85", "dz");
	assert_same_key("\xe1\xba\x9e", "ss");                  /* ẞ */
	assert_same_key("\xce\x86", "\xce\xb1");                /* Ά α */
	assert_same_key("\xd0\x81", "\xd0\xb5");                /* Ё е */
}

static void only_trailing_ascii_spaces_are_removed(void **state)
{
	(void)state;
	assert_same_key("Test", "Test ");
	assert_same_key("Test", "Test    ");
	assert_key(" Test", "01091816164c17f31816");
	assert_key("a\t", "15ef0100");
	assert_key("a\n", "15ef0101");
	assert_key("a \t", "15ef01090100");
	assert_key("a\xe3\x80\x80", "15ef0109");  /* U+3000 stays */
	assert_key("a\xc2\xa0", "15ef0109");      /* U+00A0 stays */
	assert_key("a\xc2\xa0 ", "15ef0109");
	assert_key("   ", "");
	assert_key("", "");
	assert_key("\x00\x01", "");               /* ignorable controls */
}

static void null_and_empty_hash_the_empty_key(void **state)
{
	char got[40];

	(void)state;
	ksid_hex("unicode_loose_md5", NULL, 0, got);
	assert_string_equal(got, "d41d8cd98f00b204e9800998ecf8427e");
	ksid_hex("unicode_loose_xxhash", NULL, 0, got);
	assert_string_equal(got, "99e9d85137db46ef");
	ksid_hex("unicode_loose_xxhash", "  ", 2, got);
	assert_string_equal(got, "99e9d85137db46ef");
}

static void weights_above_7fff_take_three_bytes(void **state)
{
	(void)state;
	assert_key("\xe4\xb8\xad", "814e2d");         /* 中: U+4E2D + 0x10000 */
	assert_key("\xf0\xa0\x80\x80", "840000");     /* U+20000 + 0x20000 */
	assert_key("\xcd\xb8", "850378");             /* unassigned U+0378 */
	assert_key("\xef\xbf\xbf", "95ffff");         /* U+FFFF */
	assert_key("\xf0\x9f\x98\x80", "1297");       /* 😀 is in the table */
	/* an ideograph of Unicode 15.0 (CJK extension H): Ideographic */
	assert_key("\xf0\xb1\x8d\x90", "8513" "50");
}

static void hangul_syllables_weigh_as_their_jamo(void **state)
{
	(void)state;
	assert_key("\xed\x95\x9c", "316831d43235");   /* 한 */
	assert_same_key("\xed\x95\x9c", "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab");
	assert_same_key("\xea\xb0\x80", "\xe1\x84\x80\xe1\x85\xa1"); /* 가 */
}

static void contractions_and_skipped_marks(void **state)
{
	(void)state;
	assert_key("L\xc2\xb7" "a", "171115ef");      /* L· contracts */
	assert_key("\xc2\xb7", "0183");
	assert_key("\xd8\xa7\xd9\x94", "1c90");       /* alef + hamza above */
	/* a mark of another class between them does not block */
	assert_key("\xd8\xa7\xd9\x94\xd8\x90", "1c90");
	assert_key("\xd8\xa7\xd8\x90\xd9\x94", "1c9c");
	assert_key("\xef\xb7\xba",                      /* U+FDFA, NFKD */
	           "1cee1d201d4701091c9c1d201d201d3401091cf71d201d481d3401091d3a1ce31d201d27");
}

static void invalid_utf8_is_refused_with_vitess_message(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *msg;
	} cases[] = {
#define IN(x) x, sizeof(x) - 1
		{IN("\xff"), "\"\\xff\""},
		{IN("T\xc3\xa9st\xff"), "\"T\xc3\xa9st\\xff\""},
		{IN("a\"b\\c\0\a\b\f\n\r\t\v\x7f\xc2\x80\xff"),
		 "\"a\\\"b\\\\c\\x00\\a\\b\\f\\n\\r\\t\\v\\x7f\\u0080\\xff\""},
		{IN("\xc2\xa0\xc2\xad\xee\x80\x80\xf4\x8f\xbf\xbf\xf3\xa0\x80\x81"
		 "\xe2\x80\xa8\xc0\xaf"),
		 "\"\\u00a0\\u00ad\\ue000\\U0010ffff\\U000e0001\\u2028\\xc0\\xaf\""},
		{IN("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\""},          /* surrogate */
		{IN("\xf4\x90\x80\x80x"), "\"\\xf4\\x90\\x80\\x80x\""}, /* > 10FFFF */
		{IN("\xe2\x82"), "\"\\xe2\\x82\""},                     /* cut */
		{IN("\xc3\xa9\xf0\x9f\x98"), "\"\xc3\xa9\\xf0\\x9f\\x98\""},
		{IN("\xef\xbf\xbd\xfe"), "\"\xef\xbf\xbd\\xfe\""},
		{IN("ok \xff "), "\"ok \\xff \""}, /* checked before trimming */
#undef IN
	};
	static const char prefix[] =
		"cannot normalize string containing invalid UTF-8: ";

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		router_error err;
		char want[512];
		keybuf k = {NULL, 0, 0, 0};
		uint8_t out[16];

		snprintf(want, sizeof want, "%s%s", prefix, cases[i].msg);
		assert_int_equal(router__collate_key(cases[i].in, cases[i].n,
		                                     keybuf_sink, &k, &err),
		                 ROUTER_EINVAL);
		assert_int_equal(err.code, ROUTER_EINVAL);
		assert_string_equal(err.message, want);
		assert_int_equal(k.n, 0); /* nothing written */
		assert_int_equal(router__unicode_loose_md5(cases[i].in,
		                                           cases[i].n, out,
		                                           &err),
		                 ROUTER_EINVAL);
		assert_string_equal(err.message, want);
		assert_int_equal(router__unicode_loose_xxhash(cases[i].in,
		                                              cases[i].n, out,
		                                              NULL),
		                 ROUTER_EINVAL);
	}
}

static void long_invalid_message_is_cut_after_the_closing_quote(void **state)
{
	char in[1000];
	router_error err;
	size_t n;

	(void)state;
	memset(in, 'x', sizeof in);
	in[0] = '\xff';
	assert_int_equal(router__collate_key(in, sizeof in, keybuf_sink, NULL,
	                                     &err),
	                 ROUTER_EINVAL);
	n = strlen(err.message);
	assert_true(n < ROUTER_MESSAGE_MAX);
	assert_true(n > 300);
	assert_string_equal(err.message + n - 4, "\"...");
	assert_memory_equal(err.message,
	                    "cannot normalize string containing invalid "
	                    "UTF-8: \"\\xffxxx",
	                    58);
	/* never half an escape: a run of bad bytes */
	memset(in, '\xfe', sizeof in);
	assert_int_equal(router__collate_key(in, sizeof in, keybuf_sink, NULL,
	                                     &err),
	                 ROUTER_EINVAL);
	n = strlen(err.message);
	assert_string_equal(err.message + n - 8, "\\xfe\"...");
}

static void key_is_the_same_however_it_is_streamed(void **state)
{
	static const char *parts[] = {"Hello, World ", "T\xc3\xa9st ",
	                              "\xe4\xb8\xad\xe6\x96\x87 ",
	                              "\xed\x95\x9c\xea\xb5\xad ",
	                              "\xd8\xa7\xd9\x94 ", "l\xc2\xb7l "};
	size_t cap = 200000, n = 0, i = 0;
	char *s = malloc(cap);
	keybuf k = {NULL, 0, 0, 0};
	uint8_t md5[16], want[16];
	struct md5_ctx ctx;
	uint64_t h;

	(void)state;
	while (n + 32 < cap) {
		size_t l = strlen(parts[i % 6]);
		memcpy(s + n, parts[i % 6], l);
		n += l;
		i++;
	}
	assert_int_equal(router__collate_key(s, n, keybuf_sink, &k, NULL), 0);
	assert_true(k.pieces > 100); /* it did arrive in pieces */
	md5_init(&ctx);
	md5_update(&ctx, k.n, k.b);
	md5_digest(&ctx, 16, want);
	assert_int_equal(router__unicode_loose_md5(s, n, md5, NULL), 0);
	assert_memory_equal(md5, want, 16);
	h = XXH64(k.b, k.n, 0);
	assert_int_equal(router__unicode_loose_xxhash(s, n, md5, NULL), 0);
	for (int b = 0; b < 8; b++)
		assert_int_equal(md5[b], (uint8_t)(h >> (8 * b)));

	/* the key of a concatenation of ASCII words is the concatenation
	 * (when the first ends in no space: that one would be trimmed) */
	keybuf a = {NULL, 0, 0, 0}, b2 = {NULL, 0, 0, 0};
	assert_int_equal(router__collate_key("Hello,", 6, keybuf_sink, &a,
	                                     NULL),
	                 0);
	assert_int_equal(router__collate_key(" World", 6, keybuf_sink, &a,
	                                     NULL),
	                 0);
	assert_int_equal(router__collate_key("Hello, World", 12, keybuf_sink,
	                                     &b2, NULL),
	                 0);
	assert_int_equal(a.n, b2.n);
	assert_memory_equal(a.b, b2.b, a.n);
	free(a.b);
	free(b2.b);
	free(k.b);
	free(s);
}

static void long_runs_of_combining_marks_are_bounded(void **state)
{
	/* 1000 marks after a contraction start and after a letter: the
	 * iterator holds back at most 30 and never overflows its buffer */
	size_t n = 0;
	char *s = malloc(4096);
	char got[64];

	(void)state;
	s[n++] = '\xd8';
	s[n++] = '\xa7'; /* alef */
	for (int i = 0; i < 1000; i++) {
		s[n++] = i % 2 ? '\xcc' : '\xd9';
		s[n++] = i % 2 ? '\x81' : '\x94';
	}
	keybuf k = {NULL, 0, 0, 0};
	assert_int_equal(router__collate_key(s, n, keybuf_sink, &k, NULL), 0);
	assert_true(k.n >= 2);
	free(k.b);
	assert_int_equal(key_hex("a\xcc\x81\xcc\x81\xcc\x81", 7, got,
	                         sizeof got, NULL),
	                 0);
	assert_string_equal(got, "15ef");
	free(s);
}

static void tables_stay_compact(void **state)
{
	(void)state;
	/* x/text's own tables are 1253028 bytes */
	assert_true(router__coll_table_bytes < 200000);
	assert_int_equal(router__coll_ascii['a'] & 0x7FFF, 0x15ef);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(golden_paragraphs_give_vitess_md5_and_xxhash),
	    cmocka_unit_test(vectors_json_unicode_cases),
	    cmocka_unit_test(vectors_more_unicode_loose_cases),
	    cmocka_unit_test(loose_key_folds_case_accents_and_width),
	    cmocka_unit_test(only_trailing_ascii_spaces_are_removed),
	    cmocka_unit_test(null_and_empty_hash_the_empty_key),
	    cmocka_unit_test(weights_above_7fff_take_three_bytes),
	    cmocka_unit_test(hangul_syllables_weigh_as_their_jamo),
	    cmocka_unit_test(contractions_and_skipped_marks),
	    cmocka_unit_test(invalid_utf8_is_refused_with_vitess_message),
	    cmocka_unit_test(long_invalid_message_is_cut_after_the_closing_quote),
	    cmocka_unit_test(key_is_the_same_however_it_is_streamed),
	    cmocka_unit_test(long_runs_of_combining_marks_are_bounded),
	    cmocka_unit_test(tables_stay_compact),
	};

	return cmocka_run_group_tests(tests, load_data, free_data);
}
