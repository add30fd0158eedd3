/* Shared helpers for the cmocka suites: test data, vectors, hex. */
#ifndef ROUTER_TESTUTIL_H
#define ROUTER_TESTUTIL_H

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "router.h"

/* Directory holding vectors.json and examples/: $ROUTER_TEST_DATA, else
 * "data" (the Makefile runs the suites from tests/). */
static inline const char *tu_data_dir(void)
{
	const char *d = getenv("ROUTER_TEST_DATA");
	return d != NULL ? d : "data";
}

/* Load a JSON file under the data directory; fails the test if absent. */
static inline json_t *tu_load_json(const char *name)
{
	char path[512];
	json_error_t jerr;
	json_t *j;

	snprintf(path, sizeof path, "%s/%s", tu_data_dir(), name);
	j = json_load_file(path, JSON_DECODE_ANY, &jerr);
	if (j == NULL)
		fail_msg("cannot load %s: %s (line %d)", path, jerr.text,
		         jerr.line);
	return j;
}

/* The whole file at path, malloc'd and NUL-terminated (the NUL not
 * counted in *len, which may be NULL); fails the test when it cannot be
 * read. */
static inline char *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n = -1;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	if (fseek(f, 0, SEEK_END) == 0)
		n = ftell(f);
	if (n < 0 || fseek(f, 0, SEEK_SET) != 0)
		fail_msg("cannot size %s", path);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		fail_msg("short read of %s", path);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

/* tu_read_file of name under the data directory (tu_data_dir). */
static inline char *tu_read_data(const char *name, size_t *len)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", tu_data_dir(), name);
	return tu_read_file(path, len);
}

/* tests/data/topo/NAME, a protobuf fixture of tools/gen_topo_fixtures.py
 * (tu_read_data). */
static inline uint8_t *tu_topo_fixture(const char *name, size_t *len)
{
	char path[256];

	snprintf(path, sizeof path, "topo/%s", name);
	return (uint8_t *)tu_read_data(path, len);
}

/* Decode lower/upper-case hex into out; returns length or -1. */
static inline int tu_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex);
	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

static inline void tu_hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* A counting allocator for allocation-failure tests, through
 * router_allocator: TU_ALLOCATOR(&a).  live counts blocks allocated and not
 * yet freed, calls every malloc/realloc, failed the calls made to fail.
 * countdown: calls to let through before one fails (< 0: never); the
 * failing call sets it back to -1 unless sticky, which keeps failing every
 * later call too (an allocator that has run dry). */
typedef struct tu_alloc {
	long live;
	long countdown;
	long calls;
	long failed;
	int sticky;
	size_t largest; /* the largest single request */
} tu_alloc;

#define TU_ALLOC_INIT {0, -1, 0, 0, 0, 0}

static inline int tu_alloc_fail(tu_alloc *a)
{
	a->calls++;
	if (a->countdown < 0)
		return 0;
	if (a->countdown > 0) {
		a->countdown--;
		return 0;
	}
	if (!a->sticky)
		a->countdown = -1;
	a->failed++;
	return 1;
}

static inline void *tu_malloc(void *ctx, size_t n)
{
	tu_alloc *a = ctx;
	void *p;

	if (n > a->largest)
		a->largest = n;
	if (tu_alloc_fail(a))
		return NULL;
	p = malloc(n);
	if (p != NULL)
		a->live++;
	return p;
}

static inline void *tu_realloc(void *ctx, void *p, size_t n)
{
	tu_alloc *a = ctx;
	void *q;

	if (n > a->largest)
		a->largest = n;
	if (tu_alloc_fail(a))
		return NULL;
	q = realloc(p, n);
	if (q != NULL && p == NULL)
		a->live++;
	return q;
}

static inline void tu_free(void *ctx, void *p)
{
	tu_alloc *a = ctx;

	if (p != NULL)
		a->live--;
	free(p);
}

#define TU_ALLOCATOR(a) ((router_allocator){tu_malloc, tu_realloc, tu_free, (a)})

#endif
