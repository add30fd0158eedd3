#!/bin/sh
# routerctl end to end: the real binary, its exit codes (0 yes, 1 no,
# 2 usage/I/O), its output, and that every --json output parses.
# Usage: tests/cli/test_routerctl.sh PATH/TO/routerctl
# JSON is read with jq when installed, else (or with FORCE_PYTHON=1) with
# Debian's /usr/bin/python3.
set -u

R=${1:?usage: test_routerctl.sh PATH/TO/routerctl}
case $R in /*) ;; *) R=$(pwd)/$R ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
EX=$HERE/../data/examples
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
OUT=$TMP/out
ERR=$TMP/err
pass=0
fail=0
current=""

if [ -z "${FORCE_PYTHON:-}" ] && command -v jq >/dev/null 2>&1; then
	JSON=jq
elif [ -x /usr/bin/python3 ]; then
	JSON=python
else
	echo "test_routerctl.sh: needs jq or /usr/bin/python3" >&2
	exit 2
fi

# jget FILTER [FILE]: a value of the JSON in FILE (default: last stdout).
# FILTER is a path like .a.b[0].c, optionally followed by "|length".
# Strings print raw, everything else as JSON (null, true, 0.5).
jget() {
	if [ $JSON = jq ]; then
		jq -r "$1" "${2:-$OUT}"
	else
		/usr/bin/python3 - "$1" "${2:-$OUT}" <<'PY'
import json, re, sys
flt, path = sys.argv[1], sys.argv[2]
v = json.load(open(path))
length = flt.endswith("|length")
if length:
    flt = flt[: -len("|length")]
for name, idx in re.findall(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]', flt):
    if name:  # like jq: a missing member is null
        v = v.get(name) if isinstance(v, dict) else None
    else:
        v = v[int(idx)] if isinstance(v, list) and int(idx) < len(v) else None
if length:
    v = len(v)
print(v if isinstance(v, str) else json.dumps(v))
PY
	fi
}

# json_ok [FILE]: the file holds exactly one valid JSON value.
json_ok() {
	if [ $JSON = jq ]; then
		jq -e . "${1:-$OUT}" >/dev/null 2>&1
	else
		/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "${1:-$OUT}" 2>/dev/null
	fi
}

t() { current=$1; }

bad() {
	echo "FAIL $current: $*"
	sed 's/^/    stdout| /' "$OUT" | head -20
	sed 's/^/    stderr| /' "$ERR" | head -20
	fail=$((fail + 1))
}

# run WANT_EXIT CMD...: run routerctl with output in $OUT / $ERR.
run() {
	want=$1
	shift
	"$R" "$@" >"$OUT" 2>"$ERR"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		bad "exit $rc, want $want: routerctl $*"
		return 1
	fi
	pass=$((pass + 1))
	return 0
}

# run_in WANT_EXIT INPUT_FILE CMD...: same with standard input.
run_in() {
	want=$1
	in=$2
	shift 2
	"$R" "$@" <"$in" >"$OUT" 2>"$ERR"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		bad "exit $rc, want $want: routerctl $* < $in"
		return 1
	fi
	pass=$((pass + 1))
	return 0
}

out_is() {
	if [ "$(cat "$OUT")" != "$1" ]; then bad "stdout is not '$1'"; else pass=$((pass + 1)); fi
}
out_has() {
	if ! grep -q -- "$1" "$OUT"; then bad "stdout lacks '$1'"; else pass=$((pass + 1)); fi
}
err_has() {
	if ! grep -q -- "$1" "$ERR"; then bad "stderr lacks '$1'"; else pass=$((pass + 1)); fi
}
out_empty() {
	if [ -s "$OUT" ]; then bad "stdout is not empty"; else pass=$((pass + 1)); fi
}
is_json() {
	if ! json_ok; then bad "stdout is not JSON"; else pass=$((pass + 1)); fi
}
eq() {
	if [ "$1" != "$2" ]; then bad "'$1' != '$2'${3:+ ($3)}"; else pass=$((pass + 1)); fi
}

# ---- fixtures -----------------------------------------------------------
CUST="$EX/customer_sharded.json --keyspace customer"
S2="--shards customer=-80,80-"
"$R" dump $CUST $S2 >"$TMP/two.json" 2>/dev/null
"$R" dump "$TMP/two.json" --shards customer=-80,80-c0,c0- >"$TMP/three.json" 2>/dev/null
"$R" dump "$TMP/two.json" --shards customer=-40,40-80,80-c0,c0- >"$TMP/four.json" 2>/dev/null
printf '{}' >"$TMP/empty.json"
sed 's/"keyspaces"/"version": 5, "keyspaces"/' "$TMP/two.json" >"$TMP/v5.json"
sed 's/"keyspaces"/"version": 3, "keyspaces"/' "$TMP/four.json" >"$TMP/v3.json"
cat >"$TMP/bad.json" <<'JSON'
{"keyspaces": {"user": {"sharded": true, "shards": ["-80", "80-"],
  "vindexes": {"hash": {"type": "hash"}},
  "tables": {"users": {"column_vindexes": [{"column": "id", "name": "hsh"}]},
             "orders": {"column_vindexes": [{"column": "id", "name": "hash"}],
                        "colum_vindexes": []}}},
  "other": {"sharded": true}}}
JSON
printf '{"keyspaces": {\n  "user": {\n    "sharded" true\n  }\n}}\n' >"$TMP/syntax.json"

# ---- ksid ---------------------------------------------------------------
t ksid_of_1_through_hash_is_vitess_value
run 0 ksid hash 1 && out_is 166b40b44aba4bd6
t ksid_of_1_as_uint64_is_the_same_key
run 0 ksid hash 1 --sqltype uint64 && out_is 166b40b44aba4bd6
t ksid_takes_negative_values_as_arguments
run 0 ksid hash -1 && neg=$(cat "$OUT")
run 0 ksid hash -1 --sqltype int64 && out_is "$neg"
run 0 ksid hash 18446744073709551615 --sqltype uint64 && out_is "$neg"
t ksid_of_null_is_none
run 0 ksid hash x --sqltype null && out_is none
t ksid_of_non_integer_text_is_varchar
run 0 ksid binary abc && out_is 616263
t ksid_hex_value_is_varbinary
run 0 ksid binary 0a0B --hex && out_is 0a0b
t ksid_json_has_value_type_and_key
run 0 ksid hash 1 --json && is_json
eq "$(jget .ksid)" 166b40b44aba4bd6
eq "$(jget .sqltype)" int64
eq "$(jget .ok)" true
run 0 ksid hash x --sqltype null --json && eq "$(jget .ksid)" null
t ksid_takes_vindex_params
run 0 ksid cfc abc && out_is 616263
run 0 ksid cfc 12345567 --param hash=md5 --param 'offsets=[3,5]' && out_is 202cb96c8399c5e0
run 2 ksid cfc 123 --param hash=md5 --param 'offsets=[3,5]' && err_has "insufficient size for cfc vindex cfc. need 5, got 3"
run 2 ksid cfc 1 --param hash=md5 && err_has "CFC vindex requires offsets when hash is defined"
run 2 ksid cfc 1 --param hash && err_has "needs KEY=VALUE"
t ksid_of_region_json_takes_id_and_region
run 0 ksid region_json 1 "United States" --param region_map="$EX/countries.json" --param region_bytes=1 && out_is 01166b40b44aba4bd6
run 0 ksid region_json 1 Mexico --param region_map="$EX/countries.json" --param region_bytes=1 && out_is none
run 0 ksid region_json 1 Canada --param region_map="$EX/countries.json" --param region_bytes=2 --json && is_json
eq "$(jget .ksid)" 0002166b40b44aba4bd6
run 2 ksid region_json 1 Canada --param region_bytes=1 && err_has "open : no such file or directory (param 'region_map')"
t ksid_of_a_lookup_vindex_answers_no
run 1 ksid lookup_unique 1 && out_empty && err_has "lookup"
t ksid_of_an_unknown_vindex_type_is_a_usage_error
run 2 ksid nosuch 1 && err_has 'vindexType "nosuch" not found'
t ksid_value_that_is_not_its_type_is_a_usage_error
run 2 ksid hash 12a --sqltype int64 && err_has "not a valid int64"
run 2 ksid hash zz --hex
t ksid_needs_two_arguments
run 2 ksid hash && err_has "missing arguments"

# ---- route ----------------------------------------------------------------
t route_gives_the_shard_of_the_keyspace_id
run 0 ksid xxhash 42 && k42=$(cat "$OUT")
run 0 shard "$TMP/two.json" customer "$k42" && s42=$(cat "$OUT")
run 0 route $CUST $S2 customer customer 42 && out_is "$s42"
run 0 route "$TMP/two.json" customer corder 42 && out_is "$s42"
t route_json_names_shard_ksid_vindex_and_version
run 0 route "$TMP/v5.json" customer customer 42 --json && is_json
eq "$(jget .shard)" "$s42"
eq "$(jget .ksid)" "$k42"
eq "$(jget .vindex)" hash
eq "$(jget .vindex_type)" xxhash
eq "$(jget .version)" 5
eq "$(jget '.values[0].sqltype')" int64
t route_reads_the_document_from_stdin
run_in 0 "$TMP/two.json" route - customer customer 42 && out_is "$s42"
t route_of_null_is_none
run 0 route "$EX/demo_user.json" user user x --sqltype null --keyspace user --shards user=-80,80- && out_is none
t route_in_an_unsharded_keyspace_goes_to_shard_0
run 0 route "$EX/commerce_initial.json" commerce anything 7 --keyspace commerce && out_is 0
t route_takes_one_value_per_column_of_a_multicol_vindex
run 0 route "$EX/multicol_region.json" customer customer 1 2 --keyspace customer --shards customer=-80,80- --json && is_json
eq "$(jget '.values|length')" 2
run 2 route "$EX/multicol_region.json" customer customer 1 --keyspace customer --shards customer=-80,80-
t route_to_an_unknown_table_answers_no
run 1 route "$TMP/two.json" customer nosuch 1 && out_empty && err_has "nosuch"
run 1 route "$TMP/two.json" customer nosuch 1 --json && is_json && eq "$(jget .ok)" false
eq "$(jget .error.code)" ROUTER_ENOTFOUND
t route_through_a_lookup_primary_vindex_answers_no
run 1 route "$EX/demo_user.json" user music_extra 1 --keyspace user --shards user=-80,80-
t route_column_routes_through_a_secondary_vindex
DU="$EX/demo_user.json --keyspace user --shards user=-80,80-"
run 0 route $DU user music_extra 1 --column keyspace_id && out_is -80
run 0 route $DU user music_extra 9223372036854775807 --column KEYSPACE_ID --json && is_json
eq "$(jget '.shards[0]')" -80
eq "$(jget '.ksids[0]')" 7fffffffffffffff
t route_column_of_an_unknown_column_answers_no
run 1 route $DU user user 1 --column nosuch && err_has "no column vindex on (nosuch)"
t route_through_a_lookup_prints_the_query_to_run
run 1 route $DU user music_extra 7 && out_is "select music_id, user_id from music_user_idx where music_id in (7)"
err_has "--lookup-rows"
run 1 route $DU user user "o'neil" --column name && out_is "select name, user_id from name_user_idx where name in ('o''neil')"
run 1 route $DU user user bob --column name --json && is_json
eq "$(jget .needs_lookup)" true
eq "$(jget .sql)" "select name, user_id from name_user_idx where name in ::name"
eq "$(jget .batched)" false
eq "$(jget .unique)" false
t route_with_lookup_rows_prints_every_shard_they_name
printf 'bob\t10\n# a comment\n\nbob\tC0FFEE\nbob\t11\n' >"$TMP/rows.tsv"
run 0 route $DU user user bob --column name --lookup-rows "$TMP/rows.tsv" && out_is "$(printf -- '-80\n80-')"
run 0 route $DU user user bob --column name --lookup-rows "$TMP/rows.tsv" --json && is_json
eq "$(jget '.ksids[1]')" c0ffee
eq "$(jget '.shards|length')" 2
t route_with_lookup_rows_batched_integer_values_match_from
printf '7\t90\n8\t10\n' >"$TMP/rows7.tsv"
run 0 route $DU user music_extra 7 --lookup-rows "$TMP/rows7.tsv" && out_is 80-
t route_with_lookup_rows_for_a_unique_vindex_refuses_several
printf '7\t90\n7\t10\n' >"$TMP/rows77.tsv"
run 1 route $DU user music_extra 7 --lookup-rows "$TMP/rows77.tsv" && err_has "Lookup.Map: unexpected multiple results from vindex music_user_idx: INT64(7)"
t route_with_empty_lookup_rows_is_none
: >"$TMP/none.tsv"
run 0 route $DU user music_extra 7 --lookup-rows "$TMP/none.tsv" && out_is none
t route_with_lookup_rows_that_are_not_hex_is_a_usage_error
printf '7\tzz\n' >"$TMP/bad.tsv"
run 2 route $DU user music_extra 7 --lookup-rows "$TMP/bad.tsv" && err_has "is not hex"
run 2 route $DU user music_extra 7 --lookup-rows "$TMP/nosuch.tsv"
t route_in_a_sharded_keyspace_without_shards_answers_no
run 1 route $CUST customer customer 1 && err_has "customer=-80,80-"
t route_of_a_single_keyspace_document_needs_its_name
run 1 route "$EX/customer_sharded.json" customer customer 1 && err_has "keyspace"

# ---- shard ----------------------------------------------------------------
t shard_finds_the_range_holding_a_keyspace_id
run 0 shard "$TMP/two.json" customer 7fffffff && out_is -80
run 0 shard "$TMP/two.json" customer 80 && out_is 80-
run 0 shard "$TMP/four.json" customer c0000000000000000001 && out_is c0-
run 0 shard "$TMP/four.json" customer 80 --json && is_json && eq "$(jget .shard)" 80-c0
t shard_of_an_unknown_keyspace_answers_no
run 1 shard "$TMP/two.json" nosuch 00
t shard_with_bad_hex_is_a_usage_error
run 2 shard "$TMP/two.json" customer 8
run 2 shard "$TMP/two.json" customer xy

# ---- validate -------------------------------------------------------------
t validate_accepts_every_example
for f in commerce_initial:commerce:- compose_lookup_keyspace:lookup:lookup \
	compose_test_keyspace:test:test customer_sharded:customer:customer \
	demo_user:user:user multicol_region:customer:customer \
	region_json_sharded:customer:customer; do
	file=${f%%:*}; rest=${f#*:}; ks=${rest%%:*}; sh=${rest#*:}
	if [ "$sh" = - ]; then
		run 0 validate "$EX/$file.json" --keyspace "$ks" && out_is ok
	else
		run 0 validate "$EX/$file.json" --keyspace "$ks" --shards "$sh=-80,80-" && out_is ok
	fi
done
run 0 validate "$EX/vtexplain_sample.json" --shards ks1=-40,40- && out_is ok
t validate_prints_every_problem_with_its_json_path
run 1 validate "$TMP/bad.json"
out_has '^keyspaces.user.tables.users.column_vindexes\[0\].name: vindex hsh not found for table users$'
out_has '^keyspaces.other: sharded keyspace other has no shards'
eq "$(wc -l <"$OUT" | tr -d ' ')" 2 "one line per problem"
t validate_warns_about_unknown_fields_on_stderr
err_has 'colum_vindexes.*did you mean column_vindexes'
t validate_gives_line_and_column_of_a_syntax_error
run 1 validate "$TMP/syntax.json" && out_has "line 3, column 18"
t validate_json_lists_problems_and_warnings
run 1 validate "$TMP/bad.json" --json && is_json
eq "$(jget .valid)" false
eq "$(jget '.problems|length')" 2
eq "$(jget '.problems[0].code')" ROUTER_EREFERENCE
eq "$(jget '.problems[0].path')" 'keyspaces.user.tables.users.column_vindexes[0].name'
eq "$(jget '.warnings[0].kind')" unknown
run 0 validate "$TMP/v5.json" --json && is_json
eq "$(jget .valid)" true
eq "$(jget .version)" 5
eq "$(jget '.keyspaces[0]')" customer
t validate_gives_vitess_verdicts_on_vitess_test_cases
# tests/data/vschema_validation.json: Vitess's VSchema tests (input,
# verdict, Vitess's message); test_vschema_rules.c checks every detail.
VV=$HERE/../data/vschema_validation.json
nv=$(jget '.cases|length' "$VV")
i=0
while [ "$i" -lt "$nv" ]; do
	jget ".cases[$i].input" "$VV" >"$TMP/vcase.json"
	verdict=$(jget ".cases[$i].verdict" "$VV")
	ks=$(jget ".cases[$i].keyspace" "$VV")
	want=0
	[ "$verdict" = ok ] || want=1
	if [ "$ks" = null ]; then
		run $want validate "$TMP/vcase.json"
	else
		run $want validate "$TMP/vcase.json" --keyspace "$ks"
	fi
	msg=$(jget ".cases[$i].errors[0].message" "$VV")
	if [ "$msg" != null ]; then
		grep -qF -- ": $msg" "$OUT" && pass=$((pass + 1)) ||
			bad "case $i: stdout lacks '$msg'"
	fi
	i=$((i + 1))
done
t validate_warns_about_a_routing_rule_vtgate_keeps_as_an_error
cat >"$TMP/badrule.json" <<'EOF2'
{"keyspaces": {"u": {"tables": {"t": {}}}},
 "routing_rules": {"rules": [{"from_table": "u.x", "to_tables": ["u.a", "u.b"]}]}}
EOF2
run 0 validate "$TMP/badrule.json" && out_is ok
err_has 'warning: .*routing_rules.rules\[0\]: table u.x has more than one target: \[u.a u.b\]'
run 0 validate "$TMP/badrule.json" --json && is_json
eq "$(jget '.warnings[0].kind')" rule
eq "$(jget '.warnings[0].culprit')" u.x
run 1 route "$TMP/badrule.json" u x 1 && err_has 'route u.x: routing rule u.x is invalid: table u.x has more than one target'
run 0 route "$TMP/badrule.json" u t 1 && out_is 0
t validate_of_a_missing_file_is_an_io_error
run 2 validate "$TMP/nosuch.json" && err_has "No such file"
t validate_of_an_empty_input_answers_no
run_in 1 /dev/null validate - && out_has "empty"

# ---- check ----------------------------------------------------------------
t check_accepts_a_reshard_from_two_to_four_shards
run 0 check "$TMP/two.json" "$TMP/four.json"
eq "$(head -1 "$OUT")" "accepted: version 1 -> 2"
out_has '^+ shard customer/c0-$'
t check_refuses_the_empty_vschema_of_january_2026
run_in 1 "$TMP/empty.json" check "$TMP/two.json" - --keyspace customer
out_has '^refused: ROUTER_EEMPTY: customer: '
out_has '^~ keyspace customer: sharded -> unsharded$'
out_has '^- table customer.customer'
t check_allow_destructive_lets_it_through
run_in 0 "$TMP/empty.json" check "$TMP/two.json" - --keyspace customer --allow-destructive
t check_refuses_a_version_that_goes_back
run 1 check "$TMP/v5.json" "$TMP/v3.json" && out_has '^refused: ROUTER_EVERSION'
t check_never_wraps_the_version_to_zero
sed 's/"keyspaces"/"version": "18446744073709551615", "keyspaces"/' "$TMP/two.json" >"$TMP/vtop.json"
sed 's/"keyspaces"/"version": "18446744073709551614", "keyspaces"/' "$TMP/two.json" >"$TMP/vmax.json"
run 1 check "$TMP/vmax.json" "$TMP/four.json" && out_has '^refused: ROUTER_EVERSION: .*no next version'
run 1 check "$TMP/vtop.json" "$TMP/four.json" && err_has 'could not be in service: ROUTER_EVERSION'
run 1 check "$TMP/two.json" "$TMP/vtop.json" && out_has '^refused: ROUTER_EVERSION: version 18446744073709551615 is above'
t check_refuses_an_invalid_next_with_its_problems
run 1 check "$TMP/two.json" "$TMP/bad.json" && out_has '^refused: ROUTER_EREFERENCE'
out_has 'column_vindexes\[0\].name'
t check_answers_no_when_current_is_invalid
run 1 check "$TMP/bad.json" "$TMP/two.json"
t check_json_gives_verdict_code_and_changes
run_in 1 "$TMP/empty.json" check "$TMP/two.json" - --keyspace customer --json && is_json
eq "$(jget .verdict)" refuse
eq "$(jget .code)" ROUTER_EEMPTY
eq "$(jget .error.culprit)" customer
eq "$(jget .version_from)" 1
run 0 check "$TMP/two.json" "$TMP/four.json" --json && is_json
eq "$(jget .verdict)" accept
eq "$(jget '.changes|length')" 6
t check_reads_standard_input_only_once
run_in 2 "$TMP/two.json" check - -
t check_refuses_a_change_of_every_rows_keyspace_id
# The issue's keyspace: users and orders on xxhash, shards -80 80-; each
# next document moves every row's keyspace ID without moving a shard.
cat >"$TMP/xx.json" <<'JSON'
{"version": 1, "keyspaces": {"user": {"sharded": true, "shards": ["-80", "80-"],
  "vindexes": {"xx": {"type": "xxhash"}},
  "tables": {"users": {"column_vindexes": [{"column": "id", "name": "xx"}]},
             "orders": {"column_vindexes": [{"column": "id", "name": "xx"}]}}}}}
JSON
sed -e 's/"version": 1/"version": 2/' -e 's/"xx": {"type": "xxhash"}/"nv": {"type": "null"}/' \
	-e 's/"name": "xx"/"name": "nv"/g' "$TMP/xx.json" >"$TMP/to_null.json"
sed -e 's/"version": 1/"version": 2/' -e 's/"type": "xxhash"/"type": "hash"/' "$TMP/xx.json" >"$TMP/to_hash.json"
sed -e 's/"version": 1/"version": 2/' -e 's/"users": {"column_vindexes": \[{"column": "id"/"users": {"column_vindexes": [{"column": "user_id"/' \
	"$TMP/xx.json" >"$TMP/to_col.json"
sed -e 's/"version": 1/"version": 2/' -e 's/"xx"/"renamed"/g' "$TMP/xx.json" >"$TMP/renamed.json"
run 1 check "$TMP/xx.json" "$TMP/to_null.json"
out_has "^refused: ROUTER_EKSIDCHANGE: user.orders: primary vindex of user.orders changed from xxhash(id) to null(id); every row's keyspace ID changes"
out_has '^~ table user.users: primary vindex type xxhash -> null$'
run 1 check "$TMP/xx.json" "$TMP/to_hash.json"
out_has '^refused: ROUTER_EKSIDCHANGE: user.orders: primary vindex of user.orders changed from xxhash(id) to hash(id)'
run 1 check "$TMP/xx.json" "$TMP/to_col.json"
out_has '^refused: ROUTER_EKSIDCHANGE: user.users: primary vindex of user.users changed from xxhash(id) to xxhash(user_id)'
out_has '^~ table user.users: primary vindex xxhash(id) -> xxhash(user_id)$'
run 1 check "$TMP/xx.json" "$TMP/to_hash.json" --json && is_json
eq "$(jget .code)" ROUTER_EKSIDCHANGE
eq "$(jget .error.culprit)" user.orders
t check_allow_destructive_lets_a_keyspace_id_change_through
for f in to_null to_hash to_col; do
	run 0 check "$TMP/xx.json" "$TMP/$f.json" --allow-destructive
	eq "$(head -1 "$OUT")" "accepted: version 1 -> 2" "$f"
done
t check_accepts_a_renamed_vindex_with_the_same_definition
run 0 check "$TMP/xx.json" "$TMP/renamed.json"
eq "$(head -1 "$OUT")" "accepted: version 1 -> 2"

t check_of_a_document_against_itself_says_there_is_no_change
run 0 check "$TMP/two.json" "$TMP/two.json"
eq "$(head -1 "$OUT")" "accepted: no change (version 1 -> 2)"
eq "$(grep -c . "$OUT")" 1 "nothing but the verdict"
run 0 check "$TMP/two.json" "$TMP/two.json" --json && is_json
eq "$(jget .changed)" false
run 0 check "$TMP/two.json" "$TMP/four.json" --json && is_json
eq "$(jget .changed)" true

t a_missing_file_is_exit_2_for_every_command
for args in "validate $TMP/nosuch.json" "check $TMP/nosuch.json $TMP/two.json" \
	"check $TMP/two.json $TMP/nosuch.json" "diff $TMP/nosuch.json $TMP/two.json" \
	"dump $TMP/nosuch.json" "route $TMP/nosuch.json customer customer 1" \
	"snapshot save $TMP/nosuch.json $TMP/s.snap" "snapshot verify $TMP/nosuch.snap" \
	"snapshot load $TMP/nosuch.snap" "invariants $TMP/two.json $TMP/nosuch.inv"; do
	"$R" $args >"$OUT" 2>"$ERR"
	eq $? 2 "routerctl $args"
	grep -q . "$ERR" || bad "routerctl $args: nothing on stderr"
done

t snapshot_save_verify_load_round_trip_and_a_corrupt_file_is_refused
run 0 snapshot save "$TMP/two.json" "$TMP/s.snap" && out_has '^saved'
run 0 snapshot verify "$TMP/s.snap" && out_has '^ok: version 1, content hash '
run 0 snapshot load "$TMP/s.snap" --compact && out_has '"customer"'
head -c 40 "$TMP/s.snap" >"$TMP/cut.snap"
run 1 snapshot verify "$TMP/cut.snap" && out_has '^refused: ROUTER_EDOC'

# ---- diff -------------------------------------------------------------------
t diff_lists_changes_and_the_share_that_moves
run 0 diff "$TMP/two.json" "$TMP/three.json"
out_has '^- shard customer/80-$'
out_has '^+ shard customer/80-c0$'
out_has '^moved customer: 50% of the keyspace-ID space changes shard$'
run 0 diff "$TMP/two.json" "$TMP/four.json" && out_has '^moved customer: 100%'
t diff_of_identical_documents_says_so
run 0 diff "$TMP/two.json" "$EX/customer_sharded.json" --keyspace customer --shards customer=-80,80-
out_is "no changes"
t diff_json_gives_changes_and_moved_shares
run 0 diff "$TMP/two.json" "$TMP/three.json" --json && is_json
eq "$(jget .identical)" false
eq "$(jget .moved.customer)" 0.5
eq "$(jget '.changes|length')" 3
run 0 diff "$TMP/two.json" "$TMP/two.json" --json && eq "$(jget .identical)" true
t diff_with_shards_for_a_keyspace_in_neither_is_a_usage_error
run 2 diff "$TMP/two.json" "$TMP/four.json" --shards nosuch=-80,80-
t diff_reports_tables_and_vindexes
sed 's/"corder"/"orders"/' "$TMP/two.json" >"$TMP/renamed.json"
run 0 diff "$TMP/two.json" "$TMP/renamed.json"
out_has '^- table customer.corder: normal table$'
out_has '^+ table customer.orders: normal table$'
out_has '^moved customer: 0% of the keyspace-ID space changes shard$'

# ---- shards -----------------------------------------------------------------
t shards_gives_vitess_even_ranges
run 0 shards 4 && out_is "$(printf -- '-40\n40-80\n80-c0\nc0-')"
run 0 shards 1 && out_is -
run 0 shards 3 && out_is "$(printf -- '-55\n55-aa\naa-')"
run 0 shards 512 && eq "$(head -1 "$OUT")" -0080
run 0 shards 2 --json && is_json && eq "$(jget '.shards[1]')" 80- && eq "$(jget .count)" 2
t shards_out_of_range_is_a_usage_error
run 2 shards 0
run 2 shards 65537
run 2 shards 4x

# ---- dump -------------------------------------------------------------------
t dump_round_trips
run 0 dump "$TMP/v5.json" && is_json
cp "$OUT" "$TMP/d1.json"
run 0 dump "$TMP/d1.json" && out_is "$(cat "$TMP/d1.json")"
eq "$(jget .version "$TMP/d1.json")" 5
t dump_of_a_keyspace_is_its_vschema
run 0 dump "$TMP/v5.json" customer --vitess && is_json
eq "$(jget .sharded)" true
eq "$(jget .shards)" null
t dump_of_an_unknown_keyspace_answers_no
run 1 dump "$TMP/v5.json" nosuch

# ---- usage and help -----------------------------------------------------------
t every_command_has_a_manual
for c in ksid route shard validate check diff shards dump help; do
	run 0 "$c" --help && out_has SYNOPSIS && out_has "EXIT STATUS" && out_has "^  routerctl $c"
	run 0 help "$c" && out_has "DESCRIPTION"
done
run 0 --help && out_has COMMANDS
t every_command_has_its_section_of_routerctl_1
for c in snapshot invariants watch push fleet vitess; do
	run 0 "$c" --help && out_has SYNOPSIS && out_has "EXIT STATUS" && out_has "^  routerctl $c"
	run 0 help "$c" && out_has "DESCRIPTION"
done
run 0 help && for c in ksid route shard validate check diff shards snapshot invariants dump watch push fleet vitess help; do
	out_has "^  $c  *[a-z]" || bad "routerctl help does not list $c"
done
t bare_usage_lists_every_command
run 2 && err_has "Commands: ksid route shard validate check diff shards snapshot invariants dump watch push fleet vitess help"
run 0 -h && out_has COMMANDS
run 0 --version && out_has "routerctl (librouter)"
t usage_errors_exit_2
run 2
run 2 nosuch
run 2 shards 4 --nosuch
run 2 validate "$TMP/two.json" --hex && err_has "does not apply"
run 2 validate "$TMP/two.json" --shards customer
run 2 validate "$TMP/two.json" --shards customer=-80,,80-
run 2 validate "$TMP/two.json" --shards customer=-80,80- --shards customer=-80,80-
run 2 validate "$TMP/two.json" --keyspace
run 2 ksid hash 1 --json=yes
t options_may_come_anywhere
run 0 --json shards 2 && is_json
run 0 shards --json 2 && is_json
run 0 ksid --sqltype varchar -- binary --5 && out_is 2d2d35

# ---- files named by the user or by a document (issue 15, defects 5, 6) -------
# hung WANT_EXIT CMD...: like run, but a command that blocks is killed after
# 20 s and fails (exit 124) instead of hanging the suite.
hung() {
	want=$1
	shift
	timeout 20 "$R" "$@" >"$OUT" 2>"$ERR"
	rc=$?
	if [ "$rc" -ne "$want" ]; then bad "exit $rc, want $want (124: it blocked)"; return 1; fi
	pass=$((pass + 1))
}
mkfifo "$TMP/fifo"
cat >"$TMP/nsm.json" <<'EOF2'
{"keyspaces": {"m": {"sharded": true, "shards": ["-80", "80-"],
 "vindexes": {"nsm": {"type": "numeric_static_map",
                      "params": {"json_path": "maps/m.json"}}},
 "tables": {"t": {"column_vindexes": [{"column": "id", "name": "nsm"}]}}}}}
EOF2
mkdir -p "$TMP/maps"
echo '{"1": 17293822569102704640}' >"$TMP/maps/m.json"
t a_fifo_named_as_a_document_or_input_file_is_refused_at_once
hung 2 validate "$TMP/fifo" && err_has "FIFO"
hung 2 check "$TMP/nsm.json" "$TMP/nsm.json" --sample "$TMP/fifo" && err_has "not a regular file"
hung 2 invariants "$TMP/fifo" "$TMP/nsm.json" && err_has "not a regular file"
hung 2 validate /dev/zero && err_has "character device"
# push reads its DOC before it connects: a FIFO is refused at once (port 9
# on loopback is never dialled).
hung 2 push --endpoints http://127.0.0.1:9 "$TMP/fifo" && err_has "not a regular file"
t json_path_is_read_below_the_documents_directory_and_inlined
run 0 route "$TMP/nsm.json" m t 1 && out_has '80-'
run 0 dump "$TMP/nsm.json" --compact && out_has '"json":' && ! grep -q json_path "$OUT" || bad "dump names json_path"
t a_multicol_numeric_static_map_column_reads_its_json_path_under_the_same_policy
# Its json_path is the column's: a document on stdin may not name a local
# file through it either, and a file's content is never quoted.
mc='{"keyspaces":{"m":{"sharded":true,"shards":["-80","80-"],"vindexes":{"mc":{"type":"multicol","params":{"column_count":"2","column_vindex":"numeric_static_map,hash","json_path":"PATH"}}},"tables":{"t":{"column_vindexes":[{"columns":["a","b"],"name":"mc"}]}}}}}'
printf '%s\n' "$mc" | sed 's#PATH#/etc/passwd#' >"$TMP/mc_abs.json"
"$R" validate - <"$TMP/mc_abs.json" >"$OUT" 2>"$ERR"
eq $? 1 "exit"
out_has "json_path"
! grep -q 'root' "$OUT" "$ERR" || bad "a fragment of /etc/passwd is shown"
# The column list is read as multicol reads it (Go's TrimSpace: a tab too).
printf '%s\n' "$mc" | sed 's#PATH#/etc/passwd#; s#"numeric_static_map,hash"#"\\tnumeric_static_map ,hash"#' >"$TMP/mc_tab.json"
"$R" validate - <"$TMP/mc_tab.json" >"$OUT" 2>"$ERR"
eq $? 1 "exit (tab before the type)"
out_has "json_path"
! grep -q 'root' "$OUT" "$ERR" || bad "a fragment of /etc/passwd is shown (tab before the type)"
printf '%s\n' "$mc" | sed 's#PATH#maps/m.json#' >"$TMP/mc.json"
run 0 validate "$TMP/mc.json" && out_has '^ok'
"$R" validate - <"$TMP/mc.json" >"$OUT" 2>"$ERR"
eq $? 1 "stdin, relative json_path, no --json-path-dir"
t json_path_of_a_document_on_stdin_is_refused_without_json_path_dir
"$R" validate - <"$TMP/nsm.json" >"$OUT" 2>"$ERR"
eq $? 1 "exit"
out_has "json_path"
out_has "inline"
"$R" validate - --json-path-dir "$TMP" <"$TMP/nsm.json" >"$OUT" 2>"$ERR"
eq $? 0 "exit with --json-path-dir"
t json_path_outside_the_directory_is_refused
sed 's#maps/m.json#../m.json#' "$TMP/nsm.json" >"$TMP/esc.json"
run 1 validate "$TMP/esc.json" && out_has '\.\.'
sed 's#maps/m.json#/etc/passwd#' "$TMP/nsm.json" >"$TMP/abs.json"
run 1 validate "$TMP/abs.json" && out_has 'absolute' && ! grep -q 'root' "$OUT" "$ERR" || bad "a fragment of the file is shown"
run 2 validate "$TMP/nsm.json" --json-path-dir ""

t every_example_vschema_validates_with_the_command_its_readme_shows
cmds=$TMP/validate-commands
sed -n '/<!-- validate-commands:begin -->/,/<!-- validate-commands:end -->/p' "$EX/README.md" |
	grep '^routerctl validate ' >"$cmds"
# countries.json is region_json_sharded.json's map, not a VSchema.
eq "$(grep -c . "$cmds")" "$(ls "$EX"/*.json | grep -vc /countries.json)" "one command per example file"
while read -r _ args; do
	(cd "$HERE/../.." && "$R" $args) >"$OUT" 2>"$ERR"
	eq $? 0 "routerctl $args"
	out_has '^ok'
done <"$cmds"

t bash_completion_offers_every_command_and_each_commands_options
if command -v bash >/dev/null 2>&1; then
	comp() { # WORDS...: what TAB offers after them
		bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _routerctl; echo "${COMPREPLY[*]}"' \
			_ "$HERE/../../cli/routerctl.bash-completion" "$R" "$@"
	}
	got=$(comp "")
	for c in ksid route shard validate check diff shards snapshot invariants dump watch push fleet vitess help; do
		case " $got " in *" $c "*) ;; *) bad "completion lacks command $c: $got" ;; esac
	done
	eq "$(comp check --allow)" "--allow-destructive" "check --allow<TAB>"
	eq "$(comp snapshot v)" "verify" "snapshot v<TAB>"
	case " $(comp watch --) " in *" --probe "*) ;; *) bad "watch --<TAB> lacks --probe" ;; esac
	pass=$((pass + 1))
fi

echo "routerctl: $pass checks passed, $fail failed"
[ "$fail" -eq 0 ]
