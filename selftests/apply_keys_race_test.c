// SPDX-License-Identifier: GPL-2.0-only
/*
 * apply_keys_race_test: WASMPOOL_IOC_APPLY_KEYS racing with a thread that
 * replaces the pool's mapping. APPLY_KEYS maps slot after slot over the
 * pool; it must never map one over memory that is no longer the pool's
 * (here, an anonymous mapping another thread put at the pool's address:
 * afterwards every page of it is there and holds that thread's pattern),
 * it must leave the pool usable (unmapped and mapped again, the keys apply
 * and slots work), and a pool mapped again under the call is never stuck:
 * APPLY_KEYS succeeds on it, at the latest after an unmap and a new map.
 * Held to the letter of the contract, a failed call leaves that pool
 * mapped, and the next call keys every slot of it.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define PAGE	4096ULL
/*
 * One-page slots, 9 stripes (a 1-page memory with an 8-page guard), and
 * enough of them that APPLY_KEYS maps for a while: longer than a writer
 * waits on mmap_lock before the kernel hands it over (a few ms), so that
 * the other thread's munmap() lands inside the call, not after it.
 */
#define MAX_MEM	PAGE
#define GUARD	(8 * PAGE)
#define SLOTS	1024
#define ROUNDS	12
/*
 * The race that loses B's memory needs B to get mmap_lock in the short
 * stretch between APPLY_KEYS' check of a slot and its mapping of it: about
 * one round in 12 on a module that maps blindly. 36 rounds miss it less
 * than once in 20 runs, in a few seconds.
 */
#define ANON_ROUNDS	36
/*
 * Each test stops adding rounds after BUDGET_NS, once MIN_ROUNDS have run:
 * a debug kernel (KASAN, lockdep) takes seconds per APPLY_KEYS and runs
 * fewer rounds; a plain one runs them all in a few seconds.
 */
#define BUDGET_NS	(180 * 1000000000ULL)
#define MIN_ROUNDS	4
#define MORE_ROUNDS(i, t0)	((i) < MIN_ROUNDS || now_ns() - (t0) < BUDGET_NS)

/* how long the other thread keeps trying to map at the pool's address */
#define MAP_TRY_NS	(2 * 1000000000ULL)

/*
 * Faults are caught per thread: the handler jumps back to the access of
 * the thread that armed it; a fault elsewhere kills, as without it.
 */
static __thread sigjmp_buf *catch_env;
static __thread volatile int caught;

static void catch_handler(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (!catch_env) {
		signal(sig, SIG_DFL);
		return;		/* the access faults again, and kills */
	}
	caught = sig;
	siglongjmp(*catch_env, 1);
}

/* Write (@write) or read *@p: 0, or the signal it got. */
static int access_word(volatile uint64_t *p, uint64_t *v, int write)
{
	sigjmp_buf env;

	caught = 0;
	catch_env = &env;
	if (sigsetjmp(env, 1) == 0) {
		if (write)
			*p = *v;
		else
			*v = *p;
	}
	catch_env = NULL;
	return caught;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t pattern(uint32_t tag, uint64_t page)
{
	return (((uint64_t)tag << 32) | page) ^ 0x5bd1e995a5a5a5a5ULL;
}

/* What the other thread (B) does in a round, and what came of it. */
struct round {
	int fd;
	char *base;
	uint64_t total;
	int remap_pool;		/* map the pool again, not anonymous memory */
	int in_one_call;	/* anonymous memory with MAP_FIXED, no munmap() */
	uint64_t delay_ns;	/* from the start signal to the munmap() */
	uint32_t tag;		/* the pattern's round number */
	atomic_int ready, go;
	/* out */
	int mapped;		/* B's mapping is at base */
	int tries;		/* mmap() calls it took */
	int err;		/* errno of its last failed mmap() */
	long fill_fault;	/* first page B could not write, or -1 */
	int fill_sig;
};

static void *replace_mapping(void *arg)
{
	struct round *r = arg;
	uint64_t t0, deadline;
	void *p;

	atomic_store(&r->ready, 1);
	while (!atomic_load(&r->go))
		;
	t0 = now_ns();
	while (now_ns() - t0 < r->delay_ns)
		;
	deadline = now_ns() + MAP_TRY_NS;
	/*
	 * Between our munmap() and our mmap(), APPLY_KEYS may map a slot
	 * into the hole (MAP_FIXED_NOREPLACE then fails with EEXIST): unmap
	 * the range again and retry. Or, in one call, map over the pool.
	 */
	do {
		r->tries++;
		if (r->in_one_call)
			p = mmap(r->base, r->total, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		else if (munmap(r->base, r->total))
			p = MAP_FAILED;
		else if (r->remap_pool)
			p = mmap(r->base, r->total, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED_NOREPLACE, r->fd, 0);
		else
			p = mmap(r->base, r->total, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
				 -1, 0);
		if (p == r->base) {
			r->mapped = 1;
			break;
		}
		r->err = errno;
		if (p != MAP_FAILED) {	/* a hint, not honoured */
			munmap(p, r->total);
			r->err = EADDRNOTAVAIL;
		}
	} while (now_ns() < deadline);
	if (!r->mapped || r->remap_pool)
		return NULL;

	for (uint64_t i = 0; i < r->total / PAGE; i++) {
		uint64_t v = pattern(r->tag, i);
		int sig = access_word((uint64_t *)(r->base + i * PAGE), &v, 1);

		if (sig) {
			r->fill_fault = i;
			r->fill_sig = sig;
			break;
		}
	}
	return NULL;
}

/*
 * 0 when [lo, hi) is covered, without a gap, by anonymous private
 * read-write mappings; else -1 and @why says what is there.
 */
static int maps_all_anonymous(uintptr_t lo, uintptr_t hi, char *why, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	uintptr_t s, e, at = lo;
	unsigned long long pgoff;
	unsigned int dmaj, dmin;
	unsigned long ino;
	char line[512], perms[8];
	int n, ret = 0;

	snprintf(why, len, "cannot read /proc/self/maps");
	if (!f)
		return -1;
	while (!ret && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		n = 0;
		if (sscanf(line, "%lx-%lx %7s %llx %x:%x %lu %n", &s, &e, perms, &pgoff,
			   &dmaj, &dmin, &ino, &n) < 7 || e <= lo || s >= hi)
			continue;
		if (s > at) {
			snprintf(why, len, "nothing mapped at +%#lx..+%#lx", at - lo, s - lo);
			ret = -1;
		} else if (ino || (n && line[n]) || strcmp(perms, "rw-p")) {
			snprintf(why, len, "at +%#lx: %s", (s > lo ? s : lo) - lo, line);
			ret = -1;
		}
		at = e;
	}
	fclose(f);
	if (!ret && at < hi) {
		snprintf(why, len, "nothing mapped at +%#lx..+%#lx", at - lo, hi - lo);
		ret = -1;
	}
	return ret;
}

FIXTURE(race) {
	int fd;
	struct wasmpool_configure c;
	uint64_t total;
	char *base;		/* the pool's mapping or B's, to unmap */
	uint64_t apply_ns;	/* how long an undisturbed APPLY_KEYS takes */
	uint64_t seed;
	struct sigaction old_segv, old_bus;
};

/* APPLY_KEYS on the pool mapped at @base, timed: 0 or -errno. */
static int apply_timed(FIXTURE_DATA(race) *self, uint64_t *vmas)
{
	struct wasmpool_apply_keys ak = { .size = sizeof(ak) };
	uint64_t t0 = now_ns();
	int ret = wp_ioctl(self->fd, WASMPOOL_IOC_APPLY_KEYS, &ak);

	if (!ret && now_ns() - t0 < self->apply_ns)
		self->apply_ns = now_ns() - t0;
	if (vmas)
		*vmas = ak.vmas;
	return ret;
}

FIXTURE_SETUP(race)
{
	struct wasmpool_info info = { .size = sizeof(info) };
	struct sigaction sa = { .sa_sigaction = catch_handler,
				.sa_flags = SA_SIGINFO };

	self->base = MAP_FAILED;
	WP_TEST_OPEN_DEVICE(self->fd);
	ASSERT_EQ(0, wp_ioctl(self->fd, WASMPOOL_IOC_INFO, &info));
	if (!(info.features & WASMPOOL_FEATURE_PKEYS) || info.pkeys_free < 2)
		SKIP(return, "no protection keys (INFO: CPU without PKU, or none free)");
	self->c = (struct wasmpool_configure){
		.max_memory_bytes = MAX_MEM, .reservation_bytes = MAX_MEM,
		.guard_bytes = GUARD, .num_slots = SLOTS,
		.pkey_mode = WASMPOOL_PKEYS_AUTO,
	};
	ASSERT_EQ(0, wp_configure(self->fd, &self->c));
	ASSERT_LT(1, self->c.layout.num_stripes);
	self->total = self->c.layout.total_bytes;
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, &self->old_segv));
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, &self->old_bus));

	/* how long an undisturbed APPLY_KEYS takes: B's delays range over it */
	self->apply_ns = UINT64_MAX;
	for (int i = 0; i < 2; i++) {
		self->base = mmap(NULL, self->total, PROT_READ | PROT_WRITE,
				  MAP_SHARED, self->fd, 0);
		ASSERT_NE(MAP_FAILED, self->base);
		ASSERT_EQ(0, apply_timed(self, NULL));
		munmap(self->base, self->total);
		self->base = MAP_FAILED;
	}
	self->seed = now_ns() ^ getpid();
	TH_LOG("%u stripes, %d slots; APPLY_KEYS takes %llu us; seed %#llx",
	       self->c.layout.num_stripes, SLOTS,
	       (unsigned long long)self->apply_ns / 1000,
	       (unsigned long long)self->seed);
}

FIXTURE_TEARDOWN(race)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, self->total);
	if (self->fd >= 0)
		close(self->fd);
	sigaction(SIGSEGV, &self->old_segv, NULL);
	sigaction(SIGBUS, &self->old_bus, NULL);
}

/*
 * Slots of the pool mapped at @base that are not keyed as they should be
 * (a VMA of exactly the slot, with its stripe's key; /proc/self/smaps), or
 * -1 when smaps cannot be read.
 */
static long slots_not_keyed(FIXTURE_DATA(race) *self, char *base)
{
	const struct wasmpool_layout *l = &self->c.layout;
	uintptr_t lo = (uintptr_t)base + l->pre_slab_guard_bytes;
	uintptr_t hi = (uintptr_t)base + self->total, s, e, vs = 0, ve = 0;
	FILE *f = fopen("/proc/self/smaps", "r");
	uint64_t off, idx;
	char line[512];
	long good = 0;
	int key;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* a VMA's first line: "start-end perms ..." */
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2) {
			vs = s;
			ve = e;
			continue;
		}
		if (sscanf(line, "ProtectionKey: %d", &key) != 1 || vs < lo || ve > hi)
			continue;
		off = vs - lo;
		idx = off / l->slot_bytes;
		if (idx < l->num_slots && off % l->slot_bytes == 0 &&
		    ve - vs == l->slot_bytes &&
		    key == self->c.stripe_pkeys[idx % l->num_stripes])
			good++;
	}
	fclose(f);
	return (long)l->num_slots - good;
}

/* The VMAs a keyed pool has: one per slot and per guard region. */
static uint64_t keyed_vmas(FIXTURE_DATA(race) *self)
{
	const struct wasmpool_layout *l = &self->c.layout;

	return l->num_slots + !!l->pre_slab_guard_bytes + !!l->post_slab_guard_bytes;
}

/*
 * APPLY_KEYS in this thread while B replaces the mapping at @r->base, as
 * the round says. Returns APPLY_KEYS' 0 or -errno.
 */
static int race_round(struct __test_metadata *_metadata,
		      FIXTURE_DATA(race) *self, struct round *r)
{
	struct wasmpool_apply_keys ak = { .size = sizeof(ak) };
	pthread_t b;
	int ret;

	r->fd = self->fd;
	r->base = self->base;
	r->total = self->total;
	r->fill_fault = -1;
	r->delay_ns = wp_test_rng(&self->seed) % (self->apply_ns + 1);
	ASSERT_EQ(0, pthread_create(&b, NULL, replace_mapping, r));
	while (!atomic_load(&r->ready))
		;
	atomic_store(&r->go, 1);
	ret = wp_ioctl(self->fd, WASMPOOL_IOC_APPLY_KEYS, &ak);
	pthread_join(b, NULL);
	return ret;
}

/* Slots of the pool mapped at @base (keys applied) work: take, touch, free. */
static void slot_works(struct __test_metadata *_metadata,
		       FIXTURE_DATA(race) *self, char *base, int round)
{
	struct wasmpool_slot_alloc a;
	uint64_t v = 0x1234, got = 0;
	int key, sig;

	ASSERT_EQ(0, wp_alloc(self->fd, PAGE, &a)) TH_LOG("round %d", round);
	EXPECT_EQ((uintptr_t)base + a.offset, a.address);
	key = self->c.stripe_pkeys[a.stripe];
	pkey_set(key, 0);
	sig = access_word((uint64_t *)(base + a.offset), &v, 1);
	if (!sig)
		sig = access_word((uint64_t *)(base + a.offset), &got, 0);
	pkey_set(key, PKEY_DISABLE_ACCESS);
	EXPECT_EQ(0, sig) TH_LOG("round %d: slot %u faults", round, a.slot);
	EXPECT_EQ(v, got);
	EXPECT_EQ(0, wp_free(self->fd, a.slot));
}

/* What is left of the pool unmapped, it maps again, keys and works. */
static void pool_works_again(struct __test_metadata *_metadata,
			     FIXTURE_DATA(race) *self, int round)
{
	uint64_t vmas = 0;

	munmap(self->base, self->total);
	self->base = mmap(NULL, self->total, PROT_READ | PROT_WRITE, MAP_SHARED,
			  self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->base)
		TH_LOG("round %d: the pool does not map again: %s", round, strerror(errno));
	ASSERT_EQ(0, apply_timed(self, &vmas))
		TH_LOG("round %d: APPLY_KEYS on the pool mapped again", round);
	EXPECT_EQ(keyed_vmas(self), vmas);
	EXPECT_EQ(0, slots_not_keyed(self, self->base));
	slot_works(_metadata, self, self->base, round);
	munmap(self->base, self->total);
	self->base = MAP_FAILED;
}

/*
 * B puts anonymous memory where the pool was: with munmap() and
 * MAP_FIXED_NOREPLACE in even rounds, with one MAP_FIXED mmap() in odd
 * ones. Whatever APPLY_KEYS returns, B's memory is all there.
 */
/*
 * The timeouts are for the debug kernels (KASAN, lockdep), where one
 * APPLY_KEYS of 1024 slots takes seconds; here the program takes ~11 s.
 */
TEST_F_TIMEOUT(race, anonymous_mapping_in_place_of_pool_never_touched, 600)
{
	uint64_t t0 = now_ns();
	int holes = 0;

	int i;

	for (i = 0; i < ANON_ROUNDS && MORE_ROUNDS(i, t0); i++) {
		struct round r = { .tag = i + 1, .in_one_call = i % 2 };
		uint64_t pages = self->total / PAGE, bad = 0, first = 0;
		int ret, sig = 0;
		char why[600];

		self->base = mmap(NULL, self->total, PROT_READ | PROT_WRITE, MAP_SHARED,
				  self->fd, 0);
		ASSERT_NE(MAP_FAILED, self->base);
		ret = race_round(_metadata, self, &r);
		TH_LOG("round %d: B %s after %llu us, %d mmap(s); APPLY_KEYS: %s", i,
		       r.in_one_call ? "maps over the pool" : "unmaps the pool, maps",
		       (unsigned long long)r.delay_ns / 1000, r.tries,
		       ret ? strerror(-ret) : "0");
		ASSERT_TRUE(r.mapped)
			TH_LOG("round %d: B could not map at the pool's address: %s",
			       i, strerror(r.err));

		/* the whole range is B's: anonymous memory, every page B's */
		EXPECT_EQ(-1, r.fill_fault)
			TH_LOG("round %d: page %ld of B's mapping was not B's while B filled it (signal %d)",
			       i, r.fill_fault, r.fill_sig);
		EXPECT_EQ(0, maps_all_anonymous((uintptr_t)r.base,
						(uintptr_t)r.base + self->total,
						why, sizeof(why)))
			TH_LOG("round %d: B's range: %s", i, why);
		for (uint64_t p = 0; r.fill_fault < 0 && p < pages; p++) {
			uint64_t v = 0;
			int s = access_word((uint64_t *)(r.base + p * PAGE), &v, 0);

			if ((s || v != pattern(r.tag, p)) && !bad++) {
				first = p;
				sig = s;
			}
		}
		EXPECT_EQ(0, bad)
			TH_LOG("round %d: %llu of %llu pages of B's mapping lost, the first +%#llx (signal %d)",
			       i, (unsigned long long)bad, (unsigned long long)pages,
			       (unsigned long long)(first * PAGE), sig);
		holes += bad || r.fill_fault >= 0;

		pool_works_again(_metadata, self, i);
	}
	TH_LOG("%d of %d rounds lost part of B's mapping (%llu ms)", holes, i,
	       (unsigned long long)(now_ns() - t0) / 1000000);
}

/*
 * B unmaps the pool and maps it again at the same address. Whatever came
 * of the race, APPLY_KEYS gets the pool keyed: on the mapping as it is, or
 * at the latest on a new mapping. Never EBUSY for ever.
 */
TEST_F_TIMEOUT(race, pool_mapped_again_mid_apply_recovers, 600)
{
	uint64_t t0 = now_ns();
	int i;

	for (i = 0; i < ROUNDS && MORE_ROUNDS(i, t0); i++) {
		struct round r = { .tag = i + 1, .remap_pool = 1 };
		uint64_t vmas = 0;
		int ret, attempt;

		self->base = mmap(NULL, self->total, PROT_READ | PROT_WRITE, MAP_SHARED,
				  self->fd, 0);
		ASSERT_NE(MAP_FAILED, self->base);
		ret = race_round(_metadata, self, &r);
		TH_LOG("round %d: B after %llu us, %d mmap(s)%s; APPLY_KEYS: %s", i,
		       (unsigned long long)r.delay_ns / 1000, r.tries,
		       r.mapped ? "" : " (gave up)", ret ? strerror(-ret) : "0");

		for (attempt = 0; attempt < 3; attempt++) {
			ret = apply_timed(self, &vmas);
			if (!ret || ret == -EALREADY)
				break;
			TH_LOG("round %d: APPLY_KEYS again: %s", i, strerror(-ret));
			if (attempt == 1) {
				munmap(self->base, self->total);
				self->base = mmap(NULL, self->total, PROT_READ | PROT_WRITE,
						  MAP_SHARED, self->fd, 0);
				ASSERT_NE(MAP_FAILED, self->base)
					TH_LOG("round %d: the pool does not map again: %s",
					       i, strerror(errno));
			}
		}
		ASSERT_TRUE(!ret || ret == -EALREADY)
			TH_LOG("round %d: the pool cannot be keyed: %s", i, strerror(-ret));
		if (!ret)
			EXPECT_EQ(keyed_vmas(self), vmas);
		EXPECT_EQ(0, slots_not_keyed(self, self->base)) TH_LOG("round %d", i);
		slot_works(_metadata, self, self->base, i);

		pool_works_again(_metadata, self, i);
	}
	TH_LOG("%d rounds (%llu ms)", i, (unsigned long long)(now_ns() - t0) / 1000000);
}

/*
 * The same race, held to the contract: a failed APPLY_KEYS leaves the
 * mapping as it is (the pool B mapped stays mapped where B put it), and
 * the next call keys it, every slot (it resumes without trusting what it
 * keyed in the mapping that went away).
 */
TEST_F_TIMEOUT(race, failed_apply_leaves_pool_mapped_and_retry_keys_it, 600)
{
	uint64_t t0 = now_ns();
	int failed = 0, i;

	for (i = 0; i < ROUNDS && MORE_ROUNDS(i, t0); i++) {
		struct round r = { .tag = i + 1, .remap_pool = 1 };
		struct wasmpool_stats st;
		uint64_t vmas = 0;
		int ret;

		self->base = mmap(NULL, self->total, PROT_READ | PROT_WRITE, MAP_SHARED,
				  self->fd, 0);
		ASSERT_NE(MAP_FAILED, self->base);
		ret = race_round(_metadata, self, &r);
		TH_LOG("round %d: B after %llu us, %d mmap(s); APPLY_KEYS: %s", i,
		       (unsigned long long)r.delay_ns / 1000, r.tries,
		       ret ? strerror(-ret) : "0");
		ASSERT_TRUE(r.mapped)
			TH_LOG("round %d: B could not map the pool again: %s", i, strerror(r.err));
		failed += !!ret;

		ASSERT_EQ(0, wp_stats(self->fd, &st));
		EXPECT_EQ((uintptr_t)self->base, st.address)
			TH_LOG("round %d: the pool B mapped is gone", i);
		ret = apply_timed(self, &vmas);
		EXPECT_TRUE(!ret || ret == -EALREADY)
			TH_LOG("round %d: APPLY_KEYS on the pool B mapped: %s", i, strerror(-ret));
		if (!ret)
			EXPECT_EQ(keyed_vmas(self), vmas);
		if (!ret || ret == -EALREADY) {
			EXPECT_EQ(0, slots_not_keyed(self, self->base)) TH_LOG("round %d", i);
			slot_works(_metadata, self, self->base, i);
		}

		pool_works_again(_metadata, self, i);
	}
	TH_LOG("APPLY_KEYS failed in %d of %d rounds (%llu ms)", failed, i,
	       (unsigned long long)(now_ns() - t0) / 1000000);
}

TEST_HARNESS_MAIN
