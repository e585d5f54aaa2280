// SPDX-License-Identifier: GPL-2.0-only
/*
 * Page backing of a pool: allocating, indexing and mapping pages on faults.
 *
 * A page is allocated, zeroed and charged to the faulting task's memory
 * cgroup on the first touch of an accessible address, and recorded in its
 * slot's index (wp_slot.pages, keyed by page offset in the slot) with the
 * one reference the pool holds. It is mapped with a *special* PTE (as
 * vmf_insert_mixed() would on this VM_MIXEDMAP mapping - x86 has
 * pte_special - but a run of pages at a time, through
 * apply_to_page_range(), as Xen's xlate_mmu.c maps foreign pages into a
 * privcmd mapping): such a PTE
 * holds no reference and is invisible to get_user_pages(), fast
 * path or slow, on every kernel. So nothing - vmsplice(), O_DIRECT,
 * MSG_ZEROCOPY, io_uring, RDMA, process_vm_readv() - can pin a pool page
 * and see it again after a reset hands it to the next tenant; VM_IO makes
 * the slow path refuse the mapping before it even looks at a PTE.
 *
 * Since no PTE holds a reference, a page must never be freed while a PTE
 * maps it: faults map under the slot's lock held for read, and every page
 * is freed either under the slot's lock held for write after
 * unmap_mapping_range() of it, or once no VMA of the pool is left.
 *
 * How a reset or free keeps, zeroes and frees them: reset.c.
 *
 * Every resident page counts against the owner: in its mm's RssShmem
 * counter (MM_SHMEMPAGES, so in VmRSS and the OOM killer's badness) from
 * allocation to free, mapped or kept, and in its memory cgroup as kernel
 * memory (__GFP_ACCOUNT; a module cannot charge user memory).
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
#include <linux/sizes.h>
#include <linux/wasmpool.h>
#include <linux/xarray.h>

#include "compat.h"
#include "image.h"
#include "pages.h"
#include "pool.h"
#include "sysfs.h"

/* Pages mapped at most by one fault on resident pages. */
#define WP_FAULT_AROUND	32

/*
 * @n pages became resident in slot @slot (or stopped being, n < 0): every
 * counter of them, the owner's RSS included. pool->resident_pages is not
 * among them: wp_pages_charge() reserves a page there before it exists.
 */
void wp_pages_account(struct wp_pool *pool, struct wp_slot *slot, long n)
{
	atomic_add(n, &slot->resident);
	atomic64_add(n, &wp_global.resident_pages);
	wp_mm_rss_add(pool->mm, n);
}

/*
 * Reserve one page of the pool's resident limit: atomic, so that racing
 * faults can never take the pool beyond it. False when the limit is reached.
 */
static bool wp_pages_charge(struct wp_pool *pool)
{
	if (!pool->max_resident_pages) {
		atomic64_inc(&pool->resident_pages);
		return true;
	}
	return atomic64_add_unless(&pool->resident_pages, 1,
				   pool->max_resident_pages);
}

/*
 * The index of a slot's pages (wp_slot.pages) is an xarray of its own,
 * keyed by the page's offset in the slot: small (a slot's first page
 * lives in the xarray's head, its first 64 in one node), and its lock is
 * the slot's alone, so tenants of different slots never share one.
 *
 * A page freed from the first WP_INDEX_HOLE_PAGES of a slot leaves a
 * reserved entry (XA_ZERO_ENTRY, as xa_reserve() stores) instead of an
 * erased one: the node that held it stays, and the next tenant's first
 * touch stores its page without allocating a node - otherwise a tenant
 * stream with keep_resident 0 allocates and RCU-frees a node, often a
 * slab, on every cycle. Reserved entries read as absent everywhere: in
 * xa_load(), in wp_index_gather() and in wp_index_insert(). They cost at
 * most 9 nodes (5 KiB) a slot, freed with the pool (WP_INDEX_HOLE_PAGES,
 * pages.h; reset.c leaves them).
 */

/*
 * Store @page at @rel unless a page is there: 0 when stored; -EEXIST when
 * a page is there (*@found); -ENOMEM without memory for a node. Raises
 * the slot's bound on its indexed pages (wp_slot.pages_end).
 */
static int wp_index_insert(struct wp_slot *slot, pgoff_t rel,
			   struct page *page, gfp_t gfp, struct page **found)
{
	XA_STATE(xas, &slot->pages, rel);
	void *curr;

	do {
		xas_lock(&xas);
		curr = xas_load(&xas);
		if (xa_is_zero(curr))
			curr = NULL;
		if (!curr) {
			xas_store(&xas, page);
			if (!xas_error(&xas) && slot->pages_end <= rel)
				WRITE_ONCE(slot->pages_end, rel + 1);
		}
		xas_unlock(&xas);
	} while (xas_nomem(&xas, gfp));
	if (xas_error(&xas))
		return xas_error(&xas);
	*found = curr;
	return curr ? -EEXIST : 0;
}

/*
 * One past the last page of a run that starts at @pgoff (at @address in
 * @vma): at most @max pages, within the slot's accessible size and the VMA.
 */
static pgoff_t wp_pages_run_end(struct wp_pool *pool, u32 idx,
				struct vm_area_struct *vma,
				unsigned long address, pgoff_t pgoff, pgoff_t max)
{
	pgoff_t end = (wp_slot_offset(pool, idx) +
		       READ_ONCE(pool->slots[idx].accessible)) >> PAGE_SHIFT;

	return min3(end, pgoff + max,
		    pgoff + ((vma->vm_end - address) >> PAGE_SHIFT));
}

/**
 * struct wp_map - a run of PTEs to set: resident pages, or the zero page
 * @pool: the pool
 * @vma: the faulting VMA
 * @mm: its address space
 * @prot: the VMA's page protection (its protection key included), as
 *	wp_pages_prot() gives it
 * @slot: the slot of the run
 * @start: the faulting address
 * @rel: its page offset in the slot
 * @page: the faulting page (resident runs)
 */
struct wp_map {
	struct wp_pool *pool;
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	pgprot_t prot;
	struct wp_slot *slot;
	unsigned long start;
	pgoff_t rel;
	struct page *page;
};

/*
 * The protection pool pages are mapped with: the VMA's own, read-write,
 * with its protection key. Not vma->vm_page_prot: the VMA has a
 * pfn_mkwrite handler (for the zero page, mmap.c), which makes the core
 * write-protect vm_page_prot to notify the first write to every page
 * (vma_wants_writenotify()); a pool page needs no such notice.
 */
static pgprot_t wp_pages_prot(struct vm_area_struct *vma)
{
	return vm_get_page_prot(vma->vm_flags);
}

/*
 * apply_to_page_range() callback, under the PTE lock: map the resident
 * page at @addr with a special PTE (no reference, invisible to GUP), as
 * insert_pfn() would, or stop (return 1) at the first page that is not
 * resident. A PTE already present is left as it is.
 */
static int wp_pages_set_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct wp_map *m = data;
	struct page *page = m->page;

	if (addr != m->start) {
		page = xa_load(&m->slot->pages,
			       m->rel + ((addr - m->start) >> PAGE_SHIFT));
		if (!page)
			return 1;
	}
	if (pte_none(ptep_get(pte))) {
		set_pte_at(m->mm, addr, pte, pte_mkspecial(mk_pte(page, m->prot)));
		update_mmu_cache(m->vma, addr, pte);
	}
	return 0;
}

/*
 * Set the PTEs of @len bytes from @m->start with @fn, one walk of the page
 * tables, and count the fault served.
 */
static vm_fault_t wp_pages_map_run(struct wp_map *m, unsigned long len,
				   pte_fn_t fn)
{
	int err = apply_to_page_range(m->mm, m->start, len, fn, m);

	if (err < 0)
		return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	atomic64_inc(&m->pool->faults);
	atomic64_inc(&wp_global.faults);
	return VM_FAULT_NOPAGE;
}

/*
 * Map a page that is already resident (kept by a reset, or allocated by a
 * racing fault) and the resident pages that follow it, up to the slot's
 * accessible size: a tenant re-touching kept pages pays one fault for a
 * run of them, not one each. One walk of the page tables and one PTE lock
 * for the run; the PTEs are special, like vmf_insert_mixed()'s on x86,
 * without its PAT lookup per page (pool pages are ordinary write-back RAM).
 */
static vm_fault_t wp_pages_map_resident(struct wp_pool *pool, u32 idx,
					struct vm_area_struct *vma,
					unsigned long address, pgoff_t pgoff,
					struct page *page)
{
	pgoff_t end = wp_pages_run_end(pool, idx, vma, address, pgoff,
				       WP_FAULT_AROUND);
	struct wp_map m = {
		.pool = pool,
		.vma = vma,
		.mm = vma->vm_mm,
		.prot = wp_pages_prot(vma),
		.slot = &pool->slots[idx],
		.start = address,
		.rel = pgoff - wp_slot_first(pool, idx),
		.page = page,
	};

	return wp_pages_map_run(&m, (max(end, pgoff + 1) - pgoff) << PAGE_SHIFT,
				wp_pages_set_pte);
}

/*
 * apply_to_page_range() callback, under the PTE lock: map the zero page
 * read-only with a special PTE (no reference, invisible to GUP, no
 * rmap), unless a racing fault mapped something there first.
 */
static int wp_pages_set_zero_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct wp_map *m = data;

	if (pte_none(ptep_get(pte))) {
		set_pte_at(m->mm, addr, pte,
			   pte_wrprotect(pte_mkspecial(pfn_pte(my_zero_pfn(addr), m->prot))));
		update_mmu_cache(m->vma, addr, pte);
	}
	return 0;
}

/*
 * WASMPOOL_CONFIGURE_ZERO_PAGE: a read of a page that is not resident maps
 * the shared zero page read-only, as anonymous memory does, instead of
 * backing the page. A tenant that reads memory it never writes then costs
 * no page, no RSS and nothing of the resident limit, and its reset has
 * nothing to zero. A write to it comes to wp_vm_pfn_mkwrite() (mmap.c),
 * which zaps the PTE and backs the page as a write fault would: the core
 * would otherwise make the PTE writable, into the zero page. The slot
 * notes that it may hold such PTEs, which are not in the index, for its
 * resets (wp_pages_reset_span()).
 */
static vm_fault_t wp_pages_map_zero(struct wp_pool *pool, u32 idx,
				    struct vm_area_struct *vma,
				    unsigned long address)
{
	struct wp_map m = {
		.pool = pool,
		.vma = vma,
		.mm = vma->vm_mm,
		.prot = wp_pages_prot(vma),
		.start = address,
	};

	if (!READ_ONCE(pool->slots[idx].zero_mapped))
		WRITE_ONCE(pool->slots[idx].zero_mapped, true);
	return wp_pages_map_run(&m, PAGE_SIZE, wp_pages_set_zero_pte);
}

/*
 * apply_to_page_range() callback, under the PTE lock: map the image page
 * of the slot at @addr read-only with a special PTE, as the zero page is
 * mapped, and the image pages that follow, up to the first page the slot
 * has of its own (return 1: stop there).
 */
static int wp_pages_set_image_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct wp_map *m = data;
	pgoff_t rel = m->rel + ((addr - m->start) >> PAGE_SHIFT);

	struct page *page = wp_image_page(m->pool, m->slot - m->pool->slots, rel);

	if (xa_load(&m->slot->pages, rel))
		return 1;
	if (pte_none(ptep_get(pte))) {
		set_pte_at(m->mm, addr, pte,
			   pte_wrprotect(pte_mkspecial(mk_pte(page, m->prot))));
		update_mmu_cache(m->vma, addr, pte);
	}
	return 0;
}

/*
 * A read of a page of the slot's image that the slot has no page of its
 * own for: map the image's page read-only (image.c), and the image pages
 * that follow, as for resident pages - an image is immutable, so mapping
 * ahead costs nothing but the PTEs. The first write comes to
 * wp_vm_pfn_mkwrite() (mmap.c), which zaps the PTE and has the write
 * served here with a copy. The slot notes that it may hold such PTEs,
 * which are not in its index, for its resets (wp_pages_reset_span()).
 */
static vm_fault_t wp_pages_map_image(struct wp_pool *pool, u32 idx,
				     struct vm_area_struct *vma,
				     unsigned long address, pgoff_t pgoff)
{
	struct wp_slot *slot = &pool->slots[idx];
	pgoff_t first = wp_slot_first(pool, idx);
	pgoff_t end = min(wp_pages_run_end(pool, idx, vma, address, pgoff,
					   WP_FAULT_AROUND),
			  first + wp_slot_image(pool, idx)->nr_pages);
	struct wp_map m = {
		.pool = pool,
		.vma = vma,
		.mm = vma->vm_mm,
		.prot = wp_pages_prot(vma),
		.slot = slot,
		.start = address,
		.rel = pgoff - first,
	};

	if (!READ_ONCE(slot->image_mapped))
		WRITE_ONCE(slot->image_mapped, true);
	return wp_pages_map_run(&m, (max(end, pgoff + 1) - pgoff) << PAGE_SHIFT,
				wp_pages_set_image_pte);
}

/**
 * wp_pages_pfn_own() - is @pfn the slot's own page at @in_slot?
 * @pool: the pool
 * @idx: the slot
 * @in_slot: a byte offset in it
 * @pfn: the pfn of a PTE seen there
 *
 * Without the slot's lock (pfn_mkwrite): a page of the slot's own there is
 * in the index; an image page or the zero page never is.
 *
 * Context: a fault.
 */
bool wp_pages_pfn_own(struct wp_pool *pool, u32 idx, u64 in_slot,
		      unsigned long pfn)
{
	struct page *page = xa_load(&pool->slots[idx].pages, in_slot >> PAGE_SHIFT);

	return page && page_to_pfn(page) == pfn;
}

/*
 * Back page @rel of @slot with a new page, zeroed or (@src) a copy of an
 * image's page, charged to the pool's resident limit and stored in the
 * index (the caller accounts it). -EDQUOT at the limit; -ENOMEM without
 * memory; -EEXIST when a racing fault stored one first: *@page is that
 * one. Nothing stays charged on failure.
 */
static int wp_pages_new(struct wp_pool *pool, struct wp_slot *slot,
			pgoff_t rel, gfp_t gfp, gfp_t xa_gfp,
			struct page *src, struct page **page)
{
	struct page *new;
	int ret;

	if (!wp_pages_charge(pool))
		return -EDQUOT;
	new = alloc_page(gfp | (src ? 0 : __GFP_ZERO) | __GFP_ACCOUNT);
	/* Filled before a racing fault can find it in the index. */
	if (new && src)
		copy_highpage(new, src);
	ret = new ? wp_index_insert(slot, rel, new, xa_gfp, page) : -ENOMEM;
	if (!ret) {
		*page = new;
		return 0;
	}
	if (new)
		put_page(new);
	atomic64_dec(&pool->resident_pages);
	return ret;
}

/* Pages a sequential toucher gets at once, the touched one included. */
#define WP_ALLOC_AHEAD	(WASMPOOL_POPULATE_AHEAD_BYTES >> PAGE_SHIFT)
static_assert(WP_ALLOC_AHEAD <= WP_FAULT_AROUND);

/*
 * WASMPOOL_CONFIGURE_POPULATE_AHEAD: a touch right after a resident page,
 * a tenant walking up its memory. Back the pages that follow too (up to
 * WP_ALLOC_AHEAD in all, within the accessible size, up to the next
 * resident page), which the caller then maps as one run, so that the
 * walk's next touches do not fault. Best effort: no OOM killer, no
 * SIGBUS, no limit overshoot.
 */
static void wp_pages_alloc_ahead(struct wp_pool *pool, u32 idx,
				 struct vm_area_struct *vma,
				 unsigned long address, pgoff_t pgoff)
{
	pgoff_t end = wp_pages_run_end(pool, idx, vma, address, pgoff,
				       WP_ALLOC_AHEAD);
	pgoff_t first = wp_slot_first(pool, idx);
	struct wp_slot *slot = &pool->slots[idx];
	struct page *page;
	long n = 0;

	/* Image pages are not populated ahead: they are read in place. */
	if (wp_image_page(pool, idx, pgoff + 1 - first))
		return;
	for (pgoff++; pgoff < end; pgoff++) {
		if (xa_load(&slot->pages, pgoff - first) ||
		    wp_pages_new(pool, slot, pgoff - first,
				 GFP_HIGHUSER | __GFP_NORETRY | __GFP_NOWARN,
				 GFP_NOWAIT | __GFP_ACCOUNT, NULL, &page))
			break;
		n++;
	}
	if (!n)
		return;
	wp_pages_account(pool, &pool->slots[idx], n);
	atomic64_add(n, &pool->pages_allocated);
}

/**
 * wp_pages_fault() - back one accessible page of a slot and map it
 * @pool: the pool
 * @idx: the slot the page belongs to
 * @vma: the faulting VMA
 * @address: the page-aligned faulting address
 * @pgoff: the page's offset in the file
 * @write: the access is a write; a read of a page that is not resident
 *	maps the slot's image page there, or in a WASMPOOL_CONFIGURE_ZERO_PAGE
 *	pool the zero page, instead of backing it (a write copies the image
 *	page)
 *
 * Context: a fault (mmap_lock or the VMA's lock held); the slot's lock
 * held for read.
 * Return: VM_FAULT_NOPAGE when the page is mapped (by us or by a racing
 * fault), VM_FAULT_OOM when memory (or the memory cgroup) is exhausted,
 * VM_FAULT_SIGBUS at the pool's resident limit.
 */
vm_fault_t wp_pages_fault(struct wp_pool *pool, u32 idx,
			  struct vm_area_struct *vma, unsigned long address,
			  pgoff_t pgoff, bool write)
{
	struct wp_slot *slot = &pool->slots[idx];
	pgoff_t rel = pgoff - wp_slot_first(pool, idx);
	struct page *page, *src;

	lockdep_assert_held_read(&slot->lock);

	page = xa_load(&slot->pages, rel);
	if (page)
		return wp_pages_map_resident(pool, idx, vma, address, pgoff, page);
	src = wp_image_page(pool, idx, rel);
	if (!write && src)
		return wp_pages_map_image(pool, idx, vma, address, pgoff);
	if (!write && pool->zero_page)
		return wp_pages_map_zero(pool, idx, vma, address);

	switch (wp_pages_new(pool, slot, rel, GFP_HIGHUSER, GFP_KERNEL_ACCOUNT,
			     src, &page)) {
	case 0:
		break;
	case -EEXIST:
		/* A fault on the same page of this slot won. */
		return wp_pages_map_resident(pool, idx, vma, address, pgoff, page);
	case -EDQUOT:
		atomic64_inc(&wp_global.limit_hits);
		pr_info_ratelimited("%s[%d]: SIGBUS: a pool reached the limit max_resident_bytes_per_pool=%llu (/sys/class/misc/wasmpool/max_resident_bytes_per_pool)\n",
				    current->comm, task_pid_nr(current),
				    pool->max_resident_pages << PAGE_SHIFT);
		return VM_FAULT_SIGBUS;
	default:
		return VM_FAULT_OOM;
	}
	wp_pages_account(pool, slot, 1);
	atomic64_inc(&pool->pages_allocated);
	if (src)
		atomic64_inc(&pool->image_copies);
	if (pool->populate_ahead && rel && xa_load(&slot->pages, rel - 1))
		wp_pages_alloc_ahead(pool, idx, vma, address, pgoff);
	/* On failure the page stays in the index, resident, for the retry. */
	return wp_pages_map_resident(pool, idx, vma, address, pgoff, page);
}
