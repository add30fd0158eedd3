/* Fuzz target: routing documents.  Any input loads or is refused with a
 * negative code and a message; what loads dumps to a document that loads
 * back to a table with the same content hash and version. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "router_doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const shards[] = {"-80", "80-"};
	router_doc_shards sh[] = {{"user", shards, 2}, {"customer", shards, 2}};
	router_doc_options opt = ROUTER_DOC_OPTIONS_INIT;
	router_table *t = NULL, *t2 = NULL;
	router_doc_report *rep = NULL;
	router_error e;
	char *out = NULL;
	size_t len;
	int rc;

	opt.shards = sh;
	opt.nshards = 2;
	opt.flags = ROUTER_DOC_UNUSED_SHARDS_OK | ROUTER_DOC_NO_FILES;
	rc = router_doc_load(data, size, &opt, &t, &rep, &e);
	router_doc_report_free(rep);
	if (rc != ROUTER_OK) {
		if (rc >= 0 || t != NULL || e.message[0] == '\0')
			abort();
		return 0;
	}
	if (router_doc_dump(t, NULL, 0, NULL, &out, &len, &e) != ROUTER_OK)
		abort();
	opt.shards = NULL;
	opt.nshards = 0;
	opt.flags = 0;
	if (router_doc_load(out, len, &opt, &t2, NULL, &e) != ROUTER_OK)
		abort();
	if (router_table_hash(t) != router_table_hash(t2) ||
	    router_table_version(t) != router_table_version(t2))
		abort();
	free(out);
	router_table_free(t);
	router_table_free(t2);
	return 0;
}
