#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install, from Debian's packages, everything `make check` needs: QEMU,
# busybox, the headers and images of Debian 12's current 6.1 and 6.12 kernels
# (resolved through the meta packages, never pinned here), the kernel source
# packages (kselftest headers and build, checkpatch), sparse, rsync
# (kselftest's lib.mk installs with it) and wabt (wat2wasm, wasm2c and its
# runtime's sources in /usr/src/wasm2c, for wasm/).
#
# Installs only what is missing; with everything present it needs no network.
# Usage: scripts/deps.sh [--check] [--debug]
#   --check: report what is missing, exit 1
#   --debug: also what building a kernel needs (make check-debug)
set -euo pipefail

# Meta packages that name the current kernel ABI of each series.
metas=(linux-headers-amd64 linux-image-amd64
       linux-headers-6.12-amd64 linux-image-6.12-amd64)
tools=(build-essential clang libclang-rt-14-dev qemu-system-x86 busybox-static cpio gzip xz-utils
       kmod perl pkg-config sparse gnuplot-nox dkms linux-source-6.1 linux-source-6.12 wabt
       rsync)

check=0
for arg in "$@"; do
	case "$arg" in
	--check) check=1 ;;
	--debug) tools+=(flex bison bc libelf-dev libssl-dev) ;;
	*) echo "deps.sh: unknown option $arg" >&2; exit 2 ;;
	esac
done

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

# The package a meta package points at (its first dependency).
meta_target() {
	dpkg-query -W -f='${Depends}' "$1" 2>/dev/null | sed 's/[ ,(].*//'
}

missing=()
for p in "${tools[@]}" "${metas[@]}"; do
	installed "$p" || missing+=("$p")
done
# A meta package may be present while what it points at was removed.
for m in "${metas[@]}"; do
	installed "$m" || continue
	t=$(meta_target "$m")
	[ -n "$t" ] && ! installed "$t" && missing+=("$t")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ $check = 1 ]; then
	echo "missing packages: ${missing[*]}" >&2
	exit 1
fi

sudo=
if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo
fi
echo "wasmpool: installing from Debian's packages (--no-install-recommends):"
echo "  ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
