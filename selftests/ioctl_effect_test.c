// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioctl_effect_test: an errno means nothing happened. Each command gets its
 * structure in a page the caller can read but the kernel cannot write back
 * to (mapped read-only). A command with outputs then fails with EFAULT and
 * must have had no effect: no slot taken, no size changed, no contents
 * zeroed, no pool configured, no key held, no keys applied. SLOT_FREE has
 * no output, so it succeeds.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define KIB	1024ULL
#define PAGE	4096ULL
#define MAX_MEM	(64 * KIB)
#define SLOTS	4

/*
 * A copy of @len bytes of @cmd at the start of a page that is then made
 * read-only: the kernel reads the command but cannot write its outputs.
 * MAP_FAILED on error; ro_free() unmaps it.
 */
static void *ro_copy(const void *cmd, size_t len)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return p;
	memcpy(p, cmd, len);
	if (mprotect(p, PAGE, PROT_READ)) {
		munmap(p, PAGE);
		return MAP_FAILED;
	}
	return p;
}

static void ro_free(void *p)
{
	if (p != MAP_FAILED)
		munmap(p, PAGE);
}

/* ioctl(@fd, @cmd) with a read-only copy of @arg: 0 or -errno. */
static int ro_ioctl(int fd, unsigned long cmd, const void *arg, size_t len)
{
	void *p = ro_copy(arg, len);
	int ret;

	if (p == MAP_FAILED)
		return -ENOMEM;	/* not a value the tests expect */
	ret = wp_ioctl(fd, cmd, p);
	ro_free(p);
	return ret;
}

static int info(int fd, struct wasmpool_info *in)
{
	memset(in, 0, sizeof(*in));
	in->size = sizeof(*in);
	return wp_ioctl(fd, WASMPOOL_IOC_INFO, in);
}

/* The CPU and kernel have protection keys, and the process has 2 free. */
static int have_pkeys(int fd)
{
	struct wasmpool_info in;

	return !info(fd, &in) && (in.features & WASMPOOL_FEATURE_PKEYS) &&
	       in.pkeys_free >= 2;
}

static int pkeys_free(int fd)
{
	struct wasmpool_info in;

	return info(fd, &in) ? -1 : in.pkeys_free;
}

/* 4 slots of 64 KiB with a 64 KiB guard; nothing kept on reset. */
static struct wasmpool_configure plain_config(void)
{
	struct wasmpool_configure c = {
		.size = sizeof(c),
		.max_memory_bytes = MAX_MEM,
		.reservation_bytes = MAX_MEM,
		.guard_bytes = 64 * KIB,
		.num_slots = SLOTS,
		.pkey_mode = WASMPOOL_PKEYS_OFF,
	};

	return c;
}

/* 24 slots of 64 KiB with a 512 KiB guard: up to 9 stripes. */
static struct wasmpool_configure striped_config(void)
{
	struct wasmpool_configure c = {
		.size = sizeof(c),
		.max_memory_bytes = MAX_MEM,
		.reservation_bytes = MAX_MEM,
		.guard_bytes = 512 * KIB,
		.num_slots = 24,
		.pkey_mode = WASMPOOL_PKEYS_AUTO,
	};

	return c;
}

FIXTURE(pool) {
	int fd;
	char *base;
	struct wasmpool_configure c;
};

FIXTURE_SETUP(pool)
{
	self->base = MAP_FAILED;
	WP_TEST_OPEN_DEVICE(self->fd);
	self->c = plain_config();
	ASSERT_EQ(0, wp_configure(self->fd, &self->c));
	self->base = mmap(NULL, self->c.layout.total_bytes, PROT_READ | PROT_WRITE,
			  MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->base) TH_LOG("mmap: %s", strerror(errno));
}

FIXTURE_TEARDOWN(pool)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, self->c.layout.total_bytes);
	if (self->fd >= 0)
		close(self->fd);
}

static char *slot_addr(FIXTURE_DATA(pool) *self, uint32_t slot)
{
	return self->base + self->c.layout.pre_slab_guard_bytes +
	       (uint64_t)slot * self->c.layout.slot_bytes;
}

TEST_F(pool, slot_alloc_readonly_arg_efault_nothing_allocated)
{
	struct wasmpool_slot_alloc a = {
		.size = sizeof(a), .accessible_bytes = PAGE,
	};
	struct wasmpool_stats before, after;
	long long global = wp_sysfs_read("slots_in_use");
	uint32_t seen = 0;

	ASSERT_EQ(0, wp_stats(self->fd, &before));
	EXPECT_EQ(-EFAULT, ro_ioctl(self->fd, WASMPOOL_IOC_SLOT_ALLOC, &a, sizeof(a)));
	ASSERT_EQ(0, wp_stats(self->fd, &after));
	EXPECT_EQ(before.slots_in_use, after.slots_in_use);
	/* undoing the allocation is no reset */
	EXPECT_EQ(before.resets, after.resets);
	if (global >= 0)
		EXPECT_EQ(global, wp_sysfs_read("slots_in_use"));
	/* every slot can still be had, each once */
	for (int i = 0; i < SLOTS; i++) {
		ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a)) TH_LOG("allocation %d", i);
		EXPECT_FALSE(seen & (1u << a.slot)) TH_LOG("slot %u twice", a.slot);
		seen |= 1u << a.slot;
	}
	EXPECT_EQ(-ENOSPC, wp_alloc(self->fd, PAGE, &a));
}

/* SLOT_FREE writes nothing back: a read-only argument is fine. */
TEST_F(pool, slot_free_readonly_arg_succeeds)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_slot_free f = { .size = sizeof(f) };
	struct wasmpool_stats st;

	ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a));
	f.slot = a.slot;
	EXPECT_EQ(0, ro_ioctl(self->fd, WASMPOOL_IOC_SLOT_FREE, &f, sizeof(f)));
	/* it was freed, once */
	EXPECT_EQ(-ENOENT, wp_free(self->fd, a.slot));
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(0, st.slots_in_use);
}

TEST_F(pool, slot_grow_readonly_arg_efault_size_unchanged)
{
	struct wasmpool_slot_resize r = { .size = sizeof(r) };
	struct wasmpool_slot_alloc a;
	siginfo_t si;
	char *s;

	ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a));
	s = slot_addr(self, a.slot);
	s[0] = 0x5a;
	r.slot = a.slot;
	r.accessible_bytes = 4 * PAGE;
	EXPECT_EQ(-EFAULT, ro_ioctl(self->fd, WASMPOOL_IOC_SLOT_GROW, &r, sizeof(r)));
	/* still one page: above it faults */
	EXPECT_EQ(SIGSEGV, wp_probe(s + PAGE, 0, &si));
	EXPECT_EQ(SEGV_ACCERR, si.si_code);
	EXPECT_EQ(0x5a, s[0]);
	/* and a grow that can report back works: the probe can tell */
	EXPECT_EQ(0, wp_grow(self->fd, a.slot, 4 * PAGE));
	EXPECT_EQ(0, wp_probe(s + PAGE, 0, NULL));
}

TEST_F(pool, slot_reset_readonly_arg_efault_contents_kept)
{
	struct wasmpool_slot_resize r = { .size = sizeof(r) };
	struct wasmpool_stats before, after;
	struct wasmpool_slot_alloc a;
	siginfo_t si;
	int probe;
	char *s;

	ASSERT_EQ(0, wp_alloc(self->fd, 4 * PAGE, &a));
	s = slot_addr(self, a.slot);
	s[0] = 0x5a;
	s[3 * PAGE] = 0x6b;
	ASSERT_EQ(0, wp_stats(self->fd, &before));
	r.slot = a.slot;
	r.accessible_bytes = PAGE;
	EXPECT_EQ(-EFAULT, ro_ioctl(self->fd, WASMPOOL_IOC_SLOT_RESET, &r, sizeof(r)));
	/* not zeroed */
	EXPECT_EQ(0x5a, s[0]);
	/* not shrunk: the last page is still there, above it still faults */
	probe = wp_probe(s + 3 * PAGE, 0, NULL);
	EXPECT_EQ(0, probe);
	if (!probe)
		EXPECT_EQ(0x6b, s[3 * PAGE]);
	EXPECT_EQ(SIGSEGV, wp_probe(s + 4 * PAGE, 0, &si));
	ASSERT_EQ(0, wp_stats(self->fd, &after));
	EXPECT_EQ(before.resets, after.resets);
	EXPECT_EQ(before.resident_bytes, after.resident_bytes);
	/* a reset that can report back zeroes: the checks can tell */
	EXPECT_EQ(0, wp_reset(self->fd, a.slot, PAGE));
	EXPECT_EQ(0, s[0]);
}

TEST(configure_readonly_arg_efault_unconfigured)
{
	struct wasmpool_configure c = plain_config();
	struct wasmpool_stats st;
	long long pools = wp_sysfs_read("pools");
	void *p;
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
	EXPECT_EQ(-EFAULT, ro_ioctl(fd, WASMPOOL_IOC_CONFIGURE, &c, sizeof(c)));
	EXPECT_EQ(-EBADFD, wp_stats(fd, &st));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EBADFD, errno);
	if (p != MAP_FAILED)
		munmap(p, PAGE);
	if (pools >= 0)
		EXPECT_EQ(pools, wp_sysfs_read("pools"));
	/* the file can still be configured */
	c = plain_config();
	EXPECT_EQ(0, wp_configure(fd, &c));
	EXPECT_EQ(0, wp_stats(fd, &st));
	EXPECT_EQ(SLOTS, st.num_slots);
	close(fd);
}

TEST(configure_readonly_arg_holds_no_key)
{
	struct wasmpool_configure c = striped_config();
	long long keys = wp_sysfs_read("keys_in_use");
	int fd, before;

	WP_TEST_OPEN_DEVICE(fd);
	if (!have_pkeys(fd)) {
		close(fd);
		SKIP(return, "no protection keys (INFO: CPU without PKU, or none free)");
	}
	before = pkeys_free(fd);
	EXPECT_EQ(-EFAULT, ro_ioctl(fd, WASMPOOL_IOC_CONFIGURE, &c, sizeof(c)));
	EXPECT_EQ(before, pkeys_free(fd));
	if (keys >= 0)
		EXPECT_EQ(keys, wp_sysfs_read("keys_in_use"));
	/* the keys are there to take */
	c = striped_config();
	EXPECT_EQ(0, wp_configure(fd, &c));
	EXPECT_LT(1, c.layout.num_stripes);
	EXPECT_EQ(before - (int)c.layout.num_stripes, pkeys_free(fd));
	close(fd);
}

TEST(apply_keys_readonly_arg_efault_not_applied)
{
	struct wasmpool_configure c = striped_config();
	struct wasmpool_apply_keys ak = { .size = sizeof(ak) };
	struct wasmpool_slot_alloc a;
	char *base;
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
	if (!have_pkeys(fd)) {
		close(fd);
		SKIP(return, "no protection keys (INFO: CPU without PKU, or none free)");
	}
	ASSERT_EQ(0, wp_configure(fd, &c));
	ASSERT_LT(1, c.layout.num_stripes);
	base = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, base);
	EXPECT_EQ(-EFAULT, ro_ioctl(fd, WASMPOOL_IOC_APPLY_KEYS, &ak, sizeof(ak)));
	/* not applied: no slot can be had */
	EXPECT_EQ(-EBADFD, wp_alloc(fd, PAGE, &a));
	/* and with an argument it can write to, it applies them */
	EXPECT_EQ(0, wp_ioctl(fd, WASMPOOL_IOC_APPLY_KEYS, &ak));
	/* a VMA per slot and per guard region */
	EXPECT_EQ(c.layout.num_slots + !!c.layout.pre_slab_guard_bytes +
		  !!c.layout.post_slab_guard_bytes, ak.vmas);
	EXPECT_EQ(0, wp_alloc(fd, PAGE, &a));
	munmap(base, c.layout.total_bytes);
	close(fd);
}

TEST(info_readonly_arg_efault)
{
	struct wasmpool_info in = { .size = sizeof(in) };
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
	EXPECT_EQ(-EFAULT, ro_ioctl(fd, WASMPOOL_IOC_INFO, &in, sizeof(in)));
	close(fd);
}

TEST(layout_readonly_arg_efault)
{
	struct wasmpool_layout_cmd l = {
		.size = sizeof(l), .max_memory_bytes = MAX_MEM, .num_slots = SLOTS,
		.reservation_bytes = MAX_MEM, .guard_bytes = 64 * KIB,
	};
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
	EXPECT_EQ(-EFAULT, ro_ioctl(fd, WASMPOOL_IOC_LAYOUT, &l, sizeof(l)));
	/* the same request is good */
	EXPECT_EQ(0, wp_ioctl(fd, WASMPOOL_IOC_LAYOUT, &l));
	close(fd);
}

TEST_F(pool, stats_readonly_arg_efault)
{
	struct wasmpool_stats st = { .size = sizeof(st) };

	EXPECT_EQ(-EFAULT, ro_ioctl(self->fd, WASMPOOL_IOC_STATS, &st, sizeof(st)));
	EXPECT_EQ(0, wp_stats(self->fd, &st));
}

TEST_HARNESS_MAIN
