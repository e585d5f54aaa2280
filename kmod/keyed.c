// SPDX-License-Identifier: GPL-2.0-only
/*
 * Keyed mappings: WASMPOOL_IOC_APPLY_KEYS gives every slot of a striped
 * pool a VMA of its own carrying its stripe's protection key (a VMA carries
 * one key), and checks that a range of the owner's address space is the
 * pool's. Locking is described in pool.h; the slot mappings themselves are
 * made by vm_mmap() and land in ->mmap() (mmap.c).
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "compat.h"
#include "pool.h"

/*
 * Every VMA in [@addr, @end) is @file's, at the file offset of its distance
 * from @base; with @holes, gaps between them are allowed, else the VMAs
 * must cover the range.
 */
static bool wp_pool_walk_range(struct wp_pool *pool, struct file *file,
			       unsigned long base, unsigned long addr,
			       unsigned long end, bool holes)
{
	struct vm_area_struct *vma;

	wp_mmap_assert_locked(pool->mm);
	while (addr < end) {
		vma = find_vma(pool->mm, addr);
		if (!vma || vma->vm_start >= end)
			return holes;
		if (vma->vm_start > addr) {
			if (!holes)
				return false;
			addr = vma->vm_start;
		}
		if (vma->vm_file != file ||
		    ((u64)vma->vm_pgoff << PAGE_SHIFT) + (addr - vma->vm_start) !=
		    addr - base)
			return false;
		addr = vma->vm_end;
	}
	return true;
}

/**
 * wp_pool_maps_range() - is a range mapped by the pool, as mapped at @base?
 * @pool: the pool
 * @file: the pool's file
 * @base: where the pool's mapping starts
 * @addr: the start of the range
 * @len: its length
 *
 * Context: the owner's mmap_lock held.
 * Return: true when VMAs of @file cover [@addr, @addr + @len) without a
 * gap, each at the file offset of its distance from @base.
 */
bool wp_pool_maps_range(struct wp_pool *pool, struct file *file,
			unsigned long base, unsigned long addr, unsigned long len)
{
	return wp_pool_walk_range(pool, file, base, addr, addr + len, false);
}

/**
 * wp_pool_maps_range_or_holes() - is a range the pool's, but for holes?
 * @pool: the pool
 * @file: the pool's file
 * @base: where the pool's mapping starts
 *
 * A MAP_FIXED that fails after it unmapped what it replaces leaves a hole
 * (the kernel cannot restore the old VMA): WASMPOOL_IOC_APPLY_KEYS resumes
 * over holes too, filling them with MAP_FIXED_NOREPLACE.
 *
 * Context: the owner's mmap_lock held.
 * Return: true when every VMA in the pool's range at @base is @file's at the
 * file offset of its distance from @base.
 */
static bool wp_pool_maps_range_or_holes(struct wp_pool *pool, struct file *file,
					unsigned long base)
{
	return wp_pool_walk_range(pool, file, base, base,
				  base + pool->layout.total_bytes, true);
}

/* Slot @idx of the pool at @base has a VMA of its own with its key. */
static bool wp_pool_slot_keyed(struct wp_pool *pool, struct file *filp,
			       unsigned long base, u32 idx)
{
	const struct wp_layout *l = &pool->layout;
	unsigned long addr = base + wp_slot_offset(pool, idx);
	struct vm_area_struct *vma = vma_lookup(pool->mm, addr);

	return vma && vma->vm_start == addr &&
	       vma->vm_end - addr == l->slot_bytes &&
	       wp_pool_maps_range(pool, filp, base, addr, l->slot_bytes) &&
	       wp_vma_pkey(vma) == pool->pkeys[idx % l->num_stripes];
}

/* The whole pool at @base is mapped, every slot in a keyed VMA of its own. */
static bool wp_pool_keyed(struct wp_pool *pool, struct file *filp,
			  unsigned long base)
{
	u32 i;

	if (!wp_pool_maps_range(pool, filp, base, base, pool->layout.total_bytes))
		return false;
	for (i = 0; i < pool->layout.num_slots; i++)
		if (!wp_pool_slot_keyed(pool, filp, base, i))
			return false;
	return true;
}

/**
 * wp_pool_apply_keys() - give every slot a VMA with its stripe's key
 * @pool: the pool, mapped
 * @filp: the pool's file
 * @vmas: out: the VMAs of the pool afterwards
 *
 * Maps each slot not keyed yet anew over the pool's mapping (MAP_FIXED,
 * same file and offset), so that ->mmap() sets the slot's key on a VMA of
 * its own. vm_mmap() takes mmap_lock itself: no lock of ours is held across
 * it but @pool->apply_lock, which no fault or ->mmap() takes. Every slot
 * mapping is tied to the base the call started with: the file's
 * get_unmapped_area() (wp_mmap_get_unmapped_area()), under the mmap_lock
 * held for write and before MAP_FIXED unmaps anything, refuses it unless
 * the range is still the pool there. So a racing thread of the owner that
 * unmaps the pool and maps something else in its place loses nothing; the
 * call fails with EBUSY.
 *
 * On failure the mapping is left as it is, partly keyed, perhaps with a
 * hole where a failed MAP_FIXED unmapped a slot: nothing here can unmap
 * only what is the pool's without the same race. The call again resumes
 * with the slots not keyed yet and fills such holes; munmap() of the pool
 * drops it all.
 *
 * Context: process context, the pool's owner.
 * Return: 0, -EINVAL (not mapped), -EALREADY, -EBUSY (the mapping changed
 * under us), -ENOMEM (vm.max_map_count reached), -EINTR, or another error
 * of vm_mmap().
 */
int wp_pool_apply_keys(struct wp_pool *pool, struct file *filp, u64 *vmas)
{
	const struct wp_layout *l = &pool->layout;
	struct mm_struct *mm = pool->mm;
	unsigned long base, addr;
	long ret = 0;
	bool keyed, hole;
	u32 i;

	if (!wp_pool_striped(pool)) {
		*vmas = atomic_read(&pool->map_count);
		return 0;
	}

	mutex_lock(&pool->apply_lock);
	mmap_read_lock(mm);
	base = pool->address;
	if (!base)
		ret = -EINVAL;
	else if (pool->keys_applied)
		ret = -EALREADY;
	else if (!wp_pool_maps_range_or_holes(pool, filp, base))
		ret = -EBUSY;
	mmap_read_unlock(mm);
	if (ret)
		goto unlock;

	pool->apply_base = base;
	WRITE_ONCE(pool->applying, current);
	for (i = 0; i < l->num_slots; i++) {
		u64 off = wp_slot_offset(pool, i);

		mmap_read_lock(mm);
		keyed = wp_pool_slot_keyed(pool, filp, base, i);
		hole = !find_vma_intersection(mm, base + off, base + off + l->slot_bytes);
		mmap_read_unlock(mm);
		if (!keyed) {
			/* Checked again, under the lock, in get_unmapped_area(). */
			addr = vm_mmap(filp, base + off, l->slot_bytes,
				       PROT_READ | PROT_WRITE, MAP_SHARED |
				       (hole ? MAP_FIXED_NOREPLACE : MAP_FIXED), off);
			if (IS_ERR_VALUE(addr)) {
				ret = addr == -EEXIST ? -EBUSY : (long)addr;
				break;
			}
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	WRITE_ONCE(pool->applying, NULL);

	if (!ret) {
		mmap_write_lock(mm);
		if (READ_ONCE(pool->address) == base && wp_pool_keyed(pool, filp, base))
			WRITE_ONCE(pool->keys_applied, true);
		else
			ret = -EBUSY;
		*vmas = atomic_read(&pool->map_count);
		mmap_write_unlock(mm);
	}
	if (ret == -ENOMEM)
		pr_info_ratelimited("%s[%d]: a striped pool of %llu slots needs a mapping per slot: vm.max_map_count is too low; raise it and apply the keys again\n",
				    current->comm, task_pid_nr(current), l->num_slots);
unlock:
	mutex_unlock(&pool->apply_lock);
	return ret;
}
