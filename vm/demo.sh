#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo run inside the VM by `make demo`: what a runtime sees of the
# loaded module. It grows with the device.
set -e
echo "wasmpool demo: the module is loaded: $(grep '^wasmpool ' /proc/modules)"
echo "wasmpool demo: device node: $(ls -l /dev/wasmpool)"
echo "wasmpool demo: \`wasmpool info\` (the WASMPOOL_IOC_INFO handshake):"
wasmpool info | sed 's/^/    /'
echo "wasmpool demo: the kernel computes a striped slab layout"
echo "  (wasmpool layout --kernel --max-memory 64M --reservation 64M --guard 512M --slots 10000 --pkeys 15):"
wasmpool layout --kernel --max-memory 64M --reservation 64M --guard 512M \
	--slots 10000 --pkeys 15 | sed 's/^/    /'
