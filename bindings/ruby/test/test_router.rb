# frozen_string_literal: true

require_relative "helper"
require "pathname"
require "tempfile"

# Router: publish, check, rollback, history, stats, export, lookups.
class TestRouter < Minitest::Test
  include TestHelper

  def test_new_router_has_nothing_in_service
    r = ShardRouter::Router.new
    assert_equal 0, r.version
    assert_equal 0, r.content_hash
    assert_empty r.history
    assert_nil r.export
    err = assert_raises(ShardRouter::NoRouteError) { r.route("user", "users", 1) }
    assert_equal :ENOTFOUND, err.code
    assert_equal(-3, err.status)
  end

  def test_publish_accepts_hash_string_path_pathname_and_io
    doc = user_doc
    json = JSON.generate(doc)
    Tempfile.create(["vschema", ".json"]) do |f|
      f.write(json)
      f.flush
      [doc, json, "\n  #{json}", f.path, Pathname(f.path), StringIO.new(json)].each_with_index do |d, i|
        r = ShardRouter::Router.new
        assert_equal 1, r.publish(d), "form #{i}"
        assert_equal "-80", r.route("user", "users", 1), "form #{i}"
      end
    end
  end

  def test_publish_returns_and_assigns_next_versions
    r = ShardRouter::Router.new
    assert_equal 1, r.publish(user_doc)
    assert_equal 2, r.publish(user_doc(shards: 4))
    assert_equal 10, r.publish(user_doc(shards: 2), version: 10)
    assert_equal 10, r.version
    assert_equal 11, r.publish(user_doc(shards: 4, version: 11))
    assert_equal [1, 2, 10, 11], r.history.map(&:version)
    assert_equal [false, false, false, true], r.history.map(&:in_service)
    assert_kind_of Time, r.history.last.accepted_at
  end

  def test_version_keyword_overrides_every_document_form
    json = JSON.generate(user_doc(version: 3))
    Tempfile.create(["vschema", ".json"]) do |f|
      f.write(json)
      f.flush
      r = ShardRouter::Router.new
      assert_equal 5, r.publish(json, version: 5)
      assert_equal 6, r.publish(f.path, version: 6)
      assert_equal 7, r.publish(user_doc(version: 100), version: 7)
      assert_equal 8, r.publish({ version: 100 }.merge(user_doc), version: 8)
      assert_equal (1 << 64) - 2, r.publish(user_doc, version: (1 << 64) - 2)
    end
  end

  def test_single_keyspace_document_needs_its_name
    ks = { "sharded" => true, "vindexes" => { "h" => { "type" => "hash" } },
           "tables" => { "t" => { "column_vindexes" => [{ "column" => "id", "name" => "h" }] } } }
    err = assert_raises(ShardRouter::DocumentError) { router_with(ks, shards: { "ks" => 2 }) }
    assert_equal :EDOC, err.code
    r = router_with(ks, keyspace: "ks", shards: { "ks" => %w[-80 80-] })
    assert_equal "-80", r.route("ks", "t", 1)
    r = router_with(ks, keyspace: :ks, shards: { ks: 4 })
    assert_equal "-40", r.route("ks", "t", 1)
  end

  def test_route_types_follow_vitess_semantics
    r = router_with(user_doc(vindex: "numeric", shards: 2))
    assert_equal "-80", r.route("user", "users", 1)
    assert_equal "80-", r.route("user", "users", 1 << 63)           # uint64
    assert_equal "80-", r.route("user", "users", (1 << 64) - 1)     # uint64 max
    assert_nil r.route("user", "users", -1)                         # numeric: negative int64 -> none
    assert_nil r.route("user", "users", -(1 << 63))                 # int64 min, a Bignum
    assert_equal "-80", r.route("user", "users", "42")              # VARCHAR parsed as a number
    assert_nil r.route("user", "users", nil)                        # NULL
    assert_equal "-80", r.route(:user, :users, 7)                   # Symbols for names
    x = router_with(user_doc(vindex: "xxhash", shards: 16))
    # VARCHAR and VARBINARY with the same bytes hash the same through xxhash.
    assert_equal x.route("user", "users", "abc"), x.route("user", "users", "abc".b)
    assert_equal even_shard(ShardRouter.keyspace_id("xxhash", "abc"), 16), x.route("user", "users", "abc")
    assert_equal even_shard(ShardRouter.keyspace_id("xxhash", 12), 16), x.route("user", "users", 12)
  end

  def test_binary_strings_are_varbinary_and_others_varchar
    # hash parses text: VARCHAR "1" and VARBINARY "1" both map like 1.
    assert_equal ShardRouter.keyspace_id("hash", 1), ShardRouter.keyspace_id("hash", "1")
    assert_equal ShardRouter.keyspace_id("hash", 1), ShardRouter.keyspace_id("hash", "1".b)
    # binary keeps the bytes whatever the encoding.
    assert_equal "\xC3\xA9".b, ShardRouter.keyspace_id("binary", "é")
    assert_equal "\xE9".b, ShardRouter.keyspace_id("binary", "é".encode("ISO-8859-1"))
  end

  def test_results_are_frozen_shared_and_allocate_nothing
    r = router_with(user_doc(shards: 4))
    t = r.table("user", "users")
    a = r.route("user", "users", 1)
    assert_predicate a, :frozen?
    assert_equal Encoding::UTF_8, a.encoding
    assert_same a, r.route("user", "users", 1)
    assert_same a, t.route(1)
    assert_same a, t.route_many([1]).first
    ks = "user"
    tb = "users"
    r.route(ks, tb, 2)
    t.route(3)
    before = GC.stat(:total_allocated_objects)
    1000.times do |i|
      r.route(ks, tb, i)
      t.route(i)
    end
    assert_operator GC.stat(:total_allocated_objects) - before, :<=, 2
  end

  def test_multicolumn_keys_are_arrays
    doc = { "keyspaces" => { "ks" => {
      "sharded" => true, "shards" => ShardRouter.shard_ranges(4),
      "vindexes" => { "mc" => { "type" => "multicol",
                                "params" => { "column_count" => "2", "column_bytes" => "1,7", "column_vindex" => "binary,hash" } } },
      "tables" => { "t" => { "column_vindexes" => [{ "columns" => %w[country id], "name" => "mc" }] } }
    } } }
    r = router_with(doc)
    ksid = ShardRouter.keyspace_id("multicol", ["\x81".b, 7], doc["keyspaces"]["ks"]["vindexes"]["mc"]["params"])
    assert_equal "\x81".b, ksid[0]
    assert_equal "80-c0", r.route("ks", "t", ["\x81".b, 7])
    assert_equal "80-c0", r.table("ks", "t").route(["\x81".b, 7])
    assert_equal %w[80-c0 -40], r.route_many("ks", "t", [["\x81".b, 7], ["\x01".b, 7]])
    assert_equal "80-c0", r.route_ksid("ks", ksid)
    assert_raises(ArgumentError) { r.route("ks", "t", 7) } # one value for two columns
  end

  def test_unsharded_keyspaces_route_every_table_to_shard_zero
    r = router_with({ "keyspaces" => { "main" => { "tables" => { "a" => {} } } } })
    assert_equal "0", r.route("main", "a", 1)
    assert_equal "0", r.route("main", "not_declared", "x")
  end

  def test_handles_survive_publishes_and_report_missing_tables
    r = router_with(user_doc(tables: %w[users orders], shards: 2))
    t = r.table("user", "orders")
    later = r.table("user", "later")
    assert_equal "user", t.keyspace
    assert_equal "orders", t.name
    assert_same r, t.router
    assert_equal "-80", t.route(1)
    r.publish(user_doc(tables: %w[users orders later], shards: 4))
    assert_equal "-40", t.route(1)
    assert_equal "-40", later.route(1)
    r.publish(user_doc(tables: %w[users orders], shards: 4), allow_destructive: true)
    err = assert_raises(ShardRouter::NoRouteError) { later.route(1) }
    assert_equal :ENOTFOUND, err.code
    assert_raises(ShardRouter::NoRouteError) { later.route_many([1, 2]) }
    r.rollback
    assert_equal "-40", later.route(1)
    assert_match(/ShardRouter::Table user.later/, later.inspect)
  end

  def test_route_many_batches_and_mixed_values
    r = router_with(user_doc(vindex: "numeric", shards: 4))
    t = r.table("user", "users")
    assert_equal [], t.route_many([])
    ints = (0...50_000).map { |i| i * 0x0000_5000_0000_0000 % (1 << 63) }
    want = ints.map { |i| t.route(i) }
    assert_equal want, t.route_many(ints) # past NOGVL_BATCH_MIN
    assert_equal want, r.route_many("user", "users", ints)
    mixed = [1, "2", nil, 1 << 63, -1, "3".b]
    assert_equal mixed.map { |v| t.route(v) }, t.route_many(mixed)
    assert_equal [nil, "80-c0"], t.route_many([-1, 1 << 63]) # int64 and uint64 together
    assert_equal %w[80-c0 c0-], t.route_many([1 << 63, (1 << 64) - 1])
    assert_operator ShardRouter::NOGVL_BATCH_MIN, :<, ints.size
  end

  def test_route_many_by_name_for_many_tables_across_publishes
    names = Array.new(12) { |i| "t#{i}" }
    r = router_with(user_doc(tables: names, vindex: "numeric", shards: 2))
    2.times do
      names.each { |n| assert_equal ["-80", "80-", nil], r.route_many("user", n, [1, 1 << 63, -1]) }
    end
    r.publish(user_doc(tables: names, vindex: "numeric", shards: 4))
    names.each { |n| assert_equal ["-40", "80-c0"], r.route_many("user", n, [1, 1 << 63]) }
    assert_raises(ShardRouter::NoRouteError) { r.route_many("user", "nope", [1]) }
    assert_raises(ArgumentError) { r.route_many("user", "x" * 129, [1]) }
  end

  # Router#route goes through a cached handle (found by the argument
  # objects when they are frozen Strings or Symbols): the same answers and
  # errors as Table#route, for every kind of name argument, past the cache's
  # size, across publishes and a compacting GC.
  def test_route_by_names_agrees_with_tables_for_every_kind_of_name
    names = Array.new(12) { |i| "t#{i}" }
    r = router_with(user_doc(tables: names, vindex: "numeric", shards: 4))
    keys = [0, 1, 1 << 62, (1 << 63) - 1, -1, 1 << 63]
    check = lambda do
      names.each do |n|
        t = r.table("user", n)
        want = keys.map { |k| t.route(k) }
        [n, n.to_sym, n.dup, +n, n.dup.freeze].each do |arg|
          assert_equal want, keys.map { |k| r.route("user", arg, k) }, arg.inspect
          assert_equal want, keys.map { |k| r.route(:user, arg, k) }, arg.inspect
        end
      end
    end
    check.call
    GC.compact if GC.respond_to?(:compact)
    check.call
    r.publish(user_doc(tables: names, vindex: "numeric", shards: 2))
    check.call
    mutable = +"t1"
    assert_equal r.route("user", "t1", 1), r.route("user", mutable, 1)
    mutable.replace("nope")
    err = assert_raises(ShardRouter::NoRouteError) { r.route("user", mutable, 1) }
    assert_equal :ENOTFOUND, err.code
    r.publish(user_doc(tables: %w[t0], vindex: "numeric", shards: 2), allow_destructive: true)
    err = assert_raises(ShardRouter::NoRouteError) { r.route("user", "t1", 1) }
    assert_equal :ENOTFOUND, err.code
    assert_equal "-80", r.route("user", "t0", 1)
  end

  def test_check_returns_the_diff_and_changes_nothing
    r = router_with(user_doc(tables: %w[a b]))
    diff = r.check(user_doc(tables: %w[a b c]))
    assert_equal 1, r.version
    assert_equal [[:table, :added, "user", "c"]], diff.map { |c| [c.kind, c.op, c.keyspace, c.name] }
    assert_predicate diff, :frozen?
    assert_equal 1, r.stats[:checks]
    assert_equal 1, r.stats[:accepted]
  end

  def test_rollback_and_rollback_to
    r = ShardRouter::Router.new(history: 3)
    4.times { |i| r.publish(user_doc(shards: 1 << i)) }
    assert_equal [2, 3, 4], r.history.map(&:version)
    assert_equal 3, r.rollback
    assert_equal "-40", r.route("user", "users", 1)
    assert_equal 2, r.rollback(1)
    assert_equal 4, r.rollback_to(4)
    err = assert_raises(ShardRouter::HistoryError) { r.rollback(3) }
    assert_equal :ENOHISTORY, err.code
    assert_raises(ShardRouter::HistoryError) { r.rollback_to(1) }
    assert_equal 4, r.version
    assert_equal 3, r.stats[:rollbacks]
    # A rollback is not a way around the version guard.
    err = assert_raises(ShardRouter::RefusedError) { r.publish(user_doc, version: 3) }
    assert_equal :EVERSION, err.code
  end

  def test_stats_count_refusals_by_code
    r = router_with(user_doc(tables: %w[a b c d]))
    assert_raises(ShardRouter::RefusedError) { r.publish(user_doc(tables: %w[a])) }
    assert_raises(ShardRouter::RefusedError) { r.publish(user_doc, version: 1) }
    s = r.stats
    assert_equal 1, s[:accepted]
    assert_equal 2, s[:refused]
    assert_equal({ ESHRINK: 1, EVERSION: 1 }, s[:refused_by_code])
    assert_equal 1, s[:version]
    assert_equal r.content_hash, s[:content_hash]
    assert_equal 1, s[:history_len]
    assert_equal 2, s[:shard_names]
  end

  def test_export_round_trips_to_the_same_content
    r = router_with(user_doc(tables: %w[users orders], shards: 4))
    json = r.export
    assert_equal Encoding::UTF_8, json.encoding
    assert_equal 1, JSON.parse(json)["version"]
    again = router_with(json)
    assert_equal r.content_hash, again.content_hash
    assert_equal 1, again.version
    ks = r.export(keyspace: "user", compact: true)
    refute_includes ks, "\n"
    assert_equal r.content_hash, router_with(ks, keyspace: "user").content_hash
    refute_includes r.export(vitess: true), "shards"
    err = assert_raises(ShardRouter::Error) { r.export(keyspace: "nope") }
    assert_equal :ENOTFOUND, err.code
  end

  def test_document_errors_carry_the_json_path
    r = ShardRouter::Router.new
    bad = user_doc
    bad["keyspaces"]["user"]["tables"]["users"]["column_vindexes"][0]["name"] = "missing"
    # One keyspace's VSchema (what ApplyVSchema builds) is refused.
    err = assert_raises(ShardRouter::DocumentError) { r.publish(bad["keyspaces"]["user"], keyspace: "user") }
    assert_equal :EREFERENCE, err.code
    assert_includes err.path, "column_vindexes"
    refute_empty err.notes
    assert(err.notes.all? { |n| n.is_a?(ShardRouter::Note) })
    err = assert_raises(ShardRouter::DocumentError) { r.publish("{\n  \"keyspaces\": {\n    \"a\": [}\n}") }
    assert_equal :EDOC, err.code
    assert_equal 3, err.line
    refute_nil err.column
    err = assert_raises(ShardRouter::DocumentError) { r.publish({ "keyspaces" => { "user" => { "sharded" => "yes" } } }) }
    assert_equal "keyspaces.user.sharded", err.path
    err = assert_raises(ShardRouter::DocumentError) { r.publish("/nonexistent/vschema.json") }
    assert_equal :EIO, err.code
    assert_equal "/nonexistent/vschema.json", err.culprit
    assert_equal 0, r.version
  end

  def test_unknown_fields_warn_or_fail_in_strict_mode
    doc = user_doc
    doc["keyspaces"]["user"]["tabels"] = {}
    r = ShardRouter::Router.new
    _, stderr = capture_io { r.publish(doc) }
    assert_match(/tabels/, stderr)
    err = assert_raises(ShardRouter::DocumentError) { ShardRouter::Router.new.publish(doc, strict: true) }
    assert_match(/tabels/, err.path)
  end

  def test_uninitialized_and_copied_routers
    r = ShardRouter::Router.allocate
    assert_raises(ShardRouter::Error) { r.route("a", "b", 1) }
    assert_raises(ShardRouter::Error) { r.version }
    assert_match(/uninitialized/, r.inspect)
    live = ShardRouter::Router.new
    assert_raises(ShardRouter::Error) { live.send(:initialize) }
    assert_raises(TypeError) { live.dup }
    assert_raises(TypeError) { live.clone }
    assert_raises(NoMethodError) { ShardRouter::Table.new }
    assert_raises(TypeError) { Marshal.dump(live) }
  end

  def test_error_hierarchy
    [ShardRouter::RefusedError, ShardRouter::DocumentError, ShardRouter::NoRouteError, ShardRouter::HistoryError].each do |k|
      assert_operator k, :<, ShardRouter::Error
    end
    # Error is a module (docs/errors.md): Module#< compares ancestries and a
    # module has no superclass, so `ShardRouter::Error < StandardError` is
    # nil. What it stood for: every class that includes Error is a
    # StandardError, and `rescue StandardError` catches them all.
    assert_instance_of Module, ShardRouter::Error
    classes = ShardRouter.constants.map { |c| ShardRouter.const_get(c) }
                         .select { |k| k.is_a?(Class) && k < ShardRouter::Error }
    assert_operator classes.size, :>=, 11
    classes.each { |k| assert_operator k, :<, StandardError }
  end

  # Handles and Routers dropped in any order, in one GC cycle or apart.
  def test_objects_are_freed_in_any_order
    200.times do |i|
      r = router_with(user_doc)
      tables = Array.new(3) { |j| r.table("user", "t#{j}") }
      r = nil if i.even?
      tables.clear if i.odd?
      GC.start if (i % 50).zero?
    end
    GC.start
    GC.compact if GC.respond_to?(:compact)
    r = router_with(user_doc)
    assert_equal "-80", r.table("user", "users").route(1)
  end
end
