#!/bin/sh
# Run the fleet harness bounded and clean: its own temporary directory
# (etcd's data, snapshots) removed afterwards whatever happened, the whole
# run under timeout (SIGTERM, then SIGKILL 10 s later; etcd and the worker
# processes die with the harness, PR_SET_PDEATHSIG).
#
# usage: run.sh LIMIT_S FLEET_BINARY [fleet options...]
set -u
limit=$1; shift
bin=$1; shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/librouter-fleet-XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT INT TERM
TMPDIR=$dir timeout -k 10 "$limit" "$bin" -t "$((limit - 5))" "$@"
rc=$?
[ $rc = 124 ] && echo "fleet: timed out after $limit s"
exit $rc
