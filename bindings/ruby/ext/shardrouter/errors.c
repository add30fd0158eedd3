/*
 * Errors: every status code becomes an exception here, in sr_make_error.
 */
#include "shardrouter.h"

VALUE sr_eError, sr_eRefused;
static VALUE eDocument, eNoRoute, eHistory, eFenced, eInvariant, eShadow,
    eQuarantined;
static ID id_code, id_status, id_culprit, id_reason, id_diff, id_path,
    id_line, id_column, id_notes;
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

/* The exception for a status code.  extra: the diff (a refusal: O_PUBLISH,
 * or one of the refusal codes below from anywhere) or [path, line, column,
 * notes] (O_DOC). */
VALUE sr_make_error(int code, const router_error *err, enum origin o,
                    VALUE extra)
{
	const char *msg = err != NULL && err->message[0] ? err->message
	                                                 : router_strerror(code);
	const char *culprit = err != NULL ? err->culprit : "";
	VALUE klass = sr_eError, exc, text;

	if (code == ROUTER_ENOMEM)
		rb_memerror();
	switch (o) {
	case O_DOC:
		klass = code == ROUTER_EINVAL ? rb_eArgError : eDocument;
		break;
	case O_PUBLISH:
		klass = code == ROUTER_EEMPTY || code == ROUTER_EVERSION ||
		                code == ROUTER_ESHRINK ||
		                code == ROUTER_EKSIDCHANGE
		            ? sr_eRefused
		            : sr_eError;
		break;
	case O_ROUTE:
		if (code == ROUTER_ENOTFOUND || code == ROUTER_EDISABLED ||
		    code == ROUTER_EMULTISHARD ||
		    code == ROUTER_ENEEDSLOOKUP || code == ROUTER_EUNSUPPORTED)
			klass = eNoRoute;
		break;
	case O_HISTORY:
		if (code == ROUTER_ENOHISTORY)
			klass = eHistory;
		break;
	case O_SNAPSHOT:
		/* Missing (ENOTFOUND), unreadable (EIO), damaged (EDOC) or
		 * oversized (ERANGE): the file is no usable document. */
		klass = code == ROUTER_EINVAL ? rb_eArgError : eDocument;
		break;
	case O_OTHER:
		break;
	}
	/* Refusals beyond the guards, wherever they come from (a publish, an
	 * approval, an invariant the table in service breaks). */
	switch (code) {
	case ROUTER_EFENCED: klass = eFenced; break;
	case ROUTER_EINVARIANT: klass = eInvariant; break;
	case ROUTER_ESHADOW: klass = eShadow; break;
	case ROUTER_EQUARANTINED: klass = eQuarantined; break;
	}
	if (klass == sr_eError &&
	    (code == ROUTER_EINVAL || code == ROUTER_ERANGE ||
	     code == ROUTER_EREFERENCE))
		klass = rb_eArgError;

	text = culprit[0] ? rb_sprintf("%s: %s (%s)", culprit, msg,
	                               router_errname(code))
	                  : rb_sprintf("%s (%s)", msg, router_errname(code));
	exc = rb_exc_new_str(klass, text);
	if (rb_obj_is_kind_of(exc, sr_eError)) {
		rb_ivar_set(exc, id_code, sr_code_sym(code));
		rb_ivar_set(exc, id_status, INT2FIX(code));
		rb_ivar_set(exc, id_culprit,
		            culprit[0] ? rb_utf8_str_new_cstr(culprit) : Qnil);
		rb_ivar_set(exc, id_reason, rb_utf8_str_new_cstr(msg));
		if (rb_obj_is_kind_of(exc, sr_eRefused)) {
			rb_ivar_set(exc, id_diff,
			            RB_TYPE_P(extra, T_ARRAY)
			                ? extra
			                : rb_obj_freeze(rb_ary_new()));
			rb_ivar_set(exc, sr_id_shadow, Qnil);
		}
		if (klass == eDocument && RB_TYPE_P(extra, T_ARRAY) &&
		    o == O_DOC) {
			rb_ivar_set(exc, id_path, rb_ary_entry(extra, 0));
			rb_ivar_set(exc, id_line, rb_ary_entry(extra, 1));
			rb_ivar_set(exc, id_column, rb_ary_entry(extra, 2));
			rb_ivar_set(exc, id_notes, rb_ary_entry(extra, 3));
		} else if (klass == eDocument) {
			rb_ivar_set(exc, id_path, Qnil);
			rb_ivar_set(exc, id_line, Qnil);
			rb_ivar_set(exc, id_column, Qnil);
			rb_ivar_set(exc, id_notes, rb_obj_freeze(rb_ary_new()));
		}
	}
	return exc;
}

void sr_raise(int code, const router_error *err, enum origin o,
              VALUE extra)
{
	rb_exc_raise(sr_make_error(code, err, o, extra));
}

/* The exception classes (their readers and documentation are in
 * lib/shardrouter.rb) and the code Symbols. */
void sr_init_errors(void)
{
	VALUE m = sr_mShardRouter;

	sr_eError = rb_define_class_under(m, "Error", rb_eStandardError);
	sr_eRefused = rb_define_class_under(m, "RefusedError", sr_eError);
	eDocument = rb_define_class_under(m, "DocumentError", sr_eError);
	eNoRoute = rb_define_class_under(m, "NoRouteError", sr_eError);
	eHistory = rb_define_class_under(m, "HistoryError", sr_eError);
	eFenced = rb_define_class_under(m, "FencedError", sr_eRefused);
	eInvariant = rb_define_class_under(m, "InvariantError", sr_eRefused);
	eShadow = rb_define_class_under(m, "ShadowError", sr_eRefused);
	eQuarantined =
	    rb_define_class_under(m, "QuarantinedError", sr_eRefused);

	id_code = rb_intern("@code");
	id_status = rb_intern("@status");
	id_culprit = rb_intern("@culprit");
	id_reason = rb_intern("@reason");
	id_diff = rb_intern("@diff");
	id_path = rb_intern("@path");
	id_line = rb_intern("@line");
	id_column = rb_intern("@column");
	id_notes = rb_intern("@notes");
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
