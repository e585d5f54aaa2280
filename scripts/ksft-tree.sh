#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Lay the selftests out in a kernel source tree as the kselftest target
# drivers/wasmpool: selftests/ as tools/testing/selftests/drivers/wasmpool,
# with the module's layout code (layout_test compiles it) beside the tests,
# and uapi/linux/wasmpool.h as include/uapi/linux/wasmpool.h, where
# `make headers` finds it. Copies, made afresh each time: the repository
# keeps one copy of everything.
#
# Usage: scripts/ksft-tree.sh KERNEL_TREE
# Then: make -C KERNEL_TREE headers &&
#       make -C KERNEL_TREE/tools/testing/selftests TARGETS=drivers/wasmpool
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree=${1:?usage: ksft-tree.sh KERNEL_TREE}
[ -f "$tree/tools/testing/selftests/lib.mk" ] ||
	{ echo "ksft-tree.sh: $tree has no tools/testing/selftests/lib.mk" >&2; exit 1; }

dir=$tree/tools/testing/selftests/drivers/wasmpool
rm -rf "$dir"
mkdir -p "$dir" "$tree/include/uapi/linux"
cp "$top"/selftests/{Makefile,settings,config} "$top"/selftests/*.[ch] \
	"$top"/selftests/*.sh "$dir/"
cp "$top"/kmod/{layout.c,layout.h,layout_user.h} "$dir/"
cp "$top/uapi/linux/wasmpool.h" "$tree/include/uapi/linux/wasmpool.h"
