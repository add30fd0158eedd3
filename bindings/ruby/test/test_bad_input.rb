# frozen_string_literal: true

require_relative "helper"

# Bad input of every type, to every entry point: a precise exception, never
# a crash, a wrapped integer or a changed router.
class TestBadInput < Minitest::Test
  include TestHelper

  def setup
    @r = router_with(user_doc(vindex: "numeric", shards: 4))
    @t = @r.table("user", "users")
    @hash = @r.content_hash
  end

  def teardown
    assert_equal @hash, @r.content_hash
  end

  BAD_VALUES = [1.5, true, false, :sym, Object.new, {}, 1r, 1i, [[1]], (1..2)].freeze

  def test_values_of_unsupported_types_raise_type_error
    BAD_VALUES.each do |v|
      assert_raises(TypeError, v.inspect) { @r.route("user", "users", v) }
      assert_raises(TypeError, v.inspect) { @t.route(v) } unless v.is_a?(Array) && v.first.is_a?(Array)
      assert_raises(TypeError, v.inspect) { @t.route_many([1, v]) }
      assert_raises(TypeError, v.inspect) { ShardRouter.keyspace_id("hash", v) }
    end
    assert_raises(TypeError) { @t.route([[1]]) }
  end

  def test_integers_out_of_both_ranges_raise_range_error
    [1 << 64, -(1 << 63) - 1, 1 << 200, -(1 << 200)].each do |v|
      assert_raises(RangeError, v.to_s) { @r.route("user", "users", v) }
      assert_raises(RangeError, v.to_s) { @t.route(v) }
      assert_raises(RangeError, v.to_s) { @t.route_many([v]) }
      assert_raises(RangeError, v.to_s) { ShardRouter.keyspace_id("numeric", v) }
    end
    # The edges are fine.
    assert_equal "c0-", @t.route((1 << 64) - 1)
    assert_nil @t.route(-(1 << 63))
  end

  def test_multicolumn_arrays_out_of_bounds
    assert_raises(ArgumentError) { @t.route([]) }
    assert_raises(ArgumentError) { @t.route(Array.new(9, 1)) }
    assert_raises(ArgumentError) { @r.route("user", "users", [1, 2]) } # hash takes one column
    assert_raises(ArgumentError) { ShardRouter.keyspace_id("hash", [1, 2]) }
  end

  def test_names_of_wrong_type_or_length
    [nil, 1, 1.0, [], Object.new].each do |n|
      assert_raises(TypeError, n.inspect) { @r.route(n, "users", 1) }
      assert_raises(TypeError, n.inspect) { @r.route("user", n, 1) }
      assert_raises(TypeError, n.inspect) { @r.table(n, "users") }
      assert_raises(TypeError, n.inspect) { @r.route_many("user", n, [1]) }
      assert_raises(TypeError, n.inspect) { @r.route_ksid(n, "\x00") }
    end
    long = "k" * 200
    assert_raises(ShardRouter::NoRouteError) { @r.route(long, "users", 1) }
    assert_raises(ArgumentError) { @r.table(long, "users") }
    assert_raises(ArgumentError) { @r.table("", "users") }
    # a NUL is a bad argument, not a name that is missing (test_nul.rb)
    assert_raises(ArgumentError) { @r.route("user\0", "users", 1) }
    err = assert_raises(ShardRouter::NoRouteError) { @r.route("nope", "users", 1) }
    assert_equal :ENOTFOUND, err.code
    assert_includes err.reason, "nope"
  end

  def test_ksids_must_be_strings
    [nil, 1, :a].each { |k| assert_raises(TypeError) { @r.route_ksid("user", k) } }
    assert_equal "-40", @r.route_ksid("user", "")
    assert_equal "c0-", @r.route_ksid("user", "\xff".b * 40)
    assert_raises(ShardRouter::NoRouteError) { @r.route_ksid("nope", "\x00") }
  end

  def test_route_many_needs_an_array
    [nil, 1, "1", { 1 => 2 }, 1..3].each do |v|
      assert_raises(TypeError, v.inspect) { @t.route_many(v) }
      assert_raises(TypeError, v.inspect) { @r.route_many("user", "users", v) }
    end
  end

  def test_bad_router_options
    assert_raises(ArgumentError) { ShardRouter::Router.new(history: 0) }
    assert_raises(ArgumentError) { ShardRouter::Router.new(history: -1) }
    assert_raises(ArgumentError) { ShardRouter::Router.new(history: 1 << 70) }
    assert_raises(ArgumentError) { ShardRouter::Router.new(history: 5000) }
    assert_raises(TypeError) { ShardRouter::Router.new(history: "8") }
    assert_raises(TypeError) { ShardRouter::Router.new(history: 8.0) }
    assert_raises(ArgumentError) { ShardRouter::Router.new(max_shrink: 1.5) }
    assert_raises(ArgumentError) { ShardRouter::Router.new(max_shrink: -0.1) }
    assert_raises(ArgumentError) { ShardRouter::Router.new(max_shrink: Float::NAN) }
    assert_raises(TypeError) { ShardRouter::Router.new(max_shrink: "0.1") }
    assert_raises(ArgumentError) { ShardRouter::Router.new(bogus: 1) }
    assert_equal 1, ShardRouter::Router.new(history: 1, max_shrink: 0).publish(user_doc)
    assert_equal 1, ShardRouter::Router.new(max_shrink: 1).publish(user_doc)
  end

  def test_bad_publish_arguments
    [nil, 1, 1.5, :sym, [], Object.new].each do |d|
      assert_raises(TypeError, d.inspect) { @r.publish(d) }
      assert_raises(TypeError, d.inspect) { @r.check(d) }
    end
    [-1, 1 << 64, 1.0, "2"].each do |v|
      assert_raises(ArgumentError, v.inspect) { @r.publish(user_doc, version: v) }
    end
    assert_raises(TypeError) { @r.publish(user_doc, keyspace: 1) }
    assert_raises(ArgumentError) { @r.publish(user_doc, keyspace: "a\0b") }
    assert_raises(TypeError) { @r.publish(user_doc, shards: ["-80"]) }
    assert_raises(TypeError) { @r.publish(user_doc, shards: { "user" => "-80" }) }
    assert_raises(TypeError) { @r.publish(user_doc, shards: { "user" => [1] }) }
    assert_raises(TypeError) { @r.publish(user_doc, shards: { 1 => ["-80"] }) }
    assert_raises(ArgumentError) { @r.publish(user_doc, shards: { "user" => 0 }) }
    assert_raises(ArgumentError) { @r.publish(user_doc, shards: { "user" => ["-80\0"] }) }
    err = assert_raises(ShardRouter::DocumentError) { @r.publish(user_doc, shards: { "user" => ["-80"] }) }
    assert_equal :ECOVERAGE, err.code
    err = assert_raises(ShardRouter::DocumentError) { @r.publish(user_doc, shards: { "nope" => 2 }) }
    assert_equal :ENOTFOUND, err.code
    assert_raises(ArgumentError) { @r.publish(user_doc, bogus: true) }
    assert_raises(ShardRouter::DocumentError) { @r.publish("{\"keyspaces\": {\"user\": {\"sharded\": true}}}\0") }
    assert_raises(ShardRouter::DocumentError) { @r.publish("\xff\xfe{}".b) }
    assert_raises(ArgumentError) { @r.publish("no/such\0path") } # as File.open
  end

  def test_bad_rollback_and_export_arguments
    [0, -1, 1 << 40].each { |s| assert_raises(ArgumentError, s.to_s) { @r.rollback(s) } }
    [nil, "1", 1.0].each { |s| assert_raises(TypeError, s.inspect) { @r.rollback(s) } }
    assert_raises(ArgumentError) { @r.rollback_to(-1) }
    assert_raises(TypeError) { @r.rollback_to(nil) }
    assert_raises(TypeError) { @r.export(keyspace: 1) }
  end

  def test_bad_keyspace_id_arguments
    assert_raises(ArgumentError) { ShardRouter.keyspace_id("nope", 1) }
    assert_raises(ArgumentError) { ShardRouter.keyspace_id("hash\0", 1) }
    assert_raises(TypeError) { ShardRouter.keyspace_id(nil, 1) }
    assert_raises(TypeError) { ShardRouter.keyspace_id("hash", 1, [1]) }
    assert_raises(ArgumentError) { ShardRouter.keyspace_id("numeric_static_map", 1, { "json" => "{" }) }
    assert_raises(ArgumentError) { ShardRouter.keyspace_id("hash") }
    err = assert_raises(ShardRouter::NoRouteError) { ShardRouter.keyspace_id("lookup", 1, { "table" => "t", "from" => "a", "to" => "b" }) }
    assert_equal :ENEEDSLOOKUP, err.code
    assert_raises(TypeError) { ShardRouter.shard_ranges("2") }
    assert_raises(ArgumentError) { ShardRouter.shard_ranges(65_537) }
  end

  def test_wrong_arity_everywhere
    assert_raises(ArgumentError) { @r.route("user", "users") }
    assert_raises(ArgumentError) { @r.route("user", "users", 1, 2) }
    assert_raises(ArgumentError) { @t.route }
    assert_raises(ArgumentError) { @t.route(1, 2) }
    assert_raises(ArgumentError) { @r.route_many("user", [1]) }
    assert_raises(ArgumentError) { @r.table("user") }
  end
end
