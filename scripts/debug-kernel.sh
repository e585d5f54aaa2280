#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the debug kernel of `make check-debug` from Debian's linux-source
# package, or find it already built: the x86_64 defconfig plus
# vm/debug.config (KASAN, lockdep, kmemleak, DEBUG_VM, fault injection).
#
# Usage: scripts/debug-kernel.sh SERIES[-VARIANT]   (6.1, 6.12, 6.12-nosecretmem)
# A variant adds vm/debug-VARIANT.config on top of vm/debug.config (its
# lines win): nosecretmem builds without CONFIG_SECRETMEM, which on 6.12
# changes what GUP-fast lets through (the pinning tests must hold there too).
# Prints one line: the build directory. In it: bzImage, release (the
# kernel release string) and obj/ (the build tree that modules are built
# against with `make -C obj M=...`).
#
# The build is cached under $WASMPOOL_DEBUG_CACHE (default
# ~/.cache/wasmpool/debug-kernel), keyed by the source package's version
# and the configuration: a new Debian source or a changed vm/debug.config
# builds anew; anything else reuses it. A build takes about 17 minutes on
# 2 cores and 3 GB of disk; progress goes to stderr, the log to build.log.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
name=${1:?usage: scripts/debug-kernel.sh 6.1|6.12[-VARIANT]}
series=${name%%-*}
variant=
[ "$name" != "$series" ] && variant=${name#*-}
# Bump when the way of building changes (what the key cannot see).
recipe=1

tarball=/usr/src/linux-source-$series.tar.xz
[ -r "$tarball" ] || { echo "debug-kernel: no $tarball (apt-get install linux-source-$series)" >&2; exit 1; }
pkgver=$(dpkg-query -W -f='${Version}' "linux-source-$series")
frags=("$top/vm/debug.config")
if [ -n "$variant" ]; then
	[ -r "$top/vm/debug-$variant.config" ] || { echo "debug-kernel: no vm/debug-$variant.config" >&2; exit 1; }
	frags+=("$top/vm/debug-$variant.config")
fi
key=$( { echo "$recipe $pkgver $(gcc -dumpfullversion)"; cat "${frags[@]}"; } | sha256sum | cut -c1-12)
cache=${WASMPOOL_DEBUG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmpool/debug-kernel}
dir=$cache/$name-$key

if [ -f "$dir/done" ]; then
	echo "debug-kernel: $series: cached build $(cat "$dir/release") in $dir" >&2
	echo "$dir"
	exit 0
fi

say() { echo "debug-kernel: $series: $*" >&2; }
rm -rf "$dir"
mkdir -p "$dir"
# One fragment: for an option set twice, the last line wins.
frag=$dir/fragment.config
cat "${frags[@]}" | tac | awk '/^CONFIG_[A-Z0-9_]+=/ || /^# CONFIG_[A-Z0-9_]+ is not set$/ {
	o = $0; sub(/^# /, "", o); sub(/[= ].*/, "", o); if (!seen[o]++) print }' |
	tac > "$frag"
log=$dir/build.log
src=$dir/linux-source-$series
obj=$dir/obj
say "building the debug kernel${variant:+ ($variant)} from linux-source-$series $pkgver (about 17 min on 2 cores; log $log)"

t0=$SECONDS
tar -xJf "$tarball" -C "$dir"
make -s -C "$src" O="$obj" defconfig >> "$log" 2>&1
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$frag" >> "$log" 2>&1
make -s -C "$src" O="$obj" olddefconfig >> "$log" 2>&1

# Every option asked for must be in the result: a dependency that
# olddefconfig resolved the other way would silently weaken the run.
lost=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) grep -qxF "$line" "$obj/.config" && continue ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		grep -q "^$opt=" "$obj/.config" || continue ;;
	*) continue ;;
	esac
	say "the configuration asks for '$line', the kernel's Kconfig refused it"
	lost=1
done < "$frag"
[ $lost = 0 ] || exit 1

# The build, with a line of progress a minute.
make -C "$src" O="$obj" -j"$(nproc)" bzImage modules >> "$log" 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null; do
	for _ in $(seq 60); do
		kill -0 $pid 2>/dev/null || break
		sleep 1
	done
	kill -0 $pid 2>/dev/null &&
		say "$(grep -c '^  CC ' "$log") files compiled, $((SECONDS - t0)) s"
done
if ! wait $pid; then
	grep -E 'error|Error' "$log" | head -n 20 >&2
	say "build failed (log $log)"
	exit 1
fi

cp "$obj/arch/x86/boot/bzImage" "$dir/bzImage"
make -s -C "$src" O="$obj" kernelrelease > "$dir/release"
# What building a module against obj/ does not need: the objects.
find "$obj" -name '*.o' ! -path '*/scripts/*' ! -path '*/tools/*' -delete
rm -rf "$dir/build.log.old"
touch "$dir/done"
say "built $(cat "$dir/release") in $((SECONDS - t0)) s ($(du -sh "$dir" | cut -f1) in $dir)"
echo "$dir"
