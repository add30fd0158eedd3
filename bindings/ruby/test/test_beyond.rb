# frozen_string_literal: true

require_relative "helper"
require "tmpdir"
require "pathname"

# Beyond the guards (issue 8): last-known-good snapshots, quarantine,
# fencing, operator invariants and shadow evaluation, from Ruby.
class TestBeyond < Minitest::Test
  include TestHelper

  TABLES = %w[users orders items carts].freeze
  KEYS = (0...200).to_a + [1 << 63, "abc", "abc".b]

  def setup
    @dir = Dir.mktmpdir("shardrouter-test")
  end

  def teardown
    FileUtils.remove_entry(@dir)
  end

  def path(name = "routes.lkg")
    File.join(@dir, name)
  end

  def doc(shards: 4, tables: TABLES, **kw)
    user_doc(tables: tables, shards: shards, **kw)
  end

  # A Router made with router_opts, serving doc.
  def live(document = doc, **router_opts)
    r = ShardRouter::Router.new(**router_opts)
    r.publish(document)
    r
  end

  def routes(router)
    KEYS.map { |k| router.route("user", "users", k) }
  end

  # --- last-known-good snapshots -------------------------------------------

  def test_snapshot_round_trip
    r = router_with(doc, version: 7)
    assert_same r, r.save_snapshot(path)
    assert_equal({ version: 7, content_hash: r.content_hash }, ShardRouter.verify_snapshot(path))
    assert_equal({ version: 7, content_hash: r.content_hash }, ShardRouter.verify_snapshot(Pathname(path)))

    back = ShardRouter::Router.from_snapshot(Pathname(path), history: 4, fence_cap: 8)
    assert_instance_of ShardRouter::Router, back
    assert_equal 7, back.version
    assert_equal r.content_hash, back.content_hash
    assert_equal routes(r), routes(back)
    assert_equal r.export, back.export
    # The guards run on from there: the version keeps moving forward.
    assert_raises(ShardRouter::RefusedError) { back.publish(doc(shards: 8), version: 7) }
    assert_equal 8, back.publish(doc(shards: 8))
  end

  def test_corrupted_or_truncated_snapshots_are_refused_whole
    r = router_with(doc)
    r.save_snapshot(path)
    good = File.binread(path)
    bad = path("bad.lkg")
    cases = (0...good.bytesize).map { |n| good.byteslice(0, n) } # every truncation
    cases += (0...good.bytesize).map do |i|                      # a flipped bit in every byte
      s = good.dup
      s.setbyte(i, s.getbyte(i) ^ (1 << (i % 8)))
      s
    end
    cases << "#{good} " # extended
    cases.each do |content|
      File.binwrite(bad, content)
      err = assert_raises(ShardRouter::DocumentError, content.inspect[0, 80]) { ShardRouter.verify_snapshot(bad) }
      assert_includes %i[EDOC], err.code, err.message
      refute_empty err.reason
    end
    File.binwrite(bad, good.sub("xxh3=", "xxh3=0"))
    err = assert_raises(ShardRouter::DocumentError) { ShardRouter::Router.from_snapshot(bad) }
    assert_equal :EDOC, err.code
    assert_nil err.path
    assert_equal [], err.notes

    err = assert_raises(ShardRouter::DocumentError) { ShardRouter.verify_snapshot(path("missing.lkg")) }
    assert_equal :ENOTFOUND, err.code
    err = assert_raises(ShardRouter::DocumentError) { ShardRouter.verify_snapshot(@dir) }
    assert_includes %i[EIO EDOC], err.code
    assert_raises(TypeError) { ShardRouter.verify_snapshot(42) }
  end

  def test_save_snapshot_errors
    err = assert_raises(ShardRouter::Error) { ShardRouter::Router.new.save_snapshot(path) }
    assert_equal :ENOTFOUND, err.code
    err = assert_raises(ShardRouter::Error) { router_with(doc).save_snapshot(File.join(@dir, "no", "such", "dir")) }
    assert_equal :EIO, err.code
    refute_nil err.culprit
    refute File.exist?(File.join(@dir, "no"))
  end

  def test_snapshot_path_saves_after_every_accepted_publish_and_rollback
    r = ShardRouter::Router.new(snapshot_path: Pathname(path))
    refute File.exist?(path)
    r.publish(doc)
    assert_equal({ version: 1, content_hash: r.content_hash }, ShardRouter.verify_snapshot(path))
    r.publish(doc(shards: 8))
    assert_equal 2, ShardRouter.verify_snapshot(path)[:version]
    assert_raises(ShardRouter::RefusedError) { r.publish({ "keyspaces" => {} }) }
    assert_equal 2, ShardRouter.verify_snapshot(path)[:version]
    r.rollback
    assert_equal({ version: 1, content_hash: r.content_hash }, ShardRouter.verify_snapshot(path))
    assert_equal 3, r.stats[:snapshots_saved]
    assert_equal 0, r.stats[:snapshots_failed]

    # The incident's second act: the process restarts during the bad period.
    restarted = ShardRouter::Router.from_snapshot(path, snapshot_path: path)
    assert_equal routes(r), routes(restarted)
  end

  def test_a_failed_automatic_snapshot_warns_and_the_publish_stands
    r = ShardRouter::Router.new(snapshot_path: File.join(@dir, "gone", "routes.lkg"))
    _, err = capture_io { assert_equal 1, r.publish(doc) }
    assert_match(/snapshot not saved/, err)
    assert_equal 1, r.version
    assert_equal 1, r.stats[:snapshots_failed]
  end

  # --- quarantine -------------------------------------------------------------

  def test_quarantine_then_approve
    r = router_with(doc)
    before = routes(r)
    assert_nil r.pending
    err = assert_raises(ShardRouter::QuarantinedError) { r.publish(doc(tables: %w[users]), quarantine: true) }
    assert_kind_of ShardRouter::RefusedError, err
    assert_equal :EQUARANTINED, err.code
    assert_equal :ESHRINK, err.guard_code
    assert_equal "user", err.culprit
    assert_equal 3, err.diff.count { |c| c.kind == :table && c.op == :removed }
    assert_equal 1, r.version
    assert_equal before, routes(r)

    p = r.pending
    assert_equal :ESHRINK, p[:code]
    assert_equal "user", p[:culprit]
    refute_empty p[:reason]
    assert_equal 0, p[:version]
    assert_kind_of Integer, p[:content_hash]
    assert_kind_of Time, p[:since]
    assert_equal 3, p[:diff].count { |c| c.kind == :table && c.op == :removed }

    assert_equal 2, r.approve_pending
    assert_nil r.pending
    assert_equal p[:content_hash], r.content_hash
    s = r.stats
    assert_equal 1, s[:quarantined]
    assert_equal 1, s[:approved]
    assert_equal 1, s[:refused_by_code][:ESHRINK]
    err = assert_raises(ShardRouter::Error) { r.approve_pending }
    assert_equal :ENOTFOUND, err.code
  end

  def test_quarantine_then_discard_fences_the_content
    r = live(doc, fence_cap: 8)
    assert_raises(ShardRouter::QuarantinedError) { r.publish({ "keyspaces" => { "user" => {} } }, quarantine: true) }
    hash = r.pending[:content_hash]
    assert_equal :EEMPTY, r.pending[:code]
    assert_equal true, r.discard_pending
    assert_nil r.pending
    assert_equal false, r.discard_pending
    assert_equal 1, r.stats[:discarded]
    assert_equal [[hash, :discarded]], r.fences.map { |f| [f.content_hash, f.origin] }
    assert_raises(ShardRouter::FencedError) { r.publish({ "keyspaces" => { "user" => {} } }, quarantine: true) }
    assert_nil r.pending
  end

  def test_quarantine_is_superseded_by_a_valid_publish_and_skips_other_refusals
    r = router_with(doc)
    assert_raises(ShardRouter::QuarantinedError) { r.publish(doc(tables: %w[users]), quarantine: true) }
    assert_equal 2, r.publish(doc(shards: 8))
    assert_nil r.pending
    assert_equal 1, r.stats[:discarded]
    # A stale version is refused as usual, never kept.
    err = assert_raises(ShardRouter::RefusedError) { r.publish(doc, version: 1, quarantine: true) }
    refute_kind_of ShardRouter::QuarantinedError, err
    assert_equal :EVERSION, err.code
    assert_nil r.pending
  end

  # --- fences ----------------------------------------------------------------

  def test_a_refused_table_pushed_again_under_a_new_version_is_fenced
    r = live(doc, fence_cap: 4)
    small = doc(tables: %w[users])
    err = assert_raises(ShardRouter::RefusedError) { r.publish(small) }
    assert_equal :ESHRINK, err.code
    fence = r.fences.first
    assert_equal 1, r.fences.size
    assert_equal :refused, fence.origin
    assert_equal :ESHRINK, fence.code
    assert_kind_of Time, fence.fenced_at
    assert fence.frozen?

    # Any version, even destructive: refused at once.
    [5, 100, nil].each do |v|
      err = assert_raises(ShardRouter::FencedError) { r.publish(small, version: v, allow_destructive: true) }
      assert_equal :EFENCED, err.code
      assert_kind_of ShardRouter::RefusedError, err
      assert_match(/fenced/, err.reason)
    end
    assert_equal 1, r.version
    assert_equal 1, r.stats[:fences]

    assert_equal true, r.lift_fence(fence.content_hash)
    assert_equal false, r.lift_fence(fence.content_hash)
    assert_equal [], r.fences
    assert_equal 2, r.publish(small, allow_destructive: true)
  end

  def test_rollbacks_and_manual_fences
    r = live(doc, fence_cap: 4)
    r.publish(doc(shards: 8))
    bad = r.content_hash
    r.rollback
    assert_equal [[bad, :rolled_back, 2]], r.fences.map { |f| [f.content_hash, f.origin, f.version] }
    assert_raises(ShardRouter::FencedError) { r.publish(doc(shards: 8)) }
    assert_same r, r.clear_fences
    assert_equal [], r.fences
    assert_equal 3, r.publish(doc(shards: 8))

    assert_same r, r.fence(r.content_hash) # a peer's fence, even on the table in service
    assert_equal [:manual], r.fences.map(&:origin)
    assert_nil r.fences.first.code
    r.publish(doc(shards: 2))
    assert_raises(ShardRouter::FencedError) { r.publish(doc(shards: 8)) }
    assert_raises(ArgumentError) { r.fence(-1) }

    plain = router_with(doc)
    err = assert_raises(ShardRouter::Error) { plain.fence(1) }
    assert_equal :ESTATE, err.code
    assert_equal [], plain.fences
    assert_raises(ArgumentError) { ShardRouter::Router.new(fence_cap: -1) }
  end

  # --- invariants --------------------------------------------------------------

  def test_invariants_refuse_and_accept
    r = router_with(doc)
    specs = ["user sharded", "user shards >= 4", "user tables users,orders", "user.users vindex hash"]
    specs.each { |s| assert_same r, r.add_invariant(s) }
    r.add_invariant("user sharded  # twice: a no-op")
    assert_equal specs, r.invariants
    assert_equal 4, r.stats[:invariants]

    {
      doc(shards: 2) => "user",                                         # shards >= 4
      doc(tables: %w[users items carts]) => "user.orders",              # tables
      doc(vindex: "xxhash") => "user.users",                            # vindex type
      { "keyspaces" => { "user" => { "sharded" => false }, "x" => {} } } => "user" # sharded
    }.each do |bad, culprit|
      err = assert_raises(ShardRouter::InvariantError, bad.inspect[0, 100]) { r.publish(bad, allow_destructive: true) }
      assert_equal :EINVARIANT, err.code
      assert_kind_of ShardRouter::RefusedError, err
      assert_equal culprit, err.culprit
      assert_match(/user/, err.reason)
      assert_equal 1, r.version
    end
    assert_equal 2, r.publish(doc(shards: 8, tables: %w[users orders items]), allow_destructive: true)

    assert_equal true, r.remove_invariant("user   shards >= 4")
    assert_equal false, r.remove_invariant("user shards >= 4")
    assert_equal 3, r.publish(doc(shards: 2, tables: %w[users orders items]))
    assert_equal specs - ["user shards >= 4"], r.invariants

    assert_raises(ArgumentError) { r.add_invariant("user is nice") }
    err = assert_raises(ShardRouter::InvariantError) { r.add_invariant("user shards >= 16") }
    assert_equal :EINVARIANT, err.code
    assert_equal specs - ["user shards >= 4"], r.invariants
    assert_raises(TypeError) { r.add_invariant(nil) }
  end

  # --- shadow evaluation ---------------------------------------------------------

  def sample
    KEYS.map { |k| ["user", :users, k] }
  end

  # What resharding 4 -> 8 does to KEYS, counted by hand.
  def expected_moves(r)
    KEYS.count do |k|
      ksid = ShardRouter.keyspace_id("hash", k)
      r.route("user", "users", k) != (ksid && even_shard(ksid, 8))
    end
  end

  def test_check_returns_the_shadow_verdict
    r = router_with(doc)
    assert_nil r.check(doc(shards: 8)).shadow
    assert_same r, r.set_sample(sample)
    diff = r.check(doc(shards: 8))
    assert_kind_of ShardRouter::Diff, diff
    assert_kind_of Array, diff
    assert diff.frozen?
    refute_empty diff
    v = diff.shadow
    assert_kind_of ShardRouter::ShadowVerdict, v
    assert_equal ["user"], v.keyspaces.map(&:keyspace)
    st = v["user"]
    assert_equal KEYS.size, st.keys
    assert_equal KEYS.size, st.routed
    moved = expected_moves(r)
    assert_operator moved, :>, 0
    assert_equal moved, st.moved
    assert_equal 0, st.unroutable
    assert_equal 0, st.newly_routable
    assert_equal ["", KEYS.size, moved], [v.totals.keyspace, v.totals.keys, v.totals.moved]
    assert_nil v["other"]
    assert_equal 1, r.stats[:shadow_runs]

    # Nothing changed, and an unchanged table moves nothing.
    assert_equal 1, r.version
    assert_equal 0, r.check(doc).shadow["user"].moved

    r.set_sample([])
    assert_nil r.check(doc(shards: 8)).shadow
  end

  def test_shadow_thresholds_refuse_publishes
    r = live(doc, max_shrink: 1.0)
    r.set_sample(sample, max_moved: 0.25)
    err = assert_raises(ShardRouter::ShadowError) { r.publish(doc(shards: 8)) }
    assert_equal :ESHADOW, err.code
    assert_kind_of ShardRouter::RefusedError, err
    assert_equal "user", err.culprit
    assert_equal expected_moves(r), err.shadow["user"].moved
    refute_empty err.diff
    assert_equal 1, r.version
    # check says the same.
    assert_raises(ShardRouter::ShadowError) { r.check(doc(shards: 8)) }
    # The destructive flag overrides it; the verdict is still computed.
    assert_equal 2, r.publish(doc(shards: 8), allow_destructive: true)

    # Dropping the sampled table strands its keys: max_unroutable 0.
    r.set_sample(sample)
    gone = doc(shards: 8, tables: %w[orders items carts])
    err = assert_raises(ShardRouter::ShadowError) { r.publish(gone) }
    assert_equal KEYS.size, err.shadow["user"].unroutable
    err = assert_raises(ShardRouter::QuarantinedError) { r.publish(gone, quarantine: true) }
    assert_equal :ESHADOW, err.guard_code
    assert_equal KEYS.size, err.shadow.totals.unroutable
    assert_equal :ESHADOW, r.pending[:code]
    assert_equal 3, r.approve_pending
  end

  def test_set_sample_arguments
    r = router_with(doc)
    r.set_sample([["user", "users", [1, 2]]]) # multi-column shape: checked at publish
    assert_raises(TypeError) { r.set_sample("user") }
    assert_raises(ArgumentError) { r.set_sample([["user", "users"]]) }
    assert_raises(TypeError) { r.set_sample([[1, "users", 1]]) }
    assert_raises(TypeError) { r.set_sample([["user", "users", 1.5]]) }
    assert_raises(RangeError) { r.set_sample([["user", "users", 1 << 64]]) }
    assert_raises(ArgumentError) { r.set_sample(sample, max_moved: 1.5) }
    assert_raises(ArgumentError) { r.set_sample(sample, max_unroutable: -0.1) }
    assert_raises(TypeError) { r.set_sample(sample, max_moved: "1") }
  end

  # Publishes of a router with snapshot_path and save_snapshot release the
  # GVL while holding the writer lock: threads publishing, checking on a
  # sample, saving, rolling back and routing (and Tables swept by the GC,
  # whose handles need that lock) must neither deadlock nor mix verdicts.
  def test_threads_with_automatic_snapshots
    r = live(doc, snapshot_path: path, history: 4)
    r.set_sample(sample)
    want = { 4 => routes(r), 8 => routes(live(doc(shards: 8))) }
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 1.0
    running = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline }
    wrong = Queue.new
    writers = Array.new(2) do |n|
      Thread.new do
        i = 0
        while running.call
          i += 1
          case (i + n) % 4
          when 0 then r.publish(doc(shards: i.even? ? 4 : 8))
          when 1 then (v = r.check(doc(shards: 8)).shadow) && v["user"].keys == KEYS.size || wrong << "verdict #{v.inspect}"
          when 2 then r.save_snapshot(path("copy-#{n}.lkg"))
          else
            begin
              r.rollback
            rescue ShardRouter::HistoryError
              nil
            end
          end
        end
      end
    end
    readers = Array.new(2) do
      Thread.new do
        while running.call
          got = routes(r) # each lookup may see another table: check each
          got.each_with_index { |g, i| wrong << "#{KEYS[i]} -> #{g}" unless g == want[4][i] || g == want[8][i] }
          r.table("user", "users").route(1) # garbage for the GC to sweep
        end
      end
    end
    (writers + readers).each(&:join)
    assert wrong.empty?, -> { wrong.pop }
    assert_equal({ version: r.version, content_hash: r.content_hash }, ShardRouter.verify_snapshot(path))
    assert_equal 0, r.stats[:snapshots_failed]
    2.times { |n| ShardRouter.verify_snapshot(path("copy-#{n}.lkg")) }
  end

  def test_stats_count_beyond_the_guards
    s = ShardRouter::Router.new.stats
    %i[snapshots_saved snapshots_failed quarantined approved discarded fences invariants shadow_runs].each do |k|
      assert_equal 0, s.fetch(k), k
    end
  end

  def test_version_keyword_uses_librouters_override
    r = ShardRouter::Router.new
    assert_equal 9, r.publish(doc(version: 9), version: 0) # 0: the document's
    assert_equal 12, r.publish(JSON.generate(doc(version: 100)), version: 12)
    assert_equal 13, r.publish(doc(shards: 8))
  end
end
