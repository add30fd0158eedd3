/* Deep copies of events (router_event_copy): what a binding or an
 * application keeps of an event after its callback has returned.  The
 * copy and its error live in one block; its diff and shadow verdict are
 * copies made by the code that owns their layout (router__diff_copy,
 * router__shadow_copy), so router_diff_* and router_shadow_* read them
 * like the originals. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "beyond.h"
#include "core/internal.h"
#include "core/table.h"

typedef struct event_copy {
	router_event ev; /* first: the public pointer is this block's */
	router_error err;
} event_copy;

int router_event_copy(const router_event *ev, router_event **out)
{
	event_copy *c;
	router_diff *d = NULL;
	router_shadow_verdict *v = NULL;

	if (out == NULL)
		return ROUTER_EINVAL;
	*out = NULL;
	if (ev == NULL)
		return ROUTER_EINVAL;
	c = malloc(sizeof *c);
	if (c == NULL)
		return ROUTER_ENOMEM;
	if ((ev->diff != NULL &&
	     router__diff_copy(ev->diff, NULL, &d) != ROUTER_OK) ||
	    (ev->shadow != NULL &&
	     router__shadow_copy(ev->shadow, NULL, &v) != ROUTER_OK)) {
		router_diff_free(d);
		free(c);
		return ROUTER_ENOMEM;
	}
	c->ev = *ev;
	if (ev->error != NULL) {
		c->err = *ev->error;
		c->ev.error = &c->err;
	}
	c->ev.diff = d;
	c->ev.shadow = v;
	*out = &c->ev;
	return ROUTER_OK;
}

void router_event_free(router_event *ev)
{
	if (ev == NULL)
		return;
	/* The copy's diff and verdict are its own (router_event_copy):
	 * const only for readers of the public struct. */
	router_diff_free((router_diff *)(uintptr_t)ev->diff);
	router_shadow_free(
	    (router_shadow_verdict *)(uintptr_t)ev->shadow);
	free((event_copy *)(void *)ev);
}
