/* Fuzz target: value parsing and every in-process vindex.  Byte 0 picks the
 * SQL type, the rest is the value's text; nothing may crash, and a result
 * is OK, NONE or a negative code with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const types[] = {
    "hash",        "xxhash",       "numeric", "binary",
    "binary_md5",  "reverse_bits", "null",    "unicode_loose_md5",
    "lookup_hash", "nosuchtype"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	router_value v;
	router_error e;
	uint8_t ksid[64];
	size_t len, i;
	int rc;

	if (size == 0)
		return 0;
	rc = router_value_parse((router_sqltype)(data[0] % 7), data + 1,
	                        size - 1, &v, &e);
	if (rc != ROUTER_OK) {
		if (rc >= 0 || e.message[0] == '\0')
			abort();
		return 0;
	}
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		rc = router_keyspace_id(types[i], &v, ksid, sizeof ksid, &len,
		                        &e);
		if (rc != ROUTER_OK && rc != ROUTER_NONE &&
		    (rc >= 0 || e.message[0] == '\0'))
			abort();
		if (rc == ROUTER_OK && len > sizeof ksid)
			abort();
	}
	return 0;
}
