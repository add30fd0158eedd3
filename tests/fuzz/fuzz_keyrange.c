/* Fuzz target: shard names.  Any input parses or fails cleanly; what
 * parses formats back to a name that parses to an equal range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	router_keyrange kr, kr2;
	router_error e;
	char buf[160];
	size_t n;

	if (router_keyrange_parse((const char *)data, size, &kr, &e) !=
	    ROUTER_OK) {
		if (e.code >= 0 || e.message[0] == '\0')
			abort();
		return 0;
	}
	n = router_keyrange_format(&kr, buf, sizeof buf);
	if (n >= sizeof buf)
		abort();
	if (router_keyrange_parse(buf, n, &kr2, &e) != ROUTER_OK)
		abort();
	if (router_key_compare(kr.start, kr.start_len, kr2.start,
	                       kr2.start_len) != 0 ||
	    router_key_compare(kr.end, kr.end_len, kr2.end, kr2.end_len) != 0)
		abort();
	/* containment of its own start is defined for any parsed range */
	(void)router_keyrange_contains(&kr, kr.start, kr.start_len);
	return 0;
}
