"""Router.route_target and Table.route_target: where vtgate serves a row
after the SrvVSchema's keyspace_routing_rules, routing_rules and
shard_routing_rules (librouter's router_route_target)."""
import pytest

import shardrouter as sr
from conftest import keyspace_doc

# customer: sharded xxhash on id, -80 and 80-; commerce: unsharded, shard
# 0.  Mid-MoveTables, customer.corder is served by commerce; tenant is
# customer (multi-tenant MoveTables); customer's -80 is served by
# commerce (partial MoveTables).
DOC = {
    "keyspaces": {
        "customer": {
            "sharded": True, "shards": ["-80", "80-"],
            "vindexes": {"xx": {"type": "xxhash"}},
            "tables": {
                "customer": {"column_vindexes": [
                    {"column": "id", "name": "xx"}]},
                "corder": {"column_vindexes": [
                    {"column": "id", "name": "xx"}]}}},
        "commerce": {"tables": {"corder": {}}, "shards": ["0"]}},
    "routing_rules": {"rules": [
        {"from_table": "customer.corder", "to_tables": ["commerce.corder"]}]},
    "keyspace_routing_rules": {"rules": [
        {"from_keyspace": "tenant", "to_keyspace": "customer"}]},
    "shard_routing_rules": {"rules": [
        {"from_keyspace": "customer", "to_keyspace": "commerce",
         "shard": "-80"}]},
}


def router(doc=DOC):
    r = sr.Router()
    r.publish(doc)
    return r


def id_in(r, shard):
    """An id of customer.customer whose keyspace ID is in shard."""
    return next(i for i in range(1, 1000)
                if r.route("customer", "customer", i) == shard)


def test_a_table_rule_names_the_keyspace_that_serves():
    r = router()
    assert r.route_target("customer", "corder", 1) == \
        ("0", "commerce", "corder", ("routing_rules",))
    # The shard is route()'s answer, the same shared str.
    assert r.route_target("customer", "corder", 1)[0] is \
        r.route("customer", "corder", 1)


def test_a_keyspace_rule_routes_in_its_target_keyspace():
    r = router()
    i = id_in(r, "80-")
    assert r.route_target("tenant", "customer", i) == \
        ("80-", "customer", "customer", ("keyspace_routing_rules",))
    # The table rule is looked up under the routed keyspace; the rules
    # come in Vitess's order.
    assert r.route_target("tenant", "corder", i) == \
        ("0", "commerce", "corder",
         ("keyspace_routing_rules", "routing_rules"))


def test_a_shard_rule_serves_the_shard_from_another_keyspace():
    r = router()
    low = id_in(r, "-80")
    assert r.route_target("customer", "customer", low,
                          shard_routing=True) == \
        ("-80", "commerce", "customer", ("shard_routing_rules",))
    # The other shard has no rule: served where it is.
    assert r.route_target("customer", "customer", id_in(r, "80-"),
                          shard_routing=True) == \
        ("80-", "customer", "customer", ())
    # Off by default, as vtgate without
    # --enable-partial-keyspace-migration.
    assert r.route_target("customer", "customer", low) == \
        ("-80", "customer", "customer", ())
    assert r.route_target("customer", "customer", low,
                          shard_routing=False) == \
        ("-80", "customer", "customer", ())
    assert r.table("customer", "customer").route_target(
        low, shard_routing=True)[1] == "commerce"
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        r.route_target("customer", "customer", low, shard_rules=True)


def test_without_rules_the_target_is_the_table_asked_for():
    r = router(keyspace_doc())
    assert r.route_target("user", "users", 1) == \
        (r.route("user", "users", 1), "user", "users", ())


def test_a_value_with_no_keyspace_id_still_names_the_target():
    # NULL through hash maps to no keyspace ID: no shard, no shard rule.
    r = router(keyspace_doc(vindex="hash"))
    assert r.route("user", "users", None) is None
    assert r.route_target("user", "users", None) == \
        (None, "user", "users", ())


def test_a_table_handle_gives_the_routers_answer():
    r = router()
    for ks, tb in (("customer", "corder"), ("tenant", "customer"),
                   ("customer", "customer")):
        t = r.table(ks, tb)
        for i in range(1, 20):
            assert t.route_target(i) == r.route_target(ks, tb, i)


def raised(f):
    with pytest.raises(Exception) as ei:
        f()
    return ei.value


def test_errors_are_the_ones_route_raises():
    r = router()
    for ks, tb, value in (("nope", "customer", 1),   # unknown keyspace
                          ("customer", "nope", 1),   # unknown table
                          ("customer", "customer", 1.5),
                          ("customer", "customer", 2**64),
                          ("customer", "customer", (1, 2, 3, 4, 5)),
                          (b"customer", "customer", 1),
                          ("customer", None, 1),
                          ("cust\0omer", "customer", 1)):
        want = raised(lambda: r.route(ks, tb, value))
        got = raised(lambda: r.route_target(ks, tb, value))
        assert type(got) is type(want), (ks, tb, value)
        assert str(got) == str(want), (ks, tb, value)
        if isinstance(want, sr.Error):
            assert (got.code, got.keyspace, got.table) == \
                (want.code, want.keyspace, want.table)
    assert isinstance(raised(lambda: r.route_target("nope", "t", 1)),
                      sr.NoRouteError)
    t = r.table("customer", "customer")
    assert type(raised(lambda: t.route_target(1.5))) is \
        type(raised(lambda: t.route(1.5)))
    # Nothing published: as route().
    empty = sr.Router()
    assert type(raised(lambda: empty.route_target("a", "b", 1))) is \
        type(raised(lambda: empty.route("a", "b", 1)))
    with pytest.raises(TypeError, match="3"):
        r.route_target("customer", "customer")
