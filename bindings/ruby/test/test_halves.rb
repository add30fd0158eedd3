# frozen_string_literal: true

require_relative "helper"

# The lookup halves apart (Router#lookup_query, Router#route_lookup_rows),
# Router#route_prefix, and every vindex type Vitess registers routed
# through the Ruby API with a known answer from tests/data.
class TestHalves < Minitest::Test
  include TestHelper

  SHARDS = %w[-40 40-80 80-c0 c0-].freeze

  DOC = {
    "keyspaces" => { "user" => {
      "sharded" => true, "shards" => SHARDS,
      "vindexes" => {
        "hash" => { "type" => "hash" }, "xx" => { "type" => "xxhash" },
        "email_idx" => { "type" => "lookup", "owner" => "users",
                         "params" => { "table" => "user.email_idx", "from" => "email", "to" => "keyspace_id" } },
        "phone_idx" => { "type" => "lookup_hash_unique", "owner" => "users",
                         "params" => { "table" => "user.phone_idx", "from" => "phone", "to" => "user_id" } },
        "wo_idx" => { "type" => "lookup",
                      "params" => { "table" => "user.wo_idx", "from" => "wo", "to" => "keyspace_id",
                                    "write_only" => "true" } },
        "cfc" => { "type" => "cfc" }
      },
      "tables" => {
        "users" => { "column_vindexes" => [
          { "column" => "id", "name" => "hash" }, { "column" => "name", "name" => "xx" },
          { "column" => "email", "name" => "email_idx" }, { "column" => "phone", "name" => "phone_idx" },
          { "column" => "wo", "name" => "wo_idx" }
        ] },
        "names" => { "column_vindexes" => [{ "column" => "k", "name" => "cfc" }] }
      }
    } }
  }.freeze

  def router
    r = ShardRouter::Router.new
    r.publish(DOC)
    r
  end

  def test_lookup_query_says_what_vtgate_would_ask
    q = router.lookup_query("user", "users", "email", "a@b.c")
    assert_equal "select email, keyspace_id from user.email_idx where email in ::email", q[:sql]
    assert_equal "lookup", q[:vindex_type]
    assert_equal "a@b.c", q[:bind]
    assert_equal ["user.email_idx", "email", "keyspace_id", " for update"], q.values_at(:table, :from, :to, :lock_suffix)
    assert_equal [false, false, false, 1], q.values_at(:batched, :unique, :no_query, :version)
    q = router.lookup_query("user", "users", "phone", 5_551_234)
    assert_equal [true, true], q.values_at(:batched, :unique)
    assert router.lookup_query("user", "users", "wo", 1)[:no_query]
  end

  def test_the_rows_half_gives_what_route_column_gives
    r = router
    rows = [["a@b.c", "\x10".b], ["a@b.c", "\x90\x01".b], ["a@b.c", "\x11".b]]
    assert_equal %w[-40 80-c0], r.route_lookup_rows("user", "users", "email", "a@b.c", rows)
    assert_equal r.route_column("user", "users", "email", "a@b.c") { rows },
                 r.route_lookup_rows("user", "users", "email", "a@b.c", rows)
    assert_equal [], r.route_lookup_rows("user", "users", "email", "x", [])
    # lookup_hash*: `to` is hashed; a batched query's rows match by from.
    assert_equal [r.route("user", "users", 1)],
                 r.route_lookup_rows("user", "users", "phone", 5_551_234, [[5_551_234, 1], [99, 2]])
    e = assert_raises(ShardRouter::InvalidError) do
      r.route_lookup_rows("user", "users", "phone", 5_551_234, [[5_551_234, 1], [5_551_234, 2]])
    end
    assert_match(/unexpected multiple/, e.message)
    # write_only: every shard; computed vindexes ignore the rows.
    assert_equal SHARDS, r.route_lookup_rows("user", "users", "wo", 1, [])
    assert_equal [r.route_ksid("user", ShardRouter.keyspace_id("xxhash", "alice"))],
                 r.route_lookup_rows("user", "users", "name", "alice", [[1, 2]])
  end

  def test_the_halves_refuse_what_they_cannot_answer
    r = router
    assert_raises(ShardRouter::InvalidError) { r.lookup_query("user", "users", "name", "alice") }
    assert_raises(ShardRouter::NotFoundError) { r.lookup_query("user", "users", "nope", 1) }
    e = assert_raises(ShardRouter::NotFoundError) { ShardRouter::Router.new.lookup_query("user", "users", "email", "a") }
    assert_match(/nothing is published/, e.message)
    assert_raises(TypeError) { r.lookup_query("user", "users", "email", %w[a b]) }
    assert_raises(ArgumentError) { r.route_lookup_rows("user", "users", "email", "a", [1]) }
    assert_raises(ArgumentError) { r.route_lookup_rows("user", "users", "email", "a", [[1, 2, 3]]) }
    assert_raises(TypeError) { r.route_lookup_rows("user", "users", "email", "a", 5) }
  end

  def test_route_prefix_gives_the_shards_of_the_key_range
    r = router
    assert_equal ["40-80"], r.route_prefix("user", "names", "A%")
    assert_equal "40-80", r.route("user", "names", "Azz".b)
    assert_equal SHARDS, r.route_prefix("user", "names", "%")
    assert_equal ["40-80"], r.route_prefix("user", "names", "\x7f%".b)
    assert_equal ["c0-"], r.route_prefix("user", "names", "\xff%".b)
    e = assert_raises(ShardRouter::NoRouteError) { r.route_prefix("user", "users", "A%") }
    assert_match(/cfc/, e.message)
    assert_raises(ShardRouter::NotFoundError) { r.route_prefix("user", "nope", "A%") }
    assert_raises(TypeError) { r.route_prefix("user", "names", 5) }
  end

  def test_route_prefix_with_many_shards_returns_them_all
    shards = ShardRouter.shard_ranges(64)
    r = ShardRouter::Router.new
    r.publish({ "keyspaces" => { "user" => {
                "sharded" => true, "shards" => shards, "vindexes" => { "cfc" => { "type" => "cfc" } },
                "tables" => { "names" => { "column_vindexes" => [{ "column" => "k", "name" => "cfc" }] } }
              } } })
    assert_equal shards, r.route_prefix("user", "names", "%")
  end

  def test_a_keyspace_in_error_answers_with_vitess_error
    ks = lambda do |type|
      { "sharded" => true, "shards" => SHARDS, "vindexes" => { "h" => { "type" => type } },
        "tables" => { "t" => { "column_vindexes" => [{ "column" => "id", "name" => "h" }] } } }
    end
    r = ShardRouter::Router.new
    _, err = capture_io { r.publish({ "keyspaces" => { "good" => ks.call("hash"), "bad" => ks.call("nosuch") } }) }
    assert_match(/nosuch/, err)
    assert_equal r.route_ksid("good", ShardRouter.keyspace_id("hash", 1)), r.route("good", "t", 1)
    e = assert_raises(ShardRouter::NoRouteError) { r.route("bad", "t", 1) }
    assert_equal :EKEYSPACE, e.code
    assert_match(/keyspace bad is invalid/, e.message)
  end

  # ---- every type, one known answer each --------------------------------

  ALL_TYPES = %w[binary binary_md5 cfc consistent_lookup consistent_lookup_unique hash lookup lookup_hash
                 lookup_hash_unique lookup_unicodeloosemd5_hash lookup_unicodeloosemd5_hash_unique lookup_unique
                 multicol null numeric numeric_static_map region_experimental region_json reverse_bits
                 unicode_loose_md5 unicode_loose_xxhash xxhash].freeze

  def self.wire(v)
    t = v["type"].downcase
    return nil if %w[null null_type].include?(t)

    ShardRouter::Value.new(t, [v["hex"]].pack("H*"))
  end

  def self.typed(text, kind, hex = nil)
    return nil if kind == "null"

    ShardRouter::Value.new(kind, hex ? [hex].pack("H*") : text)
  end

  # type => [params, value, rows or nil, the expected keyspace IDs (hex)]
  def self.cases
    out = {}
    TestHelper.json("vectors.json")["vindex"].each do |e|
      next if e["expect"] != "ksid" || out.key?(e["type"])
      next if e["params"]&.key?("json_path")

      value = if e["input_kind"].is_a?(Array)
                e["input"].zip(e["input_kind"]).map { |t, k| typed(t, k) }
              else
                typed(e["input"], e["input_kind"], e["input_hex"])
              end
      out[e["type"]] = [e["params"], value, nil, [e["ksid_hex"]]]
    end
    e = TestHelper.json("vectors_multicol.json")["map"].find { |x| x["expect"] == "ksid" }
    out["multicol"] = [e["params"], e["input"].zip(e["input_kind"]).map { |t, k| typed(t, k) }, nil, [e["ksid_hex"]]]
    e = TestHelper.json("vectors_cfc.json")["cfc"].find { |x| x["api"] == "Map" && x["expected"] }
    out["cfc"] = [e["params"], wire(e["ids"][0]), nil, [e["expected"][0]["ksid_hex"]]]
    e = TestHelper.json("vectors_region_json.json")["region_json"][0]
    params = { "region_bytes" => e["params"]["region_bytes"], "region_map_json" => JSON.generate(e["region_map_contents"]) }
    out["region_json"] = [params, e["rows"][0].map { |v| wire(v) }, nil, [e["expected"][0]["ksid_hex"]]]
    TestHelper.json("vectors_lookup.json")["lookup"].each do |x|
      t = x["vindex_type"]
      next if x["api"] != "Map" || out.key?(t) || !x["expected"] || !x["mock"]

      # The first id that answers (a batched query's rows match by the
      # text of from, so every row of the mock can be given).
      i = x["expected"].index { |d| d["dest"] != "None" }
      next unless i

      rows = x["mock"]["select_result_rows"] || x["mock"]["results"][0]
      ksids = x["expected"][i]["ksids_hex"] || [x["expected"][i]["ksid_hex"]]
      out[t] = [x["params"], wire(x["ids"][i]), rows.map { |f, to| [wire(f), wire(to)] }, ksids]
    end
    # lookup_unicodeloosemd5_hash_unique has no Map test in Vitess: the
    # non-unique one's vector, answered by its first matching row only.
    params, value, rows, ksids = out["lookup_unicodeloosemd5_hash"]
    out["lookup_unicodeloosemd5_hash_unique"] = [params, value, rows[0, 1], ksids[0, 1]]
    TestHelper.json("vectors_unicode_loose.json")["unicode_loose"].each do |u|
      next unless u["api"] == "Map" && u["expected"][0]["dest"] == "KeyspaceID"

      out[u["vindex_type"]] ||= [u["params"], wire(u["ids"][0]), nil, [u["expected"][0]["ksid_hex"]]]
    end
    out
  end

  CASES = cases.freeze

  def shard_of(ksid_hex)
    k = [ksid_hex].pack("H*").sub(/\0+\z/, "")
    SHARDS.find do |name|
      lo, hi = name.split("-", -1).map { |h| [h].pack("H*") }
      (lo.empty? || k >= lo) && (hi.nil? || hi.empty? || k < hi)
    end
  end

  def test_every_registered_type_has_a_vector
    assert_equal ALL_TYPES.sort, CASES.keys.sort
  end

  def type_doc(vtype, params, ncols)
    cols = Array.new(ncols) { |i| "c#{i}" }
    v = { "type" => vtype }
    v["params"] = params if params
    cv = ncols == 1 ? { "column" => cols[0] } : { "columns" => cols }
    cv["name"] = "v"
    if vtype.include?("lookup")
      # A lookup is a secondary vindex (Vitess wants a unique primary).
      vindexes = { "v" => v, "h" => { "type" => "hash" } }
      cvs = [{ "column" => "id", "name" => "h" }, cv]
    else
      vindexes = { "v" => v }
      cvs = [cv]
    end
    [{ "keyspaces" => { "user" => { "sharded" => true, "shards" => SHARDS, "vindexes" => vindexes,
                                    "tables" => { "t" => { "column_vindexes" => cvs } } } } }, cols.join(",")]
  end

  ALL_TYPES.each do |vtype|
    define_method("test_#{vtype}_routes_with_its_known_answer") do
      params, value, rows, ksids = CASES.fetch(vtype)
      doc, cols = type_doc(vtype, params, value.is_a?(Array) ? value.size : 1)
      r = ShardRouter::Router.new
      r.publish(doc)
      want = ksids.map { |k| shard_of(k) }.uniq
      if vtype.include?("lookup")
        assert_equal want, r.route_lookup_rows("user", "t", cols, value, rows)
        assert_equal want, r.route_column("user", "t", cols, value) { rows }
        assert_equal vtype, r.lookup_query("user", "t", cols, value)[:vindex_type]
      else
        assert_equal 1, want.size
        assert_equal want[0], r.route("user", "t", value)
        assert_equal want[0], r.table("user", "t").route(value)
        assert_equal want, r.route_column("user", "t", cols, value)
        assert_equal want, r.route_lookup_rows("user", "t", cols, value, [])
      end
    end
  end
end
