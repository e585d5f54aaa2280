// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pool object: configuration, owner, slot states and per-stripe free
 * lists, counters; slot alloc / grow / reset / free. Locking is described in
 * pool.h.
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

#include "pages.h"
#include "pkeys.h"
#include "pool.h"
#include "sysfs.h"

static int wp_pool_check_config(const struct wasmpool_configure *cfg)
{
	if (cfg->flags & ~WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS)
		return -EOPNOTSUPP;
	if (cfg->pkey_mode > WASMPOOL_PKEYS_REQUIRE)
		return -EOPNOTSUPP;
	if (!cfg->num_slots || cfg->num_slots > WASMPOOL_MAX_SLOTS ||
	    !cfg->max_memory_bytes)
		return -EINVAL;
	return 0;
}

/* Keys the configuration asks for: max_pkeys, or every key but key 0. */
static u32 wp_pool_keys_wanted(const struct wasmpool_configure *cfg)
{
	u32 all = wp_pkeys_total() ? wp_pkeys_total() - 1 : 0;

	return cfg->max_pkeys ? min(cfg->max_pkeys, all) : all;
}

/*
 * Create the pool with @free protection keys available (0: no stripes).
 * The pure layout comes first, then the keys, then the limits of the
 * address space, then the allocations, then the keys are taken.
 */
static int wp_pool_create_keyed(struct wasmpool_configure *cfg,
				struct address_space *mapping, u32 free,
				struct wp_pool **out)
{
	u32 avail = min(free, wp_pool_keys_wanted(cfg));
	struct wp_layout_in in = {
		.max_memory_bytes = cfg->max_memory_bytes,
		.num_slots = cfg->num_slots,
		.reservation_bytes = cfg->reservation_bytes,
		.guard_bytes = cfg->guard_bytes,
		.num_pkeys = min_t(u32, avail, WASMPOOL_MAX_STRIPES),
		.guard_before_slots = cfg->flags & WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS,
	};
	struct wp_pool *pool;
	struct wp_layout l, full;
	u64 keep;
	u32 i;
	int ret;

	ret = wp_layout_compute(&in, &l);
	if (ret)
		return ret;
	if (cfg->pkey_mode == WASMPOOL_PKEYS_REQUIRE) {
		/* All the keys the layout can use, or fail. */
		in.num_pkeys = min_t(u32, wp_pool_keys_wanted(cfg), WASMPOOL_MAX_STRIPES);
		ret = wp_layout_compute(&in, &full);
		if (ret)
			return ret;
		if (full.num_stripes > l.num_stripes) {
			pr_info_ratelimited("%s[%d]: a pool needs %llu protection keys, the process has %u free\n",
					    current->comm, task_pid_nr(current),
					    full.num_stripes, free);
			return -ENOSPC;
		}
	}
	keep = round_up(cfg->keep_resident_bytes, PAGE_SIZE);
	if (cfg->keep_resident_bytes > l.max_memory_bytes ||
	    keep > l.max_memory_bytes)
		return -EINVAL;
	if (l.total_bytes > TASK_SIZE) {
		pr_info_ratelimited("%s[%d]: a pool of %llu bytes does not fit the address space (%lu bytes)\n",
				    current->comm, task_pid_nr(current),
				    l.total_bytes, TASK_SIZE);
		return -ENOMEM;
	}

	pool = kzalloc(sizeof(*pool), GFP_KERNEL_ACCOUNT);
	if (!pool)
		return -ENOMEM;
	pool->slots = kvcalloc(l.num_slots, sizeof(*pool->slots),
			       GFP_KERNEL_ACCOUNT);
	if (!pool->slots)
		goto free_pool;
	pool->stripes = kcalloc(l.num_stripes, sizeof(*pool->stripes),
				GFP_KERNEL_ACCOUNT);
	if (!pool->stripes)
		goto free_slots;
	if (l.num_stripes > 1 &&
	    wp_pkeys_alloc_locked(current->mm, l.num_stripes, pool->pkeys))
		goto free_stripes;

	pool->layout = l;
	pool->keep_resident = keep;
	pool->mapping = mapping;
	xa_init(&pool->pages);
	spin_lock_init(&pool->lock);
	mutex_init(&pool->apply_lock);
	pool->metadata_bytes = sizeof(*pool) +
		l.num_slots * sizeof(*pool->slots) +
		l.num_stripes * sizeof(*pool->stripes);

	for (i = 0; i < l.num_stripes; i++)
		pool->stripes[i].free_head = WP_NO_SLOT;
	/* Push in reverse, so that the lowest slots come out first. */
	for (i = l.num_slots; i-- > 0; ) {
		struct wp_stripe *st = &pool->stripes[i % l.num_stripes];

		init_rwsem(&pool->slots[i].lock);
		pool->slots[i].state = WP_SLOT_FREE;
		pool->slots[i].next_free = st->free_head;
		st->free_head = i;
		st->free_count++;
	}

	mmgrab(current->mm);
	pool->mm = current->mm;
	atomic64_inc(&wp_global.pools);
	wp_layout_to_uapi(&l, &cfg->layout);
	memset(cfg->stripe_pkeys, 0, sizeof(cfg->stripe_pkeys));
	if (l.num_stripes > 1)
		memcpy(cfg->stripe_pkeys, pool->pkeys, l.num_stripes);
	*out = pool;
	return 0;

free_stripes:
	kfree(pool->stripes);
free_slots:
	kvfree(pool->slots);
free_pool:
	kfree(pool);
	return -ENOMEM;
}

/**
 * wp_pool_create() - carry out WASMPOOL_IOC_CONFIGURE
 * @cfg: the request; its layout is filled on success
 * @mapping: the file's private address space
 * @out: the new pool
 *
 * With protection keys, the keys free in current->mm at the time are what
 * the layout is computed with, and they are allocated with the pool. The
 * pool (and its keys) belong to current->mm.
 *
 * Context: process context.
 * Return: 0 or -errno as documented for WASMPOOL_IOC_CONFIGURE.
 */
int wp_pool_create(struct wasmpool_configure *cfg,
		   struct address_space *mapping, struct wp_pool **out)
{
	struct mm_struct *mm = current->mm;
	bool pkeys = cfg->pkey_mode != WASMPOOL_PKEYS_OFF && wp_pkeys_total();
	int ret;

	ret = wp_pool_check_config(cfg);
	if (ret)
		return ret;
	if (cfg->pkey_mode == WASMPOOL_PKEYS_REQUIRE && !pkeys)
		return -EOPNOTSUPP;
	if (!pkeys)
		return wp_pool_create_keyed(cfg, mapping, 0, out);

	/* The keys free now are the keys the pool gets: hold the lock. */
	mmap_write_lock(mm);
	ret = wp_pool_create_keyed(cfg, mapping, wp_pkeys_free_locked(mm), out);
	mmap_write_unlock(mm);
	return ret;
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

		if (!atomic_read(&slot->resident))
			continue;
		down_write(&slot->lock);
		wp_pages_release(pool, i);
		up_write(&slot->lock);
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
	wp_pool_unmapped(pool);
	WARN_ON_ONCE(!xa_empty(&pool->pages));
	xa_destroy(&pool->pages);
	if (wp_pool_striped(pool))
		wp_pkeys_release(pool->mm, pool->layout.num_stripes, pool->pkeys);
	mutex_destroy(&pool->apply_lock);
	atomic64_sub(pool->slots_in_use, &wp_global.slots_in_use);
	atomic64_dec(&wp_global.pools);
	mmdrop(pool->mm);
	kfree(pool->stripes);
	kvfree(pool->slots);
	kfree(pool);
}

/* Round a requested size up to pages; ERANGE above max memory. */
static int wp_pool_size(struct wp_pool *pool, u64 *bytes)
{
	if (*bytes > pool->layout.max_memory_bytes)
		return -ERANGE;
	*bytes = round_up(*bytes, PAGE_SIZE);
	return 0;
}

/*
 * Take the first free slot of @stripe. The slot is free, so nothing maps it
 * and a concurrent fault on it sees 0 or the new size: both are right.
 */
static u32 wp_pool_pop(struct wp_pool *pool, u32 stripe, u64 accessible)
{
	struct wp_stripe *st = &pool->stripes[stripe];
	u32 idx = st->free_head;

	lockdep_assert_held(&pool->lock);
	if (idx == WP_NO_SLOT)
		return WP_NO_SLOT;
	st->free_head = pool->slots[idx].next_free;
	st->free_count--;
	WRITE_ONCE(pool->slots[idx].state, WP_SLOT_USED);
	WRITE_ONCE(pool->slots[idx].accessible, accessible);
	pool->slots_in_use++;
	atomic64_inc(&wp_global.slots_in_use);
	return idx;
}

/**
 * wp_pool_slot_alloc() - take a free slot
 * @pool: the pool
 * @accessible: in: the initial accessible size; out: rounded to pages
 * @stripe: in: the stripe wanted (with !@any_stripe); out: the slot's stripe
 * @any_stripe: take a slot of any stripe
 * @slot: out: the slot
 *
 * Context: process context.
 * Return: 0, -ERANGE, -EINVAL (no such stripe) or -ENOSPC (none free).
 */
int wp_pool_slot_alloc(struct wp_pool *pool, u64 *accessible, u32 *stripe,
		       bool any_stripe, u32 *slot)
{
	u32 n = pool->layout.num_stripes, i, idx = WP_NO_SLOT;
	int ret;

	ret = wp_pool_size(pool, accessible);
	if (ret)
		return ret;
	if (!any_stripe && *stripe >= n)
		return -EINVAL;
	/* Until every slot carries its key, no slot of a striped pool. */
	if (n > 1 && !READ_ONCE(pool->keys_applied))
		return -EBADFD;

	spin_lock(&pool->lock);
	if (!any_stripe) {
		idx = wp_pool_pop(pool, *stripe, *accessible);
	} else {
		/* Spread allocations over the stripes. */
		for (i = 0; i < n && idx == WP_NO_SLOT; i++)
			idx = wp_pool_pop(pool, (pool->next_stripe + i) % n,
					  *accessible);
		if (idx != WP_NO_SLOT)
			pool->next_stripe = (idx % n + 1) % n;
	}
	spin_unlock(&pool->lock);
	if (idx == WP_NO_SLOT)
		return -ENOSPC;

	*stripe = idx % n;
	*slot = idx;
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

	ret = wp_pool_size(pool, accessible);
	if (ret)
		return ret;
	ret = wp_pool_lock_used(pool, idx);
	if (ret)
		return ret;
	slot = &pool->slots[idx];
	if (*accessible < slot->accessible)
		ret = -EINVAL;
	else
		WRITE_ONCE(slot->accessible, *accessible);
	up_write(&slot->lock);
	return ret;
}

/**
 * wp_pool_slot_reset() - zero a slot for a new tenant
 * @pool: the pool
 * @idx: an allocated slot
 * @accessible: in: the accessible size after the reset; out: rounded
 *
 * Context: process context.
 * Return: 0, -ERANGE, -EINVAL (bad index) or -ENOENT.
 */
int wp_pool_slot_reset(struct wp_pool *pool, u32 idx, u64 *accessible)
{
	struct wp_slot *slot;
	int ret;

	ret = wp_pool_size(pool, accessible);
	if (ret)
		return ret;
	ret = wp_pool_lock_used(pool, idx);
	if (ret)
		return ret;
	slot = &pool->slots[idx];
	WRITE_ONCE(slot->accessible, *accessible);
	wp_pages_reset(pool, idx, *accessible);
	atomic64_inc(&pool->resets);
	up_write(&slot->lock);
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
	struct wp_stripe *st;
	struct wp_slot *slot;
	int ret;

	ret = wp_pool_lock_used(pool, idx);
	if (ret)
		return ret;
	slot = &pool->slots[idx];
	WRITE_ONCE(slot->accessible, 0);
	wp_pages_reset(pool, idx, 0);
	atomic64_inc(&pool->resets);

	spin_lock(&pool->lock);
	st = &pool->stripes[idx % pool->layout.num_stripes];
	WRITE_ONCE(slot->state, WP_SLOT_FREE);
	slot->next_free = st->free_head;
	st->free_head = idx;
	st->free_count++;
	pool->slots_in_use--;
	atomic64_dec(&wp_global.slots_in_use);
	spin_unlock(&pool->lock);

	up_write(&slot->lock);
	return 0;
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
	st->pages_freed = atomic64_read(&pool->pages_freed);
	st->metadata_bytes = pool->metadata_bytes;
	st->address = READ_ONCE(pool->address);
}

/* The pool's only VMA is its whole first mapping, as mmap() made it. */
static bool wp_pool_mapped_whole(struct wp_pool *pool, struct file *filp,
				 unsigned long base)
{
	struct vm_area_struct *vma;

	mmap_assert_locked(pool->mm);
	vma = vma_lookup(pool->mm, base);
	return vma && vma->vm_file == filp && vma->vm_start == base &&
	       vma->vm_end - base == pool->layout.total_bytes &&
	       pool->map_count == 1;
}

/**
 * wp_pool_apply_keys() - give every slot a VMA with its stripe's key
 * @pool: the pool, mapped
 * @filp: the pool's file
 * @vmas: out: the VMAs of the pool afterwards
 *
 * Maps each slot anew over the pool's mapping (MAP_FIXED, same file and
 * offset), so that ->mmap() sets the slot's key on a VMA of its own.
 * vm_mmap() takes mmap_lock itself: no lock of ours is held across it but
 * @pool->apply_lock, which no fault or ->mmap() takes.
 *
 * Context: process context, the pool's owner.
 * Return: 0, -EINVAL (not mapped), -EALREADY, -EBUSY (the mapping changed
 * under us), -ENOMEM (vm.max_map_count reached: the pool is unmapped), or
 * another error of vm_mmap() (the pool is unmapped as well).
 */
int wp_pool_apply_keys(struct wp_pool *pool, struct file *filp, u64 *vmas)
{
	const struct wp_layout *l = &pool->layout;
	struct mm_struct *mm = pool->mm;
	unsigned long base, addr;
	long ret = 0;
	u32 i;

	if (!wp_pool_striped(pool)) {
		*vmas = READ_ONCE(pool->map_count);
		return 0;
	}

	mutex_lock(&pool->apply_lock);
	mmap_read_lock(mm);
	base = pool->address;
	if (!base)
		ret = -EINVAL;
	else if (pool->keys_applied)
		ret = -EALREADY;
	else if (!wp_pool_mapped_whole(pool, filp, base))
		ret = -EBUSY;
	mmap_read_unlock(mm);
	if (ret)
		goto unlock;

	pool->applying = current;
	for (i = 0; i < l->num_slots; i++) {
		u64 off = wp_slot_offset(pool, i);

		addr = vm_mmap(filp, base + off, l->slot_bytes,
			       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, off);
		if (IS_ERR_VALUE(addr)) {
			ret = (long)addr;
			break;
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	pool->applying = NULL;

	if (ret) {
		if (ret == -ENOMEM)
			pr_info_ratelimited("%s[%d]: a striped pool of %llu slots needs a mapping per slot: vm.max_map_count is too low; the pool was unmapped\n",
					    current->comm, task_pid_nr(current),
					    l->num_slots);
		vm_munmap(base, l->total_bytes);
		goto unlock;
	}

	mmap_write_lock(mm);
	if (READ_ONCE(pool->address) == base && pool->map_count >= l->num_slots)
		WRITE_ONCE(pool->keys_applied, true);
	else
		ret = -EBUSY;
	*vmas = pool->map_count;
	mmap_write_unlock(mm);
unlock:
	mutex_unlock(&pool->apply_lock);
	return ret;
}
