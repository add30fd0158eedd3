#!/bin/sh
# make test-deb: the .debs that `make deb` built, installed the way a user
# installs them, then the README's C example built against them.
#
# As root with debootstrap: into a fresh minimal Debian 12 chroot (the
# cached base of tests/fresh/run.sh), with `apt-get install ./*.deb`, so
# every Depends is resolved from the archive, plus gcc; the example is
# compiled with pkg-config and run; routerctl runs.  Otherwise: each .deb
# is unpacked (dpkg -x) into a fresh prefix and the example is built with
# PKG_CONFIG_SYSROOT_DIR against it.  Either way, the control fields are
# checked (package names, Depends, the shlibs/symbols).
#
#   tests/deb/run.sh DEB_DIR VERSION
set -eu
[ $# -eq 2 ] || { echo "usage: $0 DEB_DIR VERSION" >&2; exit 2; }
debs=$(cd "$1" && pwd) version=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
arch=$(dpkg --print-architecture)
fail() { echo "test-deb: $*" >&2; exit 1; }
field() { dpkg-deb -f "$debs/$1_${version}_$arch.deb" "$2"; }

for p in librouter0 librouter-etcd0 librouter-dev routerctl; do
	[ -e "$debs/${p}_${version}_$arch.deb" ] || fail "missing ${p}_${version}_$arch.deb in $debs"
done
field librouter-dev Depends | grep -q "librouter0 (= $version)" || fail "librouter-dev does not depend on librouter0 (= $version)"
field librouter-etcd0 Depends | grep -q "librouter0 (>= " || fail "librouter-etcd0 does not depend on librouter0 (shlibs): $(field librouter-etcd0 Depends)"
field librouter0 Depends | grep -q 'libck0' || fail "librouter0 lacks its libck Depends: $(field librouter0 Depends)"
! field librouter0 Depends | grep -q 'libcurl' || fail "librouter0 depends on libcurl (only the fleet library should)"
# (the listing is read whole: grep -q would close the pipe under tar)
dpkg-deb --ctrl-tarfile "$debs/librouter0_${version}_$arch.deb" | tar -tf - | grep symbols > /dev/null || fail "librouter0 has no symbols file"
dpkg-deb -c "$debs/librouter-dev_${version}_$arch.deb" | grep 'usr/include/librouter/router.h' > /dev/null || fail "librouter-dev lacks usr/include/librouter/router.h"
echo "== deb: control fields ok ($(field librouter0 Depends))"

work=$(mktemp -d "${TMPDIR:-/tmp}/librouter-deb.XXXXXX")
sed -n '/<!-- readme-example:begin -->/,/<!-- readme-example:end -->/p' "$root/README.md" |
	grep -v '^<!--' | grep -v '^```' > "$work/example.c"
base=${FRESH_BASE:-/var/tmp/librouter-fresh-bookworm-minbase.tar}

if [ "$(id -u)" = 0 ] && { [ -e "$base" ] || command -v debootstrap > /dev/null; }; then
	if [ ! -e "$base" ]; then
		debootstrap --variant=minbase bookworm "$work/boot" http://deb.debian.org/debian > "$work/boot.log" 2>&1 ||
			{ tail "$work/boot.log"; fail "debootstrap"; }
		tar -C "$work/boot" -cf "$base.tmp" . && mv "$base.tmp" "$base" && rm -rf "$work/boot"
	fi
	ch=$work/root
	mkdir -p "$ch" && tar -C "$ch" -xf "$base"
	trap 'umount "$ch/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
	mount -t proc proc "$ch/proc"
	cp /etc/resolv.conf "$ch/etc/resolv.conf"
	mkdir -p "$ch/debs" && cp "$debs"/*_${version}_$arch.deb "$ch/debs/" && cp "$work/example.c" "$ch/example.c"
	echo "== deb: apt-get install ./librouter-dev ./routerctl (+ gcc) in a fresh minimal Debian 12 chroot"
	chroot "$ch" sh -c "apt-get update -q > /dev/null && apt-get install -y -q --no-install-recommends gcc libc6-dev pkgconf \
		/debs/librouter-dev_${version}_$arch.deb /debs/librouter0_${version}_$arch.deb \
		/debs/librouter-etcd0_${version}_$arch.deb /debs/routerctl_${version}_$arch.deb" > "$work/apt.log" 2>&1 ||
		{ tail -20 "$work/apt.log"; fail "apt-get install of the .debs failed"; }
	chroot "$ch" sh -c 'cc -o /ex /example.c $(pkg-config --cflags --libs librouter) && /ex' > "$work/out" 2>&1 ||
		{ cat "$work/out"; fail "the README example does not build or run against the installed packages"; }
	chroot "$ch" routerctl --help > /dev/null 2>&1 || chroot "$ch" routerctl help > /dev/null || fail "routerctl does not run"
	where="a fresh Debian 12 chroot (apt-get install)"
else
	pre=$work/prefix
	for d in "$debs"/*_${version}_$arch.deb; do dpkg -x "$d" "$pre"; done
	ml=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	PKG_CONFIG_SYSROOT_DIR=$pre PKG_CONFIG_PATH=$pre/usr/lib/$ml/pkgconfig \
		cc -o "$work/ex" "$work/example.c" $(PKG_CONFIG_SYSROOT_DIR=$pre PKG_CONFIG_PATH=$pre/usr/lib/$ml/pkgconfig pkg-config --cflags --libs librouter)
	LD_LIBRARY_PATH=$pre/usr/lib/$ml "$work/ex" > "$work/out" 2>&1 || { cat "$work/out"; fail "example failed"; }
	LD_LIBRARY_PATH=$pre/usr/lib/$ml "$pre/usr/bin/routerctl" help > /dev/null || fail "routerctl does not run"
	trap 'rm -rf "$work"' EXIT
	where="a prefix unpacked with dpkg -x (not root, or no debootstrap)"
fi
grep -q '^id 29999 -> shard 80- (version 1)$' "$work/out" && grep -q '^id 29999 -> shard 80- (still version 1)$' "$work/out" ||
	{ cat "$work/out"; fail "example output differs from the README's"; }
echo "deb: ok: librouter0, librouter-etcd0, librouter-dev, routerctl $version installed in $where; README example built and ran"
