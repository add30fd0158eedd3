# frozen_string_literal: true

require_relative "helper"

# Router#route_target and Table#route_target: where vtgate serves a row
# after the SrvVSchema's keyspace_routing_rules, routing_rules and
# shard_routing_rules (librouter's router_route_target).
class TestRouteTarget < Minitest::Test
  include TestHelper

  BY_ID = { "column_vindexes" => [{ "column" => "id", "name" => "xx" }] }.freeze

  # customer: sharded xxhash on id, -80 and 80-; commerce: unsharded,
  # shard 0. Mid-MoveTables, customer.corder is served by commerce; tenant
  # is customer (multi-tenant MoveTables); customer's -80 is served by
  # commerce (partial MoveTables).
  DOC = {
    "keyspaces" => {
      "customer" => { "sharded" => true, "shards" => %w[-80 80-],
                      "vindexes" => { "xx" => { "type" => "xxhash" } },
                      "tables" => { "customer" => BY_ID, "corder" => BY_ID } },
      "commerce" => { "tables" => { "corder" => {} }, "shards" => ["0"] }
    },
    "routing_rules" => { "rules" => [
      { "from_table" => "customer.corder", "to_tables" => ["commerce.corder"] }
    ] },
    "keyspace_routing_rules" => { "rules" => [{ "from_keyspace" => "tenant", "to_keyspace" => "customer" }] },
    "shard_routing_rules" => { "rules" => [
      { "from_keyspace" => "customer", "to_keyspace" => "commerce", "shard" => "-80" }
    ] }
  }.freeze

  def router
    router_with(DOC)
  end

  # An id of customer.customer whose keyspace ID is in shard.
  def id_in(r, shard)
    (1..1000).find { |i| r.route("customer", "customer", i) == shard }
  end

  def test_a_table_rule_names_the_keyspace_that_serves
    r = router
    assert_equal ["0", "commerce", "corder", ["routing_rules"]], r.route_target("customer", "corder", 1)
    # The shard is #route's answer, the same shared String.
    assert_same r.route("customer", "corder", 1), r.route_target("customer", "corder", 1)[0]
  end

  def test_a_keyspace_rule_routes_in_its_target_keyspace
    r = router
    i = id_in(r, "80-")
    assert_equal ["80-", "customer", "customer", ["keyspace_routing_rules"]], r.route_target("tenant", "customer", i)
    # The table rule is looked up under the routed keyspace; the rules
    # come in Vitess's order.
    assert_equal ["0", "commerce", "corder", %w[keyspace_routing_rules routing_rules]],
                 r.route_target(:tenant, :corder, i)
  end

  def test_a_shard_rule_serves_the_shard_from_another_keyspace
    r = router
    low = id_in(r, "-80")
    assert_equal ["-80", "commerce", "customer", ["shard_routing_rules"]],
                 r.route_target("customer", "customer", low, shard_routing: true)
    # The other shard has no rule: served where it is.
    assert_equal ["80-", "customer", "customer", []],
                 r.route_target("customer", "customer", id_in(r, "80-"), shard_routing: true)
    # Off by default, as vtgate without --enable-partial-keyspace-migration.
    assert_equal ["-80", "customer", "customer", []], r.route_target("customer", "customer", low)
    assert_equal ["-80", "customer", "customer", []],
                 r.route_target("customer", "customer", low, shard_routing: false)
    assert_equal "commerce", r.table("customer", "customer").route_target(low, shard_routing: true)[1]
    assert_raises(ArgumentError) { r.route_target("customer", "customer", low, shard_rules: true) }
  end

  def test_the_names_and_rules_are_frozen
    shard, ks, table, rules = router.route_target("tenant", "corder", 1)
    assert [shard, ks, table, rules, *rules].all?(&:frozen?)
    assert_equal Encoding::UTF_8, ks.encoding
  end

  def test_a_value_with_no_keyspace_id_still_names_the_target
    # NULL through hash maps to no keyspace ID: no shard, no shard rule.
    r = router_with(user_doc(vindex: "hash"))
    assert_nil r.route("user", "users", nil)
    assert_equal [nil, "user", "users", []], r.route_target("user", "users", nil)
  end

  def test_a_table_handle_gives_the_routers_answer
    r = router
    [%w[customer corder], %w[tenant customer], %w[customer customer]].each do |ks, tb|
      t = r.table(ks, tb)
      (1..20).each { |i| assert_equal r.route_target(ks, tb, i), t.route_target(i) }
    end
  end

  def raised
    yield
    flunk "nothing raised"
  rescue StandardError => e
    e
  end

  def test_errors_are_the_ones_route_raises
    r = router
    [["nope", "customer", 1], ["customer", "nope", 1], ["customer", "customer", 1.5],
     ["customer", "customer", 2**64], ["customer", "customer", [1, 2, 3, 4, 5]],
     [1, "customer", 1], ["customer", nil, 1], ["cust\0omer", "customer", 1]].each do |ks, tb, value|
      want = raised { r.route(ks, tb, value) }
      got = raised { r.route_target(ks, tb, value) }
      assert_equal [want.class, want.message], [got.class, got.message], [ks, tb, value].inspect
      assert_equal want.code, got.code if want.is_a?(ShardRouter::Error)
    end
    assert_kind_of ShardRouter::NotFoundError, raised { r.route_target("nope", "t", 1) }
    t = r.table("customer", "customer")
    assert_equal raised { t.route(1.5) }.class, raised { t.route_target(1.5) }.class
    # Nothing published: as #route.
    empty = ShardRouter::Router.new
    assert_equal raised { empty.route("a", "b", 1) }.class, raised { empty.route_target("a", "b", 1) }.class
    assert_raises(ArgumentError) { r.route_target("customer", "customer") }
  end
end
