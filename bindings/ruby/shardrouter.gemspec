# frozen_string_literal: true

# `gem build shardrouter.gemspec`, from this directory or any other
# (`gem build bindings/ruby/shardrouter.gemspec`); the gem is written here,
# beside this file.
#
# The gem carries librouter's C core, which its extension compiles
# (ext/shardrouter/extconf.rb): in a checkout this file first copies
# include/librouter/router.h, router_doc.h, router_etcd.h,
# librouter/{core,live}/*.{c,h} and librouter/fleet/*.{c,h,proto} (the
# optional etcd follower: compiled only where libcurl, libprotobuf-c and
# protoc-c are found) to ext/shardrouter/librouter/ (gitignored), and
# LICENSE and NOTICE here. Evaluated from an unpacked gem, the copy it holds is used as is.
# The version is librouter's, read from the copy of router.h.
require "fileutils"

here = File.expand_path(__dir__)
root = File.expand_path("../..", here)
copy = File.join(here, "ext/shardrouter/librouter")

if File.identical?(File.join(root, "bindings/ruby/shardrouter.gemspec"), File.join(here, "shardrouter.gemspec")) &&
   File.directory?(File.join(root, "librouter/core"))
  FileUtils.rm_rf(copy)
  FileUtils.mkdir_p(File.join(copy, "include/librouter"))
  FileUtils.cp(%w[router.h router_doc.h router_etcd.h].map { |h| File.join(root, "include/librouter", h) },
               File.join(copy, "include/librouter"))
  %w[core live fleet].each do |layer|
    FileUtils.mkdir_p(File.join(copy, layer))
    FileUtils.cp(Dir[File.join(root, "librouter", layer, "*.{c,h,proto}")].sort, File.join(copy, layer))
  end
  FileUtils.cp(%w[LICENSE NOTICE].map { |f| File.join(root, f) }, here)
end

header = File.read(File.join(copy, "include/librouter/router.h"))
version = %w[MAJOR MINOR PATCH].map do |part|
  header[/^#define ROUTER_VERSION_#{part} (\d+)$/, 1] or raise "ROUTER_VERSION_#{part} not found in router.h"
end.join(".")

# Gem::Package reads s.files relative to the working directory.
Dir.chdir(here) unless File.identical?(Dir.pwd, here)

Gem::Specification.new do |s|
  s.name = "shardrouter"
  s.version = version
  s.summary = "Vitess-exact embedded shard router (librouter) with guarded publishes"
  s.description = <<~DESC
    Routes rows to shards exactly as Vitess's vtgate does, in-process and
    lock-free, and refuses routing documents that would empty a keyspace,
    leave a gap in the keyspace-ID space or drop tables silently.  The gem
    carries librouter's C core and compiles it with the extension; it needs
    a C compiler, pkg-config and the development files of libck, xxHash,
    Nettle and Jansson (Debian: ruby-dev pkg-config libck-dev
    libxxhash-dev nettle-dev libjansson-dev); for the etcd follower
    (ShardRouter::Follower) also libcurl4-openssl-dev libprotobuf-c-dev
    protobuf-c-compiler.
  DESC
  s.license = "Apache-2.0"
  s.authors = ["librouter authors"]
  s.required_ruby_version = ">= 3.0"
  s.files = Dir.glob(["lib/**/*.rb", "ext/shardrouter/*.{c,h,rb}", "ext/shardrouter/librouter/**/*.{c,h,proto}",
                      "README.md", "LICENSE", "NOTICE"], base: here).sort
  s.extensions = ["ext/shardrouter/extconf.rb"]
  s.require_paths = ["lib"]
  s.extra_rdoc_files = ["README.md", "LICENSE", "NOTICE"]
  s.metadata["rubygems_mfa_required"] = "true"
end
