// SPDX-License-Identifier: GPL-2.0-only
/*
 * free_batch_test: WASMPOOL_IOC_SLOT_FREE_BATCH. All or none (every bad
 * input fails with nothing freed and the slots' contents intact), the
 * slots come back zeroed (warm and strict), in a multi-threaded process
 * neighbouring slots are unmapped in one range (the pool's unmaps
 * counter) while a slot in use between them keeps its mapping and its
 * data, in a single-threaded one slot by slot, and a batch racing with
 * single frees of the same slots never frees a slot twice.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define PAGE		4096ULL
#define MAX_MEM		(64 * 1024ULL)
#define SLOTS		8

FIXTURE(batch) {
	int fd;
	char *base;
	struct wasmpool_layout l;
	uint32_t slot[SLOTS];
	char *mem[SLOTS];
};

FIXTURE_VARIANT(batch) {
	uint32_t flags;
	uint64_t keep;
};

/* keep 0: every free unmaps, and neighbours merge */
FIXTURE_VARIANT_ADD(batch, warm_keep0) {
	.flags = 0, .keep = 0,
};

/* kept pages stay mapped: one unmap per slot with pages beyond keep */
FIXTURE_VARIANT_ADD(batch, warm_keep16k) {
	.flags = 0, .keep = 16 * 1024,
};

/* strict: the whole slot goes, kept pages too, and neighbours merge */
FIXTURE_VARIANT_ADD(batch, strict_keep16k) {
	.flags = WASMPOOL_CONFIGURE_STRICT, .keep = 16 * 1024,
};

FIXTURE_SETUP(batch)
{
	struct wasmpool_configure c = wp_test_config(variant->flags, MAX_MEM, SLOTS,
						     variant->keep);
	struct wasmpool_slot_alloc a;

	WP_TEST_OPEN_POOL(self, c);
	/*
	 * Every slot allocated, its first keep_resident bytes and its last
	 * page written: a reset keeps keep_resident's worth of pages, lowest
	 * first, so the last one is the page beyond them that a free unmaps.
	 */
	for (int i = 0; i < SLOTS; i++) {
		ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
		self->slot[i] = a.slot;
		self->mem[a.slot] = self->base + a.offset;
		memset(self->mem[a.slot], 0x5a, variant->keep);
		self->mem[a.slot][0] = (char)(i + 1);
		self->mem[a.slot][MAX_MEM - 1] = (char)(i + 1);
	}
}

FIXTURE_TEARDOWN(batch)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, self->l.total_bytes);
	close(self->fd);
}

static uint64_t in_use(FIXTURE_DATA(batch) *self)
{
	struct wasmpool_stats st;

	if (wp_stats(self->fd, &st))
		return UINT64_MAX;
	return st.slots_in_use;
}

static uint64_t unmaps(FIXTURE_DATA(batch) *self)
{
	struct wasmpool_stats st;

	if (wp_stats(self->fd, &st))
		return UINT64_MAX;
	return st.unmaps;
}

/* Slot i (by index) still allocated, with what the setup wrote. */
static int intact(FIXTURE_DATA(batch) *self, uint32_t i)
{
	return self->mem[i][0] && self->mem[i][0] == self->mem[i][MAX_MEM - 1];
}

TEST_F(batch, bad_batches_free_nothing)
{
	struct wasmpool_slot_free_batch f = { .size = sizeof(f) };
	uint32_t ids[SLOTS + 1];

	for (int i = 0; i < SLOTS; i++)
		ids[i] = i;
	EXPECT_EQ(-EINVAL, wp_free_batch(self->fd, ids, 0));
	EXPECT_EQ(-EINVAL, wp_free_batch(self->fd, ids, WASMPOOL_FREE_BATCH_MAX + 1));
	ids[SLOTS] = SLOTS;		/* no such slot, last */
	EXPECT_EQ(-EINVAL, wp_free_batch(self->fd, ids, SLOTS + 1));
	ids[SLOTS] = 3;			/* twice */
	EXPECT_EQ(-EINVAL, wp_free_batch(self->fd, ids, SLOTS + 1));
	EXPECT_EQ(-EFAULT, wp_free_batch(self->fd, (uint32_t *)8, 2));
	f.slots = (uintptr_t)ids;
	f.count = 2;
	f.flags = 1;
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_FREE_BATCH, &f));
	f.flags = 0;
	f.__reserved = 1;
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_FREE_BATCH, &f));
	EXPECT_EQ(SLOTS, in_use(self));

	/* one slot not allocated, in the middle: ENOENT, the others stay */
	ASSERT_EQ(0, wp_free(self->fd, 5));
	EXPECT_EQ(-ENOENT, wp_free_batch(self->fd, ids, SLOTS));
	EXPECT_EQ(SLOTS - 1, in_use(self));
	for (uint32_t i = 0; i < SLOTS; i++) {
		if (i != 5) {
			EXPECT_TRUE(intact(self, i)) TH_LOG("slot %u lost its contents", i);
		}
	}
	/* and they can still be freed, one by one */
	for (uint32_t i = 0; i < SLOTS; i++)
		if (i != 5)
			EXPECT_EQ(0, wp_free(self->fd, i));
	EXPECT_EQ(0, in_use(self));
}

TEST_F(batch, frees_all_and_the_next_tenants_see_zeroes)
{
	struct wasmpool_slot_alloc a;
	uint32_t ids[SLOTS];
	siginfo_t si;

	for (int i = 0; i < SLOTS; i++)
		ids[i] = self->slot[SLOTS - 1 - i];	/* any order */
	ASSERT_EQ(0, wp_free_batch(self->fd, ids, SLOTS));
	EXPECT_EQ(0, in_use(self));
	EXPECT_EQ(-ENOENT, wp_free(self->fd, ids[0]));
	EXPECT_EQ(-ENOENT, wp_free_batch(self->fd, ids, 1));
	for (uint32_t i = 0; i < SLOTS; i++) {
		/* a free slot faults, but for kept pages of a warm pool */
		int sig = wp_probe(self->mem[i] + MAX_MEM - 1, 0, &si);

		EXPECT_EQ(SIGSEGV, sig) TH_LOG("slot %u: its last byte, free", i);
		sig = wp_probe(self->mem[i], 0, &si);
		if (variant->keep && !(variant->flags & WASMPOOL_CONFIGURE_STRICT)) {
			EXPECT_EQ(0, sig);
			EXPECT_EQ(0, self->mem[i][0]);
		} else {
			EXPECT_EQ(SIGSEGV, sig) TH_LOG("slot %u: its first byte, free", i);
		}
	}
	for (int i = 0; i < SLOTS; i++) {
		ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
		EXPECT_EQ(0, self->base[a.offset]);
		EXPECT_EQ(0, self->base[a.offset + MAX_MEM - 1]);
	}
}

/* A thread that only waits: the process is multi-threaded meanwhile. */
static void *idle_thread(void *arg)
{
	char c;

	return read(*(int *)arg, &c, 1) < 0 ? arg : NULL;
}

TEST_F(batch, neighbours_unmap_in_one_range)
{
	uint64_t before = unmaps(self), want;
	uint32_t ids[SLOTS - 1];
	int n = 0, pipefd[2];
	pthread_t t;

	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(0, pthread_create(&t, NULL, idle_thread, &pipefd[0]));
	/* all but slot 3, which stays in use, mapped, between two runs */
	for (uint32_t i = 0; i < SLOTS; i++)
		if (i != 3)
			ids[n++] = i;
	ASSERT_EQ(0, wp_free_batch(self->fd, ids, n));
	close(pipefd[1]);
	pthread_join(t, NULL);
	close(pipefd[0]);
	/*
	 * Without kept pages mapped: runs 0-2 and 4-7, two ranges. A warm
	 * pool keeps each slot's first pages mapped: one range per slot.
	 */
	want = variant->keep && !(variant->flags & WASMPOOL_CONFIGURE_STRICT) ? n : 2;
	EXPECT_EQ(want, unmaps(self) - before);
	EXPECT_TRUE(intact(self, 3));
	EXPECT_EQ(1, in_use(self));

	/* the same tenants freed one by one: one range each */
	for (int i = 0; i < n; i++) {
		struct wasmpool_slot_alloc a;

		ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
		self->base[a.offset + MAX_MEM - 1] = 1;
		ids[i] = a.slot;
	}
	before = unmaps(self);
	for (int i = 0; i < n; i++)
		ASSERT_EQ(0, wp_free(self->fd, ids[i]));
	EXPECT_EQ(n, unmaps(self) - before);
	EXPECT_TRUE(intact(self, 3));
}

/* Single-threaded, no other CPU to spare a shootdown: one range per slot. */
TEST_F(batch, single_threaded_unmaps_slot_by_slot)
{
	uint64_t before = unmaps(self);
	uint32_t ids[SLOTS];

	for (uint32_t i = 0; i < SLOTS; i++)
		ids[i] = i;
	ASSERT_EQ(0, wp_free_batch(self->fd, ids, SLOTS));
	EXPECT_EQ(SLOTS, unmaps(self) - before);
	EXPECT_EQ(0, in_use(self));
}

struct racer {
	int fd;
	uint32_t slot;
	int ret;
};

static void *free_one(void *arg)
{
	struct racer *r = arg;

	r->ret = wp_free(r->fd, r->slot);
	return NULL;
}

/* A batch and a single free of the same slot: exactly one of them wins. */
TEST_F(batch, racing_frees_free_once)
{
	struct wasmpool_slot_alloc a;
	uint32_t ids[SLOTS];
	pthread_t t;

	for (int i = 0; i < SLOTS; i++)
		ids[i] = i;
	for (int round = 0; round < 500; round++) {
		struct racer r = { .fd = self->fd, .slot = round % SLOTS };
		int ret;

		ASSERT_EQ(0, pthread_create(&t, NULL, free_one, &r));
		ret = wp_free_batch(self->fd, ids, SLOTS);
		ASSERT_EQ(0, pthread_join(t, NULL));
		if (ret == 0) {
			/* the batch won: the single free found nothing */
			ASSERT_EQ(-ENOENT, r.ret);
			ASSERT_EQ(0, in_use(self));
		} else {
			/* the single free won: the batch freed nothing */
			ASSERT_EQ(-ENOENT, ret);
			ASSERT_EQ(0, r.ret);
			ASSERT_EQ(SLOTS - 1, in_use(self));
			if (r.slot)
				ASSERT_EQ(0, wp_free_batch(self->fd, ids, r.slot));
			if (r.slot + 1 < SLOTS)
				ASSERT_EQ(0, wp_free_batch(self->fd, ids + r.slot + 1,
							   SLOTS - 1 - r.slot));
		}
		/* every slot comes back once, and only once */
		for (int i = 0; i < SLOTS; i++)
			ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a));
		ASSERT_EQ(-ENOSPC, wp_alloc(self->fd, PAGE, &a));
	}
	ASSERT_EQ(0, wp_free_batch(self->fd, ids, SLOTS));
}

TEST_HARNESS_MAIN
