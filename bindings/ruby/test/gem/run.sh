#!/bin/sh
# make test-ruby-gem: the gem as a user gets it. Builds it with `gem build`
# from the repository root and from another directory (the same files),
# installs it with no environment but PATH and HOME into a temporary
# GEM_HOME (its extension compiles librouter's C core there: no make lib),
# then runs check.rb with GEM_HOME/GEM_PATH pointing there: from another
# directory (a bare require) and from the repository root with the
# README's Ruby example (its VSchema path is relative to the root).
#
#   sh bindings/ruby/test/gem/run.sh RUBY     (from the repository root)
set -eu
ruby=${1:-ruby}
root=$(pwd)
here=$root/bindings/ruby/test/gem
gem=$(dirname "$ruby")/gem
[ -x "$gem" ] || gem=gem
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shardrouter-gem.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
run() { env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$tmp/home" "$@"; }
mkdir -p "$tmp/home" "$tmp/elsewhere"

t0=$(date +%s)
run "$gem" build bindings/ruby/shardrouter.gemspec -o "$tmp/root.gem" >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log"; exit 1; }
(cd "$tmp/elsewhere" && run "$gem" build "$root/bindings/ruby/shardrouter.gemspec" -o "$tmp/elsewhere.gem") \
	>"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
files() { tar -xOf "$1" data.tar.gz | tar -tzf - | sort; }
files "$tmp/root.gem" >"$tmp/root.files"
files "$tmp/elsewhere.gem" >"$tmp/elsewhere.files"
cmp -s "$tmp/root.files" "$tmp/elsewhere.files" ||
	{ echo "test-ruby-gem: the gem built elsewhere holds other files:"; diff "$tmp/root.files" "$tmp/elsewhere.files"; exit 1; }
# The fleet layer too (the optional follower), never its generated C.
for f in LICENSE NOTICE ext/shardrouter/librouter/include/librouter/router.h \
	ext/shardrouter/librouter/include/librouter/router_etcd.h \
	$(cd librouter && ls core/*.c core/*.h live/*.c live/*.h fleet/*.c fleet/*.h fleet/*.proto |
	  sed 's|^|ext/shardrouter/librouter/|'); do
	grep -qx "$f" "$tmp/root.files" || { echo "test-ruby-gem: $f is not in the gem"; exit 1; }
done
if grep -e 'pb-c' "$tmp/root.files"; then echo "test-ruby-gem: the gem carries generated protobuf-c code"; exit 1; fi
t1=$(date +%s)

(cd "$tmp/elsewhere" && run "$gem" install --local --no-document --install-dir "$tmp/gems" "$tmp/root.gem") \
	>"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
t2=$(date +%s)
if grep -rqF "$root" "$tmp/gems/gems"/shardrouter-*/ext/shardrouter/Makefile; then
	echo "test-ruby-gem: the installed gem was compiled from the checkout's sources"; exit 1
fi
so=$(find "$tmp/gems/gems" -name 'shardrouter.so' -path '*/lib/*')
exports=$(nm -D --defined-only "$so" | awk '{ print $3 }')
[ "$exports" = Init_shardrouter ] ||
	{ echo "test-ruby-gem: $so exports more than Init_shardrouter:"; echo "$exports"; exit 1; }

sed -n '/<!-- readme-example-ruby:begin -->/,/<!-- readme-example-ruby:end -->/p' README.md |
	grep -v '^<!--' | grep -v '^```' >"$tmp/readme_example.rb"
grep -q 'require "shardrouter"' "$tmp/readme_example.rb" ||
	{ echo "test-ruby-gem: no Ruby example between the readme-example-ruby markers of README.md"; exit 1; }
(cd "$tmp/elsewhere" && run GEM_HOME="$tmp/gems" GEM_PATH="$tmp/gems" "$ruby" "$here/check.rb" "$tmp/gems")
# Built where libcurl, libprotobuf-c and protoc-c are (PKGS_BUILD): with
# the follower.
(cd "$tmp/elsewhere" && run GEM_HOME="$tmp/gems" GEM_PATH="$tmp/gems" "$ruby" -e \
	'require "shardrouter"; exit(ShardRouter::Follower::AVAILABLE ? 0 : 1)') ||
	{ echo "test-ruby-gem: the installed gem was built without ShardRouter::Follower"; exit 1; }
run GEM_HOME="$tmp/gems" GEM_PATH="$tmp/gems" "$ruby" "$here/check.rb" "$tmp/gems" "$tmp/readme_example.rb"
echo "test-ruby-gem: ok (gem build $((t1 - t0)) s, gem install $((t2 - t1)) s)"
