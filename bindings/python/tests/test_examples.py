"""Every example VSchema in tests/data/examples, loaded from its file (as a
str path and as a pathlib.Path), with shards supplied for the sharded ones
as Vitess keeps them outside the VSchema; routed, checked against
keyspace_id() and the partition, exported and re-published.
"""
import json
import pathlib

import pytest

import shardrouter as sr
from conftest import DATA, shard_for

TWO = ["-80", "80-"]
KEY = 12345

# file, keyspace (None: the document names its keyspaces), sharded
# keyspace, a table routed by an int, its primary vindex type
EXAMPLES = [
    ("commerce_initial.json", "commerce", None, "product", None),
    ("commerce_seq.json", "commerce", None, "product", None),
    ("compose_lookup_keyspace.json", "lookup_keyspace", "lookup_keyspace",
     "messages_message_lookup", "xxhash"),
    ("compose_test_keyspace.json", "test_keyspace", "test_keyspace",
     "messages", "xxhash"),
    ("customer_sharded.json", "customer", "customer", "customer", "xxhash"),
    ("demo_user.json", "user", "user", "user", "hash"),
    ("multicol_region.json", "customer", "customer", None, None),
    ("region_json_sharded.json", "customer", "customer", None, None),
    ("vtexplain_sample.json", None, "ks1", "t1", "binary"),
]


def path_of(name):
    return pathlib.Path(DATA) / "examples" / name


@pytest.mark.parametrize("as_path", [False, True], ids=["str", "PathLike"])
@pytest.mark.parametrize("ex", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_publishes_and_routes(ex, as_path):
    name, keyspace, sharded, table, vtype = ex
    ks = keyspace or sharded
    r = sr.Router()
    p = path_of(name)
    v = r.publish(p if as_path else str(p), keyspace=keyspace,
                  shards={sharded: TWO} if sharded else None)
    assert v.accepted and v.version == 1 and r.version == 1
    assert [d.kind for d in v.diff if d.op == "added"][0] == "keyspace"
    if table is not None:
        got = r.route(ks, table, KEY)
        if vtype is None:
            assert got == "0"
        else:
            want = shard_for(sr.keyspace_id(vtype, KEY), TWO)
            assert got == want
            assert r.table(ks, table).route(KEY) == want
            assert r.route_many(ks, table, [KEY, KEY]) == [want, want]


def test_examples_round_trip_through_export():
    for name, keyspace, sharded, _, _ in EXAMPLES:
        r = sr.Router()
        r.publish(str(path_of(name)), keyspace=keyspace,
                  shards={sharded: TWO} if sharded else None)
        text = r.export()
        assert json.loads(text)["version"] == 1
        r2 = sr.Router()
        r2.publish(text)
        assert r2.content_hash == r.content_hash, name
        # Re-publishing the same content with a higher version is a no-op
        # diff and is accepted.
        v = r.publish(text, version=2)
        assert v.accepted and v.diff == () and r.version == 2


def test_demo_user_lookup_tables_say_why_and_unicode_tables_route():
    r = sr.Router()
    r.publish(str(path_of("demo_user.json")), keyspace="user",
              shards={"user": TWO})
    # music_extra's primary vindex is a lookup: it needs the database.
    with pytest.raises(sr.NoRouteError) as ei:
        r.route("user", "music_extra", 1)
    assert ei.value.code == sr.ENEEDSLOOKUP
    assert (ei.value.keyspace, ei.value.table) == ("user", "music_extra")
    # ... but such rows can still be routed by keyspace ID.
    assert r.route_ksid("user", b"\x90") == "80-"
    # name_info is routed by unicode_loose_md5: blind to case, accents
    # and trailing spaces, as Vitess's collation key is.
    ksid = sr.keyspace_id("unicode_loose_md5", "Alice")
    assert len(ksid) == 16
    assert r.route("user", "name_info", "Alice") == shard_for(ksid, TWO)
    assert r.route("user", "name_info", "ÁLICE  ") == \
        r.route("user", "name_info", "Alice")


def test_multicol_example_routes_a_tuple_per_row():
    r = sr.Router()
    r.publish(str(path_of("multicol_region.json")), keyspace="customer",
              shards={"customer": TWO})
    params = {"column_count": "2", "column_bytes": "1,7",
              "column_vindex": "binary,hash"}
    for country, cid in ((b"\x01", 1), (b"\x90", 2), (b"\xff", 29999)):
        ksid = sr.keyspace_id("multicol", (country, cid), params=params)
        assert r.route("customer", "customer", (country, cid)) == \
            shard_for(ksid, TWO)
    with pytest.raises(ValueError):
        r.route("customer", "customer", (b"\x01",))  # a column missing


def test_region_json_example_routes_by_id_and_country():
    # The map file (countries.json, beside the document) is read and
    # inlined at load; the ksid is the Vitess docs' vtgate output.
    r = sr.Router()
    r.publish(str(path_of("region_json_sharded.json")), keyspace="customer",
              shards={"customer": TWO})
    params = {"region_map": str(path_of("countries.json")),
              "region_bytes": "1"}
    ksid = sr.keyspace_id("region_json", (1, "United States"), params=params)
    assert ksid == bytes.fromhex("01166b40b44aba4bd6")
    assert r.route("customer", "customer", (1, "United States")) == \
        shard_for(ksid, TWO) == "-80"
    assert r.route("customer", "customer", (5, "India")) == "80-"
    assert r.route("customer", "customer", (1, "Mexico")) is None  # no map entry
    # From a string (as from the network) the file is never read.
    with pytest.raises(sr.DocumentError) as ei:
        r.publish(path_of("region_json_sharded.json").read_text(),
                  keyspace="customer", shards={"customer": TWO})
    assert "region_map names a local file" in str(ei.value)


def test_cfc_keyspace_ids_are_computed():
    assert sr.keyspace_id("cfc", b"abc") == b"abc"
    assert sr.keyspace_id("cfc", b"12345567",
                          params={"hash": "md5", "offsets": "[3,5]"}) == \
        bytes.fromhex("202cb96c8399c5e0")
    with pytest.raises(ValueError) as ei:
        sr.keyspace_id("cfc", b"123", params={"hash": "md5",
                                             "offsets": "[3,5]"})
    assert "insufficient size for cfc vindex cfc. need 5, got 3" in \
        str(ei.value)


def test_sharded_example_without_shards_names_the_keyspace():
    r = sr.Router()
    with pytest.raises(sr.DocumentError) as ei:
        r.publish(str(path_of("customer_sharded.json")), keyspace="customer")
    assert ei.value.code == sr.EDOC
    assert "sharded keyspace customer has no shards" in str(ei.value)
    assert r.version == 0
