// SPDX-License-Identifier: GPL-2.0-only
/*
 * Freeing slots: one or a batch (WASMPOOL_IOC_SLOT_FREE(_BATCH)). A batch
 * is claimed all or none, and in an owner with other threads the unmaps of
 * neighbouring slots merge into one range, one TLB shootdown. Each slot is
 * reset as reset.c does, then goes back on its free list (freelist.c).
 * Locking is described in pool.h.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/sort.h>
#include <linux/wasmpool.h>

#include "image.h"
#include "pages.h"
#include "pool.h"
#include "sysfs.h"

/*
 * What stays mapped of a free slot's kept pages: all of them when warm,
 * wherever in the slot they lie (the next tenant's accessible size is not
 * known yet: wp_pool_slot_alloc() unmaps what lies above it).
 */
static u64 wp_pool_free_keep_mapped(const struct wp_pool *pool)
{
	return pool->strict ? 0 : U64_MAX;
}

/*
 * Put a locked slot, its pages reset, back on its free list. A slot whose
 * image was released lets go of it (and is emptied): the image's memory
 * goes with the last slot that held it. @mapped_end: as returned by the
 * reset.
 */
static void wp_pool_release_slot(struct wp_pool *pool, u32 idx, u64 mapped_end)
{
	struct wp_slot *slot = &pool->slots[idx];
	struct wp_image *img;

	lockdep_assert_held_write(&slot->lock);
	slot->mapped_end = mapped_end;
	img = wp_slot_image(pool, idx);
	if (img && READ_ONCE(img->released))
		wp_image_slot_drop(pool, idx);
	spin_lock(&pool->lock);
	WRITE_ONCE(slot->state, WP_SLOT_FREE);
	wp_freelist_put(pool, idx);
	pool->slots_in_use--;
	atomic64_dec(&wp_global.slots_in_use);
	spin_unlock(&pool->lock);
}

/* Reset a locked slot to nothing and put it back on its free list. */
void wp_pool_put_slot(struct wp_pool *pool, u32 idx)
{
	struct wp_slot *slot = &pool->slots[idx];

	lockdep_assert_held_write(&slot->lock);
	WRITE_ONCE(slot->accessible, 0);
	/* Warm: the kept pages stay mapped, zeroed, for the next tenant. */
	wp_pool_release_slot(pool, idx,
			     wp_pages_reset(pool, idx, wp_pool_free_keep_mapped(pool)));
}

/*
 * Take allocated slots from their tenants, all or none: from now on
 * commands on them fail with ENOENT, and a racing free of one of them
 * cannot free it twice.
 */
static int wp_pool_claim(struct wp_pool *pool, const u32 *idx, u32 n)
{
	int ret = 0;
	u32 i;

	spin_lock(&pool->lock);
	for (i = 0; i < n; i++) {
		if (READ_ONCE(pool->slots[idx[i]].state) != WP_SLOT_USED)
			break;
		WRITE_ONCE(pool->slots[idx[i]].state, WP_SLOT_FREEING);
	}
	if (i < n) {
		/* One is not allocated: give back those claimed. */
		while (i--)
			WRITE_ONCE(pool->slots[idx[i]].state, WP_SLOT_USED);
		ret = -ENOENT;
	}
	spin_unlock(&pool->lock);
	return ret;
}

/* Slots between two freed ones that a merged unmap may sweep over. */
#define WP_MERGE_GAP	64
/*
 * Pages of the file a merged unmap may span: a zap walks the page tables
 * of the whole range, which in a layout of 4 GiB reservations (Wasmtime's
 * default) costs more than the shootdowns a merge saves - measured: batch
 * frees of 16 such slots in one thread at half the speed of single frees.
 */
#define WP_MERGE_MAX_PAGES	(SZ_1G >> PAGE_SHIFT)

/**
 * struct wp_unmap_run - a range of the mapping to unmap, growing over
 * slots that lie next to each other
 * @first: the first page offset in the file
 * @end: one past the last; 0 while the run is empty
 * @last_slot: the slot whose span ends the run
 * @merge: the owner has other threads: neighbours join a run
 */
struct wp_unmap_run {
	pgoff_t first;
	pgoff_t end;
	u32 last_slot;
	bool merge;
};

/*
 * Nothing is mapped in the slots strictly between @from and @to (a bound
 * read without their locks: unmapping a slot in use only makes its next
 * touch fault the same pages back in, so a stale answer costs time, never
 * correctness).
 */
static bool wp_pool_gap_unmapped(struct wp_pool *pool, u32 from, u32 to)
{
	u32 j;

	if (to - from > WP_MERGE_GAP + 1)
		return false;
	for (j = from + 1; j < to; j++) {
		struct wp_slot *slot = &pool->slots[j];

		if (READ_ONCE(slot->mapped_end) &&
		    (atomic_read(&slot->resident) || READ_ONCE(slot->zero_mapped) ||
		     READ_ONCE(slot->image_mapped)))
			return false;
	}
	return true;
}

static void wp_pool_run_flush(struct wp_pool *pool, struct wp_unmap_run *run)
{
	wp_pages_unmap(pool, run->first, run->end);
	run->end = 0;
}

/*
 * Add slot @idx's span [first, end) to the run: a span that starts at its
 * slot (nothing of it stays mapped) joins the run when nothing is mapped
 * between them; otherwise the run is unmapped and a new one starts.
 */
static void wp_pool_run_add(struct wp_pool *pool, struct wp_unmap_run *run,
			    u32 idx, pgoff_t first, pgoff_t end)
{
	if (end <= first)
		return;
	if (run->merge && run->end &&
	    first == wp_slot_offset(pool, idx) >> PAGE_SHIFT &&
	    end - run->first <= WP_MERGE_MAX_PAGES &&
	    wp_pool_gap_unmapped(pool, run->last_slot, idx)) {
		run->end = end;
		run->last_slot = idx;
		return;
	}
	wp_pool_run_flush(pool, run);
	run->first = first;
	run->end = end;
	run->last_slot = idx;
}

static int wp_pool_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * The three passes of a free of @n > 1 claimed slots, sorted: every slot's
 * accessible size drops to 0 (so no fault maps anything in it from then
 * on) and its span to unmap is noted; the spans are unmapped, those of
 * neighbouring slots in one range (one TLB flush) when the owner has
 * other threads; then every slot's kept pages are zeroed, the others
 * freed, and the slot goes back on its free list.
 */
static void wp_pool_free_claimed(struct wp_pool *pool, const u32 *idx, u32 n)
{
	u64 keep_mapped = wp_pool_free_keep_mapped(pool);
	/*
	 * A range above 33 pages flushes the whole TLB (x86): worth it when
	 * that is one shootdown to the CPUs of the owner's other threads
	 * instead of one per slot, not in a single-threaded owner, whose
	 * flushes of a few pages each stay on this CPU.
	 */
	struct wp_unmap_run run = {
		.merge = atomic_read(&pool->mm->mm_users) > 1,
	};
	pgoff_t first, end;
	u32 i;

	for (i = 0; i < n; i++) {
		struct wp_slot *slot = &pool->slots[idx[i]];

		down_write(&slot->lock);
		WRITE_ONCE(slot->accessible, 0);
		wp_pages_reset_span(pool, idx[i], keep_mapped, &first, &end);
		up_write(&slot->lock);
		wp_pool_run_add(pool, &run, idx[i], first, end);
		cond_resched();
	}
	wp_pool_run_flush(pool, &run);

	for (i = 0; i < n; i++) {
		struct wp_slot *slot = &pool->slots[idx[i]];

		down_write(&slot->lock);
		wp_pool_release_slot(pool, idx[i],
				     wp_pages_reset_finish(pool, idx[i], keep_mapped));
		up_write(&slot->lock);
		cond_resched();
	}
}

/**
 * wp_pool_slots_free() - reset slots and return them to their free lists
 * @pool: the pool
 * @idx: the slots, in any order; sorted in place
 * @n: how many, at least 1
 *
 * All or none: the slots are claimed together first. One slot is reset
 * under one hold of its lock; more go through wp_pool_free_claimed().
 *
 * Context: process context.
 * Return: 0, -EINVAL (an index out of range or given twice) or -ENOENT (a
 * slot not allocated).
 */
int wp_pool_slots_free(struct wp_pool *pool, u32 *idx, u32 n)
{
	u32 i;
	int ret;

	if (n > 1)
		sort(idx, n, sizeof(*idx), wp_pool_cmp_u32, NULL);
	if (idx[n - 1] >= pool->layout.num_slots)
		return -EINVAL;
	for (i = 1; i < n; i++)
		if (idx[i] == idx[i - 1])
			return -EINVAL;
	ret = wp_pool_claim(pool, idx, n);
	if (ret)
		return ret;
	if (n == 1) {
		down_write(&pool->slots[idx[0]].lock);
		wp_pool_put_slot(pool, idx[0]);
		up_write(&pool->slots[idx[0]].lock);
	} else {
		wp_pool_free_claimed(pool, idx, n);
	}
	atomic64_add(n, &pool->resets);
	atomic64_add(n, &wp_global.resets);
	return 0;
}

/**
 * wp_pool_slot_free() - reset a slot and return it to its free list
 * @pool: the pool
 * @idx: an allocated slot
 *
 * Context: process context.
 * Return: 0, -EINVAL (bad index) or -ENOENT (not allocated).
 */
int wp_pool_slot_free(struct wp_pool *pool, u32 idx)
{
	return wp_pool_slots_free(pool, &idx, 1);
}
