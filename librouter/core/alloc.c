/* The default allocator and allocation helpers. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void *default_malloc(void *ctx, size_t n)
{
	(void)ctx;
	return malloc(n);
}

static void *default_realloc(void *ctx, void *p, size_t n)
{
	(void)ctx;
	return realloc(p, n);
}

static void default_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

const router_allocator router__default_allocator = {
	default_malloc, default_realloc, default_free, NULL};

const router_allocator *router__allocator(const router_allocator *alloc)
{
	return alloc != NULL ? alloc : &router__default_allocator;
}

char *router__strndup(const router_allocator *a, const char *s, size_t n)
{
	char *p = router__malloc(a, n + 1);

	if (p == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
