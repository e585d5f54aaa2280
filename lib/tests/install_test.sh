#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# install_test: `make install` into a fresh prefix, then a program outside
# the tree builds against it with nothing but `pkg-config --cflags --libs
# wasmpool`, links the shared library, and runs (no device needed).
# Usage: install_test.sh LIB_SOURCE_DIR   (TAP on stdout)
set -u
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
tap() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
echo "TAP version 13"

make -s -C "$src" -f "$src/Makefile" install PREFIX="$tmp/prefix" > "$tmp/install.log" 2>&1
tap $? "make install PREFIX=... (library, headers, CLI, pkg-config file, man pages)"
[ -f "$tmp/prefix/lib/pkgconfig/wasmpool.pc" ] && [ -f "$tmp/prefix/include/wasmpool.h" ] &&
	[ -f "$tmp/prefix/include/linux/wasmpool.h" ] && [ -L "$tmp/prefix/lib/libwasmpool.so.0" ] &&
	[ -x "$tmp/prefix/bin/wasmpool" ] && [ -n "$(ls "$tmp/prefix/share/man/man3" 2>/dev/null)" ]
tap $? "installed: headers, libwasmpool.so.0, pkg-config file, wasmpool, man pages"

cat > "$tmp/outside.c" <<'PROG'
#include <stdio.h>
#include <string.h>
#include <wasmpool.h>

int main(void)
{
	struct wasmpool_layout_cmd cmd = {
		.max_memory_bytes = 4ULL << 30, .reservation_bytes = 4ULL << 30,
		.guard_bytes = 2ULL << 30, .num_slots = 1000, .num_pkeys = 15,
	};
	int ret = wasmpool_layout_calc(&cmd);

	printf("libwasmpool %s: %d stripes, %llu bytes\n", wasmpool_version(),
	       cmd.layout.num_stripes, (unsigned long long)cmd.layout.total_bytes);
	/* the version the library reports is the one its Makefile builds */
	return ret || cmd.layout.num_stripes != 2 || strcmp(wasmpool_version(), VERSION);
}
PROG
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs wasmpool)
echo "# pkg-config --cflags --libs wasmpool: $flags"
version=$(sed -n 's/^MAJOR := //p' "$src/Makefile").$(sed -n 's/^MINOR := //p' "$src/Makefile").0
cc -Wall -Wextra -Werror -DVERSION="\"$version\"" -o "$tmp/outside" "$tmp/outside.c" $flags \
	> "$tmp/cc.log" 2>&1
tap $? "a program outside the tree builds with only pkg-config --cflags --libs wasmpool"
LD_LIBRARY_PATH=$tmp/prefix/lib "$tmp/outside" | sed 's/^/# /'
tap "${PIPESTATUS[0]}" "it runs against the installed shared library"
readelf -d "$tmp/outside" | grep -q 'NEEDED.*libwasmpool.so.0'
tap $? "it links the soname libwasmpool.so.0"

echo "1..$n"
[ $failed = 0 ]
