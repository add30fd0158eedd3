/* Fuzz target: the unicode_loose collation key (core/collate.c) on any
 * bytes.  Nothing may crash or read past the input (the sanitizers watch
 * the exact-size buffer libFuzzer passes); the key is deterministic and
 * the same through the sink, MD5 and XXH64 entry points; a trailing
 * space changes nothing; an error is ROUTER_EINVAL with a message, and
 * happens exactly for invalid UTF-8. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../librouter/core/collate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct acc {
	uint8_t *b;
	size_t n, cap;
} acc;

static void acc_sink(void *ctx, const uint8_t *p, size_t n)
{
	acc *a = ctx;

	if (n == 0)
		abort();
	if (a->n + n > a->cap) {
		a->cap = (a->n + n) * 2;
		a->b = realloc(a->b, a->cap);
		if (a->b == NULL)
			abort();
	}
	memcpy(a->b + a->n, p, n);
	a->n += n;
}

static int key(const uint8_t *p, size_t n, acc *a, router_error *e)
{
	a->n = 0;
	return router__collate_key(p, n, acc_sink, a, e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	acc a = {NULL, 0, 0}, b = {NULL, 0, 0};
	router_error e;
	uint8_t h1[16], h2[16];
	int rc = key(size ? data : NULL, size, &a, &e);

	if (rc != ROUTER_OK) {
		if (rc != ROUTER_EINVAL || e.code != rc ||
		    strncmp(e.message, "cannot normalize string containing "
		                       "invalid UTF-8: \"", 51) != 0 ||
		    strlen(e.message) >= sizeof e.message || a.n != 0)
			abort();
		if (router__unicode_loose_md5(data, size, h1, NULL) != rc ||
		    router__unicode_loose_xxhash(data, size, h1, NULL) != rc)
			abort();
		goto out;
	}
	/* deterministic */
	if (key(data, size, &b, NULL) != 0 || a.n != b.n ||
	    (a.n && memcmp(a.b, b.b, a.n) != 0))
		abort();
	/* a trailing space is trimmed */
	uint8_t *sp = malloc(size + 1);
	if (sp == NULL)
		abort();
	memcpy(sp, data, size);
	sp[size] = ' ';
	if (key(sp, size + 1, &b, NULL) != 0 || a.n != b.n ||
	    (a.n && memcmp(a.b, b.b, a.n) != 0))
		abort();
	free(sp);
	/* the hashes hash the same key */
	if (router__unicode_loose_md5(data, size, h1, NULL) != 0 ||
	    router__unicode_loose_md5(data, size, h2, NULL) != 0 ||
	    memcmp(h1, h2, 16) != 0)
		abort();
	if (router__unicode_loose_xxhash(data, size, h1, NULL) != 0 ||
	    router__unicode_loose_xxhash(data, size, h2, NULL) != 0 ||
	    memcmp(h1, h2, 8) != 0)
		abort();
out:
	free(a.b);
	free(b.b);
	return 0;
}
