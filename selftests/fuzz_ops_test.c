// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_ops_test: a seeded, reproducible random sequence of everything a
 * process can do to the device - open, configure (good and bad), mmap
 * (good and bad), munmap, apply keys, slot alloc / grow / reset / free /
 * batch free with good and bad indices, memory images (create from memory,
 * the pool's own included, or a memfd; release; allocate with one, good
 * ids and bad), stats, touches anywhere in the
 * mapping, garbage ioctls, fork children doing the same on inherited
 * files, close - for a bounded time. Afterwards the module-wide counters
 * are back where they were (nothing leaked) and the kernel log is clean
 * (the runner checks).
 *
 * WASMPOOL_FUZZ_SECONDS (default 5) and WASMPOOL_FUZZ_SEED (default: the
 * time) set the run; the seed is printed, and the same seed replays it.
 * WASMPOOL_FUZZ_FAIL=PERCENT (make check-debug) also fails that share of
 * the kernel allocations this process and its children make during the
 * sequence (failslab and fail_page_alloc with make-it-fail): every error
 * path at random. The checks afterwards run without it. A replay with
 * fault injection is not exact: other tasks move the injectors' state.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"
#include "wp_fault.h"

#define FILES	4

struct file_state {
	int fd;
	char *base;
	uint64_t len;
	uint64_t slots;
	struct wasmpool_layout l;
	uint8_t keys[WASMPOOL_MAX_STRIPES];
	/* the last slots allocated, to touch where pages get served */
	struct { uint32_t slot; uint64_t bytes; } live[8];
	unsigned int nlive;
	/* image ids created lately, released or not */
	uint32_t images[4];
	unsigned int nimages;
};

static uint64_t rng_state;

/*
 * How deep the run got: operations, successful configures, mappings,
 * allocations, touches. Shared with the parent when children run the
 * sequence (WASMPOOL_FUZZ_FAIL).
 */
static struct fuzz_counts {
	long ops, configured, mapped, allocated, touched, images, image_slots;
	int op;		/* what runs now: an index of op_name[] */
} *cnt;

static const char *const op_name[] = {
	"configure", "mmap", "munmap", "close", "garbage ioctl", "fork",
	"touch", "touch", "touch", "slot op", "slot op", "slot op", "slot op",
	"slot op", "slot op", "slot op", "open",
};

/* Mappings whose file was closed: they keep their pool until unmapped. */
static struct { char *base; uint64_t len; } orphans[64];
static unsigned int norphans;

static uint64_t rnd(void)
{
	return wp_test_rng(&rng_state);
}

static uint64_t pick(const uint64_t *v, unsigned int n)
{
	return v[rnd() % n];
}

static void do_configure(struct file_state *f)
{
	static const uint64_t mem[] = { 0, 4096, 65536, 1 << 20, 3 << 20, UINT64_MAX };
	static const uint64_t guard[] = { 0, 4096, 65536, 8 << 20, UINT64_MAX - 4095 };
	struct wasmpool_configure c = {
		.max_memory_bytes = pick(mem, 6),
		.num_slots = rnd() % 5 ? rnd() % 40 : rnd(),
		.guard_bytes = pick(guard, 5),
		.pkey_mode = rnd() % 4,
		.max_pkeys = rnd() % 3 ? 0 : rnd() % 20,
		.flags = rnd() % 4 ? rnd() % 64 : rnd(),
	};

	c.reservation_bytes = rnd() % 4 ? c.max_memory_bytes : pick(mem, 6);
	c.keep_resident_bytes = rnd() % 2 ? 0 : rnd() % (c.max_memory_bytes + 8192);
	if (!wp_configure(f->fd, &c)) {
		cnt->configured++;
		f->l = c.layout;
		memcpy(f->keys, c.stripe_pkeys, sizeof(f->keys));
		f->len = c.layout.total_bytes;
		f->slots = c.layout.num_slots;
		f->nlive = 0;
		f->nimages = 0;
	}
}

static void do_mmap(struct file_state *f)
{
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ, PROT_WRITE,
				     PROT_READ | PROT_WRITE | PROT_EXEC };
	uint64_t len = f->len;
	int flags = rnd() % 5 ? MAP_SHARED : MAP_PRIVATE;
	off_t off = rnd() % 6 ? 0 : 4096;
	void *p;

	if (f->base || !len)
		len = (rnd() % 64 + 1) * 4096;
	else if (rnd() % 6 == 0)
		len += 4096;
	p = mmap(NULL, len, prots[rnd() % 4], flags, f->fd, off);
	if (p == MAP_FAILED)
		return;
	if (!f->base && len == f->len) {
		f->base = p;
		cnt->mapped++;
		/* a striped pool wants its keys applied: usually do it */
		if (rnd() % 4) {
			struct wasmpool_apply_keys ak = { .size = sizeof(ak) };

			wp_ioctl(f->fd, WASMPOOL_IOC_APPLY_KEYS, &ak);
		}
	}
	else
		munmap(p, len);	/* only if the kernel let a bad one through */
}

static void do_touch(struct file_state *f)
{
	volatile char *p;

	if (!f->base)
		return;
	/* a fault's handler reset PKRU: open the pool's keys again */
	for (unsigned int i = 0; f->l.num_stripes > 1 && i < f->l.num_stripes; i++)
		pkey_set(f->keys[i], 0);
	if (rnd() % 2 && f->nlive) {	/* inside a slot allocated lately */
		unsigned int i = rnd() % (f->nlive < 8 ? f->nlive : 8);

		p = f->base + f->l.pre_slab_guard_bytes + f->live[i].slot * f->l.slot_bytes +
		    rnd() % (f->live[i].bytes ? f->live[i].bytes : 4096);
	} else if (rnd() % 2 && f->slots)	/* into the first pages of a slot */
		p = f->base + f->l.pre_slab_guard_bytes +
		    rnd() % f->slots * f->l.slot_bytes + rnd() % (16 * 4096);
	else
		p = f->base + rnd() % f->len;
	if ((uint64_t)(p - f->base) >= f->len)
		return;
	cnt->touched += !wp_probe(p, rnd() % 2, NULL);
}

/* An image id: one created lately (maybe released), or any. */
static uint32_t pick_image(const struct file_state *f)
{
	if (f->nimages && rnd() % 4)
		return f->images[rnd() % (f->nimages < 4 ? f->nimages : 4)];
	return rnd() % 2 ? (uint32_t)(rnd() % 8) : (uint32_t)rnd();
}

/*
 * WASMPOOL_IOC_IMAGE_CREATE from a buffer, from the pool's own memory
 * (whose copy may fault into the pool), or from a memfd or a bad fd; good
 * lengths and bad.
 */
static void do_image_create(struct file_state *f)
{
	static const uint64_t lens[] = { 0, 4096, 8192, 65536, 100, 1 << 20 };
	static char buf[1 << 20];
	struct wasmpool_image_create c = { .size = sizeof(c) };
	int mfd = -1;

	c.length = rnd() % 8 ? pick(lens, 6) : rnd();
	switch (rnd() % 4) {
	case 0:
		if (f->base && f->len) {
			c.user_addr = (uintptr_t)f->base + rnd() % f->len;
			break;
		}
		/* fall through */
	case 1:
		c.user_addr = (uintptr_t)buf;
		break;
	case 2:
		mfd = memfd_create("fuzz", MFD_CLOEXEC);
		if (mfd >= 0 && ftruncate(mfd, rnd() % 2 ? 1 << 20 : rnd() % (1 << 20)))
			break;
		c.flags = WASMPOOL_IMAGE_FROM_FD;
		c.fd = mfd;
		c.fd_offset = rnd() % 4 ? 0 : rnd() % 3 * 4096;
		break;
	default:
		c.flags = rnd() % 2 ? WASMPOOL_IMAGE_FROM_FD : (uint32_t)rnd();
		c.fd = (int)(rnd() % 64);
		c.user_addr = rnd() % 2 ? 0 : rnd();
	}
	if (!wp_ioctl(f->fd, WASMPOOL_IOC_IMAGE_CREATE, &c)) {
		cnt->images++;
		f->images[f->nimages++ % 4] = c.image;
	}
	if (mfd >= 0)
		close(mfd);
}

static void do_slot_op(struct file_state *f)
{
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	uint32_t slot = rnd() % 3 ? rnd() % (f->slots + 2) : (uint32_t)rnd();
	uint64_t bytes = rnd() % 4 ? (rnd() % 65) * 4096 : rnd();

	switch (rnd() % 11) {
	case 0:
	case 8:
		/* half of them with an affinity key of a few "modules", some with an image */
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.accessible_bytes = bytes;
		if (rnd() % 2) {
			a.flags = WASMPOOL_SLOT_ALLOC_AFFINITY;
			a.affinity = rnd() % 4;
		}
		if (rnd() % 2) {
			a.flags |= WASMPOOL_SLOT_ALLOC_IMAGE;
			a.image = pick_image(f);
		}
		if (!wp_ioctl(f->fd, WASMPOOL_IOC_SLOT_ALLOC, &a)) {
			cnt->allocated++;
			cnt->image_slots += !!(a.flags & WASMPOOL_SLOT_ALLOC_IMAGE);
			f->live[f->nlive++ % 8].slot = a.slot;
			f->live[(f->nlive - 1) % 8].bytes = bytes;
		}
		break;
	case 1:
		wp_alloc_stripe(f->fd, bytes, rnd() % 16, &a);
		break;
	case 2:
		wp_grow(f->fd, slot, bytes);
		break;
	case 3:
		wp_reset(f->fd, slot, bytes);
		break;
	case 4:
		wp_free(f->fd, slot);
		break;
	case 5:
		wp_stats(f->fd, &st);
		break;
	case 9:
		do_image_create(f);
		break;
	case 10: {
		struct wasmpool_image_release r = { .size = sizeof(r), .image = pick_image(f) };

		wp_ioctl(f->fd, WASMPOOL_IOC_IMAGE_RELEASE, &r);
		break;
	}
	case 6: {
		/* a batch of random slots: often all valid, sometimes not */
		uint32_t ids[12];
		uint32_t n = rnd() % 13;

		for (uint32_t i = 0; i < n; i++)
			ids[i] = rnd() % 4 ? rnd() % (f->slots + 1) : (uint32_t)rnd();
		wp_free_batch(f->fd, ids, n);
		break;
	}
	default: {
		struct wasmpool_apply_keys ak = { .size = sizeof(ak) };

		wp_ioctl(f->fd, WASMPOOL_IOC_APPLY_KEYS, &ak);
	}
	}
}

/* Any command number, any size, garbage contents. */
static void do_garbage_ioctl(struct file_state *f)
{
	uint32_t buf[64];
	unsigned int i, nr = WASMPOOL_CMD_BASE + rnd() % (WASMPOOL_CMD_END - WASMPOOL_CMD_BASE + 2);

	for (i = 0; i < 64; i++)
		buf[i] = rnd() % 3 ? 0 : (uint32_t)rnd();
	buf[0] = rnd() % 2 ? (uint32_t)(rnd() % 260) : (uint32_t)rnd();
	ioctl(f->fd, _IO(WASMPOOL_TYPE, nr), buf);
}

static void one_op(struct file_state *files, int depth)
{
	struct file_state *f = &files[rnd() % FILES];
	pid_t pid;

	if (f->fd < 0) {
		cnt->op = 16;
		f->fd = open(WP_TEST_DEVICE, rnd() % 8 ? O_RDWR | O_CLOEXEC : O_RDONLY | O_CLOEXEC);
		f->base = NULL;
		f->len = 0;
		f->slots = 0;
		f->nlive = 0;
		f->nimages = 0;
		return;
	}
	cnt->op = rnd() % 16;
	switch (cnt->op) {
	case 0:
		do_configure(f);
		break;
	case 1:
		do_mmap(f);
		break;
	case 2:
		if (f->base && rnd() % 3 == 0) {
			munmap(f->base, f->len);
			f->base = NULL;
		}
		break;
	case 3:
		if (rnd() % 4 == 0) {
			close(f->fd);
			f->fd = -1;
			if (f->base && norphans < 64 && depth == 0) {
				/* the mapping keeps the pool alive */
				orphans[norphans].base = f->base;
				orphans[norphans++].len = f->len;
			} else if (f->base) {
				munmap(f->base, f->len);
			}
			f->base = NULL;
		}
		break;
	case 4:
		do_garbage_ioctl(f);
		break;
	case 5:
		if (depth == 0 && rnd() % 8 == 0) {
			pid = fork();
			if (pid == 0) {
				for (int i = 0; i < 30; i++)
					one_op(files, 1);
				_exit(0);
			}
			if (pid > 0)
				waitpid(pid, NULL, 0);
		}
		break;
	case 6:
	case 7:
	case 8:
		do_touch(f);
		break;
	default:
		do_slot_op(f);
	}
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec - t0->tv_sec + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The random sequence for @seconds, then everything closed and unmapped. */
static void run_sequence(uint64_t seed, double seconds)
{
	struct file_state files[FILES];
	struct timespec t0;
	int i;

	rng_state = seed;
	for (i = 0; i < FILES; i++)
		files[i].fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (i = 0; i < 100; i++, cnt->ops++)
			one_op(files, 0);
	} while (elapsed(&t0) < seconds);

	for (i = 0; i < FILES; i++) {
		if (files[i].base)
			munmap(files[i].base, files[i].len);
		if (files[i].fd >= 0)
			close(files[i].fd);
	}
	while (norphans--)
		munmap(orphans[norphans].base, orphans[norphans].len);
}

FIXTURE(fuzz) {
	long long pools, slots, resident, keys, images, image_bytes;
};

FIXTURE_SETUP(fuzz)
{
	self->pools = wp_sysfs_read("pools");
	self->slots = wp_sysfs_read("slots_in_use");
	self->resident = wp_sysfs_read("resident_bytes");
	self->keys = wp_sysfs_read("keys_in_use");
	self->images = wp_sysfs_read("images");
	self->image_bytes = wp_sysfs_read("image_bytes");
	if (self->pools < 0)
		SKIP(return, "no wasmpool sysfs statistics (module not loaded?)");
}

FIXTURE_TEARDOWN(fuzz)
{
	wp_fault_restore();
}

static int balanced(const FIXTURE_DATA(fuzz) *self)
{
	return self->pools == wp_sysfs_read("pools") &&
	       self->slots == wp_sysfs_read("slots_in_use") &&
	       self->resident == wp_sysfs_read("resident_bytes") &&
	       self->keys == wp_sysfs_read("keys_in_use") &&
	       self->images == wp_sysfs_read("images") &&
	       self->image_bytes == wp_sysfs_read("image_bytes");
}

/* Nothing leaked: pools closed but still mapped went with their munmap. */
#define EXPECT_BALANCED() do {						\
	EXPECT_EQ(self->pools, wp_sysfs_wait("pools", self->pools));	\
	EXPECT_EQ(self->slots, wp_sysfs_wait("slots_in_use", self->slots)); \
	EXPECT_EQ(self->resident, wp_sysfs_wait("resident_bytes", self->resident)); \
	EXPECT_EQ(self->keys, wp_sysfs_wait("keys_in_use", self->keys)); \
	EXPECT_EQ(self->images, wp_sysfs_wait("images", self->images)); \
	EXPECT_EQ(self->image_bytes, wp_sysfs_wait("image_bytes", self->image_bytes)); \
} while (0)

/* The run's length comes from the environment: the runner bounds it. */
TEST_F_TIMEOUT(fuzz, random_operations_leave_nothing_behind, 24 * 3600)
{
	const char *env_s = getenv("WASMPOOL_FUZZ_SECONDS");
	const char *env_seed = getenv("WASMPOOL_FUZZ_SEED");
	const char *env_fail = getenv("WASMPOOL_FUZZ_FAIL");
	double seconds = env_s ? atof(env_s) : 5;
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : (uint64_t)time(NULL);
	static struct fuzz_counts own;
	long children = 0, killed = 0, late = 0;
	int status, st, sigs[65] = { 0 };
	struct timespec t0;
	const char *missing;
	char sigtext[128];
	size_t len = 0;
	pid_t pid, w;

	TH_LOG("seed %#llx (WASMPOOL_FUZZ_SEED=%#llx replays it), %.0f s",
	       (unsigned long long)seed, (unsigned long long)seed, seconds);
	cnt = &own;
	if (!env_fail) {
		run_sequence(seed, seconds);
		TH_LOG("%ld operations: %ld pools configured, %ld mapped, %ld slots allocated (%ld with an image), %ld touches served, %ld images created",
		       cnt->ops, cnt->configured, cnt->mapped, cnt->allocated, cnt->image_slots,
		       cnt->touched, cnt->images);
		EXPECT_BALANCED();
		return;
	}

	/*
	 * With failing allocations a process may die anywhere: a signal
	 * frame the kernel cannot write is a SIGSEGV. So children run the
	 * sequence, a few seconds each, and after each, however it ended,
	 * the counters must balance. The fork children a child makes come
	 * back to us (subreaper) if it dies first: they hold its files.
	 */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	missing = wp_fault_setup(atoi(env_fail));
	ASSERT_EQ(NULL, missing) TH_LOG("WASMPOOL_FUZZ_FAIL needs fault injection: no %s",
					 missing);
	cnt = mmap(NULL, sizeof(*cnt), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cnt);
	memset(cnt, 0, sizeof(*cnt));
	TH_LOG("failing %d%% of the kernel allocations of the processes running it",
	       atoi(env_fail));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			if (wp_file_rw("/proc/self/make-it-fail", NULL, 0, "1"))
				_exit(2);
			run_sequence(seed + children * 0x9e3779b97f4a7c15ULL, 3);
			_exit(0);
		}
		status = 0;
		while ((w = waitpid(-1, &st, 0)) > 0) {
			if (w == pid)
				status = st;
		}
		/* only the kernel's failed writes to user memory may kill it */
		ASSERT_TRUE(WIFSIGNALED(status) ? WTERMSIG(status) == SIGSEGV :
			    WEXITSTATUS(status) == 0)
			TH_LOG("child %s %d during %s",
			       WIFSIGNALED(status) ? "killed by signal" : "exited with",
			       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
			       op_name[cnt->op]);
		children++;
		if (WIFSIGNALED(status)) {
			killed++;
			sigs[WTERMSIG(status) & 63]++;
			TH_LOG("child %ld: %s during %s", children, strsignal(WTERMSIG(status)),
			       op_name[cnt->op]);
		}
		/* counted: a dead process's last fput() may come late */
		late += !balanced(self);
		EXPECT_BALANCED();
	} while (elapsed(&t0) < seconds && !WP_TEST_STOPPED());
	for (int i = 1; i < 64; i++) {
		if (sigs[i] && len < sizeof(sigtext) - 32)
			len += snprintf(sigtext + len, sizeof(sigtext) - len, " %s:%d",
					strsignal(i), sigs[i]);
	}
	sigtext[len] = 0;
	TH_LOG("%ld children (%ld killed by a signal:%s; %ld balanced only after a wait), %ld operations: %ld pools configured, %ld mapped, %ld slots allocated, %ld touches served",
	       children, killed, killed ? sigtext : " none", late, cnt->ops, cnt->configured,
	       cnt->mapped, cnt->allocated, cnt->touched);
	TH_LOG("%lld kernel allocations failed on purpose", wp_fault_injected());
}

TEST_HARNESS_MAIN
