// SPDX-License-Identifier: GPL-2.0-only
/*
 * image_bench: memory images (issue 15). One cycle "instantiate from an
 * image -> read every page of the image -> write K pages (spread over the
 * image) -> free", in the same process, alternating runs (ABBA), on two
 * sides:
 *   - device: a pool in Wasmtime's default layout with one image
 *     (wasmpool_image_create()), wasmpool_slot_alloc_image() and
 *     wasmpool_slot_free();
 *   - wasmtime: Wasmtime's memory_init_cow, written here from what it does
 *     (on top of bench/baselines.h's model of its pooling allocator: same
 *     reservation, layout, affinity index, PAGEMAP_SCAN probe):
 *       the image lives in a sealed memfd (F_SEAL_SHRINK | F_SEAL_GROW |
 *       F_SEAL_WRITE); instantiation maps it MAP_PRIVATE | MAP_FIXED over
 *       the slot's first bytes unless the slot holds this image already
 *       (affinity gives the module its slot back, image still mapped), the
 *       rest of the accessible part is read-write anonymous memory; the
 *       reset of a slot that keeps its image is reset_with_pagemap(): one
 *       PAGEMAP_SCAN for pages written and present, neither the zero page
 *       nor a file's (so an image page only read is skipped, a private
 *       copy is found), at most keep_resident's worth, 32 regions; found
 *       pages inside the image get the image's bytes back (memcpy() from
 *       the module's copy of its data), those above it memset(0); from
 *       where the scan stopped to the end MADV_DONTNEED (over MAP_PRIVATE
 *       of a memfd that drops the private copies: the pages read the
 *       image again). Without the ioctl (before Linux 6.7), the fallback of
 *       reset_all_memory_contents(): MADV_DONTNEED of the image range,
 *       memset(0) above the image up to keep_resident, MADV_DONTNEED of
 *       the rest.
 * keep_resident is 1 MiB on both sides; max memory 32 MiB; a memory's
 * accessible size is twice its image, at least 1 MiB (a module's initial
 * memory is larger than its data).
 *
 * Every instance checks its reads: the first 8 bytes of every image page
 * must be the image's (the predecessor wrote its K pages there), and after
 * the timed runs one instance on each side compares the written pages
 * whole and the page above the image. Failures are counted; any makes the
 * program exit 1.
 *
 * Then "memory per extra instance of an untouched image": 16 instances of
 * a 1 MiB image held at once, each reading every page; the pages each
 * side allocated for them (device: wasmpool_stats pages_allocated and
 * resident_bytes; both: the RssAnon/RssFile/RssShmem deltas of
 * /proc/self/status, which count a shared page once per mapping of it).
 *
 * Machine-readable lines:
 *   csv,image,IMAGE_BYTES,K,ACCESSIBLE,DEV_US,DEV_MIN,DEV_MAX,WT_US,WT_MIN,
 *       WT_MAX,RATIO(wt/dev),DEV_MINFLT_PER_CYCLE,WT_MINFLT_PER_CYCLE,
 *       WT_RESET(scan|scan+madvise|fallback|mixed),DEV_COPIES_PER_CYCLE,
 *       DEV_UNMAPS_PER_CYCLE
 *   (copies: the device's image_copies, pages a write copied from the
 *   image; unmaps: its unmaps counter; both per timed cycle. The table also
 *   shows, for one untimed cycle after the timed runs, the minor faults of
 *   the reads and of the writes on each side.)
 *   csv,image_mem,N,IMAGE_BYTES,DEV_PAGES_ALLOCATED,DEV_RESIDENT_PAGES,
 *       DEV_RSSANON_KB,DEV_RSSFILE_KB,DEV_RSSSHMEM_KB,WT_RSSANON_KB,
 *       WT_RSSFILE_KB,WT_RSSSHMEM_KB
 *   csv,image_goal,WHAT,VALUE,THRESHOLD,met|not_met
 * --quick: a few rounds (make check's smoke run).
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "wasmpool.h"
#include "baselines.h"

#define PAGE		4096UL
#define MAX_MEM		(32UL << 20)
#define KEEP		(1UL << 20)
#define SLOTS		20
#define RUNS		11
#define MODULE		0
#define MEM_N		16

enum { DEV, WT, NSIDE };
static const char *const names[NSIDE] = { "device", "wasmtime" };

struct wt_image {
	struct wt_pool wt;
	int memfd;
	const char *src;		/* the module's copy of its data */
	size_t len;
	char mapped[SLOTS];		/* the slot has the image mapped */
	long scan, scan_madvise, fallback;
};

struct bench {
	struct wasmpool dev;
	uint32_t image;
	struct wt_image w;
	char *src;
	size_t len, accessible;
	int k;
	long failures;
	long copies;
	int split;		/* count the faults of reads and writes apart */
	long split_f[2];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Page i of the image starts with a word no other page has, never 0. */
static uint64_t pattern(size_t i)
{
	return 0x1badb002c0ffee00ULL ^ (i * 0x9e3779b97f4a7c15ULL) ^ 1;
}

static char *make_image(size_t len)
{
	char *m = malloc(len);
	size_t i, j;

	if (!m)
		return NULL;
	for (i = 0; i < len / PAGE; i++) {
		uint64_t *p = (uint64_t *)(m + i * PAGE);

		for (j = 0; j < PAGE / 8; j++)
			p[j] = pattern(i) + j;
	}
	return m;
}

/* The pages written: K of them, spread evenly over the image. */
static size_t written_page(const struct bench *b, int i)
{
	return (size_t)i * (b->len / PAGE) / b->k;
}

/*
 * The instance's work: read every page of the image (its first word must
 * be the image's), write K pages (first and last word).
 */
static void use(struct bench *b, char *mem)
{
	size_t n = b->len / PAGE, i;
	int j;

	if (b->split)
		b->split_f[0] -= minflt();
	for (i = 0; i < n; i++)
		if (*(volatile uint64_t *)(mem + i * PAGE) != pattern(i))
			b->failures++;
	if (b->split) {
		long f = minflt();

		b->split_f[0] += f;
		b->split_f[1] -= f;
	}
	for (j = 0; j < b->k; j++) {
		char *p = mem + written_page(b, j) * PAGE;

		*(volatile uint64_t *)p = ~0ULL;
		*(volatile uint64_t *)(p + PAGE - 8) = ~0ULL;
	}
	if (b->split)
		b->split_f[1] += minflt();
}

/* Untimed: the written pages whole, and the page above the image. */
static void check_whole(struct bench *b, const char *mem)
{
	static const char zero[PAGE];
	int j;

	for (j = 0; j < b->k; j++) {
		size_t off = written_page(b, j) * PAGE;

		if (memcmp(mem + off, b->src + off, PAGE))
			b->failures++;
	}
	if (b->accessible > b->len && memcmp(mem + b->len, zero, PAGE))
		b->failures++;
}

/* ---- Wasmtime's memory_init_cow ---------------------------------------- */

static int wti_init(struct wt_image *w, const struct wasmpool_layout *l, const char *src,
		    size_t len)
{
	int ret = wt_init(&w->wt, l, KEEP);

	if (ret)
		return ret;
	w->src = src;
	w->len = len;
	w->memfd = memfd_create("wasm-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (w->memfd < 0)
		goto fail;
	if (write(w->memfd, src, len) != (ssize_t)len)
		goto fail;
	if (fcntl(w->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE))
		goto fail;
	return 0;
fail:
	ret = errno ? -errno : -EIO;
	if (w->memfd >= 0)
		close(w->memfd);
	wt_fini(&w->wt);
	return ret;
}

static void wti_fini(struct wt_image *w)
{
	close(w->memfd);
	wt_fini(&w->wt);
}

/* MemoryPool::allocate + MemoryImageSlot::instantiate with the image. */
static int32_t wti_alloc(struct wt_image *w, size_t accessible)
{
	int32_t id = wt_alloc(&w->wt, MODULE, accessible);
	void *m;

	if (id < 0)
		return id;
	if (!w->mapped[id]) {
		m = mmap(wt_slot_addr(&w->wt, id), w->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_FIXED, w->memfd, 0);
		if (m == MAP_FAILED) {
			int err = -errno;

			wt_release(&w->wt, id);
			return err;
		}
		w->mapped[id] = 1;
	}
	return id;
}

/* clear_and_remain_ready() of a slot that keeps its image. */
static int wti_reset(struct wt_image *w, int32_t id)
{
	struct page_region regs[WT_MAX_REGIONS];
	char *base = wt_slot_addr(&w->wt, id);
	size_t len = w->wt.slots[id].accessible;
	size_t keep = KEEP < len ? KEEP : len;
	uint64_t walk_end;
	long i, n;

	if (w->wt.pagemap < 0) {
		size_t above = len - w->len;
		size_t set = keep > w->len ? keep - w->len : 0;

		w->fallback++;
		if (set > above)
			set = above;
		if (madvise(base, w->len, MADV_DONTNEED))
			return -errno;
		memset(base + w->len, 0, set);
		if (above > set && madvise(base + w->len + set, above - set, MADV_DONTNEED))
			return -errno;
		return 0;
	}
	n = wt_pagemap_scan(w->wt.pagemap, base, len, keep, regs, &walk_end);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		size_t s = regs[i].start - (uintptr_t)base, e = regs[i].end - (uintptr_t)base;
		size_t mid = e < w->len ? e : s > w->len ? s : w->len;

		if (mid > s)
			memcpy(base + s, w->src + s, mid - s);
		if (e > mid)
			memset(base + mid, 0, e - mid);
	}
	if (walk_end < (uintptr_t)base + len) {
		w->scan_madvise++;
		if (madvise((char *)(uintptr_t)walk_end, (uintptr_t)base + len - walk_end,
			    MADV_DONTNEED))
			return -errno;
	} else {
		w->scan++;
	}
	return 0;
}

static int wti_free(struct wt_image *w, int32_t id)
{
	int ret = wti_reset(w, id);

	if (ret)
		return ret;
	wt_release(&w->wt, id);
	return 0;
}

/* ---- the cycle -------------------------------------------------------- */

static int cycle(struct bench *b, int side, int check)
{
	if (side == DEV) {
		struct wasmpool_slot_alloc a;
		int ret = wasmpool_slot_alloc_image(&b->dev, b->accessible, b->image, &a);

		if (ret)
			return ret;
		if (check)
			check_whole(b, b->dev.base + a.offset);
		use(b, b->dev.base + a.offset);
		return wasmpool_slot_free(&b->dev, a.slot);
	} else {
		int32_t id = wti_alloc(&b->w, b->accessible);

		if (id < 0)
			return id;
		if (check)
			check_whole(b, wt_slot_addr(&b->w.wt, id));
		use(b, wt_slot_addr(&b->w.wt, id));
		return wti_free(&b->w, id);
	}
}

static const char *wt_kind(const struct wt_image *w)
{
	int kinds = !!w->scan + !!w->scan_madvise + !!w->fallback;

	if (kinds > 1)
		return "mixed";
	return w->scan ? "scan" : w->scan_madvise ? "scan+madvise" : "fallback";
}

static int setup(struct bench *b, size_t len, int k)
{
	struct wasmpool_configure cfg = {
		.flags = BENCH_LAYOUT_FLAGS,
		.max_memory_bytes = MAX_MEM,
		.reservation_bytes = BENCH_RESERVATION,
		.guard_bytes = BENCH_GUARD,
		.num_slots = SLOTS,
		.keep_resident_bytes = KEEP,
	};
	int ret;

	memset(b, 0, sizeof(*b));
	b->len = len;
	b->k = k;
	b->accessible = 2 * len < (1UL << 20) ? 1UL << 20 : 2 * len;
	if (b->accessible > MAX_MEM)
		b->accessible = MAX_MEM;
	b->src = make_image(len);
	if (!b->src)
		return -ENOMEM;
	ret = wasmpool_create(&b->dev, &cfg);
	if (ret)
		goto free_src;
	ret = wasmpool_image_create(&b->dev, b->src, len, &b->image);
	if (ret)
		goto destroy;
	ret = wti_init(&b->w, &b->dev.layout, b->src, len);
	if (ret)
		goto destroy;
	return 0;
destroy:
	wasmpool_destroy(&b->dev);
free_src:
	free(b->src);
	return ret;
}

static void teardown(struct bench *b)
{
	wti_fini(&b->w);
	wasmpool_destroy(&b->dev);
	free(b->src);
}

struct row {
	size_t len;
	int k;
	double med[NSIDE], ratio;
};

static int run_row(struct row *row, int quick, long *failures)
{
	static struct bench b;
	int runs = quick ? 3 : RUNS;
	size_t npages = row->len / PAGE;
	int cycles = quick ? 2 : npages >= 4096 ? 10 : npages >= 256 ? 100 : 1000;
	double t[NSIDE][RUNS];
	long flt[NSIDE] = { 0 };
	uint64_t copies0 = 0, unmaps0 = 0;
	long split[NSIDE][2];
	double unmaps = 0;
	struct wasmpool_stats st;
	int r, i, s, side, ret;

	ret = setup(&b, row->len, row->k);
	if (ret) {
		fprintf(stderr, "image_bench: setup, image %zu: %s\n", row->len, strerror(-ret));
		return ret;
	}
	/* warm both: the slot holds the image, kept pages exist */
	for (i = 0; i < (quick ? 1 : 3); i++)
		for (side = 0; side < NSIDE; side++)
			if ((ret = cycle(&b, side, 0)))
				goto failed;
	b.w.scan = b.w.scan_madvise = b.w.fallback = 0;
	if (!wasmpool_stats(&b.dev, &st)) {
		copies0 = st.image_copies;
		unmaps0 = st.unmaps;
	}
	for (r = 0; r < runs; r++) {
		for (s = 0; s < NSIDE; s++) {
			double t0;
			long f0;

			side = r % 2 ? NSIDE - 1 - s : s;	/* A B, B A, ... */
			f0 = minflt();
			t0 = now();
			for (i = 0; i < cycles; i++)
				if ((ret = cycle(&b, side, 0)))
					goto failed;
			t[side][r] = (now() - t0) / cycles * 1e6;
			flt[side] += minflt() - f0;
		}
	}
	if (!wasmpool_stats(&b.dev, &st))
		b.copies = st.image_copies - copies0;
	if (!wasmpool_stats(&b.dev, &st))
		unmaps = (double)(st.unmaps - unmaps0) / (runs * cycles);
	/* untimed: one more cycle each, whole pages compared, faults split */
	b.split = 1;
	for (side = 0; side < NSIDE; side++) {
		b.split_f[0] = b.split_f[1] = 0;
		if ((ret = cycle(&b, side, 1)))
			goto failed;
		split[side][0] = b.split_f[0];
		split[side][1] = b.split_f[1];
	}
	b.split = 0;
	for (side = 0; side < NSIDE; side++) {
		qsort(t[side], runs, sizeof(double), cmp_double);
		row->med[side] = t[side][runs / 2];
	}
	row->ratio = row->med[WT] / row->med[DEV];
	printf("%-8zu %-3d %-9zu %9.1f (%8.1f-%8.1f) %9.1f (%8.1f-%8.1f) %6.2fx %8.2f %8.2f %7.2f %7.2f  %-6s %ld+%ld, %ld+%ld%s\n",
	       row->len, row->k, b.accessible, row->med[DEV], t[DEV][0], t[DEV][runs - 1],
	       row->med[WT], t[WT][0], t[WT][runs - 1], row->ratio,
	       (double)flt[DEV] / (runs * cycles), (double)flt[WT] / (runs * cycles),
	       (double)b.copies / (runs * cycles), unmaps, wt_kind(&b.w),
	       split[DEV][0], split[DEV][1], split[WT][0], split[WT][1],
	       b.failures ? "  CHECK FAILURES" : "");
	printf("csv,image,%zu,%d,%zu,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.3f,%.2f,%.2f,%s,%.2f,%.2f\n",
	       row->len, row->k, b.accessible, row->med[DEV], t[DEV][0], t[DEV][runs - 1],
	       row->med[WT], t[WT][0], t[WT][runs - 1], row->ratio,
	       (double)flt[DEV] / (runs * cycles), (double)flt[WT] / (runs * cycles),
	       wt_kind(&b.w), (double)b.copies / (runs * cycles), unmaps);
	if (b.failures)
		fprintf(stderr, "image_bench: image %zu, K %d: %ld reads did not see the image\n",
			row->len, row->k, b.failures);
	*failures += b.failures;
	teardown(&b);
	return 0;
failed:
	fprintf(stderr, "image_bench: %s, image %zu, K %d: %s\n", names[side], row->len, row->k,
		strerror(-ret));
	teardown(&b);
	return ret;
}

/* ---- memory per extra instance --------------------------------------- */

struct rss {
	long anon, file, shmem;		/* kB */
};

static void read_rss(struct rss *r)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];

	memset(r, 0, sizeof(*r));
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "RssAnon: %ld", &r->anon);
		sscanf(line, "RssFile: %ld", &r->file);
		sscanf(line, "RssShmem: %ld", &r->shmem);
	}
	fclose(f);
}

static int memory_table(long *failures, uint64_t *dev_pages)
{
	static struct bench b;
	struct wasmpool_slot_alloc a[MEM_N];
	struct wasmpool_stats s0, s1;
	struct rss r0, r1, d[NSIDE];
	int32_t ids[MEM_N];
	int i, ret;

	ret = setup(&b, 1UL << 20, 1);
	if (ret) {
		fprintf(stderr, "image_bench: memory: setup: %s\n", strerror(-ret));
		return ret;
	}
	b.k = 0;	/* read only */
	if ((ret = wasmpool_stats(&b.dev, &s0)))
		goto out;
	read_rss(&r0);
	for (i = 0; i < MEM_N; i++) {
		if ((ret = wasmpool_slot_alloc_image(&b.dev, b.accessible, b.image, &a[i])))
			goto out;
		use(&b, b.dev.base + a[i].offset);
	}
	read_rss(&r1);
	if ((ret = wasmpool_stats(&b.dev, &s1)))
		goto out;
	d[DEV] = (struct rss){ r1.anon - r0.anon, r1.file - r0.file, r1.shmem - r0.shmem };
	for (i = 0; i < MEM_N; i++)
		if ((ret = wasmpool_slot_free(&b.dev, a[i].slot)))
			goto out;
	read_rss(&r0);
	for (i = 0; i < MEM_N; i++) {
		ids[i] = wti_alloc(&b.w, b.accessible);
		if (ids[i] < 0) {
			ret = ids[i];
			goto out;
		}
		use(&b, wt_slot_addr(&b.w.wt, ids[i]));
	}
	read_rss(&r1);
	d[WT] = (struct rss){ r1.anon - r0.anon, r1.file - r0.file, r1.shmem - r0.shmem };
	for (i = 0; i < MEM_N; i++)
		if ((ret = wti_free(&b.w, ids[i])))
			goto out;
	*dev_pages = s1.pages_allocated - s0.pages_allocated;
	printf("\nmemory: %d instances of a 1 MiB image held at once, each read every page\n",
	       MEM_N);
	printf("  device:   pages_allocated +%llu, resident_bytes +%lld (%lld pages); "
	       "RssAnon %+ld kB, RssFile %+ld kB, RssShmem %+ld kB\n",
	       (unsigned long long)*dev_pages,
	       (long long)(s1.resident_bytes - s0.resident_bytes),
	       (long long)(s1.resident_bytes - s0.resident_bytes) / (long long)PAGE,
	       d[DEV].anon, d[DEV].file, d[DEV].shmem);
	printf("  wasmtime: RssAnon %+ld kB, RssFile %+ld kB, RssShmem %+ld kB "
	       "(RssFile/RssShmem count the memfd's shared pages once per mapping)\n",
	       d[WT].anon, d[WT].file, d[WT].shmem);
	printf("csv,image_mem,%d,%zu,%llu,%lld,%ld,%ld,%ld,%ld,%ld,%ld\n", MEM_N, b.len,
	       (unsigned long long)*dev_pages,
	       (long long)(s1.resident_bytes - s0.resident_bytes) / (long long)PAGE,
	       d[DEV].anon, d[DEV].file, d[DEV].shmem, d[WT].anon, d[WT].file, d[WT].shmem);
	if (b.failures)
		fprintf(stderr, "image_bench: memory: %ld reads did not see the image\n",
			b.failures);
	*failures += b.failures;
out:
	if (ret)
		fprintf(stderr, "image_bench: memory: %s\n", strerror(-ret));
	teardown(&b);
	return ret;
}

static int goal(const char *what, double value, double threshold, int at_least)
{
	int met = at_least ? value >= threshold : value <= threshold;

	printf("goal: %-44s %8.2f %s %-5.2f %s\n", what, value, at_least ? ">=" : "<=",
	       threshold, met ? "met" : "NOT met");
	printf("csv,image_goal,%s,%.3f,%.3f,%s\n", what, value, threshold, met ? "met" : "not_met");
	return met;
}

int main(int argc, char **argv)
{
	static const size_t lens[] = { 64UL << 10, 1UL << 20, 16UL << 20 };
	static const int ks[] = { 1, 16 };
	struct row rows[6];
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	long failures = 0;
	uint64_t dev_pages = 0;
	unsigned int i, n = 0;
	double worst_small = 1e9, worst_all = 1e9;
	int pagemap_err;
	int fd;

	if (argc > 1 && !quick) {
		fprintf(stderr, "usage: image_bench [--quick]\n");
		return 2;
	}
	fd = wt_pagemap_probe(&pagemap_err);
	printf("wasmtime: %s\n", fd >= 0 ? "PAGEMAP_SCAN available: reset_with_pagemap()" :
	       "PAGEMAP_SCAN missing: reset_all_memory_contents() without it (MADV_DONTNEED of the image)");
	if (fd >= 0)
		close(fd);
	printf("cycle: alloc with image -> read every image page -> write K pages -> free; "
	       "keep_resident %lu KiB both sides; us per cycle, median of %d (min-max); "
	       "faults = minor faults per cycle\n", KEEP >> 10, quick ? 3 : RUNS);
	printf("%-8s %-3s %-9s %29s %29s %7s %8s %8s %7s %7s  %-6s %s\n", "image", "K",
	       "accessible", "device us (min-max)", "wasmtime us (min-max)", "ratio", "dev flt",
	       "wt flt", "copies", "unmaps", "wt rst", "faults read+write dev, wt (1 cycle)");
	for (i = 0; i < 3; i++) {
		unsigned int j;

		for (j = 0; j < 2; j++) {
			rows[n].len = lens[i];
			rows[n].k = ks[j];
			if (run_row(&rows[n], quick, &failures))
				return 1;
			n++;
		}
	}
	if (memory_table(&failures, &dev_pages))
		return 1;
	for (i = 0; i < n; i++) {
		if (rows[i].len <= (1UL << 20) && rows[i].ratio < worst_small)
			worst_small = rows[i].ratio;
		if (rows[i].ratio < worst_all)
			worst_all = rows[i].ratio;
	}
	printf("\n");
	goal("64KiB/1MiB images, K 1-16: worst wt/dev", worst_small, 1.3, 1);
	goal("every row: worst wt/dev", worst_all, 1.0, 1);
	goal("device pages per 16 untouched instances", (double)dev_pages, 0, 0);
	if (failures) {
		printf("image_bench: %ld CHECK FAILURES: an instance did not read its image\n",
		       failures);
		return 1;
	}
	printf("image_bench: every instance read its image (0 check failures)\n");
	return 0;
}
