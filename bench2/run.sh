#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run warm_cycle alone in the test VM (vm/run.sh --bench with
# wasmpool.bench=warm_cycle) and keep its output, with the host's load
# before and after (the VM shares the host's cores).
#
# Usage: bench2/run.sh KERNEL_RELEASE [TAG] [-- warm_cycle args, comma-separated]
# Output: build/bench2/warm_cycle-REL-TAG.log (the console from the
# benchmark on) and .csv (its warmcsv lines).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rel=${1:?usage: bench2/run.sh KERNEL_RELEASE [TAG] [ARGS]}
tag=${2:-run}
args=${3:-}
make -s -C "$top/bench2"
mkdir -p "$top/build/bench2"
log=$top/build/bench2/warm_cycle-$rel-$tag.log
append="wasmpool.bench=warm_cycle"
[ -n "$args" ] && append+=" wasmpool.benchargs=$args"
{
	echo "host: before: $(uptime)"
	WASMPOOL_VM_TIMEOUT=${WASMPOOL_VM_TIMEOUT:-900} \
		"$top/vm/run.sh" --bench --append "$append" "$rel" || echo "host: vm/run.sh failed: $?"
	echo "host: after: $(uptime)"
} 2>&1 | tee "$log"
grep '^warmcsv,' "$log" > "${log%.log}.csv" || true
