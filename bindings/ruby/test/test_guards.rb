# frozen_string_literal: true

require_relative "helper"

# Refused publishes: the right error, the culprit and the diff, and the
# table in service still answering exactly as before.
class TestGuards < Minitest::Test
  include TestHelper

  KEYS = (0...200).to_a + [1 << 63, "abc", "abc".b, nil]

  def setup
    @r = router_with(user_doc(tables: %w[users orders items carts], shards: 4))
    @t = @r.table("user", "users")
    @before = KEYS.map { |k| @r.route("user", "users", k) }
    @version = @r.version
    @hash = @r.content_hash
  end

  def assert_intact
    assert_equal @before, KEYS.map { |k| @r.route("user", "users", k) }
    assert_equal @before, KEYS.map { |k| @t.route(k) }
    assert_equal @before, @t.route_many(KEYS)
    assert_equal @version, @r.version
    assert_equal @hash, @r.content_hash
    assert_equal 1, @r.history.size
  end

  def assert_refused(code, culprit = nil, &blk)
    err = assert_raises(ShardRouter::RefusedError, &blk)
    assert_equal code, err.code
    assert_equal culprit, err.culprit if culprit
    refute_empty err.reason
    assert_includes err.message, "ROUTER_#{code}"
    assert_intact
    err
  end

  def test_publish_refuses_the_january_2026_empty_keyspace
    err = assert_refused(:EEMPTY, "user") { @r.publish({ "keyspaces" => { "user" => { "sharded" => false } } }) }
    assert_includes err.diff.map(&:detail), "sharded -> unsharded"
    assert(err.diff.all? { |c| c.is_a?(ShardRouter::Change) && c.frozen? })
  end

  def test_publish_refuses_a_change_of_every_rows_keyspace_id
    tables = %w[users orders items carts]
    err = assert_refused(:EKSIDCHANGE, "user.carts") { @r.publish(user_doc(tables: tables, vindex: "xxhash", shards: 4)) }
    assert_includes err.reason, "from hash(id) to xxhash(id)"
    assert_equal @version + 1, @r.publish(user_doc(tables: tables, vindex: "xxhash", shards: 4), allow_destructive: true)
  end

  def test_publish_refuses_a_table_with_no_keyspace
    assert_refused(:EEMPTY) { @r.publish({ "keyspaces" => {} }) }
  end

  def test_publish_refuses_dropping_tables_beyond_max_shrink
    err = assert_refused(:ESHRINK, "user") { @r.publish(user_doc(tables: %w[users orders], shards: 4)) }
    assert_equal 2, err.diff.count { |c| c.kind == :table && c.op == :removed }
  end

  def test_publish_refuses_dropping_a_keyspace
    two = user_doc(tables: %w[users orders items carts], shards: 4)
    two["keyspaces"]["other"] = { "sharded" => false }
    @r.publish(two)
    @version = @r.version
    @hash = @r.content_hash
    @r.rollback
    @r.rollback_to(@version)
    assert_raises(ShardRouter::RefusedError) { @r.publish(user_doc(tables: %w[users orders items carts], shards: 4)) }
    assert_equal @hash, @r.content_hash
  end

  def test_publish_refuses_a_stale_version
    @r.publish(user_doc(tables: %w[users orders items carts], shards: 4), version: 5)
    @version = 5
    @hash = @r.content_hash
    assert_raises(ShardRouter::RefusedError) { @r.publish(user_doc(tables: %w[users orders items carts], shards: 2), version: 4) }
    assert_equal 5, @r.version
    err = assert_raises(ShardRouter::RefusedError) { @r.publish(user_doc(tables: %w[users orders items carts]), version: 5) }
    assert_equal :EVERSION, err.code
  end

  def test_destructive_flag_lets_the_shrink_through
    assert_refused(:ESHRINK) { @r.publish(user_doc(tables: %w[users], shards: 4)) }
    assert_equal 2, @r.publish(user_doc(tables: %w[users], shards: 4), allow_destructive: true)
    assert_equal @before, KEYS.map { |k| @t.route(k) } # same shards, same vindex
  end

  def test_check_refuses_like_publish_without_counting_a_publish
    err = assert_raises(ShardRouter::RefusedError) { @r.check(user_doc(tables: %w[users], shards: 4)) }
    assert_equal :ESHRINK, err.code
    assert_intact
    assert_equal 0, @r.stats[:accepted] - 1
  end

  def test_invalid_documents_change_nothing
    [
      user_doc.tap { |d| d["keyspaces"]["user"]["shards"] = %w[-40 80-] },               # gap
      user_doc.tap { |d| d["keyspaces"]["user"]["shards"] = %w[-80 40-] },               # overlap
      user_doc.tap { |d| d["keyspaces"]["user"]["shards"] = ["x-"] },                    # shard name
      user_doc.tap { |d| d["keyspaces"]["user"].delete("shards") },                      # no shards
      "{", "[]", "{\"keyspaces\": 1}", ""
    ].each do |doc|
      err = assert_raises(ShardRouter::DocumentError, doc.inspect[0, 200]) { @r.publish(doc) }
      refute_nil err.code
      assert_intact
    end
    # An unknown vindex type: Vitess keeps the keyspace in error, so the
    # document loads, routes nothing, and the empty guard refuses it.
    bad = user_doc.tap { |d| d["keyspaces"]["user"]["vindexes"]["v"]["type"] = "nope" }
    err = assert_raises(ShardRouter::RefusedError) { @r.publish(bad) }
    assert_equal :EEMPTY, err.code
    assert_match(/vindexType "nope" not found/, err.message)
    assert_intact
  end

  def test_resharding_is_a_normal_publish
    assert_equal 2, @r.publish(user_doc(tables: %w[users orders items carts], shards: 8))
    want = KEYS.map { |k| (ksid = ShardRouter.keyspace_id("hash", k)) && even_shard(ksid, 8) }
    assert_equal want, @t.route_many(KEYS)
  end
end
