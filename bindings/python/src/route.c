/* Lookups: the per-Router shard-name cache, the handle cache behind
 * Router.route, routing by name, Route results and route_many.  The
 * common hit of each lives in binding.h, inlined into its callers; what
 * is here runs on a miss, an error or once per batch. */
#include "binding.h"

COLD PyObject *sr_shard_str_miss(RouterObject *self, uint32_t id)
{
	size_t len = 0;
	const char *s = router_shard_name(self->r, id, &len);
	PyObject *str, **chunk, *expect = NULL;

	if (s == NULL)
		return PyErr_Format(PyExc_SystemError,
		                    "librouter returned unknown shard id %u",
		                    (unsigned)id);
	str = PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "strict");
	if (str == NULL)
		return NULL;
	PyUnicode_InternInPlace(&str);
	if (id >= NAME_DIR * NAME_CHUNK)
		return str; /* beyond the cache: correct, only slower */
	chunk = LOAD_ACQ(&self->names[id / NAME_CHUNK]);
	if (chunk == NULL) {
		PyObject **fresh = PyMem_RawCalloc(NAME_CHUNK, sizeof *fresh);
		PyObject **none = NULL;

		if (fresh == NULL)
			return str;
		if (CAS_PTR(&self->names[id / NAME_CHUNK], &none, fresh)) {
			chunk = fresh;
		} else {
			PyMem_RawFree(fresh);
			chunk = none;
		}
	}
	Py_INCREF(str); /* the cache's reference */
	if (!CAS_PTR(&chunk[id % NAME_CHUNK], &expect, str)) {
		/* Another thread cached it first: use the winner. */
		Py_DECREF(str);
		Py_DECREF(str);
		return Py_NewRef(expect);
	}
	return str;
}

/* Open a handle for (ks, tb) into slot, or return NULL without an
 * exception to route by name (the core refuses the names, or the slot
 * was taken meanwhile), or NULL with an exception (not UTF-8). */
static router_handle *hc_insert(RouterObject *self, PyObject *ks,
                                PyObject *tb, Py_hash_t h, size_t slot)
{
	Py_ssize_t kl, tl;
	const char *k = PyUnicode_AsUTF8AndSize(ks, &kl);
	const char *t = k ? PyUnicode_AsUTF8AndSize(tb, &tl) : NULL;
	router_handle *rh;
	hc_entry *e, *none = NULL;

	if (t == NULL)
		return NULL;
	/* A NUL is refused by the name path (sr_route_by_name), never cached. */
	if (memchr(k, 0, (size_t)kl) != NULL || memchr(t, 0, (size_t)tl) != NULL)
		return NULL;
	if (router_handle_open(self->r, k, (size_t)kl, t, (size_t)tl, &rh,
	                       NULL) != ROUTER_OK)
		return NULL;
	e = PyMem_RawMalloc(sizeof *e);
	if (e == NULL) {
		router_handle_free(rh);
		return NULL;
	}
	e->ks = Py_NewRef(ks);
	e->table = Py_NewRef(tb);
	e->hash = h;
	e->h = rh;
	/* The entry is complete before it is reachable (release). */
	if (!CAS_PTR(&self->hc[slot], &none, e)) {
		Py_DECREF(e->ks);
		Py_DECREF(e->table);
		router_handle_free(rh);
		PyMem_RawFree(e);
		return NULL;
	}
	return rh;
}

/* Everything but the common hit: str subclasses, uncached hashes, equal
 * strings that are other objects, probing, inserting.  Returns a handle;
 * NULL with an exception (bad names); or NULL without one, meaning "route
 * by name". */
COLD router_handle *sr_hc_lookup_slow(RouterObject *self, PyObject *ks,
				      PyObject *tb)
{
	Py_hash_t h1, h2, h;
	size_t slot, i;

	if (!PyUnicode_CheckExact(ks) || !PyUnicode_CheckExact(tb)) {
		/* str subclasses may redefine hashing: by name. */
		if (sr_check_name(ks, "keyspace") < 0 ||
		    sr_check_name(tb, "table") < 0)
			return NULL;
		return NULL;
	}
	h1 = PyObject_Hash(ks);
	h2 = PyObject_Hash(tb);
	if (h1 == -1 || h2 == -1)
		return NULL;
	h = hc_hash(h1, h2);
	slot = hc_slot(h);
	for (i = 0; i < HC_PROBE; i++) {
		size_t sl = (slot + i) & (HC_SIZE - 1);
		hc_entry *e = LOAD_ACQ(&self->hc[sl]);

		if (e == NULL)
			return hc_insert(self, ks, tb, h, sl);
		if (e->ks == ks && e->table == tb)
			return e->h;
		if (e->hash == h && PyUnicode_Compare(e->ks, ks) == 0 &&
		    PyUnicode_Compare(e->table, tb) == 0)
			return e->h;
	}
	return NULL;
}

/* The general path through a handle: any value, with error detail. */
COLD PyObject *sr_handle_route_slow(RouterObject *ro, const router_handle *h,
                                    PyObject *value, PyObject *ks,
                                    PyObject *tb)
{
	router_route_result res;
	router_error err;
	valbuf vb;
	int rc;

	if (PyLong_CheckExact(value)) {
		uint64_t k;
		int is_u;

		if (sr_int_key(value, &k, &is_u) < 0)
			return NULL;
		rc = is_u ? router_handle_route_uint64(h, k, &res)
		          : router_handle_route_int64(h, (int64_t)k, &res);
		if (rc == ROUTER_OK)
			return shard_str(ro, res.shard_id);
		if (rc == ROUTER_NONE)
			Py_RETURN_NONE;
		/* errors: again below, for the detail */
	}
	if (sr_values_from_py(ro->st, value, &vb) < 0)
		return NULL;
	rc = router_handle_route(h, vb.v, vb.n, &res, &err);
	sr_valbuf_release(&vb);
	if (rc == ROUTER_OK)
		return shard_str(ro, res.shard_id);
	if (rc == ROUTER_NONE)
		Py_RETURN_NONE;
	return sr_raise_route_error(ro->st, rc, &err, ks, tb);
}

COLD PyObject *sr_route_by_name(RouterObject *self, PyObject *ks, PyObject *tb,
                                PyObject *value)
{
	router_route_result res;
	router_error err;
	Py_ssize_t kl, tl;
	const char *k, *t;
	valbuf vb;
	int rc;

	if ((k = sr_name_utf8(ks, "keyspace", &kl)) == NULL ||
	    (t = sr_name_utf8(tb, "table", &tl)) == NULL)
		return NULL;
	if (sr_values_from_py(self->st, value, &vb) < 0)
		return NULL;
	rc = router_route(self->r, k, (size_t)kl, t, (size_t)tl, vb.v, vb.n,
	                  &res, &err);
	sr_valbuf_release(&vb);
	if (rc == ROUTER_OK)
		return shard_str(self, res.shard_id);
	if (rc == ROUTER_NONE)
		Py_RETURN_NONE;
	return sr_raise_route_error(self->st, rc, &err, ks, tb);
}

/* ------------------------------------------------------------------------ */
/* Route results as Route tuples                                            */
/* ------------------------------------------------------------------------ */

static PyStructSequence_Field Route_fields[] = {
    {"shard", "shard name (shared str)"},
    {"shard_id", "router-wide id of the shard name (Router.shard_name)"},
    {"shard_index", "position of the shard in the keyspace's partition"},
    {"version", "version of the table that answered"},
    {"keyspace_id", "the keyspace ID (its first 32 bytes)"},
    {"keyspace_id_len", "full length of the keyspace ID"},
    {NULL, NULL}};
static PyStructSequence_Desc Route_desc = {
    "shardrouter.Route",
    "Route(shard, shard_id, shard_index, version, keyspace_id, "
    "keyspace_id_len)\n\nEverything a lookup knows: returned by lookup().",
    Route_fields, 6};

static PyObject *route_tuple(RouterObject *ro, const router_route_result *r)
{
	PyObject *o = PyStructSequence_New(ro->st->Route_Type), *v;
	size_t kl = r->ksid_len < ROUTER_KSID_MAX ? r->ksid_len
	                                          : ROUTER_KSID_MAX;
	int i = 0;

	if (o == NULL)
		return NULL;
#define SET(expr)                                                              \
	do {                                                                   \
		if ((v = (expr)) == NULL)                                      \
			goto fail;                                             \
		PyStructSequence_SetItem(o, i++, v);                           \
	} while (0)
	SET(shard_str(ro, r->shard_id));
	SET(PyLong_FromUnsignedLong(r->shard_id));
	SET(PyLong_FromUnsignedLong(r->shard_index));
	SET(PyLong_FromUnsignedLongLong(r->version));
	SET(PyBytes_FromStringAndSize((const char *)r->ksid, (Py_ssize_t)kl));
	SET(PyLong_FromSize_t(r->ksid_len));
#undef SET
	return o;
fail:
	Py_DECREF(o);
	return NULL;
}

PyObject *sr_lookup_result(RouterObject *ro, int rc,
                           const router_route_result *res,
                           const router_error *err, PyObject *ks,
                           PyObject *tb)
{
	if (rc == ROUTER_OK)
		return route_tuple(ro, res);
	if (rc == ROUTER_NONE)
		Py_RETURN_NONE;
	return sr_raise_route_error(ro->st, rc, err, ks, tb);
}

int sr_many_parse(const char *fn, PyObject *kwnames,
                  PyObject *const *kwargs, many_opts *o)
{
	static const char *const names[] = {"ids", "out", "nogil", NULL};
	PyObject *v[3] = {NULL, NULL, NULL};

	o->want_ids = 0;
	o->out = NULL;
	o->nogil = -1;
	if (sr_kwonly(fn, kwnames, kwargs, names, v) < 0)
		return -1;
	if (v[0] != NULL && (o->want_ids = PyObject_IsTrue(v[0])) < 0)
		return -1;
	if (v[1] != NULL && v[1] != Py_None) {
		o->out = v[1];
		o->want_ids = 1;
	}
	if (v[2] != NULL && v[2] != Py_None &&
	    (o->nogil = PyObject_IsTrue(v[2])) < 0)
		return -1;
	return 0;
}

/* Parse a struct-module format for one 64-bit integer.  Returns 0 (and
 * *is_u, *swap) or -1 with TypeError. */
static int key_format(const Py_buffer *view, int *is_u, int *swap)
{
	const char *f = view->format ? view->format : "B";
	int native = 1, little = 1;
	char c;

	*swap = 0;
	switch (*f) {
	case '@':
		f++;
		break;
	case '=':
		native = 0;
		f++;
		break;
	case '<':
		native = 0;
		f++;
		break;
	case '>':
	case '!':
		native = 0;
		little = 0;
		f++;
		break;
	default:
		break;
	}
	c = f[0];
	if (view->itemsize == 8 && f[1] == '\0' &&
	    (c == 'q' || c == 'Q' ||
	     (native && (c == 'l' || c == 'L' || c == 'n' || c == 'N')))) {
		*is_u = c == 'Q' || c == 'L' || c == 'N';
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		*swap = !little;
#else
		*swap = little && !native;
#endif
		return 0;
	}
	PyErr_Format(PyExc_TypeError,
	             "route_many needs a buffer of 64-bit integers (format "
	             "'q' or 'Q', e.g. array('q')), not format '%s' with "
	             "%zd-byte items",
	             view->format ? view->format : "B", view->itemsize);
	return -1;
}

/* Where route_many writes shard ids: the caller's buffer or a new
 * array('I').  On success *res holds a new reference to what is
 * returned. */
static int many_out(modstate *st, many_opts *o, Py_ssize_t n, Py_buffer *ov,
                    PyObject **res)
{
	PyObject *target;
	const char *f;

	if (o->out != NULL) {
		target = Py_NewRef(o->out);
	} else {
		target = PySequence_Repeat(st->array_zero, n);
		if (target == NULL)
			return -1;
	}
	if (PyObject_GetBuffer(target, ov, PyBUF_WRITABLE | PyBUF_FORMAT |
	                                       PyBUF_C_CONTIGUOUS) < 0) {
		Py_DECREF(target);
		return -1;
	}
	f = ov->format ? ov->format : "B";
	if (*f == '@' || *f == '=' || *f == '<')
		f++;
	if (ov->itemsize != 4 || f[1] != '\0' ||
	    (f[0] != 'I' && f[0] != 'L')) {
		PyErr_Format(PyExc_TypeError,
		             "out must be a writable buffer of uint32 (format "
		             "'I', e.g. array('I')), not format '%s' with "
		             "%zd-byte items",
		             ov->format ? ov->format : "B", ov->itemsize);
		goto fail;
	}
	if (ov->len / 4 != n) {
		PyErr_Format(PyExc_ValueError,
		             "out has %zd items for %zd values", ov->len / 4, n);
		goto fail;
	}
	*res = target;
	return 0;
fail:
	PyBuffer_Release(ov);
	Py_DECREF(target);
	return -1;
}

/* Add k references to o at once. */
static inline void add_refs(PyObject *o, Py_ssize_t k)
{
#if defined(Py_GIL_DISABLED)
	while (k-- > 0)
		Py_INCREF(o);
#else
	/* Immortal objects (3.12+) keep their count; adding is what k
	 * Py_INCREFs would do otherwise. */
#if PY_VERSION_HEX >= 0x030C0000
	if (_Py_IsImmortal(o))
		return;
#endif
	Py_SET_REFCNT(o, Py_REFCNT(o) + k);
#endif
}

/* Route values one by one (lists holding non-integers, or both negative
 * and above-int64 integers): ids[i] receives each shard id. */
static int many_each(RouterObject *ro, const router_handle *h,
                     PyObject *const *items, Py_ssize_t n, uint32_t *ids,
                     PyObject *ks, PyObject *tb)
{
	for (Py_ssize_t i = 0; i < n; i++) {
		router_route_result res;
		router_error err;
		valbuf vb;
		int rc;

		if (sr_values_from_py(ro->st, items[i], &vb) < 0)
			return -1;
		rc = router_handle_route(h, vb.v, vb.n, &res, &err);
		sr_valbuf_release(&vb);
		if (rc == ROUTER_OK)
			ids[i] = res.shard_id;
		else if (rc == ROUTER_NONE)
			ids[i] = ROUTER_NO_SHARD;
		else {
			sr_raise_route_error(ro->st, rc, &err, ks, tb);
			return -1;
		}
	}
	return 0;
}

/* Turn a list whose item array holds n uint32 shard ids in its first 4n
 * bytes (written by the batch) into the list of their shard names (None
 * for ROUTER_NO_SHARD), in place.  Backwards: item i (bytes 8i..8i+7)
 * overwrites ids 2i and 2i+1, which are >= i and so already consumed.
 * The list is untracked by the GC until it holds only objects.
 *
 * Results come in runs of equal ids (few shards, clustered keys): the
 * references of a run are added at once instead of one increment per
 * element, which would chain every element on one refcount.  The strs are
 * borrowed from the Router's name cache meanwhile (never freed before the
 * Router; the GIL is held). */
static int names_in_place(RouterObject *ro, PyObject *list, Py_ssize_t n)
{
	PyObject **items = ((PyListObject *)list)->ob_item, *cur = NULL;
	const uint32_t *ids = (const uint32_t *)(void *)items;
	uint32_t cur_id = ROUTER_NO_SHARD - 1; /* matches no id */
	Py_ssize_t i, run = 0;

	for (i = n - 1; i >= 0; i--) {
		uint32_t id = ids[i];

		if (UNLIKELY(id != cur_id)) {
			PyObject *s;

			if (id == ROUTER_NO_SHARD) {
				s = Py_NewRef(Py_None);
			} else {
				s = shard_str(ro, id); /* new reference */
				if (s == NULL) {
					if (cur != NULL)
						add_refs(cur, run);
					memset(items, 0,
					       (size_t)(i + 1) * sizeof *items);
					return -1;
				}
			}
			if (cur != NULL)
				add_refs(cur, run);
			cur = s; /* its own reference covers item i */
			cur_id = id;
			run = 0;
			items[i] = s;
			continue;
		}
		items[i] = cur;
		run++;
	}
	if (cur != NULL)
		add_refs(cur, run);
	return 0;
}

/* One route_many call: its keys (read in place or copied), where the
 * shard ids go, and what is returned.  The steps below run once per
 * call, never per key. */
typedef struct {
	uint64_t stack_keys[STACK_KEYS];
	uint32_t stack_ids[STACK_KEYS];
	uint64_t *keys, *heap_keys;
	uint32_t *ids, *heap_ids;
	PyObject *seq;    /* the list or tuple of values, or NULL */
	PyObject *result; /* what is returned (new reference) */
	Py_buffer in, ov; /* the key buffer, the caller's ids buffer */
	int have_in, have_ov;
	int is_u; /* keys are uint64 */
	int each; /* route value by value (not all integers of one sign) */
	Py_ssize_t n;
} many_job;

static uint64_t *job_heap_keys(many_job *j)
{
	j->heap_keys = PyMem_RawMalloc((size_t)j->n * 8u);
	if (j->heap_keys == NULL)
		PyErr_NoMemory();
	return j->heap_keys;
}

/* A buffer of 64-bit integers: read in place when it is contiguous,
 * aligned and native-endian, else copied. */
static int keys_from_buffer(many_job *j, PyObject *values)
{
	Py_ssize_t stride, i;
	int swap;

	if (PyObject_GetBuffer(values, &j->in, PyBUF_RECORDS_RO) < 0)
		return -1;
	j->have_in = 1;
	if (j->in.ndim != 1) {
		PyErr_Format(PyExc_ValueError,
		             "route_many needs a one-dimensional buffer, "
		             "not %d dimensions",
		             j->in.ndim);
		return -1;
	}
	if (key_format(&j->in, &j->is_u, &swap) < 0)
		return -1;
	/* NULL shape or strides mean a C-contiguous array (some exporters,
	 * ctypes among them, leave them out). */
	j->n = j->in.shape != NULL ? j->in.shape[0] : j->in.len / 8;
	stride = j->in.strides != NULL ? j->in.strides[0] : 8;
	if (!swap && stride == 8 && ((uintptr_t)j->in.buf & 7u) == 0) {
		j->keys = j->in.buf;
		return 0;
	}
	if (j->n > STACK_KEYS && (j->keys = job_heap_keys(j)) == NULL)
		return -1;
	for (i = 0; i < j->n; i++) {
		uint64_t k;

		memcpy(&k, (const char *)j->in.buf + i * stride, 8);
		j->keys[i] = swap ? __builtin_bswap64(k) : k;
	}
	return 0;
}

/* A list (or any iterable): integers go through the batch entry point
 * in one read section; anything else, value by value (j->each). */
static int keys_from_list(many_job *j, PyObject *values)
{
	int has_neg = 0, has_big = 0;
	PyObject *const *items;
	Py_ssize_t i;

	j->seq = PySequence_Fast(values, "route_many takes a list of values "
	                                 "or a buffer of 64-bit integers");
	if (j->seq == NULL)
		return -1;
	j->n = PySequence_Fast_GET_SIZE(j->seq);
	items = PySequence_Fast_ITEMS(j->seq);
	if (j->n > STACK_KEYS && (j->keys = job_heap_keys(j)) == NULL)
		return -1;
	for (i = 0; i < j->n; i++) {
		PyObject *it = items[i];
		int64_t x;
		int u;

		if (LIKELY(PyLong_CheckExact(it) && small_int(it, &x))) {
			j->keys[i] = (uint64_t)x;
			has_neg |= x < 0;
		} else if (PyLong_Check(it)) {
			if (sr_int_key(it, &j->keys[i], &u) < 0)
				return -1;
			has_big |= u;
			has_neg |= !u && (int64_t)j->keys[i] < 0;
		} else {
			j->each = 1;
			return 0;
		}
	}
	j->each = has_neg && has_big;
	j->is_u = has_big;
	return 0;
}

/* Where the ids go: the caller's out buffer (in place when aligned), the
 * result list's own item array, the stack or the heap. */
static int ids_target(many_job *j, RouterObject *ro, many_opts *o)
{
	if (o->want_ids) {
		if (many_out(ro->st, o, j->n, &j->ov, &j->result) < 0)
			return -1;
		j->have_ov = 1;
		if (((uintptr_t)j->ov.buf & 3u) == 0)
			j->ids = j->ov.buf; /* written in place */
	} else if (!j->each) {
		j->result = PyList_New(j->n);
		if (j->result == NULL)
			return -1;
		PyObject_GC_UnTrack(j->result);
		if (j->n > 0)
			j->ids = (uint32_t *)(void *)((PyListObject *)j->result)
			             ->ob_item;
	}
	if (j->ids == j->stack_ids && j->n > STACK_KEYS) {
		j->heap_ids = PyMem_RawMalloc((size_t)j->n * sizeof *j->ids);
		if (j->heap_ids == NULL) {
			PyErr_NoMemory();
			return -1;
		}
		j->ids = j->heap_ids;
	}
	return 0;
}

/* The lookups: one batch (the GIL released from NOGIL_THRESHOLD keys, or
 * as nogil= says), or value by value. */
static int route_job(many_job *j, RouterObject *ro, const router_handle *h,
                     many_opts *o, PyObject *ks, PyObject *tb)
{
	router_error err;
	int rc;

	if (j->each)
		return many_each(ro, h, PySequence_Fast_ITEMS(j->seq), j->n,
		                 j->ids, ks, tb);
	if (j->n == 0)
		return 0;
	if (o->nogil == 1 || (o->nogil < 0 && j->n >= NOGIL_THRESHOLD)) {
		Py_BEGIN_ALLOW_THREADS
		rc = router_handle_route_batch(h, j->keys, (size_t)j->n,
		                               j->is_u, j->ids, NULL, &err);
		Py_END_ALLOW_THREADS
	} else {
		rc = router_handle_route_batch(h, j->keys, (size_t)j->n,
		                               j->is_u, j->ids, NULL, &err);
	}
	if (rc != ROUTER_OK) {
		sr_raise_route_error(ro->st, rc, &err, ks, tb);
		return -1;
	}
	return 0;
}

/* The ids into what is returned: copied to out, or made shard names. */
static int job_result(many_job *j, RouterObject *ro, many_opts *o)
{
	if (o->want_ids) {
		if (j->ids != j->ov.buf && j->n > 0)
			memcpy(j->ov.buf, j->ids, (size_t)j->n * 4u);
		return 0;
	}
	if (!j->each) {
		if (names_in_place(ro, j->result, j->n) < 0)
			return -1;
		PyObject_GC_Track(j->result);
		return 0;
	}
	j->result = PyList_New(j->n);
	if (j->result == NULL)
		return -1;
	for (Py_ssize_t i = 0; i < j->n; i++) {
		PyObject *s = j->ids[i] == ROUTER_NO_SHARD
		                  ? Py_NewRef(Py_None)
		                  : shard_str(ro, j->ids[i]);

		if (s == NULL)
			return -1;
		PyList_SET_ITEM(j->result, i, s);
	}
	return 0;
}

static void job_release(many_job *j)
{
	if (j->result != NULL && PyList_CheckExact(j->result) &&
	    !PyObject_GC_IsTracked(j->result)) {
		/* A failure before the ids became names: only NULLs may be
		 * left in a list that is freed. */
		memset(((PyListObject *)j->result)->ob_item, 0,
		       (size_t)PyList_GET_SIZE(j->result) * sizeof(PyObject *));
		PyObject_GC_Track(j->result);
	}
	if (j->have_ov)
		PyBuffer_Release(&j->ov);
	Py_XDECREF(j->result);
	if (j->have_in)
		PyBuffer_Release(&j->in);
	Py_XDECREF(j->seq);
	PyMem_RawFree(j->heap_keys);
	PyMem_RawFree(j->heap_ids);
}

PyObject *sr_route_many_impl(RouterObject *ro, const router_handle *h,
                             PyObject *values, many_opts *o, PyObject *ks,
                             PyObject *tb)
{
	many_job j;
	PyObject *ret = NULL;
	int rc;

	if (PyUnicode_Check(values) || PyBytes_Check(values) ||
	    PyByteArray_Check(values)) {
		PyErr_Format(PyExc_TypeError,
		             "route_many takes a list of values or a buffer of "
		             "64-bit integers, not %.100s",
		             Py_TYPE(values)->tp_name);
		return NULL;
	}
	/* Only the bookkeeping is cleared, not the two stack arrays. */
	memset((char *)&j + offsetof(many_job, keys), 0,
	       sizeof j - offsetof(many_job, keys));
	j.keys = j.stack_keys;
	j.ids = j.stack_ids;
	if (!PyList_Check(values) && !PyTuple_Check(values) &&
	    PyObject_CheckBuffer(values))
		rc = keys_from_buffer(&j, values);
	else
		rc = keys_from_list(&j, values);
	if (rc == 0 && ids_target(&j, ro, o) == 0 &&
	    route_job(&j, ro, h, o, ks, tb) == 0 && job_result(&j, ro, o) == 0) {
		ret = j.result;
		j.result = NULL;
	}
	job_release(&j);
	return ret;
}

int sr_route_add(PyObject *m, modstate *st)
{
	st->Route_Type = sr_new_structseq(m, &Route_desc);
	return st->Route_Type != NULL ? 0 : -1;
}
