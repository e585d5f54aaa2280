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

static vm_fault_t wp_vm_fault(struct vm_fault *vmf)
{
	struct wp_pool *pool = vmf->vma->vm_private_data;
	const struct wp_layout *l = &pool->layout;
	u64 off = (u64)vmf->pgoff << PAGE_SHIFT;
	u64 in_slot, idx;
	struct wp_slot *slot;
	vm_fault_t ret;

	if (off < l->pre_slab_guard_bytes)
		goto guard;
	idx = div64_u64_rem(off - l->pre_slab_guard_bytes, l->slot_bytes,
			    &in_slot);
	if (idx >= l->num_slots || in_slot >= l->max_memory_bytes)
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
	return VM_FAULT_SIGSEGV;
}

/* Only ever one VMA per pool without stripes: VM_DONTCOPY, no split. */
static void wp_vm_open(struct vm_area_struct *vma)
{
	struct wp_pool *pool = vma->vm_private_data;

	pool->map_count++;
}

static void wp_vm_close(struct vm_area_struct *vma)
{
	struct wp_pool *pool = vma->vm_private_data;

	if (--pool->map_count)
		return;
	WRITE_ONCE(pool->address, 0);
	wp_pool_unmapped(pool);
}

static int wp_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
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

/**
 * wp_mmap_pool() - map a pool: the whole slab, shared, read-write
 * @pool: the configured pool
 * @vma: the new VMA
 *
 * Context: the caller's mmap_lock held for write.
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
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != pool->layout.total_bytes)
		return -EINVAL;
	if (pool->map_count)
		return -EBUSY;

	/*
	 * VM_MIXEDMAP: vm_insert_page() from the fault handler; DONTEXPAND and
	 * DONTCOPY: no mremap() growth, no copy in fork() children; DONTDUMP:
	 * tenants' memory stays out of core dumps. No VM_MAYEXEC: mprotect()
	 * can never make it executable.
	 */
	wp_vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTCOPY |
			VM_DONTDUMP);
	wp_vm_flags_clear(vma, VM_MAYEXEC);
	vma->vm_ops = &wp_vm_ops;
	vma->vm_private_data = pool;
	pool->map_count = 1;
	WRITE_ONCE(pool->address, vma->vm_start);
	return 0;
}
