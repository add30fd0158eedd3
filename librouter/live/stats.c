/*
 * What the library says about itself and about a router's counters:
 * router_library_version(_string) and router_stats_get/_refused.
 *
 * router_stats is copied through the size the caller passes (router.h,
 * "How structs grow"), so it can gain counters without overrunning the
 * buffer of a program built against an older header; refusals per code
 * are a getter, so the error table can grow without touching any public
 * struct.  The 0.1 interface that did both wrong (router_get_stats with
 * a refused_by_code array) is still served, for old binaries, by
 * compat.c.
 */
#include <string.h>

#include "compat.h"
#include "stats.h"

/* ---- the error range ------------------------------------------------------
 * The refusal counters are indexed by -code up to -ROUTER_ERRNO_MIN, and
 * router_stats_refused answers exactly the codes of ROUTER_ERRNO_MAP.
 * Both hold only if the table is dense from -1 down to ROUTER_ERRNO_MIN:
 * every code lies in [ROUTER_ERRNO_MIN, -1] (asserted per code below),
 * no two codes are equal (known_code's switch would not compile), and
 * there are -ROUTER_ERRNO_MIN of them (asserted below).  N distinct codes
 * in a range of N values fill it, so its lowest is ROUTER_ERRNO_MIN.  The
 * macros take the columns after the value as `...` so that a column added
 * to the table does not break them. */
#define ROUTER__CODE_IN_RANGE(name, value, ...)                              \
	_Static_assert((value) <= -1 && (value) >= ROUTER_ERRNO_MIN,         \
	               "ROUTER_" #name " lies outside [ROUTER_ERRNO_MIN, -1]");
ROUTER_ERRNO_MAP(ROUTER__CODE_IN_RANGE)
#undef ROUTER__CODE_IN_RANGE

#define ROUTER__CODE_COUNT(name, value, ...) +1
_Static_assert(-ROUTER_ERRNO_MIN == 0 ROUTER_ERRNO_MAP(ROUTER__CODE_COUNT),
               "ROUTER_ERRNO_MIN is not the lowest code of a dense "
               "ROUTER_ERRNO_MAP (a gap, or ROUTER_ERRNO_MIN not updated)");
#undef ROUTER__CODE_COUNT

/* The 0.1 layout's refused_by_code had 26 slots (codes -1 .. -25); codes
 * are never removed, so the counters always cover them. */
_Static_assert(ROUTER__REFUSAL_SLOTS >= ROUTER__STATS_0_1_CODES,
               "fewer refusal counters than the 0.1 layout exposes");

/* 1 for a code of ROUTER_ERRNO_MAP, else 0. */
static int known_code(int code)
{
	switch (code) {
#define ROUTER__CODE_CASE(name, value, ...) case (value):
		ROUTER_ERRNO_MAP(ROUTER__CODE_CASE)
#undef ROUTER__CODE_CASE
		return 1;
	default:
		return 0;
	}
}

/* ---- version --------------------------------------------------------------- */

#define ROUTER__STR(x) #x
#define ROUTER__XSTR(x) ROUTER__STR(x)

unsigned router_library_version(void)
{
	return ROUTER_VERSION_HEX;
}

const char *router_library_version_string(void)
{
	return ROUTER__XSTR(ROUTER_VERSION_MAJOR) "." ROUTER__XSTR(
	    ROUTER_VERSION_MINOR) "." ROUTER__XSTR(ROUTER_VERSION_PATCH);
}

/* ---- counters ---------------------------------------------------------------- */

int router_stats_get(router *r, router_stats *out, size_t size)
{
	router_stats st;
	uint64_t by_code[ROUTER__REFUSAL_SLOTS];

	if (r == NULL || out == NULL || size == 0)
		return ROUTER_EINVAL;
	router__stats_read(r, &st, by_code);
	if (size > sizeof st) {
		/* A caller built against a newer header: the counters this
		 * library does not have read as 0. */
		memset((char *)out + sizeof st, 0, size - sizeof st);
		size = sizeof st;
	}
	memcpy(out, &st, size);
	return ROUTER_OK;
}

uint64_t router_stats_refused(router *r, int code)
{
	router_stats st;
	uint64_t by_code[ROUTER__REFUSAL_SLOTS];

	if (r == NULL || !known_code(code))
		return 0;
	router__stats_read(r, &st, by_code);
	return by_code[-code];
}
