// SPDX-License-Identifier: GPL-2.0-only
/*
 * demo: a WebAssembly runtime in miniature, built only on libwasmpool.
 *
 * Worker threads each run "instances": take a slot (on the thread's own
 * stripe when the pool has stripes, with PKRU opening only that stripe),
 * write to the memory, memory.grow it, check that the grown part reads
 * zero, then make an out-of-bounds access - above the accessible size,
 * into the slot's guard region, and (with stripes) into a neighbour of
 * another stripe - which the SIGSEGV handler turns into a reported trap,
 * then free the slot for the next tenant, whose memory must read zero.
 * Then instances that start from a memory image (a module's data
 * segments): each must read the image, never its predecessor's writes.
 *
 * It prints what happened and exits non-zero when anything went other than
 * planned: a non-zero byte for a new tenant, a trap of the wrong kind, an
 * access that should have trapped and did not, a failed call.
 *
 * Usage: demo [SECONDS]   (default 3)
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wasmpool.h"

#define WASM_PAGE	65536ULL
#define MAX_MEM		(16 * WASM_PAGE)	/* 1 MiB memories */
#define SLOTS		64
#define MAX_THREADS	32

static struct wasmpool pool;
static int has_pkeys;
static double seconds = 3;
static atomic_int stop;

static atomic_long instances, resets, traps[WASMPOOL_FAULT_RESIDENT_LIMIT + 1], problems;

/* Per thread: where a trap returns to. */
static __thread sigjmp_buf trap_env;
static __thread volatile int in_guest;
static __thread struct wasmpool_fault last_fault;

static void problem(const char *what, long v)
{
	if (atomic_fetch_add(&problems, 1) < 10)
		fprintf(stderr, "demo: PROBLEM: %s (%ld)\n", what, v);
}

/* The runtime's SIGSEGV/SIGBUS handler: a fault in the pool is a wasm trap. */
static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (in_guest && wasmpool_fault_classify_signal(&pool, si, &last_fault) !=
			WASMPOOL_FAULT_OUTSIDE) {
		in_guest = 0;
		siglongjmp(trap_env, 1);
	}
	/* not ours: die as we would have */
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Run "guest code" of the instance in @slot that touches @p; return the
 * trap kind, 0 without one. Entering opens exactly the instance's stripe,
 * again after a trap: the handler's PKRU is left after siglongjmp().
 */
static int guest_access(uint32_t slot, volatile char *p)
{
	if (sigsetjmp(trap_env, 1)) {
		wasmpool_pkru_enter(&pool, slot);
		atomic_fetch_add(&traps[last_fault.kind], 1);
		return last_fault.kind;
	}
	wasmpool_pkru_enter(&pool, slot);
	in_guest = 1;
	*p = 1;
	in_guest = 0;
	return 0;
}

/* Every byte of [p, p + len) is zero. */
static int all_zero(const char *p, size_t len)
{
	static const char zero[4096];

	for (size_t i = 0; i < len; i += sizeof(zero))
		if (memcmp(p + i, zero, sizeof(zero)))
			return 0;
	return 1;
}

static void *worker(void *arg)
{
	long id = (long)arg;
	uint32_t n = pool.layout.num_stripes, stripe = id % n;
	unsigned int seed = id;

	while (!atomic_load(&stop)) {
		struct wasmpool_slot_alloc a;
		char *mem;
		int ret, kind;

		/* instantiate: one wasm page */
		ret = n > 1 ? wasmpool_slot_alloc_stripe(&pool, WASM_PAGE, stripe, &a)
			    : wasmpool_slot_alloc(&pool, WASM_PAGE, &a);
		if (ret == -ENOSPC) {
			sched_yield();
			continue;
		}
		if (ret) {
			problem("slot_alloc", ret);
			break;
		}
		/* instantiation writes the instance's memory: enter its stripe */
		wasmpool_pkru_enter(&pool, a.slot);
		mem = (char *)(uintptr_t)a.address;
		if (!all_zero(mem, WASM_PAGE))
			problem("a new tenant saw non-zero memory", a.slot);
		memset(mem, 0xab, 4096);

		/* memory.grow by 3 pages; the new pages read zero */
		if ((ret = wasmpool_slot_grow(&pool, a.slot, 4 * WASM_PAGE)))
			problem("slot_grow", ret);
		if (!all_zero(mem + WASM_PAGE, 3 * WASM_PAGE))
			problem("grown memory not zero", a.slot);
		mem[4 * WASM_PAGE - 1] = 1;

		/* the out-of-bounds accesses a buggy guest makes */
		kind = guest_access(a.slot, mem + 4 * WASM_PAGE + rand_r(&seed) % WASM_PAGE);
		if (kind != WASMPOOL_FAULT_SLOT_MEMORY)
			problem("access above memory size: wrong trap", kind);
		kind = guest_access(a.slot, mem + MAX_MEM + rand_r(&seed) % 4096);
		if (kind != WASMPOOL_FAULT_SLOT_GUARD && kind != WASMPOOL_FAULT_OTHER_STRIPE &&
		    kind != WASMPOOL_FAULT_POST_GUARD)
			problem("access past max memory: wrong trap", kind);
		if (n > 1) {
			/* the next slot belongs to another stripe */
			uint32_t other = (a.slot + 1) % pool.layout.num_slots;

			kind = guest_access(a.slot, (char *)wasmpool_slot_addr(&pool, other));
			if (kind != WASMPOOL_FAULT_OTHER_STRIPE)
				problem("access to another stripe: wrong trap", kind);
		}

		if ((ret = wasmpool_slot_free(&pool, a.slot)))
			problem("slot_free", ret);
		atomic_fetch_add(&resets, 1);
		atomic_fetch_add(&instances, 1);
	}
	return NULL;
}

/* A module's initial memory: its data segments, laid out page by page. */
#define IMAGE_BYTES	(4 * WASM_PAGE)
#define IMAGE_TENANTS	64

/*
 * Instances that start from a memory image, as Wasmtime's memory_init_cow
 * gives them: the kernel holds the image once, a new slot reads it without
 * a copy, a write gives the instance a page of its own, and the next
 * tenant finds the image again - never its predecessor's writes.
 */
static void image_instances(void)
{
	static char data[IMAGE_BYTES];
	struct wasmpool_stats s0, s1;
	uint32_t image, k;
	int ret;

	for (k = 0; k < IMAGE_BYTES; k++)
		data[k] = (char)(k * 7 + 3);
	ret = wasmpool_image_create(&pool, data, IMAGE_BYTES, &image);
	if (ret) {
		problem("wasmpool_image_create", ret);
		return;
	}
	wasmpool_stats(&pool, &s0);
	for (k = 0; k < IMAGE_TENANTS; k++) {
		struct wasmpool_slot_alloc a;
		uint32_t pkru;
		char *mem;

		ret = wasmpool_slot_alloc_image(&pool, 2 * IMAGE_BYTES, image, &a);
		if (ret) {
			problem("wasmpool_slot_alloc_image", ret);
			break;
		}
		mem = (char *)(uintptr_t)a.address;
		pkru = wasmpool_pkru_enter(&pool, a.slot);
		if (memcmp(mem, data, IMAGE_BYTES))
			problem("an instance did not start from the image", k);
		if (!all_zero(mem + IMAGE_BYTES, IMAGE_BYTES))
			problem("memory above the image was not zero", k);
		/* The instance writes one page of the image and one above. */
		memset(mem + (k % 4) * WASM_PAGE, 0xa5, 4096);
		memset(mem + IMAGE_BYTES, 0x5a, 4096);
		if (has_pkeys)
			wasmpool_pkru_write(pkru);
		ret = wasmpool_slot_free(&pool, a.slot);
		if (ret)
			problem("wasmpool_slot_free", ret);
	}
	wasmpool_stats(&pool, &s1);
	printf("demo: %u instances from one %llu KiB memory image (held once: %llu KiB): %llu pages copied on write, %llu slot reuses with the image still mapped\n",
	       k, IMAGE_BYTES >> 10, (unsigned long long)s1.image_bytes >> 10,
	       (unsigned long long)(s1.image_copies - s0.image_copies),
	       (unsigned long long)(s1.warm_hits - s0.warm_hits));
	ret = wasmpool_image_release(&pool, image);
	if (ret)
		problem("wasmpool_image_release", ret);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct wasmpool_configure cfg = {
		.max_memory_bytes = MAX_MEM,
		.reservation_bytes = MAX_MEM,
		.guard_bytes = 7 * MAX_MEM,
		.num_slots = SLOTS,
		.keep_resident_bytes = WASM_PAGE,
		.pkey_mode = WASMPOOL_PKEYS_AUTO,
	};
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	pthread_t t[MAX_THREADS];
	struct wasmpool_info info;
	struct wasmpool_stats st;
	long nthreads = sysconf(_SC_NPROCESSORS_ONLN) * 2, i;
	double t0, dt;
	int ret, fd;

	if (argc > 1)
		seconds = atof(argv[1]);
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;

	fd = wasmpool_open(0);
	if (fd < 0 || wasmpool_info(fd, &info)) {
		fprintf(stderr, "demo: %s: %s\n", WASMPOOL_DEVICE_PATH, strerror(fd < 0 ? -fd : EIO));
		return 1;
	}
	close(fd);
	ret = wasmpool_create(&pool, &cfg);
	if (ret) {
		fprintf(stderr, "demo: wasmpool_create: %s\n", strerror(-ret));
		return 1;
	}
	has_pkeys = pool.layout.num_stripes > 1;
	printf("demo: a pool of %llu slots: %llu KiB memories, %llu KiB apart, %u stripe(s)%s\n",
	       (unsigned long long)pool.layout.num_slots,
	       (unsigned long long)pool.layout.max_memory_bytes >> 10,
	       (unsigned long long)pool.layout.slot_bytes >> 10,
	       pool.layout.num_stripes,
	       has_pkeys ? " (protection keys)" :
	       info.features & WASMPOOL_FEATURE_PKEYS ? "" : " (this CPU has no protection keys)");
	printf("demo: %ld worker threads for %.1f s, each on its own stripe\n", nthreads, seconds);

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);	/* the pool's resident limit */
	t0 = now();
	for (i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	while (now() - t0 < seconds && !atomic_load(&problems))
		usleep(50000);
	atomic_store(&stop, 1);
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	dt = now() - t0;

	image_instances();
	wasmpool_stats(&pool, &st);
	printf("demo: %ld instances (%.0f per second), %ld resets\n",
	       atomic_load(&instances), atomic_load(&instances) / dt, atomic_load(&resets));
	printf("demo: traps: %ld above the memory size, %ld in a slot's guard region, %ld after the slab, %ld into another stripe\n",
	       atomic_load(&traps[WASMPOOL_FAULT_SLOT_MEMORY]),
	       atomic_load(&traps[WASMPOOL_FAULT_SLOT_GUARD]),
	       atomic_load(&traps[WASMPOOL_FAULT_POST_GUARD]),
	       atomic_load(&traps[WASMPOOL_FAULT_OTHER_STRIPE]));
	printf("demo: pool: %llu page faults served, %llu pages allocated, %llu kept pages zeroed, %llu pages freed, %llu KiB resident, %llu guard faults\n",
	       (unsigned long long)st.faults, (unsigned long long)st.pages_allocated,
	       (unsigned long long)st.pages_cleared, (unsigned long long)st.pages_freed,
	       (unsigned long long)st.resident_bytes >> 10,
	       (unsigned long long)st.guard_faults);
	wasmpool_destroy(&pool);
	if (atomic_load(&instances) == 0)
		problem("no instance ran", 0);
	if (atomic_load(&problems)) {
		printf("demo: FAILED: %ld problem(s)\n", atomic_load(&problems));
		return 1;
	}
	printf("demo: every tenant started from zero or from its image, every out-of-bounds access trapped\n");
	return 0;
}
