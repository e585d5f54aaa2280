#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Plot the reset cost by resident pages from a make bench results file: the
# device against both baselines (Wasmtime today, and the classic
# strategy; a results file from before the Wasmtime-today column plots the
# classic one only).
# Usage: bench/plot.sh RESULTS.csv OUT.png [KERNEL]     (needs gnuplot)
set -euo pipefail
csv=$1
png=$2
on=${3:+"$3, "}
command -v gnuplot > /dev/null || exit 1
data=$(mktemp)
trap 'rm -f "$data"' EXIT
# reset,PAGES,DEV,DEV_MIN,DEV_MAX,CLASSIC,CLASSIC_MIN,CLASSIC_MAX,CLASSIC/DEV,
#       WT,WT_MIN,WT_MAX,WT/DEV,WT_RESET
grep '^reset,' "$csv" | awk -F, '{ print ($2 == 0 ? 0.5 : $2), $3, $4, $5, $6, $7, $8, $10, $11, $12 }' > "$data"
[ -s "$data" ] || { echo "plot.sh: no reset rows in $csv" >&2; exit 1; }
plots="\"$data\" using 1:2:3:4 with yerrorlines title \"/dev/wasmpool reset (median, min-max)\""
if awk 'NF < 10 { exit 1 }' "$data"; then
	plots+=", \"$data\" using 1:8:9:10 with yerrorlines title \"Wasmtime today (keep_resident 0: MADV_DONTNEED)\""
fi
plots+=", \"$data\" using 1:5:6:7 with yerrorlines title \"classic: MADV_DONTNEED + mprotect\""
gnuplot <<PLOT
set terminal png size 800,500 noenhanced
set output "$png"
set title "wasmpool: one reset by pages resident (keep_resident 0; ${on}QEMU TCG)"
set xlabel "pages resident in the slot (0 shown at 0.5)"
set ylabel "microseconds per reset"
set logscale xy
set key top left
set grid
plot $plots
PLOT
