// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * libwasmpool: the device calls. Every ioctl goes through wp_ioctl(), which
 * turns the result into 0 / -errno and leaves the caller's errno alone.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "layout.h"
#include "wasmpool.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const char *wasmpool_version(void)
{
	return STR(WASMPOOL_LIB_MAJOR) "." STR(WASMPOOL_LIB_MINOR) ".0";
}

static int wp_ioctl(int fd, unsigned long cmd, void *arg)
{
	int saved = errno;
	int ret = ioctl(fd, cmd, arg);

	if (ret < 0)
		ret = -errno;
	errno = saved;
	return ret;
}

int wasmpool_open(unsigned int flags)
{
	int saved = errno;
	int fd;

	if (flags)
		return -EINVAL;
	fd = open(WASMPOOL_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	errno = saved;
	return fd;
}

int wasmpool_info(int fd, struct wasmpool_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return wp_ioctl(fd, WASMPOOL_IOC_INFO, info);
}

int wasmpool_layout_calc(struct wasmpool_layout_cmd *cmd)
{
	return wp_layout_cmd(cmd);
}

int wasmpool_layout_query(int fd, struct wasmpool_layout_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return wp_ioctl(fd, WASMPOOL_IOC_LAYOUT, cmd);
}
