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
#include <sys/mman.h>
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

int wasmpool_configure(int fd, struct wasmpool_configure *cfg)
{
	cfg->size = sizeof(*cfg);
	return wp_ioctl(fd, WASMPOOL_IOC_CONFIGURE, cfg);
}

int wasmpool_map(int fd, const struct wasmpool_layout *layout, char **base)
{
	int saved = errno;
	void *p;

	p = mmap(NULL, layout->total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	if (p == MAP_FAILED) {
		int ret = -errno;

		errno = saved;
		return ret;
	}
	*base = p;
	return 0;
}

int wasmpool_apply_keys(int fd, uint64_t *vmas)
{
	struct wasmpool_apply_keys cmd = { .size = sizeof(cmd) };
	int ret = wp_ioctl(fd, WASMPOOL_IOC_APPLY_KEYS, &cmd);

	if (!ret && vmas)
		*vmas = cmd.vmas;
	return ret;
}

int wasmpool_create(struct wasmpool *pool, struct wasmpool_configure *cfg)
{
	int fd, ret;

	fd = wasmpool_open(0);
	if (fd < 0)
		return fd;
	ret = wasmpool_configure(fd, cfg);
	if (!ret)
		ret = wasmpool_map(fd, &cfg->layout, &pool->base);
	if (!ret && cfg->layout.num_stripes > 1) {
		ret = wasmpool_apply_keys(fd, NULL);
		if (ret) {
			int saved = errno;

			munmap(pool->base, cfg->layout.total_bytes);
			errno = saved;
		}
	}
	if (ret) {
		int saved = errno;

		close(fd);
		errno = saved;
		return ret;
	}
	pool->fd = fd;
	pool->layout = cfg->layout;
	memcpy(pool->stripe_pkeys, cfg->stripe_pkeys, sizeof(pool->stripe_pkeys));
	return 0;
}

int wasmpool_destroy(struct wasmpool *pool)
{
	int saved = errno;
	int ret = 0;

	if (munmap(pool->base, pool->layout.total_bytes))
		ret = -errno;
	close(pool->fd);
	pool->fd = -1;
	pool->base = NULL;
	errno = saved;
	return ret;
}

int wasmpool_slot_alloc(struct wasmpool *pool, uint64_t bytes,
			struct wasmpool_slot_alloc *slot)
{
	memset(slot, 0, sizeof(*slot));
	slot->size = sizeof(*slot);
	slot->accessible_bytes = bytes;
	return wp_ioctl(pool->fd, WASMPOOL_IOC_SLOT_ALLOC, slot);
}

int wasmpool_slot_alloc_stripe(struct wasmpool *pool, uint64_t bytes,
			       uint32_t stripe, struct wasmpool_slot_alloc *slot)
{
	memset(slot, 0, sizeof(*slot));
	slot->size = sizeof(*slot);
	slot->flags = WASMPOOL_SLOT_ALLOC_STRIPE;
	slot->stripe = stripe;
	slot->accessible_bytes = bytes;
	return wp_ioctl(pool->fd, WASMPOOL_IOC_SLOT_ALLOC, slot);
}

static int wp_slot_resize(struct wasmpool *pool, unsigned long cmd,
			  uint32_t slot, uint64_t bytes)
{
	struct wasmpool_slot_resize r = {
		.size = sizeof(r), .slot = slot, .accessible_bytes = bytes,
	};

	return wp_ioctl(pool->fd, cmd, &r);
}

int wasmpool_slot_grow(struct wasmpool *pool, uint32_t slot, uint64_t bytes)
{
	return wp_slot_resize(pool, WASMPOOL_IOC_SLOT_GROW, slot, bytes);
}

int wasmpool_slot_reset(struct wasmpool *pool, uint32_t slot, uint64_t bytes)
{
	return wp_slot_resize(pool, WASMPOOL_IOC_SLOT_RESET, slot, bytes);
}

int wasmpool_slot_free(struct wasmpool *pool, uint32_t slot)
{
	struct wasmpool_slot_free f = { .size = sizeof(f), .slot = slot };

	return wp_ioctl(pool->fd, WASMPOOL_IOC_SLOT_FREE, &f);
}

int wasmpool_stats(struct wasmpool *pool, struct wasmpool_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	stats->size = sizeof(*stats);
	return wp_ioctl(pool->fd, WASMPOOL_IOC_STATS, stats);
}
