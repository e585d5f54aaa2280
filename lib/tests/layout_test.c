// SPDX-License-Identifier: GPL-2.0-only
/*
 * layout_test: the slab layout engine (kmod/layout.c, compiled for
 * userspace) against the reference table of Wasmtime's own layout test, an
 * independent 128-bit oracle on random configurations, and the invariants.
 *
 * Usage: layout_test REFERENCE_TABLE [RANDOM_COUNT [SEED]]
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "layout_oracle.h"

static int tap_n;
static int tap_failed;

static void tap(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		tap_failed++;
}

static void print_in(const struct wp_layout_in *in)
{
	fprintf(stderr, "#   in: max_memory=%llu slots=%llu reservation=%llu pkeys=%llu guard=%llu before=%llu\n",
		(unsigned long long)in->max_memory_bytes,
		(unsigned long long)in->num_slots,
		(unsigned long long)in->reservation_bytes,
		(unsigned long long)in->num_pkeys,
		(unsigned long long)in->guard_bytes,
		(unsigned long long)in->guard_before_slots);
}

static int reference_table(const char *path)
{
	unsigned long long v[6], o[7];
	int lines = 0, bad = 0, errs = 0;
	char buf[512];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "# %s: %s\n", path, strerror(errno));
		tap(0, "reference table: cannot read %s", path);
		return -1;
	}
	while (fgets(buf, sizeof(buf), f)) {
		struct wp_layout_in in;
		struct wp_layout l;
		const char *why = NULL;
		char verdict[8];
		int ret, n;

		if (buf[0] == '#' || buf[0] == '\n')
			continue;
		n = sscanf(buf, "%llu %llu %llu %llu %llu %llu => %7s %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], verdict,
			   &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6]);
		if (n < 7 || (strcmp(verdict, "ok") == 0 && n != 14)) {
			fprintf(stderr, "# malformed line: %s", buf);
			bad++;
			continue;
		}
		lines++;
		in = (struct wp_layout_in){
			.max_memory_bytes = v[0], .num_slots = v[1],
			.reservation_bytes = v[2], .num_pkeys = v[3],
			.guard_bytes = v[4], .guard_before_slots = v[5],
		};
		ret = wp_layout_compute(&in, &l);
		if (strcmp(verdict, "err") == 0) {
			errs++;
			if (ret == 0)
				why = "accepted a configuration the reference refuses";
		} else if (ret) {
			why = "refused a configuration the reference accepts";
		} else if (l.num_slots != o[0] || l.slot_bytes != o[1] ||
			   l.max_memory_bytes != o[2] || l.pre_slab_guard_bytes != o[3] ||
			   l.post_slab_guard_bytes != o[4] || l.num_stripes != o[5] ||
			   l.total_bytes != o[6]) {
			why = "differs from the reference";
		} else {
			why = check_invariants(&in, &l);
		}
		if (why) {
			fprintf(stderr, "# %s: %s", why, buf);
			bad++;
		}
	}
	fclose(f);
	tap(bad == 0 && lines >= 2304,
	    "reference table: %d configurations (%d refused) match exactly, invariants hold",
	    lines, errs);
	return bad;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A size from a mix of the shapes that matter: 0, pages, powers of two,
 * realistic runtime sizes, and values near 2^64. */
static uint64_t random_size(void)
{
	static const uint64_t common[] = {
		0, 1, 4095, 4096, 4097, 65536, 655360, 1ULL << 20, 32ULL << 20,
		1ULL << 30, 2ULL << 30, 4ULL << 30, 6ULL << 30, 8ULL << 30,
		1ULL << 32, 1ULL << 47, 1ULL << 63, UINT64_MAX, UINT64_MAX - 4095,
		UINT64_MAX - 4096, UINT64_MAX / 2, UINT64_MAX / 3,
	};

	switch (rng() % 6) {
	case 0:
		return common[rng() % (sizeof(common) / sizeof(common[0]))];
	case 1:
		return (rng() % (1 << 20)) * 4096;
	case 2:
		return 1ULL << (rng() % 64);
	case 3:
		return UINT64_MAX - rng() % (1ULL << (rng() % 40));
	case 4:
		return rng() % (64ULL << 30);
	default:
		return rng() >> (rng() % 64);
	}
}

static uint64_t random_count(void)
{
	switch (rng() % 5) {
	case 0:
		return rng() % 4;
	case 1:
		return rng() % 20000;
	case 2:
		return 1ULL << (rng() % 64);
	case 3:
		return UINT64_MAX - rng() % 16;
	default:
		return rng() >> (rng() % 64);
	}
}

static int random_configs(long count, uint64_t seed)
{
	long i, ok = 0, einval = 0, eoverflow = 0, bad = 0;

	rng_state = seed;
	for (i = 0; i < count; i++) {
		struct wp_layout_in in;
		struct wp_layout l, o;
		const char *why = NULL;
		int ret, oret;

		in.max_memory_bytes = random_size();
		in.reservation_bytes = rng() % 4 ? random_size() : in.max_memory_bytes + rng() % 8192;
		if (rng() % 3 && in.max_memory_bytes > in.reservation_bytes) {
			uint64_t t = in.max_memory_bytes;

			in.max_memory_bytes = in.reservation_bytes;
			in.reservation_bytes = t;
		}
		in.guard_bytes = random_size();
		in.num_slots = random_count();
		in.num_pkeys = rng() % 4 ? rng() % 17 : random_count();
		in.guard_before_slots = rng() % 2 ? (rng() % 3 ? 1 : rng()) : 0;

		memset(&l, 0xa5, sizeof(l));
		ret = wp_layout_compute(&in, &l);
		oret = oracle(&in, &o);
		if (ret != oret)
			why = "errno differs from the 128-bit oracle";
		else if (!ret && memcmp(&l, &o, sizeof(l)))
			why = "layout differs from the 128-bit oracle";
		else if (!ret)
			why = check_invariants(&in, &l);
		if (why) {
			if (bad++ < 10) {
				fprintf(stderr, "# %s (got %d, oracle %d)\n", why, ret, oret);
				print_in(&in);
			}
		}
		if (ret == 0)
			ok++;
		else if (ret == -EINVAL)
			einval++;
		else if (ret == -EOVERFLOW)
			eoverflow++;
	}
	tap(bad == 0 && ok > count / 20 && eoverflow > 0 && einval > 0,
	    "random: %ld configurations (seed %#" PRIx64 "): %ld valid, %ld EINVAL, %ld EOVERFLOW, agree with the oracle, invariants hold",
	    count, seed, ok, einval, eoverflow);
	return bad;
}

/* Named cases whose answer is known by hand. */
static void known_cases(void)
{
	struct wp_layout_in in = {
		.max_memory_bytes = 4ULL << 30, .num_slots = 1000,
		.reservation_bytes = 4ULL << 30, .guard_bytes = 2ULL << 30,
		.num_pkeys = 15,
	};
	struct wp_layout l;
	int ret;

	/* 6 GiB faulting region over 4 GiB memories needs 2 stripes; a slot
	 * is never smaller than the memory: 4 GiB slots, 2 GiB post guard */
	ret = wp_layout_compute(&in, &l);
	tap(ret == 0 && l.num_stripes == 2 && l.slot_bytes == 4ULL << 30 &&
	    l.post_slab_guard_bytes == 2ULL << 30 &&
	    l.total_bytes == 1000 * (4ULL << 30) + (2ULL << 30),
	    "4G memories, 2G guard, 15 keys: 2 stripes of 4 GiB slots");

	in.max_memory_bytes = 64 << 20;
	in.reservation_bytes = 64 << 20;
	in.guard_bytes = 512 << 20;
	ret = wp_layout_compute(&in, &l);
	/* faulting 576 MiB / 64 MiB = 9 stripes of 64 MiB; the last slot
	 * still needs its 512 MiB after it */
	tap(ret == 0 && l.num_stripes == 9 && l.slot_bytes == 64 << 20 &&
	    l.post_slab_guard_bytes == 512 << 20 && l.stripe_stride_bytes == 576 << 20,
	    "64M memories, 512M guard, 15 keys: 9 stripes of 64 MiB");

	in.num_pkeys = 0;
	ret = wp_layout_compute(&in, &l);
	tap(ret == 0 && l.num_stripes == 1 && l.slot_bytes == 576 << 20,
	    "no keys: one stripe, slot = memory + guard");

	in.max_memory_bytes = (64 << 20) + 1;
	ret = wp_layout_compute(&in, &l);
	tap(ret == -EINVAL, "max memory above the reservation: EINVAL");

	in.max_memory_bytes = 4096;
	in.reservation_bytes = UINT64_MAX;
	ret = wp_layout_compute(&in, &l);
	tap(ret == -EOVERFLOW, "reservation rounding past 2^64: EOVERFLOW");

	in.reservation_bytes = 1ULL << 40;
	in.num_slots = 1ULL << 30;
	ret = wp_layout_compute(&in, &l);
	tap(ret == -EOVERFLOW, "total past 2^64: EOVERFLOW");
}

int main(int argc, char **argv)
{
	long count = argc > 2 ? strtol(argv[2], NULL, 0) : 500000;
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x7761736d706f6f6cULL;

	if (argc < 2) {
		fprintf(stderr, "usage: %s REFERENCE_TABLE [RANDOM_COUNT [SEED]]\n", argv[0]);
		return 2;
	}
	printf("TAP version 13\n1..8\n");
	reference_table(argv[1]);
	random_configs(count, seed);
	known_cases();
	return tap_failed ? 1 : 0;
}
