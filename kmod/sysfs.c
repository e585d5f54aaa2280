// SPDX-License-Identifier: GPL-2.0-only
/*
 * sysfs attributes of /dev/wasmpool (/sys/class/misc/wasmpool/): the admin
 * limits and defaults (read-write, root only) and module-wide statistics
 * (read-only), one value per file. Documented in
 * docs/sysfs-class-misc-wasmpool.
 *
 * A limit is read once, when a pool is configured: changing it never
 * breaks a pool that exists.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <linux/device.h>
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/wasmpool.h>

#include "sysfs.h"

struct wp_global_stats wp_global;

struct wp_limits wp_limits = {
	.max_slots_per_pool = WASMPOOL_MAX_SLOTS,
	.default_pkey_mode = WASMPOOL_PKEYS_AUTO,
};

/**
 * wp_limits_init() - set the defaults that depend on the machine
 *
 * max_resident_bytes_per_pool starts at half of RAM: one pool alone cannot
 * take the machine, and a runtime that needs more is one sysfs write away.
 * A pool's pages count in its owner's RSS and memory cgroup whatever the
 * limit, so the OOM killer and memory.max see them either way.
 * max_image_bytes_per_pool starts at half of RAM too, for the same reason.
 *
 * Context: module init.
 */
void wp_limits_init(void)
{
	wp_limits.max_resident_bytes_per_pool =
		((u64)totalram_pages() << PAGE_SHIFT) / 2;
	wp_limits.max_image_bytes_per_pool =
		wp_limits.max_resident_bytes_per_pool;
}

#define WP_STAT_ATTR(_name, _expr)					\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%llu\n", (u64)(_expr));			\
}									\
static DEVICE_ATTR_RO(_name)

WP_STAT_ATTR(pools, atomic64_read(&wp_global.pools));
WP_STAT_ATTR(slots_in_use, atomic64_read(&wp_global.slots_in_use));
WP_STAT_ATTR(resident_bytes,
	     (u64)atomic64_read(&wp_global.resident_pages) << PAGE_SHIFT);
WP_STAT_ATTR(faults, atomic64_read(&wp_global.faults));
WP_STAT_ATTR(guard_faults, atomic64_read(&wp_global.guard_faults));
WP_STAT_ATTR(resets, atomic64_read(&wp_global.resets));
WP_STAT_ATTR(pages_freed, atomic64_read(&wp_global.pages_freed));
WP_STAT_ATTR(keys_in_use, atomic64_read(&wp_global.keys_in_use));
WP_STAT_ATTR(limit_hits, atomic64_read(&wp_global.limit_hits));
WP_STAT_ATTR(warm_hits, atomic64_read(&wp_global.warm_hits));
WP_STAT_ATTR(warm_misses, atomic64_read(&wp_global.warm_misses));
WP_STAT_ATTR(images, atomic64_read(&wp_global.images));
WP_STAT_ATTR(image_bytes,
	     (u64)atomic64_read(&wp_global.image_pages) << PAGE_SHIFT);

/**
 * struct wp_limit_attr - a limit's sysfs file
 * @attr: the attribute
 * @value: the limit in wp_limits
 * @min: the smallest value a write may set
 * @max: the largest value a write may set
 */
struct wp_limit_attr {
	struct device_attribute attr;
	u64 *value;
	u64 min;
	u64 max;
};

static ssize_t wp_limit_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct wp_limit_attr *la = container_of(attr, struct wp_limit_attr, attr);

	return sysfs_emit(buf, "%llu\n", READ_ONCE(*la->value));
}

/* A decimal u64 in [min, max]; text, a sign, overflow: EINVAL, no change. */
static ssize_t wp_limit_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t count)
{
	struct wp_limit_attr *la = container_of(attr, struct wp_limit_attr, attr);
	u64 v;

	/* kstrtou64() takes a leading '+': the ABI says digits only. */
	if (!isdigit(buf[0]) || kstrtou64(buf, 10, &v) || v < la->min ||
	    v > la->max)
		return -EINVAL;
	WRITE_ONCE(*la->value, v);
	return count;
}

static struct wp_limit_attr wp_limit_max_pools = {
	.attr = __ATTR(max_pools, 0644, wp_limit_show, wp_limit_store),
	.value = &wp_limits.max_pools,
	.max = U64_MAX,
};

static struct wp_limit_attr wp_limit_max_slots = {
	.attr = __ATTR(max_slots_per_pool, 0644, wp_limit_show, wp_limit_store),
	.value = &wp_limits.max_slots_per_pool,
	.min = 1,
	.max = WASMPOOL_MAX_SLOTS,
};

static struct wp_limit_attr wp_limit_max_reserved = {
	.attr = __ATTR(max_reserved_bytes_per_pool, 0644, wp_limit_show,
		       wp_limit_store),
	.value = &wp_limits.max_reserved_bytes_per_pool,
	.max = U64_MAX,
};

static struct wp_limit_attr wp_limit_max_resident = {
	.attr = __ATTR(max_resident_bytes_per_pool, 0644, wp_limit_show,
		       wp_limit_store),
	.value = &wp_limits.max_resident_bytes_per_pool,
	.max = U64_MAX,
};

static struct wp_limit_attr wp_limit_max_image = {
	.attr = __ATTR(max_image_bytes_per_pool, 0644, wp_limit_show,
		       wp_limit_store),
	.value = &wp_limits.max_image_bytes_per_pool,
	.max = U64_MAX,
};

static struct wp_limit_attr wp_default_keep = {
	.attr = __ATTR(default_keep_resident_bytes, 0644, wp_limit_show,
		       wp_limit_store),
	.value = &wp_limits.default_keep_resident_bytes,
	.max = U64_MAX,
};

static const char *const wp_pkey_mode_names[] = {
	[WASMPOOL_PKEYS_OFF] = "off",
	[WASMPOOL_PKEYS_AUTO] = "auto",
	[WASMPOOL_PKEYS_REQUIRE] = "require",
};

static ssize_t default_pkey_mode_show(struct device *dev,
				      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  wp_pkey_mode_names[READ_ONCE(wp_limits.default_pkey_mode)]);
}

/* "off", "auto" or "require" (a trailing newline allowed); else EINVAL. */
static ssize_t default_pkey_mode_store(struct device *dev,
				       struct device_attribute *attr,
				       const char *buf, size_t count)
{
	int mode = sysfs_match_string(wp_pkey_mode_names, buf);

	if (mode < 0)
		return -EINVAL;
	WRITE_ONCE(wp_limits.default_pkey_mode, mode);
	return count;
}
static DEVICE_ATTR_RW(default_pkey_mode);

static struct attribute *wp_stats_attrs[] = {
	&dev_attr_pools.attr,
	&dev_attr_slots_in_use.attr,
	&dev_attr_resident_bytes.attr,
	&dev_attr_faults.attr,
	&dev_attr_guard_faults.attr,
	&dev_attr_resets.attr,
	&dev_attr_pages_freed.attr,
	&dev_attr_keys_in_use.attr,
	&dev_attr_limit_hits.attr,
	&dev_attr_warm_hits.attr,
	&dev_attr_warm_misses.attr,
	&dev_attr_images.attr,
	&dev_attr_image_bytes.attr,
	&wp_limit_max_pools.attr.attr,
	&wp_limit_max_slots.attr.attr,
	&wp_limit_max_reserved.attr.attr,
	&wp_limit_max_resident.attr.attr,
	&wp_limit_max_image.attr.attr,
	&wp_default_keep.attr.attr,
	&dev_attr_default_pkey_mode.attr,
	NULL,
};

static const struct attribute_group wp_stats_group = {
	.attrs = wp_stats_attrs,
};

const struct attribute_group *wp_attr_groups[] = {
	&wp_stats_group,
	NULL,
};
