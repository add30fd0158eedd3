/* Fuzz target: what etcd's JSON gateway answers, parsed as the client
 * parses it (librouter/fleet/etcd_client.c): a range answer or one watch
 * stream message, both hostile until checked (revisions, base64 keys and
 * values, event types, headers, errors).
 * Input: one byte choosing the parser (even: range, odd: watch), then the
 * answer's bytes.  Every input is parsed (kvs whose revisions are in
 * range, a message handed over) or refused with a negative code and a
 * message; nothing crashes, nothing leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "fleet/etcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a watch hands over must be what the parser promised. */
static int check_msg(void *arg, const router__etcd_watch_msg *m)
{
	(void)arg;
	if (m->header_revision < 0 || m->compact_revision < 0 ||
	    (m->nevents > 0 && m->events == NULL))
		abort();
	for (size_t i = 0; i < m->nevents; i++) {
		const router__etcd_kv *kv = &m->events[i];

		if (m->event_error[i] == NULL &&
		    (kv->mod_revision < 1 || kv->create_revision < 0 ||
		     kv->create_revision > kv->mod_revision ||
		     (kv->key_len > 0 && kv->key == NULL)))
			abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	router__etcd_kv *kvs = NULL;
	router_error e;
	int64_t hrev = 0;
	size_t n = 0;
	int rc;

	if (size == 0)
		return 0;
	if (data[0] % 2 == 0) {
		rc = router__etcd_parse_range(p, size - 1, &kvs, &n, &hrev, &e);
		if (rc == ROUTER_OK) {
			if (hrev < 1)
				abort();
			for (size_t i = 0; i < n; i++)
				if (kvs[i].mod_revision < 1 ||
				    kvs[i].mod_revision > hrev)
					abort();
			router__etcd_kvs_free(kvs, n);
		} else if (rc >= 0 || e.message[0] == '\0' || kvs != NULL) {
			abort();
		}
	} else {
		rc = router__etcd_parse_watch(p, size - 1, check_msg, NULL, &e);
		if (rc != ROUTER_OK && (rc >= 0 || e.message[0] == '\0'))
			abort();
	}
	return 0;
}
