/* SQL type names: the one spelling of router_sqltype that the bindings
 * and routerctl accept (router_sqltype_parse). */
#include <string.h>

#include "internal.h"

static const struct {
	const char *name;
	router_sqltype type;
} sqltype_names[] = {
    {"null", ROUTER_SQL_NULL},           {"int64", ROUTER_SQL_INT64},
    {"int32", ROUTER_SQL_INT64},         {"int24", ROUTER_SQL_INT64},
    {"int16", ROUTER_SQL_INT64},         {"int8", ROUTER_SQL_INT64},
    {"uint64", ROUTER_SQL_UINT64},       {"uint32", ROUTER_SQL_UINT64},
    {"uint24", ROUTER_SQL_UINT64},       {"uint16", ROUTER_SQL_UINT64},
    {"uint8", ROUTER_SQL_UINT64},        {"varchar", ROUTER_SQL_VARCHAR},
    {"char", ROUTER_SQL_VARCHAR},        {"text", ROUTER_SQL_VARCHAR},
    {"varbinary", ROUTER_SQL_VARBINARY}, {"binary", ROUTER_SQL_VARBINARY},
    {"blob", ROUTER_SQL_VARBINARY},      {"float64", ROUTER_SQL_FLOAT64},
    {"float32", ROUTER_SQL_FLOAT64},     {"decimal", ROUTER_SQL_FLOAT64},
};

int router_sqltype_parse(const char *name, size_t len, router_sqltype *out)
{
	size_t i;

	if (out == NULL || (name == NULL && len > 0))
		return ROUTER_EINVAL;
	for (i = 0; i < sizeof sqltype_names / sizeof sqltype_names[0]; i++)
		if (strlen(sqltype_names[i].name) == len &&
		    memcmp(sqltype_names[i].name, name, len) == 0) {
			*out = sqltype_names[i].type;
			return ROUTER_OK;
		}
	return ROUTER_EINVAL;
}
