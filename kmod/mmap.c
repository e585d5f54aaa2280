// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pool's mapping: ->mmap checks, the vm_operations and the fault
 * handler. The fault handler is where guard regions and accessible sizes
 * are enforced: an address outside every slot, or at or above its slot's
 * accessible size, gets VM_FAULT_SIGSEGV (SIGSEGV with SEGV_MAPERR for user
 * accesses, EFAULT for the kernel's copies); anything else is backed by a
 * page on first touch.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/math64.h>
#include <linux/mm.h>

#include "compat.h"
#include "mmap.h"
#include "pages.h"
#include "pool.h"
#include "sysfs.h"

static vm_fault_t wp_vm_fault(struct vm_fault *vmf)
{
	struct wp_pool *pool = vmf->vma->vm_private_data;
	const struct wp_layout *l = &pool->layout;
	u64 off = (u64)vmf->pgoff << PAGE_SHIFT;
	u64 in_slot, idx;
	struct wp_slot *slot;
	vm_fault_t ret;

	/* Only the owner maps the pool; anything else is a bug. */
	if (WARN_ON_ONCE(vmf->vma->vm_mm != pool->mm))
		return VM_FAULT_SIGBUS;
	if (off < l->pre_slab_guard_bytes)
		goto guard;
	idx = div64_u64_rem(off - l->pre_slab_guard_bytes, l->slot_bytes,
			    &in_slot);
	if (idx >= l->num_slots || in_slot >= l->max_memory_bytes)
		goto guard;

	/* A slot of a striped pool is served only through its keyed VMA. */
	if (wp_pool_striped(pool) &&
	    wp_vma_pkey(vmf->vma) != pool->pkeys[idx % l->num_stripes])
		goto guard;

	slot = &pool->slots[idx];
	down_read(&slot->lock);
	if (in_slot >= READ_ONCE(slot->accessible)) {
		up_read(&slot->lock);
		goto guard;
	}
	ret = wp_pages_fault(pool, idx, vmf->vma, vmf->address, vmf->pgoff);
	up_read(&slot->lock);
	return ret;

guard:
	atomic64_inc(&pool->guard_faults);
	atomic64_inc(&wp_global.guard_faults);
	return VM_FAULT_SIGSEGV;
}

/*
 * One VMA per pool without stripes, one per slot (and the guard regions
 * around them) with: VM_DONTCOPY, and splits only by WASMPOOL_IOC_APPLY_KEYS.
 */
static void wp_vm_open(struct vm_area_struct *vma)
{
	struct wp_pool *pool = vma->vm_private_data;

	atomic_inc(&pool->map_count);
}

static void wp_vm_close(struct vm_area_struct *vma)
{
	struct wp_pool *pool = vma->vm_private_data;

	if (!atomic_dec_and_test(&pool->map_count))
		return;
	WRITE_ONCE(pool->address, 0);
	WRITE_ONCE(pool->keys_applied, false);
	wp_pool_unmapped(pool);
}

/*
 * The pool's mapping splits only when WASMPOOL_IOC_APPLY_KEYS maps a slot
 * over it, at the slot's boundaries.
 */
static int wp_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	struct wp_pool *pool = vma->vm_private_data;
	u64 off = (addr - vma->vm_start) + ((u64)vma->vm_pgoff << PAGE_SHIFT);
	u64 rem;

	if (READ_ONCE(pool->applying) != current ||
	    off < pool->layout.pre_slab_guard_bytes)
		return -EINVAL;
	div64_u64_rem(off - pool->layout.pre_slab_guard_bytes,
		      pool->layout.slot_bytes, &rem);
	return rem ? -EINVAL : 0;
}

static int wp_vm_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

/* The pool's protection is fixed: read-write, never executable. */
static int wp_vm_mprotect(struct vm_area_struct *vma, unsigned long start,
			  unsigned long end, unsigned long newflags)
{
	if ((newflags ^ vma->vm_flags) &
	    (VM_READ | VM_WRITE | VM_EXEC | WP_VM_PKEY_MASK))
		return -EACCES;
	return 0;
}

static const struct vm_operations_struct wp_vm_ops = {
	.fault = wp_vm_fault,
	.open = wp_vm_open,
	.close = wp_vm_close,
	.may_split = wp_vm_may_split,
	.mremap = wp_vm_mremap,
	.mprotect = wp_vm_mprotect,
};

/*
 * VM_MIXEDMAP: vm_insert_page() from the fault handler; DONTEXPAND and
 * DONTCOPY: no mremap() growth, no copy in fork() children; VM_IO: no
 * madvise(MADV_DOFORK) to undo DONTCOPY, and no get_user_pages() pinning
 * a tenant's page across a reset (so no O_DIRECT or registered buffers in
 * pool memory); DONTDUMP: tenants' memory stays out of core dumps. No
 * VM_MAYEXEC: mprotect() can never make it executable.
 */
static void wp_mmap_setup(struct wp_pool *pool, struct vm_area_struct *vma)
{
	wp_vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTCOPY |
			VM_IO | VM_DONTDUMP);
	wp_vm_flags_clear(vma, VM_MAYEXEC);
	vma->vm_ops = &wp_vm_ops;
	vma->vm_private_data = pool;
	atomic_inc(&pool->map_count);
}

/* WASMPOOL_IOC_APPLY_KEYS maps one slot with its stripe's key. */
static int wp_mmap_slot(struct wp_pool *pool, struct vm_area_struct *vma)
{
	const struct wp_layout *l = &pool->layout;
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT, idx, rem;

	if (off < l->pre_slab_guard_bytes ||
	    vma->vm_end - vma->vm_start != l->slot_bytes)
		return -EINVAL;
	idx = div64_u64_rem(off - l->pre_slab_guard_bytes, l->slot_bytes, &rem);
	if (rem || idx >= l->num_slots)
		return -EINVAL;

	wp_mmap_setup(pool, vma);
	wp_vma_set_pkey(vma, pool->pkeys[idx % l->num_stripes]);
	WRITE_ONCE(pool->address, vma->vm_start - off);
	return 0;
}

/**
 * wp_mmap_pool() - map a pool: the whole slab, shared, read-write
 * @pool: the configured pool
 * @vma: the new VMA
 *
 * Context: the caller's mmap_lock held for write.
 * Also maps single slots for WASMPOOL_IOC_APPLY_KEYS (see wp_mmap_slot()).
 *
 * Return: 0; -EPERM from another address space or for an executable
 * mapping; -EINVAL for a private or not read-write mapping, a non-zero
 * offset or a length other than the layout's total_bytes; -EBUSY when the
 * pool is mapped already.
 */
int wp_mmap_pool(struct wp_pool *pool, struct vm_area_struct *vma)
{
	if (vma->vm_mm != pool->mm)
		return -EPERM;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (!(vma->vm_flags & VM_SHARED) ||
	    (vma->vm_flags & (VM_READ | VM_WRITE)) != (VM_READ | VM_WRITE))
		return -EINVAL;
	if (READ_ONCE(pool->applying) == current)
		return wp_mmap_slot(pool, vma);
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != pool->layout.total_bytes)
		return -EINVAL;
	if (atomic_read(&pool->map_count))
		return -EBUSY;

	wp_mmap_setup(pool, vma);
	WRITE_ONCE(pool->keys_applied, false);
	WRITE_ONCE(pool->address, vma->vm_start);
	return 0;
}
