// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pool's mapping: ->mmap checks, the vm_operations and the fault
 * handler. The fault handler is where guard regions and accessible sizes
 * are enforced: an address outside every slot, or at or above its slot's
 * accessible size, is a guard fault (SIGSEGV with SEGV_ACCERR for a user
 * access, as a PROT_NONE guard gives; EFAULT for the kernel's copies);
 * anything else is backed by a page on first touch (with
 * WASMPOOL_CONFIGURE_ZERO_PAGE: on its first write, reading as the zero
 * page until then; in a slot's memory image: on its first write, a copy
 * of the image's page, reading as the image until then).
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/signal.h>

#include "compat.h"
#include "mmap.h"
#include "pages.h"
#include "pool.h"
#include "sysfs.h"

/*
 * The slot's lock is held for write by a command (a reset can take a while).
 * Do not wait for it with mmap_lock held, which would stall every other
 * fault and mmap() of the process: as filemap does for a locked folio, drop
 * the fault's lock, wait (killable) for the command to end and have the
 * fault retried. The file reference keeps the pool alive while nothing else
 * does. Where the fault cannot be retried, wait killable with the lock held.
 *
 * Return: 0 with the slot's lock held for read, or what the fault returns.
 */
static vm_fault_t wp_vm_fault_wait(struct vm_fault *vmf, struct wp_slot *slot)
{
	struct file *file;

	if (fault_flag_allow_retry_first(vmf->flags)) {
		if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
			return VM_FAULT_RETRY;
		file = get_file(vmf->vma->vm_file);
		wp_release_fault_lock(vmf);
		if (!down_read_killable(&slot->lock))
			up_read(&slot->lock);
		fput(file);
		return VM_FAULT_RETRY;
	}
	if (down_read_killable(&slot->lock))
		return VM_FAULT_SIGBUS;	/* dying: nobody sees it */
	return 0;
}

/*
 * Does the faulting thread catch SIGSEGV? Read without the signal lock: a
 * handler changed under us is judged at delivery (see wp_guard_fault()).
 */
static bool wp_sigsegv_caught(void)
{
	void __user *handler;

	if (sigismember(&current->blocked, SIGSEGV))
		return false;
	rcu_read_lock();
	handler = READ_ONCE(rcu_dereference(current->sighand)->action[SIGSEGV - 1].sa.sa_handler);
	rcu_read_unlock();
	return handler != SIG_DFL && handler != SIG_IGN;
}

/*
 * A guard fault. For VM_FAULT_SIGSEGV the arch code sends SIGSEGV with
 * SEGV_MAPERR ("no mapping"), while runtimes were written against PROT_NONE
 * guards, whose faults say SEGV_ACCERR, and some tell a trap from a crash
 * by it (wasm2c: SEGV_ACCERR is an out-of-bounds access, anything else
 * stack exhaustion). So a user access of a thread that catches SIGSEGV gets
 * SEGV_ACCERR, with the exact address, and the signal context a PROT_NONE
 * fault would give (compat.h); the fault itself maps nothing and returns,
 * and the signal is handled on the way back to user mode. Everything else
 * keeps the kernel's own path: the kernel's copies get EFAULT, and a thread
 * that blocks, ignores or does not catch SIGSEGV gets the kernel's forced,
 * fatal, logged SIGSEGV. send_sig_info() is what a module can use (the
 * forcing variants are not exported): a handler set to SIG_IGN after the
 * check drops the signal, the access faults again and takes that path.
 */
static vm_fault_t wp_guard_fault(struct vm_fault *vmf)
{
	struct kernel_siginfo info;

	if (!(vmf->flags & FAULT_FLAG_USER) || !wp_sigsegv_caught())
		return VM_FAULT_SIGSEGV;
	clear_siginfo(&info);
	info.si_signo = SIGSEGV;
	info.si_code = SEGV_ACCERR;
	info.si_addr = (void __user *)vmf->real_address;
	wp_set_fault_archinfo(vmf->real_address, vmf->flags);
	if (send_sig_info(SIGSEGV, &info, current))
		return VM_FAULT_SIGSEGV;
	return VM_FAULT_NOPAGE;
}

/*
 * The slot a fault's page belongs to, or WP_NO_SLOT for a guard: outside
 * every slot, at or above max memory, or (striped pools) a slot reached
 * through a VMA without its stripe's key. *@in_slot: the offset in it.
 */
static u32 wp_vm_fault_slot(struct wp_pool *pool, struct vm_fault *vmf,
			    u64 *in_slot)
{
	const struct wp_layout *l = &pool->layout;
	u64 off = (u64)vmf->pgoff << PAGE_SHIFT;
	u64 idx;

	if (off < l->pre_slab_guard_bytes)
		return WP_NO_SLOT;
	idx = div64_u64_rem(off - l->pre_slab_guard_bytes, l->slot_bytes,
			    in_slot);
	if (idx >= l->num_slots || *in_slot >= l->max_memory_bytes)
		return WP_NO_SLOT;
	if (wp_pool_striped(pool) &&
	    wp_vma_pkey(vmf->vma) != pool->pkeys[idx % l->num_stripes])
		return WP_NO_SLOT;
	return idx;
}

static vm_fault_t wp_vm_fault(struct vm_fault *vmf)
{
	struct wp_pool *pool = vmf->vma->vm_private_data;
	struct wp_slot *slot;
	vm_fault_t ret;
	u64 in_slot;
	u32 idx;

	/* Only the owner maps the pool; anything else is a bug. */
	if (WARN_ON_ONCE(vmf->vma->vm_mm != pool->mm))
		return VM_FAULT_SIGBUS;
	idx = wp_vm_fault_slot(pool, vmf, &in_slot);
	if (idx == WP_NO_SLOT)
		goto guard;

	slot = &pool->slots[idx];
	if (!down_read_trylock(&slot->lock)) {
		ret = wp_vm_fault_wait(vmf, slot);
		if (ret)
			return ret;
	}
	if (in_slot >= READ_ONCE(slot->accessible)) {
		up_read(&slot->lock);
		goto guard;
	}
	ret = wp_pages_fault(pool, idx, vmf->vma, vmf->address, vmf->pgoff,
			     vmf->flags & FAULT_FLAG_WRITE);
	up_read(&slot->lock);
	if (ret == VM_FAULT_NOPAGE && wp_fault_vma_locked(vmf))
		atomic64_inc(&pool->faults_vma_locked);
	return ret;

guard:
	atomic64_inc(&pool->guard_faults);
	atomic64_inc(&wp_global.guard_faults);
	return wp_guard_fault(vmf);
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

/*
 * A write through a read-only PTE. Usually the zero page or a page of the
 * slot's memory image, mapped by a read of a page that was not resident
 * (pages.c): returning 0 would have the core make that PTE writable - a
 * write into the zero page of the whole system, or into an image every
 * slot of it reads - so this never does for them: it returns 0 only for
 * a page the slot's index holds at that offset, one of the slot's own
 * (an image page or the zero page never is; a page on its way out of the
 * index is served as they are). It zaps the PTE (with the TLB flush
 * that a stale read-only entry on another CPU needs, as a copy-on-write
 * of anonymous memory flushes) and serves the write as wp_vm_fault()
 * would, in the same fault. Zapping needs neither the slot's lock nor the
 * accessible size: an access after it just faults; so where the slot's
 * lock is contended, or the page is no longer accessible, the write
 * faults again through wp_vm_fault(), which can wait or signal (this may
 * not return VM_FAULT_RETRY: the core would go on to make the PTE
 * writable without the locks). A racing fault may have mapped the page
 * itself there already: zapping that costs a fault, no data (the page
 * stays in the index). A pool page made read-only by someone else
 * (clear_refs' soft-dirty tracking) is the core's to make writable again:
 * it checks under the PTE lock that the PTE is still the one seen here.
 * Only user accesses come here: GUP refuses the pool's special PTEs and
 * VM_IO.
 */
static vm_fault_t wp_vm_pfn_mkwrite(struct vm_fault *vmf)
{
	struct wp_pool *pool = vmf->vma->vm_private_data;
	unsigned long pfn = pte_pfn(vmf->orig_pte);
	vm_fault_t ret = VM_FAULT_NOPAGE;
	struct wp_slot *slot;
	u64 in_slot;
	u32 idx;

	idx = wp_vm_fault_slot(pool, vmf, &in_slot);
	if (!is_zero_pfn(pfn) &&
	    (idx == WP_NO_SLOT || wp_pages_pfn_own(pool, idx, in_slot, pfn)))
		return 0;
	unmap_mapping_range(pool->mapping, (loff_t)vmf->pgoff << PAGE_SHIFT,
			    PAGE_SIZE, 1);
	if (idx == WP_NO_SLOT)
		return VM_FAULT_NOPAGE;
	slot = &pool->slots[idx];
	if (!down_read_trylock(&slot->lock))
		return VM_FAULT_NOPAGE;
	if (in_slot < READ_ONCE(slot->accessible))
		ret = wp_pages_fault(pool, idx, vmf->vma, vmf->address,
				     vmf->pgoff, true);
	up_read(&slot->lock);
	return ret;
}

/*
 * Fault-around maps nothing here: a page may be mapped only under its
 * slot's lock, which cannot be taken under RCU, and wp_pages_fault() maps a
 * run of resident pages itself. The hook is there because the core calls
 * ->fault under the per-VMA lock (6.12) only for mappings that have it;
 * without it every fault was refused there and retried under mmap_lock.
 * wp_vm_fault() needs no mmap_lock: the VMA's lock keeps the VMA, its file
 * and so the pool alive, and the handler drops whichever lock it was
 * called with before it waits.
 */
static vm_fault_t wp_vm_map_pages(struct vm_fault *vmf, pgoff_t start_pgoff,
				  pgoff_t end_pgoff)
{
	return 0;
}

static const struct vm_operations_struct wp_vm_ops = {
	.fault = wp_vm_fault,
	.map_pages = wp_vm_map_pages,
	.pfn_mkwrite = wp_vm_pfn_mkwrite,
	.open = wp_vm_open,
	.close = wp_vm_close,
	.may_split = wp_vm_may_split,
	.mremap = wp_vm_mremap,
	.mprotect = wp_vm_mprotect,
};

/*
 * VM_MIXEDMAP: the fault handler maps pages with special PTEs, which
 * vm_normal_page() then takes for what they are; DONTEXPAND and
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

	/* wp_mmap_get_unmapped_area() checked the range: belt and braces. */
	if (vma->vm_start - off != pool->apply_base)
		return -EBUSY;

	wp_mmap_setup(pool, vma);
	wp_vma_set_pkey(vma, pool->pkeys[idx % l->num_stripes]);
	WRITE_ONCE(pool->address, pool->apply_base);
	return 0;
}

/**
 * wp_mmap_get_unmapped_area() - where a mapping of the pool goes
 * @pool: the file's pool, or NULL before it is configured
 * @file: the pool's file
 * @addr: the address asked for
 * @len: the length
 * @pgoff: the offset in the file, in pages
 * @flags: the mmap() flags
 *
 * A mapping by userspace goes where the address space's policy puts it.
 * A slot mapping of WASMPOOL_IOC_APPLY_KEYS (MAP_FIXED over the pool) is
 * checked here because this is the one place that runs under the mmap_lock
 * held for write, before MAP_FIXED unmaps what was there: the range must
 * still be the pool mapped at the base the call started with (or, for
 * MAP_FIXED_NOREPLACE, a hole in it that is still empty). Anything else -
 * another thread unmapped the pool and mapped something of its own there -
 * is refused (EBUSY) untouched.
 *
 * Context: the caller's mmap_lock held for write (do_mmap()).
 * Return: the address, or -errno.
 */
unsigned long wp_mmap_get_unmapped_area(struct wp_pool *pool,
					struct file *file, unsigned long addr,
					unsigned long len, unsigned long pgoff,
					unsigned long flags)
{
	if (!pool || READ_ONCE(pool->applying) != current)
		return wp_default_get_unmapped_area(file, addr, len, pgoff, flags);
	wp_mmap_assert_write_locked(current->mm);
	if (!(flags & MAP_FIXED) || current->mm != pool->mm ||
	    READ_ONCE(pool->address) != pool->apply_base ||
	    addr != pool->apply_base + ((u64)pgoff << PAGE_SHIFT))
		return -EBUSY;
	/* A hole the pool left is filled only if it is still empty. */
	if (flags & MAP_FIXED_NOREPLACE ?
	    !!find_vma_intersection(current->mm, addr, addr + len) :
	    !wp_pool_maps_range(pool, file, pool->apply_base, addr, len))
		return -EBUSY;
	return addr;
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
