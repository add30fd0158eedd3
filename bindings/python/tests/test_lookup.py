"""Router.route_column: secondary column vindexes and lookup vindexes
through a Python resolver."""
import threading
import time

import pytest

import shardrouter as sr

DOC = {"keyspaces": {"user": {
    "sharded": True, "shards": ["-40", "40-80", "80-c0", "c0-"],
    "vindexes": {
        "hash": {"type": "hash"}, "xx": {"type": "xxhash"},
        "email_idx": {"type": "lookup", "owner": "users", "params": {
            "table": "user.email_idx", "from": "email",
            "to": "keyspace_id"}},
        "phone_idx": {"type": "lookup_hash_unique", "owner": "users",
                      "params": {"table": "user.phone_idx",
                                 "from": "phone", "to": "user_id"}}},
    "tables": {"users": {"column_vindexes": [
        {"column": "id", "name": "hash"},
        {"column": "name", "name": "xx"},
        {"column": "email", "name": "email_idx"},
        {"column": "phone", "name": "phone_idx"}]}}}}}


def router():
    r = sr.Router()
    r.publish(DOC)
    return r


def test_a_secondary_computed_vindex_routes_without_a_resolver():
    r = router()
    ksid = sr.keyspace_id("xxhash", "alice")
    assert r.route_column("user", "users", "name", "alice") == [
        r.route_ksid("user", ksid)]
    assert r.route_column("user", "users", "", 1) == [
        r.route("user", "users", 1)]


def test_a_lookup_asks_the_resolver_and_returns_every_shard():
    r = router()
    seen = []

    def resolver(q):
        seen.append(q)
        return [(q["bind"], b"\x10"), (q["bind"], b"\x90\x01"),
                (q["bind"], b"\x11")]

    assert r.route_column("user", "users", "email", "a@b.c",
                          resolver=resolver) == ["-40", "80-c0"]
    q = seen[0]
    assert q["sql"] == ("select email, keyspace_id from user.email_idx "
                        "where email in ::email")
    assert q["vindex_type"] == "lookup" and q["bind"] == "a@b.c"
    assert q["batched"] is False and q["unique"] is False
    assert q["lock_suffix"] == " for update" and q["version"] == 1


def test_lookup_hash_hashes_the_to_column_and_unique_refuses_two_rows():
    r = router()
    assert r.route_column("user", "users", "phone", 5551234,
                          resolver=lambda q: [(5551234, 1)]) == [
        r.route("user", "users", 1)]
    assert r.route_column("user", "users", "phone", 5551234,
                          resolver=lambda q: []) == []
    with pytest.raises(sr.InvalidError, match="unexpected multiple"):
        r.route_column("user", "users", "phone", 5551234,
                       resolver=lambda q: [(5551234, 1), (5551234, 2)])


def test_without_a_resolver_a_lookup_names_its_query():
    with pytest.raises(sr.NoRouteError, match="select email"):
        router().route_column("user", "users", "email", "a@b.c")


def test_the_resolvers_exception_propagates():
    def boom(q):
        raise KeyError("db down")

    with pytest.raises(KeyError, match="db down"):
        router().route_column("user", "users", "email", "x", resolver=boom)


def test_a_blocked_resolver_delays_no_publish():
    r = router()
    entered, release = threading.Event(), threading.Event()
    result = []

    def slow(q):
        entered.set()
        release.wait(5)  # sleeps without the GIL
        return [(q["bind"], b"\x90")]

    t = threading.Thread(target=lambda: result.append(r.route_column(
        "user", "users", "email", "x", resolver=slow)))
    t.start()
    assert entered.wait(5)
    t0 = time.monotonic()
    for _ in range(40):
        r.publish(DOC, allow_destructive=True)
    assert time.monotonic() - t0 < 2
    release.set()
    t.join()
    assert result == [["80-c0"]]
