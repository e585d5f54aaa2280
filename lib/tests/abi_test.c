// SPDX-License-Identifier: GPL-2.0-only
/*
 * A program linked against libwasmpool 0.1 passes the structures of 0.1:
 * the LIBWASMPOOL_0.1 versions of the functions whose structures grew in
 * 0.2 must write no byte past 0.1's size, and the 0.2 versions fill the
 * whole structure. Needs no device: the ioctl fails on /dev/null after the
 * library has filled in the structure. The embedder's helpers of 0.3 are
 * there under LIBWASMPOOL_0.3 (checked on a layout made up here). The
 * structures grew again in 0.4: the LIBWASMPOOL_0.2 versions (what
 * programs linked against 0.2 and 0.3 call) write no byte past 0.2's
 * size, and the image calls of 0.4 are under LIBWASMPOOL_0.4.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wasmpool.h"

__asm__(".symver wp01_slot_alloc, wasmpool_slot_alloc@LIBWASMPOOL_0.1");
__asm__(".symver wp01_slot_alloc_stripe, wasmpool_slot_alloc_stripe@LIBWASMPOOL_0.1");
__asm__(".symver wp01_stats, wasmpool_stats@LIBWASMPOOL_0.1");
__asm__(".symver wp02_slot_alloc, wasmpool_slot_alloc@LIBWASMPOOL_0.2");
__asm__(".symver wp02_slot_alloc_stripe, wasmpool_slot_alloc_stripe@LIBWASMPOOL_0.2");
__asm__(".symver wp02_slot_alloc_affinity, wasmpool_slot_alloc_affinity@LIBWASMPOOL_0.2");
__asm__(".symver wp02_stats, wasmpool_stats@LIBWASMPOOL_0.2");
__asm__(".symver wp04_image_create, wasmpool_image_create@LIBWASMPOOL_0.4");
__asm__(".symver wp04_image_create_fd, wasmpool_image_create_fd@LIBWASMPOOL_0.4");
__asm__(".symver wp04_image_release, wasmpool_image_release@LIBWASMPOOL_0.4");
__asm__(".symver wp04_slot_alloc_image, wasmpool_slot_alloc_image@LIBWASMPOOL_0.4");
int wp02_slot_alloc(struct wasmpool *pool, uint64_t bytes, struct wasmpool_slot_alloc *slot);
int wp02_slot_alloc_stripe(struct wasmpool *pool, uint64_t bytes, uint32_t stripe,
			   struct wasmpool_slot_alloc *slot);
int wp02_slot_alloc_affinity(struct wasmpool *pool, uint64_t bytes, uint64_t key,
			     struct wasmpool_slot_alloc *slot);
int wp02_stats(struct wasmpool *pool, struct wasmpool_stats *stats);
int wp04_image_create(struct wasmpool *pool, const void *addr, uint64_t len, uint32_t *id);
int wp04_image_create_fd(struct wasmpool *pool, int fd, uint64_t off, uint64_t len, uint32_t *id);
int wp04_image_release(struct wasmpool *pool, uint32_t id);
int wp04_slot_alloc_image(struct wasmpool *pool, uint64_t bytes, uint32_t image,
			  struct wasmpool_slot_alloc *slot);
__asm__(".symver wp03_guard_reach, wasmpool_guard_reach@LIBWASMPOOL_0.3");
__asm__(".symver wp03_fault_classify_signal, wasmpool_fault_classify_signal@LIBWASMPOOL_0.3");
uint64_t wp03_guard_reach(const struct wasmpool *pool, unsigned int flags);
int wp03_fault_classify_signal(const struct wasmpool *pool, const siginfo_t *si,
			       struct wasmpool_fault *fault);
int wp01_slot_alloc(struct wasmpool *pool, uint64_t bytes, struct wasmpool_slot_alloc *slot);
int wp01_slot_alloc_stripe(struct wasmpool *pool, uint64_t bytes, uint32_t stripe,
			   struct wasmpool_slot_alloc *slot);
int wp01_stats(struct wasmpool *pool, struct wasmpool_stats *stats);

#define SIZE_0_1(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))
#define CANARY 0xa5

static int n, failed;

static void ok(int cond, const char *what)
{
	n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, what);
	failed += !cond;
}

/* The call wrote size @size (as its first field) and nothing past @size. */
static int wrote_exactly(const unsigned char *p, size_t size, size_t total)
{
	uint32_t got;
	size_t i;

	memcpy(&got, p, sizeof(got));
	if (got != size)
		return 0;
	for (i = size; i < total; i++)
		if (p[i] != CANARY)
			return 0;
	return 1;
}

int main(void)
{
	struct wasmpool pool = { .fd = open("/dev/null", O_RDWR | O_CLOEXEC) };
	size_t alloc01 = SIZE_0_1(struct wasmpool_slot_alloc, address);
	size_t stats01 = SIZE_0_1(struct wasmpool_stats, address);
	size_t alloc02 = SIZE_0_1(struct wasmpool_slot_alloc, __reserved);
	size_t stats02 = SIZE_0_1(struct wasmpool_stats, faults_vma_locked);
	union {
		struct wasmpool_slot_alloc a;
		struct wasmpool_stats st;
		unsigned char b[512];
	} u;
	uint32_t ids[2] = { 0, 1 };

	printf("TAP version 13\n1..20\n");
	if (pool.fd < 0) {
		perror("/dev/null");
		return 1;
	}
	memset(&u, CANARY, sizeof(u));
	wp01_slot_alloc(&pool, 4096, &u.a);
	ok(wrote_exactly(u.b, alloc01, sizeof(u)), "wasmpool_slot_alloc@LIBWASMPOOL_0.1 writes 0.1's size");
	memset(&u, CANARY, sizeof(u));
	wp01_slot_alloc_stripe(&pool, 4096, 0, &u.a);
	ok(wrote_exactly(u.b, alloc01, sizeof(u)), "wasmpool_slot_alloc_stripe@LIBWASMPOOL_0.1 writes 0.1's size");
	memset(&u, CANARY, sizeof(u));
	wp01_stats(&pool, &u.st);
	ok(wrote_exactly(u.b, stats01, sizeof(u)), "wasmpool_stats@LIBWASMPOOL_0.1 writes 0.1's size");
	memset(&u, CANARY, sizeof(u));
	wasmpool_slot_alloc(&pool, 4096, &u.a);
	ok(wrote_exactly(u.b, sizeof(u.a), sizeof(u)), "wasmpool_slot_alloc fills the whole structure");
	memset(&u, CANARY, sizeof(u));
	wasmpool_slot_alloc_affinity(&pool, 4096, 7, &u.a);
	ok(wrote_exactly(u.b, sizeof(u.a), sizeof(u)) && u.a.affinity == 7 &&
	   u.a.flags == WASMPOOL_SLOT_ALLOC_AFFINITY, "wasmpool_slot_alloc_affinity passes the key");
	memset(&u, CANARY, sizeof(u));
	wasmpool_stats(&pool, &u.st);
	ok(wrote_exactly(u.b, sizeof(u.st), sizeof(u)), "wasmpool_stats fills the whole structure");
	memset(&u, CANARY, sizeof(u));
	wp02_slot_alloc(&pool, 4096, &u.a);
	ok(wrote_exactly(u.b, alloc02, sizeof(u)), "wasmpool_slot_alloc@LIBWASMPOOL_0.2 writes 0.2's size");
	memset(&u, CANARY, sizeof(u));
	wp02_slot_alloc_stripe(&pool, 4096, 0, &u.a);
	ok(wrote_exactly(u.b, alloc02, sizeof(u)), "wasmpool_slot_alloc_stripe@LIBWASMPOOL_0.2 writes 0.2's size");
	memset(&u, CANARY, sizeof(u));
	wp02_slot_alloc_affinity(&pool, 4096, 7, &u.a);
	ok(wrote_exactly(u.b, alloc02, sizeof(u)) && u.a.affinity == 7,
	   "wasmpool_slot_alloc_affinity@LIBWASMPOOL_0.2 writes 0.2's size");
	memset(&u, CANARY, sizeof(u));
	wp02_stats(&pool, &u.st);
	ok(wrote_exactly(u.b, stats02, sizeof(u)), "wasmpool_stats@LIBWASMPOOL_0.2 writes 0.2's size");
	memset(&u, CANARY, sizeof(u));
	wp04_slot_alloc_image(&pool, 4096, 3, &u.a);
	ok(wrote_exactly(u.b, sizeof(u.a), sizeof(u)) && u.a.image == 3 &&
	   u.a.flags == WASMPOOL_SLOT_ALLOC_IMAGE,
	   "wasmpool_slot_alloc_image@LIBWASMPOOL_0.4 passes the image");
	{
		uint32_t id = 77;

		ok(wp04_image_create(&pool, u.b, 4096, &id) == -ENOTTY && id == 77,
		   "wasmpool_image_create@LIBWASMPOOL_0.4 issues the ioctl, leaves the id");
		ok(wp04_image_create_fd(&pool, 0, 0, 4096, &id) == -ENOTTY && id == 77,
		   "wasmpool_image_create_fd@LIBWASMPOOL_0.4 issues the ioctl");
		ok(wp04_image_release(&pool, 1) == -ENOTTY,
		   "wasmpool_image_release@LIBWASMPOOL_0.4 issues the ioctl");
	}
	/* /dev/null answers every ioctl with ENOTTY: the call was made */
	ok(wasmpool_slot_free_batch(&pool, ids, 2) == -ENOTTY, "wasmpool_slot_free_batch issues the ioctl");
	ok(wasmpool_slot_free_batch(&pool, ids, 0) == 0, "wasmpool_slot_free_batch of none is a no-op");
	ok(wasmpool_slot_free_batch(&pool, ids, WASMPOOL_FREE_BATCH_MAX + 1) == -EINVAL,
	   "wasmpool_slot_free_batch above the maximum: EINVAL");
	close(pool.fd);

	{
		struct wasmpool p = { .fd = -1, .base = (char *)(1ULL << 40) };
		struct wasmpool_fault f;
		siginfo_t si = { .si_signo = SIGBUS };
		uint32_t slot;

		p.layout.num_slots = 4;
		p.layout.num_stripes = 2;
		p.layout.slot_bytes = 1 << 20;
		p.layout.max_memory_bytes = 1 << 20;
		p.layout.post_slab_guard_bytes = 1 << 20;
		p.layout.total_bytes = 5 << 20;
		ok(wp03_guard_reach(&p, 0) == 1 << 20 &&
		   wp03_guard_reach(&p, WASMPOOL_REACH_OWN_STRIPE) == 2 << 20,
		   "wasmpool_guard_reach@LIBWASMPOOL_0.3: the next slot, the next of the stripe");
		si.si_addr = p.base + (3 << 20) + 5;
		ok(wp03_fault_classify_signal(&p, &si, &f) == WASMPOOL_FAULT_RESIDENT_LIMIT &&
		   f.slot == 3 && f.offset == 5,
		   "wasmpool_fault_classify_signal@LIBWASMPOOL_0.3: SIGBUS in slot 3");
		ok(wasmpool_slot_of(&p, p.base + (2 << 20) + 7, &slot) == 0 && slot == 2 &&
		   wasmpool_slot_of(&p, p.base + (4 << 20), &slot) == -ENOENT,
		   "wasmpool_slot_of: slot 2; the post-slab guard is no slot");
	}
	return failed != 0;
}
