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
 * @keyed: the last tenant gave an affinity key; as @affinity
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
	bool keyed;
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
 * @keep_resident: bytes of a slot whose pages a reset keeps (immutable)
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
 * @metadata_bytes: kernel memory of the bookkeeping (immutable)
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
};

int wp_pool_create(struct wasmpool_configure *cfg,
		   struct address_space *mapping, struct wp_pool **out);
void wp_pool_destroy(struct wp_pool *pool);

int wp_pool_round_size(struct wp_pool *pool, u64 *bytes);
/**
 * struct wp_alloc - an allocation request and its answer
 * @accessible: in: the initial accessible size; out: rounded to pages
 * @stripe: in: the stripe wanted, or WP_ANY_STRIPE; out: the slot's stripe
 * @keyed: in: @affinity is given
 * @affinity: in: the affinity key
 * @slot: out: the slot
 * @reuse: out: &enum wasmpool_slot_reuse
 */
struct wp_alloc {
	u64 accessible;
	u32 stripe;
	bool keyed;
	u64 affinity;
	u32 slot;
	u32 reuse;
};

int wp_pool_slot_alloc(struct wp_pool *pool, struct wp_alloc *req);
int wp_pool_slot_grow(struct wp_pool *pool, u32 slot, u64 *accessible);
int wp_pool_slot_reset(struct wp_pool *pool, u32 slot, u64 *accessible);
int wp_pool_slot_free(struct wp_pool *pool, u32 slot);
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

int wp_freelist_alloc(struct wp_pool *pool, u64 num_slots);
void wp_freelist_init(struct wp_pool *pool);
void wp_freelist_destroy(struct wp_pool *pool);
u32 wp_freelist_take(struct wp_pool *pool, u32 stripe, bool keyed, u64 key,
		     u32 *reuse);
void wp_freelist_put(struct wp_pool *pool, u32 idx);

#endif /* _WASMPOOL_POOL_H */
