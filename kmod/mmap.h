/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _WASMPOOL_MMAP_H
#define _WASMPOOL_MMAP_H

struct file;
struct vm_area_struct;
struct wp_pool;

int wp_mmap_pool(struct wp_pool *pool, struct vm_area_struct *vma);

#endif /* _WASMPOOL_MMAP_H */
