"""NUL bytes and file objects at every entry point (issue 15, defect 14).

Names (keyspace, table, vindex type, params, SQL type, invariant, shard
names, paths) can never hold a NUL: Vitess refuses them, librouter's JSON
loader refuses them, and C reads a NUL-terminated name only up to it.  So
every entry point refuses one up front with ValueError, "<argument>
contains a NUL byte", the same text as the Ruby binding's ArgumentError
(bindings/ruby/test/test_nul.rb), and nothing changes.  Values are bytes
and may hold NUL.  A file object is read, never reopened by its name.
"""
import io
import json

import pytest

import shardrouter as sr
from conftest import keyspace_doc


def unsharded():
    return {"keyspaces": {"main": {"sharded": False}}}


@pytest.fixture
def both():
    r = sr.Router()
    r.publish({"keyspaces": {**keyspace_doc()["keyspaces"],
                             **unsharded()["keyspaces"]}})
    return r


def refused(what, fn):
    with pytest.raises(ValueError) as ei:
        fn()
    assert str(ei.value) == what + " contains a NUL byte", str(ei.value)
    assert not isinstance(ei.value, sr.Error)


LOOKUPS = [
    ("keyspace", lambda r: r.route("u\0", "users", 1)),
    ("keyspace", lambda r: r.route("user\0", "users", 1)),
    ("table", lambda r: r.route("user", "users\0", 1)),
    # an unsharded keyspace routes every table name: this one did
    ("table", lambda r: r.route("main", "t\0", 1)),
    ("keyspace", lambda r: r.lookup("user\0", "users", 1)),
    ("table", lambda r: r.lookup("main", "t\0", 1)),
    ("keyspace", lambda r: r.route_ksid("user\0", b"\x01")),
    ("keyspace", lambda r: r.route_many("user\0", "users", [1])),
    ("table", lambda r: r.route_many("main", "t\0", [1])),
    ("keyspace", lambda r: r.table("user\0", "users")),
    ("table", lambda r: r.table("user", "users\0")),
    ("keyspace", lambda r: r.export("user\0")),
]


@pytest.mark.parametrize("what,call", LOOKUPS)
def test_lookups_refuse_a_nul_in_a_name(both, what, call):
    refused(what, lambda: call(both))
    # twice: the handle cache must not have kept the name either
    refused(what, lambda: call(both))
    assert both.route("user", "users", 1) == "-80"


def test_error_text_never_shows_a_cut_name(both):
    # The defect: "u\x00" gave "keyspace u not found".
    with pytest.raises(ValueError) as ei:
        both.route("u\0", "users", 1)
    assert "keyspace u not found" not in str(ei.value)


def test_keyspace_id_refuses_a_nul_in_the_type_and_params():
    # The defect: "hash\x00" was accepted as "hash".
    refused("vindex type", lambda: sr.keyspace_id("hash\0", 1))
    refused("vindex type", lambda: sr.keyspace_id("\0hash", 1))
    refused("param name",
            lambda: sr.keyspace_id("hash", 1, params={"a\0": "b"}))
    refused("param value",
            lambda: sr.keyspace_id("hash", 1, params={"a": "b\0"}))
    # values are bytes: a NUL inside is data
    assert sr.keyspace_id("xxhash", "a\0b") == sr.keyspace_id("xxhash",
                                                              b"a\0b")


def test_value_refuses_a_nul_in_the_type_and_quotes_the_text():
    refused("SQL type", lambda: sr.Value("int64\0", "1"))
    with pytest.raises(ValueError) as ei:
        sr.Value("int64", "1\0")
    # the whole text, escaped: not "... integer: '1'"
    assert "'1\\x00'" in str(ei.value), str(ei.value)
    assert sr.Value("varbinary", b"a\0b").text == b"a\0b"


def test_set_sample_refuses_a_nul_name_and_keeps_the_old_sample(both):
    # The defect: set_sample took "user\x00" (as a keyspace no other call
    # could name).
    both.set_sample([("user", "users", 1)])
    for key, what in ((("user\0", "users", 1), "keyspace"),
                      (("user", "users\0", 1), "table"),
                      (("main", "t\0", 1), "table")):
        refused(what, lambda: both.set_sample([("user", "users", 2), key]))
    v = both.check(keyspace_doc(4), allow_destructive=True)
    assert v.shadow.keyspaces["user"].keys == 1  # the old sample stays


def test_documents_options_and_invariants_refuse_nul(both, tmp_path):
    ks = keyspace_doc()["keyspaces"]["user"]
    refused("keyspace", lambda: sr.Router().publish(ks, keyspace="us\0er"))
    refused("shards keyspace",
            lambda: sr.Router().publish(keyspace_doc(),
                                        shards={"u\0": ["-80", "80-"]}))
    refused("shard name",
            lambda: sr.Router().publish(keyspace_doc(),
                                        shards={"user": ["-80\0", "80-"]}))
    refused("invariant", lambda: both.add_invariant("user\0sharded"))
    refused("invariant", lambda: both.remove_invariant("user\0sharded"))
    assert both.invariants() == []
    # the JSON text itself may hold anything; the parser judges it
    with pytest.raises(sr.DocumentError):
        sr.Router().publish(json.dumps(keyspace_doc()) + "\0")


def test_paths_refuse_nul(both, tmp_path):
    bad = str(tmp_path / "a\0b")
    refused("path", lambda: both.publish(bad))
    refused("path", lambda: both.check(bad))
    refused("path", lambda: both.save_snapshot(bad))
    refused("path", lambda: both.save_snapshot(bad.encode()))
    refused("path", lambda: sr.Router.from_snapshot(bad))
    refused("path", lambda: sr.verify_snapshot(bad))
    refused("snapshot_path", lambda: sr.Router(snapshot_path=bad))
    assert list(tmp_path.iterdir()) == []


def test_a_file_object_is_read_never_reopened_by_name(tmp_path):
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(keyspace_doc(version=7)))
    r = sr.Router()
    with open(path) as f:
        f.seek(0)
        assert r.check(f).accepted
        f.seek(0)
        assert r.publish(f).version == 7
    # closed: Python's own error for a closed file, not a read by f.name
    path.write_text(json.dumps(keyspace_doc(version=8)))
    for call in (r.publish, r.check):
        with pytest.raises(ValueError, match="closed file"):
            call(f)
    assert r.version == 7
    # binary files and in-memory streams too
    with open(path, "rb") as fb:
        assert r.publish(fb).version == 8
    assert r.publish(io.StringIO(json.dumps(keyspace_doc(version=9)))) \
        .version == 9
    # read() must give text or bytes
    class Odd:
        def read(self):
            return 42
    with pytest.raises(TypeError):
        r.publish(Odd())
    assert r.version == 9


def test_path_arguments_take_paths_not_file_objects(tmp_path):
    r = sr.Router()
    r.publish(keyspace_doc())
    path = tmp_path / "lkg"
    r.save_snapshot(path)
    with open(path, "rb") as f:
        pass
    for call in (r.save_snapshot, sr.verify_snapshot, sr.Router.from_snapshot,
                 lambda p: sr.Router(snapshot_path=p)):
        with pytest.raises(TypeError):
            call(f)
