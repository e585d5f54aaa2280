// SPDX-License-Identifier: GPL-2.0-only
/*
 * Resetting a slot's pages for the next tenant: which pages a reset or free
 * keeps, zeroing them (or giving them their image back) in place, and
 * unmapping and freeing the others (the pages themselves: pages.c).
 *
 * Warm reuse (the default): a reset or free zeroes the kept pages - the
 * slot's first keep_resident bytes' worth of pages, wherever they lie - in
 * place while they stay mapped, and unmaps only the pages beyond those or
 * above the next accessible size, so a steady stream of tenants costs no
 * unmap, no TLB flush and no fault. Since nothing can pin a pool page,
 * zeroing a mapped page in place is safe. A strict pool (configure flag)
 * unmaps the whole slot on every reset and free.
 * A reset also drops, rather than reuses, a kept page that anything else
 * holds a reference to (page_ref_count() above the pool's one).
 *
 * No page is freed while a PTE maps it: every page leaves its slot's
 * index under the slot's lock held for write, after unmap_mapping_range()
 * of it (faults map under that lock held for read), or once no VMA of the
 * pool is left.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/xarray.h>

#include "compat.h"
#include "image.h"
#include "pages.h"
#include "pool.h"
#include "sysfs.h"

/* Pages taken out of the index and released to the system at a time. */
#define WP_RELEASE_BATCH	32

/**
 * struct wp_batch - up to WP_RELEASE_BATCH pages of a slot's index
 * @pages: the pages
 * @at: their page offsets in the slot, ascending
 * @n: how many
 */
struct wp_batch {
	struct page *pages[WP_RELEASE_BATCH];
	pgoff_t at[WP_RELEASE_BATCH];
	int n;
};

/*
 * Gather the next pages of @slot's index from *@next to @last into @b, and
 * move *@next past them; false when there are none. A read-only walk under
 * RCU (the slot's lock held for write keeps the entries as they are):
 * the stores come after it, in wp_index_drop_batch(), each at an index
 * set anew. Never an xas_pause() after a store: after one that empties a
 * node, 6.1's and 6.12's xas_pause() skip the rest of that node's range
 * (fixed upstream in 2024 by "Xarray: move forward index correctly in
 * xas_pause()"), and pages were left behind.
 */
static bool wp_index_gather(struct wp_slot *slot, pgoff_t *next, pgoff_t last,
			    struct wp_batch *b)
{
	XA_STATE(xas, &slot->pages, *next);
	struct page *page;

	b->n = 0;
	if (*next > last)
		return false;
	rcu_read_lock();
	xas_for_each(&xas, page, last) {
		if (xas_retry(&xas, page))	/* reserved entries too */
			continue;
		b->pages[b->n] = page;
		b->at[b->n] = xas.xa_index;
		if (++b->n == WP_RELEASE_BATCH)
			break;
	}
	rcu_read_unlock();
	*next = b->n ? b->at[b->n - 1] + 1 : last + 1;
	return b->n;
}

/*
 * Take the pages of @b out of the index, under one hold of its lock: in
 * the first WP_INDEX_HOLE_PAGES a reserved entry takes the page's place
 * (which needs no allocation, but where a lone first page sits in the
 * xarray's head: that one is erased).
 */
static void wp_index_drop_batch(struct wp_slot *slot, const struct wp_batch *b)
{
	XA_STATE(xas, &slot->pages, 0);
	int i;

	xas_lock(&xas);
	for (i = 0; i < b->n; i++) {
		xas_set(&xas, b->at[i]);
		xas_store(&xas, b->at[i] < WP_INDEX_HOLE_PAGES ? XA_ZERO_ENTRY : NULL);
		if (xas_error(&xas)) {
			xas_set(&xas, b->at[i]);
			xas_store(&xas, NULL);
		}
	}
	xas_unlock(&xas);
}

/* @n pages of @slot, out of its index, go back to the system. */
static void wp_pages_freed(struct wp_pool *pool, struct wp_slot *slot,
			   struct page **pages, long n)
{
	if (!n)
		return;
	release_pages(pages, n);
	wp_pages_account(pool, slot, -n);
	atomic64_sub(n, &pool->resident_pages);
	atomic64_add(n, &pool->pages_freed);
	atomic64_add(n, &wp_global.pages_freed);
}

/*
 * Drop the slot's pages from page @first of the slot on; none may be
 * mapped.
 */
static void wp_pages_free_from(struct wp_pool *pool, struct wp_slot *slot,
			       pgoff_t first)
{
	pgoff_t next = first;
	struct wp_batch b;

	if (slot->pages_end <= first)
		return;
	while (wp_index_gather(slot, &next, slot->pages_end - 1, &b)) {
		wp_index_drop_batch(slot, &b);
		wp_pages_freed(pool, slot, b.pages, b.n);
		cond_resched();
	}
	WRITE_ONCE(slot->pages_end, first);
}

/**
 * wp_pages_unmap() - zap the pool's PTEs in a range
 * @pool: the pool
 * @first: the first page offset in the file
 * @end: one past the last; nothing happens unless @end > @first
 *
 * One walk of the range in every VMA of the pool and, where it found a
 * page mapped, one TLB flush per VMA.
 *
 * Context: process context; no PTE of a page about to be freed may come
 * back meanwhile (the slot's lock, or an accessible size of 0).
 */
void wp_pages_unmap(struct wp_pool *pool, pgoff_t first, pgoff_t end)
{
	if (end <= first)
		return;
	unmap_mapping_range(pool->mapping, (loff_t)first << PAGE_SHIFT,
			    (loff_t)(end - first) << PAGE_SHIFT, 1);
	atomic64_inc(&pool->unmaps);
}

/*
 * Zero the kept pages of slot @idx below page @end of the slot (give those
 * of its image their image bytes back: image.h); those below
 * page @mapped may still be mapped (warm), the others are not. A page that
 * anything but the pool holds a reference to is not handed to the next
 * tenant: it is unmapped and leaves the index (the holder's reference keeps
 * it alive until it lets go), and the next touch gets a new page.
 */
static void wp_pages_clear_kept(struct wp_pool *pool, u32 idx, pgoff_t end,
				pgoff_t mapped)
{
	struct wp_slot *slot = &pool->slots[idx];
	pgoff_t first = wp_slot_first(pool, idx), next = 0;
	struct wp_batch b, held;
	u64 cleared = 0, replaced = 0;
	int i;

	while (wp_index_gather(slot, &next, end - 1, &b)) {
		held.n = 0;
		for (i = 0; i < b.n; i++) {
			if (page_ref_count(b.pages[i]) == 1) {
				wp_image_restore_page(pool, idx, b.at[i],
						      b.pages[i]);
				continue;
			}
			if (b.at[i] < mapped)
				wp_pages_unmap(pool, first + b.at[i],
					       first + b.at[i] + 1);
			held.pages[held.n] = b.pages[i];
			held.at[held.n++] = b.at[i];
		}
		wp_index_drop_batch(slot, &held);
		wp_pages_freed(pool, slot, held.pages, held.n);
		cleared += b.n - held.n;
		replaced += held.n;
		cond_resched();
	}
	atomic64_add(cleared, &pool->pages_cleared);
	atomic64_add(replaced, &pool->pages_replaced);
}

/*
 * A warm slot whose image's read-only pages may be mapped, and no zero
 * page: its reset unmaps only the slot's own pages (wp_pages_unmap_own()),
 * so that the image stays mapped where the slot has not written - one
 * range from keep_resident to the last page would take all of it with it,
 * and the next tenant would fault every image page back in.
 */
static bool wp_pages_image_warm(const struct wp_pool *pool,
				const struct wp_slot *slot)
{
	return !pool->strict && slot->image_mapped && !slot->zero_mapped;
}

/*
 * Unmap the slot's own pages from page @from of the slot on, one range
 * for each run of them, leaving the PTEs between the runs - its image's
 * read-only pages - mapped.
 */
static void wp_pages_unmap_own(struct wp_pool *pool, u32 idx, pgoff_t from)
{
	struct wp_slot *slot = &pool->slots[idx];
	pgoff_t first = wp_slot_first(pool, idx), next = from;
	pgoff_t run = 0, run_end = 0;
	struct wp_batch b;
	int i;

	if (slot->pages_end <= from)
		return;
	while (wp_index_gather(slot, &next, slot->pages_end - 1, &b)) {
		for (i = 0; i < b.n; i++) {
			if (run_end && b.at[i] == run_end) {
				run_end++;
				continue;
			}
			wp_pages_unmap(pool, first + run, first + run_end);
			run = b.at[i];
			run_end = run + 1;
		}
		cond_resched();
	}
	wp_pages_unmap(pool, first + run, first + run_end);
}

/*
 * One past the slot's last page that a reset keeps: the first
 * keep_resident bytes' worth of its pages, lowest offsets first, wherever
 * in the slot they lie (as Wasmtime's PAGEMAP_SCAN reset keeps the first
 * keep_resident bytes of written pages it finds). So a tenant that writes
 * a few pages far apart - a stack high in memory, a 16 MiB image's pages -
 * finds them kept, not freed and faulted in again on every cycle, and a
 * free slot still holds at most keep_resident bytes.
 */
static pgoff_t wp_pages_keep_end(struct wp_pool *pool, struct wp_slot *slot)
{
	unsigned long keep = pool->keep_resident >> PAGE_SHIFT, n = 0;
	XA_STATE(xas, &slot->pages, 0);
	pgoff_t end = 0;
	struct page *page;

	if (!keep)
		return 0;
	if (atomic_read(&slot->resident) <= keep)
		return slot->pages_end;
	rcu_read_lock();
	xas_for_each(&xas, page, slot->pages_end - 1) {
		if (xas_retry(&xas, page))	/* reserved entries too */
			continue;
		if (++n == keep) {
			end = xas.xa_index + 1;
			break;
		}
	}
	rcu_read_unlock();
	return end;
}

/*
 * Pages of the slot below *@keep are kept resident by a reset, those below
 * *@mapped stay mapped. The same answer from wp_pages_reset_span() and
 * wp_pages_reset_finish(): the slot's lock is held for write in between.
 */
static void wp_pages_bounds(struct wp_pool *pool, u32 idx, u64 keep_mapped,
			    pgoff_t *keep, pgoff_t *mapped)
{
	*keep = wp_pages_keep_end(pool, &pool->slots[idx]);
	*mapped = min_t(u64, keep_mapped >> PAGE_SHIFT, *keep);
}

/**
 * wp_pages_reset_span() - what a reset of a slot must unmap first
 * @pool: the pool
 * @idx: the slot
 * @keep_mapped: as for wp_pages_reset()
 * @first: out: the first page offset in the file to unmap
 * @end: out: one past the last; @end <= @first when nothing is to unmap
 *
 * From the first page that does not stay mapped to the slot's bound on its
 * indexed pages (wp_slot.pages_end): no PTE of the slot lies above it -
 * or, where a read may have mapped the zero page, to the slot's
 * mapped_end; in a strict pool where it may have mapped its image, to the
 * image's end too. A warm pool leaves the image's read-only PTEs mapped
 * (the image does not change): for a warm slot that may map its image the
 * span is empty, and wp_pages_reset_finish() unmaps the slot's own pages
 * alone. The caller unmaps the span (alone, or as part of a larger range)
 * before wp_pages_reset_finish(), and no fault may map a page there in
 * between.
 *
 * Context: process context; the slot's lock held for write.
 */
void wp_pages_reset_span(struct wp_pool *pool, u32 idx, u64 keep_mapped,
			 pgoff_t *first, pgoff_t *end)
{
	struct wp_slot *slot = &pool->slots[idx];
	pgoff_t start = wp_slot_first(pool, idx), keep, mapped;
	struct wp_image *img = pool->strict && slot->image_mapped ?
			       wp_slot_image(pool, idx) : NULL;

	lockdep_assert_held_write(&slot->lock);
	*first = 0;
	*end = 0;
	if (!atomic_read(&slot->resident) && !slot->zero_mapped && !img)
		return;
	/* wp_pages_reset_finish() unmaps the slot's own pages itself. */
	if (wp_pages_image_warm(pool, slot))
		return;
	wp_pages_bounds(pool, idx, keep_mapped, &keep, &mapped);
	*first = start + mapped;
	if (slot->zero_mapped)
		*end = start + (slot->mapped_end >> PAGE_SHIFT);
	else
		*end = start + slot->pages_end;
	if (img)
		*end = max(*end, start + img->nr_pages);
}

/**
 * wp_pages_reset_finish() - zero a slot whose span is unmapped
 * @pool: the pool
 * @idx: the slot
 * @keep_mapped: as given to wp_pages_reset_span()
 *
 * Zeroes the kept pages in place and frees the others.
 *
 * Context: process context; the slot's lock held for write.
 * Return: the offset in the slot below which PTEs of its own pages or the
 * zero page may still exist (the slot's new mapped_end for a free slot).
 */
u64 wp_pages_reset_finish(struct wp_pool *pool, u32 idx, u64 keep_mapped)
{
	struct wp_slot *slot = &pool->slots[idx];
	pgoff_t keep, mapped;

	lockdep_assert_held_write(&slot->lock);
	wp_pages_bounds(pool, idx, keep_mapped, &keep, &mapped);
	if (wp_pages_image_warm(pool, slot))
		wp_pages_unmap_own(pool, idx, mapped);
	/* Unmapped from the slot's start on: no zero-page PTE is left. */
	if (!mapped)
		slot->zero_mapped = false;
	/* A strict reset unmapped the image's PTEs too. */
	if (pool->strict)
		slot->image_mapped = false;
	if (atomic_read(&slot->resident)) {
		if (keep && slot->pages_end)
			wp_pages_clear_kept(pool, idx, min(keep, slot->pages_end),
					    mapped);
		wp_pages_free_from(pool, slot, keep);
	}
	return (u64)mapped << PAGE_SHIFT;
}

/**
 * wp_pages_reset() - zero a slot for a new tenant
 * @pool: the pool
 * @idx: the slot
 * @keep_mapped: bytes from the slot start whose kept pages stay mapped
 *	(warm reuse); 0 unmaps every page (strict)
 *
 * The slot's first keep_resident bytes' worth of pages (lowest offsets
 * first: wp_pages_keep_end()) stay resident and are zeroed in place; every
 * other page is unmapped and freed. Kept pages below @keep_mapped stay
 * mapped while they are zeroed, so the next tenant touches them without a
 * fault and no TLB flush is needed: the caller (the runtime) has stopped the old tenant's threads.
 * Kept pages above it are unmapped first, so that an access there faults
 * (and a thread of the old tenant still touching the slot waits for our
 * lock instead of writing into a page after it was zeroed). The cost is
 * proportional to the pages resident in the slot.
 *
 * Context: process context; the slot's lock held for write.
 * Return: as wp_pages_reset_finish().
 */
u64 wp_pages_reset(struct wp_pool *pool, u32 idx, u64 keep_mapped)
{
	pgoff_t first, end;

	wp_pages_reset_span(pool, idx, keep_mapped, &first, &end);
	wp_pages_unmap(pool, first, end);
	return wp_pages_reset_finish(pool, idx, keep_mapped);
}

/**
 * wp_pages_unmap_above() - unmap a slot's pages from an offset on
 * @pool: the pool
 * @idx: the slot
 * @from: the offset in the slot from which accesses must fault again
 * @end: the offset below which PTEs of the slot can exist
 *
 * For a warm slot given a smaller accessible size: its pages stay
 * resident (and zero); only the mapping above @from goes.
 *
 * Context: process context; the slot's lock held for write.
 */
void wp_pages_unmap_above(struct wp_pool *pool, u32 idx, u64 from, u64 end)
{
	pgoff_t first = wp_slot_offset(pool, idx) >> PAGE_SHIFT;

	lockdep_assert_held_write(&pool->slots[idx].lock);
	wp_pages_unmap(pool, first + (from >> PAGE_SHIFT), first + (end >> PAGE_SHIFT));
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

	lockdep_assert_held_write(&slot->lock);
	wp_pages_free_from(pool, slot, 0);
}
