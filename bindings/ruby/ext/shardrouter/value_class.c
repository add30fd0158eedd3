/*
 * ShardRouter::Value: a SQL value given by its Vitess type name and its
 * text, for the types an Integer, a String or nil cannot say (float64,
 * decimal, an unsigned integer below 2^63, char vs binary ...).  The type
 * name is parsed by the core (router_sqltype_parse: the one list routerctl
 * and the Python binding accept), integer text by router_value_parse
 * (Go's strconv rules), so the three agree on every spelling.
 *
 * A Value is immutable.  It keeps a frozen binary copy of its text, which
 * the router_value it carries points into; the copy is marked (pinned, so
 * compaction never moves it) and lives as long as the Value.
 */
#include "shardrouter.h"

VALUE sr_cValue;

typedef struct rb_sqlvalue {
	VALUE type_name; /* frozen String, as given (Symbol -> String) */
	VALUE text;      /* as given: String, Integer or nil */
	VALUE bytes;     /* frozen ASCII-8BIT copy of the text, or Qnil */
	router_value v;  /* points into bytes for the string types */
} rb_sqlvalue;

static void value_mark(void *p)
{
	rb_sqlvalue *s = p;

	rb_gc_mark(s->type_name);
	rb_gc_mark(s->text);
	rb_gc_mark(s->bytes);
}

static size_t value_memsize(const void *p)
{
	(void)p;
	return sizeof(rb_sqlvalue);
}

static const rb_data_type_t value_type = {
    "ShardRouter::Value",
    {value_mark, RUBY_TYPED_DEFAULT_FREE, value_memsize, NULL, {NULL}},
    0,
    0,
    RUBY_TYPED_FREE_IMMEDIATELY | RUBY_TYPED_FROZEN_SHAREABLE};

static VALUE value_alloc(VALUE klass)
{
	rb_sqlvalue *s;
	VALUE obj = TypedData_Make_Struct(klass, rb_sqlvalue, &value_type, s);

	s->type_name = s->text = s->bytes = Qnil;
	s->v = ROUTER_VALUE_NULL;
	return obj;
}

static rb_sqlvalue *get_value(VALUE self)
{
	return rb_check_typeddata(self, &value_type);
}

/*
 * @overload initialize(type, text = nil)
 *   @param type [String, Symbol] a Vitess SQL type: null, int8 .. int64,
 *     uint8 .. uint64, varchar, char, text, varbinary, binary, blob,
 *     float32, float64, decimal
 *   @param text [String, Integer, nil] the value's text form (an Integer
 *     for the integer types too); nil only for null
 *   @raise [ArgumentError] an unknown type, text given to null, no text
 *     for another type, or integer text Go's strconv would refuse
 *   @raise [TypeError] text that is not a String or Integer
 */
static VALUE value_initialize(int argc, VALUE *argv, VALUE self)
{
	rb_sqlvalue *s = get_value(self);
	VALUE tname, text, bytes = Qnil;
	const char *name;
	size_t nl;
	router_sqltype t;
	router_error err;

	if (!NIL_P(s->type_name))
		rb_raise(rb_eFrozenError, "ShardRouter::Value is immutable");
	rb_scan_args(argc, argv, "11", &tname, &text);
	name_arg(tname, &name, &nl, "SQL type");
	if (router_sqltype_parse(name, nl, &t) != ROUTER_OK)
		rb_raise(rb_eArgError, "unknown SQL type %" PRIsVALUE
		         " (null, int8..int64, uint8..uint64, varchar, char, text, "
		         "varbinary, binary, blob, float32, float64, decimal)",
		         rb_inspect(tname));
	if (t == ROUTER_SQL_NULL) {
		if (!NIL_P(text))
			rb_raise(rb_eArgError, "a null Value takes no text");
	} else if (RB_TYPE_P(text, T_STRING)) {
		bytes = rb_str_new(RSTRING_PTR(text), RSTRING_LEN(text));
	} else if (RB_INTEGER_TYPE_P(text) &&
	           (t == ROUTER_SQL_INT64 || t == ROUTER_SQL_UINT64)) {
		bytes = rb_String(text);
		bytes = rb_str_new(RSTRING_PTR(bytes), RSTRING_LEN(bytes));
	} else if (NIL_P(text)) {
		rb_raise(rb_eArgError, "a %s Value needs its text", name);
	} else {
		rb_raise(rb_eTypeError,
		         "Value text must be a String%s, not %" PRIsVALUE,
		         t == ROUTER_SQL_INT64 || t == ROUTER_SQL_UINT64
		             ? " or Integer"
		             : "",
		         rb_obj_class(text));
	}
	if (!NIL_P(bytes)) {
		rb_enc_associate_index(bytes, rb_ascii8bit_encindex());
		rb_obj_freeze(bytes);
	}
	if (t == ROUTER_SQL_NULL) {
		s->v = ROUTER_VALUE_NULL;
	} else if (t == ROUTER_SQL_INT64 || t == ROUTER_SQL_UINT64) {
		if (router_value_parse(t, RSTRING_PTR(bytes),
		                       (size_t)RSTRING_LEN(bytes), &s->v,
		                       &err) != ROUTER_OK)
			rb_raise(rb_eArgError, "%s", err.message);
	} else {
		s->v = ROUTER_VALUE_BYTES(t, RSTRING_PTR(bytes),
		                          (size_t)RSTRING_LEN(bytes));
	}
	RB_OBJ_WRITE(self, &s->type_name, rb_str_new_frozen(rb_obj_as_string(tname)));
	RB_OBJ_WRITE(self, &s->text, RB_TYPE_P(text, T_STRING) ? rb_str_new_frozen(text) : text);
	RB_OBJ_WRITE(self, &s->bytes, bytes);
	rb_obj_freeze(self);
	return self;
}

/* @return [String] the type name as given */
static VALUE value_type_m(VALUE self)
{
	return get_value(self)->type_name;
}

/* @return [String, Integer, nil] the text as given */
static VALUE value_text_m(VALUE self)
{
	return get_value(self)->text;
}

/* @return [String] ShardRouter::Value("float64", "1.5") */
static VALUE value_inspect_m(VALUE self)
{
	rb_sqlvalue *s = get_value(self);

	if (NIL_P(s->text))
		return rb_sprintf("ShardRouter::Value(%" PRIsVALUE ")",
		                  rb_inspect(s->type_name));
	return rb_sprintf("ShardRouter::Value(%" PRIsVALUE ", %" PRIsVALUE ")",
	                  rb_inspect(s->type_name), rb_inspect(s->text));
}

/* Two Values are equal when they route alike: the same SQL type and text. */
static VALUE value_eq_m(VALUE self, VALUE other)
{
	rb_sqlvalue *a = get_value(self), *b;

	if (!rb_typeddata_is_kind_of(other, &value_type))
		return Qfalse;
	b = get_value(other);
	if (a->v.type != b->v.type)
		return Qfalse;
	if (NIL_P(a->bytes) || NIL_P(b->bytes))
		return NIL_P(a->bytes) && NIL_P(b->bytes) ? Qtrue : Qfalse;
	return rb_str_equal(a->bytes, b->bytes);
}

static VALUE value_hash_m(VALUE self)
{
	rb_sqlvalue *s = get_value(self);

	return rb_hash(rb_assoc_new(INT2FIX(s->v.type), s->bytes));
}

int sr_value_object(VALUE v, router_value *out)
{
	if (!rb_typeddata_is_kind_of(v, &value_type))
		return 0;
	rb_sqlvalue *s = get_value(v);

	if (NIL_P(s->type_name))
		rb_raise(rb_eArgError, "uninitialized ShardRouter::Value");
	*out = s->v;
	return 1;
}

void sr_init_value_class(void)
{
	sr_cValue = rb_define_class_under(sr_mShardRouter, "Value", rb_cObject);
	rb_define_alloc_func(sr_cValue, value_alloc);
	rb_define_method(sr_cValue, "initialize", value_initialize, -1);
	rb_define_method(sr_cValue, "type", value_type_m, 0);
	rb_define_method(sr_cValue, "text", value_text_m, 0);
	rb_define_method(sr_cValue, "inspect", value_inspect_m, 0);
	rb_define_method(sr_cValue, "to_s", value_inspect_m, 0);
	rb_define_method(sr_cValue, "==", value_eq_m, 1);
	rb_define_method(sr_cValue, "eql?", value_eq_m, 1);
	rb_define_method(sr_cValue, "hash", value_hash_m, 0);
}
