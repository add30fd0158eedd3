/* The default allocator and allocation helpers: duplicated strings, arrays
 * that double, and the arenas tables and diffs live in. */
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

int router__grow(const router_allocator *a, void **p, size_t *cap, size_t need,
                 size_t elsz)
{
	size_t n;
	void *q;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap * 2 : 4;
	while (n < need)
		n *= 2;
	q = router__realloc(a, *p, n * elsz);
	if (q == NULL)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}


/* ------------------------------------------------------------------------ */
/* Arena: the memory of a built table or a diff, freed at once            */
/* ------------------------------------------------------------------------ */

struct router__arena {
	router_allocator a; /* a copy: outlives the builder it came from */
	struct chunk *head;
};

struct chunk {
	struct chunk *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

router__arena *router__arena_new(const router_allocator *a)
{
	router__arena *ar = router__malloc(a, sizeof *ar);

	if (ar != NULL) {
		ar->a = *a;
		ar->head = NULL;
	}
	return ar;
}

const router_allocator *router__arena_allocator(const router__arena *ar)
{
	return &ar->a;
}

void router__arena_free(router__arena *ar)
{
	struct chunk *c, *next;
	router_allocator a;

	if (ar == NULL)
		return;
	a = ar->a;
	for (c = ar->head; c != NULL; c = next) {
		next = c->next;
		router__free(&a, c);
	}
	router__free(&a, ar);
}

/* Zeroed, 16-byte aligned memory living as long as the arena. */
void *router__arena_alloc(router__arena *ar, size_t n)
{
	struct chunk *c = ar->head;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > 16384 ? n : 16384;

		c = router__malloc(&ar->a, sizeof *c + cap);
		if (c == NULL)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = ar->head;
		ar->head = c;
	}
	p = c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *router__arena_strndup(router__arena *ar, const char *s, size_t n)
{
	char *p = router__arena_alloc(ar, n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *router__arena_strdup(router__arena *ar, const char *s)
{
	return router__arena_strndup(ar, s, strlen(s));
}

