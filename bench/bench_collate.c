/*
 * ns per byte of the unicode_loose collation key (core/collate.c) and of
 * the two keyspace IDs hashed from it, on 4 KiB of ASCII, Latin-1 (French
 * and Spanish with accents), CJK with Hangul, and mixed scripts (Latin,
 * CJK, Cyrillic, Greek, Arabic).  Best of 7 runs each.  make
 * bench-collation; bench.c's table can take these rows over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/collate.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void count_sink(void *ctx, const uint8_t *p, size_t n)
{
	(void)p;
	*(size_t *)ctx += n;
}

enum { KEY, MD5, XXH };

static double ns_per_byte(int what, const char *s, size_t n, size_t reps)
{
	double best = 1e30;
	uint8_t out[16];
	size_t sink = 0;

	for (int r = 0; r < 7; r++) {
		double t = now();
		for (size_t i = 0; i < reps; i++) {
			if (what == KEY)
				router__collate_key(s, n, count_sink, &sink, NULL);
			else if (what == MD5)
				router__unicode_loose_md5(s, n, out, NULL);
			else
				router__unicode_loose_xxhash(s, n, out, NULL);
		}
		t = now() - t;
		if (t < best)
			best = t;
	}
	return best * 1e9 / ((double)reps * (double)n);
}

int main(void)
{
	static const struct {
		const char *name, *unit;
	} texts[] = {
		{"ascii", "The quick brown fox jumps over the lazy dog 0123. "},
		{"latin1", "Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e "
		           "\xc3\xa0 la fa\xc3\xa7on de Ni\xc3\xb1o. "},
		{"cjk", "\xe4\xb8\xad\xe6\x96\x87\xe6\xbc\xa2\xe5\xad\x97\xe6\x97"
		        "\xa5\xe6\x9c\xac\xe8\xaa\x9e\xed\x95\x9c\xea\xb5\xad"
		        "\xec\x96\xb4"},
		{"mixed", "Hello \xe4\xb8\x96\xe7\x95\x8c, \xd0\x9f\xd1\x80\xd0\xb8"
		          "\xd0\xb2\xd0\xb5\xd1\x82 \xce\xba\xcf\x8c\xcf\x83\xce"
		          "\xbc\xce\xb5 \xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8"
		          "\xd9\x8a\xd8\xa9 "},
	};
	char *s = malloc(4096);

	if (s == NULL)
		return 1;
	printf("%-8s %10s %10s %10s  (ns/byte)\n", "text", "key", "md5",
	       "xxhash");
	for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
		size_t ul = strlen(texts[t].unit), n = 0;
		while (n + ul <= 4096) {
			memcpy(s + n, texts[t].unit, ul);
			n += ul;
		}
		printf("%-8s %10.2f %10.2f %10.2f\n", texts[t].name,
		       ns_per_byte(KEY, s, n, 3000),
		       ns_per_byte(MD5, s, n, 3000),
		       ns_per_byte(XXH, s, n, 3000));
	}
	free(s);
	return 0;
}
