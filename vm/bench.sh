#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The benchmarks run inside the VM by `make bench`: the device against two
# userspace strategies of Wasmtime's pooling allocator (bench/baselines.h:
# today's, with PAGEMAP_SCAN, and the classic one, mprotect() per cycle), in the
# same boot.
# With --quick, a smoke run (make check): a few iterations of each.
# Lines starting "csv," are collected by the host into results.csv.
set -e
q=${1:-}
thp=/sys/kernel/mm/transparent_hugepage/enabled
[ -w $thp ] && echo never > $thp
echo "wasmpool bench: kernel $(uname -r), $(nproc) vCPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "wasmpool bench: transparent huge pages: $(cat $thp 2>/dev/null || echo n/a)"
echo "wasmpool bench: QEMU TCG stretches a syscall ~3x, a page fault ~8x and memset() far more (cycle_bench measures it): compare the ratios, not the times"
indent() { sed 's/^/    /; s/^    csv,/csv,/'; }
# wasmpool.bench=PROG[,PROG...] on the kernel command line (vm/run.sh --bench
# --append ...): run just those programs of /bin, with the arguments of
# wasmpool.benchargs=ARG[,ARG...], instead of the benchmarks below.
only=$(sed -n 's/.*wasmpool\.bench=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' ')
if [ -n "$only" ]; then
	args=$(sed -n 's/.*wasmpool\.benchargs=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' ')
	for p in $only; do
		echo "wasmpool bench: $p $args"
		"$p" $args $q
	done
	exit 0
fi
echo "wasmpool bench: (1) setting up a pool: wall time (median of 5), system calls, VMAs"
setup_bench $q | indent
echo "wasmpool bench: (2) alloc -> touch K pages -> reset -> free, 4 MiB memories in Wasmtime's default layout (4 GiB reservations, 32 MiB guards), median of 15 runs"
cycle_bench $q | indent
echo "wasmpool bench: (3) threads (keep_resident 0 and 64 KiB), (4) reset cost by resident pages"
scale_bench $q | indent
echo "wasmpool bench: (5) memory images: alloc from an image -> read it all -> write K pages -> free, device against Wasmtime's memory_init_cow (sealed memfd MAP_PRIVATE), median of 11 runs ABBA"
# its exit status counts (a failed check of what an instance read): kept apart from indent's
if image_bench $q > /tmp/image_bench.log 2>&1; then rc=0; else rc=$?; fi
indent < /tmp/image_bench.log
[ $rc = 0 ]
