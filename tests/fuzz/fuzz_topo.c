/* Fuzz target: Vitess topo values, decoded (librouter/fleet/
 * vitess_decode.c) and built into a routing table (vitess_build.c).
 * Input: one byte choosing what to do, then the bytes.
 *   byte & 3 == 0..3 with byte & 4 == 0: decode the rest as SrvVSchema,
 *     Keyspace, SrvKeyspace or CellInfo;
 *   byte & 4: build: the rest split at the first two "\xfe\xfe\xfe" into
 *     a SrvVSchema and the SrvKeyspaces of "customer" and "commerce"
 *     (missing pieces: absent), for tablet type 1 + (byte >> 3) % 3.
 * Every input decodes / builds or fails with a negative code and a
 * message; what builds routes an id of every table without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "router_doc.h"
#include "fleet/vitess_build.h"
#include "fleet/vitess_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *split(const uint8_t *p, size_t n, size_t *len)
{
	size_t i;

	for (i = 0; i + 3 <= n; i++)
		if (p[i] == 0xfe && p[i + 1] == 0xfe && p[i + 2] == 0xfe) {
			*len = i;
			return p + i + 3;
		}
	*len = n;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	router_error e;

	if (size == 0)
		return 0;
	if ((data[0] & 4) == 0) {
		void *m;
		int rc = router__vitess_decode(1 + (data[0] & 3), "k", data + 1,
		                               size - 1, &m, NULL, &e);

		if (rc != ROUTER_OK && (rc >= 0 || e.message[0] == '\0'))
			abort();
		if ((rc == ROUTER_OK) != (m != NULL))
			abort();
		router__vitess_message_free(m);
		return 0;
	} else {
		router__vitess_srvks ks[2];
		router__vitess_input in;
		router__vitess_built b;
		router__vitess_notes *notes;
		const uint8_t *p = data + 1, *q;
		size_t n = size - 1, len, nks = 0, i;
		int rc;

		memset(&in, 0, sizeof in);
		q = split(p, n, &len);
		in.srv_vschema = p;
		in.srv_vschema_len = len;
		in.srv_vschema_rev = 3;
		while (q != NULL && nks < 2) {
			size_t rest = n - (size_t)(q - p);
			const uint8_t *next = split(q, rest, &len);

			ks[nks] = (router__vitess_srvks){
			    nks == 0 ? "customer" : "commerce", q, len,
			    (int64_t)nks + 5};
			nks++;
			q = next;
		}
		in.cell_root = "/vitess/fuzz";
		in.srvks = ks;
		in.nsrvks = nks;
		in.tablet = (router__vitess_tablet)(1 + (data[0] >> 3) % 3);
		rc = router__vitess_build(&in, &b, &e);
		if (rc != ROUTER_OK && (rc >= 0 || e.message[0] == '\0'))
			abort();
		if ((rc == ROUTER_OK) != (b.table != NULL))
			abort();
		notes = &b.notes;
		for (i = 0; i < notes->n; i++)
			if (notes->msg[i] == NULL)
				abort();
		if (b.table != NULL) {
			size_t k, nk = router_doc_keyspace_count(b.table);

			for (k = 0; k < nk; k++) {
				const char *name = router_doc_keyspace_name(b.table, k);
				router_route_result r;

				(void)router_table_route_ksid(b.table, name,
				                              strlen(name), "\x42", 1,
				                              &r, &e);
			}
			{
				router_route_result r;
				router_target tg;
				router_value v = ROUTER_VALUE_INT64(2);

				(void)router_table_route_target(
				    b.table, "customer", 8, "customer", 8, &v, 1,
				    ROUTER_TARGET_SHARD_ROUTING, &r, &tg, &e);
			}
		}
		router__vitess_built_clear(&b);
	}
	return 0;
}
