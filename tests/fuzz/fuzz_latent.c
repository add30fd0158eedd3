/* Fuzz target: latent poison (librouter/fleet/vitess_latent.c), one
 * global value judged against a served cell.
 * Input: one byte choosing what to do, then the bytes split at the first
 * three "\xfe\xfe\xfe" into a SrvVSchema, the SrvKeyspaces of "customer"
 * and "commerce" and the global value (missing pieces: empty).
 *   byte % 5: the global key (0 keyspaces/KS/VSchema, 1 RoutingRules,
 *     2 ShardRoutingRules, 3 keyspace routing rules, 4 MirrorRules);
 *   byte & 8: the key deleted;
 *   (byte >> 4) & 3: KS (customer, commerce, fresh, customer) and the
 *     tablet type 1 + (byte >> 6) % 3.
 * Every input is judged (a finding with a message, or nothing) or fails
 * with a negative code and a message; nothing crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "fleet/vitess_latent.h"

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
	static const char *const keys[] = {
	    NULL, "/vitess/global/RoutingRules",
	    "/vitess/global/ShardRoutingRules",
	    "/vitess/global/routing_rules/keyspace/Rules",
	    "/vitess/global/MirrorRules"};
	static const char *const kss[] = {
	    "/vitess/global/keyspaces/customer/VSchema",
	    "/vitess/global/keyspaces/commerce/VSchema",
	    "/vitess/global/keyspaces/fresh/VSchema",
	    "/vitess/global/keyspaces/customer/VSchema"};
	const uint8_t *piece[4] = {NULL, NULL, NULL, NULL};
	size_t plen[4] = {0, 0, 0, 0}, n, i;
	const uint8_t *p, *q;
	router__vitess_srvks ks[2];
	router__vitess_input in;
	router__vitess_global_value gv;
	router__vitess_finding f;
	router_error e;
	int rc;

	if (size == 0)
		return 0;
	p = data + 1;
	n = size - 1;
	for (i = 0; i < 4 && p != NULL; i++) {
		q = split(p, n, &plen[i]);
		piece[i] = p;
		if (q != NULL)
			n -= (size_t)(q - p);
		p = q;
	}
	memset(&in, 0, sizeof in);
	ks[0] = (router__vitess_srvks){"customer", piece[1], plen[1], 5};
	ks[1] = (router__vitess_srvks){"commerce", piece[2], plen[2], 6};
	in.cell_root = "/vitess/fuzz";
	in.srv_vschema = piece[0];
	in.srv_vschema_len = plen[0];
	in.srv_vschema_rev = 3;
	in.srvks = ks;
	in.nsrvks = 2;
	in.tablet = (router__vitess_tablet)(1 + (data[0] >> 6) % 3);
	memset(&gv, 0, sizeof gv);
	gv.global_root = "/vitess/global";
	gv.key = data[0] % 5 == 0 ? kss[(data[0] >> 4) & 3] : keys[data[0] % 5];
	gv.key_len = strlen(gv.key);
	gv.value = piece[3];
	gv.len = plen[3];
	gv.mod_revision = 9;
	gv.deleted = (data[0] & 8) != 0;
	rc = router__vitess_latent_judge(&in, &gv, -1, &f, &e);
	if (rc != ROUTER_OK && (rc >= 0 || e.message[0] == '\0'))
		abort();
	if (rc == ROUTER_OK && (f.code > 0 || (f.code < 0 && f.message[0] == '\0')))
		abort();
	rc = router__vitess_latent_served(&in, -1, NULL, &e);
	if (rc != ROUTER_OK && (rc >= 0 || e.message[0] == '\0'))
		abort();
	return 0;
}
