// SPDX-License-Identifier: GPL-2.0-only
/*
 * memory_test: pool memory is visible where the kernel looks for memory -
 * every page resident in a pool (mapped, or kept by a reset) counts in its
 * owner's RSS (RssShmem, so VmRSS) from its allocation until it is freed,
 * a reset or an unmap frees exactly what it should, an exit leaves no page
 * and no RSS counter behind, the OOM killer of a
 * memory cgroup picks the pool's owner rather than a bystander, and the
 * per-pool resident limit holds with threads faulting at once.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/wasmpool.h>

#include "kselftest_harness.h"
#include "wp_test.h"

#define PAGE	4096LL
#define MiB	(1024 * 1024LL)
/* What the RSS tests touch. */
#define TOUCH	(8 * MiB)
/*
 * Pages of the test itself that may come between two readings: its own
 * text faulting in (a static binary on the initramfs' tmpfs counts in
 * RssShmem too), stack, the harness.
 */
#define SLACK	(256 * 1024LL)

struct pool {
	int fd;
	char *base;
	struct wasmpool_layout l;
};

/* A pool without keys, mapped: 0 or -errno. */
static int pool_make(struct pool *p, uint64_t max_mem, uint64_t slots, uint64_t keep)
{
	struct wasmpool_configure c = {
		.max_memory_bytes = max_mem,
		.reservation_bytes = max_mem,
		.guard_bytes = 64 * 1024,
		.num_slots = slots,
		.keep_resident_bytes = keep,
		.pkey_mode = WASMPOOL_PKEYS_OFF,
	};
	int ret;

	p->base = MAP_FAILED;
	p->fd = open(WP_TEST_DEVICE, O_RDWR | O_CLOEXEC);
	if (p->fd < 0)
		return -errno;
	ret = wp_configure(p->fd, &c);
	if (ret)
		return ret;
	p->l = c.layout;
	p->base = mmap(NULL, p->l.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
	return p->base == MAP_FAILED ? -errno : 0;
}

static void pool_unmap(struct pool *p)
{
	if (p->base != MAP_FAILED)
		munmap(p->base, p->l.total_bytes);
	p->base = MAP_FAILED;
}

static void pool_end(struct pool *p)
{
	pool_unmap(p);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

#define rss_shmem()	wp_test_status_bytes("RssShmem")
#define vm_rss()	wp_test_status_bytes("VmRSS")

/*
 * Fault in everything the test has mapped, before its first reading: a
 * forked test re-faults its text (a static binary on the initramfs' tmpfs
 * counts in RssShmem) as it runs new code, 64 KiB per fault with the
 * kernel's fault-around, which would blur the readings. Without the right
 * to mlock (RLIMIT_MEMLOCK) that part does nothing; SLACK then has to do.
 * Then 6.1's per-task cache of those counts (folded into the mm every 64
 * faults, up to 16 pages each) is folded in by faults of anonymous pages,
 * which leave only RssAnon cached.
 */
static void settle(void)
{
	const size_t len = 160 * PAGE;
	char *scratch;

	if (!mlockall(MCL_CURRENT))
		munlockall();
	scratch = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED)
		return;
	madvise(scratch, len, MADV_NOHUGEPAGE);	/* one fault each */
	for (size_t i = 0; i < len; i += PAGE)
		scratch[i] = 1;
	munmap(scratch, len);
}

/*
 * How far apart two readings of an RSS counter may be from the truth: from
 * 6.2 on the counters are per-CPU (batch max(32, 2 * CPUs) pages, each
 * reading may miss up to a batch per CPU); 6.1 caches up to 64 changes
 * per task before it folds them in. Bounds are "strict" up to this.
 */
static long long rss_fuzz(void)
{
	long long cpus = sysconf(_SC_NPROCESSORS_CONF);
	long long batch = cpus * 2 > 32 ? cpus * 2 : 32;
	long long fuzz = 2 * batch * cpus * PAGE;

	return fuzz > 128 * PAGE ? fuzz : 128 * PAGE;
}

/* Write the limit max_resident_bytes_per_pool: 0 or -1. */
static int limit_set(long long bytes)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", bytes);
	return wp_file_rw("/sys/class/misc/wasmpool/max_resident_bytes_per_pool",
			  NULL, 0, buf) ? -1 : 0;
}

/*
 * Open the device (or skip), then lift max_resident_bytes_per_pool (half
 * of RAM by default) for the test; the fixture's teardown puts it back.
 */
#define LIFT_RESIDENT_LIMIT(self) do {					\
	int fd_;							\
									\
	WP_TEST_OPEN_DEVICE(fd_);					\
	close(fd_);							\
	(self)->saved_limit = wp_sysfs_read("max_resident_bytes_per_pool"); \
	ASSERT_LE(0, (self)->saved_limit);				\
	if ((self)->saved_limit) {					\
		if (geteuid())						\
			SKIP(return, "max_resident_bytes_per_pool is set and only root may clear it"); \
		(self)->changed = 1;					\
		ASSERT_EQ(0, limit_set(0));				\
	}								\
} while (0)

/*
 * Every test starts without a resident limit (the RSS tests touch more
 * than any test limit) and puts back the one it found. With a newer
 * harness the teardown runs in the parent, so that the limit comes back
 * even when the test dies by a signal.
 */
FIXTURE(mem) {
	long long saved_limit;
	int changed;
};

FIXTURE_SETUP(mem)
{
	self->saved_limit = -1;
	self->changed = 0;
	LIFT_RESIDENT_LIMIT(self);
}

#ifdef FIXTURE_TEARDOWN_PARENT
FIXTURE_TEARDOWN_PARENT(mem)
#else
FIXTURE_TEARDOWN(mem)
#endif
{
	if (self->changed && self->saved_limit >= 0)
		limit_set(self->saved_limit);
}

/* Touched pool pages count in VmRSS, as RssShmem, once each. */
TEST_F(mem, rss_counts_touched_pages)
{
	long long fuzz = rss_fuzz(), s0, v0, s1, v1;
	struct wasmpool_slot_alloc a;
	struct pool p;

	settle();
	ASSERT_EQ(0, pool_make(&p, TOUCH, 2, 0));
	ASSERT_EQ(0, wp_alloc(p.fd, TOUCH, &a));
	s0 = rss_shmem();
	v0 = vm_rss();
	ASSERT_LE(0, s0);
	memset(p.base + a.offset, 0x5a, TOUCH);
	s1 = rss_shmem();
	v1 = vm_rss();
	TH_LOG("touched %lld KiB: RssShmem %lld -> %lld KiB, VmRSS %lld -> %lld KiB (fuzz %lld KiB)",
	       TOUCH / 1024, s0 / 1024, s1 / 1024, v0 / 1024, v1 / 1024, fuzz / 1024);
	EXPECT_LE(s0 + TOUCH - fuzz, s1);
	EXPECT_LE(v0 + TOUCH - fuzz, v1);
	/* once: not also as file pages (RssFile) while mapped */
	EXPECT_GE(v0 + TOUCH + fuzz + SLACK, v1);
	pool_end(&p);
}

/*
 * Pages a reset keeps stay counted, also after the slot is freed; the
 * unmap of the pool frees them and the count goes back.
 */
TEST_F(mem, rss_counts_kept_pages_after_reset)
{
	long long fuzz = rss_fuzz(), s0, v0, s[4], v[4];
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	struct pool p;

	settle();
	s0 = rss_shmem();
	v0 = vm_rss();
	ASSERT_LE(0, s0);
	ASSERT_EQ(0, pool_make(&p, TOUCH, 2, TOUCH));
	ASSERT_EQ(0, wp_alloc(p.fd, TOUCH, &a));
	memset(p.base + a.offset, 0x5a, TOUCH);
	s[0] = rss_shmem();
	v[0] = vm_rss();
	ASSERT_EQ(0, wp_reset(p.fd, a.slot, TOUCH));
	s[1] = rss_shmem();
	v[1] = vm_rss();
	ASSERT_EQ(0, wp_free(p.fd, a.slot));
	s[2] = rss_shmem();
	v[2] = vm_rss();
	ASSERT_EQ(0, wp_stats(p.fd, &st));
	EXPECT_EQ(TOUCH, st.resident_bytes);	/* all kept, none mapped */
	pool_unmap(&p);
	s[3] = rss_shmem();
	v[3] = vm_rss();
	ASSERT_EQ(0, wp_stats(p.fd, &st));
	EXPECT_EQ(0, st.resident_bytes);	/* the unmap freed every page */
	TH_LOG("RssShmem KiB: %lld before, %lld touched, %lld reset, %lld freed, %lld unmapped",
	       s0 / 1024, s[0] / 1024, s[1] / 1024, s[2] / 1024, s[3] / 1024);
	TH_LOG("VmRSS KiB: %lld before, %lld touched, %lld reset, %lld freed, %lld unmapped",
	       v0 / 1024, v[0] / 1024, v[1] / 1024, v[2] / 1024, v[3] / 1024);
	EXPECT_LE(s0 + TOUCH - fuzz, s[0]);
	EXPECT_LE(s0 + TOUCH - fuzz, s[1]);
	EXPECT_LE(s0 + TOUCH - fuzz, s[2]);
	/* and in VmRSS, though the reset unmapped every one of them */
	EXPECT_LE(v[0] - fuzz - SLACK, v[1]);
	EXPECT_LE(v[0] - fuzz - SLACK, v[2]);
	EXPECT_GE(s0 + fuzz + SLACK, s[3]);
	EXPECT_GE(v0 + fuzz + SLACK, v[3]);
	pool_end(&p);
}

/* A reset frees the pages beyond keep_resident, and their count goes. */
TEST_F(mem, rss_drops_for_freed_pages)
{
	const long long keep = 64 * 1024;
	long long fuzz = rss_fuzz(), s0, s1, s2;
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	struct pool p;

	settle();
	ASSERT_EQ(0, pool_make(&p, TOUCH, 2, keep));
	ASSERT_EQ(0, wp_alloc(p.fd, TOUCH, &a));
	s0 = rss_shmem();
	ASSERT_LE(0, s0);
	memset(p.base + a.offset, 0x5a, TOUCH);
	s1 = rss_shmem();
	ASSERT_EQ(0, wp_reset(p.fd, a.slot, TOUCH));
	s2 = rss_shmem();
	ASSERT_EQ(0, wp_stats(p.fd, &st));
	TH_LOG("RssShmem KiB: %lld before, %lld touched, %lld after a reset keeping %lld",
	       s0 / 1024, s1 / 1024, s2 / 1024, keep / 1024);
	EXPECT_EQ(keep, st.resident_bytes);
	EXPECT_LE(s0 + TOUCH - fuzz, s1);
	/* what is freed leaves, what is kept stays */
	EXPECT_LE(s1 - s2, TOUCH - keep + fuzz + SLACK);
	EXPECT_LE(TOUCH - keep - fuzz - SLACK, s1 - s2);
	EXPECT_LE(s0 + keep - fuzz, s2);
	pool_end(&p);
}

/*
 * A reset frees every page beyond keep_resident, whatever the keep: the
 * pool's count is exact, and the next tenant reads zeroes only, never a
 * page of the last one that was left behind. 512 pages, so that a walk of
 * the page index that drops its lock every few pages crosses several of
 * the index's nodes (64 entries each) as it empties them.
 */
TEST_F(mem, reset_frees_every_page_beyond_keep)
{
	static const long long keeps[] = { 0, 64 * 1024, 256 * 1024, 1 * MiB };
	const long long touch = 2 * MiB;
	struct wasmpool_slot_alloc a;
	struct wasmpool_stats st;
	struct pool p;

	for (unsigned int k = 0; k < sizeof(keeps) / sizeof(keeps[0]); k++) {
		long long nonzero = 0;
		char *s;

		ASSERT_EQ(0, pool_make(&p, touch, 2, keeps[k]));
		ASSERT_EQ(0, wp_alloc(p.fd, touch, &a));
		s = p.base + a.offset;
		memset(s, 0xab, touch);
		ASSERT_EQ(0, wp_reset(p.fd, a.slot, touch));
		ASSERT_EQ(0, wp_stats(p.fd, &st));
		EXPECT_EQ(keeps[k], st.resident_bytes)
			TH_LOG("keep %lld KiB: %llu pages resident after the reset",
			       keeps[k] / 1024, (unsigned long long)(st.resident_bytes / PAGE));
		for (long long i = 0; i < touch; i += sizeof(long long))
			nonzero += *(const long long *)(s + i) != 0;
		EXPECT_EQ(0, nonzero)
			TH_LOG("keep %lld KiB: the next tenant reads %lld non-zero words",
			       keeps[k] / 1024, nonzero);
		pool_unmap(&p);
		ASSERT_EQ(0, wp_stats(p.fd, &st));
		EXPECT_EQ(0, st.resident_bytes) TH_LOG("keep %lld KiB: left after the unmap",
						       keeps[k] / 1024);
		pool_end(&p);
	}
}

/* Write a unique marker line to the kernel log: 0 or -errno. */
static int kmsg_marker(char *marker, size_t len, const char *what)
{
	struct timespec ts;
	char line[256];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(marker, len, "wasmpool memory_test: %s pid %d at %lld.%09ld",
		 what, getpid(), (long long)ts.tv_sec, ts.tv_nsec);
	/* without a newline the record stays open, unseen by readers */
	snprintf(line, sizeof(line), "%s\n", marker);
	return wp_file_rw("/dev/kmsg", NULL, 0, line);
}

/*
 * The kernel log after the last @marker has a line with @needle: 1, 0,
 * or -1 when the log cannot be read or the marker is gone.
 */
static int log_after_has(const char *marker, const char *needle)
{
	int len = klogctl(10, NULL, 0), ret = -1;
	char *log, *p, *m = NULL;

	if (len <= 0 || !(log = malloc(len + 1)))
		return -1;
	len = klogctl(3, log, len);
	if (len >= 0) {
		log[len] = 0;
		for (p = strstr(log, marker); p; p = strstr(p + 1, marker))
			m = p;
		if (m)
			ret = strstr(m, needle) != NULL;
	}
	free(log);
	return ret;
}

/*
 * Run a short task on every CPU: a CPU that went idle after the child
 * ran holds the child's mm as its lazy TLB mm, and drops it (and the
 * kernel checks its RSS counters) only when it runs something else.
 */
static void every_cpu_switches(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	for (long c = 0; c < cpus && c < CPU_SETSIZE; c++) {
		pid_t pid = fork();

		if (pid == 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(c, &set);
			sched_setaffinity(0, sizeof(set), &set);
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
}

enum exit_mode { EXIT_MAPPED, EXIT_CLOSED, EXIT_KILLED, EXIT_MODES };
static const char *const exit_names[] = {
	"exit with the pool mapped and open", "exit with the pool mapped, file closed",
	"SIGKILL with the pool mapped and open",
};

/*
 * A process that exits (or is killed) holding pool pages, mapped ones and
 * kept ones, leaves none: no page resident, no pool, no RSS counter of
 * its mm off ("BUG: Bad rss-counter state" when the mm is freed).
 */
TEST_F(mem, rss_back_to_zero_after_exit)
{
	long long pools0 = wp_sysfs_read("pools");
	long long resident0 = wp_sysfs_read("resident_bytes");
	long long slots0 = wp_sysfs_read("slots_in_use");
	char marker[128];
	int found;

	ASSERT_LE(0, pools0);
	if (geteuid())
		SKIP(return, "writing a marker to /dev/kmsg needs root");
	ASSERT_EQ(0, kmsg_marker(marker, sizeof(marker), "exit"));
	ASSERT_EQ(0, log_after_has(marker, "rss-counter"))
		TH_LOG("the kernel log cannot be read, or has no marker");

	for (int mode = 0; mode < EXIT_MODES; mode++) {
		int ready[2], status;
		char byte;
		pid_t pid;

		ASSERT_EQ(0, pipe(ready));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct wasmpool_slot_alloc a, b;
			struct pool p;

			close(ready[0]);
			if (pool_make(&p, 4 * MiB, 4, 1 * MiB) ||
			    wp_alloc(p.fd, 4 * MiB, &a) || wp_alloc(p.fd, 4 * MiB, &b))
				_exit(2);
			memset(p.base + a.offset, 1, 4 * MiB);	/* mapped */
			memset(p.base + b.offset, 1, 2 * MiB);
			if (wp_reset(p.fd, b.slot, 4 * MiB))	/* 1 MiB kept */
				_exit(3);
			if (mode == EXIT_CLOSED)
				close(p.fd);
			if (write(ready[1], "r", 1) != 1)
				_exit(4);
			if (mode == EXIT_KILLED)
				pause();
			_exit(0);
		}
		close(ready[1]);
		EXPECT_EQ(1, read(ready[0], &byte, 1)) TH_LOG("%s", exit_names[mode]);
		close(ready[0]);
		if (mode == EXIT_KILLED)
			kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(mode == EXIT_KILLED ?
			    WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL :
			    WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("%s: status %#x", exit_names[mode], status);
		EXPECT_EQ(pools0, wp_sysfs_wait("pools", pools0)) TH_LOG("%s", exit_names[mode]);
		EXPECT_EQ(resident0, wp_sysfs_wait("resident_bytes", resident0))
			TH_LOG("%s", exit_names[mode]);
		EXPECT_EQ(slots0, wp_sysfs_wait("slots_in_use", slots0));
	}
	every_cpu_switches();
	usleep(100000);
	found = log_after_has(marker, "rss-counter");
	EXPECT_EQ(0, found)
		TH_LOG("%s", found > 0 ? "the kernel log has a 'Bad rss-counter state' line" :
		       "the kernel log lost the marker");
}

/*
 * The OOM killer of a memory cgroup picks the task with the largest RSS:
 * with the pool's pages in its owner's RSS, that is the owner, not a
 * bystander with less memory. "mapped": the owner keeps its pages mapped;
 * "kept": it resets every slot after touching it, so its pages are only
 * kept resident, mapped nowhere.
 */
#define OOM_MAX		(64 * MiB)
#define BYSTANDER	(16 * MiB)
#define OOM_SLOT	(8 * MiB)
#define OOM_SLOTS	32	/* 256 MiB: far beyond OOM_MAX */

FIXTURE(oom) {
	long long saved_limit;
	int changed;
	pid_t kids[2];
	char cg[64];
};

FIXTURE_VARIANT(oom) {
	int reset;
};

FIXTURE_VARIANT_ADD(oom, mapped) { .reset = 0 };
FIXTURE_VARIANT_ADD(oom, kept) { .reset = 1 };

FIXTURE_SETUP(oom)
{
	self->saved_limit = -1;
	self->changed = 0;
	self->kids[0] = self->kids[1] = 0;
	self->cg[0] = 0;
	LIFT_RESIDENT_LIMIT(self);
}

/* Remove cgroup @cg once its last task is gone: 0 or -errno. */
static int cgroup_remove(const char *cg)
{
	for (int i = 0; i < 200; i++) {
		if (!rmdir(cg) || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		usleep(10000);
	}
	return -EBUSY;
}

#ifdef FIXTURE_TEARDOWN_PARENT
FIXTURE_TEARDOWN_PARENT(oom)
#else
FIXTURE_TEARDOWN(oom)
#endif
{
	for (int i = 0; i < 2; i++) {
		if (self->kids[i] > 0) {
			kill(self->kids[i], SIGKILL);
			waitpid(self->kids[i], NULL, 0);	/* ECHILD in the parent */
		}
	}
	if (self->cg[0])
		cgroup_remove(self->cg);
	if (self->changed && self->saved_limit >= 0)
		limit_set(self->saved_limit);
}

/* The value of @key in @cg/@file ("oom_kill" in memory.events), or -1. */
static long long cgroup_key(const char *cg, const char *file, const char *key)
{
	char path[256], buf[1024], pat[64], *p;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	if (wp_file_rw(path, buf + 1, sizeof(buf) - 1, NULL))
		return -1;
	buf[0] = '\n';
	snprintf(pat, sizeof(pat), "\n%s ", key);
	p = strstr(buf, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* Allocate and fill memory, say so, check it when asked, answer. */
static void __attribute__((noreturn)) bystander(const char *cg, int ready, int ask)
{
	const uint64_t n = BYSTANDER / sizeof(uint64_t);
	uint64_t *m, bad = 0;
	char byte;

	if (wp_test_cgroup_write(cg, "cgroup.procs", "0"))
		_exit(1);
	m = mmap(NULL, BYSTANDER, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(2);
	for (uint64_t i = 0; i < n; i++)
		m[i] = i * 0x9e3779b97f4a7c15ULL;
	if (write(ready, "r", 1) != 1 || read(ask, &byte, 1) != 1)
		_exit(3);
	for (uint64_t i = 0; i < n; i++)
		bad |= m[i] ^ (i * 0x9e3779b97f4a7c15ULL);
	byte = bad ? 'x' : 'k';
	if (write(ready, &byte, 1) != 1)
		_exit(4);
	pause();
	_exit(0);
}

/* Touch pool slots until the OOM killer comes (exit 5 if it never does). */
static void __attribute__((noreturn)) pool_owner(const char *cg, int reset)
{
	struct wasmpool_slot_alloc a;
	struct pool p;

	if (wp_test_cgroup_write(cg, "cgroup.procs", "0"))
		_exit(1);
	if (pool_make(&p, OOM_SLOT, OOM_SLOTS, reset ? OOM_SLOT : 0))
		_exit(2);
	for (int i = 0; i < OOM_SLOTS; i++) {
		if (wp_alloc(p.fd, OOM_SLOT, &a))
			_exit(3);
		memset(p.base + a.offset, 0x77, OOM_SLOT);
		if (reset && wp_reset(p.fd, a.slot, OOM_SLOT))
			_exit(4);
	}
	_exit(5);
}

TEST_F(oom, oom_kills_pool_owner_not_bystander)
{
	long long pools0 = wp_sysfs_read("pools");
	long long resident0 = wp_sysfs_read("resident_bytes");
	int ready[2], ask[2], status;
	char buf[128], byte;
	const char *why;
	pid_t pid;

	/* made here, not in the setup: a skip there would skip the teardown */
	snprintf(self->cg, sizeof(self->cg), "/sys/fs/cgroup/wasmpool-oom-%d", getpid());
	why = wp_test_memory_cgroup(self->cg);
	if (why) {
		self->cg[0] = 0;
		SKIP(return, "%s", why);
	}
	/* a bystander that died makes a write to it raise SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	snprintf(buf, sizeof(buf), "%lld", OOM_MAX);
	ASSERT_EQ(0, wp_test_cgroup_write(self->cg, "memory.max", buf));
	snprintf(buf, sizeof(buf), "%s/memory.swap.max", self->cg);
	if (!access(buf, F_OK))	/* absent without CONFIG_MEMCG_SWAP */
		ASSERT_EQ(0, wp_test_cgroup_write(self->cg, "memory.swap.max", "0"));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(ask));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(ready[0]);
		close(ask[1]);
		bystander(self->cg, ready[1], ask[0]);
	}
	self->kids[0] = pid;
	close(ready[1]);
	close(ask[0]);
	ASSERT_EQ(1, read(ready[0], &byte, 1)) TH_LOG("the bystander did not start");

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(ready[0]);
		close(ask[1]);
		pool_owner(self->cg, variant->reset);
	}
	self->kids[1] = pid;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->kids[1] = 0;
	TH_LOG("pool owner: %s %d; memory.events oom_kill %lld",
	       WIFSIGNALED(status) ? "signal" : "exit",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
	       cgroup_key(self->cg, "memory.events", "oom_kill"));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("the pool owner was not OOM-killed: status %#x", status);

	/* the bystander lives, its memory intact */
	EXPECT_EQ(0, waitpid(self->kids[0], &status, WNOHANG))
		TH_LOG("the bystander died: status %#x", status);
	if (write(ask[1], "?", 1) != 1 || read(ready[0], &byte, 1) != 1)
		byte = 0;
	EXPECT_EQ('k', byte) TH_LOG("the bystander's memory check: %d", byte);
	EXPECT_LE(1, cgroup_key(self->cg, "memory.events", "oom_kill"));

	kill(self->kids[0], SIGKILL);
	waitpid(self->kids[0], NULL, 0);
	self->kids[0] = 0;
	close(ready[0]);
	close(ask[1]);
	EXPECT_EQ(0, cgroup_remove(self->cg));
	self->cg[0] = 0;
	EXPECT_EQ(pools0, wp_sysfs_wait("pools", pools0));
	EXPECT_EQ(resident0, wp_sysfs_wait("resident_bytes", resident0));
}

/*
 * The resident limit with threads: 4 threads fault pages of their own
 * slots until SIGBUS. The pool ends with exactly the limit resident,
 * never a page more, in every round. A check-then-allocate race goes one
 * page over in only a few rounds of 20 under QEMU (the threads cross the
 * limit once per round): 200 rounds (~2 s) make it show.
 */
#define LIMIT_PAGES	48
#define THREADS		4
#define ROUNDS		200
#define LIMIT_SLOT	(64 * PAGE)	/* each slot alone could pass the limit */

struct toucher {
	char *slot;
	pthread_barrier_t *start;
	int sig;		/* what stopped it: SIGBUS, another signal, 0 */
	long long touched;	/* pages it got */
};

static __thread sigjmp_buf touch_env;
static __thread volatile sig_atomic_t touch_armed;

static void touch_handler(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (touch_armed)
		siglongjmp(touch_env, sig);
	signal(sig, SIG_DFL);	/* not ours: die of it on return */
}

static void *touch_until_sigbus(void *arg)
{
	struct toucher *t = arg;
	volatile long long i = 0;
	int sig;

	pthread_barrier_wait(t->start);
	sig = sigsetjmp(touch_env, 1);
	if (!sig) {
		touch_armed = 1;
		for (; i < LIMIT_SLOT / PAGE; i++)
			t->slot[i * PAGE] = 1;
	}
	touch_armed = 0;
	t->sig = sig;
	t->touched = i;
	return NULL;
}

TEST_F(mem, resident_limit_holds_under_concurrency)
{
	struct sigaction sa = { .sa_sigaction = touch_handler, .sa_flags = SA_SIGINFO };
	struct sigaction old_bus, old_segv;
	long long max_resident = 0;
	int over = 0, short_rounds = 0, not_sigbus = 0;
	struct timespec t0, t1;

	if (geteuid())
		SKIP(return, "setting max_resident_bytes_per_pool needs root");
	self->changed = 1;
	/* read at configure: each round's pool gets it */
	ASSERT_EQ(0, limit_set(LIMIT_PAGES * PAGE));
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, &old_bus));
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, &old_segv));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int round = 0; round < ROUNDS; round++) {
		struct toucher t[THREADS];
		pthread_t th[THREADS];
		pthread_barrier_t start;
		struct wasmpool_stats st;
		long long sum = 0;
		struct pool p;

		ASSERT_EQ(0, pool_make(&p, LIMIT_SLOT, THREADS, 0));
		ASSERT_EQ(0, pthread_barrier_init(&start, NULL, THREADS));
		for (int i = 0; i < THREADS; i++) {
			struct wasmpool_slot_alloc a;

			ASSERT_EQ(0, wp_alloc(p.fd, LIMIT_SLOT, &a));
			t[i] = (struct toucher){ .slot = p.base + a.offset, .start = &start };
		}
		for (int i = 0; i < THREADS; i++)
			ASSERT_EQ(0, pthread_create(&th[i], NULL, touch_until_sigbus, &t[i]));
		for (int i = 0; i < THREADS; i++) {
			pthread_join(th[i], NULL);
			sum += t[i].touched;
			not_sigbus += t[i].sig != SIGBUS;
		}
		pthread_barrier_destroy(&start);
		ASSERT_EQ(0, wp_stats(p.fd, &st));
		if (st.resident_bytes > max_resident)
			max_resident = st.resident_bytes;
		if (st.resident_bytes > LIMIT_PAGES * PAGE) {
			over++;
			TH_LOG("round %d: %llu pages resident, the limit is %d",
			       round, (unsigned long long)(st.resident_bytes / PAGE), LIMIT_PAGES);
		}
		short_rounds += st.resident_bytes < LIMIT_PAGES * PAGE;
		if (sum * PAGE != (long long)st.resident_bytes)
			TH_LOG("round %d: the threads touched %lld pages, %llu are resident",
			       round, sum, (unsigned long long)(st.resident_bytes / PAGE));
		pool_end(&p);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	TH_LOG("%d rounds in %.2f s: at most %lld pages resident, %d rounds over the limit of %d",
	       ROUNDS, t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       max_resident / PAGE, over, LIMIT_PAGES);
	EXPECT_EQ(0, over);
	EXPECT_GE(LIMIT_PAGES * PAGE, max_resident);
	/* every thread stopped by SIGBUS, and only once the pool was full */
	EXPECT_EQ(0, not_sigbus);
	EXPECT_EQ(0, short_rounds);
}

TEST_HARNESS_MAIN
