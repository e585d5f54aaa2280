/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * baselines.h: the two userspace strategies the benchmarks measure
 * /dev/wasmpool against, in C, each over one PROT_NONE MAP_NORESERVE
 * reservation with the device pool's layout.
 *
 * wt_*: Wasmtime's pooling allocator as it is today (2025 on: PR #11372,
 * "Add support for the Linux PAGEMAP_SCAN ioctl"), the main baseline.
 *   - A slot's accessible part is made read-write once, by the first
 *     instance that needs it, and stays mapped and accessible between
 *     instances (MemoryImageSlot::clear_and_remain_ready); mprotect() runs
 *     only when an instance needs a different size.
 *   - Slots come from a ModuleAffinityIndexAllocator (one mutex): a module
 *     gets back the slot it used last (the most recently freed one affine
 *     to it), else a never-used slot, else the least recently used one.
 *   - reset_with_pagemap(): one PAGEMAP_SCAN ioctl on /proc/self/pagemap
 *     over the slot's whole accessible part, for pages PRESENT and WRITTEN
 *     and neither the zero page nor file-backed, at most keep_resident /
 *     4096 pages, into 32 page_regions; each region is memset() to 0, and
 *     everything from the scan's walk_end to the end of the accessible part
 *     is MADV_DONTNEED'ed (nothing when the scan got to the end). A scan
 *     that stops early - keep_resident's pages found, or 32 regions - hence
 *     decommits the rest of the slot; that is what Wasmtime does (PR #14357,
 *     which would resume a scan whose regions ran out, is not merged).
 *   - Without the ioctl (it exists since Linux 6.7; 6.1 answers ENOTTY), or
 *     with keep_resident 0 (max_pages 0 would mean "no limit"), or with at
 *     most one page both kept and accessible, the fallback of the
 *     pagemap_disabled module: memset() of the first keep_resident bytes,
 *     MADV_DONTNEED of the rest. Decided at run time, per reset, and
 *     counted (struct wt_stats).
 *
 * classic_*: what the earlier runs measured as "Wasmtime's strategy":
 * mprotect() read-write to allocate, memset() of keep_resident +
 * MADV_DONTNEED of the rest + mprotect(PROT_NONE) to free, on every cycle.
 * That is the pooling allocator from before its slots stayed ready between
 * instances (its memory-image slots, 2022, already kept a slot read-write
 * when the next instance has the same size: what #11372 added is the scan),
 * and still what Wasmtime pays when every instance grows its memory from a
 * small initial size (mprotect() to grow, and to shrink back on reuse).
 * Kept beside the other for comparison with earlier runs.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef WASMPOOL_BENCH_BASELINES_H
#define WASMPOOL_BENCH_BASELINES_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/fs.h>

#include "wasmpool.h"

/*
 * The slab layout of the cycle and scale benchmarks, on both sides:
 * Wasmtime's defaults on 64-bit hosts (a 4 GiB reservation per memory, a
 * 32 MiB guard after it and one before the first slot), with the
 * benchmarks' own maximum memory. Address space only; MAP_NORESERVE.
 */
#define BENCH_RESERVATION	(4ULL << 30)
#define BENCH_GUARD		(32ULL << 20)
#define BENCH_LAYOUT_FLAGS	WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS

/*
 * The PAGEMAP_SCAN uapi (include/uapi/linux/fs.h since 6.7), for build hosts
 * whose kernel headers are older (Debian 12's linux-libc-dev is 6.1).
 */
#ifndef PAGEMAP_SCAN
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN		_IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_WPALLOWED	(1 << 0)
#define PAGE_IS_WRITTEN		(1 << 1)
#define PAGE_IS_FILE		(1 << 2)
#define PAGE_IS_PRESENT		(1 << 3)
#define PAGE_IS_SWAPPED		(1 << 4)
#define PAGE_IS_PFNZERO		(1 << 5)
#define PAGE_IS_HUGE		(1 << 6)
#define PAGE_IS_SOFT_DIRTY	(1 << 7)
#endif

#define BL_PAGE		4096UL
#define WT_MAX_REGIONS	32	/* Wasmtime's MAX_REGIONS, on the stack */
#define WT_MAX_MODULES	8
#define WT_NONE		(-1)

/* ---- both: one PROT_NONE reservation with the device pool's layout ---- */

struct bl_slab {
	char *base;
	size_t total, slot_bytes, pre, keep;
};

static inline int bl_slab_init(struct bl_slab *s, const struct wasmpool_layout *l,
			       size_t keep)
{
	s->total = l->total_bytes;
	s->base = mmap(NULL, s->total, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->base == MAP_FAILED)
		return -errno;
	s->slot_bytes = l->slot_bytes;
	s->pre = l->pre_slab_guard_bytes;
	s->keep = keep;
	return 0;
}

static inline void bl_slab_fini(struct bl_slab *s)
{
	munmap(s->base, s->total);
}

static inline char *bl_slab_slot(const struct bl_slab *s, uint32_t slot)
{
	return s->base + s->pre + (size_t)slot * s->slot_bytes;
}

/* ---- classic: mprotect() per cycle ------------------------------------ */

struct classic_pool {
	struct bl_slab slab;
};

static inline int classic_init(struct classic_pool *p, const struct wasmpool_layout *l,
			       size_t keep)
{
	return bl_slab_init(&p->slab, l, keep);
}

static inline void classic_fini(struct classic_pool *p)
{
	bl_slab_fini(&p->slab);
}

static inline char *classic_slot(const struct classic_pool *p, uint32_t slot)
{
	return bl_slab_slot(&p->slab, slot);
}

/* Allocate: the accessible part becomes read-write. */
static inline int classic_alloc(struct classic_pool *p, uint32_t slot, size_t accessible)
{
	if (mprotect(classic_slot(p, slot), accessible, PROT_READ | PROT_WRITE))
		return -errno;
	return 0;
}

/* The reset part of a free: memset() keep_resident, MADV_DONTNEED the rest. */
static inline int classic_reset(struct classic_pool *p, uint32_t slot, size_t accessible)
{
	char *s = classic_slot(p, slot);
	size_t keep = p->slab.keep < accessible ? p->slab.keep : accessible;

	memset(s, 0, keep);
	if (accessible > keep && madvise(s + keep, accessible - keep, MADV_DONTNEED))
		return -errno;
	return 0;
}

/* Free: reset, then the accessible part becomes PROT_NONE again. */
static inline int classic_free(struct classic_pool *p, uint32_t slot, size_t accessible)
{
	int ret = classic_reset(p, slot, accessible);

	if (ret)
		return ret;
	if (mprotect(classic_slot(p, slot), accessible, PROT_NONE))
		return -errno;
	return 0;
}

/* ---- Wasmtime today -------------------------------------------------- */

/* How each reset went; one per thread, summed by the caller. */
struct wt_stats {
	long scan;		/* PAGEMAP_SCAN reached the end: memset() only */
	long scan_madvise;	/* it stopped early: + MADV_DONTNEED of the rest */
	long fallback;		/* memset() of keep_resident + MADV_DONTNEED */
	long scan_failed;	/* the ioctl failed, so the fallback ran */
};

/* An index-linked list, as Wasmtime's index_allocator.rs has. */
struct wt_list {
	int32_t head, tail;
};

struct wt_link {
	int32_t prev, next;
};

struct wt_slot {
	/*
	 * MemoryPool::image_slots[i]: a Mutex<Option<MemoryImageSlot>> that
	 * an allocation takes the slot's state out of and its deallocation
	 * puts back.
	 */
	pthread_mutex_t image_lock;
	int image_taken;		/* guarded by image_lock */
	/* the holder's, from wt_alloc() to wt_release(); kept in between */
	size_t accessible;		/* read-write bytes */
	/* guarded by wt_pool.lock */
	int32_t module;			/* last (or current) module, or WT_NONE */
	int used;
	struct wt_link warm;		/* in wt_pool.warm, when unused */
	struct wt_link affine;		/* in wt_pool.affine[module], when unused */
};

struct wt_pool {
	struct bl_slab slab;
	int pagemap;			/* /proc/self/pagemap with PAGEMAP_SCAN, or -1 */
	int pagemap_errno;		/* why not, when -1 */
	uint32_t nslots;
	/* ModuleAffinityIndexAllocator: its Mutex<Inner>, guarding what follows */
	pthread_mutex_t lock;
	uint32_t last_cold, unused_warm;
	uint32_t max_unused_warm;	/* Wasmtime's default: 100 */
	struct wt_list warm;		/* LRU at the head */
	struct wt_list affine[WT_MAX_MODULES];	/* MRU at the tail */
	struct wt_slot *slots;
};

static inline void wt_list_append(struct wt_list *l, struct wt_slot *slots, int32_t id,
				  size_t link)
{
	struct wt_link *n = (struct wt_link *)((char *)&slots[id] + link);

	n->prev = l->tail;
	n->next = WT_NONE;
	if (l->tail != WT_NONE)
		((struct wt_link *)((char *)&slots[l->tail] + link))->next = id;
	else
		l->head = id;
	l->tail = id;
}

static inline void wt_list_remove(struct wt_list *l, struct wt_slot *slots, int32_t id,
				  size_t link)
{
	struct wt_link *n = (struct wt_link *)((char *)&slots[id] + link);

	if (n->next != WT_NONE)
		((struct wt_link *)((char *)&slots[n->next] + link))->prev = n->prev;
	else
		l->tail = n->prev;
	if (n->prev != WT_NONE)
		((struct wt_link *)((char *)&slots[n->prev] + link))->next = n->next;
	else
		l->head = n->next;
}

/*
 * Is PAGEMAP_SCAN there? Wasmtime's PageMap::new(): an empty scan with
 * max_pages 1, every category in the mask, nothing returned.
 */
static inline int wt_pagemap_probe(int *err)
{
	struct page_region r;
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.vec = (uintptr_t)&r,
		.vec_len = 1,
		.max_pages = 1,
		.category_mask = PAGE_IS_WPALLOWED | PAGE_IS_WRITTEN | PAGE_IS_FILE |
				 PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO |
				 PAGE_IS_HUGE | PAGE_IS_SOFT_DIRTY,
	};
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (ioctl(fd, PAGEMAP_SCAN, &a) < 0) {
		*err = errno;
		close(fd);
		return -1;
	}
	*err = 0;
	return fd;
}

static inline int wt_init(struct wt_pool *p, const struct wasmpool_layout *l, size_t keep)
{
	uint32_t i;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = bl_slab_init(&p->slab, l, keep);
	if (ret)
		return ret;
	p->nslots = l->num_slots;
	p->max_unused_warm = 100;
	p->slots = calloc(p->nslots, sizeof(*p->slots));
	if (!p->slots) {
		bl_slab_fini(&p->slab);
		return -ENOMEM;
	}
	for (i = 0; i < p->nslots; i++) {
		pthread_mutex_init(&p->slots[i].image_lock, NULL);
		p->slots[i].module = WT_NONE;
	}
	p->warm.head = p->warm.tail = WT_NONE;
	for (i = 0; i < WT_MAX_MODULES; i++)
		p->affine[i].head = p->affine[i].tail = WT_NONE;
	pthread_mutex_init(&p->lock, NULL);
	p->pagemap = wt_pagemap_probe(&p->pagemap_errno);
	return 0;
}

static inline void wt_fini(struct wt_pool *p)
{
	uint32_t i;

	for (i = 0; i < p->nslots; i++)
		pthread_mutex_destroy(&p->slots[i].image_lock);
	if (p->pagemap >= 0)
		close(p->pagemap);
	pthread_mutex_destroy(&p->lock);
	free(p->slots);
	bl_slab_fini(&p->slab);
}

static inline char *wt_slot_addr(const struct wt_pool *p, int32_t slot)
{
	return bl_slab_slot(&p->slab, slot);
}

/* Take a warm slot off both its lists. Called with p->lock held. */
static inline void wt_take_warm(struct wt_pool *p, int32_t id)
{
	struct wt_slot *s = &p->slots[id];

	p->unused_warm--;
	wt_list_remove(&p->warm, p->slots, id, offsetof(struct wt_slot, warm));
	if (s->module != WT_NONE)
		wt_list_remove(&p->affine[s->module], p->slots, id,
			       offsetof(struct wt_slot, affine));
}

/* ModuleAffinityIndexAllocator::alloc(Some(module)). */
static inline int32_t wt_index_alloc(struct wt_pool *p, int32_t module)
{
	int32_t id = WT_NONE;

	pthread_mutex_lock(&p->lock);
	if (p->affine[module].tail != WT_NONE) {
		id = p->affine[module].tail;		/* most recently used */
		wt_take_warm(p, id);
	} else if (p->unused_warm < p->max_unused_warm && p->last_cold < p->nslots) {
		id = p->last_cold++;			/* never used */
	} else if (p->warm.head != WT_NONE) {
		id = p->warm.head;			/* least recently used */
		wt_take_warm(p, id);
	} else if (p->last_cold < p->nslots) {
		id = p->last_cold++;
	}
	if (id != WT_NONE) {
		p->slots[id].used = 1;
		p->slots[id].module = module;
	}
	pthread_mutex_unlock(&p->lock);
	return id;
}

/* ModuleAffinityIndexAllocator::free(). */
static inline void wt_index_free(struct wt_pool *p, int32_t id)
{
	pthread_mutex_lock(&p->lock);
	p->slots[id].used = 0;
	p->unused_warm++;
	wt_list_append(&p->warm, p->slots, id, offsetof(struct wt_slot, warm));
	wt_list_append(&p->affine[p->slots[id].module], p->slots, id,
		       offsetof(struct wt_slot, affine));
	pthread_mutex_unlock(&p->lock);
}

/*
 * The end of a deallocation, after the reset: put the slot's state back
 * (return_memory_image_slot()), then free its index.
 */
static inline void wt_release(struct wt_pool *p, int32_t id)
{
	struct wt_slot *s = &p->slots[id];

	pthread_mutex_lock(&s->image_lock);
	s->image_taken = 0;
	pthread_mutex_unlock(&s->image_lock);
	wt_index_free(p, id);
}

/*
 * Allocate a memory of @accessible bytes for @module (MemoryPool::allocate
 * + MemoryImageSlot::instantiate, without an image): the slot's read-write
 * part grows or shrinks to @accessible with mprotect(), or stays as it is.
 * Returns the slot, or -errno.
 */
static inline int32_t wt_alloc(struct wt_pool *p, int32_t module, size_t accessible)
{
	int32_t id = wt_index_alloc(p, module), err;
	struct wt_slot *s;
	char *base;

	if (id == WT_NONE)
		return -EBUSY;
	s = &p->slots[id];
	base = wt_slot_addr(p, id);
	pthread_mutex_lock(&s->image_lock);	/* take_memory_image_slot() */
	s->image_taken = 1;
	pthread_mutex_unlock(&s->image_lock);
	if (s->accessible < accessible) {
		if (mprotect(base + s->accessible, accessible - s->accessible,
			     PROT_READ | PROT_WRITE))
			goto fail;
	} else if (s->accessible > accessible) {
		if (mprotect(base + accessible, s->accessible - accessible, PROT_NONE))
			goto fail;
	}
	s->accessible = accessible;
	return id;
fail:
	err = -errno;
	wt_release(p, id);
	return err;
}

/* pagemap_disabled::reset_with_pagemap(): memset keep, decommit the rest. */
static inline int wt_reset_fallback(char *base, size_t len, size_t keep)
{
	memset(base, 0, keep);
	if (len > keep && madvise(base + keep, len - keep, MADV_DONTNEED))
		return -errno;
	return 0;
}

/*
 * reset_with_pagemap()'s scan: one PAGEMAP_SCAN over [@base, @base + @len)
 * for at most @keep bytes of dirty pages (written and present, neither the
 * zero page nor a file's) into @regs; -errno, or the regions found, with
 * where the walk ended in *@walk_end.
 */
static inline long wt_pagemap_scan(int pagemap, char *base, size_t len, size_t keep,
				   struct page_region *regs, uint64_t *walk_end)
{
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.start = (uintptr_t)base,
		.end = (uintptr_t)base + len,
		.vec = (uintptr_t)regs,
		.vec_len = WT_MAX_REGIONS,
		.max_pages = keep / BL_PAGE,
		.category_inverted = PAGE_IS_PFNZERO | PAGE_IS_FILE,
		.category_mask = PAGE_IS_WRITTEN | PAGE_IS_PRESENT |
				 PAGE_IS_PFNZERO | PAGE_IS_FILE,
		.return_mask = 0,	/* so that adjacent regions merge */
	};
	long n;

	*walk_end = a.end;
	n = ioctl(pagemap, PAGEMAP_SCAN, &a);
	if (n < 0)
		return -errno;
	*walk_end = a.walk_end;
	return n;
}

/*
 * MemoryImageSlot::clear_and_remain_ready() of a slot without an image:
 * reset_with_pagemap() over the accessible part, the slot stays read-write.
 */
static inline int wt_reset(struct wt_pool *p, int32_t id, struct wt_stats *st)
{
	struct page_region regs[WT_MAX_REGIONS];
	char *base = wt_slot_addr(p, id);
	size_t len = p->slots[id].accessible;
	size_t keep = p->slab.keep < len ? p->slab.keep : len;
	uint64_t walk_end;
	long i, n;

	if (p->pagemap < 0 || keep == 0 || (keep <= BL_PAGE && len <= BL_PAGE)) {
		st->fallback++;
		return wt_reset_fallback(base, len, keep);
	}
	n = wt_pagemap_scan(p->pagemap, base, len, keep, regs, &walk_end);
	if (n < 0) {
		st->scan_failed++;
		return wt_reset_fallback(base, len, keep);
	}
	for (i = 0; i < n; i++)
		memset((char *)(uintptr_t)regs[i].start, 0, regs[i].end - regs[i].start);
	if (walk_end < (uintptr_t)base + len) {
		st->scan_madvise++;
		if (madvise((char *)(uintptr_t)walk_end, (uintptr_t)base + len - walk_end,
			    MADV_DONTNEED))
			return -errno;
	} else {
		st->scan++;
	}
	return 0;
}

/* Free a memory: reset it (it stays accessible), then release it. */
static inline int wt_free(struct wt_pool *p, int32_t id, struct wt_stats *st)
{
	int ret = wt_reset(p, id, st);

	if (ret)
		return ret;
	wt_release(p, id);
	return 0;
}

static inline void wt_stats_add(struct wt_stats *sum, const struct wt_stats *st)
{
	sum->scan += st->scan;
	sum->scan_madvise += st->scan_madvise;
	sum->fallback += st->fallback;
	sum->scan_failed += st->scan_failed;
}

/*
 * What the resets of @st did, for the tables and results.csv: "scan"
 * (PAGEMAP_SCAN, memset() of what it found), "scan+madvise" (it stopped
 * early, the rest decommitted), "memset+madvise" (the fallback), or
 * "mixed" when more than one of these ran.
 */
static inline const char *wt_stats_kind(const struct wt_stats *st)
{
	long fb = st->fallback + st->scan_failed;
	int kinds = !!st->scan + !!st->scan_madvise + !!fb;

	if (kinds > 1)
		return "mixed";
	if (st->scan)
		return "scan";
	if (st->scan_madvise)
		return "scan+madvise";
	return "memset+madvise";
}

/* One line on the reset Wasmtime would use here, for the benchmark's log. */
static inline const char *wt_pagemap_note(const struct wt_pool *p)
{
	if (p->pagemap >= 0)
		return "PAGEMAP_SCAN available: reset_with_pagemap() scans (keep_resident > 0)";
	if (p->pagemap_errno == ENOTTY || p->pagemap_errno == EINVAL)
		return "PAGEMAP_SCAN missing (kernel before 6.7): the memset+madvise fallback";
	return "PAGEMAP_SCAN unusable: the memset+madvise fallback";
}

#endif /* WASMPOOL_BENCH_BASELINES_H */
