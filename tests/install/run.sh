#!/bin/sh
# make test-install: every way of consuming an installed librouter, on
# this machine, against trees installed by `make install` (never the
# build directory):
#   1. make install PREFIX=P LIBDIR=P/lib/<multiarch>: the files land where
#      asked, the .pc and CMake files name that prefix;
#   2. the README's C example built with pkg-config, shared and static (a
#      librouter.a really linked in: no librouter.so in ldd), and fully
#      static (-static);
#   3. the fleet library (librouter-etcd) shared and static;
#   4. the 0.1 spellings: pkg-config router and #include "router.h";
#   5. CMake find_package(librouter): shared, static, etcd;
#   6. DESTDIR staging for PREFIX=/usr: files under DESTDIR, .pc says /usr;
#   7. make uninstall removes every file it installed.
#
#   tests/install/run.sh BUILD_DIR VERSION   (make test-install passes them)
set -eu
[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR VERSION" >&2; exit 2; }
build=$1 version=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/librouter-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "test-install: $*" >&2; exit 1; }
step() { echo "== install: $*"; }

arch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
prefix=$work/prefix
libdir=$prefix/lib/$arch
mk() { make -s -C "$root" --no-print-directory BUILD="$build" "$@"; }

step "make install PREFIX=$prefix LIBDIR=$libdir"
mk install PREFIX="$prefix" LIBDIR="$libdir" > "$work/install.log"
for f in include/librouter/router.h include/librouter/router_doc.h \
         include/librouter/router_etcd.h bin/routerctl share/man/man1/routerctl.1 \
         share/bash-completion/completions/routerctl \
         "lib/$arch/librouter.a" "lib/$arch/librouter.so" "lib/$arch/librouter.so.0" \
         "lib/$arch/librouter-etcd.so.0" "lib/$arch/librouter-etcd.a" \
         "lib/$arch/pkgconfig/librouter.pc" "lib/$arch/pkgconfig/librouter-etcd.pc" \
         "lib/$arch/cmake/librouter/librouter-config.cmake"; do
	[ -e "$prefix/$f" ] || fail "make install did not install $f"
done
[ ! -e "$prefix/include/router.h" ] || fail "router.h installed at the top of include/ (collides with other projects)"
grep -qx "prefix=$prefix" "$libdir/pkgconfig/librouter.pc" || fail "librouter.pc does not name $prefix"
grep -qx "libdir=$libdir" "$libdir/pkgconfig/librouter.pc" || fail "librouter.pc does not name $libdir"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
[ "$(pkg-config --modversion librouter)" = "$version" ] || fail "pkg-config librouter: version $(pkg-config --modversion librouter), want $version"
[ "$(pkg-config --modversion librouter-etcd)" = "$version" ] || fail "pkg-config librouter-etcd: wrong version"

sed -n '/<!-- readme-example:begin -->/,/<!-- readme-example:end -->/p' "$root/README.md" |
	grep -v '^<!--' | grep -v '^```' > "$work/example.c"
check_example() { # binary, label
	"$@" > "$work/out" 2>&1 || { cat "$work/out"; fail "$1 failed"; }
	grep -q '^id 29999 -> shard 80- (version 1)$' "$work/out" &&
	grep -q '^refused: ROUTER_EEMPTY (user): ' "$work/out" &&
	grep -q '^id 29999 -> shard 80- (still version 1)$' "$work/out" ||
		{ cat "$work/out"; fail "$1: output differs from the README's"; }
}
cd "$work"

step "README example, shared: cc example.c \$(pkg-config --cflags --libs librouter)"
cc -std=c11 -Wall -Werror -o ex_shared example.c $(pkg-config --cflags --libs librouter)
LD_LIBRARY_PATH=$libdir ldd ex_shared | grep -q "librouter.so.0 => $libdir/" || fail "ex_shared does not load $libdir/librouter.so.0"
LD_LIBRARY_PATH=$libdir check_example ./ex_shared

step "README example, librouter.a linked in (README's command)"
cc -std=c11 -Wall -Werror -o ex_static example.c $(pkg-config --cflags librouter) $(pkg-config --variable=libdir librouter)/librouter.a \
   $(pkg-config --libs-only-l --static librouter | sed 's/-lrouter //')
! ldd ex_static | grep -q librouter || fail "ex_static still loads librouter.so"
check_example ./ex_static

step "README example, fully static: cc -static example.c \$(pkg-config --cflags --libs --static librouter)"
cc -static -std=c11 -Wall -Werror -o ex_full_static example.c $(pkg-config --cflags --libs --static librouter)
file ex_full_static 2>/dev/null | grep -q 'statically linked' || ldd ex_full_static 2>&1 | grep -q 'not a dynamic executable' ||
	fail "ex_full_static is not a static executable"
check_example ./ex_full_static

step "fleet library: pkg-config librouter-etcd, shared, and its .a with shared system libraries"
cc -std=c11 -Wall -Werror -o etcd_shared "$here/etcd_link.c" $(pkg-config --cflags --libs librouter-etcd)
LD_LIBRARY_PATH=$libdir ./etcd_shared | grep -q "^librouter $version, status prefix /librouter/doc/status/$" || fail "etcd_shared output"
LD_LIBRARY_PATH=$libdir ldd etcd_shared | grep -q "librouter-etcd.so.0 => $libdir/" || fail "etcd_shared does not load librouter-etcd.so.0"
cc -std=c11 -Wall -Werror -o etcd_static "$here/etcd_link.c" $(pkg-config --cflags librouter-etcd) \
	-L"$libdir" -Wl,-Bstatic -lrouter-etcd -lrouter -Wl,-Bdynamic \
	$(pkg-config --libs libcurl jansson ck libxxhash nettle) -lpthread
! ldd etcd_static | grep -q librouter || fail "etcd_static still loads a librouter .so"
./etcd_static > /dev/null || fail "etcd_static failed"

step "0.1 spellings: pkg-config router, #include \"router.h\""
cc -std=c11 -Wall -Werror -o smoke_old "$root/tests/surface/smoke.c" $(pkg-config --cflags --libs router)
LD_LIBRARY_PATH=$libdir ./smoke_old > /dev/null || fail "a 0.1-style program does not build or run"

if command -v cmake > /dev/null; then
	step "CMake: find_package(librouter 0.2) -> librouter::router, router_static, etcd"
	cmake -S "$here/cmake" -B cm -DCMAKE_PREFIX_PATH="$prefix" \
		-DEXAMPLE="$work/example.c" -DETCD_EXAMPLE="$here/etcd_link.c" > cm.log 2>&1 || { cat cm.log; fail "cmake configure"; }
	cmake --build cm > cmb.log 2>&1 || { cat cmb.log; fail "cmake build"; }
	check_example ./cm/example_shared
	! ldd cm/example_static | grep -q librouter || fail "librouter::router_static loads librouter.so"
	check_example ./cm/example_static
	./cm/etcd_shared > /dev/null || fail "cmake etcd_shared"
else
	fail "cmake not installed (make test-install installs it: make deps-install)"
fi

step "make install DESTDIR=$work/stage PREFIX=/usr LIBDIR=/usr/lib/$arch"
mk install DESTDIR="$work/stage" PREFIX=/usr LIBDIR="/usr/lib/$arch" > /dev/null
[ -e "$work/stage/usr/include/librouter/router.h" ] || fail "DESTDIR: headers not staged"
grep -qx 'prefix=/usr' "$work/stage/usr/lib/$arch/pkgconfig/librouter.pc" || fail "DESTDIR: librouter.pc does not say prefix=/usr"
! grep -rq "$work/stage" "$work/stage/usr/lib/$arch/pkgconfig" "$work/stage/usr/lib/$arch/cmake" || fail "DESTDIR leaked into an installed file"

step "make uninstall (both trees)"
mk uninstall PREFIX="$prefix" LIBDIR="$libdir" > /dev/null
left=$(find "$prefix" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall left: $left"
mk uninstall DESTDIR="$work/stage" PREFIX=/usr LIBDIR="/usr/lib/$arch" > /dev/null
left=$(find "$work/stage" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall (DESTDIR) left: $left"
echo "install: ok (prefix with multiarch LIBDIR, pkg-config shared/static/-static, etcd, 0.1 names, CMake, DESTDIR, uninstall)"
