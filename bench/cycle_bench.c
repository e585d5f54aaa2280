// SPDX-License-Identifier: GPL-2.0-only
/*
 * cycle_bench: one alloc -> touch K pages -> reset -> free cycle, through
 * /dev/wasmpool and through two userspace strategies of Wasmtime's pooling
 * allocator (bench/baselines.h), in the same process, same boot:
 *   - wasmtime: what Wasmtime does today, the main baseline: the slot stays
 *     read-write between instances and the same module gets it back, so a
 *     cycle makes no mprotect(); reset with one PAGEMAP_SCAN ioctl, memset()
 *     of the dirty pages it finds (at most keep_resident's worth) and
 *     MADV_DONTNEED from where the scan stopped; or, without the ioctl
 *     (before Linux 6.7) or with keep_resident 0, memset() of keep_resident
 *     + MADV_DONTNEED of the rest;
 *   - classic: the earlier runs' baseline: mprotect() to allocate, memset() of
 *     keep_resident + MADV_DONTNEED of the rest + mprotect(PROT_NONE) to
 *     free;
 * and the device once more, with WASMPOOL_CONFIGURE_POPULATE_AHEAD
 * ("device+ahead": the touches walk up the slot).
 *
 * Prints one line per configuration: the median time of a cycle (over
 * repeated runs, with min and max) for each, the ratios baseline/device
 * (above 1: the device is faster) and what Wasmtime's resets did, each
 * followed by a machine-readable "csv,cycle,..." line. After the timed runs,
 * each strategy's next tenant must find the touched pages zeroed.
 *
 * Then the decommit table: BATCH tenants at a time, freed through the
 * device one by one, through the device in one WASMPOOL_IOC_SLOT_FREE_BATCH,
 * and Wasmtime's way; with the device's unmaps per tenant ("csv,decommit").
 * --quick: a few cycles only (make check's smoke run).
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
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
#define MAX_MEM		(4UL << 20)	/* 4 MiB memories: room for 256 pages + */
#define SLOTS		64
#define RUNS		15		/* short runs, alternating: a busy host drifts */
#define MODULE		0		/* one module: Wasmtime's affinity applies */

/* DEV_AHEAD: the device with WASMPOOL_CONFIGURE_POPULATE_AHEAD. */
enum { DEV, CLASSIC, WT, DEV_AHEAD, NSTRAT };

struct bench {
	struct wasmpool dev;
	struct wasmpool ahead;
	struct classic_pool classic;
	struct wt_pool wt;
	struct wt_stats st;
	uint32_t classic_free[SLOTS];
	int classic_nfree;
	size_t accessible;
	int pages;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void touch(char *s, int pages)
{
	int i;

	for (i = 0; i < pages; i++)
		s[i * PAGE] = 1;
}

/* Every page the last tenant touched reads 0 again. */
static int zeroed(const char *s, int pages)
{
	int i;

	for (i = 0; i < pages; i++)
		if (s[i * PAGE])
			return 0;
	return 1;
}

/*
 * One cycle of strategy @which; with @check, verify first that the slot
 * comes back zeroed (not timed: a read before the touch would fault twice).
 */
static int cycle(struct bench *b, int which, int check)
{
	if (which == DEV || which == DEV_AHEAD) {
		struct wasmpool *dev = which == DEV ? &b->dev : &b->ahead;
		struct wasmpool_slot_alloc a;
		int ret = wasmpool_slot_alloc(dev, b->accessible, &a);

		if (ret)
			return ret;
		if (check && !zeroed(dev->base + a.offset, b->pages))
			return -EUCLEAN;
		touch(dev->base + a.offset, b->pages);
		return wasmpool_slot_free(dev, a.slot);
	}
	if (which == CLASSIC) {
		uint32_t slot = b->classic_free[--b->classic_nfree];
		int ret = classic_alloc(&b->classic, slot, b->accessible);

		if (ret)
			return ret;
		if (check && !zeroed(classic_slot(&b->classic, slot), b->pages))
			return -EUCLEAN;
		touch(classic_slot(&b->classic, slot), b->pages);
		ret = classic_free(&b->classic, slot, b->accessible);
		b->classic_free[b->classic_nfree++] = slot;
		return ret;
	} else {
		int32_t slot = wt_alloc(&b->wt, MODULE, b->accessible);

		if (slot < 0)
			return slot;
		if (check && !zeroed(wt_slot_addr(&b->wt, slot), b->pages))
			return -EUCLEAN;
		touch(wt_slot_addr(&b->wt, slot), b->pages);
		return wt_free(&b->wt, slot, &b->st);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The time of a memset() of 1 MiB of resident memory, median of RUNS: the
 * resets that keep pages zero them with memset(), and an emulator may
 * stretch vector stores far more than it stretches a system call.
 */
static int memset_calibration(void)
{
	char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t[RUNS];
	int r, i;

	if (m == MAP_FAILED)
		return -errno;
	memset(m, 1, 1 << 20);
	for (r = 0; r < RUNS; r++) {
		double t0 = now();

		for (i = 0; i < 10; i++) {
			memset(m, 0, 1 << 20);
			__asm__ volatile("" : : "r"(m) : "memory");
		}
		t[r] = (now() - t0) / 10 * 1e6;
	}
	munmap(m, 1 << 20);
	qsort(t, RUNS, sizeof(double), cmp_double);
	printf("memset() of 1 MiB resident: %.1f us (%.1f-%.1f)\n", t[RUNS / 2], t[0], t[RUNS - 1]);
	printf("csv,memset,%d,%.2f,%.2f,%.2f\n", 1 << 20, t[RUNS / 2], t[0], t[RUNS - 1]);
	return 0;
}

static const char *const names[NSTRAT] = { "device", "classic", "wasmtime", "device+ahead" };

#define BATCH		16	/* tenants per decommit batch */

enum { B_SINGLE, B_BATCH, B_WT, NBATCH };

/*
 * BATCH tenants alloc and touch their pages, then all leave: through the
 * device freed one by one, through the device in one batch free, and
 * Wasmtime's way (its decommit queue resets each slot as wt_free() does,
 * one madvise() each, then returns the slots together: the same system
 * calls as one by one).
 */
static int batch_round(struct bench *b, int which)
{
	uint32_t ids[BATCH];
	int32_t wt[BATCH];
	int i, ret = 0;

	for (i = 0; i < BATCH; i++) {
		if (which == B_WT) {
			wt[i] = wt_alloc(&b->wt, MODULE, b->accessible);
			if (wt[i] < 0)
				return wt[i];
			touch(wt_slot_addr(&b->wt, wt[i]), b->pages);
		} else {
			struct wasmpool_slot_alloc a;

			ret = wasmpool_slot_alloc(&b->dev, b->accessible, &a);
			if (ret)
				return ret;
			if (!zeroed(b->dev.base + a.offset, 1))
				return -EUCLEAN;
			touch(b->dev.base + a.offset, b->pages);
			ids[i] = a.slot;
		}
	}
	if (which == B_BATCH)
		return wasmpool_slot_free_batch(&b->dev, ids, BATCH);
	for (i = 0; i < BATCH && !ret; i++)
		ret = which == B_WT ? wt_free(&b->wt, wt[i], &b->st) :
				      wasmpool_slot_free(&b->dev, ids[i]);
	return ret;
}

/* The decommit table: per-tenant time of batch_round(), and the unmaps. */
static int batch_table(int quick)
{
	static const struct { int pages; size_t keep; unsigned int flags; } rows[] = {
		{ 1, 0, 0 }, { 16, 0, 0 }, { 256, 64 << 10, 0 },
		{ 16, 64 << 10, WASMPOOL_CONFIGURE_STRICT },
	};
	static const char *const bnames[NBATCH] = { "one by one", "batch", "wasmtime" };
	unsigned int row, r, w;
	int i, ret;

	printf("\ndecommit: %d tenants alloc, touch, then all free (us per tenant)\n", BATCH);
	printf("%-6s %-8s %-7s %24s %24s %7s %24s %7s %s\n", "pages", "keep", "pool",
	       "one by one us (min-max)", "batch us (min-max)", "ratio",
	       "wasmtime us (min-max)", "ratio", "unmaps/tenant 1-by-1, batch");
	for (row = 0; row < sizeof(rows) / sizeof(rows[0]); row++) {
		struct wasmpool_configure cfg = {
			.flags = rows[row].flags | BENCH_LAYOUT_FLAGS,
			.max_memory_bytes = MAX_MEM,
			.reservation_bytes = BENCH_RESERVATION,
			.guard_bytes = BENCH_GUARD,
			.num_slots = SLOTS,
			.keep_resident_bytes = rows[row].keep,
		};
		int rounds = quick ? 2 : rows[row].pages >= 256 ? 3 : 25;
		double t[NBATCH][RUNS], med[NBATCH], unmaps[NBATCH] = { 0 };
		static struct bench b;
		struct wasmpool_stats st;

		memset(&b, 0, sizeof(b));
		b.accessible = MAX_MEM;
		b.pages = rows[row].pages;
		ret = wasmpool_create(&b.dev, &cfg);
		if (!ret)
			ret = wt_init(&b.wt, &b.dev.layout, rows[row].keep);
		if (ret) {
			fprintf(stderr, "cycle_bench: decommit: %s\n", strerror(-ret));
			return 1;
		}
		for (w = 0; w < NBATCH; w++)
			for (i = 0; i < (quick ? 1 : 3); i++)
				if ((ret = batch_round(&b, w)))
					goto failed;
		for (r = 0; r < RUNS; r++) {
			for (w = 0; w < NBATCH; w++) {
				uint64_t before = 0;
				double t0;

				if (w != B_WT && !wasmpool_stats(&b.dev, &st))
					before = st.unmaps;
				t0 = now();
				for (i = 0; i < rounds; i++)
					if ((ret = batch_round(&b, w)))
						goto failed;
				t[w][r] = (now() - t0) / (rounds * BATCH) * 1e6;
				if (w != B_WT && !wasmpool_stats(&b.dev, &st))
					unmaps[w] += (double)(st.unmaps - before) / (rounds * BATCH);
			}
		}
		for (w = 0; w < NBATCH; w++) {
			qsort(t[w], RUNS, sizeof(double), cmp_double);
			med[w] = t[w][RUNS / 2];
		}
		printf("%-6d %-8zu %-7s %8.1f (%6.1f-%7.1f) %8.1f (%6.1f-%7.1f) %6.2fx "
		       "%8.1f (%6.1f-%7.1f) %6.2fx %.2f, %.2f\n",
		       rows[row].pages, rows[row].keep,
		       rows[row].flags & WASMPOOL_CONFIGURE_STRICT ? "strict" : "warm",
		       med[B_SINGLE], t[B_SINGLE][0], t[B_SINGLE][RUNS - 1],
		       med[B_BATCH], t[B_BATCH][0], t[B_BATCH][RUNS - 1],
		       med[B_SINGLE] / med[B_BATCH], med[B_WT], t[B_WT][0],
		       t[B_WT][RUNS - 1], med[B_WT] / med[B_BATCH],
		       unmaps[B_SINGLE] / RUNS, unmaps[B_BATCH] / RUNS);
		printf("csv,decommit,%d,%zu,%s,%.2f,%.2f,%.2f,%.3f,%.3f,%.3f,%.3f,%.3f\n",
		       rows[row].pages, rows[row].keep,
		       rows[row].flags & WASMPOOL_CONFIGURE_STRICT ? "strict" : "warm",
		       med[B_SINGLE], med[B_BATCH], med[B_WT],
		       med[B_SINGLE] / med[B_BATCH], med[B_WT] / med[B_BATCH],
		       med[B_WT] / med[B_SINGLE], unmaps[B_SINGLE] / RUNS,
		       unmaps[B_BATCH] / RUNS);
		wt_fini(&b.wt);
		wasmpool_destroy(&b.dev);
		continue;
failed:
		fprintf(stderr, "cycle_bench: decommit, %s, %d pages: %s\n", bnames[w],
			rows[row].pages, ret == -EUCLEAN ?
			"a touched page was not zeroed for the next tenant" : strerror(-ret));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const int touched[] = { 1, 16, 256 };
	static const size_t keeps[] = { 0, 64 << 10, 1 << 20 };
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	unsigned int k, q, r, w;
	int note = 0;

	if (argc > 1 && !quick) {
		fprintf(stderr, "usage: cycle_bench [--quick]\n");
		return 2;
	}
	if (memset_calibration())
		return 1;
	for (q = 0; q < 3; q++) {
		for (k = 0; k < 3; k++) {
			struct wasmpool_configure cfg = {
				.flags = BENCH_LAYOUT_FLAGS,
				.max_memory_bytes = MAX_MEM,
				.reservation_bytes = BENCH_RESERVATION,
				.guard_bytes = BENCH_GUARD,
				.num_slots = SLOTS,
				.keep_resident_bytes = keeps[q],
			};
			int cycles = quick ? 5 : touched[k] >= 256 ? 40 : 400, i, ret;
			double t[NSTRAT][RUNS], med[NSTRAT];
			static struct bench b;

			memset(&b, 0, sizeof(b));
			b.accessible = MAX_MEM;
			b.pages = touched[k];
			ret = wasmpool_create(&b.dev, &cfg);
			if (!ret) {
				cfg.flags |= WASMPOOL_CONFIGURE_POPULATE_AHEAD;
				ret = wasmpool_create(&b.ahead, &cfg);
			}
			if (ret) {
				fprintf(stderr, "cycle_bench: wasmpool_create: %s\n", strerror(-ret));
				return 1;
			}
			ret = classic_init(&b.classic, &b.dev.layout, keeps[q]);
			if (!ret)
				ret = wt_init(&b.wt, &b.dev.layout, keeps[q]);
			if (ret) {
				fprintf(stderr, "cycle_bench: baseline: %s\n", strerror(-ret));
				return 1;
			}
			for (b.classic_nfree = 0; b.classic_nfree < SLOTS; b.classic_nfree++)
				b.classic_free[b.classic_nfree] = SLOTS - 1 - b.classic_nfree;
			if (!note++) {
				printf("wasmtime: %s\n", wt_pagemap_note(&b.wt));
				printf("%-6s %-8s %24s %24s %7s %24s %7s %24s %7s  %s\n", "pages", "keep",
				       "device us (min-max)", "classic us (min-max)", "ratio",
				       "wasmtime us (min-max)", "ratio", "device+ahead us", "ratio",
				       "wasmtime reset");
			}
			/* warm all four (page tables, kept pages), then alternate runs */
			for (i = 0; i < (quick ? 2 : 50); i++)
				for (w = 0; w < NSTRAT; w++)
					if ((ret = cycle(&b, w, 0)))
						goto failed;
			memset(&b.st, 0, sizeof(b.st));
			for (r = 0; r < RUNS; r++) {
				for (w = 0; w < NSTRAT; w++) {
					double t0 = now();

					for (i = 0; i < cycles; i++)
						if ((ret = cycle(&b, w, 0)))
							goto failed;
					t[w][r] = (now() - t0) / cycles * 1e6;
				}
			}
			for (w = 0; w < NSTRAT; w++) {
				qsort(t[w], RUNS, sizeof(double), cmp_double);
				med[w] = t[w][RUNS / 2];
			}
			printf("%-6d %-8zu %8.1f (%6.1f-%7.1f) %8.1f (%6.1f-%7.1f) %6.2fx "
			       "%8.1f (%6.1f-%7.1f) %6.2fx %8.1f (%6.1f-%7.1f) %6.2fx  %s\n",
			       touched[k], keeps[q], med[DEV], t[DEV][0], t[DEV][RUNS - 1],
			       med[CLASSIC], t[CLASSIC][0], t[CLASSIC][RUNS - 1],
			       med[CLASSIC] / med[DEV], med[WT], t[WT][0], t[WT][RUNS - 1],
			       med[WT] / med[DEV], med[DEV_AHEAD], t[DEV_AHEAD][0],
			       t[DEV_AHEAD][RUNS - 1], med[WT] / med[DEV_AHEAD],
			       wt_stats_kind(&b.st));
			printf("csv,cycle,%d,%zu,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.3f,"
			       "%.2f,%.2f,%.2f,%.3f,%s,%.2f,%.2f,%.2f,%.3f\n",
			       touched[k], keeps[q], med[DEV], t[DEV][0], t[DEV][RUNS - 1],
			       med[CLASSIC], t[CLASSIC][0], t[CLASSIC][RUNS - 1],
			       med[CLASSIC] / med[DEV], med[WT], t[WT][0], t[WT][RUNS - 1],
			       med[WT] / med[DEV], wt_stats_kind(&b.st), med[DEV_AHEAD],
			       t[DEV_AHEAD][0], t[DEV_AHEAD][RUNS - 1], med[WT] / med[DEV_AHEAD]);
			/* the next tenant of each finds zeroes */
			for (w = 0; w < NSTRAT; w++)
				if ((ret = cycle(&b, w, 1)))
					goto failed;
			wt_fini(&b.wt);
			classic_fini(&b.classic);
			wasmpool_destroy(&b.ahead);
			wasmpool_destroy(&b.dev);
			continue;
failed:
			fprintf(stderr, "cycle_bench: %s, %d pages, keep %zu: %s\n", names[w],
				touched[k], keeps[q], ret == -EUCLEAN ?
				"a touched page was not zeroed for the next tenant" : strerror(-ret));
			return 1;
		}
	}
	return batch_table(quick);
}
