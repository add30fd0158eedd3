# frozen_string_literal: true

# ShardRouter::Follower against a real etcd on loopback (Debian's
# /usr/bin/etcd, a dependency of make test-ruby): one etcd for this file
# on ports the kernel says are free, a temporary data directory, killed at
# exit. Values are written with etcd's JSON gateway (/v3/kv/put, base64).
# The Vitess cell is laid out from tests/data/topo/ (SrvVSchema,
# SrvKeyspace; the CellInfo is encoded here: two string fields), one cell
# per test.
require_relative "helper"
require "base64"
require "net/http"
require "socket"
require "tmpdir"
require "fileutils"

module EtcdServer
  BIN = "/usr/bin/etcd"

  def self.free_port
    s = TCPServer.new("127.0.0.1", 0)
    s.addr[1]
  ensure
    s&.close
  end

  def self.start
    raise "no #{BIN}: apt-get install etcd-server (make deps-ruby)" unless File.executable?(BIN)

    @dir = Dir.mktmpdir("sr-etcd-")
    5.times do
      cp = free_port
      pp = free_port
      @endpoint = "http://127.0.0.1:#{cp}"
      peer = "http://127.0.0.1:#{pp}"
      log = File.join(@dir, "etcd.log")
      @pid = Process.spawn(BIN, "--name", "default", "--data-dir", File.join(@dir, "data"),
                           "--listen-client-urls", @endpoint, "--advertise-client-urls", @endpoint,
                           "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                           "--initial-cluster", "default=#{peer}", "--log-level", "warn",
                           %i[out err] => [log, "a"])
      t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      while Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0 < 15
        break if Process.waitpid(@pid, Process::WNOHANG)

        begin
          call("/v3/kv/range", { key: b64("/") })
          at_exit { stop }
          return @endpoint
        rescue SystemCallError, IOError
          sleep 0.05
        end
      end
      begin
        Process.kill(:KILL, @pid)
        Process.wait(@pid)
      rescue Errno::ESRCH, Errno::ECHILD
        nil
      end
    end
    raise "etcd did not start (log in #{@dir})"
  end

  def self.stop
    Process.kill(:KILL, @pid)
    Process.wait(@pid)
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  ensure
    FileUtils.rm_rf(@dir)
  end

  def self.endpoint
    @endpoint ||= start
  end

  def self.b64(s)
    Base64.strict_encode64(s)
  end

  def self.call(path, body)
    uri = URI(@endpoint + path)
    res = Net::HTTP.post(uri, JSON.generate(body), "Content-Type" => "application/json")
    JSON.parse(res.body)
  end

  # The revision of the write.
  def self.put(key, value)
    endpoint
    Integer(call("/v3/kv/put", { key: b64(key), value: b64(value) })["header"]["revision"])
  end

  def self.get(key)
    endpoint
    kvs = call("/v3/kv/range", { key: b64(key) })["kvs"] || []
    kvs.empty? ? nil : Base64.decode64(kvs[0]["value"])
  end
end

class TestFollower < Minitest::Test
  include TestHelper

  TOPO = File.join(TestHelper::DATA_DIR, "topo")

  def setup
    skip "built without the follower" unless ShardRouter::Follower::AVAILABLE
    @etcd = EtcdServer.endpoint
  end

  def fixture(name)
    File.binread(File.join(TOPO, name))
  end

  # topodata.CellInfo{server_address = 1, root = 2}
  def cellinfo(root, address = "127.0.0.1:2379")
    [address, root].each_with_index.map { |s, i| [((i + 1) << 3) | 2, s.bytesize].pack("CC") + s.b }.join
  end

  def lay_out_cell(cell)
    root = "/vitess/#{cell}"
    EtcdServer.put("/vitess/global/cells/#{cell}/CellInfo", cellinfo(root))
    EtcdServer.put("#{root}/keyspaces/commerce/SrvKeyspace", fixture("srvks_commerce.bin"))
    EtcdServer.put("#{root}/keyspaces/customer/SrvKeyspace", fixture("srvks_customer.bin"))
    EtcdServer.put("#{root}/SrvVSchema", fixture("srv_vschema.bin"))
  end

  def vitess_follower(router, cell, **kw, &block)
    ShardRouter::Follower.new(router, endpoints: @etcd, source: :vitess, cell: cell,
                                      cell_endpoints: @etcd, debounce_ms: 20, backoff_min_ms: 50,
                                      backoff_max_ms: 500, **kw, &block)
  end

  def wait_for(timeout = 10)
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    until yield
      return false if Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0 > timeout

      sleep 0.02
    end
    true
  end

  def customer_shards(router)
    (0...200).map { |k| router.route("customer", "customer", k) }.uniq.sort
  end

  # ---- the document source -------------------------------------------------

  def test_document_key_is_followed_and_routed
    r = ShardRouter::Router.new
    events = Queue.new
    rev = EtcdServer.put("/rb1/doc", JSON.generate(user_doc))
    f = ShardRouter::Follower.new(r, endpoints: [@etcd], key: "/rb1/doc", instance: "m1") { |e| events << e }
    assert_equal "m1", f.instance_id
    assert_equal "/rb1/doc/status/m1", f.status_key
    f.start
    assert f.wait(rev, 10)
    assert_equal "80-", r.route("user", "users", 29_999)
    assert wait_for { f.status[:state] == :following }
    s = f.status
    assert_equal 1, s[:accepted]
    assert_equal rev, s[:revision_applied]
    assert_nil s[:refusal]
    # No latent watch for a document.
    assert_equal 0, s[:latent]
    assert_nil s[:latent_finding]
    assert_equal 0, s[:latent_revision]
    assert_nil s[:latent_key]
    ev = nil
    assert(wait_for { (ev = events.pop(true) rescue nil) && ev.kind == :verdict || (ev = nil) })
    assert_equal 0, ev.code
    assert_nil ev.name
    assert_equal rev, ev.revision
    rev = EtcdServer.put("/rb1/doc", JSON.generate(user_doc(shards: 4)))
    assert f.wait(rev, 10)
    assert_includes ShardRouter.shard_ranges(4), r.route("user", "users", 29_999)
    assert wait_for { EtcdServer.get(f.status_key) }
  ensure
    f&.close
  end

  def test_document_empty_vschema_is_refused_and_routing_goes_on
    r = ShardRouter::Router.new
    events = []
    lock = Mutex.new
    good = EtcdServer.put("/rb2/doc", JSON.generate(user_doc))
    ShardRouter::Follower.open(r, endpoints: @etcd, key: "/rb2/doc",
                                  on_event: ->(e) { lock.synchronize { events << e } }) do |f|
      assert f.wait(good, 10)
      version = r.version
      bad = EtcdServer.put("/rb2/doc", JSON.generate({ "keyspaces" => {} }))
      assert f.wait(bad, 10)
      s = f.status
      assert_equal 1, s[:refused]
      assert_equal bad, s[:revision_refused]
      assert_operator s[:refusal][:code], :<, 0
      assert_kind_of Symbol, s[:refusal][:name]
      assert_equal version, r.version
      assert_equal "80-", r.route("user", "users", 29_999)
      assert(wait_for { lock.synchronize { events.any? { |e| e.kind == :verdict && e.code != 0 } } })
      e = lock.synchronize { events.find { |x| x.kind == :verdict && x.code != 0 } }
      assert_equal bad, e.revision
      refute_empty e.reason
    end
  end

  # ---- the Vitess source ---------------------------------------------------

  def test_vitess_cell_is_followed_and_routed
    r = ShardRouter::Router.new
    rev = lay_out_cell("zrb1")
    f = vitess_follower(r, "zrb1", instance: "rb")
    assert_equal "/librouter/status/vitess/zrb1/rb", f.status_key
    f.start
    assert f.wait(rev, 10)
    assert_equal rev, r.version
    assert_equal %w[-80 80-], customer_shards(r)
    assert_equal "0", r.route("commerce", "product", 1)
  ensure
    f&.close
  end

  def test_vitess_incident_srvvschema_is_refused_and_routing_goes_on
    r = ShardRouter::Router.new
    refusals = Queue.new
    good = lay_out_cell("zrb2")
    f = vitess_follower(r, "zrb2") { |e| refusals << e if e.kind == :verdict && e.code != 0 }
    f.start
    assert f.wait(good, 10)
    bad = EtcdServer.put("/vitess/zrb2/SrvVSchema", fixture("srv_vschema_incident.bin"))
    assert f.wait(bad, 10)
    s = f.status
    assert_equal 1, s[:refused]
    assert_equal bad, s[:revision_refused]
    assert_includes s[:refusal][:reason], "/vitess/zrb2/SrvVSchema"
    assert_includes s[:refusal][:culprit] + s[:refusal][:reason], "customer"
    assert_equal good, r.version
    assert_equal %w[-80 80-], customer_shards(r)
    ev = nil
    assert(wait_for { (ev = (refusals.pop(true) rescue nil)) })
    assert_equal bad, ev.revision
    fixed = EtcdServer.put("/vitess/zrb2/SrvVSchema", fixture("srv_vschema.bin"))
    assert f.wait(fixed, 10)
    assert_equal fixed, r.version
  ensure
    f&.close
  end

  GV_CUSTOMER = "/vitess/global/keyspaces/customer/VSchema"
  GV_COMMERCE = "/vitess/global/keyspaces/commerce/VSchema"

  # The empty global VSchema (the January 2026 incident, before any
  # rebuild) is latent: #status names its key and revision while the
  # table in service is untouched, and the good value clears it.
  def test_vitess_latent_poison_shows_in_status
    r = ShardRouter::Router.new
    latent = Queue.new
    EtcdServer.put(GV_COMMERCE, fixture("keyspace_commerce.bin"))
    EtcdServer.put(GV_CUSTOMER, fixture("keyspace_customer.bin"))
    good = lay_out_cell("zrb4")
    f = vitess_follower(r, "zrb4") { |e| latent << e if e.kind == :latent }
    f.start
    assert f.wait(good, 10)
    sleep 0.3
    assert_equal 0, f.status[:latent]
    bad = EtcdServer.put(GV_CUSTOMER, fixture("empty.bin"))
    assert(wait_for { f.status[:latent] == 1 })
    s = f.status
    assert_equal GV_CUSTOMER, s[:latent_key]
    assert_equal bad, s[:latent_revision]
    assert_equal(-9, s[:latent_finding][:code]) # ROUTER_ECOVERAGE
    assert_equal :ECOVERAGE, s[:latent_finding][:name]
    assert_equal GV_CUSTOMER, s[:latent_finding][:culprit]
    assert_includes s[:latent_finding][:reason], GV_CUSTOMER
    assert_equal good, s[:version]
    assert_equal 0, s[:refused]
    assert_equal %w[-80 80-], customer_shards(r)
    ev = nil
    assert(wait_for { (ev = (latent.pop(true) rescue nil)) })
    assert_equal bad, ev.revision
    # The good value again: cleared.
    fixed = EtcdServer.put(GV_CUSTOMER, fixture("keyspace_customer.bin"))
    assert(wait_for { f.status[:latent_revision] == fixed })
    s = f.status
    assert_equal 0, s[:latent]
    assert_equal GV_CUSTOMER, s[:latent_key]
    assert_equal 0, s[:latent_finding][:code]
    assert_nil s[:latent_finding][:name]
    assert_includes s[:latent_finding][:reason], "cleared"
    assert_equal good, r.version
  ensure
    f&.close
    # The global keys are shared by every cell of this file.
    EtcdServer.put(GV_CUSTOMER, fixture("keyspace_customer.bin"))
  end

  def test_vitess_resharding_is_followed_per_tablet_type
    primary = ShardRouter::Router.new
    replica = ShardRouter::Router.new
    rev = lay_out_cell("zrb3")
    fp = vitess_follower(primary, "zrb3", instance: "p").start
    fr = vitess_follower(replica, "zrb3", instance: "r", tablet_type: :replica).start
    assert fp.wait(rev, 10)
    assert fr.wait(rev, 10)
    ks = "/vitess/zrb3/keyspaces/customer/SrvKeyspace"
    mid = EtcdServer.put(ks, fixture("srvks_customer_resharding.bin"))
    assert fp.wait(mid, 10)
    assert fr.wait(mid, 10)
    assert_equal %w[-80 80-], customer_shards(primary)
    assert_equal ShardRouter.shard_ranges(4).sort, customer_shards(replica)
    done = EtcdServer.put(ks, fixture("srvks_customer_4.bin"))
    assert fp.wait(done, 10)
    assert_equal ShardRouter.shard_ranges(4).sort, customer_shards(primary)
  ensure
    fp&.close
    fr&.close
  end

  # ---- the object ----------------------------------------------------------

  def test_options_are_checked
    r = ShardRouter::Router.new
    assert_raises(ShardRouter::InvalidError) { ShardRouter::Follower.new(r, endpoints: "ftp://x", key: "/k") }
    assert_raises(ShardRouter::InvalidError) { ShardRouter::Follower.new(r, endpoints: @etcd) }
    assert_raises(ShardRouter::InvalidError) do
      ShardRouter::Follower.new(r, endpoints: @etcd, source: :vitess, cell: "c", tablet_type: "bogus")
    end
    assert_raises(ArgumentError) { ShardRouter::Follower.new(r, endpoints: @etcd, key: "/k", source: :zk) }
    assert_raises(TypeError) { ShardRouter::Follower.new(Object.new, endpoints: @etcd, key: "/k") }
    assert_raises(ArgumentError) { ShardRouter::Follower.new(r, key: "/k") }
  end

  def test_tls_and_auth_options_reach_librouter
    r = ShardRouter::Router.new
    # librouter's own checks, so the options were passed through.
    e = assert_raises(ShardRouter::InvalidError) do
      ShardRouter::Follower.new(r, endpoints: "https://127.0.0.1:1", key: "/k", tls_cert_file: "c.pem")
    end
    assert_match(/tls_key_file/, e.message)
    e = assert_raises(ShardRouter::InvalidError) do
      ShardRouter::Follower.new(r, endpoints: @etcd, key: "/k", tls_ca_file: "ca.pem")
    end
    assert_match(/https/, e.message)
    e = assert_raises(ShardRouter::InvalidError) { ShardRouter::Follower.new(r, endpoints: @etcd, key: "/k", username: "root") }
    assert_match(/password/, e.message)
    f = ShardRouter::Follower.new(r, endpoints: "https://127.0.0.1:1", key: "/k", tls_ca_file: "ca.pem",
                                     tls_cert_file: "c.pem", tls_key_file: "k.pem", username: "root", password: "pw")
    f.close
  end

  def test_start_twice_raises_and_close_is_final
    f = ShardRouter::Follower.new(ShardRouter::Router.new, endpoints: @etcd, key: "/rb3/doc")
    f.start
    assert f.started?
    assert_raises(ShardRouter::InvalidError) { f.start }
    f.stop
    f.stop
    f.start
    f.close
    f.close
    refute f.started?
    assert_raises(ShardRouter::InvalidError) { f.status }
    assert_raises(ShardRouter::InvalidError) { f.start }
  end

  def test_stop_from_the_block_and_a_raising_block_do_not_kill_the_thread
    r = ShardRouter::Router.new
    seen = Queue.new
    rev = EtcdServer.put("/rb4/doc", JSON.generate(user_doc))
    f = nil
    f = ShardRouter::Follower.new(r, endpoints: @etcd, key: "/rb4/doc") do |e|
      seen << e.kind
      next unless e.kind == :verdict

      f.stop
      raise "ignored: warned"
    end
    _, err = capture_io do
      f.start
      assert(wait_for { !f.started? })
    end
    assert_match(/on_event raised RuntimeError/, err)
    assert_equal "80-", r.route("user", "users", 29_999)
    assert_equal rev, f.status[:revision_seen]
  ensure
    f&.close
  end

  def test_the_router_outlives_a_follower_that_is_collected
    rev = EtcdServer.put("/rb5/doc", JSON.generate(user_doc))
    router = nil
    # Both unreachable at once: the follower's reference keeps the C
    # router until the follower is freed (and stopped).
    Thread.new do
      r = ShardRouter::Router.new
      f = ShardRouter::Follower.new(r, endpoints: @etcd, key: "/rb5/doc") { |_| nil }
      f.start
      assert f.wait(rev, 10)
      router = f.router
      nil
    end.join
    assert_equal "80-", router.route("user", "users", 29_999)
    router = nil
    4.times { GC.start }
    r2 = ShardRouter::Router.new
    f2 = ShardRouter::Follower.new(r2, endpoints: @etcd, key: "/rb5/doc").start
    assert f2.wait(rev, 10)
    f2.close
  end

  def test_a_forked_child_does_not_use_the_parents_follower
    f = ShardRouter::Follower.new(ShardRouter::Router.new, endpoints: @etcd, key: "/rb6/doc").start
    pid = fork do
      code = begin
        f.status
        1
      rescue ShardRouter::InvalidError => e
        e.message.include?("fork") ? 0 : 2
      end
      exit!(code)
    end
    _, st = Process.wait2(pid)
    assert_equal 0, st.exitstatus
    assert_includes %i[connecting following], f.status[:state]
  ensure
    f&.close
  end

  def test_the_snapshot_routes_while_etcd_is_unreachable
    Dir.mktmpdir do |dir|
      snap = File.join(dir, "lkg.snapshot")
      rev = EtcdServer.put("/rb7/doc", JSON.generate(user_doc))
      ShardRouter::Follower.open(ShardRouter::Router.new, endpoints: @etcd, key: "/rb7/doc", snapshot: snap) do |f|
        assert f.wait(rev, 10)
        assert wait_for { File.exist?(snap) }
      end
      r = ShardRouter::Router.new
      events = Queue.new
      f = ShardRouter::Follower.new(r, endpoints: "http://127.0.0.1:1", key: "/rb7/doc", snapshot: snap) { |e| events << e }
      f.start
      assert_equal "80-", r.route("user", "users", 29_999)
      assert f.status[:from_snapshot]
      ev = nil
      assert(wait_for { (ev = (events.pop(true) rescue nil)) && ev.kind == :snapshot })
      assert_equal 0, ev.code
      f.close
    end
  end

  def test_numeric_options_are_range_checked
    r = ShardRouter::Router.new
    %i[lease_ttl backoff_min_ms request_timeout_ms debounce_ms].each do |kw|
      assert_raises(ArgumentError) { ShardRouter::Follower.new(r, endpoints: @etcd, key: "/k", kw => -1) }
      assert_raises(ArgumentError) { ShardRouter::Follower.new(r, endpoints: @etcd, key: "/k", kw => 2**32) }
    end
  end
end
