# frozen_string_literal: true

require_relative "helper"

# Threads (Puma), fork (Unicorn, Puma cluster mode) and Ractors.
class TestConcurrency < Minitest::Test
  include TestHelper

  TABLES = %w[users orders items carts].freeze
  KEYS = Array.new(20_000) { |i| (i * 2_654_435_761) % (1 << 62) } # > NOGVL_BATCH_MIN

  def doc(shards)
    user_doc(tables: TABLES, shards: shards)
  end

  # Every answer must be the 4-shard or the 8-shard one, and a batch must
  # come whole from one table.
  def test_threads_route_during_publishes_and_rollbacks
    r = router_with(doc(4))
    want4 = KEYS.map { |k| r.route("user", "users", k) }
    want8 = router_with(doc(8)).table("user", "users").route_many(KEYS)
    deadline = now + 2.0
    counts = Hash.new(0)
    wrong = Queue.new
    readers = Array.new(3) do |n|
      Thread.new do
        t = r.table("user", "users")
        ops = 0
        while now < deadline
          if n.zero?
            got = t.route_many(KEYS) # without the GVL: truly parallel to publishes
            wrong << "a batch mixed two tables" unless got == want4 || got == want8
          else
            i = rand(KEYS.size)
            a = n == 1 ? r.route("user", "users", KEYS[i]) : t.route(KEYS[i])
            wrong << "key #{KEYS[i]} -> #{a}" unless a == want4[i] || a == want8[i]
          end
          ops += 1
        end
        ops
      end
    end
    writer = Thread.new do
      shards = 4
      while now < deadline
        shards = shards == 4 ? 8 : 4
        r.publish(doc(shards))
        counts[:published] += 1
        begin
          r.publish(user_doc(tables: %w[users], shards: shards)) # drops 3 of 4 tables
        rescue ShardRouter::RefusedError
          counts[:refused] += 1
        end
        if (counts[:published] % 3).zero?
          r.rollback
          counts[:rollbacks] += 1
        end
        Thread.pass
      end
    end
    ops = readers.map(&:value)
    writer.join
    assert(ops.all?(&:positive?), ops.inspect)
    assert_empty Array.new(wrong.size) { wrong.pop }.uniq.first(5)
    assert_operator counts[:published], :>=, 3 # the GVL hands the writer ~10 slices/s
    assert_equal counts[:published], counts[:refused]
    assert_equal counts[:refused], r.stats[:refused]
  end

  def test_tables_opened_and_dropped_by_many_threads
    r = router_with(doc(4))
    want = r.route("user", "orders", 77)
    threads = Array.new(4) do
      Thread.new do
        200.times do
          t = r.table("user", "orders")
          assert_equal want, t.route(77)
          assert_equal [want], r.route_many("user", "orders", [77])
        end
      end
    end
    threads.each(&:join)
    GC.start
    assert_equal want, r.route("user", "orders", 77)
  end

  def test_forked_child_routes_and_publishes
    r = router_with(doc(4))
    t = r.table("user", "users")
    want = t.route(1)
    status = in_child do
      raise "route" unless t.route(1) == want && r.route("user", "users", 1) == want

      r.publish(doc(8))
      raise "publish" unless r.version == 2 && t.route(1) == router_with(doc(8)).route("user", "users", 1)

      r.rollback
      raise "rollback" unless r.version == 1 && t.route(1) == want
      raise "batch" unless t.route_many(KEYS).size == KEYS.size
    end
    assert_predicate status, :success?
    assert_equal 1, r.version # the parent is untouched
  end

  # A parent thread is inside a read section (a GVL-free batch) when the
  # process forks: the child must still be able to publish (librouter
  # resets the inherited reader records in its atfork handler).
  def test_fork_while_another_thread_is_routing
    r = router_with(doc(4))
    t = r.table("user", "users")
    stop = false
    busy = Thread.new { t.route_many(KEYS) until stop }
    5.times do |i|
      status = in_child do
        r.publish(doc(i.even? ? 8 : 2))
        r.publish(doc(4))
        t.route_many(KEYS)
      end
      assert_predicate status, :success?, "child #{i}"
    end
  ensure
    stop = true
    busy&.join
  end

  def test_ractors_make_and_use_their_own_routers
    skip "no Ractor" unless defined?(Ractor)
    json = JSON.generate(doc(4)).freeze
    want = router_with(json).route("user", "users", 5)
    old = Warning[:experimental]
    Warning[:experimental] = false
    ractors = Array.new(2) do
      Ractor.new(json) do |j|
        r = ShardRouter::Router.new
        r.publish(j, shards: { "user" => 4 })
        [r.route("user", "users", 5), r.table("user", "users").route_many([5, 5])]
      end
    end
    ractors.each do |rc|
      one, many = rc.take
      assert_equal want, one
      assert_predicate one, :frozen?
      assert_equal [want, want], many
    end
  ensure
    Warning[:experimental] = old unless old.nil?
  end

  private

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # Run the block in a forked child (exit 0 when it returns, 1 when it
  # raises); kill it after 30 s: a child stuck in a grace period would hang.
  def in_child(&blk)
    pid = fork do
      blk.call
      exit!(0)
    rescue Exception => e # rubocop:disable Lint/RescueException
      warn "child: #{e.class}: #{e.message}"
      exit!(1)
    end
    deadline = now + 30
    loop do
      _, status = Process.waitpid2(pid, Process::WNOHANG)
      return status if status

      if now > deadline
        Process.kill(:KILL, pid)
        Process.waitpid(pid)
        flunk "forked child hung"
      end
      sleep 0.01
    end
  end
end
