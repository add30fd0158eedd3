/*
 * One read of a Vitess cell's serving topology from etcd into a routing
 * table (vitess_read.h: the keys, the consistency check).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vitess_read.h"
#include "core/internal.h"
#include "vitess_topodata.pb-c.h"

char *router__vitess_join(const char *root, const char *path)
{
	size_t n = strlen(root);
	char *k;

	while (n > 0 && root[n - 1] == '/')
		n--;
	k = malloc(n + strlen(path) + 1);
	if (k != NULL) {
		memcpy(k, root, n);
		strcpy(k + n, path);
	}
	return k;
}

int router__vitess_read_cell_info(router__etcd *c, const char *global_root,
                                  const char *cell, char **root,
                                  char **server_address, router_error *err)
{
	char path[ROUTER_NAME_MAX + 32];
	router__etcd_kv kv;
	Topodata__CellInfo *ci = NULL;
	int64_t hrev;
	int found = 0, rc;
	char *key;

	*root = *server_address = NULL;
	if (strlen(cell) > ROUTER_NAME_MAX || cell[0] == '\0' ||
	    strchr(cell, '/') != NULL)
		return router__seterr(err, ROUTER_EINVAL, cell,
		                      "cell name %s: empty, too long or with a /",
		                      cell);
	snprintf(path, sizeof path, "/cells/%s/CellInfo", cell);
	key = router__vitess_join(global_root, path);
	if (key == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	memset(&kv, 0, sizeof kv);
	rc = router__etcd_get(c, key, strlen(key), &kv, &found, &hrev, err);
	if (rc == ROUTER_OK && !found)
		rc = router__seterr(err, ROUTER_ENOTFOUND, key,
		                    "%s: no such key: cell %s is not in the "
		                    "global topo %s",
		                    key, cell, global_root);
	if (rc == ROUTER_OK)
		rc = router__vitess_decode(ROUTER__VITESS_CELL_INFO, key,
		                           kv.value, kv.value_len, (void **)&ci,
		                           NULL, err);
	if (rc == ROUTER_OK && ci->root[0] == '\0')
		rc = router__seterr(err, ROUTER_EDOC, key,
		                    "%s: CellInfo without a root", key);
	if (rc == ROUTER_OK) {
		*root = strdup(ci->root);
		*server_address = strdup(ci->server_address);
		if (*root == NULL || *server_address == NULL) {
			free(*root);
			free(*server_address);
			*root = *server_address = NULL;
			rc = router__seterr(err, ROUTER_ENOMEM, NULL,
			                    "out of memory");
		}
	}
	router__vitess_message_free(ci);
	router__etcd_kv_clear(&kv);
	free(key);
	return rc;
}

char *router__vitess_cell_endpoints(const char *server_address, int tls)
{
	const char *scheme = tls ? "https://" : "http://";

	size_t n = strlen(server_address), k = 0;
	const char *p = server_address;
	char *out = malloc(n * 9 + 9); /* at most one "https://" per byte */

	if (out == NULL)
		return NULL;
	while (*p != '\0') {
		size_t len;

		while (*p == ',' || *p == ' ')
			p++;
		len = strcspn(p, ", ");
		if (len == 0)
			break;
		if (k > 0)
			out[k++] = ',';
		if (strstr(p, "://") == NULL || (size_t)(strstr(p, "://") - p) > len) {
			memcpy(out + k, scheme, strlen(scheme));
			k += strlen(scheme);
		}
		memcpy(out + k, p, len);
		k += len;
		p += len;
	}
	out[k] = '\0';
	if (k == 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* The keyspace of KEY when it is PREFIX + KS + "/SrvKeyspace" (KS one path
 * element), else NULL; malloc'd. */
static char *srvks_keyspace(const char *key, size_t klen, const char *prefix)
{
	static const char tail[] = "/SrvKeyspace";
	size_t pl = strlen(prefix), tl = sizeof tail - 1, n;
	char *ks;

	if (klen <= pl + tl || memcmp(key, prefix, pl) != 0 ||
	    memcmp(key + klen - tl, tail, tl) != 0)
		return NULL;
	n = klen - pl - tl;
	if (memchr(key + pl, '/', n) != NULL || memchr(key + pl, '\0', n) != NULL)
		return NULL;
	ks = malloc(n + 1);
	if (ks != NULL) {
		memcpy(ks, key + pl, n);
		ks[n] = '\0';
	}
	return ks;
}

void router__vitess_cell_values_clear(router__vitess_cell_values *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nnames; i++)
		free(v->names[i]);
	free(v->names);
	free(v->srvks);
	free(v->cell_root);
	router__etcd_kv_clear(&v->srv_vschema);
	router__etcd_kvs_free(v->kvs, v->nkvs);
	memset(v, 0, sizeof *v);
}

int router__vitess_read_cell_values(router__etcd *c, const char *cell_root,
                                    router__vitess_tablet tablet,
                                    router__vitess_cell_values *out,
                                    router_error *err)
{
	char *vkey = router__vitess_join(cell_root, "/SrvVSchema");
	char *prefix = router__vitess_join(cell_root, "/keyspaces/");
	int attempt, rc = ROUTER_ESTATE;

	memset(out, 0, sizeof *out);
	if (vkey == NULL || prefix == NULL) {
		free(vkey);
		free(prefix);
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	}
	for (attempt = 0; attempt < 5; attempt++) {
		router__etcd_kv kv, *kvs = NULL;
		size_t n = 0, i;
		int64_t hrev, again;
		int found = 0;

		memset(&kv, 0, sizeof kv);
		rc = router__etcd_get(c, vkey, strlen(vkey), &kv, &found, &hrev,
		                      err);
		if (rc == ROUTER_OK && !found)
			rc = router__seterr(err, ROUTER_ENOTFOUND, vkey,
			                    "%s: no such key: the cell serves no "
			                    "SrvVSchema",
			                    vkey);
		if (rc == ROUTER_OK)
			rc = router__etcd_get_prefix(c, prefix, &kvs, &n, &hrev,
			                             err);
		if (rc == ROUTER_OK)
			rc = router__etcd_get_revision(c, vkey, strlen(vkey),
			                               &found, &again, &hrev, err);
		if (rc == ROUTER_OK && (!found || again != kv.mod_revision)) {
			rc = router__seterr(err, ROUTER_ESTATE, vkey,
			                    "%s changed 5 times while the cell "
			                    "was read",
			                    vkey);
			router__etcd_kv_clear(&kv);
			router__etcd_kvs_free(kvs, n);
			continue;
		}
		out->srv_vschema = kv;
		out->kvs = kvs;
		out->nkvs = n;
		if (rc == ROUTER_OK) {
			out->srvks = calloc(n ? n : 1, sizeof *out->srvks);
			out->names = calloc(n ? n : 1, sizeof *out->names);
			out->cell_root = strdup(cell_root);
			if (out->srvks == NULL || out->names == NULL ||
			    out->cell_root == NULL)
				rc = router__seterr(err, ROUTER_ENOMEM, NULL,
				                    "out of memory");
		}
		for (i = 0; rc == ROUTER_OK && i < n; i++) {
			char *ks = srvks_keyspace(kvs[i].key, kvs[i].key_len,
			                          prefix);

			if (ks == NULL)
				continue; /* shards/..., other files */
			out->names[out->nnames] = ks;
			out->srvks[out->nnames] = (router__vitess_srvks){
			    ks, kvs[i].value, kvs[i].value_len,
			    kvs[i].mod_revision};
			out->nnames++;
		}
		if (rc == ROUTER_OK) {
			router__vitess_input *in = &out->in;

			in->cell_root = out->cell_root;
			in->srv_vschema = kv.value;
			in->srv_vschema_len = kv.value_len;
			in->srv_vschema_rev = kv.mod_revision;
			in->srvks = out->srvks;
			in->nsrvks = out->nnames;
			in->tablet = tablet;
		}
		break;
	}
	if (rc != ROUTER_OK)
		router__vitess_cell_values_clear(out);
	free(vkey);
	free(prefix);
	return rc;
}

int router__vitess_read_cell(router__etcd *c, const char *cell_root,
                             router__vitess_tablet tablet,
                             router__vitess_built *out, router_error *err)
{
	router__vitess_cell_values v;
	int rc;

	memset(out, 0, sizeof *out);
	rc = router__vitess_read_cell_values(c, cell_root, tablet, &v, err);
	if (rc == ROUTER_OK)
		rc = router__vitess_build(&v.in, out, err);
	router__vitess_cell_values_clear(&v);
	return rc;
}

int router__vitess_read_global(router__etcd *c, const char *global_root,
                               router__etcd_kv **kvs, size_t *n,
                               router_error *err)
{
	router__etcd_kv *all = NULL, *res;
	size_t nall = 0, i, k = 0, r;
	char *prefix = router__vitess_join(global_root, "/keyspaces/");
	int64_t hrev;
	int rc;

	*kvs = NULL;
	*n = 0;
	if (prefix == NULL)
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	rc = router__etcd_get_prefix(c, prefix, &all, &nall, &hrev, err);
	free(prefix);
	if (rc != ROUTER_OK)
		return rc;
	res = calloc(nall + 4, sizeof *res);
	if (res == NULL) {
		router__etcd_kvs_free(all, nall);
		return router__seterr(err, ROUTER_ENOMEM, NULL, "out of memory");
	}
	for (i = 0; i < nall; i++) {
		if (router__vitess_global_key(global_root, all[i].key,
		                              all[i].key_len, NULL) !=
		    ROUTER__VITESS_GLOBAL_VSCHEMA) {
			router__etcd_kv_clear(&all[i]);
			continue;
		}
		res[k++] = all[i];
	}
	free(all); /* its kept entries moved to res */
	for (r = ROUTER__VITESS_GLOBAL_ROUTING_RULES;
	     rc == ROUTER_OK && r <= ROUTER__VITESS_GLOBAL_MIRROR_RULES; r++) {
		char *key = router__vitess_join(
		    global_root,
		    router__vitess_global_path((router__vitess_global)r));
		int found = 0;

		if (key == NULL) {
			rc = router__seterr(err, ROUTER_ENOMEM, NULL,
			                    "out of memory");
			break;
		}
		rc = router__etcd_get(c, key, strlen(key), &res[k], &found,
		                      &hrev, err);
		if (rc == ROUTER_OK && found)
			k++;
		free(key);
	}
	if (rc != ROUTER_OK) {
		router__etcd_kvs_free(res, k);
		return rc;
	}
	*kvs = res;
	*n = k;
	return ROUTER_OK;
}
