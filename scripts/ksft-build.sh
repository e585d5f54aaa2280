#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build and install the kselftest target drivers/wasmpool the kernel's way,
# in a kernel tree extracted from Debian's linux-source (extract-source.sh):
# lay it out (ksft-tree.sh), `make headers`, `make -C tools/testing/selftests
# TARGETS=drivers/wasmpool`, and install it with kselftest_install.sh.
# vm/run.sh --kselftest DIR runs the result with run_kselftest.sh.
#
# Usage: scripts/ksft-build.sh [SERIES]
#   SERIES: 6.12 or 6.1 (default: the tree extract-source.sh picks, in
#   build/linux-source). Installs into build/kselftest[-SERIES]/install.
#
# `make headers` of the whole uapi takes about a minute (a shell per
# header): it runs once per extraction, in the extracted tree, and each
# build starts from a copy of it, where only wasmpool.h is new.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
series=${1:-}
src=$top/build/linux-source${series:+-$series}
out=$top/build/kselftest${series:+-$series}
jobs=$(nproc)

# lib.mk's install copies with rsync
command -v rsync > /dev/null ||
	{ echo "ksft-build.sh: lib.mk's install needs rsync (scripts/deps.sh)" >&2; exit 1; }

"$top/scripts/extract-source.sh" "$src" $series
if [ ! -f "$src/.headers-installed" ]; then
	echo "  HEADERS ${src#"$top"/} (once per extraction)"
	make -s -C "$src" -j"$jobs" headers
	touch "$src/.headers-installed"
fi

rm -rf "$out"
mkdir -p "$out/install"
cp -a "$src" "$out/linux"
"$top/scripts/ksft-tree.sh" "$out/linux"
make -s -C "$out/linux" headers
make -C "$out/linux/tools/testing/selftests" -j"$jobs" TARGETS=drivers/wasmpool
# TARGETS on make's command line, through MAKEFLAGS: the Makefile appends
# every other target to a TARGETS from the environment.
(cd "$out/linux/tools/testing/selftests" &&
	MAKEFLAGS=TARGETS=drivers/wasmpool ./kselftest_install.sh "$out/install")
echo "installed: ${out#"$top"/}/install ($(wc -l < "$out/install/kselftest-list.txt") programs)"
