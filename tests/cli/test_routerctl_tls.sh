#!/bin/sh
# routerctl's etcd commands against an etcd that requires TLS client
# certificates and a password (Debian's /usr/bin/etcd on loopback, free
# ports, a throwaway CA made with openssl): push, fleet, watch and vitess
# dump with --cacert --cert --cert-key --user and --password-file /
# ROUTERCTL_ETCD_PASSWORD, and the clear errors of a wrong password and a
# missing certificate.
#
#   tests/cli/test_routerctl_tls.sh ROUTERCTL
set -eu
ctl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "test_routerctl_tls: FAIL: $*" >&2; exit 1; }

cd "$tmp"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
{
	openssl req -x509 $ec -keyout ca.key -out ca.pem -subj /CN=routerctl-test-ca
	openssl req $ec -keyout server.key -out server.pem -subj /CN=routerctl-test-server \
		-CA ca.pem -CAkey ca.key -addext subjectAltName=IP:127.0.0.1
	# No Common Name: etcd 3.4's gateway refuses one while auth is on.
	openssl req $ec -keyout client.key -out client.pem -subj /O=routerctl-test-client \
		-CA ca.pem -CAkey ca.key -addext extendedKeyUsage=clientAuth
} > openssl.log 2>&1 || fail "openssl: $(cat openssl.log)"

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cport=$(port) pport=$(port)
ep=https://127.0.0.1:$cport
/usr/bin/etcd --name default --data-dir "$tmp/data" --listen-client-urls "$ep" \
	--advertise-client-urls "$ep" --listen-peer-urls "http://127.0.0.1:$pport" \
	--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
	--initial-cluster "default=http://127.0.0.1:$pport" --log-level warn \
	--cert-file server.pem --key-file server.key --trusted-ca-file ca.pem \
	--client-cert-auth --auth-token simple --auth-token-ttl 2 > etcd.log 2>&1 &
pid=$!
tls="--cacert ca.pem --cert client.pem --key client.key"
i=0
until curl -sf $tls -X POST "$ep/v3/kv/range" -d '{"key":"AA=="}' > /dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "etcd did not start ($(cat etcd.log))"; sleep 0.1
done
gw() { curl -sf $tls -X POST "$ep/v3/auth/$1" -d "$2" > /dev/null || fail "auth/$1"; }
gw user/add '{"name":"root","password":"r00t pw"}'
gw role/add '{"name":"root"}'
gw user/grant '{"user":"root","role":"root"}'
gw enable '{}'
printf 'r00t pw\n' > pw

opts="--endpoints $ep --cacert ca.pem --cert client.pem --cert-key client.key"
"$ctl" dump "$here/data/examples/customer_sharded.json" --keyspace customer \
	--shards customer=-80,80- > v2.json || fail "dump"

# push with --user NAME:PASSWORD, then fleet with --password-file.
"$ctl" push v2.json $opts --user 'root:r00t pw' > push.out 2>&1 || fail "push: $(cat push.out)"
# (No member follows yet: exit 1, but etcd was read, not 2.)
rc=0; "$ctl" fleet $opts --user root --password-file pw > fleet.out 2>&1 || rc=$?
[ "$rc" != 2 ] && grep -q "at revision" fleet.out || fail "fleet: $(cat fleet.out)"

# watch with ROUTERCTL_ETCD_PASSWORD follows until its first verdict.
ROUTERCTL_ETCD_PASSWORD='r00t pw' timeout 20 "$ctl" watch $opts --user root --verdicts 1 \
	--instance tls-1 > watch.out 2>&1 || fail "watch: $(cat watch.out)"
grep -q accepted watch.out || fail "watch did not accept: $(cat watch.out)"
grep -q 'r00t' watch.out && fail "the password is printed"

# vitess dump: the cell's CellInfo names host:port, dialled with https://.
cellinfo() { printf "\\012\\$(printf %03o ${#1})%s\\022\\$(printf %03o ${#2})%s" "$1" "$2"; }
put() { # KEY FILE, with a fresh token
	tok=$(curl -sf $tls -X POST "$ep/v3/auth/authenticate" -d '{"name":"root","password":"r00t pw"}' |
		sed 's/.*"token":"\([^"]*\)".*/\1/')
	curl -sf $tls -H "Authorization: $tok" -X POST "$ep/v3/kv/put" \
		-d "{\"key\":\"$(printf %s "$1" | base64 -w0)\",\"value\":\"$(base64 -w0 < "$2")\"}" > /dev/null || fail "put $1"
}
cellinfo "127.0.0.1:$cport" /vitess/zone1 > zone1.cell
put /vitess/global/cells/zone1/CellInfo zone1.cell
put /vitess/zone1/SrvVSchema "$here/data/topo/srv_vschema_rules.bin"
put /vitess/zone1/keyspaces/commerce/SrvKeyspace "$here/data/topo/srvks_commerce.bin"
put /vitess/zone1/keyspaces/customer/SrvKeyspace "$here/data/topo/srvks_customer_resharding.bin"
ROUTERCTL_ETCD_PASSWORD='r00t pw' "$ctl" vitess dump --cell zone1 $opts --user root > dump.json 2> dump.err ||
	fail "vitess dump: $(cat dump.err)"
"$ctl" validate dump.json > /dev/null || fail "the dumped document does not validate"

# A wrong password: exit 2, etcd's words, the password not echoed.
if "$ctl" fleet $opts --user root:wrong > bad.out 2>&1; then fail "wrong password accepted"; else rc=$?; fi
[ "$rc" = 2 ] || fail "wrong password: exit $rc"
grep -q "etcd authentication failed for user root at $ep" bad.out || fail "wrong password: $(cat bad.out)"
grep -q wrong bad.out && fail "the wrong password is printed"
# No password at all, a certificate without its key: usage errors.
"$ctl" fleet $opts --user root > nopw.out 2>&1 && fail "no password accepted" || [ $? = 2 ] || fail "no password: not 2"
grep -q "no password for etcd user root" nopw.out || fail "no password: $(cat nopw.out)"
"$ctl" fleet --endpoints "$ep" --cert client.pem > nokey.out 2>&1 && fail "cert without key" || [ $? = 2 ] || fail "nokey: not 2"
grep -q "cert-key" nokey.out || fail "nokey: $(cat nokey.out)"
# No client certificate: a TLS error that says so.
if "$ctl" fleet --endpoints "$ep" --cacert ca.pem --user root:'r00t pw' > nocert.out 2>&1; then fail "no client certificate accepted"; fi
grep -q "client certificate" nocert.out || fail "no client certificate: $(cat nocert.out)"
echo "test_routerctl_tls: ok"
