/*
 * Errors: every status code becomes an exception here, in sr_make_error.
 * The class is the class of the code alone (code_class, through the
 * core's router_error_category; docs/errors.md has the table), the same
 * whatever call the code came from; the call adds only its detail (a
 * refusal's diff, a document's JSON path, a file's errno).
 */
#include "shardrouter.h"

VALUE sr_eError, sr_eRefused;
static VALUE eDocument, eNoRoute, eNotFound, eInvalid, eHistory,
    eInvalidDocument, eResource, eUnknown, eFenced, eInvariant, eShadow,
    eQuarantined;
static ID id_code, id_status, id_culprit, id_reason, id_diff, id_path,
    id_line, id_column, id_notes, id_errno;
ID sr_id_shadow, sr_id_guard_code;

/* Status code -> Symbol (:EEMPTY...), index -code (ROUTER_NONE apart). */
static VALUE code_syms[NCODES];
static VALUE sym_none;

VALUE sr_code_sym(int code)
{
	if (code == ROUTER_NONE)
		return sym_none;
	if (code <= 0 && code > -NCODES)
		return code_syms[-code];
	return ID2SYM(rb_intern(router_errname(code)));
}

/* The class of a status code: the code alone decides it, through its
 * category.  Never called for ROUTER_ENOMEM (NoMemoryError). */
static VALUE code_class(int code)
{
	switch (code) {
	case ROUTER_ENOTFOUND: return eNotFound;
	case ROUTER_ENOHISTORY: return eHistory;
	case ROUTER_EFENCED: return eFenced;
	case ROUTER_EINVARIANT: return eInvariant;
	case ROUTER_ESHADOW: return eShadow;
	case ROUTER_EQUARANTINED: return eQuarantined;
	default: break;
	}
	switch (router_error_category(code)) {
	case ROUTER_CAT_REFUSAL: return sr_eRefused;
	case ROUTER_CAT_NO_ROUTE: return eNoRoute;
	case ROUTER_CAT_BAD_INPUT: return eInvalid;
	case ROUTER_CAT_BAD_DOCUMENT: return eInvalidDocument;
	case ROUTER_CAT_RESOURCE: return eResource;
	default: return eUnknown; /* a code newer than this binding */
	}
}

/* The exception for a status code.  extra: the diff for O_PUBLISH;
 * [path, line, column, notes, errno] for O_DOC; errno (Integer or nil)
 * for O_SNAPSHOT; unused for O_CALL. */
VALUE sr_make_error(int code, const router_error *err, enum origin o,
                    VALUE extra)
{
	const char *msg = err != NULL && err->message[0] ? err->message
	                                                 : router_strerror(code);
	const char *culprit = err != NULL ? err->culprit : "";
	VALUE exc, text, eno = Qnil;

	if (code == ROUTER_ENOMEM)
		rb_memerror();
	text = culprit[0] ? rb_sprintf("%s: %s (%s)", culprit, msg,
	                               router_errname(code))
	                  : rb_sprintf("%s (%s)", msg, router_errname(code));
	exc = rb_exc_new_str(code_class(code), text);
	rb_ivar_set(exc, id_code, sr_code_sym(code));
	rb_ivar_set(exc, id_status, INT2FIX(code));
	rb_ivar_set(exc, id_culprit,
	            culprit[0] ? rb_utf8_str_new_cstr(culprit) : Qnil);
	rb_ivar_set(exc, id_reason, rb_utf8_str_new_cstr(msg));
	if (rb_obj_is_kind_of(exc, sr_eRefused)) {
		rb_ivar_set(exc, id_diff,
		            o == O_PUBLISH && RB_TYPE_P(extra, T_ARRAY)
		                ? extra
		                : rb_obj_freeze(rb_ary_new()));
		rb_ivar_set(exc, sr_id_shadow, Qnil);
	}
	if (o == O_DOC && RB_TYPE_P(extra, T_ARRAY))
		eno = rb_ary_entry(extra, 4);
	else if (o == O_SNAPSHOT)
		eno = extra;
	/* A path that could not be opened or read is no usable document
	 * either: the exception is a DocumentError too. */
	if ((o == O_DOC || o == O_SNAPSHOT) && code == ROUTER_EIO)
		rb_extend_object(exc, eDocument);
	if (rb_obj_is_kind_of(exc, eDocument)) {
		int have = o == O_DOC && RB_TYPE_P(extra, T_ARRAY);

		rb_ivar_set(exc, id_path, have ? rb_ary_entry(extra, 0) : Qnil);
		rb_ivar_set(exc, id_line, have ? rb_ary_entry(extra, 1) : Qnil);
		rb_ivar_set(exc, id_column,
		            have ? rb_ary_entry(extra, 2) : Qnil);
		rb_ivar_set(exc, id_notes, have ? rb_ary_entry(extra, 3)
		                                : rb_obj_freeze(rb_ary_new()));
		rb_ivar_set(exc, id_errno, eno);
	}
	return exc;
}

void sr_raise(int code, const router_error *err, enum origin o,
              VALUE extra)
{
	rb_exc_raise(sr_make_error(code, err, o, extra));
}

void sr_raise_msg(int code, const char *fmt, ...)
{
	router_error err;
	va_list ap;

	memset(&err, 0, sizeof err);
	err.code = code;
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof err.message, fmt, ap);
	va_end(ap);
	sr_raise(code, &err, O_CALL, Qnil);
}

/* call-seq: ShardRouter._error_for_status(status, culprit, message)
 * The exception sr_make_error makes for a status code (not raised; for
 * ROUTER_ENOMEM, NoMemoryError is raised): lets the suite check every
 * code's class, including codes no call can be made to return. */
static VALUE error_for_status_m(VALUE mod, VALUE status, VALUE culprit,
                                VALUE message)
{
	router_error err;
	int code = NUM2INT(status);

	memset(&err, 0, sizeof err);
	err.code = code;
	snprintf(err.culprit, sizeof err.culprit, "%s",
	         sr_cstr_arg(&culprit, "culprit"));
	snprintf(err.message, sizeof err.message, "%s",
	         sr_cstr_arg(&message, "message"));
	RB_GC_GUARD(culprit);
	RB_GC_GUARD(message);
	return sr_make_error(code, &err, O_CALL, Qnil);
}

/* A class under ShardRouter that includes Error (and `also`, if any). */
static VALUE error_class(const char *name, VALUE super, VALUE also)
{
	VALUE k = rb_define_class_under(sr_mShardRouter, name, super);

	rb_include_module(k, sr_eError);
	if (also)
		rb_include_module(k, also);
	return k;
}

/* The exception classes (docs/errors.md, "The hierarchy"; their readers
 * and documentation are in lib/shardrouter.rb) and the code Symbols.
 * Error and DocumentError are modules: several classes with different
 * Ruby superclasses (StandardError, ArgumentError, IOError) share them. */
void sr_init_errors(void)
{
	VALUE m = sr_mShardRouter;

	sr_eError = rb_define_module_under(m, "Error");
	eDocument = rb_define_module_under(m, "DocumentError");
	rb_include_module(eDocument, sr_eError);

	sr_eRefused = error_class("RefusedError", rb_eStandardError, 0);
	eFenced = error_class("FencedError", sr_eRefused, 0);
	eInvariant = error_class("InvariantError", sr_eRefused, 0);
	eShadow = error_class("ShadowError", sr_eRefused, 0);
	eQuarantined = error_class("QuarantinedError", sr_eRefused, 0);
	eNoRoute = error_class("NoRouteError", rb_eStandardError, 0);
	eNotFound = error_class("NotFoundError", eNoRoute, eDocument);
	eInvalid = error_class("InvalidError", rb_eArgError, 0);
	eHistory = error_class("HistoryError", eInvalid, 0);
	eInvalidDocument =
	    error_class("InvalidDocumentError", eInvalid, eDocument);
	eResource = error_class("ResourceError", rb_eIOError, 0);
	/* A code newer than this binding: private (lib/shardrouter.rb), the
	 * doc promises only "a StandardError that includes Error". */
	eUnknown = error_class("UnknownStatusError", rb_eStandardError, 0);
	rb_define_singleton_method(m, "_error_for_status", error_for_status_m,
	                           3);

	id_code = rb_intern("@code");
	id_status = rb_intern("@status");
	id_culprit = rb_intern("@culprit");
	id_reason = rb_intern("@reason");
	id_diff = rb_intern("@diff");
	id_path = rb_intern("@path");
	id_line = rb_intern("@line");
	id_column = rb_intern("@column");
	id_notes = rb_intern("@notes");
	id_errno = rb_intern("@errno");
	sr_id_shadow = rb_intern("@shadow");
	sr_id_guard_code = rb_intern("@guard_code");
	for (int i = 0; i < NCODES; i++) {
		const char *name = router_errname(-i);

		if (strncmp(name, "ROUTER_", 7) == 0)
			name += 7;
		code_syms[i] = ID2SYM(rb_intern(name));
	}
	sym_none = ID2SYM(rb_intern("NONE"));
}
