# SPDX-License-Identifier: GPL-2.0-only
#
# wasmpool: striped guard-page memory pools for WebAssembly runtimes.
#
#   make                  module (if KDIR exists), library, CLI, selftests
#   make wasm             wasm2c programs on wabt's runtime and on the pool
#                         (Debian's wabt; run in every VM boot of make check)
#   make modules KDIR=…   the module against any kernel build tree
#   make check            everything, proven in QEMU on Debian's 6.1 and 6.12
#   make check-debug      the selftests on KASAN/lockdep/kmemleak kernels with
#                         fault injection (builds them once: ~50 min; not CI)
#   make demo             boot a VM with the module loaded and show it working
#   make bench            the device against the userspace strategy, in a VM
#   make install          library, CLI, headers, man pages, udev rule, module
#   make modules_install  the module into /lib/modules/$(KERNELRELEASE)

KDIR ?= /lib/modules/$(shell uname -r)/build
top := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

all: lib selftests
ifneq ($(wildcard $(KDIR)/Makefile),)
all: modules
else
all: no-kdir
no-kdir:
	@echo "note: no kernel build tree at $(KDIR): module not built;" \
	      "use 'make modules KDIR=/path/to/build' (make check builds it for 6.1 and 6.12)"
endif

modules:
	$(MAKE) -C $(KDIR) M=$(top) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(top) modules_install

lib:
	$(MAKE) -C lib

selftests:
	$(MAKE) -C selftests OUTPUT=$(top)/build/selftests

wasm: lib
	$(MAKE) -C wasm

UDEVDIR ?= /etc/udev/rules.d

# The library, CLI, headers, man pages and pkg-config file (PREFIX,
# DESTDIR), the udev rule, and the module when a kernel tree is there.
install:
	$(MAKE) -C lib install
	install -D -m 644 udev/60-wasmpool.rules $(DESTDIR)$(UDEVDIR)/60-wasmpool.rules
ifneq ($(wildcard $(KDIR)/Makefile),)
	$(MAKE) -C $(KDIR) M=$(top) modules
	$(MAKE) -C $(KDIR) M=$(top) INSTALL_MOD_PATH=$(DESTDIR) modules_install
endif

check:
	$(top)/scripts/check.sh

check-debug:
	$(top)/scripts/check.sh --debug

demo:
	$(top)/scripts/check.sh --demo

bench:
	$(top)/scripts/check.sh --bench

clean:
	-$(MAKE) -C $(KDIR) M=$(top) clean 2>/dev/null
	$(MAKE) -C lib clean
	rm -rf build

.PHONY: all no-kdir modules modules_install lib selftests wasm install check check-debug \
	demo bench clean
