#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Search the kernel log after a marker line for warnings, BUGs, oopses,
# lockdep and KASAN reports, and print each as "dmesg: LINE".
#
# Usage: dmesg_check.sh [MARKER]
#
# Without MARKER: the log since the last "kselftest: Running tests in "
# line, which the kernel's run_kselftest.sh writes as it begins a
# collection (and our Makefile's run_tests in a kernel tree too): as the
# last program of the kselftest collection, this checks the kernel log of
# the whole run. run_tests.sh calls it after each program with that
# program's marker, vm/init at the end of a boot with its insmod marker.
#
# Exit status: 0 clean, 1 a bad line found, 2 the marker is not in the log
# (the ring buffer overflowed: not checked), 4 (kselftest's SKIP) the log
# cannot be read here (not root). POSIX sh, for busybox.

marker=${1:-"kselftest: Running tests in "}
# lockdep's reports start with WARNING: or BUG:; a bare "lockdep" or
# "kmemleak" would match frames of any stack dump (an allocation failure's).
bad='WARNING:|BUG:|kernel BUG at|invalid opcode:|Oops|KASAN|UBSAN|kmemleak: .*suspected memory leak|kmemleak: .*disabled|Cannot allocate a kmemleak_object|lockdep is turned off|DEBUG_LOCKS_WARN_ON|general protection fault|refcount_t:|blocked for more than'

if [ $# = 0 ] && ! [ -w /dev/kmsg ]; then
	# run_kselftest.sh could not write where the run began either
	echo "/dev/kmsg not writable (not root?): kernel log not checked"
	exit 4
fi
log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT
if ! dmesg > "$log" 2>/dev/null; then
	echo "kernel log not readable here (not root?): not checked"
	exit 4
fi
# the line number of the marker's last occurrence
n=$(grep -nF -e "$marker" "$log" | tail -n 1 | cut -d: -f1)
if [ -z "$n" ]; then
	echo "\"$marker\" is not in the kernel log (overflowed?): not checked"
	exit 2
fi
tail -n "+$((n + 1))" "$log" | grep -E "$bad" | sed 's/^/dmesg: /' | grep . && exit 1
exit 0
