// SPDX-License-Identifier: GPL-2.0-only
/*
 * cycle_bench: one alloc -> touch K pages -> reset -> free cycle, through
 * /dev/wasmpool and through the userspace strategy of Wasmtime's pooling
 * allocator (the baseline: one PROT_NONE MAP_NORESERVE reservation,
 * mprotect() to allocate, memset() of keep_resident + MADV_DONTNEED of the
 * rest + mprotect(PROT_NONE) to reset), in the same process, same boot.
 *
 * Prints one line per configuration: the median time of a cycle (over
 * repeated runs, with min and max) for each, and the ratio baseline/device
 * (above 1: the device is faster), each followed by a machine-readable
 * "csv,cycle,..." line. --quick: a few cycles only (make check's smoke run).
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

#define PAGE		4096UL
#define MAX_MEM		(4UL << 20)	/* 4 MiB memories: room for 256 pages + */
#define SLOTS		64
#define RUNS		7

struct baseline {
	char *base;
	size_t slot_bytes, pre, keep;
	uint32_t free[SLOTS];
	int nfree;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int baseline_init(struct baseline *b, const struct wasmpool_layout *l, size_t keep)
{
	b->base = mmap(NULL, l->total_bytes, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (b->base == MAP_FAILED)
		return -errno;
	b->slot_bytes = l->slot_bytes;
	b->pre = l->pre_slab_guard_bytes;
	b->keep = keep;
	for (b->nfree = 0; b->nfree < SLOTS; b->nfree++)
		b->free[b->nfree] = SLOTS - 1 - b->nfree;
	return 0;
}

/* One cycle the way a userspace pool does it. */
static int baseline_cycle(struct baseline *b, size_t accessible, int pages)
{
	uint32_t slot = b->free[--b->nfree];
	char *s = b->base + b->pre + slot * b->slot_bytes;
	size_t keep = b->keep < accessible ? b->keep : accessible;
	int i;

	if (mprotect(s, accessible, PROT_READ | PROT_WRITE))
		return -errno;
	for (i = 0; i < pages; i++)
		s[i * PAGE] = 1;
	memset(s, 0, keep);
	if (accessible > keep && madvise(s + keep, accessible - keep, MADV_DONTNEED))
		return -errno;
	if (mprotect(s, accessible, PROT_NONE))
		return -errno;
	b->free[b->nfree++] = slot;
	return 0;
}

static int device_cycle(struct wasmpool *p, size_t accessible, int pages)
{
	struct wasmpool_slot_alloc a;
	int i, ret;

	ret = wasmpool_slot_alloc(p, accessible, &a);
	if (ret)
		return ret;
	for (i = 0; i < pages; i++)
		p->base[a.offset + i * PAGE] = 1;
	return wasmpool_slot_free(p, a.slot);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const int touched[] = { 1, 16, 256 };
	static const size_t keeps[] = { 0, 64 << 10, 1 << 20 };
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	unsigned int k, q, r;

	if (argc > 1 && !quick) {
		fprintf(stderr, "usage: cycle_bench [--quick]\n");
		return 2;
	}
	printf("%-8s %-10s %28s %28s %8s\n", "pages", "keep", "device us (min-max)",
	       "baseline us (min-max)", "ratio");
	for (q = 0; q < 3; q++) {
		for (k = 0; k < 3; k++) {
			struct wasmpool_configure cfg = {
				.max_memory_bytes = MAX_MEM,
				.reservation_bytes = MAX_MEM,
				.guard_bytes = 64 << 10,
				.num_slots = SLOTS,
				.keep_resident_bytes = keeps[q],
			};
			double dev[RUNS], base[RUNS];
			int cycles = quick ? 5 : touched[k] >= 256 ? 100 : 1000, i, ret;
			size_t accessible = MAX_MEM;
			struct wasmpool pool;
			struct baseline b;

			ret = wasmpool_create(&pool, &cfg);
			if (ret) {
				fprintf(stderr, "cycle_bench: wasmpool_create: %s\n", strerror(-ret));
				return 1;
			}
			ret = baseline_init(&b, &pool.layout, keeps[q]);
			if (ret) {
				fprintf(stderr, "cycle_bench: baseline: %s\n", strerror(-ret));
				return 1;
			}
			/* warm both (page tables, kept pages), then alternate runs */
			for (i = 0; i < (quick ? 2 : 50); i++)
				if (device_cycle(&pool, accessible, touched[k]) ||
				    baseline_cycle(&b, accessible, touched[k]))
					return 1;
			for (r = 0; r < RUNS; r++) {
				double t0 = now();

				for (i = 0; i < cycles; i++)
					if (device_cycle(&pool, accessible, touched[k]))
						return 1;
				dev[r] = (now() - t0) / cycles * 1e6;
				t0 = now();
				for (i = 0; i < cycles; i++)
					if (baseline_cycle(&b, accessible, touched[k]))
						return 1;
				base[r] = (now() - t0) / cycles * 1e6;
			}
			qsort(dev, RUNS, sizeof(double), cmp_double);
			qsort(base, RUNS, sizeof(double), cmp_double);
			printf("%-8d %-10zu %10.1f (%6.1f-%8.1f) %10.1f (%6.1f-%8.1f) %7.2fx\n",
			       touched[k], keeps[q], dev[RUNS / 2], dev[0], dev[RUNS - 1],
			       base[RUNS / 2], base[0], base[RUNS - 1],
			       base[RUNS / 2] / dev[RUNS / 2]);
			printf("csv,cycle,%d,%zu,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.3f\n",
			       touched[k], keeps[q], dev[RUNS / 2], dev[0], dev[RUNS - 1],
			       base[RUNS / 2], base[0], base[RUNS - 1],
			       base[RUNS / 2] / dev[RUNS / 2]);
			munmap(b.base, pool.layout.total_bytes);
			wasmpool_destroy(&pool);
		}
	}
	return 0;
}
