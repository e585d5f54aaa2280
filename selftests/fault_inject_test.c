// SPDX-License-Identifier: GPL-2.0-only
/*
 * fault_inject_test: every kernel allocation of a pool's life fails, one at
 * a time.
 *
 * With the kernel's systematic fault injection (/proc/thread-self/fail-nth
 * with failslab and fail_page_alloc, CONFIG_FAULT_INJECTION), the sequence
 * open, configure, mmap, apply keys, allocate slots, touch, grow, reset,
 * stats, free, munmap, close runs with its n-th allocation failed, for
 * n = 1, 2, 3, ... until a run completes without reaching an n-th
 * allocation. Every call must succeed or fail with ENOMEM (a failed call
 * changes nothing), a fault whose page could not be allocated is retried,
 * memory handed out after a reset reads zero, and after each run the
 * module's counters and the process's free protection keys are back where
 * they were. Under make check-debug, KASAN, kmemleak and lockdep watch
 * every error path this takes.
 *
 * Kernels without fault injection (Debian's) skip it; it needs root (for
 * debugfs), which the kselftest runner has.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"
#include "wp_fault.h"

#define NTH		"/proc/thread-self/fail-nth"
#define SLOTS		12
#define MEM		(64 << 10)
#define TENANTS		3
#define MAX_RUNS	20000

enum step { OPEN, CONFIGURE, MMAP, APPLY_KEYS, ALLOC, GROW, RESET, STATS, FREE, MUNMAP, NSTEPS };

static const char *const step_name[NSTEPS] = {
	"open", "configure", "mmap", "apply keys", "alloc", "grow", "reset",
	"stats", "free", "munmap",
};

struct tally {
	unsigned long calls[NSTEPS];
	unsigned long enomem[NSTEPS];
};

static int nth_set(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : -errno;
}

static long nth_get(int fd)
{
	char buf[16];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

struct counters {
	long long pools, slots, resident, keys;
	int pkeys_free;
};

static void counters_read(int fd, struct counters *c)
{
	struct wasmpool_info info = { .size = sizeof(info) };

	c->pools = wp_sysfs_read("pools");
	c->slots = wp_sysfs_read("slots_in_use");
	c->resident = wp_sysfs_read("resident_bytes");
	c->keys = wp_sysfs_read("keys_in_use");
	c->pkeys_free = ioctl(fd, WASMPOOL_IOC_INFO, &info) ? -1 : info.pkeys_free;
}

static char msg[256];

/*
 * Record a step's result: success, or ENOMEM (counted); anything else ends
 * the run with a message. Evaluates to the result.
 */
#define STEP(t, s, expr) ({						\
	int r_ = (expr);						\
	(t)->calls[s]++;						\
	if (r_ == -ENOMEM)						\
		(t)->enomem[s]++;					\
	else if (r_) {							\
		snprintf(msg, sizeof(msg), "%s: %s", step_name[s],	\
			 strerror(-r_));				\
		err = msg;						\
		goto out;						\
	}								\
	r_;								\
})

/*
 * One pool's life with the @n-th allocation failed. Returns NULL or what
 * went wrong; *@left is what remained of fail-nth: 0 when the n-th
 * allocation happened (and failed), else n - the allocations made.
 * @slots_before: the module-wide slots_in_use outside this pool.
 */
static const char *one_run(int nth_fd, unsigned int n, struct tally *t, long *left,
			   long long slots_before)
{
	struct wasmpool_configure c = {
		.max_memory_bytes = MEM,
		.reservation_bytes = MEM,
		.guard_bytes = 512 << 10,
		.num_slots = SLOTS,
		.pkey_mode = WASMPOOL_PKEYS_AUTO,
		.keep_resident_bytes = 8 << 10,
	};
	struct wasmpool_apply_keys ak = { .size = sizeof(ak) };
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	uint32_t slots[TENANTS];
	unsigned int nslots = 0, i, j;
	char *base = MAP_FAILED;
	const char *err = NULL;
	long long global;
	int fd = -1;

	if (nth_set(nth_fd, n))
		return "cannot write " NTH;

	fd = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	if (STEP(t, OPEN, fd < 0 ? -errno : 0))
		goto out;
	if (STEP(t, CONFIGURE, wp_configure(fd, &c)))
		goto out;
	base = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (STEP(t, MMAP, base == MAP_FAILED ? -errno : 0))
		goto out;
	if (STEP(t, APPLY_KEYS, wp_ioctl(fd, WASMPOOL_IOC_APPLY_KEYS, &ak))) {
		/*
		 * documented: a failed APPLY_KEYS leaves the mapping where it
		 * was, and calling it again resumes (the injected failure
		 * came once)
		 */
		if (wp_stats(fd, &st) || st.address != (uintptr_t)base) {
			err = "apply keys failed and the pool's mapping moved or went";
			goto out;
		}
		if (wp_ioctl(fd, WASMPOOL_IOC_APPLY_KEYS, &ak)) {
			err = "apply keys failed, and again when called once more";
			goto out;
		}
	}
	for (i = 0; i < c.layout.num_stripes && c.layout.num_stripes > 1; i++)
		pkey_set(c.stripe_pkeys[i], 0);

	for (i = 0; i < TENANTS; i++) {
		volatile char *p;

		if (STEP(t, ALLOC, wp_alloc(fd, 16 << 10, &a)))
			continue;
		slots[nslots++] = a.slot;
		p = (volatile char *)(uintptr_t)a.address;
		for (j = 0; j < 16 << 10; j += 1024)
			p[j] = (char)(j / 1024 + 1);
		if (!STEP(t, GROW, wp_grow(fd, a.slot, 32 << 10)))
			p[(32 << 10) - 1] = 1;
		if (!STEP(t, RESET, wp_reset(fd, a.slot, 16 << 10))) {
			for (j = 0; j < 16 << 10; j++) {
				if (p[j]) {
					snprintf(msg, sizeof(msg),
						 "slot %u byte %u is %d after a reset",
						 a.slot, j, p[j]);
					err = msg;
					goto out;
				}
			}
		}
	}
	STEP(t, STATS, wp_stats(fd, &st));
	for (i = 0; i < nslots; i++) {
		/* the injected failure is spent: a second try must work */
		if (STEP(t, FREE, wp_free(fd, slots[i])) && wp_free(fd, slots[i])) {
			err = "free failed twice";
			goto out;
		}
	}
	/* what failed left nothing behind, before the pool's end hides it */
	if (wp_stats(fd, &st) || st.slots_in_use) {
		err = "slots still in use after every allocated slot was freed";
		goto out;
	}
	/* reading sysfs allocates too: it may be the one to fail */
	global = wp_sysfs_read("slots_in_use");
	if (global < 0)
		global = wp_sysfs_read("slots_in_use");
	if (global != slots_before) {
		err = "module-wide slots_in_use changed by a pool whose slots are all free";
		goto out;
	}
out:
	/* munmap itself may be the one to fail: then once more */
	if (base != MAP_FAILED && munmap(base, c.layout.total_bytes)) {
		t->calls[MUNMAP]++;
		if (errno == ENOMEM) {
			t->enomem[MUNMAP]++;
			if (munmap(base, c.layout.total_bytes) && !err)
				err = "munmap failed twice";
		} else if (!err) {
			err = "munmap failed, not with ENOMEM";
		}
	} else if (base != MAP_FAILED) {
		t->calls[MUNMAP]++;
	}
	if (fd >= 0)
		close(fd);
	*left = nth_get(nth_fd);
	nth_set(nth_fd, 0);
	return err;
}

FIXTURE(fault) {
	int nth_fd;
	int fd;
};

FIXTURE_SETUP(fault)
{
	const char *missing;

	self->nth_fd = -1;
	self->fd = -1;
	if (access(NTH, F_OK))
		SKIP(return, "no %s: this kernel has no fault injection (CONFIG_FAULT_INJECTION; make check-debug builds one)",
		     NTH);
	missing = wp_fault_setup(0);
	if (missing) {
		wp_fault_restore();
		SKIP(return, "no %s (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC and debugfs, as root)",
		     missing);
	}
	self->nth_fd = open(NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth_fd);
	WP_TEST_OPEN_DEVICE(self->fd);
}

FIXTURE_TEARDOWN(fault)
{
	wp_fault_restore();
	if (self->nth_fd >= 0)
		close(self->nth_fd);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * Some hundred runs: minutes under KASAN and lockdep in an emulator. A
 * pool's life does not make the same number of allocations every time
 * (slab refills, stack depot pages): the runs go on until 20 in a row
 * ended before their n-th allocation.
 */
#define SHORT_RUNS 20

TEST_F_TIMEOUT(fault, every_allocation_of_a_pool_life_fails_in_turn, 3600)
{
	unsigned int n, i, shorts = 0, failed = 0;
	long left, most = 0, least = -1;
	struct counters before, after;
	struct tally t = { 0 };
	const char *err;

	counters_read(self->fd, &before);
	ASSERT_LE(0, before.pools);
	for (n = 1; shorts < SHORT_RUNS && n <= MAX_RUNS; n++) {
		err = one_run(self->nth_fd, n, &t, &left, before.slots);
		ASSERT_EQ(NULL, err) TH_LOG("allocation %u failed: %s", n, err);
		ASSERT_LE(0, left);
		counters_read(self->fd, &after);
		ASSERT_EQ(before.pools, after.pools) TH_LOG("allocation %u failed", n);
		ASSERT_EQ(before.slots, after.slots) TH_LOG("allocation %u failed", n);
		ASSERT_EQ(before.resident, after.resident) TH_LOG("allocation %u failed", n);
		ASSERT_EQ(before.keys, after.keys) TH_LOG("allocation %u failed", n);
		ASSERT_EQ(before.pkeys_free, after.pkeys_free) TH_LOG("allocation %u failed", n);
		if (left) {
			shorts++;
			most = n - left > most ? n - left : most;
			least = least < 0 || n - left < least ? n - left : least;
		} else {
			shorts = 0;
			failed++;
		}
		if (n % 250 == 0)
			TH_LOG("%u runs", n);
	}
	ASSERT_EQ(SHORT_RUNS, shorts) TH_LOG("still failing allocations after %u runs", MAX_RUNS);
	TH_LOG("a pool's life made %ld to %ld allocations; %u of those positions were failed, one a run",
	       least, most, failed);
	for (i = 0; i < NSTEPS; i++)
		TH_LOG("  %-10s %6lu calls, %4lu failed with ENOMEM",
		       step_name[i], t.calls[i], t.enomem[i]);
	/* the injection reached the module's own paths */
	EXPECT_LT(0, t.enomem[CONFIGURE]);
	EXPECT_LT(0, t.enomem[MMAP]);
}

TEST_HARNESS_MAIN
