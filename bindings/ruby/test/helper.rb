# frozen_string_literal: true

require "minitest/autorun"
require "json"
require "shardrouter"

module TestHelper
  # Known-answer vectors and example VSchemas shared with the C suites.
  DATA_DIR = File.expand_path(ENV.fetch("ROUTER_TEST_DATA", File.join(__dir__, "../../../tests/data")))

  def self.json(name)
    JSON.parse(File.read(File.join(DATA_DIR, name)))
  end

  # A SrvVSchema with one sharded keyspace "user" whose tables route by a
  # `vindex` vindex over "id", split in `shards` even shards.
  def user_doc(tables: %w[users], vindex: "hash", shards: 2, version: nil)
    doc = {
      "keyspaces" => {
        "user" => {
          "sharded" => true,
          "shards" => ShardRouter.shard_ranges(shards),
          "vindexes" => { "v" => { "type" => vindex } },
          "tables" => tables.to_h { |t| [t, { "column_vindexes" => [{ "column" => "id", "name" => "v" }] }] }
        }
      }
    }
    doc["version"] = version if version
    doc
  end

  def router_with(doc = user_doc, **opts)
    r = ShardRouter::Router.new
    r.publish(doc, **opts)
    r
  end

  # The shard Vitess picks for `ksid` (bytes) among even `n` shards.
  def even_shard(ksid, n)
    names = ShardRouter.shard_ranges(n)
    names.find do |name|
      lo, hi = name.split("-", -1).map { |h| [h].pack("H*") }
      (lo.empty? || ksid >= lo) && (hi.nil? || hi.empty? || ksid < hi)
    end
  end
end
