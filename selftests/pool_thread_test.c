// SPDX-License-Identifier: GPL-2.0-only
/*
 * pool_thread_test: threads hammer one pool for a bounded time - each on
 * its own slots (alloc, check zero, dirty, grow, reset, free), and on the
 * same slot (faults racing resets, resets racing resets). No slot is handed
 * out twice, no tenant sees another's data, and the counters balance.
 * And on Linux 6.4 and later faults run without the mmap_lock.
 *
 * WASMPOOL_STRESS_SECONDS sets the time of each test (default 2).
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define PAGE		4096ULL
#define MAX_MEM		(256 * 1024ULL)
#define SLOTS		64
#define KEEP		(32 * 1024ULL)
#define MAX_THREADS	64

FIXTURE(threads) {
	int fd;
	char *base;
	struct wasmpool_layout l;
	double seconds;
	int nthreads;
	atomic_int owner[SLOTS];
	atomic_long cycles;
	atomic_int errors;
	atomic_int stop;
};

FIXTURE_SETUP(threads)
{
	struct wasmpool_configure c = wp_test_config(0, MAX_MEM, SLOTS, KEEP);
	const char *env = getenv("WASMPOOL_STRESS_SECONDS");
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	WP_TEST_OPEN_POOL(self, c);
	self->seconds = env ? atof(env) : 2.0;
	self->nthreads = n < 2 ? 4 : (n * 2 > MAX_THREADS ? MAX_THREADS : n * 2);
}

FIXTURE_TEARDOWN(threads)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, self->l.total_bytes);
	if (self->fd >= 0)
		close(self->fd);
}

struct worker {
	FIXTURE_DATA(threads) *self;
	int id;
	uint32_t slot;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(FIXTURE_DATA(threads) *self, const char *what, long v)
{
	if (atomic_fetch_add(&self->errors, 1) < 5)
		fprintf(stderr, "# %s (%ld)\n", what, v);
}

/* Own slots: every tenant starts from zero and leaves its mark. */
static void *tenant(void *arg)
{
	struct worker *w = arg;
	FIXTURE_DATA(threads) *self = w->self;
	unsigned int seed = w->id * 7919;
	char mark = (char)(w->id + 1);

	while (!atomic_load(&self->stop)) {
		struct wasmpool_slot_alloc a;
		uint64_t size = (1 + rand_r(&seed) % (MAX_MEM / PAGE)) * PAGE;
		int expected = -1, ret, k;
		char *s;

		ret = wp_alloc(self->fd, size, &a);
		if (ret == -ENOSPC)
			continue;
		if (ret) {
			fail(self, "alloc", ret);
			break;
		}
		if (!atomic_compare_exchange_strong(&self->owner[a.slot], &expected, w->id)) {
			fail(self, "slot handed out twice", a.slot);
			break;
		}
		s = self->base + a.offset;
		for (k = 0; k < 8; k++) {
			uint64_t off = (rand_r(&seed) % (size / PAGE)) * PAGE + rand_r(&seed) % PAGE;

			if (s[off] != 0 && s[off] != mark)
				fail(self, "a byte of another tenant", s[off]);
			s[off] = mark;
		}
		if (rand_r(&seed) % 4 == 0 && size < MAX_MEM) {
			if (wp_grow(self->fd, a.slot, MAX_MEM))
				fail(self, "grow", a.slot);
			s[MAX_MEM - 1] = mark;
		}
		if (rand_r(&seed) % 3 == 0) {
			/* reset in place: a new tenant of the same slot */
			if (wp_reset(self->fd, a.slot, size))
				fail(self, "reset", a.slot);
			for (k = 0; k < 4; k++) {
				uint64_t off = (rand_r(&seed) % (size / PAGE)) * PAGE;

				if (s[off] != 0)
					fail(self, "non-zero after reset", s[off]);
			}
		}
		atomic_store(&self->owner[a.slot], -1);
		if (wp_free(self->fd, a.slot))
			fail(self, "free", a.slot);
		atomic_fetch_add(&self->cycles, 1);
	}
	return NULL;
}

static void run(FIXTURE_DATA(threads) *self, struct __test_metadata *_metadata,
		void *(*fn)(void *), int n, uint32_t slot)
{
	pthread_t t[MAX_THREADS];
	struct worker w[MAX_THREADS];
	double end = now() + self->seconds;
	int i;

	for (i = 0; i < n; i++) {
		w[i] = (struct worker){ .self = self, .id = i, .slot = slot };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fn, &w[i]));
	}
	while (now() < end && !atomic_load(&self->errors))
		usleep(20000);
	atomic_store(&self->stop, 1);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

TEST_F(threads, tenants_on_own_slots)
{
	struct wasmpool_stats st;
	int i;

	for (i = 0; i < SLOTS; i++)
		atomic_store(&self->owner[i], -1);
	run(self, _metadata, tenant, self->nthreads, 0);
	EXPECT_EQ(0, atomic_load(&self->errors));
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	TH_LOG("%d threads, %.1f s: %ld tenants, %llu faults, %llu resets",
	       self->nthreads, self->seconds, atomic_load(&self->cycles),
	       (unsigned long long)st.faults, (unsigned long long)st.resets);
	EXPECT_LT(100, atomic_load(&self->cycles));
	EXPECT_EQ(0, st.slots_in_use);
	/* all freed: only kept pages remain, at most KEEP per slot */
	EXPECT_GE(SLOTS * KEEP, st.resident_bytes);
	EXPECT_EQ(st.pages_allocated * PAGE, st.resident_bytes + st.pages_freed * PAGE);
}

/* Faults and resets of one slot race: no crash, only 0 or the writer's bytes. */
static void *toucher(void *arg)
{
	struct worker *w = arg;
	FIXTURE_DATA(threads) *self = w->self;
	char *s = self->base + self->l.pre_slab_guard_bytes +
		  (uint64_t)w->slot * self->l.slot_bytes;
	unsigned int seed = w->id;

	while (!atomic_load(&self->stop)) {
		uint64_t off = (rand_r(&seed) % (MAX_MEM / PAGE)) * PAGE;
		char v = s[off];

		if (v != 0 && v != 0x5a)
			fail(self, "unexpected byte", v);
		s[off] = 0x5a;
	}
	return NULL;
}

static void *resetter(void *arg)
{
	struct worker *w = arg;
	FIXTURE_DATA(threads) *self = w->self;
	int ret;

	while (!atomic_load(&self->stop)) {
		ret = wp_reset(self->fd, w->slot, MAX_MEM);
		if (ret)
			fail(self, "reset", ret);
		atomic_fetch_add(&self->cycles, 1);
	}
	return NULL;
}

static void *race_mix(void *arg)
{
	struct worker *w = arg;

	return w->id % 2 ? resetter(arg) : toucher(arg);
}

TEST_F(threads, faults_race_resets_of_one_slot)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;

	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	run(self, _metadata, race_mix, self->nthreads, a.slot);
	EXPECT_EQ(0, atomic_load(&self->errors));
	ASSERT_EQ(0, wp_free(self->fd, a.slot));
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	TH_LOG("%ld resets raced %llu faults", atomic_load(&self->cycles),
	       (unsigned long long)st.faults);
	EXPECT_GE(KEEP, st.resident_bytes);
	EXPECT_EQ(st.pages_allocated * PAGE, st.resident_bytes + st.pages_freed * PAGE);
}

/* The running kernel is at least @major.@minor. */
static int kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return 0;
	return ma > major || (ma == major && mi >= minor);
}

/*
 * Since Linux 6.4 a fault can run under its VMA's lock alone: the pool's
 * faults must (no retry under the process's mmap_lock, which every
 * thread's mmap() and munmap() contend on). Before, they cannot.
 */
TEST_F(threads, faults_without_mmap_lock)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	char *s;

	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	s = self->base + a.offset;
	for (uint64_t off = 0; off < MAX_MEM; off += PAGE)
		s[off] = 1;
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	TH_LOG("%llu faults, %llu of them under the VMA lock alone",
	       (unsigned long long)st.faults, (unsigned long long)st.faults_vma_locked);
	EXPECT_LE(MAX_MEM / PAGE, st.faults);
	if (kernel_at_least(6, 4)) {
		EXPECT_EQ(st.faults, st.faults_vma_locked);
	} else {
		EXPECT_EQ(0, st.faults_vma_locked);
	}
	ASSERT_EQ(0, wp_free(self->fd, a.slot));
}

TEST_HARNESS_MAIN
