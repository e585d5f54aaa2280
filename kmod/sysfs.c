// SPDX-License-Identifier: GPL-2.0-only
/*
 * sysfs attributes of /dev/wasmpool: module-wide statistics, one value per
 * file. Documented in docs/sysfs-class-misc-wasmpool.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <linux/device.h>
#include <linux/mm.h>
#include <linux/sysfs.h>

#include "sysfs.h"

struct wp_global_stats wp_global;

static ssize_t pools_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%lld\n", atomic64_read(&wp_global.pools));
}
static DEVICE_ATTR_RO(pools);

static ssize_t slots_in_use_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n", atomic64_read(&wp_global.slots_in_use));
}
static DEVICE_ATTR_RO(slots_in_use);

static ssize_t resident_bytes_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  (u64)atomic64_read(&wp_global.resident_pages) << PAGE_SHIFT);
}
static DEVICE_ATTR_RO(resident_bytes);

static struct attribute *wp_stats_attrs[] = {
	&dev_attr_pools.attr,
	&dev_attr_slots_in_use.attr,
	&dev_attr_resident_bytes.attr,
	NULL,
};

static const struct attribute_group wp_stats_group = {
	.attrs = wp_stats_attrs,
};

const struct attribute_group *wp_attr_groups[] = {
	&wp_stats_group,
	NULL,
};
