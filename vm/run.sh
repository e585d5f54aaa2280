#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot one Debian kernel in QEMU with the wasmpool module and the selftests
# in an initramfs, collect the TAP from the serial console and the exit
# status from isa-debug-exit, and judge the run.
#
# Usage: vm/run.sh [--cpu MODEL] [--tests "prog ..."] [--smp N] [--demo]
#                  [--kernel IMAGE] [--append ARGS] [--kselftest DIR] REL
#   --demo: run vm/demo.sh (the runtime-shaped demo) instead of the selftests
#   --bench: run vm/bench.sh (the benchmarks)
#   --debug: the selftests and more, for the debug kernel (make check-debug)
#   --kernel: boot IMAGE instead of /boot/vmlinuz-REL
#   --append: more kernel command line
#   --kselftest: run the selftests as the kernel's kselftest suite that
#     kselftest_install.sh installed in DIR (scripts/ksft-build.sh), with its
#     run_kselftest.sh, instead of with selftests/run_tests.sh
#
# Needs (built by `make check`): build/kmod/REL/kmod/wasmpool.ko,
# build/selftests/*, build/vm/guest-exit, build/vm/wasm2c-* (make -C wasm). Writes build/vm/REL[-cpu]/console.log
# and prints one line "vm-result: REL CPU passed=N failed=N skipped=N".
#
# Environment: WASMPOOL_VM_ACCEL=kvm|tcg skips the KVM probe;
# WASMPOOL_VM_FUZZ_SECONDS (default 5) and WASMPOOL_VM_FUZZ_SEED the
# random-operation fuzzer's run (the seed replays one);
# WASMPOOL_DEBUG_FUZZ_SECONDS (default 60) its run with failing
# allocations under --debug; WASMPOOL_VM_LOGLEVEL (default 4) the guest
# console's log level once /init runs;
# WASMPOOL_VM_TIMEOUT (seconds, default 300) bounds a whole boot;
# WASMPOOL_VM_BOOT_TIMEOUT (default 120) the way to /init.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cpu=max
smp=2
tests=
run=tests
kernel=
append=
kselftest=
while [ $# -gt 1 ]; do
	case "$1" in
	--demo) run=demo; shift ;;
	--bench) run=bench; shift ;;
	--debug) run=debug; shift ;;
	--kernel) kernel=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--kselftest) kselftest=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--tests) tests=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
rel=${1:?usage: vm/run.sh [--cpu MODEL] [--tests LIST] KERNEL_RELEASE}

kernel=${kernel:-/boot/vmlinuz-$rel}
ko=$top/build/kmod/$rel/kmod/wasmpool.ko
out=$top/build/vm/$rel-$cpu-$run
for f in "$kernel" "$ko" "$top/build/vm/guest-exit" "$top/lib/wasmpool-static" \
	"$top/build/vm/bench/cycle_bench" "$top/build/vm/wasmpool-demo" \
	"$top/build/vm/wasm2c-stock" "$top/build/vm/wasm2c-pool" /bin/busybox; do
	[ -r "$f" ] || { echo "run.sh: missing $f" >&2; exit 2; }
done
if [ -n "$kselftest" ] && ! [ -x "$kselftest/run_kselftest.sh" ]; then
	echo "run.sh: no run_kselftest.sh in $kselftest (scripts/ksft-build.sh installs it)" >&2
	exit 2
fi

# --- initramfs -------------------------------------------------------------
copy_libs() { # root program: its shared libraries and loader, at the same paths
	local so
	for so in $(ldd "$2" 2>/dev/null | grep -o '/[^ ]*' || true); do
		mkdir -p "$1${so%/*}"
		cp -L "$so" "$1$so"
	done
}
mkinitramfs() { # dir init-script
	local root=$1/root
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,tests}
	cp /bin/busybox "$root/bin/busybox"
	cp "$top/build/vm/guest-exit" "$root/bin/guest-exit"
	cp "$top/lib/wasmpool-static" "$root/bin/wasmpool"
	cp "$top/vm/demo.sh" "$root/bin/demo"
	cp "$top/vm/bench.sh" "$root/bin/bench"
	cp "$top"/build/vm/bench/* "$root/bin/"
	cp "$top/build/vm/wasmpool-demo" "$root/bin/wasmpool-demo"
	cp "$top/build/vm/wasm2c-stock" "$top/build/vm/wasm2c-pool" "$root/bin/"
	cp "$2" "$root/init"
	chmod 755 "$root/init"
}
cpio_pack() { # dir
	(cd "$1/root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$1/initramfs.cpio.gz"
}

# --- accelerator -------------------------------------------------------------
qemu_base() {
	echo qemu-system-x86_64 -m 2048 -smp "$smp" -nographic -no-reboot \
		-monitor none -serial stdio \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04
}

probe_kvm() {
	local dir=$top/build/vm/kvm-probe status
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	mkdir -p "$dir"
	printf '#!/bin/busybox sh\n/bin/guest-exit 5\n' > "$dir/init.sh"
	mkinitramfs "$dir" "$dir/init.sh"
	cpio_pack "$dir"
	# In a command substitution, so that the report of a QEMU abort
	# (KVM refusing this guest) goes to /dev/null, not to our terminal.
	status=$( { timeout 20 $(qemu_base) -accel kvm -cpu host \
		-kernel "$kernel" -initrd "$dir/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 quiet" \
		< /dev/null > "$dir/console.log" 2>&1; echo $?; } 2>/dev/null)
	[ $status -eq 11 ]	# 5 * 2 + 1: the guest reached userspace
}

accel=${WASMPOOL_VM_ACCEL:-}
if [ -z "$accel" ]; then
	cache=$top/build/vm/accel-$(uname -r)-$rel
	if [ -f "$cache" ]; then
		accel=$(cat "$cache")
	else
		if probe_kvm; then accel=kvm; else accel=tcg; fi
		mkdir -p "$top/build/vm"
		echo "$accel" > "$cache"
	fi
fi
case "$accel" in
kvm) accel_args=(-accel kvm -cpu "$([ "$cpu" = max ] && echo host || echo "$cpu")") ;;
tcg) accel_args=(-accel tcg -cpu "$cpu") ;;
*) echo "run.sh: WASMPOOL_VM_ACCEL must be kvm or tcg" >&2; exit 2 ;;
esac

# --- the test VM -------------------------------------------------------------
mkdir -p "$out"
mkinitramfs "$out" "$top/vm/init"
cp "$ko" "$out/root/wasmpool.ko"
# The loop driver: the VM has no disk, and pin_test needs a block device for
# its O_DIRECT and io_uring I/O. Decompressed here, because busybox insmod
# may not read a compressed module; absent (a kernel of --kernel without
# /lib/modules), those tests skip.
loop_ko=/lib/modules/$rel/kernel/drivers/block/loop.ko
if [ -r "$loop_ko" ]; then
	cp "$loop_ko" "$out/root/loop.ko"
elif [ -r "$loop_ko.xz" ]; then
	xz -dc "$loop_ko.xz" > "$out/root/loop.ko"
elif [ -r "$loop_ko.zst" ]; then
	zstd -qdc "$loop_ko.zst" > "$out/root/loop.ko"
fi
list=
for t in "$top"/build/selftests/*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	cp "$t" "$out/root/tests/"
	list="$list ${t##*/}"
	# A dynamic program (the ASan build of the library test) brings its
	# shared libraries and loader, at the same paths.
	copy_libs "$out/root" "$t"
done
cp "$top"/selftests/{run_tests.sh,dmesg_check.sh,settings} "$out/root/tests/"
echo ${tests:-$list} > "$out/root/tests/list"
if [ -n "$kselftest" ]; then
	cp -a "$kselftest" "$out/root/kselftest"
	# The kselftest runner bounds each program with /usr/bin/timeout
	# --foreground when it is there (without it: no time limit); busybox's
	# applet has no --foreground: coreutils', with its libraries. It runs
	# under busybox sh otherwise (no bash; sed when there is no perl).
	mkdir -p "$out/root/usr/bin"
	cp /usr/bin/timeout "$out/root/usr/bin/timeout"
	copy_libs "$out/root" /usr/bin/timeout
fi
cpio_pack "$out"

echo "=== $rel (cpu $cpu, $accel, $smp vCPUs) ==="
# The whole boot is bounded by WASMPOOL_VM_TIMEOUT. A guest that never
# reaches our /init within WASMPOOL_VM_BOOT_TIMEOUT has hung in the kernel's
# own early boot, before the module exists (seen, rarely, under TCG): that
# boot is retried, at most twice, and the retry is reported.
boot_timeout=${WASMPOOL_VM_BOOT_TIMEOUT:-120}
# A soft lockup panics (the VM then ends at once, not at the boot's time
# limit) after a backtrace of every CPU, and the panic replays the whole
# kernel log on the console (panic_print=32): the stacks the console's
# log level hid during the run are there to read.
cmdline="console=ttyS0 panic=-1 log_buf_len=4M wasmpool.run=$run"
cmdline+=" sysctl.kernel.softlockup_all_cpu_backtrace=1 softlockup_panic=1 panic_print=32"
cmdline+=" wasmpool.fuzz=${WASMPOOL_VM_FUZZ_SECONDS:-5}"
cmdline+=" wasmpool.fuzzfail=${WASMPOOL_DEBUG_FUZZ_SECONDS:-60}"
[ -n "${WASMPOOL_VM_FUZZ_SEED:-}" ] && cmdline+=" wasmpool.seed=$WASMPOOL_VM_FUZZ_SEED"
[ -n "$kselftest" ] && cmdline+=" wasmpool.runner=kselftest"
[ -n "$append" ] && cmdline+=" $append"
[ -n "${WASMPOOL_VM_LOGLEVEL:-}" ] && cmdline+=" wasmpool.loglevel=$WASMPOOL_VM_LOGLEVEL"
attempt=1
start=$(date +%s.%N)
while :; do
	timeout "${WASMPOOL_VM_TIMEOUT:-300}" $(qemu_base) "${accel_args[@]}" \
		-kernel "$kernel" -initrd "$out/initramfs.cpio.gz" \
		-append "$cmdline" \
		< /dev/null > "$out/console.raw" 2>&1 &
	qpid=$!
	hung=0
	deadline=$((SECONDS + boot_timeout))
	while kill -0 $qpid 2>/dev/null; do
		grep -q 'wasmpool-vm: kernel' "$out/console.raw" && break
		if [ $SECONDS -ge $deadline ]; then
			hung=1
			kill $qpid 2>/dev/null
			break
		fi
		sleep 0.5
	done
	set +e
	wait $qpid
	status=$?
	set -e
	if [ $hung = 1 ] && [ $attempt -lt 3 ]; then
		cp "$out/console.raw" "$out/console-hung-$attempt.raw"
		echo "note: $rel ($cpu) hung in early boot, before /init ($boot_timeout s);" \
		     "retrying (console in ${out#"$top"/}/console-hung-$attempt.raw)"
		attempt=$((attempt + 1))
		continue
	fi
	break
done
end=$(date +%s.%N)

# Strip carriage returns and the firmware's terminal escape codes.
tr -d '\r' < "$out/console.raw" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[c()][0-9A-Za-z]\{0,1\}//g' \
	> "$out/console.log"
sed -n '/wasmpool-vm: kernel/,$p' "$out/console.log"

# Count: selftest cases ("# ok N name"), per-program verdicts ("ok N
# selftests: ..."; exit status and kernel log), and the VM's own checks.
read -r passed failed skipped < <(awk '
	/^# ok [0-9]+ / || /^ok [0-9]+ selftests: / || /^wasmpool-vm: ok / {
		if ($0 ~ /# SKIP/) s++; else p++; next }
	/^# not ok [0-9]+ / || /^not ok [0-9]+ selftests: / || /^wasmpool-vm: not ok / { f++ }
	END { print p + 0, f + 0, s + 0 }' "$out/console.log")

problems=()
if ! grep -q '^wasmpool-vm: done' "$out/console.log"; then
	problems+=("the VM did not finish (hang, panic or crash)")
fi
if [ $hung = 1 ]; then
	problems+=("hung in early boot $attempt times")
elif [ $status -eq 124 ]; then
	problems+=("timed out after ${WASMPOOL_VM_TIMEOUT:-300} s")
elif [ $status -ne 1 ] && [ $status -ne 3 ]; then
	problems+=("QEMU exit status $status: no isa-debug-exit status (panic or crash)")
fi
if [ $status -eq 3 ] && [ "$failed" -eq 0 ]; then
	problems+=("the guest reported failure but no failed test was seen")
fi
if grep -Eq 'Kernel panic|BUG:|kernel BUG at|invalid opcode:|Oops|general protection fault|WARNING:' "$out/console.log"; then
	grep -E 'Kernel panic|BUG:|kernel BUG at|invalid opcode:|Oops|general protection fault|WARNING:' "$out/console.log" | head -5 | sed 's/^/  console: /'
	problems+=("the console shows a kernel error")
fi
if [ "$passed" -eq 0 ]; then
	problems+=("no test passed")
fi
for p in "${problems[@]}"; do
	echo "not ok - $rel: $p"
	failed=$((failed + 1))
done

printf 'vm-result: %s %s passed=%d failed=%d skipped=%d seconds=%.1f\n' \
	"$rel" "$cpu" "$passed" "$failed" "$skipped" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
[ "$failed" -eq 0 ]
