// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pool object: configuration, owner, slot states, counters; slot
 * alloc / grow / reset (frees: free.c; free lists: freelist.c). Locking is
 * described in pool.h.
 *
 * Lifetime: a pool is created by WASMPOOL_IOC_CONFIGURE and hangs off its
 * file; every VMA of it holds a reference to the file, so the pool lives
 * until the file is closed and unmapped, and wp_pool_destroy() runs from the
 * file's release with no mapping left.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/overflow.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wasmpool.h>

#include "compat.h"
#include "image.h"
#include "pages.h"
#include "pkeys.h"
#include "pool.h"
#include "sysfs.h"

#define WP_CONFIGURE_FLAGS (WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS |		\
			    WASMPOOL_CONFIGURE_DEFAULT_KEEP_RESIDENT |	\
			    WASMPOOL_CONFIGURE_DEFAULT_PKEY_MODE |		\
			    WASMPOOL_CONFIGURE_STRICT |			\
			    WASMPOOL_CONFIGURE_POPULATE_AHEAD |		\
			    WASMPOOL_CONFIGURE_ZERO_PAGE)

static int wp_pool_check_config(const struct wasmpool_configure *cfg)
{
	if (cfg->flags & ~WP_CONFIGURE_FLAGS)
		return -EOPNOTSUPP;
	if (cfg->pkey_mode > WASMPOOL_PKEYS_REQUIRE)
		return -EOPNOTSUPP;
	if (!cfg->num_slots || cfg->num_slots > WASMPOOL_MAX_SLOTS ||
	    !cfg->max_memory_bytes)
		return -EINVAL;
	return 0;
}

/* The layout is Wasmtime's, in 4 KiB pages, and so are the page indexes. */
static_assert(PAGE_SIZE == WP_LAYOUT_PAGE_SIZE,
	      "wasmpool supports kernels with 4 KiB pages only");

/* Keys the configuration asks for: max_pkeys, or every key but key 0. */
static u32 wp_pool_keys_wanted(const struct wasmpool_configure *cfg)
{
	u32 all = wp_pkeys_total() ? wp_pkeys_total() - 1 : 0;

	all = min_t(u32, all, WASMPOOL_MAX_STRIPES);
	return cfg->max_pkeys ? min(cfg->max_pkeys, all) : all;
}

/* A request refused by an admin limit: count it and say which. */
static int wp_pool_limit_hit(const char *limit, u64 value, u64 max)
{
	atomic64_inc(&wp_global.limit_hits);
	pr_info_ratelimited("%s[%d]: %llu exceeds the limit %s=%llu (/sys/class/misc/wasmpool/%s)\n",
			    current->comm, task_pid_nr(current), value, limit,
			    max, limit);
	return -EDQUOT;
}

/* The admin limits on one pool's layout, after the pure layout. */
static int wp_pool_check_limits(const struct wp_layout *l)
{
	u64 max = READ_ONCE(wp_limits.max_slots_per_pool);

	if (max && l->num_slots > max)
		return wp_pool_limit_hit("max_slots_per_pool", l->num_slots, max);
	max = READ_ONCE(wp_limits.max_reserved_bytes_per_pool);
	if (max && l->total_bytes > max)
		return wp_pool_limit_hit("max_reserved_bytes_per_pool",
					 l->total_bytes, max);
	return 0;
}

static void wp_pool_free(struct wp_pool *pool)
{
	wp_freelist_destroy(pool);
	kvfree(pool->slots);
	kfree(pool);
}

/*
 * The part of configuring that depends on the keys: with @pkeys, under the
 * owner's mmap_lock held for write, take as many keys as the configuration
 * wants and the process has (as pkey_alloc() would), compute the layout
 * with them and give back those the layout does not use. Then the limits
 * of the address space, then the slots and free lists.
 */
static int wp_pool_setup(struct wp_pool *pool, struct wasmpool_configure *cfg,
			 bool pkeys)
{
	struct mm_struct *mm = current->mm;
	struct wp_layout_in in = {
		.max_memory_bytes = cfg->max_memory_bytes,
		.num_slots = cfg->num_slots,
		.reservation_bytes = cfg->reservation_bytes,
		.guard_bytes = cfg->guard_bytes,
		.guard_before_slots = cfg->flags & WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS,
	};
	u8 keys[WASMPOOL_MAX_STRIPES];
	struct wp_layout l, full;
	u32 got = 0, i;
	u64 keep;
	int ret;

	if (pkeys)
		got = wp_pkeys_alloc_upto_locked(mm, wp_pool_keys_wanted(cfg), keys);
	in.num_pkeys = got;
	ret = wp_layout_compute(&in, &l);
	if (ret)
		goto free_keys;
	if (cfg->pkey_mode == WASMPOOL_PKEYS_REQUIRE) {
		/* All the keys the layout can use, or fail. */
		in.num_pkeys = wp_pool_keys_wanted(cfg);
		ret = wp_layout_compute(&in, &full);
		if (ret)
			goto free_keys;
		if (full.num_stripes > l.num_stripes) {
			pr_info_ratelimited("%s[%d]: a pool needs %llu protection keys, the process has %u free\n",
					    current->comm, task_pid_nr(current),
					    full.num_stripes, got);
			ret = -ENOSPC;
			goto free_keys;
		}
	}
	if (cfg->flags & WASMPOOL_CONFIGURE_DEFAULT_KEEP_RESIDENT)
		cfg->keep_resident_bytes =
			min(READ_ONCE(wp_limits.default_keep_resident_bytes),
			    l.max_memory_bytes);
	keep = round_up(cfg->keep_resident_bytes, PAGE_SIZE);
	if (cfg->keep_resident_bytes > l.max_memory_bytes ||
	    keep > l.max_memory_bytes) {
		ret = -EINVAL;
		goto free_keys;
	}
	if (l.total_bytes > TASK_SIZE) {
		pr_info_ratelimited("%s[%d]: a pool of %llu bytes does not fit the address space (%lu bytes)\n",
				    current->comm, task_pid_nr(current),
				    l.total_bytes, TASK_SIZE);
		ret = -ENOMEM;
		goto free_keys;
	}
	ret = wp_pool_check_limits(&l);
	if (ret)
		goto free_keys;

	/* Keep the keys of the stripes, give back the rest. */
	if (l.num_stripes > 1)
		memcpy(pool->pkeys, keys, l.num_stripes);
	for (i = l.num_stripes > 1 ? l.num_stripes : 0; i < got; i++)
		mm_pkey_free(mm, keys[i]);

	pool->layout = l;
	pool->keep_resident = keep;
	pool->strict = cfg->flags & WASMPOOL_CONFIGURE_STRICT;
	pool->populate_ahead = cfg->flags & WASMPOOL_CONFIGURE_POPULATE_AHEAD;
	pool->zero_page = cfg->flags & WASMPOOL_CONFIGURE_ZERO_PAGE;
	wp_freelist_init(pool);
	return 0;

free_keys:
	for (i = 0; i < got; i++)
		mm_pkey_free(mm, keys[i]);
	return ret;
}

/**
 * wp_pool_create() - carry out WASMPOOL_IOC_CONFIGURE
 * @cfg: the request; its layout and stripe keys are filled on success
 * @mapping: the file's private address space
 * @out: the new pool
 *
 * The bookkeeping is allocated first, sized by the number of slots alone.
 * With protection keys, the keys and the layout that depends on them are
 * settled under the owner's mmap_lock (see wp_pool_setup()). The pool and
 * its keys belong to current->mm.
 *
 * Context: process context.
 * Return: 0 or -errno as documented for WASMPOOL_IOC_CONFIGURE.
 */
int wp_pool_create(struct wasmpool_configure *cfg,
		   struct address_space *mapping, struct wp_pool **out)
{
	struct mm_struct *mm = current->mm;
	bool pkeys = cfg->pkey_mode != WASMPOOL_PKEYS_OFF && wp_pkeys_total();
	struct wp_pool *pool;
	u32 i;
	int ret;

	u64 max_pools = READ_ONCE(wp_limits.max_pools);

	if (cfg->flags & WASMPOOL_CONFIGURE_DEFAULT_PKEY_MODE) {
		cfg->pkey_mode = READ_ONCE(wp_limits.default_pkey_mode);
		pkeys = cfg->pkey_mode != WASMPOOL_PKEYS_OFF && wp_pkeys_total();
	}
	ret = wp_pool_check_config(cfg);
	if (ret)
		return ret;
	if (cfg->pkey_mode == WASMPOOL_PKEYS_REQUIRE && !pkeys)
		return -EOPNOTSUPP;
	/* Count the pool now, so that racing configures see the limit. */
	if (atomic64_inc_return(&wp_global.pools) > max_pools && max_pools) {
		atomic64_dec(&wp_global.pools);
		return wp_pool_limit_hit("max_pools", max_pools + 1, max_pools);
	}

	pool = kzalloc(sizeof(*pool), GFP_KERNEL_ACCOUNT);
	if (!pool)
		goto uncount;
	pool->slots = kvcalloc(cfg->num_slots, sizeof(*pool->slots),
			       GFP_KERNEL_ACCOUNT);
	if (!pool->slots || wp_freelist_alloc(pool, cfg->num_slots)) {
		wp_pool_free(pool);
		goto uncount;
	}
	for (i = 0; i < cfg->num_slots; i++) {
		init_rwsem(&pool->slots[i].lock);
		xa_init_flags(&pool->slots[i].pages, XA_FLAGS_ACCOUNT);
		pool->slots[i].state = WP_SLOT_FREE;
	}

	if (pkeys)
		mmap_write_lock(mm);
	ret = wp_pool_setup(pool, cfg, pkeys);
	if (pkeys)
		mmap_write_unlock(mm);
	if (ret) {
		wp_pool_free(pool);
		atomic64_dec(&wp_global.pools);
		return ret;
	}

	pool->mapping = mapping;
	spin_lock_init(&pool->lock);
	mutex_init(&pool->apply_lock);
	atomic_set(&pool->map_count, 0);
	pool->metadata_bytes = sizeof(*pool) +
		pool->layout.num_slots * sizeof(*pool->slots) +
		(sizeof(*pool->affinity) << pool->affinity_bits);
	pool->max_resident_pages =
		READ_ONCE(wp_limits.max_resident_bytes_per_pool) >> PAGE_SHIFT;
	wp_image_pool_init(pool);
	mmgrab(mm);
	pool->mm = mm;
	if (wp_pool_striped(pool))
		atomic64_add(pool->layout.num_stripes, &wp_global.keys_in_use);

	wp_layout_to_uapi(&pool->layout, &cfg->layout);
	memset(cfg->stripe_pkeys, 0, sizeof(cfg->stripe_pkeys));
	if (wp_pool_striped(pool))
		memcpy(cfg->stripe_pkeys, pool->pkeys, pool->layout.num_stripes);
	*out = pool;
	return 0;

uncount:
	atomic64_dec(&wp_global.pools);
	return -ENOMEM;
}

/**
 * wp_pool_unmapped() - the last mapping of the pool went away
 * @pool: the pool
 *
 * Frees every page: nothing can reach them any more. Slots keep their
 * state; a new mapping sees zeroes.
 *
 * Context: the owner's mmap_lock held (vm_operations.close), or the pool is
 * being destroyed.
 */
void wp_pool_unmapped(struct wp_pool *pool)
{
	u32 i;

	for (i = 0; i < pool->layout.num_slots; i++) {
		struct wp_slot *slot = &pool->slots[i];

		if (!atomic_read(&slot->resident) && !slot->zero_mapped &&
		    !slot->image_mapped)
			continue;
		down_write(&slot->lock);
		slot->zero_mapped = false;	/* no PTE is left */
		slot->image_mapped = false;
		wp_pages_release(pool, i);
		up_write(&slot->lock);
		cond_resched();
	}
}

/**
 * wp_pool_destroy() - free a pool and everything it holds
 * @pool: the pool; no mapping of it is left
 *
 * Context: process context (file release).
 */
void wp_pool_destroy(struct wp_pool *pool)
{
	u32 i;

	wp_pool_unmapped(pool);
	/* No PTE is left: the images can go. */
	wp_image_pool_destroy(pool);
	/* No page is left; the indexes may hold reserved entries (pages.c). */
	for (i = 0; i < pool->layout.num_slots; i++) {
		struct xarray *pages = &pool->slots[i].pages;
		unsigned long index = 0;

		WARN_ON_ONCE(xa_find(pages, &index, ULONG_MAX, XA_PRESENT));
		xa_destroy(pages);
		cond_resched();
	}
	if (wp_pool_striped(pool)) {
		wp_pkeys_release(pool->mm, pool->layout.num_stripes, pool->pkeys);
		atomic64_sub(pool->layout.num_stripes, &wp_global.keys_in_use);
	}
	mutex_destroy(&pool->apply_lock);
	atomic64_sub(pool->slots_in_use, &wp_global.slots_in_use);
	atomic64_dec(&wp_global.pools);
	mmdrop(pool->mm);
	wp_pool_free(pool);
}

/**
 * wp_pool_round_size() - check and round an accessible size
 * @pool: the pool
 * @bytes: in: a requested accessible size; out: rounded up to pages
 *
 * Context: any.
 * Return: 0, or -ERANGE above the pool's max memory.
 */
int wp_pool_round_size(struct wp_pool *pool, u64 *bytes)
{
	if (*bytes > pool->layout.max_memory_bytes)
		return -ERANGE;
	*bytes = round_up(*bytes, PAGE_SIZE);
	return 0;
}

/**
 * wp_pool_slot_alloc() - take a free slot
 * @pool: the pool
 * @req: the request (see &struct wp_alloc)
 *
 * The policy (affinity, warm, cold) is freelist.c's. The slot is
 * WP_SLOT_RESERVED until wp_pool_slot_commit(). A concurrent fault on it
 * sees 0 or the new size: both are right. Kept pages of a warm slot above
 * the new size are still mapped: they are unmapped here, before anyone
 * learns of the slot. So is the whole slot when it held another image than
 * the one asked for (or none): it is emptied and takes the new image.
 *
 * Context: process context.
 * Return: 0, -ERANGE, -EINVAL (no such stripe, or a size below the image)
 * or -ENOSPC (none free).
 */
int wp_pool_slot_alloc(struct wp_pool *pool, struct wp_alloc *req)
{
	u32 n = pool->layout.num_stripes, idx;
	struct wp_slot *slot;
	int ret;

	ret = wp_pool_round_size(pool, &req->accessible);
	if (ret)
		return ret;
	if (req->stripe != WP_ANY_STRIPE && req->stripe >= n)
		return -EINVAL;
	if (req->image && req->accessible < wp_image_bytes(req->image))
		return -EINVAL;
	/* Until every slot carries its key, no slot of a striped pool. */
	if (n > 1 && !READ_ONCE(pool->keys_applied))
		return -EBADFD;

	spin_lock(&pool->lock);
	idx = wp_freelist_take(pool, req->stripe, req->keyed, req->affinity,
			       &req->reuse);
	if (idx != WP_NO_SLOT) {
		slot = &pool->slots[idx];
		WRITE_ONCE(slot->state, WP_SLOT_RESERVED);
		WRITE_ONCE(slot->accessible, req->accessible);
		pool->slots_in_use++;
		atomic64_inc(&wp_global.slots_in_use);
	}
	spin_unlock(&pool->lock);
	if (idx == WP_NO_SLOT)
		return -ENOSPC;

	/* Another image, or none: nothing of the last tenant's stays. */
	if (wp_slot_image(pool, idx) != req->image) {
		down_write(&slot->lock);
		wp_image_slot_drop(pool, idx);
		wp_image_slot_set(pool, idx, &req->image);
		up_write(&slot->lock);
		req->reuse = WASMPOOL_SLOT_COLD;
	}
	/* A warm slot given less room than it had: only what is above goes. */
	if (slot->mapped_end > req->accessible) {
		down_write(&slot->lock);
		wp_pages_unmap_above(pool, idx, req->accessible, slot->mapped_end);
		up_write(&slot->lock);
	}
	slot->mapped_end = req->accessible;
	req->stripe = idx % n;
	req->slot = idx;
	return 0;
}

/* Lock an allocated slot for a command; -EINVAL / -ENOENT otherwise. */
static int wp_pool_lock_used(struct wp_pool *pool, u32 idx)
{
	if (idx >= pool->layout.num_slots)
		return -EINVAL;
	down_write(&pool->slots[idx].lock);
	if (READ_ONCE(pool->slots[idx].state) != WP_SLOT_USED) {
		up_write(&pool->slots[idx].lock);
		return -ENOENT;
	}
	return 0;
}

/* Round @accessible (grow, reset) and lock an allocated slot for it. */
static int wp_pool_lock_resize(struct wp_pool *pool, u32 idx, u64 *accessible)
{
	int ret = wp_pool_round_size(pool, accessible);

	return ret ?: wp_pool_lock_used(pool, idx);
}

/**
 * wp_pool_slot_grow() - raise a slot's accessible size
 * @pool: the pool
 * @idx: an allocated slot
 * @accessible: in: the new size; out: rounded to pages
 *
 * No mapping changes: the fault handler serves the new pages.
 *
 * Context: process context.
 * Return: 0, -ERANGE, -EINVAL (smaller than now, bad index) or -ENOENT.
 */
int wp_pool_slot_grow(struct wp_pool *pool, u32 idx, u64 *accessible)
{
	struct wp_slot *slot;
	int ret;

	ret = wp_pool_lock_resize(pool, idx, accessible);
	if (ret)
		return ret;
	slot = &pool->slots[idx];
	if (*accessible < slot->accessible) {
		ret = -EINVAL;
	} else {
		WRITE_ONCE(slot->accessible, *accessible);
		slot->mapped_end = max(slot->mapped_end, *accessible);
	}
	up_write(&slot->lock);
	return ret;
}

/**
 * wp_pool_slot_reset() - zero a slot for a new tenant
 * @pool: the pool
 * @idx: an allocated slot
 * @accessible: in: the accessible size after the reset; out: rounded
 *
 * A slot with a memory image gets the image back (pages.c, image.h).
 *
 * Context: process context.
 * Return: 0, -ERANGE, -EINVAL (bad index, a size below the slot's image)
 * or -ENOENT.
 */
int wp_pool_slot_reset(struct wp_pool *pool, u32 idx, u64 *accessible)
{
	struct wp_image *img;
	struct wp_slot *slot;
	int ret;

	ret = wp_pool_lock_resize(pool, idx, accessible);
	if (ret)
		return ret;
	slot = &pool->slots[idx];
	img = wp_slot_image(pool, idx);
	if (img && *accessible < wp_image_bytes(img)) {
		up_write(&slot->lock);
		return -EINVAL;
	}
	WRITE_ONCE(slot->accessible, *accessible);
	wp_pages_reset(pool, idx, pool->strict ? 0 : *accessible);
	slot->mapped_end = *accessible;
	atomic64_inc(&pool->resets);
	atomic64_inc(&wp_global.resets);
	up_write(&slot->lock);
	return 0;
}

/**
 * wp_pool_slot_commit() - hand a slot just allocated to the caller
 * @pool: the pool
 * @req: the request wp_pool_slot_alloc() answered, told to the caller
 *
 * Until now commands on the slot fail with ENOENT, as on a free slot, and
 * the slot keeps the affinity of its last tenant (wp_pool_slot_unalloc()
 * puts it back as it was).
 *
 * Context: process context, the task that allocated the slot.
 */
void wp_pool_slot_commit(struct wp_pool *pool, const struct wp_alloc *req)
{
	struct wp_slot *slot = &pool->slots[req->slot];
	bool hit = req->reuse == WASMPOOL_SLOT_WARM_HIT;

	slot->keyed = req->keyed;
	slot->affinity = req->affinity;
	if (req->keyed) {
		atomic64_inc(hit ? &pool->warm_hits : &pool->warm_misses);
		atomic64_inc(hit ? &wp_global.warm_hits : &wp_global.warm_misses);
	}
	/* Only this task moves the slot out of WP_SLOT_RESERVED. */
	WRITE_ONCE(slot->state, WP_SLOT_USED);
}

/**
 * wp_pool_slot_unalloc() - undo wp_pool_slot_alloc()
 * @pool: the pool
 * @idx: the slot it returned, not committed
 *
 * For an allocation the caller could not be told of: the slot goes back
 * as if never taken (nothing is counted as a reset).
 *
 * Context: process context, the task that allocated the slot.
 */
void wp_pool_slot_unalloc(struct wp_pool *pool, u32 idx)
{
	down_write(&pool->slots[idx].lock);
	if (!WARN_ON_ONCE(READ_ONCE(pool->slots[idx].state) != WP_SLOT_RESERVED))
		wp_pool_put_slot(pool, idx);
	up_write(&pool->slots[idx].lock);
}

/**
 * wp_pool_stats() - read the pool's counters
 * @pool: the pool
 * @st: filled (size and flags untouched)
 *
 * Context: any process context.
 */
void wp_pool_stats(struct wp_pool *pool, struct wasmpool_stats *st)
{
	st->num_slots = pool->layout.num_slots;
	spin_lock(&pool->lock);
	st->slots_in_use = pool->slots_in_use;
	spin_unlock(&pool->lock);
	st->resident_bytes = (u64)atomic64_read(&pool->resident_pages) << PAGE_SHIFT;
	st->faults = atomic64_read(&pool->faults);
	st->pages_allocated = atomic64_read(&pool->pages_allocated);
	st->guard_faults = atomic64_read(&pool->guard_faults);
	st->resets = atomic64_read(&pool->resets);
	st->pages_cleared = atomic64_read(&pool->pages_cleared);
	st->pages_replaced = atomic64_read(&pool->pages_replaced);
	st->warm_hits = atomic64_read(&pool->warm_hits);
	st->warm_misses = atomic64_read(&pool->warm_misses);
	st->unmaps = atomic64_read(&pool->unmaps);
	st->faults_vma_locked = atomic64_read(&pool->faults_vma_locked);
	st->pages_freed = atomic64_read(&pool->pages_freed);
	st->metadata_bytes = READ_ONCE(pool->metadata_bytes);
	st->address = READ_ONCE(pool->address);
	st->images = atomic64_read(&pool->images_alive);
	st->image_bytes = (u64)atomic64_read(&pool->image_pages) << PAGE_SHIFT;
	st->image_copies = atomic64_read(&pool->image_copies);
}
