# frozen_string_literal: true

require_relative "helper"

# Router#route_column: secondary column vindexes, lookups through a block.
class TestLookup < Minitest::Test
  DOC = {
    "keyspaces" => { "user" => {
      "sharded" => true, "shards" => %w[-40 40-80 80-c0 c0-],
      "vindexes" => {
        "hash" => { "type" => "hash" }, "xx" => { "type" => "xxhash" },
        "email_idx" => { "type" => "lookup", "owner" => "users",
                         "params" => { "table" => "user.email_idx", "from" => "email", "to" => "keyspace_id" } },
        "phone_idx" => { "type" => "lookup_hash_unique", "owner" => "users",
                         "params" => { "table" => "user.phone_idx", "from" => "phone", "to" => "user_id" } }
      },
      "tables" => { "users" => { "column_vindexes" => [
        { "column" => "id", "name" => "hash" }, { "column" => "name", "name" => "xx" },
        { "column" => "email", "name" => "email_idx" }, { "column" => "phone", "name" => "phone_idx" }
      ] } }
    } }
  }.freeze

  def router
    r = ShardRouter::Router.new
    r.publish(DOC)
    r
  end

  def test_a_secondary_computed_vindex_routes_without_a_block
    r = router
    ksid = ShardRouter.keyspace_id("xxhash", "alice")
    assert_equal [r.route_ksid("user", ksid)], r.route_column("user", "users", "name", "alice")
    assert_equal [r.route("user", "users", 1)], r.route_column("user", "users", "", 1)
  end

  def test_a_lookup_yields_the_query_and_returns_every_shard
    r = router
    seen = nil
    shards = r.route_column("user", "users", "email", "a@b.c") do |q|
      seen = q
      [[q[:bind], "\x10".b], [q[:bind], "\x90\x01".b], [q[:bind], "\x11".b]]
    end
    assert_equal %w[-40 80-c0], shards
    assert_equal "select email, keyspace_id from user.email_idx where email in ::email", seen[:sql]
    assert_equal "lookup", seen[:vindex_type]
    assert_equal "a@b.c", seen[:bind]
    assert_equal false, seen[:batched]
    assert_equal 1, seen[:version]
  end

  def test_lookup_hash_hashes_to_and_unique_refuses_two_rows
    r = router
    assert_equal [r.route("user", "users", 1)], r.route_column("user", "users", "phone", 5_551_234) { [[5_551_234, 1]] }
    assert_empty(r.route_column("user", "users", "phone", 5_551_234) { [] })
    err = assert_raises(ShardRouter::Error) do
      r.route_column("user", "users", "phone", 5_551_234) { [[5_551_234, 1], [5_551_234, 2]] }
    end
    assert_match(/unexpected multiple results/, err.message)
  end

  def test_without_a_block_a_lookup_names_its_query
    err = assert_raises(ShardRouter::NoRouteError) { router.route_column("user", "users", "email", "x") }
    assert_match(/select email/, err.message)
  end

  def test_the_blocks_exception_propagates
    assert_raises(KeyError) { router.route_column("user", "users", "email", "x") { raise KeyError, "db down" } }
  end

  def test_a_blocked_block_delays_no_publish
    r = router
    q = Queue.new
    go = Queue.new
    t = Thread.new { r.route_column("user", "users", "email", "x") { |qq| q << 1; go.pop; [[qq[:bind], "\x90".b]] } }
    q.pop
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    40.times { r.publish(DOC, allow_destructive: true) }
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0, :<, 2
    go << 1
    assert_equal ["80-c0"], t.value
  end
end
