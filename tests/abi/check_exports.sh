#!/bin/sh
# check_exports.sh SO MAP OBJ...: the exports of shared library SO, built
# from the objects OBJ... with the version script MAP, are exactly the
# public ones, each in a version node:
#   1. only router_ names are exported (router__ is internal);
#   2. every export carries a version node of MAP (none unversioned);
#   3. every symbol the objects make visible (ROUTER_EXTERN) is exported:
#      one missing from MAP would be hidden by its `local: *;`;
#   4. every name MAP lists is exported, in the node that lists it: a
#      released symbol is never removed or moved (a new major would be).
set -eu
so=$1 map=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# NAME NODE for every defined dynamic symbol ("NAME -" when unversioned).
readelf --dyn-syms -W "$so" |
	awk '$7 != "UND" && $7 != "ABS" && $8 != "" && ($4 == "FUNC" || $4 == "OBJECT" || $4 == "TLS" || $4 == "IFUNC") {
		n = $8; v = "-"
		if ((i = index(n, "@")) > 0) { v = substr(n, i); n = substr(n, 1, i - 1); sub(/^@+/, "", v) }
		print n, v }' | sort -u >"$tmp/exported"
# NAME NODE for every name the map lists.
awk '{ line = $0
	while (line != "") {
		if (incom) { if ((i = index(line, "*/")) == 0) { line = "" } else { line = substr(line, i + 2); incom = 0 } }
		else if ((i = index(line, "/*")) > 0) { out = out " " substr(line, 1, i - 1); line = substr(line, i + 2); incom = 1 }
		else { out = out " " line; line = "" } }
	out = out "\n" }
	END { n = split(out, l, "\n"); for (k = 1; k <= n; k++) {
		s = l[k]; gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s)
		if (s ~ /^[A-Za-z0-9_.]+ *\{$/) { node = s; sub(/ *\{$/, "", node) }
		else if (s ~ /^[a-z_][a-z0-9_]*;$/ && node != "") { sub(/;$/, "", s); print s, node } } }' \
	"$map" | sort -u >"$tmp/listed"
# Names the objects give default visibility.
for o in "$@"; do readelf -s -W "$o"; done |
	awk '$5 == "GLOBAL" || $5 == "WEAK" { if ($6 == "DEFAULT" && $7 != "UND" && $7 != "ABS" && $8 != "") print $8 }' |
	sort -u >"$tmp/visible"

fail=0
bad=$(awk '{print $1}' "$tmp/exported" | grep -v '^router_[a-z0-9]' || true)
if [ -n "$bad" ]; then
	echo "$so exports names that are not public router_ symbols:"; echo "$bad"; fail=1
fi
bad=$(awk '$2 == "-" {print $1}' "$tmp/exported")
if [ -n "$bad" ]; then
	echo "$so exports symbols without a version node (add them to $map):"; echo "$bad"; fail=1
fi
bad=$(awk '{print $1}' "$tmp/exported" | comm -13 - "$tmp/visible")
if [ -n "$bad" ]; then
	echo "public symbols missing from $map (its local: * hides them; add each to the node of this release):"
	echo "$bad"; fail=1
fi
bad=$(comm -13 "$tmp/exported" "$tmp/listed")
if [ -n "$bad" ]; then
	echo "$map lists symbols $so does not export in that node (removed or moved: that needs a new major):"
	echo "$bad"; fail=1
fi
[ $fail = 0 ] || exit 1
echo "exports: $so: only router_ symbols ($(wc -l <"$tmp/exported") functions, each in a node of $(basename "$map"))"
