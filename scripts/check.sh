#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check`: install what is missing, run the static checks, build the
# module for every test kernel (W=1 and sparse must be silent), build the
# library and the selftests, build and install the selftests as the kselftest
# target drivers/wasmpool in a kernel tree extracted from linux-source
# (scripts/ksft-build.sh), boot each kernel in QEMU and run the selftests
# there (in the newest kernel's first boot the installed kselftest suite,
# with run_kselftest.sh), then print per-kernel results and one last line
# "N passed, N failed[, N skipped]". Exit status 1 on any failure.
#
# `make demo` (--demo): build, then boot the newest kernel with the module
# loaded and show it working. `make bench` (--bench): the same with the
# benchmarks.
#
# `make check-debug` (--debug): build (once; cached) debug kernels from
# Debian's linux-source-6.1 and -6.12 with KASAN, lockdep, kmemleak,
# DEBUG_VM and fault injection (scripts/debug-kernel.sh), build the module
# for them, and run the selftests, the fuzzer with failing allocations and
# a kmemleak scan there (vm/init, wasmpool.run=debug). Not part of CI.
#
# Environment: WASMPOOL_KERNELS="rel ..." overrides the kernels;
# WASMPOOL_VM_ACCEL=kvm|tcg skips the KVM probe; WASMPOOL_DEBUG_SERIES
# (default "6.1 6.12 6.12-nosecretmem") and WASMPOOL_DEBUG_CPUS (default "max qemu64") the
# debug runs.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
mode=check
[ "${1:-}" = --demo ] && mode=demo
[ "${1:-}" = --bench ] && mode=bench
[ "${1:-}" = --debug ] && mode=debug

logs=$top/build/logs
t0=$(date +%s)
passed=0
failed=0
skipped=0
summary=()

ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
die() { echo "check: $*" >&2; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

# Show the lines of a log that matter, indented.
show() { grep -E "$2" "$1" | head -n 20 | sed 's/^/    /'; }

"$top/scripts/deps.sh" $([ $mode = debug ] && echo --debug) ||
	die "cannot install the packages make check needs"
"$top/scripts/extract-source.sh" || die "cannot extract the kselftest headers and checkpatch"
mkdir -p "$logs"
declare -A kdirs images
if [ $mode = debug ]; then
	# The debug kernels: built on first use (about 17 min each), cached.
	kernels=()
	for series in ${WASMPOOL_DEBUG_SERIES:-6.1 6.12 6.12-nosecretmem}; do
		echo "== debug kernel $series"
		if ! d=$("$top/scripts/debug-kernel.sh" "$series"); then
			not_ok "debug kernel $series: built"
			continue
		fi
		k=$(cat "$d/release")
		kernels+=("$k")
		kdirs[$k]=$d/obj
		images[$k]=$d/bzImage
	done
	[ ${#kernels[@]} -gt 0 ] || die "no debug kernel"
else
	mapfile -t kernels < <("$top/scripts/kernels.sh") || die "no test kernels"
	[ ${#kernels[@]} -gt 0 ] || die "no test kernels"
	for k in "${kernels[@]}"; do
		kdirs[$k]=/lib/modules/$k/build
		images[$k]=/boot/vmlinuz-$k
	done
fi

# --- userspace ----------------------------------------------------------------
# Every bench/*.c, static, for the VM's /bin.
build_benches() {
	local b
	mkdir -p build/vm/bench
	# bench2/: the second opinion's own benchmark (issue 14), kept building
	for b in bench/*.c bench2/*.c; do
		gcc -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static -pthread -Ilib/include -Iuapi \
			-o "build/vm/bench/$(basename "$b" .c)" "$b" lib/libwasmpool.a || return 1
	done
}

echo "== userspace: library, CLI, selftests"
if make -s -C lib all wasmpool-static > "$logs/lib.log" 2>&1; then
	ok "build: libwasmpool and the CLI (-Wall -Wextra -Werror)"
else
	show "$logs/lib.log" .
	not_ok "build: libwasmpool and the CLI (-Wall -Wextra -Werror)"
fi
rm -rf build/selftests
mkdir -p build/vm
if make -s -C selftests OUTPUT="$top/build/selftests" > "$logs/selftests.log" 2>&1 &&
   gcc -O2 -Wall -Wextra -Werror -static -o build/vm/guest-exit vm/guest-exit.c \
	>> "$logs/selftests.log" 2>&1 &&
   build_benches >> "$logs/selftests.log" 2>&1 &&
   gcc -O2 -Wall -Wextra -Werror -static -pthread -Ilib/include -Iuapi \
	-o build/vm/wasmpool-demo examples/demo.c lib/libwasmpool.a \
	>> "$logs/selftests.log" 2>&1 &&
   make -s -C wasm >> "$logs/selftests.log" 2>&1 &&
   gcc -O1 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Ilib/include -Iuapi -Ikmod -o build/selftests/lib_asan_test \
	lib/tests/lib_test.c lib/src/wasmpool.c kmod/layout.c \
	>> "$logs/selftests.log" 2>&1; then
	ok "build: selftests, benchmarks, demo, wasm2c programs and VM helpers"
else
	show "$logs/selftests.log" .
	not_ok "build: selftests, benchmarks, demo, wasm2c programs and VM helpers"
fi

# The selftests as a kselftest target in a kernel tree, the kernel's way:
# make headers, lib.mk's build, kselftest_install.sh (run in a VM below).
ksft=
if [ $mode = check ]; then
	echo "== kselftest: drivers/wasmpool in a linux-source tree"
	t=$(date +%s)
	if "$top/scripts/ksft-build.sh" > "$logs/kselftest.log" 2>&1; then
		ok "kselftest: drivers/wasmpool built by lib.mk in $(sed 's/ .*//; s,.*/,,' build/linux-source/.extracted-from), installed by kselftest_install.sh ($(($(date +%s) - t)) s)"
		ksft=$top/build/kselftest/install
	else
		show "$logs/kselftest.log" 'error|Error|warning|ksft-build'
		not_ok "kselftest: drivers/wasmpool built by lib.mk, installed by kselftest_install.sh"
	fi
fi

# Add the TAP results ("ok N - ..." / "not ok N - ...") of a log to the
# totals; a run that exited non-zero without a failed line counts as one.
count_tap() { # log exit-status what
	local p f s
	p=$(grep -Ec '^ok [0-9]+ ' "$1" | head -n 1)
	s=$(grep -Ec '^ok [0-9]+ .*# SKIP' "$1" | head -n 1)
	f=$(grep -Ec '^not ok [0-9]+ ' "$1" | head -n 1)
	grep -E '^(not )?ok [0-9]+ ' "$1" | sed 's/^/  /'
	grep -E '^not ok|^#' "$1" | head -n 20 | sed 's/^/    /' >&2
	passed=$((passed + p - s))
	skipped=$((skipped + s))
	failed=$((failed + f))
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		not_ok "$3 exited with status $2"
	fi
}

if [ $mode = check ]; then
	echo "== userspace tests (ASan/UBSan), CLI, fuzzing"
	make -s -C lib test > "$logs/lib-test.log" 2>&1
	count_tap "$logs/lib-test.log" $? "the userspace tests"
	if make -s -C lib fuzz FUZZ_SECONDS="${WASMPOOL_FUZZ_SECONDS:-15}" \
		> "$logs/fuzz.log" 2>&1; then
		ok "fuzz: layout for ${WASMPOOL_FUZZ_SECONDS:-15} s, $(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/fuzz.log") inputs, no finding"
	else
		tail -n 20 "$logs/fuzz.log" | sed 's/^/    /'
		not_ok "fuzz: layout (reproducer in lib/crash-*)"
	fi
fi

# --- the module ---------------------------------------------------------------
if [ $mode = check ]; then
	echo "== static checks"
	if perl build/linux-source/scripts/checkpatch.pl --no-tree --strict -q \
		--ignore FILE_PATH_CHANGES -f kmod/*.[ch] uapi/linux/wasmpool.h \
		> "$logs/checkpatch.log" 2>&1; then
		ok "checkpatch --strict: kmod/ and uapi/"
	else
		show "$logs/checkpatch.log" .
		not_ok "checkpatch --strict: kmod/ and uapi/"
	fi
fi

if [ $mode = check ]; then
	echo "== DKMS"
	"$top/scripts/dkms-test.sh" > "$logs/dkms.log" 2>&1
	count_tap "$logs/dkms.log" $? "dkms-test.sh"
fi

for k in "${kernels[@]}"; do
	echo "== module for $k"
	kdir=${kdirs[$k]}
	b=$top/build/kmod/$k
	rm -rf "$b"
	mkdir -p "$b"
	cp -a Kbuild kmod uapi "$b/"
	if ! make -C "$kdir" M="$b" W=1 modules > "$logs/build-$k.log" 2>&1; then
		show "$logs/build-$k.log" 'error|warning|Error'
		not_ok "build $k"
		continue
	fi
	if grep -Eq 'warning:|WARNING:' "$logs/build-$k.log"; then
		show "$logs/build-$k.log" 'warning:|WARNING:'
		not_ok "build $k with W=1: warning-free"
	else
		ok "build $k with W=1: warning-free"
	fi
	[ $mode = check ] || continue
	# C=2 checks every source again, without rebuilding.
	make -C "$kdir" M="$b" C=2 CHECK=sparse modules > "$logs/sparse-$k.log" 2>&1
	if ! grep -q ' CHECK ' "$logs/sparse-$k.log"; then
		not_ok "sparse $k: sparse did not run"
	elif grep -Eq 'warning:|error:' "$logs/sparse-$k.log"; then
		show "$logs/sparse-$k.log" 'warning:|error:'
		not_ok "sparse $k: clean"
	else
		ok "sparse $k: clean"
	fi
done

# --- the VMs ------------------------------------------------------------------
vm() { # kernel cpu [run.sh options]
	local k=$1 cpu=$2 line p f s secs
	shift 2
	if [ ! -f "$top/build/kmod/$k/kmod/wasmpool.ko" ]; then
		not_ok "$k ($cpu): module not built, VM not run"
		return
	fi
	"$top/vm/run.sh" --cpu "$cpu" --kernel "${images[$k]}" "$@" "$k" |
		tee "$logs/vm-$k-$cpu.log"
	line=$(grep '^vm-result:' "$logs/vm-$k-$cpu.log")
	read -r _ _ _ p f s secs <<< "$line"
	p=${p#passed=}; f=${f#failed=}; s=${s#skipped=}; secs=${secs#seconds=}
	if [ -z "$p" ]; then
		not_ok "$k ($cpu): the VM runner failed"
		return
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	summary+=("$(printf '%-24s cpu %-7s %3d passed, %d failed, %d skipped, boot %s s' \
		"$k" "$cpu" "$p" "$f" "$s" "$secs")")
}

if [ $mode = demo ] || [ $mode = bench ]; then
	# The VM's 2 vCPUs share the host: its load says how noisy a run was.
	[ $mode = bench ] && echo "host load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	vm "${kernels[-1]}" max --$mode
	[ $mode = bench ] && echo "host load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	if [ $mode = bench ]; then
		mkdir -p build/bench
		grep '^csv,' "$logs/vm-${kernels[-1]}-max.log" | sed 's/^csv,//' \
			> build/bench/results.csv
		"$top/bench/plot.sh" build/bench/results.csv build/bench/reset.png "${kernels[-1]}" ||
			echo "note: no plot (gnuplot missing?)"
		echo "results: build/bench/results.csv, build/bench/reset.png"
	fi
	exit $((failed > 0))
fi

if [ $mode = debug ]; then
	# KASAN and lockdep under TCG: several times slower than a plain boot.
	export WASMPOOL_VM_TIMEOUT=${WASMPOOL_VM_TIMEOUT:-1800}
	# no5lvl: with 5-level paging (-cpu max has LA57), 6.12's KASAN
	# reports a wild-memory-access when an interrupt comes while
	# identify_cpu() has cleared the boot CPU's feature bits, LA57 among
	# them (seen once in 6.12.117's early boot, before any module): a
	# kernel bug of its own that would fail our runs at random.
	for cpu in ${WASMPOOL_DEBUG_CPUS:-max qemu64}; do
		for k in "${kernels[@]}"; do
			vm "$k" "$cpu" --debug --append no5lvl
		done
	done
else
	# The newest kernel's first boot runs the selftests as the installed
	# kselftest suite, with run_kselftest.sh (the others with run_tests.sh).
	for k in "${kernels[@]}"; do
		if [ "$k" = "${kernels[-1]}" ] && [ -n "$ksft" ]; then
			vm "$k" max --kselftest "$ksft"
		else
			vm "$k" max
		fi
	done
	# Once more on a CPU model without protection keys: the no-MPK paths.
	for k in "${kernels[@]}"; do
		vm "$k" qemu64
	done
fi

echo "== summary"
for l in "${summary[@]}"; do
	echo "  $l"
done
echo "  make ${mode/debug/check-debug} took $(($(date +%s) - t0)) s"
if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
