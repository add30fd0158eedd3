/*
 * Module functions that need no Router: ShardRouter.keyspace_id (a
 * vindex created, used once and freed) and ShardRouter.shard_ranges.
 */
#include "shardrouter.h"


static int param_i(VALUE k, VALUE v, VALUE strs)
{
	rb_ary_push(strs, rb_str_new_frozen(rb_obj_as_string(k)));
	rb_ary_push(strs, rb_str_new_frozen(rb_obj_as_string(v)));
	return ST_CONTINUE;
}

/* Create a vindex, map, free it: no Ruby call in between. */
static int map_once(const char *type, const router_param *p, size_t np,
                    const router_value *vals, size_t n, void *out, size_t cap,
                    size_t *len, router_error *err)
{
	router_vindex *v;
	int rc = router_vindex_create(&v, type, p, np, NULL, err);

	if (rc != ROUTER_OK)
		return rc;
	rc = router_vindex_map(v, vals, n, out, cap, len, err);
	router_vindex_free(v);
	return rc;
}

/*
 * call-seq:
 *   ShardRouter.keyspace_id(type, value, params = nil) -> String or nil
 *
 * The keyspace ID a vindex of +type+ gives +value+, exactly as Vitess.
 *
 * @param type [String, Symbol] a Vitess vindex type: "hash", "xxhash",
 *   "numeric", "binary", "binary_md5", "reverse_bits", "null",
 *   "numeric_static_map", "multicol", "region_experimental"
 * @param value [Integer, String, nil, Array] as in Router#route (an Array
 *   for multi-column vindexes)
 * @param params [Hash, nil] the vindex's params, as in a VSchema
 * @return [String, nil] the keyspace ID's bytes (ASCII-8BIT), nil when
 *   the value maps to no keyspace ID
 * @raise [ShardRouter::InvalidDocumentError] unknown type, params that do
 *   not parse (+:EREFERENCE+; an ArgumentError)
 * @raise [ShardRouter::NoRouteError] a lookup vindex, or one not computed
 *   in process (unicode_loose_*)
 */
static VALUE keyspace_id_m(int argc, VALUE *argv, VALUE mod)
{
	VALUE type, value, params, strs = rb_ary_new(), tmp = 0, ret = Qnil;
	router_value vals[ROUTER_MULTICOL_MAX];
	router_param *p = NULL;
	router_error err;
	uint8_t buf[64];
	size_t n, np = 0, len = 0;
	int rc;

	rb_scan_args(argc, argv, "21", &type, &value, &params);
	if (SYMBOL_P(type))
		type = rb_sym2str(type);
	sr_cstr_arg(&type, "vindex type");
	if (!NIL_P(params)) {
		Check_Type(params, T_HASH);
		rb_hash_foreach(params, param_i, strs);
		np = (size_t)RARRAY_LEN(strs) / 2;
		p = ALLOCV_N(router_param, tmp, np ? np : 1);
		for (size_t i = 0; i < np; i++) {
			VALUE k = RARRAY_AREF(strs, 2 * i);
			VALUE x = RARRAY_AREF(strs, 2 * i + 1);

			p[i].key = sr_cstr_arg(&k, "param name");
			p[i].value = sr_cstr_arg(&x, "param value");
		}
	}
	n = to_values(value, vals);
	rc = map_once(RSTRING_PTR(type), p, np, vals, n, buf, sizeof buf, &len,
	              &err);
	if (rc == ROUTER_OK) {
		ret = rb_str_new((const char *)buf, (long)len);
	} else if (rc == ROUTER_ERANGE && len > sizeof buf) {
		ret = rb_str_new(NULL, (long)len);
		n = to_values(value, vals); /* after an allocation: afresh */
		rc = map_once(RSTRING_PTR(type), p, np, vals, n,
		              RSTRING_PTR(ret), len, &len, &err);
		rb_str_set_len(ret, rc == ROUTER_OK ? (long)len : 0);
	}
	ALLOCV_END(tmp);
	RB_GC_GUARD(strs);
	RB_GC_GUARD(value);
	RB_GC_GUARD(type);
	if (rc == ROUTER_NONE)
		return Qnil;
	if (rc != ROUTER_OK)
		sr_raise(rc, &err, O_CALL, Qnil);
	return ret;
}

/*
 * The names of an even partition of the keyspace-ID space in +n+ shards,
 * as Vitess's GenerateShardRanges ("-80", "80-" for 2).
 *
 * @param n [Integer] 1..65536
 * @return [Array<String>]
 */
static VALUE shard_ranges_m(VALUE mod, VALUE count)
{
	unsigned n = (unsigned)sr_uint_arg(count, 1, 65536, "shard count");
	VALUE ary = rb_ary_new_capa(n);

	for (unsigned i = 0; i < n; i++) {
		char name[16];

		router_shard_range_name(i, n, name, sizeof name);
		rb_ary_push(ary, rb_enc_interned_str_cstr(name, rb_utf8_encoding()));
	}
	return ary;
}

void sr_init_vindex(void)
{
	rb_define_module_function(sr_mShardRouter, "keyspace_id", keyspace_id_m,
	                          -1);
	rb_define_module_function(sr_mShardRouter, "shard_ranges",
	                          shard_ranges_m, 1);
}
