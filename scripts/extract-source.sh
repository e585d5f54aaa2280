#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Extract from Debian's linux-source tarball the files the project uses and
# must not commit: the kselftest headers, checkpatch with its data, and the
# part of the tree that `make headers` and the kselftest build, install and
# runner need (scripts/ksft-build.sh; ~20 MB). The result lands in
# build/linux-source/ (or $1) and is reused while the tarball and this list
# do not change (~10 s to extract: decompressing the tarball is the time).
#
# Usage: scripts/extract-source.sh [DEST [SERIES]]
#   SERIES: 6.12 or 6.1 (default: 6.12 if installed, else 6.1)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$top/build/linux-source}
series=${2:-6.12 6.1}
ksft=tools/testing/selftests
files=($ksft/kselftest_harness.h $ksft/kselftest.h
       $ksft/Makefile $ksft/lib.mk $ksft/kselftest $ksft/kselftest_install.sh
       $ksft/run_kselftest.sh
       scripts
       Makefile include/uapi tools/include
       arch/x86/Makefile arch/x86/include/uapi arch/x86/entry/syscalls arch/x86/tools)

tarball=
for v in $series; do
	if [ -r "/usr/src/linux-source-$v.tar.xz" ]; then
		tarball=/usr/src/linux-source-$v.tar.xz
		prefix=linux-source-$v
		break
	fi
done
if [ -z "$tarball" ]; then
	echo "extract-source.sh: no /usr/src/linux-source-*.tar.xz;" \
	     "install linux-source-6.12 (scripts/deps.sh)" >&2
	exit 1
fi

stamp=$dest/.extracted-from
id="$tarball $(stat -c %Y "$tarball") ${files[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$id" ]; then
	exit 0
fi

echo "  EXTRACT $tarball -> ${dest#"$top"/}"
mkdir -p "${dest%/*}"
tmp=$(mktemp -d "${dest%/*}/.extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xJf "$tarball" -C "$tmp" "${files[@]/#/$prefix/}"
rm -rf "$dest"
mv "$tmp/$prefix" "$dest"
echo "$id" > "$stamp"
