#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo run inside the VM by `make demo`: what a runtime sees of the
# loaded module.
set -e
echo "wasmpool demo: the module is loaded: $(grep '^wasmpool ' /proc/modules)"
echo "wasmpool demo: device node: $(ls -l /dev/wasmpool)"
echo "wasmpool demo: \`wasmpool info\` (the WASMPOOL_IOC_INFO handshake):"
wasmpool info | sed 's/^/    /'
echo "wasmpool demo: the kernel computes a striped slab layout"
echo "  (wasmpool layout --kernel --max-memory 64M --reservation 64M --guard 512M --slots 10000 --pkeys 15):"
wasmpool layout --kernel --max-memory 64M --reservation 64M --guard 512M \
	--slots 10000 --pkeys 15 | sed 's/^/    /'
echo "wasmpool demo: a runtime-shaped client (examples/demo.c) for 5 seconds:"
wasmpool-demo 5 | sed 's/^/    /'
echo "wasmpool demo: module-wide statistics afterwards (sysfs):"
for f in pools slots_in_use resident_bytes; do
	echo "    $f=$(cat /sys/class/misc/wasmpool/$f)"
done
