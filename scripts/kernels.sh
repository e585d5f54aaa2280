#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Print the release names of the kernels wasmpool is tested on, one per line:
# Debian 12's current 6.1 and 6.12, as the installed meta packages name them.
# WASMPOOL_KERNELS="rel1 rel2" overrides the list.
set -euo pipefail

if [ -n "${WASMPOOL_KERNELS:-}" ]; then
	printf '%s\n' $WASMPOOL_KERNELS
	exit 0
fi
for meta in linux-headers-amd64 linux-headers-6.12-amd64; do
	dep=$(dpkg-query -W -f='${Depends}' "$meta" 2>/dev/null | sed 's/[ ,(].*//')
	if [ -z "$dep" ]; then
		echo "kernels.sh: $meta is not installed (run scripts/deps.sh)" >&2
		exit 1
	fi
	echo "${dep#linux-headers-}"
done
