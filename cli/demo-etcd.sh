# Sourced by the demos (demo-fleet.sh, demo-vitess.sh): one etcd-server on
# loopback with its data in $DIR/etcd.  Sets CPORT, PPORT, ETCD_PID and
# exports ETCDCTL_ENDPOINTS.  The caller sets DIR before sourcing this and
# adds the processes it starts to PIDS; the cleanup trap below kills them
# and etcd and removes DIR.  step prints a demo step's heading.

ETCD_PID=
PIDS=

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	[ -n "$ETCD_PID" ] && kill -9 "$ETCD_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

step() { printf '\n=== %s\n' "$*"; }

# A port nothing listens on.  POSIX sh has no /dev/tcp (dash, Debian's
# /bin/sh, treats it as a file name and every port looked free), so ask
# curl: exit 7 is "could not connect".
free_port() {
	# Below Linux's ephemeral range (32768-60999): a port there can be
	# taken by any outgoing connection between this check and etcd's bind.
	for p in $(shuf -i 20000-32000 -n 50); do
		curl -s -o /dev/null -m 1 "http://127.0.0.1:$p/" 2>/dev/null
		if [ $? -eq 7 ]; then
			echo "$p"; return 0
		fi
	done
	echo "demo: found no free port" >&2
	return 1
}

pick_ports() {
	CPORT=$(free_port) && PPORT=$(free_port) || return 1
	while [ "$PPORT" = "$CPORT" ]; do PPORT=$(free_port) || return 1; done
	export ETCDCTL_ENDPOINTS=http://127.0.0.1:$CPORT
}

# Start etcd on CPORT/PPORT and wait until it answers.  Returns 1 when a
# port was taken between free_port and etcd's bind (another job on the
# machine): etcd exited; the caller picks others.  Exits 2 when etcd does
# not come up for another reason.
start_etcd() {
	etcd --name demo --data-dir "$DIR/etcd" \
		--listen-client-urls "$ETCDCTL_ENDPOINTS" \
		--advertise-client-urls "$ETCDCTL_ENDPOINTS" \
		--listen-peer-urls "http://127.0.0.1:$PPORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$PPORT" \
		--initial-cluster "demo=http://127.0.0.1:$PPORT" \
		--log-level warn >>"$DIR/etcd.log" 2>&1 &
	ETCD_PID=$!
	i=0
	until curl -sf -m 1 -X POST -d '{"key":"AA=="}' \
		"$ETCDCTL_ENDPOINTS/v3/kv/range" >/dev/null 2>&1; do
		i=$((i + 1))
		if ! kill -0 "$ETCD_PID" 2>/dev/null && grep -q 'address already in use' "$DIR/etcd.log"; then
			ETCD_PID=
			return 1
		fi
		[ $i -gt 100 ] && { echo "etcd did not start:"; cat "$DIR/etcd.log"; exit 2; }
		sleep 0.1
	done
}

# pick_ports + start_etcd, with new ports up to three times.
first_etcd() {
	pick_ports || exit 2
	tries=0
	until start_etcd; do
		tries=$((tries + 1))
		[ $tries -lt 3 ] || { echo "etcd did not start:"; cat "$DIR/etcd.log"; exit 2; }
		pick_ports || exit 2
		rm -rf "$DIR/etcd"
		echo "(a port was taken meanwhile: etcd-server on 127.0.0.1:$CPORT)"
	done
}
