#!/bin/sh
# make test-python-sdist: shardrouter installed the way a user installs
# it, from an sdist, on Debian's python3, with no network and no
# `make lib`:
#   1. python3 -m build --sdist --no-isolation bindings/python;
#   2. the sdist carries every .c and .h of librouter/core and
#      librouter/live (csrc/), router.h, router_doc.h, the stubs, py.typed,
#      pyproject.toml, LICENSE and NOTICE, and the sources of
#      librouter/fleet (the optional follower), never their generated C;
#   3. a fresh venv (python3 -m venv, no --system-site-packages: it sees
#      nothing of /usr/lib/python3/dist-packages).  ensurepip gives it pip
#      and setuptools from Debian's python3-pip-whl and
#      python3-setuptools-whl; wheel, which setuptools 66 needs to build a
#      wheel, comes from python3-wheel-whl (/usr/share/python-wheels), so
#      `pip install --no-index` needs no index;
#   4. pip install --no-index --no-build-isolation SDIST, with no LIBROUTER_*
#      variable: the C core is compiled from the unpacked sdist's csrc/;
#   5. from a directory outside the checkout, shardrouter imports from the
#      venv, with its stubs and py.typed, and exports PyInit__shardrouter
#      alone; the same for pip install ./bindings/python into another venv;
#   6. README.md's Python example (between its readme-example-python
#      markers), run as written from the repository root, where its
#      VSchema path points, gives the results its comments show.
#
#   bindings/python/tests/sdist.sh PYTHON OUT_DIR   (make passes them)
set -eu
[ $# -eq 2 ] || { echo "usage: $0 PYTHON OUT_DIR" >&2; exit 2; }
python=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
binding=$(dirname "$here")
root=$(cd "$binding/../.." && pwd)
case $out in /*) ;; *) out=$root/$out ;; esac
fail() { echo "test-python-sdist: $*" >&2; exit 1; }
step() { echo "== python-sdist: $*"; }
run_logged() {   # LOG CMD...: the command's output goes to LOG, shown on failure
	log=$1; shift
	"$@" > "$log" 2>&1 || { cat "$log"; fail "failed: $*"; }
}
unset LIBROUTER_BUILD LIBROUTER_ROOT PYTHONPATH PIP_INDEX_URL PIP_FIND_LINKS 2>/dev/null || true

rm -rf "$out"
mkdir -p "$out"
elsewhere=$(mktemp -d "${TMPDIR:-/tmp}/shardrouter-sdist.XXXXXX")
trap 'rm -rf "$elsewhere"' EXIT

step "build the sdist"
run_logged "$out/sdist.log" "$python" -m build --sdist --no-isolation \
	--outdir "$out/dist" "$binding"
set -- "$out"/dist/shardrouter-*.tar.gz
[ $# -eq 1 ] && [ -f "$1" ] || fail "expected one sdist in $out/dist, got: $*"
sdist=$1
echo "$(basename "$sdist")"

step "what it carries"
tar tzf "$sdist" | sed 's|^[^/]*/||' | sort > "$out/contents.txt"
want=$( (cd "$root" && ls librouter/core/*.[ch] librouter/live/*.[ch] librouter/fleet/*.[ch] \
	librouter/fleet/*.proto) | sed 's|^|csrc/|')
for f in $want csrc/include/librouter/router.h csrc/include/librouter/router_doc.h \
	csrc/include/librouter/router_etcd.h src/follower.c \
	csrc/LICENSE csrc/NOTICE pyproject.toml setup.py README.md \
	shardrouter/__init__.py shardrouter/__init__.pyi shardrouter/py.typed \
	src/binding.h src/module.c; do
	grep -qx "$f" "$out/contents.txt" || fail "the sdist lacks $f"
done
! grep -q 'pb-c' "$out/contents.txt" || \
	fail "the sdist carries generated protobuf-c code: $(grep 'pb-c' "$out/contents.txt" | tr '\n' ' ')"
echo "$(echo "$want" | wc -w) C core and fleet files, headers, stubs, py.typed, LICENSE, NOTICE"

step "a fresh venv, offline"
venv=$out/venv
run_logged "$out/venv.log" "$python" -m venv "$venv"
run_logged "$out/wheel.log" "$venv/bin/pip" install --no-index \
	--find-links /usr/share/python-wheels wheel

step "pip install --no-index --no-build-isolation the sdist"
start=$(date +%s)
run_logged "$out/install.log" "$venv/bin/pip" install -v --no-index \
	--no-build-isolation --no-cache-dir "$sdist"
grep -q 'csrc/librouter/core/value\.c' "$out/install.log" || \
	fail "the build did not compile the sdist's csrc/ (see $out/install.log)"
! grep -q "$root/librouter/" "$out/install.log" || \
	fail "the build from the sdist reached into the checkout (see $out/install.log)"
echo "built and installed in $(( $(date +%s) - start )) s"

cat > "$out/check_import.py" <<'EOF'
import os, subprocess, sys
import shardrouter
venv = os.path.realpath(sys.argv[1])
pkg = os.path.dirname(os.path.realpath(shardrouter.__file__))
assert pkg.startswith(venv + os.sep), "%s is not in %s" % (pkg, venv)
for f in ("__init__.pyi", "py.typed"):
    assert os.path.isfile(os.path.join(pkg, f)), f + " not installed"
so = shardrouter._shardrouter.__file__
out = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True,
                     text=True, check=True).stdout
names = [line.split()[-1] for line in out.splitlines() if line.strip()]
assert names == ["PyInit__shardrouter"], names
# Built where libcurl, libprotobuf-c and protoc-c are (PKGS_BUILD).
assert shardrouter.HAVE_FOLLOWER, "built without shardrouter.Follower"
print("shardrouter %s from %s" % (shardrouter.__version__, pkg))
EOF
step "import it from elsewhere"
(cd "$elsewhere" && "$venv/bin/python" -I "$out/check_import.py" "$venv") || fail "import from the venv"

step "pip install --no-index --no-build-isolation ./bindings/python (the checkout)"
run_logged "$out/venv2.log" "$python" -m venv "$out/venv-checkout"
run_logged "$out/wheel2.log" "$out/venv-checkout/bin/pip" install --no-index \
	--find-links /usr/share/python-wheels wheel
(cd "$root" && run_logged "$out/install-checkout.log" "$out/venv-checkout/bin/pip" \
	install --no-index --no-build-isolation --no-cache-dir ./bindings/python)
(cd "$elsewhere" && "$out/venv-checkout/bin/python" -I "$out/check_import.py" \
	"$out/venv-checkout") || fail "import from the checkout's venv"

step "the README's Python example, from the repository root"
sed -n '/<!-- readme-example-python:begin -->/,/<!-- readme-example-python:end -->/p' \
	"$root/README.md" | grep -v '^<!--' | grep -v '^```' > "$out/readme_example.py"
[ -s "$out/readme_example.py" ] || fail "no readme-example-python block in README.md"
(cd "$root" && "$venv/bin/python" -I - "$out/readme_example.py" "$venv") <<'EOF' || fail "README example"
import contextlib, io, os, re, runpy, sys
example, venv = sys.argv[1], os.path.realpath(sys.argv[2])
text = io.StringIO()
with contextlib.redirect_stdout(text):
    ns = runpy.run_path(example, run_name="__main__")
import shardrouter
assert os.path.realpath(shardrouter.__file__).startswith(venv + os.sep)
printed = text.getvalue()
assert re.fullmatch(r"customer: keyspace customer is sharded .*"
                    r"\(ROUTER_EEMPTY\)\n", printed), printed
router, customers = ns["ROUTER"], ns["CUSTOMERS"]
assert customers.route(29999) == "-80"          # '-80', still version 1
assert router.version == 1
sys.stdout.write(printed)
EOF
echo "python-sdist: ok"
