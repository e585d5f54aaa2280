/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the wasmpool selftests. Include after kselftest_harness.h.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#ifndef WP_TEST_H
#define WP_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#define WP_TEST_DEVICE "/dev/wasmpool"

/*
 * Has the running test failed (or skipped) yet? The harness keeps it in
 * exit_code since 6.9 (the series that brought XFAIL_ADD), in passed and
 * skip before: the kselftest trees of 6.1 and 6.12 both build the tests.
 */
#ifdef XFAIL_ADD
#define WP_TEST_STOPPED() (_metadata->exit_code != KSFT_PASS)
#else
#define WP_TEST_STOPPED() (!_metadata->passed || _metadata->skip)

/*
 * The harness of 6.1 (one without exit_code) runs a fixture's test even
 * when its setup skipped (no device, no protection keys, no fault injection), and the
 * test then fails on what the setup left undone. A setup that skipped
 * clears passed as well, which ends the test there (and skips its
 * teardown, as newer harnesses do); the harness still reports the skip,
 * since it exits 255 for one whatever passed says.
 */
#undef FIXTURE_SETUP
#define FIXTURE_SETUP(fixture_name)						\
	static void wp_setup_body_##fixture_name(struct __test_metadata *,	\
		FIXTURE_DATA(fixture_name) *,					\
		const FIXTURE_VARIANT(fixture_name) *);			\
	void fixture_name##_setup(struct __test_metadata *_metadata,		\
		FIXTURE_DATA(fixture_name) *self,				\
		const FIXTURE_VARIANT(fixture_name) *variant)			\
	{									\
		wp_setup_body_##fixture_name(_metadata, self, variant);		\
		if (_metadata->skip)						\
			_metadata->passed = 0;					\
	}									\
	static void wp_setup_body_##fixture_name(					\
		struct __test_metadata __attribute__((unused)) *_metadata,	\
		FIXTURE_DATA(fixture_name) __attribute__((unused)) *self,	\
		const FIXTURE_VARIANT(fixture_name)				\
			__attribute__((unused)) *variant)
#endif

#ifndef offsetofend
#define offsetofend(TYPE, MEMBER) \
	(offsetof(TYPE, MEMBER) + sizeof(((TYPE *)0)->MEMBER))
#endif

/*
 * Open the device into @fd. Without the device the test is skipped, unless
 * WASMPOOL_REQUIRE_DEVICE=1 (set by the VM runner, where the module is
 * always loaded), which makes a missing device a failure.
 */
#define WP_TEST_OPEN_DEVICE(fd) do {					\
	const char *req = getenv("WASMPOOL_REQUIRE_DEVICE");		\
	(fd) = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);		\
	if ((fd) < 0 && errno == ENOENT && !(req && *req == '1'))	\
		SKIP(return, "%s missing: load the wasmpool module",	\
		     WP_TEST_DEVICE);					\
	ASSERT_LE(0, (fd)) TH_LOG("open %s: %s", WP_TEST_DEVICE,	\
				  strerror(errno));			\
} while (0)

static inline int wp_test_pkey_alloc(void)
{
	return pkey_alloc(0, 0);
}

static inline int wp_test_pkey_free(int pkey)
{
	return pkey_free(pkey);
}

/* splitmix64: a seeded, reproducible stream for the randomized tests. */
static inline uint64_t wp_test_rng(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * The configuration most tests start from: @slots memories of @max_mem
 * bytes, reserved exactly, 64 KiB guards, @keep bytes kept on reset.
 */
static inline struct wasmpool_configure wp_test_config(uint32_t flags, uint64_t max_mem,
						       uint64_t slots, uint64_t keep)
{
	struct wasmpool_configure c = {
		.size = sizeof(c),
		.flags = flags,
		.max_memory_bytes = max_mem,
		.num_slots = slots,
		.reservation_bytes = max_mem,
		.guard_bytes = 64 * 1024,
		.keep_resident_bytes = keep,
	};

	return c;
}

/* Map the whole pool of @fd, laid out as @l, as a runtime does. */
static inline char *wp_test_map(int fd, const struct wasmpool_layout *l)
{
	return mmap(NULL, l->total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
}

/*
 * In a fixture setup with fd, base and l (the layout): open the device,
 * configure @c and map the whole pool. base is MAP_FAILED until mapped.
 */
#define WP_TEST_OPEN_POOL(self, c) do {					\
	(self)->base = MAP_FAILED;					\
	WP_TEST_OPEN_DEVICE((self)->fd);				\
	ASSERT_EQ(0, wp_configure((self)->fd, &(c)));			\
	(self)->l = (c).layout;						\
	(self)->base = wp_test_map((self)->fd, &(self)->l);		\
	ASSERT_NE(MAP_FAILED, (self)->base);				\
} while (0)

/* Thin wrappers of the ioctls: 0 or -errno. */
static inline int wp_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline int wp_configure(int fd, struct wasmpool_configure *cfg)
{
	cfg->size = sizeof(*cfg);
	return wp_ioctl(fd, WASMPOOL_IOC_CONFIGURE, cfg);
}

static inline int wp_alloc(int fd, uint64_t bytes, struct wasmpool_slot_alloc *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->accessible_bytes = bytes;
	return wp_ioctl(fd, WASMPOOL_IOC_SLOT_ALLOC, a);
}

static inline int wp_alloc_stripe(int fd, uint64_t bytes, uint32_t stripe,
				  struct wasmpool_slot_alloc *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->flags = WASMPOOL_SLOT_ALLOC_STRIPE;
	a->stripe = stripe;
	a->accessible_bytes = bytes;
	return wp_ioctl(fd, WASMPOOL_IOC_SLOT_ALLOC, a);
}

static inline int wp_resize(int fd, unsigned long cmd, uint32_t slot, uint64_t bytes)
{
	struct wasmpool_slot_resize r = {
		.size = sizeof(r), .slot = slot, .accessible_bytes = bytes,
	};

	return wp_ioctl(fd, cmd, &r);
}

static inline int wp_grow(int fd, uint32_t slot, uint64_t bytes)
{
	return wp_resize(fd, WASMPOOL_IOC_SLOT_GROW, slot, bytes);
}

static inline int wp_reset(int fd, uint32_t slot, uint64_t bytes)
{
	return wp_resize(fd, WASMPOOL_IOC_SLOT_RESET, slot, bytes);
}

static inline int wp_free(int fd, uint32_t slot)
{
	struct wasmpool_slot_free f = { .size = sizeof(f), .slot = slot };

	return wp_ioctl(fd, WASMPOOL_IOC_SLOT_FREE, &f);
}

static inline int wp_free_batch(int fd, const uint32_t *slots, uint32_t count)
{
	struct wasmpool_slot_free_batch f = {
		.size = sizeof(f), .slots = (uintptr_t)slots, .count = count,
	};

	return wp_ioctl(fd, WASMPOOL_IOC_SLOT_FREE_BATCH, &f);
}

static inline int wp_stats(int fd, struct wasmpool_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return wp_ioctl(fd, WASMPOOL_IOC_STATS, st);
}

/*
 * Touch @p for reading (@write 0) or writing (@write 1) and report how it
 * went: 0 for no fault, else the signal, with its siginfo in @si. Uses a
 * SIGSEGV/SIGBUS handler and siglongjmp(); not thread-safe.
 */
static sigjmp_buf wp_probe_env;
static siginfo_t wp_probe_si;

static void wp_probe_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	wp_probe_si = *si;
	siglongjmp(wp_probe_env, 1);
}

static inline int wp_probe(volatile char *p, int write, siginfo_t *si)
{
	struct sigaction sa = { .sa_sigaction = wp_probe_handler,
				.sa_flags = SA_SIGINFO }, old_segv, old_bus;
	int ret = 0;

	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (sigsetjmp(wp_probe_env, 1) == 0) {
		if (write)
			*p = 1;
		else
			(void)*p;
	} else {
		ret = wp_probe_si.si_signo;
		if (si)
			*si = wp_probe_si;
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return ret;
}

/* Read (@put NULL) or write a small file: 0 or -errno. */
static inline int wp_file_rw(const char *path, char *get, size_t len, const char *put)
{
	int fd = open(path, put ? O_WRONLY | O_CLOEXEC : O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (put)
		n = write(fd, put, strlen(put));
	else
		n = read(fd, get, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	if (!put)
		get[n] = 0;
	return 0;
}

/* Global counters of the module (sysfs), or -1 when absent. */
static inline long long wp_sysfs_read(const char *name)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), "/sys/class/misc/wasmpool/%s", name);
	if (wp_file_rw(path, buf, sizeof(buf), NULL) || !buf[0])
		return -1;
	return strtoll(buf, NULL, 10);
}

/*
 * A counter of the module once it reaches @want, or after 2 s what it is.
 * A dead process's files may be released a moment after wait() returns:
 * when another task (khugepaged, a /proc reader) held its mm last, the
 * final fput() runs in a kernel worker (delayed_fput).
 */
static inline long long wp_sysfs_wait(const char *name, long long want)
{
	long long v = wp_sysfs_read(name);

	for (int i = 0; i < 200 && v != want; i++) {
		usleep(10000);
		v = wp_sysfs_read(name);
	}
	return v;
}

/*
 * Make cgroup @cg with the memory controller: NULL, or a reason to skip
 * (a string) when there is no writable cgroup v2 hierarchy with it.
 */
static inline const char *wp_test_memory_cgroup(const char *cg)
{
	int fd = open("/sys/fs/cgroup/cgroup.subtree_control", O_WRONLY | O_CLOEXEC);
	int ok = fd >= 0 && write(fd, "+memory", 7) == 7;

	if (fd >= 0)
		close(fd);
	if (!ok)
		return "no writable cgroup v2 memory controller at /sys/fs/cgroup";
	if (mkdir(cg, 0755) && errno != EEXIST)
		return "cannot create a cgroup";
	return NULL;
}

/* Write @value to @cg/@file: 0 or -1. */
static inline int wp_test_cgroup_write(const char *cg, const char *file, const char *value)
{
	char path[256];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * A tenant that never stops, for the tests that kill processes mid-use:
 * allocate a slot of @max_mem bytes in the pool mapped at @base (free a
 * random one of the first @spread slots when full), dirty @touches random
 * pages of it, reset half of them to half the size.
 */
static inline void __attribute__((noreturn))
wp_tenant_forever(int fd, char *base, uint64_t max_mem, unsigned int spread,
		  unsigned int touches, unsigned int seed)
{
	struct wasmpool_slot_alloc a;

	for (;;) {
		if (wp_alloc(fd, max_mem, &a)) {
			wp_free(fd, rand_r(&seed) % spread);
			continue;
		}
		for (unsigned int k = 0; k < touches; k++)
			base[a.offset + (rand_r(&seed) % (max_mem / 4096)) * 4096] = 1;
		if (rand_r(&seed) % 2)
			wp_reset(fd, a.slot, max_mem / 2);
	}
}

/* Field @key ("VmRSS", "RssShmem") of /proc/self/status in bytes, or -1. */
static inline long long wp_test_status_bytes(const char *key)
{
	char buf[4096], pat[32], *p;
	ssize_t n;
	int fd;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	snprintf(pat, sizeof(pat), "\n%s:", key);
	p = strstr(buf, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) * 1024 : -1;
}

/* This process can have a protection key (the CPU and kernel have them). */
static inline int wp_test_have_pkeys(void)
{
	int k = pkey_alloc(0, 0);

	if (k < 0)
		return 0;
	pkey_free(k);
	return 1;
}

#endif /* WP_TEST_H */
