// SPDX-License-Identifier: GPL-2.0-only
/*
 * guest-exit: end the VM with an exit status through QEMU's isa-debug-exit
 * device (-device isa-debug-exit,iobase=0xf4,iosize=0x04). QEMU then exits
 * with status * 2 + 1, which the host runner checks.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv)
{
	unsigned int status = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 0) : 0;

	if (ioperm(DEBUG_EXIT_PORT, 4, 1)) {
		perror("guest-exit: ioperm");
		return 1;
	}
	outl(status, DEBUG_EXIT_PORT);
	/* Only reached without the isa-debug-exit device. */
	fprintf(stderr, "guest-exit: no isa-debug-exit device\n");
	return 1;
}
