// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib_test: libwasmpool against the real device, built with ASan and UBSan
 * (make check runs it in the VM): every call returns 0 or -errno and leaves
 * errno alone, create/destroy leak nothing, slot calls, the fault
 * classifiers (a real resident-limit SIGBUS among them), the PKRU helpers,
 * the embedder's helpers (address to slot, guard reach against real
 * faults, entering a stripe after a trap), and the userspace layout equal
 * to the kernel's.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wasmpool.h"

static int n, failed;

static void tap(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failed += !ok;
}

#define SENTINEL 4242

static sigjmp_buf env;
static siginfo_t fault_si;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fault_si = *si;
	siglongjmp(env, 1);
}

static int faults(volatile char *p)
{
	if (sigsetjmp(env, 1))
		return 1;
	*p = 1;
	return 0;
}

static int reads_fault(volatile char *p)
{
	if (sigsetjmp(env, 1))
		return 1;
	(void)*p;
	return 0;
}

/* Oracle of wasmpool_guard_reach(): slot by slot, the way to the next slot
 * the thread can reach (@k slots on), or to the end of the mapping. */
static uint64_t reach_oracle(const struct wasmpool *pool, uint32_t k)
{
	const struct wasmpool_layout *l = &pool->layout;
	uint64_t best = UINT64_MAX, r;
	uint32_t i;

	for (i = 0; i < l->num_slots; i++) {
		char *end = i + k < l->num_slots ? (char *)wasmpool_slot_addr(pool, i + k)
						 : pool->base + l->total_bytes;

		r = (uint64_t)(end - (char *)wasmpool_slot_addr(pool, i));
		best = r < best ? r : best;
	}
	return best;
}

static int write_sysfs(const char *name, const char *value)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/misc/wasmpool/%s", name);
	f = fopen(path, "w");
	if (!f)
		return 0;
	ok = fputs(value, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* The embedder's helpers of 0.3 on @pool, whose slot @a is allocated with
 * 4 KiB accessible. */
static void embedder_helpers(struct wasmpool *pool, const struct wasmpool_slot_alloc *a)
{
	const struct wasmpool_layout *l = &pool->layout;
	uint32_t k = l->num_stripes > 1 ? l->num_stripes : 1;
	uint64_t reach, reach_own;
	struct wasmpool_slot_alloc b;
	struct wasmpool_fault f;
	uint32_t i, s, pkru;
	siginfo_t si;
	int ok;

	for (i = 0, ok = 1; i < l->num_slots; i++) {
		char *p = wasmpool_slot_addr(pool, i);

		ok &= wasmpool_slot_of(pool, p, &s) == 0 && s == i;
		ok &= wasmpool_slot_of(pool, p + l->slot_bytes - 1, &s) == 0 && s == i;
	}
	ok &= wasmpool_slot_of(pool, pool->base + l->total_bytes, &s) == -ENOENT;
	ok &= wasmpool_slot_of(pool, pool->base - 1, &s) == -ENOENT;
	ok &= wasmpool_slot_of(pool, (char *)wasmpool_slot_addr(pool, l->num_slots), &s) == -ENOENT;
	tap(ok, "slot_of: the inverse of slot_addr for every byte of every slot, -ENOENT outside");

	reach = wasmpool_guard_reach(pool, 0);
	reach_own = wasmpool_guard_reach(pool, WASMPOOL_REACH_OWN_STRIPE);
	tap(reach == reach_oracle(pool, 1) && reach_own == reach_oracle(pool, k),
	    "guard_reach: %llu MiB for any thread, %llu MiB in its own stripe, as slot by slot",
	    (unsigned long long)reach >> 20, (unsigned long long)reach_own >> 20);
	tap(wasmpool_guards_cover(pool, reach_own, WASMPOOL_REACH_OWN_STRIPE) &&
	    !wasmpool_guards_cover(pool, reach_own + 1, WASMPOOL_REACH_OWN_STRIPE),
	    "guards_cover: up to the reach, not a byte more");

	/* The reach against real faults, in the thread's own stripe. */
	if (a->slot + k < l->num_slots &&
	    wasmpool_slot_alloc_stripe(pool, 4096, a->stripe, &b) == 0 && b.slot != a->slot) {
		char *p = (char *)(uintptr_t)a->address;
		uint64_t off[] = { 4096, l->max_memory_bytes, l->slot_bytes - 1, reach_own / 2,
				   reach_own - 1 };

		/* b must be the next slot of the stripe for the reach to be tight */
		ok = 1;
		for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
			wasmpool_pkru_enter(pool, a->slot);
			ok &= off[i] >= reach_own || reads_fault(p + off[i]);
		}
		wasmpool_pkru_enter(pool, a->slot);
		if (b.slot == a->slot + k && reach_own == (uint64_t)k * l->slot_bytes)
			ok &= !reads_fault(p + reach_own);
		tap(ok, "every byte tried from 4 KiB up to the reach faults in the own stripe");
		wasmpool_slot_free(pool, b.slot);
	} else {
		tap(1, "# SKIP no second slot of the stripe to bound the reach with");
	}

	/* After a trap the handler's PKRU is left: entering opens the stripe. */
	if (l->num_stripes > 1) {
		faults((char *)(uintptr_t)a->address + 4096);	/* PKRU now the handler's */
		pkru = wasmpool_pkru_read();
		ok = wasmpool_pkru_enter(pool, a->slot) == pkru;
		ok &= !faults((char *)(uintptr_t)a->address);
		wasmpool_pkru_enter(pool, a->slot);
		ok &= faults((char *)wasmpool_slot_addr(pool, (a->slot + 1) % l->num_slots)) &&
		      fault_si.si_code == SEGV_PKUERR;
		wasmpool_pkru_enter(pool, a->slot);
		tap(ok, "pkru_enter after a trap: own stripe open, the next stripe's slot a key fault");
	} else {
		tap(wasmpool_pkru_enter(pool, a->slot) == 0, "pkru_enter without stripes: nothing to do");
	}

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = BUS_ADRERR;
	si.si_addr = (char *)(uintptr_t)a->address + 8192;
	ok = wasmpool_fault_classify_signal(pool, &si, &f) == WASMPOOL_FAULT_RESIDENT_LIMIT &&
	     f.slot == a->slot && f.offset == 8192;
	si.si_addr = pool->base + l->total_bytes;
	ok &= wasmpool_fault_classify_signal(pool, &si, &f) == WASMPOOL_FAULT_OUTSIDE;
	si.si_signo = SIGILL;
	si.si_addr = (char *)(uintptr_t)a->address;
	ok &= wasmpool_fault_classify_signal(pool, &si, &f) == WASMPOOL_FAULT_OUTSIDE;
	si.si_signo = SIGSEGV;
	si.si_code = SEGV_ACCERR;
	si.si_addr = (char *)(uintptr_t)a->address + 4096;
	ok &= wasmpool_fault_classify_signal(pool, &si, &f) == WASMPOOL_FAULT_SLOT_MEMORY;
	tap(ok, "fault_classify_signal: SIGBUS in a slot is the resident limit, elsewhere outside");
}

/* A real SIGBUS at a pool's resident limit (root: the sysfs limit). */
/* 0.4: memory images from memory and from a memfd; a slot starts as one. */
static void images(struct wasmpool *pool)
{
	static char img[2 * 4096];
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	uint32_t id, id2;
	int ok, mfd;

	memset(img, 'i', sizeof(img));
	img[4096] = 'j';
	errno = SENTINEL;
	ok = wasmpool_image_create(pool, img, sizeof(img), &id) == 0 && id != 0 &&
	     errno == SENTINEL;
	tap(ok, "image_create: image %u", id);
	if (!ok)
		return;
	ok = wasmpool_slot_alloc_image(pool, 4096, id, &a) == -EINVAL;
	tap(ok, "slot_alloc_image below the image's length: -EINVAL");
	ok = wasmpool_slot_alloc_image(pool, 3 * 4096, id, &a) == 0;
	if (ok && pool->layout.num_stripes > 1)
		wasmpool_pkru_write(wasmpool_pkru_allow_pool(pool, wasmpool_pkru_read()));
	ok = ok && ((char *)(uintptr_t)a.address)[0] == 'i' &&
	     ((char *)(uintptr_t)a.address)[4096] == 'j' &&
	     ((char *)(uintptr_t)a.address)[8192] == 0;
	tap(ok, "slot_alloc_image: the slot reads the image, then zero");
	if (ok) {
		((char *)(uintptr_t)a.address)[0] = 'w';
		ok = wasmpool_slot_reset(pool, a.slot, 3 * 4096) == 0 &&
		     ((char *)(uintptr_t)a.address)[0] == 'i';
		tap(ok, "slot_reset gives the image back");
		wasmpool_slot_free(pool, a.slot);
	}
	ok = wasmpool_stats(pool, &st) == 0 && st.images == 1 && st.image_bytes == sizeof(img);
	tap(ok, "stats: one image of 8 KiB");
	errno = SENTINEL;
	ok = wasmpool_image_release(pool, id) == 0 && wasmpool_image_release(pool, id) == -ENOENT &&
	     wasmpool_image_release(pool, id + 100) == -EINVAL && errno == SENTINEL;
	tap(ok, "image_release; twice: -ENOENT; never given out: -EINVAL");
	mfd = memfd_create("img", MFD_CLOEXEC);
	ok = mfd >= 0 && write(mfd, img, sizeof(img)) == sizeof(img) &&
	     wasmpool_image_create_fd(pool, mfd, 4096, 4096, &id2) == 0 && id2 > id &&
	     wasmpool_image_create_fd(pool, -1, 0, 4096, &id) == -EBADF;
	tap(ok, "image_create_fd: from a memfd at an offset; a bad fd: -EBADF");
	if (mfd >= 0)
		close(mfd);
	ok = wasmpool_slot_alloc_image(pool, 4096, id2, &a) == 0 &&
	     ((char *)(uintptr_t)a.address)[0] == 'j';
	tap(ok, "the slot reads the file's second page");
	if (ok)
		wasmpool_slot_free(pool, a.slot);
	wasmpool_image_release(pool, id2);
}

static void resident_limit_sigbus(struct wasmpool_configure cfg)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_fault f;
	struct wasmpool pool;
	char old[32] = "";
	FILE *fp;
	int ok, i;

	fp = fopen("/sys/class/misc/wasmpool/max_resident_bytes_per_pool", "r");
	if (!fp || !fgets(old, sizeof(old), fp) || geteuid()) {
		if (fp)
			fclose(fp);
		tap(1, "# SKIP resident-limit SIGBUS: needs root and the module's sysfs");
		return;
	}
	fclose(fp);
	cfg.pkey_mode = WASMPOOL_PKEYS_OFF;
	ok = write_sysfs("max_resident_bytes_per_pool", "65536");
	ok &= wasmpool_create(&pool, &cfg) == 0;	/* the limit is read here */
	write_sysfs("max_resident_bytes_per_pool", old);
	if (!ok) {
		tap(0, "resident-limit SIGBUS: pool with a 64 KiB limit");
		return;
	}
	ok = wasmpool_slot_alloc(&pool, 1 << 20, &a) == 0;
	for (i = 0; ok && i < 16; i++)
		ok &= !faults((char *)(uintptr_t)a.address + i * 4096);
	ok &= faults((char *)(uintptr_t)a.address + 16 * 4096) && fault_si.si_signo == SIGBUS;
	ok &= wasmpool_fault_classify_signal(&pool, &fault_si, &f) == WASMPOOL_FAULT_RESIDENT_LIMIT &&
	      f.slot == a.slot && f.offset == 16 * 4096;
	tap(ok, "a touch beyond the resident limit: SIGBUS, classified as the limit");
	wasmpool_destroy(&pool);
}

int main(void)
{
	struct wasmpool_configure cfg = {
		.max_memory_bytes = 1 << 20,
		.reservation_bytes = 1 << 20,
		.guard_bytes = 3 << 20,
		.num_slots = 16,
		.keep_resident_bytes = 64 << 10,
		.pkey_mode = WASMPOOL_PKEYS_AUTO,
	};
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	struct wasmpool_slot_alloc a, b;
	struct wasmpool_layout_cmd lc;
	struct wasmpool_fault f;
	struct wasmpool_stats st;
	struct wasmpool pool;
	int ret, ok, i;

	printf("TAP version 13\n");
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	errno = SENTINEL;
	ret = wasmpool_open(1);
	tap(ret == -EINVAL && errno == SENTINEL, "wasmpool_open(bad flags): -EINVAL, errno untouched");

	errno = SENTINEL;
	ret = wasmpool_create(&pool, &cfg);
	tap(ret == 0 && errno == SENTINEL, "wasmpool_create: 0, errno untouched (%d)", ret);
	if (ret) {
		printf("1..%d\n", n);
		return 1;
	}
	tap(pool.layout.num_slots == 16 && pool.base != NULL,
	    "the pool is mapped: %u stripe(s)", pool.layout.num_stripes);

	errno = SENTINEL;
	ret = wasmpool_slot_alloc(&pool, 2 << 20, &a);
	tap(ret == -ERANGE && errno == SENTINEL, "slot_alloc above max memory: -ERANGE, errno untouched");
	ret = wasmpool_slot_alloc(&pool, 4096, &a);
	tap(ret == 0 && a.address == (uint64_t)(uintptr_t)wasmpool_slot_addr(&pool, a.slot),
	    "slot_alloc: slot %u at the address wasmpool_slot_addr() computes", a.slot);

	if (pool.layout.num_stripes > 1)
		wasmpool_pkru_write(wasmpool_pkru_for_stripe(&pool, wasmpool_pkru_read(), a.stripe));
	ok = !faults((char *)(uintptr_t)a.address + 4095) && faults((char *)(uintptr_t)a.address + 4096);
	if (pool.layout.num_stripes > 1)	/* the handler reset PKRU */
		wasmpool_pkru_write(wasmpool_pkru_for_stripe(&pool, wasmpool_pkru_read(), a.stripe));
	tap(ok, "4 KiB accessible, the next byte faults");
	tap(wasmpool_fault_classify(&pool, fault_si.si_addr, fault_si.si_code, &f) ==
	    WASMPOOL_FAULT_SLOT_MEMORY && f.slot == a.slot && f.offset == 4096,
	    "fault_classify: above the accessible size of slot %u at 4096", f.slot);
	tap(wasmpool_fault_classify(&pool, pool.base + pool.layout.total_bytes, SEGV_MAPERR, &f) ==
	    WASMPOOL_FAULT_OUTSIDE, "fault_classify: past the pool is outside");
	tap(wasmpool_fault_classify(&pool, (char *)wasmpool_slot_addr(&pool, 3) +
				    pool.layout.max_memory_bytes, SEGV_MAPERR, &f) ==
	    (pool.layout.slot_bytes > pool.layout.max_memory_bytes ? WASMPOOL_FAULT_SLOT_GUARD
								    : WASMPOOL_FAULT_SLOT_MEMORY),
	    "fault_classify: past max memory of a slot");

	errno = SENTINEL;
	ok = wasmpool_slot_grow(&pool, a.slot, 1 << 20) == 0 && errno == SENTINEL;
	memset((char *)(uintptr_t)a.address, 0x5a, 1 << 20);
	ok &= wasmpool_slot_grow(&pool, a.slot, 4096) == -EINVAL;
	tap(ok, "slot_grow to max memory; shrinking by grow is -EINVAL");

	ok = wasmpool_slot_reset(&pool, a.slot, 8192) == 0;
	ok &= ((char *)(uintptr_t)a.address)[0] == 0 && ((char *)(uintptr_t)a.address)[8191] == 0;
	tap(ok, "slot_reset: zeroed, 8 KiB accessible");

	errno = SENTINEL;
	ok = wasmpool_slot_free(&pool, a.slot) == 0 && wasmpool_slot_free(&pool, a.slot) == -ENOENT &&
	     wasmpool_slot_free(&pool, 99) == -EINVAL && errno == SENTINEL;
	tap(ok, "slot_free; twice: -ENOENT; no such slot: -EINVAL; errno untouched");

	if (pool.layout.num_stripes > 1) {
		ok = wasmpool_slot_alloc_stripe(&pool, 4096, 1, &b) == 0 && b.stripe == 1 &&
		     b.slot % pool.layout.num_stripes == 1;
		tap(ok, "slot_alloc_stripe: a slot of stripe 1");
		wasmpool_pkru_write(wasmpool_pkru_for_stripe(&pool, wasmpool_pkru_read(), 0));
		ok = faults((char *)(uintptr_t)b.address);
		ok &= fault_si.si_code == SEGV_PKUERR &&
		      wasmpool_fault_classify(&pool, fault_si.si_addr, fault_si.si_code, &f) ==
		      WASMPOOL_FAULT_OTHER_STRIPE && f.stripe == 1;
		tap(ok, "PKRU for stripe 0: stripe 1 faults, classified as another stripe");
		wasmpool_pkru_write(wasmpool_pkru_allow_pool(&pool, wasmpool_pkru_read()));
		ok = !faults((char *)(uintptr_t)b.address);
		tap(ok, "PKRU allowing the pool: stripe 1 works");
		wasmpool_slot_free(&pool, b.slot);
	} else {
		tap(wasmpool_slot_alloc_stripe(&pool, 4096, 1, &b) == -EINVAL,
		    "slot_alloc_stripe: no stripe 1 without stripes (no PKU here)");
	}

	ret = wasmpool_slot_alloc(&pool, 4096, &a);
	if (ret == 0) {
		embedder_helpers(&pool, &a);
		wasmpool_slot_free(&pool, a.slot);
	}

	images(&pool);

	ret = wasmpool_stats(&pool, &st);
	tap(ret == 0 && st.slots_in_use == 0 && st.resets >= 2, "stats: %llu resets, none in use",
	    (unsigned long long)st.resets);

	memset(&lc, 0, sizeof(lc));
	lc.max_memory_bytes = 64 << 20;
	lc.reservation_bytes = 64 << 20;
	lc.guard_bytes = 512 << 20;
	lc.num_slots = 1000;
	lc.num_pkeys = 15;
	{
		struct wasmpool_layout_cmd k = lc;

		ok = wasmpool_layout_calc(&lc) == 0 && wasmpool_layout_query(pool.fd, &k) == 0 &&
		     !memcmp(&lc.layout, &k.layout, sizeof(lc.layout));
		tap(ok, "layout_calc equals layout_query (%u stripes)", lc.layout.num_stripes);
	}

	errno = SENTINEL;
	ret = wasmpool_destroy(&pool);
	tap(ret == 0 && errno == SENTINEL && pool.fd == -1, "wasmpool_destroy: 0, errno untouched");
	tap(wasmpool_destroy(&pool) == -EBADF && errno == SENTINEL, "wasmpool_destroy twice: -EBADF");
	tap(wasmpool_fault_classify(&pool, (void *)4096, SEGV_MAPERR, &f) == WASMPOOL_FAULT_OUTSIDE,
	    "fault_classify on a destroyed pool: outside");
	tap(wasmpool_slot_of(&pool, (void *)4096, &a.slot) == -ENOENT &&
	    wasmpool_guard_reach(&pool, 0) == 0, "slot_of and guard_reach on a destroyed pool");

	/* create and destroy many times: ASan's leak check sees anything lost */
	for (i = 0, ok = 1; i < 50 && ok; i++) {
		struct wasmpool p;

		ok = wasmpool_create(&p, &cfg) == 0 && wasmpool_slot_alloc(&p, 4096, &a) == 0 &&
		     wasmpool_destroy(&p) == 0;
	}
	tap(ok, "50 create/alloc/destroy rounds");
	resident_limit_sigbus(cfg);

	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
