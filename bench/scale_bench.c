// SPDX-License-Identifier: GPL-2.0-only
/*
 * scale_bench: (1) the alloc -> touch 1 page -> reset -> free cycle of a
 * 4 MiB memory from one thread and from one thread per vCPU at once, with
 * keep_resident 0 and 64 KiB, through /dev/wasmpool and through the two
 * userspace strategies of bench/baselines.h (wasmtime: Wasmtime today, the
 * slot stays read-write, PAGEMAP_SCAN reset, one module's slots shared by
 * every thread through the affinity allocator's mutex; classic: mprotect()
 * and MADV_DONTNEED per cycle, each thread on its own slots), as cycles per
 * second, and the device again with every thread freeing through a
 * decommit queue of up to 16 slots (WASMPOOL_IOC_SLOT_FREE_BATCH);
 * (2) the cost of one reset as a function of the pages resident in
 * the slot (keep_resident 0). Same process, same boot. Lines starting
 * "csv," are machine-readable.
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
#include "baselines.h"

#define PAGE		4096UL
#define MAX_MEM		(4UL << 20)
#define SLOTS		64
#define MAX_THREADS	64
#define RUNS		5
#define MODULE		0

/* DEV_BATCH: the device, each thread freeing through a decommit queue. */
enum { DEV, CLASSIC, WT, DEV_BATCH, NSTRAT };

#define NRESET		3	/* the strategies of the reset table */
#define QUEUE		16	/* the most a thread's decommit queue holds */

static struct wasmpool pool;
static struct classic_pool classic;
static struct wt_pool wt;
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

/* One per thread, each on its own cache line. */
struct worker {
	int id, nthreads, which;
	long cycles;
	int error;
	struct wt_stats st;
	uint32_t queue[QUEUE];
	int nq, qmax;
} __attribute__((aligned(64)));

static int one_cycle(struct worker *w, uint32_t *next)
{
	if (w->which == DEV_BATCH) {
		struct wasmpool_slot_alloc a;
		int ret;

		if (wasmpool_slot_alloc(&pool, MAX_MEM, &a))
			return -1;
		pool.base[a.offset] = 1;
		w->queue[w->nq++] = a.slot;
		if (w->nq < w->qmax)
			return 0;
		ret = wasmpool_slot_free_batch(&pool, w->queue, w->nq);
		w->nq = 0;
		return ret;
	}
	if (w->which == DEV) {
		struct wasmpool_slot_alloc a;

		if (wasmpool_slot_alloc(&pool, MAX_MEM, &a))
			return -1;
		pool.base[a.offset] = 1;
		return wasmpool_slot_free(&pool, a.slot);
	}
	if (w->which == CLASSIC) {
		/* the classic threads own disjoint slots, as a runtime's would */
		uint32_t per = SLOTS / w->nthreads, slot = w->id * per + (*next)++ % per;

		if (classic_alloc(&classic, slot, MAX_MEM))
			return -1;
		classic_slot(&classic, slot)[0] = 1;
		return classic_free(&classic, slot, MAX_MEM);
	} else {
		int32_t slot = wt_alloc(&wt, MODULE, MAX_MEM);

		if (slot < 0)
			return slot;
		wt_slot_addr(&wt, slot)[0] = 1;
		return wt_free(&wt, slot, &w->st);
	}
}

static void *cycle_worker(void *arg)
{
	struct worker *w = arg;
	uint32_t next = 0;

	while (!atomic_load(&stop)) {
		if (one_cycle(w, &next)) {
			w->error = 1;
			break;
		}
		w->cycles++;
	}
	if (w->nq && wasmpool_slot_free_batch(&pool, w->queue, w->nq))
		w->error = 1;
	return NULL;
}

static double throughput(int which, int nthreads, struct wt_stats *st)
{
	static struct worker w[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	double t0, dt;
	long total = 0;
	int i;

	atomic_store(&stop, 0);
	for (i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .id = i, .nthreads = nthreads, .which = which };
		/* every thread's queue full and one slot each still fit */
		w[i].qmax = SLOTS / nthreads - 1;
		if (w[i].qmax > QUEUE)
			w[i].qmax = QUEUE;
		if (w[i].qmax < 1)
			w[i].qmax = 1;
		pthread_create(&t[i], NULL, cycle_worker, &w[i]);
	}
	t0 = now();
	usleep(seconds * 1e6);
	atomic_store(&stop, 1);
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	dt = now() - t0;
	for (i = 0; i < nthreads; i++) {
		if (w[i].error)
			return -1;
		total += w[i].cycles;
		wt_stats_add(st, &w[i].st);
	}
	return total / dt;
}

/* Mean time of one reset of a slot with @pages resident, in microseconds. */
static double reset_cost(int which, int pages, int reps, struct wt_stats *st)
{
	double spent = 0;
	int r, i;

	for (r = 0; r < reps; r++) {
		struct wasmpool_slot_alloc a;
		int32_t slot = 0;
		char *s;
		double t0;

		if (which == DEV) {
			if (wasmpool_slot_alloc(&pool, MAX_MEM, &a))
				return -1;
			s = pool.base + a.offset;
		} else if (which == CLASSIC) {
			if (classic_alloc(&classic, 0, MAX_MEM))
				return -1;
			s = classic_slot(&classic, 0);
		} else {
			slot = wt_alloc(&wt, MODULE, MAX_MEM);
			if (slot < 0)
				return -1;
			s = wt_slot_addr(&wt, slot);
		}
		for (i = 0; i < pages; i++)
			s[i * PAGE] = 1;
		t0 = now();
		if (which == DEV) {
			if (wasmpool_slot_reset(&pool, a.slot, MAX_MEM))
				return -1;
		} else if (which == CLASSIC) {
			if (classic_free(&classic, 0, MAX_MEM))
				return -1;
		} else {
			if (wt_reset(&wt, slot, st))
				return -1;
		}
		spent += now() - t0;
		if (which == DEV)
			wasmpool_slot_free(&pool, a.slot);
		else if (which == WT)
			wt_release(&wt, slot);
	}
	return spent / reps * 1e6;
}

/* The device pool and both baselines, with @keep. */
static int setup(size_t keep)
{
	struct wasmpool_configure cfg = {
		.flags = BENCH_LAYOUT_FLAGS,
		.max_memory_bytes = MAX_MEM,
		.reservation_bytes = BENCH_RESERVATION,
		.guard_bytes = BENCH_GUARD,
		.num_slots = SLOTS,
		.keep_resident_bytes = keep,
	};
	int ret = wasmpool_create(&pool, &cfg);

	if (ret) {
		fprintf(stderr, "scale_bench: wasmpool_create: %s\n", strerror(-ret));
		return ret;
	}
	ret = classic_init(&classic, &pool.layout, keep);
	if (!ret)
		ret = wt_init(&wt, &pool.layout, keep);
	if (ret)
		fprintf(stderr, "scale_bench: baseline: %s\n", strerror(-ret));
	return ret;
}

static void teardown(void)
{
	wt_fini(&wt);
	classic_fini(&classic);
	wasmpool_destroy(&pool);
}

int main(int argc, char **argv)
{
	static const int resident[] = { 0, 1, 4, 16, 64, 256, 1024 };
	static const size_t keeps[] = { 0, 64 << 10 };
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	int counts[2] = { 1, n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n };
	unsigned int i, q, w;

	seconds = quick ? 0.02 : 0.5;
	printf("cycles per second (alloc, touch 1 page, reset, free; 4 MiB memories), median of %d (min-max),\n"
	       "ratios device/baseline (above 1: the device is faster):\n", RUNS);
	printf("%-8s %-6s %26s %26s %7s %26s %7s %26s %7s  %s\n", "threads", "keep", "device",
	       "classic", "ratio", "wasmtime", "ratio", "device, batch frees", "ratio",
	       "wasmtime reset");
	for (q = 0; q < sizeof(keeps) / sizeof(keeps[0]); q++) {
		if (setup(keeps[q]))
			return 1;
		for (i = 0; i < 2; i++) {
			double t[NSTRAT][RUNS];
			struct wt_stats st = { 0 };
			int r;

			for (r = 0; r < RUNS; r++) {
				for (w = 0; w < NSTRAT; w++) {
					t[w][r] = throughput(w, counts[i], &st);
					if (t[w][r] < 0) {
						fprintf(stderr, "scale_bench: a cycle failed\n");
						return 1;
					}
				}
			}
			for (w = 0; w < NSTRAT; w++)
				sort_runs(t[w]);
			printf("%-8d %-6zu %8.0f (%7.0f-%7.0f) %8.0f (%7.0f-%7.0f) %6.2fx "
			       "%8.0f (%7.0f-%7.0f) %6.2fx %8.0f (%7.0f-%7.0f) %6.2fx  %s\n",
			       counts[i], keeps[q],
			       t[DEV][RUNS / 2], t[DEV][0], t[DEV][RUNS - 1],
			       t[CLASSIC][RUNS / 2], t[CLASSIC][0], t[CLASSIC][RUNS - 1],
			       t[DEV][RUNS / 2] / t[CLASSIC][RUNS / 2],
			       t[WT][RUNS / 2], t[WT][0], t[WT][RUNS - 1],
			       t[DEV][RUNS / 2] / t[WT][RUNS / 2],
			       t[DEV_BATCH][RUNS / 2], t[DEV_BATCH][0], t[DEV_BATCH][RUNS - 1],
			       t[DEV_BATCH][RUNS / 2] / t[WT][RUNS / 2], wt_stats_kind(&st));
			printf("csv,threads,%d,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.3f,%.0f,%.0f,%.0f,%.3f,%zu,%s,"
			       "%.0f,%.0f,%.0f,%.3f\n",
			       counts[i], t[DEV][RUNS / 2], t[DEV][0], t[DEV][RUNS - 1],
			       t[CLASSIC][RUNS / 2], t[CLASSIC][0], t[CLASSIC][RUNS - 1],
			       t[DEV][RUNS / 2] / t[CLASSIC][RUNS / 2],
			       t[WT][RUNS / 2], t[WT][0], t[WT][RUNS - 1],
			       t[DEV][RUNS / 2] / t[WT][RUNS / 2], keeps[q], wt_stats_kind(&st),
			       t[DEV_BATCH][RUNS / 2], t[DEV_BATCH][0], t[DEV_BATCH][RUNS - 1],
			       t[DEV_BATCH][RUNS / 2] / t[WT][RUNS / 2]);
			if (counts[1] == 1)
				break;
		}
		teardown();
	}

	if (setup(0))
		return 1;
	printf("one reset, by pages resident in the slot (keep_resident 0), microseconds, median of %d (min-max),\n"
	       "ratios baseline/device (above 1: the device is faster):\n", RUNS);
	printf("%-8s %24s %24s %7s %24s %7s  %s\n", "pages", "device", "classic", "ratio",
	       "wasmtime", "ratio", "wasmtime reset");
	for (i = 0; i < sizeof(resident) / sizeof(resident[0]); i++) {
		int reps = quick ? 2 : resident[i] >= 256 ? 10 : 40, r;
		struct wt_stats st = { 0 };
		double t[NSTRAT][RUNS];

		for (r = 0; r < RUNS; r++) {
			for (w = 0; w < NRESET; w++) {
				t[w][r] = reset_cost(w, resident[i], reps, &st);
				if (t[w][r] < 0) {
					fprintf(stderr, "scale_bench: a reset failed\n");
					return 1;
				}
			}
		}
		for (w = 0; w < NRESET; w++)
			sort_runs(t[w]);
		printf("%-8d %8.1f (%6.1f-%7.1f) %8.1f (%6.1f-%7.1f) %6.2fx %8.1f (%6.1f-%7.1f) %6.2fx  %s\n",
		       resident[i], t[DEV][RUNS / 2], t[DEV][0], t[DEV][RUNS - 1],
		       t[CLASSIC][RUNS / 2], t[CLASSIC][0], t[CLASSIC][RUNS - 1],
		       t[CLASSIC][RUNS / 2] / t[DEV][RUNS / 2],
		       t[WT][RUNS / 2], t[WT][0], t[WT][RUNS - 1],
		       t[WT][RUNS / 2] / t[DEV][RUNS / 2], wt_stats_kind(&st));
		printf("csv,reset,%d,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.3f,%.2f,%.2f,%.2f,%.3f,%s\n",
		       resident[i], t[DEV][RUNS / 2], t[DEV][0], t[DEV][RUNS - 1],
		       t[CLASSIC][RUNS / 2], t[CLASSIC][0], t[CLASSIC][RUNS - 1],
		       t[CLASSIC][RUNS / 2] / t[DEV][RUNS / 2],
		       t[WT][RUNS / 2], t[WT][0], t[WT][RUNS - 1],
		       t[WT][RUNS / 2] / t[DEV][RUNS / 2], wt_stats_kind(&st));
	}
	teardown();
	return 0;
}
