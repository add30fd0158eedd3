# frozen_string_literal: true

require_relative "helper"

# The example VSchemas of tests/data/examples (from Vitess's repository and
# docs), published as a Rails app would: from their file, naming the
# keyspace of single-keyspace documents and supplying sharded keyspaces'
# shards.  Each either routes or is refused the way Vitess would refuse it.
class TestExamples < Minitest::Test
  include TestHelper

  # countries.json is region_json_sharded's region map, not a VSchema.
  EXAMPLES = Dir[File.join(TestHelper::DATA_DIR, "examples", "*.json")]
             .reject { |f| File.basename(f) == "countries.json" }.sort.freeze

  # name => [keyspace in the document (nil: a map of keyspaces), shards,
  #          expected outcome: :ok or the DocumentError code]
  EXPECT = {
    "commerce_initial" => ["commerce", nil, :ok],
    "commerce_seq" => ["commerce", nil, :ok],
    "compose_lookup_keyspace" => ["lookup_keyspace", 2, :ok],
    "compose_test_keyspace" => ["test_keyspace", 4, :ok],
    "customer_sharded" => ["customer", 4, :ok],
    "demo_user" => ["user", 2, :ok], # lookup tables raise NoRouteError (ENEEDSLOOKUP)
    "multicol_region" => ["customer", 8, :ok],
    "region_json_sharded" => ["customer", 2, :ok],
    "vtexplain_sample" => [nil, { "ks1" => 2 }, :ok]
  }.freeze

  def test_every_example_is_covered
    refute_empty EXAMPLES
    assert_equal EXPECT.keys.sort, EXAMPLES.map { |f| File.basename(f, ".json") }.sort
  end

  EXAMPLES.each do |path|
    name = File.basename(path, ".json")
    define_method("test_example_#{name}") { run_example(path, name) }
  end

  def run_example(path, name)
    ks, shards, outcome = EXPECT.fetch(name)
    opts = {}
    opts[:keyspace] = ks if ks
    opts[:shards] = shards.is_a?(Hash) ? shards : { ks => shards } if shards
    r = ShardRouter::Router.new
    if outcome != :ok
      err = assert_raises(ShardRouter::DocumentError) { r.publish(path, **opts) }
      assert_equal outcome, err.code
      refute_nil err.culprit
      return
    end
    assert_equal 1, r.publish(path, **opts)
    doc = JSON.parse(File.read(path))
    tables = ks ? doc.fetch("tables", {}) : doc.values.first.fetch("tables", {})
    keyspace = ks || doc.keys.first
    shard_names = r.export(keyspace: keyspace).then { |j| JSON.parse(j)["shards"] }
    tables.each do |table, spec|
      cvs = spec["column_vindexes"] || spec["columnVindexes"] || []
      ncols = cvs.empty? ? 1 : (cvs.first["columns"] || [cvs.first["column"]]).size
      key = ncols == 1 ? 12_345 : Array.new(ncols) { |i| i + 1 }
      key = [1, "United States"] if name == "region_json_sharded" # (id, country)
      begin
        shard = r.route(keyspace, table, key)
        assert_includes shard_names, shard, "#{name}: #{table}"
        assert_equal shard, r.table(keyspace, table).route(key)
      rescue ShardRouter::NoRouteError => e
        # Lookups need a database.
        assert_includes %i[ENEEDSLOOKUP], e.code, "#{name}: #{table}"
      end
    end
    # The document librouter writes back gives the same content.
    assert_equal r.content_hash, router_with(r.export).content_hash
  end
end
