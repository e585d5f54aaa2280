/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Page backing of a pool: pages allocated on first touch, one index per
 * slot (wp_slot.pages), cleared in place or freed on reset.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef _WASMPOOL_PAGES_H
#define _WASMPOOL_PAGES_H

#include <linux/mm_types.h>
#include <linux/types.h>

struct wp_pool;

vm_fault_t wp_pages_fault(struct wp_pool *pool, u32 idx,
			  struct vm_area_struct *vma, unsigned long address,
			  pgoff_t pgoff, bool write);
void wp_pages_unmap(struct wp_pool *pool, pgoff_t first, pgoff_t end);
void wp_pages_reset_span(struct wp_pool *pool, u32 idx, u64 keep_mapped,
			 pgoff_t *first, pgoff_t *end);
u64 wp_pages_reset_finish(struct wp_pool *pool, u32 idx, u64 keep_mapped);
u64 wp_pages_reset(struct wp_pool *pool, u32 idx, u64 keep_mapped);
void wp_pages_unmap_above(struct wp_pool *pool, u32 idx, u64 from, u64 end);
void wp_pages_release(struct wp_pool *pool, u32 idx);
bool wp_pages_pfn_own(struct wp_pool *pool, u32 idx, u64 in_slot,
		      unsigned long pfn);

#endif /* _WASMPOOL_PAGES_H */
