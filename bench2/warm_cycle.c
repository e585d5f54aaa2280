// SPDX-License-Identifier: GPL-2.0-only
/*
 * warm_cycle - an independent check of the warm slot reuse goals of issue 14:
 * the device against Wasmtime's pooling allocator as it is today, written
 * from Wasmtime's sources (not from bench/baselines.h).
 *
 * Build (from the top of the tree; bench2/Makefile does the same):
 *   gcc -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static -pthread \
 *       -Ilib/include -Iuapi -o build/vm/bench/warm_cycle \
 *       bench2/warm_cycle.c lib/libwasmpool.a
 * Run (in the VM): warm_cycle [-r ROUNDS] [-t MS_PER_ROUND] [-d MS_PER_THREAD_RUN] [-q]
 *
 * One cycle = allocate a slot of a pool of 4 MiB memories for module M
 * -> the tenant writes one byte in each of its first K pages -> free the
 * slot (which resets it). Both sides run in the same process, alternating
 * round by round (the order flips every round); each figure is the median
 * of ROUNDS rounds of enough cycles to take MS_PER_ROUND.
 *
 * "Wasmtime today" (wasmtime crates/wasmtime/src/runtime/vm: cow.rs
 * MemoryImageSlot, sys/unix/pagemap.rs reset_with_pagemap(),
 * pagemap_disabled.rs, instance/allocator/pooling: memory_pool.rs,
 * index_allocator.rs ModuleAffinityIndexAllocator, decommit_queue.rs,
 * sys/unix/vm.rs decommit_pages()), as modelled here:
 *  - the slab is one PROT_NONE, MAP_NORESERVE private anonymous reservation
 *    with the pool's layout; a slot's first instance mprotect()s its
 *    accessible part read-write, and it stays so: the next instance of the
 *    same size needs no system call (MemoryImageSlot::instantiate());
 *  - slots come from an affinity allocator behind one mutex: a free slot
 *    last used by the same module, else one never used, else the least
 *    recently freed (ModuleAffinityIndexAllocator); the MemoryImageSlot is
 *    taken out of / put back into its own per-slot mutex;
 *  - a reset (clear_and_remain_ready -> reset_with_pagemap) over the
 *    accessible size: with /proc/self/pagemap's PAGEMAP_SCAN (probed once at
 *    pool creation, as PageMap::new()) and keep_resident > 0: one scan for
 *    pages that are PRESENT and WRITTEN and neither PFNZERO nor FILE
 *    (category_mask WRITTEN|PRESENT|PFNZERO|FILE, category_inverted
 *    PFNZERO|FILE, return_mask 0, max_pages keep/4096, 32 regions), memset()
 *    of each region found, MADV_DONTNEED from walk_end to the end of the
 *    accessible size (nothing when the walk reached the end). Without the
 *    ioctl (6.1: ENOTTY), with keep_resident 0, or when the scan fails:
 *    memset() of min(keep, accessible) + MADV_DONTNEED of the rest
 *    (pagemap_disabled.rs); a zero-length decommit makes no call
 *    (decommit_pages());
 *  - the decommit queue has batch size 1 (the default): flushed at once,
 *    then the slot goes back to the allocator.
 *
 * The device: the same layout through libwasmpool (wasmpool_create() with
 * keep_resident_bytes, no protection keys - Wasmtime's default is no MPK
 * either), wasmpool_slot_alloc_affinity() with the module's key,
 * wasmpool_slot_free().
 *
 * Layout, both sides: Wasmtime's 64-bit defaults around a 4 MiB maximum
 * memory: memory_reservation 4 GiB, memory_guard_size 32 MiB, a guard
 * before the first slot (guard_before_linear_memory), 4 slots; every
 * memory's accessible size is the whole 4 MiB (min = max, so Wasmtime never
 * mprotect()s after the first instance).
 *
 * Correctness, as it goes, on both sides: each tenant writes at an offset
 * in its pages that differs from its predecessor's in the slot, and then
 * reads its predecessor's offset in the same pages: it must be zero (a
 * reset that skipped a page would show). It also checks it got the same
 * slot as its predecessor (affinity). After each row, outside the timing,
 * a tenant reads every byte of the touched pages and of keep_resident:
 * all zero. Any failure ends the program with status 1.
 *
 * THP is disabled for the process (PR_SET_THP_DISABLE; vm/bench.sh also
 * pins the system setting to never).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>

#include <wasmpool.h>

/* PAGEMAP_SCAN (Linux 6.7, include/uapi/linux/fs.h), for older headers. */
#ifndef PAGEMAP_SCAN
#define PROCFS_IOCTL_MAGIC	'f'
#define PAGE_IS_WPALLOWED	(1 << 0)
#define PAGE_IS_WRITTEN		(1 << 1)
#define PAGE_IS_FILE		(1 << 2)
#define PAGE_IS_PRESENT		(1 << 3)
#define PAGE_IS_SWAPPED		(1 << 4)
#define PAGE_IS_PFNZERO		(1 << 5)
#define PAGE_IS_HUGE		(1 << 6)
#define PAGE_IS_SOFT_DIRTY	(1 << 7)
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
#define PAGEMAP_SCAN	_IOWR(PROCFS_IOCTL_MAGIC, 16, struct pm_scan_arg)
#endif

#define PAGE		4096UL
#define KIB		1024UL
#define MIB		(1024 * KIB)
#define GIB		(1024 * MIB)
#define MAX_MEMORY	(4 * MIB)
#define MAX_SLOTS	64
#define MAX_REGIONS	32	/* Wasmtime's MAX_REGIONS */
#define MAX_ROUNDS	101
#define MAX_THREADS	2

/*
 * The layout: Wasmtime's 64-bit defaults (4 GiB reservation, 32 MiB guard,
 * guard before, 4 slots), or with -l project the one bench/cycle_bench.c
 * uses (4 MiB reservation, 64 KiB guard, none before, 64 slots).
 */
static uint64_t reservation = 4 * GIB, guard = 32 * MIB;
static uint32_t layout_flags = WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS;
static int num_slots = 4;
static int dev_no_key;	/* -n: the device allocates without a key, as cycle_bench */
static int only_k = -1;	/* -k K: only the rows of this K */
static long only_keep = -1;	/* -K BYTES: only the rows of this keep */
static int no_threads;	/* -T: no thread rows */
/* -a DEV_KIB:WT_KIB: place slot 0 of each side at this offset in 2 MiB (diagnostic) */
static long place_off[2] = { -1, -1 };
/* -b N: N other tenants hold a slot each (one page written) on each side during a row */
static int background;
static int rounds = 15;
static double round_ms = 40;
static double thread_ms = 300;

static void die(const char *what, int err)
{
	fprintf(stderr, "warm_cycle: %s: %s\n", what, strerror(err));
	exit(1);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* ---- the tenant: touch K pages, check the predecessor's bytes are gone -- */

/* What the last tenant of a slot wrote: its offset in each page, its K. */
struct slot_trace {
	uint32_t off;
	uint32_t k;
	uint32_t seq;
	int used;
};

static atomic_long check_failures;

static void check_fail(const char *side, const char *what, uint32_t slot, size_t at)
{
	if (atomic_fetch_add(&check_failures, 1) < 10)
		fprintf(stderr, "warm_cycle: CHECK FAILED (%s, slot %u): %s at offset %zu\n",
			side, slot, what, at);
}

/*
 * The tenant writes one byte per page (the touch: a write first, so each
 * new page costs one write fault on either side), then reads back, in the
 * same pages, the byte its predecessor in the slot wrote: it must be zero.
 */
static inline void tenant(const char *side, char *mem, uint32_t slot, unsigned int k,
			  struct slot_trace *tr)
{
	volatile char *m = mem;
	uint32_t seq = tr->seq + 1;
	uint32_t off = (seq * 97u + 13u) & (PAGE - 1);	/* never the predecessor's */
	char val = (char)(0x80 | (seq & 0x7f));
	unsigned int i, n;

	for (i = 0; i < k; i++)
		m[i * PAGE + off] = val;
	if (tr->used) {
		n = tr->k < k ? tr->k : k;
		for (i = 0; i < n; i++)
			if (m[i * PAGE + tr->off] != 0)
				check_fail(side, "predecessor's byte not zero", slot,
					   i * PAGE + tr->off);
	}
	if (m[(k - 1) * PAGE + off] != val)
		check_fail(side, "own byte lost", slot, (k - 1) * PAGE + off);
	tr->off = off;
	tr->k = k;
	tr->seq = seq;
	tr->used = 1;
}

/* Outside the timing: every byte of the first @bytes of a fresh tenant is 0. */
static void full_check(const char *side, const char *mem, uint32_t slot, size_t bytes)
{
	const uint64_t *w = (const uint64_t *)mem;
	size_t i;

	for (i = 0; i < bytes / 8; i++)
		if (w[i]) {
			check_fail(side, "full check: byte not zero", slot, i * 8);
			return;
		}
}

/* ---- Wasmtime today ----------------------------------------------------- */

enum wt_reset { WT_SCAN, WT_SCAN_MADVISE, WT_FALLBACK, WT_NR_RESETS };
static const char *const wt_reset_name[] = { "scan", "scan+madvise", "memset+madvise" };

struct wt_slot {
	/* The allocator's part, under wt_pool.lock. */
	int free;
	uint64_t module;	/* 0: never used */
	uint64_t freed_at;
	/* The MemoryImageSlot's part, under its own mutex. */
	pthread_mutex_t image_lock;
	size_t accessible;
	int dirty;
};

struct wt_pool {
	char *base;
	struct wasmpool_layout layout;
	size_t keep;
	int pagemap_fd;		/* -1: no PAGEMAP_SCAN (Wasmtime's PageMap is None) */
	pthread_mutex_t lock;	/* the index allocator's mutex */
	uint64_t clock;
	struct wt_slot slot[MAX_SLOTS];
	atomic_long resets[WT_NR_RESETS];
	atomic_long scan_errors;
};

static int pagemap_errno;	/* what the probe got, 0 if it worked */

static void layout_of(struct wasmpool_layout *out)
{
	struct wasmpool_layout_cmd cmd = {
		.flags = layout_flags,
		.max_memory_bytes = MAX_MEMORY,
		.num_slots = num_slots,
		.reservation_bytes = reservation,
		.guard_bytes = guard,
	};
	int ret = wasmpool_layout_calc(&cmd);

	if (ret)
		die("wasmpool_layout_calc", -ret);
	*out = cmd.layout;
}

/* PageMap::new(): open /proc/self/pagemap and check PAGEMAP_SCAN answers. */
static int wt_pagemap_open(void)
{
	struct page_region region;
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.vec = (uintptr_t)&region,
		.vec_len = 1,
		.max_pages = 1,
		.category_mask = 0xff,
	};
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		pagemap_errno = errno;
		return -1;
	}
	if (ioctl(fd, PAGEMAP_SCAN, &arg) < 0) {
		pagemap_errno = errno;
		close(fd);
		return -1;
	}
	pagemap_errno = 0;
	return fd;
}

/*
 * An address for a mapping of @total bytes whose byte @pre lies @off bytes
 * past a 2 MiB boundary (-a): a free range found by a PROT_NONE probe.
 */
static void *placed_addr(size_t total, size_t pre, size_t off)
{
	size_t span = total + 4 * MIB;
	char *probe = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			   -1, 0);
	uintptr_t a;

	if (probe == MAP_FAILED)
		die("mmap (placement probe)", errno);
	a = ((uintptr_t)probe + 2 * MIB - 1) & ~(2 * MIB - 1);
	a += (off - pre % (2 * MIB) + 2 * MIB) % (2 * MIB);
	munmap(probe, span);
	return (void *)a;
}

static void wt_create(struct wt_pool *p, size_t keep)
{
	int i;

	memset(p, 0, sizeof(*p));
	layout_of(&p->layout);
	if (place_off[1] >= 0)
		p->base = mmap(placed_addr(p->layout.total_bytes, p->layout.pre_slab_guard_bytes,
					   place_off[1]), p->layout.total_bytes, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
			       -1, 0);
	else
		p->base = mmap(NULL, p->layout.total_bytes, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p->base == MAP_FAILED)
		die("mmap of the Wasmtime slab", errno);
	p->keep = keep;
	p->pagemap_fd = wt_pagemap_open();
	pthread_mutex_init(&p->lock, NULL);
	for (i = 0; i < num_slots; i++) {
		p->slot[i].free = 1;
		pthread_mutex_init(&p->slot[i].image_lock, NULL);
	}
}

static void wt_destroy(struct wt_pool *p)
{
	int i;

	munmap(p->base, p->layout.total_bytes);
	if (p->pagemap_fd >= 0)
		close(p->pagemap_fd);
	pthread_mutex_destroy(&p->lock);
	for (i = 0; i < num_slots; i++)
		pthread_mutex_destroy(&p->slot[i].image_lock);
}

static char *wt_slot_base(struct wt_pool *p, uint32_t i)
{
	return p->base + p->layout.pre_slab_guard_bytes + (size_t)i * p->layout.slot_bytes;
}

/* ModuleAffinityIndexAllocator::alloc(Some(module)) */
static int wt_index_alloc(struct wt_pool *p, uint64_t module)
{
	int i, best = -1;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < num_slots; i++)		/* affine: most recently freed */
		if (p->slot[i].free && p->slot[i].module == module &&
		    (best < 0 || p->slot[i].freed_at > p->slot[best].freed_at))
			best = i;
	for (i = 0; best < 0 && i < num_slots; i++)	/* else a slot never used */
		if (p->slot[i].free && !p->slot[i].module)
			best = i;
	if (best < 0)					/* else the least recently freed */
		for (i = 0; i < num_slots; i++)
			if (p->slot[i].free &&
			    (best < 0 || p->slot[i].freed_at < p->slot[best].freed_at))
				best = i;
	if (best >= 0) {
		p->slot[best].free = 0;
		p->slot[best].module = module;
	}
	pthread_mutex_unlock(&p->lock);
	return best;
}

static void wt_index_free(struct wt_pool *p, int i)
{
	pthread_mutex_lock(&p->lock);
	p->slot[i].free = 1;
	p->slot[i].freed_at = ++p->clock;
	pthread_mutex_unlock(&p->lock);
}

/* MemoryPool::allocate(): a slot, then MemoryImageSlot::instantiate(). */
static char *wt_alloc(struct wt_pool *p, uint64_t module, size_t bytes, uint32_t *slot)
{
	int i = wt_index_alloc(p, module);
	struct wt_slot *s;
	char *base;

	if (i < 0)
		die("Wasmtime model: pool full", ENOSPC);
	s = &p->slot[i];
	base = wt_slot_base(p, i);
	pthread_mutex_lock(&s->image_lock);	/* take_memory_image_slot() */
	if (s->accessible < bytes) {
		if (mprotect(base + s->accessible, bytes - s->accessible, PROT_READ | PROT_WRITE))
			die("mprotect (grow)", errno);
		s->accessible = bytes;
	} else if (bytes < s->accessible) {	/* static memory with guards: shrink */
		if (mprotect(base + bytes, s->accessible - bytes, PROT_NONE))
			die("mprotect (shrink)", errno);
		s->accessible = bytes;
	}
	s->dirty = 1;
	pthread_mutex_unlock(&s->image_lock);
	*slot = i;
	return base;
}

static void wt_decommit(char *addr, size_t len)
{
	if (!len)	/* decommit_pages() skips empty regions */
		return;
	if (madvise(addr, len, MADV_DONTNEED))
		die("madvise(MADV_DONTNEED)", errno);
}

/* pagemap_disabled::reset_with_pagemap(): memset keep, decommit the rest. */
static void wt_reset_fallback(struct wt_pool *p, char *base, size_t len, size_t keep)
{
	memset(base, 0, keep);
	wt_decommit(base + keep, len - keep);
	atomic_fetch_add(&p->resets[WT_FALLBACK], 1);
}

/* pagemap::reset_with_pagemap() */
static void wt_reset(struct wt_pool *p, char *base, size_t len)
{
	size_t keep = p->keep < len ? p->keep : len;
	struct page_region regions[MAX_REGIONS];
	struct pm_scan_arg arg;
	long n, i;

	if (p->pagemap_fd < 0 || keep == 0 || (keep <= PAGE && len <= PAGE)) {
		wt_reset_fallback(p, base, len, keep);
		return;
	}
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.start = (uintptr_t)base;
	arg.end = (uintptr_t)base + len;
	arg.vec = (uintptr_t)regions;
	arg.vec_len = MAX_REGIONS;
	arg.max_pages = keep / PAGE;
	arg.category_inverted = PAGE_IS_PFNZERO | PAGE_IS_FILE;
	arg.category_mask = PAGE_IS_WRITTEN | PAGE_IS_PRESENT | PAGE_IS_PFNZERO | PAGE_IS_FILE;
	arg.return_mask = 0;
	n = ioctl(p->pagemap_fd, PAGEMAP_SCAN, &arg);
	if (n < 0) {	/* "we at least tried": the default behaviour */
		atomic_fetch_add(&p->scan_errors, 1);
		wt_reset_fallback(p, base, len, keep);
		return;
	}
	for (i = 0; i < n; i++)
		memset((char *)(uintptr_t)regions[i].start, 0, regions[i].end - regions[i].start);
	wt_decommit((char *)(uintptr_t)arg.walk_end, (uintptr_t)base + len - arg.walk_end);
	atomic_fetch_add(&p->resets[arg.walk_end == arg.end ? WT_SCAN : WT_SCAN_MADVISE], 1);
}

/* PoolingInstanceAllocator::deallocate_memory(): reset, flush, free the index. */
static void wt_free(struct wt_pool *p, uint32_t i)
{
	struct wt_slot *s = &p->slot[i];

	pthread_mutex_lock(&s->image_lock);	/* clear_and_remain_ready() */
	wt_reset(p, wt_slot_base(p, i), s->accessible);
	s->dirty = 0;
	pthread_mutex_unlock(&s->image_lock);	/* return_memory_image_slot() */
	wt_index_free(p, i);
}

/* ---- the device --------------------------------------------------------- */

static void dev_create(struct wasmpool *pool, size_t keep)
{
	struct wasmpool_configure cfg = {
		.flags = layout_flags,
		.max_memory_bytes = MAX_MEMORY,
		.num_slots = num_slots,
		.reservation_bytes = reservation,
		.guard_bytes = guard,
		.keep_resident_bytes = keep,
		.pkey_mode = WASMPOOL_PKEYS_OFF,
	};
	struct wasmpool_layout l;
	int ret;

	if (place_off[0] >= 0) {	/* -a: as wasmpool_create(), at a chosen place */
		int fd = wasmpool_open(0);
		void *at;

		if (fd < 0)
			die("wasmpool_open", -fd);
		ret = wasmpool_configure(fd, &cfg);
		if (ret)
			die("wasmpool_configure", -ret);
		at = placed_addr(cfg.layout.total_bytes, cfg.layout.pre_slab_guard_bytes,
				 place_off[0]);
		pool->base = mmap(at, cfg.layout.total_bytes, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
		if (pool->base == MAP_FAILED)
			die("mmap of the device pool (-a)", errno);
		pool->fd = fd;
		pool->layout = cfg.layout;
		memset(pool->stripe_pkeys, 0, sizeof(pool->stripe_pkeys));
	} else {
		ret = wasmpool_create(pool, &cfg);
		if (ret)
			die("wasmpool_create", -ret);
	}
	layout_of(&l);
	if (memcmp(&l, &pool->layout, sizeof(l)))
		die("the device's layout differs from the Wasmtime model's", EINVAL);
}

static char *dev_alloc(struct wasmpool *pool, uint64_t key, uint32_t *slot)
{
	struct wasmpool_slot_alloc s;
	int ret = dev_no_key ? wasmpool_slot_alloc(pool, MAX_MEMORY, &s) :
			       wasmpool_slot_alloc_affinity(pool, MAX_MEMORY, key, &s);

	if (ret)
		die("wasmpool_slot_alloc(_affinity)", -ret);
	*slot = s.slot;
	return (char *)(uintptr_t)s.address;
}

static void dev_free(struct wasmpool *pool, uint32_t slot)
{
	int ret = wasmpool_slot_free(pool, slot);

	if (ret)
		die("wasmpool_slot_free", -ret);
}

/* ---- one side, one cycle ------------------------------------------------ */

enum side { DEV, WT, NR_SIDES };
static const char *const side_name[] = { "device", "wasmtime" };

struct bench {
	struct wasmpool dev;
	struct wt_pool wt;
	size_t keep;
	unsigned int k;
	struct slot_trace trace[NR_SIDES][MAX_SLOTS];
	int64_t last_slot[NR_SIDES][MAX_THREADS];	/* affinity check, per module */
	uint32_t bg_slot[NR_SIDES][MAX_SLOTS];		/* -b: the other tenants' slots */
	atomic_long slot_changes[NR_SIDES];
};

static inline void cycle(struct bench *b, enum side side, unsigned int module)
{
	uint32_t slot;
	char *mem;

	if (side == DEV)
		mem = dev_alloc(&b->dev, 1000 + module, &slot);
	else
		mem = wt_alloc(&b->wt, 1000 + module, MAX_MEMORY, &slot);
	if (b->last_slot[side][module] >= 0 && b->last_slot[side][module] != slot)
		atomic_fetch_add(&b->slot_changes[side], 1);
	b->last_slot[side][module] = slot;
	tenant(side_name[side], mem, slot, b->k, &b->trace[side][slot]);
	if (side == DEV)
		dev_free(&b->dev, slot);
	else
		wt_free(&b->wt, slot);
}

static void bench_open(struct bench *b, size_t keep, unsigned int k)
{
	int i;

	memset(b, 0, sizeof(*b));
	b->keep = keep;
	b->k = k;
	memset(b->last_slot, 0xff, sizeof(b->last_slot));
	dev_create(&b->dev, keep);
	wt_create(&b->wt, keep);
	for (i = 0; i < background; i++) {	/* taken first: the lowest slots */
		dev_alloc(&b->dev, 2000 + i, &b->bg_slot[DEV][i])[0] = 1;
		wt_alloc(&b->wt, 2000 + i, MAX_MEMORY, &b->bg_slot[WT][i])[0] = 1;
	}
}

/* Where slot 0 of each side lies against 2 MiB (page-table) boundaries. */
static void print_alignment(struct bench *b)
{
	uintptr_t d = (uintptr_t)wasmpool_slot_addr(&b->dev, 0);
	uintptr_t w = (uintptr_t)wt_slot_base(&b->wt, 0);

	printf("warm_cycle: slot 0 at %#lx (device), %#lx (Wasmtime): offset in 2 MiB %lu KiB, %lu KiB\n",
	       (unsigned long)d, (unsigned long)w, (unsigned long)(d % (2 * MIB) / KIB),
	       (unsigned long)(w % (2 * MIB) / KIB));
}

static void bench_close(struct bench *b)
{
	int i, ret;

	for (i = 0; i < background; i++) {
		dev_free(&b->dev, b->bg_slot[DEV][i]);
		wt_free(&b->wt, b->bg_slot[WT][i]);
	}
	ret = wasmpool_destroy(&b->dev);

	if (ret)
		die("wasmpool_destroy", -ret);
	wt_destroy(&b->wt);
}

/* After a row: one more tenant per side reads all it could have inherited. */
static void bench_full_check(struct bench *b)
{
	size_t bytes = b->k * PAGE > b->keep ? b->k * PAGE : b->keep;
	uint32_t slot;
	char *mem;

	mem = dev_alloc(&b->dev, 1000, &slot);
	full_check("device", mem, slot, bytes);
	dev_free(&b->dev, slot);
	mem = wt_alloc(&b->wt, 1000, MAX_MEMORY, &slot);
	full_check("wasmtime", mem, slot, bytes);
	wt_free(&b->wt, slot);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stat3 {
	double med, min, max;
};

static struct stat3 stat_of(double *v, int n)
{
	struct stat3 s;

	qsort(v, n, sizeof(*v), cmp_double);
	s.min = v[0];
	s.max = v[n - 1];
	s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

/* ---- the cycle rows ----------------------------------------------------- */

struct row {
	unsigned int k;
	size_t keep;
	struct stat3 t[NR_SIDES];	/* ns per cycle */
	double ratio;			/* Wasmtime / device */
	long cycles_per_round[NR_SIDES];
	double flt[NR_SIDES];		/* minor faults per cycle */
	double dev_faults, dev_cleared, dev_unmaps;	/* per cycle, device stats */
	long dev_warm_hits, dev_warm_misses;
	long wt_resets[WT_NR_RESETS];
	long slot_changes[NR_SIDES];
};

static double run_cycles(struct bench *b, enum side side, long n)
{
	double t0 = now_ns();
	long i;

	for (i = 0; i < n; i++)
		cycle(b, side, 0);
	return now_ns() - t0;
}

static struct row *first_row;

static void run_row(struct row *r)
{
	double v[NR_SIDES][MAX_ROUNDS], flt[NR_SIDES] = { 0 };
	struct wasmpool_stats s0, s1;
	struct bench b;
	long n[NR_SIDES], f0, i;
	int round, side, ret;

	bench_open(&b, r->keep, r->k);
	if (r == first_row)
		print_alignment(&b);
	/* Warm both sides up (first touches, first mprotect()) and calibrate. */
	for (side = 0; side < NR_SIDES; side++)
		run_cycles(&b, side, 3);
	for (side = 0; side < NR_SIDES; side++) {
		double t = 0;
		long c;

		for (c = 0; t < 10e6; c++)
			t += run_cycles(&b, side, 1);
		n[side] = (long)(round_ms * 1e6 / (t / c));
		n[side] = n[side] < 3 ? 3 : n[side];
		r->cycles_per_round[side] = n[side];
	}

	for (i = 0; i < WT_NR_RESETS; i++)
		atomic_store(&b.wt.resets[i], 0);
	for (side = 0; side < NR_SIDES; side++)
		atomic_store(&b.slot_changes[side], 0);
	ret = wasmpool_stats(&b.dev, &s0);
	if (ret)
		die("wasmpool_stats", -ret);
	for (round = 0; round < rounds; round++) {
		for (i = 0; i < NR_SIDES; i++) {
			side = round % 2 ? NR_SIDES - 1 - i : i;	/* ABBA */
			f0 = minflt();
			v[side][round] = run_cycles(&b, side, n[side]) / n[side];
			flt[side] += minflt() - f0;
		}
	}
	ret = wasmpool_stats(&b.dev, &s1);
	if (ret)
		die("wasmpool_stats", -ret);
	for (side = 0; side < NR_SIDES; side++) {
		r->t[side] = stat_of(v[side], rounds);
		r->flt[side] = flt[side] / ((double)n[side] * rounds);
		r->slot_changes[side] = atomic_load(&b.slot_changes[side]);
	}
	r->ratio = r->t[WT].med / r->t[DEV].med;
	r->dev_faults = (double)(s1.faults - s0.faults) / ((double)n[DEV] * rounds);
	r->dev_cleared = (double)(s1.pages_cleared - s0.pages_cleared) / ((double)n[DEV] * rounds);
	r->dev_unmaps = (double)(s1.unmaps - s0.unmaps) / ((double)n[DEV] * rounds);
	r->dev_warm_hits = s1.warm_hits - s0.warm_hits;
	r->dev_warm_misses = s1.warm_misses - s0.warm_misses;
	for (i = 0; i < WT_NR_RESETS; i++)
		r->wt_resets[i] = atomic_load(&b.wt.resets[i]);
	if (atomic_load(&b.wt.scan_errors))
		fprintf(stderr, "warm_cycle: %ld PAGEMAP_SCAN calls failed (fell back)\n",
			atomic_load(&b.wt.scan_errors));
	bench_full_check(&b);
	bench_close(&b);
}

static const char *wt_reset_of(const struct row *r)
{
	int i, which = -1;

	for (i = 0; i < WT_NR_RESETS; i++)
		if (r->wt_resets[i]) {
			if (which >= 0)
				return "mixed";
			which = i;
		}
	return which < 0 ? "none" : wt_reset_name[which];
}

static const char *fmt_time(char *buf, double ns)
{
	if (ns >= 1e6)
		snprintf(buf, 24, "%.3g ms", ns / 1e6);
	else
		snprintf(buf, 24, "%.3g us", ns / 1e3);
	return buf;
}

static const char *fmt_keep(char *buf, size_t keep)
{
	if (!keep)
		return "0";
	if (keep >= MIB)
		snprintf(buf, 16, "%u MiB", (unsigned int)(keep / MIB));
	else
		snprintf(buf, 16, "%u KiB", (unsigned int)(keep / KIB));
	return buf;
}

/* ---- the thread rows ---------------------------------------------------- */

struct thread_run {
	struct bench *b;
	enum side side;
	unsigned int module;
	pthread_barrier_t *start;
	atomic_int *stop;
	long cycles;
};

static void *thread_main(void *arg)
{
	struct thread_run *t = arg;
	long n = 0;

	pthread_barrier_wait(t->start);
	while (!atomic_load_explicit(t->stop, memory_order_relaxed)) {
		cycle(t->b, t->side, t->module);
		n++;
	}
	t->cycles = n;
	return NULL;
}

/* Cycles per second of @threads threads, each its own module (and slot). */
static double run_threads(struct bench *b, enum side side, int threads, double ms)
{
	struct thread_run t[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	pthread_barrier_t start;
	atomic_int stop = 0;
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms * 1e6) % 1000000000L };
	double t0, t1;
	long total = 0;
	int i;

	pthread_barrier_init(&start, NULL, threads + 1);
	for (i = 0; i < threads; i++) {
		t[i] = (struct thread_run){ b, side, (unsigned int)i, &start, &stop, 0 };
		if (pthread_create(&tid[i], NULL, thread_main, &t[i]))
			die("pthread_create", EAGAIN);
	}
	pthread_barrier_wait(&start);
	t0 = now_ns();
	nanosleep(&ts, NULL);
	atomic_store(&stop, 1);
	for (i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		total += t[i].cycles;
	}
	t1 = now_ns();
	pthread_barrier_destroy(&start);
	return total / ((t1 - t0) / 1e9);
}

struct trow {
	int threads;
	struct stat3 cps[NR_SIDES];
};

static void run_thread_rows(struct trow *tr, size_t keep, unsigned int k)
{
	double v[2][NR_SIDES][MAX_ROUNDS];
	struct bench b;
	int round, i, side, nt;

	bench_open(&b, keep, k);
	for (nt = 0; nt < 2; nt++)	/* warm up: every module's slot */
		for (side = 0; side < NR_SIDES; side++)
			run_threads(&b, side, nt + 1, thread_ms / 10);
	for (round = 0; round < rounds; round++)
		for (i = 0; i < 4; i++) {
			int j = (i + round) % 4;	/* rotate the order */

			nt = j / 2;
			side = j % 2;
			v[nt][side][round] = run_threads(&b, side, nt + 1, thread_ms);
		}
	for (nt = 0; nt < 2; nt++) {
		tr[nt].threads = nt + 1;
		for (side = 0; side < NR_SIDES; side++)
			tr[nt].cps[side] = stat_of(v[nt][side], rounds);
	}
	bench_full_check(&b);
	bench_close(&b);
}

/* ---- main --------------------------------------------------------------- */

static const char *goal(int met)
{
	return met ? "met" : "NOT met";
}

int main(int argc, char **argv)
{
	static const unsigned int ks[] = { 1, 16, 256 };
	static const size_t keeps[] = { 0, 64 * KIB, 1 * MIB };
	struct row rows[9];
	struct trow trows[2];
	char kernel[128], b1[16];
	struct utsname u;
	int opt, i, j, nrows = 0, quick = 0, have_scan, fd;
	FILE *f;

	while ((opt = getopt(argc, argv, "r:t:d:ql:nk:K:Ta:b:")) != -1) {
		switch (opt) {
		case 'r': rounds = atoi(optarg); break;
		case 't': round_ms = atof(optarg); break;
		case 'd': thread_ms = atof(optarg); break;
		case 'q': quick = 1; break;
		case 'l': {
			unsigned long res_mib, guard_kib;
			int before;

			if (!strcmp(optarg, "project")) {
				reservation = MAX_MEMORY;
				guard = 64 * KIB;
				layout_flags = 0;
				num_slots = 64;
				break;
			}
			if (sscanf(optarg, "%lu:%lu:%d:%d", &res_mib, &guard_kib, &num_slots,
				   &before) != 4 || num_slots < 2 || num_slots > MAX_SLOTS ||
			    res_mib < 4)
				die("-l project|RESERVATION_MIB:GUARD_KIB:SLOTS:GUARD_BEFORE", EINVAL);
			reservation = res_mib * MIB;
			guard = guard_kib * KIB;
			layout_flags = before ? WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS : 0;
			break;
		}
		case 'n': dev_no_key = 1; break;
		case 'k': only_k = atoi(optarg); break;
		case 'K': only_keep = atol(optarg); break;
		case 'T': no_threads = 1; break;
		case 'b': background = atoi(optarg); break;
		case 'a':
			if (sscanf(optarg, "%ld:%ld", &place_off[0], &place_off[1]) != 2 ||
			    place_off[0] < 0 || place_off[0] >= 2048 || place_off[1] < 0 ||
			    place_off[1] >= 2048 || place_off[0] % 4 || place_off[1] % 4)
				die("-a DEV_KIB:WT_KIB, offsets in 2 MiB, multiples of 4", EINVAL);
			place_off[0] *= KIB;
			place_off[1] *= KIB;
			break;
		default:
			fprintf(stderr, "usage: warm_cycle [-r ROUNDS] [-t MS] [-d MS] [-q]"
				" [-l project|RES_MIB:GUARD_KIB:SLOTS:BEFORE] [-n] [-k K] [-K KEEP_BYTES] [-T]"
				" [-a DEV_KIB:WT_KIB] [-b N]\n");
			return 2;
		}
	}
	if (quick) {
		rounds = 3;
		round_ms = 5;
		thread_ms = 30;
	}
	if (background < 0 || background > num_slots - 3)
		die("-b: at most SLOTS - 3 other tenants", EINVAL);
	if (rounds < 1 || rounds > MAX_ROUNDS)
		die("-r: 1 to 101 rounds", EINVAL);
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		die("prctl(PR_SET_THP_DISABLE)", errno);
	uname(&u);
	snprintf(kernel, sizeof(kernel), "%s", u.release);
	fd = wt_pagemap_open();
	have_scan = fd >= 0;
	if (fd >= 0)
		close(fd);
	printf("warm_cycle: kernel %s, %ld CPUs, %d rounds (median), %.0f ms per round, %.0f ms per thread run\n",
	       kernel, sysconf(_SC_NPROCESSORS_ONLN), rounds, round_ms, thread_ms);
	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f) {
		char thp[128] = "";

		if (fgets(thp, sizeof(thp), f))
			thp[strcspn(thp, "\n")] = 0;
		fclose(f);
		printf("warm_cycle: THP system setting: %s; this process: disabled (PR_SET_THP_DISABLE)\n", thp);
	}
	printf("warm_cycle: PAGEMAP_SCAN: %s\n", have_scan ? "available (Wasmtime scans)" :
	       pagemap_errno == ENOTTY ? "ENOTTY (Wasmtime falls back to memset of keep_resident)" :
	       strerror(pagemap_errno));
	{
		struct wasmpool_layout l;

		layout_of(&l);
		printf("warm_cycle: layout (both sides): %d slots of %" PRIu64 " bytes (4 MiB memory,"
		       " %" PRIu64 " MiB reservation, %" PRIu64 " KiB guard, guard before: %" PRIu64
		       "), no pkeys; accessible size 4 MiB; device allocates %s\n", num_slots,
		       (uint64_t)l.slot_bytes, reservation / MIB, guard / KIB,
		       (uint64_t)l.pre_slab_guard_bytes,
		       dev_no_key ? "WITHOUT a key (-n)" : "with the module's affinity key");
	}
	fflush(stdout);

	for (j = 0; j < 3; j++)
		for (i = 0; i < 3; i++) {
			struct row *r;

			if ((only_k >= 0 && (unsigned int)only_k != ks[i]) ||
			    (only_keep >= 0 && (size_t)only_keep != keeps[j]))
				continue;
			r = &rows[nrows++];
			memset(r, 0, sizeof(*r));
			if (!first_row)
				first_row = r;
			r->k = ks[i];
			r->keep = keeps[j];
			run_row(r);
		}
	if (!no_threads)
		run_thread_rows(trows, 64 * KIB, 1);

	printf("\nOne cycle: alloc (affinity) -> write 1 byte in each of K pages -> free (reset).\n");
	printf("ratio = Wasmtime time / device time (> 1: the device is faster); [min - max] of the rounds\n");
	printf("flt/c: minor faults per cycle (getrusage); dev clr/c, unm/c: pages zeroed in place and unmaps per cycle (device stats)\n\n");
	printf("  K    keep     device                      Wasmtime today              ratio   Wasmtime reset   flt/c dev  flt/c wt  dev clr/c  dev unm/c  cycles/round dev/wt\n");
	for (i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		char d[3][24], w[3][24];

		printf("  %-4u %-8s %-9s [%-7s- %-7s]  %-9s [%-7s- %-7s]  %5.2fx  %-15s  %9.2f  %8.2f  %9.2f  %9.2f  %ld/%ld\n",
		       r->k, fmt_keep(b1, r->keep),
		       fmt_time(d[0], r->t[DEV].med), fmt_time(d[1], r->t[DEV].min),
		       fmt_time(d[2], r->t[DEV].max),
		       fmt_time(w[0], r->t[WT].med), fmt_time(w[1], r->t[WT].min),
		       fmt_time(w[2], r->t[WT].max), r->ratio, wt_reset_of(r),
		       r->flt[DEV], r->flt[WT], r->dev_cleared, r->dev_unmaps, r->cycles_per_round[DEV],
		       r->cycles_per_round[WT]);
	}
	if (no_threads)
		goto goals;
	printf("\nThreads, keep 64 KiB, K=1, cycles/s (each thread its own module and slot; %.0f ms runs):\n",
	       thread_ms);
	printf("  threads  device                          Wasmtime today                  device/Wasmtime\n");
	for (i = 0; i < 2; i++) {
		struct trow *t = &trows[i];

		printf("  %-7d  %-8.0f [%-8.0f- %-8.0f]     %-8.0f [%-8.0f- %-8.0f]     %.2fx\n",
		       t->threads, t->cps[DEV].med, t->cps[DEV].min, t->cps[DEV].max,
		       t->cps[WT].med, t->cps[WT].min, t->cps[WT].max,
		       t->cps[DEV].med / t->cps[WT].med);
	}
	printf("  device 2 threads / device 1 thread: %.2fx; Wasmtime 2/1: %.2fx\n",
	       trows[1].cps[DEV].med / trows[0].cps[DEV].med,
	       trows[1].cps[WT].med / trows[0].cps[WT].med);

goals:
	/* The goals of issue 14, judged on this kernel's rows. */
	printf("\nGoals (issue 14) on this kernel (%s):\n", have_scan ? "PAGEMAP_SCAN: the 6.12 goals" :
	       "no PAGEMAP_SCAN: the 6.1 goal");
	for (i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		double need;

		if (have_scan)
			need = (r->k == 1 || r->k == 16) && r->keep ? 1.3 : 1.0;
		else if (r->k == 1 && r->keep == MIB)
			need = 20;
		else
			continue;
		printf("  K=%-3u keep %-7s ratio %6.2fx, goal >= %.1fx: %s\n", r->k,
		       fmt_keep(b1, r->keep), r->ratio, need, goal(r->ratio >= need));
	}
	if (have_scan && !no_threads) {
		double d1 = trows[0].cps[DEV].med, d2 = trows[1].cps[DEV].med;
		double w2 = trows[1].cps[WT].med;

		printf("  2 threads keep 64 KiB: device %.0f >= Wasmtime %.0f cycles/s: %s\n", d2, w2,
		       goal(d2 >= w2));
		printf("  2 threads keep 64 KiB: device %.0f >= 1.5 x device 1 thread (%.0f): %s (%.2fx)\n",
		       d2, 1.5 * d1, goal(d2 >= 1.5 * d1), d2 / d1);
	}

	printf("\n");
	for (i = 0; i < nrows; i++) {
		struct row *r = &rows[i];

		printf("warmcsv,cycle,%s,%u,%zu,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.3f,%s,%.2f,%.2f,%.2f,%.2f,%ld,%ld,%d,%ld,%ld,%ld,%ld\n",
		       kernel, r->k, r->keep, r->t[DEV].med / 1e3, r->t[DEV].min / 1e3,
		       r->t[DEV].max / 1e3, r->t[WT].med / 1e3, r->t[WT].min / 1e3,
		       r->t[WT].max / 1e3, r->ratio, wt_reset_of(r), r->flt[DEV], r->flt[WT],
		       r->dev_cleared, r->dev_unmaps, r->cycles_per_round[DEV],
		       r->cycles_per_round[WT], rounds,
		       r->dev_warm_hits, r->dev_warm_misses, r->slot_changes[DEV],
		       r->slot_changes[WT]);
	}
	for (i = 0; i < 2 && !no_threads; i++) {
		struct trow *t = &trows[i];

		printf("warmcsv,threads,%s,%d,%lu,1,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.3f,%d\n", kernel,
		       t->threads, 64 * KIB, t->cps[DEV].med, t->cps[DEV].min, t->cps[DEV].max,
		       t->cps[WT].med, t->cps[WT].min, t->cps[WT].max,
		       t->cps[DEV].med / t->cps[WT].med, rounds);
	}
	for (i = 0; i < nrows; i++)
		if (rows[i].slot_changes[DEV] || rows[i].slot_changes[WT])
			fprintf(stderr, "warm_cycle: K=%u keep %zu: the module changed slot (device %ld, Wasmtime %ld times)\n",
				rows[i].k, rows[i].keep, rows[i].slot_changes[DEV],
				rows[i].slot_changes[WT]);
	if (atomic_load(&check_failures)) {
		printf("warm_cycle: %ld CHECKS FAILED\n", atomic_load(&check_failures));
		return 1;
	}
	printf("warm_cycle: all checks passed (every tenant read zeroes where its predecessor wrote)\n");
	return 0;
}
