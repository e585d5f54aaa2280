// SPDX-License-Identifier: GPL-2.0-only
/*
 * pool_test: a configured pool - configure, mmap, guard faults, slot
 * alloc / grow / reset / free, keep_resident, zero-on-reuse, and every bad
 * input of each.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define KIB	1024ULL
#define MIB	(1024 * KIB)
#define PAGE	4096ULL

/*
 * The small pool of most tests: 8 slots of at most 64 KiB memory in a
 * 128 KiB reservation with a 64 KiB guard, a guard before the slab, 16 KiB
 * kept resident. Slots are 192 KiB apart: [64 KiB max memory | 128 KiB
 * that always faults].
 */
#define MAX_MEM		(64 * KIB)
#define RESERVATION	(128 * KIB)
#define GUARD		(64 * KIB)
#define SLOTS		8
#define KEEP		(16 * KIB)

static struct wasmpool_configure small_config(void)
{
	struct wasmpool_configure c = {
		.flags = WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS,
		.max_memory_bytes = MAX_MEM,
		.num_slots = SLOTS,
		.reservation_bytes = RESERVATION,
		.guard_bytes = GUARD,
		.keep_resident_bytes = KEEP,
	};

	return c;
}

FIXTURE(pool) {
	int fd;
	char *base;
	struct wasmpool_layout l;
};

/* Every pool test runs on a warm pool (the default) and a strict one. */
FIXTURE_VARIANT(pool) {
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(pool, warm) {
	.flags = 0,
};

FIXTURE_VARIANT_ADD(pool, strict) {
	.flags = WASMPOOL_CONFIGURE_STRICT,
};

FIXTURE_SETUP(pool)
{
	struct wasmpool_configure c = small_config();

	c.flags |= variant->flags;

	self->base = MAP_FAILED;
	WP_TEST_OPEN_DEVICE(self->fd);
	ASSERT_EQ(0, wp_configure(self->fd, &c));
	self->l = c.layout;
	self->base = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE,
			  MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->base) TH_LOG("mmap: %s", strerror(errno));
}

FIXTURE_TEARDOWN(pool)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, self->l.total_bytes);
	if (self->fd >= 0)
		close(self->fd);
}

static char *slot_addr(FIXTURE_DATA(pool) *self, uint32_t slot)
{
	return self->base + self->l.pre_slab_guard_bytes + (uint64_t)slot * self->l.slot_bytes;
}

/* Every byte of [p, p + len) reads as zero; else say where it does not. */
static int all_zero(const char *p, size_t len)
{
	static const char zero[4096];
	size_t n, i;

	for (; len; p += n, len -= n) {
		n = len < sizeof(zero) ? len : sizeof(zero);
		if (memcmp(p, zero, n)) {
			for (i = 0; !p[i]; i++)
				;
			fprintf(stderr, "# non-zero byte %#x at %p\n", p[i] & 0xff, p + i);
			return 0;
		}
	}
	return 1;
}

/* Access at @p faults with SIGSEGV, SEGV_ACCERR and the exact address. */
#define EXPECT_GUARD(p) do {							\
	siginfo_t si_;								\
	volatile char *p_ = (p);						\
	EXPECT_EQ(SIGSEGV, wp_probe(p_, 0, &si_)) TH_LOG("read %p", p_);	\
	EXPECT_EQ(SEGV_ACCERR, si_.si_code);					\
	EXPECT_EQ((void *)p_, si_.si_addr);					\
	EXPECT_EQ(SIGSEGV, wp_probe(p_, 1, &si_)) TH_LOG("write %p", p_);	\
} while (0)

#define EXPECT_ACCESSIBLE(p) do {						\
	volatile char *p_ = (p);						\
	EXPECT_EQ(0, wp_probe(p_, 0, NULL)) TH_LOG("read %p", p_);		\
	EXPECT_EQ(0, wp_probe(p_, 1, NULL)) TH_LOG("write %p", p_);		\
} while (0)

TEST_F(pool, layout_returned_by_configure)
{
	EXPECT_EQ(SLOTS, self->l.num_slots);
	EXPECT_EQ(RESERVATION + GUARD, self->l.slot_bytes);
	EXPECT_EQ(MAX_MEM, self->l.max_memory_bytes);
	EXPECT_EQ(GUARD, self->l.pre_slab_guard_bytes);
	EXPECT_EQ(0, self->l.post_slab_guard_bytes);
	EXPECT_EQ(1, self->l.num_stripes);
	EXPECT_EQ(GUARD + SLOTS * (RESERVATION + GUARD), self->l.total_bytes);
}

TEST_F(pool, nothing_resident_until_touched)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;

	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(0, st.resident_bytes);
	EXPECT_EQ(1, st.slots_in_use);
	EXPECT_EQ((uint64_t)(uintptr_t)self->base, st.address);

	slot_addr(self, a.slot)[5 * PAGE] = 1;
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(PAGE, st.resident_bytes);
	EXPECT_EQ(1, st.pages_allocated);
}

TEST_F(pool, alloc_reports_slot)
{
	struct wasmpool_slot_alloc a;

	ASSERT_EQ(0, wp_alloc(self->fd, 3 * PAGE - 5, &a));
	EXPECT_EQ(0, a.slot);		/* lowest slots first */
	EXPECT_EQ(3 * PAGE, a.accessible_bytes);
	EXPECT_EQ(0, a.stripe);
	EXPECT_EQ(self->l.pre_slab_guard_bytes, a.offset);
	EXPECT_EQ((uint64_t)(uintptr_t)slot_addr(self, 0), a.address);
	ASSERT_EQ(0, wp_alloc(self->fd, 0, &a));
	EXPECT_EQ(1, a.slot);
	EXPECT_EQ(0, a.accessible_bytes);
}

TEST_F(pool, guard_before_slab_faults)
{
	EXPECT_GUARD(self->base);
	EXPECT_GUARD(self->base + self->l.pre_slab_guard_bytes - 1);
}

TEST_F(pool, slot_tail_beyond_max_memory_faults)
{
	struct wasmpool_slot_alloc a;
	char *s;

	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	s = slot_addr(self, a.slot);
	EXPECT_ACCESSIBLE(s + MAX_MEM - 1);
	EXPECT_GUARD(s + MAX_MEM);
	EXPECT_GUARD(s + RESERVATION);
	EXPECT_GUARD(s + self->l.slot_bytes - 1);
}

TEST_F(pool, last_slot_tail_faults)
{
	char *end = self->base + self->l.total_bytes;

	EXPECT_GUARD(end - 1);
	EXPECT_GUARD(end - self->l.slot_bytes + MAX_MEM);
}

TEST_F(pool, beyond_accessible_faults)
{
	struct wasmpool_slot_alloc a;
	char *s;

	ASSERT_EQ(0, wp_alloc(self->fd, 5 * PAGE, &a));
	s = slot_addr(self, a.slot);
	EXPECT_ACCESSIBLE(s);
	EXPECT_ACCESSIBLE(s + 5 * PAGE - 1);
	EXPECT_GUARD(s + 5 * PAGE);
	EXPECT_GUARD(s + MAX_MEM - 1);
}

TEST_F(pool, free_slot_faults)
{
	EXPECT_GUARD(slot_addr(self, 3));
	EXPECT_GUARD(slot_addr(self, 3) + MAX_MEM - 1);
}

TEST_F(pool, guard_faults_counted)
{
	struct wasmpool_stats st0, st1;

	ASSERT_EQ(0, wp_stats(self->fd, &st0));
	EXPECT_GUARD(self->base);
	ASSERT_EQ(0, wp_stats(self->fd, &st1));
	EXPECT_EQ(st0.guard_faults + 2, st1.guard_faults);	/* read + write */
}

/* The harness way: the test must die by SIGSEGV. */
TEST_F_SIGNAL(pool, guard_kills_without_handler, SIGSEGV)
{
	*(volatile char *)(slot_addr(self, 0) + MAX_MEM) = 1;
}

/* The kernel's own copies get EFAULT; a buffer running into the guard is short. */
TEST_F(pool, kernel_copies_efault)
{
	struct wasmpool_slot_alloc a;
	int pipefd[2], memfd;
	char *s;

	ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a));
	s = slot_addr(self, a.slot);
	ASSERT_EQ(0, pipe(pipefd));

	EXPECT_EQ(-1, write(pipefd[1], s + PAGE, 16));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(16, write(pipefd[1], "0123456789abcdef", 16));
	EXPECT_EQ(-1, read(pipefd[0], s + PAGE, 16));
	EXPECT_EQ(EFAULT, errno);
	/* from a file, 8 bytes fit below the limit: a short read */
	memfd = memfd_create("wasmpool-test", MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(16, write(memfd, "0123456789abcdef", 16));
	EXPECT_EQ(8, pread(memfd, s + PAGE - 8, 16, 0));
	EXPECT_EQ(0, memcmp(s + PAGE - 8, "01234567", 8));
	close(memfd);
	/* and from the guard region before the slab */
	EXPECT_EQ(-1, write(pipefd[1], self->base, 1));
	EXPECT_EQ(EFAULT, errno);
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_F(pool, grow_makes_pages_accessible_without_remap)
{
	struct wasmpool_slot_alloc a;
	char *s;

	ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a));
	s = slot_addr(self, a.slot);
	memset(s, 0x5a, PAGE);
	EXPECT_GUARD(s + PAGE);
	ASSERT_EQ(0, wp_grow(self->fd, a.slot, 4 * PAGE));
	EXPECT_ACCESSIBLE(s + 4 * PAGE - 1);
	EXPECT_GUARD(s + 4 * PAGE);
	/* contents stay; new pages read zero */
	EXPECT_EQ(0x5a, s[PAGE - 1]);
	EXPECT_TRUE(all_zero(s + PAGE, 3 * PAGE - 1));
	/* to max memory, and the same size again */
	EXPECT_EQ(0, wp_grow(self->fd, a.slot, MAX_MEM));
	EXPECT_EQ(0, wp_grow(self->fd, a.slot, MAX_MEM));
	EXPECT_ACCESSIBLE(s + MAX_MEM - 1);
}

TEST_F(pool, grow_errors)
{
	struct wasmpool_slot_alloc a;

	ASSERT_EQ(0, wp_alloc(self->fd, 4 * PAGE, &a));
	EXPECT_EQ(-ERANGE, wp_grow(self->fd, a.slot, MAX_MEM + 1));
	EXPECT_EQ(-ERANGE, wp_grow(self->fd, a.slot, UINT64_MAX));
	EXPECT_EQ(-EINVAL, wp_grow(self->fd, a.slot, 2 * PAGE));
	EXPECT_EQ(-EINVAL, wp_grow(self->fd, SLOTS, PAGE));
	EXPECT_EQ(-EINVAL, wp_grow(self->fd, UINT32_MAX, PAGE));
	EXPECT_EQ(-ENOENT, wp_grow(self->fd, a.slot + 1, 8 * PAGE));
	/* the slot is unchanged */
	EXPECT_ACCESSIBLE(slot_addr(self, a.slot) + 4 * PAGE - 1);
	EXPECT_GUARD(slot_addr(self, a.slot) + 4 * PAGE);
}

TEST_F(pool, reset_zeroes_and_keeps_resident)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st0, st;
	char *s;

	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	s = slot_addr(self, a.slot);
	memset(s, 0xa5, MAX_MEM);	/* 16 pages, 4 within keep_resident */
	ASSERT_EQ(0, wp_stats(self->fd, &st0));
	EXPECT_EQ(MAX_MEM, st0.resident_bytes);

	ASSERT_EQ(0, wp_reset(self->fd, a.slot, MAX_MEM));
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(KEEP, st.resident_bytes);
	EXPECT_EQ(st0.pages_cleared + KEEP / PAGE, st.pages_cleared);
	EXPECT_EQ(st0.pages_freed + (MAX_MEM - KEEP) / PAGE, st.pages_freed);
	EXPECT_EQ(st0.resets + 1, st.resets);
	EXPECT_TRUE(all_zero(s, MAX_MEM));
	/* reading refaulted the freed pages */
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(MAX_MEM, st.resident_bytes);
}

/*
 * A reset keeps keep_resident's worth of the touched pages, lowest offsets
 * first, wherever they lie: here 4 pages spread over the slot, the fifth
 * and highest freed. Untouched pages never become resident.
 */
TEST_F(pool, reset_keeps_the_lowest_touched_pages)
{
	static const unsigned int touched[] = { 1, 5, 9, 12, 15 };
	const unsigned int n = sizeof(touched) / sizeof(touched[0]);
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st0, st;
	char *s;

	ASSERT_EQ(KEEP / PAGE + 1, n);
	ASSERT_EQ(MAX_MEM / PAGE - 1, touched[n - 1]);
	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	s = slot_addr(self, a.slot);
	for (unsigned int i = 0; i < n; i++)
		memset(s + touched[i] * PAGE, 0x33, PAGE);
	ASSERT_EQ(0, wp_reset(self->fd, a.slot, MAX_MEM));
	ASSERT_EQ(0, wp_stats(self->fd, &st0));
	EXPECT_EQ(KEEP, st0.resident_bytes);
	EXPECT_EQ(n - 1, st0.pages_cleared);
	EXPECT_EQ(1, st0.pages_freed);
	/* the kept ones come back zeroed without a new page, the highest with one */
	for (unsigned int i = 0; i < n - 1; i++) {
		EXPECT_TRUE(all_zero(s + touched[i] * PAGE, PAGE));
		s[touched[i] * PAGE] = 1;
	}
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(st0.pages_allocated, st.pages_allocated);
	s[touched[n - 1] * PAGE] = 1;
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(st0.pages_allocated + 1, st.pages_allocated);
}

/* A free keeps the same pages; warm, they stay mapped and read zero. */
TEST_F(pool, free_keeps_the_lowest_touched_pages)
{
	static const unsigned int touched[] = { 1, 5, 9, 12, 15 };
	const unsigned int n = sizeof(touched) / sizeof(touched[0]);
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	char *s;

	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	s = slot_addr(self, a.slot);
	for (unsigned int i = 0; i < n; i++)
		memset(s + touched[i] * PAGE, 0x44, PAGE);
	ASSERT_EQ(0, wp_free(self->fd, a.slot));
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(KEEP, st.resident_bytes);
	for (unsigned int i = 0; i < n - 1; i++) {
		if (variant->flags & WASMPOOL_CONFIGURE_STRICT) {
			EXPECT_GUARD(s + touched[i] * PAGE);
		} else {
			EXPECT_EQ(0, wp_probe(s + touched[i] * PAGE, 0, NULL));
			EXPECT_TRUE(all_zero(s + touched[i] * PAGE, PAGE));
		}
	}
	EXPECT_GUARD(s + touched[n - 1] * PAGE);
	EXPECT_GUARD(s);
}

TEST_F(pool, reset_to_smaller_size_faults_above)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	char *s;

	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	s = slot_addr(self, a.slot);
	memset(s, 0x11, MAX_MEM);
	/* a kept page above the new size must not stay reachable */
	ASSERT_EQ(0, wp_reset(self->fd, a.slot, PAGE));
	EXPECT_TRUE(all_zero(s, PAGE));
	EXPECT_ACCESSIBLE(s + PAGE - 1);	/* writes a 1 there */
	s[PAGE - 1] = 0;
	EXPECT_GUARD(s + PAGE);
	EXPECT_GUARD(s + 3 * PAGE);
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(KEEP, st.resident_bytes);
	/* grown again, the kept pages come back zeroed, with no new page */
	ASSERT_EQ(0, wp_grow(self->fd, a.slot, MAX_MEM));
	EXPECT_TRUE(all_zero(s, MAX_MEM));
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(16 + 12, st.pages_allocated);
}

TEST_F(pool, reset_errors)
{
	struct wasmpool_slot_alloc a;

	ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a));
	EXPECT_EQ(-ERANGE, wp_reset(self->fd, a.slot, MAX_MEM + PAGE));
	EXPECT_EQ(-EINVAL, wp_reset(self->fd, SLOTS, PAGE));
	EXPECT_EQ(-ENOENT, wp_reset(self->fd, a.slot + 1, PAGE));
}

TEST_F(pool, free_then_realloc_is_zeroed_and_smaller)
{
	struct wasmpool_slot_alloc a, b;
	char *s;

	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	s = slot_addr(self, a.slot);
	memset(s, 0x77, MAX_MEM);
	ASSERT_EQ(0, wp_free(self->fd, a.slot));
	if (variant->flags & WASMPOOL_CONFIGURE_STRICT) {
		EXPECT_GUARD(s);
	} else {
		/* warm: the kept pages stay mapped, zeroed; beyond them, faults */
		EXPECT_EQ(0, wp_probe(s, 0, NULL));
		EXPECT_TRUE(all_zero(s, KEEP));
		EXPECT_GUARD(s + KEEP);
	}
	/* most recently freed first: the same slot, now smaller */
	ASSERT_EQ(0, wp_alloc(self->fd, 2 * PAGE, &b));
	EXPECT_EQ(a.slot, b.slot);
	EXPECT_TRUE(all_zero(s, 2 * PAGE));
	EXPECT_GUARD(s + 2 * PAGE);
	EXPECT_GUARD(s + KEEP - 1);
}

TEST_F(pool, double_free_and_bad_index)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;

	ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a));
	EXPECT_EQ(0, wp_free(self->fd, a.slot));
	EXPECT_EQ(-ENOENT, wp_free(self->fd, a.slot));
	EXPECT_EQ(-ENOENT, wp_free(self->fd, 5));
	EXPECT_EQ(-EINVAL, wp_free(self->fd, SLOTS));
	EXPECT_EQ(-EINVAL, wp_free(self->fd, UINT32_MAX));
	/* no double insertion: exactly SLOTS allocations succeed */
	for (int i = 0; i < SLOTS; i++)
		ASSERT_EQ(0, wp_alloc(self->fd, 0, &a));
	EXPECT_EQ(-ENOSPC, wp_alloc(self->fd, 0, &a));
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(SLOTS, st.slots_in_use);
}

TEST_F(pool, exhaustion_enospc)
{
	struct wasmpool_slot_alloc a;
	uint32_t seen = 0;

	for (int i = 0; i < SLOTS; i++) {
		ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a));
		seen |= 1u << a.slot;
	}
	EXPECT_EQ((1u << SLOTS) - 1, seen);
	EXPECT_EQ(-ENOSPC, wp_alloc(self->fd, PAGE, &a));
	ASSERT_EQ(0, wp_free(self->fd, 6));
	ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a));
	EXPECT_EQ(6, a.slot);
}

TEST_F(pool, alloc_errors)
{
	struct wasmpool_slot_alloc a;

	EXPECT_EQ(-ERANGE, wp_alloc(self->fd, MAX_MEM + 1, &a));
	EXPECT_EQ(-EINVAL, wp_alloc_stripe(self->fd, PAGE, 1, &a));
	ASSERT_EQ(0, wp_alloc_stripe(self->fd, PAGE, 0, &a));
	EXPECT_EQ(0, a.stripe);

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.stripe = 1;		/* a stripe without the flag */
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_ALLOC, &a));
	a.stripe = 0;
	a.flags = 8;		/* the first flag no module knows (4 is 0.4's image) */
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_ALLOC, &a));
	a.flags = 0;
	a.affinity = 7;		/* a key without the flag */
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_ALLOC, &a));
	a.affinity = 0;
	a.__reserved = 1;
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_ALLOC, &a));
	a.__reserved = 0;
	a.flags = WASMPOOL_SLOT_ALLOC_STRIPE;
	a.stripe = UINT32_MAX;
	EXPECT_EQ(-EINVAL, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_ALLOC, &a));
}

/* Allocate with affinity key @key (0: none). */
static int alloc_keyed(int fd, uint64_t bytes, uint64_t key,
		       struct wasmpool_slot_alloc *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->accessible_bytes = bytes;
	if (key) {
		a->flags = WASMPOOL_SLOT_ALLOC_AFFINITY;
		a->affinity = key;
	}
	return wp_ioctl(fd, WASMPOOL_IOC_SLOT_ALLOC, a);
}

TEST_F(pool, affinity_prefers_the_same_key)
{
	struct wasmpool_slot_alloc a, b, c, d;
	struct wasmpool_stats st;

	/* two keys leave one warm slot each */
	ASSERT_EQ(0, alloc_keyed(self->fd, MAX_MEM, 1, &a));
	EXPECT_EQ(WASMPOOL_SLOT_COLD, a.reuse);
	ASSERT_EQ(0, alloc_keyed(self->fd, MAX_MEM, 2, &b));
	memset(slot_addr(self, a.slot), 1, PAGE);
	memset(slot_addr(self, b.slot), 2, PAGE);
	ASSERT_EQ(0, wp_free(self->fd, a.slot));
	ASSERT_EQ(0, wp_free(self->fd, b.slot));
	/* key 1 gets its own slot back though key 2's was freed last, zeroed */
	ASSERT_EQ(0, alloc_keyed(self->fd, MAX_MEM, 1, &c));
	EXPECT_EQ(a.slot, c.slot);
	EXPECT_EQ(WASMPOOL_SLOT_WARM_HIT, c.reuse);
	EXPECT_TRUE(all_zero(slot_addr(self, c.slot), MAX_MEM));
	/* a new key takes a cold slot, not key 2's warm one */
	ASSERT_EQ(0, alloc_keyed(self->fd, MAX_MEM, 3, &d));
	EXPECT_NE(b.slot, d.slot);
	EXPECT_EQ(WASMPOOL_SLOT_COLD, d.reuse);
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(1, st.warm_hits);
	EXPECT_EQ(3, st.warm_misses);
	EXPECT_EQ(0, wp_free(self->fd, c.slot));
	EXPECT_EQ(0, wp_free(self->fd, d.slot));
}

TEST_F(pool, affinity_miss_evicts_the_oldest_warm_slot)
{
	struct wasmpool_slot_alloc a[SLOTS], x;
	unsigned int i;

	/* every slot warm, freed in order: slot of key 100 first */
	for (i = 0; i < SLOTS; i++) {
		ASSERT_EQ(0, alloc_keyed(self->fd, PAGE, 100 + i, &a[i]));
		memset(slot_addr(self, a[i].slot), 0x5a, PAGE);
	}
	for (i = 0; i < SLOTS; i++)
		ASSERT_EQ(0, wp_free(self->fd, a[i].slot));
	ASSERT_EQ(0, alloc_keyed(self->fd, 2 * PAGE, 99, &x));
	EXPECT_EQ(a[0].slot, x.slot);
	EXPECT_EQ(WASMPOOL_SLOT_WARM, x.reuse);
	EXPECT_TRUE(all_zero(slot_addr(self, x.slot), 2 * PAGE));
	EXPECT_EQ(0, wp_free(self->fd, x.slot));
	/* without a key: the most recently freed warm slot */
	ASSERT_EQ(0, alloc_keyed(self->fd, PAGE, 0, &x));
	EXPECT_EQ(a[0].slot, x.slot);
	EXPECT_EQ(WASMPOOL_SLOT_WARM, x.reuse);
	EXPECT_EQ(0, wp_free(self->fd, x.slot));
}

/* The affinity hash of the smallest pools (once a shift by 64: an oops). */
TEST(affinity_in_pools_of_one_to_four_slots)
{
	for (uint64_t n = 1; n <= 4; n++) {
		struct wasmpool_configure c = small_config();
		struct wasmpool_slot_alloc a, b;
		char *p;
		int fd;

		WP_TEST_OPEN_DEVICE(fd);
		c.num_slots = n;
		ASSERT_EQ(0, wp_configure(fd, &c));
		p = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(0, alloc_keyed(fd, PAGE, 42, &a));
		p[a.offset] = 1;	/* a page kept: the slot goes warm */
		ASSERT_EQ(0, wp_free(fd, a.slot));
		ASSERT_EQ(0, alloc_keyed(fd, PAGE, 42, &b));
		EXPECT_EQ(a.slot, b.slot);
		EXPECT_EQ(WASMPOOL_SLOT_WARM_HIT, b.reuse);
		EXPECT_EQ(0, p[b.offset]);
		EXPECT_EQ(0, wp_free(fd, b.slot));
		ASSERT_EQ(0, alloc_keyed(fd, PAGE, 43, &b));
		EXPECT_EQ(0, wp_free(fd, b.slot));
		munmap(p, c.layout.total_bytes);
		close(fd);
	}
}

TEST_F(pool, affinity_hit_with_smaller_size_faults_above)
{
	struct wasmpool_slot_alloc a, b;
	char *s;

	ASSERT_EQ(0, alloc_keyed(self->fd, KEEP, 5, &a));
	s = slot_addr(self, a.slot);
	memset(s, 0x33, KEEP);
	ASSERT_EQ(0, wp_free(self->fd, a.slot));
	ASSERT_EQ(0, alloc_keyed(self->fd, PAGE, 5, &b));
	ASSERT_EQ(a.slot, b.slot);
	EXPECT_EQ(WASMPOOL_SLOT_WARM_HIT, b.reuse);
	EXPECT_TRUE(all_zero(s, PAGE));
	EXPECT_GUARD(s + PAGE);
	EXPECT_GUARD(s + KEEP - 1);
	/* grown again, the kept pages come back zeroed */
	ASSERT_EQ(0, wp_grow(self->fd, b.slot, KEEP));
	EXPECT_TRUE(all_zero(s, KEEP));
	EXPECT_EQ(0, wp_free(self->fd, b.slot));
}

TEST_F(pool, reserved_and_flags_refused)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_slot_resize r = { .size = sizeof(r) };
	struct wasmpool_slot_free f = { .size = sizeof(f) };
	struct wasmpool_stats st = { .size = sizeof(st), .flags = 1 };

	ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a));
	r.slot = a.slot;
	r.accessible_bytes = 2 * PAGE;
	r.__reserved = 1;
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_GROW, &r));
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_RESET, &r));
	r.__reserved = 0;
	r.flags = 1;
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_GROW, &r));
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_RESET, &r));
	f.slot = a.slot;
	f.__reserved = 1;
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_FREE, &f));
	f.__reserved = 0;
	f.flags = 1;
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_FREE, &f));
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_STATS, &st));
	/* nothing happened to the slot */
	EXPECT_GUARD(slot_addr(self, a.slot) + PAGE);
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.__reserved = 1;
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_ALLOC, &a));
	a.slot = r.slot;
	EXPECT_EQ(0, wp_free(self->fd, a.slot));
}

TEST_F(pool, configure_twice_ebusy)
{
	struct wasmpool_configure c = small_config();

	EXPECT_EQ(-EBUSY, wp_configure(self->fd, &c));
}

TEST_F(pool, second_mapping_ebusy)
{
	void *p = mmap(NULL, self->l.total_bytes, PROT_READ | PROT_WRITE,
		       MAP_SHARED, self->fd, 0);

	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EBUSY, errno);
}

TEST_F(pool, partial_munmap_refused)
{
	EXPECT_EQ(-1, munmap(self->base, PAGE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, munmap(slot_addr(self, 1), self->l.slot_bytes));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_GUARD(self->base);	/* still the pool */
}

TEST_F(pool, mremap_refused)
{
	void *p;

	p = mremap(self->base, self->l.total_bytes, self->l.total_bytes + PAGE,
		   MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, p);
	p = mremap(self->base, self->l.total_bytes, self->l.total_bytes - PAGE, 0);
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, self->l.total_bytes, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(MAP_FAILED, mremap(self->base, self->l.total_bytes, self->l.total_bytes,
				     MREMAP_MAYMOVE | MREMAP_FIXED, p));
	munmap(p, self->l.total_bytes);
	/* the pool still works where it was */
	struct wasmpool_slot_alloc a;

	ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a));
	EXPECT_ACCESSIBLE(slot_addr(self, a.slot));
}

TEST_F(pool, mprotect_refused)
{
	EXPECT_EQ(-1, mprotect(self->base, self->l.total_bytes, PROT_READ));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(self->base, self->l.total_bytes,
			       PROT_READ | PROT_WRITE | PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(self->base, PAGE, PROT_NONE));
	/* same protection: nothing changes, allowed */
	EXPECT_EQ(0, mprotect(self->base, self->l.total_bytes, PROT_READ | PROT_WRITE));
}

TEST_F(pool, munmap_frees_every_page)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;

	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	memset(slot_addr(self, a.slot), 1, MAX_MEM);
	ASSERT_EQ(0, munmap(self->base, self->l.total_bytes));
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(0, st.resident_bytes);
	EXPECT_EQ(0, st.address);
	EXPECT_EQ(1, st.slots_in_use);
	/* mapped again: the slot is still allocated and reads zero */
	self->base = mmap(NULL, self->l.total_bytes, PROT_READ | PROT_WRITE,
			  MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->base);
	EXPECT_TRUE(all_zero(slot_addr(self, a.slot), MAX_MEM));
}

TEST_F(pool, close_while_mapped_keeps_pool)
{
	struct wasmpool_slot_alloc a;
	char *s;

	ASSERT_EQ(0, wp_alloc(self->fd, 2 * PAGE, &a));
	s = slot_addr(self, a.slot);
	close(self->fd);
	self->fd = -1;
	memset(s, 3, 2 * PAGE);
	EXPECT_EQ(3, s[2 * PAGE - 1]);
	EXPECT_GUARD(s + 2 * PAGE);
}

/* Bookkeeping with nothing touched: a small per-slot constant, no more. */
TEST(metadata_of_10000_slots_of_4g)
{
	struct wasmpool_configure c = {
		.max_memory_bytes = 4ULL << 30,
		.reservation_bytes = 4ULL << 30,
		.guard_bytes = 2ULL << 30,
		.num_slots = 10000,
	};
	struct wasmpool_stats st;
	void *p;
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
	ASSERT_EQ(0, wp_configure(fd, &c));
	p = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap of %llu bytes: %s",
					 (unsigned long long)c.layout.total_bytes,
					 strerror(errno));
	ASSERT_EQ(0, wp_stats(fd, &st));
	TH_LOG("10,000 slots of 4 GiB (%llu GiB mapped): %llu bytes of kernel bookkeeping, %llu per slot",
	       (unsigned long long)(c.layout.total_bytes >> 30),
	       (unsigned long long)st.metadata_bytes,
	       (unsigned long long)st.metadata_bytes / 10000);
	EXPECT_EQ(0, st.resident_bytes);
	/*
	 * About 139 bytes a slot on a production kernel (its lock, its page
	 * index's root, sizes, free-list and affinity links, a quarter of a
	 * hash bucket). Lock debugging (lockdep's map in every rwsem and
	 * spinlock, as in make check-debug) makes a slot's locks alone bigger
	 * than that.
	 */
	EXPECT_LT(st.metadata_bytes, 10000 * (access("/proc/lockdep", F_OK) ? 144 : 512));
	munmap(p, c.layout.total_bytes);
	close(fd);
}

TEST(unconfigured_file_ebadfd)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	void *p;
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
	EXPECT_EQ(-EBADFD, wp_alloc(fd, 0, &a));
	EXPECT_EQ(-EBADFD, wp_grow(fd, 0, 0));
	EXPECT_EQ(-EBADFD, wp_reset(fd, 0, 0));
	EXPECT_EQ(-EBADFD, wp_free(fd, 0));
	EXPECT_EQ(-EBADFD, wp_stats(fd, &st));
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EBADFD, errno);
	close(fd);
}

TEST(configure_errors)
{
	struct wasmpool_configure c;
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
#define TRY(field, value, err) do {					\
		c = small_config();					\
		c.field = value;					\
		EXPECT_EQ(err, wp_configure(fd, &c)) TH_LOG(#field " = " #value); \
	} while (0)
	TRY(num_slots, 0, -EINVAL);
	TRY(num_slots, WASMPOOL_MAX_SLOTS + 1ULL, -EINVAL);
	TRY(max_memory_bytes, 0, -EINVAL);
	TRY(max_memory_bytes, RESERVATION + 1, -EINVAL);
	TRY(keep_resident_bytes, MAX_MEM + 1, -EINVAL);
	TRY(reservation_bytes, UINT64_MAX, -EOVERFLOW);
	TRY(guard_bytes, UINT64_MAX - PAGE, -EOVERFLOW);
	TRY(flags, 64, -EOPNOTSUPP);
	TRY(flags, 1u << 31, -EOPNOTSUPP);
	TRY(pkey_mode, 3, -EOPNOTSUPP);
	TRY(pkey_mode, 99, -EOPNOTSUPP);
	/* valid layout, but no address space holds it: 1 million 1 TiB slots */
	c = small_config();
	c.max_memory_bytes = 1ULL << 40;
	c.reservation_bytes = 1ULL << 40;
	c.keep_resident_bytes = 0;
	c.num_slots = 1 << 20;
	EXPECT_EQ(-ENOMEM, wp_configure(fd, &c));
#undef TRY
	/* none of it configured the file */
	c = small_config();
	EXPECT_EQ(0, wp_configure(fd, &c));
	close(fd);
}

TEST(configure_size_rules)
{
	struct {
		struct wasmpool_configure c;
		uint8_t tail[8];
	} big;
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
	memset(&big, 0, sizeof(big));
	big.c = small_config();
	big.c.size = offsetofend(struct wasmpool_configure, stripe_pkeys) - 1;
	EXPECT_EQ(-EINVAL, wp_ioctl(fd, WASMPOOL_IOC_CONFIGURE, &big));
	big.c.size = sizeof(big);
	big.tail[3] = 1;
	EXPECT_EQ(-E2BIG, wp_ioctl(fd, WASMPOOL_IOC_CONFIGURE, &big));
	big.tail[3] = 0;
	EXPECT_EQ(0, wp_ioctl(fd, WASMPOOL_IOC_CONFIGURE, &big));
	EXPECT_EQ(SLOTS, big.c.layout.num_slots);
	close(fd);
}

TEST(bad_mmaps_refused)
{
	struct wasmpool_configure c = small_config();
	size_t len;
	void *p;
	int fd, rofd;

	WP_TEST_OPEN_DEVICE(fd);
	ASSERT_EQ(0, wp_configure(fd, &c));
	len = c.layout.total_bytes;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, len - PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, len + PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	/* a read-only open cannot map shared-writable at all */
	rofd = open(WP_TEST_DEVICE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, rofd);
	c = small_config();
	ASSERT_EQ(0, wp_configure(rofd, &c));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, rofd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	close(rofd);

	/* after all that, the right mapping works */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, len);
	close(fd);
}

/* Each new tenant sees only zeroes: dirty random pages, free, alloc, check. */
TEST_F(pool, zero_on_reuse_10000_cycles)
{
	unsigned int seed = 12345, cycle, dirty = 0;

	for (cycle = 0; cycle < 10000; cycle++) {
		struct wasmpool_slot_alloc a;
		uint64_t size = ((rand_r(&seed) % (MAX_MEM / PAGE)) + 1) * PAGE;
		char *s;
		int k;

		ASSERT_EQ(0, wp_alloc(self->fd, size, &a));
		s = slot_addr(self, a.slot);
		ASSERT_TRUE(all_zero(s, size)) TH_LOG("cycle %u slot %u", cycle, a.slot);
		/* dirty a few pages, inside and beyond keep_resident */
		for (k = 0; k < 3; k++) {
			uint64_t off = rand_r(&seed) % size;

			s[off] = (char)(1 + rand_r(&seed) % 255);
			dirty++;
		}
		s[0] = 0x42;
		ASSERT_EQ(0, wp_free(self->fd, a.slot));
	}
	TH_LOG("10000 tenants, %u random bytes dirtied, every accessible byte checked", dirty);
}

TEST_HARNESS_MAIN
