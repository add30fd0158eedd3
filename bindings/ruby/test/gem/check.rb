# frozen_string_literal: true

# make test-ruby-gem (run.sh): proves that ShardRouter came from the gem
# installed in GEM_HOME, never from the checkout, and with EXAMPLE the
# README's Ruby example ran as written and did what its comments say.
#
#   GEM_HOME=DIR GEM_PATH=DIR ruby check.rb DIR [EXAMPLE.rb]
gem_home = File.realpath(ARGV.fetch(0))
checkout = File.realpath(File.expand_path("../../../..", __dir__))
example = ARGV[1]

if example
  load example # top level: its constants (ROUTER, CUSTOMERS) stay visible
else
  require "shardrouter"
end

def fail!(msg)
  warn "test-ruby-gem: #{msg}"
  exit 1
end

inside = ->(path, dir) { File.realpath(path).start_with?("#{dir}/") }

spec = Gem.loaded_specs["shardrouter"] or fail!("shardrouter was not activated as a gem")
fail!("gem from #{spec.full_gem_path}, not from #{gem_home}") unless inside.(spec.full_gem_path, gem_home)
ours = $LOADED_FEATURES.grep(%r{/shardrouter(?:\.rb|/shardrouter\.[^/]+)\z})
fail!("loaded #{ours.inspect}, expected shardrouter.rb and its extension") unless ours.size == 2
ours.each { |f| fail!("#{f} is not in #{gem_home}") unless inside.(f, gem_home) }
from_checkout = $LOADED_FEATURES.select { |f| File.exist?(f) && inside.(f, checkout) }
fail!("loaded from the checkout: #{from_checkout.inspect}") unless from_checkout.empty?
unless ShardRouter::VERSION == spec.version.to_s
  fail!("ShardRouter::VERSION #{ShardRouter::VERSION} is not the gem's #{spec.version}")
end

if example
  fail!("CUSTOMERS.route(29_999) is #{CUSTOMERS.route(29_999).inspect}") unless CUSTOMERS.route(29_999) == "-80"
  fail!("version #{ROUTER.version}, expected 1") unless ROUTER.version == 1
  fail!("the January 2026 shape was not refused") unless ROUTER.stats[:refused] == 1
end
puts "test-ruby-gem: shardrouter #{spec.version} from #{spec.full_gem_path}#{example ? ', README example ok' : ''}"
