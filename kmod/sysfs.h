/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Admin limits and module-wide statistics, shown in sysfs on the device
 * (/sys/class/misc/wasmpool/).
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef _WASMPOOL_SYSFS_H
#define _WASMPOOL_SYSFS_H

#include <linux/atomic.h>
#include <linux/types.h>

struct attribute_group;

/**
 * struct wp_global_stats - counters over every pool of the module
 * @pools: pools that exist
 * @slots_in_use: slots allocated in them
 * @resident_pages: pages backing them
 * @faults: page faults served
 * @guard_faults: faults refused (guard regions, above a slot's size)
 * @resets: resets and frees
 * @pages_freed: pages returned to the system
 * @keys_in_use: protection keys the pools hold
 * @limit_hits: requests refused by an admin limit
 * @warm_hits: allocations with an affinity key that got a warm slot of it
 * @warm_misses: allocations with an affinity key that did not
 * @images: memory images that exist
 * @image_pages: their pages
 */
struct wp_global_stats {
	atomic64_t pools;
	atomic64_t slots_in_use;
	atomic64_t resident_pages;
	atomic64_t faults;
	atomic64_t guard_faults;
	atomic64_t resets;
	atomic64_t pages_freed;
	atomic64_t keys_in_use;
	atomic64_t limit_hits;
	atomic64_t warm_hits;
	atomic64_t warm_misses;
	atomic64_t images;
	atomic64_t image_pages;
};

/**
 * struct wp_limits - admin limits (0: none), read with READ_ONCE() when a
 * pool is configured
 * @max_pools: pools that may exist at once
 * @max_slots_per_pool: slots of one pool (1 to WASMPOOL_MAX_SLOTS)
 * @max_reserved_bytes_per_pool: total_bytes of one pool's layout
 * @max_resident_bytes_per_pool: memory backing one pool; a fault beyond it
 *	gets SIGBUS; half of RAM at module load
 * @default_keep_resident_bytes: keep_resident of a pool configured with
 *	WASMPOOL_CONFIGURE_DEFAULT_KEEP_RESIDENT
 * @default_pkey_mode: pkey_mode of a pool configured with
 *	WASMPOOL_CONFIGURE_DEFAULT_PKEY_MODE
 * @max_image_bytes_per_pool: bytes of one pool's memory images together;
 *	half of RAM at module load
 */
struct wp_limits {
	u64 max_pools;
	u64 max_slots_per_pool;
	u64 max_reserved_bytes_per_pool;
	u64 max_resident_bytes_per_pool;
	u64 default_keep_resident_bytes;
	u64 default_pkey_mode;
	u64 max_image_bytes_per_pool;
};

extern struct wp_global_stats wp_global;
extern struct wp_limits wp_limits;
extern const struct attribute_group *wp_attr_groups[];

void wp_limits_init(void);

#endif /* _WASMPOOL_SYSFS_H */
