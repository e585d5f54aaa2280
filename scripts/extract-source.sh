#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Extract from Debian's linux-source tarball the few files the project uses
# and must not commit: the kselftest headers and checkpatch with its data.
# The result lands in build/linux-source/ (or $1) and is reused while the
# tarball does not change (~8 s to extract).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$top/build/linux-source}
files=(tools/testing/selftests/kselftest_harness.h
       tools/testing/selftests/kselftest.h
       scripts/checkpatch.pl
       scripts/spelling.txt
       scripts/const_structs.checkpatch)

tarball=
for v in 6.12 6.1; do
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
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$tarball $(stat -c %Y "$tarball")" ]; then
	exit 0
fi

echo "  EXTRACT $tarball -> ${dest#"$top"/}"
mkdir -p "${dest%/*}"
tmp=$(mktemp -d "${dest%/*}/.extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xJf "$tarball" -C "$tmp" "${files[@]/#/$prefix/}"
rm -rf "$dest"
mv "$tmp/$prefix" "$dest"
echo "$tarball $(stat -c %Y "$tarball")" > "$stamp"
