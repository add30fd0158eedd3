# frozen_string_literal: true

# Builds ShardRouter's C extension against librouter's static library.
#
#   ROUTER_LIB_DIR      directory holding librouter.a (compiled -fPIC, as the
#                       project's `make lib` does); default ../../build from
#                       bindings/ruby, i.e. the repository's build/
#   ROUTER_INCLUDE_DIR  directory holding router.h and router_doc.h; default
#                       ROUTER_LIB_DIR/../include/librouter (the repository's
#                       headers beside its build directory), else this
#                       checkout's
#
# The static library is linked whole into the extension and its symbols are
# kept local (--exclude-libs), so two extensions embedding librouter cannot
# interpose on each other; the extension exports Init_shardrouter only.
require "mkmf"

root = File.expand_path("../../../..", __dir__)
libdir = File.expand_path(ENV.fetch("ROUTER_LIB_DIR", File.join(root, "build")))
incdir = ENV.fetch("ROUTER_INCLUDE_DIR") do
  beside = File.expand_path("../include/librouter", libdir)
  File.file?(File.join(beside, "router.h")) ? beside : File.join(root, "include", "librouter")
end
incdir = File.expand_path(incdir)
archive = File.join(libdir, "librouter.a")

abort "librouter.a not found in #{libdir}: run `make lib` at the repository root, or set ROUTER_LIB_DIR" unless File.file?(archive)

$INCFLAGS << " -I#{incdir}"
%w[router.h router_doc.h].each do |h|
  abort "#{h} not found in #{incdir} (set ROUTER_INCLUDE_DIR)" unless find_header(h, incdir)
end

# Dependencies of librouter.a, in link order after it.
%w[ck xxhash nettle jansson pthread].each do |lib|
  abort "missing library -l#{lib} (Debian: libck-dev libxxhash-dev nettle-dev libjansson-dev)" unless have_library(lib)
end
$LOCAL_LIBS << " #{archive}"
$LIBS = "#{archive} #{$LIBS}"
$LOCAL_LIBS = ""

$CFLAGS << " -std=c11 -D_GNU_SOURCE -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter"
$CFLAGS << " -Werror" if ENV["CI"] == "true"
$LDFLAGS << " -Wl,--exclude-libs,ALL"

create_makefile("shardrouter/shardrouter")
