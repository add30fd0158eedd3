# frozen_string_literal: true

require_relative "helper"
require "tmpdir"

# Known-answer vectors from tests/data (transcribed from Vitess's own
# tests), run through the Ruby API: ShardRouter.keyspace_id for vindexes,
# Router#route_ksid for shard resolution, ShardRouter.shard_ranges for
# GenerateShardRanges.  Vectors the Ruby API cannot express are counted
# and must be the ones listed here.
class TestVectors < Minitest::Test
  include TestHelper

  VECTORS = TestHelper.json("vectors.json")
  MULTICOL = TestHelper.json("vectors_multicol.json")
  REGION_JSON = TestHelper.json("vectors_region_json.json")

  # A Ruby value for a vector input of a given SQL kind (a FLOAT64 is
  # given by its text: ShardRouter::Value; Floats are refused).
  def value_for(input, kind, hex)
    case kind
    when "null" then nil
    when "int64", "int32", "uint64" then Integer(input, 10)
    when "varchar" then (hex ? [hex].pack("H*") : input.b).force_encoding(Encoding::UTF_8)
    when "varbinary" then hex ? [hex].pack("H*") : input.b
    when "float64" then ShardRouter::Value.new("float64", input)
    else flunk "unknown input_kind #{kind}"
    end
  end

  def values_for(e)
    if e["input_kind"].is_a?(Array)
      e["input"].each_index.map do |i|
        value_for(e["input"][i], e["input_kind"][i], e["input_hex"].is_a?(Array) ? e["input_hex"][i] : nil)
      end
    else
      value_for(e["input"], e["input_kind"], e["input_hex"])
    end
  end

  # json_path params point at a copy under tests/data ("testdata/x.json
  # (content: {...})" in the file).
  def params_for(e)
    return nil unless e["params"]

    e["params"].to_h do |k, v|
      v = File.join(DATA_DIR, File.basename(v.split(" ").first)) if k == "json_path"
      [k, v]
    end
  end

  def test_vindex_vectors_match_vitess
    ran = ksids = nones = loose = 0
    VECTORS["vindex"].each_with_index do |e, i|
      ctx = "vindex[#{i}] #{e['type']} #{e['input'].inspect} (#{e['input_kind']})"
      value = values_for(e)
      ran += 1
      loose += 1 if e["type"].start_with?("unicode_loose_")
      got = ShardRouter.keyspace_id(e["type"], value, params_for(e))
      case e["expect"]
      when "ksid"
        refute_nil got, ctx
        assert_equal e["ksid_hex"], got.unpack1("H*"), ctx
        assert_equal Encoding::BINARY, got.encoding
        ksids += 1
      when "none", "error"
        # "error" vectors are Vitess's Verify(); Map() turns the same
        # conversion failure into DestinationNone.
        assert_nil got, ctx
        nones += 1
      else
        flunk "#{ctx}: unknown expect #{e['expect']}"
      end
    end
    # Every vector runs: FLOAT64 ones through ShardRouter::Value, the
    # unicode_loose_* ones through the core's collation key.
    assert_equal VECTORS["vindex"].size, ran
    assert_equal ran, ksids + nones
    assert_operator ksids, :>=, 120
    assert_operator nones, :>=, 10
    assert_equal 22, loose
  end

  def test_reverse_map_outputs_map_forward
    n = 0
    VECTORS["reverse_map"].each do |e|
      next if e["error"] || e["output"].nil?

      value = value_for(e["output"], e["output_kind"], nil)

      assert_equal e["ksid_hex"], ShardRouter.keyspace_id(e["type"], value, params_for(e)).unpack1("H*"), e.inspect
      n += 1
    end
    assert_operator n, :>=, 10
  end

  def test_multicol_vectors_match_vitess
    n = 0
    MULTICOL["map"].each do |e|
      next if e["expect"] == "keyrange" # partial column lists: not a lookup

      got = ShardRouter.keyspace_id("multicol", values_for(e), params_for(e))
      if e["expect"] == "ksid"
        assert_equal e["ksid_hex"], got&.unpack1("H*"), e.inspect
      else
        assert_nil got, e.inspect
      end
      n += 1
    end
    assert_equal 14, n
  end

  def test_multicol_create_vectors
    MULTICOL["create"].each do |e|
      count = Integer((e["params"] || {})["column_count"] || "1", exception: false) || 1
      values = Array.new(count.clamp(1, 8), 1)
      if e["expect"] == "ok"
        begin
          ShardRouter.keyspace_id("multicol", values, e["params"])
        rescue ShardRouter::NoRouteError => err # created; a column is not computed in process (numeric_static_map)
          assert_equal :EUNSUPPORTED, err.code, e["name"]
        end
      else
        err = assert_raises(ArgumentError, e["name"]) { ShardRouter.keyspace_id("multicol", values, e["params"]) }
        assert_includes err.message, e["error"], e["name"]
      end
    end
  end

  # Shard resolution: each vector's partition published as keyspace "ks",
  # then Router#route_ksid.  Empty and gapped partitions are refused when
  # the document is loaded, as Vitess refuses to resolve against them.
  def test_shard_for_ksid_vectors_resolve_like_vtgate
    ok = refused = 0
    VECTORS["shard_for_ksid"].each do |e|
      sharded = e["shards"] != ["0"]
      doc = { "keyspaces" => { "ks" => { "sharded" => sharded, "shards" => e["shards"] } } }
      ksid = [e["ksid_hex"]].pack("H*")
      if e["error"]
        err = assert_raises(ShardRouter::DocumentError, e.inspect) { router_with(doc) }
        assert_includes %i[EDOC ECOVERAGE], err.code
        refused += 1
      else
        assert_equal e["shard"], router_with(doc).route_ksid("ks", ksid), e.inspect
        ok += 1
      end
    end
    assert_equal 2, refused
    assert_equal VECTORS["shard_for_ksid"].size - 2, ok
  end

  def test_generate_shard_ranges_vectors
    VECTORS["generate_shard_ranges"].each do |e|
      next if e["hex_chars"] # newer Vitess only: a second argument

      if e["error"]
        assert_raises(ArgumentError) { ShardRouter.shard_ranges(e["shards"]) }
      else
        assert_equal e["ranges"], ShardRouter.shard_ranges(e["shards"])
      end
    end
  end

  # The same keyspace IDs reached through a published table and a handle.
  def test_routes_agree_with_keyspace_ids
    r = router_with(user_doc(shards: 8))
    t = r.table("user", "users")
    VECTORS["vindex"].select { |e| e["type"] == "hash" && e["expect"] == "ksid" }.each do |e|
      v = values_for(e)
      want = even_shard(ShardRouter.keyspace_id("hash", v), 8)
      assert_equal want, r.route("user", "users", v), e.inspect
      assert_equal want, t.route(v), e.inspect
      assert_equal [want], t.route_many([v]), e.inspect
      assert_equal want, r.route_ksid("user", ShardRouter.keyspace_id("hash", v))
    end
  end
  # region_json's Map vectors with two columns (id, region): the map in a
  # file named by region_map, read when the vindex is created.
  def test_region_json_map_vectors
    n = 0
    Dir.mktmpdir do |dir|
      REGION_JSON["region_json"].each do |e|
        next unless e["api"] == "Map" && e["rows"][0].size == 2
        path = File.join(dir, "map.json")
        File.write(path, JSON.generate(e["region_map_contents"]))
        params = { "region_map" => path, "region_bytes" => e["params"]["region_bytes"] }
        row = e["rows"][0].map do |v|
          text = [v["hex"]].pack("H*")
          case v["type"]
          when "NULL_TYPE" then nil
          when /INT/ then Integer(text, 10)
          else text
          end
        end
        want = e["expected"][0]
        got = ShardRouter.keyspace_id("region_json", row, params)
        if want["dest"] == "None"
          assert_nil got, e["source"]
        else
          assert_equal want["ksid_hex"], got.unpack1("H*"), e["source"]
        end
        n += 1
      end
    end
    assert_equal 27, n
  end

  def test_cfc_keyspace_ids
    assert_equal "abc", ShardRouter.keyspace_id("cfc", "abc".b)
    md5 = { "hash" => "md5", "offsets" => "[3,5]" }
    assert_equal "202cb96c8399c5e0", ShardRouter.keyspace_id("cfc", "12345567".b, md5).unpack1("H*")
    err = assert_raises(ArgumentError) { ShardRouter.keyspace_id("cfc", "123".b, md5) }
    assert_includes err.message, "insufficient size for cfc vindex cfc. need 5, got 3"
  end
end
