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
echo "wasmpool demo: WebAssembly programs through wabt's wasm2c (wasm/), on its"
echo "  stock runtime and then on the pool, every result compared with stock's:"
wasm2c-stock > /tmp/wasm2c-stock.txt
wasm2c-pool /tmp/wasm2c-stock.txt > /tmp/wasm2c.log || echo "wasm2c-pool: status $?" >> /tmp/wasm2c.log
sed 's/^/    /' /tmp/wasm2c.log
wasm2c_failed=
grep -q '^not ok\|^wasm2c-pool: status' /tmp/wasm2c.log && wasm2c_failed=1
echo "wasmpool demo: module-wide statistics afterwards (sysfs):"
for f in pools slots_in_use resident_bytes images image_bytes; do
	echo "    $f=$(cat /sys/class/misc/wasmpool/$f)"
done
# the wasm2c programs decide too
[ -z "$wasm2c_failed" ]
