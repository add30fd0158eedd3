# frozen_string_literal: true

require_relative "helper"
require "stringio"
require "tmpdir"
require "pathname"

# NUL bytes and IO objects at every entry point (issue 15, defect 14).
#
# Names (keyspace, table, vindex type, params, invariant, shard names,
# paths) can never hold a NUL: Vitess refuses them, librouter's JSON loader
# refuses them, and C reads a NUL-terminated name only up to it. So every
# entry point refuses one up front with ArgumentError, "<argument> contains
# a NUL byte", the same text as the Python binding's ValueError
# (bindings/python/tests/test_nul.py), and nothing changes. Values are
# bytes and may hold NUL. An IO is read, never reopened by its path.
class TestNul < Minitest::Test
  include TestHelper

  def setup
    doc = user_doc
    doc["keyspaces"]["main"] = { "sharded" => false }
    @r = router_with(doc)
  end

  def refused(what)
    err = assert_raises(ArgumentError) { yield }
    assert_equal "#{what} contains a NUL byte", err.message
  end

  def test_lookups_refuse_a_nul_in_a_name
    calls = {
      "keyspace" => [-> { @r.route("u\0", "users", 1) }, -> { @r.route("user\0", "users", 1) },
                     -> { @r.route(:"user\0", "users", 1) }, -> { @r.route_ksid("user\0", "\x01".b) },
                     -> { @r.route_many("user\0", "users", [1]) }, -> { @r.table("user\0", "users") },
                     -> { @r.export(keyspace: "user\0") }],
      # an unsharded keyspace routes every table name: these did
      "table" => [-> { @r.route("user", "users\0", 1) }, -> { @r.route("main", "t\0", 1) },
                  -> { @r.route_many("main", "t\0", [1]) }, -> { @r.table("user", "users\0") }]
    }
    calls.each do |what, list|
      list.each do |call|
        refused(what) { call.call }
        refused(what) { call.call } # the handle cache kept nothing
      end
    end
    assert_equal "-80", @r.route("user", "users", 1)
  end

  def test_error_text_never_shows_a_cut_name
    # The defect: "u\0" gave "keyspace u not found".
    err = assert_raises(ArgumentError) { @r.route("u\0", "users", 1) }
    refute_includes err.message, "keyspace u not found"
  end

  def test_keyspace_id_refuses_a_nul_in_the_type_and_params
    refused("vindex type") { ShardRouter.keyspace_id("hash\0", 1) }
    refused("vindex type") { ShardRouter.keyspace_id(:"\0hash", 1) }
    refused("param name") { ShardRouter.keyspace_id("hash", 1, { "a\0" => "b" }) }
    refused("param value") { ShardRouter.keyspace_id("hash", 1, { "a" => "b\0" }) }
    # values are bytes: a NUL inside is data
    assert_equal ShardRouter.keyspace_id("xxhash", "a\0b".b), ShardRouter.keyspace_id("xxhash", "a\0b")
  end

  def test_set_sample_refuses_a_nul_name_and_keeps_the_old_sample
    @r.set_sample([["user", "users", 1]])
    [[["user\0", "users", 1], "keyspace"], [["user", "users\0", 1], "table"],
     [["main", "t\0", 1], "table"]].each do |key, what|
      refused(what) { @r.set_sample([["user", "users", 2], key]) }
    end
    diff = @r.check(user_doc(shards: 4), allow_destructive: true)
    assert_equal 1, diff.shadow["user"].keys # the old sample stays
  end

  def test_documents_options_and_invariants_refuse_nul
    refused("keyspace") { ShardRouter::Router.new.publish(user_doc["keyspaces"]["user"], keyspace: "us\0er") }
    refused("shards keyspace") { ShardRouter::Router.new.publish(user_doc, shards: { "u\0" => 2 }) }
    refused("shard name") { ShardRouter::Router.new.publish(user_doc, shards: { "user" => ["-80\0", "80-"] }) }
    refused("invariant") { @r.add_invariant("user\0sharded") }
    refused("invariant") { @r.remove_invariant("user\0sharded") }
    assert_equal [], @r.invariants
    # the JSON text itself may hold anything; the parser judges it
    assert_raises(ShardRouter::DocumentError) { ShardRouter::Router.new.publish("#{JSON.generate(user_doc)}\0") }
  end

  def test_paths_refuse_nul
    Dir.mktmpdir do |dir|
      bad = "#{dir}/a\0b"
      refused("path") { @r.publish(bad) }
      refused("path") { @r.check(bad) }
      refused("path") { @r.save_snapshot(bad) }
      refused("path") { ShardRouter::Router.from_snapshot(bad) }
      refused("path") { ShardRouter.verify_snapshot(bad) }
      refused("snapshot_path") { ShardRouter::Router.new(snapshot_path: bad) }
      assert_equal [], Dir.children(dir)
    end
  end

  def test_an_io_is_read_never_reopened_by_its_path
    Dir.mktmpdir do |dir|
      path = File.join(dir, "doc.json")
      File.write(path, JSON.generate(user_doc(version: 7)))
      r = ShardRouter::Router.new
      f = File.open(path)
      assert_equal 7, r.publish(f)
      f.close
      # The defect: a closed File was re-read by its path (here: version 8).
      File.write(path, JSON.generate(user_doc(version: 8)))
      %i[publish check].each do |m|
        err = assert_raises(IOError) { r.public_send(m, f) }
        assert_equal "closed stream", err.message
      end
      assert_equal 7, r.version
      # an open File is read from where it stands, not by path
      File.open(path) do |g|
        File.unlink(path)
        assert_equal 8, r.publish(g)
      end
      assert_equal 9, r.publish(StringIO.new(JSON.generate(user_doc(version: 9))))
      # a Pathname is a path
      File.write(path, JSON.generate(user_doc(version: 10)))
      assert_equal 10, r.publish(Pathname.new(path))
    end
  end

  def test_path_arguments_take_paths_not_io
    Dir.mktmpdir do |dir|
      path = File.join(dir, "lkg")
      @r.save_snapshot(Pathname.new(path)) # a Pathname is a path everywhere
      assert_equal @r.version, ShardRouter.verify_snapshot(Pathname.new(path))[:version]
      f = File.open(path)
      f.close
      [-> { @r.save_snapshot(f) }, -> { ShardRouter.verify_snapshot(f) },
       -> { ShardRouter::Router.from_snapshot(f) }, -> { ShardRouter::Router.new(snapshot_path: f) }].each do |call|
        err = assert_raises(TypeError) { call.call }
        assert_equal "a path is a String or Pathname, not File", err.message
      end
    end
  end
end
