# Sourced by test_vitess_dump.sh and test_vitess_check.sh: a real etcd on
# loopback (Debian's /usr/bin/etcd on free ports, its data in $tmp) and
# the helpers that lay it out as a Vitess cluster through etcd's v3 JSON
# gateway with curl.  Needs $tmp and fail(); sets $cport, $ep and $pid
# (the cleanup trap of the sourcing script kills it).

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cport=$(port) pport=$(port)
ep=http://127.0.0.1:$cport
/usr/bin/etcd --name default --data-dir "$tmp/data" --listen-client-urls "$ep" \
	--advertise-client-urls "$ep" --listen-peer-urls "http://127.0.0.1:$pport" \
	--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
	--initial-cluster "default=http://127.0.0.1:$pport" --log-level warn > "$tmp/etcd.log" 2>&1 &
pid=$!
i=0
until curl -sf -X POST "$ep/v3/kv/range" -d '{"key":"AA=="}' > /dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "etcd did not start ($(cat "$tmp/etcd.log"))"; sleep 0.1
done

putfile() { # KEY FILE
	k=$(printf %s "$1" | base64 -w0) v=$(base64 -w0 < "$2")
	curl -sf -X POST "$ep/v3/kv/put" -d "{\"key\":\"$k\",\"value\":\"$v\"}" > "$tmp/put.out" || fail "put $1"
}
# The revision of the last put (etcd's header.revision).
lastrev() { sed 's/.*"revision":"\([0-9]*\)".*/\1/' "$tmp/put.out"; }
# A CellInfo naming an etcd (fields 1 server_address, 2 root, by hand:
# the port is only known now); tests/data/topo/cellinfo.bin is decoded by
# the C suites.
cellinfo() { # ADDR ROOT > bytes
	printf "\\012\\$(printf %03o ${#1})%s\\022\\$(printf %03o ${#2})%s" "$1" "$2"
}
