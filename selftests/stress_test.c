// SPDX-License-Identifier: GPL-2.0-only
/*
 * stress_test: for a bounded time, threads on every vCPU run tenants on one
 * warm pool (alloc, half of them with an affinity key; check every
 * accessible byte is zero, dirty random pages, grow, reset, free: half of
 * the frees one by one, half through a small decommit queue freed in
 * batches) while the main thread keeps starting processes that use pools
 * of their own and SIGKILLs them at random moments. No tenant
 * may ever see a non-zero byte, and afterwards the module-wide counters are
 * back where they were.
 *
 * WASMPOOL_STRESS_SECONDS sets the time (default 3).
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define PAGE		4096ULL
#define MAX_MEM		(256 * 1024ULL)
#define SLOTS		32
#define MAX_THREADS	32

static int fd;
static char *base;
static struct wasmpool_layout layout;
static atomic_int stop, errors;
static atomic_long tenants;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int zero(const char *p, size_t len)
{
	static const char z[4096];

	for (size_t i = 0; i < len; i += 4096)
		if (memcmp(p + i, z, len - i < 4096 ? len - i : 4096))
			return 0;
	return 1;
}

static void *tenant_thread(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg * 2654435761u;
	uint32_t queue[3];	/* a decommit queue: freed in batches */
	uint32_t nq = 0;

	while (!atomic_load(&stop)) {
		struct wasmpool_slot_alloc a;
		uint64_t size = (1 + rand_r(&seed) % (MAX_MEM / PAGE)) * PAGE;
		char *s;
		int ret;

		/* half of the tenants are of one of 4 "modules": affinity */
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.accessible_bytes = size;
		if (rand_r(&seed) % 2) {
			a.flags = WASMPOOL_SLOT_ALLOC_AFFINITY;
			a.affinity = rand_r(&seed) % 4;
		}
		ret = wp_ioctl(fd, WASMPOOL_IOC_SLOT_ALLOC, &a);
		if (ret == -ENOSPC) {
			/* the pool is full: give back what this thread queued */
			if (nq && wp_free_batch(fd, queue, nq))
				atomic_fetch_add(&errors, 1);
			nq = 0;
			continue;
		}
		if (ret) {
			atomic_fetch_add(&errors, 1);
			break;
		}
		s = base + a.offset;
		if (!zero(s, size))
			atomic_fetch_add(&errors, 1);
		for (int k = 0; k < 6; k++)
			s[rand_r(&seed) % size] = (char)(1 + rand_r(&seed) % 255);
		if (rand_r(&seed) % 3 == 0) {
			if (wp_grow(fd, a.slot, MAX_MEM))
				atomic_fetch_add(&errors, 1);
			s[MAX_MEM - 1] = 1;
		}
		if (rand_r(&seed) % 3 == 0) {
			if (wp_reset(fd, a.slot, size) || !zero(s, size))
				atomic_fetch_add(&errors, 1);
		}
		if (rand_r(&seed) % 2) {
			if (wp_free(fd, a.slot))
				atomic_fetch_add(&errors, 1);
		} else {
			queue[nq++] = a.slot;
		}
		if (nq == 3) {
			if (wp_free_batch(fd, queue, nq))
				atomic_fetch_add(&errors, 1);
			nq = 0;
		}
		atomic_fetch_add(&tenants, 1);
	}
	if (nq && wp_free_batch(fd, queue, nq))
		atomic_fetch_add(&errors, 1);
	return NULL;
}

/* A process that uses a pool of its own until it is killed. */
static void victim(unsigned int seed)
{
	struct wasmpool_configure c = {
		.max_memory_bytes = MAX_MEM, .reservation_bytes = MAX_MEM,
		.guard_bytes = 64 * 1024, .num_slots = 8, .keep_resident_bytes = 16 * 1024,
		.pkey_mode = WASMPOOL_PKEYS_AUTO,
	};
	struct wasmpool_apply_keys ak = { .size = sizeof(ak) };
	char *b;
	int f = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);

	if (f < 0 || wp_configure(f, &c))
		_exit(1);
	b = mmap(NULL, c.layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	if (b == MAP_FAILED || wp_ioctl(f, WASMPOOL_IOC_APPLY_KEYS, &ak))
		_exit(2);
	for (unsigned int i = 0; i < c.layout.num_stripes && c.layout.num_stripes > 1; i++)
		pkey_set(c.stripe_pkeys[i], 0);
	wp_tenant_forever(f, b, MAX_MEM, 8, 8, seed);
}

TEST(tenants_on_every_vcpu_while_processes_die)
{
	struct wasmpool_configure c = {
		.max_memory_bytes = MAX_MEM, .reservation_bytes = MAX_MEM,
		.guard_bytes = 64 * 1024, .num_slots = SLOTS, .keep_resident_bytes = 32 * 1024,
	};
	const char *env = getenv("WASMPOOL_STRESS_SECONDS");
	double seconds = env ? atof(env) : 3, end;
	long n = sysconf(_SC_NPROCESSORS_ONLN), kills = 0, i;
	long long pools0 = wp_sysfs_read("pools"), slots0 = wp_sysfs_read("slots_in_use");
	long long resident0 = wp_sysfs_read("resident_bytes");
	pthread_t t[MAX_THREADS];
	unsigned int seed = 1;

	if (pools0 < 0)
		SKIP(return, "no wasmpool sysfs statistics (module not loaded?)");
	WP_TEST_OPEN_DEVICE(fd);
	ASSERT_EQ(0, wp_configure(fd, &c));
	layout = c.layout;
	base = mmap(NULL, layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, base);
	if (n < 1)
		n = 1;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, tenant_thread, (void *)(uintptr_t)(i + 1)));

	end = now() + seconds;
	while (now() < end) {
		int status;
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0)
			victim(seed);
		usleep(10000 + rand_r(&seed) % 60000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		kills += WIFSIGNALED(status);
	}
	atomic_store(&stop, 1);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	munmap(base, layout.total_bytes);
	close(fd);

	TH_LOG("%ld threads, %.0f s: %ld tenants, %ld processes killed mid-use",
	       n, seconds, atomic_load(&tenants), kills);
	EXPECT_EQ(0, atomic_load(&errors));
	EXPECT_LT(10, atomic_load(&tenants));
	EXPECT_LT(0, kills);
	EXPECT_EQ(pools0, wp_sysfs_wait("pools", pools0));
	EXPECT_EQ(slots0, wp_sysfs_wait("slots_in_use", slots0));
	EXPECT_EQ(resident0, wp_sysfs_wait("resident_bytes", resident0));
}

TEST_HARNESS_MAIN
