#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dkms-test: `dkms build` of the module, from this tree's dkms.conf, for
# every test kernel, in private dkms and source trees (the system's DKMS
# state is not touched). TAP on stdout.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
echo "TAP version 13"
mkdir -p "$tmp/src/wasmpool-$ver" "$tmp/dkms"
cp -a "$top/dkms.conf" "$top/Kbuild" "$top/kmod" "$top/uapi" "$tmp/src/wasmpool-$ver/"
for k in $("$top/scripts/kernels.sh"); do
	n=$((n + 1))
	if dkms build -m wasmpool -v "$ver" -k "$k" --sourcetree "$tmp/src" \
		--dkmstree "$tmp/dkms" > "$tmp/log" 2>&1 &&
	   ls "$tmp/dkms/wasmpool/$ver/$k/"*/module/wasmpool.ko* > /dev/null 2>&1; then
		echo "ok $n - dkms build wasmpool/$ver for $k"
	else
		sed 's/^/# /' "$tmp/log" | tail -n 20
		echo "not ok $n - dkms build wasmpool/$ver for $k"
		failed=$((failed + 1))
	fi
done
echo "1..$n"
[ $failed = 0 ]
