#!/bin/sh
# routerctl vitess dump against a real etcd on loopback (Debian's
# /usr/bin/etcd on free ports, a temporary data directory), laid out as a
# Vitess cluster with the values of tests/data/topo/ (written by
# tools/gen_topo_fixtures.py), put through etcd's v3 JSON gateway with curl.
#
#   tests/cli/test_vitess_dump.sh ROUTERCTL
set -eu
ctl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
data=$(cd "$(dirname "$0")/../data/topo" && pwd)
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "test_vitess_dump: FAIL: $*" >&2; exit 1; }

. "$(dirname "$0")/vitess_etcd.sh"
cellinfo "127.0.0.1:$cport" /vitess/zone1 > "$tmp/zone1.cell"
cellinfo "127.0.0.1:1" /vitess/zone1 > "$tmp/zone2.cell"
putfile /vitess/global/cells/zone1/CellInfo "$tmp/zone1.cell"
putfile /vitess/global/cells/zone2/CellInfo "$tmp/zone2.cell"
putfile /vitess/zone1/SrvVSchema "$data/srv_vschema_rules.bin"
putfile /vitess/zone1/keyspaces/commerce/SrvKeyspace "$data/srvks_commerce.bin"
putfile /vitess/zone1/keyspaces/customer/SrvKeyspace "$data/srvks_customer_resharding.bin"
rev=$(lastrev)

"$ctl" vitess dump --cell zone1 --endpoints "$ep" > "$tmp/primary.json" 2> "$tmp/primary.err" ||
	fail "dump exited $? ($(cat "$tmp/primary.err"))"
"$ctl" vitess dump --cell zone1 --endpoints "$ep" --tablet-type replica > "$tmp/replica.json" 2>/dev/null ||
	fail "dump --tablet-type replica"
# The document is one `routerctl dump` writes: other commands read it.
"$ctl" validate "$tmp/primary.json" > /dev/null || fail "the dumped document does not validate"
[ "$("$ctl" route "$tmp/primary.json" customer customer 1)" = "80-" ] || fail "primary customer.customer 1"
# Mid-MoveTables: primary writes of customer.corder go to commerce, and
# route says so (the keyspace, not only commerce's shard).
"$ctl" route "$tmp/primary.json" customer corder 1 > "$tmp/route.out" || fail "route customer.corder"
[ "$(cat "$tmp/route.out")" = "0
served by commerce.corder (routing_rules)" ] || fail "primary customer.corder: $(cat "$tmp/route.out")"
[ "$("$ctl" route "$tmp/primary.json" customer corder 1 --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["target"]["keyspace"])')" = commerce ] ||
	fail "route --json names the target keyspace"
[ "$("$ctl" route "$tmp/replica.json" customer corder 1 | head -1)" = "c0-" ] || fail "replica customer.corder (4 shards, own rule)"
[ "$("$ctl" route "$tmp/primary.json" tenant customer 1)" = "80-
served by customer.customer (keyspace_routing_rules)" ] || fail "keyspace routing rule tenant -> customer"
# Partial MoveTables: customer's -80 is commerce's with --shard-routing (as
# vtgate with --enable-partial-keyspace-migration), customer's without.
id=0
until [ "$("$ctl" route "$tmp/primary.json" customer customer $((id + 1)))" = "-80" ]; do
	id=$((id + 1)); [ $id -lt 100 ] || fail "no id in -80"
done
id=$((id + 1))
[ "$("$ctl" route "$tmp/primary.json" customer customer $id --shard-routing)" = "-80
served by commerce.customer (shard_routing_rules)" ] || fail "--shard-routing: $("$ctl" route "$tmp/primary.json" customer customer $id --shard-routing)"
grep -q 'mirror_rules' "$tmp/primary.err" || fail "the mirror rule is not reported"
grep -q "\"version\": $rev\$" "$tmp/primary.json" || fail "version is not the largest mod revision ($rev)"

# zone2's CellInfo names an etcd that is not there: exit 2, unless
# --cell-endpoints says where the cell's topo is.
"$ctl" vitess dump --cell zone2 --endpoints "$ep" > /dev/null 2>&1 && fail "zone2 read from nowhere" || [ $? = 2 ] || fail "zone2: not 2"
"$ctl" vitess dump --cell zone2 --endpoints "$ep" --cell-endpoints "$ep" --compact > "$tmp/zone2.json" 2>/dev/null ||
	fail "zone2 with --cell-endpoints"
[ "$(wc -l < "$tmp/zone2.json")" = 1 ] || fail "--compact is not one line"

# A value that does not decode: exit 1, naming the key; nothing printed.
printf '\377\377\377' > "$tmp/garbage"
putfile /vitess/zone1/keyspaces/customer/SrvKeyspace "$tmp/garbage"
if "$ctl" vitess dump --cell zone1 --endpoints "$ep" > "$tmp/out" 2> "$tmp/err"; then fail "garbage accepted"; else rc=$?; fi
[ "$rc" = 1 ] || fail "garbage: exit $rc, not 1"
grep -q '/vitess/zone1/keyspaces/customer/SrvKeyspace: not valid protobuf' "$tmp/err" || fail "garbage: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "garbage: something printed"
# An unknown cell: exit 1; etcd unreachable: exit 2.
"$ctl" vitess dump --cell nowhere --endpoints "$ep" > /dev/null 2>&1 && fail "unknown cell accepted" || [ $? = 1 ] || fail "unknown cell: not 1"
"$ctl" vitess dump --cell zone1 --endpoints http://127.0.0.1:1 > /dev/null 2>&1 && fail "no etcd accepted" || [ $? = 2 ] || fail "no etcd: not 2"

# vitess watch follows the cell with watch's options and lines: accepted,
# then a value that does not decode refused (naming its key), exit 1.
"$ctl" vitess dump --cell zone1 --endpoints "$ep" --json > /dev/null 2>&1 && fail "dump --json accepted" || [ $? = 2 ] || fail "dump --json: not 2"
putfile /vitess/zone1/keyspaces/customer/SrvKeyspace "$data/srvks_customer.bin"
"$ctl" vitess watch --cell zone1 --endpoints "$ep" --json --verdicts 2 --instance w1 \
	--probe customer.corder=1 > "$tmp/watch.out" 2> "$tmp/watch.err" &
wpid=$!
i=0
until grep -q '"event":"verdict"' "$tmp/watch.out" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "vitess watch: no verdict ($(cat "$tmp/watch.err"))"; sleep 0.1
done
putfile /vitess/zone1/keyspaces/customer/SrvKeyspace "$tmp/garbage"
rc=0; wait $wpid || rc=$?
[ "$rc" = 1 ] || fail "vitess watch: exit $rc, not 1 ($(cat "$tmp/watch.err"))"
# The probe mid-MoveTables: commerce's shard, and commerce named.
grep '"event":"verdict"' "$tmp/watch.out" | head -1 | grep -q '"code":"ROUTER_OK".*"probe":"customer.corder 1 -> 0 served by commerce.corder (version' ||
	fail "vitess watch: first verdict $(cat "$tmp/watch.out")"
grep '"event":"verdict"' "$tmp/watch.out" | sed -n 2p | grep -q '"code":"ROUTER_EDOC".*/vitess/zone1/keyspaces/customer/SrvKeyspace' ||
	fail "vitess watch: second verdict $(cat "$tmp/watch.out")"
"$ctl" vitess watch --endpoints "$ep" > /dev/null 2>&1 && fail "watch without --cell" || [ $? = 2 ] || fail "watch without --cell: not 2"
echo "test_vitess_dump: ok (primary and replica documents, rules, refusals, exit codes, vitess watch)"
