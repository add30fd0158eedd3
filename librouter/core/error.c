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

/* Each code's category (router.h, router_error_category).  This list and
 * ROUTER_ERRNO_MAP name the same codes: every name here must be a code
 * (ROUTER_##name), none may appear twice (a duplicate case label in
 * router_error_category does not compile), and the static assertion
 * below checks that the two lists are equally long, so a code added to
 * the map without a category here fails the build. */
#define ROUTER__CATEGORY_MAP(X)         \
	X(EINVAL, BAD_INPUT)            \
	X(ENOMEM, RESOURCE)             \
	X(ENOTFOUND, NO_ROUTE)          \
	X(ERANGE, BAD_INPUT)            \
	X(ESHARDNAME, BAD_DOCUMENT)     \
	X(EVSCHEMA, BAD_DOCUMENT)       \
	X(EREFERENCE, BAD_DOCUMENT)     \
	X(EEMPTY, REFUSAL)              \
	X(ECOVERAGE, BAD_DOCUMENT)      \
	X(EVERSION, REFUSAL)            \
	X(ESHRINK, REFUSAL)             \
	X(ENEEDSLOOKUP, NO_ROUTE)       \
	X(EUNSUPPORTED, NO_ROUTE)       \
	X(ENOHISTORY, BAD_INPUT)        \
	X(EMULTISHARD, NO_ROUTE)        \
	X(EDISABLED, NO_ROUTE)          \
	X(ESTATE, BAD_INPUT)            \
	X(EDOC, BAD_DOCUMENT)           \
	X(EIO, RESOURCE)                \
	X(EFENCED, REFUSAL)             \
	X(EINVARIANT, REFUSAL)          \
	X(ESHADOW, REFUSAL)             \
	X(EQUARANTINED, REFUSAL)        \
	X(EKSIDCHANGE, REFUSAL)         \
	X(ECALLBACK, BAD_INPUT)         \
	X(ERULE, NO_ROUTE)              \
	X(EKEYSPACE, NO_ROUTE)

#define ROUTER__COUNT_ONE(...) +1
enum {
	ROUTER__NCODES = 0 ROUTER_ERRNO_MAP(ROUTER__COUNT_ONE),
	ROUTER__NCATEGORIES = 0 ROUTER__CATEGORY_MAP(ROUTER__COUNT_ONE)
};
#undef ROUTER__COUNT_ONE
_Static_assert(ROUTER__NCODES == ROUTER__NCATEGORIES,
               "every code in ROUTER_ERRNO_MAP needs a category in "
               "ROUTER__CATEGORY_MAP (and no other entry)");
/* Codes are dense from -1 down to ROUTER_ERRNO_MIN. */
_Static_assert(ROUTER__NCODES == -ROUTER_ERRNO_MIN,
               "ROUTER_ERRNO_MIN is not the lowest code of the map");

int router_error_category(int code)
{
	switch (code) {
	case ROUTER_OK:
	case ROUTER_NONE:
		return ROUTER_CAT_OK;
#define ROUTER__CAT_CASE(name, cat) \
	case ROUTER_##name:         \
		return ROUTER_CAT_##cat;
		ROUTER__CATEGORY_MAP(ROUTER__CAT_CASE)
#undef ROUTER__CAT_CASE
	default:
		return -1;
	}
}

const char *router_error_category_name(int category)
{
	switch (category) {
	case ROUTER_CAT_OK:
		return "ok";
	case ROUTER_CAT_REFUSAL:
		return "refusal";
	case ROUTER_CAT_NO_ROUTE:
		return "no_route";
	case ROUTER_CAT_BAD_INPUT:
		return "bad_input";
	case ROUTER_CAT_BAD_DOCUMENT:
		return "bad_document";
	case ROUTER_CAT_RESOURCE:
		return "resource";
	default:
		return "unknown";
	}
}
