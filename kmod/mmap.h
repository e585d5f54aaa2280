/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _WASMPOOL_MMAP_H
#define _WASMPOOL_MMAP_H

struct file;
struct vm_area_struct;
struct wp_pool;

int wp_mmap_pool(struct wp_pool *pool, struct vm_area_struct *vma);
unsigned long wp_mmap_get_unmapped_area(struct wp_pool *pool,
					struct file *file, unsigned long addr,
					unsigned long len, unsigned long pgoff,
					unsigned long flags);

#endif /* _WASMPOOL_MMAP_H */
