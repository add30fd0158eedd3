/*
 * Error-message helpers (librouter/util.c): names shown whole and escaped.
 *
 * Issue 15, defect 14: a name passed as (ptr, len) and printed with %.*s
 * stops at a NUL ("u\0" read "keyspace u not found").  router__fmt_name
 * shows every byte; router_value_parse uses it for the integer text.
 */
#include <string.h>

#include "testutil.h"

#include "core/internal.h"

#define FMT(buf, lit) router__fmt_name(buf, sizeof buf, lit, sizeof lit - 1)

static void names_are_shown_whole_and_escaped(void **state)
{
	char b[64];

	(void)state;
	assert_string_equal(FMT(b, "user"), "user");
	assert_string_equal(FMT(b, "u\0"), "u\\x00");
	assert_string_equal(FMT(b, "\0hash"), "\\x00hash");
	assert_string_equal(FMT(b, "a\tb\nc\x7f"), "a\\x09b\\x0ac\\x7f");
	/* a backslash and a quote cannot forge an escape or end a quote */
	assert_string_equal(FMT(b, "u\\x00"), "u\\\\x00");
	assert_string_equal(FMT(b, "say \"hi\""), "say \\\"hi\\\"");
	/* well-formed UTF-8 as it is; anything else byte by byte */
	assert_string_equal(FMT(b, "na\xc3\xafve \xe2\x82\xac \xf0\x9f\x98\x80"),
	                    "na\xc3\xafve \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_string_equal(FMT(b, "\xff\xfe"), "\\xff\\xfe");
	assert_string_equal(FMT(b, "\xc3"), "\\xc3");         /* truncated */
	assert_string_equal(FMT(b, "\xc0\xaf"), "\\xc0\\xaf"); /* overlong */
	assert_string_equal(FMT(b, "\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
	assert_string_equal(FMT(b, "\xed\xa0\x80"), "\\xed\\xa0\\x80"); /* surrogate */
	assert_string_equal(FMT(b, "\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	assert_string_equal(FMT(b, "\xc2\x85"), "\\xc2\\x85"); /* C1 control */
	assert_string_equal(FMT(b, "\xc2\xa0"), "\xc2\xa0");   /* U+00A0 */
	assert_string_equal(router__fmt_name(b, sizeof b, NULL, 0), "");
	assert_string_equal(router__fmt_name(b, sizeof b, "", 0), "");
}

static void long_names_end_in_dots_never_half_an_escape(void **state)
{
	char b[8], big[600];
	uint8_t raw[300];

	(void)state;
	/* exactly fits: 7 characters and the NUL */
	assert_string_equal(FMT(b, "abcdefg"), "abcdefg");
	assert_string_equal(FMT(b, "abcdefgh"), "abcd...");
	assert_string_equal(FMT(b, "ab\0defgh"), "ab...");
	assert_string_equal(FMT(b, "a\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"), "a\xe2\x82\xac...");
	assert_string_equal(router__fmt_name(b, 4, "abcdef", 6), "...");
	assert_string_equal(router__fmt_name(b, 4, "abc", 3), "abc");
	/* every byte value, never past cap, always terminated */
	for (size_t i = 0; i < sizeof raw; i++)
		raw[i] = (uint8_t)(i * 7);
	for (size_t cap = 4; cap <= sizeof big; cap++) {
		memset(big, 'Z', sizeof big);
		router__fmt_name(big, cap, raw, sizeof raw);
		assert_true(strlen(big) < cap);
		for (size_t j = cap; j < sizeof big; j++)
			assert_int_equal(big[j], 'Z');
	}
}

static void value_parse_errors_show_the_whole_text(void **state)
{
	router_value v;
	router_error e;

	(void)state;
	/* The defect's kind: "1\0" read "not a signed 64-bit integer: '1'". */
	assert_int_equal(router_value_parse(ROUTER_SQL_INT64, "1\0", 2, &v, &e),
	                 ROUTER_EINVAL);
	assert_string_equal(e.message, "not a signed 64-bit integer: '1\\x00'");
	assert_int_equal(router_value_parse(ROUTER_SQL_UINT64, "-1", 2, &v, &e),
	                 ROUTER_EINVAL);
	assert_string_equal(e.message, "not an unsigned 64-bit integer: '-1'");
	assert_int_equal(router_value_parse(ROUTER_SQL_INT64, "x", 1, &v, NULL),
	                 ROUTER_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names_are_shown_whole_and_escaped),
	    cmocka_unit_test(long_names_end_in_dots_never_half_an_escape),
	    cmocka_unit_test(value_parse_errors_show_the_whole_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
