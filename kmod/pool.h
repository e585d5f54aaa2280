/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pool: one configured file of /dev/wasmpool. Its layout, its owner,
 * its slots and their free lists, its resident pages and its counters.
 *
 * Locking, outermost first:
 *   mmap_lock of the owner mm (->mmap, vm_operations, the fault handler),
 *     or for the fault handler on 6.12 the faulting VMA's per-VMA lock
 *   wp_slot.lock (rw_semaphore: faults read; grow, reset, free write)
 *   i_mmap_rwsem of the pool's mapping (taken by unmap_mapping_range())
 *   wp_pool.lock (spinlock: free lists, slot states, slots_in_use)
 *   the xa_lock of wp_pool.images (image ids; see image.c)
 * Nothing holds wp_pool.lock across a sleeping call, and nothing takes a
 * slot lock while holding wp_pool.lock or i_mmap_rwsem.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef _WASMPOOL_POOL_H
#define _WASMPOOL_POOL_H

#include <linux/atomic.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <linux/wasmpool.h>

#include "layout.h"

struct wasmpool_configure;
struct wasmpool_stats;
struct wp_image;

/* Kinds of wp_slot.keyed and wp_alloc.keyed: what the affinity key is. */
enum wp_key_kind {
	WP_KEY_NONE,
	WP_KEY_USER,	/* the caller's affinity key */
	WP_KEY_IMAGE,	/* an image id: the natural key of an image's slots */
};

/*
 * WP_SLOT_RESERVED: taken by an allocation whose caller has not been told
 * yet (wp_pool_slot_commit() or wp_pool_slot_unalloc() follows);
 * WP_SLOT_FREEING: claimed by a free that has not finished. Commands treat
 * both as free.
 */
enum wp_slot_state {
	WP_SLOT_FREE,
	WP_SLOT_RESERVED,
	WP_SLOT_USED,
	WP_SLOT_FREEING,
};

/**
 * struct wp_slot - one slot of a pool
 * @lock: serializes the slot's commands (write) against its faults (read);
 *	protects @accessible and the slot's pages
 * @accessible: bytes from the slot start that faults may back; 0 when free.
 *	Written under @lock held for write, or under wp_pool.lock when a free
 *	slot is taken (nothing maps a free slot); read with READ_ONCE()
 * @pages: page offset in the slot -> struct page *, one reference each
 *	(pages.c); entries are added by faults under @lock held for read,
 *	taken out only under @lock held for write
 * @pages_end: no page of @pages lies at or above this page offset (a
 *	bound); raised under the xarray's lock, lowered under @lock held for
 *	write
 * @resident: pages of this slot in @pages (faults add to it in parallel,
 *	under @lock held for read)
 * @mapped_end: PTEs of the slot can exist only below this offset (a bound:
 *	the largest accessible size, or kept extent, since the slot was last
 *	unmapped above it); under @lock held for write, or owned by the
 *	allocating task while the slot is not WP_SLOT_USED
 * @affinity: the affinity key of the slot's last tenant, if @keyed; set by
 *	the allocating task, read under wp_pool.lock once the slot is free
 * @lru: on the stripe's list of warm free slots; under wp_pool.lock
 * @hnode: in wp_pool.affinity while free, warm and @keyed; under
 *	wp_pool.lock
 * @state: &enum wp_slot_state; written under wp_pool.lock, but for
 *	RESERVED -> USED, which the allocating task alone does
 * @next_cold: the next slot on the stripe's stack of cold free slots;
 *	under wp_pool.lock
 * @keyed: the &enum wp_key_kind of the last tenant's @affinity; as @affinity
 * @image_mapped: a read fault may have mapped a page of the slot's memory
 *	image (wp_slot_image()) since the slot was last unmapped whole; as
 *	@zero_mapped
 * @zero_mapped: a read fault may have mapped the zero page somewhere in the
 *	slot below @mapped_end since the slot was last unmapped from its
 *	start (such PTEs are not in @resident); set by faults under @lock
 *	held for read, cleared under @lock held for write
 */
struct wp_slot {
	struct rw_semaphore lock;
	struct xarray pages;
	pgoff_t pages_end;
	u64 accessible;
	u64 mapped_end;
	u64 affinity;
	struct list_head lru;
	struct hlist_node hnode;
	atomic_t resident;
	u32 state;
	u32 next_cold;
	u8 keyed;
	bool image_mapped;
	bool zero_mapped;
};

/**
 * struct wp_stripe - the free slots of one stripe (see freelist.c)
 * @cold: the top of the stack of cold free slots, or WP_NO_SLOT
 * @free_count: free slots, cold and warm
 * @warm: the warm free slots, least recently freed first
 */
struct wp_stripe {
	u32 cold;
	u32 free_count;
	struct list_head warm;
};

#define WP_NO_SLOT	U32_MAX
#define WP_ANY_STRIPE	U32_MAX

/**
 * struct wp_pool - a configured pool
 * @layout: the slab layout (immutable)
 * @keep_resident: bytes of a slot's pages, lowest offsets first, that a
 *	reset keeps (immutable)
 * @strict: resets and frees unmap the whole slot, kept pages too
 *	(WASMPOOL_CONFIGURE_STRICT; immutable)
 * @zero_page: a read of a page never written maps the zero page
 *	(WASMPOOL_CONFIGURE_ZERO_PAGE; immutable)
 * @populate_ahead: a sequential touch backs the next pages too
 *	(WASMPOOL_CONFIGURE_POPULATE_AHEAD; immutable)
 * @mm: the owning address space, pinned with mmgrab() (immutable)
 * @mapping: the file's private address space (immutable)
 * @slots: the slots
 * @stripes: the free lists, num_stripes of them
 * @affinity: hash of the warm free slots with a key, by key and stripe;
 *	1 << @affinity_bits buckets (the array immutable, its lists under
 *	@lock)
 * @affinity_bits: see @affinity (immutable)
 * @lock: protects @stripes, @affinity, the free-list fields of the slots,
 *	wp_slot.state, @slots_in_use, @next_stripe
 * @slots_in_use: allocated slots
 * @next_stripe: where an allocation without a stripe starts looking
 * @map_count: VMAs mapping the pool (all in @mm: VM_DONTCOPY, and VM_IO
 *	makes MADV_DOFORK fail); changed by ->mmap() and vm_operations under
 *	the owner's mmap_lock
 * @address: start of the mapping, 0 when unmapped; written under the
 *	owner's mmap_lock, read with READ_ONCE()
 * @pkeys: the protection key of each stripe, when num_stripes > 1
 *	(immutable); allocated in @mm
 * @apply_lock: serializes WASMPOOL_IOC_APPLY_KEYS
 * @applying: the task inside WASMPOOL_IOC_APPLY_KEYS, whose ->mmap() calls
 *	map single slots; written under @apply_lock, read with READ_ONCE()
 * @apply_base: where the pool was mapped when WASMPOOL_IOC_APPLY_KEYS
 *	started: its slot mappings go there or nowhere; under @apply_lock
 * @keys_applied: every slot has its own VMA with its stripe's key; written
 *	under the owner's mmap_lock, read with READ_ONCE()
 * @max_resident_pages: the admin limit on resident pages when the pool was
 *	configured, 0 for none (immutable)
 * @metadata_bytes: kernel memory of the bookkeeping; grows once, by
 *	@slot_images; read with READ_ONCE()
 * @resident_pages: pages in the slots' indexes, and pages faults are
 *	allocating
 * @faults: faults served
 * @faults_vma_locked: of @faults, those under the per-VMA lock alone
 * @pages_allocated: pages allocated by faults
 * @guard_faults: faults refused
 * @resets: resets and frees
 * @pages_cleared: kept pages zeroed in place
 * @pages_replaced: kept pages a reset found referenced elsewhere, dropped
 * @warm_hits: keyed allocations that got a warm slot of their key
 * @warm_misses: keyed allocations that did not
 * @unmaps: ranges of the mapping unmapped (wp_pages_unmap())
 * @pages_freed: pages returned to the system
 * @slot_images: the memory image each slot holds (wp_slot_image()), one
 *	array allocated with the pool's first image and NULL before, so that a
 *	pool without images pays nothing per slot; published with
 *	smp_store_release() under the xa_lock of @images, freed with the pool
 * @images: image id -> struct wp_image *, the pool's table of images, one
 *	reference each; ids given out cyclically from @image_next (image.c)
 * @image_next: the next image id to try; under the xa_lock of @images
 * @image_ids_wrapped: every id was given out once; under that lock too
 * @max_image_pages: the admin limit on the images' pages when the pool was
 *	configured, 0 for none (immutable)
 * @image_pages: pages of the pool's images that exist (or are being
 *	created), the limit's counter
 * @images_alive: images that exist, in the table or held by slots
 * @image_copies: pages a write copied from an image
 */
struct wp_pool {
	struct wp_layout layout;
	u64 keep_resident;
	bool strict;
	bool populate_ahead;
	bool zero_page;
	struct mm_struct *mm;
	struct address_space *mapping;
	struct wp_slot *slots;
	struct wp_stripe stripes[WASMPOOL_MAX_STRIPES];
	struct hlist_head *affinity;
	u32 affinity_bits;

	spinlock_t lock;	/* see above */
	u64 slots_in_use;
	u32 next_stripe;

	atomic_t map_count;
	unsigned long address;

	u8 pkeys[WASMPOOL_MAX_STRIPES];
	struct mutex apply_lock;	/* see above */
	struct task_struct *applying;
	unsigned long apply_base;
	bool keys_applied;

	u64 max_resident_pages;
	size_t metadata_bytes;

	atomic64_t resident_pages;
	atomic64_t faults;
	atomic64_t faults_vma_locked;
	atomic64_t pages_allocated;
	atomic64_t guard_faults;
	atomic64_t resets;
	atomic64_t pages_cleared;
	atomic64_t pages_replaced;
	atomic64_t warm_hits;
	atomic64_t warm_misses;
	atomic64_t unmaps;
	atomic64_t pages_freed;

	struct wp_image **slot_images;
	struct xarray images;
	u32 image_next;
	bool image_ids_wrapped;
	u64 max_image_pages;
	atomic64_t image_pages;
	atomic64_t images_alive;
	atomic64_t image_copies;
};

int wp_pool_create(struct wasmpool_configure *cfg,
		   struct address_space *mapping, struct wp_pool **out);
void wp_pool_destroy(struct wp_pool *pool);

int wp_pool_round_size(struct wp_pool *pool, u64 *bytes);
/**
 * struct wp_alloc - an allocation request and its answer
 * @accessible: in: the initial accessible size; out: rounded to pages
 * @stripe: in: the stripe wanted, or WP_ANY_STRIPE; out: the slot's stripe
 * @keyed: in: the &enum wp_key_kind of @affinity
 * @affinity: in: the affinity key
 * @image: in: the image the slot starts with, or NULL; the caller's
 *	reference, which the slot takes over (then NULL) or the caller drops
 * @slot: out: the slot
 * @reuse: out: &enum wasmpool_slot_reuse
 */
struct wp_alloc {
	u64 accessible;
	u32 stripe;
	u8 keyed;
	u64 affinity;
	struct wp_image *image;
	u32 slot;
	u32 reuse;
};

int wp_pool_slot_alloc(struct wp_pool *pool, struct wp_alloc *req);
int wp_pool_slot_grow(struct wp_pool *pool, u32 slot, u64 *accessible);
int wp_pool_slot_reset(struct wp_pool *pool, u32 slot, u64 *accessible);
int wp_pool_slot_free(struct wp_pool *pool, u32 slot);
void wp_pool_put_slot(struct wp_pool *pool, u32 idx);
int wp_pool_slots_free(struct wp_pool *pool, u32 *slots, u32 count);
void wp_pool_slot_commit(struct wp_pool *pool, const struct wp_alloc *req);
void wp_pool_slot_unalloc(struct wp_pool *pool, u32 slot);
void wp_pool_stats(struct wp_pool *pool, struct wasmpool_stats *st);
void wp_pool_unmapped(struct wp_pool *pool);
int wp_pool_apply_keys(struct wp_pool *pool, struct file *filp, u64 *vmas);
bool wp_pool_maps_range(struct wp_pool *pool, struct file *file,
			unsigned long base, unsigned long addr, unsigned long len);

/* The pool has protection-key stripes. */
static inline bool wp_pool_striped(const struct wp_pool *pool)
{
	return pool->layout.num_stripes > 1;
}

/* Byte offset of slot @idx in the file (and the mapping). */
static inline u64 wp_slot_offset(const struct wp_pool *pool, u32 idx)
{
	return pool->layout.pre_slab_guard_bytes + (u64)idx * pool->layout.slot_bytes;
}

/* The page offset in the pool's file at which slot @idx starts. */
static inline pgoff_t wp_slot_first(const struct wp_pool *pool, u32 idx)
{
	return wp_slot_offset(pool, idx) >> PAGE_SHIFT;
}

int wp_freelist_alloc(struct wp_pool *pool, u64 num_slots);
void wp_freelist_init(struct wp_pool *pool);
void wp_freelist_destroy(struct wp_pool *pool);
u32 wp_freelist_take(struct wp_pool *pool, u32 stripe, u8 keyed, u64 key,
		     u32 *reuse);
void wp_freelist_put(struct wp_pool *pool, u32 idx);
void wp_freelist_remove(struct wp_pool *pool, u32 idx);

/**
 * wp_slot_image() - the memory image a slot holds
 * @pool: the pool
 * @idx: the slot
 *
 * The slot's kept pages carry the image's bytes and its PTEs may map the
 * image's pages; the slot holds one reference, kept while it is free (the
 * image is its affinity) and dropped only after every PTE of the slot is
 * zapped (image.c). Set under the slot's lock held for write.
 *
 * Context: the slot's lock held, or (a slot that cannot change meanwhile:
 * free, under wp_pool.lock) none.
 * Return: the image, or NULL.
 */
static inline struct wp_image *wp_slot_image(const struct wp_pool *pool, u32 idx)
{
	/* Pairs with smp_store_release() in wp_image_create(). */
	struct wp_image **images = smp_load_acquire(&pool->slot_images);

	return images ? READ_ONCE(images[idx]) : NULL;
}

/*
 * A free slot is warm when the next tenant finds something in place:
 * kept pages, or an image whose pages it may still map.
 */
static inline bool wp_slot_warm(const struct wp_pool *pool, u32 idx)
{
	return atomic_read(&pool->slots[idx].resident) || wp_slot_image(pool, idx);
}

#endif /* _WASMPOOL_POOL_H */
