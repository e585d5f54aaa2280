// SPDX-License-Identifier: GPL-2.0-only
/*
 * A private address space per open file.
 *
 * Every open of /dev/wasmpool shares the device node's inode, and with it
 * one address_space. A reset unmaps pages with unmap_mapping_range(), which
 * works on an address_space: so each open file gets an anonymous inode of
 * its own from this small internal filesystem, and its f_mapping points
 * there (as DRM and VFIO do).
 *
 * The filesystem has no .owner: mounted at module load, it would otherwise
 * pin the module and rmmod would fail.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>

#include "fs.h"

#define WASMPOOL_FS_MAGIC	0x77706f6c	/* "wpol" */

static struct vfsmount *wp_mnt;

static int wp_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, WASMPOOL_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type wp_fs_type = {
	.name = "wasmpool",
	.init_fs_context = wp_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

int wp_fs_init(void)
{
	wp_mnt = kern_mount(&wp_fs_type);
	return PTR_ERR_OR_ZERO(wp_mnt);
}

void wp_fs_exit(void)
{
	kern_unmount(wp_mnt);
}

/**
 * wp_fs_new_inode() - a new anonymous inode with its own address space
 *
 * Context: process context.
 * Return: the inode (drop it with iput()), or an ERR_PTR().
 */
struct inode *wp_fs_new_inode(void)
{
	return alloc_anon_inode(wp_mnt->mnt_sb);
}
