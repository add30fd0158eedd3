#!/bin/sh
# make test-examples: examples/ holds exactly the README's three example
# blocks, and each runs from this checkout with the output the README
# shows (C: its printed lines; Python and Ruby: the shard their comments
# give, before and after the refused empty VSchema).
#
#   tests/examples.sh BUILD PYTHON RUBY
set -eu
build=$1 python=$2 ruby=$3
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test-examples: $*" >&2; exit 1; }

block() { # TAG: the README's block between <!-- TAG:begin --> and end
	sed -n "/<!-- $1:begin -->/,/<!-- $1:end -->/p" README.md | grep -v '^<!--' | grep -v '^```'
}
for pair in "readme-example example.c" "readme-example-python example.py" "readme-example-ruby example.rb"; do
	set -- $pair
	block "$1" > "$tmp/readme"
	cmp -s "$tmp/readme" "examples/$2" || {
		diff -u "$tmp/readme" "examples/$2" >&2 || true
		fail "examples/$2 is not the README's $1 block (copy one onto the other)"
	}
done

cc -std=c11 -Wall -Werror -Iinclude -o "$tmp/example" examples/example.c "$build/librouter.a" \
	-lxxhash -lnettle -ljansson -lck -lpthread
"$tmp/example" > "$tmp/c.out"
grep -qx 'id 29999 -> shard 80- (version 1)' "$tmp/c.out" &&
	grep -q '^refused: ROUTER_EEMPTY (user): ' "$tmp/c.out" &&
	grep -qx 'id 29999 -> shard 80- (still version 1)' "$tmp/c.out" || { cat "$tmp/c.out"; fail "example.c output"; }

# The scripts' last expression is the route after the refusal: print the
# handle's answers around them to check the comments' '-80'.
PYTHONPATH=bindings/python "$python" - > "$tmp/py.out" <<'PY'
import runpy
g = runpy.run_path("examples/example.py")
print(g["CUSTOMERS"].route(29999), g["ROUTER"].version)
PY
tail -1 "$tmp/py.out" | grep -qx -- '-80 1' || { cat "$tmp/py.out"; fail "example.py: want -80 at version 1"; }
grep -q 'ROUTER_EEMPTY' "$tmp/py.out" || { cat "$tmp/py.out"; fail "example.py printed no refusal"; }

"$ruby" -I bindings/ruby/lib -I "$build/ruby/lib" -e 'load "examples/example.rb"; puts "#{CUSTOMERS.route(29_999)} #{ROUTER.version}"' > "$tmp/rb.out"
tail -1 "$tmp/rb.out" | grep -qx -- '-80 1' || { cat "$tmp/rb.out"; fail "example.rb: want -80 at version 1"; }
echo "examples: example.c, example.py, example.rb are the README's blocks and run from the checkout"
