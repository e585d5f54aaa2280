// SPDX-License-Identifier: GPL-2.0-only
/*
 * wasmpool: the admin CLI for /dev/wasmpool.
 *
 * Exit codes (stable): 0 success, 1 the operation failed, 2 usage error,
 * 3 the device is missing (module not loaded) or not accessible.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wasmpool.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_NODEV = 3 };

static const char *const cmd_names[] = {
	[WASMPOOL_CMD_INFO - WASMPOOL_CMD_BASE] = "info",
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: wasmpool COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  info        show what the loaded module and the CPU support\n"
		"\n"
		"Options:\n"
		"  -h, --help     show this help\n"
		"  -V, --version  show the library version\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error,\n"
		"3 device missing or not accessible.\n");
}

static int open_device(void)
{
	int fd = wasmpool_open(0);

	if (fd < 0)
		fprintf(stderr, "wasmpool: cannot open %s: %s%s\n",
			WASMPOOL_DEVICE_PATH, strerror(-fd),
			fd == -ENOENT ? " (is the wasmpool module loaded?)" : "");
	return fd;
}

static int cmd_info(void)
{
	struct wasmpool_info info;
	unsigned int i;
	int fd, ret;

	fd = open_device();
	if (fd < 0)
		return EXIT_NODEV;
	ret = wasmpool_info(fd, &info);
	if (ret < 0) {
		fprintf(stderr, "wasmpool: info: %s\n", strerror(-ret));
		return EXIT_FAILED;
	}
	printf("abi_version=%u\n", info.abi_version);
	printf("library_version=%s\n", wasmpool_version());
	printf("page_size=%u\n", info.page_size);
	printf("pkeys=%s\n", info.features & WASMPOOL_FEATURE_PKEYS ? "yes" : "no");
	printf("pkeys_total=%u\n", info.pkeys_total);
	printf("pkeys_free=%u\n", info.pkeys_free);
	printf("ioctls=");
	for (i = 0; i < 64; i++) {
		if (!(info.ioctl_mask & (1ULL << i)))
			continue;
		if (i < sizeof(cmd_names) / sizeof(cmd_names[0]) && cmd_names[i])
			printf("%s%s", cmd_names[i],
			       info.ioctl_mask >> i > 1 ? "," : "");
		else
			printf("cmd%#x%s", WASMPOOL_CMD_BASE + i,
			       info.ioctl_mask >> i > 1 ? "," : "");
	}
	printf("\n");
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("wasmpool %s\n", wasmpool_version());
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "info") && argc == 2)
		return cmd_info();

	fprintf(stderr, "wasmpool: unknown command or arguments: %s\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
