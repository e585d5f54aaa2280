// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * libwasmpool: the device calls. Every ioctl goes through wp_ioctl(), which
 * turns the result into 0 / -errno and leaves the caller's errno alone.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <signal.h>
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
	int saved = errno;
	char *base = NULL;
	int fd, ret;

	fd = wasmpool_open(0);
	if (fd < 0)
		return fd;
	ret = wasmpool_configure(fd, cfg);
	if (!ret)
		ret = wasmpool_map(fd, &cfg->layout, &base);
	if (!ret && cfg->layout.num_stripes > 1) {
		ret = wasmpool_apply_keys(fd, NULL);
		if (ret) {
			struct wasmpool_stats st = { .size = sizeof(st) };

			/* A failed call leaves the mapping: drop it if it is ours. */
			if (!wp_ioctl(fd, WASMPOOL_IOC_STATS, &st) &&
			    st.address == (uintptr_t)base)
				munmap(base, cfg->layout.total_bytes);
		}
	}
	if (ret) {
		close(fd);
		errno = saved;
		return ret;
	}
	pool->fd = fd;
	pool->base = base;
	pool->layout = cfg->layout;
	memcpy(pool->stripe_pkeys, cfg->stripe_pkeys, sizeof(pool->stripe_pkeys));
	return 0;
}

int wasmpool_destroy(struct wasmpool *pool)
{
	int saved = errno;
	int ret = 0;

	if (!pool->base || pool->fd < 0)
		return -EBADF;	/* destroyed already, or never created */
	if (munmap(pool->base, pool->layout.total_bytes))
		ret = -errno;
	close(pool->fd);
	/* Nothing of the pool stays: fault_classify() now finds nothing. */
	memset(pool, 0, sizeof(*pool));
	pool->fd = -1;
	errno = saved;
	return ret;
}

/*
 * struct wasmpool_slot_alloc and struct wasmpool_stats grew in 0.2 and
 * again in 0.4. A program linked against an older libwasmpool passes
 * structures of its size: its calls bind to the LIBWASMPOOL_0.1 (or
 * LIBWASMPOOL_0.2) versions of the functions that fill them, which fill
 * only that much. Programs built now bind to the LIBWASMPOOL_0.4 versions.
 */
#define WP_SIZE_UPTO(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#define WP_SLOT_ALLOC_SIZE_0_1	WP_SIZE_UPTO(struct wasmpool_slot_alloc, address)
#define WP_SLOT_ALLOC_SIZE_0_2	WP_SIZE_UPTO(struct wasmpool_slot_alloc, __reserved)
#define WP_STATS_SIZE_0_1	WP_SIZE_UPTO(struct wasmpool_stats, address)
#define WP_STATS_SIZE_0_2	WP_SIZE_UPTO(struct wasmpool_stats, faults_vma_locked)

static int wp_slot_alloc(const struct wasmpool *pool, uint32_t size, uint32_t flags,
			 uint32_t stripe, uint64_t key, uint64_t bytes,
			 struct wasmpool_slot_alloc *slot)
{
	memset(slot, 0, size);
	slot->size = size;
	slot->flags = flags;
	slot->stripe = stripe;
	slot->accessible_bytes = bytes;
	if (flags & WASMPOOL_SLOT_ALLOC_AFFINITY)
		slot->affinity = key;
	if (flags & WASMPOOL_SLOT_ALLOC_IMAGE)
		slot->image = (uint32_t)key;
	return wp_ioctl(pool->fd, WASMPOOL_IOC_SLOT_ALLOC, slot);
}

__attribute__((symver("wasmpool_slot_alloc@@LIBWASMPOOL_0.4")))
int wp_slot_alloc_0_4(const struct wasmpool *pool, uint64_t bytes,
		      struct wasmpool_slot_alloc *slot);
int wp_slot_alloc_0_4(const struct wasmpool *pool, uint64_t bytes,
		      struct wasmpool_slot_alloc *slot)
{
	return wp_slot_alloc(pool, sizeof(*slot), 0, 0, 0, bytes, slot);
}

__attribute__((symver("wasmpool_slot_alloc@LIBWASMPOOL_0.2")))
int wp_slot_alloc_0_2(const struct wasmpool *pool, uint64_t bytes,
		      struct wasmpool_slot_alloc *slot);
int wp_slot_alloc_0_2(const struct wasmpool *pool, uint64_t bytes,
		      struct wasmpool_slot_alloc *slot)
{
	return wp_slot_alloc(pool, WP_SLOT_ALLOC_SIZE_0_2, 0, 0, 0, bytes, slot);
}

__attribute__((symver("wasmpool_slot_alloc_stripe@@LIBWASMPOOL_0.4")))
int wp_slot_alloc_stripe_0_4(const struct wasmpool *pool, uint64_t bytes,
			     uint32_t stripe, struct wasmpool_slot_alloc *slot);
int wp_slot_alloc_stripe_0_4(const struct wasmpool *pool, uint64_t bytes,
			     uint32_t stripe, struct wasmpool_slot_alloc *slot)
{
	return wp_slot_alloc(pool, sizeof(*slot), WASMPOOL_SLOT_ALLOC_STRIPE,
			     stripe, 0, bytes, slot);
}

__attribute__((symver("wasmpool_slot_alloc_stripe@LIBWASMPOOL_0.2")))
int wp_slot_alloc_stripe_0_2(const struct wasmpool *pool, uint64_t bytes,
			     uint32_t stripe, struct wasmpool_slot_alloc *slot);
int wp_slot_alloc_stripe_0_2(const struct wasmpool *pool, uint64_t bytes,
			     uint32_t stripe, struct wasmpool_slot_alloc *slot)
{
	return wp_slot_alloc(pool, WP_SLOT_ALLOC_SIZE_0_2, WASMPOOL_SLOT_ALLOC_STRIPE,
			     stripe, 0, bytes, slot);
}

__attribute__((symver("wasmpool_slot_alloc_affinity@@LIBWASMPOOL_0.4")))
int wp_slot_alloc_affinity_0_4(const struct wasmpool *pool, uint64_t bytes,
			       uint64_t key, struct wasmpool_slot_alloc *slot);
int wp_slot_alloc_affinity_0_4(const struct wasmpool *pool, uint64_t bytes,
			       uint64_t key, struct wasmpool_slot_alloc *slot)
{
	return wp_slot_alloc(pool, sizeof(*slot), WASMPOOL_SLOT_ALLOC_AFFINITY,
			     0, key, bytes, slot);
}

__attribute__((symver("wasmpool_slot_alloc_affinity@LIBWASMPOOL_0.2")))
int wp_slot_alloc_affinity_0_2(const struct wasmpool *pool, uint64_t bytes,
			       uint64_t key, struct wasmpool_slot_alloc *slot);
int wp_slot_alloc_affinity_0_2(const struct wasmpool *pool, uint64_t bytes,
			       uint64_t key, struct wasmpool_slot_alloc *slot)
{
	return wp_slot_alloc(pool, WP_SLOT_ALLOC_SIZE_0_2, WASMPOOL_SLOT_ALLOC_AFFINITY,
			     0, key, bytes, slot);
}

int wasmpool_slot_alloc_image(const struct wasmpool *pool, uint64_t bytes, uint32_t image,
			      struct wasmpool_slot_alloc *slot)
{
	return wp_slot_alloc(pool, sizeof(*slot), WASMPOOL_SLOT_ALLOC_IMAGE,
			     0, image, bytes, slot);
}

static int wp_image_create(const struct wasmpool *pool, struct wasmpool_image_create *c,
			   uint32_t *image)
{
	int ret;

	c->size = sizeof(*c);
	ret = wp_ioctl(pool->fd, WASMPOOL_IOC_IMAGE_CREATE, c);
	if (!ret)
		*image = c->image;
	return ret;
}

int wasmpool_image_create(const struct wasmpool *pool, const void *addr, uint64_t len,
			  uint32_t *image)
{
	struct wasmpool_image_create c = {
		.user_addr = (uintptr_t)addr,
		.length = len,
	};

	return wp_image_create(pool, &c, image);
}

int wasmpool_image_create_fd(const struct wasmpool *pool, int fd, uint64_t offset,
			     uint64_t len, uint32_t *image)
{
	struct wasmpool_image_create c = {
		.flags = WASMPOOL_IMAGE_FROM_FD,
		.fd = fd,
		.fd_offset = offset,
		.length = len,
	};

	return wp_image_create(pool, &c, image);
}

int wasmpool_image_release(const struct wasmpool *pool, uint32_t image)
{
	struct wasmpool_image_release r = { .size = sizeof(r), .image = image };

	return wp_ioctl(pool->fd, WASMPOOL_IOC_IMAGE_RELEASE, &r);
}

__attribute__((symver("wasmpool_slot_alloc@LIBWASMPOOL_0.1")))
int wp_slot_alloc_0_1(const struct wasmpool *pool, uint64_t bytes,
		      struct wasmpool_slot_alloc *slot);
int wp_slot_alloc_0_1(const struct wasmpool *pool, uint64_t bytes,
		      struct wasmpool_slot_alloc *slot)
{
	return wp_slot_alloc(pool, WP_SLOT_ALLOC_SIZE_0_1, 0, 0, 0, bytes, slot);
}

__attribute__((symver("wasmpool_slot_alloc_stripe@LIBWASMPOOL_0.1")))
int wp_slot_alloc_stripe_0_1(const struct wasmpool *pool, uint64_t bytes,
			     uint32_t stripe, struct wasmpool_slot_alloc *slot);
int wp_slot_alloc_stripe_0_1(const struct wasmpool *pool, uint64_t bytes,
			     uint32_t stripe, struct wasmpool_slot_alloc *slot)
{
	return wp_slot_alloc(pool, WP_SLOT_ALLOC_SIZE_0_1,
			     WASMPOOL_SLOT_ALLOC_STRIPE, stripe, 0, bytes, slot);
}

static int wp_slot_resize(const struct wasmpool *pool, unsigned long cmd,
			  uint32_t slot, uint64_t bytes)
{
	struct wasmpool_slot_resize r = {
		.size = sizeof(r), .slot = slot, .accessible_bytes = bytes,
	};

	return wp_ioctl(pool->fd, cmd, &r);
}

int wasmpool_slot_grow(const struct wasmpool *pool, uint32_t slot, uint64_t bytes)
{
	return wp_slot_resize(pool, WASMPOOL_IOC_SLOT_GROW, slot, bytes);
}

int wasmpool_slot_reset(const struct wasmpool *pool, uint32_t slot, uint64_t bytes)
{
	return wp_slot_resize(pool, WASMPOOL_IOC_SLOT_RESET, slot, bytes);
}

int wasmpool_slot_free(const struct wasmpool *pool, uint32_t slot)
{
	struct wasmpool_slot_free f = { .size = sizeof(f), .slot = slot };

	return wp_ioctl(pool->fd, WASMPOOL_IOC_SLOT_FREE, &f);
}

int wasmpool_slot_free_batch(const struct wasmpool *pool, const uint32_t *slots,
			     size_t count)
{
	struct wasmpool_slot_free_batch f = {
		.size = sizeof(f),
		.slots = (uintptr_t)slots,
		.count = (uint32_t)count,
	};

	if (!count)
		return 0;
	if (count > WASMPOOL_FREE_BATCH_MAX)
		return -EINVAL;
	return wp_ioctl(pool->fd, WASMPOOL_IOC_SLOT_FREE_BATCH, &f);
}

static int wp_stats(const struct wasmpool *pool, uint32_t size,
		    struct wasmpool_stats *stats)
{
	memset(stats, 0, size);
	stats->size = size;
	return wp_ioctl(pool->fd, WASMPOOL_IOC_STATS, stats);
}

__attribute__((symver("wasmpool_stats@@LIBWASMPOOL_0.4")))
int wp_stats_0_4(const struct wasmpool *pool, struct wasmpool_stats *stats);
int wp_stats_0_4(const struct wasmpool *pool, struct wasmpool_stats *stats)
{
	return wp_stats(pool, sizeof(*stats), stats);
}

__attribute__((symver("wasmpool_stats@LIBWASMPOOL_0.2")))
int wp_stats_0_2(const struct wasmpool *pool, struct wasmpool_stats *stats);
int wp_stats_0_2(const struct wasmpool *pool, struct wasmpool_stats *stats)
{
	return wp_stats(pool, WP_STATS_SIZE_0_2, stats);
}

__attribute__((symver("wasmpool_stats@LIBWASMPOOL_0.1")))
int wp_stats_0_1(const struct wasmpool *pool, struct wasmpool_stats *stats);
int wp_stats_0_1(const struct wasmpool *pool, struct wasmpool_stats *stats)
{
	return wp_stats(pool, WP_STATS_SIZE_0_1, stats);
}

uint64_t wasmpool_guard_reach(const struct wasmpool *pool, unsigned int flags)
{
	const struct wasmpool_layout *l = &pool->layout;
	uint64_t k = 1, last;

	if (!pool->base || !l->slot_bytes || !l->num_slots)
		return 0;
	if ((flags & WASMPOOL_REACH_OWN_STRIPE) && l->num_stripes > 1)
		k = l->num_stripes;
	/*
	 * A slot with a reachable slot k slots on: k slots. One of the last k
	 * slots: up to the end of the post-slab guard, the least for the very
	 * last slot. Both products are within total_bytes.
	 */
	last = l->slot_bytes + l->post_slab_guard_bytes;
	if (l->num_slots > k && k * l->slot_bytes < last)
		return k * l->slot_bytes;
	return last;
}

int wasmpool_fault_classify_signal(const struct wasmpool *pool, const siginfo_t *si,
				   struct wasmpool_fault *fault)
{
	if (si->si_signo == SIGSEGV)
		return wasmpool_fault_classify(pool, si->si_addr, si->si_code, fault);
	if (si->si_signo != SIGBUS ||
	    wasmpool_fault_classify(pool, si->si_addr, 0, fault) != WASMPOOL_FAULT_SLOT_MEMORY) {
		memset(fault, 0, sizeof(*fault));
		return fault->kind = WASMPOOL_FAULT_OUTSIDE;
	}
	return fault->kind = WASMPOOL_FAULT_RESIDENT_LIMIT;
}

int wasmpool_fault_classify(const struct wasmpool *pool, const void *addr,
			    int si_code, struct wasmpool_fault *fault)
{
	const struct wasmpool_layout *l = &pool->layout;
	uintptr_t a = (uintptr_t)addr, base = (uintptr_t)pool->base;
	uint64_t off, in;

	memset(fault, 0, sizeof(*fault));
	if (a < base || a - base >= l->total_bytes)
		return fault->kind = WASMPOOL_FAULT_OUTSIDE;
	off = a - base;
	if (off < l->pre_slab_guard_bytes)
		return fault->kind = WASMPOOL_FAULT_PRE_GUARD;
	off -= l->pre_slab_guard_bytes;
	if (off / l->slot_bytes >= l->num_slots)
		return fault->kind = WASMPOOL_FAULT_POST_GUARD;
	fault->slot = (uint32_t)(off / l->slot_bytes);
	fault->stripe = fault->slot % l->num_stripes;
	in = off % l->slot_bytes;
	fault->offset = in;
	if (si_code == SEGV_PKUERR)
		fault->kind = WASMPOOL_FAULT_OTHER_STRIPE;
	else if (in >= l->max_memory_bytes)
		fault->kind = WASMPOOL_FAULT_SLOT_GUARD;
	else
		fault->kind = WASMPOOL_FAULT_SLOT_MEMORY;
	return fault->kind;
}
