// SPDX-License-Identifier: GPL-2.0-only
/*
 * setup_bench: setting up a pool of 1,000 and 10,000 slots, with and
 * without protection-key stripes, through /dev/wasmpool and the way
 * Wasmtime's pooling allocator does it in userspace (one PROT_NONE
 * MAP_NORESERVE reservation; with stripes, pkey_alloc() per stripe and
 * pkey_mprotect() per slot). Reports wall time (median of 5, min-max), the
 * system calls each made, and the VMAs of the pool after setup and with
 * every slot in use (allocated with a 64 KiB accessible size: mprotect()
 * for the baseline). Lines starting "csv," are machine-readable. --quick:
 * 1,000 slots, one run (make check's smoke run).
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

#define RUNS	5

static int runs = RUNS;
#define INUSE	(64 << 10)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* VMAs that lie in [lo, lo + len). */
static int count_vmas(uintptr_t lo, uint64_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long s, e;
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s >= lo && e <= lo + len)
			n++;
	fclose(f);
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct wasmpool_configure config(uint64_t slots, int striped)
{
	/* 256 MiB memories with a 3.5 GiB guard: 15 stripes with the keys */
	struct wasmpool_configure c = {
		.max_memory_bytes = 256ULL << 20,
		.reservation_bytes = 256ULL << 20,
		.guard_bytes = 3584ULL << 20,
		.num_slots = slots,
		.pkey_mode = striped ? WASMPOOL_PKEYS_AUTO : WASMPOOL_PKEYS_OFF,
	};

	return c;
}

struct result {
	double t[RUNS];
	long syscalls;
	int vmas_setup, vmas_inuse;
	uint32_t stripes;
};

static int device(uint64_t slots, int striped, struct result *r)
{
	for (int run = 0; run < runs; run++) {
		struct wasmpool_configure c = config(slots, striped);
		struct wasmpool_slot_alloc a;
		struct wasmpool p;
		double t0 = now();
		int ret = wasmpool_create(&p, &c);

		r->t[run] = now() - t0;
		if (ret) {
			fprintf(stderr, "setup_bench: wasmpool_create: %s\n", strerror(-ret));
			return ret;
		}
		/* open, configure, mmap, and (with stripes) apply keys */
		r->syscalls = 3 + (p.layout.num_stripes > 1);
		r->stripes = p.layout.num_stripes;
		if (run == 0) {
			r->vmas_setup = count_vmas((uintptr_t)p.base, p.layout.total_bytes);
			for (uint64_t i = 0; i < slots; i++)
				if (wasmpool_slot_alloc(&p, INUSE, &a))
					return -1;
			r->vmas_inuse = count_vmas((uintptr_t)p.base, p.layout.total_bytes);
		}
		wasmpool_destroy(&p);
	}
	return 0;
}

static int baseline(uint64_t slots, int striped, uint32_t stripes, const struct wasmpool_layout *l,
		    struct result *r)
{
	for (int run = 0; run < runs; run++) {
		int keys[16], nkeys = 0;
		long calls = 0;
		double t0 = now();
		char *base = mmap(NULL, l->total_bytes, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		calls++;
		if (base == MAP_FAILED)
			return -errno;
		if (striped) {
			for (; nkeys < (int)stripes; nkeys++, calls++)
				if ((keys[nkeys] = pkey_alloc(0, 0)) < 0)
					return -errno;
			for (uint64_t i = 0; i < slots; i++, calls++)
				if (pkey_mprotect(base + l->pre_slab_guard_bytes + i * l->slot_bytes,
						  l->slot_bytes, PROT_NONE, keys[i % stripes]))
					return -errno;
		}
		r->t[run] = now() - t0;
		r->syscalls = calls;
		if (run == 0) {
			r->vmas_setup = count_vmas((uintptr_t)base, l->total_bytes);
			for (uint64_t i = 0; i < slots; i++)
				if (mprotect(base + l->pre_slab_guard_bytes + i * l->slot_bytes,
					     INUSE, PROT_READ | PROT_WRITE))
					return -errno;
			r->vmas_inuse = count_vmas((uintptr_t)base, l->total_bytes);
		}
		munmap(base, l->total_bytes);
		while (nkeys)
			pkey_free(keys[--nkeys]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const uint64_t counts[] = { 1000, 10000 };
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	unsigned int ncounts = quick ? 1 : 2;

	if (quick)
		runs = 1;
	printf("%-7s %-8s %-8s %24s %24s %7s %9s %9s %13s %13s\n", "slots", "stripes", "",
	       "device ms (min-max)", "baseline ms (min-max)", "ratio", "syscalls", "",
	       "VMAs setup", "VMAs in use");
	for (int striped = 0; striped < 2; striped++) {
		for (unsigned int k = 0; k < ncounts; k++) {
			struct wasmpool_configure c = config(counts[k], striped);
			struct result d = { 0 }, b = { 0 };

			if (device(counts[k], striped, &d))
				return 1;
			if (striped && d.stripes < 2) {
				printf("%-7llu (no protection keys on this CPU: striped setup skipped)\n",
				       (unsigned long long)counts[k]);
				continue;
			}
			/* the baseline uses the very same layout */
			{
				struct wasmpool_layout_cmd lc = {
					.max_memory_bytes = c.max_memory_bytes,
					.reservation_bytes = c.reservation_bytes,
					.guard_bytes = c.guard_bytes,
					.num_slots = c.num_slots,
					.num_pkeys = d.stripes > 1 ? d.stripes : 0,
				};

				if (wasmpool_layout_calc(&lc) || baseline(counts[k], striped, d.stripes,
									   &lc.layout, &b)) {
					fprintf(stderr, "setup_bench: baseline failed\n");
					return 1;
				}
			}
			qsort(d.t, runs, sizeof(double), cmp_double);
			qsort(b.t, runs, sizeof(double), cmp_double);
			printf("%-7llu %-8u %-8s %8.2f (%6.2f-%6.2f) %8.2f (%6.2f-%6.2f) %6.2fx %4ld/%-5ld %6d/%-6d %6d/%-6d\n",
			       (unsigned long long)counts[k], d.stripes, "",
			       d.t[runs / 2] * 1e3, d.t[0] * 1e3, d.t[runs - 1] * 1e3,
			       b.t[runs / 2] * 1e3, b.t[0] * 1e3, b.t[runs - 1] * 1e3,
			       b.t[runs / 2] / d.t[runs / 2], d.syscalls, b.syscalls,
			       d.vmas_setup, b.vmas_setup, d.vmas_inuse, b.vmas_inuse);
			printf("csv,setup,%llu,%u,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%ld,%ld,%d,%d,%d,%d\n",
			       (unsigned long long)counts[k], d.stripes,
			       d.t[runs / 2] * 1e3, d.t[0] * 1e3, d.t[runs - 1] * 1e3,
			       b.t[runs / 2] * 1e3, b.t[0] * 1e3, b.t[runs - 1] * 1e3,
			       d.syscalls, b.syscalls, d.vmas_setup, b.vmas_setup,
			       d.vmas_inuse, b.vmas_inuse);
		}
	}
	printf("(syscalls and VMAs: device/baseline)\n");
	return 0;
}
