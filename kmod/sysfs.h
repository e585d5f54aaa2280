/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Module-wide statistics, shown in sysfs on the device
 * (/sys/class/misc/wasmpool/).
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef _WASMPOOL_SYSFS_H
#define _WASMPOOL_SYSFS_H

#include <linux/atomic.h>

struct attribute_group;

/**
 * struct wp_global_stats - counters over every pool of the module
 * @pools: pools that exist
 * @slots_in_use: slots allocated in them
 * @resident_pages: pages backing them
 */
struct wp_global_stats {
	atomic64_t pools;
	atomic64_t slots_in_use;
	atomic64_t resident_pages;
};

extern struct wp_global_stats wp_global;
extern const struct attribute_group *wp_attr_groups[];

#endif /* _WASMPOOL_SYSFS_H */
