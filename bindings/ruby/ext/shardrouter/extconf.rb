# frozen_string_literal: true

# Builds ShardRouter's C extension together with librouter's C core: the
# core and live layers (librouter/core/*.c, librouter/live/*.c, never
# librouter/fleet, which needs libcurl) are compiled here, archived into
# librouter.a in the build directory and linked into the extension. No
# `make lib` first, no environment variables.
#
# The sources are taken from
#   - the repository, when this file is bindings/ruby/ext/shardrouter/
#     extconf.rb of a librouter checkout (`make test-ruby`, `rake compile`,
#     Bundler's `path:`), so an edit to the C core is picked up;
#   - else the copy beside this file, librouter/ (an installed gem: the
#     gemspec copies them there at `gem build`, see shardrouter.gemspec).
#
# The system libraries (libck, libxxhash, nettle, jansson) are found with
# pkg-config (Debian: pkg-config libck-dev libxxhash-dev nettle-dev
# libjansson-dev), falling back to the compiler's default paths.
#
# The core is compiled with -fvisibility=hidden and without ROUTER_BUILDING
# (which would mark the public router_* functions visibility("default") for
# librouter.so), and its archive is linked with --exclude-libs: the
# extension exports Init_shardrouter only, so two extensions embedding
# librouter cannot interpose on each other.
require "mkmf"

here = __dir__
checkout = File.expand_path("../../../..", here)
copy = File.join(here, "librouter")

# [directory holding librouter/router.h, directory holding core/ and live/]
if File.identical?(File.join(checkout, "bindings/ruby/ext/shardrouter/extconf.rb"), __FILE__) &&
   File.directory?(File.join(checkout, "librouter/core"))
  incroot = File.join(checkout, "include")
  srcroot = File.join(checkout, "librouter")
elsif File.file?(File.join(copy, "include/librouter/router.h"))
  incroot = File.join(copy, "include")
  srcroot = copy
else
  abort "librouter's C sources are missing: neither a librouter checkout around #{here} " \
        "nor the copy #{copy} (a gem built with `gem build shardrouter.gemspec` carries it)"
end
pubdir = File.join(incroot, "librouter")

# Every .c of the two layers: a new file needs no edit here.
core_srcs = Dir[File.join(srcroot, "{core,live}/*.c")].sort
core_hdrs = Dir[File.join(srcroot, "{core,live}/*.h")].sort + %w[router.h router_doc.h].map { |h| File.join(pubdir, h) }
abort "no C sources under #{srcroot}/core and #{srcroot}/live" if core_srcs.empty?

$INCFLAGS << " -I#{pubdir}"
%w[router.h router_doc.h].each do |h|
  abort "#{h} not found in #{pubdir}" unless find_header(h, pubdir)
end

# pkg-config name => [library, a header it must provide]. pkg_config()
# adds each package's -I/-D flags to $INCFLAGS/$CFLAGS and its -l flags to
# the link line; ck's -D__x86_64__ (or its arch's) is needed by ck_pr.h.
DEBIAN = "Debian: apt-get install pkg-config libck-dev libxxhash-dev nettle-dev libjansson-dev"
deps = { "ck" => %w[ck ck_epoch.h], "libxxhash" => %w[xxhash xxhash.h],
         "nettle" => %w[nettle nettle/md5.h], "jansson" => %w[jansson jansson.h] }
pkg_cflags = []
deps.each do |pkg, (lib, header)|
  if (flags = pkg_config(pkg))
    pkg_cflags << flags[0]
  else
    message "#{pkg} not found by pkg-config: trying -l#{lib} on the default paths\n"
    abort "missing library -l#{lib} (#{DEBIAN})" unless have_library(lib)
  end
  abort "missing header #{header} (#{DEBIAN})" unless have_header(header)
end
abort "missing library -lpthread" unless have_library("pthread")

$CFLAGS << " -std=c11 -D_GNU_SOURCE -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter"
$CFLAGS << " -Werror" if ENV["CI"] == "true"
$LOCAL_LIBS << " librouter.a"
$LDFLAGS << " -Wl,--exclude-libs,ALL"
$cleanfiles << "librouter.a"

create_makefile("shardrouter/shardrouter")

# The core's objects, built with the repository Makefile's LIB_CFLAGS
# minus ROUTER_BUILDING (see above) and with its own include paths
# ("router.h" via include/librouter, "core/internal.h" via librouter/).
# Object names carry the layer (core-vindex.o): the extension has a
# vindex.c and a snapshot.c of its own. Each object depends on every
# header of the core, so an edit to one rebuilds them all.
def mk_quote(path)
  path.gsub(" ", "\\ ")
end

objs = core_srcs.map { |src| "router-#{File.basename(File.dirname(src))}-#{File.basename(src, '.c')}.o" }
rules = +<<~MAKE

  # --- librouter's C core (extconf.rb) ---
  ROUTER_CFLAGS = $(CCDLFLAGS) -std=c11 -D_GNU_SOURCE -O2 -g -fvisibility=hidden \\
  \t-Wall -Wextra -Wno-unused-parameter#{ENV['CI'] == 'true' ? ' -Werror' : ''} #{pkg_cflags.join(' ')} \\
  \t-I#{mk_quote(incroot)} -I#{mk_quote(pubdir)} -I#{mk_quote(srcroot)}
  ROUTER_HDRS = #{core_hdrs.map { |h| mk_quote(h) }.join(" \\\n\t")}
  ROUTER_OBJS = #{objs.join(" \\\n\t")}

  $(OBJS): #{mk_quote(File.join(pubdir, "router.h"))} #{mk_quote(File.join(pubdir, "router_doc.h"))}
  $(DLLIB): librouter.a

  # A fresh archive each time: `ar r` would keep members of removed files.
  librouter.a: $(ROUTER_OBJS)
  \t$(ECHO) archiving $@
  \t-$(Q)$(RM) $@
  \t$(Q) $(AR) rcs $@ $(ROUTER_OBJS)

MAKE
core_srcs.zip(objs).each do |src, obj|
  rules << "#{obj}: #{mk_quote(src)} $(ROUTER_HDRS)\n" \
           "\t$(ECHO) compiling $<\n" \
           "\t$(Q) $(CC) $(ROUTER_CFLAGS) -c $< -o $@\n"
end
File.open("Makefile", "a") { |f| f << rules }
