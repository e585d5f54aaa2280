#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Run wasmpool selftest programs the way the kselftest runner does: TAP 13,
# each program's output indented with "# ", a timeout per program (from the
# "settings" file beside this script), exit status 4 as SKIP. After each
# program the kernel log since a marker is searched for warnings, BUGs,
# oopses, lockdep and KASAN reports (by dmesg_check.sh, beside this
# script): any of them fails that program.
#
# POSIX sh, so that busybox runs it in the VM as well as on a real host.
# Usage: run_tests.sh PROGRAM...

dir=$(dirname "$0")
timeout_s=$(sed -n 's/^timeout=//p' "$dir/settings" 2>/dev/null)
: "${timeout_s:=120}"
# WASMPOOL_TEST_TIMEOUT: longer, for slow kernels (KASAN, lockdep).
timeout_s=${WASMPOOL_TEST_TIMEOUT:-$timeout_s}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

can_dmesg=0
if [ -w /dev/kmsg ] && dmesg >/dev/null 2>&1; then
	can_dmesg=1
fi

echo "TAP version 13"
echo "1..$#"
if [ ! -c /dev/wasmpool ] && [ "${WASMPOOL_REQUIRE_DEVICE:-}" != 1 ]; then
	echo "# /dev/wasmpool missing: load the wasmpool module to run the tests"
	i=0
	for prog in "$@"; do
		i=$((i + 1))
		echo "ok $i selftests: wasmpool: ${prog##*/} # SKIP no /dev/wasmpool"
	done
	exit 0
fi
[ $can_dmesg = 1 ] || echo "# kernel log not readable here: not checked"
i=0
failed=0
for prog in "$@"; do
	i=$((i + 1))
	name=${prog##*/}
	echo "# selftests: wasmpool: $name"
	marker="wasmpool-selftest: begin $name pid $$ #$i"
	[ $can_dmesg = 1 ] && echo "$marker" > /dev/kmsg

	{ timeout "$timeout_s" "$prog" 2>&1; echo $? > "$tmp/rc"; } | sed 's/^/# /'
	rc=$(cat "$tmp/rc")

	dirty=
	if [ $can_dmesg = 1 ]; then
		"$dir/dmesg_check.sh" "$marker" > "$tmp/dmesg"
		case $? in
		0) ;;
		1)	sed 's/^/# /' "$tmp/dmesg"
			dirty=$(head -n 1 "$tmp/dmesg" | sed 's/^dmesg: //') ;;
		# the ring buffer overflowed: what scrolled out is unread
		2) dirty="kernel log lost the test's start marker: not checked" ;;
		*) dirty="kernel log: $(cat "$tmp/dmesg")" ;;
		esac
	fi

	if [ -n "$dirty" ]; then
		echo "not ok $i selftests: wasmpool: $name # dmesg: $dirty"
		failed=$((failed + 1))
	elif [ "$rc" = 0 ]; then
		echo "ok $i selftests: wasmpool: $name"
	elif [ "$rc" = 4 ]; then
		echo "ok $i selftests: wasmpool: $name # SKIP"
	elif [ "$rc" = 124 ] || [ "$rc" = 143 ]; then
		echo "not ok $i selftests: wasmpool: $name # TIMEOUT $timeout_s seconds"
		failed=$((failed + 1))
	else
		echo "not ok $i selftests: wasmpool: $name # exit=$rc"
		failed=$((failed + 1))
	fi
done
[ $failed = 0 ]
