// SPDX-License-Identifier: GPL-2.0-only
/*
 * wasmpool: the /dev/wasmpool misc device, its file operations and the ioctl
 * dispatch table.
 *
 * Every ioctl follows the rules of uapi/linux/wasmpool.h: the structure
 * starts with its size, a shorter (older) structure is accepted down to the
 * first version of the command, a longer (newer) one only with a zero tail.
 * This file does that checking once, in wp_ioctl(); the command handlers see
 * a full-sized, zero-extended copy of the structure.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>

#include <linux/wasmpool.h>

#include "compat.h"
#include "layout.h"
#include "pkeys.h"

/* One buffer large enough for the structure of any command. */
union wp_ucmd_buffer {
	struct wasmpool_info info;
	struct wasmpool_layout_cmd layout;
};

/**
 * struct wp_ioctl_op - one entry of the ioctl table
 * @size: size of the command's structure as this module knows it
 * @min_size: size of the first version of the structure
 * @execute: handler; gets the zero-extended structure and fills its outputs
 */
struct wp_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	int (*execute)(struct file *filp, void *ucmd);
};

static int wp_cmd_info(struct file *filp, void *ucmd);
static int wp_cmd_layout(struct file *filp, void *ucmd);

#define WP_IOCTL_OP(_nr, _fn, _struct, _last)				\
	[(_nr) - WASMPOOL_CMD_BASE] = {					\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union wp_ucmd_buffer) < \
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.execute = _fn,						\
	}

static const struct wp_ioctl_op wp_ioctl_ops[] = {
	WP_IOCTL_OP(WASMPOOL_CMD_INFO, wp_cmd_info, struct wasmpool_info,
		    __reserved),
	WP_IOCTL_OP(WASMPOOL_CMD_LAYOUT, wp_cmd_layout,
		    struct wasmpool_layout_cmd, layout),
};

static_assert(ARRAY_SIZE(wp_ioctl_ops) == WASMPOOL_CMD_END - WASMPOOL_CMD_BASE);

static u64 wp_ioctl_mask(void)
{
	u64 mask = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(wp_ioctl_ops); i++)
		if (wp_ioctl_ops[i].execute)
			mask |= BIT_ULL(i);
	return mask;
}

static int wp_cmd_info(struct file *filp, void *ucmd)
{
	struct wasmpool_info *info = ucmd;

	if (info->flags || info->__reserved)
		return -EOPNOTSUPP;

	info->abi_version = WASMPOOL_ABI_VERSION;
	info->page_size = PAGE_SIZE;
	info->features = 0;
	info->pkeys_total = wp_pkeys_total();
	if (info->pkeys_total)
		info->features |= WASMPOOL_FEATURE_PKEYS;
	info->pkeys_free = wp_pkeys_free(current->mm);
	info->ioctl_mask = wp_ioctl_mask();
	return 0;
}

static int wp_cmd_layout(struct file *filp, void *ucmd)
{
	return wp_layout_cmd(ucmd);
}

static long wp_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	const struct wp_ioctl_op *op;
	union wp_ucmd_buffer buf;
	unsigned int nr = _IOC_NR(cmd);
	u32 usize;
	int ret;

	/* Every command is _IO(WASMPOOL_TYPE, nr): no direction, no size. */
	if (cmd != _IO(WASMPOOL_TYPE, nr) || nr < WASMPOOL_CMD_BASE ||
	    nr >= WASMPOOL_CMD_END)
		return -ENOTTY;
	op = &wp_ioctl_ops[nr - WASMPOOL_CMD_BASE];
	if (!op->execute)
		return -ENOTTY;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < op->min_size)
		return -EINVAL;
	ret = copy_struct_from_user(&buf, op->size, uarg, usize);
	if (ret)
		return ret;

	ret = op->execute(filp, &buf);
	if (ret)
		return ret;

	if (copy_to_user(uarg, &buf, min_t(u32, usize, op->size)))
		return -EFAULT;
	return 0;
}

static int wp_open(struct inode *inode, struct file *filp)
{
	return nonseekable_open(inode, filp);
}

static const struct file_operations wp_fops = {
	.owner = THIS_MODULE,
	.open = wp_open,
	.unlocked_ioctl = wp_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice wp_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "wasmpool",
	.fops = &wp_fops,
	.mode = 0600,
};

static int __init wp_init(void)
{
	int ret;

	ret = misc_register(&wp_misc);
	if (ret) {
		pr_err("cannot register /dev/wasmpool: %d\n", ret);
		return ret;
	}
	pr_info("ABI %u, page size %lu, %u protection keys\n",
		WASMPOOL_ABI_VERSION, PAGE_SIZE, wp_pkeys_total());
	return 0;
}

static void __exit wp_exit(void)
{
	misc_deregister(&wp_misc);
}

module_init(wp_init);
module_exit(wp_exit);

MODULE_DESCRIPTION("Striped guard-page memory pools for WebAssembly runtimes");
MODULE_AUTHOR("The wasmpool developers");
MODULE_LICENSE("GPL");
