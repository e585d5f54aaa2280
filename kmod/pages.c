// SPDX-License-Identifier: GPL-2.0-only
/*
 * Page backing of a pool.
 *
 * A page is allocated, zeroed and charged to the faulting task's memory
 * cgroup on the first touch of an accessible address, recorded in the pool's
 * index (wp_pool.pages, keyed by page offset in the file) with one reference,
 * and mapped with vm_insert_page(), which takes another for the PTE; a fault
 * on a page that is already resident maps the run of resident pages after
 * it as well (vm_insert_pages()). A reset unmaps the slot with
 * unmap_mapping_range() on the pool's private mapping, then zeroes the pages
 * it keeps in place, and drops the index's reference of the pages it frees,
 * in batches (release_pages()). The PTE references mean a page is never
 * freed while anything still maps it; VM_IO keeps get_user_pages() from
 * pinning one.
 *
 * All of it runs under the slot's lock: faults hold it for read, resets for
 * write, so a fault never races with a reset of its own slot.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/xarray.h>

#include "pages.h"
#include "pool.h"
#include "sysfs.h"

/* Pages mapped at most by one fault on resident pages. */
#define WP_FAULT_AROUND	32

/*
 * Map a page that is already resident (kept by a reset, or allocated by a
 * racing fault) and the resident pages that follow it, up to the slot's
 * accessible size: a tenant re-touching kept pages pays one fault for a
 * run of them, not one each.
 */
static vm_fault_t wp_pages_map_resident(struct wp_pool *pool, u32 idx,
					struct vm_area_struct *vma,
					unsigned long address, pgoff_t pgoff,
					struct page *page)
{
	struct wp_slot *slot = &pool->slots[idx];
	pgoff_t first = wp_slot_offset(pool, idx) >> PAGE_SHIFT;
	pgoff_t end = first + (READ_ONCE(slot->accessible) >> PAGE_SHIFT);
	struct page *pages[WP_FAULT_AROUND];
	unsigned long num = 1;
	int err;

	pages[0] = page;
	end = min3(end, pgoff + WP_FAULT_AROUND,
		   pgoff + ((vma->vm_end - address) >> PAGE_SHIFT));
	while (pgoff + num < end) {
		page = xa_load(&pool->pages, pgoff + num);
		if (!page)
			break;
		pages[num++] = page;
	}

	/* Stops at the first PTE present (-EBUSY): the rest is mapped. */
	err = vm_insert_pages(vma, address, pages, &num);
	if (err && err != -EBUSY)
		return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	atomic64_inc(&pool->faults);
	atomic64_inc(&wp_global.faults);
	return VM_FAULT_NOPAGE;
}

/**
 * wp_pages_fault() - back one accessible page of a slot and map it
 * @pool: the pool
 * @idx: the slot the page belongs to
 * @vma: the faulting VMA
 * @address: the page-aligned faulting address
 * @pgoff: the page's offset in the file
 *
 * Context: mmap_lock held (fault); the slot's lock held for read.
 * Return: VM_FAULT_NOPAGE when the page is mapped (by us or by a racing
 * fault), VM_FAULT_OOM when memory (or the memory cgroup) is exhausted.
 */
vm_fault_t wp_pages_fault(struct wp_pool *pool, u32 idx,
			  struct vm_area_struct *vma, unsigned long address,
			  pgoff_t pgoff)
{
	struct wp_slot *slot = &pool->slots[idx];
	struct page *page, *old;
	int err;

	lockdep_assert_held_read(&slot->lock);

	page = xa_load(&pool->pages, pgoff);
	if (page)
		return wp_pages_map_resident(pool, idx, vma, address, pgoff, page);

	if (pool->max_resident_pages &&
	    atomic64_read(&pool->resident_pages) >= pool->max_resident_pages) {
		atomic64_inc(&wp_global.limit_hits);
		pr_info_ratelimited("%s[%d]: SIGBUS: a pool reached the limit max_resident_bytes_per_pool=%llu (/sys/class/misc/wasmpool/max_resident_bytes_per_pool)\n",
				    current->comm, task_pid_nr(current),
				    pool->max_resident_pages << PAGE_SHIFT);
		return VM_FAULT_SIGBUS;
	}
	page = alloc_page(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT);
	if (!page)
		return VM_FAULT_OOM;
	old = xa_cmpxchg(&pool->pages, pgoff, NULL, page, GFP_KERNEL_ACCOUNT);
	if (xa_is_err(old)) {
		put_page(page);
		return VM_FAULT_OOM;
	}
	if (old) {
		/* A fault on the same page of this slot won. */
		put_page(page);
		return wp_pages_map_resident(pool, idx, vma, address, pgoff, old);
	}
	atomic_inc(&slot->resident);
	atomic64_inc(&pool->resident_pages);
	atomic64_inc(&wp_global.resident_pages);
	atomic64_inc(&pool->pages_allocated);

	err = vm_insert_page(vma, address, page);
	if (err && err != -EBUSY)
		return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	atomic64_inc(&pool->faults);
	atomic64_inc(&wp_global.faults);
	return VM_FAULT_NOPAGE;
}

/* Pages released to the system at a time. */
#define WP_RELEASE_BATCH	32

/* Drop the index's pages of a slot from @first on; they must be unmapped. */
static void wp_pages_free_from(struct wp_pool *pool, struct wp_slot *slot,
			       pgoff_t first, pgoff_t last)
{
	XA_STATE(xas, &pool->pages, first);
	struct page *batch[WP_RELEASE_BATCH];
	struct page *page;
	u64 freed = 0;
	int n = 0;

	xas_lock(&xas);
	xas_for_each(&xas, page, last) {
		xas_store(&xas, NULL);
		batch[n++] = page;
		if (n < WP_RELEASE_BATCH)
			continue;
		xas_pause(&xas);
		xas_unlock(&xas);
		release_pages(batch, n);
		freed += n;
		n = 0;
		cond_resched();
		xas_lock(&xas);
	}
	xas_unlock(&xas);
	if (n)
		release_pages(batch, n);
	freed += n;

	atomic_sub(freed, &slot->resident);
	atomic64_sub(freed, &pool->resident_pages);
	atomic64_sub(freed, &wp_global.resident_pages);
	atomic64_add(freed, &pool->pages_freed);
	atomic64_add(freed, &wp_global.pages_freed);
}

/**
 * wp_pages_reset() - zero a slot for a new tenant
 * @pool: the pool
 * @idx: the slot
 *
 * Every page of the slot is unmapped; those within the pool's
 * keep_resident bytes of the slot start stay resident and are zeroed in
 * place, every other one is freed. The cost is proportional to the pages
 * resident in the slot. Nothing of the slot stays mapped, so whatever
 * accessible size the caller set holds at once.
 *
 * Context: process context; the slot's lock held for write.
 */
void wp_pages_reset(struct wp_pool *pool, u32 idx)
{
	struct wp_slot *slot = &pool->slots[idx];
	pgoff_t first = wp_slot_offset(pool, idx) >> PAGE_SHIFT;
	pgoff_t last = first + (pool->layout.max_memory_bytes >> PAGE_SHIFT) - 1;
	pgoff_t keep_end = first + (pool->keep_resident >> PAGE_SHIFT);
	pgoff_t high = 0;
	unsigned long index;
	struct page *page;
	u64 cleared = 0;

	lockdep_assert_held_write(&slot->lock);
	if (!atomic_read(&slot->resident))
		return;

	/* The highest resident page bounds the PTEs there can be. */
	xa_for_each_range(&pool->pages, index, page, first, last)
		high = index;
	/*
	 * Unmap every page first, then zero what is kept: a thread of the old
	 * tenant still touching the slot faults (and waits for our lock)
	 * instead of writing into a page after it was zeroed. Kept pages come
	 * back with one fault per run of them (wp_pages_map_resident()).
	 */
	unmap_mapping_range(pool->mapping, (loff_t)first << PAGE_SHIFT,
			    (loff_t)(high + 1 - first) << PAGE_SHIFT, 1);
	xa_for_each_range(&pool->pages, index, page, first, min(last, keep_end - 1)) {
		if (index >= keep_end)
			break;
		clear_highpage(page);
		cleared++;
		cond_resched();
	}
	atomic64_add(cleared, &pool->pages_cleared);
	if (high >= keep_end)
		wp_pages_free_from(pool, slot, keep_end, last);
}

/**
 * wp_pages_release() - free every page of a slot
 * @pool: the pool
 * @idx: the slot
 *
 * For a pool that is no longer mapped: there are no PTEs left to zap.
 *
 * Context: process context; the slot's lock held for write.
 */
void wp_pages_release(struct wp_pool *pool, u32 idx)
{
	struct wp_slot *slot = &pool->slots[idx];
	pgoff_t first = wp_slot_offset(pool, idx) >> PAGE_SHIFT;

	lockdep_assert_held_write(&slot->lock);
	if (atomic_read(&slot->resident))
		wp_pages_free_from(pool, slot, first, first +
				   (pool->layout.max_memory_bytes >> PAGE_SHIFT) - 1);
}
