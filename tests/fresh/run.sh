#!/bin/sh
# make test-fresh: the README's two commands on a minimal fresh Debian 12.
#
# Creates a `debootstrap --variant=minbase bookworm` tree (FRESH_ROOT),
# installs only git and make in it, clones this repository (its committed
# HEAD) into it and runs `make demo` and `make test` there,
# as root, the way a new user on a new machine would.  Needs root,
# debootstrap and a Debian mirror; prints how long each step took.
#
#   tests/fresh/run.sh [REPO]      REPO defaults to this checkout
set -eu
repo=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
root=${FRESH_ROOT:-/var/tmp/librouter-fresh}
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}
t0=$(date +%s)
say() { echo "== fresh: $* ($(( $(date +%s) - t0 )) s)"; }

[ "$(id -u)" = 0 ] || { echo "test-fresh: needs root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap > /dev/null || { echo "test-fresh: needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }

# The bare base is debootstrapped once and kept as a tarball; every run
# starts from a fresh copy of it, so nothing a previous run installed helps.
base=${FRESH_BASE:-/var/tmp/librouter-fresh-bookworm-minbase.tar}
if [ ! -e "$base" ]; then
	rm -rf "$root"
	say "debootstrap --variant=minbase bookworm (once; cached in $base)"
	debootstrap --variant=minbase bookworm "$root" "$mirror" > /tmp/librouter-fresh-debootstrap.log 2>&1 ||
		{ tail -20 /tmp/librouter-fresh-debootstrap.log; exit 1; }
	tar -C "$root" -cf "$base.tmp" . && mv "$base.tmp" "$base"
fi
for m in dev/pts dev proc sys; do umount "$root/$m" 2>/dev/null || true; done
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xf "$base"
say "fresh minbase tree in $root"

umount_all() {
	for m in dev/pts dev proc sys; do umount "$root/$m" 2>/dev/null || true; done
}
trap umount_all EXIT
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"

say "installing git and make only"
chroot "$root" sh -c 'apt-get update -q > /dev/null && apt-get install -y -q --no-install-recommends git make ca-certificates > /dev/null'
rm -rf "$root/src/librouter"
mkdir -p "$root/src"
git clone -q "$repo" "$root/src/librouter"
say "make demo (in the chroot: it installs what it needs)"
chroot "$root" sh -c 'cd /src/librouter && make demo' > /tmp/librouter-fresh-demo.log 2>&1 ||
	{ tail -30 /tmp/librouter-fresh-demo.log; echo "test-fresh: make demo failed (/tmp/librouter-fresh-demo.log)" >&2; exit 1; }
say "make test"
chroot "$root" sh -c 'cd /src/librouter && make test' > /tmp/librouter-fresh-test.log 2>&1 ||
	{ tail -40 /tmp/librouter-fresh-test.log; echo "test-fresh: make test failed (/tmp/librouter-fresh-test.log)" >&2; exit 1; }
tail -1 /tmp/librouter-fresh-test.log
say "ok: make demo and make test pass on a minimal Debian 12 with only git and make"
