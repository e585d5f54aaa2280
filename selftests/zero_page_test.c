// SPDX-License-Identifier: GPL-2.0-only
/*
 * zero_page_test: in a pool configured with WASMPOOL_CONFIGURE_ZERO_PAGE, a
 * read of a page that was never written maps the shared zero page
 * read-only instead of backing the page (without the flag it backs it). It reads zero, costs no
 * resident page (stats, RSS); the first write gets the slot a page of its
 * own and never reaches the zero page; the zero-page PTEs go with the
 * accessible size (a slot given a smaller size faults above it, after a
 * reset, a free, a batch free, warm and strict); a reader never sees a
 * stale zero after a write; nothing can pin such a page.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define PAGE		4096ULL
#define MAX_MEM		(1024 * 1024ULL)
#define SLOTS		4
#define KEEP		(64 * 1024ULL)

FIXTURE(zero) {
	int fd;
	char *base;
	struct wasmpool_layout l;
};

FIXTURE_VARIANT(zero) {
	uint32_t flags;
	uint64_t keep;
};

FIXTURE_VARIANT_ADD(zero, warm_keep0) {
	.flags = WASMPOOL_CONFIGURE_ZERO_PAGE, .keep = 0,
};

FIXTURE_VARIANT_ADD(zero, warm_keep64k) {
	.flags = WASMPOOL_CONFIGURE_ZERO_PAGE, .keep = KEEP,
};

FIXTURE_VARIANT_ADD(zero, strict_keep64k) {
	.flags = WASMPOOL_CONFIGURE_ZERO_PAGE | WASMPOOL_CONFIGURE_STRICT, .keep = KEEP,
};

FIXTURE_SETUP(zero)
{
	struct wasmpool_configure c = wp_test_config(variant->flags, MAX_MEM, SLOTS,
						     variant->keep);

	WP_TEST_OPEN_POOL(self, c);
}

FIXTURE_TEARDOWN(zero)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, self->l.total_bytes);
	close(self->fd);
}

static uint64_t resident(struct __test_metadata *_metadata, int fd)
{
	struct wasmpool_stats st;

	EXPECT_EQ(0, wp_stats(fd, &st));
	return st.resident_bytes;
}

/* Read every page of [p, p + len): all zero? */
static int reads_zero(volatile const char *p, uint64_t len)
{
	uint64_t i;

	for (i = 0; i < len; i += PAGE)
		if (p[i] || p[i + PAGE - 1])
			return 0;
	return 1;
}

/* Reads cost no page; a write after a read backs exactly that page. */
TEST_F(zero, reads_cost_nothing_writes_back_the_page)
{
	struct wasmpool_slot_alloc a;
	volatile char *m;

	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	m = (char *)(uintptr_t)a.address;
	EXPECT_TRUE(reads_zero(m, MAX_MEM));
	EXPECT_EQ(0, resident(_metadata, self->fd));
	m[5 * PAGE + 3] = 42;
	EXPECT_EQ(42, m[5 * PAGE + 3]);
	EXPECT_EQ(0, m[5 * PAGE + 4]);
	EXPECT_EQ(PAGE, resident(_metadata, self->fd));
	/* the neighbours still read zero: the write went to a page of its own */
	EXPECT_EQ(0, m[4 * PAGE + 3]);
	EXPECT_EQ(0, m[6 * PAGE + 3]);
	EXPECT_EQ(PAGE, resident(_metadata, self->fd));
	EXPECT_EQ(0, wp_free(self->fd, a.slot));
}

/* Many pages read, then written: each holds what was written. */
TEST_F(zero, read_then_write_every_page)
{
	struct wasmpool_slot_alloc a;
	volatile char *m;
	uint64_t i;

	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	m = (char *)(uintptr_t)a.address;
	EXPECT_TRUE(reads_zero(m, MAX_MEM));
	for (i = 0; i < MAX_MEM; i += PAGE)
		m[i + (i / PAGE) % PAGE] = (char)(1 + i / PAGE);
	for (i = 0; i < MAX_MEM; i += PAGE)
		ASSERT_EQ((char)(1 + i / PAGE), m[i + (i / PAGE) % PAGE]) TH_LOG("page %llu",
			(unsigned long long)(i / PAGE));
	EXPECT_EQ(MAX_MEM, resident(_metadata, self->fd));
	EXPECT_EQ(0, wp_free(self->fd, a.slot));
}

/*
 * The zero-page PTEs of a slot are not resident pages, but the accessible
 * size holds them all the same: after each way a slot can lose size, a
 * read above the new size faults and one below it reads zero.
 */
TEST_F(zero, smaller_size_faults_above_after_reset_and_free)
{
	struct wasmpool_slot_alloc a;
	volatile char *m;
	uint32_t way;

	for (way = 0; way < 3; way++) {
		uint32_t ids[2];
		struct wasmpool_slot_alloc b;

		ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
		m = (char *)(uintptr_t)a.address;
		EXPECT_TRUE(reads_zero(m, MAX_MEM));
		if (way == 0) {
			/* a reset to a smaller size */
			ASSERT_EQ(0, wp_reset(self->fd, a.slot, 2 * PAGE));
		} else {
			/* a free (single or batch), then the same slot back smaller */
			ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &b));
			ids[0] = a.slot;
			ids[1] = b.slot;
			if (way == 1) {
				ASSERT_EQ(0, wp_free(self->fd, a.slot));
				ASSERT_EQ(0, wp_free(self->fd, b.slot));
			} else {
				ASSERT_EQ(0, wp_free_batch(self->fd, ids, 2));
			}
			while (1) {
				ASSERT_EQ(0, wp_alloc(self->fd, 2 * PAGE, &b));
				if (b.slot == a.slot)
					break;
			}
		}
		EXPECT_EQ(0, m[PAGE + 7]) TH_LOG("way %u", way);
		EXPECT_EQ(SIGSEGV, wp_probe(m + 2 * PAGE, 0, NULL)) TH_LOG("way %u", way);
		EXPECT_EQ(SIGSEGV, wp_probe(m + KEEP + PAGE, 0, NULL)) TH_LOG("way %u", way);
		EXPECT_EQ(SIGSEGV, wp_probe(m + MAX_MEM - PAGE, 0, NULL)) TH_LOG("way %u", way);
		/* free everything for the next way */
		for (uint32_t s = 0; s < SLOTS; s++)
			wp_free(self->fd, s);
	}
}

/* Reads of a slot that a previous tenant wrote still read zero. */
TEST_F(zero, zero_after_a_writer_tenant)
{
	struct wasmpool_slot_alloc a;
	volatile char *m;
	int round;

	for (round = 0; round < 20; round++) {
		ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
		m = (char *)(uintptr_t)a.address;
		ASSERT_TRUE(reads_zero(m, MAX_MEM)) TH_LOG("round %d", round);
		/* write half the pages, read the others */
		for (uint64_t i = (round & 1) * PAGE; i < MAX_MEM; i += 2 * PAGE)
			m[i] = 1;
		ASSERT_EQ(0, wp_free(self->fd, a.slot));
	}
}

/* Nothing pins a page that a read mapped: vmsplice and /proc/self/mem. */
TEST_F(zero, read_pages_cannot_be_pinned_or_written_through)
{
	struct wasmpool_slot_alloc a;
	volatile char *m;
	struct iovec iov;
	int p[2], memfd;
	char one = 1;

	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	m = (char *)(uintptr_t)a.address;
	EXPECT_EQ(0, m[0]);
	ASSERT_EQ(0, pipe(p));
	iov.iov_base = (void *)m;
	iov.iov_len = PAGE;
	EXPECT_EQ(-1, vmsplice(p[1], &iov, 1, 0));
	close(p[0]);
	close(p[1]);
	memfd = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, memfd);
	EXPECT_EQ(-1, pwrite(memfd, &one, 1, (off_t)(uintptr_t)m));
	close(memfd);
	/* the zero page is still zero, here and in a fresh anonymous page */
	EXPECT_EQ(0, m[0]);
	EXPECT_EQ(0, m[PAGE]);
	EXPECT_EQ(0, resident(_metadata, self->fd));
	EXPECT_EQ(0, wp_free(self->fd, a.slot));
}

struct race {
	volatile char *p;
	atomic_int stop;
	atomic_int bad;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	char last = 0;

	while (!atomic_load(&r->stop)) {
		char v = r->p[0];

		/* values only grow: a stale zero after a write would not */
		if ((unsigned char)v < (unsigned char)last)
			atomic_fetch_add(&r->bad, 1);
		last = v;
	}
	return NULL;
}

/* A thread reading a page while another writes it for the first time
 * never sees it go back to zero. */
TEST_F(zero, no_stale_zero_after_first_write)
{
	struct wasmpool_slot_alloc a;
	pthread_t t;
	int round;

	for (round = 0; round < 200; round++) {
		struct race r = { .stop = 0, .bad = 0 };

		ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
		r.p = (char *)(uintptr_t)a.address + (round % 16) * PAGE;
		EXPECT_EQ(0, r.p[0]);	/* the zero page is mapped */
		ASSERT_EQ(0, pthread_create(&t, NULL, reader, &r));
		for (int v = 1; v < 100; v++)
			r.p[0] = (char)v;
		atomic_store(&r.stop, 1);
		pthread_join(t, NULL);
		ASSERT_EQ(0, r.bad) TH_LOG("round %d", round);
		ASSERT_EQ(99, r.p[0]);
		ASSERT_EQ(0, wp_free(self->fd, a.slot));
	}
}

/* Without the flag a read backs the page, as before 0.3. */
TEST(without_the_flag_a_read_backs_the_page)
{
	struct wasmpool_configure c = wp_test_config(0, MAX_MEM, 1, 0);
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	volatile char *m;
	char *base;
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
	ASSERT_EQ(0, wp_configure(fd, &c));
	base = wp_test_map(fd, &c.layout);
	ASSERT_NE(MAP_FAILED, base);
	ASSERT_EQ(0, wp_alloc(fd, MAX_MEM, &a));
	m = (char *)(uintptr_t)a.address;
	EXPECT_EQ(0, m[3 * PAGE]);
	ASSERT_EQ(0, wp_stats(fd, &st));
	EXPECT_EQ(PAGE, st.resident_bytes);
	munmap(base, c.layout.total_bytes);
	close(fd);
}

TEST_HARNESS_MAIN
