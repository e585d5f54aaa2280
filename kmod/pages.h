/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Page backing of a pool: pages allocated on first touch, one index per
 * slot (wp_slot.pages; pages.c), cleared in place or freed on reset
 * (reset.c).
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef _WASMPOOL_PAGES_H
#define _WASMPOOL_PAGES_H

#include <linux/mm_types.h>
#include <linux/sizes.h>
#include <linux/types.h>

struct wp_pool;
struct wp_slot;

/*
 * A page freed from the first WP_INDEX_HOLE_PAGES of a slot leaves a
 * reserved entry in the slot's index, so that the node stays (pages.c).
 */
#define WP_INDEX_HOLE_PAGES	(SZ_2M >> PAGE_SHIFT)

void wp_pages_account(struct wp_pool *pool, struct wp_slot *slot, long n);

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
