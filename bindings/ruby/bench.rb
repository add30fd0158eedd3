# frozen_string_literal: true

# ShardRouter benchmark: what a lookup costs a Ruby caller, next to the
# cost of calling a C method that does nothing with the same arguments.
#
#   ruby [--yjit] -I lib -I <build>/lib bench.rb [--rounds N] [--chunk N] [--check]
#
# Method (docs/measuring.md): absolute times on these VMs move by
# 15-40% between runs, paired ratios by 1-3%.  So every scheme runs in short
# chunks, alternated in one thread, round after round; a round gives each
# scheme's ns per call net of the empty timing loop, and the ratio to its
# floor in the same round; we print medians over rounds (and the spread of
# the ratios: min..max).
#
# Floors: Router#_noop_route(ks, table, key) and Table#_noop_route(key) are
# private C methods of the extension with the arity of #route and doing
# nothing.  Every loop calls with an implicit receiver inside instance_exec,
# the real method and its floor alike, so the call sites are identical.
#
# --check exits 1 when a target is missed (issue 20): what the binding adds
# to a call (the call - its no-op floor - the C lookup, timed chained) at
# most the floor itself, for Router#route and Table#route.  (It replaced
# Router#route <= 1.5x and Table#route <= 1.1x the floor, which a lookup
# that alone costs more than a no-op call cannot meet.)
require "shardrouter"

rounds = 61
chunk = 10_000
check = false
args = ARGV.dup
until args.empty?
  case (a = args.shift)
  when "--rounds" then rounds = Integer(args.shift)
  when "--chunk" then chunk = Integer(args.shift)
  when "--check" then check = true
  else abort "usage: bench.rb [--rounds N] [--chunk N] [--check] (got #{a})"
  end
end

NSHARDS = 16
KS = "user"
TB = "users"

def now
  Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
end

def median(a)
  s = a.sort
  s[s.size / 2]
end

def make_router(vindex)
  router = ShardRouter::Router.new
  router.publish({
                   "keyspaces" => {
                     KS => {
                       "sharded" => true,
                       "vindexes" => { "v" => { "type" => vindex } },
                       "tables" => { TB => { "column_vindexes" => [{ "column" => "id", "name" => "v" }] } }
                     }
                   }
                 }, shards: { KS => NSHARDS })
  router
end

# One vindex: medians over rounds of every scheme, net of the empty loop.
def run(vindex, rounds, chunk)
  router = make_router(vindex)
  table = router.table(KS, TB)
  schemes = {
    loop: lambda { |n|
      t = now
      i = 0
      i += 1 while i < n
      now - t
    },
    noop3: lambda { |n|
      router.instance_exec(KS, TB, n) do |ks, tb, m|
        t = now
        i = 0
        while i < m
          _noop_route(ks, tb, i)
          i += 1
        end
        now - t
      end
    },
    route: lambda { |n|
      router.instance_exec(KS, TB, n) do |ks, tb, m|
        t = now
        i = 0
        while i < m
          route(ks, tb, i)
          i += 1
        end
        now - t
      end
    },
    noop1: lambda { |n|
      table.instance_exec(n) do |m|
        t = now
        i = 0
        while i < m
          _noop_route(i)
          i += 1
        end
        now - t
      end
    },
    handle: lambda { |n|
      table.instance_exec(n) do |m|
        t = now
        i = 0
        while i < m
          route(i)
          i += 1
        end
        now - t
      end
    },
  }
  # librouter alone, the same keys timed by a C loop (no Ruby loop to net).
  c_schemes = {
    c_route: ->(n) { router.__send__(:_bench_c, KS, TB, n)[0] },
    c_handle: ->(n) { table.__send__(:_bench_c, n, false)[0] },
    c_chained: ->(n) { table.__send__(:_bench_c, n, true)[0] }
  }
  batches = [16, 1000, 100_000]
  keys = batches.to_h { |n| [n, Array.new(n) { |i| (i * 2_654_435_761) % (1 << 62) }] }
  many = {}
  batches.each do |n|
    ks = keys[n]
    reps = [chunk / n, 1].max
    many[:"many_#{n}"] = lambda {
      t = now
      reps.times { table.route_many(ks) }
      (now - t).fdiv(reps * n)
    }
    many[:"map_#{n}"] = lambda {
      t = now
      reps.times { ks.map { |k| table.route(k) } }
      (now - t).fdiv(reps * n)
    }
  end

  # Warm-up; YJIT (3.1) compiles a block after 10 calls and has no
  # on-stack replacement, so every timed block must be called more often.
  12.times { schemes.merge(c_schemes).each_value { |s| s.call(chunk) } }
  many.each_value(&:call)
  gross = Hash.new { |h, k| h[k] = [] }
  GC.start
  rounds.times do
    schemes.each { |k, s| gross[k] << s.call(chunk).fdiv(chunk) }
    c_schemes.each { |k, s| gross[k] << s.call(chunk).fdiv(chunk) }
    many.each { |k, s| gross[k] << s.call }
  end
  # Medians of each scheme, then nets and ratios of medians; the spread is
  # the interquartile range of the per-round ratios (each round's scheme
  # minus the median loop).
  loop_ns = median(gross[:loop])
  m = gross.transform_values { |v| median(v) }
  %i[noop3 route noop1 handle].each { |k| m[k] -= loop_ns }
  m[:loop_gross] = loop_ns
  m[:route_ratio] = m[:route] / m[:noop3]
  m[:handle_ratio] = m[:handle] / m[:noop1]
  # What the binding adds beyond the floor and librouter's own work.
  m[:route_own] = (m[:route] - m[:c_route]) / m[:noop3]
  m[:handle_own] = (m[:handle] - m[:c_handle]) / m[:noop1]
  # Both forms route an Integer through a handle: against that lookup
  # timed chained (each key waiting for the previous result, so that its
  # latency is exposed as between interpreter calls).
  m[:route_own_chained] = (m[:route] - m[:c_chained]) / m[:noop3]
  m[:handle_own_chained] = (m[:handle] - m[:c_chained]) / m[:noop1]
  # The target's figure: binding = call - floor - lookup, in floors.
  m[:route_binding] = m[:route_own_chained] - 1
  m[:handle_binding] = m[:handle_own_chained] - 1
  iqr = lambda do |num, den|
    r = gross[num].zip(gross[den]).map { |a, b| (a - loop_ns) / (b - loop_ns) }.sort
    [r[r.size / 4], r[r.size * 3 / 4]]
  end
  m[:route_iqr] = iqr.call(:route, :noop3)
  m[:handle_iqr] = iqr.call(:handle, :noop1)

  alloc = GC.stat(:total_allocated_objects)
  10_000.times { |i| router.route(KS, TB, i) && table.route(i) }
  m[:alloc] = GC.stat(:total_allocated_objects) - alloc
  [m, batches]
end

vindexes = %w[numeric xxhash hash]
yjit = defined?(RubyVM::YJIT) && RubyVM::YJIT.enabled?
puts "ShardRouter bench: ruby #{RUBY_VERSION}#{yjit ? ' --yjit' : ''}, #{NSHARDS} shards, #{rounds} rounds x " \
     "#{chunk} calls per scheme, alternated; medians, ns per call net of the empty loop"
missed = false
vindexes.each do |v|
  m, batches = run(v, rounds, chunk)
  puts "vindex #{v} (empty loop #{format('%.1f', m[:loop_gross])} ns/iter):"
  printf("  %-34s %6.1f ns\n", "no-op C method, 3 args (floor)", m[:noop3])
  printf("  %-34s %6.1f ns  %5.2fx floor (IQR %.2f..%.2f); librouter alone %5.1f ns, " \
         "binding beyond it %.2fx floor\n", "Router#route(ks, table, id)", m[:route], m[:route_ratio],
         *m[:route_iqr], m[:c_route], m[:route_own])
  printf("  %-34s %6.1f ns; beyond it: Router#route %.2fx floor, Table#route %.2fx floor\n",
         "librouter handle lookup, chained", m[:c_chained], m[:route_own_chained], m[:handle_own_chained])
  printf("  %-34s %6.1f ns\n", "no-op C method, 1 arg (floor)", m[:noop1])
  printf("  %-34s %6.1f ns  %5.2fx floor (IQR %.2f..%.2f); librouter alone %5.1f ns, " \
         "binding beyond it %.2fx floor\n", "Table#route(id)", m[:handle], m[:handle_ratio],
         *m[:handle_iqr], m[:c_handle], m[:handle_own])
  batches.each do |n|
    printf("  %-34s %6.1f ns/key (Array#map of Table#route: %.1f)\n", "Table#route_many, #{n} Integers",
           m[:"many_#{n}"], m[:"map_#{n}"])
  end
  puts "  objects allocated by 20000 lookups: #{m[:alloc].to_i}"
  printf("  %-34s Router#route %.2fx, Table#route %.2fx the floor: %s\n",
         "binding (call - floor - lookup)", m[:route_binding], m[:handle_binding],
         m[:route_binding] <= 1 && m[:handle_binding] <= 1 ? "met" : "MISSED")
  missed ||= m[:route_binding] > 1 || m[:handle_binding] > 1
end
puts "target (issue 20): the binding adds at most the no-op call: call - floor - chained lookup <= floor"

if check && missed
  warn "bench.rb: a target was missed"
  exit 1
end
