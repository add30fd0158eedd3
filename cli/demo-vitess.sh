#!/bin/sh
# make demo-vitess: a real etcd on loopback laid out as a Vitess cluster
# (global root, cell zone1, an unsharded commerce and a sharded customer
# keyspace from tests/data/examples), written by tools/vitess_topo.py with
# Vitess's own protos as vtctld would; MEMBERS application processes
# (routerctl vitess watch: librouter's follower with the Vitess source,
# routing customer.customer continuously); then
#   1. a resharding of customer 2 -> 4 cut over in the topo (replica and
#      rdonly first, then primary): every member follows;
#   2. the January 2026 sequence: a failed MoveTables leaves an empty value
#      at the global customer VSchema (every member raises `latent` at
#      once, and `routerctl vitess check` names it as a cron job would),
#      then a rebuild writes it into the cell's SrvVSchema: every member
#      refuses it and routes on;
#   3. the repair (the good VSchema applied again): accepted.
# After each step: what vtgate (which applies whatever arrives) serves for
# customer.customer next to what each member serves.  Ends with the count of
# lookups and of failed ones; exits 1 if a lookup failed or the members do
# not end on the repaired, resharded table.
#
# usage: demo-vitess.sh ROUTERCTL [MEMBERS]
set -u
RCTL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
N=${2:-2}
TOPO="/usr/bin/python3 $(dirname "$0")/../tools/vitess_topo.py"
EX=tests/data/examples
PROBE=customer.customer=1
DIR=$(mktemp -d "${TMPDIR:-/tmp}/librouter-vitess-XXXXXX")
. "$(dirname "$0")/demo-etcd.sh"
topo() { $TOPO "$@" | sed 's/^/  topo: /'; }

# Waits until every member's log has a line matching $1 after its line
# count $2 (a list "app-1:N app-2:M ..."); 10 s at most.
marks() {
	m=
	for i in $(seq 1 "$N"); do m="$m app-$i:$(wc -l <"$DIR/app-$i.log")"; done
	echo "$m"
}
await() {
	pat=$1 since=$2 t=0
	while [ $t -lt 100 ]; do
		all=1
		for mk in $since; do
			app=${mk%%:*} from=${mk#*:}
			tail -n +"$((from + 1))" "$DIR/$app.log" | grep -q -- "$pat" || all=0
		done
		[ $all = 1 ] && return 0
		sleep 0.1; t=$((t + 1))
	done
	echo "(not every member printed '$pat' within 10 s)"
	return 1
}

# What vtgate serves for the probe (it applies every SrvVSchema that
# arrives), next to each member's last routing line.
compare() {
	served=$($TOPO served "${PROBE%%=*}")
	case "$served" in
	"not found") echo "  vtgate (applies whatever arrives): ${PROBE%%=*}: table not found: every query fails" ;;
	*) echo "  vtgate (applies whatever arrives): ${PROBE%%=*} is served ($served)" ;;
	esac
	sleep 0.3
	for i in $(seq 1 "$N"); do
		echo "  librouter app-$i: $(grep -h 'routing:' "$DIR/app-$i.log" | tail -1 | sed 's/.*routing: //')"
	done
}

first_etcd
step "etcd-server on 127.0.0.1:$CPORT, laid out as a Vitess cluster (cell zone1)"
topo init commerce=$EX/commerce_initial.json customer=$EX/customer_sharded.json@-80,80- || exit 2

step "$N application processes follow cell zone1 (probe: $PROBE)"
for i in $(seq 1 "$N"); do : >"$DIR/app-$i.log"; done
since=$(marks)
for i in $(seq 1 "$N"); do
	"$RCTL" vitess watch --cell zone1 --instance "app-$i" --ttl 5 \
		--snapshot "$DIR/app-$i.snap" --probe "$PROBE" \
		>>"$DIR/app-$i.log" 2>&1 &
	PIDS="$PIDS $!"
done
await ': accepted' "$since"
"$RCTL" vitess fleet --cell zone1 --wait 10 --expect "$N"
compare

step "resharding customer 2 -> 4: replica and rdonly cut over first"
since=$(marks)
topo srvkeyspace customer replica=-40,40-80,80-c0,c0- rdonly=-40,40-80,80-c0,c0-
await ': accepted' "$since"
compare
echo "(the members route primary: the probe still goes to 80-)"
step "resharding customer 2 -> 4: primary cut over"
since=$(marks)
topo srvkeyspace customer primary=-40,40-80,80-c0,c0-
await ': accepted' "$since"
"$RCTL" vitess fleet --cell zone1 --wait 10 --expect "$N"
compare

step "January 2026: a failed MoveTables rolls back and leaves an EMPTY customer VSchema in the global topo (no rebuild)"
since=$(marks)
topo apply-vschema customer empty --skip-rebuild
echo "  vtgate and every member still serve the old SrvVSchema: vtgate shows nothing. librouter's members:"
await ': latent' "$since"
for i in $(seq 1 "$N"); do grep -h ': latent' "$DIR/app-$i.log" | tail -1 | sed 's/^/  /'; done
echo "  and a one-shot check, as a cron job or a pipeline before RebuildVSchemaGraph would run it:"
"$RCTL" vitess check --cell zone1 >"$DIR/check.out" 2>&1; latent_rc=$?
sed 's/^/  check: /' "$DIR/check.out"
echo "  (routerctl vitess check exit status $latent_rc: the alarm a cron job raises, 13 hours before the outage)"

step "13 hours later: a routine rebuild writes it into the cell's SrvVSchema"
since=$(marks)
topo rebuild
await ': refused' "$since"
for i in $(seq 1 "$N"); do grep -h ': refused' "$DIR/app-$i.log" | tail -1 | sed 's/^/  /'; done
compare
"$RCTL" vitess fleet --cell zone1 --wait 10 --expect "$N"

step "the repair: the good customer VSchema applied again (with its rebuild)"
since=$(marks)
topo apply-vschema customer $EX/customer_sharded.json
await ': accepted' "$since"
"$RCTL" vitess fleet --cell zone1 --wait 10 --expect "$N"; fleet_rc=$?
compare
"$RCTL" vitess check --cell zone1 >"$DIR/check.out" 2>&1; check_rc=$?
sed 's/^/  check: /' "$DIR/check.out"

step "stop the members"
for p in $PIDS; do kill "$p"; done
wait $PIDS 2>/dev/null; PIDS=
failed=0
for i in $(seq 1 "$N"); do
	line=$(grep -h '^stopped:' "$DIR/app-$i.log")
	last=$(grep -h 'routing:' "$DIR/app-$i.log" | tail -1)
	echo "app-$i $line"
	case "$line" in *" 0 failed") ;; *) failed=1 ;; esac
	# Key 1 (keyspace ID d4...) is on c0- once customer has 4 shards.
	case "$last" in *c0-*) ;; *) echo "app-$i did not end on the 4-shard table: $last"; failed=1 ;; esac
done
[ "$latent_rc" = 1 ] || { echo "vitess check did not raise the latent poison (exit $latent_rc)"; failed=1; }
[ "$check_rc" = 0 ] || { echo "vitess check after the repair: exit $check_rc"; failed=1; }
if [ $failed = 0 ] && [ $fleet_rc = 0 ]; then
	echo "demo-vitess: every member followed the resharding, refused the poisoned SrvVSchema vtgate applied, took the repair, and never failed a lookup"
	exit 0
fi
echo "demo-vitess: FAILED (fleet exit $fleet_rc, failed lookups or wrong table: $failed)"
exit 1
