#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Plot the reset cost by resident pages from a make bench results file.
# Usage: bench/plot.sh RESULTS.csv OUT.png     (needs gnuplot)
set -euo pipefail
csv=$1
png=$2
command -v gnuplot > /dev/null || exit 1
data=$(mktemp)
trap 'rm -f "$data"' EXIT
# reset,PAGES,DEV_MEDIAN,DEV_MIN,DEV_MAX,BASE_MEDIAN,BASE_MIN,BASE_MAX,RATIO
grep '^reset,' "$csv" | awk -F, '{ print ($2 == 0 ? 0.5 : $2), $3, $4, $5, $6, $7, $8 }' > "$data"
gnuplot <<PLOT
set terminal png size 800,500 noenhanced
set output "$png"
set title "wasmpool: one slot reset by resident pages (keep_resident 0, QEMU TCG)"
set xlabel "pages resident in the slot (0 shown at 0.5)"
set ylabel "microseconds per reset"
set logscale xy
set key top left
set grid
plot "$data" using 1:2:3:4 with yerrorlines title "/dev/wasmpool reset (median, min-max)", \
     "$data" using 1:5:6:7 with yerrorlines title "userspace: MADV_DONTNEED + mprotect"
PLOT
