/*
 * Arguments: Ruby values -> what librouter takes (names, SQL values,
 * bounded integers, paths), and small conversions back (Time, Hash).
 * The inline hot-path conversions (name_arg, to_value, to_values) are in
 * shardrouter.h.
 */
#include "shardrouter.h"

int sr_binary_encindex;

/* A NUL inside a name (keyspace, table, vindex type, param, invariant,
 * shard name) or a path is refused up front by every entry point with the
 * same ArgumentError, "<what> contains a NUL byte" (the Python binding
 * raises ValueError with the same text): no Vitess name holds one
 * (librouter's JSON loader refuses them), C reads a NUL-terminated
 * argument only up to it ("hash\0" would be "hash"), and a (ptr, len) name
 * with one could only fail, with a message cut at the NUL.  Values are
 * bytes and may hold NUL. */
void sr_nul_error(const char *what)
{
	rb_raise(rb_eArgError, "%s contains a NUL byte", what);
}

/* A String for C, NUL-terminated and without NUL inside (*v may be
 * replaced by a terminated copy).  TypeError when not a String. */
const char *sr_cstr_arg(VALUE *v, const char *what)
{
	rb_string_value(v);
	if (memchr(RSTRING_PTR(*v), 0, (size_t)RSTRING_LEN(*v)) != NULL)
		sr_nul_error(what);
	return rb_string_value_cstr(v);
}

/* rb_integer_pack into one native uint64_t: the magnitude; returns the
 * sign (-1, 0, 1), or -2 / 2 when the magnitude does not fit. */
#define PACK_U64 (INTEGER_PACK_LSWORD_FIRST | INTEGER_PACK_NATIVE_BYTE_ORDER)

/* Integer -> int64 when it fits, else uint64 when it fits; anything else is
 * a RangeError (never wrapped, unlike NUM2ULL). */
void sr_big_value(VALUE v, router_value *out)
{
	uint64_t mag;
	int sign = rb_integer_pack(v, &mag, 1, sizeof mag, 0, PACK_U64);

	if (sign >= 0 && sign < 2) {
		*out = mag <= INT64_MAX ? ROUTER_VALUE_INT64((int64_t)mag)
		                        : ROUTER_VALUE_UINT64(mag);
		return;
	}
	if (sign == -1 && mag <= (uint64_t)INT64_MAX + 1) {
		*out = ROUTER_VALUE_INT64(mag == (uint64_t)INT64_MAX + 1
		                              ? INT64_MIN
		                              : -(int64_t)mag);
		return;
	}
	rb_raise(rb_eRangeError,
	         "integer %" PRIsVALUE " is out of the int64 and uint64 ranges", v);
}

void sr_bad_value(VALUE v, int in_array)
{
	rb_raise(rb_eTypeError,
	         "a shard key is an Integer, a String, nil or a ShardRouter::Value%s, not %" PRIsVALUE,
	         in_array ? "" : " (or an Array of them for a multi-column vindex)",
	         rb_obj_class(v));
}

/* An Integer in [min, max], never wrapped. */
uint64_t sr_uint_arg(VALUE v, uint64_t min, uint64_t max, const char *what)
{
	uint64_t mag;
	int sign;

	if (!RB_INTEGER_TYPE_P(v))
		rb_raise(rb_eTypeError, "%s must be an Integer, not %" PRIsVALUE,
		         what, rb_obj_class(v));
	sign = rb_integer_pack(v, &mag, 1, sizeof mag, 0, PACK_U64);
	if (sign < 0 || sign > 1 || mag < min || mag > max)
		rb_raise(rb_eArgError, "%s must be in %llu..%llu, not %" PRIsVALUE,
		         what, (unsigned long long)min,
		         (unsigned long long)max, v);
	return mag;
}

/* h[:k] = v */
void sr_hset(VALUE h, const char *k, VALUE v)
{
	rb_hash_aset(h, ID2SYM(rb_intern(k)), v);
}

/* Nanoseconds since the epoch as a Time. */
VALUE sr_time_from_ns(int64_t ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	return rb_time_timespec_new(&ts, INT_MAX);
}

/* A path argument: a String, or an object with #to_path that is not a
 * stream (Pathname: yes; a File or Tempfile, open or closed, is not a path
 * and is never reopened by its name), as a frozen, NUL-free copy the
 * GVL-released calls can read.  (#save_snapshot is called without a Ruby
 * wrapper: it refused Pathname before.) */
VALUE sr_path_arg(VALUE path)
{
	VALUE p = path;

	if (!RB_TYPE_P(p, T_STRING) && !rb_respond_to(p, rb_intern("closed?")) &&
	    rb_respond_to(p, rb_intern("to_path")))
		p = rb_funcall(p, rb_intern("to_path"), 0);
	if (!RB_TYPE_P(p, T_STRING))
		rb_raise(rb_eTypeError, "a path is a String or Pathname, not %" PRIsVALUE,
		         rb_obj_class(path));
	p = rb_str_new_frozen(p);
	sr_cstr_arg(&p, "path");
	return p;
}

void sr_init_values(void)
{
	sr_binary_encindex = rb_ascii8bit_encindex();
}
