// SPDX-License-Identifier: GPL-2.0-only
/*
 * reuse_test: zero-on-reuse across 10,000 tenants, on a warm pool (the
 * default: kept pages stay mapped across resets and frees), a strict one
 * and a warm one populating ahead. Each tenant gets a slot (with one of
 * a few affinity keys, or none: hits and misses), checks that every
 * accessible byte reads zero and that the byte at its size faults,
 * dirties random bytes inside and beyond keep_resident, sometimes grows, sometimes resets to another size
 * (shrinks included) and checks again, and frees: half of the time at
 * once, else through a decommit queue of up to 3 slots freed in one
 * batch. Seeded: the seed is printed, WASMPOOL_REUSE_SEED replays it.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define PAGE		4096ULL
#define MAX_MEM		(64 * 1024ULL)
#define KEEP		(16 * 1024ULL)
#define SLOTS		8
#define TENANTS		10000

FIXTURE(reuse) {
	int fd;
	char *base;
	struct wasmpool_layout l;
};

FIXTURE_VARIANT(reuse) {
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(reuse, warm) {
	.flags = 0,
};

FIXTURE_VARIANT_ADD(reuse, strict) {
	.flags = WASMPOOL_CONFIGURE_STRICT,
};

/* the checks walk every slot: populating ahead is at work throughout */
FIXTURE_VARIANT_ADD(reuse, warm_populate_ahead) {
	.flags = WASMPOOL_CONFIGURE_POPULATE_AHEAD,
};

/* the checks read every byte first: zero-page PTEs come and go all along */
FIXTURE_VARIANT_ADD(reuse, warm_zero_page) {
	.flags = WASMPOOL_CONFIGURE_ZERO_PAGE,
};

FIXTURE_SETUP(reuse)
{
	struct wasmpool_configure c = wp_test_config(variant->flags, MAX_MEM, SLOTS, KEEP);

	WP_TEST_OPEN_POOL(self, c);
}

FIXTURE_TEARDOWN(reuse)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, self->l.total_bytes);
	close(self->fd);
}

/* Offset of the first non-zero byte of [p, p + len), or -1. */
static long first_nonzero(const char *p, size_t len)
{
	static const char zero[PAGE];

	for (size_t off = 0; off < len; off += PAGE)
		if (memcmp(p + off, zero, len - off < PAGE ? len - off : PAGE))
			for (size_t i = off; i < len; i++)
				if (p[i])
					return i;
	return -1;
}

/* A page-rounded size from 0 to MAX_MEM. */
static uint64_t rand_size(uint64_t *rng)
{
	return (wp_test_rng(rng) % (MAX_MEM / PAGE + 1)) * PAGE;
}

/* ~10 s here; the timeout is for the debug kernels (KASAN, lockdep). */
TEST_F_TIMEOUT(reuse, every_tenant_starts_from_zero, 900)
{
	const char *env = getenv("WASMPOOL_REUSE_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	uint64_t rng = seed;
	struct wasmpool_stats st;
	long hits = 0, shrinks = 0, resets = 0, batches = 0, bad;
	uint32_t queue[3], nq = 0;
	siginfo_t si;

	TH_LOG("seed %#llx (WASMPOOL_REUSE_SEED replays it)", (unsigned long long)seed);
	for (int t = 0; t < TENANTS; t++) {
		struct wasmpool_slot_alloc a = { .size = sizeof(a) };
		uint64_t size = rand_size(&rng), old;
		unsigned int key = wp_test_rng(&rng) % 5;
		char *s;

		a.accessible_bytes = size;
		if (key) {
			a.flags = WASMPOOL_SLOT_ALLOC_AFFINITY;
			a.affinity = key;
		}
		ASSERT_EQ(0, wp_ioctl(self->fd, WASMPOOL_IOC_SLOT_ALLOC, &a));
		hits += a.reuse == WASMPOOL_SLOT_WARM_HIT;
		s = self->base + a.offset;
		bad = first_nonzero(s, size);
		ASSERT_EQ(-1, bad) TH_LOG("tenant %d, slot %u, size %llu: byte %ld not zero",
					 t, a.slot, (unsigned long long)size, bad);
		if (size < MAX_MEM) {
			ASSERT_EQ(SIGSEGV, wp_probe(s + size, 0, &si))
				TH_LOG("tenant %d: the byte at its size %llu does not fault",
				       t, (unsigned long long)size);
		}
		/* dirty it, inside and beyond keep_resident */
		for (int k = 0; size && k < 8; k++)
			s[wp_test_rng(&rng) % size] = (char)(1 + wp_test_rng(&rng) % 255);
		if (wp_test_rng(&rng) % 4 == 0) {
			old = size;
			size = old + (wp_test_rng(&rng) % ((MAX_MEM - old) / PAGE + 1)) * PAGE;
			ASSERT_EQ(0, wp_grow(self->fd, a.slot, size));
			bad = first_nonzero(s + old, size - old);
			ASSERT_EQ(-1, bad) TH_LOG("tenant %d: grown part not zero", t);
			if (size)
				s[size - 1] = 1;
		}
		if (wp_test_rng(&rng) % 3 == 0) {
			old = size;
			size = rand_size(&rng);
			shrinks += size < old;
			resets++;
			ASSERT_EQ(0, wp_reset(self->fd, a.slot, size));
			bad = first_nonzero(s, size);
			ASSERT_EQ(-1, bad) TH_LOG("tenant %d: byte %ld not zero after reset", t, bad);
			if (size < MAX_MEM)
				ASSERT_EQ(SIGSEGV, wp_probe(s + size, 1, &si));
			for (int k = 0; size && k < 4; k++)
				s[wp_test_rng(&rng) % size] = 0x5a;
		}
		if (wp_test_rng(&rng) % 2) {
			ASSERT_EQ(0, wp_free(self->fd, a.slot));
		} else {
			queue[nq++] = a.slot;
		}
		if (nq == 3 || (nq && t == TENANTS - 1)) {
			ASSERT_EQ(0, wp_free_batch(self->fd, queue, nq));
			batches++;
			nq = 0;
		}
	}
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	TH_LOG("%d tenants: %ld affinity hits (%llu hits, %llu misses counted), %ld resets, %ld of them shrinks, %ld batch frees; %llu faults, %llu pages cleared",
	       TENANTS, hits, (unsigned long long)st.warm_hits,
	       (unsigned long long)st.warm_misses, resets, shrinks, batches,
	       (unsigned long long)st.faults, (unsigned long long)st.pages_cleared);
	EXPECT_EQ(hits, st.warm_hits);
	EXPECT_LT(0, hits);
	EXPECT_LT(0, shrinks);
	EXPECT_LT(0, batches);
	EXPECT_EQ(0, st.slots_in_use);
	EXPECT_GE(SLOTS * KEEP, st.resident_bytes);
}

TEST_HARNESS_MAIN
