/* The error table: each status code's name and description (router.h's
 * ROUTER_ERRNO_MAP is the one list). */
#include "internal.h"

const char *router_strerror(int code)
{
	switch (code) {
	case ROUTER_OK:
		return "success";
	case ROUTER_NONE:
		return "value maps to no keyspace ID";
#define ROUTER__ERRNO_STR(name, value, desc) \
	case ROUTER_##name:                  \
		return desc;
		ROUTER_ERRNO_MAP(ROUTER__ERRNO_STR)
#undef ROUTER__ERRNO_STR
	default:
		return "unknown status code";
	}
}

const char *router_errname(int code)
{
	switch (code) {
	case ROUTER_OK:
		return "ROUTER_OK";
	case ROUTER_NONE:
		return "ROUTER_NONE";
#define ROUTER__ERRNO_NAME(name, value, desc) \
	case ROUTER_##name:                   \
		return "ROUTER_" #name;
		ROUTER_ERRNO_MAP(ROUTER__ERRNO_NAME)
#undef ROUTER__ERRNO_NAME
	default:
		return "ROUTER_UNKNOWN";
	}
}
