# frozen_string_literal: true

require_relative "helper"

# ShardRouter::Value: any Vitess SQL type by its name and text, parsed by
# the core (router_sqltype_parse, router_value_parse) as routerctl and the
# Python binding's shardrouter.Value parse them
# (bindings/python/tests/test_input.py, test_value_objects).
class TestValue < Minitest::Test
  include TestHelper

  V = ShardRouter::Value

  def test_a_value_keeps_its_type_and_text_and_is_frozen
    v = V.new("uint64", "5")
    assert_equal ["uint64", "5"], [v.type, v.text]
    assert_equal 'ShardRouter::Value("uint64", "5")', v.inspect
    assert_equal 'ShardRouter::Value("null")', V.new("null").inspect
    assert_equal 5, V.new("int64", 5).text
    assert_equal "int64", V.new(:int64, "1").type
    assert_predicate v, :frozen?
    assert_raises(FrozenError) { v.send(:initialize, "int64", "1") }
  end

  def test_typed_values_route_as_vitess_types_them
    assert_equal ShardRouter.keyspace_id("hash", 1), ShardRouter.keyspace_id("hash", V.new("int32", "1"))
    assert_equal "\x01\x02".b, ShardRouter.keyspace_id("binary", V.new("varbinary", "\x01\x02".b))
    assert_nil ShardRouter.keyspace_id("numeric", V.new("float64", "1.5"))
    assert_equal ShardRouter.keyspace_id("xxhash", "1.5".b), ShardRouter.keyspace_id("xxhash", V.new("float64", "1.5"))
    big = 2**64 - 1
    assert_equal ShardRouter.keyspace_id("hash", big), ShardRouter.keyspace_id("hash", V.new("uint64", big.to_s))
  end

  def test_values_route_through_routers_tables_and_batches
    r = router_with
    t = r.table("user", "users")
    v = V.new("uint64", "29999")
    assert_equal r.route("user", "users", 29_999), r.route("user", "users", v)
    assert_equal t.route(29_999), t.route(v)
    assert_equal r.route_many("user", "users", [1, v, 2]), [r.route("user", "users", 1), t.route(29_999), t.route(2)]
    assert_equal t.route_many([v, 5]), [t.route(29_999), t.route(5)]
  end

  def test_values_are_equal_when_they_route_alike
    assert_equal V.new("int64", "7"), V.new("int32", 7)
    refute_equal V.new("int64", "7"), V.new("uint64", "7")
    assert_equal V.new("text", "a").hash, V.new("varchar", "a").hash
    assert_equal 1, [V.new("blob", "x"), V.new("binary", "x")].uniq.size
  end

  def test_bad_types_and_texts_are_argument_errors
    [%w[nope 1], %w[int64 x], ["int64", "1.0"], %w[uint64 -1], %w[int64 99999999999999999999], %w[null 1]].each do |args|
      assert_raises(ArgumentError, args.inspect) { V.new(*args) }
    end
    assert_raises(ArgumentError) { V.new("int64") }
    assert_raises(ArgumentError) { V.new }
    [[1, "1"], ["varchar", 1], ["float64", 1.5]].each do |args|
      assert_raises(TypeError, args.inspect) { V.new(*args) }
    end
    err = assert_raises(ArgumentError) { V.new("int64\0", "1") }
    assert_equal "SQL type contains a NUL byte", err.message
    assert_equal "a\0b".b, ShardRouter.keyspace_id("binary", V.new("varbinary", "a\0b"))
  end

  def test_an_uninitialized_value_is_refused
    v = V.allocate
    assert_raises(ArgumentError) { ShardRouter.keyspace_id("hash", v) }
  end

  def test_values_survive_gc_compaction
    vals = Array.new(200) { |i| V.new("varbinary", "k#{i}") }
    GC.start
    GC.compact if GC.respond_to?(:compact)
    vals.each_with_index do |v, i|
      assert_equal ShardRouter.keyspace_id("binary", "k#{i}".b), ShardRouter.keyspace_id("binary", v)
    end
  end
end
