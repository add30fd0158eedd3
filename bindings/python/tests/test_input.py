"""Values as Vitess types them, and bad input of every kind: each raises
the right exception and never crashes or wraps silently.
"""
import ctypes
import enum
from array import array

import pytest

import shardrouter as sr
from conftest import keyspace_doc, shard_for

TWO = ["-80", "80-"]


@pytest.fixture(params=["route", "handle", "many"])
def route1(request, router):
    """One-value routing through each entry point."""
    t = router.table("user", "users")
    if request.param == "route":
        return lambda v: router.route("user", "users", v)
    if request.param == "handle":
        return t.route
    return lambda v: router.route_many("user", "users", [v])[0]


# ---- integers ------------------------------------------------------------

def test_ints_are_int64_then_uint64(route1):
    for k in (0, 1, -1, 29999, 2**31, 2**62 + 3, 2**63 - 1, -2**63,
              2**63, 2**64 - 1):
        want = sr.keyspace_id("hash", k)
        assert want == sr.keyspace_id(
            "hash", sr.Value("uint64" if k >= 2**63 else "int64", str(k)))
        assert route1(k) == shard_for(want, TWO), k


def test_ints_outside_int64_and_uint64_raise_overflow(route1):
    for k in (2**64, -2**63 - 1, 10**30, -10**30):
        with pytest.raises(OverflowError):
            route1(k)


def test_bools_and_int_subclasses_are_ints(route1):
    class Color(enum.IntEnum):
        RED = 29999

    assert route1(True) == route1(1)
    assert route1(Color.RED) == route1(29999)


def test_signedness_matters_as_in_vitess():
    # numeric maps a negative int64 to nothing; the uint64 with the same
    # bits maps to them.
    assert sr.keyspace_id("numeric", -1) is None
    assert sr.keyspace_id("numeric", 2**64 - 1) == b"\xff" * 8
    assert sr.keyspace_id("numeric",
                          sr.Value("uint64", "18446744073709551615")) == \
        b"\xff" * 8
    # hash maps both by their 64 bits (Vitess's multicol vectors).
    assert sr.keyspace_id("hash", -1).hex() == "355550b2150e2451"


# ---- other values -----------------------------------------------------------

def test_str_bytes_none_and_buffers():
    r = sr.Router()
    r.publish(keyspace_doc(4, "xxhash"))
    for v in ("abc", "", "naïve", "a\0b", b"abc", b"", b"\x00\xff", None):
        assert r.route("user", "users", v) == \
            shard_for(sr.keyspace_id("xxhash", v), sr.shard_ranges(4))
    assert r.route("user", "users", bytearray(b"abc")) == \
        r.route("user", "users", b"abc")
    assert r.route("user", "users", memoryview(b"xabcx")[1:4]) == \
        r.route("user", "users", b"abc")
    # varchar and varbinary of the same bytes hash alike in xxhash
    assert sr.keyspace_id("xxhash", "abc") == sr.keyspace_id("xxhash", b"abc")
    # hash parses text as a number, as Vitess does; other text maps nowhere
    assert sr.keyspace_id("hash", "1") == sr.keyspace_id("hash", 1)
    assert sr.keyspace_id("hash", "abc") is None
    assert sr.keyspace_id("hash", None) is None


def test_values_vitess_cannot_type_raise_type_error(route1):
    for v in (1.5, float("nan"), [1], {"a": 1}, {1}, object(), 1j,
              array("q", [1]), memoryview(array("q", [1]))):
        with pytest.raises(TypeError):
            route1(v)


def test_float_error_points_at_value():
    with pytest.raises(TypeError, match="Value"):
        sr.keyspace_id("hash", 1.5)
    assert sr.keyspace_id("numeric", sr.Value("float64", "1.5")) is None
    assert sr.keyspace_id("xxhash", sr.Value("float64", "1.5")) == \
        sr.keyspace_id("xxhash", b"1.5")


def test_strings_that_are_not_unicode_text_raise_encode_errors(route1):
    with pytest.raises(UnicodeEncodeError):
        route1("\udc80")


def test_tuples_are_multicolumn_values(router):
    with pytest.raises(ValueError):
        router.route("user", "users", ())
    with pytest.raises(ValueError):
        router.route("user", "users", tuple(range(9)))
    with pytest.raises(TypeError):
        router.route("user", "users", ((1,),))
    with pytest.raises(ValueError):  # hash takes one column
        router.route("user", "users", (1, 2))
    assert router.route("user", "users", (29999,)) == \
        router.route("user", "users", 29999)


def test_value_objects():
    v = sr.Value("uint64", "5")
    assert (v.type, v.text) == ("uint64", "5")
    assert repr(v) == "shardrouter.Value('uint64', '5')"
    assert repr(sr.Value("null")) == "shardrouter.Value('null')"
    assert sr.Value("int64", 5).text == 5
    assert sr.keyspace_id("hash", sr.Value("int32", "1")) == \
        sr.keyspace_id("hash", 1)
    assert sr.keyspace_id("binary", sr.Value("varbinary", b"\x01\x02")) == \
        b"\x01\x02"
    for args in (("nope", "1"), ("int64", "x"), ("int64", "1.0"),
                 ("uint64", "-1"), ("int64", "99999999999999999999"),
                 ("null", "1")):
        with pytest.raises(ValueError):
            sr.Value(*args)
    for args in ((1, "1"), ("varchar", 1), ("float64", 1.5), ()):
        with pytest.raises(TypeError):
            sr.Value(*args)
    with pytest.raises(TypeError):
        sr.Value(type="int64", text="1")


# ---- names and arity -----------------------------------------------------------

def test_names_must_be_str(router):
    for ks, tb in ((b"user", "users"), ("user", b"users"), (None, "users"),
                   (1, "users"), ("user", None)):
        with pytest.raises(TypeError):
            router.route(ks, tb, 1)
        with pytest.raises(TypeError):
            router.lookup(ks, tb, 1)
        with pytest.raises(TypeError):
            router.route_many(ks, tb, [1])
        with pytest.raises(TypeError):
            router.table(ks, tb)


def test_names_that_cannot_exist_do_not_route(router):
    # (A NUL in a name is a bad argument, ValueError: test_nul.py.)
    for ks, tb in (("", "users"), ("user", ""),
                   ("k" * 500, "users"), ("user", "t" * 500),
                   ("\u00e9", "users")):
        with pytest.raises(sr.NoRouteError):
            router.route(ks, tb, 1)
        with pytest.raises(sr.NoRouteError):
            router.route_many(ks, tb, [1])
        with pytest.raises(sr.NoRouteError):
            router.lookup(ks, tb, 1)


def test_wrong_arity_and_keywords_raise_type_error(router):
    t = router.table("user", "users")
    calls = [
        lambda: router.route("user", "users"),
        lambda: router.route("user", "users", 1, 2),
        lambda: router.route(keyspace="user", table="users", value=1),
        lambda: router.lookup("user"),
        lambda: router.route_many("user", "users"),
        lambda: router.route_many("user", "users", [1], nope=1),
        lambda: router.table("user"),
        lambda: t.route(),
        lambda: t.route(1, 2),
        lambda: t.route(value=1),
        lambda: t.route_many(),
        lambda: sr.keyspace_id("hash"),
        lambda: sr.keyspace_id("hash", 1, {}, 4),
        lambda: sr.keyspace_id("hash", 1, nope=1),
        lambda: router._noop(1, 2),
        lambda: sr._noop(1),
    ]
    for c in calls:
        with pytest.raises(TypeError):
            c()


def test_keyspace_id_errors():
    with pytest.raises(ValueError):
        sr.keyspace_id("no_such_type", 1)
    with pytest.raises(ValueError):
        sr.keyspace_id("numeric_static_map", 1)  # needs params
    with pytest.raises(ValueError):
        sr.keyspace_id("numeric_static_map", 1, params={"json": "{"})
    with pytest.raises(sr.NoRouteError) as ei:
        sr.keyspace_id("lookup", 1)
    assert ei.value.code == sr.ENEEDSLOOKUP
    for bad in ([("a", "b")], "json", {"json": 1}, {1: "x"}):
        with pytest.raises(TypeError):
            sr.keyspace_id("numeric_static_map", 1, params=bad)
    with pytest.raises(TypeError):
        sr.keyspace_id(b"hash", 1)
    assert sr.keyspace_id("numeric_static_map", 1,
                          params={"json": '{"1": 2}'}) == \
        b"\x00" * 7 + b"\x02"
    assert sr.keyspace_id("binary", b"x" * 100) == b"x" * 100  # > 64 bytes


def test_shard_ranges_checks_its_argument():
    assert sr.shard_ranges(1) == ["-"]
    for bad in (0, -1, 65537):
        with pytest.raises(ValueError):
            sr.shard_ranges(bad)
    with pytest.raises(OverflowError):
        sr.shard_ranges(2**80)
    with pytest.raises(TypeError):
        sr.shard_ranges("2")


# ---- route_many -------------------------------------------------------------------

KEYS = list(range(-3, 300)) + [2**63 - 1, -2**63]


def expected(router, keys):
    return [router.route("user", "users", k) for k in keys]


def test_route_many_over_lists_tuples_and_iterables(router):
    want = expected(router, KEYS)
    assert router.route_many("user", "users", KEYS) == want
    assert router.route_many("user", "users", tuple(KEYS)) == want
    assert router.route_many("user", "users", iter(KEYS)) == want
    assert router.route_many("user", "users", []) == []
    t = router.table("user", "users")
    assert t.route_many(KEYS) == want


def test_route_many_over_64_bit_buffers(router):
    want = expected(router, KEYS)
    signed = array("q", KEYS)
    assert router.route_many("user", "users", signed) == want
    assert router.route_many("user", "users", memoryview(signed)) == want
    assert router.route_many("user", "users", array("l", KEYS)) == want
    assert router.route_many("user", "users",
                             memoryview(signed.tobytes()).cast("q")) == want
    big = [0, 1, 2**63, 2**64 - 1, 12345]
    assert router.route_many("user", "users", array("Q", big)) == \
        expected(router, big)
    assert router.route_many("user", "users", array("L", big)) == \
        expected(router, big)
    # strided and unaligned buffers are copied, not misread
    assert router.route_many("user", "users", memoryview(signed)[::3]) == \
        want[::3]
    raw = bytearray(b"\0" + signed.tobytes())
    assert router.route_many("user", "users",
                             memoryview(raw)[1:].cast("q")) == want
    # big-endian buffers are byte-swapped
    be = (ctypes.c_int64.__ctype_be__ * len(KEYS))(*KEYS)
    assert router.route_many("user", "users", be) == want
    le = (ctypes.c_int64.__ctype_le__ * len(KEYS))(*KEYS)
    assert router.route_many("user", "users", le) == want
    assert router.route_many("user", "users", array("q")) == []


def test_route_many_refuses_buffers_of_other_shapes(router):
    for bad in (array("i", [1, 2]), array("d", [1.0]), array("B", [1]),
                array("h", [1]), b"\0" * 16, bytearray(16), "1234",
                memoryview(b"\0" * 16).cast("I")):
        with pytest.raises(TypeError):
            router.route_many("user", "users", bad)
    two_d = memoryview(array("q", range(4))).cast("B").cast("q", (2, 2))
    with pytest.raises(ValueError):
        router.route_many("user", "users", two_d)
    with pytest.raises(ValueError):  # a scalar is not a batch
        router.route_many("user", "users", ctypes.c_int64(5))
    with pytest.raises(TypeError):
        router.route_many("user", "users", 5)
    with pytest.raises(TypeError):
        router.route_many("user", "users", None)


def test_route_many_ids_and_out(router):
    want = expected(router, KEYS)
    ids = router.route_many("user", "users", KEYS, ids=True)
    assert isinstance(ids, array) and ids.typecode == "I"
    assert [None if i == sr.NO_SHARD else router.shard_name(i)
            for i in ids] == want
    out = array("I", [7]) * len(KEYS)
    assert router.route_many("user", "users", array("q", KEYS), out=out) \
        is out
    assert out == ids
    assert router.route_many("user", "users", [None, 1], ids=True)[0] == \
        sr.NO_SHARD
    with pytest.raises(ValueError):
        router.route_many("user", "users", KEYS, out=array("I", [0]))
    for bad in (array("q", [0]) * len(KEYS), bytes(4 * len(KEYS)),
                array("H", [0]) * (2 * len(KEYS))):
        with pytest.raises((TypeError, BufferError)):
            router.route_many("user", "users", KEYS, out=bad)
    # unaligned out buffer
    raw = bytearray(4 * len(KEYS) + 1)
    view = memoryview(raw)[1:].cast("I")
    router.route_many("user", "users", KEYS, out=view)
    assert list(view) == list(ids)


def test_route_many_with_other_values_routes_one_by_one(router):
    mixed = [1, "a", None, b"x", -5, 2**64 - 1, sr.Value("uint64", "3")]
    assert router.route_many("user", "users", mixed) == \
        expected(router, mixed)
    both = [-1, 2**64 - 1, 7]  # negative and above int64: per element
    assert router.route_many("user", "users", both) == expected(router, both)
    with pytest.raises(OverflowError):
        router.route_many("user", "users", [1, 2**64])
    with pytest.raises(TypeError):
        router.route_many("user", "users", [1, 1.5])
    with pytest.raises(TypeError):
        router.route_many("user", "users", [1, "a", 1.5])


def test_route_many_errors_apply_to_the_whole_batch(router):
    with pytest.raises(sr.NoRouteError) as ei:
        router.route_many("user", "nope", array("q", [1, 2]))
    assert ei.value.table == "nope"
    with pytest.raises(sr.NoRouteError):
        router.table("user", "nope").route_many([1, 2])


def test_route_many_nogil_option(router):
    keys = array("q", range(sr.NOGIL_THRESHOLD * 2))
    a = router.route_many("user", "users", keys)
    assert a == router.route_many("user", "users", keys, nogil=False)
    assert a[:10] == router.route_many("user", "users", keys[:10], nogil=True)
    assert a == router.route_many("user", "users", list(keys))
