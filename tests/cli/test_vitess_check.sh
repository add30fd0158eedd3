#!/bin/sh
# routerctl vitess check against a real etcd on loopback (as
# test_vitess_dump.sh: Debian's /usr/bin/etcd on free ports), laid out as
# a Vitess cluster with the values of tests/data/topo/, then the January
# 2026 sequence: the empty VSchema written to the global topo (latent),
# the SrvVSchema rebuilt from it (served), the repair.
#
#   tests/cli/test_vitess_check.sh ROUTERCTL
set -eu
ctl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
data=$(cd "$(dirname "$0")/../data/topo" && pwd)
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "test_vitess_check: FAIL: $*" >&2; exit 1; }

. "$(dirname "$0")/vitess_etcd.sh"
# check [ARGS...]: runs routerctl vitess check, stdout in $tmp/out, stderr
# in $tmp/err, exit status in $rc.
check() {
	if "$ctl" vitess check --cell zone1 --endpoints "$ep" "$@" > "$tmp/out" 2> "$tmp/err"; then rc=0; else rc=$?; fi
}
G=/vitess/global

# A good cluster: the cell serves what the global topo holds.
cellinfo "127.0.0.1:$cport" /vitess/zone1 > "$tmp/zone1.cell"
putfile $G/cells/zone1/CellInfo "$tmp/zone1.cell"
putfile $G/keyspaces/commerce/VSchema "$data/keyspace_commerce.bin"
putfile $G/keyspaces/customer/VSchema "$data/keyspace_customer.bin"
putfile /vitess/zone1/SrvVSchema "$data/srv_vschema.bin"
putfile /vitess/zone1/keyspaces/commerce/SrvKeyspace "$data/srvks_commerce.bin"
putfile /vitess/zone1/keyspaces/customer/SrvKeyspace "$data/srvks_customer.bin"
check
[ "$rc" = 0 ] || fail "good cluster: exit $rc ($(cat "$tmp/out" "$tmp/err"))"
grep -q '^ok: cell zone1 serves version [0-9]* (2 keyspaces); 6 global values judged, nothing latent$' "$tmp/out" ||
	fail "good cluster: $(cat "$tmp/out")"
check --tablet-type replica
[ "$rc" = 0 ] || fail "good cluster, replica: exit $rc ($(cat "$tmp/out" "$tmp/err"))"
check --json
[ "$rc" = 0 ] || fail "good cluster --json: exit $rc"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["findings"] == [] and d["judged"] == 6, d' "$tmp/out" ||
	fail "good cluster --json: $(cat "$tmp/out")"

# 19:29, January 9th: a failed MoveTables' rollback writes an empty value
# at the global VSchema.  Nothing served changed: latent.
: > "$tmp/empty"
putfile $G/keyspaces/customer/VSchema "$tmp/empty"
poison=$(lastrev)
check
[ "$rc" = 1 ] || fail "latent poison: exit $rc ($(cat "$tmp/out" "$tmp/err"))"
[ "$(wc -l < "$tmp/out")" = 1 ] || fail "latent poison: not one finding: $(cat "$tmp/out")"
grep -q "^latent $G/keyspaces/customer/VSchema mod_revision=$poison keyspace=customer ROUTER_ECOVERAGE: .*would drop 2 tables (of 2: corder, customer)" "$tmp/out" ||
	fail "latent poison: $(cat "$tmp/out")"
grep -q "lists 2 PRIMARY shards" "$tmp/out" || fail "latent poison: shards not said: $(cat "$tmp/out")"
check --json
[ "$rc" = 1 ] || fail "latent poison --json: exit $rc"
/usr/bin/python3 - "$tmp/out" "$poison" <<'PY' || fail "latent poison --json: $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert not d["ok"], d
[f] = d["findings"]
assert f["kind"] == "latent" and f["key"] == "/vitess/global/keyspaces/customer/VSchema", f
assert f["mod_revision"] == int(sys.argv[2]) and f["keyspace"] == "customer", f
assert f["tables_lost"] == 2 and f["vindexes_lost"] == 1 and not f["deleted"], f
PY

# 13 hours later a rebuild writes it into the cell's SrvVSchema: the
# served-side finding (and nothing latent is judged against it).
putfile /vitess/zone1/SrvVSchema "$data/srv_vschema_incident.bin"
served=$(lastrev)
check
[ "$rc" = 1 ] || fail "served poison: exit $rc ($(cat "$tmp/out" "$tmp/err"))"
grep -q "^served /vitess/zone1/SrvVSchema mod_revision=$served keyspace=customer ROUTER_ECOVERAGE: .*customer" "$tmp/out" ||
	fail "served poison: $(cat "$tmp/out")"
grep -q "not judged" "$tmp/err" || fail "served poison: the global values' fate is not said"

# The repair: the good VSchema re-applied and rebuilt.
putfile $G/keyspaces/customer/VSchema "$data/keyspace_customer.bin"
putfile /vitess/zone1/SrvVSchema "$data/srv_vschema.bin"
check
[ "$rc" = 0 ] || fail "repaired: exit $rc ($(cat "$tmp/out"))"

# vitess watch says latent at once; vitess fleet compares the members
# with the cell's current state (not the document key's revision).
fleet() {
	if "$ctl" vitess fleet --cell zone1 --endpoints "$ep" "$@" > "$tmp/fleet" 2> "$tmp/fleet.err"; then frc=0; else frc=$?; fi
}
"$ctl" vitess watch --cell zone1 --endpoints "$ep" --instance w1 > "$tmp/watch.out" 2> "$tmp/watch.err" &
wpid=$!
fleet --wait 10 --expect 1
[ "$frc" = 0 ] || fail "vitess fleet: exit $frc ($(cat "$tmp/fleet" "$tmp/fleet.err"))"
grep -q '^cell zone1 at revision [0-9]*: 1 of 1 members serve it$' "$tmp/fleet" || fail "vitess fleet: $(cat "$tmp/fleet")"
grep -q 'LATENT' "$tmp/fleet" || fail "vitess fleet: no LATENT column: $(cat "$tmp/fleet")"
putfile $G/keyspaces/customer/VSchema "$tmp/empty"
poison=$(lastrev)
i=0
until grep -q "^w1: latent: $G/keyspaces/customer/VSchema at revision $poison: ROUTER_ECOVERAGE: " "$tmp/watch.out"; do
	i=$((i + 1)); [ $i -lt 30 ] || fail "vitess watch: no latent line: $(cat "$tmp/watch.out" "$tmp/watch.err")"; sleep 0.1
done
# Latent changes nothing served: the member still serves the cell.
fleet --wait 5
[ "$frc" = 0 ] || fail "vitess fleet with latent: exit $frc ($(cat "$tmp/fleet"))"
grep -q "latent: $G/keyspaces/customer/VSchema at revision $poison: ROUTER_ECOVERAGE" "$tmp/fleet" || fail "vitess fleet: latent not shown: $(cat "$tmp/fleet")"
putfile /vitess/zone1/SrvVSchema "$data/srv_vschema_incident.bin"
fleet --wait 5
[ "$frc" = 1 ] || fail "vitess fleet after the refused rebuild: exit $frc ($(cat "$tmp/fleet"))"
grep -q '0 of 1 members serve it' "$tmp/fleet" || fail "vitess fleet refused: $(cat "$tmp/fleet")"
putfile $G/keyspaces/customer/VSchema "$data/keyspace_customer.bin"
fixed=$(lastrev)
putfile /vitess/zone1/SrvVSchema "$data/srv_vschema.bin"
fleet --wait 10 --expect 1
[ "$frc" = 0 ] || fail "vitess fleet repaired: exit $frc ($(cat "$tmp/fleet"))"
grep -q "^w1: latent: $G/keyspaces/customer/VSchema at revision $fixed: ROUTER_OK: cleared" "$tmp/watch.out" || fail "vitess watch: not cleared: $(cat "$tmp/watch.out")"
fleet --expect 2
[ "$frc" = 1 ] || fail "vitess fleet --expect 2: exit $frc"
fleet --json
[ "$frc" = 0 ] || fail "vitess fleet --json: exit $frc"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["cell"] == "zone1" and d["serving"] == 1 and d["members"][0]["latent"] == [], d' "$tmp/fleet" ||
	fail "vitess fleet --json: $(cat "$tmp/fleet")"
kill $wpid; wait $wpid 2>/dev/null || true

# Lost tables, garbage, a dangling routing rule: each a latent finding.
putfile $G/keyspaces/customer/VSchema "$data/keyspace_customer_lost_tables.bin"
printf '\377\377\377' > "$tmp/garbage"
putfile $G/keyspaces/commerce/VSchema "$tmp/garbage"
putfile $G/RoutingRules "$data/routing_rules_dangling.bin"
check
[ "$rc" = 1 ] || fail "three findings: exit $rc"
[ "$(wc -l < "$tmp/out")" = 3 ] || fail "three findings: $(cat "$tmp/out")"
grep -q "^latent $G/keyspaces/customer/VSchema .*ROUTER_ESHRINK: .*would drop 1 tables (of 2: corder)" "$tmp/out" || fail "lost tables: $(cat "$tmp/out")"
grep -q "^latent $G/keyspaces/commerce/VSchema .*ROUTER_EDOC: .*not valid protobuf" "$tmp/out" || fail "garbage: $(cat "$tmp/out")"
grep -q "^latent $G/RoutingRules .*ROUTER_ERULE: .*nowhere" "$tmp/out" || fail "dangling rule: $(cat "$tmp/out")"
# A served keyspace whose global VSchema is gone.
k=$(printf %s $G/keyspaces/customer/VSchema | base64 -w0)
curl -sf -X POST "$ep/v3/kv/deleterange" -d "{\"key\":\"$k\"}" > /dev/null || fail "delete"
check
grep -q "^latent $G/keyspaces/customer/VSchema mod_revision=0 keyspace=customer .*deleted while served" "$tmp/out" || fail "deleted: $(cat "$tmp/out")"

# Usage and connection errors: 2.
"$ctl" vitess check --endpoints "$ep" > /dev/null 2>&1 && fail "no --cell accepted" || [ $? = 2 ] || fail "no --cell: not 2"
"$ctl" vitess check --cell zone1 --endpoints http://127.0.0.1:1 > /dev/null 2>&1 && fail "no etcd accepted" || [ $? = 2 ] || fail "no etcd: not 2"
"$ctl" vitess dump --cell zone1 --endpoints "$ep" --json > /dev/null 2>&1 && fail "dump --json accepted" || [ $? = 2 ] || fail "dump --json: not 2"
"$ctl" vitess check --cell zone1 --endpoints "$ep" --wait 1 > /dev/null 2>&1 && fail "check --wait accepted" || [ $? = 2 ] || fail "check --wait: not 2"
"$ctl" vitess fleet --cell zone1 --endpoints "$ep" --probe a.b=1 > /dev/null 2>&1 && fail "fleet --probe accepted" || [ $? = 2 ] || fail "fleet --probe: not 2"
echo "test_vitess_check: ok (good cluster, latent and served poison, repair, vitess watch latent lines, vitess fleet, lost tables, garbage, dangling rule, deletion, exit codes)"
