/*
 * The C side of the differential test (make test-collation-go): reads one
 * hex-encoded input per line on stdin, prints router__collate_key's key in
 * hex per line, or "error: <message>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collate.h"

typedef struct hexout {
	FILE *f;
} hexout;

static void hex_sink(void *ctx, const uint8_t *p, size_t n)
{
	hexout *h = ctx;
	for (size_t i = 0; i < n; i++)
		fprintf(h->f, "%02x", p[i]);
}

static int unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	hexout h = {stdout};

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		size_t len = 0;
		router_error err;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		for (ssize_t i = 0; i + 1 < n; i += 2)
			line[len++] = (char)(unhex(line[i]) << 4 |
			                     unhex(line[i + 1]));
		if (router__collate_key(line, len, hex_sink, &h, &err) != 0)
			printf("error: %s", err.message);
		putchar('\n');
	}
	free(line);
	return 0;
}
