#!/bin/sh
# make demo-fleet: one etcd, several application processes following one
# routing document (routerctl watch, which embeds librouter's follower and
# routes a probe key continuously), and the steps of README "Fleet
# distribution on etcd":
#   1. push a 2-shard VSchema: every member follows;
#   2. push a resharding 2 -> 4: every member follows;
#   3. write the empty VSchema (push refuses it; written around push, as a
#      hurried operator would): every member refuses it, routing on;
#   4. kill etcd, restart it: every member keeps routing, then reconnects;
# and the fleet table after each step.  Exits 1 if any lookup failed or the
# fleet did not end up serving the good document.
#
# usage: demo-fleet.sh ROUTERCTL [MEMBERS]
set -u
RCTL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
N=${2:-3}
DOC=tests/data/examples/customer_sharded.json
KEY=/librouter/demo/vschema
DIR=$(mktemp -d "${TMPDIR:-/tmp}/librouter-fleet-XXXXXX")
. "$(dirname "$0")/demo-etcd.sh"
fleet() { "$RCTL" fleet --wait 10 --expect "$N"; }

# The documents: customer sharded 2 and 4 ways (routerctl dump embeds the
# shards), and the January 2026 empty VSchema.
"$RCTL" dump "$DOC" --keyspace customer --shards customer=-80,80- >"$DIR/v2.json" || exit 2
"$RCTL" dump "$DOC" --keyspace customer --shards customer=-40,40-80,80-c0,c0- >"$DIR/v4.json" || exit 2
echo '{"keyspaces": {"customer": {}}}' >"$DIR/empty.json"

first_etcd
step "etcd-server on 127.0.0.1:$CPORT (data in $DIR/etcd)"
export ROUTER_ETCD_KEY=$KEY
step "push: customer on 2 shards"
"$RCTL" push "$DIR/v2.json" || exit 1

step "$N application processes follow $KEY (probe: customer.corder 29999)"
for i in $(seq 1 "$N"); do
	"$RCTL" watch --instance "app-$i" --ttl 5 --snapshot "$DIR/app-$i.snap" \
		--probe customer.corder=29999 >"$DIR/app-$i.log" 2>&1 &
	PIDS="$PIDS $!"
done
fleet

step "push: resharding 2 -> 4"
t0=$(date +%s%N)
"$RCTL" push "$DIR/v4.json" || exit 1
fleet
echo "(push to every member serving it: $(( ($(date +%s%N) - t0) / 1000000 )) ms, fleet polling included)"
echo "(VERSION is the key's etcd revision: these documents carry no \"version\", so a"
echo " follower takes the mod revision of the key; etcd counts every write, the"
echo " members' status keys included, hence the jumps between pushes)"

step "push: the empty VSchema (push checks it first)"
"$RCTL" push "$DIR/empty.json"
echo "(push exit $?: nothing written)"
step "the empty VSchema written anyway, around push (a raw etcd put)"
curl -sf -X POST "$ETCDCTL_ENDPOINTS/v3/kv/put" -d "{\"key\":\"$(printf %s "$KEY" | base64 -w0)\",\"value\":\"$(base64 -w0 <"$DIR/empty.json")\"}" >/dev/null || exit 2
fleet
for i in $(seq 1 "$N"); do grep -h 'refused' "$DIR/app-$i.log" | tail -1; grep -h 'routing:' "$DIR/app-$i.log" | tail -1; done

step "kill -9 etcd; members keep routing"
kill -9 "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null; ETCD_PID=
sleep 2
for i in $(seq 1 "$N"); do grep -h 'etcd failed' "$DIR/app-$i.log" | tail -1; done
sleep 1
for i in $(seq 1 "$N"); do
	# A probe line printed now: SIGUSR1 is not used; the last routing
	# line after the failure shows the table still answering.
	grep -h 'routing:' "$DIR/app-$i.log" | tail -1
done
step "restart etcd; members reconnect and resume"
start_etcd || { echo "etcd could not restart on port $CPORT:"; cat "$DIR/etcd.log"; exit 2; }
fleet
step "push: back to the 4-shard document"
"$RCTL" push "$DIR/v4.json" || exit 1
fleet; fleet_rc=$?

step "stop the members"
for p in $PIDS; do kill "$p"; done
wait $PIDS 2>/dev/null; PIDS=
failed=0
for i in $(seq 1 "$N"); do
	line=$(grep -h '^stopped:' "$DIR/app-$i.log")
	echo "app-$i $line"
	case "$line" in *" 0 failed") ;; *) failed=1 ;; esac
done
if [ $failed = 0 ] && [ $fleet_rc = 0 ]; then
	echo "demo-fleet: every member followed every good revision, refused the bad one, and never failed a lookup"
	exit 0
fi
echo "demo-fleet: FAILED (fleet exit $fleet_rc, failed lookups: $failed)"
exit 1
