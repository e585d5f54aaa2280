/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * libwasmpool - userspace library for /dev/wasmpool.
 *
 * Every function returns 0 (or a non-negative value) on success and a
 * negative errno value on failure. No function changes errno.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef LIBWASMPOOL_H
#define LIBWASMPOOL_H

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/wasmpool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WASMPOOL_DEVICE_PATH	"/dev/wasmpool"

/* Version of this library (not of the kernel ABI). */
#define WASMPOOL_LIB_MAJOR	0
#define WASMPOOL_LIB_MINOR	4

/**
 * wasmpool_version() - version string of the library, "MAJOR.MINOR.PATCH"
 */
const char *wasmpool_version(void);

/**
 * wasmpool_open() - open /dev/wasmpool read-write with O_CLOEXEC
 * @flags: must be 0
 *
 * Return: a file descriptor, or -errno (-ENOENT: module not loaded,
 * -EACCES: no permission to the device, -EINVAL: unknown @flags).
 */
int wasmpool_open(unsigned int flags);

/**
 * wasmpool_info() - the WASMPOOL_IOC_INFO handshake
 * @fd: an open file of /dev/wasmpool
 * @info: filled on success; the library sets its size and flags
 *
 * Return: 0 or -errno as documented in <linux/wasmpool.h>.
 */
int wasmpool_info(int fd, struct wasmpool_info *info);

/**
 * wasmpool_layout_calc() - compute a slab layout in userspace
 * @cmd: the configuration (flags, sizes, num_pkeys); its layout is filled
 *
 * The same computation, from the same source, as the kernel's
 * WASMPOOL_IOC_LAYOUT; needs no device. @cmd->size is not used.
 *
 * Return: 0, -EINVAL (max memory above the reservation), -EOVERFLOW (a size
 * does not fit in 64 bits) or -EOPNOTSUPP (unknown flag, reserved field).
 */
int wasmpool_layout_calc(struct wasmpool_layout_cmd *cmd);

/**
 * wasmpool_layout_query() - ask the kernel for a slab layout
 * @fd: an open file of /dev/wasmpool
 * @cmd: as for wasmpool_layout_calc(); the library sets its size
 *
 * Return: as wasmpool_layout_calc(), or another -errno of the ioctl.
 */
int wasmpool_layout_query(int fd, struct wasmpool_layout_cmd *cmd);

/**
 * struct wasmpool - a configured and mapped pool
 * @fd: the open file of /dev/wasmpool
 * @base: where the slab is mapped
 * @layout: the slab layout the kernel computed
 * @stripe_pkeys: the protection key of each stripe (all 0 without stripes)
 *
 * Filled by wasmpool_create(); the fields are read-only for the caller.
 */
struct wasmpool {
	int fd;
	char *base;
	struct wasmpool_layout layout;
	uint8_t stripe_pkeys[WASMPOOL_MAX_STRIPES];
};

/**
 * wasmpool_create() - open, configure and map a pool in one call
 * @pool: filled on success
 * @cfg: the configuration (see WASMPOOL_IOC_CONFIGURE); its size is set and
 *	its layout filled by the call
 *
 * For a striped pool it also gives every slot its stripe's key
 * (WASMPOOL_IOC_APPLY_KEYS): four system calls whatever the pool's size.
 * The keys start denied in PKRU: open them with wasmpool_pkru_*().
 *
 * Return: 0 or -errno of open(), WASMPOOL_IOC_CONFIGURE, mmap() or
 * WASMPOOL_IOC_APPLY_KEYS; nothing is left open or mapped on failure.
 */
int wasmpool_create(struct wasmpool *pool, struct wasmpool_configure *cfg);

/**
 * wasmpool_apply_keys() - WASMPOOL_IOC_APPLY_KEYS: key every slot
 * @fd: a configured and mapped file
 * @vmas: if not NULL, set to the number of VMAs of the pool afterwards
 *
 * Return: 0 or -errno as documented in <linux/wasmpool.h>.
 */
int wasmpool_apply_keys(int fd, uint64_t *vmas);

/**
 * wasmpool_destroy() - unmap and close a pool made by wasmpool_create()
 * @pool: the pool; its memory is gone afterwards, and @pool is cleared
 *	(fd -1, base NULL, layout zero)
 *
 * Return: 0, -EBADF when @pool was destroyed already, or -errno of
 * munmap().
 */
int wasmpool_destroy(struct wasmpool *pool);

/**
 * wasmpool_configure() - WASMPOOL_IOC_CONFIGURE on an open file
 * @fd: from wasmpool_open()
 * @cfg: the configuration; size set and layout filled by the call
 *
 * Return: 0 or -errno as documented in <linux/wasmpool.h>.
 */
int wasmpool_configure(int fd, struct wasmpool_configure *cfg);

/**
 * wasmpool_map() - map a configured pool: the whole slab, shared, read-write
 * @fd: a configured file
 * @layout: the layout WASMPOOL_IOC_CONFIGURE returned
 * @base: set to the mapping's address
 *
 * Return: 0 or -errno of mmap().
 */
int wasmpool_map(int fd, const struct wasmpool_layout *layout, char **base);

/**
 * wasmpool_slot_alloc() - take a free slot of any stripe
 * @pool: the pool
 * @bytes: the initial accessible size
 * @slot: filled with the slot, its stripe, offset, address and size
 *
 * Return: 0, -ENOSPC (pool full), -ERANGE (@bytes above max memory), or
 * another -errno of WASMPOOL_IOC_SLOT_ALLOC.
 */
int wasmpool_slot_alloc(const struct wasmpool *pool, uint64_t bytes,
			struct wasmpool_slot_alloc *slot);

/**
 * wasmpool_slot_alloc_stripe() - take a free slot of one stripe
 * @pool: the pool
 * @bytes: the initial accessible size
 * @stripe: the stripe
 * @slot: as for wasmpool_slot_alloc()
 *
 * Return: as wasmpool_slot_alloc(); -ENOSPC when that stripe is full,
 * -EINVAL when there is no such stripe.
 */
int wasmpool_slot_alloc_stripe(const struct wasmpool *pool, uint64_t bytes,
			       uint32_t stripe, struct wasmpool_slot_alloc *slot);

/**
 * wasmpool_slot_alloc_affinity() - take a free slot, preferring one last
 * used with the same affinity key
 * @pool: the pool
 * @bytes: the initial accessible size
 * @key: the caller's affinity key, such as its module's id
 * @slot: as for wasmpool_slot_alloc(); @slot->reuse says whether the slot
 *	is warm with the same key (WASMPOOL_SLOT_WARM_HIT)
 *
 * Return: as wasmpool_slot_alloc().
 */
int wasmpool_slot_alloc_affinity(const struct wasmpool *pool, uint64_t bytes,
				 uint64_t key, struct wasmpool_slot_alloc *slot);

/**
 * wasmpool_image_create() - make a memory image of the pool from memory
 * @pool: the pool
 * @addr: the image's bytes (any alignment)
 * @len: their length: a multiple of the page size, from one page to the
 *	pool's max memory
 * @image: filled with the image's id on success
 *
 * The kernel copies the bytes: the image never changes afterwards. A slot
 * allocated with it (wasmpool_slot_alloc_image()) reads it without a copy
 * and copies a page on its first write; a reset puts it back. (Added in
 * 0.4; see "Memory images" in <linux/wasmpool.h>.)
 *
 * Return: 0, -EINVAL (@len zero, unaligned or above max memory), -EFAULT,
 * -EDQUOT (the admin's max_image_bytes_per_pool), -ENOMEM, -ENOTTY (a
 * module before 0.4).
 */
int wasmpool_image_create(const struct wasmpool *pool, const void *addr, uint64_t len,
			  uint32_t *image);

/**
 * wasmpool_image_create_fd() - make a memory image of the pool from a file
 * @pool: the pool
 * @fd: a file descriptor open for reading of a regular file, such as the
 *	memfd a runtime lays its module's data segments out in
 * @offset: where the image starts in the file, a multiple of the page size
 * @len: as for wasmpool_image_create()
 * @image: filled with the image's id on success
 *
 * As wasmpool_image_create(), reading the bytes from the file: a later
 * change of the file does not change the image. (Added in 0.4.)
 *
 * Return: as wasmpool_image_create(); -EBADF (@fd not open for reading),
 * -EINVAL also for a file that is not regular or ends before @offset +
 * @len, -EOVERFLOW for @offset + @len beyond the largest file offset.
 */
int wasmpool_image_create_fd(const struct wasmpool *pool, int fd, uint64_t offset,
			     uint64_t len, uint32_t *image);

/**
 * wasmpool_image_release() - drop a memory image from the pool
 * @pool: the pool
 * @image: its id
 *
 * Slots allocated with the image keep it until they are freed; its memory
 * goes with the last of them. (Added in 0.4.)
 *
 * Return: 0, -EINVAL (an id the pool never gave out), -ENOENT (released
 * already).
 */
int wasmpool_image_release(const struct wasmpool *pool, uint32_t image);

/**
 * wasmpool_slot_alloc_image() - take a free slot that starts as an image
 * @pool: the pool
 * @bytes: the initial accessible size, at least the image's length
 * @image: a memory image of the pool
 * @slot: as for wasmpool_slot_alloc(); @slot->reuse is
 *	WASMPOOL_SLOT_WARM_HIT for a warm slot that last held the same image
 *
 * The image is the affinity key: the allocation prefers a warm slot that
 * last held it, whose image pages are still mapped. (Added in 0.4.)
 *
 * Return: as wasmpool_slot_alloc(); -EINVAL also for an id the pool never
 * gave out or @bytes below the image's length, -ENOENT for a released
 * image.
 */
int wasmpool_slot_alloc_image(const struct wasmpool *pool, uint64_t bytes, uint32_t image,
			      struct wasmpool_slot_alloc *slot);

/**
 * wasmpool_slot_grow() - raise a slot's accessible size (memory.grow)
 * @pool: the pool
 * @slot: an allocated slot
 * @bytes: the new size, at least the current one
 *
 * Return: 0, -ERANGE (above max memory), -EINVAL (smaller than now),
 * -ENOENT (slot not allocated).
 */
int wasmpool_slot_grow(const struct wasmpool *pool, uint32_t slot, uint64_t bytes);

/**
 * wasmpool_slot_reset() - zero a slot for its next tenant
 * @pool: the pool
 * @slot: an allocated slot
 * @bytes: the accessible size of the next tenant
 *
 * Return: 0, -ERANGE, -ENOENT.
 */
int wasmpool_slot_reset(const struct wasmpool *pool, uint32_t slot, uint64_t bytes);

/**
 * wasmpool_slot_free() - reset a slot and give it back
 * @pool: the pool
 * @slot: an allocated slot
 *
 * Return: 0, -ENOENT (not allocated: freed twice), -EINVAL (no such slot).
 */
int wasmpool_slot_free(const struct wasmpool *pool, uint32_t slot);

/**
 * wasmpool_slot_free_batch() - reset many slots and give them back at once
 * @pool: the pool
 * @slots: the slots, allocated, each once, in any order
 * @count: how many; 0 does nothing; at most WASMPOOL_FREE_BATCH_MAX
 *
 * All or none; one system call, and one unmap for each run of
 * neighbouring slots where pages must be unmapped (see
 * WASMPOOL_IOC_SLOT_FREE_BATCH). For a runtime's decommit queue.
 *
 * Return: 0, -ENOENT (a slot not allocated: none is freed), -EINVAL (no
 * such slot, a slot given twice, @count above WASMPOOL_FREE_BATCH_MAX),
 * -ENOTTY (a module before 0.2).
 */
int wasmpool_slot_free_batch(const struct wasmpool *pool, const uint32_t *slots,
			     size_t count);

/**
 * wasmpool_stats() - the pool's counters
 * @pool: the pool
 * @stats: filled
 *
 * Return: 0 or -errno of WASMPOOL_IOC_STATS.
 */
int wasmpool_stats(const struct wasmpool *pool, struct wasmpool_stats *stats);

/**
 * wasmpool_slot_addr() - the address of a slot's first byte
 * @pool: the pool
 * @slot: a slot index below layout.num_slots
 */
static inline void *wasmpool_slot_addr(const struct wasmpool *pool, uint32_t slot)
{
	return pool->base + pool->layout.pre_slab_guard_bytes +
	       (uint64_t)slot * pool->layout.slot_bytes;
}

/**
 * wasmpool_slot_of() - the slot an address belongs to
 * @pool: the pool
 * @addr: a slot's first byte (what wasmpool_slot_addr() gives), or any
 *	byte of the slot up to the next slot's first (its memory, the rest of
 *	its reservation, its guard)
 * @slot: filled with the slot's index on success
 *
 * The inverse of wasmpool_slot_addr(), for a runtime's callbacks that get
 * back only a memory's base (grow, free). Pure arithmetic on the layout:
 * async-signal-safe. (Added in 0.3.)
 *
 * Return: 0, or -ENOENT when @addr is in no slot of @pool: outside its
 * mapping, in the guard before or after the slab, or @pool destroyed.
 */
static inline int wasmpool_slot_of(const struct wasmpool *pool, const void *addr,
				   uint32_t *slot)
{
	uintptr_t a = (uintptr_t)addr, first;
	uint64_t idx;

	if (!pool->base || !pool->layout.slot_bytes)
		return -ENOENT;
	first = (uintptr_t)wasmpool_slot_addr(pool, 0);
	if (a < first)
		return -ENOENT;
	idx = (a - first) / pool->layout.slot_bytes;
	if (idx >= pool->layout.num_slots)
		return -ENOENT;
	*slot = (uint32_t)idx;
	return 0;
}

/* Flag of wasmpool_guard_reach(). */
#define WASMPOOL_REACH_OWN_STRIPE	(1u << 0)

/**
 * wasmpool_guard_reach() - how far past a slot's base every access faults
 * @pool: the pool
 * @flags: 0 for any thread; WASMPOOL_REACH_OWN_STRIPE for a thread whose
 *	PKRU opens, of the pool's keys, only the slot's stripe (as
 *	wasmpool_pkru_enter() leaves it)
 *
 * A runtime may leave out the bounds checks of a memory's accesses up to N
 * bytes past its base (index + offset < N; wasm2c, WAMR and V8 leave out
 * all of them for 32-bit memories, N = 8 GiB) only if every byte from the
 * memory's accessible size up to N faults for the thread that runs it.
 * This is the largest N for which that holds in every slot of @pool,
 * whatever its accessible size: the slot's reservation and guard, up to
 * the next slot the thread can reach - the next slot without stripes, the
 * next slot of the same stripe with WASMPOOL_REACH_OWN_STRIPE - or for the
 * last slots the end of the post-slab guard. With stripes the slots of the
 * other stripes fault only while the thread's PKRU denies their keys: a
 * thread that opened the whole pool (wasmpool_pkru_allow_pool()) gets the
 * reach without the flag, often just max memory. Pure arithmetic.
 * (Added in 0.3.)
 *
 * Return: the reach in bytes; 0 for a destroyed pool.
 */
uint64_t wasmpool_guard_reach(const struct wasmpool *pool, unsigned int flags);

/**
 * wasmpool_guards_cover() - may a runtime elide bounds checks up to @bytes?
 * @pool: the pool
 * @bytes: how far past a memory's base the runtime's unchecked accesses
 *	can reach (8 GiB for 32-bit memories without any check)
 * @flags: as for wasmpool_guard_reach()
 *
 * Return: 1 if every access of a slot's thread at or above the slot's
 * accessible size and below @bytes faults, else 0. (Added in 0.3.)
 */
static inline int wasmpool_guards_cover(const struct wasmpool *pool, uint64_t bytes,
					unsigned int flags)
{
	return wasmpool_guard_reach(pool, flags) >= bytes;
}

/**
 * enum wasmpool_fault_kind - what a faulting address of a pool is
 * @WASMPOOL_FAULT_OUTSIDE: not in the pool's mapping
 * @WASMPOOL_FAULT_PRE_GUARD: the guard region before the first slot
 * @WASMPOOL_FAULT_POST_GUARD: the guard region after the last slot
 * @WASMPOOL_FAULT_SLOT_GUARD: a slot's tail at or above max memory (its
 *	reservation and guard region): an out-of-bounds access
 * @WASMPOOL_FAULT_SLOT_MEMORY: a slot below max memory: above the slot's
 *	accessible size (an out-of-bounds access), or a free slot
 * @WASMPOOL_FAULT_OTHER_STRIPE: a slot of a stripe whose key the thread had
 *	not opened (SEGV_PKUERR)
 * @WASMPOOL_FAULT_RESIDENT_LIMIT: a SIGBUS in a slot's memory: the touch
 *	would have taken the pool beyond its resident limit
 *	(max_resident_bytes_per_pool) - a resource trap, not an out-of-bounds
 *	access (wasmpool_fault_classify_signal() only; added in 0.3)
 */
enum wasmpool_fault_kind {
	WASMPOOL_FAULT_OUTSIDE = 0,
	WASMPOOL_FAULT_PRE_GUARD,
	WASMPOOL_FAULT_POST_GUARD,
	WASMPOOL_FAULT_SLOT_GUARD,
	WASMPOOL_FAULT_SLOT_MEMORY,
	WASMPOOL_FAULT_OTHER_STRIPE,
	WASMPOOL_FAULT_RESIDENT_LIMIT,
};

/**
 * struct wasmpool_fault - where a fault hit a pool
 * @kind: an &enum wasmpool_fault_kind
 * @slot: the slot, for the SLOT_* and OTHER_STRIPE kinds
 * @stripe: the slot's stripe
 * @offset: the offset of the address in the slot
 */
struct wasmpool_fault {
	int kind;
	uint32_t slot;
	uint32_t stripe;
	uint64_t offset;
};

/**
 * wasmpool_fault_classify() - turn a SIGSEGV into a wasm trap
 * @pool: the pool
 * @addr: the faulting address (siginfo_t.si_addr)
 * @si_code: siginfo_t.si_code (SEGV_PKUERR marks a protection-key fault)
 * @fault: filled
 *
 * Pure arithmetic on the layout: async-signal-safe, for SIGSEGV handlers.
 *
 * Return: @fault->kind; WASMPOOL_FAULT_OUTSIDE (0) when @addr is not in
 * the pool, which a handler should treat as a crash, not a trap.
 */
int wasmpool_fault_classify(const struct wasmpool *pool, const void *addr,
			    int si_code, struct wasmpool_fault *fault);

/**
 * wasmpool_fault_classify_signal() - turn a SIGSEGV or SIGBUS into a trap
 * @pool: the pool
 * @si: the handler's siginfo_t (si_signo, si_code, si_addr)
 * @fault: filled
 *
 * SIGSEGV: as wasmpool_fault_classify() - a guard fault (SEGV_ACCERR) or a
 * key fault (SEGV_PKUERR). SIGBUS at an address in a slot's memory (below
 * max memory): WASMPOOL_FAULT_RESIDENT_LIMIT, the pool's resident limit;
 * anywhere else, and any other signal: WASMPOOL_FAULT_OUTSIDE.
 * Async-signal-safe. (Added in 0.3.)
 *
 * Return: @fault->kind; WASMPOOL_FAULT_OUTSIDE (0) for a fault that is not
 * the pool's, which a handler should treat as a crash, not a trap.
 */
int wasmpool_fault_classify_signal(const struct wasmpool *pool, const siginfo_t *si,
				   struct wasmpool_fault *fault);

/*
 * PKRU, the per-thread register of protection-key rights (x86-64 with
 * OSPKE only: the instructions fault without it; check
 * WASMPOOL_FEATURE_PKEYS first). Two bits per key: bit 2k denies access to
 * key k, bit 2k+1 denies writes. A thread starts with its parent's PKRU;
 * signal handlers start with the default (keys 1-15 denied).
 */
#if defined(__x86_64__)
/**
 * wasmpool_pkru_read() - the calling thread's PKRU
 */
static inline uint32_t wasmpool_pkru_read(void)
{
	uint32_t eax, edx;

	__asm__ volatile(".byte 0x0f, 0x01, 0xee" /* rdpkru */
			 : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

/**
 * wasmpool_pkru_write() - set the calling thread's PKRU
 * @pkru: the new value
 */
static inline void wasmpool_pkru_write(uint32_t pkru)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xef" /* wrpkru */
			 : : "a"(pkru), "c"(0), "d"(0) : "memory");
}
#endif

/**
 * wasmpool_pkru_for_stripe() - a PKRU value that opens one stripe only
 * @pool: the pool
 * @pkru: the value to start from (wasmpool_pkru_read(), usually)
 * @stripe: the stripe whose key to allow
 *
 * Return: @pkru with the key of @stripe allowed and the keys of the pool's
 * other stripes denied; other keys (key 0 among them) as in @pkru.
 */
static inline uint32_t wasmpool_pkru_for_stripe(const struct wasmpool *pool,
						uint32_t pkru, uint32_t stripe)
{
	uint32_t i;

	if (pool->layout.num_stripes < 2)
		return pkru;
	for (i = 0; i < pool->layout.num_stripes; i++) {
		uint32_t bits = 3u << (2 * pool->stripe_pkeys[i]);

		pkru = i == stripe ? pkru & ~bits : pkru | bits;
	}
	return pkru;
}

/**
 * wasmpool_pkru_allow_pool() - a PKRU value that opens every stripe
 * @pool: the pool
 * @pkru: the value to start from
 *
 * Return: @pkru with all the pool's keys allowed.
 */
static inline uint32_t wasmpool_pkru_allow_pool(const struct wasmpool *pool,
						uint32_t pkru)
{
	uint32_t i;

	for (i = 0; i < pool->layout.num_stripes && pool->layout.num_stripes > 1; i++)
		pkru &= ~(3u << (2 * pool->stripe_pkeys[i]));
	return pkru;
}

/**
 * wasmpool_pkru_enter() - open exactly a slot's stripe for the calling thread
 * @pool: the pool
 * @slot: the slot whose instance the thread is about to run or fill
 *
 * What a runtime calls before it runs an instance's code and before it
 * writes the instance's memory (instantiation: data segments), and again
 * after a trap: a signal handler starts with the default PKRU (keys 1-15
 * denied) and a longjmp out of it keeps that, so every in-bounds access of
 * the next call would fault. Opens the key of @slot's stripe, denies the
 * pool's other keys (so wasmpool_guard_reach() with
 * WASMPOOL_REACH_OWN_STRIPE holds) and leaves every other key, key 0
 * among them, as it was - after a trap, as the handler's default left it
 * (keys 1-15 denied): a runtime that opens keys of its own writes back
 * the PKRU it entered with first. Does nothing for a pool without stripes
 * (the only kind on a CPU without protection keys). (Added in 0.3.)
 *
 * Return: the thread's PKRU before the call (give it back with
 * wasmpool_pkru_write()), or 0 for a pool without stripes.
 */
static inline uint32_t wasmpool_pkru_enter(const struct wasmpool *pool, uint32_t slot)
{
#if defined(__x86_64__)
	uint32_t old, pkru;

	if (pool->layout.num_stripes < 2)
		return 0;
	old = wasmpool_pkru_read();
	pkru = wasmpool_pkru_for_stripe(pool, old, slot % pool->layout.num_stripes);
	if (pkru != old)
		wasmpool_pkru_write(pkru);
	return old;
#else
	(void)pool;
	(void)slot;
	return 0;
#endif
}

#ifdef __cplusplus
}
#endif

#endif /* LIBWASMPOOL_H */
