/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * libwasmpool - userspace library for /dev/wasmpool.
 *
 * Every function returns 0 (or a non-negative value) on success and a
 * negative errno value on failure. No function changes errno.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef LIBWASMPOOL_H
#define LIBWASMPOOL_H

#include <linux/wasmpool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WASMPOOL_DEVICE_PATH	"/dev/wasmpool"

/* Version of this library (not of the kernel ABI). */
#define WASMPOOL_LIB_MAJOR	0
#define WASMPOOL_LIB_MINOR	1

/**
 * wasmpool_version() - version string of the library, "MAJOR.MINOR.PATCH"
 */
const char *wasmpool_version(void);

/**
 * wasmpool_open() - open /dev/wasmpool read-write with O_CLOEXEC
 * @flags: must be 0
 *
 * Return: a file descriptor, or -errno (-ENOENT: module not loaded,
 * -EACCES: no permission to the device, -EINVAL: unknown @flags).
 */
int wasmpool_open(unsigned int flags);

/**
 * wasmpool_info() - the WASMPOOL_IOC_INFO handshake
 * @fd: an open file of /dev/wasmpool
 * @info: filled on success; the library sets its size and flags
 *
 * Return: 0 or -errno as documented in <linux/wasmpool.h>.
 */
int wasmpool_info(int fd, struct wasmpool_info *info);

/**
 * wasmpool_layout_calc() - compute a slab layout in userspace
 * @cmd: the configuration (flags, sizes, num_pkeys); its layout is filled
 *
 * The same computation, from the same source, as the kernel's
 * WASMPOOL_IOC_LAYOUT; needs no device. @cmd->size is not used.
 *
 * Return: 0, -EINVAL (max memory above the reservation), -EOVERFLOW (a size
 * does not fit in 64 bits) or -EOPNOTSUPP (unknown flag, reserved field).
 */
int wasmpool_layout_calc(struct wasmpool_layout_cmd *cmd);

/**
 * wasmpool_layout_query() - ask the kernel for a slab layout
 * @fd: an open file of /dev/wasmpool
 * @cmd: as for wasmpool_layout_calc(); the library sets its size
 *
 * Return: as wasmpool_layout_calc(), or another -errno of the ioctl.
 */
int wasmpool_layout_query(int fd, struct wasmpool_layout_cmd *cmd);

#ifdef __cplusplus
}
#endif

#endif /* LIBWASMPOOL_H */
