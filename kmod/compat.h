/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every difference between the kernels wasmpool supports (Debian 12's 6.1 and
 * 6.12) lives here, as feature macros and small inline wrappers. No other
 * file of the module tests the kernel version.
 *
 * The version is spelled through LINUX_VERSION_MAJOR/PATCHLEVEL (linux/version.h
 * has both since 5.16): this is an out-of-tree module, and checkpatch's advice
 * against version tests is meant for code merged into one kernel.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef _WASMPOOL_COMPAT_H
#define _WASMPOOL_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

/* True when the kernel being built against is at least @major.@minor. */
#define WP_KERNEL_AT_LEAST(major, minor)				\
	(KERNEL_VERSION(LINUX_VERSION_MAJOR, LINUX_VERSION_PATCHLEVEL, 0) >= \
	 KERNEL_VERSION(major, minor, 0))

#if !WP_KERNEL_AT_LEAST(6, 1)
#error "wasmpool needs Linux 6.1 or later"
#endif

/*
 * Since 6.4 a fault may run under its VMA's lock alone (per-VMA locks),
 * without the mmap_lock.
 */
#if WP_KERNEL_AT_LEAST(6, 4)
static inline bool wp_fault_vma_locked(const struct vm_fault *vmf)
{
	return vmf->flags & FAULT_FLAG_VMA_LOCK;
}
#else
static inline bool wp_fault_vma_locked(const struct vm_fault *vmf)
{
	return false;
}
#endif

/*
 * Since 6.3 vma->vm_flags is const and changes go through vm_flags_set() and
 * vm_flags_clear(), which also assert the mmap_lock. Never use vm_flags_mod()
 * for the protection-key bits: it sets before it clears.
 */
#if WP_KERNEL_AT_LEAST(6, 3)
static inline void wp_vm_flags_set(struct vm_area_struct *vma,
				   vm_flags_t flags)
{
	vm_flags_set(vma, flags);
}

static inline void wp_vm_flags_clear(struct vm_area_struct *vma,
				     vm_flags_t flags)
{
	vm_flags_clear(vma, flags);
}
#else
static inline void wp_vm_flags_set(struct vm_area_struct *vma,
				   vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void wp_vm_flags_clear(struct vm_area_struct *vma,
				     vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * Before 6.3, mmap_assert_locked() and mmap_assert_write_locked() call
 * dump_mm() under CONFIG_DEBUG_VM, and dump_mm() is not exported: the module
 * would not link against a DEBUG_VM kernel (found by make check-debug).
 * There, assert through lockdep, and through the rwsem as those do.
 */
#if WP_KERNEL_AT_LEAST(6, 3)
static inline void wp_mmap_assert_locked(struct mm_struct *mm)
{
	mmap_assert_locked(mm);
}

static inline void wp_mmap_assert_write_locked(struct mm_struct *mm)
{
	mmap_assert_write_locked(mm);
}
#else
static inline void wp_mmap_assert_locked(struct mm_struct *mm)
{
	lockdep_assert_held(&mm->mmap_lock);
	VM_WARN_ON_ONCE(!rwsem_is_locked(&mm->mmap_lock));
}

static inline void wp_mmap_assert_write_locked(struct mm_struct *mm)
{
	lockdep_assert_held_write(&mm->mmap_lock);
	VM_WARN_ON_ONCE(!rwsem_is_locked(&mm->mmap_lock));
}
#endif

/* The protection-key bits of vm_flags (an architecture difference). */
#include <linux/mman.h>
#include <linux/pkeys.h>
#ifdef CONFIG_ARCH_HAS_PKEYS
#define WP_VM_PKEY_MASK		ARCH_VM_PKEY_FLAGS
#else
#define WP_VM_PKEY_MASK		0UL
#endif

/*
 * A key pkey_alloc() could still hand out. On x86 mm_pkey_is_allocated()
 * says no for the execute-only key, which is taken all the same: look at
 * the allocation map itself.
 */
static inline bool wp_pkey_available(struct mm_struct *mm, int pkey)
{
#ifdef CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS
	return !(mm_pkey_allocation_map(mm) & (1U << pkey));
#else
	return !mm_pkey_is_allocated(mm, pkey);
#endif
}

static inline int wp_vma_pkey(struct vm_area_struct *vma)
{
	return vma_pkey(vma);
}

/*
 * Give a VMA protection key @pkey. Clear, then set: vm_flags_mod() would
 * set before it clears, which leaves key 0 (seen on 6.12).
 */
static inline void wp_vma_set_pkey(struct vm_area_struct *vma, int pkey)
{
	wp_vm_flags_clear(vma, WP_VM_PKEY_MASK);
	wp_vm_flags_set(vma, calc_vm_prot_bits(0, pkey));
}

/*
 * Pool pages are mapped with special PTEs (see pages.c): without
 * pte_special the core would take them for normal pages.
 */
#ifndef CONFIG_ARCH_HAS_PTE_SPECIAL
#error "wasmpool needs an architecture with special PTEs"
#endif

/*
 * Special PTEs are not counted in RSS by the core mm: the module counts a
 * pool's resident pages in its owner's MM_SHMEMPAGES itself. add_mm_counter()
 * calls a tracing helper that is not exported, so the counter is changed
 * as add_mm_counter() changes it, without the trace event: an
 * atomic_long_t before 6.2, a percpu_counter since.
 */
#if WP_KERNEL_AT_LEAST(6, 2)
static inline void wp_mm_rss_add(struct mm_struct *mm, long pages)
{
	percpu_counter_add(&mm->rss_stat[MM_SHMEMPAGES], pages);
}
#else
static inline void wp_mm_rss_add(struct mm_struct *mm, long pages)
{
	atomic_long_add(pages, &mm->rss_stat.count[MM_SHMEMPAGES]);
}
#endif

/*
 * A fault handler that returns VM_FAULT_RETRY drops the lock it was called
 * with first. 6.12 may call ->fault under the per-VMA lock (release_fault_lock()
 * knows which); before 6.7 the per-VMA lock never served a file mapping's
 * fault, and 6.1 has only mmap_lock.
 */
#if WP_KERNEL_AT_LEAST(6, 7)
static inline void wp_release_fault_lock(struct vm_fault *vmf)
{
	release_fault_lock(vmf);
}
#else
static inline void wp_release_fault_lock(struct vm_fault *vmf)
{
	mmap_read_unlock(vmf->vma->vm_mm);
}
#endif

/*
 * Where a mapping of a file without its own placement would go: the
 * address space's policy (mm->get_unmapped_area until 6.9,
 * mm_get_unmapped_area() since 6.10).
 */
#if WP_KERNEL_AT_LEAST(6, 10)
static inline unsigned long
wp_default_get_unmapped_area(struct file *file, unsigned long addr,
			     unsigned long len, unsigned long pgoff,
			     unsigned long flags)
{
	return mm_get_unmapped_area(current->mm, file, addr, len, pgoff, flags);
}
#else
static inline unsigned long
wp_default_get_unmapped_area(struct file *file, unsigned long addr,
			     unsigned long len, unsigned long pgoff,
			     unsigned long flags)
{
	return current->mm->get_unmapped_area(file, addr, len, pgoff, flags);
}
#endif

/*
 * The fault details a signal frame carries (x86: sigcontext cr2, err and
 * trapno), as the arch code records them for a user page fault it turns
 * into a signal: a not-present fault of user mode, a write or an
 * instruction fetch as the fault was. Set before the module sends a guard
 * fault's SIGSEGV itself (mmap.c).
 */
#ifdef CONFIG_X86
#include <asm/trap_pf.h>
#include <asm/trapnr.h>
static inline void wp_set_fault_archinfo(unsigned long address,
					 unsigned int fault_flags)
{
	unsigned long err = X86_PF_USER;

	if (fault_flags & FAULT_FLAG_WRITE)
		err |= X86_PF_WRITE;
	if (fault_flags & FAULT_FLAG_INSTRUCTION)
		err |= X86_PF_INSTR;
	current->thread.trap_nr = X86_TRAP_PF;
	current->thread.error_code = err;
	current->thread.cr2 = address;
}
#else
static inline void wp_set_fault_archinfo(unsigned long address,
					 unsigned int fault_flags)
{
}
#endif

#endif /* _WASMPOOL_COMPAT_H */
