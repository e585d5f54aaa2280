#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# cli_test: the wasmpool CLI's layout command - the batch mode against the
# reference table, the flags, the error messages and the exit codes.
# Usage: cli_test.sh WASMPOOL_BINARY REFERENCE_TABLE   (TAP on stdout)
set -u
cli=$1
table=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
tap() { # status description
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

echo "TAP version 13"

grep -v '^#' "$table" | sed 's/ =>.*//' > "$tmp/in"
grep -v '^#' "$table" | sed 's/.*=> //' > "$tmp/expected"
"$cli" layout --batch < "$tmp/in" > "$tmp/out"
rc=$?
sed 's/^err .*/err/' "$tmp/out" | cmp -s - "$tmp/expected"
tap $(( $? || rc )) "batch: $(wc -l < "$tmp/in") reference configurations answered exactly"

grep -c '^err EINVAL$' "$tmp/out" > "$tmp/count"
[ "$(cat "$tmp/count")" = 512 ]
tap $? "batch: the 512 refused configurations are EINVAL (max memory above the reservation)"

printf '18446744073709551615 1 18446744073709551615 0 0 0\n4096 1099511627776 1099511627776 0 0 0\n' |
	"$cli" layout --batch > "$tmp/out"
printf 'err EOVERFLOW\nerr EOVERFLOW\n' | cmp -s - "$tmp/out"
tap $? "batch: overflow near 2^64 gives err EOVERFLOW"

printf '1 2 3\n1 2 3 4 5 6 7\n-1 0 0 0 0 0\n18446744073709551616 0 0 0 0 0\n0 0 0 0 0 0\n' |
	"$cli" layout --batch > "$tmp/out" 2> "$tmp/err"
rc=$?
printf 'err EINVAL\nerr EINVAL\nerr EINVAL\nerr EINVAL\nok 0 0 0 0 0 1 0\n' | cmp -s - "$tmp/out" &&
	[ $rc = 1 ] && grep -q 'line 4' "$tmp/err"
tap $? "batch: malformed lines give err EINVAL, a message with the line number, exit 1"

"$cli" layout --max-memory 4G --slots 1000 --reservation 4G --guard 2G --pkeys 15 > "$tmp/out"
rc=$?
printf '%s\n' num_slots=1000 slot_bytes=4294967296 max_memory_bytes=4294967296 \
	pre_slab_guard_bytes=0 post_slab_guard_bytes=2147483648 num_stripes=2 \
	stripe_stride_bytes=8589934592 total_bytes=4297114779648 | cmp -s - "$tmp/out"
tap $(( $? || rc )) "layout: 4G memories, 2G guard, 15 keys, key=value output"

"$cli" layout --max-memory 64M --reservation 64MiB --guard 512m --slots 10000 --pkeys 15 --json > "$tmp/out"
grep -q '^{"num_slots": 10000, .*"num_stripes": 9, "stripe_stride_bytes": 603979776, "total_bytes": 671625510912}$' "$tmp/out"
tap $? "layout --json: a striped layout as one JSON object"

"$cli" layout --max-memory 5G --reservation 4G > /dev/null 2> "$tmp/err"
[ $? = 1 ] && grep -q 'larger than the reservation.*EINVAL' "$tmp/err"
tap $? "layout: max memory above the reservation: message and exit 1"

"$cli" layout --reservation 17179869183G --max-memory 1 > /dev/null 2> "$tmp/err"
[ $? = 1 ] && grep -q 'EOVERFLOW' "$tmp/err"
tap $? "layout: a slab past 2^64 bytes: EOVERFLOW and exit 1"

ok=0
for bad in 4X -1 "" 16E 1.5G 12KB7 0x 0x-5 " 5"; do
	"$cli" layout --guard "$bad" > /dev/null 2>&1
	[ $? = 2 ] || { echo "# --guard '$bad' was not a usage error"; ok=1; }
done
tap $ok "layout: malformed sizes are usage errors (exit 2)"

"$cli" layout --bogus > /dev/null 2> "$tmp/err"
[ $? = 2 ] && grep -q '^wasmpool: layout: unknown option' "$tmp/err"
tap $? "layout: an unknown option is a usage error with a message"

"$cli" layout --slots 010 --max-memory 0x10000 --reservation 0x10000 --guard 0 > "$tmp/out"
grep -q '^num_slots=10$' "$tmp/out" && grep -q '^max_memory_bytes=65536$' "$tmp/out"
tap $? "layout: numbers are decimal (010 is ten), 0x is hex"

echo "0 0 0 0 0 0" | "$cli" layout --batch --json > /dev/null 2>&1
[ $? = 2 ]
tap $? "layout: --batch with another option is a usage error"

"$cli" stats > /dev/null 2>&1
rc=$?
[ $rc = 0 ] || [ $rc = 3 ]
tap $? "stats: exit 0, or 3 without the module (got $rc)"

"$cli" frobnicate > /dev/null 2>&1
[ $? = 2 ]
tap $? "an unknown command is a usage error"

"$cli" --help | grep -q 'layout --batch\|--batch'
tap $? "--help documents layout"

echo "1..$n"
[ $failed = 0 ]
