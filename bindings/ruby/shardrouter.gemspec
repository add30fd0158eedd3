# frozen_string_literal: true

Gem::Specification.new do |s|
  s.name = "shardrouter"
  s.version = "0.1.0"
  s.summary = "Vitess-exact embedded shard router (librouter) with guarded publishes"
  s.description = <<~DESC
    Routes rows to shards exactly as Vitess's vtgate does, in-process and
    lock-free, and refuses routing documents that would empty a keyspace,
    leave a gap in the keyspace-ID space or drop tables silently.  A C
    extension over librouter's static library: build librouter first
    (`make lib`) and point ROUTER_LIB_DIR at its build directory.
  DESC
  s.license = "Apache-2.0"
  s.authors = ["librouter authors"]
  s.required_ruby_version = ">= 3.0"
  s.files = Dir["lib/**/*.rb", "ext/**/*.{c,h,rb}", "test/**/*.rb", "bench.rb", "Rakefile", "shardrouter.gemspec"]
  s.extensions = ["ext/shardrouter/extconf.rb"]
  s.require_paths = ["lib"]
  s.metadata["rubygems_mfa_required"] = "true"
end
