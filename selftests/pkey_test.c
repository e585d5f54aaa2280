// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkey_test: protection-key stripes - the kernel allocates a key per stripe
 * in the process, every slot carries its stripe's key after
 * WASMPOOL_IOC_APPLY_KEYS (as /proc/self/smaps shows), a thread that opens
 * one stripe faults with SEGV_PKUERR on the others, keys cannot be changed,
 * too few keys and vm.max_map_count fail as documented. On a CPU without
 * protection keys: AUTO gives one stripe, REQUIRE fails.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define KIB	1024ULL
#define PAGE	4096ULL
#define MAX_MEM	(64 * KIB)
#define GUARD	(512 * KIB)
#define SLOTS	24
/* 64 KiB memories with a 512 KiB guard need 9 stripes of 64 KiB slots. */
#define STRIPES	9

static int pkeys_free(int fd)
{
	struct wasmpool_info info = { .size = sizeof(info) };

	return wp_ioctl(fd, WASMPOOL_IOC_INFO, &info) ? -1 : info.pkeys_free;
}

static struct wasmpool_configure striped_config(uint32_t mode)
{
	struct wasmpool_configure c = {
		.max_memory_bytes = MAX_MEM,
		.reservation_bytes = MAX_MEM,
		.guard_bytes = GUARD,
		.num_slots = SLOTS,
		.pkey_mode = mode,
	};

	return c;
}

FIXTURE(striped) {
	int fd;
	char *base;
	struct wasmpool_configure c;
	uint64_t vmas;
};

FIXTURE_SETUP(striped)
{
	struct wasmpool_apply_keys ak = { .size = sizeof(ak) };

	self->base = MAP_FAILED;
	WP_TEST_OPEN_DEVICE(self->fd);
	if (!wp_test_have_pkeys())
		SKIP(return, "no protection keys (CPU without PKU, or none free)");
	self->c = striped_config(WASMPOOL_PKEYS_AUTO);
	ASSERT_EQ(0, wp_configure(self->fd, &self->c));
	self->base = mmap(NULL, self->c.layout.total_bytes, PROT_READ | PROT_WRITE,
			  MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->base);
	ASSERT_EQ(0, wp_ioctl(self->fd, WASMPOOL_IOC_APPLY_KEYS, &ak));
	self->vmas = ak.vmas;
}

FIXTURE_TEARDOWN(striped)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, self->c.layout.total_bytes);
	if (self->fd >= 0)
		close(self->fd);
}

static char *slot_addr(FIXTURE_DATA(striped) *self, uint32_t slot)
{
	return self->base + self->c.layout.pre_slab_guard_bytes +
	       (uint64_t)slot * self->c.layout.slot_bytes;
}

/* Open the key of @stripe only (key 0 stays open). */
static void open_only(FIXTURE_DATA(striped) *self, uint32_t stripe)
{
	for (uint32_t i = 0; i < self->c.layout.num_stripes; i++)
		pkey_set(self->c.stripe_pkeys[i], i == stripe ? 0 : PKEY_DISABLE_ACCESS);
}

TEST_F(striped, keys_allocated_per_stripe)
{
	uint32_t seen = 0;

	EXPECT_EQ(STRIPES, self->c.layout.num_stripes);
	EXPECT_EQ(MAX_MEM, self->c.layout.slot_bytes);
	EXPECT_EQ(GUARD, self->c.layout.post_slab_guard_bytes);
	for (uint32_t i = 0; i < STRIPES; i++) {
		uint8_t k = self->c.stripe_pkeys[i];

		EXPECT_TRUE(k >= 1 && k <= 15) TH_LOG("stripe %u key %u", i, k);
		EXPECT_FALSE(seen & (1u << k)) TH_LOG("key %u twice", k);
		seen |= 1u << k;
	}
	for (uint32_t i = STRIPES; i < WASMPOOL_MAX_STRIPES; i++)
		EXPECT_EQ(0, self->c.stripe_pkeys[i]);
	/* one VMA per slot, plus the guard after the slab */
	EXPECT_EQ(SLOTS + 1, self->vmas);
}

TEST_F(striped, pkey_alloc_never_returns_a_pool_key)
{
	int keys[16], n = 0, k;

	while ((k = pkey_alloc(0, 0)) >= 0 && n < 16) {
		for (uint32_t i = 0; i < STRIPES; i++)
			EXPECT_NE(self->c.stripe_pkeys[i], k);
		keys[n++] = k;
	}
	EXPECT_EQ(15 - STRIPES, n);
	while (n--)
		pkey_free(keys[n]);
}

/* Read /proc/self/smaps: the key of the VMA that starts at each address. */
static int smaps_keys(uintptr_t lo, uintptr_t hi, uintptr_t *starts, int *keys, int max)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	uintptr_t start = 0, s, e;
	int n = 0, in = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* a VMA's first line: "start-end perms ..." */
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2) {
			start = s;
			in = s >= lo && e <= hi;
			continue;
		}
		if (in && n < max && sscanf(line, "ProtectionKey: %d", &keys[n]) == 1)
			starts[n++] = start;
	}
	fclose(f);
	return n;
}

TEST_F(striped, smaps_shows_each_slots_key)
{
	uintptr_t starts[64];
	int keys[64], n, i;
	uintptr_t lo = (uintptr_t)self->base;

	n = smaps_keys(lo, lo + self->c.layout.total_bytes, starts, keys, 64);
	ASSERT_EQ(SLOTS + 1, n);
	for (i = 0; i < n; i++)
		TH_LOG("smaps: VMA at pool+%#lx: ProtectionKey %d", starts[i] - lo, keys[i]);
	for (i = 0; i < n; i++) {
		uint64_t off = starts[i] - lo - self->c.layout.pre_slab_guard_bytes;
		uint64_t slot = off / self->c.layout.slot_bytes;

		if (slot >= SLOTS) {
			EXPECT_EQ(0, keys[i]) TH_LOG("post-slab guard");
			continue;
		}
		EXPECT_EQ(0, off % self->c.layout.slot_bytes);
		EXPECT_EQ(self->c.stripe_pkeys[slot % STRIPES], keys[i]) TH_LOG("slot %llu",
			(unsigned long long)slot);
	}
}

TEST_F(striped, only_own_stripe_is_reachable)
{
	struct wasmpool_slot_alloc a[STRIPES];
	siginfo_t si;
	uint32_t s, t;

	for (s = 0; s < STRIPES; s++) {
		ASSERT_EQ(0, wp_alloc_stripe(self->fd, MAX_MEM / 2, s, &a[s]));
		ASSERT_EQ(s, a[s].stripe);
		ASSERT_EQ(s, a[s].slot % STRIPES);
	}
	for (s = 0; s < STRIPES; s += 4) {
		char *own = slot_addr(self, a[s].slot);

		open_only(self, s);
		EXPECT_EQ(0, wp_probe(own, 1, NULL));
		open_only(self, s);
		EXPECT_EQ(0, wp_probe(own + MAX_MEM / 2 - 1, 0, NULL));
		/* above the accessible size: a guard fault, not a key fault */
		open_only(self, s);
		EXPECT_EQ(SIGSEGV, wp_probe(own + MAX_MEM / 2, 0, &si));
		EXPECT_EQ(SEGV_ACCERR, si.si_code);
		for (t = 0; t < STRIPES; t++) {
			char *other = slot_addr(self, a[t].slot);

			if (t == s)
				continue;
			/* the probe's handler resets PKRU: open ours again */
			open_only(self, s);
			EXPECT_EQ(SIGSEGV, wp_probe(other, 0, &si)) TH_LOG("stripe %u -> %u", s, t);
			EXPECT_EQ(SEGV_PKUERR, si.si_code);
			EXPECT_EQ(self->c.stripe_pkeys[t], si.si_pkey);
			EXPECT_EQ((void *)other, si.si_addr);
		}
		/* the guard after the slab (key 0) still faults */
		open_only(self, s);
		EXPECT_EQ(SIGSEGV, wp_probe(self->base + self->c.layout.total_bytes - 1, 0, &si));
		EXPECT_EQ(SEGV_ACCERR, si.si_code);
	}
}

TEST_F(striped, denied_access_allocates_nothing)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	siginfo_t si;

	ASSERT_EQ(0, wp_alloc_stripe(self->fd, MAX_MEM, 1, &a));
	open_only(self, 0);
	EXPECT_EQ(SIGSEGV, wp_probe(slot_addr(self, a.slot), 1, &si));
	EXPECT_EQ(SEGV_PKUERR, si.si_code);
	ASSERT_EQ(0, wp_stats(self->fd, &st));
	EXPECT_EQ(0, st.resident_bytes);
}

TEST_F(striped, stripe_full_enospc)
{
	struct wasmpool_slot_alloc a;
	int n = 0;

	/* 24 slots over 9 stripes: stripe 8 has slots 8 and 17 */
	while (wp_alloc_stripe(self->fd, PAGE, 8, &a) == 0) {
		EXPECT_EQ(8, a.slot % STRIPES);
		n++;
	}
	EXPECT_EQ(2, n);
	EXPECT_EQ(-ENOSPC, wp_alloc_stripe(self->fd, PAGE, 8, &a));
	EXPECT_EQ(-EINVAL, wp_alloc_stripe(self->fd, PAGE, STRIPES, &a));
	EXPECT_EQ(0, wp_alloc_stripe(self->fd, PAGE, 7, &a));
}

TEST_F(striped, key_changes_refused)
{
	char *s = slot_addr(self, 2);
	uintptr_t starts[64];
	int keys[64], n;

	EXPECT_EQ(-1, pkey_mprotect(s, self->c.layout.slot_bytes, PROT_READ | PROT_WRITE,
				    self->c.stripe_pkeys[0]));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, pkey_mprotect(s, self->c.layout.slot_bytes, PROT_READ | PROT_WRITE, 0));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(s, self->c.layout.slot_bytes, PROT_READ | PROT_WRITE | PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	/* the same protection again is fine and keeps the key */
	EXPECT_EQ(0, mprotect(s, self->c.layout.slot_bytes, PROT_READ | PROT_WRITE));
	n = smaps_keys((uintptr_t)s, (uintptr_t)s + self->c.layout.slot_bytes, starts, keys, 64);
	ASSERT_EQ(1, n);
	EXPECT_EQ(self->c.stripe_pkeys[2], keys[0]);
}

TEST_F(striped, apply_twice_ealready)
{
	struct wasmpool_apply_keys ak = { .size = sizeof(ak) };

	EXPECT_EQ(-EALREADY, wp_ioctl(self->fd, WASMPOOL_IOC_APPLY_KEYS, &ak));
	ak.flags = 1;
	EXPECT_EQ(-EOPNOTSUPP, wp_ioctl(self->fd, WASMPOOL_IOC_APPLY_KEYS, &ak));
}

static volatile uint32_t handler_rights = 0xffffffff;
static volatile int handler_key;

static void usr1(int sig)
{
	(void)sig;
	handler_rights = pkey_get(handler_key);
}

/* Handlers start with the default PKRU; the thread's comes back after. */
TEST_F(striped, signal_handler_runs_with_default_pkru)
{
	struct sigaction sa = { .sa_handler = usr1 };

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	open_only(self, 3);
	handler_key = self->c.stripe_pkeys[3];
	ASSERT_EQ(0, pkey_get(handler_key));
	raise(SIGUSR1);
	EXPECT_EQ(PKEY_DISABLE_ACCESS, handler_rights & PKEY_DISABLE_ACCESS);
	EXPECT_EQ(0, pkey_get(handler_key));
}

TEST(alloc_before_apply_ebadfd)
{
	struct wasmpool_configure c = striped_config(WASMPOOL_PKEYS_AUTO);
	struct wasmpool_apply_keys ak = { .size = sizeof(ak) };
	struct wasmpool_slot_alloc a;
	void *p;
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
	if (!wp_test_have_pkeys())
		SKIP(return, "no protection keys");
	ASSERT_EQ(0, wp_configure(fd, &c));
	EXPECT_EQ(-EINVAL, wp_ioctl(fd, WASMPOOL_IOC_APPLY_KEYS, &ak));	/* not mapped */
	p = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EBADFD, wp_alloc(fd, PAGE, &a));
	ASSERT_EQ(0, wp_ioctl(fd, WASMPOOL_IOC_APPLY_KEYS, &ak));
	EXPECT_EQ(0, wp_alloc(fd, PAGE, &a));
	/* unmapped and mapped again: the keys must be applied again */
	ASSERT_EQ(0, munmap(p, c.layout.total_bytes));
	p = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EBADFD, wp_alloc(fd, PAGE, &a));
	EXPECT_EQ(0, wp_ioctl(fd, WASMPOOL_IOC_APPLY_KEYS, &ak));
	munmap(p, c.layout.total_bytes);
	close(fd);
}

TEST(keys_return_when_pool_closes)
{
	struct wasmpool_configure c = striped_config(WASMPOOL_PKEYS_AUTO);
	int fd, pool, before;

	WP_TEST_OPEN_DEVICE(fd);
	if (!wp_test_have_pkeys())
		SKIP(return, "no protection keys");
	before = pkeys_free(fd);
	pool = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, pool);
	ASSERT_EQ(0, wp_configure(pool, &c));
	EXPECT_EQ(before - STRIPES, pkeys_free(fd));
	close(pool);
	EXPECT_EQ(before, pkeys_free(fd));
	close(fd);
}

TEST(too_few_keys_auto_shrinks_require_fails)
{
	struct wasmpool_configure c;
	int keys[16], n = 0, k, fd, pool;

	WP_TEST_OPEN_DEVICE(fd);
	if (!wp_test_have_pkeys())
		SKIP(return, "no protection keys");
	/* leave exactly 2 keys free */
	while (pkeys_free(fd) > 2 && (k = pkey_alloc(0, 0)) >= 0)
		keys[n++] = k;
	ASSERT_EQ(2, pkeys_free(fd));

	pool = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	c = striped_config(WASMPOOL_PKEYS_REQUIRE);
	EXPECT_EQ(-ENOSPC, wp_configure(pool, &c));
	EXPECT_EQ(2, pkeys_free(fd));		/* nothing taken */
	/* asking for no more than 2 keys is satisfiable */
	c = striped_config(WASMPOOL_PKEYS_REQUIRE);
	c.max_pkeys = 2;
	EXPECT_EQ(0, wp_configure(pool, &c));
	EXPECT_EQ(2, c.layout.num_stripes);
	close(pool);

	pool = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	c = striped_config(WASMPOOL_PKEYS_AUTO);
	EXPECT_EQ(0, wp_configure(pool, &c));
	EXPECT_EQ(2, c.layout.num_stripes);
	EXPECT_EQ(0, pkeys_free(fd));
	close(pool);
	EXPECT_EQ(2, pkeys_free(fd));
	while (n--)
		pkey_free(keys[n]);
	close(fd);
}

/* An execute-only mapping takes a key: it is not counted free, nor taken. */
TEST(execute_only_key_not_counted)
{
	struct wasmpool_configure c = striped_config(WASMPOOL_PKEYS_AUTO);
	int fd, pool, before, keys[16], n = 0, k;
	void *x;

	WP_TEST_OPEN_DEVICE(fd);
	if (!wp_test_have_pkeys())
		SKIP(return, "no protection keys");
	before = pkeys_free(fd);
	x = mmap(NULL, 4096, PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, x);
	/* exactly as many as pkey_alloc() can still get */
	for (n = 0; n < 16 && (k = pkey_alloc(0, 0)) >= 0; n++)
		keys[n] = k;
	EXPECT_EQ(n, pkeys_free(fd) + n);	/* none left now */
	while (n)
		pkey_free(keys[--n]);
	for (n = 0; n < 16 && (k = pkey_alloc(0, 0)) >= 0; n++)
		keys[n] = k;
	k = n;
	while (n)
		pkey_free(keys[--n]);
	EXPECT_EQ(k, pkeys_free(fd));
	EXPECT_EQ(before - 1, k);
	TH_LOG("%d keys free before an execute-only mapping, %d after", before, k);
	/* and a pool takes keys without failing over the missing one */
	pool = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, pool);
	EXPECT_EQ(0, wp_configure(pool, &c));
	EXPECT_EQ(STRIPES, c.layout.num_stripes);
	close(pool);
	munmap(x, 4096);
	close(fd);
}

TEST(max_pkeys_caps_stripes)
{
	struct wasmpool_configure c = striped_config(WASMPOOL_PKEYS_AUTO);
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
	if (!wp_test_have_pkeys())
		SKIP(return, "no protection keys");
	c.max_pkeys = 4;
	ASSERT_EQ(0, wp_configure(fd, &c));
	EXPECT_EQ(4, c.layout.num_stripes);
	/* fewer stripes: bigger slots to keep the faulting region covered */
	EXPECT_LE(GUARD + MAX_MEM, c.layout.slot_bytes * 4);
	close(fd);
}

TEST(off_mode_has_no_stripes)
{
	struct wasmpool_configure c = striped_config(WASMPOOL_PKEYS_OFF);
	struct wasmpool_apply_keys ak = { .size = sizeof(ak) };
	void *p;
	int fd, before;

	WP_TEST_OPEN_DEVICE(fd);
	before = pkeys_free(fd);
	ASSERT_EQ(0, wp_configure(fd, &c));
	EXPECT_EQ(1, c.layout.num_stripes);
	EXPECT_EQ(MAX_MEM + GUARD, c.layout.slot_bytes);
	EXPECT_EQ(before, pkeys_free(fd));
	p = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* a runtime may always call it: no stripes, nothing to do */
	EXPECT_EQ(0, wp_ioctl(fd, WASMPOOL_IOC_APPLY_KEYS, &ak));
	EXPECT_EQ(1, ak.vmas);
	munmap(p, c.layout.total_bytes);
	close(fd);
}

TEST(without_pku_auto_gives_one_stripe_require_fails)
{
	struct wasmpool_configure c;
	int fd;

	WP_TEST_OPEN_DEVICE(fd);
	if (wp_test_have_pkeys())
		SKIP(return, "this CPU has protection keys: the boot without PKU runs this");
	c = striped_config(WASMPOOL_PKEYS_AUTO);
	EXPECT_EQ(0, wp_configure(fd, &c));
	EXPECT_EQ(1, c.layout.num_stripes);
	for (int i = 0; i < WASMPOOL_MAX_STRIPES; i++)
		EXPECT_EQ(0, c.stripe_pkeys[i]);
	close(fd);
	WP_TEST_OPEN_DEVICE(fd);
	c = striped_config(WASMPOOL_PKEYS_REQUIRE);
	EXPECT_EQ(-EOPNOTSUPP, wp_configure(fd, &c));
	close(fd);
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

static long read_long(const char *path)
{
	char buf[32] = { 0 };
	int fd = open(path, O_RDONLY);
	long v = -1;

	if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0)
		v = atol(buf);
	if (fd >= 0)
		close(fd);
	return v;
}

/* More slots than vm.max_map_count allows: ENOMEM, unmapped, a message. */
TEST(max_map_count_enomem)
{
	const char *sysctl = "/proc/sys/vm/max_map_count";
	struct wasmpool_configure c = striped_config(WASMPOOL_PKEYS_AUTO);
	struct wasmpool_apply_keys ak = { .size = sizeof(ak) };
	struct wasmpool_slot_alloc a0;
	struct wasmpool_stats st;
	long old = read_long(sysctl);
	char buf[64], *log;
	void *p;
	int fd, len;

	WP_TEST_OPEN_DEVICE(fd);
	if (!wp_test_have_pkeys())
		SKIP(return, "no protection keys");
	if (old < 0 || write_file(sysctl, "65530"))
		SKIP(return, "cannot set vm.max_map_count (not root?)");
	c.num_slots = 400;
	ASSERT_EQ(0, wp_configure(fd, &c));
	p = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	snprintf(buf, sizeof(buf), "%d", 200);
	ASSERT_EQ(0, write_file(sysctl, buf));
	EXPECT_EQ(-ENOMEM, wp_ioctl(fd, WASMPOOL_IOC_APPLY_KEYS, &ak));
	snprintf(buf, sizeof(buf), "%ld", old);
	ASSERT_EQ(0, write_file(sysctl, buf));
	/* the mapping stays as it was, partly keyed: nothing else is unmapped */
	ASSERT_EQ(0, wp_stats(fd, &st));
	EXPECT_EQ((unsigned long)p, st.address);

	len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	if (len > 0 && (log = malloc(len + 1))) {
		len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, len);
		if (len >= 0) {
			log[len] = 0;
			EXPECT_NE(NULL, strstr(log, "vm.max_map_count"));
		}
		free(log);
	}
	/*
	 * A hole where a keyed slot was (as a MAP_FIXED that fails after its
	 * unmap leaves one): with the limit back, the call again resumes
	 * where it stopped and fills the hole.
	 */
	ASSERT_EQ(0, munmap((char *)p + c.layout.pre_slab_guard_bytes, c.layout.slot_bytes));
	EXPECT_EQ(0, wp_ioctl(fd, WASMPOOL_IOC_APPLY_KEYS, &ak));
	EXPECT_EQ(400 + 1, ak.vmas);
	EXPECT_EQ(-EALREADY, wp_ioctl(fd, WASMPOOL_IOC_APPLY_KEYS, &ak));
	/* the refilled slot works */
	ASSERT_EQ(0, wp_alloc_stripe(fd, 4096, 0, &a0));
	EXPECT_EQ(0, a0.slot);
	pkey_set(c.stripe_pkeys[0], 0);
	EXPECT_EQ(0, wp_probe((char *)p + a0.offset, 1, NULL));
	EXPECT_EQ(0, wp_free(fd, a0.slot));
	munmap(p, c.layout.total_bytes);
	/* and a new mapping of the same pool keys from scratch */
	p = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, wp_ioctl(fd, WASMPOOL_IOC_APPLY_KEYS, &ak));
	EXPECT_EQ(400 + 1, ak.vmas);
	munmap(p, c.layout.total_bytes);
	close(fd);
}

TEST_HARNESS_MAIN
