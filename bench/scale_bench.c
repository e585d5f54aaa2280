// SPDX-License-Identifier: GPL-2.0-only
/*
 * scale_bench: (1) the alloc -> touch 1 page -> reset -> free cycle from
 * one thread and from one thread per vCPU at once, through /dev/wasmpool
 * and through the userspace strategy (mprotect(), MADV_DONTNEED), as
 * cycles per second; (2) the cost of one reset as a function of the pages
 * resident in the slot (keep_resident 0). Same process, same boot. Lines
 * starting "csv," are machine-readable.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "wasmpool.h"

#define PAGE		4096UL
#define MAX_MEM		(4UL << 20)
#define SLOTS		64
#define MAX_THREADS	64
#define RUNS		5

static struct wasmpool pool;
static char *bbase;		/* the baseline's reservation */
static double seconds;
static atomic_int stop;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sort @v[RUNS]: v[0] min, v[RUNS / 2] median, v[RUNS - 1] max. */
static void sort_runs(double *v)
{
	qsort(v, RUNS, sizeof(double), cmp_double);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *bslot(uint32_t i)
{
	return bbase + pool.layout.pre_slab_guard_bytes + (uint64_t)i * pool.layout.slot_bytes;
}

struct worker {
	int id, nthreads, device;
	long cycles;
	int error;
};

static void *cycle_worker(void *arg)
{
	struct worker *w = arg;
	/* the baseline's threads own disjoint slots, as a runtime's would */
	uint32_t per = SLOTS / w->nthreads, first = w->id * per, next = 0;

	while (!atomic_load(&stop)) {
		if (w->device) {
			struct wasmpool_slot_alloc a;

			if (wasmpool_slot_alloc(&pool, 64 << 10, &a)) {
				w->error = 1;
				break;
			}
			pool.base[a.offset] = 1;
			if (wasmpool_slot_free(&pool, a.slot)) {
				w->error = 1;
				break;
			}
		} else {
			char *s = bslot(first + next++ % per);

			if (mprotect(s, 64 << 10, PROT_READ | PROT_WRITE)) {
				w->error = 1;
				break;
			}
			s[0] = 1;
			if (madvise(s, 64 << 10, MADV_DONTNEED) ||
			    mprotect(s, 64 << 10, PROT_NONE)) {
				w->error = 1;
				break;
			}
		}
		w->cycles++;
	}
	return NULL;
}

static double throughput(int device, int nthreads)
{
	struct worker w[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	double t0, dt;
	long total = 0;
	int i;

	atomic_store(&stop, 0);
	for (i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .id = i, .nthreads = nthreads, .device = device };
		pthread_create(&t[i], NULL, cycle_worker, &w[i]);
	}
	t0 = now();
	usleep(seconds * 1e6);
	atomic_store(&stop, 1);
	for (i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		if (w[i].error)
			return -1;
		total += w[i].cycles;
	}
	dt = now() - t0;
	return total / dt;
}

/* Mean time of one reset of a slot with @pages resident, in microseconds. */
static double reset_cost(int device, int pages, int reps)
{
	double spent = 0;
	int r, i;

	for (r = 0; r < reps; r++) {
		struct wasmpool_slot_alloc a;
		char *s;
		double t0;

		if (device) {
			if (wasmpool_slot_alloc(&pool, MAX_MEM, &a))
				return -1;
			s = pool.base + a.offset;
		} else {
			s = bslot(0);
			if (mprotect(s, MAX_MEM, PROT_READ | PROT_WRITE))
				return -1;
		}
		for (i = 0; i < pages; i++)
			s[i * PAGE] = 1;
		t0 = now();
		if (device) {
			if (wasmpool_slot_reset(&pool, a.slot, MAX_MEM))
				return -1;
		} else {
			if (madvise(s, MAX_MEM, MADV_DONTNEED) || mprotect(s, MAX_MEM, PROT_NONE))
				return -1;
		}
		spent += now() - t0;
		if (device)
			wasmpool_slot_free(&pool, a.slot);
	}
	return spent / reps * 1e6;
}

int main(int argc, char **argv)
{
	struct wasmpool_configure cfg = {
		.max_memory_bytes = MAX_MEM,
		.reservation_bytes = MAX_MEM,
		.guard_bytes = 64 << 10,
		.num_slots = SLOTS,
	};
	static const int resident[] = { 0, 1, 4, 16, 64, 256, 1024 };
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	int counts[2] = { 1, n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n };
	unsigned int i;
	int ret;

	seconds = quick ? 0.02 : 0.5;
	ret = wasmpool_create(&pool, &cfg);
	if (ret) {
		fprintf(stderr, "scale_bench: wasmpool_create: %s\n", strerror(-ret));
		return 1;
	}
	bbase = mmap(NULL, pool.layout.total_bytes, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (bbase == MAP_FAILED)
		return 1;

	printf("cycles per second (alloc, touch 1 page, reset, free; keep_resident 0), median of %d (min-max):\n",
	       RUNS);
	printf("%-8s %28s %28s %8s\n", "threads", "device", "baseline", "ratio");
	for (i = 0; i < 2; i++) {
		double d[RUNS], b[RUNS];
		int r;

		for (r = 0; r < RUNS; r++) {
			d[r] = throughput(1, counts[i]);
			b[r] = throughput(0, counts[i]);
			if (d[r] < 0 || b[r] < 0) {
				fprintf(stderr, "scale_bench: a cycle failed\n");
				return 1;
			}
		}
		sort_runs(d);
		sort_runs(b);
		printf("%-8d %10.0f (%7.0f-%7.0f) %10.0f (%7.0f-%7.0f) %7.2fx\n", counts[i],
		       d[RUNS / 2], d[0], d[RUNS - 1], b[RUNS / 2], b[0], b[RUNS - 1],
		       d[RUNS / 2] / b[RUNS / 2]);
		printf("csv,threads,%d,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.3f\n", counts[i],
		       d[RUNS / 2], d[0], d[RUNS - 1], b[RUNS / 2], b[0], b[RUNS - 1],
		       d[RUNS / 2] / b[RUNS / 2]);
		if (counts[1] == 1)
			break;
	}

	printf("one reset, by pages resident in the slot (keep_resident 0), microseconds, median of %d (min-max):\n",
	       RUNS);
	printf("%-8s %26s %26s %8s\n", "pages", "device", "baseline", "ratio");
	for (i = 0; i < sizeof(resident) / sizeof(resident[0]); i++) {
		int reps = quick ? 2 : resident[i] >= 256 ? 10 : 40, r;
		double d[RUNS], b[RUNS];

		for (r = 0; r < RUNS; r++) {
			d[r] = reset_cost(1, resident[i], reps);
			b[r] = reset_cost(0, resident[i], reps);
			if (d[r] < 0 || b[r] < 0) {
				fprintf(stderr, "scale_bench: a reset failed\n");
				return 1;
			}
		}
		sort_runs(d);
		sort_runs(b);
		printf("%-8d %9.1f (%6.1f-%7.1f) %9.1f (%6.1f-%7.1f) %7.2fx\n", resident[i],
		       d[RUNS / 2], d[0], d[RUNS - 1], b[RUNS / 2], b[0], b[RUNS - 1],
		       b[RUNS / 2] / d[RUNS / 2]);
		printf("csv,reset,%d,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.3f\n", resident[i],
		       d[RUNS / 2], d[0], d[RUNS - 1], b[RUNS / 2], b[0], b[RUNS - 1],
		       b[RUNS / 2] / d[RUNS / 2]);
	}
	munmap(bbase, pool.layout.total_bytes);
	wasmpool_destroy(&pool);
	return 0;
}
