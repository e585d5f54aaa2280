// SPDX-License-Identifier: GPL-2.0-only
/*
 * ahead_test: WASMPOOL_CONFIGURE_POPULATE_AHEAD. A walk up a slot faults
 * once per WASMPOOL_POPULATE_AHEAD_BYTES, not once per page; a first touch
 * or a touch that does not follow a resident page backs one page; nothing
 * is backed above the accessible size; a pool without the flag backs one
 * page per touch; the pages come zeroed and go (or are kept and zeroed) on
 * reset like touched ones.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define PAGE		4096ULL
#define MAX_MEM		(1024 * 1024ULL)
#define AHEAD		(WASMPOOL_POPULATE_AHEAD_BYTES / PAGE)
#define KEEP		(64 * 1024ULL)

FIXTURE(ahead) {
	int fd;
	char *base;
	struct wasmpool_layout l;
};

FIXTURE_VARIANT(ahead) {
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(ahead, on) {
	.flags = WASMPOOL_CONFIGURE_POPULATE_AHEAD,
};

FIXTURE_VARIANT_ADD(ahead, off) {
	.flags = 0,
};

FIXTURE_SETUP(ahead)
{
	struct wasmpool_configure c = wp_test_config(variant->flags, MAX_MEM, 4, KEEP);

	WP_TEST_OPEN_POOL(self, c);
}

FIXTURE_TEARDOWN(ahead)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, self->l.total_bytes);
	close(self->fd);
}

static struct wasmpool_stats stats(FIXTURE_DATA(ahead) *self)
{
	struct wasmpool_stats st;

	memset(&st, 0xff, sizeof(st));
	wp_stats(self->fd, &st);
	return st;
}

TEST_F(ahead, a_walk_faults_once_per_window)
{
	int on = variant->flags & WASMPOOL_CONFIGURE_POPULATE_AHEAD;
	uint64_t pages = 1 + 8 * AHEAD, f0;
	struct wasmpool_slot_alloc a;
	siginfo_t si;
	char *s;

	/* accessible: the first page, then AHEAD windows; above it faults */
	ASSERT_EQ(0, wp_alloc(self->fd, pages * PAGE, &a));
	s = self->base + a.offset;
	f0 = stats(self).faults;
	for (uint64_t p = 0; p < pages; p++) {
		ASSERT_EQ(0, s[p * PAGE]) {
			TH_LOG("page %llu not zero", (unsigned long long)p);
		}
		s[p * PAGE] = 1;
	}
	/* the first page alone, then one fault per window (or per page) */
	EXPECT_EQ(on ? 1 + 8 : pages, stats(self).faults - f0);
	EXPECT_EQ(pages * PAGE, stats(self).resident_bytes);
	EXPECT_EQ(SIGSEGV, wp_probe(s + pages * PAGE, 0, &si));

	/* a lone touch further up backs one page; the one after it, a window */
	ASSERT_EQ(0, wp_grow(self->fd, a.slot, MAX_MEM));
	s[(pages + 10) * PAGE] = 1;
	EXPECT_EQ((pages + 1) * PAGE, stats(self).resident_bytes);
	s[(pages + 11) * PAGE] = 1;
	EXPECT_EQ((pages + 2 + (on ? AHEAD - 1 : 0)) * PAGE, stats(self).resident_bytes);

	/* a reset keeps KEEP's pages, zeroed, and drops the others */
	ASSERT_EQ(0, wp_reset(self->fd, a.slot, MAX_MEM));
	EXPECT_EQ(KEEP, stats(self).resident_bytes);
	for (uint64_t p = 0; p < MAX_MEM / PAGE; p++) {
		ASSERT_EQ(0, s[p * PAGE]) {
			TH_LOG("page %llu not zero after reset", (unsigned long long)p);
		}
	}
	ASSERT_EQ(0, wp_free(self->fd, a.slot));
}

/* The window stops at the accessible size and at the next resident page. */
TEST_F(ahead, the_window_stops_at_the_size_and_at_resident_pages)
{
	int on = variant->flags & WASMPOOL_CONFIGURE_POPULATE_AHEAD;
	struct wasmpool_slot_alloc a;
	uint64_t r0;
	char *s;

	ASSERT_EQ(0, wp_alloc(self->fd, 4 * PAGE, &a));
	s = self->base + a.offset;
	s[0] = 1;
	s[PAGE] = 1;		/* would back AHEAD pages: only 3 are accessible */
	EXPECT_EQ((on ? 4 : 2) * PAGE, stats(self).resident_bytes);

	/* another slot (the first keeps its pages) */
	ASSERT_EQ(0, wp_alloc(self->fd, MAX_MEM, &a));
	s = self->base + a.offset;
	r0 = stats(self).resident_bytes;
	s[20 * PAGE] = 1;	/* lone, resident */
	s[10 * PAGE] = 1;
	s[11 * PAGE] = 1;	/* backs 11..19 at most: 20 is resident */
	EXPECT_EQ((on ? 1 + 1 + 9 : 3) * PAGE, stats(self).resident_bytes - r0);
}

TEST_HARNESS_MAIN
