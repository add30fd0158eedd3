# frozen_string_literal: true

require_relative "helper"
require "tmpdir"

# What a call learns from librouter's event callback (the shadow verdict,
# a failed automatic snapshot) is read from the core's copies of the
# events (router_event_copy), after the call returns and the originals
# are gone.
class TestEvents < Minitest::Test
  include TestHelper

  KEYS = (0...64).to_a.freeze

  def two_keyspaces(shards: 2)
    doc = user_doc(shards: shards)
    other = user_doc(shards: shards)["keyspaces"]["user"]
    doc["keyspaces"]["customer"] = other
    doc
  end

  def sample
    KEYS.flat_map { |k| [["user", "users", k], ["customer", "users", k]] }
  end

  def test_shadow_verdict_of_every_keyspace_is_copied_out_of_the_event
    r = router_with(two_keyspaces)
    r.set_sample(sample)
    GC.stress = true
    v = begin
      r.check(two_keyspaces(shards: 8)).shadow
    ensure
      GC.stress = false
    end
    assert_equal %w[customer user], v.keyspaces.map(&:keyspace)
    v.keyspaces.each do |st|
      assert st.keyspace.frozen?
      assert_equal KEYS.size, st.keys
      assert_equal KEYS.size, st.routed
    end
    assert_equal v["user"].moved, v["customer"].moved
    assert_equal ["", 2 * KEYS.size, 2 * v["user"].moved], [v.totals.keyspace, v.totals.keys, v.totals.moved]
  end

  def test_refusal_carries_the_copied_shadow_verdict
    r = router_with(two_keyspaces)
    r.set_sample(sample, max_moved: 0.1)
    e = assert_raises(ShardRouter::ShadowError) { r.publish(two_keyspaces(shards: 8)) }
    assert_equal %w[customer user], e.shadow.keyspaces.map(&:keyspace)
    assert_operator e.shadow["user"].moved, :>, 0
    assert_equal e.shadow["user"].moved, e.shadow["customer"].moved
    assert_equal 1, r.version
  end

  def test_a_failed_snapshot_warning_quotes_the_copied_error
    Dir.mktmpdir do |dir|
      gone = File.join(dir, "gone", "routes.lkg")
      r = ShardRouter::Router.new(snapshot_path: gone)
      [-> { r.publish(user_doc) }, -> { r.publish(user_doc(shards: 4)) }, -> { r.rollback }].each do |call|
        _, err = capture_io { call.call }
        assert_match(/snapshot not saved: .*\(ROUTER_EIO\)/, err)
        assert_includes err, File.join(dir, "gone")
      end
      assert_equal 3, r.stats[:snapshots_failed]
      assert_equal 1, r.version
    end
  end
end
