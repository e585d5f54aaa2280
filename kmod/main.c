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
#include <linux/overflow.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <linux/wasmpool.h>

#include "compat.h"
#include "fs.h"
#include "image.h"
#include "layout.h"
#include "mmap.h"
#include "pkeys.h"
#include "pool.h"
#include "sysfs.h"

/**
 * struct wp_file - what an open file of /dev/wasmpool holds
 * @inode: the anonymous inode whose address space the file maps
 * @configure_lock: serializes WASMPOOL_IOC_CONFIGURE: the loser of a race
 *	gets EBUSY, not a side effect of the winner (such as keys gone)
 * @pool: the pool, NULL until WASMPOOL_IOC_CONFIGURE; set once, published
 *	with smp_store_release() and read with smp_load_acquire()
 */
struct wp_file {
	struct inode *inode;
	struct mutex configure_lock;	/* see above */
	struct wp_pool *pool;
};

/* One buffer large enough for the structure of any command. */
union wp_ucmd_buffer {
	struct wasmpool_info info;
	struct wasmpool_layout_cmd layout;
	struct wasmpool_configure configure;
	struct wasmpool_slot_alloc slot_alloc;
	struct wasmpool_slot_resize slot_resize;
	struct wasmpool_slot_free slot_free;
	struct wasmpool_stats stats;
	struct wasmpool_apply_keys apply_keys;
	struct wasmpool_slot_free_batch slot_free_batch;
	struct wasmpool_image_create image_create;
	struct wasmpool_image_release image_release;
};

/**
 * struct wp_ucmd - one ioctl call, as its handler sees it
 * @ubuffer: the caller's structure
 * @user_size: its size as the caller gave it
 * @size: the size of the structure as this module knows it
 * @cmd: the zero-extended copy of it, which the handler fills
 *
 * A handler reports its outputs with wp_ucmd_respond() before it returns
 * 0, and an error may only mean that the command had no effect: so it
 * responds before the point of no return where it can (the outputs are
 * known), or undoes what it did when the response fails.
 */
struct wp_ucmd {
	void __user *ubuffer;
	u32 user_size;
	u32 size;
	void *cmd;
};

/* Copy the structure back to the caller, up to the smaller size. */
static int wp_ucmd_respond(struct wp_ucmd *ucmd)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min(ucmd->user_size, ucmd->size)))
		return -EFAULT;
	return 0;
}

/**
 * struct wp_ioctl_op - one entry of the ioctl table
 * @size: size of the command's structure as this module knows it
 * @min_size: size of the first version of the structure
 * @execute: handler
 */
struct wp_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	int (*execute)(struct file *filp, struct wp_ucmd *ucmd);
};

static int wp_cmd_info(struct file *filp, struct wp_ucmd *ucmd);
static int wp_cmd_layout(struct file *filp, struct wp_ucmd *ucmd);
static int wp_cmd_configure(struct file *filp, struct wp_ucmd *ucmd);
static int wp_cmd_slot_alloc(struct file *filp, struct wp_ucmd *ucmd);
static int wp_cmd_slot_grow(struct file *filp, struct wp_ucmd *ucmd);
static int wp_cmd_slot_reset(struct file *filp, struct wp_ucmd *ucmd);
static int wp_cmd_slot_free(struct file *filp, struct wp_ucmd *ucmd);
static int wp_cmd_stats(struct file *filp, struct wp_ucmd *ucmd);
static int wp_cmd_apply_keys(struct file *filp, struct wp_ucmd *ucmd);
static int wp_cmd_slot_free_batch(struct file *filp, struct wp_ucmd *ucmd);
static int wp_cmd_image_create(struct file *filp, struct wp_ucmd *ucmd);
static int wp_cmd_image_release(struct file *filp, struct wp_ucmd *ucmd);

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
	WP_IOCTL_OP(WASMPOOL_CMD_CONFIGURE, wp_cmd_configure,
		    struct wasmpool_configure, stripe_pkeys),
	WP_IOCTL_OP(WASMPOOL_CMD_SLOT_ALLOC, wp_cmd_slot_alloc,
		    struct wasmpool_slot_alloc, address),
	WP_IOCTL_OP(WASMPOOL_CMD_SLOT_GROW, wp_cmd_slot_grow,
		    struct wasmpool_slot_resize, accessible_bytes),
	WP_IOCTL_OP(WASMPOOL_CMD_SLOT_RESET, wp_cmd_slot_reset,
		    struct wasmpool_slot_resize, accessible_bytes),
	WP_IOCTL_OP(WASMPOOL_CMD_SLOT_FREE, wp_cmd_slot_free,
		    struct wasmpool_slot_free, __reserved),
	WP_IOCTL_OP(WASMPOOL_CMD_STATS, wp_cmd_stats, struct wasmpool_stats,
		    address),
	WP_IOCTL_OP(WASMPOOL_CMD_APPLY_KEYS, wp_cmd_apply_keys,
		    struct wasmpool_apply_keys, vmas),
	WP_IOCTL_OP(WASMPOOL_CMD_SLOT_FREE_BATCH, wp_cmd_slot_free_batch,
		    struct wasmpool_slot_free_batch, __reserved),
	WP_IOCTL_OP(WASMPOOL_CMD_IMAGE_CREATE, wp_cmd_image_create,
		    struct wasmpool_image_create, __reserved2),
	WP_IOCTL_OP(WASMPOOL_CMD_IMAGE_RELEASE, wp_cmd_image_release,
		    struct wasmpool_image_release, __reserved),
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

static int wp_cmd_info(struct file *filp, struct wp_ucmd *ucmd)
{
	struct wasmpool_info *info = ucmd->cmd;

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
	return wp_ucmd_respond(ucmd);
}

static int wp_cmd_layout(struct file *filp, struct wp_ucmd *ucmd)
{
	return wp_layout_cmd(ucmd->cmd) ?: wp_ucmd_respond(ucmd);
}

/* The file's pool or NULL; the pool was fully set up before publication. */
static struct wp_pool *wp_file_get_pool(struct file *filp)
{
	struct wp_file *wpf = filp->private_data;

	/* Pairs with the smp_store_release() that publishes the pool. */
	return smp_load_acquire(&wpf->pool);
}

/* The file's pool, if the caller may use it. */
static int wp_file_pool(struct file *filp, struct wp_pool **pool)
{
	*pool = wp_file_get_pool(filp);
	if (!*pool)
		return -EBADFD;
	if ((*pool)->mm != current->mm)
		return -EPERM;
	return 0;
}

/* The pool is published only once the caller knows its layout and keys. */
static int wp_cmd_configure(struct file *filp, struct wp_ucmd *ucmd)
{
	struct wp_file *wpf = filp->private_data;
	struct wp_pool *pool;
	int ret;

	mutex_lock(&wpf->configure_lock);
	if (wpf->pool) {
		ret = -EBUSY;
		goto unlock;
	}
	ret = wp_pool_create(ucmd->cmd, filp->f_mapping, &pool);
	if (ret)
		goto unlock;
	ret = wp_ucmd_respond(ucmd);
	if (ret) {
		/* Unpublished and unmapped: nothing else has seen it. */
		wp_pool_destroy(pool);
		goto unlock;
	}
	/* Pairs with smp_load_acquire() in wp_file_get_pool(). */
	smp_store_release(&wpf->pool, pool);
unlock:
	mutex_unlock(&wpf->configure_lock);
	return ret;
}

#define WP_SLOT_ALLOC_FLAGS (WASMPOOL_SLOT_ALLOC_STRIPE | WASMPOOL_SLOT_ALLOC_AFFINITY | \
			     WASMPOOL_SLOT_ALLOC_IMAGE)

/*
 * The slot is the caller's only once it knows which slot it is. An image
 * without an affinity key of the caller's is the key (freelist.c).
 */
static int wp_cmd_slot_alloc(struct file *filp, struct wp_ucmd *ucmd)
{
	struct wasmpool_slot_alloc *cmd = ucmd->cmd;
	bool any = !(cmd->flags & WASMPOOL_SLOT_ALLOC_STRIPE);
	bool keyed = cmd->flags & WASMPOOL_SLOT_ALLOC_AFFINITY;
	bool image = cmd->flags & WASMPOOL_SLOT_ALLOC_IMAGE;
	struct wp_alloc req = {
		.accessible = cmd->accessible_bytes,
		.stripe = any ? WP_ANY_STRIPE : cmd->stripe,
		.keyed = keyed ? WP_KEY_USER : image ? WP_KEY_IMAGE : WP_KEY_NONE,
		.affinity = keyed ? cmd->affinity : cmd->image,
	};
	struct wp_pool *pool;
	unsigned long base;
	int ret;

	ret = wp_file_pool(filp, &pool);
	if (ret)
		return ret;
	if (cmd->flags & ~WP_SLOT_ALLOC_FLAGS || (any && cmd->stripe) ||
	    cmd->__reserved || cmd->__reserved2 || (!keyed && cmd->affinity) ||
	    (!image && cmd->image))
		return -EOPNOTSUPP;
	if (!any && cmd->stripe == WP_ANY_STRIPE)
		return -EINVAL;
	if (image) {
		ret = wp_image_get(pool, cmd->image, &req.image);
		if (ret)
			return ret;
	}
	ret = wp_pool_slot_alloc(pool, &req);
	/* The slot took the image's reference over, or nothing did. */
	wp_image_put(req.image);
	if (ret)
		return ret;
	cmd->accessible_bytes = req.accessible;
	cmd->stripe = req.stripe;
	cmd->slot = req.slot;
	cmd->reuse = req.reuse;
	cmd->offset = wp_slot_offset(pool, req.slot);
	base = READ_ONCE(pool->address);
	cmd->address = base ? base + cmd->offset : 0;
	ret = wp_ucmd_respond(ucmd);
	if (ret) {
		wp_pool_slot_unalloc(pool, req.slot);
		return ret;
	}
	wp_pool_slot_commit(pool, &req);
	return 0;
}

/*
 * The pool, for a slot command whose flags and __reserved must be 0. GROW
 * and RESET report only the rounded size: they do so before they act.
 */
static int wp_file_pool_slot_cmd(struct file *filp, u32 flags, u32 reserved,
				 struct wp_pool **pool)
{
	int ret = wp_file_pool(filp, pool);

	if (ret)
		return ret;
	return flags || reserved ? -EOPNOTSUPP : 0;
}

static int wp_cmd_slot_grow(struct file *filp, struct wp_ucmd *ucmd)
{
	struct wasmpool_slot_resize *cmd = ucmd->cmd;
	struct wp_pool *pool;
	int ret;

	ret = wp_file_pool_slot_cmd(filp, cmd->flags, cmd->__reserved, &pool) ?:
	      wp_pool_round_size(pool, &cmd->accessible_bytes) ?:
	      wp_ucmd_respond(ucmd);
	return ret ?: wp_pool_slot_grow(pool, cmd->slot, &cmd->accessible_bytes);
}

static int wp_cmd_slot_reset(struct file *filp, struct wp_ucmd *ucmd)
{
	struct wasmpool_slot_resize *cmd = ucmd->cmd;
	struct wp_pool *pool;
	int ret;

	ret = wp_file_pool_slot_cmd(filp, cmd->flags, cmd->__reserved, &pool) ?:
	      wp_pool_round_size(pool, &cmd->accessible_bytes) ?:
	      wp_ucmd_respond(ucmd);
	return ret ?: wp_pool_slot_reset(pool, cmd->slot, &cmd->accessible_bytes);
}

/* No output: nothing is copied back. */
static int wp_cmd_slot_free(struct file *filp, struct wp_ucmd *ucmd)
{
	struct wasmpool_slot_free *cmd = ucmd->cmd;
	struct wp_pool *pool;
	int ret;

	ret = wp_file_pool_slot_cmd(filp, cmd->flags, cmd->__reserved, &pool);
	return ret ?: wp_pool_slot_free(pool, cmd->slot);
}

/* No output either; the array is copied in whole before anything is done. */
static int wp_cmd_slot_free_batch(struct file *filp, struct wp_ucmd *ucmd)
{
	struct wasmpool_slot_free_batch *cmd = ucmd->cmd;
	struct wp_pool *pool;
	u32 *idx;
	int ret;

	ret = wp_file_pool_slot_cmd(filp, cmd->flags, cmd->__reserved, &pool);
	if (ret)
		return ret;
	if (!cmd->count || cmd->count > WASMPOOL_FREE_BATCH_MAX)
		return -EINVAL;
	idx = memdup_user(u64_to_user_ptr(cmd->slots),
			  array_size(cmd->count, sizeof(*idx)));
	if (IS_ERR(idx))
		return PTR_ERR(idx);
	ret = wp_pool_slots_free(pool, idx, cmd->count);
	kfree(idx);
	return ret;
}

/*
 * The id is known only once the image is in the table: when it cannot be
 * written back, the image is released again.
 */
static int wp_cmd_image_create(struct file *filp, struct wp_ucmd *ucmd)
{
	struct wasmpool_image_create *cmd = ucmd->cmd;
	struct wp_pool *pool;
	int ret;

	ret = wp_file_pool(filp, &pool) ?: wp_image_create(pool, cmd);
	if (ret)
		return ret;
	ret = wp_ucmd_respond(ucmd);
	if (ret)
		wp_image_release(pool, cmd->image);
	return ret;
}

/* No output. */
static int wp_cmd_image_release(struct file *filp, struct wp_ucmd *ucmd)
{
	struct wasmpool_image_release *cmd = ucmd->cmd;
	struct wp_pool *pool;

	return wp_file_pool_slot_cmd(filp, cmd->flags, cmd->__reserved, &pool) ?:
	       wp_image_release(pool, cmd->image);
}

static int wp_cmd_stats(struct file *filp, struct wp_ucmd *ucmd)
{
	struct wasmpool_stats *cmd = ucmd->cmd;
	struct wp_pool *pool;
	int ret;

	ret = wp_file_pool(filp, &pool);
	if (ret)
		return ret;
	if (cmd->flags)
		return -EOPNOTSUPP;
	wp_pool_stats(pool, cmd);
	return wp_ucmd_respond(ucmd);
}

/*
 * The count of VMAs is known only after the keys are applied, which cannot
 * be undone: the argument is written (unchanged) first, so that EFAULT
 * means nothing happened; if another thread takes it away during the
 * call, the count is lost but the call succeeds.
 */
static int wp_cmd_apply_keys(struct file *filp, struct wp_ucmd *ucmd)
{
	struct wasmpool_apply_keys *cmd = ucmd->cmd;
	struct wp_pool *pool;
	int ret;

	ret = wp_file_pool(filp, &pool);
	if (ret)
		return ret;
	if (cmd->flags)
		return -EOPNOTSUPP;
	ret = wp_ucmd_respond(ucmd) ?: wp_pool_apply_keys(pool, filp, &cmd->vmas);
	if (!ret)
		wp_ucmd_respond(ucmd);
	return ret;
}

static long wp_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	const struct wp_ioctl_op *op;
	union wp_ucmd_buffer buf;
	struct wp_ucmd ucmd;
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
	/* A larger struct only adds a tail to check: bound it, as clone3(). */
	if (usize > PAGE_SIZE)
		return -E2BIG;
	ret = copy_struct_from_user(&buf, op->size, uarg, usize);
	if (ret)
		return ret;

	ucmd.ubuffer = uarg;
	ucmd.user_size = usize;
	ucmd.size = op->size;
	ucmd.cmd = &buf;
	return op->execute(filp, &ucmd);
}

static unsigned long wp_get_unmapped_area(struct file *filp, unsigned long addr,
					  unsigned long len, unsigned long pgoff,
					  unsigned long flags)
{
	return wp_mmap_get_unmapped_area(wp_file_get_pool(filp), filp, addr,
					 len, pgoff, flags);
}

static int wp_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct wp_pool *pool = wp_file_get_pool(filp);

	if (!pool)
		return -EBADFD;
	return wp_mmap_pool(pool, vma);
}

static int wp_open(struct inode *inode, struct file *filp)
{
	struct wp_file *wpf;
	int ret;

	ret = nonseekable_open(inode, filp);
	if (ret)
		return ret;
	wpf = kzalloc(sizeof(*wpf), GFP_KERNEL_ACCOUNT);
	if (!wpf)
		return -ENOMEM;
	wpf->inode = wp_fs_new_inode();
	if (IS_ERR(wpf->inode)) {
		ret = PTR_ERR(wpf->inode);
		goto free_wpf;
	}
	mutex_init(&wpf->configure_lock);
	/* unmap_mapping_range() on this file must reach this file only. */
	filp->f_mapping = wpf->inode->i_mapping;
	filp->private_data = wpf;
	return 0;

free_wpf:
	kfree(wpf);
	return ret;
}

/* The last reference is gone: no mapping is left, no ioctl runs. */
static int wp_release(struct inode *inode, struct file *filp)
{
	struct wp_file *wpf = filp->private_data;

	if (wpf->pool)
		wp_pool_destroy(wpf->pool);
	mutex_destroy(&wpf->configure_lock);
	iput(wpf->inode);
	kfree(wpf);
	return 0;
}

static const struct file_operations wp_fops = {
	.owner = THIS_MODULE,
	.open = wp_open,
	.release = wp_release,
	.mmap = wp_mmap,
	.get_unmapped_area = wp_get_unmapped_area,
	.unlocked_ioctl = wp_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice wp_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "wasmpool",
	.fops = &wp_fops,
	.groups = wp_attr_groups,
	.mode = 0600,
};

static int __init wp_init(void)
{
	int ret;

	wp_limits_init();
	ret = wp_fs_init();
	if (ret) {
		pr_err("cannot mount the internal filesystem: %d\n", ret);
		return ret;
	}
	ret = misc_register(&wp_misc);
	if (ret) {
		pr_err("cannot register /dev/wasmpool: %d\n", ret);
		goto exit_fs;
	}
	pr_info("ABI %u, page size %lu, %u protection keys\n",
		WASMPOOL_ABI_VERSION, PAGE_SIZE, wp_pkeys_total());
	return 0;

exit_fs:
	wp_fs_exit();
	return ret;
}

static void __exit wp_exit(void)
{
	misc_deregister(&wp_misc);
	wp_fs_exit();
}

module_init(wp_init);
module_exit(wp_exit);

MODULE_DESCRIPTION("Striped guard-page memory pools for WebAssembly runtimes");
MODULE_AUTHOR("The wasmpool developers");
MODULE_LICENSE("GPL");
